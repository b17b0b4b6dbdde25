/*
 * store_block.c — the block codec: many events serialised into one payload that the
 * append path compresses with zstd and the scan path decodes back into vg_events.
 *
 * The payload keeps similar bytes together (event headers, field descriptors, values, raw
 * records each in their own section) because zstd compresses long runs of alike data far
 * better than interleaved rows; values that are slices of the raw record (what zero-copy
 * decoders produce) are stored as (offset, length) references so no text is kept twice.
 * Each event header carries the sizes of its field descriptors and values, so a search
 * that needs a handful of events of a block finds them from the headers alone and decodes
 * only those. The reader treats the payload as untrusted — a damaged file must not crash a
 * search — and bounds every read.
 */
#include "store/store_int.h"

#include <string.h>

#define BLOCK_MAGIC   "VGB2"
#define TYPE_MASK     0x0f
#define TYPE_REF      0x10
#define NAME_MAX_LEN  4096
#define MAX_FIELDS_EV 65536

/* ---------------------------------------------------------------- varints */

/* Written in place: this runs several times per field of every stored event. */
static void put_uv(struct vg_sbuf *s, uint64_t v)
{
    if (VG_UNLIKELY(s->cap - s->len < 11) && vg_sbuf_reserve(s, 11) != VG_OK) {
        return; /* s->err is set */
    }
    uint8_t *b = (uint8_t *)s->p + s->len;
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    s->len += n;
    s->p[s->len] = '\0';
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* LEB128 from p[*off..end); false past the end or beyond 64 bits. */
static inline bool get_uv(const uint8_t *p, size_t *off, size_t end, uint64_t *out)
{
    size_t i = *off;
    if (i < end && p[i] < 0x80) { /* the common one-byte case */
        *out = p[i];
        *off = i + 1;
        return true;
    }
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && i < end; shift += 7) {
        uint8_t c = p[i++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = v;
            *off = i;
            return true;
        }
    }
    return false;
}

static inline bool get_u32(const uint8_t *p, size_t *off, size_t end, uint32_t max, uint32_t *out)
{
    uint64_t v;
    if (!get_uv(p, off, end, &v) || v > max) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* ---------------------------------------------------------------- building */

void vg_store_block_init(struct vg_store_block_builder *b)
{
    memset(b, 0, sizeof(*b));
}

void vg_store_block_fini(struct vg_store_block_builder *b)
{
    vg_sbuf_fini(&b->names);
    vg_sbuf_fini(&b->meta);
    vg_sbuf_fini(&b->fields);
    vg_sbuf_fini(&b->values);
    vg_sbuf_fini(&b->raws);
    vg_sbuf_fini(&b->out);
    vg_free(b->name_idx);
    memset(b, 0, sizeof(*b));
}

void vg_store_block_reset(struct vg_store_block_builder *b)
{
    vg_sbuf_reset(&b->names);
    vg_sbuf_reset(&b->meta);
    vg_sbuf_reset(&b->fields);
    vg_sbuf_reset(&b->values);
    vg_sbuf_reset(&b->raws);
    vg_sbuf_reset(&b->out);
    if (b->name_idx) {
        memset(b->name_idx, 0, b->name_cap * sizeof(*b->name_idx));
    }
    b->nnames = 0;
    b->n = 0;
    b->raw_bytes = 0;
}

/* The block-local index of a field name, adding the name on first use. */
static int name_index(struct vg_store_block_builder *b, uint32_t id, uint32_t *out)
{
    if (id >= b->name_cap) {
        size_t old = b->name_cap;
        if (vg_grow(&b->name_idx, &b->name_cap, (size_t)id + 1, sizeof(*b->name_idx)) != VG_OK) {
            return VG_ENOMEM;
        }
        memset(b->name_idx + old, 0, (b->name_cap - old) * sizeof(*b->name_idx));
    }
    if (!b->name_idx[id]) {
        size_t nl;
        const char *name = vg_field_name(id, &nl);
        put_uv(&b->names, nl);
        vg_sbuf_add(&b->names, name, nl);
        b->name_idx[id] = ++b->nnames;
    }
    *out = b->name_idx[id] - 1;
    return VG_OK;
}

static void add_value(struct vg_store_block_builder *b, const struct vg_event *ev,
                      const struct vg_value *v)
{
    const char *raw = ev->raw;
    bool ref = raw && v->len && v->str >= raw && v->str + v->len <= raw + ev->raw_len;
    vg_sbuf_addc(&b->fields, (char)((v->type & TYPE_MASK) | (ref ? TYPE_REF : 0)));
    if (ref) {
        put_uv(&b->fields, (uint64_t)(v->str - raw));
        put_uv(&b->fields, v->len);
    } else {
        put_uv(&b->fields, v->len);
        vg_sbuf_add(&b->values, v->str, v->len);
    }
}

int vg_store_block_add(struct vg_store_block_builder *b, const struct vg_event *ev, vg_time_t ts)
{
    if (b->n == 0) {
        b->t_min = b->t_max = b->t_first = ts;
    }
    b->t_min = VG_MIN(b->t_min, ts);
    b->t_max = VG_MAX(b->t_max, ts);
    size_t raw_len = ev->raw ? ev->raw_len : 0;
    size_t f0 = b->fields.len, v0 = b->values.len;
    for (uint32_t i = 0; i < ev->n; i++) {
        uint32_t idx;
        if (name_index(b, ev->fields[i].id, &idx) != VG_OK) {
            return VG_ENOMEM;
        }
        put_uv(&b->fields, idx);
        add_value(b, ev, &ev->fields[i].v);
    }
    /* ts relative to the block's first event: neighbours are close in time */
    put_uv(&b->meta, zigzag(ts - b->t_first));
    put_uv(&b->meta, (uint64_t)ev->kind);
    put_uv(&b->meta, ev->n);
    put_uv(&b->meta, b->fields.len - f0);
    put_uv(&b->meta, b->values.len - v0);
    put_uv(&b->meta, raw_len);
    if (raw_len) {
        vg_sbuf_add(&b->raws, ev->raw, raw_len);
    }
    b->raw_bytes += raw_len;
    b->n++;
    int err = b->meta.err | b->fields.err | b->values.err | b->raws.err | b->names.err;
    return err ? VG_ENOMEM : VG_OK;
}

/* Append section s (which may be empty, with no buffer at all). */
static void section_add(struct vg_sbuf *o, const struct vg_sbuf *s)
{
    if (s->len) {
        vg_sbuf_add(o, s->p, s->len);
    }
}

int vg_store_block_finish(struct vg_store_block_builder *b)
{
    struct vg_sbuf *o = &b->out;
    vg_sbuf_reset(o);
    vg_sbuf_add(o, BLOCK_MAGIC, 4);
    put_uv(o, zigzag(b->t_first));
    put_uv(o, b->n);
    put_uv(o, b->nnames);
    section_add(o, &b->names);
    put_uv(o, b->meta.len);
    put_uv(o, b->fields.len);
    put_uv(o, b->values.len);
    put_uv(o, b->raws.len);
    section_add(o, &b->meta);
    section_add(o, &b->fields);
    section_add(o, &b->values);
    section_add(o, &b->raws);
    return o->err ? VG_ENOMEM : VG_OK;
}

/* ---------------------------------------------------------------- reading */

static int read_names(struct vg_store_block_reader *r, const uint8_t *p, size_t *off, size_t end)
{
    if (!get_u32(p, off, end, 1u << 20, &r->nnames) || r->nnames > end - *off) {
        return VG_EINVAL;
    }
    r->ids = vg_malloc(((size_t)r->nnames + 1) * sizeof(*r->ids));
    if (!r->ids) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < r->nnames; i++) {
        uint32_t nl;
        if (!get_u32(p, off, end, NAME_MAX_LEN, &nl) || nl > end - *off) {
            return VG_EINVAL;
        }
        r->ids[i] = vg_field_intern((const char *)p + *off, nl);
        *off += nl;
        if (r->ids[i] == VG_FIELD_NONE) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

int vg_store_block_open(struct vg_store_block_reader *r, const void *data, size_t len)
{
    const uint8_t *p = data;
    size_t off = 4;
    uint64_t base = 0, l[4] = {0};
    memset(r, 0, sizeof(*r));
    if (len < 4 || memcmp(p, BLOCK_MAGIC, 4) != 0 || !get_uv(p, &off, len, &base) ||
        !get_u32(p, &off, len, 1u << 24, &r->n)) {
        return VG_EINVAL;
    }
    r->base = unzigzag(base);
    int rc = read_names(r, p, &off, len);
    if (rc != VG_OK) {
        return rc;
    }
    for (int i = 0; i < 4; i++) {
        if (!get_uv(p, &off, len, &l[i])) {
            return VG_EINVAL;
        }
    }
    if (l[0] > len - off || l[1] > len - off - l[0] || l[2] > len - off - l[0] - l[1] ||
        l[3] > len - off - l[0] - l[1] - l[2]) {
        return VG_EINVAL;
    }
    r->meta = p + off;
    r->meta_len = (size_t)l[0];
    r->fields = r->meta + l[0];
    r->fields_len = (size_t)l[1];
    r->values = r->fields + l[1];
    r->values_len = (size_t)l[2];
    r->raws = r->values + l[2];
    r->raws_len = (size_t)l[3];
    return VG_OK;
}

void vg_store_block_close(struct vg_store_block_reader *r)
{
    vg_free(r->ids);
    r->ids = NULL;
}

int vg_store_block_index(struct vg_store_block_reader *r, struct vg_store_block_pos *pos)
{
    size_t off = 0, foff = 0, voff = 0, roff = 0;
    for (uint32_t i = 0; i < r->n; i++) {
        uint64_t dts, kind;
        uint32_t nf, fl, vl, rl;
        if (!get_uv(r->meta, &off, r->meta_len, &dts) ||
            !get_uv(r->meta, &off, r->meta_len, &kind) ||
            !get_u32(r->meta, &off, r->meta_len, MAX_FIELDS_EV, &nf) ||
            !get_u32(r->meta, &off, r->meta_len, UINT32_MAX, &fl) ||
            !get_u32(r->meta, &off, r->meta_len, UINT32_MAX, &vl) ||
            !get_u32(r->meta, &off, r->meta_len, UINT32_MAX, &rl) || fl > r->fields_len - foff ||
            vl > r->values_len - voff || rl > r->raws_len - roff) {
            return VG_EINVAL;
        }
        pos[i] = (struct vg_store_block_pos){
            .ts = (vg_time_t)((uint64_t)r->base + (uint64_t)unzigzag(dts)),
            .kind = (uint8_t)(kind <= VG_EK_WEB ? kind : VG_EK_GENERIC),
            .nfields = nf,
            .fields = foff,
            .flen = fl,
            .voff = voff,
            .vlen = vl,
            .roff = roff,
            .rlen = rl};
        foff += fl;
        voff += vl;
        roff += rl;
    }
    return VG_OK;
}

/* Give a stored value its typed view back (the text is the source of truth). */
static void value_retype(struct vg_value *v, uint8_t type)
{
    switch (type) {
    case VG_V_INT:
        if (vg_parse_i64(v->str, v->len, &v->num.i) == VG_OK) {
            v->type = VG_V_INT;
            v->fold = v->str;
            v->folded = 1;
        }
        break;
    case VG_V_DOUBLE:
        if (vg_parse_double(v->str, v->len, &v->num.d) == VG_OK) {
            v->type = VG_V_DOUBLE;
        }
        break;
    case VG_V_BOOL:
        v->type = VG_V_BOOL;
        v->num.b = v->len == 4 && memcmp(v->str, "true", 4) == 0;
        break;
    case VG_V_TIME:
        if (vg_store_time_parse(v->str, v->len, &v->num.t) == VG_OK) {
            v->type = VG_V_TIME;
        }
        break;
    case VG_V_NULL:
        v->type = VG_V_NULL;
        v->str = "";
        v->len = 0;
        break;
    case VG_V_IP:
        v->type = VG_V_IP;
        break;
    default:
        break;
    }
}

int vg_store_block_event(struct vg_store_block_reader *r, const struct vg_store_block_pos *e,
                         struct vg_event *ev)
{
    const uint8_t *f = r->fields + e->fields;
    const char *raw = (const char *)r->raws + e->roff;
    const char *vals = (const char *)r->values + e->voff;
    size_t off = 0, voff = 0;
    vg_event_reset(ev);
    ev->ts = e->ts;
    ev->kind = (enum vg_event_kind)e->kind;
    ev->raw = e->rlen ? raw : NULL;
    ev->raw_len = e->rlen;
    for (uint32_t i = 0; i < e->nfields; i++) {
        uint32_t idx, a, len;
        struct vg_value v = {.type = VG_V_STR};
        if (!r->nnames || !get_u32(f, &off, e->flen, r->nnames - 1, &idx) || off >= e->flen) {
            return VG_EINVAL;
        }
        uint8_t t = f[off++];
        if (!get_u32(f, &off, e->flen, UINT32_MAX, &a)) {
            return VG_EINVAL;
        }
        if (t & TYPE_REF) {
            if (!get_u32(f, &off, e->flen, UINT32_MAX, &len) || a > e->rlen || len > e->rlen - a) {
                return VG_EINVAL;
            }
            v.str = raw + a;
        } else {
            len = a;
            if (len > e->vlen - voff) {
                return VG_EINVAL;
            }
            v.str = vals + voff;
            voff += len;
        }
        v.len = len;
        value_retype(&v, t & TYPE_MASK);
        int rc = vg_event_add(ev, r->ids[idx], &v);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}
