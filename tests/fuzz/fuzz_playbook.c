/*
 * fuzz_playbook.c — libFuzzer target: arbitrary bytes as a playbook YAML file → parse and
 * check it; when it loads, render every step's inputs and evaluate every condition against
 * a fixed context, and match its triggers (the template and condition engines on
 * fuzzer-made programs). Any error must be a clean "file:line: field: reason".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "respond/respond_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char ctx_text[] =
    "{\"alert\":{\"id\":1,\"rule.id\":\"ssh-1\",\"level\":\"high\",\"source.ip\":\"1.2.3.4\","
    "\"tags\":[\"attack.t1110\"],\"threat.technique.id\":[\"T1110\"]},\"incident\":{\"risk\":120},"
    "\"inputs\":{\"d\":\"1h\"},\"steps\":{}}";

static void exercise(const struct vg_playbook *pb, const struct vg_json *ctx)
{
    char err[512];
    for (size_t i = 0; i < pb->ntriggers; i++) {
        vg_playbook_trigger_match(&pb->triggers[i], "alert", ctx, NULL);
        vg_playbook_trigger_match(&pb->triggers[i], "incident", ctx, NULL);
    }
    vg_cond_eval(pb->condition, ctx);
    for (size_t i = 0; i < pb->nsteps; i++) {
        struct vg_sbuf b = VG_SBUF_INIT;
        vg_cond_eval(pb->steps[i].when, ctx);
        if (pb->steps[i].with) {
            vg_tmpl_render(pb->steps[i].with, ctx, &b, err, sizeof(err));
        }
        vg_sbuf_fini(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_arena *arena;
    static struct vg_json *ctx;
    if (!arena) {
        struct vg_json_parser *jp = vg_json_parser_create(NULL);
        size_t used;
        char jerr[64];
        arena = vg_arena_create(4096);
        if (!jp || !arena ||
            vg_json_parse(jp, arena, ctx_text, strlen(ctx_text), &used, &ctx, jerr, sizeof(jerr)) !=
                VG_OK) {
            abort();
        }
        vg_json_parser_destroy(jp);
    }
    struct vg_playbook *pb = NULL;
    char err[512] = "";
    int rc = vg_playbook_parse("fuzz.yml", (const char *)data, size, &pb, err, sizeof(err));
    if (rc == VG_OK) {
        exercise(pb, ctx);
        vg_playbook_unref(pb);
    } else if (strncmp(err, "fuzz.yml:", 9) != 0) {
        abort(); /* every error names the file and line */
    }
    return 0;
}
