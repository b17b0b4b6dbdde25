/*
 * sensor_defrag.c — IPv4/IPv6 fragment reassembly for the sensor engine (see
 * sensor_defrag.h). Sits between the decoder and the flow table: a fragment is held here
 * until its datagram is whole, then the rebuilt datagram is decoded again and goes on as one
 * packet.
 *
 * A datagram in progress is a slot of a fixed table (MAX_DGRAMS, open addressing on the key
 * hash) with its data buffer (grown to the highest byte seen, at most 64 KiB) and a bitmap of
 * the 8-byte units received. Overlapping bytes keep the first copy (RFC 5722 would drop the
 * datagram for IPv6; keeping the first copy still lets the flow be followed) and are reported
 * so the engine writes an anomaly. Bounds: the slots, all buffered bytes (max_bytes) and the
 * timeout on the packet clock; a datagram that cannot complete is dropped and counted.
 */
#include "sensor/sensor_defrag.h"

#include <string.h>

#include "core/core.h"

#define MAX_DGRAMS  256 /* power of two */
#define MAX_IP_LEN  65535u
#define UNITS       (MAX_IP_LEN / 8 + 1)
#define HDR_MAX     60
#define PROBE_LIMIT 16

struct dgram {
    bool used;
    uint8_t family; /* 4 or 6 */
    uint8_t proto;
    uint16_t vlan;
    uint32_t id;
    uint8_t src[16], dst[16];
    int64_t first_ns;
    uint8_t hdr[HDR_MAX]; /* IP header of the first fragment (IPv4) */
    uint8_t hdr_len;
    bool have_first, have_last;
    uint32_t total;   /* datagram payload length once the last fragment is seen */
    uint32_t buf_len; /* bytes allocated in buf */
    uint8_t *buf;
    uint8_t bits[UNITS / 8 + 1];
};

struct vg_sensor_defrag {
    size_t max_bytes;
    size_t held;
    int64_t timeout_ns;
    struct dgram *slots;
    uint8_t out[HDR_MAX + MAX_IP_LEN];
    struct vg_sensor_defrag_stats st;
};

int vg_sensor_defrag_create(size_t max_bytes, int64_t timeout_ns, struct vg_sensor_defrag **out)
{
    struct vg_sensor_defrag *d = vg_calloc(1, sizeof(*d));
    if (!d) {
        return VG_ENOMEM;
    }
    d->slots = vg_calloc(MAX_DGRAMS, sizeof(*d->slots));
    if (!d->slots) {
        vg_free(d);
        return VG_ENOMEM;
    }
    d->max_bytes = max_bytes ? max_bytes : 16u << 20;
    d->timeout_ns = timeout_ns > 0 ? timeout_ns : 60 * 1000000000LL;
    *out = d;
    return VG_OK;
}

static void dgram_clear(struct vg_sensor_defrag *d, struct dgram *g)
{
    d->held -= g->buf_len;
    vg_free(g->buf);
    memset(g, 0, sizeof(*g));
}

void vg_sensor_defrag_destroy(struct vg_sensor_defrag *d)
{
    if (!d) {
        return;
    }
    for (size_t i = 0; i < MAX_DGRAMS; i++) {
        if (d->slots[i].used) {
            dgram_clear(d, &d->slots[i]);
        }
    }
    vg_free(d->slots);
    vg_free(d);
}

void vg_sensor_defrag_stats(const struct vg_sensor_defrag *d, struct vg_sensor_defrag_stats *out)
{
    *out = d->st;
}

/* ---------------------------------------------------------------- fragment geometry */

/* Where the fragment's data starts in pkt->l3, and the upper protocol. 0 if malformed. */
static uint32_t frag_data_off(const struct vg_sensor_pkt *pkt, uint8_t *proto)
{
    const uint8_t *p = pkt->l3;
    uint32_t n = pkt->l3_len;
    if (pkt->ip_version == 4) {
        uint32_t hl = (uint32_t)(p[0] & 15) * 4;
        *proto = p[9];
        return hl >= 20 && hl <= n ? hl : 0;
    }
    uint8_t nh = p[6];
    uint32_t off = 40;
    for (int i = 0; i < VG_SENSOR_MAX_IPV6_EXT + 1 && off + 8 <= n; i++) {
        if (nh == 44) {
            *proto = p[off];
            return off + 8;
        }
        if (nh != 0 && nh != 43 && nh != 60) {
            return 0;
        }
        uint32_t elen = (uint32_t)p[off + 1] * 8 + 8;
        nh = p[off];
        off += elen;
    }
    return 0;
}

static bool key_eq(const struct dgram *g, const struct vg_sensor_pkt *pkt, uint8_t proto,
                   uint16_t vlan)
{
    return g->family == pkt->ip_version && g->id == pkt->frag_id && g->proto == proto &&
           g->vlan == vlan && memcmp(g->src, pkt->src, 16) == 0 &&
           memcmp(g->dst, pkt->dst, 16) == 0;
}

/* The slot of pkt's datagram, a new one, or NULL (table full around the hash: counted). */
static struct dgram *dgram_find(struct vg_sensor_defrag *d, const struct vg_sensor_pkt *pkt,
                                uint8_t proto, uint16_t vlan, int64_t now)
{
    uint64_t h = vg_hash64(pkt->src, 16, pkt->frag_id ^ ((uint64_t)proto << 32));
    h = vg_hash64(pkt->dst, 16, h);
    struct dgram *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < PROBE_LIMIT; i++) {
        struct dgram *g = &d->slots[(h + i) & (MAX_DGRAMS - 1)];
        if (g->used && now - g->first_ns > d->timeout_ns) {
            d->st.timeouts++;
            dgram_clear(d, g);
        }
        if (!g->used) {
            free_slot = free_slot ? free_slot : g;
            continue;
        }
        if (key_eq(g, pkt, proto, vlan)) {
            return g;
        }
        if (!oldest || g->first_ns < oldest->first_ns) {
            oldest = g;
        }
    }
    if (!free_slot) {
        d->st.timeouts++; /* evicted incomplete */
        dgram_clear(d, oldest);
        free_slot = oldest;
    }
    struct dgram *g = free_slot;
    g->used = true;
    g->family = pkt->ip_version;
    g->proto = proto;
    g->vlan = vlan;
    g->id = pkt->frag_id;
    memcpy(g->src, pkt->src, 16);
    memcpy(g->dst, pkt->dst, 16);
    g->first_ns = now;
    return g;
}

/* ---------------------------------------------------------------- data */

static bool unit_has(const struct dgram *g, uint32_t u)
{
    return (g->bits[u >> 3] >> (u & 7)) & 1;
}

/* Copy the units of [off, off+len) not held yet; returns true if some were held (overlap). */
static bool dgram_put(struct dgram *g, uint32_t off, const uint8_t *p, uint32_t len)
{
    bool overlap = false;
    uint32_t end = off + len;
    for (uint32_t u = off / 8; u * 8 < end; u++) {
        uint32_t a = u * 8 > off ? u * 8 : off;
        uint32_t b = u * 8 + 8 < end ? u * 8 + 8 : end;
        if (unit_has(g, u)) {
            overlap = true;
            continue;
        }
        memcpy(g->buf + a, p + (a - off), b - a);
        if (b == u * 8 + 8 || b == end) {
            g->bits[u >> 3] = (uint8_t)(g->bits[u >> 3] | (1u << (u & 7)));
        }
    }
    return overlap;
}

static bool dgram_grow(struct vg_sensor_defrag *d, struct dgram *g, uint32_t need)
{
    if (need <= g->buf_len) {
        return true;
    }
    uint32_t cap = need < 2048 ? 2048 : need;
    cap = cap > MAX_IP_LEN ? MAX_IP_LEN : cap;
    if (d->held + (cap - g->buf_len) > d->max_bytes) {
        return false;
    }
    uint8_t *nb = vg_realloc(g->buf, cap);
    if (!nb) {
        return false;
    }
    d->held += cap - g->buf_len;
    g->buf = nb;
    g->buf_len = cap;
    return true;
}

static bool dgram_complete(const struct dgram *g)
{
    if (!g->have_first || !g->have_last) {
        return false;
    }
    for (uint32_t u = 0; u * 8 < g->total; u++) {
        if (!unit_has(g, u)) {
            return false;
        }
    }
    return true;
}

/* Rebuild the whole datagram into d->out and decode it into *out. */
static void dgram_rebuild(struct vg_sensor_defrag *d, const struct dgram *g,
                          const struct vg_sensor_pkt *pkt, struct vg_sensor_pkt *out)
{
    uint32_t hl;
    if (g->family == 4) {
        hl = g->hdr_len;
        memcpy(d->out, g->hdr, hl);
        uint32_t tot = hl + g->total;
        d->out[2] = (uint8_t)(tot >> 8);
        d->out[3] = (uint8_t)tot;
        d->out[6] = d->out[7] = 0;
    } else {
        hl = 40;
        memcpy(d->out, pkt->l3, 40);
        d->out[4] = (uint8_t)(g->total >> 8);
        d->out[5] = (uint8_t)g->total;
        d->out[6] = g->proto;
    }
    memcpy(d->out + hl, g->buf, g->total);
    vg_sensor_decode(out, VG_SENSOR_LINK_RAW, d->out, hl + g->total);
    memcpy(out->vlan, pkt->vlan, sizeof(out->vlan));
    out->vlan_count = pkt->vlan_count;
}

enum vg_sensor_defrag_res vg_sensor_defrag_add(struct vg_sensor_defrag *d,
                                               const struct vg_sensor_pkt *pkt, int64_t now_ns,
                                               struct vg_sensor_pkt *out, unsigned *events)
{
    *events = 0;
    d->st.fragments++;
    uint8_t proto = 0;
    uint32_t doff = pkt->l3 ? frag_data_off(pkt, &proto) : 0;
    if (!doff || doff > pkt->l3_len || pkt->ip_truncated) {
        d->st.dropped++;
        return VG_SENSOR_DEFRAG_DROP;
    }
    uint32_t len = pkt->l3_len - doff, off = pkt->frag_offset;
    if (off + len > MAX_IP_LEN - HDR_MAX) {
        *events |= VG_SENSOR_DEFRAG_EV_TOO_BIG;
        d->st.dropped++;
        return VG_SENSOR_DEFRAG_DROP;
    }
    uint16_t vlan = pkt->vlan_count ? pkt->vlan[0] : 0;
    struct dgram *g = dgram_find(d, pkt, proto, vlan, now_ns);
    if (!dgram_grow(d, g, off + len)) {
        d->st.dropped++;
        dgram_clear(d, g);
        return VG_SENSOR_DEFRAG_DROP;
    }
    if (off == 0 && !g->have_first) {
        g->have_first = true;
        if (pkt->ip_version == 4 && doff <= HDR_MAX) {
            memcpy(g->hdr, pkt->l3, doff);
            g->hdr_len = (uint8_t)doff;
        }
    }
    if (!pkt->frag_more && !g->have_last) {
        g->have_last = true;
        g->total = off + len;
    }
    if (dgram_put(g, off, pkt->l3 + doff, len)) {
        *events |= VG_SENSOR_DEFRAG_EV_OVERLAP;
        d->st.overlaps++;
    }
    if (!dgram_complete(g)) {
        return VG_SENSOR_DEFRAG_HELD;
    }
    d->st.reassembled++;
    dgram_rebuild(d, g, pkt, out);
    dgram_clear(d, g);
    return VG_SENSOR_DEFRAG_DONE;
}
