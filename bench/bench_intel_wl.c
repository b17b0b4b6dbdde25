/*
 * bench_intel_wl.c — MISP warninglists (src/intel/intel_wl.c) on one core: time to load and
 * build all lists of ../shared/corpus/misp-warninglists (or DIR), the memory they hold, and
 * the cost of vg_intel_wl_match() per value kind over a mixed workload (IPv4, IPv6,
 * hostnames, URLs, e-mail addresses, hashes), in ns/lookup and lookups/s, plus the hit rate.
 *
 *   bench_intel_wl [DIR] [LOOKUPS_PER_KIND]
 *
 * Values are generated before timing: IPv4 uniformly random (a large share falls in cloud,
 * VPN and resolver ranges, like real traffic), IPv6 in 2600::/12 and 2a00::/12 plus
 * documentation space, hostnames of 2-4 labels with one in eight a popular domain, URLs
 * over those hosts, e-mails at random and disposable domains, 64-hex SHA-256 values.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "intel/intel_wl.h"

#include "bench_util.h"

#define VLEN 192

static void alnum(char *o, size_t n)
{
    static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++) {
        o[i] = cs[rnd64() % 36];
    }
    o[n] = '\0';
}

static const char *const popular[] = {
    "google.com", "www.google.com", "microsoft.com",    "login.microsoftonline.com",
    "github.com", "amazonaws.com",  "s3.amazonaws.com", "cloudflare.com",
    "apple.com",  "wikipedia.org",  "mailinator.com",   "duckdns.org"};
#define NPOP (sizeof(popular) / sizeof(popular[0]))

static void gen_host(char *o, size_t on)
{
    char a[16], b[16];
    if (rnd64() % 8 == 0) {
        snprintf(o, on, "%s", popular[rnd64() % NPOP]);
        return;
    }
    alnum(a, 3 + rnd64() % 8);
    alnum(b, 4 + rnd64() % 10);
    snprintf(o, on, "%s.%s.%s", a, b, rnd64() % 2 ? "com" : "net");
}

static void gen(int kind, char *o)
{
    uint64_t r = rnd64();
    char h[64], p[16];
    switch (kind) {
    case 0:
        snprintf(o, VLEN, "%u.%u.%u.%u", (unsigned)(r & 255), (unsigned)(r >> 8) & 255,
                 (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255);
        break;
    case 1:
        snprintf(o, VLEN, "%x:%x:%x::%x",
                 (unsigned)(r % 3 == 0   ? 0x2001
                            : r % 3 == 1 ? 0x2600
                                         : 0x2a00),
                 (unsigned)(r >> 16) & 0xffff, (unsigned)(r >> 32) & 0xffff, (unsigned)(r >> 48));
        break;
    case 2:
        gen_host(o, VLEN);
        break;
    case 3:
        gen_host(h, sizeof(h));
        alnum(p, 8);
        snprintf(o, VLEN, "https://%s/%s/index.php?id=%u", h, p, (unsigned)(r & 0xffff));
        break;
    case 4:
        alnum(p, 8);
        snprintf(o, VLEN, "%s@%s", p, rnd64() % 4 ? "example-corp.com" : "mailinator.com");
        break;
    default:
        for (int i = 0; i < 64; i++) {
            o[i] = "0123456789abcdef"[rnd64() % 16];
        }
        o[64] = '\0';
        break;
    }
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) {
            res = 0;
        }
        fclose(f);
    }
    return res * 4;
}

int main(int argc, char **argv)
{
    static const char *kinds[] = {"ipv4", "ipv6", "hostname", "url", "email", "sha256"};
    static const enum vg_intel_wl_hint hints[] = {VG_INTEL_WL_HINT_IP,     VG_INTEL_WL_HINT_IP,
                                                  VG_INTEL_WL_HINT_DOMAIN, VG_INTEL_WL_HINT_URL,
                                                  VG_INTEL_WL_HINT_EMAIL,  VG_INTEL_WL_HINT_HASH};
    const char *shared = getenv("VG_SHARED");
    char dir[4096], err[512];
    size_t per = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 1000000;
    struct vg_intel_wl *wl = NULL;
    struct vg_intel_wl_stats st;
    struct vg_intel_wl_hit hit;
    char *vals = NULL;
    long rss0, rss1;
    uint64_t t0, t1, tot_ns = 0, tot_n = 0;
    snprintf(dir, sizeof(dir), "%s", argc > 1 ? argv[1] : "");
    if (argc <= 1) {
        snprintf(dir, sizeof(dir), "%s/corpus/misp-warninglists/lists",
                 shared ? shared : "../shared");
    }
    rss0 = rss_kib();
    t0 = vg_clock_ns();
    if (vg_intel_wl_load_dir(dir, &wl, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_intel_wl: %s\n", err);
        return 1;
    }
    t1 = vg_clock_ns();
    rss1 = rss_kib();
    vg_intel_wl_stats(wl, &st);
    printf("load+build: %u lists, %" PRIu64 " entries (%" PRIu64 " skipped) in %.3f s\n", st.lists,
           st.entries, st.skipped, (double)(t1 - t0) / 1e9);
    printf("  by type: cidr %" PRIu64 ", hostname %" PRIu64 ", string %" PRIu64
           ", substring %" PRIu64 ", regex %" PRIu64 "\n",
           st.by_type[0], st.by_type[1], st.by_type[2], st.by_type[3], st.by_type[4]);
    printf("memory: structures %.1f MiB (%.0f B/entry), RSS growth %.1f MiB\n",
           (double)st.bytes / 1048576.0, (double)st.bytes / (double)(st.entries ? st.entries : 1),
           (double)(rss1 - rss0) / 1024.0);
    vals = vg_malloc(per * VLEN);
    if (!vals) {
        return 1;
    }
    for (int k = 0; k < 6; k++) {
        uint64_t hits = 0, n = 0;
        for (size_t i = 0; i < per; i++) {
            gen(k, vals + i * VLEN);
        }
        t0 = vg_clock_ns();
        for (size_t i = 0; i < per; i++) {
            const char *v = vals + i * VLEN;
            hits += vg_intel_wl_match(wl, v, strlen(v), hints[k], &hit) > 0;
            n++;
        }
        t1 = vg_clock_ns();
        tot_ns += t1 - t0;
        tot_n += n;
        printf("%-9s %9.1f ns/lookup %8.2f M lookups/s  hit rate %5.1f %%\n", kinds[k],
               (double)(t1 - t0) / (double)n, (double)n * 1e3 / (double)(t1 - t0),
               100.0 * (double)hits / (double)n);
    }
    printf("mixed     %9.1f ns/lookup %8.2f M lookups/s (equal share of the six kinds)\n",
           (double)tot_ns / (double)tot_n, (double)tot_n * 1e3 / (double)tot_ns);
    vg_free(vals);
    vg_intel_wl_destroy(wl);
    return 0;
}
