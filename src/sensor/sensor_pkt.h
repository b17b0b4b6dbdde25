/*
 * sensor_pkt.h — the first layer of vigie-sensor (issue 6): a pcap/pcapng file reader and the
 * packet decoder. Frames come from the reader (or, later, a live capture) and are decoded into a
 * struct vg_sensor_pkt that the flow table and the protocol parsers read.
 *
 * Both parts read untrusted bytes only through explicit length checks: a malformed file gives a
 * clear error naming the file offset; a malformed packet gives an anomaly code (never a crash and
 * never a read past the frame). Neither allocates per packet. Nothing here is thread-safe on a
 * shared object; distinct readers and pkts may be used from distinct threads.
 */
#ifndef VG_SENSOR_PKT_H
#define VG_SENSOR_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ link types (pcap values) */
#define VG_SENSOR_LINK_NULL     0   /* BSD loopback: 4-byte host-order address family */
#define VG_SENSOR_LINK_ETHERNET 1   /* Ethernet II */
#define VG_SENSOR_LINK_RAW      101 /* raw IPv4 or IPv6 (also accepts DLT_RAW 12 and 14) */
#define VG_SENSOR_LINK_CHDLC    104 /* Cisco HDLC: address, control, ethertype */
#define VG_SENSOR_LINK_LOOP     108 /* OpenBSD loopback: 4-byte network-order family */
#define VG_SENSOR_LINK_SLL      113 /* Linux cooked capture v1 */
#define VG_SENSOR_LINK_IPV4     228 /* raw IPv4 */
#define VG_SENSOR_LINK_IPV6     229 /* raw IPv6 */
#define VG_SENSOR_LINK_SLL2     276 /* Linux cooked capture v2 */

/* ------------------------------------------------------------------ file reader */

/* Largest frame the reader accepts; a larger captured length is a file error (VG_ELIMIT). */
#define VG_SENSOR_PCAP_MAX_CAPLEN (1u << 20)
/* Interfaces per pcapng section; more is a file error (VG_ELIMIT). */
#define VG_SENSOR_PCAP_MAX_IFACES 64

/* One captured frame, borrowed from the reader: valid until the next call or destroy. */
struct vg_sensor_frame {
    const uint8_t *data; /* caplen captured bytes */
    uint32_t caplen;     /* bytes captured */
    uint32_t origlen;    /* bytes on the wire */
    uint64_t ts_ns;      /* capture time, ns since the Unix epoch (0 for pcapng SPBs) */
    uint32_t linktype;   /* VG_SENSOR_LINK_* (pcap LINKTYPE_ value) */
    uint32_t ifindex;    /* pcapng interface id (0 for classic pcap) */
    uint64_t offset;     /* file offset of the record or block holding the frame */
};

/* Which container the reader found. */
enum vg_sensor_pcap_format {
    VG_SENSOR_PCAP_CLASSIC = 1, /* libpcap format, either byte order, micro or nano seconds */
    VG_SENSOR_PCAP_NG = 2,      /* pcapng: SHB, IDB, EPB, SPB (other blocks are skipped) */
};

struct vg_sensor_pcap;

/*
 * Opens a reader over len bytes at data (borrowed: must outlive the reader). Reads and checks
 * the file header. Returns 0 and *out, VG_DECLINED if the bytes are neither pcap nor pcapng,
 * VG_ETRUNC/VG_EINVAL/VG_EUNSUPPORTED on a bad header (message in err, errlen bytes, may be
 * NULL), VG_ENOMEM.
 */
int vg_sensor_pcap_open_mem(struct vg_sensor_pcap **out, const uint8_t *data, size_t len, char *err,
                            size_t errlen);

/*
 * Opens the file at path (mapped read-only; owned by the reader). Same returns as open_mem plus
 * VG_EIO when the file cannot be opened or mapped; an empty file is VG_ETRUNC.
 */
int vg_sensor_pcap_open_file(struct vg_sensor_pcap **out, const char *path, char *err,
                             size_t errlen);

/*
 * Reads the next frame into *frame. Returns 0, VG_EOF at the clean end of the file, or on a
 * malformed record VG_ETRUNC (file ends inside a record), VG_EINVAL (inconsistent lengths or
 * bad block), VG_ELIMIT (a bound above), VG_EUNSUPPORTED; then vg_sensor_pcap_error() names the
 * file offset and the reader stays at the error (further calls return the same code).
 */
int vg_sensor_pcap_next(struct vg_sensor_pcap *r, struct vg_sensor_frame *frame);

/* Message of the last error ("" if none); borrowed from the reader. */
const char *vg_sensor_pcap_error(const struct vg_sensor_pcap *r);

/* The container format. */
enum vg_sensor_pcap_format vg_sensor_pcap_format(const struct vg_sensor_pcap *r);

/* Link type of classic pcap, or of pcapng interface 0 once seen (0 before). */
uint32_t vg_sensor_pcap_linktype(const struct vg_sensor_pcap *r);

/* Closes the reader (unmaps a file). NULL is a no-op. */
void vg_sensor_pcap_destroy(struct vg_sensor_pcap *r);

/* ------------------------------------------------------------------ decoder */

/* Anomalies: malformed packets. The first one found is pkt->anomaly; all are in pkt->anomalies
 * as bits (1u << code). */
enum vg_sensor_anomaly {
    VG_SENSOR_ANOM_NONE = 0,
    VG_SENSOR_ANOM_LINK_UNKNOWN,       /* link type the decoder does not know */
    VG_SENSOR_ANOM_ETH_TRUNC,          /* frame shorter than an Ethernet header */
    VG_SENSOR_ANOM_VLAN_TRUNC,         /* 802.1Q tag cut short */
    VG_SENSOR_ANOM_VLAN_TOO_DEEP,      /* more than VG_SENSOR_MAX_VLAN stacked tags */
    VG_SENSOR_ANOM_SLL_TRUNC,          /* Linux cooked header cut short */
    VG_SENSOR_ANOM_NULL_TRUNC,         /* loopback header cut short */
    VG_SENSOR_ANOM_IPV4_TRUNC,         /* truncated IPv4 header */
    VG_SENSOR_ANOM_IPV4_BAD_VERSION,   /* IPv4 slot carries another version */
    VG_SENSOR_ANOM_IPV4_BAD_IHL,       /* header length below 20 bytes */
    VG_SENSOR_ANOM_IPV4_BAD_TOTLEN,    /* total length below the header length */
    VG_SENSOR_ANOM_IPV6_TRUNC,         /* truncated IPv6 header */
    VG_SENSOR_ANOM_IPV6_BAD_VERSION,   /* IPv6 slot carries another version */
    VG_SENSOR_ANOM_IPV6_EXT_TRUNC,     /* extension header cut short */
    VG_SENSOR_ANOM_IPV6_EXT_LOOP,      /* more than VG_SENSOR_MAX_IPV6_EXT extension headers */
    VG_SENSOR_ANOM_IPV6_HBH_NOT_FIRST, /* hop-by-hop options after another header */
    VG_SENSOR_ANOM_TCP_TRUNC,          /* TCP header (or its options) cut short */
    VG_SENSOR_ANOM_TCP_HLEN_SHORT,     /* TCP data offset below 20 bytes */
    VG_SENSOR_ANOM_UDP_TRUNC,          /* UDP header cut short */
    VG_SENSOR_ANOM_UDP_BAD_LEN,        /* UDP length below 8 */
    VG_SENSOR_ANOM_ICMP_TRUNC,         /* ICMP/ICMPv6 header cut short */
    VG_SENSOR_ANOM_GRE_TRUNC,          /* GRE (or ERSPAN) header cut short */
    VG_SENSOR_ANOM_GRE_BAD_VERSION,    /* GRE version other than 0 or 1 */
    VG_SENSOR_ANOM_VXLAN_TRUNC,        /* VXLAN header cut short */
    VG_SENSOR_ANOM_VXLAN_BAD_FLAGS,    /* VXLAN without the I (valid VNI) flag */
    VG_SENSOR_ANOM_TUNNEL_TOO_DEEP,    /* more than VG_SENSOR_MAX_TUNNEL nested tunnels */
    VG_SENSOR_ANOM_PPPOE_TRUNC,        /* PPPoE session header or PPP protocol cut short */
    VG_SENSOR_ANOM_MPLS_TRUNC,         /* MPLS label stack cut short (no bottom of stack) */
    VG_SENSOR_ANOM_COUNT
};

/* Bounds of the decoder. */
#define VG_SENSOR_MAX_VLAN     3
#define VG_SENSOR_MAX_IPV6_EXT 8
#define VG_SENSOR_MAX_TUNNEL   3

/* Tunnel kinds (pkt->tunnel: the outermost one crossed). */
enum vg_sensor_tunnel {
    VG_SENSOR_TUN_NONE = 0,
    VG_SENSOR_TUN_GRE,
    VG_SENSOR_TUN_ERSPAN,
    VG_SENSOR_TUN_VXLAN,
    VG_SENSOR_TUN_IPIP, /* IPv4/IPv6 carried directly in IP (protocols 4 and 41) */
};

/* TCP flag bits (pkt->tcp_flags; NS is bit 8). */
#define VG_SENSOR_TCP_FIN 0x01
#define VG_SENSOR_TCP_SYN 0x02
#define VG_SENSOR_TCP_RST 0x04
#define VG_SENSOR_TCP_PSH 0x08
#define VG_SENSOR_TCP_ACK 0x10
#define VG_SENSOR_TCP_URG 0x20
#define VG_SENSOR_TCP_ECE 0x40
#define VG_SENSOR_TCP_CWR 0x80
#define VG_SENSOR_TCP_NS  0x100

/*
 * A decoded packet. Pointers borrow the frame. After a tunnel the IP/L4 fields describe the
 * innermost packet; vlan and tunnel fields describe the outer layers.
 */
struct vg_sensor_pkt {
    uint32_t linktype;
    uint16_t vlan[VG_SENSOR_MAX_VLAN]; /* VLAN ids, outermost first (tunnels included) */
    uint8_t vlan_count;
    uint8_t tunnel_depth; /* tunnels crossed (0..VG_SENSOR_MAX_TUNNEL) */
    uint8_t tunnel;       /* enum vg_sensor_tunnel, outermost */
    uint32_t vxlan_vni;   /* last VXLAN VNI crossed */
    uint32_t gre_key;     /* last GRE key crossed (if has_gre_key) */
    bool has_gre_key;

    /* network layer */
    uint8_t ip_version; /* 0 (no IP), 4 or 6 */
    uint8_t ttl;        /* TTL or hop limit */
    uint8_t proto;      /* upper-layer protocol after IPv6 extension headers */
    uint8_t src[16];    /* IPv4 in the first 4 bytes */
    uint8_t dst[16];
    bool ip_csum_ok;      /* IPv4 header checksum verified (false for IPv6) */
    bool ip_truncated;    /* IP datagram longer than the captured bytes (snap length) */
    bool is_fragment;     /* offset != 0 or more-fragments (IPv4 or IPv6 fragment header) */
    bool frag_more;       /* more-fragments flag */
    uint16_t frag_offset; /* fragment offset in bytes */
    uint32_t frag_id;     /* IPv4 identification or IPv6 fragment id */
    uint8_t ipv6_ext_count;
    const uint8_t *l3; /* start of the (innermost) IP header */
    uint32_t l3_len;   /* captured IP bytes (trimmed to the IP length) */

    /* transport layer */
    const uint8_t *l4;     /* start of the TCP/UDP/ICMP header (NULL if not decoded) */
    uint16_t sport, dport; /* ports; for ICMP, 0 */
    uint16_t tcp_flags;    /* VG_SENSOR_TCP_* */
    uint32_t tcp_seq, tcp_ack;
    uint16_t tcp_window;
    uint8_t tcp_opt_len; /* bytes of TCP options */
    uint8_t icmp_type, icmp_code;
    const uint8_t *payload; /* application bytes (captured) */
    uint32_t payload_len;

    uint16_t anomaly;   /* first enum vg_sensor_anomaly found (0 if none) */
    uint32_t anomalies; /* bit (1u << code) per anomaly found */
};

/*
 * Decodes len bytes of a frame of link type linktype into *pkt (fully overwritten). Returns 0 for a
 * well-formed packet, VG_EINVAL if an anomaly was recorded (fields decoded up to the anomaly stay
 * valid). Never reads outside data[0..len). Unknown ethertypes/protocols are not anomalies: the
 * layers stop there (ip_version 0 or l4 NULL).
 */
int vg_sensor_decode(struct vg_sensor_pkt *pkt, uint32_t linktype, const uint8_t *data,
                     uint32_t len);

/* Short stable name of an anomaly ("ipv4.truncated_header"); "unknown" out of range. */
const char *vg_sensor_anomaly_name(enum vg_sensor_anomaly a);

/* The IPv4 header checksum (RFC 1071) of hlen bytes is valid. */
bool vg_sensor_ipv4_csum_ok(const uint8_t *hdr, uint32_t hlen);

#endif
