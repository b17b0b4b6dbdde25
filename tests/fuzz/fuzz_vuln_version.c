/*
 * fuzz_vuln_version.c — libFuzzer target for the version schemes (src/vuln/vuln_version.c).
 * The first byte picks the scheme (dpkg, rpm, semver, pep440, apk); the rest is split at the
 * first NUL or newline into two versions a and b. Checks, aborting on any violation:
 *   - reflexivity: a valid version compares equal to itself;
 *   - validity is symmetric: cmp(a, b) succeeds iff cmp(b, a) does;
 *   - antisymmetry: sign(cmp(a, b)) == -sign(cmp(b, a));
 *   - ranges: with a < b, the range {introduced a, fixed b} contains a and not b.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vuln/vuln_version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

static void check_range(enum vg_vuln_scheme s, const char *a, size_t an, const char *b, size_t bn)
{
    struct vg_vuln_event ev[2] = {{VG_VULN_INTRODUCED, a, an}, {VG_VULN_FIXED, b, bn}};
    char err[256];
    bool in_a = false, in_b = true;
    if (vg_vuln_range_contains(s, ev, 2, a, an, &in_a, err, sizeof(err)) != VG_OK ||
        vg_vuln_range_contains(s, ev, 2, b, bn, &in_b, err, sizeof(err)) != VG_OK) {
        abort();
    }
    if (!in_a || in_b) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    int ab = 0, ba = 0, aa = 1, bb = 1;
    if (size < 1) {
        return 0;
    }
    enum vg_vuln_scheme s = (enum vg_vuln_scheme)(data[0] % VG_VULN_SCHEME_COUNT);
    const char *a = (const char *)data + 1;
    size_t rest = size - 1, an = 0;
    while (an < rest && a[an] != '\0' && a[an] != '\n') {
        an++;
    }
    const char *b = an < rest ? a + an + 1 : a + an;
    size_t bn = an < rest ? rest - an - 1 : 0;

    int ra = vg_vuln_vercmp(s, a, an, a, an, &aa, err, sizeof(err));
    int rb = vg_vuln_vercmp(s, b, bn, b, bn, &bb, err, sizeof(err));
    int r1 = vg_vuln_vercmp(s, a, an, b, bn, &ab, err, sizeof(err));
    int r2 = vg_vuln_vercmp(s, b, bn, a, an, &ba, err, sizeof(err));
    if ((ra == VG_OK && aa != 0) || (rb == VG_OK && bb != 0)) {
        abort(); /* not reflexive */
    }
    if ((r1 == VG_OK) != (r2 == VG_OK) || (r1 == VG_OK) != (ra == VG_OK && rb == VG_OK)) {
        abort(); /* validity depends on the order of the arguments */
    }
    if (r1 == VG_OK && sign(ab) != -sign(ba)) {
        abort(); /* not antisymmetric */
    }
    if (r1 == VG_OK && ab < 0) {
        check_range(s, a, an, b, bn);
    } else if (r1 == VG_OK && ab > 0) {
        check_range(s, b, bn, a, an);
    }
    (void)vg_vuln_version_check(s, a, an, err, sizeof(err));
    return 0;
}
