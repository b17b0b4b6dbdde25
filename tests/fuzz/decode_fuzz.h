/*
 * decode_fuzz.h — the body shared by the decoder-chain fuzz targets (fuzz_chain.c,
 * fuzz_cef.c, ...): the input is split into lines and fed to one decoder object — so stream
 * state (auditd joins, W3C headers, concatenated JSON) is exercised — with a small record
 * limit so oversized records are too. Every event produced is written as JSON and that JSON
 * must parse (a decoder that puts "007" in a number field would break it): anything else
 * aborts. hint picks the decoder tried first, so each target concentrates on its decoder;
 * year 0 (the current year, with the New Year correction) or a fixed default year.
 */
#ifndef VG_DECODE_FUZZ_H
#define VG_DECODE_FUZZ_H

#include "decode/decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_event(struct vg_event *ev, struct vg_json_parser *jp, struct vg_arena *a,
                             struct vg_sbuf *out)
{
    vg_sbuf_reset(out);
    vg_event_write_json(ev, out);
    if (out->err) {
        return;
    }
    size_t used = 0;
    struct vg_json *doc = NULL;
    char err[128];
    vg_arena_reset(a);
    int rc = vg_json_parse(jp, a, out->p, out->len, &used, &doc, err, sizeof(err));
    if (rc != VG_OK && rc != VG_ENOMEM && rc != VG_ELIMIT) {
        fprintf(stderr, "event JSON does not parse (%s): %s\n", err, out->p);
        abort();
    }
    for (uint32_t k = 0; k < ev->n; k++) {
        vg_value_fold(ev, &ev->fields[k].v); /* what detection does to every compared value */
    }
}

static int decode_fuzz(const uint8_t *data, size_t size, const char *hint, int year)
{
    struct vg_decoder_opts o = {.default_year = year, .hint = hint, .max_record = 8192};
    struct vg_decoder *d = vg_decoder_create(&o);
    struct vg_event *ev = vg_event_create();
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(16384);
    struct vg_sbuf out = VG_SBUF_INIT;
    const char *p = (const char *)data, *end = p + size;
    while (d && ev && jp && a && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        int rc = vg_decoder_decode(d, p, len, ev);
        while (rc == VG_OK || rc == VG_EINVAL) {
            if (rc == VG_OK) {
                fuzz_check_event(ev, jp, a, &out);
            } else if (!vg_decoder_error(d)[0]) {
                abort(); /* every rejection carries a reason */
            }
            rc = vg_decoder_next(d, ev);
        }
        p += len + 1;
    }
    while (d && ev && jp && a && vg_decoder_flush(d, ev) == VG_OK) {
        fuzz_check_event(ev, jp, a, &out);
    }
    vg_sbuf_fini(&out);
    vg_arena_destroy(a);
    vg_json_parser_destroy(jp);
    vg_event_destroy(ev);
    vg_decoder_destroy(d);
    return 0;
}

#endif
