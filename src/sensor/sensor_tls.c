/*
 * sensor_tls.c — TLS/SSL parser of the sensor (issue 6): record layer, handshake message
 * reassembly and the flow's single Suricata-8-style `tls` EVE record.
 *
 *   reassembled TCP bytes -> records (5-byte header; SSLv2 2-byte header for a v2 hello)
 *     -> handshake messages (may span records; bounded buffer) -> ClientHello / ServerHello
 *        (sensor_tls_hello.c) and the server Certificate (sensor_tls_cert.c)
 *     -> one `tls` record (src = client) and vg_sensor_note_cert for the detections.
 *
 * When the record is written, as Suricata does: as soon as the server certificate is decoded;
 * at a TLS 1.3 ServerHello (certificates are encrypted: log what is visible); at a resumed
 * session's ServerHello (the client's session id echoed, no certificate follows); otherwise
 * when both directions are past the handshake (ChangeCipherSpec / application data) or at
 * flow end, provided a hello was seen. After that the parser returns VG_SENSOR_APP_DONE, and
 * a direction past its handshake skips record bodies without looking at them.
 *
 * Memory per flow: this state (~1 KiB), the JSON fragments of the hellos and certificate
 * (their own size), and one handshake message buffer per direction only while a message that
 * spans TCP segments is being collected (at most VG_TLS_HS_MAX bytes; bigger messages are
 * skipped and counted).
 */
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_tls_int.h"

#define VG_TLS_HS_MAX     (256u * 1024u) /* largest handshake message we collect */
#define VG_TLS_REC_MAX    (16384u + 2048u)
#define VG_TLS_V2_REC_MAX 32767u

/* Record content types. */
#define TLS_CT_CCS       20
#define TLS_CT_ALERT     21
#define TLS_CT_HANDSHAKE 22
#define TLS_CT_APPDATA   23
#define TLS_CT_HEARTBEAT 24
#define TLS_CT_SSLV2     0xff /* internal: an SSLv2 record */

/* Handshake message types. */
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE  11
#define TLS_HS_CERT_REQUEST 13
#define TLS_HS_SERVER_DONE  14

/* One direction of the connection. */
struct tls_dir {
    uint8_t hdr[5];
    uint8_t hdr_got;
    uint8_t rec_type;
    uint32_t rec_left; /* body bytes of the current record still to come */
    uint8_t hs_hdr[4];
    uint8_t hs_hdr_got;
    uint8_t hs_type;
    bool hs_keep;     /* collecting the current message into buf */
    uint32_t hs_len;  /* body length of the current message */
    uint32_t hs_left; /* its body bytes still to come */
    uint8_t *buf;
    size_t buf_len, buf_cap;
    bool any;   /* a record header was read */
    bool v2hdr; /* the header being read is an SSLv2 one (2 bytes) */
    bool done;  /* past the handshake (CCS or application data) */
    bool dead;  /* lost sync (gap, garbage): ignore the rest */
};

struct tls_state {
    struct tls_dir d[2];
    struct vg_sensor_tls_client_info ci;
    struct vg_sensor_tls_server_info si;
    struct vg_sbuf cfrag; /* client members: sni, ja3, ja4, client_alpns, client_handshake */
    struct vg_sbuf sfrag; /* server members: ja3s, server_alpns, server_handshake */
    struct vg_sbuf xfrag; /* certificate members */
    bool have_cert;
    struct vg_sbuf cxfrag; /* client certificate members (the "client" object) */
    bool have_client_cert;
    bool cert_requested; /* the server sent CertificateRequest: wait for the client's */
    bool resumed;
    bool logged;
    uint32_t anomalies; /* malformed / oversized pieces skipped */
};

/* ---------------------------------------------------------------- record */

/* Start a member fragment with a comma so its members join with the right separators. */
static struct vg_sbuf *frag_open(struct vg_sbuf *frag)
{
    if (frag->len == 0) {
        vg_sbuf_addc(frag, ',');
    }
    return frag;
}

/* Append a fragment's members to b (which ends with '{' or a member). */
static void frag_put(struct vg_sbuf *b, const struct vg_sbuf *frag)
{
    if (frag->len <= 1) {
        return;
    }
    bool first = b->len > 0 && b->p[b->len - 1] == '{';
    vg_sbuf_add(b, frag->p + first, frag->len - first);
}

/* Write the flow's `tls` record (once). */
static void tls_log(struct vg_sensor_app_ctx *c, struct tls_state *st)
{
    char vs[24];
    if (st->logged) {
        return;
    }
    st->logged = true;
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "tls", VG_SENSOR_REC_FLOW, -1);
    vg_sbuf_adds(b, ",\"tls\":{");
    frag_put(b, &st->xfrag);
    if (st->resumed && !st->have_cert && !st->si.tls13) {
        vg_sensor_json_kbool(b, "session_resumed", true);
    }
    vg_sensor_tls_version_str(st->si.seen ? st->si.version : st->ci.version, vs);
    vg_sensor_json_kstr(b, "version", vs, strlen(vs));
    const char *from = vg_sensor_app_from_proto(c); /* STARTTLS, AUTH TLS, CONNECT */
    if (from) {
        vg_sensor_json_kstr(b, "from_proto", from, strlen(from));
    }
    frag_put(b, &st->cfrag);
    frag_put(b, &st->sfrag);
    if (st->cxfrag.len > 1) {
        vg_sbuf_adds(b, ",\"client\":{");
        frag_put(b, &st->cxfrag);
        vg_sbuf_addc(b, '}');
    }
    vg_sbuf_addc(b, '}');
    vg_sensor_rec_end(c);
}

/* ---------------------------------------------------------------- handshake messages */

static void on_client_hello(struct tls_state *st, const uint8_t *p, size_t n)
{
    if (st->ci.seen) {
        return; /* renegotiation / HelloRetryRequest: the first hello defines the flow */
    }
    if (vg_sensor_tls_client_hello(p, n, &st->ci, frag_open(&st->cfrag)) != 0) {
        st->anomalies++;
    }
}

static void on_server_hello(struct vg_sensor_app_ctx *c, struct tls_state *st, const uint8_t *p,
                            size_t n)
{
    if (st->si.seen) {
        return;
    }
    if (vg_sensor_tls_server_hello(p, n, &st->si, frag_open(&st->sfrag)) != 0) {
        st->anomalies++;
        return;
    }
    st->resumed = st->ci.sid_len > 0 && st->ci.sid_len == st->si.sid_len &&
                  memcmp(st->ci.sid, st->si.sid, st->si.sid_len) == 0;
    if (st->si.tls13 || st->resumed) {
        tls_log(c, st);
    }
}

/* The first certificate of a Certificate message body, as a cursor. */
static bool first_cert(const uint8_t *p, size_t n, struct vg_sensor_tls_cur *cert)
{
    struct vg_sensor_tls_cur cur = {p, n, 0}, chain;
    uint32_t len;
    return vg_sensor_tls_cur_u24(&cur, &len) && vg_sensor_tls_cur_sub(&cur, len, &chain) &&
           vg_sensor_tls_cur_u24(&chain, &len) && vg_sensor_tls_cur_sub(&chain, len, cert);
}

/* The client's certificate (after a CertificateRequest): the record's "client" object. */
static void on_client_certificate(struct vg_sensor_app_ctx *c, struct tls_state *st,
                                  const uint8_t *p, size_t n)
{
    struct vg_sensor_tls_cur cert;
    struct vg_sensor_tls_cert *info;
    if (!st->have_client_cert && first_cert(p, n, &cert) && (info = vg_malloc(sizeof(*info)))) {
        if (vg_sensor_tls_cert_parse(cert.p, cert.n, NULL, info, frag_open(&st->cxfrag)) == 0) {
            st->have_client_cert = true;
        } else {
            vg_sbuf_reset(&st->cxfrag);
            st->anomalies++;
        }
        vg_free(info);
    }
    if (st->have_cert) {
        tls_log(c, st);
    }
}

/* The server's certificate: facts for the detections; the record follows at ServerHelloDone
 * (or, when the server asked for a client certificate, once the client answered). */
static void on_certificate(struct vg_sensor_app_ctx *c, struct tls_state *st, const uint8_t *p,
                           size_t n)
{
    struct vg_sensor_tls_cur cert;
    if (c->dir == VG_SENSOR_FLOW_TO_SERVER) {
        on_client_certificate(c, st, p, n);
        return;
    }
    if (st->have_cert || st->si.tls13) {
        return;
    }
    if (!first_cert(p, n, &cert)) {
        st->anomalies++;
        return;
    }
    struct vg_sensor_tls_cert *info = vg_malloc(sizeof(*info));
    if (!info) {
        return;
    }
    const char *sni = st->ci.sni_len ? st->ci.sni : NULL;
    if (vg_sensor_tls_cert_parse(cert.p, cert.n, sni, info, frag_open(&st->xfrag)) == 0) {
        st->have_cert = true;
        vg_sensor_note_cert(c, &info->facts);
    } else {
        vg_sbuf_reset(&st->xfrag);
        st->anomalies++;
    }
    vg_free(info);
}

/* Message types acted upon at their header (their bodies are not needed). */
static void hs_header_event(struct vg_sensor_app_ctx *c, struct tls_state *st, uint8_t type)
{
    if (c->dir != VG_SENSOR_FLOW_TO_CLIENT) {
        return;
    }
    if (type == TLS_HS_CERT_REQUEST) {
        st->cert_requested = true;
    } else if (type == TLS_HS_SERVER_DONE && st->have_cert && !st->cert_requested) {
        tls_log(c, st);
    }
}

static void hs_dispatch(struct vg_sensor_app_ctx *c, struct tls_state *st, uint8_t type,
                        const uint8_t *p, size_t n)
{
    switch (type) {
    case TLS_HS_CLIENT_HELLO:
        if (c->dir == VG_SENSOR_FLOW_TO_SERVER) {
            on_client_hello(st, p, n);
        }
        break;
    case TLS_HS_SERVER_HELLO:
        if (c->dir == VG_SENSOR_FLOW_TO_CLIENT) {
            on_server_hello(c, st, p, n);
        }
        break;
    case TLS_HS_CERTIFICATE:
        on_certificate(c, st, p, n);
        break;
    default:
        break;
    }
}

static bool hs_wanted(uint8_t type)
{
    return type == TLS_HS_CLIENT_HELLO || type == TLS_HS_SERVER_HELLO || type == TLS_HS_CERTIFICATE;
}

/* A message header is complete: decide whether to collect it. */
static void hs_start(struct vg_sensor_app_ctx *c, struct tls_state *st, struct tls_dir *d)
{
    d->hs_type = d->hs_hdr[0];
    d->hs_len = ((uint32_t)d->hs_hdr[1] << 16) | ((uint32_t)d->hs_hdr[2] << 8) | d->hs_hdr[3];
    d->hs_left = d->hs_len;
    d->hs_keep = hs_wanted(d->hs_type);
    d->buf_len = 0;
    hs_header_event(c, st, d->hs_type);
    if (d->hs_keep && d->hs_len > VG_TLS_HS_MAX) {
        d->hs_keep = false;
        st->anomalies++;
    }
}

/* Release a large collection buffer once its message is handled. */
static void hs_finish(struct tls_dir *d)
{
    d->hs_hdr_got = 0;
    d->buf_len = 0;
    if (d->buf_cap > 16384) {
        vg_free(d->buf);
        d->buf = NULL;
        d->buf_cap = 0;
    }
}

/* Copy body bytes of the collected message; false on allocation failure. */
static bool hs_collect(struct tls_dir *d, const uint8_t *p, size_t n)
{
    if (d->buf_cap < d->hs_len) {
        uint8_t *nb = vg_realloc(d->buf, d->hs_len);
        if (!nb) {
            return false;
        }
        d->buf = nb;
        d->buf_cap = d->hs_len;
    }
    memcpy(d->buf + d->buf_len, p, n);
    d->buf_len += n;
    return true;
}

/* Body bytes of handshake records (plaintext) in c->dir. */
static void hs_feed(struct vg_sensor_app_ctx *c, struct tls_state *st, struct tls_dir *d,
                    const uint8_t *p, size_t n)
{
    while (n > 0 && !st->logged) {
        if (d->hs_hdr_got < 4) {
            size_t k = VG_MIN(n, (size_t)(4 - d->hs_hdr_got));
            memcpy(d->hs_hdr + d->hs_hdr_got, p, k);
            d->hs_hdr_got = (uint8_t)(d->hs_hdr_got + k);
            p += k;
            n -= k;
            if (d->hs_hdr_got < 4) {
                return;
            }
            hs_start(c, st, d);
            if (d->hs_keep && n >= d->hs_len) { /* whole message at hand: no copy */
                hs_dispatch(c, st, d->hs_type, p, d->hs_len);
                p += d->hs_len;
                n -= d->hs_len;
                hs_finish(d);
                continue;
            }
        }
        size_t k = VG_MIN(n, (size_t)d->hs_left);
        if (d->hs_keep && !hs_collect(d, p, k)) {
            d->hs_keep = false;
            st->anomalies++;
        }
        d->hs_left -= (uint32_t)k;
        p += k;
        n -= k;
        if (d->hs_left == 0) {
            if (d->hs_keep) {
                hs_dispatch(c, st, d->hs_type, d->buf, d->buf_len);
            }
            hs_finish(d);
        }
    }
}

/* ---------------------------------------------------------------- record layer */

static bool is_sslv2_start(const struct tls_dir *d, uint8_t b0)
{
    return !d->any && (b0 & 0x80) != 0;
}

/* Validate a complete record header. False: not TLS. */
static bool rec_start(struct tls_dir *d)
{
    d->any = true;
    if (d->v2hdr) {
        d->rec_type = TLS_CT_SSLV2;
        d->rec_left = ((uint32_t)(d->hdr[0] & 0x7f) << 8) | d->hdr[1];
        return d->rec_left > 0;
    }
    d->rec_type = d->hdr[0];
    d->rec_left = ((uint32_t)d->hdr[3] << 8) | d->hdr[4];
    if (d->rec_type < TLS_CT_CCS || d->rec_type > TLS_CT_HEARTBEAT || d->hdr[1] != 3 ||
        d->rec_left > VG_TLS_REC_MAX) {
        return false;
    }
    if (d->rec_type == TLS_CT_CCS || d->rec_type == TLS_CT_APPDATA) {
        d->done = true; /* what follows in this direction is encrypted */
    }
    return true;
}

/* Body bytes of the current record. */
static void rec_body(struct vg_sensor_app_ctx *c, struct tls_state *st, struct tls_dir *d,
                     const uint8_t *p, size_t n)
{
    if (d->rec_type == TLS_CT_HANDSHAKE && !d->done) {
        hs_feed(c, st, d, p, n);
    } else if (d->rec_type == TLS_CT_SSLV2) {
        /* an SSLv2 record body is collected whole (bounded by its 15-bit length) */
        if (d->hs_hdr_got == 0) {
            d->hs_len = d->rec_left;
            d->hs_hdr_got = 4;
            d->buf_len = 0;
        }
        if (!hs_collect(d, p, n)) {
            st->anomalies++;
        }
        if (d->buf_len == d->hs_len) {
            if (c->dir == VG_SENSOR_FLOW_TO_SERVER && !st->ci.seen &&
                vg_sensor_tls_client_hello_v2(d->buf, d->buf_len, &st->ci) != 0) {
                st->anomalies++;
            } else if (c->dir == VG_SENSOR_FLOW_TO_CLIENT && !st->si.seen && d->buf_len > 0 &&
                       d->buf[0] == 4) {
                st->si.seen = true; /* SSLv2 SERVER-HELLO */
                st->si.version = 0x0200;
            }
            hs_finish(d);
        }
    }
}

/* Not TLS (garbage header): an error before anything useful, else stop this direction. */
static int rec_bad(struct tls_state *st, struct tls_dir *d)
{
    d->dead = true;
    st->anomalies++;
    return st->ci.seen || st->si.seen ? VG_SENSOR_APP_OK : VG_SENSOR_APP_ERROR;
}

static int tls_data(struct vg_sensor_app_ctx *c, void *vst, const uint8_t *p, size_t n)
{
    struct tls_state *st = vst;
    struct tls_dir *d = &st->d[c->dir];
    while (n > 0 && !d->dead && !st->logged) {
        if (d->rec_left == 0) {
            if (d->hdr_got == 0) {
                d->v2hdr = is_sslv2_start(d, p[0]);
            }
            size_t need = d->v2hdr ? 2 : 5;
            size_t k = VG_MIN(n, need - d->hdr_got);
            memcpy(d->hdr + d->hdr_got, p, k);
            d->hdr_got = (uint8_t)(d->hdr_got + k);
            p += k;
            n -= k;
            if (d->hdr_got < need) {
                break;
            }
            d->hdr_got = 0;
            if (!rec_start(d)) {
                return rec_bad(st, d);
            }
            continue;
        }
        size_t k = VG_MIN(n, (size_t)d->rec_left);
        rec_body(c, st, d, p, k);
        d->rec_left -= (uint32_t)k;
        p += k;
        n -= k;
    }
    if (!st->logged && st->d[0].done && st->d[1].done && (st->ci.seen || st->si.seen)) {
        tls_log(c, st);
    }
    return st->logged ? VG_SENSOR_APP_DONE : VG_SENSOR_APP_OK;
}

static void tls_gap(struct vg_sensor_app_ctx *c, void *vst, size_t n)
{
    struct tls_state *st = vst;
    struct tls_dir *d = &st->d[c->dir];
    VG_UNUSED(n);
    /* the record framing is lost and can't be resynced; past the handshake nothing of
       interest follows anyway */
    if (!d->done) {
        st->anomalies++;
    }
    d->dead = true;
}

static void tls_end(struct vg_sensor_app_ctx *c, void *vst)
{
    struct tls_state *st = vst;
    if (!st->logged && (st->ci.seen || st->si.seen)) {
        tls_log(c, st);
    }
}

/* ---------------------------------------------------------------- probe, lifecycle */

static int tls_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    VG_UNUSED(dir);
    if (n == 0) {
        return -1;
    }
    if (p[0] & 0x80) { /* SSLv2 record header: length(2) + CLIENT-HELLO(1) + version(2) */
        if (n < 5) {
            return -1;
        }
        return p[2] == 1 && (p[3] == 0x03 || (p[3] == 0x00 && p[4] == 0x02)) ? 1 : 0;
    }
    if (p[0] != TLS_CT_HANDSHAKE && p[0] != TLS_CT_ALERT) {
        return 0;
    }
    if (n < 3) {
        return n < 2 || p[1] == 3 ? -1 : 0;
    }
    return p[1] == 3 && p[2] <= 4 ? 1 : 0;
}

static void *tls_state_new(void)
{
    return vg_calloc(1, sizeof(struct tls_state));
}

static void tls_state_free(void *vst)
{
    struct tls_state *st = vst;
    if (!st) {
        return;
    }
    vg_free(st->d[0].buf);
    vg_free(st->d[1].buf);
    vg_sbuf_fini(&st->cfrag);
    vg_sbuf_fini(&st->sfrag);
    vg_sbuf_fini(&st->xfrag);
    vg_sbuf_fini(&st->cxfrag);
    vg_free(st);
}

const struct vg_sensor_app_proto vg_sensor_proto_tls = {
    .name = "tls",
    .ipproto = 6,
    .ports = {443, 465, 636, 853, 993, 995, 8443, 0},
    .probe = tls_probe,
    .state_new = tls_state_new,
    .state_free = tls_state_free,
    .data = tls_data,
    .gap = tls_gap,
    .end = tls_end,
};
