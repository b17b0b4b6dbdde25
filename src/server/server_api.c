/*
 * server_api.c — the server's own REST endpoints on the api module's framework:
 *
 *   GET  /api/v1/search        q, from, to, limit        (read)   events or an aggregation
 *   GET  /api/v1/alerts        from, to, min_level, rule, before, limit (read)
 *   GET  /api/v1/rules                                   (read)   the rules in force, and the
 *                                                                 ones disabled through the API
 *   POST /api/v1/rules/reload                            (admin)  build and swap a generation
 *   GET  /api/v1/stats                                   (read)   pipeline and input counters
 *
 * (the routes that change rules are in server_rules_api.c), and registers the console's files
 * (server_web.c) and its live stream (server_stream.c), plus the pipeline's metrics on /metrics and
 * a health check on /healthz. Every handler is confined to the request's tenant (req->tenant) and
 * is thread-safe: the store and the query module read on their own connections, the ruleset is
 * reference-counted.
 */
#include "server/server_int.h"

#include "api/api.h"
#include "query/query.h"
#include "sigma/sigma.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_LIMIT_MAX 10000

/* ---------------------------------------------------------------- parameters */

static int time_param(const struct vg_api_req *req, const char *key, vg_time_t *out,
                      struct vg_api_resp *resp)
{
    const char *v = vg_api_query(req, key);
    *out = VG_TIME_NONE;
    if (!v || !*v) {
        return VG_OK;
    }
    if (vg_query_time_parse(v, strlen(v), VG_TIME_NONE, out) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "%s: '%.64s' is not a time (RFC 3339, YYYY-MM-DD, now, -15m, now-7d)",
                          key, v);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int int_param(const struct vg_api_req *req, const char *key, int64_t lo, int64_t hi,
                     int64_t def, int64_t *out, struct vg_api_resp *resp)
{
    const char *v = vg_api_query(req, key);
    *out = def;
    if (!v || !*v) {
        return VG_OK;
    }
    if (vg_parse_i64(v, strlen(v), out) != VG_OK || *out < lo || *out > hi) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "%s: expected an integer in [%" PRId64 ", %" PRId64 "], got '%.32s'", key,
                          lo, hi, v);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- search */

struct search_out {
    struct vg_sbuf *b;
    size_t rows;
    bool agg_header;
};

static void json_str(struct vg_sbuf *b, const char *s)
{
    vg_sbuf_add_json_str(b, s, strlen(s));
}

static int search_row(void *ctx, const struct vg_query_row *r)
{
    struct search_out *o = ctx;
    if (r->kind == VG_QUERY_ROW_EVENT) {
        vg_sbuf_adds(o->b, o->rows ? "," : "\"events\":[");
        vg_sbuf_add(o->b, r->json, r->json_len);
    } else {
        if (!o->agg_header) {
            vg_sbuf_adds(o->b, "\"columns\":[");
            for (size_t i = 0; i < r->ncols; i++) {
                vg_sbuf_adds(o->b, i ? "," : "");
                json_str(o->b, r->cols[i]);
            }
            vg_sbuf_adds(o->b, "],\"rows\":[");
            o->agg_header = true;
        }
        vg_sbuf_adds(o->b, o->rows ? ",[" : "[");
        for (size_t i = 0; i < r->ncols; i++) {
            vg_sbuf_adds(o->b, i ? "," : "");
            if (r->numeric[i] && *r->vals[i]) {
                vg_sbuf_adds(o->b, r->vals[i]);
            } else {
                json_str(o->b, r->vals[i]);
            }
        }
        vg_sbuf_addc(o->b, ']');
    }
    o->rows++;
    return VG_OK;
}

static int h_search(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *s = ctx;
    const char *q = vg_api_query(req, "q");
    int64_t limit;
    struct vg_query_opts o = {.tenant = req->tenant};
    if (!q) {
        vg_api_resp_error(resp, 400, "bad_request", "q: the query is missing (e.g. q=sshd)");
        return VG_EINVAL;
    }
    if (time_param(req, "from", &o.from, resp) != VG_OK ||
        time_param(req, "to", &o.to, resp) != VG_OK ||
        int_param(req, "limit", 1, SEARCH_LIMIT_MAX, 100, &limit, resp) != VG_OK) {
        return VG_EINVAL;
    }
    struct vg_query *query = NULL;
    char err[512];
    if (vg_query_parse(q, strlen(q), VG_TIME_NONE, &query, err, sizeof(err)) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_query", "%s", err);
        return VG_EINVAL;
    }
    struct vg_sbuf *b = &resp->body;
    struct search_out out = {b, 0, false};
    o.limit = (size_t)limit;
    o.on_row = search_row;
    o.ctx = &out;
    struct vg_query_stats st = {0};
    vg_sbuf_addc(b, '{');
    int rc = vg_query_run(query, s->st, &o, &st, err, sizeof(err));
    bool agg = vg_query_is_aggregate(query);
    vg_query_destroy(query);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, rc == VG_EINVAL ? 400 : 500, "search_failed", "%s", err);
        return rc;
    }
    if (!out.rows) {
        vg_sbuf_adds(b, agg ? "\"columns\":[],\"rows\":[" : "\"events\":[");
    }
    vg_sbuf_printf(b,
                   "],\"matched\":%" PRIu64 ",\"truncated\":%s,\"took_ms\":%.1f,\"scan\":{"
                   "\"partitions\":%" PRIu64 ",\"blocks\":%" PRIu64 ",\"candidates\":%" PRIu64
                   ",\"events\":%" PRIu64 "}}",
                   st.matched, st.truncated ? "true" : "false", (double)st.elapsed_ns / 1e6,
                   st.scan.partitions, st.scan.blocks, st.scan.candidates, st.scan.events);
    return VG_OK;
}

/* ---------------------------------------------------------------- alerts */

struct alerts_out {
    struct vg_sbuf *b;
    size_t n;
    int64_t last_id;
};

static int alert_row(void *ctx, const struct vg_store_alert *a)
{
    struct alerts_out *o = ctx;
    vg_sbuf_adds(o->b, o->n++ ? "," : "");
    vg_store_alert_write_json(a, o->b);
    o->last_id = a->id;
    return VG_OK;
}

static int h_alerts(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *s = ctx;
    int64_t limit, level, before;
    struct vg_store_alert_query q = {.tenant = req->tenant};
    if (time_param(req, "from", &q.from, resp) != VG_OK ||
        time_param(req, "to", &q.to, resp) != VG_OK ||
        int_param(req, "limit", 1, SEARCH_LIMIT_MAX, 100, &limit, resp) != VG_OK ||
        int_param(req, "min_level", 0, 5, 0, &level, resp) != VG_OK ||
        int_param(req, "before", 0, INT64_MAX, 0, &before, resp) != VG_OK) {
        return VG_EINVAL;
    }
    struct alerts_out out = {&resp->body, 0, 0};
    q.limit = (size_t)limit;
    q.min_level = (int)level;
    q.before_id = before;
    q.rule_id = vg_api_query(req, "rule");
    q.rule_id = q.rule_id && *q.rule_id ? q.rule_id : NULL;
    q.on_alert = alert_row;
    q.ctx = &out;
    char err[512];
    vg_sbuf_adds(&resp->body, "{\"alerts\":[");
    int rc = vg_store_alert_query(s->st, &q, err, sizeof(err));
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 500, "store_error", "%s", err);
        return rc;
    }
    vg_sbuf_adds(&resp->body, "]");
    if (out.n == (size_t)limit) { /* the next page: ?before=<id> */
        vg_sbuf_printf(&resp->body, ",\"next_before\":%" PRId64, out.last_id);
    }
    vg_sbuf_addc(&resp->body, '}');
    return VG_OK;
}

/* ---------------------------------------------------------------- rules */

/* Triage counters of the tenant's rules, sorted by rule id, to show next to each rule. */
struct rule_fp {
    char *rule_id;
    int64_t alerts, duplicates, suppressed, tp, benign, fp;
    double fp_ratio;
};
struct rule_fps {
    struct rule_fp *v;
    size_t n, cap;
};

static int rule_fp_add(void *ctx, const struct vg_triage_rule_stats *r)
{
    struct rule_fps *l = ctx;
    if (vg_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct rule_fp *f = &l->v[l->n];
    *f = (struct rule_fp){NULL,  r->alerts, r->duplicates, r->suppressed,
                          r->tp, r->benign, r->fp,         r->fp_ratio};
    if (!(f->rule_id = vg_strdup(r->rule_id ? r->rule_id : ""))) {
        return VG_ENOMEM;
    }
    l->n++;
    return VG_OK;
}

static int rule_fp_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rule_fp *)a)->rule_id, ((const struct rule_fp *)b)->rule_id);
}

static void rule_fps_free(struct rule_fps *l)
{
    for (size_t i = 0; i < l->n; i++) {
        vg_free(l->v[i].rule_id);
    }
    vg_free(l->v);
}

static void rule_fp_json(struct vg_sbuf *b, const struct rule_fps *l, const char *id)
{
    struct rule_fp key = {.rule_id = (char *)id};
    const struct rule_fp *f = l->n ? bsearch(&key, l->v, l->n, sizeof(*l->v), rule_fp_cmp) : NULL;
    if (f) {
        vg_sbuf_printf(b,
                       ",\"triage\":{\"alerts\":%" PRId64 ",\"duplicates\":%" PRId64
                       ",\"suppressed\":%" PRId64 ",\"true_positive\":%" PRId64
                       ",\"benign\":%" PRId64 ",\"false_positive\":%" PRId64 ",\"fp_ratio\":%.4f}",
                       f->alerts, f->duplicates, f->suppressed, f->tp, f->benign, f->fp,
                       f->fp_ratio);
    }
}

static void rule_json(struct vg_sbuf *b, const struct vg_sigma_rule *r, bool correlation,
                      bool enabled, const struct rule_fps *fps)
{
    static const char *const levels[] = {"", "informational", "low", "medium", "high", "critical"};
    vg_sbuf_adds(b, "{\"id\":");
    json_str(b, r->id ? r->id : "");
    vg_sbuf_adds(b, ",\"title\":");
    json_str(b, r->title ? r->title : "");
    vg_sbuf_printf(b, ",\"kind\":\"%s\",\"level\":\"%s\",\"status\":",
                   correlation ? "correlation" : "rule", levels[r->level <= 5 ? r->level : 0]);
    json_str(b, r->rule_status ? r->rule_status : "");
    vg_sbuf_printf(b, ",\"enabled\":%s,\"path\":", enabled ? "true" : "false");
    json_str(b, r->path ? r->path : "");
    vg_sbuf_adds(b, ",\"tags\":[");
    for (uint32_t t = 0; t < r->ntags; t++) {
        vg_sbuf_adds(b, t ? "," : "");
        json_str(b, r->tags[t]);
    }
    vg_sbuf_adds(b, "],\"logsource\":{");
    const char *ls[] = {"product", r->logsource.product, "category", r->logsource.category,
                        "service", r->logsource.service};
    bool first = true;
    for (int i = 0; i < 6; i += 2) {
        if (ls[i + 1]) {
            vg_sbuf_printf(b, "%s\"%s\":", first ? "" : ",", ls[i]);
            json_str(b, ls[i + 1]);
            first = false;
        }
    }
    vg_sbuf_adds(b, "}");
    rule_fp_json(b, fps, r->id ? r->id : (r->title ? r->title : ""));
    vg_sbuf_adds(b, "}");
}

static int h_rules(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *s = ctx;
    struct rule_fps fps = {0};
    struct vg_triage *t = vg_server_triage(s);
    if (t && vg_triage_rule_stats(t, req->tenant, rule_fp_add, &fps) == VG_OK && fps.n) {
        qsort(fps.v, fps.n, sizeof(*fps.v), rule_fp_cmp);
    }
    struct vg_ruleset *rs = vg_detect_engine_acquire(s->eng);
    struct vg_sbuf *b = &resp->body;
    vg_sbuf_adds(b, "{\"rules\":[");
    uint32_t n = vg_ruleset_nrules(rs), shown = 0;
    for (uint32_t i = 0; i < n; i++) {
        vg_sbuf_adds(b, shown++ ? "," : "");
        rule_json(b, vg_ruleset_rule(rs, i), false, true, &fps);
    }
    const struct vg_sigma_set *set = vg_ruleset_set(rs);
    for (uint32_t i = 0; set && i < set->n; i++) {
        const struct vg_sigma_rule *r = set->rules[i];
        if (r->kind == VG_SIGMA_CORRELATION && r->status == VG_RULE_OK) {
            vg_sbuf_adds(b, shown++ ? "," : "");
            rule_json(b, r, true, true, &fps);
        }
    }
    for (uint32_t i = 0; set && i < set->n; i++) { /* disabled through the API */
        const struct vg_sigma_rule *r = set->rules[i];
        if (r->kind != VG_SIGMA_FILTER && vg_server_rule_is_disabled(r)) {
            vg_sbuf_adds(b, shown++ ? "," : "");
            rule_json(b, r, r->kind == VG_SIGMA_CORRELATION, false, &fps);
        }
    }
    vg_sbuf_printf(b, "],\"count\":%u}", shown);
    vg_ruleset_unref(rs);
    rule_fps_free(&fps);
    return VG_OK;
}

static int h_reload(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *s = ctx;
    char err[1024];
    VG_INFO("rules", "reload requested by %s", req->who.name);
    vg_server_rules_lock();
    int rc = vg_server_reload(s, err, sizeof(err));
    vg_server_rules_unlock();
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 400, "reload_failed", "%s (the current rules stay)", err);
        return VG_EINVAL;
    }
    struct vg_server_stats st;
    vg_server_get_stats(s, &st);
    vg_sbuf_printf(&resp->body, "{\"rules\":%u,\"correlations\":%u,\"reloads\":%" PRIu64 "}",
                   st.rules, st.correlation_rules, st.reloads);
    return VG_OK;
}

/* ---------------------------------------------------------------- stats, metrics, health */

static const char *const proto_names[] = {"udp", "tcp", "tls", "relp"};

static int h_stats(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    (void)req;
    struct vg_server *s = ctx;
    struct vg_server_stats st;
    vg_server_get_stats(s, &st);
    struct vg_sbuf *b = &resp->body;
    char started[40];
    vg_time_format(st.started, started, sizeof(started));
    vg_sbuf_printf(b,
                   "{\"started\":\"%s\",\"pipeline\":{\"records\":%" PRIu64 ",\"events\":%" PRIu64
                   ",\"unparsed\":%" PRIu64 ",\"matches\":%" PRIu64 ",\"alerts\":%" PRIu64
                   ",\"correlations\":%" PRIu64 ",\"stored\":%" PRIu64 ",\"duplicates\":%" PRIu64
                   ",\"store_retries\":%" PRIu64 ",\"position\":%" PRIu64 ",\"backlog\":%" PRIu64
                   "},\"rules\":{\"rules\":%u,\"correlations\":%u,\"reloads\":%" PRIu64
                   "},\"inputs\":[",
                   started, st.records, st.events, st.unparsed, st.matches, st.alerts,
                   st.correlations, st.stored, st.duplicates, st.store_retries, st.position,
                   st.journal_next - 1 - st.position, st.rules, st.correlation_rules, st.reloads);
    for (size_t i = 0; s->net && i < s->nls; i++) {
        struct vg_net_stats ns;
        vg_net_stats(s->net, i, &ns);
        vg_sbuf_printf(b,
                       "%s{\"proto\":\"%s\",\"address\":\"%s\",\"messages\":%" PRIu64
                       ",\"bytes\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"dropped\":%" PRIu64
                       ",\"connections\":%" PRIu64 ",\"stalls\":%" PRIu64 "}",
                       i ? "," : "", proto_names[s->ls[i].proto], s->ls[i].addr, ns.messages,
                       ns.bytes, ns.rejected, ns.dropped, ns.conns_open, ns.stalls);
    }
    vg_sbuf_adds(b, "]}");
    return VG_OK;
}

static void counter(struct vg_api_metrics *w, const char *name, const char *help, double v)
{
    vg_api_metrics_family(w, name, "counter", help);
    vg_api_metrics_value(w, name, NULL, v);
}

static void net_family(struct vg_server *s, struct vg_api_metrics *w, const char *name,
                       const char *help, size_t field)
{
    vg_api_metrics_family(w, name, "counter", help);
    for (size_t i = 0; i < s->nls; i++) {
        struct vg_net_stats ns;
        vg_net_stats(s->net, i, &ns);
        const char *l[] = {"proto", proto_names[s->ls[i].proto], "address", s->ls[i].addr, NULL};
        vg_api_metrics_value(w, name, l, (double)*(uint64_t *)((char *)&ns + field));
    }
}

struct prof_ctx {
    struct vg_api_metrics *w;
    int pass; /* 0: evaluation seconds, 1: evaluations, 2: matches */
};

static void prof_value(void *ctx, const struct vg_sigma_rule *r, double seconds, uint64_t evals,
                       uint64_t matches)
{
    static const char *const names[] = {"vigie_rule_evaluation_seconds_total",
                                        "vigie_rule_evaluations_total", "vigie_rule_matches_total"};
    struct prof_ctx *pc = ctx;
    const char *l[] = {"rule", r->id ? r->id : "", "title", r->title ? r->title : "", NULL};
    double v = pc->pass == 0 ? seconds : pc->pass == 1 ? (double)evals : (double)matches;
    vg_api_metrics_value(pc->w, names[pc->pass], l, v);
}

/* Per-rule cost (sampled: one routed event in 64 is timed) and matches. */
static void rule_metrics(struct vg_server *s, struct vg_api_metrics *w)
{
    static const char *const fam[][2] = {
        {"vigie_rule_evaluation_seconds_total", "time spent evaluating the rule (sampled)"},
        {"vigie_rule_evaluations_total", "events the rule was evaluated on (sampled)"},
        {"vigie_rule_matches_total", "events the rule matched"},
    };
    for (int pass = 0; pass < 3; pass++) {
        struct prof_ctx pc = {w, pass};
        vg_api_metrics_family(w, fam[pass][0], "counter", fam[pass][1]);
        vg_pipeline_rule_profile(s->pipe, prof_value, &pc);
    }
}

static void metrics(void *ctx, struct vg_api_metrics *w)
{
    struct vg_server *s = ctx;
    struct vg_server_stats st;
    vg_server_get_stats(s, &st);
    counter(w, "vigie_pipeline_records_total", "journal records processed", (double)st.records);
    counter(w, "vigie_pipeline_events_total", "events decoded", (double)st.events);
    counter(w, "vigie_pipeline_unparsed_total", "records no decoder accepted (kept)",
            (double)st.unparsed);
    counter(w, "vigie_pipeline_matches_total", "rule matches", (double)st.matches);
    counter(w, "vigie_alerts_total", "alerts stored", (double)st.alerts);
    counter(w, "vigie_store_events_total", "events stored", (double)st.stored);
    counter(w, "vigie_store_duplicates_total", "events skipped by their dedupe key",
            (double)st.duplicates);
    counter(w, "vigie_store_retries_total", "failed store writes retried",
            (double)st.store_retries);
    vg_api_metrics_family(w, "vigie_pipeline_backlog_records", "gauge",
                          "journal records not yet stored");
    vg_api_metrics_value(w, "vigie_pipeline_backlog_records", NULL,
                         (double)(st.journal_next - 1 - st.position));
    vg_api_metrics_family(w, "vigie_rules", "gauge", "detection rules in force");
    vg_api_metrics_value(w, "vigie_rules", NULL, st.rules);
    rule_metrics(s, w);
    if (s->net) {
        net_family(s, w, "vigie_syslog_messages_total", "syslog messages journaled",
                   offsetof(struct vg_net_stats, messages));
        net_family(s, w, "vigie_syslog_dropped_total", "UDP datagrams dropped",
                   offsetof(struct vg_net_stats, dropped));
        net_family(s, w, "vigie_syslog_rejected_total", "oversized or malformed frames",
                   offsetof(struct vg_net_stats, rejected));
        net_family(s, w, "vigie_syslog_stalls_total", "reads held back by back-pressure",
                   offsetof(struct vg_net_stats, stalls));
    }
}

static int health(void *ctx, char *why, size_t whysz)
{
    struct vg_server *s = ctx;
    if (!vg_pipeline_alive(s->pipe)) {
        snprintf(why, whysz, "the pipeline stopped (see the log)");
        return VG_EIO;
    }
    return VG_OK;
}

int vg_server_api_register(struct vg_server *s, struct vg_api *api)
{
    int rc = vg_api_route(api, "GET", "/api/v1/search", VG_API_ROLE_READ, h_search, s);
    rc = rc == VG_OK ? vg_api_route(api, "GET", "/api/v1/alerts", VG_API_ROLE_READ, h_alerts, s)
                     : rc;
    rc = rc == VG_OK ? vg_api_route(api, "GET", "/api/v1/rules", VG_API_ROLE_READ, h_rules, s) : rc;
    rc = rc == VG_OK
             ? vg_api_route(api, "POST", "/api/v1/rules/reload", VG_API_ROLE_ADMIN, h_reload, s)
             : rc;
    rc = rc == VG_OK ? vg_server_rules_api_register(s, api) : rc;
    rc = rc == VG_OK ? vg_api_route(api, "GET", "/api/v1/stats", VG_API_ROLE_READ, h_stats, s) : rc;
    rc = rc == VG_OK ? vg_api_metrics_add(api, metrics, s) : rc;
    rc = rc == VG_OK ? vg_server_intel_api_register(s->intel, api) : rc;
    rc = rc == VG_OK ? vg_server_vuln_api_register(s->vuln, api) : rc;
    rc = rc == VG_OK ? vg_server_web_register(api) : rc;
    rc = rc == VG_OK ? vg_server_stream_register(s, api) : rc;
    rc = rc == VG_OK ? vg_server_users_register(s, api) : rc;
    return rc == VG_OK ? vg_api_health_add(api, "pipeline", health, s) : rc;
}
