/*
 * fuzz_sensor_stream.c — libFuzzer target: the sensor engine's TCP reassembly
 * (sensor_stream.c) and app dispatch (sensor_engine.c) with segments in any order, overlapping,
 * retransmitted, around sequence wraparound, with SYN/FIN/RST/ACK anywhere.
 *
 * Input: 1 byte of configuration (port of the flow, bounds), 4+4 bytes of initial sequence
 * numbers, then segments of 6 bytes each: dir|flags, seq offset (16 bits), ack offset (16 bits),
 * length. Flag bits 4-6 add TCP options: a timestamp (TSval/TSecr from the offsets, so it goes
 * forward and back), a TCP-MD5 signature, a zero window. A segment's payload bytes are a function
 * of their absolute sequence number, so every copy of a byte agrees: a checking parser asserts that
 * each byte it receives is the one that belongs at its position (in order, exactly once), and the
 * same frames also go through an engine with all the real parsers. Seeds:
 * tests/fuzz/corpus/sensor_stream/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_engine_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The byte at an absolute sequence number (the same in both directions: a flow picked up on
 * its reply has its directions named the other way round). */
static uint8_t byte_at(uint32_t seq)
{
    return (uint8_t)((seq * 131u) >> 3);
}

/* Checks that the bytes just delivered are [next_seq - n, next_seq) of the direction. */
static int check_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    (void)st;
    const struct vg_sensor_fstate *fs = c->flow->user;
    uint32_t end = fs->stream[c->dir].next_seq;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != byte_at(end - (uint32_t)n + (uint32_t)i)) {
            abort();
        }
    }
    return VG_SENSOR_APP_OK;
}

static int check_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    (void)p;
    (void)n;
    (void)dir;
    return 1;
}

static const struct vg_sensor_app_proto check_proto = {
    .name = "check", .ipproto = 6, .ports = {0}, .probe = check_probe, .data = check_data};
static const struct vg_sensor_app_proto *const check_tab[] = {&check_proto};

static void sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    (void)line;
    (void)len;
}

/* TCP options of a segment (ol bytes into o) from its extra bits x (flag bits 4-6). */
static size_t options(uint8_t *o, unsigned x, uint32_t seq, uint32_t ack)
{
    size_t ol = 0;
    if (x & 1) {
        o[0] = o[1] = 1;
        o[2] = 8;
        o[3] = 10;
        for (int i = 0; i < 4; i++) {
            o[4 + i] = (uint8_t)((seq >> 4) >> (24 - 8 * i));
            o[8 + i] = (uint8_t)((ack >> 4) >> (24 - 8 * i));
        }
        ol = 12;
    }
    if (x & 2) {
        memset(o + ol, 0, 20);
        o[ol] = 19;
        o[ol + 1] = 18;
        ol += 20;
    }
    return ol;
}

static size_t frame(uint8_t *b, int dir, uint16_t port, uint32_t seq, uint32_t ack, uint8_t fl,
                    unsigned x, size_t n)
{
    static const uint8_t cli[4] = {10, 0, 0, 1}, srv[4] = {10, 0, 0, 2};
    uint8_t opt[32];
    size_t ol = options(opt, x, seq, ack);
    size_t tot = 40 + ol + n;
    memset(b, 0, 40);
    b[0] = 0x45;
    b[2] = (uint8_t)(tot >> 8);
    b[3] = (uint8_t)tot;
    b[8] = 64;
    b[9] = 6;
    memcpy(b + 12, dir ? srv : cli, 4);
    memcpy(b + 16, dir ? cli : srv, 4);
    uint8_t *t = b + 20;
    uint16_t sp = dir ? port : 40000, dp = dir ? 40000 : port;
    t[0] = (uint8_t)(sp >> 8), t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8), t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = (uint8_t)(((20 + ol) / 4) << 4);
    t[13] = fl;
    t[14] = (x & 4) ? 0 : 0xff;
    memcpy(t + 20, opt, ol);
    for (size_t i = 0; i < n; i++) {
        b[40 + ol + i] = byte_at(seq + (fl & 0x02 ? 1u : 0u) + (uint32_t)i);
    }
    return tot;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[8] = {80, 443, 22, 25, 21, 53, 7, 8080};
    if (size < 9) {
        return 0;
    }
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = (data[0] & 0x40) != 0;
    cfg.flow.max_flows = 64; /* small tables: creation stays cheap */
    cfg.stream_max_per_flow = (data[0] & 0x08) ? 64 : 4096;
    cfg.stream_max_total = (data[0] & 0x10) ? 100 : 1u << 20;
    struct vg_sensor_engine *chk = NULL, *real = NULL;
    if (vg_sensor_engine_create(&cfg, sink, NULL, &chk) != VG_OK) {
        return 0;
    }
    if (vg_sensor_engine_create(&cfg, sink, NULL, &real) != VG_OK) {
        vg_sensor_engine_destroy(chk);
        return 0;
    }
    vg_sensor_engine_set_protos(chk, check_tab, 1);
    uint16_t port = ports[data[0] & 7];
    uint32_t isn[2] = {be32(data + 1), be32(data + 5)};
    uint8_t b[40 + 32 + 255];
    uint64_t cnt = 0;
    for (size_t i = 9; i + 6 <= size && cnt < 4096; i += 6) {
        const uint8_t *s = data + i;
        int dir = s[0] >> 7;
        uint8_t fl = (uint8_t)(((s[0] & 1) ? 0x02 : 0) | ((s[0] & 2) ? 0x01 : 0) |
                               ((s[0] & 4) ? 0x04 : 0) | ((s[0] & 8) ? 0x10 : 0) | 0x08);
        uint32_t seq = isn[dir] + (uint32_t)(s[1] << 8 | s[2]);
        uint32_t ack = isn[!dir] + (uint32_t)(s[3] << 8 | s[4]);
        size_t n = frame(b, dir, port, seq, ack, fl, (s[0] >> 4) & 7u, s[5]);
        struct vg_sensor_frame f = {.data = b,
                                    .caplen = (uint32_t)n,
                                    .origlen = (uint32_t)n,
                                    .ts_ns = 1000000000ull + cnt * 1000,
                                    .linktype = VG_SENSOR_LINK_IPV4};
        cnt++;
        vg_sensor_engine_frame(chk, &f, cnt);
        vg_sensor_engine_frame(real, &f, cnt);
    }
    vg_sensor_engine_flush(chk);
    vg_sensor_engine_flush(real);
    if (chk->stream_total != 0 || real->stream_total != 0) {
        abort(); /* every waiting byte is released when the flows end */
    }
    vg_sensor_engine_destroy(chk);
    vg_sensor_engine_destroy(real);
    return 0;
}
