/*
 * act_test.h — shared helpers for the action tests: run one action by name with a JSON
 * `with` text, services and a deadline, then read its output back as JSON.
 */
#ifndef VG_ACT_TEST_H
#define VG_ACT_TEST_H

#include "vgtest.h"

#include "core/core.h"
#include "event/event.h"
#include "respond/respond_action.h"

#include <string.h>

struct act_run {
    struct vg_arena *arena;
    struct vg_action_result res;
    int rc;
    const struct vg_json *out; /* parsed output (NULL if empty or not JSON) */
};

static inline const struct vg_json *act_json(struct vg_arena *a, const char *text, size_t n)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_json *doc = NULL;
    size_t used;
    char err[128];
    if (vg_json_parse(p, a, text, n, &used, &doc, err, sizeof(err)) != VG_OK) {
        doc = NULL;
    }
    vg_json_parser_destroy(p);
    return doc;
}

/* Run action name with input JSON text; ctx fields have fixed test values. */
static inline int act_run_ex(const char *name, const char *input,
                             const struct vg_respond_services *svc, int timeout_ms,
                             const char *idem_key, struct act_run *ar)
{
    static const struct vg_respond_services none = {0};
    memset(ar, 0, sizeof(*ar));
    ar->arena = vg_arena_create(4096);
    const struct vg_action_def *d = vg_action_find(name);
    if (!d) {
        fprintf(stderr, "  no action %s\n", name);
        return ar->rc = VG_ENOENT;
    }
    struct vg_action_ctx c = {
        .tenant = "default",
        .run_id = "r-42",
        .step_id = "s1",
        .idem_key = idem_key ? idem_key : "r-42/s1",
        .actor = "playbook:test#r-42",
        .attempt = 1,
        .timeout_ms = timeout_ms,
        .input = act_json(ar->arena, input, strlen(input)),
        .svc = svc ? svc : &none,
        .arena = ar->arena,
    };
    ar->rc = d->run(&c, &ar->res);
    if (ar->res.output.len) {
        ar->out = act_json(ar->arena, ar->res.output.p, ar->res.output.len);
    }
    if (getenv("VG_ACT_VERBOSE")) {
        fprintf(stderr, "  %s -> %d %s%s out=%.300s\n", name, ar->rc, ar->res.err,
                ar->res.retryable ? " (retryable)" : "", ar->res.output.p ? ar->res.output.p : "");
    }
    return ar->rc;
}

static inline int act_run(const char *name, const char *input,
                          const struct vg_respond_services *svc, int timeout_ms, struct act_run *ar)
{
    return act_run_ex(name, input, svc, timeout_ms, NULL, ar);
}

static inline void act_done(struct act_run *ar)
{
    vg_sbuf_fini(&ar->res.output);
    vg_arena_destroy(ar->arena);
    ar->arena = NULL;
}

/* A string member of the output, copied into the run's arena ("" when absent). */
static inline const char *act_out_str(struct act_run *ar, const char *key)
{
    const struct vg_json *v = ar->out ? vg_json_get(ar->out, key) : NULL;
    if (!v || v->type != VG_JSON_STRING) {
        return "";
    }
    return vg_arena_strndup(ar->arena, v->s, v->n);
}

static inline long long act_out_int(struct act_run *ar, const char *key)
{
    const struct vg_json *v = ar->out ? vg_json_get(ar->out, key) : NULL;
    return v && v->type == VG_JSON_NUMBER && v->is_int ? (long long)v->u.i : -1;
}

#endif
