/*
 * sensor_dns.c — the sensor's DNS parser (issue 6): DNS over UDP (one message per datagram)
 * and over TCP (2-byte length prefix; messages may be split across or merged within
 * segments), written as Suricata 8 EVE "dns" records (version 3 layout: one record per
 * message, "type":"request" or "type":"response").
 *
 *   datagram / reassembled stream -> dns_msg_parse (bounded walk over the message, names
 *   decompressed with loop and length guards) -> dns_rec_write ("dns":{…}) -> anomaly
 *   records for the message's events -> vg_sensor_note_dns per query (tunnel/DGA detection)
 *
 * Semantics follow Suricata's rust/src/dns (parser.rs, dns.rs, log.rs):
 *  - each parsed message is its own transaction; tx_id counts messages per flow from 0;
 *  - the to-server direction parses requests (a response there is dropped, event
 *    not_request); the to-client direction parses responses (a query there is logged as a
 *    response with event not_response);
 *  - a header that fails the sanity check (record counts vs size, request without question)
 *    is ignored on UDP and ends parsing on TCP; a body that does not parse is malformed
 *    (counted; TCP: parser error);
 *  - a message without questions is parsed (tx_id advances) but not logged;
 *  - names: at most 255 labels/pointers, at most 1025 characters (longer: truncated and
 *    flagged), an immediate self-pointer is an infinite loop;
 *  - authorities/additionals that fail to parse are dropped with an event, the rest of the
 *    message is still logged.
 *
 * Memory: per flow a small state (tx counter, gap flags) plus, for TCP only, a buffer for a
 * message split across segments, allocated on first need and bounded by the 64 KiB message
 * size. The parse itself uses a per-thread scratch array of record descriptors; nothing is
 * allocated per message.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_fmt.h"
#include "sensor/sensor_dns.h"

/* ---------------------------------------------------------------- limits and constants */

#define DNS_HDR_LEN     12
#define DNS_MAX_NAME    1025 /* Suricata's MAX_NAME_LEN */
#define DNS_NAME_BUF    (DNS_MAX_NAME + 64 + 2)
#define DNS_MAX_SEGS    255         /* labels + pointers followed per name */
#define DNS_MAX_RR      2048        /* records stored (logged) per message */
#define DNS_TCP_MAX_MSG (65535 + 2) /* length prefix + largest message */

/* Name flags (Suricata's DNSNameFlags). */
#define DNS_NF_LOOP   0x01
#define DNS_NF_TRUNC  0x02
#define DNS_NF_LABELS 0x04

/* Record types with special rdata handling. */
enum {
    DNS_T_A = 1,
    DNS_T_NS = 2,
    DNS_T_CNAME = 5,
    DNS_T_SOA = 6,
    DNS_T_NULL = 10,
    DNS_T_PTR = 12,
    DNS_T_MX = 15,
    DNS_T_TXT = 16,
    DNS_T_AAAA = 28,
    DNS_T_SRV = 33,
    DNS_T_OPT = 41,
    DNS_T_SSHFP = 44,
};

/* Events of a message (Suricata's DNSEvent), in the order Suricata raises them. */
enum {
    DNS_EV_INVALID_ADDITIONALS = 1u << 0,
    DNS_EV_INVALID_AUTHORITIES = 1u << 1,
    DNS_EV_NOT_RESPONSE = 1u << 2,
    DNS_EV_Z_FLAG = 1u << 3,
    DNS_EV_INVALID_OPCODE = 1u << 4,
    DNS_EV_NAME_TOO_LONG = 1u << 5,
    DNS_EV_INFINITE_LOOP = 1u << 6,
    DNS_EV_TOO_MANY_LABELS = 1u << 7,
};

static const char *const dns_event_names[] = {
    "invalid_additionals", "invalid_authorities", "not_response",  "z_flag_set",
    "invalid_opcode",      "name_too_long",       "infinite_loop", "too_many_labels",
};

/* ---------------------------------------------------------------- parsed message */

/* One question or resource record: offsets into the message. */
struct dns_rr {
    uint16_t name_off; /* owner name */
    uint16_t type;
    uint32_t ttl;
    uint16_t rd_off; /* rdata (records only) */
    uint16_t rd_len;
};

struct dns_msg {
    const uint8_t *p;
    size_t n;
    uint16_t id, flags, qd, an, ns, ar;
    /* stored records: [0,nq) questions, then answers, authorities, additionals */
    size_t nq, nan, nns, nar;
    uint8_t name_flags; /* union of the flags of every name parsed */
    bool invalid_auth, invalid_add;
    struct dns_rr *rr;
    size_t nrr;
    size_t nqn; /* questions [0, nqn) have their decoded name in the thread's tl_qn */
};

/* Per-thread scratch: the records of the message being logged. */
static _Thread_local struct dns_rr tl_rr[DNS_MAX_RR];

/*
 * Per-thread scratch: the decoded names of the message's first questions, decoded once
 * while parsing and reused by the query log, by answers whose owner name is a pointer to
 * the question (the usual compression), and by the detection hook.
 */
#define DNS_QCACHE 4
struct dns_qname {
    size_t off, next; /* where the name starts and what follows it */
    size_t len;
    uint8_t flags; /* DNS_NF_* of this name alone */
    int8_t plain;  /* txt needs no JSON escaping: 1 yes, 0 no, -1 not checked yet */
    char txt[DNS_NAME_BUF];
};
static _Thread_local struct dns_qname tl_qn[DNS_QCACHE];

/* Per-flow state. */
struct dns_state {
    uint64_t tx_next; /* next transaction id */
    bool gap[2];      /* a gap was seen in that direction: resync on a plausible start */
    uint8_t *buf[2];  /* TCP: a message being assembled (prefix included) */
    uint32_t len[2], cap[2];
};

/* ---------------------------------------------------------------- byte helpers */

/*
 * Output fast path: the record buffer has room for most appends once it has grown, so the
 * helpers below copy inline when it does and fall back to vg_sbuf_add (which grows it) when
 * not. `sb_room` reserves n bytes and returns where to write them (NULL when memory fails);
 * `sb_commit` sets the length from the write pointer and keeps the buffer NUL-terminated.
 */
static inline void sb_add(struct vg_sbuf *s, const void *p, size_t n)
{
    if (VG_LIKELY(s->len + n < s->cap)) {
        memcpy(s->p + s->len, p, n);
        s->len += n;
        s->p[s->len] = '\0';
        return;
    }
    vg_sbuf_add(s, p, n);
}

static inline void sb_addc(struct vg_sbuf *s, char c)
{
    if (VG_LIKELY(s->len + 1 < s->cap)) {
        s->p[s->len++] = c;
        s->p[s->len] = '\0';
        return;
    }
    vg_sbuf_addc(s, c);
}

static inline char *sb_room(struct vg_sbuf *s, size_t n)
{
    if (VG_LIKELY(s->len + n < s->cap)) {
        return s->p + s->len;
    }
    return vg_sbuf_reserve(s, n) == VG_OK ? s->p + s->len : NULL;
}

static inline void sb_commit(struct vg_sbuf *s, char *end)
{
    s->len = (size_t)(end - s->p);
    s->p[s->len] = '\0';
}

/* Append a string literal (length known at compile time). */
#define ADD_LIT(s, lit) sb_add((s), (lit), sizeof(lit) - 1)

#define U64_DIGITS VG_SENSOR_FMT_U64_MAX

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ---------------------------------------------------------------- names */

/* Copy a label (n <= 63) with fixed-size moves, the last one overlapping: no memcpy call. */
static inline void label_copy(char *d, const uint8_t *s, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(d + i, s + i, 8);
        }
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++) {
            d[i] = (char)s[i];
        }
    }
}

/*
 * Decode the name at m[off], whose bytes before any pointer must lie below lim (the end of
 * the rdata holding it, or n). Pointers may go anywhere in m[0..n) (forward too, as
 * Suricata accepts). out (may be NULL) receives up to DNS_NAME_BUF bytes, *outlen the
 * name's length (at most DNS_MAX_NAME), *next the offset after the name in the original
 * position, *flags gains DNS_NF_*. Returns 0, or -1 for a malformed name.
 */
static int dns_name_parse(const uint8_t *m, size_t n, size_t off, size_t lim, char *out,
                          size_t *outlen, size_t *next, uint8_t *flags)
{
    size_t pos = off, end = lim, len = 0, pivot = 0;
    bool jumped = false;
    unsigned count = 0;
    uint8_t f = 0;
    for (;;) {
        if (pos >= end) {
            break;
        }
        uint8_t b = m[pos];
        if (b == 0) {
            pos++;
            break;
        }
        if ((b & 0xC0) == 0) {
            if (pos + 1 + b > end) {
                return -1;
            }
            if (!(f & DNS_NF_TRUNC)) {
                if (out) {
                    if (len) {
                        out[len] = '.';
                    }
                    label_copy(out + len + (len ? 1 : 0), m + pos + 1, b);
                }
                len += b + (len ? 1 : 0);
            }
            pos += 1 + (size_t)b;
        } else if ((b & 0xC0) == 0xC0) {
            if (pos + 2 > end) {
                return -1;
            }
            size_t o = ((size_t)(b & 0x3F) << 8) | m[pos + 1];
            if (o > n) {
                return -1;
            }
            if (o == pos && end == n) {
                f |= DNS_NF_LOOP;
                if (jumped) {
                    break;
                }
                return -1;
            }
            if (!jumped) {
                pivot = pos + 2;
                jumped = true;
            }
            pos = o;
            end = n;
        } else {
            return -1;
        }
        if (++count > DNS_MAX_SEGS) {
            f |= DNS_NF_LABELS;
            if (jumped) {
                f |= DNS_NF_TRUNC;
                break;
            }
            return -1;
        }
        if (len > DNS_MAX_NAME) {
            len = DNS_MAX_NAME;
            f |= DNS_NF_TRUNC;
            if (jumped) {
                break;
            }
        }
    }
    *flags |= f;
    if (outlen) {
        *outlen = len;
    }
    *next = jumped ? pivot : pos;
    return 0;
}

/* ---------------------------------------------------------------- message parsing */

/* Check the rdata of one record (types whose rdata Suricata decodes). 0 or -1. */
static int dns_rdata_check(const struct dns_msg *mg, uint16_t type, size_t p, size_t end,
                           uint8_t *nf)
{
    const uint8_t *m = mg->p;
    size_t nx;
    switch (type) {
    case DNS_T_CNAME:
    case DNS_T_NS:
    case DNS_T_PTR:
        return dns_name_parse(m, mg->n, p, end, NULL, NULL, &nx, nf);
    case DNS_T_MX:
        return p + 2 > end ? -1 : dns_name_parse(m, mg->n, p + 2, end, NULL, NULL, &nx, nf);
    case DNS_T_SRV:
        return p + 6 > end ? -1 : dns_name_parse(m, mg->n, p + 6, end, NULL, NULL, &nx, nf);
    case DNS_T_SOA:
        if (dns_name_parse(m, mg->n, p, end, NULL, NULL, &nx, nf) < 0 ||
            dns_name_parse(m, mg->n, nx, end, NULL, NULL, &nx, nf) < 0) {
            return -1;
        }
        return nx + 20 > end ? -1 : 0;
    case DNS_T_TXT:
        while (p < end) {
            p += 1 + (size_t)m[p];
            if (p > end) {
                return -1;
            }
        }
        return 0;
    case DNS_T_SSHFP:
        return p + 2 > end ? -1 : 0;
    case DNS_T_OPT:
        while (p < end) {
            if (p + 4 > end || p + 4 + rd16(m + p + 2) > end) {
                return -1;
            }
            p += 4 + (size_t)rd16(m + p + 2);
        }
        return 0;
    default:
        return 0;
    }
}

/* Store rr if there is room (records beyond DNS_MAX_RR are parsed but not logged). */
static bool dns_store(struct dns_msg *mg, const struct dns_rr *rr)
{
    if (mg->nrr >= DNS_MAX_RR) {
        return false;
    }
    mg->rr[mg->nrr++] = *rr;
    return true;
}

/*
 * The cached question name that decoding off (bounded by lim) would give, or NULL: the
 * question itself, or a pointer straight to it from elsewhere when that cannot change the
 * outcome (the question's name raised no flag and is short enough that one more pointer
 * stays far below the label limit). *next gets the offset after the name.
 */
static struct dns_qname *dns_qname_find(const struct dns_msg *mg, size_t off, size_t lim,
                                        size_t *next)
{
    size_t target = SIZE_MAX;
    if (off + 2 <= lim && (mg->p[off] & 0xC0) == 0xC0) {
        target = ((size_t)(mg->p[off] & 0x3F) << 8) | mg->p[off + 1];
    }
    for (size_t i = 0; i < mg->nqn; i++) {
        struct dns_qname *q = &tl_qn[i];
        if (q->off == off && lim == mg->n) {
            *next = q->next;
            return q;
        }
        if (q->off == target && target != off && q->flags == 0 && q->len < 200) {
            *next = off + 2;
            return q;
        }
    }
    return NULL;
}

/* Parse count questions from *pos. 0 or -1. */
static int dns_parse_questions(struct dns_msg *mg, size_t *pos)
{
    for (unsigned i = 0; i < mg->qd; i++) {
        struct dns_rr rr = {.name_off = (uint16_t)*pos};
        struct dns_qname *q = i < DNS_QCACHE ? &tl_qn[i] : NULL;
        size_t nx, len = 0;
        uint8_t f = 0;
        if (dns_name_parse(mg->p, mg->n, *pos, mg->n, q ? q->txt : NULL, &len, &nx, &f) < 0 ||
            nx + 4 > mg->n) {
            return -1;
        }
        mg->name_flags |= f;
        if (q) {
            q->off = *pos;
            q->next = nx;
            q->len = len;
            q->flags = f;
            q->plain = -1;
            mg->nqn = i + 1;
        }
        rr.type = rd16(mg->p + nx);
        *pos = nx + 4;
        mg->nq += dns_store(mg, &rr);
    }
    return 0;
}

/* Parse count records of one section from *pos; *stored counts those kept. 0 or -1. */
static int dns_parse_section(struct dns_msg *mg, unsigned count, size_t *pos, size_t *stored)
{
    size_t first = mg->nrr, p = *pos;
    uint8_t nf = 0;
    for (unsigned i = 0; i < count; i++) {
        struct dns_rr rr = {.name_off = (uint16_t)p};
        size_t nx;
        const struct dns_qname *q = dns_qname_find(mg, p, mg->n, &nx); /* usually a pointer */
        if (q) {
            nf |= q->flags;
        } else if (dns_name_parse(mg->p, mg->n, p, mg->n, NULL, NULL, &nx, &nf) < 0) {
            goto fail;
        }
        if (nx + 10 > mg->n) {
            goto fail;
        }
        rr.type = rd16(mg->p + nx);
        rr.ttl = rd32(mg->p + nx + 4);
        rr.rd_len = rd16(mg->p + nx + 8);
        rr.rd_off = (uint16_t)(nx + 10);
        if ((size_t)rr.rd_off + rr.rd_len > mg->n ||
            dns_rdata_check(mg, rr.type, rr.rd_off, (size_t)rr.rd_off + rr.rd_len, &nf) < 0) {
            goto fail;
        }
        p = (size_t)rr.rd_off + rr.rd_len;
        dns_store(mg, &rr);
    }
    mg->name_flags |= nf;
    *stored = mg->nrr - first;
    *pos = p;
    return 0;
fail:
    mg->nrr = first; /* a failed section logs nothing of it */
    *stored = 0;
    return -1;
}

/*
 * Sanity check of a header for a message of n bytes (Suricata's probe_header_validity):
 * the record counts must fit, an empty message must be header-only, a request must ask.
 */
static bool dns_header_valid(const uint8_t *p, size_t n)
{
    if (n < DNS_HDR_LEN) {
        return false;
    }
    size_t nrec = (size_t)rd16(p + 4) + rd16(p + 6) + rd16(p + 8) + rd16(p + 10);
    if (2 * nrec > n) {
        return false;
    }
    if (nrec == 0 && n > DNS_HDR_LEN) {
        return false;
    }
    bool request = !(rd16(p + 2) & 0x8000);
    return !(request && rd16(p + 4) == 0);
}

/* Parse a whole message into mg (records in the thread's scratch). 0 or -1 (malformed). */
static int dns_msg_parse(struct dns_msg *mg, const uint8_t *p, size_t n)
{
    memset(mg, 0, sizeof(*mg));
    mg->p = p;
    mg->n = n;
    mg->rr = tl_rr;
    mg->id = rd16(p);
    mg->flags = rd16(p + 2);
    mg->qd = rd16(p + 4);
    mg->an = rd16(p + 6);
    mg->ns = rd16(p + 8);
    mg->ar = rd16(p + 10);
    size_t pos = DNS_HDR_LEN;
    if (dns_parse_questions(mg, &pos) < 0 || dns_parse_section(mg, mg->an, &pos, &mg->nan) < 0) {
        return -1;
    }
    if (dns_parse_section(mg, mg->ns, &pos, &mg->nns) < 0) {
        mg->invalid_auth = true;
        return 0;
    }
    if (dns_parse_section(mg, mg->ar, &pos, &mg->nar) < 0) {
        mg->invalid_add = true;
    }
    return 0;
}

/* Events of a parsed message (request: is_request). */
static unsigned dns_msg_events(const struct dns_msg *mg, bool is_request)
{
    unsigned ev = 0;
    if (mg->invalid_add) {
        ev |= DNS_EV_INVALID_ADDITIONALS;
    }
    if (mg->invalid_auth) {
        ev |= DNS_EV_INVALID_AUTHORITIES;
    }
    if (!is_request && !(mg->flags & 0x8000)) {
        ev |= DNS_EV_NOT_RESPONSE;
    }
    if (mg->flags & 0x0040) {
        ev |= DNS_EV_Z_FLAG;
    }
    if (((mg->flags >> 11) & 0xF) >= 7) {
        ev |= DNS_EV_INVALID_OPCODE;
    }
    if (mg->name_flags & DNS_NF_TRUNC) {
        ev |= DNS_EV_NAME_TOO_LONG;
    }
    if (mg->name_flags & DNS_NF_LOOP) {
        ev |= DNS_EV_INFINITE_LOOP;
    }
    if (mg->name_flags & DNS_NF_LABELS) {
        ev |= DNS_EV_TOO_MANY_LABELS;
    }
    return ev;
}

/* ---------------------------------------------------------------- JSON output */

/* Is p[0..n) valid UTF-8 (strict, as Rust's from_utf8)? */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += k + 1;
    }
    return true;
}

/*
 * p[0..n) as a quoted JSON string the way Suricata's set_string_from_bytes writes it: valid
 * UTF-8 as is (escaped); otherwise bytes >= 0x80 become the four characters "\xNN". plain
 * (what vg_sensor_json_plain says of p) selects the fast path: one memcpy. Otherwise writes
 * straight into the buffer after one reservation of the worst case (6 bytes per input byte).
 */
static void json_bytes_as(struct vg_sbuf *s, const uint8_t *p, size_t n, bool plain)
{
    static const char hex[] = "0123456789abcdef";
    if (plain) {
        char *q = sb_room(s, n + 2);
        if (q) {
            *q = '"';
            memcpy(q + 1, p, n);
            q[n + 1] = '"';
            sb_commit(s, q + n + 2);
        }
        return;
    }
    if (vg_sbuf_reserve(s, 6 * n + 2) != VG_OK) {
        return;
    }
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++) {
        ascii = p[i] < 0x80;
    }
    bool valid = ascii || utf8_valid(p, n);
    char *o = s->p + s->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F && (c < 0x80 || valid)) {
            *o++ = (char)c;
        } else if (c >= 0x80) {
            o[0] = '\\', o[1] = '\\', o[2] = 'x', o[3] = hex[c >> 4], o[4] = hex[c & 15];
            o += 5;
        } else if (c == '"' || c == '\\') {
            o[0] = '\\', o[1] = (char)c;
            o += 2;
        } else {
            static const char esc[] = "btn\0fr"; /* 8..13 */
            if (c >= 8 && c <= 13 && c != 11) {
                o[0] = '\\', o[1] = esc[c - 8];
                o += 2;
            } else {
                o[0] = '\\', o[1] = 'u', o[2] = '0', o[3] = '0', o[4] = hex[c >> 4],
                o[5] = hex[c & 15];
                o += 6;
            }
        }
    }
    *o++ = '"';
    s->len = (size_t)(o - s->p);
    s->p[s->len] = '\0';
}

/* As json_bytes_as, checking first whether p[0..n) needs escaping. */
static void json_bytes(struct vg_sbuf *s, const uint8_t *p, size_t n)
{
    json_bytes_as(s, p, n, vg_sensor_json_plain(p, n));
}

static void put_u64(struct vg_sbuf *s, uint64_t v)
{
    char *o = sb_room(s, U64_DIGITS);
    if (o) {
        sb_commit(s, vg_sensor_fmt_u64(o, v));
    }
}

/* pre[0..pn) (a trusted prefix such as ,"ttl":) then N. */
static void put_kraw(struct vg_sbuf *s, const char *pre, size_t pn, uint64_t v)
{
    char *o = sb_room(s, pn + U64_DIGITS);
    if (o) {
        memcpy(o, pre, pn);
        sb_commit(s, vg_sensor_fmt_u64(o + pn, v));
    }
}

/* ,"key":N (key is a string literal). */
#define put_kuint(s, key, v) put_kraw((s), ",\"" key "\":", sizeof(",\"" key "\":") - 1, (v))

/* A name and its length. */
struct dns_txt {
    const char *s;
    size_t n;
};

#define TXT(x)                                                                                     \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }

/* Record type name as Suricata 8 writes it (NULL when unknown: numeric). */
static struct dns_txt dns_type_name(uint16_t t)
{
    static const struct dns_txt low[] = {
        {NULL, 0},      TXT("A"),     TXT("NS"),    TXT("MD"),         TXT("MF"),    TXT("CNAME"),
        TXT("SOA"),     TXT("MB"),    TXT("MG"),    TXT("MR"),         TXT("NULL"),  TXT("WKS"),
        TXT("PTR"),     TXT("HINFO"), TXT("MINFO"), TXT("MX"),         TXT("TXT"),   TXT("RP"),
        TXT("AFSDB"),   TXT("X25"),   TXT("ISDN"),  TXT("RT"),         TXT("NSAP"),  TXT("NSAPPTR"),
        TXT("SIG"),     TXT("KEY"),   TXT("PX"),    TXT("GPOS"),       TXT("AAAA"),  TXT("LOC"),
        TXT("NXT"),     {NULL, 0},    {NULL, 0},    TXT("SRV"),        TXT("ATMA"),  TXT("NAPTR"),
        TXT("KX"),      TXT("CERT"),  TXT("A6"),    TXT("DNAME"),      {NULL, 0},    TXT("OPT"),
        TXT("APL"),     TXT("DS"),    TXT("SSHFP"), TXT("IPSECKEY"),   TXT("RRSIG"), TXT("NSEC"),
        TXT("DNSKEY"),  TXT("DHCID"), TXT("NSEC3"), TXT("NSEC3PARAM"), TXT("TLSA"),  {NULL, 0},
        {NULL, 0},      TXT("HIP"),   {NULL, 0},    {NULL, 0},         {NULL, 0},    TXT("CDS"),
        TXT("CDNSKEY"), {NULL, 0},    {NULL, 0},    {NULL, 0},         {NULL, 0},    TXT("HTTPS"),
    };
    static const struct dns_txt none = {NULL, 0}, spf = TXT("SPF"), tkey = TXT("TKEY"),
                                tsig = TXT("TSIG"), maila = TXT("MAILA"), any = TXT("ANY"),
                                uri = TXT("URI");
    if (t < sizeof(low) / sizeof(low[0])) {
        return low[t];
    }
    switch (t) {
    case 99:
        return spf;
    case 249:
        return tkey;
    case 250:
        return tsig;
    case 254:
        return maila;
    case 255:
        return any;
    case 256:
        return uri;
    default:
        return none;
    }
}

/* "rrtype" value (quoted). */
static void put_type(struct vg_sbuf *s, uint16_t t)
{
    struct dns_txt nm = dns_type_name(t);
    char *o = sb_room(s, 2 + (nm.n > U64_DIGITS ? nm.n : U64_DIGITS));
    if (!o) {
        return;
    }
    *o++ = '"';
    if (nm.s) {
        memcpy(o, nm.s, nm.n);
        o += nm.n;
    } else {
        o = vg_sensor_fmt_u64(o, t);
    }
    *o++ = '"';
    sb_commit(s, o);
}

static struct dns_txt dns_rcode_name(unsigned rc)
{
    static const struct dns_txt names[] = {TXT("NOERROR"),  TXT("FORMERR"), TXT("SERVFAIL"),
                                           TXT("NXDOMAIN"), TXT("NOTIMP"),  TXT("REFUSED"),
                                           TXT("YXDOMAIN"), TXT("YXRRSET"), TXT("NXRRSET"),
                                           TXT("NOTAUTH"),  TXT("NOTZONE")};
    static const struct dns_txt none = {NULL, 0};
    return rc < sizeof(names) / sizeof(names[0]) ? names[rc] : none;
}

/* Write the decoded name at off (bounded by lim) as a JSON string; returns its flags. */
static uint8_t put_name(struct vg_sbuf *s, const struct dns_msg *mg, size_t off, size_t lim,
                        size_t *next)
{
    size_t qnx;
    struct dns_qname *q = dns_qname_find(mg, off, lim, &qnx);
    if (q) {
        if (next) {
            *next = qnx;
        }
        if (q->plain < 0) {
            q->plain = vg_sensor_json_plain((const uint8_t *)q->txt, q->len);
        }
        json_bytes_as(s, (const uint8_t *)q->txt, q->len, q->plain);
        return q->flags;
    }
    char buf[DNS_NAME_BUF];
    size_t len = 0, nx = off;
    uint8_t f = 0;
    if (dns_name_parse(mg->p, mg->n, off, lim, buf, &len, &nx, &f) < 0) {
        len = 0; /* cannot happen: the message was parsed before */
    }
    if (next) {
        *next = nx;
    }
    json_bytes(s, (const uint8_t *)buf, len);
    return f;
}

/* IPv4 dotted, IPv6 as eight 4-digit groups, else "" (Suricata's dns_print_addr). */
static void put_addr(struct vg_sbuf *s, const uint8_t *a, size_t n)
{
    char *o = sb_room(s, 48);
    if (!o) {
        return;
    }
    *o++ = '"';
    if (n == 4) {
        vg_sensor_addr_str(o, VG_SENSOR_FLOW_AF_INET, a);
    } else if (n == 16) {
        vg_sensor_addr_str(o, VG_SENSOR_FLOW_AF_INET6, a);
    } else {
        *o = '\0';
    }
    o += strlen(o);
    *o++ = '"';
    sb_commit(s, o);
}

static void put_hex(struct vg_sbuf *s, const uint8_t *p, size_t n, bool colons)
{
    static const char hex[] = "0123456789abcdef";
    char *o = sb_room(s, 3 * n + 2);
    if (!o) {
        return;
    }
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (colons && i) {
            *o++ = ':';
        }
        *o++ = hex[p[i] >> 4];
        *o++ = hex[p[i] & 15];
    }
    *o++ = '"';
    sb_commit(s, o);
}

static void put_soa(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr)
{
    size_t end = (size_t)rr->rd_off + rr->rd_len, nx;
    sb_add(s, "{\"mname\":", 9);
    uint8_t f = put_name(s, mg, rr->rd_off, end, &nx);
    if (f & DNS_NF_TRUNC) {
        ADD_LIT(s, ",\"mname_truncated\":true");
    }
    ADD_LIT(s, ",\"rname\":");
    f = put_name(s, mg, nx, end, &nx);
    if (f & DNS_NF_TRUNC) {
        ADD_LIT(s, ",\"rname_truncated\":true");
    }
    static const struct dns_txt keys[] = {TXT(",\"serial\":"), TXT(",\"refresh\":"),
                                          TXT(",\"retry\":"), TXT(",\"expire\":"),
                                          TXT(",\"minimum\":")};
    for (size_t i = 0; i < 5; i++) {
        put_kraw(s, keys[i].s, keys[i].n, rd32(mg->p + nx + 4 * i));
    }
    sb_addc(s, '}');
}

static void put_sshfp(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr)
{
    const uint8_t *r = mg->p + rr->rd_off;
    ADD_LIT(s, "{\"fingerprint\":");
    put_hex(s, r + 2, rr->rd_len - 2u, true);
    put_kuint(s, "algo", r[0]);
    put_kuint(s, "type", r[1]);
    sb_addc(s, '}');
}

static void put_srv(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr)
{
    const uint8_t *r = mg->p + rr->rd_off;
    sb_add(s, "{\"priority\":", 12);
    put_u64(s, rd16(r));
    put_kuint(s, "weight", rd16(r + 2));
    put_kuint(s, "port", rd16(r + 4));
    ADD_LIT(s, ",\"name\":");
    put_name(s, mg, (size_t)rr->rd_off + 6, (size_t)rr->rd_off + rr->rd_len, NULL);
    sb_addc(s, '}');
}

static void put_opt(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr)
{
    size_t p = rr->rd_off, end = (size_t)rr->rd_off + rr->rd_len;
    ADD_LIT(s, ",\"opt\":[");
    for (bool first = true; p + 4 <= end; first = false) {
        uint16_t len = rd16(mg->p + p + 2);
        sb_add(s, first ? "{\"code\":" : ",{\"code\":", first ? 8 : 9);
        put_u64(s, rd16(mg->p + p));
        ADD_LIT(s, ",\"data\":");
        put_hex(s, mg->p + p + 4, len, false);
        sb_addc(s, '}');
        p += 4 + (size_t)len;
    }
    sb_addc(s, ']');
}

/* Is the rdata of this type a name (CNAME, MX, NS, PTR)? Returns its offset in the rdata. */
static int dns_name_rdata(uint16_t t)
{
    switch (t) {
    case DNS_T_CNAME:
    case DNS_T_NS:
    case DNS_T_PTR:
        return 0;
    case DNS_T_MX:
        return 2;
    default:
        return -1;
    }
}

/* The "rdata"/"soa"/… members of one record (txt: the offset of the TXT string to show). */
static void put_rdata(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr,
                      size_t txt)
{
    const uint8_t *r = mg->p + rr->rd_off;
    int noff = dns_name_rdata(rr->type);
    if (noff >= 0) {
        ADD_LIT(s, ",\"rdata\":");
        uint8_t f = put_name(s, mg, (size_t)rr->rd_off + (size_t)noff,
                             (size_t)rr->rd_off + rr->rd_len, NULL);
        if (f & DNS_NF_TRUNC) {
            ADD_LIT(s, ",\"rdata_truncated\":true");
        }
        return;
    }
    switch (rr->type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        ADD_LIT(s, ",\"rdata\":");
        put_addr(s, r, rr->rd_len);
        return;
    case DNS_T_TXT:
        ADD_LIT(s, ",\"rdata\":");
        json_bytes(s, mg->p + txt + 1, mg->p[txt]);
        return;
    case DNS_T_NULL:
        ADD_LIT(s, ",\"rdata\":");
        json_bytes(s, r, rr->rd_len);
        return;
    case DNS_T_SOA:
        ADD_LIT(s, ",\"soa\":");
        put_soa(s, mg, rr);
        return;
    case DNS_T_SSHFP:
        ADD_LIT(s, ",\"sshfp\":");
        put_sshfp(s, mg, rr);
        return;
    case DNS_T_SRV:
        ADD_LIT(s, ",\"srv\":");
        put_srv(s, mg, rr);
        return;
    case DNS_T_OPT:
        put_opt(s, mg, rr);
        return;
    default:
        return;
    }
}

/* One detailed entry {"rrname":…,"rrtype":…,"ttl":…,…}, preceded by a comma unless first. */
static void put_rr(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr, size_t txt,
                   bool *first)
{
    sb_add(s, *first ? "{\"rrname\":" : ",{\"rrname\":", *first ? 10 : 11);
    *first = false;
    uint8_t f = put_name(s, mg, rr->name_off, mg->n, NULL);
    if (f & DNS_NF_TRUNC) {
        ADD_LIT(s, ",\"rrname_truncated\":true");
    }
    ADD_LIT(s, ",\"rrtype\":");
    put_type(s, rr->type);
    put_kuint(s, "ttl", rr->ttl);
    put_rdata(s, mg, rr, txt);
    sb_addc(s, '}');
}

/* A record's entries: one per TXT string (none for an empty TXT), else one. */
static void put_rr_all(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr,
                       bool *first)
{
    if (rr->type != DNS_T_TXT) {
        put_rr(s, mg, rr, 0, first);
        return;
    }
    size_t p = rr->rd_off, end = (size_t)rr->rd_off + rr->rd_len;
    while (p < end) {
        put_rr(s, mg, rr, p, first);
        p += 1 + (size_t)mg->p[p];
    }
}

/* Is an OPT record without options (Suricata leaves those out of "additionals")? */
static bool dns_rr_empty_opt(const struct dns_rr *rr)
{
    return rr->type == DNS_T_OPT && rr->rd_len < 4;
}

/* ,"key":[entries] for the records [from, from+count); nothing when no entry. */
static void put_section(struct vg_sbuf *s, struct dns_txt key, const struct dns_msg *mg,
                        size_t from, size_t count)
{
    bool first = true;
    for (size_t i = from; i < from + count; i++) {
        const struct dns_rr *rr = &mg->rr[i];
        if (dns_rr_empty_opt(rr)) {
            continue;
        }
        if (first) {
            sb_add(s, key.s, key.n);
        }
        put_rr_all(s, mg, rr, &first);
    }
    if (!first) {
        sb_addc(s, ']');
    }
}

/* Does "grouped" show records of this type? */
static bool dns_groupable(uint16_t t)
{
    return t == DNS_T_A || t == DNS_T_AAAA || t == DNS_T_SOA || t == DNS_T_NULL || t == DNS_T_TXT ||
           t == DNS_T_SSHFP || t == DNS_T_SRV || dns_name_rdata(t) >= 0;
}

/* The grouped values of one record, comma-separated after the first. */
static void put_grouped_values(struct vg_sbuf *s, const struct dns_msg *mg, const struct dns_rr *rr,
                               bool *first)
{
    const uint8_t *r = mg->p + rr->rd_off;
    size_t end = (size_t)rr->rd_off + rr->rd_len;
    if (rr->type == DNS_T_TXT) {
        for (size_t p = rr->rd_off; p < end; p += 1 + (size_t)mg->p[p]) {
            sb_add(s, ",", *first ? 0 : 1);
            *first = false;
            json_bytes(s, mg->p + p + 1, mg->p[p]);
        }
        return;
    }
    sb_add(s, ",", *first ? 0 : 1);
    *first = false;
    int noff = dns_name_rdata(rr->type);
    if (noff >= 0) {
        put_name(s, mg, (size_t)rr->rd_off + (size_t)noff, end, NULL);
    } else if (rr->type == DNS_T_A || rr->type == DNS_T_AAAA) {
        put_addr(s, r, rr->rd_len);
    } else if (rr->type == DNS_T_NULL) {
        json_bytes(s, r, rr->rd_len);
    } else if (rr->type == DNS_T_SOA) {
        put_soa(s, mg, rr);
    } else if (rr->type == DNS_T_SSHFP) {
        put_sshfp(s, mg, rr);
    } else {
        put_srv(s, mg, rr);
    }
}

/* ,"grouped":{"A":[…],…} over the answers, types in order of first appearance. */
static void put_grouped(struct vg_sbuf *s, const struct dns_msg *mg)
{
    const struct dns_rr *an = mg->rr + mg->nq;
    bool firstkey = true;
    ADD_LIT(s, ",\"grouped\":{");
    for (size_t i = 0; i < mg->nan; i++) {
        uint16_t t = an[i].type;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++) {
            seen = an[j].type == t;
        }
        if (seen || !dns_groupable(t)) {
            continue;
        }
        sb_add(s, ",", firstkey ? 0 : 1);
        firstkey = false;
        put_type(s, t);
        sb_add(s, ":[", 2);
        bool first = true;
        for (size_t j = i; j < mg->nan; j++) {
            if (an[j].type == t) {
                put_grouped_values(s, mg, &an[j], &first);
            }
        }
        sb_addc(s, ']');
    }
    sb_addc(s, '}');
}

/* ,"flags":"8180" and the set flag bits ("qr":true, …, "z":true) for flags at o; returns the
 * end (at most DNS_FLAGS_TXT bytes). */
#define DNS_FLAGS_TXT (16 + 6 * 10)
static char *w_flags(char *o, uint16_t flags)
{
    static const char hex[] = "0123456789abcdef";
    static const struct {
        uint16_t bit;
        struct dns_txt txt;
    } bits[] = {{0x8000, TXT(",\"qr\":true")}, {0x0400, TXT(",\"aa\":true")},
                {0x0200, TXT(",\"tc\":true")}, {0x0100, TXT(",\"rd\":true")},
                {0x0080, TXT(",\"ra\":true")}, {0x0040, TXT(",\"z\":true")}};
    memcpy(o, ",\"flags\":\"", 10);
    o += 10;
    bool lead = true;
    for (int sh = 12; sh >= 0; sh -= 4) {
        unsigned d = (flags >> sh) & 15;
        if (d || !lead || sh == 0) {
            *o++ = hex[d];
            lead = false;
        }
    }
    *o++ = '"';
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        if (flags & bits[i].bit) {
            memcpy(o, bits[i].txt.s, bits[i].txt.n);
            o += bits[i].txt.n;
        }
    }
    return o;
}

/* Per-thread text of the last flags seen for queries and for responses (a flow's messages
 * mostly repeat the same flags). key is flags + 1, 0 when empty. */
static _Thread_local struct {
    uint32_t key;
    size_t n;
    char txt[DNS_FLAGS_TXT];
} tl_flags[2];

static void put_flags(struct vg_sbuf *s, const struct dns_msg *mg)
{
    uint16_t flags = mg->flags;
    size_t slot = flags >> 15;
    if (tl_flags[slot].key != (uint32_t)flags + 1) {
        tl_flags[slot].n = (size_t)(w_flags(tl_flags[slot].txt, flags) - tl_flags[slot].txt);
        tl_flags[slot].key = (uint32_t)flags + 1;
    }
    sb_add(s, tl_flags[slot].txt, tl_flags[slot].n);
}

/* ,"rcode":"NOERROR" (numeric text when unnamed). */
static void put_rcode(struct vg_sbuf *s, const struct dns_msg *mg)
{
    struct dns_txt rc = dns_rcode_name(mg->flags & 0xF);
    char *o = sb_room(s, 11 + U64_DIGITS);
    if (!o) {
        return;
    }
    memcpy(o, ",\"rcode\":\"", 10);
    o += 10;
    if (rc.s) {
        memcpy(o, rc.s, rc.n);
        o += rc.n;
    } else {
        o = vg_sensor_fmt_u64(o, mg->flags & 0xF);
    }
    *o++ = '"';
    sb_commit(s, o);
}

/* ,"answers":[…],"grouped":{…},"authorities":[…],"additionals":[…] (each when present). */
static void put_sections(struct vg_sbuf *s, const struct dns_msg *mg)
{
    if (mg->nan) {
        put_section(s, (struct dns_txt)TXT(",\"answers\":["), mg, mg->nq, mg->nan);
        put_grouped(s, mg);
    }
    put_section(s, (struct dns_txt)TXT(",\"authorities\":["), mg, mg->nq + mg->nan, mg->nns);
    put_section(s, (struct dns_txt)TXT(",\"additionals\":["), mg, mg->nq + mg->nan + mg->nns,
                mg->nar);
}

/* ,"dns":{…} for the parsed message (version 3: one record per message). */
static void dns_rec_write(struct vg_sbuf *s, const struct dns_msg *mg, bool is_request,
                          uint64_t tx_id)
{
    if (is_request) {
        ADD_LIT(s, ",\"dns\":{\"version\":3,\"type\":\"request\"");
    } else {
        ADD_LIT(s, ",\"dns\":{\"version\":3,\"type\":\"response\"");
    }
    put_kuint(s, "tx_id", tx_id);
    put_kuint(s, "id", mg->id);
    put_flags(s, mg);
    put_kuint(s, "opcode", (mg->flags >> 11) & 0xF);
    put_rcode(s, mg);
    if (mg->nq) {
        ADD_LIT(s, ",\"queries\":[");
        for (size_t i = 0; i < mg->nq; i++) {
            sb_add(s, i ? ",{\"rrname\":" : "{\"rrname\":", i ? 11 : 10);
            uint8_t f = put_name(s, mg, mg->rr[i].name_off, mg->n, NULL);
            ADD_LIT(s, ",\"rrtype\":");
            put_type(s, mg->rr[i].type);
            if (f & DNS_NF_TRUNC) {
                ADD_LIT(s, ",\"rrname_truncated\":true");
            }
            sb_addc(s, '}');
        }
        sb_addc(s, ']');
    }
    put_sections(s, mg);
    sb_addc(s, '}');
}

/* ,"rrname":"…"[,"rrname_truncated":true],"rrtype":"…" of question i (version 2). */
static void put_v2_question(struct vg_sbuf *s, const struct dns_msg *mg, size_t i)
{
    ADD_LIT(s, ",\"rrname\":");
    uint8_t f = put_name(s, mg, mg->rr[i].name_off, mg->n, NULL);
    if (f & DNS_NF_TRUNC) {
        ADD_LIT(s, ",\"rrname_truncated\":true");
    }
    ADD_LIT(s, ",\"rrtype\":");
    put_type(s, mg->rr[i].type);
}

/* Version 2 request: one "query" record per question. */
static void dns_rec_write_v2_query(struct vg_sbuf *s, const struct dns_msg *mg, size_t i,
                                   uint64_t tx_id)
{
    ADD_LIT(s, ",\"dns\":{\"version\":2,\"type\":\"query\"");
    put_kuint(s, "id", mg->id);
    put_v2_question(s, mg, i);
    put_kuint(s, "tx_id", tx_id);
    if (mg->flags & 0x0040) {
        ADD_LIT(s, ",\"z\":true");
    }
    put_kuint(s, "opcode", (mg->flags >> 11) & 0xF);
    sb_addc(s, '}');
}

/* Version 2 response: one "answer" record naming the first question. */
static void dns_rec_write_v2_answer(struct vg_sbuf *s, const struct dns_msg *mg)
{
    ADD_LIT(s, ",\"dns\":{\"version\":2,\"type\":\"answer\"");
    put_kuint(s, "id", mg->id);
    put_flags(s, mg);
    put_kuint(s, "opcode", (mg->flags >> 11) & 0xF);
    put_v2_question(s, mg, 0);
    put_rcode(s, mg);
    put_sections(s, mg);
    sb_addc(s, '}');
}

/*
 * The EVE DNS layout: 3 (Suricata 8's default), or 2 when SURICATA_EVE_DNS_VERSION=2 is set
 * in the environment, the variable Suricata 8 itself honours for its deprecated v2 layout
 * (per-query "query" records and one "answer" record, headers oriented client -> server).
 */
static int dns_log_version(void)
{
    static int version;
    if (!version) {
        const char *v = getenv("SURICATA_EVE_DNS_VERSION");
        version = v && v[0] == '2' && v[1] == '\0' ? 2 : 3;
    }
    return version;
}

/* The dns record(s) of one message. */
static void dns_log(struct vg_sensor_app_ctx *c, const struct dns_msg *mg, bool is_request,
                    uint64_t tx_id)
{
    if (!mg->nq) {
        return; /* Suricata logs a message only through its questions */
    }
    if (dns_log_version() == 3) {
        struct vg_sbuf *s = vg_sensor_rec_begin(c, "dns", VG_SENSOR_REC_PACKET, -1);
        dns_rec_write(s, mg, is_request, tx_id);
        vg_sensor_rec_end(c);
        return;
    }
    if (!is_request) {
        struct vg_sbuf *s = vg_sensor_rec_begin(c, "dns", VG_SENSOR_REC_FLOW, -1);
        dns_rec_write_v2_answer(s, mg);
        vg_sensor_rec_end(c);
        return;
    }
    for (size_t i = 0; i < mg->nq; i++) {
        struct vg_sbuf *s = vg_sensor_rec_begin(c, "dns", VG_SENSOR_REC_FLOW, -1);
        dns_rec_write_v2_query(s, mg, i, tx_id);
        vg_sensor_rec_end(c);
    }
}

/* ---------------------------------------------------------------- transactions */

/* `anomaly` record for one event of transaction tx_id. */
static void dns_anomaly(struct vg_sensor_app_ctx *c, const char *event, int64_t tx_id)
{
    struct vg_sbuf *s = vg_sensor_rec_begin(c, "anomaly", VG_SENSOR_REC_PACKET, tx_id);
    ADD_LIT(s, ",\"anomaly\":{\"app_proto\":\"dns\",\"type\":\"applayer\",\"event\":\"");
    vg_sbuf_adds(s, event);
    ADD_LIT(s, "\",\"layer\":\"proto_parser\"}");
    vg_sensor_rec_end(c);
}

/* Report every question to the detections (request: rcode -1). */
static void dns_note_queries(struct vg_sensor_app_ctx *c, const struct dns_msg *mg, bool is_request)
{
    int rcode = is_request ? -1 : (int)(mg->flags & 0xF);
    for (size_t i = 0; i < mg->nq; i++) {
        if (i < mg->nqn) {
            vg_sensor_note_dns(c, tl_qn[i].txt, tl_qn[i].len, mg->rr[i].type, rcode);
            continue;
        }
        char buf[DNS_NAME_BUF];
        size_t len = 0, nx;
        uint8_t f = 0;
        if (dns_name_parse(mg->p, mg->n, mg->rr[i].name_off, mg->n, buf, &len, &nx, &f) == 0) {
            vg_sensor_note_dns(c, buf, len, mg->rr[i].type, rcode);
        }
    }
}

/*
 * Handle one complete DNS message of c->dir. Returns 0 when handled (logged or ignored as
 * Suricata does), -1 when the message is not DNS or malformed (the caller decides: UDP
 * drops it, TCP stops).
 */
static int dns_msg_handle(struct vg_sensor_app_ctx *c, struct dns_state *st, const uint8_t *p,
                          size_t n, bool tcp)
{
    bool is_request = c->dir == VG_SENSOR_FLOW_TO_SERVER;
    if (!dns_header_valid(p, n)) {
        return tcp ? -1 : 0;
    }
    struct dns_msg mg;
    if (dns_msg_parse(&mg, p, n) < 0) {
        return -1; /* malformed_data */
    }
    if (is_request && (mg.flags & 0x8000)) {
        return -1; /* not_request: a response sent to the server is not a transaction */
    }
    uint64_t tx_id = st ? st->tx_next++ : 0;
    dns_log(c, &mg, is_request, tx_id);
    unsigned ev = dns_msg_events(&mg, is_request);
    for (unsigned i = 0; ev; i++, ev >>= 1) {
        if (ev & 1) {
            dns_anomaly(c, dns_event_names[i], (int64_t)tx_id);
        }
    }
    dns_note_queries(c, &mg, is_request);
    return 0;
}

/* A DNS message carried by another protocol (DoH): see sensor_dns.h. */
int vg_sensor_dns_log_message(struct vg_sensor_app_ctx *c, const uint8_t *p, size_t n,
                              bool is_request, int64_t tx_id, vg_sensor_dns_prefix_fn prefix,
                              void *arg)
{
    struct dns_msg mg;
    if (!p || !dns_header_valid(p, n) || dns_msg_parse(&mg, p, n) < 0 || !mg.nq) {
        return VG_EINVAL;
    }
    struct vg_sbuf *s = vg_sensor_rec_begin(c, "dns", VG_SENSOR_REC_FLOW, tx_id);
    if (prefix) {
        prefix(s, arg);
    }
    dns_rec_write(s, &mg, is_request, tx_id < 0 ? 0 : (uint64_t)tx_id);
    vg_sensor_rec_end(c);
    dns_note_queries(c, &mg, is_request);
    return VG_OK;
}

/* ---------------------------------------------------------------- probing */

/* Does m[0..n) parse as a DNS message of declared size dlen (n may be shorter: header only)? */
static bool dns_looks_like(const uint8_t *m, size_t n, size_t dlen)
{
    if (n < DNS_HDR_LEN || !dns_header_valid(m, dlen)) {
        return false;
    }
    if (n < dlen) {
        return true;
    }
    struct dns_msg mg;
    return dns_msg_parse(&mg, m, dlen) == 0;
}

/* UDP: the datagram is one whole, valid DNS message. */
static int dns_probe_udp(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    (void)dir;
    return dns_looks_like(p, n, n) ? 1 : 0;
}

/* TCP: a length prefix followed by a plausible message (-1 while the header is incomplete). */
static int dns_probe_tcp(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    (void)dir;
    if (n < 2 + DNS_HDR_LEN) {
        return -1;
    }
    return dns_looks_like(p + 2, n - 2, rd16(p)) ? 1 : 0;
}

/* ---------------------------------------------------------------- state */

static void *dns_state_new(void)
{
    return vg_calloc(1, sizeof(struct dns_state));
}

static void dns_state_free(void *p)
{
    struct dns_state *st = p;
    if (!st) {
        return;
    }
    vg_free(st->buf[0]);
    vg_free(st->buf[1]);
    vg_free(st);
}

/* ---------------------------------------------------------------- UDP */

static int dns_udp_data(struct vg_sensor_app_ctx *c, void *stp, const uint8_t *p, size_t n)
{
    (void)dns_msg_handle(c, stp, p, n, false);
    return VG_SENSOR_APP_OK;
}

/* ---------------------------------------------------------------- TCP */

/* Keep p[0..n) (a message start) for the next segment; false when memory fails. */
static bool dns_tcp_keep(struct dns_state *st, int d, const uint8_t *p, size_t n, size_t want)
{
    if (st->cap[d] < want) {
        uint8_t *nb = vg_malloc(DNS_TCP_MAX_MSG);
        if (!nb) {
            return false;
        }
        if (st->len[d]) {
            memcpy(nb, st->buf[d], st->len[d]);
        }
        vg_free(st->buf[d]);
        st->buf[d] = nb;
        st->cap[d] = DNS_TCP_MAX_MSG;
    }
    memcpy(st->buf[d] + st->len[d], p, n);
    st->len[d] += (uint32_t)n;
    return true;
}

/* Bytes the pending message of direction d still needs (0: it is complete). */
static size_t dns_tcp_need(const struct dns_state *st, int d)
{
    if (st->len[d] < 2) {
        return 2 - st->len[d];
    }
    size_t total = 2 + (size_t)rd16(st->buf[d]);
    return total - st->len[d];
}

/* Complete the pending message of d from p; returns bytes used or -1 on error. */
static long dns_tcp_fill(struct vg_sensor_app_ctx *c, struct dns_state *st, int d, const uint8_t *p,
                         size_t n)
{
    size_t used = 0;
    while (st->len[d] && used < n) {
        size_t need = dns_tcp_need(st, d);
        size_t take = need < n - used ? need : n - used;
        memcpy(st->buf[d] + st->len[d], p + used, take);
        st->len[d] += (uint32_t)take;
        used += take;
        if (dns_tcp_need(st, d) != 0) {
            break;
        }
        size_t mlen = rd16(st->buf[d]);
        st->len[d] = 0;
        if (mlen && dns_msg_handle(c, st, st->buf[d] + 2, mlen, true) < 0) {
            return -1;
        }
    }
    return (long)used;
}

static int dns_tcp_data(struct vg_sensor_app_ctx *c, void *stp, const uint8_t *p, size_t n)
{
    struct dns_state *st = stp;
    int d = c->dir == VG_SENSOR_FLOW_TO_CLIENT ? 1 : 0;
    if (!st) {
        return VG_SENSOR_APP_ERROR;
    }
    if (st->gap[d]) {
        if (dns_probe_tcp(p, n, c->dir) == 0) {
            return VG_SENSOR_APP_OK; /* still out of sync: skip until a message start */
        }
        st->gap[d] = false;
    }
    long used = dns_tcp_fill(c, st, d, p, n);
    if (used < 0) {
        return VG_SENSOR_APP_ERROR;
    }
    size_t i = (size_t)used;
    while (i < n) {
        if (n - i < 2) {
            return dns_tcp_keep(st, d, p + i, n - i, 2) ? VG_SENSOR_APP_OK : VG_SENSOR_APP_ERROR;
        }
        size_t mlen = rd16(p + i);
        if (mlen == 0) {
            i += 2;
            continue;
        }
        if (n - i < mlen + 2) {
            return dns_tcp_keep(st, d, p + i, n - i, mlen + 2) ? VG_SENSOR_APP_OK
                                                               : VG_SENSOR_APP_ERROR;
        }
        if (dns_msg_handle(c, st, p + i + 2, mlen, true) < 0) {
            return VG_SENSOR_APP_ERROR;
        }
        i += mlen + 2;
    }
    return VG_SENSOR_APP_OK;
}

/* A hole in direction c->dir: drop the partial message and resync on the next start. */
static void dns_tcp_gap(struct vg_sensor_app_ctx *c, void *stp, size_t n)
{
    struct dns_state *st = stp;
    int d = c->dir == VG_SENSOR_FLOW_TO_CLIENT ? 1 : 0;
    if (st && n) {
        st->gap[d] = true;
        st->len[d] = 0;
    }
}

/* ---------------------------------------------------------------- registration */

const struct vg_sensor_app_proto vg_sensor_proto_dns_udp = {
    .name = "dns",
    .ipproto = 17,
    .ports = {53, 0},
    .probe = dns_probe_udp,
    .state_new = dns_state_new,
    .state_free = dns_state_free,
    .data = dns_udp_data,
};

const struct vg_sensor_app_proto vg_sensor_proto_dns_tcp = {
    .name = "dns",
    .ipproto = 6,
    .ports = {53, 0},
    .probe = dns_probe_tcp,
    .state_new = dns_state_new,
    .state_free = dns_state_free,
    .data = dns_tcp_data,
    .gap = dns_tcp_gap,
};
