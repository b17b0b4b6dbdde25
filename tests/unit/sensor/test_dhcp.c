/*
 * test_dhcp.c — unit tests of the sensor's DHCP parser (src/sensor/sensor_dhcp.c): hand-built
 * BOOTP/DHCP datagrams fed to the parser with a real engine as the record writer; checks the
 * "extended" EVE layout Suricata writes, option overload (52), truncated options and junk.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "vgtest.h"

static char out[1 << 14];
static size_t out_len, out_records;

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
};

static void fx_init(struct fixture *fx)
{
    struct vg_sensor_engine_config cfg;
    memset(fx, 0, sizeof(*fx));
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, sink, NULL, &fx->eng), 0);
    fx->flow.key.family = VG_SENSOR_FLOW_AF_INET;
    fx->flow.key.proto = 17;
    memcpy(fx->flow.key.src, "\x0a\x10\x01\x04", 4);
    memcpy(fx->flow.key.dst, "\x0a\x10\x01\x01", 4);
    fx->flow.key.sport = 68;
    fx->flow.key.dport = 67;
    fx->c.eng = fx->eng;
    fx->c.flow = &fx->flow;
    fx->c.ts_ns = 1451649600000000000LL;
    fx->c.pcap_cnt = 1;
    fx->st = vg_sensor_proto_dhcp.state_new();
    out_len = out_records = 0;
    out[0] = '\0';
}

static void fx_fini(struct fixture *fx)
{
    vg_sensor_proto_dhcp.state_free(fx->st);
    vg_sensor_engine_destroy(fx->eng);
}

/* A BOOTP header (240 bytes with the cookie) followed by opts. */
static size_t build(uint8_t *b, uint8_t op, const uint8_t yiaddr[4], const uint8_t *opts,
                    size_t nopts)
{
    memset(b, 0, 240);
    b[0] = op;
    b[1] = 1;
    b[2] = 6;
    memcpy(b + 4, "\xef\x64\x57\x44", 4); /* xid 4016330564 */
    memcpy(b + 12, "\x0a\x10\x01\x04", 4);
    memcpy(b + 16, yiaddr, 4);
    memcpy(b + 20, "\x0a\x10\x01\x01", 4);
    memcpy(b + 28, "\x00\x11\x32\x17\x49\xf0", 6);
    memcpy(b + 236, "\x63\x82\x53\x63", 4);
    memcpy(b + 240, opts, nopts);
    return 240 + nopts;
}

VG_TEST(dhcp_request_extended)
{
    struct fixture fx;
    uint8_t b[600];
    static const uint8_t opts[] = {
        53, 1, 3, 61, 7,  1, 0,  0x11, 0x32, 0x17, 0x49, 0xf0, 12,  5,   'n', 'a', 's', '1', 0,
        55, 5, 1, 3,  15, 6, 99, 60,   8,    'M',  'S',  'F',  'T', ' ', '5', '.', '0', 255};
    fx_init(&fx);
    size_t n = build(b, 1, (const uint8_t *)"\0\0\0\0", opts, sizeof(opts));
    CHECK_EQ_INT(vg_sensor_proto_dhcp.probe(b, n, VG_SENSOR_FLOW_TO_SERVER), 1);
    fx.c.dir = VG_SENSOR_FLOW_TO_SERVER;
    CHECK_EQ_INT(vg_sensor_proto_dhcp.data(&fx.c, fx.st, b, n), VG_SENSOR_APP_OK);
    CHECK_EQ_INT(out_records, 1);
    CHECK(strstr(out, "\"event_type\":\"dhcp\",\"src_ip\":\"10.16.1.4\",\"src_port\":68") != NULL);
    CHECK(strstr(out,
                 ",\"dhcp\":{\"type\":\"request\",\"id\":4016330564,\"client_mac\":\"00:11:"
                 "32:17:49:f0\",\"assigned_ip\":\"0.0.0.0\",\"client_ip\":\"10.16.1.4\","
                 "\"dhcp_type\":\"request\",\"client_id\":\"00:11:32:17:49:f0\","
                 "\"hostname\":\"nas1\\u0000\",\"params\":[\"subnet_mask\",\"router\","
                 "\"domain\",\"dns_server\"],\"vendor_class_identifier\":\"MSFT 5.0\"}}") != NULL);
    fx_fini(&fx);
}

VG_TEST(dhcp_ack_extended)
{
    struct fixture fx;
    uint8_t b[600];
    static const uint8_t opts[] = {53, 1, 5, 51, 4,  0,   0, 14, 16,  58,  4,  0, 0, 6,  145,
                                   59, 4, 0, 0,  11, 215, 1, 4,  255, 255, 0,  0, 3, 8,  10,
                                   16, 1, 1, 10, 16, 1,   2, 6,  4,   10,  16, 1, 1, 255};
    fx_init(&fx);
    size_t n = build(b, 2, (const uint8_t *)"\x0a\x10\x01\x04", opts, sizeof(opts));
    fx.c.dir = VG_SENSOR_FLOW_TO_CLIENT;
    vg_sensor_proto_dhcp.data(&fx.c, fx.st, b, n);
    CHECK(strstr(out, "\"src_ip\":\"10.16.1.1\",\"src_port\":67,\"dest_ip\":\"10.16.1.4\"") !=
          NULL);
    CHECK(strstr(out, "\"type\":\"reply\",\"id\":4016330564,\"client_mac\":\"00:11:32:17:49:f0\","
                      "\"assigned_ip\":\"10.16.1.4\",\"client_ip\":\"10.16.1.4\",\"relay_ip\":"
                      "\"0.0.0.0\",\"next_server_ip\":\"10.16.1.1\",\"dhcp_type\":\"ack\","
                      "\"lease_time\":3600,\"renewal_time\":1681,\"rebinding_time\":3031,"
                      "\"subnet_mask\":\"255.255.0.0\",\"routers\":[\"10.16.1.1\",\"10.16.1.2\"],"
                      "\"dns_servers\":[\"10.16.1.1\"]}") != NULL);
    fx_fini(&fx);
}

VG_TEST(dhcp_overload_and_truncation)
{
    struct fixture fx;
    uint8_t b[600];
    static const uint8_t opts[] = {53, 1, 2, 52, 1, 2, 255};
    fx_init(&fx);
    size_t n = build(b, 2, (const uint8_t *)"\x0a\x64\x00\x05", opts, sizeof(opts));
    static const uint8_t sname[] = {3, 4, 10, 100, 0, 2, 6, 4, 10, 100, 0, 2, 255};
    memcpy(b + 44, sname, sizeof(sname));
    fx.c.dir = VG_SENSOR_FLOW_TO_CLIENT;
    vg_sensor_proto_dhcp.data(&fx.c, fx.st, b, n);
    CHECK(strstr(out, "\"dhcp_type\":\"offer\",\"routers\":[\"10.100.0.2\"],\"dns_servers\":[\"10."
                      "100.0.2\"]}") != NULL);
    /* an option running past the datagram: logged, plus a truncated_options anomaly */
    static const uint8_t bad[] = {53, 1, 1, 12, 40, 'a', 'b'};
    n = build(b, 1, (const uint8_t *)"\0\0\0\0", bad, sizeof(bad));
    fx.c.dir = VG_SENSOR_FLOW_TO_SERVER;
    vg_sensor_proto_dhcp.data(&fx.c, fx.st, b, n);
    CHECK(strstr(out, "\"dhcp_type\":\"discover\"}") != NULL);
    CHECK(strstr(out, "\"tx_id\":1,\"anomaly\":{\"app_proto\":\"dhcp\",\"type\":\"applayer\","
                      "\"event\":\"truncated_options\"") != NULL);
    /* not DHCP: short, or no magic cookie */
    size_t before = out_records;
    vg_sensor_proto_dhcp.data(&fx.c, fx.st, b, 239);
    b[236] = 0;
    CHECK_EQ_INT(vg_sensor_proto_dhcp.probe(b, n, VG_SENSOR_FLOW_TO_SERVER), 0);
    vg_sensor_proto_dhcp.data(&fx.c, fx.st, b, n);
    CHECK_EQ_INT(out_records, before);
    fx_fini(&fx);
}
