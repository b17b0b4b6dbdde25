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

#include <stdio.h>
#include <string.h>

int vg_agent_conf_bind(const char *name, const struct vg_conf_field *table, size_t n,
                       const struct vg_yaml_node *sec, void *obj, char *err, size_t errsz)
{
    int rc = vg_conf_defaults(table, n, obj, err, errsz);
    struct vg_yaml_node key = {.type = VG_YAML_SCALAR, .str = name, .len = strlen(name)};
    struct vg_yaml_node *items[2] = {&key, (struct vg_yaml_node *)sec};
    struct vg_yaml_node root = {.type = VG_YAML_MAP, .items = items};
    if (rc != VG_OK) {
        return rc;
    }
    if (sec && !vg_yaml_is_null(sec)) {
        if (sec->type != VG_YAML_MAP) {
            snprintf(err, errsz, "agent configuration:%u: %s: expected a map", sec->line, name);
            return VG_EINVAL;
        }
        key.line = sec->line;
        root.n = 1; /* else an empty root: the defaults and the environment only */
    }
    return vg_conf_bind(table, n, &root, "agent configuration", obj, err, errsz);
}

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
