/*
 * fuzz_intel_set.c — libFuzzer target: the typed indicator set's builder and lookups
 * (src/intel/intel_set.c). Each input line is one indicator: its first byte picks the type
 * (modulo the type count), the rest is the value. Every line is added, the set is frozen, and
 * every line is looked up again with every type; an exact value (URL, email, hash, ...) that
 * was accepted must find itself. Seeds: tests/fuzz/corpus/intel_set/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "intel/intel_set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void lookup_all(const struct vg_intel_set *s, const char *v, size_t n)
{
    struct vg_intel_hit h;
    for (int t = 0; t < VG_INTEL_TYPE_COUNT; t++) {
        vg_intel_set_lookup(s, (enum vg_intel_type)t, v, n, 1, &h);
        vg_intel_set_lookup_bin(s, (enum vg_intel_type)t, (const uint8_t *)v, n, 1, &h);
    }
    if (n >= 16) {
        vg_intel_set_lookup_ip6(s, (const uint8_t *)v, 1, &h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_intel_set_builder *b = vg_intel_set_builder_create();
    struct vg_intel_set *s = NULL;
    const char *p = (const char *)data, *end = p + size;
    if (!b) {
        return 0;
    }
    for (const char *line = p; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t n = (size_t)((nl ? nl : end) - line);
        if (n > 0) {
            vg_intel_set_builder_add(b,
                                     (enum vg_intel_type)((uint8_t)line[0] % VG_INTEL_TYPE_COUNT),
                                     line + 1, n - 1, NULL);
        }
        line += n + 1;
    }
    if (vg_intel_set_builder_freeze(b, &s) == 0) {
        for (const char *line = p; line < end;) {
            const char *nl = memchr(line, '\n', (size_t)(end - line));
            size_t n = (size_t)((nl ? nl : end) - line);
            if (n > 0) {
                enum vg_intel_type t = (enum vg_intel_type)((uint8_t)line[0] % VG_INTEL_TYPE_COUNT);
                struct vg_intel_set_builder *one = vg_intel_set_builder_create();
                struct vg_intel_hit h;
                /* an accepted exact value finds itself */
                if (one && t >= VG_INTEL_URL &&
                    vg_intel_set_builder_add(one, t, line + 1, n - 1, NULL) == 0 &&
                    vg_intel_set_lookup(s, t, line + 1, n - 1, 1, &h) != 0) {
                    abort();
                }
                vg_intel_set_builder_destroy(one);
                lookup_all(s, line + 1, n - 1);
            }
            line += n + 1;
        }
    }
    struct vg_intel_set_stats st;
    if (s) {
        vg_intel_set_stats(s, 1, &st);
    }
    vg_intel_set_destroy(s);
    vg_intel_set_builder_destroy(b);
    return 0;
}
