/*
 * intel_wl.c — MISP warninglists: the list.json loader and the lookup structures behind
 * vg_intel_wl_match(). Sits under the intel store: importers flag indicators that hit a
 * warninglist, and the matcher can drop hits on warninglisted values.
 *
 * Structures (built once by vg_intel_wl_build(), read-only afterwards):
 *   - string and hostname entries: two open-addressing hash sets of lowercased entries (a
 *     slot holds a 32-bit hash tag and the entry index); hostnames are looked up for the value
 *     and each of its label suffixes;
 *   - cidr entries: the address line cut into disjoint segments at every prefix boundary,
 *     each segment carrying the set of lists covering it (IPv4 with 32-bit keys, IPv6 with
 *     128-bit keys), found by binary search;
 *   - substring entries: one case-folded Aho-Corasick DFA over a reduced byte alphabet;
 *   - regex entries: one PCRE2 code per entry, JIT-compiled.
 * Each list carries a bit mask of the value kinds (hints) its matching_attributes cover; a
 * structure whose lists do not cover the hint is not consulted at all.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "intel/intel_wl.h"

#include "core/core.h"
#include "event/event.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef unsigned __int128 u128;

#define WL_MAX_ENTRY 1024u /* longest string/hostname/substring entry kept */
#define WL_MAX_LISTS 65535u
#define WL_MAX_FILE  (256u << 20)
#define WL_HASH_SEED 0x9e3779b97f4a7c15ULL
#define WL_HINTS_ALL ((1u << VG_INTEL_WL_HINT_COUNT) - 1u)

struct wl_list {
    char *name;
    char *key;
    char *file;
    char *first_err;
    uint8_t type;
    uint32_t hints;
    uint32_t entries;
    uint32_t skipped;
};

struct wl_str {
    const char *s;
    uint32_t len;
    uint32_t list;
};

/* Hash set of lowercased strings; slots are (hash >> 32) << 32 | (index + 1), 0 = empty. */
struct wl_hset {
    struct wl_str *ents;
    uint32_t n, cap;
    uint64_t *slots;
    uint64_t mask;
    uint32_t hints;
    uint32_t maxlen;
};

struct wl_pfx {
    u128 lo, hi;
    uint32_t list;
    uint8_t v6;
};

/* Disjoint segments: starts[i] (sorted, starts[0] = 0) up to the next start; set i is
 * pool[off[i]] = count followed by that many list ids. */
struct wl_segs {
    uint32_t *starts4;
    u128 *starts6;
    uint32_t *off;
    uint32_t n;
};

struct wl_ac {
    uint8_t cls[256];
    uint32_t ncls;
    uint32_t nstates;
    uint32_t *delta;    /* nstates * ncls */
    int32_t *out_first; /* per state: first pattern ending here, -1 */
    uint32_t *out_link; /* per state: nearest fail-chain state with output, 0 = none */
    int32_t *pat_next;  /* per pattern: next pattern ending at the same state */
    uint32_t hints;
};

struct wl_re {
    pcre2_code *code;
    uint32_t list;
};

struct vg_intel_wl {
    struct vg_arena *arena;
    struct wl_list *lists;
    uint32_t nlists, caplists;
    struct wl_hset strs, hosts;
    struct wl_str *subs;
    uint32_t nsubs, capsubs;
    struct wl_pfx *pfx;
    uint32_t npfx, cappfx;
    struct wl_re *re;
    uint32_t nre, capre;
    struct wl_segs seg4, seg6;
    uint32_t *pool;
    uint32_t npool, cappool;
    struct wl_ac ac;
    uint32_t cidr_hints, re_hints;
    int built;
    size_t bytes;
};

/* ---------------------------------------------------------------- helpers */

static void wl_err(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void wl_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    if (!err || errsz == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static int wl_grow(void **p, uint32_t *cap, uint32_t need, size_t elsz)
{
    uint32_t nc;
    void *np;
    if (need <= *cap) {
        return 0;
    }
    nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > UINT32_MAX / 2) {
            return VG_ELIMIT;
        }
        nc *= 2;
    }
    np = vg_realloc(*p, (size_t)nc * elsz);
    if (!np) {
        return VG_ENOMEM;
    }
    *p = np;
    *cap = nc;
    return 0;
}

static inline unsigned char wl_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static void wl_lower_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[i] = (char)wl_lower((unsigned char)src[i]);
    }
}

/* Map one MISP attribute type to a hint bit (0 if unknown → OTHER). */
static uint32_t wl_attr_hint(const char *s, size_t n)
{
    static const struct {
        const char *name;
        enum vg_intel_wl_hint h;
    } map[] = {
        {"ip-src", VG_INTEL_WL_HINT_IP},
        {"ip-dst", VG_INTEL_WL_HINT_IP},
        {"ip-src|port", VG_INTEL_WL_HINT_IP},
        {"ip-dst|port", VG_INTEL_WL_HINT_IP},
        {"domain", VG_INTEL_WL_HINT_DOMAIN},
        {"hostname", VG_INTEL_WL_HINT_DOMAIN},
        {"hostname|port", VG_INTEL_WL_HINT_DOMAIN},
        {"url", VG_INTEL_WL_HINT_URL},
        {"uri", VG_INTEL_WL_HINT_URL},
        {"link", VG_INTEL_WL_HINT_URL},
        {"email", VG_INTEL_WL_HINT_EMAIL},
        {"email-src", VG_INTEL_WL_HINT_EMAIL},
        {"email-dst", VG_INTEL_WL_HINT_EMAIL},
        {"target-email", VG_INTEL_WL_HINT_EMAIL},
        {"whois-registrant-email", VG_INTEL_WL_HINT_EMAIL},
        {"dns-soa-email", VG_INTEL_WL_HINT_EMAIL},
        {"ssdeep", VG_INTEL_WL_HINT_HASH},
        {"phone-number", VG_INTEL_WL_HINT_PHONE},
        {"whois-registrant-phone", VG_INTEL_WL_HINT_PHONE},
    };
    if (n == 9 && memcmp(s, "domain|ip", 9) == 0) {
        return (1u << VG_INTEL_WL_HINT_IP) | (1u << VG_INTEL_WL_HINT_DOMAIN);
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strlen(map[i].name) == n && memcmp(map[i].name, s, n) == 0) {
            return 1u << map[i].h;
        }
    }
    if ((n >= 3 && memcmp(s, "md5", 3) == 0) || (n >= 3 && memcmp(s, "sha", 3) == 0) ||
        (n >= 9 && memcmp(s, "filename|", 9) == 0) ||
        (n >= 17 && memcmp(s, "x509-fingerprint-", 17) == 0)) {
        return 1u << VG_INTEL_WL_HINT_HASH;
    }
    return 1u << VG_INTEL_WL_HINT_OTHER;
}

/* ---------------------------------------------------------------- CIDR parsing */

/* Parse "ADDR" or "ADDR/LEN" (surrounding blanks allowed) into a masked range. */
static int wl_parse_cidr(const char *s, size_t n, struct wl_pfx *out)
{
    char buf[64];
    unsigned char a[16];
    size_t alen = n;
    long plen = -1;
    const char *slash;
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        n--;
    }
    slash = memchr(s, '/', n);
    alen = slash ? (size_t)(slash - s) : n;
    if (alen == 0 || alen >= sizeof(buf)) {
        return VG_EINVAL;
    }
    if (slash) {
        size_t dl = n - alen - 1;
        if (dl == 0 || dl > 3) {
            return VG_EINVAL;
        }
        plen = 0;
        for (size_t i = 0; i < dl; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9') {
                return VG_EINVAL;
            }
            plen = plen * 10 + (slash[1 + i] - '0');
        }
    }
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, buf, a) == 1) {
        u128 v = ((u128)a[0] << 24) | ((u128)a[1] << 16) | ((u128)a[2] << 8) | a[3];
        if (plen < 0) {
            plen = 32;
        }
        if (plen > 32) {
            return VG_EINVAL;
        }
        u128 span = ((u128)1 << (32 - plen)) - 1;
        out->lo = v & ~span & 0xffffffffu;
        out->hi = out->lo | span;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, a) != 1) {
        return VG_EINVAL;
    }
    if (plen < 0) {
        plen = 128;
    }
    if (plen > 128) {
        return VG_EINVAL;
    }
    u128 v = 0;
    for (int i = 0; i < 16; i++) {
        v = (v << 8) | a[i];
    }
    /* IPv4-mapped (::ffff:a.b.c.d) is looked up as IPv4 */
    if (plen >= 96 && (v >> 32) == 0xffffu) {
        char b4[24];
        snprintf(b4, sizeof(b4), "%u.%u.%u.%u/%ld", a[12], a[13], a[14], a[15], plen - 96);
        return wl_parse_cidr(b4, strlen(b4), out);
    }
    u128 span = plen == 0 ? ~(u128)0 : (((u128)1 << (128 - plen)) - 1);
    out->lo = v & ~span;
    out->hi = out->lo | span;
    out->v6 = 1;
    return 0;
}

/* ---------------------------------------------------------------- loading */

static void wl_skip(struct vg_intel_wl *wl, struct wl_list *l, uint32_t idx, const char *why)
{
    l->skipped++;
    if (!l->first_err) {
        l->first_err = vg_arena_printf(wl->arena, "%s: list[%u]: %s", l->file, idx, why);
        VG_WARN("intel", "warninglist %s (%u skipped so far)", l->first_err ? l->first_err : why,
                l->skipped);
    }
}

static int wl_add_str(struct vg_intel_wl *wl, struct wl_str **arr, uint32_t *n, uint32_t *cap,
                      uint32_t list, const char *s, size_t len)
{
    char *c = vg_arena_strndup(wl->arena, s, len);
    int rc;
    if (!c) {
        return VG_ENOMEM;
    }
    wl_lower_copy(c, s, len);
    rc = wl_grow((void **)arr, cap, *n + 1, sizeof(**arr));
    if (rc) {
        return rc;
    }
    (*arr)[*n] = (struct wl_str){c, (uint32_t)len, list};
    (*n)++;
    return 0;
}

/* Strip "*." / leading dots / trailing dots; NULL reason when acceptable. */
static const char *wl_norm_host(const char **s, size_t *n)
{
    const char *p = *s;
    size_t l = *n;
    if (l >= 2 && p[0] == '*' && p[1] == '.') {
        p += 2;
        l -= 2;
    }
    while (l && *p == '.') {
        p++;
        l--;
    }
    while (l && p[l - 1] == '.') {
        l--;
    }
    *s = p;
    *n = l;
    if (l == 0) {
        return "empty hostname";
    }
    if (l > 253) {
        return "hostname longer than 253 bytes";
    }
    for (size_t i = 0; i < l; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c == 0x7f) {
            return "hostname contains a blank or control byte";
        }
    }
    return NULL;
}

static int wl_add_regex(struct vg_intel_wl *wl, struct wl_list *l, uint32_t idx, const char *s,
                        size_t n)
{
    uint32_t opts = 0;
    int ecode = 0;
    PCRE2_SIZE eoff = 0;
    pcre2_code *code;
    if (n >= 2 && s[0] == '/') {
        const char *end = s + n;
        while (end > s + 1 && end[-1] != '/') {
            end--;
        }
        if (end > s + 1) {
            for (const char *f = end; f < s + n; f++) {
                opts |= *f == 'i'   ? PCRE2_CASELESS
                        : *f == 'm' ? PCRE2_MULTILINE
                        : *f == 's' ? PCRE2_DOTALL
                        : *f == 'x' ? PCRE2_EXTENDED
                        : *f == 'u' ? PCRE2_UTF
                                    : 0;
            }
            n = (size_t)(end - 1 - (s + 1));
            s++;
        }
    }
    code = pcre2_compile((PCRE2_SPTR)s, n, opts, &ecode, &eoff, NULL);
    if (!code) {
        char msg[160], why[224];
        pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof(msg));
        snprintf(why, sizeof(why), "regex does not compile at offset %zu: %s", (size_t)eoff, msg);
        wl_skip(wl, l, idx, why);
        return 0;
    }
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* interpreter fallback if JIT fails */
    if (wl_grow((void **)&wl->re, &wl->capre, wl->nre + 1, sizeof(*wl->re))) {
        pcre2_code_free(code);
        return VG_ENOMEM;
    }
    wl->re[wl->nre++] = (struct wl_re){code, (uint32_t)(l - wl->lists)};
    l->entries++;
    return 0;
}

static int wl_add_entry(struct vg_intel_wl *wl, struct wl_list *l, uint32_t idx,
                        const struct vg_json *e)
{
    uint32_t id = (uint32_t)(l - wl->lists);
    const char *s;
    size_t n;
    int rc;
    if (e->type != VG_JSON_STRING) {
        wl_skip(wl, l, idx, "entry is not a string");
        return 0;
    }
    s = e->s;
    n = e->n;
    if (l->type == VG_INTEL_WL_REGEX) {
        return wl_add_regex(wl, l, idx, s, n);
    }
    if (l->type == VG_INTEL_WL_CIDR) {
        struct wl_pfx p;
        if (wl_parse_cidr(s, n, &p) != 0) {
            wl_skip(wl, l, idx, "not an IPv4/IPv6 address or prefix");
            return 0;
        }
        p.list = id;
        rc = wl_grow((void **)&wl->pfx, &wl->cappfx, wl->npfx + 1, sizeof(*wl->pfx));
        if (rc == 0) {
            wl->pfx[wl->npfx++] = p;
            l->entries++;
        }
        return rc;
    }
    if (l->type == VG_INTEL_WL_HOSTNAME) {
        const char *why = wl_norm_host(&s, &n);
        if (why) {
            wl_skip(wl, l, idx, why);
            return 0;
        }
    }
    if (n == 0 || n > WL_MAX_ENTRY) {
        wl_skip(wl, l, idx, n ? "entry longer than 1024 bytes" : "empty entry");
        return 0;
    }
    if (l->type == VG_INTEL_WL_HOSTNAME) {
        rc = wl_add_str(wl, &wl->hosts.ents, &wl->hosts.n, &wl->hosts.cap, id, s, n);
    } else if (l->type == VG_INTEL_WL_STRING) {
        rc = wl_add_str(wl, &wl->strs.ents, &wl->strs.n, &wl->strs.cap, id, s, n);
    } else {
        rc = wl_add_str(wl, &wl->subs, &wl->nsubs, &wl->capsubs, id, s, n);
    }
    if (rc == 0) {
        l->entries++;
    }
    return rc;
}

static int wl_parse_type(const struct vg_json *t)
{
    static const char *names[] = {"cidr", "hostname", "string", "substring", "regex"};
    for (int i = 0; t && t->type == VG_JSON_STRING && i < VG_INTEL_WL_TYPE_COUNT; i++) {
        if (vg_json_str_is(t, names[i])) {
            return i;
        }
    }
    return -1;
}

static uint32_t wl_parse_hints(const struct vg_json *ma)
{
    uint32_t h = 0;
    if (!ma || ma->type != VG_JSON_ARRAY || ma->n == 0) {
        return WL_HINTS_ALL;
    }
    for (uint32_t i = 0; i < ma->n; i++) {
        if (ma->u.items[i].type == VG_JSON_STRING) {
            h |= wl_attr_hint(ma->u.items[i].s, ma->u.items[i].n);
        }
    }
    return h ? h : WL_HINTS_ALL;
}

/* Short key of a list: the directory of ".../<key>/list.json", else the basename sans ".json". */
static char *wl_key(struct vg_arena *a, const char *src)
{
    size_t n = strlen(src);
    const char *b;
    if (n >= 10 && strcmp(src + n - 10, "/list.json") == 0) {
        n -= 10;
    } else if (n > 5 && strcmp(src + n - 5, ".json") == 0) {
        n -= 5;
    }
    for (b = src + n; b > src && b[-1] != '/';) {
        b--;
    }
    return vg_arena_strndup(a, b, (size_t)(src + n - b));
}

/* Check the document shape and register the list; entries are added by the caller. */
static int wl_new_list(struct vg_intel_wl *wl, const char *src, const struct vg_json *doc,
                       struct wl_list **out, char *err, size_t errsz)
{
    const struct vg_json *name = vg_json_get(doc, "name");
    const struct vg_json *list = vg_json_get(doc, "list");
    int type = wl_parse_type(vg_json_get(doc, "type"));
    struct wl_list *l;
    if (doc->type != VG_JSON_OBJECT) {
        wl_err(err, errsz, "%s: top level is not a JSON object", src);
        return VG_EINVAL;
    }
    if (type < 0) {
        wl_err(err, errsz,
               "%s: field \"type\" missing or not one of cidr, hostname, string, "
               "substring, regex",
               src);
        return VG_EINVAL;
    }
    if (!list || list->type != VG_JSON_ARRAY) {
        wl_err(err, errsz, "%s: field \"list\" missing or not an array", src);
        return VG_EINVAL;
    }
    if (wl->nlists >= WL_MAX_LISTS ||
        wl_grow((void **)&wl->lists, &wl->caplists, wl->nlists + 1, sizeof(*wl->lists))) {
        wl_err(err, errsz, "%s: too many lists or out of memory", src);
        return VG_ELIMIT;
    }
    l = &wl->lists[wl->nlists];
    memset(l, 0, sizeof(*l));
    l->type = (uint8_t)type;
    l->hints = wl_parse_hints(vg_json_get(doc, "matching_attributes"));
    l->file = vg_arena_strdup(wl->arena, src);
    l->name = (name && name->type == VG_JSON_STRING) ? vg_arena_strndup(wl->arena, name->s, name->n)
                                                     : vg_arena_strdup(wl->arena, src);
    l->key = wl_key(wl->arena, src);
    if (!l->file || !l->name || !l->key) {
        return VG_ENOMEM;
    }
    wl->nlists++;
    *out = l;
    return 0;
}

int vg_intel_wl_load_mem(struct vg_intel_wl *wl, const char *src, const char *text, size_t len,
                         char *err, size_t errsz)
{
    struct vg_json_parser *p = NULL;
    struct vg_arena *a = NULL;
    struct vg_json *doc = NULL;
    const struct vg_json *list;
    struct wl_list *l = NULL;
    char perr[128];
    size_t used = 0;
    int rc;
    src = src ? src : "(memory)";
    if (!wl || wl->built || (!text && len)) {
        wl_err(err, errsz, "%s: set already built or bad arguments", src);
        return VG_EINVAL;
    }
    p = vg_json_parser_create(NULL);
    a = vg_arena_create(1 << 20);
    if (!p || !a) {
        rc = VG_ENOMEM;
        goto out;
    }
    rc = vg_json_parse(p, a, text ? text : "", len, &used, &doc, perr, sizeof(perr));
    if (rc != 0) {
        wl_err(err, errsz, "%s: invalid JSON: %s", src, rc == VG_EINVAL ? perr : vg_strerror(rc));
        rc = rc == VG_ELIMIT ? VG_ELIMIT : VG_EINVAL;
        goto out;
    }
    rc = wl_new_list(wl, src, doc, &l, err, errsz);
    if (rc != 0) {
        goto out;
    }
    list = vg_json_get(doc, "list");
    for (uint32_t i = 0; i < list->n && rc == 0; i++) {
        rc = wl_add_entry(wl, l, i, &list->u.items[i]);
    }
    if (rc != 0) {
        wl_err(err, errsz, "%s: %s", src, vg_strerror(rc));
    }
out:
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    return rc;
}

int vg_intel_wl_load_file(struct vg_intel_wl *wl, const char *path, char *err, size_t errsz)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = vg_file_read(path, WL_MAX_FILE, &buf, &len);
    if (rc != 0) {
        wl_err(err, errsz, "%s: cannot read: %s", path, vg_strerror(rc));
        return rc;
    }
    rc = vg_intel_wl_load_mem(wl, path, buf, len, err, errsz);
    vg_free(buf);
    return rc;
}

/* ---------------------------------------------------------------- build: hash sets */

static int wl_hset_build(struct wl_hset *h, const struct wl_list *lists)
{
    uint64_t size = 16;
    while (size < (uint64_t)h->n * 2) {
        size *= 2;
    }
    h->slots = vg_calloc(size, sizeof(*h->slots));
    if (!h->slots) {
        return VG_ENOMEM;
    }
    h->mask = size - 1;
    for (uint32_t i = 0; i < h->n; i++) {
        uint64_t hv = vg_hash64(h->ents[i].s, h->ents[i].len, WL_HASH_SEED);
        uint64_t j = hv & h->mask;
        while (h->slots[j]) {
            j = (j + 1) & h->mask;
        }
        h->slots[j] = (hv & 0xffffffff00000000ULL) | (uint64_t)(i + 1);
        h->hints |= lists[h->ents[i].list].hints;
        if (h->ents[i].len > h->maxlen) {
            h->maxlen = h->ents[i].len;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- build: CIDR segments */

struct wl_ev {
    u128 pos;
    uint32_t list;
    int32_t delta;
};

static int wl_ev_cmp(const void *a, const void *b)
{
    const struct wl_ev *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos ? 1 : 0;
}

static int wl_pool_set(struct vg_intel_wl *wl, const uint32_t *ids, uint32_t n, uint32_t *off)
{
    if (n == 0) {
        *off = 0; /* pool[0] is the shared empty set */
        return 0;
    }
    if (wl_grow((void **)&wl->pool, &wl->cappool, wl->npool + n + 1, sizeof(*wl->pool))) {
        return VG_ENOMEM;
    }
    *off = wl->npool;
    wl->pool[wl->npool++] = n;
    memcpy(wl->pool + wl->npool, ids, n * sizeof(*ids));
    wl->npool += n;
    return 0;
}

/* Apply one event to the active-list multiset (cnt per list, act = ids with cnt > 0). */
static void wl_ev_apply(const struct wl_ev *e, uint32_t *cnt, uint32_t *act, uint32_t *nact)
{
    if (e->delta > 0) {
        if (cnt[e->list]++ == 0) {
            act[(*nact)++] = e->list;
        }
        return;
    }
    if (--cnt[e->list] == 0) {
        for (uint32_t k = 0; k < *nact; k++) {
            if (act[k] == e->list) {
                act[k] = act[--(*nact)];
                break;
            }
        }
    }
}

static int wl_seg_push(struct vg_intel_wl *wl, struct wl_segs *sg, int v6, u128 pos,
                       const uint32_t *act, uint32_t nact, uint32_t *cap)
{
    uint32_t c2 = *cap, off;
    if (wl_pool_set(wl, act, nact, &off)) {
        return VG_ENOMEM;
    }
    if (v6 ? wl_grow((void **)&sg->starts6, cap, sg->n + 1, sizeof(u128))
           : wl_grow((void **)&sg->starts4, cap, sg->n + 1, sizeof(uint32_t))) {
        return VG_ENOMEM;
    }
    if (wl_grow((void **)&sg->off, &c2, sg->n + 1, sizeof(uint32_t))) {
        return VG_ENOMEM;
    }
    if (v6) {
        sg->starts6[sg->n] = pos;
    } else {
        sg->starts4[sg->n] = (uint32_t)pos;
    }
    sg->off[sg->n++] = off;
    return 0;
}

static int wl_segs_build(struct vg_intel_wl *wl, struct wl_segs *sg, int v6)
{
    struct wl_ev *ev = NULL;
    uint32_t *cnt = NULL, *act = NULL, nev = 0, nact = 0, cap = 0;
    u128 top = v6 ? ~(u128)0 : 0xffffffffu;
    int rc = VG_ENOMEM;
    ev = vg_malloc(((size_t)wl->npfx * 2 + 1) * sizeof(*ev));
    cnt = vg_calloc(wl->nlists + 1, sizeof(*cnt));
    act = vg_calloc(wl->nlists + 1, sizeof(*act));
    if (!ev || !cnt || !act) {
        goto out;
    }
    for (uint32_t i = 0; i < wl->npfx; i++) {
        if (wl->pfx[i].v6 != v6) {
            continue;
        }
        ev[nev++] = (struct wl_ev){wl->pfx[i].lo, wl->pfx[i].list, 1};
        if (wl->pfx[i].hi != top) {
            ev[nev++] = (struct wl_ev){wl->pfx[i].hi + 1, wl->pfx[i].list, -1};
        }
        wl->cidr_hints |= wl->lists[wl->pfx[i].list].hints;
    }
    qsort(ev, nev, sizeof(*ev), wl_ev_cmp);
    rc = wl_seg_push(wl, sg, v6, 0, act, 0, &cap);
    for (uint32_t i = 0; i < nev && rc == 0;) {
        u128 pos = ev[i].pos;
        while (i < nev && ev[i].pos == pos) {
            wl_ev_apply(&ev[i++], cnt, act, &nact);
        }
        if (pos == 0 && sg->n == 1) {
            sg->n = 0; /* replace the initial empty segment */
        }
        rc = wl_seg_push(wl, sg, v6, pos, act, nact, &cap);
    }
out:
    vg_free(ev);
    vg_free(cnt);
    vg_free(act);
    return rc;
}

/* ---------------------------------------------------------------- build: Aho-Corasick */

static int wl_ac_build(struct vg_intel_wl *wl)
{
    struct wl_ac *ac = &wl->ac;
    uint32_t *fail = NULL, *queue = NULL, qh = 0, qt = 0;
    size_t total = 1;
    int rc = VG_ENOMEM;
    if (wl->nsubs == 0) {
        return 0;
    }
    ac->ncls = 1;
    for (uint32_t i = 0; i < wl->nsubs; i++) {
        total += wl->subs[i].len;
        ac->hints |= wl->lists[wl->subs[i].list].hints;
        for (uint32_t k = 0; k < wl->subs[i].len; k++) {
            unsigned char c = (unsigned char)wl->subs[i].s[k];
            if (!ac->cls[c]) {
                ac->cls[c] = (uint8_t)ac->ncls++;
            }
        }
    }
    for (int c = 'A'; c <= 'Z'; c++) {
        ac->cls[c] = ac->cls[c + 32];
    }
    if (total > UINT32_MAX / ac->ncls) {
        return VG_ELIMIT;
    }
    ac->delta = vg_calloc(total * ac->ncls, sizeof(uint32_t));
    ac->out_first = vg_malloc(total * sizeof(int32_t));
    ac->out_link = vg_calloc(total, sizeof(uint32_t));
    ac->pat_next = vg_malloc(wl->nsubs * sizeof(int32_t));
    fail = vg_calloc(total, sizeof(uint32_t));
    queue = vg_malloc(total * sizeof(uint32_t));
    if (!ac->delta || !ac->out_first || !ac->out_link || !ac->pat_next || !fail || !queue) {
        goto out;
    }
    memset(ac->out_first, 0xff, total * sizeof(int32_t));
    ac->nstates = 1;
    for (uint32_t i = 0; i < wl->nsubs; i++) {
        uint32_t s = 0;
        for (uint32_t k = 0; k < wl->subs[i].len; k++) {
            uint32_t *t =
                &ac->delta[(size_t)s * ac->ncls + ac->cls[(unsigned char)wl->subs[i].s[k]]];
            if (!*t) {
                *t = ac->nstates++;
            }
            s = *t;
        }
        ac->pat_next[i] = ac->out_first[s];
        ac->out_first[s] = (int32_t)i;
    }
    queue[qt++] = 0;
    while (qh < qt) {
        uint32_t r = queue[qh++];
        uint32_t *row = &ac->delta[(size_t)r * ac->ncls];
        for (uint32_t c = 0; c < ac->ncls; c++) {
            uint32_t f = r ? ac->delta[(size_t)fail[r] * ac->ncls + c] : 0;
            if (!row[c]) {
                row[c] = f; /* fail-through: the DFA is complete */
                continue;
            }
            uint32_t u = row[c];
            fail[u] = f;
            ac->out_link[u] = ac->out_first[f] >= 0 ? f : ac->out_link[f];
            queue[qt++] = u;
        }
    }
    rc = 0;
out:
    vg_free(fail);
    vg_free(queue);
    return rc;
}

int vg_intel_wl_build(struct vg_intel_wl *wl, char *err, size_t errsz)
{
    int rc;
    if (!wl || wl->built) {
        wl_err(err, errsz, "warninglists: already built");
        return VG_EINVAL;
    }
    rc = wl_hset_build(&wl->strs, wl->lists);
    rc = rc ? rc : wl_hset_build(&wl->hosts, wl->lists);
    if (rc == 0 && wl->npool == 0) {
        rc = wl_grow((void **)&wl->pool, &wl->cappool, 1, sizeof(*wl->pool));
        if (rc == 0) {
            wl->pool[wl->npool++] = 0; /* the empty set at offset 0 */
        }
    }
    rc = rc ? rc : wl_segs_build(wl, &wl->seg4, 0);
    rc = rc ? rc : wl_segs_build(wl, &wl->seg6, 1);
    rc = rc ? rc : wl_ac_build(wl);
    if (rc != 0) {
        wl_err(err, errsz, "warninglists: build failed: %s", vg_strerror(rc));
        return rc;
    }
    for (uint32_t i = 0; i < wl->nre; i++) {
        wl->re_hints |= wl->lists[wl->re[i].list].hints;
    }
    wl->bytes = vg_arena_used(wl->arena) + (size_t)wl->strs.n * sizeof(struct wl_str) +
                (size_t)wl->hosts.n * sizeof(struct wl_str) +
                (size_t)(wl->strs.mask + wl->hosts.mask + 2) * sizeof(uint64_t) +
                (size_t)wl->seg4.n * 8 + (size_t)wl->seg6.n * 20 + (size_t)wl->npool * 4 +
                (size_t)wl->ac.nstates * (wl->ac.ncls * 4 + 8) +
                (size_t)wl->nsubs * (sizeof(struct wl_str) + 4) +
                (size_t)wl->nlists * sizeof(struct wl_list);
    vg_free(wl->pfx); /* the segments replace the prefixes */
    wl->pfx = NULL;
    wl->npfx = wl->cappfx = 0;
    wl->built = 1;
    return 0;
}

/* ---------------------------------------------------------------- matching */

struct wl_q {
    const struct vg_intel_wl *wl;
    struct vg_intel_wl_hit *hit;
    uint32_t hb;
};

static void wl_hit_add(struct wl_q *q, uint32_t list)
{
    struct vg_intel_wl_hit *h = q->hit;
    if (!(q->wl->lists[list].hints & q->hb)) {
        return;
    }
    for (uint32_t i = 0; i < h->n; i++) {
        if (h->ids[i] == list) {
            return;
        }
    }
    if (h->n == VG_INTEL_WL_HIT_MAX) {
        h->truncated = 1;
        return;
    }
    h->ids[h->n++] = list;
}

/* s is already lowercased. */
static void wl_hset_find(struct wl_q *q, const struct wl_hset *h, const char *s, size_t n)
{
    uint64_t hv, j;
    if (!h->n || n > h->maxlen) {
        return;
    }
    hv = vg_hash64(s, n, WL_HASH_SEED);
    for (j = hv & h->mask; h->slots[j]; j = (j + 1) & h->mask) {
        const struct wl_str *e;
        if ((h->slots[j] ^ hv) >> 32) {
            continue;
        }
        e = &h->ents[(uint32_t)h->slots[j] - 1];
        if (e->len == n && memcmp(e->s, s, n) == 0) {
            wl_hit_add(q, e->list);
        }
    }
}

/* value and every label suffix of it, against the hostname lists. */
static void wl_host_walk(struct wl_q *q, const char *v, size_t n)
{
    char buf[256];
    const char *p;
    if (!q->wl->hosts.n || !(q->wl->hosts.hints & q->hb) || wl_norm_host(&v, &n) != NULL) {
        return;
    }
    wl_lower_copy(buf, v, n);
    for (p = buf; p < buf + n;) {
        const char *dot;
        wl_hset_find(q, &q->wl->hosts, p, n - (size_t)(p - buf));
        dot = memchr(p, '.', n - (size_t)(p - buf));
        if (!dot) {
            break;
        }
        p = dot + 1;
    }
}

static void wl_string_find(struct wl_q *q, const char *v, size_t n)
{
    char buf[WL_MAX_ENTRY];
    if (!(q->wl->strs.hints & q->hb) || n > q->wl->strs.maxlen) {
        return;
    }
    wl_lower_copy(buf, v, n);
    wl_hset_find(q, &q->wl->strs, buf, n);
}

static const uint32_t *wl_seg_set(const struct vg_intel_wl *wl, const struct wl_segs *sg,
                                  uint32_t i)
{
    return &wl->pool[sg->off[i]];
}

static uint32_t wl_seg_find(const struct wl_segs *sg, int v6, u128 x)
{
    uint32_t lo = 0, hi = sg->n; /* largest i with start[i] <= x; start[0] == 0 */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        u128 s = v6 ? sg->starts6[mid] : sg->starts4[mid];
        if (s <= x) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void wl_cidr_find(struct wl_q *q, const char *v, size_t n)
{
    const struct wl_segs *sg;
    struct wl_pfx p;
    const uint32_t *set;
    uint32_t i;
    if (!(q->wl->cidr_hints & q->hb) || n >= 64 || wl_parse_cidr(v, n, &p) != 0) {
        return;
    }
    sg = p.v6 ? &q->wl->seg6 : &q->wl->seg4;
    if (sg->n == 0) {
        return;
    }
    i = wl_seg_find(sg, p.v6, p.lo);
    set = wl_seg_set(q->wl, sg, i);
    for (uint32_t k = 0; k < set[0]; k++) {
        /* a prefix value must be covered by the list across all segments it spans */
        bool all = true;
        for (uint32_t j = i + 1; j < sg->n && all; j++) {
            u128 s = p.v6 ? sg->starts6[j] : sg->starts4[j];
            const uint32_t *o;
            bool in = false;
            if (s > p.hi) {
                break;
            }
            o = wl_seg_set(q->wl, sg, j);
            for (uint32_t m = 0; m < o[0] && !in; m++) {
                in = o[1 + m] == set[1 + k];
            }
            all = in;
        }
        if (all) {
            wl_hit_add(q, set[1 + k]);
        }
    }
}

static void wl_ac_find(struct wl_q *q, const char *v, size_t n)
{
    const struct wl_ac *ac = &q->wl->ac;
    uint32_t s = 0;
    if (!ac->nstates || !(ac->hints & q->hb)) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        s = ac->delta[(size_t)s * ac->ncls + ac->cls[(unsigned char)v[i]]];
        for (uint32_t t = ac->out_first[s] >= 0 ? s : ac->out_link[s]; t; t = ac->out_link[t]) {
            for (int32_t p = ac->out_first[t]; p >= 0; p = ac->pat_next[p]) {
                wl_hit_add(q, q->wl->subs[p].list);
            }
        }
    }
}

static _Thread_local pcre2_match_data *wl_tl_md;

static void wl_re_find(struct wl_q *q, const char *v, size_t n)
{
    if (!q->wl->nre || !(q->wl->re_hints & q->hb)) {
        return;
    }
    if (!wl_tl_md) {
        wl_tl_md = pcre2_match_data_create(1, NULL);
        if (!wl_tl_md) {
            return;
        }
    }
    for (uint32_t i = 0; i < q->wl->nre; i++) {
        if (!(q->wl->lists[q->wl->re[i].list].hints & q->hb)) {
            continue;
        }
        if (pcre2_match(q->wl->re[i].code, (PCRE2_SPTR)v, n, 0, 0, wl_tl_md, NULL) >= 0) {
            wl_hit_add(q, q->wl->re[i].list);
        }
    }
}

/* Host part of a URL ("scheme://user@host:port/path"); returns its length. */
static size_t wl_url_host(const char *v, size_t n, const char **host)
{
    const char *p = v, *end = v + n, *h, *e;
    for (size_t i = 0; i + 2 < n && i < 32; i++) {
        if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/') {
            p = v + i + 3;
            break;
        }
    }
    e = p;
    while (e < end && *e != '/' && *e != '?' && *e != '#') {
        e++;
    }
    for (h = e; h > p; h--) {
        if (h[-1] == '@') {
            break;
        }
    }
    if (h < e && *h == '[') {
        const char *rb = memchr(h, ']', (size_t)(e - h));
        *host = h + 1;
        return rb ? (size_t)(rb - h - 1) : 0;
    }
    *host = h;
    const char *colon = memchr(h, ':', (size_t)(e - h));
    return (size_t)((colon ? colon : e) - h);
}

int vg_intel_wl_match(const struct vg_intel_wl *wl, const char *value, size_t len,
                      enum vg_intel_wl_hint hint, struct vg_intel_wl_hit *hit)
{
    struct wl_q q;
    hit->n = 0;
    hit->truncated = 0;
    if (!wl || !wl->built || (unsigned)hint >= VG_INTEL_WL_HINT_COUNT || (!value && len)) {
        return VG_EINVAL;
    }
    q.wl = wl;
    q.hit = hit;
    q.hb = hint == VG_INTEL_WL_HINT_ANY ? WL_HINTS_ALL : 1u << hint;
    if (hint == VG_INTEL_WL_HINT_URL) {
        const char *h = NULL;
        size_t hn = wl_url_host(value, len, &h);
        if (hn) {
            wl_cidr_find(&q, h, hn);
            wl_host_walk(&q, h, hn);
            wl_string_find(&q, h, hn);
        }
    } else if (hint == VG_INTEL_WL_HINT_ANY || hint == VG_INTEL_WL_HINT_IP) {
        wl_cidr_find(&q, value, len);
    }
    if (hint == VG_INTEL_WL_HINT_ANY || hint == VG_INTEL_WL_HINT_DOMAIN) {
        wl_host_walk(&q, value, len);
    }
    wl_string_find(&q, value, len);
    wl_ac_find(&q, value, len);
    wl_re_find(&q, value, len);
    for (uint32_t i = 1; i < hit->n; i++) { /* ids ascending: stable output */
        uint32_t v = hit->ids[i], j = i;
        for (; j > 0 && hit->ids[j - 1] > v; j--) {
            hit->ids[j] = hit->ids[j - 1];
        }
        hit->ids[j] = v;
    }
    return (int)hit->n;
}

/* ---------------------------------------------------------------- lifecycle */

int vg_intel_wl_create(struct vg_intel_wl **out)
{
    struct vg_intel_wl *wl = vg_calloc(1, sizeof(*wl));
    if (!wl) {
        return VG_ENOMEM;
    }
    wl->arena = vg_arena_create(1 << 20);
    if (!wl->arena) {
        vg_free(wl);
        return VG_ENOMEM;
    }
    *out = wl;
    return 0;
}

void vg_intel_wl_destroy(struct vg_intel_wl *wl)
{
    if (!wl) {
        return;
    }
    for (uint32_t i = 0; i < wl->nre; i++) {
        pcre2_code_free(wl->re[i].code);
    }
    vg_free(wl->re);
    vg_free(wl->lists);
    vg_free(wl->strs.ents);
    vg_free(wl->strs.slots);
    vg_free(wl->hosts.ents);
    vg_free(wl->hosts.slots);
    vg_free(wl->subs);
    vg_free(wl->pfx);
    vg_free(wl->seg4.starts4);
    vg_free(wl->seg4.off);
    vg_free(wl->seg6.starts6);
    vg_free(wl->seg6.off);
    vg_free(wl->pool);
    vg_free(wl->ac.delta);
    vg_free(wl->ac.out_first);
    vg_free(wl->ac.out_link);
    vg_free(wl->ac.pat_next);
    vg_arena_destroy(wl->arena);
    vg_free(wl);
}

static int wl_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect the directory's entry names (sorted, caller frees each and the array). */
static int wl_dir_names(const char *dir, char ***out, uint32_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint32_t cap = 0;
    *out = NULL;
    *n = 0;
    if (!d) {
        return VG_ENOENT;
    }
    while ((de = readdir(d)) != NULL) {
        char *c;
        if (de->d_name[0] == '.') {
            continue;
        }
        c = vg_strdup(de->d_name);
        if (!c || wl_grow((void **)out, &cap, *n + 1, sizeof(char *))) {
            vg_free(c);
            closedir(d);
            return VG_ENOMEM;
        }
        (*out)[(*n)++] = c;
    }
    closedir(d);
    if (*n) {
        qsort(*out, *n, sizeof(char *), wl_name_cmp);
    }
    return 0;
}

int vg_intel_wl_load_dir(const char *dir, struct vg_intel_wl **out, char *err, size_t errsz)
{
    struct vg_intel_wl *wl = NULL;
    char **names = NULL;
    uint32_t n = 0;
    int rc = wl_dir_names(dir, &names, &n);
    *out = NULL;
    if (rc != 0) {
        wl_err(err, errsz, "%s: cannot list directory: %s", dir, vg_strerror(rc));
        goto out;
    }
    rc = vg_intel_wl_create(&wl);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        char path[4096];
        struct stat st;
        size_t nl = strlen(names[i]);
        snprintf(path, sizeof(path), "%s/%s/list.json", dir, names[i]);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (nl < 6 || strcmp(names[i] + nl - 5, ".json") != 0) {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        }
        rc = vg_intel_wl_load_file(wl, path, err, errsz);
    }
    rc = rc ? rc : vg_intel_wl_build(wl, err, errsz);
    if (rc == 0) {
        *out = wl;
        wl = NULL;
    }
out:
    for (uint32_t i = 0; i < n; i++) {
        vg_free(names[i]);
    }
    vg_free(names);
    vg_intel_wl_destroy(wl);
    return rc;
}

/* ---------------------------------------------------------------- accessors */

uint32_t vg_intel_wl_count(const struct vg_intel_wl *wl)
{
    return wl ? wl->nlists : 0;
}

const char *vg_intel_wl_list_name(const struct vg_intel_wl *wl, uint32_t id)
{
    return wl && id < wl->nlists ? wl->lists[id].name : NULL;
}

const char *vg_intel_wl_list_key(const struct vg_intel_wl *wl, uint32_t id)
{
    return wl && id < wl->nlists ? wl->lists[id].key : NULL;
}

const char *vg_intel_wl_list_file(const struct vg_intel_wl *wl, uint32_t id)
{
    return wl && id < wl->nlists ? wl->lists[id].file : NULL;
}

enum vg_intel_wl_type vg_intel_wl_list_type(const struct vg_intel_wl *wl, uint32_t id)
{
    return wl && id < wl->nlists ? (enum vg_intel_wl_type)wl->lists[id].type
                                 : VG_INTEL_WL_TYPE_COUNT;
}

uint32_t vg_intel_wl_list_entries(const struct vg_intel_wl *wl, uint32_t id)
{
    return wl && id < wl->nlists ? wl->lists[id].entries : 0;
}

uint32_t vg_intel_wl_list_skipped(const struct vg_intel_wl *wl, uint32_t id)
{
    return wl && id < wl->nlists ? wl->lists[id].skipped : 0;
}

const char *vg_intel_wl_list_error(const struct vg_intel_wl *wl, uint32_t id)
{
    return wl && id < wl->nlists ? wl->lists[id].first_err : NULL;
}

int vg_intel_wl_find(const struct vg_intel_wl *wl, const char *name)
{
    for (uint32_t i = 0; wl && name && i < wl->nlists; i++) {
        if (strcmp(wl->lists[i].key, name) == 0 || strcmp(wl->lists[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void vg_intel_wl_stats(const struct vg_intel_wl *wl, struct vg_intel_wl_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!wl) {
        return;
    }
    st->lists = wl->nlists;
    for (uint32_t i = 0; i < wl->nlists; i++) {
        st->entries += wl->lists[i].entries;
        st->skipped += wl->lists[i].skipped;
        st->by_type[wl->lists[i].type] += wl->lists[i].entries;
    }
    st->bytes = wl->bytes;
}

const char *vg_intel_wl_type_name(enum vg_intel_wl_type t)
{
    static const char *names[] = {"cidr", "hostname", "string", "substring", "regex"};
    return (unsigned)t < VG_INTEL_WL_TYPE_COUNT ? names[t] : "?";
}
