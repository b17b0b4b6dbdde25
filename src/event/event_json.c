/*
 * event_json.c — a zero-copy JSON reader (DOM into an arena) and writer.
 *
 * Strings without escapes point into the input; escaped strings are decoded into the arena.
 * Children of arrays/objects are gathered on a reusable stack and copied once into the arena
 * when the container closes, so a document costs one pass and no per-node malloc. Depth and
 * document size are bounded. Errors report the byte offset and the reason.
 */
#include "event/event.h"

#include <string.h>
#if defined(__x86_64__) || defined(__SSE2__)
#include <emmintrin.h>
#define VG_JSON_SSE2 1
#endif

struct vg_json_parser {
    struct vg_json_limits lim;
    struct vg_json *stack; /* pending children of open containers */
    size_t sp, cap;
};

struct pctx {
    struct vg_json_parser *p;
    struct vg_arena *arena;
    const char *s;
    size_t n;
    size_t i;
    char *err;
    size_t errsz;
};

struct vg_json_parser *vg_json_parser_create(const struct vg_json_limits *lim)
{
    struct vg_json_parser *p = vg_calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->lim.max_depth = lim && lim->max_depth ? lim->max_depth : 128;
    p->lim.max_len = lim && lim->max_len ? lim->max_len : (64u << 20);
    return p;
}

void vg_json_parser_destroy(struct vg_json_parser *p)
{
    if (!p) {
        return;
    }
    vg_free(p->stack);
    vg_free(p);
}

static int fail(struct pctx *c, int rc, const char *why)
{
    if (c->errsz) {
        snprintf(c->err, c->errsz, "offset %zu: %s", c->i, why);
    }
    return rc;
}

static inline void skip_ws(struct pctx *c)
{
    while (c->i < c->n) {
        char ch = c->s[c->i];
        if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') {
            break;
        }
        c->i++;
    }
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    ch |= 32;
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return -1;
}

static int read_u4(struct pctx *c, size_t at, unsigned *out)
{
    if (at + 4 > c->n) {
        return VG_ETRUNC;
    }
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)c->s[at + k]);
        if (h < 0) {
            return VG_EINVAL;
        }
        v = (v << 4) | (unsigned)h;
    }
    *out = v;
    return VG_OK;
}

/* Decode an escaped string body [start, end) into the arena. */
static int unescape(struct pctx *c, size_t start, size_t end, struct vg_json *out)
{
    char *d = vg_arena_alloc(c->arena, end - start + 1);
    if (!d) {
        return fail(c, VG_ENOMEM, "out of memory");
    }
    size_t o = 0;
    for (size_t i = start; i < end; i++) {
        /* copy the run up to the next backslash in one go */
        const char *bs = memchr(c->s + i, '\\', end - i);
        size_t run = bs ? (size_t)(bs - (c->s + i)) : end - i;
        memcpy(d + o, c->s + i, run);
        o += run;
        i += run;
        if (i >= end) {
            break;
        }
        char e = c->s[++i];
        switch (e) {
        case '"':
        case '\\':
        case '/':
            d[o++] = e;
            break;
        case 'b':
            d[o++] = '\b';
            break;
        case 'f':
            d[o++] = '\f';
            break;
        case 'n':
            d[o++] = '\n';
            break;
        case 'r':
            d[o++] = '\r';
            break;
        case 't':
            d[o++] = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            c->i = i;
            if (read_u4(c, i + 1, &cp) != VG_OK) {
                return fail(c, VG_EINVAL, "bad \\u escape");
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < end + 1 && c->s[i + 1] == '\\' &&
                c->s[i + 2] == 'u' && read_u4(c, i + 3, &lo) == VG_OK && lo >= 0xDC00 &&
                lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD; /* lone surrogate */
            }
            o += vg_utf8_put(d + o, cp);
            break;
        }
        default:
            c->i = i;
            return fail(c, VG_EINVAL, "bad escape in string");
        }
    }
    d[o] = '\0';
    out->s = d;
    out->n = (uint32_t)o;
    return VG_OK;
}

/* Offset of the first '"' or '\\' in p[0..n), or n. */
static size_t find_quote_or_escape(const char *p, size_t n)
{
    size_t i = 0;
#ifdef VG_JSON_SSE2
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned m =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, q), _mm_cmpeq_epi8(b, bs)));
        if (m) {
            return i + (size_t)__builtin_ctz(m);
        }
    }
#endif
    for (; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\') {
            return i;
        }
    }
    return n;
}

static int parse_string(struct pctx *c, struct vg_json *out)
{
    size_t start = ++c->i; /* after the opening quote */
    size_t k = start + find_quote_or_escape(c->s + start, c->n - start);
    if (k >= c->n) {
        c->i = c->n;
        return fail(c, VG_ETRUNC, "unterminated string");
    }
    out->type = VG_JSON_STRING;
    if (c->s[k] == '"') { /* common case: no escapes, zero copy */
        if (k - start > UINT32_MAX) {
            return fail(c, VG_ELIMIT, "string too long");
        }
        out->s = c->s + start;
        out->n = (uint32_t)(k - start);
        c->i = k + 1;
        return VG_OK;
    }
    /* escapes: find the closing quote, skipping escaped characters (SIMD between them) */
    for (size_t i = k; i < c->n; i += find_quote_or_escape(c->s + i, c->n - i)) {
        if (c->s[i] == '\\') {
            i += 2;
            if (i >= c->n) {
                break;
            }
            continue;
        }
        if (c->s[i] == '"') {
            if (i - start > UINT32_MAX) {
                return fail(c, VG_ELIMIT, "string too long");
            }
            int rc = unescape(c, start, i, out);
            c->i = i + 1; /* after: unescape moves c->i to report error offsets */
            return rc;
        }
    }
    c->i = c->n;
    return fail(c, VG_ETRUNC, "unterminated string");
}

static int parse_number(struct pctx *c, struct vg_json *out)
{
    size_t start = c->i, i = c->i;
    bool neg = false, isint = true;
    if (c->s[i] == '-') {
        neg = true;
        i++;
    }
    uint64_t v = 0;
    size_t digits_start = i;
    while (i < c->n && (unsigned)((unsigned char)c->s[i] - '0') < 10u) {
        unsigned d = (unsigned)(c->s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            isint = false;
        }
        v = v * 10 + d;
        i++;
    }
    if (i == digits_start) {
        return fail(c, VG_EINVAL, "invalid number");
    }
    if (i < c->n && c->s[i] == '.') {
        isint = false;
        i++;
        size_t fs = i;
        while (i < c->n && (unsigned)((unsigned char)c->s[i] - '0') < 10u) {
            i++;
        }
        if (i == fs) {
            c->i = i;
            return fail(c, i >= c->n ? VG_ETRUNC : VG_EINVAL, "invalid number");
        }
    }
    if (i < c->n && (c->s[i] == 'e' || c->s[i] == 'E')) {
        isint = false;
        i++;
        if (i < c->n && (c->s[i] == '+' || c->s[i] == '-')) {
            i++;
        }
        size_t es = i;
        while (i < c->n && (unsigned)((unsigned char)c->s[i] - '0') < 10u) {
            i++;
        }
        if (i == es) {
            c->i = i;
            return fail(c, i >= c->n ? VG_ETRUNC : VG_EINVAL, "invalid number");
        }
    }
    out->type = VG_JSON_NUMBER;
    out->s = c->s + start;
    out->n = (uint32_t)(i - start);
    c->i = i;
    if (isint && (neg ? v <= (uint64_t)INT64_MAX + 1 : v <= (uint64_t)INT64_MAX)) {
        out->is_int = 1;
        out->u.i = neg ? (int64_t)(0 - v) : (int64_t)v;
    } else {
        out->is_int = 0;
        if (vg_parse_double(out->s, out->n, &out->u.d) != VG_OK) {
            out->u.d = 0;
        }
    }
    return VG_OK;
}

static int push(struct pctx *c, const struct vg_json *v)
{
    struct vg_json_parser *p = c->p;
    if (VG_UNLIKELY(p->sp == p->cap) &&
        vg_grow(&p->stack, &p->cap, p->sp + 1, sizeof(*p->stack)) != VG_OK) {
        return fail(c, VG_ENOMEM, "out of memory");
    }
    p->stack[p->sp++] = *v;
    return VG_OK;
}

static int parse_value(struct pctx *c, struct vg_json *out, uint32_t depth);

static int close_container(struct pctx *c, struct vg_json *out, size_t base, uint8_t type,
                           size_t count)
{
    struct vg_json_parser *p = c->p;
    size_t k = p->sp - base;
    out->type = type;
    out->n = (uint32_t)count;
    out->u.items = NULL;
    if (k) {
        out->u.items = vg_arena_alloc(c->arena, k * sizeof(struct vg_json));
        if (!out->u.items) {
            return fail(c, VG_ENOMEM, "out of memory");
        }
        memcpy(out->u.items, p->stack + base, k * sizeof(struct vg_json));
    }
    p->sp = base;
    return VG_OK;
}

static int parse_array(struct pctx *c, struct vg_json *out, uint32_t depth)
{
    size_t base = c->p->sp, count = 0;
    c->i++;
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == ']') {
        c->i++;
        return close_container(c, out, base, VG_JSON_ARRAY, 0);
    }
    for (;;) {
        struct vg_json v;
        int rc = parse_value(c, &v, depth + 1);
        if (rc != VG_OK || (rc = push(c, &v)) != VG_OK) {
            c->p->sp = base;
            return rc;
        }
        count++;
        skip_ws(c);
        if (c->i >= c->n) {
            c->p->sp = base;
            return fail(c, VG_ETRUNC, "unterminated array");
        }
        char ch = c->s[c->i++];
        if (ch == ']') {
            break;
        }
        if (ch != ',') {
            c->i--;
            c->p->sp = base;
            return fail(c, VG_EINVAL, "expected ',' or ']' in array");
        }
        skip_ws(c);
    }
    if (count > UINT32_MAX) {
        return fail(c, VG_ELIMIT, "array too large");
    }
    return close_container(c, out, base, VG_JSON_ARRAY, count);
}

static int parse_object(struct pctx *c, struct vg_json *out, uint32_t depth)
{
    size_t base = c->p->sp, count = 0;
    c->i++;
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == '}') {
        c->i++;
        return close_container(c, out, base, VG_JSON_OBJECT, 0);
    }
    int rc;
    for (;;) {
        struct vg_json k, v;
        if (c->i >= c->n) {
            rc = fail(c, VG_ETRUNC, "unterminated object");
            goto fail;
        }
        if (c->s[c->i] != '"') {
            rc = fail(c, VG_EINVAL, "expected a string key in object");
            goto fail;
        }
        if ((rc = parse_string(c, &k)) != VG_OK) {
            goto fail;
        }
        skip_ws(c);
        if (c->i >= c->n) {
            rc = fail(c, VG_ETRUNC, "unterminated object");
            goto fail;
        }
        if (c->s[c->i] != ':') {
            rc = fail(c, VG_EINVAL, "expected ':' after key");
            goto fail;
        }
        c->i++;
        if ((rc = parse_value(c, &v, depth + 1)) != VG_OK || (rc = push(c, &k)) != VG_OK ||
            (rc = push(c, &v)) != VG_OK) {
            goto fail;
        }
        count++;
        skip_ws(c);
        if (c->i >= c->n) {
            rc = fail(c, VG_ETRUNC, "unterminated object");
            goto fail;
        }
        char ch = c->s[c->i++];
        if (ch == '}') {
            break;
        }
        if (ch != ',') {
            c->i--;
            rc = fail(c, VG_EINVAL, "expected ',' or '}' in object");
            goto fail;
        }
        skip_ws(c);
    }
    return close_container(c, out, base, VG_JSON_OBJECT, count);
fail:
    c->p->sp = base;
    return rc;
}

static int literal(struct pctx *c, const char *word, size_t wl, uint8_t type, struct vg_json *out)
{
    size_t avail = c->n - c->i;
    if (memcmp(c->s + c->i, word, VG_MIN(avail, wl)) != 0) {
        return fail(c, VG_EINVAL, "invalid literal");
    }
    if (avail < wl) {
        c->i = c->n;
        return fail(c, VG_ETRUNC, "truncated literal");
    }
    c->i += wl;
    out->type = type;
    out->s = word;
    out->n = (uint32_t)wl;
    return VG_OK;
}

static int parse_value(struct pctx *c, struct vg_json *out, uint32_t depth)
{
    if (depth > c->p->lim.max_depth) {
        return fail(c, VG_ELIMIT, "nesting too deep");
    }
    skip_ws(c);
    if (c->i >= c->n) {
        return fail(c, VG_ETRUNC, "unexpected end of input");
    }
    memset(out, 0, sizeof(*out));
    switch (c->s[c->i]) {
    case '{':
        return parse_object(c, out, depth);
    case '[':
        return parse_array(c, out, depth);
    case '"':
        return parse_string(c, out);
    case 't':
        return literal(c, "true", 4, VG_JSON_TRUE, out);
    case 'f':
        return literal(c, "false", 5, VG_JSON_FALSE, out);
    case 'n':
        return literal(c, "null", 4, VG_JSON_NULL, out);
    default:
        if (c->s[c->i] == '-' || (unsigned)((unsigned char)c->s[c->i] - '0') < 10u) {
            return parse_number(c, out);
        }
        return fail(c, VG_EINVAL, "unexpected character");
    }
}

int vg_json_parse(struct vg_json_parser *p, struct vg_arena *arena, const char *text, size_t len,
                  size_t *consumed, struct vg_json **out, char *err, size_t errsz)
{
    struct pctx c = {.p = p, .arena = arena, .s = text, .n = len, .err = err, .errsz = errsz};
    if (errsz) {
        err[0] = '\0';
    }
    p->sp = 0;
    skip_ws(&c);
    if (c.i >= c.n) {
        *consumed = c.n;
        return VG_EOF;
    }
    struct vg_json *v = vg_arena_alloc(arena, sizeof(*v));
    if (!v) {
        return fail(&c, VG_ENOMEM, "out of memory");
    }
    /* bound the document size: parse against a window so a missing brace cannot consume
     * gigabytes before failing */
    size_t start = c.i;
    if (c.n - start > p->lim.max_len) {
        c.n = start + p->lim.max_len;
    }
    int rc = parse_value(&c, v, 0);
    if (rc == VG_ETRUNC && c.n < len) {
        rc = fail(&c, VG_ELIMIT, "document exceeds the size limit");
    }
    *consumed = c.i;
    if (rc == VG_OK) {
        *out = v;
    }
    return rc;
}

const struct vg_json *vg_json_get(const struct vg_json *obj, const char *key)
{
    if (!obj || obj->type != VG_JSON_OBJECT) {
        return NULL;
    }
    size_t kl = strlen(key);
    for (uint32_t k = 0; k < obj->n; k++) {
        const struct vg_json *kk = &obj->u.items[2 * k];
        if (kk->n == kl && memcmp(kk->s, key, kl) == 0) {
            return &obj->u.items[2 * k + 1];
        }
    }
    return NULL;
}

bool vg_json_str_is(const struct vg_json *v, const char *s)
{
    return v && v->type == VG_JSON_STRING && v->n == strlen(s) && memcmp(v->s, s, v->n) == 0;
}

void vg_json_write(const struct vg_json *v, struct vg_sbuf *out)
{
    switch (v->type) {
    case VG_JSON_STRING:
        vg_sbuf_add_json_str(out, v->s, v->n);
        break;
    case VG_JSON_ARRAY:
        vg_sbuf_addc(out, '[');
        for (uint32_t k = 0; k < v->n; k++) {
            if (k) {
                vg_sbuf_addc(out, ',');
            }
            vg_json_write(&v->u.items[k], out);
        }
        vg_sbuf_addc(out, ']');
        break;
    case VG_JSON_OBJECT:
        vg_sbuf_addc(out, '{');
        for (uint32_t k = 0; k < v->n; k++) {
            if (k) {
                vg_sbuf_addc(out, ',');
            }
            vg_json_write(&v->u.items[2 * k], out);
            vg_sbuf_addc(out, ':');
            vg_json_write(&v->u.items[2 * k + 1], out);
        }
        vg_sbuf_addc(out, '}');
        break;
    default:
        vg_sbuf_add(out, v->s, v->n);
    }
}

/* ---------------------------------------------------------------- JSON → event */

int vg_event_add_json(struct vg_event *ev, uint32_t id, const struct vg_json *v)
{
    switch (v->type) {
    case VG_JSON_NULL:
        return vg_event_add_null(ev, id);
    case VG_JSON_TRUE:
    case VG_JSON_FALSE:
        return vg_event_add_bool(ev, id, v->type == VG_JSON_TRUE);
    case VG_JSON_NUMBER:
        if (v->is_int) {
            return vg_event_add_int(ev, id, v->u.i, v->s, v->n);
        }
        return vg_event_add_double(ev, id, v->u.d, v->s, v->n);
    case VG_JSON_STRING:
        return vg_event_add_str(ev, id, v->s, v->n);
    default: {
        /* a nested container kept as one field: its compact JSON text */
        struct vg_sbuf sb = VG_SBUF_INIT;
        vg_json_write(v, &sb);
        int rc = sb.err ? sb.err : vg_event_add_strdup(ev, id, sb.p, sb.len);
        vg_sbuf_fini(&sb);
        return rc;
    }
    }
}

static int flatten(struct vg_event *ev, const struct vg_json *v, struct vg_sbuf *path, int depth)
{
    if (v->type == VG_JSON_OBJECT && depth < 32) {
        size_t mark = path->len;
        for (uint32_t k = 0; k < v->n; k++) {
            const struct vg_json *key = &v->u.items[2 * k];
            path->len = mark;
            if (mark) {
                vg_sbuf_addc(path, '.');
            }
            vg_sbuf_add(path, key->s, key->n);
            if (path->err) {
                return path->err;
            }
            int rc = flatten(ev, &v->u.items[2 * k + 1], path, depth + 1);
            if (rc != VG_OK) {
                return rc;
            }
        }
        path->len = mark;
        return VG_OK;
    }
    if (v->type == VG_JSON_ARRAY && depth < 32) {
        for (uint32_t k = 0; k < v->n; k++) {
            int rc = flatten(ev, &v->u.items[k], path, depth + 1);
            if (rc != VG_OK) {
                return rc;
            }
        }
        return VG_OK;
    }
    uint32_t id = vg_field_intern(path->p ? path->p : "", path->len);
    if (id == VG_FIELD_NONE) {
        return VG_OK; /* registry full: field dropped (bounded registry) */
    }
    return vg_event_add_json(ev, id, v);
}

int vg_event_from_json(struct vg_event *ev, const struct vg_json *doc, const char *prefix)
{
    struct vg_sbuf path = VG_SBUF_INIT;
    if (prefix) {
        vg_sbuf_adds(&path, prefix);
    }
    int rc = flatten(ev, doc, &path, 0);
    vg_sbuf_fini(&path);
    return rc;
}
