/*
 * test_triage_api.c — the triage REST endpoints over real HTTP on 127.0.0.1 (a real vg_api,
 * a real store and audit log): the consumer triages stored alerts into an incident; list,
 * detail (timeline, alerts), PATCH to close with a verdict, per-alert triage state, verdicts,
 * per-rule ratios, exceptions (bad JSON with the field named, dry-run backtest, create,
 * list, delete); roles are enforced and another tenant sees nothing; changes are audited.
 */
#include "../api/api_test.h"
#include "triage_test.h"

struct trig {
    struct rig r;
    struct vg_store *s;
    struct vg_audit *audit;
    struct vg_triage *t;
    char reader[160], analyst[160], other[160];
};

static bool trig_open(struct trig *x)
{
    char err[512], path[128];
    memset(x, 0, sizeof(*x));
    if (!rig_open(&x->r, NULL, NULL, 0, false)) {
        return false;
    }
    snprintf(path, sizeof(path), "%s/audit.db", x->r.dir);
    if (vg_store_open(x->r.dir, NULL, &x->s, err, sizeof(err)) != VG_OK ||
        vg_audit_open(path, &x->audit, err, sizeof(err)) != VG_OK ||
        vg_triage_open(x->r.dir, NULL, x->audit, &x->t, err, sizeof(err)) != VG_OK ||
        vg_alert_api_register(x->t, x->r.api) != VG_OK ||
        !rig_token(&x->r, "reader", VG_API_ROLE_READ, "default", x->reader, sizeof(x->reader)) ||
        !rig_token(&x->r, "analyst", VG_API_ROLE_ANALYST, "default", x->analyst,
                   sizeof(x->analyst)) ||
        !rig_token(&x->r, "acme", VG_API_ROLE_ANALYST, "acme", x->other, sizeof(x->other)) ||
        vg_triage_start(x->t, x->s, NULL) != VG_OK || !rig_start(&x->r)) {
        fprintf(stderr, "  setup: %s\n", err);
        return false;
    }
    return true;
}

static void trig_close(struct trig *x)
{
    vg_api_stop(x->r.api);
    vg_triage_destroy(x->t);
    vg_audit_close(x->audit);
    vg_store_close(x->s);
    rig_close(&x->r);
}

static int call(struct trig *x, const char *hdr, const char *method, const char *path,
                const char *body, struct hresp *resp)
{
    return http1(x->r.port, method, path, hdr, body, resp);
}

static int count_audit(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *r,
                       const char *hash)
{
    int *n = ctx;
    *n += r->actor && !strcmp(r->actor, "token:analyst");
    return VG_OK;
}

static void stage_alerts(struct vg_store_alert *a)
{
    a[0] = mk(0, 0, "ssh-brute", 3, "[\"attack.credential_access\"]", "web-1", "root",
              "203.0.113.5", NULL, "sshd");
    a[1] = mk(0, 5, "ssh-login", 4, "[\"attack.initial_access\"]", "web-1", "deploy", "203.0.113.5",
              NULL, "sshd");
    a[2] = mk(0, 9, "sudo-shell", 4, "[\"attack.privilege_escalation\"]", "web-1", "deploy", NULL,
              NULL, "sudo");
    a[3] = mk(0, 12, "useradd", 3, "[\"attack.persistence\"]", "web-1", "backdoor", NULL, NULL,
              "useradd");
    a[4] = mk(0, 13, "useradd", 3, "[\"attack.persistence\"]", "web-1", "backdoor", NULL, NULL,
              "useradd");
    for (int i = 0; i < 5; i++) {
        a[i].ts = vg_time_now() - (int64_t)(60 - i) * MIN_NS; /* recent: backtests see them */
    }
}

static void incidents_and_verdicts(struct trig *x, const struct vg_store_alert *a)
{
    struct hresp r = {0};
    char path[128];
    CHECK_EQ_INT(call(x, x->reader, "GET", "/api/v1/incidents?status=open&min_risk=50", NULL, &r),
                 200);
    CHECK(r.body && strstr(r.body, "\"title\":\"Risk ") && strstr(r.body, "on host web-1") &&
          strstr(r.body, "\"alert_count\":4"));
    CHECK_EQ_INT(call(x, x->reader, "GET", "/api/v1/incidents?q=WEB-1&limit=1", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"id\":1"));
    CHECK_EQ_INT(call(x, x->reader, "GET", "/api/v1/incidents?status=closed", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "{\"incidents\":[]}"));
    CHECK_EQ_INT(call(x, x->reader, "GET", "/api/v1/incidents?status=weird", NULL, &r), 400);
    CHECK_EQ_INT(call(x, x->reader, "GET", "/api/v1/incidents/1", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"timeline\":[{\"alert_id\":") &&
          strstr(r.body, "\"alerts\":[{") && strstr(r.body, "\"entities\":[") &&
          strstr(r.body, "sudo-shell"));
    CHECK_EQ_INT(call(x, x->other, "GET", "/api/v1/incidents/1", NULL, &r), 404);
    CHECK_EQ_INT(call(x, x->reader, "PATCH", "/api/v1/incidents/1", "{\"status\":\"closed\"}", &r),
                 403);
    CHECK_EQ_INT(call(x, x->analyst, "PATCH", "/api/v1/incidents/1", "{\"status\":\"gone\"}", &r),
                 400);
    CHECK_EQ_INT(call(x, x->analyst, "PATCH", "/api/v1/incidents/1", "{\"colour\":1}", &r), 400);
    CHECK(r.body && strstr(r.body, "unknown field 'colour'"));
    CHECK_EQ_INT(
        call(x, x->analyst, "PATCH", "/api/v1/incidents/1",
             "{\"status\":\"closed\",\"assignee\":\"alice\",\"verdict\":\"false_positive\","
             "\"summary\":\"admin work\"}",
             &r),
        200);
    CHECK(r.body && strstr(r.body, "\"status\":\"closed\"") && strstr(r.body, "admin work"));

    /* per-alert triage state: the duplicate and the verdict the close applied */
    snprintf(path, sizeof(path), "/api/v1/alerts/%lld/triage", (long long)a[4].id);
    CHECK_EQ_INT(call(x, x->reader, "GET", path, NULL, &r), 200);
    char want[64];
    snprintf(want, sizeof(want), "\"duplicate_of\":%lld", (long long)a[3].id);
    CHECK(r.body && strstr(r.body, want));
    snprintf(path, sizeof(path), "/api/v1/alerts/%lld/triage", (long long)a[3].id);
    CHECK_EQ_INT(call(x, x->reader, "GET", path, NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"duplicates\":1") &&
          strstr(r.body, "\"verdict\":\"false_positive\"") && strstr(r.body, "\"incident_id\":1"));
    snprintf(path, sizeof(path), "/api/v1/alerts/%lld/verdict", (long long)a[3].id);
    CHECK_EQ_INT(call(x, x->analyst, "POST", path, "{\"verdict\":\"maybe\"}", &r), 400);
    CHECK_EQ_INT(call(x, x->reader, "POST", path, "{\"verdict\":\"benign\"}", &r), 403);
    CHECK_EQ_INT(call(x, x->other, "POST", path, "{\"verdict\":\"benign\"}", &r), 404);
    CHECK_EQ_INT(call(x, x->analyst, "POST", path,
                      "{\"verdict\":\"true_positive\",\"comment\":\"confirmed\"}", &r),
                 200);
    CHECK_EQ_INT(call(x, x->reader, "GET", "/api/v1/triage/rules", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "{\"rule_id\":\"useradd\",\"alerts\":2,\"duplicates\":1,"
                                   "\"suppressed\":0,\"true_positive\":1,\"benign\":0,"
                                   "\"false_positive\":0,\"fp_ratio\":0.0000}"));
    CHECK(r.body && strstr(r.body, "\"rule_id\":\"sudo-shell\"") &&
          strstr(r.body, "\"fp_ratio\":1.0000"));
    hresp_free(&r);
}

static void exceptions(struct trig *x)
{
    struct hresp r = {0};
    CHECK_EQ_INT(call(x, x->analyst, "POST", "/api/v1/exceptions",
                      "{\"rule\":\"ssh-brute\",\"expires\":\"tomorrow\",\"reason\":\"x\"}", &r),
                 400);
    CHECK(r.body && strstr(r.body, "exceptions: field 'expires': not a time or duration"));
    const char *cand = "{\"rule\":\"*\",\"entity\":{\"type\":\"user\",\"value\":\"back*\"},"
                       "\"expires\":\"2h\",\"reason\":\"provisioning\"";
    char body[512];
    snprintf(body, sizeof(body), "%s,\"dry_run\":true}", cand);
    CHECK_EQ_INT(call(x, x->analyst, "POST", "/api/v1/exceptions", body, &r), 200);
    CHECK(r.body && strstr(r.body, "\"matched\":2") && strstr(r.body, "\"days\":30"));
    snprintf(body, sizeof(body), "%s,\"days\":7}", cand);
    CHECK_EQ_INT(call(x, x->analyst, "POST", "/api/v1/exceptions/backtest", body, &r), 200);
    CHECK(r.body && strstr(r.body, "\"matched\":2") && strstr(r.body, "\"days\":7"));
    CHECK_EQ_INT(call(x, x->reader, "POST", "/api/v1/exceptions/backtest", body, &r), 403);
    snprintf(body, sizeof(body), "%s}", cand);
    CHECK_EQ_INT(call(x, x->analyst, "POST", "/api/v1/exceptions", body, &r), 201);
    CHECK(r.body && strstr(r.body, "\"id\":1"));
    CHECK_EQ_INT(call(x, x->reader, "GET", "/api/v1/exceptions", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"reason\":\"provisioning\"") &&
          strstr(r.body, "\"author\":\"token:analyst\"") && strstr(r.body, "\"active\":true"));
    CHECK_EQ_INT(call(x, x->other, "GET", "/api/v1/exceptions", NULL, &r), 200);
    CHECK(r.body && !strcmp(r.body, "{\"exceptions\":[]}"));
    CHECK_EQ_INT(call(x, x->other, "DELETE", "/api/v1/exceptions/1", NULL, &r), 404);
    CHECK_EQ_INT(call(x, x->analyst, "DELETE", "/api/v1/exceptions/1", NULL, &r), 200);
    CHECK_EQ_INT(call(x, x->analyst, "DELETE", "/api/v1/exceptions/1", NULL, &r), 404);
    CHECK_EQ_INT(call(x, NULL, "GET", "/api/v1/exceptions", NULL, &r), 401);
    hresp_free(&r);
}

VG_TEST(triage_rest_end_to_end)
{
    struct trig x;
    char err[256];
    if (!trig_open(&x)) {
        CHECK(!"setup");
        trig_close(&x);
        return;
    }
    struct vg_store_alert a[5];
    stage_alerts(a);
    CHECK_EQ_INT(vg_store_alert_append(x.s, a, 5, err, sizeof(err)), VG_OK);
    vg_triage_notify(x.t);
    CHECK_EQ_INT(vg_triage_wait_idle(x.t, 20000), VG_OK);
    incidents_and_verdicts(&x, a);
    exceptions(&x);
    int n = 0;
    struct vg_audit_query q = {.on_rec = count_audit, .ctx = &n, .limit = 100};
    CHECK_EQ_INT(vg_audit_query(x.audit, &q, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(n, 4); /* incident.update, alert.verdict, exception.create, exception.delete */
    trig_close(&x);
}
