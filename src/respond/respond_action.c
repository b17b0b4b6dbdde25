/*
 * respond_action.c — the action table of the playbook engine (STYLE.md habit 10): every
 * action a playbook step may name, in the order `vigie playbook actions` lists them. Each
 * family lives in its own respond_act_<family>.c; this file only gathers them.
 */
#include "respond/respond_act_int.h"

#include <string.h>

/* Declared here rather than in respond_act_int.h (kept unchanged by the agent work). */
extern const struct vg_action_def vg_act_agent_yara_scan;

static const struct vg_action_def *const actions[] = {
    &vg_act_noop,
    &vg_act_log,
    &vg_act_set,
    &vg_act_sleep,
    &vg_act_http_webhook,
    &vg_act_mail_send,
    &vg_act_exec_responder,
    &vg_act_nft_block,
    &vg_act_nft_unblock,
    &vg_act_case_create,
    &vg_act_case_comment,
    &vg_act_case_observable,
    &vg_act_case_task,
    &vg_act_case_status,
    &vg_act_case_link_alerts,
    &vg_act_agent_kill_process,
    &vg_act_agent_quarantine_file,
    &vg_act_agent_isolate_host,
    &vg_act_agent_release_host,
    &vg_act_agent_yara_scan,
    &vg_act_intel_lookup,
};

/* Thread-safe (the table is constant). */
const struct vg_action_def *vg_action_find(const char *name)
{
    for (size_t i = 0; name && i < VG_ARRAY_LEN(actions); i++) {
        if (strcmp(actions[i]->name, name) == 0) {
            return actions[i];
        }
    }
    return NULL;
}

/* Thread-safe; *n (may be NULL) receives the count. */
const struct vg_action_def *const *vg_action_all(size_t *n)
{
    if (n) {
        *n = VG_ARRAY_LEN(actions);
    }
    return actions;
}
