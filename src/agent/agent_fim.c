/*
 * agent_fim.c — the FIM collector ("fim"): configuration, the collector thread, the schedule
 * of full scans, and turning changes into agent events.
 *
 * start() reads the configuration, opens the baseline (state_dir/fim.db) and the first
 * change-notification backend that works (fanotify, then inotify, then "scan": scheduled
 * scans only), then starts one thread. The thread first scans (building the baseline when
 * there is none — no events for that — or reporting what changed while the agent was not
 * running), then waits on the backend's fd: each notified path is re-checked against the
 * baseline (agent_fim_path.c); a lost-events signal or the scan_interval triggers a full
 * scan. Only this thread touches the database and the hasher; stats() reads atomics.
 */
#include "agent/agent_fim_int.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---------------------------------------------------------------- configuration */

struct fim_conf {
    struct vg_strlist paths, exclude;
    int64_t scan_interval; /* ns */
    int hash;              /* index in HASH_NAMES */
    int64_t max_file_size, threads;
};

static const char *const HASH_NAMES[] = {"sha256", "none", NULL};

static const struct vg_conf_field FIM_CONF[] = {
    {"fim.paths", VG_CONF_STRLIST, offsetof(struct fim_conf, paths),
     "/etc,/usr/bin,/usr/sbin,/boot", 1, 0, false, true, NULL,
     "directories or files to watch (absolute)"},
    {"fim.exclude", VG_CONF_STRLIST, offsetof(struct fim_conf, exclude), "", 1, 0, false, true,
     NULL, "globs to skip: with a '/' against the whole path, else against the name"},
    {"fim.scan_interval", VG_CONF_DURATION, offsetof(struct fim_conf, scan_interval), "12h",
     1000000000LL, 366LL * 86400 * 1000000000LL, false, true, NULL, "period of full scans"},
    {"fim.hash", VG_CONF_ENUM, offsetof(struct fim_conf, hash), "sha256", 1, 0, false, true,
     HASH_NAMES, "content hash of regular files (sha256, or none: metadata only)"},
    {"fim.max_file_size", VG_CONF_INT, offsetof(struct fim_conf, max_file_size), "1073741824", 0,
     INT64_MAX, false, true, NULL, "larger files are recorded without a hash (0: no limit)"},
    {"fim.threads", VG_CONF_INT, offsetof(struct fim_conf, threads), "2", 1, 64, false, true, NULL,
     "hashing threads of a full scan"},
};

/* Bind the collector's section (a map, or NULL for defaults) under the name "fim", so keys
   read fim.paths in messages and VIGIE_FIM_PATHS in the environment. */
static int conf_load(const struct vg_yaml_node *sec, struct fim_conf *cf, char *err, size_t errsz)
{
    int rc = vg_agent_conf_bind("fim", FIM_CONF, VG_ARRAY_LEN(FIM_CONF), sec, cf, err, errsz);
    for (size_t i = 0; rc == VG_OK && i < cf->paths.n; i++) {
        char *p = cf->paths.v[i];
        size_t n = strlen(p);
        if (p[0] != '/') {
            snprintf(err, errsz, "fim.paths: '%s' is not an absolute path", p);
            rc = VG_EINVAL;
        }
        while (n > 1 && p[n - 1] == '/') {
            p[--n] = '\0';
        }
    }
    if (rc == VG_OK && cf->paths.n == 0) {
        snprintf(err, errsz, "fim.paths: no path to watch");
        rc = VG_EINVAL;
    }
    return rc;
}

/* ---------------------------------------------------------------- collector */

#define RESCAN_MIN_GAP_NS (60LL * 1000000000) /* between overflow-triggered full scans */

struct pending {
    char *path;
    int pid;
};

struct vg_fim_coll {
    struct fim_conf conf;
    struct vg_fim_opts opts;
    char *db_path;
    struct vg_fim_db *db;
    struct vg_fim_hasher *h;
    const struct vg_fim_backend *be;
    void *be_state;
    vg_agent_emit_fn emit;
    void *emit_ctx;
    pthread_t th;
    bool th_started;
    int wake_fd;
    bool rescan;
    struct pending *pend;
    size_t npend, cap;
    const char *provider; /* of the change being reported */
    int pid;
    struct vg_sbuf ev;
    atomic_uint_fast64_t events, drops, errors, scans, hashed, bytes, notifications, files;
};

/* The "scan" backend: no notification, scheduled scans only. */
static const struct vg_fim_backend SCAN_ONLY = {.name = "scan"};

static const struct vg_fim_backend *const BACKENDS[] = {&vg_fim_backend_fanotify,
                                                        &vg_fim_backend_inotify, &SCAN_ONLY};
static const char *const BACKEND_NAMES[] = {"fanotify", "inotify", "scan", NULL};

const struct vg_fim_opts *vg_fim_coll_opts(const struct vg_fim_coll *c)
{
    return &c->opts;
}

void vg_fim_coll_rescan(struct vg_fim_coll *c)
{
    c->rescan = true;
}

void vg_fim_coll_touch(struct vg_fim_coll *c, const char *path, int pid)
{
    atomic_fetch_add(&c->notifications, 1);
    /* a write comes as several events for one path: coalesce with the recent ones */
    for (size_t i = c->npend, k = 0; i > 0 && k < 16; i--, k++) {
        if (!strcmp(c->pend[i - 1].path, path)) {
            c->pend[i - 1].pid = pid ? pid : c->pend[i - 1].pid;
            return;
        }
    }
    char *p = vg_strdup(path);
    if (!p || vg_grow(&c->pend, &c->cap, c->npend + 1, sizeof(*c->pend)) != VG_OK) {
        vg_free(p);
        c->rescan = true; /* cannot remember it: let a scan find it */
        return;
    }
    c->pend[c->npend++] = (struct pending){p, pid};
}

static void on_change(void *ctx, const struct vg_fim_change *ch)
{
    struct vg_fim_coll *c = ctx;
    char exe[4096];
    const char *exep = NULL;
    if (c->pid > 0) {
        char link[64];
        snprintf(link, sizeof(link), "/proc/%d/exe", c->pid);
        ssize_t n = readlink(link, exe, sizeof(exe) - 1);
        if (n > 0) {
            exe[n] = '\0';
            exep = exe; /* the process may have exited already: then only its pid is known */
        }
    }
    vg_sbuf_reset(&c->ev);
    vg_fim_change_json(ch, c->provider, c->pid, exep, &c->ev);
    if (c->ev.err || c->emit(c->emit_ctx, c->ev.p, c->ev.len) != VG_OK) {
        atomic_fetch_add(&c->drops, 1);
    } else {
        atomic_fetch_add(&c->events, 1);
    }
}

static void account(struct vg_fim_coll *c, const struct vg_fim_result *r)
{
    atomic_fetch_add(&c->hashed, r->hashed);
    atomic_fetch_add(&c->bytes, r->bytes_hashed);
    atomic_fetch_add(&c->errors, r->errors);
}

static void full_scan(struct vg_fim_coll *c)
{
    struct vg_fim_result r = {0};
    struct vg_fim_opts o = c->opts;
    char err[512];
    bool first = !vg_fim_db_has_baseline(c->db);
    o.update = true;
    c->provider = "scan";
    c->pid = 0;
    c->rescan = false;
    int rc = vg_fim_scan(c->db, &o, first, &r, err, sizeof(err));
    if (rc != VG_OK) {
        VG_ERR(VG_FIM_COMP, "full scan: %s", err);
        atomic_fetch_add(&c->errors, 1);
    }
    VG_INFO(VG_FIM_COMP, "%s: %llu entries, %llu hashed, %llu added, %llu removed, %llu changed",
            first ? "baseline" : "scan", (unsigned long long)r.files, (unsigned long long)r.hashed,
            (unsigned long long)r.added, (unsigned long long)r.removed,
            (unsigned long long)r.changed);
    account(c, &r);
    atomic_store(&c->files, r.files);
    atomic_fetch_add(&c->scans, 1);
}

static void process_pending(struct vg_fim_coll *c)
{
    c->provider = c->be->name;
    for (size_t i = 0; i < c->npend; i++) {
        struct vg_fim_result r = {0};
        c->pid = c->pend[i].pid;
        if (vg_fim_path_update(c->db, c->h, &c->opts, c->pend[i].path, &r) != VG_OK) {
            atomic_fetch_add(&c->errors, 1);
        }
        account(c, &r);
        vg_free(c->pend[i].path);
    }
    c->npend = 0;
}

static int poll_timeout_ms(int64_t next_scan)
{
    int64_t left = (next_scan - (int64_t)vg_clock_ns()) / 1000000;
    return left < 0 ? 0 : (int)VG_MIN(left, 60000);
}

static void *coll_main(void *arg)
{
    struct vg_fim_coll *c = arg;
    full_scan(c);
    int64_t last_scan = (int64_t)vg_clock_ns();
    int64_t next_scan = last_scan + c->conf.scan_interval;
    for (;;) {
        struct pollfd p[2] = {{.fd = c->wake_fd, .events = POLLIN},
                              {.fd = c->be->fd ? c->be->fd(c->be_state) : -1, .events = POLLIN}};
        int n = poll(p, 2, poll_timeout_ms(next_scan));
        if (n < 0 && errno != EINTR) {
            VG_ERR(VG_FIM_COMP, "poll: %s", strerror(errno));
            break;
        }
        if (p[0].revents) {
            break;
        }
        if (p[1].revents) {
            c->be->drain(c->be_state, c);
            process_pending(c);
        }
        if (c->rescan) {
            /* lost events: scan soon, but not in a loop when the queue keeps overflowing */
            next_scan = VG_MIN(next_scan, last_scan + RESCAN_MIN_GAP_NS);
            c->rescan = false;
        }
        if ((int64_t)vg_clock_ns() >= next_scan) {
            full_scan(c);
            last_scan = (int64_t)vg_clock_ns();
            next_scan = last_scan + c->conf.scan_interval;
        }
    }
    return NULL;
}

static void coll_free(struct vg_fim_coll *c)
{
    if (c->be && c->be->close) {
        c->be->close(c->be_state);
    }
    vg_fim_db_close(c->db);
    vg_fim_hasher_destroy(c->h);
    for (size_t i = 0; i < c->npend; i++) {
        vg_free(c->pend[i].path);
    }
    vg_free(c->pend);
    if (c->wake_fd >= 0) {
        close(c->wake_fd);
    }
    vg_sbuf_fini(&c->ev);
    vg_free(c->db_path);
    vg_conf_release(FIM_CONF, VG_ARRAY_LEN(FIM_CONF), &c->conf);
    vg_free(c);
}

/* Open the forced backend, or the first that works; err lists why each failed. */
static int pick_backend(struct vg_fim_coll *c, const char *force, char *err, size_t errsz)
{
    size_t used = 0;
    err[0] = '\0';
    for (size_t i = 0; i < VG_ARRAY_LEN(BACKENDS); i++) {
        const struct vg_fim_backend *b = BACKENDS[i];
        char why[256] = "";
        if (force && strcmp(force, b->name) != 0) {
            continue;
        }
        if (!b->open || b->open(c, &c->be_state, why, sizeof(why)) == VG_OK) {
            c->be = b;
            return VG_OK;
        }
        used += (size_t)snprintf(err + used, used < errsz ? errsz - used : 0, "%s%s: %s",
                                 used ? "; " : "", b->name, why);
        used = VG_MIN(used, errsz);
    }
    if (!err[0]) {
        snprintf(err, errsz, "fim: unknown backend '%s'", force ? force : "");
    }
    return VG_EUNSUPPORTED;
}

static int coll_setup(struct vg_fim_coll *c, const struct vg_agent_collector_opts *o, char *err,
                      size_t errsz)
{
    int rc = conf_load(o->conf, &c->conf, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    c->opts = (struct vg_fim_opts){
        .paths = (const char *const *)c->conf.paths.v,
        .npaths = c->conf.paths.n,
        .exclude = (const char *const *)c->conf.exclude.v,
        .nexclude = c->conf.exclude.n,
        .no_hash = c->conf.hash == 1,
        .max_file_size = (uint64_t)c->conf.max_file_size,
        .threads = (int)c->conf.threads,
        .on_change = on_change,
        .ctx = c,
    };
    struct vg_sbuf p = VG_SBUF_INIT;
    vg_sbuf_printf(&p, "%s/fim.db", o->state_dir ? o->state_dir : ".");
    if (p.err || !(c->db_path = vg_sbuf_take(&p, NULL)) || !(c->h = vg_fim_hasher_create())) {
        vg_sbuf_fini(&p);
        return VG_ENOMEM;
    }
    if ((rc = vg_fim_db_open(c->db_path, true, &c->db, err, errsz)) != VG_OK) {
        return rc;
    }
    if ((c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        snprintf(err, errsz, "fim: eventfd: %s", strerror(errno));
        return VG_EIO;
    }
    return pick_backend(c, o->force_backend, err, errsz);
}

static int fim_start(const struct vg_agent_collector_opts *o, struct vg_agent_collector **out,
                     char *err, size_t errsz)
{
    struct vg_fim_coll *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        return VG_ENOMEM;
    }
    c->wake_fd = -1;
    c->emit = o->emit;
    c->emit_ctx = o->emit_ctx;
    int rc = coll_setup(c, o, err, errsz);
    if (rc == VG_OK && pthread_create(&c->th, NULL, coll_main, c) != 0) {
        snprintf(err, errsz, "fim: cannot start its thread");
        rc = VG_ERROR;
    }
    if (rc != VG_OK) {
        if (rc == VG_ENOMEM) {
            snprintf(err, errsz, "fim: out of memory");
        }
        coll_free(c);
        return rc;
    }
    c->th_started = true;
    VG_INFO(VG_FIM_COMP, "watching %zu path(s) with %s", c->opts.npaths, c->be->name);
    *out = (struct vg_agent_collector *)c;
    return VG_OK;
}

static const char *fim_backend(const struct vg_agent_collector *ac)
{
    const struct vg_fim_coll *c = (const struct vg_fim_coll *)ac;
    return c->be->name;
}

static void fim_stats(const struct vg_agent_collector *ac, struct vg_sbuf *out)
{
    const struct vg_fim_coll *c = (const struct vg_fim_coll *)ac;
    vg_sbuf_printf(
        out,
        "{\"backend\":\"%s\",\"events\":%llu,\"drops\":%llu,\"errors\":%llu,"
        "\"scans\":%llu,\"files\":%llu,\"hashed\":%llu,\"bytes_hashed\":%llu,"
        "\"notifications\":%llu}",
        c->be->name, (unsigned long long)atomic_load(&c->events),
        (unsigned long long)atomic_load(&c->drops), (unsigned long long)atomic_load(&c->errors),
        (unsigned long long)atomic_load(&c->scans), (unsigned long long)atomic_load(&c->files),
        (unsigned long long)atomic_load(&c->hashed), (unsigned long long)atomic_load(&c->bytes),
        (unsigned long long)atomic_load(&c->notifications));
}

static void fim_stop(struct vg_agent_collector *ac)
{
    struct vg_fim_coll *c = (struct vg_fim_coll *)ac;
    if (!c) {
        return;
    }
    if (c->th_started) {
        uint64_t one = 1;
        ssize_t w = write(c->wake_fd, &one, sizeof(one));
        VG_UNUSED(w); /* an eventfd write of 1 cannot fail short of overflow */
        pthread_join(c->th, NULL);
    }
    coll_free(c);
}

const struct vg_agent_collector_def vg_agent_fim_collector = {
    .name = "fim",
    .description = "file integrity: baseline of configured paths, fanotify/inotify changes, "
                   "scheduled full scans",
    .backends = BACKEND_NAMES,
    .start = fim_start,
    .backend = fim_backend,
    .stats = fim_stats,
    .stop = fim_stop,
};
