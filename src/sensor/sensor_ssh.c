/*
 * sensor_ssh.c — SSH parser of the sensor (issue 6): identification banners both ways, the
 * SSH-2 binary packets up to NEWKEYS, HASSH / HASSH-server from KEXINIT, and the flow's single
 * Suricata-8-style `ssh` EVE record:
 *
 *   "ssh":{"client":{"proto_version":"2.0","software_version":"OpenSSH_7.4",
 *                    "hassh":{"hash":"…","string":"kex;enc;mac;comp"}},"server":{…}}
 *
 * Per direction: the banner line is collected into a fixed VG_SSH_BANNER_MAX buffer (longer
 * lines are truncated and counted); a server may send other lines first (RFC 4253 4.2), a
 * bounded number of which are skipped. After the banner of an SSH-2 peer ("2.0", "1.99"),
 * binary packets are framed (4-byte length, padding length, message code); only KEXINIT is
 * collected (bounded), everything else is skipped without copying. NEWKEYS ends a direction:
 * what follows is encrypted. The record is written once both directions saw NEWKEYS, or at
 * flow end when a banner was seen (what Suricata does with HASSH enabled); the parser then
 * returns VG_SENSOR_APP_DONE.
 */
#include <string.h>

#include "sensor/sensor_app.h"
#include "sensor/sensor_tls_int.h" /* vg_sensor_tls_md5_hex */

#define VG_SSH_BANNER_MAX 256
#define VG_SSH_PRE_LINES  32             /* non-banner lines a server may send first */
#define VG_SSH_PKT_MAX    (256u * 1024u) /* SSH packets beyond this are nonsense */
#define VG_SSH_KEX_MAX    (64u * 1024u)  /* largest KEXINIT we collect */

#define SSH_MSG_KEXINIT 20
#define SSH_MSG_NEWKEYS 21

enum ssh_phase {
    SSH_BANNER = 0, /* reading identification line(s) */
    SSH_PACKETS,    /* SSH-2 binary packets before NEWKEYS */
    SSH_DONE,       /* NEWKEYS seen / SSH-1 / lost: ignore the rest */
};

struct ssh_dir {
    uint8_t phase;
    bool banner;   /* banner parsed */
    bool overlong; /* the current line exceeded the buffer */
    bool newkeys;
    uint16_t line_len;
    uint16_t pre_lines;
    char line[VG_SSH_BANNER_MAX];
    char proto[VG_SSH_BANNER_MAX];
    char soft[VG_SSH_BANNER_MAX];
    uint8_t hdr[6];
    uint8_t hdr_got;
    uint32_t pkt_left; /* bytes of the current packet after the message code */
    bool kex_keep;
    uint8_t *kex;
    size_t kex_len, kex_need;
    char hassh[33];
    char *hassh_str; /* heap, NUL-terminated */
};

struct ssh_state {
    struct ssh_dir d[2];
    bool logged;
    uint32_t anomalies;
};

/* ---------------------------------------------------------------- record */

static void ssh_log_dir(struct vg_sbuf *b, const char *key, const struct ssh_dir *d)
{
    if (!d->banner) {
        return;
    }
    vg_sbuf_printf(b, ",\"%s\":{", key);
    vg_sensor_json_kstr(b, "proto_version", d->proto, strlen(d->proto));
    if (d->soft[0]) {
        vg_sensor_json_kstr(b, "software_version", d->soft, strlen(d->soft));
    }
    if (d->hassh_str) {
        vg_sbuf_adds(b, ",\"hassh\":{");
        vg_sensor_json_kstr(b, "hash", d->hassh, strlen(d->hassh));
        vg_sensor_json_kstr(b, "string", d->hassh_str, strlen(d->hassh_str));
        vg_sbuf_addc(b, '}');
    }
    vg_sbuf_addc(b, '}');
}

static void ssh_log(struct vg_sensor_app_ctx *c, struct ssh_state *st)
{
    if (st->logged || (!st->d[0].banner && !st->d[1].banner)) {
        return;
    }
    st->logged = true;
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "ssh", VG_SENSOR_REC_FLOW, -1);
    vg_sbuf_adds(b, ",\"ssh\":{");
    size_t mark = b->len;
    ssh_log_dir(b, "client", &st->d[VG_SENSOR_FLOW_TO_SERVER]);
    ssh_log_dir(b, "server", &st->d[VG_SENSOR_FLOW_TO_CLIENT]);
    if (b->len > mark && b->p[mark] == ',') { /* first member: drop its comma */
        memmove(b->p + mark, b->p + mark + 1, b->len - mark - 1);
        b->len--;
        b->p[b->len] = '\0';
    }
    vg_sbuf_addc(b, '}');
    vg_sensor_rec_end(c);
}

/* ---------------------------------------------------------------- banner */

/* "SSH-2.0-OpenSSH_7.4 comment": proto "2.0", software "OpenSSH_7.4". */
static bool banner_parse(struct ssh_dir *d, const char *l, size_t n)
{
    if (n < 4 || memcmp(l, "SSH-", 4) != 0) {
        return false;
    }
    const char *p = l + 4, *end = l + n;
    const char *dash = memchr(p, '-', (size_t)(end - p));
    const char *pe = dash ? dash : end;
    memcpy(d->proto, p, (size_t)(pe - p));
    d->proto[pe - p] = '\0';
    d->soft[0] = '\0';
    if (dash) {
        const char *s = dash + 1;
        const char *se = memchr(s, ' ', (size_t)(end - s));
        se = se ? se : end;
        memcpy(d->soft, s, (size_t)(se - s));
        d->soft[se - s] = '\0';
    }
    d->banner = true;
    return true;
}

/* A complete line (without "\n", maybe with "\r") in direction dir. */
static void banner_line(struct ssh_state *st, struct ssh_dir *d, enum vg_sensor_flow_dir dir)
{
    size_t n = d->line_len;
    if (n > 0 && d->line[n - 1] == '\r' && !d->overlong) {
        n--;
    }
    if (d->overlong) {
        st->anomalies++;
    }
    if (banner_parse(d, d->line, n)) {
        bool v2 = strcmp(d->proto, "2.0") == 0 || strcmp(d->proto, "1.99") == 0;
        d->phase = v2 ? SSH_PACKETS : SSH_DONE;
    } else if (dir == VG_SENSOR_FLOW_TO_SERVER || ++d->pre_lines > VG_SSH_PRE_LINES) {
        st->anomalies++;
        d->phase = SSH_DONE;
    }
    d->line_len = 0;
    d->overlong = false;
}

/* Consume banner bytes; returns bytes used. */
static size_t banner_feed(struct ssh_state *st, struct ssh_dir *d, enum vg_sensor_flow_dir dir,
                          const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) : n;
    size_t room = sizeof(d->line) - d->line_len;
    size_t k = VG_MIN(take, room);
    memcpy(d->line + d->line_len, p, k);
    d->line_len = (uint16_t)(d->line_len + k);
    if (take > room) {
        d->overlong = true;
    }
    if (!nl) {
        return n;
    }
    banner_line(st, d, dir);
    return take + 1;
}

/* ---------------------------------------------------------------- KEXINIT */

/* Borrow an SSH name-list (uint32 length + bytes). */
static bool namelist(const uint8_t *p, size_t n, size_t *off, const uint8_t **s, size_t *sl)
{
    if (n - *off < 4) {
        return false;
    }
    const uint8_t *q = p + *off;
    uint32_t l = ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
    if (n - *off - 4 < l) {
        return false;
    }
    *s = q + 4;
    *sl = l;
    *off += 4 + (size_t)l;
    return true;
}

/* KEXINIT payload after the message code: cookie(16) then ten name-lists. */
static void kexinit(struct ssh_state *st, struct ssh_dir *d, enum vg_sensor_flow_dir dir,
                    const uint8_t *p, size_t n)
{
    const uint8_t *nl[10];
    size_t nll[10], off = 16;
    if (d->hassh_str || n < 16) {
        return;
    }
    for (int i = 0; i < 10; i++) {
        if (!namelist(p, n, &off, &nl[i], &nll[i])) {
            st->anomalies++;
            return;
        }
    }
    /* kex; then encryption, mac, compression of this direction's sender -> peer */
    int o = dir == VG_SENSOR_FLOW_TO_SERVER ? 0 : 1;
    const int pick[4] = {0, 2 + o, 4 + o, 6 + o};
    size_t len = 3;
    for (int i = 0; i < 4; i++) {
        len += nll[pick[i]];
    }
    d->hassh_str = vg_malloc(len + 1);
    if (!d->hassh_str) {
        return;
    }
    size_t w = 0;
    for (int i = 0; i < 4; i++) {
        if (i) {
            d->hassh_str[w++] = ';';
        }
        memcpy(d->hassh_str + w, nl[pick[i]], nll[pick[i]]);
        w += nll[pick[i]];
    }
    d->hassh_str[w] = '\0';
    vg_sensor_tls_md5_hex(d->hassh_str, w, d->hassh);
}

/* ---------------------------------------------------------------- binary packets */

/* A packet header (length, padding length, message code) is complete. */
static bool pkt_start(struct ssh_dir *d)
{
    uint32_t len = ((uint32_t)d->hdr[0] << 24) | ((uint32_t)d->hdr[1] << 16) |
                   ((uint32_t)d->hdr[2] << 8) | d->hdr[3];
    uint8_t code = d->hdr[5];
    if (len < 2 || len > VG_SSH_PKT_MAX) {
        return false;
    }
    d->pkt_left = len - 2;
    d->kex_keep = code == SSH_MSG_KEXINIT && d->pkt_left <= VG_SSH_KEX_MAX && !d->hassh_str;
    d->kex_len = 0;
    d->kex_need = d->pkt_left;
    if (code == SSH_MSG_NEWKEYS) {
        d->newkeys = true;
    }
    return true;
}

static void pkt_end(struct ssh_state *st, struct ssh_dir *d, enum vg_sensor_flow_dir dir)
{
    if (d->kex_keep) {
        kexinit(st, d, dir, d->kex, d->kex_len);
        vg_free(d->kex);
        d->kex = NULL;
        d->kex_keep = false;
    }
    if (d->newkeys) {
        d->phase = SSH_DONE; /* what follows is encrypted */
    }
}

/* Body bytes of the current packet. */
static void pkt_body(struct ssh_state *st, struct ssh_dir *d, enum vg_sensor_flow_dir dir,
                     const uint8_t *p, size_t k)
{
    if (d->kex_keep) {
        if (d->kex_len == 0 && k == d->kex_need) { /* whole packet at hand: no copy */
            kexinit(st, d, dir, p, k);
            d->kex_keep = false;
        } else {
            if (!d->kex) {
                d->kex = vg_malloc(d->kex_need ? d->kex_need : 1);
            }
            if (!d->kex) {
                d->kex_keep = false;
            } else {
                memcpy(d->kex + d->kex_len, p, k);
                d->kex_len += k;
            }
        }
    }
    d->pkt_left -= (uint32_t)k;
    if (d->pkt_left == 0) {
        pkt_end(st, d, dir);
    }
}

/* Consume packet bytes; returns bytes used. */
static size_t pkt_feed(struct ssh_state *st, struct ssh_dir *d, enum vg_sensor_flow_dir dir,
                       const uint8_t *p, size_t n)
{
    if (d->hdr_got < sizeof(d->hdr)) {
        size_t k = VG_MIN(n, sizeof(d->hdr) - d->hdr_got);
        memcpy(d->hdr + d->hdr_got, p, k);
        d->hdr_got = (uint8_t)(d->hdr_got + k);
        if (d->hdr_got == sizeof(d->hdr)) {
            if (!pkt_start(d)) {
                st->anomalies++;
                d->phase = SSH_DONE;
            } else if (d->pkt_left == 0) {
                d->hdr_got = 0;
                pkt_end(st, d, dir);
            }
        }
        return k;
    }
    size_t k = VG_MIN(n, (size_t)d->pkt_left);
    pkt_body(st, d, dir, p, k);
    if (d->pkt_left == 0) {
        d->hdr_got = 0;
    }
    return k;
}

/* ---------------------------------------------------------------- callbacks */

static int ssh_data(struct vg_sensor_app_ctx *c, void *vst, const uint8_t *p, size_t n)
{
    struct ssh_state *st = vst;
    struct ssh_dir *d = &st->d[c->dir];
    while (n > 0 && d->phase != SSH_DONE) {
        size_t k = d->phase == SSH_BANNER ? banner_feed(st, d, c->dir, p, n)
                                          : pkt_feed(st, d, c->dir, p, n);
        p += k;
        n -= k;
    }
    if (c->dir == VG_SENSOR_FLOW_TO_SERVER && !d->banner && d->phase == SSH_DONE) {
        return VG_SENSOR_APP_ERROR; /* the client must open with its banner */
    }
    if (st->d[0].newkeys && st->d[1].newkeys) {
        ssh_log(c, st);
    }
    return st->logged ? VG_SENSOR_APP_DONE : VG_SENSOR_APP_OK;
}

static void ssh_gap(struct vg_sensor_app_ctx *c, void *vst, size_t n)
{
    struct ssh_state *st = vst;
    struct ssh_dir *d = &st->d[c->dir];
    VG_UNUSED(n);
    if (d->phase != SSH_DONE) {
        st->anomalies++;
    }
    d->phase = SSH_DONE;
    vg_free(d->kex);
    d->kex = NULL;
    d->kex_keep = false;
}

static void ssh_end(struct vg_sensor_app_ctx *c, void *vst)
{
    ssh_log(c, vst);
}

static int ssh_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    VG_UNUSED(dir);
    if (n < 4) {
        return memcmp(p, "SSH-", n) == 0 ? -1 : 0;
    }
    return memcmp(p, "SSH-", 4) == 0 ? 1 : 0;
}

static void *ssh_state_new(void)
{
    return vg_calloc(1, sizeof(struct ssh_state));
}

static void ssh_state_free(void *vst)
{
    struct ssh_state *st = vst;
    if (!st) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        vg_free(st->d[i].kex);
        vg_free(st->d[i].hassh_str);
    }
    vg_free(st);
}

const struct vg_sensor_app_proto vg_sensor_proto_ssh = {
    .name = "ssh",
    .ipproto = 6,
    .ports = {22, 2222, 0},
    .probe = ssh_probe,
    .state_new = ssh_state_new,
    .state_free = ssh_state_free,
    .data = ssh_data,
    .gap = ssh_gap,
    .end = ssh_end,
};
