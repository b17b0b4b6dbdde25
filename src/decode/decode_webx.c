/*
 * decode_webx.c — web and proxy logs for the chain: NCSA access logs (Apache/nginx common,
 * combined, vhost_combined, with X-Forwarded-For columns), Apache and nginx error logs, IIS
 * W3C logs (with their #Fields header, or IIS's default column sets when the header is not
 * there) and Squid's native access log.
 *
 * Access logs keep the Sigma webserver taxonomy's W3C names (c-ip, cs-method, cs-uri-query,
 * sc-status, ... as decode_web.c writes them) and add ECS (source.ip, url.*, http.*,
 * user_agent.original); Squid uses the proxy taxonomy's names (c-ip, c-uri, cs-method, ...).
 */
#include "decode/decode_int.h"

static struct vg_kmap map_web;

static const struct vg_kmap_ent web_keys[] = {
    {"c-ip", VG_DF_SOURCE_IP, VG_KM_ADDR},          {"cs-username", VG_DF_USER_NAME, VG_KM_STR},
    {"cs-method", VG_DF_HTTP_METHOD, VG_KM_STR},    {"cs-uri", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"c-uri", VG_DF_URL_ORIGINAL, VG_KM_STR},       {"cs-uri-stem", VG_DF_URL_PATH, VG_KM_STR},
    {"cs-uri-query", VG_DF_URL_QUERY, VG_KM_STR},   {"cs-version", VG_DF_HTTP_VERSION, VG_KM_STR},
    {"sc-status", VG_DF_HTTP_STATUS, VG_KM_NUM},    {"sc-bytes", VG_DF_HTTP_RESP_BYTES, VG_KM_NUM},
    {"cs-referer", VG_DF_HTTP_REFERRER, VG_KM_STR}, {"cs-user-agent", VG_DF_USER_AGENT, VG_KM_STR},
    {"cs-host", VG_DF_URL_DOMAIN, VG_KM_STR},       {"s-ip", VG_DF_DEST_IP, VG_KM_IP},
    {"s-port", VG_DF_DEST_PORT, VG_KM_PORT},
};

/* IIS default column sets as field ids (filled once by vg_decode_kmaps_web_init). */
static uint32_t ids7[64], ids85[64], ids6[64], n7, n85, n6;
static uint32_t default_fields(const char *const *names, size_t n, uint32_t *ids);
static const char *const iis7[], *const iis85[], *const iis6[];

int vg_decode_kmaps_web_init(void)
{
    map_web.ents = web_keys;
    map_web.n = VG_ARRAY_LEN(web_keys);
    n7 = default_fields(iis7, 14, ids7);
    n85 = default_fields(iis85, 15, ids85);
    n6 = default_fields(iis6, 22, ids6);
    return n7 && n85 && n6 ? vg_kmap_build(&map_web) : VG_ENOMEM;
}

static void web_ecs(struct vg_dctx *c)
{
    vg_kmap_apply_event(c, &map_web);
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "web");
    size_t sl;
    const char *st = vg_event_get_str(c->ev, "sc-status", &sl);
    if (st && sl == 3) {
        vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), st[0] < '4' ? "success" : "failure");
    }
}

/* ---------------------------------------------------------------- NCSA access logs */

/* Quoted ("..." with \" escapes) or [bracketed] or bare token at p[*i]. */
static bool tok(const char *p, size_t n, size_t *i, const char **t, size_t *tl)
{
    while (*i < n && p[*i] == ' ') {
        (*i)++;
    }
    if (*i >= n) {
        return false;
    }
    char close = p[*i] == '"' ? '"' : p[*i] == '[' ? ']' : ' ';
    size_t s = *i + (close != ' '), e = s;
    while (e < n && p[e] != close) {
        e += (p[e] == '\\' && close == '"' && e + 1 < n) ? 2 : 1;
    }
    if (close != ' ' && e >= n) {
        return false;
    }
    *t = p + s;
    *tl = e - s;
    *i = e + (close != ' ');
    return true;
}

/* [10/Oct/2000:13:55:36 -0700] → ev->ts */
static void clf_time(struct vg_dctx *c, const char *t, size_t n)
{
    uint64_t d, y;
    int mo;
    size_t k = t[1] == '/' ? 1 : 2; /* "1/Apr/2014" has a one-digit day */
    if (n < k + 18 || t[k] != '/' || !(mo = vg_decode_month(t + k + 1)) || t[k + 4] != '/' ||
        !vg_dec_uint(t, k, &d) || !vg_dec_uint(t + k + 5, 4, &y)) {
        return;
    }
    const char *hms = t + k + 10;
    uint64_t hh, mm, ss;
    if (t[k + 9] != ':' || !vg_dec_uint(hms, 2, &hh) || !vg_dec_uint(hms + 3, 2, &mm) ||
        !vg_dec_uint(hms + 6, 2, &ss)) {
        return;
    }
    int64_t secs = vg_decode_epoch((int)y, mo, (int)d, (int)hh, (int)mm, (int)ss);
    const char *z = hms + 8;
    uint64_t zh, zm;
    if ((size_t)(z - t) + 6 <= n && z[0] == ' ' && (z[1] == '+' || z[1] == '-') &&
        vg_dec_uint(z + 2, 2, &zh) && vg_dec_uint(z + 4, 2, &zm)) {
        int64_t off = (int64_t)(zh * 3600 + zm * 60);
        secs += z[1] == '+' ? -off : off;
    }
    c->ev->ts = vg_decode_ns(secs, 0);
}

static void add_request(struct vg_dctx *c, const char *r, size_t n)
{
    size_t i = 0;
    const char *m, *u, *v = NULL;
    size_t ml, ul, vl = 0;
    if (!tok(r, n, &i, &m, &ml) || !tok(r, n, &i, &u, &ul)) {
        vg_dctx_opt(c, vg_field_intern("cs-uri", 6), r, n);
        return;
    }
    tok(r, n, &i, &v, &vl);
    vg_dctx_named(c, "cs-method", 9, m, ml);
    vg_dctx_named(c, "cs-uri", 6, u, ul);
    const char *q = memchr(u, '?', ul);
    size_t sl = q ? (size_t)(q - u) : ul;
    vg_dctx_named(c, "cs-uri-stem", 11, u, sl);
    if (q) {
        vg_dctx_named(c, "cs-uri-query", 12, q + 1, ul - sl - 1);
    }
    if (vl) {
        vg_dctx_named(c, "cs-version", 10, v, vl);
    }
}

static bool host_chars(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '.' || ch == ':' || ch == '-' || ch == '_')) {
            return false;
        }
    }
    return n > 0 && n < 256;
}

/* Up to 5 tokens before "[time]": host [xff...] ident user, or vhost:port host ident user. */
struct ncsa {
    const char *pre[5];
    size_t prel[5];
    size_t npre;
    const char *time, *req, *status, *bytes, *ref, *ua;
    size_t tl, rl, sl, bl, refl, ual;
};

static bool ncsa_parse(const char *p, size_t n, struct ncsa *a)
{
    size_t i = 0;
    memset(a, 0, sizeof(*a));
    while (a->npre < 5 && i < n) {
        while (i < n && p[i] == ' ') {
            i++;
        }
        if (i < n && p[i] == '[') {
            break;
        }
        if (!tok(p, n, &i, &a->pre[a->npre], &a->prel[a->npre]) ||
            !host_chars(a->pre[a->npre], a->prel[a->npre])) {
            return false;
        }
        a->npre++;
    }
    if (a->npre < 3 || i >= n || p[i] != '[' || !tok(p, n, &i, &a->time, &a->tl) || i + 1 >= n ||
        p[i + 1] != '"' || !tok(p, n, &i, &a->req, &a->rl) || !tok(p, n, &i, &a->status, &a->sl) ||
        a->sl != 3 || !vg_dec_digit(a->status[0]) || !tok(p, n, &i, &a->bytes, &a->bl)) {
        return false;
    }
    if (i + 1 < n && p[i + 1] == '"' && tok(p, n, &i, &a->ref, &a->refl)) {
        while (i < n && p[i] == ' ') {
            i++;
        }
        if (i < n && p[i] == '"') {
            tok(p, n, &i, &a->ua, &a->ual);
        }
    }
    return true;
}

int vg_dec_web_access(struct vg_dctx *c)
{
    struct ncsa a;
    if (c->mlen < 30 || !memchr(c->msg, '[', VG_MIN(c->mlen, 300)) ||
        !ncsa_parse(c->msg, c->mlen, &a)) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_WEB);
    size_t h = 0;
    if (!vg_dec_is_ip(a.pre[0], a.prel[0]) && memchr(a.pre[0], ':', a.prel[0]) && a.npre >= 4) {
        vg_dctx_named(c, "cs-host", 7, a.pre[0],
                      (size_t)((const char *)memchr(a.pre[0], ':', a.prel[0]) - a.pre[0]));
        h = 1; /* vhost_combined: "www.example.com:80 1.2.3.4 - - [...]" */
    }
    vg_dctx_named(c, "c-ip", 4, a.pre[h], a.prel[h]);
    if (a.npre - h >= 4 && vg_dec_is_ip(a.pre[h + 1], a.prel[h + 1])) {
        vg_dctx_named(c, "x-forwarded-for", 15, a.pre[h + 1], a.prel[h + 1]);
    }
    const char *user = a.pre[a.npre - 1];
    size_t ul = a.prel[a.npre - 1];
    if (!(ul == 1 && user[0] == '-')) {
        vg_dctx_named(c, "cs-username", 11, user, ul);
    }
    clf_time(c, a.time, a.tl);
    add_request(c, a.req, a.rl);
    vg_dctx_num(c, vg_field_intern("sc-status", 9), a.status, a.sl);
    if (!(a.bl == 1 && a.bytes[0] == '-')) {
        vg_dctx_num(c, vg_field_intern("sc-bytes", 8), a.bytes, a.bl);
    }
    if (a.refl && !(a.refl == 1 && a.ref[0] == '-')) {
        vg_dctx_named(c, "cs-referer", 10, a.ref, a.refl);
    }
    if (a.ual && !(a.ual == 1 && a.ua[0] == '-')) {
        vg_dctx_named(c, "cs-user-agent", 13, a.ua, a.ual);
    }
    web_ecs(c);
    return c->rc;
}

/* ---------------------------------------------------------------- Apache error log */

static bool is_level(const char *p, size_t n)
{
    static const char *const levels[] = {"emerg",  "alert",  "crit",   "error",  "warn",   "notice",
                                         "info",   "debug",  "trace1", "trace2", "trace3", "trace4",
                                         "trace5", "trace6", "trace7", "trace8"};
    for (size_t i = 0; i < VG_ARRAY_LEN(levels); i++) {
        if (vg_dec_eq(p, n, levels[i])) {
            return true;
        }
    }
    return false;
}

/* "[Wed Oct 11 14:32:52.123456 2000]" → ev->ts */
static bool apache_time(struct vg_dctx *c, const char *t, size_t n)
{
    if (n < 24 || t[3] != ' ' || t[7] != ' ' || !vg_decode_month(t + 4)) {
        return false;
    }
    vg_time_t ts;
    size_t used;
    char buf[40];
    const char *year = t + n - 4;
    /* rebuild as "Mmm dd yyyy hh:mm:ss" for the BSD parser (fraction dropped) */
    int l = snprintf(buf, sizeof(buf), "%.3s %.2s %.4s %.8s", t + 4, t + 8, year, t + 11);
    if (l > 0 && vg_decode_bsd_time(buf, (size_t)l, c->year, &ts, &used) && ts != VG_TIME_NONE) {
        int64_t frac = 0, scale = 100000000;
        for (size_t i = 20; i < n && t[i] != ' ' && t[19] == '.'; i++) {
            frac += vg_dec_digit(t[i]) ? (t[i] - '0') * scale : 0;
            scale /= 10;
        }
        c->ev->ts = ts + frac;
    }
    return true;
}

/* Bracketed "[name "value"]" items ModSecurity appends: id, msg, uri, hostname, ... */
static void modsec_items(struct vg_dctx *c, const char *m, size_t n)
{
    static const struct {
        const char *key;
        int ecs;
    } items[] = {{"[id \"", VG_DF_RULE_ID},
                 {"[msg \"", VG_DF_RULE_NAME},
                 {"[uri \"", VG_DF_URL_PATH},
                 {"[hostname \"", VG_DF_URL_DOMAIN}};
    for (size_t k = 0; k < VG_ARRAY_LEN(items); k++) {
        size_t at = vg_dec_find(m, n, items[k].key), kl = strlen(items[k].key);
        if (at >= n) {
            continue;
        }
        size_t s = at + kl, e = s;
        while (e < n && m[e] != '"') {
            e++;
        }
        vg_dctx_str(c, vg_decode_fid[items[k].ecs], m + s, e - s);
    }
}

int vg_dec_apache_error(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = c->mlen, i = 0;
    const char *g[5];
    size_t gl[5], k = 0;
    if (n < 8 || m[0] != '[') {
        return VG_DECLINED;
    }
    while (k < 5 && i < n && m[i] == '[') {
        size_t e = i + 1;
        while (e < n && m[e] != ']') {
            e++;
        }
        if (e >= n) {
            break;
        }
        g[k] = m + i + 1;
        gl[k++] = e - i - 1;
        i = e + 1;
        while (i < n && m[i] == ' ') {
            i++;
        }
    }
    size_t lv = k > 0 && gl[0] >= 24 && vg_decode_month(g[0] + 4) ? 1 : 0;
    const char *level = lv < k ? g[lv] : NULL;
    size_t ll = lv < k ? gl[lv] : 0;
    const char *colon = level ? memchr(level, ':', ll) : NULL;
    if (colon) {
        ll -= (size_t)(colon + 1 - level);
        level = colon + 1;
    }
    if (!level || !is_level(level, ll)) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_WEB);
    if (lv) {
        apache_time(c, g[0], gl[0]);
    }
    vg_dctx_str(c, VG_DF(LOG_LEVEL), level, ll);
    vg_dctx_named(c, "loglevel", 8, level, ll);
    if (colon) {
        vg_dctx_named(c, "module", 6, g[lv], (size_t)(colon - g[lv]));
    }
    for (size_t j = lv + 1; j < k; j++) {
        if (vg_dec_starts(g[j], gl[j], "pid ")) {
            size_t pe = 4;
            while (pe < gl[j] && vg_dec_digit(g[j][pe])) {
                pe++;
            }
            vg_dctx_num(c, VG_DF(PROCESS_PID), g[j] + 4, pe - 4);
        } else if (vg_dec_starts(g[j], gl[j], "client ")) {
            const char *a = g[j] + 7;
            size_t al = gl[j] - 7;
            vg_dctx_named(c, "client", 6, a, al);
            const char *pc = al && !vg_dec_is_ip(a, al) ? memrchr(a, ':', al) : NULL;
            vg_dctx_ip(c, VG_DF(SOURCE_IP), a, pc ? (size_t)(pc - a) : al);
            if (pc) {
                vg_dctx_port(c, VG_DF(SOURCE_PORT), pc + 1, (size_t)(a + al - pc - 1));
            }
        }
    }
    if (!c->has_hdr) {
        vg_dctx_str(c, VG_DF(MESSAGE), m + i, n - i);
    }
    if (n - i > 7 && m[i] == 'A' && m[i + 1] == 'H' && vg_dec_digit(m[i + 2])) {
        vg_dctx_str(c, VG_DF(EVENT_CODE), m + i, 7);
    }
    modsec_items(c, m + i, n - i);
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "web");
    return c->rc;
}

/* ---------------------------------------------------------------- nginx error log */

/* ", client: 1.2.3.4, server: x, request: "GET / HTTP/1.1", host: "h"" tail */
static void nginx_tail(struct vg_dctx *c, const char *m, size_t n)
{
    static const struct {
        const char *key;
        const char *native;
    } keys[] = {{", client: ", "client"},     {", server: ", "server"},
                {", request: \"", "request"}, {", upstream: \"", "upstream"},
                {", host: \"", "host"},       {", referrer: \"", "referrer"}};
    for (size_t k = 0; k < VG_ARRAY_LEN(keys); k++) {
        size_t kl = strlen(keys[k].key), at = vg_dec_find(m, n, keys[k].key);
        if (at >= n) {
            continue;
        }
        size_t s = at + kl, e = s;
        char end = keys[k].key[kl - 1] == '"' ? '"' : ',';
        while (e < n && m[e] != end) {
            e++;
        }
        vg_dctx_named(c, keys[k].native, strlen(keys[k].native), m + s, e - s);
        if (k == 0) {
            vg_dctx_ip(c, VG_DF(SOURCE_IP), m + s, e - s);
        } else if (k == 2) {
            add_request(c, m + s, e - s);
        } else if (k == 4) {
            vg_dctx_str(c, VG_DF(URL_DOMAIN), m + s, e - s);
        }
    }
}

int vg_dec_nginx_error(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = c->mlen;
    if (n < 22 || m[4] != '/' || m[7] != '/' || m[10] != ' ' || m[13] != ':' || m[19] != ' ' ||
        m[20] != '[' || !vg_dec_digit(m[0])) {
        return VG_DECLINED;
    }
    size_t le = 21;
    while (le < n && le < 40 && m[le] != ']') {
        le++;
    }
    if (le >= n || m[le] != ']') {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_WEB);
    char iso[20];
    memcpy(iso, m, 19);
    iso[4] = iso[7] = '-';
    vg_dctx_time(c, iso, 19);
    vg_dctx_str(c, VG_DF(LOG_LEVEL), m + 21, le - 21);
    vg_dctx_named(c, "loglevel", 8, m + 21, le - 21);
    size_t i = le + 1;
    while (i < n && m[i] == ' ') {
        i++;
    }
    size_t ps = i;
    while (i < n && vg_dec_digit(m[i])) {
        i++;
    }
    if (i > ps && i < n && (m[i] == '#' || m[i] == ':')) {
        vg_dctx_num(c, VG_DF(PROCESS_PID), m + ps, i - ps);
        while (i < n && m[i] != ' ') {
            i++;
        }
        while (i < n && m[i] == ' ') {
            i++;
        }
    } else {
        i = ps;
    }
    if (!c->has_hdr) {
        vg_dctx_str(c, VG_DF(MESSAGE), m + i, n - i);
    }
    nginx_tail(c, m + i, n - i);
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "web");
    return c->rc;
}

/* ---------------------------------------------------------------- IIS W3C */

static const char *const iis7[] = {"date",
                                   "time",
                                   "s-ip",
                                   "cs-method",
                                   "cs-uri-stem",
                                   "cs-uri-query",
                                   "s-port",
                                   "cs-username",
                                   "c-ip",
                                   "cs(User-Agent)",
                                   "sc-status",
                                   "sc-substatus",
                                   "sc-win32-status",
                                   "time-taken"};
static const char *const iis85[] = {"date",         "time",
                                    "s-ip",         "cs-method",
                                    "cs-uri-stem",  "cs-uri-query",
                                    "s-port",       "cs-username",
                                    "c-ip",         "cs(User-Agent)",
                                    "cs(Referer)",  "sc-status",
                                    "sc-substatus", "sc-win32-status",
                                    "time-taken"};
static const char *const iis6[] = {
    "date",      "time",        "s-sitename",     "s-computername",  "s-ip",
    "cs-method", "cs-uri-stem", "cs-uri-query",   "s-port",          "cs-username",
    "c-ip",      "cs-version",  "cs(User-Agent)", "cs(Cookie)",      "cs(Referer)",
    "cs-host",   "sc-status",   "sc-substatus",   "sc-win32-status", "sc-bytes",
    "cs-bytes",  "time-taken"};

static size_t count_tokens(const char *p, size_t n)
{
    size_t k = 0, i = 0;
    const char *w;
    size_t wl;
    while (vg_dec_word(p, n, &i, &w, &wl)) {
        k++;
    }
    return k;
}

/* Field ids of a default column set, interned the way "#Fields:" lines are. */
static uint32_t default_fields(const char *const *names, size_t n, uint32_t *ids)
{
    struct vg_sbuf line = VG_SBUF_INIT;
    vg_sbuf_adds(&line, "#Fields:");
    for (size_t i = 0; i < n; i++) {
        vg_sbuf_addc(&line, ' ');
        vg_sbuf_adds(&line, names[i]);
    }
    uint32_t k = line.err ? 0 : vg_w3c_fields(line.p, line.len, ids, 64);
    vg_sbuf_fini(&line);
    return k;
}

static bool http_method(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 'A' || p[i] > 'Z') {
            return false;
        }
    }
    return n >= 3 && n <= 10;
}

int vg_dec_iis(struct vg_dctx *c)
{
    struct vg_w3c_state *w = vg_decoder_w3c(c->dec);
    const char *p = c->rec;
    size_t n = c->len;
    if (p[0] == '#') {
        if (vg_dec_starts(p, n, "#Fields:")) {
            w->n = vg_w3c_fields(p, n, w->fields, VG_ARRAY_LEN(w->fields));
            return VG_AGAIN;
        }
        bool directive = vg_dec_starts(p, n, "#Software:") || vg_dec_starts(p, n, "#Version:") ||
                         vg_dec_starts(p, n, "#Date:") || vg_dec_starts(p, n, "#Remark:");
        return directive ? VG_AGAIN : VG_DECLINED;
    }
    if (n < 30 || p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' ||
        !vg_dec_digit(p[0])) {
        return VG_DECLINED;
    }
    size_t k = count_tokens(p, n);
    uint32_t ids[64], nids = 0;
    if (w->n && w->n == k) {
        memcpy(ids, w->fields, w->n * sizeof(*ids));
        nids = w->n;
    } else {
        const uint32_t *set = k == 14 ? ids7 : k == 15 ? ids85 : k == 22 ? ids6 : NULL;
        size_t mpos = k == 22 ? 5 : 3, i = 0, wl = 0;
        const char *word = NULL;
        for (size_t t = 0; set && t <= mpos; t++) {
            vg_dec_word(p, n, &i, &word, &wl);
        }
        if (!set || !http_method(word, wl)) {
            return VG_DECLINED;
        }
        nids = k == 14 ? n7 : k == 15 ? n85 : n6;
        memcpy(ids, set, nids * sizeof(*ids));
    }
    vg_dctx_claim(c, VG_EK_WEB);
    if (c->rc == VG_OK) {
        c->rc = vg_decode_w3c(c->ev, p, n, ids, nids);
    }
    web_ecs(c);
    return c->rc;
}

/* ---------------------------------------------------------------- Squid */

int vg_dec_squid(struct vg_dctx *c)
{
    static const char *const cols[] = {NULL,
                                       "time-taken",
                                       "c-ip",
                                       NULL,
                                       "sc-bytes",
                                       "cs-method",
                                       "c-uri",
                                       "cs-username",
                                       "x-squid-hierarchy",
                                       "rs-content-type"};
    const char *p = c->msg, *w[10];
    size_t n = c->mlen, i = 0, wl[10], k = 0;
    if (n < 30 || !vg_dec_digit(p[0]) || p[10] != '.') {
        return VG_DECLINED;
    }
    while (k < 10 && vg_dec_word(p, n, &i, &w[k], &wl[k])) {
        k++;
    }
    const char *slash = k >= 5 ? memchr(w[3], '/', wl[3]) : NULL;
    if (k < 7 || !slash || !vg_dec_is_ip(w[2], wl[2])) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_epoch(c, w[0], wl[0]);
    for (size_t j = 0; j < k; j++) {
        if (cols[j] && !(wl[j] == 1 && w[j][0] == '-')) {
            vg_dctx_named(c, cols[j], strlen(cols[j]), w[j], wl[j]);
        }
    }
    vg_dctx_named(c, "x-squid-result", 14, w[3], (size_t)(slash - w[3]));
    vg_dctx_num(c, vg_field_intern("sc-status", 9), slash + 1, (size_t)(w[3] + wl[3] - slash - 1));
    vg_kmap_apply_event(c, &map_web);
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "web");
    return c->rc;
}
