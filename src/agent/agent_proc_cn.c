/*
 * agent_proc_cn.c — the process collector's "proc_connector" backend: the kernel's netlink
 * process connector (NETLINK_CONNECTOR, CN_IDX_PROC) reports fork, exec and exit with pids
 * and the exit status; everything else comes from /proc/PID at event time.
 *
 * The connector only delivers in the initial network namespace and says nothing when it
 * does not, so open() subscribes and then proves delivery with a child it forks itself.
 * Bursts overflow a default socket buffer after ~256 unread events: the buffer is raised to
 * `rcvbuf` with SO_RCVBUFFORCE (SO_RCVBUF without CAP_NET_ADMIN), and after ENOBUFS the
 * backend emits a "resync" notice and rescans /proc against the pids it tracks, reporting
 * what it missed (vigie.agent.resync). Events are read as they come, not batched: the
 * enrichment races the process's exit, and a 50 ms batch cut the share of short-lived execs
 * seen with their argv from ~88 % to ~2 % (bench_agent_proc) for a third of the CPU.
 */
#include "agent/agent_proc.h"

#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CN_BUF 65536

struct cn_state {
    int fd;
    struct vg_agent_proc_pidset pids; /* processes alive, for the resync after a loss */
    uint8_t *buf;
};

static int cn_send_op(int fd, enum proc_cn_mcast_op op)
{
    struct {
        struct nlmsghdr nl;
        struct cn_msg cn;
        enum proc_cn_mcast_op op;
    } __attribute__((packed)) m;
    memset(&m, 0, sizeof(m));
    m.nl.nlmsg_len = sizeof(m);
    m.nl.nlmsg_type = NLMSG_DONE;
    m.nl.nlmsg_pid = 0;
    m.cn.id.idx = CN_IDX_PROC;
    m.cn.id.val = CN_VAL_PROC;
    m.cn.len = sizeof(op);
    m.op = op;
    return send(fd, &m, sizeof(m), 0) == (ssize_t)sizeof(m) ? VG_OK : VG_EIO;
}

/*
 * Copy the proc_event of one netlink message into *ev (the payload sits at offset 36: not
 * aligned for its 64-bit timestamp). false when it is not a whole fork/exec/exit event.
 */
static bool cn_event(const struct nlmsghdr *nh, struct proc_event *ev)
{
    size_t head = offsetof(struct proc_event, event_data);
    if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct cn_msg) + head)) {
        return false;
    }
    struct cn_msg cn;
    memcpy(&cn, NLMSG_DATA(nh), sizeof(cn));
    if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC || cn.len < head ||
        cn.len > nh->nlmsg_len - NLMSG_LENGTH(sizeof(cn))) {
        return false;
    }
    memset(ev, 0, sizeof(*ev));
    memcpy(ev, (const uint8_t *)NLMSG_DATA(nh) + sizeof(cn), VG_MIN(cn.len, sizeof(*ev)));
    size_t body = cn.len - head;
    switch (ev->what) {
    case PROC_EVENT_FORK:
        return body >= sizeof(ev->event_data.fork);
    case PROC_EVENT_EXEC:
        return body >= sizeof(ev->event_data.exec);
    case PROC_EVENT_EXIT:
        return body >= sizeof(ev->event_data.exit);
    default:
        return false;
    }
}

/* Read what is queued (non-blocking); call fn for each event. -errno on a read error. */
static int cn_drain(struct cn_state *s, void (*fn)(void *, const struct proc_event *), void *arg)
{
    for (;;) {
        ssize_t n = recv(s->fd, s->buf, CN_BUF, MSG_DONTWAIT);
        if (n < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
        }
        size_t left = (size_t)n;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)s->buf; NLMSG_OK(nh, left);
             nh = NLMSG_NEXT(nh, left)) {
            struct proc_event ev;
            if (cn_event(nh, &ev)) {
                fn(arg, &ev);
            }
        }
    }
}

struct cn_probe {
    pid_t child;
    bool seen;
};

static void cn_probe_fn(void *arg, const struct proc_event *ev)
{
    struct cn_probe *pr = arg;
    if ((ev->what == PROC_EVENT_FORK && ev->event_data.fork.child_tgid == pr->child) ||
        (ev->what == PROC_EVENT_EXIT && ev->event_data.exit.process_tgid == pr->child)) {
        pr->seen = true;
    }
}

/* Fork a child that exits at once and wait (≤ 1 s) for the connector to report it. */
static bool cn_probe(struct vg_agent_proc *p, struct cn_state *s)
{
    struct cn_probe pr = {.child = fork(), .seen = false};
    if (pr.child == 0) {
        _exit(0);
    }
    if (pr.child < 0) {
        return false;
    }
    uint64_t deadline = vg_clock_ns() + 1000000000ULL;
    while (!pr.seen && vg_clock_ns() < deadline) {
        if (vg_agent_proc_wait(p, s->fd, 100) < 0 || cn_drain(s, cn_probe_fn, &pr) < 0) {
            break;
        }
    }
    waitpid(pr.child, NULL, 0);
    return pr.seen;
}

static int cn_socket(struct vg_agent_proc *p, char *err, size_t errsz)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) {
        snprintf(err, errsz, "netlink connector socket: %s", strerror(errno));
        return -1;
    }
    int sz = (int)p->conf.rcvbuf;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)); /* capped by rmem_max */
    }
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        cn_send_op(fd, PROC_CN_MCAST_LISTEN) != VG_OK) {
        snprintf(err, errsz, "subscribe to CN_IDX_PROC: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void cn_free(struct cn_state *s)
{
    if (!s) {
        return;
    }
    if (s->fd >= 0) {
        cn_send_op(s->fd, PROC_CN_MCAST_IGNORE);
        close(s->fd);
    }
    vg_agent_proc_pidset_fini(&s->pids);
    vg_free(s->buf);
    vg_free(s);
}

static int cn_open(struct vg_agent_proc *p, char *err, size_t errsz)
{
    int rc = VG_EUNSUPPORTED;
    struct cn_state *s = vg_calloc(1, sizeof(*s));
    if (!s || !(s->buf = vg_malloc(CN_BUF))) {
        rc = VG_ENOMEM;
        goto fail;
    }
    if ((s->fd = cn_socket(p, err, errsz)) < 0) {
        goto fail;
    }
    if (!cn_probe(p, s)) {
        snprintf(err, errsz,
                 "no events delivered (the proc connector works only in the initial "
                 "network and pid namespaces, as root)");
        goto fail;
    }
    if ((rc = vg_agent_proc_pidset_scan(&s->pids)) != VG_OK) {
        snprintf(err, errsz, "cannot list /proc");
        goto fail;
    }
    p->be_state = s;
    return VG_OK;
fail:
    cn_free(s);
    return rc;
}

static void cn_on_event(void *arg, const struct proc_event *ev)
{
    struct vg_agent_proc *p = arg;
    struct cn_state *s = p->be_state;
    struct vg_agent_proc_obs o = {.ppid = -1,
                                  .uid = -1,
                                  .gid = -1,
                                  .wstatus = -1,
                                  .ts = vg_time_now(),
                                  .start = VG_TIME_NONE};
    if (ev->what == PROC_EVENT_FORK) {
        if (ev->event_data.fork.child_pid != ev->event_data.fork.child_tgid) {
            return; /* a thread */
        }
        o.kind = VG_AGENT_PROC_FORK;
        o.pid = ev->event_data.fork.child_tgid;
        o.ppid = ev->event_data.fork.parent_tgid;
    } else if (ev->what == PROC_EVENT_EXEC) {
        o.kind = VG_AGENT_PROC_EXEC;
        o.pid = ev->event_data.exec.process_tgid;
    } else {
        if (ev->event_data.exit.process_pid != ev->event_data.exit.process_tgid) {
            return; /* a thread other than the leader */
        }
        o.kind = VG_AGENT_PROC_EXIT;
        o.pid = ev->event_data.exit.process_tgid;
        o.wstatus = ev->event_data.exit.exit_code;
        o.ppid = ev->event_data.exit.parent_tgid;
    }
    if (o.kind == VG_AGENT_PROC_EXIT) {
        vg_agent_proc_pidset_del(&s->pids, o.pid);
    } else if (vg_agent_proc_pidset_add(&s->pids, o.pid) != VG_OK) {
        atomic_fetch_add(&p->st.backend_errors, 1);
    }
    vg_agent_proc_observe(p, &o);
}

static void cn_run(struct vg_agent_proc *p)
{
    struct cn_state *s = p->be_state;
    int w;
    while ((w = vg_agent_proc_wait(p, s->fd, 1000)) >= 0) {
        int rc = w > 0 ? cn_drain(s, cn_on_event, p) : 0;
        if (rc == -ENOBUFS) {
            atomic_fetch_add(&p->st.lost, 1);
            atomic_fetch_add(&p->st.resyncs, 1);
            vg_agent_proc_notice_lost(p, 0);
            if (vg_agent_proc_pidset_sync(p, &s->pids, true) != VG_OK) {
                atomic_fetch_add(&p->st.backend_errors, 1);
            }
        } else if (rc < 0) {
            atomic_fetch_add(&p->st.backend_errors, 1);
        }
    }
}

static void cn_close(struct vg_agent_proc *p)
{
    cn_free(p->be_state);
    p->be_state = NULL;
}

const struct vg_agent_proc_backend vg_agent_proc_be_cn = {
    .name = "proc_connector",
    .open = cn_open,
    .run = cn_run,
    .close = cn_close,
};
