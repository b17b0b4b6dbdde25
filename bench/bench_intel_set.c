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

#include "bench_intel_gen.h"
#include "bench_util.h"

#define NOW BENCH_INTEL_NOW

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
