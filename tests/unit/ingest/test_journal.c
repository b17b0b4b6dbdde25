/*
 * test_journal.c — the ingest journal: order and content across segments, reopening after a
 * torn write, release and deletion, back-pressure, readers following writers, a process
 * killed mid-append.
 */
#include "ingest/ingest.h"
#include "vgtest.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmpdir(void)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "/tmp/vg-journal-XXXXXX");
    return mkdtemp(buf);
}

static void rmrf(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", dir);
    }
}

static void make_rec(struct vg_rec *r, char *buf, size_t size, uint64_t i)
{
    int n = snprintf(buf, size, "record %llu %s", (unsigned long long)i,
                     (i % 7) ? "short" : "a somewhat longer record body to vary the sizes");
    r->data = buf;
    r->len = (uint32_t)n;
    r->input = (uint32_t)(i % 3);
    r->recv_ts = (vg_time_t)i;
    r->meta = "peer=127.0.0.1:9\x1fkey=k";
    r->meta_len = 22;
}

static uint64_t read_all(struct vg_journal *j, uint64_t from, uint64_t expect_first, int *bad)
{
    struct vg_journal_reader *r = vg_journal_reader_open(j, from);
    struct vg_rec rec;
    uint64_t seq, n = 0, want = expect_first;
    while (vg_journal_next(r, &rec, &seq, 0) == VG_OK) {
        char buf[128];
        struct vg_rec ref;
        make_rec(&ref, buf, sizeof(buf), seq);
        if (seq != want || rec.len != ref.len || memcmp(rec.data, ref.data, rec.len) != 0 ||
            rec.input != ref.input) {
            (*bad)++;
        }
        size_t kl;
        const char *k = vg_rec_meta(&rec, "key", &kl);
        if (!k || kl != 1 || *k != 'k') {
            (*bad)++;
        }
        want++;
        n++;
    }
    vg_journal_reader_close(r);
    return n;
}

VG_TEST(append_read_reopen_release)
{
    char *dir = tmpdir();
    struct vg_journal_opts o = {.segment_bytes = 4096, .sync = false};
    struct vg_journal *j;
    char err[256];
    CHECK(vg_journal_open(dir, &o, &j, err, sizeof(err)) == VG_OK);
    for (uint64_t i = 1; i <= 1000;) {
        struct vg_rec recs[10];
        char bufs[10][128];
        for (int k = 0; k < 10; k++, i++) {
            make_rec(&recs[k], bufs[k], sizeof(bufs[k]), i);
        }
        uint64_t last;
        CHECK(vg_journal_append(j, recs, 10, VG_JOURNAL_WAIT, &last) == VG_OK);
        CHECK_EQ_INT(last, i - 1);
    }
    CHECK(vg_journal_sync(j, 1000) == VG_OK);
    CHECK_EQ_INT(vg_journal_durable_seq(j), 1000);
    int bad = 0;
    CHECK_EQ_INT(read_all(j, 0, 1, &bad), 1000);
    CHECK_EQ_INT(read_all(j, 500, 501, &bad), 500);
    CHECK_EQ_INT(bad, 0);
    vg_journal_close(j);
    /* reopen: same records, next sequence continues */
    CHECK(vg_journal_open(dir, &o, &j, err, sizeof(err)) == VG_OK);
    CHECK_EQ_INT(vg_journal_next_seq(j), 1001);
    CHECK_EQ_INT(read_all(j, 0, 1, &bad), 1000);
    /* release: old segments go, reading resumes from what remains */
    vg_journal_release(j, 900);
    int files = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        files += e->d_name[0] != '.';
    }
    closedir(d);
    CHECK(files < 10);
    CHECK_EQ_INT(read_all(j, 900, 901, &bad), 100);
    CHECK_EQ_INT(bad, 0);
    vg_journal_close(j);
    rmrf(dir);
}

VG_TEST(torn_tail_is_cut)
{
    char *dir = tmpdir();
    struct vg_journal_opts o = {.sync = false};
    struct vg_journal *j;
    char err[256];
    CHECK(vg_journal_open(dir, &o, &j, err, sizeof(err)) == VG_OK);
    for (uint64_t i = 1; i <= 50; i++) {
        struct vg_rec r;
        char buf[128];
        uint64_t last;
        make_rec(&r, buf, sizeof(buf), i);
        CHECK(vg_journal_append(j, &r, 1, VG_JOURNAL_WAIT, &last) == VG_OK);
    }
    vg_journal_close(j);
    /* simulate a crash in the middle of the last record: cut 5 bytes, append garbage */
    char path[512];
    snprintf(path, sizeof(path), "%s/00000000000000000001.vjl", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK(truncate(path, st.st_size - 5) == 0);
    FILE *f = fopen(path, "ab");
    fputs("garbage", f);
    fclose(f);
    CHECK(vg_journal_open(dir, &o, &j, err, sizeof(err)) == VG_OK);
    CHECK_EQ_INT(vg_journal_next_seq(j), 50); /* record 50 was torn */
    struct vg_journal_stats s;
    vg_journal_stats(j, &s);
    CHECK(s.recovered_tail > 0);
    int bad = 0;
    CHECK_EQ_INT(read_all(j, 0, 1, &bad), 49);
    CHECK_EQ_INT(bad, 0);
    struct vg_rec r;
    char buf[128];
    uint64_t last;
    make_rec(&r, buf, sizeof(buf), 50);
    CHECK(vg_journal_append(j, &r, 1, VG_JOURNAL_WAIT, &last) == VG_OK && last == 50);
    CHECK_EQ_INT(read_all(j, 0, 1, &bad), 50);
    CHECK_EQ_INT(bad, 0);
    vg_journal_close(j);
    rmrf(dir);
}

VG_TEST(back_pressure)
{
    char *dir = tmpdir();
    struct vg_journal_opts o = {.max_lag_bytes = 2000, .sync = false};
    struct vg_journal *j;
    char err[256];
    CHECK(vg_journal_open(dir, &o, &j, err, sizeof(err)) == VG_OK);
    uint64_t last = 0;
    int rc = VG_OK, n = 0;
    while (rc == VG_OK && n < 1000) {
        struct vg_rec r;
        char buf[128];
        make_rec(&r, buf, sizeof(buf), (uint64_t)n + 1);
        rc = vg_journal_append(j, &r, 1, VG_JOURNAL_NOWAIT, &last);
        n += rc == VG_OK;
    }
    CHECK_EQ_INT(rc, VG_AGAIN);
    CHECK(n > 5 && n < 100);
    vg_journal_release(j, last);
    struct vg_rec r;
    char buf[128];
    make_rec(&r, buf, sizeof(buf), last + 1);
    CHECK(vg_journal_append(j, &r, 1, VG_JOURNAL_NOWAIT, &last) == VG_OK);
    vg_journal_close(j);
    rmrf(dir);
}

struct follow {
    struct vg_journal *j;
    uint64_t got;
};

static void *follower(void *p)
{
    struct follow *f = p;
    struct vg_journal_reader *r = vg_journal_reader_open(f->j, 0);
    struct vg_rec rec;
    uint64_t seq;
    while (f->got < 20000) {
        int rc = vg_journal_next(r, &rec, &seq, 1000);
        if (rc == VG_OK && seq == f->got + 1) {
            f->got++;
        } else if (rc != VG_AGAIN) {
            break;
        }
    }
    vg_journal_reader_close(r);
    return NULL;
}

VG_TEST(reader_follows_writer)
{
    char *dir = tmpdir();
    struct vg_journal_opts o = {.segment_bytes = 65536, .sync = false};
    struct vg_journal *j;
    char err[256];
    CHECK(vg_journal_open(dir, &o, &j, err, sizeof(err)) == VG_OK);
    struct follow f = {j, 0};
    pthread_t t;
    pthread_create(&t, NULL, follower, &f);
    for (uint64_t i = 1; i <= 20000; i++) {
        struct vg_rec r;
        char buf[128];
        uint64_t last;
        make_rec(&r, buf, sizeof(buf), i);
        vg_journal_append(j, &r, 1, VG_JOURNAL_WAIT, &last);
    }
    pthread_join(t, NULL);
    CHECK_EQ_INT(f.got, 20000);
    vg_journal_close(j);
    rmrf(dir);
}

VG_TEST(killed_mid_append_keeps_every_synced_record)
{
    char *dir = tmpdir();
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct vg_journal_opts o = {.segment_bytes = 1 << 20, .sync = true};
        struct vg_journal *j;
        char err[256];
        if (vg_journal_open(dir, &o, &j, err, sizeof(err)) != VG_OK) {
            _exit(1);
        }
        for (uint64_t i = 1;; i += 100) {
            struct vg_rec recs[100];
            char bufs[100][128];
            for (int k = 0; k < 100; k++) {
                make_rec(&recs[k], bufs[k], sizeof(bufs[k]), i + (uint64_t)k);
            }
            uint64_t last;
            vg_journal_append(j, recs, 100, VG_JOURNAL_WAIT, &last);
            vg_journal_sync(j, last);
            if (write(pipefd[1], &last, sizeof(last)) != sizeof(last)) {
                _exit(1);
            }
        }
    }
    close(pipefd[1]);
    uint64_t acked = 0, v;
    while (acked < 30000 && read(pipefd[0], &v, sizeof(v)) == sizeof(v)) {
        acked = v;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (read(pipefd[0], &v, sizeof(v)) == sizeof(v)) {
        acked = v; /* acks sent before the kill */
    }
    close(pipefd[0]);
    struct vg_journal_opts o = {.sync = false};
    struct vg_journal *j;
    char err[256];
    CHECK(vg_journal_open(dir, &o, &j, err, sizeof(err)) == VG_OK);
    int bad = 0;
    uint64_t n = read_all(j, 0, 1, &bad);
    CHECK(n >= acked);
    CHECK_EQ_INT(bad, 0);
    vg_journal_close(j);
    rmrf(dir);
}
