/*
 * fuzz_sigma.c — libFuzzer target: arbitrary bytes as a Sigma YAML file → compile every
 * document, then build a ruleset from the result (routing, prefilter, correlations).
 */
#include "detect/detect.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_mapping *map;
    char err[256];
    if (!map && vg_mapping_default(&map, err, sizeof(err)) != VG_OK) {
        abort();
    }
    struct vg_sigma_set *set = vg_sigma_set_create(NULL);
    if (!set) {
        return 0;
    }
    vg_sigma_set_add_text(set, (const char *)data, size, "fuzz.yml");
    struct vg_ruleset *rs = NULL;
    if (vg_ruleset_build(set, map, NULL, &rs, err, sizeof(err)) == VG_OK) {
        vg_ruleset_unref(rs);
    }
    vg_sigma_set_destroy(set);
    return 0;
}
