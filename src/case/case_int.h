/*
 * case_int.h — internals of the case module shared by its files: the database handle, the
 * write bracket (lock, transaction, idempotency key, audit record, commit) and small SQLite
 * and JSON helpers.
 *
 * Every public call takes db->mu for its whole duration: the connection is NOMUTEX and a
 * change is one transaction, so concurrent API handlers and playbook workers see each other's
 * changes whole.
 */
#ifndef VG_CASE_INT_H
#define VG_CASE_INT_H

#include "case/case.h"

#include <pthread.h>
#include <sqlite3.h>

#define CASE_TITLE_MAX  512
#define CASE_TEXT_MAX   (1024 * 1024) /* description, comments, report fields */
#define CASE_NAME_MAX   256           /* assignee, actor, group */
#define CASE_TAG_MAX    128
#define CASE_TAGS_MAX   64
#define CASE_VALUE_MAX  8192 /* observable values */
#define CASE_CUSTOM_MAX (64 * 1024)

struct vg_case_db {
    pthread_mutex_t mu;
    sqlite3 *db;
    struct vg_store *store; /* borrowed, may be NULL */
    struct vg_audit *audit; /* borrowed, may be NULL */
};

/* ---------------------------------------------------------------- write bracket */

/*
 * One change: case_write_begin locks db and opens a transaction; when op->op_key was used
 * before it sets *replayed and *prev_id (the first call's result) — the caller then skips its
 * work and calls case_write_end with that id. case_write_end (always called after a begin)
 * records the op key, appends the audit record (action, object "case:<case_id>", detail
 * JSON) when rc is VG_OK and nothing was replayed, commits (or rolls back on error) and
 * unlocks. Returns rc or the commit's failure.
 */
struct case_write {
    struct vg_case_db *db;
    const char *tenant;
    const char *actor;
    const char *op_key;
    bool replayed;
    int64_t prev_id;
};
int case_write_begin(struct vg_case_db *db, const struct vg_case_op *op, struct case_write *w,
                     char *err, size_t errsz);
int case_write_end(struct case_write *w, int rc, int64_t result_id, const char *action,
                   int64_t case_id, const char *detail, char *err, size_t errsz);

/* Lock for a read (no transaction: each statement sees committed data). */
void case_read_lock(struct vg_case_db *db);
void case_read_unlock(struct vg_case_db *db);

/* The columns of a case row, in this order (vg_case_get, vg_case_list, the report). */
#define CASE_COLS                                                                                  \
    "id, tenant, title, description, severity, tlp, pap, status, verdict, summary, assignee,"      \
    " tags, custom, root_cause, lessons_learned, created, updated, closed, merged_into"

/* Called with a case row (CASE_COLS) while the read lock is held. */
typedef int (*case_row_cb)(void *ctx, struct vg_case_db *db, sqlite3_stmt *row, char *err,
                           size_t errsz);
/*
 * Take the read lock, read tenant's case id and return fn(ctx, db, row, ...) on its row, or
 * VG_ENOENT ("cases: case N not found"); what names the statement in errors.
 */
int case_read_row(struct vg_case_db *db, const char *tenant, int64_t id, const char *what,
                  case_row_cb fn, void *ctx, char *err, size_t errsz);

/* ---------------------------------------------------------------- helpers (lock held) */

/* The case row's status and merged_into for tenant; VG_ENOENT ("cases: case N not found"). */
int case_lookup(struct vg_case_db *db, const char *tenant, int64_t id, int *status,
                int64_t *merged_into, char *err, size_t errsz);
/* case_lookup, and VG_EINVAL when the case was merged into another (no more changes). */
int case_lookup_open(struct vg_case_db *db, const char *tenant, int64_t id, char *err,
                     size_t errsz);
/* Append a timeline row (ts now) and bump the case's updated time. */
int case_timeline_put(struct vg_case_db *db, int64_t case_id, const char *actor, const char *kind,
                      const char *text, const char *detail, char *err, size_t errsz);
/* Prepare sql; on failure err says "what: SQLite's message". */
int case_prepare(struct vg_case_db *db, const char *sql, sqlite3_stmt **st, const char *what,
                 char *err, size_t errsz);
/* Step a statement expected to finish (SQLITE_DONE); finalizes it. */
int case_step_done(struct vg_case_db *db, sqlite3_stmt *st, const char *what, char *err,
                   size_t errsz);
void case_bind_text(sqlite3_stmt *st, int i, const char *s); /* NULL binds NULL */
const char *case_col(sqlite3_stmt *st, int i);               /* NULL as "" */
static inline int64_t case_col_i64(sqlite3_stmt *st, int i)  /* int64_t, not sqlite3_int64 */
{
    return (int64_t)sqlite3_column_int64(st, i);
}
void case_json_col(struct vg_sbuf *b, const char *key, sqlite3_stmt *st, int i, bool first);
void case_json_member_str(struct vg_sbuf *b, const char *key, const char *v, bool first);
void case_json_member_time(struct vg_sbuf *b, const char *key, int64_t t);

/* ---------------------------------------------------------------- row listings */

/* Writes the members of one row after its "id" (column 0), each with a leading comma. */
typedef void (*case_row_fn)(struct vg_sbuf *out, sqlite3_stmt *st);

/*
 * Lock held. Run sql (?1 = case_id) and append open (ending in '['), then each row as
 * {"id":<column 0> + row's members} comma-separated, then ']'. Nothing is appended when the
 * statement does not prepare (err says "what: SQLite's message"). Returns VG_OK or that
 * failure; out->err is the caller's to check.
 */
int case_rows_json(struct vg_case_db *db, int64_t case_id, const char *sql, const char *what,
                   const char *open, case_row_fn row, struct vg_sbuf *out, char *err, size_t errsz);
/*
 * A case's rows as {"<key>":[...]}: takes the read lock, checks case id is tenant's
 * (VG_ENOENT otherwise, nothing appended) and lists sql's rows as case_rows_json does
 * (key also names the statement in errors). Returns VG_OK, the failure, or out->err.
 */
int case_list_json(struct vg_case_db *db, const char *tenant, int64_t id, const char *key,
                   const char *sql, case_row_fn row, struct vg_sbuf *out, char *err, size_t errsz);

/* Validate text: required (non-empty) or not, at most max bytes, valid UTF-8. */
int case_check_text(const char *field, const char *s, size_t max, bool required, char *err,
                    size_t errsz);
/*
 * Validate a JSON array of strings (each 1..CASE_TAG_MAX bytes, at most CASE_TAGS_MAX) and
 * write it canonically (deduplicated, in order) to out. NULL: [].
 */
int case_tags_norm(const char *field, const char *json, struct vg_sbuf *out, char *err,
                   size_t errsz);
/* Merge two canonical tag arrays into out (a's order, then b's new tags). */
int case_tags_merge(const char *a, const char *b, struct vg_sbuf *out);
/* Validate a JSON object (custom fields; at most CASE_CUSTOM_MAX bytes) into out. NULL: {}. */
int case_object_norm(const char *field, const char *json, struct vg_sbuf *out, char *err,
                     size_t errsz);
/* Parse text as JSON into a (one value, nothing after it). */
int case_json_parse(const char *text, size_t len, struct vg_arena *a, struct vg_json **out,
                    char *err, size_t errsz);

/* Observable insertion inside a write (lock and transaction held); see vg_case_observable_add. */
int case_observable_put(struct vg_case_db *db, int64_t case_id, const struct vg_case_observable *o,
                        const char *source, int64_t *obs_id, bool *added, char *err, size_t errsz);

#endif /* VG_CASE_INT_H */
