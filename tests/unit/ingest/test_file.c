/*
 * test_file.c — file tailing on real files in a mkdtemp directory: lines in order with their
 * metadata, a last line without LF flushed after the timeout, rename rotation with writes on
 * both sides, copytruncate, new files matched by a glob (inotify and polling), inode reuse
 * (live and across a restart), exactly once across restarts with and without a checkpoint,
 * back-pressure from a tiny journal bound, unreadable files and directories reported once,
 * lines held back while the checkpoint cannot be written, a 10 MB file with long lines,
 * start-at-end, state directory errors.
 *
 * Timing: assertions never depend on the tailer being fast (the machine is shared); waits
 * poll with generous deadlines, and the flush-timeout test checks a lower bound only.
 */
#include "ingest/ingest.h"
#include "vgtest.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WAIT_MS 5000 /* longest wait for one record */

struct rig {
    char dir[64];
    char logs[128], jdir[128], state[128];
    struct vg_journal *j;
    struct vg_tail *t;
    uint64_t read_seq;   /* last record collected */
    struct vg_sbuf got;  /* collected records, one per line */
    uint32_t last_input; /* of the last record collected */
    vg_time_t last_ts;
};

static const struct vg_tail_opts fast = {
    .scan_interval_ms = 50,
    .poll_interval_ms = 50,
    .flush_timeout_ms = 300,
    .rotate_wait_ms = 500,
};

static bool journal_open(struct rig *r, uint64_t max_lag, uint64_t segment)
{
    char err[256];
    struct vg_journal_opts jo = {.max_lag_bytes = max_lag, .segment_bytes = segment};
    if (vg_journal_open(r->jdir, &jo, &r->j, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  journal: %s\n", err);
        return false;
    }
    return true;
}

static bool rig_open(struct rig *r, uint64_t max_lag, uint64_t segment)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/vg-tail-XXXXXX");
    if (!mkdtemp(r->dir)) {
        return false;
    }
    snprintf(r->logs, sizeof(r->logs), "%s/logs", r->dir);
    snprintf(r->jdir, sizeof(r->jdir), "%s/journal", r->dir);
    snprintf(r->state, sizeof(r->state), "%s/state", r->dir);
    return mkdir(r->logs, 0755) == 0 && journal_open(r, max_lag, segment);
}

/* Start a tailer of logs/PATTERN (input id 7) with options o (NULL: fast). */
static bool tail_open(struct rig *r, const char *pattern, const struct vg_tail_opts *o)
{
    char err[256], glob[256];
    snprintf(glob, sizeof(glob), "%s/%s", r->logs, pattern);
    struct vg_tail_input in = {.glob = glob, .input = 7};
    if (vg_tail_create(r->j, r->state, &in, 1, o ? o : &fast, &r->t, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  tail: %s\n", err);
        return false;
    }
    return vg_tail_start(r->t) == VG_OK;
}

static void rig_close(struct rig *r)
{
    vg_tail_destroy(r->t);
    vg_journal_close(r->j);
    vg_sbuf_fini(&r->got);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s'; rm -rf '%s'", r->dir, r->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", r->dir);
    }
}

static void logpath(const struct rig *r, const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", r->logs, name);
}

/* Append text to logs/NAME (created if missing). */
static void put(const struct rig *r, const char *name, const char *text)
{
    char p[256];
    logpath(r, name, p, sizeof(p));
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void putf(const struct rig *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void putf(const struct rig *r, const char *name, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    put(r, name, line);
}

static uint64_t ino_of(const struct rig *r, const char *name)
{
    char p[256];
    struct stat st;
    logpath(r, name, p, sizeof(p));
    return stat(p, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

enum { C_META = 1, C_RELEASE = 2 };

/*
 * Read up to n more records (waiting up to wait_ms for each) into r->got as "DATA\n", or
 * "DATA|META\n" with C_META (its \x1f shown as ' '). C_RELEASE releases each record read,
 * as the pipeline does once it stored it.
 */
static size_t collect(struct rig *r, size_t n, int flags, int wait_ms)
{
    struct vg_journal_reader *rd = vg_journal_reader_open(r->j, r->read_seq);
    size_t got = 0;
    struct vg_rec rec;
    uint64_t seq;
    while (got < n) {
        int rc = vg_journal_next(rd, &rec, &seq, wait_ms);
        if (rc != VG_OK) {
            break;
        }
        vg_sbuf_add(&r->got, rec.data, rec.len);
        if (flags & C_META) {
            vg_sbuf_addc(&r->got, '|');
            for (uint32_t i = 0; i < rec.meta_len; i++) {
                vg_sbuf_addc(&r->got, rec.meta[i] == '\x1f' ? ' ' : rec.meta[i]);
            }
        }
        vg_sbuf_addc(&r->got, '\n');
        r->last_input = rec.input;
        r->last_ts = rec.recv_ts;
        r->read_seq = seq;
        got++;
        if (flags & C_RELEASE) {
            vg_journal_release(r->j, seq);
        }
    }
    vg_journal_reader_close(rd);
    return got;
}

static struct vg_tail_stats stats(const struct rig *r)
{
    struct vg_tail_stats st;
    vg_tail_stats(r->t, &st);
    return st;
}

/* Poll until cond holds (at most ms). */
#define WAIT_UNTIL(cond, ms)                                                                       \
    do {                                                                                           \
        for (int w_ = 0; w_ < (ms) / 10 && !(cond); w_++) {                                        \
            usleep(10000);                                                                         \
        }                                                                                          \
    } while (0)

#define OPEN_OR_FAIL(r, lag, seg)                                                                  \
    do {                                                                                           \
        if (!rig_open((r), (lag), (seg))) {                                                        \
            CHECK(!"rig");                                                                         \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* ---------------------------------------------------------------- lines */

VG_TEST(lines_in_order_with_their_position)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    put(&r, "a.log", "alpha\r\nbeta\n\ngamma\n"); /* CRLF, an empty line */
    CHECK(tail_open(&r, "*.log", NULL));
    char want[1024], p[256];
    logpath(&r, "a.log", p, sizeof(p));
    unsigned long long ino = ino_of(&r, "a.log");
    CHECK_EQ_INT(collect(&r, 3, C_META, WAIT_MS), 3);
    snprintf(want, sizeof(want),
             "alpha|file=%s ino=%llu off=7\nbeta|file=%s ino=%llu off=12\n"
             "gamma|file=%s ino=%llu off=19\n",
             p, ino, p, ino, p, ino);
    CHECK_MEM(r.got.p, r.got.len, want);
    CHECK_EQ_INT(r.last_input, 7);
    CHECK(r.last_ts > 0);
    r.got.len = 0;
    put(&r, "a.log", "delta\n");
    CHECK_EQ_INT(collect(&r, 1, C_META, WAIT_MS), 1);
    snprintf(want, sizeof(want), "delta|file=%s ino=%llu off=25\n", p, ino);
    CHECK_MEM(r.got.p, r.got.len, want);
    WAIT_UNTIL(stats(&r).bytes == 25, WAIT_MS);
    struct vg_tail_stats st = stats(&r);
    CHECK_EQ_INT(st.lines, 4);
    CHECK_EQ_INT(st.bytes, 25);
    CHECK_EQ_INT(st.files_open, 1);
    CHECK_EQ_INT(st.read_errors, 0);
    rig_close(&r);
}

VG_TEST(last_line_without_lf_waits_for_the_flush_timeout)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    struct vg_tail_opts o = fast;
    o.flush_timeout_ms = 1000;
    CHECK(tail_open(&r, "p.log", &o));
    uint64_t t0 = vg_clock_ns();
    put(&r, "p.log", "one\ntwo");
    CHECK_EQ_INT(collect(&r, 2, 0, WAIT_MS), 2);
    uint64_t waited = (vg_clock_ns() - t0) / 1000000;
    CHECK_MEM(r.got.p, r.got.len, "one\ntwo\n");
    CHECK(waited >= 1000); /* "two" only once it stayed unchanged for the timeout */
    /* a line completed within the timeout is one record */
    r.got.len = 0;
    put(&r, "p.log", "\nthr");
    usleep(100000);
    put(&r, "p.log", "ee\n");
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    CHECK_MEM(r.got.p, r.got.len, "three\n");
    WAIT_UNTIL(stats(&r).lines == 3, WAIT_MS); /* counted just after the append */
    struct vg_tail_stats st = stats(&r);
    CHECK_EQ_INT(st.partial_lines, 1);
    CHECK_EQ_INT(st.lines, 3);
    rig_close(&r);
}

/* ---------------------------------------------------------------- rotation */

/*
 * Check that the lines of got starting with PREFIX<number> carry the numbers from..to-1,
 * each once and in order (lines of other kinds may come between them).
 */
static void check_sequence(const struct vg_sbuf *got, const char *prefix, int from, int to)
{
    int next = from, dups = 0, skipped = 0;
    size_t pl = strlen(prefix);
    for (const char *p = got->p, *end = got->p + got->len; p && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), d = pl;
        while (d < len && p[d] >= '0' && p[d] <= '9') {
            d++;
        }
        int64_t v;
        if (d > pl && !memcmp(p, prefix, pl) && vg_parse_i64(p + pl, d - pl, &v) == VG_OK) {
            dups += v < next;
            skipped += v > next;
            next = (int)v + 1;
        }
        p = nl ? nl + 1 : end;
    }
    CHECK_EQ_INT(dups, 0);
    CHECK_EQ_INT(skipped, 0);
    CHECK_EQ_INT(next, to);
}

VG_TEST(rename_rotation_reads_both_files_to_the_end)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    struct vg_tail_opts o = fast;
    o.rotate_wait_ms = 1500;
    CHECK(tail_open(&r, "app.log", &o));
    char p[256], p1[256];
    logpath(&r, "app.log", p, sizeof(p));
    logpath(&r, "app.log.1", p1, sizeof(p1));
    int old = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644); /* the application's descriptor */
    for (int i = 0; i < 100; i++) {
        dprintf(old, "old-%d\n", i);
    }
    CHECK_EQ_INT(collect(&r, 100, 0, WAIT_MS), 100);
    CHECK(rename(p, p1) == 0); /* logrotate */
    for (int i = 100; i < 150; i++) {
        dprintf(old, "old-%d\n", i); /* the application has not reopened yet */
    }
    for (int i = 0; i < 50; i++) {
        putf(&r, "app.log", "new-%d\n", i);
    }
    for (int i = 150; i < 160; i++) {
        dprintf(old, "old-%d\n", i);
    }
    close(old);
    for (int i = 50; i < 100; i++) {
        putf(&r, "app.log", "new-%d\n", i);
    }
    CHECK_EQ_INT(collect(&r, 160, 0, WAIT_MS), 160);
    CHECK_EQ_INT(collect(&r, 1, 0, 700), 0); /* nothing twice */
    check_sequence(&r.got, "old-", 0, 160);
    check_sequence(&r.got, "new-", 0, 100);
    WAIT_UNTIL(stats(&r).files_open == 1, WAIT_MS);
    struct vg_tail_stats st = stats(&r);
    CHECK_EQ_INT(st.rotations, 1);
    CHECK_EQ_INT(st.files_open, 1); /* the old inode is closed once idle for rotate_wait */
    CHECK_EQ_INT(st.lines, 260);
    /* the new file's lines carry the new inode */
    r.got.len = 0;
    put(&r, "app.log", "last\n");
    CHECK_EQ_INT(collect(&r, 1, C_META, WAIT_MS), 1);
    char want[512];
    snprintf(want, sizeof(want), "last|file=%s ino=%llu off=%zu\n", p,
             (unsigned long long)ino_of(&r, "app.log"), (size_t)(10 * 6 + 90 * 7 + 5));
    CHECK_MEM(r.got.p, r.got.len, want);
    rig_close(&r);
}

VG_TEST(copytruncate_reads_again_from_zero)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    CHECK(tail_open(&r, "c.log", NULL));
    for (int i = 0; i < 50; i++) {
        putf(&r, "c.log", "before-%02d with some payload\n", i);
    }
    CHECK_EQ_INT(collect(&r, 50, 0, WAIT_MS), 50);
    char p[256];
    logpath(&r, "c.log", p, sizeof(p));
    CHECK(truncate(p, 0) == 0); /* logrotate copytruncate: copied elsewhere, then cut */
    for (int i = 0; i < 10; i++) {
        putf(&r, "c.log", "after-%02d\n", i);
    }
    r.got.len = 0;
    CHECK_EQ_INT(collect(&r, 10, C_META, WAIT_MS), 10);
    CHECK_EQ_INT(collect(&r, 1, 0, 500), 0);
    char want[4096];
    size_t wl = 0;
    unsigned long long ino = ino_of(&r, "c.log");
    for (int i = 0; i < 10; i++) {
        wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "after-%02d|file=%s ino=%llu off=%d\n",
                               i, p, ino, 9 * (i + 1));
    }
    CHECK_MEM(r.got.p, r.got.len, want);
    CHECK_EQ_INT(stats(&r).truncations, 1);
    rig_close(&r);
}

/* ---------------------------------------------------------------- discovery */

static void glob_new_files(bool inotify)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    struct vg_tail_opts o = fast;
    o.no_inotify = !inotify;
    o.scan_interval_ms = inotify ? 5000 : 50; /* with inotify a new file needs no rescan */
    put(&r, "a.log", "a1\n");
    CHECK(tail_open(&r, "*.log", &o));
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    char d[256];
    logpath(&r, "dir.log", d, sizeof(d));
    CHECK(mkdir(d, 0755) == 0); /* a directory the pattern matches is not a file */
    put(&r, "c.txt", "not matched\n");
    put(&r, "b.log", "b1\nb2\n");
    CHECK_EQ_INT(collect(&r, 2, 0, WAIT_MS), 2);
    put(&r, "a.log", "a2\n");
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    CHECK_EQ_INT(collect(&r, 1, 0, 300), 0);
    CHECK_MEM(r.got.p, r.got.len, "a1\nb1\nb2\na2\n");
    CHECK_EQ_INT(stats(&r).files_open, 2);
    rig_close(&r);
}

VG_TEST(glob_picks_up_new_files_with_inotify)
{
    glob_new_files(true);
}

VG_TEST(glob_picks_up_new_files_by_polling)
{
    glob_new_files(false);
}

VG_TEST(start_at_end_only_for_files_of_the_first_scan)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    struct vg_tail_opts o = fast;
    o.start = VG_TAIL_START_END;
    put(&r, "old.log", "history\n");
    CHECK(tail_open(&r, "*.log", &o));
    WAIT_UNTIL(stats(&r).files_open == 1, WAIT_MS);
    put(&r, "old.log", "live\n");
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    put(&r, "new.log", "fresh\n"); /* appeared later: read from its beginning */
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    CHECK_MEM(r.got.p, r.got.len, "live\nfresh\n");
    /* after a restart, a file that appeared meanwhile is read whole */
    vg_tail_destroy(r.t);
    r.t = NULL;
    put(&r, "later.log", "while down\n");
    CHECK(tail_open(&r, "*.log", &o));
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    CHECK_EQ_INT(collect(&r, 1, 0, 300), 0);
    CHECK_MEM(r.got.p, r.got.len, "live\nfresh\nwhile down\n");
    rig_close(&r);
}

/* ---------------------------------------------------------------- inode reuse */

VG_TEST(inode_reuse_after_delete_and_create)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    struct vg_tail_opts o = fast;
    o.rotate_wait_ms = 200;
    CHECK(tail_open(&r, "r.log", &o));
    for (int i = 0; i < 5; i++) {
        putf(&r, "r.log", "first generation %d\n", i);
    }
    CHECK_EQ_INT(collect(&r, 5, 0, WAIT_MS), 5);
    uint64_t ino = ino_of(&r, "r.log");
    char p[256];
    logpath(&r, "r.log", p, sizeof(p));
    CHECK(unlink(p) == 0);
    WAIT_UNTIL(stats(&r).files_open == 0, WAIT_MS); /* drained and closed: the inode is free */
    CHECK_EQ_INT(stats(&r).files_open, 0);
    /* ext4 and tmpfs hand a freed inode to the next new file: make sure r.log gets it */
    for (int k = 0; k < 20; k++) {
        put(&r, "r.log", "");
        if (ino_of(&r, "r.log") == ino) {
            break;
        }
        char spare[256];
        logpath(&r, "spare", spare, sizeof(spare));
        snprintf(spare + strlen(spare), 16, "%d", k);
        CHECK(rename(p, spare) == 0); /* keep that inode taken, try again */
    }
    if (ino_of(&r, "r.log") != ino) {
        fprintf(stderr, "  (this filesystem did not reuse the inode: a plain new file)\n");
    }
    for (int i = 0; i < 8; i++) {
        putf(&r, "r.log", "second generation, longer line %d\n", i);
    }
    r.got.len = 0;
    CHECK_EQ_INT(collect(&r, 8, 0, WAIT_MS), 8);
    CHECK_EQ_INT(collect(&r, 1, 0, 300), 0);
    check_sequence(&r.got, "second generation, longer line ", 0, 8);
    rig_close(&r);
}

VG_TEST(inode_reuse_across_a_restart)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    CHECK(tail_open(&r, "g.log", NULL));
    for (int i = 0; i < 5; i++) {
        putf(&r, "g.log", "gen one %d\n", i);
    }
    CHECK_EQ_INT(collect(&r, 5, 0, WAIT_MS), 5);
    CHECK_EQ_INT(vg_tail_checkpoint(r.t), VG_OK);
    vg_tail_destroy(r.t);
    r.t = NULL;
    /* while we are down the inode gets other, longer content (same dev and inode) */
    char p[256];
    logpath(&r, "g.log", p, sizeof(p));
    int fd = open(p, O_WRONLY | O_TRUNC);
    for (int i = 0; i < 10; i++) {
        dprintf(fd, "GEN TWO %d\n", i);
    }
    close(fd);
    r.got.len = 0;
    CHECK(tail_open(&r, "g.log", NULL));
    CHECK_EQ_INT(collect(&r, 10, 0, WAIT_MS), 10);
    CHECK_EQ_INT(collect(&r, 1, 0, 300), 0);
    check_sequence(&r.got, "GEN TWO ", 0, 10);
    rig_close(&r);
}

/* ---------------------------------------------------------------- exactly once */

static void check_whole_journal(struct rig *r, int n, const char *last)
{
    r->read_seq = 0;
    r->got.len = 0;
    CHECK_EQ_INT(collect(r, (size_t)n + 10, 0, 200), (size_t)n + (last ? 1 : 0));
    check_sequence(&r->got, "line ", 0, n);
    if (last) {
        size_t ll = strlen(last);
        CHECK(r->got.len > ll && !memcmp(r->got.p + r->got.len - ll - 1, last, ll));
    }
}

VG_TEST(restart_without_checkpoint_exactly_once)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 64 << 10, 0); /* stalls after one chunk: each run journals a part */
    const int n = 20000;
    struct vg_sbuf text = VG_SBUF_INIT;
    for (int i = 0; i < n / 2; i++) {
        vg_sbuf_printf(&text, "line %d ..............................................\n", i);
    }
    put(&r, "x.log", text.p);
    struct vg_tail_opts o = fast;
    o.flush_timeout_ms = 600000; /* the line cut short must wait for the rest of it */
    int runs = 0;
    uint64_t lines = 0;
    for (; runs < 40; runs++) {
        CHECK(tail_open(&r, "x.log", &o));
        WAIT_UNTIL(stats(&r).stalls > 0 || lines + stats(&r).lines >= (uint64_t)n, WAIT_MS);
        vg_tail_stop(r.t);
        lines += stats(&r).lines;
        vg_tail_destroy(r.t); /* no checkpoint: the journal says where each file was */
        r.t = NULL;
        vg_journal_close(r.j);
        if (runs == 1) { /* more lines, and a last one cut short, while down */
            vg_sbuf_reset(&text);
            for (int i = n / 2; i < n; i++) {
                vg_sbuf_printf(&text, "line %d ..............................................\n",
                               i);
            }
            put(&r, "x.log", text.p);
            put(&r, "x.log", "cut sho");
        }
        if (!journal_open(&r, 64 << 10, 0) || lines >= (uint64_t)n) {
            break;
        }
    }
    CHECK(runs >= 3);
    put(&r, "x.log", "rt\n");
    CHECK(tail_open(&r, "x.log", &o));
    WAIT_UNTIL(stats(&r).lines + lines >= (uint64_t)n + 1, WAIT_MS);
    check_whole_journal(&r, n, "cut short");
    vg_sbuf_fini(&text);
    rig_close(&r);
}

VG_TEST(restart_with_checkpoint_after_release_exactly_once)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 16 << 10); /* small segments: release deletes them */
    for (int i = 0; i < 2000; i++) {
        putf(&r, "y.log", "line %d\n", i);
    }
    CHECK(tail_open(&r, "y.log", NULL));
    CHECK_EQ_INT(collect(&r, 2000, 0, WAIT_MS), 2000);
    CHECK_EQ_INT(vg_tail_checkpoint(r.t), VG_OK); /* the server: checkpoint, then release */
    vg_journal_release(r.j, r.read_seq);
    for (int i = 2000; i < 2500; i++) {
        putf(&r, "y.log", "line %d\n", i);
    }
    WAIT_UNTIL(stats(&r).lines == 2500, WAIT_MS);
    CHECK_EQ_INT(stats(&r).lines, 2500);
    vg_tail_destroy(r.t); /* 500 lines journaled after the checkpoint, not stored yet */
    r.t = NULL;
    vg_journal_close(r.j);
    CHECK(journal_open(&r, 0, 16 << 10));
    for (int i = 2500; i < 2800; i++) {
        putf(&r, "y.log", "line %d\n", i);
    }
    CHECK(tail_open(&r, "y.log", NULL));
    CHECK_EQ_INT(collect(&r, 800, 0, WAIT_MS), 800);
    CHECK_EQ_INT(collect(&r, 1, 0, 500), 0);
    check_sequence(&r.got, "line ", 0, 2800);
    /* the checkpoint lists the file by identity */
    char ck[256], want[256];
    char *data = NULL;
    size_t len = 0;
    snprintf(ck, sizeof(ck), "%s/tail.ckpt", r.state);
    snprintf(want, sizeof(want), " %llu ", (unsigned long long)ino_of(&r, "y.log"));
    CHECK(vg_file_read(ck, 1 << 20, &data, &len) == VG_OK);
    CHECK(data && !strncmp(data, "vigie-tail-checkpoint 1\nseq ", 28) && strstr(data, want) &&
          strstr(data, "/logs/y.log\n"));
    vg_free(data);
    rig_close(&r);
}

VG_TEST(back_pressure_holds_lines_until_released)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 32 << 10, 0); /* 32 KiB of unreleased data, then appends are refused */
    const int n = 30000;
    struct vg_sbuf text = VG_SBUF_INIT;
    for (int i = 0; i < n; i++) {
        vg_sbuf_printf(&text, "line %d %s\n", i, "-- some filler to make the lines longer --");
    }
    put(&r, "bp.log", text.p);
    CHECK(tail_open(&r, "bp.log", NULL));
    WAIT_UNTIL(stats(&r).stalls > 0, WAIT_MS);
    usleep(200000);
    struct vg_tail_stats st = stats(&r);
    CHECK(st.stalls > 0);
    CHECK(st.lines < (uint64_t)n / 2); /* held back, not read */
    struct vg_journal_stats js;
    vg_journal_stats(r.j, &js);
    CHECK(js.bytes < (1u << 20));
    /* a consumer releases: everything arrives, in order, once */
    CHECK_EQ_INT(collect(&r, (size_t)n, C_RELEASE, WAIT_MS), n);
    CHECK_EQ_INT(collect(&r, 1, 0, 300), 0);
    CHECK_MEM(r.got.p, r.got.len, text.p);
    WAIT_UNTIL(stats(&r).lines == (uint64_t)n, WAIT_MS);
    CHECK_EQ_INT(stats(&r).lines, n);
    vg_sbuf_fini(&text);
    rig_close(&r);
}

/* ---------------------------------------------------------------- errors */

/* Drop or restore this thread's DAC override (root reads mode-000 files); threads it starts
 * inherit the set. */
static bool dac_caps(bool on)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) {
        return false;
    }
    uint32_t bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
    d[0].effective = on ? d[0].effective | (bits & d[0].permitted) : d[0].effective & ~bits;
    return syscall(SYS_capset, &h, d) == 0;
}

VG_TEST(unreadable_files_and_directories_are_reported_once)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    char secret[256], locked[256], logf[256], glob2[256];
    logpath(&r, "secret.log", secret, sizeof(secret));
    logpath(&r, "locked", locked, sizeof(locked));
    snprintf(logf, sizeof(logf), "%s/log.txt", r.dir);
    put(&r, "ok.log", "fine\n");
    put(&r, "secret.log", "hidden\n");
    CHECK(mkdir(locked, 0755) == 0);
    put(&r, "locked/in.log", "inside\n");
    CHECK(chmod(secret, 0) == 0 && chmod(locked, 0) == 0);
    bool dropped = geteuid() == 0 && dac_caps(false);
    int probe = open(secret, O_RDONLY);
    if (probe >= 0) {
        close(probe);
        dac_caps(true);
        rig_close(&r);
        VG_SKIP("cannot make a file unreadable here");
    }
    FILE *log = fopen(logf, "w+");
    vg_log_set_stream(log);
    char err[256], glob1[256];
    snprintf(glob1, sizeof(glob1), "%s/*.log", r.logs);
    snprintf(glob2, sizeof(glob2), "%s/locked/*.log", r.logs);
    struct vg_tail_input ins[] = {{glob1, 1}, {glob2, 2}};
    CHECK(vg_tail_create(r.j, r.state, ins, 2, &fast, &r.t, err, sizeof(err)) == VG_OK);
    CHECK(vg_tail_start(r.t) == VG_OK); /* its thread inherits the reduced capabilities */
    if (dropped) {
        dac_caps(true);
    }
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    WAIT_UNTIL(stats(&r).read_errors >= 2, WAIT_MS);
    usleep(300000); /* several rescans: still reported once */
    CHECK_EQ_INT(stats(&r).read_errors, 2);
    CHECK_MEM(r.got.p, r.got.len, "fine\n");
    /* fixed: picked up by the next scan */
    CHECK(chmod(secret, 0644) == 0 && chmod(locked, 0755) == 0);
    CHECK_EQ_INT(collect(&r, 2, 0, WAIT_MS), 2);
    CHECK(!strcmp(r.got.p, "fine\nhidden\ninside\n") || !strcmp(r.got.p, "fine\ninside\nhidden\n"));
    vg_log_set_stream(NULL);
    char text[4096] = {0};
    CHECK(fseek(log, 0, SEEK_SET) == 0);
    CHECK(fread(text, 1, sizeof(text) - 1, log) > 0);
    fclose(log);
    char want1[512], want2[512];
    snprintf(want1, sizeof(want1), "%s: cannot open: Permission denied", secret);
    snprintf(want2, sizeof(want2), "%s: cannot list directory: Permission denied", locked);
    CHECK(strstr(text, want1) != NULL);
    CHECK(strstr(text, want2) != NULL);
    CHECK(strstr(strstr(text, want1) + 1, want1) == NULL); /* logged once */
    rig_close(&r);
}

VG_TEST(lines_wait_while_the_checkpoint_cannot_be_written)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    char tmp[256], logf[256];
    snprintf(tmp, sizeof(tmp), "%s/tail.ckpt.tmp", r.state);
    snprintf(logf, sizeof(logf), "%s/log.txt", r.dir);
    CHECK(mkdir(r.state, 0755) == 0 && mkdir(tmp, 0755) == 0); /* the temp file cannot be made */
    FILE *log = fopen(logf, "w+");
    vg_log_set_stream(log);
    CHECK(tail_open(&r, "h.log", NULL));
    put(&r, "h.log", "held back\n");
    WAIT_UNTIL(stats(&r).stalls > 0, WAIT_MS);
    CHECK_EQ_INT(collect(&r, 1, 0, 300), 0); /* a new file's lines wait for its checkpoint */
    CHECK_EQ_INT(stats(&r).lines, 0);
    CHECK(vg_tail_checkpoint(r.t) != VG_OK);
    CHECK(rmdir(tmp) == 0);
    CHECK_EQ_INT(collect(&r, 1, 0, WAIT_MS), 1);
    CHECK_MEM(r.got.p, r.got.len, "held back\n");
    vg_log_set_stream(NULL);
    char text[4096] = {0};
    CHECK(fseek(log, 0, SEEK_SET) == 0);
    CHECK(fread(text, 1, sizeof(text) - 1, log) > 0);
    fclose(log);
    CHECK(strstr(text, "/state/tail.ckpt: cannot write the checkpoint") != NULL);
    rig_close(&r);
}

VG_TEST(state_directory_errors_are_clear)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    CHECK(tail_open(&r, "*.log", NULL));
    char err[256] = "", glob[256], ck[256];
    snprintf(glob, sizeof(glob), "%s/*.log", r.logs);
    struct vg_tail_input in = {glob, 1};
    struct vg_tail *t2 = NULL;
    CHECK_EQ_INT(vg_tail_create(r.j, r.state, &in, 1, NULL, &t2, err, sizeof(err)), VG_EEXIST);
    CHECK(strstr(err, "in use by another file tailer") != NULL);
    vg_tail_destroy(r.t);
    r.t = NULL;
    snprintf(ck, sizeof(ck), "%s/tail.ckpt", r.state);
    FILE *f = fopen(ck, "w");
    fputs("vigie-tail-checkpoint 1\nseq 0\nf 1 2 zz 0 0 0 1 /x\nend 00000000\n", f);
    fclose(f);
    CHECK_EQ_INT(vg_tail_create(r.j, r.state, &in, 1, NULL, &t2, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "tail.ckpt: damaged checkpoint (line 3)") != NULL);
    struct vg_tail_opts bad = {.max_line = 64u << 20};
    CHECK_EQ_INT(vg_tail_create(r.j, r.state, &in, 1, &bad, &t2, err, sizeof(err)), VG_EINVAL);
    CHECK(t2 == NULL);
    rig_close(&r);
}

/* ---------------------------------------------------------------- big file */

/* Line i of the big file: its length, and its bytes from a cheap generator. */
static size_t big_len(int i)
{
    if (i % 97 == 5) {
        return 100000 + (size_t)(i * 7919) % 200000; /* long: cut into 64 KiB pieces */
    }
    if (i == 10 || i == 11) {
        return i == 10 ? 65536 : 65537; /* the limit, and one past it */
    }
    return 40 + (size_t)(i * 31) % 260;
}

static void big_line(int i, char *buf, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        buf[k] = (char)('a' + (i + k * 7) % 26);
    }
}

VG_TEST(ten_megabytes_with_long_lines)
{
    struct rig r;
    OPEN_OR_FAIL(&r, 0, 0);
    char p[256];
    logpath(&r, "big.log", p, sizeof(p));
    FILE *f = fopen(p, "w");
    char *buf = malloc(400000), *exp = malloc(400000);
    int nlines = 0;
    size_t total = 0, pieces = 0, longs = 0;
    while (total < (10u << 20)) {
        size_t len = big_len(nlines);
        big_line(nlines, buf, len);
        buf[len] = '\n';
        CHECK(fwrite(buf, 1, len + 1, f) == len + 1);
        total += len + 1;
        pieces += len / 65536 + (len % 65536 != 0);
        longs += len > 65536;
        nlines++;
    }
    fclose(f);
    CHECK(tail_open(&r, "big.log", NULL));
    struct vg_journal_reader *rd = vg_journal_reader_open(r.j, 0);
    struct vg_rec rec;
    uint64_t seq;
    size_t bad = 0, got = 0;
    for (int i = 0; i < nlines; i++) {
        size_t len = big_len(i);
        big_line(i, exp, len);
        for (size_t at = 0; at < len; at += 65536) {
            size_t want = VG_MIN(len - at, 65536);
            if (vg_journal_next(rd, &rec, &seq, WAIT_MS) != VG_OK) {
                i = nlines;
                break;
            }
            got++;
            bad += rec.len != want || memcmp(rec.data, exp + at, want) != 0;
        }
    }
    vg_journal_reader_close(rd);
    CHECK_EQ_INT(got, pieces);
    CHECK_EQ_INT(bad, 0);
    WAIT_UNTIL(stats(&r).bytes == total, WAIT_MS);
    struct vg_tail_stats st = stats(&r);
    CHECK_EQ_INT(st.lines, pieces);
    CHECK_EQ_INT(st.bytes, total);
    CHECK_EQ_INT(st.long_lines, longs);
    uint64_t t0 = vg_clock_ns();
    vg_tail_stop(r.t);
    CHECK((vg_clock_ns() - t0) / 1000000 < 100); /* stop is prompt */
    free(buf);
    free(exp);
    rig_close(&r);
}
