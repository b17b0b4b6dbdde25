/*
 * fuzz_vuln_apk.c — libFuzzer target: arbitrary bytes as an apk installed database
 * (vg_vuln_inv_from_apk) and as os-release text (vg_vuln_inv_osrelease_parse), the two
 * inputs src/vuln/vuln_inv.c reads from an Alpine root filesystem.
 */
#include "vuln/vuln_inv.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct vg_vuln_inv inv = {0};
    vg_vuln_inv_from_apk((const char *)data, size, "fuzz", &inv, err, sizeof(err));
    vg_vuln_inv_osrelease_parse((const char *)data, size, &inv);
    vg_vuln_inv_fini(&inv);
    return 0;
}
