/*
 * vuln_db.c — the advisory database of the vulnerability scanner (issue 8). One SQLite file
 * DIR/vuln.db in WAL mode; importers for OSV (JSON, YAML, directories, the osv.dev per-ecosystem
 * zip archives through a small bounded zip reader over zlib raw inflate), the Debian Security
 * Tracker JSON, FIRST.org EPSS CSV (plain or gzip) and CISA KEV JSON; and the status summary.
 * Matching an inventory against these tables lives in vuln_match.c.
 *
 * Untrusted input: every file is size-bounded, JSON goes through vg_json (depth/size limits),
 * YAML through vg_yaml, zip members are bounds-checked against the mapped file and inflated
 * into buffers of their declared size. A malformed record is skipped and counted; a malformed
 * file (syntax) fails the import, whose transaction is then rolled back.
 */
#include "vuln/vuln_db.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "event/event.h"

struct vg_vuln_db {
    sqlite3 *sql;
    char path[4096];
};

static const char schema_sql[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
    "PRAGMA mmap_size=536870912; PRAGMA temp_store=MEMORY;"
    "CREATE TABLE IF NOT EXISTS advisories(rid INTEGER PRIMARY KEY, source TEXT NOT NULL,"
    " id TEXT NOT NULL, aliases TEXT, summary TEXT, modified TEXT, severity INTEGER,"
    " severity_source TEXT, cvss REAL, UNIQUE(source, id));"
    "CREATE TABLE IF NOT EXISTS affected(adv INTEGER NOT NULL, ecosystem TEXT NOT NULL,"
    " package TEXT NOT NULL, release TEXT, ranges TEXT, versions TEXT, status TEXT, fixed TEXT,"
    " urgency TEXT, nodsa TEXT, nodsa_reason TEXT);"
    "CREATE INDEX IF NOT EXISTS affected_pkg ON affected(ecosystem, package);"
    "CREATE INDEX IF NOT EXISTS affected_adv ON affected(adv);"
    "CREATE TABLE IF NOT EXISTS aliases(alias TEXT NOT NULL, adv INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS aliases_alias ON aliases(alias);"
    "CREATE INDEX IF NOT EXISTS aliases_adv ON aliases(adv);"
    "CREATE TABLE IF NOT EXISTS epss(cve TEXT PRIMARY KEY, score REAL, percentile REAL,"
    " date TEXT);"
    "CREATE TABLE IF NOT EXISTS kev(cve TEXT PRIMARY KEY, date_added TEXT, ransomware TEXT,"
    " name TEXT);"
    "CREATE TABLE IF NOT EXISTS sources(name TEXT PRIMARY KEY, format TEXT, path TEXT,"
    " imported TEXT, date TEXT, records INTEGER, affected INTEGER, skipped INTEGER);";

/* ---------------------------------------------------------------- small helpers */

static void seterr(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errsz) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static int sqlerr(sqlite3 *sql, const char *what, char *err, size_t errsz)
{
    seterr(err, errsz, "vuln db: %s: %s", what, sqlite3_errmsg(sql));
    return VG_EIO;
}

static bool jstr(const struct vg_json *v, const char **s, size_t *n)
{
    if (!v || v->type != VG_JSON_STRING) {
        return false;
    }
    *s = v->s;
    *n = v->n;
    return true;
}

static void bind_json_str(sqlite3_stmt *st, int i, const struct vg_json *v)
{
    const char *s;
    size_t n;
    if (jstr(v, &s, &n)) {
        sqlite3_bind_text(st, i, s, (int)n, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* Line number (1-based) of byte offset off in text. */
static size_t line_of(const char *text, size_t len, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        line += text[i] == '\n';
    }
    return line;
}

/* "CVE-YYYY-NNNN…": the key EPSS and KEV rows are joined on. */
static bool cve_valid(const char *s, size_t n)
{
    size_t digits = 0;
    if (n < 13 || n > 32 || memcmp(s, "CVE-", 4) != 0 || s[8] != '-') {
        return false;
    }
    for (size_t i = 4; i < n; i++) {
        if (i != 8 && (s[i] < '0' || s[i] > '9')) {
            return false;
        }
        digits += i > 8;
    }
    return digits >= 4;
}

/* ---------------------------------------------------------------- CVSS v3 */

static double cvss_roundup(double x)
{
    long v = lround(x * 100000.0);
    return (v % 10000 == 0) ? (double)v / 100000.0 : (floor((double)v / 10000.0) + 1) / 10.0;
}

/* Value of metric m (e.g. "AV") in vec, or 0 when absent. */
static char cvss_metric(const char *vec, size_t n, const char *m)
{
    size_t ml = strlen(m);
    for (size_t i = 0; i + ml + 2 <= n; i++) {
        if ((i == 0 || vec[i - 1] == '/') && memcmp(vec + i, m, ml) == 0 && vec[i + ml] == ':') {
            return vec[i + ml + 1];
        }
    }
    return 0;
}

double vg_vuln_cvss3_score(const char *vec, size_t n)
{
    char av = cvss_metric(vec, n, "AV"), ac = cvss_metric(vec, n, "AC");
    char pr = cvss_metric(vec, n, "PR"), ui = cvss_metric(vec, n, "UI");
    char s = cvss_metric(vec, n, "S"), c = cvss_metric(vec, n, "C");
    char i = cvss_metric(vec, n, "I"), a = cvss_metric(vec, n, "A");
    if (n < 8 || memcmp(vec, "CVSS:3.", 7) != 0 || !av || !ac || !pr || !ui || !s || !c || !i ||
        !a) {
        return -1;
    }
    bool changed = s == 'C';
    double vav = av == 'N' ? 0.85 : av == 'A' ? 0.62 : av == 'L' ? 0.55 : 0.2;
    double vac = ac == 'L' ? 0.77 : 0.44;
    double vpr = pr == 'N' ? 0.85 : pr == 'L' ? (changed ? 0.68 : 0.62) : (changed ? 0.5 : 0.27);
    double vui = ui == 'N' ? 0.85 : 0.62;
    double vc = c == 'H' ? 0.56 : c == 'L' ? 0.22 : 0, vi = i == 'H' ? 0.56 : i == 'L' ? 0.22 : 0;
    double va = a == 'H' ? 0.56 : a == 'L' ? 0.22 : 0;
    double iss = 1 - (1 - vc) * (1 - vi) * (1 - va);
    double imp = changed ? 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15) : 6.42 * iss;
    double expl = 8.22 * vav * vac * vpr * vui;
    if (imp <= 0) {
        return 0;
    }
    return changed ? cvss_roundup(fmin(1.08 * (imp + expl), 10))
                   : cvss_roundup(fmin(imp + expl, 10));
}

enum vg_vuln_severity vg_vuln_severity_of_cvss(double score)
{
    if (score < 0) {
        return VG_VULN_SEV_UNKNOWN;
    }
    return score >= 9.0   ? VG_VULN_SEV_CRITICAL
           : score >= 7.0 ? VG_VULN_SEV_HIGH
           : score >= 4.0 ? VG_VULN_SEV_MEDIUM
           : score > 0    ? VG_VULN_SEV_LOW
                          : VG_VULN_SEV_NEGLIGIBLE;
}

/* ---------------------------------------------------------------- open / close */

static int mkdir_p(const char *dir)
{
    char p[4096];
    size_t n = vg_strlcpy(p, dir, sizeof(p));
    if (n >= sizeof(p)) {
        return VG_ELIMIT;
    }
    for (size_t i = 1; i <= n; i++) {
        if (p[i] == '/' || p[i] == 0) {
            char c = p[i];
            p[i] = 0;
            if (mkdir(p, 0750) != 0 && errno != EEXIST) {
                return VG_EIO;
            }
            p[i] = c;
        }
    }
    return VG_OK;
}

int vg_vuln_db_open(const char *dir, bool create, struct vg_vuln_db **out, char *err, size_t errsz)
{
    struct vg_vuln_db *db = NULL;
    struct stat st;
    int rc = VG_OK;
    *out = NULL;
    if (create && mkdir_p(dir) != VG_OK) {
        seterr(err, errsz, "vuln db: cannot create %s: %s", dir, strerror(errno));
        return VG_EIO;
    }
    db = vg_calloc(1, sizeof(*db));
    if (!db) {
        return VG_ENOMEM;
    }
    if ((size_t)snprintf(db->path, sizeof(db->path), "%s/vuln.db", dir) >= sizeof(db->path)) {
        rc = VG_ELIMIT;
        seterr(err, errsz, "vuln db: path too long: %s", dir);
        goto fail;
    }
    if (!create && stat(db->path, &st) != 0) {
        rc = VG_ENOENT;
        seterr(err, errsz, "vuln db: %s: no database (import advisories first)", db->path);
        goto fail;
    }
    if (sqlite3_open_v2(db->path, &db->sql, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = sqlerr(db->sql, db->path, err, errsz);
        goto fail;
    }
    sqlite3_busy_timeout(db->sql, 5000);
    if (sqlite3_exec(db->sql, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlerr(db->sql, "schema", err, errsz);
        goto fail;
    }
    *out = db;
    return VG_OK;
fail:
    vg_vuln_db_close(db);
    return rc;
}

void vg_vuln_db_close(struct vg_vuln_db *db)
{
    if (!db) {
        return;
    }
    sqlite3_close(db->sql);
    vg_free(db);
}

struct sqlite3 *vg_vuln_db_handle(struct vg_vuln_db *db)
{
    return db->sql;
}

/* ---------------------------------------------------------------- import context */

enum { ST_INS_ADV, ST_DEL_ADV, ST_INS_AFF, ST_INS_ALIAS, ST_INS_EPSS, ST_INS_KEV, ST_COUNT };
static const char *const stmt_sql[ST_COUNT] = {
    "INSERT OR IGNORE INTO "
    "advisories(source,id,aliases,summary,modified,severity,severity_source,cvss)"
    " VALUES(?,?,?,?,?,?,?,?)",
    "DELETE FROM advisories WHERE source=?1 AND id=?2 RETURNING rid",
    "INSERT INTO affected(adv,ecosystem,package,release,ranges,versions,status,fixed,urgency,"
    "nodsa,nodsa_reason) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
    "INSERT INTO aliases(alias,adv) VALUES(?,?)",
    "INSERT OR REPLACE INTO epss(cve,score,percentile,date) VALUES(?,?,?,?)",
    "INSERT OR REPLACE INTO kev(cve,date_added,ransomware,name) VALUES(?,?,?,?)",
};

struct imp {
    struct vg_vuln_db *db;
    struct vg_vuln_import_report *rep;
    sqlite3_stmt *st[ST_COUNT];
    struct vg_json_parser *jp;
    struct vg_arena *arena;
    char date[64]; /* source data date (EPSS score_date) */
    char *err;
    size_t errsz;
};

/* Record a skipped record: count it and keep the first reason. */
static void skip(struct imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(struct imp *im, const char *fmt, ...)
{
    va_list ap;
    im->rep->skipped++;
    if (im->rep->first_error[0]) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(im->rep->first_error, sizeof(im->rep->first_error), fmt, ap);
    va_end(ap);
}

static int step_done(struct imp *im, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return sqlerr(im->db->sql, "insert", im->err, im->errsz);
    }
    return VG_OK;
}

static int exec_src(struct imp *im, const char *sql, const char *source)
{
    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(im->db->sql, sql, -1, &st, NULL) != SQLITE_OK) {
        return sqlerr(im->db->sql, "prepare", im->err, im->errsz);
    }
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    rc =
        sqlite3_step(st) == SQLITE_DONE ? VG_OK : sqlerr(im->db->sql, "delete", im->err, im->errsz);
    sqlite3_finalize(st);
    return rc;
}

/* Drop every row of a whole-replacement source (tracker, EPSS, KEV). */
static int clear_source(struct imp *im, const char *source)
{
    int rc = VG_OK;
    if (!strcmp(source, "epss")) {
        return exec_src(im, "DELETE FROM epss WHERE ?1 IS NOT NULL", source);
    }
    if (!strcmp(source, "kev")) {
        return exec_src(im, "DELETE FROM kev WHERE ?1 IS NOT NULL", source);
    }
    rc = exec_src(im,
                  "DELETE FROM affected WHERE adv IN (SELECT rid FROM advisories WHERE source=?1)",
                  source);
    if (rc == VG_OK) {
        rc = exec_src(
            im, "DELETE FROM aliases WHERE adv IN (SELECT rid FROM advisories WHERE source=?1)",
            source);
    }
    if (rc == VG_OK) {
        rc = exec_src(im, "DELETE FROM advisories WHERE source=?1", source);
    }
    return rc;
}

/* ---------------------------------------------------------------- OSV */

static const struct vg_json *jget(const struct vg_json *o, const char *k)
{
    return o && o->type == VG_JSON_OBJECT ? vg_json_get(o, k) : NULL;
}

/* Serialise one range: "TYPE\tkind=version\t...\n". Returns false on a malformed range. */
static bool osv_range_text(const struct vg_json *r, struct vg_sbuf *out)
{
    const struct vg_json *ty = jget(r, "type"), *ev = jget(r, "events");
    const char *s;
    size_t n;
    if (!jstr(ty, &s, &n) || !ev || ev->type != VG_JSON_ARRAY || ev->n == 0) {
        return false;
    }
    vg_sbuf_add(out, s, n);
    for (uint32_t i = 0; i < ev->n; i++) {
        const struct vg_json *e = &ev->u.items[i];
        const char *v;
        size_t vn;
        if (e->type != VG_JSON_OBJECT || e->n != 1 || !jstr(&e->u.items[1], &v, &vn) ||
            memchr(v, '\t', vn) || memchr(v, '\n', vn)) {
            return false;
        }
        vg_sbuf_addc(out, '\t');
        vg_sbuf_add(out, e->u.items[0].s, e->u.items[0].n);
        vg_sbuf_addc(out, '=');
        vg_sbuf_add(out, v, vn);
    }
    vg_sbuf_addc(out, '\n');
    return true;
}

static void join_strings(const struct vg_json *arr, char sep, struct vg_sbuf *out)
{
    const char *s;
    size_t n;
    if (!arr || arr->type != VG_JSON_ARRAY) {
        return;
    }
    for (uint32_t i = 0; i < arr->n; i++) {
        if (jstr(&arr->u.items[i], &s, &n)) {
            if (out->len) {
                vg_sbuf_addc(out, sep);
            }
            vg_sbuf_add(out, s, n);
        }
    }
}

/* One affected[] entry of an OSV record. */
static int osv_affected(struct imp *im, int64_t rid, const struct vg_json *a, const char *file,
                        const char *id, uint32_t idx)
{
    const struct vg_json *pkg = jget(a, "package"), *ranges = jget(a, "ranges");
    const struct vg_json *eco = jget(pkg, "ecosystem"), *name = jget(pkg, "name");
    struct vg_sbuf rs = VG_SBUF_INIT, vs = VG_SBUF_INIT;
    sqlite3_stmt *st = im->st[ST_INS_AFF];
    int rc = VG_OK;
    if (!eco || eco->type != VG_JSON_STRING || !name || name->type != VG_JSON_STRING) {
        skip(im, "%s: %s: field 'affected[%u].package': ecosystem and name required", file, id,
             idx);
        return VG_OK;
    }
    for (uint32_t i = 0; ranges && ranges->type == VG_JSON_ARRAY && i < ranges->n; i++) {
        if (!osv_range_text(&ranges->u.items[i], &rs)) {
            skip(im, "%s: %s: field 'affected[%u].ranges[%u]': malformed range", file, id, idx, i);
        }
    }
    join_strings(jget(a, "versions"), '\n', &vs);
    if (rs.err || vs.err) {
        rc = VG_ENOMEM;
        goto out;
    }
    sqlite3_bind_int64(st, 1, rid);
    bind_json_str(st, 2, eco);
    bind_json_str(st, 3, name);
    sqlite3_bind_text(st, 5, rs.p, (int)rs.len, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, vs.p, (int)vs.len, SQLITE_TRANSIENT);
    rc = step_done(im, st);
    im->rep->affected += rc == VG_OK;
out:
    vg_sbuf_fini(&rs);
    vg_sbuf_fini(&vs);
    return rc;
}

/* Severity of an OSV record: CVSS v3 vector first, then database_specific.severity. */
static void osv_severity(const struct vg_json *rec, int *sev, const char **src, double *cvss)
{
    const struct vg_json *arr = jget(rec, "severity");
    const char *s;
    size_t n;
    *sev = VG_VULN_SEV_UNKNOWN;
    *src = NULL;
    *cvss = -1;
    for (uint32_t i = 0; arr && arr->type == VG_JSON_ARRAY && i < arr->n; i++) {
        if (jstr(jget(&arr->u.items[i], "score"), &s, &n)) {
            double c = vg_vuln_cvss3_score(s, n);
            if (c >= 0) {
                *cvss = c;
                *sev = (int)vg_vuln_severity_of_cvss(c);
                *src = n > 8 && s[7] == '0' ? "cvss:3.0" : "cvss:3.1";
                return;
            }
        }
    }
    if (jstr(jget(jget(rec, "database_specific"), "severity"), &s, &n)) {
        static const char *const names[] = {"",         "NEGLIGIBLE", "LOW",
                                            "MODERATE", "HIGH",       "CRITICAL"};
        for (int k = 1; k < 6; k++) {
            if (vg_str_ieq_ascii(s, n, names[k], strlen(names[k])) ||
                (k == 3 && vg_str_ieq_ascii(s, n, "MEDIUM", 6))) {
                *sev = k;
                *src = "osv";
            }
        }
    }
}

static int osv_insert_adv(struct imp *im, const struct vg_json *rec, const char *id, int64_t *rid)
{
    sqlite3_stmt *st = im->st[ST_INS_ADV], *del = im->st[ST_DEL_ADV];
    struct vg_sbuf al = VG_SBUF_INIT;
    const struct vg_json *summary = jget(rec, "summary");
    const char *ssrc;
    double cvss;
    int sev, rc;
    /* replace a previous import of the same advisory */
    sqlite3_bind_text(del, 1, "osv", -1, SQLITE_STATIC);
    sqlite3_bind_text(del, 2, id, -1, SQLITE_STATIC);
    while (sqlite3_step(del) == SQLITE_ROW) {
        int64_t old = sqlite3_column_int64(del, 0);
        char q[160];
        snprintf(q, sizeof(q),
                 "DELETE FROM affected WHERE adv=%lld; DELETE FROM aliases WHERE "
                 "adv=%lld;",
                 (long long)old, (long long)old);
        sqlite3_exec(im->db->sql, q, NULL, NULL, NULL);
    }
    sqlite3_reset(del);
    join_strings(jget(rec, "aliases"), ',', &al);
    osv_severity(rec, &sev, &ssrc, &cvss);
    if (!summary || summary->type != VG_JSON_STRING) {
        summary = jget(rec, "details");
    }
    sqlite3_bind_text(st, 1, "osv", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    if (al.len) {
        sqlite3_bind_text(st, 3, al.p, (int)al.len, SQLITE_TRANSIENT);
    }
    bind_json_str(st, 4, summary);
    bind_json_str(st, 5, jget(rec, "modified"));
    sqlite3_bind_int(st, 6, sev);
    if (ssrc) {
        sqlite3_bind_text(st, 7, ssrc, -1, SQLITE_STATIC);
    }
    sqlite3_bind_double(st, 8, cvss);
    rc = al.err ? VG_ENOMEM : step_done(im, st);
    *rid = sqlite3_last_insert_rowid(im->db->sql);
    vg_sbuf_fini(&al);
    return rc;
}

static int osv_aliases(struct imp *im, const struct vg_json *rec, int64_t rid)
{
    const struct vg_json *arr = jget(rec, "aliases");
    int rc = VG_OK;
    for (uint32_t i = 0; rc == VG_OK && arr && arr->type == VG_JSON_ARRAY && i < arr->n; i++) {
        if (arr->u.items[i].type == VG_JSON_STRING) {
            bind_json_str(im->st[ST_INS_ALIAS], 1, &arr->u.items[i]);
            sqlite3_bind_int64(im->st[ST_INS_ALIAS], 2, rid);
            rc = step_done(im, im->st[ST_INS_ALIAS]);
        }
    }
    return rc;
}

/* Store one OSV record (a parsed JSON object, or a YAML document converted to one). */
static int osv_record(struct imp *im, const struct vg_json *rec, const char *file)
{
    const struct vg_json *idv = jget(rec, "id"), *aff = jget(rec, "affected");
    char id[256];
    int64_t rid = 0;
    int rc;
    if (!rec || rec->type != VG_JSON_OBJECT) {
        skip(im, "%s: not an OSV record (expected an object)", file);
        return VG_OK;
    }
    if (!idv || idv->type != VG_JSON_STRING || idv->n == 0 || idv->n >= sizeof(id)) {
        skip(im, "%s: field 'id': missing or not a string", file);
        return VG_OK;
    }
    memcpy(id, idv->s, idv->n);
    id[idv->n] = 0;
    if (aff && aff->type != VG_JSON_ARRAY) {
        skip(im, "%s: %s: field 'affected': not a list", file, id);
        return VG_OK;
    }
    rc = osv_insert_adv(im, rec, id, &rid);
    if (rc == VG_OK) {
        rc = osv_aliases(im, rec, rid);
    }
    for (uint32_t i = 0; rc == VG_OK && aff && i < aff->n; i++) {
        rc = osv_affected(im, rid, &aff->u.items[i], file, id, i);
    }
    im->rep->records += rc == VG_OK;
    return rc;
}

/* Parse a whole text as one JSON value into im->arena. */
static int parse_json(struct imp *im, const char *text, size_t len, const char *file,
                      struct vg_json **out)
{
    char jerr[200];
    size_t used = 0;
    int rc = vg_json_parse(im->jp, im->arena, text, len, &used, out, jerr, sizeof(jerr));
    if (rc != VG_OK) {
        const char *o = strstr(jerr, "offset ");
        size_t off = o ? (size_t)strtoull(o + 7, NULL, 10) : 0;
        seterr(im->err, im->errsz, "%s:%zu: JSON: %s", file, line_of(text, len, off),
               rc == VG_EOF ? "empty file" : jerr);
        return rc == VG_ELIMIT ? VG_ELIMIT : VG_EINVAL;
    }
    return VG_OK;
}

static int osv_json_text(struct imp *im, const char *text, size_t len, const char *file)
{
    struct vg_json *doc = NULL;
    int rc = parse_json(im, text, len, file, &doc);
    im->rep->files++;
    if (rc != VG_OK) {
        /* inside a directory or zip, one bad file is one skipped record */
        skip(im, "%s", im->err);
        return VG_OK;
    }
    rc = osv_record(im, doc, file);
    vg_arena_reset(im->arena);
    return rc;
}

/* Convert a YAML node to the JSON DOM (scalars become strings; plain null becomes null). */
static struct vg_json *yaml_to_json(struct vg_arena *a, const struct vg_yaml_node *y, int depth)
{
    struct vg_json *j = vg_arena_calloc(a, sizeof(*j));
    size_t k = 0;
    if (!j || depth > 64) {
        return NULL;
    }
    if (y->type == VG_YAML_SCALAR) {
        j->type = vg_yaml_is_null(y) ? VG_JSON_NULL : VG_JSON_STRING;
        j->s = y->str;
        j->n = (uint32_t)y->len;
        return j;
    }
    k = y->type == VG_YAML_MAP ? 2 * y->n : y->n;
    j->type = y->type == VG_YAML_MAP ? VG_JSON_OBJECT : VG_JSON_ARRAY;
    j->n = (uint32_t)y->n;
    j->u.items = vg_arena_calloc(a, (k ? k : 1) * sizeof(*j->u.items));
    if (!j->u.items) {
        return NULL;
    }
    for (size_t i = 0; i < k; i++) {
        struct vg_json *c = yaml_to_json(a, y->items[i], depth + 1);
        if (!c) {
            return NULL;
        }
        j->u.items[i] = *c;
    }
    return j;
}

static int osv_yaml_text(struct imp *im, const char *text, size_t len, const char *file)
{
    struct vg_yaml_file *yf = NULL;
    char yerr[200];
    int rc = VG_OK;
    im->rep->files++;
    if (vg_yaml_parse(text, len, &yf, yerr, sizeof(yerr)) != VG_OK) {
        skip(im, "%s: YAML: %s", file, yerr);
        return VG_OK;
    }
    for (size_t d = 0; rc == VG_OK && d < yf->ndocs; d++) {
        struct vg_json *doc = yf->docs[d] ? yaml_to_json(im->arena, yf->docs[d], 0) : NULL;
        if (!doc) {
            skip(im, "%s: document %zu: empty or too deep", file, d + 1);
            continue;
        }
        rc = osv_record(im, doc, file);
    }
    vg_arena_reset(im->arena);
    vg_yaml_file_destroy(yf);
    return rc;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static int osv_file(struct imp *im, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    int rc = vg_file_read(path, VG_VULN_DB_MAX_ENTRY, &text, &len);
    if (rc != VG_OK) {
        skip(im, "%s: %s", path, vg_strerror(rc));
        return VG_OK;
    }
    if (ends_with(path, ".yaml") || ends_with(path, ".yml")) {
        rc = osv_yaml_text(im, text, len, path);
    } else {
        rc = osv_json_text(im, text, len, path);
    }
    vg_free(text);
    return rc;
}

static int osv_dir(struct imp *im, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = VG_OK;
    if (!d) {
        seterr(im->err, im->errsz, "%s: %s", dir, strerror(errno));
        return VG_EIO;
    }
    while (rc == VG_OK && (e = readdir(d))) {
        char p[4096];
        struct stat st;
        if (e->d_name[0] == '.' ||
            (size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= sizeof(p) ||
            lstat(p, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode) && depth < VG_VULN_DB_MAX_DEPTH) {
            rc = osv_dir(im, p, depth + 1);
        } else if (S_ISREG(st.st_mode) &&
                   (ends_with(p, ".json") || ends_with(p, ".yaml") || ends_with(p, ".yml"))) {
            if (im->rep->files >= VG_VULN_DB_MAX_ENTRIES) {
                seterr(im->err, im->errsz, "%s: more than %u files", dir, VG_VULN_DB_MAX_ENTRIES);
                rc = VG_ELIMIT;
            } else {
                rc = osv_file(im, p);
            }
        }
    }
    closedir(d);
    return rc;
}

/* ---------------------------------------------------------------- zip (OSV archives) */

/* Inflate n bytes at src (windowBits: -15 raw, 31 gzip) into a buffer of at most max bytes. */
static int inflate_all(const uint8_t *src, size_t n, int wbits, size_t hint, size_t max, char **out,
                       size_t *outlen)
{
    z_stream z;
    size_t cap = hint ? hint + 1 : 1u << 16, len = 0;
    char *buf = NULL;
    int zr = Z_OK, rc = VG_OK;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, wbits) != Z_OK) {
        return VG_ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
    while (zr != Z_STREAM_END) {
        if (len + 1 >= cap || !buf) {
            char *nb;
            if (buf) {
                cap *= 2;
            }
            if (cap > max + 1) {
                cap = max + 1;
            }
            if (len + 1 >= cap || !(nb = vg_realloc(buf, cap))) {
                rc = buf && len + 1 >= cap ? VG_ELIMIT : VG_ENOMEM;
                goto out;
            }
            buf = nb;
        }
        z.next_out = (Bytef *)buf + len;
        z.avail_out = (uInt)(cap - 1 - len);
        zr = inflate(&z, Z_NO_FLUSH);
        len = cap - 1 - z.avail_out;
        if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && z.avail_in)) {
            rc = VG_EINVAL;
            goto out;
        }
    }
    buf[len] = 0;
    *out = buf;
    *outlen = len;
    buf = NULL;
out:
    inflateEnd(&z);
    vg_free(buf);
    return rc;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

/* Find the end-of-central-directory record; returns its offset or -1. */
static long zip_eocd(const uint8_t *p, size_t n)
{
    size_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0;
    if (n < 22) {
        return -1;
    }
    for (size_t i = n - 22 + 1; i-- > lo;) {
        if (vg_le32(p + i) == 0x06054b50u) {
            return (long)i;
        }
    }
    return -1;
}

/* One central-directory entry at p[*off]: read the member if it is a .json file. */
static int zip_member(struct imp *im, const uint8_t *p, size_t n, size_t *off, const char *zpath)
{
    const uint8_t *c = p + *off;
    char name[512], label[4700];
    size_t nlen, data, csize, usize, lho;
    unsigned method;
    char *text = NULL;
    size_t tlen = 0;
    int rc;
    if (*off + 46 > n || vg_le32(c) != 0x02014b50u) {
        seterr(im->err, im->errsz, "%s: zip: corrupt central directory at offset %zu", zpath, *off);
        return VG_EINVAL;
    }
    method = le16(c + 10);
    csize = vg_le32(c + 20);
    usize = vg_le32(c + 24);
    nlen = le16(c + 28);
    lho = vg_le32(c + 42);
    if (*off + 46 + nlen + le16(c + 30) + le16(c + 32) > n) {
        seterr(im->err, im->errsz, "%s: zip: entry name past the directory", zpath);
        return VG_EINVAL;
    }
    snprintf(name, sizeof(name), "%.*s", (int)(nlen < 500 ? nlen : 500), (const char *)c + 46);
    *off += 46 + nlen + le16(c + 30) + le16(c + 32);
    if (!ends_with(name, ".json")) {
        return VG_OK;
    }
    snprintf(label, sizeof(label), "%s!%s", zpath, name);
    im->rep->files++;
    if (lho + 30 > n || vg_le32(p + lho) != 0x04034b50u || csize == 0xffffffffu ||
        usize > VG_VULN_DB_MAX_ENTRY || (method != 0 && method != 8)) {
        skip(im, "%s: zip: unsupported or corrupt member (method %u, size %zu)", label, method,
             usize);
        return VG_OK;
    }
    data = lho + 30 + le16(p + lho + 26) + le16(p + lho + 28);
    if (data > n || csize > n - data) {
        skip(im, "%s: zip: member data past the end of the archive", label);
        return VG_OK;
    }
    if (method == 0) {
        rc = osv_json_text(im, (const char *)p + data, csize, label);
        im->rep->files--;
        return rc;
    }
    rc = inflate_all(p + data, csize, -15, usize, VG_VULN_DB_MAX_ENTRY, &text, &tlen);
    if (rc != VG_OK) {
        skip(im, "%s: zip: inflate failed (%s)", label, vg_strerror(rc));
        return rc == VG_ENOMEM ? rc : VG_OK;
    }
    rc = osv_json_text(im, text, tlen, label);
    im->rep->files--; /* osv_json_text counted it too */
    vg_free(text);
    return rc;
}

static int osv_zip(struct imp *im, const uint8_t *p, size_t n, const char *zpath)
{
    long e = zip_eocd(p, n);
    size_t count, cdoff, cdsize, off;
    int rc = VG_OK;
    if (e < 0) {
        seterr(im->err, im->errsz, "%s: zip: no end-of-central-directory record", zpath);
        return VG_EINVAL;
    }
    count = le16(p + e + 10);
    cdsize = vg_le32(p + e + 12);
    cdoff = vg_le32(p + e + 16);
    if (cdoff == 0xffffffffu || count == 0xffff) {
        seterr(im->err, im->errsz, "%s: zip: ZIP64 archives are not supported", zpath);
        return VG_EUNSUPPORTED;
    }
    if (cdoff > (size_t)e || cdsize > (size_t)e - cdoff) {
        seterr(im->err, im->errsz, "%s: zip: central directory out of bounds", zpath);
        return VG_EINVAL;
    }
    off = cdoff;
    for (size_t i = 0; rc == VG_OK && i < count; i++) {
        rc = zip_member(im, p, cdoff + cdsize, &off, zpath);
    }
    return rc;
}

/* ---------------------------------------------------------------- Debian Security Tracker */

static int tracker_release(struct imp *im, int64_t rid, const struct vg_json *pkg,
                           const struct vg_json *rel, const struct vg_json *r)
{
    sqlite3_stmt *st = im->st[ST_INS_AFF];
    const struct vg_json *status = jget(r, "status");
    if (!status || status->type != VG_JSON_STRING) {
        return VG_EINVAL;
    }
    sqlite3_bind_int64(st, 1, rid);
    sqlite3_bind_text(st, 2, "Debian", -1, SQLITE_STATIC);
    bind_json_str(st, 3, pkg);
    bind_json_str(st, 4, rel);
    bind_json_str(st, 7, status);
    bind_json_str(st, 8, jget(r, "fixed_version"));
    bind_json_str(st, 9, jget(r, "urgency"));
    bind_json_str(st, 10, jget(r, "nodsa"));
    bind_json_str(st, 11, jget(r, "nodsa_reason"));
    return step_done(im, st);
}

static int tracker_cve(struct imp *im, const struct vg_json *pkg, const struct vg_json *cve,
                       const struct vg_json *body, const char *file)
{
    sqlite3_stmt *st = im->st[ST_INS_ADV];
    const struct vg_json *rels = jget(body, "releases");
    int64_t rid;
    int rc;
    if (!body || body->type != VG_JSON_OBJECT || !rels || rels->type != VG_JSON_OBJECT) {
        skip(im, "%s: %.*s/%.*s: field 'releases': missing or not an object", file, (int)pkg->n,
             pkg->s, (int)cve->n, cve->s);
        return VG_OK;
    }
    sqlite3_bind_text(st, 1, "debian-tracker", -1, SQLITE_STATIC);
    bind_json_str(st, 2, cve);
    bind_json_str(st, 4, jget(body, "description"));
    rc = step_done(im, st);
    if (rc == VG_OK && sqlite3_changes(im->db->sql) == 0) {
        /* the same CVE under another source package: reuse its advisory row */
        sqlite3_stmt *q = NULL;
        sqlite3_prepare_v2(im->db->sql,
                           "SELECT rid FROM advisories WHERE source='debian-tracker' AND id=?", -1,
                           &q, NULL);
        bind_json_str(q, 1, cve);
        rc = q && sqlite3_step(q) == SQLITE_ROW ? VG_OK : VG_EIO;
        rid = q ? sqlite3_column_int64(q, 0) : 0;
        sqlite3_finalize(q);
        if (rc != VG_OK) {
            return rc;
        }
    } else {
        rid = sqlite3_last_insert_rowid(im->db->sql);
        im->rep->records++;
    }
    for (uint32_t i = 0; rc == VG_OK && i < rels->n; i++) {
        const struct vg_json *rel = &rels->u.items[2 * i], *r = &rels->u.items[2 * i + 1];
        rc = tracker_release(im, rid, pkg, rel, r);
        if (rc == VG_EINVAL) {
            skip(im, "%s: %.*s/%.*s/%.*s: field 'status': missing or not a string", file,
                 (int)pkg->n, pkg->s, (int)cve->n, cve->s, (int)rel->n, rel->s);
            rc = VG_OK;
        } else {
            im->rep->affected += rc == VG_OK;
        }
    }
    return rc;
}

static int tracker_doc(struct imp *im, const struct vg_json *doc, const char *file)
{
    int rc = clear_source(im, "debian-tracker");
    for (uint32_t i = 0; rc == VG_OK && i < doc->n; i++) {
        const struct vg_json *pkg = &doc->u.items[2 * i], *cves = &doc->u.items[2 * i + 1];
        if (cves->type != VG_JSON_OBJECT) {
            skip(im, "%s: package '%.*s': expected an object of CVE entries", file, (int)pkg->n,
                 pkg->s);
            continue;
        }
        for (uint32_t k = 0; rc == VG_OK && k < cves->n; k++) {
            rc = tracker_cve(im, pkg, &cves->u.items[2 * k], &cves->u.items[2 * k + 1], file);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- CISA KEV */

static int kev_doc(struct imp *im, const struct vg_json *doc, const char *file)
{
    const struct vg_json *arr = jget(doc, "vulnerabilities");
    sqlite3_stmt *st = im->st[ST_INS_KEV];
    int rc = clear_source(im, "kev");
    for (uint32_t i = 0; rc == VG_OK && i < arr->n; i++) {
        const struct vg_json *v = &arr->u.items[i], *cve = jget(v, "cveID");
        if (!cve || cve->type != VG_JSON_STRING || !cve_valid(cve->s, cve->n)) {
            skip(im, "%s: vulnerabilities[%u]: field 'cveID': missing or not a CVE id", file, i);
            continue;
        }
        bind_json_str(st, 1, cve);
        bind_json_str(st, 2, jget(v, "dateAdded"));
        bind_json_str(st, 3, jget(v, "knownRansomwareCampaignUse"));
        bind_json_str(st, 4, jget(v, "vulnerabilityName"));
        rc = step_done(im, st);
        im->rep->records += rc == VG_OK;
    }
    if (rc == VG_OK && jget(doc, "dateReleased")) {
        const char *s;
        size_t n;
        if (jstr(jget(doc, "dateReleased"), &s, &n)) {
            snprintf(im->date, sizeof(im->date), "%.*s", (int)(n < 60 ? n : 60), s);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- EPSS CSV */

/* Split a CSV line (no quoting in EPSS) into up to 3 fields. */
static size_t csv_fields(const char *l, size_t n, const char *f[3], size_t fl[3])
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n && k < 3; i++) {
        if (i == n || l[i] == ',') {
            f[k] = l + start;
            fl[k++] = i - start;
            start = i + 1;
        }
    }
    return k;
}

static void epss_comment(struct imp *im, const char *l, size_t n)
{
    const char *d = vg_memmem(l, n, "score_date:", 11);
    if (d) {
        size_t m = (size_t)(l + n - (d + 11));
        snprintf(im->date, sizeof(im->date), "%.*s", (int)(m < 60 ? m : 60), d + 11);
        char *c = strchr(im->date, ',');
        if (c) {
            *c = 0;
        }
    }
}

static int epss_line(struct imp *im, const char *l, size_t n, size_t lineno, const char *file)
{
    const char *f[3];
    size_t fl[3];
    double score, pct;
    sqlite3_stmt *st = im->st[ST_INS_EPSS];
    if (csv_fields(l, n, f, fl) != 3 || !cve_valid(f[0], fl[0])) {
        skip(im, "%s:%zu: field 'cve': expected CVE-YYYY-N,epss,percentile", file, lineno);
        return VG_OK;
    }
    if (vg_parse_double(f[1], fl[1], &score) != VG_OK || score < 0 || score > 1) {
        skip(im, "%s:%zu: field 'epss': not a number in [0,1]", file, lineno);
        return VG_OK;
    }
    if (vg_parse_double(f[2], fl[2], &pct) != VG_OK || pct < 0 || pct > 1) {
        skip(im, "%s:%zu: field 'percentile': not a number in [0,1]", file, lineno);
        return VG_OK;
    }
    sqlite3_bind_text(st, 1, f[0], (int)fl[0], SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 2, score);
    sqlite3_bind_double(st, 3, pct);
    if (im->date[0]) {
        sqlite3_bind_text(st, 4, im->date, -1, SQLITE_STATIC);
    }
    im->rep->records++;
    return step_done(im, st);
}

static int epss_text(struct imp *im, const char *text, size_t len, const char *file)
{
    size_t pos = 0, lineno = 0;
    bool header = false;
    int rc = clear_source(im, "epss");
    while (rc == VG_OK && pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *l = text + pos;
        pos += n + 1;
        lineno++;
        if (n && l[n - 1] == '\r') {
            n--;
        }
        if (n == 0) {
            continue;
        }
        if (l[0] == '#') {
            epss_comment(im, l, n);
        } else if (!header && n >= 4 && vg_str_ieq_ascii(l, 4, "cve,", 4)) {
            header = true;
        } else {
            rc = epss_line(im, l, n, lineno, file);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- detection and driver */

static int import_json(struct imp *im, const char *text, size_t len, const char *path)
{
    struct vg_json *doc = NULL;
    const struct vg_json *v;
    int rc = parse_json(im, text, len, path, &doc);
    if (rc != VG_OK) {
        return rc;
    }
    if (doc->type != VG_JSON_OBJECT) {
        seterr(im->err, im->errsz,
               "%s:1: not a recognised advisory format (top level is not an "
               "object)",
               path);
        return VG_EINVAL;
    }
    v = jget(doc, "vulnerabilities");
    if (v && v->type == VG_JSON_ARRAY) {
        vg_strlcpy(im->rep->source, "kev", sizeof(im->rep->source));
        vg_strlcpy(im->rep->format, "kev-json", sizeof(im->rep->format));
        return kev_doc(im, doc, path);
    }
    v = jget(doc, "id");
    if (v && v->type == VG_JSON_STRING) {
        vg_strlcpy(im->rep->source, "osv", sizeof(im->rep->source));
        vg_strlcpy(im->rep->format, "osv-json", sizeof(im->rep->format));
        im->rep->files = 1;
        return osv_record(im, doc, path);
    }
    if (doc->n == 0 || doc->u.items[1].type == VG_JSON_OBJECT) {
        vg_strlcpy(im->rep->source, "debian-tracker", sizeof(im->rep->source));
        vg_strlcpy(im->rep->format, "debian-tracker-json", sizeof(im->rep->format));
        return tracker_doc(im, doc, path);
    }
    seterr(im->err, im->errsz,
           "%s:1: not a recognised advisory format (expected OSV, Debian tracker or KEV JSON)",
           path);
    return VG_EINVAL;
}

static int import_text(struct imp *im, const char *text, size_t len, const char *path)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t')) {
        i++;
    }
    if (ends_with(path, ".yaml") || ends_with(path, ".yml")) {
        vg_strlcpy(im->rep->source, "osv", sizeof(im->rep->source));
        vg_strlcpy(im->rep->format, "osv-yaml", sizeof(im->rep->format));
        return osv_yaml_text(im, text, len, path);
    }
    if (i < len && (text[i] == '#' || (len - i >= 4 && vg_str_ieq_ascii(text + i, 4, "cve,", 4)))) {
        vg_strlcpy(im->rep->source, "epss", sizeof(im->rep->source));
        vg_strlcpy(im->rep->format, "epss-csv", sizeof(im->rep->format));
        im->rep->files = 1;
        return epss_text(im, text, len, path);
    }
    if (i < len && text[i] == '{') {
        return import_json(im, text, len, path);
    }
    seterr(im->err, im->errsz,
           "%s:1: not a recognised advisory format (OSV JSON/YAML/zip, Debian tracker JSON, "
           "EPSS CSV, KEV JSON)",
           path);
    return VG_EINVAL;
}

/* Detect and import bytes: a zip archive, gzip (inflated, then detected again) or text. */
static int import_bytes(struct imp *im, const uint8_t *p, size_t n, const char *path)
{
    char *plain = NULL;
    size_t plen = 0;
    int rc;
    if (n > VG_VULN_DB_MAX_FILE) {
        seterr(im->err, im->errsz, "%s: larger than %u bytes", path, VG_VULN_DB_MAX_FILE);
        return VG_ELIMIT;
    }
    if (n >= 4 && vg_le32(p) == 0x04034b50u) {
        vg_strlcpy(im->rep->source, "osv", sizeof(im->rep->source));
        vg_strlcpy(im->rep->format, "osv-zip", sizeof(im->rep->format));
        return osv_zip(im, p, n, path);
    }
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        rc = inflate_all(p, n, 31, 0, VG_VULN_DB_MAX_FILE, &plain, &plen);
        if (rc != VG_OK) {
            seterr(im->err, im->errsz, "%s: gzip: %s", path, vg_strerror(rc));
            return rc == VG_ENOMEM || rc == VG_ELIMIT ? rc : VG_EINVAL;
        }
        rc = import_text(im, plain, plen, path);
        vg_free(plain);
        return rc;
    }
    /* the JSON parser and the line scanners take explicit lengths: no NUL needed */
    return import_text(im, (const char *)p, n, path);
}

static int import_file(struct imp *im, const char *path)
{
    struct vg_mapped m = {0};
    int rc = vg_file_map(path, &m);
    if (rc != VG_OK) {
        seterr(im->err, im->errsz, "%s: %s", path, strerror(errno));
        return rc;
    }
    rc = import_bytes(im, m.p, m.len, path);
    vg_file_unmap(&m);
    return rc;
}

static int record_source(struct imp *im, const char *path)
{
    sqlite3_stmt *st = NULL;
    char now[40];
    time_t t = time(NULL);
    struct tm tm;
    int rc;
    gmtime_r(&t, &tm);
    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (sqlite3_prepare_v2(im->db->sql,
                           "INSERT OR REPLACE INTO sources(name,format,path,imported,date,records,"
                           "affected,skipped) VALUES(?,?,?,?,?,"
                           " CASE WHEN ?1='osv' THEN (SELECT count(*) FROM advisories WHERE "
                           "source='osv') ELSE ?6 END, ?7, ?8)",
                           -1, &st, NULL) != SQLITE_OK) {
        return sqlerr(im->db->sql, "sources", im->err, im->errsz);
    }
    sqlite3_bind_text(st, 1, im->rep->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, im->rep->format, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    if (im->date[0]) {
        sqlite3_bind_text(st, 5, im->date, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 6, (sqlite3_int64)im->rep->records);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)im->rep->affected);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)im->rep->skipped);
    rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK
                                         : sqlerr(im->db->sql, "sources", im->err, im->errsz);
    sqlite3_finalize(st);
    return rc;
}

static int imp_init(struct imp *im, struct vg_vuln_db *db, struct vg_vuln_import_report *rep,
                    char *err, size_t errsz)
{
    struct vg_json_limits lim = {.max_depth = 64, .max_len = VG_VULN_DB_MAX_FILE};
    memset(im, 0, sizeof(*im));
    im->db = db;
    im->rep = rep;
    im->err = err;
    im->errsz = errsz;
    im->jp = vg_json_parser_create(&lim);
    im->arena = vg_arena_create(1u << 20);
    if (!im->jp || !im->arena) {
        return VG_ENOMEM;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v2(db->sql, stmt_sql[i], -1, &im->st[i], NULL) != SQLITE_OK) {
            return sqlerr(db->sql, "prepare", err, errsz);
        }
    }
    return VG_OK;
}

static void imp_fini(struct imp *im)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(im->st[i]);
    }
    vg_json_parser_destroy(im->jp);
    vg_arena_destroy(im->arena);
}

/* Run one import (a directory, a file, or bytes in memory) inside one transaction. */
static int import_run(struct vg_vuln_db *db, const char *path, bool dir, const void *p, size_t n,
                      struct vg_vuln_import_report *rep, char *err, size_t errsz)
{
    struct imp im;
    int rc = imp_init(&im, db, rep, err, errsz);
    if (rc == VG_OK && sqlite3_exec(db->sql, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sqlerr(db->sql, "begin", err, errsz);
    } else if (rc == VG_OK) {
        if (dir) {
            vg_strlcpy(rep->source, "osv", sizeof(rep->source));
            vg_strlcpy(rep->format, "osv-dir", sizeof(rep->format));
            rc = osv_dir(&im, path, 0);
        } else if (p) {
            rc = import_bytes(&im, p, n, path);
        } else {
            rc = import_file(&im, path);
        }
        if (rc == VG_OK) {
            rc = record_source(&im, path);
        }
        if (rc == VG_OK && sqlite3_exec(db->sql, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            rc = sqlerr(db->sql, "commit", err, errsz);
        }
        if (rc != VG_OK) {
            sqlite3_exec(db->sql, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    imp_fini(&im);
    return rc;
}

int vg_vuln_db_import(struct vg_vuln_db *db, const char *path, struct vg_vuln_import_report *rep,
                      char *err, size_t errsz)
{
    struct vg_vuln_import_report local;
    struct stat st;
    if (!rep) {
        rep = &local;
    }
    memset(rep, 0, sizeof(*rep));
    if (stat(path, &st) != 0) {
        int e = errno;
        seterr(err, errsz, "%s: %s", path, strerror(e));
        return e == ENOENT ? VG_ENOENT : VG_EIO;
    }
    return import_run(db, path, S_ISDIR(st.st_mode), NULL, 0, rep, err, errsz);
}

int vg_vuln_db_import_mem(struct vg_vuln_db *db, const char *name, const void *p, size_t n,
                          struct vg_vuln_import_report *rep, char *err, size_t errsz)
{
    struct vg_vuln_import_report local;
    static const uint8_t empty[1];
    if (!rep) {
        rep = &local;
    }
    memset(rep, 0, sizeof(*rep));
    return import_run(db, name, false, p ? p : empty, p ? n : 0, rep, err, errsz);
}

/* ---------------------------------------------------------------- status */

static int64_t count_of(sqlite3 *sql, const char *q)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(sql, q, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

static void add_col_str(struct vg_sbuf *out, sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    if (s) {
        vg_sbuf_add_json_str(out, s, (size_t)sqlite3_column_bytes(st, i));
    } else {
        vg_sbuf_adds(out, "null");
    }
}

int vg_vuln_db_status_json(struct vg_vuln_db *db, struct vg_sbuf *out, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    bool first = true;
    if (sqlite3_prepare_v2(db->sql,
                           "SELECT name,format,path,imported,date,records,affected,skipped FROM "
                           "sources ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK) {
        return sqlerr(db->sql, "status", err, errsz);
    }
    vg_sbuf_adds(out, "{\"path\":");
    vg_sbuf_add_json_str(out, db->path, strlen(db->path));
    vg_sbuf_printf(out, ",\"advisories\":%lld,\"affected\":%lld,\"epss\":%lld,\"kev\":%lld",
                   (long long)count_of(db->sql, "SELECT count(*) FROM advisories"),
                   (long long)count_of(db->sql, "SELECT count(*) FROM affected"),
                   (long long)count_of(db->sql, "SELECT count(*) FROM epss"),
                   (long long)count_of(db->sql, "SELECT count(*) FROM kev"));
    vg_sbuf_adds(out, ",\"sources\":[");
    while (sqlite3_step(st) == SQLITE_ROW) {
        static const char *const keys[] = {"name", "format", "path", "imported", "date"};
        vg_sbuf_adds(out, first ? "{" : ",{");
        first = false;
        for (int i = 0; i < 5; i++) {
            vg_sbuf_printf(out, "%s\"%s\":", i ? "," : "", keys[i]);
            add_col_str(out, st, i);
        }
        vg_sbuf_printf(out, ",\"records\":%lld,\"affected\":%lld,\"skipped\":%lld}",
                       (long long)sqlite3_column_int64(st, 5),
                       (long long)sqlite3_column_int64(st, 6),
                       (long long)sqlite3_column_int64(st, 7));
    }
    sqlite3_finalize(st);
    vg_sbuf_adds(out, "]}");
    return out->err ? VG_ENOMEM : VG_OK;
}
