/*
 * fuzz_case.c — libFuzzer target: arbitrary bytes through the case module's JSON body
 * parsers (create, update, observable, task — as POST/PATCH /api/v1/cases... and playbook
 * steps use them). The first byte picks the parser, the rest is the body. Besides the
 * sanitizers it checks what the callers rely on: an error always names a field or the
 * body, a parsed struct holds NUL-terminated strings, tags are a JSON array and custom
 * fields a JSON object that parse again, and observable values pass type detection.
 */
#include "case/case.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(struct vg_json_parser *jp, const char *text, int type)
{
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *v = NULL;
    size_t used = 0;
    char err[128];
    if (!text) {
        vg_arena_destroy(a);
        return;
    }
    if (!a || vg_json_parse(jp, a, text, strlen(text), &used, &v, err, sizeof(err)) != VG_OK ||
        v->type != type || used != strlen(text)) {
        abort();
    }
    vg_arena_destroy(a);
}

static void check_str(const char *s)
{
    if (s && strlen(s) > (1u << 24)) {
        abort();
    }
}

static void run(int which, const struct vg_json *doc, struct vg_arena *a, struct vg_json_parser *jp)
{
    char err[256] = "";
    int rc = VG_OK;
    if (which == 0) {
        struct vg_case_new c;
        rc = vg_case_parse_new(doc, a, &c, err, sizeof(err));
        if (rc == VG_OK) {
            check_str(c.title);
            check_str(c.description);
            check_json(jp, c.tags, VG_JSON_ARRAY);
            check_json(jp, c.custom, VG_JSON_OBJECT);
            if (!c.title || !*c.title || c.severity < 0 || c.severity > 4) {
                abort();
            }
        }
    } else if (which == 1) {
        struct vg_case_update u;
        rc = vg_case_parse_update(doc, a, &u, err, sizeof(err));
        if (rc == VG_OK) {
            check_str(u.summary);
            check_json(jp, u.tags, VG_JSON_ARRAY);
            check_json(jp, u.custom, VG_JSON_OBJECT);
        }
    } else if (which == 2) {
        struct vg_case_observable o;
        rc = vg_case_parse_observable(doc, a, &o, err, sizeof(err));
        if (rc == VG_OK) {
            const char *t = NULL, *s = NULL;
            vg_case_observable_detect(o.value, &t, &s);
            if (!t || !s) {
                abort();
            }
            check_json(jp, o.tags, VG_JSON_ARRAY);
        }
    } else {
        struct vg_case_task t;
        rc = vg_case_parse_task(doc, a, &t, err, sizeof(err));
        if (rc == VG_OK) {
            check_str(t.title);
        }
    }
    if (rc != VG_OK && (rc != VG_EINVAL || strncmp(err, "cases: ", 7) != 0)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char err[128];
    if (!jp || !a) {
        abort();
    }
    if (vg_json_parse(jp, a, (const char *)data + 1, size - 1, &used, &doc, err, sizeof(err)) ==
        VG_OK) {
        run(data[0] % 4, doc, a, jp);
    }
    vg_arena_destroy(a);
    vg_json_parser_destroy(jp);
    return 0;
}
