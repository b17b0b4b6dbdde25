/*
 * respond_act_nft.c — nft.block / nft.unblock: keep an IP out with the host firewall.
 *
 * Vigie owns one nftables table (services->nft_table, default "vigie", family inet) with
 * two sets, blocked4 and blocked6 (flags timeout), and two base chains, input and forward
 * (filter hooks, priority -10), dropping packets from or to a set member. Every block
 * re-asserts that layout in one atomic `nft -f -` transaction (add table/sets/chains, flush
 * and refill only OUR chains' rules), so nothing else in the ruleset is ever touched and the
 * ruleset is never flushed. The element is added, deleted and added again with its timeout
 * in the same transaction: this succeeds whether it existed or not (idempotent) and a
 * repeated block restarts its expiry. Unblock adds then deletes the element, so a missing
 * element is success. The kernel expires elements by itself.
 *
 * The IP is parsed with inet_pton and re-printed with inet_ntop (IPv4-mapped IPv6 becomes
 * IPv4); only that canonical text and a validated number of seconds reach the script, which
 * goes on nft's stdin (argv {"nft", "-f", "-"}, no shell). 0.0.0.0 and :: are always
 * refused; loopback needs allow_local: true.
 *
 * Without nft, iptables/ip6tables are used with a VIGIE chain jumped to from INPUT and
 * FORWARD: rules carry no timeout there, so expiry then depends on the engine running
 * nft.unblock (the output says "expiry":"engine").
 */
#include "respond/respond_act_int.h"

#include "agent/agent_resp.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NFT_MAX_SECONDS (30LL * 86400LL)

struct nft_req {
    char ip[INET6_ADDRSTRLEN];
    bool v6;
    const char *table;
    int64_t seconds;
    struct vg_sbuf script;
};

/* ---------------------------------------------------------------- validation */

static int ip_canonical(const char *s, bool allow_local, struct nft_req *q,
                        struct vg_action_result *r)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, s, b) == 1) {
        q->v6 = false;
    } else if (inet_pton(AF_INET6, s, b) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        q->v6 = memcmp(b, mapped, 12) != 0;
        if (!q->v6) {
            memmove(b, b + 12, 4);
        }
    } else {
        return vg_act_fail(r, VG_EINVAL, false,
                           "parameter 'ip' is not an IPv4 or IPv6 address: \"%.64s\"", s);
    }
    static const unsigned char zero[16] = {0};
    static const unsigned char lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (memcmp(b, zero, q->v6 ? 16 : 4) == 0) {
        return vg_act_fail(r, VG_EINVAL, false,
                           "parameter 'ip': the unspecified address %s cannot be blocked", s);
    }
    bool local = q->v6 ? memcmp(b, lo6, 16) == 0 : b[0] == 127;
    if (local && !allow_local) {
        return vg_act_fail(r, VG_EDENIED, false,
                           "parameter 'ip': %s is a loopback address (set allow_local: true to "
                           "block it anyway)",
                           s);
    }
    inet_ntop(q->v6 ? AF_INET6 : AF_INET, b, q->ip, sizeof(q->ip));
    return VG_OK;
}

static int table_name(const struct vg_action_ctx *c, struct nft_req *q, struct vg_action_result *r)
{
    const char *t =
        c->svc && c->svc->nft_table && c->svc->nft_table[0] ? c->svc->nft_table : "vigie";
    size_t n = strlen(t);
    if (n > 32 ||
        strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n) {
        return vg_act_fail(r, VG_EINVAL, false,
                           "the configured nftables table name is invalid (letters, digits, _)");
    }
    q->table = t;
    return VG_OK;
}

static int req_read(const struct vg_action_ctx *c, bool block, struct nft_req *q,
                    struct vg_action_result *r)
{
    const char *ip, *dur;
    bool allow_local;
    int64_t ns = 0;
    int rc;
    if ((rc = vg_act_str(c, r, "ip", true, 64, &ip)) != VG_OK ||
        (rc = vg_act_bool(c, r, "allow_local", false, &allow_local)) != VG_OK ||
        (rc = ip_canonical(ip, allow_local, q, r)) != VG_OK ||
        (rc = table_name(c, q, r)) != VG_OK ||
        (rc = vg_act_str(c, r, "duration", false, 32, &dur)) != VG_OK) {
        return rc;
    }
    if (!block) {
        return VG_OK;
    }
    dur = dur ? dur : "1h";
    if (vg_duration_parse(dur, strlen(dur), &ns) != VG_OK || ns < 1000000000LL ||
        ns / 1000000000LL > NFT_MAX_SECONDS) {
        return vg_act_fail(r, VG_EINVAL, false,
                           "parameter 'duration' must be a duration from 1s to 30d (like 1h, "
                           "90m, 7d), got \"%.32s\"",
                           dur);
    }
    q->seconds = ns / 1000000000LL;
    return VG_OK;
}

/* ---------------------------------------------------------------- nft scripts */

static void script_layout(struct nft_req *q)
{
    static const char *const hooks[] = {"input", "forward"};
    vg_agent_nft_block_layout(&q->script, q->table, hooks, VG_ARRAY_LEN(hooks));
}

static void script_build(struct nft_req *q, bool block)
{
    struct vg_sbuf *s = &q->script;
    const char *set = q->v6 ? "blocked6" : "blocked4";
    if (block) {
        script_layout(q);
    } else {
        vg_sbuf_printf(s, "add table inet %s\n", q->table);
        vg_sbuf_printf(s, "add set inet %s %s { type %s; flags timeout; }\n", q->table, set,
                       q->v6 ? "ipv6_addr" : "ipv4_addr");
    }
    /* add+delete makes both outcomes independent of whether the element existed */
    vg_sbuf_printf(s, "add element inet %s %s { %s }\n", q->table, set, q->ip);
    vg_sbuf_printf(s, "delete element inet %s %s { %s }\n", q->table, set, q->ip);
    if (block) {
        vg_sbuf_printf(s, "add element inet %s %s { %s timeout %llds }\n", q->table, set, q->ip,
                       (long long)q->seconds);
    }
}

/* ---------------------------------------------------------------- running tools */

static const char *tool_find(const char *name, char *buf, size_t size)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
    for (size_t i = 0; i < VG_ARRAY_LEN(dirs); i++) {
        snprintf(buf, size, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0) {
            return buf;
        }
    }
    return NULL;
}

/* Run a firewall tool; 0 on exit 0, else VG_ERROR with stderr's first line in r->err. */
static int tool_run(const struct vg_action_ctx *c, const char *path, char *const *argv,
                    const char *in, struct vg_action_result *r)
{
    static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
    struct vg_act_proc p = {.path = path,
                            .argv = argv,
                            .envp = envp,
                            .in = in,
                            .in_len = in ? strlen(in) : 0,
                            .out_max = 4096,
                            .err_max = 4096,
                            .deadline = vg_act_deadline(c)};
    int rc = vg_act_proc_run(&p);
    if (rc != VG_OK) {
        rc = vg_act_fail(r, rc, true, "%s could not start: %s", argv[0], strerror(p.errno_start));
    } else if (p.timed_out) {
        rc = vg_act_fail(r, VG_ETIMEOUT, true, "%s did not finish before the deadline", argv[0]);
    } else if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
        size_t n = p.err.p ? strcspn(p.err.p, "\n") : 0;
        rc = vg_act_fail(r, VG_ERROR, false, "%s failed: %.*s", argv[0], (int)VG_MIN(n, 300u),
                         p.err.p ? p.err.p : "(no message)");
    }
    vg_act_proc_fini(&p);
    return rc;
}

/* iptables fallback: one rule per direction in the VIGIE chain; "-C" first keeps it idempotent. */
static int ipt_apply(const struct vg_action_ctx *c, const char *tool, struct nft_req *q, bool block,
                     struct vg_action_result *r)
{
    char *name = q->v6 ? "ip6tables" : "iptables";
    struct vg_action_result scratch = {0};
    char *mk[] = {name, "-w", "-N", "VIGIE", NULL};
    tool_run(c, tool, mk, NULL, &scratch); /* exists already: fine */
    static char *const hooks[] = {"INPUT", "FORWARD"};
    for (size_t i = 0; i < 2; i++) {
        char *chk[] = {name, "-w", "-C", hooks[i], "-j", "VIGIE", NULL};
        char *ins[] = {name, "-w", "-I", hooks[i], "1", "-j", "VIGIE", NULL};
        if (tool_run(c, tool, chk, NULL, &scratch) != VG_OK &&
            tool_run(c, tool, ins, NULL, r) != VG_OK) {
            return VG_ERROR;
        }
    }
    static char *const dirs[] = {"-s", "-d"};
    for (size_t i = 0; i < 2; i++) {
        char *chk[] = {name, "-w", "-C", "VIGIE", dirs[i], q->ip, "-j", "DROP", NULL};
        char *act[] = {name,   "-w", block ? "-A" : "-D", "VIGIE", dirs[i], q->ip, "-j",
                       "DROP", NULL};
        bool present = tool_run(c, tool, chk, NULL, &scratch) == VG_OK;
        if (present != block && tool_run(c, tool, act, NULL, r) != VG_OK) {
            return VG_ERROR;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- the actions */

static void output_write(struct nft_req *q, bool block, const char *backend,
                         struct vg_action_result *r)
{
    char exp[40];
    vg_sbuf_printf(&r->output, "{\"ip\":\"%s\",\"table\":\"%s\",\"backend\":\"%s\"", q->ip,
                   q->table, backend);
    if (block) {
        vg_time_format(vg_time_now() + q->seconds * 1000000000LL, exp, sizeof(exp));
        vg_sbuf_printf(&r->output, ",\"expires\":\"%s\",\"expiry\":\"%s\"", exp,
                       strcmp(backend, "nftables") == 0 ? "kernel" : "engine");
    } else {
        vg_sbuf_adds(&r->output, ",\"unblocked\":true");
    }
    vg_sbuf_addc(&r->output, '}');
}

static int fw_apply(const struct vg_action_ctx *c, struct nft_req *q, bool block,
                    struct vg_action_result *r, const char **backend)
{
    char path[64];
    const char *tool = tool_find("nft", path, sizeof(path));
    if (tool) {
        char *argv[] = {"nft", "-f", "-", NULL};
        *backend = "nftables";
        return tool_run(c, tool, argv, q->script.p, r);
    }
    if ((tool = tool_find(q->v6 ? "ip6tables" : "iptables", path, sizeof(path)))) {
        *backend = "iptables";
        return ipt_apply(c, tool, q, block, r);
    }
    return vg_act_fail(r, VG_EUNSUPPORTED, false,
                       "neither nft nor iptables is installed: cannot change the firewall");
}

static int fw_run(const struct vg_action_ctx *c, struct vg_action_result *r, bool block)
{
    struct nft_req q = {.script = VG_SBUF_INIT};
    const char *backend = NULL;
    int rc = req_read(c, block, &q, r);
    if (rc != VG_OK) {
        return rc;
    }
    script_build(&q, block);
    if (q.script.err) {
        rc = vg_act_fail(r, VG_ENOMEM, true, "out of memory");
    } else if (c->svc && (c->svc->dry_run || c->svc->contain_dry_run)) {
        rc = vg_act_dry(r, "run nft -f - with:\n%s", q.script.p);
    } else if ((rc = fw_apply(c, &q, block, r, &backend)) == VG_OK) {
        output_write(&q, block, backend, r);
        rc = r->output.err ? vg_act_fail(r, VG_ENOMEM, true, "out of memory") : VG_OK;
        char *detail = vg_arena_printf(c->arena, "{\"seconds\":%lld,\"backend\":\"%s\"}",
                                       (long long)q.seconds, backend);
        vg_act_audit(c, block ? "respond.nft.block" : "respond.nft.unblock",
                     vg_arena_printf(c->arena, "ip:%s", q.ip), detail);
    }
    vg_sbuf_fini(&q.script);
    return rc;
}

static int block_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    return fw_run(c, r, true);
}

static int unblock_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    return fw_run(c, r, false);
}

static const struct vg_action_param block_params[] = {
    {"ip", VG_ACTION_STRING, true, "IPv4 or IPv6 address to block (no prefixes)"},
    {"duration", VG_ACTION_STRING, false, "how long: 1s to 30d, like 15m, 1h, 7d (default 1h)"},
    {"allow_local", VG_ACTION_BOOL, false,
     "permit blocking a loopback address (default false; 0.0.0.0 and :: are always refused)"},
    {NULL, 0, false, NULL},
};

static const struct vg_action_param unblock_params[] = {
    {"ip", VG_ACTION_STRING, true, "IPv4 or IPv6 address to unblock"},
    {"allow_local", VG_ACTION_BOOL, false, "permit a loopback address (default false)"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_nft_block = {
    .name = "nft.block",
    .description = "Drop traffic from/to an IP for a duration in Vigie's own nftables table "
                   "(kernel-side expiry); output {ip, expires, table, backend}",
    .params = block_params,
    .run = block_run,
};

const struct vg_action_def vg_act_nft_unblock = {
    .name = "nft.unblock",
    .description = "Remove an IP from Vigie's nftables block sets (absent already: success)",
    .params = unblock_params,
    .run = unblock_run,
};
