/*
 * fuzz_dpkg_status.c — libFuzzer target: the agent's dpkg status parser
 * (vg_agent_inv_dpkg_parse, agent_inv_pkg.c) over arbitrary bytes. Checks that every
 * package it returns has a non-empty name and version within the field bound, and that
 * the first-problem message names the file and a line.
 */
#include "agent/agent_inv.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_agent_pkgs l = {0};
    char err[256] = "";
    int rc = vg_agent_inv_dpkg_parse((const char *)data, size, "fuzz", &l, err, sizeof(err));
    if (rc != VG_OK && rc != VG_ENOMEM && rc != VG_ELIMIT) {
        abort();
    }
    for (size_t i = 0; i < l.n; i++) {
        size_t nl = strlen(l.v[i].name), vl = strlen(l.v[i].version);
        if (!nl || !vl || nl > VG_AGENT_INV_MAX_FIELD || vl > VG_AGENT_INV_MAX_FIELD ||
            !l.v[i].arch || strcmp(l.v[i].type, "deb") != 0) {
            abort();
        }
    }
    if (l.bad && strncmp(err, "fuzz:", 5) != 0) {
        abort();
    }
    vg_agent_pkgs_fini(&l);
    return 0;
}
