/*
 * fuzz_intel_pattern.c — libFuzzer target: the STIX pattern parser (intel_pattern.c) over the
 * input as pattern text, then simple-indicator extraction, and a round-trip property: the
 * canonical print of an accepted pattern must parse again and print identically (abort
 * otherwise). Seeds: tests/fuzz/corpus/intel_pattern/ (spec-style patterns and error cases).
 */
#include "intel/intel_pattern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct vg_intel_pattern *p)
{
    struct vg_sbuf a = VG_SBUF_INIT, b = VG_SBUF_INIT;
    struct vg_intel_pattern *q = NULL;
    if (vg_intel_pattern_format(p, &a) != 0) {
        goto out;
    }
    /* the canonical form may add parentheses (precedence, qualifiers): allow the depth */
    struct vg_intel_pattern_limits lim = {a.len + 1, 16 * VG_INTEL_PATTERN_MAX_DEPTH};
    int rc = vg_intel_pattern_parse(a.p, a.len, &lim, &q, NULL, 0);
    if (rc == VG_ENOMEM) {
        goto out;
    }
    if (rc != 0 || vg_intel_pattern_format(q, &b) != 0 || a.len != b.len ||
        memcmp(a.p, b.p, a.len) != 0) {
        abort();
    }
out:
    vg_intel_pattern_destroy(q);
    vg_sbuf_fini(&a);
    vg_sbuf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_intel_pattern *p = NULL;
    struct vg_intel_ioc iocs[16];
    size_t n = 0;
    const char *why = NULL;
    char err[256];
    if (vg_intel_pattern_parse((const char *)data, size, NULL, &p, err, sizeof err) != 0) {
        return 0;
    }
    vg_intel_pattern_simple(p, iocs, 16, &n, &why);
    round_trip(p);
    vg_intel_pattern_destroy(p);
    return 0;
}
