/*
 * test_dns.c — unit tests of the sensor's DNS parser (src/sensor/sensor_dns.c): hand-built
 * messages fed straight to the parser's callbacks with a real engine as the record writer;
 * checks the Suricata 8 EVE fields, compression pointers, loops, truncation, TCP framing
 * (split and merged messages, gaps), and measures messages per second.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "vgtest.h"

/* ---------------------------------------------------------------- harness */

static char out[1 << 16];
static size_t out_len;
static size_t out_records;

static void sink(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    out_records++;
    if (out_len + len < sizeof(out)) {
        memcpy(out + out_len, line, len);
        out_len += len;
        out[out_len] = '\0';
    }
}

struct fixture {
    struct vg_sensor_engine *eng;
    struct vg_sensor_flow flow;
    struct vg_sensor_app_ctx c;
    void *st;
    const struct vg_sensor_app_proto *proto;
};

static void fx_init(struct fixture *fx, const struct vg_sensor_app_proto *proto)
{
    struct vg_sensor_engine_config cfg;
    memset(fx, 0, sizeof(*fx));
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, sink, NULL, &fx->eng), 0);
    fx->flow.key.family = VG_SENSOR_FLOW_AF_INET;
    fx->flow.key.proto = proto->ipproto;
    memcpy(fx->flow.key.src, "\x0a\x10\x01\x0b", 4);
    memcpy(fx->flow.key.dst, "\x08\x08\x08\x08", 4);
    fx->flow.key.sport = 41805;
    fx->flow.key.dport = 53;
    fx->c.eng = fx->eng;
    fx->c.flow = &fx->flow;
    fx->c.ts_ns = 1451649600000000000LL;
    fx->c.pcap_cnt = 1;
    fx->proto = proto;
    fx->st = proto->state_new ? proto->state_new() : NULL;
    out_len = 0;
    out_records = 0;
    out[0] = '\0';
}

static void fx_fini(struct fixture *fx)
{
    if (fx->proto->state_free) {
        fx->proto->state_free(fx->st);
    }
    vg_sensor_engine_destroy(fx->eng);
}

static int fx_feed(struct fixture *fx, enum vg_sensor_flow_dir dir, const uint8_t *p, size_t n)
{
    fx->c.dir = dir;
    return fx->proto->data(&fx->c, fx->st, p, n);
}

/* Number of occurrences of needle in the captured output. */
static int count_of(const char *needle)
{
    int k = 0;
    for (const char *p = out; (p = strstr(p, needle)) != NULL; p++) {
        k++;
    }
    return k;
}

/* ---------------------------------------------------------------- message builder */

struct msg {
    uint8_t b[4096];
    size_t n;
};

static void m_u8(struct msg *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}
static void m_u16(struct msg *m, unsigned v)
{
    m_u8(m, v >> 8);
    m_u8(m, v & 0xff);
}
static void m_u32(struct msg *m, uint32_t v)
{
    m_u16(m, v >> 16);
    m_u16(m, v & 0xffff);
}
static void m_raw(struct msg *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}
/* "www.example.com" as labels with the terminating zero. */
static void m_name(struct msg *m, const char *dotted)
{
    while (*dotted) {
        const char *dot = strchr(dotted, '.');
        size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);
        m_u8(m, (unsigned)l);
        m_raw(m, dotted, l);
        dotted += l + (dot ? 1 : 0);
    }
    m_u8(m, 0);
}
static void m_hdr(struct msg *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                  unsigned ar)
{
    m->n = 0;
    m_u16(m, id);
    m_u16(m, flags);
    m_u16(m, qd);
    m_u16(m, an);
    m_u16(m, ns);
    m_u16(m, ar);
}
/* Record header after the owner name: type, class IN, ttl, rdlength. */
static void m_rrh(struct msg *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
    m_u16(m, type);
    m_u16(m, 1);
    m_u32(m, ttl);
    m_u16(m, rdlen);
}

/* ---------------------------------------------------------------- tests */

VG_TEST(dns_udp_request)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    m_hdr(&m, 36146, 0x0100, 1, 0, 0, 0);
    m_name(&m, "www.suricata-ids.org");
    m_u16(&m, 1);
    m_u16(&m, 1);
    CHECK_EQ_INT(fx.proto->probe(m.b, m.n, VG_SENSOR_FLOW_TO_SERVER), 1);
    CHECK_EQ_INT(fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n), VG_SENSOR_APP_OK);
    CHECK_EQ_INT(out_records, 1);
    CHECK(strstr(out, "\"event_type\":\"dns\"") != NULL);
    CHECK(strstr(out, "\"src_ip\":\"10.16.1.11\",\"src_port\":41805,\"dest_ip\":\"8.8.8.8\"") !=
          NULL);
    CHECK(strstr(out,
                 ",\"dns\":{\"version\":3,\"type\":\"request\",\"tx_id\":0,\"id\":36146,"
                 "\"flags\":\"100\",\"rd\":true,\"opcode\":0,\"rcode\":\"NOERROR\","
                 "\"queries\":[{\"rrname\":\"www.suricata-ids.org\",\"rrtype\":\"A\"}]}") != NULL);
    fx_fini(&fx);
}

/* The dig response of suricata-verify dns-udp-eve-dig, rebuilt: CNAME + 2 A, pointers. */
static void build_dig_response(struct msg *m)
{
    m_hdr(m, 36146, 0x81a0, 1, 3, 0, 0);
    m_name(m, "www.suricata-ids.org"); /* at 12; "suricata-ids.org" at 16 */
    m_u16(m, 1);
    m_u16(m, 1);
    m_u16(m, 0xc00c);
    m_rrh(m, 5, 3544, 2);
    m_u16(m, 0xc010);
    m_u16(m, 0xc010);
    m_rrh(m, 1, 244, 4);
    m_raw(m, "\xc0\x00\x4e\x18", 4);
    m_u16(m, 0xc010);
    m_rrh(m, 1, 244, 4);
    m_raw(m, "\xc0\x00\x4e\x19", 4);
}

VG_TEST(dns_udp_response_pointers_grouped)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    build_dig_response(&m);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, m.b, m.n);
    CHECK_EQ_INT(out_records, 1);
    CHECK(strstr(out, "\"src_ip\":\"8.8.8.8\",\"src_port\":53,\"dest_ip\":\"10.16.1.11\"") != NULL);
    CHECK(strstr(out,
                 "\"type\":\"response\",\"tx_id\":0,\"id\":36146,\"flags\":\"81a0\","
                 "\"qr\":true,\"rd\":true,\"ra\":true,\"opcode\":0,\"rcode\":\"NOERROR\"") != NULL);
    CHECK(strstr(out, "\"answers\":[{\"rrname\":\"www.suricata-ids.org\",\"rrtype\":\"CNAME\","
                      "\"ttl\":3544,\"rdata\":\"suricata-ids.org\"},{\"rrname\":\"suricata-ids."
                      "org\",\"rrtype\":\"A\",\"ttl\":244,\"rdata\":\"192.0.78.24\"},") != NULL);
    CHECK(strstr(out, "\"grouped\":{\"CNAME\":[\"suricata-ids.org\"],\"A\":[\"192.0.78.24\","
                      "\"192.0.78.25\"]}") != NULL);
    /* second message: tx_id advances per message */
    fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, m.b, m.n);
    CHECK(strstr(out, "\"tx_id\":1") != NULL);
    fx_fini(&fx);
}

VG_TEST(dns_rdata_formats)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    m_hdr(&m, 7, 0x8180, 1, 6, 1, 1);
    m_name(&m, "a.example");
    m_u16(&m, 16);
    m_u16(&m, 1);
    /* TXT with two strings, one empty */
    m_u16(&m, 0xc00c);
    m_rrh(&m, 16, 3, 5);
    m_raw(&m,
          "\x03"
          "abc"
          "\x00",
          5);
    /* SRV */
    m_u16(&m, 0xc00c);
    m_rrh(&m, 33, 60, 6 + 13);
    m_u16(&m, 20);
    m_u16(&m, 1);
    m_u16(&m, 5060);
    m_name(&m, "sip.example");
    /* SSHFP */
    m_u16(&m, 0xc00c);
    m_rrh(&m, 44, 60, 2 + 4);
    m_raw(&m, "\x01\x01\x19\x8c\x34\xa9", 6);
    /* NULL with a control byte and invalid UTF-8 */
    m_u16(&m, 0xc00c);
    m_rrh(&m, 10, 0, 5);
    m_raw(&m, "VA\x03\xc5\xe9", 5);
    /* AAAA */
    m_u16(&m, 0xc00c);
    m_rrh(&m, 28, 5, 16);
    m_raw(&m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    /* unknown type 64 (SVCB: numeric in Suricata 8) */
    m_u16(&m, 0xc00c);
    m_rrh(&m, 64, 5, 1);
    m_u8(&m, 0);
    /* authority SOA */
    m_u16(&m, 0xc00e); /* "example" */
    m_rrh(&m, 6, 899, 2 + 2 + 20);
    m_u16(&m, 0xc00e);
    m_u16(&m, 0xc00e);
    m_u32(&m, 1);
    m_u32(&m, 7200);
    m_u32(&m, 900);
    m_u32(&m, 1209600);
    m_u32(&m, 86400);
    /* additional OPT with one option */
    m_u8(&m, 0);
    m_rrh(&m, 41, 0, 6);
    m_u16(&m, 10);
    m_u16(&m, 2);
    m_u16(&m, 0xabcd);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, m.b, m.n);
    CHECK_EQ_INT(out_records, 1);
    CHECK(strstr(out,
                 "{\"rrname\":\"a.example\",\"rrtype\":\"TXT\",\"ttl\":3,\"rdata\":\"abc\"},"
                 "{\"rrname\":\"a.example\",\"rrtype\":\"TXT\",\"ttl\":3,\"rdata\":\"\"}") != NULL);
    CHECK(strstr(out, "\"srv\":{\"priority\":20,\"weight\":1,\"port\":5060,\"name\":\"sip."
                      "example\"}") != NULL);
    CHECK(strstr(out, "\"sshfp\":{\"fingerprint\":\"19:8c:34:a9\",\"algo\":1,\"type\":1}") != NULL);
    CHECK(strstr(out, "\"rrtype\":\"NULL\",\"ttl\":0,\"rdata\":\"VA\\u0003\\\\xc5\\\\xe9\"") !=
          NULL);
    CHECK(strstr(out, "\"rdata\":\"2001:0db8:0000:0000:0000:0000:0000:0001\"") != NULL);
    CHECK(strstr(out, "\"rrtype\":\"64\",\"ttl\":5}") != NULL);
    CHECK(strstr(out,
                 "\"authorities\":[{\"rrname\":\"example\",\"rrtype\":\"SOA\",\"ttl\":899,"
                 "\"soa\":{\"mname\":\"example\",\"rname\":\"example\",\"serial\":1,"
                 "\"refresh\":7200,\"retry\":900,\"expire\":1209600,\"minimum\":86400}}]") != NULL);
    CHECK(strstr(out, "\"additionals\":[{\"rrname\":\"\",\"rrtype\":\"OPT\",\"ttl\":0,\"opt\":[{"
                      "\"code\":10,\"data\":\"abcd\"}]}]") != NULL);
    CHECK(strstr(out, "\"TXT\":[\"abc\",\"\"]") != NULL);
    fx_fini(&fx);
}

VG_TEST(dns_empty_opt_not_logged)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    m_hdr(&m, 1, 0x0120, 1, 0, 0, 1);
    m_name(&m, "x.org");
    m_u16(&m, 1);
    m_u16(&m, 1);
    m_u8(&m, 0);
    m_rrh(&m, 41, 0, 0);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK_EQ_INT(out_records, 1);
    CHECK(strstr(out, "additionals") == NULL);
    fx_fini(&fx);
}

VG_TEST(dns_pointer_loops)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    /* question name is a pointer to itself: malformed, nothing logged */
    m_hdr(&m, 1, 0x0100, 1, 0, 0, 0);
    m_u16(&m, 0xc00c);
    m_u16(&m, 1);
    m_u16(&m, 1);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK_EQ_INT(out_records, 0);
    /* two pointers pointing at each other, reached through a first jump: the name is cut at
     * 255 segments and the message still logged, with events */
    m_hdr(&m, 2, 0x0100, 1, 0, 0, 0);
    m_u16(&m, 0xc012); /* 12: jump to 18 */
    m_u16(&m, 1);
    m_u16(&m, 1);
    m_u16(&m, 0xc014); /* 18: -> 20 */
    m_u16(&m, 0xc012); /* 20: -> 18 */
    m_u16(&m, 0);      /* pad so that the record counts fit */
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK_EQ_INT(count_of("\"event_type\":\"dns\""), 1);
    CHECK(strstr(out, "\"rrname_truncated\":true") != NULL);
    CHECK(strstr(out, "\"event\":\"too_many_labels\"") != NULL);
    CHECK(strstr(out, "\"event\":\"name_too_long\"") != NULL);
    /* pointer past the end: malformed */
    out_len = 0, out_records = 0, out[0] = 0;
    m_hdr(&m, 3, 0x0100, 1, 0, 0, 0);
    m_u16(&m, 0xc0ff);
    m_u16(&m, 1);
    m_u16(&m, 1);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK_EQ_INT(out_records, 0);
    fx_fini(&fx);
}

VG_TEST(dns_forward_pointer_accepted)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    m_hdr(&m, 36356, 0x0100, 2, 0, 0, 0);
    m_u16(&m, 0xc012); /* 12: forward pointer to the second question's name */
    m_u16(&m, 1);
    m_u16(&m, 1);
    m_name(&m, "codemonkey.net"); /* 18 */
    m_u16(&m, 1);
    m_u16(&m, 1);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK(strstr(out, "\"queries\":[{\"rrname\":\"codemonkey.net\",\"rrtype\":\"A\"},{\"rrname\":"
                      "\"codemonkey.net\",\"rrtype\":\"A\"}]") != NULL);
    fx_fini(&fx);
}

VG_TEST(dns_long_name_truncated)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    m_hdr(&m, 9, 0x0100, 1, 0, 0, 0);
    for (int i = 0; i < 20; i++) { /* 20 labels of 63: 1279 characters */
        m_u8(&m, 63);
        for (int j = 0; j < 63; j++) {
            m_u8(&m, 'a' + i % 26);
        }
    }
    m_u8(&m, 0);
    m_u16(&m, 1);
    m_u16(&m, 1);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK_EQ_INT(count_of("\"event_type\":\"dns\""), 1);
    const char *r = strstr(out, "\"rrname\":\"");
    CHECK(r != NULL);
    if (r) {
        r += 10;
        const char *e = strchr(r, '"');
        CHECK_EQ_INT(e - r, 1025);
    }
    CHECK(strstr(out, "\"rrname_truncated\":true") != NULL);
    CHECK(strstr(out, "\"event\":\"name_too_long\"") != NULL);
    fx_fini(&fx);
}

VG_TEST(dns_truncated_and_invalid)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    build_dig_response(&m);
    for (size_t cut = 0; cut < m.n; cut++) { /* every prefix: never a record, never a crash */
        fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, m.b, cut);
    }
    CHECK_EQ_INT(out_records, 0);
    /* request without question, response sent to the server: ignored */
    m_hdr(&m, 1, 0x0100, 0, 0, 0, 0);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    build_dig_response(&m);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK_EQ_INT(out_records, 0);
    CHECK_EQ_INT(fx.proto->probe(m.b, m.n - 1, VG_SENSOR_FLOW_TO_CLIENT), 0);
    fx_fini(&fx);
}

VG_TEST(dns_corrupt_additionals_still_logged)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    build_dig_response(&m);
    m.b[11] = 2; /* two additionals that are not there */
    m_u8(&m, 0);
    m_u8(&m, 0);
    m_u8(&m, 0); /* too short for a record */
    fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, m.b, m.n);
    CHECK_EQ_INT(count_of("\"event_type\":\"dns\""), 1);
    CHECK(strstr(out, "\"answers\":[") != NULL);
    CHECK(strstr(out, "\"event\":\"invalid_additionals\"") != NULL);
    fx_fini(&fx);
}

VG_TEST(dns_opcode_and_z_events)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    m_hdr(&m, 1, 0x4840, 1, 0, 0, 0); /* opcode 9, z */
    m_name(&m, "suricata.io");
    m_u16(&m, 1);
    m_u16(&m, 1);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, m.b, m.n);
    CHECK(strstr(out, "\"z\":true,\"opcode\":9") != NULL);
    CHECK(strstr(out, "\"event_type\":\"anomaly\"") != NULL);
    CHECK(strstr(out, "\"tx_id\":0,\"anomaly\":{\"app_proto\":\"dns\",\"type\":\"applayer\","
                      "\"event\":\"z_flag_set\",\"layer\":\"proto_parser\"}") != NULL);
    CHECK(strstr(out, "\"event\":\"invalid_opcode\"") != NULL);
    fx_fini(&fx);
}

VG_TEST(dns_tcp_split_and_merged)
{
    struct fixture fx;
    struct msg m;
    uint8_t stream[4096];
    size_t n = 0;
    fx_init(&fx, &vg_sensor_proto_dns_tcp);
    build_dig_response(&m);
    for (int k = 0; k < 3; k++) { /* three messages back to back */
        stream[n++] = (uint8_t)(m.n >> 8);
        stream[n++] = (uint8_t)m.n;
        memcpy(stream + n, m.b, m.n);
        n += m.n;
    }
    CHECK_EQ_INT(fx.proto->probe(stream, 5, VG_SENSOR_FLOW_TO_CLIENT), -1);
    CHECK_EQ_INT(fx.proto->probe(stream, n, VG_SENSOR_FLOW_TO_CLIENT), 1);
    CHECK_EQ_INT(fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, stream, n), VG_SENSOR_APP_OK);
    CHECK_EQ_INT(out_records, 3);
    /* byte by byte */
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, stream + i, 1), VG_SENSOR_APP_OK);
    }
    CHECK_EQ_INT(out_records, 6);
    CHECK(strstr(out, "\"tx_id\":5") != NULL);
    /* a gap inside the second message: the rest of it is skipped, the third is parsed */
    size_t one = m.n + 2;
    fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, stream, one + 10);
    fx.c.dir = VG_SENSOR_FLOW_TO_CLIENT;
    fx.proto->gap(&fx.c, fx.st, 5);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, stream + one + 15, one - 15);
    fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, stream + 2 * one, one);
    CHECK_EQ_INT(out_records, 8);
    /* garbage in a message: parser error */
    uint8_t bad[] = {0, 14, 0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, 0x3f};
    CHECK_EQ_INT(fx_feed(&fx, VG_SENSOR_FLOW_TO_SERVER, bad, sizeof(bad)), VG_SENSOR_APP_ERROR);
    fx_fini(&fx);
}

VG_TEST(dns_bench)
{
    struct fixture fx;
    struct msg m;
    fx_init(&fx, &vg_sensor_proto_dns_udp);
    build_dig_response(&m);
    const int iters = 200000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < iters; i++) {
        out_len = 0;
        fx_feed(&fx, VG_SENSOR_FLOW_TO_CLIENT, m.b, m.n);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("  dns bench: %d responses (%zu bytes, 3 answers) in %.3f s: %.0f msg/s, %.2f Gbit/s "
           "of DNS payload\n",
           iters, m.n, s, iters / s, (double)iters * (double)m.n * 8 / s / 1e9);
    CHECK_EQ_INT(out_records, (size_t)iters);
    fx_fini(&fx);
}
