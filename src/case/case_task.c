/*
 * case_task.c — tasks, comments, the timeline, and merging one case into another.
 *
 * Tasks and comments belong to a case (tenant-checked through it). Every change here adds
 * a timeline entry; the timeline is read oldest first (ts, then id). A merge moves rows by
 * re-pointing their case_id, de-duplicating links and observables that both cases hold.
 */
#include "case/case_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- tasks */

static int check_task(const struct vg_case_task *t, bool add, char *err, size_t errsz)
{
    int rc = case_check_text("title", t->title, CASE_TITLE_MAX, add || t->title, err, errsz);
    rc = rc ? rc : case_check_text("group", t->group, CASE_NAME_MAX, false, err, errsz);
    rc = rc ? rc : case_check_text("description", t->description, CASE_TEXT_MAX, false, err, errsz);
    rc = rc ? rc : case_check_text("assignee", t->assignee, CASE_NAME_MAX, false, err, errsz);
    if (rc == VG_OK && (t->status < 0 || t->status > VG_CASE_TASK_CANCELLED)) {
        snprintf(err, errsz,
                 "cases: field 'status': expected waiting|in_progress|completed|cancelled");
        rc = VG_EINVAL;
    }
    if (rc == VG_OK && !add && !t->title && !t->group && !t->description && !t->status &&
        !t->assignee) {
        snprintf(err, errsz, "cases: nothing to update");
        rc = VG_EINVAL;
    }
    return rc;
}

static int task_insert(struct vg_case_db *db, int64_t id, const struct vg_case_task *t,
                       int64_t *tid, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    vg_time_t now = vg_time_now();
    int rc = case_prepare(db,
                          "INSERT INTO tasks(case_id, title, grp, description, status, assignee,"
                          " created, updated) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                          &st, "task insert", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    case_bind_text(st, 2, t->title);
    case_bind_text(st, 3, t->group && *t->group ? t->group : "default");
    case_bind_text(st, 4, t->description ? t->description : "");
    sqlite3_bind_int(st, 5, t->status ? t->status : VG_CASE_TASK_WAITING);
    case_bind_text(st, 6, t->assignee && *t->assignee ? t->assignee : NULL);
    sqlite3_bind_int64(st, 7, now);
    sqlite3_bind_int64(st, 8, now);
    rc = case_step_done(db, st, "task insert", err, errsz);
    *tid = sqlite3_last_insert_rowid(db->db);
    return rc;
}

int vg_case_task_add(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                     const struct vg_case_task *t, int64_t *task_id, char *err, size_t errsz)
{
    struct case_write w;
    struct vg_sbuf d = VG_SBUF_INIT;
    int64_t tid = 0;
    int rc = check_task(t, true, err, errsz);
    rc = rc ? rc : case_write_begin(db, op, &w, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (w.replayed) {
        tid = w.prev_id;
    } else {
        rc = case_lookup_open(db, w.tenant, id, err, errsz);
        rc = rc ? rc : task_insert(db, id, t, &tid, err, errsz);
        vg_sbuf_printf(&d, "{\"task_id\":%" PRId64 ",\"title\":", tid);
        vg_sbuf_add_json_str(&d, t->title, strlen(t->title));
        vg_sbuf_addc(&d, '}');
        rc = rc ? rc : d.err;
        rc = rc ? rc : case_timeline_put(db, id, w.actor, "task_added", t->title, d.p, err, errsz);
    }
    rc = case_write_end(&w, rc, tid, "case.task", id, d.p, err, errsz);
    if (task_id) {
        *task_id = rc == VG_OK ? tid : 0;
    }
    vg_sbuf_fini(&d);
    return rc;
}

/* The task's case in tenant (and VG_EINVAL when that case was merged away). */
static int task_case(struct vg_case_db *db, const char *tenant, int64_t tid, int64_t *case_id,
                     char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db,
                          "SELECT t.case_id FROM tasks t JOIN cases c ON c.id = t.case_id"
                          " WHERE t.id = ? AND c.tenant = ?",
                          &st, "task lookup", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, tid);
    case_bind_text(st, 2, tenant);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *case_id = case_col_i64(st, 0);
    } else {
        snprintf(err, errsz, "cases: task %" PRId64 " not found", tid);
        rc = VG_ENOENT;
    }
    sqlite3_finalize(st);
    return rc ? rc : case_lookup_open(db, tenant, *case_id, err, errsz);
}

static int task_apply(struct vg_case_db *db, int64_t tid, const struct vg_case_task *t, char *err,
                      size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(
        db,
        "UPDATE tasks SET title = COALESCE(?1, title), grp = COALESCE(?2, grp),"
        " description = COALESCE(?3, description),"
        " status = CASE WHEN ?4 > 0 THEN ?4 ELSE status END,"
        " assignee = CASE WHEN ?5 IS NULL THEN assignee WHEN ?5 = '' THEN NULL ELSE ?5 END,"
        " updated = ?6 WHERE id = ?7",
        &st, "task update", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    case_bind_text(st, 1, t->title);
    case_bind_text(st, 2, t->group && *t->group ? t->group : NULL);
    case_bind_text(st, 3, t->description);
    sqlite3_bind_int(st, 4, t->status);
    case_bind_text(st, 5, t->assignee);
    sqlite3_bind_int64(st, 6, vg_time_now());
    sqlite3_bind_int64(st, 7, tid);
    return case_step_done(db, st, "task update", err, errsz);
}

int vg_case_task_update(struct vg_case_db *db, const struct vg_case_op *op, int64_t task_id,
                        const struct vg_case_task *t, int64_t *case_id, char *err, size_t errsz)
{
    struct case_write w;
    struct vg_sbuf d = VG_SBUF_INIT;
    int64_t cid = 0;
    int rc = check_task(t, false, err, errsz);
    rc = rc ? rc : case_write_begin(db, op, &w, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    /* a replay still needs the case id for the caller: the lookup only reads */
    int wrc = task_case(db, w.tenant, task_id, &cid, err, errsz);
    if (wrc == VG_OK && !w.replayed) {
        wrc = task_apply(db, task_id, t, err, errsz);
        vg_sbuf_printf(&d, "{\"task_id\":%" PRId64, task_id);
        if (t->status) {
            vg_sbuf_printf(&d, ",\"status\":\"%s\"", vg_case_task_status_name(t->status));
        }
        vg_sbuf_addc(&d, '}');
        char text[96];
        snprintf(text, sizeof(text), "Task %" PRId64 " updated%s%s", task_id, t->status ? ": " : "",
                 t->status ? vg_case_task_status_name(t->status) : "");
        wrc =
            wrc ? wrc : case_timeline_put(db, cid, w.actor, "task_updated", text, d.p, err, errsz);
    }
    rc = case_write_end(&w, wrc, task_id, "case.task_update", cid, d.p, err, errsz);
    if (case_id) {
        *case_id = rc == VG_OK ? cid : 0;
    }
    vg_sbuf_fini(&d);
    return rc;
}

static void task_row_json(struct vg_sbuf *out, sqlite3_stmt *st)
{
    case_json_col(out, "title", st, 1, false);
    case_json_col(out, "group", st, 2, false);
    case_json_col(out, "description", st, 3, false);
    case_json_member_str(out, "status", vg_case_task_status_name(sqlite3_column_int(st, 4)), false);
    case_json_col(out, "assignee", st, 5, false);
    case_json_member_time(out, "created", case_col_i64(st, 6));
    case_json_member_time(out, "updated", case_col_i64(st, 7));
}

int vg_case_tasks_json(struct vg_case_db *db, const char *tenant, int64_t id, struct vg_sbuf *out,
                       char *err, size_t errsz)
{
    return case_list_json(db, tenant, id, "tasks",
                          "SELECT id, title, grp, description, status, assignee, created,"
                          " updated FROM tasks WHERE case_id = ? ORDER BY id",
                          task_row_json, out, err, errsz);
}

/* ---------------------------------------------------------------- comments */

static int comment_insert(struct vg_case_db *db, int64_t id, const char *actor, const char *text,
                          int64_t *cid, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db, "INSERT INTO comments(case_id, ts, actor, text) VALUES(?, ?, ?, ?)",
                          &st, "comment", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, vg_time_now());
    case_bind_text(st, 3, actor);
    case_bind_text(st, 4, text);
    rc = case_step_done(db, st, "comment", err, errsz);
    *cid = sqlite3_last_insert_rowid(db->db);
    return rc;
}

int vg_case_comment_add(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                        const char *markdown, int64_t *comment_id, char *err, size_t errsz)
{
    struct case_write w;
    char d[64] = "{}";
    int64_t cid = 0;
    int rc = case_check_text("text", markdown, CASE_TEXT_MAX, true, err, errsz);
    rc = rc ? rc : case_write_begin(db, op, &w, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (w.replayed) {
        cid = w.prev_id;
    } else {
        rc = case_lookup_open(db, w.tenant, id, err, errsz);
        rc = rc ? rc : comment_insert(db, id, w.actor, markdown, &cid, err, errsz);
        snprintf(d, sizeof(d), "{\"comment_id\":%" PRId64 "}", cid);
        rc = rc ? rc : case_timeline_put(db, id, w.actor, "comment", markdown, d, err, errsz);
    }
    rc = case_write_end(&w, rc, cid, "case.comment", id, d, err, errsz);
    if (comment_id) {
        *comment_id = rc == VG_OK ? cid : 0;
    }
    return rc;
}

/* ---------------------------------------------------------------- timeline */

static int check_kind(const char *kind, char *err, size_t errsz)
{
    size_t n = kind ? strlen(kind) : 0;
    for (size_t i = 0; i < n; i++) {
        char c = kind[i];
        if (!((c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9'))) {
            n = 0;
        }
    }
    if (n == 0 || n > 32) {
        snprintf(err, errsz, "cases: field 'kind': expected 1-32 of [a-z0-9_]");
        return VG_EINVAL;
    }
    return VG_OK;
}

int vg_case_timeline_add(struct vg_case_db *db, const char *tenant, int64_t case_id,
                         const char *actor, const char *kind, const char *text,
                         const char *detail_json, const char *op_key, char *err, size_t errsz)
{
    struct vg_case_op op = {.tenant = tenant, .actor = actor, .op_key = op_key};
    struct vg_sbuf detail = VG_SBUF_INIT;
    struct case_write w;
    int rc = check_kind(kind, err, errsz);
    rc = rc ? rc : case_check_text("text", text, CASE_TEXT_MAX, false, err, errsz);
    rc = rc ? rc : case_object_norm("detail", detail_json, &detail, err, errsz);
    rc = rc ? rc : case_write_begin(db, &op, &w, err, errsz);
    if (rc == VG_OK) {
        if (!w.replayed) {
            rc = case_lookup_open(db, w.tenant, case_id, err, errsz);
            rc =
                rc ? rc : case_timeline_put(db, case_id, w.actor, kind, text, detail.p, err, errsz);
        }
        int64_t tl = w.replayed ? w.prev_id : sqlite3_last_insert_rowid(db->db);
        char action[48];
        snprintf(action, sizeof(action), "case.%s",
                 !strcmp(kind, "action") ? "action" : "timeline");
        rc = case_write_end(&w, rc, tl, action, case_id, detail.p, err, errsz);
    }
    vg_sbuf_fini(&detail);
    return rc;
}

static void timeline_row_json(struct vg_sbuf *out, sqlite3_stmt *st)
{
    case_json_member_time(out, "ts", case_col_i64(st, 1));
    case_json_col(out, "actor", st, 2, false);
    case_json_col(out, "kind", st, 3, false);
    case_json_col(out, "text", st, 4, false);
    vg_sbuf_printf(out, ",\"detail\":%s", case_col(st, 5));
}

int vg_case_timeline_json(struct vg_case_db *db, const char *tenant, int64_t id,
                          struct vg_sbuf *out, char *err, size_t errsz)
{
    return case_list_json(db, tenant, id, "timeline",
                          "SELECT id, ts, actor, kind, text, detail FROM timeline"
                          " WHERE case_id = ? ORDER BY ts, id",
                          timeline_row_json, out, err, errsz);
}

/* ---------------------------------------------------------------- merge */

/* Statements of a merge, ?1 = into, ?2 = from; duplicates of into's rows are dropped. */
static const char *const merge_sql[] = {
    "INSERT OR IGNORE INTO case_alerts SELECT ?1, alert_id, ts, rule_id, title, level, tags,"
    " attack, host, user, src_ip, dst_ip, process, linked FROM case_alerts WHERE case_id = ?2",
    "DELETE FROM case_alerts WHERE case_id = ?2 AND ?1 IS NOT NULL",
    "INSERT OR IGNORE INTO case_incidents SELECT ?1, incident_id, linked FROM case_incidents"
    " WHERE case_id = ?2",
    "DELETE FROM case_incidents WHERE case_id = ?2 AND ?1 IS NOT NULL",
    "UPDATE observables AS o SET ioc = o.ioc OR f.ioc, sighted = o.sighted OR f.sighted FROM"
    " observables AS f WHERE o.case_id = ?1 AND f.case_id = ?2 AND f.type = o.type"
    " AND f.value = o.value",
    "DELETE FROM observables WHERE case_id = ?2 AND EXISTS (SELECT 1 FROM observables o"
    " WHERE o.case_id = ?1 AND o.type = observables.type AND o.value = observables.value)",
    "UPDATE observables SET case_id = ?1 WHERE case_id = ?2",
    "UPDATE tasks SET case_id = ?1 WHERE case_id = ?2",
    "UPDATE comments SET case_id = ?1 WHERE case_id = ?2",
    "UPDATE timeline SET case_id = ?1 WHERE case_id = ?2",
    "UPDATE cases SET status = 3, verdict = 4, merged_into = ?1, closed = ?3, updated = ?3,"
    " summary = 'Merged into case ' || ?1 WHERE id = ?2",
};

static int merge_rows(struct vg_case_db *db, int64_t into, int64_t from, char *err, size_t errsz)
{
    vg_time_t now = vg_time_now();
    int rc = VG_OK;
    for (size_t i = 0; i < VG_ARRAY_LEN(merge_sql) && rc == VG_OK; i++) {
        sqlite3_stmt *st = NULL;
        rc = case_prepare(db, merge_sql[i], &st, "merge", err, errsz);
        if (rc == VG_OK) {
            sqlite3_bind_int64(st, 1, into);
            sqlite3_bind_int64(st, 2, from);
            if (sqlite3_bind_parameter_count(st) >= 3) {
                sqlite3_bind_int64(st, 3, now);
            }
            rc = case_step_done(db, st, "merge", err, errsz);
        }
    }
    return rc;
}

int vg_case_merge(struct vg_case_db *db, const struct vg_case_op *op, int64_t into, int64_t from,
                  char *err, size_t errsz)
{
    struct case_write w;
    char d[96], text[96];
    if (into == from) {
        snprintf(err, errsz, "cases: field 'from': cannot merge a case into itself");
        return VG_EINVAL;
    }
    int rc = case_write_begin(db, op, &w, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    snprintf(d, sizeof(d), "{\"into\":%" PRId64 ",\"from\":%" PRId64 "}", into, from);
    if (!w.replayed) {
        rc = case_lookup_open(db, w.tenant, into, err, errsz);
        rc = rc ? rc : case_lookup_open(db, w.tenant, from, err, errsz);
        rc = rc ? rc : merge_rows(db, into, from, err, errsz);
        snprintf(text, sizeof(text), "Case %" PRId64 " merged into this case", from);
        rc = rc ? rc : case_timeline_put(db, into, w.actor, "merged", text, d, err, errsz);
    }
    rc = case_write_end(&w, rc, into, "case.merge", into, d, err, errsz);
    return rc;
}
