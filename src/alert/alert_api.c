/*
 * alert_api.c — the triage REST endpoints (see vg_alert_api_register in alert.h). Every
 * handler works in req->tenant only, reads with VG_API_ROLE_READ and changes with
 * VG_API_ROLE_ANALYST; changes are audited with the actor "user:<name>" or "token:<name>".
 * Handlers run on the API's threads and take the engine's mutex for each access.
 */
#include "alert/alert_int.h"

#include "api/api.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>

#define LIST_MAX      1000
#define DETAIL_ALERTS 50

/* ---------------------------------------------------------------- helpers */

static const char *actor_of(const struct vg_api_req *req)
{
    const char *kind = req->who.kind == VG_API_AUTH_TOKEN ? "token" : "user";
    return vg_arena_printf(req->arena, "%s:%s", kind, req->who.name ? req->who.name : "");
}

static int fail(struct vg_api_resp *resp, int rc, const char *err)
{
    int status = rc == VG_EINVAL ? 400 : rc == VG_ENOENT ? 404 : rc == VG_EUNSUPPORTED ? 501 : 500;
    const char *code = rc == VG_EINVAL   ? "bad_request"
                       : rc == VG_ENOENT ? "not_found"
                                         : "triage_error";
    vg_api_resp_error(resp, status, code, "%s", err && *err ? err : vg_strerror(rc));
    return rc;
}

static int id_param(const struct vg_api_req *req, struct vg_api_resp *resp, int64_t *id)
{
    if (!req->param || vg_parse_i64(req->param, strlen(req->param), id) != VG_OK || *id <= 0) {
        vg_api_resp_error(resp, 400, "bad_request", "id: expected a positive integer");
        return VG_EINVAL;
    }
    return VG_OK;
}

static int body_object(const struct vg_api_req *req, struct vg_api_resp *resp,
                       const struct vg_json **out)
{
    struct vg_json_limits lim = {.max_depth = 8, .max_len = 1 << 20};
    struct vg_json_parser *p = vg_json_parser_create(&lim);
    struct vg_json *doc = NULL;
    char err[160];
    size_t used;
    int rc =
        p ? vg_json_parse(p, req->arena, req->body, req->body_len, &used, &doc, err, sizeof(err))
          : VG_ENOMEM;
    vg_json_parser_destroy(p);
    if (rc != VG_OK || doc->type != VG_JSON_OBJECT) {
        vg_api_resp_error(resp, 400, "bad_request", "body: %s",
                          rc == VG_EINVAL ? err : "expected a JSON object");
        return VG_EINVAL;
    }
    *out = doc;
    return VG_OK;
}

/* An optional string member, copied into the request arena. */
static int body_str(const struct vg_api_req *req, struct vg_api_resp *resp,
                    const struct vg_json *doc, const char *key, size_t max, const char **out)
{
    const struct vg_json *v = vg_json_get(doc, key);
    *out = NULL;
    if (!v || v->type == VG_JSON_NULL) {
        return VG_OK;
    }
    if (v->type != VG_JSON_STRING || v->n > max || memchr(v->s, '\0', v->n)) {
        vg_api_resp_error(resp, 400, "bad_request", "%s: expected a string of at most %zu bytes",
                          key, max);
        return VG_EINVAL;
    }
    *out = vg_arena_strndup(req->arena, v->s, v->n);
    return VG_OK;
}

static int body_known(const struct vg_json *doc, const char *const *keys, size_t n,
                      struct vg_api_resp *resp)
{
    for (uint32_t i = 0; i < doc->n; i++) {
        bool ok = false;
        for (size_t k = 0; k < n; k++) {
            ok = ok || vg_json_str_is(&doc->u.items[2 * i], keys[k]);
        }
        if (!ok) {
            vg_api_resp_error(resp, 400, "bad_request", "unknown field '%.*s'",
                              (int)VG_MIN(doc->u.items[2 * i].n, 64u), doc->u.items[2 * i].s);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s) {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* ---------------------------------------------------------------- incidents: list */

struct list_q {
    const char *status, *assignee, *q;
    double min_risk;
    bool has_cursor;
    double c_risk;
    int64_t c_seen, c_id;
    int64_t limit;
};

static int list_params(const struct vg_api_req *req, struct vg_api_resp *resp, struct list_q *l)
{
    const char *v;
    memset(l, 0, sizeof(*l));
    l->limit = 50;
    l->status = vg_api_query(req, "status");
    l->assignee = vg_api_query(req, "assignee");
    l->q = vg_api_query(req, "q");
    if (l->status && *l->status && tx_status_parse(l->status) < 0) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "status: expected open, acknowledged or closed");
        return VG_EINVAL;
    }
    if ((v = vg_api_query(req, "min_risk")) && *v &&
        vg_parse_double(v, strlen(v), &l->min_risk) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request", "min_risk: expected a number");
        return VG_EINVAL;
    }
    if ((v = vg_api_query(req, "limit")) && *v &&
        (vg_parse_i64(v, strlen(v), &l->limit) != VG_OK || l->limit < 1 || l->limit > LIST_MAX)) {
        vg_api_resp_error(resp, 400, "bad_request", "limit: expected an integer in [1, 1000]");
        return VG_EINVAL;
    }
    if ((v = vg_api_query(req, "before")) && *v) {
        char tail;
        if (sscanf(v, "%lf_%" SCNd64 "_%" SCNd64 "%c", &l->c_risk, &l->c_seen, &l->c_id, &tail) !=
            3) {
            vg_api_resp_error(resp, 400, "bad_request",
                              "before: expected the next_before of a page");
            return VG_EINVAL;
        }
        l->has_cursor = true;
    }
    return VG_OK;
}

static void list_bind(sqlite3_stmt *st, const struct vg_api_req *req, const struct list_q *l)
{
    sqlite3_bind_text(st, 1, req->tenant, -1, SQLITE_TRANSIENT);
    if (l->status && *l->status) {
        sqlite3_bind_int(st, 2, tx_status_parse(l->status));
    }
    sqlite3_bind_double(st, 3, l->min_risk);
    bind_opt(st, 4, l->assignee);
    bind_opt(st, 5, l->q);
    if (l->has_cursor) {
        sqlite3_bind_double(st, 6, l->c_risk);
        sqlite3_bind_int64(st, 7, l->c_seen);
        sqlite3_bind_int64(st, 8, l->c_id);
    }
    sqlite3_bind_int64(st, 9, l->limit);
}

static int list_rows(struct vg_triage *t, const struct vg_api_req *req, const struct list_q *l,
                     struct vg_sbuf *b)
{
    sqlite3_stmt *st = NULL;
    int64_t n = 0, rc = VG_OK;
    struct tx_incident *last = NULL;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT " TX_INCIDENT_COLS " FROM incidents WHERE tenant = ?1 AND"
                           " (?2 IS NULL OR status = ?2) AND risk >= ?3 AND (?4 IS NULL OR"
                           " assignee = ?4) AND (?5 IS NULL OR instr(lower(title), lower(?5)) > 0)"
                           " AND (?6 IS NULL OR (risk, last_seen, id) < (?6, ?7, ?8))"
                           " ORDER BY risk DESC, last_seen DESC, id DESC LIMIT ?9",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    list_bind(st, req, l);
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        tx_incident_free(last);
        rc = tx_incident_from_row(t, st, &last);
        if (rc == VG_OK) {
            vg_sbuf_adds(b, n++ ? "," : "");
            tx_incident_json(last, b);
        }
    }
    sqlite3_finalize(st);
    vg_sbuf_addc(b, ']');
    if (rc == VG_OK && last && n == l->limit) {
        vg_sbuf_printf(b, ",\"next_before\":\"%.17g_%" PRId64 "_%" PRId64 "\"", last->risk,
                       last->last_seen, last->id);
    }
    tx_incident_free(last);
    return (int)rc;
}

static int h_incidents(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_triage *t = ctx;
    struct list_q l;
    if (list_params(req, resp, &l) != VG_OK) {
        return VG_EINVAL;
    }
    vg_sbuf_adds(&resp->body, "{\"incidents\":[");
    int rc = VG_OK;
    tx_lock(t);
    if (t->db) {
        rc = list_rows(t, req, &l, &resp->body);
    } else {
        vg_sbuf_addc(&resp->body, ']');
    }
    tx_unlock(t);
    vg_sbuf_addc(&resp->body, '}');
    return rc == VG_OK ? VG_OK : fail(resp, rc, "listing incidents");
}

int vg_triage_incidents_json(struct vg_triage *t, const char *tenant, const char *status,
                             size_t limit, struct vg_sbuf *out)
{
    struct vg_api_req req = {.tenant = tenant};
    struct list_q l = {.status = status, .limit = limit ? (int64_t)limit : 100};
    int rc = VG_OK;
    vg_sbuf_adds(out, "{\"incidents\":[");
    tx_lock(t);
    if (t->db) {
        rc = list_rows(t, &req, &l, out);
    } else {
        vg_sbuf_addc(out, ']');
    }
    tx_unlock(t);
    vg_sbuf_addc(out, '}');
    return rc;
}

/* ---------------------------------------------------------------- incidents: one */

/* The incident's alerts in time order as a timeline; ids[] gets the newest few. */
static int timeline(struct vg_triage *t, int64_t id, struct vg_sbuf *b, int64_t *ids, size_t *nids)
{
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    *nids = 0;
    if (!t->db) {
        vg_sbuf_adds(b, "[]");
        return VG_OK;
    }
    if (sqlite3_prepare_v2(t->db,
                           "SELECT s.id, s.ts, s.rule_id, s.title, s.level, s.risk, s.verdict FROM"
                           " alert_state s WHERE s.incident_id = ? ORDER BY s.ts, s.id"
                           " LIMIT 5000",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, id);
    vg_sbuf_addc(b, '[');
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t aid = sqlite3_column_int64(st, 0);
        vg_sbuf_printf(b, "%s{\"alert_id\":%" PRId64, n++ ? "," : "", aid);
        tx_json_time(b, "time", sqlite3_column_int64(st, 1), true);
        vg_sbuf_adds(b, ",\"rule_id\":");
        tx_json_str(b, (const char *)sqlite3_column_text(st, 2));
        vg_sbuf_adds(b, ",\"title\":");
        tx_json_str(b, (const char *)sqlite3_column_text(st, 3));
        vg_sbuf_printf(b, ",\"level\":%d,\"risk\":%.1f,\"verdict\":", sqlite3_column_int(st, 4),
                       sqlite3_column_double(st, 5));
        tx_json_str(b, (const char *)sqlite3_column_text(st, 6));
        vg_sbuf_addc(b, '}');
        ids[*nids % DETAIL_ALERTS] = aid; /* a ring: the newest DETAIL_ALERTS stay */
        ++*nids;
    }
    vg_sbuf_addc(b, ']');
    sqlite3_finalize(st);
    *nids = VG_MIN(*nids, (size_t)DETAIL_ALERTS);
    return VG_OK;
}

static int alert_json_cb(void *ctx, const struct vg_store_alert *a)
{
    vg_store_alert_write_json(a, ctx);
    return VG_OK;
}

static void detail_alerts(struct vg_store *store, const char *tenant, const int64_t *ids, size_t n,
                          struct vg_sbuf *b)
{
    vg_sbuf_adds(b, ",\"alerts\":[");
    size_t k = 0;
    for (size_t i = 0; store && i < n; i++) {
        char err[256];
        size_t at = b->len;
        vg_sbuf_adds(b, k ? "," : "");
        size_t mark = b->len;
        struct vg_store_alert_query q = {.tenant = tenant,
                                         .from = VG_TIME_NONE,
                                         .to = VG_TIME_NONE,
                                         .id = ids[i],
                                         .limit = 1,
                                         .on_alert = alert_json_cb,
                                         .ctx = b};
        if (vg_store_alert_query(store, &q, err, sizeof(err)) != VG_OK || b->len == mark) {
            b->len = at; /* gone (retention): the timeline still lists it */
            if (b->p) {
                b->p[at] = '\0';
            }
            continue;
        }
        k++;
    }
    vg_sbuf_addc(b, ']');
}

static int h_incident(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_triage *t = ctx;
    int64_t id, ids[DETAIL_ALERTS];
    size_t nids = 0;
    if (id_param(req, resp, &id) != VG_OK) {
        return VG_EINVAL;
    }
    struct vg_sbuf *b = &resp->body;
    vg_sbuf_adds(b, "{\"incident\":");
    int rc = vg_triage_incident_json(t, req->tenant, id, b);
    if (rc != VG_OK) {
        return fail(resp, rc, "incident not found");
    }
    vg_sbuf_adds(b, ",\"timeline\":");
    tx_lock(t);
    rc = timeline(t, id, b, ids, &nids);
    struct vg_store *store = t->store;
    tx_unlock(t);
    if (rc != VG_OK) {
        return fail(resp, rc, "reading the timeline");
    }
    detail_alerts(store, req->tenant, ids, nids, b);
    vg_sbuf_addc(b, '}');
    return VG_OK;
}

static int h_incident_patch(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    static const char *const keys[] = {"status", "assignee", "verdict", "summary"};
    struct vg_triage *t = ctx;
    const struct vg_json *doc;
    const char *status, *assignee, *verdict_s, *summary;
    int64_t id;
    int verdict = VG_TRIAGE_VERDICT_NONE;
    char err[256];
    if (id_param(req, resp, &id) != VG_OK || body_object(req, resp, &doc) != VG_OK ||
        body_known(doc, keys, VG_ARRAY_LEN(keys), resp) != VG_OK ||
        body_str(req, resp, doc, "status", 32, &status) != VG_OK ||
        body_str(req, resp, doc, "assignee", 128, &assignee) != VG_OK ||
        body_str(req, resp, doc, "verdict", 32, &verdict_s) != VG_OK ||
        body_str(req, resp, doc, "summary", 8192, &summary) != VG_OK) {
        return VG_EINVAL;
    }
    if (verdict_s && vg_triage_verdict_parse(verdict_s, &verdict) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "verdict: expected true_positive, benign or false_positive");
        return VG_EINVAL;
    }
    int rc = vg_triage_incident_update(t, req->tenant, actor_of(req), id, status, assignee, verdict,
                                       summary, err, sizeof(err));
    if (rc != VG_OK) {
        return fail(resp, rc, err);
    }
    vg_sbuf_adds(&resp->body, "{\"incident\":");
    rc = vg_triage_incident_json(t, req->tenant, id, &resp->body);
    vg_sbuf_addc(&resp->body, '}');
    return rc == VG_OK ? VG_OK : fail(resp, rc, "incident not found");
}

/* ---------------------------------------------------------------- exceptions */

static int h_exceptions(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    vg_sbuf_adds(&resp->body, "{\"exceptions\":");
    int rc = vg_triage_exception_list(ctx, req->tenant, &resp->body);
    vg_sbuf_addc(&resp->body, '}');
    return rc;
}

static int backtest_answer(struct vg_triage *t, const struct vg_api_req *req, int days,
                           struct vg_api_resp *resp)
{
    struct vg_triage_backtest bt;
    char err[512];
    int rc = vg_triage_exception_backtest(t, req->tenant, req->body, req->body_len, days, &bt, err,
                                          sizeof(err));
    if (rc != VG_OK) {
        return fail(resp, rc, err);
    }
    tx_lock(t);
    days = days > 0 ? days : (int)t->o.backtest_days;
    tx_unlock(t);
    vg_sbuf_printf(&resp->body,
                   "{\"dry_run\":true,\"backtest\":{\"days\":%d,\"matched\":%" PRId64
                   ",\"scanned\":%" PRId64 ",\"samples\":[",
                   days, bt.matched, bt.scanned);
    for (size_t i = 0; i < bt.nsamples; i++) {
        vg_sbuf_printf(&resp->body, "%s%" PRId64, i ? "," : "", bt.samples[i]);
    }
    vg_sbuf_adds(&resp->body, "]}}");
    return VG_OK;
}

static int h_exception_post(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_triage *t = ctx;
    struct tx_exc *e = NULL;
    bool dry = false;
    int days = 0;
    int64_t id;
    char err[512];
    int rc =
        tx_exc_parse(req->body, req->body_len, vg_time_now(), &e, &dry, &days, err, sizeof(err));
    tx_exc_free(e);
    if (rc != VG_OK) {
        return fail(resp, rc, err);
    }
    if (dry) {
        return backtest_answer(t, req, days, resp);
    }
    rc = vg_triage_exception_add(t, req->tenant, actor_of(req), req->body, req->body_len, &id, err,
                                 sizeof(err));
    if (rc != VG_OK) {
        return fail(resp, rc, err);
    }
    resp->status = 201;
    vg_sbuf_printf(&resp->body, "{\"id\":%" PRId64 "}", id);
    return VG_OK;
}

static int h_backtest(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct tx_exc *e = NULL;
    int days = 0;
    char err[512];
    int rc =
        tx_exc_parse(req->body, req->body_len, vg_time_now(), &e, NULL, &days, err, sizeof(err));
    tx_exc_free(e);
    return rc == VG_OK ? backtest_answer(ctx, req, days, resp) : fail(resp, rc, err);
}

static int h_exception_delete(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    int64_t id;
    char err[256];
    if (id_param(req, resp, &id) != VG_OK) {
        return VG_EINVAL;
    }
    int rc = vg_triage_exception_delete(ctx, req->tenant, actor_of(req), id, err, sizeof(err));
    if (rc != VG_OK) {
        return fail(resp, rc, err);
    }
    vg_sbuf_printf(&resp->body, "{\"deleted\":%" PRId64 "}", id);
    return VG_OK;
}

/* ---------------------------------------------------------------- alerts */

static int h_verdict(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    static const char *const keys[] = {"verdict", "comment"};
    const struct vg_json *doc;
    const char *verdict_s, *comment;
    int64_t id;
    int verdict;
    char err[256];
    if (id_param(req, resp, &id) != VG_OK || body_object(req, resp, &doc) != VG_OK ||
        body_known(doc, keys, VG_ARRAY_LEN(keys), resp) != VG_OK ||
        body_str(req, resp, doc, "verdict", 32, &verdict_s) != VG_OK ||
        body_str(req, resp, doc, "comment", 8192, &comment) != VG_OK) {
        return VG_EINVAL;
    }
    if (vg_triage_verdict_parse(verdict_s, &verdict) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "verdict: required, one of true_positive, benign, false_positive");
        return VG_EINVAL;
    }
    int rc = vg_triage_verdict_set(ctx, req->tenant, actor_of(req), id, verdict, comment, err,
                                   sizeof(err));
    if (rc != VG_OK) {
        return fail(resp, rc, err);
    }
    vg_sbuf_printf(&resp->body, "{\"alert_id\":%" PRId64 ",\"verdict\":\"%s\"}", id,
                   vg_triage_verdict_name(verdict));
    return VG_OK;
}

static void json_opt_str(struct vg_sbuf *b, const char *key, const char *s)
{
    vg_sbuf_printf(b, ",\"%s\":", key);
    tx_json_str(b, *s ? s : NULL);
}

static void json_opt_id(struct vg_sbuf *b, const char *key, int64_t id)
{
    if (id) {
        vg_sbuf_printf(b, ",\"%s\":%" PRId64, key, id);
    } else {
        vg_sbuf_printf(b, ",\"%s\":null", key);
    }
}

static void triage_row_json(const struct tx_alert_row *r, struct vg_sbuf *b)
{
    char fp[17];
    tx_fp_hex(r->fp, fp);
    vg_sbuf_printf(b, "{\"alert_id\":%" PRId64 ",\"rule_id\":", r->id);
    tx_json_str(b, r->rule_id);
    vg_sbuf_printf(b, ",\"fingerprint\":\"%s\"", fp);
    json_opt_id(b, "duplicate_of", r->duplicate_of);
    json_opt_id(b, "suppressed_by", r->suppressed_by);
    json_opt_id(b, "incident_id", r->incident_id);
    vg_sbuf_printf(b, ",\"duplicates\":%" PRId64 ",\"risk\":%.1f", r->duplicates, r->risk);
    json_opt_str(b, "verdict", r->verdict);
    json_opt_str(b, "verdict_by", r->verdict_by);
    tx_json_time(b, "verdict_at", r->verdict_at, true);
    json_opt_str(b, "comment", r->comment);
    vg_sbuf_addc(b, '}');
}

static int h_alert_triage(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_triage *t = ctx;
    struct tx_alert_row *r = vg_malloc(sizeof(*r));
    int64_t id;
    if (id_param(req, resp, &id) != VG_OK) {
        vg_free(r);
        return VG_EINVAL;
    }
    int rc = r ? VG_OK : VG_ENOMEM;
    tx_lock(t);
    rc = rc ? rc : tx_db_alert_row(t, req->tenant, id, r);
    tx_unlock(t);
    if (rc == VG_OK) {
        triage_row_json(r, &resp->body);
    }
    vg_free(r);
    return rc == VG_OK ? VG_OK : fail(resp, rc, "alert not triaged (yet) or unknown");
}

struct rules_out {
    struct vg_sbuf *b;
    size_t n;
};

static int rule_row(void *ctx, const struct vg_triage_rule_stats *r)
{
    struct rules_out *o = ctx;
    vg_sbuf_adds(o->b, o->n++ ? ",{\"rule_id\":" : "{\"rule_id\":");
    tx_json_str(o->b, r->rule_id);
    vg_sbuf_printf(o->b,
                   ",\"alerts\":%" PRId64 ",\"duplicates\":%" PRId64 ",\"suppressed\":%" PRId64
                   ",\"true_positive\":%" PRId64 ",\"benign\":%" PRId64
                   ",\"false_positive\":%" PRId64 ",\"fp_ratio\":%.4f}",
                   r->alerts, r->duplicates, r->suppressed, r->tp, r->benign, r->fp, r->fp_ratio);
    return VG_OK;
}

static int h_rules(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct rules_out o = {&resp->body, 0};
    vg_sbuf_adds(&resp->body, "{\"rules\":[");
    int rc = vg_triage_rule_stats(ctx, req->tenant, rule_row, &o);
    vg_sbuf_adds(&resp->body, "]}");
    return rc == VG_OK ? VG_OK : fail(resp, rc, "reading rule counters");
}

/* ---------------------------------------------------------------- registration */

int vg_alert_api_register(struct vg_triage *t, struct vg_api *api)
{
    static const struct {
        const char *method, *pattern;
        int role;
        vg_api_handler fn;
    } routes[] = {
        {"GET", "/api/v1/incidents", VG_API_ROLE_READ, h_incidents},
        {"GET", "/api/v1/incidents/{id}", VG_API_ROLE_READ, h_incident},
        {"PATCH", "/api/v1/incidents/{id}", VG_API_ROLE_ANALYST, h_incident_patch},
        {"GET", "/api/v1/exceptions", VG_API_ROLE_READ, h_exceptions},
        {"POST", "/api/v1/exceptions", VG_API_ROLE_ANALYST, h_exception_post},
        {"POST", "/api/v1/exceptions/backtest", VG_API_ROLE_ANALYST, h_backtest},
        {"DELETE", "/api/v1/exceptions/{id}", VG_API_ROLE_ANALYST, h_exception_delete},
        {"POST", "/api/v1/alerts/{id}/verdict", VG_API_ROLE_ANALYST, h_verdict},
        {"GET", "/api/v1/alerts/{id}/triage", VG_API_ROLE_READ, h_alert_triage},
        {"GET", "/api/v1/triage/rules", VG_API_ROLE_READ, h_rules},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(routes); i++) {
        int rc =
            vg_api_route(api, routes[i].method, routes[i].pattern, routes[i].role, routes[i].fn, t);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}
