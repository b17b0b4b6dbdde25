/*
 * fuzz_evtx.c — libFuzzer target for the EVTX reader (src/decode/decode_evtx.c): the input
 * is an EVTX file image; every record is drained into one event, reset per record, exactly
 * as the pipeline does. Replayed by ctest (replay_evtx) over tests/fuzz/corpus/evtx/ and
 * the real files listed in corpus/evtx.seeds.
 */
#include "decode/decode_evtx_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_event *ev;
    struct vg_evtx *r;
    char err[256];
    if (!ev && !(ev = vg_event_create())) {
        return 0;
    }
    if (vg_evtx_open(&r, data, size) != VG_OK) {
        return 0;
    }
    /* every call makes progress, so this ends; the bound only guards against a regression */
    for (size_t calls = 0; calls < size + 16; calls++) {
        vg_event_reset(ev);
        int rc = vg_evtx_next(r, ev, err, sizeof(err));
        if (rc == VG_EOF || rc == VG_ENOMEM) {
            break;
        }
        if (rc == VG_OK) {
            /* touch what consumers read: names, values, folded values */
            for (uint32_t i = 0; i < ev->n; i++) {
                size_t nl;
                const char *name = vg_field_name(ev->fields[i].id, &nl);
                if (!name || (ev->fields[i].v.len && !ev->fields[i].v.str)) {
                    __builtin_trap();
                }
                vg_value_fold(ev, &ev->fields[i].v);
            }
        }
    }
    const struct vg_evtx_stats *st = vg_evtx_stats(r);
    if (st->bad_chunks > st->chunks) {
        __builtin_trap();
    }
    vg_evtx_close(r);
    return 0;
}
