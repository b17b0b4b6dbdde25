/*
 * core_buf.c — the bounded reader (struct vg_rbuf) through which untrusted bytes are read,
 * and the growable string builder (struct vg_sbuf) used by every writer.
 */
#include "core/core.h"

#include <string.h>

int vg_rbuf_skip(struct vg_rbuf *b, size_t n)
{
    if (vg_rbuf_left(b) < n) {
        return VG_ETRUNC;
    }
    b->off += n;
    return VG_OK;
}

int vg_rbuf_seek(struct vg_rbuf *b, size_t off)
{
    if (off > b->len) {
        return VG_ETRUNC;
    }
    b->off = off;
    return VG_OK;
}

int vg_rbuf_u8(struct vg_rbuf *b, uint8_t *out)
{
    if (vg_rbuf_left(b) < 1) {
        return VG_ETRUNC;
    }
    *out = b->p[b->off++];
    return VG_OK;
}

int vg_rbuf_u16le(struct vg_rbuf *b, uint16_t *out)
{
    if (vg_rbuf_left(b) < 2) {
        return VG_ETRUNC;
    }
    *out = vg_le16(b->p + b->off);
    b->off += 2;
    return VG_OK;
}

int vg_rbuf_u32le(struct vg_rbuf *b, uint32_t *out)
{
    if (vg_rbuf_left(b) < 4) {
        return VG_ETRUNC;
    }
    *out = vg_le32(b->p + b->off);
    b->off += 4;
    return VG_OK;
}

int vg_rbuf_u64le(struct vg_rbuf *b, uint64_t *out)
{
    if (vg_rbuf_left(b) < 8) {
        return VG_ETRUNC;
    }
    *out = vg_le64(b->p + b->off);
    b->off += 8;
    return VG_OK;
}

int vg_rbuf_bytes(struct vg_rbuf *b, size_t n, const uint8_t **out)
{
    if (vg_rbuf_left(b) < n) {
        return VG_ETRUNC;
    }
    *out = b->p + b->off;
    b->off += n;
    return VG_OK;
}

int vg_rbuf_until(struct vg_rbuf *b, uint8_t delim, const uint8_t **out, size_t *n)
{
    const uint8_t *start = b->p + b->off;
    const uint8_t *hit = memchr(start, delim, vg_rbuf_left(b));
    if (!hit) {
        return VG_ETRUNC;
    }
    *out = start;
    *n = (size_t)(hit - start);
    b->off += *n + 1;
    return VG_OK;
}

/* ---------------------------------------------------------------- string builder */

void vg_sbuf_fini(struct vg_sbuf *s)
{
    vg_free(s->p);
    s->p = NULL;
    s->len = s->cap = 0;
    s->err = 0;
}

void vg_sbuf_reset(struct vg_sbuf *s)
{
    s->len = 0;
    s->err = 0;
    if (s->p) {
        s->p[0] = '\0';
    }
}

int vg_sbuf_reserve(struct vg_sbuf *s, size_t extra)
{
    if (s->err) {
        return s->err;
    }
    size_t need = s->len + extra + 1;
    if (need <= s->cap) {
        return VG_OK;
    }
    size_t ncap = s->cap ? s->cap : 256;
    while (ncap < need) {
        ncap *= 2;
    }
    char *np = vg_realloc(s->p, ncap);
    if (!np) {
        s->err = VG_ENOMEM;
        return VG_ENOMEM;
    }
    s->p = np;
    s->cap = ncap;
    return VG_OK;
}

void vg_sbuf_add(struct vg_sbuf *s, const void *p, size_t n)
{
    if (vg_sbuf_reserve(s, n) != VG_OK) {
        return;
    }
    if (n) { /* p may be NULL when n is 0 */
        memcpy(s->p + s->len, p, n);
    }
    s->len += n;
    s->p[s->len] = '\0';
}

void vg_sbuf_addc(struct vg_sbuf *s, char c)
{
    if (vg_sbuf_reserve(s, 1) != VG_OK) {
        return;
    }
    s->p[s->len++] = c;
    s->p[s->len] = '\0';
}

void vg_sbuf_adds(struct vg_sbuf *s, const char *str)
{
    vg_sbuf_add(s, str, strlen(str));
}

void vg_sbuf_vprintf(struct vg_sbuf *s, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0 || vg_sbuf_reserve(s, (size_t)n) != VG_OK) {
        return;
    }
    vsnprintf(s->p + s->len, (size_t)n + 1, fmt, ap);
    s->len += (size_t)n;
}

void vg_sbuf_printf(struct vg_sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vg_sbuf_vprintf(s, fmt, ap);
    va_end(ap);
}

/* Length of the valid UTF-8 sequence starting at p (1..4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
        c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
        c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return 0;
    }
    return len;
}

size_t vg_utf8_put(char *d, uint32_t cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

uint32_t vg_utf8_next(const char *p, size_t n, size_t *i)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t l = u[*i] < 0x80 ? 1 : utf8_seq_len(u + *i, n - *i);
    if (l <= 1) {
        return u[(*i)++];
    }
    uint32_t cp = u[*i] & (0xFFu >> (l + 1));
    for (size_t k = 1; k < l; k++) {
        cp = (cp << 6) | (u[*i + k] & 0x3F);
    }
    *i += l;
    return cp;
}

bool vg_utf8_valid(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t l = utf8_seq_len(u + i, n - i);
        if (!l) {
            return false;
        }
        i += l;
    }
    return true;
}

void vg_sbuf_add_json_str(struct vg_sbuf *s, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)p;
    if (vg_sbuf_reserve(s, n + 2) != VG_OK) {
        return;
    }
    vg_sbuf_addc(s, '"');
    size_t run = 0; /* start of the pending run of bytes that need no escaping */
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t l = c >= 0x80 ? utf8_seq_len(u + i, n - i) : 0;
        if (l) {
            i += l;
            continue;
        }
        vg_sbuf_add(s, p + run, i - run);
        switch (c) {
        case '"':
            vg_sbuf_add(s, "\\\"", 2);
            break;
        case '\\':
            vg_sbuf_add(s, "\\\\", 2);
            break;
        case '\n':
            vg_sbuf_add(s, "\\n", 2);
            break;
        case '\r':
            vg_sbuf_add(s, "\\r", 2);
            break;
        case '\t':
            vg_sbuf_add(s, "\\t", 2);
            break;
        default:
            if (c < 0x20) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                vg_sbuf_add(s, esc, 6);
            } else {
                vg_sbuf_add(s, "\xEF\xBF\xBD", 3); /* invalid UTF-8 byte → U+FFFD */
            }
        }
        i++;
        run = i;
    }
    vg_sbuf_add(s, p + run, n - run);
    vg_sbuf_addc(s, '"');
}

char *vg_sbuf_take(struct vg_sbuf *s, size_t *len)
{
    if (!s->p && vg_sbuf_reserve(s, 0) != VG_OK) {
        return NULL;
    }
    char *p = s->p;
    if (len) {
        *len = s->len;
    }
    s->p = NULL;
    s->len = s->cap = 0;
    return p;
}
