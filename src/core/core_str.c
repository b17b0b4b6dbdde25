/*
 * core_str.c — small string helpers: bounded copy, case folding (ASCII + common 2-byte
 * UTF-8 scripts, length-preserving), number parsing without locale or errno surprises, and
 * a byte-level glob matcher.
 */
#include "core/core.h"

#include <math.h>
#if defined(__x86_64__) || defined(__SSE2__)
#include <emmintrin.h>
#define VG_HAVE_SSE2 1
#endif
#include <stdlib.h>
#include <string.h>

size_t vg_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

/* Lower-case a code point in U+0080..U+07FF if its lower case also encodes in 2 bytes. */
static unsigned fold_cp2(unsigned cp)
{
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
        return cp + 0x20; /* Latin-1 */
    }
    if (cp >= 0x100 && cp <= 0x17F) { /* Latin Extended-A: alternating pairs */
        if (cp == 0x130 || cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F) {
            return cp;
        }
        if (cp == 0x178) {
            return 0xFF;
        }
        bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
        if (odd_upper) {
            return (cp & 1) ? cp + 1 : cp;
        }
        return (cp & 1) ? cp : cp + 1;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) {
        return cp + 0x20; /* Greek */
    }
    if (cp >= 0x410 && cp <= 0x42F) {
        return cp + 0x20; /* Cyrillic */
    }
    if (cp >= 0x400 && cp <= 0x40F) {
        return cp + 0x50;
    }
    return cp;
}

uint32_t vg_fold_partner(uint32_t cp)
{
    if (cp >= 0xC0 && cp <= 0x45F) {
        /* search the (small) domain of fold_cp2 for a code point that folds to cp */
        for (uint32_t up = 0xC0; up <= 0x42F; up++) {
            if (up != cp && fold_cp2(up) == cp) {
                return up;
            }
        }
    }
    return cp;
}

void vg_fold(char *dst, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *d = (unsigned char *)dst;
    size_t i = 0;
    while (i < n) {
#ifdef VG_HAVE_SSE2
        /* 16 ASCII bytes at a time: add 32 to 'A'..'Z' */
        while (i + 16 <= n) {
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            if (_mm_movemask_epi8(b)) {
                break; /* non-ASCII byte in this block: per-byte path */
            }
            __m128i ge = _mm_cmpgt_epi8(b, _mm_set1_epi8('A' - 1));
            __m128i le = _mm_cmplt_epi8(b, _mm_set1_epi8('Z' + 1));
            __m128i up = _mm_and_si128(_mm_and_si128(ge, le), _mm_set1_epi8(32));
            _mm_storeu_si128((__m128i *)(void *)(d + i), _mm_add_epi8(b, up));
            i += 16;
        }
        if (i >= n) {
            break;
        }
#endif
        unsigned c = s[i];
        if (c < 0x80) {
            d[i] = (unsigned char)(c - 'A' < 26u ? c + 32 : c);
            i++;
            continue;
        }
        if (c >= 0xC3 && c <= 0xD1 && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
            unsigned cp = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F);
            unsigned lc = fold_cp2(cp);
            d[i] = (unsigned char)(0xC0 | (lc >> 6));
            d[i + 1] = (unsigned char)(0x80 | (lc & 0x3F));
            i += 2;
            continue;
        }
        d[i] = (unsigned char)c;
        i++;
    }
}

bool vg_fold_is_identity(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
#ifdef VG_HAVE_SSE2
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i ge = _mm_cmpgt_epi8(b, _mm_set1_epi8('A' - 1));
        __m128i le = _mm_cmplt_epi8(b, _mm_set1_epi8('Z' + 1));
        /* upper-case ASCII, or any byte >= 0x80 (checked precisely below) */
        if (_mm_movemask_epi8(_mm_or_si128(_mm_and_si128(ge, le), b))) {
            break;
        }
    }
#endif
    for (; i < n; i++) {
        unsigned c = s[i];
        if (c - 'A' < 26u || (c >= 0xC3 && c <= 0xD1)) {
            return false;
        }
    }
    return true;
}

bool vg_str_eq(const char *a, size_t an, const char *b, size_t bn)
{
    return an == bn && memcmp(a, b, an) == 0;
}

bool vg_str_ieq_ascii(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) {
        return false;
    }
    for (size_t i = 0; i < an; i++) {
        unsigned x = (unsigned char)a[i], y = (unsigned char)b[i];
        x = x - 'A' < 26u ? x + 32 : x;
        y = y - 'A' < 26u ? y + 32 : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

int vg_parse_i64(const char *p, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+')) {
        neg = p[i] == '-';
        i++;
    }
    if (i >= n) {
        return VG_EINVAL;
    }
    uint64_t v = 0;
    if (n - i > 2 && p[i] == '0' && (p[i + 1] == 'x' || p[i + 1] == 'X')) {
        i += 2;
        for (; i < n; i++) {
            unsigned c = (unsigned char)p[i], d;
            if (c - '0' < 10u) {
                d = c - '0';
            } else if ((c | 32) - 'a' < 6u) {
                d = (c | 32) - 'a' + 10;
            } else {
                return VG_EINVAL;
            }
            if (v >> 60) {
                return VG_ELIMIT;
            }
            v = v * 16 + d;
        }
    } else {
        for (; i < n; i++) {
            unsigned d = (unsigned char)p[i] - '0';
            if (d > 9) {
                return VG_EINVAL;
            }
            if (v > (UINT64_MAX - d) / 10) {
                return VG_ELIMIT;
            }
            v = v * 10 + d;
        }
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) {
            return VG_ELIMIT;
        }
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX) {
            /* unsigned 64-bit values (e.g. Keywords) keep their bit pattern */
            *out = (int64_t)v;
            return VG_OK;
        }
        *out = (int64_t)v;
    }
    return VG_OK;
}

int vg_parse_double(const char *p, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf)) {
        return VG_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
            return VG_EINVAL;
        }
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end = NULL;
    double d = strtod(buf, &end);
    if (end != buf + n || !isfinite(d)) {
        return VG_EINVAL;
    }
    *out = d;
    return VG_OK;
}

bool vg_glob_match(const char *pat, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < pn && (pat[pi] == '?' || pat[pi] == s[si])) {
            pi++;
            si++;
        } else if (pi < pn && pat[pi] == '*') {
            star_p = pi++;
            star_s = si;
        } else if (star_p != SIZE_MAX) {
            pi = star_p + 1;
            si = ++star_s;
        } else {
            return false;
        }
    }
    while (pi < pn && pat[pi] == '*') {
        pi++;
    }
    return pi == pn;
}

const char *vg_memmem(const char *hay, size_t n, const char *needle, size_t m)
{
    if (m == 0) {
        return hay;
    }
    if (m > n) {
        return NULL;
    }
    if (m == 1) {
        return memchr(hay, needle[0], n);
    }
    size_t i = 0;
#ifdef VG_HAVE_SSE2
    /* W. Muła's "generic SIMD" substring search: a 16-byte block is a candidate where both
     * the needle's first byte (at i) and last byte (at i + m - 1) match. */
    const __m128i first = _mm_set1_epi8(needle[0]);
    const __m128i last = _mm_set1_epi8(needle[m - 1]);
    for (; i + m - 1 + 16 <= n; i += 16) {
        __m128i bf = _mm_loadu_si128((const __m128i *)(const void *)(hay + i));
        __m128i bl = _mm_loadu_si128((const __m128i *)(const void *)(hay + i + m - 1));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(bf, first), _mm_cmpeq_epi8(bl, last)));
        while (mask) {
            unsigned bit = (unsigned)__builtin_ctz(mask);
            if (memcmp(hay + i + bit + 1, needle + 1, m - 2) == 0) {
                return hay + i + bit;
            }
            mask &= mask - 1;
        }
    }
#endif
    for (; i + m <= n; i++) {
        const char *p = memchr(hay + i, needle[0], n - m + 1 - i);
        if (!p) {
            return NULL;
        }
        i = (size_t)(p - hay);
        if (memcmp(p + 1, needle + 1, m - 1) == 0) {
            return p;
        }
    }
    return NULL;
}
