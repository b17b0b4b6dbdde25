/*
 * sensor_eve_hdr.c — the per-flow members of the EVE record header (issue 6), written by
 * vg_sensor_rec_begin (sensor_eve.c): "vlan":[ids] (every tag of the record's packet, or at
 * flow end of the flow's first packet, outermost first, as Suricata writes it), "community_id"
 * (Community ID v1, cfg seed: computed once per flow and kept in the flow state), and
 * "ether":{"src_mac","dest_mac"} when the engine's log_ether is on (the MACs of the first frame
 * each way, oriented like src/dest). Also the public application-layer anomaly writer
 * vg_sensor_rec_anomaly and the record of an expected channel (`ftp_data`, sensor_expect.c).
 *
 * Community ID v1 (corelight/community-id-spec): SHA-1 over the seed (2 bytes), the two
 * addresses, protocol, a zero pad byte and the two ports (ICMP: type and the paired type or
 * code), the endpoints ordered so that both directions hash alike; "1:" + base64 of the
 * digest.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/core.h"
#include "sensor/sensor_engine_int.h"

/* ---------------------------------------------------------------- vlan */

static char *w_u16(char *p, unsigned v)
{
    char tmp[5];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i);
    memcpy(p, tmp + i, sizeof(tmp) - i);
    return p + (sizeof(tmp) - i);
}

char *vg_sensor_eve_w_vlan(char *p, const struct vg_sensor_app_ctx *c)
{
    const uint16_t *ids = NULL;
    size_t n = 0;
    uint16_t one;
    const struct vg_sensor_fstate *fs = c->flow ? c->flow->user : NULL;
    if (c->pkt && c->pkt->vlan_count) { /* the packet's tags; an untagged packet of a tagged
                                           flow (asymmetric tagging) shows the flow's */
        ids = c->pkt->vlan;
        n = c->pkt->vlan_count;
    } else if (fs) {
        ids = fs->vlan;
        n = fs->vlan_count;
    } else if (c->flow && c->flow->key.vlan) {
        one = c->flow->key.vlan;
        ids = &one;
        n = 1;
    }
    n = n < VG_SENSOR_MAX_VLAN ? n : VG_SENSOR_MAX_VLAN;
    if (!n) {
        return p;
    }
    memcpy(p, ",\"vlan\":[", 9);
    p += 9;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
        }
        p = w_u16(p, ids[i]);
    }
    *p++ = ']';
    return p;
}

/* ---------------------------------------------------------------- community id */

/* ICMP types that come in request/reply pairs, and their counterpart (v4, v6). */
static int icmp_pair(uint8_t proto, uint8_t t)
{
    static const uint8_t v4[][2] = {{8, 0},   {0, 8},  {13, 14}, {14, 13}, {15, 16},
                                    {16, 15}, {10, 9}, {9, 10},  {17, 18}, {18, 17}};
    static const uint8_t v6[][2] = {{128, 129}, {129, 128}, {133, 134}, {134, 133}, {135, 136},
                                    {136, 135}, {130, 131}, {131, 130}, {144, 145}, {145, 144}};
    const uint8_t(*m)[2] = proto == 1 ? v4 : v6;
    size_t n = proto == 1 ? sizeof(v4) / sizeof(v4[0]) : sizeof(v6) / sizeof(v6[0]);
    for (size_t i = 0; i < n; i++) {
        if (m[i][0] == t) {
            return m[i][1];
        }
    }
    return -1;
}

/* SHA-1 fetched once per process (an implicit fetch per digest costs a provider lookup). */
static EVP_MD *cid_md;
static pthread_once_t cid_md_once = PTHREAD_ONCE_INIT;

static void cid_md_init(void)
{
    cid_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static void base64(const uint8_t *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        v |= i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0;
        v |= i + 2 < n ? in[i + 2] : 0;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

void vg_sensor_community_id(const struct vg_flow_key *k, uint16_t seed, uint8_t icmp_type,
                            uint8_t icmp_code, char out[32])
{
    size_t al = k->family == VG_SENSOR_FLOW_AF_INET6 ? 16 : 4;
    const uint8_t *a = k->src, *b = k->dst;
    uint16_t pa = k->sport, pb = k->dport;
    bool one_way = false, ports = true;
    if (k->proto == 1 || k->proto == 58) {
        int pair = icmp_pair(k->proto, icmp_type);
        pa = icmp_type;
        pb = pair >= 0 ? (uint16_t)pair : icmp_code;
        one_way = pair < 0;
    } else if (k->proto != 6 && k->proto != 17 && k->proto != 132) {
        ports = false;
        pa = pb = 0;
    }
    int cmp = memcmp(a, b, al);
    if (!one_way && (cmp > 0 || (cmp == 0 && pa > pb))) {
        const uint8_t *t = a;
        a = b;
        b = t;
        uint16_t tp = pa;
        pa = pb;
        pb = tp;
    }
    uint8_t buf[2 + 16 + 16 + 2 + 4];
    size_t n = 0;
    buf[n++] = (uint8_t)(seed >> 8); /* network order */
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, a, al);
    n += al;
    memcpy(buf + n, b, al);
    n += al;
    buf[n++] = k->proto;
    buf[n++] = 0;
    if (ports) {
        buf[n++] = (uint8_t)(pa >> 8);
        buf[n++] = (uint8_t)pa;
        buf[n++] = (uint8_t)(pb >> 8);
        buf[n++] = (uint8_t)pb;
    }
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned mdl = 0;
    pthread_once(&cid_md_once, cid_md_init);
    if (!cid_md || EVP_Digest(buf, n, md, &mdl, cid_md, NULL) != 1 || mdl != 20) {
        out[0] = '\0';
        return;
    }
    memcpy(out, "1:", 2);
    base64(md, 20, out + 2);
}

static const char *flow_cid(const struct vg_sensor_engine *e, struct vg_sensor_fstate *fs,
                            const struct vg_sensor_flow *f)
{
    if (!fs->cid_done) {
        int d = (fs->icmp_seen & 1) || !(fs->icmp_seen & 2) ? 0 : 1;
        uint8_t t = fs->icmp_type[d], code = fs->icmp_code[d];
        if (d == 1) { /* only replies seen: hash as if from the key's source */
            int pair = icmp_pair(f->key.proto, t);
            t = pair >= 0 ? (uint8_t)pair : t;
        }
        vg_sensor_community_id(&f->key, e->cfg.community_id_seed, t, code, fs->cid);
        fs->cid_done = fs->cid[0] != '\0';
    }
    return fs->cid_done ? fs->cid : NULL;
}

/* ---------------------------------------------------------------- ether */

static void put_mac(struct vg_sbuf *s, const char *key, const uint8_t *m)
{
    static const char hex[] = "0123456789abcdef";
    char t[17];
    for (int i = 0; i < 6; i++) {
        t[i * 3] = hex[m[i] >> 4];
        t[i * 3 + 1] = hex[m[i] & 15];
        if (i < 5) {
            t[i * 3 + 2] = ':';
        }
    }
    vg_sensor_json_kstr(s, key, t, 17);
}

/* The MACs of the record's src -> dest: the sender's own frames, else the peer's reversed,
 * else (no flow) the current frame. */
static void put_ether(struct vg_sensor_app_ctx *c, struct vg_sbuf *s, bool reversed)
{
    const struct vg_sensor_fstate *fs = c->flow ? c->flow->user : NULL;
    const uint8_t *src = NULL, *dst = NULL;
    if (fs) {
        int sd = reversed ? 1 : 0;
        if (fs->mac_seen & (1u << sd)) {
            dst = fs->mac[sd];
            src = fs->mac[sd] + 6;
        } else if (fs->mac_seen & (1u << !sd)) {
            src = fs->mac[!sd];
            dst = fs->mac[!sd] + 6;
        }
    } else if (c->eng->frame_eth) {
        dst = c->eng->frame_eth;
        src = c->eng->frame_eth + 6;
    }
    if (!src) {
        return;
    }
    vg_sbuf_add(s, ",\"ether\":{", 10);
    put_mac(s, "src_mac", src);
    put_mac(s, "dest_mac", dst);
    vg_sbuf_addc(s, '}');
}

void vg_sensor_eve_hdr_tail(struct vg_sensor_app_ctx *c, struct vg_sbuf *s, bool reversed)
{
    struct vg_sensor_fstate *fs = c->flow ? c->flow->user : NULL;
    if (fs) {
        const char *cid = flow_cid(c->eng, fs, c->flow);
        if (cid) {
            vg_sensor_json_kstr(s, "community_id", cid, strlen(cid));
        }
    }
    if (c->eng->cfg.log_ether) {
        put_ether(c, s, reversed);
    }
}

/* ---------------------------------------------------------------- expected channels */

void vg_sensor_expect_flow_end(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs)
{
    const struct vg_sensor_expect_slot *x = fs->exp;
    if (!x || !x->cmd[0]) {
        return;
    }
    char et[VG_SENSOR_EXPECT_LABEL];
    size_t n = strlen(x->label);
    for (size_t i = 0; i <= n; i++) {
        et[i] = x->label[i] == '-' ? '_' : x->label[i];
    }
    struct vg_sbuf *s = vg_sensor_rec_begin(c, et, VG_SENSOR_REC_FLOW, -1);
    vg_sensor_json_kstr(s, "app_proto", x->label, n);
    vg_sbuf_addc(s, ',');
    vg_sbuf_add_json_str(s, et, n);
    vg_sbuf_add(s, ":{", 2);
    if (x->file_len) {
        vg_sensor_json_kstr(s, "filename", x->file, x->file_len);
    }
    vg_sensor_json_kstr(s, "command", x->cmd, strlen(x->cmd));
    vg_sbuf_addc(s, '}');
    vg_sensor_rec_end(c);
}

/* ---------------------------------------------------------------- anomalies */

void vg_sensor_rec_anomaly(struct vg_sensor_app_ctx *c, const char *layer, const char *event,
                           int64_t tx_id)
{
    struct vg_sensor_engine *e = c->eng;
    e->st.anomalies++;
    if (!e->cfg.log_anomaly || e->rec_open) {
        return;
    }
    const struct vg_sensor_fstate *fs = c->flow ? c->flow->user : NULL;
    const char *app = fs && fs->app ? fs->app->name : NULL;
    struct vg_sbuf *s = vg_sensor_rec_begin(c, "anomaly", VG_SENSOR_REC_PACKET, tx_id);
    vg_sbuf_add(s, ",\"anomaly\":{", 12);
    if (app) {
        vg_sensor_json_kstr(s, "app_proto", app, strlen(app));
    }
    vg_sensor_json_kstr(s, "type", "applayer", 8);
    vg_sensor_json_kstr(s, "event", event, strlen(event));
    vg_sensor_json_kstr(s, "layer", layer ? layer : "proto_parser", layer ? strlen(layer) : 12);
    vg_sbuf_addc(s, '}');
    vg_sensor_rec_end(c);
}
