/*
 * core_hash.c — a fast 64-bit hash for in-memory tables (field registry, rule indexes,
 * correlation group keys). Word-at-a-time multiply-mix; not for secret-keyed tables.
 */
#include "core/core.h"

#include <string.h>

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

uint64_t vg_hash64(const void *data, size_t n, uint64_t seed)
{
    const unsigned char *p = data;
    const uint64_t m = 0x9E3779B97F4A7C15ULL;
    uint64_t h = seed ^ (n * m);
    while (n >= 8) {
        uint64_t k = load64(p) * 0xbf58476d1ce4e5b9ULL;
        k ^= k >> 31;
        h = (h ^ k) * m;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t k = 0;
        memcpy(&k, p, n);
        k *= 0x94d049bb133111ebULL;
        h = (h ^ k ^ (k >> 27)) * m;
    }
    return vg_hash_mix(h);
}
