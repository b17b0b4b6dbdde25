/*
 * bench_intel_store.c — the indicator store end to end (issue 7): N mixed indicators (default
 * 1M, the mix of bench_intel_gen.h) written as a STIX 2.1 bundle and as a plain list, each
 * imported into a fresh store (parse, validate, normalise, write, fsync, manifest), the store
 * loaded into a snapshot (memory per indicator), then single-core lookups through the
 * snapshot — the matcher's path — at a 1 % hit rate, before and after all MISP warninglists
 * are imported (indicators re-flagged; lookups must not slow down).
 *
 *   bench_intel_store [N] [QUERIES] [WARNINGLISTS_DIR]
 *
 * WARNINGLISTS_DIR defaults to ../shared/corpus/misp-warninglists/lists (skipped if absent).
 * Scratch files go to $TMPDIR (default /tmp) and are removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "intel/intel_db.h"

#include "bench_intel_gen.h"
#include "bench_util.h"

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long kib = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kib;
}

static const char *stix_path(enum vg_intel_type t)
{
    switch (t) {
    case VG_INTEL_IPV4:
        return "ipv4-addr:value";
    case VG_INTEL_IPV6:
        return "ipv6-addr:value";
    case VG_INTEL_DOMAIN:
        return "domain-name:value";
    case VG_INTEL_URL:
        return "url:value";
    case VG_INTEL_MD5:
        return "file:hashes.MD5";
    case VG_INTEL_SHA1:
        return "file:hashes.'SHA-1'";
    default:
        return "file:hashes.'SHA-256'";
    }
}

static int write_feeds(const struct gen *g, size_t n, const char *stix, const char *plain)
{
    FILE *fs = fopen(stix, "we"), *fp = fopen(plain, "we");
    if (!fs || !fp) {
        perror("bench_intel_store: scratch file");
        return -1;
    }
    fputs("{\"type\":\"bundle\",\"id\":\"bundle--6b0c6a8e-2c1a-4f43-9d2e-3b1a7e2f0c11\","
          "\"objects\":[\n",
          fs);
    fputs("# bench_intel_store: one indicator per line\n", fp);
    for (size_t i = 0; i < n; i++) {
        fprintf(fs,
                "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08zx-"
                "2c1a-4f43-9d2e-%012zx\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":"
                "\"2026-02-01T00:00:00.000Z\",\"pattern\":\"[%s = '%s']\",\"pattern_type\":"
                "\"stix\",\"valid_from\":\"2026-01-01T00:00:00Z\",\"confidence\":%u,"
                "\"indicator_types\":[\"malicious-activity\"]}\n",
                i ? "," : "", i, i * 7919, stix_path(g[i].type), g[i].val, (unsigned)(50 + i % 50));
        fprintf(fp, "%s\n", g[i].val);
    }
    fputs("]}\n", fs);
    return fclose(fs) | fclose(fp);
}

static struct vg_intel_db *import(const char *dir, const char *file, const char *what,
                                  enum vg_intel_format fmt)
{
    struct vg_intel_db *db = NULL;
    struct vg_intel_import_report rep;
    struct vg_intel_import_opts o = {.csv_type = VG_INTEL_TYPE_COUNT};
    char err[512];
    uint64_t c0 = cpu_ns(), t0 = vg_clock_ns();
    if (vg_intel_db_open(dir, true, &db, err, sizeof(err)) != VG_OK ||
        vg_intel_db_import_file(db, file, "bench", fmt, &o, &rep, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_intel_store: %s\n", err);
        exit(1);
    }
    printf("import %-6s %9llu indicators  %6.2f s wall  %6.2f s CPU  %5.2f M indicators/s"
           "  (%llu rejected, %llu duplicates)\n",
           what, (unsigned long long)rep.indicators, (double)(vg_clock_ns() - t0) / 1e9,
           (double)(cpu_ns() - c0) / 1e9, (double)rep.indicators / rep.seconds / 1e6,
           (unsigned long long)(rep.rejected[0] + rep.rejected[1] + rep.rejected[2]),
           (unsigned long long)rep.duplicates);
    return db;
}

static struct vg_intel_snap *load(struct vg_intel_db *db, size_t n)
{
    struct vg_intel_snap *s = NULL;
    struct vg_intel_set_stats st;
    char err[512];
    long r0 = rss_kib();
    uint64_t t0 = vg_clock_ns();
    if (vg_intel_db_load(db, &s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_intel_store: %s\n", err);
        exit(1);
    }
    vg_intel_set_stats(vg_intel_snap_set(s), BENCH_INTEL_NOW, &st);
    printf("load            %9zu indicators  %6.2f s wall  set %.1f bytes/indicator, "
           "RSS +%.1f bytes/indicator (mapped records included)\n",
           vg_intel_snap_count(s), (double)(vg_clock_ns() - t0) / 1e9, (double)st.bytes / n,
           (double)(rss_kib() - r0) * 1024.0 / (double)n);
    return s;
}

/* A query stream in event proportions: per 100 lookups 60 IPv4, 5 IPv6, 20 domain, 10 URL,
 * 5 sha256 — what a pipeline asks for flows, DNS, proxy and file events. Compact (the values
 * packed in one buffer, read in order) so the stream costs little next to the lookups: a
 * matcher has the value in cache, it just decoded the event. */
struct q {
    uint8_t t;
    uint8_t len;
    uint32_t off;
};

static struct q *make_stream(const struct gen *g, size_t n, size_t nq, double hit, char **pool)
{
    struct q *qs = vg_malloc(nq * sizeof(*qs));
    size_t cap = nq * 40 + 256, used = 0;
    char *p = vg_malloc(cap);
    for (size_t i = 0; qs && p && i < nq; i++) {
        unsigned r = (unsigned)(rnd64() % 100);
        struct query qu;
        qs[i].t = (uint8_t)(r < 60   ? VG_INTEL_IPV4
                            : r < 65 ? VG_INTEL_IPV6
                            : r < 85 ? VG_INTEL_DOMAIN
                            : r < 95 ? VG_INTEL_URL
                                     : VG_INTEL_SHA256);
        make_query(g, n, (enum vg_intel_type)qs[i].t, hit, &qu);
        if (used + qu.len + 1 > cap) {
            cap *= 2;
            p = vg_realloc(p, cap);
            if (!p) {
                break;
            }
        }
        memcpy(p + used, qu.text, qu.len);
        qs[i].off = (uint32_t)used;
        qs[i].len = (uint8_t)qu.len;
        used += qu.len;
    }
    *pool = p;
    return qs;
}

static double run_stream(const struct vg_intel_snap *s, const struct q *qs, const char *pool,
                         size_t nq, const char *label)
{
    struct vg_intel_hit h;
    size_t hits = 0;
    uint64_t t0 = cpu_ns();
    for (size_t i = 0; i < nq; i++) {
        hits += vg_intel_snap_match_value(s, (enum vg_intel_type)qs[i].t, pool + qs[i].off,
                                          qs[i].len, BENCH_INTEL_NOW, 0, &h) == VG_OK;
    }
    double secs = (double)(cpu_ns() - t0) / 1e9;
    printf("  %-34s %7.2f M lookups/s  %6.1f ns/lookup  hits %.2f%%\n", label,
           (double)nq / secs / 1e6, secs * 1e9 / (double)nq, 100.0 * (double)hits / (double)nq);
    return (double)nq / secs;
}

/* The same stream, one type at a time (where the mix's time goes). */
static void run_by_type(const struct vg_intel_snap *s, const struct q *qs, const char *pool,
                        size_t nq)
{
    static const enum vg_intel_type ts[] = {VG_INTEL_IPV4, VG_INTEL_IPV6, VG_INTEL_DOMAIN,
                                            VG_INTEL_URL, VG_INTEL_SHA256};
    for (size_t k = 0; k < sizeof(ts) / sizeof(ts[0]); k++) {
        struct vg_intel_hit h;
        size_t m = 0;
        uint64_t t0 = cpu_ns();
        for (size_t i = 0; i < nq; i++) {
            if (qs[i].t == ts[k]) {
                (void)vg_intel_snap_match_value(s, ts[k], pool + qs[i].off, qs[i].len,
                                                BENCH_INTEL_NOW, 0, &h);
                m++;
            }
        }
        double secs = (double)(cpu_ns() - t0) / 1e9;
        printf("    %-8s %7.2f M lookups/s  %6.1f ns/lookup\n", vg_intel_type_name(ts[k]),
               (double)m / secs / 1e6, secs * 1e9 / (double)(m ? m : 1));
    }
}

static void run_binary(const struct vg_intel_snap *s, const struct gen *g, size_t n, size_t nq)
{
    struct query *qs = vg_malloc(nq * sizeof(*qs));
    static const enum vg_intel_type ts[] = {VG_INTEL_IPV4, VG_INTEL_IPV6, VG_INTEL_SHA256,
                                            VG_INTEL_DOMAIN, VG_INTEL_URL};
    for (size_t i = 0; qs && i < sizeof(ts) / sizeof(ts[0]); i++) {
        run_type(vg_intel_snap_set(s), g, n, ts[i], 0.01, nq, qs);
    }
    vg_free(qs);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t nq = argc > 2 ? strtoul(argv[2], NULL, 10) : 4000000;
    const char *wl = argc > 3 ? argv[3] : "../shared/corpus/misp-warninglists/lists";
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char base[512], stix[600], plain[600], db1[600], db2[600];
    struct vg_intel_db *d1, *d2;
    struct vg_intel_snap *s;
    struct gen *g;
    struct q *qs;
    char *pool = NULL;
    double before, after;
    snprintf(base, sizeof(base), "%s/vg-bench-intel-XXXXXX", tmp);
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(stix, sizeof(stix), "%s/feed.json", base);
    snprintf(plain, sizeof(plain), "%s/feed.txt", base);
    snprintf(db1, sizeof(db1), "%s/db-stix", base);
    snprintf(db2, sizeof(db2), "%s/db-plain", base);
    g = generate(n);
    if (!g || write_feeds(g, n, stix, plain) != 0) {
        return 1;
    }
    printf("bench_intel_store: %zu mixed indicators, %zu queries, scratch %s\n", n, nq, base);
    d2 = import(db2, plain, "plain", VG_INTEL_FMT_CSV);
    vg_intel_db_close(d2);
    d1 = import(db1, stix, "STIX", VG_INTEL_FMT_STIX);
    s = load(d1, n);
    qs = make_stream(g, n, nq, 0.01, &pool);
    printf("lookups through the snapshot (text values as events carry them, type known):\n");
    before = run_stream(s, qs, pool, nq, "event mix, 1 % hits");
    run_by_type(s, qs, pool, nq);
    printf("lookups on the snapshot's set, binary fast paths where they exist:\n");
    run_binary(s, g, n, nq);
    vg_intel_snap_unref(s);
    if (access(wl, R_OK) == 0) {
        struct vg_intel_import_report rep;
        char err[512];
        uint64_t t0 = vg_clock_ns();
        if (vg_intel_db_import_file(d1, wl, NULL, VG_INTEL_FMT_WARNINGLIST, NULL, &rep, err,
                                    sizeof(err)) != VG_OK) {
            fprintf(stderr, "bench_intel_store: %s\n", err);
            return 1;
        }
        printf("warninglists    %9llu entries in %llu lists loaded and applied to the store "
               "(re-flag) in %.2f s\n",
               (unsigned long long)rep.indicators, (unsigned long long)rep.objects,
               (double)(vg_clock_ns() - t0) / 1e9);
        s = load(d1, n);
        after = run_stream(s, qs, pool, nq, "event mix, 1 % hits, warninglisted");
        printf("  lookups with warninglists / without: %.3f\n", after / before);
        vg_intel_snap_unref(s);
    } else {
        printf("warninglists: %s not found, skipped\n", wl);
    }
    vg_intel_db_close(d1);
    vg_free(qs);
    vg_free(pool);
    for (size_t i = 0; i < n; i++) {
        vg_free(g[i].val);
    }
    vg_free(g);
    rm_tree(base);
    return 0;
}
