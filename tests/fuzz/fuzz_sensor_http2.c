/*
 * fuzz_sensor_http2.c — libFuzzer target: the sensor's HTTP/2 parser (sensor_http2.c, with
 * the HTTP parser behind it for h2c upgrades) over a two-direction conversation.
 * Input: byte 0 picks the chunk size (bits 1..7) and whether a gap follows the first piece
 * (bit 0); then pieces of [direction byte (bit 0: to client)][length, 2 bytes big-endian]
 * [bytes], each fed in chunks. Records go to a real engine whose sink discards them.
 * Seeds: tests/fuzz/corpus/sensor_http2/.
 */
#include <stdint.h>
#include <string.h>

#include "sensor/sensor_app.h"
#include "sensor/sensor_hpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h2_sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    (void)line;
    (void)len;
}

static struct vg_sensor_engine *h2_engine(void)
{
    static struct vg_sensor_engine *eng;
    if (!eng) {
        struct vg_sensor_engine_config cfg;
        vg_sensor_engine_config_default(&cfg);
        if (vg_sensor_engine_create(&cfg, h2_sink, NULL, &eng) != 0) {
            return NULL;
        }
    }
    return eng;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_http2;
    struct vg_sensor_engine *eng = h2_engine();
    if (!eng || size < 1) {
        return 0;
    }
    size_t chunk = (size_t)(data[0] >> 1) * 7 + 1;
    bool gap = data[0] & 1;
    struct vg_sensor_flow flow;
    memset(&flow, 0, sizeof(flow));
    flow.key.family = VG_SENSOR_FLOW_AF_INET;
    flow.key.proto = 6;
    flow.key.sport = 40000;
    flow.key.dport = 80;
    struct vg_sensor_app_ctx c = {.eng = eng, .flow = &flow, .ts_ns = 1, .pcap_cnt = 1};
    (void)pr->probe(data + 1, size - 1, VG_SENSOR_FLOW_TO_SERVER);
    (void)pr->probe(data + 1, size - 1, VG_SENSOR_FLOW_TO_CLIENT);
    void *st = pr->state_new();
    if (!st) {
        return 0;
    }
    size_t pos = 1;
    int r = VG_SENSOR_APP_OK;
    for (int piece = 0; pos + 3 <= size && r == VG_SENSOR_APP_OK; piece++) {
        c.dir = (data[pos] & 1) ? VG_SENSOR_FLOW_TO_CLIENT : VG_SENSOR_FLOW_TO_SERVER;
        size_t n = ((size_t)data[pos + 1] << 8) | data[pos + 2];
        pos += 3;
        n = n < size - pos ? n : size - pos;
        for (size_t off = 0; off < n && r == VG_SENSOR_APP_OK; off += chunk) {
            size_t k = n - off < chunk ? n - off : chunk;
            r = pr->data(&c, st, data + pos + off, k);
        }
        if (piece == 0 && gap && r == VG_SENSOR_APP_OK) {
            pr->gap(&c, st, 5);
        }
        pos += n;
    }
    c.pkt = NULL;
    pr->end(&c, st);
    pr->state_free(st);
    return 0;
}
