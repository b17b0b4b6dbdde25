/*
 * test_engine.c — the sensor engine (sensor_engine.c, sensor_defrag.c): `flow` records in
 * Suricata's layout, protocol choice (content over port, waiting for more bytes, failure,
 * DNS on a non-standard port with the real parsers), reply-first flows logged the right way
 * round, TLS upgrade, parser errors as anomalies, timeouts, IPv4 fragments (in any order,
 * overlaps counted), ICMP errors accounted to their flow, and the detector hook; segments
 * larger than the probe buffer handed over whole, protocol change and re-detection
 * (VG_SENSOR_APP_UPGRADE_TLS with vg_sensor_app_upgrade_at), NBNS/mDNS/LLMNR not taken for
 * DNS, expectations (ftp-data label and record), vg_sensor_rec_anomaly and flow.tx_cnt.
 */
#include "sensor_fw_build.h"
#include "vgtest.h"

static void done(struct vg_sensor_engine *e, struct fw_out *o)
{
    vg_sensor_engine_destroy(e);
    vg_sbuf_fini(&o->all);
}

VG_TEST(flow_record_of_a_closed_tcp_session)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "req");
    fw_s(e, 5001, 1004, FW_PA, "resp");
    fw_c(e, 1004, 5005, FW_FA, NULL);
    fw_s(e, 5005, 1005, FW_FA, NULL);
    fw_c(e, 1005, 5006, FW_ACK, NULL);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(o.lines, 1);
    const char *r = o.all.p;
    CHECK(strstr(r, "\"event_type\":\"flow\",\"src_ip\":\"10.0.0.1\",\"src_port\":40000,"
                    "\"dest_ip\":\"10.0.0.2\",\"dest_port\":7777,\"proto\":\"TCP\","
                    "\"community_id\":\"1:7asoaIArF3Vz44FQEbKi8uLJd/s=\","
                    "\"app_proto\":\"echo\",\"flow\":{\"pkts_toserver\":5,\"pkts_toclient\":3,"
                    "\"bytes_toserver\":203,\"bytes_toclient\":124,") != NULL);
    CHECK(strstr(r, "\"age\":0,\"state\":\"closed\",\"reason\":\"shutdown\",\"alerted\":false},"
                    "\"tcp\":{\"tcp_flags\":\"1b\",\"tcp_flags_ts\":\"1b\",\"tcp_flags_tc\":\"1b\","
                    "\"syn\":true,\"fin\":true,\"psh\":true,\"ack\":true,\"state\":\"closed\"}}") !=
          NULL);
    done(e, &o);
}

VG_TEST(tcp_states_as_suricata_names_them)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_c(e, 1000, 0, FW_SYN, NULL);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"state\":\"new\""), 1);
    CHECK_EQ_INT(fw_count(&o, "\"state\":\"syn_sent\""), 1);
    done(e, &o);

    struct fw_out o2 = {0};
    e = fw_engine(&o2, 0);
    fw_handshake(e, 1000, 5000);
    fw_s(e, 5001, 1001, FW_FA, NULL); /* the server closes first */
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o2, "\"tcp\":{\"tcp_flags\":\"13\""), 1);
    CHECK_EQ_INT(fw_count(&o2, "\"state\":\"close_wait\""), 1);
    CHECK_EQ_INT(fw_count(&o2, "\"flow\":{\"pkts_toserver\":2"), 1);
    done(e, &o2);
}

VG_TEST(protocol_waits_for_more_then_content_decides)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_echo.probe_answer = -1; /* "need more" until it sees ECHO */
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "EC");
    CHECK_STR(fw_echo_str(0), "");
    fw_c(e, 1003, 5001, FW_PA, "HO ping");
    CHECK_STR(fw_echo_str(0), "ECHO ping");
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"echo\""), 1);
    done(e, &o);
}

VG_TEST(no_parser_claims_the_flow)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_echo.probe_answer = 0;
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "nope");
    fw_s(e, 5001, 1005, FW_PA, "nada");
    fw_c(e, 1005, 5005, FW_PA, "more");
    vg_sensor_engine_flush(e);
    CHECK_STR(fw_echo_str(0), "");
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"failed\""), 1);
    done(e, &o);
}

VG_TEST(short_session_still_gets_port_parser_at_end)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_echo.probe_answer = -1;
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "E");
    vg_sensor_engine_flush(e);
    CHECK_STR(fw_echo_str(0), "E");
    CHECK_EQ_INT(fw_echo.ends, 1);
    done(e, &o);
}

VG_TEST(parser_error_gives_one_applayer_anomaly)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_echo.answer = VG_SENSOR_APP_ERROR;
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "bad");
    fw_c(e, 1004, 5001, FW_PA, "worse");
    CHECK_STR(fw_echo_str(0), "bad");
    CHECK_EQ_INT(fw_count(&o, "\"anomaly\":{\"app_proto\":\"echo\",\"type\":\"applayer\""), 1);
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.app_errors, 1);
    done(e, &o);
}

/* A parser that hands over to TLS after its first bytes. */
static int upg_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    (void)c;
    (void)st;
    (void)p;
    (void)n;
    return VG_SENSOR_APP_UPGRADE_TLS;
}
static const struct vg_sensor_app_proto upg_proto = {
    .name = "starttls", .ipproto = 6, .ports = {7777, 0}, .data = upg_data};
static const struct vg_sensor_app_proto fake_tls = {.name = "tls",
                                                    .ipproto = 6,
                                                    .ports = {443, 0},
                                                    .probe = fw_echo_probe,
                                                    .data = fw_echo_data,
                                                    .gap = fw_echo_gap};
static const struct vg_sensor_app_proto *const upg_tab[] = {&upg_proto, &fake_tls};

VG_TEST(upgrade_to_tls)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, upg_tab, 2);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "STARTTLS");
    fw_c(e, 1009, 5001, FW_PA, "hello");
    CHECK_STR(fw_echo_str(0), "hello");
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"tls\",\"app_proto_orig\":\"starttls\""), 1);
    done(e, &o);
}

/* A UDP parser that logs datagrams, for the fragment and swap tests. */
static int udp_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    (void)st;
    vg_sbuf_add(&fw_echo.dir[c->dir], p, n);
    vg_sbuf_addc(&fw_echo.dir[c->dir], '|');
    return VG_SENSOR_APP_OK;
}
static const struct vg_sensor_app_proto udp_proto = {
    .name = "udpecho", .ipproto = 17, .ports = {7777, 0}, .data = udp_data};
static const struct vg_sensor_app_proto *const udp_tab[] = {&udp_proto};

/* IPv4 fragment of a UDP datagram: l4 is the whole UDP header + payload. */
static size_t frag4(uint8_t *b, const uint8_t *l4, size_t off, size_t len, bool more)
{
    size_t o =
        fw_ip4(b, 0x0a000001, 0x0a000002, 17, len, 77, (uint16_t)((more ? 0x2000 : 0) | (off / 8)));
    memcpy(b + o, l4 + off, len);
    return o + len;
}

VG_TEST(fragments_in_any_order_make_one_datagram)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, udp_tab, 1);
    char payload[40];
    memset(payload, 'p', sizeof(payload));
    memcpy(payload, "START", 5);
    memcpy(payload + 35, "END!!", 5);
    uint8_t whole[128], b[128];
    size_t wn = fw_udp4(whole, 0x0a000001, 5000, 0x0a000002, 7777, payload, sizeof(payload));
    const uint8_t *l4 = whole + 20;
    size_t l4n = wn - 20; /* 48 */
    size_t n = frag4(b, l4, 32, l4n - 32, false);
    fw_feed(e, b, n, FW_SEC, 1);
    n = frag4(b, l4, 16, 16, true);
    fw_feed(e, b, n, FW_SEC, 2);
    CHECK_STR(fw_echo_str(0), "");
    n = frag4(b, l4, 0, 16, true);
    fw_feed(e, b, n, FW_SEC, 3);
    CHECK_EQ_INT(fw_echo.dir[0].len, 41);
    CHECK(strncmp(fw_echo_str(0), "START", 5) == 0);
    /* overlapping fragments: counted as an anomaly, first copy kept */
    n = frag4(b, l4, 0, 24, true);
    b[4] = 0, b[5] = 78;
    b[10] = b[11] = 0;
    fw_feed(e, b, n, FW_SEC, 4);
    n = frag4(b, l4, 16, l4n - 16, false);
    b[4] = 0, b[5] = 78;
    fw_feed(e, b, n, FW_SEC, 5);
    CHECK_EQ_INT(fw_count(&o, "defrag.overlap"), 1);
    CHECK_EQ_INT(fw_echo.dir[0].len, 82);
    done(e, &o);
}

VG_TEST(reply_first_udp_flow_logged_from_client)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, udp_tab, 1);
    uint8_t b[128];
    size_t n = fw_udp4(b, 0x0a000002, 7777, 0x0a000001, 5000, "answer", 6);
    fw_feed(e, b, n, FW_SEC, 1);
    vg_sensor_engine_flush(e);
    CHECK_STR(fw_echo_str(1), "answer|");
    CHECK_EQ_INT(fw_count(&o, "\"src_ip\":\"10.0.0.1\",\"src_port\":5000,\"dest_ip\":\"10.0.0.2\","
                              "\"dest_port\":7777"),
                 1);
    CHECK_EQ_INT(fw_count(&o, "\"pkts_toserver\":0,\"pkts_toclient\":1"), 1);
    done(e, &o);
}

VG_TEST(dns_by_content_on_other_port_with_real_parsers)
{
    struct fw_out o = {0};
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    struct vg_sensor_engine *e = NULL;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, fw_sink, &o, &e), VG_OK);
    CHECK(vg_sensor_engine_detector(e) != NULL);
    /* query for example.com A, id 0x1234, RD */
    static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,   1, 0,   0,   0,   0, 0, 0, 7, 'e', 'x',
                                'a',  'm',  'p',  'l',  'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
    uint8_t b[128];
    size_t n = fw_udp4(b, 0x0a000001, 40000, 0x0a000002, 5300, q, sizeof(q));
    fw_feed(e, b, n, FW_SEC, 1);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"event_type\":\"dns\""), 1);
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"dns\""), 1);
    done(e, &o);
}

VG_TEST(timeout_ends_flow_with_reason)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, udp_tab, 1);
    uint8_t b[128];
    size_t n = fw_udp4(b, 0x0a000001, 5000, 0x0a000002, 7777, "x", 1);
    fw_feed(e, b, n, FW_SEC, 1);
    vg_sensor_engine_tick(e, 1000 * FW_SEC);
    CHECK_EQ_INT(fw_count(&o, "\"reason\":\"timeout\""), 1);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(o.lines, 1);
    done(e, &o);
}

VG_TEST(icmp_error_counts_in_its_flow)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    /* router 10.0.0.9 tells the client its segment could not be delivered */
    uint8_t inner[64], b[128];
    size_t in = fw_tcp4(inner, FW_CLI, 40000, FW_SRV, 7777, 1001, 5001, FW_PA, NULL, 0);
    uint8_t icmp[8 + 28] = {3, 4, 0, 0, 0, 0, 0x05, 0xdc};
    memcpy(icmp + 8, inner, 28);
    (void)in;
    size_t o4 = fw_ip4(b, 0x0a000009, FW_CLI, 1, sizeof(icmp), 9, 0);
    memcpy(b + o4, icmp, sizeof(icmp));
    fw_feed(e, b, o4 + sizeof(icmp), FW_SEC, 10);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(o.lines, 1);
    CHECK_EQ_INT(fw_count(&o, "\"pkts_toserver\":2,\"pkts_toclient\":2"), 1);
    done(e, &o);
}

VG_TEST(no_detect_no_detector_no_flow_records)
{
    struct fw_out o = {0};
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    cfg.log_flow = false;
    struct vg_sensor_engine *e = NULL;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, fw_sink, &o, &e), VG_OK);
    CHECK(vg_sensor_engine_detector(e) == NULL);
    fw_handshake(e, 1, 2);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(o.lines, 0);
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.packets, 3);
    CHECK_EQ_INT(st.flows.created, 1);
    done(e, &o);
}

/* ------------------------------------------------------------------ framework hooks */

/* A client segment of any size (fw_c is bounded to 2 KiB). */
static void big_c(struct vg_sensor_engine *e, uint32_t seq, uint32_t ack, const uint8_t *d,
                  size_t n, uint64_t cnt)
{
    static uint8_t b[40 + 20000];
    size_t len = fw_tcp4(b, FW_CLI, 40000, FW_SRV, 7777, seq, ack, FW_PA, d, n);
    fw_feed(e, b, len, FW_SEC + (int64_t)cnt * 1000, cnt);
}

VG_TEST(segment_larger_than_probe_buffer_loses_nothing)
{
    static uint8_t d[12000];
    for (size_t i = 0; i < sizeof(d); i++) {
        d[i] = (uint8_t)('a' + i % 26);
    }
    /* The probe waits on a short head, then one large segment completes it. */
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_echo.probe_answer = -1;
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "ab");
    big_c(e, 1003, 5001, d, sizeof(d), 50);
    CHECK_EQ_INT(fw_echo.dir[0].len, 2 + sizeof(d));
    CHECK(memcmp(fw_echo.dir[0].p + 2, d, sizeof(d)) == 0);
    CHECK(strstr(fw_echo_str(0), "[gap") == NULL);
    done(e, &o);

    /* One large first segment: decided at once, handed over whole. */
    struct fw_out o2 = {0};
    e = fw_engine(&o2, 0);
    fw_echo.probe_answer = -1;
    fw_handshake(e, 1000, 5000);
    big_c(e, 1001, 5001, d, sizeof(d), 60);
    CHECK_EQ_INT(fw_echo.dir[0].len, sizeof(d));
    done(e, &o2);
}

/* "plain": a line protocol that switches on "CONNECT\n" (consuming only that line). */
static int plain_states, plain_ends;
static void *plain_new(void)
{
    plain_states++;
    return vg_calloc(1, 1);
}
static void plain_free(void *st)
{
    vg_free(st);
}
static int plain_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    (void)st;
    vg_sbuf_add(&fw_echo.dir[c->dir], p, n);
    if (n >= 8 && memcmp(p, "CONNECT\n", 8) == 0) {
        fw_echo.dir[c->dir].len -= n - 8; /* only the line was consumed */
        vg_sensor_app_upgrade_at(c, 8);
        return VG_SENSOR_APP_UPGRADE_TLS;
    }
    return VG_SENSOR_APP_OK;
}
static void plain_end(struct vg_sensor_app_ctx *c, void *st)
{
    (void)c;
    (void)st;
    plain_ends++;
}
static const struct vg_sensor_app_proto plain_proto = {.name = "plain",
                                                       .ipproto = 6,
                                                       .ports = {7777, 0},
                                                       .state_new = plain_new,
                                                       .state_free = plain_free,
                                                       .data = plain_data,
                                                       .end = plain_end};
static const char *seen_from;
static int tls_from_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    seen_from = vg_sensor_app_from_proto(c);
    return fw_echo_data(c, st, p, n);
}
static const struct vg_sensor_app_proto from_tls = {
    .name = "tls", .ipproto = 6, .ports = {443, 0}, .probe = fw_echo_probe, .data = tls_from_data};
static const struct vg_sensor_app_proto *const plain_tab[] = {&plain_proto, &from_tls};

VG_TEST(upgrade_redetects_plain_bytes_with_a_fresh_parser)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, plain_tab, 2);
    fw_echo.probe_answer = 0; /* the fake TLS says no unless it sees ECHO */
    plain_states = plain_ends = 0;
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "CONNECT\nGET /"); /* the rest goes to the new detection */
    CHECK_EQ_INT(plain_states, 2);
    CHECK_EQ_INT(plain_ends, 1); /* the old parser ended before the switch */
    CHECK_STR(fw_echo_str(0), "CONNECT\nGET /");
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"plain\",\"app_proto_orig\":\"plain\""), 1);
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.app_upgrades, 1);
    done(e, &o);
}

VG_TEST(upgrade_to_tls_when_tls_follows_and_from_proto)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, plain_tab, 2);
    fw_echo.probe_answer = 0;
    seen_from = NULL;
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "CONNECT\n");
    fw_c(e, 1009, 5001, FW_PA, "ECHO hi");
    CHECK_STR(seen_from, "plain");
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"tls\",\"app_proto_orig\":\"plain\""), 1);
    done(e, &o);
}

VG_TEST(nbns_mdns_llmnr_are_not_dns)
{
    struct fw_out o = {0};
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    struct vg_sensor_engine *e = NULL;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, fw_sink, &o, &e), VG_OK);
    static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0,   1, 0,   0,   0,   0, 0, 0, 7, 'e', 'x',
                                'a',  'm',  'p',  'l',  'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
    static const uint16_t ports[] = {5353, 5355, 137};
    uint8_t b[128];
    for (size_t i = 0; i < 3; i++) {
        size_t n = fw_udp4(b, 0x0a000001, ports[i], 0x0a000002, ports[i], q, sizeof(q));
        fw_feed(e, b, n, FW_SEC, i + 1);
    }
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"event_type\":\"dns\""), 0);
    CHECK_EQ_INT(fw_count(&o, "\"event_type\":\"flow\""), 3);
    done(e, &o);
}

/* "ctl": announces a data channel to the server's port 2121 and what it carries. */
static int ctl_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    (void)st;
    (void)p;
    (void)n;
    const uint8_t *addr;
    uint8_t fam;
    uint16_t port;
    vg_sensor_app_endpoint(c, true, &addr, &fam, &port);
    CHECK_EQ_INT(port, 7777);
    CHECK_EQ_INT(vg_sensor_expect(c, fam, addr, 2121, "ftp-data"), VG_OK);
    vg_sensor_expect_file(c, "RETR", "a\"b.txt", 7);
    vg_sensor_rec_anomaly(c, "proto_parser", "request_too_long", 3);
    return VG_SENSOR_APP_OK;
}
static const struct vg_sensor_app_proto ctl_proto = {
    .name = "ctl", .ipproto = 6, .ports = {7777, 0}, .data = ctl_data};
static const struct vg_sensor_app_proto *const ctl_tab[] = {&ctl_proto};

VG_TEST(expectation_labels_the_data_channel_and_anomaly_hook)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, ctl_tab, 1);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "PASV");
    CHECK_EQ_INT(fw_count(&o, "\"tx_id\":3,"), 1);
    CHECK_EQ_INT(fw_count(&o, "\"anomaly\":{\"app_proto\":\"ctl\",\"type\":\"applayer\","
                              "\"event\":\"request_too_long\",\"layer\":\"proto_parser\"}"),
                 1);
    uint8_t b[128];
    size_t n = fw_tcp4(b, FW_CLI, 40001, FW_SRV, 2121, 7000, 0, FW_SYN, NULL, 0);
    fw_feed(e, b, n, FW_SEC * 2, 100);
    n = fw_tcp4(b, FW_CLI, 40001, FW_SRV, 2121, 7001, 1, FW_PA, "data", 4);
    fw_feed(e, b, n, FW_SEC * 2, 101);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"event_type\":\"ftp_data\",\"src_ip\":\"10.0.0.1\","
                              "\"src_port\":40001,\"dest_ip\":\"10.0.0.2\",\"dest_port\":2121"),
                 1);
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"ftp-data\",\"ftp_data\":{\"filename\":"
                              "\"a\\\"b.txt\",\"command\":\"RETR\"}}"),
                 1);
    CHECK_EQ_INT(fw_count(&o, "\"src_port\":40001,\"dest_ip\":\"10.0.0.2\",\"dest_port\":2121,"
                              "\"proto\":\"TCP\",\"community_id\""),
                 2);
    CHECK_EQ_INT(fw_count(&o, "\"app_proto\":\"ftp-data\",\"flow\":{"), 1);
    CHECK_EQ_INT(fw_count(&o, "\"tx_cnt\":4"), 1); /* the control flow: tx_id 3 was logged */
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.expect_hits, 1);
    CHECK_EQ_INT(st.anomalies, 1);
    done(e, &o);
}

VG_TEST(anomaly_hook_counts_when_not_logged)
{
    struct fw_out o = {0};
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    cfg.log_anomaly = false;
    cfg.log_flow = false;
    struct vg_sensor_engine *e = NULL;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, fw_sink, &o, &e), VG_OK);
    vg_sensor_engine_set_protos(e, ctl_tab, 1);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "PASV");
    CHECK_EQ_INT(o.lines, 0);
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.anomalies, 1);
    done(e, &o);
}

/* One UDP exchange whose request is tagged VLAN 10 and whose reply is untagged (asymmetric
 * tagging): two flows by default, one with no_vlan_tracking, its records showing VLAN 10. */
static void vlan_frame(struct vg_sensor_engine *e, bool tagged, bool request, uint64_t cnt)
{
    uint8_t b[256];
    size_t h = tagged ? 18 : 14;
    memset(b, 0, h);
    b[12] = tagged ? 0x81 : 0x08;
    if (tagged) {
        b[15] = 10;
        b[16] = 0x08;
    }
    size_t n = request ? fw_udp4(b + h, FW_CLI, 41000, FW_SRV, 9999, "ping", 4)
                       : fw_udp4(b + h, FW_SRV, 9999, FW_CLI, 41000, "pong", 4);
    struct vg_sensor_frame f = {.data = b,
                                .caplen = (uint32_t)(h + n),
                                .origlen = (uint32_t)(h + n),
                                .ts_ns = 1700000000000000000ULL + cnt * 1000,
                                .linktype = VG_SENSOR_LINK_ETHERNET};
    vg_sensor_engine_frame(e, &f, cnt);
}

VG_TEST(asymmetric_vlan_tags_with_and_without_vlan_tracking)
{
    for (int off = 0; off < 2; off++) {
        struct fw_out o = {0};
        struct vg_sensor_engine_config cfg;
        vg_sensor_engine_config_default(&cfg);
        cfg.detect = false;
        cfg.no_vlan_tracking = off;
        struct vg_sensor_engine *e = NULL;
        CHECK_EQ_INT(vg_sensor_engine_create(&cfg, fw_sink, &o, &e), VG_OK);
        vlan_frame(e, true, true, 1);
        vlan_frame(e, false, false, 2);
        vg_sensor_engine_flush(e);
        CHECK_EQ_INT(fw_count(&o, "\"event_type\":\"flow\""), off ? 1 : 2);
        if (off) {
            CHECK_EQ_INT(fw_count(&o, "\"pkts_toserver\":1,\"pkts_toclient\":1"), 1);
            CHECK_EQ_INT(fw_count(&o, "\"vlan\":[10]"), 1);
        }
        done(e, &o);
    }
}
