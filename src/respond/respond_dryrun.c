/*
 * respond_dryrun.c — `vigie playbook test`: a playbook against a sample alert or incident,
 * without acting. Says which triggers match and why the others do not, evaluates the
 * condition, renders each step's inputs with the same context the engine would build, and
 * lets each action describe what it would do (services.dry_run). Approvals are shown with
 * their message and assumed approved so later steps can be rendered.
 */
#include <stdlib.h>
#include <string.h>

#include "respond/respond_engine.h"

/* "offset N: reason" → add the line and column of offset N. */
static void json_error(const char *text, size_t len, const char *jerr, char *err, size_t errsz)
{
    const char *o = strstr(jerr, "offset ");
    size_t off = o ? (size_t)strtoull(o + 7, NULL, 10) : 0, line = 1, col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        line += text[i] == '\n';
        col = text[i] == '\n' ? 1 : col + 1;
    }
    snprintf(err, errsz, "context JSON: %s (line %zu, column %zu)", jerr, line, col);
}

static void show_triggers(const struct vg_playbook *pb, const struct vg_json *ctx, FILE *out)
{
    const char *kinds[] = {"alert", "incident", "manual"};
    for (size_t i = 0; i < pb->ntriggers; i++) {
        static const char *const on[] = {"", "alert", "incident", "manual"};
        const char *kind = vg_json_get(ctx, "alert")      ? kinds[0]
                           : vg_json_get(ctx, "incident") ? kinds[1]
                                                          : kinds[2];
        struct vg_sbuf why = VG_SBUF_INIT;
        bool m = vg_playbook_trigger_match(&pb->triggers[i], kind, ctx, &why);
        fprintf(out, "trigger %zu (line %u, on %s): %s%s\n", i + 1, pb->triggers[i].line,
                on[pb->triggers[i].on],
                m ? "matches" : "does not match: ", m ? "" : (why.p ? why.p : ""));
        vg_sbuf_fini(&why);
    }
}

static int dry_step(struct vg_re_run *r, size_t i, const struct vg_respond_services *svc, FILE *out)
{
    const struct vg_pb_step *ps = &r->pb->steps[i];
    struct vg_sbuf ctxt = VG_SBUF_INIT, input = VG_SBUF_INIT;
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *ctx = NULL, *in = NULL;
    size_t used;
    char err[512] = "";
    vg_re_context(r, &ctxt);
    int rc =
        a && jp ? vg_json_parse(jp, a, ctxt.p, ctxt.len, &used, &ctx, err, sizeof(err)) : VG_ENOMEM;
    fprintf(out, "step %s (line %u, stage %u): ", ps->id, ps->line, ps->stage + 1);
    if (rc == VG_OK && ps->when && !vg_cond_eval(ps->when, ctx)) {
        fprintf(out, "skipped (when is false)\n");
        r->st[i].status = VG_RE_SKIPPED;
    } else if (rc == VG_OK && ps->approval) {
        if (ps->approval_message) {
            rc = vg_tmpl_render_text(ps->approval_message, strlen(ps->approval_message), ctx,
                                     &input, err, sizeof(err));
        }
        fprintf(out, "approval by %s: \"%s\" (assumed approved)\n",
                ps->approver_role >= 0 ? "a role" : "named users", input.p ? input.p : "");
        r->st[i].status = VG_RE_SUCCEEDED;
        r->st[i].output = vg_strdup("{\"approved\":true,\"by\":\"dry-run\"}");
    } else if (rc == VG_OK &&
               (rc = vg_tmpl_render(ps->with, ctx, &input, err, sizeof(err))) == VG_OK) {
        fprintf(out, "%s with %s\n", ps->action_name, input.p);
        rc = vg_json_parse(jp, a, input.p, input.len, &used, &in, err, sizeof(err));
        char idem[96];
        snprintf(idem, sizeof(idem), "r-0/%s", ps->id);
        struct vg_action_ctx c = {.tenant = r->tenant,
                                  .run_id = "r-0",
                                  .step_id = ps->id,
                                  .idem_key = idem,
                                  .actor = "playbook:dry-run",
                                  .attempt = 1,
                                  .timeout_ms = (int)(ps->timeout_ns / 1000000),
                                  .input = in,
                                  .svc = svc,
                                  .arena = a};
        struct vg_action_result res = {VG_SBUF_INIT, false, {0}};
        rc = rc == VG_OK ? ps->action->run(&c, &res) : rc;
        fprintf(out, "  -> %s%s\n", rc == VG_OK ? "" : "error: ",
                rc == VG_OK ? (res.output.p ? res.output.p : "{}") : res.err);
        r->st[i].status = rc == VG_OK ? VG_RE_SUCCEEDED : VG_RE_FAILED;
        r->st[i].output = vg_strdup(rc == VG_OK && res.output.p ? res.output.p : "{}");
        vg_sbuf_fini(&res.output);
    }
    if (rc != VG_OK && err[0]) {
        fprintf(out, "error: %s\n", err);
    }
    vg_sbuf_fini(&ctxt);
    vg_sbuf_fini(&input);
    vg_json_parser_destroy(jp);
    vg_arena_destroy(a);
    return rc;
}

int vg_playbook_dry_run(const struct vg_playbook *pb, const char *ctx_json, size_t len,
                        const struct vg_respond_services *svc, FILE *out, char *err, size_t errsz)
{
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *ctx = NULL;
    size_t used;
    char jerr[256] = "";
    int rc =
        a && jp ? vg_json_parse(jp, a, ctx_json, len, &used, &ctx, jerr, sizeof(jerr)) : VG_ENOMEM;
    if (rc != VG_OK || ctx->type != VG_JSON_OBJECT) {
        json_error(ctx_json, len, rc != VG_OK ? jerr : "offset 0: expected an object", err, errsz);
        vg_json_parser_destroy(jp);
        vg_arena_destroy(a);
        return VG_EINVAL;
    }
    fprintf(out, "playbook %s (%s), %zu steps\n", pb->id, pb->file, pb->nsteps);
    show_triggers(pb, ctx, out);
    fprintf(out, "condition: %s\n",
            !pb->condition                     ? "none"
            : vg_cond_eval(pb->condition, ctx) ? "true"
                                               : "false");
    struct vg_re_step st[VG_PB_MAX_STEPS];
    memset(st, 0, sizeof(st));
    struct vg_re_run r = {
        .id = 0, .pb = (struct vg_playbook *)pb, .tenant = "default", .ctx = ctx, .st = st};
    int failed = 0;
    for (size_t i = 0; i < pb->nsteps; i++) {
        failed += dry_step(&r, i, svc, out) != VG_OK;
    }
    for (size_t i = 0; i < pb->nsteps; i++) {
        vg_free(st[i].output);
    }
    fprintf(out, "%zu steps, %d would fail\n", pb->nsteps, failed);
    vg_json_parser_destroy(jp);
    vg_arena_destroy(a);
    return failed ? VG_ERROR : VG_OK;
}
