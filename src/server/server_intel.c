/*
 * server_intel.c — threat intelligence in `vigie server` (issue 7): the indicator store
 * (src/intel/intel_db.h) opened at intel.db, the snapshot the pipeline workers match every
 * event against, the /api/v1/intel routes and the lookup behind the intel.lookup action.
 *
 * Where it sits: the pipeline workers (server_pipeline.c) take a reference on the current
 * snapshot once per batch (vg_server_intel_acquire) and call vg_server_intel_match on each
 * decoded event, right after the Sigma rules; each hit comes back as the parts of a Vigie
 * alert ("intel:<type>", title, level, tags, ATT&CK, threat.indicator.* context) that the
 * writer stores like any other alert (triage dedups downstream).
 *
 * Generations: a reload thread checks vg_intel_db_generation() every intel.reload seconds
 * (the CLI `vigie intel import` may change the store from another process) and, when it
 * changed, loads the new snapshot off the hot path and swaps the pointer; workers holding
 * the old one finish their batch with it and drop their reference. An import through the
 * API reloads at once, before answering, so the caller's next events see it.
 *
 * Locks: db_mu serialises every use of the store handle (imports, stats, loads); snap_mu
 * guards only the pointer swap and the reference increment, so matching never waits for a
 * load or an import.
 */
#include "server/server_int.h"

#include "api/api.h"
#include "audit/audit.h"
#include "intel/intel_db.h"
#include "intel/intel_taxii.h"
#include "sigma/sigma.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define SEARCH_MAX_LIMIT 1000
#define TITLE_VALUE_MAX  200

struct vg_server_intel {
    pthread_mutex_t db_mu; /* the store handle (single-threaded) and gen */
    struct vg_intel_db *db;
    uint64_t gen; /* generation of the snapshot loaded last */
    pthread_mutex_t snap_mu;
    struct vg_intel_snap *snap; /* current snapshot (a reference), NULL before the first load */
    unsigned match_flags;
    unsigned min_confidence;
    int64_t reload_s;
    pthread_t th;
    bool running, stopping;
    pthread_mutex_t th_mu;
    pthread_cond_t th_cond;
    atomic_uint_fast64_t hits, below_confidence, reloads, reload_failures;
    /* scheduled TAXII pulls: their own store handle (imports serialise on the store's lock)
     * and thread, so a slow TAXII server delays neither reloads nor the API */
    struct taxii_feed *feeds;
    size_t nfeeds;
    int64_t taxii_interval_s;
    char *taxii_user, *taxii_password, *taxii_token, *taxii_ca, *dir;
    pthread_t taxii_th;
    bool taxii_running;
    atomic_uint_fast64_t taxii_pulls, taxii_failures;
    struct vg_audit *audit; /* every change of the store is recorded (NULL: no audit log) */
};

struct taxii_feed {
    char *api_root, *collection, *source;
    int64_t due; /* CLOCK_MONOTONIC seconds of the next pull */
};

/* ---------------------------------------------------------------- generations */

/* Load the store's current generation and swap it in (caller holds db_mu). */
static int reload_locked(struct vg_server_intel *si, bool force)
{
    char err[512];
    uint64_t gen = vg_intel_db_generation(si->db);
    if (!force && gen == si->gen && si->snap) {
        return VG_OK;
    }
    struct vg_intel_snap *next = NULL;
    int rc = vg_intel_db_load(si->db, &next, err, sizeof(err));
    if (rc != VG_OK) {
        atomic_fetch_add(&si->reload_failures, 1);
        VG_ERR("intel", "cannot load generation %" PRIu64 " (the previous one stays): %s", gen,
               err);
        return rc;
    }
    pthread_mutex_lock(&si->snap_mu);
    struct vg_intel_snap *old = si->snap;
    si->snap = next;
    pthread_mutex_unlock(&si->snap_mu);
    vg_intel_snap_unref(old); /* freed once the last batch using it ends */
    si->gen = vg_intel_snap_generation(next);
    atomic_fetch_add(&si->reloads, 1);
    VG_INFO("intel", "generation %" PRIu64 " loaded: %zu indicators", si->gen,
            vg_intel_snap_count(next));
    return VG_OK;
}

static void *reload_main(void *arg)
{
    struct vg_server_intel *si = arg;
    pthread_mutex_lock(&si->th_mu);
    while (!si->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += si->reload_s;
        pthread_cond_timedwait(&si->th_cond, &si->th_mu, &ts);
        if (si->stopping) {
            break;
        }
        pthread_mutex_unlock(&si->th_mu);
        pthread_mutex_lock(&si->db_mu);
        reload_locked(si, false);
        pthread_mutex_unlock(&si->db_mu);
        pthread_mutex_lock(&si->th_mu);
    }
    pthread_mutex_unlock(&si->th_mu);
    return NULL;
}

/* ---------------------------------------------------------------- TAXII schedule */

static void audit(struct vg_server_intel *si, const struct vg_api_req *req, const char *action,
                  const char *source, const char *detail);

static int64_t mono_s(void)
{
    return (int64_t)(vg_clock_ns() / 1000000000u);
}

/* One pull of a feed (its own store handle); logs the outcome, never the secrets. */
static void taxii_pull(struct vg_server_intel *si, struct vg_intel_db *db, struct taxii_feed *f)
{
    struct vg_intel_taxii_opts o = {.api_root = f->api_root,
                                    .collection = f->collection,
                                    .source = f->source,
                                    .user = si->taxii_user,
                                    .password = si->taxii_password,
                                    .token = si->taxii_token,
                                    .ca_file = si->taxii_ca};
    struct vg_intel_import_report rep;
    uint32_t pages = 0;
    uint64_t objects = 0;
    char err[512];
    int rc = vg_intel_taxii_pull(db, &o, &rep, &pages, &objects, err, sizeof(err));
    atomic_fetch_add(&si->taxii_pulls, 1);
    if (rc != VG_OK) {
        atomic_fetch_add(&si->taxii_failures, 1);
        VG_WARN("intel", "TAXII %s collection %s: %s (next try in %" PRId64 " s)", f->api_root,
                f->collection, err, si->taxii_interval_s < 300 ? si->taxii_interval_s : 300);
        f->due = mono_s() + (si->taxii_interval_s < 300 ? si->taxii_interval_s : 300);
        return;
    }
    VG_INFO("intel",
            "TAXII %s collection %s: %u pages, %" PRIu64 " objects; source %s now %" PRIu64
            " indicators (generation %" PRIu64 ")",
            f->api_root, f->collection, pages, objects, rep.source, rep.indicators, rep.generation);
    struct vg_sbuf d = VG_SBUF_INIT;
    vg_sbuf_adds(&d, "{\"api_root\":");
    vg_sbuf_add_json_str(&d, f->api_root, strlen(f->api_root));
    vg_sbuf_adds(&d, ",\"collection\":");
    vg_sbuf_add_json_str(&d, f->collection, strlen(f->collection));
    vg_sbuf_printf(&d, ",\"pages\":%u,\"objects\":%" PRIu64 ",\"indicators\":%" PRIu64 "}", pages,
                   objects, rep.indicators);
    audit(si, NULL, "intel.taxii.pull", rep.source, d.p);
    vg_sbuf_fini(&d);
    f->due = mono_s() + si->taxii_interval_s;
}

static void *taxii_main(void *arg)
{
    struct vg_server_intel *si = arg;
    struct vg_intel_db *db = NULL;
    char err[512];
    if (vg_intel_db_open(si->dir, true, &db, err, sizeof(err)) != VG_OK) {
        VG_ERR("intel", "TAXII schedule off: %s", err);
        return NULL;
    }
    pthread_mutex_lock(&si->th_mu);
    while (!si->stopping) {
        int64_t now = mono_s(), next = now + 3600;
        for (size_t i = 0; i < si->nfeeds && !si->stopping; i++) {
            if (si->feeds[i].due <= now) {
                pthread_mutex_unlock(&si->th_mu);
                taxii_pull(si, db, &si->feeds[i]);
                pthread_mutex_lock(&si->th_mu);
            }
            next = si->feeds[i].due < next ? si->feeds[i].due : next;
        }
        if (si->stopping) {
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += next > now ? next - now : 1;
        pthread_cond_timedwait(&si->th_cond, &si->th_mu, &ts);
    }
    pthread_mutex_unlock(&si->th_mu);
    vg_intel_db_close(db);
    return NULL;
}

/* A secret from a file (first line); NULL and err set when unreadable. */
static int read_secret(const char *path, char **out, char *err, size_t errsz)
{
    size_t len = 0;
    *out = NULL;
    if (!path || !*path) {
        return VG_OK;
    }
    if (vg_file_read(path, 64 * 1024, out, &len) != VG_OK) {
        snprintf(err, errsz, "intel.taxii: cannot read %s", path);
        return VG_EIO;
    }
    (*out)[strcspn(*out, "\r\n")] = 0;
    return VG_OK;
}

/* intel.taxii entries: "API_ROOT COLLECTION [SOURCE]". */
static int taxii_conf(struct vg_server_intel *si, const struct vg_server_conf *c, const char *dir,
                      char *err, size_t errsz)
{
    int rc;
    if (!c->intel_taxii.n) {
        return VG_OK;
    }
    si->feeds = vg_calloc(c->intel_taxii.n, sizeof(*si->feeds));
    si->dir = vg_strdup(dir);
    if (!si->feeds || !si->dir) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < c->intel_taxii.n; i++) {
        char a[1024], b[256], src[128] = "";
        int k = sscanf(c->intel_taxii.v[i], "%1023s %255s %127s", a, b, src);
        if (k < 2 || (strncmp(a, "http://", 7) != 0 && strncmp(a, "https://", 8) != 0)) {
            snprintf(err, errsz,
                     "intel.taxii[%zu]: expected \"API_ROOT COLLECTION [SOURCE]\" with an http(s) "
                     "API root, got \"%s\"",
                     i, c->intel_taxii.v[i]);
            return VG_EINVAL;
        }
        struct taxii_feed *f = &si->feeds[si->nfeeds++];
        f->api_root = vg_strdup(a);
        f->collection = vg_strdup(b);
        f->source = k == 3 ? vg_strdup(src) : NULL;
        if (!f->api_root || !f->collection || (k == 3 && !f->source)) {
            return VG_ENOMEM;
        }
    }
    si->taxii_interval_s = c->intel_taxii_interval_s > 0 ? c->intel_taxii_interval_s : 3600;
    if ((c->intel_taxii_user && *c->intel_taxii_user &&
         !(si->taxii_user = vg_strdup(c->intel_taxii_user))) ||
        (c->intel_taxii_ca && *c->intel_taxii_ca &&
         !(si->taxii_ca = vg_strdup(c->intel_taxii_ca)))) {
        return VG_ENOMEM;
    }
    if ((rc = read_secret(c->intel_taxii_password_file, &si->taxii_password, err, errsz)) !=
            VG_OK ||
        (rc = read_secret(c->intel_taxii_token_file, &si->taxii_token, err, errsz)) != VG_OK) {
        return rc;
    }
    return VG_OK;
}

static void taxii_free(struct vg_server_intel *si)
{
    for (size_t i = 0; i < si->nfeeds; i++) {
        vg_free(si->feeds[i].api_root);
        vg_free(si->feeds[i].collection);
        vg_free(si->feeds[i].source);
    }
    vg_free(si->feeds);
    vg_free(si->taxii_user);
    if (si->taxii_password) {
        memset(si->taxii_password, 0, strlen(si->taxii_password));
    }
    if (si->taxii_token) {
        memset(si->taxii_token, 0, strlen(si->taxii_token));
    }
    vg_free(si->taxii_password);
    vg_free(si->taxii_token);
    vg_free(si->taxii_ca);
    vg_free(si->dir);
}

/* ---------------------------------------------------------------- lifecycle */

static int intel_dir(const struct vg_server_conf *c, char *dir, size_t dirsz, char *err,
                     size_t errsz)
{
    int n = c->intel_db && *c->intel_db ? snprintf(dir, dirsz, "%s", c->intel_db)
                                        : snprintf(dir, dirsz, "%s/intel", c->data_dir);
    if (n < 0 || (size_t)n >= dirsz) {
        snprintf(err, errsz, "intel.db: path too long");
        return VG_EINVAL;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "intel.db: cannot create %s: %s", dir, strerror(errno));
        return VG_EIO;
    }
    return VG_OK;
}

int vg_server_intel_create(const struct vg_server_conf *c, struct vg_server_intel **out, char *err,
                           size_t errsz)
{
    char dir[4096], e[512];
    *out = NULL;
    if (!c->intel_enabled) {
        return VG_OK;
    }
    int rc = intel_dir(c, dir, sizeof(dir), err, errsz);
    struct vg_server_intel *si = rc == VG_OK ? vg_calloc(1, sizeof(*si)) : NULL;
    if (rc != VG_OK || !si) {
        return rc != VG_OK ? rc : VG_ENOMEM;
    }
    pthread_mutex_init(&si->db_mu, NULL);
    pthread_mutex_init(&si->snap_mu, NULL);
    pthread_mutex_init(&si->th_mu, NULL);
    pthread_cond_init(&si->th_cond, NULL);
    si->match_flags = c->intel_warninglisted ? VG_INTEL_MATCH_WARNINGLISTED : 0;
    si->min_confidence = (unsigned)c->intel_min_confidence;
    si->reload_s = c->intel_reload_s > 0 ? c->intel_reload_s : 5;
    rc = vg_intel_db_open(dir, true, &si->db, e, sizeof(e));
    if (rc != VG_OK) {
        snprintf(err, errsz, "intel.db: %s", e);
        goto fail;
    }
    if ((rc = taxii_conf(si, c, dir, err, errsz)) != VG_OK) {
        goto fail;
    }
    /* a store that does not load (logged) leaves matching off until a generation loads:
       detection by rules goes on */
    pthread_mutex_lock(&si->db_mu);
    reload_locked(si, true);
    pthread_mutex_unlock(&si->db_mu);
    *out = si;
    return VG_OK;
fail:
    vg_server_intel_destroy(si);
    return rc;
}

int vg_server_intel_start(struct vg_server_intel *si)
{
    if (!si || si->running) {
        return VG_OK;
    }
    if (pthread_create(&si->th, NULL, reload_main, si) != 0) {
        return VG_ENOMEM;
    }
    si->running = true;
    if (si->nfeeds && pthread_create(&si->taxii_th, NULL, taxii_main, si) == 0) {
        si->taxii_running = true;
    }
    return VG_OK;
}

void vg_server_intel_stop(struct vg_server_intel *si)
{
    if (!si || !si->running) {
        return;
    }
    pthread_mutex_lock(&si->th_mu);
    si->stopping = true;
    pthread_cond_broadcast(&si->th_cond);
    pthread_mutex_unlock(&si->th_mu);
    pthread_join(si->th, NULL);
    if (si->taxii_running) {
        pthread_join(si->taxii_th, NULL);
        si->taxii_running = false;
    }
    si->running = false;
}

void vg_server_intel_destroy(struct vg_server_intel *si)
{
    if (!si) {
        return;
    }
    vg_server_intel_stop(si);
    vg_intel_snap_unref(si->snap);
    vg_intel_db_close(si->db);
    taxii_free(si);
    pthread_mutex_destroy(&si->db_mu);
    pthread_mutex_destroy(&si->snap_mu);
    pthread_mutex_destroy(&si->th_mu);
    pthread_cond_destroy(&si->th_cond);
    vg_free(si);
}

struct vg_intel_snap *vg_server_intel_acquire(struct vg_server_intel *si)
{
    if (!si) {
        return NULL;
    }
    pthread_mutex_lock(&si->snap_mu);
    struct vg_intel_snap *s = si->snap;
    if (s) {
        vg_intel_snap_ref(s);
    }
    pthread_mutex_unlock(&si->snap_mu);
    return s;
}

/* ---------------------------------------------------------------- matching → alerts */

struct match_ud {
    struct vg_server_intel *si;
    const struct vg_intel_snap *snap;
    uint32_t now;
    vg_server_intel_alert_cb cb;
    void *u;
    struct vg_arena *arena;
    struct vg_json_parser *jp;
    struct vg_sbuf desc, tags, attack, ctx, title;
};

static void add_str(struct vg_sbuf *b, const char *s, size_t n)
{
    vg_sbuf_add_json_str(b, s, n);
}

/* A JSON string member's bytes, or NULL. */
static const char *jstr(const struct vg_json *o, const char *key, size_t *n)
{
    const struct vg_json *v = vg_json_get(o, key);
    if (!v || v->type != VG_JSON_STRING) {
        return NULL;
    }
    *n = v->n;
    return v->s;
}

/* "tlp:amber" (any case, "tlp:amber+strict" too) → "AMBER"; 0 when the tag is no TLP. */
static size_t tlp_of(const char *t, size_t n, char *out, size_t outsz)
{
    if (n < 5 || strncasecmp(t, "tlp:", 4) != 0) {
        return 0;
    }
    size_t k = 0;
    for (size_t i = 4; i < n && k + 1 < outsz; i++) {
        char c = t[i];
        out[k++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    out[k] = '\0';
    return k;
}

/* tags: the indicator's own, then "intel", then attack.tNNNN of the related techniques;
   attack: the technique ids. The TLP marking, if a tag gives one, into tlp. */
static void hit_tags(struct match_ud *m, const struct vg_json *d, char *tlp, size_t tlpsz)
{
    const struct vg_json *tags = vg_json_get(d, "tags");
    const struct vg_json *rel = vg_json_get(d, "related");
    vg_sbuf_addc(&m->tags, '[');
    vg_sbuf_addc(&m->attack, '[');
    for (uint32_t i = 0; tags && tags->type == VG_JSON_ARRAY && i < tags->n; i++) {
        const struct vg_json *t = &tags->u.items[i];
        if (t->type == VG_JSON_STRING) {
            vg_sbuf_adds(&m->tags, m->tags.len > 1 ? "," : "");
            add_str(&m->tags, t->s, t->n);
            if (!*tlp) {
                tlp_of(t->s, t->n, tlp, tlpsz);
            }
        }
    }
    vg_sbuf_adds(&m->tags, m->tags.len > 1 ? ",\"intel\"" : "\"intel\"");
    for (uint32_t i = 0; rel && rel->type == VG_JSON_ARRAY && i < rel->n; i++) {
        size_t n = 0;
        const char *x = jstr(&rel->u.items[i], "ext_id", &n);
        if (!x || n < 2 || n > 16 || x[0] != 'T' || x[1] < '0' || x[1] > '9') {
            continue;
        }
        char tag[32] = "attack.t";
        for (size_t k = 1; k < n; k++) {
            tag[7 + k] = (char)(x[k] >= 'A' && x[k] <= 'Z' ? x[k] + 32 : x[k]);
        }
        vg_sbuf_addc(&m->tags, ',');
        add_str(&m->tags, tag, 7 + n);
        vg_sbuf_adds(&m->attack, m->attack.len > 1 ? "," : "");
        add_str(&m->attack, x, n);
    }
    vg_sbuf_addc(&m->tags, ']');
    vg_sbuf_addc(&m->attack, ']');
}

/* Copy member key of d into ctx as "name":value (skipped when absent). */
static void ctx_copy(struct vg_sbuf *b, const char *name, const struct vg_json *d, const char *key)
{
    const struct vg_json *v = vg_json_get(d, key);
    if (!v || v->type == VG_JSON_NULL) {
        return;
    }
    vg_sbuf_addc(b, ',');
    add_str(b, name, strlen(name));
    vg_sbuf_addc(b, ':');
    vg_json_write(v, b);
}

static void hit_context(struct match_ud *m, const struct vg_intel_match *h, const struct vg_json *d,
                        const char *tlp)
{
    struct vg_sbuf *b = &m->ctx;
    vg_sbuf_adds(b, "\"threat.indicator.matched.field\":");
    add_str(b, h->field, strlen(h->field));
    vg_sbuf_adds(b, ",\"threat.indicator.matched.atomic\":");
    add_str(b, h->value, h->value_len);
    ctx_copy(b, "threat.indicator.type", d, "type");
    ctx_copy(b, "threat.indicator.provider", d, "source");
    ctx_copy(b, "threat.feed.name", d, "source");
    ctx_copy(b, "threat.indicator.confidence", d, "confidence_now");
    ctx_copy(b, "threat.indicator.first_seen", d, "first_seen");
    ctx_copy(b, "threat.indicator.last_seen", d, "last_seen");
    ctx_copy(b, "threat.indicator.description", d, "name");
    ctx_copy(b, "threat.indicator.reference", d, "ref");
    if (*tlp) {
        vg_sbuf_adds(b, ",\"threat.indicator.marking.tlp\":");
        add_str(b, tlp, strlen(tlp));
    }
    vg_sbuf_adds(b, ",\"vigie.intel\":");
    vg_sbuf_add(b, m->desc.p, m->desc.len);
}

static int level_of(int64_t conf)
{
    return conf >= 80 ? VG_LEVEL_HIGH : conf >= 50 ? VG_LEVEL_MEDIUM : VG_LEVEL_LOW;
}

static int on_hit(void *u, const struct vg_intel_match *h)
{
    struct match_ud *m = u;
    struct vg_json *d = NULL;
    char perr[128], tlp[32] = "", rid[48];
    size_t used = 0, tn = 0, sn = 0;
    if (!m->arena || !m->jp) { /* made at the first hit: most events have none */
        m->arena = m->arena ? m->arena : vg_arena_create(4096);
        m->jp = m->jp ? m->jp : vg_json_parser_create(NULL);
        if (!m->arena || !m->jp) {
            return VG_ENOMEM;
        }
    }
    m->desc.len = m->tags.len = m->attack.len = m->ctx.len = m->title.len = 0;
    vg_arena_reset(m->arena);
    vg_intel_snap_describe(m->snap, &h->hit, m->now, &m->desc);
    if (m->desc.err || vg_json_parse(m->jp, m->arena, m->desc.p, m->desc.len, &used, &d, perr,
                                     sizeof(perr)) != VG_OK) {
        return m->desc.err ? VG_ENOMEM : VG_OK; /* never happens: skip rather than stop */
    }
    const struct vg_json *cv = vg_json_get(d, "confidence_now");
    int64_t conf = cv && cv->type == VG_JSON_NUMBER ? cv->u.i : 0;
    if (conf < (int64_t)m->si->min_confidence) {
        atomic_fetch_add(&m->si->below_confidence, 1);
        return VG_OK;
    }
    const char *type = jstr(d, "type", &tn);
    const char *src = jstr(d, "source", &sn);
    snprintf(rid, sizeof(rid), "intel:%.*s", type ? (int)VG_MIN(tn, 32) : 7,
             type ? type : "unknown");
    hit_tags(m, d, tlp, sizeof(tlp));
    hit_context(m, h, d, tlp);
    vg_sbuf_printf(&m->title, "Threat intel match: %s %.*s%s (%.*s)", h->field,
                   (int)VG_MIN(h->value_len, TITLE_VALUE_MAX), h->value,
                   h->value_len > TITLE_VALUE_MAX ? "…" : "", src ? (int)VG_MIN(sn, 64) : 1,
                   src ? src : "?");
    if (m->tags.err || m->attack.err || m->ctx.err || m->title.err) {
        return VG_ENOMEM;
    }
    atomic_fetch_add(&m->si->hits, 1);
    struct vg_server_intel_alert a = {rid,       m->title.p,  level_of(conf),
                                      m->tags.p, m->attack.p, m->ctx.p};
    return m->cb(m->u, &a);
}

int vg_server_intel_match(struct vg_server_intel *si, const struct vg_intel_snap *snap,
                          const struct vg_event *ev, vg_server_intel_alert_cb cb, void *u)
{
    if (!si || !snap || !vg_intel_snap_count(snap)) {
        return VG_OK;
    }
    struct match_ud m = {.si = si, .snap = snap, .cb = cb, .u = u};
    m.now = (uint32_t)(vg_time_now() / 1000000000);
    int rc = vg_intel_snap_match_event(snap, ev, m.now, si->match_flags, on_hit, &m);
    vg_arena_destroy(m.arena);
    vg_json_parser_destroy(m.jp);
    vg_sbuf_fini(&m.desc);
    vg_sbuf_fini(&m.tags);
    vg_sbuf_fini(&m.attack);
    vg_sbuf_fini(&m.ctx);
    vg_sbuf_fini(&m.title);
    return rc < 0 ? rc : VG_OK;
}

/* ---------------------------------------------------------------- lookups */

/* A type parameter: a store type name, or "ip" / "hash" / "" (guess) and "mail". */
static int parse_type(const char *t, enum vg_intel_type *out)
{
    *out = VG_INTEL_TYPE_COUNT;
    if (!t || !*t || !strcmp(t, "ip") || !strcmp(t, "hash") || !strcmp(t, "any")) {
        return VG_OK;
    }
    if (!strcmp(t, "mail")) {
        *out = VG_INTEL_EMAIL;
        return VG_OK;
    }
    return vg_intel_type_parse(t, strlen(t), out);
}

/*
 * Look value up in the current snapshot: *found, and the indicator described into ind
 * when found. VG_OK, VG_EINVAL (bad type or value: err says why).
 */
static int lookup(struct vg_server_intel *si, const char *value, const char *type, bool *found,
                  struct vg_sbuf *ind, char *err, size_t errsz)
{
    enum vg_intel_type t;
    *found = false;
    if (parse_type(type, &t) != VG_OK) {
        snprintf(err, errsz, "type: unknown indicator type '%.32s'", type);
        return VG_EINVAL;
    }
    struct vg_intel_snap *s = vg_server_intel_acquire(si);
    struct vg_intel_hit hit;
    uint32_t now = (uint32_t)(vg_time_now() / 1000000000);
    int rc = s ? vg_intel_snap_match_value(s, t, value, strlen(value), now, si->match_flags, &hit)
               : VG_ENOENT;
    if (rc == VG_OK) {
        *found = true;
        vg_intel_snap_describe(s, &hit, now, ind);
    } else if (rc == VG_ENOENT) {
        rc = VG_OK;
    } else {
        snprintf(err, errsz, "value: '%.64s' is not a valid %s", value,
                 t == VG_INTEL_TYPE_COUNT ? "indicator" : vg_intel_type_name(t));
    }
    vg_intel_snap_unref(s);
    return rc;
}

int vg_server_intel_lookup(void *ctx, const char *value, const char *type, struct vg_sbuf *out,
                           char *err, size_t errsz)
{
    struct vg_sbuf ind = VG_SBUF_INIT;
    bool found = false;
    int rc = lookup(ctx, value, type, &found, &ind, err, errsz);
    if (rc == VG_OK) {
        vg_sbuf_printf(out, "{\"found\":%s", found ? "true" : "false");
        if (found) {
            vg_sbuf_adds(out, ",\"indicator\":");
            vg_sbuf_add(out, ind.p, ind.len);
        }
        vg_sbuf_addc(out, '}');
        rc = out->err || ind.err ? VG_ENOMEM : VG_OK;
    }
    vg_sbuf_fini(&ind);
    return rc;
}

/* ---------------------------------------------------------------- REST: reads */

static int size_param(const struct vg_api_req *req, struct vg_api_resp *resp, const char *key,
                      int64_t def, int64_t max, size_t *out)
{
    const char *v = vg_api_query(req, key);
    int64_t x = def;
    if (v && *v && (vg_parse_i64(v, strlen(v), &x) != VG_OK || x < 0 || x > max)) {
        vg_api_resp_error(resp, 400, "bad_request", "%s: expected an integer in [0, %" PRId64 "]",
                          key, max);
        return VG_EINVAL;
    }
    *out = (size_t)x;
    return VG_OK;
}

static int json_item(void *u, const char *json, size_t len)
{
    struct vg_sbuf *b = u;
    if (b->err) {
        return VG_ENOMEM;
    }
    vg_sbuf_adds(b, b->p[b->len - 1] == '[' ? "" : ",");
    vg_sbuf_add(b, json, len);
    return b->err ? VG_ENOMEM : 0;
}

static int h_stats(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    (void)req;
    struct vg_server_intel *si = ctx;
    char err[512];
    pthread_mutex_lock(&si->db_mu);
    int rc = vg_intel_db_stats_json(si->db, (uint32_t)(vg_time_now() / 1000000000), &resp->body,
                                    err, sizeof(err));
    pthread_mutex_unlock(&si->db_mu);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 500, "internal", "intel stats: %s", err);
    }
    return rc;
}

/* A page of search results: offset and limit (default 100) from the query, the snapshot,
 * and the {"items":[…],"offset","limit","count"} frame around what list() writes. */
struct page {
    size_t off, lim;
    struct vg_intel_snap *s;
};

static int page_open(struct vg_server_intel *si, const struct vg_api_req *req,
                     struct vg_api_resp *resp, struct page *pg)
{
    if (size_param(req, resp, "offset", 0, INT64_MAX / 2, &pg->off) != VG_OK ||
        size_param(req, resp, "limit", 100, SEARCH_MAX_LIMIT, &pg->lim) != VG_OK) {
        return VG_EINVAL;
    }
    pg->lim = pg->lim ? pg->lim : SEARCH_MAX_LIMIT;
    pg->s = vg_server_intel_acquire(si);
    vg_sbuf_adds(&resp->body, "{\"items\":[");
    return VG_OK;
}

static int page_close(struct vg_api_resp *resp, struct page *pg, long n)
{
    vg_intel_snap_unref(pg->s);
    vg_sbuf_printf(&resp->body, "],\"offset\":%zu,\"limit\":%zu,\"count\":%ld}", pg->off, pg->lim,
                   n < 0 ? 0 : n);
    return n < 0 || resp->body.err ? VG_ENOMEM : VG_OK;
}

/* GET /api/v1/intel/indicators?q=&type=&source=&offset=&limit= (limit default 100). */
static int h_indicators(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *q = vg_api_query(req, "q"), *src = vg_api_query(req, "source");
    const char *type = vg_api_query(req, "type");
    enum vg_intel_type t;
    struct page pg;
    if (parse_type(type, &t) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request", "type: unknown indicator type '%.32s'", type);
        return VG_EINVAL;
    }
    if (page_open(ctx, req, resp, &pg) != VG_OK) {
        return VG_EINVAL;
    }
    long n = pg.s ? vg_intel_snap_search(pg.s, q, t, src && *src ? src : NULL,
                                         (uint32_t)(vg_time_now() / 1000000000), pg.off, pg.lim,
                                         json_item, &resp->body)
                  : 0;
    return page_close(resp, &pg, n);
}

/* GET /api/v1/intel/objects?q=&type=&offset=&limit= */
static int h_objects(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *q = vg_api_query(req, "q"), *type = vg_api_query(req, "type");
    struct page pg;
    if (page_open(ctx, req, resp, &pg) != VG_OK) {
        return VG_EINVAL;
    }
    long n = pg.s ? vg_intel_snap_objects(pg.s, q, type && *type ? type : NULL, pg.off, pg.lim,
                                          json_item, &resp->body)
                  : 0;
    return page_close(resp, &pg, n);
}

/* GET /api/v1/intel/lookup?value=&type= — the indicator, or 404 {"found":false}. */
static int h_lookup(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *value = vg_api_query(req, "value");
    char err[256];
    bool found = false;
    if (!value || !*value) {
        vg_api_resp_error(resp, 400, "bad_request", "value: required");
        return VG_EINVAL;
    }
    struct vg_sbuf ind = VG_SBUF_INIT;
    int rc = lookup(ctx, value, vg_api_query(req, "type"), &found, &ind, err, sizeof(err));
    if (rc == VG_EINVAL) {
        vg_api_resp_error(resp, 400, "bad_request", "%s", err);
    } else if (rc == VG_OK && !found) {
        resp->status = 404;
        vg_sbuf_adds(&resp->body, "{\"found\":false,\"error\":{\"code\":\"not_found\","
                                  "\"message\":\"no live indicator matches this value\"}}");
    } else if (rc == VG_OK) {
        vg_sbuf_adds(&resp->body, "{\"found\":true,\"indicator\":");
        vg_sbuf_add(&resp->body, ind.p, ind.len);
        vg_sbuf_addc(&resp->body, '}');
    }
    vg_sbuf_fini(&ind);
    return rc;
}

/* ---------------------------------------------------------------- REST: changes */

static const char *const reject_names[VG_INTEL_REJ_COUNT] = {
    "malformed", "compound", "unsupported", "not_ids", "revoked",
};

static void report_json(const struct vg_intel_import_report *r, struct vg_sbuf *b)
{
    vg_sbuf_adds(b, "{\"source\":");
    add_str(b, r->source, strnlen(r->source, sizeof(r->source)));
    vg_sbuf_printf(b,
                   ",\"format\":\"%s\",\"generation\":%" PRIu64 ",\"indicators\":%" PRIu64
                   ",\"duplicates\":%" PRIu64 ",\"warninglisted\":%" PRIu64 ",\"expired\":%" PRIu64
                   ",\"objects\":%" PRIu64 ",\"relationships\":%" PRIu64
                   ",\"seconds\":%.3f,\"by_type\":{",
                   vg_intel_format_name(r->format), r->generation, r->indicators, r->duplicates,
                   r->warninglisted, r->expired, r->objects, r->relationships, r->seconds);
    bool first = true;
    for (int t = 0; t < VG_INTEL_TYPE_COUNT; t++) {
        if (r->by_type[t]) {
            vg_sbuf_printf(b, "%s\"%s\":%" PRIu64, first ? "" : ",",
                           vg_intel_type_name((enum vg_intel_type)t), r->by_type[t]);
            first = false;
        }
    }
    vg_sbuf_adds(b, "},\"rejected\":{");
    first = true;
    for (int k = 0; k < VG_INTEL_REJ_COUNT; k++) {
        if (r->rejected[k]) {
            vg_sbuf_printf(b, "%s\"%s\":{\"count\":%" PRIu64 ",\"first\":", first ? "" : ",",
                           reject_names[k], r->rejected[k]);
            add_str(b, r->first_reject[k], strnlen(r->first_reject[k], sizeof(r->first_reject[k])));
            vg_sbuf_addc(b, '}');
            first = false;
        }
    }
    vg_sbuf_adds(b, "}}");
}

/* The store is global: only principals of the default tenant may change it. */
static bool may_change(const struct vg_api_req *req, struct vg_api_resp *resp)
{
    if (req->who.tenant && strcmp(req->who.tenant, "default") != 0) {
        vg_api_resp_error(resp, 403, "forbidden",
                          "threat intelligence is shared by every tenant: only principals of "
                          "tenant \"default\" may change it");
        return false;
    }
    return true;
}

static bool source_name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return s[0] != '.';
}

/* POST /api/v1/intel/import?source=NAME&format=stix|misp|csv|warninglist, body: the document. */
void vg_server_intel_set_audit(struct vg_server_intel *si, struct vg_audit *a)
{
    if (si) {
        si->audit = a;
    }
}

/* One audit record for a change of the store; a failure to record is logged, the change
 * itself is already durable. */
static void audit(struct vg_server_intel *si, const struct vg_api_req *req, const char *action,
                  const char *source, const char *detail)
{
    char actor[160], object[96], err[256];
    if (!si->audit) {
        return;
    }
    if (req) {
        snprintf(actor, sizeof(actor), "%s:%s",
                 req->who.kind == VG_API_AUTH_TOKEN ? "token" : "user", req->who.name);
    } else {
        snprintf(actor, sizeof(actor), "system");
    }
    snprintf(object, sizeof(object), "intel-source:%s", source ? source : "*");
    struct vg_audit_rec r = {"default", actor, action, object, detail};
    if (vg_audit_append(si->audit, &r, NULL, err, sizeof(err)) != VG_OK) {
        VG_ERR("intel", "audit log: %s", err);
    }
}

static int h_import(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_intel *si = ctx;
    const char *src = vg_api_query(req, "source"), *fmt = vg_api_query(req, "format");
    enum vg_intel_format f = VG_INTEL_FMT_AUTO;
    struct vg_intel_import_report rep;
    char err[512];
    if (!may_change(req, resp)) {
        return VG_EDENIED;
    }
    if (!source_name_ok(src)) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "source: required, 1-63 of [A-Za-z0-9._-] not starting with '.'");
        return VG_EINVAL;
    }
    if (fmt && *fmt && vg_intel_format_parse(fmt, &f) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "format: expected stix, misp, csv or warninglist, got '%.32s'", fmt);
        return VG_EINVAL;
    }
    if (!req->body_len) {
        vg_api_resp_error(resp, 400, "bad_request", "the body (the document to import) is empty");
        return VG_EINVAL;
    }
    memset(&rep, 0, sizeof(rep));
    pthread_mutex_lock(&si->db_mu);
    int rc = vg_intel_db_import_mem(si->db, "request body", req->body, req->body_len, src, f, NULL,
                                    &rep, err, sizeof(err));
    if (rc == VG_OK) {
        reload_locked(si, false); /* the next event sees it: answer once it is swapped in */
    }
    pthread_mutex_unlock(&si->db_mu);
    if (rc == VG_OK) {
        VG_INFO("intel", "%s imported source %s through the API: %" PRIu64 " indicators",
                req->who.name, src, rep.indicators);
        report_json(&rep, &resp->body);
        audit(si, req, "intel.import", src, resp->body.p);
    } else {
        vg_api_resp_error(resp, rc == VG_EINVAL ? 400 : 500,
                          rc == VG_EINVAL ? "bad_request" : "internal", "import: %s", err);
    }
    return rc;
}

/* DELETE /api/v1/intel/sources/{name} */
static int h_remove(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_intel *si = ctx;
    char err[512] = "";
    if (!may_change(req, resp)) {
        return VG_EDENIED;
    }
    pthread_mutex_lock(&si->db_mu);
    int rc = vg_intel_db_remove(si->db, req->param, err, sizeof(err));
    if (rc == VG_OK) {
        reload_locked(si, false);
    }
    pthread_mutex_unlock(&si->db_mu);
    if (rc == VG_OK) {
        VG_INFO("intel", "%s removed source %s through the API", req->who.name, req->param);
        vg_sbuf_adds(&resp->body, "{\"removed\":");
        add_str(&resp->body, req->param, strlen(req->param));
        vg_sbuf_addc(&resp->body, '}');
        audit(si, req, "intel.source.remove", req->param, resp->body.p);
    } else if (rc == VG_ENOENT) {
        vg_api_resp_error(resp, 404, "not_found", "no source named '%.64s'", req->param);
    } else {
        vg_api_resp_error(resp, 500, "internal", "remove: %s", err);
    }
    return rc;
}

/* POST /api/v1/intel/expire — drop the indicators expired now. */
static int h_expire(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server_intel *si = ctx;
    char err[512] = "";
    uint64_t removed = 0;
    if (!may_change(req, resp)) {
        return VG_EDENIED;
    }
    pthread_mutex_lock(&si->db_mu);
    int rc = vg_intel_db_expire(si->db, (uint32_t)(vg_time_now() / 1000000000), &removed, err,
                                sizeof(err));
    if (rc == VG_OK) {
        reload_locked(si, false);
    }
    pthread_mutex_unlock(&si->db_mu);
    if (rc == VG_OK) {
        vg_sbuf_printf(&resp->body, "{\"removed\":%" PRIu64 "}", removed);
        audit(si, req, "intel.expire", NULL, resp->body.p);
    } else {
        vg_api_resp_error(resp, 500, "internal", "expire: %s", err);
    }
    return rc;
}

static void metrics(void *ctx, struct vg_api_metrics *w)
{
    struct vg_server_intel *si = ctx;
    static const struct vg_api_counter c[] = {
        {"vigie_intel_hits_total", "indicator hits that raised an alert",
         offsetof(struct vg_server_intel, hits)},
        {"vigie_intel_below_confidence_total", "indicator hits under intel.min_confidence",
         offsetof(struct vg_server_intel, below_confidence)},
        {"vigie_intel_reloads_total", "indicator store generations loaded",
         offsetof(struct vg_server_intel, reloads)},
        {"vigie_intel_reload_failures_total", "failed loads (the previous generation stayed)",
         offsetof(struct vg_server_intel, reload_failures)},
        {"vigie_intel_taxii_pulls_total", "scheduled TAXII pulls",
         offsetof(struct vg_server_intel, taxii_pulls)},
        {"vigie_intel_taxii_failures_total", "scheduled TAXII pulls that failed",
         offsetof(struct vg_server_intel, taxii_failures)},
    };
    vg_api_metrics_counters(w, c, VG_ARRAY_LEN(c), si);
    struct vg_intel_snap *s = vg_server_intel_acquire(si);
    vg_api_metrics_family(w, "vigie_intel_indicators", "gauge", "indicators in the snapshot");
    vg_api_metrics_value(w, "vigie_intel_indicators", NULL, s ? (double)vg_intel_snap_count(s) : 0);
    vg_api_metrics_family(w, "vigie_intel_generation", "gauge", "generation of the snapshot");
    vg_api_metrics_value(w, "vigie_intel_generation", NULL,
                         s ? (double)vg_intel_snap_generation(s) : 0);
    vg_intel_snap_unref(s);
}

int vg_server_intel_api_register(struct vg_server_intel *si, struct vg_api *api)
{
    static const struct {
        const char *method, *path;
        int role;
        vg_api_handler fn;
    } r[] = {
        {"GET", "/api/v1/intel/stats", VG_API_ROLE_READ, h_stats},
        {"GET", "/api/v1/intel/indicators", VG_API_ROLE_READ, h_indicators},
        {"GET", "/api/v1/intel/lookup", VG_API_ROLE_READ, h_lookup},
        {"GET", "/api/v1/intel/objects", VG_API_ROLE_READ, h_objects},
        {"POST", "/api/v1/intel/import", VG_API_ROLE_ANALYST, h_import},
        {"DELETE", "/api/v1/intel/sources/{name}", VG_API_ROLE_ANALYST, h_remove},
        {"POST", "/api/v1/intel/expire", VG_API_ROLE_ANALYST, h_expire},
    };
    int rc = VG_OK;
    for (size_t i = 0; si && rc == VG_OK && i < VG_ARRAY_LEN(r); i++) {
        rc = vg_api_route(api, r[i].method, r[i].path, r[i].role, r[i].fn, si);
    }
    return rc == VG_OK && si ? vg_api_metrics_add(api, metrics, si) : rc;
}
