/*
 * agent_proc.c — the agent's process collector ("process"): exec, fork and exit events with
 * pid, ppid, user, executable, argv, cwd, cgroup/container and the executable's SHA-256.
 *
 * This file is the collector's table entry: it reads the configuration, picks the first
 * backend the kernel offers (ebpf → proc_connector → audit → proc_poll, or the one forced
 * by a test), runs it on one thread, and reports counters. The backends live in
 * agent_proc_<backend>.c; enrichment and the event format in agent_proc_event.c.
 */
#include "agent/agent_proc.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define COMP "agent.proc"

static const char *const proc_backend_names[] = {"ebpf", "proc_connector", "audit", "proc_poll",
                                                 NULL};

static const struct vg_agent_proc_backend *const proc_backends[] = {
    &vg_agent_proc_be_ebpf,
    &vg_agent_proc_be_cn,
    &vg_agent_proc_be_audit,
    &vg_agent_proc_be_poll,
};

#define F(x) offsetof(struct vg_agent_proc_conf, x)
static const struct vg_conf_field proc_conf_table[] = {
    {"poll_interval_ms", VG_CONF_INT, F(poll_interval_ms), "1000", 10, 3600000, false, true, NULL,
     "proc_poll backend: period of the /proc scan (milliseconds)"},
    {"hash", VG_CONF_BOOL, F(hash), "true", 0, -1, false, true, NULL,
     "compute process.hash.sha256 of executables (cached by dev, inode, mtime, size)"},
    {"hash_max_size", VG_CONF_INT, F(hash_max_size), "104857600", 0, INT64_MAX, false, true, NULL,
     "executables larger than this (bytes) are not hashed; the event says so"},
    {"hash_cache", VG_CONF_INT, F(hash_cache), "4096", 16, 1048576, false, false, NULL,
     "entries of the executable hash cache"},
    {"args_max", VG_CONF_INT, F(args_max), "8192", 256, 1048576, false, true, NULL,
     "bytes of argv read from /proc/PID/cmdline (the eBPF backend reads at most 4095)"},
    {"rcvbuf", VG_CONF_INT, F(rcvbuf), "33554432", 65536, 1073741824, false, false, NULL,
     "proc_connector backend: socket receive buffer (SO_RCVBUFFORCE)"},
};
#undef F

/* ---------------------------------------------------------------- helpers for backends */

int vg_agent_proc_wait(struct vg_agent_proc *p, int fd, int timeout_ms)
{
    struct pollfd pf[2] = {{.fd = p->stop_fd, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    int n = poll(pf, fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0) {
        return errno == EINTR ? 0 : -1;
    }
    if (pf[0].revents) {
        return -1;
    }
    return n > 0 ? 1 : 0;
}

vg_time_t vg_agent_proc_boot_to_wall(const struct vg_agent_proc *p, uint64_t boot_ns)
{
    return p->boot_wall + (vg_time_t)boot_ns;
}

static vg_time_t proc_boot_wall(void)
{
    struct timespec b;
    clock_gettime(CLOCK_BOOTTIME, &b);
    vg_time_t now = vg_time_now();
    return now - ((vg_time_t)b.tv_sec * 1000000000LL + b.tv_nsec);
}

/* ---------------------------------------------------------------- lifecycle */

static void *proc_thread(void *arg)
{
    struct vg_agent_proc *p = arg;
    p->be->run(p);
    return NULL;
}

static void proc_free(struct vg_agent_proc *p)
{
    if (!p) {
        return;
    }
    if (p->stop_fd >= 0) {
        close(p->stop_fd);
    }
    vg_agent_proc_enrich_destroy(p);
    vg_free(p);
}

static int proc_conf_load(struct vg_agent_proc *p, const struct vg_yaml_node *conf, char *err,
                          size_t errsz)
{
    size_t n = VG_ARRAY_LEN(proc_conf_table);
    int rc = vg_conf_defaults(proc_conf_table, n, &p->conf, err, errsz);
    if (rc == VG_OK) {
        rc = vg_conf_bind(proc_conf_table, n, conf, "process collector", &p->conf, err, errsz);
    }
    return rc;
}

static struct vg_agent_proc *proc_alloc(const struct vg_agent_collector_opts *o, char *err,
                                        size_t errsz, int *rc)
{
    struct vg_agent_proc *p = vg_calloc(1, sizeof(*p));
    if (!p) {
        *rc = VG_ENOMEM;
        return NULL;
    }
    p->stop_fd = -1;
    p->emit = o->emit;
    p->emit_ctx = o->emit_ctx;
    p->clk_tck = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    p->boot_wall = proc_boot_wall();
    if ((*rc = proc_conf_load(p, o->conf, err, errsz)) != VG_OK) {
        goto fail;
    }
    p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->stop_fd < 0) {
        snprintf(err, errsz, "eventfd: %s", strerror(errno));
        *rc = VG_EIO;
        goto fail;
    }
    if ((*rc = vg_agent_proc_enrich_create(p)) != VG_OK) {
        goto fail;
    }
    return p;
fail:
    proc_free(p);
    return NULL;
}

/* Append "name: reason; " to err (the reasons of every backend that did not work). */
static void proc_err_append(char *err, size_t errsz, const char *name, const char *why)
{
    size_t l = strnlen(err, errsz);
    if (l + 1 < errsz) {
        snprintf(err + l, errsz - l, "%s%s: %s", l ? "; " : "", name, why);
    }
}

/* Try one backend: open it and start its thread. */
static int proc_try(struct vg_agent_proc *p, const struct vg_agent_proc_backend *be, char *err,
                    size_t errsz)
{
    char why[256] = "";
    p->be = be;
    int rc = be->open(p, why, sizeof(why));
    if (rc != VG_OK) {
        proc_err_append(err, errsz, be->name, why[0] ? why : vg_strerror(rc));
        p->be = NULL;
        return rc;
    }
    if (pthread_create(&p->thread, NULL, proc_thread, p) != 0) {
        be->close(p);
        proc_err_append(err, errsz, be->name, "cannot start its thread");
        p->be = NULL;
        return VG_ERROR;
    }
    p->thread_started = true;
    return VG_OK;
}

static int proc_start(const struct vg_agent_collector_opts *o, struct vg_agent_collector **out,
                      char *err, size_t errsz)
{
    int rc = VG_OK;
    *out = NULL;
    if (errsz) {
        err[0] = '\0';
    }
    if (!o || !o->emit) {
        snprintf(err, errsz, "process collector: no emit callback");
        return VG_EINVAL;
    }
    struct vg_agent_proc *p = proc_alloc(o, err, errsz, &rc);
    if (!p) {
        return rc;
    }
    bool known = false;
    for (size_t i = 0; i < VG_ARRAY_LEN(proc_backends); i++) {
        const struct vg_agent_proc_backend *be = proc_backends[i];
        if (o->force_backend && strcmp(o->force_backend, be->name) != 0) {
            continue;
        }
        known = true;
        rc = proc_try(p, be, err, errsz);
        if (rc == VG_OK) {
            VG_INFO(COMP, "process collector: backend %s", be->name);
            *out = (struct vg_agent_collector *)p;
            return VG_OK;
        }
        if (rc != VG_EUNSUPPORTED) {
            break; /* a real error: do not hide it behind a weaker backend */
        }
    }
    if (!known) {
        snprintf(err, errsz, "process collector: unknown backend \"%s\"", o->force_backend);
        rc = VG_EINVAL;
    }
    proc_free(p);
    return rc;
}

static void proc_stop(struct vg_agent_collector *c)
{
    struct vg_agent_proc *p = (struct vg_agent_proc *)c;
    if (!p) {
        return;
    }
    uint64_t one = 1;
    if (write(p->stop_fd, &one, sizeof(one)) < 0) {
        VG_WARN(COMP, "stop signal: %s", strerror(errno));
    }
    if (p->thread_started) {
        pthread_join(p->thread, NULL);
    }
    if (p->be) {
        p->be->close(p);
    }
    proc_free(p);
}

static const char *proc_backend(const struct vg_agent_collector *c)
{
    const struct vg_agent_proc *p = (const struct vg_agent_proc *)c;
    return p && p->be ? p->be->name : NULL;
}

static void proc_stats(const struct vg_agent_collector *c, struct vg_sbuf *out)
{
    const struct vg_agent_proc *p = (const struct vg_agent_proc *)c;
    if (!p) {
        vg_sbuf_adds(out, "{}");
        return;
    }
    const struct vg_agent_proc_stats *s = &p->st;
    vg_sbuf_printf(out,
                   "{\"backend\":\"%s\",\"events\":%llu,\"exec\":%llu,\"fork\":%llu,"
                   "\"exit\":%llu,\"emit_errors\":%llu,\"lost\":%llu,\"resyncs\":%llu,"
                   "\"proc_gone\":%llu,\"hash_computed\":%llu,\"hash_cache_hits\":%llu,"
                   "\"hash_skipped\":%llu,\"hash_errors\":%llu,\"backend_errors\":%llu}",
                   p->be ? p->be->name : "", (unsigned long long)s->events,
                   (unsigned long long)s->exec, (unsigned long long)s->fork,
                   (unsigned long long)s->exit, (unsigned long long)s->emit_errors,
                   (unsigned long long)s->lost, (unsigned long long)s->resyncs,
                   (unsigned long long)s->proc_gone, (unsigned long long)s->hash_computed,
                   (unsigned long long)s->hash_hits, (unsigned long long)s->hash_skipped,
                   (unsigned long long)s->hash_errors, (unsigned long long)s->backend_errors);
}

const struct vg_agent_collector_def vg_agent_proc_collector = {
    .name = "process",
    .description = "process exec/fork/exit with user, executable, argv, cwd, cgroup, SHA-256",
    .backends = proc_backend_names,
    .start = proc_start,
    .backend = proc_backend,
    .stats = proc_stats,
    .stop = proc_stop,
};
