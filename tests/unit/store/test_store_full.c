/*
 * test_store_full.c — a full disk, for real: the test mounts a 3 MiB tmpfs under /tmp,
 * appends until the store reports VG_ENOSPC, checks that the failed batch left nothing
 * behind and the files are intact, grows the tmpfs and checks that the same batch then goes
 * in (once). The test body runs in a child process so the parent always unmounts, whatever
 * happens to the child. Skipped (with the reason) when not root or mounting is refused.
 */
#include "store/store_int.h"
#include "store_testlib.h"
#include "vgtest.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/wait.h>

#define BATCH 400

static void batch_make(struct vg_event **evs, struct vg_store_item *it, char (*keys)[16], int b)
{
    vg_time_t t0 = vg_time_now();
    for (int i = 0; i < BATCH; i++) {
        char raw[200], num[16];
        snprintf(num, sizeof(num), "%d", b * BATCH + i);
        snprintf(keys[i], 16, "%d", b * BATCH + i);
        snprintf(raw, sizeof(raw),
                 "sshd[%d]: Failed password for invalid user u%d from 198.51.100.%d port %d ssh2 "
                 "session %08x%08x",
                 1000 + i, b * 7 + i % 13, i % 250, 1024 + b * BATCH + i,
                 (unsigned)(b * 2654435761u), (unsigned)(i * 40503u));
        const char *kv[] = {"n", num, NULL};
        evs[i] = tl_event(t0 + i, raw, kv);
        it[i] = (struct vg_store_item){.key = keys[i]};
    }
}

static int append_batch(struct vg_store *s, int b, char *err, size_t errsz)
{
    struct vg_event *evs[BATCH];
    struct vg_store_item it[BATCH];
    char keys[BATCH][16];
    uint64_t pos = (uint64_t)b + 1;
    batch_make(evs, it, keys, b);
    struct vg_store_append_opts bt = {.items = it, .has_position = true, .position = pos};
    struct vg_store_append_result res;
    int rc = vg_store_append(s, (const struct vg_event *const *)evs, BATCH, &bt, &res, err, errsz);
    CHECK(rc != VG_OK || res.stored == BATCH);
    tl_events_free(evs, BATCH);
    return rc;
}

/* PRAGMA integrity_check and the FTS5 integrity check on every partition. */
static void integrity(const char *data)
{
    char path[4096], err[256];
    DIR *d;
    snprintf(path, sizeof(path), "%s/events", data);
    CHECK((d = opendir(path)) != NULL);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 4 || strcmp(e->d_name + l - 3, ".db")) {
            continue;
        }
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        snprintf(path, sizeof(path), "%s/events/%s", data, e->d_name);
        CHECK_EQ_INT(vg_store_db_open(path, false, false, false, &db, err, sizeof(err)), VG_OK);
        CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
        CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
        CHECK_STR((const char *)sqlite3_column_text(st, 0), "ok");
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    if (d) {
        closedir(d);
    }
}

static void body(const char *mnt)
{
    char data[128], err[512];
    struct vg_store *s = NULL;
    uint64_t pos = 0;
    snprintf(data, sizeof(data), "%s/data", mnt);
    CHECK_EQ_INT(vg_store_open(data, NULL, &s, err, sizeof(err)), VG_OK);
    int b = 0, rc = VG_OK;
    while (s && b < 5000 && (rc = append_batch(s, b, err, sizeof(err))) == VG_OK) {
        b++;
    }
    CHECK_EQ_INT(rc, VG_ENOSPC);
    CHECK(strstr(err, "disk full") != NULL);
    fprintf(stderr, "  disk full after %d batches of %d: %s\n", b, BATCH, err);
    CHECK(b > 0);
    /* nothing of the failed batch: exactly b batches, position b */
    CHECK_EQ_INT(tl_scan(s, NULL, "n", NULL, 0), (size_t)b * BATCH);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, b);
    integrity(data);
    /* space comes back: the same batch goes in, once, on the same open store */
    CHECK(mount(NULL, mnt, NULL, MS_REMOUNT, "size=64m") == 0);
    CHECK_EQ_INT(append_batch(s, b, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(append_batch(s, b + 1, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(tl_scan(s, NULL, "n", NULL, 0), (size_t)(b + 2) * BATCH);
    vg_store_close(s);
    integrity(data);
    CHECK_EQ_INT(vg_store_open(data, NULL, &s, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, b + 2);
    CHECK_EQ_INT(tl_scan(s, NULL, "n", NULL, 0), (size_t)(b + 2) * BATCH);
    vg_store_close(s);
}

VG_TEST(store_full_disk_enospc_then_recovers)
{
    char mnt[64];
    if (geteuid() != 0) {
        VG_SKIP("needs root to mount a small tmpfs");
    }
    CHECK(tl_tmpdir(mnt, sizeof(mnt), "enospc") != NULL);
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=3m,mode=0700") != 0) {
        char why[128];
        snprintf(why, sizeof(why), "mounting a tmpfs was refused: %s", strerror(errno));
        rmdir(mnt);
        VG_SKIP(why);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        body(mnt);
        _exit(vgt_failed_checks ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (umount2(mnt, MNT_DETACH) != 0) {
        fprintf(stderr, "  umount %s: %s\n", mnt, strerror(errno));
    }
    rmdir(mnt);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
