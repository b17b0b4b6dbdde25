/*
 * fuzz_sensor_tls.c — libFuzzer target: the sensor's TLS parser (sensor_tls*.c) over a two-way
 * byte stream. The input is a sequence of chunks: one control byte (bit 0: direction, bits
 * 1-7: chunk length - 1) then up to 128 bytes, so the fuzzer controls both directions and every
 * segmentation. The flow then ends (logging whatever is pending). Seeds:
 * tests/fuzz/corpus/sensor_tls/ (streams built by hand in that format).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_app.h"
#include "sensor/sensor_tls_int.h"

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
    struct vg_sensor_flow flow;
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_tls;
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
        return 0;
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
    /* the certificate decoder directly over the raw input */
    struct vg_sensor_tls_cert *cert = malloc(sizeof(*cert));
    struct vg_sbuf s = VG_SBUF_INIT;
    if (cert) {
        (void)vg_sensor_tls_cert_parse(data, size, "a.example.com", cert, &s);
        free(cert);
    }
    vg_sbuf_fini(&s);
    return 0;
}
