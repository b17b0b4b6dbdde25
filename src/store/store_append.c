/*
 * store_append.c — writing a batch of events: group by UTC day (partition) and tenant,
 * skip events whose dedupe key is known, pack the rest into blocks (zstd) with one FTS
 * document per block, and commit each partition's part with the batch row that carries
 * the source position. One transaction per partition: a batch within one day — the usual
 * case — is one atomic commit; a batch spanning days is made all-or-nothing by undoing
 * its committed parts when a later part fails (now, or at the next open after a crash).
 */
#include "store/store_int.h"

#include <sys/statvfs.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_RAW_MAX  (8u << 20) /* close a block past this much raw text */
#define COMPACT_BLOCKS 256        /* unindexed blocks in a partition before merging them */
#define TENANT_MAX     256

int vg_store_test_exit_after_part = -1;

/* The batch being appended (the arguments of vg_store_append). */
struct batch {
    const struct vg_event *const *evs;
    const struct vg_store_item *items;
    size_t n;
    bool has_position;
    uint64_t position;
};

/* One event of the batch, with where it goes. */
struct ref {
    int64_t day;
    const char *tenant;
    size_t tlen;
    vg_time_t ts;
    bool stamped; /* the event had no time: ts is the append time */
    size_t idx;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref *x = a, *y = b;
    if (x->day != y->day) {
        return x->day < y->day ? -1 : 1;
    }
    int c = memcmp(x->tenant, y->tenant, VG_MIN(x->tlen, y->tlen));
    if (c || x->tlen != y->tlen) {
        return c ? c : (x->tlen < y->tlen ? -1 : 1);
    }
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void ref_tenant(const struct batch *b, size_t i, struct ref *r)
{
    const char *t = b->items ? b->items[i].tenant : NULL;
    size_t tl = t ? strlen(t) : 0;
    if (!t) {
        t = vg_event_get_str(b->evs[i], "tenant", &tl);
    }
    if (!t || !tl || tl > TENANT_MAX) {
        t = "default";
        tl = 7;
    }
    r->tenant = t;
    r->tlen = tl;
}

static struct ref *refs_build(const struct batch *b, size_t *nparts)
{
    struct ref *refs = vg_malloc(b->n * sizeof(*refs));
    vg_time_t now = vg_time_now();
    if (!refs) {
        return NULL;
    }
    for (size_t i = 0; i < b->n; i++) {
        vg_time_t ts = b->evs[i]->ts;
        refs[i].ts = ts == VG_TIME_NONE ? now : ts;
        refs[i].stamped = ts == VG_TIME_NONE;
        refs[i].day = vg_store_day_of(refs[i].ts);
        refs[i].idx = i;
        ref_tenant(b, i, &refs[i]);
    }
    qsort(refs, b->n, sizeof(*refs), ref_cmp);
    *nparts = 0;
    for (size_t i = 0; i < b->n; i++) {
        *nparts += i == 0 || refs[i].day != refs[i - 1].day;
    }
    return refs;
}

/* ---------------------------------------------------------------- one part */

struct part_job {
    struct vg_store *s;
    struct vg_store_part *p;
    const struct batch *b;
    uint64_t seq;
    const char *tenant; /* of the block being built */
    size_t tlen;
    bool index; /* this tenant's run is big enough for indexed blocks */
    struct vg_store_append_result *res;
    char *err;
    size_t errsz;
};

static int step_done(struct part_job *j, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? VG_OK : vg_store_fail(j->p->db, rc, what, j->err, j->errsz);
}

/*
 * Is this event's key new? (Inserting it is the check: the primary key refuses repeats.)
 * The stored key is the event's minute of the day (2 bytes, big-endian) then 10 bytes of
 * BLAKE2b(tenant, key) — 80 bits: even 10 million keys in one minute collide with odds
 * below 1e-10. A retried event has the same time, hence the same minute, and
 * successive batches then insert at the end of the index instead of all over it — a few
 * pages per commit rather than one per event. Events that had no time (stamped with the
 * append time, which a retry does not repeat) share the bucket 0xffff of their day.
 */
static int dedupe_fresh(struct part_job *j, const struct ref *r, const struct vg_store_item *it,
                        bool *fresh)
{
    unsigned char k[12];
    crypto_generichash_state gs;
    size_t kl = it->key_len ? it->key_len : strlen(it->key);
    int64_t minute = (r->ts - r->day * VG_STORE_DAY_NS) / (60LL * 1000000000LL);
    uint16_t bucket = r->stamped ? 0xffff : (uint16_t)minute;
    k[0] = (unsigned char)(bucket >> 8);
    k[1] = (unsigned char)bucket;
    crypto_generichash_init(&gs, NULL, 0, sizeof(k) - 2);
    crypto_generichash_update(&gs, (const unsigned char *)j->tenant, j->tlen);
    crypto_generichash_update(&gs, (const unsigned char *)"", 1);
    crypto_generichash_update(&gs, (const unsigned char *)it->key, kl);
    crypto_generichash_final(&gs, k + 2, sizeof(k) - 2);
    unsigned char *h = k;
    sqlite3_bind_blob(j->p->ins_dedupe, 1, h, sizeof(k), SQLITE_TRANSIENT);
    sqlite3_bind_int64(j->p->ins_dedupe, 2, (sqlite3_int64)j->seq);
    int rc = step_done(j, j->p->ins_dedupe, "dedupe");
    *fresh = rc == VG_OK && sqlite3_changes(j->p->db) > 0;
    return rc;
}

static int compress_block(struct vg_store *s, int level, const void **out, size_t *len)
{
    const struct vg_sbuf *in = &s->bb.out;
    size_t bound = ZSTD_compressBound(in->len);
    if (bound > s->zcap) {
        void *nb = vg_realloc(s->zbuf, bound);
        if (!nb) {
            return VG_ENOMEM;
        }
        s->zbuf = nb;
        s->zcap = bound;
    }
    size_t n = ZSTD_compressCCtx(s->zc, s->zbuf, s->zcap, in->p, in->len, level);
    if (ZSTD_isError(n)) {
        return VG_ERROR;
    }
    *out = s->zbuf;
    *len = n;
    return VG_OK;
}

/* Run a write statement to completion and reset it. */
static int stmt_run(sqlite3 *db, sqlite3_stmt *st, const char *what, char *err, size_t errsz)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? VG_OK : vg_store_fail(db, rc, what, err, errsz);
}

int vg_store_block_write(struct vg_store *s, struct vg_store_part *p, const char *tenant,
                         size_t tlen, uint64_t batch, bool index, char *err, size_t errsz)
{
    const void *z;
    size_t zl;
    if (!s->bb.n) {
        return VG_OK;
    }
    int rc = vg_store_block_finish(&s->bb);
    /* unindexed blocks are short-lived (compaction rewrites them): compress them fast */
    rc = rc == VG_OK ? compress_block(s, index ? s->opts.zstd_level : 1, &z, &zl) : rc;
    if (rc != VG_OK) {
        snprintf(err, errsz, "block: %s", vg_strerror(rc));
        return rc;
    }
    sqlite3_bind_text(p->ins_block, 1, tenant, (int)tlen, SQLITE_STATIC);
    sqlite3_bind_int64(p->ins_block, 2, s->bb.t_min);
    sqlite3_bind_int64(p->ins_block, 3, s->bb.t_max);
    sqlite3_bind_int64(p->ins_block, 4, s->bb.n);
    sqlite3_bind_int64(p->ins_block, 5, (sqlite3_int64)s->bb.out.len);
    sqlite3_bind_int64(p->ins_block, 6, (sqlite3_int64)s->bb.raw_bytes);
    sqlite3_bind_int64(p->ins_block, 7, (sqlite3_int64)batch);
    sqlite3_bind_int(p->ins_block, 8, index);
    rc = stmt_run(p->db, p->ins_block, "insert block", err, errsz);
    sqlite3_int64 id = sqlite3_last_insert_rowid(p->db);
    if (rc == VG_OK) {
        sqlite3_bind_int64(p->ins_data, 1, id);
        sqlite3_bind_blob(p->ins_data, 2, z, (int)zl, SQLITE_STATIC);
        rc = stmt_run(p->db, p->ins_data, "insert block data", err, errsz);
    }
    if (rc == VG_OK && index) {
        rc = vg_store_docs_finish(&s->docs);
        sqlite3_bind_int64(p->ins_fts, 1, id);
        sqlite3_bind_text(p->ins_fts, 2, s->docs.f.p ? s->docs.f.p : "", (int)s->docs.f.len,
                          SQLITE_STATIC);
        sqlite3_bind_text(p->ins_fts, 3, s->docs.w.p ? s->docs.w.p : "", (int)s->docs.w.len,
                          SQLITE_STATIC);
        rc = rc == VG_OK ? stmt_run(p->db, p->ins_fts, "insert index", err, errsz) : rc;
    }
    if (rc == VG_OK && !index) {
        p->small++;
        p->small_events += s->bb.n;
    }
    vg_store_block_reset(&s->bb);
    vg_store_docs_reset(&s->docs);
    return rc;
}

static int block_flush(struct part_job *j)
{
    return vg_store_block_write(j->s, j->p, j->tenant, j->tlen, j->seq, j->index, j->err, j->errsz);
}

static int event_add(struct part_job *j, const struct ref *r)
{
    const struct vg_event *ev = j->b->evs[r->idx];
    const struct vg_store_item *it = j->b->items ? &j->b->items[r->idx] : NULL;
    if (it && it->key) {
        bool fresh;
        int rc = dedupe_fresh(j, r, it, &fresh);
        if (rc != VG_OK) {
            return rc;
        }
        if (!fresh) {
            j->res->skipped++;
            return VG_OK;
        }
    }
    int rc = vg_store_block_add(&j->s->bb, ev, r->ts);
    if (rc == VG_OK && j->index) {
        rc = vg_store_docs_add(&j->s->docs, ev, j->p->fields, j->p->field_ids, j->p->nfields);
    }
    if (rc != VG_OK) {
        snprintf(j->err, j->errsz, "event: %s", vg_strerror(rc));
        return rc;
    }
    j->res->stored++;
    if (j->s->bb.n >= j->s->opts.block_events || j->s->bb.raw_bytes >= BLOCK_RAW_MAX) {
        return block_flush(j);
    }
    return VG_OK;
}

static int batch_row_put(struct part_job *j, uint32_t part, uint32_t nparts)
{
    struct vg_store *s = j->s;
    sqlite3_stmt *st = j->p->put_batch;
    uint64_t after = j->b->has_position ? j->b->position : s->pos;
    bool after_ok = j->b->has_position || s->pos_ok;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)j->seq);
    sqlite3_bind_int(st, 2, (int)part);
    sqlite3_bind_int(st, 3, (int)nparts);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)s->pos);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)after);
    sqlite3_bind_int(st, 6, (s->pos_ok ? 1 : 0) | (after_ok ? 2 : 0));
    return step_done(j, st, "batch row");
}

/*
 * A COMMIT can fail after SQLite wrote the commit record to the WAL (a full disk refusing the
 * growth of the shared-memory index that follows): the transaction is then durable although
 * the call failed. Reporting it as failed would make the caller retry and store the batch
 * twice, so look: the batch row written in the transaction tells.
 */
static bool committed_anyway(struct part_job *j, uint32_t part)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(j->p->db, "SELECT seq, part FROM batch WHERE id = 1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        yes = (uint64_t)sqlite3_column_int64(st, 0) == j->seq &&
              (uint32_t)sqlite3_column_int(st, 1) == part;
    }
    sqlite3_finalize(st);
    return yes;
}

/* Events at the start of refs with the same tenant. */
static size_t run_length(const struct ref *refs, size_t n)
{
    size_t e = 1;
    while (e < n && refs[e].tlen == refs[0].tlen &&
           memcmp(refs[e].tenant, refs[0].tenant, refs[0].tlen) == 0) {
        e++;
    }
    return e;
}

/*
 * Write refs[0..n) (one day) as part `part` of the batch, in one transaction. A small run
 * of one tenant (a quiet source) makes an unindexed block: indexing many tiny blocks costs
 * more space than their data; compaction merges and indexes them.
 */
static int part_write(struct part_job *j, const struct ref *refs, size_t n, uint32_t part,
                      uint32_t nparts)
{
    vg_store_block_reset(&j->s->bb);
    vg_store_docs_reset(&j->s->docs);
    int rc = vg_store_exec(j->p->db, "BEGIN IMMEDIATE", "begin", j->err, j->errsz);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        bool new_tenant =
            i == 0 || refs[i].tlen != j->tlen || memcmp(refs[i].tenant, j->tenant, j->tlen) != 0;
        if (new_tenant) {
            rc = block_flush(j); /* blocks hold one tenant each */
            j->tenant = refs[i].tenant;
            j->tlen = refs[i].tlen;
            j->index = run_length(refs + i, n - i) >= j->s->opts.block_events / 4;
        }
        rc = rc == VG_OK ? event_add(j, &refs[i]) : rc;
    }
    rc = rc == VG_OK ? block_flush(j) : rc;
    rc = rc == VG_OK ? batch_row_put(j, part, nparts) : rc;
    bool committing = rc == VG_OK;
    rc = rc == VG_OK ? vg_store_exec(j->p->db, "COMMIT", "commit", j->err, j->errsz) : rc;
    if (rc != VG_OK) {
        sqlite3_exec(j->p->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (rc != VG_OK && committing && committed_anyway(j, part)) {
        VG_WARN(VG_STORE_COMP, "%s after the commit record was written: batch %llu is stored",
                j->err, (unsigned long long)j->seq);
        rc = VG_OK;
    }
    return rc;
}

/* ---------------------------------------------------------------- the batch */

/* A batch with no events but a position: the mirror in main.db carries it. */
static int position_only(struct vg_store *s, const struct batch *b, char *err, size_t errsz)
{
    uint64_t pos = s->pos;
    bool ok = s->pos_ok;
    s->seq++;
    s->pos = b->position;
    s->pos_ok = true;
    int rc = vg_store_mirror_write(s, err, errsz);
    if (rc != VG_OK) {
        s->pos = pos;
        s->pos_ok = ok;
    }
    return rc;
}

static int parts_write(struct vg_store *s, const struct batch *b, struct ref *refs, size_t nparts,
                       struct vg_store_append_result *res, char *err, size_t errsz)
{
    struct part_job j = {.s = s, .b = b, .seq = ++s->seq, .res = res, .err = err, .errsz = errsz};
    uint32_t part = 0;
    int rc = VG_OK;
    for (size_t i = 0; i < b->n && rc == VG_OK; part++) {
        size_t e = i;
        while (e < b->n && refs[e].day == refs[i].day) {
            e++;
        }
        rc = vg_store_part_get(s, refs[i].day, &j.p, err, errsz);
        rc = rc == VG_OK ? part_write(&j, refs + i, e - i, part, (uint32_t)nparts) : rc;
        if (rc == VG_OK && vg_store_test_exit_after_part == (int)part && nparts > 1) {
            _exit(77);
        }
        i = e;
    }
    if (rc != VG_OK && part > 1) {
        /* earlier parts committed: take them back so the batch is all or nothing */
        char uerr[256];
        s->undo_seq = j.seq;
        if (vg_store_undo_pending(s, uerr, sizeof(uerr)) != VG_OK) {
            VG_WARN(VG_STORE_COMP, "undo of batch %llu deferred: %s", (unsigned long long)j.seq,
                    uerr);
        }
    }
    if (rc == VG_OK && b->has_position) {
        s->pos = b->position;
        s->pos_ok = true;
    }
    return rc;
}

/* Merge small blocks once enough have piled up (after the batch committed: its failure to
 * compact is logged, never reported as the batch's). */
static void compact_due(struct vg_store *s)
{
    for (size_t i = 0; i < s->nparts; i++) {
        char err[256];
        struct vg_store_part *p = s->parts[i];
        if ((p->small >= COMPACT_BLOCKS || p->small_events >= s->opts.block_events / 2) &&
            vg_store_part_compact(s, s->parts[i], err, sizeof(err)) != VG_OK) {
            VG_WARN(VG_STORE_COMP, "compaction: %s", err);
        }
    }
}

/*
 * Refuse a batch up front when the filesystem cannot take it with room to spare: SQLite
 * failing with a full disk in the middle of a WAL transaction leaves frames behind that the
 * retries do not reuse, so the WAL would grow into every byte freed later. Needs about three
 * times the raw bytes (blocks, FTS index, WAL) plus a fixed margin for checkpoints.
 */
int vg_store_space_check(struct vg_store *s, uint64_t raw_bytes, char *err, size_t errsz)
{
    struct statvfs fs;
    if (statvfs(s->events_dir, &fs) != 0) {
        return VG_OK; /* cannot tell: let SQLite find out */
    }
    uint64_t avail = (uint64_t)fs.f_bavail * (uint64_t)fs.f_frsize;
    uint64_t need = raw_bytes * 3 + STORE_SPACE_MARGIN;
    if (avail >= need) {
        return VG_OK;
    }
    snprintf(err, errsz, "%s: %llu bytes free, %llu needed to store the batch safely (disk full)",
             s->events_dir, (unsigned long long)avail, (unsigned long long)need);
    return VG_ENOSPC;
}

static uint64_t batch_raw_bytes(const struct vg_event *const *evs, size_t n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n; i++) {
        b += evs[i]->raw_len ? evs[i]->raw_len : 256;
    }
    return b;
}

int vg_store_append(struct vg_store *s, const struct vg_event *const *evs, size_t n,
                    const struct vg_store_append_opts *o, struct vg_store_append_result *res,
                    char *err, size_t errsz)
{
    struct batch batch = {.evs = evs,
                          .items = o ? o->items : NULL,
                          .n = n,
                          .has_position = o && o->has_position,
                          .position = o ? o->position : 0};
    const struct batch *b = &batch;
    struct vg_store_append_result local = {0};
    size_t nparts = 0;
    res = res ? res : &local;
    memset(res, 0, sizeof(*res));
    if (s->opts.readonly) {
        snprintf(err, errsz, "store opened read-only");
        return VG_EINVAL;
    }
    int rc = vg_store_space_check(s, batch_raw_bytes(evs, n), err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    rc = s->undo_seq ? vg_store_undo_pending(s, err, errsz) : VG_OK;
    struct ref *refs = NULL;
    if (rc == VG_OK && b->n == 0) {
        rc = b->has_position ? position_only(s, b, err, errsz) : VG_OK;
    } else if (rc == VG_OK) {
        refs = refs_build(b, &nparts);
        rc = refs ? parts_write(s, b, refs, nparts, res, err, errsz) : VG_ENOMEM;
    }
    if (rc == VG_OK) {
        compact_due(s);
    }
    if (rc != VG_OK) {
        memset(res, 0, sizeof(*res)); /* nothing of a failed batch is stored */
        if (rc == VG_ENOMEM && err && errsz) {
            snprintf(err, errsz, "out of memory");
        }
    }
    pthread_mutex_unlock(&s->mu);
    vg_free(refs);
    return rc;
}
