/*
 * server_vuln.c — vulnerabilities of the fleet in `vigie server` (issue 8): the package
 * inventories the agents send are kept per host, matched against the advisory database
 * (src/vuln, the same one `vigie vuln db import` fills) and served as findings under
 * /api/v1/vulns.
 *
 * Where it sits: the pipeline workers flag the events of dataset "inventory"
 * (vg_server_vuln_wants); the writer hands them over in journal order, after the batch is
 * stored and before the journal is released (vg_server_vuln_observe), so a crash replays
 * them and every change is idempotent:
 *   inventory_host        host name, OS and the OSV ecosystem of its packages ("Debian:12")
 *   inventory_packages    the full list (replaces what the host had)
 *   package_installed / package_upgraded / package_removed   one package
 * Each change marks the host dirty. A scan thread matches dirty hosts (off the ingest path)
 * and replaces their findings, keeping when each was first seen; it also watches the
 * advisory database (every vuln.recheck seconds: the sources table's names, import times and
 * counts) and marks every host dirty when it changed, so new advisories reach old
 * inventories without waiting for the agents.
 *
 * State: DATA/vuln/hosts.db (SQLite, WAL): hosts, packages, findings, meta. The advisory
 * database is vuln.db/vuln.db (read by matching; imports through the API write it).
 *
 * Hosts are keyed by tenant and the agent id the fleet listener recorded with the event
 * (journal meta agent=), else host.id, host.name or host.hostname of the event. Readers see
 * their tenant's hosts only.
 *
 * Locks: mu serialises the hosts.db connection (observe, scan, API); adb_mu the advisory
 * handle (matching, status, imports). Matching runs without mu, so ingest never waits for it.
 */
#include "server/server_int.h"

#include "api/api.h"
#include "audit/audit.h"
#include "vuln/vuln_db.h"
#include "vuln/vuln_inv.h"
#include "vuln/vuln_report.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COMP         "vuln"
#define LIST_MAX     1000
#define SCAN_HOSTS   32 /* dirty hosts taken per round */
#define FIELD_MAX    256
#define INV_MAX_PKGS 200000

struct vg_server_vuln {
    pthread_mutex_t mu; /* hdb */
    sqlite3 *hdb;
    pthread_mutex_t adb_mu; /* adb */
    struct vg_vuln_db *adb;
    char adb_dir[4096];
    int64_t recheck_s;
    struct vg_journal *j; /* new findings become events here (NULL: none) */
    int event_min;        /* least severity of a new finding that becomes an event; -1 none */
    uint32_t f_dataset;
    struct vg_json_parser *jp; /* observe (the pipeline writer) only */
    struct vg_arena *ja;
    pthread_t th;
    bool running, stopping, kick;
    pthread_mutex_t th_mu;
    pthread_cond_t th_cond;
    atomic_uint_fast64_t inventories, deltas, observe_errors, scans, scan_failures, found, gone;
    atomic_uint_fast64_t events, events_dropped;
    atomic_int busy; /* the scan thread is between picking dirty hosts and emitting events */
    struct vg_audit *audit;
};

static const char hosts_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"
    "PRAGMA temp_store=MEMORY;"
    "CREATE TABLE IF NOT EXISTS hosts(tenant TEXT NOT NULL, host TEXT NOT NULL, name TEXT,"
    " os_id TEXT, os_version TEXT, os_name TEXT, ecosystem TEXT, inventory_at INTEGER,"
    " scanned_at INTEGER, dirty INTEGER NOT NULL DEFAULT 1, packages INTEGER NOT NULL DEFAULT 0,"
    " findings INTEGER NOT NULL DEFAULT 0, critical INTEGER NOT NULL DEFAULT 0,"
    " high INTEGER NOT NULL DEFAULT 0, kev INTEGER NOT NULL DEFAULT 0, scan_error TEXT,"
    " PRIMARY KEY(tenant, host));"
    "CREATE TABLE IF NOT EXISTS packages(tenant TEXT NOT NULL, host TEXT NOT NULL,"
    " name TEXT NOT NULL, arch TEXT NOT NULL, type TEXT NOT NULL, version TEXT NOT NULL,"
    " source TEXT, PRIMARY KEY(tenant, host, name, arch, type)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS findings(tenant TEXT NOT NULL, host TEXT NOT NULL,"
    " id TEXT NOT NULL, package TEXT NOT NULL, arch TEXT NOT NULL, installed TEXT,"
    " fixed TEXT, severity INTEGER, kev INTEGER, epss REAL, cvss REAL, first_seen INTEGER,"
    " dochash INTEGER, doc TEXT, UNIQUE(tenant, host, id, package, arch));"
    "CREATE INDEX IF NOT EXISTS findings_rank ON findings(tenant, kev DESC, severity DESC,"
    " epss DESC);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);";

/* ---------------------------------------------------------------- SQLite helpers */

static int hexec(struct vg_server_vuln *sv, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(sv->hdb, sql, NULL, NULL, &msg) != SQLITE_OK) {
        VG_ERR(COMP, "hosts.db: %s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return VG_EIO;
    }
    return VG_OK;
}

static sqlite3_stmt *prep(struct vg_server_vuln *sv, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(sv->hdb, sql, -1, &st, NULL) != SQLITE_OK) {
        VG_ERR(COMP, "hosts.db: %s: %s", sql, sqlite3_errmsg(sv->hdb));
        return NULL;
    }
    return st;
}

/* Bind text arguments 1..n (NULL binds NULL) and step once; VG_OK on DONE or ROW. */
static int run(sqlite3_stmt *st, const char *const *args, int n)
{
    if (!st) {
        return VG_EIO;
    }
    for (int i = 0; i < n; i++) {
        sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT);
    }
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? VG_OK : VG_EIO;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : NULL;
}

static void add_str(struct vg_sbuf *b, const char *s)
{
    if (s) {
        vg_sbuf_add_json_str(b, s, strlen(s));
    } else {
        vg_sbuf_adds(b, "null");
    }
}

/* Wake the scan thread. */
static void kick(struct vg_server_vuln *sv)
{
    pthread_mutex_lock(&sv->th_mu);
    sv->kick = true;
    pthread_cond_signal(&sv->th_cond);
    pthread_mutex_unlock(&sv->th_mu);
}

/* ---------------------------------------------------------------- inventory (writer) */

bool vg_server_vuln_wants(const struct vg_server_vuln *sv, const struct vg_event *ev)
{
    if (!sv || sv->f_dataset == VG_FIELD_NONE) {
        return false;
    }
    const struct vg_field *f = vg_event_get(ev, sv->f_dataset);
    return f && f->v.len == 9 && !memcmp(f->v.str, "inventory", 9);
}

/* A field of ev as a NUL-terminated copy (at most FIELD_MAX - 1 bytes); "" when absent. */
static const char *evs(const struct vg_event *ev, const char *name, char *buf)
{
    size_t n;
    const char *s = vg_event_get_str(ev, name, &n);
    snprintf(buf, FIELD_MAX, "%.*s", s ? (int)VG_MIN(n, FIELD_MAX - 1) : 0, s ? s : "");
    return buf;
}

static const char *jstr(const struct vg_json *o, const char *key, char *buf)
{
    const struct vg_json *v = vg_json_get(o, key);
    if (!v || v->type != VG_JSON_STRING) {
        buf[0] = '\0';
    } else {
        snprintf(buf, FIELD_MAX, "%.*s", (int)VG_MIN(v->n, FIELD_MAX - 1), v->s);
    }
    return buf;
}

/* The host row exists; its dirty counter goes up (the scan clears only what it saw). */
static int host_touch(struct vg_server_vuln *sv, const char *tenant, const char *host)
{
    sqlite3_stmt *st = prep(sv, "INSERT INTO hosts(tenant, host, dirty) VALUES(?, ?, 1) "
                                "ON CONFLICT(tenant, host) DO UPDATE SET dirty = dirty + 1");
    const char *a[] = {tenant, host};
    int rc = run(st, a, 2);
    sqlite3_finalize(st);
    return rc;
}

static int obs_host(struct vg_server_vuln *sv, const char *tenant, const char *host,
                    const struct vg_event *ev)
{
    char name[FIELD_MAX], id[FIELD_MAX], ver[FIELD_MAX], full[FIELD_MAX], eco[FIELD_MAX];
    evs(ev, "host.hostname", name);
    if (!name[0]) {
        evs(ev, "host.name", name);
    }
    evs(ev, "host.os.platform", id);
    evs(ev, "host.os.version", ver);
    evs(ev, "host.os.full", full);
    eco[0] = '\0';
    if (id[0]) {
        vg_vuln_os_ecosystem(id, ver, eco, sizeof(eco));
    }
    int rc = host_touch(sv, tenant, host);
    sqlite3_stmt *st = rc == VG_OK ? prep(sv, "UPDATE hosts SET name = coalesce(nullif(?, ''), "
                                              "name), os_id = ?, os_version = ?, os_name = ?, "
                                              "ecosystem = nullif(?, '') WHERE tenant = ? AND "
                                              "host = ?")
                                   : NULL;
    const char *a[] = {name, id, ver, full, eco, tenant, host};
    rc = rc == VG_OK ? run(st, a, 7) : rc;
    sqlite3_finalize(st);
    return rc;
}

static int put_pkg(sqlite3_stmt *st, const char *tenant, const char *host, const char *name,
                   const char *arch, const char *type, const char *version, const char *source)
{
    if (!*name || !*version) {
        return VG_EINVAL;
    }
    const char *a[] = {
        tenant, host, name, arch, *type ? type : "deb", version, *source ? source : NULL};
    int rc = run(st, a, 7);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

#define PKG_UPSERT                                                                                 \
    "INSERT INTO packages(tenant, host, name, arch, type, version, source) "                       \
    "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(tenant, host, name, arch, type) DO UPDATE SET "       \
    "version = excluded.version, source = excluded.source"

/* The full package list from the raw record's "packages" array. */
static int obs_packages(struct vg_server_vuln *sv, const char *tenant, const char *host,
                        const struct vg_event *ev)
{
    char err[256];
    size_t used;
    struct vg_json *doc = NULL;
    if (!ev->raw || !ev->raw_len) {
        return VG_EINVAL;
    }
    vg_arena_reset(sv->ja);
    int rc = vg_json_parse(sv->jp, sv->ja, ev->raw, ev->raw_len, &used, &doc, err, sizeof(err));
    const struct vg_json *arr = rc == VG_OK ? vg_json_get(doc, "packages") : NULL;
    if (!arr || arr->type != VG_JSON_ARRAY || arr->n > INV_MAX_PKGS) {
        VG_WARN(COMP, "host %s: an inventory_packages event without a usable packages array%s%s",
                host, rc == VG_OK ? "" : ": ", rc == VG_OK ? "" : err);
        return VG_EINVAL;
    }
    const char *del_a[] = {tenant, host};
    sqlite3_stmt *del = prep(sv, "DELETE FROM packages WHERE tenant = ? AND host = ?");
    sqlite3_stmt *ins = prep(sv, PKG_UPSERT);
    sqlite3_stmt *cnt = prep(sv, "UPDATE hosts SET inventory_at = ?, packages = ? WHERE "
                                 "tenant = ? AND host = ?");
    rc = del && ins && cnt ? hexec(sv, "BEGIN IMMEDIATE") : VG_EIO;
    bool open = rc == VG_OK;
    rc = rc == VG_OK ? host_touch(sv, tenant, host) : rc;
    rc = rc == VG_OK ? run(del, del_a, 2) : rc;
    size_t n = 0, bad = 0;
    for (uint32_t i = 0; rc == VG_OK && i < arr->n; i++) {
        const struct vg_json *o = &arr->u.items[i];
        char name[FIELD_MAX], ver[FIELD_MAX], arch[FIELD_MAX], type[FIELD_MAX], src[FIELD_MAX];
        int r = put_pkg(ins, tenant, host, jstr(o, "name", name), jstr(o, "architecture", arch),
                        jstr(o, "type", type), jstr(o, "version", ver), jstr(o, "source", src));
        n += r == VG_OK;
        bad += r == VG_EINVAL;
        rc = r == VG_EINVAL ? VG_OK : r;
    }
    if (rc == VG_OK) {
        sqlite3_bind_int64(cnt, 1, (int64_t)(vg_time_now() / 1000000000));
        sqlite3_bind_int64(cnt, 2, (int64_t)n);
        const char *a[] = {tenant, host};
        for (int i = 0; i < 2; i++) {
            sqlite3_bind_text(cnt, i + 3, a[i], -1, SQLITE_TRANSIENT);
        }
        rc = sqlite3_step(cnt) == SQLITE_DONE ? VG_OK : VG_EIO;
    }
    if (open) {
        rc = rc == VG_OK ? hexec(sv, "COMMIT") : (hexec(sv, "ROLLBACK"), rc);
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    sqlite3_finalize(cnt);
    if (rc == VG_OK) {
        atomic_fetch_add(&sv->inventories, 1);
        VG_INFO(COMP, "host %s (tenant %s): inventory of %zu packages%s", host, tenant, n,
                bad ? " (records without name or version skipped)" : "");
    }
    return rc;
}

/* One package installed, upgraded or removed (flat package.* fields). */
static int obs_delta(struct vg_server_vuln *sv, const char *tenant, const char *host,
                     const struct vg_event *ev, bool removed)
{
    char name[FIELD_MAX], ver[FIELD_MAX], arch[FIELD_MAX], type[FIELD_MAX], src[FIELD_MAX];
    evs(ev, "package.name", name);
    evs(ev, "package.architecture", arch);
    evs(ev, "package.type", type);
    if (!name[0]) {
        return VG_EINVAL;
    }
    int rc = hexec(sv, "BEGIN IMMEDIATE");
    if (rc != VG_OK) {
        return rc;
    }
    rc = host_touch(sv, tenant, host);
    sqlite3_stmt *st = rc != VG_OK ? NULL
                       : removed   ? prep(sv, "DELETE FROM packages WHERE tenant = ? AND host = ? "
                                                "AND name = ? AND arch = ? AND type = ?")
                                   : prep(sv, PKG_UPSERT);
    if (rc == VG_OK && removed) {
        const char *a[] = {tenant, host, name, arch, type[0] ? type : "deb"};
        rc = run(st, a, 5);
    } else if (rc == VG_OK) {
        rc = put_pkg(st, tenant, host, name, arch, type, evs(ev, "package.version", ver),
                     evs(ev, "package.source", src));
    }
    sqlite3_finalize(st);
    if (rc == VG_OK) {
        const char *a[] = {tenant, host};
        st = prep(sv, "UPDATE hosts SET packages = (SELECT count(*) FROM packages WHERE tenant = "
                      "?1 AND host = ?2) WHERE tenant = ?1 AND host = ?2");
        rc = run(st, a, 2);
        sqlite3_finalize(st);
    }
    rc = rc == VG_OK ? hexec(sv, "COMMIT") : (hexec(sv, "ROLLBACK"), rc);
    if (rc == VG_OK) {
        atomic_fetch_add(&sv->deltas, 1);
    }
    return rc;
}

int vg_server_vuln_observe(struct vg_server_vuln *sv, const char *tenant, size_t tlen,
                           const char *agent, size_t alen, const struct vg_event *ev)
{
    char t[FIELD_MAX], host[FIELD_MAX], action[FIELD_MAX];
    snprintf(t, sizeof(t), "%.*s", tenant && tlen ? (int)VG_MIN(tlen, FIELD_MAX - 1) : 7,
             tenant && tlen ? tenant : "default");
    if (agent && alen) {
        snprintf(host, sizeof(host), "%.*s", (int)VG_MIN(alen, FIELD_MAX - 1), agent);
    } else if (!*evs(ev, "host.id", host) && !*evs(ev, "host.name", host)) {
        evs(ev, "host.hostname", host);
    }
    evs(ev, "event.action", action);
    if (!host[0]) {
        atomic_fetch_add(&sv->observe_errors, 1);
        VG_WARN(COMP,
                "an inventory event (%s) names no host (agent, host.id, host.name): "
                "ignored",
                action);
        return VG_EINVAL;
    }
    int rc = VG_OK;
    pthread_mutex_lock(&sv->mu);
    if (!strcmp(action, "inventory_host")) {
        rc = obs_host(sv, t, host, ev);
    } else if (!strcmp(action, "inventory_packages")) {
        rc = obs_packages(sv, t, host, ev);
    } else if (!strcmp(action, "package_installed") || !strcmp(action, "package_upgraded")) {
        rc = obs_delta(sv, t, host, ev, false);
    } else if (!strcmp(action, "package_removed")) {
        rc = obs_delta(sv, t, host, ev, true);
    } else {
        pthread_mutex_unlock(&sv->mu);
        return VG_OK; /* users, groups, kernel modules: not ours */
    }
    pthread_mutex_unlock(&sv->mu);
    if (rc != VG_OK) {
        atomic_fetch_add(&sv->observe_errors, 1);
        VG_ERR(COMP, "host %s: %s not recorded: %s", host, action, vg_strerror(rc));
    } else {
        kick(sv);
    }
    return rc;
}

/* ---------------------------------------------------------------- scanning */

/* What the advisory database holds, as text: changes when any source is (re)imported. */
static int adb_fingerprint(struct vg_server_vuln *sv, char *out, size_t outsz)
{
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    pthread_mutex_lock(&sv->adb_mu);
    sqlite3 *db = vg_vuln_db_handle(sv->adb);
    int rc = sqlite3_prepare_v2(db,
                                "SELECT count(*) || '/' || coalesce(group_concat(name || '@' || "
                                "imported || '#' || records, ','), '') FROM (SELECT * FROM "
                                "sources ORDER BY name)",
                                -1, &st, NULL) == SQLITE_OK &&
                     sqlite3_step(st) == SQLITE_ROW
                 ? VG_OK
                 : VG_EIO;
    if (rc == VG_OK) {
        /* long lists hash down to a fixed size */
        const char *s = (const char *)sqlite3_column_text(st, 0);
        size_t n = s ? strlen(s) : 0;
        snprintf(out, outsz, "%zu:%016" PRIx64, n, vg_hash64(s ? s : "", n, 0));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sv->adb_mu);
    return rc;
}

/* Mark every host dirty when the advisory database changed since the last check. */
static void check_advisories(struct vg_server_vuln *sv)
{
    char fp[64];
    if (adb_fingerprint(sv, fp, sizeof(fp)) != VG_OK) {
        return;
    }
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *st = prep(sv, "SELECT value FROM meta WHERE key = 'advisories'");
    bool same = st && sqlite3_step(st) == SQLITE_ROW && col(st, 0) && !strcmp(col(st, 0), fp);
    sqlite3_finalize(st);
    if (!same && hexec(sv, "BEGIN IMMEDIATE") == VG_OK) {
        st = prep(sv, "INSERT OR REPLACE INTO meta(key, value) VALUES('advisories', ?)");
        const char *a[] = {fp};
        int rc = run(st, a, 1);
        sqlite3_finalize(st);
        rc = rc == VG_OK ? hexec(sv, "UPDATE hosts SET dirty = dirty + 1") : rc;
        if (rc == VG_OK && hexec(sv, "COMMIT") == VG_OK) {
            VG_INFO(COMP, "advisory database changed (%s): every host is matched again", fp);
        } else {
            hexec(sv, "ROLLBACK");
        }
    }
    pthread_mutex_unlock(&sv->mu);
}

/* One host's inventory, loaded for matching (strings in the arena). */
struct hostinv {
    char tenant[FIELD_MAX], host[FIELD_MAX], eco[FIELD_MAX], name[FIELD_MAX];
    int64_t dirty;
    struct vg_vuln_pkg *pkgs;
    size_t n, cap;
    struct vg_arena *a;
};

static const char *adup(struct vg_arena *a, const char *s)
{
    return s ? vg_arena_strndup(a, s, strlen(s)) : NULL;
}

static enum vg_vuln_scheme scheme_of(const char *type)
{
    return !strcmp(type, "rpm") ? VG_VULN_RPM : !strcmp(type, "apk") ? VG_VULN_APK : VG_VULN_DPKG;
}

/* Load the packages of h (caller holds mu). */
static int load_inv(struct vg_server_vuln *sv, struct hostinv *h)
{
    sqlite3_stmt *st = prep(sv, "SELECT name, arch, type, version, source FROM packages WHERE "
                                "tenant = ? AND host = ? ORDER BY name, arch");
    if (!st) {
        return VG_EIO;
    }
    sqlite3_bind_text(st, 1, h->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, h->host, -1, SQLITE_STATIC);
    const char *eco = h->eco[0] ? adup(h->a, h->eco) : NULL;
    int rc = VG_OK, s;
    while (rc == VG_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        if (vg_grow(&h->pkgs, &h->cap, h->n + 1, sizeof(*h->pkgs)) != VG_OK) {
            rc = VG_ENOMEM;
            break;
        }
        struct vg_vuln_pkg *p = &h->pkgs[h->n++];
        p->ecosystem = eco;
        p->name = adup(h->a, col(st, 0));
        p->arch = adup(h->a, col(st, 1));
        p->scheme = scheme_of(col(st, 2) ? col(st, 2) : "");
        p->version = adup(h->a, col(st, 3));
        p->source = adup(h->a, col(st, 4));
        if (!p->name || !p->arch || !p->version) {
            rc = VG_ENOMEM;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* The findings of one match, copied out of the callback. */
struct found {
    char *id, *package, *arch, *installed, *fixed, *doc;
    uint64_t hash; /* of doc: a changed finding is rewritten, an unchanged one left alone */
    bool fresh;    /* first seen by this scan */
    int severity;
    bool kev;
    double epss, cvss;
};

struct foundset {
    struct found *v;
    size_t n, cap;
    struct vg_arena *a;
};

static int on_finding(const struct vg_vuln_finding *f, void *arg)
{
    struct foundset *fs = arg;
    struct vg_sbuf doc = VG_SBUF_INIT;
    if (vg_grow(&fs->v, &fs->cap, fs->n + 1, sizeof(*fs->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    vg_vuln_finding_json(f, f->pkg, &doc);
    struct found *o = &fs->v[fs->n];
    o->id = (char *)adup(fs->a, f->id);
    o->package = (char *)adup(fs->a, f->pkg->name);
    o->arch = (char *)adup(fs->a, f->pkg->arch ? f->pkg->arch : "");
    o->installed = (char *)adup(fs->a, f->pkg->version);
    o->fixed = (char *)adup(fs->a, f->fixed);
    o->doc = doc.err ? NULL : vg_arena_strndup(fs->a, doc.p, doc.len);
    o->hash = doc.err ? 0 : vg_hash64(doc.p, doc.len, 0) & INT64_MAX; /* fits SQLite */
    o->severity = (int)f->severity;
    o->fresh = false;
    o->kev = f->kev;
    o->epss = f->epss;
    o->cvss = f->cvss;
    vg_sbuf_fini(&doc);
    if (!o->id || !o->package || !o->arch || !o->installed || !o->doc) {
        return VG_ENOMEM;
    }
    fs->n++;
    return 0;
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (v < 0) {
        sqlite3_bind_null(st, i);
    } else {
        sqlite3_bind_double(st, i, v);
    }
}

/* The findings a host had before this scan: key → document hash, and whether seen again. */
struct oldrow {
    const char *id, *package, *arch;
    uint64_t hash;
    bool seen;
};

struct oldset {
    struct oldrow *v;
    size_t n, cap;
    uint32_t *slot; /* open addressing: index + 1, 0 empty */
    size_t mask;
};

static uint64_t key_hash(const char *id, const char *package, const char *arch)
{
    uint64_t k = vg_hash64(id, strlen(id), 1);
    k = vg_hash64(package, strlen(package), k);
    return vg_hash64(arch, strlen(arch), k);
}

static struct oldrow *old_find(struct oldset *o, const struct found *f)
{
    for (size_t i = key_hash(f->id, f->package, f->arch) & o->mask; o->slot && o->slot[i];
         i = (i + 1) & o->mask) {
        struct oldrow *r = &o->v[o->slot[i] - 1];
        if (!strcmp(r->id, f->id) && !strcmp(r->package, f->package) && !strcmp(r->arch, f->arch)) {
            return r;
        }
    }
    return NULL;
}

/* Load h's stored findings into o (caller holds mu). */
static int old_load(struct vg_server_vuln *sv, const struct hostinv *h, struct vg_arena *a,
                    struct oldset *o)
{
    sqlite3_stmt *st = prep(sv, "SELECT id, package, arch, dochash FROM findings WHERE tenant = ? "
                                "AND host = ?");
    int rc = st ? VG_OK : VG_EIO;
    if (rc == VG_OK) {
        sqlite3_bind_text(st, 1, h->tenant, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, h->host, -1, SQLITE_STATIC);
    }
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (vg_grow(&o->v, &o->cap, o->n + 1, sizeof(*o->v)) != VG_OK) {
            rc = VG_ENOMEM;
            break;
        }
        struct oldrow *r = &o->v[o->n];
        r->id = adup(a, col(st, 0));
        r->package = adup(a, col(st, 1));
        r->arch = adup(a, col(st, 2));
        r->hash = (uint64_t)sqlite3_column_int64(st, 3);
        r->seen = false;
        rc = r->id && r->package && r->arch ? VG_OK : VG_ENOMEM;
        o->n += rc == VG_OK;
    }
    sqlite3_finalize(st);
    size_t cap = 16;
    while (cap < o->n * 2) {
        cap *= 2;
    }
    o->mask = cap - 1;
    if (rc == VG_OK && !(o->slot = vg_calloc(cap, sizeof(*o->slot)))) {
        rc = VG_ENOMEM;
    }
    for (size_t k = 0; rc == VG_OK && k < o->n; k++) {
        size_t i = key_hash(o->v[k].id, o->v[k].package, o->v[k].arch) & o->mask;
        while (o->slot[i]) {
            i = (i + 1) & o->mask;
        }
        o->slot[i] = (uint32_t)k + 1;
    }
    return rc;
}

static void bind_finding(sqlite3_stmt *st, const struct found *f)
{
    sqlite3_bind_text(st, 1, f->installed, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->fixed, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, f->severity);
    sqlite3_bind_int(st, 4, f->kev);
    bind_real(st, 5, f->epss);
    bind_real(st, 6, f->cvss);
    sqlite3_bind_int64(st, 7, (int64_t)f->hash);
    sqlite3_bind_text(st, 8, f->doc, -1, SQLITE_STATIC);
}

/* Bind tenant, host, id, package, arch from parameter `first` on. */
static void bind_key(sqlite3_stmt *st, int first, const struct hostinv *h, const char *id,
                     const char *package, const char *arch)
{
    const char *key[] = {h->tenant, h->host, id, package, arch};
    for (int k = 0; k < 5; k++) {
        sqlite3_bind_text(st, first + k, key[k], -1, SQLITE_STATIC);
    }
}

/*
 * Replace h's findings with fs in one transaction (caller holds mu), writing only what
 * changed: a new finding is inserted with first_seen now, a changed one (its document hash
 * differs: new EPSS, fixed version, ...) updated, one not matched any more deleted — so a
 * rescan after an advisory import rewrites a few rows, not every host's whole list.
 */
static int store_findings(struct vg_server_vuln *sv, const struct hostinv *h,
                          const struct foundset *fs, int64_t now, const char *scan_err)
{
    struct oldset o = {0};
    struct vg_arena *a = vg_arena_create(0);
    int rc = a ? hexec(sv, "BEGIN IMMEDIATE") : VG_ENOMEM;
    if (rc != VG_OK) {
        vg_arena_destroy(a);
        return rc;
    }
    size_t fresh = 0, changed = 0, gone = 0, crit = 0, high = 0, kev = 0;
    if (!scan_err) {
        rc = old_load(sv, h, a, &o);
    }
    sqlite3_stmt *ins =
        prep(sv, "INSERT OR IGNORE INTO findings(installed, fixed, severity, kev, epss, "
                 "cvss, dochash, doc, tenant, host, id, package, arch, first_seen) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlite3_stmt *upd =
        prep(sv, "UPDATE findings SET installed = ?, fixed = ?, severity = ?, "
                 "kev = ?, epss = ?, cvss = ?, dochash = ?, doc = ? WHERE tenant = ? "
                 "AND host = ? AND id = ? AND package = ? AND arch = ?");
    sqlite3_stmt *del = prep(sv, "DELETE FROM findings WHERE tenant = ? AND host = ? AND id = ? "
                                 "AND package = ? AND arch = ?");
    rc = rc == VG_OK && ins && upd && del ? VG_OK : rc == VG_OK ? VG_EIO : rc;
    for (size_t i = 0; rc == VG_OK && !scan_err && i < fs->n; i++) {
        const struct found *f = &fs->v[i];
        struct oldrow *r = old_find(&o, f);
        crit += f->severity == VG_VULN_SEV_CRITICAL;
        high += f->severity == VG_VULN_SEV_HIGH;
        kev += f->kev;
        if (r && r->seen) {
            continue; /* the same key twice in one match */
        }
        if (r && r->hash == f->hash) {
            r->seen = true;
            continue;
        }
        sqlite3_stmt *st = r ? upd : ins;
        bind_finding(st, f);
        bind_key(st, 9, h, f->id, f->package, f->arch);
        if (!r) {
            sqlite3_bind_int64(st, 14, now);
        }
        rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : VG_EIO;
        sqlite3_reset(st);
        /* a key twice in one match (two advisory sources): the first one stays */
        ((struct found *)f)->fresh = !r && sqlite3_changes(sv->hdb) > 0;
        fresh += f->fresh;
        changed += r != NULL;
        if (r) {
            r->seen = true;
        }
    }
    for (size_t k = 0; rc == VG_OK && !scan_err && k < o.n; k++) {
        if (!o.v[k].seen) {
            bind_key(del, 1, h, o.v[k].id, o.v[k].package, o.v[k].arch);
            rc = sqlite3_step(del) == SQLITE_DONE ? VG_OK : VG_EIO;
            sqlite3_reset(del);
            gone++;
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(upd);
    sqlite3_finalize(del);
    if (rc == VG_OK) {
        /* dirty goes back to 0 only if no change arrived while we matched */
        sqlite3_stmt *hs = prep(
            sv, scan_err ? "UPDATE hosts SET scan_error = ?, scanned_at = ?, dirty = CASE WHEN "
                           "dirty = ? THEN 0 ELSE dirty END WHERE tenant = ? AND host = ?"
                         : "UPDATE hosts SET scan_error = ?, scanned_at = ?, dirty = CASE WHEN "
                           "dirty = ? THEN 0 ELSE dirty END, findings = ?, critical = ?, high = ?, "
                           "kev = ? WHERE tenant = ? AND host = ?");
        rc = hs ? VG_OK : VG_EIO;
        if (rc == VG_OK) {
            int k = 1;
            sqlite3_bind_text(hs, k++, scan_err, -1, SQLITE_STATIC);
            sqlite3_bind_int64(hs, k++, now);
            sqlite3_bind_int64(hs, k++, h->dirty);
            if (!scan_err) {
                sqlite3_bind_int64(hs, k++, (int64_t)(fs->n));
                sqlite3_bind_int64(hs, k++, (int64_t)crit);
                sqlite3_bind_int64(hs, k++, (int64_t)high);
                sqlite3_bind_int64(hs, k++, (int64_t)kev);
            }
            sqlite3_bind_text(hs, k++, h->tenant, -1, SQLITE_STATIC);
            sqlite3_bind_text(hs, k, h->host, -1, SQLITE_STATIC);
            rc = sqlite3_step(hs) == SQLITE_DONE ? VG_OK : VG_EIO;
        }
        sqlite3_finalize(hs);
    }
    rc = rc == VG_OK ? hexec(sv, "COMMIT") : (hexec(sv, "ROLLBACK"), rc);
    if (rc == VG_OK && !scan_err) {
        atomic_fetch_add(&sv->found, fresh);
        atomic_fetch_add(&sv->gone, gone);
        VG_INFO(COMP,
                "host %s (tenant %s): %zu packages, %zu findings (%zu new, %zu changed, %zu "
                "resolved; %zu critical, %zu high, %zu known exploited)",
                h->host, h->tenant, h->n, fs->n, fresh, changed, gone, crit, high, kev);
    }
    vg_free(o.v);
    vg_free(o.slot);
    vg_arena_destroy(a);
    return rc;
}

/*
 * New findings that matter — known exploited, or at least vuln.event_severity — become events
 * in the journal (dataset "vulnerability", ECS vulnerability.* and package.* fields, the
 * finding under vigie.vuln): searchable like any event, and the built-in rules of
 * rules/builtin/vuln turn them into alerts that triage groups per host. Appended without
 * holding mu and without waiting (the pipeline writer may need mu to release the journal):
 * when the journal is full they are counted as dropped; the findings stay in the API.
 */
static void emit_events(struct vg_server_vuln *sv, const struct hostinv *h, const char *name,
                        const struct foundset *fs)
{
    struct vg_sbuf d = VG_SBUF_INIT, m = VG_SBUF_INIT;
    char ts[40];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    for (size_t i = 0; sv->j && sv->event_min >= 0 && i < fs->n; i++) {
        const struct found *f = &fs->v[i];
        if (!f->fresh || (!f->kev && f->severity < sv->event_min)) {
            continue;
        }
        vg_sbuf_reset(&d);
        vg_sbuf_reset(&m);
        vg_sbuf_printf(&d,
                       "{\"@timestamp\":\"%s\",\"event.module\":\"vigie\",\"event.dataset\":"
                       "\"vulnerability\",\"event.kind\":\"state\",\"event.category\":"
                       "\"vulnerability\",\"event.type\":\"info\",\"event.action\":"
                       "\"vulnerability_found\",\"host.id\":",
                       ts);
        add_str(&d, h->host);
        vg_sbuf_adds(&d, ",\"host.name\":");
        add_str(&d, name && *name ? name : h->host);
        vg_sbuf_adds(&d, ",\"vulnerability.id\":");
        add_str(&d, f->id);
        vg_sbuf_adds(&d, ",\"vulnerability.severity\":");
        add_str(&d, vg_vuln_severity_name((enum vg_vuln_severity)f->severity));
        vg_sbuf_adds(&d, ",\"vulnerability.scanner.vendor\":\"Vigie\",\"package.name\":");
        add_str(&d, f->package);
        vg_sbuf_adds(&d, ",\"package.version\":");
        add_str(&d, f->installed);
        vg_sbuf_adds(&d, ",\"vigie.vuln\":");
        vg_sbuf_adds(&d, f->doc);
        vg_sbuf_addc(&d, '}');
        vg_sbuf_printf(&m, "tenant=%s\x1fkey=%s/vuln/%s/%s/%s/%s/%" PRId64, h->tenant, h->tenant,
                       h->host, f->id, f->package, f->arch, (int64_t)(vg_time_now() / 1000000000));
        if (d.err || m.err || d.len > UINT32_MAX) {
            atomic_fetch_add(&sv->events_dropped, 1);
            continue;
        }
        struct vg_rec r = {.data = d.p,
                           .len = (uint32_t)d.len,
                           .input = 0,
                           .recv_ts = vg_time_now(),
                           .meta = m.p,
                           .meta_len = (uint32_t)m.len};
        uint64_t last;
        int rc = VG_AGAIN;
        for (int tries = 0; rc == VG_AGAIN && tries < 50; tries++) {
            if ((rc = vg_journal_append(sv->j, &r, 1, VG_JOURNAL_NOWAIT, &last)) == VG_AGAIN) {
                struct timespec pause = {0, 20 * 1000000};
                nanosleep(&pause, NULL);
            }
        }
        atomic_fetch_add(rc == VG_OK ? &sv->events : &sv->events_dropped, 1);
    }
    vg_sbuf_fini(&d);
    vg_sbuf_fini(&m);
}

/* Match one host: load under mu, match under adb_mu only, store under mu. */
static int scan_host(struct vg_server_vuln *sv, struct hostinv *h)
{
    char err[512] = "";
    struct foundset fs = {.a = vg_arena_create(0)};
    h->a = vg_arena_create(0);
    if (!h->a || !fs.a) {
        vg_arena_destroy(h->a);
        vg_arena_destroy(fs.a);
        return VG_ENOMEM;
    }
    uint64_t t0 = vg_clock_ns();
    pthread_mutex_lock(&sv->mu);
    int rc = load_inv(sv, h);
    pthread_mutex_unlock(&sv->mu);
    if (rc == VG_OK) {
        pthread_mutex_lock(&sv->adb_mu);
        rc = vg_vuln_match(sv->adb, h->pkgs, h->n, NULL, on_finding, &fs, err, sizeof(err));
        pthread_mutex_unlock(&sv->adb_mu);
    }
    uint64_t t1 = vg_clock_ns();
    int64_t now = (int64_t)(vg_time_now() / 1000000000);
    if (rc != VG_OK) {
        atomic_fetch_add(&sv->scan_failures, 1);
        VG_ERR(COMP, "host %s: matching failed: %s", h->host, *err ? err : vg_strerror(rc));
        if (!*err) {
            snprintf(err, sizeof(err), "%s", vg_strerror(rc));
        }
    }
    pthread_mutex_lock(&sv->mu);
    int src = store_findings(sv, h, &fs, now, rc == VG_OK ? NULL : err);
    pthread_mutex_unlock(&sv->mu);
    if (rc == VG_OK && src == VG_OK) {
        emit_events(sv, h, h->name, &fs);
    }
    VG_DEBUG(COMP, "host %s: matched in %.1f ms, stored in %.1f ms", h->host,
             (double)(t1 - t0) / 1e6, (double)(vg_clock_ns() - t1) / 1e6);
    atomic_fetch_add(&sv->scans, 1);
    vg_free(h->pkgs);
    vg_free(fs.v);
    vg_arena_destroy(h->a);
    vg_arena_destroy(fs.a);
    return rc == VG_OK ? src : rc;
}

/* Match up to SCAN_HOSTS dirty hosts; returns how many were matched. */
static size_t scan_dirty(struct vg_server_vuln *sv)
{
    struct hostinv *hs = vg_calloc(SCAN_HOSTS, sizeof(*hs));
    size_t n = 0;
    if (!hs) {
        return 0;
    }
    atomic_store(&sv->busy, 1);
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *st = prep(sv, "SELECT tenant, host, coalesce(ecosystem, ''), dirty, "
                                "coalesce(name, host) FROM hosts "
                                "WHERE dirty > 0 ORDER BY inventory_at IS NULL, tenant, host "
                                "LIMIT 32"); /* SCAN_HOSTS */
    while (st && n < SCAN_HOSTS && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(hs[n].tenant, FIELD_MAX, "%s", col(st, 0));
        snprintf(hs[n].host, FIELD_MAX, "%s", col(st, 1));
        snprintf(hs[n].eco, FIELD_MAX, "%s", col(st, 2));
        snprintf(hs[n].name, FIELD_MAX, "%s", col(st, 4));
        hs[n++].dirty = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sv->mu);
    for (size_t i = 0; i < n; i++) {
        scan_host(sv, &hs[i]);
    }
    vg_free(hs);
    atomic_store(&sv->busy, 0);
    return n;
}

static void *scan_main(void *arg)
{
    struct vg_server_vuln *sv = arg;
    uint64_t next_check = 0;
    pthread_mutex_lock(&sv->th_mu);
    while (!sv->stopping) {
        uint64_t now = vg_clock_ns();
        bool check = now >= next_check;
        sv->kick = false;
        pthread_mutex_unlock(&sv->th_mu);
        if (check) {
            check_advisories(sv);
            next_check = now + (uint64_t)sv->recheck_s * 1000000000ull;
        }
        size_t n = scan_dirty(sv);
        pthread_mutex_lock(&sv->th_mu);
        if (n || sv->kick || sv->stopping) {
            continue; /* more to do */
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t wait = next_check > now ? next_check - now : 0;
        ts.tv_sec += (time_t)(wait / 1000000000ull) + 1;
        pthread_cond_timedwait(&sv->th_cond, &sv->th_mu, &ts);
    }
    pthread_mutex_unlock(&sv->th_mu);
    return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

int vg_server_vuln_create(const struct vg_server_conf *c, struct vg_journal *j,
                          struct vg_server_vuln **out, char *err, size_t errsz)
{
    char path[4200], e[512];
    *out = NULL;
    if (!c->vuln_enabled) {
        return VG_OK;
    }
    struct vg_server_vuln *sv = vg_calloc(1, sizeof(*sv));
    if (!sv) {
        return VG_ENOMEM;
    }
    pthread_mutex_init(&sv->mu, NULL);
    pthread_mutex_init(&sv->adb_mu, NULL);
    pthread_mutex_init(&sv->th_mu, NULL);
    pthread_cond_init(&sv->th_cond, NULL);
    sv->recheck_s = c->vuln_recheck_s > 0 ? c->vuln_recheck_s : 60;
    sv->j = j;
    sv->event_min = -1;
    const char *em = c->vuln_event_severity ? c->vuln_event_severity : "high";
    for (int k = VG_VULN_SEV_UNKNOWN; k <= VG_VULN_SEV_CRITICAL; k++) {
        if (!strcmp(em, vg_vuln_severity_name((enum vg_vuln_severity)k))) {
            sv->event_min = k;
        }
    }
    if (sv->event_min < 0 && strcmp(em, "off") != 0) {
        snprintf(err, errsz,
                 "vuln.event_severity: expected off, unknown, negligible, low, medium, high or "
                 "critical, got '%.32s'",
                 em);
        vg_server_vuln_destroy(sv);
        return VG_EINVAL;
    }
    sv->f_dataset = vg_field_intern("event.dataset", 13);
    int n = c->vuln_db && *c->vuln_db
                ? snprintf(sv->adb_dir, sizeof(sv->adb_dir), "%s", c->vuln_db)
                : snprintf(sv->adb_dir, sizeof(sv->adb_dir), "%s/vuln", c->data_dir);
    int rc = n < 0 || (size_t)n >= sizeof(sv->adb_dir) ? VG_EINVAL : VG_OK;
    if (rc != VG_OK) {
        snprintf(err, errsz, "vuln.db: path too long");
        goto fail;
    }
    if ((rc = vg_vuln_db_open(sv->adb_dir, true, &sv->adb, e, sizeof(e))) != VG_OK) {
        snprintf(err, errsz, "vuln.db: %s", e);
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/vuln", c->data_dir);
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "vuln: cannot create %s: %s", path, strerror(errno));
        rc = VG_EIO;
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/vuln/hosts.db", c->data_dir);
    if (sqlite3_open_v2(path, &sv->hdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(sv->hdb, 5000) != SQLITE_OK ||
        sqlite3_exec(sv->hdb, hosts_schema, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errsz, "vuln: %s: %s", path, sv->hdb ? sqlite3_errmsg(sv->hdb) : "?");
        rc = VG_EIO;
        goto fail;
    }
    sv->jp = vg_json_parser_create(NULL);
    sv->ja = vg_arena_create(0);
    if (!sv->jp || !sv->ja) {
        rc = VG_ENOMEM;
        goto fail;
    }
    *out = sv;
    return VG_OK;
fail:
    vg_server_vuln_destroy(sv);
    return rc;
}

int vg_server_vuln_start(struct vg_server_vuln *sv)
{
    if (!sv) {
        return VG_OK;
    }
    if (pthread_create(&sv->th, NULL, scan_main, sv) != 0) {
        return VG_ENOMEM;
    }
    sv->running = true;
    return VG_OK;
}

void vg_server_vuln_stop(struct vg_server_vuln *sv)
{
    if (!sv || !sv->running) {
        return;
    }
    pthread_mutex_lock(&sv->th_mu);
    sv->stopping = true;
    pthread_cond_signal(&sv->th_cond);
    pthread_mutex_unlock(&sv->th_mu);
    pthread_join(sv->th, NULL);
    sv->running = false;
}

void vg_server_vuln_destroy(struct vg_server_vuln *sv)
{
    if (!sv) {
        return;
    }
    vg_server_vuln_stop(sv);
    sqlite3_close(sv->hdb);
    vg_vuln_db_close(sv->adb);
    vg_json_parser_destroy(sv->jp);
    vg_arena_destroy(sv->ja);
    pthread_mutex_destroy(&sv->mu);
    pthread_mutex_destroy(&sv->adb_mu);
    pthread_mutex_destroy(&sv->th_mu);
    pthread_cond_destroy(&sv->th_cond);
    vg_free(sv);
}

void vg_server_vuln_set_audit(struct vg_server_vuln *sv, struct vg_audit *a)
{
    if (sv) {
        sv->audit = a;
    }
}

long vg_server_vuln_rescan(struct vg_server_vuln *sv, const char *tenant, const char *host)
{
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *st = prep(sv, "UPDATE hosts SET dirty = dirty + 1 WHERE (?1 IS NULL OR tenant = "
                                "?1) AND (?2 IS NULL OR host = ?2 OR name = ?2)");
    const char *a[] = {tenant, host};
    long n = run(st, a, 2) == VG_OK ? (long)sqlite3_changes(sv->hdb) : -1;
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sv->mu);
    if (n > 0) {
        kick(sv);
    }
    return n;
}

int vg_server_vuln_wait_idle(struct vg_server_vuln *sv, int timeout_ms)
{
    uint64_t end = vg_clock_ns() + (uint64_t)timeout_ms * 1000000ull;
    while (sv) {
        pthread_mutex_lock(&sv->mu);
        sqlite3_stmt *st = prep(sv, "SELECT count(*) FROM hosts WHERE dirty > 0");
        int64_t dirty = st && sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_finalize(st);
        pthread_mutex_unlock(&sv->mu);
        if (dirty == 0 && !atomic_load(&sv->busy)) {
            return VG_OK;
        }
        if (vg_clock_ns() >= end) {
            return VG_AGAIN;
        }
        kick(sv);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- demo summary */

void vg_server_vuln_summary(struct vg_server *s, FILE *out)
{
    struct vg_server_vuln *sv = s->vuln;
    if (!sv) {
        return;
    }
    if (vg_server_vuln_wait_idle(sv, 10000) != VG_OK) {
        fprintf(out, "(vulnerability matching is still working; GET /api/v1/vulns)\n");
    }
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *h = prep(sv, "SELECT host, coalesce(name, host), coalesce(ecosystem, '?'), "
                               "packages, findings, kev FROM hosts ORDER BY kev DESC, critical "
                               "DESC, high DESC, findings DESC LIMIT 5");
    sqlite3_stmt *f = prep(sv, "SELECT id, package, installed, coalesce(fixed, 'no fix yet'), "
                               "severity, kev FROM findings WHERE host = ? ORDER BY kev DESC, "
                               "severity DESC, coalesce(epss, -1) DESC, id LIMIT 5");
    fprintf(out, "Vulnerable hosts (package inventories matched against %s):\n", sv->adb_dir);
    int n = 0;
    while (h && f && sqlite3_step(h) == SQLITE_ROW) {
        fprintf(out, "  %-20s %-10s %4d packages  %3d findings  %d known exploited\n", col(h, 1),
                col(h, 2), sqlite3_column_int(h, 3), sqlite3_column_int(h, 4),
                sqlite3_column_int(h, 5));
        sqlite3_bind_text(f, 1, col(h, 0), -1, SQLITE_TRANSIENT);
        while (sqlite3_step(f) == SQLITE_ROW) {
            fprintf(out, "      %-16s %-8s %-16s %-20s fixed in %s%s\n", col(f, 0),
                    vg_vuln_severity_name((enum vg_vuln_severity)sqlite3_column_int(f, 4)),
                    col(f, 1), col(f, 2), col(f, 3), sqlite3_column_int(f, 5) ? "  [KEV]" : "");
        }
        sqlite3_reset(f);
        n++;
    }
    sqlite3_finalize(h);
    sqlite3_finalize(f);
    pthread_mutex_unlock(&sv->mu);
    if (n) {
        fprintf(out,
                "  %" PRIu64 " new findings (known exploited or >= %s) became events; the "
                "vuln/* rules alert on them\n",
                (uint64_t)atomic_load(&sv->events),
                sv->event_min >= 0 ? vg_vuln_severity_name((enum vg_vuln_severity)sv->event_min)
                                   : "off");
    }
    fprintf(out, n ? "  (all findings, with why they matched: GET /api/v1/vulns)\n\n"
                   : "  (none yet: agents send their packages; `vigie vuln db import` loads "
                     "advisories)\n\n");
}

/* ---------------------------------------------------------------- REST */

static void add_time(struct vg_sbuf *b, sqlite3_stmt *st, int i)
{
    char ts[40];
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        vg_sbuf_adds(b, "null");
        return;
    }
    vg_time_format((vg_time_t)sqlite3_column_int64(st, i) * 1000000000, ts, sizeof(ts));
    vg_sbuf_printf(b, "\"%s\"", ts);
}

static int int_param(const struct vg_api_req *req, struct vg_api_resp *resp, const char *key,
                     int64_t def, int64_t max, int64_t *out)
{
    const char *v = vg_api_query(req, key);
    *out = def;
    if (v && *v && (vg_parse_i64(v, strlen(v), out) != VG_OK || *out < 0 || *out > max)) {
        vg_api_resp_error(resp, 400, "bad_request", "%s: expected an integer in [0, %" PRId64 "]",
                          key, max);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* "critical", "high", ... or a number 0-5 → the severity; -1 when absent. */
static int sev_param(const struct vg_api_req *req, struct vg_api_resp *resp, int *out)
{
    const char *v = vg_api_query(req, "severity");
    *out = -1;
    if (!v || !*v) {
        return VG_OK;
    }
    for (int s = VG_VULN_SEV_UNKNOWN; s <= VG_VULN_SEV_CRITICAL; s++) {
        if (!strcmp(v, vg_vuln_severity_name((enum vg_vuln_severity)s))) {
            *out = s;
            return VG_OK;
        }
    }
    vg_api_resp_error(resp, 400, "bad_request",
                      "severity: expected unknown, negligible, low, medium, high or critical "
                      "(the least severity shown), got '%.32s'",
                      v);
    return VG_EINVAL;
}

static const char *opt(const struct vg_api_req *req, const char *key)
{
    const char *v = vg_api_query(req, key);
    return v && *v ? v : NULL;
}

#define FINDINGS_WHERE                                                                             \
    " FROM findings f LEFT JOIN hosts h ON h.tenant = f.tenant AND h.host = f.host"                \
    " WHERE f.tenant = ?1 AND (?2 IS NULL OR f.host = ?2 OR h.name = ?2)"                          \
    " AND (?3 IS NULL OR f.severity >= ?3) AND (?4 IS NULL OR f.kev = 1)"                          \
    " AND (?5 IS NULL OR f.id = ?5 OR instr(f.doc, ?5) > 0) AND (?6 IS NULL OR f.package = ?6)"

static void bind_filters(sqlite3_stmt *st, const struct vg_api_req *req, int sev)
{
    const char *kev = opt(req, "kev");
    sqlite3_bind_text(st, 1, req->tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, opt(req, "host"), -1, SQLITE_STATIC);
    if (sev >= 0) {
        sqlite3_bind_int(st, 3, sev);
    }
    if (kev && strcmp(kev, "false") != 0 && strcmp(kev, "0") != 0) {
        sqlite3_bind_int(st, 4, 1);
    }
    sqlite3_bind_text(st, 5, opt(req, "q"), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, opt(req, "package"), -1, SQLITE_STATIC);
}

/* The rows of a findings query as {"host","host_name","first_seen",<the finding's fields>}. */
static int findings_json(sqlite3_stmt *st, struct vg_sbuf *b)
{
    int rc, k = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *doc = col(st, 3);
        vg_sbuf_adds(b, k++ ? ",{\"host\":" : "{\"host\":");
        add_str(b, col(st, 0));
        vg_sbuf_adds(b, ",\"host_name\":");
        add_str(b, col(st, 1));
        vg_sbuf_adds(b, ",\"first_seen\":");
        add_time(b, st, 2);
        if (doc && doc[0] == '{' && doc[1] != '}') {
            vg_sbuf_addc(b, ',');
            vg_sbuf_adds(b, doc + 1);
        } else {
            vg_sbuf_addc(b, '}');
        }
    }
    return rc == SQLITE_DONE && !b->err ? VG_OK : VG_EIO;
}

/* GET /api/v1/vulns?host=&severity=&kev=&q=&package=&offset=&limit= — findings of the
   tenant's hosts, most urgent first: known exploited, severity, EPSS, CVSS. */
static int h_findings(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_vuln *sv = ctx;
    int64_t off, lim, total = 0;
    int sev;
    if (int_param(req, resp, "offset", 0, INT32_MAX, &off) != VG_OK ||
        int_param(req, resp, "limit", 100, LIST_MAX, &lim) != VG_OK ||
        sev_param(req, resp, &sev) != VG_OK) {
        return VG_EINVAL;
    }
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *cnt = prep(sv, "SELECT count(*)" FINDINGS_WHERE);
    sqlite3_stmt *st = prep(sv, "SELECT f.host, h.name, f.first_seen, f.doc" FINDINGS_WHERE
                                " ORDER BY f.kev DESC, f.severity DESC, coalesce(f.epss, -1) DESC,"
                                " coalesce(f.cvss, -1) DESC, f.id, f.host, f.package"
                                " LIMIT ?7 OFFSET ?8");
    int rc = cnt && st ? VG_OK : VG_EIO;
    if (rc == VG_OK) {
        bind_filters(cnt, req, sev);
        bind_filters(st, req, sev);
        sqlite3_bind_int64(st, 7, lim ? lim : LIST_MAX);
        sqlite3_bind_int64(st, 8, off);
        total = sqlite3_step(cnt) == SQLITE_ROW ? sqlite3_column_int64(cnt, 0) : 0;
        vg_sbuf_adds(&resp->body, "{\"items\":[");
        rc = findings_json(st, &resp->body);
        vg_sbuf_printf(&resp->body,
                       "],\"offset\":%" PRId64 ",\"limit\":%" PRId64 ",\"total\":%" PRId64 "}", off,
                       lim ? lim : LIST_MAX, total);
    }
    sqlite3_finalize(cnt);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sv->mu);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 500, "internal", "findings: the host database failed");
    }
    return rc;
}

#define HOST_COLS                                                                                  \
    "host, name, os_name, ecosystem, packages, findings, critical, high, kev, inventory_at, "      \
    "scanned_at, dirty, scan_error"

static void host_json(sqlite3_stmt *st, struct vg_sbuf *b)
{
    vg_sbuf_adds(b, "{\"host\":");
    add_str(b, col(st, 0));
    vg_sbuf_adds(b, ",\"name\":");
    add_str(b, col(st, 1));
    vg_sbuf_adds(b, ",\"os\":");
    add_str(b, col(st, 2));
    vg_sbuf_adds(b, ",\"ecosystem\":");
    add_str(b, col(st, 3));
    vg_sbuf_printf(b,
                   ",\"packages\":%" PRId64 ",\"findings\":%" PRId64 ",\"critical\":%" PRId64
                   ",\"high\":%" PRId64 ",\"kev\":%" PRId64 ",\"inventory_at\":",
                   (int64_t)sqlite3_column_int64(st, 4), (int64_t)sqlite3_column_int64(st, 5),
                   (int64_t)sqlite3_column_int64(st, 6), (int64_t)sqlite3_column_int64(st, 7),
                   (int64_t)sqlite3_column_int64(st, 8));
    add_time(b, st, 9);
    vg_sbuf_adds(b, ",\"scanned_at\":");
    add_time(b, st, 10);
    vg_sbuf_printf(
        b, ",\"pending\":%s,\"scan_error\":", sqlite3_column_int64(st, 11) > 0 ? "true" : "false");
    add_str(b, col(st, 12));
    vg_sbuf_addc(b, '}');
}

/* GET /api/v1/vulns/hosts?offset=&limit= — the tenant's hosts, most exposed first. */
static int h_hosts(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_vuln *sv = ctx;
    int64_t off, lim;
    if (int_param(req, resp, "offset", 0, INT32_MAX, &off) != VG_OK ||
        int_param(req, resp, "limit", 100, LIST_MAX, &lim) != VG_OK) {
        return VG_EINVAL;
    }
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *st = prep(sv, "SELECT " HOST_COLS " FROM hosts WHERE tenant = ? ORDER BY kev "
                                "DESC, critical DESC, high DESC, findings DESC, host LIMIT ? "
                                "OFFSET ?");
    int rc = st ? VG_OK : VG_EIO, k = 0;
    if (rc == VG_OK) {
        sqlite3_bind_text(st, 1, req->tenant, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, lim ? lim : LIST_MAX);
        sqlite3_bind_int64(st, 3, off);
        vg_sbuf_adds(&resp->body, "{\"items\":[");
        while (sqlite3_step(st) == SQLITE_ROW) {
            vg_sbuf_adds(&resp->body, k++ ? "," : "");
            host_json(st, &resp->body);
        }
        vg_sbuf_printf(&resp->body, "],\"offset\":%" PRId64 ",\"limit\":%" PRId64 "}", off,
                       lim ? lim : LIST_MAX);
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sv->mu);
    return rc;
}

static int report_add(const struct vg_vuln_finding *f, void *rep)
{
    return vg_vuln_report_add(rep, f);
}

/* A report of one host in a scanner format, matched now (exactly what `vigie vuln scan`
   writes for a local inventory). Caller holds nothing. */
static int host_report(struct vg_server_vuln *sv, const struct vg_api_req *req,
                       struct vg_api_resp *resp, struct hostinv *h, enum vg_vuln_report_fmt fmt)
{
    char err[512] = "";
    struct vg_vuln_report *rep = NULL;
    struct vg_vuln_report_meta meta = {VG_VERSION, h->host, "var/lib/dpkg/status",
                                       h->eco[0] ? h->eco : NULL};
    int rc = (h->a = vg_arena_create(0)) ? VG_OK : VG_ENOMEM;
    if (rc == VG_OK) {
        pthread_mutex_lock(&sv->mu);
        rc = load_inv(sv, h);
        pthread_mutex_unlock(&sv->mu);
    }
    rc = rc == VG_OK ? vg_vuln_report_create(&meta, &rep) : rc;
    for (size_t i = 0; rc == VG_OK && i < h->n; i++) {
        rc = vg_vuln_report_add_pkg(rep, &h->pkgs[i]);
    }
    if (rc == VG_OK) {
        pthread_mutex_lock(&sv->adb_mu);
        rc = vg_vuln_match(sv->adb, h->pkgs, h->n, NULL, report_add, rep, err, sizeof(err));
        pthread_mutex_unlock(&sv->adb_mu);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = rc == VG_OK ? open_memstream(&text, &len) : NULL;
    if (rc == VG_OK && (!mem || vg_vuln_report_write(rep, fmt, mem) != VG_OK)) {
        rc = VG_EIO;
    }
    if (mem) {
        fclose(mem);
    }
    if (rc == VG_OK) {
        vg_sbuf_add(&resp->body, text, len);
        resp->content_type = fmt == VG_VULN_REPORT_TABLE       ? "text/plain; charset=utf-8"
                             : fmt == VG_VULN_REPORT_SARIF     ? "application/sarif+json"
                             : fmt == VG_VULN_REPORT_CYCLONEDX ? "application/vnd.cyclonedx+json"
                                                               : "application/json";
    } else {
        vg_api_resp_error(resp, 500, "internal", "report: %s", *err ? err : vg_strerror(rc));
    }
    (void)req;
    free(text);
    vg_vuln_report_destroy(rep);
    vg_free(h->pkgs);
    vg_arena_destroy(h->a);
    return rc;
}

/* GET /api/v1/vulns/hosts/{host}[?format=json|sarif|cyclonedx|table] — the host and its
   findings; with format, the scanner's report of that host. */
static int h_host(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_vuln *sv = ctx;
    const char *fmtname = opt(req, "format");
    enum vg_vuln_report_fmt fmt = VG_VULN_REPORT_JSON;
    struct hostinv h;
    memset(&h, 0, sizeof(h));
    if (fmtname && vg_vuln_report_fmt_parse(fmtname, &fmt) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "format: expected json, sarif, cyclonedx or table, got '%.32s'", fmtname);
        return VG_EINVAL;
    }
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *st = prep(sv, "SELECT " HOST_COLS " FROM hosts WHERE tenant = ?1 AND "
                                "(host = ?2 OR name = ?2) ORDER BY host = ?2 DESC LIMIT 1");
    int rc = st ? VG_OK : VG_EIO;
    bool found = false;
    if (rc == VG_OK) {
        sqlite3_bind_text(st, 1, req->tenant, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, req->param, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    if (found) {
        snprintf(h.tenant, sizeof(h.tenant), "%s", req->tenant);
        snprintf(h.host, sizeof(h.host), "%s", col(st, 0));
        snprintf(h.eco, sizeof(h.eco), "%s", col(st, 3) ? col(st, 3) : "");
        if (!fmtname) {
            vg_sbuf_adds(&resp->body, "{\"host\":");
            host_json(st, &resp->body);
        }
    }
    sqlite3_finalize(st);
    if (found && !fmtname) {
        st = prep(sv, "SELECT f.host, h.name, f.first_seen, f.doc FROM findings f LEFT JOIN "
                      "hosts h ON h.tenant = f.tenant AND h.host = f.host WHERE f.tenant = ? AND "
                      "f.host = ? ORDER BY f.kev DESC, f.severity DESC, coalesce(f.epss, -1) "
                      "DESC, coalesce(f.cvss, -1) DESC, f.id, f.package");
        rc = st ? VG_OK : VG_EIO;
        if (rc == VG_OK) {
            sqlite3_bind_text(st, 1, h.tenant, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, h.host, -1, SQLITE_STATIC);
            vg_sbuf_adds(&resp->body, ",\"findings\":[");
            rc = findings_json(st, &resp->body);
            vg_sbuf_adds(&resp->body, "]}");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&sv->mu);
    if (rc == VG_OK && !found) {
        vg_api_resp_error(resp, 404, "not_found", "no host '%.64s' has sent an inventory",
                          req->param);
        return VG_ENOENT;
    }
    if (rc == VG_OK && fmtname) {
        return host_report(sv, req, resp, &h, fmt);
    }
    return rc;
}

/* GET /api/v1/vulns/db — the advisory database: sources, dates, counts. */
static int h_db(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_vuln *sv = ctx;
    char err[512];
    (void)req;
    pthread_mutex_lock(&sv->adb_mu);
    int rc = vg_vuln_db_status_json(sv->adb, &resp->body, err, sizeof(err));
    pthread_mutex_unlock(&sv->adb_mu);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 500, "internal", "%s", err);
    }
    return rc;
}

static void audit(struct vg_server_vuln *sv, const struct vg_api_req *req, const char *action,
                  const char *object, const char *detail)
{
    char actor[160], err[256];
    if (!sv->audit) {
        return;
    }
    snprintf(actor, sizeof(actor), "%s:%s", req->who.kind == VG_API_AUTH_TOKEN ? "token" : "user",
             req->who.name);
    struct vg_audit_rec r = {req->tenant, actor, action, object, detail};
    if (vg_audit_append(sv->audit, &r, NULL, err, sizeof(err)) != VG_OK) {
        VG_ERR(COMP, "audit log: %s", err);
    }
}

/* POST /api/v1/vulns/db/import?name=FILE — body: an advisory file (OSV JSON/YAML/zip, Debian
   tracker JSON, EPSS CSV, KEV JSON; name's extension and the content select the format).
   The database is shared by every tenant: admins of tenant "default" only. */
static int h_import(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_vuln *sv = ctx;
    const char *name = opt(req, "name");
    struct vg_vuln_import_report rep;
    char err[512] = "";
    if (strcmp(req->who.tenant, "default") != 0) {
        vg_api_resp_error(resp, 403, "forbidden",
                          "the advisory database is shared by every tenant: only admins of "
                          "tenant \"default\" may change it");
        return VG_EDENIED;
    }
    if (!req->body_len) {
        vg_api_resp_error(resp, 400, "bad_request", "the body (the advisory file) is empty");
        return VG_EINVAL;
    }
    memset(&rep, 0, sizeof(rep));
    pthread_mutex_lock(&sv->adb_mu);
    int rc = vg_vuln_db_import_mem(sv->adb, name ? name : "request-body", req->body, req->body_len,
                                   &rep, err, sizeof(err));
    pthread_mutex_unlock(&sv->adb_mu);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, rc == VG_EINVAL || rc == VG_ELIMIT ? 400 : 500,
                          rc == VG_EINVAL || rc == VG_ELIMIT ? "bad_request" : "internal",
                          "import: %s", err);
        return rc;
    }
    check_advisories(sv); /* every host is matched again, starting now */
    kick(sv);
    struct vg_sbuf *b = &resp->body;
    vg_sbuf_adds(b, "{\"source\":");
    add_str(b, rep.source);
    vg_sbuf_adds(b, ",\"format\":");
    add_str(b, rep.format);
    vg_sbuf_printf(b, ",\"files\":%zu,\"records\":%zu,\"affected\":%zu,\"skipped\":%zu", rep.files,
                   rep.records, rep.affected, rep.skipped);
    if (rep.skipped) {
        vg_sbuf_adds(b, ",\"first_error\":");
        add_str(b, rep.first_error);
    }
    vg_sbuf_addc(b, '}');
    VG_INFO(COMP, "%s imported %s (%s) through the API: %zu records", req->who.name,
            name ? name : "a request body", rep.format, rep.records);
    audit(sv, req, "vuln.db.import", rep.source, b->p);
    return VG_OK;
}

/* POST /api/v1/vulns/rescan[?host=] — match the tenant's hosts (or one) again now. */
static int h_rescan(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_vuln *sv = ctx;
    const char *host = opt(req, "host");
    long n = vg_server_vuln_rescan(sv, req->tenant, host);
    if (n < 0) {
        vg_api_resp_error(resp, 500, "internal", "rescan: the host database failed");
        return VG_EIO;
    }
    if (host && !n) {
        vg_api_resp_error(resp, 404, "not_found", "no host '%.64s' has sent an inventory", host);
        return VG_ENOENT;
    }
    vg_sbuf_printf(&resp->body, "{\"hosts\":%ld}", n);
    audit(sv, req, "vuln.rescan", host ? host : "*", resp->body.p);
    return VG_OK;
}

static void metrics(void *ctx, struct vg_api_metrics *w)
{
    struct vg_server_vuln *sv = ctx;
    static const struct vg_api_counter c[] = {
        {"vigie_vuln_inventories_total", "full package inventories recorded",
         offsetof(struct vg_server_vuln, inventories)},
        {"vigie_vuln_package_changes_total", "package installs, upgrades and removals recorded",
         offsetof(struct vg_server_vuln, deltas)},
        {"vigie_vuln_inventory_errors_total", "inventory events that could not be recorded",
         offsetof(struct vg_server_vuln, observe_errors)},
        {"vigie_vuln_scans_total", "hosts matched against the advisory database",
         offsetof(struct vg_server_vuln, scans)},
        {"vigie_vuln_scan_failures_total", "host matches that failed",
         offsetof(struct vg_server_vuln, scan_failures)},
        {"vigie_vuln_findings_new_total", "findings seen for the first time",
         offsetof(struct vg_server_vuln, found)},
        {"vigie_vuln_findings_resolved_total", "findings gone (package fixed or removed)",
         offsetof(struct vg_server_vuln, gone)},
        {"vigie_vuln_events_total", "new findings appended to the journal as events",
         offsetof(struct vg_server_vuln, events)},
        {"vigie_vuln_events_dropped_total", "new findings not appended (journal full)",
         offsetof(struct vg_server_vuln, events_dropped)},
    };
    vg_api_metrics_counters(w, c, VG_ARRAY_LEN(c), sv);
    pthread_mutex_lock(&sv->mu);
    sqlite3_stmt *st = prep(sv, "SELECT (SELECT count(*) FROM hosts), (SELECT count(*) FROM "
                                "findings), (SELECT count(*) FROM hosts WHERE dirty > 0)");
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        vg_api_metrics_family(w, "vigie_vuln_hosts", "gauge", "hosts with an inventory");
        vg_api_metrics_value(w, "vigie_vuln_hosts", NULL, (double)sqlite3_column_int64(st, 0));
        vg_api_metrics_family(w, "vigie_vuln_findings", "gauge", "open findings, all hosts");
        vg_api_metrics_value(w, "vigie_vuln_findings", NULL, (double)sqlite3_column_int64(st, 1));
        vg_api_metrics_family(w, "vigie_vuln_hosts_pending", "gauge",
                              "hosts waiting to be matched");
        vg_api_metrics_value(w, "vigie_vuln_hosts_pending", NULL,
                             (double)sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&sv->mu);
}

int vg_server_vuln_api_register(struct vg_server_vuln *sv, struct vg_api *api)
{
    static const struct {
        const char *method, *path;
        int role;
        vg_api_handler fn;
    } r[] = {
        {"GET", "/api/v1/vulns", VG_API_ROLE_READ, h_findings},
        {"GET", "/api/v1/vulns/hosts", VG_API_ROLE_READ, h_hosts},
        {"GET", "/api/v1/vulns/hosts/{host}", VG_API_ROLE_READ, h_host},
        {"GET", "/api/v1/vulns/db", VG_API_ROLE_READ, h_db},
        {"POST", "/api/v1/vulns/db/import", VG_API_ROLE_ADMIN, h_import},
        {"POST", "/api/v1/vulns/rescan", VG_API_ROLE_ANALYST, h_rescan},
    };
    int rc = VG_OK;
    for (size_t i = 0; sv && rc == VG_OK && i < VG_ARRAY_LEN(r); i++) {
        rc = vg_api_route(api, r[i].method, r[i].path, r[i].role, r[i].fn, sv);
    }
    return rc == VG_OK && sv ? vg_api_metrics_add(api, metrics, sv) : rc;
}
