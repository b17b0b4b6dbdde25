/*
 * agent_fim_db.c — the FIM baseline: one SQLite file (state_dir/fim.db) with a row per path.
 *
 * A WITHOUT ROWID table keyed by path keeps a subtree contiguous, so "everything under
 * /usr/lib" is a range scan. Writes happen in large transactions (a scan stores all its
 * changes in one), with WAL and synchronous=NORMAL: a crash may lose the last transaction,
 * which the next scan redoes. One connection is used by one thread at a time.
 */
#include "agent/agent_fim_int.h"

#include <sqlite3.h>
#include <string.h>

struct vg_fim_db {
    sqlite3 *db;
    sqlite3_stmt *get, *put, *del;
};

static const char SCHEMA[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-4096;"
    "PRAGMA busy_timeout=10000;"
    "CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, mode INTEGER, uid INTEGER,"
    " gid INTEGER, size INTEGER, inode INTEGER, dev INTEGER, mtime INTEGER, ctime INTEGER,"
    " sha256 BLOB, link TEXT) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);";

#define COLS "path, mode, uid, gid, size, inode, dev, mtime, ctime, sha256, link"

static int db_fail(sqlite3 *db, const char *what, char *err, size_t errsz)
{
    snprintf(err, errsz, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    return VG_EIO;
}

int vg_fim_db_open(const char *path, bool create, struct vg_fim_db **out, char *err, size_t errsz)
{
    struct vg_fim_db *d = vg_calloc(1, sizeof(*d));
    if (!d) {
        return VG_ENOMEM;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &d->db, flags, NULL);
    if (rc != SQLITE_OK) {
        int st = rc == SQLITE_CANTOPEN && !create ? VG_ENOENT : VG_EIO;
        db_fail(d->db, path, err, errsz);
        vg_fim_db_close(d);
        return st;
    }
    if (sqlite3_exec(d->db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, "SELECT " COLS " FROM files WHERE path = ?1", -1, &d->get,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db,
                           "INSERT OR REPLACE INTO files(" COLS ") VALUES (?1, ?2, ?3,"
                           " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                           -1, &d->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, "DELETE FROM files WHERE path = ?1", -1, &d->del, NULL) !=
            SQLITE_OK) {
        db_fail(d->db, path, err, errsz);
        vg_fim_db_close(d);
        return VG_EIO;
    }
    *out = d;
    return VG_OK;
}

void vg_fim_db_close(struct vg_fim_db *db)
{
    if (!db) {
        return;
    }
    sqlite3_finalize(db->get);
    sqlite3_finalize(db->put);
    sqlite3_finalize(db->del);
    sqlite3_close(db->db);
    vg_free(db);
}

const char *vg_fim_db_errmsg(struct vg_fim_db *db)
{
    return sqlite3_errmsg(db->db);
}

bool vg_fim_db_has_baseline(struct vg_fim_db *db)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(db->db, "SELECT 1 FROM meta WHERE key = 'baseline'", -1, &st, NULL) ==
        SQLITE_OK) {
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return yes;
}

int vg_fim_db_mark_baseline(struct vg_fim_db *db)
{
    char sql[128];
    snprintf(sql, sizeof(sql),
             "INSERT OR REPLACE INTO meta(key, value) VALUES ('baseline', '%lld')",
             (long long)(vg_time_now() / 1000000000));
    return sqlite3_exec(db->db, sql, NULL, NULL, NULL) == SQLITE_OK ? VG_OK : VG_EIO;
}

int vg_fim_db_begin(struct vg_fim_db *db)
{
    return sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? VG_OK : VG_EIO;
}

int vg_fim_db_commit(struct vg_fim_db *db)
{
    return sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? VG_OK : VG_EIO;
}

int vg_fim_db_clear(struct vg_fim_db *db)
{
    return sqlite3_exec(db->db, "DELETE FROM files", NULL, NULL, NULL) == SQLITE_OK ? VG_OK
                                                                                    : VG_EIO;
}

/* Read the current row of st into r; strings point into the statement (valid until the next
   step). */
static void row_read(sqlite3_stmt *st, struct vg_fim_rec *r)
{
    memset(r, 0, sizeof(*r));
    r->path = (const char *)sqlite3_column_text(st, 0);
    r->mode = (uint32_t)sqlite3_column_int64(st, 1);
    r->uid = (uint32_t)sqlite3_column_int64(st, 2);
    r->gid = (uint32_t)sqlite3_column_int64(st, 3);
    r->size = (uint64_t)sqlite3_column_int64(st, 4);
    r->inode = (uint64_t)sqlite3_column_int64(st, 5);
    r->dev = (uint64_t)sqlite3_column_int64(st, 6);
    r->mtime_ns = sqlite3_column_int64(st, 7);
    r->ctime_ns = sqlite3_column_int64(st, 8);
    if (sqlite3_column_bytes(st, 9) == 32) {
        memcpy(r->sha256, sqlite3_column_blob(st, 9), 32);
        r->has_hash = true;
    }
    r->link = (const char *)sqlite3_column_text(st, 10);
}

int vg_fim_db_get(struct vg_fim_db *db, const char *path, struct vg_fim_rec *r, struct vg_sbuf *buf)
{
    int rc = VG_ENOENT;
    sqlite3_bind_text(db->get, 1, path, -1, SQLITE_STATIC);
    int s = sqlite3_step(db->get);
    if (s == SQLITE_ROW) {
        row_read(db->get, r);
        /* copy the strings out: path, NUL, link, NUL */
        vg_sbuf_reset(buf);
        vg_sbuf_add(buf, r->path, strlen(r->path) + 1);
        size_t link_off = buf->len;
        if (r->link) {
            vg_sbuf_add(buf, r->link, strlen(r->link) + 1);
        }
        rc = buf->err ? VG_ENOMEM : VG_OK;
        if (rc == VG_OK) {
            r->link = r->link ? buf->p + link_off : NULL;
            r->path = buf->p;
        }
    } else if (s != SQLITE_DONE) {
        rc = VG_EIO;
    }
    sqlite3_reset(db->get);
    sqlite3_clear_bindings(db->get);
    return rc;
}

int vg_fim_db_put(struct vg_fim_db *db, const struct vg_fim_rec *r)
{
    sqlite3_stmt *st = db->put;
    sqlite3_bind_text(st, 1, r->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, r->mode);
    sqlite3_bind_int64(st, 3, r->uid);
    sqlite3_bind_int64(st, 4, r->gid);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)r->size);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)r->inode);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)r->dev);
    sqlite3_bind_int64(st, 8, r->mtime_ns);
    sqlite3_bind_int64(st, 9, r->ctime_ns);
    if (r->has_hash) {
        sqlite3_bind_blob(st, 10, r->sha256, 32, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 10);
    }
    if (r->link) {
        sqlite3_bind_text(st, 11, r->link, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 11);
    }
    int rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : VG_EIO;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int vg_fim_db_del(struct vg_fim_db *db, const char *path)
{
    sqlite3_bind_text(db->del, 1, path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(db->del) == SQLITE_DONE ? VG_OK : VG_EIO;
    sqlite3_reset(db->del);
    sqlite3_clear_bindings(db->del);
    return rc;
}

int vg_fim_db_each_under(struct vg_fim_db *db, const char *root, vg_fim_db_each_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    char *lo = NULL, *hi = NULL;
    int rc = VG_OK;
    size_t n = strlen(root);
    if (n == 0) {
        rc = sqlite3_prepare_v2(db->db, "SELECT " COLS " FROM files", -1, &st, NULL);
    } else {
        /* [root/, root0) holds exactly the paths below root: '0' follows '/' in bytes */
        bool slash = root[n - 1] == '/';
        lo = vg_malloc(n + 2);
        hi = vg_malloc(n + 2);
        if (!lo || !hi) {
            rc = VG_ENOMEM;
            goto out;
        }
        snprintf(lo, n + 2, "%s%s", root, slash ? "" : "/");
        memcpy(hi, lo, strlen(lo) + 1);
        hi[strlen(hi) - 1] = '0';
        rc = sqlite3_prepare_v2(db->db,
                                "SELECT " COLS " FROM files WHERE path = ?1 OR (path >= ?2 AND"
                                " path < ?3)",
                                -1, &st, NULL);
        sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, hi, -1, SQLITE_STATIC);
    }
    if (rc != SQLITE_OK) {
        rc = VG_EIO;
        goto out;
    }
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_fim_rec r;
        row_read(st, &r);
        if ((rc = fn(ctx, &r)) != VG_OK) {
            goto out;
        }
    }
    rc = s == SQLITE_DONE ? VG_OK : VG_EIO;
out:
    sqlite3_finalize(st);
    vg_free(lo);
    vg_free(hi);
    return rc;
}
