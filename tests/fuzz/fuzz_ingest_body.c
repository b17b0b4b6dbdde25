/*
 * fuzz_ingest_body.c — libFuzzer target: arbitrary bytes through the HTTP ingest body
 * parsers of src/api (POST /api/v1/ingest as JSON or text, Splunk HEC events and raw lines).
 * The first byte picks the parser, the rest is the body. Besides the sanitizers, it checks
 * what the endpoints rely on: documents lie inside the body, every kept JSON document and
 * every HEC record built is one complete JSON object that parses again, text documents are
 * single non-blank lines, and errors carry a position.
 */
#include "api/api_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 1000

/* One complete JSON object, exactly n bytes long. */
static bool whole_object(struct vg_json_parser *jp, struct vg_arena *a, const char *p, size_t n)
{
    size_t used = 0;
    struct vg_json *doc = NULL;
    char err[128];
    vg_arena_reset(a);
    return vg_json_parse(jp, a, p, n, &used, &doc, err, sizeof(err)) == VG_OK && used == n &&
           doc->type == VG_JSON_OBJECT;
}

static void check_docs(const struct vg_api_parse *ps, int mode, const char *body, size_t len)
{
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    if (!jp || !a || !ps->ndocs || ps->ndocs > MAX_DOCS) {
        abort();
    }
    for (size_t i = 0; i < ps->ndocs; i++) {
        const struct vg_api_doc *d = &ps->docs[i];
        bool in_body = d->p >= body && d->p + d->len <= body + len;
        bool in_built = d->p >= ps->built.p && d->p + d->len <= ps->built.p + ps->built.len;
        if (mode < 2 ? !in_body : !in_built) {
            abort();
        }
        if (mode == 1 && (memchr(d->p, '\n', d->len) || !d->len)) {
            abort();
        }
        if (mode != 1 && !whole_object(jp, a, d->p, d->len)) {
            abort();
        }
        if (mode == 0 && !vg_utf8_valid(d->p, d->len)) {
            abort();
        }
        if (d->id && (strlen(d->id) != d->id_len || strchr(d->id, '\x1f'))) {
            abort();
        }
    }
    vg_arena_destroy(a);
    vg_json_parser_destroy(jp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    int mode = data[0] & 3; /* 0 JSON, 1 text, 2 HEC event, 3 HEC raw */
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    struct vg_api_parse ps;
    struct vg_api_hec_meta def = {.host = "h\"1", .sourcetype = "syslog"};
    if (vg_api_parse_init(&ps, MAX_DOCS) == VG_OK) {
        int rc = mode < 2 ? vg_api_parse_ingest(&ps, body, len, mode == 1)
                          : vg_api_parse_hec(&ps, body, len, mode == 3, &def);
        if (rc == VG_OK) {
            check_docs(&ps, mode, body, len);
        } else if (rc == VG_EINVAL && (ps.line < 1 || ps.col < 1 || ps.start_line > ps.line ||
                                       (mode >= 2 && !ps.hec_code))) {
            abort();
        }
    }
    vg_api_parse_fini(&ps);
    return 0;
}
