/*
 * sensor_flow.c — the sensor's bidirectional flow table (see sensor_flow.h).
 *
 * Layout: flows live in chunks of 4096 nodes (stable pointers, memory grows with use) and
 * are named by a 32-bit index. A power-of-two bucket array heads chains through node.hnext;
 * the hash is vg_hash64 over the key in canonical order (lower endpoint first) so both
 * directions hash alike, and each node keeps 32 bits of it to skip most key compares.
 * Each node is also on one doubly linked list per timeout class, in last-seen order; a
 * packet moves its flow to the tail, so the head of each list is the next to expire and the
 * oldest idle flow of the table is the oldest of the class heads.
 */
#include "sensor/sensor_flow.h"

#include <string.h>

#include "core/core.h"

_Static_assert(sizeof(struct vg_flow_key) == 40, "vg_flow_key must have no padding");

#define NIL         UINT32_MAX
#define CHUNK_SHIFT 12
#define CHUNK_SIZE  (1u << CHUNK_SHIFT)
#define SEC         1000000000LL

enum flow_class {
    CLS_TCP_NEW,
    CLS_TCP_EST,
    CLS_TCP_CLOSING,
    CLS_TCP_CLOSED,
    CLS_UDP,
    CLS_ICMP,
    CLS_OTHER,
    CLS_COUNT,
};

struct flow_node {
    struct vg_sensor_flow pub; /* first: the public pointer is the node pointer */
    uint32_t hnext;            /* next in the bucket chain, or the free list */
    uint32_t prev, next;       /* class list */
    uint32_t hash;             /* low 32 bits of the key hash */
    int64_t enq;               /* packet clock when last appended to its class list */
    uint8_t cls;               /* enum flow_class */
    uint8_t live;
};

struct flow_list {
    uint32_t head, tail;
};

struct vg_sensor_flow_table {
    struct vg_sensor_flow_config cfg;
    int64_t timeout[CLS_COUNT];
    int64_t slack[CLS_COUNT]; /* timeout / 64: how stale a list position may get */
    vg_sensor_flow_end_fn end_cb;
    void *ctx;
    struct flow_node **chunks;
    size_t nchunks;
    uint32_t *buckets;
    uint64_t mask;
    uint32_t hw;        /* slots ever used */
    uint32_t free_head; /* free list through hnext */
    struct flow_list lists[CLS_COUNT];
    int64_t clock;
    struct vg_sensor_flow_stats st;
};

/* ---------------------------------------------------------------- configuration */

void vg_sensor_flow_config_default(struct vg_sensor_flow_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_flows = 1000000;
    cfg->tcp_new_ns = 30 * SEC;
    cfg->tcp_est_ns = 3600 * SEC;
    cfg->tcp_closing_ns = 30 * SEC;
    cfg->tcp_closed_ns = 10 * SEC;
    cfg->udp_ns = 120 * SEC;
    cfg->icmp_ns = 30 * SEC;
    cfg->other_ns = 60 * SEC;
}

/* Replace zero fields with defaults; reject negative timeouts and absurd bounds. */
static int config_resolve(const struct vg_sensor_flow_config *in, struct vg_sensor_flow_config *c)
{
    struct vg_sensor_flow_config d;
    vg_sensor_flow_config_default(&d);
    *c = in ? *in : d;
    int64_t *f[] = {&c->tcp_new_ns, &c->tcp_est_ns, &c->tcp_closing_ns, &c->tcp_closed_ns,
                    &c->udp_ns,     &c->icmp_ns,    &c->other_ns};
    const int64_t *g[] = {&d.tcp_new_ns, &d.tcp_est_ns, &d.tcp_closing_ns, &d.tcp_closed_ns,
                          &d.udp_ns,     &d.icmp_ns,    &d.other_ns};
    for (size_t i = 0; i < VG_ARRAY_LEN(f); i++) {
        if (*f[i] < 0) {
            return VG_EINVAL;
        }
        if (*f[i] == 0) {
            *f[i] = *g[i];
        }
    }
    if (c->max_flows == 0) {
        c->max_flows = d.max_flows;
    }
    return c->max_flows >= (1u << 30) ? VG_EINVAL : VG_OK;
}

/* ---------------------------------------------------------------- create / destroy */

int vg_sensor_flow_table_create(const struct vg_sensor_flow_config *cfg,
                                vg_sensor_flow_end_fn end_cb, void *ctx,
                                struct vg_sensor_flow_table **out)
{
    struct vg_sensor_flow_table *t = NULL;
    int rc = VG_ENOMEM;
    if (!out) {
        return VG_EINVAL;
    }
    *out = NULL;
    t = vg_calloc(1, sizeof(*t));
    if (!t) {
        goto fail;
    }
    rc = config_resolve(cfg, &t->cfg);
    if (rc != VG_OK) {
        goto fail;
    }
    rc = VG_ENOMEM;
    const struct vg_sensor_flow_config *c = &t->cfg;
    int64_t tmo[CLS_COUNT] = {c->tcp_new_ns, c->tcp_est_ns, c->tcp_closing_ns, c->tcp_closed_ns,
                              c->udp_ns,     c->icmp_ns,    c->other_ns};
    memcpy(t->timeout, tmo, sizeof(tmo));
    for (int i = 0; i < CLS_COUNT; i++) {
        t->slack[i] = tmo[i] / 64;
    }
    uint64_t nb = 16;
    while (nb < c->max_flows) {
        nb <<= 1;
    }
    t->mask = nb - 1;
    t->buckets = vg_malloc(nb * sizeof(uint32_t));
    t->nchunks = (c->max_flows + CHUNK_SIZE - 1) / CHUNK_SIZE;
    t->chunks = vg_calloc(t->nchunks, sizeof(*t->chunks));
    if (!t->buckets || !t->chunks) {
        goto fail;
    }
    memset(t->buckets, 0xff, nb * sizeof(uint32_t));
    for (int i = 0; i < CLS_COUNT; i++) {
        t->lists[i].head = t->lists[i].tail = NIL;
    }
    t->free_head = NIL;
    t->clock = INT64_MIN;
    if (c->hash_seed == 0) {
        t->cfg.hash_seed = vg_hash_mix((uint64_t)vg_time_now() ^ (uint64_t)(uintptr_t)t);
    }
    t->end_cb = end_cb;
    t->ctx = ctx;
    *out = t;
    return VG_OK;
fail:
    vg_sensor_flow_table_destroy(t);
    return rc;
}

void vg_sensor_flow_table_destroy(struct vg_sensor_flow_table *t)
{
    if (!t) {
        return;
    }
    for (size_t i = 0; t->chunks && i < t->nchunks; i++) {
        vg_free(t->chunks[i]);
    }
    vg_free(t->chunks);
    vg_free(t->buckets);
    vg_free(t);
}

/* ---------------------------------------------------------------- nodes and lists */

static inline struct flow_node *node_at(const struct vg_sensor_flow_table *t, uint32_t i)
{
    return &t->chunks[i >> CHUNK_SHIFT][i & (CHUNK_SIZE - 1)];
}

static void list_unlink(struct vg_sensor_flow_table *t, uint32_t i, struct flow_node *n)
{
    struct flow_list *l = &t->lists[n->cls];
    if (n->prev != NIL) {
        node_at(t, n->prev)->next = n->next;
    } else {
        l->head = n->next;
    }
    if (n->next != NIL) {
        node_at(t, n->next)->prev = n->prev;
    } else {
        l->tail = n->prev;
    }
    (void)i;
}

static void list_append(struct vg_sensor_flow_table *t, uint32_t i, struct flow_node *n, int cls)
{
    struct flow_list *l = &t->lists[cls];
    n->cls = (uint8_t)cls;
    n->enq = t->clock;
    n->next = NIL;
    n->prev = l->tail;
    if (l->tail != NIL) {
        node_at(t, l->tail)->next = i;
    } else {
        l->head = i;
    }
    l->tail = i;
}

/* Take a free slot (NIL if the table holds max_flows or a chunk allocation fails). */
static uint32_t slot_alloc(struct vg_sensor_flow_table *t)
{
    if (t->free_head != NIL) {
        uint32_t i = t->free_head;
        t->free_head = node_at(t, i)->hnext;
        return i;
    }
    if (t->hw >= t->cfg.max_flows) {
        return NIL;
    }
    uint32_t i = t->hw;
    if (!t->chunks[i >> CHUNK_SHIFT]) {
        t->chunks[i >> CHUNK_SHIFT] = vg_malloc(CHUNK_SIZE * sizeof(struct flow_node));
        if (!t->chunks[i >> CHUNK_SHIFT]) {
            return NIL;
        }
    }
    t->hw++;
    return i;
}

/* Unchain flow i from its bucket, report it, and put its slot on the free list. */
static void flow_end(struct vg_sensor_flow_table *t, uint32_t i, enum vg_sensor_flow_end why)
{
    struct flow_node *n = node_at(t, i);
    uint32_t *pp = &t->buckets[n->hash & t->mask];
    while (*pp != i) {
        pp = &node_at(t, *pp)->hnext;
    }
    *pp = n->hnext;
    list_unlink(t, i, n);
    uint64_t *ctr[] = {&t->st.timed_out, &t->st.evicted, &t->st.flushed, &t->st.reused};
    (*ctr[why])++;
    t->st.active--;
    if (t->end_cb) {
        t->end_cb(t->ctx, &n->pub, why);
    }
    n->live = 0;
    n->hnext = t->free_head;
    t->free_head = i;
}

/* ---------------------------------------------------------------- expiry */

static void expire_until(struct vg_sensor_flow_table *t, int64_t now)
{
    for (int c = 0; c < CLS_COUNT; c++) {
        struct flow_list *l = &t->lists[c];
        int64_t tmo = t->timeout[c];
        while (l->head != NIL && node_at(t, l->head)->pub.last_ns + tmo <= now) {
            flow_end(t, l->head, VG_SENSOR_FLOW_END_TIMEOUT);
        }
    }
}

void vg_sensor_flow_table_expire(struct vg_sensor_flow_table *t, int64_t now_ns)
{
    if (!t || now_ns <= t->clock) {
        return;
    }
    t->clock = now_ns;
    expire_until(t, now_ns);
}

/* End the flow idle the longest: the oldest of the class heads. */
static void evict_oldest(struct vg_sensor_flow_table *t)
{
    uint32_t best = NIL;
    int64_t best_ts = INT64_MAX;
    for (int c = 0; c < CLS_COUNT; c++) {
        uint32_t h = t->lists[c].head;
        if (h != NIL && node_at(t, h)->pub.last_ns < best_ts) {
            best = h;
            best_ts = node_at(t, h)->pub.last_ns;
        }
    }
    if (best != NIL) {
        flow_end(t, best, VG_SENSOR_FLOW_END_EVICTED);
    }
}

void vg_sensor_flow_table_flush(struct vg_sensor_flow_table *t)
{
    if (!t) {
        return;
    }
    for (int c = 0; c < CLS_COUNT; c++) {
        while (t->lists[c].head != NIL) {
            flow_end(t, t->lists[c].head, VG_SENSOR_FLOW_END_FLUSH);
        }
    }
}

/* ---------------------------------------------------------------- keys */

/* Byte equality of n (a multiple of 8) bytes through word loads: memcmp here is a call. */
static inline int words_eq(const void *a, const void *b, size_t n)
{
    uint64_t x = 0;
    for (size_t o = 0; o < n; o += 8) {
        uint64_t u, v;
        memcpy(&u, (const char *)a + o, 8);
        memcpy(&v, (const char *)b + o, 8);
        x |= u ^ v;
    }
    return x == 0;
}

/* True if (a, ap) sorts after (b, bp): the key is then reversed to canonical order. */
static inline int endpoint_after(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp)
{
    int c = memcmp(a, b, 16);
    return c > 0 || (c == 0 && ap > bp);
}

static void key_reverse(const struct vg_flow_key *k, struct vg_flow_key *r)
{
    r->family = k->family;
    r->proto = k->proto;
    r->vlan = k->vlan;
    r->sport = k->dport;
    r->dport = k->sport;
    memcpy(r->src, k->dst, 16);
    memcpy(r->dst, k->src, 16);
}

static uint64_t key_hash(const struct vg_sensor_flow_table *t, const struct vg_flow_key *k)
{
    if (endpoint_after(k->src, k->sport, k->dst, k->dport)) {
        struct vg_flow_key r;
        key_reverse(k, &r);
        return vg_hash64(&r, sizeof(r), t->cfg.hash_seed);
    }
    return vg_hash64(k, sizeof(*k), t->cfg.hash_seed);
}

/* 0: k equals the flow's key; 1: k is its reverse; -1: another flow. */
static inline int key_match(const struct vg_flow_key *fk, const struct vg_flow_key *k)
{
    if (words_eq(fk, k, sizeof(*k))) {
        return 0;
    }
    if (fk->family == k->family && fk->proto == k->proto && fk->vlan == k->vlan &&
        fk->sport == k->dport && fk->dport == k->sport && words_eq(fk->src, k->dst, 16) &&
        words_eq(fk->dst, k->src, 16)) {
        return 1;
    }
    return -1;
}

/* ---------------------------------------------------------------- TCP state */

static int class_of(const struct vg_sensor_flow *f)
{
    switch (f->key.proto) {
    case 6:
        switch (f->tcp_state) {
        case VG_SENSOR_TCP_ESTABLISHED:
            return CLS_TCP_EST;
        case VG_SENSOR_TCP_CLOSING:
            return CLS_TCP_CLOSING;
        case VG_SENSOR_TCP_CLOSED:
            return CLS_TCP_CLOSED;
        default:
            return CLS_TCP_NEW;
        }
    case 17:
        return CLS_UDP;
    case 1:
    case 58:
        return CLS_ICMP;
    default:
        return CLS_OTHER;
    }
}

/* Advance the TCP state on a packet with flags fl going in direction d. */
static void tcp_advance(struct vg_sensor_flow *f, uint8_t fl, int d)
{
    uint8_t s = f->tcp_state;
    if (fl & VG_SENSOR_TCP_RST) {
        s = VG_SENSOR_TCP_CLOSED;
    } else if (fl & VG_SENSOR_TCP_FIN) {
        /* f->tcp_flags already includes this packet's flags. */
        int both = (f->tcp_flags[0] & f->tcp_flags[1] & VG_SENSOR_TCP_FIN) != 0;
        s = both ? VG_SENSOR_TCP_CLOSED : VG_SENSOR_TCP_CLOSING;
    } else if (s >= VG_SENSOR_TCP_CLOSING) {
        /* stay: ACKs and retransmissions after a FIN or RST do not reopen the flow */
    } else if ((fl & VG_SENSOR_TCP_SYN) && (fl & VG_SENSOR_TCP_ACK)) {
        if (d == VG_SENSOR_FLOW_TO_CLIENT && s <= VG_SENSOR_TCP_SYN_SENT) {
            s = VG_SENSOR_TCP_SYN_RECV;
        }
    } else if (fl & VG_SENSOR_TCP_SYN) {
        if (s == VG_SENSOR_TCP_NONE) {
            s = VG_SENSOR_TCP_SYN_SENT;
        }
    } else if (s == VG_SENSOR_TCP_SYN_RECV || s == VG_SENSOR_TCP_NONE) {
        /* the handshake's final ACK, or a flow picked up mid-stream */
        s = VG_SENSOR_TCP_ESTABLISHED;
    }
    f->tcp_state = s;
}

/* ---------------------------------------------------------------- lookup */

/* Create flow for key k in bucket b; the client is the sender unless this is a SYN-ACK. */
static uint32_t flow_create(struct vg_sensor_flow_table *t, const struct vg_flow_key *k,
                            const struct vg_flow_pkt *p, uint64_t h)
{
    uint32_t i = slot_alloc(t);
    if (i == NIL) {
        evict_oldest(t);
        i = slot_alloc(t);
        if (i == NIL) {
            return NIL;
        }
    }
    struct flow_node *n = node_at(t, i);
    memset(&n->pub, 0, sizeof(n->pub));
    uint8_t synack = VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK;
    if (k->proto == 6 && (p->tcp_flags & synack) == synack) {
        key_reverse(k, &n->pub.key);
    } else {
        n->pub.key = *k;
    }
    n->pub.first_ns = n->pub.last_ns = p->ts_ns;
    n->hash = (uint32_t)h;
    n->live = 1;
    n->hnext = t->buckets[h & t->mask];
    t->buckets[h & t->mask] = i;
    list_append(t, i, n, class_of(&n->pub));
    t->st.active++;
    t->st.created++;
    return i;
}

/* Find the flow of k: its index and the packet's direction, or NIL. */
static uint32_t flow_find(const struct vg_sensor_flow_table *t, const struct vg_flow_key *k,
                          uint64_t h, int *dir)
{
    uint32_t i = t->buckets[h & t->mask];
    while (i != NIL) {
        const struct flow_node *n = node_at(t, i);
        if (n->hash == (uint32_t)h) {
            int m = key_match(&n->pub.key, k);
            if (m >= 0) {
                *dir = m;
                return i;
            }
        }
        i = n->hnext;
    }
    return NIL;
}

/* Account packet p going in direction d; move the flow to the tail of its (new) class. */
static void flow_account(struct vg_sensor_flow_table *t, uint32_t i, const struct vg_flow_pkt *p,
                         int d)
{
    struct flow_node *n = node_at(t, i);
    struct vg_sensor_flow *f = &n->pub;
    f->pkts[d]++;
    f->bytes[d] += p->bytes;
    f->payload[d] += p->payload;
    /* Packets slightly out of order in time must not move last_ns back: the class lists
     * stay sorted because each flow re-enters at the tail with the latest time. */
    if (p->ts_ns > f->last_ns) {
        f->last_ns = p->ts_ns;
    }
    if (f->key.proto == 6) {
        f->tcp_flags[d] |= p->tcp_flags;
        tcp_advance(f, p->tcp_flags, d);
    }
    /* Moving to the tail costs cache misses on the neighbours, so a flow moves only when its
     * class changes or its position is older than timeout/64. Lists stay sorted by enq, and
     * enq <= last_ns, so a head that is not due yet can hide due flows behind it for at
     * most timeout/64: expiry and eviction are exact to that slack. */
    int cls = class_of(f);
    if (cls != n->cls || t->clock - n->enq >= t->slack[cls]) {
        list_unlink(t, i, n);
        list_append(t, i, n, cls);
    }
    t->st.packets++;
}

/*
 * A client opening a new connection on the 5-tuple of one that is closing or closed (a pure
 * SYN after FIN or RST): busy clients and load generators reuse ephemeral ports within
 * seconds, and each connection must be its own flow (its own records and parser state).
 */
static bool is_reuse(const struct vg_sensor_flow *f, const struct vg_flow_pkt *pkt)
{
    return (pkt->tcp_flags & (VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK | VG_SENSOR_TCP_RST)) ==
               VG_SENSOR_TCP_SYN &&
           (f->tcp_state == VG_SENSOR_TCP_CLOSING || f->tcp_state == VG_SENSOR_TCP_CLOSED);
}

int vg_sensor_flow_lookup_or_create(struct vg_sensor_flow_table *t, const struct vg_flow_key *key,
                                    const struct vg_flow_pkt *pkt, struct vg_sensor_flow **flow,
                                    enum vg_sensor_flow_dir *dir)
{
    if (!t || !key || !pkt || !flow ||
        (key->family != VG_SENSOR_FLOW_AF_INET && key->family != VG_SENSOR_FLOW_AF_INET6)) {
        return VG_EINVAL;
    }
    if (pkt->ts_ns > t->clock) {
        t->clock = pkt->ts_ns;
        expire_until(t, pkt->ts_ns);
    }
    uint64_t h = key_hash(t, key);
    int d = 0;
    uint32_t i = flow_find(t, key, h, &d);
    if (i != NIL && is_reuse(&node_at(t, i)->pub, pkt)) {
        flow_end(t, i, VG_SENSOR_FLOW_END_REUSE);
        i = NIL;
    }
    if (i == NIL) {
        i = flow_create(t, key, pkt, h);
        if (i == NIL) {
            return VG_ENOMEM;
        }
        d = key_match(&node_at(t, i)->pub.key, key);
    }
    flow_account(t, i, pkt, d);
    *flow = &node_at(t, i)->pub;
    if (dir) {
        *dir = (enum vg_sensor_flow_dir)d;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- stats and names */

void vg_sensor_flow_table_stats(const struct vg_sensor_flow_table *t,
                                struct vg_sensor_flow_stats *out)
{
    if (t && out) {
        *out = t->st;
    }
}

const char *vg_sensor_flow_tcp_state_name(int state)
{
    static const char *names[] = {"none",        "syn_sent", "syn_recv",
                                  "established", "closing",  "closed"};
    return state >= 0 && state < (int)VG_ARRAY_LEN(names) ? names[state] : "unknown";
}

const char *vg_sensor_flow_end_name(int reason)
{
    static const char *names[] = {"timeout", "evicted", "flush", "reuse"};
    return reason >= 0 && reason < (int)VG_ARRAY_LEN(names) ? names[reason] : "unknown";
}
