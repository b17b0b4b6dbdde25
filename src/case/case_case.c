/*
 * case_case.c — the case itself: create, update (status, verdict and closing, the report's
 * fields), get and list.
 *
 * A case is one row of cases; tags and custom fields are JSON text (custom fields are
 * updated with SQLite's json_patch, so a null value removes a key). Closing (status
 * resolved) needs a verdict and stamps closed; reopening clears it.
 */
#include "case/case_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- create */

static int check_enums(int sev, int tlp, int pap, char *err, size_t errsz)
{
    if (sev < 0 || sev > VG_CASE_SEV_CRITICAL) {
        snprintf(err, errsz, "cases: field 'severity': expected 1-4 or low|medium|high|critical");
        return VG_EINVAL;
    }
    if (tlp < 0 || tlp > VG_CASE_TLP_RED) {
        snprintf(err, errsz, "cases: field 'tlp': expected clear|green|amber|amber+strict|red");
        return VG_EINVAL;
    }
    if (pap < 0 || pap > VG_CASE_PAP_RED) {
        snprintf(err, errsz, "cases: field 'pap': expected clear|green|amber|red");
        return VG_EINVAL;
    }
    return VG_OK;
}

static int check_new(const struct vg_case_new *c, struct vg_sbuf *tags, struct vg_sbuf *custom,
                     char *err, size_t errsz)
{
    int rc = case_check_text("title", c->title, CASE_TITLE_MAX, true, err, errsz);
    rc = rc ? rc : case_check_text("description", c->description, CASE_TEXT_MAX, false, err, errsz);
    rc = rc ? rc : case_check_text("assignee", c->assignee, CASE_NAME_MAX, false, err, errsz);
    rc = rc ? rc : check_enums(c->severity, c->tlp, c->pap, err, errsz);
    rc = rc ? rc : case_tags_norm("tags", c->tags, tags, err, errsz);
    rc = rc ? rc : case_object_norm("custom", c->custom, custom, err, errsz);
    return rc;
}

static int insert_case(struct vg_case_db *db, const char *tenant, const struct vg_case_new *c,
                       const char *tags, const char *custom, int64_t *id, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    vg_time_t now = vg_time_now();
    int rc = case_prepare(db,
                          "INSERT INTO cases(tenant, title, description, severity, tlp, pap,"
                          " status, assignee, tags, custom, created, updated)"
                          " VALUES(?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
                          &st, "case insert", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    case_bind_text(st, 1, tenant);
    case_bind_text(st, 2, c->title);
    case_bind_text(st, 3, c->description ? c->description : "");
    sqlite3_bind_int(st, 4, c->severity ? c->severity : VG_CASE_SEV_MEDIUM);
    sqlite3_bind_int(st, 5, c->tlp ? c->tlp : VG_CASE_TLP_AMBER);
    sqlite3_bind_int(st, 6, c->pap ? c->pap : VG_CASE_PAP_AMBER);
    case_bind_text(st, 7, c->assignee && *c->assignee ? c->assignee : NULL);
    case_bind_text(st, 8, tags);
    case_bind_text(st, 9, custom);
    sqlite3_bind_int64(st, 10, now);
    sqlite3_bind_int64(st, 11, now);
    rc = case_step_done(db, st, "case insert", err, errsz);
    *id = sqlite3_last_insert_rowid(db->db);
    return rc;
}

int vg_case_create(struct vg_case_db *db, const struct vg_case_op *op, const struct vg_case_new *c,
                   int64_t *id, char *err, size_t errsz)
{
    struct vg_sbuf tags = VG_SBUF_INIT, custom = VG_SBUF_INIT, detail = VG_SBUF_INIT;
    struct case_write w;
    *id = 0;
    int rc = check_new(c, &tags, &custom, err, errsz);
    if (rc == VG_OK) {
        rc = case_write_begin(db, op, &w, err, errsz);
        if (rc == VG_OK && w.replayed) {
            *id = w.prev_id;
            rc = case_write_end(&w, VG_OK, *id, NULL, *id, NULL, err, errsz);
        } else if (rc == VG_OK) {
            rc = insert_case(db, w.tenant, c, tags.p, custom.p, id, err, errsz);
            vg_sbuf_printf(&detail, "{\"severity\":\"%s\",\"title\":",
                           vg_case_severity_name(c->severity ? c->severity : 2));
            vg_sbuf_add_json_str(&detail, c->title, strlen(c->title));
            vg_sbuf_addc(&detail, '}');
            rc = rc ? rc : detail.err;
            rc =
                rc ? rc
                   : case_timeline_put(db, *id, w.actor, "created", c->title, detail.p, err, errsz);
            rc = case_write_end(&w, rc, *id, "case.create", *id, detail.p, err, errsz);
        }
    }
    vg_sbuf_fini(&tags);
    vg_sbuf_fini(&custom);
    vg_sbuf_fini(&detail);
    return rc;
}

/* ---------------------------------------------------------------- update */

struct update_norm {
    struct vg_sbuf tags, custom;
    bool any;
};

static int check_update(const struct vg_case_update *u, struct update_norm *n, char *err,
                        size_t errsz)
{
    int rc = case_check_text("title", u->title, CASE_TITLE_MAX, u->title != NULL, err, errsz);
    rc = rc ? rc : case_check_text("description", u->description, CASE_TEXT_MAX, false, err, errsz);
    rc = rc ? rc : case_check_text("summary", u->summary, CASE_TEXT_MAX, false, err, errsz);
    rc = rc ? rc : case_check_text("assignee", u->assignee, CASE_NAME_MAX, false, err, errsz);
    rc = rc ? rc : case_check_text("root_cause", u->root_cause, CASE_TEXT_MAX, false, err, errsz);
    rc = rc ? rc
            : case_check_text("lessons_learned", u->lessons_learned, CASE_TEXT_MAX, false, err,
                              errsz);
    rc = rc ? rc : check_enums(u->severity, u->tlp, u->pap, err, errsz);
    if (rc == VG_OK && (u->status < 0 || u->status > VG_CASE_RESOLVED)) {
        snprintf(err, errsz, "cases: field 'status': expected new|in_progress|resolved");
        rc = VG_EINVAL;
    }
    if (rc == VG_OK && (u->verdict < 0 || u->verdict > VG_CASE_DUPLICATE)) {
        snprintf(err, errsz,
                 "cases: field 'verdict': expected "
                 "true_positive|false_positive|benign|duplicate");
        rc = VG_EINVAL;
    }
    if (rc == VG_OK && u->tags) {
        rc = case_tags_norm("tags", u->tags, &n->tags, err, errsz);
    }
    if (rc == VG_OK && u->custom) {
        rc = case_object_norm("custom", u->custom, &n->custom, err, errsz);
    }
    n->any = u->title || u->description || u->severity || u->tlp || u->pap || u->status ||
             u->verdict || u->summary || u->assignee || u->tags || u->custom || u->root_cause ||
             u->lessons_learned;
    if (rc == VG_OK && !n->any) {
        snprintf(err, errsz, "cases: nothing to update");
        rc = VG_EINVAL;
    }
    return rc;
}

static int current_verdict(struct vg_case_db *db, int64_t id, int *verdict)
{
    sqlite3_stmt *st = NULL;
    *verdict = 0;
    if (sqlite3_prepare_v2(db->db, "SELECT verdict FROM cases WHERE id = ?", -1, &st, NULL)) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *verdict = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return VG_OK;
}

static int apply_update(struct vg_case_db *db, int64_t id, const struct vg_case_update *u,
                        const struct update_norm *n, int old_status, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    vg_time_t now = vg_time_now();
    int rc = case_prepare(
        db,
        "UPDATE cases SET title = COALESCE(?1, title), description = COALESCE(?2, description),"
        " severity = CASE WHEN ?3 > 0 THEN ?3 ELSE severity END,"
        " tlp = CASE WHEN ?4 > 0 THEN ?4 ELSE tlp END, pap = CASE WHEN ?5 > 0 THEN ?5 ELSE pap END,"
        " status = CASE WHEN ?6 > 0 THEN ?6 ELSE status END,"
        " verdict = CASE WHEN ?7 > 0 THEN ?7 ELSE verdict END, summary = COALESCE(?8, summary),"
        " assignee = CASE WHEN ?9 IS NULL THEN assignee WHEN ?9 = '' THEN NULL ELSE ?9 END,"
        " tags = COALESCE(?10, tags),"
        " custom = CASE WHEN ?11 IS NULL THEN custom ELSE json_patch(custom, ?11) END,"
        " root_cause = COALESCE(?12, root_cause),"
        " lessons_learned = COALESCE(?13, lessons_learned), updated = ?14,"
        " closed = CASE WHEN ?6 = 3 AND ?15 != 3 THEN ?14 WHEN ?6 IN (1, 2) THEN NULL"
        " ELSE closed END WHERE id = ?16",
        &st, "case update", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    case_bind_text(st, 1, u->title);
    case_bind_text(st, 2, u->description);
    sqlite3_bind_int(st, 3, u->severity);
    sqlite3_bind_int(st, 4, u->tlp);
    sqlite3_bind_int(st, 5, u->pap);
    sqlite3_bind_int(st, 6, u->status);
    sqlite3_bind_int(st, 7, u->verdict);
    case_bind_text(st, 8, u->summary);
    case_bind_text(st, 9, u->assignee);
    case_bind_text(st, 10, u->tags ? n->tags.p : NULL);
    case_bind_text(st, 11, u->custom ? n->custom.p : NULL);
    case_bind_text(st, 12, u->root_cause);
    case_bind_text(st, 13, u->lessons_learned);
    sqlite3_bind_int64(st, 14, now);
    sqlite3_bind_int(st, 15, old_status);
    sqlite3_bind_int64(st, 16, id);
    return case_step_done(db, st, "case update", err, errsz);
}

/* The changed field names as a JSON array member, and the status/verdict when set. */
static void update_detail(const struct vg_case_update *u, struct vg_sbuf *d)
{
    const char *names[] = {"title",  "description", "severity",       "tlp",      "pap",
                           "status", "verdict",     "summary",        "assignee", "tags",
                           "custom", "root_cause",  "lessons_learned"};
    bool set[] = {u->title,
                  u->description != NULL,
                  u->severity,
                  u->tlp,
                  u->pap,
                  u->status,
                  u->verdict,
                  u->summary != NULL,
                  u->assignee != NULL,
                  u->tags != NULL,
                  u->custom != NULL,
                  u->root_cause != NULL,
                  u->lessons_learned != NULL};
    size_t k = 0;
    vg_sbuf_adds(d, "{\"fields\":[");
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        if (set[i]) {
            vg_sbuf_printf(d, "%s\"%s\"", k++ ? "," : "", names[i]);
        }
    }
    vg_sbuf_addc(d, ']');
    if (u->status) {
        vg_sbuf_printf(d, ",\"status\":\"%s\"", vg_case_status_name(u->status));
    }
    if (u->verdict) {
        vg_sbuf_printf(d, ",\"verdict\":\"%s\"", vg_case_verdict_name(u->verdict));
    }
    if (u->severity) {
        vg_sbuf_printf(d, ",\"severity\":\"%s\"", vg_case_severity_name(u->severity));
    }
    vg_sbuf_addc(d, '}');
}

static int update_timeline(struct vg_case_db *db, const struct case_write *w, int64_t id,
                           const struct vg_case_update *u, int old_status, int verdict,
                           const char *detail, char *err, size_t errsz)
{
    char text[256];
    const char *kind = "updated";
    if (u->status == VG_CASE_RESOLVED && old_status != VG_CASE_RESOLVED) {
        kind = "closed";
        snprintf(text, sizeof(text), "Case closed as %s", vg_case_verdict_name(verdict));
    } else if (u->status && u->status != old_status) {
        kind = "status";
        snprintf(text, sizeof(text), "Status %s -> %s", vg_case_status_name(old_status),
                 vg_case_status_name(u->status));
    } else {
        snprintf(text, sizeof(text), "Case updated");
    }
    return case_timeline_put(db, id, w->actor, kind, text, detail, err, errsz);
}

static int do_update(struct vg_case_db *db, struct case_write *w, int64_t id,
                     const struct vg_case_update *u, const struct update_norm *n, const char **act,
                     struct vg_sbuf *detail, char *err, size_t errsz)
{
    int status = 0, verdict = 0;
    int64_t merged = 0;
    int rc = case_lookup(db, w->tenant, id, &status, &merged, err, errsz);
    if (rc == VG_OK && merged) {
        snprintf(err, errsz, "cases: case %" PRId64 " was merged into case %" PRId64, id, merged);
        rc = VG_EINVAL;
    }
    rc = rc ? rc : current_verdict(db, id, &verdict);
    verdict = u->verdict ? u->verdict : verdict;
    if (rc == VG_OK && u->status == VG_CASE_RESOLVED && !verdict) {
        snprintf(err, errsz,
                 "cases: field 'verdict': required to resolve a case "
                 "(true_positive|false_positive|benign|duplicate)");
        rc = VG_EINVAL;
    }
    update_detail(u, detail);
    rc = rc ? rc : detail->err;
    rc = rc ? rc : apply_update(db, id, u, n, status, err, errsz);
    rc = rc ? rc : update_timeline(db, w, id, u, status, verdict, detail->p, err, errsz);
    if (u->status == VG_CASE_RESOLVED && status != VG_CASE_RESOLVED) {
        *act = "case.close";
    }
    return rc;
}

int vg_case_update(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                   const struct vg_case_update *u, char *err, size_t errsz)
{
    struct update_norm n = {VG_SBUF_INIT, VG_SBUF_INIT, false};
    struct vg_sbuf detail = VG_SBUF_INIT;
    struct case_write w;
    const char *act = "case.update";
    int rc = check_update(u, &n, err, errsz);
    if (rc == VG_OK) {
        rc = case_write_begin(db, op, &w, err, errsz);
        if (rc == VG_OK) {
            if (!w.replayed) {
                rc = do_update(db, &w, id, u, &n, &act, &detail, err, errsz);
            }
            rc = case_write_end(&w, rc, id, act, id, detail.p, err, errsz);
        }
    }
    vg_sbuf_fini(&n.tags);
    vg_sbuf_fini(&n.custom);
    vg_sbuf_fini(&detail);
    return rc;
}

/* ---------------------------------------------------------------- get and list */

/* One cases row (CASE_COLS) as JSON members (without braces). */
static void case_row_json(sqlite3_stmt *st, struct vg_sbuf *b, bool full)
{
    vg_sbuf_printf(b, "\"id\":%" PRId64, case_col_i64(st, 0));
    case_json_col(b, "tenant", st, 1, false);
    case_json_col(b, "title", st, 2, false);
    if (full) {
        case_json_col(b, "description", st, 3, false);
    }
    vg_sbuf_printf(b, ",\"severity\":%d,\"severity_name\":\"%s\"", sqlite3_column_int(st, 4),
                   vg_case_severity_name(sqlite3_column_int(st, 4)));
    vg_sbuf_printf(b, ",\"tlp\":\"%s\",\"pap\":\"%s\",\"status\":\"%s\"",
                   vg_case_tlp_name(sqlite3_column_int(st, 5)),
                   vg_case_pap_name(sqlite3_column_int(st, 6)),
                   vg_case_status_name(sqlite3_column_int(st, 7)));
    int verdict = sqlite3_column_int(st, 8);
    case_json_member_str(b, "verdict", verdict ? vg_case_verdict_name(verdict) : NULL, false);
    case_json_col(b, "summary", st, 9, false);
    case_json_col(b, "assignee", st, 10, false);
    vg_sbuf_printf(b, ",\"tags\":%s,\"custom\":%s", case_col(st, 11), case_col(st, 12));
    if (full) {
        case_json_col(b, "root_cause", st, 13, false);
        case_json_col(b, "lessons_learned", st, 14, false);
    }
    case_json_member_time(b, "created", case_col_i64(st, 15));
    case_json_member_time(b, "updated", case_col_i64(st, 16));
    case_json_member_time(b, "closed", case_col_i64(st, 17));
    if (sqlite3_column_type(st, 18) == SQLITE_NULL) {
        vg_sbuf_adds(b, ",\"merged_into\":null");
    } else {
        vg_sbuf_printf(b, ",\"merged_into\":%" PRId64, case_col_i64(st, 18));
    }
}

static void alert_row_json(struct vg_sbuf *b, sqlite3_stmt *st)
{
    case_json_member_time(b, "ts", case_col_i64(st, 1));
    case_json_col(b, "rule_id", st, 2, false);
    case_json_col(b, "title", st, 3, false);
    vg_sbuf_printf(b, ",\"level\":%d,\"attack\":%s", sqlite3_column_int(st, 4),
                   sqlite3_column_type(st, 5) == SQLITE_NULL ? "[]" : case_col(st, 5));
    case_json_col(b, "host", st, 6, false);
    case_json_col(b, "user", st, 7, false);
    case_json_col(b, "src_ip", st, 8, false);
    case_json_col(b, "dst_ip", st, 9, false);
}

static int links_json(struct vg_case_db *db, int64_t id, struct vg_sbuf *b, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_rows_json(db, id,
                            "SELECT alert_id, ts, rule_id, title, level, attack, host, user,"
                            " src_ip, dst_ip FROM case_alerts WHERE case_id = ? ORDER BY alert_id",
                            "case alerts", ",\"alerts\":[", alert_row_json, b, err, errsz);
    if (rc == VG_OK) {
        rc = case_prepare(db, "SELECT incident_id FROM case_incidents WHERE case_id = ? ORDER BY 1",
                          &st, "case incidents", err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    vg_sbuf_adds(b, ",\"incidents\":[");
    for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
        vg_sbuf_printf(b, "%s%" PRId64, n ? "," : "", case_col_i64(st, 0));
    }
    vg_sbuf_addc(b, ']');
    sqlite3_finalize(st);
    return VG_OK;
}

static int counts_json(struct vg_case_db *db, int64_t id, struct vg_sbuf *b, char *err,
                       size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db,
                          "SELECT (SELECT count(*) FROM observables WHERE case_id = ?1),"
                          " (SELECT count(*) FROM tasks WHERE case_id = ?1),"
                          " (SELECT count(*) FROM comments WHERE case_id = ?1)",
                          &st, "case counts", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        vg_sbuf_printf(b, ",\"counts\":{\"observables\":%d,\"tasks\":%d,\"comments\":%d}",
                       sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
                       sqlite3_column_int(st, 2));
    }
    sqlite3_finalize(st);
    return VG_OK;
}

/* {case members, alerts, incidents, counts} of the case row st; ctx is the output. */
static int get_row(void *ctx, struct vg_case_db *db, sqlite3_stmt *st, char *err, size_t errsz)
{
    struct vg_sbuf *out = ctx;
    int64_t id = case_col_i64(st, 0);
    vg_sbuf_addc(out, '{');
    case_row_json(st, out, true);
    int rc = links_json(db, id, out, err, errsz);
    rc = rc ? rc : counts_json(db, id, out, err, errsz);
    vg_sbuf_addc(out, '}');
    return rc;
}

int vg_case_get(struct vg_case_db *db, const char *tenant, int64_t id, struct vg_sbuf *out,
                char *err, size_t errsz)
{
    int rc = case_read_row(db, tenant, id, "case get", get_row, out, err, errsz);
    return rc ? rc : out->err;
}

int vg_case_list(struct vg_case_db *db, const char *tenant, const struct vg_case_filter *f,
                 struct vg_sbuf *out, char *err, size_t errsz)
{
    static const struct vg_case_filter none = {0};
    sqlite3_stmt *st = NULL;
    f = f ? f : &none;
    size_t limit = f->limit ? VG_MIN(f->limit, 500) : 50, n = 0;
    int64_t last = 0;
    case_read_lock(db);
    int rc = case_prepare(
        db,
        "SELECT " CASE_COLS " FROM cases WHERE tenant = ?1 AND (?2 = 0 OR status = ?2)"
        " AND (?3 IS NULL OR assignee = ?3) AND (?4 = 0 OR severity = ?4)"
        " AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(cases.tags) WHERE value = ?5))"
        " AND (?6 = 0 OR id < ?6) ORDER BY id DESC LIMIT ?7",
        &st, "case list", err, errsz);
    if (rc == VG_OK) {
        case_bind_text(st, 1, tenant && *tenant ? tenant : "default");
        sqlite3_bind_int(st, 2, f->status);
        case_bind_text(st, 3, f->assignee);
        sqlite3_bind_int(st, 4, f->severity);
        case_bind_text(st, 5, f->tag);
        sqlite3_bind_int64(st, 6, f->before_id);
        sqlite3_bind_int64(st, 7, (int64_t)limit);
        vg_sbuf_adds(out, "{\"cases\":[");
        while (sqlite3_step(st) == SQLITE_ROW) {
            vg_sbuf_adds(out, n++ ? ",{" : "{");
            case_row_json(st, out, false);
            vg_sbuf_addc(out, '}');
            last = case_col_i64(st, 0);
        }
        sqlite3_finalize(st);
        if (n == limit) {
            vg_sbuf_printf(out, "],\"next_before_id\":%" PRId64 "}", last);
        } else {
            vg_sbuf_adds(out, "],\"next_before_id\":null}");
        }
    }
    case_read_unlock(db);
    return rc ? rc : out->err;
}
