/*
 * agent_resp_fw.c — block_ip / unblock_ip / isolate_host / release_host on the endpoint's
 * own firewall, never touching anything but Vigie's table.
 *
 * nftables (preferred): table inet <o->nft_table|"vigie">, the same table and layout the
 * server's nft.block uses (src/respond/respond_act_nft.c), so an agent on the server's host
 * shares it safely:
 *   - sets blocked4 / blocked6 (flags timeout) and base chains input, forward (as the server)
 *     plus output, priority -10, dropping packets from or to a member. block_ip re-asserts
 *     that layout and adds, deletes and re-adds the element with its timeout in one
 *     transaction (idempotent; a repeat restarts the expiry); the kernel expires it.
 *   - isolation uses its own sets iso_allow4 / iso_allow6 (flags interval: prefixes allowed)
 *     and its own base chains iso_input / iso_output / iso_forward at priority -20:
 *     loopback addresses on lo, the server's and allowed addresses, DHCP and IPv6 neighbour
 *     discovery pass; everything else — forwarded traffic included — is dropped. isolate_host
 *     flushes and refills only those chains and sets (idempotent); release_host adds, flushes
 *     and deletes them in one transaction (so it succeeds when not isolated).
 * Every script goes to `nft -f -` on stdin (argv fixed, no shell) and applies atomically;
 * it is built only from addresses parsed by inet_pton and re-printed by inet_ntop.
 *
 * iptables fallback (no nft binary): chains VIGIE (block) and VIGIE_ISO_IN/OUT/FWD jumped to
 * from INPUT/OUTPUT/FORWARD; rules carry no timeout, so the output says "expiry":"server"
 * (the server must send unblock_ip) and "backend":"iptables".
 */
#include "agent/agent_resp_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FW_MAX_SECONDS (30LL * 86400LL)
#define FW_MAX_ADDRS   64

struct fw_addr {
    char text[INET6_ADDRSTRLEN + 5]; /* canonical address, "/prefix" when not a host */
    bool v6;
};

struct fw {
    const struct vg_agent_resp_opts *o;
    const char *table;
    struct vg_sbuf script;
    char tool[64];
    const char *backend;
};

/* ---------------------------------------------------------------- addresses */

static void mask_bits(unsigned char *b, size_t len, unsigned prefix)
{
    for (size_t i = 0; i < len; i++) {
        unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * (unsigned)i : 0;
        b[i] &= (unsigned char)(0xff00u >> keep);
    }
}

/* Parse "IP" or (with prefixes) "IP/len"; canonical text into a; what names the parameter. */
static int addr_parse(const char *s, bool prefixes, const char *what, struct fw_addr *a, char *err,
                      size_t errsz)
{
    char ip[INET6_ADDRSTRLEN + 1];
    unsigned char b[16];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    long prefix = -1;
    if (n >= sizeof(ip) || (slash && !prefixes)) {
        goto bad;
    }
    memcpy(ip, s, n);
    ip[n] = '\0';
    a->v6 = strchr(ip, ':') != NULL;
    if (inet_pton(a->v6 ? AF_INET6 : AF_INET, ip, b) != 1) {
        goto bad;
    }
    unsigned max = a->v6 ? 128 : 32;
    if (slash) {
        char *end;
        prefix = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || prefix < (a->v6 ? 16 : 8) || prefix > (long)max) {
            return vg_resp_fail(err, errsz, VG_EINVAL,
                                "%s: prefix of \"%.64s\" must be /%u..%u (wider ones would "
                                "defeat isolation)",
                                what, s, a->v6 ? 16u : 8u, max);
        }
        mask_bits(b, max / 8, (unsigned)prefix);
    }
    static const unsigned char zero[16] = {0};
    if (memcmp(b, zero, max / 8) == 0) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "%s: the unspecified address is refused", what);
    }
    inet_ntop(a->v6 ? AF_INET6 : AF_INET, b, a->text, INET6_ADDRSTRLEN);
    if (prefix >= 0 && prefix < (long)max) {
        size_t used = strlen(a->text);
        snprintf(a->text + used, sizeof(a->text) - used, "/%u", (unsigned)prefix & 0xffu);
    }
    return VG_OK;
bad:
    return vg_resp_fail(err, errsz, VG_EINVAL, "%s: \"%.64s\" is not an IPv4 or IPv6 address%s",
                        what, s, prefixes ? " or prefix" : "");
}

static bool addr_loopback(const struct fw_addr *a)
{
    return a->v6 ? strcmp(a->text, "::1") == 0 : strncmp(a->text, "127.", 4) == 0;
}

/* ---------------------------------------------------------------- tools */

static int fw_init(struct fw *f, const struct vg_agent_resp_opts *o, bool v6, char *err,
                   size_t errsz)
{
    f->o = o;
    f->table = o->nft_table && o->nft_table[0] ? o->nft_table : "vigie";
    size_t n = strlen(f->table);
    if (n > 32 ||
        strspn(f->table, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "invalid nftables table name");
    }
    if (vg_resp_tool_find(o->nft_path, "nft", f->tool, sizeof(f->tool))) {
        if (o->nft_path) {
            vg_strlcpy(f->tool, o->nft_path, sizeof(f->tool));
        }
        f->backend = "nftables";
        return VG_OK;
    }
    const char *ovr = v6 ? o->ip6tables_path : o->iptables_path;
    if (vg_resp_tool_find(ovr, v6 ? "ip6tables" : "iptables", f->tool, sizeof(f->tool))) {
        if (ovr) {
            vg_strlcpy(f->tool, ovr, sizeof(f->tool));
        }
        f->backend = "iptables";
        return VG_OK;
    }
    return vg_resp_fail(err, errsz, VG_EUNSUPPORTED,
                        "neither nft nor %s is installed: cannot change the firewall",
                        v6 ? "ip6tables" : "iptables");
}

static int nft_apply(struct fw *f, char *err, size_t errsz)
{
    char *argv[] = {"nft", "-f", "-", NULL};
    if (f->script.err) {
        return vg_resp_fail(err, errsz, VG_ENOMEM, "out of memory");
    }
    return vg_resp_tool_run(f->tool, argv, f->script.p, NULL, f->o->tool_timeout_ms, err, errsz);
}

/* One iptables command; argv[0] is replaced by the tool's name, "-w" waits for the lock. */
static int ipt(struct fw *f, const char *const *args, char *err, size_t errsz)
{
    char *argv[16];
    size_t n = 0;
    argv[n++] = strrchr(f->tool, '/') ? strrchr(f->tool, '/') + 1 : f->tool;
    argv[n++] = "-w";
    for (; *args && n < VG_ARRAY_LEN(argv) - 1; args++) {
        argv[n++] = (char *)*args;
    }
    argv[n] = NULL;
    return vg_resp_tool_run(f->tool, argv, NULL, NULL, f->o->tool_timeout_ms, err, errsz);
}

/* Ensure chain exists and hook jumps to it first (iptables). */
static int ipt_chain(struct fw *f, const char *hook, const char *chain, char *err, size_t errsz)
{
    ipt(f, (const char *[]){"-N", chain, NULL}, NULL, 0); /* exists already: fine */
    if (ipt(f, (const char *[]){"-C", hook, "-j", chain, NULL}, NULL, 0) == VG_OK) {
        return VG_OK;
    }
    return ipt(f, (const char *[]){"-I", hook, "1", "-j", chain, NULL}, err, errsz);
}

/* ---------------------------------------------------------------- block / unblock */

void vg_agent_nft_block_layout(struct vg_sbuf *s, const char *table, const char *const *hooks,
                               size_t nhooks)
{
    static const char *const matches[] = {"ip saddr @blocked4", "ip daddr @blocked4",
                                          "ip6 saddr @blocked6", "ip6 daddr @blocked6"};
    vg_sbuf_printf(s, "add table inet %s\n", table);
    vg_sbuf_printf(s, "add set inet %s blocked4 { type ipv4_addr; flags timeout; }\n", table);
    vg_sbuf_printf(s, "add set inet %s blocked6 { type ipv6_addr; flags timeout; }\n", table);
    for (size_t i = 0; i < nhooks; i++) {
        vg_sbuf_printf(s,
                       "add chain inet %s %s { type filter hook %s priority -10; policy "
                       "accept; }\nflush chain inet %s %s\n",
                       table, hooks[i], hooks[i], table, hooks[i]);
        for (size_t k = 0; k < VG_ARRAY_LEN(matches); k++) {
            vg_sbuf_printf(s, "add rule inet %s %s %s drop\n", table, hooks[i], matches[k]);
        }
    }
}

static void nft_block_layout(struct fw *f)
{
    static const char *const hooks[] = {"input", "forward", "output"};
    vg_agent_nft_block_layout(&f->script, f->table, hooks, VG_ARRAY_LEN(hooks));
}

static int ipt_block(struct fw *f, const struct fw_addr *a, bool block, char *err, size_t errsz)
{
    static const char *const hooks[] = {"INPUT", "FORWARD", "OUTPUT"};
    static const char *const dirs[] = {"-s", "-d"};
    for (size_t i = 0; block && i < VG_ARRAY_LEN(hooks); i++) {
        int rc = ipt_chain(f, hooks[i], "VIGIE", err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
    }
    for (size_t i = 0; i < 2; i++) {
        const char *chk[] = {"-C", "VIGIE", dirs[i], a->text, "-j", "DROP", NULL};
        const char *act[] = {block ? "-A" : "-D", "VIGIE", dirs[i], a->text, "-j", "DROP", NULL};
        bool present = ipt(f, chk, NULL, 0) == VG_OK;
        int rc = present != block ? ipt(f, act, err, errsz) : VG_OK;
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int duration_read(const struct vg_json *args, int64_t *secs, char *err, size_t errsz)
{
    char text[32];
    int64_t ns = 0;
    int rc = vg_resp_arg_int(args, "duration", false, 1, FW_MAX_SECONDS, secs, NULL, 0);
    if (rc == VG_OK) {
        return VG_OK;
    }
    rc = vg_resp_arg_str(args, "duration", false, text, sizeof(text), NULL, 0);
    if (rc == VG_ENOENT) {
        *secs = 3600;
        return VG_OK;
    }
    if (rc != VG_OK || vg_duration_parse(text, strlen(text), &ns) != VG_OK || ns < 1000000000LL ||
        ns / 1000000000LL > FW_MAX_SECONDS) {
        return vg_resp_fail(err, errsz, VG_EINVAL,
                            "parameter 'duration' must be 1..2592000 seconds or a duration from "
                            "1s to 30d (like 90s, 15m, 1h, 7d)");
    }
    *secs = ns / 1000000000LL;
    return VG_OK;
}

static int block_common(const struct vg_json *args, const struct vg_agent_resp_opts *o, bool block,
                        struct vg_sbuf *out, char *err, size_t errsz)
{
    char ip[80];
    struct fw_addr a;
    struct fw f = {.script = VG_SBUF_INIT};
    int64_t secs = 0;
    int rc = vg_resp_arg_str(args, "ip", true, ip, sizeof(ip), err, errsz);
    if (rc != VG_OK || (rc = addr_parse(ip, false, "parameter 'ip'", &a, err, errsz)) != VG_OK ||
        (block && (rc = duration_read(args, &secs, err, errsz)) != VG_OK)) {
        return rc;
    }
    if (addr_loopback(&a) && !o->allow_local_block) {
        return vg_resp_fail(err, errsz, VG_EDENIED, "parameter 'ip': %s is a loopback address",
                            a.text);
    }
    if ((rc = fw_init(&f, o, a.v6, err, errsz)) != VG_OK) {
        return rc;
    }
    const char *set = a.v6 ? "blocked6" : "blocked4";
    if (strcmp(f.backend, "nftables") == 0) {
        if (block) {
            nft_block_layout(&f);
        } else {
            vg_sbuf_printf(&f.script,
                           "add table inet %s\nadd set inet %s %s { type %s; flags "
                           "timeout; }\n",
                           f.table, f.table, set, a.v6 ? "ipv6_addr" : "ipv4_addr");
        }
        /* add + delete: the outcome does not depend on whether the element existed */
        vg_sbuf_printf(&f.script, "add element inet %s %s { %s }\n", f.table, set, a.text);
        vg_sbuf_printf(&f.script, "delete element inet %s %s { %s }\n", f.table, set, a.text);
        if (block) {
            vg_sbuf_printf(&f.script, "add element inet %s %s { %s timeout %llds }\n", f.table, set,
                           a.text, (long long)secs);
        }
        rc = nft_apply(&f, err, errsz);
    } else {
        rc = ipt_block(&f, &a, block, err, errsz);
    }
    if (rc == VG_OK) {
        vg_sbuf_printf(out, "{\"ip\":\"%s\",\"blocked\":%s,\"backend\":\"%s\",\"table\":\"%s\"",
                       a.text, block ? "true" : "false", f.backend, f.table);
        if (block) {
            char exp[40];
            vg_time_format(vg_time_now() + secs * 1000000000LL, exp, sizeof(exp));
            vg_sbuf_printf(out, ",\"seconds\":%lld,\"expires\":\"%s\",\"expiry\":\"%s\"",
                           (long long)secs, exp, f.backend[0] == 'n' ? "kernel" : "server");
        }
        vg_sbuf_addc(out, '}');
    }
    vg_sbuf_fini(&f.script);
    return rc;
}

int vg_resp_block_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                      struct vg_sbuf *out, char *err, size_t errsz)
{
    return block_common(args, o, true, out, err, errsz);
}

int vg_resp_unblock_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz)
{
    return block_common(args, o, false, out, err, errsz);
}

/* ---------------------------------------------------------------- isolation */

struct iso {
    struct fw_addr addrs[2 * FW_MAX_ADDRS];
    size_t n, nserver;
};

static const struct {
    const char *chain, *hook, *ipt_hook, *ipt_chain;
    bool in;
} iso_chains[] = {
    {"iso_input", "input", "INPUT", "VIGIE_ISO_IN", true},
    {"iso_output", "output", "OUTPUT", "VIGIE_ISO_OUT", false},
    {"iso_forward", "forward", "FORWARD", "VIGIE_ISO_FWD", false},
};

static int iso_read_list(const struct vg_json *args, const char *key, bool required, struct iso *z,
                         char *err, size_t errsz)
{
    const struct vg_json *items;
    size_t n;
    char what[48], s[80];
    int rc = vg_resp_arg_list(args, key, required, FW_MAX_ADDRS, &items, &n, err, errsz);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        snprintf(what, sizeof(what), "%s[%zu]", key, i);
        if ((rc = vg_resp_json_str(&items[i], what, s, sizeof(s), err, errsz)) == VG_OK) {
            rc = addr_parse(s, true, what, &z->addrs[z->n], err, errsz);
            z->n += rc == VG_OK;
        }
    }
    return rc == VG_ENOENT ? VG_OK : rc;
}

static void nft_iso_rules(struct fw *f, size_t c)
{
    static const char *const nd = "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, "
                                  "nd-router-solicit, nd-router-advert } accept";
    struct vg_sbuf *s = &f->script;
    const char *t = f->table, *ch = iso_chains[c].chain;
    bool in = iso_chains[c].in;
    if (strcmp(iso_chains[c].hook, "forward") != 0) {
        const char *dir = in ? "saddr" : "daddr", *lo = in ? "iif" : "oif";
        vg_sbuf_printf(s, "add rule inet %s %s %s lo ip %s 127.0.0.0/8 accept\n", t, ch, lo, dir);
        vg_sbuf_printf(s, "add rule inet %s %s %s lo ip6 %s ::1 accept\n", t, ch, lo, dir);
        vg_sbuf_printf(s, "add rule inet %s %s ip %s @iso_allow4 accept\n", t, ch, dir);
        vg_sbuf_printf(s, "add rule inet %s %s ip6 %s @iso_allow6 accept\n", t, ch, dir);
        vg_sbuf_printf(s, "add rule inet %s %s udp sport %d udp dport %d accept\n", t, ch,
                       in ? 67 : 68, in ? 68 : 67);
        vg_sbuf_printf(s, "add rule inet %s %s udp sport %d udp dport %d accept\n", t, ch,
                       in ? 547 : 546, in ? 546 : 547);
        vg_sbuf_printf(s, "add rule inet %s %s %s\n", t, ch, nd);
    }
    vg_sbuf_printf(s, "add rule inet %s %s counter drop\n", t, ch);
}

static void nft_iso_script(struct fw *f, const struct iso *z, bool isolate)
{
    struct vg_sbuf *s = &f->script;
    const char *t = f->table;
    vg_sbuf_printf(s, "add table inet %s\n", t);
    for (size_t c = 0; c < VG_ARRAY_LEN(iso_chains); c++) {
        vg_sbuf_printf(s,
                       "add chain inet %s %s { type filter hook %s priority -20; policy "
                       "accept; }\nflush chain inet %s %s\n",
                       t, iso_chains[c].chain, iso_chains[c].hook, t, iso_chains[c].chain);
        if (!isolate) {
            vg_sbuf_printf(s, "delete chain inet %s %s\n", t, iso_chains[c].chain);
        }
    }
    for (int v6 = 0; v6 < 2; v6++) {
        vg_sbuf_printf(s, "add set inet %s iso_allow%d { type %s; flags interval; }\n", t,
                       v6 ? 6 : 4, v6 ? "ipv6_addr" : "ipv4_addr");
        vg_sbuf_printf(s, "%s set inet %s iso_allow%d\n", isolate ? "flush" : "delete", t,
                       v6 ? 6 : 4);
        for (size_t i = 0; isolate && i < z->n; i++) {
            if (z->addrs[i].v6 == (v6 == 1)) {
                vg_sbuf_printf(s, "add element inet %s iso_allow%d { %s }\n", t, v6 ? 6 : 4,
                               z->addrs[i].text);
            }
        }
    }
    for (size_t c = 0; isolate && c < VG_ARRAY_LEN(iso_chains); c++) {
        nft_iso_rules(f, c);
    }
}

/* iptables: one family's chains; release removes the jumps and the chains. */
static int ipt_iso(struct fw *f, const struct iso *z, bool v6, bool isolate, char *err,
                   size_t errsz)
{
    for (size_t c = 0; c < VG_ARRAY_LEN(iso_chains); c++) {
        const char *ch = iso_chains[c].ipt_chain, *hook = iso_chains[c].ipt_hook;
        const char *dir = iso_chains[c].in ? "-s" : "-d", *lo = iso_chains[c].in ? "-i" : "-o";
        while (!isolate && ipt(f, (const char *[]){"-D", hook, "-j", ch, NULL}, NULL, 0) == 0) {
        }
        ipt(f, (const char *[]){"-F", ch, NULL}, NULL, 0);
        if (!isolate) {
            ipt(f, (const char *[]){"-X", ch, NULL}, NULL, 0);
            continue;
        }
        int rc = ipt_chain(f, hook, ch, err, errsz);
        bool fwd = strcmp(hook, "FORWARD") == 0;
        const char *lo_addr = v6 ? "::1" : "127.0.0.0/8";
        if (rc == VG_OK && !fwd) {
            rc = ipt(f, (const char *[]){"-A", ch, lo, "lo", dir, lo_addr, "-j", "ACCEPT", NULL},
                     err, errsz);
        }
        for (size_t i = 0; rc == VG_OK && !fwd && i < z->n; i++) {
            if (z->addrs[i].v6 == v6) {
                rc = ipt(f, (const char *[]){"-A", ch, dir, z->addrs[i].text, "-j", "ACCEPT", NULL},
                         err, errsz);
            }
        }
        if (rc == VG_OK) {
            rc = ipt(f, (const char *[]){"-A", ch, "-j", "DROP", NULL}, err, errsz);
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int iso_apply(struct fw *f, const struct iso *z, bool isolate, char *err, size_t errsz)
{
    if (strcmp(f->backend, "nftables") == 0) {
        nft_iso_script(f, z, isolate);
        return nft_apply(f, err, errsz);
    }
    int rc = ipt_iso(f, z, false, isolate, err, errsz);
    char tool6[64];
    if (rc == VG_OK && vg_resp_tool_find(f->o->ip6tables_path, "ip6tables", tool6, sizeof(tool6))) {
        struct fw f6 = *f;
        vg_strlcpy(f6.tool, f->o->ip6tables_path ? f->o->ip6tables_path : tool6, sizeof(f6.tool));
        rc = ipt_iso(&f6, z, true, isolate, err, errsz);
    }
    return rc;
}

static void iso_output(struct vg_sbuf *out, const struct fw *f, const struct iso *z)
{
    vg_sbuf_printf(out, "{\"isolated\":true,\"backend\":\"%s\",\"table\":\"%s\",\"allowed\":{",
                   f->backend, f->table);
    for (int list = 0; list < 2; list++) {
        vg_sbuf_adds(out, list ? "],\"allow\":[" : "\"server\":[");
        size_t from = list ? z->nserver : 0, to = list ? z->n : z->nserver;
        for (size_t i = from; i < to; i++) {
            vg_sbuf_printf(out, "%s\"%s\"", i > from ? "," : "", z->addrs[i].text);
        }
    }
    vg_sbuf_adds(out, "],\"loopback\":true,\"established_with_allowed\":true,\"dhcp\":true,"
                      "\"icmpv6_nd\":true,\"forwarding\":false}}");
}

int vg_resp_isolate_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz)
{
    struct iso *z = vg_calloc(1, sizeof(*z));
    struct fw f = {.script = VG_SBUF_INIT};
    if (!z) {
        return vg_resp_fail(err, errsz, VG_ENOMEM, "out of memory");
    }
    int rc = iso_read_list(args, "server_ips", true, z, err, errsz);
    z->nserver = z->n;
    if (rc == VG_OK) {
        rc = iso_read_list(args, "allow", false, z, err, errsz);
    }
    if (rc == VG_OK && (rc = fw_init(&f, o, false, err, errsz)) == VG_OK &&
        (rc = iso_apply(&f, z, true, err, errsz)) == VG_OK) {
        iso_output(out, &f, z);
    }
    vg_sbuf_fini(&f.script);
    vg_free(z);
    return rc;
}

int vg_resp_release_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz)
{
    VG_UNUSED(args);
    static const struct iso none;
    struct fw f = {.script = VG_SBUF_INIT};
    int rc = fw_init(&f, o, false, err, errsz);
    if (rc == VG_OK && (rc = iso_apply(&f, &none, false, err, errsz)) == VG_OK) {
        vg_sbuf_printf(out, "{\"isolated\":false,\"backend\":\"%s\",\"table\":\"%s\"}", f.backend,
                       f.table);
    }
    vg_sbuf_fini(&f.script);
    return rc;
}
