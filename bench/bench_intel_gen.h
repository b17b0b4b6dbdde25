/*
 * bench_intel_gen.h — feed-like indicator values for the intel benchmarks (bench_intel_set,
 * bench_intel_store): 35 % IPv4 addresses, 5 % IPv4 CIDR (/20-/30), 5 % IPv6 (a quarter /64
 * prefixes), 25 % domains, 15 % URLs, 15 % hashes (md5, sha1, sha256 in thirds), from the
 * fixed-seed sequence of bench_util.h (the same values on every run).
 */
#ifndef VG_BENCH_INTEL_GEN_H
#define VG_BENCH_INTEL_GEN_H

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "intel/intel_set.h"

#include "bench_util.h"

#define BENCH_INTEL_NOW 1800000000u

struct gen {
    enum vg_intel_type type;
    char *val;
    size_t len;
};

static const char *const tlds[] = {"com", "net", "org", "ru", "info", "xyz", "top", "io"};

static inline size_t gen_domain(char *b, size_t sz)
{
    uint64_t r = rnd64();
    return (size_t)snprintf(b, sz, "%s%x-%x.%s", r % 3 ? "" : "cdn.", (unsigned)(r >> 8),
                            (unsigned)(r >> 40) & 0xfff, tlds[(r >> 60) & 7]);
}

static inline size_t gen_value(enum vg_intel_type t, char *b, size_t sz)
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

static inline enum vg_intel_type pick_type(void)
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

static inline struct gen *generate(size_t n)
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

/* CPU time of this thread (the machines are shared; time descheduled is not ours). */
static inline uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

static inline void make_query(const struct gen *g, size_t n, enum vg_intel_type t, double hit,
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

static inline void run_type(const struct vg_intel_set *s, const struct gen *g, size_t n,
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
            rc = vg_intel_set_lookup_ip4(s, be, BENCH_INTEL_NOW, &h);
        } else if (t == VG_INTEL_IPV6) {
            rc = vg_intel_set_lookup_ip6(s, q->bin, BENCH_INTEL_NOW, &h);
        } else if (t == VG_INTEL_SHA256) {
            rc = vg_intel_set_lookup_bin(s, t, q->bin, 32, BENCH_INTEL_NOW, &h);
        } else {
            rc = vg_intel_set_lookup(s, t, q->text, q->len, BENCH_INTEL_NOW, &h);
        }
        hits += rc == 0;
    }
    double secs = (double)(cpu_ns() - t0) / 1e9;
    printf("  %-8s %-6s hit %4.1f%% (asked %4.1f%%)  %7.2f M lookups/s  %6.1f ns/lookup\n",
           vg_intel_type_name(t), t <= VG_INTEL_IPV6 || t == VG_INTEL_SHA256 ? "binary" : "text",
           100.0 * (double)hits / (double)nq, 100 * hit, (double)nq / secs / 1e6,
           secs * 1e9 / (double)nq);
}

#endif
