/*
 * decode_syslog.c — the syslog header every text record is first checked for, and the two
 * decoders at the end of the chain: `syslog` (a header and a message no other decoder
 * claimed) and `plain` (anything else: the record becomes `message`).
 *
 * Header forms (after an optional <PRI>):
 *   RFC 5424      1 2003-10-11T22:14:15.003Z host app procid msgid [sd...] msg
 *   BSD           Mmm dd hh:mm:ss[.frac] host tag: msg      (year from the decoder options)
 *   BSD + year    Mmm dd yyyy hh:mm:ss host ...             (Cisco, Huawei)
 *   OSSEC         yyyy Mmm dd hh:mm:ss host ...
 *   ISO 8601      2013-10-30T14:51:21.901728+01:00 host ... (rsyslog's high-precision
 *                 format) or with a space: 2020-03-23 06:47:42.801612-0700 (macOS, journald)
 * The host is optional (pfSense writes `filterlog:` straight after the time) and is not a host
 * when it holds '=' (key=value payload) or starts with '%' (Cisco message id).
 */
#include "decode/decode_int.h"

static bool two_digits(const char *p, int *v)
{
    if (!vg_dec_digit(p[0]) || !vg_dec_digit(p[1])) {
        return false;
    }
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

/* hh:mm:ss at p (8 bytes available) → seconds of the day */
static bool clock_at(const char *p, int *secs)
{
    int h, m, s;
    if (!two_digits(p, &h) || p[2] != ':' || !two_digits(p + 3, &m) || p[5] != ':' ||
        !two_digits(p + 6, &s) || h > 23 || m > 59 || s > 60) {
        return false;
    }
    *secs = h * 3600 + m * 60 + s;
    return true;
}

/* Optional .fraction after the seconds: nanoseconds; *i moves past it. */
static int64_t fraction(const char *p, size_t n, size_t *i)
{
    int64_t ns = 0, scale = 100000000;
    if (*i >= n || p[*i] != '.') {
        return 0;
    }
    size_t k = *i + 1;
    while (k < n && vg_dec_digit(p[k])) {
        ns += (p[k] - '0') * scale;
        scale /= 10;
        k++;
    }
    if (k > *i + 1) {
        *i = k;
    }
    return ns;
}

/* "Mmm dd yyyy hh:mm:ss" (Cisco, Huawei) rather than "Mmm dd hh:mm:ss" */
static bool bsd_has_year(const char *p, size_t n)
{
    return n >= 20 && p[11] == ' ' && vg_dec_digit(p[7]) && vg_dec_digit(p[10]) && p[9] != ':';
}

/* "Mmm dd hh:mm:ss[.frac]" or "Mmm dd yyyy hh:mm:ss" at p; *i is set past it. */
bool vg_decode_bsd_time(const char *p, size_t n, int year, vg_time_t *ts, size_t *i)
{
    int mo, day, secs, y = year;
    if (n < 15 || p[3] != ' ' || !(mo = vg_decode_month(p))) {
        return false;
    }
    if (!vg_dec_digit(p[5]) || (p[4] != ' ' && !vg_dec_digit(p[4])) || p[6] != ' ') {
        return false;
    }
    day = (p[4] == ' ' ? 0 : (p[4] - '0') * 10) + (p[5] - '0');
    size_t k = 7;
    if (bsd_has_year(p, n)) {
        uint64_t yy;
        if (!vg_dec_uint(p + 7, 4, &yy)) {
            return false;
        }
        y = (int)yy;
        k = 12;
    }
    if (k + 8 > n || !clock_at(p + k, &secs) || day > 31) {
        return false;
    }
    k += 8;
    int64_t ns = fraction(p, n, &k);
    /* day 0 is an anonymised log ("May 00 00:00:00"): still a syslog header, no time */
    *ts = day ? vg_decode_ns(vg_decode_epoch(y, mo, day, 0, 0, 0) + secs, ns) : VG_TIME_NONE;
    *i = k;
    return true;
}

/* "yyyy Mmm dd hh:mm:ss" (OSSEC agents) */
static bool ossec_time(const char *p, size_t n, vg_time_t *ts, size_t *i)
{
    uint64_t y;
    if (n < 20 || p[4] != ' ' || !vg_dec_uint(p, 4, &y)) {
        return false;
    }
    size_t k;
    vg_time_t t;
    if (!vg_decode_bsd_time(p + 5, n - 5, (int)y, &t, &k)) {
        return false;
    }
    *ts = t;
    *i = 5 + k;
    return true;
}

/* ISO 8601 with 'T' or one space between date and time; *i is set past it. */
static bool iso_time(const char *p, size_t n, vg_time_t *ts, size_t *i)
{
    if (n < 19 || p[4] != '-' || p[7] != '-' || !vg_dec_digit(p[0]) ||
        (p[10] != 'T' && p[10] != ' ') || p[13] != ':') {
        return false;
    }
    size_t e = 11;
    while (e < n && p[e] != ' ') {
        e++;
    }
    vg_time_t t;
    if (vg_dec_time_parse(p, e, &t) != VG_OK) {
        return false;
    }
    *ts = t;
    *i = e;
    return true;
}

static bool parse_pri(const char *p, size_t n, size_t *i, int *pri)
{
    if (n < 3 || p[0] != '<') {
        return false;
    }
    int v = 0;
    size_t k = 1;
    while (k < n && k < 5 && vg_dec_digit(p[k])) {
        v = v * 10 + (p[k] - '0');
        k++;
    }
    if (k >= n || p[k] != '>' || k == 1 || v > 191) {
        return false;
    }
    *pri = v;
    *i = k + 1;
    return true;
}

/* Token up to the next space at p[*i]; "-" is the RFC 5424 nil value. */
static void field5424(const char *p, size_t n, size_t *i, const char **out, size_t *ol)
{
    size_t s = *i;
    while (*i < n && p[*i] != ' ') {
        (*i)++;
    }
    *out = p + s;
    *ol = *i - s;
    if (*ol == 1 && p[s] == '-') {
        *out = NULL;
        *ol = 0;
    }
    if (*i < n) {
        (*i)++;
    }
}

static size_t sd_end(const char *p, size_t n, size_t i)
{
    while (i < n && p[i] == '[') {
        bool inq = false;
        while (i < n && (inq || p[i] != ']')) {
            if (p[i] == '\\' && i + 1 < n) {
                i++;
            } else if (p[i] == '"') {
                inq = !inq;
            }
            i++;
        }
        i = i < n ? i + 1 : n;
    }
    return i;
}

static bool parse_5424(const char *p, size_t n, size_t i, struct vg_syslog_hdr *h)
{
    const char *ts;
    size_t tl;
    i += 2; /* "1 " */
    field5424(p, n, &i, &ts, &tl);
    if (ts && vg_dec_time_parse(ts, tl, &h->ts) != VG_OK) {
        return false;
    }
    field5424(p, n, &i, &h->host, &h->host_len);
    field5424(p, n, &i, &h->prog, &h->prog_len);
    field5424(p, n, &i, &h->pid, &h->pid_len);
    field5424(p, n, &i, &h->msgid, &h->msgid_len);
    if (i < n && p[i] == '-') {
        i++;
    } else if (i < n && p[i] == '[') {
        size_t e = sd_end(p, n, i);
        h->sd = p + i;
        h->sd_len = e - i;
        i = e;
    }
    if (i < n && p[i] == ' ') {
        i++;
    }
    if (i + 3 <= n && memcmp(p + i, "\xEF\xBB\xBF", 3) == 0) {
        i += 3; /* BOM */
    }
    h->rfc = 5424;
    h->msg = p + i;
    h->msg_len = n - i;
    return true;
}

/* "prog[pid]: " or "prog: " at p[i]; sets prog/pid and returns the message offset. */
static size_t parse_tag(const char *p, size_t n, size_t i, struct vg_syslog_hdr *h)
{
    size_t s = i;
    while (i < n && i - s < 48 && p[i] != ':' && p[i] != '[' && p[i] != ' ') {
        i++;
    }
    if (i == s || i >= n || (p[i] != ':' && p[i] != '[') || p[s] == '%') {
        return s;
    }
    /* "CEF:0|..." and "LEEF:1.0|..." right after the host are payloads, not tags */
    if (p[i] == ':' && i + 1 < n && vg_dec_digit(p[i + 1]) &&
        (vg_dec_eq(p + s, i - s, "CEF") || vg_dec_eq(p + s, i - s, "LEEF"))) {
        return s;
    }
    /* "10:" in "time=10: 13:03" or a clock: a tag is never only digits */
    bool digits = true;
    for (size_t k = s; k < i; k++) {
        digits &= vg_dec_digit(p[k]);
    }
    if (digits) {
        return s;
    }
    h->prog = p + s;
    h->prog_len = i - s;
    if (p[i] == '[') {
        size_t ps = ++i;
        while (i < n && p[i] != ']' && i - ps < 24) {
            i++;
        }
        if (i < n && p[i] == ']') {
            h->pid = p + ps;
            h->pid_len = i - ps;
            i++;
        }
    }
    if (i < n && p[i] == ':') {
        i++;
    }
    if (i < n && p[i] == ' ') {
        i++;
    }
    return i;
}

/* After the timestamp: optional host, optional tag, message. */
static void host_and_tag(const char *p, size_t n, size_t i, struct vg_syslog_hdr *h)
{
    while (i < n && p[i] == ' ') {
        i++;
    }
    size_t s = i, e = i;
    bool eq = false;
    while (e < n && p[e] != ' ') {
        eq |= p[e] == '=';
        e++;
    }
    bool is_tag = e > s && (p[e - 1] == ':' || (p[e - 1] == ']' && memchr(p + s, '[', e - s)));
    if (e > s && !eq && !is_tag && p[s] != '%' && p[s] != '[' && e < n) {
        h->host = p + s;
        h->host_len = e - s;
        i = e + 1;
    } else if (e > s && !eq && !is_tag && p[s] != '%' && p[s] != '[') {
        h->host = p + s; /* host and nothing else */
        h->host_len = e - s;
        i = e;
    }
    if (!eq) {
        i = parse_tag(p, n, i, h);
    }
    h->msg = p + i;
    h->msg_len = n - i;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!vg_dec_digit(p[i])) {
            return false;
        }
    }
    return n > 0;
}

/* "oscap: msg" / "prog[12]: msg": a tag alone at the start of a record (lower-case program
 * name, then ": " — so "ERROR: x" and "http://x" stay plain text). */
static bool bare_tag(const char *p, size_t n, struct vg_syslog_hdr *h)
{
    if (n < 4 || p[0] < 'a' || p[0] > 'z') {
        return false;
    }
    size_t m = parse_tag(p, n, 0, h);
    if (!h->prog || m < 2 || p[m - 1] != ' ' || (p[m - 2] != ':' && p[m - 2] != ']')) {
        h->prog = h->pid = NULL;
        h->prog_len = h->pid_len = 0;
        return false;
    }
    h->msg = p + m;
    h->msg_len = n - m;
    return true;
}

bool vg_syslog_header_parse(const char *p, size_t n, int year, struct vg_syslog_hdr *h)
{
    memset(h, 0, sizeof(*h));
    h->pri = -1;
    h->ts = VG_TIME_NONE;
    size_t i = 0, k = 0;
    parse_pri(p, n, &i, &h->pri);
    if (i + 8 < n && p[i] == '1' && p[i + 1] == ' ' &&
        (h->pri >= 0 || (vg_dec_digit(p[i + 2]) && p[i + 6] == '-'))) {
        struct vg_syslog_hdr save = *h;
        if (parse_5424(p, n, i, h)) {
            return true;
        }
        *h = save;
    }
    h->rfc = 3164;
    const char *q = p + i;
    size_t qn = n - i;
    bool iso = false;
    bool bsd = vg_decode_bsd_time(q, qn, year, &h->ts, &k);
    h->year_implied = bsd && !bsd_has_year(q, qn);
    bool t = bsd || (qn && vg_dec_digit(q[0]) &&
                     ((iso = iso_time(q, qn, &h->ts, &k)) || ossec_time(q, qn, &h->ts, &k)));
    if (!t) {
        if (h->pri < 0) {
            return bare_tag(p, n, h);
        }
        size_t m = parse_tag(p, n, i, h);
        h->msg = p + m;
        h->msg_len = n - m;
        return true;
    }
    host_and_tag(p, n, i + k, h);
    /* an application log line that merely starts with a time ("2017-04-03 15:55:24.37 Logon
     * ...", "2014-06-10T18:18:26Z 14299 TID-55uqo INFO: ...") is not syslog */
    if (h->pri < 0 &&
        ((h->host && all_digits(h->host, h->host_len)) || (iso && q[10] == ' ' && !h->prog))) {
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- fallbacks */

int vg_dec_syslog(struct vg_dctx *c)
{
    if (!c->has_hdr) {
        return VG_DECLINED;
    }
    /* Linux kind for program-tagged lines: the Sigma linux logsources select on program */
    vg_dctx_claim(c, c->hdr.prog ? VG_EK_LINUX : VG_EK_GENERIC);
    return c->rc;
}

int vg_dec_plain(struct vg_dctx *c)
{
    vg_dctx_claim(c, VG_EK_GENERIC);
    if (c->rc == VG_OK) {
        c->rc = vg_event_add_str(c->ev, VG_DF(MESSAGE), c->rec, c->len);
    }
    return c->rc;
}
