/*
 * decode_util.c — the toolbox of the decoder chain: the pre-interned field ids, the context's
 * add helpers (one sticky status instead of a check after every add), IP/port/timestamp
 * scanners, the key=value scanner and the native-key → ECS maps. Everything here runs once
 * per field of every event, so it avoids allocation and never re-interns a known name.
 */
#include "decode/decode_int.h"

#include <pthread.h>
#include <stdarg.h>

uint32_t vg_decode_fid[VG_DF__COUNT];

static const char *const field_names[VG_DF__COUNT] = {
#define VG_DF_NAME(e, s) s,
    VG_DECODE_FIELDS(VG_DF_NAME)
#undef VG_DF_NAME
};

static pthread_once_t fields_once = PTHREAD_ONCE_INIT;
static int fields_rc = VG_OK;

/* "0".."255" as text: facility, severity and levels need no formatting per event */
static char small_ints[256][4];

static void fields_init_once(void)
{
    for (int i = 0; i < 256; i++) {
        snprintf(small_ints[i], sizeof(small_ints[i]), "%d", i);
    }
    for (size_t i = 0; i < VG_DF__COUNT; i++) {
        vg_decode_fid[i] = vg_field_intern(field_names[i], strlen(field_names[i]));
        if (vg_decode_fid[i] == VG_FIELD_NONE) {
            fields_rc = VG_ENOMEM;
            return;
        }
    }
    fields_rc = vg_decode_kmaps_init();
}

int vg_decode_fields_init(void)
{
    pthread_once(&fields_once, fields_init_once);
    return fields_rc;
}

/* ---------------------------------------------------------------- claim / reject */

static void add_sd_params(struct vg_dctx *c)
{
    const char *p = c->hdr.sd;
    size_t n = c->hdr.sd_len, i = 0;
    while (i < n && p[i] == '[') {
        size_t id_end;
        i = vg_sd_element(p, n, i, &id_end);
        if (id_end < i) {
            vg_dctx_kv(c, p + id_end, i - id_end, ' ', NULL, false);
        }
        i = i < n ? i + 1 : i;
    }
}

void vg_dctx_claim(struct vg_dctx *c, enum vg_event_kind kind)
{
    const struct vg_syslog_hdr *h = &c->hdr;
    c->claimed = true;
    c->ev->kind = kind;
    vg_dctx_lit(c, VG_DF(EVENT_MODULE), c->cur->name);
    if (!c->has_hdr) {
        return;
    }
    if (h->ts != VG_TIME_NONE && c->ev->ts == VG_TIME_NONE) {
        c->ev->ts = h->ts; /* decoders that found a better time before claiming keep it */
    }
    if (h->pri >= 0) {
        vg_dctx_int(c, VG_DF(FACILITY), h->pri / 8);
        vg_dctx_int(c, VG_DF(SEVERITY), h->pri % 8);
    }
    vg_dctx_str(c, VG_DF(HOSTNAME), h->host, h->host_len);
    vg_dctx_str(c, VG_DF(HOST_NAME), h->host, h->host_len);
    vg_dctx_str(c, VG_DF(PROGRAM), h->prog, h->prog_len);
    if (!c->own_process) {
        vg_dctx_str(c, VG_DF(PROCESS_NAME), h->prog, h->prog_len);
    }
    if (h->pid_len) {
        vg_dctx_num(c, VG_DF(PID), h->pid, h->pid_len);
        if (!c->own_process) {
            vg_dctx_num(c, VG_DF(PROCESS_PID), h->pid, h->pid_len);
        }
    }
    vg_dctx_str(c, VG_DF(MSGID), h->msgid, h->msgid_len);
    if (c->repeated) {
        vg_dctx_int(c, VG_DF(EVENT_REPEAT_COUNT), c->repeated);
    }
    if (h->sd_len && !c->sd_done) {
        add_sd_params(c);
    }
    if (h->msg) {
        c->rc = c->rc ? c->rc : vg_event_add_str(c->ev, VG_DF(MESSAGE), h->msg, h->msg_len);
    }
}

int vg_dctx_reject(struct vg_dctx *c, const char *fmt, ...)
{
    if (c->err && c->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errsz, fmt, ap);
        va_end(ap);
    }
    return VG_EINVAL;
}

/* ---------------------------------------------------------------- adds */

static inline void set_rc(struct vg_dctx *c, int rc)
{
    if (rc != VG_OK && c->rc == VG_OK) {
        c->rc = rc;
    }
}

void vg_dctx_str(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    if (c->rc == VG_OK && n && s) {
        set_rc(c, vg_event_add_str(c->ev, id, s, n));
    }
}

void vg_dctx_opt(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    if (!(n == 1 && s[0] == '-')) {
        vg_dctx_str(c, id, s, n);
    }
}

void vg_dctx_lit(struct vg_dctx *c, uint32_t id, const char *lit)
{
    vg_dctx_str(c, id, lit, strlen(lit));
}

void vg_dctx_dup(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    if (c->rc == VG_OK && n) {
        set_rc(c, vg_event_add_strdup(c->ev, id, s, n));
    }
}

void vg_dctx_int(struct vg_dctx *c, uint32_t id, int64_t v)
{
    if (c->rc != VG_OK) {
        return;
    }
    if (v >= 0 && v < 256) {
        const char *t = small_ints[v];
        set_rc(c, vg_event_add_int(c->ev, id, v, t, strlen(t)));
    } else {
        set_rc(c, vg_event_add_int(c->ev, id, v, NULL, 0));
    }
}

void vg_dctx_num(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    int64_t v;
    if (c->rc != VG_OK || !n) {
        return;
    }
    /* only canonical decimals become numbers: "0x0" and "007" are identifiers (and their
     * text, written as a JSON number, would not be JSON) */
    size_t d = s[0] == '-';
    bool num = n < 19 && n > d && vg_dec_digit(s[d]) && !(s[d] == '0' && n > d + 1) &&
               vg_dec_digit(s[n - 1]) && vg_parse_i64(s, n, &v) == VG_OK;
    set_rc(c, num ? vg_event_add_int(c->ev, id, v, s, n) : vg_event_add_str(c->ev, id, s, n));
}

void vg_dctx_pid(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    int64_t pid;
    bool hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex && n <= 18 && vg_parse_i64(s, n, &pid) == VG_OK && pid >= 0) {
        vg_dctx_int(c, id, pid); /* "0x1f4" → 500: process.pid is a number */
    } else {
        vg_dctx_num(c, id, s, n);
    }
}

bool vg_dctx_ip(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    if (n > 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (!vg_dec_is_ip(s, n)) {
        return false;
    }
    if (c->rc == VG_OK) {
        struct vg_value v = {.type = VG_V_IP, .len = (uint32_t)n, .str = s};
        set_rc(c, vg_event_add(c->ev, id, &v));
    }
    return true;
}

bool vg_dctx_port(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    uint64_t v;
    if (n == 0 || n > 5 || !vg_dec_uint(s, n, &v) || v > 65535) {
        return false;
    }
    if (c->rc == VG_OK) {
        /* "0080" keeps its value, not its text (a JSON number has no leading zero) */
        bool canon = s[0] != '0' || n == 1;
        set_rc(c, vg_event_add_int(c->ev, id, (int64_t)v, canon ? s : NULL, canon ? n : 0));
    }
    return true;
}

void vg_dctx_addr(struct vg_dctx *c, uint32_t ip_id, uint32_t addr_id, const char *s, size_t n)
{
    if (!vg_dctx_ip(c, ip_id, s, n)) {
        vg_dctx_opt(c, addr_id, s, n);
    }
}

void vg_dctx_transport(struct vg_dctx *c, const char *s, size_t n)
{
    static const struct {
        int num;
        const char *name;
    } protos[] = {{1, "icmp"}, {2, "igmp"}, {6, "tcp"}, {17, "udp"},       {41, "ipv6"},
                  {47, "gre"}, {50, "esp"}, {51, "ah"}, {58, "ipv6-icmp"}, {132, "sctp"}};
    uint64_t v;
    if (n && vg_dec_uint(s, n, &v)) {
        for (size_t i = 0; i < VG_ARRAY_LEN(protos); i++) {
            if ((uint64_t)protos[i].num == v) {
                vg_dctx_lit(c, VG_DF(NET_TRANSPORT), protos[i].name);
                return;
            }
        }
        vg_dctx_str(c, VG_DF(NET_TRANSPORT), s, n);
        return;
    }
    if (n == 0 || n > 32 || c->rc != VG_OK) {
        return;
    }
    bool lower = true;
    for (size_t i = 0; i < n; i++) {
        lower &= !(s[i] >= 'A' && s[i] <= 'Z');
    }
    if (lower) {
        vg_dctx_str(c, VG_DF(NET_TRANSPORT), s, n);
        return;
    }
    char *d = vg_arena_alloc(c->ev->arena, n + 1);
    if (!d) {
        c->rc = VG_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    }
    d[n] = '\0';
    vg_dctx_str(c, VG_DF(NET_TRANSPORT), d, n);
}

int vg_dec_time_parse(const char *p, size_t n, vg_time_t *out)
{
    uint64_t y;
    /* years past 2261 (or before 1678) overflow int64 nanoseconds inside the core parser */
    if (n < 4 || !vg_dec_uint(p, 4, &y) || y < 1678 || y > 2261) {
        return VG_EINVAL;
    }
    return vg_time_parse(p, n, out);
}

void vg_dctx_action_outcome(struct vg_dctx *c, const char *a, size_t n)
{
    static const char *const deny[] = {"deny",    "denied", "drop",  "dropped", "block",
                                       "blocked", "reject", "reset", "Deny",    "Drop",
                                       "Reject",  "DROP",   "BLOCK", "REJECT",  "DENY"};
    static const char *const allow[] = {"allow",  "allowed",   "accept", "accepted", "pass",
                                        "permit", "permitted", "Accept", "ACCEPT",   "ALLOW"};
    for (size_t i = 0; i < VG_ARRAY_LEN(deny); i++) {
        if (memmem(a, n, deny[i], strlen(deny[i]))) {
            vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), "failure");
            vg_dctx_lit(c, VG_DF(EVENT_TYPE), "denied");
            return;
        }
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(allow); i++) {
        if (memmem(a, n, allow[i], strlen(allow[i]))) {
            vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), "success");
            vg_dctx_lit(c, VG_DF(EVENT_TYPE), "allowed");
            return;
        }
    }
}

void vg_dctx_time(struct vg_dctx *c, const char *s, size_t n)
{
    vg_time_t t;
    if (n >= 10 && vg_dec_time_parse(s, n, &t) == VG_OK) {
        c->ev->ts = t;
    }
}

void vg_dctx_epoch(struct vg_dctx *c, const char *s, size_t n)
{
    size_t dot = 0;
    while (dot < n && s[dot] != '.') {
        dot++;
    }
    uint64_t secs, frac = 0;
    if (dot == 0 || dot > 19 || !vg_dec_uint(s, dot, &secs)) {
        return;
    }
    size_t fl = dot < n ? n - dot - 1 : 0;
    if (fl > 9 || (fl && !vg_dec_uint(s + dot + 1, fl, &frac))) {
        fl = 0;
        frac = 0;
    }
    for (size_t k = fl; k < 9; k++) {
        frac *= 10;
    }
    /* seconds, milliseconds, microseconds or nanoseconds by the number of digits */
    uint64_t div = dot <= 11 ? 1 : dot <= 14 ? 1000 : dot <= 17 ? 1000000 : 1000000000;
    int64_t sub = div == 1 ? (int64_t)frac : (int64_t)(secs % div * (1000000000 / div));
    vg_time_t t = vg_decode_ns((int64_t)(secs / div), sub);
    if (secs > 0 && t != VG_TIME_NONE) {
        c->ev->ts = t;
    }
}

void vg_dctx_named(struct vg_dctx *c, const char *name, size_t nl, const char *s, size_t n)
{
    if (c->rc != VG_OK || nl == 0) {
        return;
    }
    uint32_t id = vg_field_intern(name, nl);
    if (id == VG_FIELD_NONE) {
        return; /* registry full: drop the field rather than the event */
    }
    set_rc(c, vg_event_add_str(c->ev, id, s ? s : "", s ? n : 0));
}

/* ---------------------------------------------------------------- scanners */

bool vg_dec_uint(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 19) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!vg_dec_digit(s[i])) {
            return false;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

bool vg_dec_is_ipv4(const char *s, size_t n)
{
    if (n < 7 || n > 15) {
        return false;
    }
    int parts = 0, digits = 0, val = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (digits == 0 || val > 255) {
                return false;
            }
            parts++;
            digits = val = 0;
        } else if (vg_dec_digit(s[i]) && digits < 3) {
            val = val * 10 + (s[i] - '0');
            digits++;
        } else {
            return false;
        }
    }
    return parts == 4;
}

bool vg_dec_is_ip(const char *s, size_t n)
{
    if (n == 0 || n > 45) {
        return false;
    }
    if (vg_dec_digit(s[0]) && vg_dec_is_ipv4(s, n)) {
        return true;
    }
    /* IPv6: hex groups, colons, an optional embedded IPv4 tail; at least two colons */
    int colons = 0, dbl = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == ':') {
            colons++;
            dbl += i + 1 < n && s[i + 1] == ':';
        } else if (!vg_dec_hex(ch) && ch != '.') {
            return false;
        }
    }
    return colons >= 2 && colons <= 7 && dbl <= 1 && (colons == 7 || dbl == 1);
}

bool vg_dec_word(const char *p, size_t n, size_t *i, const char **w, size_t *wl)
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

size_t vg_dec_find(const char *p, size_t n, const char *lit)
{
    /* memchr (vectorised) for the needle's first byte that is not a space — spaces are the
     * commonest byte of log text —, then a compare: the probes of declining decoders run on
     * every record and glibc's memmem costs several instructions per byte */
    size_t l = strlen(lit), k = 0;
    if (l == 0 || l > n) {
        return l == 0 ? 0 : n;
    }
    while (k + 1 < l && lit[k] == ' ') {
        k++;
    }
    const char *s = p + k, *last = p + (n - l) + k; /* candidates for the anchor byte */
    while (s <= last) {
        const char *f = memchr(s, lit[k], (size_t)(last - s) + 1);
        if (!f) {
            break;
        }
        if (!memcmp(f - k, lit, l)) {
            return (size_t)(f - k - p);
        }
        s = f + 1;
    }
    return n;
}

bool vg_dec_istarts(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && vg_str_ieq_ascii(p, l, lit, l);
}

/* ---------------------------------------------------------------- time */

int vg_decode_month(const char *p)
{
    /* switch on the first letter: this runs for every syslog line */
    switch (p[0]) {
    case 'J':
        return p[1] == 'a' && p[2] == 'n'   ? 1
               : p[1] == 'u' && p[2] == 'n' ? 6
               : p[1] == 'u' && p[2] == 'l' ? 7
                                            : 0;
    case 'F':
        return p[1] == 'e' && p[2] == 'b' ? 2 : 0;
    case 'M':
        return p[1] == 'a' && p[2] == 'r' ? 3 : p[1] == 'a' && p[2] == 'y' ? 5 : 0;
    case 'A':
        return p[1] == 'p' && p[2] == 'r' ? 4 : p[1] == 'u' && p[2] == 'g' ? 8 : 0;
    case 'S':
        return p[1] == 'e' && p[2] == 'p' ? 9 : 0;
    case 'O':
        return p[1] == 'c' && p[2] == 't' ? 10 : 0;
    case 'N':
        return p[1] == 'o' && p[2] == 'v' ? 11 : 0;
    case 'D':
        return p[1] == 'e' && p[2] == 'c' ? 12 : 0;
    default:
        return 0;
    }
}

int64_t vg_decode_epoch(int year, int month, int day, int hour, int min, int sec)
{
    /* days from civil (H. Hinnant), as core_time.c */
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned m = (unsigned)month;
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)day - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + (int64_t)doe - 719468;
    return days * 86400 + hour * 3600 + min * 60 + sec;
}

/* ---------------------------------------------------------------- key=value */

/* [A-Za-z0-9_.:/@-]: one load per byte of every key of every record */
static const bool key_chars[256] = {
    ['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true, ['_'] = true, ['.'] = true,
    ['-'] = true,         ['@'] = true,         ['/'] = true,         [':'] = true,
};

static inline bool key_char(char ch)
{
    return key_chars[(unsigned char)ch];
}

static inline bool is_sep(const struct vg_kv_iter *it, char ch)
{
    /* 0x1D separates the enriched names auditd appends (UID="root" AUID=...) */
    return ch == it->sep || (it->sep == ' ' && (ch == '\t' || ch == '\x1d'));
}

void vg_kv_init(struct vg_kv_iter *it, const char *p, size_t n, char sep)
{
    it->p = p;
    it->n = n;
    it->i = 0;
    it->sep = sep;
}

/* Skip a token that is not a pair: to the next separator, stepping over quoted runs. */
static void skip_token(struct vg_kv_iter *it)
{
    const char *p = it->p;
    while (it->i < it->n && !is_sep(it, p[it->i])) {
        it->i++;
    }
}

static size_t quoted_end(const char *p, size_t n, size_t i, char q)
{
    while (i < n && p[i] != q) {
        i += (p[i] == '\\' && i + 1 < n) ? 2 : 1;
    }
    return i;
}

bool vg_kv_next(struct vg_kv_iter *it, struct vg_kv *kv)
{
    const char *p = it->p;
    size_t n = it->n;
    for (;;) {
        while (it->i < n && (is_sep(it, p[it->i]) || p[it->i] == ' ')) {
            it->i++;
        }
        if (it->i >= n) {
            return false;
        }
        size_t ks = it->i;
        while (it->i < n && key_char(p[it->i])) {
            it->i++;
        }
        /* a ':' ends a key only when it is the last byte before '=' ("a:=" is no key) */
        if (it->i == ks || it->i >= n || p[it->i] != '=' || p[it->i - 1] == ':') {
            skip_token(it);
            continue;
        }
        kv->key = p + ks;
        kv->kl = it->i - ks;
        size_t vs = ++it->i;
        kv->quote = 0;
        if (vs < n && (p[vs] == '"' || p[vs] == '\'')) {
            size_t e = quoted_end(p, n, vs + 1, p[vs]);
            kv->quote = p[vs];
            kv->val = p + vs + 1;
            kv->vl = e - vs - 1;
            it->i = e < n ? e + 1 : n;
            return true;
        }
        while (it->i < n && !is_sep(it, p[it->i])) {
            it->i++;
        }
        kv->val = p + vs;
        kv->vl = it->i - vs;
        return true;
    }
}

size_t vg_kv_count(const char *p, size_t n, char sep, size_t max)
{
    struct vg_kv_iter it;
    struct vg_kv kv;
    size_t k = 0;
    vg_kv_init(&it, p, n, sep);
    while (k < max && vg_kv_next(&it, &kv)) {
        k++;
    }
    return k;
}

bool vg_kv_unescape(struct vg_dctx *c, const char *v, size_t n, const char **out, size_t *on)
{
    if (!memchr(v, '\\', n)) {
        *out = v;
        *on = n;
        return true;
    }
    char *d = vg_arena_alloc(c->ev->arena, n + 1);
    if (!d) {
        c->rc = c->rc ? c->rc : VG_ENOMEM;
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\\' && i + 1 < n &&
            (v[i + 1] == '"' || v[i + 1] == '\\' || v[i + 1] == '\'')) {
            i++;
        }
        d[o++] = v[i];
    }
    d[o] = '\0';
    *out = d;
    *on = o;
    return true;
}

size_t vg_dctx_kv(struct vg_dctx *c, const char *p, size_t n, char sep, const struct vg_kmap *map,
                  bool numeric)
{
    struct vg_kv_iter it;
    struct vg_kv kv;
    size_t k = 0;
    vg_kv_init(&it, p, n, sep);
    while (c->rc == VG_OK && vg_kv_next(&it, &kv)) {
        uint32_t id = vg_field_intern(kv.key, kv.kl);
        const char *v;
        size_t vl;
        if (id == VG_FIELD_NONE || !vg_kv_unescape(c, kv.val, kv.vl, &v, &vl)) {
            continue;
        }
        if (numeric && !kv.quote) {
            vg_dctx_num(c, id, v, vl);
        } else {
            set_rc(c, vg_event_add_str(c->ev, id, v, vl));
        }
        if (map) {
            vg_kmap_apply(c, map, id, v, vl);
        }
        k++;
    }
    return k;
}

/* ---------------------------------------------------------------- key maps */

int vg_kmap_build(struct vg_kmap *m)
{
    uint32_t max = 0;
    uint32_t ids[512];
    if (m->n > VG_ARRAY_LEN(ids)) {
        return VG_ELIMIT;
    }
    for (size_t i = 0; i < m->n; i++) {
        ids[i] = vg_field_intern(m->ents[i].key, strlen(m->ents[i].key));
        if (ids[i] == VG_FIELD_NONE) {
            return VG_ENOMEM;
        }
        max = VG_MAX(max, ids[i]);
    }
    m->by_id = vg_malloc(((size_t)max + 1) * sizeof(*m->by_id));
    m->ids = vg_malloc((m->n ? m->n : 1) * sizeof(*m->ids));
    if (!m->by_id || !m->ids) {
        return VG_ENOMEM; /* process-wide tables: a failed init is reported, not freed */
    }
    memcpy(m->ids, ids, m->n * sizeof(*ids));
    for (uint32_t i = 0; i <= max; i++) {
        m->by_id[i] = -1;
    }
    for (size_t i = 0; i < m->n; i++) {
        m->by_id[ids[i]] = (int16_t)i;
    }
    m->max_id = max;
    return VG_OK;
}

/* The .address field that goes with an .ip field. */
static uint32_t address_of(int ecs)
{
    switch (ecs) {
    case VG_DF_SOURCE_IP:
        return VG_DF(SOURCE_ADDRESS);
    case VG_DF_DEST_IP:
        return VG_DF(DEST_ADDRESS);
    default:
        return VG_FIELD_NONE;
    }
}

void vg_kmap_apply_event(struct vg_dctx *c, const struct vg_kmap *m)
{
    for (size_t i = 0; i < m->n && c->rc == VG_OK; i++) {
        const struct vg_field *f = vg_event_get(c->ev, m->ids[i]);
        if (f && f->v.type != VG_V_NULL && f->v.len) {
            vg_kmap_apply(c, m, m->ids[i], f->v.str, f->v.len);
        }
    }
}

void vg_kmap_apply(struct vg_dctx *c, const struct vg_kmap *m, uint32_t id, const char *v,
                   size_t vl)
{
    if (!m->by_id || id > m->max_id || m->by_id[id] < 0) {
        return;
    }
    const struct vg_kmap_ent *e = &m->ents[m->by_id[id]];
    uint32_t f = e->ecs >= 0 ? vg_decode_fid[e->ecs] : VG_FIELD_NONE;
    switch (e->conv) {
    case VG_KM_IP:
        vg_dctx_ip(c, f, v, vl);
        break;
    case VG_KM_ADDR:
        if (!vg_dctx_ip(c, f, v, vl) && address_of(e->ecs) != VG_FIELD_NONE) {
            vg_dctx_opt(c, address_of(e->ecs), v, vl);
        }
        break;
    case VG_KM_PORT:
        vg_dctx_port(c, f, v, vl);
        break;
    case VG_KM_NUM:
        vg_dctx_num(c, f, v, vl);
        break;
    case VG_KM_PROTO:
        vg_dctx_transport(c, v, vl);
        break;
    case VG_KM_TIME:
        vg_dctx_time(c, v, vl);
        break;
    case VG_KM_EPOCH:
        vg_dctx_epoch(c, v, vl);
        break;
    case VG_KM_PID:
        vg_dctx_pid(c, f, v, vl);
        break;
    default:
        vg_dctx_opt(c, f, v, vl);
    }
}

/* ---------------------------------------------------------------- message patterns */

static int cap_slot(char code)
{
    switch (code) {
    case 'u':
    case 'U':
        return VG_CAP_USER;
    case 't':
        return VG_CAP_TARGET;
    case 'i':
        return VG_CAP_ADDR;
    case 'p':
        return VG_CAP_PORT;
    default:
        return VG_CAP_WORD;
    }
}

static bool pm(const char *q, const char *m, size_t n, size_t i, struct vg_caps *caps);

/* One capture at m[i]: up to a space or the pattern's next literal byte. */
static bool pm_capture(const char *q, const char *m, size_t n, size_t i, struct vg_caps *caps)
{
    char code = q[0], stop = q[1];
    size_t s = i;
    while (i < n && m[i] != ' ' && (stop == '\0' || stop == '%' || stop == ' ' || m[i] != stop) &&
           (code != 'p' || vg_dec_digit(m[i]))) {
        i++;
    }
    if (i == s) {
        return false;
    }
    size_t e = i;
    if (code == 'p') {
        for (size_t k = s; k < e; k++) {
            if (!vg_dec_digit(m[k])) {
                return false;
            }
        }
    }
    int slot = cap_slot(code);
    const char *v = m + s;
    size_t vl = e - s;
    if (vl >= 2 && (v[0] == '\'' || v[0] == '"') && v[vl - 1] == v[0] && slot != VG_CAP_WORD) {
        v++;
        vl -= 2;
    }
    caps->s[slot] = v;
    caps->n[slot] = vl;
    return pm(q + 1, m, n, e, caps);
}

static bool pm(const char *q, const char *m, size_t n, size_t i, struct vg_caps *caps)
{
    static const char *const prefixes[] = {"invalid user ", "illegal user ", "authenticating user ",
                                           "user "};
    for (; *q; q++) {
        if (*q != '%') {
            if (i >= n || m[i] != *q) {
                return false;
            }
            i++;
            continue;
        }
        q++;
        if (*q == '*') {
            /* "%*" skips to the first occurrence of the literal text after it (no
             * backtracking: linear in the message), or matches the rest at the end */
            const char *lit = q + 1;
            size_t ll = strcspn(lit, "%");
            if (ll == 0) {
                return lit[0] == '\0' || pm(lit, m, n, i, caps); /* "%*%x": empty */
            }
            const char *f = memmem(m + i, n - i, lit, ll);
            if (!f) {
                return false;
            }
            i = (size_t)(f - m);
            continue;
        }
        if (*q == 'U') {
            for (size_t k = 0; k < VG_ARRAY_LEN(prefixes); k++) {
                size_t pl = strlen(prefixes[k]);
                if (n - i > pl && !memcmp(m + i, prefixes[k], pl) &&
                    pm_capture(q, m, n, i + pl, caps)) {
                    return true;
                }
            }
        }
        return pm_capture(q, m, n, i, caps);
    }
    return i == n;
}

bool vg_dec_pmatch(const char *pat, const char *m, size_t n, struct vg_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    while (n && (m[n - 1] == ' ' || m[n - 1] == '.')) {
        n--;
    }
    return pm(pat, m, n, 0, caps);
}

const struct vg_dpattern *vg_dec_pmatch_table(const struct vg_dpattern *t, size_t nt, const char *m,
                                              size_t n, struct vg_caps *caps)
{
    for (size_t k = 0; k < nt; k++) {
        /* cheap first-byte filter before the matcher */
        if ((t[k].pat[0] == '%' || (n && t[k].pat[0] == m[0])) &&
            vg_dec_pmatch(t[k].pat, m, n, caps)) {
            return &t[k];
        }
    }
    return NULL;
}

void vg_dctx_pattern(struct vg_dctx *c, const struct vg_dpattern *row, const struct vg_caps *caps)
{
    if (row->category) {
        vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), row->category);
    }
    if (row->type) {
        vg_dctx_lit(c, VG_DF(EVENT_TYPE), row->type);
    }
    if (row->action) {
        vg_dctx_lit(c, VG_DF(EVENT_ACTION), row->action);
    }
    if (row->outcome) {
        vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), row->outcome);
    }
    vg_dctx_str(c, VG_DF(USER_NAME), caps->s[VG_CAP_USER], caps->n[VG_CAP_USER]);
    vg_dctx_str(c, VG_DF(USER_TARGET_NAME), caps->s[VG_CAP_TARGET], caps->n[VG_CAP_TARGET]);
    if (caps->n[VG_CAP_ADDR]) {
        vg_dctx_addr(c, VG_DF(SOURCE_IP), VG_DF(SOURCE_ADDRESS), caps->s[VG_CAP_ADDR],
                     caps->n[VG_CAP_ADDR]);
    }
    vg_dctx_port(c, VG_DF(SOURCE_PORT), caps->s[VG_CAP_PORT], caps->n[VG_CAP_PORT]);
}
