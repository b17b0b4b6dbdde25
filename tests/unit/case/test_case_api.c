/*
 * test_case_api.c — the /api/v1/cases endpoints over real HTTP on 127.0.0.1 (a vg_api on
 * port 0 with real tokens): create, read, update and close, link alerts from a real store,
 * observables, tasks, comments, timeline, merge and the report formats; 400s naming the
 * field; tenant isolation (tenant B cannot see or change tenant A's case) and roles (a
 * read-only token cannot change anything; no credentials → 401).
 */
#include "../api/api_test.h"
#include "case_test.h"

struct arig {
    struct rig r;
    struct vg_store *store;
    struct vg_case_db *db;
    char ana[256], rd[256], other[256];
};

static bool arig_open(struct arig *a)
{
    char err[512], path[128];
    memset(a, 0, sizeof(*a));
    if (!rig_open(&a->r, NULL, NULL, 0, false)) {
        return false;
    }
    snprintf(path, sizeof(path), "%s/store", a->r.dir);
    if (vg_store_open(path, NULL, &a->store, err, sizeof(err)) != VG_OK) {
        return false;
    }
    snprintf(path, sizeof(path), "%s/cases.db", a->r.dir);
    if (vg_case_db_open(path, a->store, NULL, &a->db, err, sizeof(err)) != VG_OK ||
        vg_case_api_register(a->db, a->r.api) != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return false;
    }
    return rig_token(&a->r, "ana", VG_API_ROLE_ANALYST, "acme", a->ana, sizeof(a->ana)) &&
           rig_token(&a->r, "rd", VG_API_ROLE_READ, "acme", a->rd, sizeof(a->rd)) &&
           rig_token(&a->r, "bob", VG_API_ROLE_ANALYST, "beta", a->other, sizeof(a->other)) &&
           rig_start(&a->r);
}

static void arig_close(struct arig *a)
{
    vg_api_stop(a->r.api);
    vg_case_db_close(a->db);
    vg_store_close(a->store);
    rig_close(&a->r);
}

static int req(struct arig *a, const char *hdr, const char *method, const char *path,
               const char *body, struct hresp *r)
{
    return http1(a->r.port, method, path, hdr, body, r);
}

static int64_t body_id(const struct hresp *r)
{
    const char *p = r->body ? strstr(r->body, "\"id\":") : NULL;
    return p ? strtoll(p + 5, NULL, 10) : 0;
}

VG_TEST(rest_case_lifecycle)
{
    struct arig a;
    struct hresp r = {0};
    char path[128], hv[320];
    if (!arig_open(&a)) {
        CHECK(!"rig");
        arig_close(&a);
        return;
    }
    CHECK_EQ_INT(req(&a, a.ana, "POST", "/api/v1/cases",
                     "{\"title\":\"Phishing wave\",\"severity\":\"high\",\"tlp\":\"amber\","
                     "\"pap\":\"white\",\"tags\":[\"phishing\"],\"custom\":{\"ticket\":\"T-9\"}}",
                     &r),
                 201);
    int64_t id = body_id(&r);
    CHECK(id > 0);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    CHECK_EQ_INT(req(&a, a.rd, "GET", path, NULL, &r), 200);
    CHECK(has(r.body, "\"title\":\"Phishing wave\"") && has(r.body, "\"severity\":3") &&
          has(r.body, "\"pap\":\"clear\"") && has(r.body, "\"tenant\":\"acme\""));
    CHECK_EQ_INT(req(&a, a.rd, "GET", "/api/v1/cases?tag=phishing&status=new", NULL, &r), 200);
    CHECK(has(r.body, "Phishing wave"));

    /* bad bodies name the field */
    CHECK_EQ_INT(req(&a, a.ana, "POST", "/api/v1/cases", "{\"title\":\"x\",\"severity\":7}", &r),
                 400);
    CHECK(has(r.body, "cases: field 'severity': expected 1-4 or low|medium|high|critical"));
    CHECK_EQ_INT(req(&a, a.ana, "POST", "/api/v1/cases", "{\"title\":\"x\",\"colour\":1}", &r),
                 400);
    CHECK(has(r.body, "field 'colour'"));
    CHECK_EQ_INT(req(&a, a.ana, "POST", "/api/v1/cases", "{\"title\":", &r), 400);
    CHECK_EQ_INT(req(&a, a.ana, "PATCH", path, "{\"status\":\"done\"}", &r), 400);
    CHECK(has(r.body, "field 'status'"));

    /* idempotency key */
    snprintf(hv, sizeof(hv), "%sIdempotency-Key: abc\r\n", a.ana);
    CHECK_EQ_INT(req(&a, hv, "POST", "/api/v1/cases", "{\"title\":\"Once\"}", &r), 201);
    int64_t once = body_id(&r);
    CHECK_EQ_INT(req(&a, hv, "POST", "/api/v1/cases", "{\"title\":\"Once\"}", &r), 201);
    CHECK_EQ_INT(body_id(&r), once);

    /* link an alert of the store */
    char err[256];
    struct vg_store_alert al = {.ts = vg_time_now(),
                                .tenant = "acme",
                                .rule_id = "mail",
                                .title = "Phish click",
                                .level = 4,
                                .tags = "[\"attack.initial_access\"]",
                                .attack = "[\"T1566\"]",
                                .host = "ws-7",
                                .user = "carol",
                                .event_json = "{\"url.full\":\"https://login.evil.example/\"}"};
    CHECK_EQ_INT(vg_store_alert_append(a.store, &al, 1, err, sizeof(err)), VG_OK);
    char body[160], sub[160];
    snprintf(body, sizeof(body), "{\"alert_ids\":[%lld],\"incident_ids\":[4]}", (long long)al.id);
    snprintf(sub, sizeof(sub), "%s/alerts", path);
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, body, &r), 200);
    CHECK(has(r.body, "\"alerts_linked\":1,\"incidents_linked\":1"));
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, "{\"alert_ids\":[\"x\"]}", &r), 400);
    CHECK(has(r.body, "field 'alert_ids'"));
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, "{\"alert_ids\":[999999]}", &r), 404);

    /* observables */
    snprintf(sub, sizeof(sub), "%s/observables", path);
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub,
                     "{\"dataType\":\"domain\",\"data\":\"Evil.Example\",\"ioc\":true}", &r),
                 201);
    CHECK_EQ_INT(
        req(&a, a.ana, "POST", sub, "{\"type\":\"domain\",\"value\":\"evil.example\"}", &r), 200);
    CHECK(has(r.body, "\"added\":false"));
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, "{\"type\":\"hash\",\"value\":\"zz\"}", &r), 400);
    CHECK(has(r.body, "field 'value'"));
    CHECK_EQ_INT(req(&a, a.rd, "GET", sub, NULL, &r), 200);
    CHECK(has(r.body, "https://login.evil.example/") && has(r.body, "\"value\":\"carol\"") &&
          has(r.body, "\"value\":\"evil.example\""));

    /* tasks */
    snprintf(sub, sizeof(sub), "%s/tasks", path);
    CHECK_EQ_INT(
        req(&a, a.ana, "POST", sub, "{\"title\":\"Purge mails\",\"group\":\"eradication\"}", &r),
        201);
    int64_t tid = body_id(&r);
    char tpath[96];
    snprintf(tpath, sizeof(tpath), "/api/v1/cases/tasks/%lld", (long long)tid);
    CHECK_EQ_INT(req(&a, a.ana, "PATCH", tpath, "{\"status\":\"completed\"}", &r), 200);
    CHECK_EQ_INT(req(&a, a.ana, "PATCH", tpath, "{\"status\":\"finished\"}", &r), 400);
    CHECK_EQ_INT(req(&a, a.rd, "GET", sub, NULL, &r), 200);
    CHECK(has(r.body, "\"status\":\"completed\""));

    /* comment, close, timeline, report */
    snprintf(sub, sizeof(sub), "%s/comments", path);
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, "{\"text\":\"Blocked <b>sender</b> | all\"}", &r),
                 201);
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, "{\"txt\":\"x\"}", &r), 400);
    CHECK_EQ_INT(req(&a, a.ana, "PATCH", path,
                     "{\"status\":\"resolved\",\"verdict\":\"true_positive\",\"summary\":\"ok\","
                     "\"root_cause\":\"no MFA\",\"lessons_learned\":\"enforce MFA\"}",
                     &r),
                 200);
    CHECK(has(r.body, "\"status\":\"resolved\""));
    snprintf(sub, sizeof(sub), "%s/timeline", path);
    CHECK_EQ_INT(req(&a, a.rd, "GET", sub, NULL, &r), 200);
    CHECK(has(r.body, "\"actor\":\"token:ana\"") && has(r.body, "\"kind\":\"closed\"") &&
          has(r.body, "\"kind\":\"alert_linked\""));
    snprintf(sub, sizeof(sub), "%s/report?format=html", path);
    CHECK_EQ_INT(req(&a, a.rd, "GET", sub, NULL, &r), 200);
    CHECK(has(r.head, "text/html") && has(r.head, "Content-Security-Policy"));
    CHECK(has(r.body, "T1566") && has(r.body, "Blocked &lt;b&gt;sender&lt;/b&gt;") &&
          has(r.body, "enforce MFA") && !has(r.body, "<b>sender"));
    snprintf(sub, sizeof(sub), "%s/report", path);
    CHECK_EQ_INT(req(&a, a.rd, "GET", sub, NULL, &r), 200);
    CHECK(has(r.head, "text/markdown") && has(r.body, "Blocked &lt;b&gt;sender&lt;/b&gt; \\| all"));
    snprintf(sub, sizeof(sub), "%s/report?format=docx", path);
    CHECK_EQ_INT(req(&a, a.rd, "GET", sub, NULL, &r), 400);

    /* merge */
    snprintf(sub, sizeof(sub), "%s/merge", path);
    snprintf(body, sizeof(body), "{\"from\":%lld}", (long long)once);
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, body, &r), 200);
    CHECK_EQ_INT(req(&a, a.ana, "POST", sub, "{\"from\":\"x\"}", &r), 400);
    hresp_free(&r);
    arig_close(&a);
}

VG_TEST(rest_tenants_and_roles)
{
    struct arig a;
    struct hresp r = {0};
    char path[128], sub[160];
    if (!arig_open(&a)) {
        CHECK(!"rig");
        arig_close(&a);
        return;
    }
    CHECK_EQ_INT(req(&a, a.ana, "POST", "/api/v1/cases", "{\"title\":\"Acme secret\"}", &r), 201);
    int64_t id = body_id(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);

    /* tenant beta sees and changes nothing of acme's */
    CHECK_EQ_INT(req(&a, a.other, "GET", path, NULL, &r), 404);
    CHECK_EQ_INT(req(&a, a.other, "GET", "/api/v1/cases", NULL, &r), 200);
    CHECK(!has(r.body, "Acme secret"));
    CHECK_EQ_INT(req(&a, a.other, "PATCH", path, "{\"title\":\"pwned\"}", &r), 404);
    snprintf(sub, sizeof(sub), "%s/comments", path);
    CHECK_EQ_INT(req(&a, a.other, "POST", sub, "{\"text\":\"x\"}", &r), 404);
    snprintf(sub, sizeof(sub), "%s/report?format=markdown", path);
    CHECK_EQ_INT(req(&a, a.other, "GET", sub, NULL, &r), 404);
    CHECK_EQ_INT(req(&a, a.other, "POST", "/api/v1/cases?tenant=acme", "{\"title\":\"x\"}", &r),
                 403);

    /* a read-only token reads but cannot change; no credentials: 401 */
    CHECK_EQ_INT(req(&a, a.rd, "GET", path, NULL, &r), 200);
    CHECK_EQ_INT(req(&a, a.rd, "POST", "/api/v1/cases", "{\"title\":\"x\"}", &r), 403);
    CHECK_EQ_INT(req(&a, a.rd, "PATCH", path, "{\"title\":\"x\"}", &r), 403);
    snprintf(sub, sizeof(sub), "%s/tasks", path);
    CHECK_EQ_INT(req(&a, a.rd, "POST", sub, "{\"title\":\"x\"}", &r), 403);
    CHECK_EQ_INT(req(&a, NULL, "GET", path, NULL, &r), 401);
    CHECK_EQ_INT(req(&a, a.ana, "GET", "/api/v1/cases/abc", NULL, &r), 404);
    CHECK_EQ_INT(req(&a, a.ana, "GET", path, NULL, &r), 200);
    CHECK(has(r.body, "Acme secret"));
    hresp_free(&r);
    arig_close(&a);
}
