/*
 * agent_proc_audit.c — the process collector's "audit" backend slot. Not implemented in this
 * version: receiving execve records needs audit enabled and a rule added (`-a exit,always
 * -F arch=b64 -S execve`), both machine-wide settings that would conflict with an auditd
 * the host may run and must be restored on every exit path. The backend stays in the
 * preference list so configurations name it, and start() reports it unsupported with this
 * reason; the collector falls through to proc_poll. See docs/agent-process.md.
 */
#include "agent/agent_proc.h"

static int audit_open(struct vg_agent_proc *p, char *err, size_t errsz)
{
    VG_UNUSED(p);
    snprintf(err, errsz,
             "not implemented in this build (audit rules are machine-wide; "
             "use ebpf or proc_connector)");
    return VG_EUNSUPPORTED;
}

static void audit_run(struct vg_agent_proc *p)
{
    VG_UNUSED(p);
}

static void audit_close(struct vg_agent_proc *p)
{
    VG_UNUSED(p);
}

const struct vg_agent_proc_backend vg_agent_proc_be_audit = {
    .name = "audit",
    .open = audit_open,
    .run = audit_run,
    .close = audit_close,
};
