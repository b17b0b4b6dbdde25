/*
 * decode_firewall.c — network device logs: netfilter (iptables/nftables/UFW kernel lines),
 * Cisco ASA/PIX/FTD, Cisco IOS-style %FAC-SEV-MNEMONIC messages, Check Point's syslog
 * exporter, Palo Alto PAN-OS CSV and pfSense/OpenBSD filterlog. Native fields keep the
 * vendor's names (SRC/DST/SPT/DPT for netfilter, the PAN-OS field names, Check Point's keys);
 * ECS adds source/destination ip and port, network.transport, observer.* interfaces,
 * event.action/outcome/category and user.name where the message names one.
 */
#include "decode/decode_int.h"

/* ---------------------------------------------------------------- netfilter */

/* Length of a kernel uptime stamp "[12345.678] " at m[0] (brackets and the space after it), 0
 * if m does not start with one: UFW's "[UFW BLOCK]" must stay the log prefix when the kernel
 * printed no uptime. */
static size_t nf_uptime(const char *m, size_t n)
{
    size_t i = 1;
    bool dot = false;
    if (n == 0 || m[0] != '[') {
        return 0;
    }
    while (i < n && i < 24 && (m[i] == ' ' || m[i] == '.' || vg_dec_digit(m[i]))) {
        dot |= m[i] == '.';
        i++;
    }
    if (!dot || i + 1 >= n || m[i] != ']' || m[i + 1] != ' ') {
        return 0;
    }
    return i + 2;
}

/* Offset of "IN=" that starts the netfilter fields (at 0, after a space, ']' or ')'). */
static size_t nf_start(const char *m, size_t n)
{
    size_t at = 0;
    while (at + 3 <= n) {
        size_t f = vg_dec_find(m + at, n - at, "IN=");
        if (f >= n - at) {
            return n;
        }
        at += f;
        if (at == 0 || m[at - 1] == ' ' || m[at - 1] == ']' || m[at - 1] == ')') {
            return at;
        }
        at += 3;
    }
    return n;
}

int vg_dec_netfilter(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = c->mlen;
    if (c->has_hdr && c->hdr.prog && !vg_dec_eq(c->hdr.prog, c->hdr.prog_len, "kernel")) {
        return VG_DECLINED; /* netfilter lines come from the kernel */
    }
    /* "IN=" within the first 256 bytes (nf_start returns its limit when there is none) */
    size_t at = nf_start(m, VG_MIN(n, 256));
    if (at >= VG_MIN(n, 256) || vg_dec_find(m + at, n - at, " OUT=") >= n - at ||
        vg_dec_find(m + at, n - at, " SRC=") >= n - at) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_LINUX);
    size_t ps = nf_uptime(m, at);
    size_t pe = at;
    while (pe > ps && m[pe - 1] == ' ') {
        pe--;
    }
    vg_dctx_str(c, VG_DF(LABELS_PREFIX), m + ps, pe - ps);
    struct vg_kv_iter it;
    struct vg_kv kv;
    const char *in = NULL, *out = NULL;
    size_t inl = 0, outl = 0;
    vg_kv_init(&it, m + at, n - at, ' ');
    while (c->rc == VG_OK && vg_kv_next(&it, &kv)) {
        vg_dctx_named(c, kv.key, kv.kl, kv.val, kv.vl);
        if (vg_dec_eq(kv.key, kv.kl, "SRC")) {
            vg_dctx_ip(c, VG_DF(SOURCE_IP), kv.val, kv.vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "DST")) {
            vg_dctx_ip(c, VG_DF(DEST_IP), kv.val, kv.vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "SPT")) {
            vg_dctx_port(c, VG_DF(SOURCE_PORT), kv.val, kv.vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "DPT")) {
            vg_dctx_port(c, VG_DF(DEST_PORT), kv.val, kv.vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "PROTO")) {
            vg_dctx_transport(c, kv.val, kv.vl);
        } else if (vg_dec_eq(kv.key, kv.kl, "IN")) {
            in = kv.val;
            inl = kv.vl;
        } else if (vg_dec_eq(kv.key, kv.kl, "OUT")) {
            out = kv.val;
            outl = kv.vl;
        }
    }
    vg_dctx_str(c, VG_DF(OBSERVER_IN_IF), in, inl);
    vg_dctx_str(c, VG_DF(OBSERVER_OUT_IF), out, outl);
    if (inl && !outl) {
        vg_dctx_lit(c, VG_DF(NET_DIRECTION), "inbound");
    } else if (outl && !inl) {
        vg_dctx_lit(c, VG_DF(NET_DIRECTION), "outbound");
    }
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "network");
    vg_dctx_action_outcome(c, m + ps, pe - ps);
    return c->rc;
}

/* ---------------------------------------------------------------- shared: endpoints */

/* "[iface:]ip[/port]" (ASA) or "ip(port)" (IOS) → parts; false if no IP in it. */
static bool endpoint(const char *w, size_t n, const char **ip, size_t *il, const char **port,
                     size_t *pl, const char **ifc, size_t *ifl)
{
    while (n && (w[n - 1] == ',' || w[n - 1] == ';' || w[n - 1] == ']' || w[n - 1] == '.')) {
        n--;
    }
    while (n && (w[0] == '(' || w[0] == '[')) {
        w++;
        n--;
    }
    *ifc = NULL;
    *ifl = 0;
    *port = NULL;
    *pl = 0;
    const char *colon = memchr(w, ':', n);
    if (colon && !memchr(colon + 1, ':', (size_t)(w + n - colon - 1))) {
        *ifc = w;
        *ifl = (size_t)(colon - w);
        n -= *ifl + 1;
        w = colon + 1;
    }
    size_t e = 0;
    while (e < n && w[e] != '/' && w[e] != '(') {
        e++;
    }
    if (!vg_dec_is_ip(w, e)) {
        return false;
    }
    *ip = w;
    *il = e;
    if (e < n) {
        size_t ps = e + 1, pe = ps;
        while (pe < n && vg_dec_digit(w[pe])) {
            pe++;
        }
        *port = w + ps;
        *pl = pe - ps;
    }
    return true;
}

static void add_endpoint(struct vg_dctx *c, bool src, const char *w, size_t n)
{
    const char *ip, *port, *ifc;
    size_t il, pl, ifl;
    if (!endpoint(w, n, &ip, &il, &port, &pl, &ifc, &ifl)) {
        return;
    }
    vg_dctx_ip(c, src ? VG_DF(SOURCE_IP) : VG_DF(DEST_IP), ip, il);
    vg_dctx_port(c, src ? VG_DF(SOURCE_PORT) : VG_DF(DEST_PORT), port, pl);
    vg_dctx_str(c, src ? VG_DF(OBSERVER_IN_IF) : VG_DF(OBSERVER_OUT_IF), ifc, ifl);
}

/* Walk the words of a message: the word after from/src/for/faddr is the source, after
 * to/dst/laddr the destination (the first of each); "->" separates source and destination;
 * 'tcp'/'udp'/'icmp' names the transport; quoted user names follow "user"/"User"/"Uname:". */
static void message_entities(struct vg_dctx *c, const char *m, size_t n)
{
    size_t i = 0, wl, pl = 0;
    const char *w, *prev = NULL;
    bool have_src = false, have_dst = false, have_user = false, have_proto = false;
    bool outbound = memmem(m, VG_MIN(n, 40), "outbound", 8) != NULL;
    while (vg_dec_word(m, n, &i, &w, &wl) && c->rc == VG_OK) {
        const char *ip, *port, *ifc;
        size_t il, ptl, ifl;
        bool ep = endpoint(w, wl, &ip, &il, &port, &ptl, &ifc, &ifl);
        bool is_src = prev && (vg_dec_eq(prev, pl, "from") || vg_dec_eq(prev, pl, "src") ||
                               vg_dec_eq(prev, pl, "for") || vg_dec_eq(prev, pl, "faddr"));
        bool is_dst = prev && (vg_dec_eq(prev, pl, "to") || vg_dec_eq(prev, pl, "dst") ||
                               vg_dec_eq(prev, pl, "->") || vg_dec_eq(prev, pl, "laddr"));
        if (ep && is_src && outbound && vg_dec_eq(prev, pl, "for")) {
            is_src = false, is_dst = true; /* "Built outbound ... for <foreign> to <local>" */
        } else if (ep && is_dst && outbound && vg_dec_eq(prev, pl, "to") && have_dst && !have_src) {
            is_src = true, is_dst = false;
        }
        if (ep && is_src && !have_src) {
            add_endpoint(c, true, w, wl);
            have_src = true;
        } else if (ep && is_dst && !have_dst) {
            add_endpoint(c, false, w, wl);
            have_dst = true;
        } else if (ep && !have_src && vg_dec_starts(m + i, n - i, " -> ")) {
            add_endpoint(c, true, w, wl); /* IOS "10.0.6.56(3067) -> 172.36.4.7(139)" */
            have_src = true;
        } else if (!have_proto &&
                   (vg_str_ieq_ascii(w, wl, "tcp", 3) || vg_str_ieq_ascii(w, wl, "udp", 3) ||
                    vg_str_ieq_ascii(w, wl, "icmp", 4))) {
            vg_dctx_transport(c, w, wl);
            have_proto = true;
        } else if (!have_user && prev &&
                   (vg_dec_eq(prev, pl, "user") || vg_dec_eq(prev, pl, "User") ||
                    vg_dec_eq(prev, pl, "Uname:") || vg_dec_eq(prev, pl, "Username"))) {
            if (wl >= 2 && (w[0] == '\'' || w[0] == '"')) {
                size_t e = 1;
                while (e < wl && w[e] != w[0]) {
                    e++;
                }
                w++;
                wl = e - 1;
            }
            if (wl && !vg_dec_eq(w, wl, "=") && !vg_dec_eq(w, wl, "authentication")) {
                vg_dctx_str(c, VG_DF(USER_NAME), w, wl);
                have_user = true;
            }
        }
        prev = w;
        pl = wl;
    }
}

/* ---------------------------------------------------------------- Cisco ASA */

static const struct {
    int id;
    const char *action, *category, *outcome;
} asa_ids[] = {
    {106001, "connection-denied", "network", "failure"},
    {106006, "connection-denied", "network", "failure"},
    {106007, "connection-denied", "network", "failure"},
    {106010, "connection-denied", "network", "failure"},
    {106014, "connection-denied", "network", "failure"},
    {106015, "connection-denied", "network", "failure"},
    {106021, "connection-denied", "network", "failure"},
    {106023, "connection-denied", "network", "failure"},
    {106100, "acl-match", "network", NULL},
    {302013, "connection-built", "network", "success"},
    {302014, "connection-teardown", "network", NULL},
    {302015, "connection-built", "network", "success"},
    {302016, "connection-teardown", "network", NULL},
    {302020, "connection-built", "network", "success"},
    {302021, "connection-teardown", "network", NULL},
    {305011, "nat-built", "network", NULL},
    {305012, "nat-teardown", "network", NULL},
    {710003, "access-denied", "network", "failure"},
    {710002, "access-permitted", "network", "success"},
    {113004, "aaa-authentication", "authentication", "success"},
    {113005, "aaa-authentication", "authentication", "failure"},
    {113015, "aaa-authentication", "authentication", "failure"},
    {605004, "login", "authentication", "failure"},
    {605005, "login", "authentication", "success"},
    {611101, "login", "authentication", "success"},
    {611102, "login", "authentication", "failure"},
    {502101, "user-created", "iam", "success"},
    {502102, "user-deleted", "iam", "success"},
    {502103, "user-privilege-changed", "iam", "success"},
    {111008, "command-executed", "configuration", "success"},
    {111010, "command-executed", "configuration", "success"},
    {716039, "vpn-authentication", "authentication", "failure"},
    {722051, "vpn-address-assigned", "network", "success"},
};

static const char *const syslog_levels[] = {"emergency", "alert",  "critical",      "error",
                                            "warning",   "notice", "informational", "debug"};

/* "%ASA-6-302013:" somewhere in the first bytes of m → its offset, else n. */
static size_t asa_at(const char *m, size_t n)
{
    size_t lim = VG_MIN(n, 96);
    for (const char *q = lim >= 13 ? memchr(m, '%', lim - 12) : NULL; q;
         q = memchr(q + 1, '%', (size_t)(m + lim - 12 - (q + 1)))) {
        size_t i = (size_t)(q - m);
        if ((vg_dec_starts(q, n - i, "%ASA-") || vg_dec_starts(q, n - i, "%PIX-") ||
             vg_dec_starts(q, n - i, "%FTD-")) &&
            vg_dec_digit(m[i + 5]) && m[i + 6] == '-') {
            return i;
        }
    }
    return n;
}

int vg_dec_cisco_asa(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = c->mlen, at = asa_at(m, n);
    if (at >= n) {
        return VG_DECLINED;
    }
    const char *id = m + at + 7;
    size_t idl = 0;
    while (at + 7 + idl < n && vg_dec_digit(id[idl])) {
        idl++;
    }
    if (idl < 6) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    int sev = m[at + 5] - '0';
    size_t body = at + 7 + idl;
    body += body < n && m[body] == ':';
    while (body < n && m[body] == ' ') {
        body++;
    }
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "Cisco");
    vg_dctx_str(c, VG_DF(OBSERVER_PRODUCT), m + at + 1, 3);
    vg_dctx_str(c, VG_DF(EVENT_CODE), id, idl);
    vg_dctx_named(c, "cisco.message_id", 16, id, idl);
    vg_dctx_int(c, VG_DF(EVENT_SEVERITY), sev);
    vg_dctx_lit(c, VG_DF(LOG_LEVEL), syslog_levels[sev & 7]);
    if (!c->has_hdr || at > 0) {
        vg_dctx_str(c, VG_DF(MESSAGE), m + body, n - body);
    }
    uint64_t num = 0;
    vg_dec_uint(id, idl, &num);
    for (size_t i = 0; i < VG_ARRAY_LEN(asa_ids); i++) {
        if ((uint64_t)asa_ids[i].id == num) {
            vg_dctx_lit(c, VG_DF(EVENT_ACTION), asa_ids[i].action);
            vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), asa_ids[i].category);
            if (asa_ids[i].outcome) {
                vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), asa_ids[i].outcome);
            }
            break;
        }
    }
    message_entities(c, m + body, n - body);
    return c->rc;
}

/* ---------------------------------------------------------------- Cisco IOS */

static bool upper_word(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= 'A' && p[i] <= 'Z') || vg_dec_digit(p[i]) || p[i] == '_')) {
            return false;
        }
    }
    return n > 0;
}

/* "%FAC-SEV-MNEMONIC:" at m[i]: lengths of the facility and mnemonic, 0 if not one. */
static bool ios_tag(const char *m, size_t n, size_t i, size_t *fl, size_t *ml)
{
    size_t f = i + 1;
    while (f < n && f - i < 32 && m[f] != '-') {
        f++;
    }
    if (f + 3 >= n || !upper_word(m + i + 1, f - i - 1) || !vg_dec_digit(m[f + 1]) ||
        m[f + 2] != '-') {
        return false;
    }
    size_t s = f + 3, e = s;
    while (e < n && e - s < 48 && m[e] != ':') {
        e++;
    }
    if (e >= n || !upper_word(m + s, e - s)) {
        return false;
    }
    *fl = f - i - 1;
    *ml = e - s;
    return true;
}

int vg_dec_cisco_ios(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = c->mlen, lim = VG_MIN(n, 96), i = lim, fl = 0, ml = 0;
    for (const char *q = memchr(m, '%', lim); q;
         q = memchr(q + 1, '%', (size_t)(m + lim - q - 1))) {
        if ((q == m || q[-1] == ' ') && ios_tag(m, n, (size_t)(q - m), &fl, &ml)) {
            i = (size_t)(q - m);
            break;
        }
    }
    if (i >= lim) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    int sev = m[i + 2 + fl] - '0';
    const char *mn = m + i + fl + 4;
    size_t body = i + fl + 4 + ml + 1;
    while (body < n && m[body] == ' ') {
        body++;
    }
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "Cisco");
    vg_dctx_named(c, "cisco.facility", 14, m + i + 1, fl);
    vg_dctx_named(c, "cisco.mnemonic", 14, mn, ml);
    vg_dctx_str(c, VG_DF(EVENT_CODE), m + i + 1, fl + ml + 3);
    vg_dctx_int(c, VG_DF(EVENT_SEVERITY), sev);
    vg_dctx_lit(c, VG_DF(LOG_LEVEL), syslog_levels[sev & 7]);
    if (!c->has_hdr || i > 0) {
        vg_dctx_str(c, VG_DF(MESSAGE), m + body, n - body);
    }
    /* "*Oct  6 03:32:04.114 gmt:" before the tag: the device's own clock */
    size_t t = vg_dec_find(m, i, ": ") < i ? vg_dec_find(m, i, ": ") + 2 : 0;
    vg_time_t ts;
    size_t used;
    if (t < i && m[t] == '*') {
        t++;
    }
    if (t < i && vg_decode_bsd_time(m + t, i - t, c->year, &ts, &used)) {
        c->ev->ts = ts;
    }
    vg_dctx_action_outcome(c, m + body, VG_MIN(n - body, 64));
    message_entities(c, m + body, n - body);
    return c->rc;
}

/* ---------------------------------------------------------------- Huawei */

/* "%%01POLICY/6/POLICYPERMIT(l):" in the first bytes: offset of "%%", else n. */
static size_t huawei_at(const char *m, size_t n)
{
    size_t lim = VG_MIN(n, 80);
    for (const char *q = lim > 12 ? memchr(m, '%', lim - 12) : NULL; q;
         q = memchr(q + 1, '%', (size_t)(m + lim - 12 - (q + 1)))) {
        size_t i = (size_t)(q - m);
        if (m[i + 1] == '%' && vg_dec_digit(m[i + 2]) && vg_dec_digit(m[i + 3])) {
            const char *s1 = memchr(m + i + 4, '/', lim - i - 4);
            if (s1 && s1 + 3 < m + lim && vg_dec_digit(s1[1]) && s1[2] == '/') {
                return i;
            }
        }
    }
    return n;
}

/* Huawei USG/VRP: "%%01MODULE/SEVERITY/MNEMONIC(flag):text (k=v, k=v)" or "...:k=v, k=v" */
int vg_dec_huawei(struct vg_dctx *c)
{
    const char *p = c->has_hdr ? c->msg : c->rec;
    size_t n = c->has_hdr ? c->mlen : c->len, at = huawei_at(p, n);
    if (at >= n) {
        return VG_DECLINED;
    }
    const char *mod = p + at + 4, *s1 = memchr(mod, '/', n - at - 4);
    const char *mn = s1 + 3, *colon = memchr(mn, ':', (size_t)(p + n - mn));
    if (!colon) {
        return VG_DECLINED;
    }
    const char *paren = memchr(mn, '(', (size_t)(colon - mn));
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "Huawei");
    vg_dctx_named(c, "huawei.module", 13, mod, (size_t)(s1 - mod));
    vg_dctx_named(c, "huawei.mnemonic", 15, mn, (size_t)((paren ? paren : colon) - mn));
    vg_dctx_str(c, VG_DF(EVENT_CODE), mod, (size_t)((paren ? paren : colon) - mod));
    vg_dctx_int(c, VG_DF(EVENT_SEVERITY), s1[1] - '0');
    const char *body = colon + 1;
    size_t bl = (size_t)(p + n - body);
    vg_dctx_str(c, VG_DF(MESSAGE), body, bl);
    const char *open = memchr(body, '(', bl);
    if (open && !memchr(body, '=', (size_t)(open - body))) {
        bl -= (size_t)(open + 1 - body); /* "text (k=v, k=v)" */
        body = open + 1;
    }
    vg_dctx_kv(c, body, bl, ',', &vg_kmap_kv, true);
    vg_dctx_action_outcome(c, mn, (size_t)(colon - mn));
    return c->rc;
}

/* ---------------------------------------------------------------- Check Point */

static const struct vg_kmap_ent cp_keys[] = {
    {"src", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dst", VG_DF_DEST_IP, VG_KM_ADDR},
    {"s_port", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"service", VG_DF_DEST_PORT, VG_KM_PORT},
    {"proto", -1, VG_KM_PROTO},
    {"action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"origin", VG_DF_OBSERVER_IP, VG_KM_IP},
    {"ifname", VG_DF_OBSERVER_IN_IF, VG_KM_STR},
    {"product", VG_DF_OBSERVER_PRODUCT, VG_KM_STR},
    {"rule_name", VG_DF_RULE_NAME, VG_KM_STR},
    {"rule_uid", VG_DF_RULE_ID, VG_KM_STR},
    {"src_user_name", VG_DF_USER_NAME, VG_KM_STR},
    {"user", VG_DF_USER_NAME, VG_KM_STR},
    {"time", -1, VG_KM_EPOCH},
    {"xlatesrc", VG_DF_SOURCE_NAT_IP, VG_KM_IP},
    {"xlatedst", VG_DF_DEST_NAT_IP, VG_KM_IP},
};
static struct vg_kmap map_cp;

/* [key:"value"; key:"value"; ...] */
static void cp_pairs(struct vg_dctx *c, const char *p, size_t n)
{
    size_t i = 1;
    while (i < n && c->rc == VG_OK) {
        while (i < n && (p[i] == ' ' || p[i] == ';')) {
            i++;
        }
        size_t ks = i;
        while (i < n && p[i] != ':' && p[i] != ']' && p[i] != ' ') {
            i++;
        }
        if (i + 1 >= n || p[i] != ':' || p[i + 1] != '"') {
            break;
        }
        size_t ke = i, vs = i + 2, ve = vs;
        while (ve < n && p[ve] != '"') {
            ve += p[ve] == '\\' && ve + 1 < n ? 2 : 1;
        }
        ve = VG_MIN(ve, n);
        uint32_t id = vg_field_intern(p + ks, ke - ks);
        if (id != VG_FIELD_NONE) {
            c->rc = vg_event_add_str(c->ev, id, p + vs, ve - vs);
            vg_kmap_apply(c, &map_cp, id, p + vs, ve - vs);
        }
        i = ve + 1;
    }
}

int vg_dec_checkpoint(struct vg_dctx *c)
{
    const struct vg_syslog_hdr *h = &c->hdr;
    if (!c->has_hdr || h->rfc != 5424 || h->sd_len < 8 ||
        !(vg_dec_starts(h->sd, h->sd_len, "[action:\"") ||
          (h->prog && vg_dec_eq(h->prog, h->prog_len, "CheckPoint")))) {
        return VG_DECLINED;
    }
    c->sd_done = true;
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "Check Point");
    cp_pairs(c, h->sd, h->sd_len);
    size_t al;
    const char *a = vg_event_get_str(c->ev, "action", &al);
    if (a) {
        vg_dctx_action_outcome(c, a, al);
    }
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "network");
    return c->rc;
}

/* ---------------------------------------------------------------- Palo Alto */

/* PAN-OS CSV columns (syslog default format), by log type; NULL = unused/future use. */
static const char *const pan_common[] = {NULL,      "receive_time", "serial",        "type",
                                         "subtype", NULL,           "generated_time"};
static const char *const pan_traffic[] = {
    "src",   "dst",       "natsrc",    "natdst", "rule",       "srcuser",        "dstuser",
    "app",   "vsys",      "from",      "to",     "inbound_if", "outbound_if",    "logset",
    NULL,    "sessionid", "repeatcnt", "sport",  "dport",      "natsport",       "natdport",
    "flags", "proto",     "action",    "bytes",  "bytes_sent", "bytes_received", "packets",
    "start", "elapsed",   "category"};
static const char *const pan_threat[] = {
    "src",         "dst",      "natsrc",   "natdst",    "rule",      "srcuser",
    "dstuser",     "app",      "vsys",     "from",      "to",        "inbound_if",
    "outbound_if", "logset",   NULL,       "sessionid", "repeatcnt", "sport",
    "dport",       "natsport", "natdport", "flags",     "proto",     "action",
    "misc",        "threatid", "category", "severity",  "direction"};
static const char *const pan_system[] = {"vsys", "eventid", "object",   NULL,
                                         NULL,   "module",  "severity", "opaque"};
static const char *const pan_config[] = {"host",   "vsys",   "cmd", "admin",
                                         "client", "result", "path"};

static const struct vg_kmap_ent pan_keys[] = {
    {"src", VG_DF_SOURCE_IP, VG_KM_IP},
    {"dst", VG_DF_DEST_IP, VG_KM_IP},
    {"natsrc", VG_DF_SOURCE_NAT_IP, VG_KM_IP},
    {"natdst", VG_DF_DEST_NAT_IP, VG_KM_IP},
    {"sport", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dport", VG_DF_DEST_PORT, VG_KM_PORT},
    {"proto", -1, VG_KM_PROTO},
    {"action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"rule", VG_DF_RULE_NAME, VG_KM_STR},
    {"srcuser", VG_DF_USER_NAME, VG_KM_STR},
    {"dstuser", VG_DF_USER_TARGET_NAME, VG_KM_STR},
    {"app", VG_DF_NET_PROTOCOL, VG_KM_STR},
    {"from", VG_DF_OBSERVER_IN_ZONE, VG_KM_STR},
    {"to", VG_DF_OBSERVER_OUT_ZONE, VG_KM_STR},
    {"inbound_if", VG_DF_OBSERVER_IN_IF, VG_KM_STR},
    {"outbound_if", VG_DF_OBSERVER_OUT_IF, VG_KM_STR},
    {"serial", VG_DF_OBSERVER_SERIAL, VG_KM_STR},
    {"bytes_sent", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"bytes_received", VG_DF_DEST_BYTES, VG_KM_NUM},
    {"admin", VG_DF_USER_NAME, VG_KM_STR},
    {"client", VG_DF_SOURCE_ADDRESS, VG_KM_STR},
    {"cmd", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"opaque", VG_DF_EVENT_REASON, VG_KM_STR},
    {"threatid", VG_DF_RULE_ID, VG_KM_STR},
    {"misc", VG_DF_URL_ORIGINAL, VG_KM_STR},
};
static struct vg_kmap map_pan;

int vg_decode_kmaps_fw_init(void)
{
    map_cp.ents = cp_keys;
    map_cp.n = VG_ARRAY_LEN(cp_keys);
    map_pan.ents = pan_keys;
    map_pan.n = VG_ARRAY_LEN(pan_keys);
    int rc = vg_kmap_build(&map_cp);
    return rc == VG_OK ? vg_kmap_build(&map_pan) : rc;
}

static bool pan_head(const char *m, size_t n, const char **type, size_t *tl)
{
    /* "1,2020/02/09 00:00:00,00000000,TRAFFIC," */
    size_t i = 0;
    while (i < n && i < 4 && vg_dec_digit(m[i])) {
        i++;
    }
    if (i == 0 || i + 21 >= n || m[i] != ',' || m[i + 5] != '/' || m[i + 8] != '/' ||
        m[i + 11] != ' ' || m[i + 14] != ':' || m[i + 20] != ',') {
        return false;
    }
    size_t s = i + 21;
    while (s < n && s - i < 64 && m[s] != ',') {
        s++;
    }
    size_t ts = s + 1, te = ts;
    while (te < n && m[te] >= 'A' && m[te] <= 'Z') {
        te++;
    }
    if (te - ts < 3 || (te < n && m[te] != ',' && m[te] != '-')) {
        return false;
    }
    *type = m + ts;
    *tl = te - ts;
    return true;
}

/* Next CSV field at m[*i]; quotes ("a, b") removed; "" inside quotes kept as is. */
static bool csv_next(const char *m, size_t n, size_t *i, const char **f, size_t *fl)
{
    if (*i > n) {
        return false;
    }
    size_t s = *i;
    if (s < n && m[s] == '"') {
        size_t e = s + 1;
        while (e < n && !(m[e] == '"' && (e + 1 >= n || m[e + 1] != '"'))) {
            e += m[e] == '"' ? 2 : 1;
        }
        *f = m + s + 1;
        *fl = VG_MIN(e, n) - s - 1;
        *i = e + 2;
        return true;
    }
    size_t e = s;
    while (e < n && m[e] != ',') {
        e++;
    }
    *f = m + s;
    *fl = e - s;
    *i = e + 1;
    return true;
}

int vg_dec_paloalto(struct vg_dctx *c)
{
    const char *type, *f;
    size_t tl, fl, i = 0;
    if (c->mlen < 30 || !vg_dec_digit(c->msg[0]) || !pan_head(c->msg, c->mlen, &type, &tl)) {
        return VG_DECLINED;
    }
    const char *const *cols = vg_dec_eq(type, tl, "TRAFFIC")  ? pan_traffic
                              : vg_dec_eq(type, tl, "THREAT") ? pan_threat
                              : vg_dec_eq(type, tl, "SYSTEM") ? pan_system
                              : vg_dec_eq(type, tl, "CONFIG") ? pan_config
                                                              : NULL;
    size_t ncols = cols == pan_traffic  ? VG_ARRAY_LEN(pan_traffic)
                   : cols == pan_threat ? VG_ARRAY_LEN(pan_threat)
                   : cols == pan_system ? VG_ARRAY_LEN(pan_system)
                   : cols == pan_config ? VG_ARRAY_LEN(pan_config)
                                        : 0;
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "Palo Alto Networks");
    for (size_t k = 0; csv_next(c->msg, c->mlen, &i, &f, &fl) && c->rc == VG_OK; k++) {
        const char *name = k < 7 ? pan_common[k] : k - 7 < ncols ? cols[k - 7] : NULL;
        if (name && fl) {
            uint32_t id = vg_field_intern(name, strlen(name));
            c->rc = vg_event_add_str(c->ev, id, f, fl);
            vg_kmap_apply(c, &map_pan, id, f, fl);
        }
    }
    size_t al;
    const char *a = vg_event_get_str(c->ev, "action", &al);
    if (a && (cols == pan_traffic || cols == pan_threat)) {
        vg_dctx_action_outcome(c, a, al);
    }
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY),
                cols == pan_threat    ? "intrusion_detection"
                : cols == pan_traffic ? "network"
                : cols == pan_config  ? "configuration"
                                      : "host");
    return c->rc;
}

/* ---------------------------------------------------------------- pf filterlog */

int vg_dec_pf(struct vg_dctx *c)
{
    static const char *const head[] = {"rule",   "subrule", "anchor",    "tracker",  "interface",
                                       "reason", "action",  "direction", "ipversion"};
    static const char *const v4[] = {"tos",      "ecn",       "ttl",    "id",  "offset", "flags",
                                     "protonum", "protoname", "length", "src", "dst"};
    static const char *const v6[] = {"class",    "flowlabel", "hoplimit", "protoname",
                                     "protonum", "length",    "src",      "dst"};
    static const char *const l4[] = {"srcport", "dstport", "datalen"};
    if (!c->has_hdr || !c->hdr.prog || !vg_dec_eq(c->hdr.prog, c->hdr.prog_len, "filterlog") ||
        !memchr(c->msg, ',', c->mlen)) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    const char *f, *ipver = NULL;
    size_t fl, i = 0, k = 0, ipl = 0;
    while (csv_next(c->msg, c->mlen, &i, &f, &fl) && c->rc == VG_OK) {
        const char *name = NULL;
        if (k < VG_ARRAY_LEN(head)) {
            name = head[k];
        } else if (ipl == 1 && ipver[0] == '4' && k - 9 < VG_ARRAY_LEN(v4)) {
            name = v4[k - 9];
        } else if (ipl == 1 && ipver[0] == '6' && k - 9 < VG_ARRAY_LEN(v6)) {
            name = v6[k - 9];
        } else if (ipl == 1) {
            size_t l4k = k - 9 - (ipver[0] == '4' ? VG_ARRAY_LEN(v4) : VG_ARRAY_LEN(v6));
            name = l4k < VG_ARRAY_LEN(l4) ? l4[l4k] : NULL;
        }
        if (k == 8) {
            ipver = f;
            ipl = fl;
        }
        if (name && fl) {
            vg_dctx_named(c, name, strlen(name), f, fl);
            if (!strcmp(name, "src") || !strcmp(name, "dst")) {
                vg_dctx_ip(c, name[0] == 's' ? VG_DF(SOURCE_IP) : VG_DF(DEST_IP), f, fl);
            } else if (!strcmp(name, "srcport") || !strcmp(name, "dstport")) {
                vg_dctx_port(c, name[0] == 's' ? VG_DF(SOURCE_PORT) : VG_DF(DEST_PORT), f, fl);
            } else if (!strcmp(name, "protoname")) {
                vg_dctx_transport(c, f, fl);
            } else if (!strcmp(name, "action")) {
                vg_dctx_str(c, VG_DF(EVENT_ACTION), f, fl);
                vg_dctx_action_outcome(c, f, fl);
            } else if (!strcmp(name, "interface")) {
                vg_dctx_str(c, VG_DF(OBSERVER_IN_IF), f, fl);
            } else if (!strcmp(name, "rule")) {
                vg_dctx_str(c, VG_DF(RULE_ID), f, fl);
            }
        }
        k++;
    }
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "network");
    return c->rc;
}
