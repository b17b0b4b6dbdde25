/*
 * fleet_api.c — the REST endpoints of the fleet on the api module's framework:
 *
 *   POST /api/v1/agents/enroll          Bearer enrollment token; CSR PEM or
 *                                        {"csr":PEM,"hostname":H}                 (public*)
 *   POST /api/v1/agents/enroll-tokens   {"ttl":"24h"|seconds,"uses":N}             (admin)
 *   GET  /api/v1/agents                  ?status=online|offline|revoked            (read)
 *   GET  /api/v1/agents/{id}                                                       (read)
 *   POST /api/v1/agents/{id}/revoke                                                (admin)
 *   POST /api/v1/agents/{id}/commands    {"action","args":{..},"ttl":"5m"|seconds} (analyst)
 *   GET  /api/v1/agents/{id}/commands    ?limit=N                                  (read)
 *   GET  /api/v1/agents/{id}/config      effective configuration and its source    (read)
 *   PUT  /api/v1/agents/{id}/config      {"collectors":{...}}                      (admin)
 *   GET  /api/v1/agents/config           the tenant's default configuration        (read)
 *   PUT  /api/v1/agents/config           {"collectors":{...}}                      (admin)
 *
 * (*) The enrollment route is registered public because its credential is not an API
 * token: the handler checks the enrollment token itself (constant-time, fleet_enroll.c)
 * and answers 429 to an address with too many failures in the last minute. Every other
 * call is confined to req->tenant; the actor is "user:<name>" or "token:<name>".
 */
#include "fleet/fleet_int.h"

#include "api/api.h"
#include "event/event.h"

#include <sodium.h>
#include <stddef.h>
#include <string.h>

#define DEFAULT_TOKEN_TTL_S (24 * 3600LL)
#define DEFAULT_CMD_TTL_S   3600LL

/* ---------------------------------------------------------------- helpers */

static const char *actor_of(const struct vg_api_req *req)
{
    bool token = req->who.kind == VG_API_AUTH_TOKEN;
    return vg_arena_printf(req->arena, "%s:%s", token ? "token" : "user", req->who.name);
}

/* Parse the body as a JSON object; answers 400 itself. */
static int body_obj(const struct vg_api_req *req, struct vg_api_resp *resp, bool empty_ok,
                    struct vg_json **out)
{
    char err[160];
    size_t used = 0;
    *out = NULL;
    if (empty_ok && req->body_len == 0) {
        return VG_OK;
    }
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    int rc =
        p ? vg_json_parse(p, req->arena, req->body, req->body_len, &used, out, err, sizeof(err))
          : VG_ENOMEM;
    vg_json_parser_destroy(p);
    if (rc == VG_ENOMEM) {
        return rc;
    }
    if (rc != VG_OK || (*out)->type != VG_JSON_OBJECT) {
        vg_api_resp_error(resp, 400, "bad_request", "agents: the body must be a JSON object%s%s",
                          rc == VG_OK ? "" : ": ", rc == VG_OK ? "" : err);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* A ttl member: seconds (number) or a duration ("90s", "24h"); def when absent. */
static int ttl_of(const struct vg_json *doc, int64_t def, int64_t max, struct vg_api_resp *resp,
                  int64_t *out)
{
    const struct vg_json *v = vg_json_get(doc, "ttl");
    int64_t ns = 0;
    *out = def;
    if (!v) {
        return VG_OK;
    }
    if (v->type == VG_JSON_NUMBER && v->is_int) {
        *out = v->u.i;
    } else if (v->type == VG_JSON_STRING && vg_duration_parse(v->s, v->n, &ns) == VG_OK) {
        *out = ns / 1000000000LL;
    } else {
        *out = -1;
    }
    if (*out < 1 || *out > max) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "agents: ttl: expected seconds or a duration (1s..%llds)",
                          (long long)max);
        return VG_EINVAL;
    }
    return VG_OK;
}

static void agent_json(struct vg_sbuf *b, const struct vg_fleet_agent *a)
{
    char ts[40];
    vg_sbuf_adds(b, "{\"id\":\"");
    vg_sbuf_adds(b, a->id);
    vg_sbuf_adds(b, "\",\"tenant\":");
    vg_sbuf_add_json_str(b, a->tenant, strlen(a->tenant));
    vg_sbuf_adds(b, ",\"hostname\":");
    vg_sbuf_add_json_str(b, a->hostname, strlen(a->hostname));
    vg_sbuf_adds(b, ",\"os\":");
    vg_sbuf_add_json_str(b, a->os, strlen(a->os));
    vg_sbuf_adds(b, ",\"version\":");
    vg_sbuf_add_json_str(b, a->version, strlen(a->version));
    vg_sbuf_printf(b, ",\"ips\":%s,\"collectors\":%s,\"status\":\"%s\",\"cert_serial\":\"%s\"",
                   a->ips_json, a->collectors_json, a->status, a->cert_serial);
    vg_time_format(a->enrolled, ts, sizeof(ts));
    vg_sbuf_printf(b, ",\"enrolled\":\"%s\"", ts);
    if (a->last_seen != VG_TIME_NONE) {
        vg_time_format(a->last_seen, ts, sizeof(ts));
        vg_sbuf_printf(b, ",\"last_seen\":\"%s\"", ts);
    } else {
        vg_sbuf_adds(b, ",\"last_seen\":null");
    }
    vg_sbuf_addc(b, '}');
}

/* ---------------------------------------------------------------- enrollment */

/* The client address without the port (rate-limit key). */
static const char *peer_addr(const struct vg_api_req *req)
{
    const char *p = req->peer ? req->peer : "?";
    const char *c = p[0] == '[' ? strchr(p, ']') : strrchr(p, ':');
    return c ? vg_arena_strndup(req->arena, p, (size_t)(c - p + (p[0] == '['))) : p;
}

static int enroll_body(const struct vg_api_req *req, struct vg_api_resp *resp, const char **csr,
                       size_t *len, const char **host)
{
    struct vg_json *doc = NULL;
    *csr = req->body;
    *len = req->body_len;
    *host = NULL;
    if (req->body_len && req->body[0] == '{') {
        int rc = body_obj(req, resp, false, &doc);
        if (rc != VG_OK) {
            return rc;
        }
        const struct vg_json *c = vg_json_get(doc, "csr"), *h = vg_json_get(doc, "hostname");
        if (!c || c->type != VG_JSON_STRING || (h && h->type != VG_JSON_STRING)) {
            vg_api_resp_error(resp, 400, "bad_request",
                              "agents: enroll: \"csr\" (PEM string) is required; \"hostname\" "
                              "must be a string");
            return VG_EINVAL;
        }
        *csr = c->s;
        *len = c->n;
        *host = h ? vg_arena_strndup(req->arena, h->s, h->n) : NULL;
    }
    return VG_OK;
}

static void enroll_reply(struct vg_api_resp *resp, const struct vg_fleet_enrollment *e)
{
    struct vg_sbuf *b = &resp->body;
    vg_sbuf_printf(b, "{\"agent_id\":\"%s\",\"tenant\":", e->agent_id);
    vg_sbuf_add_json_str(b, e->tenant, strlen(e->tenant));
    vg_sbuf_adds(b, ",\"cert\":");
    vg_sbuf_add_json_str(b, e->cert_pem, strlen(e->cert_pem));
    vg_sbuf_adds(b, ",\"ca\":");
    vg_sbuf_add_json_str(b, e->ca_pem, strlen(e->ca_pem));
    vg_sbuf_printf(b, ",\"command_pubkey\":\"%s\",\"endpoint\":", e->command_pubkey);
    vg_sbuf_add_json_str(b, e->endpoint, strlen(e->endpoint));
    vg_sbuf_addc(b, '}');
}

static int h_enroll(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_fleet *f = ctx;
    const char *addr = peer_addr(req), *auth = vg_api_header(req, "Authorization");
    const char *csr, *host;
    size_t len;
    char err[256];
    if (fleet_rl_blocked(f, addr)) {
        vg_api_resp_header(resp, "Retry-After", "60");
        vg_api_resp_error(resp, 429, "too_many_requests", "agents: too many failed enrollments");
        return VG_OK;
    }
    if (!auth || strncmp(auth, "Bearer ", 7) != 0) {
        fleet_rl_fail(f, addr);
        vg_api_resp_error(resp, 401, "unauthorized",
                          "agents: enrollment token required "
                          "(Authorization: Bearer vge_...)");
        return VG_OK;
    }
    int rc = enroll_body(req, resp, &csr, &len, &host);
    struct vg_fleet_enrollment e;
    rc = rc ? rc : vg_fleet_enroll(f, auth + 7, csr, len, host, &e, err, sizeof(err));
    if (rc == VG_OK) {
        enroll_reply(resp, &e);
        vg_fleet_enrollment_fini(&e);
        return VG_OK;
    }
    if (rc == VG_EDENIED) {
        fleet_rl_fail(f, addr);
        vg_api_resp_error(resp, 401, "unauthorized", "agents: %s", err);
        return VG_OK;
    }
    if (rc == VG_EINVAL && resp->status < 400) {
        vg_api_resp_error(resp, 400, "bad_request", "agents: %s", err);
        return VG_OK;
    }
    return rc == VG_EINVAL ? VG_OK : rc;
}

static int h_token(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_fleet *f = ctx;
    struct vg_json *doc = NULL;
    int64_t ttl = 0, id = 0;
    char tok[VG_FLEET_TOKEN_SIZE];
    int rc = body_obj(req, resp, true, &doc);
    rc = rc ? rc : ttl_of(doc, DEFAULT_TOKEN_TTL_S, 365 * 86400LL, resp, &ttl);
    const struct vg_json *u = rc ? NULL : vg_json_get(doc, "uses");
    int64_t uses = u && u->type == VG_JSON_NUMBER && u->is_int ? u->u.i : u ? -1 : 1;
    if (rc == VG_OK && (uses < 1 || uses > 1000000)) {
        vg_api_resp_error(resp, 400, "bad_request", "agents: uses: expected 1..1000000");
        rc = VG_EINVAL;
    }
    if (rc != VG_OK) {
        return rc == VG_EINVAL ? VG_OK : rc;
    }
    rc = vg_fleet_enroll_token_create(f, req->tenant, actor_of(req), ttl, (unsigned)uses, tok,
                                      sizeof(tok), &id);
    if (rc != VG_OK) {
        return rc;
    }
    char ts[40];
    vg_time_format(vg_time_now() + ttl * 1000000000LL, ts, sizeof(ts));
    resp->status = 201;
    vg_sbuf_printf(&resp->body, "{\"id\":%lld,\"token\":\"%s\",\"expires\":\"%s\",\"uses\":%lld}",
                   (long long)id, tok, ts, (long long)uses);
    sodium_memzero(tok, sizeof(tok));
    return VG_OK;
}

/* ---------------------------------------------------------------- agents */

struct list_ctx {
    struct vg_sbuf *b;
    const char *status;
    size_t n;
};

static int list_one(void *ctx, const struct vg_fleet_agent *a)
{
    struct list_ctx *l = ctx;
    if (l->status && strcmp(l->status, a->status) != 0) {
        return VG_OK;
    }
    if (l->n++) {
        vg_sbuf_addc(l->b, ',');
    }
    agent_json(l->b, a);
    return VG_OK;
}

static int h_list(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct list_ctx l = {.b = &resp->body, .status = vg_api_query(req, "status")};
    if (l.status && !*l.status) {
        l.status = NULL;
    }
    vg_sbuf_adds(l.b, "{\"agents\":[");
    int rc = vg_fleet_agent_list(ctx, req->tenant, list_one, &l);
    vg_sbuf_printf(l.b, "],\"total\":%zu}", l.n);
    return rc;
}

static int h_get(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct list_ctx l = {.b = &resp->body};
    int rc = vg_fleet_agent_get(ctx, req->tenant, req->param, list_one, &l);
    if (rc == VG_ENOENT) {
        vg_api_resp_error(resp, 404, "not_found", "agents: no agent '%.40s'", req->param);
        return VG_OK;
    }
    return rc;
}

static int h_revoke(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    int rc = vg_fleet_agent_revoke(ctx, req->tenant, actor_of(req), req->param);
    if (rc == VG_ENOENT) {
        vg_api_resp_error(resp, 404, "not_found", "agents: no agent '%.40s'", req->param);
        return VG_OK;
    }
    if (rc == VG_OK) {
        vg_sbuf_printf(&resp->body, "{\"id\":\"%s\",\"status\":\"revoked\"}", req->param);
    }
    return rc;
}

/* ---------------------------------------------------------------- commands */

static int cmd_fields(const struct vg_api_req *req, struct vg_api_resp *resp, const char **action,
                      char **args, int64_t *ttl)
{
    struct vg_json *doc = NULL;
    int rc = body_obj(req, resp, false, &doc);
    rc = rc ? rc : ttl_of(doc, DEFAULT_CMD_TTL_S, FLEET_CMD_LIFE, resp, ttl);
    if (rc != VG_OK) {
        return rc;
    }
    const struct vg_json *a = vg_json_get(doc, "action"), *g = vg_json_get(doc, "args");
    if (!a || a->type != VG_JSON_STRING || (g && g->type != VG_JSON_OBJECT)) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "agents: \"action\" (string) is required; \"args\" must be an object");
        return VG_EINVAL;
    }
    struct vg_sbuf b = VG_SBUF_INIT;
    if (g) {
        vg_json_write(g, &b);
    }
    *action = vg_arena_strndup(req->arena, a->s, a->n);
    *args = vg_arena_strdup(req->arena, g ? (b.p ? b.p : "{}") : "{}");
    vg_sbuf_fini(&b);
    return *action && *args ? VG_OK : VG_ENOMEM;
}

static int h_cmd_send(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *action = NULL;
    char *args = NULL, id[VG_FLEET_ID_SIZE];
    int64_t ttl = 0;
    int rc = cmd_fields(req, resp, &action, &args, &ttl);
    if (rc != VG_OK) {
        return rc == VG_EINVAL ? VG_OK : rc;
    }
    rc = vg_fleet_command_send_as(ctx, req->tenant, actor_of(req), req->param, action, args, ttl,
                                  id);
    switch (rc) {
    case VG_OK:
        resp->status = 202;
        vg_sbuf_printf(&resp->body, "{\"id\":\"%s\",\"status\":\"pending\"}", id);
        return VG_OK;
    case VG_ENOENT:
        vg_api_resp_error(resp, 404, "not_found", "agents: no agent '%.40s'", req->param);
        return VG_OK;
    case VG_EDENIED:
        vg_api_resp_error(resp, 409, "revoked", "agents: agent '%.40s' is revoked", req->param);
        return VG_OK;
    case VG_EINVAL:
        vg_api_resp_error(resp, 400, "bad_request",
                          "agents: action: 1-64 of [a-z0-9_.-]; args: a JSON object of at most "
                          "64 KiB");
        return VG_OK;
    default:
        return rc;
    }
}

static int noop_agent(void *ctx, const struct vg_fleet_agent *a)
{
    VG_UNUSED(ctx);
    VG_UNUSED(a);
    return VG_OK;
}

static int h_cmd_list(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *l = vg_api_query(req, "limit");
    int64_t limit = 100;
    if (l && *l && (vg_parse_i64(l, strlen(l), &limit) != VG_OK || limit < 1 || limit > 1000)) {
        vg_api_resp_error(resp, 400, "bad_request", "agents: limit: expected 1..1000");
        return VG_OK;
    }
    int rc = vg_fleet_agent_get(ctx, req->tenant, req->param, noop_agent, NULL);
    if (rc == VG_ENOENT) {
        vg_api_resp_error(resp, 404, "not_found", "agents: no agent '%.40s'", req->param);
        return VG_OK;
    }
    vg_sbuf_adds(&resp->body, "{\"commands\":");
    rc = rc ? rc : fleet_command_list(ctx, req->param, limit, &resp->body);
    vg_sbuf_addc(&resp->body, '}');
    return rc;
}

/* ---------------------------------------------------------------- remote configuration */

static void config_reply(struct vg_api_resp *resp, const char *id, const struct vg_fleet_config *c)
{
    struct vg_sbuf *b = &resp->body;
    char ts[40];
    vg_sbuf_adds(b, "{\"id\":");
    if (id) {
        vg_sbuf_add_json_str(b, id, strlen(id));
    } else {
        vg_sbuf_adds(b, "null");
    }
    vg_sbuf_printf(b, ",\"source\":\"%s\",\"config\":%s", c->source, c->json ? c->json : "null");
    if (c->json) {
        vg_time_format(c->updated, ts, sizeof(ts));
        vg_sbuf_printf(b, ",\"updated\":\"%s\",\"updated_by\":", ts);
        vg_sbuf_add_json_str(b, c->updated_by, strlen(c->updated_by));
    }
    vg_sbuf_addc(b, '}');
}

/* GET: the agent's effective configuration ({id} route) or the tenant's default. */
static int h_config_get(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_fleet_config c;
    int rc = vg_fleet_config_get(ctx, req->tenant, req->param, &c);
    if (rc == VG_ENOENT) {
        vg_api_resp_error(resp, 404, "not_found", "agents: no agent '%.40s'", req->param);
        return VG_OK;
    }
    if (rc == VG_OK) {
        config_reply(resp, req->param, &c);
        vg_fleet_config_fini(&c);
    }
    return rc;
}

static int h_config_put(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    char err[512];
    int rc = vg_fleet_config_set(ctx, req->tenant, actor_of(req), req->param, req->body,
                                 req->body_len, err, sizeof(err));
    if (rc == VG_EINVAL) {
        vg_api_resp_error(resp, 400, "bad_request", "agents: %s", err);
        return VG_OK;
    }
    if (rc == VG_ENOENT) {
        vg_api_resp_error(resp, 404, "not_found", "agents: no agent '%.40s'", req->param);
        return VG_OK;
    }
    return rc ? rc : h_config_get(ctx, req, resp);
}

/* ---------------------------------------------------------------- metrics, registration */

static void metrics(void *ctx, struct vg_api_metrics *w)
{
    struct vg_fleet_stats s;
    vg_fleet_stats(ctx, &s);
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } m[] = {
        {"vigie_fleet_connections", "gauge", "Agent connections open",
         offsetof(struct vg_fleet_stats, conns_open)},
        {"vigie_fleet_connections_total", "counter", "Agent connections accepted",
         offsetof(struct vg_fleet_stats, conns_total)},
        {"vigie_fleet_connections_refused_total", "counter",
         "Agent connections refused (certificate, revoked, over the limit)",
         offsetof(struct vg_fleet_stats, conns_refused)},
        {"vigie_fleet_events_total", "counter", "Agent events appended to the journal",
         offsetof(struct vg_fleet_stats, events)},
        {"vigie_fleet_events_duplicate_total", "counter", "Resent agent events already stored",
         offsetof(struct vg_fleet_stats, events_dup)},
        {"vigie_fleet_protocol_errors_total", "counter", "Agent connections closed on a bad frame",
         offsetof(struct vg_fleet_stats, frames_bad)},
        {"vigie_fleet_commands_sent_total", "counter", "Signed commands sent to agents",
         offsetof(struct vg_fleet_stats, commands_sent)},
        {"vigie_fleet_command_results_total", "counter", "Command results recorded",
         offsetof(struct vg_fleet_stats, results)},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(m); i++) {
        vg_api_metrics_family(w, m[i].name, m[i].type, m[i].help);
        vg_api_metrics_value(w, m[i].name, NULL, (double)*(uint64_t *)((char *)&s + m[i].off));
    }
}

static const struct {
    const char *method;
    const char *pattern;
    int role;
    vg_api_handler fn;
} routes[] = {
    {"POST", "/api/v1/agents/enroll", VG_API_ROLE_PUBLIC, h_enroll},
    {"POST", "/api/v1/agents/enroll-tokens", VG_API_ROLE_ADMIN, h_token},
    {"GET", "/api/v1/agents", VG_API_ROLE_READ, h_list},
    {"GET", "/api/v1/agents/{id}", VG_API_ROLE_READ, h_get},
    {"POST", "/api/v1/agents/{id}/revoke", VG_API_ROLE_ADMIN, h_revoke},
    {"POST", "/api/v1/agents/{id}/commands", VG_API_ROLE_ANALYST, h_cmd_send},
    {"GET", "/api/v1/agents/{id}/commands", VG_API_ROLE_READ, h_cmd_list},
    {"GET", "/api/v1/agents/{id}/config", VG_API_ROLE_READ, h_config_get},
    {"PUT", "/api/v1/agents/{id}/config", VG_API_ROLE_ADMIN, h_config_put},
    {"GET", "/api/v1/agents/config", VG_API_ROLE_READ, h_config_get},
    {"PUT", "/api/v1/agents/config", VG_API_ROLE_ADMIN, h_config_put},
};

int vg_fleet_api_register(struct vg_fleet *f, struct vg_api *api)
{
    int rc = VG_OK;
    for (size_t i = 0; i < VG_ARRAY_LEN(routes) && rc == VG_OK; i++) {
        rc =
            vg_api_route(api, routes[i].method, routes[i].pattern, routes[i].role, routes[i].fn, f);
    }
    return rc ? rc : vg_api_metrics_add(api, metrics, f);
}
