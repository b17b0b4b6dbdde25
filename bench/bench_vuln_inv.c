/*
 * bench_vuln_inv.c — inventory throughput (src/vuln/vuln_inv.c): parsing the real Debian
 * status file and security-archive Packages index from ../shared/corpus/debian (skipped when
 * absent), the "outdated" walk over them, and a synthetic 300,000-package status file.
 * Prints figures; asserts nothing.
 *
 *   bench_vuln_inv [SHARED_DIR]   (default: ../shared)
 */
#include <stdio.h>
#include <string.h>

#include "vuln/vuln_inv.h"

#define ROUNDS 50

static double ms_since(uint64_t t0)
{
    return (double)(vg_clock_ns() - t0) / 1e6;
}

static int nop_fn(void *ctx, const struct vg_vuln_pkg *pkg, const char *available)
{
    return 0;
}

static void bench_corpus(const char *shared)
{
    char st[4096], pk[4096], *text = NULL, *ptext = NULL;
    size_t len = 0, plen = 0, count = 0;
    struct vg_vuln_inv inv = {0};
    struct vg_vuln_pkgindex *idx = NULL;
    uint64_t t0;
    snprintf(st, sizeof(st), "%s/corpus/debian/dpkg-status.bookworm-host", shared);
    snprintf(pk, sizeof(pk), "%s/corpus/debian/bookworm-security_main_amd64.Packages", shared);
    if (vg_file_read(st, 64u << 20, &text, &len) != VG_OK ||
        vg_file_read(pk, 64u << 20, &ptext, &plen) != VG_OK) {
        printf("corpus: skipped (%s absent)\n", st);
        goto out;
    }
    t0 = vg_clock_ns();
    for (int i = 0; i < ROUNDS; i++) {
        vg_vuln_inv_fini(&inv);
        vg_vuln_inv_dpkg_parse(text, len, st, &inv, NULL, 0);
    }
    printf("dpkg status (%zu packages, %.2f MB): %.2f ms per parse\n", inv.n, (double)len / 1e6,
           ms_since(t0) / ROUNDS);
    t0 = vg_clock_ns();
    for (int i = 0; i < ROUNDS; i++) {
        vg_vuln_pkgindex_destroy(idx);
        vg_vuln_pkgindex_parse(ptext, plen, pk, &idx, NULL, 0);
    }
    printf("Packages index (%zu entries, %.2f MB): %.2f ms per parse\n",
           vg_vuln_pkgindex_count(idx), (double)plen / 1e6, ms_since(t0) / ROUNDS);
    t0 = vg_clock_ns();
    for (int i = 0; i < ROUNDS; i++) {
        vg_vuln_outdated(&inv, idx, nop_fn, NULL, &count, NULL, NULL, 0);
    }
    printf("outdated walk (%zu outdated): %.3f ms\n", count, ms_since(t0) / ROUNDS);
out:
    vg_vuln_pkgindex_destroy(idx);
    vg_vuln_inv_fini(&inv);
    vg_free(text);
    vg_free(ptext);
}

static void bench_synthetic(void)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    struct vg_vuln_inv inv = {0};
    struct vg_vuln_pkgindex *idx = NULL;
    size_t count = 0;
    uint64_t t0;
    for (size_t i = 0; i < 300000; i++) {
        vg_sbuf_printf(&s,
                       "Package: pkg%zu\nStatus: install ok installed\nArchitecture: amd64\n"
                       "Version: 1:%zu.0-1+deb12u%zu\nSource: src%zu (%zu.0-1)\n"
                       "Description: synthetic\n line one\n line two\n\n",
                       i, i, i % 7, i / 3, i);
    }
    t0 = vg_clock_ns();
    vg_vuln_inv_dpkg_parse(s.p, s.len, "synthetic", &inv, NULL, 0);
    printf("synthetic status (%zu packages, %.1f MB): %.1f ms\n", inv.n, (double)s.len / 1e6,
           ms_since(t0));
    t0 = vg_clock_ns();
    vg_vuln_pkgindex_parse(s.p, s.len, "synthetic", &idx, NULL, 0);
    printf("same text as a Packages index (%zu entries): %.1f ms\n", vg_vuln_pkgindex_count(idx),
           ms_since(t0));
    t0 = vg_clock_ns();
    vg_vuln_outdated(&inv, idx, nop_fn, NULL, &count, NULL, NULL, 0);
    printf("outdated walk over %zu packages (%zu outdated): %.1f ms\n", inv.n, count, ms_since(t0));
    vg_vuln_pkgindex_destroy(idx);
    vg_vuln_inv_fini(&inv);
    vg_sbuf_fini(&s);
}

int main(int argc, char **argv)
{
    bench_corpus(argc > 1 ? argv[1] : "../shared");
    bench_synthetic();
    return 0;
}
