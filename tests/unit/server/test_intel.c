/*
 * test_intel.c — threat intelligence in the server (server_intel.c) over real HTTP on
 * loopback: a STIX bundle and a MISP warninglist imported through POST /api/v1/intel/import,
 * events sent through the ingest API whose destination.ip / dns.question.name hit become
 * "intel:<type>" alerts carrying threat.indicator.* context and ATT&CK ids; a warninglisted
 * indicator raises nothing; stats, search, objects and lookup answer; changes are refused
 * without credentials and to a reader; an import while events flow loses none; a source
 * removed stops matching; intel.min_confidence filters; intel.enabled false serves no route;
 * the intel.lookup playbook action answers from the server's snapshot; an import by another
 * handle on the store (what `vigie intel import` does) is picked up by the reload thread.
 */
#include "../respond/act_test.h"
#include "server/server_int.h"
#include "srv_test.h"

#include "intel/intel_db.h"

#include <pthread.h>
#include <unistd.h>

/* A server with no rules (only intel alerts), min_conf and intel.enabled as given. */
static bool srv_open(struct srv *v, int64_t min_conf, bool enabled)
{
    if (!srv_prepare(v, "srvintel")) {
        return false;
    }
    v->c.rules_builtin = false;
    v->c.triage_enabled = false;
    v->c.playbooks_builtin = false;
    v->c.workers = 2;
    v->c.batch = 16; /* many batches: imports land between them */
    v->c.intel_min_confidence = min_conf;
    v->c.intel_enabled = enabled;
    v->c.intel_reload_s = 1;
    return srv_start(v);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static const char bundle[] =
    "{\"type\":\"bundle\",\"id\":\"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d\",\"objects\":["
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"created\":\"2026-11-01T00:00:00Z\",\"modified\":\"2026-11-01T00:00:00Z\","
    "\"name\":\"Cobalt C2 server\",\"pattern\":\"[ipv4-addr:value = '203.0.113.7']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2026-11-01T00:00:00Z\",\"confidence\":90,"
    "\"labels\":[\"malicious-activity\",\"tlp:amber\"]},"
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--1f1c4a5e-3c6a-4f7e-9f1d-2b7c5d1e8a90\","
    "\"created\":\"2026-11-01T00:00:00Z\",\"modified\":\"2026-11-01T00:00:00Z\","
    "\"name\":\"Phishing domain\",\"pattern\":\"[domain-name:value = 'evil-login.example']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2026-11-01T00:00:00Z\",\"confidence\":60},"
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\","
    "\"id\":\"indicator--7a6c1d2e-0b4f-4c3a-8e9d-1f2a3b4c5d6e\","
    "\"created\":\"2026-11-01T00:00:00Z\",\"modified\":\"2026-11-01T00:00:00Z\","
    "\"name\":\"Resolver seen in a report\",\"pattern\":\"[ipv4-addr:value = '8.8.8.8']\","
    "\"pattern_type\":\"stix\",\"valid_from\":\"2026-11-01T00:00:00Z\",\"confidence\":90},"
    "{\"type\":\"attack-pattern\",\"spec_version\":\"2.1\","
    "\"id\":\"attack-pattern--c21d5a77-d422-4a69-acd7-2c53c1faa34b\","
    "\"created\":\"2026-11-01T00:00:00Z\",\"modified\":\"2026-11-01T00:00:00Z\","
    "\"name\":\"Application Layer Protocol\",\"external_references\":[{\"source_name\":"
    "\"mitre-attack\",\"external_id\":\"T1071\"}]},"
    "{\"type\":\"relationship\",\"spec_version\":\"2.1\","
    "\"id\":\"relationship--0e6b5a3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c\","
    "\"created\":\"2026-11-01T00:00:00Z\",\"modified\":\"2026-11-01T00:00:00Z\","
    "\"relationship_type\":\"indicates\","
    "\"source_ref\":\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\","
    "\"target_ref\":\"attack-pattern--c21d5a77-d422-4a69-acd7-2c53c1faa34b\"}]}";

static const char warninglist[] =
    "{\"name\":\"Public DNS resolvers\",\"version\":1,\"description\":\"test\","
    "\"type\":\"cidr\",\"matching_attributes\":[\"ip-dst\",\"ip-src\"],"
    "\"list\":[\"8.8.8.8/32\",\"1.1.1.1/32\"]}";

static const char events[] =
    "{\"@timestamp\":\"2026-11-20T09:20:00Z\",\"event\":{\"id\":\"i1\"},\"host\":{\"name\":"
    "\"web-1\"},\"source\":{\"ip\":\"10.0.0.5\"},\"destination\":{\"ip\":\"203.0.113.7\","
    "\"port\":443}}\n"
    "{\"@timestamp\":\"2026-11-20T09:20:01Z\",\"event\":{\"id\":\"i2\"},\"host\":{\"name\":"
    "\"web-2\"},\"dns\":{\"question\":{\"name\":\"evil-login.example\"}}}\n"
    "{\"@timestamp\":\"2026-11-20T09:20:02Z\",\"event\":{\"id\":\"i3\"},\"host\":{\"name\":"
    "\"web-3\"},\"destination\":{\"ip\":\"8.8.8.8\",\"port\":53}}\n"
    "{\"@timestamp\":\"2026-11-20T09:20:03Z\",\"event\":{\"id\":\"i4\"},\"host\":{\"name\":"
    "\"web-4\"},\"destination\":{\"ip\":\"192.0.2.99\"}}\n";

static bool import(struct srv *v, const char *q, const char *doc, struct hresp *r)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/intel/import?%s", q);
    return call(v, v->analyst, "POST", path, doc, r) == 200;
}

VG_TEST(intel_alerts_end_to_end)
{
    struct srv v;
    struct hresp r = {0};
    if (!srv_open(&v, 0, true)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK(import(&v, "source=wl&format=warninglist", warninglist, &r));
    CHECK(import(&v, "source=acme&format=stix", bundle, &r));
    CHECK(r.body && strstr(r.body, "\"source\":\"acme\"") && strstr(r.body, "\"indicators\":3"));
    CHECK(r.body && strstr(r.body, "\"warninglisted\":1"));

    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", events, &r), 200);
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/alerts?limit=100", NULL, &r), 200);
    if (getenv("VG_TEST_VERBOSE")) {
        fprintf(stderr, "%s\n", r.body ? r.body : "");
    }
    /* the C2 address: high (confidence 90), ATT&CK from the relationship, TLP from a label */
    CHECK(r.body && strstr(r.body, "intel:ipv4"));
    CHECK(r.body && strstr(r.body, "Threat intel match: destination.ip 203.0.113.7 (acme)"));
    CHECK(r.body && strstr(r.body, "T1071") && strstr(r.body, "attack.t1071"));
    CHECK(r.body && strstr(r.body, "\"threat.indicator.provider\":\"acme\""));
    CHECK(r.body && strstr(r.body, "\"threat.indicator.marking.tlp\":\"AMBER\""));
    CHECK(r.body && strstr(r.body, "\"threat.indicator.description\":\"Cobalt C2 server\""));
    CHECK(r.body && strstr(r.body, "\"vigie.intel\":{"));
    /* the domain through dns.question.name */
    CHECK(r.body && strstr(r.body, "intel:domain") &&
          strstr(r.body, "dns.question.name evil-login.example (acme)"));
    /* the warninglisted resolver and the unknown address raise nothing */
    CHECK(r.body && !strstr(r.body, "8.8.8.8 ("));
    CHECK(r.body && !strstr(r.body, "192.0.2.99"));
    CHECK_EQ_INT(count(r.body, "Threat intel match"), 2);

    /* reads */
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/stats", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "acme"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/indicators?q=cobalt", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "203.0.113.7") && strstr(r.body, "\"items\":[") &&
          !strstr(r.body, "evil-login"));
    CHECK_EQ_INT(
        call(&v, v.reader, "GET", "/api/v1/intel/indicators?type=domain&limit=5", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "evil-login.example") && strstr(r.body, "\"limit\":5"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/indicators?type=nope", NULL, &r), 400);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/objects?q=T1071", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "Application Layer Protocol"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/lookup?value=203.0.113.7", NULL, &r),
                 200);
    CHECK(r.body && strstr(r.body, "\"found\":true") && strstr(r.body, "Cobalt C2 server"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/lookup?value=8.8.8.8", NULL, &r), 404);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/lookup?value=a.b.c&type=bogus", NULL, &r),
                 400);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/lookup", NULL, &r), 400);

    /* changes: no credentials, a reader, bad parameters */
    CHECK_EQ_INT(call(&v, NULL, "POST", "/api/v1/intel/import?source=x", bundle, &r), 401);
    CHECK_EQ_INT(call(&v, NULL, "GET", "/api/v1/intel/stats", NULL, &r), 401);
    CHECK_EQ_INT(call(&v, v.reader, "POST", "/api/v1/intel/import?source=x", bundle, &r), 403);
    CHECK_EQ_INT(call(&v, v.ingest, "GET", "/api/v1/intel/stats", NULL, &r), 403);
    CHECK_EQ_INT(call(&v, v.reader, "DELETE", "/api/v1/intel/sources/acme", NULL, &r), 403);
    CHECK_EQ_INT(call(&v, NULL, "DELETE", "/api/v1/intel/sources/acme", NULL, &r), 401);
    CHECK_EQ_INT(call(&v, v.reader, "POST", "/api/v1/intel/expire", "", &r), 403);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/intel/import?source=../x", bundle, &r), 400);
    CHECK_EQ_INT(
        call(&v, v.analyst, "POST", "/api/v1/intel/import?source=x&format=pdf", bundle, &r), 400);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/intel/import?source=x&format=stix",
                      "{\"type\":\"bundle\",\"objects\":[", &r),
                 400);
    CHECK(r.body && strstr(r.body, "import:"));
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/intel/expire", "", &r), 200);
    CHECK(r.body && strstr(r.body, "\"removed\":0"));

    /* the playbook action, through the services' callback as server_soc.c wires it */
    struct vg_respond_services svc = {.intel_lookup = vg_server_intel_lookup,
                                      .intel_ctx = v.s->intel};
    struct act_run ar;
    CHECK_EQ_INT(act_run("intel.lookup", "{\"value\":\"evil-login.example\"}", &svc, 2000, &ar),
                 VG_OK);
    const struct vg_json *ind = ar.out ? vg_json_get(ar.out, "indicator") : NULL;
    CHECK(ar.out && vg_json_get(ar.out, "found") &&
          vg_json_get(ar.out, "found")->type == VG_JSON_TRUE);
    CHECK(ind && vg_json_str_is(vg_json_get(ind, "source"), "acme"));
    act_done(&ar);
    CHECK_EQ_INT(
        act_run("intel.lookup", "{\"value\":\"192.0.2.200\",\"type\":\"ip\"}", &svc, 2000, &ar),
        VG_OK);
    CHECK(ar.out && vg_json_get(ar.out, "found") &&
          vg_json_get(ar.out, "found")->type == VG_JSON_FALSE);
    act_done(&ar);
    CHECK_EQ_INT(act_run("intel.lookup", "{\"value\":\"x\",\"type\":\"bogus\"}", &svc, 2000, &ar),
                 VG_EINVAL);
    CHECK(strstr(ar.res.err, "bogus") && !ar.res.retryable);
    act_done(&ar);

    /* removal: the address stops matching at once */
    CHECK_EQ_INT(call(&v, v.analyst, "DELETE", "/api/v1/intel/sources/nosuch", NULL, &r), 404);
    CHECK_EQ_INT(call(&v, v.analyst, "DELETE", "/api/v1/intel/sources/acme", NULL, &r), 200);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/lookup?value=203.0.113.7", NULL, &r),
                 404);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/metrics", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "vigie_intel_hits_total 2"));
    hresp_free(&r);
    srv_close(&v);
}

struct flow {
    struct srv *v;
    int batches, failures;
};

/* 40 requests of 25 events each, half hitting 203.0.113.7. */
static void *send_events(void *arg)
{
    struct flow *f = arg;
    struct hresp r = {0};
    struct vg_sbuf b = VG_SBUF_INIT;
    for (int k = 0; k < 40; k++) {
        b.len = 0;
        for (int i = 0; i < 25; i++) {
            int n = k * 25 + i;
            vg_sbuf_printf(&b,
                           "{\"@timestamp\":\"2026-11-20T10:00:00Z\",\"event\":{\"id\":\"f%d\"},"
                           "\"destination\":{\"ip\":\"%s\"}}\n",
                           n, n % 2 ? "203.0.113.7" : "192.0.2.1");
        }
        if (call(f->v, f->v->ingest, "POST", "/api/v1/ingest", b.p, &r) != 200) {
            f->failures++;
        }
        f->batches++;
    }
    vg_sbuf_fini(&b);
    hresp_free(&r);
    return NULL;
}

VG_TEST(import_while_events_flow_loses_none)
{
    struct srv v;
    struct hresp r = {0};
    if (!srv_open(&v, 0, true)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK(import(&v, "source=acme&format=stix", bundle, &r));
    struct flow f = {&v, 0, 0};
    pthread_t th;
    CHECK_EQ_INT(pthread_create(&th, NULL, send_events, &f), 0);
    for (int i = 0; i < 10; i++) { /* re-import (new generations) while events arrive */
        char q[64];
        snprintf(q, sizeof(q), "source=acme%d&format=stix", i % 2);
        CHECK(import(&v, q, bundle, &r));
    }
    pthread_join(th, NULL);
    CHECK_EQ_INT(f.failures, 0);
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 60000), VG_OK);
    struct vg_server_stats st;
    vg_server_get_stats(v.s, &st);
    CHECK_EQ_INT((long long)st.stored, 1000);
    /* every hitting event alerted once (source "acme" stayed throughout; a value held by
       several sources is one indicator) */
    CHECK_EQ_INT((long long)st.alerts, 500); /* one per hitting event, whatever generation */
    hresp_free(&r);
    srv_close(&v);
}

VG_TEST(min_confidence_and_disabled)
{
    struct srv v;
    struct hresp r = {0};
    if (!srv_open(&v, 70, true)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK(import(&v, "source=acme&format=stix", bundle, &r));
    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", events, &r), 200);
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/alerts?limit=100", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "intel:ipv4") && !strstr(r.body, "intel:domain"));
    srv_close(&v);

    if (!srv_open(&v, 0, false)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/stats", NULL, &r), 404);
    hresp_free(&r);
    srv_close(&v);
}

VG_TEST(outside_import_is_picked_up)
{
    struct srv v;
    struct hresp r = {0};
    struct vg_intel_db *db = NULL;
    struct vg_intel_import_report rep;
    char dir[128], err[512];
    if (!srv_open(&v, 0, true)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/intel/lookup?value=203.0.113.7", NULL, &r),
                 404);
    snprintf(dir, sizeof(dir), "%s/intel", v.dir);
    CHECK_EQ_INT(vg_intel_db_open(dir, false, &db, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_intel_db_import_mem(db, "test", bundle, strlen(bundle), "cli",
                                        VG_INTEL_FMT_STIX, NULL, &rep, err, sizeof(err)),
                 VG_OK);
    vg_intel_db_close(db);
    int status = 0;
    for (int i = 0; i < 40 && status != 200; i++) { /* intel.reload is 1 s */
        usleep(100000);
        status = call(&v, v.reader, "GET", "/api/v1/intel/lookup?value=203.0.113.7", NULL, &r);
    }
    CHECK_EQ_INT(status, 200);
    CHECK(r.body && strstr(r.body, "\"source\":\"cli\""));
    hresp_free(&r);
    srv_close(&v);
}
