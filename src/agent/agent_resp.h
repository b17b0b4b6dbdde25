/*
 * agent_resp.h — the agent's response actions: what the endpoint does when the server sends a
 * command (already authenticated and signature-checked by the transport).
 *
 * Actions are a table (STYLE.md habit 10): name, one-line description and parameters, so the
 * agent can tell the server what it offers (vg_agent_resp_list_json) and playbooks can be
 * validated against it. vg_agent_resp_run() dispatches one command and writes its result as
 * one JSON object. Every action validates its arguments first and names the offending
 * parameter in err; nothing from the arguments ever reaches a shell (firewall scripts go to
 * `nft -f -` on stdin with a fixed argv, after the addresses were parsed and re-printed).
 *
 *   kill_process    {pid, expect_exe?, signal?}  pidfd_open + pidfd_send_signal (kill(2) when
 *                                                 the kernel has no pidfd, reported)
 *   quarantine_file {path, sha256?}              same-filesystem move, mode 000, immutable flag,
 *                                                 recorded in <state_dir>/quarantine.db
 *   restore_file    {quarantine_id}              the reverse; refused if the path exists again
 *   block_ip        {ip, duration?}              Vigie's own nftables table, sets with timeouts
 *   unblock_ip      {ip}
 *   isolate_host    {server_ips, allow?}         drop everything but the server (own chains)
 *   release_host    {}
 *   collect_file    {path, max_bytes?}           sha256, size, bounded base64 content
 *   scan            {path, recursive?, rules?,   YARA scan with the running yara collector's
 *                    max_matches?}                rules, or the rule text given; bounded
 *                                                 list of matches {file, rule, tags}
 *
 * Thread-safety: actions keep no global state; two commands may run concurrently (the
 * quarantine database serialises through SQLite, nft transactions are atomic).
 */
#ifndef VG_AGENT_RESP_H
#define VG_AGENT_RESP_H

#include "core/core.h"

#include <stdbool.h>

struct vg_json;
struct vg_agent_yara_rules;

struct vg_agent_resp_opts {
    const char *state_dir;      /* quarantine.db and quarantine/ live here (required for
                                   quarantine_file / restore_file) */
    const char *nft_table;      /* NULL: "vigie" (table inet <name>, shared with the server's
                                   nft.block, which uses the same set and chain layout) */
    const char *nft_path;       /* NULL: look for nft in /usr/sbin, /sbin, /usr/bin, /bin */
    const char *iptables_path;  /* NULL: same search for iptables (fallback without nft) */
    const char *ip6tables_path; /* NULL: same search for ip6tables */
    size_t collect_max;         /* hard cap on collect_file's content (0: 4 MiB) */
    int64_t tool_timeout_ms;    /* firewall tool deadline (0: 10 s) */
    bool allow_local_block;     /* permit block_ip of loopback addresses (tests only) */
    /* scan: the rules of the running yara collector as a new reference (rules_unref), or
       NULL when none runs; NULL callback: no collector (only the command's "rules"). */
    struct vg_agent_yara_rules *(*yara_rules)(void *ctx);
    void *yara_ctx;
};

enum vg_agent_resp_ptype {
    VG_AGENT_RESP_INT,
    VG_AGENT_RESP_STRING,
    VG_AGENT_RESP_LIST, /* array of strings */
    VG_AGENT_RESP_INT_OR_STRING,
    VG_AGENT_RESP_BOOL,
};

struct vg_agent_resp_param {
    const char *name;
    enum vg_agent_resp_ptype type;
    bool required;
    const char *description;
};

struct vg_agent_resp_action {
    const char *name;
    const char *description;
    const struct vg_agent_resp_param *params; /* terminated by a NULL name */
    /* See vg_agent_resp_run; args is a JSON object or NULL (no arguments). */
    int (*run)(const struct vg_json *args, const struct vg_agent_resp_opts *o, struct vg_sbuf *out,
               char *err, size_t errsz);
};

/* The action table (static storage) and its length. */
const struct vg_agent_resp_action *const *vg_agent_resp_actions(size_t *n);
/* Look an action up by name; NULL when unknown. */
const struct vg_agent_resp_action *vg_agent_resp_find(const char *name);
/* Append the table as a JSON array [{name, description, params:[{name,type,required,
   description}]}] to out. */
void vg_agent_resp_list_json(struct vg_sbuf *out);

/*
 * Run one response action. args: the command's JSON object (NULL = none). On VG_OK the
 * result object is appended to output_json; on failure nothing is appended and err (errsz
 * bytes) says why, naming the parameter when an argument was wrong.
 * Returns VG_OK; VG_EINVAL (bad or unknown argument / action), VG_EDENIED (refused by a
 * safety rule: pid 1, expect_exe mismatch, sha256 mismatch, unsafe quarantine dir...),
 * VG_ENOENT (no such process / file / quarantine id), VG_EEXIST (restore target exists),
 * VG_EUNSUPPORTED (no kernel facility or tool; scan without any rules), VG_ETIMEOUT, VG_EIO,
 * VG_ERROR, VG_ENOMEM.
 */
int vg_agent_resp_run(const char *action, const struct vg_json *args,
                      const struct vg_agent_resp_opts *o, struct vg_sbuf *output_json, char *err,
                      size_t errsz);

/*
 * The nftables layout of Vigie's blocks, appended to an `nft -f` script: table `inet TABLE`,
 * sets blocked4/blocked6 (with per-element timeouts), and a drop rule for each set both ways
 * in each of the given filter hooks ("input", "forward", "output"), whose chains are flushed
 * first so the layout is idempotent. Used by the agent's block action and by the server's
 * nft.block playbook action, so both keep one table shape.
 */
void vg_agent_nft_block_layout(struct vg_sbuf *s, const char *table, const char *const *hooks,
                               size_t nhooks);

#endif /* VG_AGENT_RESP_H */
