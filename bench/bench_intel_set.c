/*
 * bench_intel_set.c — typed indicator sets (src/intel/intel_set.c): build time and memory for
 * N mixed indicators (default 1M), then single-core lookups/s per type at 1 % and 10 % hit
 * rates.
 *
 *   bench_intel_set [N] [QUERIES]
 *
 * The indicators are generated as text before timing, in feed-like proportions: 35 % IPv4
 * addresses, 5 % IPv4 CIDR (/20-/30), 5 % IPv6 (a quarter of them /64 prefixes), 25 % domains
 * (one in five matching subdomains), 15 % URLs, 15 % hashes (md5, sha1, sha256 in thirds); each
 * with a context (source, confidence, times, a quarter with valid_until). The build time covers
 * vg_intel_set_builder_add (parse, normalise, validate) for all of them plus the freeze;
 * memory is the frozen set's own count of heap bytes (context included). Queries are drawn
 * before timing: with probability H an indicator's value, otherwise a random value of the same
 * shape; the measured hit rate is printed beside the rate (random IPv4 can also fall in a
 * CIDR).
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "intel/intel_set.h"

#include "bench_util.h"

#define NOW 1800000000u

/*
 * CPU time of this thread: the machine running the benchmarks is often shared, and time spent
 * descheduled is not the set's. Wall time is printed for the build as well.
 */
static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct gen {
    enum vg_intel_type type;
    char *val;
    size_t len;
};

static const char *const tlds[] = {"com", "net", "org", "ru", "info", "xyz", "top", "io"};

static size_t gen_domain(char *b, size_t sz)
{
    uint64_t r = rnd64();
    return (size_t)snprintf(b, sz, "%s%x-%x.%s", r % 3 ? "" : "cdn.", (unsigned)(r >> 8),
                            (unsigned)(r >> 40) & 0xfff, tlds[(r >> 60) & 7]);
}

static size_t gen_value(enum vg_intel_type t, char *b, size_t sz)
{
    uint64_t r = rnd64();
    switch (t) {
    case VG_INTEL_IPV4:
        if (r % 8 == 0) {
            unsigned plen = 20 + (unsigned)(r >> 8) % 11;
            return (size_t)snprintf(b, sz, "%u.%u.%u.%u/%u", (unsigned)(r >> 16) & 255,
                                    (unsigned)(r >> 24) & 255, (unsigned)(r >> 32) & 255,
                                    (unsigned)(r >> 40) & 255, plen);
        }
        return (size_t)snprintf(b, sz, "%u.%u.%u.%u", (unsigned)(r >> 16) & 255,
                                (unsigned)(r >> 24) & 255, (unsigned)(r >> 32) & 255,
                                (unsigned)(r >> 40) & 255);
    case VG_INTEL_IPV6:
        return (size_t)snprintf(b, sz, "2%03x:%x:%x::%x%s", (unsigned)(r & 0xfff),
                                (unsigned)(r >> 12) & 0xffff, (unsigned)(r >> 28) & 0xffff,
                                (unsigned)(r >> 44) & 0xffff, r >> 62 ? "" : "/64");
    case VG_INTEL_DOMAIN:
        return gen_domain(b, sz);
    case VG_INTEL_URL: {
        size_t n = (size_t)snprintf(b, sz, "http://");
        n += gen_domain(b + n, sz - n);
        return n + (size_t)snprintf(b + n, sz - n, "/wp/%x/load.php?id=%x", (unsigned)r & 0xffff,
                                    (unsigned)(r >> 16));
    }
    default: {
        size_t hex = t == VG_INTEL_MD5 ? 32 : t == VG_INTEL_SHA1 ? 40 : 64;
        for (size_t i = 0; i < hex; i++) {
            b[i] = "0123456789abcdef"[rnd64() & 15];
        }
        b[hex] = 0;
        return hex;
    }
    }
}

static enum vg_intel_type pick_type(void)
{
    unsigned p = (unsigned)(rnd64() % 100);
    if (p < 40) {
        return VG_INTEL_IPV4;
    }
    if (p < 45) {
        return VG_INTEL_IPV6;
    }
    if (p < 70) {
        return VG_INTEL_DOMAIN;
    }
    if (p < 85) {
        return VG_INTEL_URL;
    }
    return p < 90 ? VG_INTEL_MD5 : p < 95 ? VG_INTEL_SHA1 : VG_INTEL_SHA256;
}

static struct gen *generate(size_t n)
{
    struct gen *g = vg_malloc(n * sizeof(*g));
    char buf[256];
    for (size_t i = 0; g && i < n; i++) {
        g[i].type = pick_type();
        g[i].len = gen_value(g[i].type, buf, sizeof(buf));
        g[i].val = vg_strndup(buf, g[i].len);
    }
    return g;
}

static struct vg_intel_set *build(const struct gen *g, size_t n, double *secs, double *cpu)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    struct vg_intel_set *s = NULL;
    uint64_t t0 = vg_clock_ns(), c0 = cpu_ns();
    for (size_t i = 0; i < n; i++) {
        struct vg_intel_ctx c = {(uint16_t)(i % 50), (uint8_t)(50 + i % 50),  0, NOW - 86400 * 30,
                                 NOW - 3600,         i % 4 ? 0 : NOW + 86400, 0};
        c.flags = g[i].type == VG_INTEL_DOMAIN && i % 5 == 0 ? VG_INTEL_F_SUBDOMAINS : 0;
        if (vg_intel_set_builder_add(b, g[i].type, g[i].val, g[i].len, &c)) {
            fprintf(stderr, "add %s: %s\n", g[i].val, vg_intel_set_builder_error(b));
        }
    }
    if (vg_intel_set_builder_freeze(b, &s)) {
        fprintf(stderr, "freeze failed\n");
    }
    *secs = (double)(vg_clock_ns() - t0) / 1e9;
    *cpu = (double)(cpu_ns() - c0) / 1e9;
    vg_intel_set_builder_destroy(b);
    return s;
}

/*
 * One query: binary for IPs and hashes (the matchers' fast paths), text otherwise. Compact and
 * read in order, so the stream of queries costs little next to the set's own memory accesses
 * (a matcher has the value hot in cache: it just decoded the event).
 */
struct query {
    uint16_t len;
    uint8_t bin[32];
    char text[94];
};

static void make_query(const struct gen *g, size_t n, enum vg_intel_type t, double hit,
                       struct query *q)
{
    char buf[256];
    const char *v = buf;
    size_t len;
    if ((double)(rnd64() % 1000000) / 1e6 < hit) {
        size_t i;
        do {
            i = rnd64() % n;
        } while (g[i].type != t);
        v = g[i].val;
        len = g[i].len;
    } else {
        len = gen_value(t, buf, sizeof(buf));
    }
    const char *slash = memchr(v, '/', len);
    if (t <= VG_INTEL_IPV6 && slash) {
        len = (size_t)(slash - v); /* query the prefix's own address */
    }
    char text[256];
    len = VG_MIN(len, sizeof(q->text) - 1);
    memcpy(text, v, len);
    text[len] = 0;
    q->len = (uint16_t)len;
    memcpy(q->text, text, len + 1);
    if (t == VG_INTEL_IPV4) {
        inet_pton(AF_INET, text, q->bin);
    } else if (t == VG_INTEL_IPV6) {
        inet_pton(AF_INET6, text, q->bin);
    } else if (t == VG_INTEL_SHA256) {
        for (size_t i = 0; i < 32; i++) {
            unsigned x;
            sscanf(text + 2 * i, "%2x", &x);
            q->bin[i] = (uint8_t)x;
        }
    }
}

static void run_type(const struct vg_intel_set *s, const struct gen *g, size_t n,
                     enum vg_intel_type t, double hit, size_t nq, struct query *qs)
{
    for (size_t i = 0; i < nq; i++) {
        make_query(g, n, t, hit, &qs[i]);
    }
    size_t hits = 0;
    struct vg_intel_hit h;
    uint64_t t0 = cpu_ns();
    for (size_t i = 0; i < nq; i++) {
        const struct query *q = &qs[i];
        int rc;
        if (t == VG_INTEL_IPV4) {
            uint32_t be;
            memcpy(&be, q->bin, 4);
            rc = vg_intel_set_lookup_ip4(s, be, NOW, &h);
        } else if (t == VG_INTEL_IPV6) {
            rc = vg_intel_set_lookup_ip6(s, q->bin, NOW, &h);
        } else if (t == VG_INTEL_SHA256) {
            rc = vg_intel_set_lookup_bin(s, t, q->bin, 32, NOW, &h);
        } else {
            rc = vg_intel_set_lookup(s, t, q->text, q->len, NOW, &h);
        }
        hits += rc == 0;
    }
    double secs = (double)(cpu_ns() - t0) / 1e9;
    printf("  %-8s %-6s hit %4.1f%% (asked %4.1f%%)  %7.2f M lookups/s  %6.1f ns/lookup\n",
           vg_intel_type_name(t), t <= VG_INTEL_IPV6 || t == VG_INTEL_SHA256 ? "binary" : "text",
           100.0 * (double)hits / (double)nq, 100 * hit, (double)nq / secs / 1e6,
           secs * 1e9 / (double)nq);
}

/* Text-path IPv4 for comparison: parsing the dotted quad costs more than the search. */
static void run_ip4_text(const struct vg_intel_set *s, const struct gen *g, size_t n, size_t nq,
                         struct query *qs)
{
    for (size_t i = 0; i < nq; i++) {
        make_query(g, n, VG_INTEL_IPV4, 0.10, &qs[i]);
    }
    struct vg_intel_hit h;
    size_t hits = 0;
    uint64_t t0 = cpu_ns();
    for (size_t i = 0; i < nq; i++) {
        hits += vg_intel_set_lookup(s, VG_INTEL_IPV4, qs[i].text, qs[i].len, NOW, &h) == 0;
    }
    double secs = (double)(cpu_ns() - t0) / 1e9;
    printf("  %-8s %-6s hit %4.1f%% (asked 10.0%%)  %7.2f M lookups/s  %6.1f ns/lookup\n", "ipv4",
           "text", 100.0 * (double)hits / (double)nq, (double)nq / secs / 1e6,
           secs * 1e9 / (double)nq);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t nq = argc > 2 ? strtoul(argv[2], NULL, 10) : 4000000;
    double secs, cpu;
    struct gen *g = generate(n);
    struct query *qs = vg_malloc(nq * sizeof(*qs));
    if (!g || !qs) {
        return 1;
    }
    struct vg_intel_set *s = build(g, n, &secs, &cpu);
    struct vg_intel_set_stats st;
    vg_intel_set_stats(s, NOW, &st);
    printf("build: %zu indicators (%zu distinct) in %.3f s wall, %.3f s CPU = %.2f M/s\n", n,
           st.total, secs, cpu, (double)n / cpu / 1e6);
    printf("memory: %zu bytes = %.1f bytes/indicator (context included)\n", st.bytes,
           (double)st.bytes / (double)st.total);
    for (int t = 0; t < VG_INTEL_TYPE_COUNT; t++) {
        if (st.count[t]) {
            printf("  %-8s %zu\n", vg_intel_type_name((enum vg_intel_type)t), st.count[t]);
        }
    }
    static const enum vg_intel_type types[] = {VG_INTEL_IPV4, VG_INTEL_IPV6, VG_INTEL_DOMAIN,
                                               VG_INTEL_URL, VG_INTEL_SHA256};
    static const double rates[] = {0.01, 0.10};
    printf("lookups (one core, thread CPU time, %zu queries each):\n", nq);
    for (size_t r = 0; r < VG_ARRAY_LEN(rates); r++) {
        for (size_t t = 0; t < VG_ARRAY_LEN(types); t++) {
            run_type(s, g, n, types[t], rates[r], nq, qs);
        }
    }
    run_ip4_text(s, g, n, nq, qs);
    vg_intel_set_destroy(s);
    for (size_t i = 0; i < n; i++) {
        vg_free(g[i].val);
    }
    vg_free(g);
    vg_free(qs);
    return 0;
}
