/*
 * query.h — the search language of `vigie search` and GET /api/v1/search.
 *
 *   user.name:alice                      field equals value (case-insensitive)
 *   user.name:adm*  url.path:*login?     wildcards (* any run, ? one character; \ escapes)
 *   "Failed password"  root              free text: phrases and words of the raw record
 *   source.port:[1000 TO 2000]  status:>=500  bytes:{0 TO 100}   numeric/time/text ranges
 *   source.ip:10.0.0.0/8                 CIDR match on addresses
 *   @timestamp:[2024-05-01 TO now-1h]    time range (RFC 3339, dates, now, -15m, now-2d)
 *   a AND b, a OR b, NOT a, -a, a b (implicit AND), ( ), field:(a OR b)
 *   | stats count [, dc(f) sum(f) avg(f) min(f) max(f) [as name]] [by f[, g]]
 *   | top f [N]      | timechart span=1m [count] [by f]      | sort [-]f[, ...]   | head [N]
 *
 * Keywords (AND OR NOT TO by as) are upper case as written here (by/as lower case). Errors
 * name the offending column: "column 17: expected a value after ':'".
 *
 * Evaluation: the query compiles to a block filter for the store's full-text index (field
 * terms of indexed fields, words, the time range), and every event of the selected blocks
 * is checked against the whole expression; pipes run in C. Results are the newest matching
 * events (or aggregate rows), at most a limit.
 *
 * Thread-safety: a parsed query is immutable; any number of threads may run it at once.
 */
#ifndef VG_QUERY_H
#define VG_QUERY_H

#include "store/store.h"

struct vg_query;

/*
 * Parse a query. now anchors relative times in the query (VG_TIME_NONE: the current time).
 * Returns VG_OK, VG_EINVAL with err = "column N: reason", VG_ENOMEM.
 */
int vg_query_parse(const char *text, size_t len, vg_time_t now, struct vg_query **out, char *err,
                   size_t errsz);
void vg_query_destroy(struct vg_query *q);

/*
 * Parse a time as the CLI and the language accept it: RFC 3339 / ISO 8601, a date
 * (YYYY-MM-DD, midnight UTC), "now", or relative to now: "-1h", "now-15m", "+2d", "now".
 */
int vg_query_time_parse(const char *p, size_t n, vg_time_t now, vg_time_t *out);

/* Does the query end in an aggregation (stats, top, timechart)? */
bool vg_query_is_aggregate(const struct vg_query *q);
/* The query in canonical form (fully parenthesised), for tests and logs. */
void vg_query_dump(const struct vg_query *q, struct vg_sbuf *out);
/* Does one event match the filter part? tenant may be NULL. */
bool vg_query_match(const struct vg_query *q, struct vg_event *ev, const char *tenant);

/* ---------------------------------------------------------------- running */

enum vg_query_row_kind {
    VG_QUERY_ROW_EVENT,
    VG_QUERY_ROW_AGG,
};

struct vg_query_row {
    enum vg_query_row_kind kind;
    /* EVENT */
    const struct vg_event *ev; /* its fields (borrowed) */
    vg_time_t ts;
    const char *tenant;
    const char *id;   /* "YYYY-MM-DD/block/index" */
    const char *json; /* {"@timestamp","_id","tenant", fields..., "event.original"} */
    size_t json_len;
    /* AGG: one row of a table; the column names are the same for every row */
    size_t ncols;
    const char *const *cols;
    const char *const *vals; /* text of each value ("" when absent) */
    const bool *numeric;     /* the value is a number (unquoted in JSON) */
};

struct vg_query_opts {
    const char *tenant; /* NULL: every tenant */
    vg_time_t from;     /* inclusive; VG_TIME_NONE: open */
    vg_time_t to;       /* exclusive; VG_TIME_NONE: open */
    size_t limit;       /* rows at most; 0: 100; SIZE_MAX: all (events then stream in store
                           order, roughly newest first) */
    /* Called per row, in order; return VG_OK, VG_STORE_STOP or a negative status. NULL: the
       rows are only counted (stats). */
    int (*on_row)(void *ctx, const struct vg_query_row *r);
    void *ctx;
};

struct vg_query_stats {
    struct vg_store_scan_stats scan;
    uint64_t matched; /* events that matched the filter */
    uint64_t rows;    /* rows delivered */
    bool truncated;   /* more rows existed than the limit */
    uint64_t elapsed_ns;
};

/* Run a parsed query against a store (any thread). */
int vg_query_run(const struct vg_query *q, struct vg_store *s, const struct vg_query_opts *o,
                 struct vg_query_stats *st, char *err, size_t errsz);

#endif /* VG_QUERY_H */
