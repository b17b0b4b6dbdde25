/*
 * decode_daemons.c — network daemons whose logins and refusals matter to a SOC: Dovecot,
 * Postfix, ProFTPD, BIND named, Dropbear, doas, Samba smbd, OpenVPN. One decoder function
 * serves several chain entries: the entry's name picks the program(s) it claims and its
 * pattern table (decode_util.c patterns: no regex). A line of the program that no pattern
 * knows is still claimed (event.module names the product; the syslog fields are there).
 *
 * ECS: event.category/type/action/outcome, user.name, user.target.name, source.ip/port
 * (the client), and per daemon a few extras (Dovecot's user=<> rip= lip= pairs, BIND's query
 * name and type, the doas command).
 */
#include "decode/decode_int.h"

#define AUTHN "authentication"

static const struct vg_dpattern dovecot_rows[] = {
    {"%w-login: Login: %*", "login", "success", AUTHN, "start"},
    {"%w-login: Disconnected (auth failed%*", "login", "failure", AUTHN, "start"},
    {"%w-login: Aborted login%*", "login", "failure", AUTHN, "start"},
    {"%w-login: Disconnected%*", "disconnected", NULL, AUTHN, "end"},
    {"auth%*(%w): %w(%u,%i): Password mismatch%*", "password_mismatch", "failure", AUTHN, "start"},
    {"auth%*(%w): %w(%u,%i): unknown user%*", "unknown_user", "failure", AUTHN, "start"},
    {"auth%*(%w): %w(%u,%i): user not found%*", "unknown_user", "failure", AUTHN, "start"},
    {"auth%*(%w): %w(%u,%i): %*failed%*", "auth_failed", "failure", AUTHN, "start"},
    {"%*: Disconnected: Logged out%*", "logout", "success", AUTHN, "end"},
};

static const struct vg_dpattern postfix_rows[] = {
    {"NOQUEUE: reject: RCPT from %w[%i]:%p: %*", "rejected", "failure", "email", "denied"},
    {"NOQUEUE: reject: RCPT from [%i]:%p: %*", "rejected", "failure", "email", "denied"},
    {"warning: %w[%i]: SASL %w authentication failed%*", "sasl_auth_failed", "failure", AUTHN,
     "start"},
    {"%w: client=%w[%i]%*", "client", NULL, "email", "info"},
    {"connect from %w[%i]%*", "connect", NULL, "network", "start"},
    {"disconnect from %w[%i]%*", "disconnect", NULL, "network", "end"},
    {"lost connection after %w from %w[%i]%*", "lost_connection", NULL, "network", "end"},
};

static const struct vg_dpattern proftpd_rows[] = {
    {"%w (%w[%i]) - USER %u: Login successful%*", "login", "success", AUTHN, "start"},
    {"%w (%w[%i]) - ANON %u: Login successful%*", "login", "success", AUTHN, "start"},
    {"%w (%w[%i]): USER %u (Login failed): %*", "login", "failure", AUTHN, "start"},
    {"%w (%w[%i]) - USER %u (Login failed): %*", "login", "failure", AUTHN, "start"},
    {"%w (%w[%i]) - USER %u: no such user found%*", "login", "failure", AUTHN, "start"},
    {"%w (%w[%i]) - Connection from %w [%i] denied%*", "connection_denied", "failure", "network",
     "denied"},
    {"refused connect from %i %*", "connection_refused", "failure", "network", "denied"},
};

static const struct vg_dpattern named_rows[] = {
    {"client %i#%p%*: query (cache) %*denied%*", "query_denied", "failure", "network", "denied"},
    {"client %i#%p%*: zone transfer %*denied%*", "zone_transfer_denied", "failure", "network",
     "denied"},
    {"client %i#%p%*: transfer of %*started%*", "zone_transfer", "success", "network", "info"},
    {"client %i#%p%*: query: %*", "query", NULL, "network", "protocol"},
    {"client @%w %i#%p%*: query: %*", "query", NULL, "network", "protocol"},
    {"client %i#%p%*", NULL, NULL, "network", NULL},
};

static const struct vg_dpattern dropbear_rows[] = {
    {"Bad password attempt for %u from %i:%p", "login", "failure", AUTHN, "start"},
    {"Login attempt for nonexistent user '%u' from %i:%p", "login", "failure", AUTHN, "start"},
    {"Login attempt for nonexistent user from %i:%p", "login", "failure", AUTHN, "start"},
    {"Password auth succeeded for %u from %i:%p", "login", "success", AUTHN, "start"},
    {"Pubkey auth succeeded for %u with key %*from %i:%p", "login", "success", AUTHN, "start"},
    {"Exit before auth (user %u, %w fails): %*", "login", "failure", AUTHN, "end"},
    {"Child connection from %i:%p", "connection", NULL, "network", "start"},
};

static const struct vg_dpattern doas_rows[] = {
    {"failed command for %u: %*", "doas_failed", "failure", "process", "start"},
    {"failed auth for %u%*", "doas_auth", "failure", AUTHN, "start"},
    {"%u ran command as %t: %*", "doas_command", "success", "process", "start"},
    {"%u ran command %* as %t from %*", "doas_command", "success", "process", "start"},
};

static const struct vg_dpattern smbd_rows[] = {
    {"Denied connection from (%i)%*", "connection_denied", "failure", "network", "denied"},
    {"Denied connection from %i%*", "connection_denied", "failure", "network", "denied"},
    {"%*uthentication for user [%u] -> [%t] FAILED%*", "login", "failure", AUTHN, "start"},
    {"Permission denied%*", "permission_denied", "failure", NULL, "denied"},
};

static const struct vg_dpattern openvpn_rows[] = {
    {"%w/%i:%p TLS: Username/Password authentication succeeded for username '%u'%*", "login",
     "success", AUTHN, "start"},
    {"%i:%p TLS: Username/Password authentication succeeded for username '%u'%*", "login",
     "success", AUTHN, "start"},
    {"%w/%i:%p TLS Auth Error: %*", "tls_auth_error", "failure", AUTHN, "start"},
    {"%i:%p TLS Auth Error: %*", "tls_auth_error", "failure", AUTHN, "start"},
    {"Incorrect password supplied for LDAP DN %*", "login", "failure", AUTHN, "start"},
    {"LDAP bind failed: %*", "ldap_bind_failed", "failure", AUTHN, "start"},
    {"%w/%i:%p %*", NULL, NULL, "network", NULL},
};

#define ROWS(t) t, VG_ARRAY_LEN(t)

struct daemon {
    const char *module;
    const char *progs; /* space-separated program names; "x/" matches the prefix x/ */
    const struct vg_dpattern *rows;
    size_t nrows;
};

static const struct daemon daemons[] = {
    {"dovecot", "dovecot imap-login pop3-login", ROWS(dovecot_rows)},
    {"postfix", "postfix/ postscreen smtpd-postfix", ROWS(postfix_rows)},
    {"proftpd", "proftpd", ROWS(proftpd_rows)},
    {"named", "named", ROWS(named_rows)},
    {"dropbear", "dropbear", ROWS(dropbear_rows)},
    {"doas", "doas", ROWS(doas_rows)},
    {"smbd", "smbd nmbd samba", ROWS(smbd_rows)},
    {"openvpn", "openvpn ovpn-server", ROWS(openvpn_rows)},
};

static bool prog_in(const char *p, size_t pl, const char *list)
{
    for (const char *s = list; *s;) {
        size_t l = strcspn(s, " ");
        bool prefix = l && s[l - 1] == '/';
        if ((prefix && pl > l && !memcmp(p, s, l)) || (!prefix && l == pl && !memcmp(p, s, l))) {
            return true;
        }
        s += l + (s[l] == ' ');
    }
    return false;
}

/* Dovecot's own log file writes "Info: imap-login: ...": the level looks like the tag. */
static bool dovecot_level_tag(const struct vg_dctx *c)
{
    static const char *const services[] = {
        "imap-login:", "pop3-login:", "auth(", "auth-worker(",
        "IMAP(",       "POP3(",       "lmtp(", "managesieve-login:"};
    if (!prog_in(c->hdr.prog, c->hdr.prog_len, "Info Warn Warning Error Fatal Panic")) {
        return false;
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(services); i++) {
        if (vg_dec_starts(c->msg, c->mlen, services[i])) {
            return true;
        }
    }
    return false;
}

/* Dovecot: "user=<bob>, method=PLAIN, rip=1.2.3.4, lip=5.6.7.8, session=<x>" */
static void dovecot_pairs(struct vg_dctx *c)
{
    const char *colon =
        vg_dec_starts(c->msg, c->mlen, "auth") ? NULL : memchr(c->msg, ':', c->mlen);
    size_t at = vg_dec_find(c->msg, c->mlen, "user=<");
    at = at < c->mlen ? at : vg_dec_find(c->msg, c->mlen, "rip=");
    if (!colon || at >= c->mlen) {
        return;
    }
    struct vg_kv_iter it;
    struct vg_kv kv;
    vg_kv_init(&it, c->msg + at, c->mlen - at, ',');
    while (c->rc == VG_OK && vg_kv_next(&it, &kv)) {
        const char *v = kv.val;
        size_t vl = kv.vl;
        if (vl >= 2 && v[0] == '<' && v[vl - 1] == '>') {
            v++;
            vl -= 2;
        }
        vg_dctx_named(c, kv.key, kv.kl, v, vl);
        if (vg_dec_eq(kv.key, kv.kl, "user")) {
            vg_dctx_str(c, VG_DF(USER_NAME), v, vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "rip")) {
            vg_dctx_ip(c, VG_DF(SOURCE_IP), v, vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "lip")) {
            vg_dctx_ip(c, VG_DF(DEST_IP), v, vl);
        }
    }
}

/* BIND: "query: www.example.com IN A +E(0)K (10.0.0.1)" */
static void named_query(struct vg_dctx *c)
{
    size_t at = vg_dec_find(c->msg, c->mlen, " query: ");
    size_t i = at + 8;
    const char *w[3];
    size_t wl[3], k = 0;
    while (at < c->mlen && k < 3 && vg_dec_word(c->msg, c->mlen, &i, &w[k], &wl[k])) {
        k++;
    }
    if (k == 3) {
        vg_dctx_str(c, VG_DF(DNS_QNAME), w[0], wl[0]);
        vg_dctx_str(c, VG_DF(DNS_QTYPE), w[2], wl[2]);
    }
}

int vg_dec_daemon(struct vg_dctx *c)
{
    const struct daemon *d = NULL;
    if (!c->has_hdr || !c->hdr.prog) {
        return VG_DECLINED; /* before the table walk: this runs for every record */
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(daemons) && !d; i++) {
        d = !strcmp(daemons[i].module, c->cur->name) ? &daemons[i] : NULL;
    }
    if (!d || !(prog_in(c->hdr.prog, c->hdr.prog_len, d->progs) ||
                (d == &daemons[0] && dovecot_level_tag(c)))) {
        return VG_DECLINED;
    }
    struct vg_caps caps;
    vg_dctx_claim(c, VG_EK_LINUX);
    const struct vg_dpattern *row = vg_dec_pmatch_table(d->rows, d->nrows, c->msg, c->mlen, &caps);
    if (row) {
        vg_dctx_pattern(c, row, &caps);
    }
    if (d == &daemons[0]) {
        dovecot_pairs(c);
    } else if (d == &daemons[3]) {
        named_query(c);
    }
    return c->rc;
}
