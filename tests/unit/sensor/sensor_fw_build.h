/*
 * sensor_fw_build.h — helpers for the sensor framework tests (test_stream.c, test_engine.c,
 * test_eve.c): raw IPv4 TCP/UDP frames, an engine whose records land in a buffer, and a
 * recording "echo" parser that logs what the engine hands it (bytes, gaps, end).
 */
#ifndef VG_SENSOR_FW_BUILD_H
#define VG_SENSOR_FW_BUILD_H

#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_engine_int.h"

#define FW_SEC 1000000000LL

/* Records written by the engine, one line each. */
struct fw_out {
    struct vg_sbuf all;
    int lines;
};

static inline void fw_sink(void *ctx, const char *line, size_t len)
{
    struct fw_out *o = ctx;
    vg_sbuf_add(&o->all, line, len);
    o->lines++;
}

/* Count the lines of o containing needle. */
static inline int fw_count(const struct fw_out *o, const char *needle)
{
    int n = 0;
    const char *p = o->all.p;
    if (!p) {
        return 0;
    }
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (vg_memmem(p, len, needle, strlen(needle))) {
            n++;
        }
        p += len + (nl ? 1 : 0);
    }
    return n;
}

static inline uint16_t fw_csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* IPv4 header at b for a payload of l4len bytes; returns 20. */
static inline size_t fw_ip4(uint8_t *b, uint32_t src, uint32_t dst, uint8_t proto, size_t l4len,
                            uint16_t id, uint16_t frag)
{
    size_t tot = 20 + l4len;
    memset(b, 0, 20);
    b[0] = 0x45;
    b[2] = (uint8_t)(tot >> 8);
    b[3] = (uint8_t)tot;
    b[4] = (uint8_t)(id >> 8);
    b[5] = (uint8_t)id;
    b[6] = (uint8_t)(frag >> 8);
    b[7] = (uint8_t)frag;
    b[8] = 64;
    b[9] = proto;
    for (int i = 0; i < 4; i++) {
        b[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        b[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    uint16_t c = fw_csum(b, 20);
    b[10] = (uint8_t)(c >> 8);
    b[11] = (uint8_t)c;
    return 20;
}

/* A raw IPv4 TCP frame into b (room for 20 + 20 + n); returns its length. */
static inline size_t fw_tcp4(uint8_t *b, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                             uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t n)
{
    size_t o = fw_ip4(b, src, dst, 6, 20 + n, 1, 0);
    uint8_t *t = b + o;
    memset(t, 0, 20);
    t[0] = (uint8_t)(sp >> 8);
    t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8);
    t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = 5 << 4;
    t[13] = flags;
    t[14] = 0xff;
    t[15] = 0xff;
    if (n) {
        memcpy(t + 20, data, n);
    }
    return o + 20 + n;
}

/* A raw IPv4 UDP frame into b; returns its length. */
static inline size_t fw_udp4(uint8_t *b, uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp,
                             const void *data, size_t n)
{
    size_t o = fw_ip4(b, src, dst, 17, 8 + n, 1, 0);
    uint8_t *u = b + o;
    u[0] = (uint8_t)(sp >> 8);
    u[1] = (uint8_t)sp;
    u[2] = (uint8_t)(dp >> 8);
    u[3] = (uint8_t)dp;
    u[4] = (uint8_t)((8 + n) >> 8);
    u[5] = (uint8_t)(8 + n);
    u[6] = u[7] = 0;
    if (n) {
        memcpy(u + 8, data, n);
    }
    return o + 8 + n;
}

/* Feed one raw IPv4 frame. */
static inline void fw_feed(struct vg_sensor_engine *e, const uint8_t *b, size_t n, int64_t ts,
                           uint64_t cnt)
{
    struct vg_sensor_frame f = {.data = b,
                                .caplen = (uint32_t)n,
                                .origlen = (uint32_t)n,
                                .ts_ns = (uint64_t)ts,
                                .linktype = VG_SENSOR_LINK_IPV4};
    vg_sensor_engine_frame(e, &f, cnt);
}

/* ------------------------------------------------------------------ the echo parser */

/* What the echo parser saw, per direction: bytes with "[gap N]" for holes, and the order of
 * calls across directions ("C" / "S" per data call). */
struct fw_echo_log {
    struct vg_sbuf dir[2];
    struct vg_sbuf order;
    int ends;
    int answer; /* what data() returns */
    int probe_answer;
};
static struct fw_echo_log fw_echo;

static inline int fw_echo_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    (void)dir;
    if (fw_echo.probe_answer != 1 && n >= 4 && memcmp(p, "ECHO", 4) == 0) {
        return 1;
    }
    return fw_echo.probe_answer;
}

static inline int fw_echo_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    (void)st;
    vg_sbuf_add(&fw_echo.dir[c->dir], p, n);
    vg_sbuf_addc(&fw_echo.order, c->dir == VG_SENSOR_FLOW_TO_SERVER ? 'C' : 'S');
    return fw_echo.answer;
}

static inline void fw_echo_gap(struct vg_sensor_app_ctx *c, void *st, size_t n)
{
    (void)st;
    vg_sbuf_printf(&fw_echo.dir[c->dir], "[gap %zu]", n);
}

static inline void fw_echo_end(struct vg_sensor_app_ctx *c, void *st)
{
    (void)c;
    (void)st;
    fw_echo.ends++;
}

static const struct vg_sensor_app_proto fw_proto_echo = {
    .name = "echo",
    .ipproto = 6,
    .ports = {7777, 0},
    .probe = fw_echo_probe,
    .data = fw_echo_data,
    .gap = fw_echo_gap,
    .end = fw_echo_end,
};

static const struct vg_sensor_app_proto *const fw_protos_echo[] = {&fw_proto_echo};

static inline void fw_echo_reset(void)
{
    for (int d = 0; d < 2; d++) {
        vg_sbuf_fini(&fw_echo.dir[d]);
    }
    vg_sbuf_fini(&fw_echo.order);
    memset(&fw_echo, 0, sizeof(fw_echo));
    fw_echo.probe_answer = 1;
}

static inline const char *fw_echo_str(int d)
{
    return fw_echo.dir[d].p ? fw_echo.dir[d].p : "";
}

/* An engine with the echo parser only, records into out. */
static inline struct vg_sensor_engine *fw_engine(struct fw_out *out, size_t max_per_flow)
{
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    if (max_per_flow) {
        cfg.stream_max_per_flow = max_per_flow;
    }
    struct vg_sensor_engine *e = NULL;
    if (vg_sensor_engine_create(&cfg, fw_sink, out, &e) != VG_OK) {
        return NULL;
    }
    vg_sensor_engine_set_protos(e, fw_protos_echo, 1);
    fw_echo_reset();
    return e;
}

/* A TCP conversation 10.0.0.1:40000 -> 10.0.0.2:7777 with explicit sequence numbers. */
#define FW_CLI 0x0a000001u
#define FW_SRV 0x0a000002u

static uint64_t fw_cnt;

static inline void fw_c(struct vg_sensor_engine *e, uint32_t seq, uint32_t ack, uint8_t fl,
                        const char *data)
{
    uint8_t b[2048];
    size_t n = fw_tcp4(b, FW_CLI, 40000, FW_SRV, 7777, seq, ack, fl, data, data ? strlen(data) : 0);
    fw_cnt++;
    fw_feed(e, b, n, FW_SEC + (int64_t)fw_cnt * 1000, fw_cnt);
}

static inline void fw_s(struct vg_sensor_engine *e, uint32_t seq, uint32_t ack, uint8_t fl,
                        const char *data)
{
    uint8_t b[2048];
    size_t n = fw_tcp4(b, FW_SRV, 7777, FW_CLI, 40000, seq, ack, fl, data, data ? strlen(data) : 0);
    fw_cnt++;
    fw_feed(e, b, n, FW_SEC + (int64_t)fw_cnt * 1000, fw_cnt);
}

#define FW_SYN 0x02
#define FW_ACK 0x10
#define FW_PA  0x18
#define FW_FA  0x11
#define FW_RST 0x04

/* Handshake with client ISN ci and server ISN si. */
static inline void fw_handshake(struct vg_sensor_engine *e, uint32_t ci, uint32_t si)
{
    fw_c(e, ci, 0, FW_SYN, NULL);
    fw_s(e, si, ci + 1, FW_SYN | FW_ACK, NULL);
    fw_c(e, ci + 1, si + 1, FW_ACK, NULL);
}

#endif
