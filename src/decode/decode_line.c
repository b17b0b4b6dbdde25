/*
 * decode_line.c — one text line → event.
 *
 * Recognised, in order: auditd records (`type=X msg=audit(T:S): k=v ...`, with the
 * hex-encoded string fields decoded as ausearch -i does), web access logs (decode_web.c),
 * RFC 5424 syslog, RFC 3164 syslog
 * (with or without <PRI>, classic `Mmm dd hh:mm:ss` or ISO timestamps as rsyslog writes
 * them), with sshd authentication results normalised to ECS fields and Sysmon for Linux
 * events (Windows event XML in the message) decoded to their EVTX field names. Anything else
 * becomes a plain `message`. Native field names: hostname, program,
 * pid, message, facility, severity (syslog); the audit record's own keys (auditd).
 * Never fails on bytes: every line yields an event.
 */
#include "decode/decode_int.h"

#include <string.h>

static uint32_t F(const char *name)
{
    return vg_field_intern(name, strlen(name));
}

static bool is_digit(char c)
{
    return (unsigned)((unsigned char)c - '0') < 10u;
}

static int month_of(const char *p)
{
    static const char *const m[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++) {
        if (memcmp(p, m[i], 3) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* "Mmm dd hh:mm:ss" (15 bytes) → time in default_year. */
static bool parse_bsd_time(const char *p, size_t n, int year, vg_time_t *out)
{
    if (n < 15 || p[3] != ' ' || p[6] != ' ' || p[9] != ':' || p[12] != ':') {
        return false;
    }
    int mo = month_of(p);
    if (!mo) {
        return false;
    }
    char iso[32];
    int day = (p[4] == ' ' ? 0 : (p[4] - '0') * 10) + (p[5] - '0');
    if (!is_digit(p[5]) || (p[4] != ' ' && !is_digit(p[4]))) {
        return false;
    }
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%.8sZ", year, mo, day, p + 7);
    return vg_dec_time_parse(iso, strlen(iso), out) == VG_OK;
}

/* Plain decimal (optional '-') without leading zeros: its text is a valid JSON number. */
static bool decimal(const char *v, size_t n)
{
    size_t d = n && v[0] == '-';
    for (size_t i = d; i < n; i++) {
        if (!is_digit(v[i])) {
            return false;
        }
    }
    return n > d && n < 19 && (v[d] != '0' || n == d + 1);
}

static bool hexdigit(char c)
{
    return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f');
}

/* auditd fields that carry untrusted strings, hex-encoded when unquoted */
static bool audit_encoded(const char *k, size_t kl)
{
    static const char *const keys[] = {"proctitle", "cmd",  "name", "exe", "cwd", "comm",
                                       "path",      "data", "old",  "new", "acct"};
    if (kl >= 2 && k[0] == 'a' && is_digit(k[1])) {
        return true;
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(keys); i++) {
        if (strlen(keys[i]) == kl && memcmp(keys[i], k, kl) == 0) {
            return true;
        }
    }
    return false;
}

static int add_audit_value(struct vg_event *ev, const char *k, size_t kl, const char *v, size_t vl)
{
    uint32_t id = vg_field_intern(k, kl);
    if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
        return vg_event_add_str(ev, id, v + 1, vl - 2);
    }
    bool hex = vl >= 2 && vl % 2 == 0 && audit_encoded(k, kl);
    for (size_t i = 0; hex && i < vl; i++) {
        hex = hexdigit(v[i]);
    }
    if (hex) {
        char *d = vg_arena_alloc(ev->arena, vl / 2 + 1);
        if (!d) {
            return VG_ENOMEM;
        }
        size_t o = 0;
        for (size_t i = 0; i < vl; i += 2) {
            int hi = is_digit(v[i]) ? v[i] - '0' : (v[i] | 32) - 'a' + 10;
            int lo = is_digit(v[i + 1]) ? v[i + 1] - '0' : (v[i + 1] | 32) - 'a' + 10;
            char c = (char)(hi * 16 + lo);
            d[o++] = c ? c : ' '; /* proctitle separates argv with NUL */
        }
        d[o] = '\0';
        return vg_event_add_str(ev, id, d, o);
    }
    int64_t iv;
    if (decimal(v, vl) && v[0] != '0' && vg_parse_i64(v, vl, &iv) == VG_OK) {
        return vg_event_add_int(ev, id, iv, v, vl);
    }
    return vg_event_add_str(ev, id, v, vl);
}

/* key=value pairs separated by spaces; values may be "quoted" or 'quoted'. */
static int parse_kv(struct vg_event *ev, const char *p, size_t n, bool audit)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (p[i] == ' ' || p[i] == '\t')) {
            i++;
        }
        size_t ks = i;
        while (i < n && p[i] != '=' && p[i] != ' ') {
            i++;
        }
        if (i >= n || p[i] != '=' || i == ks) {
            while (i < n && p[i] != ' ') {
                i++;
            }
            continue;
        }
        size_t kl = i - ks;
        size_t vs = ++i;
        if (i < n && (p[i] == '"' || p[i] == '\'')) {
            char q = p[i++];
            while (i < n && p[i] != q) {
                i++;
            }
            if (i < n) {
                i++;
            }
        } else {
            while (i < n && p[i] != ' ') {
                i++;
            }
        }
        int rc;
        if (audit) {
            rc = add_audit_value(ev, p + ks, kl, p + vs, i - vs);
        } else {
            size_t vl = i - vs;
            const char *v = p + vs;
            if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
                v++;
                vl -= 2;
            }
            rc = vg_event_add_str(ev, vg_field_intern(p + ks, kl), v, vl);
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int decode_audit(struct vg_event *ev, const char *p, size_t n)
{
    /* type=SYSCALL msg=audit(1700000000.123:456): ... */
    const char *m = memmem(p, n, " msg=audit(", 11);
    if (n < 6 || memcmp(p, "type=", 5) != 0 || !m) {
        return VG_DECLINED;
    }
    ev->kind = VG_EK_LINUX;
    const char *ts = m + 11;
    const char *end = memchr(ts, ')', n - (size_t)(ts - p));
    if (!end) {
        return VG_DECLINED;
    }
    const char *colon = memchr(ts, ':', (size_t)(end - ts));
    if (colon) {
        double secs;
        if (vg_parse_double(ts, (size_t)(colon - ts), &secs) == VG_OK && secs >= 0 &&
            secs < 9.2e9) {
            ev->ts = (vg_time_t)(secs * 1e9);
        }
        int rc = vg_event_add_str(ev, F("audit.serial"), colon + 1, (size_t)(end - colon - 1));
        if (rc != VG_OK) {
            return rc;
        }
    }
    size_t tl = (size_t)(m - p) - 5;
    int rc = vg_event_add_str(ev, F("type"), p + 5, tl);
    if (rc != VG_OK) {
        return rc;
    }
    const char *rest = end + 1;
    if (rest < p + n && *rest == ':') {
        rest++;
    }
    return parse_kv(ev, rest, (size_t)(p + n - rest), true);
}

/* "prog[pid]: msg" or "prog: msg" at p; returns VG_DECLINED if no tag. */
static int syslog_tag(struct vg_event *ev, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 64 && p[i] != ':' && p[i] != '[' && p[i] != ' ') {
        i++;
    }
    if (i == 0 || i >= n || (p[i] != ':' && p[i] != '[')) {
        return vg_event_add_str(ev, F("message"), p, n);
    }
    size_t pl = i;
    int rc = vg_event_add_str(ev, F("program"), p, pl);
    if (rc == VG_OK && p[i] == '[') {
        size_t ps = ++i;
        while (i < n && p[i] != ']') {
            i++;
        }
        int64_t pid;
        if (i < n && decimal(p + ps, i - ps) && vg_parse_i64(p + ps, i - ps, &pid) == VG_OK) {
            rc = vg_event_add_int(ev, F("pid"), pid, p + ps, i - ps);
        }
        i++;
    }
    if (rc != VG_OK) {
        return rc;
    }
    if (i < n && p[i] == ':') {
        i++;
    }
    if (i < n && p[i] == ' ') {
        i++;
    }
    return vg_event_add_str(ev, F("message"), p + i, i <= n ? n - i : 0);
}

static size_t token(const char *p, size_t n, size_t i, size_t *start)
{
    *start = i;
    while (i < n && p[i] != ' ') {
        i++;
    }
    return i;
}

static int decode_5424(struct vg_event *ev, const char *p, size_t n)
{
    /* after <PRI>: "1 TIMESTAMP HOST APP PROCID MSGID SD MSG" */
    if (n < 2 || p[0] != '1' || p[1] != ' ') {
        return VG_DECLINED;
    }
    size_t s, i = 2, e;
    const char *names[] = {"@ts", "hostname", "program", "pid", "msgid"};
    int rc = VG_OK;
    for (int k = 0; k < 5 && rc == VG_OK; k++) {
        e = token(p, n, i, &s);
        if (e == s) {
            return VG_DECLINED;
        }
        if (!(e - s == 1 && p[s] == '-')) {
            if (k == 0) {
                vg_time_t ts;
                if (vg_dec_time_parse(p + s, e - s, &ts) == VG_OK) {
                    ev->ts = ts;
                }
            } else {
                rc = vg_event_add_str(ev, F(names[k]), p + s, e - s);
            }
        }
        i = e < n ? e + 1 : e;
    }
    /* structured data: "-" or one or more [id k="v" ...] */
    if (i < n && p[i] == '-') {
        i++;
    } else {
        while (i < n && p[i] == '[' && rc == VG_OK) {
            size_t id_end;
            i = vg_sd_element(p, n, i, &id_end);
            if (id_end < i) {
                rc = parse_kv(ev, p + id_end, i - id_end, false);
            }
            i = i < n ? i + 1 : i;
        }
    }
    if (i < n && p[i] == ' ') {
        i++;
    }
    if (rc == VG_OK && i + 3 <= n && memcmp(p + i, "\xEF\xBB\xBF", 3) == 0) {
        i += 3; /* BOM */
    }
    return rc != VG_OK ? rc : vg_event_add_str(ev, F("message"), p + i, n - i);
}

/* Next space-delimited word of p[*i..n). */
static bool word(const char *p, size_t n, size_t *i, const char **w, size_t *wl)
{
    while (*i < n && p[*i] == ' ') {
        (*i)++;
    }
    size_t s = *i;
    while (*i < n && p[*i] != ' ') {
        (*i)++;
    }
    *w = p + s;
    *wl = *i - s;
    return *wl > 0;
}

static bool word_is(const char *w, size_t wl, const char *lit)
{
    return wl == strlen(lit) && memcmp(w, lit, wl) == 0;
}

/*
 * sshd authentication results → ECS fields: "Failed|Accepted <method> for [invalid user]
 * <user> from <ip> port <port>" gives event.outcome, event.action, user.name, source.ip,
 * source.port. (A first normaliser; the full Linux auth decoders live with the server.)
 */
static int sshd_fields(struct vg_event *ev, const char *m, size_t n)
{
    size_t i = 0, wl;
    const char *w;
    if (!word(m, n, &i, &w, &wl) || !(word_is(w, wl, "Failed") || word_is(w, wl, "Accepted"))) {
        return VG_OK;
    }
    bool ok = w[0] == 'A';
    const char *method;
    size_t ml;
    if (!word(m, n, &i, &method, &ml) || !word(m, n, &i, &w, &wl) || !word_is(w, wl, "for") ||
        !word(m, n, &i, &w, &wl)) {
        return VG_OK;
    }
    if (word_is(w, wl, "invalid")) {
        if (!word(m, n, &i, &w, &wl) || !word_is(w, wl, "user") || !word(m, n, &i, &w, &wl)) {
            return VG_OK;
        }
    }
    const char *user = w, *ip, *port = NULL;
    size_t ul = wl, il, pl = 0;
    if (!word(m, n, &i, &w, &wl) || !word_is(w, wl, "from") || !word(m, n, &i, &ip, &il)) {
        return VG_OK;
    }
    if (word(m, n, &i, &w, &wl) && word_is(w, wl, "port")) {
        word(m, n, &i, &port, &pl);
    }
    int rc;
    if ((rc = vg_event_add_str(ev, F("event.outcome"), ok ? "success" : "failure", ok ? 7 : 7)) !=
            VG_OK ||
        (rc = vg_event_add_str(ev, F("event.action"), method, ml)) != VG_OK ||
        (rc = vg_event_add_str(ev, F("user.name"), user, ul)) != VG_OK ||
        (rc = vg_event_add_str(ev, F("source.ip"), ip, il)) != VG_OK) {
        return rc;
    }
    int64_t pv;
    if (port && decimal(port, pl) && vg_parse_i64(port, pl, &pv) == VG_OK) {
        rc = vg_event_add_int(ev, F("source.port"), pv, port, pl);
    }
    return rc;
}

static bool linux_program(const struct vg_event *ev)
{
    size_t l;
    return vg_event_get_str(ev, "program", &l) != NULL;
}

int vg_decode_line(struct vg_event *ev, const char *line, size_t len, int default_year)
{
    const char *p = line;
    size_t n = len;
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n')) {
        n--;
    }
    int rc = decode_audit(ev, p, n);
    if (rc != VG_DECLINED) {
        return rc;
    }
    if ((rc = vg_decode_access_log(ev, p, n)) != VG_DECLINED) {
        return rc;
    }
    size_t i = 0;
    int pri = -1;
    if (n > 2 && p[0] == '<') {
        int v = 0;
        size_t k = 1;
        while (k < n && k < 5 && is_digit(p[k])) {
            v = v * 10 + (p[k] - '0');
            k++;
        }
        if (k < n && p[k] == '>' && k > 1 && v < 192) {
            pri = v;
            i = k + 1;
        }
    }
    if (pri >= 0) {
        if ((rc = vg_event_add_int(ev, F("facility"), pri / 8, NULL, 0)) != VG_OK ||
            (rc = vg_event_add_int(ev, F("severity"), pri % 8, NULL, 0)) != VG_OK) {
            return rc;
        }
        rc = decode_5424(ev, p + i, n - i);
        if (rc != VG_DECLINED) {
            ev->kind = VG_EK_LINUX;
            return rc;
        }
    }
    vg_time_t ts;
    size_t hs = 0;
    if (parse_bsd_time(p + i, n - i, default_year, &ts)) {
        ev->ts = ts;
        hs = i + 16;
    } else {
        size_t s, e = token(p, n, i, &s);
        if (e > s && vg_dec_time_parse(p + s, e - s, &ts) == VG_OK) {
            ev->ts = ts;
            hs = e + 1;
        }
    }
    if (hs && hs < n) {
        size_t s, e = token(p, n, hs, &s);
        if ((rc = vg_event_add_str(ev, F("hostname"), p + s, e - s)) != VG_OK) {
            return rc;
        }
        rc = syslog_tag(ev, p + e + (e < n), e < n ? n - e - 1 : 0);
        if (rc == VG_OK && linux_program(ev)) {
            ev->kind = VG_EK_LINUX;
            size_t pl, ml;
            const char *prog = vg_event_get_str(ev, "program", &pl);
            const char *msg = vg_event_get_str(ev, "message", &ml);
            if (prog && msg && pl == 4 && !memcmp(prog, "sshd", 4)) {
                rc = sshd_fields(ev, msg, ml);
            } else if (msg && ml > 20 && msg[0] == '<' && memmem(msg, ml, "<System>", 8)) {
                /* Sysmon for Linux: the whole event as Windows event XML */
                vg_time_t keep = ev->ts;
                int x = vg_decode_xml_event(ev, msg, ml);
                rc = x == VG_ENOMEM ? x : VG_OK;
                if (ev->ts == VG_TIME_NONE) {
                    ev->ts = keep;
                }
            }
        }
        return rc;
    }
    if (pri >= 0) {
        return syslog_tag(ev, p + i, n - i);
    }
    return vg_event_add_str(ev, F("message"), p, n);
}
