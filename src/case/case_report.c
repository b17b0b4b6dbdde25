/*
 * case_report.c — the post-incident report of a case, as Markdown or as a standalone HTML
 * document.
 *
 * One writer (struct rep) renders headings, key/value tables, tables and text blocks in
 * either format, so every value goes through one of two escapers: HTML escapes & < > " '
 * everywhere; Markdown escapes < > & (no raw HTML reaches a renderer) and, in table
 * cells, | \ and line breaks. The HTML carries its own Content-Security-Policy (no script,
 * inline style only) so a saved report stays inert.
 *
 * Sections: summary, description, affected entities, ATT&CK, linked alerts, timeline,
 * actions taken, tasks, observables, root cause, lessons learned.
 */
#include "case/case_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rep {
    struct vg_sbuf *o;
    bool html;
    struct vg_case_db *db;
    int64_t id;
};

/* ---------------------------------------------------------------- escaping */

static void esc_html(struct vg_sbuf *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            vg_sbuf_adds(o, "&amp;");
            break;
        case '<':
            vg_sbuf_adds(o, "&lt;");
            break;
        case '>':
            vg_sbuf_adds(o, "&gt;");
            break;
        case '"':
            vg_sbuf_adds(o, "&quot;");
            break;
        case '\'':
            vg_sbuf_adds(o, "&#39;");
            break;
        default:
            vg_sbuf_addc(o, *s);
        }
    }
}

/* Markdown text: no raw HTML; in a cell also no | \ or line break. */
static void esc_md(struct vg_sbuf *o, const char *s, bool cell)
{
    for (; s && *s; s++) {
        if (*s == '<') {
            vg_sbuf_adds(o, "&lt;");
        } else if (*s == '>') {
            vg_sbuf_adds(o, "&gt;");
        } else if (*s == '&') {
            vg_sbuf_adds(o, "&amp;");
        } else if (cell && (*s == '|' || *s == '\\')) {
            vg_sbuf_addc(o, '\\');
            vg_sbuf_addc(o, *s);
        } else if (cell && *s == '\n') {
            vg_sbuf_adds(o, "<br>");
        } else if (!(cell && *s == '\r')) {
            vg_sbuf_addc(o, *s);
        }
    }
}

static void rep_text(struct rep *r, const char *s, bool cell)
{
    if (r->html) {
        esc_html(r->o, s);
    } else {
        esc_md(r->o, s, cell);
    }
}

/* ---------------------------------------------------------------- blocks */

static const char css[] =
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;"
    "padding:.25em .5em;text-align:left;vertical-align:top}th{background:#eee}"
    ".text{white-space:pre-wrap}h1{border-bottom:2px solid #444}";

static void rep_begin(struct rep *r, const char *title)
{
    if (r->html) {
        vg_sbuf_adds(r->o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                           "'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action "
                           "'none'\">\n<title>");
        vg_sbuf_printf(r->o, "Case #%" PRId64 ": ", r->id);
        rep_text(r, title, false);
        vg_sbuf_printf(r->o, "</title>\n<style>%s</style></head><body>\n<h1>", css);
        vg_sbuf_printf(r->o, "Case #%" PRId64 ": ", r->id);
        rep_text(r, title, false);
        vg_sbuf_adds(r->o, "</h1>\n");
    } else {
        vg_sbuf_printf(r->o, "# Case #%" PRId64 ": ", r->id);
        rep_text(r, title, true);
        vg_sbuf_adds(r->o, "\n\n");
    }
}

static void rep_end(struct rep *r)
{
    if (r->html) {
        vg_sbuf_adds(r->o, "</body></html>\n");
    }
}

static void rep_h2(struct rep *r, const char *h)
{
    vg_sbuf_printf(r->o, r->html ? "<h2>%s</h2>\n" : "## %s\n\n", h);
}

static void rep_para(struct rep *r, const char *text)
{
    if (!text || !*text) {
        vg_sbuf_adds(r->o, r->html ? "<p><em>None recorded.</em></p>\n" : "_None recorded._\n\n");
        return;
    }
    vg_sbuf_adds(r->o, r->html ? "<div class=\"text\">" : "");
    rep_text(r, text, false);
    vg_sbuf_adds(r->o, r->html ? "</div>\n" : "\n\n");
}

static void rep_table_head(struct rep *r, const char *const *cols, size_t n)
{
    vg_sbuf_adds(r->o, r->html ? "<table><tr>" : "|");
    for (size_t i = 0; i < n; i++) {
        vg_sbuf_printf(r->o, r->html ? "<th>%s</th>" : " %s |", cols[i]);
    }
    vg_sbuf_adds(r->o, r->html ? "</tr>\n" : "\n|");
    for (size_t i = 0; !r->html && i < n; i++) {
        vg_sbuf_adds(r->o, " --- |");
    }
    vg_sbuf_adds(r->o, r->html ? "" : "\n");
}

static void rep_row(struct rep *r, const char *const *cells, size_t n)
{
    vg_sbuf_adds(r->o, r->html ? "<tr>" : "|");
    for (size_t i = 0; i < n; i++) {
        vg_sbuf_adds(r->o, r->html ? "<td>" : " ");
        rep_text(r, cells[i] ? cells[i] : "", true);
        vg_sbuf_adds(r->o, r->html ? "</td>" : " |");
    }
    vg_sbuf_adds(r->o, r->html ? "</tr>\n" : "\n");
}

static void rep_table_end(struct rep *r, size_t rows)
{
    if (rows) {
        vg_sbuf_adds(r->o, r->html ? "</table>\n" : "\n");
    } else {
        vg_sbuf_adds(r->o, r->html ? "<p><em>None.</em></p>\n" : "_None._\n\n");
    }
}

static void fmt_time(int64_t t, char *buf, size_t size)
{
    if (!t || t == VG_TIME_NONE) {
        vg_strlcpy(buf, "", size);
    } else {
        vg_time_format(t, buf, size);
    }
}

/* ---------------------------------------------------------------- sections */

/* Run sql (?1 = case id) and render each row's n text columns as a table row. */
static int rep_query_table(struct rep *r, const char *sql, const char *const *cols, size_t n,
                           const int *time_cols, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    const char *cells[8];
    char times[8][48];
    size_t rows = 0;
    int rc = case_prepare(r->db, sql, &st, "report", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, r->id);
    size_t mark = r->o->len; /* an empty table is dropped for "None." */
    rep_table_head(r, cols, n);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (size_t i = 0; i < n && i < 8; i++) {
            cells[i] = case_col(st, (int)i);
            if (time_cols && time_cols[i]) {
                fmt_time(case_col_i64(st, (int)i), times[i], sizeof(times[i]));
                cells[i] = times[i];
            }
        }
        rep_row(r, cells, n);
        rows++;
    }
    sqlite3_finalize(st);
    if (!rows && !r->o->err) {
        r->o->len = mark;
        r->o->p[mark] = '\0';
    }
    rep_table_end(r, rows);
    return VG_OK;
}

static void kv(struct rep *r, const char *k, const char *v)
{
    const char *cells[2] = {k, v};
    rep_row(r, cells, 2);
}

static int rep_summary(struct rep *r, sqlite3_stmt *c)
{
    static const char *const cols[] = {"Field", "Value"};
    char created[48], closed[48];
    int verdict = sqlite3_column_int(c, 8);
    rep_h2(r, "Summary");
    rep_table_head(r, cols, 2);
    kv(r, "Status", vg_case_status_name(sqlite3_column_int(c, 7)));
    kv(r, "Verdict", verdict ? vg_case_verdict_name(verdict) : "(open)");
    kv(r, "Severity", vg_case_severity_name(sqlite3_column_int(c, 4)));
    kv(r, "TLP", vg_case_tlp_name(sqlite3_column_int(c, 5)));
    kv(r, "PAP", vg_case_pap_name(sqlite3_column_int(c, 6)));
    kv(r, "Assignee", case_col(c, 10));
    kv(r, "Tags", case_col(c, 11));
    fmt_time(case_col_i64(c, 15), created, sizeof(created));
    fmt_time(case_col_i64(c, 17), closed, sizeof(closed));
    kv(r, "Created", created);
    kv(r, "Closed", closed);
    kv(r, "Closing summary", case_col(c, 9));
    rep_table_end(r, 1);
    rep_h2(r, "Description");
    rep_para(r, case_col(c, 3));
    return VG_OK;
}

static int rep_entities(struct rep *r, char *err, size_t errsz)
{
    static const char *const cols[] = {"Kind", "Value"};
    rep_h2(r, "Affected entities");
    return rep_query_table(
        r,
        "SELECT kind, value FROM ("
        " SELECT 'host' AS kind, value FROM observables WHERE case_id = ?1 AND type = 'hostname'"
        " UNION SELECT 'host', lower(host) FROM case_alerts WHERE case_id = ?1 AND host != ''"
        " UNION SELECT 'user', value FROM observables WHERE case_id = ?1 AND type = 'user'"
        " UNION SELECT 'user', user FROM case_alerts WHERE case_id = ?1 AND user != ''"
        " UNION SELECT 'ip', value FROM observables WHERE case_id = ?1 AND type = 'ip'"
        " UNION SELECT 'ip', src_ip FROM case_alerts WHERE case_id = ?1 AND src_ip != ''"
        " UNION SELECT 'ip', dst_ip FROM case_alerts WHERE case_id = ?1 AND dst_ip != ''"
        ") ORDER BY kind, value",
        cols, 2, NULL, err, errsz);
}

/* ---------------------------------------------------------------- ATT&CK */

static bool is_technique(const char *s)
{
    size_t n = strlen(s);
    if ((n != 5 && n != 9) || (s[0] != 'T' && s[0] != 't')) {
        return false;
    }
    for (size_t i = 1; i < n; i++) {
        if (i == 5 ? s[i] != '.' : !isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool is_tactic(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (!islower((unsigned char)*p) && *p != '_' && *p != '-') {
            return false;
        }
    }
    return *s && strlen(s) < 48;
}

static void set_add(struct vg_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i], s)) {
            return;
        }
    }
    vg_strlist_add(l, s);
}

static void attack_collect(const char *json, bool tags, struct vg_strlist *tech,
                           struct vg_strlist *tact)
{
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *v = NULL;
    char e[64], buf[64];
    if (!a || !json || case_json_parse(json, strlen(json), a, &v, e, sizeof(e)) != VG_OK ||
        v->type != VG_JSON_ARRAY) {
        vg_arena_destroy(a);
        return;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        const struct vg_json *s = &v->u.items[i];
        if (s->type != VG_JSON_STRING || s->n >= sizeof(buf)) {
            continue;
        }
        memcpy(buf, s->s, s->n);
        buf[s->n] = '\0';
        const char *t = buf;
        if (tags && strncmp(t, "attack.", 7) != 0) {
            continue;
        }
        t += tags ? 7 : 0;
        if (is_technique(t)) {
            buf[t - buf] = 'T';
            set_add(tech, t);
        } else if (tags && is_tactic(t)) {
            set_add(tact, t);
        }
    }
    vg_arena_destroy(a);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rep_list(struct rep *r, const char *label, struct vg_strlist *l)
{
    if (l->n > 1) { /* an empty list has no array (v is NULL): qsort must not see it */
        qsort(l->v, l->n, sizeof(char *), cmp_str);
    }
    vg_sbuf_printf(r->o, r->html ? "<p><strong>%s:</strong> " : "**%s:** ", label);
    for (size_t i = 0; i < l->n; i++) {
        vg_sbuf_adds(r->o, i ? ", " : "");
        rep_text(r, l->v[i], true);
    }
    vg_sbuf_adds(r->o, l->n ? "" : "none");
    vg_sbuf_adds(r->o, r->html ? "</p>\n" : "\n\n");
}

static int rep_attack(struct rep *r, char *err, size_t errsz)
{
    struct vg_strlist tech = {0}, tact = {0};
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(r->db, "SELECT attack, tags FROM case_alerts WHERE case_id = ?", &st,
                          "report attack", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, r->id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        attack_collect((const char *)sqlite3_column_text(st, 0), false, &tech, &tact);
        attack_collect((const char *)sqlite3_column_text(st, 1), true, &tech, &tact);
    }
    sqlite3_finalize(st);
    rep_h2(r, "MITRE ATT&amp;CK");
    rep_list(r, "Techniques", &tech);
    rep_list(r, "Tactics", &tact);
    vg_strlist_free(&tech);
    vg_strlist_free(&tact);
    return VG_OK;
}

/* ---------------------------------------------------------------- the report */

/* The report's tables after ATT&CK: heading, statement (?1 = case id), columns, time columns. */
static const struct rep_section {
    const char *heading;
    const char *sql;
    const char *cols[5];
    size_t n;
    int time_cols[5];
} rep_sections[] = {
    {"Linked alerts",
     "SELECT alert_id, ts, rule_id, title, level FROM case_alerts WHERE case_id = ?1"
     " ORDER BY ts, alert_id",
     {"Alert", "Time", "Rule", "Title", "Level"},
     5,
     {0, 1, 0, 0, 0}},
    {"Timeline",
     "SELECT ts, actor, kind, text FROM timeline WHERE case_id = ?1 ORDER BY ts, id",
     {"Time", "Actor", "Kind", "Entry"},
     4,
     {1, 0, 0, 0}},
    {"Actions taken",
     "SELECT ts, actor, text, detail FROM timeline WHERE case_id = ?1 AND kind = 'action'"
     " ORDER BY ts, id",
     {"Time", "Actor", "Action", "Detail"},
     4,
     {1, 0, 0, 0}},
    {"Tasks",
     "SELECT id, grp, title, CASE status WHEN 1 THEN 'waiting' WHEN 2 THEN 'in_progress'"
     " WHEN 3 THEN 'completed' ELSE 'cancelled' END, coalesce(assignee, '') FROM tasks"
     " WHERE case_id = ?1 ORDER BY id",
     {"Task", "Group", "Title", "Status", "Assignee"},
     5,
     {0}},
    {"Observables",
     "SELECT CASE subtype WHEN '' THEN type ELSE type || ' (' || subtype || ')' END, value,"
     " CASE ioc WHEN 1 THEN 'yes' ELSE 'no' END, CASE sighted WHEN 1 THEN 'yes' ELSE 'no' END,"
     " source FROM observables WHERE case_id = ?1 ORDER BY type, value",
     {"Type", "Value", "IOC", "Sighted", "Source"},
     5,
     {0}},
};

/* Every section: its heading, then its table (after a failure, the headings only). */
static int rep_tables(struct rep *r, char *err, size_t errsz)
{
    int rc = VG_OK;
    for (size_t i = 0; i < VG_ARRAY_LEN(rep_sections); i++) {
        const struct rep_section *s = &rep_sections[i];
        rep_h2(r, s->heading);
        rc = rc ? rc : rep_query_table(r, s->sql, s->cols, s->n, s->time_cols, err, errsz);
    }
    return rc;
}

/* The whole report from the case row c (CASE_COLS); ctx is the struct rep. */
static int rep_case(void *ctx, struct vg_case_db *db, sqlite3_stmt *c, char *err, size_t errsz)
{
    struct rep *r = ctx;
    (void)db; /* r->db */
    rep_begin(r, case_col(c, 2));
    int rc = rep_summary(r, c);
    rc = rc ? rc : rep_entities(r, err, errsz);
    rc = rc ? rc : rep_attack(r, err, errsz);
    rc = rc ? rc : rep_tables(r, err, errsz);
    rep_h2(r, "Root cause");
    rep_para(r, case_col(c, 13));
    rep_h2(r, "Lessons learned");
    rep_para(r, case_col(c, 14));
    rep_end(r);
    return rc;
}

int vg_case_report(struct vg_case_db *db, const char *tenant, int64_t id, const char *format,
                   struct vg_sbuf *out, char *err, size_t errsz)
{
    struct rep r = {.o = out, .db = db, .id = id};
    if (!format || (strcmp(format, "markdown") && strcmp(format, "md") && strcmp(format, "html"))) {
        snprintf(err, errsz, "cases: format: expected markdown or html");
        return VG_EINVAL;
    }
    r.html = !strcmp(format, "html");
    int rc = case_read_row(db, tenant, id, "report", rep_case, &r, err, errsz);
    return rc ? rc : out->err;
}
