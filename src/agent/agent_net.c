/*
 * agent_net.c — the agent's "network" collector: periodic snapshots of the host's TCP and UDP
 * sockets with their owning process, turned into connection events by diffing consecutive
 * snapshots.
 *
 * Backends, in order of preference: "sock_diag" (NETLINK_SOCK_DIAG, agent_net_diag.c) and
 * "procfs" (/proc/net/tcp{,6} and udp{,6}, agent_net_proc.c). Every `interval_ms` the thread
 * takes a snapshot, sorts it, and merges it against the previous one:
 *   - a new established TCP (or connected UDP) socket → "connection_opened",
 *     a new listening TCP (or bound unconnected UDP) socket → "listening";
 *   - a socket that is gone → "connection_closed" / "listen_closed", with the process that
 *     owned it when it appeared.
 * Owners come from an inode → pid map built from /proc/PID/fd, rebuilt only when a snapshot
 * holds an inode the map does not know (at most once per snapshot). A connection whose local
 * port is one the host listens on is "inbound" (source = the peer), else "outbound"
 * (source = this host), as ECS defines source as the initiator. A listening socket puts its
 * bound address in source.*. Connections that open and close between two snapshots are not
 * seen: this is a state collector; the process collector sees short-lived activity.
 *
 * Configuration (the collector's section): interval_ms (default 10000),
 * report_existing (bool, default true: the first snapshot reports every socket it finds).
 */
#include "agent/agent_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define COMP "agent.net"

struct net_conf {
    int64_t interval_ms;
    bool report_existing;
    bool enabled;
};

static const struct vg_conf_field net_conf_table[] = {
    {"network.enabled", VG_CONF_BOOL, offsetof(struct net_conf, enabled), "true", 1, 0, false, true,
     NULL, "run this collector"},
    {"network.interval_ms", VG_CONF_INT, offsetof(struct net_conf, interval_ms), "10000", 10,
     86400000, false, true, NULL, "milliseconds between two socket snapshots"},
    {"network.report_existing", VG_CONF_BOOL, offsetof(struct net_conf, report_existing), "true", 1,
     0, false, true, NULL, "report the sockets found by the first snapshot"},
};

struct vg_agent_net {
    struct net_conf conf;
    enum vg_agent_net_backend backend;
    vg_agent_emit_fn emit;
    void *emit_ctx;
    struct vg_agent_net_owners *owners;
    struct vg_agent_net_snap prev;
    bool have_prev;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stopping;
    /* counters (under mu) */
    uint64_t snapshots, sockets, events, drops, errors, refreshes;
    struct vg_sbuf ev; /* event buffer (collector thread only) */
};

static const char *const net_backends[] = {"sock_diag", "procfs", NULL};

/* ---------------------------------------------------------------- configuration */

/*
 * Bind the collector's section under the name "network" (so errors read "network.interval_ms"
 * and environment overrides are VIGIE_NETWORK_*).
 */
static int net_conf_load(const struct vg_yaml_node *conf, struct net_conf *c, char *err,
                         size_t errsz)
{
    return vg_agent_conf_bind("network", net_conf_table, VG_ARRAY_LEN(net_conf_table), conf, c, err,
                              errsz);
}

/* ---------------------------------------------------------------- snapshots */

static int sock_cmp(const void *a, const void *b)
{
    const struct vg_agent_net_sock *x = a, *y = b;
    int d;
    if (x->proto != y->proto) {
        return x->proto - y->proto;
    }
    if (x->family != y->family) {
        return x->family - y->family;
    }
    if (x->sport != y->sport) {
        return x->sport - y->sport;
    }
    if (x->dport != y->dport) {
        return x->dport - y->dport;
    }
    if ((d = memcmp(x->src, y->src, 16)) != 0 || (d = memcmp(x->dst, y->dst, 16)) != 0) {
        return d;
    }
    if (x->listening != y->listening) {
        return x->listening - y->listening;
    }
    return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static int net_snapshot(enum vg_agent_net_backend b, struct vg_agent_net_snap *s, char *err,
                        size_t errsz)
{
    int rc = b == VG_AGENT_NET_SOCK_DIAG ? vg_agent_net_diag_snapshot(s, err, errsz)
                                         : vg_agent_net_proc_snapshot(s, err, errsz);
    if (rc == VG_OK && s->n > 1) {
        qsort(s->v, s->n, sizeof(*s->v), sock_cmp);
    }
    return rc;
}

/* Is (proto, port) a port this host listens on (any address, any family)? */
static bool port_listened(const struct vg_agent_net_snap *s, uint8_t proto, uint16_t port)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].listening && s->v[i].proto == proto && s->v[i].sport == port) {
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- events */

/* IPv4-mapped IPv6 addresses are written as IPv4 (what rules and analysts expect). */
static void add_ip(struct vg_sbuf *e, const char *key, int family, const uint8_t *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char txt[INET6_ADDRSTRLEN];
    if (family == AF_INET6 && !memcmp(a, mapped, 12)) {
        inet_ntop(AF_INET, a + 12, txt, sizeof(txt));
    } else if (!inet_ntop(family, a, txt, sizeof(txt))) {
        return;
    }
    vg_sbuf_printf(e, ",\"%s\":", key);
    vg_sbuf_add_json_str(e, txt, strlen(txt));
}

static void add_str(struct vg_sbuf *e, const char *key, const char *v, size_t n)
{
    vg_sbuf_printf(e, ",\"%s\":", key);
    vg_sbuf_add_json_str(e, v, n);
}

/* process.pid / executable / name of the owner, read now (a vanished process gives only pid). */
static void add_process(struct vg_sbuf *e, int32_t pid)
{
    char path[64], exe[4096], comm[64];
    if (pid <= 0) {
        return;
    }
    vg_sbuf_printf(e, ",\"process.pid\":%d", (int)pid);
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof(exe));
    if (n > 0 && (size_t)n < sizeof(exe)) {
        add_str(e, "process.executable", exe, (size_t)n);
    }
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "re");
    if (f) {
        if (fgets(comm, sizeof(comm), f)) {
            add_str(e, "process.name", comm, strcspn(comm, "\n"));
        }
        fclose(f);
    }
}

static void net_event_build(struct vg_sbuf *e, const struct vg_agent_net_sock *k, bool opened)
{
    static const char *const actions[2][2] = {{"connection_closed", "listen_closed"},
                                              {"connection_opened", "listening"}};
    char ts[40];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    vg_sbuf_reset(e);
    vg_sbuf_printf(e,
                   "{\"@timestamp\":\"%s\",\"event.module\":\"vigie-agent\","
                   "\"event.dataset\":\"network\",\"event.kind\":\"event\","
                   "\"event.category\":\"network\",\"event.type\":[\"connection\",\"%s\"],"
                   "\"event.action\":\"%s\"",
                   ts, opened ? "start" : "end", actions[opened][k->listening]);
    const uint8_t *local = k->src, *remote = k->dst;
    uint16_t lport = k->sport, rport = k->dport;
    if (k->listening) {
        add_ip(e, "source.ip", k->family, local);
        vg_sbuf_printf(e, ",\"source.port\":%u", lport);
    } else {
        bool in = k->inbound;
        add_ip(e, "source.ip", k->family, in ? remote : local);
        vg_sbuf_printf(e, ",\"source.port\":%u", in ? rport : lport);
        add_ip(e, "destination.ip", k->family, in ? local : remote);
        vg_sbuf_printf(e, ",\"destination.port\":%u", in ? lport : rport);
    }
    vg_sbuf_printf(e,
                   ",\"network.transport\":\"%s\",\"network.type\":\"%s\","
                   "\"network.direction\":\"%s\",\"user.id\":\"%u\"",
                   k->proto == IPPROTO_TCP ? "tcp" : "udp", k->family == AF_INET ? "ipv4" : "ipv6",
                   (k->listening || k->inbound) ? "inbound" : "outbound", k->uid);
    add_process(e, k->pid);
    vg_sbuf_addc(e, '}');
}

static void net_emit(struct vg_agent_net *c, const struct vg_agent_net_sock *k, bool opened)
{
    net_event_build(&c->ev, k, opened);
    int rc = c->ev.err ? c->ev.err : c->emit(c->emit_ctx, c->ev.p, c->ev.len);
    pthread_mutex_lock(&c->mu);
    if (rc == VG_OK) {
        c->events++;
    } else {
        c->drops++;
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- diff */

/* Fill owner and direction of the sockets of cur that prev does not have. */
static void net_resolve_new(struct vg_agent_net *c, struct vg_agent_net_snap *cur, bool *is_new)
{
    bool refreshed = false;
    for (size_t i = 0; i < cur->n; i++) {
        struct vg_agent_net_sock *k = &cur->v[i];
        if (!is_new[i]) {
            continue;
        }
        k->inbound = !k->listening && port_listened(cur, k->proto, k->sport);
        k->pid = vg_agent_net_owners_get(c->owners, k->inode);
        if (!k->pid && k->inode && !refreshed) {
            refreshed = true;
            if (vg_agent_net_owners_refresh(c->owners) == VG_OK) {
                c->refreshes++;
            }
            k->pid = vg_agent_net_owners_get(c->owners, k->inode);
        }
    }
}

/*
 * Merge prev and cur (both sorted): mark new sockets, carry pid/direction of the ones that
 * stay, emit the closed ones. Returns the number of new sockets (or -1: no memory).
 */
static long net_diff(struct vg_agent_net *c, struct vg_agent_net_snap *cur, bool *is_new)
{
    size_t i = 0, j = 0;
    long added = 0;
    while (i < c->prev.n || j < cur->n) {
        int d = i == c->prev.n ? 1 : j == cur->n ? -1 : sock_cmp(&c->prev.v[i], &cur->v[j]);
        if (d < 0) {
            net_emit(c, &c->prev.v[i++], false);
        } else if (d > 0) {
            is_new[j++] = true;
            added++;
        } else {
            cur->v[j].pid = c->prev.v[i].pid;
            cur->v[j++].inbound = c->prev.v[i++].inbound;
        }
    }
    return added;
}

static void net_step(struct vg_agent_net *c)
{
    struct vg_agent_net_snap cur = {0};
    char err[256] = "";
    bool *is_new = NULL;
    int rc = net_snapshot(c->backend, &cur, err, sizeof(err));
    if (rc == VG_OK && !(is_new = vg_calloc(cur.n + 1, sizeof(bool)))) {
        rc = VG_ENOMEM;
    }
    if (rc != VG_OK) {
        VG_WARN(COMP, "snapshot failed: %s", err[0] ? err : vg_strerror(rc));
        pthread_mutex_lock(&c->mu);
        c->errors++;
        pthread_mutex_unlock(&c->mu);
        goto out;
    }
    bool report = c->have_prev || c->conf.report_existing;
    net_diff(c, &cur, is_new);
    net_resolve_new(c, &cur, is_new);
    for (size_t j = 0; report && j < cur.n; j++) {
        if (is_new[j]) {
            net_emit(c, &cur.v[j], true);
        }
    }
    pthread_mutex_lock(&c->mu);
    c->snapshots++;
    c->sockets = cur.n;
    pthread_mutex_unlock(&c->mu);
    vg_agent_net_snap_fini(&c->prev);
    c->prev = cur;
    cur = (struct vg_agent_net_snap){0};
    c->have_prev = true;
out:
    vg_free(is_new);
    vg_agent_net_snap_fini(&cur);
}

/* ---------------------------------------------------------------- thread and lifecycle */

static void *net_main(void *arg)
{
    struct vg_agent_net *c = arg;
    for (;;) {
        net_step(c);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + c->conf.interval_ms * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        pthread_mutex_lock(&c->mu);
        while (!c->stopping && pthread_cond_timedwait(&c->cond, &c->mu, &until) != ETIMEDOUT) {
        }
        bool stop = c->stopping;
        pthread_mutex_unlock(&c->mu);
        if (stop) {
            return NULL;
        }
    }
}

/* Try the forced backend, or each in order; err gathers why each failed. */
static int net_pick_backend(const char *force, enum vg_agent_net_backend *out, char *err,
                            size_t errsz)
{
    size_t used = 0;
    for (int b = 0; net_backends[b]; b++) {
        if (force && strcmp(force, net_backends[b]) != 0) {
            continue;
        }
        struct vg_agent_net_snap s = {0};
        char e[200] = "";
        int rc = net_snapshot((enum vg_agent_net_backend)b, &s, e, sizeof(e));
        vg_agent_net_snap_fini(&s);
        if (rc == VG_OK) {
            *out = (enum vg_agent_net_backend)b;
            return VG_OK;
        }
        used += (size_t)snprintf(err + used, used < errsz ? errsz - used : 0, "%s%s: %s",
                                 used ? "; " : "", net_backends[b], e[0] ? e : vg_strerror(rc));
        used = VG_MIN(used, errsz);
    }
    if (!used) {
        snprintf(err, errsz, "network: unknown backend '%s' (sock_diag, procfs)",
                 force ? force : "");
        return VG_EINVAL;
    }
    return VG_EUNSUPPORTED;
}

static void net_free(struct vg_agent_net *c)
{
    vg_agent_net_owners_destroy(c->owners);
    vg_agent_net_snap_fini(&c->prev);
    vg_sbuf_fini(&c->ev);
    vg_conf_release(net_conf_table, VG_ARRAY_LEN(net_conf_table), &c->conf);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cond);
    vg_free(c);
}

static int net_start(const struct vg_agent_collector_opts *o, struct vg_agent_collector **out,
                     char *err, size_t errsz)
{
    struct vg_agent_net *c = vg_calloc(1, sizeof(*c));
    pthread_condattr_t ca;
    if (!c || !o->emit) {
        vg_free(c);
        snprintf(err, errsz, "network: %s", c ? "no emit callback" : "out of memory");
        return c ? VG_EINVAL : VG_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    c->emit = o->emit;
    c->emit_ctx = o->emit_ctx;
    int rc = net_conf_load(o->conf, &c->conf, err, errsz);
    if (rc == VG_OK) {
        rc = net_pick_backend(o->force_backend, &c->backend, err, errsz);
    }
    if (rc == VG_OK && !(c->owners = vg_agent_net_owners_create())) {
        rc = VG_ENOMEM;
    }
    if (rc == VG_OK && pthread_create(&c->thread, NULL, net_main, c) != 0) {
        snprintf(err, errsz, "network: cannot start thread");
        rc = VG_ERROR;
    }
    if (rc != VG_OK) {
        net_free(c);
        return rc;
    }
    c->started = true;
    VG_INFO(COMP, "network collector started on backend %s", net_backends[c->backend]);
    *out = (struct vg_agent_collector *)c;
    return VG_OK;
}

static const char *net_backend_name(const struct vg_agent_collector *cc)
{
    const struct vg_agent_net *c = (const struct vg_agent_net *)cc;
    return net_backends[c->backend];
}

static void net_stats(const struct vg_agent_collector *cc, struct vg_sbuf *out)
{
    struct vg_agent_net *c = (struct vg_agent_net *)cc;
    pthread_mutex_lock(&c->mu);
    vg_sbuf_printf(out,
                   "{\"backend\":\"%s\",\"snapshots\":%llu,\"sockets\":%llu,\"events\":%llu,"
                   "\"drops\":%llu,\"errors\":%llu,\"owner_refreshes\":%llu}",
                   net_backends[c->backend], (unsigned long long)c->snapshots,
                   (unsigned long long)c->sockets, (unsigned long long)c->events,
                   (unsigned long long)c->drops, (unsigned long long)c->errors,
                   (unsigned long long)c->refreshes);
    pthread_mutex_unlock(&c->mu);
}

static void net_stop(struct vg_agent_collector *cc)
{
    struct vg_agent_net *c = (struct vg_agent_net *)cc;
    if (!c) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    if (c->started) {
        pthread_join(c->thread, NULL);
    }
    net_free(c);
}

const struct vg_agent_collector_def vg_agent_net_collector = {
    .name = "network",
    .description = "TCP/UDP connections and listening ports with the owning process",
    .backends = net_backends,
    .start = net_start,
    .backend = net_backend_name,
    .stats = net_stats,
    .stop = net_stop,
};
