/*
 * fuzz_cond.c — libFuzzer target: arbitrary bytes as a Sigma condition expression over a
 * fixed set of search identifiers.
 */
#include "sigma/sigma.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"selection",       "sel_a",   "sel_b",    "filter_main",
                                        "filter_optional", "_hidden", "keywords", "1"};
    struct vg_arena *a = vg_arena_create(4096);
    if (!a) {
        return 0;
    }
    struct vg_sigma_cond *c;
    char err[256];
    vg_sigma_cond_parse(a, (const char *)data, size, names, 8, &c, err, sizeof(err));
    vg_arena_destroy(a);
    return 0;
}
