/*
 * intel_set.c — typed indicator sets (see intel_set.h): the builder that normalises and
 * validates indicators, the freeze step that lays them out as compact read-only arrays, and
 * the lock-free lookups the matchers call on every event and flow.
 *
 * Frozen layout (ids: exact values first, then IPv4, then IPv6; ctx[id] is the context):
 *  - exact values (domains, URLs, emails, file names, binary hashes) live back to back in one
 *    byte arena as records (id u32, type u8, length u16, bytes); an open-addressing table of
 *    uint64 slots (hash tag << 32 | record offset + 1), linear probing, load <= 2/3, finds them
 *    by (type, value), so a hit touches one slot, one record and the context. A blocked Bloom
 *    filter in front (~16 bits per value, L2-sized) turns most misses away before the slots.
 *    Hash-like values hash from their first 8 bytes (they are random already).
 *  - IPv4 and IPv6 prefixes are flattened into sorted non-overlapping ranges (start, most
 *    specific prefix covering it); a 65,536-bucket index on the top 16 bits narrows the binary
 *    search to a few entries. parent[] links each prefix to the next enclosing one, so an
 *    expired prefix falls back to its live parent.
 * Memory: ~20 B context + ~18 B per exact value + its bytes, ~25 B per IP prefix.
 */
#include "intel/intel_set.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define MAX_VALUE  4096u
#define NONE       UINT32_MAX
#define BUCKETS    65536u
#define MAX_DOMAIN 253u
#define REC_HDR    7u

typedef unsigned __int128 u128;

/* ---------------------------------------------------------------- types */

static const char *const type_names[VG_INTEL_TYPE_COUNT] = {
    "ipv4",   "ipv6",   "domain", "url",  "email",    "md5",       "sha1",
    "sha256", "sha512", "ja3",    "ja3s", "filename", "x509-sha1", "x509-sha256"};

/* Binary length of hash-like types (hex on input), 0 for the others. */
static const uint8_t bin_len[VG_INTEL_TYPE_COUNT] = {
    [VG_INTEL_MD5] = 16,       [VG_INTEL_SHA1] = 20,       [VG_INTEL_SHA256] = 32,
    [VG_INTEL_SHA512] = 64,    [VG_INTEL_JA3] = 16,        [VG_INTEL_JA3S] = 16,
    [VG_INTEL_X509_SHA1] = 20, [VG_INTEL_X509_SHA256] = 32};

const char *vg_intel_type_name(enum vg_intel_type t)
{
    return (unsigned)t < VG_INTEL_TYPE_COUNT ? type_names[t] : "?";
}

int vg_intel_type_parse(const char *name, size_t len, enum vg_intel_type *out)
{
    for (unsigned i = 0; i < VG_INTEL_TYPE_COUNT; i++) {
        if (vg_str_eq(name, len, type_names[i], strlen(type_names[i]))) {
            *out = (enum vg_intel_type)i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

/* ---------------------------------------------------------------- structures */

struct bent {     /* one added indicator, in the builder */
    uint32_t off; /* value bytes in b->bytes */
    uint16_t len; /* value length (IP: 4 or 16) */
    uint8_t type; /* enum vg_intel_type */
    uint8_t plen; /* IP prefix length */
};

struct vg_intel_set_builder {
    struct bent *ents;
    struct vg_intel_ctx *ctx; /* ctx[i] belongs to ents[i] */
    size_t n, cap, ctx_cap;
    uint8_t *bytes;
    size_t blen, bcap;
    char err[160];
};

struct iptab {
    uint32_t nr;      /* ranges */
    uint32_t n;       /* prefixes */
    uint32_t base;    /* id of prefix 0 */
    uint32_t *k4;     /* IPv4 range starts (host order) */
    uint64_t *k6;     /* IPv6 range starts: hi, lo pairs */
    uint32_t *val;    /* most specific prefix covering the range, or NONE */
    uint32_t *bucket; /* BUCKETS + 1 first-range indexes per top-16-bit bucket */
    uint32_t *parent; /* enclosing prefix, or NONE */
    uint8_t *plen;    /* prefix length */
};

struct vg_intel_set {
    struct vg_intel_ctx *ctx;
    uint32_t n;     /* indicators (= ids) */
    uint32_t nx;    /* exact-value indicators: ids [0, nx) */
    uint8_t *arena; /* records: REC_HDR bytes (id, type, length), then the value */
    size_t arena_len;
    uint64_t *slots;
    uint32_t mask;
    /* blocked Bloom filters over the exact values, one per type (misses skip the slots): a
     * lookup touches only its type's filter, small enough to stay in the L2 cache */
    uint64_t *filter;
    uint32_t fbase[VG_INTEL_TYPE_COUNT], fmask[VG_INTEL_TYPE_COUNT];
    uint64_t *sfilter; /* the same over domains flagged VG_INTEL_F_SUBDOMAINS */
    uint32_t sfmask;
    uint32_t n_subdomain; /* domains flagged VG_INTEL_F_SUBDOMAINS */
    uint64_t sub_labels;  /* bit k-1: a flagged domain has k labels (bit 63: 64 or more) */
    struct iptab v4, v6;
    size_t count[VG_INTEL_TYPE_COUNT];
    size_t bytes;
    _Atomic uint64_t expired_skips;
};

/* ---------------------------------------------------------------- normalisation */

static int fail(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return VG_EINVAL;
}

static inline char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Dotted quad, decimal, 1-3 digits per octet. *addr in host order. */
static int parse_ip4(const char *p, size_t n, uint32_t *addr, char *err, size_t errsz)
{
    uint32_t a = 0;
    size_t i = 0;
    for (int oct = 0; oct < 4; oct++) {
        unsigned v = 0, digits = 0;
        if (oct > 0) {
            if (i >= n || p[i] != '.') {
                return fail(err, errsz, "ipv4: expected '.' at offset %zu", i);
            }
            i++;
        }
        while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 4) {
            v = v * 10 + (unsigned)(p[i++] - '0');
            digits++;
        }
        if (digits == 0 || digits > 3) {
            return fail(err, errsz, "ipv4: octet %d needs 1-3 digits at offset %zu", oct + 1, i);
        }
        if (v > 255) {
            return fail(err, errsz, "ipv4: octet %d > 255 at offset %zu", oct + 1, i - digits);
        }
        a = a << 8 | v;
    }
    if (i != n) {
        return fail(err, errsz, "ipv4: unexpected '%c' at offset %zu", p[i], i);
    }
    *addr = a;
    return VG_OK;
}

static int parse_ip6(const char *p, size_t n, uint8_t out[16], char *err, size_t errsz)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf)) {
        return fail(err, errsz, "ipv6: length %zu out of range", n);
    }
    memcpy(buf, p, n);
    buf[n] = 0;
    if (memchr(buf, 0, n) || inet_pton(AF_INET6, buf, out) != 1) {
        return fail(err, errsz, "ipv6: malformed address '%s'", buf);
    }
    return VG_OK;
}

/* Split "addr/len": *alen = address length, *plen = prefix (max when absent). */
static int split_prefix(const char *p, size_t n, unsigned max, size_t *alen, unsigned *plen,
                        char *err, size_t errsz)
{
    const char *slash = memchr(p, '/', n);
    *alen = n;
    *plen = max;
    if (!slash) {
        return VG_OK;
    }
    size_t at = (size_t)(slash - p), i = at + 1;
    unsigned v = 0;
    if (i == n || n - i > 3) {
        return fail(err, errsz, "prefix length needs 1-3 digits at offset %zu", i);
    }
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return fail(err, errsz, "prefix length: unexpected '%c' at offset %zu", p[i], i);
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > max) {
        return fail(err, errsz, "prefix length %u > %u at offset %zu", v, max, at + 1);
    }
    *alen = at;
    *plen = v;
    return VG_OK;
}

static void mask6(uint8_t a[16], unsigned plen)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
        a[i] &= (uint8_t)(0xff00u >> keep);
    }
}

static int hexval(char c)
{
    c = lower(c);
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int norm_hex(enum vg_intel_type t, const char *p, size_t n, uint8_t *out, char *err,
                    size_t errsz)
{
    size_t want = 2u * bin_len[t];
    if (n != want) {
        return fail(err, errsz, "%s: %zu hex digits, expected %zu", type_names[t], n, want);
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(p[i]), lo = hexval(p[i + 1]);
        if (hi < 0 || lo < 0) {
            size_t at = hi < 0 ? i : i + 1;
            return fail(err, errsz, "%s: non-hex '%c' at offset %zu", type_names[t], p[at], at);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return VG_OK;
}

static bool domain_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
}

/* ASCII byte → its lower-case form if allowed in a domain name, '.' for a dot, 0 otherwise
 * (bytes ≥ 0x80, UTF-8 of internationalised names, are kept as they are). */
static const uint8_t domain_map[256] = {
    ['.'] = '.', ['-'] = '-', ['_'] = '_', ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3',
    ['4'] = '4', ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9', ['a'] = 'a',
    ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g', ['h'] = 'h',
    ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l', ['m'] = 'm', ['n'] = 'n', ['o'] = 'o',
    ['p'] = 'p', ['q'] = 'q', ['r'] = 'r', ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v',
    ['w'] = 'w', ['x'] = 'x', ['y'] = 'y', ['z'] = 'z', ['A'] = 'a', ['B'] = 'b', ['C'] = 'c',
    ['D'] = 'd', ['E'] = 'e', ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j',
    ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q',
    ['R'] = 'r', ['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
    ['Y'] = 'y', ['Z'] = 'z',
};

/*
 * Lower-case a domain into out (>= MAX_DOMAIN + 1 bytes), drop one trailing dot; with wild,
 * a leading "*." or "." is dropped and reported in *sub.
 */
static int norm_domain(const char *p, size_t n, bool wild, char *out, size_t *olen, bool *sub,
                       char *err, size_t errsz)
{
    size_t start = 0, label = 0;
    *sub = false;
    if (wild && n >= 2 && p[0] == '*' && p[1] == '.') {
        start = 2, *sub = true;
    } else if (wild && n >= 1 && p[0] == '.') {
        start = 1, *sub = true;
    }
    if (n > start && p[n - 1] == '.') {
        n--;
    }
    if (n <= start || n - start > MAX_DOMAIN) {
        return fail(err, errsz, "domain: length %zu not in 1-%u", n - start, MAX_DOMAIN);
    }
    for (size_t i = start; i < n; i++) {
        /* one table load per byte: the lower-cased byte, '.' for a dot, 0 if not allowed */
        unsigned char b = (unsigned char)p[i];
        char c = (char)(b >= 0x80 ? b : domain_map[b]);
        if (c == '.') {
            if (label == 0) {
                return fail(err, errsz, "domain: empty label at offset %zu", i);
            }
            label = 0;
        } else if (!c) {
            return fail(err, errsz, "domain: invalid character 0x%02x at offset %zu",
                        (unsigned char)p[i], i);
        } else if (++label > 63) {
            return fail(err, errsz, "domain: label longer than 63 at offset %zu", i);
        }
        out[i - start] = c;
    }
    *olen = n - start;
    return VG_OK;
}

/* Printable, no spaces: URLs, emails, file names (file names may hold spaces). */
static int check_text(enum vg_intel_type t, const char *p, size_t n, bool spaces, char *err,
                      size_t errsz)
{
    if (n == 0) {
        return fail(err, errsz, "%s: empty value", type_names[t]);
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || (c == ' ' && !spaces)) {
            return fail(err, errsz, "%s: invalid character 0x%02x at offset %zu", type_names[t], c,
                        i);
        }
    }
    return VG_OK;
}

/* URL: scheme and authority lower-cased (up to the first '/', '?' or '#' after "://"). */
/* Offset just past "scheme://" (scheme: up to 32 of [A-Za-z0-9+.-]), or 0 without one. */
static size_t url_authority(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < 32 &&
           (domain_char((unsigned char)lower(p[i])) || p[i] == '+' || p[i] == '.')) {
        i++;
    }
    return i > 0 && n - i >= 3 && memcmp(p + i, "://", 3) == 0 ? i + 3 : 0;
}

/* One pass: validate, lower-case up to the end of the authority, copy the rest. */
static int norm_url(const char *p, size_t n, char *out, char *err, size_t errsz)
{
    size_t host = url_authority(p, n);
    bool authority = true;
    if (n == 0) {
        return fail(err, errsz, "url: empty value");
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if ((unsigned char)c <= ' ' || c == 0x7f) {
            return fail(err, errsz, "url: invalid character 0x%02x at offset %zu", (unsigned char)c,
                        i);
        }
        authority = authority && !(i >= host && (c == '/' || c == '?' || c == '#'));
        out[i] = authority ? lower(c) : c;
    }
    return VG_OK;
}

static int norm_email(const char *p, size_t n, char *out, char *err, size_t errsz)
{
    int rc = check_text(VG_INTEL_EMAIL, p, n, false, err, errsz);
    if (rc) {
        return rc;
    }
    const char *at = memchr(p, '@', n);
    if (!at || at == p || at == p + n - 1 || memchr(at + 1, '@', (size_t)(p + n - at - 1))) {
        return fail(err, errsz, "email: expected local@domain with one '@'");
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = lower(p[i]);
    }
    return VG_OK;
}

/*
 * Normalise value into out (MAX_VALUE bytes): IPs as 4/16 bytes with *plen, hashes binary,
 * text lower-cased where the type is case-insensitive. wild lets a domain carry "*.".
 */
static int normalise(enum vg_intel_type t, const char *p, size_t n, bool wild, uint8_t *out,
                     size_t *olen, unsigned *plen, bool *sub, char *err, size_t errsz)
{
    size_t alen;
    int rc;
    *plen = 0;
    *sub = false;
    if ((unsigned)t >= VG_INTEL_TYPE_COUNT) {
        return fail(err, errsz, "unknown indicator type %d", (int)t);
    }
    if (n > MAX_VALUE) {
        fail(err, errsz, "%s: value of %zu bytes exceeds %u", type_names[t], n, MAX_VALUE);
        return VG_ELIMIT;
    }
    if (t == VG_INTEL_IPV4) {
        uint32_t a = 0;
        if ((rc = split_prefix(p, n, 32, &alen, plen, err, errsz)) ||
            (rc = parse_ip4(p, alen, &a, err, errsz))) {
            return rc;
        }
        a = *plen ? a & (uint32_t)(0xffffffffu << (32 - *plen)) : 0;
        memcpy(out, &a, 4);
        *olen = 4;
        return VG_OK;
    }
    if (t == VG_INTEL_IPV6) {
        if ((rc = split_prefix(p, n, 128, &alen, plen, err, errsz)) ||
            (rc = parse_ip6(p, alen, out, err, errsz))) {
            return rc;
        }
        mask6(out, *plen);
        *olen = 16;
        return VG_OK;
    }
    if (bin_len[t]) {
        *olen = bin_len[t];
        return norm_hex(t, p, n, out, err, errsz);
    }
    *olen = n;
    switch (t) {
    case VG_INTEL_DOMAIN:
        return norm_domain(p, n, wild, (char *)out, olen, sub, err, errsz);
    case VG_INTEL_URL:
        return norm_url(p, n, (char *)out, err, errsz);
    case VG_INTEL_EMAIL:
        return norm_email(p, n, (char *)out, err, errsz);
    default:
        rc = check_text(t, p, n, true, err, errsz);
        memcpy(out, p, n);
        return rc;
    }
}

int vg_intel_value_check(enum vg_intel_type type, const char *value, size_t len, char *err,
                         size_t errsz)
{
    uint8_t norm[MAX_VALUE];
    size_t nlen = 0;
    unsigned plen;
    bool sub;
    return normalise(type, value, len, true, norm, &nlen, &plen, &sub, err, errsz);
}

int vg_intel_value_key(enum vg_intel_type type, const char *value, size_t len, uint64_t *key,
                       char *err, size_t errsz)
{
    uint8_t norm[MAX_VALUE];
    size_t nlen = 0;
    unsigned plen;
    bool sub;
    int rc = normalise(type, value, len, true, norm, &nlen, &plen, &sub, err, errsz);
    if (rc == VG_OK) {
        *key = vg_hash64(norm, nlen, ((uint64_t)type << 8 | plen) * 0x9e3779b97f4a7c15ULL);
    }
    return rc;
}

int vg_intel_is_defanged(const char *v, size_t n)
{
    return memchr(v, '[', n) || memchr(v, '(', n) || memchr(v, '{', n) ||
           (n >= 4 && (vg_str_ieq_ascii(v, 4, "hxxp", 4) || vg_str_ieq_ascii(v, 4, "fxp:", 4)));
}

size_t vg_intel_refang(const char *in, size_t n, char *out)
{
    static const struct {
        const char *from, *to;
    } subs[] = {{"[.]", "."},       {"(.)", "."},     {"{.}", "."},  {"[dot]", "."}, {"(dot)", "."},
                {"[:]", ":"},       {"[@]", "@"},     {"[at]", "@"}, {"(at)", "@"},  {"[/]", "/"},
                {"hxxps", "https"}, {"hxxp", "http"}, {"fxp", "ftp"}};
    size_t i = 0, o = 0;
    while (i < n) {
        size_t k;
        for (k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
            size_t fl = strlen(subs[k].from), tl = strlen(subs[k].to);
            /* the scheme forms only at the start of the value */
            if (subs[k].from[0] != '[' && subs[k].from[0] != '(' && subs[k].from[0] != '{' &&
                i != 0) {
                continue;
            }
            if (fl <= n - i && vg_str_ieq_ascii(in + i, fl, subs[k].from, fl)) {
                memmove(out + o, subs[k].to, tl);
                o += tl;
                i += fl;
                break;
            }
        }
        if (k == sizeof(subs) / sizeof(subs[0])) {
            out[o++] = in[i++];
        }
    }
    return o;
}

int vg_intel_value_guess(const char *value, size_t len, enum vg_intel_type *out)
{
    static const enum vg_intel_type order[] = {VG_INTEL_IPV4, VG_INTEL_IPV6,   VG_INTEL_MD5,
                                               VG_INTEL_SHA1, VG_INTEL_SHA256, VG_INTEL_SHA512};
    char err[8];
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (vg_intel_value_check(order[i], value, len, err, sizeof(err)) == VG_OK) {
            *out = order[i];
            return VG_OK;
        }
    }
    if (vg_memmem(value, len, "://", 3) &&
        vg_intel_value_check(VG_INTEL_URL, value, len, err, sizeof(err)) == VG_OK) {
        *out = VG_INTEL_URL;
        return VG_OK;
    }
    if (memchr(value, '@', len)) {
        if (vg_intel_value_check(VG_INTEL_EMAIL, value, len, err, sizeof(err)) == VG_OK) {
            *out = VG_INTEL_EMAIL;
            return VG_OK;
        }
        return VG_ENOENT;
    }
    if (memchr(value, '.', len) &&
        vg_intel_value_check(VG_INTEL_DOMAIN, value, len, err, sizeof(err)) == VG_OK) {
        *out = VG_INTEL_DOMAIN;
        return VG_OK;
    }
    return VG_ENOENT;
}

/* ---------------------------------------------------------------- builder */

struct vg_intel_set_builder *vg_intel_set_builder_create(void)
{
    return vg_calloc(1, sizeof(struct vg_intel_set_builder));
}

void vg_intel_set_builder_destroy(struct vg_intel_set_builder *b)
{
    if (!b) {
        return;
    }
    vg_free(b->ents);
    vg_free(b->ctx);
    vg_free(b->bytes);
    vg_free(b);
}

const char *vg_intel_set_builder_error(const struct vg_intel_set_builder *b)
{
    return b->err;
}

size_t vg_intel_set_builder_count(const struct vg_intel_set_builder *b)
{
    return b->n;
}

int vg_intel_set_builder_add(struct vg_intel_set_builder *b, enum vg_intel_type type,
                             const char *value, size_t len, const struct vg_intel_ctx *ctx)
{
    uint8_t norm[MAX_VALUE];
    size_t nlen = 0;
    unsigned plen;
    bool sub;
    int rc = normalise(type, value, len, true, norm, &nlen, &plen, &sub, b->err, sizeof(b->err));
    if (rc) {
        return rc;
    }
    if (b->n >= INT32_MAX || b->blen + nlen > UINT32_MAX) {
        snprintf(b->err, sizeof(b->err), "set: too many indicators");
        return VG_ELIMIT;
    }
    if (vg_grow(&b->ents, &b->cap, b->n + 1, sizeof(*b->ents)) ||
        vg_grow(&b->ctx, &b->ctx_cap, b->n + 1, sizeof(*b->ctx)) ||
        vg_grow(&b->bytes, &b->bcap, b->blen + nlen, 1)) {
        return VG_ENOMEM;
    }
    memcpy(b->bytes + b->blen, norm, nlen);
    b->ents[b->n] = (struct bent){(uint32_t)b->blen, (uint16_t)nlen, (uint8_t)type, (uint8_t)plen};
    b->ctx[b->n] = ctx ? *ctx : (struct vg_intel_ctx){0};
    if (sub) {
        b->ctx[b->n].flags |= VG_INTEL_F_SUBDOMAINS;
    }
    b->blen += nlen;
    b->n++;
    b->err[0] = 0;
    return VG_OK;
}

/* ---------------------------------------------------------------- exact-value table */

static inline bool hash_like(unsigned t)
{
    return t < VG_INTEL_TYPE_COUNT && bin_len[t] != 0;
}

#define DOMAIN_SEED 0x3c6ef372fe94f82bULL

/*
 * Domains hash label by label from the right, so a lookup gets the hash of every parent suffix
 * (example.com, then a.example.com, ...) in one pass over the name.
 */
static inline uint64_t label_step(uint64_t h, const uint8_t *p, size_t n)
{
    return vg_hash64(p, n, h);
}

static uint64_t domain_hash(const uint8_t *p, size_t n)
{
    uint64_t h = DOMAIN_SEED;
    size_t end = n;
    for (;;) {
        size_t start = end;
        while (start > 0 && p[start - 1] != '.') {
            start--;
        }
        h = label_step(h, p + start, end - start);
        if (start == 0) {
            return h;
        }
        end = start - 1;
    }
}

static inline uint64_t key_hash(unsigned type, const uint8_t *p, size_t n)
{
    if (type == VG_INTEL_DOMAIN) {
        return domain_hash(p, n);
    }
    if (hash_like(type) && n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        return vg_hash_mix(w ^ ((uint64_t)type << 56));
    }
    return vg_hash64(p, n, 0x9e3779b97f4a7c15ULL * (type + 1));
}

/*
 * Blocked Bloom filter, two bits in one 64-bit word: ~16 bits per value gives ~2 % false
 * positives and keeps most misses inside a table small enough for L2, away from the slots.
 */
static inline uint64_t filter_bits(uint64_t h)
{
    return (1ULL << (h >> 58)) | (1ULL << ((h >> 52) & 63));
}

static inline bool filter_has(const uint64_t *f, uint32_t fmask, uint64_t h)
{
    uint64_t bits = filter_bits(h);
    return (f[(h >> 20) & fmask] & bits) == bits;
}

static inline void filter_add(uint64_t *f, uint32_t fmask, uint64_t h)
{
    f[(h >> 20) & fmask] |= filter_bits(h);
}

static uint32_t filter_words(size_t n)
{
    uint32_t w = 1;
    while (w < n / 4 + 1) {
        w *= 2;
    }
    return w;
}

/* Find (type, value) with hash h among exact values; id or NONE. */
static inline uint32_t exact_find_h(const struct vg_intel_set *s, unsigned type, const uint8_t *p,
                                    size_t n, uint64_t h)
{
    uint32_t tag = (uint32_t)(h >> 32), i = (uint32_t)h & s->mask;
    for (;;) {
        uint64_t slot = s->slots[i];
        if (!slot) {
            return NONE;
        }
        if ((uint32_t)(slot >> 32) == tag) {
            const uint8_t *r = s->arena + (uint32_t)slot - 1;
            uint16_t len;
            uint32_t id;
            memcpy(&len, r + 5, 2);
            if (r[4] == type && len == n && memcmp(r + REC_HDR, p, n) == 0) {
                memcpy(&id, r, 4);
                return id;
            }
        }
        i = (i + 1) & s->mask;
    }
}

static inline uint32_t exact_find(const struct vg_intel_set *s, unsigned type, const uint8_t *p,
                                  size_t n)
{
    if (!s->slots) {
        return NONE;
    }
    uint64_t h = key_hash(type, p, n);
    return filter_has(s->filter + s->fbase[type], s->fmask[type], h)
               ? exact_find_h(s, type, p, n, h)
               : NONE;
}

static void exact_insert(uint64_t *slots, uint32_t mask, uint64_t h, uint32_t val)
{
    uint32_t i = (uint32_t)h & mask;
    while (slots[i]) {
        i = (i + 1) & mask;
    }
    slots[i] = (h >> 32) << 32 | val;
}

/* Find a builder entry equal to e in a temporary table holding builder indexes + 1. */
static uint64_t *dedupe_slot(const struct vg_intel_set_builder *b, uint64_t *slots, uint32_t mask,
                             uint64_t h, const struct bent *e)
{
    uint32_t i = (uint32_t)h & mask;
    while (slots[i]) {
        if ((uint32_t)(slots[i] >> 32) == (uint32_t)(h >> 32)) {
            const struct bent *o = &b->ents[(uint32_t)slots[i] - 1];
            if (o->type == e->type && o->len == e->len &&
                memcmp(b->bytes + o->off, b->bytes + e->off, e->len) == 0) {
                return &slots[i];
            }
        }
        i = (i + 1) & mask;
    }
    slots[i] = (h >> 32) << 32;
    return &slots[i];
}

static uint32_t table_cap(size_t n)
{
    uint32_t cap = 16;
    while (cap < n + n / 2 + 1) {
        cap *= 2;
    }
    return cap;
}

/*
 * Mark in win[] the last occurrence of each distinct exact value; returns how many there are,
 * or -1 on allocation failure.
 */
static long exact_winners(const struct vg_intel_set_builder *b, uint8_t *win)
{
    uint32_t cap = table_cap(b->n), mask = cap - 1;
    uint64_t *tmp = vg_calloc(cap, sizeof(*tmp));
    long count = 0;
    if (!tmp) {
        return -1;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct bent *e = &b->ents[i];
        if (e->type <= VG_INTEL_IPV6) {
            continue;
        }
        uint64_t *slot = dedupe_slot(b, tmp, mask, key_hash(e->type, b->bytes + e->off, e->len), e);
        uint32_t prev = (uint32_t)*slot;
        if (prev) {
            win[prev - 1] = 0; /* the later add wins */
        } else {
            count++;
        }
        *slot = (*slot >> 32) << 32 | ((uint64_t)i + 1);
        win[i] = 1;
    }
    vg_free(tmp);
    return count;
}

/* Filter over the subdomain-flagged domains, probed before each parent suffix. */
static int build_sfilter(struct vg_intel_set *s)
{
    s->sfmask = filter_words(s->n_subdomain) - 1;
    s->sfilter = vg_calloc((size_t)s->sfmask + 1, sizeof(*s->sfilter));
    if (!s->sfilter) {
        return VG_ENOMEM;
    }
    s->bytes += ((size_t)s->sfmask + 1) * sizeof(*s->sfilter);
    for (size_t off = 0; off < s->arena_len;) {
        const uint8_t *r = s->arena + off;
        uint32_t id;
        uint16_t len;
        memcpy(&id, r, 4);
        memcpy(&len, r + 5, 2);
        if (r[4] == VG_INTEL_DOMAIN && (s->ctx[id].flags & VG_INTEL_F_SUBDOMAINS)) {
            filter_add(s->sfilter, s->sfmask, key_hash(VG_INTEL_DOMAIN, r + REC_HDR, len));
            size_t labels = 1;
            for (uint16_t i = 0; i < len; i++) {
                labels += r[REC_HDR + i] == '.';
            }
            s->sub_labels |= 1ULL << (VG_MIN(labels, 64) - 1);
        }
        off += REC_HDR + len;
    }
    return VG_OK;
}

static int freeze_exact(const struct vg_intel_set_builder *b, struct vg_intel_set *s)
{
    uint8_t *win = vg_calloc(b->n ? b->n : 1, 1);
    long nx = win ? exact_winners(b, win) : -1;
    size_t bytes = 0, id = 0;
    int rc = VG_ENOMEM;
    if (nx < 0) {
        goto out;
    }
    for (size_t i = 0; i < b->n; i++) {
        bytes += win[i] ? REC_HDR + b->ents[i].len : 0;
    }
    if (bytes >= UINT32_MAX) {
        rc = VG_ELIMIT;
        goto out;
    }
    s->nx = (uint32_t)nx;
    uint32_t cap = table_cap((size_t)nx);
    s->mask = cap - 1;
    s->slots = vg_calloc(cap, sizeof(*s->slots));
    s->arena_len = bytes;
    s->arena = vg_malloc(bytes + 1);
    size_t per_type[VG_INTEL_TYPE_COUNT] = {0}, words = 0;
    for (size_t i = 0; i < b->n; i++) {
        per_type[b->ents[i].type] += win[i] != 0;
    }
    for (unsigned t = 0; t < VG_INTEL_TYPE_COUNT; t++) {
        s->fbase[t] = (uint32_t)words;
        s->fmask[t] = filter_words(per_type[t]) - 1;
        words += (size_t)s->fmask[t] + 1;
    }
    s->filter = vg_calloc(words, sizeof(*s->filter));
    if (!s->slots || !s->arena || !s->filter) {
        goto out;
    }
    s->bytes += cap * sizeof(*s->slots) + bytes + 1 + words * sizeof(*s->filter);
    uint32_t off = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!win[i]) {
            continue;
        }
        const struct bent *e = &b->ents[i];
        uint8_t *r = s->arena + off;
        uint32_t id32 = (uint32_t)id;
        memcpy(r, &id32, 4);
        r[4] = e->type;
        memcpy(r + 5, &e->len, 2);
        memcpy(r + REC_HDR, b->bytes + e->off, e->len);
        s->ctx[id] = b->ctx[i];
        s->count[e->type]++;
        s->n_subdomain += e->type == VG_INTEL_DOMAIN && (b->ctx[i].flags & VG_INTEL_F_SUBDOMAINS);
        uint64_t h = key_hash(e->type, r + REC_HDR, e->len);
        exact_insert(s->slots, s->mask, h, off + 1);
        filter_add(s->filter + s->fbase[e->type], s->fmask[e->type], h);
        off += REC_HDR + e->len;
        id++;
    }
    rc = build_sfilter(s);
out:
    vg_free(win);
    return rc;
}

/* ---------------------------------------------------------------- IP ranges */

struct pfx {
    u128 start, end;
    uint32_t bidx; /* builder index */
    uint8_t plen;
};

static int pfx_cmp(const void *a, const void *b)
{
    const struct pfx *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->plen != y->plen) {
        return x->plen < y->plen ? -1 : 1; /* wider first: it encloses the narrower */
    }
    return x->bidx < y->bidx ? -1 : x->bidx > y->bidx;
}

struct sweep {
    u128 *start;
    uint32_t *val;
    uint32_t nr;
};

static void emit(struct sweep *w, u128 start, uint32_t val)
{
    if (w->nr && w->start[w->nr - 1] == start) {
        w->val[w->nr - 1] = val;
    } else if (!w->nr || w->val[w->nr - 1] != val) {
        w->start[w->nr] = start;
        w->val[w->nr++] = val;
    }
}

/* Close every open prefix that ends before `until` (all of them when last). */
static void close_until(struct sweep *w, const struct pfx *p, uint32_t *stack, uint32_t *depth,
                        u128 until, bool last, u128 max)
{
    while (*depth && (last || p[stack[*depth - 1]].end < until)) {
        u128 end = p[stack[--*depth]].end;
        if (end != max) {
            emit(w, end + 1, *depth ? stack[*depth - 1] : NONE);
        }
    }
}

/* Sorted, deduplicated prefixes → ranges and parent links (w arrays hold 2n + 1). */
static void sweep_ranges(const struct pfx *p, uint32_t n, u128 max, struct sweep *w,
                         uint32_t *parent, uint32_t *stack)
{
    uint32_t depth = 0;
    w->nr = 0;
    emit(w, 0, NONE);
    for (uint32_t i = 0; i < n; i++) {
        close_until(w, p, stack, &depth, p[i].start, false, max);
        parent[i] = depth ? stack[depth - 1] : NONE;
        stack[depth++] = i;
        emit(w, p[i].start, i);
    }
    close_until(w, p, stack, &depth, 0, true, max);
}

/* Collect and sort the prefixes of one family, keeping the last of duplicates. */
static struct pfx *collect_pfx(const struct vg_intel_set_builder *b, unsigned type, uint32_t *np)
{
    size_t n = 0, k = 0;
    unsigned bits = type == VG_INTEL_IPV4 ? 32 : 128;
    for (size_t i = 0; i < b->n; i++) {
        n += b->ents[i].type == type;
    }
    struct pfx *p = vg_malloc((n ? n : 1) * sizeof(*p));
    if (!p) {
        return NULL;
    }
    for (size_t i = 0; i < b->n; i++) {
        const struct bent *e = &b->ents[i];
        if (e->type != type) {
            continue;
        }
        u128 v = 0;
        if (type == VG_INTEL_IPV4) {
            uint32_t a;
            memcpy(&a, b->bytes + e->off, 4);
            v = a;
        } else {
            for (int j = 0; j < 16; j++) {
                v = v << 8 | b->bytes[e->off + j];
            }
        }
        unsigned hbits = bits - e->plen; /* a shift by 128 would be undefined */
        u128 host = hbits == 128 ? ~(u128)0 : ((u128)1 << hbits) - 1;
        p[k++] = (struct pfx){v, v | host, (uint32_t)i, e->plen};
    }
    qsort(p, n, sizeof(*p), pfx_cmp);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) { /* sorted by builder index within a prefix: last wins */
        if (j && p[j - 1].start == p[i].start && p[j - 1].plen == p[i].plen) {
            j--;
        }
        p[j++] = p[i];
    }
    *np = (uint32_t)j;
    return p;
}

/* Bucket index on the top 16 bits of each range start. */
static void build_buckets(struct iptab *t, const u128 *start, unsigned shift)
{
    uint32_t r = 0;
    for (uint32_t bkt = 0; bkt <= BUCKETS; bkt++) {
        while (r < t->nr && (uint32_t)(start[r] >> shift) < bkt) {
            r++;
        }
        t->bucket[bkt] = r;
    }
}

static int fill_iptab(struct iptab *t, const struct sweep *w, unsigned type)
{
    t->nr = w->nr;
    t->val = vg_malloc(w->nr * sizeof(*t->val));
    t->bucket = vg_malloc((BUCKETS + 1) * sizeof(*t->bucket));
    if (type == VG_INTEL_IPV4) {
        t->k4 = vg_malloc(w->nr * sizeof(*t->k4));
    } else {
        t->k6 = vg_malloc(w->nr * 2 * sizeof(*t->k6));
    }
    if (!t->val || !t->bucket || (!t->k4 && !t->k6)) {
        return VG_ENOMEM;
    }
    memcpy(t->val, w->val, w->nr * sizeof(*t->val));
    for (uint32_t r = 0; r < w->nr; r++) {
        if (t->k4) {
            t->k4[r] = (uint32_t)w->start[r];
        } else {
            t->k6[2 * r] = (uint64_t)(w->start[r] >> 64);
            t->k6[2 * r + 1] = (uint64_t)w->start[r];
        }
    }
    build_buckets(t, w->start, type == VG_INTEL_IPV4 ? 16 : 112);
    return VG_OK;
}

static int freeze_ip(const struct vg_intel_set_builder *b, struct vg_intel_set *s, unsigned type,
                     struct iptab *t)
{
    uint32_t n = 0, *stack = NULL;
    struct sweep w = {0};
    struct pfx *p = collect_pfx(b, type, &n);
    int rc = VG_ENOMEM;
    if (!p) {
        goto out;
    }
    t->n = n;
    t->base = s->n;
    t->parent = vg_malloc((n ? n : 1) * sizeof(*t->parent));
    t->plen = vg_malloc(n ? n : 1);
    stack = vg_malloc((n ? n : 1) * sizeof(*stack));
    w.start = vg_malloc((2 * (size_t)n + 1) * sizeof(*w.start));
    w.val = vg_malloc((2 * (size_t)n + 1) * sizeof(*w.val));
    if (!t->parent || !t->plen || !stack || !w.start || !w.val) {
        goto out;
    }
    sweep_ranges(p, n, type == VG_INTEL_IPV4 ? 0xffffffffu : ~(u128)0, &w, t->parent, stack);
    if ((rc = fill_iptab(t, &w, type))) {
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        t->plen[i] = p[i].plen;
        s->ctx[s->n + i] = b->ctx[p[i].bidx];
    }
    s->n += n;
    s->count[type] = n;
    s->bytes += n * 5u + w.nr * (type == VG_INTEL_IPV4 ? 8u : 20u) + (BUCKETS + 1) * 4u;
out:
    vg_free(p);
    vg_free(stack);
    vg_free(w.start);
    vg_free(w.val);
    return rc;
}

static void iptab_fini(struct iptab *t)
{
    vg_free(t->k4);
    vg_free(t->k6);
    vg_free(t->val);
    vg_free(t->bucket);
    vg_free(t->parent);
    vg_free(t->plen);
}

int vg_intel_set_builder_freeze(struct vg_intel_set_builder *b, struct vg_intel_set **out)
{
    struct vg_intel_set *s = vg_calloc(1, sizeof(*s));
    int rc = VG_ENOMEM;
    *out = NULL;
    if (!s || !(s->ctx = vg_malloc((b->n ? b->n : 1) * sizeof(*s->ctx)))) {
        goto fail;
    }
    if ((rc = freeze_exact(b, s))) {
        goto fail;
    }
    s->n = s->nx;
    if ((rc = freeze_ip(b, s, VG_INTEL_IPV4, &s->v4)) ||
        (rc = freeze_ip(b, s, VG_INTEL_IPV6, &s->v6))) {
        goto fail;
    }
    s->bytes += sizeof(*s) + (size_t)s->n * sizeof(*s->ctx);
    /* Duplicates left the tail of ctx unused: give it back. */
    struct vg_intel_ctx *c = vg_realloc(s->ctx, (s->n ? s->n : 1) * sizeof(*s->ctx));
    s->ctx = c ? c : s->ctx;
    *out = s;
    return VG_OK;
fail:
    vg_intel_set_destroy(s);
    return rc;
}

void vg_intel_set_destroy(struct vg_intel_set *s)
{
    if (!s) {
        return;
    }
    vg_free(s->ctx);
    vg_free(s->arena);
    vg_free(s->slots);
    vg_free(s->filter);
    vg_free(s->sfilter);
    iptab_fini(&s->v4);
    iptab_fini(&s->v6);
    vg_free(s);
}

/* ---------------------------------------------------------------- lookups */

static inline bool live(const struct vg_intel_ctx *c, uint32_t now)
{
    return c->valid_until == 0 || now < c->valid_until;
}

static void count_skip(const struct vg_intel_set *s)
{
    atomic_fetch_add_explicit(&((struct vg_intel_set *)s)->expired_skips, 1, memory_order_relaxed);
}

static int hit_id(const struct vg_intel_set *s, uint32_t id, unsigned type, unsigned prefix,
                  size_t at, struct vg_intel_hit *hit)
{
    hit->ctx = &s->ctx[id];
    hit->id = id;
    hit->type = (uint8_t)type;
    hit->prefix = (uint8_t)prefix;
    hit->match_at = (uint16_t)at;
    return VG_OK;
}

/* From the most specific prefix of range r, walk to the first live one. */
static int ip_walk(const struct vg_intel_set *s, const struct iptab *t, uint32_t r, unsigned type,
                   uint32_t now, struct vg_intel_hit *hit)
{
    for (uint32_t v = t->val[r]; v != NONE; v = t->parent[v]) {
        if (VG_LIKELY(live(&s->ctx[t->base + v], now))) {
            return hit_id(s, t->base + v, type, t->plen[v], 0, hit);
        }
        count_skip(s);
    }
    return VG_ENOENT;
}

int vg_intel_set_lookup_ip4(const struct vg_intel_set *s, uint32_t be_addr, uint32_t now,
                            struct vg_intel_hit *hit)
{
    const struct iptab *t = &s->v4;
    if (!t->n) {
        return VG_ENOENT;
    }
    uint32_t a = ntohl(be_addr), lo = t->bucket[a >> 16], hi = t->bucket[(a >> 16) + 1];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (t->k4[mid] <= a) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return ip_walk(s, t, lo - 1, VG_INTEL_IPV4, now, hit);
}

int vg_intel_set_lookup_ip6(const struct vg_intel_set *s, const uint8_t addr[16], uint32_t now,
                            struct vg_intel_hit *hit)
{
    const struct iptab *t = &s->v6;
    if (!t->n) {
        return VG_ENOENT;
    }
    uint64_t ah = 0, al = 0;
    for (int i = 0; i < 8; i++) {
        ah = ah << 8 | addr[i];
        al = al << 8 | addr[8 + i];
    }
    uint32_t lo = t->bucket[ah >> 48], hi = t->bucket[(ah >> 48) + 1];
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        const uint64_t *k = &t->k6[2 * mid];
        if (k[0] < ah || (k[0] == ah && k[1] <= al)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return ip_walk(s, t, lo - 1, VG_INTEL_IPV6, now, hit);
}

int vg_intel_set_lookup_bin(const struct vg_intel_set *s, enum vg_intel_type type,
                            const uint8_t *bin, size_t len, uint32_t now, struct vg_intel_hit *hit)
{
    if (type == VG_INTEL_IPV4 && len == 4) {
        uint32_t be;
        memcpy(&be, bin, 4);
        return vg_intel_set_lookup_ip4(s, be, now, hit);
    }
    if (type == VG_INTEL_IPV6 && len == 16) {
        return vg_intel_set_lookup_ip6(s, bin, now, hit);
    }
    uint32_t id = exact_find(s, type, bin, len);
    if (id == NONE) {
        return VG_ENOENT;
    }
    if (!live(&s->ctx[id], now)) {
        count_skip(s);
        return VG_ENOENT;
    }
    return hit_id(s, id, type, 0, 0, hit);
}

/*
 * Hash every suffix of a normalised domain (right to left, as domain_hash) and prefetch the
 * filter words each will test: the name against the main filter, a parent against the
 * subdomain filter, and only at label counts some flagged domain has. Returns the labels.
 */
static size_t domain_suffixes(const struct vg_intel_set *s, const uint8_t *d, size_t n,
                              uint64_t *hs, uint16_t *at)
{
    uint64_t h = DOMAIN_SEED;
    size_t end = n, k = 0;
    for (;;) {
        size_t start = end;
        while (start > 0 && d[start - 1] != '.') {
            start--;
        }
        hs[k] = h = label_step(h, d + start, end - start);
        at[k++] = (uint16_t)start;
        if (start == 0) {
            break;
        }
        end = start - 1;
    }
    __builtin_prefetch(
        &s->filter[s->fbase[VG_INTEL_DOMAIN] + ((h >> 20) & s->fmask[VG_INTEL_DOMAIN])]);
    for (size_t i = 0; i + 1 < k; i++) {
        if (s->sub_labels >> VG_MIN(i, 63) & 1) {
            __builtin_prefetch(&s->sfilter[(hs[i] >> 20) & s->sfmask]);
        }
    }
    return k;
}

/* Try the name, then each parent suffix, where a parent only matches with the subdomain flag. */
static int lookup_domain(const struct vg_intel_set *s, const uint8_t *d, size_t n, uint32_t now,
                         struct vg_intel_hit *hit)
{
    uint64_t hs[MAX_DOMAIN / 2 + 2];
    uint16_t at[MAX_DOMAIN / 2 + 2];
    if (!s->slots) {
        return VG_ENOENT;
    }
    size_t k = domain_suffixes(s, d, n, hs, at);
    for (size_t i = k; i-- > 0;) {
        bool name = i == k - 1, maybe;
        if (name) {
            maybe =
                filter_has(s->filter + s->fbase[VG_INTEL_DOMAIN], s->fmask[VG_INTEL_DOMAIN], hs[i]);
        } else {
            maybe =
                (s->sub_labels >> VG_MIN(i, 63) & 1) && filter_has(s->sfilter, s->sfmask, hs[i]);
        }
        uint32_t id = maybe ? exact_find_h(s, VG_INTEL_DOMAIN, d + at[i], n - at[i], hs[i]) : NONE;
        if (id != NONE && (name || (s->ctx[id].flags & VG_INTEL_F_SUBDOMAINS))) {
            if (live(&s->ctx[id], now)) {
                return hit_id(s, id, VG_INTEL_DOMAIN, 0, at[i], hit);
            }
            count_skip(s);
        }
    }
    return VG_ENOENT;
}

int vg_intel_set_lookup(const struct vg_intel_set *s, enum vg_intel_type type, const char *value,
                        size_t len, uint32_t now, struct vg_intel_hit *hit)
{
    uint8_t norm[MAX_VALUE];
    char err[8]; /* the reason is not reported on the lookup path */
    size_t n = 0;
    unsigned plen;
    bool sub;
    int rc = normalise(type, value, len, false, norm, &n, &plen, &sub, err, sizeof(err));
    if (rc) {
        return rc == VG_ELIMIT ? VG_ENOENT : rc;
    }
    if ((type == VG_INTEL_IPV4 && plen != 32) || (type == VG_INTEL_IPV6 && plen != 128)) {
        return VG_EINVAL; /* a query is an address, not a prefix */
    }
    if (type == VG_INTEL_IPV4) {
        uint32_t a;
        memcpy(&a, norm, 4);
        return vg_intel_set_lookup_ip4(s, htonl(a), now, hit);
    }
    if (type == VG_INTEL_DOMAIN) {
        return lookup_domain(s, norm, n, now, hit);
    }
    return vg_intel_set_lookup_bin(s, type, norm, n, now, hit);
}

/* ---------------------------------------------------------------- stats, decay */

void vg_intel_set_stats(const struct vg_intel_set *s, uint32_t now, struct vg_intel_set_stats *st)
{
    memset(st, 0, sizeof(*st));
    memcpy(st->count, s->count, sizeof(st->count));
    st->total = s->n;
    st->bytes = s->bytes;
    for (uint32_t i = 0; i < s->n; i++) {
        st->expired += !live(&s->ctx[i], now);
    }
    st->expired_skips = atomic_load_explicit(&s->expired_skips, memory_order_relaxed);
}

unsigned vg_intel_ctx_confidence_at(const struct vg_intel_ctx *c, uint32_t now,
                                    uint32_t half_life_s)
{
    uint32_t seen = c->last_seen ? c->last_seen : c->first_seen;
    if (!live(c, now)) {
        return 0;
    }
    if (!half_life_s || !seen || now <= seen || (c->flags & VG_INTEL_F_NO_DECAY)) {
        return c->confidence;
    }
    /* 2^(-age/half_life) by halvings and a linear step inside one half-life: monotone, no libm */
    uint32_t age = now - seen, halvings = age / half_life_s;
    if (halvings >= 8) {
        return 0;
    }
    uint64_t conf = (uint64_t)c->confidence << 16 >> halvings;
    uint64_t frac = (uint64_t)(age % half_life_s) * 32768 / half_life_s; /* 0..0.5 in Q16 */
    conf -= conf * frac >> 16;
    return (unsigned)(conf >> 16);
}
