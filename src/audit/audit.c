/*
 * audit.c — the hash-chained audit log (see audit.h for the format and the guarantees).
 *
 * Appends are group committed: a caller queues its record and either becomes the leader
 * (it writes every queued record in one transaction, chains the hashes, updates the head
 * file, and wakes the others) or waits for the leader that is already writing. So many
 * threads appending at once pay for one commit, and the chain order is the commit order.
 *
 * The hash of a record is SHA-256 over a length-prefixed encoding of seq, ts, tenant, actor,
 * action, object, detail and prev: no separator inside a value can make two different
 * records encode alike.
 */
#include "audit/audit.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HASH_HEX  65 /* 64 hex digits + NUL */
#define HEAD_SIZE 96 /* "seq hash crc\n" padded: one pwrite of a fixed size */

struct pending {
    struct pending *next;
    const struct vg_audit_rec *rec;
    int64_t seq;
    int status;
    bool done;
    char err[256];
};

struct vg_audit {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    sqlite3 *db;
    sqlite3_stmt *ins;
    int head_fd;
    int64_t last_seq;
    char last_hash[HASH_HEX];
    struct pending *queue, **tail;
    bool writing;
    char *path;
};

static const char zero_hash[HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static const char schema[] = "CREATE TABLE IF NOT EXISTS audit("
                             " seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
                             " tenant TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,"
                             " object TEXT NOT NULL, detail TEXT NOT NULL,"
                             " prev TEXT NOT NULL, hash TEXT NOT NULL);"
                             "CREATE INDEX IF NOT EXISTS audit_object ON audit(object, seq);";

/* ---------------------------------------------------------------- hashing */

static void hash_field(crypto_hash_sha256_state *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    char len[24];
    int k = snprintf(len, sizeof(len), "%zu:", n);
    crypto_hash_sha256_update(h, (const unsigned char *)len, (unsigned long long)k);
    crypto_hash_sha256_update(h, (const unsigned char *)(s ? s : ""), n);
}

/* The record's hash as hex into out[HASH_HEX]. */
static void record_hash(int64_t seq, vg_time_t ts, const struct vg_audit_rec *r, const char *prev,
                        char *out)
{
    crypto_hash_sha256_state h;
    unsigned char md[crypto_hash_sha256_BYTES];
    char num[48];
    crypto_hash_sha256_init(&h);
    snprintf(num, sizeof(num), "%" PRId64, seq);
    hash_field(&h, num);
    snprintf(num, sizeof(num), "%" PRId64, (int64_t)ts);
    hash_field(&h, num);
    hash_field(&h, r->tenant);
    hash_field(&h, r->actor);
    hash_field(&h, r->action);
    hash_field(&h, r->object);
    hash_field(&h, r->detail);
    hash_field(&h, prev);
    crypto_hash_sha256_final(&h, md);
    sodium_bin2hex(out, HASH_HEX, md, sizeof(md));
}

/* Defaults applied before hashing, so the stored and the hashed record agree. */
static struct vg_audit_rec rec_norm(const struct vg_audit_rec *r)
{
    struct vg_audit_rec n = *r;
    n.tenant = r->tenant && *r->tenant ? r->tenant : "default";
    n.actor = r->actor && *r->actor ? r->actor : "system";
    n.action = r->action ? r->action : "";
    n.object = r->object ? r->object : "";
    n.detail = r->detail && *r->detail ? r->detail : "{}";
    return n;
}

/* ---------------------------------------------------------------- head file */

static void head_format(int64_t seq, const char *hash, char *buf)
{
    char body[HEAD_SIZE];
    int n = snprintf(body, sizeof(body), "%" PRId64 " %s", seq, hash);
    uint32_t crc = vg_crc32(0, (const uint8_t *)body, (size_t)n);
    memset(buf, ' ', HEAD_SIZE);
    int k = snprintf(buf, HEAD_SIZE, "%s %08x", body, crc);
    buf[k] = ' ';
    buf[HEAD_SIZE - 1] = '\n';
}

/* VG_OK with seq/hash, VG_ENOENT when there is no head yet, VG_EINVAL when unreadable. */
static int head_parse(const char *buf, size_t n, int64_t *seq, char *hash)
{
    if (n == 0) {
        return VG_ENOENT;
    }
    char body[HEAD_SIZE];
    unsigned crc = 0;
    long long s = 0;
    char h[HASH_HEX + 1];
    if (n != HEAD_SIZE || sscanf(buf, "%lld %64s %8x", &s, h, &crc) != 3 || strlen(h) != 64) {
        return VG_EINVAL;
    }
    int k = snprintf(body, sizeof(body), "%lld %s", s, h);
    if (vg_crc32(0, (const uint8_t *)body, (size_t)k) != crc) {
        return VG_EINVAL;
    }
    *seq = s;
    memcpy(hash, h, HASH_HEX);
    return VG_OK;
}

static char *head_path(const char *path)
{
    size_t n = strlen(path);
    char *p = vg_malloc(n + 6);
    if (p) {
        memcpy(p, path, n);
        memcpy(p + n, ".head", 6);
    }
    return p;
}

/* ---------------------------------------------------------------- open / close */

static int load_last(struct vg_audit *a, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1,
                                &st, NULL);
    a->last_seq = 0;
    memcpy(a->last_hash, zero_hash, HASH_HEX);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        a->last_seq = sqlite3_column_int64(st, 0);
        const char *h = (const char *)sqlite3_column_text(st, 1);
        vg_strlcpy(a->last_hash, h ? h : "", HASH_HEX);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? VG_OK : vg_store_sqlite_fail(a->db, rc, a->path, err, errsz);
}

int vg_audit_open(const char *path, struct vg_audit **out, char *err, size_t errsz)
{
    struct vg_audit *a = vg_calloc(1, sizeof(*a));
    char *hp = NULL;
    int rc = VG_ENOMEM;
    if (!a || !(a->path = vg_strdup(path)) || !(hp = head_path(path)) || sodium_init() < 0) {
        snprintf(err, errsz, "audit: out of memory");
        goto fail;
    }
    a->head_fd = -1;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cond, NULL);
    a->tail = &a->queue;
    rc = vg_store_sqlite_open(path, &a->db, err, errsz);
    if (rc == VG_OK) {
        rc = vg_store_sqlite_exec(a->db, schema, path, err, errsz);
    }
    if (rc == VG_OK &&
        sqlite3_prepare_v2(a->db,
                           "INSERT INTO audit(seq, ts, tenant, actor, action, object, detail,"
                           " prev, hash) VALUES(?,?,?,?,?,?,?,?,?)",
                           -1, &a->ins, NULL) != SQLITE_OK) {
        rc = vg_store_sqlite_fail(a->db, sqlite3_errcode(a->db), path, err, errsz);
    }
    if (rc == VG_OK) {
        rc = load_last(a, err, errsz);
    }
    if (rc == VG_OK && (a->head_fd = open(hp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        snprintf(err, errsz, "%s: %s", hp, strerror(errno));
        rc = VG_EIO;
    }
    if (rc != VG_OK) {
        goto fail;
    }
    vg_free(hp);
    *out = a;
    return VG_OK;
fail:
    vg_free(hp);
    vg_audit_close(a);
    return rc;
}

void vg_audit_close(struct vg_audit *a)
{
    if (!a) {
        return;
    }
    sqlite3_finalize(a->ins);
    sqlite3_close(a->db);
    if (a->head_fd >= 0) {
        close(a->head_fd);
    }
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cond);
    vg_free(a->path);
    vg_free(a);
}

const char *vg_audit_path(const struct vg_audit *a)
{
    return a->path;
}

/* ---------------------------------------------------------------- append */

static int insert_one(struct vg_audit *a, struct pending *p, vg_time_t ts, char *hash)
{
    struct vg_audit_rec r = rec_norm(p->rec);
    int64_t seq = a->last_seq + 1;
    record_hash(seq, ts, &r, a->last_hash, hash);
    sqlite3_stmt *st = a->ins;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, ts);
    sqlite3_bind_text(st, 3, r.tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r.actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r.action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r.object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r.detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, a->last_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return rc;
    }
    p->seq = seq;
    a->last_seq = seq;
    memcpy(a->last_hash, hash, HASH_HEX);
    return SQLITE_OK;
}

/*
 * Write the batch in one transaction (called by the leader without the lock: only the
 * leader touches db, last_seq and last_hash). On failure the chain state is restored so
 * the next batch continues from the last committed record.
 */
static int write_batch(struct vg_audit *a, struct pending *batch, char *err, size_t errsz)
{
    int64_t seq0 = a->last_seq;
    char hash0[HASH_HEX], hash[HASH_HEX];
    memcpy(hash0, a->last_hash, HASH_HEX);
    vg_time_t ts = vg_time_now();
    int rc = sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (struct pending *p = batch; p && rc == SQLITE_OK; p = p->next) {
        rc = insert_one(a, p, ts, hash);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        int st = vg_store_sqlite_fail(a->db, rc, "audit append", err, errsz);
        sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
        a->last_seq = seq0;
        memcpy(a->last_hash, hash0, HASH_HEX);
        return st;
    }
    char head[HEAD_SIZE];
    head_format(a->last_seq, a->last_hash, head);
    if (pwrite(a->head_fd, head, HEAD_SIZE, 0) != HEAD_SIZE) {
        /* the records are committed; a stale head only weakens the check for a deletion of
           the newest records, so say so and go on */
        VG_WARN("audit", "head file not updated: %s", strerror(errno));
    }
    return VG_OK;
}

/* Leader loop: write what is queued until the queue is empty (called with a->mu held). */
static void lead(struct vg_audit *a)
{
    a->writing = true;
    while (a->queue) {
        struct pending *batch = a->queue;
        a->queue = NULL;
        a->tail = &a->queue;
        pthread_mutex_unlock(&a->mu);
        char err[256] = "";
        int rc = write_batch(a, batch, err, sizeof(err));
        pthread_mutex_lock(&a->mu);
        for (struct pending *p = batch, *next; p; p = next) {
            next = p->next; /* p lives on its waiter's stack: gone once done and unlocked */
            p->status = rc;
            vg_strlcpy(p->err, err, sizeof(p->err));
            p->done = true;
        }
        pthread_cond_broadcast(&a->cond);
    }
    a->writing = false;
    pthread_cond_broadcast(&a->cond);
}

int vg_audit_append(struct vg_audit *a, const struct vg_audit_rec *r, int64_t *seq, char *err,
                    size_t errsz)
{
    if (!a) {
        return VG_OK;
    }
    struct pending p = {.rec = r};
    pthread_mutex_lock(&a->mu);
    *a->tail = &p;
    a->tail = &p.next;
    if (!a->writing) {
        lead(a);
    }
    while (!p.done) {
        pthread_cond_wait(&a->cond, &a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    if (p.status != VG_OK) {
        snprintf(err, errsz, "%s", p.err);
    } else if (seq) {
        *seq = p.seq;
    }
    return p.status;
}

/* ---------------------------------------------------------------- verify and query */

static void rec_from_row(sqlite3_stmt *st, int col, struct vg_audit_rec *r)
{
    r->tenant = (const char *)sqlite3_column_text(st, col);
    r->actor = (const char *)sqlite3_column_text(st, col + 1);
    r->action = (const char *)sqlite3_column_text(st, col + 2);
    r->object = (const char *)sqlite3_column_text(st, col + 3);
    r->detail = (const char *)sqlite3_column_text(st, col + 4);
}

static void report_bad(struct vg_audit_report *rep, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report_bad(struct vg_audit_report *rep, int64_t seq, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rep->bad_seq = seq;
    vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
    va_end(ap);
}

/* Check one row against the chain so far; false (with rep filled) when it breaks. */
static bool verify_row(sqlite3_stmt *st, int64_t *expect, char *prev, struct vg_audit_report *rep)
{
    int64_t seq = sqlite3_column_int64(st, 0);
    const char *rprev = (const char *)sqlite3_column_text(st, 7);
    const char *rhash = (const char *)sqlite3_column_text(st, 8);
    struct vg_audit_rec r;
    char hash[HASH_HEX];
    rec_from_row(st, 2, &r);
    if (seq != *expect) {
        report_bad(rep, *expect, "record %lld is missing (deleted or renumbered)",
                   (long long)*expect);
        return false;
    }
    if (!rprev || strcmp(rprev, prev) != 0) {
        report_bad(rep, seq, "record %lld: prev does not match the hash of the record before",
                   (long long)seq);
        return false;
    }
    struct vg_audit_rec n = rec_norm(&r);
    record_hash(seq, sqlite3_column_int64(st, 1), &n, prev, hash);
    if (!rhash || strcmp(rhash, hash) != 0) {
        report_bad(rep, seq, "record %lld was modified (its hash does not match its content)",
                   (long long)seq);
        return false;
    }
    memcpy(prev, hash, HASH_HEX);
    (*expect)++;
    rep->records++;
    return true;
}

/* The head file names the newest committed record: fewer rows means rows were deleted. */
static void verify_head(const char *path, int64_t last, sqlite3 *db, struct vg_audit_report *rep)
{
    char *hp = head_path(path), *buf = NULL, hash[HASH_HEX];
    size_t n = 0;
    int64_t seq = 0;
    if (!hp) {
        return;
    }
    int rc = vg_file_read(hp, 4096, &buf, &n);
    rc = rc == VG_OK ? head_parse(buf, n, &seq, hash) : rc;
    if (rc == VG_OK && seq > last) {
        report_bad(rep, last + 1,
                   "records %lld..%lld are missing (the head file names record %lld)",
                   (long long)last + 1, (long long)seq, (long long)seq);
    } else if (rc == VG_OK && seq > 0) {
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db, "SELECT hash FROM audit WHERE seq = ?", -1, &st, NULL);
        sqlite3_bind_int64(st, 1, seq);
        if (sqlite3_step(st) == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(st, 0), hash) != 0) {
            report_bad(rep, seq, "record %lld differs from the head file's hash", (long long)seq);
        }
        sqlite3_finalize(st);
    } else if (rc == VG_EINVAL) {
        report_bad(rep, last + 1, "%s: unreadable head file", hp);
    }
    vg_free(buf);
    vg_free(hp);
}

int vg_audit_verify(const char *path, struct vg_audit_report *rep, char *err, size_t errsz)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    memset(rep, 0, sizeof(*rep));
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db,
                                "SELECT seq, ts, tenant, actor, action, object, detail, prev, hash"
                                " FROM audit ORDER BY seq",
                                -1, &st, NULL);
    }
    if (rc != SQLITE_OK) {
        int s = vg_store_sqlite_fail(db, rc, path, err, errsz);
        sqlite3_close(db);
        return s;
    }
    int64_t expect = 1;
    char prev[HASH_HEX];
    memcpy(prev, zero_hash, HASH_HEX);
    bool ok = true;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ok = verify_row(st, &expect, prev, rep);
    }
    int status = VG_OK;
    if (ok && rc != SQLITE_DONE) {
        status = vg_store_sqlite_fail(db, rc, path, err, errsz);
    }
    sqlite3_finalize(st);
    if (ok && status == VG_OK) {
        verify_head(path, expect - 1, db, rep);
    }
    sqlite3_close(db);
    if (status == VG_OK && rep->bad_seq != 0) {
        snprintf(err, errsz, "%s", rep->reason);
        status = VG_EINVAL;
    }
    return status;
}

int vg_audit_query(struct vg_audit *a, const struct vg_audit_query *q, char *err, size_t errsz)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open_v2(a->path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 10000);
        rc = sqlite3_prepare_v2(
            db,
            "SELECT seq, ts, tenant, actor, action, object, detail, hash FROM audit"
            " WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR object = ?2)"
            " AND (?3 IS NULL OR substr(action, 1, length(?3)) = ?3) AND seq < ?4"
            " ORDER BY seq DESC LIMIT ?5",
            -1, &st, NULL);
    }
    if (rc != SQLITE_OK) {
        int s = vg_store_sqlite_fail(db, rc, a->path, err, errsz);
        sqlite3_close(db);
        return s;
    }
    sqlite3_bind_text(st, 1, q->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->object, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->action_prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, q->before_seq > 0 ? q->before_seq : INT64_MAX);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)(q->limit ? q->limit : 100));
    int status = VG_OK;
    while (status == VG_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_audit_rec r;
        rec_from_row(st, 2, &r);
        status = q->on_rec(q->ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), &r,
                           (const char *)sqlite3_column_text(st, 7));
    }
    if (status == VG_OK && rc != SQLITE_DONE) {
        status = vg_store_sqlite_fail(db, rc, a->path, err, errsz);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return status;
}
