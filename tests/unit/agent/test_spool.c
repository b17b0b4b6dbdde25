/*
 * test_spool.c — the agent's disk spool on a real directory: order and sequence, the
 * committed cursor across reopen, rewind, the byte bound with drops (never overwriting),
 * the drop report, segment deletion, torn-tail and CRC recovery, rejected events,
 * concurrent appends, wait.
 */
#include "agent/agent_spool.h"
#include "vgtest.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static void tmpdir(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/vg_spool_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void rmtree(const char *dir)
{
    char sub[512], p[1024];
    snprintf(sub, sizeof(sub), "%s/spool", dir);
    DIR *d = opendir(sub);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            snprintf(p, sizeof(p), "%s/%s", sub, e->d_name);
            unlink(p);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(sub);
    rmdir(dir);
}

static int count_segments(const char *dir)
{
    char sub[512];
    snprintf(sub, sizeof(sub), "%s/spool", dir);
    DIR *d = opendir(sub);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        n += strncmp(e->d_name, "seg-", 4) == 0;
    }
    if (d) {
        closedir(d);
    }
    return n;
}

static int append_n(struct vg_agent_spool *s, int from, int n)
{
    int ok = 0;
    for (int i = from; i < from + n; i++) {
        char buf[128];
        int len = snprintf(buf, sizeof(buf), "{\"n\":%d,\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}", i);
        ok += vg_agent_spool_append(s, buf, (size_t)len) == VG_OK;
    }
    return ok;
}

/* The n value of the k-th line of a batch body. */
static int line_n(const struct vg_agent_spool_batch *b, uint32_t k)
{
    const char *p = b->body.p;
    for (uint32_t i = 0; i < k; i++) {
        p = strchr(p, '\n') + 1;
    }
    int64_t v = -1;
    const char *e = p + 5;
    while (*e >= '0' && *e <= '9') {
        e++;
    }
    vg_parse_i64(p + 5, (size_t)(e - (p + 5)), &v);
    return (int)v;
}

static struct vg_agent_spool *open_spool(const char *dir, const struct vg_agent_spool_opts *o)
{
    struct vg_agent_spool *s = NULL;
    char err[256] = "";
    int rc = vg_agent_spool_open(dir, o, &s, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  open: %s\n", err);
    }
    CHECK_EQ_INT(rc, VG_OK);
    return s;
}

VG_TEST(spool_appends_reads_and_acks_in_order)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool *s = open_spool(dir, NULL);
    CHECK_EQ_INT(append_n(s, 1, 100), 100);
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 30, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.count, 30);
    CHECK_EQ_INT(b.first_seq, 1);
    CHECK_EQ_INT(b.last_seq, 30);
    CHECK_EQ_INT(line_n(&b, 0), 1);
    CHECK_EQ_INT(line_n(&b, 29), 30);
    CHECK(b.body.p[b.body.len - 1] == '\n');
    CHECK_EQ_INT(vg_agent_spool_ack(s, 30), VG_OK);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 1000, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.first_seq, 31);
    CHECK_EQ_INT(b.last_seq, 100);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 1000, 1 << 20, &b), VG_AGAIN);
    CHECK_EQ_INT(vg_agent_spool_ack(s, 101), VG_EINVAL); /* never appended */
    CHECK_EQ_INT(vg_agent_spool_ack(s, 100), VG_OK);
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(s, &st);
    CHECK_EQ_INT(st.pending, 0);
    CHECK_EQ_INT(st.acked_seq, 100);
    CHECK_EQ_INT(st.next_seq, 101);
    CHECK_EQ_INT(strlen(vg_agent_spool_id(s)), 32);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

VG_TEST(spool_resumes_after_the_last_ack_on_reopen)
{
    char dir[64], id[40];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool_opts o = {.segment_bytes = 4096, .max_bytes = 1 << 20};
    struct vg_agent_spool *s = open_spool(dir, &o);
    snprintf(id, sizeof(id), "%s", vg_agent_spool_id(s));
    CHECK_EQ_INT(append_n(s, 1, 1000), 1000);
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 500, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.last_seq, 500);
    CHECK_EQ_INT(vg_agent_spool_ack(s, 300), VG_OK); /* 301..500 sent but not acknowledged */
    vg_agent_spool_close(s);

    s = open_spool(dir, &o);
    CHECK_STR(vg_agent_spool_id(s), id);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 10000, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.first_seq, 301);
    CHECK_EQ_INT(b.last_seq, 1000);
    CHECK_EQ_INT(line_n(&b, 0), 301);
    CHECK_EQ_INT(line_n(&b, 699), 1000);
    CHECK_EQ_INT(append_n(s, 1001, 1), 1);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 10, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.first_seq, 1001);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

VG_TEST(spool_rewind_replays_unacknowledged_events)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool *s = open_spool(dir, NULL);
    append_n(s, 1, 50);
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    vg_agent_spool_read_batch(s, 20, 1 << 20, &b);
    vg_agent_spool_ack(s, 10);
    vg_agent_spool_read_batch(s, 20, 1 << 20, &b);
    CHECK_EQ_INT(b.first_seq, 21);
    vg_agent_spool_rewind(s);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 5, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.first_seq, 11);
    CHECK_EQ_INT(line_n(&b, 0), 11);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

VG_TEST(spool_full_drops_new_events_and_reports_them)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool_opts o = {.max_bytes = 64 << 10, .segment_bytes = 8 << 10};
    struct vg_agent_spool *s = open_spool(dir, &o);
    int ok = append_n(s, 1, 5000);
    CHECK(ok > 500 && ok < 5000);
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(s, &st);
    CHECK_EQ_INT(st.dropped, 5000 - ok);
    CHECK(st.bytes <= o.max_bytes);
    /* The oldest events are intact: 1..ok, in order. */
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 100000, 16 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.count, ok);
    CHECK_EQ_INT(line_n(&b, 0), 1);
    CHECK_EQ_INT(line_n(&b, (uint32_t)ok - 1), ok);
    int segs = count_segments(dir);
    CHECK(segs > 2);
    CHECK_EQ_INT(vg_agent_spool_ack(s, b.last_seq), VG_OK);
    CHECK_EQ_INT(count_segments(dir), 1);
    /* Space is back: the drop count enters the stream first. */
    CHECK_EQ_INT(append_n(s, 9000, 1), 1);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 10, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.count, 2);
    char want[64];
    snprintf(want, sizeof(want), "\"vigie.agent.spool.dropped\":%d}", 5000 - ok);
    CHECK(strstr(b.body.p, want) != NULL);
    CHECK(strstr(b.body.p, "\"n\":9000") != NULL);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

VG_TEST(spool_deletes_acknowledged_segments_and_keeps_the_sequence)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool_opts o = {.segment_bytes = 4096};
    struct vg_agent_spool *s = open_spool(dir, &o);
    append_n(s, 1, 400);
    CHECK(count_segments(dir) >= 4);
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    vg_agent_spool_read_batch(s, 1000, 1 << 20, &b);
    CHECK_EQ_INT(b.count, 400);
    vg_agent_spool_ack(s, 400);
    CHECK_EQ_INT(count_segments(dir), 1);
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(s, &st);
    CHECK_EQ_INT(st.bytes, 0);
    vg_agent_spool_close(s);
    /* Everything was acknowledged and deleted: the sequence must still continue. */
    s = open_spool(dir, &o);
    append_n(s, 401, 1);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 10, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.first_seq, 401);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

static void last_segment_path(const char *dir, char *out, size_t n, bool first)
{
    char sub[512];
    snprintf(sub, sizeof(sub), "%s/spool", dir);
    DIR *d = opendir(sub);
    struct dirent *e;
    char best[256] = "";
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "seg-", 4) == 0 &&
            (!best[0] || (first ? strcmp(e->d_name, best) < 0 : strcmp(e->d_name, best) > 0))) {
            snprintf(best, sizeof(best), "%s", e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
    snprintf(out, n, "%s/%s", sub, best);
}

VG_TEST(spool_cuts_a_torn_tail_on_reopen)
{
    char dir[64], seg[600];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool *s = open_spool(dir, NULL);
    append_n(s, 1, 10);
    vg_agent_spool_close(s);
    last_segment_path(dir, seg, sizeof(seg), false);
    int fd = open(seg, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK(write(fd, "\x40\x00\x00\x00garbage", 11) == 11); /* a half-written record */
    close(fd);
    s = open_spool(dir, NULL);
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(s, &st);
    CHECK_EQ_INT(st.corrupt, 1);
    CHECK_EQ_INT(st.next_seq, 11);
    append_n(s, 11, 1);
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 100, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.count, 11);
    CHECK_EQ_INT(line_n(&b, 10), 11);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

VG_TEST(spool_skips_a_corrupt_segment_and_counts_the_loss)
{
    char dir[64], seg[600];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool_opts o = {.segment_bytes = 4096};
    struct vg_agent_spool *s = open_spool(dir, &o);
    append_n(s, 1, 200);
    last_segment_path(dir, seg, sizeof(seg), true);
    int fd = open(seg, O_WRONLY);
    CHECK(pwrite(fd, "Z", 1, 300) == 1); /* inside the 6th record or so */
    close(fd);
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 1000, 1 << 20, &b), VG_OK);
    CHECK_EQ_INT(b.first_seq, 1);
    uint64_t good = b.count;
    CHECK(good < 10);
    CHECK_EQ_INT(line_n(&b, (uint32_t)good - 1), (int)good);
    CHECK_EQ_INT(vg_agent_spool_read_batch(s, 1000, 1 << 20, &b), VG_OK);
    CHECK(b.first_seq > good + 1); /* a gap: the rest of the first segment */
    CHECK_EQ_INT(b.last_seq, 200);
    CHECK_EQ_INT(line_n(&b, 0), (int)b.first_seq);
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(s, &st);
    CHECK_EQ_INT(st.corrupt, b.first_seq - good - 1);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

VG_TEST(spool_rejects_events_that_would_break_the_stream)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool_opts o = {.max_record = 64};
    struct vg_agent_spool *s = open_spool(dir, &o);
    CHECK_EQ_INT(vg_agent_spool_append(s, "{\"a\":\n1}", 8), VG_EINVAL);
    CHECK_EQ_INT(vg_agent_spool_append(s, "{\"a\":\0}", 7), VG_EINVAL);
    CHECK_EQ_INT(vg_agent_spool_append(s, "", 0), VG_EINVAL);
    char big[100];
    memset(big, 'x', sizeof(big));
    CHECK_EQ_INT(vg_agent_spool_append(s, big, sizeof(big)), VG_EINVAL);
    CHECK_EQ_INT(vg_agent_spool_emit(s, "{}", 2), VG_OK);
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(s, &st);
    CHECK_EQ_INT(st.rejected, 4);
    CHECK_EQ_INT(st.appended, 1);
    vg_agent_spool_close(s);
    rmtree(dir);
}

struct writer {
    struct vg_agent_spool *s;
    int id;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    for (int i = 0; i < 5000; i++) {
        char buf[64];
        int n = snprintf(buf, sizeof(buf), "{\"w\":%d,\"i\":%d}", w->id, i);
        vg_agent_spool_append(w->s, buf, (size_t)n);
    }
    return NULL;
}

VG_TEST(spool_concurrent_appends_keep_each_writer_in_order)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool_opts o = {.segment_bytes = 64 << 10};
    struct vg_agent_spool *s = open_spool(dir, &o);
    pthread_t t[4];
    struct writer w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){s, i};
        pthread_create(&t[i], NULL, writer_main, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    int next[4] = {0}, total = 0;
    bool ordered = true;
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    uint64_t expect = 1;
    while (vg_agent_spool_read_batch(s, 777, 1 << 20, &b) == VG_OK) {
        ordered = ordered && b.first_seq == expect;
        expect = b.last_seq + 1;
        for (const char *p = b.body.p; *p; p = strchr(p, '\n') + 1) {
            int wi = -1, ii = -1;
            sscanf(p, "{\"w\":%d,\"i\":%d}", &wi, &ii);
            ordered = ordered && wi >= 0 && wi < 4 && ii == next[wi];
            if (wi >= 0 && wi < 4) {
                next[wi]++;
            }
            total++;
        }
        vg_agent_spool_ack(s, b.last_seq);
    }
    CHECK(ordered);
    CHECK_EQ_INT(total, 20000);
    vg_agent_spool_batch_fini(&b);
    vg_agent_spool_close(s);
    rmtree(dir);
}

static void *late_append(void *arg)
{
    usleep(50000);
    append_n(arg, 1, 1);
    return NULL;
}

VG_TEST(spool_wait_wakes_on_append)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_agent_spool *s = open_spool(dir, NULL);
    CHECK_EQ_INT(vg_agent_spool_wait(s, 20), VG_ETIMEOUT);
    pthread_t t;
    pthread_create(&t, NULL, late_append, s);
    CHECK_EQ_INT(vg_agent_spool_wait(s, 5000), VG_OK);
    pthread_join(t, NULL);
    vg_agent_spool_close(s);
    rmtree(dir);
}

VG_TEST(spool_fsync_policies_work)
{
    enum vg_agent_spool_fsync pol[] = {VG_AGENT_SPOOL_FSYNC_ALWAYS, VG_AGENT_SPOOL_FSYNC_BATCH,
                                       VG_AGENT_SPOOL_FSYNC_NONE};
    for (size_t i = 0; i < 3; i++) {
        char dir[64];
        tmpdir(dir, sizeof(dir));
        struct vg_agent_spool_opts o = {.fsync = pol[i], .fsync_bytes = 1024};
        struct vg_agent_spool *s = open_spool(dir, &o);
        append_n(s, 1, 100);
        struct vg_agent_spool_stats st;
        vg_agent_spool_stats(s, &st);
        if (pol[i] == VG_AGENT_SPOOL_FSYNC_ALWAYS) {
            CHECK_EQ_INT(st.fsyncs, 100);
        } else if (pol[i] == VG_AGENT_SPOOL_FSYNC_BATCH) {
            CHECK(st.fsyncs >= 3 && st.fsyncs < 20);
        } else {
            CHECK_EQ_INT(st.fsyncs, 0);
        }
        vg_agent_spool_close(s);
        rmtree(dir);
    }
}
