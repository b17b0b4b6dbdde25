/*
 * respond_act_case.c — the case.* actions: create a case, comment, add an observable or a
 * task, change status/verdict, link alerts. Each calls the case module (src/case/case.h)
 * with the run's tenant, actor = ctx->actor and op_key = ctx->idem_key, so a step re-run
 * after a crash returns the first call's ids and changes nothing (the case module audits
 * every change). The step's `with` holds case_id plus the fields the case module's JSON
 * readers take (vg_case_parse_*), whose errors name the field.
 */
#include "respond/respond_act_int.h"

#include "case/case.h"

#include <string.h>

#define CASE_LINK_MAX 1000

static int case_avail(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    if (!c->svc || !c->svc->cases) {
        return vg_act_fail(r, VG_EUNSUPPORTED, false, "cases are not available in this context");
    }
    return VG_OK;
}

/* Map a case-module status to the step result: database trouble may pass, bad input not. */
static int case_fail(int rc, const char *err, struct vg_action_result *r)
{
    bool retry = rc == VG_EIO || rc == VG_ENOSPC || rc == VG_ENOMEM;
    return vg_act_fail(r, rc, retry, "%s", err[0] ? err : vg_strerror(rc));
}

/*
 * The operation's idempotency key: the step's own (<run>/<step>), or the playbook's `key`
 * parameter — "ssh-bruteforce:203.0.113.5" makes every run for that source act on (and
 * return) the same case instead of opening one per alert.
 */
static struct vg_case_op case_op(const struct vg_action_ctx *c)
{
    const struct vg_json *k = c->input ? vg_json_get(c->input, "key") : NULL;
    const char *key = c->idem_key;
    if (k && k->type == VG_JSON_STRING && k->n > 0) {
        key = vg_arena_printf(c->arena, "playbook-key:%.*s", (int)VG_MIN(k->n, 512), k->s);
    }
    return (struct vg_case_op){c->tenant, c->actor, key ? key : c->idem_key};
}

/* The input without case_id and key (the case module's readers refuse unknown fields). */
static const struct vg_json *fields_of(const struct vg_action_ctx *c)
{
    const struct vg_json *in = c->input;
    struct vg_json *copy = vg_arena_calloc(c->arena, sizeof(*copy));
    if (!in || in->type != VG_JSON_OBJECT || !copy) {
        return in;
    }
    *copy = *in;
    copy->n = 0;
    copy->u.items = vg_arena_calloc(c->arena, (2 * (size_t)in->n + 1) * sizeof(*in));
    for (size_t i = 0; copy->u.items && i < in->n; i++) {
        if (!vg_json_str_is(&in->u.items[2 * i], "case_id") &&
            !vg_json_str_is(&in->u.items[2 * i], "key")) {
            copy->u.items[2 * copy->n] = in->u.items[2 * i];
            copy->u.items[2 * copy->n + 1] = in->u.items[2 * i + 1];
            copy->n++;
        }
    }
    return copy->u.items ? copy : NULL;
}

/* Common prologue: cases available, case_id read (when needed), dry run answered. */
static int case_begin(const struct vg_action_ctx *c, struct vg_action_result *r, bool need_id,
                      int64_t *id, bool *done)
{
    int rc;
    *done = false;
    /* a dry run has no case ids (earlier case steps only described themselves) */
    bool dry = c->svc && c->svc->dry_run;
    if (!dry && need_id && (rc = vg_act_int(c, r, "case_id", 0, 1, INT64_MAX, id)) != VG_OK) {
        return rc;
    }
    if (!dry && need_id && *id == 0) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter 'case_id' is required");
    }
    if (dry) {
        struct vg_sbuf w = VG_SBUF_INIT;
        if (c->input) {
            vg_json_write(c->input, &w);
        }
        *done = true;
        rc = vg_act_dry(r, "call the case module with %s", w.p ? w.p : "{}");
        vg_sbuf_fini(&w);
        return rc;
    }
    return case_avail(c, r);
}

/* ---------------------------------------------------------------- the actions */

static int create_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct vg_case_new n;
    struct vg_case_op op = case_op(c);
    char err[256] = "";
    int64_t id = 0;
    bool done;
    int rc = case_begin(c, r, false, &id, &done);
    if (rc != VG_OK || done) {
        return rc;
    }
    if ((rc = vg_case_parse_new(fields_of(c), c->arena, &n, err, sizeof(err))) != VG_OK ||
        (rc = vg_case_create(c->svc->cases, &op, &n, &id, err, sizeof(err))) != VG_OK) {
        return case_fail(rc, err, r);
    }
    vg_sbuf_printf(&r->output, "{\"case_id\":%lld}", (long long)id);
    return r->output.err;
}

static int comment_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct vg_case_op op = case_op(c);
    const char *text;
    char err[256] = "";
    int64_t id = 0, cid = 0;
    bool done;
    int rc = case_begin(c, r, true, &id, &done);
    if (rc != VG_OK || done || (rc = vg_act_str(c, r, "text", true, 1u << 20, &text)) != VG_OK) {
        return rc;
    }
    if ((rc = vg_case_comment_add(c->svc->cases, &op, id, text, &cid, err, sizeof(err))) != VG_OK) {
        return case_fail(rc, err, r);
    }
    vg_sbuf_printf(&r->output, "{\"case_id\":%lld,\"comment_id\":%lld}", (long long)id,
                   (long long)cid);
    return r->output.err;
}

static int observable_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct vg_case_observable o;
    struct vg_case_op op = case_op(c);
    char err[256] = "";
    int64_t id = 0, oid = 0;
    bool done, added = false;
    int rc = case_begin(c, r, true, &id, &done);
    if (rc != VG_OK || done) {
        return rc;
    }
    if ((rc = vg_case_parse_observable(fields_of(c), c->arena, &o, err, sizeof(err))) != VG_OK ||
        (rc = vg_case_observable_add(c->svc->cases, &op, id, &o, &oid, &added, err, sizeof(err))) !=
            VG_OK) {
        return case_fail(rc, err, r);
    }
    vg_sbuf_printf(&r->output, "{\"case_id\":%lld,\"observable_id\":%lld,\"added\":%s}",
                   (long long)id, (long long)oid, added ? "true" : "false");
    return r->output.err;
}

static int task_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct vg_case_task t;
    struct vg_case_op op = case_op(c);
    char err[256] = "";
    int64_t id = 0, tid = 0;
    bool done;
    int rc = case_begin(c, r, true, &id, &done);
    if (rc != VG_OK || done) {
        return rc;
    }
    if ((rc = vg_case_parse_task(fields_of(c), c->arena, &t, err, sizeof(err))) != VG_OK ||
        (rc = vg_case_task_add(c->svc->cases, &op, id, &t, &tid, err, sizeof(err))) != VG_OK) {
        return case_fail(rc, err, r);
    }
    vg_sbuf_printf(&r->output, "{\"case_id\":%lld,\"task_id\":%lld}", (long long)id,
                   (long long)tid);
    return r->output.err;
}

static int status_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct vg_case_update u;
    struct vg_case_op op = case_op(c);
    char err[256] = "";
    int64_t id = 0;
    bool done;
    int rc = case_begin(c, r, true, &id, &done);
    if (rc != VG_OK || done) {
        return rc;
    }
    if ((rc = vg_case_parse_update(fields_of(c), c->arena, &u, err, sizeof(err))) != VG_OK ||
        (rc = vg_case_update(c->svc->cases, &op, id, &u, err, sizeof(err))) != VG_OK) {
        return case_fail(rc, err, r);
    }
    vg_sbuf_printf(&r->output, "{\"case_id\":%lld,\"status\":\"%s\"}", (long long)id,
                   u.status ? vg_case_status_name(u.status) : "unchanged");
    return r->output.err;
}

/* A list of ids: JSON integers or strings holding one (templates render strings). */
static int ids_read(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
                    int64_t **out, size_t *n)
{
    const struct vg_json *v = vg_act_param(c, key);
    size_t cnt = !v ? 0 : v->type == VG_JSON_ARRAY ? v->n : 1;
    *out = NULL;
    *n = 0;
    if (cnt > CASE_LINK_MAX) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' has more than %d ids", key,
                           CASE_LINK_MAX);
    }
    int64_t *ids = vg_arena_calloc(c->arena, (cnt + 1) * sizeof(*ids));
    for (size_t i = 0; ids && i < cnt; i++) {
        const struct vg_json *it = v->type == VG_JSON_ARRAY ? &v->u.items[i] : v;
        bool ok = (it->type == VG_JSON_NUMBER && it->is_int && (ids[i] = it->u.i) > 0) ||
                  (it->type == VG_JSON_STRING && vg_parse_i64(it->s, it->n, &ids[i]) == VG_OK &&
                   ids[i] > 0);
        if (!ok) {
            return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' item %zu is not a positive id",
                               key, i);
        }
    }
    *out = ids;
    *n = cnt;
    return ids ? VG_OK : vg_act_fail(r, VG_ENOMEM, true, "out of memory");
}

static int link_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct vg_case_op op = case_op(c);
    struct vg_case_link_result res = {0};
    char err[256] = "";
    int64_t id = 0, *alerts, *incs;
    size_t na, ni;
    bool done;
    int rc = case_begin(c, r, true, &id, &done);
    if (rc != VG_OK || done || (rc = ids_read(c, r, "alerts", &alerts, &na)) != VG_OK ||
        (rc = ids_read(c, r, "incidents", &incs, &ni)) != VG_OK) {
        return rc;
    }
    if (na + ni == 0) {
        return vg_act_fail(r, VG_EINVAL, false, "give 'alerts' and/or 'incidents' to link");
    }
    if ((rc = vg_case_link(c->svc->cases, &op, id, alerts, na, incs, ni, &res, err, sizeof(err))) !=
        VG_OK) {
        return case_fail(rc, err, r);
    }
    vg_sbuf_printf(&r->output,
                   "{\"case_id\":%lld,\"alerts_linked\":%zu,\"incidents_linked\":%zu,"
                   "\"observables_added\":%zu}",
                   (long long)id, res.alerts_linked, res.incidents_linked, res.observables_added);
    return r->output.err;
}

/* ---------------------------------------------------------------- tables */

#define KEY_DESC                                                                                   \
    "idempotency key of your own (default: the step's): every run using the same key acts "        \
    "once and gets the same result, e.g. one case per attacking address"

static const struct vg_action_param create_params[] = {
    {"title", VG_ACTION_STRING, true, "case title (1-512 bytes)"},
    {"description", VG_ACTION_STRING, false, "markdown description"},
    {"severity", VG_ACTION_ANY, false, "1-4 or low | medium | high | critical (default medium)"},
    {"tlp", VG_ACTION_STRING, false, "clear | green | amber | amber+strict | red (default amber)"},
    {"pap", VG_ACTION_STRING, false, "clear | green | amber | red (default amber)"},
    {"tags", VG_ACTION_LIST, false, "tags"},
    {"custom", VG_ACTION_OBJECT, false, "custom fields"},
    {"assignee", VG_ACTION_STRING, false, "user name"},
    {"key", VG_ACTION_STRING, false, KEY_DESC},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param comment_params[] = {
    {"case_id", VG_ACTION_INT, true, "the case"},
    {"text", VG_ACTION_STRING, true, "markdown comment (up to 1 MiB)"},
    {"key", VG_ACTION_STRING, false, KEY_DESC},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param observable_params[] = {
    {"case_id", VG_ACTION_INT, true, "the case"},
    {"value", VG_ACTION_STRING, true, "the observable's value"},
    {"type", VG_ACTION_STRING, false,
     "ip | domain | fqdn | url | hash | mail | filename | user-agent | hostname | user | other "
     "(default: detected)"},
    {"ioc", VG_ACTION_BOOL, false, "is it an indicator of compromise (default: by type)"},
    {"sighted", VG_ACTION_BOOL, false, "seen in this environment"},
    {"tags", VG_ACTION_LIST, false, "tags"},
    {"message", VG_ACTION_STRING, false, "free text"},
    {"key", VG_ACTION_STRING, false, KEY_DESC},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param task_params[] = {
    {"case_id", VG_ACTION_INT, true, "the case"},
    {"title", VG_ACTION_STRING, true, "task title"},
    {"group", VG_ACTION_STRING, false, "task group (default \"default\")"},
    {"description", VG_ACTION_STRING, false, "what to do"},
    {"status", VG_ACTION_STRING, false, "waiting | in_progress | completed | cancelled"},
    {"assignee", VG_ACTION_STRING, false, "user name"},
    {"key", VG_ACTION_STRING, false, KEY_DESC},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param status_params[] = {
    {"case_id", VG_ACTION_INT, true, "the case"},
    {"status", VG_ACTION_STRING, false, "new | in_progress | resolved (resolved needs a verdict)"},
    {"verdict", VG_ACTION_STRING, false, "true_positive | false_positive | benign | duplicate"},
    {"summary", VG_ACTION_STRING, false, "closing summary"},
    {"severity", VG_ACTION_ANY, false, "new severity"},
    {"assignee", VG_ACTION_STRING, false, "new assignee (\"\" clears)"},
    {"tags", VG_ACTION_LIST, false, "replace the tags"},
    {"key", VG_ACTION_STRING, false, KEY_DESC},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param link_params[] = {
    {"case_id", VG_ACTION_INT, true, "the case"},
    {"alerts", VG_ACTION_ANY, false, "alert ids (list or one id) of the same tenant"},
    {"incidents", VG_ACTION_ANY, false, "incident ids (list or one id)"},
    {"key", VG_ACTION_STRING, false, KEY_DESC},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_case_create = {
    .name = "case.create",
    .description = "Open a case (idempotent per step); output {case_id}",
    .params = create_params,
    .run = create_run,
};
const struct vg_action_def vg_act_case_comment = {
    .name = "case.comment",
    .description = "Add a markdown comment to a case; output {case_id, comment_id}",
    .params = comment_params,
    .run = comment_run,
};
const struct vg_action_def vg_act_case_observable = {
    .name = "case.observable",
    .description = "Add an observable (IP, hash, domain ...) to a case; output {case_id, "
                   "observable_id, added}",
    .params = observable_params,
    .run = observable_run,
};
const struct vg_action_def vg_act_case_task = {
    .name = "case.task",
    .description = "Add a task to a case; output {case_id, task_id}",
    .params = task_params,
    .run = task_run,
};
const struct vg_action_def vg_act_case_status = {
    .name = "case.status",
    .description = "Change a case's status, verdict, severity, assignee or tags; output "
                   "{case_id, status}",
    .params = status_params,
    .run = status_run,
};
const struct vg_action_def vg_act_case_link_alerts = {
    .name = "case.link_alerts",
    .description = "Link alerts and incidents to a case (their entities become observables); "
                   "output {case_id, alerts_linked, incidents_linked, observables_added}",
    .params = link_params,
    .run = link_run,
};
