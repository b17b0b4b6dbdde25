/*
 * decode_auth.c — Linux authentication logs (auth.log / secure): sshd, sudo, su, PAM modules
 * and the shadow-utils account tools (useradd, userdel, usermod, groupadd, groupdel, passwd,
 * chpasswd, chage, gpasswd). Each decoder claims syslog lines of its program and keeps the
 * syslog native fields (program, hostname, pid, message — what the Sigma linux rules match)
 * plus ECS: event.category/type/action/outcome, user.name, user.target.name,
 * user.effective.name, source.ip/port, process.command_line, group.name.
 *
 * Messages are matched with the table-driven patterns of decode_util.c: one pass over the
 * message per candidate row, no regex, no allocation (sshd is the hottest source there is).
 */
#include "decode/decode_int.h"

static bool prog_is(const struct vg_dctx *c, const char *name)
{
    return c->has_hdr && c->hdr.prog && vg_dec_eq(c->hdr.prog, c->hdr.prog_len, name);
}

/* ---------------------------------------------------------------- sshd */

#define AUTHN "authentication"

static const struct vg_dpattern sshd_rows[] = {
    {"Failed %w for %U from %i port %p%*", "ssh_login", "failure", AUTHN, "start"},
    {"Accepted %w for %U from %i port %p%*", "ssh_login", "success", AUTHN, "start"},
    {"Invalid user %u from %i port %p%*", "invalid_user", "failure", AUTHN, "start"},
    {"Invalid user %u from %i%*", "invalid_user", "failure", AUTHN, "start"},
    {"Invalid user  from %i port %p%*", "invalid_user", "failure", AUTHN, "start"},
    {"Connection closed by %U %i port %p%*", "connection_closed", NULL, AUTHN, "end"},
    {"Connection closed by %i port %p%*", "connection_closed", NULL, AUTHN, "end"},
    {"Connection closed by %i%*", "connection_closed", NULL, AUTHN, "end"},
    {"Disconnected from %U %i port %p%*", "disconnected", NULL, AUTHN, "end"},
    {"Disconnected from %i port %p%*", "disconnected", NULL, AUTHN, "end"},
    {"Disconnecting %U %i port %p%*", "disconnected", NULL, AUTHN, "end"},
    {"Received disconnect from %i port %p%*", "disconnected", NULL, AUTHN, "end"},
    {"Received disconnect from %i:%*", "disconnected", NULL, AUTHN, "end"},
    {"Connection reset by %U %i port %p%*", "connection_reset", NULL, AUTHN, "end"},
    {"Connection reset by %i port %p%*", "connection_reset", NULL, AUTHN, "end"},
    {"Connection from %i port %p on %*", "connection", NULL, "network", "start"},
    {"Postponed %w for %U from %i port %p%*", "ssh_login_postponed", NULL, AUTHN, "info"},
    {"Failed %w for %U from %i%*", "ssh_login", "failure", AUTHN, "start"},
    {"input_userauth_request: invalid user %u%*", "invalid_user", "failure", AUTHN, "start"},
    {"error: maximum authentication attempts exceeded for %U from %i port %p%*",
     "max_auth_attempts", "failure", AUTHN, "start"},
    {"error: PAM: %* for %U from %i", "ssh_login", "failure", AUTHN, "start"},
    {"User %u from %i not allowed because %*", "user_not_allowed", "failure", AUTHN, "denied"},
    {"Did not receive identification string from %i port %p%*", "no_identification", NULL,
     "network", "info"},
    {"Did not receive identification string from %i%*", "no_identification", NULL, "network",
     "info"},
    {"Bad protocol version identification %* from %i port %p%*", "bad_protocol", NULL, "network",
     "info"},
    {"fatal: Unable to negotiate with %i port %p: %*", "negotiation_failed", "failure", "network",
     "info"},
    {"Unable to negotiate with %i port %p: %*", "negotiation_failed", "failure", "network", "info"},
    {"fatal: Unable to negotiate with %i: %*", "negotiation_failed", "failure", "network", "info"},
    {"reverse mapping checking getaddrinfo for %w [%i] failed%*", "reverse_mapping_failed", NULL,
     "network", "info"},
    {"Address %i maps to %w but this does not map back to the address%*", "reverse_mapping_failed",
     NULL, "network", "info"},
    {"Server listening on %i port %p%*", "listening", NULL, "process", "start"},
    {"Received signal %w; terminating%*", "stopped", NULL, "process", "end"},
    {"Timeout before authentication for %i port %p%*", "timeout", "failure", AUTHN, "end"},
    {"Authentication refused: %*", "authentication_refused", "failure", AUTHN, "denied"},
};

int vg_dec_sshd(struct vg_dctx *c)
{
    struct vg_caps caps;
    if (!prog_is(c, "sshd") && !prog_is(c, "sshd-session")) {
        return VG_DECLINED;
    }
    const char *m = c->msg;
    size_t n = c->mlen;
    /* Solaris writes "[ID 800047 auth.notice] " before the text */
    if (n > 4 && m[0] == '[' && m[1] == 'I' && m[2] == 'D' && m[3] == ' ') {
        size_t e = vg_dec_find(m, n, "] ");
        if (e < n) {
            m += e + 2;
            n -= e + 2;
        }
    }
    vg_dctx_claim(c, VG_EK_LINUX);
    const struct vg_dpattern *row =
        vg_dec_pmatch_table(sshd_rows, VG_ARRAY_LEN(sshd_rows), m, n, &caps);
    if (row) {
        vg_dctx_pattern(c, row, &caps);
        if (row->action[0] == 's' && caps.n[VG_CAP_WORD]) {
            vg_dctx_named(c, "system.auth.ssh.method", 22, caps.s[VG_CAP_WORD],
                          caps.n[VG_CAP_WORD]);
        }
    }
    return c->rc;
}

/* ---------------------------------------------------------------- PAM */

static const struct vg_dpattern pam_rows[] = {
    {"authentication failure; %*", "authentication_failure", "failure", AUTHN, "start"},
    {"%w more authentication failures; %*", "authentication_failure", "failure", AUTHN, "start"},
    {"session opened for user %u by %*", "session_opened", "success", "session", "start"},
    {"session opened for user %u%*", "session_opened", "success", "session", "start"},
    {"session closed for user %u%*", "session_closed", "success", "session", "end"},
    {"check pass; user unknown%*", "check_pass", "failure", AUTHN, "start"},
    {"password changed for %u%*", "password_changed", "success", "iam", "change"},
    {"authentication failure for %*", "authentication_failure", "failure", AUTHN, "start"},
    {"Consecutive login failures for user %u account temporarily locked%*", "account_locked",
     "failure", AUTHN, "denied"},
    {"Authentication failure for user %u%*", "authentication_failure", "failure", AUTHN, "start"},
    {"%*", NULL, NULL, AUTHN, NULL},
};

/* "pam_unix(sshd:auth): rest" → module, service, type; returns the offset of rest or 0. */
static size_t pam_prefix(const char *m, size_t n, struct vg_dctx *c)
{
    size_t i = 0;
    while (i < n && i < 40 && m[i] != '(' && m[i] != ':' && m[i] != ' ') {
        i++;
    }
    if (i < 5 || i >= n || m[i] != '(' || memcmp(m, "pam_", 4) != 0) {
        return 0;
    }
    size_t svc = i + 1, e = svc;
    while (e < n && e - svc < 64 && m[e] != ')') {
        e++;
    }
    if (e + 2 >= n || m[e] != ')' || m[e + 1] != ':') {
        return 0;
    }
    if (c) {
        const char *colon = memchr(m + svc, ':', e - svc);
        size_t sl = colon ? (size_t)(colon - (m + svc)) : e - svc;
        vg_dctx_named(c, "pam.module", 10, m, i);
        vg_dctx_named(c, "pam.service", 11, m + svc, sl);
        if (colon) {
            vg_dctx_named(c, "pam.type", 8, colon + 1, (size_t)(m + e - colon - 1));
        }
    }
    return e + 2 + (m[e + 2] == ' ');
}

/* The k=v tail of "authentication failure; logname= uid=0 ... rhost=1.2.3.4 user=root". */
static void pam_kv(struct vg_dctx *c, const char *m, size_t n)
{
    struct vg_kv_iter it;
    struct vg_kv kv;
    vg_kv_init(&it, m, n, ' ');
    while (c->rc == VG_OK && vg_kv_next(&it, &kv)) {
        vg_dctx_named(c, kv.key, kv.kl, kv.val, kv.vl);
        if (vg_dec_eq(kv.key, kv.kl, "rhost") && kv.vl) {
            vg_dctx_addr(c, VG_DF(SOURCE_IP), VG_DF(SOURCE_ADDRESS), kv.val, kv.vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "user") && kv.vl) {
            vg_dctx_str(c, VG_DF(USER_NAME), kv.val, kv.vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "ruser") && kv.vl) {
            vg_dctx_named(c, "user.effective.name", 19, kv.val, kv.vl);
        }
    }
}

/* "deploy(uid=1000)" (systemd-era pam_unix session lines) → user.name "deploy", user.id
 * "1000"; the capture is trimmed to the name before the pattern's fields are added. */
static void pam_user_uid(struct vg_dctx *c, struct vg_caps *caps)
{
    const char *u = caps->s[VG_CAP_USER];
    size_t n = caps->n[VG_CAP_USER];
    const char *open = n ? memchr(u, '(', n) : NULL;
    if (!open || u[n - 1] != ')' || open == u) {
        return;
    }
    const char *id = open + 1;
    size_t il = (size_t)(u + n - 1 - id);
    if (vg_dec_starts(id, il, "uid=")) {
        vg_dctx_str(c, VG_DF(USER_ID), id + 4, il - 4);
    }
    caps->n[VG_CAP_USER] = (size_t)(open - u);
}

int vg_dec_pam(struct vg_dctx *c)
{
    struct vg_caps caps;
    const char *m = c->msg;
    size_t n = c->mlen, off = 0;
    bool old_style =
        c->has_hdr && c->hdr.prog && memmem(c->hdr.prog, c->hdr.prog_len, "(pam_", 5) != NULL;
    if (!old_style && (n < 12 || m[0] != 'p' || !(off = pam_prefix(m, n, NULL)))) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_LINUX);
    if (!old_style) {
        pam_prefix(m, n, c);
    }
    m += off;
    n -= off;
    const struct vg_dpattern *row =
        vg_dec_pmatch_table(pam_rows, VG_ARRAY_LEN(pam_rows), m, n, &caps);
    pam_user_uid(c, &caps);
    vg_dctx_pattern(c, row, &caps);
    const char *semi = memchr(m, ';', n);
    if (semi) {
        pam_kv(c, semi + 1, (size_t)(m + n - semi - 1));
    }
    return c->rc;
}

/* ---------------------------------------------------------------- sudo */

/* "  dcid : TTY=pts/4 ; PWD=/home/dcid ; USER=root ; COMMAND=/usr/bin/tail /x" */
int vg_dec_sudo(struct vg_dctx *c)
{
    if (!prog_is(c, "sudo")) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_LINUX);
    const char *m = c->msg, *end = c->msg + c->mlen;
    while (m < end && *m == ' ') {
        m++;
    }
    size_t sep = vg_dec_find(m, (size_t)(end - m), " : ");
    if (sep == (size_t)(end - m) || sep == 0) {
        return c->rc; /* not a command record (e.g. a plugin message) */
    }
    vg_dctx_str(c, VG_DF(USER_NAME), m, sep);
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "process");
    const char *reason = NULL;
    size_t rl = 0;
    for (const char *p = m + sep + 3; p < end && c->rc == VG_OK;) {
        size_t seg = vg_dec_find(p, (size_t)(end - p), " ; ");
        const char *eq = memchr(p, '=', seg);
        /* COMMAND= runs to the end: the command itself may contain " ; " */
        if (eq && vg_dec_starts(p, seg, "COMMAND=")) {
            seg = (size_t)(end - p);
        }
        if (eq && eq > p) {
            const char *v = eq + 1;
            size_t vl = (size_t)(p + seg - v);
            vg_dctx_named(c, p, (size_t)(eq - p), v, vl);
            if (vg_dec_starts(p, seg, "USER=")) {
                vg_dctx_str(c, VG_DF(USER_EFFECTIVE_NAME), v, vl);
            } else if (vg_dec_starts(p, seg, "COMMAND=")) {
                vg_dctx_str(c, VG_DF(PROCESS_CMDLINE), v, vl);
            } else if (vg_dec_starts(p, seg, "PWD=")) {
                vg_dctx_str(c, VG_DF(PROCESS_CWD), v, vl);
            }
        } else if (!reason) {
            reason = p;
            rl = seg;
        }
        p += seg + 3;
    }
    vg_dctx_lit(c, VG_DF(EVENT_ACTION), reason ? "sudo_failed" : "sudo_command");
    vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), reason ? "failure" : "success");
    vg_dctx_str(c, VG_DF(EVENT_REASON), reason, rl);
    return c->rc;
}

/* ---------------------------------------------------------------- su */

static const struct vg_dpattern su_rows[] = {
    {"Successful su for %t by %u%*", "su", "success", AUTHN, "start"},
    {"FAILED su for %t by %u%*", "su", "failure", AUTHN, "start"},
    {"FAILED SU (to %t) %u on %w%*", "su", "failure", AUTHN, "start"},
    {"(to %t) %u on %w%*", "su", "success", AUTHN, "start"},
    {"+ %w %u:%t%*", "su", "success", AUTHN, "start"},
    {"- %w %u:%t%*", "su", "failure", AUTHN, "start"},
    {"BAD SU %u to %t on %w%*", "su", "failure", AUTHN, "start"},
    {"SU %u to %t on %w%*", "su", "success", AUTHN, "start"},
    {"failed: %w changing from %u to %t%*", "su", "failure", AUTHN, "start"},
    {"%u to %t on %w%*", "su", "success", AUTHN, "start"},
    {"'su %t' failed for %u on %w%*", "su", "failure", AUTHN, "start"},
    {"'su %t' succeeded for %u on %w%*", "su", "success", AUTHN, "start"},
};

int vg_dec_su(struct vg_dctx *c)
{
    struct vg_caps caps;
    if (!prog_is(c, "su")) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_LINUX);
    const struct vg_dpattern *row =
        vg_dec_pmatch_table(su_rows, VG_ARRAY_LEN(su_rows), c->msg, c->mlen, &caps);
    if (row) {
        vg_dctx_pattern(c, row, &caps);
    }
    return c->rc;
}

/* ---------------------------------------------------------------- shadow-utils */

static const char *const shadow_progs[] = {
    "useradd", "userdel",  "usermod", "groupadd", "groupdel", "groupmod",
    "passwd",  "chpasswd", "chage",   "gpasswd",  "newusers", "chfn",
    "chsh",    "adduser",  "deluser", "addgroup", "delgroup"};

static const struct vg_dpattern shadow_rows[] = {
    {"new user: %*", "user_created", "success", "iam", "creation"},
    {"new group: %*", "group_created", "success", "iam", "creation"},
    {"group added to %w %*", "group_created", "success", "iam", "creation"},
    {"delete user %u%*", "user_deleted", "success", "iam", "deletion"},
    {"removed group %w owned by %u%*", "group_deleted", "success", "iam", "deletion"},
    {"removed shadow group %w owned by %u%*", "group_deleted", "success", "iam", "deletion"},
    {"group %w removed%*", "group_deleted", "success", "iam", "deletion"},
    {"add %u to group %w%*", "group_member_added", "success", "iam", "change"},
    {"add %u to shadow group %w%*", "group_member_added", "success", "iam", "change"},
    {"change user %u password%*", "password_changed", "success", "iam", "change"},
    {"lock user %u password%*", "user_locked", "success", "iam", "change"},
    {"unlock user %u password%*", "user_unlocked", "success", "iam", "change"},
    {"change user name %u to %t%*", "user_renamed", "success", "iam", "change"},
    {"change user %u %*", "user_changed", "success", "iam", "change"},
    {"password for %u changed by %t%*", "password_changed", "success", "iam", "change"},
    {"changed password expiry for %u%*", "password_expiry_changed", "success", "iam", "change"},
    {"failed adding user %u%*", "user_created", "failure", "iam", "creation"},
    {"%*", NULL, NULL, "iam", NULL},
};

int vg_dec_shadow(struct vg_dctx *c)
{
    struct vg_caps caps;
    bool mine = false;
    for (size_t i = 0; c->has_hdr && c->hdr.prog && i < VG_ARRAY_LEN(shadow_progs) && !mine; i++) {
        mine = vg_dec_eq(c->hdr.prog, c->hdr.prog_len, shadow_progs[i]);
    }
    if (!mine) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_LINUX);
    const struct vg_dpattern *row =
        vg_dec_pmatch_table(shadow_rows, VG_ARRAY_LEN(shadow_rows), c->msg, c->mlen, &caps);
    vg_dctx_pattern(c, row, &caps);
    /* "name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash" */
    const char *colon = memchr(c->msg, ':', c->mlen);
    if (colon && row->action) {
        struct vg_kv_iter it;
        struct vg_kv kv;
        bool group = row->action[0] == 'g';
        vg_kv_init(&it, colon + 1, (size_t)(c->msg + c->mlen - colon - 1), ',');
        while (c->rc == VG_OK && vg_kv_next(&it, &kv)) {
            vg_dctx_named(c, kv.key, kv.kl, kv.val, kv.vl);
            if (vg_dec_eq(kv.key, kv.kl, "name")) {
                vg_dctx_str(c, group ? VG_DF(GROUP_NAME) : VG_DF(USER_NAME), kv.val, kv.vl);
            } else if (vg_dec_eq(kv.key, kv.kl, "UID")) {
                vg_dctx_str(c, VG_DF(USER_ID), kv.val, kv.vl);
            } else if (vg_dec_eq(kv.key, kv.kl, "GID")) {
                vg_dctx_str(c, VG_DF(GROUP_ID), kv.val, kv.vl);
            }
        }
    }
    if (caps.n[VG_CAP_WORD] && row->action && strstr(row->action, "group")) {
        const char *g = caps.s[VG_CAP_WORD];
        size_t gl = caps.n[VG_CAP_WORD];
        if (gl >= 2 && g[0] == '\'' && g[gl - 1] == '\'') {
            g++;
            gl -= 2;
        }
        vg_dctx_str(c, VG_DF(GROUP_NAME), g, gl);
    }
    return c->rc;
}
