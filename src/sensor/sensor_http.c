/*
 * sensor_http.c — HTTP/1.x parser of the sensor (issue 6).
 *
 * Reassembled TCP bytes of each direction -> request/response state machines -> one EVE
 * `http` record per transaction (request + its response), written when both sides are
 * complete or when the flow ends, in the layout of Suricata 8 (output-json-http.c with
 * extended logging): hostname, http_port, url, http_user_agent, http_content_type,
 * http_refer, http_method, protocol, status|status_string, redirect, length.
 *
 * Keep-alive and pipelining: up to HTTP_TX_MAX transactions wait for their responses in a
 * ring allocated with the flow state (no allocation per transaction). Bodies (Content-Length,
 * chunked, until close) are counted and skipped, never buffered. Header lines are read through
 * a bounded line reader (HTTP_LINE_CAP); each transaction keeps its logged strings in a fixed
 * arena (HTTP_ARENA), truncating what does not fit. CONNECT 2xx returns
 * VG_SENSOR_APP_UPGRADE_TLS (the bytes after the response head go to the engine's new
 * detection: TLS, or plain HTTP as new transactions); 101 Upgrade ends parsing.
 */
#include <stdlib.h>
#include <string.h>

#include "sensor/sensor_app.h"
#include "sensor/sensor_line.h"

#define HTTP_TX_MAX    4
#define HTTP_ARENA     2048
#define HTTP_LINE_CAP  4096
#define HTTP_USER_MAX  128
#define HTTP_HDR_CAP   8192 /* logged header bytes per transaction (cfg.http_headers) */
#define HTTP_HNAME_MAX 255  /* Suricata's MAX_SIZE_HEADER_NAME - 1 */
#define HTTP_HVAL_MAX  2047 /* Suricata's MAX_SIZE_HEADER_VALUE - 1 */
#define HTTP_HENT      5    /* entry header: direction, name length, value length */
#define HTTP_HDR_ENT   128  /* header entries per transaction (bounds the name lookups) */

enum http_field {
    HF_HOST,
    HF_URL,
    HF_UA,
    HF_CTYPE,
    HF_REFER,
    HF_METHOD,
    HF_PROTO,
    HF_STATUS_STR,
    HF_LOCATION,
    HF_N
};

struct http_tx {
    uint64_t id;
    uint64_t length; /* response body bytes (dechunked) */
    int status;      /* > 0 when the status code parsed */
    int port;        /* port from the URI or Host header, -1 when none */
    uint16_t off[HF_N], len[HF_N];
    uint16_t used;
    uint16_t hused; /* bytes of this transaction's header entries (cfg.http_headers) */
    uint16_t hlast; /* offset of the last entry (folding), UINT16_MAX none */
    uint8_t hcount; /* header entries */
    bool hfull;     /* no room for more entries: further headers are not kept */
    bool has_req, req_done, resp_done, cred, head, connect;
    char arena[HTTP_ARENA];
};

enum http_pstate {
    HS_LINE,       /* request or status line */
    HS_MAYBE09,    /* after a request line without protocol: HTTP/0.9 unless a header follows */
    HS_HEADERS,    /* header lines up to the empty line */
    HS_BODY,       /* remain bytes of Content-Length body */
    HS_CHUNK_SIZE, /* chunk-size line */
    HS_CHUNK_DATA, /* remain bytes of chunk data */
    HS_CHUNK_END,  /* the CRLF after chunk data */
    HS_TRAILER,    /* trailer lines after the last chunk */
    HS_CLOSE,      /* body until the connection closes */
    HS_TUNNEL,     /* opaque bytes (CONNECT, Upgrade) */
};

/* Per-direction parser state. */
struct http_dir {
    enum http_pstate ps;
    uint64_t remain;
    uint64_t cl;
    bool has_cl, chunked, expect_body;
    int last_hdr; /* field of the previous header line (folding), -1 none */
    struct vg_sensor_line line;
};

struct http_state {
    struct http_tx tx[HTTP_TX_MAX];
    uint32_t head, count; /* ring of transactions in flight */
    uint64_t next_id;
    struct http_dir dir[2]; /* [VG_SENSOR_FLOW_TO_SERVER], [.._TOCLIENT] */
    uint32_t anomalies;
    int hdr_mode; /* cfg.http_headers: 0 not yet read, 1 off, 2 on */
    uint8_t *hdr; /* HTTP_TX_MAX * HTTP_HDR_CAP header entries (allocated when on) */
    uint8_t lbuf[2][HTTP_LINE_CAP];
};

/* ------------------------------------------------------------------ small helpers */

static bool is_sp(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Trim spaces/tabs/CR at both ends of p[0..*n). */
static const uint8_t *trim(const uint8_t *p, size_t *n)
{
    size_t a = 0, b = *n;
    while (a < b && (is_sp(p[a]) || p[a] == '\r')) {
        a++;
    }
    while (b > a && (is_sp(p[b - 1]) || p[b - 1] == '\r')) {
        b--;
    }
    *n = b - a;
    return p + a;
}

/* Parse a decimal number; false when empty, not all digits or too large. */
static bool parse_u64(const uint8_t *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 18) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* Chunk size: leading hex digits (extensions after ';' ignored). */
static bool parse_chunk_size(const uint8_t *p, size_t n, uint64_t *out)
{
    p = trim(p, &n);
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n && i < 15; i++) {
        uint8_t c = p[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) {
            break;
        }
        v = v * 16 + (uint64_t)d;
    }
    if (i == 0 || (i < n && p[i] != ';' && !is_sp(p[i]))) {
        return false;
    }
    *out = v;
    return true;
}

/* ------------------------------------------------------------------ transactions */

/* Store v[0..n) as field f of tx (first value wins; truncated to the arena's room). */
static void tx_set(struct http_tx *tx, enum http_field f, const uint8_t *v, size_t n)
{
    if (tx->len[f] || tx->off[f]) {
        return;
    }
    size_t room = HTTP_ARENA - tx->used;
    if (n > room) {
        n = room;
    }
    memcpy(tx->arena + tx->used, v, n);
    tx->off[f] = tx->used;
    tx->len[f] = (uint16_t)n;
    tx->used = (uint16_t)(tx->used + n);
    if (n == 0) {
        tx->off[f] = UINT16_MAX; /* present but empty */
    }
}

static bool tx_has(const struct http_tx *tx, enum http_field f)
{
    return tx->len[f] || tx->off[f];
}

static void tx_kstr(struct vg_sbuf *b, const struct http_tx *tx, enum http_field f, const char *key)
{
    if (tx_has(tx, f)) {
        const char *v = tx->len[f] ? tx->arena + tx->off[f] : "";
        vg_sensor_json_kstr(b, key, v, tx->len[f]);
    }
}

/* ------------------------------------------------------------------ all headers */
/*
 * With cfg.http_headers each transaction keeps its header lines, in wire order, in its own
 * HTTP_HDR_CAP slice of st->hdr as entries [direction][name length:2][value length:2][name]
 * [value]. A repeated name is merged into the first entry ("a, b"), as libhtp does; names and
 * values are cut at Suricata's logging bounds. Past HTTP_HDR_ENT entries or the slice's room
 * the transaction keeps no more headers (anomaly), which bounds the work per header line.
 */

static uint8_t *tx_hbuf(struct http_state *st, const struct http_tx *tx)
{
    return st->hdr + (size_t)(tx - st->tx) * HTTP_HDR_CAP;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static void wr16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

/* Case-insensitive equality of two header names. */
static bool name_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    if (an != bn) {
        return false;
    }
    for (size_t i = 0; i < an; i++) {
        uint8_t x = a[i], y = b[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

/* Append sep then v[0..vn) to the value of the entry at off (bounded by HTTP_HVAL_MAX and the
 * slice; later entries move up). */
static void hdr_extend(struct http_state *st, struct http_tx *tx, size_t off, const char *sep,
                       const uint8_t *v, size_t vn)
{
    uint8_t *b = tx_hbuf(st, tx), *e = b + off;
    size_t nl = rd16(e + 1), ol = rd16(e + 3), sn = strlen(sep);
    size_t add = sn + vn;
    if (ol + add > HTTP_HVAL_MAX) {
        add = HTTP_HVAL_MAX - ol;
    }
    if (add == 0) {
        return;
    }
    if (tx->hused + add > HTTP_HDR_CAP) {
        st->anomalies++;
        add = HTTP_HDR_CAP - tx->hused;
        if (add == 0) {
            return;
        }
    }
    size_t end = off + HTTP_HENT + nl + ol;
    memmove(b + end + add, b + end, tx->hused - end);
    size_t k = add < sn ? add : sn;
    memcpy(b + end, sep, k);
    memcpy(b + end + k, v, add - k);
    wr16(e + 3, ol + add);
    tx->hused = (uint16_t)(tx->hused + add);
}

/* Keep header name: value of direction dir for the record of tx. */
static void hdr_add(struct http_state *st, struct http_tx *tx, enum vg_sensor_flow_dir dir,
                    const uint8_t *name, size_t nl, const uint8_t *v, size_t vn)
{
    uint8_t *b = tx_hbuf(st, tx);
    if (tx->hfull) {
        return;
    }
    nl = nl > HTTP_HNAME_MAX ? HTTP_HNAME_MAX : nl;
    vn = vn > HTTP_HVAL_MAX ? HTTP_HVAL_MAX : vn;
    for (size_t o = 0; o < tx->hused;) {
        size_t enl = rd16(b + o + 1), evl = rd16(b + o + 3);
        if (b[o] == (uint8_t)dir && name_eq(b + o + HTTP_HENT, enl, name, nl)) {
            tx->hlast = (uint16_t)o;
            hdr_extend(st, tx, o, ", ", v, vn);
            return;
        }
        o += HTTP_HENT + enl + evl;
    }
    if (tx->hcount == HTTP_HDR_ENT || tx->hused + HTTP_HENT + nl + vn > HTTP_HDR_CAP) {
        st->anomalies++;
        tx->hlast = UINT16_MAX;
        tx->hfull = true;
        return;
    }
    uint8_t *e = b + tx->hused;
    e[0] = (uint8_t)dir;
    wr16(e + 1, nl);
    wr16(e + 3, vn);
    memcpy(e + HTTP_HENT, name, nl);
    memcpy(e + HTTP_HENT + nl, v, vn);
    tx->hlast = tx->hused;
    tx->hused = (uint16_t)(tx->hused + HTTP_HENT + nl + vn);
    tx->hcount++;
}

/* ,"key":[{"name":…,"value":…},…] for the entries of direction dir (nothing when none). */
static void hdr_log(struct vg_sbuf *s, struct http_state *st, const struct http_tx *tx,
                    enum vg_sensor_flow_dir dir, const char *key)
{
    const uint8_t *b = tx_hbuf(st, tx);
    bool first = true;
    for (size_t o = 0; o < tx->hused;) {
        size_t nl = rd16(b + o + 1), vl = rd16(b + o + 3);
        if (b[o] == (uint8_t)dir) {
            vg_sbuf_adds(s, first ? ",\"" : ",");
            if (first) {
                vg_sbuf_adds(s, key);
                vg_sbuf_adds(s, "\":[");
                first = false;
            }
            vg_sbuf_adds(s, "{\"name\":");
            vg_sbuf_add_json_str(s, (const char *)b + o + HTTP_HENT, nl);
            vg_sbuf_adds(s, ",\"value\":");
            vg_sbuf_add_json_str(s, (const char *)b + o + HTTP_HENT + nl, vl);
            vg_sbuf_addc(s, '}');
        }
        o += HTTP_HENT + nl + vl;
    }
    if (!first) {
        vg_sbuf_addc(s, ']');
    }
}

/* Write the EVE record of tx. */
static void tx_log(struct vg_sensor_app_ctx *c, struct http_state *st, const struct http_tx *tx)
{
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "http", VG_SENSOR_REC_FLOW, (int64_t)tx->id);
    vg_sbuf_adds(b, ",\"http\":{");
    tx_kstr(b, tx, HF_HOST, "hostname");
    if (tx->port >= 0) {
        vg_sensor_json_kint(b, "http_port", tx->port);
    }
    tx_kstr(b, tx, HF_URL, "url");
    tx_kstr(b, tx, HF_UA, "http_user_agent");
    tx_kstr(b, tx, HF_CTYPE, "http_content_type");
    tx_kstr(b, tx, HF_REFER, "http_refer");
    tx_kstr(b, tx, HF_METHOD, "http_method");
    tx_kstr(b, tx, HF_PROTO, "protocol");
    if (tx->status > 0) {
        vg_sensor_json_kint(b, "status", tx->status);
    } else {
        tx_kstr(b, tx, HF_STATUS_STR, "status_string");
    }
    tx_kstr(b, tx, HF_LOCATION, "redirect");
    vg_sensor_json_kint(b, "length", (int64_t)tx->length);
    if (st->hdr_mode == 2) {
        hdr_log(b, st, tx, VG_SENSOR_FLOW_TO_SERVER, "request_headers");
        hdr_log(b, st, tx, VG_SENSOR_FLOW_TO_CLIENT, "response_headers");
    }
    vg_sbuf_addc(b, '}');
    vg_sensor_rec_end(c);
}

static struct http_tx *ring_at(struct http_state *st, uint32_t i)
{
    return &st->tx[(st->head + i) % HTTP_TX_MAX];
}

/* Log and drop the oldest transaction. */
static void ring_pop_log(struct vg_sensor_app_ctx *c, struct http_state *st)
{
    tx_log(c, st, ring_at(st, 0));
    st->head = (st->head + 1) % HTTP_TX_MAX;
    st->count--;
}

/* Log the finished transactions at the head, in order. */
static void ring_flush_done(struct vg_sensor_app_ctx *c, struct http_state *st)
{
    while (st->count && ring_at(st, 0)->req_done && ring_at(st, 0)->resp_done) {
        ring_pop_log(c, st);
    }
}

/* A fresh transaction at the tail (the oldest is logged early when the ring is full). */
static struct http_tx *ring_push(struct vg_sensor_app_ctx *c, struct http_state *st)
{
    if (st->count == HTTP_TX_MAX) {
        st->anomalies++;
        ring_pop_log(c, st);
    }
    struct http_tx *tx = ring_at(st, st->count++);
    memset(tx, 0, offsetof(struct http_tx, arena));
    tx->id = st->next_id++;
    tx->port = -1;
    tx->hlast = UINT16_MAX;
    return tx;
}

/* The transaction the request side is filling (newest), or NULL. */
static struct http_tx *req_tx(struct http_state *st)
{
    if (!st->count) {
        return NULL;
    }
    struct http_tx *tx = ring_at(st, st->count - 1);
    return tx->req_done ? NULL : tx;
}

/* The transaction awaiting a response (oldest without one); creates one for an orphan. */
static struct http_tx *resp_tx(struct vg_sensor_app_ctx *c, struct http_state *st)
{
    for (uint32_t i = 0; i < st->count; i++) {
        struct http_tx *tx = ring_at(st, i);
        if (!tx->resp_done) {
            return tx;
        }
    }
    struct http_tx *tx = ring_push(c, st);
    tx->req_done = true;
    return tx;
}

/* ------------------------------------------------------------------ request side */

/* Host (from the Host header or an absolute URI): lowercased, port split off. */
static void set_host(struct http_tx *tx, const uint8_t *h, size_t n)
{
    h = trim(h, &n);
    size_t hl = n;
    const uint8_t *colon = NULL;
    if (n && h[0] == '[') {
        const uint8_t *rb = memchr(h, ']', n);
        if (rb) {
            hl = (size_t)(rb - h) + 1;
            colon = (hl < n && h[hl] == ':') ? h + hl : NULL;
        }
    } else {
        colon = memchr(h, ':', n);
        if (colon) {
            hl = (size_t)(colon - h);
        }
    }
    uint8_t low[256];
    if (hl > sizeof(low)) {
        hl = sizeof(low);
    }
    for (size_t i = 0; i < hl; i++) {
        uint8_t ch = h[i];
        low[i] = (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch;
    }
    while (hl && low[hl - 1] == '.') {
        hl--;
    }
    tx_set(tx, HF_HOST, low, hl);
    uint64_t port;
    if (colon && tx->port < 0) {
        size_t pl = n - (size_t)(colon + 1 - h);
        if (parse_u64(colon + 1, pl, &port) && port > 0 && port < 65536) {
            tx->port = (int)port;
        }
    }
}

/* Hostname from an absolute URI (http://host[:port]/...) or a CONNECT authority. */
static void uri_host(struct http_tx *tx, const uint8_t *u, size_t n)
{
    const uint8_t *s = NULL;
    if (vg_sensor_line_iprefix(u, n, "http://")) {
        s = u + 7;
    } else if (vg_sensor_line_iprefix(u, n, "https://")) {
        s = u + 8;
    } else if (tx->connect) {
        s = u;
    }
    if (!s) {
        return;
    }
    size_t rest = n - (size_t)(s - u), k = 0;
    while (k < rest && s[k] != '/' && s[k] != '?' && s[k] != '#') {
        k++;
    }
    const uint8_t *at = memchr(s, '@', k);
    if (at) {
        k -= (size_t)(at + 1 - s);
        s = at + 1;
    }
    if (k) {
        set_host(tx, s, k);
    }
}

/* Request line "METHOD URI [PROTOCOL]". */
static void req_line(struct vg_sensor_app_ctx *c, struct http_state *st, const uint8_t *l, size_t n)
{
    struct http_dir *d = &st->dir[VG_SENSOR_FLOW_TO_SERVER];
    struct http_tx *tx = ring_push(c, st);
    tx->has_req = true;
    size_t i = 0;
    while (i < n && !is_sp(l[i])) {
        i++;
    }
    tx_set(tx, HF_METHOD, l, i);
    tx->head = i == 4 && memcmp(l, "HEAD", 4) == 0;
    tx->connect = i == 7 && memcmp(l, "CONNECT", 7) == 0;
    while (i < n && is_sp(l[i])) {
        i++;
    }
    /* The protocol is the last space-separated word when it starts with "HTTP/". */
    size_t end = n;
    while (end > i && is_sp(l[end - 1])) {
        end--;
    }
    size_t ps = end;
    while (ps > i && !is_sp(l[ps - 1])) {
        ps--;
    }
    size_t ue = end;
    if (ps > i && vg_sensor_line_iprefix(l + ps, end - ps, "http/")) {
        tx_set(tx, HF_PROTO, l + ps, end - ps);
        ue = ps;
        while (ue > i && is_sp(l[ue - 1])) {
            ue--;
        }
    }
    if (ue > i) {
        tx_set(tx, HF_URL, l + i, ue - i);
        uri_host(tx, l + i, ue - i);
    }
    d->ps = tx_has(tx, HF_PROTO) ? HS_HEADERS : HS_MAYBE09;
    d->has_cl = d->chunked = false;
    d->last_hdr = -1;
}

/* Authorization: Basic <b64> -> the user part, for the credential detection. */
static void req_basic_auth(struct vg_sensor_app_ctx *c, struct http_tx *tx, const uint8_t *v,
                           size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    v = trim(v, &n);
    if (!vg_sensor_line_iprefix(v, n, "basic ")) {
        return;
    }
    v += 6;
    n -= 6;
    v = trim(v, &n);
    char out[HTTP_USER_MAX];
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && o < sizeof(out); i++) {
        const char *q = v[i] ? strchr(tbl, v[i]) : NULL;
        if (!q) {
            break; /* '=' padding or garbage ends the value */
        }
        acc = (acc << 6) | (uint32_t)(q - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    const char *colon = memchr(out, ':', o);
    if (!colon) {
        return;
    }
    tx->cred = true;
    vg_sensor_note_cred(c, "http", out, (size_t)(colon - out));
}

/* Is name[0..nl) equal to lit (lowercase) ignoring case? */
static bool hname_is(const uint8_t *name, size_t nl, const char *lit)
{
    return strlen(lit) == nl && vg_sensor_line_iprefix(name, nl, lit);
}

/* Content-Length / Transfer-Encoding, common to both directions. */
static void hdr_framing(struct http_dir *d, const uint8_t *name, size_t nl, const uint8_t *v,
                        size_t vn)
{
    if (hname_is(name, nl, "content-length")) {
        uint64_t cl;
        if (parse_u64(v, vn, &cl)) {
            d->cl = cl;
            d->has_cl = true;
        }
    } else if (hname_is(name, nl, "transfer-encoding")) {
        for (size_t i = 0; i + 7 <= vn; i++) {
            if (vg_sensor_line_iprefix(v + i, vn - i, "chunked")) {
                d->chunked = true;
            }
        }
    }
}

/* One request header. */
static void req_header(struct vg_sensor_app_ctx *c, struct http_tx *tx, struct http_dir *d,
                       const uint8_t *name, size_t nl, const uint8_t *v, size_t vn)
{
    d->last_hdr = -1;
    if (hname_is(name, nl, "host")) {
        if (!tx_has(tx, HF_HOST)) {
            set_host(tx, v, vn);
        }
    } else if (hname_is(name, nl, "user-agent")) {
        tx_set(tx, HF_UA, v, vn);
        d->last_hdr = HF_UA;
    } else if (hname_is(name, nl, "referer")) {
        tx_set(tx, HF_REFER, v, vn);
        d->last_hdr = HF_REFER;
    } else if (hname_is(name, nl, "authorization")) {
        req_basic_auth(c, tx, v, vn);
    } else {
        hdr_framing(d, name, nl, v, vn);
    }
}

/* One response header. */
static void resp_header(struct http_tx *tx, struct http_dir *d, const uint8_t *name, size_t nl,
                        const uint8_t *v, size_t vn)
{
    d->last_hdr = -1;
    if (hname_is(name, nl, "content-type")) {
        const uint8_t *semi = memchr(v, ';', vn);
        tx_set(tx, HF_CTYPE, v, semi ? (size_t)(semi - v) : vn);
    } else if (hname_is(name, nl, "location")) {
        tx_set(tx, HF_LOCATION, v, vn);
        d->last_hdr = HF_LOCATION;
    } else {
        hdr_framing(d, name, nl, v, vn);
    }
}

/* Split "Name: value" and dispatch; folded lines extend nothing we log beyond the first. */
static void header_line(struct vg_sensor_app_ctx *c, struct http_state *st,
                        enum vg_sensor_flow_dir dir, struct http_tx *tx, const uint8_t *l, size_t n)
{
    struct http_dir *d = &st->dir[dir];
    if (is_sp(l[0])) {
        /* obsolete line folding: the first line's value is what the fields keep; the logged
         * header gets the continuation (as libhtp joins it) */
        if (st->hdr_mode == 2 && tx->hlast != UINT16_MAX && tx_hbuf(st, tx)[tx->hlast] == dir) {
            size_t cn = n;
            while (cn && (is_sp(l[cn - 1]) || l[cn - 1] == '\r')) {
                cn--;
            }
            hdr_extend(st, tx, tx->hlast, "", l, cn);
        }
        return;
    }
    const uint8_t *colon = memchr(l, ':', n);
    if (!colon) {
        st->anomalies++;
        if (st->hdr_mode == 2) {
            size_t vn = n;
            const uint8_t *v = trim(l, &vn);
            hdr_add(st, tx, dir, l, 0, v, vn); /* libhtp: empty name, the line as value */
        }
        return;
    }
    size_t nl = (size_t)(colon - l);
    while (nl && is_sp(l[nl - 1])) {
        nl--;
    }
    size_t vn = n - (size_t)(colon + 1 - l);
    const uint8_t *v = trim(colon + 1, &vn);
    if (st->hdr_mode == 2) {
        hdr_add(st, tx, dir, l, nl, v, vn);
    }
    if (dir == VG_SENSOR_FLOW_TO_SERVER) {
        req_header(c, tx, d, l, nl, v, vn);
    } else {
        resp_header(tx, d, l, nl, v, vn);
    }
}

/* ------------------------------------------------------------------ bodies */

/* A message (request or response) finished in direction dir. */
static void msg_done(struct vg_sensor_app_ctx *c, struct http_state *st,
                     enum vg_sensor_flow_dir dir, struct http_tx *tx)
{
    st->dir[dir].ps = HS_LINE;
    if (tx) {
        if (dir == VG_SENSOR_FLOW_TO_SERVER) {
            tx->req_done = true;
        } else {
            tx->resp_done = true;
        }
    }
    ring_flush_done(c, st);
}

/* Choose the body framing after the headers of a message. */
static void body_start(struct vg_sensor_app_ctx *c, struct http_state *st,
                       enum vg_sensor_flow_dir dir, struct http_tx *tx, bool may_close)
{
    struct http_dir *d = &st->dir[dir];
    if (d->chunked) {
        d->ps = HS_CHUNK_SIZE;
    } else if (d->has_cl && d->cl > 0) {
        d->ps = HS_BODY;
        d->remain = d->cl;
    } else if (!d->has_cl && may_close) {
        d->ps = HS_CLOSE;
    } else {
        msg_done(c, st, dir, tx);
    }
}

/* Count n body bytes for the response of tx. */
static void body_bytes(enum vg_sensor_flow_dir dir, struct http_tx *tx, size_t n)
{
    if (dir == VG_SENSOR_FLOW_TO_CLIENT && tx) {
        tx->length += n;
    }
}

/* ------------------------------------------------------------------ response side */

/* Status line "HTTP/x.y NNN reason"; false when it is not one. */
static bool resp_status_line(struct http_tx *tx, const uint8_t *l, size_t n)
{
    if (!vg_sensor_line_iprefix(l, n, "http/")) {
        return false;
    }
    size_t i = 5;
    while (i < n && !is_sp(l[i])) {
        i++;
    }
    while (i < n && is_sp(l[i])) {
        i++;
    }
    size_t s = i;
    while (i < n && !is_sp(l[i])) {
        i++;
    }
    uint64_t code;
    tx->status = 0;
    if (i - s == 3 && parse_u64(l + s, 3, &code) && code >= 100) {
        tx->status = (int)code;
    } else {
        tx->off[HF_STATUS_STR] = tx->len[HF_STATUS_STR] = 0;
        tx_set(tx, HF_STATUS_STR, l + s, i - s);
    }
    return true;
}

/* End of the response headers: 1xx interim, tunnels, and the body framing. */
static int resp_headers_end(struct vg_sensor_app_ctx *c, struct http_state *st, struct http_tx *tx)
{
    struct http_dir *d = &st->dir[VG_SENSOR_FLOW_TO_CLIENT];
    int s = tx->status;
    if (s >= 100 && s < 200 && s != 101) {
        d->ps = HS_LINE; /* interim (100 Continue): the final response follows */
        return VG_SENSOR_APP_OK;
    }
    if (tx->cred) {
        vg_sensor_note_auth(c, "http", s > 0 && s < 400);
    }
    if (s == 101 || (tx->connect && s >= 200 && s < 300)) {
        msg_done(c, st, VG_SENSOR_FLOW_TO_CLIENT, tx);
        tx->req_done = true;
        ring_flush_done(c, st);
        st->dir[0].ps = st->dir[1].ps = HS_TUNNEL;
        return tx->connect ? VG_SENSOR_APP_UPGRADE_TLS : VG_SENSOR_APP_DONE;
    }
    if (tx->head || s == 204 || s == 304) {
        msg_done(c, st, VG_SENSOR_FLOW_TO_CLIENT, tx);
        return VG_SENSOR_APP_OK;
    }
    body_start(c, st, VG_SENSOR_FLOW_TO_CLIENT, tx, true);
    return VG_SENSOR_APP_OK;
}

/* Does l[0..n) end with an "HTTP/" protocol word (a request line, not a header)? */
static bool ends_with_proto(const uint8_t *l, size_t n)
{
    size_t ps = n;
    while (ps && !is_sp(l[ps - 1])) {
        ps--;
    }
    return ps && vg_sensor_line_iprefix(l + ps, n - ps, "http/");
}

/*
 * A line after a request line without protocol. libhtp calls the request HTTP/0.9 only when
 * nothing but whitespace follows it; anything else means the protocol is missing and header
 * lines follow (REQUEST_LINE_MISSING_PROTOCOL). Deciding on the next line (not on what the
 * segment happens to hold) keeps the result independent of segmentation. A new request line
 * ends the HTTP/0.9 request instead. Returns true when l is to be parsed as a header.
 */
static bool req_maybe09(struct vg_sensor_app_ctx *c, struct http_state *st, struct http_tx *tx,
                        const uint8_t *l, size_t n)
{
    struct http_dir *d = &st->dir[VG_SENSOR_FLOW_TO_SERVER];
    size_t tn = n;
    (void)trim(l, &tn);
    if (tn == 0) {
        return false;
    }
    if (!memchr(l, ':', n) && ends_with_proto(l, n)) {
        msg_done(c, st, VG_SENSOR_FLOW_TO_SERVER, tx);
        req_line(c, st, l, n);
        return false;
    }
    st->anomalies++; /* request line: missing protocol */
    d->ps = HS_HEADERS;
    return true;
}

/* ------------------------------------------------------------------ line dispatch */

/* A complete line l[0..n) (CR stripped) in direction dir. */
static int on_line(struct vg_sensor_app_ctx *c, struct http_state *st, enum vg_sensor_flow_dir dir,
                   const uint8_t *l, size_t n)
{
    struct http_dir *d = &st->dir[dir];
    bool req = dir == VG_SENSOR_FLOW_TO_SERVER;
    struct http_tx *tx = req ? req_tx(st) : NULL;
    uint64_t v;
    switch (d->ps) {
    case HS_LINE:
        if (n == 0) {
            return VG_SENSOR_APP_OK; /* stray CRLF between messages */
        }
        if (req) {
            req_line(c, st, l, n);
            ring_flush_done(c, st);
            return VG_SENSOR_APP_OK;
        }
        tx = resp_tx(c, st);
        if (!resp_status_line(tx, l, n)) {
            /* not a status line: an HTTP/0.9 style body until close */
            tx->length += n + 1;
            d->ps = HS_CLOSE;
            return VG_SENSOR_APP_OK;
        }
        d->ps = HS_HEADERS;
        d->has_cl = d->chunked = false;
        d->last_hdr = -1;
        return VG_SENSOR_APP_OK;
    case HS_MAYBE09:
        if (!req || !tx || !req_maybe09(c, st, tx, l, n)) {
            return VG_SENSOR_APP_OK;
        }
        header_line(c, st, dir, tx, l, n);
        return VG_SENSOR_APP_OK;
    case HS_HEADERS:
        if (!req) {
            tx = resp_tx(c, st);
        }
        if (n > 0) {
            if (tx) {
                header_line(c, st, dir, tx, l, n);
            }
            return VG_SENSOR_APP_OK;
        }
        if (!req) {
            return resp_headers_end(c, st, tx);
        }
        body_start(c, st, dir, tx, false);
        return VG_SENSOR_APP_OK;
    case HS_CHUNK_SIZE:
        if (!parse_chunk_size(l, n, &v)) {
            st->anomalies++;
            d->ps = HS_CLOSE;
        } else if (v == 0) {
            d->ps = HS_TRAILER;
        } else {
            d->ps = HS_CHUNK_DATA;
            d->remain = v;
        }
        return VG_SENSOR_APP_OK;
    case HS_CHUNK_END:
        d->ps = HS_CHUNK_SIZE;
        return VG_SENSOR_APP_OK;
    case HS_TRAILER:
        if (n == 0) {
            msg_done(c, st, dir, req ? tx : resp_tx(c, st));
        }
        return VG_SENSOR_APP_OK;
    default:
        return VG_SENSOR_APP_OK;
    }
}

/* Skip body bytes of a counted body; returns the bytes consumed. */
static size_t on_counted(struct vg_sensor_app_ctx *c, struct http_state *st,
                         enum vg_sensor_flow_dir dir, size_t n)
{
    struct http_dir *d = &st->dir[dir];
    bool req = dir == VG_SENSOR_FLOW_TO_SERVER;
    struct http_tx *tx = req ? req_tx(st) : resp_tx(c, st);
    size_t k = d->remain < n ? (size_t)d->remain : n;
    d->remain -= k;
    body_bytes(dir, tx, k);
    if (d->remain == 0) {
        if (d->ps == HS_CHUNK_DATA) {
            d->ps = HS_CHUNK_END;
        } else {
            msg_done(c, st, dir, tx);
        }
    }
    return k;
}

/* Read cfg.http_headers once per flow; the header slices are allocated only when it is on. */
static void hdr_mode_init(struct vg_sensor_app_ctx *c, struct http_state *st)
{
    const struct vg_sensor_engine_config *cfg = vg_sensor_engine_config_of(c->eng);
    st->hdr_mode = 1;
    if (cfg && cfg->http_headers) {
        st->hdr = vg_malloc((size_t)HTTP_TX_MAX * HTTP_HDR_CAP);
        st->hdr_mode = st->hdr ? 2 : 1;
    }
}

static int http_data(struct vg_sensor_app_ctx *c, void *vst, const uint8_t *p, size_t n)
{
    struct http_state *st = vst;
    enum vg_sensor_flow_dir dir =
        c->dir == VG_SENSOR_FLOW_TO_SERVER ? VG_SENSOR_FLOW_TO_SERVER : VG_SENSOR_FLOW_TO_CLIENT;
    struct http_dir *d = &st->dir[dir];
    size_t total = n;
    if (!st->hdr_mode) {
        hdr_mode_init(c, st);
    }
    while (n > 0) {
        size_t used;
        if (d->ps == HS_TUNNEL) {
            return VG_SENSOR_APP_DONE;
        }
        if (d->ps == HS_CLOSE) {
            body_bytes(dir, dir == VG_SENSOR_FLOW_TO_SERVER ? NULL : resp_tx(c, st), n);
            return VG_SENSOR_APP_OK;
        }
        if (d->ps == HS_BODY || d->ps == HS_CHUNK_DATA) {
            used = on_counted(c, st, dir, n);
        } else {
            const uint8_t *l;
            size_t len;
            bool trunc;
            if (!vg_sensor_line_next(&d->line, p, n, &used, &l, &len, &trunc)) {
                return VG_SENSOR_APP_OK;
            }
            if (trunc) {
                st->anomalies++;
            }
            int rc = on_line(c, st, dir, l, vg_sensor_line_chomp(l, len));
            if (rc == VG_SENSOR_APP_UPGRADE_TLS) {
                vg_sensor_app_upgrade_at(c, total - n + used); /* the rest: the tunnel's */
            }
            if (rc != VG_SENSOR_APP_OK) {
                return rc;
            }
        }
        p += used;
        n -= used;
    }
    return VG_SENSOR_APP_OK;
}

/* The transaction a message of direction dir belongs to (NULL: none yet). */
static struct http_tx *dir_tx(struct vg_sensor_app_ctx *c, struct http_state *st,
                              enum vg_sensor_flow_dir dir)
{
    return dir == VG_SENSOR_FLOW_TO_SERVER ? req_tx(st) : resp_tx(c, st);
}

/*
 * n bytes of c->dir were lost. Inside a counted body the hole is body (counted in length, as
 * Suricata does); what is left of it past the body's end, or a hole in a message head or in
 * chunk framing, loses the framing: the message ends with what it has and parsing resumes at
 * the next line (the next request or status line).
 */
static void http_gap(struct vg_sensor_app_ctx *c, void *vst, size_t n)
{
    struct http_state *st = vst;
    enum vg_sensor_flow_dir dir =
        c->dir == VG_SENSOR_FLOW_TO_SERVER ? VG_SENSOR_FLOW_TO_SERVER : VG_SENSOR_FLOW_TO_CLIENT;
    struct http_dir *d = &st->dir[dir];
    st->anomalies++;
    if (d->ps == HS_TUNNEL) {
        return;
    }
    if (d->ps == HS_CLOSE) {
        body_bytes(dir, dir == VG_SENSOR_FLOW_TO_SERVER ? NULL : resp_tx(c, st), n);
        return;
    }
    if (d->ps == HS_BODY || d->ps == HS_CHUNK_DATA) {
        size_t k = d->remain < n ? (size_t)d->remain : n;
        n -= on_counted(c, st, dir, k);
        if (n == 0) {
            return;
        }
    }
    if (d->ps != HS_LINE) {
        msg_done(c, st, dir, dir_tx(c, st, dir));
    }
    vg_sensor_line_reset(&d->line);
    d->ps = HS_LINE;
}

static void http_end(struct vg_sensor_app_ctx *c, void *vst)
{
    struct http_state *st = vst;
    /* a last line without its LF (request line cut by the close) still counts */
    for (int d = 0; d < 2; d++) {
        struct vg_sensor_line *l = &st->dir[d].line;
        if (l->len && !l->ready && st->dir[d].ps != HS_TUNNEL) {
            (void)on_line(c, st, (enum vg_sensor_flow_dir)d, l->buf,
                          vg_sensor_line_chomp(l->buf, l->len));
            vg_sensor_line_reset(l);
        }
    }
    while (st->count) {
        struct http_tx *tx = ring_at(st, 0);
        if (!tx->has_req && !tx->status && !tx_has(tx, HF_STATUS_STR) && !tx->length) {
            st->head = (st->head + 1) % HTTP_TX_MAX;
            st->count--;
            continue;
        }
        ring_pop_log(c, st);
    }
}

static void *http_state_new(void)
{
    struct http_state *st = vg_malloc(sizeof(*st));
    if (!st) {
        return NULL;
    }
    /* tx[] is left as is: ring_push clears an entry when it enters the ring, and only entries
     * inside the ring are read (8 KiB of arenas not cleared per flow) */
    memset(&st->head, 0, offsetof(struct http_state, lbuf) - offsetof(struct http_state, head));
    for (int i = 0; i < 2; i++) {
        vg_sensor_line_init(&st->dir[i].line, st->lbuf[i], HTTP_LINE_CAP);
        st->dir[i].last_hdr = -1;
    }
    return st;
}

static void http_state_free(void *vst)
{
    struct http_state *st = vst;
    if (st) {
        vg_free(st->hdr);
    }
    vg_free(st);
}

/* A method token followed by a space (request), or "HTTP/" (response). */
static int http_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    static const char *const methods[] = {"GET ",       "POST ",    "HEAD ",  "PUT ",   "DELETE ",
                                          "OPTIONS ",   "CONNECT ", "PATCH ", "TRACE ", "PROPFIND ",
                                          "MKCOL ",     "COPY ",    "MOVE ",  "LOCK ",  "UNLOCK ",
                                          "PROPPATCH ", "SEARCH ",  "REPORT "};
    if (dir == VG_SENSOR_FLOW_TO_CLIENT) {
        if (n < 5) {
            return memcmp(p, "HTTP/", n) == 0 ? -1 : 0;
        }
        return memcmp(p, "HTTP/", 5) == 0 ? 1 : 0;
    }
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        size_t m = strlen(methods[i]);
        size_t k = n < m ? n : m;
        if (memcmp(p, methods[i], k) == 0) {
            return k == m ? 1 : -1;
        }
    }
    return 0;
}

const struct vg_sensor_app_proto vg_sensor_proto_http = {
    .name = "http",
    .ipproto = 6,
    .ports = {80, 8080, 8000, 8008, 3128, 0},
    .probe = http_probe,
    .state_new = http_state_new,
    .state_free = http_state_free,
    .data = http_data,
    .gap = http_gap,
    .end = http_end,
};
