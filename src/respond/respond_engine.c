/*
 * respond_engine.c — the durable run engine: runs, steps, workers, the watchdog.
 *
 * A run walks its playbook's stages in order; a stage's steps (one, or a parallel group) are
 * queued to the workers together and the stage ends when all of them ended. A worker builds
 * the step's context (trigger context, inputs, earlier outputs, run, now), evaluates `when`,
 * renders `with`, and calls the action with the step's deadline. The result goes to the
 * journal; only when its batch committed does the engine record it in memory and move the
 * run on (so what the engine acts on is durable, and a restart never re-runs a step whose
 * result it had used). Failures that may pass (retryable errors, timeouts) are retried with
 * exponential backoff; the time of the next attempt is journalled.
 *
 * The watchdog (one thread, every tick) ends runs past their deadline, abandons workers
 * stuck past their step's deadline (a new worker replaces each; the step counts as timed
 * out), starts due retries, and decides approvals at their deadline with their default.
 *
 * Locking: e->mu guards every run and the queue; journal callbacks take it on the journal
 * thread. Nothing waits for the journal while holding e->mu.
 */
#include <dirent.h>
#include <sqlite3.h>
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "respond/respond_engine.h"

/* ---------------------------------------------------------------- small helpers */

static const char *const step_status_names[] = {
    "pending", "queued",    "running", "retry_wait", "awaiting_approval", "deciding", "succeeded",
    "failed",  "timed_out", "skipped", "denied",     "cancelled"};
static const char *const run_status_names[] = {"running",   "succeeded", "failed",
                                               "timed_out", "denied",    "cancelled"};

const char *vg_re_step_status_name(int s)
{
    return s >= 0 && s < (int)VG_ARRAY_LEN(step_status_names) ? step_status_names[s] : "?";
}

const char *vg_re_run_status_name(int s)
{
    return s >= 0 && s < (int)VG_ARRAY_LEN(run_status_names) ? run_status_names[s] : "?";
}

int vg_re_step_status_parse(const char *s)
{
    for (size_t i = 0; s && i < VG_ARRAY_LEN(step_status_names); i++) {
        if (strcmp(s, step_status_names[i]) == 0) {
            return (int)i;
        }
    }
    return VG_RE_PENDING;
}

static bool step_terminal(int s)
{
    return s >= VG_RE_SUCCEEDED;
}

static char *dupn(const char *s)
{
    return s ? vg_strdup(s) : NULL;
}

static void audit(struct vg_respond *e, const char *tenant, const char *actor, const char *action,
                  int64_t run, const char *detail)
{
    char obj[32], err[128];
    snprintf(obj, sizeof(obj), "run:%lld", (long long)run);
    struct vg_audit_rec rec = {tenant, actor, action, obj, detail};
    if (e->svc->audit && vg_audit_append(e->svc->audit, &rec, NULL, err, sizeof(err)) != VG_OK) {
        VG_WARN("respond", "audit append failed for run %lld: %s", (long long)run, err);
    }
}

static void run_actor(const struct vg_re_run *r, char *buf, size_t n)
{
    snprintf(buf, n, "playbook:%s#r-%lld", r->pb->id, (long long)r->id);
}

/* ---------------------------------------------------------------- runs in memory */

static void run_free(struct vg_re_run *r)
{
    for (size_t i = 0; i < r->pb->nsteps; i++) {
        vg_free(r->st[i].output);
        vg_free(r->st[i].error);
        vg_free(r->st[i].input);
    }
    vg_free(r->st);
    vg_playbook_unref(r->pb);
    vg_arena_destroy(r->arena);
    vg_free(r->tenant);
    vg_free(r->actor);
    vg_free(r->context);
    vg_free(r->error);
    vg_free(r);
}

static void map_remove(struct vg_respond *e, struct vg_re_run *r)
{
    struct vg_re_run **pp = &e->map[(uint64_t)r->id % VG_RE_BUCKETS];
    while (*pp && *pp != r) {
        pp = &(*pp)->next;
    }
    if (*pp) {
        *pp = r->next;
        e->nactive--;
    }
}

void vg_re_run_unref(struct vg_respond *e, struct vg_re_run *r)
{
    if (--r->refs == 0) {
        map_remove(e, r);
        run_free(r);
        pthread_cond_broadcast(&e->idle_cv);
    }
}

struct vg_re_run *vg_re_run_find(struct vg_respond *e, int64_t id)
{
    struct vg_re_run *r = e->map[(uint64_t)id % VG_RE_BUCKETS];
    while (r && r->id != id) {
        r = r->next;
    }
    return r;
}

/*
 * A run in memory; one reference for being unfinished (dropped when its end committed).
 * context: the trigger context (object text), taken.
 */
struct vg_re_run *vg_re_run_new(struct vg_respond *e, int64_t id, struct vg_playbook *pb,
                                const char *tenant, char *context, const char *actor,
                                vg_time_t deadline)
{
    struct vg_re_run *r = vg_calloc(1, sizeof(*r));
    if (!r || !(r->st = vg_calloc(pb->nsteps, sizeof(*r->st))) ||
        !(r->arena = vg_arena_create(4096))) {
        vg_free(r ? r->st : NULL);
        vg_free(r);
        vg_free(context);
        return NULL;
    }
    vg_playbook_ref(pb);
    *r = (struct vg_re_run){.id = id,
                            .pb = pb,
                            .tenant = vg_strdup(tenant),
                            .context = context,
                            .actor = dupn(actor),
                            .deadline = deadline,
                            .refs = 1,
                            .st = r->st,
                            .arena = r->arena};
    size_t used;
    char jerr[64];
    if (vg_json_parse(e->jp_ctx, r->arena, context, strlen(context), &used, &r->ctx, jerr,
                      sizeof(jerr)) != VG_OK) {
        r->ctx = NULL;
    }
    struct vg_re_run **b = &e->map[(uint64_t)id % VG_RE_BUCKETS];
    r->next = *b;
    *b = r;
    e->nactive++;
    return r;
}

/* ---------------------------------------------------------------- the step context */

static void add_members(struct vg_sbuf *b, const struct vg_json *obj, bool *first)
{
    for (uint32_t i = 0; obj && obj->type == VG_JSON_OBJECT && i < obj->n; i++) {
        const struct vg_json *k = &obj->u.items[2 * i];
        static const char *const ours[] = {"inputs", "steps", "run", "now"};
        bool skip = false;
        for (size_t o = 0; o < VG_ARRAY_LEN(ours); o++) {
            skip = skip || (k->n == strlen(ours[o]) && memcmp(k->s, ours[o], k->n) == 0);
        }
        if (skip) {
            continue;
        }
        vg_sbuf_adds(b, *first ? "" : ",");
        *first = false;
        vg_sbuf_add_json_str(b, k->s, k->n);
        vg_sbuf_addc(b, ':');
        vg_json_write(&obj->u.items[2 * i + 1], b);
    }
}

/* inputs: the playbook's defaults overridden by the trigger context's "inputs". */
static void add_inputs(struct vg_sbuf *b, const struct vg_playbook *pb, const struct vg_json *ctx)
{
    const struct vg_json *over = vg_json_get(ctx, "inputs");
    bool first = true;
    vg_sbuf_adds(b, "\"inputs\":{");
    for (uint32_t i = 0; pb->inputs && i < pb->inputs->n; i++) {
        const struct vg_json *k = &pb->inputs->u.items[2 * i];
        char key[128];
        vg_strlcpy(key, k->s, VG_MIN(sizeof(key), (size_t)k->n + 1));
        if (over && over->type == VG_JSON_OBJECT && vg_json_get(over, key)) {
            continue;
        }
        vg_sbuf_adds(b, first ? "" : ",");
        first = false;
        vg_sbuf_add_json_str(b, k->s, k->n);
        vg_sbuf_addc(b, ':');
        vg_json_write(&pb->inputs->u.items[2 * i + 1], b);
    }
    if (over && over->type == VG_JSON_OBJECT) {
        bool f2 = first;
        struct vg_json wrap = *over;
        for (uint32_t i = 0; i < wrap.n; i++) {
            vg_sbuf_adds(b, f2 ? "" : ",");
            f2 = false;
            vg_sbuf_add_json_str(b, wrap.u.items[2 * i].s, wrap.u.items[2 * i].n);
            vg_sbuf_addc(b, ':');
            vg_json_write(&wrap.u.items[2 * i + 1], b);
        }
    }
    vg_sbuf_addc(b, '}');
}

/* The context a step sees, as JSON text (under e->mu). */
void vg_re_context(const struct vg_re_run *r, struct vg_sbuf *b)
{
    bool first = true;
    char now[40];
    vg_time_format(vg_time_now(), now, sizeof(now));
    vg_sbuf_addc(b, '{');
    add_members(b, r->ctx, &first);
    vg_sbuf_adds(b, first ? "" : ",");
    add_inputs(b, r->pb, r->ctx);
    vg_sbuf_adds(b, ",\"steps\":{");
    first = true;
    for (size_t i = 0; i < r->pb->nsteps; i++) {
        const struct vg_re_step *s = &r->st[i];
        if (!step_terminal(s->status)) {
            continue;
        }
        vg_sbuf_adds(b, first ? "" : ",");
        first = false;
        vg_sbuf_add_json_str(b, r->pb->steps[i].id, strlen(r->pb->steps[i].id));
        vg_sbuf_printf(b, ":{\"status\":\"%s\",\"output\":%s}", step_status_names[s->status],
                       s->output ? s->output : "{}");
    }
    vg_sbuf_printf(b, "},\"run\":{\"id\":\"r-%lld\",\"playbook\":", (long long)r->id);
    vg_sbuf_add_json_str(b, r->pb->id, strlen(r->pb->id));
    vg_sbuf_adds(b, ",\"tenant\":");
    vg_sbuf_add_json_str(b, r->tenant, strlen(r->tenant));
    vg_sbuf_printf(b, "},\"now\":\"%s\"}", now);
}

/* ---------------------------------------------------------------- the queue */

static void queue_push(struct vg_respond *e, struct vg_re_run *r, size_t step)
{
    struct vg_re_task *t = vg_calloc(1, sizeof(*t));
    if (!t) {
        VG_ERR("respond", "out of memory queueing run %lld", (long long)r->id);
        return;
    }
    r->refs++;
    r->st[step].status = VG_RE_QUEUED;
    r->st[step].gen++;
    *t = (struct vg_re_task){NULL, r, step, r->st[step].gen};
    if (e->qtail) {
        e->qtail->next = t;
    } else {
        e->qhead = t;
    }
    e->qtail = t;
    pthread_cond_signal(&e->work_cv);
}

/* ---------------------------------------------------------------- ending a run */

static void run_end_done(void *c, struct vg_rj_change *ch)
{
    struct vg_re_run *r = c;
    struct vg_respond *e = r->e;
    char actor[128], detail[600];
    run_actor(r, actor, sizeof(actor));
    struct vg_sbuf d = VG_SBUF_INIT;
    vg_sbuf_printf(&d, "{\"status\":\"%s\",\"error\":", run_status_names[r->status]);
    vg_sbuf_add_json_str(&d, r->error ? r->error : "", r->error ? strlen(r->error) : 0);
    vg_sbuf_addc(&d, '}');
    vg_strlcpy(detail, d.p ? d.p : "{}", sizeof(detail));
    vg_sbuf_fini(&d);
    audit(e, r->tenant, actor, "run.end", r->id, detail);
    vg_rj_change_free(ch);
    pthread_mutex_lock(&e->mu);
    r->end_durable = true;
    e->runs_ended++;
    pthread_cond_broadcast(&e->idle_cv);
    vg_re_run_unref(e, r); /* the change's */
    vg_re_run_unref(e, r); /* unfinished */
    pthread_mutex_unlock(&e->mu);
}

/* End a run (under e->mu): in-flight results are ignored from now on. */
void vg_re_run_end(struct vg_respond *e, struct vg_re_run *r, int status, const char *why)
{
    if (r->status != VG_RE_RUN_RUNNING) {
        return;
    }
    r->status = status;
    vg_free(r->error);
    r->error = dupn(why);
    for (size_t i = 0; i < r->pb->nsteps; i++) {
        r->st[i].gen++;
    }
    struct vg_rj_change *ch = vg_rj_change_new(VG_RJ_RUN_STATUS);
    if (!ch) {
        return;
    }
    ch->run = r->id;
    ch->status = vg_strdup(run_status_names[status]);
    ch->error = dupn(why);
    ch->t3 = vg_time_now();
    ch->done = run_end_done;
    ch->done_ctx = r;
    r->refs++;
    vg_rj_submit(e->j, ch);
}

/* ---------------------------------------------------------------- moving a run on */

/* The failure of a finished stage, if any: the run's end status, else -1. */
static int stage_outcome(const struct vg_re_run *r, unsigned stage, const char **why)
{
    int out = -1;
    for (size_t i = 0; i < r->pb->nsteps; i++) {
        const struct vg_pb_step *ps = &r->pb->steps[i];
        int s = r->st[i].status;
        if (ps->stage != stage || ps->on_failure_continue || s == VG_RE_SUCCEEDED ||
            s == VG_RE_SKIPPED) {
            continue;
        }
        *why = r->st[i].error;
        out = s == VG_RE_DENIED      ? VG_RE_RUN_DENIED
              : s == VG_RE_TIMED_OUT ? VG_RE_RUN_FAILED
              : s == VG_RE_CANCELLED ? VG_RE_RUN_CANCELLED
                                     : VG_RE_RUN_FAILED;
    }
    return out;
}

/* Queue what can start, end stages that ended, end the run when done (under e->mu). */
void vg_re_run_advance(struct vg_respond *e, struct vg_re_run *r)
{
    while (r->status == VG_RE_RUN_RUNNING && !e->stopping) {
        if (r->stage >= r->pb->nstages) {
            vg_re_run_end(e, r, VG_RE_RUN_SUCCEEDED, NULL);
            return;
        }
        bool all_done = true;
        for (size_t i = 0; i < r->pb->nsteps; i++) {
            struct vg_re_step *s = &r->st[i];
            if (r->pb->steps[i].stage != r->stage) {
                continue;
            }
            if (s->status == VG_RE_PENDING) {
                queue_push(e, r, i);
            }
            all_done = all_done && step_terminal(s->status);
        }
        if (!all_done) {
            return;
        }
        const char *why = NULL;
        int out = stage_outcome(r, r->stage, &why);
        if (out >= 0) {
            vg_re_run_end(e, r, out, why ? why : "a step failed");
            return;
        }
        r->stage++;
    }
}

/* ---------------------------------------------------------------- step results */

struct step_done {
    struct vg_re_run *r;
    size_t step;
    uint64_t gen;
    int status;
    vg_time_t next_at, deadline;
};

static void step_done_cb(void *c, struct vg_rj_change *ch)
{
    struct step_done *d = c;
    struct vg_re_run *r = d->r;
    struct vg_respond *e = r->e;
    pthread_mutex_lock(&e->mu);
    struct vg_re_step *s = &r->st[d->step];
    if (ch->rc != VG_OK) {
        vg_re_run_end(e, r, VG_RE_RUN_FAILED, "the journal could not record a step");
    } else if (s->gen == d->gen && r->status == VG_RE_RUN_RUNNING) {
        s->status = d->status;
        s->attempt = ch->attempt;
        s->next_at = d->next_at;
        s->deadline = d->deadline;
        vg_free(s->output);
        vg_free(s->error);
        s->output = ch->output;
        s->error = ch->error;
        ch->output = ch->error = NULL;
        if (step_terminal(d->status)) {
            vg_re_run_advance(e, r);
        }
    }
    pthread_cond_broadcast(&e->step_cv);
    vg_re_run_unref(e, r);
    pthread_mutex_unlock(&e->mu);
    vg_rj_change_free(ch);
    vg_free(d);
}

/*
 * Journal a step's new state; once committed it is applied in memory (if the step was not
 * restarted meanwhile: gen) and the run moves on. Under e->mu.
 */
void vg_re_step_put(struct vg_respond *e, struct vg_re_run *r, size_t step, int status,
                    unsigned attempt, const char *input, const char *output, const char *error,
                    vg_time_t started, vg_time_t next_at, vg_time_t deadline)
{
    struct vg_rj_change *ch = vg_rj_change_new(VG_RJ_STEP_PUT);
    struct step_done *d = vg_calloc(1, sizeof(*d));
    if (!ch || !d) {
        vg_free(ch);
        vg_free(d);
        vg_re_run_end(e, r, VG_RE_RUN_FAILED, "out of memory");
        return;
    }
    *d = (struct step_done){r, step, r->st[step].gen, status, next_at, deadline};
    ch->run = r->id;
    ch->step = vg_strdup(r->pb->steps[step].id);
    ch->attempt = attempt;
    ch->status = vg_strdup(step_status_names[status]);
    ch->action = dupn(r->pb->steps[step].action_name);
    ch->input = dupn(input);
    ch->output = dupn(output);
    ch->error = dupn(error);
    ch->t2 = started;
    ch->t3 = step_terminal(status) ? vg_time_now() : 0;
    ch->t1 = next_at;
    ch->t4 = deadline;
    ch->done = step_terminal(status) || status == VG_RE_RETRY_WAIT || status == VG_RE_AWAITING
                   ? step_done_cb
                   : NULL;
    if (ch->done) {
        ch->done_ctx = d;
        ch->drop_ctx = vg_free;
        r->refs++;
    } else {
        vg_free(d);
    }
    vg_rj_submit(e->j, ch);
}

static int64_t backoff_ns(const struct vg_pb_step *ps, unsigned attempt)
{
    double d = (double)ps->backoff_initial_ns;
    for (unsigned i = 1; i < attempt && d < (double)ps->backoff_max_ns; i++) {
        d *= ps->backoff_factor;
    }
    return d > (double)ps->backoff_max_ns ? ps->backoff_max_ns : (int64_t)d;
}

/* The outcome of one attempt (under e->mu): done, retry later, or failed for good. */
void vg_re_step_result(struct vg_respond *e, struct vg_re_run *r, size_t step, int rc,
                       bool retryable, const char *input, const char *output, const char *error,
                       vg_time_t started)
{
    const struct vg_pb_step *ps = &r->pb->steps[step];
    struct vg_re_step *s = &r->st[step];
    e->steps_run++;
    if (rc == VG_OK) {
        vg_re_step_put(e, r, step, VG_RE_SUCCEEDED, s->attempt, input,
                       output && *output ? output : "{}", NULL, started, 0, 0);
        return;
    }
    bool timeout = rc == VG_ETIMEOUT;
    e->steps_timed_out += timeout;
    if ((retryable || timeout) && s->attempt <= ps->retry_max) {
        e->step_retries++;
        vg_time_t next = vg_time_now() + backoff_ns(ps, s->attempt);
        vg_re_step_put(e, r, step, VG_RE_RETRY_WAIT, s->attempt, input, NULL, error, started, next,
                       0);
        return;
    }
    vg_re_step_put(e, r, step, timeout ? VG_RE_TIMED_OUT : VG_RE_FAILED, s->attempt, input, NULL,
                   error, started, 0, 0);
}

/* ---------------------------------------------------------------- engine lifecycle */

static int load_dir(struct vg_respond *e, struct vg_re_gen *g)
{
    DIR *d = e->o.playbook_dir ? opendir(e->o.playbook_dir) : NULL;
    if (!d) {
        return e->o.playbook_dir ? VG_EIO : VG_OK;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || !((l > 4 && !strcmp(de->d_name + l - 4, ".yml")) ||
                                      (l > 5 && !strcmp(de->d_name + l - 5, ".yaml")))) {
            continue;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", e->o.playbook_dir, de->d_name);
        vg_re_gen_add_file(g, path);
    }
    closedir(d);
    return VG_OK;
}

int vg_respond_reload(struct vg_respond *e, char *err, size_t errsz)
{
    struct vg_re_gen *g = vg_calloc(1, sizeof(*g));
    if (!g) {
        return VG_ENOMEM;
    }
    int rc = load_dir(e, g);
    for (size_t i = 0; i < e->o.nplaybook_files; i++) {
        vg_re_gen_add_file(g, e->o.playbook_files[i]);
    }
    pthread_mutex_lock(&e->mu);
    /* playbooks added by text (vg_respond_playbook_put) survive a reload */
    for (size_t i = 0; e->gen && i < e->gen->n; i++) {
        if (e->gen->from_text[i] && !vg_re_gen_find(g, e->gen->pbs[i]->id)) {
            vg_re_gen_put(g, e->gen->pbs[i], true);
        }
    }
    struct vg_re_gen *old = e->gen;
    e->gen = g;
    pthread_mutex_unlock(&e->mu);
    vg_re_gen_free(old);
    snprintf(err, errsz, "%zu playbooks loaded, %zu failed%s", g->n, g->nerrors,
             rc == VG_EIO ? " (playbook directory unreadable)" : "");
    return rc;
}

int vg_respond_playbook_put(struct vg_respond *e, const char *file, const char *text, size_t len,
                            char *err, size_t errsz)
{
    struct vg_playbook *pb = NULL;
    int rc = vg_playbook_parse(file, text, len, &pb, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    pthread_mutex_lock(&e->mu);
    rc = vg_re_gen_put(e->gen, pb, true);
    pthread_mutex_unlock(&e->mu);
    vg_playbook_unref(pb);
    return rc;
}

static void *worker_main(void *arg);
static void *watchdog_main(void *arg);

int vg_re_worker_spawn(struct vg_respond *e)
{
    struct vg_re_worker *w = vg_calloc(1, sizeof(*w));
    if (!w) {
        return VG_ENOMEM;
    }
    w->e = e;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        vg_free(w);
        return VG_ERROR;
    }
    w->next = e->workers;
    e->workers = w;
    return VG_OK;
}

static int engine_start(struct vg_respond *e, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/runs.db", e->o.data_dir);
    int rc = vg_rj_open(path, &e->j, err, errsz);
    char rerr[256];
    if (rc == VG_OK) {
        vg_respond_reload(e, rerr, sizeof(rerr));
        rc = vg_re_recover(e, err, errsz);
    }
    pthread_mutex_lock(&e->mu);
    for (unsigned i = 0; rc == VG_OK && i < e->o.workers; i++) {
        rc = vg_re_worker_spawn(e);
    }
    pthread_mutex_unlock(&e->mu);
    if (rc == VG_OK && pthread_create(&e->watchdog, NULL, watchdog_main, e) != 0) {
        rc = VG_ERROR;
    } else if (rc == VG_OK) {
        e->watchdog_started = true;
    }
    if (rc != VG_OK && !err[0]) {
        snprintf(err, errsz, "respond: cannot start threads");
    }
    return rc;
}

int vg_respond_create(const struct vg_respond_opts *o, struct vg_respond **out, char *err,
                      size_t errsz)
{
    *out = NULL;
    err[0] = 0;
    if (!o || !o->data_dir || !o->svc) {
        snprintf(err, errsz, "respond: data_dir and services are required");
        return VG_EINVAL;
    }
    struct vg_respond *e = vg_calloc(1, sizeof(*e));
    if (!e) {
        return VG_ENOMEM;
    }
    e->o = *o;
    e->o.workers = o->workers ? o->workers : 4;
    e->o.tick_ms = o->tick_ms > 0 ? o->tick_ms : 50;
    e->o.abandon_grace_ms = o->abandon_grace_ms > 0 ? o->abandon_grace_ms : 1000;
    e->svc = o->svc;
    e->jp_ctx = vg_json_parser_create(NULL);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->work_cv, NULL);
    pthread_cond_init(&e->idle_cv, NULL);
    pthread_cond_init(&e->tick_cv, NULL);
    pthread_cond_init(&e->step_cv, NULL);
    e->gen = vg_calloc(1, sizeof(*e->gen));
    int rc = e->jp_ctx && e->gen ? engine_start(e, err, errsz) : VG_ENOMEM;
    if (rc != VG_OK) {
        vg_respond_stop(e);
        vg_respond_destroy(e);
        return rc;
    }
    *out = e;
    return VG_OK;
}

static void threads_stop(struct vg_respond *e)
{
    pthread_mutex_lock(&e->mu);
    e->stopping = true;
    pthread_cond_broadcast(&e->work_cv);
    pthread_cond_broadcast(&e->tick_cv);
    struct vg_re_worker *w = e->workers;
    e->workers = NULL;
    pthread_mutex_unlock(&e->mu);
    if (e->watchdog_started) {
        pthread_join(e->watchdog, NULL);
        e->watchdog_started = false;
    }
    while (w) {
        struct vg_re_worker *n = w->next;
        pthread_join(w->thread, NULL);
        vg_free(w);
        w = n;
    }
}

void vg_respond_stop(struct vg_respond *e)
{
    if (!e || e->stopped) {
        return;
    }
    threads_stop(e);
    vg_rj_close(e->j, false);
    e->j = NULL;
    e->stopped = true;
}

void vg_respond_destroy(struct vg_respond *e)
{
    if (!e) {
        return;
    }
    if (!e->stopped) {
        threads_stop(e); /* a crash for the journal: what is queued is dropped */
        vg_rj_close(e->j, true);
    }
    while (e->qhead) {
        struct vg_re_task *t = e->qhead;
        e->qhead = t->next;
        vg_free(t);
    }
    for (size_t b = 0; b < VG_RE_BUCKETS; b++) {
        while (e->map[b]) {
            struct vg_re_run *r = e->map[b];
            e->map[b] = r->next;
            run_free(r);
        }
    }
    vg_re_gen_free(e->gen);
    vg_json_parser_destroy(e->jp_ctx);
    pthread_cond_destroy(&e->work_cv);
    pthread_cond_destroy(&e->idle_cv);
    pthread_cond_destroy(&e->step_cv);
    pthread_cond_destroy(&e->tick_cv);
    pthread_mutex_destroy(&e->mu);
    vg_free(e);
}

/* ---------------------------------------------------------------- workers */

static void *worker_main(void *arg)
{
    struct vg_re_worker *w = arg;
    struct vg_respond *e = w->e;
    pthread_mutex_lock(&e->mu);
    while (!e->stopping) {
        struct vg_re_task *t = e->qhead;
        if (!t) {
            pthread_cond_wait(&e->work_cv, &e->mu);
            continue;
        }
        e->qhead = t->next;
        if (!e->qhead) {
            e->qtail = NULL;
        }
        struct vg_re_run *r = t->run;
        if (r->status == VG_RE_RUN_RUNNING && r->st[t->step].gen == t->gen) {
            vg_re_exec_step(e, w, r, t->step);
        }
        vg_re_run_unref(e, r);
        vg_free(t);
        if (w->abandoned) {
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---------------------------------------------------------------- the watchdog */

static void watch_run(struct vg_respond *e, struct vg_re_run *r, vg_time_t now)
{
    if (r->status != VG_RE_RUN_RUNNING) {
        return;
    }
    if (now > r->deadline) {
        vg_re_run_end(e, r, VG_RE_RUN_TIMED_OUT, "the run's deadline passed");
        return;
    }
    for (size_t i = 0; i < r->pb->nsteps; i++) {
        struct vg_re_step *s = &r->st[i];
        if (s->status == VG_RE_RETRY_WAIT && now >= s->next_at) {
            s->attempt++;
            queue_push(e, r, i);
        } else if (s->status == VG_RE_AWAITING && now >= s->deadline) {
            vg_re_approval_expire(e, r, i);
        }
    }
}

/* Workers stuck past their step's deadline (+ grace): abandon, replace, time the step out. */
static void watch_workers(struct vg_respond *e, uint64_t mono)
{
    for (struct vg_re_worker *w = e->workers; w; w = w->next) {
        if (!w->run || w->abandoned ||
            mono < w->deadline_mono + (uint64_t)e->o.abandon_grace_ms * 1000000ULL) {
            continue;
        }
        struct vg_re_run *r = w->run;
        size_t step = w->step;
        w->abandoned = true;
        e->workers_abandoned++;
        VG_WARN("respond",
                "run r-%lld step %s: the action did not return by its deadline; "
                "worker abandoned",
                (long long)r->id, r->pb->steps[step].id);
        r->st[step].gen++; /* its result, if it ever comes, is ignored */
        vg_re_step_result(e, r, step, VG_ETIMEOUT, true, w->input, NULL,
                          "the action did not return by its deadline", w->started);
        vg_re_worker_spawn(e);
    }
}

static void *watchdog_main(void *arg)
{
    struct vg_respond *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = ts.tv_nsec + e->o.tick_ms * 1000000LL;
        ts.tv_sec += ns / 1000000000LL;
        ts.tv_nsec = ns % 1000000000LL;
        pthread_cond_timedwait(&e->tick_cv, &e->mu, &ts);
        if (e->stopping) {
            break;
        }
        vg_time_t now = vg_time_now();
        for (size_t b = 0; b < VG_RE_BUCKETS; b++) {
            for (struct vg_re_run *r = e->map[b]; r; r = r->next) {
                watch_run(e, r, now);
            }
        }
        watch_workers(e, vg_clock_ns());
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* ---------------------------------------------------------------- waiting, stats */

int vg_respond_run_wait(struct vg_respond *e, int64_t run_id, int64_t timeout_ms, char *status,
                        size_t size)
{
    uint64_t end = vg_clock_ns() + (uint64_t)timeout_ms * 1000000ULL;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        struct vg_re_run *r = vg_re_run_find(e, run_id);
        if (!r || r->end_durable) {
            break;
        }
        if (vg_clock_ns() >= end) {
            vg_strlcpy(status, run_status_names[r->status], size);
            pthread_mutex_unlock(&e->mu);
            return VG_ETIMEOUT;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&e->idle_cv, &e->mu, &ts);
    }
    int rc = vg_re_run_status_db(e, run_id, status, size);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int vg_respond_wait_idle(struct vg_respond *e, int64_t timeout_ms)
{
    uint64_t end = vg_clock_ns() + (uint64_t)timeout_ms * 1000000ULL;
    pthread_mutex_lock(&e->mu);
    while (e->nactive && vg_clock_ns() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20000000;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&e->idle_cv, &e->mu, &ts);
    }
    int rc = e->nactive ? VG_ETIMEOUT : VG_OK;
    pthread_mutex_unlock(&e->mu);
    return rc;
}

void vg_respond_stats(struct vg_respond *e, struct vg_respond_stats *st)
{
    pthread_mutex_lock(&e->mu);
    *st = (struct vg_respond_stats){
        e->runs_started,     e->runs_ended, e->steps_run, e->step_retries, e->steps_timed_out, 0, 0,
        e->workers_abandoned};
    pthread_mutex_unlock(&e->mu);
    if (e->j) {
        vg_rj_stats(e->j, &st->journal_batches, &st->journal_changes);
    }
}
