/*
 * store_open.c — opening and closing a store directory: the writer lock, main.db and its
 * schema, and recovery of the source position after a crash.
 *
 * Recovery: a batch normally lands in one day partition and commits atomically there,
 * with its position. A batch whose events span several days commits one part per
 * partition; every part records (seq, part, nparts, position before, position after). On
 * open the newest batch (highest seq) is complete if all its parts are present; otherwise
 * its committed parts are removed and the position is the one before it, so a server that
 * resumes from vg_store_position() stores every event of that batch exactly once.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char main_schema[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(k, v) VALUES('format', 1);"
    "CREATE TABLE IF NOT EXISTS position(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL, pos INTEGER, pos_ok INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS state(k TEXT PRIMARY KEY, v BLOB, updated INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS alerts(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
    " created INTEGER NOT NULL, tenant TEXT NOT NULL, rule_id TEXT, title TEXT,"
    " level INTEGER NOT NULL, tags TEXT, attack TEXT, host TEXT, user TEXT, src_ip TEXT,"
    " dst_ip TEXT, process TEXT, event TEXT);"
    "CREATE INDEX IF NOT EXISTS alerts_ts ON alerts(tenant, ts);"
    "CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule_id, ts);"
    "CREATE INDEX IF NOT EXISTS alerts_level ON alerts(level, ts);"
    "COMMIT;";

/* ---------------------------------------------------------------- field lists */

void vg_store_fields_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vg_free(v[i]);
    }
    vg_free(v);
}

int vg_store_fields_split(const char *list, char ***out, size_t *n)
{
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    const char *p = list ? list : "";
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (len && *q == ' ') {
            q++;
            len--;
        }
        while (len && q[len - 1] == ' ') {
            len--;
        }
        if (len) {
            if (vg_grow(&v, &cap, cnt + 1, sizeof(*v)) != VG_OK || !(v[cnt] = vg_strndup(q, len))) {
                vg_store_fields_free(v, cnt);
                return VG_ENOMEM;
            }
            cnt++;
        }
        p = e ? e + 1 : p + strlen(p);
    }
    *out = v;
    *n = cnt;
    return VG_OK;
}

/* ---------------------------------------------------------------- main.db */

static int main_path(const struct vg_store *s, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/main.db", s->dir);
    return n > 0 && (size_t)n < size ? VG_OK : VG_ELIMIT;
}

/* A connection to main.db: the writer's, or a fresh read connection (caller closes). */
int vg_store_main_read(struct vg_store *s, sqlite3 **db, char *err, size_t errsz)
{
    char path[4096];
    if (main_path(s, path, sizeof(path)) != VG_OK) {
        return VG_ELIMIT;
    }
    return vg_store_db_open(path, false, false, false, db, err, errsz);
}

/* The position mirror kept in main.db (written before partitions are dropped). */
static int mirror_read(sqlite3 *db, struct vg_store_batch_row *r)
{
    sqlite3_stmt *st = NULL;
    memset(r, 0, sizeof(*r));
    if (sqlite3_prepare_v2(db, "SELECT seq, pos, pos_ok FROM position WHERE id = 1", -1, &st,
                           NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return VG_ENOENT;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->present = true;
        r->seq = (uint64_t)sqlite3_column_int64(st, 0);
        r->pos_after = (uint64_t)sqlite3_column_int64(st, 1);
        r->pos_after_ok = sqlite3_column_int(st, 2) != 0;
    }
    sqlite3_finalize(st);
    return VG_OK;
}

int vg_store_mirror_write(struct vg_store *s, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->main, "INSERT OR REPLACE INTO position(id, seq, pos, pos_ok) VALUES(1, ?, ?, ?)", -1,
        &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)s->seq);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)s->pos);
        sqlite3_bind_int(st, 3, s->pos_ok);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? VG_OK : vg_store_fail(s->main, rc, "position", err, errsz);
}

/* ---------------------------------------------------------------- recovery */

struct day_row {
    int64_t day;
    struct vg_store_batch_row row;
};

/* Read the batch row of every partition. */
static int rows_read(struct vg_store *s, struct day_row **out, size_t *n, char *err, size_t errsz)
{
    int64_t *days = NULL;
    size_t nd = 0;
    int rc = vg_store_days_list(s, &days, &nd);
    struct day_row *rows = rc == VG_OK && nd ? vg_calloc(nd, sizeof(*rows)) : NULL;
    if (rc == VG_OK && nd && !rows) {
        rc = VG_ENOMEM;
    }
    for (size_t i = 0; rc == VG_OK && i < nd; i++) {
        sqlite3 *db = NULL;
        rows[i].day = days[i];
        int orc = vg_store_part_open_read(s, days[i], &db, err, errsz);
        if (orc == VG_OK) {
            vg_store_batch_row_read(db, &rows[i].row);
        } else if (orc != VG_ENOENT) {
            rc = orc;
        }
        sqlite3_close(db);
    }
    vg_free(days);
    if (rc != VG_OK) {
        vg_free(rows);
        return rc;
    }
    *out = rows;
    *n = nd;
    return VG_OK;
}

struct recovered {
    uint64_t seq;
    uint64_t pos;
    bool pos_ok;
    uint64_t undo_seq; /* newest batch is incomplete: remove its parts */
};

/* Work out the last complete batch from the partition rows and the mirror. */
static void recover_decide(const struct day_row *rows, size_t n, const struct vg_store_batch_row *m,
                           struct recovered *out)
{
    uint64_t top = 0;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        if (rows[i].row.present) {
            top = VG_MAX(top, rows[i].row.seq);
        }
    }
    if (m->present && m->seq >= top) {
        out->seq = m->seq;
        out->pos = m->pos_after;
        out->pos_ok = m->pos_after_ok;
        return;
    }
    uint32_t count = 0, nparts = 0;
    bool undone = false;
    const struct vg_store_batch_row *any = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct vg_store_batch_row *r = &rows[i].row;
        if (!r->present || r->seq != top) {
            continue;
        }
        any = r;
        count++;
        undone |= r->nparts == 0;
        nparts = VG_MAX(nparts, r->nparts);
    }
    if (!any) {
        return; /* empty store */
    }
    out->seq = top;
    if (!undone && count >= nparts) {
        out->pos = any->pos_after;
        out->pos_ok = any->pos_after_ok;
        return;
    }
    out->pos = any->pos_before;
    out->pos_ok = any->pos_before_ok;
    out->undo_seq = top;
}

/* Remove the parts of an incomplete batch from every partition that holds one. */
int vg_store_undo_pending(struct vg_store *s, char *err, size_t errsz)
{
    struct day_row *rows = NULL;
    size_t n = 0;
    int rc = rows_read(s, &rows, &n, err, errsz);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        const struct vg_store_batch_row *r = &rows[i].row;
        if (r->present && r->seq == s->undo_seq && r->nparts) {
            struct vg_store_part *p;
            rc = vg_store_part_get(s, rows[i].day, &p, err, errsz);
            rc = rc == VG_OK ? vg_store_part_undo(s, p, s->undo_seq, err, errsz) : rc;
        }
    }
    vg_free(rows);
    if (rc == VG_OK) {
        VG_INFO(VG_STORE_COMP, "removed the incomplete batch %llu",
                (unsigned long long)s->undo_seq);
        s->undo_seq = 0;
    }
    return rc;
}

/* Find the position (and, for the writer, clean up an incomplete batch). */
static int recover(struct vg_store *s, bool fix, struct recovered *out, char *err, size_t errsz)
{
    struct day_row *rows = NULL;
    struct vg_store_batch_row mirror = {0};
    size_t n = 0;
    sqlite3 *mdb = NULL;
    int rc = s->main ? VG_OK : vg_store_main_read(s, &mdb, err, errsz);
    if (rc == VG_OK) {
        mirror_read(s->main ? s->main : mdb, &mirror);
        rc = rows_read(s, &rows, &n, err, errsz);
    }
    sqlite3_close(mdb);
    if (rc != VG_OK) {
        return rc;
    }
    recover_decide(rows, n, &mirror, out);
    vg_free(rows);
    if (fix && out->undo_seq) {
        s->seq = out->seq;
        s->undo_seq = out->undo_seq;
        rc = vg_store_undo_pending(s, err, errsz);
    }
    return rc;
}

/* ---------------------------------------------------------------- open / close */

static int dirs_make(struct vg_store *s, char *err, size_t errsz)
{
    if ((mkdir(s->dir, 0750) != 0 && errno != EEXIST) ||
        (mkdir(s->events_dir, 0750) != 0 && errno != EEXIST)) {
        int e = errno;
        snprintf(err, errsz, "%s: %s", s->dir, strerror(e));
        return e == ENOSPC ? VG_ENOSPC : VG_EIO;
    }
    return VG_OK;
}

static int lock_take(struct vg_store *s, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/LOCK", s->dir);
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (s->lock_fd < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return VG_EIO;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errsz, "%s: another process is writing to this store", s->dir);
        return VG_EEXIST;
    }
    return VG_OK;
}

static int open_writer(struct vg_store *s, char *err, size_t errsz)
{
    char path[4096];
    struct recovered rec;
    int rc = dirs_make(s, err, errsz);
    rc = rc == VG_OK ? lock_take(s, err, errsz) : rc;
    rc = rc == VG_OK ? main_path(s, path, sizeof(path)) : rc;
    rc = rc == VG_OK ? vg_store_db_open(path, true, true, s->opts.sync_full, &s->main, err, errsz)
                     : rc;
    if (rc == VG_OK) {
        rc = vg_store_exec(s->main, main_schema, "main schema", err, errsz);
        if (rc != VG_OK) {
            sqlite3_exec(s->main, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    if (rc == VG_OK && !(s->zc = ZSTD_createCCtx())) {
        rc = VG_ENOMEM;
    }
    rc = rc == VG_OK ? recover(s, true, &rec, err, errsz) : rc;
    if (rc == VG_OK) {
        s->seq = rec.seq;
        s->pos = rec.pos;
        s->pos_ok = rec.pos_ok;
    }
    return rc;
}

static int store_alloc(const char *dir, const struct vg_store_opts *o, struct vg_store **out)
{
    struct vg_store *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return VG_ENOMEM;
    }
    s->lock_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    if (o) {
        s->opts = *o;
    }
    s->opts.zstd_level = s->opts.zstd_level ? s->opts.zstd_level : 3;
    /* positions in the index address events of a block: bounded */
    s->opts.block_events = s->opts.block_events ? s->opts.block_events : 4096;
    s->opts.block_events = VG_MAX(VG_MIN(s->opts.block_events, 65536u), 1u);
    vg_store_docs_init(&s->docs);
    s->index_fields =
        vg_strdup(s->opts.index_fields ? s->opts.index_fields : VG_STORE_INDEX_FIELDS_DEFAULT);
    s->opts.index_fields = s->index_fields;
    s->dir = vg_strdup(dir);
    size_t n = strlen(dir) + sizeof("/events");
    s->events_dir = vg_malloc(n);
    *out = s;
    if (!s->dir || !s->events_dir || !s->index_fields) {
        return VG_ENOMEM;
    }
    snprintf(s->events_dir, n, "%s/events", dir);
    return VG_OK;
}

int vg_store_open(const char *dir, const struct vg_store_opts *o, struct vg_store **out, char *err,
                  size_t errsz)
{
    struct vg_store *s = NULL;
    char path[4096];
    if (err && errsz) {
        err[0] = '\0';
    }
    if (sodium_init() < 0) {
        snprintf(err, errsz, "libsodium failed to initialise");
        return VG_ERROR;
    }
    int rc = store_alloc(dir, o, &s);
    if (rc == VG_OK && s->opts.readonly) {
        main_path(s, path, sizeof(path));
        if (access(path, F_OK) != 0) {
            snprintf(err, errsz, "%s: no Vigie store here (no main.db)", dir);
            rc = VG_ENOENT;
        }
    } else if (rc == VG_OK) {
        rc = open_writer(s, err, errsz);
    }
    if (rc != VG_OK) {
        if (rc == VG_ENOMEM && err && !err[0]) {
            snprintf(err, errsz, "out of memory");
        }
        vg_store_close(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

void vg_store_close(struct vg_store *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->nparts; i++) {
        vg_store_part_close(s->parts[i]);
    }
    sqlite3_close(s->main);
    ZSTD_freeCCtx(s->zc);
    vg_store_block_fini(&s->bb);
    vg_store_docs_fini(&s->docs);
    vg_free(s->zbuf);
    if (s->lock_fd >= 0) {
        close(s->lock_fd); /* releases the flock */
    }
    pthread_mutex_destroy(&s->mu);
    vg_free(s->index_fields);
    vg_free(s->dir);
    vg_free(s->events_dir);
    vg_free(s);
}

int vg_store_position(struct vg_store *s, uint64_t *out)
{
    struct recovered rec;
    int rc = VG_OK;
    if (s->opts.readonly) {
        char err[256];
        rc = recover(s, false, &rec, err, sizeof(err));
    } else {
        pthread_mutex_lock(&s->mu);
        rec.pos = s->pos;
        rec.pos_ok = s->pos_ok;
        pthread_mutex_unlock(&s->mu);
    }
    if (rc != VG_OK) {
        return rc;
    }
    if (!rec.pos_ok) {
        return VG_ENOENT;
    }
    *out = rec.pos;
    return VG_OK;
}
