/*
 * agent_proc_bpf.c — the process collector's preferred backend "ebpf": the program in
 * bpf/proc.bpf.c (BTF-enabled raw tracepoints sched_process_exec/fork/exit; CO-RE, so one
 * object runs on any kernel with BTF; no kprobes, no tracefs), loaded through the libbpf
 * skeleton that bpf/CMakeLists.txt generates at build time. Records arrive through a BPF
 * ring buffer; exec records carry the path execve resolved (the interpreter for scripts)
 * and argv read from the new mm, so short-lived processes are complete even when /proc/PID
 * is already gone. The program wakes the reader only when the buffer fills past a quarter;
 * otherwise the reader drains it every VG_PROC_BPF_DRAIN_MS (a wake-up per record would
 * cost more than the record, in the kernel and here). Records lost to a full ring buffer are
 * counted in the program and reported as "lost" in stats() and by a "resync" notice.
 *
 * Built without the skeleton (VG_AGENT_NO_BPF: no clang, bpftool or kernel BTF at build
 * time), open() reports the backend unsupported.
 */
#include "agent/agent_proc.h"

#include <errno.h>
#include <string.h>

#if !defined(VG_AGENT_NO_BPF) && __has_include("vg_proc_bpf.skel.h")

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include <unistd.h>

#include "proc_event.h"
#include "vg_proc_bpf.skel.h"

struct bpf_state {
    struct vg_proc_bpf *skel;
    struct ring_buffer *rb;
    int ncpu;
    uint64_t lost_seen; /* drops already reported */
};

static int bpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_WARN && vg_log_level_current >= VG_LOG_DEBUG) {
        char line[512];
        vsnprintf(line, sizeof(line), fmt, ap);
        VG_DEBUG("agent.proc", "libbpf: %s", line);
    }
    return 0;
}

/* Copy a kernel string of at most n bytes (it may lack its NUL when truncated). */
static void kstr(char *dst, size_t size, const char *src, size_t n)
{
    size_t l = strnlen(src, VG_MIN(n, size - 1));
    memcpy(dst, src, l);
    dst[l] = '\0';
}

static int bpf_on_record(void *ctx, void *data, size_t size)
{
    struct vg_agent_proc *p = ctx;
    const struct vg_proc_bpf_hdr *h = data;
    if (size < sizeof(*h) || h->kind < VG_PROC_BPF_EXEC || h->kind > VG_PROC_BPF_EXIT) {
        return 0;
    }
    char comm[VG_PROC_BPF_COMM + 1], filename[VG_PROC_BPF_FILENAME + 1];
    kstr(comm, sizeof(comm), h->comm, sizeof(h->comm));
    struct vg_agent_proc_obs o = {
        .kind = (enum vg_agent_proc_kind)h->kind, /* VG_PROC_BPF_* match the kinds */
        .pid = (int32_t)h->pid,
        .ppid = (int32_t)h->ppid,
        .uid = h->uid,
        .gid = h->gid,
        .wstatus = h->kind == VG_PROC_BPF_EXIT ? (int64_t)h->exit_code : -1,
        .ts = vg_agent_proc_boot_to_wall(p, h->ts_ns),
        .start = h->start_ns ? vg_agent_proc_boot_to_wall(p, h->start_ns) : VG_TIME_NONE,
        .comm = comm,
    };
    if (h->kind == VG_PROC_BPF_EXEC && size >= sizeof(struct vg_proc_bpf_exec)) {
        const struct vg_proc_bpf_exec *e = data;
        kstr(filename, sizeof(filename), e->filename, sizeof(e->filename));
        o.filename = filename;
        o.args = e->args;
        o.args_len = VG_MIN(e->args_len, sizeof(e->args));
        o.args_truncated = e->args_full > e->args_len;
    }
    vg_agent_proc_observe(p, &o);
    return 0;
}

/* Sum of the program's per-CPU drop counters. */
static uint64_t bpf_drops(struct bpf_state *s)
{
    uint64_t vals[512] = {0}, sum = 0;
    uint32_t k = 0;
    if (s->ncpu <= 0 || s->ncpu > 512 ||
        bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.drops), &k, vals) != 0) {
        return 0;
    }
    for (int i = 0; i < s->ncpu; i++) {
        sum += vals[i];
    }
    return sum;
}

static void bpf_free(struct bpf_state *s)
{
    if (!s) {
        return;
    }
    ring_buffer__free(s->rb);
    vg_proc_bpf__destroy(s->skel);
    vg_free(s);
}

static int bpf_open(struct vg_agent_proc *p, char *err, size_t errsz)
{
    struct bpf_state *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return VG_ENOMEM;
    }
    libbpf_set_print(bpf_print);
    s->ncpu = libbpf_num_possible_cpus();
    int e = 0;
    if (!(s->skel = vg_proc_bpf__open_and_load())) {
        e = errno;
        snprintf(err, errsz, "load the eBPF program: %s (needs root/CAP_BPF and kernel BTF)",
                 strerror(e));
        goto fail;
    }
    if (vg_proc_bpf__attach(s->skel) != 0) {
        e = errno;
        snprintf(err, errsz, "attach to sched_process_* raw tracepoints: %s", strerror(e));
        goto fail;
    }
    s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), bpf_on_record, p, NULL);
    if (!s->rb) {
        e = errno;
        snprintf(err, errsz, "ring buffer: %s", strerror(e));
        goto fail;
    }
    p->be_state = s;
    return VG_OK;
fail:
    bpf_free(s);
    return VG_EUNSUPPORTED;
}

static void bpf_check_lost(struct vg_agent_proc *p, struct bpf_state *s)
{
    uint64_t d = bpf_drops(s);
    if (d > s->lost_seen) {
        atomic_fetch_add(&p->st.lost, d - s->lost_seen);
        atomic_fetch_add(&p->st.resyncs, 1);
        vg_agent_proc_notice_lost(p, d - s->lost_seen);
        s->lost_seen = d;
    }
}

static void bpf_run(struct vg_agent_proc *p)
{
    struct bpf_state *s = p->be_state;
    int fd = ring_buffer__epoll_fd(s->rb);
    int w;
    while ((w = vg_agent_proc_wait(p, fd, VG_PROC_BPF_DRAIN_MS)) >= 0) {
        if (ring_buffer__consume(s->rb) < 0) {
            atomic_fetch_add(&p->st.backend_errors, 1);
        }
        bpf_check_lost(p, s);
    }
}

static void bpf_close(struct vg_agent_proc *p)
{
    bpf_free(p->be_state);
    p->be_state = NULL;
}

#else /* built without the eBPF program */

static int bpf_open(struct vg_agent_proc *p, char *err, size_t errsz)
{
    VG_UNUSED(p);
    snprintf(err, errsz,
             "built without the eBPF program (no clang, bpftool or kernel BTF at "
             "build time)");
    return VG_EUNSUPPORTED;
}

static void bpf_run(struct vg_agent_proc *p)
{
    VG_UNUSED(p);
}

static void bpf_close(struct vg_agent_proc *p)
{
    VG_UNUSED(p);
}

#endif

const struct vg_agent_proc_backend vg_agent_proc_be_ebpf = {
    .name = "ebpf",
    .open = bpf_open,
    .run = bpf_run,
    .close = bpf_close,
};
