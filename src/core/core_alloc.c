/*
 * core_alloc.c — allocation wrappers with a failure-injection hook, and arenas.
 *
 * Every heap allocation in Vigie goes through vg_malloc & co. so a test can make the n-th
 * allocation fail (vg_alloc_fail_at) and check that the failure is reported, not crashed on.
 * Arenas (bump allocators with a block list) own the many small allocations of one unit of
 * work: an event, a compiled ruleset, a YAML file.
 */
#include "core/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown; /* 0 = disabled; else fail when it reaches 1 */

void vg_alloc_fail_at(long n)
{
    atomic_store(&fail_countdown, n);
}

static bool should_fail(void)
{
    long v = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (VG_LIKELY(v == 0)) {
        return false;
    }
    v = atomic_fetch_sub(&fail_countdown, 1);
    if (v == 1) {
        return true;
    }
    if (v <= 0) { /* raced past zero: disable */
        atomic_store(&fail_countdown, 0);
    }
    return false;
}

void *vg_malloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(size ? size : 1);
}

void *vg_calloc(size_t n, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(n ? n : 1, size ? size : 1);
}

void *vg_realloc(void *p, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(p, size ? size : 1);
}

void vg_free(void *p)
{
    free(p);
}

char *vg_strndup(const char *s, size_t n)
{
    char *d = vg_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *vg_strdup(const char *s)
{
    return vg_strndup(s, strlen(s));
}

int vg_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    void **p = pp;
    if (need <= *cap) {
        return VG_OK;
    }
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem) {
            return VG_ENOMEM;
        }
        ncap *= 2;
    }
    void *np = vg_realloc(*p, ncap * elem);
    if (!np) {
        return VG_ENOMEM;
    }
    *p = np;
    *cap = ncap;
    return VG_OK;
}

/* ---------------------------------------------------------------- arena */

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

struct vg_arena {
    struct arena_block *head;  /* current block (front of list) */
    struct arena_block *first; /* block kept across resets */
    size_t block_size;
    size_t total;
};

static struct arena_block *block_new(size_t size)
{
    struct arena_block *b = vg_malloc(sizeof(*b) + size);
    if (b) {
        b->next = NULL;
        b->size = size;
        b->used = 0;
    }
    return b;
}

struct vg_arena *vg_arena_create(size_t block_size)
{
    struct vg_arena *a = vg_calloc(1, sizeof(*a));
    if (!a) {
        return NULL;
    }
    a->block_size = block_size ? block_size : 16384;
    a->first = block_new(a->block_size);
    if (!a->first) {
        vg_free(a);
        return NULL;
    }
    a->head = a->first;
    return a;
}

void vg_arena_destroy(struct vg_arena *a)
{
    if (!a) {
        return;
    }
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *n = b->next;
        vg_free(b);
        b = n;
    }
    vg_free(a);
}

void vg_arena_reset(struct vg_arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *n = b->next;
        if (b != a->first) {
            vg_free(b);
        }
        b = n;
    }
    a->head = a->first;
    a->first->next = NULL;
    a->first->used = 0;
    a->total = 0;
}

void *vg_arena_alloc(struct vg_arena *a, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    struct arena_block *b = a->head;
    if (VG_LIKELY(b->size - b->used >= size)) {
        void *p = b->data + b->used;
        b->used += size;
        a->total += size;
        return p;
    }
    bool oneoff = size > a->block_size / 4;
    struct arena_block *nb = block_new(oneoff ? size : a->block_size);
    if (!nb) {
        return NULL;
    }
    if (oneoff) {
        /* a big allocation gets its own block behind the current one, so the space left in
         * the current block stays usable */
        nb->next = b->next;
        b->next = nb;
    } else {
        nb->next = b;
        a->head = nb;
    }
    nb->used = size;
    a->total += size;
    return nb->data;
}

void *vg_arena_calloc(struct vg_arena *a, size_t size)
{
    void *p = vg_arena_alloc(a, size);
    if (p) {
        memset(p, 0, size);
    }
    return p;
}

char *vg_arena_strndup(struct vg_arena *a, const char *s, size_t n)
{
    char *d = vg_arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *vg_arena_strdup(struct vg_arena *a, const char *s)
{
    return vg_arena_strndup(a, s, strlen(s));
}

char *vg_arena_printf(struct vg_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NULL;
    }
    char *d = vg_arena_alloc(a, (size_t)n + 1);
    if (!d) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

size_t vg_arena_used(const struct vg_arena *a)
{
    return a->total;
}
