/*
 * sensor_stream.c — TCP stream reassembly for the sensor's application parsers (issue 6).
 * See sensor_stream.h for the contract.
 *
 * Each direction tracks next_seq, the next byte the parser expects. A segment at next_seq is
 * handed over at once (its overlap with bytes already delivered is cut: the first copy wins),
 * then the waiting list is drained while it is contiguous. A segment past next_seq waits in a
 * list sorted by sequence number, bounded per flow direction (stream_max_per_flow) and per
 * engine (stream_max_total). A hole is given up on, and reported to the parser as a gap, when
 *   - the peer acknowledges past it (the receiver got the bytes: our capture lost them); this
 *     also keeps requests ahead of their responses: before a packet's own bytes go to the
 *     parser, the peer direction is delivered up to what that packet acknowledges;
 *   - a bound is hit (counted in tcp_ooo_dropped or tcp_memcap_hits);
 *   - RST, or the flow ends.
 * Once the parser needs no more bytes (done, error, no protocol), segments are only counted.
 *
 * The Suricata-like TCP state of the session (for the `flow` record's tcp.state) is tracked
 * here too, from the flags each way.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_engine_int.h"

/* A waiting (out-of-order) segment. */
struct vg_sensor_seg {
    struct vg_sensor_seg *next;
    uint32_t seq;
    uint32_t len;
    uint8_t data[];
};

/* Beyond this distance from next_seq a segment (or an ACK) is not believed. */
#define WINDOW_MAX (1u << 30)

/* Suricata's TCP session states. */
enum tcp_st {
    ST_NONE = 0,
    ST_SYN_SENT,
    ST_SYN_RECV,
    ST_ESTABLISHED,
    ST_FIN_WAIT1,
    ST_FIN_WAIT2,
    ST_TIME_WAIT,
    ST_LAST_ACK,
    ST_CLOSE_WAIT,
    ST_CLOSING,
    ST_CLOSED,
};

static const char *const tcp_st_names[] = {
    "none",      "syn_sent", "syn_recv",   "established", "fin_wait1", "fin_wait2",
    "time_wait", "last_ack", "close_wait", "closing",     "closed",
};

static inline bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

/* ---------------------------------------------------------------- session state */

const char *vg_sensor_stream_state_name(const struct vg_sensor_flow *f,
                                        const struct vg_sensor_fstate *fs)
{
    (void)f;
    unsigned st = fs ? fs->tcp_st : 0;
    return st < sizeof(tcp_st_names) / sizeof(tcp_st_names[0]) ? tcp_st_names[st] : "none";
}

/* A FIN from direction d (0 client) in an open session. */
static uint8_t st_on_fin(uint8_t st, int d)
{
    switch (st) {
    case ST_ESTABLISHED:
    case ST_SYN_RECV:
    case ST_SYN_SENT:
    case ST_NONE:
        return d == 0 ? ST_FIN_WAIT1 : ST_CLOSE_WAIT;
    case ST_FIN_WAIT1:
        return d == 1 ? ST_CLOSING : st;
    case ST_FIN_WAIT2:
        return d == 1 ? ST_TIME_WAIT : st;
    case ST_CLOSE_WAIT:
        return d == 0 ? ST_LAST_ACK : st;
    default:
        return st;
    }
}

/* A bare ACK (no SYN/FIN/RST) from direction d. */
static uint8_t st_on_ack(uint8_t st, int d)
{
    switch (st) {
    case ST_SYN_RECV:
        return d == 0 ? ST_ESTABLISHED : st;
    case ST_NONE:
    case ST_SYN_SENT:
        return ST_ESTABLISHED; /* picked up mid-stream (or the SYN-ACK was lost) */
    case ST_FIN_WAIT1:
        return d == 1 ? ST_FIN_WAIT2 : st;
    case ST_CLOSING:
    case ST_TIME_WAIT:
        return ST_CLOSED;
    case ST_LAST_ACK:
        return d == 1 ? ST_CLOSED : st;
    default:
        return st;
    }
}

/* Suricata-like TCP state from one packet's flags (d: 0 from the client). */
static void st_update(struct vg_sensor_fstate *fs, uint16_t fl, int d)
{
    if (fl & VG_SENSOR_TCP_RST) {
        fs->tcp_st = ST_CLOSED;
        return;
    }
    if (fs->tcp_st == ST_CLOSED) {
        return;
    }
    if (fl & VG_SENSOR_TCP_SYN) {
        if (!(fl & VG_SENSOR_TCP_ACK)) {
            fs->tcp_st = fs->tcp_st <= ST_SYN_SENT ? ST_SYN_SENT : fs->tcp_st;
        } else if (fs->tcp_st <= ST_SYN_RECV) {
            fs->tcp_st = ST_SYN_RECV;
        }
        return;
    }
    if (fl & VG_SENSOR_TCP_FIN) {
        if (fs->tcp_st == ST_SYN_RECV) {
            fs->tcp_st = ST_ESTABLISHED;
        }
        fs->tcp_st = st_on_fin(fs->tcp_st, d);
        return;
    }
    if (fl & VG_SENSOR_TCP_ACK) {
        fs->tcp_st = st_on_ack(fs->tcp_st, d);
    }
}

/* ---------------------------------------------------------------- delivery */

static void deliver(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, int d,
                    const uint8_t *p, size_t n)
{
    enum vg_sensor_flow_dir saved = c->dir;
    c->dir = (enum vg_sensor_flow_dir)d;
    vg_sensor_engine_app_data(c, fs, p, n);
    c->dir = saved;
}

static void report_gap(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, int d, size_t n)
{
    enum vg_sensor_flow_dir saved = c->dir;
    c->dir = (enum vg_sensor_flow_dir)d;
    vg_sensor_engine_app_gap(c, fs, n);
    c->dir = saved;
}

static void seg_free(struct vg_sensor_engine *e, struct vg_sensor_stream *s,
                     struct vg_sensor_seg *g)
{
    s->ooo = g->next;
    s->ooo_bytes -= g->len;
    s->ooo_count--;
    e->stream_total -= g->len;
    vg_free(g);
}

/* Hand over the waiting segments that are contiguous with next_seq. */
static void drain_contiguous(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                             struct vg_sensor_fstate *fs, int d)
{
    struct vg_sensor_stream *s = &fs->stream[d];
    struct vg_sensor_seg *g;
    while ((g = s->ooo) != NULL && !seq_gt(g->seq, s->next_seq)) {
        uint32_t skip = s->next_seq - g->seq;
        if (skip < g->len) {
            s->next_seq += g->len - skip;
            deliver(c, fs, d, g->data + skip, g->len - skip);
        }
        seg_free(e, s, g);
    }
    if (s->fin && s->next_seq == s->fin_seq) {
        s->closed = true;
    }
}

/*
 * Give up on the holes before limit: hand over waiting bytes and report each hole as a gap,
 * until next_seq reaches limit; then drain what is contiguous.
 */
static void drain_until(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                        struct vg_sensor_fstate *fs, int d, uint32_t limit)
{
    struct vg_sensor_stream *s = &fs->stream[d];
    while (seq_lt(s->next_seq, limit)) {
        struct vg_sensor_seg *g = s->ooo;
        uint32_t to = (g && seq_lt(g->seq, limit)) ? g->seq : limit;
        if (seq_gt(to, s->next_seq)) {
            report_gap(c, fs, d, to - s->next_seq);
            s->next_seq = to;
        }
        drain_contiguous(e, c, fs, d);
    }
    drain_contiguous(e, c, fs, d);
}

/* Deliver everything that waits, with gaps for the holes (RST, flow end, bounds). */
static void drain_all(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                      struct vg_sensor_fstate *fs, int d)
{
    struct vg_sensor_stream *s = &fs->stream[d];
    while (s->ooo) {
        struct vg_sensor_seg *last = s->ooo;
        while (last->next) {
            last = last->next;
        }
        drain_until(e, c, fs, d, last->seq + last->len);
    }
}

/* ---------------------------------------------------------------- out-of-order queue */

/* Keep a segment past next_seq. Returns false when a bound stops it (counted). */
static bool queue_segment(struct vg_sensor_engine *e, struct vg_sensor_stream *s, uint32_t seq,
                          const uint8_t *p, uint32_t n)
{
    if (s->ooo_bytes + (size_t)n > e->cfg.stream_max_per_flow) {
        e->st.tcp_ooo_dropped++;
        return false;
    }
    if (e->stream_total + n > e->cfg.stream_max_total) {
        e->st.tcp_memcap_hits++;
        return false;
    }
    struct vg_sensor_seg **at = &s->ooo;
    for (; *at && !seq_gt((*at)->seq, seq); at = &(*at)->next) {
        struct vg_sensor_seg *g = *at;
        if (!seq_gt(seq + n, g->seq + g->len)) {
            return true; /* retransmission of bytes already waiting: the first copy wins */
        }
    }
    struct vg_sensor_seg *g = vg_malloc(sizeof(*g) + n);
    if (!g) {
        e->st.tcp_memcap_hits++;
        return false;
    }
    g->seq = seq;
    g->len = n;
    memcpy(g->data, p, n);
    g->next = *at;
    *at = g;
    s->ooo_bytes += n;
    s->ooo_count++;
    e->stream_total += n;
    return true;
}

/*
 * Bytes [seq, seq+n) with seq <= next_seq: hand over what is new. Bytes that a waiting
 * segment already holds come from that segment (it arrived first).
 */
static void deliver_in_order(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                             struct vg_sensor_fstate *fs, int d, uint32_t seq, const uint8_t *p,
                             uint32_t n)
{
    struct vg_sensor_stream *s = &fs->stream[d];
    while (n) {
        uint32_t skip = s->next_seq - seq; /* seq <= next_seq holds here */
        if (seq_gt(seq, s->next_seq) || skip >= n) {
            return;
        }
        p += skip;
        seq += skip;
        n -= skip;
        uint32_t take = n;
        const struct vg_sensor_seg *g = s->ooo;
        if (g && seq_lt(g->seq, seq + n)) {
            take = g->seq - seq; /* stop where the waiting bytes begin */
        }
        if (take) {
            s->next_seq = seq + take;
            deliver(c, fs, d, p, take);
        }
        drain_contiguous(e, c, fs, d);
    }
}

/* Bytes [seq, seq+n) of direction d. */
static void stream_data(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                        struct vg_sensor_fstate *fs, int d, uint32_t seq, const uint8_t *p,
                        uint32_t n)
{
    struct vg_sensor_stream *s = &fs->stream[d];
    int32_t rel = (int32_t)(seq - s->next_seq);
    if (fs->appst >= VG_SENSOR_APPST_DONE) {
        if (rel >= 0 && (uint32_t)rel < WINDOW_MAX) {
            s->next_seq = seq + n; /* nobody listens: only follow the sequence numbers */
        }
        return;
    }
    if (rel <= 0) {
        deliver_in_order(e, c, fs, d, seq, p, n);
        return;
    }
    if ((uint32_t)rel >= WINDOW_MAX) {
        e->st.tcp_ooo_dropped++;
        return;
    }
    if (!queue_segment(e, s, seq, p, n)) {
        /* A bound: stop waiting for the holes before this segment. */
        drain_until(e, c, fs, d, seq);
        stream_data(e, c, fs, d, seq, p, n);
    }
}

/* The peer (direction d) got everything before ack: its holes there are capture losses. */
static void ack_advance(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                        struct vg_sensor_fstate *fs, int d, uint32_t ack)
{
    struct vg_sensor_stream *s = &fs->stream[d];
    if (!s->init || s->closed || fs->appst >= VG_SENSOR_APPST_DONE) {
        return;
    }
    uint32_t limit = ack;
    if (s->fin && seq_gt(limit, s->fin_seq)) {
        limit = s->fin_seq;
    }
    uint32_t dist = limit - s->next_seq;
    if (!seq_gt(limit, s->next_seq) || dist >= WINDOW_MAX) {
        return;
    }
    drain_until(e, c, fs, d, limit);
}

/* ---------------------------------------------------------------- packets */

void vg_sensor_stream_packet(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                             struct vg_sensor_fstate *fs, const struct vg_sensor_pkt *pkt)
{
    int d = (int)c->dir;
    struct vg_sensor_stream *s = &fs->stream[d];
    uint16_t fl = pkt->tcp_flags;
    uint32_t seq = pkt->tcp_seq;
    st_update(fs, fl, d);
    if (fl & VG_SENSOR_TCP_SYN) {
        if (!s->init) {
            s->init = true;
            s->next_seq = seq + 1;
        }
        seq++;
        if ((fl & VG_SENSOR_TCP_ACK) && !fs->stream[!d].init) {
            fs->stream[!d].init = true; /* SYN-ACK: the client's next byte */
            fs->stream[!d].next_seq = pkt->tcp_ack;
        }
    } else if (!s->init && (pkt->payload_len || (fl & VG_SENSOR_TCP_FIN))) {
        s->init = true; /* picked up mid-stream */
        s->next_seq = seq;
    }
    if ((fl & VG_SENSOR_TCP_ACK) && !(fl & VG_SENSOR_TCP_SYN)) {
        ack_advance(e, c, fs, !d, pkt->tcp_ack);
    }
    if (fl & VG_SENSOR_TCP_RST) {
        drain_all(e, c, fs, 0);
        drain_all(e, c, fs, 1);
        fs->stream[0].closed = fs->stream[1].closed = true;
        return;
    }
    if (pkt->payload_len && s->init && !s->closed) {
        stream_data(e, c, fs, d, seq, pkt->payload, pkt->payload_len);
    }
    if ((fl & VG_SENSOR_TCP_FIN) && s->init && !s->fin) {
        s->fin = true;
        s->fin_seq = seq + pkt->payload_len;
        if (s->next_seq == s->fin_seq) {
            s->closed = true;
        }
    }
}

void vg_sensor_stream_end(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                          struct vg_sensor_fstate *fs)
{
    for (int d = 0; d < 2; d++) {
        struct vg_sensor_stream *s = &fs->stream[d];
        if (fs->appst >= VG_SENSOR_APPST_DONE) {
            vg_sensor_stream_fini(e, s);
            continue;
        }
        drain_all(e, c, fs, d);
        if (s->fin && seq_lt(s->next_seq, s->fin_seq) &&
            (uint32_t)(s->fin_seq - s->next_seq) < WINDOW_MAX) {
            report_gap(c, fs, d, s->fin_seq - s->next_seq);
            s->next_seq = s->fin_seq;
        }
        s->closed = true;
    }
}

void vg_sensor_stream_fini(struct vg_sensor_engine *e, struct vg_sensor_stream *s)
{
    while (s->ooo) {
        seg_free(e, s, s->ooo);
    }
}
