/*
 * respond_act_agent.c — endpoint actions (agent.*), sent as signed commands to the host's
 * vigie-agent through the fleet (src/fleet) and answered by its response actions
 * (src/agent/agent_resp.h); and intel.lookup, answered by the server's threat intelligence
 * through the intel_lookup callback of the services (src/server/server_intel.c), so this
 * module does not link the indicator store. A dry run describes what would be asked.
 */
#include "respond/respond_act_int.h"

#include "fleet/fleet.h"

#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- agents */

struct agent_pick {
    const char *host;
    char id[64];
    vg_time_t seen;
    bool online;
};

/* The tenant's agent for host: its id, or the agent with that hostname (online first,
   then the most recently seen). Runs under the registry lock: no other fleet calls. */
static int pick_agent(void *ctx, const struct vg_fleet_agent *a)
{
    struct agent_pick *p = ctx;
    bool online = a->status && !strcmp(a->status, "online");
    if (a->status && !strcmp(a->status, "revoked")) {
        return 0;
    }
    if (strcmp(a->id, p->host) != 0 && (!a->hostname || strcasecmp(a->hostname, p->host) != 0)) {
        return 0;
    }
    if (!p->id[0] || (online && !p->online) || (online == p->online && a->last_seen > p->seen)) {
        vg_strlcpy(p->id, a->id, sizeof(p->id));
        p->seen = a->last_seen;
        p->online = online;
    }
    return 0;
}

static void add_member(struct vg_sbuf *b, const char *k, const struct vg_json *v)
{
    if (v) {
        vg_sbuf_adds(b, b->len > 1 ? "," : "");
        vg_sbuf_add_json_str(b, k, strlen(k));
        vg_sbuf_addc(b, ':');
        vg_json_write(v, b);
    }
}

/*
 * Send `action` with the step's parameters named in keys[] to the host's agent and wait for
 * its answer within the step's deadline. A timeout is not retried: the command stays queued
 * for the agent until it expires, and a second one could act twice.
 */
static int agent_call(const struct vg_action_ctx *c, struct vg_action_result *r, const char *action,
                      const char *const *keys, const char *what)
{
    const char *host;
    struct agent_pick p = {0};
    struct vg_sbuf args = VG_SBUF_INIT;
    struct vg_fleet_command_result res = {0};
    char cmd[64];
    int rc = vg_act_str(c, r, "host", true, 255, &host);
    if (rc != VG_OK) {
        return rc;
    }
    vg_sbuf_addc(&args, '{');
    for (size_t i = 0; keys[i]; i++) {
        add_member(&args, keys[i], vg_act_param(c, keys[i]));
    }
    vg_sbuf_addc(&args, '}');
    if (c->svc && (c->svc->dry_run || c->svc->contain_dry_run)) {
        rc = vg_act_dry(r, "ask the agent on host %s to %s: %s %s", host, what, action, args.p);
        vg_sbuf_fini(&args);
        return rc;
    }
    if (!c->svc || !c->svc->fleet) {
        vg_sbuf_fini(&args);
        return vg_act_fail(r, VG_EUNSUPPORTED, false,
                           "no agents here: the server runs without fleet.listen");
    }
    p.host = host;
    vg_fleet_agent_list(c->svc->fleet, c->tenant, pick_agent, &p);
    if (!p.id[0]) {
        vg_sbuf_fini(&args);
        return vg_act_fail(r, VG_ENOENT, false, "no agent is enrolled for host %s", host);
    }
    int64_t ttl = c->timeout_ms / 1000 > 60 ? c->timeout_ms / 1000 : 60;
    rc = vg_fleet_command_send_as(c->svc->fleet, c->tenant, c->actor, p.id, action, args.p, ttl,
                                  cmd);
    vg_sbuf_fini(&args);
    if (rc != VG_OK) {
        return vg_act_fail(r, rc, false, "agent %s (host %s): cannot queue %s: %s", p.id, host,
                           action, vg_strerror(rc));
    }
    rc = vg_fleet_command_wait(c->svc->fleet, cmd, c->timeout_ms > 500 ? c->timeout_ms - 250 : 250,
                               &res);
    if (rc == VG_OK && res.status && !strcmp(res.status, "ok")) {
        vg_sbuf_printf(&r->output, "{\"agent_id\":\"%s\",\"command_id\":\"%s\",\"result\":", p.id,
                       cmd);
        const char *o = res.output && *res.output ? res.output : "{}";
        if (*o == '{' || *o == '[') {
            vg_sbuf_adds(&r->output, o);
        } else {
            vg_sbuf_add_json_str(&r->output, o, strlen(o));
        }
        vg_sbuf_addc(&r->output, '}');
        rc = r->output.err;
    } else {
        rc = vg_act_fail(r, rc == VG_ETIMEOUT ? VG_ETIMEOUT : VG_EIO, false,
                         "agent %s (host %s): %s %s: %s", p.id, host, action,
                         rc == VG_ETIMEOUT ? "no answer before the step's deadline (the command "
                                             "stays queued until it expires)"
                                           : (res.status ? res.status : vg_strerror(rc)),
                         res.output ? res.output : "");
    }
    vg_fleet_command_result_fini(&res);
    return rc;
}

static int kill_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    static const char *const keys[] = {"pid", "expect_exe", "signal", NULL};
    return agent_call(c, r, "kill_process", keys, "kill a process");
}
static int quarantine_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    static const char *const keys[] = {"path", "sha256", NULL};
    return agent_call(c, r, "quarantine_file", keys, "quarantine a file");
}
static int isolate_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    static const char *const keys[] = {"allow", NULL}; /* the agent adds the server's address */
    return agent_call(c, r, "isolate_host", keys, "isolate the host from the network");
}
static int release_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    static const char *const keys[] = {NULL};
    return agent_call(c, r, "release_host", keys, "release the host from network isolation");
}

static int yara_scan_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    static const char *const keys[] = {"path", "recursive", "rules", NULL};
    return agent_call(c, r, "scan", keys, "run a YARA scan");
}

static const struct vg_action_param kill_params[] = {
    {"host", VG_ACTION_STRING, true, "host name or agent id"},
    {"pid", VG_ACTION_INT, true, "process id"},
    {"expect_exe", VG_ACTION_STRING, false,
     "refuse unless /proc/PID/exe is this path (guards against pid reuse)"},
    {"signal", VG_ACTION_ANY, false, "signal number or name (default SIGKILL)"},
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
static const struct vg_action_param yara_scan_params[] = {
    {"host", VG_ACTION_STRING, true, "host name or agent id"},
    {"path", VG_ACTION_STRING, true, "absolute path of the file or directory to scan"},
    {"recursive", VG_ACTION_BOOL, false, "scan a directory tree (default false)"},
    {"rules", VG_ACTION_STRING, false,
     "YARA rule text (default: the rules of the agent's yara collector)"},
    {NULL, 0, false, NULL},
};
static const struct vg_action_param release_params[] = {
    {"host", VG_ACTION_STRING, true, "host name or agent id"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_agent_kill_process = {
    .name = "agent.kill_process",
    .description = "Kill a process on a host through its agent (pidfd); output {agent_id, "
                   "command_id, result}",
    .params = kill_params,
    .run = kill_run,
};
const struct vg_action_def vg_act_agent_quarantine_file = {
    .name = "agent.quarantine_file",
    .description = "Quarantine a file on a host through its agent (same-filesystem move, mode "
                   "000, immutable)",
    .params = quarantine_params,
    .run = quarantine_run,
};
const struct vg_action_def vg_act_agent_isolate_host = {
    .name = "agent.isolate_host",
    .description = "Cut a host off the network except the server, through its agent",
    .params = isolate_params,
    .run = isolate_run,
};
const struct vg_action_def vg_act_agent_release_host = {
    .name = "agent.release_host",
    .description = "End a host's network isolation, through its agent",
    .params = release_params,
    .run = release_run,
};

const struct vg_action_def vg_act_agent_yara_scan = {
    .name = "agent.yara_scan",
    .description = "Scan a file or directory on a host with YARA, through its agent; output "
                   "{agent_id, command_id, result: {files, matches: [{file, rule, tags}], "
                   "truncated}}",
    .params = yara_scan_params,
    .run = yara_scan_run,
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
    /* a lookup changes nothing: only a full dry run (`vigie playbook test`) skips it */
    if (c->svc && c->svc->dry_run) {
        return vg_act_dry(r, "look up %s \"%s\" in threat intelligence", type ? type : "value",
                          value);
    }
    if (!c->svc || !c->svc->intel_lookup) {
        return vg_act_fail(r, VG_EUNSUPPORTED, false,
                           "no threat intelligence here (intel.enabled is false)");
    }
    char err[256] = "";
    r->output.len = 0;
    rc = c->svc->intel_lookup(c->svc->intel_ctx, value, type, &r->output, err, sizeof(err));
    if (rc != VG_OK) {
        return vg_act_fail(r, rc, false, "intel.lookup: %s", err[0] ? err : vg_strerror(rc));
    }
    return VG_OK;
}

static const struct vg_action_param intel_params[] = {
    {"value", VG_ACTION_STRING, true, "indicator: IP, domain, URL, hash, mail address"},
    {"type", VG_ACTION_STRING, false,
     "ip | domain | url | hash | mail, or a store type (ipv4, sha256, ja3, …); default: "
     "detected"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_intel_lookup = {
    .name = "intel.lookup",
    .description = "Look an indicator up in the server's threat intelligence; output {found, "
                   "indicator: {value, type, source, confidence_now, tags, related, …}}",
    .params = intel_params,
    .run = intel_run,
};
