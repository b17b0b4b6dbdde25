/*
 * test_set.c — typed indicator sets (src/intel/intel_set.c): exact values, CIDR longest
 * prefix (overlaps, /0, /32, /128), IPv6, domain suffixes with and without the subdomain
 * flag, normalisation (case, trailing dot, upper-case hashes), malformed values rejected with
 * a reason, expiry with fallback to enclosing prefixes, decay, allocation failures, and a
 * random differential test against a naive linear reference.
 */
#include <arpa/inet.h>

#include "core/core.h"
#include "intel/intel_set.h"
#include "vgtest.h"

static struct vg_intel_ctx ctx_src(uint16_t src)
{
    struct vg_intel_ctx c = {0};
    c.source = src;
    c.confidence = 80;
    return c;
}

static int add(struct vg_intel_set_builder *b, enum vg_intel_type t, const char *v, uint16_t src)
{
    struct vg_intel_ctx c = ctx_src(src);
    return vg_intel_set_builder_add(b, t, v, strlen(v), &c);
}

/* Source id of the hit for value v, or -1 on a miss, -2 on a malformed query. */
static int q(const struct vg_intel_set *s, enum vg_intel_type t, const char *v, uint32_t now)
{
    struct vg_intel_hit h;
    int rc = vg_intel_set_lookup(s, t, v, strlen(v), now, &h);
    if (rc == VG_ENOENT) {
        return -1;
    }
    if (rc) {
        return -2;
    }
    return h.ctx->source;
}

static struct vg_intel_set *freeze(struct vg_intel_set_builder *b)
{
    struct vg_intel_set *s = NULL;
    CHECK_EQ_INT(vg_intel_set_builder_freeze(b, &s), 0);
    return s;
}

VG_TEST(type_names_round_trip)
{
    for (int t = 0; t < VG_INTEL_TYPE_COUNT; t++) {
        enum vg_intel_type out;
        const char *n = vg_intel_type_name((enum vg_intel_type)t);
        CHECK_EQ_INT(vg_intel_type_parse(n, strlen(n), &out), 0);
        CHECK_EQ_INT(out, t);
    }
    enum vg_intel_type out;
    CHECK_EQ_INT(vg_intel_type_parse("IPv4", 4, &out), VG_EINVAL);
    CHECK_STR(vg_intel_type_name(VG_INTEL_SHA256), "sha256");
}

VG_TEST(exact_values_and_hashes)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    CHECK_EQ_INT(add(b, VG_INTEL_URL, "HTTP://Evil.Example.COM/Path?A=B", 1), 0);
    CHECK_EQ_INT(add(b, VG_INTEL_EMAIL, "Bad.Guy@Example.ORG", 2), 0);
    CHECK_EQ_INT(add(b, VG_INTEL_MD5, "D41D8CD98F00B204E9800998ECF8427E", 3), 0);
    CHECK_EQ_INT(add(b, VG_INTEL_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 4), 0);
    CHECK_EQ_INT(add(b, VG_INTEL_SHA256,
                     "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", 5),
                 0);
    CHECK_EQ_INT(add(b, VG_INTEL_JA3, "e7d705a3286e19ea42f587b344ee6865", 6), 0);
    CHECK_EQ_INT(add(b, VG_INTEL_FILENAME, "Invoice 2024.exe", 7), 0);
    CHECK_EQ_INT(add(b, VG_INTEL_URL, "Example.com/Go?u=http://X", 8), 0); /* no scheme */
    struct vg_intel_set *s = freeze(b);
    CHECK_EQ_INT(q(s, VG_INTEL_URL, "EXAMPLE.COM/Go?u=http://X", 0), 8);
    CHECK_EQ_INT(q(s, VG_INTEL_URL, "example.com/go?u=http://x", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_URL, "http://evil.example.com/Path?A=B", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_URL, "http://evil.example.com/path?a=b", 0), -1); /* path case */
    CHECK_EQ_INT(q(s, VG_INTEL_EMAIL, "bad.guy@example.org", 0), 2);
    CHECK_EQ_INT(q(s, VG_INTEL_MD5, "d41d8cd98f00b204e9800998ecf8427e", 0), 3);
    CHECK_EQ_INT(q(s, VG_INTEL_SHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", 0), 4);
    CHECK_EQ_INT(q(s, VG_INTEL_SHA256,
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0),
                 5);
    /* Same bytes, other type: no hit (keyed by type and value). */
    CHECK_EQ_INT(q(s, VG_INTEL_JA3S, "e7d705a3286e19ea42f587b344ee6865", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_JA3, "E7D705A3286E19EA42F587B344EE6865", 0), 6);
    CHECK_EQ_INT(q(s, VG_INTEL_FILENAME, "Invoice 2024.exe", 0), 7);
    CHECK_EQ_INT(q(s, VG_INTEL_FILENAME, "invoice 2024.exe", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_MD5, "d41d8cd98f00b204e9800998ecf8427f", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_MD5, "xyz", 0), -2);
    uint8_t bin[16] = {0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
                       0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e};
    struct vg_intel_hit h;
    CHECK_EQ_INT(vg_intel_set_lookup_bin(s, VG_INTEL_MD5, bin, 16, 0, &h), 0);
    CHECK_EQ_INT(h.type, VG_INTEL_MD5);
    struct vg_intel_set_stats st;
    vg_intel_set_stats(s, 0, &st);
    CHECK_EQ_INT(st.total, 8);
    CHECK_EQ_INT(st.count[VG_INTEL_SHA256], 1);
    CHECK(st.bytes > 0);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
}

VG_TEST(duplicates_later_add_wins)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    add(b, VG_INTEL_DOMAIN, "example.com", 1);
    add(b, VG_INTEL_DOMAIN, "EXAMPLE.com.", 2);
    add(b, VG_INTEL_IPV4, "10.0.0.0/8", 3);
    add(b, VG_INTEL_IPV4, "10.1.2.3/8", 4); /* host bits cleared: same prefix */
    struct vg_intel_set *s = freeze(b);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "example.com", 0), 2);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.9.9.9", 0), 4);
    struct vg_intel_set_stats st;
    vg_intel_set_stats(s, 0, &st);
    CHECK_EQ_INT(st.total, 2);
    CHECK_EQ_INT(vg_intel_set_builder_count(b), 4);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
}

VG_TEST(cidr_longest_prefix)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    add(b, VG_INTEL_IPV4, "0.0.0.0/0", 1);
    add(b, VG_INTEL_IPV4, "10.0.0.0/8", 2);
    add(b, VG_INTEL_IPV4, "10.1.0.0/16", 3);
    add(b, VG_INTEL_IPV4, "10.1.2.3", 4);
    add(b, VG_INTEL_IPV4, "10.1.2.0/24", 5);
    add(b, VG_INTEL_IPV4, "255.255.255.255/32", 6);
    add(b, VG_INTEL_IPV4, "192.168.0.0/31", 7);
    struct vg_intel_set *s = freeze(b);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "8.8.8.8", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "0.0.0.0", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.200.0.1", 0), 2);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.1.200.1", 0), 3);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.1.2.3", 0), 4);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.1.2.4", 0), 5);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.1.2.2", 0), 5);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.1.3.0", 0), 3);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "11.0.0.0", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "255.255.255.255", 0), 6);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "255.255.255.254", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "192.168.0.1", 0), 7);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "192.168.0.2", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.0.0.0/8", 0), -2); /* a query is an address */
    struct vg_intel_hit h;
    CHECK_EQ_INT(vg_intel_set_lookup_ip4(s, htonl(0x0a010204u), 0, &h), 0);
    CHECK_EQ_INT(h.prefix, 24);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
}

VG_TEST(ipv6_prefixes)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    add(b, VG_INTEL_IPV6, "2001:db8::/32", 1);
    add(b, VG_INTEL_IPV6, "2001:DB8:0:1::/64", 2);
    add(b, VG_INTEL_IPV6, "2001:db8:0:1::1", 3);
    add(b, VG_INTEL_IPV6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 4);
    add(b, VG_INTEL_IPV6, "::/0", 5);
    add(b, VG_INTEL_IPV4, "1.2.3.4", 6); /* other family does not leak */
    struct vg_intel_set *s = freeze(b);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "2001:db8::5", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "2001:0db8:0000:0001:0000:0000:0000:0002", 0), 2);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "2001:db8:0:1::1", 0), 3);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0), 4);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 0), 5);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "::", 0), 5);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "::ffff:1.2.3.4", 0), 5);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "1.2.3.4", 0), 6);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "1.2.3.5", 0), -1);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
}

VG_TEST(domain_suffixes)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    struct vg_intel_ctx c = ctx_src(1);
    c.flags = VG_INTEL_F_SUBDOMAINS;
    CHECK_EQ_INT(vg_intel_set_builder_add(b, VG_INTEL_DOMAIN, "Example.COM.", 12, &c), 0);
    add(b, VG_INTEL_DOMAIN, "exact.org", 2);
    add(b, VG_INTEL_DOMAIN, "*.wild.net", 3);
    add(b, VG_INTEL_DOMAIN, ".dot.net", 4);
    add(b, VG_INTEL_DOMAIN, "deep.a.wild.net", 5);
    struct vg_intel_set *s = freeze(b);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "example.com", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "A.B.EXAMPLE.com.", 0), 1);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "notexample.com", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "exact.org", 0), 2);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "www.exact.org", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "x.wild.net", 0), 3);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "wild.net", 0), 3);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "x.dot.net", 0), 4);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "deep.a.wild.net", 0), 5);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "x.deep.a.wild.net", 0), 3); /* deep has no flag */
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "com", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "a..example.com", 0), -2);
    struct vg_intel_hit h;
    CHECK_EQ_INT(vg_intel_set_lookup(s, VG_INTEL_DOMAIN, "a.b.example.com", 15, 0, &h), 0);
    CHECK_EQ_INT(h.match_at, 4);
    CHECK(h.ctx->flags & VG_INTEL_F_SUBDOMAINS);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
}

static void reject(enum vg_intel_type t, const char *v, const char *reason)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    int rc = vg_intel_set_builder_add(b, t, v, strlen(v), NULL);
    CHECK(rc == VG_EINVAL || rc == VG_ELIMIT);
    const char *err = vg_intel_set_builder_error(b);
    if (!strstr(err, reason)) {
        fprintf(stderr, "  '%s': reason '%s' lacks '%s'\n", v, err, reason);
        vgt_failed_checks++;
    }
    CHECK_EQ_INT(vg_intel_set_builder_count(b), 0);
    vg_intel_set_builder_destroy(b);
}

VG_TEST(malformed_rejected_with_reason)
{
    reject(VG_INTEL_IPV4, "1.2.3.256", "octet 4 > 255 at offset 6");
    reject(VG_INTEL_IPV4, "1.2.3", "expected '.' at offset 5");
    reject(VG_INTEL_IPV4, "1.2.3.4/33", "prefix length 33 > 32");
    reject(VG_INTEL_IPV4, "1.2.3.4/", "prefix length needs 1-3 digits");
    reject(VG_INTEL_IPV4, "1.2.3.4x", "unexpected 'x' at offset 7");
    reject(VG_INTEL_IPV4, "", "octet 1 needs 1-3 digits");
    reject(VG_INTEL_IPV6, "2001:db8:::1", "ipv6: malformed");
    reject(VG_INTEL_IPV6, "::/129", "prefix length 129 > 128");
    reject(VG_INTEL_DOMAIN, "a..b", "empty label at offset 2");
    reject(VG_INTEL_DOMAIN, "bad domain.com", "invalid character 0x20 at offset 3");
    reject(VG_INTEL_DOMAIN, ".", "domain: length 0");
    reject(VG_INTEL_MD5, "d41d8cd98f00b204e9800998ecf8427", "31 hex digits, expected 32");
    reject(VG_INTEL_SHA1, "zz39a3ee5e6b4b0d3255bfef95601890afd80709", "non-hex 'z' at offset 0");
    reject(VG_INTEL_EMAIL, "nobody", "one '@'");
    reject(VG_INTEL_EMAIL, "a@b@c", "one '@'");
    reject(VG_INTEL_URL, "http://a b", "invalid character 0x20 at offset 8");
    reject(VG_INTEL_URL, "", "empty");
    reject(VG_INTEL_FILENAME, "a\nb", "0x0a at offset 1");
    reject((enum vg_intel_type)99, "x", "unknown indicator type");
    static char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    reject(VG_INTEL_URL, big, "exceeds 4096");
    char lbl[80];
    memset(lbl, 'a', 70);
    memcpy(lbl + 70, ".com", 5);
    reject(VG_INTEL_DOMAIN, lbl, "label longer than 63");
}

VG_TEST(expiry_and_fallback)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    struct vg_intel_ctx c = ctx_src(1);
    add(b, VG_INTEL_IPV4, "10.0.0.0/8", 1);
    c.source = 2;
    c.valid_until = 1000;
    vg_intel_set_builder_add(b, VG_INTEL_IPV4, "10.1.0.0/16", 11, &c);
    c.source = 3;
    vg_intel_set_builder_add(b, VG_INTEL_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 40, &c);
    c.source = 4;
    c.flags = VG_INTEL_F_SUBDOMAINS;
    vg_intel_set_builder_add(b, VG_INTEL_DOMAIN, "a.example.com", 13, &c);
    c.source = 5;
    c.valid_until = 0;
    vg_intel_set_builder_add(b, VG_INTEL_DOMAIN, "example.com", 11, &c);
    struct vg_intel_set *s = freeze(b);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.1.1.1", 999), 2);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "10.1.1.1", 1000), 1); /* falls back to the /8 */
    CHECK_EQ_INT(q(s, VG_INTEL_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 999), 3);
    CHECK_EQ_INT(q(s, VG_INTEL_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", 5000), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "x.a.example.com", 10), 4);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "x.a.example.com", 1000), 5);
    struct vg_intel_set_stats st;
    vg_intel_set_stats(s, 2000, &st);
    CHECK_EQ_INT(st.expired, 3);
    CHECK_EQ_INT(st.expired_skips, 3);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
}

VG_TEST(confidence_decay)
{
    struct vg_intel_ctx c = ctx_src(1);
    c.confidence = 80;
    c.last_seen = 1000;
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 1000, 100), 80);
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 1100, 100), 40);
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 1200, 100), 20);
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 1050, 100), 60);
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 5000, 100), 0);
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 5000, 0), 80);
    c.flags = VG_INTEL_F_NO_DECAY;
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 5000, 100), 80);
    c.valid_until = 4000;
    CHECK_EQ_INT(vg_intel_ctx_confidence_at(&c, 5000, 100), 0);
}

VG_TEST(empty_set)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    struct vg_intel_set *s = freeze(b);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV4, "1.2.3.4", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_IPV6, "::1", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "a.b", 0), -1);
    CHECK_EQ_INT(q(s, VG_INTEL_URL, "http://x", 0), -1);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
    vg_intel_set_destroy(NULL);
    vg_intel_set_builder_destroy(NULL);
}

VG_TEST(allocation_failures)
{
    for (long n = 1; n < 60; n++) {
        struct vg_intel_set_builder *b = NULL;
        struct vg_intel_set *s = NULL;
        vg_alloc_fail_at(n);
        b = vg_intel_set_builder_create();
        int rc = b ? add(b, VG_INTEL_IPV4, "10.0.0.0/8", 1) : VG_ENOMEM;
        rc = rc ? rc : add(b, VG_INTEL_IPV6, "::1", 2);
        rc = rc ? rc : add(b, VG_INTEL_DOMAIN, "a.com", 3);
        rc = rc ? rc : vg_intel_set_builder_freeze(b, &s);
        vg_alloc_fail_at(0);
        CHECK(rc == 0 || rc == VG_ENOMEM);
        if (rc == 0) {
            CHECK_EQ_INT(q(s, VG_INTEL_DOMAIN, "a.com", 0), 3);
        }
        vg_intel_set_destroy(s);
        vg_intel_set_builder_destroy(b);
    }
}

/* ---------------------------------------------------------------- differential */

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

#define NREF 3000

struct ref {
    int type; /* 0 ip4, 1 ip6 (in the top 32 bits, rest 0), 2 domain */
    uint32_t addr;
    int plen;
    char dom[40];
    bool sub;
    uint32_t until;
    bool dead; /* superseded by a later add of the same value */
};

static struct ref refs[NREF];

static int ref_ip(int type, uint32_t a, uint32_t now)
{
    int best = -1, bestlen = -1;
    for (int i = 0; i < NREF; i++) {
        const struct ref *r = &refs[i];
        uint32_t m = r->plen ? 0xffffffffu << (32 - r->plen) : 0;
        if (r->type == type && !r->dead && (a & m) == r->addr && (!r->until || now < r->until) &&
            r->plen >= bestlen) {
            best = i, bestlen = r->plen; /* later duplicate wins */
        }
    }
    return best;
}

static bool dom_match(const struct ref *r, const char *d, size_t *at)
{
    size_t n = strlen(d), m = strlen(r->dom);
    if (n == m) {
        *at = 0;
        return strcmp(d, r->dom) == 0;
    }
    *at = n - m;
    return r->sub && n > m && d[n - m - 1] == '.' && strcmp(d + n - m, r->dom) == 0;
}

static int ref_dom(const char *d, uint32_t now)
{
    int best = -1;
    size_t best_at = SIZE_MAX, at;
    for (int i = 0; i < NREF; i++) {
        if (refs[i].type == 2 && !refs[i].dead && dom_match(&refs[i], d, &at) &&
            (!refs[i].until || now < refs[i].until) && at <= best_at) {
            best = i, best_at = at;
        }
    }
    return best;
}

static void rand_dom(char *out, size_t size)
{
    static const char *const parts[] = {"a", "b", "cc", "evil", "x"};
    static const char *const tlds[] = {"com", "net"};
    int labels = 1 + (int)(rnd() % 3);
    size_t n = 0;
    for (int i = 0; i < labels; i++) {
        n += (size_t)snprintf(out + n, size - n, "%s.", parts[rnd() % 5]);
    }
    snprintf(out + n, size - n, "%s", tlds[rnd() % 2]);
}

static uint32_t rand_addr(void)
{
    /* small address space so that prefixes overlap and queries hit */
    return (rnd() % 4) << 24 | (rnd() % 4) << 16 | (rnd() % 8) << 8 | (rnd() % 8);
}

static void fill_refs(struct vg_intel_set_builder *b)
{
    static const int plens[] = {0, 8, 12, 16, 20, 24, 28, 29, 30, 31, 32, 32, 32};
    for (int i = 0; i < NREF; i++) {
        struct ref *r = &refs[i];
        struct vg_intel_ctx c = ctx_src((uint16_t)i);
        char v[96];
        r->type = (int)(rnd() % 3);
        r->until = c.valid_until = rnd() % 4 == 0 ? 1 + rnd() % 100 : 0;
        if (r->type < 2) {
            r->plen = plens[rnd() % VG_ARRAY_LEN(plens)];
            r->addr = rand_addr() & (r->plen ? 0xffffffffu << (32 - r->plen) : 0);
            if (r->type == 0) {
                snprintf(v, sizeof(v), "%u.%u.%u.%u/%d", r->addr >> 24, r->addr >> 16 & 255,
                         r->addr >> 8 & 255, r->addr & 255, r->plen);
            } else {
                snprintf(v, sizeof(v), "%x:%x::/%d", r->addr >> 16, r->addr & 0xffff, r->plen);
            }
        } else {
            rand_dom(r->dom, sizeof(r->dom));
            r->sub = rnd() % 2;
            snprintf(v, sizeof(v), "%s%s", r->sub ? "*." : "", r->dom);
        }
        CHECK_EQ_INT(vg_intel_set_builder_add(b,
                                              r->type == 0   ? VG_INTEL_IPV4
                                              : r->type == 1 ? VG_INTEL_IPV6
                                                             : VG_INTEL_DOMAIN,
                                              v, strlen(v), &c),
                     0);
    }
}

static void mark_dead(void)
{
    for (int i = 0; i < NREF; i++) {
        for (int j = i + 1; j < NREF && !refs[i].dead; j++) {
            const struct ref *x = &refs[i], *y = &refs[j];
            refs[i].dead =
                x->type == y->type && (x->type == 2 ? strcmp(x->dom, y->dom) == 0
                                                    : x->addr == y->addr && x->plen == y->plen);
        }
    }
}

VG_TEST(differential_against_linear_reference)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    fill_refs(b);
    mark_dead();
    struct vg_intel_set *s = freeze(b);
    int mismatches = 0, hits = 0;
    for (int i = 0; i < 100000 && mismatches < 10; i++) {
        uint32_t now = rnd() % 120;
        int type = (int)(rnd() % 3), want, got;
        char v[96];
        if (type < 2) {
            uint32_t a = rand_addr();
            want = ref_ip(type, a, now);
            if (type == 0) {
                snprintf(v, sizeof(v), "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255,
                         a & 255);
            } else {
                snprintf(v, sizeof(v), "%x:%x::", a >> 16, a & 0xffff);
            }
        } else {
            rand_dom(v, sizeof(v));
            want = ref_dom(v, now);
        }
        got = q(s, type == 0 ? VG_INTEL_IPV4 : type == 1 ? VG_INTEL_IPV6 : VG_INTEL_DOMAIN, v, now);
        hits += got >= 0;
        if (got != want) {
            fprintf(stderr, "  query %s at %u: got %d, reference %d\n", v, now, got, want);
            mismatches++;
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(hits > 10000);
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
}

VG_TEST(refang)
{
    static const char *const cases[][2] = {
        {"hxxp://evil[.]example/a", "http://evil.example/a"},
        {"HXXPS://evil[dot]example[/]x", "https://evil.example/x"},
        {"198.51.100(.)7", "198.51.100.7"},
        {"2001:db8[:]1", "2001:db8:1"},
        {"bob[@]evil{.}example", "bob@evil.example"},
        {"bob(at)evil[.]example", "bob@evil.example"},
        {"fxp://files[.]example", "ftp://files.example"},
        {"plain.example", "plain.example"},
        {"path/hxxp", "path/hxxp"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[128];
        size_t n = vg_intel_refang(cases[i][0], strlen(cases[i][0]), out);
        out[n] = 0;
        CHECK_STR(out, cases[i][1]);
    }
    CHECK(vg_intel_is_defanged("evil[.]example", 14));
    CHECK(!vg_intel_is_defanged("evil.example", 12));
}
