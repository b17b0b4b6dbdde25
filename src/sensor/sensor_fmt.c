/*
 * sensor_fmt.c — decimal formatting for the sensor's record writers (sensor_fmt.h): numbers
 * written straight into a reserved buffer, two digits per step, without printf. Its own file
 * so that a parser using it does not pull the record writer into a test that replaces it.
 */
#include "sensor/sensor_fmt.h"

/* "00".."99": two decimal digits per step. */
const char vg_sensor_dig2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Decimal digits of v >= 10 (2..20): from the bit length, then one comparison. */
static inline unsigned u64_ndigits(uint64_t v)
{
    static const uint64_t p10[20] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};
    unsigned t = ((64u - (unsigned)__builtin_clzll(v | 1)) * 1233u) >> 12;
    return t + (v >= p10[t]);
}

/* v in decimal at p, written back to front two digits at a time (eight-digit blocks of large
 * values in 32-bit arithmetic); returns the end. */
char *vg_sensor_fmt_u64(char *p, uint64_t v)
{
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    char *end = p + u64_ndigits(v), *o = end;
    while (v >= 100000000) {
        uint32_t lo = (uint32_t)(v % 100000000);
        v /= 100000000;
        for (int k = 0; k < 4; k++) {
            uint32_t d = lo % 100 * 2;
            lo /= 100;
            *--o = vg_sensor_dig2[d + 1];
            *--o = vg_sensor_dig2[d];
        }
    }
    uint32_t w = (uint32_t)v;
    while (w >= 100) {
        uint32_t d = w % 100 * 2;
        w /= 100;
        *--o = vg_sensor_dig2[d + 1];
        *--o = vg_sensor_dig2[d];
    }
    if (w >= 10) {
        *--o = vg_sensor_dig2[w * 2 + 1];
        *--o = vg_sensor_dig2[w * 2];
    } else {
        *--o = (char)('0' + w);
    }
    return end;
}
