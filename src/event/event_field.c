/*
 * event_field.c — the process-wide field registry: name → dense id, id → name.
 *
 * Readers never lock: the hash table is published through an atomic pointer and each slot
 * is written once (hash tag + id) after the name it refers to. Writers serialise on a mutex
 * and grow the table by building a bigger copy and swapping the pointer; retired tables are
 * kept until exit because a reader may still be probing them. The registry is bounded
 * (VG_FIELD_MAX ids, VG_FIELD_NAME_BYTES_MAX bytes of names) so hostile input with endless
 * unique keys cannot grow it forever.
 */
#include "event/event.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define VG_FIELD_MAX            (1u << 20)
#define VG_FIELD_NAME_BYTES_MAX (64u << 20) /* all names together */
#define CHUNK_BITS              10
#define CHUNK_SIZE              (1u << CHUNK_BITS)
#define NCHUNKS                 (VG_FIELD_MAX / CHUNK_SIZE)

struct name_ent {
    const char *name;
    uint32_t len;
};

struct reg_table {
    uint32_t mask;
    struct reg_table *retired; /* previous table, kept alive */
    _Atomic uint64_t slots[];  /* 0 = empty; else (tag << 32) | (id + 1) */
};

static _Atomic(struct name_ent *) chunks[NCHUNKS];
static _Atomic(struct reg_table *) table;
static _Atomic uint32_t count;
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vg_arena *name_arena;
static size_t name_bytes;

static inline uint64_t name_hash(const char *s, size_t n)
{
    return vg_hash64(s, n, 0x7f4a7c15u);
}

static inline const struct name_ent *ent_of(uint32_t id)
{
    struct name_ent *c = atomic_load_explicit(&chunks[id >> CHUNK_BITS], memory_order_acquire);
    return &c[id & (CHUNK_SIZE - 1)];
}

static uint32_t probe(const struct reg_table *t, uint64_t h, const char *s, size_t n)
{
    uint32_t tag = (uint32_t)(h >> 32);
    for (uint32_t i = (uint32_t)h & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = atomic_load_explicit(&((struct reg_table *)t)->slots[i], memory_order_acquire);
        if (v == 0) {
            return VG_FIELD_NONE;
        }
        if ((uint32_t)(v >> 32) == tag) {
            uint32_t id = (uint32_t)v - 1;
            const struct name_ent *e = ent_of(id);
            if (e->len == n && memcmp(e->name, s, n) == 0) {
                return id;
            }
        }
    }
}

uint32_t vg_field_lookup(const char *name, size_t len)
{
    struct reg_table *t = atomic_load_explicit(&table, memory_order_acquire);
    if (!t) {
        return VG_FIELD_NONE;
    }
    return probe(t, name_hash(name, len), name, len);
}

static void slot_put(struct reg_table *t, uint64_t h, uint32_t id)
{
    uint32_t i = (uint32_t)h & t->mask;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != 0) {
        i = (i + 1) & t->mask;
    }
    atomic_store_explicit(&t->slots[i], ((h >> 32) << 32) | ((uint64_t)id + 1),
                          memory_order_release);
}

static struct reg_table *table_new(uint32_t size)
{
    struct reg_table *t = vg_calloc(1, sizeof(*t) + size * sizeof(t->slots[0]));
    if (t) {
        t->mask = size - 1;
    }
    return t;
}

/* Called with reg_lock held: make room for one more entry. */
static int ensure_capacity(uint32_t n)
{
    struct reg_table *t = atomic_load_explicit(&table, memory_order_relaxed);
    if (t && (uint64_t)(n + 1) * 2 <= (uint64_t)t->mask + 1) {
        return VG_OK;
    }
    uint32_t size = t ? (t->mask + 1) * 2 : 4096;
    struct reg_table *nt = table_new(size);
    if (!nt) {
        return VG_ENOMEM;
    }
    for (uint32_t id = 0; id < n; id++) {
        const struct name_ent *e = ent_of(id);
        slot_put(nt, name_hash(e->name, e->len), id);
    }
    nt->retired = t;
    atomic_store_explicit(&table, nt, memory_order_release);
    return VG_OK;
}

/*
 * Decoders intern the same few dozen names for every event; a small per-thread cache keyed
 * by the name's length and first/last bytes answers most of them with one comparison,
 * before the registry's full hash and probe.
 */
#define ICACHE_SLOTS 512

struct icache_ent {
    uint64_t key;
    uint32_t id;
};
static _Thread_local struct icache_ent icache[ICACHE_SLOTS];

static inline uint64_t icache_key(const char *s, size_t n)
{
    uint64_t a = 0, b = 0;
    memcpy(&a, s, n < 8 ? n : 8);
    if (n > 8) {
        memcpy(&b, s + n - 8, 8);
    }
    uint64_t k = (a ^ (b * 0x9E3779B97F4A7C15ULL)) + n * 0xff51afd7ed558ccdULL;
    return k ^ (k >> 29);
}

uint32_t vg_field_intern(const char *name, size_t len)
{
    uint64_t key = icache_key(name, len);
    struct icache_ent *e = &icache[key & (ICACHE_SLOTS - 1)];
    if (e->key == key && e->id != 0) {
        size_t l;
        const char *known = vg_field_name(e->id - 1, &l);
        if (l == len && memcmp(known, name, len) == 0) {
            return e->id - 1;
        }
    }
    uint32_t id = vg_field_lookup(name, len);
    if (id != VG_FIELD_NONE) {
        e->key = key;
        e->id = id + 1;
    }
    if (id != VG_FIELD_NONE) {
        return id;
    }
    pthread_mutex_lock(&reg_lock);
    struct reg_table *t = atomic_load_explicit(&table, memory_order_relaxed);
    uint64_t h = name_hash(name, len);
    id = t ? probe(t, h, name, len) : VG_FIELD_NONE;
    if (id != VG_FIELD_NONE) {
        goto out;
    }
    uint32_t n = atomic_load_explicit(&count, memory_order_relaxed);
    if (n >= VG_FIELD_MAX || len > UINT32_MAX || name_bytes + len > VG_FIELD_NAME_BYTES_MAX) {
        goto out;
    }
    if (!name_arena && !(name_arena = vg_arena_create(65536))) {
        goto out;
    }
    if (ensure_capacity(n) != VG_OK) {
        goto out;
    }
    struct name_ent *c = atomic_load_explicit(&chunks[n >> CHUNK_BITS], memory_order_relaxed);
    if (!c) {
        c = vg_calloc(CHUNK_SIZE, sizeof(*c));
        if (!c) {
            goto out;
        }
        atomic_store_explicit(&chunks[n >> CHUNK_BITS], c, memory_order_release);
    }
    char *copy = vg_arena_strndup(name_arena, name, len);
    if (!copy) {
        goto out;
    }
    name_bytes += len + 1;
    c[n & (CHUNK_SIZE - 1)].name = copy;
    c[n & (CHUNK_SIZE - 1)].len = (uint32_t)len;
    atomic_store_explicit(&count, n + 1, memory_order_release);
    slot_put(atomic_load_explicit(&table, memory_order_relaxed), h, n);
    id = n;
out:
    pthread_mutex_unlock(&reg_lock);
    return id;
}

const char *vg_field_name(uint32_t id, size_t *len)
{
    if (id >= atomic_load_explicit(&count, memory_order_acquire)) {
        if (len) {
            *len = 0;
        }
        return "";
    }
    const struct name_ent *e = ent_of(id);
    if (len) {
        *len = e->len;
    }
    return e->name;
}

uint32_t vg_field_count(void)
{
    return atomic_load_explicit(&count, memory_order_acquire);
}
