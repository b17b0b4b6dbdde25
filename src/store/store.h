/*
 * store.h — the embedded store: events, alerts and small state in SQLite (WAL).
 *
 * Where it sits: the server's store thread appends decoded events in batches (after
 * detection) and alerts; the API, `vigie search` and the query module read concurrently,
 * from other threads or other processes. ClickHouse/PostgreSQL back ends for scale-out will
 * sit behind the same calls.
 *
 * Data directory (see docs/store.md):
 *   DIR/main.db               alerts, state (key/value), the position mirror
 *   DIR/events/YYYY-MM-DD.db  events whose @timestamp falls on that UTC day
 *   DIR/LOCK                  flock'ed by the one writer
 *
 * Events are stored in compressed blocks (zstd, up to 4,096 events of one tenant) with a
 * full-text index (FTS5, one row per block) that says which events hold which value of an
 * indexed field and which 64-event chunks hold which word of the raw text; a search decodes
 * only the events the index selects and the query module checks each of them.
 *
 * Threading: one writer handle per directory (enforced with a lock file). The write calls
 * (append, alert_append, state_put, maintain) are serialised internally, so any thread may
 * call them. The read calls (scan, alert_query, state_get, position, stats) open their own
 * SQLite connections and run concurrently with writes and with each other. A store opened
 * read-only (opts.readonly) only reads and may live in another process while a server
 * writes.
 */
#ifndef VG_STORE_H
#define VG_STORE_H

#include "event/event.h"

struct vg_store;

/* Default fields indexed for `field:value` searches (ECS names). */
#define VG_STORE_INDEX_FIELDS_DEFAULT                                                              \
    "host.name,user.name,source.ip,destination.ip,event.module,event.category,event.action,"       \
    "event.outcome,process.name"

struct vg_store_opts {
    bool readonly;            /* search only: no lock, no writes, no recovery */
    bool sync_full;           /* synchronous=FULL: commits survive power loss (slower) */
    int zstd_level;           /* block compression level; 0 = default (3) */
    uint32_t block_events;    /* events per block at most; 0 = default (4096) */
    const char *index_fields; /* comma-separated; NULL = VG_STORE_INDEX_FIELDS_DEFAULT; applies to
                                partitions created from now on */
    uint32_t retention_days;  /* drop event partitions older than this; 0 = keep */
    uint64_t max_bytes;       /* drop oldest partitions while the store is larger; 0 = no bound */
    uint32_t alert_retention_days; /* delete older alerts in maintain; 0 = keep */
};

/*
 * Open (creating it unless readonly) the store in dir. Recovers from a crash during a batch
 * that spanned several day partitions (the batch is removed as a whole). Returns VG_OK;
 * VG_ENOENT (readonly and no store there), VG_EEXIST (another writer holds the lock),
 * VG_ENOSPC, VG_EIO, VG_EINVAL; err says what and where.
 */
int vg_store_open(const char *dir, const struct vg_store_opts *o, struct vg_store **out, char *err,
                  size_t errsz);
/* Close (NULL: no-op). Nothing is pending: every append was committed when it returned. */
void vg_store_close(struct vg_store *s);

/* ---------------------------------------------------------------- appending events */

/* Per-event extras for vg_store_append (the array may be NULL: all defaults). */
struct vg_store_item {
    const char *tenant; /* NULL: the event's "tenant" field, else "default" */
    const char *key;    /* dedupe key; NULL: none */
    size_t key_len;     /* 0 with key != NULL: strlen(key) */
};

struct vg_store_append_opts {
    const struct vg_store_item *items; /* NULL or n items */
    bool has_position;                 /* record position with this batch */
    uint64_t position;                 /* opaque source position (journal offset) */
};

struct vg_store_append_result {
    size_t stored;  /* events written */
    size_t skipped; /* events whose dedupe key was stored already (or repeated in the batch) */
};

/*
 * Append a batch of n events (o may be NULL): all or nothing. Every event goes to the
 * partition of its UTC day (events without a timestamp get the current time); a dedupe key
 * seen before (same tenant) skips its event. The position, if any, is recorded in the same
 * commit; n may be 0 to record a position alone. When this returns VG_OK the batch is
 * committed and survives kill -9 of the process (and power loss with sync_full). Errors:
 * VG_ENOSPC (disk full; nothing from the batch is stored; retry later), VG_EIO, VG_ENOMEM,
 * VG_EINVAL (readonly store). err says what. Thread-safe (serialised with other writes).
 */
int vg_store_append(struct vg_store *s, const struct vg_event *const *evs, size_t n,
                    const struct vg_store_append_opts *o, struct vg_store_append_result *res,
                    char *err, size_t errsz);

/*
 * The position recorded with the last committed batch that had one. VG_ENOENT if none was
 * ever recorded.
 */
int vg_store_position(struct vg_store *s, uint64_t *out);

/* ---------------------------------------------------------------- scanning events */

/* Block prefilter: which blocks may hold matches. Leaves on fields the index does not
 * cover count as "any block". */
enum vg_store_filter_op {
    VG_STORE_F_ALL = 0, /* every block */
    VG_STORE_F_AND,
    VG_STORE_F_OR,
    VG_STORE_F_FIELD, /* field == value (case-insensitive); prefix: value starts with it */
    VG_STORE_F_TEXT,  /* the raw text contains `text` at word boundaries; open_start/open_end:
                         a wildcard touches that end */
};

struct vg_store_filter {
    enum vg_store_filter_op op;
    const char *field; /* FIELD */
    const char *text;  /* FIELD value / TEXT */
    size_t len;
    bool prefix;                   /* FIELD */
    bool open_start;               /* TEXT */
    bool open_end;                 /* TEXT */
    struct vg_store_filter **kids; /* AND / OR */
    size_t nkids;
};

/* What the scan knows about each event it hands out. */
struct vg_store_event_meta {
    const char *tenant;
    const char *partition; /* "YYYY-MM-DD" */
    int64_t block;
    uint32_t index; /* position within the block */
};

/* The callback's verdict. */
enum {
    VG_STORE_CONTINUE = 0,
    VG_STORE_STOP = 1,
};

struct vg_store_scan {
    const char *tenant;                   /* NULL: every tenant */
    vg_time_t from;                       /* inclusive; VG_TIME_NONE: open */
    vg_time_t to;                         /* exclusive; VG_TIME_NONE: open */
    const struct vg_store_filter *filter; /* NULL: every block */
    /*
     * Called for each event of each candidate block in the time range, newest blocks first
     * (events within a block newest first). ev is borrowed until the callback returns.
     * Return VG_STORE_CONTINUE, VG_STORE_STOP, or a negative status to abort the scan.
     */
    int (*on_event)(void *ctx, struct vg_event *ev, const struct vg_store_event_meta *m);
    void *ctx;
    /*
     * The callback may raise floor while scanning: blocks whose events are all older are
     * skipped (a top-N by time stops early). VG_TIME_NONE: no floor.
     */
    vg_time_t floor;
};

struct vg_store_scan_stats {
    uint64_t partitions; /* partitions opened */
    uint64_t blocks;     /* blocks in the time range */
    uint64_t candidates; /* blocks the index selected */
    uint64_t decoded;    /* blocks decompressed */
    uint64_t events;     /* events handed to the callback */
};

/*
 * Scan the events of the store (any thread, concurrently with appends). Returns VG_OK (also
 * when the callback stopped), the callback's negative status, VG_EIO or VG_ENOMEM.
 */
int vg_store_scan(struct vg_store *s, struct vg_store_scan *sc, struct vg_store_scan_stats *st,
                  char *err, size_t errsz);

/*
 * The searchable text of an event: its raw record, or its JSON rendering when it has none.
 * Free-text search matches against exactly this (the index holds its words). Appends to
 * out.
 */
void vg_store_event_text(const struct vg_event *ev, struct vg_sbuf *out);

/*
 * Word rules of the full-text index, shared with the query module: a word is a maximal run
 * of ASCII letters, digits, '_', bytes >= 0x80, and dots between two digits — so an IPv4
 * address or a version (10.1.2.3, 2.4.57) is one word. Words are case-folded (vg_fold) and
 * indexed cut to VG_STORE_WORD_MAX bytes; plain numbers (digits only: times, pids, ports)
 * are not indexed — a search for one alone reads every block of its time range.
 */
#define VG_STORE_WORD_MAX 64
static inline bool vg_store_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c >= 0x80;
}
static inline bool vg_store_is_digit(char c)
{
    return c >= '0' && c <= '9';
}
/* Is byte i of t[0..n) inside a word? */
static inline bool vg_store_in_word(const char *t, size_t n, size_t i)
{
    return vg_store_word_byte((unsigned char)t[i]) ||
           (t[i] == '.' && i > 0 && i + 1 < n && vg_store_is_digit(t[i - 1]) &&
            vg_store_is_digit(t[i + 1]));
}

/*
 * vg_time_parse limited to the years a vg_time_t can hold (1678-2261): core's parser would
 * overflow on others, and these texts come from logs and queries.
 */
int vg_store_time_parse(const char *p, size_t n, vg_time_t *out);

/* ---------------------------------------------------------------- alerts */

struct vg_store_alert {
    int64_t id;         /* assigned by the store (output) */
    vg_time_t ts;       /* time of the triggering event */
    vg_time_t created;  /* when stored (output; set by the store) */
    const char *tenant; /* NULL: "default" */
    const char *rule_id;
    const char *title;
    int level;          /* enum vg_sigma_level numbering: 1 informational .. 5 critical */
    const char *tags;   /* JSON array text, e.g. ["attack.t1110","attack.credential_access"] */
    const char *attack; /* JSON array of ATT&CK technique ids, e.g. ["T1110"] */
    const char *host;   /* entities (NULL when unknown) */
    const char *user;
    const char *src_ip;
    const char *dst_ip;
    const char *process;
    const char *event_json; /* the event (vg_event_write_json), NULL: none */
};

/* Append alerts in one transaction; ids are written back to a[i].id. */
int vg_store_alert_append(struct vg_store *s, struct vg_store_alert *a, size_t n, char *err,
                          size_t errsz);
/*
 * The same, and in the same transaction the state row key = val (when key is not NULL): the
 * server records which journal position its alerts reached, so a restart neither repeats
 * nor loses an alert.
 */
int vg_store_alert_append_state(struct vg_store *s, struct vg_store_alert *a, size_t n,
                                const char *key, const void *val, size_t len, char *err,
                                size_t errsz);

struct vg_store_alert_query {
    const char *tenant;  /* NULL: all */
    vg_time_t from, to;  /* by alert time (ts); VG_TIME_NONE: open */
    int min_level;       /* 0: all */
    const char *rule_id; /* NULL: all */
    int64_t before_id;   /* paging: only ids below this; 0: none */
    int64_t after_id;    /* > 0: only ids above this, in id order (oldest first): a consumer
                            (triage) reading what was appended since its position */
    int64_t id;          /* > 0: only the alert with this id */
    size_t limit;        /* 0: 100 */
    /* Newest first (id order with after_id); strings are borrowed until the callback returns. */
    int (*on_alert)(void *ctx, const struct vg_store_alert *a);
    void *ctx;
};
int vg_store_alert_query(struct vg_store *s, const struct vg_store_alert_query *q, char *err,
                         size_t errsz);
/* One alert as a JSON object (appended to out). */
void vg_store_alert_write_json(const struct vg_store_alert *a, struct vg_sbuf *out);

/* ---------------------------------------------------------------- small state */

/* Durable key/value state for other modules (checkpoints, cursors). */
int vg_store_state_put(struct vg_store *s, const char *key, const void *val, size_t len, char *err,
                       size_t errsz);
/* *val is allocated (vg_free; NUL-terminated for convenience); VG_ENOENT if absent. */
int vg_store_state_get(struct vg_store *s, const char *key, char **val, size_t *len);

/* ---------------------------------------------------------------- state databases */

/*
 * Other modules (triage, cases, playbook runs, audit) keep their state in their own SQLite
 * files next to the store, configured as the store's: WAL, synchronous=NORMAL (a commit
 * survives a process crash), a 10 s busy timeout. Open one for writing (created if needed);
 * the connection is NOMUTEX: one thread at a time. Close with sqlite3_close.
 */
struct sqlite3;
int vg_store_sqlite_open(const char *path, struct sqlite3 **out, char *err, size_t errsz);
/* Run SQL without results; on failure err says "what: SQLite's message". */
int vg_store_sqlite_exec(struct sqlite3 *db, const char *sql, const char *what, char *err,
                         size_t errsz);
/* A VG_E* status for a SQLite result code (ENOSPC detected), with err "what: message". */
int vg_store_sqlite_fail(struct sqlite3 *db, int sqlite_rc, const char *what, char *err,
                         size_t errsz);

/* ---------------------------------------------------------------- maintenance */

struct vg_store_maint_report {
    uint32_t dropped_partitions;
    uint64_t dropped_bytes;
    uint64_t alerts_deleted;
    uint64_t total_bytes; /* after maintenance */
};

/*
 * Apply retention (age, then size) by dropping whole day partitions, oldest first (never
 * the newest one), and delete old alerts. Call periodically from the writer side. now is
 * the reference time (vg_time_now() in production).
 */
int vg_store_maintain(struct vg_store *s, vg_time_t now, struct vg_store_maint_report *r, char *err,
                      size_t errsz);

struct vg_store_stats {
    uint32_t partitions;
    uint64_t events;
    uint64_t blocks;
    uint64_t raw_bytes;  /* raw text bytes stored (before compression) */
    uint64_t disk_bytes; /* all files of the store, WAL included */
    vg_time_t oldest, newest;
};
/* Counts from the block tables (reads every partition). */
int vg_store_stats(struct vg_store *s, struct vg_store_stats *st, char *err, size_t errsz);

#endif /* VG_STORE_H */
