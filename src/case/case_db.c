/*
 * case_db.c — the case database (DATA/cases.db): schema, open/close, the enumerations'
 * names, and the write bracket every change goes through (lock, transaction, idempotency
 * key, audit record, commit).
 *
 * Cases carry the tenant; every other table hangs off a case, so a lookup of the case by
 * (tenant, id) is the tenant check of every call. op_keys remembers (tenant, op_key) → the
 * first call's result id in the same transaction as the change itself: a retried playbook
 * step either sees the key (and the change) or neither.
 */
#include "case/case_int.h"

#include "audit/audit.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS cases("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, title TEXT NOT NULL,"
    " description TEXT NOT NULL DEFAULT '', severity INTEGER NOT NULL, tlp INTEGER NOT NULL,"
    " pap INTEGER NOT NULL, status INTEGER NOT NULL, verdict INTEGER NOT NULL DEFAULT 0,"
    " summary TEXT NOT NULL DEFAULT '', assignee TEXT, tags TEXT NOT NULL DEFAULT '[]',"
    " custom TEXT NOT NULL DEFAULT '{}', root_cause TEXT NOT NULL DEFAULT '',"
    " lessons_learned TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL, closed INTEGER, merged_into INTEGER);"
    "CREATE INDEX IF NOT EXISTS cases_tenant ON cases(tenant, id);"
    "CREATE TABLE IF NOT EXISTS case_alerts("
    " case_id INTEGER NOT NULL REFERENCES cases(id), alert_id INTEGER NOT NULL,"
    " ts INTEGER, rule_id TEXT, title TEXT, level INTEGER, tags TEXT, attack TEXT, host TEXT,"
    " user TEXT, src_ip TEXT, dst_ip TEXT, process TEXT, linked INTEGER NOT NULL,"
    " PRIMARY KEY(case_id, alert_id));"
    "CREATE TABLE IF NOT EXISTS case_incidents("
    " case_id INTEGER NOT NULL REFERENCES cases(id), incident_id INTEGER NOT NULL,"
    " linked INTEGER NOT NULL, PRIMARY KEY(case_id, incident_id));"
    "CREATE TABLE IF NOT EXISTS observables("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES cases(id),"
    " type TEXT NOT NULL, subtype TEXT NOT NULL DEFAULT '', value TEXT NOT NULL,"
    " ioc INTEGER NOT NULL, sighted INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '[]',"
    " message TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL, UNIQUE(case_id, type, value));"
    "CREATE TABLE IF NOT EXISTS tasks("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES cases(id),"
    " title TEXT NOT NULL, grp TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    " status INTEGER NOT NULL, assignee TEXT, created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS tasks_case ON tasks(case_id, id);"
    "CREATE TABLE IF NOT EXISTS comments("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES cases(id),"
    " ts INTEGER NOT NULL, actor TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS comments_case ON comments(case_id, id);"
    "CREATE TABLE IF NOT EXISTS timeline("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, case_id INTEGER NOT NULL REFERENCES cases(id),"
    " ts INTEGER NOT NULL, actor TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL,"
    " detail TEXT NOT NULL DEFAULT '{}');"
    "CREATE INDEX IF NOT EXISTS timeline_case ON timeline(case_id, ts, id);"
    "CREATE TABLE IF NOT EXISTS op_keys("
    " tenant TEXT NOT NULL, op_key TEXT NOT NULL, result INTEGER NOT NULL,"
    " created INTEGER NOT NULL, PRIMARY KEY(tenant, op_key));";

/* ---------------------------------------------------------------- names */

static const char *const sev_names[] = {"", "low", "medium", "high", "critical"};
static const char *const tlp_names[] = {"", "clear", "green", "amber", "amber+strict", "red"};
static const char *const pap_names[] = {"", "clear", "green", "amber", "red"};
static const char *const status_names[] = {"", "new", "in_progress", "resolved"};
static const char *const verdict_names[] = {"", "true_positive", "false_positive", "benign",
                                            "duplicate"};
static const char *const task_names[] = {"", "waiting", "in_progress", "completed", "cancelled"};

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v > 0 && (size_t)v < n ? names[v] : "";
}

static int parse_name(const char *const *names, size_t n, const char *s, int *out)
{
    for (size_t i = 1; s && i < n; i++) {
        if (!strcmp(s, names[i])) {
            *out = (int)i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

const char *vg_case_severity_name(int v)
{
    return name_of(sev_names, VG_ARRAY_LEN(sev_names), v);
}
const char *vg_case_tlp_name(int v)
{
    return name_of(tlp_names, VG_ARRAY_LEN(tlp_names), v);
}
const char *vg_case_pap_name(int v)
{
    return name_of(pap_names, VG_ARRAY_LEN(pap_names), v);
}
const char *vg_case_status_name(int v)
{
    return name_of(status_names, VG_ARRAY_LEN(status_names), v);
}
const char *vg_case_verdict_name(int v)
{
    return name_of(verdict_names, VG_ARRAY_LEN(verdict_names), v);
}
const char *vg_case_task_status_name(int v)
{
    return name_of(task_names, VG_ARRAY_LEN(task_names), v);
}

int vg_case_severity_parse(const char *s, int *out)
{
    if (s && s[0] >= '1' && s[0] <= '4' && !s[1]) {
        *out = s[0] - '0';
        return VG_OK;
    }
    return parse_name(sev_names, VG_ARRAY_LEN(sev_names), s, out);
}
int vg_case_tlp_parse(const char *s, int *out)
{
    if (s && !strcmp(s, "white")) {
        *out = VG_CASE_TLP_CLEAR;
        return VG_OK;
    }
    return parse_name(tlp_names, VG_ARRAY_LEN(tlp_names), s, out);
}
int vg_case_pap_parse(const char *s, int *out)
{
    if (s && !strcmp(s, "white")) {
        *out = VG_CASE_PAP_CLEAR;
        return VG_OK;
    }
    return parse_name(pap_names, VG_ARRAY_LEN(pap_names), s, out);
}
int vg_case_status_parse(const char *s, int *out)
{
    return parse_name(status_names, VG_ARRAY_LEN(status_names), s, out);
}
int vg_case_verdict_parse(const char *s, int *out)
{
    return parse_name(verdict_names, VG_ARRAY_LEN(verdict_names), s, out);
}
int vg_case_task_status_parse(const char *s, int *out)
{
    return parse_name(task_names, VG_ARRAY_LEN(task_names), s, out);
}

/* ---------------------------------------------------------------- open / close */

int vg_case_db_open(const char *path, struct vg_store *store, struct vg_audit *audit,
                    struct vg_case_db **out, char *err, size_t errsz)
{
    struct vg_case_db *db = vg_calloc(1, sizeof(*db));
    int rc = VG_ENOMEM;
    *out = NULL;
    if (!db) {
        snprintf(err, errsz, "cases: out of memory");
        return rc;
    }
    pthread_mutex_init(&db->mu, NULL);
    db->store = store;
    db->audit = audit;
    rc = vg_store_sqlite_open(path, &db->db, err, errsz);
    if (rc == VG_OK) {
        rc = vg_store_sqlite_exec(db->db, schema, "cases schema", err, errsz);
    }
    if (rc != VG_OK) {
        vg_case_db_close(db);
        return rc;
    }
    *out = db;
    return VG_OK;
}

void vg_case_db_close(struct vg_case_db *db)
{
    if (!db) {
        return;
    }
    if (db->db) {
        sqlite3_close(db->db);
    }
    pthread_mutex_destroy(&db->mu);
    vg_free(db);
}

/* ---------------------------------------------------------------- statements */

int case_prepare(struct vg_case_db *db, const char *sql, sqlite3_stmt **st, const char *what,
                 char *err, size_t errsz)
{
    int rc = sqlite3_prepare_v2(db->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return vg_store_sqlite_fail(db->db, rc, what, err, errsz);
    }
    return VG_OK;
}

int case_step_done(struct vg_case_db *db, sqlite3_stmt *st, const char *what, char *err,
                   size_t errsz)
{
    int rc = sqlite3_step(st);
    int out = VG_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        out = vg_store_sqlite_fail(db->db, rc, what, err, errsz);
    }
    sqlite3_finalize(st);
    return out;
}

void case_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

const char *case_col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

/* ---------------------------------------------------------------- the write bracket */

static int opkey_find(struct vg_case_db *db, struct case_write *w, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db, "SELECT result FROM op_keys WHERE tenant = ? AND op_key = ?", &st,
                          "op key", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    case_bind_text(st, 1, w->tenant);
    case_bind_text(st, 2, w->op_key);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        w->replayed = true;
        w->prev_id = case_col_i64(st, 0);
    } else if (s != SQLITE_DONE) {
        rc = vg_store_sqlite_fail(db->db, s, "op key", err, errsz);
    }
    sqlite3_finalize(st);
    return rc;
}

int case_write_begin(struct vg_case_db *db, const struct vg_case_op *op, struct case_write *w,
                     char *err, size_t errsz)
{
    memset(w, 0, sizeof(*w));
    w->db = db;
    w->tenant = op && op->tenant && *op->tenant ? op->tenant : "default";
    w->actor = op && op->actor && *op->actor ? op->actor : "system";
    w->op_key = op && op->op_key && *op->op_key ? op->op_key : NULL;
    if (w->op_key && strlen(w->op_key) > 512) {
        snprintf(err, errsz, "cases: op_key longer than 512 bytes");
        return VG_EINVAL;
    }
    pthread_mutex_lock(&db->mu);
    int rc = vg_store_sqlite_exec(db->db, "BEGIN IMMEDIATE", "cases: begin", err, errsz);
    if (rc == VG_OK && w->op_key) {
        rc = opkey_find(db, w, err, errsz);
        if (rc != VG_OK) {
            sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    if (rc != VG_OK) {
        pthread_mutex_unlock(&db->mu);
    }
    return rc;
}

static int opkey_put(struct case_write *w, int64_t result, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(w->db,
                          "INSERT INTO op_keys(tenant, op_key, result, created)"
                          " VALUES(?, ?, ?, ?)",
                          &st, "op key", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    case_bind_text(st, 1, w->tenant);
    case_bind_text(st, 2, w->op_key);
    sqlite3_bind_int64(st, 3, result);
    sqlite3_bind_int64(st, 4, vg_time_now());
    return case_step_done(w->db, st, "op key", err, errsz);
}

static int audit_put(struct case_write *w, const char *action, int64_t case_id, const char *detail,
                     char *err, size_t errsz)
{
    char object[40];
    snprintf(object, sizeof(object), "case:%" PRId64, case_id);
    struct vg_audit_rec r = {
        .tenant = w->tenant,
        .actor = w->actor,
        .action = action,
        .object = object,
        .detail = detail,
    };
    return vg_audit_append(w->db->audit, &r, NULL, err, errsz);
}

int case_write_end(struct case_write *w, int rc, int64_t result_id, const char *action,
                   int64_t case_id, const char *detail, char *err, size_t errsz)
{
    if (rc == VG_OK && !w->replayed && w->op_key) {
        rc = opkey_put(w, result_id, err, errsz);
    }
    /* audit before commit: a failed audit append undoes the change rather than hiding it */
    if (rc == VG_OK && !w->replayed && action) {
        rc = audit_put(w, action, case_id, detail, err, errsz);
    }
    if (rc == VG_OK) {
        rc = vg_store_sqlite_exec(w->db->db, "COMMIT", "cases: commit", err, errsz);
    }
    if (rc != VG_OK) {
        sqlite3_exec(w->db->db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&w->db->mu);
    return rc;
}

void case_read_lock(struct vg_case_db *db)
{
    pthread_mutex_lock(&db->mu);
}

void case_read_unlock(struct vg_case_db *db)
{
    pthread_mutex_unlock(&db->mu);
}

int case_read_row(struct vg_case_db *db, const char *tenant, int64_t id, const char *what,
                  case_row_cb fn, void *ctx, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    case_read_lock(db);
    int rc = case_prepare(db, "SELECT " CASE_COLS " FROM cases WHERE id = ? AND tenant = ?", &st,
                          what, err, errsz);
    if (rc == VG_OK) {
        sqlite3_bind_int64(st, 1, id);
        case_bind_text(st, 2, tenant && *tenant ? tenant : "default");
        if (sqlite3_step(st) == SQLITE_ROW) {
            rc = fn(ctx, db, st, err, errsz);
        } else {
            snprintf(err, errsz, "cases: case %" PRId64 " not found", id);
            rc = VG_ENOENT;
        }
        sqlite3_finalize(st);
    }
    case_read_unlock(db);
    return rc;
}

/* ---------------------------------------------------------------- lookups and timeline */

int case_lookup(struct vg_case_db *db, const char *tenant, int64_t id, int *status,
                int64_t *merged_into, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db, "SELECT status, merged_into FROM cases WHERE id = ? AND tenant = ?",
                          &st, "case lookup", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    case_bind_text(st, 2, tenant && *tenant ? tenant : "default");
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *status = sqlite3_column_int(st, 0);
        *merged_into = case_col_i64(st, 1);
    } else if (s == SQLITE_DONE) {
        snprintf(err, errsz, "cases: case %" PRId64 " not found", id);
        rc = VG_ENOENT;
    } else {
        rc = vg_store_sqlite_fail(db->db, s, "case lookup", err, errsz);
    }
    sqlite3_finalize(st);
    return rc;
}

int case_lookup_open(struct vg_case_db *db, const char *tenant, int64_t id, char *err, size_t errsz)
{
    int status = 0;
    int64_t merged = 0;
    int rc = case_lookup(db, tenant, id, &status, &merged, err, errsz);
    if (rc == VG_OK && merged) {
        snprintf(err, errsz, "cases: case %" PRId64 " was merged into case %" PRId64, id, merged);
        rc = VG_EINVAL;
    }
    return rc;
}

int case_timeline_put(struct vg_case_db *db, int64_t case_id, const char *actor, const char *kind,
                      const char *text, const char *detail, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    vg_time_t now = vg_time_now();
    int rc = case_prepare(db,
                          "INSERT INTO timeline(case_id, ts, actor, kind, text, detail)"
                          " VALUES(?, ?, ?, ?, ?, ?)",
                          &st, "timeline", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, now);
    case_bind_text(st, 3, actor);
    case_bind_text(st, 4, kind);
    case_bind_text(st, 5, text ? text : "");
    case_bind_text(st, 6, detail && *detail ? detail : "{}");
    rc = case_step_done(db, st, "timeline", err, errsz);
    if (rc == VG_OK) {
        rc =
            case_prepare(db, "UPDATE cases SET updated = ? WHERE id = ?", &st, "touch", err, errsz);
    }
    if (rc == VG_OK) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, case_id);
        rc = case_step_done(db, st, "touch", err, errsz);
    }
    return rc;
}

/* ---------------------------------------------------------------- row listings */

int case_rows_json(struct vg_case_db *db, int64_t case_id, const char *sql, const char *what,
                   const char *open, case_row_fn row, struct vg_sbuf *out, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db, sql, &st, what, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, case_id);
    vg_sbuf_adds(out, open);
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        vg_sbuf_printf(out, "%s{\"id\":%" PRId64, n ? "," : "", case_col_i64(st, 0));
        row(out, st);
        vg_sbuf_addc(out, '}');
    }
    vg_sbuf_addc(out, ']');
    sqlite3_finalize(st);
    return VG_OK;
}

int case_list_json(struct vg_case_db *db, const char *tenant, int64_t id, const char *key,
                   const char *sql, case_row_fn row, struct vg_sbuf *out, char *err, size_t errsz)
{
    char open[64]; /* keys are short literals: "observables", "tasks", "timeline" */
    int status = 0;
    int64_t merged = 0;
    snprintf(open, sizeof(open), "{\"%s\":[", key);
    case_read_lock(db);
    int rc = case_lookup(db, tenant, id, &status, &merged, err, errsz);
    rc = rc ? rc : case_rows_json(db, id, sql, key, open, row, out, err, errsz);
    if (rc == VG_OK) {
        vg_sbuf_addc(out, '}');
    }
    case_read_unlock(db);
    return rc ? rc : out->err;
}
