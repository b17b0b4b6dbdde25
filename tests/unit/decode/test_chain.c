/*
 * test_chain.c — the decoder chain (decode_chain.c and the decode_<format>.c decoders): each
 * decoder's native and ECS fields on representative lines, the auditd join, stream state,
 * hints, rejections with their reasons and counters, and the decline/rollback contract.
 */
#include "decode/decode.h"
#include "vgtest.h"

static struct vg_decoder *dec;
static struct vg_event *ev;

static void setup(const struct vg_decoder_opts *o)
{
    struct vg_decoder_opts def = {.default_year = 2025};
    vg_decoder_destroy(dec);
    dec = vg_decoder_create(o ? o : &def);
    if (!ev) {
        ev = vg_event_create();
    }
}

/* Decode one line (flushing any event it leaves buffered); returns the status. */
static int run(const char *line)
{
    if (!dec) {
        setup(NULL);
    }
    int rc = vg_decoder_decode(dec, line, strlen(line), ev);
    if (rc == VG_AGAIN) {
        rc = vg_decoder_flush(dec, ev);
    }
    return rc;
}

/* The n-th value (0-based) of a field as a NUL-terminated string, or NULL. */
static const char *nth(const char *name, int n)
{
    static char buf[8][1024];
    static int slot;
    uint32_t id = vg_field_lookup(name, strlen(name));
    const struct vg_field *f = id == VG_FIELD_NONE ? NULL : vg_event_get(ev, id);
    for (int i = 0; f && i < n; i++) {
        f = vg_event_next(ev, f);
    }
    if (!f) {
        return NULL;
    }
    char *b = buf[slot++ & 7];
    snprintf(b, sizeof(buf[0]), "%.*s", (int)f->v.len, f->v.str);
    return b;
}

static const char *get(const char *name)
{
    return nth(name, 0);
}

static const char *ts(void)
{
    static char t[40];
    if (ev->ts == VG_TIME_NONE) {
        return "none";
    }
    vg_time_format(ev->ts, t, sizeof(t));
    return t;
}

/* ---------------------------------------------------------------- chain */

VG_TEST(table_lists_itself)
{
    size_t n;
    const struct vg_decoder_def *t = vg_decoder_table(&n);
    CHECK(n >= 30);
    CHECK_STR(t[n - 1].name, "plain");
    CHECK_STR(t[n - 2].name, "syslog");
    for (size_t i = 0; i < n; i++) {
        CHECK(t[i].description && t[i].formats && t[i].decode);
        CHECK_EQ_INT(vg_decoder_find(t[i].name), (long long)i);
    }
    CHECK_EQ_INT(vg_decoder_find("nope"), -1);
}

VG_TEST(rejections_have_reasons_and_counts)
{
    struct vg_decoder_opts o = {.default_year = 2025, .max_record = 64};
    setup(&o);
    char big[100];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ_INT(run(big), VG_EINVAL);
    CHECK(strstr(vg_decoder_error(dec), "99 bytes exceeds the 64-byte limit") != NULL);
    CHECK_EQ_INT(vg_decoder_decode(dec, "ab\0cd", 5, ev), VG_EINVAL);
    CHECK(strstr(vg_decoder_error(dec), "NUL byte at offset 2") != NULL);
    CHECK_EQ_INT(run("caf\xc3\x28 x"), VG_EINVAL);
    CHECK(strstr(vg_decoder_error(dec), "invalid UTF-8 at offset 3") != NULL);
    CHECK_EQ_INT(run("\xed\xa0\x80 surrogate"), VG_EINVAL);
    CHECK_EQ_INT(run("  \r\n"), VG_EINVAL);
    CHECK(strstr(vg_decoder_error(dec), "empty") != NULL);
    CHECK_EQ_INT(run("{\"a\": oops}"), VG_EINVAL);
    CHECK(strstr(vg_decoder_error(dec), "malformed JSON") != NULL);
    CHECK_EQ_INT(run("{\"a\":1} trailing"), VG_EINVAL);
    CHECK_EQ_INT(run("CEF:0|a|b|c"), VG_EINVAL);
    CHECK(strstr(vg_decoder_error(dec), "malformed CEF: header has 3 of the 7") != NULL);
    CHECK_EQ_INT(run("LEEF:2.0|a|b|c|d|\xc3\xa9\xc3\xa9|x=1"), VG_EINVAL);
    CHECK(strstr(vg_decoder_error(dec), "malformed LEEF") != NULL);
    CHECK_EQ_INT(run("caf\xc3\xa9 ok"), VG_OK); /* valid UTF-8 passes */
    struct vg_decoder_stats st;
    vg_decoder_get_stats(dec, &st);
    CHECK_EQ_INT(st.records, 10);
    CHECK_EQ_INT(st.rejected, 9);
    CHECK_EQ_INT(st.oversized, 1);
    CHECK_EQ_INT(st.binary, 2);
    CHECK_EQ_INT(st.bad_utf8, 2);
    CHECK_EQ_INT(st.malformed, 4);
    CHECK_EQ_INT(st.per[vg_decoder_find("cef")].rejected, 1);
    CHECK_EQ_INT(st.per[vg_decoder_find("json")].rejected, 2);
    CHECK_EQ_INT(st.per[vg_decoder_find("plain")].claimed, 1);
    /* the option keeps Latin-1 text */
    struct vg_decoder_opts lax = {.default_year = 2025, .allow_invalid_utf8 = true};
    setup(&lax);
    CHECK_EQ_INT(run("caf\xe9 au lait"), VG_OK);
    setup(NULL);
}

VG_TEST(every_event_names_its_decoder_and_keeps_raw)
{
    const char *l = "Nov 29 03:00:01 web01 cron[12]: (root) CMD (run-parts /etc/cron.hourly)\r\n";
    CHECK_EQ_INT(run(l), VG_OK);
    CHECK_STR(get("event.module"), "syslog");
    CHECK_EQ_INT(ev->kind, VG_EK_LINUX);
    CHECK_EQ_INT(ev->raw_len, strlen(l) - 2);
    CHECK(ev->raw == l);
    CHECK_STR(get("program"), "cron");
    CHECK_STR(get("process.name"), "cron");
    CHECK_STR(get("host.name"), "web01");
    CHECK_STR(ts(), "2025-11-29T03:00:01.000000Z");
    CHECK_EQ_INT(run("just text"), VG_OK);
    CHECK_STR(get("event.module"), "plain");
    CHECK_STR(get("message"), "just text");
}

VG_TEST(syslog_header_forms)
{
    CHECK_EQ_INT(run("<165>1 2003-10-11T22:14:15.003Z host.example evntslog 77 ID47 "
                     "[ex@32473 iut=\"3\" src=\"a\\\"b\"] An event"),
                 VG_OK);
    CHECK_STR(get("hostname"), "host.example");
    CHECK_STR(get("program"), "evntslog");
    CHECK_STR(get("pid"), "77");
    CHECK_STR(get("msgid"), "ID47");
    CHECK_STR(get("iut"), "3");
    CHECK_STR(get("src"), "a\"b");
    CHECK_STR(get("message"), "An event");
    CHECK_STR(get("facility"), "20");
    CHECK_STR(get("severity"), "5");
    CHECK_STR(ts(), "2003-10-11T22:14:15.003000Z");
    CHECK_EQ_INT(run("2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: x"), VG_OK);
    CHECK_STR(ts(), "2020-03-23T13:47:42.801612Z");
    CHECK_STR(get("hostname"), "localhost");
    CHECK_EQ_INT(run("Oct  5 2018 10:52:19 USG6300 prog: y"), VG_OK);
    CHECK_STR(ts(), "2018-10-05T10:52:19.000000Z");
    CHECK_EQ_INT(run("2014 Dec 20 09:29:47 agent prog: z"), VG_OK);
    CHECK_STR(ts(), "2014-12-20T09:29:47.000000Z");
    CHECK_EQ_INT(run("Jan 22 18:34:00 filterlog: 65,,,0,vmx1,match,pass,out,4"), VG_OK);
    CHECK(get("hostname") == NULL);
    CHECK_STR(get("program"), "filterlog");
    CHECK_EQ_INT(run("oscap: ERROR: OpenSCAP not installed"), VG_OK);
    CHECK_STR(get("event.module"), "syslog");
    CHECK_STR(get("program"), "oscap");
    CHECK_EQ_INT(run("ERROR: not a tag"), VG_OK);
    CHECK_STR(get("event.module"), "plain");
    CHECK_EQ_INT(run("May 00 00:00:00 XXX-XX-00 prog: anonymised"), VG_OK);
    CHECK_STR(ts(), "none");
    CHECK_STR(get("program"), "prog");
}

/* ---------------------------------------------------------------- Linux auth */

VG_TEST(sshd)
{
    CHECK_EQ_INT(run("Nov 29 03:00:01 web01 sshd[1234]: Failed password for invalid user admin "
                     "from 203.0.113.5 port 40222 ssh2"),
                 VG_OK);
    CHECK_STR(get("event.module"), "sshd");
    CHECK_STR(get("event.category"), "authentication");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("event.action"), "ssh_login");
    CHECK_STR(get("user.name"), "admin");
    CHECK_STR(get("source.ip"), "203.0.113.5");
    CHECK_STR(get("source.port"), "40222");
    CHECK_STR(get("system.auth.ssh.method"), "password");
    CHECK_STR(get("message"),
              "Failed password for invalid user admin from 203.0.113.5 port 40222 ssh2");
    CHECK_EQ_INT(run("Nov 29 03:00:01 web01 sshd[1]: Accepted publickey for deploy from "
                     "192.0.2.7 port 50022 ssh2: ED25519 SHA256:x"),
                 VG_OK);
    CHECK_STR(get("event.outcome"), "success");
    CHECK_STR(get("user.name"), "deploy");
    CHECK_EQ_INT(run("Nov 29 03:00:01 web01 sshd[1]: Failed password for user from 172.18.1.1 "
                     "port 43042 ssh2"),
                 VG_OK);
    CHECK_STR(get("user.name"), "user"); /* a user named "user" */
    CHECK_EQ_INT(run("Nov 29 03:00:01 web01 sshd[1]: Invalid user oracle from 198.51.100.2 port 1"),
                 VG_OK);
    CHECK_STR(get("event.action"), "invalid_user");
    CHECK_STR(get("user.name"), "oracle");
    CHECK_EQ_INT(run("Nov 29 03:00:01 web01 sshd[1]: Disconnected from authenticating user root "
                     "203.0.113.1 port 22 [preauth]"),
                 VG_OK);
    CHECK_STR(get("event.action"), "disconnected");
    CHECK_STR(get("user.name"), "root");
    CHECK_EQ_INT(run("Nov 29 03:00:01 web01 sshd[1]: Connection closed by 203.0.113.1 port 9 "
                     "[preauth]"),
                 VG_OK);
    CHECK_STR(get("source.ip"), "203.0.113.1");
    CHECK_EQ_INT(run("Aug 18 07:30:25 h sshd[2]: [ID 800047 auth.notice] Failed none for root "
                     "from 192.168.1.1 port 36942 ssh2"),
                 VG_OK);
    CHECK_STR(get("user.name"), "root");
}

VG_TEST(pam_sudo_su_shadow)
{
    CHECK_EQ_INT(run("Nov 29 03:00:01 web01 sshd[9]: pam_unix(sshd:auth): authentication failure; "
                     "logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.9  user=root"),
                 VG_OK);
    CHECK_STR(get("event.module"), "pam");
    CHECK_STR(get("pam.module"), "pam_unix");
    CHECK_STR(get("pam.service"), "sshd");
    CHECK_STR(get("pam.type"), "auth");
    CHECK_STR(get("source.ip"), "203.0.113.9");
    CHECK_STR(get("user.name"), "root");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_EQ_INT(run("Nov 11 22:46:29 localhost su(pam_unix)[14592]: session opened for user news "
                     "by (uid=0)"),
                 VG_OK);
    CHECK_STR(get("event.module"), "pam");
    CHECK_STR(get("event.action"), "session_opened");
    CHECK_STR(get("user.name"), "news");
    CHECK_EQ_INT(run("Jun 25 15:51:13 p sudo:     mike : 3 incorrect password attempts ; "
                     "TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls -l ; echo"),
                 VG_OK);
    CHECK_STR(get("event.module"), "sudo");
    CHECK_STR(get("user.name"), "mike");
    CHECK_STR(get("user.effective.name"), "root");
    CHECK_STR(get("process.command_line"), "/bin/ls -l ; echo");
    CHECK_STR(get("COMMAND"), "/bin/ls -l ; echo");
    CHECK_STR(get("TTY"), "pts/0");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("event.reason"), "3 incorrect password attempts");
    CHECK_EQ_INT(run("Apr 27 15:22:23 niban su[234]: BAD SU ger to fwmaster on /dev/ttyp0"), VG_OK);
    CHECK_STR(get("event.module"), "su");
    CHECK_STR(get("user.name"), "ger");
    CHECK_STR(get("user.target.name"), "fwmaster");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_EQ_INT(run("Nov 29 03:00:08 h useradd[7]: new user: name=eve, UID=1001, GID=1001, "
                     "home=/home/eve, shell=/bin/bash"),
                 VG_OK);
    CHECK_STR(get("event.module"), "shadow-utils");
    CHECK_STR(get("event.action"), "user_created");
    CHECK_STR(get("user.name"), "eve");
    CHECK_STR(get("user.id"), "1001");
    CHECK_STR(get("shell"), "/bin/bash");
    CHECK_EQ_INT(run("Nov 29 03:00:08 h usermod[7]: add 'eve' to group 'sudo'"), VG_OK);
    CHECK_STR(get("event.action"), "group_member_added");
    CHECK_STR(get("user.name"), "eve");
    CHECK_STR(get("group.name"), "sudo");
}

/* ---------------------------------------------------------------- auditd */

VG_TEST(auditd_join)
{
    setup(NULL);
    const char *recs[] = {
        "type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 success=yes "
        "exit=0 ppid=1 pid=2 auid=1000 uid=0 euid=0 comm=\"curl\" exe=\"/usr/bin/curl\" "
        "key=\"exec\"",
        "type=EXECVE msg=audit(1700000000.123:456): argc=3 a0=\"curl\" a1=\"-s\" "
        "a2=687474703A2F2F782F79",
        "type=CWD msg=audit(1700000000.123:456): cwd=\"/tmp\"",
        "type=PATH msg=audit(1700000000.123:456): item=0 name=\"/usr/bin/\" nametype=PARENT",
        "type=PATH msg=audit(1700000000.123:456): item=1 name=2F7573722F62696E2F6375726C "
        "nametype=NORMAL",
        "type=PROCTITLE msg=audit(1700000000.123:456): proctitle=6375726C002D7300",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(recs); i++) {
        CHECK_EQ_INT(vg_decoder_decode(dec, recs[i], strlen(recs[i]), ev), VG_AGAIN);
    }
    const char *eoe = "type=EOE msg=audit(1700000000.123:456): ";
    CHECK_EQ_INT(vg_decoder_decode(dec, eoe, strlen(eoe), ev), VG_OK);
    CHECK_STR(get("event.module"), "auditd");
    CHECK_EQ_INT(ev->kind, VG_EK_LINUX);
    CHECK_STR(nth("type", 0), "SYSCALL");
    CHECK_STR(nth("type", 1), "EXECVE");
    CHECK_STR(nth("type", 5), "PROCTITLE");
    CHECK(nth("type", 6) == NULL); /* EOE is not a record type of the event */
    CHECK_STR(get("a2"), "http://x/y");
    CHECK_STR(get("proctitle"), "curl -s");
    CHECK_STR(get("SYSCALL"), "execve");
    CHECK_STR(get("ARCH"), "x86_64");
    CHECK_STR(get("process.command_line"), "curl -s http://x/y");
    CHECK_STR(get("process.executable"), "/usr/bin/curl");
    CHECK_STR(get("process.name"), "curl");
    CHECK_STR(get("process.pid"), "2");
    CHECK_STR(get("process.working_directory"), "/tmp");
    CHECK_STR(get("file.path"), "/usr/bin/curl");
    CHECK_STR(get("user.id"), "0");
    CHECK_STR(get("user.audit.id"), "1000");
    CHECK_STR(get("event.category"), "process");
    CHECK_STR(get("event.outcome"), "success");
    CHECK_STR(get("tags"), "exec");
    CHECK_STR(get("audit.serial"), "456");
    CHECK_STR(ts(), "2023-11-14T22:13:20.123000Z");
    CHECK(ev->raw && memmem(ev->raw, ev->raw_len, "type=PROCTITLE", 14) != NULL);
    CHECK_EQ_INT(vg_decoder_flush(dec, ev), VG_EOF);
}

VG_TEST(auditd_serial_change_user_records_and_kernel)
{
    setup(NULL);
    const char *a = "type=SYSCALL msg=audit(1700000000.000:10): syscall=2 success=no";
    const char *b = "type=SYSCALL msg=audit(1700000001.000:11): syscall=2 success=yes";
    CHECK_EQ_INT(vg_decoder_decode(dec, a, strlen(a), ev), VG_AGAIN);
    CHECK_EQ_INT(vg_decoder_decode(dec, b, strlen(b), ev), VG_OK); /* emits serial 10 */
    CHECK_STR(get("audit.serial"), "10");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_EQ_INT(vg_decoder_flush(dec, ev), VG_OK); /* serial 11 */
    CHECK_STR(get("audit.serial"), "11");
    CHECK_EQ_INT(vg_decoder_flush(dec, ev), VG_EOF);
    const char *u = "node=h1 type=USER_LOGIN msg=audit(1700000002.000:12): pid=1 uid=0 auid=1000 "
                    "ses=1 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? "
                    "addr=203.0.113.5 terminal=ssh res=failed'";
    CHECK_EQ_INT(vg_decoder_decode(dec, u, strlen(u), ev), VG_OK); /* user records: at once */
    CHECK_STR(get("node"), "h1");
    CHECK_STR(get("host.name"), "h1");
    CHECK_STR(get("acct"), "alice");
    CHECK_STR(get("user.name"), "alice");
    CHECK_STR(get("source.ip"), "203.0.113.5");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("event.category"), "authentication");
    CHECK_STR(get("event.action"), "user_login");
    const char *k = "Jun 24 10:35:29 host kernel: [49787.970285] audit: type=1400 "
                    "audit(1403598929.839:88986): apparmor=\"DENIED\" operation=\"open\" "
                    "profile=\"/usr/bin/x\" name=\"/etc/y\" pid=7 comm=\"x\"";
    CHECK_EQ_INT(vg_decoder_decode(dec, k, strlen(k), ev), VG_OK);
    CHECK_STR(get("event.module"), "auditd");
    CHECK_STR(get("apparmor"), "DENIED");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("event.action"), "open");
    CHECK_STR(get("process.name"), "x"); /* the audited process, not "kernel" */
    CHECK(nth("process.name", 1) == NULL);
    CHECK_STR(get("program"), "kernel");
    /* a whole event on one line, as audisp plugins forward it */
    const char *one = "type=SYSCALL msg=audit(1.0:5): syscall=2 comm=\"scp\" key=\"k\" type=PATH "
                      "msg=audit(1.0:5): item=0 name=\"/tmp/\" objtype=PARENT type=PATH "
                      "msg=audit(1.0:5): item=1 name=\"/tmp/f\" objtype=CREATE";
    CHECK_EQ_INT(run(one), VG_OK);
    CHECK_STR(nth("type", 2), "PATH");
    CHECK_STR(get("file.path"), "/tmp/f");
    CHECK(get("msg") == NULL);
}

/* ---------------------------------------------------------------- CEF, LEEF, kv */

VG_TEST(cef)
{
    CHECK_EQ_INT(run("Nov 29 03:00:00 fw01 CEF:0|Vendor\\|X|Prod|1.2|sig-1|name with spaces|High|"
                     "rt=Nov 29 2025 04:05:06 src=10.0.0.1 spt=1232 dst=2.1.2.2 suser=bob "
                     "msg=a\\=b c\\\\d\\nnext act=blocked cs1Label=policy cs1=Block all"),
                 VG_OK);
    CHECK_STR(get("event.module"), "cef");
    CHECK_STR(get("hostname"), "fw01");
    CHECK_STR(get("cef.device_vendor"), "Vendor|X");
    CHECK_STR(get("cef.name"), "name with spaces");
    CHECK_STR(get("event.severity"), "8");
    CHECK_STR(get("src"), "10.0.0.1");
    CHECK_STR(get("source.ip"), "10.0.0.1");
    CHECK_STR(get("source.port"), "1232");
    CHECK_STR(get("destination.ip"), "2.1.2.2");
    CHECK_STR(get("user.name"), "bob");
    CHECK_STR(get("msg"), "a=b c\\d\nnext");
    CHECK_STR(get("act"), "blocked");
    CHECK_STR(get("event.action"), "blocked");
    CHECK_STR(get("cs1"), "Block all");
    CHECK_STR(ts(), "2025-11-29T04:05:06.000000Z");
}

VG_TEST(leef)
{
    CHECK_EQ_INT(run("LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.9\tdst=172.50.123.1"
                     "\tsev=5\tusrName=joe.black\tdevTime=2025-11-29 03:00:00"),
                 VG_OK);
    CHECK_STR(get("event.module"), "leef");
    CHECK_STR(get("leef.vendor"), "Microsoft");
    CHECK_STR(get("leef.event_id"), "15345");
    CHECK_STR(get("source.ip"), "192.0.2.9");
    CHECK_STR(get("user.name"), "joe.black");
    CHECK_STR(get("event.severity"), "5");
    CHECK_STR(ts(), "2025-11-29T03:00:00.000000Z");
    CHECK_EQ_INT(run("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5"),
                 VG_OK);
    CHECK_STR(get("destination.ip"), "10.0.0.5");
    CHECK_EQ_INT(run("LEEF:2.0|V|P|1|id|x09|a=b\tc=d"), VG_OK);
    CHECK_STR(get("c"), "d");
    CHECK_EQ_INT(run("LEEF:1.0|P|p|1|e|sev=1\\tsrc=10.1.1.1"), VG_OK); /* tab written as text */
    CHECK_STR(get("src"), "10.1.1.1");
}

VG_TEST(key_value_vendors)
{
    CHECK_EQ_INT(run("date=2019-05-13 time=11:45:04 logid=\"0000000013\" type=\"traffic\" "
                     "subtype=\"forward\" level=\"notice\" srcip=10.1.100.11 srcport=60446 "
                     "dstip=172.16.200.55 dstport=80 proto=6 action=\"deny\""),
                 VG_OK);
    CHECK_STR(get("event.module"), "fortinet");
    CHECK_STR(get("source.ip"), "10.1.100.11");
    CHECK_STR(get("destination.port"), "80");
    CHECK_STR(get("network.transport"), "tcp");
    CHECK_STR(get("logid"), "0000000013");
    CHECK_STR(get("event.category"), "network");
    CHECK_STR(ts(), "2019-05-13T11:45:04.000000Z");
    CHECK_EQ_INT(run("id=firewall sn=00301E0526B1 time=\"2004-04-01 10:39:35\" fw=67.32.44.2 "
                     "pri=5 m=36 msg=\"TCP connection dropped\" src=67.101.200.27:4507:WAN "
                     "dst=67.32.44.2:445:LAN proto=tcp/445"),
                 VG_OK);
    CHECK_STR(get("event.module"), "sonicwall");
    CHECK_STR(get("source.ip"), "67.101.200.27");
    CHECK_STR(get("source.port"), "4507");
    CHECK_STR(get("observer.ingress.interface.name"), "WAN");
    CHECK_STR(get("destination.port"), "445");
    CHECK_STR(get("network.transport"), "tcp");
    CHECK_STR(get("event.reason"), "TCP connection dropped");
    CHECK_EQ_INT(run("device=\"SFW\" date=2019-10-09 time=17:19:06 device_name=\"XG210\" "
                     "log_type=\"Firewall\" status=\"Deny\" src_ip=10.0.0.1 dst_ip=8.8.8.8"),
                 VG_OK);
    CHECK_STR(get("event.module"), "sophos");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("destination.ip"), "8.8.8.8");
    CHECK_EQ_INT(
        run("Oct  5 2018 10:52:19 USG6300 %%01POLICY/6/POLICYPERMIT(l):vsys=public, "
            "protocol=17, source-ip=1.1.1.1, source-port=2426, rule-name=Internet Access."),
        VG_OK);
    CHECK_STR(get("event.module"), "huawei");
    CHECK_STR(get("source.ip"), "1.1.1.1");
    CHECK_STR(get("rule-name"), "Internet Access.");
    CHECK_STR(get("network.transport"), "udp");
    CHECK_EQ_INT(run("Jan 11 09:26:57 h slapd[20872]: conn=9 op=0 BIND dn=\"uid=x,dc=y\" "
                     "method=128"),
                 VG_OK);
    CHECK_STR(get("event.module"), "kv");
    CHECK_STR(get("dn"), "uid=x,dc=y");
    CHECK_STR(get("method"), "128");
}

/* ---------------------------------------------------------------- firewalls */

VG_TEST(netfilter_and_cisco)
{
    CHECK_EQ_INT(run("Feb  4 23:33:37 h kernel: [ 3529.289825] [UFW BLOCK] IN=eth0 OUT= "
                     "MAC=00:11 SRC=254.253.252.251 DST=191.192.193.194 LEN=103 DF PROTO=UDP "
                     "SPT=53 DPT=36427 LEN=83"),
                 VG_OK);
    CHECK_STR(get("event.module"), "netfilter");
    CHECK_STR(get("log.prefix"), "[UFW BLOCK]");
    CHECK_STR(get("source.ip"), "254.253.252.251");
    CHECK_STR(get("destination.port"), "36427");
    CHECK_STR(get("network.transport"), "udp");
    CHECK_STR(get("network.direction"), "inbound");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(nth("LEN", 1), "83");
    CHECK_EQ_INT(run("%ASA-6-302013: Built outbound TCP connection 123 for outside:1.2.3.4/80 "
                     "(1.2.3.4/80) to inside:10.0.0.1/5555 (10.0.0.1/5555)"),
                 VG_OK);
    CHECK_STR(get("event.module"), "cisco-asa");
    CHECK_STR(get("event.code"), "302013");
    CHECK_STR(get("source.ip"), "10.0.0.1");
    CHECK_STR(get("destination.ip"), "1.2.3.4");
    CHECK_STR(get("destination.port"), "80");
    CHECK_STR(get("event.action"), "connection-built");
    CHECK_STR(get("log.level"), "informational");
    CHECK_EQ_INT(run("%ASA-4-106023: Deny tcp src inside:111.11.11.1/2143 dst YYY:172.11.1.11/139 "
                     "by access-group \"inside_inbound\""),
                 VG_OK);
    CHECK_STR(get("source.ip"), "111.11.11.1");
    CHECK_STR(get("destination.port"), "139");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("observer.ingress.interface.name"), "inside");
    CHECK_EQ_INT(run("%ASA-5-111008: User 'enable_15' executed the 'write memory' command."),
                 VG_OK);
    CHECK_STR(get("user.name"), "enable_15");
    CHECK_EQ_INT(run("Sep  1 10:25:29 10.10.10.1 %SEC-6-IPACCESSLOGP: list 102 denied tcp "
                     "10.0.6.56(3067) -> 172.36.4.7(139), 1 packet"),
                 VG_OK);
    CHECK_STR(get("event.module"), "cisco-ios");
    CHECK_STR(get("event.code"), "SEC-6-IPACCESSLOGP");
    CHECK_STR(get("source.ip"), "10.0.6.56");
    CHECK_STR(get("source.port"), "3067");
    CHECK_STR(get("destination.ip"), "172.36.4.7");
    CHECK_STR(get("event.outcome"), "failure");
}

VG_TEST(checkpoint_paloalto_pf)
{
    CHECK_EQ_INT(run("1 2019-05-15T16:25:50Z HOSTNAME CheckPoint 19710 - [action:\"Drop\"; "
                     "src:\"1.2.3.4\"; dst:\"5.6.7.8\"; s_port:\"1234\"; service:\"443\"; "
                     "proto:\"6\"; time:\"1557937550\"]"),
                 VG_OK);
    CHECK_STR(get("event.module"), "checkpoint");
    CHECK_STR(get("action"), "Drop");
    CHECK_STR(get("source.ip"), "1.2.3.4");
    CHECK_STR(get("destination.port"), "443");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(ts(), "2019-05-15T16:25:50.000000Z");
    CHECK_EQ_INT(run("Apr 30 06:00:00 pan 1,2020/02/09 00:00:00,0001,TRAFFIC,end,1,2020/02/09 "
                     "00:00:00,10.0.0.1,8.8.8.8,,,rule1,,,dns,vsys1,trust,untrust,eth1,eth2,log,,"
                     "1,1,5353,53,0,0,0x0,udp,allow,100"),
                 VG_OK);
    CHECK_STR(get("event.module"), "paloalto");
    CHECK_STR(get("type"), "TRAFFIC");
    CHECK_STR(get("source.ip"), "10.0.0.1");
    CHECK_STR(get("destination.port"), "53");
    CHECK_STR(get("rule.name"), "rule1");
    CHECK_STR(get("event.outcome"), "success");
    CHECK_EQ_INT(run("Nov  8 12:37:34 pfSense filterlog: 5,,,1000102433,em0,match,block,in,4,0x0,,"
                     "128,24677,0,none,17,udp,186,10.9.0.119,10.9.0.255,17500,17600,166"),
                 VG_OK);
    CHECK_STR(get("event.module"), "pf");
    CHECK_STR(get("source.ip"), "10.9.0.119");
    CHECK_STR(get("destination.port"), "17600");
    CHECK_STR(get("event.outcome"), "failure");
}

/* ---------------------------------------------------------------- web */

VG_TEST(web_logs)
{
    CHECK_EQ_INT(run("www.example.com:80 1.1.1.1 - - [12/Mar/2019:10:09:09 +0100] \"GET "
                     "/x?a=1 HTTP/1.1\" 404 0 \"-\" \"curl/8\""),
                 VG_OK);
    CHECK_STR(get("event.module"), "web-access");
    CHECK_EQ_INT(ev->kind, VG_EK_WEB);
    CHECK_STR(get("cs-host"), "www.example.com");
    CHECK_STR(get("c-ip"), "1.1.1.1");
    CHECK_STR(get("cs-uri-query"), "a=1");
    CHECK_STR(get("url.original"), "/x?a=1");
    CHECK_STR(get("http.response.status_code"), "404");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("user_agent.original"), "curl/8");
    CHECK_STR(ts(), "2019-03-12T09:09:09.000000Z");
    CHECK_EQ_INT(run("[Tue Sep 30 11:30:13.262255 2014] [core:error] [pid 20101] [client "
                     "99.47.227.95:34567] AH00037: Symbolic link not allowed"),
                 VG_OK);
    CHECK_STR(get("event.module"), "apache-error");
    CHECK_STR(get("log.level"), "error");
    CHECK_STR(get("module"), "core");
    CHECK_STR(get("source.ip"), "99.47.227.95");
    CHECK_STR(get("event.code"), "AH00037");
    CHECK_STR(ts(), "2014-09-30T11:30:13.262255Z");
    CHECK_EQ_INT(run("2015/01/08 11:31:23 [error] 80#2: *1 open() failed, client: 1.2.3.4, "
                     "server: x, request: \"GET /a HTTP/1.1\", host: \"h\""),
                 VG_OK);
    CHECK_STR(get("event.module"), "nginx-error");
    CHECK_STR(get("process.pid"), "80");
    CHECK_STR(get("source.ip"), "1.2.3.4");
    CHECK_STR(get("cs-uri"), "/a");
    CHECK_STR(get("url.domain"), "h");
    const char *fields = "#Fields: date time s-ip cs-method cs-uri-stem c-ip sc-status";
    setup(NULL);
    CHECK_EQ_INT(vg_decoder_decode(dec, fields, strlen(fields), ev), VG_AGAIN);
    CHECK_EQ_INT(run("2024-05-01 10:11:12 10.0.0.1 POST /owa/auth.aspx 198.51.100.7 500"), VG_OK);
    CHECK_STR(get("event.module"), "iis");
    CHECK_STR(get("cs-method"), "POST");
    CHECK_STR(get("source.ip"), "198.51.100.7");
    CHECK_EQ_INT(run("2015-03-11 21:59:09 1.2.3.4 GET /console/x.jsp - 80 - 31.3.3.7 "
                     "Sun+Web+Console/7.15 - 404 0 2 0"),
                 VG_OK); /* IIS 8.5 default columns, no header */
    CHECK_STR(get("event.module"), "iis");
    CHECK_STR(get("cs-user-agent"), "Sun Web Console/7.15");
    CHECK_STR(get("sc-status"), "404");
    CHECK_EQ_INT(run("1140701044.525   1231 192.168.1.201 TCP_DENIED/400 1536 GET "
                     "http://x/ - NONE/- text/html"),
                 VG_OK);
    CHECK_STR(get("event.module"), "squid");
    CHECK_STR(get("c-uri"), "http://x/");
    CHECK_STR(get("x-squid-result"), "TCP_DENIED");
    CHECK_STR(get("sc-status"), "400");
}

/* ---------------------------------------------------------------- JSON sources */

VG_TEST(windows_renderings_share_names)
{
    const char *lines[] = {
        "{\"Event\":{\"System\":{\"EventID\":4688,\"Channel\":\"Security\",\"Computer\":\"pc\","
        "\"Provider\":{\"#attributes\":{\"Name\":\"Microsoft-Windows-Security-Auditing\"}}},"
        "\"EventData\":{\"NewProcessName\":\"C:\\\\x.exe\",\"CommandLine\":\"x -y\"}}}",
        "{\"@timestamp\":\"2025-11-29T03:00:00Z\",\"winlog\":{\"channel\":\"Security\","
        "\"event_id\":4688,\"provider_name\":\"Microsoft-Windows-Security-Auditing\","
        "\"computer_name\":\"pc\",\"event_data\":{\"NewProcessName\":\"C:\\\\x.exe\","
        "\"CommandLine\":\"x -y\"}}}",
        "{\"EventID\":4688,\"Channel\":\"Security\",\"SourceName\":\"Microsoft-Windows-Security-"
        "Auditing\",\"Hostname\":\"pc\",\"NewProcessName\":\"C:\\\\x.exe\",\"CommandLine\":\"x "
        "-y\",\"EventTime\":\"2025-11-29 03:00:00\"}",
        "{\"win\":{\"system\":{\"eventID\":\"4688\",\"channel\":\"Security\",\"computer\":\"pc\","
        "\"providerName\":\"Microsoft-Windows-Security-Auditing\"},\"eventdata\":{"
        "\"newProcessName\":\"C:\\\\\\\\x.exe\",\"commandLine\":\"x -y\"}}}",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(lines); i++) {
        CHECK_EQ_INT(run(lines[i]), VG_OK);
        CHECK_STR(get("event.module"), "windows");
        CHECK_EQ_INT(ev->kind, VG_EK_WINDOWS);
        CHECK_STR(get("EventID"), "4688");
        CHECK_STR(get("Channel"), "Security");
        CHECK_STR(get("Computer"), "pc");
        CHECK_STR(get("Provider_Name"), "Microsoft-Windows-Security-Auditing");
        CHECK_STR(get("NewProcessName"), "C:\\x.exe");
        CHECK_STR(get("CommandLine"), "x -y");
        CHECK_STR(get("process.executable"), "C:\\x.exe");
        CHECK_STR(get("event.code"), "4688");
        CHECK_STR(get("host.name"), "pc");
        CHECK_STR(get("event.category"), "process");
    }
    CHECK_EQ_INT(run("2014 Dec 20 09:29:47 WinEvtLog: Microsoft-Windows-Sysmon/Operational: "
                     "INFORMATION(1): Microsoft-Windows-Sysmon: SYSTEM: NT AUTHORITY: PC1: "
                     "Process Create:  UtcTime: 12/20/2014 2:29 PM  ProcessId: 3048  Image: "
                     "C:\\Windows\\svchost.exe  CommandLine: \"C:\\a b.exe\" -x  User: PC1\\Admin"),
                 VG_OK);
    CHECK_STR(get("event.module"), "windows");
    CHECK_STR(get("EventID"), "1");
    CHECK_STR(get("Channel"), "Microsoft-Windows-Sysmon/Operational");
    CHECK_STR(get("Image"), "C:\\Windows\\svchost.exe");
    CHECK_STR(get("CommandLine"), "\"C:\\a b.exe\" -x");
    CHECK_STR(get("user.name"), "PC1\\Admin");
    CHECK_STR(get("event.category"), "process");
}

VG_TEST(sysmon_for_linux_and_rollback)
{
    CHECK_EQ_INT(run("Nov 20 10:00:00 web01 sysmon: <Event><System><Provider Name=\"Linux-Sysmon\""
                     "/><EventID>1</EventID><Computer>web01</Computer></System><EventData><Data "
                     "Name=\"Image\">/usr/bin/curl</Data></EventData></Event>"),
                 VG_OK);
    CHECK_STR(get("event.module"), "windows");
    CHECK_EQ_INT(ev->kind, VG_EK_LINUX);
    CHECK_STR(get("Image"), "/usr/bin/curl");
    CHECK_STR(get("process.executable"), "/usr/bin/curl");
    /* a broken event: the XML reader adds fields, then declines — they must be gone */
    CHECK_EQ_INT(run("Nov 20 10:00:00 web01 sysmon: <Event><System><EventID>1</EventID>"
                     "<Channel>x</Channel></Event>"),
                 VG_OK);
    CHECK_STR(get("event.module"), "syslog");
    CHECK(get("EventID") == NULL);
    CHECK(get("Channel") == NULL);
    CHECK_STR(get("program"), "sysmon");
    CHECK_STR(ts(), "2025-11-20T10:00:00.000000Z");
}

VG_TEST(suricata_zeek_json)
{
    CHECK_EQ_INT(run("{\"timestamp\":\"2016-05-02T17:46:48.515262+0000\",\"event_type\":\"alert\","
                     "\"src_ip\":\"1.2.3.4\",\"src_port\":5555,\"dest_ip\":\"5.6.7.8\","
                     "\"dest_port\":80,\"proto\":\"TCP\",\"alert\":{\"signature\":\"ET X\","
                     "\"signature_id\":2001,\"severity\":1}}"),
                 VG_OK);
    CHECK_STR(get("event.module"), "suricata");
    CHECK_STR(get("alert.signature"), "ET X");
    CHECK_STR(get("rule.name"), "ET X");
    CHECK_STR(get("rule.id"), "2001");
    CHECK_STR(get("source.ip"), "1.2.3.4");
    CHECK_STR(get("network.transport"), "tcp");
    CHECK_STR(get("event.category"), "intrusion_detection");
    CHECK_STR(ts(), "2016-05-02T17:46:48.515262Z");
    CHECK_EQ_INT(run("{\"ts\":1573747292.658982,\"uid\":\"Crpk\",\"id.orig_h\":\"10.0.2.2\","
                     "\"id.orig_p\":45398,\"id.resp_h\":\"10.0.2.15\",\"id.resp_p\":22,"
                     "\"auth_attempts\":0}"),
                 VG_OK);
    CHECK_STR(get("event.module"), "zeek");
    CHECK_STR(get("id.orig_h"), "10.0.2.2");
    CHECK_STR(get("destination.port"), "22");
    CHECK_STR(get("event.dataset"), "ssh");
    CHECK_STR(ts(), "2019-11-14T16:01:32.658982Z");
    CHECK_EQ_INT(
        run("{\"eventName\":\"ConsoleLogin\",\"sourceIPAddress\":\"203.0.113.1\","
            "\"userIdentity\":{\"userName\":\"bob\"},\"eventTime\":\"2025-01-02T03:04:05Z\"}"),
        VG_OK);
    CHECK_STR(get("event.module"), "json");
    CHECK_STR(get("userIdentity.userName"), "bob");
    CHECK_STR(get("user.name"), "bob");
    CHECK_STR(get("source.ip"), "203.0.113.1");
    CHECK_STR(get("event.action"), "ConsoleLogin");
    CHECK_STR(ts(), "2025-01-02T03:04:05.000000Z");
    /* two documents on one line: two events */
    setup(NULL);
    const char *two = "{\"a\":1} {\"b\":2}";
    CHECK_EQ_INT(vg_decoder_decode(dec, two, strlen(two), ev), VG_OK);
    CHECK_STR(get("a"), "1");
    CHECK_EQ_INT(vg_decoder_next(dec, ev), VG_OK);
    CHECK_STR(get("b"), "2");
    CHECK(get("a") == NULL);
    CHECK_EQ_INT(vg_decoder_next(dec, ev), VG_EOF);
    CHECK_EQ_INT(run("May  6 10:59:37 h ERAServer[5032]: {\"event_type\":\"Threat_Event\"}"),
                 VG_OK);
    CHECK_STR(get("event.module"), "json"); /* JSON after a syslog header */
    CHECK_STR(get("program"), "ERAServer");
    CHECK_STR(get("event_type"), "Threat_Event");
}

/* ---------------------------------------------------------------- applications */

VG_TEST(application_logs)
{
    CHECK_EQ_INT(run("2015/01/29 21:09:49 ossec-logcollector(1950): INFO: Analyzing file"), VG_OK);
    CHECK_STR(get("event.module"), "applog");
    CHECK_STR(get("process.name"), "ossec-logcollector");
    CHECK_STR(get("process.pid"), "1950");
    CHECK_STR(get("log.level"), "INFO");
    CHECK_STR(get("message"), "Analyzing file");
    CHECK_STR(ts(), "2015-01-29T21:09:49.000000Z");
    CHECK_EQ_INT(run("I, [2015-02-13T06:17:00.671315 #9291]  INFO -- : Adding project"), VG_OK);
    CHECK_STR(get("event.module"), "applog");
    CHECK_STR(get("message"), "Adding project");
    CHECK_EQ_INT(run("Wed Jul 27 18:32:27 2016 [pid 2] [ftp] FAIL LOGIN: Client \"10.11.12.13\""),
                 VG_OK);
    CHECK_STR(get("event.module"), "vsftpd");
    CHECK_STR(get("program"), "vsftpd");
    CHECK_STR(get("user.name"), "ftp");
    CHECK_STR(get("source.ip"), "10.11.12.13");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(ts(), "2016-07-27T18:32:27.000000Z");
    CHECK_EQ_INT(run("May  5 04:26:19 bigip warning mcpd[20175]: 01070822:0: Access Denied"),
                 VG_OK);
    CHECK_STR(get("event.module"), "f5-bigip");
    CHECK_STR(get("event.code"), "01070822");
    CHECK_STR(get("log.level"), "warning");
    CHECK_STR(get("process.name"), "mcpd");
    CHECK_EQ_INT(run("<log><category>savscan</category><msg>a &amp; b</msg><arg>1</arg><arg>2"
                     "</arg></log>"),
                 VG_OK);
    CHECK_STR(get("event.module"), "xml");
    CHECK_STR(get("msg"), "a & b");
    CHECK_STR(nth("arg", 1), "2");
    CHECK_EQ_INT(run("<a><b>unclosed</a>"), VG_OK);
    CHECK_STR(get("event.module"), "plain");
}

VG_TEST(hints_choose_the_first_decoder)
{
    struct vg_decoder_opts o = {.default_year = 2025, .hint = "kv"};
    setup(&o);
    /* without the hint this is FortiGate; with it, the generic kv decoder goes first */
    CHECK_EQ_INT(run("date=2019-05-13 time=11:45:04 logid=1 type=traffic devid=x srcip=1.2.3.4"),
                 VG_OK);
    CHECK_STR(get("event.module"), "kv");
    o.hint = "file:/var/log/audit/audit.log";
    setup(&o);
    CHECK_EQ_INT(run("type=CWD msg=audit(1.0:1): cwd=\"/\""), VG_OK);
    CHECK_STR(get("event.module"), "auditd");
    setup(NULL);
}

/* ---------------------------------------------------------------- regressions */

VG_TEST(netfilter_needs_in_within_its_window)
{
    /* "IN=" is looked for in the first 256 bytes only; a longer line without it is not
     * netfilter, even when " OUT=" and " SRC=" come later */
    char line[512];
    snprintf(line, sizeof(line), "note=%0260d OUT=eth0 SRC=1.2.3.4 DST=5.6.7.8 x=1", 0);
    CHECK_EQ_INT(run(line), VG_OK);
    CHECK_STR(get("event.module"), "kv");
    CHECK(get("log.prefix") == NULL);
}

VG_TEST(netfilter_prefix_without_uptime)
{
    /* a leading "[UFW BLOCK]" was taken for the kernel's "[12345.678]" uptime when the kernel
     * printed none, and the prefix (with the outcome drawn from it) was lost */
    static const char *const lines[] = {
        "Nov 29 10:00:00 host kernel: [UFW BLOCK] IN=eth0 OUT= MAC=00:11 SRC=203.0.113.5 "
        "DST=10.0.0.2 LEN=60 PROTO=TCP SPT=4444 DPT=22 SYN",
        "Nov 29 10:00:00 host kernel: [ 1234.5678] [UFW BLOCK] IN=eth0 OUT= MAC=00:11 "
        "SRC=203.0.113.5 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=4444 DPT=22 SYN",
        "Nov 29 10:00:00 host kernel: [1234.5678] [UFW BLOCK] IN=eth0 OUT= MAC=00:11 "
        "SRC=203.0.113.5 DST=10.0.0.2 LEN=60 PROTO=TCP SPT=4444 DPT=22 SYN",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        CHECK_EQ_INT(run(lines[i]), VG_OK);
        CHECK_STR(get("event.module"), "netfilter");
        CHECK_STR(get("log.prefix"), "[UFW BLOCK]");
        CHECK_STR(get("event.outcome"), "failure");
        CHECK_STR(get("source.ip"), "203.0.113.5");
        CHECK_STR(get("destination.port"), "22");
    }
    /* an uptime with no prefix after it leaves no prefix */
    CHECK_EQ_INT(run("Nov 29 10:00:00 host kernel: [ 1234.5678] IN=eth0 OUT= SRC=203.0.113.5 "
                     "DST=10.0.0.2 PROTO=TCP SPT=4444 DPT=22"),
                 VG_OK);
    CHECK_STR(get("event.module"), "netfilter");
    CHECK(get("log.prefix") == NULL);
}

VG_TEST(repeated_message_decoded_as_inner)
{
    /* rsyslog folds repeats into "message repeated N times: [ msg]"; decoders saw the wrapper
     * and matched nothing */
    CHECK_EQ_INT(run("Nov 29 10:00:00 host sshd[123]: message repeated 3 times: [ Failed "
                     "password for root from 203.0.113.5 port 4242 ssh2]"),
                 VG_OK);
    CHECK_STR(get("event.module"), "sshd");
    CHECK_STR(get("event.action"), "ssh_login");
    CHECK_STR(get("event.outcome"), "failure");
    CHECK_STR(get("user.name"), "root");
    CHECK_STR(get("source.ip"), "203.0.113.5");
    CHECK_STR(get("source.port"), "4242");
    CHECK_STR(get("event.repeat_count"), "3");
    CHECK_STR(get("message"), "message repeated 3 times: [ Failed password for root from "
                              "203.0.113.5 port 4242 ssh2]");
    /* not the wrapper: no count, and the text is left alone */
    CHECK_EQ_INT(run("Nov 29 10:00:00 host sshd[123]: message repeated many times: [ x]"), VG_OK);
    CHECK(get("event.repeat_count") == NULL);
    CHECK_EQ_INT(run("Nov 29 10:00:00 host sshd[123]: Failed password for root from "
                     "203.0.113.5 port 4242 ssh2"),
                 VG_OK);
    CHECK(get("event.repeat_count") == NULL);
}

VG_TEST(pam_session_user_with_uid)
{
    /* "deploy(uid=1000)" was taken whole as the user name */
    CHECK_EQ_INT(run("Nov 29 10:00:00 host sshd[123]: pam_unix(sshd:session): session opened "
                     "for user deploy(uid=1000) by (uid=0)"),
                 VG_OK);
    CHECK_STR(get("event.module"), "pam");
    CHECK_STR(get("event.action"), "session_opened");
    CHECK_STR(get("user.name"), "deploy");
    CHECK_STR(get("user.id"), "1000");
    CHECK_EQ_INT(run("Nov 29 10:00:00 host sshd[123]: pam_unix(sshd:session): session opened "
                     "for user deploy by (uid=0)"),
                 VG_OK);
    CHECK_STR(get("user.name"), "deploy");
    CHECK(get("user.id") == NULL);
}

VG_TEST(many_documents_on_one_line)
{
    /* each further document used to re-check the whole rest of the line: quadratic (a 1 MiB
     * line of "{}" took 34 s); the rest of a checked record is not checked again */
    enum { NDOCS = 50000 };
    struct vg_sbuf line = VG_SBUF_INIT;
    for (int i = 0; i < NDOCS; i++) {
        vg_sbuf_adds(&line, i % 2 ? "{}" : "{\"k\":\"v\"} ");
    }
    setup(NULL);
    int n = 0, rc = vg_decoder_decode(dec, line.p, line.len, ev);
    while (rc == VG_OK) {
        n++;
        rc = vg_decoder_next(dec, ev);
    }
    CHECK_EQ_INT(rc, VG_EOF);
    CHECK_EQ_INT(n, NDOCS);
    vg_sbuf_fini(&line);
}

VG_TEST(json_maps_read_arrays_of_objects)
{
    /* an ECS map key names a leaf by its flattened path: in an array the first element
     * counts, also for arrays of objects (EVE dns.queries[0].rrname) */
    CHECK_EQ_INT(
        run("{\"timestamp\":\"2025-11-29T03:00:00.000000+0000\",\"flow_id\":1,"
            "\"event_type\":\"dns\",\"src_ip\":\"10.0.0.1\",\"dest_ip\":\"10.0.0.2\","
            "\"dns\":{\"queries\":[{\"rrname\":\"a.example\"},{\"rrname\":\"b.example\"}]}}"),
        VG_OK);
    CHECK_STR(get("event.module"), "suricata");
    CHECK_STR(get("dns.question.name"), "a.example");
    CHECK(nth("dns.question.name", 1) == NULL);
    CHECK_STR(nth("dns.queries.rrname", 1), "b.example");
    CHECK_STR(get("destination.ip"), "10.0.0.2");
}

VG_TEST(cleanup)
{
    vg_decoder_destroy(dec);
    vg_event_destroy(ev);
    dec = NULL;
    ev = NULL;
}
