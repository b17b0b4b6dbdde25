/*
 * fuzz_sensor_engine.c — libFuzzer target: the whole sensor engine over a capture. The input is
 * read as a pcap/pcapng file and every frame goes through one engine with every parser, the
 * flow records and the detections on (decode, defragmentation, flows, TCP reassembly, protocol
 * choice, parsers, records); then the flows are flushed. Every record must be one line that
 * starts with '{' and ends with "}\n". Seeds: tests/fuzz/corpus/sensor_pcap/ and the
 * suricata-verify pcaps (sensor_engine.seeds), so the parsers see real protocol traffic that
 * the fuzzer then mutates.
 */
#include "sensor/sensor_app.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (len < 3 || line[0] != '{' || line[len - 1] != '\n' || line[len - 2] != '}' ||
        memchr(line, '\n', len - 1)) {
        abort(); /* a record that is not one JSON object line */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_sensor_pcap *r = NULL;
    if (vg_sensor_pcap_open_mem(&r, data, size, NULL, 0) != 0) {
        return 0;
    }
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = true;
    cfg.flow.max_flows = 4096;
    struct vg_sensor_engine *e = NULL;
    if (vg_sensor_engine_create(&cfg, sink, NULL, &e) != 0) {
        abort();
    }
    struct vg_sensor_frame fr;
    uint64_t n = 0;
    while (vg_sensor_pcap_next(r, &fr) == 0) {
        vg_sensor_engine_frame(e, &fr, ++n);
    }
    vg_sensor_engine_flush(e);
    vg_sensor_engine_destroy(e);
    vg_sensor_pcap_destroy(r);
    return 0;
}
