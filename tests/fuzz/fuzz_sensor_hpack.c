/*
 * fuzz_sensor_hpack.c — libFuzzer target: HPACK decoding (sensor_hpack.c). Input: byte 0
 * sets the table limit (times 256); then header blocks of [length byte][bytes] decoded with
 * one context, in order (so the dynamic table carries over); every block is also
 * Huffman-decoded on its own. Seeds: tests/fuzz/corpus/sensor_hpack/ (RFC 7541 Appendix C).
 */
#include <stdint.h>
#include <string.h>

#include "sensor/sensor_hpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t fields;

static void count_field(void *ctx, const struct vg_sensor_hpack_field *f)
{
    (void)ctx;
    fields += f->nlen + f->vlen + (size_t)f->size_update;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t scratch[2048];
    if (size < 1) {
        return 0;
    }
    struct vg_sensor_hpack h;
    vg_sensor_hpack_init(&h);
    vg_sensor_hpack_set_limit(&h, (uint32_t)data[0] * 256u);
    size_t pos = 1;
    while (pos < size) {
        size_t n = data[pos++];
        n = n < size - pos ? n : size - pos;
        (void)vg_sensor_hpack_decode(&h, data + pos, n, scratch, sizeof(scratch), count_field,
                                     NULL);
        (void)vg_sensor_hpack_huffman_decode(data + pos, n, scratch, sizeof(scratch));
        pos += n;
    }
    vg_sensor_hpack_fini(&h);
    return 0;
}
