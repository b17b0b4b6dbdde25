/*
 * agent_resp.c — the response action table and the dispatcher the transport calls for each
 * verified command. The actions themselves live in agent_resp_<topic>.c.
 */
#include "agent/agent_resp_int.h"

#include <string.h>

static const struct vg_agent_resp_param kill_params[] = {
    {"pid", VG_AGENT_RESP_INT, true, "process id (1, the agent and kernel threads are refused)"},
    {"expect_exe", VG_AGENT_RESP_STRING, false,
     "absolute path the process's /proc/<pid>/exe must have (guards against pid reuse)"},
    {"signal", VG_AGENT_RESP_INT_OR_STRING, false,
     "signal number or name (KILL, TERM, HUP, INT, QUIT, STOP, CONT, USR1, USR2); default KILL"},
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param quarantine_params[] = {
    {"path", VG_AGENT_RESP_STRING, true, "absolute path of a regular file"},
    {"sha256", VG_AGENT_RESP_STRING, false, "expected SHA-256 (refuse if the file differs)"},
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param restore_params[] = {
    {"quarantine_id", VG_AGENT_RESP_STRING, true, "id returned by quarantine_file"},
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param block_params[] = {
    {"ip", VG_AGENT_RESP_STRING, true, "IPv4 or IPv6 address (no prefix)"},
    {"duration", VG_AGENT_RESP_INT_OR_STRING, false,
     "seconds, or a duration like 90s, 15m, 1h, 7d (1 s to 30 d; default 1h)"},
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param unblock_params[] = {
    {"ip", VG_AGENT_RESP_STRING, true, "IPv4 or IPv6 address"},
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param isolate_params[] = {
    {"server_ips", VG_AGENT_RESP_LIST, true, "the Vigie server's addresses (IP or CIDR)"},
    {"allow", VG_AGENT_RESP_LIST, false, "more addresses or prefixes that stay reachable"},
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param none_params[] = {
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param collect_params[] = {
    {"path", VG_AGENT_RESP_STRING, true, "absolute path of a regular file"},
    {"max_bytes", VG_AGENT_RESP_INT, false,
     "content bytes to return (default 1 MiB, capped by the agent's collect_max)"},
    {NULL, 0, false, NULL},
};
static const struct vg_agent_resp_param scan_params[] = {
    {"path", VG_AGENT_RESP_STRING, true, "absolute path of a file or directory to scan"},
    {"recursive", VG_AGENT_RESP_BOOL, false,
     "scan a directory tree (same filesystem, no symbolic links followed); default false"},
    {"rules", VG_AGENT_RESP_STRING, false,
     "YARA rule text to scan with instead of the yara collector's rules (required when that "
     "collector does not run)"},
    {"max_matches", VG_AGENT_RESP_INT, false, "matches listed in the output (1-1000; default 100)"},
    {NULL, 0, false, NULL},
};

static const struct vg_agent_resp_action act_kill = {
    "kill_process",
    "Signal a process through a pidfd (SIGKILL by default); output {pid, signal, exe, method, "
    "exited}",
    kill_params, vg_resp_kill_run};
static const struct vg_agent_resp_action act_quarantine = {
    "quarantine_file",
    "Move a file into a quarantine directory on its own filesystem, mode 000, immutable; "
    "output {quarantine_id, sha256, immutable}",
    quarantine_params, vg_resp_quarantine_run};
static const struct vg_agent_resp_action act_restore = {
    "restore_file",
    "Put a quarantined file back with its mode and owner (refused if the path exists)",
    restore_params, vg_resp_restore_run};
static const struct vg_agent_resp_action act_block = {
    "block_ip",
    "Drop traffic from/to an IP in Vigie's own nftables table with kernel-side expiry "
    "(iptables fallback without expiry)",
    block_params, vg_resp_block_run};
static const struct vg_agent_resp_action act_unblock = {
    "unblock_ip", "Remove an IP from Vigie's block sets (absent already: success)", unblock_params,
    vg_resp_unblock_run};
static const struct vg_agent_resp_action act_isolate = {
    "isolate_host",
    "Drop all traffic except loopback and the server's (and allowed) addresses; idempotent; "
    "output what stays allowed",
    isolate_params, vg_resp_isolate_run};
static const struct vg_agent_resp_action act_release = {
    "release_host", "Remove the isolation chains (not isolated: success)", none_params,
    vg_resp_release_run};
static const struct vg_agent_resp_action act_collect = {
    "collect_file", "Return a file's sha256, size and (bounded) content as base64", collect_params,
    vg_resp_collect_run};
static const struct vg_agent_resp_action act_scan = {
    "scan",
    "YARA scan of a file or directory tree with the yara collector's rules or the given rule "
    "text; output {files, matches:[{file, rule, namespace, tags, sha256}], truncated}",
    scan_params, vg_resp_scan_run};

static const struct vg_agent_resp_action *const actions[] = {
    &act_kill,    &act_quarantine, &act_restore, &act_block, &act_unblock,
    &act_isolate, &act_release,    &act_collect, &act_scan,
};

const struct vg_agent_resp_action *const *vg_agent_resp_actions(size_t *n)
{
    *n = VG_ARRAY_LEN(actions);
    return actions;
}

const struct vg_agent_resp_action *vg_agent_resp_find(const char *name)
{
    for (size_t i = 0; name && i < VG_ARRAY_LEN(actions); i++) {
        if (strcmp(actions[i]->name, name) == 0) {
            return actions[i];
        }
    }
    return NULL;
}

static const char *ptype_name(enum vg_agent_resp_ptype t)
{
    switch (t) {
    case VG_AGENT_RESP_INT:
        return "int";
    case VG_AGENT_RESP_STRING:
        return "string";
    case VG_AGENT_RESP_LIST:
        return "list";
    case VG_AGENT_RESP_INT_OR_STRING:
        return "int|string";
    case VG_AGENT_RESP_BOOL:
        return "bool";
    }
    return "string";
}

void vg_agent_resp_list_json(struct vg_sbuf *out)
{
    vg_sbuf_addc(out, '[');
    for (size_t i = 0; i < VG_ARRAY_LEN(actions); i++) {
        const struct vg_agent_resp_action *a = actions[i];
        vg_sbuf_printf(out, "%s{\"name\":\"%s\",\"description\":", i ? "," : "", a->name);
        vg_sbuf_add_json_str(out, a->description, strlen(a->description));
        vg_sbuf_adds(out, ",\"params\":[");
        for (const struct vg_agent_resp_param *p = a->params; p->name; p++) {
            vg_sbuf_printf(out, "%s{\"name\":\"%s\",\"type\":\"%s\",\"required\":%s,",
                           p == a->params ? "" : ",", p->name, ptype_name(p->type),
                           p->required ? "true" : "false");
            vg_sbuf_adds(out, "\"description\":");
            vg_sbuf_add_json_str(out, p->description, strlen(p->description));
            vg_sbuf_addc(out, '}');
        }
        vg_sbuf_adds(out, "]}");
    }
    vg_sbuf_addc(out, ']');
}

/* Unknown argument names are refused: a typo must not silently drop a safety check. */
static int args_check(const struct vg_agent_resp_action *a, const struct vg_json *args, char *err,
                      size_t errsz)
{
    if (!args || args->type == VG_JSON_NULL) {
        return VG_OK;
    }
    if (args->type != VG_JSON_OBJECT) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "%s: the arguments must be a JSON object",
                            a->name);
    }
    for (uint32_t i = 0; i < args->n; i++) {
        const struct vg_json *k = &args->u.items[2 * i];
        const struct vg_agent_resp_param *p = a->params;
        while (p->name && !vg_str_eq(k->s, k->n, p->name, strlen(p->name))) {
            p++;
        }
        if (!p->name) {
            return vg_resp_fail(err, errsz, VG_EINVAL, "%s: unknown parameter '%.*s'", a->name,
                                (int)VG_MIN(k->n, 64u), k->s);
        }
    }
    return VG_OK;
}

int vg_agent_resp_run(const char *action, const struct vg_json *args,
                      const struct vg_agent_resp_opts *o, struct vg_sbuf *output_json, char *err,
                      size_t errsz)
{
    static const struct vg_agent_resp_opts defaults = {0};
    const struct vg_agent_resp_action *a = vg_agent_resp_find(action);
    if (!a) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "unknown action '%.64s'",
                            action ? action : "(null)");
    }
    int rc = args_check(a, args, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    struct vg_sbuf tmp = VG_SBUF_INIT;
    rc = a->run(args, o ? o : &defaults, &tmp, err, errsz);
    if (rc == VG_OK && tmp.err) {
        rc = vg_resp_fail(err, errsz, VG_ENOMEM, "%s: out of memory", a->name);
    }
    if (rc == VG_OK) {
        vg_sbuf_add(output_json, tmp.p, tmp.len);
        if (output_json->err) {
            rc = vg_resp_fail(err, errsz, VG_ENOMEM, "%s: out of memory", a->name);
        }
    }
    VG_INFO("agent.resp", "%s: %s", a->name, rc == VG_OK ? "done" : err);
    vg_sbuf_fini(&tmp);
    return rc;
}
