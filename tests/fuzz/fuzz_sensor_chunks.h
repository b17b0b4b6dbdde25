/*
 * fuzz_sensor_chunks.h — the body shared by the fuzz targets of the sensor's binary stream
 * parsers (TLS, SSH): the input is a sequence of chunks, one control byte (bit 0: direction,
 * bits 1-7: chunk length - 1) then up to 128 bytes, so the fuzzer controls both directions and
 * every segmentation; then the flow ends (logging whatever is pending). Include once.
 */
#ifndef VG_FUZZ_SENSOR_CHUNKS_H
#define VG_FUZZ_SENSOR_CHUNKS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_app.h"

static void sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    (void)line;
    (void)len;
}

/* Run pr over the chunked two-way stream in data (format above); a 1-byte chunk 0xff is a
 * 1000-byte gap. */
static void fuzz_sensor_stream_chunks(const struct vg_sensor_app_proto *pr, const uint8_t *data,
                                      size_t size)
{
    static struct vg_sensor_engine *eng;
    struct vg_sensor_flow flow;
    if (!eng) {
        struct vg_sensor_engine_config cfg;
        vg_sensor_engine_config_default(&cfg);
        cfg.log_flow = false;
        if (vg_sensor_engine_create(&cfg, sink, NULL, &eng) != 0) {
            abort();
        }
    }
    memset(&flow, 0, sizeof(flow));
    flow.key.family = VG_SENSOR_FLOW_AF_INET;
    flow.key.proto = 6;
    void *st = pr->state_new();
    if (!st) {
        return;
    }
    bool stop = false;
    (void)pr->probe(data, size, VG_SENSOR_FLOW_TO_SERVER);
    for (size_t off = 0; off < size && !stop;) {
        uint8_t ctl = data[off++];
        size_t n = VG_MIN((size_t)(ctl >> 1) + 1, size - off);
        struct vg_sensor_app_ctx c = {eng,          &flow, (enum vg_sensor_flow_dir)(ctl & 1),
                                      (int64_t)off, off,   NULL};
        if (n == 1 && data[off] == 0xff && pr->gap) {
            pr->gap(&c, st, 1000);
        } else if (pr->data(&c, st, data + off, n) != VG_SENSOR_APP_OK) {
            stop = true;
        }
        off += n;
    }
    struct vg_sensor_app_ctx ce = {eng, &flow, VG_SENSOR_FLOW_TO_SERVER, 0, 0, NULL};
    pr->end(&ce, st);
    pr->state_free(st);
}

#endif
