/*
 * agent_yara_coll.c — the agent's "yara" collector: a worker thread that scans the paths it
 * is handed (new or changed executables from the process and FIM collectors through
 * vg_agent_yara_notify, on-demand paths from response commands through
 * vg_agent_yara_submit) with the current rule set, and emits one event per rule match.
 *
 * Backend: "libyara". Rules come from `rules_dir` at start (optional) and from the server
 * (vg_agent_yara_set_rules, compiled before the swap; a failed compile keeps the old set).
 * The queue is bounded (`queue`, default 1024): a full queue drops the path and counts it.
 * An exec-heavy host runs the same binaries again and again, so a direct-mapped cache of
 * (inode, device, size, mtime, rules generation) skips executables already scanned.
 *
 * Events: event.kind "alert", event.category ["malware","intrusion_detection"],
 * event.action "yara_match", event.reason (why the file was scanned), file.path, file.size,
 * file.hash.sha256, rule.name, rule.ruleset (namespace), rule.tags, yara.strings
 * ([{id, offset, length}], at most VG_AGENT_YARA_MAX_STRINGS) and yara.strings_truncated.
 */
#include "agent/agent_yara.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define COMP       "agent.yara"
#define CACHE_SIZE 4096

struct yara_conf {
    bool enabled;
    char *rules_dir;
    int64_t max_size, queue;
};

static const struct vg_conf_field yara_conf_table[] = {
    {"yara.enabled", VG_CONF_BOOL, offsetof(struct yara_conf, enabled), "true", 1, 0, false, true,
     NULL, "run this collector"},
    {"yara.rules_dir", VG_CONF_STR, offsetof(struct yara_conf, rules_dir), "", 1, 0, false, true,
     NULL, "directory of *.yar / *.yara rule files loaded at start (empty: rules pushed only)"},
    {"yara.max_size", VG_CONF_INT, offsetof(struct yara_conf, max_size), "67108864", 1,
     4294967296LL, false, true, NULL, "largest file scanned, in bytes"},
    {"yara.queue", VG_CONF_INT, offsetof(struct yara_conf, queue), "1024", 1, 1000000, false, false,
     NULL, "paths waiting for a scan before new ones are dropped"},
};

struct job {
    char *path;
    char *reason;
    bool recursive;
};

struct cache_slot {
    uint64_t ino, dev, size, mtime_ns, gen;
};

struct vg_agent_yara {
    struct yara_conf conf;
    vg_agent_emit_fn emit;
    void *emit_ctx;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* jobs queued, idle, stop */
    struct job *q;       /* ring of conf.queue jobs */
    size_t head, count;
    bool busy, stopping, started;
    pthread_t thread;
    struct vg_agent_yara_rules *rules; /* under mu */
    uint64_t gen;                      /* rules generation */
    struct cache_slot *cache;          /* worker thread only */
    const char *reason;                /* of the job being scanned (worker) */
    struct vg_sbuf ev;                 /* worker only */
    uint64_t scanned, bytes, matches, events, drops, queue_drops, cached, errors, rule_loads;
};

static const char *const yara_backends[] = {"libyara", NULL};

/* The running collector, for vg_agent_yara_notify. */
static pthread_mutex_t yara_current_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vg_agent_yara *yara_current;

/* ---------------------------------------------------------------- configuration */

static int yara_conf_load(const struct vg_yaml_node *conf, struct yara_conf *c, char *err,
                          size_t errsz)
{
    return vg_agent_conf_bind("yara", yara_conf_table, VG_ARRAY_LEN(yara_conf_table), conf, c, err,
                              errsz);
}

/* ---------------------------------------------------------------- events */

static void add_str(struct vg_sbuf *e, const char *key, const char *v)
{
    vg_sbuf_printf(e, ",\"%s\":", key);
    vg_sbuf_add_json_str(e, v, strlen(v));
}

static void yara_event_build(struct vg_sbuf *e, const char *reason,
                             const struct vg_agent_yara_match *m)
{
    char ts[40];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    vg_sbuf_reset(e);
    vg_sbuf_printf(e,
                   "{\"@timestamp\":\"%s\",\"event.module\":\"vigie-agent\","
                   "\"event.dataset\":\"yara\",\"event.kind\":\"alert\","
                   "\"event.category\":[\"malware\",\"intrusion_detection\"],"
                   "\"event.type\":[\"info\"],\"event.action\":\"yara_match\"",
                   ts);
    add_str(e, "event.reason", reason);
    add_str(e, "file.path", m->path);
    vg_sbuf_printf(e, ",\"file.size\":%llu", (unsigned long long)m->size);
    add_str(e, "file.hash.sha256", m->sha256);
    add_str(e, "rule.name", m->rule);
    add_str(e, "rule.ruleset", m->ns);
    vg_sbuf_adds(e, ",\"rule.tags\":[");
    for (size_t i = 0; i < m->ntags; i++) {
        vg_sbuf_adds(e, i ? "," : "");
        vg_sbuf_add_json_str(e, m->tags[i], strlen(m->tags[i]));
    }
    vg_sbuf_adds(e, "],\"yara.strings\":[");
    for (size_t i = 0; i < m->nstrings; i++) {
        vg_sbuf_adds(e, i ? ",{\"id\":" : "{\"id\":");
        vg_sbuf_add_json_str(e, m->strings[i].id, strlen(m->strings[i].id));
        vg_sbuf_printf(e, ",\"offset\":%llu,\"length\":%u}",
                       (unsigned long long)m->strings[i].offset, m->strings[i].length);
    }
    vg_sbuf_printf(e, "],\"yara.strings_truncated\":%s}", m->strings_truncated ? "true" : "false");
}

static int yara_on_match(void *ctx, const struct vg_agent_yara_match *m)
{
    struct vg_agent_yara *c = ctx;
    yara_event_build(&c->ev, c->reason, m);
    int rc = c->ev.err ? c->ev.err : c->emit(c->emit_ctx, c->ev.p, c->ev.len);
    pthread_mutex_lock(&c->mu);
    c->matches++;
    if (rc == VG_OK) {
        c->events++;
    } else {
        c->drops++;
    }
    pthread_mutex_unlock(&c->mu);
    return VG_OK; /* a dropped event does not stop the scan */
}

/* ---------------------------------------------------------------- worker */

/* True when this exact file was scanned with this rules generation already; records it. */
static bool cache_seen(struct vg_agent_yara *c, const char *path, uint64_t gen)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        return false;
    }
    struct cache_slot k = {(uint64_t)sb.st_ino, (uint64_t)sb.st_dev, (uint64_t)sb.st_size,
                           (uint64_t)sb.st_mtim.tv_sec * 1000000000u + (uint64_t)sb.st_mtim.tv_nsec,
                           gen};
    struct cache_slot *s = &c->cache[vg_hash64(&k, sizeof(k), 0) % CACHE_SIZE];
    if (!memcmp(s, &k, sizeof(k))) {
        return true;
    }
    *s = k;
    return false;
}

static void yara_run_job(struct vg_agent_yara *c, struct job *j, struct vg_agent_yara_rules *r,
                         uint64_t gen)
{
    struct vg_agent_yara_scan_stats st = {0};
    if (!j->recursive && cache_seen(c, j->path, gen)) {
        pthread_mutex_lock(&c->mu);
        c->cached++;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    c->reason = j->reason;
    int rc = vg_agent_yara_scan_path(r, j->path, j->recursive, (uint64_t)c->conf.max_size,
                                     yara_on_match, c, &st);
    if (rc != VG_OK) {
        VG_DEBUG(COMP, "%s: %s", j->path, vg_strerror(rc));
    }
    pthread_mutex_lock(&c->mu);
    c->scanned += st.files;
    c->bytes += st.bytes;
    c->errors += st.errors + (rc != VG_OK);
    pthread_mutex_unlock(&c->mu);
}

static void *yara_main(void *arg)
{
    struct vg_agent_yara *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->count && !c->stopping) {
            pthread_cond_wait(&c->cond, &c->mu);
        }
        if (c->stopping) {
            break;
        }
        struct job j = c->q[c->head];
        c->head = (c->head + 1) % (size_t)c->conf.queue;
        c->count--;
        c->busy = true;
        struct vg_agent_yara_rules *r = vg_agent_yara_rules_ref(c->rules);
        uint64_t gen = c->gen;
        pthread_mutex_unlock(&c->mu);
        if (r) {
            yara_run_job(c, &j, r, gen);
        }
        vg_agent_yara_rules_unref(r);
        vg_free(j.path);
        vg_free(j.reason);
        pthread_mutex_lock(&c->mu);
        c->busy = false;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* ---------------------------------------------------------------- public calls */

int vg_agent_yara_submit(struct vg_agent_collector *cc, const char *path, bool recursive,
                         const char *reason)
{
    struct vg_agent_yara *c = (struct vg_agent_yara *)cc;
    struct job j = {vg_strdup(path), vg_strdup(reason ? reason : "on_demand"), recursive};
    if (!j.path || !j.reason) {
        vg_free(j.path);
        vg_free(j.reason);
        return VG_ENOMEM;
    }
    pthread_mutex_lock(&c->mu);
    if (c->count == (size_t)c->conf.queue || c->stopping) {
        c->queue_drops++;
        pthread_mutex_unlock(&c->mu);
        vg_free(j.path);
        vg_free(j.reason);
        return VG_ELIMIT;
    }
    c->q[(c->head + c->count++) % (size_t)c->conf.queue] = j;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    return VG_OK;
}

int vg_agent_yara_notify(const char *path, const char *reason)
{
    pthread_mutex_lock(&yara_current_mu);
    int rc = yara_current ? vg_agent_yara_submit((struct vg_agent_collector *)yara_current, path,
                                                 false, reason)
                          : VG_ENOENT;
    pthread_mutex_unlock(&yara_current_mu);
    return rc;
}

static void yara_swap_rules(struct vg_agent_yara *c, struct vg_agent_yara_rules *r)
{
    pthread_mutex_lock(&c->mu);
    struct vg_agent_yara_rules *old = c->rules;
    c->rules = r;
    c->gen++;
    c->rule_loads++;
    pthread_mutex_unlock(&c->mu);
    vg_agent_yara_rules_unref(old);
}

int vg_agent_yara_set_rules(struct vg_agent_collector *cc, const char *text, size_t len,
                            const char *name, char *err, size_t errsz)
{
    struct vg_agent_yara_rules *r = NULL;
    int rc = vg_agent_yara_compile(text, len, name ? name : "pushed", &r, err, errsz);
    if (rc == VG_OK) {
        yara_swap_rules((struct vg_agent_yara *)cc, r);
    }
    return rc;
}

int vg_agent_yara_wait_idle(struct vg_agent_collector *cc, int timeout_ms)
{
    struct vg_agent_yara *c = (struct vg_agent_yara *)cc;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    int rc = VG_OK;
    pthread_mutex_lock(&c->mu);
    while ((c->count || c->busy) && rc == VG_OK) {
        if (pthread_cond_timedwait(&c->cond, &c->mu, &until) == ETIMEDOUT) {
            rc = (c->count || c->busy) ? VG_ETIMEOUT : VG_OK;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---------------------------------------------------------------- lifecycle */

static void yara_free(struct vg_agent_yara *c)
{
    for (size_t i = 0; i < c->count; i++) {
        struct job *j = &c->q[(c->head + i) % (size_t)c->conf.queue];
        vg_free(j->path);
        vg_free(j->reason);
    }
    vg_free(c->q);
    vg_free(c->cache);
    vg_agent_yara_rules_unref(c->rules);
    vg_sbuf_fini(&c->ev);
    vg_conf_release(yara_conf_table, VG_ARRAY_LEN(yara_conf_table), &c->conf);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cond);
    vg_free(c);
}

static int yara_setup(struct vg_agent_yara *c, const struct vg_agent_collector_opts *o, char *err,
                      size_t errsz)
{
    int rc = yara_conf_load(o->conf, &c->conf, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (o->force_backend && strcmp(o->force_backend, "libyara") != 0) {
        snprintf(err, errsz, "yara: unknown backend '%s' (libyara)", o->force_backend);
        return VG_EINVAL;
    }
    c->q = vg_calloc((size_t)c->conf.queue, sizeof(*c->q));
    c->cache = vg_calloc(CACHE_SIZE, sizeof(*c->cache));
    if (!c->q || !c->cache) {
        return VG_ENOMEM;
    }
    if (c->conf.rules_dir[0]) {
        rc = vg_agent_yara_load_dir(c->conf.rules_dir, &c->rules, err, errsz);
        c->rule_loads += rc == VG_OK;
    } else { /* an empty set proves libyara works here; pushed rules replace it */
        rc = vg_agent_yara_compile("", 0, "empty", &c->rules, err, errsz);
    }
    if (rc == VG_OK && pthread_create(&c->thread, NULL, yara_main, c) != 0) {
        snprintf(err, errsz, "yara: cannot start thread");
        rc = VG_ERROR;
    }
    c->started = rc == VG_OK;
    return rc;
}

static int yara_start(const struct vg_agent_collector_opts *o, struct vg_agent_collector **out,
                      char *err, size_t errsz)
{
    struct vg_agent_yara *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        return VG_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    c->emit = o->emit;
    c->emit_ctx = o->emit_ctx;
    int rc = o->emit ? yara_setup(c, o, err, errsz) : VG_EINVAL;
    if (!o->emit) {
        snprintf(err, errsz, "yara: no emit callback");
    }
    if (rc != VG_OK) {
        yara_free(c);
        return rc;
    }
    pthread_mutex_lock(&yara_current_mu);
    if (!yara_current) {
        yara_current = c;
    }
    pthread_mutex_unlock(&yara_current_mu);
    *out = (struct vg_agent_collector *)c;
    return VG_OK;
}

static const char *yara_backend_name(const struct vg_agent_collector *cc)
{
    VG_UNUSED(cc);
    return "libyara";
}

static void yara_stats(const struct vg_agent_collector *cc, struct vg_sbuf *out)
{
    struct vg_agent_yara *c = (struct vg_agent_yara *)cc;
    pthread_mutex_lock(&c->mu);
    vg_sbuf_printf(out,
                   "{\"backend\":\"libyara\",\"rules\":%zu,\"rule_loads\":%llu,\"queued\":%zu,"
                   "\"files_scanned\":%llu,\"bytes_scanned\":%llu,\"cached\":%llu,"
                   "\"matches\":%llu,\"events\":%llu,\"drops\":%llu,\"queue_drops\":%llu,"
                   "\"errors\":%llu}",
                   vg_agent_yara_rules_count(c->rules), (unsigned long long)c->rule_loads, c->count,
                   (unsigned long long)c->scanned, (unsigned long long)c->bytes,
                   (unsigned long long)c->cached, (unsigned long long)c->matches,
                   (unsigned long long)c->events, (unsigned long long)c->drops,
                   (unsigned long long)c->queue_drops, (unsigned long long)c->errors);
    pthread_mutex_unlock(&c->mu);
}

static void yara_stop(struct vg_agent_collector *cc)
{
    struct vg_agent_yara *c = (struct vg_agent_yara *)cc;
    if (!c) {
        return;
    }
    pthread_mutex_lock(&yara_current_mu);
    if (yara_current == c) {
        yara_current = NULL;
    }
    pthread_mutex_unlock(&yara_current_mu);
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    if (c->started) {
        pthread_join(c->thread, NULL);
    }
    yara_free(c);
}

const struct vg_agent_collector_def vg_agent_yara_collector = {
    .name = "yara",
    .description = "YARA scans of new or changed executables and on-demand paths",
    .backends = yara_backends,
    .start = yara_start,
    .backend = yara_backend_name,
    .stats = yara_stats,
    .stop = yara_stop,
};
