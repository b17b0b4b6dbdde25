/*
 * test_decode.c — the sensor's first layer: the pcap/pcapng reader (sensor_pcap.c) and the packet
 * decoder (sensor_decode.c). Packets are built by hand, layer by layer, for each protocol and for
 * each anomaly; every prefix of tunnelled packets is decoded to show no read goes out of bounds
 * (run under ASan). The real suricata-verify pcaps are read and cross-checked against libpcap
 * (packet count, lengths, timestamps, link type) when ../shared is present.
 */
#include "sensor/sensor_pkt.h"

#include "core/core.h"
#include "vgtest.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ packet builder */

/* Packets grow towards the front: payload first, then each header is prepended. */
struct pb {
    uint8_t buf[4096];
    size_t start;
};

static const uint8_t *pb_data(const struct pb *p)
{
    return p->buf + p->start;
}

static uint32_t pb_len(const struct pb *p)
{
    return (uint32_t)(sizeof p->buf - p->start);
}

static void pb_init(struct pb *p, const char *payload)
{
    size_t n = strlen(payload);
    p->start = sizeof p->buf - n;
    memcpy(p->buf + p->start, payload, n);
}

static uint8_t *pb_push(struct pb *p, size_t n)
{
    p->start -= n;
    memset(p->buf + p->start, 0, n);
    return p->buf + p->start;
}

static void put16(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)(v >> 8);
    q[1] = (uint8_t)v;
}

static void put32(uint8_t *q, uint32_t v)
{
    put16(q, v >> 16);
    put16(q + 2, v);
}

static void pb_tcp(struct pb *p, uint16_t sport, uint16_t dport, uint8_t flags, int optlen)
{
    uint8_t *h = pb_push(p, 20 + (size_t)optlen);
    put16(h, sport);
    put16(h + 2, dport);
    put32(h + 4, 1000);
    put32(h + 8, 2000);
    h[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    h[13] = flags;
    put16(h + 14, 65535);
    memset(h + 20, 1, (size_t)optlen); /* NOP options */
}

static void pb_udp(struct pb *p, uint16_t sport, uint16_t dport)
{
    uint32_t n = pb_len(p);
    uint8_t *h = pb_push(p, 8);
    put16(h, sport);
    put16(h + 2, dport);
    put16(h + 4, n + 8);
}

static void pb_icmp(struct pb *p, uint8_t type, uint8_t code)
{
    uint8_t *h = pb_push(p, 8);
    h[0] = type;
    h[1] = code;
}

static void pb_ipv4(struct pb *p, uint8_t proto, uint8_t src_last, uint8_t dst_last)
{
    uint32_t n = pb_len(p);
    uint8_t *h = pb_push(p, 20);
    h[0] = 0x45;
    put16(h + 2, n + 20);
    put16(h + 4, 0x1234);
    h[8] = 64;
    h[9] = proto;
    const uint8_t s[4] = {10, 0, 0, src_last}, d[4] = {10, 0, 1, dst_last};
    memcpy(h + 12, s, 4);
    memcpy(h + 16, d, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    put16(h + 10, ~sum & 0xffff);
}

static void pb_ipv6(struct pb *p, uint8_t nh)
{
    uint32_t n = pb_len(p);
    uint8_t *h = pb_push(p, 40);
    h[0] = 0x60;
    put16(h + 4, n);
    h[6] = nh;
    h[7] = 255;
    h[8] = 0x20;
    h[9] = 0x01;
    h[23] = 1;
    h[24] = 0x20;
    h[25] = 0x01;
    h[39] = 2;
}

/* An 8-byte IPv6 extension header (hop-by-hop, routing, destination options). */
static void pb_ext6(struct pb *p, uint8_t next)
{
    pb_push(p, 8)[0] = next;
}

static void pb_frag6(struct pb *p, uint8_t next, uint16_t off, int more, uint32_t id)
{
    uint8_t *h = pb_push(p, 8);
    h[0] = next;
    put16(h + 2, (uint32_t)off | (more ? 1u : 0u));
    put32(h + 4, id);
}

static void pb_eth(struct pb *p, uint16_t type)
{
    uint8_t *h = pb_push(p, 14);
    memset(h, 0xaa, 12);
    put16(h + 12, type);
}

static void pb_vlan(struct pb *p, uint16_t id, uint16_t type)
{
    uint8_t *h = pb_push(p, 4);
    put16(h, id);
    put16(h + 2, type);
}

static void pb_gre(struct pb *p, uint16_t flags, uint16_t type, uint32_t key)
{
    size_t n = 4 + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    uint8_t *h = pb_push(p, n);
    put16(h, flags);
    put16(h + 2, type);
    if (flags & 0x2000) {
        put32(h + 4, key);
    }
}

static void pb_vxlan(struct pb *p, uint32_t vni)
{
    uint8_t *h = pb_push(p, 8);
    h[0] = 0x08;
    put32(h + 4, vni << 8);
}

static int dec(struct vg_sensor_pkt *k, uint32_t link, const struct pb *p)
{
    return vg_sensor_decode(k, link, pb_data(p), pb_len(p));
}

/* ------------------------------------------------------------------ layers */

VG_TEST(ethernet_ipv4_tcp_fields)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "hello");
    pb_tcp(&p, 40000, 443, VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK, 4);
    pb_ipv4(&p, 6, 1, 2);
    pb_eth(&p, 0x0800);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.anomaly, 0);
    CHECK_EQ_INT(k.ip_version, 4);
    CHECK(k.ip_csum_ok);
    CHECK(!k.is_fragment);
    CHECK_EQ_INT(k.src[3], 1);
    CHECK_EQ_INT(k.dst[2], 1);
    CHECK_EQ_INT(k.ttl, 64);
    CHECK_EQ_INT(k.proto, 6);
    CHECK_EQ_INT(k.sport, 40000);
    CHECK_EQ_INT(k.dport, 443);
    CHECK_EQ_INT(k.tcp_flags, VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK);
    CHECK_EQ_INT(k.tcp_seq, 1000);
    CHECK_EQ_INT(k.tcp_ack, 2000);
    CHECK_EQ_INT(k.tcp_window, 65535);
    CHECK_EQ_INT(k.tcp_opt_len, 4);
    CHECK_MEM(k.payload, k.payload_len, "hello");
    CHECK_EQ_INT(k.frag_id, 0x1234);
}

VG_TEST(ipv4_checksum_flag_and_padding)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "abc");
    pb_udp(&p, 5353, 53);
    pb_ipv4(&p, 17, 1, 2);
    p.buf[p.start + 10] ^= 0xff; /* corrupt the header checksum */
    pb_eth(&p, 0x0800);
    /* Ethernet padding after the datagram is not payload. */
    uint8_t frame[128];
    memcpy(frame, pb_data(&p), pb_len(&p));
    memset(frame + pb_len(&p), 0, 20);
    CHECK_EQ_INT(vg_sensor_decode(&k, VG_SENSOR_LINK_ETHERNET, frame, pb_len(&p) + 20), 0);
    CHECK(!k.ip_csum_ok);
    CHECK_EQ_INT(k.anomaly, 0);
    CHECK_EQ_INT(k.dport, 53);
    CHECK_MEM(k.payload, k.payload_len, "abc");
    CHECK_EQ_INT(k.l3_len, 20 + 8 + 3);
    /* A snapped datagram (shorter than its total length) is flagged, not an anomaly. */
    CHECK_EQ_INT(vg_sensor_decode(&k, VG_SENSOR_LINK_ETHERNET, frame, pb_len(&p) - 1), 0);
    CHECK(k.ip_truncated);
    CHECK_EQ_INT(k.payload_len, 2);
}

VG_TEST(vlan_and_qinq)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "x");
    pb_udp(&p, 1, 2);
    pb_ipv4(&p, 17, 1, 2);
    pb_vlan(&p, 200, 0x0800);
    pb_vlan(&p, 0x2000 | 100, 0x8100); /* priority bits are not part of the id */
    pb_eth(&p, 0x88a8);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.vlan_count, 2);
    CHECK_EQ_INT(k.vlan[0], 100);
    CHECK_EQ_INT(k.vlan[1], 200);
    CHECK_EQ_INT(k.sport, 1);
    /* Four stacked tags exceed the bound. */
    p.start += 14;
    pb_vlan(&p, 300, 0x88a8);
    pb_vlan(&p, 400, 0x8100);
    pb_eth(&p, 0x9100);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_VLAN_TOO_DEEP);
}

/* PPPoE sessions (PPP protocol compressed to one byte or not) and MPLS label stacks. */
VG_TEST(pppoe_and_mpls)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "pp");
    pb_udp(&p, 5000, 53);
    pb_ipv4(&p, 17, 1, 2);
    size_t iplen = pb_len(&p);
    uint8_t *h = pb_push(&p, 7); /* PPPoE + compressed PPP protocol 0x21 */
    h[0] = 0x11;
    put16(h + 2, 0x1234);
    put16(h + 4, (uint32_t)(iplen + 1));
    h[6] = 0x21;
    pb_eth(&p, 0x8864);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.ip_version, 4);
    CHECK_EQ_INT(k.dport, 53);
    /* the same with the two-byte protocol field and an IPv6 payload */
    pb_init(&p, "pp");
    pb_udp(&p, 5000, 53);
    pb_ipv6(&p, 17);
    iplen = pb_len(&p);
    h = pb_push(&p, 8);
    h[0] = 0x11;
    put16(h + 4, (uint32_t)(iplen + 2));
    put16(h + 6, 0x0057);
    pb_eth(&p, 0x8864);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.ip_version, 6);
    /* LCP carries no network layer; a cut header is an anomaly */
    put16(p.buf + p.start + 14 + 6, 0xc021);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.ip_version, 0);
    struct vg_sensor_pkt cut;
    CHECK_EQ_INT(vg_sensor_decode(&cut, VG_SENSOR_LINK_ETHERNET, pb_data(&p), 14 + 5), VG_EINVAL);
    CHECK_EQ_INT(cut.anomaly, VG_SENSOR_ANOM_PPPOE_TRUNC);
    /* two MPLS labels, then IPv4 */
    pb_init(&p, "mp");
    pb_tcp(&p, 40000, 80, 0x02, 0);
    pb_ipv4(&p, 6, 3, 4);
    h = pb_push(&p, 8);
    put32(h, 100u << 12);
    put32(h + 4, (200u << 12) | 0x100 | 64); /* bottom of stack */
    pb_eth(&p, 0x8847);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.ip_version, 4);
    CHECK_EQ_INT(k.dport, 80);
    /* a stack without its bottom label runs out of bytes */
    put32(p.buf + p.start + 14 + 4, 200u << 12);
    CHECK_EQ_INT(vg_sensor_decode(&cut, VG_SENSOR_LINK_ETHERNET, pb_data(&p), 14 + 8), VG_EINVAL);
    CHECK_EQ_INT(cut.anomaly, VG_SENSOR_ANOM_MPLS_TRUNC);
}

VG_TEST(linux_cooked_v1_v2_and_raw)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "q");
    pb_udp(&p, 53, 9999);
    pb_ipv6(&p, 17);
    size_t ip = p.start;
    uint8_t *h = pb_push(&p, 16);
    put16(h + 14, 0x86dd);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_SLL, &p), 0);
    CHECK_EQ_INT(k.ip_version, 6);
    CHECK_EQ_INT(k.src[0], 0x20);
    CHECK_EQ_INT(k.dst[15], 2);
    CHECK_EQ_INT(k.ttl, 255);
    CHECK_EQ_INT(k.sport, 53);
    p.start = ip;
    h = pb_push(&p, 20);
    put16(h, 0x86dd);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_SLL2, &p), 0);
    CHECK_EQ_INT(k.dport, 9999);
    p.start = ip;
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_IPV6, &p), 0);
    CHECK_EQ_INT(k.proto, 17);
    h = pb_push(&p, 4);
    h[0] = 30; /* AF_INET6 on Linux, host order */
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_NULL, &p), 0);
    CHECK_EQ_INT(k.ip_version, 6);
}

VG_TEST(icmp_and_icmpv6)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "ping");
    pb_icmp(&p, 8, 0);
    pb_ipv4(&p, 1, 1, 2);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_IPV4, &p), 0);
    CHECK_EQ_INT(k.icmp_type, 8);
    CHECK_EQ_INT(k.icmp_code, 0);
    pb_init(&p, "");
    pb_icmp(&p, 1, 4);
    pb_ipv6(&p, 58);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK_EQ_INT(k.icmp_type, 1);
    CHECK_EQ_INT(k.icmp_code, 4);
}

VG_TEST(ipv4_fragments_flagged)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "first");
    pb_udp(&p, 7, 8);
    pb_ipv4(&p, 17, 1, 2);
    p.buf[p.start + 6] = 0x20; /* more fragments, offset 0 */
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK(k.is_fragment);
    CHECK(k.frag_more);
    CHECK_EQ_INT(k.frag_offset, 0);
    CHECK_EQ_INT(k.dport, 8); /* the first fragment carries the UDP header */
    pb_init(&p, "tail");
    pb_ipv4(&p, 17, 1, 2);
    put16(p.buf + p.start + 6, 185); /* last fragment at 1480 bytes */
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK(k.is_fragment);
    CHECK(!k.frag_more);
    CHECK_EQ_INT(k.frag_offset, 1480);
    CHECK(k.l4 == NULL);
    CHECK_MEM(k.payload, k.payload_len, "tail");
}

VG_TEST(ipv6_extension_headers)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "data");
    pb_tcp(&p, 22, 50000, VG_SENSOR_TCP_PSH | VG_SENSOR_TCP_ACK, 0);
    pb_frag6(&p, 6, 0, 1, 0xdeadbeef);
    pb_ext6(&p, 44); /* destination options */
    pb_ext6(&p, 60); /* hop-by-hop */
    pb_ipv6(&p, 0);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK_EQ_INT(k.ipv6_ext_count, 3);
    CHECK_EQ_INT(k.proto, 6);
    CHECK(k.is_fragment);
    CHECK(k.frag_more);
    CHECK_EQ_INT(k.frag_id, 0xdeadbeef);
    CHECK_EQ_INT(k.sport, 22);
    CHECK_MEM(k.payload, k.payload_len, "data");
    /* A non-first fragment: no TCP header. */
    pb_init(&p, "more");
    pb_frag6(&p, 6, 1232, 0, 7);
    pb_ext6(&p, 44); /* routing */
    pb_ipv6(&p, 43);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK_EQ_INT(k.frag_offset, 1232);
    CHECK(k.l4 == NULL);
}

VG_TEST(ipv6_extension_anomalies)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "");
    pb_udp(&p, 1, 2);
    pb_ext6(&p, 17);
    for (int i = 0; i < VG_SENSOR_MAX_IPV6_EXT; i++) {
        pb_ext6(&p, 60);
    }
    pb_ipv6(&p, 60);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV6_EXT_LOOP);
    pb_init(&p, "");
    pb_udp(&p, 1, 2);
    pb_ext6(&p, 17);
    pb_ext6(&p, 0);
    pb_ipv6(&p, 60);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV6_HBH_NOT_FIRST);
    pb_init(&p, "");
    uint8_t *h = pb_push(&p, 8);
    h[1] = 4; /* claims 40 bytes */
    pb_ipv6(&p, 60);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV6_EXT_TRUNC);
}

/* ------------------------------------------------------------------ tunnels */

VG_TEST(gre_tunnel_with_key)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "inner");
    pb_udp(&p, 1111, 2222);
    pb_ipv4(&p, 17, 7, 8);
    pb_gre(&p, 0x2000, 0x0800, 42);
    pb_ipv4(&p, 47, 1, 2);
    pb_eth(&p, 0x0800);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.tunnel, VG_SENSOR_TUN_GRE);
    CHECK_EQ_INT(k.tunnel_depth, 1);
    CHECK(k.has_gre_key);
    CHECK_EQ_INT(k.gre_key, 42);
    CHECK_EQ_INT(k.src[3], 7);
    CHECK_EQ_INT(k.dport, 2222);
    CHECK_MEM(k.payload, k.payload_len, "inner");
}

VG_TEST(erspan_type2_and_vxlan)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "x");
    pb_tcp(&p, 80, 1234, VG_SENSOR_TCP_FIN, 0);
    pb_ipv4(&p, 6, 3, 4);
    pb_eth(&p, 0x0800);
    size_t inner = p.start;
    pb_push(&p, 8); /* ERSPAN II header */
    pb_gre(&p, 0x1000, 0x88be, 0);
    pb_ipv4(&p, 47, 1, 2);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK_EQ_INT(k.tunnel, VG_SENSOR_TUN_ERSPAN);
    CHECK_EQ_INT(k.sport, 80);
    CHECK_EQ_INT(k.tcp_flags, VG_SENSOR_TCP_FIN);
    p.start = inner;
    pb_vxlan(&p, 5001);
    pb_udp(&p, 33333, 4789);
    pb_ipv4(&p, 17, 1, 2);
    pb_eth(&p, 0x0800);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.tunnel, VG_SENSOR_TUN_VXLAN);
    CHECK_EQ_INT(k.vxlan_vni, 5001);
    CHECK_EQ_INT(k.src[3], 3);
    CHECK_EQ_INT(k.dport, 1234);
}

VG_TEST(tunnel_depth_bounded)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "");
    pb_udp(&p, 1, 2);
    pb_ipv4(&p, 17, 9, 9);
    for (int i = 0; i < VG_SENSOR_MAX_TUNNEL; i++) {
        pb_ipv4(&p, 4, (uint8_t)i, 0);
    }
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), 0);
    CHECK_EQ_INT(k.tunnel_depth, VG_SENSOR_MAX_TUNNEL);
    CHECK_EQ_INT(k.src[3], 9);
    pb_ipv4(&p, 4, 0, 0);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_TUNNEL_TOO_DEEP);
}

/* ------------------------------------------------------------------ anomalies */

/* Builds an Ethernet/IPv4 frame around `l4` (n bytes) with protocol proto. */
static void eth_ipv4_raw(struct pb *p, uint8_t proto, const uint8_t *l4, size_t n)
{
    p->start = sizeof p->buf - n;
    memcpy(p->buf + p->start, l4, n);
    pb_ipv4(p, proto, 1, 2);
    pb_eth(p, 0x0800);
}

static int anomaly_of(uint8_t proto, const uint8_t *l4, size_t n)
{
    struct pb p;
    struct vg_sensor_pkt k;
    eth_ipv4_raw(&p, proto, l4, n);
    int rc = dec(&k, VG_SENSOR_LINK_ETHERNET, &p);
    return rc == VG_EINVAL ? k.anomaly : (rc == 0 ? 0 : -1);
}

VG_TEST(transport_anomalies)
{
    uint8_t tcp[24] = {0};
    tcp[12] = 0x40; /* data offset 16 bytes */
    CHECK_EQ_INT(anomaly_of(6, tcp, 20), VG_SENSOR_ANOM_TCP_HLEN_SHORT);
    tcp[12] = 0x70; /* 28 bytes of header in 24 */
    CHECK_EQ_INT(anomaly_of(6, tcp, 24), VG_SENSOR_ANOM_TCP_TRUNC);
    CHECK_EQ_INT(anomaly_of(6, tcp, 19), VG_SENSOR_ANOM_TCP_TRUNC);
    uint8_t udp[8] = {0, 1, 0, 2, 0, 4, 0, 0};
    CHECK_EQ_INT(anomaly_of(17, udp, 8), VG_SENSOR_ANOM_UDP_BAD_LEN);
    CHECK_EQ_INT(anomaly_of(17, udp, 7), VG_SENSOR_ANOM_UDP_TRUNC);
    CHECK_EQ_INT(anomaly_of(1, udp, 3), VG_SENSOR_ANOM_ICMP_TRUNC);
    uint8_t gre[8] = {0x20, 0, 0x08, 0}; /* key flag without the key */
    CHECK_EQ_INT(anomaly_of(47, gre, 4), VG_SENSOR_ANOM_GRE_TRUNC);
    gre[0] = 0;
    gre[1] = 3;
    CHECK_EQ_INT(anomaly_of(47, gre, 8), VG_SENSOR_ANOM_GRE_BAD_VERSION);
    uint8_t vx[16] = {0x12, 0xb5, 0x12, 0xb5, 0, 16, 0, 0}; /* UDP to 4789 */
    CHECK_EQ_INT(anomaly_of(17, vx, 16), VG_SENSOR_ANOM_VXLAN_BAD_FLAGS);
    vx[5] = 12;
    CHECK_EQ_INT(anomaly_of(17, vx, 12), VG_SENSOR_ANOM_VXLAN_TRUNC);
}

VG_TEST(network_and_link_anomalies)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "");
    pb_udp(&p, 1, 2);
    pb_ipv4(&p, 17, 1, 2);
    uint8_t *ip = p.buf + p.start;
    CHECK_EQ_INT(vg_sensor_decode(&k, VG_SENSOR_LINK_RAW, ip, 19), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV4_TRUNC);
    CHECK_STR(vg_sensor_anomaly_name(k.anomaly), "ipv4.truncated_header");
    ip[0] = 0x44;
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV4_BAD_IHL);
    ip[0] = 0x4f; /* 60-byte header in 28 bytes */
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV4_TRUNC);
    ip[0] = 0x45;
    ip[3] = 10;
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_RAW, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV4_BAD_TOTLEN);
    pb_eth(&p, 0x86dd); /* IPv4 bytes under an IPv6 ethertype */
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_IPV6_TRUNC);
    CHECK_EQ_INT(vg_sensor_decode(&k, VG_SENSOR_LINK_ETHERNET, pb_data(&p), 13), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_ETH_TRUNC);
    CHECK_EQ_INT(vg_sensor_decode(&k, VG_SENSOR_LINK_SLL, pb_data(&p), 15), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_SLL_TRUNC);
    CHECK_EQ_INT(vg_sensor_decode(&k, VG_SENSOR_LINK_CHDLC, pb_data(&p), 3), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_NULL_TRUNC);
    CHECK_EQ_INT(vg_sensor_decode(&k, 147, pb_data(&p), 15), VG_EINVAL);
    CHECK_EQ_INT(k.anomaly, VG_SENSOR_ANOM_LINK_UNKNOWN);
    CHECK(k.anomalies == 1u << VG_SENSOR_ANOM_LINK_UNKNOWN);
}

VG_TEST(anomaly_names_distinct)
{
    for (int a = 0; a < VG_SENSOR_ANOM_COUNT; a++) {
        const char *n = vg_sensor_anomaly_name((enum vg_sensor_anomaly)a);
        CHECK(n && strcmp(n, "unknown") != 0);
        for (int b = 0; b < a; b++) {
            CHECK(strcmp(n, vg_sensor_anomaly_name((enum vg_sensor_anomaly)b)) != 0);
        }
    }
    CHECK_STR(vg_sensor_anomaly_name(VG_SENSOR_ANOM_COUNT), "unknown");
}

/* Every prefix of a nested packet decodes without reading past it (ASan checks the bound:
 * each prefix is copied into an exact-size heap block). */
VG_TEST(every_prefix_in_bounds)
{
    struct pb p;
    struct vg_sensor_pkt k;
    pb_init(&p, "payload");
    pb_tcp(&p, 1, 2, 0, 8);
    pb_frag6(&p, 6, 0, 0, 1);
    pb_ext6(&p, 44);
    pb_ipv6(&p, 0);
    pb_eth(&p, 0x86dd);
    pb_vxlan(&p, 1);
    pb_udp(&p, 1, 4789);
    pb_ipv4(&p, 17, 1, 2);
    pb_gre(&p, 0x3000, 0x0800, 5);
    pb_ipv4(&p, 47, 1, 2);
    pb_vlan(&p, 5, 0x0800);
    pb_eth(&p, 0x8100);
    CHECK_EQ_INT(dec(&k, VG_SENSOR_LINK_ETHERNET, &p), 0);
    CHECK_EQ_INT(k.tunnel_depth, 2);
    int anomalies = 0;
    for (uint32_t n = 0; n < pb_len(&p); n++) {
        uint8_t *copy = vg_malloc(n ? n : 1);
        memcpy(copy, pb_data(&p), n);
        anomalies += vg_sensor_decode(&k, VG_SENSOR_LINK_ETHERNET, copy, n) == VG_EINVAL;
        vg_free(copy);
    }
    CHECK(anomalies > 0);
}

/* ------------------------------------------------------------------ file reader */

static size_t le32(uint8_t *q, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        q[i] = (uint8_t)(v >> (8 * i));
    }
    return 4;
}

static size_t le16(uint8_t *q, uint32_t v)
{
    q[0] = (uint8_t)v;
    q[1] = (uint8_t)(v >> 8);
    return 2;
}

/* Classic pcap of two 20-byte frames; big-endian when be (byte-swapped fields). */
static size_t classic_file(uint8_t *f, uint32_t magic, bool be, uint32_t link)
{
    size_t n = 0;
    uint32_t hdr[6] = {magic, 0x00040002, 0, 0, 65535, link}; /* version 2.4 */
    uint32_t rec[2][4] = {{1700000000, 123456, 20, 60}, {1700000001, 7, 20, 20}};
    for (int i = 0; i < 6; i++) {
        uint32_t v = i == 1 ? (be ? 0x00020004 : 0x00040002) : hdr[i];
        n += le32(f + n, be ? __builtin_bswap32(v) : v);
    }
    for (int r = 0; r < 2; r++) {
        for (int i = 0; i < 4; i++) {
            n += le32(f + n, be ? __builtin_bswap32(rec[r][i]) : rec[r][i]);
        }
        memset(f + n, r + 1, 20);
        n += 20;
    }
    return n;
}

VG_TEST(classic_pcap_both_orders_micro_nano)
{
    uint8_t f[256];
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame fr;
    char err[200];
    for (int v = 0; v < 4; v++) {
        bool be = v & 1, nano = v & 2;
        size_t n = classic_file(f, nano ? 0xa1b23c4d : 0xa1b2c3d4, be, 1);
        CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n, err, sizeof err), 0);
        CHECK_EQ_INT(vg_sensor_pcap_format(r), VG_SENSOR_PCAP_CLASSIC);
        CHECK_EQ_INT(vg_sensor_pcap_linktype(r), 1);
        CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
        CHECK_EQ_INT(fr.caplen, 20);
        CHECK_EQ_INT(fr.origlen, 60);
        CHECK_EQ_INT(fr.offset, 24);
        CHECK_EQ_INT(fr.data[0], 1);
        CHECK(fr.ts_ns == 1700000000ull * 1000000000u + (nano ? 123456u : 123456000u));
        CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
        CHECK_EQ_INT(fr.data[19], 2);
        CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_EOF);
        vg_sensor_pcap_destroy(r);
    }
}

VG_TEST(classic_pcap_errors_name_offset)
{
    uint8_t f[256];
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame fr;
    char err[200];
    size_t n = classic_file(f, 0xa1b2c3d4, false, 1);
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n - 1, err, sizeof err), 0);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_ETRUNC);
    CHECK(strstr(vg_sensor_pcap_error(r), "offset 60") != NULL);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_ETRUNC); /* sticky */
    vg_sensor_pcap_destroy(r);
    le32(f + 24 + 8, 5u << 20);
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n, err, sizeof err), 0);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_ELIMIT);
    CHECK(strstr(vg_sensor_pcap_error(r), "offset 24") != NULL);
    vg_sensor_pcap_destroy(r);
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, 20, err, sizeof err), VG_ETRUNC);
    CHECK(r == NULL);
    CHECK(strstr(err, "24 bytes") != NULL);
    CHECK_EQ_INT(
        vg_sensor_pcap_open_mem(&r, (const uint8_t *)"GET / HTTP/1.1", 14, err, sizeof err),
        VG_DECLINED);
    CHECK_EQ_INT(vg_sensor_pcap_open_file(&r, "/nonexistent/x.pcap", err, sizeof err), VG_EIO);
}

/* pcapng block helpers (little-endian). */
static size_t ng_block(uint8_t *f, uint32_t type, const uint8_t *body, size_t n)
{
    size_t total = 12 + ((n + 3) & ~(size_t)3);
    le32(f, type);
    le32(f + 4, (uint32_t)total);
    memset(f + 8, 0, total - 12);
    memcpy(f + 8, body, n);
    le32(f + total - 4, (uint32_t)total);
    return total;
}

static size_t ng_shb(uint8_t *f)
{
    uint8_t b[16] = {0};
    le32(b, 0x1a2b3c4d);
    le16(b + 4, 1);
    memset(b + 8, 0xff, 8); /* section length unknown */
    return ng_block(f, 0x0a0d0d0a, b, 16);
}

static size_t ng_idb(uint8_t *f, uint16_t link, int tsresol)
{
    uint8_t b[24] = {0};
    size_t n = 8;
    le16(b, link);
    le32(b + 4, 65535);
    if (tsresol >= 0) {
        n += le16(b + n, 9);
        n += le16(b + n, 1);
        b[n] = (uint8_t)tsresol;
        n += 4;
        n += 4; /* opt_endofopt */
    }
    return ng_block(f, 1, b, n);
}

static size_t ng_epb(uint8_t *f, uint32_t iface, uint64_t ticks, const char *data)
{
    uint8_t b[128] = {0};
    uint32_t len = (uint32_t)strlen(data);
    le32(b, iface);
    le32(b + 4, (uint32_t)(ticks >> 32));
    le32(b + 8, (uint32_t)ticks);
    le32(b + 12, len);
    le32(b + 16, len);
    memcpy(b + 20, data, len);
    return ng_block(f, 6, b, 20 + len);
}

static size_t build_pcapng(uint8_t *f)
{
    size_t n = ng_shb(f);
    n += ng_idb(f + n, 1, -1);  /* Ethernet, microseconds */
    n += ng_idb(f + n, 101, 9); /* raw IP, nanoseconds */
    n += ng_epb(f + n, 0, 1700000000123456ull, "eth-frame");
    uint8_t nrb[8] = {0};
    n += ng_block(f + n, 4, nrb, 8); /* name resolution: skipped */
    n += ng_epb(f + n, 1, 1700000000123456789ull, "raw");
    uint8_t spb[12] = {0};
    le32(spb, 5);
    memcpy(spb + 4, "simpl", 5);
    n += ng_block(f + n, 3, spb, 9);
    return n;
}

VG_TEST(pcapng_interfaces_resolution_blocks)
{
    uint8_t f[1024];
    size_t n = build_pcapng(f);
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame fr;
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n, NULL, 0), 0);
    CHECK_EQ_INT(vg_sensor_pcap_format(r), VG_SENSOR_PCAP_NG);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
    CHECK_EQ_INT(fr.linktype, 1);
    CHECK_MEM(fr.data, fr.caplen, "eth-frame");
    CHECK(fr.ts_ns == 1700000000123456000ull);
    CHECK_EQ_INT(vg_sensor_pcap_linktype(r), 1);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
    CHECK_EQ_INT(fr.linktype, 101);
    CHECK_EQ_INT(fr.ifindex, 1);
    CHECK(fr.ts_ns == 1700000000123456789ull);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
    CHECK_MEM(fr.data, fr.caplen, "simpl");
    CHECK_EQ_INT(fr.linktype, 1);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_EOF);
    vg_sensor_pcap_destroy(r);
}

VG_TEST(pcapng_errors_name_offset)
{
    uint8_t f[1024];
    size_t n = build_pcapng(f);
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame fr;
    size_t shb = 28, epb0 = 28 + 20 + 32;
    le32(f + epb0 + 8, 7); /* interface 7 does not exist */
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n, NULL, 0), 0);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_EINVAL);
    CHECK(strstr(vg_sensor_pcap_error(r), "pcapng at offset 80") != NULL);
    CHECK(strstr(vg_sensor_pcap_error(r), "interface 7") != NULL);
    vg_sensor_pcap_destroy(r);
    le32(f + shb + 4, 22); /* IDB length not a multiple of 4 */
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n, NULL, 0), 0);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_EINVAL);
    CHECK(strstr(vg_sensor_pcap_error(r), "offset 28") != NULL);
    vg_sensor_pcap_destroy(r);
    n = build_pcapng(f);
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n - 2, NULL, 0), 0);
    int rc, frames = 0;
    while ((rc = vg_sensor_pcap_next(r, &fr)) == 0) {
        frames++;
    }
    CHECK_EQ_INT(frames, 2);
    CHECK_EQ_INT(rc, VG_ETRUNC);
    vg_sensor_pcap_destroy(r);
    f[8] ^= 0xff; /* byte-order magic */
    CHECK_EQ_INT(vg_sensor_pcap_open_mem(&r, f, n, NULL, 0), 0);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_EINVAL);
    CHECK(strstr(vg_sensor_pcap_error(r), "byte-order magic") != NULL);
    vg_sensor_pcap_destroy(r);
}

/* ------------------------------------------------------------------ real pcaps */

struct corpus_stats {
    long files, packets, decoded_ip, anomalies, mismatches, libpcap_refused;
    long by_kind[VG_SENSOR_ANOM_COUNT];
};

/* libpcap reports link types as DLT values: LINKTYPE_RAW (101) is DLT_RAW (12 on Linux). */
static bool same_link(uint32_t linktype, int dlt)
{
    return (int)linktype == dlt || (linktype == VG_SENSOR_LINK_RAW && dlt == DLT_RAW);
}

static bool same_frame(const struct vg_sensor_frame *fr, const struct pcap_pkthdr *h,
                       const u_char *d, int dlt)
{
    return fr->caplen == h->caplen && fr->origlen == h->len &&
           fr->ts_ns / 1000 == (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec &&
           same_link(fr->linktype, dlt) && memcmp(fr->data, d, fr->caplen) == 0;
}

static void count_packet(struct corpus_stats *st, const struct vg_sensor_frame *fr)
{
    struct vg_sensor_pkt k;
    st->packets++;
    st->anomalies += vg_sensor_decode(&k, fr->linktype, fr->data, fr->caplen) != 0;
    st->by_kind[k.anomaly]++;
    st->decoded_ip += k.ip_version != 0;
}

/* Reads path with our reader and with libpcap; counts disagreements on count/len/ts/link. */
static void cross_check(const char *path, struct corpus_stats *st)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *lp = pcap_open_offline(path, err);
    struct vg_sensor_pcap *r = NULL;
    if (!lp || vg_sensor_pcap_open_file(&r, path, err, sizeof err) != 0) {
        fprintf(stderr, "  %s: %s\n", path, err);
        st->mismatches++;
        goto out;
    }
    st->files++;
    struct pcap_pkthdr *h;
    const u_char *d;
    struct vg_sensor_frame fr;
    int lrc;
    while ((lrc = pcap_next_ex(lp, &h, &d)) == 1) {
        if (vg_sensor_pcap_next(r, &fr) != 0 || !same_frame(&fr, h, d, pcap_datalink(lp))) {
            fprintf(stderr, "  %s: packet %ld differs from libpcap\n", path, st->packets);
            st->mismatches++;
            goto out;
        }
        count_packet(st, &fr);
    }
    if (lrc == -1) {
        /* libpcap refuses some valid files (pcapng with mixed link types): read on alone */
        st->libpcap_refused++;
        while (vg_sensor_pcap_next(r, &fr) == 0) {
            count_packet(st, &fr);
        }
    }
    if (vg_sensor_pcap_next(r, &fr) != VG_EOF) {
        fprintf(stderr, "  %s: more packets than libpcap\n", path);
        st->mismatches++;
    }
out:
    if (lp) {
        pcap_close(lp);
    }
    vg_sensor_pcap_destroy(r);
}

static bool is_pcap_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 5 && strcmp(n + l - 5, ".pcap") == 0) ||
           (l > 7 && strcmp(n + l - 7, ".pcapng") == 0);
}

static void walk(const char *dir, int depth, struct corpus_stats *st)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[1024];
        struct stat sb;
        if (e->d_name[0] == '.' ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            stat(path, &sb) != 0) {
            continue;
        }
        if (S_ISDIR(sb.st_mode) && depth < 4) {
            walk(path, depth + 1, st);
        } else if (S_ISREG(sb.st_mode) && is_pcap_name(e->d_name)) {
            cross_check(path, st);
        }
    }
    if (d) {
        closedir(d);
    }
}

VG_TEST(suricata_verify_pcaps_match_libpcap)
{
    const char *base = vgt_shared("corpus/suricata-verify");
    struct stat sb;
    if (!base || stat(base, &sb) != 0) {
        VG_SKIP("../shared/corpus/suricata-verify absent");
    }
    char root[1024];
    snprintf(root, sizeof root, "%s", base);
    struct corpus_stats st = {0};
    walk(root, 0, &st);
    fprintf(stderr, "  %ld pcaps, %ld packets, %ld with IP, %ld with anomalies\n", st.files,
            st.packets, st.decoded_ip, st.anomalies);
    CHECK_EQ_INT(st.libpcap_refused, 0);
    for (int a = 1; a < VG_SENSOR_ANOM_COUNT; a++) {
        if (st.by_kind[a]) {
            fprintf(stderr, "    %s: %ld\n", vg_sensor_anomaly_name((enum vg_sensor_anomaly)a),
                    st.by_kind[a]);
        }
    }
    CHECK_EQ_INT(st.mismatches, 0);
    CHECK(st.files > 0);
    CHECK(st.decoded_ip > st.packets / 2);
}

VG_TEST(dns_pcap_known_fields)
{
    const char *path =
        vgt_shared("corpus/suricata-verify/pcaps/20250224-dns-additionals-with-cname.pcap");
    struct stat sb;
    if (!path || stat(path, &sb) != 0) {
        VG_SKIP("suricata-verify DNS pcap absent");
    }
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame fr;
    struct vg_sensor_pkt k;
    CHECK_EQ_INT(vg_sensor_pcap_open_file(&r, path, NULL, 0), 0);
    CHECK_EQ_INT(vg_sensor_pcap_linktype(r), VG_SENSOR_LINK_IPV4);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
    CHECK_EQ_INT(vg_sensor_decode(&k, fr.linktype, fr.data, fr.caplen), 0);
    const uint8_t client[4] = {10, 16, 1, 11}, google[4] = {8, 8, 8, 8};
    CHECK(memcmp(k.src, client, 4) == 0 && memcmp(k.dst, google, 4) == 0);
    CHECK(k.ip_csum_ok);
    CHECK_EQ_INT(k.proto, 17);
    CHECK_EQ_INT(k.dport, 53);
    CHECK_EQ_INT(k.payload_len, 57 - 28);
    CHECK(fr.ts_ns == 1740418285221121000ull);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
    CHECK_EQ_INT(vg_sensor_decode(&k, fr.linktype, fr.data, fr.caplen), 0);
    CHECK(memcmp(k.src, google, 4) == 0);
    CHECK_EQ_INT(k.sport, 53);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), VG_EOF);
    vg_sensor_pcap_destroy(r);
}

/* The fuzz seeds (generated pcap, pcapng with two interfaces and ns resolution, SLL2, raw IP) read
 * the same through libpcap and decode without anomalies. */
VG_TEST(fuzz_seeds_match_libpcap)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/sensor_pcap", vgt_source_dir());
    struct corpus_stats st = {0};
    walk(dir, 0, &st);
    CHECK_EQ_INT(st.mismatches, 0);
    CHECK_EQ_INT(st.files, 6);
    CHECK_EQ_INT(st.libpcap_refused, 1); /* mixed_links.pcapng */
    CHECK_EQ_INT(st.anomalies, 0);
    CHECK_EQ_INT(st.packets, 7 * 2 + 2 + 1 + (3 * 2 + 1) + (2 * 2 + 1));
    CHECK_EQ_INT(st.decoded_ip, st.packets);
}

/* tcpdump's vxlan.pcap (in suricata-verify): VXLAN VNI 100 carrying ICMP between two hosts. */
VG_TEST(vxlan_pcap_known_fields)
{
    const char *path = vgt_shared("corpus/suricata-verify/tests/vxlan-decoder-02/vxlan.pcap");
    struct stat sb;
    if (!path || stat(path, &sb) != 0) {
        VG_SKIP("suricata-verify vxlan pcap absent");
    }
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame fr;
    struct vg_sensor_pkt k;
    CHECK_EQ_INT(vg_sensor_pcap_open_file(&r, path, NULL, 0), 0);
    CHECK_EQ_INT(vg_sensor_pcap_next(r, &fr), 0);
    CHECK_EQ_INT(vg_sensor_decode(&k, fr.linktype, fr.data, fr.caplen), 0);
    CHECK_EQ_INT(k.tunnel, VG_SENSOR_TUN_VXLAN);
    CHECK_EQ_INT(k.vxlan_vni, 100);
    const uint8_t src[4] = {192, 168, 203, 3}, dst[4] = {192, 168, 203, 5};
    CHECK(memcmp(k.src, src, 4) == 0 && memcmp(k.dst, dst, 4) == 0);
    CHECK_EQ_INT(k.proto, 1);
    CHECK_EQ_INT(k.icmp_type, 8);
    vg_sensor_pcap_destroy(r);
}
