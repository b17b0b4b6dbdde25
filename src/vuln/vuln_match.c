/*
 * vuln_match.c — matching installed packages against the advisory database (issue 8).
 * Debian packages go against the Debian Security Tracker's per-release status (by source
 * package) and OSV records of their ecosystem; every other package against OSV ranges and
 * enumerated versions. Versions are compared with vg_vuln_vercmp / vg_vuln_range_contains
 * (vuln_version.c) under the package's scheme. Findings carry why they matched (range text,
 * fixed version, source) and are ranked with the distro's urgency, CVSS, EPSS and KEV.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "vuln/vuln_db.h"

enum { Q_AFF, Q_EPSS, Q_KEV, Q_COUNT };
static const char *const q_sql[Q_COUNT] = {
    /* EPSS and KEV by the advisory's own id, and the best OSV CVSS for a tracker CVE (id or
       alias), joined here: one statement step per candidate row instead of four */
    "SELECT a.id, a.aliases, a.summary, a.source, a.severity, a.severity_source, a.cvss,"
    " f.release, f.ranges, f.versions, f.status, f.fixed, f.urgency, f.nodsa, f.nodsa_reason,"
    " e.score, e.percentile, k.cve,"
    " CASE WHEN a.source = 'debian-tracker' THEN (SELECT o.severity || ' ' || o.cvss"
    "  FROM advisories o WHERE o.rid IN (SELECT rid FROM advisories WHERE source = 'osv'"
    "  AND id = a.id UNION SELECT adv FROM aliases WHERE alias = a.id) AND o.cvss >= 0"
    "  ORDER BY o.cvss DESC LIMIT 1) END"
    " FROM affected f JOIN advisories a ON a.rid = f.adv"
    " LEFT JOIN epss e ON e.cve = a.id LEFT JOIN kev k ON k.cve = a.id"
    " WHERE f.ecosystem = ?1 AND f.package = ?2 AND (?3 IS NULL OR f.release = ?3)",
    "SELECT score, percentile FROM epss WHERE cve = ?",
    "SELECT 1 FROM kev WHERE cve = ?",
};
enum {
    C_ID,
    C_ALIASES,
    C_SUMMARY,
    C_SOURCE,
    C_SEV,
    C_SEVSRC,
    C_CVSS,
    C_RELEASE,
    C_RANGES,
    C_VERSIONS,
    C_STATUS,
    C_FIXED,
    C_URGENCY,
    C_NODSA,
    C_NODSA_REASON,
    C_EPSS,
    C_EPSS_PCT,
    C_KEV,
    C_OSV_CVSS
};

#define MAX_SEEN 512

struct matcher {
    sqlite3 *sql;
    sqlite3_stmt *q[Q_COUNT];
    vg_vuln_finding_fn cb;
    void *arg;
    struct vg_sbuf range; /* scratch: the finding's range text */
    char *seen[MAX_SEEN]; /* ids reported for the current package (tracker before OSV) */
    size_t nseen;
    /* Binary packages built from one source at one version get the same findings: the first
       one's are kept (strings in arena) and replayed for the others. */
    struct group *groups; /* open addressing, ngroups_cap slots (power of two) */
    size_t ngroups_cap;
    struct vg_vuln_finding *kept;
    size_t nkept, kept_cap;
    bool recording;
    struct vg_arena *arena;
};

struct group {
    const struct vg_vuln_pkg *first; /* NULL: empty slot */
    const char *key;                 /* source (Debian) or name */
    size_t start, count;             /* in kept[] */
};

static const struct {
    const char *num, *name;
} debian_releases[] = {
    {"7", "wheezy"},    {"8", "jessie"},    {"9", "stretch"},    {"10", "buster"},
    {"11", "bullseye"}, {"12", "bookworm"}, {"13", "trixie"},    {"14", "forky"},
    {"15", "duke"},     {"sid", "sid"},     {"unstable", "sid"},
};

const char *vg_vuln_debian_codename(const char *eco)
{
    const char *r;
    if (!eco || strncmp(eco, "Debian:", 7) != 0) {
        return NULL;
    }
    r = eco + 7;
    for (size_t i = 0; i < sizeof(debian_releases) / sizeof(debian_releases[0]); i++) {
        if (!strcmp(r, debian_releases[i].num) || !strcmp(r, debian_releases[i].name)) {
            return debian_releases[i].name;
        }
    }
    return NULL;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* ---------------------------------------------------------------- dedupe across sources */

static bool seen_has(const struct matcher *m, const char *id, size_t n)
{
    for (size_t i = 0; i < m->nseen; i++) {
        if (strlen(m->seen[i]) == n && memcmp(m->seen[i], id, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Was this advisory (its id or any alias) already reported for the package? */
static bool seen_any(const struct matcher *m, const char *id, const char *aliases)
{
    const char *p = aliases;
    if (seen_has(m, id, strlen(id))) {
        return true;
    }
    while (p && *p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (seen_has(m, p, n)) {
            return true;
        }
        p = c ? c + 1 : NULL;
    }
    return false;
}

static void seen_add(struct matcher *m, const char *id)
{
    if (m->nseen < MAX_SEEN) {
        size_t n = strlen(id) + 1;
        m->seen[m->nseen] = vg_malloc(n);
        if (m->seen[m->nseen]) {
            memcpy(m->seen[m->nseen++], id, n);
        }
    }
}

static void seen_clear(struct matcher *m)
{
    for (size_t i = 0; i < m->nseen; i++) {
        vg_free(m->seen[i]);
    }
    m->nseen = 0;
}

/* ---------------------------------------------------------------- EPSS, KEV, CVSS */

static void join_one(struct matcher *m, struct vg_vuln_finding *f, const char *cve, size_t n)
{
    sqlite3_stmt *e = m->q[Q_EPSS], *k = m->q[Q_KEV];
    if (n < 5 || memcmp(cve, "CVE-", 4) != 0) {
        return;
    }
    if (f->epss < 0) {
        sqlite3_bind_text(e, 1, cve, (int)n, SQLITE_TRANSIENT);
        if (sqlite3_step(e) == SQLITE_ROW) {
            f->epss = sqlite3_column_double(e, 0);
            f->epss_percentile = sqlite3_column_double(e, 1);
        }
        sqlite3_reset(e);
    }
    if (!f->kev) {
        sqlite3_bind_text(k, 1, cve, (int)n, SQLITE_TRANSIENT);
        f->kev = sqlite3_step(k) == SQLITE_ROW;
        sqlite3_reset(k);
    }
}

/* EPSS and KEV by CVE id: the finding's id (already joined by the row query), then its
   aliases. */
static void join_risk(struct matcher *m, struct vg_vuln_finding *f, sqlite3_stmt *row)
{
    const char *p = f->aliases;
    if (sqlite3_column_type(row, C_EPSS) != SQLITE_NULL) {
        f->epss = sqlite3_column_double(row, C_EPSS);
        f->epss_percentile = sqlite3_column_double(row, C_EPSS_PCT);
    }
    f->kev = sqlite3_column_type(row, C_KEV) != SQLITE_NULL;
    while (p && *p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        join_one(m, f, p, n);
        p = c ? c + 1 : NULL;
    }
}

/* CVSS from an OSV record with this id or alias (for tracker findings): "SEV CVSS". */
static void osv_cvss(struct vg_vuln_finding *f, sqlite3_stmt *row, bool set_severity)
{
    const char *v = col(row, C_OSV_CVSS), *sp;
    double c;
    if (!v || !(sp = strchr(v, ' ')) || vg_parse_double(sp + 1, strlen(sp + 1), &c) != VG_OK) {
        return;
    }
    f->cvss = c;
    if (set_severity && v[0] >= '0' && v[0] <= '5') {
        f->severity = (enum vg_vuln_severity)(v[0] - '0');
        f->severity_source = "osv-cvss";
    }
}

static const char *keep_str(struct matcher *m, const char *s)
{
    return s ? vg_arena_strdup(m->arena, s) : NULL;
}

/* Keep a deep copy of f for the other packages of its group. */
static int keep(struct matcher *m, const struct vg_vuln_finding *f)
{
    struct vg_vuln_finding *k;
    if (m->nkept == m->kept_cap) {
        size_t cap = m->kept_cap ? 2 * m->kept_cap : 256;
        struct vg_vuln_finding *nk = vg_realloc(m->kept, cap * sizeof(*nk));
        if (!nk) {
            return VG_ENOMEM;
        }
        m->kept = nk;
        m->kept_cap = cap;
    }
    k = &m->kept[m->nkept++];
    *k = *f;
    k->id = keep_str(m, f->id);
    k->aliases = keep_str(m, f->aliases);
    k->summary = keep_str(m, f->summary);
    k->range = keep_str(m, f->range);
    k->fixed = keep_str(m, f->fixed);
    k->status = keep_str(m, f->status);
    k->severity_source = keep_str(m, f->severity_source);
    return k->id ? VG_OK : VG_ENOMEM;
}

static int emit(struct matcher *m, struct vg_vuln_finding *f, sqlite3_stmt *row)
{
    join_risk(m, f, row);
    seen_add(m, f->id);
    if (m->recording && keep(m, f) != VG_OK) {
        return VG_ENOMEM;
    }
    return m->cb(f, m->arg);
}

/* ---------------------------------------------------------------- Debian tracker rows */

static enum vg_vuln_severity urgency_severity(const char *u)
{
    static const struct {
        const char *name;
        enum vg_vuln_severity sev;
    } map[] = {{"unimportant", VG_VULN_SEV_NEGLIGIBLE},
               {"low", VG_VULN_SEV_LOW},
               {"medium", VG_VULN_SEV_MEDIUM},
               {"high", VG_VULN_SEV_HIGH}};
    for (size_t i = 0; u && i < sizeof(map) / sizeof(map[0]); i++) {
        size_t n = strlen(map[i].name);
        /* "low**", "medium*": the tracker's asterisks mark a guessed urgency */
        if (!strncmp(u, map[i].name, n) && (u[n] == 0 || u[n] == '*')) {
            return map[i].sev;
        }
    }
    return VG_VULN_SEV_UNKNOWN;
}

/* The status word of an unfixed tracker entry. */
static const char *tracker_status(const char *status, const char *urgency, const char *nodsa,
                                  const char *reason)
{
    if (urgency && !strcmp(urgency, "end-of-life")) {
        return "end-of-life";
    }
    if (reason && (!strcmp(reason, "ignored") || !strcmp(reason, "postponed"))) {
        return reason;
    }
    if (nodsa && *nodsa) {
        return "no-dsa";
    }
    return status && !strcmp(status, "undetermined") ? "undetermined" : "open";
}

static int tracker_row(struct matcher *m, const struct vg_vuln_pkg *p, sqlite3_stmt *st,
                       const char *codename)
{
    struct vg_vuln_finding f = {.pkg = p, .cvss = -1, .epss = -1, .epss_percentile = -1};
    const char *status = col(st, C_STATUS), *fixed = col(st, C_FIXED);
    const char *urg = col(st, C_URGENCY);
    int cmp = 0;
    vg_sbuf_reset(&m->range);
    if (status && !strcmp(status, "resolved")) {
        if (!fixed || !strcmp(fixed, "0")) {
            return VG_OK; /* never affected */
        }
        if (vg_vuln_vercmp(VG_VULN_DPKG, p->version, strlen(p->version), fixed, strlen(fixed), &cmp,
                           NULL, 0) != VG_OK) {
            /* not provably fixed: report it, saying why, rather than drop it */
            vg_sbuf_printf(&m->range, "cannot compare %s with the fix %s (fixed in %s)", p->version,
                           fixed, codename);
        } else if (cmp >= 0) {
            return VG_OK; /* installed at or after the fix */
        } else {
            vg_sbuf_printf(&m->range, "< %s (fixed in %s)", fixed, codename);
        }
        f.fixed = fixed;
        f.status = "fixed";
    } else {
        f.status = tracker_status(status, urg, col(st, C_NODSA), col(st, C_NODSA_REASON));
        vg_sbuf_printf(&m->range, "all versions (no fix in %s)", codename);
    }
    if (m->range.err) {
        return VG_ENOMEM;
    }
    f.id = col(st, C_ID);
    f.summary = col(st, C_SUMMARY);
    f.source = "debian-tracker";
    f.range = m->range.p;
    f.severity = urgency_severity(urg);
    f.severity_source = f.severity ? "debian" : NULL;
    osv_cvss(&f, st, f.severity == VG_VULN_SEV_UNKNOWN);
    return emit(m, &f, st);
}

/* ---------------------------------------------------------------- OSV rows */

static bool event_kind(const char *k, size_t n, enum vg_vuln_event_kind *out)
{
    static const char *const names[] = {"introduced", "fixed", "last_affected", "limit"};
    for (int i = 0; i < 4; i++) {
        if (strlen(names[i]) == n && !memcmp(k, names[i], n)) {
            *out = (enum vg_vuln_event_kind)i;
            return true;
        }
    }
    return false;
}

#define MAX_EVENTS 64

/* Parse one stored range line "TYPE\tkind=ver\t..." into events. */
static size_t range_events(const char *l, size_t n, struct vg_vuln_event *ev, const char **type,
                           size_t *tlen)
{
    size_t k = 0, i = 0;
    const char *tab = memchr(l, '\t', n);
    *type = l;
    *tlen = tab ? (size_t)(tab - l) : n;
    i = *tlen;
    while (i < n && k < MAX_EVENTS) {
        const char *s = l + i + 1, *end = memchr(s, '\t', (size_t)(l + n - s));
        const char *eq;
        if (!end) {
            end = l + n;
        }
        eq = memchr(s, '=', (size_t)(end - s));
        if (eq && event_kind(s, (size_t)(eq - s), &ev[k].kind)) {
            ev[k].version = eq + 1;
            ev[k].len = (size_t)(end - eq - 1);
            k++;
        }
        i = (size_t)(end - l);
    }
    return k;
}

/* Human text of a range: ">= 0, < 1.2.3". */
static void range_text(struct vg_sbuf *out, const struct vg_vuln_event *ev, size_t nev)
{
    static const char *const ops[] = {">=", "<", "<=", "<"};
    for (size_t i = 0; i < nev; i++) {
        vg_sbuf_printf(out, "%s%s %.*s", out->len ? ", " : "", ops[ev[i].kind], (int)ev[i].len,
                       ev[i].version);
    }
}

/* Lowest fixed event above the installed version, NUL-terminated into buf. */
static const char *range_fixed(const struct vg_vuln_pkg *p, enum vg_vuln_scheme s,
                               const struct vg_vuln_event *ev, size_t nev, char *buf, size_t bsz)
{
    const struct vg_vuln_event *best = NULL;
    int cmp;
    for (size_t i = 0; i < nev; i++) {
        if (ev[i].kind != VG_VULN_FIXED ||
            vg_vuln_vercmp(s, p->version, strlen(p->version), ev[i].version, ev[i].len, &cmp, NULL,
                           0) != VG_OK ||
            cmp >= 0) {
            continue;
        }
        if (!best || (vg_vuln_vercmp(s, ev[i].version, ev[i].len, best->version, best->len, &cmp,
                                     NULL, 0) == VG_OK &&
                      cmp < 0)) {
            best = &ev[i];
        }
    }
    if (!best || best->len >= bsz) {
        return NULL;
    }
    memcpy(buf, best->version, best->len);
    buf[best->len] = 0;
    return buf;
}

/* Does one stored range contain the installed version? Fills the range text and fix. */
static bool osv_range_hit(struct matcher *m, const struct vg_vuln_pkg *p, const char *l, size_t n,
                          char *fixbuf, size_t fbsz, const char **fixed)
{
    struct vg_vuln_event ev[MAX_EVENTS];
    enum vg_vuln_scheme s;
    const char *type;
    size_t tlen, nev = range_events(l, n, ev, &type, &tlen);
    bool inside = false;
    if (vg_str_eq(type, tlen, "SEMVER", 6)) {
        s = VG_VULN_SEMVER;
    } else if (vg_str_eq(type, tlen, "ECOSYSTEM", 9)) {
        s = p->scheme;
    } else {
        return false; /* GIT ranges name commits, not package versions */
    }
    if (!nev ||
        vg_vuln_range_contains(s, ev, nev, p->version, strlen(p->version), &inside, NULL, 0) !=
            VG_OK ||
        !inside) {
        return false;
    }
    vg_sbuf_reset(&m->range);
    range_text(&m->range, ev, nev);
    *fixed = range_fixed(p, s, ev, nev, fixbuf, fbsz);
    return true;
}

/* Is the installed version one of the record's enumerated versions? */
static bool version_listed(const char *list, const char *v)
{
    size_t vn = strlen(v);
    const char *p = list;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == vn && !memcmp(p, v, n)) {
            return true;
        }
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

static int osv_row(struct matcher *m, const struct vg_vuln_pkg *p, sqlite3_stmt *st)
{
    struct vg_vuln_finding f = {.pkg = p, .cvss = -1, .epss = -1, .epss_percentile = -1};
    const char *ranges = col(st, C_RANGES), *rp = ranges, *fixed = NULL;
    char fixbuf[256];
    bool hit = false;
    f.id = col(st, C_ID);
    f.aliases = col(st, C_ALIASES);
    if (!f.id || seen_any(m, f.id, f.aliases)) {
        return VG_OK;
    }
    while (!hit && rp && *rp) {
        const char *nl = strchr(rp, '\n');
        size_t n = nl ? (size_t)(nl - rp) : strlen(rp);
        hit = osv_range_hit(m, p, rp, n, fixbuf, sizeof(fixbuf), &fixed);
        rp = nl ? nl + 1 : NULL;
    }
    if (!hit && version_listed(col(st, C_VERSIONS), p->version)) {
        hit = true;
        vg_sbuf_reset(&m->range);
        vg_sbuf_printf(&m->range, "version %s listed as affected", p->version);
    }
    if (!hit) {
        return VG_OK;
    }
    if (m->range.err) {
        return VG_ENOMEM;
    }
    f.summary = col(st, C_SUMMARY);
    f.source = "osv";
    f.range = m->range.p;
    f.fixed = fixed;
    f.status = fixed ? "fixed" : "open";
    f.severity = (enum vg_vuln_severity)sqlite3_column_int(st, C_SEV);
    f.severity_source = col(st, C_SEVSRC);
    f.cvss =
        sqlite3_column_type(st, C_CVSS) == SQLITE_NULL ? -1 : sqlite3_column_double(st, C_CVSS);
    return emit(m, &f, st);
}

/* ---------------------------------------------------------------- driver */

/* Run the affected query for (ecosystem, package[, release]) and evaluate each row. */
static int match_rows(struct matcher *m, const struct vg_vuln_pkg *p, const char *eco,
                      const char *pkg, const char *codename, char *err, size_t errsz)
{
    sqlite3_stmt *st = m->q[Q_AFF];
    int rc = VG_OK, sr;
    sqlite3_bind_text(st, 1, eco, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pkg, -1, SQLITE_STATIC);
    if (codename) {
        sqlite3_bind_text(st, 3, codename, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 3);
    }
    while (rc == VG_OK && (sr = sqlite3_step(st)) == SQLITE_ROW) {
        rc = codename ? tracker_row(m, p, st, codename) : osv_row(m, p, st);
    }
    if (rc == VG_OK && sr != SQLITE_DONE) {
        snprintf(err, errsz, "vuln match: %s", sqlite3_errmsg(m->sql));
        rc = VG_EIO;
    }
    sqlite3_reset(st);
    return rc;
}

/* The group slot of (ecosystem, key, version, scheme): the matching one or an empty one. */
static struct group *group_slot(struct matcher *m, const struct vg_vuln_pkg *p, const char *key)
{
    uint64_t h =
        vg_hash64(key, strlen(key), vg_hash64(p->version, strlen(p->version), (uint64_t)p->scheme));
    size_t mask = m->ngroups_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct group *g = &m->groups[i];
        if (!g->first ||
            (!strcmp(g->key, key) && !strcmp(g->first->version, p->version) &&
             !strcmp(g->first->ecosystem, p->ecosystem) && g->first->scheme == p->scheme)) {
            return g;
        }
    }
}

static int replay(struct matcher *m, const struct vg_vuln_pkg *p, const struct group *g)
{
    int rc = VG_OK;
    for (size_t i = g->start; rc == VG_OK && i < g->start + g->count; i++) {
        struct vg_vuln_finding f = m->kept[i];
        f.pkg = p;
        rc = m->cb(&f, m->arg);
    }
    return rc;
}

static int match_pkg(struct matcher *m, const struct vg_vuln_pkg *p, const char *release, char *err,
                     size_t errsz)
{
    const char *codename, *src;
    bool debian;
    struct group *g;
    int rc = VG_OK;
    if (!p->name || !p->version || !p->ecosystem) {
        return VG_OK;
    }
    codename = release ? release : vg_vuln_debian_codename(p->ecosystem);
    debian = !strncmp(p->ecosystem, "Debian", 6);
    /* Debian's, Ubuntu's and Alpine's advisories name source packages (Alpine: the origin) */
    bool by_source =
        debian || !strncmp(p->ecosystem, "Ubuntu", 6) || !strncmp(p->ecosystem, "Alpine", 6);
    src = by_source && p->source && *p->source ? p->source : p->name;
    g = group_slot(m, p, src);
    if (g->first) {
        return replay(m, p, g);
    }
    m->recording = true;
    g->start = m->nkept;
    if (debian && codename) {
        rc = match_rows(m, p, "Debian", src, codename, err, errsz);
    }
    if (rc == VG_OK) {
        rc = match_rows(m, p, p->ecosystem, src, NULL, err, errsz);
    }
    g->first = p;
    g->key = src;
    g->count = m->nkept - g->start;
    seen_clear(m);
    return rc;
}

int vg_vuln_match(struct vg_vuln_db *db, const struct vg_vuln_pkg *pkgs, size_t n,
                  const char *release, vg_vuln_finding_fn cb, void *arg, char *err, size_t errsz)
{
    struct matcher m = {.sql = vg_vuln_db_handle(db), .cb = cb, .arg = arg, .range = VG_SBUF_INIT};
    int rc = VG_OK;
    for (int i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v2(m.sql, q_sql[i], -1, &m.q[i], NULL) != SQLITE_OK) {
            snprintf(err, errsz, "vuln match: %s", sqlite3_errmsg(m.sql));
            rc = VG_EIO;
            goto out;
        }
    }
    for (m.ngroups_cap = 16; m.ngroups_cap < 2 * n + 2; m.ngroups_cap *= 2) {
    }
    m.groups = vg_calloc(m.ngroups_cap, sizeof(*m.groups));
    m.arena = vg_arena_create(1u << 16);
    if (!m.groups || !m.arena) {
        rc = VG_ENOMEM;
        goto out;
    }
    if (sqlite3_exec(m.sql, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errsz, "vuln match: %s", sqlite3_errmsg(m.sql));
        rc = VG_EIO;
        goto out;
    }
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        rc = match_pkg(&m, &pkgs[i], release, err, errsz);
    }
    sqlite3_exec(m.sql, "COMMIT", NULL, NULL, NULL);
out:
    for (int i = 0; i < Q_COUNT; i++) {
        sqlite3_finalize(m.q[i]);
    }
    seen_clear(&m);
    vg_sbuf_fini(&m.range);
    vg_free(m.groups);
    vg_free(m.kept);
    vg_arena_destroy(m.arena);
    return rc;
}
