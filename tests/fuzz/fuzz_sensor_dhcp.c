/*
 * fuzz_sensor_dhcp.c — libFuzzer target: the sensor's DHCP parser (sensor_dhcp.c) over one
 * datagram (the whole input; the first byte's low bit picks the direction). Records go to a
 * real engine whose sink discards them. Seeds: tests/fuzz/corpus/sensor_dhcp/.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vg_sensor_engine *eng;
    if (!eng) {
        struct vg_sensor_engine_config cfg;
        vg_sensor_engine_config_default(&cfg);
        if (vg_sensor_engine_create(&cfg, sink, NULL, &eng) != 0) {
            return 0;
        }
    }
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_dhcp;
    struct vg_sensor_flow flow;
    memset(&flow, 0, sizeof(flow));
    flow.key.family = VG_SENSOR_FLOW_AF_INET;
    flow.key.proto = 17;
    flow.key.sport = 68;
    flow.key.dport = 67;
    struct vg_sensor_app_ctx c = {.eng = eng, .flow = &flow, .ts_ns = 1, .pcap_cnt = 1};
    c.dir = (size && (data[0] & 1)) ? VG_SENSOR_FLOW_TO_CLIENT : VG_SENSOR_FLOW_TO_SERVER;
    (void)pr->probe(data, size, c.dir);
    void *st = pr->state_new();
    pr->data(&c, st, data, size);
    pr->state_free(st);
    return 0;
}
