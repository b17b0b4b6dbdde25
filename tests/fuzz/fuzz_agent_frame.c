/*
 * fuzz_agent_frame.c — libFuzzer target: untrusted agent bytes through the server's frame
 * decoder (fed in input-chosen chunk sizes), including bounded zstd decompression, EVENTS
 * splitting and iteration, ACK parsing, and command verification of COMMAND payloads.
 */
#include "agent/agent_wire.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_frame(const struct vg_agent_frame *f, struct vg_agent_cmd_verifier *v)
{
    char err[160];
    struct vg_agent_wire_events ev;
    uint64_t last;
    if (f->type == VG_AGENT_FRAME_EVENTS && vg_agent_wire_events_parse(f, &ev, err, 160) == 0) {
        size_t pos = 0, n, total = 0;
        const char *j;
        uint32_t k = 0;
        while (vg_agent_wire_events_next(&ev, &pos, &j, &n)) {
            total += n;
            k++;
        }
        if (k != ev.count || total > ev.body_len) {
            __builtin_trap();
        }
    } else if (f->type == VG_AGENT_FRAME_ACK) {
        vg_agent_wire_ack_parse(f, &last);
    } else if (f->type == VG_AGENT_FRAME_COMMAND && v) {
        struct vg_agent_command c;
        if (vg_agent_cmd_verify(v, f->payload, f->len, 1700000000, &c, err, sizeof(err)) == 0) {
            vg_agent_command_fini(&c);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t chunk = (size_t)data[0] * 7 + 1;
    data++, size--;
    struct vg_agent_wire_limits lim = {1u << 20, 1u << 20};
    struct vg_agent_wire_decoder *d = NULL;
    struct vg_agent_cmd_verifier *v = NULL;
    static const uint8_t pk[VG_AGENT_WIRE_PK_SIZE] = {1};
    if (vg_agent_wire_decoder_create(&lim, &d) != 0) {
        return 0;
    }
    vg_agent_cmd_verifier_create(pk, "agent-1", NULL, &v);
    char err[160];
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (vg_agent_wire_decoder_feed(d, data + off, n) != 0) {
            break;
        }
        struct vg_agent_frame f;
        int rc;
        while ((rc = vg_agent_wire_decoder_next(d, &f, err, sizeof(err))) == 0) {
            fuzz_frame(&f, v);
        }
        if (rc != VG_AGAIN) {
            break;
        }
    }
    vg_agent_cmd_verifier_destroy(v);
    vg_agent_wire_decoder_destroy(d);
    return 0;
}
