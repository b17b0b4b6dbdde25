/*
 * test_logs.c — the logs collector on real files in a mkdtemp directory: lines present at
 * start and appended later become events with the raw line in "message" and the file in
 * "log.file.path"; rotation by rename (lines written to the rotated file and to the new one)
 * loses and repeats nothing; a restart on the same state directory emits only what was
 * written while the collector was stopped; the journal backend is reported unavailable
 * with its reason here; configuration errors.
 */
#define SINK_WAIT_MS 10000 /* before agent_sink.h: its waits last as long as this file's */
#include "agent/agent_logs.h"
#include "agent_sink.h"
#include "vgtest.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAIT_MS 10000

static void append(const char *path, const char *text)
{
    FILE *f = fopen(path, "a");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

struct rig {
    char dir[64], log[128], rotated[128], state[128], conf[512];
    struct vg_yaml_file *f;
};

static void rig_open(struct rig *r)
{
    char err[256];
    snprintf(r->dir, sizeof(r->dir), "/tmp/vg-logs-XXXXXX");
    CHECK(mkdtemp(r->dir) != NULL);
    snprintf(r->log, sizeof(r->log), "%s/app.log", r->dir);
    snprintf(r->rotated, sizeof(r->rotated), "%s/app.log.1", r->dir);
    snprintf(r->state, sizeof(r->state), "%s/state", r->dir);
    snprintf(r->conf, sizeof(r->conf),
             "files: [%s]\nstart: beginning\nscan_interval_ms: 50\npoll_interval_ms: 50\n"
             "rotate_wait_ms: 1000\ncheckpoint_ms: 100\nsync: false\njournal: auto\n",
             r->log);
    CHECK_EQ_INT(vg_yaml_parse(r->conf, strlen(r->conf), &r->f, err, sizeof(err)), VG_OK);
}

static struct vg_agent_collector *start(struct rig *r, struct sink *s)
{
    struct vg_agent_collector_opts o = {
        .conf = r->f->docs[0], .state_dir = r->state, .emit = sink_emit, .emit_ctx = s};
    struct vg_agent_collector *c = NULL;
    char err[512] = "";
    int rc = vg_agent_logs_collector.start(&o, &c, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  start: %s\n", err);
    }
    CHECK_EQ_INT(rc, VG_OK);
    return c;
}

VG_TEST(tail_append_rotate_restart)
{
    struct rig r;
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    char needle[256];
    rig_open(&r);
    append(r.log, "line one\nline \"two\" with quotes\n");
    struct vg_agent_collector *c = start(&r, &s);
    CHECK_STR(vg_agent_logs_collector.backend(c), "files");
    CHECK(sink_wait_n(&s, 2));
    snprintf(needle, sizeof(needle), "\"message\":\"line one\",\"log.file.path\":\"%s\"", r.log);
    CHECK_EQ_INT(sink_find(&s, needle), 1);
    CHECK_EQ_INT(sink_find(&s, "\"message\":\"line \\\"two\\\" with quotes\""), 1);
    CHECK_EQ_INT(sink_find(&s, "\"event.dataset\":\"logs\""), 2);
    CHECK_EQ_INT(sink_find(&s, "\"event.module\":\"vigie-agent\""), 2);

    append(r.log, "line three\n");
    CHECK(sink_wait_n(&s, 3));
    CHECK_EQ_INT(sink_find(&s, "\"message\":\"line three\""), 1);

    /* rotation: rename, a late write to the rotated file, a new file at the path */
    CHECK(rename(r.log, r.rotated) == 0);
    append(r.rotated, "late line in rotated\n");
    append(r.log, "first of new file\nsecond of new file\n");
    CHECK(sink_wait_n(&s, 6));
    CHECK_EQ_INT(sink_find(&s, "\"message\":\"late line in rotated\""), 1);
    CHECK_EQ_INT(sink_find(&s, "\"message\":\"first of new file\""), 1);
    CHECK_EQ_INT(sink_find(&s, "\"message\":\"second of new file\""), 1);
    usleep(300000);
    CHECK_EQ_INT(sink_n(&s), 6); /* nothing twice */

    struct vg_sbuf st = VG_SBUF_INIT;
    vg_agent_logs_collector.stats(c, &st);
    fprintf(stderr, "  stats: %s\n", st.p ? st.p : "");
    CHECK(st.p && strstr(st.p, "\"events\":6,") && strstr(st.p, "no sd-journal support"));
    vg_sbuf_fini(&st);
    CHECK_EQ_INT(vg_agent_logs_checkpoint(c), VG_OK);
    vg_agent_logs_collector.stop(c);

    /* written while stopped: emitted once after the restart, nothing else again */
    append(r.log, "while stopped\n");
    sink_fini(&s);
    c = start(&r, &s);
    CHECK(sink_wait_n(&s, 1));
    usleep(400000);
    CHECK_EQ_INT(sink_n(&s), 1);
    CHECK_EQ_INT(sink_find(&s, "\"message\":\"while stopped\""), 1);
    vg_agent_logs_collector.stop(c);
    sink_fini(&s);
    vg_yaml_file_destroy(r.f);
}

VG_TEST(journal_backend_unavailable_here)
{
    char why[256];
    CHECK_EQ_INT(vg_agent_logs_journal_probe(why, sizeof(why)), VG_EUNSUPPORTED);
    CHECK(strstr(why, "sd-journal") != NULL);
    fprintf(stderr, "  %s\n", why);

    struct rig r;
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    rig_open(&r);
    struct vg_agent_collector_opts o = {.conf = r.f->docs[0],
                                        .state_dir = r.state,
                                        .force_backend = "journal",
                                        .emit = sink_emit,
                                        .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    char err[512] = "";
    CHECK_EQ_INT(vg_agent_logs_collector.start(&o, &c, err, sizeof(err)), VG_EUNSUPPORTED);
    CHECK(strstr(err, "no sd-journal support") != NULL);

    o.force_backend = "syslog";
    CHECK_EQ_INT(vg_agent_logs_collector.start(&o, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "unknown backend 'syslog'") != NULL);

    o.force_backend = NULL;
    o.conf = NULL; /* no files, no journal: nothing to run */
    CHECK_EQ_INT(vg_agent_logs_collector.start(&o, &c, err, sizeof(err)), VG_EUNSUPPORTED);
    CHECK(strstr(err, "no file configured") != NULL);

    struct vg_yaml_file *f = NULL;
    const char *bad = "files: [/x]\njournal: maybe\n";
    CHECK_EQ_INT(vg_yaml_parse(bad, strlen(bad), &f, err, sizeof(err)), VG_OK);
    o.conf = f->docs[0];
    CHECK_EQ_INT(vg_agent_logs_collector.start(&o, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "logs.journal") != NULL);
    fprintf(stderr, "  %s\n", err);
    vg_yaml_file_destroy(f);
    vg_yaml_file_destroy(r.f);
    rmdir(r.dir);
}
