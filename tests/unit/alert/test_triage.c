/*
 * test_triage.c — the triage engine end to end on a real triage.db: dedup inside and after
 * its window, a multi-stage attack on one host opening exactly one incident by risk and
 * grouping every stage into it, the 3-tactics rule, exceptions that suppress and expire,
 * backtests against a real store, verdict ratios, a hook refusing a batch (rolled back and
 * retried), a restart that keeps incidents and does not re-triage, the consumer thread, and
 * precise errors for bad exception JSON.
 */
#include "triage_test.h"

#include <math.h>

static const char *const T_BRUTE = "[\"attack.t1110\",\"attack.credential_access\"]";
static const char *const T_LOGIN = "[\"attack.t1078\",\"attack.initial_access\"]";
static const char *const T_SUDO = "[\"attack.t1548\",\"attack.privilege_escalation\"]";
static const char *const T_USER = "[\"attack.t1136\",\"attack.persistence\"]";
static const char *const T_C2 = "[\"attack.t1071\",\"attack.command_and_control\"]";

/* brute force -> login -> sudo -> new user -> outbound connection, all on web-1 */
static void stages(struct vg_store_alert *a, int64_t id0)
{
    a[0] = mk(id0, 0, "ssh-brute", 3, T_BRUTE, "web-1", "root", "203.0.113.5", NULL, "sshd");
    a[1] = mk(id0 + 1, 5, "ssh-login-after-fail", 4, T_LOGIN, "web-1", "deploy", "203.0.113.5",
              NULL, "sshd");
    a[2] = mk(id0 + 2, 9, "sudo-shell", 4, T_SUDO, "web-1", "deploy", NULL, NULL, "sudo");
    a[3] = mk(id0 + 3, 12, "useradd", 3, T_USER, "web-1", "backdoor", NULL, NULL, "useradd");
    a[4] = mk(id0 + 4, 20, "outbound-rare-port", 4, T_C2, "web-1", NULL, "10.0.0.7",
              "198.51.100.77", "curl");
}

static struct vg_triage *open_t(const char *dir, const struct vg_triage_opts *o)
{
    struct vg_triage *t = NULL;
    char err[256];
    if (vg_triage_open(dir, o, NULL, &t, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  open: %s\n", err);
    }
    return t;
}

static int process(struct vg_triage *t, struct vg_store_alert *a, size_t n, struct counts *c,
                   struct vg_triage_batch_stats *st)
{
    struct vg_triage_hooks h = {on_alert, on_incident, c};
    char err[256];
    int rc = vg_triage_process(t, a, n, c ? &h : NULL, st, err, sizeof(err));
    if (rc != VG_OK && rc != VG_AGAIN) {
        fprintf(stderr, "  process: %s\n", err);
    }
    return rc;
}

VG_TEST(dedup_within_and_after_window)
{
    struct vg_triage *t = open_t(NULL, NULL);
    struct vg_store_alert a[4] = {
        mk(1, 0, "r1", 3, "[]", "h1", "u1", NULL, NULL, NULL),
        mk(2, 10, "r1", 3, "[]", "h1", "u1", NULL, NULL, NULL), /* duplicate of 1 */
        mk(3, 11, "r1", 3, "[]", "h1", "u2", NULL, NULL, NULL), /* other user: new */
        mk(4, 61, "r1", 3, "[]", "h1", "u1", NULL, NULL, NULL), /* window over: new */
    };
    struct vg_triage_batch_stats st;
    CHECK(t != NULL);
    CHECK_EQ_INT(process(t, a, 4, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.seen, 4);
    CHECK_EQ_INT(st.duplicates, 1);
    CHECK_EQ_INT(st.passed, 3);
    CHECK_EQ_INT(vg_triage_position(t), 4);
    /* the same batch again: every id is at or below the position */
    CHECK_EQ_INT(process(t, a, 4, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.skipped, 4);
    vg_triage_destroy(t);
}

VG_TEST(per_rule_dedup_window)
{
    struct vg_triage_opts o;
    vg_triage_opts_init(&o);
    vg_strlist_add(&o.rule_dedup, "noisy=5m");
    struct vg_triage *t = open_t(NULL, &o);
    struct vg_store_alert a[3] = {
        mk(1, 0, "noisy", 2, "[]", "h1", NULL, NULL, NULL, NULL),
        mk(2, 4, "noisy", 2, "[]", "h1", NULL, NULL, NULL, NULL),
        mk(3, 6, "noisy", 2, "[]", "h1", NULL, NULL, NULL, NULL),
    };
    struct vg_triage_batch_stats st;
    CHECK_EQ_INT(process(t, a, 3, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.duplicates, 1);
    vg_triage_destroy(t);
    vg_triage_opts_fini(&o);
}

VG_TEST(multi_stage_attack_opens_one_incident)
{
    char dir[64], js[8192];
    scratch_dir(dir, sizeof(dir));
    struct vg_triage *t = open_t(dir, NULL);
    struct vg_store_alert a[7];
    stages(a, 1);
    a[5] = mk(6, 21, "ssh-brute", 3, T_BRUTE, "db-9", "oracle", "192.0.2.1", NULL, "sshd");
    a[6] = mk(7, 22, "outbound-rare-port", 4, T_C2, "web-1", NULL, "10.0.0.7", "198.51.100.78",
              "wget");
    struct counts c = {0};
    struct vg_triage_batch_stats st;
    CHECK_EQ_INT(process(t, a, 7, &c, &st), VG_OK);
    CHECK_EQ_INT(st.opened, 1);
    CHECK_EQ_INT(c.opened, 1);
    CHECK_EQ_INT(c.alerts, 7);
    CHECK(strstr(c.last_title, "on host web-1") && strstr(c.last_title, "Credential Access") &&
          strstr(c.last_title, "Command and Control"));
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_triage_incident_json(t, "default", 1, &b), VG_OK);
    snprintf(js, sizeof(js), "%s", b.p ? b.p : "");
    CHECK(strstr(js, "\"alert_count\":6"));
    CHECK(strstr(js, "\"reason\":\"risk_threshold\""));
    CHECK(strstr(js, "\"severity\":4"));
    CHECK(strstr(js, "\"initial_access\"") && strstr(js, "\"privilege_escalation\"") &&
          strstr(js, "\"persistence\"") && strstr(js, "\"command_and_control\""));
    CHECK(strstr(js, "\"198.51.100.77\"") && strstr(js, "\"backdoor\"") &&
          strstr(js, "\"destination\""));
    CHECK(!strstr(js, "db-9"));
    CHECK_EQ_INT(vg_triage_incident_json(t, "other", 1, &b), VG_ENOENT);
    vg_sbuf_fini(&b);
    vg_triage_destroy(t);
    scratch_rm(dir);
}

VG_TEST(three_tactics_open_an_incident)
{
    struct vg_triage *t = open_t(NULL, NULL);
    struct vg_store_alert a[3] = {
        mk(1, 0, "recon", 2, "[\"attack.discovery\"]", NULL, "bob", NULL, NULL, NULL),
        mk(2, 60, "dump", 2, "[\"attack.credential_access\"]", NULL, "bob", NULL, NULL, NULL),
        mk(3, 3000, "share", 2, "[\"attack.lateral_movement\"]", NULL, "bob", NULL, NULL, NULL),
    };
    struct counts c = {0};
    struct vg_triage_batch_stats st;
    CHECK_EQ_INT(process(t, a, 2, &c, &st), VG_OK);
    CHECK_EQ_INT(st.opened, 0);
    CHECK_EQ_INT(process(t, a + 2, 1, &c, &st), VG_OK); /* two days later: still in 7 d */
    CHECK_EQ_INT(st.opened, 1);
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_triage_incident_json(t, "default", c.last_incident, &b), VG_OK);
    CHECK(b.p && strstr(b.p, "\"reason\":\"tactics\"") && strstr(b.p, "on user bob"));
    vg_sbuf_fini(&b);
    vg_triage_destroy(t);
}

VG_TEST(exceptions_suppress_and_expire)
{
    char dir[64], err[256];
    scratch_dir(dir, sizeof(dir));
    struct vg_triage *t = open_t(dir, NULL);
    int64_t id1, id2;
    const char *e1 = "{\"rule\":\"scan\",\"entity\":{\"type\":\"host\",\"value\":\"scan-*\"},"
                     "\"expires\":\"1h\",\"reason\":\"vulnerability scanner\"}";
    const char *e2 = "{\"rule\":\"*\",\"fields\":{\"user.name\":\"svc_*\",\"level\":\"2\"},"
                     "\"expires\":\"never\",\"reason\":\"backup jobs\"}";
    CHECK_EQ_INT(
        vg_triage_exception_add(t, "default", "user:alice", e1, strlen(e1), &id1, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(
        vg_triage_exception_add(t, "default", "user:alice", e2, strlen(e2), &id2, err, sizeof(err)),
        VG_OK);
    vg_time_t now = vg_time_now();
    struct vg_store_alert a[5] = {
        mk(1, 0, "scan", 3, "[]", "scan-01", NULL, NULL, NULL, NULL),
        mk(2, 0, "scan", 3, "[]", "web-01", NULL, NULL, NULL, NULL),
        mk(3, 1, "scan", 3, "[]", "scan-02", NULL, NULL, NULL, NULL),
        mk(4, 2, "cron", 2, "[]", "h", NULL, NULL, NULL, NULL),
        mk(5, 3, "cron", 2, "[]", "h2", NULL, NULL, NULL, NULL),
    };
    a[0].created = a[1].created = now;
    a[2].created = now + 120 * MIN_NS; /* arrives after the snooze expired */
    a[3].created = a[4].created = now;
    a[3].event_json = "{\"user.name\":\"svc_backup\"}";
    a[4].event_json = "{\"user\":{\"name\":\"alice\"}}";
    struct vg_triage_batch_stats st;
    CHECK_EQ_INT(process(t, a, 5, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.suppressed, 2);
    CHECK_EQ_INT(st.passed, 3);
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_triage_exception_list(t, "default", &b);
    CHECK(b.p && strstr(b.p, "\"reason\":\"vulnerability scanner\"") &&
          strstr(b.p, "\"author\":\"user:alice\"") && strstr(b.p, "\"expires\":\"never\""));
    vg_sbuf_reset(&b);
    vg_triage_exception_list(t, "other", &b);
    CHECK(b.p && !strcmp(b.p, "[]"));
    CHECK_EQ_INT(vg_triage_exception_delete(t, "other", "user:x", id1, err, sizeof(err)),
                 VG_ENOENT);
    CHECK_EQ_INT(vg_triage_exception_delete(t, "default", "user:alice", id1, err, sizeof(err)),
                 VG_OK);
    vg_sbuf_fini(&b);
    vg_triage_destroy(t);
    /* the remaining exception survives a restart */
    t = open_t(dir, NULL);
    b = (struct vg_sbuf)VG_SBUF_INIT;
    vg_triage_exception_list(t, "default", &b);
    CHECK(b.p && strstr(b.p, "backup jobs") && !strstr(b.p, "scanner"));
    vg_sbuf_fini(&b);
    vg_triage_destroy(t);
    scratch_rm(dir);
}

VG_TEST(bad_exception_json_errors)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"rule\":\"r\",\"expires\":\"soon\",\"reason\":\"x\"}",
         "exceptions: field 'expires': not a time or duration"},
        {"{\"rule\":\"r\",\"expires\":\"2222216h\",\"reason\":\"x\"}",
         "exceptions: field 'expires': the duration must be at most 36500d (use \"never\")"},
        {"{\"rule\":\"r\",\"reason\":\"x\"}", "exceptions: field 'expires': required"},
        {"{\"rule\":\"r\",\"expires\":\"never\"}", "exceptions: field 'reason': required"},
        {"{\"expires\":\"never\",\"reason\":\"x\"}", "exceptions: field 'rule': required"},
        {"{\"rule\":\"r\",\"expires\":\"never\",\"reason\":\"x\",\"entity\":{\"type\":\"car\","
         "\"value\":\"a\"}}",
         "exceptions: field 'entity.type': expected host, user, ip or process"},
        {"{\"rule\":\"r\",\"expires\":\"never\",\"reason\":\"x\",\"fields\":{\"a\":1}}",
         "exceptions: field 'fields.a': expected a string"},
        {"{\"rule\":\"r\",\"expires\":\"2001-01-01T00:00:00Z\",\"reason\":\"x\"}",
         "exceptions: field 'expires': the time is in the past"},
        {"{\"rule\":\"r\",\"expires\":\"never\",\"reason\":\"x\",\"colour\":1}",
         "exceptions: unknown field 'colour'"},
        {"{\"rule\":5}", "exceptions: field 'rule': expected a string"},
        {"[1]", "exceptions: body: expected a JSON object"},
        {"{\"rule\":", "exceptions: body:"},
        {"", "exceptions: body:"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        char err[256] = "";
        CHECK_EQ_INT(
            vg_triage_exception_check(cases[i].json, strlen(cases[i].json), err, sizeof(err)),
            VG_EINVAL);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0) {
            fprintf(stderr, "  case %zu: '%s', expected '%s'\n", i, err, cases[i].want);
            CHECK(!"error text");
        }
    }
}

VG_TEST(backtest_counts_store_alerts)
{
    char dir[64], err[256];
    scratch_dir(dir, sizeof(dir));
    struct vg_store *s = NULL;
    CHECK_EQ_INT(vg_store_open(dir, NULL, &s, err, sizeof(err)), VG_OK);
    struct vg_store_alert a[6];
    vg_time_t now = vg_time_now();
    for (int i = 0; i < 6; i++) {
        a[i] = mk(0, 0, i < 4 ? "scan" : "other", 3, "[]", i % 2 ? "scan-1" : "web-1", NULL, NULL,
                  NULL, NULL);
        a[i].ts = now - (int64_t)(i == 0 ? 40 : 1) * 86400LL * 1000000000LL; /* 0: too old */
    }
    CHECK_EQ_INT(vg_store_alert_append(s, a, 6, err, sizeof(err)), VG_OK);
    struct vg_triage *t = open_t(dir, NULL);
    vg_triage_set_store(t, s);
    struct vg_triage_backtest bt;
    const char *cand = "{\"rule\":\"*\",\"entity\":{\"type\":\"host\",\"value\":\"web-*\"},"
                       "\"expires\":\"1d\",\"reason\":\"test\"}";
    CHECK_EQ_INT(
        vg_triage_exception_backtest(t, "default", cand, strlen(cand), 0, &bt, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(bt.scanned, 5);
    CHECK_EQ_INT(bt.matched, 2); /* alerts 3 and 5 (alert 1 is 40 days old) */
    CHECK_EQ_INT(bt.nsamples, 2);
    CHECK_EQ_INT(
        vg_triage_exception_backtest(t, "default", cand, strlen(cand), 60, &bt, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(bt.matched, 3);
    CHECK_EQ_INT(
        vg_triage_exception_backtest(t, "other", cand, strlen(cand), 60, &bt, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(bt.matched, 0);
    vg_triage_destroy(t);
    vg_store_close(s);
    scratch_rm(dir);
}

struct ratio {
    double fp_ratio;
    int64_t alerts, fp, tp;
};

static int grab_rule(void *ctx, const struct vg_triage_rule_stats *r)
{
    struct ratio *x = ctx;
    if (!strcmp(r->rule_id, "r1")) {
        x->fp_ratio = r->fp_ratio;
        x->alerts = r->alerts;
        x->fp = r->fp;
        x->tp = r->tp;
    }
    return VG_OK;
}

VG_TEST(verdict_ratios_and_incident_close)
{
    char dir[64], err[256];
    scratch_dir(dir, sizeof(dir));
    struct vg_triage *t = open_t(dir, NULL);
    struct vg_store_alert a[4] = {
        mk(1, 0, "r1", 3, "[]", "h1", NULL, NULL, NULL, NULL),
        mk(2, 0, "r1", 3, "[]", "h2", NULL, NULL, NULL, NULL),
        mk(3, 0, "r1", 3, "[]", "h3", NULL, NULL, NULL, NULL),
        mk(4, 0, "r1", 3, "[]", "h3", NULL, NULL, NULL, NULL),
    };
    CHECK_EQ_INT(process(t, a, 4, NULL, NULL), VG_OK);
    CHECK_EQ_INT(vg_triage_verdict_set(t, "default", "user:a", 1, VG_TRIAGE_VERDICT_FP, "noise",
                                       err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(vg_triage_verdict_set(t, "default", "user:a", 2, VG_TRIAGE_VERDICT_TP, NULL, err,
                                       sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(vg_triage_verdict_set(t, "default", "user:a", 3, VG_TRIAGE_VERDICT_FP, NULL, err,
                                       sizeof(err)),
                 VG_OK);
    /* change of mind: 2 becomes benign (the counters move, not grow) */
    CHECK_EQ_INT(vg_triage_verdict_set(t, "default", "user:a", 2, VG_TRIAGE_VERDICT_BENIGN, NULL,
                                       err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(vg_triage_verdict_set(t, "other", "user:a", 2, VG_TRIAGE_VERDICT_TP, NULL, err,
                                       sizeof(err)),
                 VG_ENOENT);
    CHECK_EQ_INT(vg_triage_verdict_set(t, "default", "user:a", 99, VG_TRIAGE_VERDICT_TP, NULL, err,
                                       sizeof(err)),
                 VG_ENOENT);
    struct ratio r = {0};
    CHECK_EQ_INT(vg_triage_rule_stats(t, "default", grab_rule, &r), VG_OK);
    CHECK_EQ_INT(r.alerts, 4);
    CHECK_EQ_INT(r.fp, 2);
    CHECK_EQ_INT(r.tp, 0);
    CHECK(fabs(r.fp_ratio - 2.0 / 3.0) < 1e-9);

    /* closing an incident with a verdict applies it to its alerts without one */
    struct vg_store_alert s[5];
    stages(s, 10);
    CHECK_EQ_INT(process(t, s, 5, NULL, NULL), VG_OK);
    CHECK_EQ_INT(vg_triage_verdict_set(t, "default", "user:a", 10, VG_TRIAGE_VERDICT_BENIGN, NULL,
                                       err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(vg_triage_incident_update(t, "default", "user:a", 1, "closed", "alice",
                                           VG_TRIAGE_VERDICT_TP, "red team", err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(vg_triage_incident_update(t, "default", "user:a", 1, "done", NULL, 0, NULL, err,
                                           sizeof(err)),
                 VG_EINVAL);
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_triage_incident_json(t, "default", 1, &b), VG_OK);
    CHECK(b.p && strstr(b.p, "\"status\":\"closed\"") && strstr(b.p, "\"assignee\":\"alice\"") &&
          strstr(b.p, "\"verdict\":\"true_positive\""));
    vg_sbuf_fini(&b);
    struct ratio r2 = {0};
    vg_triage_rule_stats(t, "default", grab_rule, &r2);
    CHECK_EQ_INT(r2.fp, 2);
    /* the closed incident no longer attracts alerts: web-1's risk is still over the
     * threshold, so new activity opens a new incident holding only the new alert */
    struct counts c = {0};
    struct vg_store_alert late =
        mk(20, 30, "sudo-shell", 4, T_SUDO, "web-1", "deploy", NULL, NULL, "su");
    CHECK_EQ_INT(process(t, &late, 1, &c, NULL), VG_OK);
    CHECK_EQ_INT(c.opened, 1);
    b = (struct vg_sbuf)VG_SBUF_INIT;
    CHECK_EQ_INT(vg_triage_incident_json(t, "default", c.last_incident, &b), VG_OK);
    CHECK(b.p && strstr(b.p, "\"alert_count\":1,"));
    vg_sbuf_fini(&b);
    vg_triage_destroy(t);
    scratch_rm(dir);
}

VG_TEST(refused_hook_rolls_back_and_retries)
{
    char dir[64];
    scratch_dir(dir, sizeof(dir));
    struct vg_triage *t = open_t(dir, NULL);
    struct vg_store_alert a[5];
    stages(a, 1);
    struct counts c = {.refuse = 1};
    CHECK_EQ_INT(process(t, a, 5, &c, NULL), VG_AGAIN);
    CHECK_EQ_INT(vg_triage_position(t), 0);
    c.refuse = 0;
    struct vg_triage_batch_stats st;
    CHECK_EQ_INT(process(t, a, 5, &c, &st), VG_OK);
    CHECK_EQ_INT(st.opened, 1);
    CHECK_EQ_INT(st.duplicates, 0); /* the refused batch left no fingerprints behind */
    CHECK_EQ_INT(c.last_incident, 1);
    vg_triage_destroy(t);
    scratch_rm(dir);
}

VG_TEST(restart_keeps_incidents_and_does_not_retriage)
{
    char dir[64];
    scratch_dir(dir, sizeof(dir));
    struct vg_triage *t = open_t(dir, NULL);
    struct vg_store_alert a[5];
    stages(a, 1);
    struct vg_triage_batch_stats st;
    CHECK_EQ_INT(process(t, a, 3, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.opened, 1);
    vg_triage_destroy(t);

    t = open_t(dir, NULL);
    CHECK_EQ_INT(vg_triage_position(t), 3);
    CHECK_EQ_INT(process(t, a, 3, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.skipped, 3);
    /* later stages join the incident opened before the restart */
    struct counts c = {0};
    CHECK_EQ_INT(process(t, a + 3, 2, &c, &st), VG_OK);
    CHECK_EQ_INT(st.opened, 0);
    CHECK_EQ_INT(st.grouped, 2);
    CHECK_EQ_INT(c.changed, 1);
    /* the fingerprint window survived too */
    struct vg_store_alert again = a[0];
    again.id = 6;
    again.ts += 30 * MIN_NS;
    CHECK_EQ_INT(process(t, &again, 1, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.duplicates, 1);
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_triage_incident_json(t, "default", 1, &b), VG_OK);
    CHECK(b.p && strstr(b.p, "\"alert_count\":5"));
    CHECK_EQ_INT(vg_triage_incident_json(t, "default", 2, &b), VG_ENOENT);
    vg_sbuf_fini(&b);
    vg_triage_destroy(t);
    scratch_rm(dir);
}

VG_TEST(consumer_reads_the_store)
{
    char dir[64], err[256];
    scratch_dir(dir, sizeof(dir));
    struct vg_store *s = NULL;
    CHECK_EQ_INT(vg_store_open(dir, NULL, &s, err, sizeof(err)), VG_OK);
    struct vg_triage_opts o;
    vg_triage_opts_init(&o);
    o.batch = 2; /* several batches */
    struct vg_triage *t = open_t(dir, &o);
    struct counts c = {0};
    struct vg_triage_hooks h = {on_alert, on_incident, &c};
    CHECK_EQ_INT(vg_triage_start(t, s, &h), VG_OK);
    CHECK_EQ_INT(vg_triage_start(t, s, &h), VG_EEXIST);
    struct vg_store_alert a[5];
    stages(a, 0);
    CHECK_EQ_INT(vg_store_alert_append(s, a, 5, err, sizeof(err)), VG_OK);
    vg_triage_notify(t);
    CHECK_EQ_INT(vg_triage_wait_idle(t, 20000), VG_OK);
    CHECK_EQ_INT(vg_triage_position(t), a[4].id);
    vg_triage_stop(t);
    CHECK_EQ_INT(c.alerts, 5);
    CHECK_EQ_INT(c.opened, 1);
    vg_triage_destroy(t);
    vg_triage_opts_fini(&o);
    vg_store_close(s);
    scratch_rm(dir);
}

VG_TEST(bad_options_are_named)
{
    struct vg_triage_opts o;
    struct vg_triage *t = NULL;
    char err[256];
    vg_triage_opts_init(&o);
    vg_strlist_add(&o.criticality, "server:db-*=2");
    CHECK_EQ_INT(vg_triage_open(NULL, &o, NULL, &t, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "criticality 'server:db-*=2'"));
    vg_triage_opts_fini(&o);
    size_t n = 0;
    CHECK(vg_triage_conf_table(&n) && n > 10);
}

VG_TEST(criticality_multiplies_risk)
{
    struct vg_triage_opts o;
    vg_triage_opts_init(&o);
    vg_strlist_add(&o.criticality, "host:dc-*=3");
    struct vg_triage *t = open_t(NULL, &o);
    /* one high alert: 40 x 3 = 120 >= 100 on the domain controller, 40 elsewhere */
    struct vg_store_alert a[2] = {
        mk(1, 0, "r", 4, "[]", "dc-01", NULL, NULL, NULL, NULL),
        mk(2, 0, "r", 4, "[]", "ws-01", NULL, NULL, NULL, NULL),
    };
    struct vg_triage_batch_stats st;
    CHECK_EQ_INT(process(t, a, 2, NULL, &st), VG_OK);
    CHECK_EQ_INT(st.opened, 1);
    vg_triage_destroy(t);
    vg_triage_opts_fini(&o);
}
