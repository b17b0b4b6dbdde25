/*
 * audit_api.c — the audit log over REST: GET /api/v1/audit lists records (newest first,
 * filtered by object and action prefix, paged with ?before=SEQ) and GET /api/v1/audit/verify
 * checks the whole chain. Both are admin-only: records carry the inputs of every change.
 */
#include "api/api.h"
#include "audit/audit.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct audit_out {
    struct vg_sbuf *b;
    size_t n;
    int64_t last;
};

static int audit_row(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *r,
                     const char *hash)
{
    struct audit_out *o = ctx;
    char t[40];
    vg_time_format(ts, t, sizeof(t));
    vg_sbuf_printf(o->b, "%s{\"seq\":%" PRId64 ",\"ts\":\"%s\",\"tenant\":", o->n++ ? "," : "", seq,
                   t);
    const char *keys[] = {"actor", "action", "object"};
    const char *vals[] = {r->actor, r->action, r->object};
    vg_sbuf_add_json_str(o->b, r->tenant, strlen(r->tenant));
    for (size_t i = 0; i < 3; i++) {
        vg_sbuf_printf(o->b, ",\"%s\":", keys[i]);
        vg_sbuf_add_json_str(o->b, vals[i], strlen(vals[i]));
    }
    vg_sbuf_printf(o->b, ",\"detail\":%s,\"hash\":\"%s\"}", r->detail, hash);
    o->last = seq;
    return VG_OK;
}

static int h_audit(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *lim = vg_api_query(req, "limit"), *before = vg_api_query(req, "before");
    int64_t limit = 100, bseq = 0;
    if ((lim && (vg_parse_i64(lim, strlen(lim), &limit) != VG_OK || limit < 1 || limit > 10000)) ||
        (before && vg_parse_i64(before, strlen(before), &bseq) != VG_OK)) {
        vg_api_resp_error(resp, 400, "bad_request", "limit: 1-10000; before: a record number");
        return VG_EINVAL;
    }
    struct audit_out out = {&resp->body, 0, 0};
    struct vg_audit_query q = {.tenant = req->tenant,
                               .object = vg_api_query(req, "object"),
                               .action_prefix = vg_api_query(req, "action"),
                               .before_seq = bseq,
                               .limit = (size_t)limit,
                               .on_rec = audit_row,
                               .ctx = &out};
    char err[512];
    vg_sbuf_adds(&resp->body, "{\"records\":[");
    int rc = vg_audit_query(ctx, &q, err, sizeof(err));
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 500, "audit_error", "%s", err);
        return rc;
    }
    vg_sbuf_adds(&resp->body, "]");
    if (out.n == (size_t)limit) {
        vg_sbuf_printf(&resp->body, ",\"next_before\":%" PRId64, out.last);
    }
    vg_sbuf_adds(&resp->body, "}");
    return VG_OK;
}

static int h_verify(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_audit_report rep;
    char err[512];
    int rc = vg_audit_verify(vg_audit_path(ctx), &rep, err, sizeof(err));
    if (rc != VG_OK && rc != VG_EINVAL) {
        vg_api_resp_error(resp, 500, "audit_error", "%s", err);
        return rc;
    }
    vg_sbuf_printf(&resp->body, "{\"intact\":%s,\"records\":%" PRId64,
                   rc == VG_OK ? "true" : "false", rep.records);
    if (rc != VG_OK) {
        vg_sbuf_printf(&resp->body, ",\"bad_seq\":%" PRId64 ",\"reason\":", rep.bad_seq);
        vg_sbuf_add_json_str(&resp->body, rep.reason, strlen(rep.reason));
    }
    vg_sbuf_adds(&resp->body, "}");
    return VG_OK;
}

int vg_audit_api_register(struct vg_audit *a, struct vg_api *api)
{
    int rc = vg_api_route(api, "GET", "/api/v1/audit", VG_API_ROLE_ADMIN, h_audit, a);
    return rc == VG_OK
               ? vg_api_route(api, "GET", "/api/v1/audit/verify", VG_API_ROLE_ADMIN, h_verify, a)
               : rc;
}
