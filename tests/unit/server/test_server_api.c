/*
 * test_server_api.c — the server's REST endpoints over real HTTP on loopback: ingest NDJSON
 * with an ingest token, then search (field and free-text queries, an aggregation, a query
 * error pointing at its column), alerts with their ATT&CK tags and entities, the rules list,
 * a reload (admin only), stats, per-rule metrics and /healthz; every route denies a
 * request without credentials or with too small a role.
 */
#include "srv_test.h"

static bool srv_open(struct srv *v)
{
    char rules[1024];
    if (!srv_prepare(v, "srvapi")) {
        return false;
    }
    snprintf(rules, sizeof(rules), "%s/examples/rules", VG_SOURCE_DIR);
    vg_strlist_add(&v->c.rules_paths, rules);
    v->c.workers = 2;
    return srv_start(v);
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
