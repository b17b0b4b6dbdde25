/*
 * test_audit.c — the hash-chained audit log: concurrent appends form one gap-free chain,
 * and an edit, a deletion in the middle or of the newest records is detected.
 */
#include "audit/audit.h"
#include "vgtest.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 8
#define PER     500

static void tmpdir(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/vg_audit_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void rmdir_all(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void *appender(void *arg)
{
    struct vg_audit *a = arg;
    for (int i = 0; i < PER; i++) {
        char obj[32], err[256];
        snprintf(obj, sizeof(obj), "case:%d", i);
        struct vg_audit_rec r = {.actor = "user:alice",
                                 .action = "case.update",
                                 .object = obj,
                                 .detail = "{\"status\":\"in_progress\"}"};
        if (vg_audit_append(a, &r, NULL, err, sizeof(err)) != VG_OK) {
            return (void *)1;
        }
    }
    return NULL;
}

static void sql(const char *path, const char *stmt)
{
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, stmt, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

/* A log of THREADS * PER records written concurrently, closed. */
static void fill(const char *path)
{
    struct vg_audit *a = NULL;
    char err[256];
    CHECK_EQ_INT(vg_audit_open(path, &a, err, sizeof(err)), VG_OK);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        pthread_create(&th[i], NULL, appender, a);
    }
    for (int i = 0; i < THREADS; i++) {
        void *rv = NULL;
        pthread_join(th[i], &rv);
        CHECK(rv == NULL);
    }
    vg_audit_close(a);
}

VG_TEST(concurrent_appends_chain_and_verify)
{
    char dir[64], path[128], err[256];
    tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/audit.db", dir);
    fill(path);
    struct vg_audit_report rep;
    CHECK_EQ_INT(vg_audit_verify(path, &rep, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(rep.records, THREADS * PER);
    CHECK_EQ_INT(rep.bad_seq, 0);

    /* reopening continues the chain */
    struct vg_audit *a = NULL;
    int64_t seq = 0;
    CHECK_EQ_INT(vg_audit_open(path, &a, err, sizeof(err)), VG_OK);
    struct vg_audit_rec r = {.action = "run.approve", .object = "run:1"};
    CHECK_EQ_INT(vg_audit_append(a, &r, &seq, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(seq, THREADS * PER + 1);
    vg_audit_close(a);
    CHECK_EQ_INT(vg_audit_verify(path, &rep, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(rep.records, THREADS * PER + 1);
    rmdir_all(dir);
}

VG_TEST(tampering_is_detected)
{
    char dir[64], path[128], err[256];
    struct vg_audit_report rep;
    tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/audit.db", dir);
    fill(path);

    /* an edited detail */
    sql(path, "UPDATE audit SET detail = '{\"status\":\"closed\"}' WHERE seq = 1234");
    CHECK_EQ_INT(vg_audit_verify(path, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(rep.bad_seq, 1234);
    CHECK(strstr(rep.reason, "modified") != NULL);
    rmdir_all(dir);

    /* a deleted middle record */
    tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/audit.db", dir);
    fill(path);
    sql(path, "DELETE FROM audit WHERE seq = 77");
    CHECK_EQ_INT(vg_audit_verify(path, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(rep.bad_seq, 77);

    /* renumbering after the deletion breaks the chain of hashes instead */
    sql(path, "UPDATE audit SET seq = seq - 1 WHERE seq > 77");
    CHECK_EQ_INT(vg_audit_verify(path, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(rep.bad_seq, 77);
    rmdir_all(dir);

    /* the newest records deleted: the chain is valid but shorter than the head says */
    tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/audit.db", dir);
    fill(path);
    sql(path, "DELETE FROM audit WHERE seq > 3990");
    CHECK_EQ_INT(vg_audit_verify(path, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(rep.bad_seq, 3991);
    CHECK(strstr(rep.reason, "missing") != NULL);
    rmdir_all(dir);
}

struct collected {
    int n;
    int64_t seqs[4];
};

static int collect(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *rec,
                   const char *hash)
{
    struct collected *got = ctx;
    (void)ts;
    if (got->n < 4 && strcmp(rec->actor, "user:bob") == 0 && strlen(hash) == 64) {
        got->seqs[got->n++] = seq;
    }
    return VG_OK;
}

VG_TEST(null_log_is_a_noop_and_query_reads_newest_first)
{
    char dir[64], path[128], err[256];
    struct vg_audit_rec r = {.action = "x"};
    CHECK_EQ_INT(vg_audit_append(NULL, &r, NULL, err, sizeof(err)), VG_OK);
    tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/audit.db", dir);
    struct vg_audit *a = NULL;
    CHECK_EQ_INT(vg_audit_open(path, &a, err, sizeof(err)), VG_OK);
    const char *objs[] = {"case:1", "case:2", "case:1"};
    for (size_t i = 0; i < 3; i++) {
        struct vg_audit_rec w = {
            .tenant = "acme", .actor = "user:bob", .action = "case.comment", .object = objs[i]};
        CHECK_EQ_INT(vg_audit_append(a, &w, NULL, err, sizeof(err)), VG_OK);
    }
    struct collected got = {0};
    struct vg_audit_query q = {
        .tenant = "acme", .object = "case:1", .on_rec = collect, .ctx = &got};
    CHECK_EQ_INT(vg_audit_query(a, &q, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(got.n, 2);
    CHECK_EQ_INT(got.seqs[0], 3);
    CHECK_EQ_INT(got.seqs[1], 1);
    vg_audit_close(a);
    rmdir_all(dir);
}
