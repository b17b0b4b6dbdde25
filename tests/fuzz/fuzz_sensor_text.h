/*
 * fuzz_sensor_text.h — shared body of the libFuzzer targets of the sensor's text protocol
 * parsers (fuzz_sensor_http.c, fuzz_sensor_smtp.c, fuzz_sensor_ftp.c). Input: byte 0 picks
 * the chunk size (upper bits) and whether a gap follows the first piece (bit 0); the rest is
 * split at NUL bytes into pieces that alternate client->server / server->client, each fed in
 * chunks. Records go to a real engine whose sink discards them; the flow ends with end().
 */
#ifndef VG_FUZZ_SENSOR_TEXT_H
#define VG_FUZZ_SENSOR_TEXT_H

#include <stdint.h>
#include <string.h>

#include "sensor/sensor_app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    (void)line;
    (void)len;
}

static struct vg_sensor_engine *fuzz_engine(void)
{
    static struct vg_sensor_engine *eng;
    if (!eng) {
        struct vg_sensor_engine_config cfg;
        vg_sensor_engine_config_default(&cfg);
        cfg.detect = true;
        if (vg_sensor_engine_create(&cfg, fuzz_sink, NULL, &eng) != 0) {
            return NULL;
        }
    }
    return eng;
}

/* Feed one piece in chunks; false once the parser stops. */
static bool fuzz_feed(const struct vg_sensor_app_proto *pr, struct vg_sensor_app_ctx *c,
                      void *st, const uint8_t *p, size_t n, size_t chunk)
{
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        if (pr->data(c, st, p + off, k) != VG_SENSOR_APP_OK) {
            return false;
        }
    }
    return true;
}

static int fuzz_text_proto(const struct vg_sensor_app_proto *pr, uint16_t port,
                           const uint8_t *data, size_t size)
{
    struct vg_sensor_engine *eng = fuzz_engine();
    if (!eng || size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    size_t chunk = (size_t)(mode >> 1) * 5 + 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct vg_sensor_flow flow;
    memset(&flow, 0, sizeof(flow));
    flow.key.family = VG_SENSOR_FLOW_AF_INET;
    flow.key.proto = 6;
    flow.key.sport = 40000;
    flow.key.dport = port;
    struct vg_sensor_app_ctx c = {.eng = eng, .flow = &flow, .ts_ns = 1, .pcap_cnt = 1};
    (void)pr->probe(p, n, VG_SENSOR_FLOW_TO_SERVER);
    (void)pr->probe(p, n, VG_SENSOR_FLOW_TO_CLIENT);
    void *st = pr->state_new();
    if (!st) {
        return 0;
    }
    int piece = 0;
    while (n > 0) {
        const uint8_t *z = memchr(p, 0, n);
        size_t k = z ? (size_t)(z - p) : n;
        c.dir = (piece & 1) ? VG_SENSOR_FLOW_TO_CLIENT : VG_SENSOR_FLOW_TO_SERVER;
        if (!fuzz_feed(pr, &c, st, p, k, chunk)) {
            break;
        }
        if (piece == 0 && (mode & 1)) {
            pr->gap(&c, st, 5);
        }
        piece++;
        p += k + (z ? 1 : 0);
        n -= k + (z ? 1 : 0);
    }
    c.pkt = NULL;
    pr->end(&c, st);
    pr->state_free(st);
    return 0;
}

#endif
