/*
 * fuzz_agent_config.c — libFuzzer target: arbitrary bytes as a remote agent configuration,
 * through the server's check (vg_fleet_config_check: JSON, collector names, YARA rules
 * compiled) and the agent's parser (vg_agent_rconf_parse: JSON → the YAML tree the
 * collectors bind), and the canonical form of what parsed.
 */
#include "agent/agent_rconf.h"
#include "fleet/fleet.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct vg_sbuf canon = VG_SBUF_INIT;
    struct vg_agent_rconf *r = NULL;
    vg_fleet_config_check((const char *)data, size, &canon, err, sizeof(err));
    vg_sbuf_fini(&canon);
    if (vg_agent_rconf_parse((const char *)data, size, &r, err, sizeof(err)) == VG_OK) {
        vg_agent_rconf_destroy(r);
    }
    return 0;
}
