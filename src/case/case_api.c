/*
 * case_api.c — the REST endpoints of cases on the api module's framework:
 *
 *   GET   /api/v1/cases                  status, assignee, severity, tag, before, limit (read)
 *   POST  /api/v1/cases                  create                                   (analyst)
 *   GET   /api/v1/cases/{id}             the case with its links                  (read)
 *   PATCH /api/v1/cases/{id}             update / close                           (analyst)
 *   POST  /api/v1/cases/{id}/alerts      {"alert_ids":[..],"incident_ids":[..]}    (analyst)
 *   GET   /api/v1/cases/{id}/observables                                          (read)
 *   POST  /api/v1/cases/{id}/observables                                          (analyst)
 *   GET   /api/v1/cases/{id}/tasks                                                (read)
 *   POST  /api/v1/cases/{id}/tasks                                                (analyst)
 *   PATCH /api/v1/cases/tasks/{id}                                                (analyst)
 *   POST  /api/v1/cases/{id}/comments    {"text":"markdown"}                       (analyst)
 *   GET   /api/v1/cases/{id}/timeline                                             (read)
 *   GET   /api/v1/cases/{id}/report      format=markdown|html                     (read)
 *   POST  /api/v1/cases/{id}/merge       {"from":ID}                              (analyst)
 *
 * Every call is confined to req->tenant; the actor is "user:<name>" or "token:<name>". An
 * Idempotency-Key header makes a change idempotent (op key "http:<key>").
 */
#include "case/case_int.h"

#include "api/api.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- request helpers */

static int reply_fail(struct vg_api_resp *resp, int rc, const char *err)
{
    switch (rc) {
    case VG_EINVAL:
        vg_api_resp_error(resp, 400, "bad_request", "%s", err);
        return VG_OK;
    case VG_ENOENT:
        vg_api_resp_error(resp, 404, "not_found", "%s", err);
        return VG_OK;
    case VG_EUNSUPPORTED:
        vg_api_resp_error(resp, 501, "unsupported", "%s", err);
        return VG_OK;
    default:
        VG_WARN("case", "%s", err);
        return rc; /* the framework answers 500 / 503 */
    }
}

static void op_of(const struct vg_api_req *req, struct vg_case_op *op)
{
    const char *key = vg_api_header(req, "Idempotency-Key");
    bool token = req->who.kind == VG_API_AUTH_TOKEN;
    op->tenant = req->tenant;
    op->actor = vg_arena_printf(req->arena, "%s:%s", token ? "token" : "user", req->who.name);
    op->op_key = key && *key ? vg_arena_printf(req->arena, "http:%.200s", key) : NULL;
}

static int path_id(const struct vg_api_req *req, struct vg_api_resp *resp, int64_t *id)
{
    const char *p = req->param ? req->param : "";
    if (vg_parse_i64(p, strlen(p), id) != VG_OK || *id <= 0) {
        vg_api_resp_error(resp, 404, "not_found", "cases: '%.32s' is not a case id", p);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int body_json(const struct vg_api_req *req, struct vg_api_resp *resp, struct vg_json **out)
{
    char err[256];
    int rc = case_json_parse(req->body, req->body_len, req->arena, out, err, sizeof(err));
    if (rc == VG_OK && (*out)->type != VG_JSON_OBJECT) {
        snprintf(err, sizeof(err), "the body must be a JSON object");
        rc = VG_EINVAL;
    }
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request", "cases: %s", err);
    }
    return rc;
}

/* Reply with the JSON that fn appends (get, list, observables...). */
static int reply_json(struct vg_api_resp *resp, int rc, const char *err)
{
    return rc == VG_OK ? VG_OK : reply_fail(resp, rc, err);
}

/* ---------------------------------------------------------------- cases */

static int int_query(const struct vg_api_req *req, const char *key, int64_t lo, int64_t hi,
                     int64_t *out, struct vg_api_resp *resp)
{
    const char *v = vg_api_query(req, key);
    if (!v || !*v) {
        return VG_OK;
    }
    if (vg_parse_i64(v, strlen(v), out) != VG_OK || *out < lo || *out > hi) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "cases: %s: expected an integer in [%" PRId64 ", %" PRId64 "]", key, lo,
                          hi);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int list_filter(const struct vg_api_req *req, struct vg_api_resp *resp,
                       struct vg_case_filter *f)
{
    const char *status = vg_api_query(req, "status"), *sev = vg_api_query(req, "severity");
    int64_t before = 0, limit = 0;
    memset(f, 0, sizeof(*f));
    if (status && *status && vg_case_status_parse(status, &f->status) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "cases: status: expected new|in_progress|resolved");
        return VG_EINVAL;
    }
    if (sev && *sev && vg_case_severity_parse(sev, &f->severity) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "cases: severity: expected 1-4 or low|medium|high|critical");
        return VG_EINVAL;
    }
    if (int_query(req, "before", 1, INT64_MAX, &before, resp) != VG_OK ||
        int_query(req, "limit", 1, 500, &limit, resp) != VG_OK) {
        return VG_EINVAL;
    }
    f->assignee = vg_api_query(req, "assignee");
    f->tag = vg_api_query(req, "tag");
    f->before_id = before;
    f->limit = (size_t)limit;
    return VG_OK;
}

static int h_list(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_case_filter f;
    char err[256];
    if (list_filter(req, resp, &f) != VG_OK) {
        return VG_OK;
    }
    return reply_json(resp, vg_case_list(ctx, req->tenant, &f, &resp->body, err, sizeof(err)), err);
}

static int h_create(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_new c;
    struct vg_case_op op;
    char err[256];
    int64_t id = 0;
    if (body_json(req, resp, &in) != VG_OK) {
        return VG_OK;
    }
    op_of(req, &op);
    int rc = vg_case_parse_new(in, req->arena, &c, err, sizeof(err));
    rc = rc ? rc : vg_case_create(ctx, &op, &c, &id, err, sizeof(err));
    if (rc != VG_OK) {
        return reply_fail(resp, rc, err);
    }
    resp->status = 201;
    vg_sbuf_printf(&resp->body, "{\"id\":%" PRId64 "}", id);
    return VG_OK;
}

static int h_get(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    char err[256];
    int64_t id = 0;
    if (path_id(req, resp, &id) != VG_OK) {
        return VG_OK;
    }
    return reply_json(resp, vg_case_get(ctx, req->tenant, id, &resp->body, err, sizeof(err)), err);
}

static int h_update(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_update u;
    struct vg_case_op op;
    char err[256];
    int64_t id = 0;
    if (path_id(req, resp, &id) != VG_OK || body_json(req, resp, &in) != VG_OK) {
        return VG_OK;
    }
    op_of(req, &op);
    int rc = vg_case_parse_update(in, req->arena, &u, err, sizeof(err));
    rc = rc ? rc : vg_case_update(ctx, &op, id, &u, err, sizeof(err));
    rc = rc ? rc : vg_case_get(ctx, req->tenant, id, &resp->body, err, sizeof(err));
    return reply_json(resp, rc, err);
}

/* ---------------------------------------------------------------- alerts */

static int id_array(const struct vg_json *in, const char *field, struct vg_arena *a, int64_t **ids,
                    size_t *n, struct vg_api_resp *resp)
{
    const struct vg_json *v = vg_json_get(in, field);
    *ids = NULL;
    *n = 0;
    if (!v || v->type == VG_JSON_NULL) {
        return VG_OK;
    }
    if (v->type != VG_JSON_ARRAY || v->n > 1000) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "cases: field '%s': expected an array of at most 1000 ids", field);
        return VG_EINVAL;
    }
    *ids = vg_arena_alloc(a, sizeof(int64_t) * (v->n ? v->n : 1));
    for (uint32_t i = 0; *ids && i < v->n; i++) {
        const struct vg_json *x = &v->u.items[i];
        if (x->type != VG_JSON_NUMBER || !x->is_int || x->u.i <= 0) {
            vg_api_resp_error(resp, 400, "bad_request",
                              "cases: field '%s': item %u: expected a positive integer", field, i);
            return VG_EINVAL;
        }
        (*ids)[(*n)++] = x->u.i;
    }
    return *ids ? VG_OK : VG_ENOMEM;
}

static int link_fields_known(const struct vg_json *in, struct vg_api_resp *resp)
{
    for (uint32_t i = 0; i < in->n; i++) {
        const struct vg_json *k = &in->u.items[2 * i];
        bool ok = (k->n == 9 && !memcmp(k->s, "alert_ids", 9)) ||
                  (k->n == 12 && !memcmp(k->s, "incident_ids", 12));
        if (!ok) {
            vg_api_resp_error(resp, 400, "bad_request", "cases: field '%.*s': unknown field",
                              (int)VG_MIN(k->n, 64), k->s);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

static int h_link(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_link_result res;
    struct vg_case_op op;
    int64_t *alerts = NULL, *incs = NULL, id = 0;
    size_t na = 0, ni = 0;
    char err[256];
    if (path_id(req, resp, &id) != VG_OK || body_json(req, resp, &in) != VG_OK ||
        link_fields_known(in, resp) != VG_OK ||
        id_array(in, "alert_ids", req->arena, &alerts, &na, resp) != VG_OK ||
        id_array(in, "incident_ids", req->arena, &incs, &ni, resp) != VG_OK) {
        return resp->status >= 400 ? VG_OK : VG_ENOMEM;
    }
    op_of(req, &op);
    int rc = vg_case_link(ctx, &op, id, alerts, na, incs, ni, &res, err, sizeof(err));
    if (rc != VG_OK) {
        return reply_fail(resp, rc, err);
    }
    vg_sbuf_printf(&resp->body,
                   "{\"alerts_linked\":%zu,\"incidents_linked\":%zu,\"observables_added\":%zu}",
                   res.alerts_linked, res.incidents_linked, res.observables_added);
    return VG_OK;
}

/* ---------------------------------------------------------------- observables, tasks */

/* A case's listing (observables, tasks, timeline): fn's JSON for the path's case id. */
static int reply_list(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp,
                      int (*fn)(struct vg_case_db *db, const char *tenant, int64_t id,
                                struct vg_sbuf *out, char *err, size_t errsz))
{
    char err[256];
    int64_t id = 0;
    if (path_id(req, resp, &id) != VG_OK) {
        return VG_OK;
    }
    return reply_json(resp, fn(ctx, req->tenant, id, &resp->body, err, sizeof(err)), err);
}

static int h_obs_list(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return reply_list(ctx, req, resp, vg_case_observables_json);
}

static int h_obs_add(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_observable o;
    struct vg_case_op op;
    char err[256];
    int64_t id = 0, oid = 0;
    bool added = false;
    if (path_id(req, resp, &id) != VG_OK || body_json(req, resp, &in) != VG_OK) {
        return VG_OK;
    }
    op_of(req, &op);
    int rc = vg_case_parse_observable(in, req->arena, &o, err, sizeof(err));
    rc = rc ? rc : vg_case_observable_add(ctx, &op, id, &o, &oid, &added, err, sizeof(err));
    if (rc != VG_OK) {
        return reply_fail(resp, rc, err);
    }
    resp->status = added ? 201 : 200;
    vg_sbuf_printf(&resp->body, "{\"id\":%" PRId64 ",\"added\":%s}", oid, added ? "true" : "false");
    return VG_OK;
}

static int h_task_list(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return reply_list(ctx, req, resp, vg_case_tasks_json);
}

static int h_task_add(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_task t;
    struct vg_case_op op;
    char err[256];
    int64_t id = 0, tid = 0;
    if (path_id(req, resp, &id) != VG_OK || body_json(req, resp, &in) != VG_OK) {
        return VG_OK;
    }
    op_of(req, &op);
    int rc = vg_case_parse_task(in, req->arena, &t, err, sizeof(err));
    rc = rc ? rc : vg_case_task_add(ctx, &op, id, &t, &tid, err, sizeof(err));
    if (rc != VG_OK) {
        return reply_fail(resp, rc, err);
    }
    resp->status = 201;
    vg_sbuf_printf(&resp->body, "{\"id\":%" PRId64 "}", tid);
    return VG_OK;
}

static int h_task_update(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_task t;
    struct vg_case_op op;
    char err[256];
    int64_t tid = 0, cid = 0;
    const char *p = req->param ? req->param : "";
    if (vg_parse_i64(p, strlen(p), &tid) != VG_OK || tid <= 0) {
        vg_api_resp_error(resp, 404, "not_found", "cases: '%.32s' is not a task id", p);
        return VG_OK;
    }
    if (body_json(req, resp, &in) != VG_OK) {
        return VG_OK;
    }
    op_of(req, &op);
    int rc = vg_case_parse_task(in, req->arena, &t, err, sizeof(err));
    rc = rc ? rc : vg_case_task_update(ctx, &op, tid, &t, &cid, err, sizeof(err));
    if (rc != VG_OK) {
        return reply_fail(resp, rc, err);
    }
    vg_sbuf_printf(&resp->body, "{\"id\":%" PRId64 ",\"case_id\":%" PRId64 "}", tid, cid);
    return VG_OK;
}

/* ---------------------------------------------------------------- comments, timeline */

static int h_comment(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_op op;
    char err[256];
    int64_t id = 0, cid = 0;
    if (path_id(req, resp, &id) != VG_OK || body_json(req, resp, &in) != VG_OK) {
        return VG_OK;
    }
    const struct vg_json *t = vg_json_get(in, "text");
    if (!t || t->type != VG_JSON_STRING || in->n != 1 || memchr(t->s, '\0', t->n)) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "cases: field 'text': expected {\"text\": \"markdown\"}");
        return VG_OK;
    }
    op_of(req, &op);
    const char *text = vg_arena_strndup(req->arena, t->s, t->n);
    int rc = text ? vg_case_comment_add(ctx, &op, id, text, &cid, err, sizeof(err)) : VG_ENOMEM;
    if (rc != VG_OK) {
        return reply_fail(resp, rc, err);
    }
    resp->status = 201;
    vg_sbuf_printf(&resp->body, "{\"id\":%" PRId64 "}", cid);
    return VG_OK;
}

static int h_timeline(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return reply_list(ctx, req, resp, vg_case_timeline_json);
}

static int h_report(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    char err[256];
    int64_t id = 0;
    const char *fmt = vg_api_query(req, "format");
    fmt = fmt && *fmt ? fmt : "markdown";
    if (path_id(req, resp, &id) != VG_OK) {
        return VG_OK;
    }
    int rc = vg_case_report(ctx, req->tenant, id, fmt, &resp->body, err, sizeof(err));
    if (rc != VG_OK) {
        vg_sbuf_reset(&resp->body);
        return reply_fail(resp, rc, err);
    }
    bool html = !strcmp(fmt, "html");
    resp->content_type = html ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8";
    vg_api_resp_header(resp, "Content-Security-Policy",
                       "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                       "form-action 'none'; frame-ancestors 'none'");
    return VG_OK;
}

static int h_merge(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_json *in = NULL;
    struct vg_case_op op;
    char err[256];
    int64_t id = 0;
    if (path_id(req, resp, &id) != VG_OK || body_json(req, resp, &in) != VG_OK) {
        return VG_OK;
    }
    const struct vg_json *f = vg_json_get(in, "from");
    if (!f || f->type != VG_JSON_NUMBER || !f->is_int || f->u.i <= 0 || in->n != 1) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "cases: field 'from': expected {\"from\": case id}");
        return VG_OK;
    }
    op_of(req, &op);
    int rc = vg_case_merge(ctx, &op, id, f->u.i, err, sizeof(err));
    rc = rc ? rc : vg_case_get(ctx, req->tenant, id, &resp->body, err, sizeof(err));
    return reply_json(resp, rc, err);
}

/* ---------------------------------------------------------------- registration */

static const struct {
    const char *method;
    const char *pattern;
    int role;
    vg_api_handler fn;
} routes[] = {
    {"GET", "/api/v1/cases", VG_API_ROLE_READ, h_list},
    {"POST", "/api/v1/cases", VG_API_ROLE_ANALYST, h_create},
    {"GET", "/api/v1/cases/{id}", VG_API_ROLE_READ, h_get},
    {"PATCH", "/api/v1/cases/{id}", VG_API_ROLE_ANALYST, h_update},
    {"POST", "/api/v1/cases/{id}/alerts", VG_API_ROLE_ANALYST, h_link},
    {"GET", "/api/v1/cases/{id}/observables", VG_API_ROLE_READ, h_obs_list},
    {"POST", "/api/v1/cases/{id}/observables", VG_API_ROLE_ANALYST, h_obs_add},
    {"GET", "/api/v1/cases/{id}/tasks", VG_API_ROLE_READ, h_task_list},
    {"POST", "/api/v1/cases/{id}/tasks", VG_API_ROLE_ANALYST, h_task_add},
    {"PATCH", "/api/v1/cases/tasks/{id}", VG_API_ROLE_ANALYST, h_task_update},
    {"POST", "/api/v1/cases/{id}/comments", VG_API_ROLE_ANALYST, h_comment},
    {"GET", "/api/v1/cases/{id}/timeline", VG_API_ROLE_READ, h_timeline},
    {"GET", "/api/v1/cases/{id}/report", VG_API_ROLE_READ, h_report},
    {"POST", "/api/v1/cases/{id}/merge", VG_API_ROLE_ANALYST, h_merge},
};

int vg_case_api_register(struct vg_case_db *db, struct vg_api *api)
{
    int rc = VG_OK;
    for (size_t i = 0; i < VG_ARRAY_LEN(routes) && rc == VG_OK; i++) {
        rc = vg_api_route(api, routes[i].method, routes[i].pattern, routes[i].role, routes[i].fn,
                          db);
    }
    return rc;
}
