/*
 * respond_act_basic.c — the actions without outside effects: noop, log, set and sleep.
 * They let playbooks compute values (set), leave a trace in the daemon's log (log) and let
 * tests exercise the engine's deadlines (sleep).
 */
#include "respond/respond_act_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- noop */

static int noop_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    VG_UNUSED(c);
    vg_sbuf_adds(&r->output, "{}");
    return r->output.err;
}

static const struct vg_action_param noop_params[] = {{NULL, 0, false, NULL}};

const struct vg_action_def vg_act_noop = {
    .name = "noop",
    .description = "Do nothing (output {}); a placeholder or a branch target",
    .params = noop_params,
    .run = noop_run,
};

/* ---------------------------------------------------------------- log */

static int log_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    const char *msg;
    int rc = vg_act_str(c, r, "message", true, 65536, &msg);
    if (rc != VG_OK) {
        return rc;
    }
    /* the message carries alert data: log it JSON-escaped so it cannot forge log lines */
    struct vg_sbuf q = VG_SBUF_INIT;
    vg_sbuf_add_json_str(&q, msg, strlen(msg));
    if (c->svc && c->svc->dry_run) {
        rc = vg_act_dry(r, "log %s", q.p ? q.p : "\"\"");
    } else {
        VG_INFO("respond", "playbook %s step %s: %s", c->actor ? c->actor : "-",
                c->step_id ? c->step_id : "-", q.p ? q.p : "\"\"");
        vg_sbuf_adds(&r->output, "{\"logged\":true}");
        rc = r->output.err;
    }
    vg_sbuf_fini(&q);
    return rc;
}

static const struct vg_action_param log_params[] = {
    {"message", VG_ACTION_STRING, true, "text written at level info to the daemon's log"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_log = {
    .name = "log",
    .description = "Write a message to the daemon's log (output {\"logged\":true})",
    .params = log_params,
    .run = log_run,
};

/* ---------------------------------------------------------------- set */

/* No side effect, so a dry run returns the values too: later steps can use them. */
static int set_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    if (!c->input || c->input->type != VG_JSON_OBJECT) {
        vg_sbuf_adds(&r->output, "{}");
    } else {
        vg_json_write(c->input, &r->output);
    }
    return r->output.err;
}

static const struct vg_action_param set_params[] = {
    {"*", VG_ACTION_ANY, false, "any key: each becomes an output of the step"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_set = {
    .name = "set",
    .description = "Return its parameters as the step's outputs (compute values for later steps)",
    .params = set_params,
    .run = set_run,
};

/* ---------------------------------------------------------------- sleep */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int sleep_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    int64_t ms;
    int rc = vg_act_int(c, r, "ms", 0, 0, 86400000, &ms);
    if (rc != VG_OK) {
        return rc;
    }
    if (c->svc && c->svc->dry_run) {
        return vg_act_dry(r, "sleep %lld ms", (long long)ms);
    }
    long left = vg_act_left_ms(vg_act_deadline(c));
    if (ms > left) {
        sleep_ms(left);
        return vg_act_fail(r, VG_ETIMEOUT, true,
                           "the step's deadline (%d ms) passed while sleeping", c->timeout_ms);
    }
    sleep_ms((long)ms);
    vg_sbuf_printf(&r->output, "{\"slept_ms\":%lld}", (long long)ms);
    return r->output.err;
}

static const struct vg_action_param sleep_params[] = {
    {"ms", VG_ACTION_INT, true, "milliseconds to wait (0-86400000); the deadline cuts it short"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_sleep = {
    .name = "sleep",
    .description = "Wait ms milliseconds, honouring the step's deadline (VG_ETIMEOUT past it)",
    .params = sleep_params,
    .run = sleep_run,
};
