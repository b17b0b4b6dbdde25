/*
 * test_actions.c — the action table (every action named, described, with a terminated
 * params table and a run; lookups), the basic actions (noop, log, set, sleep and its
 * deadline), dry runs of every action (descriptions, no side effects), the agent and intel
 * placeholders, and malformed inputs giving clear, non-retryable errors.
 */
#include "act_test.h"

#include <unistd.h>

VG_TEST(table_lists_every_action_once)
{
    size_t n = 0;
    const struct vg_action_def *const *all = vg_action_all(&n);
    static const char *const want[] = {"noop",
                                       "log",
                                       "set",
                                       "sleep",
                                       "http.webhook",
                                       "exec.responder",
                                       "mail.send",
                                       "nft.block",
                                       "nft.unblock",
                                       "case.create",
                                       "case.comment",
                                       "case.observable",
                                       "case.task",
                                       "case.status",
                                       "case.link_alerts",
                                       "agent.kill_process",
                                       "agent.quarantine_file",
                                       "agent.isolate_host",
                                       "agent.release_host",
                                       "agent.yara_scan",
                                       "intel.lookup"};
    CHECK_EQ_INT(n, VG_ARRAY_LEN(want));
    for (size_t i = 0; i < VG_ARRAY_LEN(want); i++) {
        const struct vg_action_def *d = vg_action_find(want[i]);
        CHECK(d != NULL);
        if (d) {
            CHECK_STR(d->name, want[i]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        CHECK(all[i]->description && strlen(all[i]->description) > 10);
        CHECK(all[i]->run != NULL);
        size_t k = 0;
        for (; all[i]->params[k].name; k++) {
            CHECK(all[i]->params[k].description && all[i]->params[k].description[0]);
            CHECK(all[i]->params[k].type >= VG_ACTION_STRING &&
                  all[i]->params[k].type <= VG_ACTION_ANY);
        }
        CHECK(k < 20);
        for (size_t j = i + 1; j < n; j++) {
            CHECK(strcmp(all[i]->name, all[j]->name) != 0);
        }
    }
    CHECK(vg_action_find("nope") == NULL);
    CHECK(vg_action_find(NULL) == NULL);
    CHECK(vg_action_find("http") == NULL);
}

VG_TEST(noop_log_set)
{
    struct act_run ar;
    CHECK_EQ_INT(act_run("noop", "{}", NULL, 1000, &ar), VG_OK);
    CHECK_STR(ar.res.output.p, "{}");
    act_done(&ar);

    /* log writes one escaped line: a newline in the message cannot forge a second line */
    FILE *f = tmpfile();
    vg_log_set_stream(f);
    vg_log_set_level(VG_LOG_INFO);
    CHECK_EQ_INT(act_run("log", "{\"message\":\"hello\\nFAKE line\"}", NULL, 1000, &ar), VG_OK);
    vg_log_set_stream(stderr);
    CHECK_STR(ar.res.output.p, "{\"logged\":true}");
    act_done(&ar);
    char buf[1024] = "";
    rewind(f);
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[got] = 0;
    CHECK(strstr(buf, "hello\\nFAKE line") != NULL);
    CHECK(strchr(buf, '\n') == buf + got - 1);

    CHECK_EQ_INT(act_run("log", "{}", NULL, 1000, &ar), VG_EINVAL);
    CHECK(strstr(ar.res.err, "'message'") != NULL);
    CHECK(!ar.res.retryable);
    act_done(&ar);

    CHECK_EQ_INT(act_run("set", "{\"a\":1,\"b\":{\"c\":[\"x\",true]}}", NULL, 1000, &ar), VG_OK);
    CHECK_STR(ar.res.output.p, "{\"a\":1,\"b\":{\"c\":[\"x\",true]}}");
    act_done(&ar);
}

VG_TEST(sleep_honours_the_deadline)
{
    struct act_run ar;
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(act_run("sleep", "{\"ms\":50}", NULL, 1000, &ar), VG_OK);
    CHECK(vg_clock_ns() - t0 >= 50000000u);
    CHECK_EQ_INT(act_out_int(&ar, "slept_ms"), 50);
    act_done(&ar);

    t0 = vg_clock_ns();
    CHECK_EQ_INT(act_run("sleep", "{\"ms\":\"5000\"}", NULL, 100, &ar), VG_ETIMEOUT);
    uint64_t took = vg_clock_ns() - t0;
    CHECK(took >= 90000000u && took < 1000000000u);
    CHECK(ar.res.retryable);
    act_done(&ar);

    CHECK_EQ_INT(act_run("sleep", "{\"ms\":\"soon\"}", NULL, 100, &ar), VG_EINVAL);
    CHECK(strstr(ar.res.err, "'ms' must be an integer") != NULL);
    act_done(&ar);
    CHECK_EQ_INT(act_run("sleep", "{\"ms\":-1}", NULL, 100, &ar), VG_EINVAL);
    act_done(&ar);
}

VG_TEST(dry_run_describes_and_does_nothing)
{
    struct vg_respond_services svc = {.dry_run = true, .smtp_url = "smtp://127.0.0.1:1"};
    struct act_run ar;
    struct {
        const char *name, *input, *expect;
    } cases[] = {
        {"http.webhook",
         "{\"url\":\"https://u:p@hooks.example/x\",\"body\":{\"a\":1},\"headers\":"
         "{\"Authorization\":\"Bearer SECRET\",\"X-Env\":\"prod\"}}",
         "POST https://hooks.example/x with body {\"a\":1}"},
        {"exec.responder", "{\"program\":\"block.sh\",\"args\":[\"a b\",\";rm\"]}",
         "run responder block.sh with args [\"a b\", \";rm\"]"},
        {"mail.send", "{\"to\":\"soc@example.org\",\"subject\":\"hi\",\"body\":\"x\"}",
         "send mail to 1 recipient(s)"},
        {"nft.block", "{\"ip\":\"198.51.100.7\",\"duration\":\"2h\"}",
         "add element inet vigie blocked4 { 198.51.100.7 timeout 7200s }"},
        {"nft.unblock", "{\"ip\":\"2001:DB8::0:1\"}",
         "delete element inet vigie blocked6 { 2001:db8::1 }"},
        {"case.create", "{\"title\":\"t\"}", "call the case module with {\"title\":\"t\"}"},
        {"agent.isolate_host", "{\"host\":\"web-1\"}", "ask the agent on host web-1 to isolate"},
        {"intel.lookup", "{\"value\":\"1.2.3.4\",\"type\":\"ip\"}", "look up ip \"1.2.3.4\""},
        {"sleep", "{\"ms\":100000}", "sleep 100000 ms"},
        {"log", "{\"message\":\"m\"}", "log \"m\""},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        uint64_t t0 = vg_clock_ns();
        CHECK_EQ_INT(act_run(cases[i].name, cases[i].input, &svc, 5000, &ar), VG_OK);
        CHECK(vg_clock_ns() - t0 < 1000000000u);
        const struct vg_json *dr = ar.out ? vg_json_get(ar.out, "dry_run") : NULL;
        CHECK(dr && dr->type == VG_JSON_TRUE);
        const char *would = act_out_str(&ar, "would");
        if (!strstr(would, cases[i].expect)) {
            fprintf(stderr, "  %s: would = %s\n", cases[i].name, would);
            CHECK(0);
        }
        /* secrets stay out of descriptions */
        CHECK(!strstr(would, "SECRET") && !strstr(would, "u:p@"));
        act_done(&ar);
    }
}

VG_TEST(agent_and_intel_fail_clearly)
{
    struct act_run ar;
    CHECK_EQ_INT(act_run("agent.kill_process", "{\"host\":\"web-1\",\"pid\":42}", NULL, 1000, &ar),
                 VG_EUNSUPPORTED);
    CHECK_STR(ar.res.err, "no agents here: the server runs without fleet.listen");
    CHECK(!ar.res.retryable);
    act_done(&ar);
    CHECK_EQ_INT(act_run("agent.quarantine_file", "{}", NULL, 1000, &ar), VG_EINVAL);
    CHECK(strstr(ar.res.err, "'host' is required") != NULL);
    act_done(&ar);
    CHECK_EQ_INT(act_run("intel.lookup", "{\"value\":\"evil.example\"}", NULL, 1000, &ar),
                 VG_EUNSUPPORTED);
    CHECK(strstr(ar.res.err, "intel") != NULL && !ar.res.retryable);
    act_done(&ar);
}

VG_TEST(case_actions_without_cases)
{
    struct act_run ar;
    CHECK_EQ_INT(act_run("case.create", "{\"title\":\"x\"}", NULL, 1000, &ar), VG_EUNSUPPORTED);
    CHECK_STR(ar.res.err, "cases are not available in this context");
    CHECK(!ar.res.retryable);
    act_done(&ar);
    CHECK_EQ_INT(act_run("case.comment", "{\"text\":\"x\"}", NULL, 1000, &ar), VG_EINVAL);
    CHECK(strstr(ar.res.err, "case_id") != NULL);
    act_done(&ar);
}

VG_TEST(malformed_inputs_are_refused)
{
    struct vg_respond_services svc = {.smtp_url = "smtp://127.0.0.1:1", .smtp_from = "v@x.org"};
    struct {
        const char *name, *input, *err;
    } cases[] = {
        {"http.webhook", "{\"url\":\"file:///etc/passwd\",\"body\":{}}", "http:// or https://"},
        {"http.webhook", "{\"url\":\"gopher://x/\",\"body\":{}}", "http:// or https://"},
        {"http.webhook", "{\"url\":\"http://x/\\r\\nHost: y\",\"body\":{}}", "control"},
        {"http.webhook", "{\"url\":\"http://x/\"}", "either 'body'"},
        {"http.webhook", "{\"url\":\"http://x/\",\"format\":\"irc\",\"text\":\"t\"}",
         "'format' must be"},
        {"http.webhook", "{\"url\":\"http://x/\",\"body\":{},\"method\":\"DELETE\"}",
         "'method' must be POST or PUT"},
        {"http.webhook", "{\"url\":\"http://x/\",\"body\":{},\"headers\":{\"X\":\"a\\r\\nB: c\"}}",
         "'headers'"},
        {"http.webhook", "{\"url\":\"http://x/\",\"body\":{},\"headers\":{\"Bad Name\":\"v\"}}",
         "'headers'"},
        {"http.webhook", "{\"url\":\"http://x\\u0000y/\",\"body\":{}}", "NUL byte"},
        {"nft.block", "{\"ip\":\"198.51.100.300\"}", "not an IPv4 or IPv6 address"},
        {"nft.block", "{\"ip\":\"198.51.100.0/24\"}", "not an IPv4 or IPv6 address"},
        {"nft.block", "{\"ip\":\"1.2.3.4; flush ruleset\"}", "not an IPv4 or IPv6 address"},
        {"nft.block", "{\"ip\":\"0.0.0.0\"}", "unspecified"},
        {"nft.block", "{\"ip\":\"::\"}", "unspecified"},
        {"nft.block", "{\"ip\":\"127.0.0.1\"}", "loopback"},
        {"nft.block", "{\"ip\":\"192.0.2.1\",\"duration\":\"31d\"}", "'duration'"},
        {"nft.block", "{\"ip\":\"192.0.2.1\",\"duration\":\"1h; flush ruleset\"}", "'duration'"},
        {"nft.block", "{\"ip\":\"192.0.2.1\",\"duration\":\"0s\"}", "'duration'"},
        {"mail.send", "{\"to\":\"a@b.org\",\"subject\":\"hi\\r\\nBcc: x@y.org\"}", "'subject'"},
        {"mail.send", "{\"to\":[\"a@b.org\\r\\nRCPT TO:<x@y>\"],\"subject\":\"s\"}", "'to' item 0"},
        {"mail.send", "{\"to\":[\"not-an-address\"],\"subject\":\"s\"}", "'to' item 0"},
        {"mail.send", "{\"subject\":\"s\"}", "'to' is required"},
        {"exec.responder", "{\"program\":\"../bin/sh\"}", "bare responder name"},
        {"exec.responder", "{\"program\":\"/bin/sh\"}", "bare responder name"},
        {"exec.responder", "{\"program\":\"a/b\"}", "bare responder name"},
        {"exec.responder", "{\"program\":\"ok\",\"args\":\"x\",\"input\":[1]}", "'input'"},
        {"exec.responder", "{\"program\":\"ok\",\"args\":[{\"a\":1}]}", "'args' item 0"},
        {"exec.responder", "{\"program\":\"ok\"}", "no responders directory"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct act_run ar;
        int rc = act_run(cases[i].name, cases[i].input, &svc, 2000, &ar);
        if (rc == VG_OK || !strstr(ar.res.err, cases[i].err) || ar.res.retryable) {
            fprintf(stderr, "  case %zu %s %s: rc %d err \"%s\"\n", i, cases[i].name,
                    cases[i].input, rc, ar.res.err);
            CHECK(0);
        }
        act_done(&ar);
    }
}

VG_TEST(docs_list_every_action_and_parameter)
{
    char path[512], *doc = NULL, want[256];
    size_t len = 0, n = 0;
    snprintf(path, sizeof(path), "%s/docs/actions.md", vgt_source_dir());
    CHECK_EQ_INT(vg_file_read(path, 1 << 20, &doc, &len), VG_OK);
    const struct vg_action_def *const *all = vg_action_all(&n);
    for (size_t i = 0; doc && i < n; i++) {
        snprintf(want, sizeof(want), "### `%s`\n\n%s.", all[i]->name, all[i]->description);
        if (!strstr(doc, want)) {
            fprintf(stderr, "  docs/actions.md lacks %s (or its description changed)\n",
                    all[i]->name);
            CHECK(0);
        }
        const char *sec = strstr(doc, want);
        for (size_t k = 0; sec && all[i]->params[k].name; k++) {
            snprintf(want, sizeof(want), "| `%s` |", all[i]->params[k].name);
            const char *next = strstr(sec + 4, "\n### ");
            const char *hit = strstr(sec, want);
            CHECK(hit && (!next || hit < next));
        }
    }
    vg_free(doc);
}
