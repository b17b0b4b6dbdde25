/*
 * sensor_flow.h — the sensor's bidirectional flow table (issue 6).
 *
 * Sits between the packet decoder and the application parsers: for each decoded packet the
 * caller fills a struct vg_flow_key and a struct vg_flow_pkt and calls
 * vg_sensor_flow_lookup_or_create(), which finds (or creates) the one flow both directions
 * share, accounts the packet to it and says whether the packet goes to the server or to the
 * client. The client is the sender of the flow's first packet, or of the SYN for TCP (a flow
 * first seen on a SYN-ACK has the SYN-ACK's receiver as client).
 *
 * Time is the packet clock (the largest packet timestamp seen, never the wall clock: pcaps
 * replay old time). Each flow sits in one ordered list per timeout class (TCP handshake,
 * established, closing, closed, UDP, ICMP, other); since every flow of a class has the same
 * timeout, the list head is the next to expire, so expiry costs O(1) amortised per
 * packet. A flow moves to its list's tail only when its class changes or its place is
 * older than timeout/64, which keeps most packets to two cache misses (bucket and flow);
 * expiry and eviction are therefore exact to timeout/64 (e.g. 0.5 s of a 30 s timeout).
 * Ended flows (timeout, eviction when the table is full, flush) go to the end
 * callback, which writes the `flow` record and releases flow->user.
 *
 * Memory is bounded by max_flows: a new flow in a full table evicts the flow idle the
 * longest (reason VG_SENSOR_FLOW_END_EVICTED, counted in the stats).
 *
 * Not thread-safe: one table per worker thread (workers are fed by flow hash).
 */
#ifndef VG_SENSOR_FLOW_H
#define VG_SENSOR_FLOW_H

#include <stddef.h>
#include <stdint.h>

/* Address family of a key (values are the IP version). */
#define VG_SENSOR_FLOW_AF_INET  4
#define VG_SENSOR_FLOW_AF_INET6 6

/* TCP flag bits of struct vg_flow_pkt.tcp_flags (the TCP header's own bit values). */
#define VG_SENSOR_TCP_FIN 0x01
#define VG_SENSOR_TCP_SYN 0x02
#define VG_SENSOR_TCP_RST 0x04
#define VG_SENSOR_TCP_PSH 0x08
#define VG_SENSOR_TCP_ACK 0x10

/*
 * A packet's flow key, as the packet carries it (source = the packet's sender). Addresses
 * in network byte order; an IPv4 address fills src[0..3]/dst[0..3] and the other 12 bytes
 * MUST be zero (keys are compared as bytes: zero the whole struct before filling it). Ports
 * in host order; 0 for protocols without ports. For ICMP, put the echo identifier (or 0) in
 * both ports so requests and replies share a flow. No padding: 40 bytes.
 */
struct vg_flow_key {
    uint8_t family; /* VG_SENSOR_FLOW_AF_INET or _INET6 */
    uint8_t proto;  /* IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...) */
    uint16_t vlan;  /* VLAN id, 0 if untagged */
    uint16_t sport;
    uint16_t dport;
    uint8_t src[16];
    uint8_t dst[16];
};

/* The facts about one packet that the flow table accounts. */
struct vg_flow_pkt {
    int64_t ts_ns;     /* capture timestamp, ns since the epoch */
    uint32_t bytes;    /* IP length (or frame length: be consistent) */
    uint32_t payload;  /* transport payload bytes */
    uint8_t tcp_flags; /* VG_SENSOR_TCP_* (0 for non-TCP) */
};

/* Direction of a packet relative to the flow's client. */
enum vg_sensor_flow_dir {
    VG_SENSOR_FLOW_TO_SERVER = 0,
    VG_SENSOR_FLOW_TO_CLIENT = 1,
};

/* TCP state of a flow (NONE for other protocols). */
enum vg_sensor_flow_tcp_state {
    VG_SENSOR_TCP_NONE = 0,
    VG_SENSOR_TCP_SYN_SENT,    /* SYN seen */
    VG_SENSOR_TCP_SYN_RECV,    /* SYN-ACK seen */
    VG_SENSOR_TCP_ESTABLISHED, /* handshake completed, or picked up mid-stream */
    VG_SENSOR_TCP_CLOSING,     /* a FIN seen */
    VG_SENSOR_TCP_CLOSED,      /* FIN both ways, or RST */
};

/* Why a flow ended (given to the end callback). */
enum vg_sensor_flow_end {
    VG_SENSOR_FLOW_END_TIMEOUT = 0, /* idle past its class's timeout (packet clock) */
    VG_SENSOR_FLOW_END_EVICTED,     /* the table was full; the longest idle flow made room */
    VG_SENSOR_FLOW_END_FLUSH,       /* vg_sensor_flow_table_flush (end of capture) */
    VG_SENSOR_FLOW_END_REUSE,       /* a new SYN on a closing/closed TCP flow's 5-tuple: the old
                                       connection ends and a new flow starts (port reuse) */
};

/* One flow. Fields are read-only for the caller except `user`. */
struct vg_sensor_flow {
    struct vg_flow_key key; /* oriented client -> server */
    int64_t first_ns;
    int64_t last_ns;
    uint64_t pkts[2]; /* indexed by enum vg_sensor_flow_dir */
    uint64_t bytes[2];
    uint64_t payload[2];
    uint8_t tcp_state;    /* enum vg_sensor_flow_tcp_state */
    uint8_t tcp_flags[2]; /* union of the TCP flags seen each way */
    void *user;           /* application parser state; the end callback releases it */
};

/* Timeouts in ns per class; 0 in a field means "use the default". */
struct vg_sensor_flow_config {
    size_t max_flows;       /* default 1,000,000 */
    int64_t tcp_new_ns;     /* SYN / SYN-ACK, default 30 s */
    int64_t tcp_est_ns;     /* established, default 1 h */
    int64_t tcp_closing_ns; /* FIN seen, default 30 s */
    int64_t tcp_closed_ns;  /* FIN both ways or RST, default 10 s */
    int64_t udp_ns;         /* default 2 min */
    int64_t icmp_ns;        /* ICMP and ICMPv6, default 30 s */
    int64_t other_ns;       /* other IP protocols, default 1 min */
    uint64_t hash_seed;     /* 0: a seed from the clock and the table's address */
};

/* Counters of a table. */
struct vg_sensor_flow_stats {
    uint64_t active;    /* flows in the table now */
    uint64_t created;   /* flows created since creation */
    uint64_t timed_out; /* ended by timeout */
    uint64_t evicted;   /* ended because the table was full */
    uint64_t flushed;   /* ended by flush */
    uint64_t reused;    /* ended by a new connection on the same 5-tuple */
    uint64_t packets;   /* packets accounted */
};

/*
 * Called once for every flow that ends, before its slot is reused: write the `flow` record
 * and release flow->user here. The flow pointer is invalid after the return. The callback
 * must not call back into the table.
 */
typedef void (*vg_sensor_flow_end_fn)(void *ctx, struct vg_sensor_flow *flow,
                                      enum vg_sensor_flow_end reason);

struct vg_sensor_flow_table;

/* Fill cfg with the defaults above. */
void vg_sensor_flow_config_default(struct vg_sensor_flow_config *cfg);

/*
 * Create a table. cfg may be NULL (defaults). end_cb may be NULL (flows end silently).
 * Memory grows with the number of live flows (chunks of 4096), plus 4 bytes per bucket for
 * a power of two >= max_flows buckets allocated up front.
 * Returns VG_OK and *out, VG_EINVAL (max_flows or a timeout out of range) or VG_ENOMEM.
 */
int vg_sensor_flow_table_create(const struct vg_sensor_flow_config *cfg,
                                vg_sensor_flow_end_fn end_cb, void *ctx,
                                struct vg_sensor_flow_table **out);

/* Free the table. Live flows are dropped without callbacks: flush first to report them.
 * NULL is a no-op. */
void vg_sensor_flow_table_destroy(struct vg_sensor_flow_table *t);

/*
 * Account one packet: advance the packet clock to pkt->ts_ns (if later), end the flows
 * whose deadline passed, then find the flow of key (either direction) or create it
 * (evicting the longest idle flow if the table is full), update its counters and TCP state.
 * *flow (borrowed; valid until the flow ends) and *dir receive the result; dir may be NULL.
 * Returns VG_OK or VG_EINVAL (NULL argument, unknown family).
 */
int vg_sensor_flow_lookup_or_create(struct vg_sensor_flow_table *t, const struct vg_flow_key *key,
                                    const struct vg_flow_pkt *pkt, struct vg_sensor_flow **flow,
                                    enum vg_sensor_flow_dir *dir);

/* Advance the packet clock without a packet (idle live capture) and end expired flows. */
void vg_sensor_flow_table_expire(struct vg_sensor_flow_table *t, int64_t now_ns);

/* End every flow with VG_SENSOR_FLOW_END_FLUSH (end of a capture). */
void vg_sensor_flow_table_flush(struct vg_sensor_flow_table *t);

/* Copy the counters. */
void vg_sensor_flow_table_stats(const struct vg_sensor_flow_table *t,
                                struct vg_sensor_flow_stats *out);

/* Names for records: "none", "syn_sent", ... and "timeout", "evicted", "flush", "reuse". */
const char *vg_sensor_flow_tcp_state_name(int state);
const char *vg_sensor_flow_end_name(int reason);

#endif
