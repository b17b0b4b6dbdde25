/*
 * test_case.c — the case module against real SQLite files, a real store and a real audit
 * log: create / update / close, idempotent op keys, observables (type detection, IOC
 * defaults, de-duplication), linking alerts from the store with observable extraction,
 * tasks, comments, timeline order, merge, tenant isolation, and the Markdown and HTML
 * reports (ATT&CK, actions taken, escaping of hostile text, an empty case).
 */
#include "case_test.h"

#include <pthread.h>

#define OP(t, a, k) (&(struct vg_case_op){.tenant = (t), .actor = (a), .op_key = (k)})

static int64_t mk(struct crig *r, const char *tenant, const char *title)
{
    char err[256];
    int64_t id = 0;
    struct vg_case_new c = {.title = title, .severity = VG_CASE_SEV_HIGH};
    int rc = vg_case_create(r->db, OP(tenant, "user:alice", NULL), &c, &id, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  create: %s\n", err);
    }
    return id;
}

/* The case's JSON (get), in a static buffer's worth of sbuf owned by the caller. */
static char *get_json(struct crig *r, const char *tenant, int64_t id)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    char err[256];
    if (vg_case_get(r->db, tenant, id, &b, err, sizeof(err)) != VG_OK) {
        vg_sbuf_fini(&b);
        return NULL;
    }
    return vg_sbuf_take(&b, NULL);
}

static int count_audit(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *rec,
                       const char *hash)
{
    VG_UNUSED(seq);
    VG_UNUSED(ts);
    VG_UNUSED(hash);
    VG_UNUSED(rec);
    (*(int *)ctx)++;
    return VG_OK;
}

VG_TEST(create_update_close)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    int64_t id = 0;
    struct vg_case_new c = {
        .title = "SSH brute force on bastion",
        .description = "Many failed logins",
        .severity = VG_CASE_SEV_HIGH,
        .tlp = VG_CASE_TLP_AMBER_STRICT,
        .pap = VG_CASE_PAP_GREEN,
        .tags = "[\"ssh\",\"bruteforce\",\"ssh\"]",
        .custom = "{\"ticket\":\"INC-1\"}",
        .assignee = "alice",
    };
    CHECK_EQ_INT(vg_case_create(r.db, OP(NULL, "user:alice", NULL), &c, &id, err, sizeof(err)),
                 VG_OK);
    CHECK(id > 0);
    char *j = get_json(&r, "default", id);
    CHECK(has(j, "\"title\":\"SSH brute force on bastion\""));
    CHECK(has(j, "\"severity\":3") && has(j, "\"tlp\":\"amber+strict\"") &&
          has(j, "\"pap\":\"green\"") && has(j, "\"status\":\"new\""));
    CHECK(has(j, "\"tags\":[\"ssh\",\"bruteforce\"]") && has(j, "\"ticket\":\"INC-1\""));
    CHECK(has(j, "\"assignee\":\"alice\"") && has(j, "\"closed\":null"));
    vg_free(j);

    /* bad inputs name their field */
    struct vg_case_new bad = {.title = "x", .severity = 9};
    int64_t bid = 0;
    CHECK_EQ_INT(vg_case_create(r.db, OP(NULL, NULL, NULL), &bad, &bid, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(has(err, "field 'severity'"));
    bad = (struct vg_case_new){.title = "x", .tags = "[1]"};
    CHECK_EQ_INT(vg_case_create(r.db, OP(NULL, NULL, NULL), &bad, &bid, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(has(err, "field 'tags'"));
    bad = (struct vg_case_new){.title = ""};
    CHECK_EQ_INT(vg_case_create(r.db, OP(NULL, NULL, NULL), &bad, &bid, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(has(err, "field 'title'"));

    /* update: custom merge patch, status, then resolve (needs a verdict) */
    struct vg_case_update u = {.status = VG_CASE_IN_PROGRESS,
                               .custom = "{\"ticket\":null,\"owner\":\"soc\"}",
                               .assignee = ""};
    CHECK_EQ_INT(vg_case_update(r.db, OP(NULL, "user:bob", NULL), id, &u, err, sizeof(err)), VG_OK);
    j = get_json(&r, "default", id);
    CHECK(has(j, "\"status\":\"in_progress\"") && has(j, "\"custom\":{\"owner\":\"soc\"}") &&
          has(j, "\"assignee\":null"));
    vg_free(j);
    u = (struct vg_case_update){.status = VG_CASE_RESOLVED};
    CHECK_EQ_INT(vg_case_update(r.db, OP(NULL, "user:bob", NULL), id, &u, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(has(err, "field 'verdict'"));
    u = (struct vg_case_update){.status = VG_CASE_RESOLVED,
                                .verdict = VG_CASE_TRUE_POSITIVE,
                                .summary = "Blocked the source",
                                .root_cause = "Password auth exposed",
                                .lessons_learned = "Use keys only"};
    CHECK_EQ_INT(vg_case_update(r.db, OP(NULL, "user:bob", NULL), id, &u, err, sizeof(err)), VG_OK);
    j = get_json(&r, "default", id);
    CHECK(has(j, "\"status\":\"resolved\"") && has(j, "\"verdict\":\"true_positive\"") &&
          has(j, "\"summary\":\"Blocked the source\"") && !has(j, "\"closed\":null") &&
          has(j, "\"root_cause\":\"Password auth exposed\""));
    vg_free(j);

    /* the timeline and the audit log saw every change */
    struct vg_sbuf tl = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_timeline_json(r.db, "default", id, &tl, err, sizeof(err)), VG_OK);
    const char *p1 = strstr(tl.p, "\"kind\":\"created\""),
               *p2 = strstr(tl.p, "\"kind\":\"status\""), *p3 = strstr(tl.p, "\"kind\":\"closed\"");
    CHECK(p1 && p2 && p3 && p1 < p2 && p2 < p3);
    CHECK(has(tl.p, "\"actor\":\"user:bob\""));
    vg_sbuf_fini(&tl);
    int n = 0;
    struct vg_audit_query aq = {
        .object = "case:1", .action_prefix = "case.", .on_rec = count_audit, .ctx = &n};
    CHECK_EQ_INT(vg_audit_query(r.audit, &aq, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(n, 3); /* create, update, close */

    /* list filters */
    int64_t id2 = mk(&r, "default", "Second");
    struct vg_sbuf l = VG_SBUF_INIT;
    struct vg_case_filter f = {.status = VG_CASE_NEW};
    CHECK_EQ_INT(vg_case_list(r.db, "default", &f, &l, err, sizeof(err)), VG_OK);
    CHECK(has(l.p, "\"title\":\"Second\"") && !has(l.p, "bastion"));
    vg_sbuf_reset(&l);
    f = (struct vg_case_filter){.tag = "ssh"};
    CHECK_EQ_INT(vg_case_list(r.db, "default", &f, &l, err, sizeof(err)), VG_OK);
    CHECK(has(l.p, "bastion") && !has(l.p, "Second"));
    vg_sbuf_reset(&l);
    f = (struct vg_case_filter){.limit = 1};
    CHECK_EQ_INT(vg_case_list(r.db, "default", &f, &l, err, sizeof(err)), VG_OK);
    char want[64];
    snprintf(want, sizeof(want), "\"next_before_id\":%lld", (long long)id2);
    CHECK(has(l.p, "Second") && has(l.p, want));
    vg_sbuf_fini(&l);
    crig_close(&r);
}

VG_TEST(op_key_is_idempotent_and_tenant_scoped)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    struct vg_case_new c = {.title = "From playbook"};
    int64_t a = 0, b = 0, t = 0, c1 = 0, c2 = 0;
    CHECK_EQ_INT(
        vg_case_create(r.db, OP("acme", "playbook:p#r-1", "r-1/open"), &c, &a, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(
        vg_case_create(r.db, OP("acme", "playbook:p#r-1", "r-1/open"), &c, &b, err, sizeof(err)),
        VG_OK);
    CHECK(a > 0 && a == b);
    CHECK_EQ_INT(
        vg_case_create(r.db, OP("other", "playbook:p#r-1", "r-1/open"), &c, &t, err, sizeof(err)),
        VG_OK);
    CHECK(t != a);
    CHECK_EQ_INT(
        vg_case_comment_add(r.db, OP("acme", "x", "r-1/note"), a, "hello", &c1, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(
        vg_case_comment_add(r.db, OP("acme", "x", "r-1/note"), a, "hello", &c2, err, sizeof(err)),
        VG_OK);
    CHECK(c1 > 0 && c1 == c2);
    CHECK_EQ_INT(vg_case_timeline_add(r.db, "acme", a, "playbook:p#r-1", "action", "Blocked IP",
                                      "{\"ip\":\"203.0.113.9\"}", "r-1/block", err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(vg_case_timeline_add(r.db, "acme", a, "playbook:p#r-1", "action", "Blocked IP",
                                      "{\"ip\":\"203.0.113.9\"}", "r-1/block", err, sizeof(err)),
                 VG_OK);
    struct vg_sbuf l = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_list(r.db, "acme", NULL, &l, err, sizeof(err)), VG_OK);
    CHECK(has(l.p, "From playbook") && !strstr(strstr(l.p, "From playbook") + 1, "From playbook"));
    vg_sbuf_reset(&l);
    CHECK_EQ_INT(vg_case_timeline_json(r.db, "acme", a, &l, err, sizeof(err)), VG_OK);
    const char *first = strstr(l.p, "\"kind\":\"comment\"");
    CHECK(first && !strstr(first + 1, "\"kind\":\"comment\""));
    first = strstr(l.p, "\"kind\":\"action\"");
    CHECK(first && !strstr(first + 1, "\"kind\":\"action\"") && has(l.p, "203.0.113.9"));
    vg_sbuf_fini(&l);

    /* another tenant sees nothing of acme's case */
    struct vg_sbuf g = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_get(r.db, "other", a, &g, err, sizeof(err)), VG_ENOENT);
    CHECK_EQ_INT(vg_case_comment_add(r.db, OP("other", "x", NULL), a, "hi", NULL, err, sizeof(err)),
                 VG_ENOENT);
    CHECK_EQ_INT(vg_case_timeline_json(r.db, "other", a, &g, err, sizeof(err)), VG_ENOENT);
    vg_sbuf_fini(&g);
    /* a bad timeline detail is refused */
    CHECK_EQ_INT(
        vg_case_timeline_add(r.db, "acme", a, NULL, "action", "x", "[1]", NULL, err, sizeof(err)),
        VG_EINVAL);
    CHECK(has(err, "field 'detail'"));
    crig_close(&r);
}

VG_TEST(observable_detection)
{
    const char *t = NULL, *s = NULL;
    vg_case_observable_detect("203.0.113.5", &t, &s);
    CHECK_STR(t, "ip");
    CHECK_STR(s, "ipv4");
    vg_case_observable_detect("2001:db8::1", &t, &s);
    CHECK_STR(s, "ipv6");
    vg_case_observable_detect("d41d8cd98f00b204e9800998ecf8427e", &t, &s);
    CHECK_STR(t, "hash");
    CHECK_STR(s, "md5");
    vg_case_observable_detect("da39a3ee5e6b4b0d3255bfef95601890afd80709", &t, &s);
    CHECK_STR(s, "sha1");
    vg_case_observable_detect("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                              &t, &s);
    CHECK_STR(s, "sha256");
    vg_case_observable_detect("https://evil.example/x", &t, &s);
    CHECK_STR(t, "url");
    vg_case_observable_detect("bob@corp.example", &t, &s);
    CHECK_STR(t, "mail");
    vg_case_observable_detect("c2.evil.example", &t, &s);
    CHECK_STR(t, "fqdn");
    vg_case_observable_detect("not a thing", &t, &s);
    CHECK_STR(t, "other");
    vg_case_observable_detect("1.2.3", &t, &s);
    CHECK_STR(t, "other");
}

VG_TEST(observables_dedup_and_ioc_defaults)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    int64_t id = mk(&r, NULL, "obs"), o1 = 0, o2 = 0;
    bool added = false;
    struct vg_case_observable o = {.value = "8.8.8.8", .ioc = -1, .tags = "[\"dns\"]"};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, &o1, &added, err, sizeof(err)),
        VG_OK);
    CHECK(added && o1 > 0);
    o = (struct vg_case_observable){
        .type = "ip", .value = "8.8.8.8", .ioc = -1, .sighted = true, .tags = "[\"resolver\"]"};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, &o2, &added, err, sizeof(err)),
        VG_OK);
    CHECK(!added && o2 == o1);
    o = (struct vg_case_observable){.type = "ip", .value = "10.1.2.3", .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, NULL, &added, err, sizeof(err)),
        VG_OK);
    o = (struct vg_case_observable){.type = "ip", .value = "::1", .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, NULL, &added, err, sizeof(err)),
        VG_OK);
    o = (struct vg_case_observable){
        .type = "hash",
        .value = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, NULL, &added, err, sizeof(err)),
        VG_OK);
    /* the lower-case spelling is the same observable */
    o.value = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, NULL, &added, err, sizeof(err)),
        VG_OK);
    CHECK(!added);
    o = (struct vg_case_observable){.type = "hash", .value = "abc", .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, NULL, &added, err, sizeof(err)),
        VG_EINVAL);
    CHECK(has(err, "field 'value'"));
    o = (struct vg_case_observable){.type = "ip", .value = "999.1.1.1", .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, NULL, &added, err, sizeof(err)),
        VG_EINVAL);
    o = (struct vg_case_observable){.type = "registry", .value = "x", .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), id, &o, NULL, &added, err, sizeof(err)),
        VG_EINVAL);
    CHECK(has(err, "field 'type'"));

    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_observables_json(r.db, "default", id, &b, err, sizeof(err)), VG_OK);
    CHECK(has(b.p, "\"value\":\"8.8.8.8\",\"ioc\":true,\"sighted\":true,\"tags\":[\"dns\","
                   "\"resolver\"]"));
    CHECK(has(b.p, "\"value\":\"10.1.2.3\",\"ioc\":false"));
    CHECK(has(b.p, "\"value\":\"::1\",\"ioc\":false"));
    CHECK(has(b.p, "\"subtype\":\"sha256\",\"value\":\"e3b0c442"));
    const char *p = b.p;
    int n = 0;
    while ((p = strstr(p, "\"type\":")) != NULL) {
        n++;
        p++;
    }
    CHECK_EQ_INT(n, 4);
    vg_sbuf_fini(&b);
    crig_close(&r);
}

static const char hostile[] = "<script>alert(1)</script> | pipe\nnewline";

static void store_alerts(struct crig *r, struct vg_store_alert *a, size_t n)
{
    char err[256];
    CHECK_EQ_INT(vg_store_alert_append(r->store, a, n, err, sizeof(err)), VG_OK);
}

VG_TEST(link_alerts_extracts_observables)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    struct vg_store_alert a[3] = {
        {.ts = vg_time_now(),
         .rule_id = "ssh-bf",
         .title = "SSH brute force",
         .level = 4,
         .tags = "[\"attack.t1110.001\",\"attack.credential_access\"]",
         .attack = "[\"T1110\"]",
         .host = "BASTION",
         .user = "root",
         .src_ip = "203.0.113.5",
         .dst_ip = "10.0.0.4",
         .event_json =
             "{\"source.ip\":\"203.0.113.5\",\"url.full\":\"http://evil.example/a\","
             "\"file\":{\"hash\":{\"sha256\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E"
             "4649B934CA495991B7852B855\"}},\"dns.question.name\":\"C2.Evil.Example\","
             "\"email.from.address\":[\"x@phish.example\"],\"destination.ip\":\"bogus\"}"},
        {.ts = vg_time_now(),
         .rule_id = "whoami",
         .title = hostile,
         .level = 3,
         .tags = "[\"attack.discovery\"]",
         .attack = "[\"T1033\"]",
         .host = "ws-1",
         .process = "C:\\Windows\\System32\\whoami.exe"},
        {.ts = vg_time_now(),
         .tenant = "acme",
         .rule_id = "x",
         .title = "other tenant",
         .level = 2},
    };
    store_alerts(&r, a, 3);
    int64_t id = mk(&r, NULL, "Intrusion");
    struct vg_case_link_result res;
    int64_t ids[] = {a[0].id, a[1].id}, inc[] = {7};
    CHECK_EQ_INT(vg_case_link(r.db, OP(NULL, "user:alice", NULL), id, ids, 2, inc, 1, &res, err,
                              sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(res.alerts_linked, 2);
    CHECK_EQ_INT(res.incidents_linked, 1);
    CHECK(res.observables_added >= 9);
    /* linking again changes nothing */
    struct vg_case_link_result res2;
    CHECK_EQ_INT(vg_case_link(r.db, OP(NULL, "user:alice", NULL), id, ids, 2, NULL, 0, &res2, err,
                              sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(res2.alerts_linked, 0);
    CHECK_EQ_INT(res2.observables_added, 0);
    /* an alert of another tenant is not found, and nothing is linked */
    int64_t foreign[] = {a[0].id, a[2].id};
    CHECK_EQ_INT(
        vg_case_link(r.db, OP(NULL, NULL, NULL), id, foreign, 2, NULL, 0, NULL, err, sizeof(err)),
        VG_ENOENT);
    CHECK(has(err, "not found"));

    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_observables_json(r.db, "default", id, &b, err, sizeof(err)), VG_OK);
    CHECK(has(b.p, "\"type\":\"ip\",\"subtype\":\"ipv4\",\"value\":\"203.0.113.5\",\"ioc\":true,"
                   "\"sighted\":true"));
    CHECK(has(b.p, "\"value\":\"10.0.0.4\",\"ioc\":false"));
    CHECK(has(b.p, "\"type\":\"hostname\",\"subtype\":\"\",\"value\":\"bastion\""));
    CHECK(has(b.p, "\"type\":\"user\",\"subtype\":\"\",\"value\":\"root\""));
    CHECK(has(b.p, "\"type\":\"url\",\"subtype\":\"\",\"value\":\"http://evil.example/a\""));
    CHECK(has(b.p, "\"subtype\":\"sha256\",\"value\":\"e3b0c442"));
    CHECK(has(b.p, "\"type\":\"fqdn\",\"subtype\":\"\",\"value\":\"c2.evil.example\""));
    CHECK(has(b.p, "\"type\":\"mail\",\"subtype\":\"\",\"value\":\"x@phish.example\""));
    CHECK(has(b.p, "\"type\":\"filename\""));
    CHECK(has(b.p, "\"source\":\"alert:"));
    CHECK(!has(b.p, "bogus"));
    vg_sbuf_reset(&b);
    CHECK_EQ_INT(vg_case_get(r.db, "default", id, &b, err, sizeof(err)), VG_OK);
    CHECK(has(b.p, "\"rule_id\":\"ssh-bf\"") && has(b.p, "\"incidents\":[7]"));
    vg_sbuf_fini(&b);

    /* the report: ATT&CK, entities, escaping */
    struct vg_sbuf md = VG_SBUF_INIT, html = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_timeline_add(r.db, NULL, id, "playbook:ssh#r-3", "action",
                                      "nft.block 203.0.113.5 | 24h", "{\"ip\":\"203.0.113.5\"}",
                                      NULL, err, sizeof(err)),
                 VG_OK);
    struct vg_case_update u = {.root_cause = hostile, .lessons_learned = "Rotate keys"};
    CHECK_EQ_INT(vg_case_update(r.db, OP(NULL, NULL, NULL), id, &u, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_case_report(r.db, "default", id, "markdown", &md, err, sizeof(err)), VG_OK);
    CHECK(has(md.p, "# Case #") && has(md.p, "T1110.001") && has(md.p, "T1110,") &&
          has(md.p, "T1033") && has(md.p, "credential_access") && has(md.p, "discovery"));
    CHECK(has(md.p, "## Actions taken") && has(md.p, "nft.block 203.0.113.5 \\| 24h"));
    CHECK(has(md.p, "&lt;script&gt;alert(1)&lt;/script&gt; \\| pipe<br>newline"));
    CHECK(!has(md.p, "<script>"));
    CHECK(has(md.p, "| host | bastion |") && has(md.p, "| ip | 203.0.113.5 |") &&
          has(md.p, "| user | root |"));
    CHECK(has(md.p, "Rotate keys"));
    const char *act = strstr(md.p, "## Actions taken"), *tasks = strstr(md.p, "## Tasks");
    CHECK(act && tasks && strstr(act, "playbook:ssh#r-3") < tasks);
    CHECK_EQ_INT(vg_case_report(r.db, "default", id, "html", &html, err, sizeof(err)), VG_OK);
    CHECK(has(html.p, "<!DOCTYPE html>") && has(html.p, "Content-Security-Policy") &&
          has(html.p, "default-src 'none'"));
    CHECK(has(html.p, "&lt;script&gt;alert(1)&lt;/script&gt;") && !has(html.p, "<script"));
    CHECK(has(html.p, "T1110.001") && has(html.p, "nft.block 203.0.113.5 | 24h"));
    CHECK_EQ_INT(vg_case_report(r.db, "default", id, "pdf", &html, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(vg_case_report(r.db, "acme", id, "html", &html, err, sizeof(err)), VG_ENOENT);
    vg_sbuf_fini(&md);
    vg_sbuf_fini(&html);
    crig_close(&r);
}

VG_TEST(tasks_comments_timeline_order)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    int64_t id = mk(&r, NULL, "tasks"), t1 = 0, t2 = 0, cid = 0;
    struct vg_case_task t = {.title = "Isolate host", .group = "containment"};
    CHECK_EQ_INT(vg_case_task_add(r.db, OP(NULL, "user:a", NULL), id, &t, &t1, err, sizeof(err)),
                 VG_OK);
    t = (struct vg_case_task){
        .title = "Reset password", .status = VG_CASE_TASK_IN_PROGRESS, .assignee = "bob"};
    CHECK_EQ_INT(vg_case_task_add(r.db, OP(NULL, "user:a", NULL), id, &t, &t2, err, sizeof(err)),
                 VG_OK);
    t = (struct vg_case_task){.status = VG_CASE_TASK_COMPLETED};
    CHECK_EQ_INT(
        vg_case_task_update(r.db, OP(NULL, "user:b", NULL), t1, &t, &cid, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(cid, id);
    CHECK_EQ_INT(
        vg_case_task_update(r.db, OP("acme", "user:b", NULL), t1, &t, &cid, err, sizeof(err)),
        VG_ENOENT);
    t = (struct vg_case_task){0};
    CHECK_EQ_INT(
        vg_case_task_update(r.db, OP(NULL, "user:b", NULL), t1, &t, &cid, err, sizeof(err)),
        VG_EINVAL);
    CHECK_EQ_INT(
        vg_case_comment_add(r.db, OP(NULL, "user:c", NULL), id, "**done**", NULL, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(
        vg_case_comment_add(r.db, OP(NULL, "user:c", NULL), id, "", NULL, err, sizeof(err)),
        VG_EINVAL);
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_tasks_json(r.db, NULL, id, &b, err, sizeof(err)), VG_OK);
    CHECK(has(b.p, "\"title\":\"Isolate host\",\"group\":\"containment\"") &&
          has(b.p, "\"status\":\"completed\"") && has(b.p, "\"group\":\"default\"") &&
          has(b.p, "\"assignee\":\"bob\""));
    vg_sbuf_reset(&b);
    CHECK_EQ_INT(vg_case_timeline_json(r.db, NULL, id, &b, err, sizeof(err)), VG_OK);
    const char *order[] = {"\"created\"", "\"task_added\"", "\"task_added\"", "\"task_updated\"",
                           "\"comment\""};
    const char *p = b.p;
    for (size_t i = 0; i < VG_ARRAY_LEN(order) && p; i++) {
        p = strstr(p, order[i]);
        CHECK(p != NULL);
        p = p ? p + 1 : NULL;
    }
    CHECK(has(b.p, "**done**"));
    vg_sbuf_fini(&b);
    crig_close(&r);
}

VG_TEST(merge_moves_everything)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    int64_t a = mk(&r, NULL, "A"), b = mk(&r, NULL, "B"), other = mk(&r, "acme", "C");
    struct vg_case_observable o = {.value = "203.0.113.5", .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), a, &o, NULL, NULL, err, sizeof(err)),
        VG_OK);
    o.sighted = true;
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), b, &o, NULL, NULL, err, sizeof(err)),
        VG_OK);
    o = (struct vg_case_observable){.value = "evil.example", .ioc = -1};
    CHECK_EQ_INT(
        vg_case_observable_add(r.db, OP(NULL, NULL, NULL), b, &o, NULL, NULL, err, sizeof(err)),
        VG_OK);
    struct vg_case_task t = {.title = "From B"};
    CHECK_EQ_INT(vg_case_task_add(r.db, OP(NULL, NULL, NULL), b, &t, NULL, err, sizeof(err)),
                 VG_OK);
    int64_t inc[] = {3};
    CHECK_EQ_INT(
        vg_case_link(r.db, OP(NULL, NULL, NULL), b, NULL, 0, inc, 1, NULL, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(vg_case_merge(r.db, OP(NULL, "user:m", NULL), a, a, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(vg_case_merge(r.db, OP(NULL, "user:m", NULL), a, other, err, sizeof(err)),
                 VG_ENOENT);
    CHECK_EQ_INT(vg_case_merge(r.db, OP(NULL, "user:m", NULL), a, b, err, sizeof(err)), VG_OK);
    char *j = get_json(&r, "default", a);
    CHECK(has(j, "\"incidents\":[3]") && has(j, "\"observables\":2,\"tasks\":1"));
    vg_free(j);
    j = get_json(&r, "default", b);
    CHECK(has(j, "\"status\":\"resolved\"") && has(j, "\"verdict\":\"duplicate\"") &&
          has(j, "\"observables\":0,\"tasks\":0"));
    char want[32];
    snprintf(want, sizeof(want), "\"merged_into\":%lld", (long long)a);
    CHECK(has(j, want));
    vg_free(j);
    struct vg_sbuf s = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_observables_json(r.db, NULL, a, &s, err, sizeof(err)), VG_OK);
    CHECK(has(s.p, "\"value\":\"203.0.113.5\",\"ioc\":true,\"sighted\":true"));
    vg_sbuf_reset(&s);
    CHECK_EQ_INT(vg_case_timeline_json(r.db, NULL, a, &s, err, sizeof(err)), VG_OK);
    CHECK(has(s.p, "\"kind\":\"merged\"") && has(s.p, "\"text\":\"B\""));
    vg_sbuf_fini(&s);
    /* the merged case takes no more changes */
    CHECK_EQ_INT(vg_case_comment_add(r.db, OP(NULL, NULL, NULL), b, "late", NULL, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(has(err, "merged into"));
    CHECK_EQ_INT(vg_case_merge(r.db, OP(NULL, NULL, NULL), a, b, err, sizeof(err)), VG_EINVAL);
    crig_close(&r);
}

static void *comment_worker(void *arg)
{
    struct crig *r = arg;
    char err[256], key[32];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%d", i % 25); /* both threads repeat the same keys */
        vg_case_comment_add(r->db, OP(NULL, "w", key), 1, "c", NULL, err, sizeof(err));
    }
    return NULL;
}

VG_TEST(concurrent_writers_share_op_keys)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    CHECK_EQ_INT(mk(&r, NULL, "busy"), 1);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&th[i], NULL, comment_worker, &r);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    char *j = get_json(&r, NULL, 1);
    CHECK(has(j, "\"comments\":25"));
    vg_free(j);
    VG_UNUSED(err);
    crig_close(&r);
}

/* A case with nothing linked: empty ATT&CK lists and empty tables (no sort of an empty list). */
VG_TEST(report_of_empty_case)
{
    struct crig r;
    char err[256];
    if (!crig_open(&r)) {
        CHECK(!"rig");
        crig_close(&r);
        return;
    }
    int64_t id = mk(&r, NULL, "Quiet");
    struct vg_sbuf md = VG_SBUF_INIT, html = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_report(r.db, NULL, id, "md", &md, err, sizeof(err)), VG_OK);
    CHECK(has(md.p, "**Techniques:** none") && has(md.p, "**Tactics:** none"));
    CHECK(has(md.p, "## Linked alerts\n\n_None._") && has(md.p, "## Observables\n\n_None._"));
    CHECK(has(md.p, "| Time | Actor | Kind | Entry |") && has(md.p, "| created | Quiet |"));
    CHECK_EQ_INT(vg_case_report(r.db, NULL, id, "html", &html, err, sizeof(err)), VG_OK);
    CHECK(has(html.p, "<strong>Techniques:</strong> none</p>"));
    CHECK(has(html.p, "<h2>Tasks</h2>\n<p><em>None.</em></p>"));
    vg_sbuf_fini(&md);
    vg_sbuf_fini(&html);
    crig_close(&r);
}
