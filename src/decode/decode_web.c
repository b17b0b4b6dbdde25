/*
 * decode_web.c — web server access logs → the field names of Sigma's webserver taxonomy
 * (the W3C extended log names, which IIS writes natively): NCSA common/combined lines
 * (Apache, nginx) and W3C extended lines with their "#Fields:" header.
 */
#include "decode/decode_int.h"

#include <string.h>

static uint32_t F(const char *name)
{
    return vg_field_intern(name, strlen(name));
}

/* Next space-delimited token, or a quoted one ("..." with \" escapes), or a [bracketed]. */
static bool next_token(const char *p, size_t n, size_t *i, const char **tok, size_t *tl)
{
    while (*i < n && p[*i] == ' ') {
        (*i)++;
    }
    if (*i >= n) {
        return false;
    }
    char open = p[*i], close = open == '"' ? '"' : open == '[' ? ']' : ' ';
    size_t s = *i + (close != ' ');
    size_t e = s;
    while (e < n && p[e] != close) {
        e += (p[e] == '\\' && close == '"' && e + 1 < n) ? 2 : 1;
    }
    if (close != ' ' && e >= n) {
        return false; /* unterminated quote or bracket */
    }
    *tok = p + s;
    *tl = e - s;
    *i = e + (close != ' ');
    return true;
}

static int add_unless_dash(struct vg_event *ev, const char *name, const char *v, size_t n)
{
    if (n == 0 || (n == 1 && v[0] == '-')) {
        return VG_OK;
    }
    return vg_event_add_str(ev, F(name), v, n);
}

/* Plain decimal digits without a leading zero: the text is also a valid JSON number. */
static bool decimal(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return false;
        }
    }
    return n > 0 && n < 19 && (v[0] != '0' || n == 1);
}

static int add_num(struct vg_event *ev, const char *name, const char *v, size_t n)
{
    int64_t x;
    if (decimal(v, n) && vg_parse_i64(v, n, &x) == VG_OK) {
        return vg_event_add_int(ev, F(name), x, v, n);
    }
    return add_unless_dash(ev, name, v, n);
}

/* "GET /a/b?x=1 HTTP/1.1" → cs-method, cs-uri, cs-uri-stem, cs-uri-query, cs-version */
static int add_request(struct vg_event *ev, const char *r, size_t n)
{
    size_t i = 0;
    const char *m, *u, *ver;
    size_t ml, ul, vl = 0;
    if (!next_token(r, n, &i, &m, &ml) || !next_token(r, n, &i, &u, &ul)) {
        return add_unless_dash(ev, "cs-uri", r, n); /* malformed request line: keep it */
    }
    next_token(r, n, &i, &ver, &vl);
    int rc;
    if ((rc = vg_event_add_str(ev, F("cs-method"), m, ml)) != VG_OK ||
        (rc = vg_event_add_str(ev, F("cs-uri"), u, ul)) != VG_OK) {
        return rc;
    }
    const char *q = memchr(u, '?', ul);
    size_t sl = q ? (size_t)(q - u) : ul;
    if ((rc = vg_event_add_str(ev, F("cs-uri-stem"), u, sl)) != VG_OK) {
        return rc;
    }
    if (q && (rc = vg_event_add_str(ev, F("cs-uri-query"), q + 1, ul - sl - 1)) != VG_OK) {
        return rc;
    }
    return vl ? vg_event_add_str(ev, F("cs-version"), ver, vl) : VG_OK;
}

static bool looks_like_host(const char *p, size_t n)
{
    if (n == 0 || n > 255) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == ':' || c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

/* [10/Oct/2000:13:55:36 -0700] → timestamp */
static void set_clf_time(struct vg_event *ev, const char *t, size_t n)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (n < 20 || t[2] != '/' || t[6] != '/' || t[11] != ':') {
        return;
    }
    int m = 0;
    for (int k = 0; k < 12; k++) {
        if (!memcmp(t + 3, mon[k], 3)) {
            m = k + 1;
        }
    }
    if (!m) {
        return;
    }
    char iso[40];
    int l = snprintf(iso, sizeof(iso), "%.4s-%02d-%.2sT%.8s", t + 7, m, t, t + 12);
    if (n >= 26 && (t[21] == '+' || t[21] == '-')) {
        l += snprintf(iso + l, sizeof(iso) - (size_t)l, "%.3s:%.2s", t + 21, t + 24);
    }
    vg_time_t ts;
    if (vg_dec_time_parse(iso, (size_t)l, &ts) == VG_OK) {
        ev->ts = ts;
    }
}

int vg_decode_access_log(struct vg_event *ev, const char *p, size_t n)
{
    /* host ident user [time] "request" status bytes ["referer" "user-agent"] */
    size_t i = 0;
    const char *host, *ident, *user, *time, *req, *status, *bytes, *ref = NULL, *ua = NULL;
    size_t hl, il, ulen, tl, rl, sl, bl, refl = 0, ual = 0;
    if (!next_token(p, n, &i, &host, &hl) || !looks_like_host(host, hl) ||
        !next_token(p, n, &i, &ident, &il) || !next_token(p, n, &i, &user, &ulen) || i >= n ||
        p[i] != ' ' || i + 1 >= n || p[i + 1] != '[' || !next_token(p, n, &i, &time, &tl) ||
        i + 1 >= n || p[i + 1] != '"' || !next_token(p, n, &i, &req, &rl) ||
        !next_token(p, n, &i, &status, &sl) || !next_token(p, n, &i, &bytes, &bl)) {
        return VG_DECLINED;
    }
    int64_t code;
    if (sl != 3 || !decimal(status, sl) || vg_parse_i64(status, sl, &code) != VG_OK) {
        return VG_DECLINED;
    }
    if (i + 1 < n && p[i + 1] == '"') {
        next_token(p, n, &i, &ref, &refl);
        if (i + 1 < n && p[i + 1] == '"') {
            next_token(p, n, &i, &ua, &ual);
        }
    }
    ev->kind = VG_EK_WEB;
    set_clf_time(ev, time, tl);
    int rc;
    if ((rc = vg_event_add_str(ev, F("c-ip"), host, hl)) != VG_OK ||
        (rc = add_unless_dash(ev, "cs-username", user, ulen)) != VG_OK ||
        (rc = add_request(ev, req, rl)) != VG_OK ||
        (rc = vg_event_add_int(ev, F("sc-status"), code, status, sl)) != VG_OK ||
        (rc = add_num(ev, "sc-bytes", bytes, bl)) != VG_OK ||
        (ref && (rc = add_unless_dash(ev, "cs-referer", ref, refl)) != VG_OK) ||
        (ua && (rc = add_unless_dash(ev, "cs-user-agent", ua, ual)) != VG_OK)) {
        return rc;
    }
    return VG_OK;
}

uint32_t vg_w3c_fields(const char *p, size_t n, uint32_t *fields, uint32_t max)
{
    size_t i = 8; /* after "#Fields:" */
    uint32_t k = 0;
    const char *t;
    size_t tl;
    while (k < max && i < n && next_token(p, n, &i, &t, &tl)) {
        /* IIS writes cs(User-Agent), cs(Referer); Sigma's taxonomy says cs-user-agent,
         * cs-referer */
        char name[64];
        size_t o = 0;
        for (size_t j = 0; j < tl && o + 1 < sizeof(name); j++) {
            char c = t[j];
            if (c == '(') {
                c = '-';
            } else if (c == ')') {
                continue;
            }
            name[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        fields[k++] = vg_field_intern(name, o);
    }
    return k;
}

int vg_decode_w3c(struct vg_event *ev, const char *p, size_t n, const uint32_t *fields,
                  uint32_t nfields)
{
    size_t i = 0;
    const char *t;
    size_t tl;
    const char *date = NULL, *time = NULL;
    size_t dl = 0, tml = 0;
    uint32_t fdate = vg_field_intern("date", 4), ftime = vg_field_intern("time", 4);
    uint32_t fua = vg_field_intern("cs-user-agent", 13);
    ev->kind = VG_EK_WEB;
    for (uint32_t k = 0; k < nfields && next_token(p, n, &i, &t, &tl); k++) {
        if (tl == 1 && t[0] == '-') {
            continue;
        }
        int rc;
        if (fields[k] == fua && memchr(t, '+', tl)) {
            char *c = vg_arena_strndup(ev->arena, t, tl);
            if (!c) {
                return VG_ENOMEM;
            }
            for (size_t j = 0; j < tl; j++) {
                c[j] = c[j] == '+' ? ' ' : c[j];
            }
            rc = vg_event_add_str(ev, fields[k], c, tl);
        } else {
            int64_t x;
            /* leading zeros stay text: "007" written as a JSON number is not JSON */
            bool num = decimal(t, tl) && vg_parse_i64(t, tl, &x) == VG_OK;
            rc = num ? vg_event_add_int(ev, fields[k], x, t, tl)
                     : vg_event_add_str(ev, fields[k], t, tl);
        }
        if (rc != VG_OK) {
            return rc;
        }
        if (fields[k] == fdate) {
            date = t;
            dl = tl;
        } else if (fields[k] == ftime) {
            time = t;
            tml = tl;
        }
    }
    /* the whole request URI, as NCSA logs give it */
    size_t sl, ql;
    const char *stem = vg_event_get_str(ev, "cs-uri-stem", &sl);
    const char *query = vg_event_get_str(ev, "cs-uri-query", &ql);
    if (stem && !vg_event_get_str(ev, "cs-uri", NULL)) {
        char *u = vg_arena_alloc(ev->arena, sl + (query ? ql + 1 : 0) + 1);
        if (!u) {
            return VG_ENOMEM;
        }
        memcpy(u, stem, sl);
        size_t ul = sl;
        if (query) {
            u[ul++] = '?';
            memcpy(u + ul, query, ql);
            ul += ql;
        }
        int rc = vg_event_add_str(ev, F("cs-uri"), u, ul);
        if (rc != VG_OK) {
            return rc;
        }
    }
    if (date && time && dl == 10 && tml >= 8) {
        char iso[40];
        int l = snprintf(iso, sizeof(iso), "%.10sT%.*sZ", date, (int)VG_MIN(tml, 15), time);
        vg_time_t ts;
        if (vg_dec_time_parse(iso, (size_t)l, &ts) == VG_OK) {
            ev->ts = ts;
        }
    }
    return VG_OK;
}
