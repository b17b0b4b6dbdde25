/*
 * agent_wire.c — the agent <-> server frame codec (see agent_wire.h for the format): frame
 * encoders (with zstd), the incremental decoder the server runs over untrusted agent bytes
 * (bounded header, CRC, bounded decompression), the EVENTS/ACK payload helpers and the
 * HELLO / COMMAND / COMMAND_RESULT JSON builders. Signing lives in agent_sign.c.
 */
#include "agent/agent_wire.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#define WIRE_ZSTD_WINDOW_LOG_MAX 24 /* bounds the decoder's window memory to 16 MiB */

struct vg_agent_wire_decoder {
    struct vg_agent_wire_limits lim;
    uint8_t *buf; /* received bytes [pos, len) not yet returned */
    size_t len, cap, pos;
    uint8_t *out; /* decompressed payload of the last frame */
    size_t outcap;
    ZSTD_DCtx *dctx;
    bool failed;
};

static const char *const frame_names[] = {
    NULL, "HELLO", "EVENTS", "ACK", "HEARTBEAT", "CONFIG", "COMMAND", "COMMAND_RESULT", "ERROR",
};

const char *vg_agent_frame_type_name(int type)
{
    if (type <= 0 || (size_t)type >= VG_ARRAY_LEN(frame_names)) {
        return "?";
    }
    return frame_names[type];
}

static bool frame_type_known(int type)
{
    return type >= VG_AGENT_FRAME_HELLO && type <= VG_AGENT_FRAME_ERROR;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

/* ------------------------------------------------------------------ encoding */

static void header_write(uint8_t *h, int type, unsigned flags, const uint8_t *payload, size_t len)
{
    memcpy(h, VG_AGENT_WIRE_MAGIC, 4);
    h[4] = (uint8_t)type;
    h[5] = (uint8_t)flags;
    h[6] = h[7] = 0;
    put_le32(h + 8, (uint32_t)len);
    put_le32(h + 12, vg_crc32(0, payload, len));
}

/* Compress payload into out after a header; false if it did not shrink (or failed). */
static bool encode_zstd(struct vg_sbuf *out, int type, int level, const void *payload, size_t len)
{
    size_t bound = ZSTD_compressBound(len);
    if (vg_sbuf_reserve(out, VG_AGENT_WIRE_HEADER_SIZE + bound) != VG_OK) {
        return false;
    }
    uint8_t *h = (uint8_t *)out->p + out->len;
    size_t z = ZSTD_compress(h + VG_AGENT_WIRE_HEADER_SIZE, bound, payload, len, level ? level : 3);
    if (ZSTD_isError(z) || z >= len || z > VG_AGENT_WIRE_MAX_FRAME) {
        return false;
    }
    header_write(h, type, VG_AGENT_WIRE_ZSTD, h + VG_AGENT_WIRE_HEADER_SIZE, z);
    out->len += VG_AGENT_WIRE_HEADER_SIZE + z;
    out->p[out->len] = '\0';
    return true;
}

int vg_agent_wire_encode(struct vg_sbuf *out, int type, unsigned flags, int level,
                         const void *payload, size_t len)
{
    if (!frame_type_known(type) || (flags & ~VG_AGENT_WIRE_ZSTD) || (len && !payload)) {
        return VG_EINVAL;
    }
    if (len > VG_AGENT_WIRE_MAX_PAYLOAD) {
        return VG_ELIMIT;
    }
    if ((flags & VG_AGENT_WIRE_ZSTD) && len > 0 && encode_zstd(out, type, level, payload, len)) {
        return VG_OK;
    }
    if (len > VG_AGENT_WIRE_MAX_FRAME) {
        return VG_ELIMIT;
    }
    if (vg_sbuf_reserve(out, VG_AGENT_WIRE_HEADER_SIZE + len) != VG_OK) {
        return VG_ENOMEM;
    }
    uint8_t *h = (uint8_t *)out->p + out->len;
    header_write(h, type, 0, payload, len);
    if (len) {
        memcpy(h + VG_AGENT_WIRE_HEADER_SIZE, payload, len);
    }
    out->len += VG_AGENT_WIRE_HEADER_SIZE + len;
    out->p[out->len] = '\0';
    return VG_OK;
}

int vg_agent_wire_encode_events(struct vg_sbuf *out, uint64_t first_seq, uint32_t count,
                                const char *body, size_t body_len, bool compress)
{
    struct vg_sbuf p = VG_SBUF_INIT;
    uint8_t h[VG_AGENT_WIRE_EVENTS_HDR];
    put_le64(h, first_seq);
    put_le32(h + 8, count);
    vg_sbuf_add(&p, h, sizeof(h));
    vg_sbuf_add(&p, body, body_len);
    int rc = p.err ? VG_ENOMEM
                   : vg_agent_wire_encode(out, VG_AGENT_FRAME_EVENTS,
                                          compress ? VG_AGENT_WIRE_ZSTD : 0, 0, p.p, p.len);
    vg_sbuf_fini(&p);
    return rc;
}

int vg_agent_wire_encode_ack(struct vg_sbuf *out, uint64_t last_seq)
{
    uint8_t b[8];
    put_le64(b, last_seq);
    return vg_agent_wire_encode(out, VG_AGENT_FRAME_ACK, 0, 0, b, sizeof(b));
}

/* ------------------------------------------------------------------ decoder */

int vg_agent_wire_decoder_create(const struct vg_agent_wire_limits *lim,
                                 struct vg_agent_wire_decoder **out)
{
    struct vg_agent_wire_decoder *d = vg_calloc(1, sizeof(*d));
    if (!d) {
        return VG_ENOMEM;
    }
    d->lim.max_frame = lim && lim->max_frame ? lim->max_frame : VG_AGENT_WIRE_MAX_FRAME;
    d->lim.max_payload = lim && lim->max_payload ? lim->max_payload : VG_AGENT_WIRE_MAX_PAYLOAD;
    d->lim.max_frame = VG_MIN(d->lim.max_frame, (size_t)VG_AGENT_WIRE_MAX_FRAME);
    d->dctx = ZSTD_createDCtx();
    if (!d->dctx || ZSTD_isError(ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax,
                                                        WIRE_ZSTD_WINDOW_LOG_MAX))) {
        vg_agent_wire_decoder_destroy(d);
        return VG_ENOMEM;
    }
    *out = d;
    return VG_OK;
}

void vg_agent_wire_decoder_destroy(struct vg_agent_wire_decoder *d)
{
    if (!d) {
        return;
    }
    ZSTD_freeDCtx(d->dctx);
    vg_free(d->buf);
    vg_free(d->out);
    vg_free(d);
}

int vg_agent_wire_decoder_feed(struct vg_agent_wire_decoder *d, const void *p, size_t n)
{
    if (d->failed) {
        return VG_EINVAL;
    }
    if (d->pos > 0) {
        memmove(d->buf, d->buf + d->pos, d->len - d->pos);
        d->len -= d->pos;
        d->pos = 0;
    }
    if (n == 0) {
        return VG_OK;
    }
    if (vg_grow(&d->buf, &d->cap, d->len + n, 1) != VG_OK) {
        return VG_ENOMEM;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    return VG_OK;
}

size_t vg_agent_wire_decoder_pending(const struct vg_agent_wire_decoder *d)
{
    return d->len - d->pos;
}

static int wire_fail(struct vg_agent_wire_decoder *d, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int wire_fail(struct vg_agent_wire_decoder *d, char *err, size_t errsz, const char *fmt, ...)
{
    d->failed = true;
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return VG_EINVAL;
}

/* Check a 16-byte header before its payload arrives, so a bad length fails at once. */
static int header_check(struct vg_agent_wire_decoder *d, const uint8_t *h, char *err, size_t errsz)
{
    if (memcmp(h, VG_AGENT_WIRE_MAGIC, 4) != 0) {
        return wire_fail(d, err, errsz, "bad magic %02x%02x%02x%02x (want \"VGA1\")", h[0], h[1],
                         h[2], h[3]);
    }
    if (!frame_type_known(h[4])) {
        return wire_fail(d, err, errsz, "unknown frame type %u", h[4]);
    }
    if ((h[5] & ~VG_AGENT_WIRE_ZSTD) || h[6] || h[7]) {
        return wire_fail(d, err, errsz, "reserved bits set (flags 0x%02x, reserved 0x%04x)", h[5],
                         vg_le16(h + 6));
    }
    uint32_t len = vg_le32(h + 8);
    if (len > d->lim.max_frame) {
        return wire_fail(d, err, errsz, "frame length %" PRIu32 " over limit %zu", len,
                         d->lim.max_frame);
    }
    if ((h[5] & VG_AGENT_WIRE_ZSTD) && len == 0) {
        return wire_fail(d, err, errsz, "compressed frame with empty payload");
    }
    return VG_OK;
}

/* Grow d->out to at least need bytes (need <= max_payload). */
static int out_reserve(struct vg_agent_wire_decoder *d, size_t need)
{
    if (need <= d->outcap) {
        return VG_OK;
    }
    size_t cap = VG_MAX(need, VG_MIN(d->outcap * 2, d->lim.max_payload));
    uint8_t *p = vg_realloc(d->out, cap);
    if (!p) {
        return VG_ENOMEM;
    }
    d->out = p;
    d->outcap = cap;
    return VG_OK;
}

/* Decompress exactly one zstd frame of at most max_payload bytes into d->out. */
static int wire_unzstd(struct vg_agent_wire_decoder *d, const uint8_t *p, size_t n, size_t *olen,
                       char *err, size_t errsz)
{
    unsigned long long declared = ZSTD_getFrameContentSize(p, n);
    if (declared == ZSTD_CONTENTSIZE_ERROR) {
        return wire_fail(d, err, errsz, "zstd: not a zstd frame");
    }
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared > d->lim.max_payload) {
        return wire_fail(d, err, errsz, "zstd: declared size %llu over limit %zu", declared,
                         d->lim.max_payload);
    }
    ZSTD_DCtx_reset(d->dctx, ZSTD_reset_session_only);
    ZSTD_inBuffer in = {p, n, 0};
    ZSTD_outBuffer ob = {NULL, 0, 0};
    size_t ret = 1;
    while (ret != 0) {
        if (ob.pos == ob.size) {
            if (ob.size >= d->lim.max_payload) {
                return wire_fail(d, err, errsz, "zstd: decompressed size over limit %zu",
                                 d->lim.max_payload);
            }
            size_t want = VG_MIN(VG_MAX(ob.size * 2, (size_t)65536), d->lim.max_payload);
            if (declared != ZSTD_CONTENTSIZE_UNKNOWN && ob.size == 0) {
                want = VG_MAX((size_t)declared, (size_t)1);
            }
            if (out_reserve(d, want) != VG_OK) {
                return wire_fail(d, err, errsz, "zstd: out of memory");
            }
            ob.dst = d->out;
            ob.size = want;
        }
        size_t before = ob.pos, in_before = in.pos;
        ret = ZSTD_decompressStream(d->dctx, &ob, &in);
        if (ZSTD_isError(ret)) {
            return wire_fail(d, err, errsz, "zstd: %s", ZSTD_getErrorName(ret));
        }
        if (ret != 0 && ob.pos == before && in.pos == in_before && ob.pos < ob.size) {
            return wire_fail(d, err, errsz, "zstd: truncated frame");
        }
    }
    if (in.pos != in.size) {
        return wire_fail(d, err, errsz, "zstd: %zu trailing bytes after the frame",
                         in.size - in.pos);
    }
    *olen = ob.pos;
    return VG_OK;
}

int vg_agent_wire_decoder_next(struct vg_agent_wire_decoder *d, struct vg_agent_frame *f, char *err,
                               size_t errsz)
{
    if (d->failed) {
        return wire_fail(d, err, errsz, "stream already failed");
    }
    size_t avail = d->len - d->pos;
    const uint8_t *h = d->buf + d->pos;
    if (avail < VG_AGENT_WIRE_HEADER_SIZE) {
        return VG_AGAIN;
    }
    int rc = header_check(d, h, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    size_t len = vg_le32(h + 8);
    if (avail - VG_AGENT_WIRE_HEADER_SIZE < len) {
        return VG_AGAIN;
    }
    const uint8_t *p = h + VG_AGENT_WIRE_HEADER_SIZE;
    if (vg_crc32(0, p, len) != vg_le32(h + 12)) {
        return wire_fail(d, err, errsz, "payload crc mismatch (%s frame of %zu bytes)",
                         vg_agent_frame_type_name(h[4]), len);
    }
    f->type = h[4];
    f->flags = h[5];
    f->payload = p;
    f->len = len;
    if (h[5] & VG_AGENT_WIRE_ZSTD) {
        if ((rc = wire_unzstd(d, p, len, &f->len, err, errsz)) != VG_OK) {
            return rc;
        }
        f->payload = d->out;
    } else if (len > d->lim.max_payload) {
        return wire_fail(d, err, errsz, "payload %zu over limit %zu", len, d->lim.max_payload);
    }
    d->pos += VG_AGENT_WIRE_HEADER_SIZE + len;
    return VG_OK;
}

int vg_agent_wire_decode_one(struct vg_agent_wire_decoder *d, const void *p, size_t n, size_t *used,
                             struct vg_agent_frame *f, char *err, size_t errsz)
{
    d->len = d->pos = 0;
    int rc = vg_agent_wire_decoder_feed(d, p, n);
    if (rc != VG_OK) {
        return rc;
    }
    rc = vg_agent_wire_decoder_next(d, f, err, errsz);
    *used = rc == VG_OK ? d->pos : 0;
    return rc;
}

/* ------------------------------------------------------------------ payload helpers */

static int events_fail(char *err, size_t errsz, const char *why, uint32_t i)
{
    if (err && errsz) {
        snprintf(err, errsz, "EVENTS: event %" PRIu32 ": %s", i, why);
    }
    return VG_EINVAL;
}

/* Check the body holds exactly count well-formed lines. */
static int events_check_body(const struct vg_agent_wire_events *ev, char *err, size_t errsz)
{
    const char *p = ev->body, *end = ev->body + ev->body_len;
    uint32_t i = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            return events_fail(err, errsz, "not newline-terminated", i);
        }
        if (i == ev->count) {
            return events_fail(err, errsz, "more events than the count", i);
        }
        if (nl == p || *p != '{') {
            return events_fail(err, errsz, "not a JSON object", i);
        }
        if (memchr(p, '\0', (size_t)(nl - p))) {
            return events_fail(err, errsz, "NUL byte", i);
        }
        p = nl + 1;
        i++;
    }
    if (i != ev->count) {
        return events_fail(err, errsz, "fewer events than the count", i);
    }
    return VG_OK;
}

int vg_agent_wire_events_parse(const struct vg_agent_frame *f, struct vg_agent_wire_events *ev,
                               char *err, size_t errsz)
{
    if (f->type != VG_AGENT_FRAME_EVENTS || f->len < VG_AGENT_WIRE_EVENTS_HDR) {
        if (err && errsz) {
            snprintf(err, errsz, "EVENTS: payload of %zu bytes shorter than its header", f->len);
        }
        return VG_EINVAL;
    }
    ev->first_seq = vg_le64(f->payload);
    ev->count = vg_le32(f->payload + 8);
    ev->body = (const char *)f->payload + VG_AGENT_WIRE_EVENTS_HDR;
    ev->body_len = f->len - VG_AGENT_WIRE_EVENTS_HDR;
    if (ev->count == 0 || ev->first_seq == 0 || ev->first_seq > UINT64_MAX - ev->count) {
        if (err && errsz) {
            snprintf(err, errsz, "EVENTS: bad range first_seq %" PRIu64 " count %" PRIu32,
                     ev->first_seq, ev->count);
        }
        return VG_EINVAL;
    }
    return events_check_body(ev, err, errsz);
}

bool vg_agent_wire_events_next(const struct vg_agent_wire_events *ev, size_t *pos,
                               const char **json, size_t *len)
{
    if (*pos >= ev->body_len) {
        return false;
    }
    const char *p = ev->body + *pos;
    const char *nl = memchr(p, '\n', ev->body_len - *pos);
    size_t n = nl ? (size_t)(nl - p) : ev->body_len - *pos;
    *json = p;
    *len = n;
    *pos += n + 1;
    return true;
}

int vg_agent_wire_ack_parse(const struct vg_agent_frame *f, uint64_t *last_seq)
{
    if (f->type != VG_AGENT_FRAME_ACK || f->len != 8) {
        return VG_EINVAL;
    }
    *last_seq = vg_le64(f->payload);
    return VG_OK;
}

/* ------------------------------------------------------------------ JSON payloads */

static void json_kv(struct vg_sbuf *out, const char *key, const char *val, bool comma)
{
    if (comma) {
        vg_sbuf_addc(out, ',');
    }
    vg_sbuf_add_json_str(out, key, strlen(key));
    vg_sbuf_addc(out, ':');
    val = val ? val : "";
    vg_sbuf_add_json_str(out, val, strlen(val));
}

int vg_agent_wire_hello_json(const struct vg_agent_hello *h, struct vg_sbuf *out)
{
    vg_sbuf_addc(out, '{');
    json_kv(out, "agent_id", h->agent_id, false);
    json_kv(out, "version", h->version, true);
    json_kv(out, "hostname", h->hostname, true);
    json_kv(out, "os", h->os, true);
    vg_sbuf_adds(out, ",\"ips\":[");
    for (size_t i = 0; i < h->n_ips; i++) {
        if (i) {
            vg_sbuf_addc(out, ',');
        }
        vg_sbuf_add_json_str(out, h->ips[i], strlen(h->ips[i]));
    }
    vg_sbuf_adds(out, "],\"collectors\":");
    vg_sbuf_adds(out, h->collectors_json && *h->collectors_json ? h->collectors_json : "{}");
    json_kv(out, "spool_id", h->spool_id, true);
    vg_sbuf_printf(out, ",\"next_seq\":%" PRIu64 "}", h->next_seq);
    return out->err ? VG_ENOMEM : VG_OK;
}

int vg_agent_command_json(struct vg_sbuf *out, const char *id, const char *action,
                          const char *args_json, int64_t issued, int64_t expires,
                          const char *agent_id)
{
    vg_sbuf_addc(out, '{');
    json_kv(out, "id", id, false);
    json_kv(out, "action", action, true);
    vg_sbuf_adds(out, ",\"args\":");
    vg_sbuf_adds(out, args_json && *args_json ? args_json : "{}");
    vg_sbuf_printf(out, ",\"issued\":%" PRId64 ",\"expires\":%" PRId64, issued, expires);
    json_kv(out, "agent_id", agent_id, true);
    vg_sbuf_addc(out, '}');
    return out->err ? VG_ENOMEM : VG_OK;
}

int vg_agent_wire_encode_result(struct vg_sbuf *out, const char *id, const char *status,
                                const char *output)
{
    struct vg_sbuf j = VG_SBUF_INIT;
    vg_sbuf_addc(&j, '{');
    json_kv(&j, "id", id, false);
    json_kv(&j, "status", status, true);
    json_kv(&j, "output", output, true);
    vg_sbuf_addc(&j, '}');
    int rc = j.err ? VG_ENOMEM
                   : vg_agent_wire_encode(out, VG_AGENT_FRAME_COMMAND_RESULT, 0, 0, j.p, j.len);
    vg_sbuf_fini(&j);
    return rc;
}
