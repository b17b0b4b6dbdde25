/*
 * sensor_engine.c — the sensor's per-worker engine (issue 6): the packet path from a captured
 * frame to EVE records.
 *
 *   frame -> vg_sensor_decode -> (anomaly records) -> defrag -> flow table
 *         -> TCP: sensor_stream.c (in-order bytes, gaps) | UDP: one datagram
 *         -> application protocol choice (port hints + probes) -> parser -> records
 *   flow end (timeout, eviction, flush) -> stream flush -> parser end -> detections
 *         -> `flow` record
 *
 * Per flow, a struct vg_sensor_fstate hangs off flow->user (sensor_engine_int.h). The engine
 * is single-threaded; one per worker.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_engine_int.h"

#define PROBE_MAX     4096 /* bytes of a direction kept while the protocol is unknown */
#define PROBE_UDP_MAX 4    /* datagrams per direction probed before giving up */
#define FLOW_ID_MASK  ((1ULL << 51) - 1) /* JSON numbers stay exact below 2^53 */

/* ---------------------------------------------------------------- configuration */

void vg_sensor_engine_config_default(struct vg_sensor_engine_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    vg_sensor_flow_config_default(&cfg->flow);
    cfg->stream_max_per_flow = 1u << 20;
    cfg->stream_max_total = 256u << 20;
    cfg->log_flow = true;
    cfg->log_anomaly = true;
    cfg->detect = true;
}

/* ---------------------------------------------------------------- protocol table */

/* The parsers, in the order they are asked when several claim a flow. */
extern const struct vg_sensor_app_proto vg_sensor_proto_http2;
static const struct vg_sensor_app_proto *const default_protos[] = {
    &vg_sensor_proto_dns_udp, &vg_sensor_proto_dhcp, &vg_sensor_proto_dns_tcp,
    &vg_sensor_proto_http2, /* before http: it claims h2c upgrade requests */
    &vg_sensor_proto_http,    &vg_sensor_proto_tls,  &vg_sensor_proto_ssh,
    &vg_sensor_proto_smtp,    &vg_sensor_proto_ftp,
};

void vg_sensor_engine_set_protos(struct vg_sensor_engine *e,
                                 const struct vg_sensor_app_proto *const *tab, size_t n)
{
    e->protos = tab;
    e->nprotos = n;
}

static const struct vg_sensor_app_proto *const *proto_table(const struct vg_sensor_engine *e,
                                                            size_t *n)
{
    *n = e->nprotos;
    return e->protos;
}

static bool proto_port_match(const struct vg_sensor_app_proto *p, const struct vg_flow_key *k)
{
    for (size_t i = 0; i < 8 && p->ports[i]; i++) {
        if (p->ports[i] == k->dport || p->ports[i] == k->sport) {
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- per-flow state */

static void fstate_release(struct vg_sensor_engine *e, struct vg_sensor_fstate *fs)
{
    if (fs->app && fs->app_state && fs->app->state_free) {
        fs->app->state_free(fs->app_state);
    }
    fs->app_state = NULL;
    vg_free(fs->probe_buf[0]);
    vg_free(fs->probe_buf[1]);
    fs->probe_buf[0] = fs->probe_buf[1] = NULL;
    vg_sensor_stream_fini(e, &fs->stream[0]);
    vg_sensor_stream_fini(e, &fs->stream[1]);
}

static struct vg_sensor_fstate *fstate_new(struct vg_sensor_engine *e,
                                           const struct vg_sensor_flow *f,
                                           const struct vg_sensor_pkt *pkt)
{
    struct vg_sensor_fstate *fs = vg_calloc(1, sizeof(*fs));
    if (!fs) {
        return NULL;
    }
    uint64_t seq = ++e->flow_seq;
    uint64_t h = vg_hash_mix(seq ^ ((uint64_t)e->cfg.worker << 52) ^ 0x5851f42d4c957f2dULL);
    h ^= vg_hash64(&f->key, sizeof(f->key), seq);
    fs->flow_id = h & FLOW_ID_MASK;
    if (!fs->flow_id) {
        fs->flow_id = seq & FLOW_ID_MASK;
    }
    fs->is_tcp = f->key.proto == 6;
    fs->first_dir = 0xff;
    fs->vlan_count = pkt->vlan_count <= VG_SENSOR_MAX_VLAN ? pkt->vlan_count : VG_SENSOR_MAX_VLAN;
    memcpy(fs->vlan, pkt->vlan, sizeof(fs->vlan[0]) * fs->vlan_count);
    return fs;
}

/* ---------------------------------------------------------------- application layer */

/*
 * Ports where another protocol shares a parser's wire format: that parser's content probe is
 * not asked there unless the port is one of its own (over UDP, NBNS 137, mDNS 5353 and LLMNR
 * 5355 speak the DNS format but are not DNS; Suricata does not log them as dns either).
 */
static const struct {
    const char *name;
    uint8_t ipproto;
    uint16_t port;
} foreign_ports[] = {{"dns", 17, 137}, {"dns", 17, 5353}, {"dns", 17, 5355}};

static bool proto_foreign_port(const struct vg_sensor_app_proto *p, const struct vg_flow_key *k)
{
    for (size_t i = 0; i < sizeof(foreign_ports) / sizeof(foreign_ports[0]); i++) {
        if (k->proto == foreign_ports[i].ipproto &&
            (k->sport == foreign_ports[i].port || k->dport == foreign_ports[i].port) &&
            strcmp(p->name, foreign_ports[i].name) == 0) {
            return true;
        }
    }
    return false;
}

static void app_activate(struct vg_sensor_engine *e, struct vg_sensor_fstate *fs,
                         const struct vg_sensor_app_proto *p)
{
    fs->app = p;
    fs->prefer = NULL;
    fs->app_state = p->state_new ? p->state_new() : NULL;
    fs->appst = (p->state_new && !fs->app_state) ? VG_SENSOR_APPST_ERROR : VG_SENSOR_APPST_ACTIVE;
    if (fs->appst == VG_SENSOR_APPST_ERROR) {
        e->st.app_errors++;
    }
}

static const struct vg_sensor_app_proto *tls_proto(const struct vg_sensor_engine *e)
{
    size_t n;
    const struct vg_sensor_app_proto *const *tab = proto_table(e, &n);
    for (size_t i = 0; i < n; i++) {
        if (tab[i]->ipproto == 6 && strcmp(tab[i]->name, "tls") == 0) {
            return tab[i];
        }
    }
    return &vg_sensor_proto_tls;
}

/*
 * The parser announced a protocol change (STARTTLS, AUTH TLS, CONNECT): it logs what is
 * pending (end), its state goes, and the flow is detected again from the next bytes with
 * TLS asked first (see VG_SENSOR_APP_UPGRADE_TLS).
 */
static void app_upgrade(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs)
{
    struct vg_sensor_engine *e = c->eng;
    const struct vg_sensor_app_proto *old = fs->app;
    e->st.app_upgrades++;
    if (old->end) {
        enum vg_sensor_flow_dir saved = c->dir;
        old->end(c, fs->app_state);
        c->dir = saved;
    }
    if (old->state_free && fs->app_state) {
        old->state_free(fs->app_state);
    }
    fs->app_state = NULL;
    fs->app_orig = old;
    fs->app = NULL;
    fs->appst = VG_SENSOR_APPST_PROBING;
    fs->prefer = tls_proto(e);
    fs->probe_done[0] = fs->probe_done[1] = 0;
    fs->first_dir = 0xff;
}

static void app_bytes(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, const uint8_t *p,
                      size_t n);
static void app_gap(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, size_t n);

/* Hand bytes to the active parser and act on its answer. */
static void app_feed(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, const uint8_t *p,
                     size_t n)
{
    if (fs->appst != VG_SENSOR_APPST_ACTIVE || n == 0) {
        return;
    }
    c->eng->upgrade_used = SIZE_MAX;
    int r = fs->app->data(c, fs->app_state, p, n);
    switch (r) {
    case VG_SENSOR_APP_OK:
        break;
    case VG_SENSOR_APP_DONE:
        fs->appst = VG_SENSOR_APPST_DONE;
        break;
    case VG_SENSOR_APP_UPGRADE_TLS: {
        size_t used = c->eng->upgrade_used < n ? c->eng->upgrade_used : n;
        if (!fs->is_tcp) {
            fs->appst = VG_SENSOR_APPST_DONE;
            break;
        }
        app_upgrade(c, fs);
        if (used < n) {
            app_bytes(c, fs, p + used, n - used);
        }
        break;
    }
    default:
        c->eng->st.app_errors++;
        vg_sensor_eve_anomaly(c, "applayer", "APPLAYER_PARSER_ERROR", 1);
        fs->appst = VG_SENSOR_APPST_ERROR;
        break;
    }
}

/*
 * Ask the candidate parsers about the first bytes of a direction: the preferred one (after an
 * upgrade) first, then port-hinted ones, then the others (content probes, except on ports of
 * another protocol sharing the format); the first "yes" wins (content over port). *wait says
 * some asked for more; *fallback is the first preferred or port-hinted parser that did not
 * say no.
 */
static const struct vg_sensor_app_proto *
app_choose(const struct vg_sensor_engine *e, const struct vg_sensor_flow *f,
           const struct vg_sensor_app_proto *prefer, const uint8_t *p, size_t n,
           enum vg_sensor_flow_dir d, bool *wait, const struct vg_sensor_app_proto **fallback)
{
    size_t np;
    const struct vg_sensor_app_proto *const *tab = proto_table(e, &np);
    *wait = false;
    *fallback = NULL;
    if (prefer && prefer->probe) {
        int r = prefer->probe(p, n, d);
        if (r == 1) {
            return prefer;
        }
        if (r < 0) {
            *wait = true;
            *fallback = prefer;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < np; i++) {
            const struct vg_sensor_app_proto *a = tab[i];
            if (a == prefer || a->ipproto != f->key.proto ||
                proto_port_match(a, &f->key) != (pass == 0) ||
                (pass == 1 && proto_foreign_port(a, &f->key))) {
                continue;
            }
            int r = a->probe ? a->probe(p, n, d) : (pass == 0 ? 1 : 0);
            if (r == 1) {
                return a;
            }
            if (r < 0) {
                *wait = true;
                if (pass == 0 && !*fallback) {
                    *fallback = a;
                }
            }
        }
    }
    return NULL;
}

/* Keep a direction's first bytes while probing (bounded; the excess is counted as lost).
 * Returns false when no buffer could be had. */
static bool probe_keep(struct vg_sensor_fstate *fs, int d, const uint8_t *p, size_t n)
{
    if (!fs->probe_buf[d]) {
        fs->probe_buf[d] = vg_malloc(PROBE_MAX);
        if (!fs->probe_buf[d]) {
            return false;
        }
    }
    size_t room = PROBE_MAX - fs->probe_len[d];
    size_t k = fs->probe_lost[d] ? 0 : (n < room ? n : room);
    memcpy(fs->probe_buf[d] + fs->probe_len[d], p, k);
    fs->probe_len[d] = (uint16_t)(fs->probe_len[d] + k);
    fs->probe_lost[d] += n - k;
    return true;
}

static void app_gap_to_parser(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, size_t n)
{
    if (n && fs->appst == VG_SENSOR_APPST_ACTIVE && fs->app->gap) {
        fs->app->gap(c, fs->app_state, n);
    }
}

/*
 * Feed a direction's leading gap, kept bytes and later loss to the new parser. The buffer is
 * detached first: a parser that upgrades during the replay sends what follows to a new
 * detection, which keeps its own bytes.
 */
static void probe_replay(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, int d)
{
    uint8_t *buf = fs->probe_buf[d];
    size_t len = fs->probe_len[d], lead = fs->probe_lead[d], lost = fs->probe_lost[d];
    fs->probe_buf[d] = NULL;
    fs->probe_len[d] = 0;
    fs->probe_lost[d] = fs->probe_lead[d] = 0;
    enum vg_sensor_flow_dir saved = c->dir;
    c->dir = (enum vg_sensor_flow_dir)d;
    if (lead) {
        app_gap(c, fs, lead);
    }
    if (len) {
        app_bytes(c, fs, buf, len);
    }
    if (lost) {
        app_gap(c, fs, lost);
    }
    c->dir = saved;
    vg_free(buf);
}

/* A parser was chosen: replay what both directions kept, in arrival order. */
static void app_start_tcp(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs,
                          const struct vg_sensor_app_proto *a)
{
    app_activate(c->eng, fs, a);
    int first = fs->first_dir == 1 ? 1 : 0;
    probe_replay(c, fs, first);
    probe_replay(c, fs, !first);
}

static void app_give_up(struct vg_sensor_fstate *fs)
{
    fs->appst = VG_SENSOR_APPST_NONE;
    for (int d = 0; d < 2; d++) {
        vg_free(fs->probe_buf[d]);
        fs->probe_buf[d] = NULL;
        fs->probe_len[d] = 0;
    }
}

/*
 * Decide from what direction d kept: a parser that says yes starts; "need more" waits unless
 * final (flow end, a gap, the bound) and then falls back on the port-hinted parser; no
 * verdict leaves the choice to the other direction.
 */
static void probe_decide(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, int d,
                         bool final)
{
    bool wait;
    const struct vg_sensor_app_proto *fb;
    const struct vg_sensor_app_proto *a =
        app_choose(c->eng, c->flow, fs->prefer, fs->probe_buf[d], fs->probe_len[d],
                   (enum vg_sensor_flow_dir)d, &wait, &fb);
    if (!a && wait && !final && fs->probe_len[d] < PROBE_MAX && !fs->probe_lost[d]) {
        return;
    }
    if (!a && wait) {
        a = fb;
    }
    if (a) {
        app_start_tcp(c, fs, a);
        return;
    }
    fs->probe_done[d] = 1;
    if (fs->probe_done[!d]) {
        app_give_up(fs);
    }
}

/*
 * TCP bytes while the protocol is unknown. The probes see the direction's kept bytes plus
 * these (or these alone when nothing is kept: no copy); once a parser is chosen, the kept
 * bytes are replayed and these are handed over whole, so a segment larger than the probe
 * buffer loses nothing.
 */
static void app_probe_tcp(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs,
                          const uint8_t *p, size_t n)
{
    int d = (int)c->dir;
    if (fs->first_dir == 0xff) {
        fs->first_dir = (uint8_t)d;
    }
    if (fs->probe_done[d]) {
        if (!probe_keep(fs, d, p, n)) {
            app_give_up(fs);
        }
        return;
    }
    uint16_t before = fs->probe_len[d];
    size_t lost_before = fs->probe_lost[d];
    bool held = before > 0 || lost_before > 0;
    const uint8_t *q = p;
    size_t qn = n;
    if (held) {
        if (!probe_keep(fs, d, p, n)) {
            app_give_up(fs);
            return;
        }
        q = fs->probe_buf[d];
        qn = fs->probe_len[d];
    }
    bool wait, final = qn >= PROBE_MAX || fs->probe_lost[d];
    const struct vg_sensor_app_proto *fb;
    const struct vg_sensor_app_proto *a =
        app_choose(c->eng, c->flow, fs->prefer, q, qn, (enum vg_sensor_flow_dir)d, &wait, &fb);
    if (!a && wait && final) {
        a = fb;
    }
    if (a) {
        /* The buffer may hold the head of p: drop it, p goes whole after the replay. */
        fs->probe_len[d] = before;
        fs->probe_lost[d] = lost_before;
        app_start_tcp(c, fs, a);
        c->dir = (enum vg_sensor_flow_dir)d;
        app_bytes(c, fs, p, n);
        return;
    }
    if (!held && !probe_keep(fs, d, p, n)) {
        app_give_up(fs);
        return;
    }
    if (wait && !final) {
        return;
    }
    fs->probe_done[d] = 1;
    if (fs->probe_done[!d]) {
        app_give_up(fs);
    }
}

/* One UDP datagram while the protocol is unknown. */
static void app_probe_udp(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs,
                          const uint8_t *p, size_t n)
{
    bool wait;
    const struct vg_sensor_app_proto *fb;
    const struct vg_sensor_app_proto *a =
        app_choose(c->eng, c->flow, NULL, p, n, c->dir, &wait, &fb);
    if (a) {
        app_activate(c->eng, fs, a);
        app_feed(c, fs, p, n);
        return;
    }
    int d = (int)c->dir;
    if (++fs->probe_done[d] >= PROBE_UDP_MAX) {
        fs->appst = VG_SENSOR_APPST_NONE;
    }
}

/* In-order TCP bytes of c->dir: to the detection while probing, else to the parser. */
static void app_bytes(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, const uint8_t *p,
                      size_t n)
{
    if (fs->appst == VG_SENSOR_APPST_PROBING) {
        app_probe_tcp(c, fs, p, n);
        return;
    }
    app_feed(c, fs, p, n);
}

void vg_sensor_engine_app_data(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs,
                               const uint8_t *p, size_t n)
{
    c->eng->st.tcp_reassembled_bytes += n;
    fs->had_data = true;
    app_bytes(c, fs, p, n);
}

/* n bytes of c->dir lost: while probing, decide now (what follows is not contiguous). */
static void app_gap(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, size_t n)
{
    int d = (int)c->dir;
    if (fs->appst == VG_SENSOR_APPST_PROBING) {
        if (!fs->probe_len[d] && !fs->probe_lost[d]) {
            fs->probe_lead[d] += n; /* the direction starts with a hole */
            return;
        }
        if (!fs->probe_done[d]) {
            probe_decide(c, fs, d, true);
        }
        if (fs->appst == VG_SENSOR_APPST_PROBING) {
            fs->probe_lost[d] += n;
            return;
        }
    }
    app_gap_to_parser(c, fs, n);
}

void vg_sensor_engine_app_gap(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, size_t n)
{
    c->eng->st.tcp_gaps++;
    app_gap(c, fs, n);
}

/* At flow end a flow still probing gets its port-hinted parser if the bytes did not rule it
 * out (a short, truncated session), else app_proto "failed". */
static void app_end_probing(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs)
{
    for (int d = 0; d < 2 && fs->appst == VG_SENSOR_APPST_PROBING; d++) {
        if (fs->probe_len[d] && !fs->probe_done[d]) {
            probe_decide(c, fs, d, true);
        }
    }
    if (fs->appst == VG_SENSOR_APPST_PROBING && fs->had_data) {
        app_give_up(fs);
    }
}

/* ---------------------------------------------------------------- flow records */

static void put_tcp_flags(struct vg_sbuf *s, const char *key, uint8_t fl)
{
    static const char hex[] = "0123456789abcdef";
    char v[2] = {hex[fl >> 4], hex[fl & 15]};
    vg_sensor_json_kstr(s, key, v, 2);
}

/* Suricata's flow.state: new (one way only), established, closed (TCP closed). */
static const char *flow_state_name(const struct vg_sensor_flow *f,
                                   const struct vg_sensor_fstate *fs)
{
    if (f->key.proto == 6) {
        const char *t = vg_sensor_stream_state_name(f, fs);
        if (strcmp(t, "closed") == 0) {
            return "closed";
        }
        if (strcmp(t, "none") == 0 || strncmp(t, "syn_", 4) == 0) {
            return "new";
        }
        return "established";
    }
    return f->pkts[0] && f->pkts[1] ? "established" : "new";
}

static const char *flow_reason_name(enum vg_sensor_flow_end why)
{
    switch (why) {
    case VG_SENSOR_FLOW_END_TIMEOUT:
    case VG_SENSOR_FLOW_END_REUSE: /* Suricata times the old connection out too */
        return "timeout";
    case VG_SENSOR_FLOW_END_EVICTED:
        return "forced";
    default:
        return "shutdown";
    }
}

static void flow_rec_tcp(struct vg_sbuf *s, const struct vg_sensor_flow *f,
                         const struct vg_sensor_fstate *fs)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } bits[] = {{0x02, "syn"}, {0x01, "fin"}, {0x04, "rst"}, {0x08, "psh"},
                {0x10, "ack"}, {0x20, "urg"}, {0x40, "ecn"}, {0x80, "cwr"}};
    uint8_t all = (uint8_t)(f->tcp_flags[0] | f->tcp_flags[1]);
    vg_sbuf_add(s, ",\"tcp\":{", 8);
    put_tcp_flags(s, "tcp_flags", all);
    int ts = fs->swapped ? 1 : 0;
    put_tcp_flags(s, "tcp_flags_ts", f->tcp_flags[ts]);
    put_tcp_flags(s, "tcp_flags_tc", f->tcp_flags[!ts]);
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if (all & bits[i].bit) {
            vg_sensor_json_kbool(s, bits[i].name, true);
        }
    }
    const char *st = vg_sensor_stream_state_name(f, fs);
    vg_sensor_json_kstr(s, "state", st, strlen(st));
    vg_sbuf_addc(s, '}');
}

static void flow_rec_app(struct vg_sbuf *s, const struct vg_sensor_fstate *fs)
{
    const char *name = vg_sensor_expect_label(fs);
    if (fs->app) {
        name = fs->app->name;
    } else if (!name && (fs->had_data || fs->app_orig)) {
        name = "failed";
    }
    if (name) {
        vg_sensor_json_kstr(s, "app_proto", name, strlen(name));
    }
    if (fs->app_orig) {
        vg_sensor_json_kstr(s, "app_proto_orig", fs->app_orig->name, strlen(fs->app_orig->name));
    }
}

static void flow_rec_icmp(struct vg_sbuf *s, const struct vg_sensor_fstate *fs)
{
    if (fs->icmp_seen & 1) {
        vg_sensor_json_kint(s, "icmp_type", fs->icmp_type[0]);
        vg_sensor_json_kint(s, "icmp_code", fs->icmp_code[0]);
    }
    if (fs->icmp_seen & 2) {
        vg_sensor_json_kint(s, "response_icmp_type", fs->icmp_type[1]);
        vg_sensor_json_kint(s, "response_icmp_code", fs->icmp_code[1]);
    }
}

static void flow_record(struct vg_sensor_app_ctx *c, const struct vg_sensor_fstate *fs,
                        enum vg_sensor_flow_end why)
{
    const struct vg_sensor_flow *f = c->flow;
    struct vg_sbuf *s = vg_sensor_rec_begin(c, "flow", VG_SENSOR_REC_FLOW, -1);
    if (f->key.proto == 1 || f->key.proto == 58) {
        flow_rec_icmp(s, fs);
    }
    flow_rec_app(s, fs);
    vg_sbuf_add(s, ",\"flow\":{", 9);
    int ts = fs->swapped ? 1 : 0;
    vg_sensor_json_kint(s, "pkts_toserver", (int64_t)f->pkts[ts]);
    vg_sensor_json_kint(s, "pkts_toclient", (int64_t)f->pkts[!ts]);
    vg_sensor_json_kint(s, "bytes_toserver", (int64_t)f->bytes[ts]);
    vg_sensor_json_kint(s, "bytes_toclient", (int64_t)f->bytes[!ts]);
    vg_sbuf_add(s, ",\"start\":", 9);
    vg_sensor_json_time(s, f->first_ns);
    vg_sbuf_add(s, ",\"end\":", 7);
    vg_sensor_json_time(s, f->last_ns);
    int64_t a = f->last_ns / 1000000000 - f->first_ns / 1000000000;
    vg_sensor_json_kint(s, "age", a < 0 ? 0 : a);
    const char *st = flow_state_name(f, fs);
    vg_sensor_json_kstr(s, "state", st, strlen(st));
    const char *r = flow_reason_name(why);
    vg_sensor_json_kstr(s, "reason", r, strlen(r));
    vg_sensor_json_kbool(s, "alerted", fs->alerted);
    if (fs->tx_cnt) {
        vg_sensor_json_kint(s, "tx_cnt", (int64_t)fs->tx_cnt);
    }
    vg_sbuf_addc(s, '}');
    if (f->key.proto == 6) {
        flow_rec_tcp(s, f, fs);
    }
    vg_sensor_rec_end(c);
}

/* The flow table's end callback: flush the stream and parser, run detections, log. */
static void flow_ended(void *ctx, struct vg_sensor_flow *flow, enum vg_sensor_flow_end why)
{
    struct vg_sensor_engine *e = ctx;
    struct vg_sensor_fstate *fs = flow->user;
    if (!fs) {
        return;
    }
    struct vg_sensor_app_ctx c = {.eng = e,
                                  .flow = flow,
                                  .dir = VG_SENSOR_FLOW_TO_SERVER,
                                  .ts_ns = flow->last_ns,
                                  .pcap_cnt = e->pcap_cnt,
                                  .pkt = NULL};
    if (fs->is_tcp) {
        vg_sensor_stream_end(e, &c, fs);
        app_end_probing(&c, fs);
    }
    if (fs->appst == VG_SENSOR_APPST_ACTIVE && fs->app->end) {
        c.dir = VG_SENSOR_FLOW_TO_SERVER;
        fs->app->end(&c, fs->app_state);
    }
    if (e->det) {
        vg_sensor_detect_flow_end(e->det, &c);
    }
    if (fs->exp) {
        vg_sensor_expect_flow_end(&c, fs);
    }
    if (e->cfg.log_flow) {
        flow_record(&c, fs, why);
    }
    vg_sensor_expect_release(fs);
    fstate_release(e, fs);
    vg_free(fs);
    flow->user = NULL;
}

/* ---------------------------------------------------------------- packet path */

/* Suricata's name for a decoder anomaly where one corresponds, else ours. */
static const char *anomaly_event_name(enum vg_sensor_anomaly a)
{
    static const char *const names[VG_SENSOR_ANOM_COUNT] = {
        [VG_SENSOR_ANOM_ETH_TRUNC] = "decoder.ethernet.pkt_too_small",
        [VG_SENSOR_ANOM_PPPOE_TRUNC] = "decoder.pppoe.pkt_too_small",
        [VG_SENSOR_ANOM_MPLS_TRUNC] = "decoder.mpls.header_too_small",
        [VG_SENSOR_ANOM_VLAN_TRUNC] = "decoder.vlan.header_too_small",
        [VG_SENSOR_ANOM_VLAN_TOO_DEEP] = "decoder.vlan.too_many_layers",
        [VG_SENSOR_ANOM_SLL_TRUNC] = "decoder.sll.pkt_too_small",
        [VG_SENSOR_ANOM_NULL_TRUNC] = "decoder.null.pkt_too_small",
        [VG_SENSOR_ANOM_IPV4_TRUNC] = "decoder.ipv4.pkt_too_small",
        [VG_SENSOR_ANOM_IPV4_BAD_VERSION] = "decoder.ipv4.wrong_ip_version",
        [VG_SENSOR_ANOM_IPV4_BAD_IHL] = "decoder.ipv4.hlen_too_small",
        [VG_SENSOR_ANOM_IPV4_BAD_TOTLEN] = "decoder.ipv4.iplen_smaller_than_hlen",
        [VG_SENSOR_ANOM_IPV6_TRUNC] = "decoder.ipv6.pkt_too_small",
        [VG_SENSOR_ANOM_IPV6_BAD_VERSION] = "decoder.ipv6.wrong_ip_version",
        [VG_SENSOR_ANOM_IPV6_EXT_TRUNC] = "decoder.ipv6.trunc_exthdr",
        [VG_SENSOR_ANOM_IPV6_HBH_NOT_FIRST] = "decoder.ipv6.hopopts_not_first",
        [VG_SENSOR_ANOM_TCP_TRUNC] = "decoder.tcp.pkt_too_small",
        [VG_SENSOR_ANOM_TCP_HLEN_SHORT] = "decoder.tcp.hlen_too_small",
        [VG_SENSOR_ANOM_UDP_TRUNC] = "decoder.udp.pkt_too_small",
        [VG_SENSOR_ANOM_UDP_BAD_LEN] = "decoder.udp.hlen_invalid",
        [VG_SENSOR_ANOM_ICMP_TRUNC] = "decoder.icmpv4.pkt_too_small",
        [VG_SENSOR_ANOM_GRE_TRUNC] = "decoder.gre.pkt_too_small",
        [VG_SENSOR_ANOM_GRE_BAD_VERSION] = "decoder.gre.wrong_version",
        [VG_SENSOR_ANOM_TUNNEL_TOO_DEEP] = "decoder.too_many_layers",
    };
    if ((unsigned)a < VG_SENSOR_ANOM_COUNT && names[a]) {
        return names[a];
    }
    return vg_sensor_anomaly_name(a);
}

static void decode_anomalies(struct vg_sensor_engine *e, const struct vg_sensor_pkt *pkt,
                             int64_t ts)
{
    struct vg_sensor_app_ctx c = {
        .eng = e, .flow = NULL, .dir = 0, .ts_ns = ts, .pcap_cnt = e->pcap_cnt, .pkt = pkt};
    e->st.decode_errors++;
    for (unsigned a = 1; a < VG_SENSOR_ANOM_COUNT; a++) {
        if (pkt->anomalies & (1u << a)) {
            vg_sensor_eve_anomaly(&c, "decode", anomaly_event_name(a), 0);
        }
    }
}

/* ICMP echo identifier (both ports) so requests and replies share a flow. */
static uint16_t icmp_echo_id(const struct vg_sensor_pkt *pkt)
{
    bool echo = pkt->proto == 1 ? (pkt->icmp_type == 8 || pkt->icmp_type == 0)
                                : (pkt->icmp_type == 128 || pkt->icmp_type == 129);
    if (!echo || !pkt->payload || pkt->payload_len < 2) {
        return 0;
    }
    return (uint16_t)(pkt->payload[0] << 8 | pkt->payload[1]);
}

static void key_from_pkt(struct vg_flow_key *k, const struct vg_sensor_pkt *pkt)
{
    memset(k, 0, sizeof(*k));
    k->family = pkt->ip_version == 6 ? VG_SENSOR_FLOW_AF_INET6 : VG_SENSOR_FLOW_AF_INET;
    k->proto = pkt->proto;
    k->vlan = pkt->vlan_count ? pkt->vlan[0] : 0;
    if (pkt->proto == 6 || pkt->proto == 17) {
        k->sport = pkt->sport;
        k->dport = pkt->dport;
    } else if ((pkt->proto == 1 || pkt->proto == 58) && pkt->l4) {
        k->sport = k->dport = icmp_echo_id(pkt);
    }
    memcpy(k->src, pkt->src, pkt->ip_version == 6 ? 16 : 4);
    memcpy(k->dst, pkt->dst, pkt->ip_version == 6 ? 16 : 4);
}

/*
 * An ICMP error (unreachable, time exceeded, …) quotes the IP header and first 8 bytes of the
 * packet it answers: like Suricata, account it to that packet's flow, toward its sender.
 * Returns true and the key (oriented from the quoted packet's receiver) when it applies.
 */
static bool icmp_error_key(const struct vg_sensor_pkt *pkt, struct vg_flow_key *k)
{
    bool v4 = pkt->proto == 1;
    uint8_t t = pkt->icmp_type;
    bool err = v4 ? (t == 3 || t == 4 || t == 5 || t == 11 || t == 12) : (t >= 1 && t <= 4);
    if (!err || !pkt->l4 || pkt->payload_len < 4) {
        return false;
    }
    const uint8_t *q = pkt->payload + 4; /* after the ICMP header's second word */
    size_t n = pkt->payload_len - 4, hl;
    memset(k, 0, sizeof(*k));
    k->vlan = pkt->vlan_count ? pkt->vlan[0] : 0;
    if (v4) {
        if (n < 20 || q[0] >> 4 != 4 || (hl = (size_t)(q[0] & 15) * 4) < 20 || n < hl + 4) {
            return false;
        }
        k->family = VG_SENSOR_FLOW_AF_INET;
        k->proto = q[9];
        memcpy(k->src, q + 16, 4); /* reversed: from the quoted packet's receiver */
        memcpy(k->dst, q + 12, 4);
    } else {
        if (n < 44 || q[0] >> 4 != 6) {
            return false;
        }
        hl = 40;
        k->family = VG_SENSOR_FLOW_AF_INET6;
        k->proto = q[6];
        memcpy(k->src, q + 24, 16);
        memcpy(k->dst, q + 8, 16);
    }
    if (k->proto != 6 && k->proto != 17) {
        return false;
    }
    k->dport = (uint16_t)(q[hl] << 8 | q[hl + 1]);
    k->sport = (uint16_t)(q[hl + 2] << 8 | q[hl + 3]);
    return true;
}

static void packet_icmp(struct vg_sensor_fstate *fs, const struct vg_sensor_pkt *pkt, int d)
{
    if (!pkt->l4 || (fs->icmp_seen & (1u << d))) {
        return;
    }
    fs->icmp_seen = (uint8_t)(fs->icmp_seen | (1u << d));
    fs->icmp_type[d] = pkt->icmp_type;
    fs->icmp_code[d] = pkt->icmp_code;
}

/* Is a port of one of the candidate parsers of this protocol? */
static bool is_hinted_port(const struct vg_sensor_engine *e, uint8_t ipproto, uint16_t port)
{
    size_t np;
    const struct vg_sensor_app_proto *const *tab = proto_table(e, &np);
    for (size_t i = 0; i < np; i++) {
        if (tab[i]->ipproto != ipproto) {
            continue;
        }
        for (size_t k = 0; k < 8 && tab[i]->ports[k]; k++) {
            if (tab[i]->ports[k] == port) {
                return true;
            }
        }
    }
    return false;
}

/*
 * The first packet of a UDP flow, or of a TCP flow picked up without its SYN, comes from a
 * service port to a port that is not one: it is a reply, so (like Suricata) the flow is
 * logged the other way round.
 */
static bool first_is_reply(const struct vg_sensor_engine *e, const struct vg_sensor_flow *f,
                           const struct vg_sensor_pkt *pkt)
{
    if (f->pkts[0] + f->pkts[1] != 1 || (pkt->proto != 17 && pkt->proto != 6)) {
        return false;
    }
    if (pkt->proto == 6 && (pkt->tcp_flags & VG_SENSOR_TCP_SYN)) {
        return false;
    }
    return is_hinted_port(e, pkt->proto, pkt->sport) && !is_hinted_port(e, pkt->proto, pkt->dport);
}

/* A decoded, whole (not fragment) IP packet: flow table, then TCP/UDP. */
static void packet_flow(struct vg_sensor_engine *e, const struct vg_sensor_pkt *pkt, int64_t ts,
                        uint32_t wire_len)
{
    struct vg_flow_key k;
    bool icmp_err = (pkt->proto == 1 || pkt->proto == 58) && icmp_error_key(pkt, &k);
    if (!icmp_err) {
        key_from_pkt(&k, pkt);
    }
    if (e->cfg.no_vlan_tracking) {
        k.vlan = 0; /* one flow whatever the tags (asymmetric tagging, Suricata's
                       vlan.use-for-tracking: false) */
    }
    bool l4ok = pkt->l4 != NULL && !icmp_err;
    struct vg_flow_pkt fp = {.ts_ns = ts,
                             .bytes = wire_len,
                             .payload = l4ok ? pkt->payload_len : 0,
                             .tcp_flags = pkt->proto == 6 && l4ok ? (uint8_t)pkt->tcp_flags : 0};
    struct vg_sensor_flow *f;
    enum vg_sensor_flow_dir dir;
    if (vg_sensor_flow_lookup_or_create(e->ft, &k, &fp, &f, &dir) != VG_OK) {
        return;
    }
    struct vg_sensor_fstate *fs = f->user;
    if (!fs) {
        fs = f->user = fstate_new(e, f, pkt);
        if (!fs) {
            return;
        }
        fs->swapped = l4ok && first_is_reply(e, f, pkt);
        if (l4ok) {
            vg_sensor_expect_match(e, f, fs);
        }
    }
    if (e->frame_eth && !(fs->mac_seen & (1u << dir))) {
        fs->mac_seen = (uint8_t)(fs->mac_seen | (1u << dir));
        memcpy(fs->mac[dir], e->frame_eth, 12);
    }
    if (!l4ok) {
        return;
    }
    if (fs->swapped) {
        dir = (enum vg_sensor_flow_dir) !dir;
    }
    struct vg_sensor_app_ctx c = {
        .eng = e, .flow = f, .dir = dir, .ts_ns = ts, .pcap_cnt = e->pcap_cnt, .pkt = pkt};
    if (pkt->proto == 6) {
        e->st.tcp_segments++;
        vg_sensor_stream_packet(e, &c, fs, pkt);
    } else if (pkt->proto == 17 && pkt->payload_len) {
        fs->had_data = true;
        if (fs->appst == VG_SENSOR_APPST_PROBING) {
            app_probe_udp(&c, fs, pkt->payload, pkt->payload_len);
        } else {
            app_feed(&c, fs, pkt->payload, pkt->payload_len);
        }
    } else if (pkt->proto == 1 || pkt->proto == 58) {
        packet_icmp(fs, pkt, (int)dir);
    }
}

static void packet_defrag(struct vg_sensor_engine *e, const struct vg_sensor_pkt *pkt, int64_t ts,
                          uint32_t wire_len)
{
    struct vg_sensor_pkt whole;
    unsigned ev = 0;
    enum vg_sensor_defrag_res r = vg_sensor_defrag_add(e->defrag, pkt, ts, &whole, &ev);
    if (ev) {
        struct vg_sensor_app_ctx c = {
            .eng = e, .flow = NULL, .dir = 0, .ts_ns = ts, .pcap_cnt = e->pcap_cnt, .pkt = pkt};
        if (ev & VG_SENSOR_DEFRAG_EV_OVERLAP) {
            vg_sensor_eve_anomaly(&c, "decode", "defrag.overlap", 0);
        }
        if (ev & VG_SENSOR_DEFRAG_EV_TOO_BIG) {
            vg_sensor_eve_anomaly(&c, "decode", "defrag.too_large", 0);
        }
    }
    if (r == VG_SENSOR_DEFRAG_DONE) {
        packet_flow(e, &whole, ts, wire_len);
    }
}

void vg_sensor_engine_frame(struct vg_sensor_engine *e, const struct vg_sensor_frame *f,
                            uint64_t pcap_cnt)
{
    struct vg_sensor_pkt pkt;
    int64_t ts = (int64_t)f->ts_ns;
    e->pcap_cnt = pcap_cnt;
    e->st.packets++;
    e->st.bytes += f->origlen ? f->origlen : f->caplen;
    if (ts > e->now_ns) {
        e->now_ns = ts;
    }
    e->frame_eth = e->cfg.log_ether && f->linktype == VG_SENSOR_LINK_ETHERNET && f->caplen >= 14
                       ? f->data
                       : NULL;
    int rc = vg_sensor_decode(&pkt, f->linktype, f->data, f->caplen);
    if (rc != 0) {
        decode_anomalies(e, &pkt, ts);
    }
    if (pkt.ip_version == 0 || (rc != 0 && !pkt.l4 && !pkt.is_fragment)) {
        e->frame_eth = NULL;
        return;
    }
    if (pkt.is_fragment) {
        packet_defrag(e, &pkt, ts, f->caplen);
        e->frame_eth = NULL;
        return;
    }
    packet_flow(e, &pkt, ts, f->caplen);
    e->frame_eth = NULL;
}

void vg_sensor_engine_tick(struct vg_sensor_engine *e, int64_t now_ns)
{
    if (now_ns > e->now_ns) {
        e->now_ns = now_ns;
    }
    vg_sensor_flow_table_expire(e->ft, now_ns);
}

void vg_sensor_engine_flush(struct vg_sensor_engine *e)
{
    vg_sensor_flow_table_flush(e->ft);
}

const struct vg_sensor_engine_config *vg_sensor_engine_config_of(const struct vg_sensor_engine *e)
{
    return e ? &e->cfg : NULL;
}

void vg_sensor_engine_stats(const struct vg_sensor_engine *e, struct vg_sensor_engine_stats *out)
{
    *out = e->st;
    vg_sensor_flow_table_stats(e->ft, &out->flows);
}

struct vg_sensor_detect *vg_sensor_engine_detector(struct vg_sensor_engine *e)
{
    return e ? e->det : NULL;
}

/* ---------------------------------------------------------------- lifecycle */

int vg_sensor_engine_create(const struct vg_sensor_engine_config *cfg, vg_sensor_sink_fn sink,
                            void *sink_ctx, struct vg_sensor_engine **out)
{
    struct vg_sensor_engine *e = vg_calloc(1, sizeof(*e));
    int rc = VG_ENOMEM;
    if (!e) {
        return VG_ENOMEM;
    }
    if (cfg) {
        e->cfg = *cfg;
    } else {
        vg_sensor_engine_config_default(&e->cfg);
    }
    if (!e->cfg.stream_max_per_flow) {
        e->cfg.stream_max_per_flow = 1u << 20;
    }
    if (!e->cfg.stream_max_total) {
        e->cfg.stream_max_total = 256u << 20;
    }
    e->sink = sink;
    e->sink_ctx = sink_ctx;
    vg_sensor_engine_set_protos(e, default_protos,
                                sizeof(default_protos) / sizeof(default_protos[0]));
    rc = vg_sensor_flow_table_create(&e->cfg.flow, flow_ended, e, &e->ft);
    if (rc != VG_OK) {
        goto fail;
    }
    rc = vg_sensor_defrag_create(0, 0, &e->defrag);
    if (rc != VG_OK) {
        goto fail;
    }
    if (e->cfg.detect) {
        rc = vg_sensor_detect_create(&e->det);
        if (rc != VG_OK) {
            goto fail;
        }
    }
    *out = e;
    return VG_OK;
fail:
    vg_sensor_engine_destroy(e);
    return rc;
}

void vg_sensor_engine_destroy(struct vg_sensor_engine *e)
{
    if (!e) {
        return;
    }
    /* Live flows still own state: end them quietly so nothing leaks. */
    if (e->ft) {
        e->cfg.log_flow = false;
        e->sink = NULL;
        vg_sensor_flow_table_flush(e->ft);
        vg_sensor_flow_table_destroy(e->ft);
    }
    vg_sensor_defrag_destroy(e->defrag);
    if (e->det) {
        vg_sensor_detect_destroy(e->det);
    }
    vg_sbuf_fini(&e->rec);
    vg_free(e);
}
