// SPDX-License-Identifier: GPL-2.0
/*
 * proc.bpf.c — the eBPF side of the agent's process collector (agent_proc_bpf.c loads it
 * through a libbpf skeleton generated at build time).
 *
 * Three BTF-enabled raw tracepoints (tp_btf; no kprobes, no tracefs) write records into one
 * ring buffer: sched_process_exec (with the path given to execve and argv read from the new
 * mm), sched_process_fork (new processes only, not threads) and sched_process_exit (only
 * when the last thread of a process exits). All kernel memory is read with CO-RE
 * (BPF_CORE_READ), so one object runs on any kernel with BTF. A full ring buffer is counted
 * in the per-CPU `drops` array, never retried.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "proc_event.h"

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, VG_PROC_BPF_RB_SIZE);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} drops SEC(".maps");

static __always_inline void count_drop(void)
{
    __u32 k = 0;
    __u64 *v = bpf_map_lookup_elem(&drops, &k);
    if (v) {
        __sync_fetch_and_add(v, 1);
    }
}

/*
 * Submit without waking the reader (it drains every 100 ms): a wake-up per record costs more
 * than the record. Past a quarter of the buffer, wake it so a burst is not lost.
 */
static __always_inline long wake_flags(void)
{
    return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > VG_PROC_BPF_RB_SIZE / 4
               ? BPF_RB_FORCE_WAKEUP
               : BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_hdr(struct vg_proc_bpf_hdr *h, __u32 kind, struct task_struct *p)
{
    h->kind = kind;
    h->pid = BPF_CORE_READ(p, tgid);
    h->ppid = BPF_CORE_READ(p, real_parent, tgid);
    h->uid = BPF_CORE_READ(p, real_cred, uid.val);
    h->gid = BPF_CORE_READ(p, real_cred, gid.val);
    h->exit_code = 0;
    h->ts_ns = bpf_ktime_get_boot_ns();
    h->start_ns = BPF_CORE_READ(p, group_leader, start_boottime);
    BPF_CORE_READ_STR_INTO(&h->comm, p, comm);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_proc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    struct vg_proc_bpf_exec *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (!e) {
        count_drop();
        return 0;
    }
    fill_hdr(&e->h, VG_PROC_BPF_EXEC, p);
    const char *fn = BPF_CORE_READ(bprm, interp); /* the interpreter for scripts */
    if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), fn) < 0) {
        e->filename[0] = '\0';
    }
    unsigned long start = BPF_CORE_READ(p, mm, arg_start);
    unsigned long end = BPF_CORE_READ(p, mm, arg_end);
    __u64 len = end > start ? end - start : 0;
    e->args_full = (__u32)len;
    if (len > VG_PROC_BPF_ARGS - 1) {
        len = VG_PROC_BPF_ARGS - 1;
    }
    len &= VG_PROC_BPF_ARGS - 1; /* a bound the verifier can see */
    if (bpf_probe_read_user(e->args, len, (const void *)start) < 0) {
        len = 0;
    }
    e->args_len = (__u32)len;
    bpf_ringbuf_submit(e, wake_flags());
    return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_proc_fork, struct task_struct *parent, struct task_struct *child)
{
    if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid)) {
        return 0; /* a new thread, not a new process */
    }
    struct vg_proc_bpf_hdr *h = bpf_ringbuf_reserve(&events, sizeof(*h), 0);
    if (!h) {
        count_drop();
        return 0;
    }
    fill_hdr(h, VG_PROC_BPF_FORK, child);
    h->ppid = BPF_CORE_READ(parent, tgid);
    bpf_ringbuf_submit(h, wake_flags());
    return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_proc_exit, struct task_struct *p)
{
    /* do_exit() decremented signal->live before this tracepoint: 0 means the last thread */
    if (BPF_CORE_READ(p, signal, live.counter) != 0) {
        return 0;
    }
    struct vg_proc_bpf_hdr *h = bpf_ringbuf_reserve(&events, sizeof(*h), 0);
    if (!h) {
        count_drop();
        return 0;
    }
    fill_hdr(h, VG_PROC_BPF_EXIT, p);
    h->exit_code = BPF_CORE_READ(p, exit_code);
    bpf_ringbuf_submit(h, wake_flags());
    return 0;
}
