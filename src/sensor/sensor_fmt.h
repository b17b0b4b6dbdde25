/*
 * sensor_fmt.h — number formatting and the JSON "needs no escaping" test shared by the
 * sensor's record writers (sensor_eve.c, the DNS logger): the hot path writes straight into a
 * reserved buffer, without printf.
 */
#ifndef VG_SENSOR_FMT_H
#define VG_SENSOR_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* "00".."99": the two digits of 0..99 at [2 * n]. */
extern const char vg_sensor_dig2[201];

/* Most bytes vg_sensor_fmt_u64 writes (UINT64_MAX has 20 digits). */
#define VG_SENSOR_FMT_U64_MAX 20

/* Write v in decimal at p (room for VG_SENSOR_FMT_U64_MAX bytes, no NUL); returns the end. */
char *vg_sensor_fmt_u64(char *p, uint64_t v);

/* Bytes of the 8-byte word w that need escaping: control, '"', '\\', 0x7F, >= 0x80 (each
 * lane's top bit; exact as to whether any lane is set). */
static inline uint64_t vg_sensor_json_unsafe8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\'), d = w ^ (ones * 0x7F);
    uint64_t ctl = (w - ones * 0x20) & ~w;
    uint64_t z = ((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d);
    return (w | ctl | z) & high;
}

/* Does p[0..n) need no JSON escaping at all (checked 16 bytes at a time)? The fast path of
 * the record writers: a plain string is one memcpy. */
static inline bool vg_sensor_json_plain(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t a, b;
        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);
        if (vg_sensor_json_unsafe8(a) | vg_sensor_json_unsafe8(b)) {
            return false;
        }
    }
    if (i + 8 <= n) {
        uint64_t a, b;
        memcpy(&a, p + i, 8);
        memcpy(&b, p + n - 8, 8); /* the last 8 bytes, overlapping what was checked */
        return !(vg_sensor_json_unsafe8(a) | vg_sensor_json_unsafe8(b));
    }
    if (n >= 8) {
        uint64_t a;
        memcpy(&a, p + n - 8, 8);
        return !vg_sensor_json_unsafe8(a);
    }
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7F) {
            return false;
        }
    }
    return true;
}

#endif
