/*
 * agent_inv.c — the agent's "inventory" collector: installed packages (dpkg, apk, rpm), users,
 * groups, kernel modules and host facts, sent in full on start and as deltas on change (this
 * feeds vulnerability matching on the server).
 *
 * One backend, "files": the collector reads the files (agent_inv_pkg.c, agent_inv_sys.c).
 * A thread takes an inventory snapshot on start and emits one event per category
 * (event.action inventory_packages / inventory_users / inventory_groups /
 * inventory_kernel_modules / inventory_host, with the records in an array). Afterwards it
 * takes a new snapshot every interval_ms, and debounce_ms after inotify reports a write or a
 * rename of the dpkg status file, /etc/passwd or /etc/group (dpkg rewrites its status file
 * many times during one run: the debounce waits for it to settle), and emits one event per
 * record that appeared, disappeared or changed (package_installed / package_removed /
 * package_upgraded, user_added / ..., group_*, kernel_module_*), and inventory_host again
 * when a host fact changed. A category whose source cannot be read this round keeps its
 * previous snapshot, so a transient error never reads as "everything was removed".
 */
#include "agent/agent_inv.h"

#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#define COMP "agent.inv"

struct inv_conf {
    bool enabled, rpm;
    int64_t interval_ms, debounce_ms;
    char *dpkg_status, *apk_installed, *passwd, *group, *modules;
    char *os_release, *machine_id, *cpuinfo, *meminfo;
};

#define INV_STR(key, member, def, what)                                                            \
    {                                                                                              \
        "inventory." key, VG_CONF_STR, offsetof(struct inv_conf, member), def, 1, 0, false, true,  \
            NULL, what                                                                             \
    }

static const struct vg_conf_field inv_conf_table[] = {
    {"inventory.enabled", VG_CONF_BOOL, offsetof(struct inv_conf, enabled), "true", 1, 0, false,
     true, NULL, "run this collector"},
    {"inventory.rpm", VG_CONF_BOOL, offsetof(struct inv_conf, rpm), "true", 1, 0, false, true, NULL,
     "list rpm packages when an rpm program is installed"},
    {"inventory.interval_ms", VG_CONF_INT, offsetof(struct inv_conf, interval_ms), "3600000", 50,
     604800000, false, true, NULL, "milliseconds between two full checks for changes"},
    {"inventory.debounce_ms", VG_CONF_INT, offsetof(struct inv_conf, debounce_ms), "2000", 0,
     600000, false, true, NULL, "wait after a watched file changed before checking"},
    INV_STR("dpkg_status", dpkg_status, "/var/lib/dpkg/status", "dpkg status file"),
    INV_STR("apk_installed", apk_installed, "/lib/apk/db/installed",
            "apk installed database (Alpine)"),
    INV_STR("passwd", passwd, "/etc/passwd", "user database"),
    INV_STR("group", group, "/etc/group", "group database"),
    INV_STR("modules", modules, "/proc/modules", "loaded kernel modules"),
    INV_STR("os_release", os_release, "", "os-release file (empty: /etc/os-release)"),
    INV_STR("machine_id", machine_id, "", "machine id file (empty: /etc/machine-id)"),
    INV_STR("cpuinfo", cpuinfo, "", "cpuinfo file (empty: /proc/cpuinfo)"),
    INV_STR("meminfo", meminfo, "", "meminfo file (empty: /proc/meminfo)"),
};

/* The record categories, in emission order. */
enum { CAT_PKG, CAT_USER, CAT_GROUP, CAT_MOD, NCAT };

static const struct inv_cat {
    const char *name, *category, *array, *prefix;
    const char *act_add, *act_del, *act_chg;
    const char *type_add, *type_del, *type_chg;
} inv_cats[NCAT] = {
    {"packages", "package", "packages", "package", "package_installed", "package_removed",
     "package_upgraded", "installation", "deletion", "change"},
    {"users", "iam", "users", "user", "user_added", "user_removed", "user_changed", "user", "user",
     "user"},
    {"groups", "iam", "groups", "group", "group_added", "group_removed", "group_changed", "group",
     "group", "group"},
    {"kernel_modules", "driver", "kernel_modules", "kernel_module", "kernel_module_loaded",
     "kernel_module_unloaded", "kernel_module_changed", "start", "end", "change"},
};

struct inv_snap {
    struct vg_agent_inv_list lists[NCAT];
    bool ok[NCAT];
    struct vg_sbuf host;
};

struct vg_agent_inv {
    struct inv_conf conf;
    vg_agent_emit_fn emit;
    void *emit_ctx;
    struct inv_snap prev;
    bool have_prev;
    int ino_fd, stop_fd;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    uint64_t checks, events, drops, errors, triggers;
    char last_error[256];
    struct vg_sbuf ev;
};

static const char *const inv_backends[] = {"files", NULL};

/* ---------------------------------------------------------------- configuration */

static int inv_conf_load(const struct vg_yaml_node *conf, struct inv_conf *c, char *err,
                         size_t errsz)
{
    return vg_agent_conf_bind("inventory", inv_conf_table, VG_ARRAY_LEN(inv_conf_table), conf, c,
                              err, errsz);
}

static const char *opt_path(const char *p)
{
    return p && *p ? p : NULL;
}

/* ---------------------------------------------------------------- snapshots */

static int pkgs_to_items(const struct vg_agent_pkgs *p, struct vg_agent_inv_list *l)
{
    int rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < p->n; i++) {
        const struct vg_agent_pkg *k = &p->v[i];
        char key[3 * VG_AGENT_INV_MAX_FIELD + 8];
        struct vg_agent_inv_item *it;
        int kl = snprintf(key, sizeof(key), "%s:%s:%s", k->name, k->arch, k->type);
        rc = vg_agent_inv_item_add(l, key, (size_t)kl, &it);
        rc = rc ? rc : vg_agent_inv_item_set(l, it, "name", k->name, strlen(k->name));
        rc = rc ? rc : vg_agent_inv_item_set(l, it, "version", k->version, strlen(k->version));
        rc = rc ? rc : vg_agent_inv_item_set(l, it, "architecture", k->arch, strlen(k->arch));
        rc = rc ? rc : vg_agent_inv_item_set(l, it, "type", k->type, strlen(k->type));
        if (rc == VG_OK && k->source) {
            rc = vg_agent_inv_item_set(l, it, "source", k->source, strlen(k->source));
        }
    }
    return rc;
}

/* dpkg, apk and rpm packages; a missing database or rpm program just adds nothing. */
static int inv_collect_pkgs(struct vg_agent_inv *c, struct vg_agent_inv_list *l)
{
    struct vg_agent_pkgs p = {0};
    char err[256] = "";
    int rc = vg_agent_inv_dpkg_load(c->conf.dpkg_status, &p, err, sizeof(err));
    rc = rc == VG_ENOENT ? VG_OK : rc; /* not a dpkg system */
    if (rc == VG_OK) {
        char e2[256] = "";
        int r2 = vg_agent_inv_apk_load(c->conf.apk_installed, &p, e2, sizeof(e2));
        if ((r2 != VG_OK && r2 != VG_ENOENT) || (r2 == VG_OK && e2[0] && !err[0])) {
            vg_strlcpy(err, e2, sizeof(err));
        }
        rc = r2 == VG_ENOENT ? VG_OK : r2; /* not an Alpine system */
    }
    if (rc == VG_OK && c->conf.rpm) {
        char e2[256] = "";
        int r2 = vg_agent_inv_rpm_list(&p, e2, sizeof(e2));
        if ((r2 != VG_OK && r2 != VG_ENOENT) || (r2 == VG_OK && !err[0])) {
            vg_strlcpy(err, e2, sizeof(err));
        }
        rc = r2 == VG_ENOENT ? VG_OK : r2;
    }
    if (rc == VG_OK) {
        rc = pkgs_to_items(&p, l);
        l->bad = p.bad;
    }
    if (err[0] && (rc != VG_OK || p.bad)) {
        vg_strlcpy(l->err, err, sizeof(l->err));
    }
    vg_agent_pkgs_fini(&p);
    return rc;
}

static void inv_note_error(struct vg_agent_inv *c, const char *msg)
{
    VG_WARN(COMP, "%s", msg);
    pthread_mutex_lock(&c->mu);
    c->errors++;
    vg_strlcpy(c->last_error, msg, sizeof(c->last_error));
    pthread_mutex_unlock(&c->mu);
}

static void inv_collect(struct vg_agent_inv *c, struct inv_snap *s)
{
    const char *files[NCAT] = {NULL, c->conf.passwd, c->conf.group, c->conf.modules};
    int (*parsers[NCAT])(const char *, size_t, const char *, struct vg_agent_inv_list *) = {
        NULL, vg_agent_inv_passwd_parse, vg_agent_inv_group_parse, vg_agent_inv_modules_parse};
    for (int k = 0; k < NCAT; k++) {
        struct vg_agent_inv_list *l = &s->lists[k];
        int rc = k == CAT_PKG ? inv_collect_pkgs(c, l)
                              : vg_agent_inv_file_parse(files[k], parsers[k], l);
        if (rc == VG_ENOENT && k == CAT_MOD) {
            rc = VG_OK; /* a kernel without loadable modules has no /proc/modules */
            l->err[0] = '\0';
        }
        s->ok[k] = rc == VG_OK;
        if (rc != VG_OK || l->bad) {
            char msg[320];
            snprintf(msg, sizeof(msg), "%s: %s", inv_cats[k].name,
                     l->err[0] ? l->err : vg_strerror(rc));
            inv_note_error(c, msg);
        }
        vg_agent_inv_list_sort(l);
    }
    struct vg_agent_inv_host_paths hp = {opt_path(c->conf.os_release), opt_path(c->conf.machine_id),
                                         opt_path(c->conf.cpuinfo), opt_path(c->conf.meminfo)};
    vg_agent_inv_host_facts(&hp, &s->host);
}

static void inv_snap_fini(struct inv_snap *s)
{
    for (int k = 0; k < NCAT; k++) {
        vg_agent_inv_list_fini(&s->lists[k]);
    }
    vg_sbuf_fini(&s->host);
    memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- events */

static void ev_begin(struct vg_sbuf *e, const char *kind, const char *category, const char *type,
                     const char *action)
{
    char ts[40];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    vg_sbuf_reset(e);
    vg_sbuf_printf(e,
                   "{\"@timestamp\":\"%s\",\"event.module\":\"vigie-agent\","
                   "\"event.dataset\":\"inventory\",\"event.kind\":\"%s\","
                   "\"event.category\":\"%s\",\"event.type\":\"%s\",\"event.action\":\"%s\"",
                   ts, kind, category, type, action);
}

static void inv_send(struct vg_agent_inv *c)
{
    vg_sbuf_addc(&c->ev, '}');
    int rc = c->ev.err ? c->ev.err : c->emit(c->emit_ctx, c->ev.p, c->ev.len);
    pthread_mutex_lock(&c->mu);
    if (rc == VG_OK) {
        c->events++;
    } else {
        c->drops++;
    }
    pthread_mutex_unlock(&c->mu);
}

static void item_object(struct vg_sbuf *e, const struct vg_agent_inv_item *it)
{
    vg_sbuf_addc(e, '{');
    for (size_t f = 0; f < it->nf; f++) {
        vg_sbuf_printf(e, "%s\"%s\":", f ? "," : "", it->name[f]);
        vg_sbuf_add_json_str(e, it->val[f], strlen(it->val[f]));
    }
    vg_sbuf_addc(e, '}');
}

static void inv_emit_full(struct vg_agent_inv *c, int k, const struct vg_agent_inv_list *l)
{
    const struct inv_cat *cat = &inv_cats[k];
    char action[64];
    snprintf(action, sizeof(action), "inventory_%s", cat->name);
    ev_begin(&c->ev, "state", cat->category, "info", action);
    vg_sbuf_printf(&c->ev, ",\"inventory.count\":%zu", l->n);
    if (l->bad) {
        vg_sbuf_printf(&c->ev, ",\"inventory.errors\":%zu,\"inventory.error\":", l->bad);
        vg_sbuf_add_json_str(&c->ev, l->err, strlen(l->err));
    }
    vg_sbuf_printf(&c->ev, ",\"%s\":[", cat->array);
    for (size_t i = 0; i < l->n; i++) {
        if (i) {
            vg_sbuf_addc(&c->ev, ',');
        }
        item_object(&c->ev, &l->v[i]);
    }
    vg_sbuf_addc(&c->ev, ']');
    inv_send(c);
}

static void inv_emit_host(struct vg_agent_inv *c, const struct inv_snap *s)
{
    ev_begin(&c->ev, "state", "host", "info", "inventory_host");
    vg_sbuf_add(&c->ev, s->host.p ? s->host.p : "", s->host.len);
    inv_send(c);
}

static const char *item_get(const struct vg_agent_inv_item *it, const char *name)
{
    for (size_t f = 0; f < it->nf; f++) {
        if (!strcmp(it->name[f], name)) {
            return it->val[f];
        }
    }
    return NULL;
}

/* One delta: the record's fields flat under the category's prefix; old (changes) adds
   <prefix>.previous.<field> for each field whose value differs. */
static void inv_emit_delta(struct vg_agent_inv *c, int k, const struct vg_agent_inv_item *it,
                           const struct vg_agent_inv_item *old, int what)
{
    const struct inv_cat *cat = &inv_cats[k];
    const char *act[3] = {cat->act_add, cat->act_del, cat->act_chg};
    const char *typ[3] = {cat->type_add, cat->type_del, cat->type_chg};
    ev_begin(&c->ev, "event", cat->category, typ[what], act[what]);
    for (size_t f = 0; f < it->nf; f++) {
        vg_sbuf_printf(&c->ev, ",\"%s.%s\":", cat->prefix, it->name[f]);
        vg_sbuf_add_json_str(&c->ev, it->val[f], strlen(it->val[f]));
    }
    for (size_t f = 0; old && f < old->nf; f++) {
        const char *now = item_get(it, old->name[f]);
        if (!now || strcmp(now, old->val[f]) != 0) {
            vg_sbuf_printf(&c->ev, ",\"%s.previous.%s\":", cat->prefix, old->name[f]);
            vg_sbuf_add_json_str(&c->ev, old->val[f], strlen(old->val[f]));
        }
    }
    inv_send(c);
}

static bool item_same(const struct vg_agent_inv_item *a, const struct vg_agent_inv_item *b)
{
    if (a->nf != b->nf) {
        return false;
    }
    for (size_t f = 0; f < a->nf; f++) {
        if (strcmp(a->name[f], b->name[f]) != 0 || strcmp(a->val[f], b->val[f]) != 0) {
            return false;
        }
    }
    return true;
}

/* Merge two sorted lists, emitting added (0), removed (1) and changed (2) records. */
static void inv_diff(struct vg_agent_inv *c, int k, const struct vg_agent_inv_list *a,
                     const struct vg_agent_inv_list *b)
{
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int d = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].key, b->v[j].key);
        if (d < 0) {
            inv_emit_delta(c, k, &a->v[i++], NULL, 1);
        } else if (d > 0) {
            inv_emit_delta(c, k, &b->v[j++], NULL, 0);
        } else {
            if (!item_same(&a->v[i], &b->v[j])) {
                inv_emit_delta(c, k, &b->v[j], &a->v[i], 2);
            }
            i++;
            j++;
        }
    }
}

/* Take a snapshot; emit everything (first) or the differences; keep the new state. */
static void inv_check(struct vg_agent_inv *c)
{
    struct inv_snap cur;
    memset(&cur, 0, sizeof(cur));
    inv_collect(c, &cur);
    for (int k = 0; k < NCAT; k++) {
        if (!cur.ok[k]) { /* keep what we had: no false removals */
            vg_agent_inv_list_fini(&cur.lists[k]);
            cur.lists[k] = c->prev.lists[k];
            cur.ok[k] = c->prev.ok[k];
            memset(&c->prev.lists[k], 0, sizeof(c->prev.lists[k]));
        } else if (!c->have_prev || !c->prev.ok[k]) {
            inv_emit_full(c, k, &cur.lists[k]);
        } else {
            inv_diff(c, k, &c->prev.lists[k], &cur.lists[k]);
        }
    }
    if (!c->have_prev || c->prev.host.len != cur.host.len ||
        (cur.host.len && memcmp(c->prev.host.p, cur.host.p, cur.host.len) != 0)) {
        inv_emit_host(c, &cur);
    }
    inv_snap_fini(&c->prev);
    c->prev = cur;
    c->have_prev = true;
    pthread_mutex_lock(&c->mu);
    c->checks++;
    pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- thread */

/* Watch the directories of the dpkg status file, passwd and group (renames replace them). */
static void inv_watch(struct vg_agent_inv *c)
{
    const char *files[] = {c->conf.dpkg_status, c->conf.apk_installed, c->conf.passwd,
                           c->conf.group};
    c->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    for (size_t i = 0; c->ino_fd >= 0 && i < VG_ARRAY_LEN(files); i++) {
        char dir[4096];
        vg_strlcpy(dir, files[i], sizeof(dir));
        if (inotify_add_watch(c->ino_fd, dirname(dir),
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
            VG_DEBUG(COMP, "inotify on %s: %s", dir, strerror(errno));
        }
    }
}

/* Drain inotify; true when one of the watched files' names was touched. */
static bool inv_watch_hit(struct vg_agent_inv *c)
{
    const char *files[] = {c->conf.dpkg_status, c->conf.apk_installed, c->conf.passwd,
                           c->conf.group};
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool hit = false;
    ssize_t n;
    while ((n = read(c->ino_fd, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *e = (const struct inotify_event *)(buf + off);
            for (size_t i = 0; e->len && i < VG_ARRAY_LEN(files); i++) {
                const char *base = strrchr(files[i], '/');
                hit |= !strcmp(e->name, base ? base + 1 : files[i]);
            }
            off += (ssize_t)sizeof(*e) + e->len;
        }
    }
    return hit;
}

static void *inv_main(void *arg)
{
    struct vg_agent_inv *c = arg;
    inv_check(c);
    uint64_t next = vg_clock_ns() + (uint64_t)c->conf.interval_ms * 1000000;
    uint64_t pending = 0; /* debounce deadline, 0 = none */
    for (;;) {
        uint64_t now = vg_clock_ns();
        uint64_t due = pending && pending < next ? pending : next;
        int timeout = due > now ? (int)VG_MIN((due - now) / 1000000 + 1, 60000) : 0;
        struct pollfd pf[2] = {{.fd = c->stop_fd, .events = POLLIN},
                               {.fd = c->ino_fd, .events = POLLIN}};
        int r = poll(pf, c->ino_fd >= 0 ? 2 : 1, timeout);
        if (r > 0 && pf[0].revents) {
            return NULL;
        }
        if (r > 0 && pf[1].revents && inv_watch_hit(c) && !pending) {
            pending = vg_clock_ns() + (uint64_t)c->conf.debounce_ms * 1000000;
            pthread_mutex_lock(&c->mu);
            c->triggers++;
            pthread_mutex_unlock(&c->mu);
        }
        now = vg_clock_ns();
        if ((pending && now >= pending) || now >= next) {
            inv_check(c);
            pending = 0;
            next = vg_clock_ns() + (uint64_t)c->conf.interval_ms * 1000000;
        }
    }
}

/* ---------------------------------------------------------------- lifecycle */

static void inv_free(struct vg_agent_inv *c)
{
    if (c->ino_fd >= 0) {
        close(c->ino_fd);
    }
    if (c->stop_fd >= 0) {
        close(c->stop_fd);
    }
    inv_snap_fini(&c->prev);
    vg_sbuf_fini(&c->ev);
    vg_conf_release(inv_conf_table, VG_ARRAY_LEN(inv_conf_table), &c->conf);
    pthread_mutex_destroy(&c->mu);
    vg_free(c);
}

static int inv_start(const struct vg_agent_collector_opts *o, struct vg_agent_collector **out,
                     char *err, size_t errsz)
{
    struct vg_agent_inv *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        return VG_ENOMEM;
    }
    c->ino_fd = c->stop_fd = -1;
    pthread_mutex_init(&c->mu, NULL);
    c->emit = o->emit;
    c->emit_ctx = o->emit_ctx;
    int rc = o->emit ? inv_conf_load(o->conf, &c->conf, err, errsz) : VG_EINVAL;
    if (!o->emit) {
        snprintf(err, errsz, "inventory: no emit callback");
    } else if (rc == VG_OK && o->force_backend && strcmp(o->force_backend, "files") != 0) {
        snprintf(err, errsz, "inventory: unknown backend '%s' (files)", o->force_backend);
        rc = VG_EINVAL;
    }
    if (rc == VG_OK && (c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        snprintf(err, errsz, "inventory: eventfd: %s", strerror(errno));
        rc = VG_EIO;
    }
    if (rc == VG_OK) {
        inv_watch(c); /* no inotify: the periodic check still runs */
        if (pthread_create(&c->thread, NULL, inv_main, c) != 0) {
            snprintf(err, errsz, "inventory: cannot start thread");
            rc = VG_ERROR;
        }
    }
    if (rc != VG_OK) {
        inv_free(c);
        return rc;
    }
    c->started = true;
    *out = (struct vg_agent_collector *)c;
    return VG_OK;
}

static const char *inv_backend_name(const struct vg_agent_collector *cc)
{
    VG_UNUSED(cc);
    return "files";
}

static void inv_stats(const struct vg_agent_collector *cc, struct vg_sbuf *out)
{
    struct vg_agent_inv *c = (struct vg_agent_inv *)cc;
    pthread_mutex_lock(&c->mu);
    vg_sbuf_printf(out,
                   "{\"backend\":\"files\",\"inotify\":%s,\"checks\":%llu,\"triggers\":%llu,"
                   "\"events\":%llu,\"drops\":%llu,\"errors\":%llu,\"last_error\":",
                   c->ino_fd >= 0 ? "true" : "false", (unsigned long long)c->checks,
                   (unsigned long long)c->triggers, (unsigned long long)c->events,
                   (unsigned long long)c->drops, (unsigned long long)c->errors);
    vg_sbuf_add_json_str(out, c->last_error, strlen(c->last_error));
    vg_sbuf_addc(out, '}');
    pthread_mutex_unlock(&c->mu);
}

static void inv_stop(struct vg_agent_collector *cc)
{
    struct vg_agent_inv *c = (struct vg_agent_inv *)cc;
    if (!c) {
        return;
    }
    uint64_t one = 1;
    if (write(c->stop_fd, &one, sizeof(one)) != sizeof(one)) {
        VG_WARN(COMP, "stop signal failed: %s", strerror(errno));
    }
    if (c->started) {
        pthread_join(c->thread, NULL);
    }
    inv_free(c);
}

const struct vg_agent_collector_def vg_agent_inv_collector = {
    .name = "inventory",
    .description = "packages (dpkg, rpm), users, groups, kernel modules, OS and hardware facts",
    .backends = inv_backends,
    .start = inv_start,
    .backend = inv_backend_name,
    .stats = inv_stats,
    .stop = inv_stop,
};
