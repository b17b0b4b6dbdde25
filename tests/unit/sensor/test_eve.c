/*
 * test_eve.c — the sensor's EVE record writer (sensor_eve.c): timestamps, address text as
 * Suricata writes it, the JSON member helpers (comma rule, escaping), the common record
 * header (packet, flow and reverse orientation, tx_id, flow_id bounds) and anomaly records;
 * the per-flow header members (sensor_eve_hdr.c): Community ID v1 against the spec's vectors
 * and a seeded one, every VLAN tag, "ether" only with log_ether, oriented like src/dest.
 */
#include "sensor_fw_build.h"
#include "vgtest.h"

static const char *fmt_time(int64_t ns)
{
    static char out[64];
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_sensor_json_time(&s, ns);
    vg_strlcpy(out, s.p ? s.p : "", sizeof(out));
    vg_sbuf_fini(&s);
    return out;
}

VG_TEST(time_format)
{
    CHECK_STR(fmt_time(1451649600123456789LL), "\"2016-01-01T12:00:00.123456+0000\"");
    CHECK_STR(fmt_time(0), "\"1970-01-01T00:00:00.000000+0000\"");
    CHECK_STR(fmt_time(-1000), "\"1969-12-31T23:59:59.999999+0000\"");
    CHECK_STR(fmt_time(951782400LL * 1000000000LL), "\"2000-02-29T00:00:00.000000+0000\"");
    /* the per-thread second cache must not leak into another second */
    CHECK_STR(fmt_time(1451649601000000000LL), "\"2016-01-01T12:00:01.000000+0000\"");
    CHECK_STR(fmt_time(1451649600999999999LL), "\"2016-01-01T12:00:00.999999+0000\"");
}

VG_TEST(address_text)
{
    char out[46];
    uint8_t a4[4] = {10, 0, 0, 1};
    vg_sensor_addr_str(out, VG_SENSOR_FLOW_AF_INET, a4);
    CHECK_STR(out, "10.0.0.1");
    uint8_t b4[4] = {255, 255, 0, 100};
    vg_sensor_addr_str(out, VG_SENSOR_FLOW_AF_INET, b4);
    CHECK_STR(out, "255.255.0.100");
    uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34};
    vg_sensor_addr_str(out, VG_SENSOR_FLOW_AF_INET6, a6);
    CHECK_STR(out, "2001:0db8:0000:0000:0000:8a2e:0370:7334");
}

VG_TEST(member_helpers_comma_rule_and_escaping)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_sbuf_addc(&s, '{');
    vg_sensor_json_kstr(&s, "a", "x\"y\n\x01", 5);
    vg_sensor_json_kint(&s, "b", -5);
    vg_sensor_json_kbool(&s, "c", true);
    vg_sensor_json_kstr(&s, "d", NULL, 0);
    vg_sbuf_adds(&s, ",\"e\":[");
    vg_sensor_json_kint(&s, "f", INT64_MIN);
    vg_sbuf_addc(&s, ']');
    vg_sensor_json_kstr(&s, "g", "\xff", 1);
    vg_sbuf_addc(&s, '}');
    CHECK_STR(s.p, "{\"a\":\"x\\\"y\\n\\u0001\",\"b\":-5,\"c\":true,\"d\":null,\"e\":[\"f\":"
                   "-9223372036854775808],\"g\":\"\xef\xbf\xbd\"}");
    vg_sbuf_fini(&s);
}

/* A record about a decoded UDP packet without a flow: header from the packet. */
VG_TEST(header_from_packet)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    uint8_t b[128];
    size_t n = fw_udp4(b, 0xc0a80001, 5353, 0xc0a80002, 53, "hi", 2);
    struct vg_sensor_pkt pkt;
    CHECK_EQ_INT(vg_sensor_decode(&pkt, VG_SENSOR_LINK_IPV4, b, (uint32_t)n), 0);
    struct vg_sensor_app_ctx c = {
        .eng = e, .flow = NULL, .ts_ns = 1451649600000001000LL, .pcap_cnt = 7, .pkt = &pkt};
    struct vg_sbuf *s = vg_sensor_rec_begin(&c, "test", VG_SENSOR_REC_PACKET, 3);
    vg_sbuf_adds(s, ",\"x\":1");
    vg_sensor_rec_end(&c);
    CHECK_STR(o.all.p, "{\"timestamp\":\"2016-01-01T12:00:00.000001+0000\",\"pcap_cnt\":7,"
                       "\"event_type\":\"test\",\"src_ip\":\"192.168.0.1\",\"src_port\":5353,"
                       "\"dest_ip\":\"192.168.0.2\",\"dest_port\":53,\"proto\":\"UDP\",\"tx_id\":3,"
                       "\"x\":1}\n");
    vg_sensor_engine_destroy(e);
    vg_sbuf_fini(&o.all);
}

/* Records of a TCP flow: flow orientation, packet orientation, reverse; flow ids. */
static struct vg_sbuf seen;
static int orient_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    (void)st;
    (void)p;
    (void)n;
    static const enum vg_sensor_rec_dir dirs[] = {VG_SENSOR_REC_FLOW, VG_SENSOR_REC_PACKET,
                                                  VG_SENSOR_REC_REVERSE};
    for (int i = 0; i < 3; i++) {
        vg_sensor_rec_begin(c, "orient", dirs[i], -1);
        vg_sensor_rec_end(c);
    }
    vg_sbuf_addc(&seen, c->dir == VG_SENSOR_FLOW_TO_SERVER ? 'C' : 'S');
    return VG_SENSOR_APP_OK;
}

static const struct vg_sensor_app_proto orient_proto = {
    .name = "orient", .ipproto = 6, .ports = {7777, 0}, .data = orient_data};
static const struct vg_sensor_app_proto *const orient_tab[] = {&orient_proto};

VG_TEST(header_orientations_and_flow_id)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    vg_sensor_engine_set_protos(e, orient_tab, 1);
    fw_handshake(e, 1, 100);
    fw_s(e, 101, 2, FW_PA, "x"); /* server speaks: packet orientation is server -> client */
    CHECK_EQ_INT(o.lines, 3);
    const char *p = o.all.p;
    const char *l2 = strchr(p, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    CHECK(strstr(p, "\"src_ip\":\"10.0.0.1\",\"src_port\":40000,\"dest_ip\":\"10.0.0.2\"") != NULL);
    CHECK(strncmp(strstr(l2, "\"src_ip\""), "\"src_ip\":\"10.0.0.2\",\"src_port\":7777", 34) == 0);
    CHECK(strncmp(strstr(l3, "\"src_ip\""), "\"src_ip\":\"10.0.0.2\",\"src_port\":7777", 34) == 0);
    const char *id = strstr(p, "\"flow_id\":");
    CHECK(id != NULL);
    unsigned long long fid = id ? strtoull(id + 10, NULL, 10) : 0;
    CHECK(fid > 0);
    CHECK(fid < (1ULL << 53));
    vg_sensor_engine_flush(e);
    /* the flow record carries the same id */
    char want[64];
    snprintf(want, sizeof(want), "\"flow_id\":%llu,", fid);
    CHECK_EQ_INT(fw_count(&o, want), 4);
    CHECK_EQ_INT(fw_count(&o, "\"event_type\":\"flow\""), 1);
    vg_sensor_engine_destroy(e);
    vg_sbuf_fini(&o.all);
    vg_sbuf_fini(&seen);
}

VG_TEST(flow_ids_distinct)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    uint8_t b[128];
    for (uint16_t i = 0; i < 200; i++) {
        size_t n = fw_udp4(b, 0x0a000001, (uint16_t)(1000 + i), 0x0a000002, 9, "z", 1);
        fw_feed(e, b, n, FW_SEC, i + 1);
    }
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(o.lines, 200);
    unsigned long long ids[200];
    int k = 0;
    for (const char *p = o.all.p; (p = strstr(p, "\"flow_id\":")) != NULL && k < 200; p++) {
        ids[k++] = strtoull(p + 10, NULL, 10);
    }
    CHECK_EQ_INT(k, 200);
    int dup = 0;
    for (int i = 0; i < k; i++) {
        CHECK(ids[i] > 0 && ids[i] < (1ULL << 53));
        for (int j = 0; j < i; j++) {
            dup += ids[i] == ids[j];
        }
    }
    CHECK_EQ_INT(dup, 0);
    vg_sensor_engine_destroy(e);
    vg_sbuf_fini(&o.all);
}

VG_TEST(anomaly_record_for_bad_packet)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    uint8_t b[64];
    size_t n = fw_udp4(b, 0x0a000001, 1, 0x0a000002, 2, NULL, 0);
    fw_feed(e, b, 12, FW_SEC, 1); /* cut inside the IPv4 header */
    b[0] = 0x65;                  /* IPv4 slot with version 6 */
    fw_feed(e, b, n, FW_SEC, 2);
    CHECK_EQ_INT(fw_count(&o, "\"anomaly\":{\"type\":\"decode\",\"event\":\"decoder.ipv4."
                              "pkt_too_small\"}"),
                 1);
    CHECK_EQ_INT(fw_count(&o, "\"type\":\"decode\""), 2);
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.anomalies, 2);
    CHECK_EQ_INT(st.decode_errors, 2);
    vg_sensor_engine_destroy(e);
    vg_sbuf_fini(&o.all);
}

/* ------------------------------------------------------------------ sensor_eve_hdr.c */

static void key4(struct vg_flow_key *k, uint8_t proto, const uint8_t s[4], uint16_t sp,
                 const uint8_t d[4], uint16_t dp)
{
    memset(k, 0, sizeof(*k));
    k->family = VG_SENSOR_FLOW_AF_INET;
    k->proto = proto;
    memcpy(k->src, s, 4);
    memcpy(k->dst, d, 4);
    k->sport = sp;
    k->dport = dp;
}

VG_TEST(community_id_v1_vectors)
{
    struct vg_flow_key k;
    char out[32];
    static const uint8_t a[4] = {128, 232, 110, 120}, b[4] = {66, 35, 250, 204};
    key4(&k, 6, a, 34855, b, 80); /* the spec's TCP example, either direction */
    vg_sensor_community_id(&k, 0, 0, 0, out);
    CHECK_STR(out, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    key4(&k, 6, b, 80, a, 34855);
    vg_sensor_community_id(&k, 0, 0, 0, out);
    CHECK_STR(out, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    static const uint8_t h[4] = {192, 168, 0, 89}, g[4] = {192, 168, 0, 1};
    key4(&k, 1, h, 0, g, 0); /* ICMP echo request: type 8 pairs with 0 */
    vg_sensor_community_id(&k, 0, 8, 0, out);
    CHECK_STR(out, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
    static const uint8_t c4[4] = {172, 26, 0, 39}, s4[4] = {172, 217, 14, 206};
    key4(&k, 6, c4, 35958, s4, 443); /* suricata-verify community-id-ipv4, seed 7 */
    vg_sensor_community_id(&k, 7, 0, 0, out);
    CHECK_STR(out, "1:IwiTNfuO7aCaamMijl+7/X9uLx0=");
}

/* Ethernet frame with VLAN tags around an IPv4 UDP datagram. */
static size_t eth_vlan_udp(uint8_t *b, const uint8_t dst[6], const uint8_t src[6],
                           const uint16_t *vlans, size_t nv, uint32_t sip, uint16_t sp,
                           uint32_t dip, uint16_t dp)
{
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    size_t o = 12;
    for (size_t i = 0; i < nv; i++) {
        b[o] = 0x81;
        b[o + 1] = 0x00;
        b[o + 2] = (uint8_t)(vlans[i] >> 8);
        b[o + 3] = (uint8_t)vlans[i];
        o += 4;
    }
    b[o] = 0x08;
    b[o + 1] = 0x00;
    o += 2;
    return o + fw_udp4(b + o, sip, sp, dip, dp, "hi", 2);
}

static size_t run_vlan_ether(bool log_ether, struct fw_out *o)
{
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    cfg.log_ether = log_ether;
    struct vg_sensor_engine *e = NULL;
    if (vg_sensor_engine_create(&cfg, fw_sink, o, &e) != VG_OK) {
        return 0;
    }
    static const uint8_t cm[6] = {0x02, 0, 0, 0, 0, 0xc1}, sm[6] = {0x02, 0, 0, 0, 0, 0x5e};
    static const uint16_t v[2] = {100, 3136};
    uint8_t b[128];
    /* the reply comes first (from the DNS port): the flow is logged from the client */
    size_t n = eth_vlan_udp(b, cm, sm, v, 2, 0x0a000002, 53, 0x0a000001, 40000);
    struct vg_sensor_frame f = {.data = b,
                                .caplen = (uint32_t)n,
                                .origlen = (uint32_t)n,
                                .ts_ns = (uint64_t)FW_SEC,
                                .linktype = VG_SENSOR_LINK_ETHERNET};
    vg_sensor_engine_frame(e, &f, 1);
    vg_sensor_engine_flush(e);
    vg_sensor_engine_destroy(e);
    return (size_t)o->lines;
}

VG_TEST(vlan_list_and_ether_when_configured)
{
    struct fw_out o = {0};
    CHECK(run_vlan_ether(true, &o) >= 1);
    CHECK_EQ_INT(fw_count(&o, "\"event_type\":\"flow\",\"vlan\":[100,3136],\"src_ip\":"
                              "\"10.0.0.1\",\"src_port\":40000"),
                 1);
    /* src is the client: its MAC is the reply's destination */
    CHECK_EQ_INT(
        fw_count(
            &o, "\"ether\":{\"src_mac\":\"02:00:00:00:00:c1\",\"dest_mac\":\"02:00:00:00:00:5e\"}"),
        1);
    vg_sbuf_fini(&o.all);
    struct fw_out o2 = {0};
    CHECK(run_vlan_ether(false, &o2) >= 1);
    CHECK_EQ_INT(fw_count(&o2, "\"ether\""), 0);
    CHECK_EQ_INT(fw_count(&o2, "\"vlan\":[100,3136]"), 1);
    vg_sbuf_fini(&o2.all);
}
