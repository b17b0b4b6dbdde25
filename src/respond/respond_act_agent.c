/*
 * respond_act_agent.c — endpoint actions (agent.*) and intel.lookup, whose modules do not
 * exist yet. Their parameter tables are complete so playbooks naming them load and validate
 * today; running one fails (not retryable) with a message saying why, and a dry run
 * describes what would be asked of the agent.
 */
#include "respond/respond_act_int.h"

static int agent_fail(const struct vg_action_ctx *c, struct vg_action_result *r, const char *what)
{
    const char *host;
    int rc = vg_act_str(c, r, "host", true, 255, &host);
    if (rc != VG_OK) {
        return rc;
    }
    if (c->svc && (c->svc->dry_run || c->svc->contain_dry_run)) {
        return vg_act_dry(r, "ask the agent on host %s to %s", host, what);
    }
    return vg_act_fail(r, VG_EUNSUPPORTED, false,
                       "no agent is enrolled for host %s (the agent module is not available yet)",
                       host);
}

static int kill_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    return agent_fail(c, r, "kill a process");
}
static int quarantine_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    return agent_fail(c, r, "quarantine a file");
}
static int isolate_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    return agent_fail(c, r, "isolate the host from the network");
}
static int release_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    return agent_fail(c, r, "release the host from network isolation");
}

static const struct vg_action_param kill_params[] = {
    {"host", VG_ACTION_STRING, true, "host name or agent id"},
    {"pid", VG_ACTION_INT, false, "process id"},
    {"process_name", VG_ACTION_STRING, false, "image name (checked against the pid if both)"},
    {"tree", VG_ACTION_BOOL, false, "also kill the process's descendants (default false)"},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param quarantine_params[] = {
    {"host", VG_ACTION_STRING, true, "host name or agent id"},
    {"path", VG_ACTION_STRING, true, "absolute path of the file"},
    {"sha256", VG_ACTION_STRING, false, "expected hash (refuse if the file differs)"},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param isolate_params[] = {
    {"host", VG_ACTION_STRING, true, "host name or agent id"},
    {"allow", VG_ACTION_LIST, false, "addresses that stay reachable (the server always is)"},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param release_params[] = {
    {"host", VG_ACTION_STRING, true, "host name or agent id"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_agent_kill_process = {
    .name = "agent.kill_process",
    .description = "Kill a process on an enrolled host (needs the agent: not available yet)",
    .params = kill_params,
    .run = kill_run,
};
const struct vg_action_def vg_act_agent_quarantine_file = {
    .name = "agent.quarantine_file",
    .description = "Quarantine a file on an enrolled host (needs the agent: not available yet)",
    .params = quarantine_params,
    .run = quarantine_run,
};
const struct vg_action_def vg_act_agent_isolate_host = {
    .name = "agent.isolate_host",
    .description = "Cut a host off the network except the server (needs the agent: not "
                   "available yet)",
    .params = isolate_params,
    .run = isolate_run,
};
const struct vg_action_def vg_act_agent_release_host = {
    .name = "agent.release_host",
    .description = "End a host's network isolation (needs the agent: not available yet)",
    .params = release_params,
    .run = release_run,
};

/* ---------------------------------------------------------------- intel */

static int intel_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    const char *value, *type;
    int rc;
    if ((rc = vg_act_str(c, r, "value", true, 4096, &value)) != VG_OK ||
        (rc = vg_act_str(c, r, "type", false, 32, &type)) != VG_OK) {
        return rc;
    }
    if (c->svc && (c->svc->dry_run || c->svc->contain_dry_run)) {
        return vg_act_dry(r, "look up %s \"%s\" in threat intelligence", type ? type : "value",
                          value);
    }
    return vg_act_fail(r, VG_EUNSUPPORTED, false,
                       "threat intelligence lookups are not available yet (the intel module "
                       "is not built)");
}

static const struct vg_action_param intel_params[] = {
    {"value", VG_ACTION_STRING, true, "indicator: IP, domain, URL, hash, mail address"},
    {"type", VG_ACTION_STRING, false, "ip | domain | url | hash | mail (default: detected)"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_intel_lookup = {
    .name = "intel.lookup",
    .description = "Look an indicator up in threat intelligence (needs the intel module: not "
                   "available yet)",
    .params = intel_params,
    .run = intel_run,
};
