/*
 * agent_proc_poll.c — the process collector's last-resort backend "proc_poll": scan /proc
 * every poll_interval_ms and diff the pid sets. A new pid is reported as an exec (enriched from
 * /proc/PID), a vanished one as an exit (without an exit code: it is not knowable after
 * the fact). Processes that live less than one period are not seen, forks that do not exec
 * look like execs, and a pid reused within one period is missed; the backend name in every
 * event tells the consumer so. It needs nothing but /proc, so it always works.
 */
#include "agent/agent_proc.h"

#include <string.h>

static int poll_open(struct vg_agent_proc *p, char *err, size_t errsz)
{
    struct vg_agent_proc_pidset *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return VG_ENOMEM;
    }
    int rc = vg_agent_proc_pidset_scan(s); /* the baseline: processes already running */
    if (rc != VG_OK) {
        snprintf(err, errsz, "cannot list /proc: %s", vg_strerror(rc));
        vg_agent_proc_pidset_fini(s);
        vg_free(s);
        return rc == VG_EIO ? VG_EUNSUPPORTED : rc;
    }
    p->be_state = s;
    return VG_OK;
}

static void poll_run(struct vg_agent_proc *p)
{
    struct vg_agent_proc_pidset *s = p->be_state;
    int ms = (int)p->conf.poll_interval_ms;
    while (vg_agent_proc_wait(p, -1, ms) == 0) {
        if (vg_agent_proc_pidset_sync(p, s, false) != VG_OK) {
            atomic_fetch_add(&p->st.backend_errors, 1);
        }
    }
}

static void poll_close(struct vg_agent_proc *p)
{
    struct vg_agent_proc_pidset *s = p->be_state;
    if (s) {
        vg_agent_proc_pidset_fini(s);
        vg_free(s);
    }
    p->be_state = NULL;
}

const struct vg_agent_proc_backend vg_agent_proc_be_poll = {
    .name = "proc_poll",
    .open = poll_open,
    .run = poll_run,
    .close = poll_close,
};
