/*
 * agent_proc.h — internals of the agent's process collector ("process"), shared by its files:
 *
 *   agent_proc.c         the collector (table entry, configuration, backend choice, stats)
 *   agent_proc_event.c   enrichment from /proc and caches (users, hashes, pids) + ECS JSON
 *   agent_proc_scan.c    pid sets: /proc scans and diffs (proc_poll, connector resync)
 *   agent_proc_bpf.c     backend "ebpf": tp_btf sched_process_{exec,fork,exit} + ring buffer
 *   agent_proc_cn.c      backend "proc_connector": netlink CN_IDX_PROC
 *   agent_proc_audit.c   backend "audit": execve rules (key vigie-agent) over NETLINK_AUDIT,
 *                        undone at stop (see the file)
 *   agent_proc_poll.c    backend "proc_poll": periodic /proc scans
 *
 * A backend turns what the kernel reports into struct vg_agent_proc_obs (raw facts, strings
 * borrowed) and hands it to vg_agent_proc_observe(), which enriches it from /proc/PID and
 * the caches and emits one JSON event. Everything below runs on the backend's one thread,
 * except the counters (atomics) read by stats().
 */
#ifndef VG_AGENT_PROC_H
#define VG_AGENT_PROC_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "agent/agent.h"

/* The collector's table entry. */
extern const struct vg_agent_collector_def vg_agent_proc_collector;

enum vg_agent_proc_kind {
    VG_AGENT_PROC_EXEC = 1,
    VG_AGENT_PROC_FORK = 2,
    VG_AGENT_PROC_EXIT = 3,
};

/* What a backend saw. Unknown numbers are -1, unknown strings NULL; strings are borrowed. */
struct vg_agent_proc_obs {
    enum vg_agent_proc_kind kind;
    int32_t pid;          /* the process (the child of a fork) */
    int32_t ppid;         /* its parent */
    int64_t uid, gid;     /* real ids */
    int64_t wstatus;      /* exit: wait status (code << 8 | signal); -1 unknown */
    vg_time_t ts;         /* when it happened (wall clock) */
    vg_time_t start;      /* process start (wall clock); VG_TIME_NONE unknown */
    const char *comm;     /* kernel task name */
    const char *filename; /* exec: the path given to execve */
    const char *args;     /* exec: NUL-separated argv (as /proc/PID/cmdline) */
    size_t args_len;
    bool args_truncated;
    bool resync; /* found by a /proc rescan, not reported by the kernel */
};

/* Configuration (the collector's section of the agent configuration). */
struct vg_agent_proc_conf {
    int64_t poll_interval_ms; /* proc_poll period */
    bool hash;                /* compute process.hash.sha256 */
    int64_t hash_max_size;    /* bytes: larger executables are not hashed (flagged) */
    int64_t hash_cache;       /* entries of the hash cache (rounded up to a power of two) */
    int64_t args_max;         /* bytes of argv read from /proc/PID/cmdline */
    int64_t rcvbuf;           /* bytes: proc_connector socket buffer (SO_RCVBUFFORCE) */
};

/* Counters; written by the backend thread, read by stats() from any thread. */
struct vg_agent_proc_stats {
    atomic_uint_fast64_t events, exec, fork, exit;
    atomic_uint_fast64_t emit_errors; /* the emit callback refused an event */
    atomic_uint_fast64_t lost;        /* kernel-side losses (ring buffer full, ENOBUFS) */
    atomic_uint_fast64_t resyncs;     /* /proc rescans after a loss */
    atomic_uint_fast64_t proc_gone;   /* /proc/PID vanished or denied during enrichment */
    atomic_uint_fast64_t hash_computed, hash_hits, hash_skipped, hash_errors;
    atomic_uint_fast64_t backend_errors; /* read errors of the backend's source */
};

struct vg_agent_proc;

/* A backend: open probes and sets up (VG_EUNSUPPORTED + reason when the kernel lacks it),
   run is the thread body until p->stop_fd is readable, close frees what open made. */
struct vg_agent_proc_backend {
    const char *name;
    int (*open)(struct vg_agent_proc *p, char *err, size_t errsz);
    void (*run)(struct vg_agent_proc *p);
    void (*close)(struct vg_agent_proc *p);
};

extern const struct vg_agent_proc_backend vg_agent_proc_be_ebpf;
extern const struct vg_agent_proc_backend vg_agent_proc_be_cn;
extern const struct vg_agent_proc_backend vg_agent_proc_be_audit;
extern const struct vg_agent_proc_backend vg_agent_proc_be_poll;

/* A sorted set of pids (tgids). */
struct vg_agent_proc_pidset {
    int32_t *v;
    size_t n, cap;
};

struct vg_agent_proc_enrich; /* caches, agent_proc_event.c */

struct vg_agent_proc {
    struct vg_agent_proc_conf conf;
    const struct vg_agent_proc_backend *be;
    void *be_state; /* the backend's own */
    vg_agent_emit_fn emit;
    void *emit_ctx;
    int stop_fd; /* eventfd: readable once stop() is called */
    pthread_t thread;
    bool thread_started;
    vg_time_t boot_wall; /* wall-clock time of CLOCK_BOOTTIME 0 */
    long clk_tck;
    struct vg_agent_proc_enrich *en;
    struct vg_agent_proc_stats st;
};

/* ---- agent_proc_event.c */
int vg_agent_proc_enrich_create(struct vg_agent_proc *p);
void vg_agent_proc_enrich_destroy(struct vg_agent_proc *p);
/* Enrich o from /proc/PID and the caches, emit it as one ECS event and count it. */
void vg_agent_proc_observe(struct vg_agent_proc *p, const struct vg_agent_proc_obs *o);
/* Emit a notice that kernel events were lost (action "resync"); lost may be 0 (unknown). */
void vg_agent_proc_notice_lost(struct vg_agent_proc *p, uint64_t lost);
/* CLOCK_BOOTTIME nanoseconds to wall clock. */
vg_time_t vg_agent_proc_boot_to_wall(const struct vg_agent_proc *p, uint64_t boot_ns);
/* Read a small /proc file into buf (NUL-terminated); bytes read or -errno. */
ssize_t vg_agent_proc_read_small(const char *path, char *buf, size_t size);

/* ---- agent_proc_scan.c */
void vg_agent_proc_pidset_fini(struct vg_agent_proc_pidset *s);
int vg_agent_proc_pidset_add(struct vg_agent_proc_pidset *s, int32_t pid);
void vg_agent_proc_pidset_del(struct vg_agent_proc_pidset *s, int32_t pid);
bool vg_agent_proc_pidset_has(const struct vg_agent_proc_pidset *s, int32_t pid);
/* Fill out with the pids now in /proc. */
int vg_agent_proc_pidset_scan(struct vg_agent_proc_pidset *out);
/*
 * Rescan /proc, emit exec for pids new since *known and exit for pids gone (resync marks
 * them as found by a rescan), then make *known the new set. VG_OK or VG_EIO/VG_ENOMEM.
 */
int vg_agent_proc_pidset_sync(struct vg_agent_proc *p, struct vg_agent_proc_pidset *known,
                              bool resync);

/* Wait up to timeout_ms for fd (or -1: none) or the stop event; 1 fd ready, 0 timeout,
   -1 stop requested. */
int vg_agent_proc_wait(struct vg_agent_proc *p, int fd, int timeout_ms);

#endif /* VG_AGENT_PROC_H */
