/*
 * respond_exec.c — running one step on a worker thread, and approval decisions.
 *
 * A step's attempt: build its context (under the engine lock), then without the lock parse
 * it, evaluate `when`, render `with` (templates resolve to data; a missing value fails the
 * step with the path named), journal the attempt as running, audit it, and call the action
 * with the step's deadline and the run/step idempotency key. Back under the lock the result
 * is handed to the state machine unless the step was abandoned or the run ended meanwhile.
 *
 * Approval steps render their message and wait (journalled with their deadline) until
 * vg_respond_approve() or the watchdog's deadline decides with the step's default.
 */
#include <string.h>

#include "api/api.h"
#include "audit/audit.h"
#include "respond/respond_engine.h"

struct attempt {
    int rc;
    bool retryable, skipped, approval;
    struct vg_sbuf input, output;
    char err[512];
};

static void audit_step(struct vg_respond *e, const struct vg_re_run *r, size_t step,
                       const struct attempt *a, unsigned attempt)
{
    if (!e->svc->audit) {
        return;
    }
    char actor[128], obj[32], err[128];
    snprintf(actor, sizeof(actor), "playbook:%s#r-%lld", r->pb->id, (long long)r->id);
    snprintf(obj, sizeof(obj), "run:%lld", (long long)r->id);
    struct vg_sbuf d = VG_SBUF_INIT;
    vg_sbuf_adds(&d, "{\"step\":");
    vg_sbuf_add_json_str(&d, r->pb->steps[step].id, strlen(r->pb->steps[step].id));
    vg_sbuf_printf(&d, ",\"action\":\"%s\",\"attempt\":%u,\"input\":%s,",
                   r->pb->steps[step].action_name, attempt, a->input.len ? a->input.p : "null");
    if (a->rc == VG_OK) {
        vg_sbuf_printf(&d, "\"output\":%s}", a->output.len ? a->output.p : "{}");
    } else {
        vg_sbuf_adds(&d, "\"error\":");
        vg_sbuf_add_json_str(&d, a->err, strlen(a->err));
        vg_sbuf_addc(&d, '}');
    }
    struct vg_audit_rec rec = {r->tenant, actor, "run.step", obj, d.err ? "{}" : d.p};
    if (vg_audit_append(e->svc->audit, &rec, NULL, err, sizeof(err)) != VG_OK) {
        VG_WARN("respond", "audit append failed for run r-%lld: %s", (long long)r->id, err);
    }
    vg_sbuf_fini(&d);
}

/* The attempt is in flight: journalled (not waited for) so views and recovery see it. */
static void journal_running(struct vg_respond *e, const struct vg_re_run *r, size_t step,
                            unsigned attempt, const char *input)
{
    const struct vg_pb_step *ps = &r->pb->steps[step];
    struct vg_rj_change *ch = vg_rj_change_new(VG_RJ_STEP_PUT);
    if (!ch) {
        return;
    }
    vg_time_t now = vg_time_now();
    ch->run = r->id;
    ch->step = vg_strdup(ps->id);
    ch->attempt = attempt;
    ch->status = vg_strdup("running");
    ch->action = vg_strdup(ps->action_name);
    ch->input = input ? vg_strdup(input) : NULL;
    ch->t2 = now;
    ch->t4 = now + ps->timeout_ns;
    vg_rj_submit(e->j, ch);
}

/* Render, then run the action (no lock held). */
static void attempt_action(struct vg_respond *e, const struct vg_re_run *r, size_t step,
                           unsigned attempt, const struct vg_json *ctx, struct vg_arena *arena,
                           struct attempt *a)
{
    const struct vg_pb_step *ps = &r->pb->steps[step];
    if ((a->rc = vg_tmpl_render(ps->with, ctx, &a->input, a->err, sizeof(a->err))) != VG_OK) {
        vg_sbuf_reset(&a->input); /* a partial rendering is not JSON: the error says why */
        return;
    }
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *input = NULL;
    size_t used;
    char jerr[128];
    if (!jp || vg_json_parse(jp, arena, a->input.p, a->input.len, &used, &input, jerr,
                             sizeof(jerr)) != VG_OK) {
        snprintf(a->err, sizeof(a->err), "rendered input is not JSON: %s", jerr);
        a->rc = VG_EINVAL;
        vg_sbuf_reset(&a->input);
        vg_json_parser_destroy(jp);
        return;
    }
    vg_json_parser_destroy(jp);
    journal_running(e, r, step, attempt, a->input.p);
    char run_id[32], idem[128], actor[128];
    snprintf(run_id, sizeof(run_id), "r-%lld", (long long)r->id);
    snprintf(idem, sizeof(idem), "%s/%s", run_id, ps->id);
    snprintf(actor, sizeof(actor), "playbook:%s#%s", r->pb->id, run_id);
    int64_t tmo = ps->timeout_ns / 1000000;
    struct vg_action_ctx c = {
        r->tenant, run_id, ps->id, idem, actor, attempt, (int)VG_MIN(tmo, INT32_MAX),
        input,     e->svc, arena};
    struct vg_action_result res = {VG_SBUF_INIT, false, {0}};
    a->rc = ps->action->run(&c, &res);
    a->retryable = res.retryable;
    if (a->rc != VG_OK) {
        snprintf(a->err, sizeof(a->err), "%s", res.err[0] ? res.err : vg_strerror(a->rc));
    } else if (res.output.len) {
        vg_sbuf_add(&a->output, res.output.p, res.output.len);
    }
    vg_sbuf_fini(&res.output);
}

static void attempt_run(struct vg_respond *e, const struct vg_re_run *r, size_t step,
                        unsigned attempt, const char *ctx_text, size_t ctx_len, struct attempt *a)
{
    struct vg_arena *arena = vg_arena_create(8192);
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *ctx = NULL;
    size_t used;
    char jerr[128];
    const struct vg_pb_step *ps = &r->pb->steps[step];
    if (!arena || !jp ||
        vg_json_parse(jp, arena, ctx_text, ctx_len, &used, &ctx, jerr, sizeof(jerr)) != VG_OK) {
        snprintf(a->err, sizeof(a->err), "cannot build the step's context");
        a->rc = VG_ENOMEM;
    } else if (ps->when && !vg_cond_eval(ps->when, ctx)) {
        a->skipped = true;
    } else if (ps->approval) {
        a->approval = true;
        if (ps->approval_message) {
            a->rc = vg_tmpl_render_text(ps->approval_message, strlen(ps->approval_message), ctx,
                                        &a->input, a->err, sizeof(a->err));
        }
    } else {
        attempt_action(e, r, step, attempt, ctx, arena, a);
    }
    vg_json_parser_destroy(jp);
    vg_arena_destroy(arena);
}

static void approval_wait(struct vg_respond *e, struct vg_re_run *r, size_t step,
                          const char *message)
{
    const struct vg_pb_step *ps = &r->pb->steps[step];
    struct vg_rj_change *ch = vg_rj_change_new(VG_RJ_APPROVAL_PUT);
    vg_time_t now = vg_time_now(), deadline = now + ps->approval_timeout_ns;
    if (ch) {
        struct vg_sbuf ap = VG_SBUF_INIT;
        if (ps->approver_role >= 0) {
            vg_sbuf_printf(&ap, "{\"role\":\"%s\"}", vg_api_role_name(ps->approver_role));
        } else {
            vg_sbuf_adds(&ap, "{\"users\":[");
            for (size_t i = 0; i < ps->napprover_users; i++) {
                vg_sbuf_adds(&ap, i ? "," : "");
                vg_sbuf_add_json_str(&ap, ps->approver_users[i], strlen(ps->approver_users[i]));
            }
            vg_sbuf_adds(&ap, "]}");
        }
        ch->run = r->id;
        ch->step = vg_strdup(ps->id);
        ch->extra = vg_sbuf_take(&ap, NULL);
        ch->input = vg_strdup(message ? message : "");
        ch->status = vg_strdup(ps->approval_default_approve ? "approve" : "deny");
        ch->t1 = now;
        ch->t4 = deadline;
        vg_rj_submit(e->j, ch);
    }
    vg_re_step_put(e, r, step, VG_RE_AWAITING, r->st[step].attempt, message, NULL, NULL, now, 0,
                   deadline);
}

/* Hand an attempt's outcome to the state machine (under e->mu). */
static void attempt_apply(struct vg_respond *e, struct vg_re_run *r, size_t step, struct attempt *a,
                          vg_time_t started)
{
    if (a->skipped) {
        r->st[step].status = VG_RE_RUNNING;
        vg_re_step_put(e, r, step, VG_RE_SKIPPED, r->st[step].attempt, NULL, "{}",
                       "skipped: when is false", started, 0, 0);
    } else if (a->approval && a->rc == VG_OK) {
        approval_wait(e, r, step, a->input.p);
    } else {
        vg_re_step_result(e, r, step, a->rc, a->retryable, a->input.p, a->output.p, a->err,
                          started);
    }
}

void vg_re_exec_step(struct vg_respond *e, struct vg_re_worker *w, struct vg_re_run *r, size_t step)
{
    struct vg_re_step *s = &r->st[step];
    const struct vg_pb_step *ps = &r->pb->steps[step];
    struct attempt a = {0, false, false, false, VG_SBUF_INIT, VG_SBUF_INIT, {0}};
    struct vg_sbuf ctx = VG_SBUF_INIT;
    s->attempt = s->attempt ? s->attempt : 1;
    s->status = VG_RE_RUNNING;
    uint64_t gen = s->gen;
    unsigned attempt = s->attempt;
    vg_re_context(r, &ctx);
    vg_time_t started = vg_time_now();
    w->run = ps->approval ? NULL : r;
    w->step = step;
    w->started = started;
    w->deadline_mono = vg_clock_ns() + (uint64_t)ps->timeout_ns;
    w->input[0] = 0;
    pthread_mutex_unlock(&e->mu);

    if (!ctx.err) {
        attempt_run(e, r, step, attempt, ctx.p, ctx.len, &a);
    } else {
        a.rc = VG_ENOMEM;
        snprintf(a.err, sizeof(a.err), "out of memory building the context");
    }
    if (!a.skipped && !a.approval) {
        audit_step(e, r, step, &a, attempt);
    }
    vg_sbuf_fini(&ctx);

    pthread_mutex_lock(&e->mu);
    w->run = NULL;
    if (!w->abandoned && s->gen == gen && r->status == VG_RE_RUN_RUNNING) {
        attempt_apply(e, r, step, &a, started);
    }
    vg_sbuf_fini(&a.input);
    vg_sbuf_fini(&a.output);
}

/* ---------------------------------------------------------------- approvals */

static void decide(struct vg_respond *e, struct vg_re_run *r, size_t step, bool approve,
                   const char *actor, const char *comment)
{
    struct vg_re_step *s = &r->st[step];
    struct vg_rj_change *ch = vg_rj_change_new(VG_RJ_APPROVAL_DECIDE);
    s->status = VG_RE_DECIDING;
    if (ch) {
        ch->run = r->id;
        ch->step = vg_strdup(r->pb->steps[step].id);
        ch->status = vg_strdup(approve ? "approved" : "denied");
        ch->actor = vg_strdup(actor);
        ch->input = comment ? vg_strdup(comment) : NULL;
        ch->t3 = vg_time_now();
        vg_rj_submit(e->j, ch);
    }
    struct vg_sbuf out = VG_SBUF_INIT;
    vg_sbuf_printf(&out, "{\"approved\":%s,\"by\":", approve ? "true" : "false");
    vg_sbuf_add_json_str(&out, actor, strlen(actor));
    vg_sbuf_adds(&out, ",\"comment\":");
    vg_sbuf_add_json_str(&out, comment ? comment : "", comment ? strlen(comment) : 0);
    vg_sbuf_addc(&out, '}');
    char why[200];
    snprintf(why, sizeof(why), "approval %s denied by %s", r->pb->steps[step].id, actor);
    vg_re_step_put(e, r, step, approve ? VG_RE_SUCCEEDED : VG_RE_DENIED, s->attempt, s->input,
                   out.p, approve ? NULL : why, 0, 0, 0);
    vg_sbuf_fini(&out);
}

static void audit_decision(struct vg_respond *e, const char *tenant, int64_t run, const char *step,
                           const char *actor, bool approve, const char *comment)
{
    struct vg_sbuf d = VG_SBUF_INIT;
    char obj[32], err[128];
    vg_sbuf_adds(&d, "{\"step\":");
    vg_sbuf_add_json_str(&d, step, strlen(step));
    vg_sbuf_adds(&d, ",\"comment\":");
    vg_sbuf_add_json_str(&d, comment ? comment : "", comment ? strlen(comment) : 0);
    vg_sbuf_addc(&d, '}');
    snprintf(obj, sizeof(obj), "run:%lld", (long long)run);
    struct vg_audit_rec rec = {tenant, actor, approve ? "run.approve" : "run.deny", obj,
                               d.err ? "{}" : d.p};
    if (e->svc->audit && vg_audit_append(e->svc->audit, &rec, NULL, err, sizeof(err)) != VG_OK) {
        VG_WARN("respond", "audit append failed for run %lld: %s", (long long)run, err);
    }
    vg_sbuf_fini(&d);
}

void vg_re_approval_expire(struct vg_respond *e, struct vg_re_run *r, size_t step)
{
    bool approve = r->pb->steps[step].approval_default_approve;
    decide(e, r, step, approve, "system:approval-timeout", "no decision before the deadline");
    audit_decision(e, r->tenant, r->id, r->pb->steps[step].id, "system:approval-timeout", approve,
                   "no decision before the deadline");
}

static bool may_approve(const struct vg_pb_step *ps, const struct vg_respond_principal *who)
{
    if (!who || !who->name) {
        return false;
    }
    if (ps->approver_role >= 0) {
        return who->role >= ps->approver_role;
    }
    for (size_t i = 0; i < ps->napprover_users; i++) {
        if (strcmp(ps->approver_users[i], who->name) == 0) {
            return true;
        }
    }
    return false;
}

int vg_respond_approve(struct vg_respond *e, const char *tenant, int64_t run_id,
                       const char *step_id, const struct vg_respond_principal *who, bool approve,
                       const char *comment, char *err, size_t errsz)
{
    pthread_mutex_lock(&e->mu);
    struct vg_re_run *r = vg_re_run_find(e, run_id);
    size_t i = 0;
    for (; r && step_id && i < r->pb->nsteps; i++) {
        if (strcmp(r->pb->steps[i].id, step_id) == 0) {
            break;
        }
    }
    int rc = VG_OK;
    /*
     * The wait is journalled first and reaches the in-memory state in the commit callback: a
     * reader of the journal (the run's JSON) may already see "awaiting_approval". Give the
     * callback a moment (bounded) rather than answer "no pending approval".
     */
    for (int k = 0; k < 100 && r && step_id && i < r->pb->nsteps && r->pb->steps[i].approval &&
                    r->status == VG_RE_RUN_RUNNING && r->st[i].status == VG_RE_RUNNING;
         k++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&e->step_cv, &e->mu, &ts);
        r = vg_re_run_find(e, run_id);
    }
    if (!r || strcmp(r->tenant, tenant) != 0 || r->status != VG_RE_RUN_RUNNING || !step_id ||
        i == r->pb->nsteps || r->st[i].status != VG_RE_AWAITING) {
        snprintf(err, errsz, "no pending approval '%s' in run r-%lld", step_id ? step_id : "",
                 (long long)run_id);
        rc = VG_ENOENT;
    } else if (!may_approve(&r->pb->steps[i], who)) {
        snprintf(err, errsz, "%s is not an approver of step %s", who && who->name ? who->name : "?",
                 step_id);
        rc = VG_EDENIED;
    }
    char actor[160];
    snprintf(actor, sizeof(actor), "user:%s", who && who->name ? who->name : "?");
    if (rc == VG_OK) {
        decide(e, r, i, approve, actor, comment);
    }
    pthread_mutex_unlock(&e->mu);
    if (rc == VG_OK) {
        audit_decision(e, tenant, run_id, step_id, actor, approve, comment);
    }
    return rc;
}

int vg_respond_cancel(struct vg_respond *e, const char *tenant, int64_t run_id, const char *actor,
                      char *err, size_t errsz)
{
    pthread_mutex_lock(&e->mu);
    struct vg_re_run *r = vg_re_run_find(e, run_id);
    int rc = VG_OK;
    if (!r || strcmp(r->tenant, tenant) != 0) {
        snprintf(err, errsz, "no unfinished run r-%lld", (long long)run_id);
        rc = VG_ENOENT;
    } else if (r->status != VG_RE_RUN_RUNNING) {
        snprintf(err, errsz, "run r-%lld already ended (%s)", (long long)run_id,
                 vg_re_run_status_name(r->status));
        rc = VG_EINVAL;
    } else {
        char why[200];
        snprintf(why, sizeof(why), "cancelled by %s", actor ? actor : "?");
        vg_re_run_end(e, r, VG_RE_RUN_CANCELLED, why);
    }
    pthread_mutex_unlock(&e->mu);
    if (rc == VG_OK && e->svc->audit) {
        char obj[32], aerr[128];
        snprintf(obj, sizeof(obj), "run:%lld", (long long)run_id);
        struct vg_audit_rec rec = {tenant, actor ? actor : "system", "run.cancel", obj, NULL};
        vg_audit_append(e->svc->audit, &rec, NULL, aerr, sizeof(aerr));
    }
    return rc;
}
