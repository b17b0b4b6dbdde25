/*
 * agent_collectors.c — the collector table: every collector the agent knows, in the order
 * `vigie-agent` starts them and lists them.
 */
#include "agent/agent.h"
#include "agent/agent_fim.h"
#include "agent/agent_inv.h"
#include "agent/agent_logs.h"
#include "agent/agent_net.h"
#include "agent/agent_proc.h"
#include "agent/agent_yara.h"

#include <string.h>

static const struct vg_agent_collector_def *const table[] = {
    &vg_agent_proc_collector, &vg_agent_fim_collector,  &vg_agent_net_collector,
    &vg_agent_inv_collector,  &vg_agent_logs_collector, &vg_agent_yara_collector,
};

const struct vg_agent_collector_def *const *vg_agent_collectors(size_t *n)
{
    *n = VG_ARRAY_LEN(table);
    return table;
}

const struct vg_agent_collector_def *vg_agent_collector_find(const char *name)
{
    for (size_t i = 0; name && i < VG_ARRAY_LEN(table); i++) {
        if (!strcmp(table[i]->name, name)) {
            return table[i];
        }
    }
    return NULL;
}
