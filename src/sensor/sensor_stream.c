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

/* ---------------------------------------------------------------- packet validation */

#define SYN_KEEP ((int)(sizeof(((struct vg_sensor_stream *)0)->syn_isn) / sizeof(uint32_t)))

/* The TCP options that matter to the session tracking. */
struct tcp_opts {
    bool ts;  /* a timestamp option (kind 8) */
    bool sig; /* a TCP-MD5 (kind 19) or TCP-AO (kind 29) signature: cannot be verified */
    uint32_t tsval, tsecr;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Parse the options after the 20-byte header (the decoder checked they were captured). */
static void opts_parse(const struct vg_sensor_pkt *pkt, struct tcp_opts *o)
{
    memset(o, 0, sizeof(*o));
    if (!pkt->l4) {
        return;
    }
    const uint8_t *p = pkt->l4 + 20;
    size_t n = pkt->tcp_opt_len, i = 0;
    while (i < n && p[i] != 0) {
        if (p[i] == 1) {
            i++;
            continue;
        }
        if (n - i < 2 || p[i + 1] < 2 || p[i + 1] > n - i) {
            return; /* malformed: stop, keep what was found */
        }
        uint8_t kind = p[i], len = p[i + 1];
        if (kind == 8 && len == 10) {
            o->ts = true;
            o->tsval = be32(p + i + 2);
            o->tsecr = be32(p + i + 6);
        } else if ((kind == 19 && len == 18) || (kind == 29 && len >= 4)) {
            o->sig = true;
        }
        i += len;
    }
}

static void syn_remember(struct vg_sensor_stream *s, uint32_t isn)
{
    if (s->syn_n && s->syn_isn[0] == isn) {
        return;
    }
    memmove(s->syn_isn + 1, s->syn_isn, sizeof(s->syn_isn) - sizeof(s->syn_isn[0]));
    s->syn_isn[0] = isn;
    if (s->syn_n < SYN_KEEP) {
        s->syn_n++;
    }
}

/* Does ack acknowledge one of the SYNs s remembers? */
static bool syn_acked(const struct vg_sensor_stream *s, uint32_t ack)
{
    for (int i = 0; i < s->syn_n; i++) {
        if (s->syn_isn[i] + 1 == ack) {
            return true;
        }
    }
    return false;
}

/*
 * Before the SYN-ACK (Suricata's StateSynSentValidateTimestamp): a responder's timestamp must
 * echo the initiator's SYN (or nothing, when the SYN had none).
 */
static bool synsent_ts_ok(const struct vg_sensor_stream *ini, const struct tcp_opts *o)
{
    if (!o->ts) {
        return true;
    }
    if (ini->ts) {
        return ini->last_ts == 0 || o->tsecr == 0 || o->tsecr == ini->last_ts;
    }
    return o->tsecr == 0;
}

/*
 * A packet in SYN_SENT (a SYN seen, no SYN-ACK yet). d_ini: the SYN's sender. Returns false
 * when the receiver would drop it: bad timestamp echo, FIN, a responder RST acknowledging no
 * SYN, an initiator RST that does not cancel its SYN exactly (seq = ISN, ack = ISN+1, window
 * 0).
 */
static bool synsent_accept(const struct vg_sensor_fstate *fs, const struct vg_sensor_pkt *pkt,
                           const struct tcp_opts *o, int d, int d_ini)
{
    const struct vg_sensor_stream *ini = &fs->stream[d_ini];
    uint16_t fl = pkt->tcp_flags;
    if ((fl & (VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK)) == (VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK)) {
        return true;
    }
    if (d != d_ini && !synsent_ts_ok(ini, o)) {
        return false;
    }
    if (fl & VG_SENSOR_TCP_RST) {
        if (d != d_ini) {
            return !(fl & VG_SENSOR_TCP_ACK) || syn_acked(ini, pkt->tcp_ack);
        }
        return ini->syn_n && pkt->tcp_seq == ini->syn_isn[0] && pkt->tcp_window == 0 &&
               pkt->tcp_ack == ini->syn_isn[0] + 1;
    }
    return !(fl & VG_SENSOR_TCP_FIN) || (fl & VG_SENSOR_TCP_SYN);
}

/*
 * Once both sides announced timestamps (RFC 7323 PAWS, Suricata's StreamTcpValidateTimestamp
 * with Linux's off-by-one tolerance): a RST or FIN older than its sender's last timestamp is
 * dropped by the receiver.
 */
static bool ts_accept(const struct vg_sensor_fstate *fs, const struct tcp_opts *o, uint16_t fl,
                      int d)
{
    const struct vg_sensor_stream *s = &fs->stream[d];
    if (!(fl & (VG_SENSOR_TCP_RST | VG_SENSOR_TCP_FIN)) || !o->ts || !fs->stream[0].ts ||
        !fs->stream[1].ts) {
        return true;
    }
    return (int32_t)(o->tsval - s->last_ts) + 1 >= 0;
}

/* Would the receiver act on this packet? */
static bool packet_accept(const struct vg_sensor_fstate *fs, const struct vg_sensor_pkt *pkt,
                          const struct tcp_opts *o, int d)
{
    if (fs->tcp_st == ST_SYN_SENT) {
        int d_ini = fs->stream[0].syn_n || !fs->stream[1].syn_n ? 0 : 1;
        return synsent_accept(fs, pkt, o, d, d_ini);
    }
    if (fs->tcp_st == ST_NONE || fs->tcp_st == ST_CLOSED) {
        return true;
    }
    return ts_accept(fs, o, pkt->tcp_flags, d);
}

/*
 * An unverifiable (signed) RST from d: the session shows closed, but the streams stay open
 * and the state comes back when d is seen sending again (the RST was then injected).
 */
static void rst_unverified(struct vg_sensor_fstate *fs, int d)
{
    struct vg_sensor_stream *r = &fs->stream[!d];
    if (fs->tcp_st == ST_CLOSED) {
        return;
    }
    r->rst_recv = true;
    r->rst_pstate = fs->tcp_st;
    fs->tcp_st = ST_CLOSED;
}

/* A regular packet from d after d's unverifiable RST: the RST was ignored by its peer. */
static void rst_revert(struct vg_sensor_fstate *fs, int d)
{
    struct vg_sensor_stream *r = &fs->stream[!d];
    if (!r->rst_recv) {
        return;
    }
    r->rst_recv = false;
    if (fs->tcp_st == ST_CLOSED) {
        fs->tcp_st = r->rst_pstate;
    }
}

/* Timestamps seen from d: the SYN/SYN-ACK announces them, later packets move them on. */
static void ts_track(struct vg_sensor_stream *s, const struct tcp_opts *o, uint16_t fl)
{
    if (fl & VG_SENSOR_TCP_SYN) {
        s->ts = o->ts;
        s->last_ts = o->ts ? o->tsval : 0;
    } else if (o->ts && !(fl & VG_SENSOR_TCP_RST) && (int32_t)(o->tsval - s->last_ts) > 0) {
        s->last_ts = o->tsval;
    }
}

/* ---------------------------------------------------------------- packets */

/*
 * Sequence numbers of a SYN (d's ISN) or SYN-ACK (also the peer's next byte). Before any byte
 * of d, a resent SYN with a new ISN replaces the old one; a SYN-ACK acknowledging an earlier
 * remembered SYN selects that one.
 */
static void syn_seq(struct vg_sensor_fstate *fs, const struct vg_sensor_pkt *pkt, int d,
                    uint8_t st_before)
{
    struct vg_sensor_stream *s = &fs->stream[d], *peer = &fs->stream[!d];
    uint32_t seq = pkt->tcp_seq;
    bool synack = (pkt->tcp_flags & VG_SENSOR_TCP_ACK) != 0;
    if (!s->init || (!synack && !s->data_seen && st_before <= ST_SYN_SENT)) {
        s->init = true;
        s->next_seq = seq + 1;
    }
    if (!synack) {
        syn_remember(s, seq);
        return;
    }
    if (!peer->init) {
        peer->init = true; /* SYN-ACK: the client's next byte */
        peer->next_seq = pkt->tcp_ack;
    } else if (!peer->data_seen && peer->next_seq != pkt->tcp_ack &&
               syn_acked(peer, pkt->tcp_ack)) {
        peer->next_seq = pkt->tcp_ack;
    }
}

void vg_sensor_stream_packet(struct vg_sensor_engine *e, struct vg_sensor_app_ctx *c,
                             struct vg_sensor_fstate *fs, const struct vg_sensor_pkt *pkt)
{
    int d = (int)c->dir;
    struct vg_sensor_stream *s = &fs->stream[d];
    uint16_t fl = pkt->tcp_flags;
    uint32_t seq = pkt->tcp_seq;
    struct tcp_opts o;
    opts_parse(pkt, &o);
    if (!packet_accept(fs, pkt, &o, d)) {
        return; /* the receiver drops it: no effect on the session */
    }
    uint8_t st_before = fs->tcp_st;
    if (!(fl & VG_SENSOR_TCP_RST)) {
        rst_revert(fs, d);
    }
    ts_track(s, &o, fl);
    if ((fl & VG_SENSOR_TCP_RST) && o.sig) {
        rst_unverified(fs, d);
    } else {
        st_update(fs, fl, d);
    }
    if (fl & VG_SENSOR_TCP_SYN) {
        syn_seq(fs, pkt, d, st_before);
        seq++;
    } else if (!s->init && (pkt->payload_len || (fl & VG_SENSOR_TCP_FIN))) {
        s->init = true; /* picked up mid-stream */
        s->next_seq = seq;
    }
    if ((fl & VG_SENSOR_TCP_ACK) && !(fl & VG_SENSOR_TCP_SYN)) {
        ack_advance(e, c, fs, !d, pkt->tcp_ack);
    }
    if ((fl & VG_SENSOR_TCP_RST) && !o.sig) {
        drain_all(e, c, fs, 0);
        drain_all(e, c, fs, 1);
        fs->stream[0].closed = fs->stream[1].closed = true;
        return;
    }
    if (pkt->payload_len && s->init && !s->closed) {
        s->data_seen = true;
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
