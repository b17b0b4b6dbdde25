/*
 * sensor_decode.c — packet decoder for vigie-sensor (see sensor_pkt.h): link layer (Ethernet,
 * 802.1Q/802.1ad VLAN and QinQ, Linux cooked SLL/SLL2, BSD loopback, Cisco HDLC, raw IP), IPv4
 * (checksum flag, fragments flagged), IPv6 (extension headers walked, bounded), TCP, UDP,
 * ICMP/ICMPv6, and GRE (with ERSPAN type I/II), VXLAN and IP-in-IP tunnels decoded into the inner
 * packet up to VG_SENSOR_MAX_TUNNEL deep. Sits between the frame source (sensor_pcap.c or a live
 * capture) and the flow table.
 *
 * Every layer checks the bytes left before reading; a malformed layer records an anomaly and
 * stops the decode. No allocation, no global state: safe from any number of threads.
 */
#include "sensor_pkt.h"

#include "core/core.h"

#include <string.h>

#define ETH_IPV4     0x0800
#define ETH_IPV6     0x86dd
#define ETH_VLAN     0x8100
#define ETH_QINQ     0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_TEB      0x6558 /* transparent Ethernet bridging (GRE) */
#define ETH_ERSPAN2  0x88be /* ERSPAN type I/II */
#define ETH_PPPOE    0x8864 /* PPPoE session stage (discovery, 0x8863, carries no IP) */
#define ETH_MPLS     0x8847 /* MPLS unicast */
#define ETH_MPLS_MC  0x8848 /* MPLS multicast */
#define PPP_IPV4     0x0021
#define PPP_IPV6     0x0057
#define VXLAN_PORT   4789

static const char *const anomaly_names[VG_SENSOR_ANOM_COUNT] = {
    [VG_SENSOR_ANOM_NONE] = "none",
    [VG_SENSOR_ANOM_LINK_UNKNOWN] = "link.unknown_type",
    [VG_SENSOR_ANOM_ETH_TRUNC] = "ethernet.truncated",
    [VG_SENSOR_ANOM_PPPOE_TRUNC] = "pppoe.truncated",
    [VG_SENSOR_ANOM_MPLS_TRUNC] = "mpls.truncated",
    [VG_SENSOR_ANOM_VLAN_TRUNC] = "vlan.truncated",
    [VG_SENSOR_ANOM_VLAN_TOO_DEEP] = "vlan.too_many_layers",
    [VG_SENSOR_ANOM_SLL_TRUNC] = "sll.truncated",
    [VG_SENSOR_ANOM_NULL_TRUNC] = "null.truncated",
    [VG_SENSOR_ANOM_IPV4_TRUNC] = "ipv4.truncated_header",
    [VG_SENSOR_ANOM_IPV4_BAD_VERSION] = "ipv4.wrong_version",
    [VG_SENSOR_ANOM_IPV4_BAD_IHL] = "ipv4.bad_ihl",
    [VG_SENSOR_ANOM_IPV4_BAD_TOTLEN] = "ipv4.bad_total_length",
    [VG_SENSOR_ANOM_IPV6_TRUNC] = "ipv6.truncated_header",
    [VG_SENSOR_ANOM_IPV6_BAD_VERSION] = "ipv6.wrong_version",
    [VG_SENSOR_ANOM_IPV6_EXT_TRUNC] = "ipv6.truncated_extension_header",
    [VG_SENSOR_ANOM_IPV6_EXT_LOOP] = "ipv6.extension_header_loop",
    [VG_SENSOR_ANOM_IPV6_HBH_NOT_FIRST] = "ipv6.hop_by_hop_not_first",
    [VG_SENSOR_ANOM_TCP_TRUNC] = "tcp.truncated_header",
    [VG_SENSOR_ANOM_TCP_HLEN_SHORT] = "tcp.header_too_short",
    [VG_SENSOR_ANOM_UDP_TRUNC] = "udp.truncated_header",
    [VG_SENSOR_ANOM_UDP_BAD_LEN] = "udp.bad_length",
    [VG_SENSOR_ANOM_ICMP_TRUNC] = "icmp.truncated_header",
    [VG_SENSOR_ANOM_GRE_TRUNC] = "gre.truncated_header",
    [VG_SENSOR_ANOM_GRE_BAD_VERSION] = "gre.bad_version",
    [VG_SENSOR_ANOM_VXLAN_TRUNC] = "vxlan.truncated_header",
    [VG_SENSOR_ANOM_VXLAN_BAD_FLAGS] = "vxlan.bad_flags",
    [VG_SENSOR_ANOM_TUNNEL_TOO_DEEP] = "tunnel.too_deep",
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Records an anomaly; returns VG_EINVAL so layers can `return anomaly(...)`. */
static int anomaly(struct vg_sensor_pkt *pkt, enum vg_sensor_anomaly a)
{
    if (!pkt->anomaly) {
        pkt->anomaly = (uint16_t)a;
    }
    pkt->anomalies |= 1u << a;
    return VG_EINVAL;
}

static int decode_ethertype(struct vg_sensor_pkt *pkt, uint16_t type, const uint8_t *p,
                            uint32_t len);
static int decode_ethernet(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len);
static int decode_ip(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len);

/* ------------------------------------------------------------------ tunnels */

/* Enters a tunnel: clears the outer L3/L4 view, checks the depth bound. */
static int tunnel_enter(struct vg_sensor_pkt *pkt, enum vg_sensor_tunnel kind)
{
    if (pkt->tunnel_depth >= VG_SENSOR_MAX_TUNNEL) {
        return anomaly(pkt, VG_SENSOR_ANOM_TUNNEL_TOO_DEEP);
    }
    if (!pkt->tunnel_depth++) {
        pkt->tunnel = (uint8_t)kind;
    }
    pkt->ip_version = 0;
    pkt->l3 = NULL;
    pkt->l3_len = 0;
    pkt->l4 = NULL;
    pkt->payload = NULL;
    pkt->payload_len = 0;
    pkt->sport = pkt->dport = 0;
    pkt->is_fragment = pkt->frag_more = false;
    pkt->frag_offset = 0;
    pkt->ipv6_ext_count = 0;
    return 0;
}

/* GRE (RFC 2784/2890): optional checksum, key, sequence; ERSPAN II after a sequence number. */
static int decode_gre(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 4) {
        return anomaly(pkt, VG_SENSOR_ANOM_GRE_TRUNC);
    }
    uint16_t flags = be16(p), type = be16(p + 2);
    uint32_t hlen =
        4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    if ((flags & 7) > 1) {
        return anomaly(pkt, VG_SENSOR_ANOM_GRE_BAD_VERSION);
    }
    if (len < hlen) {
        return anomaly(pkt, VG_SENSOR_ANOM_GRE_TRUNC);
    }
    if ((flags & 7) == 1 || (flags & 0x4000)) {
        return 0; /* PPTP enhanced GRE or source routing: not decoded further */
    }
    if (flags & 0x2000) {
        pkt->has_gre_key = true;
        pkt->gre_key = be32(p + 4 + ((flags & 0x8000) ? 4 : 0));
    }
    bool erspan = type == ETH_ERSPAN2;
    if (erspan && (flags & 0x1000)) {
        hlen += 8; /* ERSPAN type II header; type I has none */
        if (len < hlen) {
            return anomaly(pkt, VG_SENSOR_ANOM_GRE_TRUNC);
        }
    }
    if (tunnel_enter(pkt, erspan ? VG_SENSOR_TUN_ERSPAN : VG_SENSOR_TUN_GRE) != 0) {
        return VG_EINVAL;
    }
    if (erspan || type == ETH_TEB) {
        return decode_ethernet(pkt, p + hlen, len - hlen);
    }
    return decode_ethertype(pkt, type, p + hlen, len - hlen);
}

/* VXLAN (RFC 7348): 8-byte header with the I flag, then an Ethernet frame. */
static int decode_vxlan(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 8) {
        return anomaly(pkt, VG_SENSOR_ANOM_VXLAN_TRUNC);
    }
    if (!(p[0] & 0x08)) {
        return anomaly(pkt, VG_SENSOR_ANOM_VXLAN_BAD_FLAGS);
    }
    uint32_t vni = be32(p + 4) >> 8;
    if (tunnel_enter(pkt, VG_SENSOR_TUN_VXLAN) != 0) {
        return VG_EINVAL;
    }
    pkt->vxlan_vni = vni;
    return decode_ethernet(pkt, p + 8, len - 8);
}

/* ------------------------------------------------------------------ transport */

static int decode_tcp(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 20) {
        return anomaly(pkt, VG_SENSOR_ANOM_TCP_TRUNC);
    }
    uint32_t hlen = (uint32_t)(p[12] >> 4) * 4;
    if (hlen < 20) {
        return anomaly(pkt, VG_SENSOR_ANOM_TCP_HLEN_SHORT);
    }
    if (hlen > len) {
        return anomaly(pkt, VG_SENSOR_ANOM_TCP_TRUNC);
    }
    pkt->l4 = p;
    pkt->sport = be16(p);
    pkt->dport = be16(p + 2);
    pkt->tcp_seq = be32(p + 4);
    pkt->tcp_ack = be32(p + 8);
    pkt->tcp_flags = (uint16_t)(p[13] | (p[12] & 1) << 8);
    pkt->tcp_window = be16(p + 14);
    pkt->tcp_opt_len = (uint8_t)(hlen - 20);
    pkt->payload = p + hlen;
    pkt->payload_len = len - hlen;
    return 0;
}

static int decode_udp(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 8) {
        return anomaly(pkt, VG_SENSOR_ANOM_UDP_TRUNC);
    }
    uint16_t ulen = be16(p + 4);
    if (ulen < 8) {
        return anomaly(pkt, VG_SENSOR_ANOM_UDP_BAD_LEN);
    }
    pkt->l4 = p;
    pkt->sport = be16(p);
    pkt->dport = be16(p + 2);
    pkt->payload = p + 8;
    pkt->payload_len = (ulen < len ? ulen : len) - 8; /* trim padding; keep a snapped tail */
    if (pkt->dport == VXLAN_PORT && !pkt->is_fragment) {
        return decode_vxlan(pkt, pkt->payload, pkt->payload_len);
    }
    return 0;
}

static int decode_icmp(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 4) {
        return anomaly(pkt, VG_SENSOR_ANOM_ICMP_TRUNC);
    }
    pkt->l4 = p;
    pkt->icmp_type = p[0];
    pkt->icmp_code = p[1];
    pkt->payload = p + 4;
    pkt->payload_len = len - 4;
    return 0;
}

/* Dispatches on the upper-layer protocol; a non-first fragment has no L4 header. */
static int decode_l4(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (pkt->frag_offset != 0) {
        pkt->payload = p;
        pkt->payload_len = len;
        return 0;
    }
    switch (pkt->proto) {
    case 6:
        return decode_tcp(pkt, p, len);
    case 17:
        return decode_udp(pkt, p, len);
    case 1:
    case 58:
        return decode_icmp(pkt, p, len);
    case 47:
        return decode_gre(pkt, p, len);
    case 4:
    case 41:
        return tunnel_enter(pkt, VG_SENSOR_TUN_IPIP) != 0 ? VG_EINVAL : decode_ip(pkt, p, len);
    default:
        pkt->payload = p;
        pkt->payload_len = len;
        return 0;
    }
}

/* ------------------------------------------------------------------ network */

bool vg_sensor_ipv4_csum_ok(const uint8_t *hdr, uint32_t hlen)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i + 1 < hlen; i += 2) {
        sum += be16(hdr + i);
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum == 0xffff;
}

static int decode_ipv4(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 20) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV4_TRUNC);
    }
    if (p[0] >> 4 != 4) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV4_BAD_VERSION);
    }
    uint32_t hlen = (uint32_t)(p[0] & 0x0f) * 4, tot = be16(p + 2);
    if (hlen < 20) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV4_BAD_IHL);
    }
    if (hlen > len) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV4_TRUNC);
    }
    if (tot < hlen) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV4_BAD_TOTLEN);
    }
    pkt->ip_version = 4;
    pkt->ip_truncated = tot > len;
    pkt->l3 = p;
    pkt->l3_len = tot < len ? tot : len; /* drop Ethernet padding */
    pkt->ttl = p[8];
    pkt->proto = p[9];
    memset(pkt->src, 0, sizeof pkt->src);
    memset(pkt->dst, 0, sizeof pkt->dst);
    memcpy(pkt->src, p + 12, 4);
    memcpy(pkt->dst, p + 16, 4);
    pkt->ip_csum_ok = vg_sensor_ipv4_csum_ok(p, hlen);
    uint16_t frag = be16(p + 6);
    pkt->frag_id = be16(p + 4);
    pkt->frag_more = (frag & 0x2000) != 0;
    pkt->frag_offset = (uint16_t)((frag & 0x1fff) * 8);
    pkt->is_fragment = pkt->frag_more || pkt->frag_offset;
    return decode_l4(pkt, p + hlen, pkt->l3_len - hlen);
}

/* Walks one IPv6 extension header at *off; updates *nh and *off. */
static int ipv6_ext(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len, uint8_t *nh,
                    uint32_t *off)
{
    if (len - *off < 8) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV6_EXT_TRUNC);
    }
    const uint8_t *e = p + *off;
    uint32_t elen = *nh == 44 ? 8 : (*nh == 51 ? ((uint32_t)e[1] + 2) * 4 : (uint32_t)e[1] * 8 + 8);
    if (elen > len - *off) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV6_EXT_TRUNC);
    }
    if (*nh == 0 && *off != 40) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV6_HBH_NOT_FIRST);
    }
    if (*nh == 44) {
        uint16_t fo = be16(e + 2);
        pkt->frag_offset = fo & 0xfff8;
        pkt->frag_more = fo & 1;
        pkt->frag_id = be32(e + 4);
        pkt->is_fragment = true;
    }
    *nh = e[0];
    *off += elen;
    return 0;
}

static bool ipv6_is_ext(uint8_t nh)
{
    return nh == 0 || nh == 43 || nh == 44 || nh == 60 || nh == 51;
}

static int decode_ipv6(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 40) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV6_TRUNC);
    }
    if (p[0] >> 4 != 6) {
        return anomaly(pkt, VG_SENSOR_ANOM_IPV6_BAD_VERSION);
    }
    uint32_t tot = 40u + be16(p + 4);
    pkt->ip_version = 6;
    pkt->ip_csum_ok = false;
    pkt->ip_truncated = tot > len;
    pkt->l3 = p;
    pkt->l3_len = tot < len ? tot : len;
    pkt->ttl = p[7];
    memcpy(pkt->src, p + 8, 16);
    memcpy(pkt->dst, p + 24, 16);
    uint8_t nh = p[6];
    uint32_t off = 40;
    while (ipv6_is_ext(nh)) {
        if (pkt->ipv6_ext_count++ >= VG_SENSOR_MAX_IPV6_EXT) {
            return anomaly(pkt, VG_SENSOR_ANOM_IPV6_EXT_LOOP);
        }
        if (ipv6_ext(pkt, p, pkt->l3_len, &nh, &off) != 0) {
            return VG_EINVAL;
        }
    }
    pkt->proto = nh;
    return decode_l4(pkt, p + off, pkt->l3_len - off);
}

/* Raw IP: the version nibble chooses. */
static int decode_ip(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len >= 1 && p[0] >> 4 == 6) {
        return decode_ipv6(pkt, p, len);
    }
    return decode_ipv4(pkt, p, len);
}

/* ------------------------------------------------------------------ link */

static int decode_vlan(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 4) {
        return anomaly(pkt, VG_SENSOR_ANOM_VLAN_TRUNC);
    }
    if (pkt->vlan_count >= VG_SENSOR_MAX_VLAN) {
        return anomaly(pkt, VG_SENSOR_ANOM_VLAN_TOO_DEEP);
    }
    pkt->vlan[pkt->vlan_count++] = be16(p) & 0x0fff;
    return decode_ethertype(pkt, be16(p + 2), p + 4, len - 4);
}

/*
 * PPPoE session (RFC 2516): version/type, code, session id, length, then PPP's protocol field,
 * one byte when compressed (odd first byte, RFC 1661 §6.5) or two. IPv4 and IPv6 are decoded;
 * other PPP protocols (LCP, IPCP, ...) carry no network layer.
 */
static int decode_pppoe(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 7) {
        return anomaly(pkt, VG_SENSOR_ANOM_PPPOE_TRUNC);
    }
    uint32_t plen = be16(p + 4);
    if (plen + 6 < len) {
        len = plen + 6; /* Ethernet padding after the session payload */
    }
    uint32_t hlen = (p[6] & 1) ? 7 : 8;
    if (len < hlen) {
        return anomaly(pkt, VG_SENSOR_ANOM_PPPOE_TRUNC);
    }
    uint16_t proto = hlen == 7 ? p[6] : be16(p + 6);
    if (proto == PPP_IPV4) {
        return decode_ipv4(pkt, p + hlen, len - hlen);
    }
    return proto == PPP_IPV6 ? decode_ipv6(pkt, p + hlen, len - hlen) : 0;
}

/* MPLS: 4-byte labels up to the bottom-of-stack bit; the payload's version nibble says IPv4
 * or IPv6 (anything else, e.g. a pseudowire, is not decoded). */
static int decode_mpls(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    for (int labels = 0; labels < 16; labels++) {
        if (len < 4) {
            return anomaly(pkt, VG_SENSOR_ANOM_MPLS_TRUNC);
        }
        bool bottom = p[2] & 1;
        p += 4;
        len -= 4;
        if (bottom) {
            if (len && (p[0] >> 4) == 4) {
                return decode_ipv4(pkt, p, len);
            }
            return len && (p[0] >> 4) == 6 ? decode_ipv6(pkt, p, len) : 0;
        }
    }
    return anomaly(pkt, VG_SENSOR_ANOM_MPLS_TRUNC);
}

static int decode_ethertype(struct vg_sensor_pkt *pkt, uint16_t type, const uint8_t *p,
                            uint32_t len)
{
    switch (type) {
    case ETH_PPPOE:
        return decode_pppoe(pkt, p, len);
    case ETH_MPLS:
    case ETH_MPLS_MC:
        return decode_mpls(pkt, p, len);
    case ETH_IPV4:
        return decode_ipv4(pkt, p, len);
    case ETH_IPV6:
        return decode_ipv6(pkt, p, len);
    case ETH_VLAN:
    case ETH_QINQ:
    case ETH_QINQ_OLD:
        return decode_vlan(pkt, p, len);
    default:
        return 0; /* ARP, LLDP, ...: no network layer decoded */
    }
}

static int decode_ethernet(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 14) {
        return anomaly(pkt, VG_SENSOR_ANOM_ETH_TRUNC);
    }
    return decode_ethertype(pkt, be16(p + 12), p + 14, len - 14);
}

/* Linux cooked v1: 16 bytes, protocol at 14. v2: 20 bytes, protocol at 0. */
static int decode_sll(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len, bool v2)
{
    uint32_t hlen = v2 ? 20 : 16;
    if (len < hlen) {
        return anomaly(pkt, VG_SENSOR_ANOM_SLL_TRUNC);
    }
    return decode_ethertype(pkt, be16(p + (v2 ? 0 : 14)), p + hlen, len - hlen);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). */
static int decode_null(struct vg_sensor_pkt *pkt, const uint8_t *p, uint32_t len)
{
    if (len < 4) {
        return anomaly(pkt, VG_SENSOR_ANOM_NULL_TRUNC);
    }
    if (len > 4 && (p[4] >> 4 == 4 || p[4] >> 4 == 6)) {
        return decode_ip(pkt, p + 4, len - 4); /* family values differ by OS: trust IP */
    }
    return 0;
}

int vg_sensor_decode(struct vg_sensor_pkt *pkt, uint32_t linktype, const uint8_t *data,
                     uint32_t len)
{
    memset(pkt, 0, sizeof *pkt);
    pkt->linktype = linktype;
    int rc;
    switch (linktype) {
    case VG_SENSOR_LINK_ETHERNET:
        rc = decode_ethernet(pkt, data, len);
        break;
    case VG_SENSOR_LINK_RAW:
    case 12:
    case 14:
    case VG_SENSOR_LINK_IPV4:
    case VG_SENSOR_LINK_IPV6:
        rc = decode_ip(pkt, data, len);
        break;
    case VG_SENSOR_LINK_SLL:
    case VG_SENSOR_LINK_SLL2:
        rc = decode_sll(pkt, data, len, linktype == VG_SENSOR_LINK_SLL2);
        break;
    case VG_SENSOR_LINK_NULL:
    case VG_SENSOR_LINK_LOOP:
        rc = decode_null(pkt, data, len);
        break;
    case VG_SENSOR_LINK_CHDLC:
        rc = len < 4 ? anomaly(pkt, VG_SENSOR_ANOM_NULL_TRUNC)
                     : decode_ethertype(pkt, (uint16_t)(data[2] << 8 | data[3]), data + 4, len - 4);
        break;
    default:
        rc = anomaly(pkt, VG_SENSOR_ANOM_LINK_UNKNOWN);
    }
    return pkt->anomaly ? VG_EINVAL : rc;
}

const char *vg_sensor_anomaly_name(enum vg_sensor_anomaly a)
{
    return (unsigned)a < VG_SENSOR_ANOM_COUNT ? anomaly_names[a] : "unknown";
}
