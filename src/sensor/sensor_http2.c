/*
 * sensor_http2.c — the sensor's HTTP/2 parser (issue 6), app_proto "http2": cleartext HTTP/2
 * with prior knowledge (client preface "PRI * HTTP/2.0…") and the h2c upgrade from HTTP/1.1
 * (the HTTP/1 request and its 101 answer go through the HTTP parser, sensor_http.c, which
 * logs them; the frames that follow come here). TLS with ALPN h2 is encrypted: not seen.
 *
 *   bytes of a direction -> frame header (9 bytes) -> payload (kept up to H2_FRAME_KEEP,
 *   DATA never kept) -> frame handler -> transaction of the stream (or of stream 0)
 *   HEADERS/PUSH_PROMISE (+CONTINUATION) -> header block -> HPACK (sensor_hpack.c)
 *   end of each data() call: finished transactions -> `http` records (Suricata 8 layout)
 *
 * Transactions follow Suricata's HTTP/2 parser (rust/src/http2): one per stream, plus one per
 * stream-0 frame (SETTINGS, GOAWAY, …: "global" transactions, finished at once); a stream is
 * finished when both sides sent END_STREAM; the rest are logged when the flow ends. tx_id
 * counts every transaction in creation order. A record is written when the transaction has
 * headers, settings, an error code or a priority:
 *
 *   "http":{"hostname","url","http_user_agent","http_method","status","length","version":"2",
 *           "request_headers":[{"name","value"}|{"table_size_update":N}|{"error":"…"}…],
 *           "response_headers":[…],
 *           "http2":{"stream_id":N,"request":{"settings":[{"settings_id","settings_value"}…],
 *                    "error_code","priority","has_multiple"},"response":{…}}}
 *
 * Bounds: non-DATA frame payloads and header blocks are kept up to 64 KiB (larger ones are
 * truncated and counted), the dynamic tables to 64 KiB, the header JSON of one transaction
 * side to H2_HDR_MAX, and at most H2_TX_MAX transactions are open (the oldest is then logged
 * early and counted). A bad preface, a CONTINUATION out of place or another frame inside a
 * header block stop the parser (VG_SENSOR_APP_ERROR); bad lengths or padding of a single frame
 * are counted and the frame ignored, as Suricata does.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_dns.h"
#include "sensor/sensor_hpack.h"

#define H2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24
#define H2_FRAME_KEEP  (64u << 10) /* non-DATA frame payload kept */
#define H2_BLOCK_MAX   (64u << 10) /* header block across CONTINUATION frames */
#define H2_SCRATCH     (16u << 10) /* decoded name + value of one field */
#define H2_HDR_MAX     (32u << 10) /* header JSON of one transaction side */
#define H2_TX_MAX      128         /* open transactions of a connection */
#define H2_H1_HEAD_MAX 8192        /* h2c upgrade: HTTP/1 request head kept */
#define H2_PROBE_SCAN  2048        /* h2c upgrade: bytes of a request head the probe reads */
#define H2_DOH_MAX     65535       /* DoH: DNS message kept per transaction side */

/* Frame types and flags (RFC 7540 6). */
enum {
    FT_DATA = 0,
    FT_HEADERS = 1,
    FT_PRIORITY = 2,
    FT_RST_STREAM = 3,
    FT_SETTINGS = 4,
    FT_PUSH_PROMISE = 5,
    FT_PING = 6,
    FT_GOAWAY = 7,
    FT_WINDOW_UPDATE = 8,
    FT_CONTINUATION = 9,
};
#define FL_END_STREAM  0x01
#define FL_END_HEADERS 0x04
#define FL_PADDED      0x08
#define FL_PRIORITY    0x20

/* Transaction states, in Suricata's order (completion is >= ST_CLOSED). */
enum {
    ST_IDLE = 0,
    ST_OPEN,
    ST_RESERVED,
    ST_DATA_CLIENT,
    ST_HC_CLIENT,
    ST_DATA_SERVER,
    ST_HC_SERVER,
    ST_CLOSED,
    ST_GLOBAL,
};

/* Header values that also fill the record's top-level fields. */
enum { CF_METHOD, CF_PATH, CF_HOST, CF_UA, CF_STATUS, CF_LENGTH, CF_N };
static const char *const cf_header[CF_N] = {":method",    ":path",   "host",
                                            "user-agent", ":status", "content-length"};

/* One side (request = to server, response = to client) of a transaction. */
struct h2_side {
    struct vg_sbuf hdrs; /* header objects, comma-separated */
    struct vg_sbuf sets; /* settings objects, comma-separated */
    struct vg_sbuf raw;  /* raw values of the common fields */
    uint32_t coff[CF_N], clen[CF_N];
    uint8_t cset; /* bit per CF_* */
    bool has_hdrs, has_sets, has_err, has_prio;
    uint8_t prio;
    uint32_t err;
    const char *multiple;
    /* DNS over HTTPS (RFC 8484): the side carries a DNS message (content-type
     * application/dns-message, or a GET request's dns= parameter), kept in doh. */
    struct vg_sbuf doh;
    uint32_t doh_frame; /* where the current DATA frame's bytes start in doh */
    bool is_doh, doh_over;
};

struct h2_tx {
    uint64_t tx_id;
    uint32_t sid;
    uint8_t state;
    struct h2_side side[2];
};

enum { PH_PREFACE, PH_HEAD, PH_PAYLOAD, PH_LOST };

/* Frame reader of one direction. */
struct h2_dir {
    uint8_t phase;
    uint8_t fh[9];
    uint32_t fh_got, pre_got;
    uint32_t flen, fgot, fsid;
    uint8_t ftype, fflags;
    uint8_t *buf; /* payload collected so far (bounded) */
    uint32_t buf_len, buf_cap;
    uint8_t *blk; /* header block waiting for CONTINUATION */
    uint32_t blk_len, blk_cap, blk_fsid, blk_tsid;
    bool blk_open, blk_trunc;
    struct vg_sensor_hpack hp;
};

enum { M_UNKNOWN, M_H2, M_H1, M_H1_ONLY };

/* h2c upgrade: the HTTP/1 exchange before the switch. */
struct h2_h1 {
    void *st;          /* the HTTP parser's state */
    uint8_t *head;     /* request head copy */
    uint32_t head_len; /* bytes in head */
    uint32_t eoh[2];   /* "\r\n\r\n" matcher per direction */
    bool req_done, head_lost, upgraded;
    uint64_t body_left; /* request body bytes still going to the HTTP parser */
    uint8_t line[16];   /* start of the response status line */
    uint32_t line_len;
};

struct h2_state {
    uint8_t mode;
    struct h2_dir dir[2];
    struct h2_tx *tx[H2_TX_MAX]; /* open transactions, oldest first */
    uint32_t ntx;
    struct h2_tx *spare[8]; /* finished transactions kept for reuse (their buffers) */
    uint32_t nspare;
    uint64_t next_tx_id;
    uint8_t *scratch;
    struct h2_h1 h1;
    struct vg_sensor_http2_stats stats;
};

/* ------------------------------------------------------------------ small helpers */

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static bool ci_eq(const uint8_t *a, size_t n, const char *b)
{
    size_t m = strlen(b);
    if (n != m) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i];
        if (x >= 'A' && x <= 'Z') {
            x = (uint8_t)(x + 32);
        }
        if (x != (uint8_t)b[i]) {
            return false;
        }
    }
    return true;
}

/* Grow *buf to hold need bytes (need <= bound). */
static bool buf_room(uint8_t **buf, uint32_t *cap, uint32_t need)
{
    if (need <= *cap) {
        return true;
    }
    uint32_t ncap = *cap ? *cap : 256;
    while (ncap < need) {
        ncap *= 2;
    }
    uint8_t *nb = vg_realloc(*buf, ncap);
    if (!nb) {
        return false;
    }
    *buf = nb;
    *cap = ncap;
    return true;
}

/* ------------------------------------------------------------------ transactions */

static void side_reset(struct h2_side *s)
{
    vg_sbuf_reset(&s->hdrs);
    vg_sbuf_reset(&s->sets);
    vg_sbuf_reset(&s->raw);
    s->cset = 0;
    s->has_hdrs = s->has_sets = s->has_err = s->has_prio = false;
    s->multiple = NULL;
    vg_sbuf_reset(&s->doh);
    s->doh_frame = 0;
    s->is_doh = s->doh_over = false;
}

static void tx_free(struct h2_tx *t)
{
    for (int d = 0; d < 2; d++) {
        vg_sbuf_fini(&t->side[d].hdrs);
        vg_sbuf_fini(&t->side[d].sets);
        vg_sbuf_fini(&t->side[d].raw);
        vg_sbuf_fini(&t->side[d].doh);
    }
    vg_free(t);
}

/* A transaction for stream sid (0: a global one), taking the next tx_id. NULL: no memory. */
static struct h2_tx *tx_alloc(struct h2_state *s, uint32_t sid)
{
    struct h2_tx *t = s->nspare ? s->spare[--s->nspare] : vg_calloc(1, sizeof(*t));
    if (!t) {
        return NULL;
    }
    side_reset(&t->side[0]);
    side_reset(&t->side[1]);
    t->tx_id = s->next_tx_id++;
    t->sid = sid;
    t->state = sid ? ST_OPEN : ST_GLOBAL;
    s->stats.txs++;
    return t;
}

static void tx_release(struct h2_state *s, struct h2_tx *t)
{
    if (s->nspare < VG_ARRAY_LEN(s->spare) && t->side[0].hdrs.cap + t->side[1].hdrs.cap < 8192 &&
        t->side[0].doh.cap + t->side[1].doh.cap < 8192) {
        s->spare[s->nspare++] = t;
    } else {
        tx_free(t);
    }
}

/* "error_code" value: Suricata's upper-case names, else the number. */
static void json_error_code(struct vg_sbuf *b, uint32_t code)
{
    static const char *const names[] = {
        "NOERROR",
        "PROTOCOLERROR",
        "INTERNALERROR",
        "FLOWCONTROLERROR",
        "SETTINGSTIMEOUT",
        "STREAMCLOSED",
        "FRAMESIZEERROR",
        "REFUSEDSTREAM",
        "CANCEL",
        "COMPRESSIONERROR",
        "CONNECTERROR",
        "ENHANCEYOURCALM",
        "INADEQUATESECURITY",
        "HTTP11REQUIRED",
    };
    if (code < VG_ARRAY_LEN(names)) {
        vg_sensor_json_kstr(b, "error_code", names[code], strlen(names[code]));
    } else {
        char num[16];
        int k = snprintf(num, sizeof(num), "%u", code);
        vg_sensor_json_kstr(b, "error_code", num, (size_t)k);
    }
}

/* The frame members of one side: settings, error_code, priority, has_multiple. */
static void side_frames_json(struct vg_sbuf *b, const struct h2_side *sd)
{
    if (sd->has_sets) {
        vg_sbuf_adds(b, "\"settings\":[");
        vg_sbuf_add(b, sd->sets.p ? sd->sets.p : "", sd->sets.len);
        vg_sbuf_addc(b, ']');
    }
    if (sd->has_err) {
        json_error_code(b, sd->err);
    }
    if (sd->has_prio) {
        vg_sensor_json_kint(b, "priority", sd->prio);
    }
    if (sd->multiple) {
        vg_sensor_json_kstr(b, "has_multiple", sd->multiple, strlen(sd->multiple));
    }
}

/* Digits only, as Rust's u64 parse accepts them ('+' prefix allowed). */
static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
    size_t i = (n > 0 && p[0] == '+') ? 1 : 0;
    uint64_t v = 0;
    if (i == n) {
        return false;
    }
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* Top-level fields from the common headers (the response side wins, as in Suricata). */
static void common_json(struct vg_sbuf *b, const struct h2_tx *t)
{
    static const char *const keys[CF_N] = {"http_method",     "url",    "hostname",
                                           "http_user_agent", "status", "length"};
    for (int f = 0; f < CF_N; f++) {
        const struct h2_side *sd = (t->side[1].cset & (1u << f)) ? &t->side[1] : &t->side[0];
        if (!(sd->cset & (1u << f))) {
            continue;
        }
        if (!sd->raw.p || sd->raw.err) {
            continue;
        }
        const char *v = sd->raw.p + sd->coff[f];
        size_t n = sd->clen[f];
        if (f == CF_STATUS || f == CF_LENGTH) {
            uint64_t u;
            if (parse_u64(v, n, &u) && u <= INT64_MAX) {
                vg_sensor_json_kint(b, keys[f], (int64_t)u);
            }
        } else {
            vg_sensor_json_kstr(b, keys[f], v, n);
        }
    }
}

static bool tx_loggable(const struct h2_tx *t)
{
    for (int d = 0; d < 2; d++) {
        const struct h2_side *sd = &t->side[d];
        if (sd->has_hdrs || sd->has_sets || sd->has_err || sd->has_prio) {
            return true;
        }
    }
    return false;
}

/* ,"http":{…} of t (Suricata's HTTP/2 logger). arg: the transaction. */
static void http_json(struct vg_sbuf *b, void *arg)
{
    const struct h2_tx *t = arg;
    vg_sbuf_adds(b, ",\"http\":{");
    common_json(b, t);
    vg_sensor_json_kstr(b, "version", "2", 1);
    static const char *const hk[2] = {"request_headers", "response_headers"};
    for (int d = 0; d < 2; d++) {
        if (t->side[d].has_hdrs) {
            vg_sbuf_printf(b, ",\"%s\":[", hk[d]);
            vg_sbuf_add(b, t->side[d].hdrs.p ? t->side[d].hdrs.p : "", t->side[d].hdrs.len);
            vg_sbuf_addc(b, ']');
        }
    }
    vg_sbuf_printf(b, ",\"http2\":{\"stream_id\":%u,\"request\":{", t->sid);
    side_frames_json(b, &t->side[0]);
    vg_sbuf_adds(b, "},\"response\":{");
    side_frames_json(b, &t->side[1]);
    vg_sbuf_adds(b, "}}}");
}

/*
 * DoH: the `dns` record of t (Suricata 8's doh2 logger: the http object, then the response's
 * DNS message, else the request's).
 */
static void tx_log_doh(struct vg_sensor_app_ctx *c, struct h2_state *s, struct h2_tx *t)
{
    for (int d = 1; d >= 0; d--) {
        const struct h2_side *sd = &t->side[d];
        if (!sd->is_doh || sd->doh_over || !sd->doh.len || sd->doh.len > H2_DOH_MAX ||
            sd->doh.err) {
            continue;
        }
        if (vg_sensor_dns_log_message(c, (const uint8_t *)sd->doh.p, sd->doh.len, d == 0,
                                      (int64_t)t->tx_id, http_json, t) == VG_OK) {
            s->stats.records++;
            return;
        }
    }
}

/* Write the `http` record of t (when it has something to say), and its DoH `dns` record. */
static void tx_log(struct vg_sensor_app_ctx *c, struct h2_state *s, struct h2_tx *t)
{
    if (!tx_loggable(t)) {
        return;
    }
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "http", VG_SENSOR_REC_FLOW, (int64_t)t->tx_id);
    http_json(b, t);
    vg_sensor_rec_end(c);
    s->stats.records++;
    tx_log_doh(c, s, t);
}

/* Drop open transaction i (after logging it). */
static void tx_remove(struct h2_state *s, uint32_t i)
{
    struct h2_tx *t = s->tx[i];
    memmove(&s->tx[i], &s->tx[i + 1], (s->ntx - i - 1) * sizeof(s->tx[0]));
    s->ntx--;
    tx_release(s, t);
}

/* Log and drop the finished transactions (oldest first). */
static void tx_flush_done(struct vg_sensor_app_ctx *c, struct h2_state *s)
{
    for (uint32_t i = 0; i < s->ntx;) {
        if (s->tx[i]->state >= ST_CLOSED) {
            tx_log(c, s, s->tx[i]);
            tx_remove(s, i);
        } else {
            i++;
        }
    }
}

/*
 * The transaction a frame of stream sid belongs to: stream 0 makes a new global one (only
 * when the frame has something to log: need; otherwise just a tx_id), other streams reuse the
 * open one or start one. With H2_TX_MAX open, the oldest is logged now and dropped.
 */
static struct h2_tx *tx_for(struct vg_sensor_app_ctx *c, struct h2_state *s, uint32_t sid,
                            bool need)
{
    if (sid != 0) {
        for (uint32_t i = s->ntx; i-- > 0;) {
            if (s->tx[i]->sid == sid) {
                return s->tx[i];
            }
        }
    } else if (!need) {
        s->next_tx_id++;
        return NULL;
    }
    if (s->ntx == H2_TX_MAX) {
        s->stats.streams_evicted++;
        tx_log(c, s, s->tx[0]);
        tx_remove(s, 0);
    }
    struct h2_tx *t = tx_alloc(s, sid);
    if (t) {
        s->tx[s->ntx++] = t;
    }
    return t;
}

/* END_STREAM / DATA state changes (Suricata's HTTP2Transaction::handle_frame). */
static void tx_state_frame(struct h2_tx *t, uint8_t type, uint8_t flags, int d)
{
    if (type != FT_HEADERS && type != FT_DATA) {
        return;
    }
    bool tc = d == VG_SENSOR_FLOW_TO_CLIENT;
    if (flags & FL_END_STREAM) {
        switch (t->state) {
        case ST_HC_CLIENT:
        case ST_DATA_SERVER:
            if (tc) {
                t->state = ST_CLOSED;
            }
            break;
        case ST_HC_SERVER:
            if (!tc) {
                t->state = ST_CLOSED;
            }
            break;
        case ST_CLOSED:
        case ST_GLOBAL:
            break;
        default:
            t->state = tc ? ST_HC_SERVER : ST_HC_CLIENT;
            break;
        }
    } else if (type == FT_DATA) {
        uint8_t to = tc ? ST_DATA_SERVER : ST_DATA_CLIENT;
        if (t->state < to) {
            t->state = to;
        }
    }
}

/* ------------------------------------------------------------------ headers of a side */

static long b64_decode(const uint8_t *p, size_t n, uint8_t *out, size_t cap);

/* Does v[0..n) start with "application/dns-message" (case-insensitive, then end or ';')? */
static bool doh_content_type(const uint8_t *v, size_t n)
{
    static const char ct[] = "application/dns-message";
    size_t k = sizeof(ct) - 1;
    if (n < k || !ci_eq(v, k, ct)) {
        return false;
    }
    return n == k || v[k] == ';' || v[k] == ' ' || v[k] == '\t';
}

/* A GET request's ?dns=<base64url> parameter (RFC 8484 4.1): the DNS message into sd->doh. */
static void doh_path(struct h2_side *sd, const uint8_t *v, size_t n)
{
    size_t i = 0;
    while (i < n && v[i] != '?') {
        i++;
    }
    while (i < n) {
        i++; /* past '?' or '&' */
        size_t e = i;
        while (e < n && v[e] != '&') {
            e++;
        }
        if (e - i > 4 && memcmp(v + i, "dns=", 4) == 0) {
            size_t want = (e - i - 4) * 3 / 4 + 3;
            if (want > H2_DOH_MAX + 3 || vg_sbuf_reserve(&sd->doh, want) != VG_OK) {
                sd->doh_over = true;
                return;
            }
            long k = b64_decode(v + i + 4, e - i - 4, (uint8_t *)sd->doh.p, sd->doh.cap);
            sd->doh.len = k > 0 ? (size_t)k : 0;
            sd->is_doh = k > 0;
            return;
        }
        i = e;
    }
}

/* DoH detection on one header field of side sd. */
static void doh_header(struct h2_side *sd, const uint8_t *name, size_t nlen, const uint8_t *value,
                       size_t vlen)
{
    if (ci_eq(name, nlen, "content-type")) {
        if (doh_content_type(value, vlen) && !sd->is_doh) {
            sd->is_doh = true;
            vg_sbuf_reset(&sd->doh); /* the body carries the message */
        }
    } else if (ci_eq(name, nlen, ":path") && !sd->is_doh) {
        doh_path(sd, value, vlen);
    }
}

/* Append one {"name","value"} object and note the common fields. */
static void side_add_header(struct h2_state *s, struct h2_side *sd, const uint8_t *name,
                            size_t nlen, const uint8_t *value, size_t vlen)
{
    sd->has_hdrs = true;
    doh_header(sd, name, nlen, value, vlen);
    if (sd->hdrs.len + nlen + vlen > H2_HDR_MAX) {
        s->stats.headers_truncated++;
        return;
    }
    if (sd->hdrs.len) {
        vg_sbuf_addc(&sd->hdrs, ',');
    }
    vg_sbuf_addc(&sd->hdrs, '{');
    vg_sensor_json_kstr(&sd->hdrs, "name", (const char *)name, nlen);
    vg_sensor_json_kstr(&sd->hdrs, "value", (const char *)value, vlen);
    vg_sbuf_addc(&sd->hdrs, '}');
    for (int f = 0; f < CF_N; f++) {
        if (ci_eq(name, nlen, cf_header[f])) {
            sd->coff[f] = (uint32_t)sd->raw.len;
            sd->clen[f] = (uint32_t)vlen;
            vg_sbuf_add(&sd->raw, value, vlen);
            sd->cset = (uint8_t)(sd->cset | (1u << f));
        }
    }
}

static void side_add_special(struct h2_side *sd, const char *key, const char *str, uint32_t num)
{
    sd->has_hdrs = true;
    if (sd->hdrs.len) {
        vg_sbuf_addc(&sd->hdrs, ',');
    }
    vg_sbuf_addc(&sd->hdrs, '{');
    if (str) {
        vg_sensor_json_kstr(&sd->hdrs, key, str, strlen(str));
    } else {
        vg_sensor_json_kint(&sd->hdrs, key, num);
    }
    vg_sbuf_addc(&sd->hdrs, '}');
}

#define H2_SEEN_MAX 64

struct hdr_sink {
    struct h2_state *s;
    struct h2_side *sd;
    uint32_t seen[H2_SEEN_MAX]; /* name identities logged in this block */
    uint32_t nseen;
};

/*
 * Suricata logs a name shared through the dynamic table once per header block (it skips a
 * field whose name object is already referenced elsewhere and was logged in this block).
 */
static bool sink_dup(struct hdr_sink *k, const struct vg_sensor_hpack_field *f)
{
    for (uint32_t i = 0; f->from_dynamic && i < k->nseen; i++) {
        if (k->seen[i] == f->name_id) {
            return true;
        }
    }
    if (k->nseen < H2_SEEN_MAX) {
        k->seen[k->nseen++] = f->name_id;
    }
    return false;
}

static void on_field(void *ctx, const struct vg_sensor_hpack_field *f)
{
    struct hdr_sink *k = ctx;
    if (f->size_update) {
        side_add_special(k->sd, "table_size_update", NULL, f->size);
        return;
    }
    if (sink_dup(k, f)) {
        return;
    }
    side_add_header(k->s, k->sd, f->name, f->nlen, f->value, f->vlen);
}

static const char *hpack_error_name(int e)
{
    switch (e) {
    case VG_SENSOR_HPACK_E_INTEGER:
        return "HTTP2HeaderDecodeIntegerOverflow";
    case VG_SENSOR_HPACK_E_INDEX:
        return "HTTP2HeaderDecodeIndexOutOfBounds";
    default:
        return "HTTP2HeaderDecodeError";
    }
}

/* Decode a complete header block into side d of t (t NULL: decode for the table only). */
static void block_decode(struct h2_state *s, struct h2_tx *t, int d, const uint8_t *p, size_t n)
{
    struct h2_side dummy;
    struct hdr_sink k = {.s = s, .sd = t ? &t->side[d] : &dummy, .nseen = 0};
    if (!t) {
        memset(&dummy, 0, sizeof(dummy));
    }
    k.sd->has_hdrs = true;
    if (!s->scratch) {
        s->scratch = vg_malloc(H2_SCRATCH);
    }
    int e = s->scratch
                ? vg_sensor_hpack_decode(&s->dir[d].hp, p, n, s->scratch, H2_SCRATCH, on_field, &k)
                : VG_SENSOR_HPACK_E_NOMEM;
    if (e != 0) {
        s->stats.hpack_errors++;
        side_add_special(k.sd, "error", hpack_error_name(e), 0);
    }
    if (!t) {
        vg_sbuf_fini(&dummy.hdrs);
        vg_sbuf_fini(&dummy.raw);
    }
}

/* ------------------------------------------------------------------ frame handlers */

struct h2_frame {
    uint8_t type, flags;
    uint32_t sid;
    const uint8_t *p;
    uint32_t n;    /* bytes kept */
    uint32_t flen; /* length on the wire */
};

static void side_note_prio(struct h2_side *sd, uint8_t w)
{
    if (!sd->has_prio) {
        sd->has_prio = true;
        sd->prio = w;
    } else if (!sd->multiple) {
        sd->multiple = "priority";
    }
}

static void side_note_err(struct h2_side *sd, uint32_t code)
{
    if (!sd->has_err) {
        sd->has_err = true;
        sd->err = code;
    } else if (!sd->multiple) {
        sd->multiple = "error_code";
    }
}

/* Start (or complete) a header block for stream tsid from fragment p[0..n). */
static int block_start(struct h2_state *s, struct h2_tx *t, int d, const struct h2_frame *f,
                       uint32_t tsid, const uint8_t *p, size_t n)
{
    struct h2_dir *dr = &s->dir[d];
    if (f->flags & FL_END_HEADERS) {
        block_decode(s, t, d, p, n);
        return VG_SENSOR_APP_OK;
    }
    dr->blk_open = true;
    dr->blk_fsid = f->sid;
    dr->blk_tsid = tsid;
    dr->blk_len = 0;
    dr->blk_trunc = false;
    if (n > H2_BLOCK_MAX || !buf_room(&dr->blk, &dr->blk_cap, (uint32_t)n)) {
        dr->blk_trunc = true;
        return VG_SENSOR_APP_OK;
    }
    if (n > 0) {
        memcpy(dr->blk, p, n);
    }
    dr->blk_len = (uint32_t)n;
    return VG_SENSOR_APP_OK;
}

/* Strip padding (and the priority fields of HEADERS). Returns false when malformed. */
static bool frame_unpad(const struct h2_frame *f, size_t extra, size_t *off, size_t *end,
                        bool *prio, uint8_t *weight)
{
    size_t o = 0, pad = 0;
    *prio = false;
    if (f->n != f->flen) {
        return false; /* truncated: the block cannot be decoded */
    }
    if (f->flags & FL_PADDED) {
        if (f->n < 1) {
            return false;
        }
        pad = f->p[0];
        o = 1;
    }
    if (f->type == FT_HEADERS && (f->flags & FL_PRIORITY)) {
        if (f->n < o + 5) {
            return false;
        }
        *prio = true;
        *weight = f->p[o + 4];
        o += 5;
    }
    if (f->n < o + extra + pad) {
        return false;
    }
    *off = o + extra;
    *end = f->n - pad;
    return true;
}

static int on_headers(struct vg_sensor_app_ctx *c, struct h2_state *s, int d,
                      const struct h2_frame *f)
{
    size_t off, end;
    bool prio;
    uint8_t w = 0;
    bool ok = frame_unpad(f, 0, &off, &end, &prio, &w);
    struct h2_tx *t = tx_for(c, s, f->sid, true);
    if (!ok) {
        s->stats.malformed_frames++;
        return VG_SENSOR_APP_OK; /* the block is lost; later indices may be off */
    }
    if (t) {
        if (prio) {
            side_note_prio(&t->side[d], w);
        }
        tx_state_frame(t, f->type, f->flags, d);
    }
    return block_start(s, t, d, f, f->sid, f->p + off, end - off);
}

static int on_push_promise(struct vg_sensor_app_ctx *c, struct h2_state *s, int d,
                           const struct h2_frame *f)
{
    size_t off, end;
    bool prio;
    uint8_t w;
    if (!frame_unpad(f, 4, &off, &end, &prio, &w)) {
        s->stats.malformed_frames++;
        (void)tx_for(c, s, f->sid, false);
        return VG_SENSOR_APP_OK;
    }
    uint32_t promised = be32(f->p + off - 4) & 0x7fffffffu;
    struct h2_tx *t = tx_for(c, s, promised, true);
    if (t && d == VG_SENSOR_FLOW_TO_CLIENT) {
        t->state = ST_RESERVED;
    }
    return block_start(s, t, d, f, promised, f->p + off, end - off);
}

static int on_continuation(struct vg_sensor_app_ctx *c, struct h2_state *s, int d,
                           const struct h2_frame *f)
{
    struct h2_dir *dr = &s->dir[d];
    if (!dr->blk_open || f->sid != dr->blk_fsid) {
        return VG_SENSOR_APP_ERROR; /* RFC 7540 6.10: connection error */
    }
    if (f->n != f->flen || dr->blk_len + f->n > H2_BLOCK_MAX ||
        !buf_room(&dr->blk, &dr->blk_cap, dr->blk_len + f->n)) {
        dr->blk_trunc = true;
    } else if (!dr->blk_trunc && f->n > 0) {
        memcpy(dr->blk + dr->blk_len, f->p, f->n);
        dr->blk_len += f->n;
    }
    if (!(f->flags & FL_END_HEADERS)) {
        return VG_SENSOR_APP_OK;
    }
    dr->blk_open = false;
    struct h2_tx *t = tx_for(c, s, dr->blk_tsid, true);
    if (dr->blk_trunc) {
        s->stats.hpack_errors++;
        if (t) {
            side_add_special(&t->side[d], "error", "HTTP2HeaderDecodeError", 0);
        }
        return VG_SENSOR_APP_OK;
    }
    block_decode(s, t, d, dr->blk, dr->blk_len);
    return VG_SENSOR_APP_OK;
}

static const char *const settings_names[] = {
    NULL,
    "SETTINGSHEADERTABLESIZE",
    "SETTINGSENABLEPUSH",
    "SETTINGSMAXCONCURRENTSTREAMS",
    "SETTINGSINITIALWINDOWSIZE",
    "SETTINGSMAXFRAMESIZE",
    "SETTINGSMAXHEADERLISTSIZE",
};

/* Add the settings p[0..n) to sd; stops at an unknown identifier, as Suricata's parser. */
static void side_add_settings(struct h2_state *s, struct h2_side *sd, const uint8_t *p, size_t n,
                              int d)
{
    sd->has_sets = true;
    for (size_t i = 0; i + 6 <= n; i += 6) {
        uint16_t id = (uint16_t)((p[i] << 8) | p[i + 1]);
        uint32_t v = be32(p + i + 2);
        if (id == 0 || id >= VG_ARRAY_LEN(settings_names)) {
            break;
        }
        if (id == 1 && s && d >= 0) {
            /* what this endpoint accepts applies to the other direction's encoder */
            vg_sensor_hpack_set_limit(&s->dir[!d].hp, v);
        }
        if (sd->sets.len) {
            vg_sbuf_addc(&sd->sets, ',');
        }
        vg_sbuf_printf(&sd->sets, "{\"settings_id\":\"%s\",\"settings_value\":%u}",
                       settings_names[id], v);
    }
}

static int on_settings(struct vg_sensor_app_ctx *c, struct h2_state *s, int d,
                       const struct h2_frame *f)
{
    if (f->flen == 0) {
        return VG_SENSOR_APP_OK; /* ACK (or empty): no transaction, as in Suricata */
    }
    if (f->flen % 6 != 0) {
        s->stats.malformed_frames++;
    }
    struct h2_tx *t = tx_for(c, s, f->sid, true);
    if (t) {
        side_add_settings(s, &t->side[d], f->p, f->n, d);
    }
    return VG_SENSOR_APP_OK;
}

/* RST_STREAM, PRIORITY, GOAWAY, WINDOW_UPDATE, PING, DATA and unknown types. */
/* DATA payload bytes p[0..n) of the current frame: kept when its side carries DoH. */
static void doh_data(struct h2_state *s, int d, const uint8_t *p, uint32_t n)
{
    struct h2_dir *dr = &s->dir[d];
    struct h2_tx *t = NULL;
    for (uint32_t i = s->ntx; dr->fsid && i-- > 0;) {
        if (s->tx[i]->sid == dr->fsid) {
            t = s->tx[i];
            break;
        }
    }
    if (!t || !t->side[d].is_doh || t->side[d].doh_over) {
        return;
    }
    struct h2_side *sd = &t->side[d];
    if (dr->fgot == 0) {
        sd->doh_frame = (uint32_t)sd->doh.len;
    }
    if (sd->doh.len + n > H2_DOH_MAX + 256u) { /* room for one frame's padding */
        sd->doh_over = true;
        s->stats.headers_truncated++;
        return;
    }
    vg_sbuf_add(&sd->doh, p, n);
}

/* End of a DATA frame kept for DoH: drop its padding (RFC 7540 6.1). */
static void doh_unpad(struct h2_tx *t, int d, const struct h2_frame *f)
{
    struct h2_side *sd = &t->side[d];
    if (!sd->is_doh || sd->doh_over || !(f->flags & FL_PADDED)) {
        return;
    }
    size_t got = sd->doh.len - sd->doh_frame;
    if (got != f->flen || got == 0) {
        sd->doh_over = true; /* lost part of the frame */
        return;
    }
    uint8_t *b = (uint8_t *)sd->doh.p + sd->doh_frame;
    size_t pad = b[0];
    if (pad + 1 > got) {
        sd->doh_over = true;
        return;
    }
    memmove(b, b + 1, got - 1 - pad);
    sd->doh.len = sd->doh_frame + got - 1 - pad;
}

static int on_simple(struct vg_sensor_app_ctx *c, struct h2_state *s, int d,
                     const struct h2_frame *f)
{
    bool ok = true, logs = false;
    switch (f->type) {
    case FT_RST_STREAM:
        ok = f->flen == 4 && f->n == 4;
        logs = ok;
        break;
    case FT_PRIORITY:
        ok = f->flen == 5 && f->n == 5;
        logs = ok;
        break;
    case FT_GOAWAY:
        ok = f->flen >= 8 && f->n >= 8;
        logs = ok;
        break;
    case FT_WINDOW_UPDATE:
        ok = f->flen == 4;
        break;
    default:
        break;
    }
    if (!ok) {
        s->stats.malformed_frames++;
    }
    struct h2_tx *t = tx_for(c, s, f->sid, logs);
    if (!t || !ok) {
        return VG_SENSOR_APP_OK;
    }
    if (f->type == FT_RST_STREAM) {
        side_note_err(&t->side[d], be32(f->p));
    } else if (f->type == FT_GOAWAY) {
        side_note_err(&t->side[d], be32(f->p + 4));
    } else if (f->type == FT_PRIORITY) {
        side_note_prio(&t->side[d], f->p[4]);
    } else {
        if (f->type == FT_DATA) {
            doh_unpad(t, d, f);
        }
        tx_state_frame(t, f->type, f->flags, d);
    }
    return VG_SENSOR_APP_OK;
}

static int frame_dispatch(struct vg_sensor_app_ctx *c, struct h2_state *s, int d,
                          const struct h2_frame *f)
{
    s->stats.frames++;
    if (s->dir[d].blk_open && f->type != FT_CONTINUATION) {
        return VG_SENSOR_APP_ERROR; /* RFC 7540 6.2: only CONTINUATION inside a block */
    }
    switch (f->type) {
    case FT_HEADERS:
        return on_headers(c, s, d, f);
    case FT_PUSH_PROMISE:
        return on_push_promise(c, s, d, f);
    case FT_CONTINUATION:
        return on_continuation(c, s, d, f);
    case FT_SETTINGS:
        return on_settings(c, s, d, f);
    default:
        return on_simple(c, s, d, f);
    }
}

/* ------------------------------------------------------------------ frame reader */

/* The 9-byte header is complete: set up the payload. */
static void frame_head(struct h2_dir *dr)
{
    dr->flen = ((uint32_t)dr->fh[0] << 16) | ((uint32_t)dr->fh[1] << 8) | dr->fh[2];
    dr->ftype = dr->fh[3];
    dr->fflags = dr->fh[4];
    dr->fsid = be32(dr->fh + 5) & 0x7fffffffu;
    dr->fgot = 0;
    dr->buf_len = 0;
    dr->phase = PH_PAYLOAD;
}

/* Suricata's LONG_FRAME_DATA event (a frame of 64 KiB or more): an `anomaly` record. */
static void anomaly_long_frame(struct vg_sensor_app_ctx *c, struct h2_state *s)
{
    s->stats.long_frames++;
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "anomaly", VG_SENSOR_REC_PACKET, -1);
    vg_sbuf_adds(b, ",\"anomaly\":{\"app_proto\":\"http2\",\"type\":\"applayer\","
                    "\"event\":\"long_frame_data\",\"layer\":\"proto_parser\"}");
    vg_sensor_rec_end(c);
}

static int frame_end(struct vg_sensor_app_ctx *c, struct h2_state *s, int d, const uint8_t *p,
                     uint32_t n)
{
    struct h2_dir *dr = &s->dir[d];
    struct h2_frame f = {dr->ftype, dr->fflags, dr->fsid, p, n, dr->flen};
    dr->phase = PH_HEAD;
    dr->fh_got = 0;
    return frame_dispatch(c, s, d, &f);
}

/* Payload bytes p[0..n) (n <= what the frame still needs). */
static int frame_payload(struct vg_sensor_app_ctx *c, struct h2_state *s, int d, const uint8_t *p,
                         uint32_t n)
{
    struct h2_dir *dr = &s->dir[d];
    bool keep = dr->ftype != FT_DATA;
    if (!keep) {
        doh_data(s, d, p, n);
    }
    if (keep && dr->fgot == 0 && n == dr->flen && n <= H2_FRAME_KEEP) {
        dr->fgot = n;
        return frame_end(c, s, d, p, n); /* whole frame in hand: no copy */
    }
    if (keep && dr->buf_len < H2_FRAME_KEEP) {
        uint32_t k = VG_MIN(n, H2_FRAME_KEEP - dr->buf_len);
        uint32_t want = VG_MIN(dr->flen, H2_FRAME_KEEP);
        if (buf_room(&dr->buf, &dr->buf_cap, want)) {
            memcpy(dr->buf + dr->buf_len, p, k);
            dr->buf_len += k;
        }
    }
    dr->fgot += n;
    if (dr->fgot < dr->flen) {
        return VG_SENSOR_APP_OK;
    }
    return frame_end(c, s, d, dr->buf, keep ? dr->buf_len : 0);
}

/* HTTP/2 bytes of direction d. */
static int h2_feed(struct vg_sensor_app_ctx *c, struct h2_state *s, int d, const uint8_t *p,
                   size_t n)
{
    struct h2_dir *dr = &s->dir[d];
    while (n > 0) {
        int r = VG_SENSOR_APP_OK;
        size_t k = 0;
        switch (dr->phase) {
        case PH_PREFACE:
            k = VG_MIN(n, (size_t)(H2_PREFACE_LEN - dr->pre_got));
            if (memcmp(p, &H2_PREFACE[dr->pre_got], k) != 0) {
                return VG_SENSOR_APP_ERROR;
            }
            dr->pre_got += (uint32_t)k;
            if (dr->pre_got == H2_PREFACE_LEN) {
                dr->phase = PH_HEAD;
            }
            break;
        case PH_HEAD:
            k = VG_MIN(n, (size_t)(9 - dr->fh_got));
            memcpy(dr->fh + dr->fh_got, p, k);
            dr->fh_got += (uint32_t)k;
            if (dr->fh_got == 9) {
                frame_head(dr);
                if (dr->flen >= H2_FRAME_KEEP) {
                    anomaly_long_frame(c, s);
                }
                if (dr->flen == 0) {
                    r = frame_end(c, s, d, p, 0);
                }
            }
            break;
        case PH_PAYLOAD:
            k = VG_MIN(n, (size_t)(dr->flen - dr->fgot));
            r = frame_payload(c, s, d, p, (uint32_t)k);
            break;
        default:
            return VG_SENSOR_APP_OK; /* lost sync after a gap */
        }
        if (r != VG_SENSOR_APP_OK) {
            return r;
        }
        p += k;
        n -= k;
    }
    return VG_SENSOR_APP_OK;
}

/* ------------------------------------------------------------------ h2c upgrade */

/* Base64 (standard or URL alphabet, padding optional) of p[0..n) into out; -1 if invalid. */
static long b64_decode(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        int v;
        if (ch >= 'A' && ch <= 'Z') {
            v = ch - 'A';
        } else if (ch >= 'a' && ch <= 'z') {
            v = ch - 'a' + 26;
        } else if (ch >= '0' && ch <= '9') {
            v = ch - '0' + 52;
        } else if (ch == '+' || ch == '-') {
            v = 62;
        } else if (ch == '/' || ch == '_') {
            v = 63;
        } else if (ch == '=') {
            break;
        } else {
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) {
                return -1;
            }
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

/* Trim spaces and tabs around p[*a..*b). */
static void trim_ows(const uint8_t *p, size_t *a, size_t *b)
{
    while (*a < *b && (p[*a] == ' ' || p[*a] == '\t')) {
        (*a)++;
    }
    while (*b > *a && (p[*b - 1] == ' ' || p[*b - 1] == '\t' || p[*b - 1] == '\r')) {
        (*b)--;
    }
}

/* One request header of the upgrade request, as Suricata's HTTP2MimicHttp1Request adds it. */
static void mimic_header(struct vg_sensor_app_ctx *c, struct h2_state *s, struct h2_tx *t,
                         const uint8_t *name, size_t nlen, const uint8_t *val, size_t vlen)
{
    if (nlen == 14 && memcmp(name, "HTTP2-Settings", 14) == 0) {
        uint8_t set[1024];
        long k = b64_decode(val, vlen, set, sizeof(set));
        struct h2_tx *g = k >= 0 ? tx_for(c, s, 0, true) : NULL;
        if (g) {
            side_add_settings(NULL, &g->side[0], set, (size_t)k, -1);
        }
        return;
    }
    if (ci_eq(name, nlen, "host")) {
        side_add_header(s, &t->side[0], (const uint8_t *)":authority", 10, val, vlen);
    } else {
        side_add_header(s, &t->side[0], name, nlen, val, vlen);
    }
}

/* The upgrade succeeded: stream 1 carries the HTTP/1 request (RFC 7540 3.2). */
static void mimic_request(struct vg_sensor_app_ctx *c, struct h2_state *s)
{
    const uint8_t *h = s->h1.head;
    size_t n = s->h1.head_len, i = 0;
    if (!h || s->h1.head_lost) {
        return;
    }
    const uint8_t *eol = memchr(h, '\n', n);
    size_t ll = eol ? (size_t)(eol - h) : n;
    const uint8_t *sp1 = memchr(h, ' ', ll);
    if (!sp1) {
        return;
    }
    struct h2_tx *t = tx_for(c, s, 1, true);
    if (!t) {
        return;
    }
    side_add_header(s, &t->side[0], (const uint8_t *)":method", 7, h, (size_t)(sp1 - h));
    size_t us = (size_t)(sp1 - h) + 1;
    const uint8_t *sp2 = memchr(h + us, ' ', ll - us);
    size_t ue = sp2 ? (size_t)(sp2 - h) : ll;
    trim_ows(h, &us, &ue);
    if (ue > us) {
        side_add_header(s, &t->side[0], (const uint8_t *)":path", 5, h + us, ue - us);
    }
    for (i = eol ? ll + 1 : n; i < n;) {
        const uint8_t *e = memchr(h + i, '\n', n - i);
        size_t le = e ? (size_t)(e - h) : n;
        const uint8_t *colon = memchr(h + i, ':', le - i);
        if (colon) {
            size_t ne = (size_t)(colon - h), vs = ne + 1, ve = le, ns = i;
            trim_ows(h, &ns, &ne);
            trim_ows(h, &vs, &ve);
            mimic_header(c, s, t, h + ns, ne - ns, h + vs, ve - vs);
        }
        i = le + 1;
    }
    t->state = ST_HC_CLIENT;
}

/* Advance the end-of-head matcher m (1: at a line start, 2: and a CR seen) over p[0..n);
 * returns the bytes up to the end of the head (inclusive), or n + 1 when it goes on. */
static size_t eoh_scan(uint32_t *m, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (ch == '\n') {
            if (*m == 1 || *m == 2) {
                *m = 0;
                return i + 1;
            }
            *m = 1;
        } else if (ch == '\r') {
            *m = *m == 1 ? 2 : 0;
        } else {
            *m = 0;
        }
    }
    return n + 1;
}

static int h1_pass(struct vg_sensor_app_ctx *c, struct h2_state *s, const uint8_t *p, size_t n)
{
    if (n == 0 || !s->h1.st) {
        return VG_SENSOR_APP_OK;
    }
    int r = vg_sensor_proto_http.data(c, s->h1.st, p, n);
    /* DONE after the 101 is expected: the rest is ours */
    return (r == VG_SENSOR_APP_DONE && s->mode != M_H1_ONLY) ? VG_SENSOR_APP_OK : r;
}

/* Content-Length of the kept request head (0 when absent). */
static uint64_t head_content_length(const struct h2_h1 *h)
{
    static const char key[] = "\ncontent-length:";
    size_t kl = sizeof(key) - 1;
    for (size_t i = 0; h->head && i + kl <= h->head_len; i++) {
        if (ci_eq(h->head + i, kl, key)) {
            size_t a = i + kl, b = a;
            while (b < h->head_len && h->head[b] != '\r' && h->head[b] != '\n') {
                b++;
            }
            trim_ows(h->head, &a, &b);
            uint64_t v;
            return parse_u64((const char *)h->head + a, b - a, &v) ? v : 0;
        }
    }
    return 0;
}

/* Client bytes while the upgrade is pending. */
static int h1_to_server(struct vg_sensor_app_ctx *c, struct h2_state *s, const uint8_t *p, size_t n)
{
    struct h2_h1 *h = &s->h1;
    if (!h->req_done) {
        size_t k = eoh_scan(&h->eoh[0], p, n);
        size_t take = VG_MIN(k, n);
        if (!h->head && !h->head_lost) {
            h->head = vg_malloc(H2_H1_HEAD_MAX);
        }
        if (h->head && !h->head_lost && h->head_len + take <= H2_H1_HEAD_MAX) {
            memcpy(h->head + h->head_len, p, take);
            h->head_len += (uint32_t)take;
        } else {
            h->head_lost = true;
        }
        int r = h1_pass(c, s, p, take);
        if (r != VG_SENSOR_APP_OK || k > n) {
            return r;
        }
        h->req_done = true;
        h->body_left = head_content_length(h);
        p += take;
        n -= take;
    }
    size_t b = (size_t)VG_MIN((uint64_t)n, h->body_left);
    h->body_left -= b;
    int r = h1_pass(c, s, p, b);
    if (r != VG_SENSOR_APP_OK || b == n) {
        return r;
    }
    return h->upgraded ? h2_feed(c, s, 0, p + b, n - b) : h1_pass(c, s, p + b, n - b);
}

/* Status code of the kept status line ("HTTP/1.1 101 …"), -1 if none. */
static int h1_status(const struct h2_h1 *h)
{
    if (h->line_len < 12 || memcmp(h->line, "HTTP/", 5) != 0) {
        return -1;
    }
    const uint8_t *sp = memchr(h->line, ' ', h->line_len);
    if (!sp || (size_t)(sp - h->line) + 4 > h->line_len) {
        return -1;
    }
    int v = 0;
    for (int i = 1; i <= 3; i++) {
        if (sp[i] < '0' || sp[i] > '9') {
            return -1;
        }
        v = v * 10 + (sp[i] - '0');
    }
    return v;
}

/* Server bytes while the upgrade is pending. */
static int h1_to_client(struct vg_sensor_app_ctx *c, struct h2_state *s, const uint8_t *p, size_t n)
{
    struct h2_h1 *h = &s->h1;
    while (n > 0 && s->mode == M_H1) {
        size_t k = eoh_scan(&h->eoh[1], p, n);
        size_t take = VG_MIN(k, n);
        size_t room = sizeof(h->line) - h->line_len;
        memcpy(h->line + h->line_len, p, VG_MIN(room, take));
        h->line_len += (uint32_t)VG_MIN(room, take);
        int r = h1_pass(c, s, p, take);
        if (r != VG_SENSOR_APP_OK || k > n) {
            return r;
        }
        p += take;
        n -= take;
        int st = h1_status(h);
        h->line_len = 0;
        if (st == 101) {
            h->upgraded = true;
            s->mode = M_H2;
            mimic_request(c, s);
            return h2_feed(c, s, 1, p, n);
        }
        if (st < 100 || st >= 200) {
            s->mode = M_H1_ONLY; /* the server declined: plain HTTP/1 from here */
        }
    }
    return h1_pass(c, s, p, n);
}

/* ------------------------------------------------------------------ parser interface */

static bool preface_prefix(const uint8_t *p, size_t n)
{
    return memcmp(p, H2_PREFACE, VG_MIN(n, (size_t)H2_PREFACE_LEN)) == 0;
}

/* An HTTP/1 request head (in p[0..n)) asking for "Upgrade: h2c". */
static bool probe_h2c(const uint8_t *p, size_t n)
{
    static const char key[] = "\nupgrade:";
    size_t kl = sizeof(key) - 1;
    size_t i = 0;
    while (i < n && p[i] >= 'A' && p[i] <= 'Z') {
        i++;
    }
    if (i == 0 || i >= n || p[i] != ' ') {
        return false;
    }
    n = VG_MIN(n, (size_t)H2_PROBE_SCAN);
    for (; i + kl <= n; i++) {
        if (p[i] == '\n' && i + 2 < n && (p[i + 1] == '\n' || p[i + 1] == '\r')) {
            return false; /* end of the head */
        }
        if (!ci_eq(p + i, kl, key)) {
            continue;
        }
        for (size_t a = i + kl; a + 3 <= n && p[a] != '\r' && p[a] != '\n'; a++) {
            if (ci_eq(p + a, 3, "h2c")) {
                return true;
            }
        }
        return false;
    }
    return false;
}

/* A server's first SETTINGS frame header (Suricata's probe: length <= 16384, no flags but
 * ACK, stream 0); -1 while the bytes so far agree. */
static int probe_settings(const uint8_t *p, size_t n)
{
    static const uint8_t lo[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
    static const uint8_t hi[9] = {0, 0x40, 0xff, 4, 1, 0, 0, 0, 0};
    for (size_t i = 0; i < n && i < 9; i++) {
        if (p[i] < lo[i] || p[i] > hi[i]) {
            return 0;
        }
    }
    if (n < 9) {
        return -1;
    }
    return (p[1] == 0x40 && p[2] != 0) ? 0 : 1;
}

static int http2_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    if (n == 0) {
        return -1;
    }
    if (dir == VG_SENSOR_FLOW_TO_CLIENT) {
        return probe_settings(p, n);
    }
    if (preface_prefix(p, n)) {
        return n >= H2_PREFACE_LEN ? 1 : -1;
    }
    return probe_h2c(p, n) ? 1 : 0;
}

static void *http2_state_new(void)
{
    struct h2_state *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    for (int d = 0; d < 2; d++) {
        vg_sensor_hpack_init(&s->dir[d].hp);
        s->dir[d].phase = d == 0 ? PH_PREFACE : PH_HEAD;
    }
    return s;
}

static void http2_state_free(void *st)
{
    struct h2_state *s = st;
    if (!s) {
        return;
    }
    for (int d = 0; d < 2; d++) {
        vg_free(s->dir[d].buf);
        vg_free(s->dir[d].blk);
        vg_sensor_hpack_fini(&s->dir[d].hp);
    }
    for (uint32_t i = 0; i < s->ntx; i++) {
        tx_free(s->tx[i]);
    }
    for (uint32_t i = 0; i < s->nspare; i++) {
        tx_free(s->spare[i]);
    }
    if (s->h1.st) {
        vg_sensor_proto_http.state_free(s->h1.st);
    }
    vg_free(s->h1.head);
    vg_free(s->scratch);
    vg_free(s);
}

/* First bytes of the flow: prior knowledge (preface, or a server's SETTINGS) or h2c. */
static int mode_pick(struct h2_state *s, int d, const uint8_t *p, size_t n)
{
    if (d == VG_SENSOR_FLOW_TO_CLIENT || preface_prefix(p, VG_MIN(n, (size_t)4))) {
        s->mode = M_H2;
        return VG_SENSOR_APP_OK;
    }
    s->h1.st = vg_sensor_proto_http.state_new();
    if (!s->h1.st) {
        return VG_SENSOR_APP_ERROR;
    }
    s->mode = M_H1;
    return VG_SENSOR_APP_OK;
}

static int http2_data(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n)
{
    struct h2_state *s = st;
    int d = c->dir == VG_SENSOR_FLOW_TO_CLIENT ? 1 : 0;
    int r = VG_SENSOR_APP_OK;
    if (s->mode == M_UNKNOWN) {
        r = mode_pick(s, d, p, n);
    }
    if (r != VG_SENSOR_APP_OK) {
        return r;
    }
    switch (s->mode) {
    case M_H1:
        r = d ? h1_to_client(c, s, p, n) : h1_to_server(c, s, p, n);
        break;
    case M_H1_ONLY:
        return vg_sensor_proto_http.data(c, s->h1.st, p, n);
    default:
        r = (d == 0 && s->h1.st) ? h1_to_server(c, s, p, n) : h2_feed(c, s, d, p, n);
        break;
    }
    tx_flush_done(c, s);
    return r;
}

static void http2_gap(struct vg_sensor_app_ctx *c, void *st, size_t n)
{
    struct h2_state *s = st;
    s->stats.gaps++;
    if (s->mode == M_H1 || s->mode == M_H1_ONLY) {
        if (s->h1.st && vg_sensor_proto_http.gap) {
            vg_sensor_proto_http.gap(c, s->h1.st, n);
        }
        if (s->mode == M_H1) {
            s->mode = M_H1_ONLY; /* cannot tell where the upgrade would start */
        }
        return;
    }
    s->dir[c->dir == VG_SENSOR_FLOW_TO_CLIENT ? 1 : 0].phase = PH_LOST;
}

static void http2_end(struct vg_sensor_app_ctx *c, void *st)
{
    struct h2_state *s = st;
    if (s->h1.st && vg_sensor_proto_http.end) {
        vg_sensor_proto_http.end(c, s->h1.st);
    }
    while (s->ntx > 0) {
        tx_log(c, s, s->tx[0]);
        tx_remove(s, 0);
    }
}

void vg_sensor_http2_stats(const void *st, struct vg_sensor_http2_stats *out)
{
    const struct h2_state *s = st;
    *out = s->stats;
}

const struct vg_sensor_app_proto vg_sensor_proto_http2 = {
    .name = "http2",
    .ipproto = 6,
    .ports = {80, 8080, 8000, 8008, 3000, 8888, 0},
    .probe = http2_probe,
    .state_new = http2_state_new,
    .state_free = http2_state_free,
    .data = http2_data,
    .gap = http2_gap,
    .end = http2_end,
};
