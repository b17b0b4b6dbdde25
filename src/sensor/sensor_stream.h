/*
 * sensor_stream.h — TCP stream reassembly of the sensor engine (private to the engine).
 *
 * One struct vg_sensor_stream per flow direction, embedded in the engine's per-flow state.
 * Segments are delivered to the application layer in sequence order, exactly once: bytes in
 * order go at once; later bytes wait in a bounded sorted list (per flow direction and for the
 * whole engine); retransmitted or overlapping bytes are dropped (the first copy wins); holes
 * that will not be filled (the peer acknowledged past them, a bound was hit, FIN/RST, flow
 * end) are reported as gaps. Sequence numbers compare modulo 2^32.
 *
 * Like Suricata's stream engine, packets that the receiving host would drop do not change the
 * session: before the SYN-ACK, the responder's packets whose TCP timestamp does not echo the
 * SYN's, its RSTs that do not acknowledge a SYN, the initiator's RSTs that do not cancel its
 * SYN, and FINs; once timestamps are negotiated, RSTs and FINs with an outdated timestamp. A
 * RST signed with TCP-MD5 (RFC 2385) or TCP-AO (RFC 5925), which cannot be verified, closes
 * the session state only until its sender is seen sending again, and never cuts the streams.
 * Resent SYNs with new ISNs: the latest wins, unless the SYN-ACK acknowledges an earlier one.
 */
#ifndef VG_SENSOR_STREAM_H
#define VG_SENSOR_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_sensor_seg;
struct vg_sensor_engine;
struct vg_sensor_fstate;
struct vg_sensor_app_ctx;
struct vg_sensor_pkt;
struct vg_sensor_flow;

struct vg_sensor_stream {
    uint32_t next_seq;         /* next byte expected (valid when init) */
    uint32_t fin_seq;          /* sequence number of the FIN (valid when fin) */
    bool init;                 /* next_seq is known */
    bool fin;                  /* a FIN was seen */
    bool closed;               /* FIN reached in order, or RST: no more data */
    bool data_seen;            /* bytes of this direction were handed over or queued */
    bool ts;                   /* this side's SYN (or SYN-ACK) carried a TCP timestamp */
    bool rst_recv;             /* an unverifiable (TCP-MD5/AO) RST was sent to this side */
    uint8_t rst_pstate;        /* the session state before that RST */
    uint8_t syn_n;             /* SYN ISNs remembered in syn_isn (newest first) */
    uint32_t syn_isn[4];       /* ISNs of this side's last SYNs, before the SYN-ACK */
    uint32_t last_ts;          /* latest TSval seen from this side (valid when ts) */
    uint32_t ooo_bytes;        /* bytes waiting in ooo */
    uint32_t ooo_count;        /* segments waiting in ooo */
    struct vg_sensor_seg *ooo; /* waiting segments, sorted by seq */
};

/*
 * Account one TCP packet of flow direction c->dir: track sequence numbers, deliver the bytes
 * that became contiguous through vg_sensor_engine_app_data (and holes through
 * vg_sensor_engine_app_gap), first for the peer direction (up to what this packet
 * acknowledges) and then for this one.
 */
void vg_sensor_stream_packet(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                             struct vg_sensor_fstate *fs, const struct vg_sensor_pkt *pkt);

/* The flow ends: deliver what waits in both directions, with gaps for the holes. */
void vg_sensor_stream_end(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                          struct vg_sensor_fstate *fs);

/* Suricata's name of the flow's TCP state ("established", "closed", "close_wait", …). */
const char *vg_sensor_stream_state_name(const struct vg_sensor_flow *f,
                                        const struct vg_sensor_fstate *fs);

/* Release the waiting segments of s (no delivery). */
void vg_sensor_stream_fini(struct vg_sensor_engine *e, struct vg_sensor_stream *s);

#endif
