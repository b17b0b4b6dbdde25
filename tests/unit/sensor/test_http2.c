/*
 * test_http2.c — the HTTP/2 parser (sensor_http2.c) driven alone (records through
 * sensor_app_fake.h): prior-knowledge connections, stream-0 records, CONTINUATION, padding and
 * PRIORITY, the h2c upgrade (with the HTTP parser for the HTTP/1 part), bounds, malformed
 * frames, the probe, and a throughput figure. Every conversation is also replayed one byte
 * at a time and must give the same records.
 */
#include <arpa/inet.h>
#include <time.h>

#include "vgtest.h"
#include "sensor/sensor_hpack.h"
#include "sensor_app_fake.h"

#define C2S VG_SENSOR_FLOW_TO_SERVER
#define S2C VG_SENSOR_FLOW_TO_CLIENT

/* ------------------------------------------------------------------ conversation builder */

struct msg {
    int dir;
    uint8_t b[4096];
    size_t n;
};

struct conv {
    struct msg m[16];
    size_t nm;
};

static struct msg *conv_msg(struct conv *cv, int dir)
{
    struct msg *m = &cv->m[cv->nm++];
    m->dir = dir;
    m->n = 0;
    return m;
}

static void put(struct msg *m, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void frame(struct msg *m, uint8_t type, uint8_t flags, uint32_t sid, const void *p, size_t n)
{
    uint8_t h[9] = {
        (uint8_t)(n >> 16),   (uint8_t)(n >> 8),    (uint8_t)n,          type,        flags,
        (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    put(m, h, 9);
    put(m, p, n);
}

static void settings(struct msg *m, const uint16_t *ids, const uint32_t *vals, size_t k)
{
    uint8_t p[64];
    for (size_t i = 0; i < k; i++) {
        uint8_t *e = p + 6 * i;
        e[0] = (uint8_t)(ids[i] >> 8);
        e[1] = (uint8_t)ids[i];
        e[2] = (uint8_t)(vals[i] >> 24);
        e[3] = (uint8_t)(vals[i] >> 16);
        e[4] = (uint8_t)(vals[i] >> 8);
        e[5] = (uint8_t)vals[i];
    }
    frame(m, 4, 0, 0, p, 6 * k);
}

#define PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

/* Run the conversation whole (bytes = 0) or in pieces of `bytes`; returns records, *rc. */
static char *run(const struct conv *cv, size_t bytes, int *rc, struct vg_sensor_http2_stats *stats)
{
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_http2;
    vg_sbuf_reset(&fake_out);
    vg_sbuf_adds(&fake_out, "");
    void *st = pr->state_new();
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    int r = VG_SENSOR_APP_OK;
    for (size_t i = 0; i < cv->nm && r == VG_SENSOR_APP_OK; i++) {
        const struct msg *m = &cv->m[i];
        c.dir = (enum vg_sensor_flow_dir)m->dir;
        size_t step = bytes ? bytes : m->n;
        for (size_t off = 0; off < m->n && r == VG_SENSOR_APP_OK; off += step) {
            r = pr->data(&c, st, m->b + off, VG_MIN(step, m->n - off));
        }
    }
    pr->end(&c, st);
    if (stats) {
        vg_sensor_http2_stats(st, stats);
    }
    pr->state_free(st);
    *rc = r;
    return vg_strdup(fake_out.p);
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records of out, one per line, sorted (records of transactions finished in one call
 * come out in tx_id order, so their order depends on the segmentation). */
static char *sorted_lines(const char *out)
{
    char *copy = vg_strdup(out);
    char *lines[512];
    size_t k = 0;
    for (char *p = copy; *p && k < 512;) {
        lines[k++] = p;
        char *e = strchr(p, '\n');
        if (!e) {
            break;
        }
        *e = 0;
        p = e + 1;
    }
    qsort(lines, k, sizeof(lines[0]), line_cmp);
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_sbuf_adds(&b, "");
    for (size_t i = 0; i < k; i++) {
        vg_sbuf_printf(&b, "%s\n", lines[i]);
    }
    vg_free(copy);
    return vg_sbuf_take(&b, NULL);
}

/* Whole-message, byte-at-a-time and 7-byte runs give the same records. */
static char *run_checked(const struct conv *cv, int *rc, struct vg_sensor_http2_stats *stats)
{
    int rc1;
    char *a = run(cv, 0, rc, stats);
    char *sa = sorted_lines(a);
    for (size_t step = 1; step <= 7; step += 6) {
        char *b = run(cv, step, &rc1, NULL);
        char *sb = sorted_lines(b);
        CHECK_STR(sb, sa);
        CHECK_EQ_INT(rc1, *rc);
        vg_free(b);
        vg_free(sb);
    }
    vg_free(sa);
    return a;
}

static int count(const char *s, const char *sub)
{
    int k = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub)) {
        k++;
    }
    return k;
}

/* ------------------------------------------------------------------ tests */

/* RFC 7541 C.4.1 request block (GET http://www.example.com/) */
static const uint8_t req_block[] = {0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5,
                                    0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff};

static void basic_conv(struct conv *cv)
{
    memset(cv, 0, sizeof(*cv));
    struct msg *m = conv_msg(cv, C2S);
    put(m, PREFACE, 24);
    settings(m, (const uint16_t[]){3, 4}, (const uint32_t[]){100, 65535}, 2);
    uint8_t blk[64];
    memcpy(blk, req_block, sizeof(req_block));
    size_t n = sizeof(req_block);
    /* user-agent: nghttp2 (literal with incremental indexing, indexed name 58) */
    blk[n++] = 0x40 | 58;
    blk[n++] = 7;
    memcpy(blk + n, "nghttp2", 7);
    n += 7;
    frame(m, 1, 0x05, 1, blk, n); /* END_STREAM | END_HEADERS */
    m = conv_msg(cv, S2C);
    settings(m, (const uint16_t[]){3}, (const uint32_t[]){100}, 1);
    frame(m, 4, 0x01, 0, NULL, 0);                        /* ACK */
    static const uint8_t rsp[] = {0x88, 0x5c, 0x01, '5'}; /* :status 200, content-length 5 */
    frame(m, 1, 0x04, 1, rsp, sizeof(rsp));
    frame(m, 0, 0x01, 1, "hello", 5);
    m = conv_msg(cv, C2S);
    frame(m, 4, 0x01, 0, NULL, 0);
    static const uint8_t goaway[8] = {0, 0, 0, 1, 0, 0, 0, 0};
    frame(m, 7, 0, 0, goaway, 8);
}

VG_TEST(http2_prior_knowledge)
{
    struct conv cv;
    basic_conv(&cv);
    int rc;
    struct vg_sensor_http2_stats stats;
    char *out = run_checked(&cv, &rc, &stats);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_OK);
    CHECK_EQ_INT(count(out, "\"event_type\":\"http\""), 4);
    CHECK(strstr(out,
                 "{\"event_type\":\"http\",\"tx_id\":0,\"http\":{\"version\":\"2\",\"http2\":"
                 "{\"stream_id\":0,\"request\":{\"settings\":[{\"settings_id\":"
                 "\"SETTINGSMAXCONCURRENTSTREAMS\",\"settings_value\":100},{\"settings_id\":"
                 "\"SETTINGSINITIALWINDOWSIZE\",\"settings_value\":65535}]},\"response\":{}}}}") !=
          NULL);
    CHECK(strstr(out, "\"tx_id\":2,\"http\":{\"version\":\"2\",\"http2\":{\"stream_id\":0,"
                      "\"request\":{},\"response\":{\"settings\":[{\"settings_id\":"
                      "\"SETTINGSMAXCONCURRENTSTREAMS\",\"settings_value\":100}]}}}}") != NULL);
    const char *s1 = strstr(out, "\"tx_id\":1,");
    CHECK(s1 != NULL);
    if (s1) {
        CHECK(strstr(
                  s1,
                  "\"http\":{\"http_method\":\"GET\",\"url\":\"/\",\"http_user_agent\":\"nghttp2\","
                  "\"status\":200,\"length\":5,\"version\":\"2\",\"request_headers\":["
                  "{\"name\":\":method\",\"value\":\"GET\"},{\"name\":\":scheme\",\"value\":"
                  "\"http\"},{\"name\":\":path\",\"value\":\"/\"},{\"name\":\":authority\","
                  "\"value\":\"www.example.com\"},{\"name\":\"user-agent\",\"value\":"
                  "\"nghttp2\"}],\"response_headers\":[{\"name\":\":status\",\"value\":"
                  "\"200\"},{\"name\":\"content-length\",\"value\":\"5\"}],\"http2\":{"
                  "\"stream_id\":1,\"request\":{},\"response\":{}}}}") == s1 + 10);
    }
    CHECK(strstr(out, "\"stream_id\":0,\"request\":{\"error_code\":\"NOERROR\"},\"response\":{}") !=
          NULL);
    CHECK_EQ_INT(stats.malformed_frames, 0);
    CHECK_EQ_INT(stats.hpack_errors, 0);
    vg_free(out);
}

VG_TEST(http2_continuation_padding_priority)
{
    struct conv cv;
    memset(&cv, 0, sizeof(cv));
    struct msg *m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    /* HEADERS: PADDED | PRIORITY, no END_HEADERS; pad 3, weight 255; first 5 bytes of block */
    uint8_t h[64];
    size_t n = 0;
    h[n++] = 3;
    h[n++] = 0;
    h[n++] = 0;
    h[n++] = 0;
    h[n++] = 0;
    h[n++] = 255;
    memcpy(h + n, req_block, 5);
    n += 5;
    memset(h + n, 0, 3);
    n += 3;
    frame(m, 1, 0x01 | 0x08 | 0x20, 3, h, n);
    frame(m, 9, 0, 3, req_block + 5, 6);
    frame(m, 9, 0x04, 3, req_block + 11, sizeof(req_block) - 11);
    /* PRIORITY on the same stream: a second priority, "has_multiple" */
    static const uint8_t pri[5] = {0, 0, 0, 1, 16};
    frame(m, 2, 0, 3, pri, 5);
    m = conv_msg(&cv, S2C);
    static const uint8_t rst[4] = {0, 0, 0, 8}; /* CANCEL */
    frame(m, 3, 0, 3, rst, 4);
    static const uint8_t rsp[] = {0x8d}; /* :status 404 */
    frame(m, 1, 0x05, 3, rsp, 1);
    int rc;
    char *out = run_checked(&cv, &rc, NULL);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_OK);
    CHECK(strstr(out, "\"url\":\"/\"") != NULL);
    CHECK(strstr(out, "{\"name\":\":authority\",\"value\":\"www.example.com\"}") != NULL);
    CHECK(strstr(out, "\"status\":404") != NULL);
    CHECK(strstr(out, "\"request\":{\"priority\":255,\"has_multiple\":\"priority\"}") != NULL);
    /* RST_STREAM does not close a stream (as in Suricata): END_STREAM each way does */
    CHECK(strstr(out, "\"response\":{\"error_code\":\"CANCEL\"}") != NULL);
    CHECK_EQ_INT(count(out, "\"event_type\""), 1);
    vg_free(out);
}

VG_TEST(http2_server_first_and_push_promise)
{
    struct conv cv;
    memset(&cv, 0, sizeof(cv));
    struct msg *m = conv_msg(&cv, S2C);
    settings(m, (const uint16_t[]){3, 1}, (const uint32_t[]){100, 8192}, 2);
    m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    frame(m, 1, 0x05, 1, req_block, sizeof(req_block));
    m = conv_msg(&cv, S2C);
    /* PUSH_PROMISE for stream 2 on stream 1: :method GET, :path /index.html */
    static const uint8_t pp[] = {0, 0, 0, 2, 0x82, 0x85};
    frame(m, 5, 0x04, 1, pp, sizeof(pp));
    static const uint8_t rsp[] = {0x88};
    frame(m, 1, 0x05, 1, rsp, 1);
    frame(m, 1, 0x05, 2, rsp, 1);
    int rc;
    char *out = run_checked(&cv, &rc, NULL);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_OK);
    CHECK(strstr(out, "SETTINGSHEADERTABLESIZE\",\"settings_value\":8192") != NULL);
    /* the pushed request is logged on the promised stream, on the response side */
    CHECK(strstr(out, "\"response_headers\":[{\"name\":\":method\",\"value\":\"GET\"},{\"name\":"
                      "\":path\",\"value\":\"/index.html\"},{\"name\":\":status\",\"value\":"
                      "\"200\"}],\"http2\":{\"stream_id\":2") != NULL);
    CHECK_EQ_INT(count(out, "\"event_type\""), 3);
    vg_free(out);
}

static char *upgrade_run(int *rc)
{
    struct conv cv;
    memset(&cv, 0, sizeof(cv));
    struct msg *m = conv_msg(&cv, C2S);
    static const char req[] = "GET /robots.txt HTTP/1.1\r\nHost: nghttp2.org\r\nConnection: "
                              "Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: "
                              "AAMAAABkAAQAAP__AAIAAAAA\r\nAccept: */*\r\nUser-Agent: "
                              "nghttp2/1.0\r\n\r\n";
    put(m, req, sizeof(req) - 1);
    m = conv_msg(&cv, S2C);
    static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                             "Upgrade: h2c\r\n\r\n";
    put(m, sw, sizeof(sw) - 1);
    settings(m, (const uint16_t[]){3, 4, 1}, (const uint32_t[]){100, 65535, 8192}, 3);
    m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    settings(m, (const uint16_t[]){3, 4, 2}, (const uint32_t[]){100, 65535, 0}, 3);
    m = conv_msg(&cv, S2C);
    static const uint8_t ok[] = {0x88};
    frame(m, 1, 0x05, 1, ok, 1);
    m = conv_msg(&cv, C2S);
    /* size update 4096, :method GET, :path literal "/humans.txt" (no indexing) */
    static const uint8_t hb[] = {0x3f, 0xe1, 0x1f, 0x82, 0x04, 0x0b, '/', 'h', 'u',
                                 'm',  'a',  'n',  's',  '.',  't',  'x', 't'};
    frame(m, 1, 0x05, 3, hb, sizeof(hb));
    m = conv_msg(&cv, S2C);
    static const uint8_t nf[] = {0x8d};
    frame(m, 1, 0x05, 3, nf, 1);
    return run_checked(&cv, rc, NULL);
}

VG_TEST(http2_h2c_upgrade)
{
    int rc;
    char *out = upgrade_run(&rc);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_OK);
    /* the HTTP/1 exchange, logged by the HTTP parser */
    CHECK(strstr(out, "\"url\":\"/robots.txt\"") != NULL);
    CHECK(strstr(out, "\"status\":101") != NULL);
    /* stream 1 carries the HTTP/1 request, Host as :authority */
    CHECK(strstr(out, "\"request_headers\":[{\"name\":\":method\",\"value\":\"GET\"},{\"name\":"
                      "\":path\",\"value\":\"/robots.txt\"},{\"name\":\":authority\",\"value\":"
                      "\"nghttp2.org\"}") != NULL);
    CHECK(strstr(out, "\"status\":200") != NULL);
    CHECK(strstr(out, "\"http_user_agent\":\"nghttp2/1.0\"") != NULL);
    /* the HTTP2-Settings header and the preface's SETTINGS: two request settings records */
    CHECK_EQ_INT(count(out, "{\"settings_id\":\"SETTINGSENABLEPUSH\",\"settings_value\":0}"), 2);
    CHECK_EQ_INT(
        count(out, "{\"settings_id\":\"SETTINGSHEADERTABLESIZE\",\"settings_value\":8192}"), 1);
    CHECK(strstr(out,
                 "\"request_headers\":[{\"table_size_update\":4096},{\"name\":\":method\","
                 "\"value\":\"GET\"},{\"name\":\":path\",\"value\":\"/humans.txt\"}]") != NULL);
    CHECK(strstr(out, "\"status\":404") != NULL);
    vg_free(out);
    (void)fake_run_all_cuts; /* the text driver of sensor_app_fake.h is not used here */
}

VG_TEST(http2_upgrade_declined_stays_http1)
{
    struct conv cv;
    memset(&cv, 0, sizeof(cv));
    struct msg *m = conv_msg(&cv, C2S);
    static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\n";
    put(m, req, sizeof(req) - 1);
    m = conv_msg(&cv, S2C);
    static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    put(m, rsp, sizeof(rsp) - 1);
    m = conv_msg(&cv, C2S);
    static const char req2[] = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    put(m, req2, sizeof(req2) - 1);
    int rc;
    char *out = run_checked(&cv, &rc, NULL);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_OK);
    CHECK(strstr(out, "\"url\":\"/a\"") != NULL);
    CHECK(strstr(out, "\"url\":\"/b\"") != NULL);
    CHECK(strstr(out, "\"version\":\"2\"") == NULL);
    vg_free(out);
}

VG_TEST(http2_malformed)
{
    struct conv cv;
    int rc;
    /* bad preface */
    memset(&cv, 0, sizeof(cv));
    put(conv_msg(&cv, C2S), "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", 24);
    vg_free(run(&cv, 0, &rc, NULL));
    CHECK_EQ_INT(rc, VG_SENSOR_APP_ERROR);
    /* CONTINUATION without a header block */
    memset(&cv, 0, sizeof(cv));
    struct msg *m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    frame(m, 9, 0x04, 1, req_block, sizeof(req_block));
    vg_free(run(&cv, 0, &rc, NULL));
    CHECK_EQ_INT(rc, VG_SENSOR_APP_ERROR);
    /* another frame inside a header block */
    memset(&cv, 0, sizeof(cv));
    m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    frame(m, 1, 0x00, 1, req_block, 4);
    frame(m, 6, 0, 0, "12345678", 8);
    vg_free(run(&cv, 0, &rc, NULL));
    CHECK_EQ_INT(rc, VG_SENSOR_APP_ERROR);
    /* bad lengths and padding: counted, ignored, the connection goes on */
    memset(&cv, 0, sizeof(cv));
    m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    frame(m, 3, 0, 1, "\0\0", 2);                        /* RST_STREAM of 2 bytes */
    frame(m, 2, 0, 1, "\0\0\0", 3);                      /* PRIORITY of 3 */
    frame(m, 7, 0, 0, "\0\0\0\0", 4);                    /* GOAWAY of 4 */
    frame(m, 1, 0x0c, 1, "\x09\x82", 2);                 /* padding longer than the frame */
    frame(m, 4, 0, 0, "\0\x03\0\0\0\x64\0", 7);          /* SETTINGS of 7 bytes */
    frame(m, 1, 0x05, 5, "\xff\xff\xff\xff\xff\x0f", 6); /* index overflow */
    frame(m, 1, 0x05, 7, "\xbe", 1);                     /* index past the tables */
    frame(m, 0xee, 0, 0, "xyz", 3);                      /* unknown type: ignored */
    struct vg_sensor_http2_stats stats;
    char *out = run(&cv, 0, &rc, &stats);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_OK);
    CHECK_EQ_INT(stats.malformed_frames, 5);
    CHECK_EQ_INT(stats.hpack_errors, 2);
    CHECK(strstr(out, "{\"error\":\"HTTP2HeaderDecodeIntegerOverflow\"}") != NULL);
    CHECK(strstr(out, "{\"error\":\"HTTP2HeaderDecodeIndexOutOfBounds\"}") != NULL);
    CHECK(strstr(out, "SETTINGSMAXCONCURRENTSTREAMS\",\"settings_value\":100") != NULL);
    vg_free(out);
}

VG_TEST(http2_bounds)
{
    /* 300 streams left open: at most 128 tracked, the oldest logged early and counted */
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_http2;
    void *st = pr->state_new();
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    vg_sbuf_reset(&fake_out);
    struct msg m;
    m.n = 0;
    put(&m, PREFACE, 24);
    c.dir = C2S;
    CHECK_EQ_INT(pr->data(&c, st, m.b, m.n), VG_SENSOR_APP_OK);
    for (uint32_t sid = 1; sid < 600; sid += 2) {
        m.n = 0;
        frame(&m, 1, 0x04, sid, req_block, sizeof(req_block));
        CHECK_EQ_INT(pr->data(&c, st, m.b, m.n), VG_SENSOR_APP_OK);
    }
    /* a HEADERS frame far larger than the kept bound (64 KiB), fed in pieces */
    m.n = 0;
    uint8_t h[9] = {0x10, 0, 0, 1, 0x04, 0, 0, 0x03, 0x01}; /* 1 MiB, stream 769 */
    put(&m, h, 9);
    CHECK_EQ_INT(pr->data(&c, st, m.b, m.n), VG_SENSOR_APP_OK);
    static uint8_t zero[4096];
    for (int i = 0; i < 256; i++) {
        CHECK_EQ_INT(pr->data(&c, st, zero, sizeof(zero)), VG_SENSOR_APP_OK);
    }
    struct vg_sensor_http2_stats stats;
    vg_sensor_http2_stats(st, &stats);
    CHECK_EQ_INT(stats.streams_evicted, 301 - 128);
    CHECK_EQ_INT(stats.long_frames, 1);
    CHECK_EQ_INT(stats.malformed_frames, 1); /* truncated: not decoded */
    pr->end(&c, st);
    CHECK_EQ_INT(count(fake_out.p, "\"event_type\":\"http\""), 300);
    CHECK_EQ_INT(count(fake_out.p, "\"event\":\"long_frame_data\""), 1);
    pr->state_free(st);
}

VG_TEST(http2_gap_stops_direction)
{
    struct conv cv;
    basic_conv(&cv);
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_http2;
    void *st = pr->state_new();
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    vg_sbuf_reset(&fake_out);
    c.dir = C2S;
    CHECK_EQ_INT(pr->data(&c, st, cv.m[0].b, 30), VG_SENSOR_APP_OK);
    pr->gap(&c, st, 100);
    CHECK_EQ_INT(pr->data(&c, st, cv.m[0].b + 30, cv.m[0].n - 30), VG_SENSOR_APP_OK);
    c.dir = S2C;
    CHECK_EQ_INT(pr->data(&c, st, cv.m[1].b, cv.m[1].n), VG_SENSOR_APP_OK);
    pr->end(&c, st);
    CHECK(strstr(fake_out.p, "\"status\":200") != NULL);
    pr->state_free(st);
}

VG_TEST(http2_probe)
{
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_http2;
    CHECK_EQ_INT(pr->probe((const uint8_t *)PREFACE, 24, C2S), 1);
    CHECK_EQ_INT(pr->probe((const uint8_t *)PREFACE, 10, C2S), -1);
    CHECK_EQ_INT(pr->probe((const uint8_t *)"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, C2S), 0);
    static const char up[] = "GET / HTTP/1.1\r\nHost: a\r\nUPGRADE: H2C\r\n\r\n";
    CHECK_EQ_INT(pr->probe((const uint8_t *)up, sizeof(up) - 1, C2S), 1);
    static const char ws[] = "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
    CHECK_EQ_INT(pr->probe((const uint8_t *)ws, sizeof(ws) - 1, C2S), 0);
    static const uint8_t set[9] = {0, 0, 6, 4, 0, 0, 0, 0, 0};
    CHECK_EQ_INT(pr->probe(set, 9, S2C), 1);
    CHECK_EQ_INT(pr->probe(set, 4, S2C), -1);
    static const uint8_t hdr[9] = {0, 0, 6, 1, 4, 0, 0, 0, 1};
    CHECK_EQ_INT(pr->probe(hdr, 9, S2C), 0);
    CHECK_EQ_INT(pr->probe((const uint8_t *)"HTTP/1.1 200", 12, S2C), 0);
}

VG_TEST(http2_throughput)
{
    /* one request and a 16 KiB response per stream, 50000 streams */
    static uint8_t buf[20000];
    size_t n = 0;
    struct msg m;
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_http2;
    void *st = pr->state_new();
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    c.dir = C2S;
    (void)pr->data(&c, st, (const uint8_t *)PREFACE, 24);
    size_t bytes = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (uint32_t i = 0; i < 50000; i++) {
        uint32_t sid = 2 * i + 1;
        m.n = 0;
        frame(&m, 1, 0x05, sid, req_block, sizeof(req_block));
        c.dir = C2S;
        (void)pr->data(&c, st, m.b, m.n);
        bytes += m.n;
        n = 0;
        uint8_t h[9] = {0,
                        0,
                        1,
                        1,
                        0x04,
                        (uint8_t)(sid >> 24),
                        (uint8_t)(sid >> 16),
                        (uint8_t)(sid >> 8),
                        (uint8_t)sid};
        memcpy(buf, h, 9);
        buf[9] = 0x88;
        n = 10;
        uint8_t d[9] = {0, 0x40, 0, 0, 0x01, h[5], h[6], h[7], h[8]};
        memcpy(buf + n, d, 9);
        n += 9 + 16384;
        c.dir = S2C;
        (void)pr->data(&c, st, buf, n);
        bytes += n;
        if (fake_out.len > (1u << 20)) {
            vg_sbuf_reset(&fake_out);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    pr->state_free(st);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    fprintf(stderr, "  http2 parser: %.0f MB/s, %.0f streams/s (records included)\n",
            (double)bytes / s / 1e6, 50000 / s);
    vg_sbuf_reset(&fake_out);
}

/* ------------------------------------------------------------------ DNS over HTTPS */

/* The DNS parser's detection hook (sensor_detect.c is not linked with the fake records). */
static int doh_notes;
void vg_sensor_note_dns(struct vg_sensor_app_ctx *c, const char *qname, size_t n, int qtype,
                        int rcode)
{
    (void)c;
    (void)qtype;
    (void)rcode;
    doh_notes += n == 11 && memcmp(qname, "example.com", 11) == 0;
}

/* The HTTP parser reads its options here (the engine is not linked with the fake records). */
const struct vg_sensor_engine_config *vg_sensor_engine_config_of(const struct vg_sensor_engine *e)
{
    (void)e;
    return NULL;
}

/* Address text for DNS rdata (sensor_eve.c is not linked with the fake records). */
void vg_sensor_addr_str(char out[46], uint8_t family, const uint8_t *addr)
{
    inet_ntop(family == VG_SENSOR_FLOW_AF_INET6 ? AF_INET6 : AF_INET, addr, out, 46);
}

/* DNS query for example.com A (id 0), and its answer 1.2.3.4. */
static const uint8_t dns_q[] = {0,   0,   1,   0,   0,   1, 0,   0,   0,   0, 0, 0, 7, 'e', 'x',
                                'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
static const uint8_t dns_r[] = {0,    0,   0x81, 0x80, 0,   1, 0,   1,   0,   0, 0, 0, 7, 'e', 'x',
                                'a',  'm', 'p',  'l',  'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,   0xc0,
                                0x0c, 0,   1,    0,    1,   0, 0,   0,   60,  0, 4, 1, 2, 3,   4};

/* Literal header field without indexing, indexed name (4-bit prefix). */
static size_t lit(uint8_t *b, unsigned idx, const char *v)
{
    size_t n = 0, vl = strlen(v);
    if (idx < 15) {
        b[n++] = (uint8_t)idx;
    } else {
        b[n++] = 15;
        b[n++] = (uint8_t)(idx - 15);
    }
    b[n++] = (uint8_t)vl;
    memcpy(b + n, v, vl);
    return n + vl;
}

static void doh_response(struct msg *m, uint32_t sid, bool padded)
{
    uint8_t blk[64];
    size_t n = 0;
    blk[n++] = 0x88; /* :status 200 */
    n += lit(blk + n, 31, "application/dns-message");
    frame(m, 1, 0x04, sid, blk, n);
    uint8_t d[128];
    size_t k = 0;
    if (padded) {
        d[k++] = 3;
    }
    memcpy(d + k, dns_r, sizeof(dns_r));
    k += sizeof(dns_r);
    if (padded) {
        memset(d + k, 0, 3);
        k += 3;
    }
    frame(m, 0, padded ? 0x09 : 0x01, sid, d, k);
}

VG_TEST(http2_dns_over_https)
{
    struct conv cv;
    memset(&cv, 0, sizeof(cv));
    struct msg *m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    /* stream 1: GET /dns-query?dns=<base64url of dns_q> */
    uint8_t blk[128];
    size_t n = 0;
    blk[n++] = 0x82;
    n += lit(blk + n, 4, "/dns-query?ct&dns=AAABAAABAAAAAAAAB2V4YW1wbGUDY29tAAABAAE");
    frame(m, 1, 0x05, 1, blk, n);
    /* stream 3: POST with the message as body (application/dns-message) */
    n = 0;
    blk[n++] = 0x83;
    n += lit(blk + n, 31, "application/dns-message");
    frame(m, 1, 0x04, 3, blk, n);
    frame(m, 0, 0x01, 3, dns_q, sizeof(dns_q));
    /* stream 5: an ordinary GET (no DNS) */
    frame(m, 1, 0x05, 5, req_block, sizeof(req_block));
    m = conv_msg(&cv, S2C);
    doh_response(m, 1, true);
    /* stream 3's answer is not DNS: the request's message is logged */
    static const uint8_t rsp[] = {0x88};
    frame(m, 1, 0x04, 3, rsp, sizeof(rsp));
    frame(m, 0, 0x01, 3, "nope", 4);
    frame(m, 1, 0x05, 5, rsp, sizeof(rsp));
    int rc;
    char *out = run_checked(&cv, &rc, NULL);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_OK);
    CHECK_EQ_INT(count(out, "\"event_type\":\"http\""), 3);
    CHECK_EQ_INT(count(out, "\"event_type\":\"dns\""), 2);
    const char *r1 = strstr(out, "{\"event_type\":\"dns\",\"tx_id\":0,\"http\":{");
    CHECK(r1 != NULL);
    CHECK(r1 &&
          strstr(r1, "\"dns\":{\"version\":3,\"type\":\"response\",\"tx_id\":0,\"id\":0,") != NULL);
    CHECK(strstr(out, "\"answers\":[{\"rrname\":\"example.com\",\"rrtype\":\"A\",\"ttl\":60,"
                      "\"rdata\":\"1.2.3.4\"}]") != NULL);
    const char *r3 = strstr(out, "{\"event_type\":\"dns\",\"tx_id\":1,\"http\":{");
    CHECK(r3 != NULL);
    CHECK(r3 && strstr(r3, "\"dns\":{\"version\":3,\"type\":\"request\",\"tx_id\":1,") != NULL);
    CHECK(doh_notes > 0);
    vg_free(out);
}

/* A DoH body larger than a DNS message (64 KiB) is dropped, never grown without bound. */
VG_TEST(http2_dns_over_https_bounds)
{
    static struct conv cv;
    memset(&cv, 0, sizeof(cv));
    struct msg *m = conv_msg(&cv, C2S);
    put(m, PREFACE, 24);
    uint8_t blk[64];
    size_t n = 0;
    blk[n++] = 0x83;
    n += lit(blk + n, 31, "application/dns-message");
    frame(m, 1, 0x04, 1, blk, n);
    const struct vg_sensor_app_proto *pr = &vg_sensor_proto_http2;
    vg_sbuf_reset(&fake_out);
    vg_sbuf_adds(&fake_out, "");
    void *st = pr->state_new();
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    c.dir = C2S;
    CHECK_EQ_INT(pr->data(&c, st, m->b, m->n), VG_SENSOR_APP_OK);
    static uint8_t big[9 + 70000];
    size_t len = sizeof(big) - 9;
    big[0] = (uint8_t)(len >> 16);
    big[1] = (uint8_t)(len >> 8);
    big[2] = (uint8_t)len;
    big[4] = 0x01; /* DATA, END_STREAM */
    big[8] = 1;
    memcpy(big + 9, dns_q, sizeof(dns_q));
    CHECK_EQ_INT(pr->data(&c, st, big, sizeof(big)), VG_SENSOR_APP_OK);
    pr->end(&c, st);
    pr->state_free(st);
    CHECK_EQ_INT(count(fake_out.p, "\"event_type\":\"dns\""), 0);
    CHECK_EQ_INT(count(fake_out.p, "\"event_type\":\"http\""), 1);
}
