/*
 * store_scan.c — reading events back: the day partitions of the time range (newest
 * first), in each the blocks of the range and tenant, newest first, and in each block only
 * the events the full-text index says may match; those are decoded for the caller's
 * callback.
 *
 * With a filter, one FTS5 query per partition walks the matching blocks (rowid DESC) and
 * vigie_pos() reports where each phrase occurs: events for field terms, chunks for words.
 * The compiled filter tree (store_words.c) turns those into a bitmap of candidate events.
 * Blocks written without index row (small, awaiting compaction) are read whole.
 *
 * Each partition is read in its own read transaction on its own connection, so a scan sees
 * committed blocks only and never blocks the writer (WAL). The callback can raise a time
 * floor: once no remaining block can hold an event at or above it (a prefix maximum of
 * t_max over block ids tells), the scan ends — a top-N-by-time search reads few blocks.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USIZE_MAX (1u << 30) /* refuse absurd payload sizes from a damaged file */

struct blk {
    int64_t id;
    vg_time_t t_min, t_max;
    vg_time_t pmax; /* max t_max over this block and every block with a lower id */
    uint32_t n;
    uint64_t usize;
    const char *tenant;
    bool indexed;
};

struct scan_run {
    struct vg_store *s;
    struct vg_store_scan *sc;
    struct vg_store_scan_stats *st;
    sqlite3 *db;
    struct vg_arena *arena; /* per partition: block rows, compiled filter */
    struct vg_arena *tmp;   /* per block: bitmaps */
    struct blk *blks;
    size_t nblk, capblk;
    struct vg_store_cf *cf;
    int nph;
    ZSTD_DCtx *dz;
    void *ubuf;
    size_t ucap;
    struct vg_store_block_pos *pos;
    size_t poscap;
    struct vg_event *ev;
    char day[16];
    char *err;
    size_t errsz;
    bool stop;
};

/* ---------------------------------------------------------------- bitmaps */

static size_t bm_words(uint32_t n)
{
    return ((size_t)n + 63) / 64;
}

static uint64_t *bm_new(struct scan_run *r, uint32_t n, bool ones)
{
    size_t w = bm_words(n);
    uint64_t *b = vg_arena_alloc(r->tmp, w * sizeof(*b) + 8);
    if (!b) {
        return NULL;
    }
    memset(b, ones ? 0xff : 0, w * sizeof(*b));
    if (ones && n % 64) {
        b[w - 1] = (1ull << (n % 64)) - 1;
    }
    return b;
}

static bool bm_test(const uint64_t *b, uint32_t i)
{
    return (b[i / 64] >> (i % 64)) & 1;
}

/* ---------------------------------------------------------------- blocks of a partition */

static int blocks_load(struct scan_run *r)
{
    const struct vg_store_scan *sc = r->sc;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(r->db,
                                "SELECT id, t_min, t_max, n, usize, tenant, indexed FROM blocks"
                                " WHERE t_max >= ?1 AND t_min < ?2 AND (?3 IS NULL OR tenant = ?3)"
                                " ORDER BY id",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return VG_ENOENT; /* schema not created yet: an empty partition */
    }
    sqlite3_bind_int64(st, 1, sc->from == VG_TIME_NONE ? INT64_MIN : sc->from);
    sqlite3_bind_int64(st, 2, sc->to == VG_TIME_NONE ? INT64_MAX : sc->to);
    if (sc->tenant) {
        sqlite3_bind_text(st, 3, sc->tenant, -1, SQLITE_STATIC);
    }
    r->nblk = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (vg_grow(&r->blks, &r->capblk, r->nblk + 1, sizeof(*r->blks)) != VG_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
        struct blk *b = &r->blks[r->nblk];
        b->id = sqlite3_column_int64(st, 0);
        b->t_min = sqlite3_column_int64(st, 1);
        b->t_max = sqlite3_column_int64(st, 2);
        b->n = (uint32_t)VG_MIN(sqlite3_column_int64(st, 3), 1 << 20);
        b->usize = (uint64_t)sqlite3_column_int64(st, 4);
        b->tenant = vg_arena_strdup(r->arena, (const char *)sqlite3_column_text(st, 5));
        b->indexed = sqlite3_column_int(st, 6) != 0;
        b->pmax = r->nblk ? VG_MAX(r->blks[r->nblk - 1].pmax, b->t_max) : b->t_max;
        r->nblk++;
        if (!b->tenant) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? VG_OK : vg_store_fail(r->db, rc, "blocks", r->err, r->errsz);
}

static struct blk *blk_find(struct scan_run *r, int64_t id)
{
    size_t lo = 0, hi = r->nblk;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->blks[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < r->nblk && r->blks[lo].id == id ? &r->blks[lo] : NULL;
}

/* The partition's indexed fields (from its meta). */
static int fields_load(struct scan_run *r, char ***fields, size_t *n)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    *fields = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT v FROM meta WHERE k = 'fields'", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        rc = vg_store_fields_split((const char *)sqlite3_column_text(st, 0), fields, n);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- reading a block */

static int block_fetch(struct scan_run *r, const struct blk *b, size_t *len)
{
    sqlite3_stmt *st = NULL;
    if (b->usize > USIZE_MAX) {
        return VG_EINVAL;
    }
    if (b->usize > r->ucap) {
        void *nb = vg_realloc(r->ubuf, b->usize);
        if (!nb) {
            return VG_ENOMEM;
        }
        r->ubuf = nb;
        r->ucap = b->usize;
    }
    int rc = sqlite3_prepare_v2(r->db, "SELECT data FROM blockdata WHERE id = ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, b->id);
        rc = sqlite3_step(st);
    }
    int status = VG_OK;
    if (rc == SQLITE_ROW) {
        size_t n = ZSTD_decompressDCtx(r->dz, r->ubuf, b->usize, sqlite3_column_blob(st, 0),
                                       (size_t)sqlite3_column_bytes(st, 0));
        status = ZSTD_isError(n) ? VG_EINVAL : VG_OK;
        *len = n;
    } else {
        status =
            rc == SQLITE_DONE ? VG_ENOENT : vg_store_fail(r->db, rc, "block", r->err, r->errsz);
    }
    sqlite3_finalize(st);
    return status;
}

static bool in_range(const struct vg_store_scan *sc, vg_time_t t)
{
    return (sc->from == VG_TIME_NONE || t >= sc->from) && (sc->to == VG_TIME_NONE || t < sc->to) &&
           (sc->floor == VG_TIME_NONE || t >= sc->floor);
}

/* Hand the candidate events (bits set in cand; NULL: all) to the callback, newest first. */
static int block_emit(struct scan_run *r, const struct blk *b, const void *p, size_t len,
                      const uint64_t *cand)
{
    struct vg_store_block_reader br;
    struct vg_store_event_meta m = {.tenant = b->tenant, .partition = r->day, .block = b->id};
    int rc = vg_store_block_open(&br, p, len);
    if (rc == VG_OK && br.n > r->poscap) {
        rc = vg_grow(&r->pos, &r->poscap, br.n, sizeof(*r->pos));
    }
    rc = rc == VG_OK ? vg_store_block_index(&br, r->pos) : rc;
    /* arrival order is time order give or take: walking backwards yields newest first */
    for (uint32_t i = br.n; rc == VG_OK && i-- > 0 && !r->stop;) {
        if ((cand && (i >= b->n || !bm_test(cand, i))) || !in_range(r->sc, r->pos[i].ts)) {
            continue;
        }
        rc = vg_store_block_event(&br, &r->pos[i], r->ev);
        if (rc != VG_OK) {
            break;
        }
        m.index = i;
        r->st->events++;
        rc = r->sc->on_event(r->sc->ctx, r->ev, &m);
        if (rc == VG_STORE_STOP) {
            r->stop = true;
            rc = VG_OK;
        }
    }
    vg_store_block_close(&br);
    return rc;
}

static int block_run(struct scan_run *r, const struct blk *b, const uint64_t *cand)
{
    size_t len = 0;
    r->st->candidates++;
    r->st->decoded++;
    int rc = block_fetch(r, b, &len);
    if (rc == VG_ENOENT) {
        return VG_OK; /* removed since we listed it (compaction, undo) */
    }
    rc = rc == VG_OK ? block_emit(r, b, r->ubuf, len, cand) : rc;
    if (rc == VG_EINVAL) {
        VG_WARN(VG_STORE_COMP, "%s: block %lld is damaged; skipped", r->day, (long long)b->id);
        rc = VG_OK;
    }
    return rc;
}

/* ---------------------------------------------------------------- candidates */

/* Bitmaps per phrase from vigie_pos() output (events for field terms, chunks for words). */
static uint64_t **phrase_bits(struct scan_run *r, const struct blk *b, const void *blob, size_t len)
{
    uint64_t **ph = vg_arena_calloc(r->tmp, (size_t)(r->nph + 1) * sizeof(*ph));
    if (!ph) {
        return NULL;
    }
    for (int i = 0; i < r->nph; i++) {
        if (!(ph[i] = bm_new(r, b->n, false))) {
            return NULL;
        }
    }
    for (size_t k = 0; k + 4 <= len; k += 4) {
        uint32_t e;
        memcpy(&e, (const char *)blob + k, 4);
        uint32_t i = e >> 20, off = e & 0xfffff;
        if ((int)i < r->nph && off < b->n) {
            ph[i][off / 64] |= 1ull << (off % 64);
        }
    }
    return ph;
}

/* Chunk bits to event bits. */
static void chunks_expand(const uint64_t *chunks, uint64_t *ev, uint32_t n)
{
    for (uint32_t c = 0; (uint64_t)c * VG_STORE_CHUNK < n; c++) {
        if (!bm_test(chunks, c)) {
            continue;
        }
        for (uint32_t i = c * VG_STORE_CHUNK; i < n && i < (c + 1) * VG_STORE_CHUNK; i++) {
            ev[i / 64] |= 1ull << (i % 64);
        }
    }
}

static uint64_t *cf_eval(struct scan_run *r, const struct vg_store_cf *c, uint64_t **ph, uint32_t n)
{
    size_t w = bm_words(n);
    uint64_t *out = bm_new(r, n, c->op == VG_STORE_CF_ALL || c->op == VG_STORE_CF_AND);
    if (!out) {
        return NULL;
    }
    if (c->op == VG_STORE_CF_FIELD) {
        memcpy(out, ph[c->phrase], w * sizeof(*out));
    } else if (c->op == VG_STORE_CF_TEXT) {
        /* each word: its chunks, or events where it is a field value; all words together */
        uint64_t *wb = bm_new(r, n, false);
        if (!wb) {
            return NULL;
        }
        memset(out, 0xff, w * sizeof(*out));
        for (size_t k = 0; k < c->nwords; k++) {
            int p0 = c->words[k];
            memset(wb, 0, w * sizeof(*wb));
            chunks_expand(ph[p0], wb, n);
            for (int f = 1; f <= c->nfp; f++) {
                for (size_t i = 0; i < w; i++) {
                    wb[i] |= ph[p0 + f][i];
                }
            }
            for (size_t i = 0; i < w; i++) {
                out[i] &= wb[i];
            }
        }
    } else if (c->op == VG_STORE_CF_AND || c->op == VG_STORE_CF_OR) {
        for (size_t k = 0; k < c->nkids; k++) {
            uint64_t *kb = cf_eval(r, c->kids[k], ph, n);
            if (!kb) {
                return NULL;
            }
            for (size_t i = 0; i < w; i++) {
                out[i] = c->op == VG_STORE_CF_AND ? out[i] & kb[i] : out[i] | kb[i];
            }
        }
    }
    return out;
}

static bool bm_any(const uint64_t *b, uint32_t n)
{
    for (size_t i = 0; i < bm_words(n); i++) {
        if (b[i]) {
            return true;
        }
    }
    return false;
}

/* One row of the index query: which events of block b may match. */
static int indexed_block(struct scan_run *r, const struct blk *b, const void *blob, size_t len)
{
    vg_arena_reset(r->tmp);
    uint64_t **ph = phrase_bits(r, b, blob, len);
    uint64_t *cand = ph ? cf_eval(r, r->cf, ph, b->n) : NULL;
    if (!cand) {
        return VG_ENOMEM;
    }
    return bm_any(cand, b->n) ? block_run(r, b, cand) : VG_OK;
}

/* Is there nothing at or above the floor in this block and every older one? */
static bool below_floor(const struct scan_run *r, const struct blk *b)
{
    return r->sc->floor != VG_TIME_NONE && b->pmax < r->sc->floor;
}

/* No filter: every block of the range, newest first. */
static int blocks_all(struct scan_run *r)
{
    int rc = VG_OK;
    for (size_t i = r->nblk; rc == VG_OK && i-- > 0 && !r->stop;) {
        if (below_floor(r, &r->blks[i])) {
            break;
        }
        rc = block_run(r, &r->blks[i], NULL);
    }
    return rc;
}

/* The next unindexed block at or below index *u (walking down), or NULL. */
static struct blk *unindexed_next(struct scan_run *r, size_t *u)
{
    while (*u > 0) {
        struct blk *b = &r->blks[--*u];
        if (!b->indexed) {
            return b;
        }
    }
    return NULL;
}

/* Index rows (rowid DESC) merged with the unindexed blocks (read whole), newest first. */
static int blocks_matching(struct scan_run *r, const struct vg_sbuf *match)
{
    sqlite3_stmt *st = NULL;
    size_t u = r->nblk;
    struct blk *ub = unindexed_next(r, &u);
    int src = sqlite3_prepare_v2(r->db,
                                 "SELECT rowid, vigie_pos(fts) FROM fts WHERE fts MATCH ?"
                                 " ORDER BY rowid DESC",
                                 -1, &st, NULL);
    if (src != SQLITE_OK) {
        int rc = vg_store_fail(r->db, src, "full-text index", r->err, r->errsz);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_bind_text(st, 1, match->p, (int)match->len, SQLITE_STATIC);
    int rc = VG_OK;
    src = sqlite3_step(st);
    while (rc == VG_OK && !r->stop && (src == SQLITE_ROW || ub)) {
        int64_t fid = src == SQLITE_ROW ? sqlite3_column_int64(st, 0) : INT64_MIN;
        if (ub && ub->id > fid) {
            if (below_floor(r, ub)) {
                break;
            }
            rc = block_run(r, ub, NULL);
            ub = unindexed_next(r, &u);
            continue;
        }
        struct blk *b = blk_find(r, fid);
        if (b && below_floor(r, b)) {
            break;
        }
        if (b && b->indexed) {
            rc = indexed_block(r, b, sqlite3_column_blob(st, 1),
                               (size_t)sqlite3_column_bytes(st, 1));
        }
        src = sqlite3_step(st);
    }
    if (rc == VG_OK && src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = vg_store_fail(r->db, src, "full-text index", r->err, r->errsz);
    }
    sqlite3_finalize(st);
    return rc;
}

static int part_filter(struct scan_run *r, struct vg_sbuf *match)
{
    char **fields;
    size_t nf;
    int rc = fields_load(r, &fields, &nf);
    rc = rc == VG_OK
             ? vg_store_filter_compile(r->sc->filter, fields, nf, r->arena, match, &r->cf, &r->nph)
             : rc;
    vg_store_fields_free(fields, nf);
    return rc;
}

static int part_scan(struct scan_run *r, int64_t day)
{
    struct vg_sbuf match = VG_SBUF_INIT;
    vg_store_day_name(day, r->day, sizeof(r->day));
    int rc = vg_store_part_open_read(r->s, day, &r->db, r->err, r->errsz);
    if (rc == VG_ENOENT) {
        return VG_OK; /* dropped by retention since we listed it */
    }
    r->st->partitions++;
    vg_arena_reset(r->arena);
    rc = rc == VG_OK ? vg_store_exec(r->db, "BEGIN", "begin", r->err, r->errsz) : rc;
    if (rc == VG_OK) {
        rc = blocks_load(r);
        r->st->blocks += rc == VG_OK ? r->nblk : 0;
        rc = rc == VG_OK ? part_filter(r, &match) : rc;
        if (rc == VG_OK) {
            rc = r->cf->op == VG_STORE_CF_ALL ? blocks_all(r) : blocks_matching(r, &match);
        }
        rc = rc == VG_ENOENT ? VG_OK : rc;
        sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    }
    sqlite3_close(r->db);
    r->db = NULL;
    vg_sbuf_fini(&match);
    return rc;
}

static bool day_wanted(const struct vg_store_scan *sc, int64_t day)
{
    vg_time_t start = day * VG_STORE_DAY_NS, end = start + VG_STORE_DAY_NS;
    return (sc->to == VG_TIME_NONE || start < sc->to) &&
           (sc->from == VG_TIME_NONE || end > sc->from);
}

int vg_store_scan(struct vg_store *s, struct vg_store_scan *sc, struct vg_store_scan_stats *st,
                  char *err, size_t errsz)
{
    struct vg_store_scan_stats local;
    struct scan_run r = {.s = s, .sc = sc, .st = st ? st : &local, .err = err, .errsz = errsz};
    int64_t *days = NULL;
    size_t nd = 0;
    memset(r.st, 0, sizeof(*r.st));
    int rc = vg_store_days_list(s, &days, &nd);
    r.arena = vg_arena_create(16384);
    r.tmp = vg_arena_create(65536);
    r.dz = ZSTD_createDCtx();
    r.ev = vg_event_create();
    if (rc == VG_OK && (!r.arena || !r.tmp || !r.dz || !r.ev)) {
        rc = VG_ENOMEM;
    }
    for (size_t i = nd; rc == VG_OK && i-- > 0 && !r.stop;) {
        vg_time_t end = (days[i] + 1) * VG_STORE_DAY_NS;
        if (sc->floor != VG_TIME_NONE && end <= sc->floor) {
            break; /* partitions hold disjoint days: the rest is older than the floor */
        }
        if (day_wanted(sc, days[i])) {
            rc = part_scan(&r, days[i]);
        }
    }
    if (rc == VG_ENOMEM && err && errsz) {
        snprintf(err, errsz, "out of memory");
    }
    vg_free(days);
    vg_free(r.blks);
    vg_free(r.ubuf);
    vg_free(r.pos);
    vg_event_destroy(r.ev);
    ZSTD_freeDCtx(r.dz);
    vg_arena_destroy(r.arena);
    vg_arena_destroy(r.tmp);
    return rc;
}
