/*
 * sensor_hpack.c — HPACK (RFC 7541) decoding for the sensor's HTTP/2 parser (issue 6): prefix
 * integers, the static table, a bounded dynamic table and canonical Huffman decoding. See
 * sensor_hpack.h for the contract.
 *
 * The Huffman code of RFC 7541 Appendix B is canonical: codes of one length are consecutive
 * and ordered by symbol, and each length's first code follows the previous length's last. So
 * the table is kept as the symbols sorted by (code length, symbol) plus the count of each
 * length, and decoding walks lengths the way a canonical decoder does (no 257-entry code
 * table to get wrong). The unit test checks the counts against the Kraft equality and the
 * RFC's Appendix C examples.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_hpack.h"

/* ------------------------------------------------------------------ static table */

struct hpack_static {
    const char *name;
    const char *value;
};

/* RFC 7541 Appendix A, index 1..61. */
static const struct hpack_static static_table[] = {
    {":authority", ""},
    {":method", "GET"},
    {":method", "POST"},
    {":path", "/"},
    {":path", "/index.html"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "200"},
    {":status", "204"},
    {":status", "206"},
    {":status", "304"},
    {":status", "400"},
    {":status", "404"},
    {":status", "500"},
    {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"},
    {"accept-language", ""},
    {"accept-ranges", ""},
    {"accept", ""},
    {"access-control-allow-origin", ""},
    {"age", ""},
    {"allow", ""},
    {"authorization", ""},
    {"cache-control", ""},
    {"content-disposition", ""},
    {"content-encoding", ""},
    {"content-language", ""},
    {"content-length", ""},
    {"content-location", ""},
    {"content-range", ""},
    {"content-type", ""},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"expect", ""},
    {"expires", ""},
    {"from", ""},
    {"host", ""},
    {"if-match", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"if-range", ""},
    {"if-unmodified-since", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"max-forwards", ""},
    {"proxy-authenticate", ""},
    {"proxy-authorization", ""},
    {"range", ""},
    {"referer", ""},
    {"refresh", ""},
    {"retry-after", ""},
    {"server", ""},
    {"set-cookie", ""},
    {"strict-transport-security", ""},
    {"transfer-encoding", ""},
    {"user-agent", ""},
    {"vary", ""},
    {"via", ""},
    {"www-authenticate", ""},
};
#define STATIC_COUNT ((uint32_t)VG_ARRAY_LEN(static_table))

/* ------------------------------------------------------------------ Huffman (Appendix B) */

#define HUFF_MAX_BITS 30
#define HUFF_EOS      256

/* Number of codes of each length 0..30. */
static const uint16_t huff_count[HUFF_MAX_BITS + 1] = {
    0, 0, 0, 0, 0, 10, 26, 32, 6,  0, 5,  3,  2,  6, 2, 3,
    0, 0, 0, 3, 8, 13, 26, 29, 12, 4, 15, 19, 29, 0, 4,
};

/* Symbols in canonical order: by code length, then by symbol value. */
static const uint16_t huff_sym[257] = {
    /* 5 bits */
    '0',
    '1',
    '2',
    'a',
    'c',
    'e',
    'i',
    'o',
    's',
    't',
    /* 6 bits */
    ' ',
    '%',
    '-',
    '.',
    '/',
    '3',
    '4',
    '5',
    '6',
    '7',
    '8',
    '9',
    '=',
    'A',
    '_',
    'b',
    'd',
    'f',
    'g',
    'h',
    'l',
    'm',
    'n',
    'p',
    'r',
    'u',
    /* 7 bits */
    ':',
    'B',
    'C',
    'D',
    'E',
    'F',
    'G',
    'H',
    'I',
    'J',
    'K',
    'L',
    'M',
    'N',
    'O',
    'P',
    'Q',
    'R',
    'S',
    'T',
    'U',
    'V',
    'W',
    'Y',
    'j',
    'k',
    'q',
    'v',
    'w',
    'x',
    'y',
    'z',
    /* 8 bits */
    '&',
    '*',
    ',',
    ';',
    'X',
    'Z',
    /* 10 bits */
    '!',
    '"',
    '(',
    ')',
    '?',
    /* 11 bits */
    '\'',
    '+',
    '|',
    /* 12 bits */
    '#',
    '>',
    /* 13 bits */
    0,
    '$',
    '@',
    '[',
    ']',
    '~',
    /* 14 bits */
    '^',
    '}',
    /* 15 bits */
    '<',
    '`',
    '{',
    /* 19 bits */
    '\\',
    195,
    208,
    /* 20 bits */
    128,
    130,
    131,
    162,
    184,
    194,
    224,
    226,
    /* 21 bits */
    153,
    161,
    167,
    172,
    176,
    177,
    179,
    209,
    216,
    217,
    227,
    229,
    230,
    /* 22 bits */
    129,
    132,
    133,
    134,
    136,
    146,
    154,
    156,
    160,
    163,
    164,
    169,
    170,
    173,
    178,
    181,
    185,
    186,
    187,
    189,
    190,
    196,
    198,
    228,
    232,
    233,
    /* 23 bits */
    1,
    135,
    137,
    138,
    139,
    140,
    141,
    143,
    147,
    149,
    150,
    151,
    152,
    155,
    157,
    158,
    165,
    166,
    168,
    174,
    175,
    180,
    182,
    183,
    188,
    191,
    197,
    231,
    239,
    /* 24 bits */
    9,
    142,
    144,
    145,
    148,
    159,
    171,
    206,
    215,
    225,
    236,
    237,
    /* 25 bits */
    199,
    207,
    234,
    235,
    /* 26 bits */
    192,
    193,
    200,
    201,
    202,
    205,
    210,
    213,
    218,
    219,
    238,
    240,
    242,
    243,
    255,
    /* 27 bits */
    203,
    204,
    211,
    212,
    214,
    221,
    222,
    223,
    241,
    244,
    245,
    246,
    247,
    248,
    250,
    251,
    252,
    253,
    254,
    /* 28 bits */
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    11,
    12,
    14,
    15,
    16,
    17,
    18,
    19,
    20,
    21,
    23,
    24,
    25,
    26,
    27,
    28,
    29,
    30,
    31,
    127,
    220,
    249,
    /* 30 bits */
    10,
    13,
    22,
    HUFF_EOS,
};

long vg_sensor_hpack_huffman_decode(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    size_t o = 0;
    uint32_t code = 0, first = 0, index = 0;
    int len = 0;
    bool ones = true; /* every bit of the symbol in progress is 1 (EOS prefix) */
    for (size_t i = 0; i < n; i++) {
        for (int b = 7; b >= 0; b--) {
            uint32_t bit = (p[i] >> b) & 1u;
            code |= bit;
            ones = ones && bit;
            len++;
            uint32_t cnt = huff_count[len];
            if (code - first < cnt) {
                uint16_t sym = huff_sym[index + code - first];
                if (sym == HUFF_EOS) {
                    return VG_SENSOR_HPACK_E_HUFFMAN;
                }
                if (o >= cap) {
                    return VG_SENSOR_HPACK_E_TOO_LONG;
                }
                out[o++] = (uint8_t)sym;
                code = first = index = 0;
                len = 0;
                ones = true;
                continue;
            }
            if (len >= HUFF_MAX_BITS) {
                return VG_SENSOR_HPACK_E_HUFFMAN;
            }
            index += cnt;
            first = (first + cnt) << 1;
            code <<= 1;
        }
    }
    /* Padding: fewer than 8 bits, all ones (a prefix of EOS). */
    if (len > 7 || !ones) {
        return VG_SENSOR_HPACK_E_HUFFMAN;
    }
    return (long)o;
}

/* ------------------------------------------------------------------ integers and strings */

int vg_sensor_hpack_int(const uint8_t *p, size_t n, size_t *pos, int prefix, uint32_t *out)
{
    size_t i = *pos;
    if (i >= n) {
        return VG_SENSOR_HPACK_E_TRUNCATED;
    }
    uint32_t mask = (1u << prefix) - 1u;
    uint64_t v = p[i++] & mask;
    if (v == mask) {
        unsigned shift = 0;
        for (;;) {
            if (i >= n) {
                return VG_SENSOR_HPACK_E_TRUNCATED;
            }
            uint8_t b = p[i++];
            if (shift > 28) {
                return VG_SENSOR_HPACK_E_INTEGER;
            }
            v += (uint64_t)(b & 0x7f) << shift;
            if (v > UINT32_MAX) {
                return VG_SENSOR_HPACK_E_INTEGER;
            }
            shift += 7;
            if (!(b & 0x80)) {
                break;
            }
        }
    }
    *pos = i;
    *out = (uint32_t)v;
    return 0;
}

/*
 * A string literal at p[*pos..n) into out[0..cap) (Huffman-decoded when flagged), or, when
 * plain, pointed to in place. Sets *s and *slen.
 */
static int hpack_string(const uint8_t *p, size_t n, size_t *pos, uint8_t *out, size_t cap,
                        const uint8_t **s, size_t *slen)
{
    if (*pos >= n) {
        return VG_SENSOR_HPACK_E_TRUNCATED;
    }
    bool huff = (p[*pos] & 0x80) != 0;
    uint32_t len;
    int r = vg_sensor_hpack_int(p, n, pos, 7, &len);
    if (r != 0) {
        return r;
    }
    if (len > n - *pos) {
        return VG_SENSOR_HPACK_E_TRUNCATED;
    }
    const uint8_t *src = p + *pos;
    *pos += len;
    if (!huff) {
        *s = src;
        *slen = len;
        return 0;
    }
    long k = vg_sensor_hpack_huffman_decode(src, len, out, cap);
    if (k < 0) {
        return (int)k;
    }
    *s = out;
    *slen = (size_t)k;
    return 0;
}

/* ------------------------------------------------------------------ dynamic table */

void vg_sensor_hpack_init(struct vg_sensor_hpack *h)
{
    memset(h, 0, sizeof(*h));
    h->max_size = VG_SENSOR_HPACK_TABLE_DEFAULT;
    h->limit = VG_SENSOR_HPACK_TABLE_DEFAULT;
    h->next_name_id = 1;
}

void vg_sensor_hpack_fini(struct vg_sensor_hpack *h)
{
    vg_free(h->data);
    vg_free(h->ent);
    h->data = NULL;
    h->ent = NULL;
}

void vg_sensor_hpack_set_limit(struct vg_sensor_hpack *h, uint32_t limit)
{
    h->limit = VG_MIN(limit, VG_SENSOR_HPACK_TABLE_MAX);
}

/* Entry i of the dynamic table, 1 = newest. */
static const struct vg_sensor_hpack_ent *dyn_get(const struct vg_sensor_hpack *h, uint32_t i)
{
    uint32_t k = (h->ent_first + h->ent_count - i) & (h->ent_cap - 1);
    return &h->ent[k];
}

static void dyn_evict_one(struct vg_sensor_hpack *h)
{
    const struct vg_sensor_hpack_ent *e = &h->ent[h->ent_first];
    h->size -= e->nlen + e->vlen + 32;
    h->ent_first = (h->ent_first + 1) & (h->ent_cap - 1);
    h->ent_count--;
    h->evictions++;
    if (h->ent_count == 0) {
        h->head = h->tail = 0;
    } else {
        h->head = h->ent[h->ent_first].off;
    }
}

static void dyn_evict_to(struct vg_sensor_hpack *h, uint32_t size)
{
    while (h->ent_count > 0 && h->size > size) {
        dyn_evict_one(h);
    }
}

/* Room for one more entry in the ring (power-of-two capacity). */
static int dyn_ring_room(struct vg_sensor_hpack *h)
{
    if (h->ent_count < h->ent_cap) {
        return 0;
    }
    uint32_t ncap = h->ent_cap ? h->ent_cap * 2 : 16;
    struct vg_sensor_hpack_ent *ne = vg_malloc(ncap * sizeof(*ne));
    if (!ne) {
        return VG_SENSOR_HPACK_E_NOMEM;
    }
    for (uint32_t i = 0; i < h->ent_count; i++) {
        ne[i] = h->ent[(h->ent_first + i) & (h->ent_cap - 1)];
    }
    vg_free(h->ent);
    h->ent = ne;
    h->ent_cap = ncap;
    h->ent_first = 0;
    return 0;
}

/* Room for need more bytes at tail: compact, then grow (never past the hard bound). */
static int dyn_data_room(struct vg_sensor_hpack *h, uint32_t need)
{
    if (h->data_cap - h->tail >= need) {
        return 0;
    }
    if (h->head > 0) {
        uint32_t live = h->tail - h->head;
        memmove(h->data, h->data + h->head, live);
        for (uint32_t i = 0; i < h->ent_count; i++) {
            h->ent[(h->ent_first + i) & (h->ent_cap - 1)].off -= h->head;
        }
        h->head = 0;
        h->tail = live;
        if (h->data_cap - h->tail >= need) {
            return 0;
        }
    }
    uint32_t ncap = h->data_cap ? h->data_cap : 1024;
    while (ncap - h->tail < need) {
        ncap *= 2;
    }
    ncap = VG_MIN(ncap, VG_SENSOR_HPACK_TABLE_MAX);
    if (ncap - h->tail < need) {
        return VG_SENSOR_HPACK_E_NOMEM; /* cannot happen: live bytes <= max_size <= bound */
    }
    uint8_t *nd = vg_realloc(h->data, ncap);
    if (!nd) {
        return VG_SENSOR_HPACK_E_NOMEM;
    }
    h->data = nd;
    h->data_cap = ncap;
    return 0;
}

/*
 * Add (name, value) as the newest entry (RFC 7541 4.4). The name must not point into the
 * table (eviction may move it): callers copy dynamic names to scratch first.
 */
static int dyn_insert(struct vg_sensor_hpack *h, const uint8_t *name, size_t nlen,
                      const uint8_t *value, size_t vlen, uint32_t name_id)
{
    uint64_t esize = (uint64_t)nlen + vlen + 32;
    if (esize > h->max_size) {
        dyn_evict_to(h, 0); /* an entry larger than the table empties it */
        return 0;
    }
    dyn_evict_to(h, h->max_size - (uint32_t)esize);
    int r = dyn_ring_room(h);
    if (r == 0) {
        r = dyn_data_room(h, (uint32_t)(nlen + vlen) + 1); /* + 1: data is never NULL */
    }
    if (r != 0) {
        return r;
    }
    struct vg_sensor_hpack_ent *e = &h->ent[(h->ent_first + h->ent_count) & (h->ent_cap - 1)];
    e->off = h->tail;
    e->nlen = (uint32_t)nlen;
    e->vlen = (uint32_t)vlen;
    e->name_id = name_id;
    memcpy(h->data + h->tail, name, nlen);
    memcpy(h->data + h->tail + nlen, value, vlen);
    h->tail += (uint32_t)(nlen + vlen);
    h->ent_count++;
    h->size += (uint32_t)esize;
    return 0;
}

/* Resolve index idx (1-based, static then dynamic) into f's name (and value when want_value). */
static int hpack_lookup(struct vg_sensor_hpack *h, uint32_t idx, bool want_value,
                        struct vg_sensor_hpack_field *f)
{
    if (idx == 0) {
        return VG_SENSOR_HPACK_E_INDEX;
    }
    if (idx <= STATIC_COUNT) {
        const struct hpack_static *s = &static_table[idx - 1];
        f->name = (const uint8_t *)s->name;
        f->nlen = strlen(s->name);
        if (want_value) {
            f->value = (const uint8_t *)s->value;
            f->vlen = strlen(s->value);
        }
        f->name_id = h->next_name_id++;
        f->from_dynamic = 0;
        return 0;
    }
    uint32_t di = idx - STATIC_COUNT;
    if (di > h->ent_count) {
        return VG_SENSOR_HPACK_E_INDEX;
    }
    const struct vg_sensor_hpack_ent *e = dyn_get(h, di);
    f->name = h->data + e->off;
    f->nlen = e->nlen;
    if (want_value) {
        f->value = h->data + e->off + e->nlen;
        f->vlen = e->vlen;
    }
    f->name_id = e->name_id;
    f->from_dynamic = 1;
    return 0;
}

/* ------------------------------------------------------------------ block decoding */

struct hpack_run {
    struct vg_sensor_hpack *h;
    const uint8_t *p;
    size_t n, pos;
    uint8_t *scratch;
    size_t cap;
    vg_sensor_hpack_emit_fn emit;
    void *ctx;
};

static int run_indexed(struct hpack_run *r)
{
    uint32_t idx;
    int e = vg_sensor_hpack_int(r->p, r->n, &r->pos, 7, &idx);
    struct vg_sensor_hpack_field f = {0};
    if (e == 0) {
        e = hpack_lookup(r->h, idx, true, &f);
    }
    if (e == 0) {
        r->emit(r->ctx, &f);
    }
    return e;
}

/* Literal field; prefix 6 (incremental indexing) or 4 (without / never indexed). */
static int run_literal(struct hpack_run *r, int prefix, bool index)
{
    uint32_t idx;
    int e = vg_sensor_hpack_int(r->p, r->n, &r->pos, prefix, &idx);
    if (e != 0) {
        return e;
    }
    struct vg_sensor_hpack_field f = {0};
    size_t used = 0;
    if (idx == 0) {
        e = hpack_string(r->p, r->n, &r->pos, r->scratch, r->cap, &f.name, &f.nlen);
        used = f.name == r->scratch ? f.nlen : 0;
        f.name_id = r->h->next_name_id++;
    } else {
        e = hpack_lookup(r->h, idx, false, &f);
        if (e == 0 && f.from_dynamic && index) {
            if (f.nlen > r->cap) {
                return VG_SENSOR_HPACK_E_TOO_LONG;
            }
            memcpy(r->scratch, f.name, f.nlen); /* eviction may move the table's copy */
            f.name = r->scratch;
            used = f.nlen;
        }
    }
    if (e == 0) {
        e = hpack_string(r->p, r->n, &r->pos, r->scratch + used, r->cap - used, &f.value, &f.vlen);
    }
    if (e != 0) {
        return e;
    }
    r->emit(r->ctx, &f);
    return index ? dyn_insert(r->h, f.name, f.nlen, f.value, f.vlen, f.name_id) : 0;
}

static int run_size_update(struct hpack_run *r)
{
    uint32_t sz;
    int e = vg_sensor_hpack_int(r->p, r->n, &r->pos, 5, &sz);
    if (e != 0) {
        return e;
    }
    if (sz > r->h->limit) {
        return VG_SENSOR_HPACK_E_SIZE;
    }
    r->h->max_size = sz;
    dyn_evict_to(r->h, sz);
    struct vg_sensor_hpack_field f = {0};
    f.size_update = 1;
    f.size = sz;
    r->emit(r->ctx, &f);
    return 0;
}

int vg_sensor_hpack_decode(struct vg_sensor_hpack *h, const uint8_t *p, size_t n, uint8_t *scratch,
                           size_t scratch_cap, vg_sensor_hpack_emit_fn emit, void *ctx)
{
    struct hpack_run r = {h, p, n, 0, scratch, scratch_cap, emit, ctx};
    while (r.pos < n) {
        uint8_t b = p[r.pos];
        int e;
        if (b & 0x80) {
            e = run_indexed(&r);
        } else if (b & 0x40) {
            e = run_literal(&r, 6, true);
        } else if (b & 0x20) {
            e = run_size_update(&r);
        } else {
            e = run_literal(&r, 4, false);
        }
        if (e != 0) {
            return e;
        }
    }
    return 0;
}
