/*
 * test_flow.c — sensor flow table: one flow for both directions with per-direction
 * counters, client chosen by the SYN, TCP state transitions, timeouts on the packet clock,
 * eviction at the bound with its counter, flush, and 1M flows.
 */
#include "core/core.h"
#include "sensor/sensor_flow.h"
#include "vgtest.h"

#define SEC 1000000000LL

struct ended {
    int n[4];
    int total;
    uint16_t last_sport;
    uint64_t last_pkts[2];
    uint8_t last_state;
};

static void on_end(void *ctx, struct vg_sensor_flow *f, enum vg_sensor_flow_end why)
{
    struct ended *e = ctx;
    e->n[why]++;
    e->total++;
    e->last_sport = f->key.sport;
    e->last_pkts[0] = f->pkts[0];
    e->last_pkts[1] = f->pkts[1];
    e->last_state = f->tcp_state;
    vg_free(f->user);
    f->user = NULL;
}

static struct vg_flow_key key4(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp, uint8_t proto)
{
    struct vg_flow_key k;
    memset(&k, 0, sizeof(k));
    k.family = VG_SENSOR_FLOW_AF_INET;
    k.proto = proto;
    k.sport = ap;
    k.dport = bp;
    memcpy(k.src, &a, 4);
    memcpy(k.dst, &b, 4);
    return k;
}

static struct vg_flow_key rev(struct vg_flow_key k)
{
    struct vg_flow_key r = k;
    memcpy(r.src, k.dst, 16);
    memcpy(r.dst, k.src, 16);
    r.sport = k.dport;
    r.dport = k.sport;
    return r;
}

static struct vg_sensor_flow *pkt(struct vg_sensor_flow_table *t, struct vg_flow_key k, int64_t ts,
                                  uint32_t bytes, uint32_t payload, uint8_t flags,
                                  enum vg_sensor_flow_dir *dir)
{
    struct vg_flow_pkt p = {.ts_ns = ts, .bytes = bytes, .payload = payload, .tcp_flags = flags};
    struct vg_sensor_flow *f = NULL;
    int rc = vg_sensor_flow_lookup_or_create(t, &k, &p, &f, dir);
    CHECK_EQ_INT(rc, VG_OK);
    return f;
}

VG_TEST(both_directions_one_flow)
{
    struct ended e = {0};
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(NULL, on_end, &e, &t), VG_OK);
    struct vg_flow_key k = key4(0x0a000001, 40000, 0x0a000002, 53, 17);
    enum vg_sensor_flow_dir d;
    struct vg_sensor_flow *f1 = pkt(t, k, 1 * SEC, 80, 52, 0, &d);
    CHECK_EQ_INT(d, VG_SENSOR_FLOW_TO_SERVER);
    f1->user = vg_malloc(16);
    struct vg_sensor_flow *f2 = pkt(t, rev(k), 2 * SEC, 200, 172, 0, &d);
    CHECK(f1 == f2);
    CHECK_EQ_INT(d, VG_SENSOR_FLOW_TO_CLIENT);
    pkt(t, k, 3 * SEC, 90, 62, 0, &d);
    CHECK_EQ_INT(f1->pkts[0], 2);
    CHECK_EQ_INT(f1->pkts[1], 1);
    CHECK_EQ_INT(f1->bytes[0], 170);
    CHECK_EQ_INT(f1->bytes[1], 200);
    CHECK_EQ_INT(f1->payload[0], 114);
    CHECK_EQ_INT(f1->payload[1], 172);
    CHECK_EQ_INT(f1->first_ns, 1 * SEC);
    CHECK_EQ_INT(f1->last_ns, 3 * SEC);
    CHECK_EQ_INT(f1->key.sport, 40000);
    /* another VLAN is another flow */
    struct vg_flow_key kv = k;
    kv.vlan = 7;
    CHECK(pkt(t, kv, 3 * SEC, 1, 0, 0, NULL) != f1);
    struct vg_sensor_flow_stats st;
    vg_sensor_flow_table_stats(t, &st);
    CHECK_EQ_INT(st.active, 2);
    CHECK_EQ_INT(st.packets, 4);
    vg_sensor_flow_table_flush(t);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_FLUSH], 2);
    vg_sensor_flow_table_stats(t, &st);
    CHECK_EQ_INT(st.active, 0);
    CHECK_EQ_INT(st.flushed, 2);
    vg_sensor_flow_table_destroy(t);
}

VG_TEST(tcp_handshake_and_close)
{
    struct ended e = {0};
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(NULL, on_end, &e, &t), VG_OK);
    struct vg_flow_key c2s = key4(0x0a000001, 50000, 0x0a000002, 443, 6), s2c = rev(c2s);
    enum vg_sensor_flow_dir d;
    struct vg_sensor_flow *f = pkt(t, c2s, SEC, 60, 0, VG_SENSOR_TCP_SYN, &d);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_SYN_SENT);
    pkt(t, s2c, SEC + 1, 60, 0, VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK, &d);
    CHECK_EQ_INT(d, VG_SENSOR_FLOW_TO_CLIENT);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_SYN_RECV);
    pkt(t, c2s, SEC + 2, 52, 0, VG_SENSOR_TCP_ACK, &d);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_ESTABLISHED);
    pkt(t, c2s, SEC + 3, 552, 500, VG_SENSOR_TCP_ACK | VG_SENSOR_TCP_PSH, &d);
    pkt(t, c2s, SEC + 4, 52, 0, VG_SENSOR_TCP_FIN | VG_SENSOR_TCP_ACK, &d);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_CLOSING);
    pkt(t, s2c, SEC + 5, 52, 0, VG_SENSOR_TCP_ACK, &d);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_CLOSING);
    pkt(t, s2c, SEC + 6, 52, 0, VG_SENSOR_TCP_FIN | VG_SENSOR_TCP_ACK, &d);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_CLOSED);
    CHECK_STR(vg_sensor_flow_tcp_state_name(f->tcp_state), "closed");
    CHECK_EQ_INT(f->payload[0], 500);
    /* closed flows time out after 10 s by default: 11 s later another packet ends it */
    pkt(t, key4(1, 1, 2, 2, 17), SEC + 11 * SEC, 1, 0, 0, NULL);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_TIMEOUT], 1);
    CHECK_EQ_INT(e.last_state, VG_SENSOR_TCP_CLOSED);
    vg_sensor_flow_table_flush(t);
    vg_sensor_flow_table_destroy(t);
}

/* A client reusing the 5-tuple of a closed connection gets a new flow (port reuse). */
VG_TEST(tcp_port_reuse_starts_a_new_flow)
{
    struct ended e = {0};
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(NULL, on_end, &e, &t), VG_OK);
    struct vg_flow_key c2s = key4(0x0a000001, 50001, 0x0a000002, 80, 6), s2c = rev(c2s);
    struct vg_sensor_flow *f = pkt(t, c2s, SEC, 60, 0, VG_SENSOR_TCP_SYN, NULL);
    pkt(t, s2c, SEC + 1, 60, 0, VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK, NULL);
    pkt(t, c2s, SEC + 2, 52, 0, VG_SENSOR_TCP_ACK, NULL);
    /* a SYN retransmitted on an open connection is not a new connection */
    CHECK(pkt(t, c2s, SEC + 3, 60, 0, VG_SENSOR_TCP_SYN, NULL) == f);
    pkt(t, c2s, SEC + 4, 52, 0, VG_SENSOR_TCP_FIN | VG_SENSOR_TCP_ACK, NULL);
    pkt(t, s2c, SEC + 5, 52, 0, VG_SENSOR_TCP_FIN | VG_SENSOR_TCP_ACK, NULL);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_REUSE], 0);
    struct vg_sensor_flow *g = pkt(t, c2s, SEC + 6, 60, 0, VG_SENSOR_TCP_SYN, NULL);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_REUSE], 1);
    CHECK_EQ_INT(e.last_state, VG_SENSOR_TCP_CLOSED);
    CHECK_EQ_INT(g->tcp_state, VG_SENSOR_TCP_SYN_SENT);
    CHECK_EQ_INT(g->pkts[0], 1);
    struct vg_sensor_flow_stats st;
    vg_sensor_flow_table_stats(t, &st);
    CHECK_EQ_INT(st.created, 2);
    CHECK_EQ_INT(st.reused, 1);
    CHECK_EQ_INT(st.active, 1);
    CHECK_STR(vg_sensor_flow_end_name(VG_SENSOR_FLOW_END_REUSE), "reuse");
    vg_sensor_flow_table_flush(t);
    vg_sensor_flow_table_destroy(t);
}

VG_TEST(tcp_synack_first_and_rst_and_midstream)
{
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(NULL, NULL, NULL, &t), VG_OK);
    /* SYN-ACK seen first (SYN lost): its receiver is the client */
    struct vg_flow_key s2c = key4(0x0a000002, 80, 0x0a000001, 51000, 6);
    enum vg_sensor_flow_dir d;
    struct vg_sensor_flow *f = pkt(t, s2c, SEC, 60, 0, VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK, &d);
    CHECK_EQ_INT(d, VG_SENSOR_FLOW_TO_CLIENT);
    CHECK_EQ_INT(f->key.sport, 51000);
    CHECK_EQ_INT(f->key.dport, 80);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_SYN_RECV);
    pkt(t, rev(s2c), SEC, 52, 0, VG_SENSOR_TCP_ACK, &d);
    CHECK_EQ_INT(d, VG_SENSOR_FLOW_TO_SERVER);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_ESTABLISHED);
    pkt(t, s2c, SEC, 40, 0, VG_SENSOR_TCP_RST, &d);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_CLOSED);
    /* mid-stream pickup: established at once, sender is the client */
    struct vg_flow_key m = key4(0x0a000003, 60000, 0x0a000004, 22, 6);
    f = pkt(t, m, SEC, 100, 48, VG_SENSOR_TCP_ACK | VG_SENSOR_TCP_PSH, &d);
    CHECK_EQ_INT(d, VG_SENSOR_FLOW_TO_SERVER);
    CHECK_EQ_INT(f->tcp_state, VG_SENSOR_TCP_ESTABLISHED);
    vg_sensor_flow_table_destroy(t);
}

VG_TEST(timeouts_follow_packet_clock)
{
    struct ended e = {0};
    struct vg_sensor_flow_config cfg;
    vg_sensor_flow_config_default(&cfg);
    cfg.udp_ns = 10 * SEC;
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(&cfg, on_end, &e, &t), VG_OK);
    int64_t base = 1500000000LL * SEC; /* 2017: pcap time, far from the wall clock */
    struct vg_flow_key udp = key4(1, 1000, 2, 53, 17);
    struct vg_flow_key icmp = key4(1, 5, 2, 5, 1);
    struct vg_flow_key tcp = key4(3, 4000, 4, 80, 6);
    pkt(t, udp, base, 1, 0, 0, NULL);
    pkt(t, icmp, base, 1, 0, 0, NULL);
    pkt(t, tcp, base, 1, 0, VG_SENSOR_TCP_ACK, NULL); /* established: 1 h */
    pkt(t, udp, base + 5 * SEC, 1, 0, 0, NULL);       /* refreshes the UDP deadline */
    vg_sensor_flow_table_expire(t, base + 14 * SEC);
    CHECK_EQ_INT(e.total, 0);
    vg_sensor_flow_table_expire(t, base + 15 * SEC);
    CHECK_EQ_INT(e.total, 1);
    CHECK_EQ_INT(e.last_sport, 1000);
    CHECK_EQ_INT(e.last_pkts[0], 2);
    /* a packet of an unrelated flow 30 s later ends the ICMP flow (30 s) */
    pkt(t, key4(9, 9, 8, 8, 17), base + 30 * SEC, 1, 0, 0, NULL);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_TIMEOUT], 2);
    CHECK_EQ_INT(e.last_sport, 5);
    /* an older packet does not move the clock back, nor expire anything */
    pkt(t, tcp, base + 20 * SEC, 1, 0, VG_SENSOR_TCP_ACK, NULL);
    vg_sensor_flow_table_expire(t, base + 3619 * SEC); /* ends only the UDP flow of :9 */
    CHECK_EQ_INT(e.total, 3);
    CHECK_EQ_INT(e.last_sport, 9);
    vg_sensor_flow_table_expire(t, base + 3620 * SEC); /* TCP established: last + 1 h */
    CHECK_EQ_INT(e.total, 4);
    CHECK_EQ_INT(e.last_sport, 4000);
    struct vg_sensor_flow_stats st;
    vg_sensor_flow_table_stats(t, &st);
    CHECK_EQ_INT(st.timed_out, 4);
    CHECK_EQ_INT(st.active, 0);
    vg_sensor_flow_table_destroy(t);
}

VG_TEST(eviction_at_bound)
{
    struct ended e = {0};
    struct vg_sensor_flow_config cfg;
    vg_sensor_flow_config_default(&cfg);
    cfg.max_flows = 100;
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(&cfg, on_end, &e, &t), VG_OK);
    for (uint32_t i = 0; i < 100; i++) {
        struct vg_sensor_flow *f =
            pkt(t, key4(1, (uint16_t)i, 2, 80, 6), SEC + i, 60, 0, VG_SENSOR_TCP_SYN, NULL);
        f->user = vg_malloc(8); /* released by on_end: ASan checks nothing leaks */
    }
    /* flow 0 is refreshed 1 s later (more than the 30 s / 64 slack): flow 1 is now the
     * longest idle */
    pkt(t, key4(1, 0, 2, 80, 6), 2 * SEC, 60, 0, VG_SENSOR_TCP_SYN, NULL);
    CHECK_EQ_INT(e.total, 0);
    pkt(t, key4(5, 5, 6, 6, 17), 2 * SEC + 1, 60, 0, 0, NULL);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_EVICTED], 1);
    CHECK_EQ_INT(e.last_sport, 1);
    for (uint32_t i = 0; i < 1000; i++) { /* SYN flood: memory stays bounded */
        pkt(t, key4(7, (uint16_t)i, 8, 80, 6), 2 * SEC + 2 + i, 60, 0, VG_SENSOR_TCP_SYN, NULL);
    }
    struct vg_sensor_flow_stats st;
    vg_sensor_flow_table_stats(t, &st);
    CHECK_EQ_INT(st.active, 100);
    CHECK_EQ_INT(st.evicted, 1001);
    CHECK_STR(vg_sensor_flow_end_name(VG_SENSOR_FLOW_END_EVICTED), "evicted");
    vg_sensor_flow_table_flush(t);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_FLUSH], 100);
    vg_sensor_flow_table_destroy(t);
}

VG_TEST(bad_arguments)
{
    struct vg_sensor_flow_config cfg;
    vg_sensor_flow_config_default(&cfg);
    cfg.udp_ns = -1;
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(&cfg, NULL, NULL, &t), VG_EINVAL);
    CHECK(t == NULL);
    CHECK_EQ_INT(vg_sensor_flow_table_create(NULL, NULL, NULL, &t), VG_OK);
    struct vg_flow_key k = key4(1, 1, 2, 2, 17);
    k.family = 5;
    struct vg_flow_pkt p = {.ts_ns = 1};
    struct vg_sensor_flow *f = NULL;
    CHECK_EQ_INT(vg_sensor_flow_lookup_or_create(t, &k, &p, &f, NULL), VG_EINVAL);
    vg_sensor_flow_table_destroy(t);
    vg_sensor_flow_table_destroy(NULL);
}

VG_TEST(ipv6_and_million_flows)
{
    struct ended e = {0};
    struct vg_sensor_flow_table *t = NULL;
    CHECK_EQ_INT(vg_sensor_flow_table_create(NULL, on_end, &e, &t), VG_OK);
    const uint32_t n = 1000000;
    int bad = 0;
    for (uint32_t pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < n; i++) {
            struct vg_flow_key k;
            memset(&k, 0, sizeof(k));
            k.family = VG_SENSOR_FLOW_AF_INET6;
            k.proto = 6;
            k.src[0] = 0x20;
            memcpy(k.src + 12, &i, 4);
            k.dst[0] = 0x20;
            k.dst[15] = 1;
            k.sport = (uint16_t)(i * 7);
            k.dport = 443;
            struct vg_flow_key q = pass ? rev(k) : k;
            enum vg_sensor_flow_dir d;
            struct vg_sensor_flow *f = pkt(t, q, SEC + pass, 100, 10, VG_SENSOR_TCP_ACK, &d);
            if (!f || d != (pass ? VG_SENSOR_FLOW_TO_CLIENT : VG_SENSOR_FLOW_TO_SERVER) ||
                f->pkts[pass] != 1 || memcmp(f->key.src, k.src, 16) != 0) {
                bad++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    struct vg_sensor_flow_stats st;
    vg_sensor_flow_table_stats(t, &st);
    CHECK_EQ_INT(st.active, n);
    CHECK_EQ_INT(st.created, n);
    CHECK_EQ_INT(st.evicted, 0);
    vg_sensor_flow_table_flush(t);
    CHECK_EQ_INT(e.n[VG_SENSOR_FLOW_END_FLUSH], (int)n);
    vg_sensor_flow_table_destroy(t);
}
