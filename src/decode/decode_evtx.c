/*
 * decode_evtx.c — native reader for Windows XML Event Log files (EVTX), the first stage of
 * the Windows pipeline: file image → chunks → records → BinXML → one struct vg_event per
 * record, with the field names of decode.h (so a Sigma rule matches the EVTX record and its
 * JSON rendering alike).
 *
 * Layout: a 4 KiB file header ("ElfFile\0"), then 64 KiB chunks ("ElfChnk\0"), each with a
 * 512-byte header (checksums, a string-table and a template-table hash index) followed by
 * records ("\x2a\x2a\0\0", size, id, FILETIME, BinXML, size again). Element and attribute
 * names live once per chunk and are referenced by chunk offset; templates too. A record is
 * usually one TemplateInstance: a reference to a template (defined inline on first use)
 * plus an array of typed substitution values, one of which is often itself BinXML (the
 * EventData of the event, as a nested template instance).
 *
 * How it is fast: BinXML is compiled once per template into a flat array of operations
 * (names already converted to UTF-8 and interned lazily, literals converted), cached per
 * chunk by template offset; a record then costs one walk over those operations with its
 * substitution values, rendering values straight into the event arena. Nothing is
 * malloc'd per record once the reader's arenas and vectors have warmed up.
 *
 * How it is safe: every byte is read through struct vg_rbuf or after an explicit bounds
 * check against the chunk; recursion (templates in values in templates), element depth,
 * work, fields and output bytes are bounded per record (decode_evtx_int.h). A damaged
 * record is reported and skipped; a damaged chunk checksum is counted but still parsed.
 *
 * Thread-safety: one reader per thread; readers share nothing but the field registry.
 */
#include "decode/decode_evtx_int.h"
#include "decode/decode_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================ checksum */

/* The EVTX checksums are plain CRC-32 (core's vg_crc32). */
uint32_t vg_evtx_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    return vg_crc32(crc, p, n);
}

/* ================================================================ UTF-16 → UTF-8 */

/* Four ASCII code units at once: the high byte and bit 7 of each unit are clear. */
#define ASCII4_MASK 0xff80ff80ff80ff80ULL

static bool is_high_surrogate_pair(const uint8_t *p, size_t i, size_t n)
{
    uint16_t c = vg_le16(p + 2 * i);
    return c >= 0xd800 && c <= 0xdbff && i + 1 < n && (vg_le16(p + 2 * i + 2) & 0xfc00) == 0xdc00;
}

size_t vg_evtx_utf16_len(const uint8_t *p, size_t n)
{
    size_t i = 0, out = 0;
    while (i < n) {
        while (i + 4 <= n && (vg_le64(p + 2 * i) & ASCII4_MASK) == 0) {
            i += 4;
            out += 4;
        }
        if (i >= n) {
            break;
        }
        uint16_t c = vg_le16(p + 2 * i);
        if (c < 0x80) {
            out += 1;
        } else if (c < 0x800) {
            out += 2;
        } else if (is_high_surrogate_pair(p, i, n)) {
            out += 4;
            i++;
        } else {
            out += 3; /* BMP character, or a lone surrogate rendered as U+FFFD */
        }
        i++;
    }
    return out;
}

size_t vg_evtx_utf16_conv(char *dst, const uint8_t *p, size_t n)
{
    uint8_t *o = (uint8_t *)dst;
    size_t i = 0;
    while (i < n) {
        while (i + 4 <= n) {
            uint64_t x = vg_le64(p + 2 * i);
            if (x & ASCII4_MASK) {
                break;
            }
            o[0] = (uint8_t)x;
            o[1] = (uint8_t)(x >> 16);
            o[2] = (uint8_t)(x >> 32);
            o[3] = (uint8_t)(x >> 48);
            o += 4;
            i += 4;
        }
        if (i >= n) {
            break;
        }
        uint32_t c = vg_le16(p + 2 * i);
        if (c < 0x80) {
            *o++ = (uint8_t)c;
        } else if (c < 0x800) {
            *o++ = (uint8_t)(0xc0 | (c >> 6));
            *o++ = (uint8_t)(0x80 | (c & 0x3f));
        } else if (is_high_surrogate_pair(p, i, n)) {
            c = 0x10000 + ((c - 0xd800) << 10) + (vg_le16(p + 2 * i + 2) - 0xdc00u);
            *o++ = (uint8_t)(0xf0 | (c >> 18));
            *o++ = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
            *o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (uint8_t)(0x80 | (c & 0x3f));
            i++;
        } else {
            if (c >= 0xd800 && c <= 0xdfff) {
                c = 0xfffd;
            }
            *o++ = (uint8_t)(0xe0 | (c >> 12));
            *o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (uint8_t)(0x80 | (c & 0x3f));
        }
        i++;
    }
    return (size_t)(o - (uint8_t *)dst);
}

/* Code units of a UTF-16 value without its trailing NULs (Windows counts the terminator). */
static size_t utf16_units_trimmed(const uint8_t *p, size_t nbytes)
{
    size_t n = nbytes / 2;
    while (n > 0 && p[2 * n - 2] == 0 && p[2 * n - 1] == 0) {
        n--;
    }
    return n;
}

static void sbuf_add_utf16(struct vg_sbuf *s, const uint8_t *p, size_t units)
{
    size_t need = vg_evtx_utf16_len(p, units);
    if (vg_sbuf_reserve(s, need + 1) != VG_OK) {
        return;
    }
    s->len += vg_evtx_utf16_conv(s->p + s->len, p, units);
    s->p[s->len] = '\0';
}

/* ANSI strings: the code page is not recorded; Latin-1 keeps every byte and stays UTF-8. */
static void sbuf_add_latin1(struct vg_sbuf *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            vg_sbuf_addc(s, (char)p[i]);
        } else {
            vg_sbuf_addc(s, (char)(0xc0 | (p[i] >> 6)));
            vg_sbuf_addc(s, (char)(0x80 | (p[i] & 0x3f)));
        }
    }
}

/* ================================================================ value rendering */

static size_t fmt_u64(char *b, uint64_t v)
{
    char t[20];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++) {
        b[i] = t[n - 1 - i];
    }
    return n;
}

static size_t fmt_i64(char *b, int64_t v)
{
    if (v < 0) {
        b[0] = '-';
        return 1 + fmt_u64(b + 1, (uint64_t)0 - (uint64_t)v);
    }
    return fmt_u64(b, (uint64_t)v);
}

static size_t fmt_hex(char *b, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char t[16];
    size_t n = 0;
    do {
        t[n++] = digits[v & 0xf];
        v >>= 4;
    } while (v);
    b[0] = '0';
    b[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        b[2 + i] = t[n - 1 - i];
    }
    return n + 2;
}

static size_t fmt_guid(char *b, const uint8_t *g)
{
    static const char digits[] = "0123456789abcdef";
    /* Data1..Data3 are little-endian integers, Data4 is 8 bytes in order. */
    static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    size_t n = 0;
    b[n++] = '{';
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            b[n++] = '-';
        }
        b[n++] = digits[g[order[i]] >> 4];
        b[n++] = digits[g[order[i]] & 0xf];
    }
    b[n++] = '}';
    return n; /* 38 */
}

/* Days since 1970-01-01 → civil date (proleptic Gregorian; H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Right-aligned zero-padded decimal of exactly w digits. */
static void put_digits(char *b, uint64_t v, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        b[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* FILETIME (100 ns since 1601) as Windows renders it: 7 fractional digits (hot: no printf). */
static size_t fmt_filetime(char *b, size_t bsz, uint64_t ft)
{
    /* 134774 days between 1601-01-01 and 1970-01-01 */
    uint64_t secs = ft / 10000000u, frac = ft % 10000000u;
    int64_t y;
    unsigned m, d, sod = (unsigned)(secs % 86400u);
    civil_from_days((int64_t)(secs / 86400u) - 134774, &y, &m, &d);
    size_t n = y > 9999 ? 5 : 4; /* the largest FILETIME is in year 60056 */
    if (bsz < n + 25) {
        return 0;
    }
    put_digits(b, (uint64_t)y, (int)n);
    b[n] = '-';
    put_digits(b + n + 1, m, 2);
    b[n + 3] = '-';
    put_digits(b + n + 4, d, 2);
    b[n + 6] = 'T';
    put_digits(b + n + 7, sod / 3600, 2);
    b[n + 9] = ':';
    put_digits(b + n + 10, sod / 60 % 60, 2);
    b[n + 12] = ':';
    put_digits(b + n + 13, sod % 60, 2);
    b[n + 15] = '.';
    put_digits(b + n + 16, frac, 7);
    b[n + 23] = 'Z';
    return n + 24;
}

static size_t fmt_systemtime(char *b, size_t bsz, const uint8_t *p)
{
    /* year, month, day of week, day, hour, minute, second, milliseconds */
    int n =
        snprintf(b, bsz, "%04u-%02u-%02uT%02u:%02u:%02u.%03u0000Z", vg_le16(p), vg_le16(p + 2),
                 vg_le16(p + 6), vg_le16(p + 8), vg_le16(p + 10), vg_le16(p + 12), vg_le16(p + 14));
    return n < 0 ? 0 : VG_MIN((size_t)n, bsz - 1);
}

/* The shortest %g form that reads back as the same value (what Windows shows). */
static size_t fmt_real(char *b, size_t bsz, double v, bool single)
{
    int n = 0;
    for (int prec = 1; prec <= (single ? 9 : 17); prec++) {
        n = snprintf(b, bsz, "%.*g", prec, v);
        double back = strtod(b, NULL);
        if (single ? (float)back == (float)v : back == v) {
            break;
        }
    }
    return n < 0 ? 0 : VG_MIN((size_t)n, bsz - 1);
}

static int render_sid(struct vg_sbuf *out, const uint8_t *p, size_t n)
{
    char b[24];
    if (n < 8 || n < 8 + 4 * (size_t)p[1]) {
        return VG_EINVAL;
    }
    uint64_t auth = 0;
    for (int i = 2; i < 8; i++) {
        auth = (auth << 8) | p[i]; /* the identifier authority is 48-bit big-endian */
    }
    vg_sbuf_add(out, "S-", 2);
    vg_sbuf_add(out, b, fmt_u64(b, p[0]));
    if (auth >> 32) {
        vg_sbuf_printf(out, "-0x%012" PRIX64, auth); /* as Windows prints huge authorities */
    } else {
        vg_sbuf_addc(out, '-');
        vg_sbuf_add(out, b, fmt_u64(b, auth));
    }
    for (size_t i = 0; i < p[1]; i++) {
        vg_sbuf_addc(out, '-');
        vg_sbuf_add(out, b, fmt_u64(b, vg_le32(p + 8 + 4 * i)));
    }
    return VG_OK;
}

static void render_binary(struct vg_sbuf *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    if (vg_sbuf_reserve(out, 2 * n + 1) != VG_OK) {
        return;
    }
    char *o = out->p + out->len;
    for (size_t i = 0; i < n; i++) {
        o[2 * i] = digits[p[i] >> 4];
        o[2 * i + 1] = digits[p[i] & 0xf];
    }
    out->len += 2 * n;
    out->p[out->len] = '\0';
}

/* Size in bytes of one element of a fixed-size type; 0 for variable-size types. */
static size_t type_fixed_size(uint8_t type)
{
    switch (type) {
    case VG_EVTX_T_INT8:
    case VG_EVTX_T_UINT8:
        return 1;
    case VG_EVTX_T_INT16:
    case VG_EVTX_T_UINT16:
        return 2;
    case VG_EVTX_T_INT32:
    case VG_EVTX_T_UINT32:
    case VG_EVTX_T_REAL32:
    case VG_EVTX_T_BOOL:
    case VG_EVTX_T_HEX32:
        return 4;
    case VG_EVTX_T_INT64:
    case VG_EVTX_T_UINT64:
    case VG_EVTX_T_REAL64:
    case VG_EVTX_T_FILETIME:
    case VG_EVTX_T_HEX64:
        return 8;
    case VG_EVTX_T_GUID:
    case VG_EVTX_T_SYSTEMTIME:
        return 16;
    default:
        return 0;
    }
}

/* Integer types: their value as int64 (false for UInt64 values above INT64_MAX). */
static bool value_int(uint8_t type, const uint8_t *p, int64_t *out)
{
    switch (type) {
    case VG_EVTX_T_INT8:
        *out = (int8_t)p[0];
        return true;
    case VG_EVTX_T_UINT8:
        *out = p[0];
        return true;
    case VG_EVTX_T_INT16:
        *out = (int16_t)vg_le16(p);
        return true;
    case VG_EVTX_T_UINT16:
        *out = vg_le16(p);
        return true;
    case VG_EVTX_T_INT32:
        *out = (int32_t)vg_le32(p);
        return true;
    case VG_EVTX_T_UINT32:
        *out = vg_le32(p);
        return true;
    case VG_EVTX_T_INT64:
        *out = (int64_t)vg_le64(p);
        return true;
    case VG_EVTX_T_UINT64:
        *out = (int64_t)vg_le64(p);
        return vg_le64(p) <= (uint64_t)INT64_MAX;
    default:
        return false;
    }
}

/* Fixed-size scalars rendered into a small buffer (b holds >= 64 bytes). */
static size_t render_fixed(char *b, size_t bsz, uint8_t type, const uint8_t *p)
{
    int64_t i;
    if (value_int(type, p, &i)) {
        return fmt_i64(b, i);
    }
    switch (type) {
    case VG_EVTX_T_UINT64:
        return fmt_u64(b, vg_le64(p));
    case VG_EVTX_T_REAL32: {
        float f;
        memcpy(&f, p, 4); /* IEEE 754 binary32, little-endian like the host we support */
        return fmt_real(b, bsz, f, true);
    }
    case VG_EVTX_T_REAL64: {
        double d;
        memcpy(&d, p, 8);
        return fmt_real(b, bsz, d, false);
    }
    case VG_EVTX_T_BOOL:
        memcpy(b, vg_le32(p) ? "true" : "false", vg_le32(p) ? 4 : 5);
        return vg_le32(p) ? 4 : 5;
    case VG_EVTX_T_HEX32:
        return fmt_hex(b, vg_le32(p));
    case VG_EVTX_T_HEX64:
        return fmt_hex(b, vg_le64(p));
    case VG_EVTX_T_GUID:
        return fmt_guid(b, p);
    case VG_EVTX_T_FILETIME:
        return fmt_filetime(b, bsz, vg_le64(p));
    case VG_EVTX_T_SYSTEMTIME:
        return fmt_systemtime(b, bsz, p);
    default:
        return 0;
    }
}

int vg_evtx_render(struct vg_sbuf *out, uint8_t type, const uint8_t *p, size_t n)
{
    char b[64];
    size_t fixed = type_fixed_size(type);
    if (fixed) {
        if (n < fixed) {
            return VG_EINVAL;
        }
        vg_sbuf_add(out, b, render_fixed(b, sizeof(b), type, p));
        return VG_OK;
    }
    switch (type) {
    case VG_EVTX_T_NULL:
        return VG_OK;
    case VG_EVTX_T_STRING:
        sbuf_add_utf16(out, p, utf16_units_trimmed(p, n));
        return VG_OK;
    case VG_EVTX_T_ANSI:
        while (n > 0 && p[n - 1] == 0) {
            n--;
        }
        sbuf_add_latin1(out, p, n);
        return VG_OK;
    case VG_EVTX_T_BINARY:
        render_binary(out, p, n);
        return VG_OK;
    case VG_EVTX_T_SIZET:
        if (n != 4 && n != 8) {
            return VG_EINVAL;
        }
        vg_sbuf_add(out, b, fmt_hex(b, n == 4 ? vg_le32(p) : vg_le64(p)));
        return VG_OK;
    case VG_EVTX_T_SID:
        return render_sid(out, p, n);
    default:
        return VG_EINVAL; /* BinXML is structure, not text; unknown types */
    }
}

/* ================================================================ reader state */

/* Field id not computed yet (VG_FIELD_NONE means the registry refused the name). */
#define FID_UNSET (UINT32_MAX - 1)

/* Element names that steer field naming, recognised once per chunk name. */
enum name_kind {
    NK_OTHER = 0,
    NK_SYSTEM,
    NK_EVENTDATA,
    NK_USERDATA,
    NK_DATA,
    NK_BINARY,
    NK_NAME,
};

/* A chunk string-table name, converted to UTF-8 once per chunk. */
struct evtx_name {
    const char *s;
    uint32_t len;
    uint32_t fid;
    uint8_t kind;
};

/* A literal text (Value, CDATA, CharRef or EntityRef token), converted at compile time. */
struct evtx_lit {
    const char *s;
    uint32_t len;
    uint32_t fid; /* when used as <Data Name="...">: the interned name */
};

enum op_kind {
    OP_ELEM,     /* open element u.name */
    OP_ATTR,     /* attribute u.name; its value follows until ATTR/CONTENT/EMPTY */
    OP_CONTENT,  /* end of the start tag: content follows until END */
    OP_EMPTY,    /* empty element closes */
    OP_END,      /* element with content closes */
    OP_TEXT,     /* literal text u.lit */
    OP_SUBST,    /* substitution idx (opt: optional) */
    OP_TEMPLATE, /* template instance u.inst */
};

struct evtx_inst;

/* One compiled BinXML operation. */
struct evtx_op {
    uint8_t k;
    uint8_t opt;
    uint16_t idx;
    uint32_t fid; /* OP_ATTR: "<element>_<attribute>" id, computed on first use */
    union {
        struct evtx_name *name;
        struct evtx_lit *lit;
        struct evtx_inst *inst;
    } u;
};

struct evtx_tmpl {
    struct evtx_op *ops;
    uint32_t nops;
};

/* A template instance: the template and the record's substitution values. */
struct evtx_inst {
    const struct evtx_tmpl *t;
    uint32_t nvals;
    struct vg_evtx_value *vals;
};

/* Open-addressing map from a chunk offset (never 0: offsets point past the header). */
struct evtx_slot {
    uint32_t key;
    void *val;
};
struct evtx_map {
    struct evtx_slot *s;
    uint32_t cap; /* power of two */
    uint32_t n;
};

/* How an element's content becomes fields (decode.h naming rules). */
enum role {
    ROLE_ROOT,      /* <Event> (whatever its name) */
    ROLE_SYSTEM,    /* <System> */
    ROLE_SYS_CHILD, /* <EventID>, <Provider Name=...>: Elem and Elem_Attr */
    ROLE_EVENTDATA, /* <EventData>: direct text → Data */
    ROLE_ED_ITEM,   /* <Data Name="N">, <Data>, <Binary> */
    ROLE_USERDATA,  /* <UserData> */
    ROLE_UD,        /* below UserData: leaf element names */
    ROLE_OTHER,     /* elsewhere: dotted element path */
    ROLE_IGNORE,    /* below a leaf the JSON rendering would not descend into */
};

struct evtx_frame {
    struct evtx_name *name; /* not const: its field id is filled in on first use */
    uint32_t attr0;         /* first attribute in r->attrs */
    uint32_t piece0;        /* first piece (attribute values, then text) in r->pieces */
    uint32_t text0;         /* first text piece, once the content started */
    uint32_t nchild;
    uint32_t path_len; /* ROLE_OTHER: r->path length including this element */
    uint8_t role;
    uint8_t skip;    /* an optional substitution was empty: the element is not rendered */
    uint8_t content; /* CloseStartElement seen */
};

struct evtx_attr {
    struct evtx_op *op;
    uint32_t piece0, piece1;
    uint8_t skip;
};

/* A piece of text: a literal, or a substitution value rendered when emitted. */
struct evtx_piece {
    struct evtx_lit *lit; /* not const: its field id is filled in on first use */
    struct vg_evtx_value v;
};

struct vg_evtx {
    const uint8_t *data;
    size_t len;
    size_t nslots; /* chunk-sized slots after the file header (the last may be short) */
    size_t next_slot;

    /* current chunk */
    const uint8_t *chunk;
    uint32_t clen;
    size_t chunk_no;
    bool in_chunk;
    uint32_t rec_off, rec_end;

    struct vg_evtx_stats stats;

    struct vg_arena *carena; /* per chunk: names, compiled templates */
    struct vg_arena *rarena; /* per record: record-level ops, instances */
    struct evtx_map names;   /* name offset → struct evtx_name */
    struct evtx_map tmpls;   /* template definition offset → struct evtx_tmpl */

    struct evtx_op *ops; /* compile stack (nested compilations append, then pop) */
    size_t nops, cap_ops;

    /* evaluation */
    struct evtx_frame frames[VG_EVTX_MAX_DEPTH];
    uint32_t nframes;
    uint32_t floor; /* frames below belong to enclosing fragments: not ours to close */
    struct evtx_attr *attrs;
    size_t nattrs, cap_attrs;
    int32_t cur_attr; /* attribute receiving value pieces, or -1 */
    struct evtx_piece *pieces;
    size_t npieces, cap_pieces;
    struct vg_sbuf sb;   /* scratch rendering */
    struct vg_sbuf path; /* ROLE_OTHER element path */
    bool item_first;     /* render_item: no separator before the first array item */

    /* per record */
    struct vg_event *ev;
    uint32_t work, nfields;
    size_t out_bytes;
    const char *why; /* reason of the last failure (static text) */
    uint32_t where;  /* chunk offset of the last failure */

    uint32_t fid_data, fid_systime, fid_recid;
};

static struct evtx_tmpl tmpl_bad; /* negative cache entry: the definition did not compile */

static int fail(struct vg_evtx *r, uint32_t where, const char *why, int rc)
{
    r->why = why;
    r->where = where;
    return rc;
}

/* ---------------------------------------------------------------- offset maps */

static void *map_get(const struct evtx_map *m, uint32_t key)
{
    if (!m->cap) {
        return NULL;
    }
    for (uint32_t i = (key * 0x9e3779b1u) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->s[i].key == key) {
            return m->s[i].val;
        }
        if (m->s[i].key == 0) {
            return NULL;
        }
    }
}

static void map_insert(struct evtx_map *m, uint32_t key, void *val)
{
    uint32_t i = (key * 0x9e3779b1u) & (m->cap - 1);
    while (m->s[i].key != 0 && m->s[i].key != key) {
        i = (i + 1) & (m->cap - 1);
    }
    m->n += m->s[i].key == 0;
    m->s[i].key = key;
    m->s[i].val = val;
}

static int map_put(struct evtx_map *m, uint32_t key, void *val)
{
    if (2 * (m->n + 1) > m->cap) {
        uint32_t ncap = m->cap ? 2 * m->cap : 256;
        struct evtx_slot *ns = vg_calloc(ncap, sizeof(*ns));
        if (!ns) {
            return VG_ENOMEM;
        }
        struct evtx_map nm = {ns, ncap, 0};
        for (uint32_t i = 0; i < m->cap; i++) {
            if (m->s[i].key) {
                map_insert(&nm, m->s[i].key, m->s[i].val);
            }
        }
        vg_free(m->s);
        *m = nm;
    }
    map_insert(m, key, val);
    return VG_OK;
}

static void map_clear(struct evtx_map *m)
{
    if (m->n) {
        memset(m->s, 0, m->cap * sizeof(*m->s));
        m->n = 0;
    }
}

/* ================================================================ BinXML → operations */

static int op_push(struct vg_evtx *r, uint8_t k, void *ptr, struct evtx_op **out)
{
    if (r->nops == r->cap_ops && vg_grow(&r->ops, &r->cap_ops, r->nops + 1, sizeof(*r->ops))) {
        return VG_ENOMEM;
    }
    struct evtx_op *op = &r->ops[r->nops++];
    memset(op, 0, sizeof(*op));
    op->k = k;
    op->fid = FID_UNSET;
    op->u.name = ptr; /* every union member is a pointer: set through the first */
    if (out) {
        *out = op;
    }
    return VG_OK;
}

static uint8_t name_kind(const char *s, size_t n)
{
    static const struct {
        const char *s;
        uint8_t len, kind;
    } known[] = {
        {"System", 6, NK_SYSTEM}, {"EventData", 9, NK_EVENTDATA}, {"UserData", 8, NK_USERDATA},
        {"Data", 4, NK_DATA},     {"Binary", 6, NK_BINARY},       {"Name", 4, NK_NAME},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(known); i++) {
        if (known[i].len == n && memcmp(known[i].s, s, n) == 0) {
            return known[i].kind;
        }
    }
    return NK_OTHER;
}

/* Parse the name structure at chunk offset off: {next u32, hash u16, count u16, UTF-16}. */
static int name_load(struct vg_evtx *r, uint32_t off, struct evtx_name **out)
{
    struct evtx_name *nm = map_get(&r->names, off);
    if (nm) {
        *out = nm;
        return VG_OK;
    }
    if (off < VG_EVTX_CHUNK_HEADER_SIZE || (size_t)off + 8 > r->clen) {
        return fail(r, off, "name offset out of the chunk", VG_EINVAL);
    }
    size_t units = vg_le16(r->chunk + off + 6);
    if ((size_t)off + 8 + 2 * units > r->clen) {
        return fail(r, off, "name runs past the chunk", VG_EINVAL);
    }
    const uint8_t *p = r->chunk + off + 8;
    size_t len = vg_evtx_utf16_len(p, units);
    nm = vg_arena_alloc(r->carena, sizeof(*nm));
    char *s = vg_arena_alloc(r->carena, len + 1);
    if (!nm || !s) {
        return VG_ENOMEM;
    }
    vg_evtx_utf16_conv(s, p, units);
    s[len] = '\0';
    nm->s = s;
    nm->len = (uint32_t)len;
    nm->fid = FID_UNSET;
    nm->kind = name_kind(s, len);
    *out = nm;
    return map_put(&r->names, off, nm);
}

/* A name reference (u32 chunk offset); the name is defined inline when it points right here. */
static int name_ref(struct vg_evtx *r, struct vg_rbuf *b, struct evtx_name **out)
{
    uint32_t off;
    if (vg_rbuf_u32le(b, &off) != VG_OK) {
        return fail(r, (uint32_t)b->off, "truncated name reference", VG_EINVAL);
    }
    int rc = name_load(r, off, out);
    if (rc != VG_OK || off != b->off) {
        return rc;
    }
    /* inline definition: skip next (4), hash (2), count (2), the characters and the NUL */
    if (vg_rbuf_skip(b, 8 + 2 * (size_t)vg_le16(vg_rbuf_cur(b) + 6) + 2) != VG_OK) {
        return fail(r, off, "truncated inline name", VG_EINVAL);
    }
    return VG_OK;
}

static bool name_off_plausible(const struct vg_evtx *r, uint32_t off, size_t field_end)
{
    return off == field_end ||
           (off >= VG_EVTX_CHUNK_HEADER_SIZE && off < field_end && (size_t)off + 8 <= r->clen);
}

/*
 * OpenStartElement: [dependency id u16] data size u32, name, [attribute list size u32].
 * Template definitions carry the dependency id, elements written directly in a record or a
 * nested BinXML value do not; writers disagree at the margins, so when the expected layout
 * yields an implausible name offset the other layout is tried.
 */
static int compile_elem(struct vg_evtx *r, struct vg_rbuf *b, uint8_t tok, bool in_template)
{
    size_t at = b->off;
    bool dep = in_template;
    if (vg_rbuf_left(b) >= 10) {
        const uint8_t *p = vg_rbuf_cur(b);
        bool with = name_off_plausible(r, vg_le32(p + 6), at + 10);
        bool without = name_off_plausible(r, vg_le32(p + 4), at + 8);
        dep = dep ? (with || !without) : (with && !without);
    }
    struct evtx_name *nm;
    if (vg_rbuf_skip(b, dep ? 6 : 4) != VG_OK) {
        return fail(r, (uint32_t)at, "truncated element start", VG_EINVAL);
    }
    int rc = name_ref(r, b, &nm);
    if (rc != VG_OK) {
        return rc;
    }
    if ((tok & 0x40) && vg_rbuf_skip(b, 4) != VG_OK) {
        return fail(r, (uint32_t)at, "truncated attribute list size", VG_EINVAL);
    }
    return op_push(r, OP_ELEM, nm, NULL);
}

static int lit_make(struct vg_evtx *r, struct vg_arena *dst, const char *s, size_t n,
                    struct evtx_lit **out)
{
    struct evtx_lit *l = vg_arena_alloc(dst, sizeof(*l));
    char *c = vg_arena_strndup(dst, s, n);
    if (!l || !c) {
        return VG_ENOMEM;
    }
    l->s = c;
    l->len = (uint32_t)n;
    l->fid = FID_UNSET;
    *out = l;
    return VG_OK;
}

/* Push a literal text operation with the content of r->sb. */
static int lit_push_sb(struct vg_evtx *r, struct vg_arena *dst)
{
    struct evtx_lit *l;
    if (r->sb.err) {
        return VG_ENOMEM;
    }
    int rc = lit_make(r, dst, r->sb.p ? r->sb.p : "", r->sb.len, &l);
    return rc != VG_OK ? rc : op_push(r, OP_TEXT, l, NULL);
}

/* A length-prefixed UTF-16 string (Value, CDATA, PIData): u16 count, characters. */
static int read_prefixed_utf16(struct vg_evtx *r, struct vg_rbuf *b, bool keep)
{
    uint16_t units;
    const uint8_t *p;
    if (vg_rbuf_u16le(b, &units) != VG_OK || vg_rbuf_bytes(b, 2 * (size_t)units, &p) != VG_OK) {
        return fail(r, (uint32_t)b->off, "truncated string", VG_EINVAL);
    }
    if (keep) {
        vg_sbuf_reset(&r->sb);
        sbuf_add_utf16(&r->sb, p, units);
    }
    return VG_OK;
}

/* Value token: a literal typed value inside the BinXML (almost always a string). */
static int compile_value(struct vg_evtx *r, struct vg_rbuf *b, struct vg_arena *dst)
{
    uint8_t type;
    if (vg_rbuf_u8(b, &type) != VG_OK) {
        return fail(r, (uint32_t)b->off, "truncated value", VG_EINVAL);
    }
    if (type == VG_EVTX_T_STRING) {
        int rc = read_prefixed_utf16(r, b, true);
        return rc != VG_OK ? rc : lit_push_sb(r, dst);
    }
    size_t size = type_fixed_size(type);
    const uint8_t *p;
    if (!size) {
        return fail(r, (uint32_t)b->off, "unsupported literal value type", VG_EINVAL);
    }
    if (vg_rbuf_bytes(b, size, &p) != VG_OK) {
        return fail(r, (uint32_t)b->off, "truncated value", VG_EINVAL);
    }
    vg_sbuf_reset(&r->sb);
    vg_evtx_render(&r->sb, type, p, size);
    return lit_push_sb(r, dst);
}

static int compile_charref(struct vg_evtx *r, struct vg_rbuf *b, struct vg_arena *dst)
{
    uint16_t c;
    if (vg_rbuf_u16le(b, &c) != VG_OK) {
        return fail(r, (uint32_t)b->off, "truncated character reference", VG_EINVAL);
    }
    uint8_t u[2] = {(uint8_t)c, (uint8_t)(c >> 8)};
    vg_sbuf_reset(&r->sb);
    sbuf_add_utf16(&r->sb, u, 1);
    return lit_push_sb(r, dst);
}

/* EntityRef: the five XML entities become their character; others stay "&name;". */
static int compile_entity(struct vg_evtx *r, struct vg_rbuf *b, struct vg_arena *dst)
{
    static const char *const ents[][2] = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"},
    };
    struct evtx_name *nm;
    int rc = name_ref(r, b, &nm);
    if (rc != VG_OK) {
        return rc;
    }
    vg_sbuf_reset(&r->sb);
    for (size_t i = 0; i < VG_ARRAY_LEN(ents); i++) {
        if (strlen(ents[i][0]) == nm->len && memcmp(ents[i][0], nm->s, nm->len) == 0) {
            vg_sbuf_adds(&r->sb, ents[i][1]);
            return lit_push_sb(r, dst);
        }
    }
    vg_sbuf_addc(&r->sb, '&');
    vg_sbuf_add(&r->sb, nm->s, nm->len);
    vg_sbuf_addc(&r->sb, ';');
    return lit_push_sb(r, dst);
}

static int compile_subst(struct vg_evtx *r, struct vg_rbuf *b, uint8_t tok)
{
    uint16_t idx;
    uint8_t type;
    struct evtx_op *op;
    if (vg_rbuf_u16le(b, &idx) != VG_OK || vg_rbuf_u8(b, &type) != VG_OK) {
        return fail(r, (uint32_t)b->off, "truncated substitution", VG_EINVAL);
    }
    int rc = op_push(r, OP_SUBST, NULL, &op);
    if (rc == VG_OK) {
        op->idx = idx;
        op->opt = tok == 0x0e;
    }
    return rc;
}

static int compile(struct vg_evtx *r, uint32_t start, uint32_t end, bool in_template,
                   struct vg_arena *dst, struct evtx_op **out, uint32_t *nout);

/* The compiled template whose definition starts at chunk offset off (cached per chunk). */
static int template_get(struct vg_evtx *r, uint32_t off, const struct evtx_tmpl **out)
{
    struct evtx_tmpl *t = map_get(&r->tmpls, off);
    if (!t) {
        /* header: next definition offset u32, GUID (16), data size u32; then the BinXML */
        if (off < VG_EVTX_CHUNK_HEADER_SIZE || (size_t)off + 24 > r->clen ||
            (size_t)off + 24 + vg_le32(r->chunk + off + 20) > r->clen) {
            return fail(r, off, "template definition out of the chunk", VG_EINVAL);
        }
        t = vg_arena_alloc(r->carena, sizeof(*t));
        if (!t) {
            return VG_ENOMEM;
        }
        int rc = compile(r, off + 24, off + 24 + vg_le32(r->chunk + off + 20), true, r->carena,
                         &t->ops, &t->nops);
        if (rc != VG_OK && rc != VG_EINVAL) {
            return rc; /* out of memory, or this record's work budget: not the template's fault */
        }
        if (rc != VG_OK) {
            t = &tmpl_bad; /* malformed: remember, so each record referencing it fails fast */
        }
        if (map_put(&r->tmpls, off, t) != VG_OK) {
            return VG_ENOMEM;
        }
    }
    if (t == &tmpl_bad) {
        return fail(r, off, "template definition does not compile", VG_EINVAL);
    }
    *out = t;
    return VG_OK;
}

/* Substitution array: count u32, count x {size u16, type u8, pad u8}, then the values. */
static int read_values(struct vg_evtx *r, struct vg_rbuf *b, struct evtx_inst *in)
{
    uint32_t n;
    const uint8_t *desc, *p;
    if (vg_rbuf_u32le(b, &n) != VG_OK || n > vg_rbuf_left(b) / 4 ||
        vg_rbuf_bytes(b, 4 * (size_t)n, &desc) != VG_OK) {
        return fail(r, (uint32_t)b->off, "bad substitution array", VG_EINVAL);
    }
    in->nvals = n;
    in->vals = vg_arena_alloc(r->rarena, (n ? n : 1) * sizeof(*in->vals));
    if (!in->vals) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint16_t size = vg_le16(desc + 4 * i);
        if (vg_rbuf_bytes(b, size, &p) != VG_OK) {
            return fail(r, (uint32_t)b->off, "substitution value past the record", VG_EINVAL);
        }
        in->vals[i].p = p;
        in->vals[i].size = size;
        in->vals[i].type = desc[4 * i + 2];
    }
    return VG_OK;
}

/* TemplateInstance: unknown u8, template id u32, definition offset u32, [definition], values. */
static int compile_instance(struct vg_evtx *r, struct vg_rbuf *b, bool in_template)
{
    uint32_t id, off;
    struct evtx_inst *in;
    if (in_template) {
        return fail(r, (uint32_t)b->off, "template instance inside a template", VG_EINVAL);
    }
    if (vg_rbuf_skip(b, 1) != VG_OK || vg_rbuf_u32le(b, &id) != VG_OK ||
        vg_rbuf_u32le(b, &off) != VG_OK) {
        return fail(r, (uint32_t)b->off, "truncated template instance", VG_EINVAL);
    }
    if (off == b->off) {
        /* defined inline: compile it (bounded by the enclosing fragment), then skip it */
        uint32_t size;
        if (vg_rbuf_left(b) < 24 || (size = vg_le32(vg_rbuf_cur(b) + 20)) > vg_rbuf_left(b) - 24) {
            return fail(r, off, "truncated template definition", VG_EINVAL);
        }
        vg_rbuf_skip(b, 24 + (size_t)size);
    }
    in = vg_arena_alloc(r->rarena, sizeof(*in));
    if (!in) {
        return VG_ENOMEM;
    }
    int rc = template_get(r, off, &in->t);
    if (rc == VG_OK) {
        rc = read_values(r, b, in);
    }
    return rc != VG_OK ? rc : op_push(r, OP_TEMPLATE, in, NULL);
}

static int compile_token(struct vg_evtx *r, struct vg_rbuf *b, uint8_t tok, bool in_template,
                         struct vg_arena *dst, bool *done)
{
    struct evtx_name *nm;
    int rc;
    switch (tok & 0xbf) { /* 0x40: "more follows" / "has attributes" flag */
    case 0x00:
        *done = true;
        return VG_OK;
    case 0x01:
        return compile_elem(r, b, tok, in_template);
    case 0x02:
        return op_push(r, OP_CONTENT, NULL, NULL);
    case 0x03:
        return op_push(r, OP_EMPTY, NULL, NULL);
    case 0x04:
        return op_push(r, OP_END, NULL, NULL);
    case 0x05:
        return compile_value(r, b, dst);
    case 0x06:
        rc = name_ref(r, b, &nm);
        return rc != VG_OK ? rc : op_push(r, OP_ATTR, nm, NULL);
    case 0x07:
        rc = read_prefixed_utf16(r, b, true);
        return rc != VG_OK ? rc : lit_push_sb(r, dst);
    case 0x08:
        return compile_charref(r, b, dst);
    case 0x09:
        return compile_entity(r, b, dst);
    case 0x0a: /* processing instructions carry no event data */
        return name_ref(r, b, &nm);
    case 0x0b:
        return read_prefixed_utf16(r, b, false);
    case 0x0c:
        return compile_instance(r, b, in_template);
    case 0x0d:
    case 0x0e:
        return compile_subst(r, b, tok);
    case 0x0f: /* fragment header: major, minor, flags */
        if (vg_rbuf_skip(b, 3) != VG_OK) {
            return fail(r, (uint32_t)b->off, "truncated fragment header", VG_EINVAL);
        }
        return VG_OK;
    default:
        return fail(r, (uint32_t)b->off - 1, "invalid BinXML token", VG_EINVAL);
    }
}

/*
 * Compile the BinXML at chunk offsets [start, end) into operations allocated in dst.
 * Compilations nest (a record's template instance compiles its template): each appends to
 * r->ops and pops its own operations when done.
 */
static int compile(struct vg_evtx *r, uint32_t start, uint32_t end, bool in_template,
                   struct vg_arena *dst, struct evtx_op **out, uint32_t *nout)
{
    size_t base = r->nops;
    struct vg_rbuf b;
    bool done = false;
    int rc = VG_OK;
    vg_rbuf_init(&b, r->chunk, VG_MIN(end, r->clen));
    if (vg_rbuf_seek(&b, start) != VG_OK) {
        rc = fail(r, start, "fragment out of the chunk", VG_EINVAL);
        goto out;
    }
    while (!done && vg_rbuf_left(&b) > 0) {
        uint8_t tok;
        if (++r->work > VG_EVTX_MAX_WORK) {
            rc = fail(r, (uint32_t)b.off, "work limit per record", VG_ELIMIT);
            goto out;
        }
        vg_rbuf_u8(&b, &tok);
        rc = compile_token(r, &b, tok, in_template, dst, &done);
        if (rc != VG_OK) {
            goto out;
        }
    }
    *nout = (uint32_t)(r->nops - base);
    *out = vg_arena_alloc(dst, (*nout ? *nout : 1) * sizeof(**out));
    if (!*out) {
        rc = VG_ENOMEM;
        goto out;
    }
    if (*nout) { /* r->ops is still NULL when nothing was ever compiled */
        memcpy(*out, r->ops + base, *nout * sizeof(**out));
    }
out:
    r->nops = base;
    return rc;
}

/* ================================================================ emitting fields */

static int add_budget(struct vg_evtx *r, size_t n)
{
    r->out_bytes += n;
    if (++r->nfields > VG_EVTX_MAX_FIELDS || r->out_bytes > VG_EVTX_MAX_OUT) {
        return fail(r, 0, "field or output limit per record", VG_ELIMIT);
    }
    return VG_OK;
}

/* A string field, copied into the event arena. */
static int add_text(struct vg_evtx *r, uint32_t fid, const char *s, size_t n)
{
    int rc = add_budget(r, n);
    if (rc != VG_OK) {
        return rc;
    }
    return vg_event_add_strdup(r->ev, fid, s, n);
}

static int add_utf16(struct vg_evtx *r, uint32_t fid, const uint8_t *p, size_t nbytes)
{
    size_t units = utf16_units_trimmed(p, nbytes);
    size_t len = vg_evtx_utf16_len(p, units);
    int rc = add_budget(r, len);
    if (rc != VG_OK) {
        return rc;
    }
    char *s = vg_arena_alloc(r->ev->arena, len + 1);
    if (!s) {
        return VG_ENOMEM;
    }
    vg_evtx_utf16_conv(s, p, units);
    s[len] = '\0';
    return vg_event_add_str(r->ev, fid, s, len);
}

static int add_scalar(struct vg_evtx *r, uint32_t fid, uint8_t type, const uint8_t *p, size_t n)
{
    int64_t i;
    if (type == VG_EVTX_T_STRING) {
        return add_utf16(r, fid, p, n);
    }
    if (type_fixed_size(type) && n >= type_fixed_size(type) && value_int(type, p, &i)) {
        char b[24];
        size_t len = fmt_i64(b, i);
        char *s = vg_arena_strndup(r->ev->arena, b, len);
        int rc = add_budget(r, len);
        if (rc != VG_OK || !s) {
            return s ? rc : VG_ENOMEM;
        }
        return vg_event_add_int(r->ev, fid, i, s, len);
    }
    vg_sbuf_reset(&r->sb);
    int rc = vg_evtx_render(&r->sb, type, p, n);
    if (rc != VG_OK) {
        return fail(r, 0, "value does not fit its type", rc);
    }
    if (r->sb.err) {
        return VG_ENOMEM;
    }
    return add_text(r, fid, r->sb.p ? r->sb.p : "", r->sb.len);
}

/*
 * Visit the elements of an array value (type | 0x80): NUL-terminated strings, consecutive
 * SIDs, or fixed-size items. Windows repeats the element once per item; here each item is
 * one occurrence of the field (or one comma-separated part of a mixed text).
 */
typedef int (*item_fn)(struct vg_evtx *r, uint32_t fid, uint8_t type, const uint8_t *p, size_t n);

static int array_each(struct vg_evtx *r, uint32_t fid, const struct vg_evtx_value *v, item_fn fn)
{
    uint8_t t = v->type & 0x7f;
    size_t fixed = type_fixed_size(t), n = v->size, i = 0;
    const uint8_t *p = v->p;
    int rc = VG_OK;
    if (t == VG_EVTX_T_STRING || t == VG_EVTX_T_ANSI) {
        size_t unit = t == VG_EVTX_T_STRING ? 2 : 1, start = 0;
        for (i = 0; i + unit <= n && rc == VG_OK; i += unit) {
            if (p[i] == 0 && (unit == 1 || p[i + 1] == 0)) {
                rc = fn(r, fid, t, p + start, i - start);
                start = i + unit;
            }
        }
        return rc == VG_OK && start + unit <= n ? fn(r, fid, t, p + start, n - start) : rc;
    }
    if (t == VG_EVTX_T_SID) {
        while (i + 8 <= n && rc == VG_OK) {
            size_t one = 8 + 4 * (size_t)p[i + 1];
            if (one > n - i) {
                return fail(r, 0, "truncated SID array", VG_EINVAL);
            }
            rc = fn(r, fid, t, p + i, one);
            i += one;
        }
        return rc;
    }
    if (t == VG_EVTX_T_SIZET) {
        fixed = n % 8 == 0 ? 8 : 4; /* pointer-sized: the item size follows the writer */
    } else if (!fixed) {
        return fn(r, fid, t, p, n); /* e.g. an array of binary: one value of all the bytes */
    }
    for (i = 0; i + fixed <= n && rc == VG_OK; i += fixed) {
        rc = fn(r, fid, t, p + i, fixed);
    }
    return rc;
}

static int emit_value(struct vg_evtx *r, uint32_t fid, const struct vg_evtx_value *v)
{
    if (v->type & VG_EVTX_T_ARRAY) {
        return array_each(r, fid, v, add_scalar);
    }
    return add_scalar(r, fid, v->type, v->p, v->size);
}

static int render_item(struct vg_evtx *r, uint32_t fid, uint8_t type, const uint8_t *p, size_t n)
{
    VG_UNUSED(fid);
    if (!r->item_first) {
        vg_sbuf_addc(&r->sb, ',');
    }
    r->item_first = false;
    int rc = vg_evtx_render(&r->sb, type, p, n);
    return rc != VG_OK ? fail(r, 0, "value does not fit its type", rc) : VG_OK;
}

/* Render pieces [a, b) as one text into r->sb. */
static int render_pieces(struct vg_evtx *r, size_t a, size_t b)
{
    int rc = VG_OK;
    vg_sbuf_reset(&r->sb);
    for (size_t i = a; i < b && rc == VG_OK; i++) {
        const struct evtx_piece *pc = &r->pieces[i];
        if (pc->lit) {
            vg_sbuf_add(&r->sb, pc->lit->s, pc->lit->len);
        } else if (pc->v.type & VG_EVTX_T_ARRAY) {
            r->item_first = true; /* items of an array in mixed text: comma-separated */
            rc = array_each(r, 0, &pc->v, render_item);
        } else {
            rc = vg_evtx_render(&r->sb, pc->v.type, pc->v.p, pc->v.size);
            rc = rc != VG_OK ? fail(r, 0, "value does not fit its type", rc) : VG_OK;
        }
    }
    return rc != VG_OK ? rc : r->sb.err;
}

/* The text pieces [a, b) as field fid: one typed value, or the concatenation as a string. */
static int emit_text(struct vg_evtx *r, uint32_t fid, size_t a, size_t b)
{
    if (fid == VG_FIELD_NONE || a == b) {
        return VG_OK;
    }
    if (b - a == 1) {
        const struct evtx_piece *pc = &r->pieces[a];
        return pc->lit ? add_text(r, fid, pc->lit->s, pc->lit->len) : emit_value(r, fid, &pc->v);
    }
    int rc = render_pieces(r, a, b);
    return rc != VG_OK ? rc : add_text(r, fid, r->sb.p ? r->sb.p : "", r->sb.len);
}

static int emit_null(struct vg_evtx *r, uint32_t fid)
{
    if (fid == VG_FIELD_NONE) {
        return VG_OK;
    }
    int rc = add_budget(r, 0);
    return rc != VG_OK ? rc : vg_event_add_null(r->ev, fid);
}

/*
 * Intern a Windows field name as the JSON decoder does (decode.h): spaces removed, so
 * <Data Name="Threat Name"> is ThreatName in both renderings. Names are cut to 255 bytes
 * (on a character boundary), the JSON decoder's limit: the registry is process-wide and
 * keeps every name it sees, so a hostile file must not be able to park 64 KiB names in it.
 */
static uint32_t intern_win_name(const char *s, size_t n)
{
    char buf[256];
    if (memchr(s, ' ', n)) {
        n = vg_winevt_data_name(buf, sizeof(buf), s, n);
        s = buf;
    }
    if (n > sizeof(buf) - 1) {
        n = sizeof(buf) - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    return vg_field_intern(s, n);
}

static uint32_t name_fid(struct evtx_name *nm)
{
    if (nm->fid == FID_UNSET) {
        nm->fid = intern_win_name(nm->s, nm->len);
    }
    return nm->fid;
}

/* ---------------------------------------------------------------- element finalisation */

/* FILETIME → vg_time_t when it fits (nanoseconds since 1970 overflow int64 after 2262). */
static bool filetime_to_time(uint64_t ft, vg_time_t *out)
{
    const uint64_t epoch = 116444736000000000ULL; /* 1970-01-01 as FILETIME */
    if (ft < epoch - (uint64_t)(INT64_MAX / 100) || ft - epoch > (uint64_t)(INT64_MAX / 100)) {
        return false;
    }
    *out = vg_time_from_filetime(ft);
    return true;
}

static uint32_t frame_text_end(const struct vg_evtx *r, const struct evtx_frame *f)
{
    return f->content ? (uint32_t)r->npieces : f->text0;
}

/* System timestamps and record numbers also set the event header. */
static void sys_hooks(struct vg_evtx *r, uint32_t fid, size_t a, size_t b)
{
    const struct vg_evtx_value *v = b - a == 1 && !r->pieces[a].lit ? &r->pieces[a].v : NULL;
    if (!v) {
        return;
    }
    if (fid == r->fid_systime && v->type == VG_EVTX_T_FILETIME && v->size >= 8) {
        filetime_to_time(vg_le64(v->p), &r->ev->ts);
    } else if (fid == r->fid_systime && v->type == VG_EVTX_T_STRING) {
        struct vg_field *f = vg_event_get(r->ev, fid);
        vg_time_t t;
        while (f && vg_event_next(r->ev, f)) {
            f = vg_event_next(r->ev, f);
        }
        if (f && vg_dec_time_parse(f->v.str, f->v.len, &t) == VG_OK) {
            r->ev->ts = t;
        }
    } else if (fid == r->fid_recid && type_fixed_size(v->type) &&
               v->size >= type_fixed_size(v->type)) {
        int64_t i;
        if (value_int(v->type, v->p, &i) || v->type == VG_EVTX_T_UINT64) {
            r->ev->record = v->type == VG_EVTX_T_UINT64 ? vg_le64(v->p) : (uint64_t)i;
        }
    }
}

static uint32_t sys_attr_fid(struct vg_evtx *r, const struct evtx_frame *f, struct evtx_op *op)
{
    if (op->fid == FID_UNSET) {
        char buf[512];
        size_t n = vg_winevt_attr_name(buf, sizeof(buf), f->name->s, f->name->len, op->u.name->s,
                                       op->u.name->len);
        op->fid = n ? intern_win_name(buf, n) : VG_FIELD_NONE;
    }
    return op->fid;
}

/* <Provider Name="x"/> → Provider_Name; <EventID>4688</EventID> → EventID; <Correlation/> → null.
 */
static int finish_sys_child(struct vg_evtx *r, struct evtx_frame *f)
{
    bool any = false;
    int rc = VG_OK;
    for (size_t i = f->attr0; i < r->nattrs && rc == VG_OK; i++) {
        struct evtx_attr *a = &r->attrs[i];
        if (!a->skip && a->piece1 > a->piece0) {
            uint32_t fid = sys_attr_fid(r, f, a->op);
            rc = emit_text(r, fid, a->piece0, a->piece1);
            sys_hooks(r, fid, a->piece0, a->piece1);
            any = true;
        }
    }
    uint32_t te = frame_text_end(r, f);
    if (rc == VG_OK && te > f->text0) {
        uint32_t fid = name_fid(f->name);
        rc = emit_text(r, fid, f->text0, te);
        sys_hooks(r, fid, f->text0, te);
        any = true;
    }
    if (rc == VG_OK && !any && !f->nchild) {
        rc = emit_null(r, name_fid(f->name));
    }
    return rc;
}

static bool frame_has_attrs(const struct vg_evtx *r, const struct evtx_frame *f)
{
    for (size_t i = f->attr0; i < r->nattrs; i++) {
        if (!r->attrs[i].skip && r->attrs[i].piece1 > r->attrs[i].piece0) {
            return true;
        }
    }
    return false;
}

/* The field id named by <Data Name="...">, or VG_FIELD_NONE when there is no Name. */
static uint32_t data_name_fid(struct vg_evtx *r, const struct evtx_frame *f)
{
    for (size_t i = f->attr0; i < r->nattrs; i++) {
        struct evtx_attr *a = &r->attrs[i];
        if (a->skip || a->op->u.name->kind != NK_NAME || a->piece1 == a->piece0) {
            continue;
        }
        if (a->piece1 - a->piece0 == 1 && r->pieces[a->piece0].lit) {
            struct evtx_lit *l = r->pieces[a->piece0].lit;
            if (l->fid == FID_UNSET) {
                l->fid = l->len ? intern_win_name(l->s, l->len) : r->fid_data;
            }
            return l->fid;
        }
        if (render_pieces(r, a->piece0, a->piece1) != VG_OK || r->sb.err) {
            return VG_FIELD_NONE;
        }
        return r->sb.len ? intern_win_name(r->sb.p, r->sb.len) : r->fid_data;
    }
    return VG_FIELD_NONE;
}

/*
 * <Data Name="N">v</Data> → N (spaces removed); <Data>v</Data> → Data; <Binary> → Binary;
 * other children of EventData by their element name.
 */
static int finish_ed_item(struct vg_evtx *r, struct evtx_frame *f)
{
    uint32_t te = frame_text_end(r, f);
    if (f->name->kind == NK_DATA) {
        uint32_t fid = data_name_fid(r, f);
        if (fid != VG_FIELD_NONE) {
            /* a named value renders as "" when empty, as Windows' JSON renderings do */
            return te > f->text0 ? emit_text(r, fid, f->text0, te) : add_text(r, fid, "", 0);
        }
        return te > f->text0 ? emit_text(r, r->fid_data, f->text0, te) : emit_null(r, r->fid_data);
    }
    uint32_t fid = name_fid(f->name);
    if (te > f->text0) {
        return emit_text(r, fid, f->text0, te);
    }
    return frame_has_attrs(r, f) || f->nchild ? VG_OK : emit_null(r, fid);
}

/* Below UserData: an element with text is a field by its own name; empty leaves are null. */
static int finish_ud(struct vg_evtx *r, struct evtx_frame *f)
{
    uint32_t te = frame_text_end(r, f), fid = name_fid(f->name);
    if (te > f->text0) {
        return emit_text(r, fid, f->text0, te);
    }
    return frame_has_attrs(r, f) || f->nchild ? VG_OK : emit_null(r, fid);
}

/* A dotted path as field id; paths past 1 KiB (hostile nesting of long names) are dropped. */
static uint32_t intern_path(const struct vg_sbuf *path)
{
    return path->err || path->len > 1024 ? VG_FIELD_NONE : vg_field_intern(path->p, path->len);
}

/* Elsewhere: the dotted path, with "#attributes.A" and "#text" as the JSON rendering has. */
static int finish_other(struct vg_evtx *r, struct evtx_frame *f)
{
    size_t plen = f->path_len;
    bool attrs = false;
    int rc = VG_OK;
    struct vg_sbuf *path = &r->path;
    for (size_t i = f->attr0; i < r->nattrs && rc == VG_OK; i++) {
        struct evtx_attr *a = &r->attrs[i];
        if (a->skip || a->piece1 == a->piece0) {
            continue;
        }
        path->len = plen;
        vg_sbuf_adds(path, ".#attributes.");
        vg_sbuf_add(path, a->op->u.name->s, a->op->u.name->len);
        rc = emit_text(r, intern_path(path), a->piece0, a->piece1);
        attrs = true;
    }
    path->len = plen;
    uint32_t te = frame_text_end(r, f);
    if (rc == VG_OK && te > f->text0) {
        if (attrs || f->nchild) {
            vg_sbuf_adds(path, ".#text");
        }
        rc = emit_text(r, intern_path(path), f->text0, te);
    } else if (rc == VG_OK && !attrs && !f->nchild) {
        rc = emit_null(r, intern_path(path));
    }
    path->len = plen;
    if (path->p) {
        path->p[plen] = '\0';
    }
    return rc;
}

static int frame_finish(struct vg_evtx *r, struct evtx_frame *f)
{
    if (f->skip) {
        return VG_OK;
    }
    switch (f->role) {
    case ROLE_SYS_CHILD:
        return finish_sys_child(r, f);
    case ROLE_EVENTDATA: /* text directly inside <EventData> */
        return emit_text(r, r->fid_data, f->text0, frame_text_end(r, f));
    case ROLE_ED_ITEM:
        return finish_ed_item(r, f);
    case ROLE_UD:
        return finish_ud(r, f);
    case ROLE_OTHER:
        return finish_other(r, f);
    default:
        return VG_OK;
    }
}

/* ================================================================ evaluation */

static uint8_t child_role(uint8_t parent, const struct evtx_name *nm)
{
    switch (parent) {
    case ROLE_ROOT:
        return nm->kind == NK_SYSTEM      ? ROLE_SYSTEM
               : nm->kind == NK_EVENTDATA ? ROLE_EVENTDATA
               : nm->kind == NK_USERDATA  ? ROLE_USERDATA
                                          : ROLE_OTHER;
    case ROLE_SYSTEM:
        return ROLE_SYS_CHILD;
    case ROLE_EVENTDATA:
        return ROLE_ED_ITEM;
    case ROLE_USERDATA:
    case ROLE_UD:
        return ROLE_UD;
    case ROLE_OTHER:
        return ROLE_OTHER;
    default:
        return ROLE_IGNORE;
    }
}

static int elem_open(struct vg_evtx *r, struct evtx_name *nm)
{
    if (r->nframes == VG_EVTX_MAX_DEPTH) {
        return fail(r, 0, "elements nested too deep", VG_ELIMIT);
    }
    if (r->cur_attr >= 0) {
        return fail(r, 0, "element inside an attribute value", VG_EINVAL);
    }
    struct evtx_frame *parent = r->nframes ? &r->frames[r->nframes - 1] : NULL;
    struct evtx_frame *f = &r->frames[r->nframes++];
    memset(f, 0, sizeof(*f));
    f->name = nm;
    f->attr0 = (uint32_t)r->nattrs;
    f->piece0 = f->text0 = (uint32_t)r->npieces;
    f->role = parent ? child_role(parent->role, nm) : ROLE_ROOT;
    f->skip = parent ? parent->skip : 0;
    if (parent) {
        parent->nchild++;
    }
    if (f->role == ROLE_OTHER) {
        r->path.len = parent && parent->role == ROLE_OTHER ? parent->path_len : 0;
        if (r->path.len) {
            vg_sbuf_addc(&r->path, '.');
        }
        vg_sbuf_add(&r->path, nm->s, nm->len);
        f->path_len = (uint32_t)r->path.len;
    }
    return VG_OK;
}

static int attr_open(struct vg_evtx *r, struct evtx_op *op)
{
    if (!r->nframes || r->frames[r->nframes - 1].content) {
        return fail(r, 0, "attribute outside a start tag", VG_EINVAL);
    }
    if (r->nattrs == r->cap_attrs &&
        vg_grow(&r->attrs, &r->cap_attrs, r->nattrs + 1, sizeof(*r->attrs))) {
        return VG_ENOMEM;
    }
    struct evtx_attr *a = &r->attrs[r->nattrs];
    a->op = op;
    a->piece0 = a->piece1 = (uint32_t)r->npieces;
    a->skip = 0;
    r->cur_attr = (int32_t)r->nattrs++;
    return VG_OK;
}

static int content_open(struct vg_evtx *r)
{
    if (!r->nframes || r->frames[r->nframes - 1].content) {
        return fail(r, 0, "misplaced close-start-element", VG_EINVAL);
    }
    struct evtx_frame *f = &r->frames[r->nframes - 1];
    r->cur_attr = -1;
    f->content = 1;
    f->text0 = (uint32_t)r->npieces;
    return VG_OK;
}

static int elem_close(struct vg_evtx *r, bool with_content)
{
    if (r->nframes <= r->floor || r->frames[r->nframes - 1].content != with_content) {
        return fail(r, 0, "unbalanced element end", VG_EINVAL);
    }
    struct evtx_frame *f = &r->frames[r->nframes - 1];
    r->cur_attr = -1;
    int rc = frame_finish(r, f);
    r->nattrs = f->attr0;
    r->npieces = f->piece0;
    r->nframes--;
    return rc;
}

static int piece_add(struct vg_evtx *r, struct evtx_lit *lit, const struct vg_evtx_value *v)
{
    if (!r->nframes || (r->cur_attr < 0 && !r->frames[r->nframes - 1].content)) {
        return VG_OK; /* text outside any element carries no field */
    }
    if (r->npieces == r->cap_pieces &&
        vg_grow(&r->pieces, &r->cap_pieces, r->npieces + 1, sizeof(*r->pieces))) {
        return VG_ENOMEM;
    }
    struct evtx_piece *pc = &r->pieces[r->npieces++];
    pc->lit = lit;
    if (v) {
        pc->v = *v;
    }
    if (r->cur_attr >= 0) {
        r->attrs[r->cur_attr].piece1 = (uint32_t)r->npieces;
    }
    return VG_OK;
}

static int eval(struct vg_evtx *r, struct evtx_op *ops, uint32_t n, const struct evtx_inst *in,
                unsigned nest);

/* A BinXML value (type 0x21) in element content: its elements become children here. */
static int eval_nested(struct vg_evtx *r, const struct vg_evtx_value *v, unsigned nest)
{
    struct evtx_op *ops;
    uint32_t n, off = (uint32_t)(v->p - r->chunk);
    if (r->cur_attr >= 0) {
        return VG_OK; /* markup cannot be an attribute value */
    }
    int rc = compile(r, off, off + v->size, false, r->rarena, &ops, &n);
    return rc != VG_OK ? rc : eval(r, ops, n, NULL, nest + 1);
}

static int subst(struct vg_evtx *r, const struct evtx_op *op, const struct evtx_inst *in,
                 unsigned nest)
{
    struct vg_evtx_value v = {NULL, 0, VG_EVTX_T_NULL};
    if (in && op->idx < in->nvals) {
        v = in->vals[op->idx];
    }
    if (op->opt && (v.type == VG_EVTX_T_NULL || v.size == 0)) {
        /* optional and empty: Windows leaves out the attribute, or the whole element */
        if (r->cur_attr >= 0) {
            r->attrs[r->cur_attr].skip = 1;
        } else if (r->nframes) {
            r->frames[r->nframes - 1].skip = 1;
        }
        return VG_OK;
    }
    if (v.type == VG_EVTX_T_NULL) {
        return VG_OK;
    }
    if (v.type == VG_EVTX_T_BINXML) {
        return eval_nested(r, &v, nest);
    }
    return piece_add(r, NULL, &v);
}

/*
 * Run operations with the substitution values of in (NULL outside templates). A template or
 * nested fragment must close exactly the elements it opens: r->floor keeps it from closing
 * its host's, and the depth check at the end from leaving its own open.
 */
static int eval(struct vg_evtx *r, struct evtx_op *ops, uint32_t n, const struct evtx_inst *in,
                unsigned nest)
{
    if (nest > VG_EVTX_MAX_NEST) {
        return fail(r, 0, "templates nested too deep", VG_ELIMIT);
    }
    uint32_t outer_floor = r->floor, base = r->nframes;
    r->floor = base;
    int rc = VG_OK;
    for (uint32_t i = 0; i < n && rc == VG_OK; i++) {
        struct evtx_op *op = &ops[i];
        if (++r->work > VG_EVTX_MAX_WORK) {
            rc = fail(r, 0, "work limit per record", VG_ELIMIT);
            break;
        }
        switch (op->k) {
        case OP_ELEM:
            rc = elem_open(r, op->u.name);
            break;
        case OP_ATTR:
            rc = attr_open(r, op);
            break;
        case OP_CONTENT:
            rc = content_open(r);
            break;
        case OP_EMPTY:
            rc = elem_close(r, false);
            break;
        case OP_END:
            rc = elem_close(r, true);
            break;
        case OP_TEXT:
            rc = piece_add(r, op->u.lit, NULL);
            break;
        case OP_SUBST:
            rc = subst(r, op, in, nest);
            break;
        case OP_TEMPLATE:
            rc = eval(r, op->u.inst->t->ops, op->u.inst->t->nops, op->u.inst, nest + 1);
            break;
        default:
            rc = fail(r, 0, "internal: unknown operation", VG_EINVAL);
        }
    }
    if (rc == VG_OK && nest > 0 && r->nframes != base) {
        rc = fail(r, 0, "template or nested BinXML leaves an element open", VG_EINVAL);
    }
    r->floor = outer_floor;
    return rc;
}

/* ================================================================ chunks and records */

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* Header checksum covers bytes [0, 120) and [128, 512); the records one [512, free space). */
static bool chunk_checksums_ok(const uint8_t *c, uint32_t clen, uint32_t free_off)
{
    uint32_t crc = vg_evtx_crc32(0, c, 120);
    crc = vg_evtx_crc32(crc, c + 128, VG_EVTX_CHUNK_HEADER_SIZE - 128);
    if (crc != vg_le32(c + 124)) {
        return false;
    }
    return free_off <= clen &&
           vg_evtx_crc32(0, c + VG_EVTX_CHUNK_HEADER_SIZE, free_off - VG_EVTX_CHUNK_HEADER_SIZE) ==
               vg_le32(c + 52);
}

/* Move to the next chunk that has a signature; VG_EOF when the image is exhausted. */
static int chunk_next(struct vg_evtx *r)
{
    while (r->next_slot < r->nslots) {
        size_t i = r->next_slot++;
        size_t off = VG_EVTX_FILE_HEADER_SIZE + i * VG_EVTX_CHUNK_SIZE;
        const uint8_t *c = r->data + off;
        uint32_t clen = (uint32_t)VG_MIN((size_t)VG_EVTX_CHUNK_SIZE, r->len - off);
        if (clen < 8 || memcmp(c, "ElfChnk", 8) != 0) {
            /* unused (zeroed) slots are normal; anything else is a damaged chunk */
            if (!all_zero(c, VG_MIN(clen, VG_EVTX_CHUNK_HEADER_SIZE))) {
                r->stats.chunks++;
                r->stats.bad_chunks++;
            }
            continue;
        }
        r->stats.chunks++;
        if (clen < VG_EVTX_CHUNK_HEADER_SIZE + VG_EVTX_RECORD_MIN) {
            r->stats.bad_chunks++;
            continue;
        }
        uint32_t free_off = vg_le32(c + 48);
        if (!chunk_checksums_ok(c, clen, free_off)) {
            /* dirty or damaged: counted, but the records are still worth reading */
            r->stats.bad_checksums++;
        }
        if (free_off < VG_EVTX_CHUNK_HEADER_SIZE || free_off > clen) {
            free_off = clen;
        }
        vg_arena_reset(r->carena);
        map_clear(&r->names);
        map_clear(&r->tmpls);
        r->chunk = c;
        r->clen = clen;
        r->chunk_no = i;
        r->rec_off = VG_EVTX_CHUNK_HEADER_SIZE;
        r->rec_end = free_off;
        r->in_chunk = true;
        return VG_OK;
    }
    return VG_EOF;
}

static const uint8_t rec_magic[4] = {0x2a, 0x2a, 0x00, 0x00};

/*
 * Find the record at r->rec_off. VG_OK with its size; VG_EOF when the chunk has no more;
 * VG_EINVAL after skipping damaged bytes up to the next record signature.
 */
static int record_find(struct vg_evtx *r, uint32_t *size)
{
    uint32_t o = r->rec_off;
    if ((size_t)o + VG_EVTX_RECORD_HEADER > r->rec_end) {
        return VG_EOF;
    }
    const uint8_t *p = r->chunk + o;
    if (memcmp(p, rec_magic, 4) == 0) {
        uint32_t sz = vg_le32(p + 4);
        if (sz >= VG_EVTX_RECORD_MIN && sz <= r->rec_end - o && vg_le32(p + sz - 4) == sz) {
            *size = sz;
            return VG_OK;
        }
    }
    /* resynchronise on the next signature; all-zero slack after the last record is clean */
    const uint8_t *next = memmem(p + 1, r->rec_end - o - 1, rec_magic, 4);
    r->rec_off = next ? (uint32_t)(next - r->chunk) : r->rec_end;
    if (!next && all_zero(p, r->rec_end - o)) {
        return VG_EOF;
    }
    return fail(r, o, "damaged record header", VG_EINVAL);
}

static void record_reset(struct vg_evtx *r, struct vg_event *ev)
{
    vg_arena_reset(r->rarena);
    r->ev = ev;
    r->work = r->nfields = 0;
    r->out_bytes = 0;
    r->nframes = r->floor = 0;
    r->nattrs = r->npieces = r->nops = 0;
    r->cur_attr = -1;
    r->path.len = 0;
    r->why = NULL;
}

static int record_decode(struct vg_evtx *r, struct vg_event *ev, uint32_t off, uint32_t size)
{
    const uint8_t *p = r->chunk + off;
    struct evtx_op *ops;
    uint32_t n;
    record_reset(r, ev);
    ev->kind = VG_EK_WINDOWS;
    ev->record = vg_le64(p + 8);
    int rc = compile(r, off + VG_EVTX_RECORD_HEADER, off + size - 4, false, r->rarena, &ops, &n);
    if (rc == VG_OK) {
        rc = eval(r, ops, n, NULL, 0);
    }
    if (rc == VG_OK && r->nframes) {
        rc = fail(r, off, "element not closed at the end of the record", VG_EINVAL);
    }
    if (rc == VG_OK && ev->ts == VG_TIME_NONE) {
        filetime_to_time(vg_le64(p + 16), &ev->ts); /* the record's written time */
    }
    return rc;
}

static void report(const struct vg_evtx *r, uint32_t off, int rc, char *err, size_t errsz)
{
    if (!err || !errsz) {
        return;
    }
    const char *why = r->why ? r->why : vg_strerror(rc);
    if (r->where) {
        snprintf(err, errsz, "evtx: chunk %zu record at 0x%x: %s (at chunk offset 0x%x)",
                 r->chunk_no, off, why, r->where);
    } else {
        snprintf(err, errsz, "evtx: chunk %zu record at 0x%x: %s", r->chunk_no, off, why);
    }
}

/* ================================================================ public API */

int vg_evtx_open(struct vg_evtx **out, const uint8_t *data, size_t len)
{
    struct vg_evtx *r = NULL;
    if (!out || (!data && len)) {
        return VG_EINVAL;
    }
    *out = NULL;
    if (len < 8 || memcmp(data, "ElfFile", 8) != 0) {
        return VG_DECLINED;
    }
    r = vg_calloc(1, sizeof(*r));
    if (!r) {
        goto fail;
    }
    r->data = data;
    r->len = len;
    r->nslots = len > VG_EVTX_FILE_HEADER_SIZE
                    ? (len - VG_EVTX_FILE_HEADER_SIZE + VG_EVTX_CHUNK_SIZE - 1) / VG_EVTX_CHUNK_SIZE
                    : 0;
    r->cur_attr = -1;
    r->carena = vg_arena_create(64 * 1024);
    r->rarena = vg_arena_create(64 * 1024);
    r->fid_data = vg_field_intern("Data", 4);
    r->fid_systime = vg_field_intern("TimeCreated_SystemTime", 22);
    r->fid_recid = vg_field_intern("EventRecordID", 13);
    if (!r->carena || !r->rarena || r->fid_data == VG_FIELD_NONE ||
        r->fid_systime == VG_FIELD_NONE || r->fid_recid == VG_FIELD_NONE) {
        goto fail;
    }
    /* a damaged file header is tolerated (chunks are found by position), but counted */
    if (len >= 128 && vg_evtx_crc32(0, data, 120) != vg_le32(data + 124)) {
        r->stats.bad_checksums++;
    }
    *out = r;
    return VG_OK;
fail:
    vg_evtx_close(r);
    return VG_ENOMEM;
}

int vg_evtx_next(struct vg_evtx *r, struct vg_event *ev, char *err, size_t errsz)
{
    if (!r || !ev) {
        return VG_EINVAL;
    }
    for (;;) {
        uint32_t size = 0, off;
        if (!r->in_chunk && chunk_next(r) == VG_EOF) {
            return VG_EOF;
        }
        off = r->rec_off;
        r->why = NULL;
        int rc = record_find(r, &size);
        if (rc == VG_EOF) {
            r->in_chunk = false;
            continue;
        }
        if (rc == VG_OK) {
            r->rec_off = off + size; /* past it whatever happens: progress is guaranteed */
            rc = record_decode(r, ev, off, size);
        }
        if (rc == VG_OK) {
            r->stats.records++;
            return VG_OK;
        }
        r->stats.bad_records++;
        report(r, off, rc, err, errsz);
        return rc == VG_ENOMEM ? VG_ENOMEM : VG_EINVAL;
    }
}

const struct vg_evtx_stats *vg_evtx_stats(const struct vg_evtx *r)
{
    return &r->stats;
}

uint64_t vg_evtx_crc_errors(const struct vg_evtx *r)
{
    return r->stats.bad_checksums;
}

void vg_evtx_close(struct vg_evtx *r)
{
    if (!r) {
        return;
    }
    vg_arena_destroy(r->carena);
    vg_arena_destroy(r->rarena);
    vg_free(r->names.s);
    vg_free(r->tmpls.s);
    vg_free(r->ops);
    vg_free(r->attrs);
    vg_free(r->pieces);
    vg_sbuf_fini(&r->sb);
    vg_sbuf_fini(&r->path);
    vg_free(r);
}
