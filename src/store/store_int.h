/*
 * store_int.h — internals of the embedded store shared by its files: the store and
 * partition handles, the block format, the word/index helpers, SQLite plumbing.
 *
 * Layout of one partition file (events/YYYY-MM-DD.db):
 *   meta(k PRIMARY KEY, v)         format version, indexed fields
 *   blocks(id, tenant, t_min, t_max, n, usize, raw_bytes, batch)   one row per block
 *   blockdata(id, data)            the zstd-compressed block payload
 *   fts (FTS5, contentless, detail=full, tokenizer "vigie")  one row per block: field
 *                                  terms by event, words by chunk (see "words and terms")
 *   dedupe(k BLOB PRIMARY KEY, seq) WITHOUT ROWID   minute of day + BLAKE2b of tenant, key
 *   batch(id=1, seq, part, nparts, pos_before, pos_after, pos_flags)  last batch written
 */
#ifndef VG_STORE_INT_H
#define VG_STORE_INT_H

#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <zstd.h>

#define VG_STORE_COMP      "store"
#define VG_STORE_FORMAT    1
#define VG_STORE_TERM_MAX  128    /* bytes of a field value kept in its index term */
#define VG_STORE_TERM_MARK '\x1e' /* starts a field term; never in a word */
#define VG_STORE_DAY_NS    (86400LL * 1000000000LL)
#define VG_STORE_MAX_PARTS 16 /* writer partitions kept open */

/* ---------------------------------------------------------------- partitions */

/* Days since the epoch of t (floor), and the "YYYY-MM-DD" name of a day. */
int64_t vg_store_day_of(vg_time_t t);
void vg_store_day_name(int64_t day, char *buf, size_t size);
/* Parse "YYYY-MM-DD.db" (or without .db when ext is false); false if it is not one. */
bool vg_store_day_parse(const char *name, bool ext, int64_t *day);

/* A writer's open partition. */
struct vg_store_part {
    int64_t day;
    sqlite3 *db;
    sqlite3_stmt *ins_block, *ins_data, *ins_fts, *ins_dedupe, *put_batch;
    char **fields; /* indexed fields of this partition (from its meta) */
    uint32_t *field_ids;
    size_t nfields;
    uint64_t used;         /* LRU stamp */
    uint32_t small;        /* blocks written without index document since the last compaction */
    uint64_t small_events; /* events in them */
};

/* The last batch row of a partition. */
struct vg_store_batch_row {
    bool present;
    uint64_t seq;
    uint32_t part, nparts; /* nparts 0: batch undone */
    uint64_t pos_before, pos_after;
    bool pos_before_ok, pos_after_ok;
};

struct vg_store; /* defined below, after the block and term-set types it embeds */

/* main.db: a read connection (caller closes); the position mirror (writer). */
int vg_store_main_read(struct vg_store *s, sqlite3 **db, char *err, size_t errsz);
int vg_store_mirror_write(struct vg_store *s, char *err, size_t errsz);
/* Remove the committed parts of batch s->undo_seq everywhere (writer, under mu). */
int vg_store_undo_pending(struct vg_store *s, char *err, size_t errsz);

/* Split "a,b,c" (spaces trimmed) into an owned array of names. */
int vg_store_fields_split(const char *list, char ***out, size_t *n);
void vg_store_fields_free(char **v, size_t n);

/* Open a partition file for reading (NULL + VG_ENOENT if it does not exist). */
int vg_store_part_open_read(struct vg_store *s, int64_t day, sqlite3 **db, char *err, size_t errsz);
/* Get (open or create) the writer's partition for day. */
int vg_store_part_get(struct vg_store *s, int64_t day, struct vg_store_part **out, char *err,
                      size_t errsz);
void vg_store_part_close(struct vg_store_part *p);
/* Close the writer's handle of a day (before deleting its files). */
void vg_store_part_forget(struct vg_store *s, int64_t day);
/* Read the batch row of a partition connection. */
int vg_store_batch_row_read(sqlite3 *db, struct vg_store_batch_row *r);
/* Day partitions present on disk, sorted ascending (vg_free the array). */
int vg_store_days_list(const struct vg_store *s, int64_t **days, size_t *n);
/*
 * Write the block in s->bb as a new block of p (within the caller's transaction), with the
 * index document in s->terms when index is true, then reset both. A block without document
 * is "unindexed": every search reads it, until compaction merges it into an indexed one.
 */
int vg_store_block_write(struct vg_store *s, struct vg_store_part *p, const char *tenant,
                         size_t tlen, uint64_t batch, bool index, char *err, size_t errsz);
/*
 * Merge the unindexed blocks of p into full, indexed blocks (one transaction per merged
 * block). Used when enough have accumulated, and by maintenance (all of them).
 */
int vg_store_part_compact(struct vg_store *s, struct vg_store_part *p, char *err, size_t errsz);
/* Remove batch seq from a writer partition and mark its batch row undone. */
int vg_store_part_undo(struct vg_store *s, struct vg_store_part *p, uint64_t seq, char *err,
                       size_t errsz);

/* ---------------------------------------------------------------- SQLite helpers */

/* Open a connection with the store's settings (WAL, busy timeout, tokenizer). */
int vg_store_db_open(const char *path, bool write, bool create, bool sync_full, sqlite3 **out,
                     char *err, size_t errsz);
/* Run SQL text (no results); on error fill err with "what: sqlite message". */
int vg_store_exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errsz);
/* Map an SQLite result code to a status (SQLITE_FULL → VG_ENOSPC, ...). */
int vg_store_rc(int sqlite_rc);
/* err = "what: <sqlite errmsg>" and the mapped status. */
int vg_store_fail(sqlite3 *db, int sqlite_rc, const char *what, char *err, size_t errsz);
/* Register the "vigie" FTS5 tokenizer and the vigie_pos() function on a connection. */
int vg_store_tokenizer_register(sqlite3 *db);

/* ---------------------------------------------------------------- words and terms */

/*
 * The full-text index: one FTS5 row per block (rowid = block id), two columns, positions
 * kept (detail=full) and used as addresses inside the block:
 *   f  field terms "\x1e<field>=<folded value>" of the indexed fields; the position of a
 *      term is the index of the event that has it (exact per event)
 *   w  the words of the events' searchable text; the position of a word is the chunk of
 *      VG_STORE_CHUNK events that has it (each word once per chunk)
 * Documents are groups terminated by '\x1f' (one per event in f, one per chunk in w) of
 * terms separated by '\n'; the "vigie" tokenizer gives every term of a group the group's
 * position (FTS5_TOKEN_COLOCATED), and an empty group the placeholder term "\x1d".
 */
#define VG_STORE_CHUNK      64
#define VG_STORE_GROUP_END  '\x1f'
#define VG_STORE_EMPTY_TERM "\x1d"

/*
 * How the index keeps a folded word: plain numbers are left out (times, ports, pids: many
 * distinct values, rarely searched as text); long words are cut to VG_STORE_WORD_MAX
 * bytes. Returns the kept length, 0 when left out.
 */
size_t vg_store_word_keep(const char *w, size_t n);

/* A set of distinct terms, written out as "term\nterm\n...". */
struct vg_store_term_slot {
    uint32_t off1; /* offset + 1 of the term in buf; 0: empty */
    uint32_t len;
    uint32_t hash;
};
struct vg_store_termset {
    struct vg_store_term_slot *slots; /* open addressing, power-of-two capacity */
    size_t cap;
    size_t count;
    uint64_t seed; /* per process: term hashes are not predictable from log content */
    struct vg_sbuf buf;
};
void vg_store_termset_init(struct vg_store_termset *t);
void vg_store_termset_fini(struct vg_store_termset *t);
void vg_store_termset_reset(struct vg_store_termset *t);
/* Add a term (bytes without '\n', '\x1f' or NUL). */
int vg_store_termset_add(struct vg_store_termset *t, const char *p, size_t n);
/* Add every indexable word of text. */
int vg_store_termset_add_text(struct vg_store_termset *t, const char *text, size_t n);

/* The two index documents of a block being built. */
struct vg_store_docs {
    struct vg_sbuf f, w;
    struct vg_store_termset chunk; /* words of the current chunk */
    struct vg_sbuf scratch, folded;
    uint32_t n; /* events added */
    /* the current event's field terms in f: where each term and its value start */
    struct {
        uint32_t term, value, len;
    } terms[64];
    uint32_t nterms;
};
void vg_store_docs_init(struct vg_store_docs *d);
void vg_store_docs_fini(struct vg_store_docs *d);
void vg_store_docs_reset(struct vg_store_docs *d);
/* Add the terms of the next event (indexed fields: names and their interned ids). */
int vg_store_docs_add(struct vg_store_docs *d, const struct vg_event *ev, char *const *fields,
                      const uint32_t *ids, size_t nfields);
/* Close the last chunk; the documents are then complete. */
int vg_store_docs_finish(struct vg_store_docs *d);

/*
 * A store filter compiled for one partition: the FTS5 MATCH expression, and a tree whose
 * leaves name the expression's phrases (numbered as FTS5 numbers them, left to right), to
 * turn the positions of a matching row back into the events that may match.
 */
enum vg_store_cf_op {
    VG_STORE_CF_ALL = 0,
    VG_STORE_CF_AND,
    VG_STORE_CF_OR,
    VG_STORE_CF_FIELD, /* events holding phrase `phrase` (column f) */
    VG_STORE_CF_TEXT,  /* events holding every one of `words` (column w by chunk, or a field
                          value by event) */
};
struct vg_store_cf {
    enum vg_store_cf_op op;
    struct vg_store_cf **kids;
    size_t nkids;
    int phrase;
    int *words; /* per word: its phrase in column w; the next nfp phrases: as field values */
    size_t nwords;
    int nfp;
};
/*
 * Compile filter f for a partition's indexed fields. *match receives the MATCH expression
 * (empty when the whole filter selects everything: *root is then CF_ALL). Nodes live in a.
 */
int vg_store_filter_compile(const struct vg_store_filter *f, char *const *fields, size_t nfields,
                            struct vg_arena *a, struct vg_sbuf *match, struct vg_store_cf **root,
                            int *nphrases);

/* ---------------------------------------------------------------- blocks */

/*
 * Block payload (before compression), integers LEB128 varints, zz = zigzag:
 *   "VGB2" zz(base_ts) nev nnames (len bytes)*nnames
 *   len(meta) len(fields) len(values) len(raws)
 *   meta:   per event: zz(ts - base_ts) kind nfields fields_bytes values_bytes raw_len
 *   fields: per field: name_index type (ref: offset-in-raw len | len)
 *   values: the bytes of every value that is not a slice of the raw record
 *   raws:   every raw record, concatenated
 * A value that points into its event's raw record (zero-copy decoders) is stored as a
 * reference, so the text is not kept twice.
 */
struct vg_store_block_builder {
    struct vg_sbuf names, meta, fields, values, raws, out;
    uint32_t *name_idx; /* field id → name index + 1 (0: not in this block yet) */
    size_t name_cap;
    uint32_t nnames;
    uint32_t n;
    vg_time_t t_min, t_max, t_first;
    uint64_t raw_bytes;
};
void vg_store_block_init(struct vg_store_block_builder *b);
void vg_store_block_fini(struct vg_store_block_builder *b);
void vg_store_block_reset(struct vg_store_block_builder *b);
int vg_store_block_add(struct vg_store_block_builder *b, const struct vg_event *ev, vg_time_t ts);
/* Serialise (uncompressed) into b->out. */
int vg_store_block_finish(struct vg_store_block_builder *b);

/* Decoding an uncompressed payload (untrusted: every read is bounded). */
struct vg_store_block_reader {
    uint32_t n;
    vg_time_t base;
    uint32_t nnames;
    uint32_t *ids; /* field ids of the name table */
    const uint8_t *meta, *fields, *values, *raws;
    size_t meta_len, fields_len, values_len, raws_len;
};
/* Where one event lives in the payload (from the headers alone). */
struct vg_store_block_pos {
    vg_time_t ts;
    uint8_t kind;
    uint32_t nfields;
    size_t fields, flen, voff, vlen, roff, rlen;
};
int vg_store_block_open(struct vg_store_block_reader *r, const void *p, size_t len);
void vg_store_block_close(struct vg_store_block_reader *r);
/* Fill pos[0..r->n) from the event headers; VG_EINVAL if they do not add up. */
int vg_store_block_index(struct vg_store_block_reader *r, struct vg_store_block_pos *pos);
/* Decode one event (reset first); its strings point into the payload. */
int vg_store_block_event(struct vg_store_block_reader *r, const struct vg_store_block_pos *e,
                         struct vg_event *ev);

/* Fault injection for tests: when >= 0, the process _exits right after committing that part
 * of a multi-day batch (a crash between two partition commits). */
extern int vg_store_test_exit_after_part;

/* ---------------------------------------------------------------- the store */

struct vg_store {
    char *dir;
    char *events_dir;
    struct vg_store_opts opts;
    char *index_fields; /* owned copy of opts.index_fields */
    int lock_fd;

    pthread_mutex_t mu; /* serialises every write call */
    sqlite3 *main;      /* writer connection to main.db (NULL when readonly) */
    struct vg_store_part *parts[VG_STORE_MAX_PARTS];
    size_t nparts;
    uint64_t lru;

    uint64_t seq; /* last batch sequence used */
    uint64_t pos; /* position after the last committed batch */
    bool pos_ok;
    uint64_t undo_seq; /* a batch whose committed parts still need removing; 0: none */

    /* append scratch (writer only, under mu) */
    ZSTD_CCtx *zc;
    struct vg_store_block_builder bb;
    struct vg_store_docs docs;
    void *zbuf;
    size_t zcap;
};

/* Free space kept beyond a batch's own needs (WAL checkpoints, indexes): 1 MiB. */
#define STORE_SPACE_MARGIN (1u << 20)
/* VG_ENOSPC (err filled) when the store's filesystem lacks room for raw_bytes of events. */
int vg_store_space_check(struct vg_store *s, uint64_t raw_bytes, char *err, size_t errsz);

#endif /* VG_STORE_INT_H */
