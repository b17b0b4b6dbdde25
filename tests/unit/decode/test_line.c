/*
 * test_line.c — text lines: RFC 3164 / RFC 5424 syslog, auditd records, plain lines, and the
 * record reader's handling of malformed and oversized records.
 */
#include "decode/decode.h"
#include "vgtest.h"

static const char *get(struct vg_event *ev, const char *name)
{
    static char buf[512];
    size_t n;
    const char *s = vg_event_get_str(ev, name, &n);
    if (!s) {
        return NULL;
    }
    snprintf(buf, sizeof(buf), "%.*s", (int)n, s);
    return buf;
}

VG_TEST(rfc3164)
{
    struct vg_event *ev = vg_event_create();
    const char *l = "Mar  3 14:02:01 web01 sshd[1234]: Failed password for root from 10.0.0.1";
    CHECK(vg_decode_line(ev, l, strlen(l), 2025) == VG_OK);
    CHECK_STR(get(ev, "hostname"), "web01");
    CHECK_STR(get(ev, "program"), "sshd");
    CHECK_STR(get(ev, "pid"), "1234");
    CHECK_STR(get(ev, "message"), "Failed password for root from 10.0.0.1");
    CHECK_EQ_INT(ev->kind, VG_EK_LINUX);
    char t[40];
    vg_time_format(ev->ts, t, sizeof(t));
    CHECK_STR(t, "2025-03-03T14:02:01.000000Z");
    vg_event_reset(ev);
    const char *p = "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8";
    CHECK(vg_decode_line(ev, p, strlen(p), 2025) == VG_OK);
    CHECK_STR(get(ev, "facility"), "4");
    CHECK_STR(get(ev, "severity"), "2");
    CHECK_STR(get(ev, "program"), "su");
    vg_event_destroy(ev);
}

VG_TEST(rfc5424)
{
    struct vg_event *ev = vg_event_create();
    const char *l = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                    "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application "
                    "event";
    CHECK(vg_decode_line(ev, l, strlen(l), 2025) == VG_OK);
    CHECK_STR(get(ev, "hostname"), "mymachine.example.com");
    CHECK_STR(get(ev, "program"), "evntslog");
    CHECK_STR(get(ev, "msgid"), "ID47");
    CHECK_STR(get(ev, "eventSource"), "Application");
    CHECK_STR(get(ev, "message"), "An application event");
    CHECK(get(ev, "pid") == NULL);
    vg_event_destroy(ev);
}

VG_TEST(auditd)
{
    struct vg_event *ev = vg_event_create();
    const char *l = "type=EXECVE msg=audit(1700000000.123:456): argc=3 a0=\"wget\" "
                    "a1=687474703A2F2F782F79 a2=\"-q\"";
    CHECK(vg_decode_line(ev, l, strlen(l), 2025) == VG_OK);
    CHECK_STR(get(ev, "type"), "EXECVE");
    CHECK_STR(get(ev, "a0"), "wget");
    CHECK_STR(get(ev, "a1"), "http://x/y");
    CHECK_STR(get(ev, "argc"), "3");
    CHECK_STR(get(ev, "audit.serial"), "456");
    vg_event_destroy(ev);
}

VG_TEST(web_access_logs)
{
    struct vg_event *ev = vg_event_create();
    const char *l = "203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.php?id=1'+OR+1=1"
                    " HTTP/1.1\" 200 2326 \"http://ref/\" \"sqlmap/1.4 (http://sqlmap.org)\"";
    CHECK(vg_decode_line(ev, l, strlen(l), 2025) == VG_OK);
    CHECK_EQ_INT(ev->kind, VG_EK_WEB);
    CHECK_STR(get(ev, "c-ip"), "203.0.113.9");
    CHECK_STR(get(ev, "cs-username"), "frank");
    CHECK_STR(get(ev, "cs-method"), "GET");
    CHECK_STR(get(ev, "cs-uri-stem"), "/a.php");
    CHECK_STR(get(ev, "cs-uri-query"), "id=1'+OR+1=1");
    CHECK_STR(get(ev, "sc-status"), "200");
    CHECK_STR(get(ev, "cs-user-agent"), "sqlmap/1.4 (http://sqlmap.org)");
    char t[40];
    vg_time_format(ev->ts, t, sizeof(t));
    CHECK_STR(t, "2000-10-10T20:55:36.000000Z");
    vg_event_reset(ev);
    const char *w3c = "#Software: Microsoft Internet Information Services 10.0\n"
                      "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
                      "cs-username c-ip cs(User-Agent) sc-status\n"
                      "2024-05-01 10:11:12 10.0.0.1 POST /owa/auth.aspx x=1 443 - 198.51.100.7 "
                      "Mozilla/5.0+(Windows) 500\n";
    struct vg_reader *r;
    CHECK(vg_reader_open(&r, (const uint8_t *)w3c, strlen(w3c), NULL) == VG_OK);
    char err[128];
    CHECK(vg_reader_next(r, ev, err, sizeof(err)) == VG_OK);
    CHECK_STR(get(ev, "cs-method"), "POST");
    CHECK_STR(get(ev, "cs-user-agent"), "Mozilla/5.0 (Windows)");
    CHECK_STR(get(ev, "sc-status"), "500");
    CHECK_STR(get(ev, "cs-uri"), "/owa/auth.aspx?x=1");
    CHECK(get(ev, "cs-username") == NULL);
    vg_time_format(ev->ts, t, sizeof(t));
    CHECK_STR(t, "2024-05-01T10:11:12.000000Z");
    CHECK(vg_reader_next(r, ev, err, sizeof(err)) == VG_EOF);
    vg_reader_close(r);
    vg_event_destroy(ev);
}

VG_TEST(sysmon_for_linux)
{
    struct vg_event *ev = vg_event_create();
    const char *l =
        "Nov 20 10:00:00 web01 sysmon: <Event><System><Provider Name=\"Linux-Sysmon\" "
        "Guid=\"{ff032593-a8d3-4f13-b0d6-01fc615a0f97}\"/><EventID>1</EventID><Version>5"
        "</Version><TimeCreated SystemTime=\"2025-11-20T10:00:00.123456Z\"/><Channel>Linux-"
        "Sysmon/Operational</Channel><Computer>web01</Computer></System><EventData><Data "
        "Name=\"Image\">/usr/bin/curl</Data><Data Name=\"CommandLine\">curl -s http://x/a?"
        "b=1&amp;c=&lt;2&gt;</Data><Data Name=\"ParentImage\">/bin/bash</Data></EventData>"
        "</Event>";
    CHECK(vg_decode_line(ev, l, strlen(l), 2025) == VG_OK);
    CHECK_EQ_INT(ev->kind, VG_EK_LINUX);
    CHECK_STR(get(ev, "EventID"), "1");
    CHECK_STR(get(ev, "Provider_Name"), "Linux-Sysmon");
    CHECK_STR(get(ev, "Image"), "/usr/bin/curl");
    CHECK_STR(get(ev, "CommandLine"), "curl -s http://x/a?b=1&c=<2>");
    CHECK_STR(get(ev, "ParentImage"), "/bin/bash");
    char t[40];
    vg_time_format(ev->ts, t, sizeof(t));
    CHECK_STR(t, "2025-11-20T10:00:00.123456Z");
    vg_event_reset(ev);
    const char *bad = "Nov 20 10:00:00 web01 sysmon: <Event><System><EventID>1</System>";
    CHECK(vg_decode_line(ev, bad, strlen(bad), 2025) == VG_OK); /* kept as a syslog line */
    vg_event_destroy(ev);
}

VG_TEST(plain_and_garbage_lines)
{
    struct vg_event *ev = vg_event_create();
    const char *l = "just some text \xff\xfe not utf-8";
    CHECK(vg_decode_line(ev, l, strlen(l), 2025) == VG_OK);
    CHECK(get(ev, "message") != NULL);
    vg_event_reset(ev);
    CHECK(vg_decode_line(ev, "<999>", 5, 2025) == VG_OK);
    vg_event_reset(ev);
    CHECK(vg_decode_line(ev, "<13>1 ", 6, 2025) == VG_OK);
    vg_event_destroy(ev);
}

VG_TEST(reader_skips_bad_records)
{
    const char *data = "{\"a\":1}\n{\"a\": oops}\n{\"a\":2}\n[{\"a\":3},{\"a\":4}]\n{\"a\":";
    struct vg_reader *r;
    CHECK(vg_reader_open(&r, (const uint8_t *)data, strlen(data), NULL) == VG_OK);
    CHECK_EQ_INT(vg_reader_format(r), VG_FMT_JSON);
    struct vg_event *ev = vg_event_create();
    char err[256];
    int ok = 0, bad = 0, rc;
    while ((rc = vg_reader_next(r, ev, err, sizeof(err))) != VG_EOF) {
        if (rc == VG_OK) {
            ok++;
        } else {
            bad++;
            CHECK(strstr(err, "line ") != NULL);
        }
    }
    CHECK_EQ_INT(ok, 4);
    CHECK_EQ_INT(bad, 2);
    vg_reader_close(r);
    /* text: an oversized line is skipped and counted */
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_sbuf_adds(&s, "first\n");
    for (int i = 0; i < 5000; i++) {
        vg_sbuf_adds(&s, "xxxxxxxxxx");
    }
    vg_sbuf_adds(&s, "\nlast\n");
    struct vg_reader_limits lim = {.max_record = 1024};
    CHECK(vg_reader_open(&r, (const uint8_t *)s.p, s.len, &lim) == VG_OK);
    ok = bad = 0;
    while ((rc = vg_reader_next(r, ev, err, sizeof(err))) != VG_EOF) {
        rc == VG_OK ? ok++ : bad++;
    }
    CHECK_EQ_INT(ok, 2);
    CHECK_EQ_INT(vg_reader_stats(r)->oversized, 1);
    vg_reader_close(r);
    vg_sbuf_fini(&s);
    CHECK_EQ_INT(vg_format_detect((const uint8_t *)"ElfFile\0", 8), VG_FMT_EVTX);
    CHECK_EQ_INT(vg_format_detect((const uint8_t *)"MZ\x90\0\3", 5), VG_FMT_BINARY);
    vg_event_destroy(ev);
}
