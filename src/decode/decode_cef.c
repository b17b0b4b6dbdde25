/*
 * decode_cef.c — ArcSight Common Event Format and IBM QRadar LEEF, alone or after a syslog
 * header.
 *
 * CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
 *   Header fields escape '|' and '\' with a backslash. The extension is key=value pairs
 *   separated by spaces, where a value runs (spaces included) up to the last space before the
 *   next `key=`; values escape '=', '\', and write newlines as \n / \r. Header fields become
 *   cef.* (cef.device_vendor, ...), extension keys keep their CEF names (src, dst, suser,
 *   cs1, cs1Label, ...) and feed ECS through the CEF key dictionary.
 * LEEF:1.0|Vendor|Product|Version|EventID|attrs (tab-separated) and
 * LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|attrs (the delimiter a character, or its
 *   code as x09 / 0x09). Attributes keep their names (src, dst, usrName, devTime, ...).
 * A record that starts like CEF/LEEF but whose header is incomplete is rejected as malformed.
 */
#include "decode/decode_int.h"

struct vg_kmap vg_kmap_cef, vg_kmap_leef;

static const struct vg_kmap_ent cef_keys[] = {
    {"src", VG_DF_SOURCE_IP, VG_KM_IP},
    {"spt", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"smac", VG_DF_SOURCE_MAC, VG_KM_STR},
    {"shost", VG_DF_SOURCE_ADDRESS, VG_KM_STR},
    {"suser", VG_DF_USER_NAME, VG_KM_STR},
    {"suid", VG_DF_USER_ID, VG_KM_STR},
    {"sntdom", VG_DF_USER_DOMAIN, VG_KM_STR},
    {"sproc", VG_DF_PROCESS_NAME, VG_KM_STR},
    {"spid", VG_DF_PROCESS_PID, VG_KM_NUM},
    {"dst", VG_DF_DEST_IP, VG_KM_IP},
    {"dpt", VG_DF_DEST_PORT, VG_KM_PORT},
    {"dmac", VG_DF_DEST_MAC, VG_KM_STR},
    {"dhost", VG_DF_DEST_ADDRESS, VG_KM_STR},
    {"duser", VG_DF_USER_TARGET_NAME, VG_KM_STR},
    {"duid", VG_DF_USER_TARGET_ID, VG_KM_STR},
    {"dproc", VG_DF_PROCESS_NAME, VG_KM_STR},
    {"dpid", VG_DF_PROCESS_PID, VG_KM_NUM},
    {"proto", -1, VG_KM_PROTO},
    {"app", VG_DF_NET_PROTOCOL, VG_KM_STR},
    {"act", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"outcome", VG_DF_EVENT_OUTCOME, VG_KM_STR},
    {"reason", VG_DF_EVENT_REASON, VG_KM_STR},
    {"cat", VG_DF_RULE_CATEGORY, VG_KM_STR},
    {"msg", VG_DF_MESSAGE, VG_KM_STR},
    {"request", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"requestMethod", VG_DF_HTTP_METHOD, VG_KM_STR},
    {"requestClientApplication", VG_DF_USER_AGENT, VG_KM_STR},
    {"fname", VG_DF_FILE_NAME, VG_KM_STR},
    {"filePath", VG_DF_FILE_PATH, VG_KM_STR},
    {"fileHash", VG_DF_FILE_HASH, VG_KM_STR},
    {"in", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"out", VG_DF_DEST_BYTES, VG_KM_NUM},
    {"dvc", VG_DF_OBSERVER_IP, VG_KM_IP},
    {"dvchost", VG_DF_OBSERVER_NAME, VG_KM_STR},
    {"deviceInboundInterface", VG_DF_OBSERVER_IN_IF, VG_KM_STR},
    {"deviceOutboundInterface", VG_DF_OBSERVER_OUT_IF, VG_KM_STR},
    {"sourceTranslatedAddress", VG_DF_SOURCE_NAT_IP, VG_KM_IP},
    {"sourceTranslatedPort", VG_DF_SOURCE_NAT_PORT, VG_KM_PORT},
    {"destinationTranslatedAddress", VG_DF_DEST_NAT_IP, VG_KM_IP},
    {"destinationTranslatedPort", VG_DF_DEST_NAT_PORT, VG_KM_PORT},
};

static const struct vg_kmap_ent leef_keys[] = {
    {"src", VG_DF_SOURCE_IP, VG_KM_IP},
    {"dst", VG_DF_DEST_IP, VG_KM_IP},
    {"srcPort", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dstPort", VG_DF_DEST_PORT, VG_KM_PORT},
    {"srcMAC", VG_DF_SOURCE_MAC, VG_KM_STR},
    {"dstMAC", VG_DF_DEST_MAC, VG_KM_STR},
    {"srcPostNAT", VG_DF_SOURCE_NAT_IP, VG_KM_IP},
    {"dstPostNAT", VG_DF_DEST_NAT_IP, VG_KM_IP},
    {"srcBytes", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"dstBytes", VG_DF_DEST_BYTES, VG_KM_NUM},
    {"usrName", VG_DF_USER_NAME, VG_KM_STR},
    {"domain", VG_DF_USER_DOMAIN, VG_KM_STR},
    {"proto", -1, VG_KM_PROTO},
    {"sev", VG_DF_EVENT_SEVERITY, VG_KM_NUM},
    {"cat", VG_DF_RULE_CATEGORY, VG_KM_STR},
    {"identHostName", VG_DF_HOST_NAME, VG_KM_STR},
    {"url", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"policy", VG_DF_RULE_NAME, VG_KM_STR},
};

int vg_decode_kmaps_cef_init(void)
{
    vg_kmap_cef.ents = cef_keys;
    vg_kmap_cef.n = VG_ARRAY_LEN(cef_keys);
    vg_kmap_leef.ents = leef_keys;
    vg_kmap_leef.n = VG_ARRAY_LEN(leef_keys);
    int rc = vg_kmap_build(&vg_kmap_cef);
    return rc == VG_OK ? vg_kmap_build(&vg_kmap_leef) : rc;
}

/* Where "CEF:" / "LEEF:" starts in the message: at 0, or after a space within 128 bytes. */
static const char *find_magic(const char *m, size_t n, const char *magic)
{
    size_t ml = strlen(magic);
    if (n >= ml && !memcmp(m, magic, ml)) {
        return m;
    }
    if (!memchr(m, '|', n)) {
        return NULL; /* fast exit: every CEF/LEEF record has pipes */
    }
    const char *f = memmem(m, VG_MIN(n, 128), magic, ml);
    return f && f > m && f[-1] == ' ' ? f : NULL;
}

/* Split the pipe-separated header: up to max fields, '\|' and '\\' escaped. Returns the
 * count and the offset just past the last separator consumed. */
static size_t split_header(const char *p, size_t n, size_t max, const char **f, size_t *fl,
                           bool *esc, size_t *rest)
{
    size_t k = 0, s = 0, i = 0;
    bool e = false;
    while (i < n && k < max) {
        if (p[i] == '\\' && i + 1 < n) {
            e = true;
            i += 2;
            continue;
        }
        if (p[i] == '|') {
            f[k] = p + s;
            fl[k] = i - s;
            esc[k++] = e;
            e = false;
            s = i + 1;
        }
        i++;
    }
    *rest = s;
    return k;
}

/* Copy with the header escapes removed (\| → |, \\ → \). */
static void add_unescaped(struct vg_dctx *c, uint32_t id, const char *s, size_t n, bool esc)
{
    if (!esc) {
        vg_dctx_str(c, id, s, n);
        return;
    }
    char *d = vg_arena_alloc(c->ev->arena, n + 1);
    if (!d) {
        c->rc = c->rc ? c->rc : VG_ENOMEM;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
        }
        d[o++] = s[i];
    }
    d[o] = '\0';
    vg_dctx_str(c, id, d, o);
}

/* ---------------------------------------------------------------- CEF extension */

static bool cef_key_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || vg_dec_digit(ch) || ch == '_' ||
           ch == '.' || ch == '-' || ch == '[' || ch == ']';
}

/* Length of a "key=" starting at p, 0 if there is none. */
static size_t key_at(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 64 && cef_key_char(p[i])) {
        i++;
    }
    return i > 0 && i < n && p[i] == '=' ? i : 0;
}

/* Value with CEF extension escapes resolved: \= \\ \| and \n \r as line breaks. */
static bool cef_value(struct vg_dctx *c, const char *v, size_t n, const char **out, size_t *ol)
{
    if (!memchr(v, '\\', n)) {
        *out = v;
        *ol = n;
        return true;
    }
    char *d = vg_arena_alloc(c->ev->arena, n + 1);
    if (!d) {
        c->rc = c->rc ? c->rc : VG_ENOMEM;
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n) {
            char e = v[++i];
            d[o++] = e == 'n' ? '\n' : e == 'r' ? '\r' : e;
        } else {
            d[o++] = v[i];
        }
    }
    d[o] = '\0';
    *out = d;
    *ol = o;
    return true;
}

static void cef_pair(struct vg_dctx *c, const char *k, size_t kl, const char *v, size_t vl)
{
    while (vl && v[vl - 1] == ' ') {
        vl--;
    }
    const char *val;
    size_t n;
    uint32_t id = vg_field_intern(k, kl);
    if (id == VG_FIELD_NONE || !cef_value(c, v, vl, &val, &n)) {
        return;
    }
    c->rc = c->rc ? c->rc : vg_event_add_str(c->ev, id, val, n);
    vg_kmap_apply(c, &vg_kmap_cef, id, val, n);
    if (vg_dec_eq(k, kl, "rt") || vg_dec_eq(k, kl, "end")) {
        vg_time_t t;
        size_t used;
        if (n && vg_dec_digit(val[0]) && n >= 12 && memchr(val, ' ', n) == NULL) {
            vg_dctx_epoch(c, val, n);
        } else if (n >= 20 && vg_decode_bsd_time(val, n, c->year, &t, &used)) {
            c->ev->ts = t;
        }
    }
}

static void cef_extension(struct vg_dctx *c, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == ' ') {
        i++;
    }
    size_t kl = key_at(p + i, n - i);
    while (kl && c->rc == VG_OK) {
        const char *k = p + i;
        size_t vs = i + kl + 1, j = vs, next = 0;
        /* the value ends at the space before the next unescaped "key=" */
        while (j < n) {
            if (p[j] == '\\') {
                j += 2;
                continue;
            }
            if (p[j] == ' ' && (next = key_at(p + j + 1, n - j - 1)) > 0) {
                break;
            }
            j++;
        }
        j = VG_MIN(j, n);
        cef_pair(c, k, kl, p + vs, j - vs);
        i = j + 1;
        kl = next;
        if (j >= n) {
            break;
        }
    }
}

static void cef_severity(struct vg_dctx *c, const char *s, size_t n)
{
    static const struct {
        const char *name;
        int v;
    } words[] = {{"Unknown", 0}, {"Low", 3}, {"Medium", 5}, {"High", 8}, {"Very-High", 10}};
    uint64_t v;
    if (vg_dec_uint(s, n, &v) && v <= 10) {
        vg_dctx_int(c, VG_DF(EVENT_SEVERITY), (int64_t)v);
        return;
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(words); i++) {
        if (vg_str_ieq_ascii(s, n, words[i].name, strlen(words[i].name))) {
            vg_dctx_int(c, VG_DF(EVENT_SEVERITY), words[i].v);
        }
    }
}

int vg_dec_cef(struct vg_dctx *c)
{
    const char *m = find_magic(c->msg, c->mlen, "CEF:");
    if (!m) {
        return VG_DECLINED;
    }
    size_t n = (size_t)(c->msg + c->mlen - m), rest;
    const char *f[7];
    size_t fl[7];
    bool esc[7];
    size_t k = split_header(m + 4, n - 4, 7, f, fl, esc, &rest);
    if (k < 7 || fl[0] == 0 || !vg_dec_digit(f[0][0])) {
        return vg_dctx_reject(c, "malformed CEF: header has %zu of the 7 '|'-separated fields", k);
    }
    static const int ids[7] = {VG_DF_CEF_VERSION,     VG_DF_CEF_VENDOR, VG_DF_CEF_PRODUCT,
                               VG_DF_CEF_DEV_VERSION, VG_DF_CEF_SIG_ID, VG_DF_CEF_NAME,
                               VG_DF_CEF_SEVERITY};
    vg_dctx_claim(c, VG_EK_GENERIC);
    for (size_t i = 0; i < 7; i++) {
        add_unescaped(c, vg_decode_fid[ids[i]], f[i], fl[i], esc[i]);
    }
    add_unescaped(c, VG_DF(OBSERVER_VENDOR), f[1], fl[1], esc[1]);
    add_unescaped(c, VG_DF(OBSERVER_PRODUCT), f[2], fl[2], esc[2]);
    add_unescaped(c, VG_DF(OBSERVER_VERSION), f[3], fl[3], esc[3]);
    add_unescaped(c, VG_DF(EVENT_CODE), f[4], fl[4], esc[4]);
    add_unescaped(c, VG_DF(RULE_NAME), f[5], fl[5], esc[5]);
    cef_severity(c, f[6], fl[6]);
    cef_extension(c, m + 4 + rest, n - 4 - rest);
    return c->rc;
}

/* ---------------------------------------------------------------- LEEF */

/* LEEF 2.0 delimiter field: "^", "x09", "0x09" → the byte. */
static bool leef_delim(const char *s, size_t n, char *out)
{
    uint64_t v = 0;
    if (n == 1) {
        *out = s[0];
        return true;
    }
    size_t o = n >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2
               : n >= 2 && (s[0] == 'x' || s[0] == 'X')              ? 1
                                                                     : n;
    if (o >= n || n - o > 2) {
        return false;
    }
    for (size_t i = o; i < n; i++) {
        if (!vg_dec_hex(s[i])) {
            return false;
        }
        v = v * 16 + (uint64_t)(vg_dec_digit(s[i]) ? s[i] - '0' : (s[i] | 32) - 'a' + 10);
    }
    *out = (char)v;
    return v > 0;
}

/* Attributes split on delim (one byte) or on the two characters "\t" when a sender wrote
 * the tab as text. */
static void leef_attrs(struct vg_dctx *c, const char *p, size_t n, char delim)
{
    bool text_tab = delim == '\t' && !memchr(p, '\t', n) && memmem(p, n, "\\t", 2);
    size_t i = 0;
    while (i < n && c->rc == VG_OK) {
        size_t e = i;
        while (e < n &&
               !(text_tab ? (p[e] == '\\' && e + 1 < n && p[e + 1] == 't') : p[e] == delim)) {
            e++;
        }
        const char *eq = memchr(p + i, '=', e - i);
        if (eq && eq > p + i) {
            size_t kl = (size_t)(eq - (p + i));
            uint32_t id = vg_field_intern(p + i, kl);
            const char *v = eq + 1;
            size_t vl = (size_t)(p + e - v);
            if (id != VG_FIELD_NONE) {
                c->rc = c->rc ? c->rc : vg_event_add_str(c->ev, id, v, vl);
                vg_kmap_apply(c, &vg_kmap_leef, id, v, vl);
                if (vg_dec_eq(p + i, kl, "devTime")) {
                    vg_dctx_time(c, v, vl);
                }
            }
        }
        i = e + (text_tab ? 2 : 1);
    }
}

int vg_dec_leef(struct vg_dctx *c)
{
    const char *m = find_magic(c->msg, c->mlen, "LEEF:");
    if (!m) {
        return VG_DECLINED;
    }
    size_t n = (size_t)(c->msg + c->mlen - m), rest;
    const char *f[6];
    size_t fl[6];
    bool esc[6];
    bool v2 = n > 8 && m[5] == '2';
    size_t k = split_header(m + 5, n - 5, v2 ? 6 : 5, f, fl, esc, &rest);
    char delim = '\t';
    if (k < (v2 ? 6u : 5u) || fl[0] == 0 || !vg_dec_digit(f[0][0])) {
        return vg_dctx_reject(c, "malformed LEEF: header has %zu of the %d '|'-separated fields", k,
                              v2 ? 6 : 5);
    }
    if (v2 && !leef_delim(f[5], fl[5], &delim)) {
        return vg_dctx_reject(c, "malformed LEEF: bad 2.0 delimiter '%.*s'", (int)VG_MIN(fl[5], 8),
                              f[5]);
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_str(c, VG_DF(LEEF_VERSION), f[0], fl[0]);
    add_unescaped(c, VG_DF(LEEF_VENDOR), f[1], fl[1], esc[1]);
    add_unescaped(c, VG_DF(LEEF_PRODUCT), f[2], fl[2], esc[2]);
    add_unescaped(c, VG_DF(LEEF_PROD_VERSION), f[3], fl[3], esc[3]);
    add_unescaped(c, VG_DF(LEEF_EVENT_ID), f[4], fl[4], esc[4]);
    add_unescaped(c, VG_DF(OBSERVER_VENDOR), f[1], fl[1], esc[1]);
    add_unescaped(c, VG_DF(OBSERVER_PRODUCT), f[2], fl[2], esc[2]);
    add_unescaped(c, VG_DF(EVENT_CODE), f[4], fl[4], esc[4]);
    leef_attrs(c, m + 5 + rest, n - 5 - rest, delim);
    return c->rc;
}
