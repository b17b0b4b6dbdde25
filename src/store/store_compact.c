/*
 * store_compact.c — rewriting blocks in place: merging small blocks and undoing a batch.
 *
 * A quiet source makes the server append small batches; they are written as small blocks
 * without index document ("unindexed": every search reads them) because many tiny
 * documents would cost more than the data. Compaction merges the unindexed blocks of one
 * tenant into full, indexed blocks, in one transaction per merged block, so readers see
 * either the old blocks or the merged one. Undoing a batch removes indexed blocks too; their
 * document is deleted the FTS5 way for contentless tables — by giving its original text,
 * rebuilt from the block's events exactly as it was built at insert.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

#define USIZE_MAX (1u << 30)

struct small_blk {
    int64_t id;
    uint32_t n;
    bool indexed;
    uint64_t batch;
    char *tenant;
};

struct rewrite {
    struct vg_store *s;
    struct vg_store_part *p;
    ZSTD_DCtx *dz;
    struct vg_sbuf ubuf;
    struct vg_store_docs old;
    struct vg_store_block_pos *pos;
    size_t poscap;
    struct vg_event *ev;
    char *err;
    size_t errsz;
};

static int rewrite_init(struct rewrite *w, struct vg_store *s, struct vg_store_part *p, char *err,
                        size_t errsz)
{
    memset(w, 0, sizeof(*w));
    w->s = s;
    w->p = p;
    w->err = err;
    w->errsz = errsz;
    vg_store_docs_init(&w->old);
    w->dz = ZSTD_createDCtx();
    w->ev = vg_event_create();
    return w->dz && w->ev ? VG_OK : VG_ENOMEM;
}

static void rewrite_fini(struct rewrite *w)
{
    ZSTD_freeDCtx(w->dz);
    vg_event_destroy(w->ev);
    vg_sbuf_fini(&w->ubuf);
    vg_store_docs_fini(&w->old);
    vg_free(w->pos);
}

/* Decompress block id into w->ubuf. */
static int block_read(struct rewrite *w, int64_t id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(w->p->db,
                                "SELECT b.usize, d.data FROM blocks b JOIN blockdata d"
                                " ON d.id = b.id WHERE b.id = ?",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    int status = rc == SQLITE_ROW ? VG_OK : vg_store_fail(w->p->db, rc, "block", w->err, w->errsz);
    if (status == VG_OK) {
        sqlite3_int64 usize = sqlite3_column_int64(st, 0);
        vg_sbuf_reset(&w->ubuf);
        status =
            usize < 0 || usize > USIZE_MAX ? VG_EINVAL : vg_sbuf_reserve(&w->ubuf, (size_t)usize);
        if (status == VG_OK) {
            size_t n =
                ZSTD_decompressDCtx(w->dz, w->ubuf.p, (size_t)usize, sqlite3_column_blob(st, 1),
                                    (size_t)sqlite3_column_bytes(st, 1));
            status = ZSTD_isError(n) ? VG_EINVAL : VG_OK;
            w->ubuf.len = ZSTD_isError(n) ? 0 : n;
        }
    }
    sqlite3_finalize(st);
    return status;
}

static int exec_id(struct rewrite *w, const char *sql, int64_t id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(w->p->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? VG_OK : vg_store_fail(w->p->db, rc, sql, w->err, w->errsz);
}

/* Delete the index row of block id (its documents, rebuilt, are in w->old). */
static int doc_delete(struct rewrite *w, int64_t id)
{
    sqlite3_stmt *st = NULL;
    int rc = vg_store_docs_finish(&w->old) == VG_OK ? SQLITE_OK : SQLITE_NOMEM;
    rc = rc == SQLITE_OK ? sqlite3_prepare_v2(w->p->db,
                                              "INSERT INTO fts(fts, rowid, f, w)"
                                              " VALUES('delete', ?, ?, ?)",
                                              -1, &st, NULL)
                         : rc;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, w->old.f.p ? w->old.f.p : "", (int)w->old.f.len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, w->old.w.p ? w->old.w.p : "", (int)w->old.w.len, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? VG_OK
                             : vg_store_fail(w->p->db, rc, "index delete", w->err, w->errsz);
}

/*
 * Remove block id: delete its document (indexed blocks) and its rows. With merge, its
 * events are also added to the block being built (s->bb, s->terms).
 */
static int block_remove(struct rewrite *w, int64_t id, bool indexed, bool merge)
{
    struct vg_store_block_reader br = {0};
    struct vg_store *s = w->s;
    struct vg_store_part *p = w->p;
    int rc = block_read(w, id);
    rc = rc == VG_OK ? vg_store_block_open(&br, w->ubuf.p, w->ubuf.len) : rc;
    if (rc == VG_OK && br.n > w->poscap) {
        rc = vg_grow(&w->pos, &w->poscap, br.n, sizeof(*w->pos));
    }
    rc = rc == VG_OK ? vg_store_block_index(&br, w->pos) : rc;
    vg_store_docs_reset(&w->old);
    for (uint32_t i = 0; rc == VG_OK && i < br.n; i++) {
        rc = vg_store_block_event(&br, &w->pos[i], w->ev);
        if (rc == VG_OK && indexed) {
            rc = vg_store_docs_add(&w->old, w->ev, p->fields, p->field_ids, p->nfields);
        }
        if (rc == VG_OK && merge) {
            rc = vg_store_block_add(&s->bb, w->ev, w->ev->ts);
            rc = rc == VG_OK
                     ? vg_store_docs_add(&s->docs, w->ev, p->fields, p->field_ids, p->nfields)
                     : rc;
        }
    }
    vg_store_block_close(&br);
    rc = rc == VG_OK && indexed ? doc_delete(w, id) : rc;
    if (rc == VG_EINVAL && !merge) {
        rc = VG_OK; /* a damaged block being undone: drop it, its document stays behind */
    }
    rc = rc == VG_OK ? exec_id(w, "DELETE FROM blockdata WHERE id = ?", id) : rc;
    rc = rc == VG_OK ? exec_id(w, "DELETE FROM blocks WHERE id = ?", id) : rc;
    return rc;
}

/* ---------------------------------------------------------------- compaction */

static void small_free(struct small_blk *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vg_free(v[i].tenant);
    }
    vg_free(v);
}

static int small_list(struct rewrite *w, struct small_blk **out, size_t *n)
{
    sqlite3_stmt *st = NULL;
    struct small_blk *v = NULL;
    size_t cnt = 0, cap = 0;
    int rc = sqlite3_prepare_v2(w->p->db,
                                "SELECT id, n, batch, tenant FROM blocks WHERE indexed = 0"
                                " ORDER BY tenant, id",
                                -1, &st, NULL);
    rc = rc == SQLITE_OK ? SQLITE_ROW : rc;
    while (rc == SQLITE_ROW && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vg_grow(&v, &cap, cnt + 1, sizeof(*v)) != VG_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
        v[cnt].id = sqlite3_column_int64(st, 0);
        v[cnt].n = (uint32_t)sqlite3_column_int64(st, 1);
        v[cnt].batch = (uint64_t)sqlite3_column_int64(st, 2);
        v[cnt].tenant = vg_strdup((const char *)sqlite3_column_text(st, 3));
        v[cnt].indexed = false;
        rc = v[cnt++].tenant ? SQLITE_ROW : SQLITE_NOMEM;
    }
    sqlite3_finalize(st);
    *out = v;
    *n = cnt;
    return rc == SQLITE_DONE ? VG_OK : vg_store_fail(w->p->db, rc, "compaction", w->err, w->errsz);
}

/* Merge blocks v[0..n) (one tenant) into one, in one transaction. */
static int run_merge(struct rewrite *w, const struct small_blk *v, size_t n)
{
    struct vg_store *s = w->s;
    uint64_t batch = 0;
    vg_store_block_reset(&s->bb);
    vg_store_docs_reset(&s->docs);
    int rc = vg_store_exec(w->p->db, "BEGIN IMMEDIATE", "begin", w->err, w->errsz);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        rc = block_remove(w, v[i].id, false, true);
        batch = VG_MAX(batch, v[i].batch);
    }
    rc = rc == VG_OK ? vg_store_block_write(s, w->p, v[0].tenant, strlen(v[0].tenant), batch, true,
                                            w->err, w->errsz)
                     : rc;
    rc = rc == VG_OK ? vg_store_exec(w->p->db, "COMMIT", "commit", w->err, w->errsz) : rc;
    if (rc != VG_OK) {
        sqlite3_exec(w->p->db, "ROLLBACK", NULL, NULL, NULL);
        vg_store_block_reset(&s->bb);
        vg_store_docs_reset(&s->docs);
    }
    return rc;
}

int vg_store_part_compact(struct vg_store *s, struct vg_store_part *p, char *err, size_t errsz)
{
    struct rewrite w;
    struct small_blk *v = NULL;
    size_t n = 0;
    if (s->undo_seq) {
        return VG_OK; /* an incomplete batch must be removable by its batch number first */
    }
    int rc = rewrite_init(&w, s, p, err, errsz);
    rc = rc == VG_OK ? small_list(&w, &v, &n) : rc;
    for (size_t i = 0; rc == VG_OK && i < n;) {
        size_t e = i + 1;
        uint64_t total = v[i].n;
        while (e < n && !strcmp(v[e].tenant, v[i].tenant) &&
               total + v[e].n <= s->opts.block_events) {
            total += v[e++].n;
        }
        rc = run_merge(&w, v + i, e - i);
        i = e;
    }
    p->small = 0;
    p->small_events = 0;
    small_free(v, n);
    rewrite_fini(&w);
    return rc;
}

/* ---------------------------------------------------------------- undo */

int vg_store_part_undo(struct vg_store *s, struct vg_store_part *p, uint64_t seq, char *err,
                       size_t errsz)
{
    struct rewrite w;
    sqlite3_stmt *st = NULL;
    struct small_blk *blks = NULL;
    size_t n = 0, cap = 0;
    int rc = rewrite_init(&w, s, p, err, errsz);
    rc = rc == VG_OK ? vg_store_exec(p->db, "BEGIN IMMEDIATE", "begin", err, errsz) : rc;
    if (rc == VG_OK && sqlite3_prepare_v2(p->db, "SELECT id, indexed FROM blocks WHERE batch = ?",
                                          -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
            rc = vg_grow(&blks, &cap, n + 1, sizeof(*blks));
            if (rc == VG_OK) {
                blks[n].id = sqlite3_column_int64(st, 0);
                blks[n++].indexed = sqlite3_column_int(st, 1) != 0;
            }
        }
    }
    sqlite3_finalize(st);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        rc = block_remove(&w, blks[i].id, blks[i].indexed, false);
    }
    char sql[256];
    snprintf(sql, sizeof(sql),
             "DELETE FROM dedupe WHERE seq = %lld;"
             "UPDATE batch SET nparts = 0, pos_after = pos_before,"
             " pos_flags = (pos_flags & 1) | ((pos_flags & 1) << 1) WHERE seq = %lld;",
             (long long)seq, (long long)seq);
    rc = rc == VG_OK ? vg_store_exec(p->db, sql, "undo batch", err, errsz) : rc;
    rc = rc == VG_OK ? vg_store_exec(p->db, "COMMIT", "commit", err, errsz) : rc;
    if (rc != VG_OK) {
        sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
    }
    vg_free(blks);
    rewrite_fini(&w);
    return rc;
}
