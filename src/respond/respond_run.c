/*
 * respond_run.c — where runs come from: triggers (idempotent per playbook and source key),
 * manual runs, and recovery of unfinished runs from the journal after a restart; and the
 * generations of loaded playbooks.
 *
 * A new run is durable (its row and the playbook text it runs committed) before it starts
 * or the trigger returns. Recovery rebuilds each unfinished run from its own playbook text
 * (not the current file: a run keeps the version it started with), restores finished steps
 * with their outputs, re-queues a step that was in flight (same idempotency key), keeps
 * retry times and approval deadlines.
 */
#include <sqlite3.h>
#include <string.h>

#include "audit/audit.h"
#include "respond/respond_engine.h"

/* ---------------------------------------------------------------- generations */

int vg_re_gen_put(struct vg_re_gen *g, struct vg_playbook *pb, bool from_text)
{
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->pbs[i]->id, pb->id) == 0) {
            vg_playbook_unref(g->pbs[i]);
            vg_playbook_ref(pb);
            g->pbs[i] = pb;
            g->from_text[i] = from_text;
            return VG_OK;
        }
    }
    size_t cap = g->cap;
    if (vg_grow(&g->pbs, &g->cap, g->n + 1, sizeof(*g->pbs)) != VG_OK ||
        vg_grow(&g->from_text, &cap, g->n + 1, sizeof(*g->from_text)) != VG_OK) {
        return VG_ENOMEM;
    }
    vg_playbook_ref(pb);
    g->pbs[g->n] = pb;
    g->from_text[g->n++] = from_text;
    return VG_OK;
}

struct vg_playbook *vg_re_gen_find(const struct vg_re_gen *g, const char *id)
{
    for (size_t i = 0; g && i < g->n; i++) {
        if (strcmp(g->pbs[i]->id, id) == 0) {
            return g->pbs[i];
        }
    }
    return NULL;
}

void vg_re_gen_add_file(struct vg_re_gen *g, const char *path)
{
    struct vg_playbook *pb = NULL;
    char err[512];
    int rc = vg_playbook_load_file(path, &pb, err, sizeof(err));
    if (rc == VG_OK && vg_re_gen_find(g, pb->id)) {
        snprintf(err, sizeof(err), "%s:1: id: duplicate playbook id '%s'", pb->file, pb->id);
        rc = VG_EEXIST;
    } else if (rc == VG_OK) {
        rc = vg_re_gen_put(g, pb, false);
    }
    vg_playbook_unref(pb);
    if (rc != VG_OK) {
        char **n = vg_realloc(g->errors, (g->nerrors + 1) * sizeof(*n));
        if (n) {
            g->errors = n;
            g->errors[g->nerrors++] = vg_strdup(err);
        }
        VG_WARN("respond", "playbook not loaded: %s", err);
    }
}

void vg_re_gen_free(struct vg_re_gen *g)
{
    if (!g) {
        return;
    }
    for (size_t i = 0; i < g->n; i++) {
        vg_playbook_unref(g->pbs[i]);
    }
    for (size_t i = 0; i < g->nerrors; i++) {
        vg_free(g->errors[i]);
    }
    vg_free(g->errors);
    vg_free(g->pbs);
    vg_free(g->from_text);
    vg_free(g);
}

/* ---------------------------------------------------------------- starting runs */

struct candidate {
    struct vg_playbook *pb;
    struct vg_rj_change *ch;
};

static struct vg_rj_change *run_change(struct vg_playbook *pb, const char *tenant, const char *ctx,
                                       const char *key, const char *kind, const char *actor)
{
    struct vg_rj_change *ch = vg_rj_change_new(VG_RJ_RUN_INSERT);
    if (!ch) {
        return NULL;
    }
    vg_time_t now = vg_time_now();
    ch->tenant = vg_strdup(tenant);
    ch->playbook = vg_strdup(pb->id);
    ch->hash = vg_strdup(pb->hash);
    ch->text = vg_strndup(pb->text, pb->text_len);
    ch->source_key = vg_strdup(key);
    ch->trigger = vg_strdup(kind);
    ch->actor = actor ? vg_strdup(actor) : NULL;
    ch->context = vg_strdup(ctx);
    ch->t1 = now;
    ch->t4 = now + pb->timeout_ns;
    if (!ch->tenant || !ch->playbook || !ch->hash || !ch->text || !ch->source_key || !ch->context) {
        vg_rj_change_free(ch);
        return NULL;
    }
    return ch;
}

/* After the inserts committed: start the runs that are new. */
static size_t start_runs(struct vg_respond *e, struct candidate *c, size_t n, int64_t *first_id)
{
    size_t created = 0;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < n; i++) {
        struct vg_rj_change *ch = c[i].ch;
        if (ch->rc != VG_OK || !ch->inserted) {
            continue;
        }
        struct vg_re_run *r =
            vg_re_run_new(e, ch->new_id, c[i].pb, ch->tenant, ch->context, ch->actor, ch->t4);
        ch->context = NULL;
        if (!r) {
            continue;
        }
        r->e = e;
        created++;
        e->runs_started++;
        if (first_id && !*first_id) {
            *first_id = r->id;
        }
        vg_re_run_advance(e, r);
    }
    pthread_mutex_unlock(&e->mu);
    return created;
}

static void audit_created(struct vg_respond *e, struct candidate *c, size_t n)
{
    for (size_t i = 0; e->svc->audit && i < n; i++) {
        struct vg_rj_change *ch = c[i].ch;
        if (ch->rc != VG_OK || !ch->inserted) {
            continue;
        }
        char actor[160], obj[32], err[128];
        snprintf(actor, sizeof(actor), "%s", ch->actor ? ch->actor : "");
        if (!ch->actor) {
            snprintf(actor, sizeof(actor), "playbook:%s#r-%lld", ch->playbook,
                     (long long)ch->new_id);
        }
        snprintf(obj, sizeof(obj), "run:%lld", (long long)ch->new_id);
        struct vg_sbuf d = VG_SBUF_INIT;
        vg_sbuf_adds(&d, "{\"playbook\":");
        vg_sbuf_add_json_str(&d, ch->playbook, strlen(ch->playbook));
        vg_sbuf_printf(&d, ",\"hash\":\"%s\",\"trigger\":\"%s\",\"source\":", ch->hash,
                       ch->trigger);
        vg_sbuf_add_json_str(&d, ch->source_key, strlen(ch->source_key));
        vg_sbuf_addc(&d, '}');
        struct vg_audit_rec rec = {ch->tenant, actor, "run.create", obj, d.err ? "{}" : d.p};
        vg_audit_append(e->svc->audit, &rec, NULL, err, sizeof(err));
        vg_sbuf_fini(&d);
    }
}

/* Journal the candidate runs (one batch), then start those that were new. */
static int insert_runs(struct vg_respond *e, struct candidate *c, size_t n, size_t *created,
                       int64_t *first_id, char *err, size_t errsz)
{
    int rc = VG_OK;
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        rc = vg_rj_submit_wait(e->j, c[i].ch);
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "runs.db: cannot record the run");
    }
    audit_created(e, c, n);
    size_t k = rc == VG_OK ? start_runs(e, c, n, first_id) : 0;
    if (created) {
        *created = k;
    }
    return rc;
}

static int parse_context(struct vg_arena *a, const char *text, struct vg_json **out, char *err,
                         size_t errsz)
{
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    size_t used = 0;
    char jerr[200];
    int rc =
        jp ? vg_json_parse(jp, a, text, strlen(text), &used, out, jerr, sizeof(jerr)) : VG_ENOMEM;
    vg_json_parser_destroy(jp);
    if (rc != VG_OK) {
        snprintf(err, errsz, "context: not valid JSON (%s)", rc == VG_ENOMEM ? "no memory" : jerr);
        return VG_EINVAL;
    }
    if ((*out)->type != VG_JSON_OBJECT) {
        snprintf(err, errsz, "context: expected a JSON object ({\"alert\":{...}})");
        return VG_EINVAL;
    }
    return VG_OK;
}

/* Playbooks of the current generation that match (refs taken). */
static size_t match_playbooks(struct vg_respond *e, const char *kind, const struct vg_json *ctx,
                              struct candidate *c, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; e->gen && i < e->gen->n && n < max; i++) {
        struct vg_playbook *pb = e->gen->pbs[i];
        bool hit = false;
        for (size_t t = 0; pb->enabled && t < pb->ntriggers && !hit; t++) {
            hit = vg_playbook_trigger_match(&pb->triggers[t], kind, ctx, NULL);
        }
        if (hit && vg_cond_eval(pb->condition, ctx)) {
            vg_playbook_ref(pb);
            c[n++].pb = pb;
        }
    }
    pthread_mutex_unlock(&e->mu);
    return n;
}

int vg_respond_trigger(struct vg_respond *e, const char *kind, const char *tenant,
                       const char *context_json, const char *source_key, size_t *created, char *err,
                       size_t errsz)
{
    struct candidate c[64];
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *ctx = NULL;
    size_t n = 0;
    int rc = a ? parse_context(a, context_json, &ctx, err, errsz) : VG_ENOMEM;
    if (created) {
        *created = 0;
    }
    if (rc == VG_OK && (!source_key || !*source_key || !kind)) {
        snprintf(err, errsz, "trigger: kind and source_key are required");
        rc = VG_EINVAL;
    }
    if (rc == VG_OK) {
        n = match_playbooks(e, kind, ctx, c, VG_ARRAY_LEN(c));
    }
    for (size_t i = 0; i < n; i++) {
        c[i].ch =
            run_change(c[i].pb, tenant ? tenant : "default", context_json, source_key, kind, NULL);
        rc = c[i].ch ? rc : VG_ENOMEM;
    }
    if (rc == VG_OK && n) {
        rc = insert_runs(e, c, n, created, NULL, err, errsz);
    }
    for (size_t i = 0; i < n; i++) {
        vg_rj_change_free(c[i].ch);
        vg_playbook_unref(c[i].pb);
    }
    vg_arena_destroy(a);
    return rc;
}

int vg_respond_run_manual(struct vg_respond *e, const char *playbook_id, const char *tenant,
                          const char *context_json, const char *actor, int64_t *run_id, char *err,
                          size_t errsz)
{
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *ctx = NULL;
    struct candidate c = {NULL, NULL};
    *run_id = 0;
    int rc = a ? parse_context(a, context_json ? context_json : "{}", &ctx, err, errsz) : VG_ENOMEM;
    char key[64];
    pthread_mutex_lock(&e->mu);
    c.pb = vg_re_gen_find(e->gen, playbook_id);
    if (c.pb) {
        vg_playbook_ref(c.pb);
    }
    snprintf(key, sizeof(key), "manual:%lld-%llu", (long long)vg_time_now(),
             (unsigned long long)++e->manual_seq);
    pthread_mutex_unlock(&e->mu);
    if (rc == VG_OK && (!c.pb || !c.pb->enabled)) {
        snprintf(err, errsz, "no %splaybook '%s'", c.pb ? "enabled " : "", playbook_id);
        rc = VG_ENOENT;
    }
    if (rc == VG_OK &&
        !(c.ch = run_change(c.pb, tenant ? tenant : "default", context_json ? context_json : "{}",
                            key, "manual", actor))) {
        rc = VG_ENOMEM;
    }
    if (rc == VG_OK) {
        rc = insert_runs(e, &c, 1, NULL, run_id, err, errsz);
    }
    vg_rj_change_free(c.ch);
    vg_playbook_unref(c.pb);
    vg_arena_destroy(a);
    return rc;
}

/* ---------------------------------------------------------------- recovery */

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static char *dupn_col(const char *s)
{
    return s ? vg_strdup(s) : NULL;
}

static void restore_step(struct vg_re_run *r, sqlite3_stmt *st)
{
    const char *id = col(st, 0);
    size_t i = 0;
    while (id && i < r->pb->nsteps && strcmp(r->pb->steps[i].id, id) != 0) {
        i++;
    }
    if (!id || i == r->pb->nsteps) {
        return;
    }
    struct vg_re_step *s = &r->st[i];
    int status = vg_re_step_status_parse(col(st, 2));
    s->attempt = (unsigned)sqlite3_column_int(st, 1);
    /* in flight when the process stopped: run again (same idempotency key) */
    s->status = status == VG_RE_QUEUED || status == VG_RE_RUNNING || status == VG_RE_DECIDING
                    ? VG_RE_PENDING
                    : status;
    vg_free(s->output);
    vg_free(s->error);
    vg_free(s->input);
    s->input = dupn_col(col(st, 3));
    s->output = dupn_col(col(st, 4));
    s->error = dupn_col(col(st, 5));
    s->next_at = sqlite3_column_int64(st, 6);
    s->deadline = sqlite3_column_int64(st, 7);
}

static int restore_steps(struct vg_respond *e, struct vg_re_run *r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(vg_rj_reader(e->j),
                                "SELECT step, attempt, status, input, output, error,"
                                " next_attempt_at, deadline FROM steps WHERE run=?1"
                                " ORDER BY attempt, rowid",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, r->id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        restore_step(r, st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? VG_OK : VG_EIO;
}

static struct vg_playbook *stored_playbook(struct vg_respond *e, const char *hash, const char *id,
                                           char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    struct vg_playbook *pb = NULL;
    if (sqlite3_prepare_v2(vg_rj_reader(e->j), "SELECT text FROM pb_texts WHERE hash=?1", -1, &st,
                           NULL) != SQLITE_OK) {
        return NULL;
    }
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        char file[128];
        snprintf(file, sizeof(file), "%s.yml", id);
        const char *text = col(st, 0);
        vg_playbook_parse(file, text, (size_t)sqlite3_column_bytes(st, 0), &pb, err, errsz);
    } else {
        snprintf(err, errsz, "the playbook text %s is missing from the journal", hash);
    }
    sqlite3_finalize(st);
    return pb;
}

static void recover_run(struct vg_respond *e, sqlite3_stmt *st)
{
    char err[512] = "";
    int64_t id = sqlite3_column_int64(st, 0);
    struct vg_playbook *pb = stored_playbook(e, col(st, 3), col(st, 2), err, sizeof(err));
    if (!pb) {
        /* a placeholder playbook cannot be built: record the failure and move on */
        struct vg_rj_change *ch = vg_rj_change_new(VG_RJ_RUN_STATUS);
        if (ch) {
            ch->run = id;
            ch->status = vg_strdup("failed");
            ch->error = vg_strdup(err);
            ch->t3 = vg_time_now();
            vg_rj_submit(e->j, ch);
        }
        return;
    }
    pthread_mutex_lock(&e->mu);
    struct vg_re_run *r = vg_re_run_new(e, id, pb, col(st, 1), vg_strdup(col(st, 4)), col(st, 5),
                                        sqlite3_column_int64(st, 6));
    if (r) {
        r->e = e;
        restore_steps(e, r);
        vg_re_run_advance(e, r);
    }
    pthread_mutex_unlock(&e->mu);
    vg_playbook_unref(pb);
}

int vg_re_recover(struct vg_respond *e, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(vg_rj_reader(e->j),
                                "SELECT id, tenant, playbook, pb_hash, context, actor, deadline"
                                " FROM runs WHERE status='running' ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errsz, "runs.db: %s", sqlite3_errmsg(vg_rj_reader(e->j)));
        return VG_EIO;
    }
    size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        recover_run(e, st);
        n++;
    }
    sqlite3_finalize(st);
    if (n) {
        VG_INFO("respond", "resumed %zu unfinished playbook runs", n);
    }
    return rc == SQLITE_DONE ? VG_OK : VG_EIO;
}
