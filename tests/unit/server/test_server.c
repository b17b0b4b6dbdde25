/*
 * test_server.c — `vigie server` in process: syslog over TCP on loopback through decode,
 * detection, correlation and the store; records the decoders reject are kept; a stop in the
 * middle of the work and a restart store every record exactly once; auditd events are never
 * split by batch boundaries; rules reload; dedupe keys derived from event.id.
 */
#include "ingest/ingest.h"
#include "query/query.h"
#include "server/server.h"
#include "store/store.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

struct rig {
    char dir[64];
    struct vg_server_conf c;
    struct vg_server *s;
};

static bool rig_conf(struct rig *r, uint32_t batch)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/vg-server-XXXXXX");
    char err[512];
    if (!mkdtemp(r->dir) || vg_server_conf_load(NULL, &r->c, err, sizeof(err)) != VG_OK) {
        return false;
    }
    char rules[1024];
    snprintf(rules, sizeof(rules), "%s/examples/rules", VG_SOURCE_DIR);
    vg_free(r->c.data_dir);
    r->c.data_dir = vg_strdup(r->dir);
    vg_free(r->c.http_listen);
    r->c.http_listen = vg_strdup("");
    vg_strlist_free(&r->c.syslog_udp);
    vg_strlist_free(&r->c.syslog_tcp);
    vg_strlist_add(&r->c.syslog_tcp, "127.0.0.1:0");
    vg_strlist_add(&r->c.rules_paths, rules);
    r->c.rules_builtin = false;
    r->c.batch = batch;
    r->c.workers = 2;
    return true;
}

static bool rig_start(struct rig *r)
{
    char err[512];
    if (vg_server_create(&r->c, &r->s, err, sizeof(err)) != VG_OK ||
        vg_server_start(r->s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return false;
    }
    return true;
}

static void rig_stop(struct rig *r, int drain_ms)
{
    vg_server_stop(r->s, drain_ms);
    vg_server_destroy(r->s);
    r->s = NULL;
}

static void rig_close(struct rig *r)
{
    if (r->s) {
        rig_stop(r, 0);
    }
    vg_server_conf_fini(&r->c);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", r->dir);
    }
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) {
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* Events matching a query (the store read back through the query module). */
static uint64_t count(struct vg_server *s, const char *query)
{
    struct vg_query *q = NULL;
    char err[256];
    if (vg_query_parse(query, strlen(query), VG_TIME_NONE, &q, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  query: %s\n", err);
        return UINT64_MAX;
    }
    struct vg_query_opts o = {.from = VG_TIME_NONE, .to = VG_TIME_NONE, .limit = 10000000};
    struct vg_query_stats st = {0};
    int rc = vg_query_run(q, vg_server_store(s), &o, &st, err, sizeof(err));
    vg_query_destroy(q);
    return rc == VG_OK ? st.matched : UINT64_MAX;
}

struct alert_seen {
    int n;
    char titles[1024];
};

static int on_alert(void *ctx, const struct vg_store_alert *a)
{
    struct alert_seen *s = ctx;
    s->n++;
    size_t l = strlen(s->titles);
    snprintf(s->titles + l, sizeof(s->titles) - l, "%s|", a->title);
    return VG_OK;
}

static struct alert_seen alerts(struct vg_server *s)
{
    struct alert_seen seen = {0};
    char err[256];
    struct vg_store_alert_query q = {.from = VG_TIME_NONE,
                                     .to = VG_TIME_NONE,
                                     .limit = 1000,
                                     .on_alert = on_alert,
                                     .ctx = &seen};
    vg_store_alert_query(vg_server_store(s), &q, err, sizeof(err));
    return seen;
}

static const char auth_log[] =
    "Nov 20 09:20:00 bastion sshd[2210]: Failed password for root from 198.51.100.23 port "
    "50120 ssh2\n"
    "Nov 20 09:21:01 bastion sshd[2210]: Failed password for root from 198.51.100.23 port "
    "51120 ssh2\n"
    "Nov 20 09:22:02 bastion sshd[2210]: Failed password for root from 198.51.100.23 port "
    "52120 ssh2\n"
    "Nov 20 09:23:03 bastion sshd[2210]: Failed password for root from 198.51.100.23 port "
    "53120 ssh2\n"
    "Nov 20 09:24:04 bastion sshd[2210]: Failed password for root from 198.51.100.23 port "
    "54120 ssh2\n"
    "Nov 20 09:25:05 bastion sshd[2210]: Failed password for root from 198.51.100.23 port "
    "55120 ssh2\n"
    "Nov 20 09:25:30 bastion sshd[2214]: Accepted password for root from 198.51.100.23 port "
    "51999 ssh2\n";

VG_TEST(syslog_to_alerts_and_search)
{
    struct rig r;
    if (!rig_conf(&r, 1024) || !rig_start(&r)) {
        CHECK(!"rig");
        rig_close(&r);
        return;
    }
    int fd = tcp_connect(vg_server_syslog_port(r.s, "tcp", 0));
    CHECK(fd >= 0);
    CHECK(send_all(fd, auth_log, sizeof(auth_log) - 1));
    /* a record no decoder accepts (invalid UTF-8) is kept, not dropped */
    CHECK(send_all(fd, "bad \xff\xfe bytes\n", strlen("bad \xff\xfe bytes\n")));
    CHECK(send_all(fd, "{\"broken\": json\n", strlen("{\"broken\": json\n")));
    close(fd);
    struct vg_server_stats st = {0};
    for (int t = 0; t < 500 && st.stored < 9; t++) {
        usleep(10000);
        vg_server_get_stats(r.s, &st);
    }
    CHECK_EQ_INT(st.records, 9);
    CHECK_EQ_INT(st.stored, 9);
    CHECK_EQ_INT(st.unparsed, 2);
    CHECK_EQ_INT(count(r.s, "event.outcome=failure source.ip=198.51.100.0/24"), 6);
    CHECK_EQ_INT(count(r.s, "event.module=unparsed"), 2);
    CHECK_EQ_INT(count(r.s, "error.message=*UTF-8*"), 1);
    struct alert_seen a = alerts(r.s);
    CHECK(strstr(a.titles, "SSH Brute Force Followed By Login") != NULL);
    CHECK_EQ_INT(st.alerts, (uint64_t)a.n);
    rig_close(&r);
}

struct eve_seen {
    int n;
    char rule[64], attack[64];
    int level;
};

static int on_eve_alert(void *ctx, const struct vg_store_alert *a)
{
    struct eve_seen *s = ctx;
    if (strncmp(a->rule_id, "eve:", 4) == 0) {
        s->n++;
        snprintf(s->rule, sizeof(s->rule), "%s", a->rule_id);
        snprintf(s->attack, sizeof(s->attack), "%s", a->attack ? a->attack : "");
        s->level = a->level;
    }
    return VG_OK;
}

/* Suricata/vigie-sensor EVE alerts become Vigie alerts; other EVE records do not. */
VG_TEST(eve_alerts_from_sensors_become_alerts)
{
    static const char eve[] =
        "{\"timestamp\":\"2026-11-20T10:00:00.000000+0000\",\"flow_id\":1,\"event_type\":"
        "\"alert\",\"src_ip\":\"10.0.0.5\",\"src_port\":40000,\"dest_ip\":\"10.0.0.9\","
        "\"dest_port\":22,\"proto\":\"TCP\",\"alert\":{\"action\":\"allowed\",\"gid\":1,"
        "\"signature_id\":9100001,\"rev\":1,\"signature\":\"VIGIE SCAN TCP port scan\","
        "\"category\":\"Attempted Information Leak\",\"severity\":2,\"metadata\":{"
        "\"mitre_technique_id\":[\"T1046\"]}}}\n"
        "{\"timestamp\":\"2026-11-20T10:00:01.000000+0000\",\"flow_id\":2,\"event_type\":"
        "\"dns\",\"src_ip\":\"10.0.0.5\",\"src_port\":5353,\"dest_ip\":\"10.0.0.1\","
        "\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{\"type\":\"request\",\"queries\":[{"
        "\"rrname\":\"example.org\",\"rrtype\":\"A\"}]}}\n";
    struct rig r;
    if (!rig_conf(&r, 1024) || !rig_start(&r)) {
        CHECK(!"rig");
        rig_close(&r);
        return;
    }
    int fd = tcp_connect(vg_server_syslog_port(r.s, "tcp", 0));
    CHECK(fd >= 0);
    CHECK(send_all(fd, eve, sizeof(eve) - 1));
    close(fd);
    struct vg_server_stats st = {0};
    for (int t = 0; t < 500 && st.stored < 2; t++) {
        usleep(10000);
        vg_server_get_stats(r.s, &st);
    }
    CHECK_EQ_INT(st.stored, 2);
    CHECK_EQ_INT(count(r.s, "event.module=suricata dns.question.name=example.org"), 1);
    struct eve_seen seen = {0};
    char err[256];
    struct vg_store_alert_query q = {.from = VG_TIME_NONE,
                                     .to = VG_TIME_NONE,
                                     .limit = 100,
                                     .on_alert = on_eve_alert,
                                     .ctx = &seen};
    CHECK_EQ_INT(vg_store_alert_query(vg_server_store(r.s), &q, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(seen.n, 1);
    CHECK_STR(seen.rule, "eve:1:9100001");
    CHECK_STR(seen.attack, "[\"T1046\"]");
    CHECK_EQ_INT(seen.level, 3);
    rig_close(&r);
}

/* Append n distinct syslog records straight to the journal. */
static bool append_records(struct vg_journal *j, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char line[160];
        int l =
            snprintf(line, sizeof(line),
                     "<13>Nov 20 10:00:00 host%d app[1]: record number %08d of the test", i % 7, i);
        struct vg_rec rec = {.data = line, .len = (uint32_t)l, .input = 1, .recv_ts = 0};
        uint64_t last;
        if (vg_journal_append(j, &rec, 1, VG_JOURNAL_WAIT, &last) != VG_OK) {
            return false;
        }
    }
    return true;
}

VG_TEST(stop_midway_and_restart_store_everything_once)
{
    struct rig r;
    if (!rig_conf(&r, 256) || !rig_start(&r)) {
        CHECK(!"rig");
        rig_close(&r);
        return;
    }
    const int n = 60000;
    CHECK(append_records(vg_server_journal(r.s), 0, n));
    rig_stop(&r, 0); /* no drain: whatever was not stored stays in the journal */
    CHECK(rig_start(&r));
    CHECK(append_records(vg_server_journal(r.s), n, 1000));
    CHECK_EQ_INT(vg_server_wait_idle(r.s, 60000), VG_OK);
    CHECK_EQ_INT(count(r.s, "record number"), n + 1000);
    CHECK_EQ_INT(count(r.s, "host3 record"), (n + 1000 + 3) / 7);
    CHECK_EQ_INT(count(r.s, "00000000"), 1);
    CHECK_EQ_INT(count(r.s, "00060999"), 1);
    rig_close(&r);
}

VG_TEST(audit_events_are_never_split_by_batches)
{
    struct rig r;
    if (!rig_conf(&r, 2) || !rig_start(&r)) { /* batches of 2 records */
        CHECK(!"rig");
        rig_close(&r);
        return;
    }
    struct vg_journal *j = vg_server_journal(r.s);
    for (int e = 0; e < 50; e++) {
        char recs[4][256];
        int l[4];
        l[0] = snprintf(recs[0], 256,
                        "type=SYSCALL msg=audit(1700000000.%03d:%d): arch=c000003e syscall=59 "
                        "success=yes exit=0 ppid=1 pid=%d uid=0 comm=\"nc\" exe=\"/usr/bin/nc\"",
                        e, 100 + e, 1000 + e);
        l[1] = snprintf(recs[1], 256,
                        "type=EXECVE msg=audit(1700000000.%03d:%d): argc=3 a0=\"nc\" a1=\"-e\" "
                        "a2=\"/bin/sh\"",
                        e, 100 + e);
        l[2] = snprintf(recs[2], 256, "type=CWD msg=audit(1700000000.%03d:%d): cwd=\"/tmp\"", e,
                        100 + e);
        l[3] = snprintf(recs[3], 256,
                        "type=PROCTITLE msg=audit(1700000000.%03d:%d): "
                        "proctitle=6E63002D65002F62696E2F7368",
                        e, 100 + e);
        for (int k = 0; k < 4; k++) {
            char meta[] = "file=/var/log/audit/audit.log";
            struct vg_rec rec = {.data = recs[k],
                                 .len = (uint32_t)l[k],
                                 .input = 1,
                                 .meta = meta,
                                 .meta_len = sizeof(meta) - 1};
            uint64_t last;
            CHECK_EQ_INT(vg_journal_append(j, &rec, 1, VG_JOURNAL_WAIT, &last), VG_OK);
        }
    }
    CHECK_EQ_INT(vg_server_wait_idle(r.s, 30000), VG_OK);
    struct vg_server_stats st;
    vg_server_get_stats(r.s, &st);
    CHECK_EQ_INT(st.records, 200);
    CHECK_EQ_INT(st.events, 50); /* four records each, joined */
    CHECK_EQ_INT(count(r.s, "event.module=auditd process.working_directory=/tmp"), 50);
    rig_close(&r);
}

VG_TEST(event_id_dedupes_and_reload_keeps_running)
{
    struct rig r;
    if (!rig_conf(&r, 64) || !rig_start(&r)) {
        CHECK(!"rig");
        rig_close(&r);
        return;
    }
    struct vg_journal *j = vg_server_journal(r.s);
    for (int round = 0; round < 3; round++) { /* a sender retransmitting the same documents */
        for (int i = 0; i < 100; i++) {
            char doc[128];
            int l = snprintf(doc, sizeof(doc), "{\"event\":{\"id\":\"ev-%d\"},\"message\":\"m%d\"}",
                             i, i);
            struct vg_rec rec = {.data = doc, .len = (uint32_t)l};
            uint64_t last;
            CHECK_EQ_INT(vg_journal_append(j, &rec, 1, VG_JOURNAL_WAIT, &last), VG_OK);
        }
        if (round == 1) {
            char err[256];
            CHECK_EQ_INT(vg_server_reload(r.s, err, sizeof(err)), VG_OK);
        }
    }
    CHECK_EQ_INT(vg_server_wait_idle(r.s, 30000), VG_OK);
    struct vg_server_stats st;
    vg_server_get_stats(r.s, &st);
    CHECK_EQ_INT(st.stored, 100);
    CHECK_EQ_INT(st.duplicates, 200);
    CHECK_EQ_INT(st.reloads, 1);
    CHECK_EQ_INT(count(r.s, "message=m42"), 1);
    rig_close(&r);
}

VG_TEST(bad_configuration_names_file_line_and_key)
{
    char path[] = "/tmp/vg-conf-XXXXXX";
    int fd = mkstemp(path);
    const char *yaml = "data_dir: /tmp/x\nsyslog:\n  udpp: 1.2.3.4:5\n";
    CHECK(write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml));
    close(fd);
    struct vg_server_conf c;
    char err[512];
    CHECK_EQ_INT(vg_server_conf_load(path, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, path) && strstr(err, ":3:") && strstr(err, "syslog.udpp"));
    fd = open(path, O_WRONLY | O_TRUNC);
    yaml = "pipeline:\n  batch: 0\n";
    CHECK(write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml));
    close(fd);
    CHECK_EQ_INT(vg_server_conf_load(path, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "pipeline.batch") != NULL);
    unlink(path);
}

static void append_lines(const char *path, int from, int n)
{
    FILE *f = fopen(path, "a");
    for (int i = from; f && i < from + n; i++) {
        fprintf(f, "Nov 20 10:00:00 web01 app[7]: file line %06d\n", i);
    }
    if (f) {
        fclose(f);
    }
}

static uint64_t wait_stored(struct vg_server *s, uint64_t want)
{
    struct vg_server_stats st = {0};
    for (int t = 0; t < 1000 && st.stored < want; t++) {
        usleep(10000);
        vg_server_get_stats(s, &st);
    }
    return st.stored;
}

VG_TEST(tailed_files_survive_rotation_and_restart_exactly_once)
{
    struct rig r;
    if (!rig_conf(&r, 128)) {
        CHECK(!"rig");
        return;
    }
    char logdir[128], path[160], rotated[160], glob[160];
    snprintf(logdir, sizeof(logdir), "%s/logs", r.dir);
    snprintf(path, sizeof(path), "%s/app.log", logdir);
    snprintf(rotated, sizeof(rotated), "%s/app.log.1", logdir);
    snprintf(glob, sizeof(glob), "%s/*.log", logdir);
    CHECK(mkdir(logdir, 0700) == 0);
    vg_strlist_add(&r.c.files, glob);
    append_lines(path, 0, 500);
    CHECK(rig_start(&r));
    CHECK_EQ_INT(wait_stored(r.s, 500), 500);
    append_lines(path, 500, 250);
    CHECK_EQ_INT(wait_stored(r.s, 750), 750);
    rig_stop(&r, 2000);
    /* while the server is down: more lines, then a rename rotation and a fresh file */
    append_lines(path, 750, 100);
    CHECK(rename(path, rotated) == 0);
    append_lines(path, 850, 150);
    CHECK(rig_start(&r));
    CHECK_EQ_INT(wait_stored(r.s, 250), 250); /* this run's: the rest of app.log.1, app.log */
    usleep(300000);                           /* nothing more may arrive */
    CHECK_EQ_INT(count(r.s, "\"file line\""), 1000);
    CHECK_EQ_INT(count(r.s, "000849"), 1);
    CHECK_EQ_INT(count(r.s, "000850"), 1);
    rig_close(&r);
}
