/*
 * test_rules_api.c — managing rules through the REST API (server_rules_api.c) over real HTTP
 * on loopback: a pasted rule tested against stored events (matches, bounds, bad YAML → 400
 * naming the line), disable / enable (the rule leaves GET /api/v1/rules' enabled list and
 * stops alerting), a custom rule uploaded, listed, saved disabled and deleted, every change
 * refused to non-admins (401/403) and to admins of another tenant, the audit records, and
 * the disabled list and custom rules kept across a restart.
 */
#include "srv_test.h"

#include <sys/stat.h>

#define SSHD_RULE_ID "5e0b7c1e-3f0a-4d5e-9a31-0c1d2e3f4a5b"

static const char sshd_rule[] = "title: Test sshd failed password\n"
                                "id: " SSHD_RULE_ID "\n"
                                "logsource:\n"
                                "  product: linux\n"
                                "  service: sshd\n"
                                "detection:\n"
                                "  sel:\n"
                                "    message|contains: Failed password\n"
                                "  condition: sel\n"
                                "level: low\n";

/* Syslog lines (POST /api/v1/ingest as text/plain: one record a line). */
static const char lines[] =
    "<38>Nov 20 09:20:00 bastion sshd[2210]: Failed password for root from 198.51.100.23 port "
    "50120 ssh2\n"
    "<38>Nov 20 09:20:05 bastion sshd[2211]: Failed password for admin from 198.51.100.23 port "
    "50121 ssh2\n"
    "<38>Nov 20 09:21:00 bastion sshd[2212]: Accepted publickey for ops from 10.0.0.5 port 50122 "
    "ssh2\n";

static int ingest(struct srv *v, const char *text, struct hresp *r)
{
    char h[256];
    snprintf(h, sizeof(h), "Authorization: Bearer %s\r\nContent-Type: text/plain\r\n", v->ingest);
    return http1(v->port, "POST", "/api/v1/ingest", h, text, r);
}

/* The JSON body of a test request: {"rule": text, ...extra} with text escaped. */
static char *test_body(const char *text, const char *extra)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_sbuf_adds(&b, "{\"rule\":");
    vg_sbuf_add_json_str(&b, text, strlen(text));
    vg_sbuf_adds(&b, extra ? extra : "");
    vg_sbuf_addc(&b, '}');
    return vg_sbuf_take(&b, NULL);
}

static int put_json(struct srv *v, const char *tok, const char *path, const char *body,
                    struct hresp *r)
{
    char h[256];
    snprintf(h, sizeof(h), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", tok);
    return http1(v->port, "PUT", path, h, body, r);
}

/* Is rule id listed by GET /api/v1/rules, and with which "enabled"? 0 absent, 1 on, 2 off. */
static int listed(struct srv *v, const char *id)
{
    struct hresp r = {0};
    char key[160];
    int st = 0;
    if (call(v, v->reader, "GET", "/api/v1/rules", NULL, &r) == 200 && r.body) {
        snprintf(key, sizeof(key), "\"id\":\"%s\"", id);
        const char *p = strstr(r.body, key);
        const char *e = p ? strstr(p, "\"enabled\":") : NULL;
        st = !p ? 0 : e && !strncmp(e + 10, "false", 5) ? 2 : 1;
    }
    hresp_free(&r);
    return st;
}

static bool restart(struct srv *v)
{
    char err[512] = "";
    vg_server_destroy(v->s);
    v->s = NULL;
    if (vg_server_create(&v->c, &v->s, err, sizeof(err)) != VG_OK ||
        vg_server_start(v->s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  restart: %s\n", err);
        return false;
    }
    v->port = vg_server_http_port(v->s);
    return v->port > 0;
}

VG_TEST(rules_api_end_to_end)
{
    struct srv v;
    struct hresp r = {0};
    char other[VG_API_TOKEN_SIZE], path[256];
    struct vg_api_auth *a = NULL;
    char err[256];
    bool ok = srv_prepare(&v, "rulesapi");
    v.c.workers = 2;
    /* an admin of another tenant: rules are global, so it may not change them */
    ok = ok && vg_api_auth_open(v.dir, &a, err, sizeof(err)) == VG_OK &&
         vg_api_token_create(a, "acme-admin", VG_API_ROLE_ADMIN, "acme", VG_TIME_NONE, other,
                             sizeof(other)) == VG_OK;
    vg_api_auth_close(a);
    if (!ok || !srv_start(&v)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    CHECK_EQ_INT(ingest(&v, lines, &r), 200);
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);

    /* test: matches among the stored events, nothing enabled */
    char *body = test_body(sshd_rule, ",\"limit\":1");
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/rules/test", body, &r), 200);
    CHECK(r.body && strstr(r.body, "\"scanned\":3") && strstr(r.body, "\"matched\":2"));
    CHECK(r.body && strstr(r.body, "Failed password for admin") &&
          !strstr(r.body, "Failed password for root")); /* limit 1: the newest only */
    CHECK_EQ_INT(listed(&v, SSHD_RULE_ID), 0);
    CHECK_EQ_INT(call(&v, v.reader, "POST", "/api/v1/rules/test", body, &r), 403);
    CHECK_EQ_INT(call(&v, NULL, "POST", "/api/v1/rules/test", body, &r), 401);
    vg_free(body);
    body = test_body(sshd_rule, ",\"from\":\"2026-11-20T09:20:03Z\"");
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/rules/test", body, &r), 200);
    CHECK(r.body && strstr(r.body, "\"matched\":1"));
    vg_free(body);
    /* bad rules: 400 naming the line and the problem */
    body = test_body("title: x\nlogsource:\n  product: linux\ndetection:\n  sel:\n    a: b\n"
                     "  condition: sel and nope\n",
                     NULL);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/rules/test", body, &r), 400);
    CHECK(r.body && strstr(r.body, "bad_rule") && strstr(r.body, "line "));
    vg_free(body);
    body = test_body("title: [\n", NULL);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/rules/test", body, &r), 400);
    CHECK(r.body && strstr(r.body, "line 2") && strstr(r.body, "YAML"));
    vg_free(body);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/rules/test", "{\"limit\":2}", &r), 400);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", "/api/v1/rules/test", "not json", &r), 400);

    /* upload a custom rule: admins of "default" only; bad YAML refused */
    CHECK_EQ_INT(call(&v, v.analyst, "PUT", "/api/v1/rules/custom/my-sshd", sshd_rule, &r), 403);
    CHECK_EQ_INT(call(&v, NULL, "PUT", "/api/v1/rules/custom/my-sshd", sshd_rule, &r), 401);
    CHECK_EQ_INT(call(&v, other, "PUT", "/api/v1/rules/custom/my-sshd", sshd_rule, &r), 403);
    CHECK(r.body && strstr(r.body, "tenant"));
    CHECK_EQ_INT(call(&v, v.admin, "PUT", "/api/v1/rules/custom/bad", "title: [\n", &r), 400);
    CHECK(r.body && strstr(r.body, "line 2"));
    CHECK_EQ_INT(call(&v, v.admin, "PUT", "/api/v1/rules/custom/.hidden", sshd_rule, &r), 400);
    snprintf(path, sizeof(path), "%s/rules-custom/bad.yml", v.dir);
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ_INT(call(&v, v.admin, "PUT", "/api/v1/rules/custom/my-sshd", sshd_rule, &r), 200);
    CHECK(r.body && strstr(r.body, SSHD_RULE_ID) && strstr(r.body, "\"enabled\":true"));
    snprintf(path, sizeof(path), "%s/rules-custom/my-sshd.yml", v.dir);
    CHECK(access(path, F_OK) == 0);
    CHECK_EQ_INT(listed(&v, SSHD_RULE_ID), 1);

    /* the uploaded rule alerts on new events */
    CHECK_EQ_INT(ingest(&v,
                        "<38>Nov 20 09:30:00 bastion sshd[2300]: Failed password for root from "
                        "203.0.113.9 port 1 ssh2\n",
                        &r),
                 200);
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/alerts?rule=" SSHD_RULE_ID, NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "203.0.113.9"));

    /* disable / enable: admins of "default" only */
    const char *dis = "/api/v1/rules/" SSHD_RULE_ID "/disable";
    const char *ena = "/api/v1/rules/" SSHD_RULE_ID "/enable";
    CHECK_EQ_INT(call(&v, NULL, "POST", dis, "", &r), 401);
    CHECK_EQ_INT(call(&v, v.reader, "POST", dis, "", &r), 403);
    CHECK_EQ_INT(call(&v, v.analyst, "POST", dis, "", &r), 403);
    CHECK_EQ_INT(call(&v, other, "POST", dis, "", &r), 403);
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/rules/no-such-rule/disable", "", &r), 404);
    CHECK_EQ_INT(listed(&v, SSHD_RULE_ID), 1);
    CHECK_EQ_INT(call(&v, v.admin, "POST", dis, "", &r), 200);
    CHECK(r.body && strstr(r.body, "\"enabled\":false") && strstr(r.body, "\"changed\":true"));
    CHECK_EQ_INT(listed(&v, SSHD_RULE_ID), 2);
    CHECK_EQ_INT(call(&v, v.admin, "POST", dis, "", &r), 200); /* idempotent */
    CHECK(r.body && strstr(r.body, "\"changed\":false"));
    /* a disabled rule does not alert */
    CHECK_EQ_INT(ingest(&v,
                        "<38>Nov 20 09:31:00 bastion sshd[2301]: Failed password for root from "
                        "203.0.113.77 port 1 ssh2\n",
                        &r),
                 200);
    CHECK_EQ_INT(vg_server_wait_idle(v.s, 30000), VG_OK);
    CHECK_EQ_INT(call(&v, v.reader, "GET", "/api/v1/alerts?rule=" SSHD_RULE_ID, NULL, &r), 200);
    CHECK(r.body && !strstr(r.body, "203.0.113.77"));

    /* a second custom rule saved disabled (the console's JSON body) */
    body = test_body("title: Test sudo\nid: 7a1b2c3d-0000-4000-8000-000000000001\nlogsource:\n"
                     "  product: linux\n  service: sudo\ndetection:\n  sel:\n"
                     "    COMMAND|contains: whoami\n  condition: sel\nlevel: low\n",
                     ",\"enabled\":false");
    CHECK_EQ_INT(put_json(&v, v.admin, "/api/v1/rules/custom/sudo-whoami", body, &r), 200);
    CHECK(r.body && strstr(r.body, "\"enabled\":false"));
    vg_free(body);
    CHECK_EQ_INT(listed(&v, "7a1b2c3d-0000-4000-8000-000000000001"), 2);

    /* persistence: a restart keeps both custom rules and the disabled list */
    CHECK(restart(&v));
    CHECK_EQ_INT(listed(&v, SSHD_RULE_ID), 2);
    CHECK_EQ_INT(listed(&v, "7a1b2c3d-0000-4000-8000-000000000001"), 2);
    CHECK_EQ_INT(call(&v, v.admin, "POST", ena, "", &r), 200);
    CHECK_EQ_INT(listed(&v, SSHD_RULE_ID), 1);

    /* delete */
    CHECK_EQ_INT(call(&v, v.analyst, "DELETE", "/api/v1/rules/custom/my-sshd", NULL, &r), 403);
    CHECK_EQ_INT(call(&v, other, "DELETE", "/api/v1/rules/custom/my-sshd", NULL, &r), 403);
    CHECK_EQ_INT(call(&v, v.admin, "DELETE", "/api/v1/rules/custom/my-sshd", NULL, &r), 200);
    CHECK_EQ_INT(call(&v, v.admin, "DELETE", "/api/v1/rules/custom/my-sshd", NULL, &r), 404);
    CHECK(access(path, F_OK) != 0);
    CHECK_EQ_INT(listed(&v, SSHD_RULE_ID), 0);

    /* every change is in the audit log, by whom */
    CHECK_EQ_INT(call(&v, v.admin, "GET", "/api/v1/audit?limit=50", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"action\":\"rule.custom.put\"") &&
          strstr(r.body, "\"action\":\"rule.disable\"") &&
          strstr(r.body, "\"action\":\"rule.enable\"") &&
          strstr(r.body, "\"action\":\"rule.custom.delete\"") &&
          strstr(r.body, "\"actor\":\"token:admin\"") &&
          strstr(r.body, "\"object\":\"rule:my-sshd\""));
    CHECK(r.body && !strstr(r.body, "acme-admin"));
    hresp_free(&r);
    srv_close(&v);
}
