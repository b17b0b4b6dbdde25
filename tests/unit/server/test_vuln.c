/*
 * test_vuln.c — vulnerabilities of the fleet in the server (server_vuln.c) over real HTTP on
 * loopback: advisory files imported through POST /api/v1/vulns/db/import (Debian tracker,
 * KEV, EPSS fixtures of tests/unit/vuln/data/db), inventory events in the agent's layout
 * (inventory_host, inventory_packages, package_upgraded / package_removed) sent through the
 * ingest API, then the findings per host under /api/v1/vulns: ranked (known exploited first),
 * explained ("why"), filtered, first-seen kept across rescans, resolved by an upgrade,
 * reports in SARIF and CycloneDX, the advisory status, tenants kept apart, every change
 * refused without the role, new known-exploited findings as events that the built-in rule
 * turns into alerts (once), and a restart that keeps the state. Also: an import by another
 * handle (what `vigie vuln db import` does beside the server) reaches old inventories.
 */
#include "server/server_int.h"
#include "srv_test.h"

#include "vuln/vuln_db.h"

#include <unistd.h>

static bool srv_open(struct srv *v)
{
    if (!srv_prepare(v, "srvvuln")) {
        return false;
    }
    v->c.triage_enabled = false;
    v->c.playbooks_builtin = false;
    v->c.intel_enabled = false;
    v->c.workers = 2;
    v->c.vuln_recheck_s = 1;
    if (getenv("VG_TEST_VERBOSE")) {
        vg_log_set_level(VG_LOG_INFO);
    }
    return srv_start(v);
}

static char *slurp(const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/unit/vuln/data/db/%s", vgt_source_dir(), name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *buf = vg_calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf) {
        buf[n] = '\0';
    }
    return buf;
}

static bool import(struct srv *v, const char *name, struct hresp *r)
{
    char path[256];
    char *doc = slurp(name);
    snprintf(path, sizeof(path), "/api/v1/vulns/db/import?name=%s", name);
    bool ok = doc && call(v, v->admin, "POST", path, doc, r) == 200;
    vg_free(doc);
    return ok;
}

/* The agent's inventory events (src/agent/agent_inv.c), as JSON lines with host.name to key
   them (agents are keyed by the id the fleet listener records). */
static const char inventory[] =
    "{\"@timestamp\":\"2026-11-29T10:00:00Z\",\"event.module\":\"vigie-agent\","
    "\"event.dataset\":\"inventory\",\"event.kind\":\"state\",\"event.category\":\"host\","
    "\"event.type\":\"info\",\"event.action\":\"inventory_host\",\"host.name\":\"db-1\","
    "\"host.hostname\":\"db-1\",\"host.os.platform\":\"debian\",\"host.os.version\":\"12\","
    "\"host.os.full\":\"Debian GNU/Linux 12 (bookworm)\"}\n"
    "{\"@timestamp\":\"2026-11-29T10:00:00Z\",\"event.module\":\"vigie-agent\","
    "\"event.dataset\":\"inventory\",\"event.kind\":\"state\",\"event.category\":\"package\","
    "\"event.type\":\"info\",\"event.action\":\"inventory_packages\",\"host.name\":\"db-1\","
    "\"inventory.count\":3,\"packages\":["
    "{\"name\":\"libssl3\",\"version\":\"3.0.11-1~deb12u2\",\"architecture\":\"amd64\","
    "\"type\":\"deb\",\"source\":\"openssl\"},"
    "{\"name\":\"openssl\",\"version\":\"3.0.11-1~deb12u2\",\"architecture\":\"amd64\","
    "\"type\":\"deb\"},"
    "{\"name\":\"bash\",\"version\":\"5.2.15-2+b2\",\"architecture\":\"amd64\",\"type\":\"deb\"}"
    "]}\n";

static const char upgrade[] =
    "{\"@timestamp\":\"2026-11-29T11:00:00Z\",\"event.dataset\":\"inventory\","
    "\"event.action\":\"package_upgraded\",\"host.name\":\"db-1\",\"package.name\":\"libssl3\","
    "\"package.version\":\"3.0.13-1~deb12u1\",\"package.architecture\":\"amd64\","
    "\"package.type\":\"deb\",\"package.source\":\"openssl\","
    "\"package.previous.version\":\"3.0.11-1~deb12u2\"}\n"
    "{\"@timestamp\":\"2026-11-29T11:00:01Z\",\"event.dataset\":\"inventory\","
    "\"event.action\":\"package_removed\",\"host.name\":\"db-1\",\"package.name\":\"openssl\","
    "\"package.version\":\"3.0.11-1~deb12u2\",\"package.architecture\":\"amd64\","
    "\"package.type\":\"deb\"}\n";

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static bool settle(struct srv *v)
{
    return vg_server_wait_idle(v->s, 30000) == VG_OK &&
           vg_server_vuln_wait_idle(v->s->vuln, 30000) == VG_OK;
}

VG_TEST(vuln_findings_end_to_end)
{
    struct srv v;
    struct hresp r = {0};
    if (!srv_open(&v)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    /* advisories through the API (admin only) */
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/vulns/db/import?name=kev.json", "{}", &r),
                 403);
    CHECK_EQ_INT(call(&v, NULL, "GET", "/api/v1/vulns", NULL, &r), 401);
    CHECK(import(&v, "tracker.json", &r));
    CHECK(r.body && strstr(r.body, "\"source\":\"debian-tracker\""));
    CHECK(import(&v, "kev.json", &r));
    CHECK(import(&v, "epss.csv", &r));
    CHECK_EQ_INT(call(&v, v.reader, "POST", "/api/v1/vulns/db/import?name=x.json",
                      "{\"not\":\"advisories\"}", &r),
                 403);
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/vulns/db/import?name=x.json",
                      "{\"not\":\"advisories\"}", &r),
                 400);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/db", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "debian-tracker") && strstr(r.body, "\"kev\":"));

    /* the inventory of one host */
    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", inventory, &r), 200);
    CHECK(settle(&v));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts", NULL, &r), 200);
    if (getenv("VG_TEST_VERBOSE")) {
        fprintf(stderr, "%s\n", r.body ? r.body : "");
    }
    CHECK(r.body && strstr(r.body, "\"host\":\"db-1\"") &&
          strstr(r.body, "\"ecosystem\":\"Debian:12\"") && strstr(r.body, "\"packages\":3") &&
          strstr(r.body, "\"kev\":2") && strstr(r.body, "\"pending\":false"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?limit=100", NULL, &r), 200);
    if (getenv("VG_TEST_VERBOSE")) {
        fprintf(stderr, "%s\n", r.body ? r.body : "");
    }
    /* known exploited first, with the reason, the bookworm fix and EPSS */
    const char *first = r.body ? strstr(r.body, "\"items\":[{") : NULL;
    CHECK(first && strstr(first, "\"id\":\"CVE-2099-1000\"") &&
          strstr(first, "\"id\":\"CVE-2099-1000\"") < strstr(first, "\"kev\":false"));
    CHECK(r.body && strstr(r.body, "\"fixed\":\"3.0.13-1~deb12u1\""));
    CHECK(r.body && strstr(r.body, "\"why\":\"libssl3 3.0.11-1~deb12u2 (source openssl) is "
                                   "affected by CVE-2099-1000"));
    CHECK(r.body && strstr(r.body, "\"epss\":0.97123"));
    CHECK(r.body && strstr(r.body, "\"host_name\":\"db-1\"") &&
          strstr(r.body, "\"first_seen\":\""));
    CHECK(r.body && !strstr(r.body, "\"package\":\"bash\""));
    int total_before = count(r.body, "\"why\":");
    CHECK(total_before >= 4); /* both openssl binaries, several CVEs */
    CHECK(r.body && strstr(r.body, "\"id\":\"CVE-2099-1001\"") &&
          strstr(r.body, "no fix released for Debian:12"));

    /* the new known-exploited findings became events, and the built-in rule's alerts */
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/alerts?limit=100", NULL, &r), 200);
    if (getenv("VG_TEST_VERBOSE")) {
        fprintf(stderr, "%s\n", r.body ? r.body : "");
    }
    CHECK_EQ_INT(count(r.body, "Known exploited vulnerability found on a host"), 2);
    CHECK(r.body && strstr(r.body, "\"host.name\":\"db-1\"") && strstr(r.body, "CVE-2099-1000"));

    /* filters */
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?kev=true&package=libssl3", NULL, &r),
                 200);
    CHECK_EQ_INT(count(r.body, "\"why\":"), 1);
    CHECK(r.body && strstr(r.body, "\"total\":1"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?q=CVE-2099-1001", NULL, &r), 200);
    CHECK(r.body && count(r.body, "\"why\":") == 2 && !strstr(r.body, "CVE-2099-1000"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?severity=urgent", NULL, &r), 400);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?limit=5000", NULL, &r), 400);

    /* one host, and its reports in the scanner formats */
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts/db-1", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"findings\":[{") && count(r.body, "\"why\":") == total_before);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts/db-1?format=sarif", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"version\":\"2.1.0\"") && strstr(r.body, "CVE-2099-1000"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts/db-1?format=cyclonedx", NULL, &r),
                 200);
    CHECK(r.body && strstr(r.body, "\"specVersion\":\"1.5\"") &&
          strstr(r.body, "pkg:deb/debian/libssl3@3.0.11-1~deb12u2"));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts/nope", NULL, &r), 404);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts/db-1?format=pdf", NULL, &r), 400);

    /* a rescan keeps first_seen; a reader may not ask for one */
    CHECK_EQ_INT(call(&v, v.reader, "POST", "/api/v1/vulns/rescan", "", &r), 403);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?q=CVE-2099-1001&limit=1", NULL, &r), 200);
    char seen[64] = "";
    const char *fs = r.body ? strstr(r.body, "\"first_seen\":\"") : NULL;
    if (fs) {
        snprintf(seen, sizeof(seen), "%.40s", fs);
    }
    sleep(1);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/vulns/rescan", "", &r), 200);
    CHECK(r.body && strstr(r.body, "\"hosts\":1"));
    CHECK(settle(&v));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?q=CVE-2099-1001&limit=1", NULL, &r), 200);
    CHECK(seen[0] && r.body && strstr(r.body, seen));
    /* nothing new: no new events, no new alerts */
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/alerts?limit=100", NULL, &r), 200);
    CHECK_EQ_INT(count(r.body, "Known exploited vulnerability found on a host"), 2);

    /* libssl3 upgraded to the bookworm fix, the openssl binary removed: CVE-2099-1000 is gone */
    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", upgrade, &r), 200);
    CHECK(settle(&v));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns?limit=100", NULL, &r), 200);
    CHECK(r.body && !strstr(r.body, "CVE-2099-1000"));
    CHECK(r.body && !strstr(r.body, "\"package\":\"openssl\""));
    CHECK(r.body && strstr(r.body, "CVE-2099-1001") &&
          strstr(r.body, "\"installed\":\"3.0.13-1~deb12u1\""));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"packages\":2") && strstr(r.body, "\"kev\":0"));

    /* another tenant sees nothing of it */
    char other[VG_API_TOKEN_SIZE];
    struct vg_api_auth *a = NULL;
    char err[256];
    CHECK(vg_api_auth_open(v.dir, &a, err, sizeof(err)) == VG_OK &&
          vg_api_token_create(a, "acme-reader", VG_API_ROLE_ADMIN, "acme", VG_TIME_NONE, other,
                              sizeof(other)) == VG_OK);
    vg_api_auth_close(a);
    CHECK_EQ_INT(call(&v, other, "GET", "/api/v1/vulns", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"items\":[]") && strstr(r.body, "\"total\":0"));
    CHECK_EQ_INT(call(&v, other, "GET", "/api/v1/vulns/hosts/db-1", NULL, &r), 404);
    CHECK_EQ_INT(call(&v, other, "POST", "/api/v1/vulns/db/import?name=kev.json", "{}", &r), 403);

    CHECK_EQ_INT(call(&v, v.reader, "GET", "/metrics", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "vigie_vuln_hosts 1") &&
          strstr(r.body, "vigie_vuln_findings_resolved_total"));

    /* a restart keeps hosts, packages and findings (same directory, same tokens) */
    vg_server_destroy(v.s);
    v.s = NULL;
    CHECK(vg_server_create(&v.c, &v.s, err, sizeof(err)) == VG_OK &&
          vg_server_start(v.s, err, sizeof(err)) == VG_OK);
    v.port = v.s ? vg_server_http_port(v.s) : 0;
    if (v.port > 0) {
        CHECK(settle(&v));
        CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts/db-1", NULL, &r), 200);
        CHECK(r.body && strstr(r.body, "CVE-2099-1001") && strstr(r.body, "\"packages\":2"));
    }
    srv_close(&v);
    hresp_free(&r);
}

/* `vigie vuln db import` beside the running server: the next check rematches every host. */
VG_TEST(outside_import_reaches_old_inventories)
{
    struct srv v;
    struct hresp r = {0};
    if (!srv_open(&v)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", inventory, &r), 200);
    CHECK(settle(&v));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"total\":0"));

    char dir[512], err[512];
    struct vg_vuln_db *db = NULL;
    snprintf(dir, sizeof(dir), "%s/vuln", v.dir);
    snprintf(err, sizeof(err), "%s/tests/unit/vuln/data/db/tracker.json", vgt_source_dir());
    char path[1024];
    snprintf(path, sizeof(path), "%s", err);
    CHECK_EQ_INT(vg_vuln_db_open(dir, false, &db, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_vuln_db_import(db, path, NULL, err, sizeof(err)), VG_OK);
    vg_vuln_db_close(db);
    bool seen = false;
    for (int i = 0; i < 100 && !seen; i++) { /* vuln.recheck is 1 s here */
        usleep(100000);
        seen = call(&v, v.reader, "GET", "/api/v1/vulns", NULL, &r) == 200 && r.body &&
               strstr(r.body, "CVE-2099-1000");
    }
    CHECK(seen);
    srv_close(&v);
    hresp_free(&r);
}

/* An Alpine host (the agent's apk inventory): OSV records of its release, by origin. */
VG_TEST(alpine_host_matched_by_origin)
{
    static const char osv[] =
        "{\"id\":\"ALPINE-CVE-2099-7100\",\"modified\":\"2026-01-01T00:00:00Z\","
        "\"affected\":[{\"package\":{\"ecosystem\":\"Alpine:v3.19\",\"name\":\"openssl\"},"
        "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
        "\"3.1.4-r6\"}]}]}]}";
    static const char inv[] =
        "{\"event.dataset\":\"inventory\",\"event.action\":\"inventory_host\",\"host.name\":"
        "\"edge-1\",\"host.os.platform\":\"alpine\",\"host.os.version\":\"3.19.1\"}\n"
        "{\"event.dataset\":\"inventory\",\"event.action\":\"inventory_packages\",\"host.name\":"
        "\"edge-1\",\"packages\":[{\"name\":\"libcrypto3\",\"version\":\"3.1.4-r5\","
        "\"architecture\":\"x86_64\",\"type\":\"apk\",\"source\":\"openssl\"},{\"name\":"
        "\"musl\",\"version\":\"1.2.4_git20230717-r4\",\"architecture\":\"x86_64\",\"type\":"
        "\"apk\"}]}\n";
    struct srv v;
    struct hresp r = {0};
    if (!srv_open(&v)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/vulns/db/import?name=alpine.json", osv, &r),
                 200);
    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", inv, &r), 200);
    CHECK(settle(&v));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns/hosts/edge-1", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"ecosystem\":\"Alpine:v3.19\"") &&
          strstr(r.body, "\"packages\":2") && strstr(r.body, "ALPINE-CVE-2099-7100") &&
          strstr(r.body, "\"package\":\"libcrypto3\"") && strstr(r.body, "\"fixed\":\"3.1.4-r6\""));
    srv_close(&v);
    hresp_free(&r);
}

VG_TEST(disabled_serves_nothing)
{
    struct srv v;
    struct hresp r = {0};
    if (!srv_prepare(&v, "srvvuln")) {
        CHECK(!"prepare");
        return;
    }
    v.c.vuln_enabled = false;
    v.c.rules_builtin = false;
    CHECK(srv_start(&v));
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/vulns", NULL, &r), 404);
    CHECK_EQ_INT(call(&v, v.ingest, "POST", "/api/v1/ingest", inventory, &r), 200);
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);
    srv_close(&v);
    hresp_free(&r);
}
