/*
 * fuzz_intel_wl.c — libFuzzer target: the MISP warninglist loader (intel_wl.c). The input is
 * loaded as one list.json document; if it loads, the set is built and the input's first
 * 64 bytes (and its "list" entries indirectly, via the structures) are looked up under every
 * hint, exercising the CIDR segments, hash sets, Aho-Corasick DFA and PCRE2 regexes.
 * Seeds: tests/fuzz/corpus/intel_wl/ (small hand-written lists of each type, malformed ones).
 */
#include "intel/intel_wl.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_intel_wl *wl = NULL;
    struct vg_intel_wl_hit hit;
    char err[256];
    const char *probe[] = {"10.1.2.3",
                           "2001:db8::1",
                           "www.example.com",
                           "abuse@example.org",
                           "https://a.b.example.com/x",
                           "+15550123",
                           "10.0.0.0/8"};
    if (vg_intel_wl_create(&wl) != 0) {
        return 0;
    }
    if (vg_intel_wl_load_mem(wl, "fuzz", (const char *)data, size, err, sizeof(err)) == 0 &&
        vg_intel_wl_build(wl, err, sizeof(err)) == 0) {
        size_t n = size < 64 ? size : 64;
        for (int h = 0; h < VG_INTEL_WL_HINT_COUNT; h++) {
            vg_intel_wl_match(wl, (const char *)data, n, (enum vg_intel_wl_hint)h, &hit);
            for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
                vg_intel_wl_match(wl, probe[i], strlen(probe[i]), (enum vg_intel_wl_hint)h, &hit);
            }
        }
    }
    vg_intel_wl_destroy(wl);
    return 0;
}
