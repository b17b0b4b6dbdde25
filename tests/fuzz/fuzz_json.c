/*
 * fuzz_json.c — libFuzzer target: arbitrary bytes through the JSON record reader (streams of
 * values, arrays, Windows renderings) into events, each event written back as JSON.
 */
#include "decode/decode.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_event *ev = vg_event_create();
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_sbuf out = VG_SBUF_INIT;
    if (!ev || !p) {
        goto done;
    }
    /* the DOM parser directly, then the reader (which also resyncs after errors) */
    size_t off = 0;
    while (off < size) {
        size_t used = 0;
        struct vg_json *doc;
        char err[128];
        vg_event_reset(ev);
        int rc = vg_json_parse(p, ev->arena, (const char *)data + off, size - off, &used, &doc, err,
                               sizeof(err));
        if (rc != VG_OK) {
            break;
        }
        vg_decode_json(ev, doc);
        vg_sbuf_reset(&out);
        vg_event_write_json(ev, &out);
        off += used ? used : 1;
    }
    struct vg_reader *r;
    struct vg_reader_limits lim = {.max_record = 4096};
    if (vg_reader_open(&r, data, size, &lim) == VG_OK) {
        char err[256];
        int rc, guard = 0;
        while ((rc = vg_reader_next(r, ev, err, sizeof(err))) != VG_EOF && guard++ < 100000) {
            if (rc == VG_OK) {
                vg_sbuf_reset(&out);
                vg_event_write_json(ev, &out);
            }
        }
        vg_reader_close(r);
    }
done:
    vg_sbuf_fini(&out);
    vg_json_parser_destroy(p);
    vg_event_destroy(ev);
    return 0;
}
