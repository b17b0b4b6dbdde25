/*
 * store_maint.c — retention and sizes. Retention drops whole day partitions (three file
 * unlinks, no vacuum, no write amplification), oldest first, by age and then by total size;
 * the newest partition always stays, as does main.db. A reader that has a dropped file
 * open keeps reading its snapshot (unlinked files live on until closed).
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const part_suffixes[] = {".db", ".db-wal", ".db-shm"};

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Bytes of every file directly in dir. */
static uint64_t dir_size(const char *dir)
{
    uint64_t total = 0;
    DIR *d = opendir(dir);
    if (!d) {
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            total += (uint64_t)st.st_size;
        }
    }
    closedir(d);
    return total;
}

static uint64_t store_size(const struct vg_store *s)
{
    return dir_size(s->dir) + dir_size(s->events_dir);
}

static uint64_t part_size(const struct vg_store *s, int64_t day)
{
    char name[16], path[4096];
    uint64_t total = 0;
    vg_store_day_name(day, name, sizeof(name));
    for (size_t i = 0; i < VG_ARRAY_LEN(part_suffixes); i++) {
        snprintf(path, sizeof(path), "%s/%s%s", s->events_dir, name, part_suffixes[i]);
        total += file_size(path);
    }
    return total;
}

static int part_drop(struct vg_store *s, int64_t day, struct vg_store_maint_report *r)
{
    char name[16], path[4096];
    vg_store_day_name(day, name, sizeof(name));
    r->dropped_bytes += part_size(s, day);
    vg_store_part_forget(s, day);
    /* the database first: without it, a leftover -wal/-shm is ignored and cleaned next time */
    for (size_t i = 0; i < VG_ARRAY_LEN(part_suffixes); i++) {
        snprintf(path, sizeof(path), "%s/%s%s", s->events_dir, name, part_suffixes[i]);
        if (unlink(path) != 0 && errno != ENOENT) {
            VG_WARN(VG_STORE_COMP, "retention: %s: %s", path, strerror(errno));
            return VG_EIO;
        }
    }
    r->dropped_partitions++;
    VG_INFO(VG_STORE_COMP, "retention: dropped partition %s", name);
    return VG_OK;
}

static int alerts_expire(struct vg_store *s, vg_time_t now, struct vg_store_maint_report *r,
                         char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int64_t keep = (int64_t)s->opts.alert_retention_days * VG_STORE_DAY_NS;
    int rc = sqlite3_prepare_v2(s->main, "DELETE FROM alerts WHERE ts < ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, now - keep);
        rc = sqlite3_step(st);
    }
    int status = rc == SQLITE_DONE ? VG_OK : vg_store_fail(s->main, rc, "alerts", err, errsz);
    r->alerts_deleted = status == VG_OK ? (uint64_t)sqlite3_changes(s->main) : 0;
    sqlite3_finalize(st);
    return status;
}

/* Drop partitions by age, then by size; days[] ascending, the last one is kept. */
static int retention_apply(struct vg_store *s, vg_time_t now, const int64_t *days, size_t n,
                           struct vg_store_maint_report *r)
{
    size_t first = 0;
    int rc = VG_OK;
    if (s->opts.retention_days) {
        vg_time_t cutoff = now - (int64_t)s->opts.retention_days * VG_STORE_DAY_NS;
        while (rc == VG_OK && first + 1 < n && (days[first] + 1) * VG_STORE_DAY_NS <= cutoff) {
            rc = part_drop(s, days[first++], r);
        }
    }
    if (s->opts.max_bytes) {
        uint64_t total = store_size(s);
        while (rc == VG_OK && first + 1 < n && total > s->opts.max_bytes) {
            uint64_t sz = part_size(s, days[first]);
            rc = part_drop(s, days[first++], r);
            total = total > sz ? total - sz : 0;
        }
        if (total > s->opts.max_bytes) {
            VG_WARN(VG_STORE_COMP,
                    "retention: store is %llu bytes, over its bound of %llu, with"
                    " only the newest partition left",
                    (unsigned long long)total, (unsigned long long)s->opts.max_bytes);
        }
    }
    return rc;
}

int vg_store_maintain(struct vg_store *s, vg_time_t now, struct vg_store_maint_report *r, char *err,
                      size_t errsz)
{
    struct vg_store_maint_report local;
    int64_t *days = NULL;
    size_t n = 0;
    r = r ? r : &local;
    memset(r, 0, sizeof(*r));
    if (s->opts.readonly) {
        snprintf(err, errsz, "store opened read-only");
        return VG_EINVAL;
    }
    pthread_mutex_lock(&s->mu);
    /* a batch still to be taken back comes first: the mirror must not vouch for it */
    int rc = s->undo_seq ? vg_store_undo_pending(s, err, errsz) : VG_OK;
    /* the position must outlive the partition that recorded it */
    rc = rc == VG_OK ? vg_store_mirror_write(s, err, errsz) : rc;
    rc = rc == VG_OK ? vg_store_days_list(s, &days, &n) : rc;
    rc = rc == VG_OK ? retention_apply(s, now, days, n, r) : rc;
    for (size_t i = 0; rc == VG_OK && i < s->nparts; i++) {
        if (s->parts[i]->small) {
            rc = vg_store_part_compact(s, s->parts[i], err, errsz);
        }
    }
    if (rc == VG_OK && s->opts.alert_retention_days) {
        rc = alerts_expire(s, now, r, err, errsz);
    }
    if (rc == VG_EIO && err && errsz && !err[0]) {
        snprintf(err, errsz, "retention: could not remove a partition file");
    }
    r->total_bytes = store_size(s);
    pthread_mutex_unlock(&s->mu);
    vg_free(days);
    return rc;
}

/* ---------------------------------------------------------------- stats */

static int part_stats(struct vg_store *s, int64_t day, struct vg_store_stats *st, char *err,
                      size_t errsz)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int rc = vg_store_part_open_read(s, day, &db, err, errsz);
    if (rc != VG_OK) {
        return rc == VG_ENOENT ? VG_OK : rc;
    }
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), total(n), total(raw_bytes), min(t_min), max(t_max)"
                           " FROM blocks",
                           -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        st->partitions++;
        st->blocks += (uint64_t)sqlite3_column_int64(q, 0);
        st->events += (uint64_t)sqlite3_column_double(q, 1);
        st->raw_bytes += (uint64_t)sqlite3_column_double(q, 2);
        if (sqlite3_column_type(q, 3) != SQLITE_NULL) {
            vg_time_t lo = sqlite3_column_int64(q, 3), hi = sqlite3_column_int64(q, 4);
            st->oldest = st->oldest == VG_TIME_NONE ? lo : VG_MIN(st->oldest, lo);
            st->newest = st->newest == VG_TIME_NONE ? hi : VG_MAX(st->newest, hi);
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return VG_OK;
}

int vg_store_stats(struct vg_store *s, struct vg_store_stats *st, char *err, size_t errsz)
{
    int64_t *days = NULL;
    size_t n = 0;
    memset(st, 0, sizeof(*st));
    st->oldest = st->newest = VG_TIME_NONE;
    int rc = vg_store_days_list(s, &days, &n);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        rc = part_stats(s, days[i], st, err, errsz);
    }
    vg_free(days);
    st->disk_bytes = store_size(s);
    return rc;
}
