/*
 * fuzz_line.c — libFuzzer target: arbitrary bytes as one text line (syslog RFC 3164/5424,
 * auditd, sshd) and as a text file through the reader.
 */
#include "decode/decode.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_event *ev = vg_event_create();
    if (!ev) {
        return 0;
    }
    vg_decode_line(ev, (const char *)data, size, 2025);
    struct vg_sbuf out = VG_SBUF_INIT;
    vg_event_write_json(ev, &out);
    vg_sbuf_fini(&out);
    vg_event_destroy(ev);
    return 0;
}
