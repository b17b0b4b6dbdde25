/*
 * store_part.c — SQLite plumbing and the day partitions: opening connections with the
 * store's settings, creating a partition's schema, the writer's cache of open partitions,
 * the per-partition "last batch" row, and undoing a batch that did not complete.
 */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- SQLite helpers */

int vg_store_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return VG_OK;
    case SQLITE_FULL:
        return VG_ENOSPC;
    case SQLITE_NOMEM:
        return VG_ENOMEM;
    case SQLITE_CANTOPEN:
        return VG_ENOENT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return VG_AGAIN;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return VG_EINVAL;
    default:
        return VG_EIO;
    }
}

int vg_store_fail(sqlite3 *db, int rc, const char *what, char *err, size_t errsz)
{
    int st = vg_store_rc(rc);
    /* an I/O error on a full disk surfaces as SQLITE_IOERR_WRITE with errno ENOSPC */
    if (st == VG_EIO && db && sqlite3_system_errno(db) == ENOSPC) {
        st = VG_ENOSPC;
    }
    if (err && errsz) {
        snprintf(err, errsz, "%s: %s%s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc),
                 st == VG_ENOSPC ? " (disk full)" : "");
    }
    return st;
}

int vg_store_exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errsz)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? VG_OK : vg_store_fail(db, rc, what, err, errsz);
}

/* Connection settings: WAL for concurrent readers; NORMAL sync survives process crashes. */
static int db_configure(sqlite3 *db, bool write, bool sync_full, char *err, size_t errsz)
{
    int rc = vg_store_exec(db, "PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY;", "pragma",
                           err, errsz);
    if (rc == VG_OK && write) {
        rc = vg_store_exec(db,
                           sync_full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                       "PRAGMA wal_autocheckpoint=4000; PRAGMA cache_size=-65536;"
                                       "PRAGMA journal_size_limit=67108864;"
                                     : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                       "PRAGMA wal_autocheckpoint=4000; PRAGMA cache_size=-65536;"
                                       "PRAGMA journal_size_limit=67108864;",
                           "wal", err, errsz);
    }
    if (rc == VG_OK && !write) {
        rc = vg_store_exec(db, "PRAGMA query_only=1;", "pragma", err, errsz);
    }
    if (rc == VG_OK && vg_store_tokenizer_register(db) != VG_OK) {
        snprintf(err, errsz, "SQLite without FTS5: cannot register the vigie tokenizer");
        rc = VG_EUNSUPPORTED;
    }
    return rc;
}

int vg_store_db_open(const char *path, bool write, bool create, bool sync_full, sqlite3 **out,
                     char *err, size_t errsz)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK && !write) {
        /* a reader without write access to the directory still reads a WAL database */
        sqlite3_close(db);
        db = NULL;
        rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    }
    if (rc != SQLITE_OK) {
        int st = vg_store_fail(db, rc, path, err, errsz);
        sqlite3_close(db);
        return st;
    }
    sqlite3_extended_result_codes(db, 1);
    int st = db_configure(db, write, sync_full, err, errsz);
    if (st != VG_OK) {
        sqlite3_close(db);
        return st;
    }
    *out = db;
    return VG_OK;
}

/* ---------------------------------------------------------------- days */

int vg_store_time_parse(const char *p, size_t n, vg_time_t *out)
{
    int64_t year;
    if (n < 4 || vg_parse_i64(p, 4, &year) != VG_OK || year < 1678 || year > 2261) {
        return VG_EINVAL;
    }
    return vg_time_parse(p, n, out);
}

int64_t vg_store_day_of(vg_time_t t)
{
    int64_t d = t / VG_STORE_DAY_NS;
    return (t % VG_STORE_DAY_NS < 0) ? d - 1 : d;
}

void vg_store_day_name(int64_t day, char *buf, size_t size)
{
    struct vg_tm tm;
    vg_time_split(day * VG_STORE_DAY_NS, &tm);
    snprintf(buf, size, "%04d-%02d-%02d", tm.year, tm.month, tm.day);
}

bool vg_store_day_parse(const char *name, bool ext, int64_t *day)
{
    char back[16];
    vg_time_t t;
    size_t n = strlen(name);
    if (n != (ext ? 13u : 10u) || (ext && strcmp(name + 10, ".db") != 0) ||
        vg_store_time_parse(name, 10, &t) != VG_OK) {
        return false;
    }
    *day = vg_store_day_of(t);
    vg_store_day_name(*day, back, sizeof(back));
    return memcmp(back, name, 10) == 0; /* rejects 2025-02-31 and friends */
}

static int day_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int vg_store_days_list(const struct vg_store *s, int64_t **days, size_t *n)
{
    int64_t *v = NULL;
    size_t cnt = 0, cap = 0;
    DIR *d = opendir(s->events_dir);
    *days = NULL;
    *n = 0;
    if (!d) {
        return errno == ENOENT ? VG_OK : VG_EIO;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t day;
        if (!vg_store_day_parse(e->d_name, true, &day)) {
            continue;
        }
        if (vg_grow(&v, &cap, cnt + 1, sizeof(*v)) != VG_OK) {
            closedir(d);
            vg_free(v);
            return VG_ENOMEM;
        }
        v[cnt++] = day;
    }
    closedir(d);
    if (cnt) {
        qsort(v, cnt, sizeof(*v), day_cmp);
    }
    *days = v;
    *n = cnt;
    return VG_OK;
}

static void part_path(const struct vg_store *s, int64_t day, char *buf, size_t size)
{
    char name[16];
    vg_store_day_name(day, name, sizeof(name));
    snprintf(buf, size, "%s/%s.db", s->events_dir, name);
}

int vg_store_part_open_read(struct vg_store *s, int64_t day, sqlite3 **db, char *err, size_t errsz)
{
    char path[4096];
    part_path(s, day, path, sizeof(path));
    *db = NULL;
    if (access(path, F_OK) != 0) {
        return VG_ENOENT;
    }
    return vg_store_db_open(path, false, false, false, db, err, errsz);
}

/* ---------------------------------------------------------------- batch rows */

int vg_store_batch_row_read(sqlite3 *db, struct vg_store_batch_row *r)
{
    sqlite3_stmt *st = NULL;
    memset(r, 0, sizeof(*r));
    int rc = sqlite3_prepare_v2(db,
                                "SELECT seq, part, nparts, pos_before, pos_after, pos_flags "
                                "FROM batch WHERE id = 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return VG_ENOENT; /* a partition whose schema is not there yet */
    }
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int flags = sqlite3_column_int(st, 5);
        r->present = true;
        r->seq = (uint64_t)sqlite3_column_int64(st, 0);
        r->part = (uint32_t)sqlite3_column_int(st, 1);
        r->nparts = (uint32_t)sqlite3_column_int(st, 2);
        r->pos_before = (uint64_t)sqlite3_column_int64(st, 3);
        r->pos_after = (uint64_t)sqlite3_column_int64(st, 4);
        r->pos_before_ok = flags & 1;
        r->pos_after_ok = (flags & 2) != 0;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? VG_OK : vg_store_rc(rc);
}

/* ---------------------------------------------------------------- writer partitions */

static const char part_schema[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS blocks(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " tenant TEXT NOT NULL, t_min INTEGER NOT NULL, t_max INTEGER NOT NULL,"
    " n INTEGER NOT NULL, usize INTEGER NOT NULL, raw_bytes INTEGER NOT NULL,"
    " batch INTEGER NOT NULL, indexed INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blockdata(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(f, w, content='', detail=full,"
    " columnsize=0, tokenize='vigie');"
    "CREATE TABLE IF NOT EXISTS dedupe(k BLOB PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS batch(id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER,"
    " part INTEGER, nparts INTEGER, pos_before INTEGER, pos_after INTEGER, pos_flags INTEGER);"
    "INSERT OR IGNORE INTO meta(k, v) VALUES('format', 1);";

/* Record the indexed fields the first time (later opens keep the partition's own list). */
static int part_meta(struct vg_store *s, struct vg_store_part *p, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(p->db, "INSERT OR IGNORE INTO meta(k, v) VALUES('fields', ?)", -1,
                                &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->index_fields, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return vg_store_fail(p->db, rc, "partition meta", err, errsz);
    }
    return VG_OK;
}

static int part_fields_load(struct vg_store_part *p)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    if (sqlite3_prepare_v2(p->db, "SELECT v FROM meta WHERE k = 'fields'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        rc = vg_store_fields_split((const char *)sqlite3_column_text(st, 0), &p->fields,
                                   &p->nfields);
    }
    sqlite3_finalize(st);
    if (rc == VG_OK && p->nfields) {
        p->field_ids = vg_malloc(p->nfields * sizeof(*p->field_ids));
        if (!p->field_ids) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < p->nfields; i++) {
            p->field_ids[i] = vg_field_intern(p->fields[i], strlen(p->fields[i]));
        }
    }
    return rc;
}

/* Unindexed blocks left by an earlier run: compaction will pick them up. */
static void part_unindexed_count(struct vg_store_part *p)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db, "SELECT count(*), total(n) FROM blocks WHERE indexed = 0", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        p->small = (uint32_t)sqlite3_column_int64(st, 0);
        p->small_events = (uint64_t)sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
}

static int part_prepare(struct vg_store_part *p, char *err, size_t errsz)
{
    static const struct {
        size_t off;
        const char *sql;
    } stmts[] = {
        {offsetof(struct vg_store_part, ins_block),
         "INSERT INTO blocks(tenant, t_min, t_max, n, usize, raw_bytes, batch, indexed) "
         "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"},
        {offsetof(struct vg_store_part, ins_data), "INSERT INTO blockdata(id, data) VALUES(?, ?)"},
        {offsetof(struct vg_store_part, ins_fts), "INSERT INTO fts(rowid, f, w) VALUES(?, ?, ?)"},
        {offsetof(struct vg_store_part, ins_dedupe),
         "INSERT OR IGNORE INTO dedupe(k, seq) VALUES(?, ?)"},
        {offsetof(struct vg_store_part, put_batch),
         "INSERT OR REPLACE INTO batch(id, seq, part, nparts, pos_before, pos_after, pos_flags) "
         "VALUES(1, ?, ?, ?, ?, ?, ?)"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(stmts); i++) {
        sqlite3_stmt **slot = (sqlite3_stmt **)((char *)p + stmts[i].off);
        int rc = sqlite3_prepare_v3(p->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK) {
            return vg_store_fail(p->db, rc, "prepare", err, errsz);
        }
    }
    return VG_OK;
}

void vg_store_part_close(struct vg_store_part *p)
{
    if (!p) {
        return;
    }
    sqlite3_finalize(p->ins_block);
    sqlite3_finalize(p->ins_data);
    sqlite3_finalize(p->ins_fts);
    sqlite3_finalize(p->ins_dedupe);
    sqlite3_finalize(p->put_batch);
    sqlite3_close(p->db);
    vg_store_fields_free(p->fields, p->nfields);
    vg_free(p->field_ids);
    vg_free(p);
}

static int part_create(struct vg_store *s, int64_t day, struct vg_store_part **out, char *err,
                       size_t errsz)
{
    char path[4096];
    struct vg_store_part *p = vg_calloc(1, sizeof(*p));
    int rc = p ? VG_OK : VG_ENOMEM;
    part_path(s, day, path, sizeof(path));
    if (rc == VG_OK) {
        p->day = day;
        rc = vg_store_db_open(path, true, true, s->opts.sync_full, &p->db, err, errsz);
    }
    if (rc == VG_OK) {
        rc = vg_store_exec(p->db, part_schema, "partition schema", err, errsz);
        if (rc == VG_OK) {
            rc = part_meta(s, p, err, errsz);
        }
        rc = rc == VG_OK ? vg_store_exec(p->db, "COMMIT", "partition schema", err, errsz) : rc;
        if (rc != VG_OK) {
            sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    rc = rc == VG_OK ? part_fields_load(p) : rc;
    rc = rc == VG_OK ? part_prepare(p, err, errsz) : rc;
    if (rc == VG_OK) {
        part_unindexed_count(p);
    }
    if (rc != VG_OK) {
        vg_store_part_close(p);
        return rc;
    }
    *out = p;
    return VG_OK;
}

int vg_store_part_get(struct vg_store *s, int64_t day, struct vg_store_part **out, char *err,
                      size_t errsz)
{
    size_t lru = 0;
    for (size_t i = 0; i < s->nparts; i++) {
        if (s->parts[i]->day == day) {
            s->parts[i]->used = ++s->lru;
            *out = s->parts[i];
            return VG_OK;
        }
        if (s->parts[i]->used < s->parts[lru]->used) {
            lru = i;
        }
    }
    struct vg_store_part *p;
    int rc = part_create(s, day, &p, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (s->nparts == VG_STORE_MAX_PARTS) {
        /* backfills touch many old days: keep only the recently used handles */
        vg_store_part_close(s->parts[lru]);
        s->parts[lru] = s->parts[--s->nparts];
    }
    p->used = ++s->lru;
    s->parts[s->nparts++] = p;
    *out = p;
    return VG_OK;
}

void vg_store_part_forget(struct vg_store *s, int64_t day)
{
    for (size_t i = 0; i < s->nparts; i++) {
        if (s->parts[i]->day == day) {
            vg_store_part_close(s->parts[i]);
            s->parts[i] = s->parts[--s->nparts];
            return;
        }
    }
}

int vg_store_sqlite_open(const char *path, struct sqlite3 **out, char *err, size_t errsz)
{
    int rc = vg_store_db_open(path, true, true, false, out, err, errsz);
    if (rc == VG_OK) {
        rc = vg_store_exec(*out, "PRAGMA foreign_keys=ON;", "pragma", err, errsz);
        if (rc != VG_OK) {
            sqlite3_close(*out);
            *out = NULL;
        }
    }
    return rc;
}

int vg_store_sqlite_exec(struct sqlite3 *db, const char *sql, const char *what, char *err,
                         size_t errsz)
{
    return vg_store_exec(db, sql, what, err, errsz);
}

int vg_store_sqlite_fail(struct sqlite3 *db, int sqlite_rc, const char *what, char *err,
                         size_t errsz)
{
    return vg_store_fail(db, sqlite_rc, what, err, errsz);
}
