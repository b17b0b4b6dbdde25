/*
 * agent_resp_kill.c — kill_process: signal one process without hitting a recycled pid.
 *
 * Order matters: pidfd_open(pid) first pins the process; then /proc/<pid>/stat (kernel
 * thread flag) and /proc/<pid>/exe (expect_exe) are read; then pidfd_send_signal(fd, 0)
 * proves the pinned process is still alive — so the pid was not released, hence not reused,
 * while /proc was read, and the checks were about the same process the signal goes to.
 * Without pidfd (kernels before 5.3: ENOSYS) kill(2) is used after the same checks and the
 * output says so ("method":"kill") since a short reuse window then remains.
 *
 * Refused: pid <= 1, the agent itself (any of its threads), kernel threads.
 * After SIGKILL the pidfd is polled up to 2 s for the exit ("exited": true|false).
 */
#include "agent/agent_resp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define PF_KTHREAD_FLAG 0x00200000u

struct kill_req {
    pid_t pid;
    int sig;
    char expect[PATH_MAX];
    bool has_expect;
    char exe[PATH_MAX];
    bool has_exe;
};

static const struct {
    const char *name;
    int sig;
} signames[] = {
    {"KILL", SIGKILL}, {"TERM", SIGTERM}, {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
    {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
};

static int signal_read(const struct vg_json *args, int *sig, char *err, size_t errsz)
{
    char name[16];
    int64_t n;
    *sig = SIGKILL;
    int rc = vg_resp_arg_int(args, "signal", false, 1, 64, &n, NULL, 0);
    if (rc == VG_OK || rc == VG_ENOENT) {
        *sig = rc == VG_OK ? (int)n : SIGKILL;
        return VG_OK;
    }
    if (vg_resp_arg_str(args, "signal", false, name, sizeof(name), NULL, 0) == VG_OK) {
        const char *s = strncmp(name, "SIG", 3) == 0 ? name + 3 : name;
        for (size_t i = 0; i < VG_ARRAY_LEN(signames); i++) {
            if (strcmp(s, signames[i].name) == 0) {
                *sig = signames[i].sig;
                return VG_OK;
            }
        }
    }
    return vg_resp_fail(err, errsz, VG_EINVAL,
                        "parameter 'signal' must be 1..64 or a name like KILL, TERM, HUP");
}

static int req_read(const struct vg_json *args, struct kill_req *q, char *err, size_t errsz)
{
    int64_t pid;
    int rc = vg_resp_arg_int(args, "pid", true, INT_MIN, INT_MAX, &pid, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    q->pid = (pid_t)pid;
    if ((rc = signal_read(args, &q->sig, err, errsz)) != VG_OK) {
        return rc;
    }
    rc = vg_resp_arg_str(args, "expect_exe", false, q->expect, sizeof(q->expect), err, errsz);
    if (rc != VG_OK && rc != VG_ENOENT) {
        return rc;
    }
    q->has_expect = rc == VG_OK;
    if (q->has_expect && q->expect[0] != '/') {
        return vg_resp_fail(err, errsz, VG_EINVAL, "parameter 'expect_exe' must be absolute");
    }
    if (q->pid <= 1) {
        return vg_resp_fail(err, errsz, VG_EDENIED, "refusing to signal pid %d", (int)q->pid);
    }
    return VG_OK;
}

/* Field 9 (flags) of /proc/<pid>/stat; comm (field 2) may hold spaces and ')'. */
static int proc_flags(pid_t pid, unsigned long *flags)
{
    char path[64], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int rc = vg_file_read(path, 4096, &text, &len);
    if (rc != VG_OK) {
        return VG_ENOENT;
    }
    char *p = strrchr(text, ')');
    rc = VG_EIO;
    if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", flags) == 1) {
        rc = VG_OK;
    }
    vg_free(text);
    return rc;
}

static bool is_self(pid_t pid)
{
    char path[64], *text = NULL;
    size_t len;
    if (pid == getpid()) {
        return true;
    }
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (vg_file_read(path, 16384, &text, &len) != VG_OK) {
        return false;
    }
    const char *t = strstr(text, "\nTgid:");
    bool self = t && strtol(t + 6, NULL, 10) == getpid();
    vg_free(text);
    return self;
}

/* The checks made while the process is pinned (or, without pidfd, just before kill). */
static int target_check(struct kill_req *q, char *err, size_t errsz)
{
    unsigned long flags = 0;
    char path[64];
    if (is_self(q->pid)) {
        return vg_resp_fail(err, errsz, VG_EDENIED, "refusing to signal the agent itself");
    }
    if (proc_flags(q->pid, &flags) != VG_OK) {
        return vg_resp_fail(err, errsz, VG_ENOENT, "no process %d", (int)q->pid);
    }
    if (flags & PF_KTHREAD_FLAG) {
        return vg_resp_fail(err, errsz, VG_EDENIED, "refusing to signal kernel thread %d",
                            (int)q->pid);
    }
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)q->pid);
    ssize_t n = readlink(path, q->exe, sizeof(q->exe) - 1);
    q->has_exe = n > 0;
    q->exe[n > 0 ? n : 0] = '\0';
    if (q->has_expect && (!q->has_exe || strcmp(q->exe, q->expect) != 0)) {
        return vg_resp_fail(err, errsz, VG_EDENIED,
                            "process %d runs %.512s, not the expected %.512s: refused (pid "
                            "reused?)",
                            (int)q->pid, q->has_exe ? q->exe : "(unreadable exe)", q->expect);
    }
    return VG_OK;
}

static bool pidfd_wait_exit(int pidfd, int ms)
{
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR) {
    }
    return r == 1;
}

static int signal_pidfd(int pidfd, struct kill_req *q, bool *exited, char *err, size_t errsz)
{
    int rc = target_check(q, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) != 0) {
        return vg_resp_fail(err, errsz, VG_ENOENT, "process %d exited during the checks",
                            (int)q->pid);
    }
    if (syscall(SYS_pidfd_send_signal, pidfd, q->sig, NULL, 0) != 0) {
        return vg_resp_fail(err, errsz, errno == EPERM ? VG_EDENIED : VG_EIO,
                            "pidfd_send_signal(%d, %d): %s", (int)q->pid, q->sig, strerror(errno));
    }
    *exited = q->sig == SIGKILL && pidfd_wait_exit(pidfd, 2000);
    return VG_OK;
}

static int signal_legacy(struct kill_req *q, char *err, size_t errsz)
{
    int rc = target_check(q, err, errsz);
    if (rc == VG_OK && kill(q->pid, q->sig) != 0) {
        rc = vg_resp_fail(err, errsz, errno == ESRCH ? VG_ENOENT : VG_EDENIED, "kill(%d, %d): %s",
                          (int)q->pid, q->sig, strerror(errno));
    }
    return rc;
}

int vg_resp_kill_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                     struct vg_sbuf *out, char *err, size_t errsz)
{
    VG_UNUSED(o);
    struct kill_req q = {0};
    bool exited = false;
    const char *method = "pidfd";
    int rc = req_read(args, &q, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, q.pid, 0);
    if (pidfd >= 0) {
        rc = signal_pidfd(pidfd, &q, &exited, err, errsz);
        close(pidfd);
    } else if (errno == ENOSYS) {
        method = "kill";
        rc = signal_legacy(&q, err, errsz);
    } else {
        rc = vg_resp_fail(err, errsz, errno == ESRCH ? VG_ENOENT : VG_EIO, "pidfd_open(%d): %s",
                          (int)q.pid, errno == ESRCH ? "no such process" : strerror(errno));
    }
    if (rc != VG_OK) {
        return rc;
    }
    vg_sbuf_printf(out, "{\"pid\":%d,\"signal\":%d,\"exe\":", (int)q.pid, q.sig);
    vg_sbuf_add_json_str(out, q.exe, strlen(q.exe));
    vg_sbuf_printf(out, ",\"method\":\"%s\",\"exited\":%s", method, exited ? "true" : "false");
    if (strcmp(method, "kill") == 0) {
        vg_sbuf_adds(out, ",\"note\":\"pidfd unavailable on this kernel: kill(2) used\"");
    }
    vg_sbuf_addc(out, '}');
    return VG_OK;
}
