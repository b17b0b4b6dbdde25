/*
 * proc_event.h — the records the eBPF process program (proc.bpf.c) writes into its ring
 * buffer and agent_proc_bpf.c reads. Shared by the BPF side (types from vmlinux.h) and the
 * user side (types from <linux/types.h>), so it uses only __u32/__u64/char.
 *
 * Every record starts with struct vg_proc_bpf_hdr; exec records are struct
 * vg_proc_bpf_exec. Times are CLOCK_BOOTTIME nanoseconds (bpf_ktime_get_boot_ns and
 * task_struct.start_boottime); the user side converts them to wall-clock time.
 */
#ifndef VG_PROC_BPF_EVENT_H
#define VG_PROC_BPF_EVENT_H

#define VG_PROC_BPF_EXEC 1
#define VG_PROC_BPF_FORK 2
#define VG_PROC_BPF_EXIT 3

#define VG_PROC_BPF_COMM     16
#define VG_PROC_BPF_FILENAME 256
#define VG_PROC_BPF_ARGS     4096      /* a power of two: the program masks lengths with it - 1 */
#define VG_PROC_BPF_RB_SIZE  (1 << 21) /* ring buffer bytes */
#define VG_PROC_BPF_DRAIN_MS 100       /* the reader drains at least this often */

struct vg_proc_bpf_hdr {
    __u32 kind;      /* VG_PROC_BPF_* */
    __u32 pid;       /* tgid of the process (the child for a fork) */
    __u32 ppid;      /* tgid of the real parent */
    __u32 uid;       /* real uid */
    __u32 gid;       /* real gid */
    __u32 exit_code; /* exit: wait status as the kernel keeps it (code << 8 | signal) */
    __u64 ts_ns;     /* event time, CLOCK_BOOTTIME */
    __u64 start_ns;  /* process start, CLOCK_BOOTTIME */
    char comm[VG_PROC_BPF_COMM];
};

struct vg_proc_bpf_exec {
    struct vg_proc_bpf_hdr h;
    __u32 args_len;  /* bytes of args used (NUL-separated argv, as /proc/PID/cmdline) */
    __u32 args_full; /* argv length before truncation */
    char filename[VG_PROC_BPF_FILENAME]; /* bprm->interp: the file executed (for a script,
                                            its interpreter) */
    char args[VG_PROC_BPF_ARGS];
};

#endif /* VG_PROC_BPF_EVENT_H */
