/*
 * fuzz_vuln_packages.c — libFuzzer target: arbitrary bytes as a Debian `Packages` index
 * (vg_vuln_pkgindex_parse) and as a dpkg status file (vg_vuln_inv_dpkg_parse), both through
 * the deb822 reader of src/vuln/vuln_inv.c; then every parsed package is looked up in the
 * index and the "outdated" walk runs, so the hash table and version comparison see the
 * fuzzed names and versions too.
 */
#include "vuln/vuln_inv.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_fn(void *ctx, const struct vg_vuln_pkg *pkg, const char *available)
{
    (*(size_t *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct vg_vuln_pkgindex *idx = NULL;
    struct vg_vuln_inv inv = {0};
    size_t n = 0, count = 0, bad = 0;
    const char *v = NULL;
    if (vg_vuln_pkgindex_parse((const char *)data, size, "fuzz", &idx, err, sizeof(err)) != VG_OK) {
        return 0;
    }
    if (vg_vuln_inv_dpkg_parse((const char *)data, size, "fuzz", &inv, err, sizeof(err)) == VG_OK) {
        for (size_t i = 0; i < inv.n; i++) {
            vg_vuln_pkgindex_best(idx, inv.pkgs[i].name, inv.pkgs[i].arch, &v, err, sizeof(err));
        }
        vg_vuln_outdated(&inv, idx, count_fn, &n, &count, &bad, err, sizeof(err));
    }
    vg_vuln_inv_fini(&inv);
    vg_vuln_pkgindex_destroy(idx);
    return 0;
}
