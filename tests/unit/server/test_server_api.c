/*
 * test_server_api.c — the server's REST endpoints over real HTTP on loopback: ingest NDJSON
 * with an ingest token, then search (field and free-text queries, an aggregation, a query
 * error pointing at its column), alerts with their ATT&CK tags and entities, the rules list,
 * a reload (admin only), stats, per-rule metrics and /healthz; every route denies a
 * request without credentials or with too small a role.
 */
#include "../api/api_test.h"
#include "server/server.h"

struct srv {
    char dir[64];
    struct vg_server_conf c;
    struct vg_server *s;
    int port;
    char ingest[VG_API_TOKEN_SIZE], reader[VG_API_TOKEN_SIZE], admin[VG_API_TOKEN_SIZE];
};

static bool srv_token(struct srv *v, const char *name, int role, char *tok)
{
    struct vg_api_auth *a = NULL;
    char err[256];
    bool ok = vg_api_auth_open(v->dir, &a, err, sizeof(err)) == VG_OK &&
              vg_api_token_create(a, name, role, "default", VG_TIME_NONE, tok, VG_API_TOKEN_SIZE) ==
                  VG_OK;
    vg_api_auth_close(a);
    return ok;
}

static bool srv_open(struct srv *v)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->dir, sizeof(v->dir), "/tmp/vg-srvapi-XXXXXX");
    char err[512], rules[1024];
    if (!mkdtemp(v->dir) || vg_server_conf_load(NULL, &v->c, err, sizeof(err)) != VG_OK) {
        return false;
    }
    snprintf(rules, sizeof(rules), "%s/examples/rules", VG_SOURCE_DIR);
    vg_free(v->c.data_dir);
    v->c.data_dir = vg_strdup(v->dir);
    vg_free(v->c.http_listen);
    v->c.http_listen = vg_strdup("127.0.0.1:0");
    vg_strlist_free(&v->c.syslog_udp);
    vg_strlist_free(&v->c.syslog_tcp);
    vg_strlist_add(&v->c.rules_paths, rules);
    v->c.workers = 2;
    if (!srv_token(v, "collector", VG_API_ROLE_INGEST, v->ingest) ||
        !srv_token(v, "reader", VG_API_ROLE_READ, v->reader) ||
        !srv_token(v, "admin", VG_API_ROLE_ADMIN, v->admin) ||
        vg_server_create(&v->c, &v->s, err, sizeof(err)) != VG_OK ||
        vg_server_start(v->s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return false;
    }
    v->port = vg_server_http_port(v->s);
    return v->port > 0;
}

static void srv_close(struct srv *v)
{
    vg_server_destroy(v->s);
    vg_server_conf_fini(&v->c);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", v->dir);
    }
}

static int call(struct srv *v, const char *tok, const char *method, const char *path,
                const char *body, struct hresp *r)
{
    char h[256] = "";
    if (tok) {
        snprintf(h, sizeof(h), "Authorization: Bearer %s\r\n", tok);
    }
    return http1(v->port, method, path, h, body, r);
}

static const char ndjson[] =
    "{\"@timestamp\":\"2026-11-20T09:20:00Z\",\"event\":{\"id\":\"e1\"},\"message\":\"Nov 20 "
    "09:20:00 bastion sshd[2210]: Failed password for root from 198.51.100.23 port 50120 ssh2\"}\n"
    "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\","
    "\"Computer\":\"WS-FIN-07\",\"Provider\":{\"#attributes\":{\"Name\":\"Microsoft-Windows-"
    "Sysmon\"}},\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2026-11-20T09:15:44Z\"}}},"
    "\"EventData\":{\"Image\":\"C:\\\\Windows\\\\System32\\\\whoami.exe\",\"OriginalFileName\":"
    "\"whoami.exe\",\"CommandLine\":\"whoami /all\",\"User\":\"CORP\\\\jdoe\"}}}\n";

VG_TEST(rest_endpoints_end_to_end)
{
    struct srv v;
    struct hresp r = {0};
    if (!srv_open(&v)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", ndjson, &r), 200);
    CHECK(r.body && strstr(r.body, "\"accepted\":2"));
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);

    /* search: fields, free text, aggregation, errors */
    CHECK_EQ_INT(
        call(&v, v.reader, "GET", "/api/v1/search?q=OriginalFileName%3Awhoami.exe", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"matched\":1") && strstr(r.body, "WS-FIN-07"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/search?q=%22Failed+password%22", NULL, &r),
                 200);
    CHECK(r.body && strstr(r.body, "\"matched\":1"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/search?q=*+%7C+stats+count", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"columns\":[\"count\"]") && strstr(r.body, "[2]"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/search?q=user.name%3A(alice", NULL, &r), 400);
    CHECK(r.body && strstr(r.body, "column"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/search?q=x&from=yesterdayish", NULL, &r), 400);

    /* alerts carry the rule, ATT&CK ids, entities and the event */
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/alerts?min_level=3", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "Whoami Privilege Discovery") && strstr(r.body, "T1033") &&
          strstr(r.body, "WS-FIN-07") && strstr(r.body, "whoami /all"));

    /* rules, reload (admin only), stats, metrics, health */
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/rules", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"kind\":\"correlation\"") && strstr(r.body, "attack."));
    CHECK_EQ_INT(call(&v, v.reader, "POST", "/api/v1/rules/reload", "", &r), 403);
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/rules/reload", "", &r), 200);
    CHECK(r.body && strstr(r.body, "\"reloads\":1"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/stats", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"stored\":2"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/metrics", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "vigie_store_events_total 2") &&
          strstr(r.body, "vigie_rule_matches_total{rule=\""));
    CHECK_EQ_INT(call(&v, NULL, "GET", "/healthz", NULL, &r), 200);

    /* deny by default */
    CHECK_EQ_INT(call(&v, NULL, "GET", "/api/v1/search?q=x", NULL, &r), 401);
    CHECK_EQ_INT(call(&v, v.ingest, "GET", "/api/v1/alerts", NULL, &r), 403);
    CHECK_EQ_INT(call(&v, NULL, "GET", "/api/v1/rules", NULL, &r), 401);
    hresp_free(&r);
    srv_close(&v);
}
