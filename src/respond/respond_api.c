/*
 * respond_api.c — the REST routes of the playbook engine.
 *
 *   GET  /api/v1/playbooks                 read     loaded playbooks + files that failed
 *   GET  /api/v1/playbooks/{id}            read     one playbook with its source text
 *   POST /api/v1/playbooks/{id}/run        analyst  manual run; body = context JSON
 *   POST /api/v1/playbooks/validate        admin    body = YAML text → {valid, errors}
 *   GET  /api/v1/runs                      read     ?status=&playbook=&before=&limit=
 *   GET  /api/v1/runs/{id}                 read     run, steps (input/output/error/attempts)
 *   POST /api/v1/runs/{id}/approve|deny    analyst  {"step":"..","comment":".."}; 403 when
 *                                                   the principal is not an approver
 *   POST /api/v1/runs/{id}/cancel          analyst
 *   GET  /api/v1/approvals                 read     ?status=pending
 *
 * Runs and approvals are scoped to req->tenant; run ids are "r-42" (or 42).
 */
#include <string.h>

#include "api/api.h"
#include "respond/respond_int.h"

static int run_id_param(const struct vg_api_req *req, struct vg_api_resp *resp, int64_t *id)
{
    const char *p = req->param ? req->param : "";
    if (p[0] == 'r' && p[1] == '-') {
        p += 2;
    }
    if (vg_parse_i64(p, strlen(p), id) != VG_OK || *id <= 0) {
        vg_api_resp_error(resp, 400, "bad_request", "run id: expected r-<number>, got '%.40s'",
                          req->param ? req->param : "");
        return VG_EINVAL;
    }
    return VG_OK;
}

static void actor_of(const struct vg_api_req *req, char *buf, size_t n)
{
    snprintf(buf, n, "%s:%s", req->who.kind == VG_API_AUTH_TOKEN ? "token" : "user",
             req->who.name ? req->who.name : "?");
}

static int h_playbooks(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(req);
    return vg_respond_playbooks_json(ctx, &resp->body);
}

static int h_playbook(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    if (vg_respond_playbook_json(ctx, req->param ? req->param : "", &resp->body) != VG_OK) {
        vg_api_resp_error(resp, 404, "not_found", "no playbook '%.64s'",
                          req->param ? req->param : "");
        return VG_ENOENT;
    }
    return VG_OK;
}

static int h_playbook_run(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    char actor[160], err[512] = "";
    int64_t rid = 0;
    actor_of(req, actor, sizeof(actor));
    const char *body = req->body_len ? req->body : "{}";
    int rc = vg_respond_run_manual(ctx, req->param ? req->param : "", req->tenant, body, actor,
                                   &rid, err, sizeof(err));
    if (rc != VG_OK) {
        vg_api_resp_error(resp,
                          rc == VG_ENOENT   ? 404
                          : rc == VG_EINVAL ? 400
                                            : 500,
                          rc == VG_ENOENT ? "not_found" : "run_failed", "%s", err);
        return rc;
    }
    resp->status = 201;
    vg_sbuf_printf(&resp->body, "{\"run\":\"r-%lld\",\"status\":\"running\"}", (long long)rid);
    return VG_OK;
}

static int h_validate(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(ctx);
    struct vg_playbook *pb = NULL;
    char err[512] = "";
    const char *file = vg_api_query(req, "file");
    int rc = vg_playbook_parse(file && *file ? file : "playbook.yml", req->body, req->body_len, &pb,
                               err, sizeof(err));
    vg_sbuf_printf(&resp->body, "{\"valid\":%s,\"errors\":[", rc == VG_OK ? "true" : "false");
    if (rc != VG_OK) {
        vg_sbuf_add_json_str(&resp->body, err, strlen(err));
    }
    vg_sbuf_adds(&resp->body, "]");
    if (pb) {
        vg_sbuf_adds(&resp->body, ",\"id\":");
        vg_sbuf_add_json_str(&resp->body, pb->id, strlen(pb->id));
        vg_sbuf_printf(&resp->body, ",\"steps\":%zu", pb->nsteps);
    }
    vg_sbuf_addc(&resp->body, '}');
    vg_playbook_unref(pb);
    return VG_OK;
}

static int h_runs(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_respond_run_filter f = {vg_api_query(req, "status"), vg_api_query(req, "playbook"), 0,
                                      100};
    const char *before = vg_api_query(req, "before"), *limit = vg_api_query(req, "limit");
    int64_t v;
    if (before && *before) {
        const char *b = before[0] == 'r' && before[1] == '-' ? before + 2 : before;
        if (vg_parse_i64(b, strlen(b), &f.before_id) != VG_OK || f.before_id < 0) {
            vg_api_resp_error(resp, 400, "bad_request", "before: expected a run id");
            return VG_EINVAL;
        }
    }
    if (limit && *limit) {
        if (vg_parse_i64(limit, strlen(limit), &v) != VG_OK || v < 1 || v > 1000) {
            vg_api_resp_error(resp, 400, "bad_request", "limit: expected an integer 1-1000");
            return VG_EINVAL;
        }
        f.limit = (size_t)v;
    }
    if (vg_respond_runs_json(ctx, req->tenant, &f, &resp->body) != VG_OK) {
        vg_api_resp_error(resp, 500, "internal", "cannot read runs");
        return VG_EIO;
    }
    return VG_OK;
}

static int h_run(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    int64_t id;
    if (run_id_param(req, resp, &id) != VG_OK) {
        return VG_EINVAL;
    }
    int rc = vg_respond_run_json(ctx, req->tenant, id, &resp->body);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, rc == VG_ENOENT ? 404 : 500, "not_found", "no run r-%lld",
                          (long long)id);
    }
    return rc;
}

/* {"step":"..","comment":".."} */
static int decision_body(const struct vg_api_req *req, struct vg_api_resp *resp, const char **step,
                         const char **comment)
{
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *doc = NULL;
    size_t used;
    char err[128];
    int rc =
        jp ? vg_json_parse(jp, req->arena, req->body, req->body_len, &used, &doc, err, sizeof(err))
           : VG_ENOMEM;
    vg_json_parser_destroy(jp);
    const struct vg_json *s = rc == VG_OK ? vg_json_get(doc, "step") : NULL;
    const struct vg_json *c = rc == VG_OK ? vg_json_get(doc, "comment") : NULL;
    if (rc != VG_OK || !s || s->type != VG_JSON_STRING ||
        (c && c->type != VG_JSON_STRING && c->type != VG_JSON_NULL)) {
        vg_api_resp_error(resp, 400, "bad_request",
                          rc != VG_OK ? "body: not valid JSON (%s)"
                                      : "body: expected {\"step\":\"<approval step id>\", "
                                        "\"comment\":\"...\"}%s",
                          rc != VG_OK ? err : "");
        return VG_EINVAL;
    }
    *step = vg_arena_strndup(req->arena, s->s, s->n);
    *comment = c && c->type == VG_JSON_STRING ? vg_arena_strndup(req->arena, c->s, c->n) : NULL;
    return *step ? VG_OK : VG_ENOMEM;
}

static int decide(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp, bool approve)
{
    int64_t id;
    const char *step, *comment;
    char err[256] = "";
    if (run_id_param(req, resp, &id) != VG_OK ||
        decision_body(req, resp, &step, &comment) != VG_OK) {
        return VG_EINVAL;
    }
    struct vg_respond_principal who = {req->who.name, req->who.role};
    int rc =
        vg_respond_approve(ctx, req->tenant, id, step, &who, approve, comment, err, sizeof(err));
    if (rc == VG_EDENIED) {
        vg_api_resp_error(resp, 403, "forbidden", "%s", err);
    } else if (rc != VG_OK) {
        vg_api_resp_error(resp, rc == VG_ENOENT ? 404 : 500, "not_found", "%s", err);
    } else {
        vg_sbuf_printf(&resp->body, "{\"run\":\"r-%lld\",\"step\":", (long long)id);
        vg_sbuf_add_json_str(&resp->body, step, strlen(step));
        vg_sbuf_printf(&resp->body, ",\"decision\":\"%s\"}", approve ? "approved" : "denied");
    }
    return rc;
}

static int h_approve(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return decide(ctx, req, resp, true);
}

static int h_deny(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return decide(ctx, req, resp, false);
}

static int h_cancel(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    int64_t id;
    char actor[160], err[256] = "";
    if (run_id_param(req, resp, &id) != VG_OK) {
        return VG_EINVAL;
    }
    actor_of(req, actor, sizeof(actor));
    int rc = vg_respond_cancel(ctx, req->tenant, id, actor, err, sizeof(err));
    if (rc != VG_OK) {
        vg_api_resp_error(resp, rc == VG_ENOENT ? 404 : 409,
                          rc == VG_ENOENT ? "not_found" : "conflict", "%s", err);
        return rc;
    }
    vg_sbuf_printf(&resp->body, "{\"run\":\"r-%lld\",\"status\":\"cancelled\"}", (long long)id);
    return VG_OK;
}

static int h_approvals(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *status = vg_api_query(req, "status");
    if (vg_respond_approvals_json(ctx, req->tenant, status && *status ? status : NULL,
                                  &resp->body) != VG_OK) {
        vg_api_resp_error(resp, 500, "internal", "cannot read approvals");
        return VG_EIO;
    }
    return VG_OK;
}

int vg_respond_api_register(struct vg_respond *e, struct vg_api *api)
{
    static const struct {
        const char *method, *pattern;
        int role;
        vg_api_handler fn;
    } routes[] = {
        {"GET", "/api/v1/playbooks", VG_API_ROLE_READ, h_playbooks},
        {"POST", "/api/v1/playbooks/validate", VG_API_ROLE_ADMIN, h_validate},
        {"GET", "/api/v1/playbooks/{id}", VG_API_ROLE_READ, h_playbook},
        {"POST", "/api/v1/playbooks/{id}/run", VG_API_ROLE_ANALYST, h_playbook_run},
        {"GET", "/api/v1/runs", VG_API_ROLE_READ, h_runs},
        {"GET", "/api/v1/runs/{id}", VG_API_ROLE_READ, h_run},
        {"POST", "/api/v1/runs/{id}/approve", VG_API_ROLE_ANALYST, h_approve},
        {"POST", "/api/v1/runs/{id}/deny", VG_API_ROLE_ANALYST, h_deny},
        {"POST", "/api/v1/runs/{id}/cancel", VG_API_ROLE_ANALYST, h_cancel},
        {"GET", "/api/v1/approvals", VG_API_ROLE_READ, h_approvals},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(routes); i++) {
        int rc =
            vg_api_route(api, routes[i].method, routes[i].pattern, routes[i].role, routes[i].fn, e);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}
