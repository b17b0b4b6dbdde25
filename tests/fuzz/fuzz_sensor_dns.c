/*
 * fuzz_sensor_dns.c — libFuzzer target: the sensor's DNS parser (sensor_dns.c). The first input
 * byte picks the path: bit 0 the direction (request/response), bit 1 TCP instead of UDP, the
 * upper bits a chunk size for TCP (the stream is cut into chunks of that size, with a gap
 * after the first chunk when bit 2 is set). The rest is the datagram or stream. Records go
 * to a real engine whose sink discards them. Seeds: tests/fuzz/corpus/sensor_dns/.
 */
#include <stdint.h>
#include <string.h>

#include "sensor/sensor_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    (void)line;
    (void)len;
}

static struct vg_sensor_engine *engine(void)
{
    static struct vg_sensor_engine *eng;
    if (!eng) {
        struct vg_sensor_engine_config cfg;
        vg_sensor_engine_config_default(&cfg);
        cfg.detect = true;
        if (vg_sensor_engine_create(&cfg, sink, NULL, &eng) != 0) {
            return NULL;
        }
    }
    return eng;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_sensor_engine *eng = engine();
    if (!eng || size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    bool tcp = mode & 2;
    const struct vg_sensor_app_proto *pr =
        tcp ? &vg_sensor_proto_dns_tcp : &vg_sensor_proto_dns_udp;
    struct vg_sensor_flow flow;
    memset(&flow, 0, sizeof(flow));
    flow.key.family = VG_SENSOR_FLOW_AF_INET;
    flow.key.proto = pr->ipproto;
    flow.key.sport = 1234;
    flow.key.dport = 53;
    struct vg_sensor_app_ctx c = {.eng = eng, .flow = &flow, .ts_ns = 1, .pcap_cnt = 1};
    c.dir = (mode & 1) ? VG_SENSOR_FLOW_TO_CLIENT : VG_SENSOR_FLOW_TO_SERVER;
    (void)pr->probe(p, n, c.dir);
    void *st = pr->state_new();
    if (!tcp) {
        pr->data(&c, st, p, n);
    } else {
        size_t chunk = (size_t)(mode >> 3) * 7 + 1;
        for (size_t off = 0; off < n; off += chunk) {
            size_t k = n - off < chunk ? n - off : chunk;
            if (pr->data(&c, st, p + off, k) == VG_SENSOR_APP_ERROR) {
                break;
            }
            if (off == 0 && (mode & 4)) {
                pr->gap(&c, st, 3);
            }
        }
    }
    pr->state_free(st);
    return 0;
}
