/*
 * decode_apps.c — application logs that are not syslog: F5 BIG-IP messages (syslog with a
 * level word and an 8-hex message id), vsftpd's own log, Sophos XG/SFOS key=value, and
 * `applog`: any line that starts with a timestamp in one of the common application formats,
 * optionally followed by `prog(pid):` and a level — it gets ev->ts, log.level,
 * process.name/pid and message, so such lines are searchable by time and level instead of
 * falling back to `plain`.
 */
#include "decode/decode_int.h"

/* ---------------------------------------------------------------- timestamps */

static bool clock_hms(const char *p, size_t n, int *secs)
{
    uint64_t h, m, s;
    if (n < 8 || p[2] != ':' || p[5] != ':' || !vg_dec_uint(p, 2, &h) ||
        !vg_dec_uint(p + 3, 2, &m) || !vg_dec_uint(p + 6, 2, &s) || h > 23 || m > 59 || s > 60) {
        return false;
    }
    *secs = (int)(h * 3600 + m * 60 + s);
    return true;
}

static int month_long(const char *p, size_t n, size_t *len)
{
    static const char *const names[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    for (int i = 0; i < 12; i++) {
        size_t l = strlen(names[i]);
        if (n > l && !memcmp(p, names[i], l) && p[l] == ' ') {
            *len = l;
            return i + 1;
        }
    }
    return 0;
}

/* "2021/10/05 10:33:18", "2021-10-05 10:33:18.123", "2014-06-10T18:18:26Z", "2019-Jul-25 ..." */
static bool ymd_time(const char *p, size_t n, vg_time_t *ts, size_t *used)
{
    uint64_t y, d;
    int mo = 0, secs;
    size_t k;
    if (n < 19 || !vg_dec_uint(p, 4, &y) || (p[4] != '/' && p[4] != '-')) {
        return false;
    }
    if (vg_dec_digit(p[5])) {
        uint64_t m;
        if (!vg_dec_uint(p + 5, 2, &m) || p[7] != p[4]) {
            return false;
        }
        mo = (int)m;
        k = 8;
    } else {
        mo = vg_decode_month(p + 5);
        k = 9;
        if (!mo || p[8] != '-') {
            return false;
        }
    }
    if (k + 11 > n || !vg_dec_uint(p + k, 2, &d) || (p[k + 2] != ' ' && p[k + 2] != 'T') ||
        !clock_hms(p + k + 3, n - k - 3, &secs) || mo < 1 || mo > 12) {
        return false;
    }
    size_t e = k + 11;
    if (p[4] == '-' && mo && vg_dec_digit(p[5])) {
        /* ISO: let the core parser take fraction and zone */
        size_t z = e;
        while (z < n && p[z] != ' ' && p[z] != ']' && p[z] != ',') {
            z++;
        }
        vg_time_t t;
        if (vg_dec_time_parse(p, z, &t) == VG_OK) {
            *ts = t;
            *used = z;
            return true;
        }
    }
    while (e < n && (p[e] == '.' || p[e] == ',' || vg_dec_digit(p[e]))) {
        e++; /* fraction (dropped) */
    }
    *ts = vg_decode_ns(vg_decode_epoch((int)y, mo, (int)d, 0, 0, 0) + secs, 0);
    *used = e;
    return true;
}

/* "Wed Jul 27 18:32:27 2016" and "Sat May  7 03:17:27 CDT 2011" (date(1), ctime) */
static bool ctime_time(const char *p, size_t n, vg_time_t *ts, size_t *used)
{
    if (n < 24 || p[3] != ' ' || !vg_decode_month(p + 4)) {
        return false;
    }
    size_t k = 20;
    while (k < n && k < 26 && p[k] >= 'A' && p[k] <= 'Z') {
        k++; /* time zone abbreviation */
    }
    k += k > 20 && k < n && p[k] == ' ';
    uint64_t y;
    int secs;
    if (k + 4 > n || !vg_dec_uint(p + k, 4, &y) || !clock_hms(p + 11, n - 11, &secs)) {
        return false;
    }
    int day = (p[8] == ' ' ? 0 : (p[8] - '0') * 10) + (p[9] - '0');
    int mo = vg_decode_month(p + 4);
    *ts = vg_decode_ns(vg_decode_epoch((int)y, mo, day, 0, 0, 0) + secs, 0);
    *used = k + 4;
    return true;
}

/* "20160806 050000" */
static bool compact_time(const char *p, size_t n, vg_time_t *ts, size_t *used)
{
    uint64_t ymd, hms;
    if (n < 16 || p[8] != ' ' || !vg_dec_uint(p, 8, &ymd) || !vg_dec_uint(p + 9, 6, &hms)) {
        return false;
    }
    int y = (int)(ymd / 10000), mo = (int)(ymd / 100 % 100), d = (int)(ymd % 100);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) {
        return false;
    }
    int64_t s = (int64_t)(hms / 10000 * 3600 + hms / 100 % 100 * 60 + hms % 100);
    *ts = vg_decode_ns(vg_decode_epoch(y, mo, d, 0, 0, 0) + s, 0);
    *used = 15;
    return true;
}

/* "October 06, 2014 11:56:" */
static bool long_month_time(const char *p, size_t n, vg_time_t *ts, size_t *used)
{
    size_t ml;
    int mo = month_long(p, n, &ml);
    uint64_t d, y, h, mi;
    if (!mo || n < ml + 16 || !vg_dec_uint(p + ml + 1, 2, &d) || p[ml + 3] != ',' ||
        !vg_dec_uint(p + ml + 5, 4, &y) || !vg_dec_uint(p + ml + 10, 2, &h) || p[ml + 12] != ':' ||
        !vg_dec_uint(p + ml + 13, 2, &mi)) {
        return false;
    }
    *ts = vg_decode_ns(vg_decode_epoch((int)y, mo, (int)d, (int)h, (int)mi, 0), 0);
    *used = ml + 15;
    return true;
}

/* A timestamp at p, possibly in [brackets] (with an optional zone inside). */
static bool app_time(const char *p, size_t n, vg_time_t *ts, size_t *used)
{
    if (n > 2 && p[0] == '[') {
        size_t u;
        if (!ymd_time(p + 1, n - 1, ts, &u)) {
            return false;
        }
        size_t e = 1 + u;
        while (e < n && e < u + 10 && p[e] != ']') {
            e++; /* " -0400" */
        }
        if (e >= n || p[e] != ']') {
            return false;
        }
        *used = e + 1;
        return true;
    }
    return ymd_time(p, n, ts, used) || ctime_time(p, n, ts, used) || compact_time(p, n, ts, used) ||
           long_month_time(p, n, ts, used);
}

/* ---------------------------------------------------------------- applog */

static bool level_word(const char *p, size_t n)
{
    static const char *const levels[] = {"debug",   "info",  "information", "notice", "warn",
                                         "warning", "error", "err",         "crit",   "critical",
                                         "alert",   "emerg", "fatal",       "trace",  "severe"};
    for (size_t i = 0; i < VG_ARRAY_LEN(levels); i++) {
        if (vg_str_ieq_ascii(p, n, levels[i], strlen(levels[i]))) {
            return true;
        }
    }
    return false;
}

/* "prog(pid): " or "prog[pid]: " at p; returns bytes used, 0 if none. */
static size_t app_prog(struct vg_dctx *c, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 48 && p[i] != '(' && p[i] != '[' && p[i] != ' ' && p[i] != ':') {
        i++;
    }
    if (i == 0 || i >= n || (p[i] != '(' && p[i] != '[')) {
        return 0;
    }
    char close = p[i] == '(' ? ')' : ']';
    size_t ps = i + 1, pe = ps;
    while (pe < n && vg_dec_digit(p[pe])) {
        pe++;
    }
    if (pe == ps || pe + 1 >= n || p[pe] != close || p[pe + 1] != ':') {
        return 0;
    }
    vg_dctx_str(c, VG_DF(PROCESS_NAME), p, i);
    vg_dctx_num(c, VG_DF(PROCESS_PID), p + ps, pe - ps);
    return pe + 2 + (pe + 2 < n && p[pe + 2] == ' ');
}

/* "INFO: ", "[INFO] ", "INFO -- : ", "info " → log.level; returns bytes used. */
static size_t app_level(struct vg_dctx *c, const char *p, size_t n)
{
    if (n == 0) {
        return 0;
    }
    size_t s = p[0] == '[' ? 1 : 0, e = s;
    while (e < n && e - s < 12 && ((p[e] | 32) >= 'a' && (p[e] | 32) <= 'z')) {
        e++;
    }
    if (e == s || e >= n || !level_word(p + s, e - s)) {
        return 0;
    }
    size_t k = e;
    if (s && p[k] == ']') {
        k++;
    } else if (!s && p[k] == ':') {
        k++;
    } else if (!s && vg_dec_starts(p + k, n - k, " -- :")) {
        k += 5;
    } else if (p[k] != ' ') {
        return 0;
    }
    vg_dctx_str(c, VG_DF(LOG_LEVEL), p + s, e - s);
    while (k < n && p[k] == ' ') {
        k++;
    }
    return k;
}

int vg_dec_applog(struct vg_dctx *c)
{
    const char *p = c->rec;
    size_t n = c->len, used = 0, off = 0;
    vg_time_t ts;
    if (c->has_hdr || n < 16) {
        return VG_DECLINED;
    }
    if (vg_dec_starts(p, n, "I, [") || vg_dec_starts(p, n, "E, [") || vg_dec_starts(p, n, "W, [") ||
        vg_dec_starts(p, n, "D, [") || vg_dec_starts(p, n, "F, [")) {
        off = 3; /* Ruby Logger: "I, [2015-02-13T06:17:00.671315 #9291]  INFO -- : msg" */
    }
    if (!(vg_dec_digit(p[off]) || p[off] == '[' || (p[off] >= 'A' && p[off] <= 'Z')) ||
        !app_time(p + off, n - off, &ts, &used)) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    c->ev->ts = ts;
    size_t i = off + used;
    if (off && i < n) {
        i = vg_dec_find(p, n, "] ");
        i = i < n ? i + 2 : n;
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == ':' || p[i] == ',')) {
        i++;
    }
    i += app_prog(c, p + i, n - i);
    i += app_level(c, p + i, n - i);
    vg_dctx_str(c, VG_DF(MESSAGE), p + i, n - i);
    return c->rc;
}

/* ---------------------------------------------------------------- vsftpd */

static const struct vg_dpattern vsftpd_rows[] = {
    {"CONNECT: Client %i", "connect", NULL, "network", "start"},
    {"OK LOGIN: Client %i%*", "login", "success", "authentication", "start"},
    {"FAIL LOGIN: Client %i%*", "login", "failure", "authentication", "start"},
    {"OK UPLOAD: Client %i, %*", "upload", "success", "file", "creation"},
    {"FAIL UPLOAD: Client %i, %*", "upload", "failure", "file", "creation"},
    {"OK DOWNLOAD: Client %i, %*", "download", "success", "file", "access"},
    {"FAIL DOWNLOAD: Client %i, %*", "download", "failure", "file", "access"},
    {"OK DELETE: Client %i, %*", "delete", "success", "file", "deletion"},
    {"FAIL DELETE: Client %i, %*", "delete", "failure", "file", "deletion"},
    {"OK MKDIR: Client %i, %*", "mkdir", "success", "file", "creation"},
    {"OK RENAME: Client %i, %*", "rename", "success", "file", "change"},
};

/* "[pid 2] [user] FAIL LOGIN: Client "1.2.3.4"" (after the time or the syslog tag) */
static void vsftpd_body(struct vg_dctx *c, const char *m, size_t n)
{
    struct vg_caps caps;
    char buf[512];
    size_t i = 0;
    if (vg_dec_starts(m, n, "[pid ")) {
        size_t e = 5;
        while (e < n && vg_dec_digit(m[e])) {
            e++;
        }
        vg_dctx_num(c, VG_DF(PROCESS_PID), m + 5, e - 5);
        i = e + (e < n && m[e] == ']');
        while (i < n && m[i] == ' ') {
            i++;
        }
    }
    if (i < n && m[i] == '[') {
        size_t e = i + 1;
        while (e < n && m[e] != ']') {
            e++;
        }
        vg_dctx_str(c, VG_DF(USER_NAME), m + i + 1, e - i - 1);
        i = e < n ? e + 2 : n;
    }
    if (i >= n) {
        return;
    }
    /* the client address is quoted: match on a copy without the quotes */
    size_t o = 0;
    for (size_t k = i; k < n && o + 1 < sizeof(buf); k++) {
        if (m[k] != '"') {
            buf[o++] = m[k];
        }
    }
    const struct vg_dpattern *row =
        vg_dec_pmatch_table(vsftpd_rows, VG_ARRAY_LEN(vsftpd_rows), buf, o, &caps);
    if (row) {
        struct vg_caps keep = caps;
        memset(&caps, 0, sizeof(caps));
        vg_dctx_pattern(c, row, &caps);
        if (keep.n[VG_CAP_ADDR]) {
            /* the capture points into buf: copy it into the event */
            char *ip = vg_arena_strndup(c->ev->arena, keep.s[VG_CAP_ADDR], keep.n[VG_CAP_ADDR]);
            if (ip) {
                vg_dctx_ip(c, VG_DF(SOURCE_IP), ip, keep.n[VG_CAP_ADDR]);
            }
        }
    }
}

int vg_dec_vsftpd(struct vg_dctx *c)
{
    vg_time_t ts;
    size_t used = 0;
    bool tagged = c->has_hdr && c->hdr.prog && vg_dec_eq(c->hdr.prog, c->hdr.prog_len, "vsftpd");
    bool native = !c->has_hdr && ctime_time(c->rec, c->len, &ts, &used) && used + 6 < c->len &&
                  vg_dec_starts(c->rec + used, c->len - used, " [pid ");
    if (!tagged && !native) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_LINUX);
    if (native) {
        c->ev->ts = ts;
        vg_dctx_lit(c, VG_DF(PROGRAM), "vsftpd"); /* the Sigma vsftpd logsource selects on it */
        vg_dctx_lit(c, VG_DF(PROCESS_NAME), "vsftpd");
        vg_dctx_str(c, VG_DF(MESSAGE), c->rec + used + 1, c->len - used - 1);
        vsftpd_body(c, c->rec + used + 1, c->len - used - 1);
    } else {
        vsftpd_body(c, c->msg, c->mlen);
    }
    return c->rc;
}

/* ---------------------------------------------------------------- F5 BIG-IP */

/* "host LEVEL prog[pid]: 01010038:0: text" — LEVEL before the tag, an 8-hex message id. */
int vg_dec_f5(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = c->mlen, i = 0;
    const char *lv = NULL, *w;
    size_t lvl = 0, wl;
    const char *id = m;
    if (c->has_hdr && !c->hdr.prog && vg_dec_word(m, n, &i, &lv, &lvl)) {
        size_t save = i;
        if (!vg_dec_word(m, n, &i, &w, &wl) || wl < 4 || w[wl - 1] != ':' || !memchr(w, '[', wl)) {
            return VG_DECLINED;
        }
        while (i < n && m[i] == ' ') {
            i++;
        }
        id = m + i;
        i = save;
    } else if (!c->hdr.prog) {
        return VG_DECLINED;
    }
    size_t left = (size_t)(m + n - id);
    if (left < 12 || id[8] != ':' || !vg_dec_digit(id[9]) || id[10] != ':') {
        return VG_DECLINED;
    }
    for (int k = 0; k < 8; k++) {
        if (!vg_dec_hex(id[k])) {
            return VG_DECLINED;
        }
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "F5");
    vg_dctx_str(c, VG_DF(EVENT_CODE), id, 8);
    if (lv) {
        vg_dctx_str(c, VG_DF(LOG_LEVEL), lv, lvl);
        size_t k = i;
        vg_dec_word(m, n, &k, &w, &wl);
        const char *br = memchr(w, '[', wl);
        vg_dctx_str(c, VG_DF(PROCESS_NAME), w, (size_t)(br - w));
        vg_dctx_num(c, VG_DF(PROCESS_PID), br + 1, (size_t)(w + wl - br - 3));
    }
    size_t body = 11 + (left > 11 && id[11] == ' ');
    vg_dctx_named(c, "f5.message", 10, id + body, left - body);
    return c->rc;
}

/* ---------------------------------------------------------------- Sophos XG / SFOS */

static const struct vg_kmap_ent sophos_keys[] = {
    {"src_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dst_ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"src_port", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dst_port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"protocol", -1, VG_KM_PROTO},
    {"user_name", VG_DF_USER_NAME, VG_KM_STR},
    {"log_type", VG_DF_EVENT_DATASET, VG_KM_STR},
    {"log_subtype", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"device_name", VG_DF_OBSERVER_NAME, VG_KM_STR},
    {"device_id", VG_DF_OBSERVER_SERIAL, VG_KM_STR},
    {"log_id", VG_DF_EVENT_CODE, VG_KM_STR},
    {"fw_rule_id", VG_DF_RULE_ID, VG_KM_STR},
    {"in_interface", VG_DF_OBSERVER_IN_IF, VG_KM_STR},
    {"out_interface", VG_DF_OBSERVER_OUT_IF, VG_KM_STR},
    {"src_mac", VG_DF_SOURCE_MAC, VG_KM_STR},
    {"dst_mac", VG_DF_DEST_MAC, VG_KM_STR},
    {"sent_bytes", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"recv_bytes", VG_DF_DEST_BYTES, VG_KM_NUM},
    {"url", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"domain", VG_DF_URL_DOMAIN, VG_KM_STR},
};
static struct vg_kmap map_sophos;

int vg_decode_kmaps_apps_init(void)
{
    map_sophos.ents = sophos_keys;
    map_sophos.n = VG_ARRAY_LEN(sophos_keys);
    return vg_kmap_build(&map_sophos);
}

int vg_dec_sophos(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = VG_MIN(c->mlen, 300);
    if (!(vg_dec_starts(m, n, "device=\"SFW\"") || vg_dec_starts(m, n, "device=\"XG\"") ||
          (vg_dec_find(m, n, "device_name=") < n && vg_dec_find(m, n, "log_type=") < n &&
           vg_dec_find(m, n, "log_component=") < n))) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "Sophos");
    vg_dctx_kv(c, c->msg, c->mlen, ' ', &map_sophos, true);
    const char *d, *t;
    size_t dl, tl;
    d = vg_event_get_str(c->ev, "date", &dl);
    t = vg_event_get_str(c->ev, "time", &tl);
    if (d && t && dl == 10 && tl == 8) {
        char iso[24];
        memcpy(iso, d, 10);
        iso[10] = 'T';
        memcpy(iso + 11, t, 8);
        vg_dctx_time(c, iso, 19);
    }
    size_t sl;
    const char *st = vg_event_get_str(c->ev, "status", &sl);
    if (st && (vg_dec_eq(st, sl, "Deny") || vg_dec_eq(st, sl, "Allow"))) {
        vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), st[0] == 'D' ? "failure" : "success");
    }
    return c->rc;
}

/* ---------------------------------------------------------------- generic XML */

/* Text with the five predefined entities decoded (copied only when it has one). */
static void xml_text(struct vg_dctx *c, const char *name, size_t nl, const char *s, size_t n)
{
    static const struct {
        const char *e;
        char ch;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    if (!memchr(s, '&', n)) {
        vg_dctx_named(c, name, nl, s, n);
        return;
    }
    char *d = vg_arena_alloc(c->ev->arena, n + 1);
    if (!d) {
        c->rc = c->rc ? c->rc : VG_ENOMEM;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < VG_ARRAY_LEN(ents) && !vg_dec_starts(s + i, n - i, ents[k].e)) {
            k++;
        }
        if (k < VG_ARRAY_LEN(ents)) {
            d[o++] = ents[k].ch;
            i += strlen(ents[k].e) - 1;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    vg_dctx_named(c, name, nl, d, o);
}

/*
 * One pass over simple XML: every element that holds only text becomes a field named after
 * the element (repeated elements repeat). Returns the number of leaves, or -1 when the text
 * is not well-formed enough (unclosed tags, mismatched nesting): then nothing is claimed.
 */
static int xml_walk(struct vg_dctx *c, const char *p, size_t n, bool add)
{
    const char *stack[32];
    size_t sl[32], depth = 0, i = 0, last_open = 0;
    int leaves = 0;
    bool text_ok = false;
    while (i < n) {
        if (p[i] != '<') {
            i++;
            continue;
        }
        const char *gt = memchr(p + i, '>', n - i);
        if (!gt) {
            return -1;
        }
        size_t tl = (size_t)(gt - (p + i)) + 1;
        if (p[i + 1] == '?' || p[i + 1] == '!' || p[gt - p - 1] == '/') {
            i += tl; /* declaration, comment, empty element */
            text_ok = false;
            continue;
        }
        bool close = p[i + 1] == '/';
        size_t ns = i + 1 + close, ne = ns;
        while (ne < n && p[ne] != '>' && p[ne] != ' ' && p[ne] != '/') {
            ne++;
        }
        if (ne == ns) {
            return -1;
        }
        if (!close) {
            if (depth == VG_ARRAY_LEN(stack)) {
                return -1;
            }
            stack[depth] = p + ns;
            sl[depth++] = ne - ns;
            last_open = i + tl;
            text_ok = true;
        } else {
            if (!depth || sl[depth - 1] != ne - ns || memcmp(stack[depth - 1], p + ns, ne - ns)) {
                return -1;
            }
            if (text_ok) {
                leaves++;
                if (add) {
                    xml_text(c, p + ns, ne - ns, p + last_open, i - last_open);
                }
            }
            depth--;
            text_ok = false;
        }
        i += tl;
    }
    return depth == 0 ? leaves : -1;
}

int vg_dec_xml(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = c->mlen;
    if (n >= 3 && !memcmp(m, "\xEF\xBB\xBF", 3)) {
        m += 3; /* BOM */
        n -= 3;
    }
    if (n < 7 || m[0] != '<' || m[n - 1] != '>' || xml_walk(c, m, n, false) <= 0) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    xml_walk(c, m, n, true);
    return c->rc;
}
