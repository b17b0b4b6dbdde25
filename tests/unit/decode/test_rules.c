/*
 * test_rules.c — what the chain's native names are for: unmodified Sigma rules (with the
 * built-in logsource mapping) match the events the chain produces, whatever rendering the
 * source arrived in — a Sysmon process creation as evtx_dump JSON, winlogbeat, NXLog, Wazuh
 * or OSSEC WinEvtLog text; an auditd EXECVE joined from its records; an sshd failure.
 */
#include "decode/decode.h"
#include "detect/detect.h"
#include "vgtest.h"

static const char *const rules = "title: Suspicious certutil download\n"
                                 "id: 00000000-0000-0000-0000-000000000001\n"
                                 "logsource: {product: windows, category: process_creation}\n"
                                 "detection:\n"
                                 "  sel:\n"
                                 "    Image|endswith: '\\certutil.exe'\n"
                                 "    CommandLine|contains|all: ['-urlcache', 'http']\n"
                                 "  condition: sel\n"
                                 "---\n"
                                 "title: wget via auditd\n"
                                 "id: 00000000-0000-0000-0000-000000000002\n"
                                 "logsource: {product: linux, service: auditd}\n"
                                 "detection:\n"
                                 "  sel:\n"
                                 "    type: EXECVE\n"
                                 "    a0: wget\n"
                                 "  condition: sel\n"
                                 "---\n"
                                 "title: sshd invalid user\n"
                                 "id: 00000000-0000-0000-0000-000000000003\n"
                                 "logsource: {product: linux, service: sshd}\n"
                                 "detection:\n"
                                 "  keywords: ['Invalid user']\n"
                                 "  condition: keywords\n";

static int count(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    VG_UNUSED(m);
    VG_UNUSED(ev);
    (*(int *)ud)++;
    return 0;
}

struct fixture {
    struct vg_sigma_set *set;
    struct vg_mapping *map;
    struct vg_ruleset *rs;
    struct vg_detect_ctx *ctx;
    struct vg_decoder *dec;
    struct vg_event *ev;
};

static bool setup(struct fixture *f)
{
    char err[256];
    memset(f, 0, sizeof(*f));
    f->set = vg_sigma_set_create(NULL);
    if (!f->set || vg_sigma_set_add_text(f->set, rules, strlen(rules), "t.yml") != VG_OK ||
        vg_mapping_default(&f->map, err, sizeof(err)) != VG_OK ||
        vg_ruleset_build(f->set, f->map, NULL, &f->rs, err, sizeof(err)) != VG_OK) {
        return false;
    }
    struct vg_decoder_opts o = {.default_year = 2025};
    f->ctx = vg_detect_ctx_create(f->rs);
    f->dec = vg_decoder_create(&o);
    f->ev = vg_event_create();
    return f->ctx && f->dec && f->ev;
}

static void teardown(struct fixture *f)
{
    vg_event_destroy(f->ev);
    vg_decoder_destroy(f->dec);
    vg_detect_ctx_destroy(f->ctx);
    vg_ruleset_unref(f->rs);
    vg_mapping_destroy(f->map);
    vg_sigma_set_destroy(f->set);
}

/* Decode the lines (flushing at the end) and count the rule matches of their events. */
static int matches(struct fixture *f, const char *const *lines, size_t n)
{
    int hits = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = vg_decoder_decode(f->dec, lines[i], strlen(lines[i]), f->ev);
        CHECK(rc == VG_OK || rc == VG_AGAIN);
        if (rc == VG_OK) {
            vg_detect_event(f->rs, f->ctx, f->ev, count, &hits);
        }
    }
    while (vg_decoder_flush(f->dec, f->ev) == VG_OK) {
        vg_detect_event(f->rs, f->ctx, f->ev, count, &hits);
    }
    return hits;
}

VG_TEST(windows_rule_matches_every_rendering)
{
    struct fixture f;
    CHECK(setup(&f));
    static const char *const renderings[] = {
        "{\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/"
        "Operational\"},\"EventData\":{\"Image\":\"C:\\\\Windows\\\\System32\\\\certutil.exe\","
        "\"CommandLine\":\"certutil -urlcache -f http://x/a.exe a.exe\"}}}",
        "{\"winlog\":{\"channel\":\"Microsoft-Windows-Sysmon/Operational\",\"event_id\":1,"
        "\"event_data\":{\"Image\":\"C:\\\\Windows\\\\System32\\\\certutil.exe\","
        "\"CommandLine\":\"certutil -urlcache -f http://x/a.exe a.exe\"}}}",
        "{\"EventID\":1,\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"SourceName\":"
        "\"Microsoft-Windows-Sysmon\",\"Image\":\"C:\\\\Windows\\\\System32\\\\certutil.exe\","
        "\"CommandLine\":\"certutil -urlcache -f http://x/a.exe a.exe\"}",
        "{\"win\":{\"system\":{\"eventID\":\"1\",\"channel\":\"Microsoft-Windows-Sysmon/"
        "Operational\"},\"eventdata\":{\"image\":\"C:\\\\\\\\Windows\\\\\\\\System32\\\\\\\\"
        "certutil.exe\",\"commandLine\":\"certutil -urlcache -f http://x/a.exe a.exe\"}}}",
        "2025 Nov 29 03:00:00 WinEvtLog: Microsoft-Windows-Sysmon/Operational: INFORMATION(1): "
        "Microsoft-Windows-Sysmon: SYSTEM: NT AUTHORITY: PC1: Process Create:  Image: "
        "C:\\Windows\\System32\\certutil.exe  CommandLine: certutil -urlcache -f "
        "http://x/a.exe a.exe  User: PC1\\bob",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(renderings); i++) {
        int hits = matches(&f, &renderings[i], 1);
        if (hits != 1) {
            fprintf(stderr, "  rendering %zu: %d matches\n", i, hits);
        }
        CHECK_EQ_INT(hits, 1);
    }
    teardown(&f);
}

VG_TEST(linux_rules_match_joined_and_syslog_events)
{
    struct fixture f;
    CHECK(setup(&f));
    static const char *const audit[] = {
        ("type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 success=yes "
         "exe=\"/usr/bin/wget\""),
        "type=EXECVE msg=audit(1700000000.123:456): argc=2 a0=\"wget\" a1=\"http://x/y\"",
        "type=EOE msg=audit(1700000000.123:456): ",
    };
    CHECK_EQ_INT(matches(&f, audit, VG_ARRAY_LEN(audit)), 1);
    static const char *const ssh[] = {
        "Nov 29 03:00:01 web01 sshd[1]: Invalid user oracle from 198.51.100.2 port 1",
        "Nov 29 03:00:01 web01 sshd[1]: Accepted publickey for deploy from 192.0.2.7 port 2 ssh2",
    };
    CHECK_EQ_INT(matches(&f, ssh, VG_ARRAY_LEN(ssh)), 1);
    teardown(&f);
}
