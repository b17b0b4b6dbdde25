/*
 * query_agg.c — the aggregation pipes: stats, top and timechart, computed in C over the
 * matching events streamed from the store, into a table of text rows that the later
 * sort/head pipes reorder and cut.
 *
 * Groups live in one hash table keyed by the group values (the first occurrence of each
 * "by" field, as Splunk does; an event without one of them is left out). dc() keeps a set
 * of distinct values per group; sum/avg/min/max read values as numbers and skip the rest.
 * timechart groups by (time bucket, series value) and fills empty buckets with zeros; it
 * keeps the ten series with the largest totals and folds the others into OTHER.
 */
#include "query/query_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TC_SERIES      10
#define TC_MAX_BUCKETS 10000
#define MAX_GROUPS     (1u << 22) /* distinct groups kept; beyond it: error */

/* ---------------------------------------------------------------- string sets (dc) */

struct strset {
    struct {
        uint64_t h;
        const char *s;
        uint32_t n;
    } * slots;
    size_t cap, count;
};

static int strset_add(struct strset *s, struct vg_arena *a, const char *p, size_t n)
{
    if ((s->count + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        void *nv = vg_calloc(ncap, sizeof(*s->slots));
        if (!nv) {
            return VG_ENOMEM;
        }
        struct strset old = *s;
        s->slots = nv;
        s->cap = ncap;
        s->count = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (old.slots[i].s) {
                size_t j = old.slots[i].h & (ncap - 1);
                while (s->slots[j].s) {
                    j = (j + 1) & (ncap - 1);
                }
                s->slots[j] = old.slots[i];
                s->count++;
            }
        }
        vg_free(old.slots);
    }
    uint64_t h = vg_hash64(p, n, 7);
    size_t j = h & (s->cap - 1);
    for (; s->slots[j].s; j = (j + 1) & (s->cap - 1)) {
        if (s->slots[j].h == h && s->slots[j].n == n && !memcmp(s->slots[j].s, p, n)) {
            return VG_OK;
        }
    }
    char *c = vg_arena_strndup(a, p, n);
    if (!c) {
        return VG_ENOMEM;
    }
    s->slots[j].h = h;
    s->slots[j].s = c;
    s->slots[j].n = (uint32_t)n;
    s->count++;
    return VG_OK;
}

/* ---------------------------------------------------------------- groups */

struct aggv {
    double sum, min, max;
    uint64_t n; /* numeric values seen (sum/avg/min/max), or events (count(f)) */
    struct strset dc;
};

struct group {
    char **keys;
    uint32_t *klen;
    uint64_t hash;
    uint64_t count;
    struct aggv *v;
};

struct qagg_state {
    const struct qpipe *p;
    struct vg_arena *arena;
    struct group *groups;
    size_t ngroups, capgroups;
    uint32_t *index; /* open addressing: group index + 1 */
    size_t icap;
    size_t nkeys; /* key columns: by fields (+ the bucket for timechart) */
    uint64_t total;
    int64_t span;
    vg_time_t from, to;
    struct vg_sbuf scratch;
};

/* A "nice" timechart span giving about 100 buckets over the range. */
static int64_t span_auto(vg_time_t from, vg_time_t to)
{
    static const int64_t steps[] = {1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 43200, 86400};
    int64_t range = 86400, d;
    if (from != VG_TIME_NONE && to != VG_TIME_NONE && to > from) {
        range = __builtin_sub_overflow(to, from, &d) ? INT64_MAX / 1000000000 : d / 1000000000;
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(steps); i++) {
        if (range / steps[i] <= 100) {
            return steps[i] * 1000000000;
        }
    }
    return 86400LL * 1000000000 * (1 + range / 86400 / 100);
}

int vg_query_agg_create(const struct qpipe *p, vg_time_t from, vg_time_t to,
                        struct qagg_state **out)
{
    struct qagg_state *a = vg_calloc(1, sizeof(*a));
    if (!a || !(a->arena = vg_arena_create(65536))) {
        vg_free(a);
        return VG_ENOMEM;
    }
    a->p = p;
    a->from = from;
    a->to = to;
    a->nkeys = p->nby + (p->kind == QP_TIMECHART);
    a->span = p->kind == QP_TIMECHART ? (p->span ? p->span : span_auto(from, to)) : 0;
    *out = a;
    return VG_OK;
}

void vg_query_agg_destroy(struct qagg_state *a)
{
    if (!a) {
        return;
    }
    for (size_t g = 0; g < a->ngroups; g++) {
        for (size_t k = 0; a->groups[g].v && k < a->p->naggs; k++) {
            vg_free(a->groups[g].v[k].dc.slots);
        }
    }
    vg_free(a->groups);
    vg_free(a->index);
    vg_sbuf_fini(&a->scratch);
    vg_arena_destroy(a->arena);
    vg_free(a);
}

static int index_grow(struct qagg_state *a)
{
    size_t ncap = a->icap ? a->icap * 2 : 1024;
    uint32_t *ni = vg_calloc(ncap, sizeof(*ni));
    if (!ni) {
        return VG_ENOMEM;
    }
    for (size_t g = 0; g < a->ngroups; g++) {
        size_t j = a->groups[g].hash & (ncap - 1);
        while (ni[j]) {
            j = (j + 1) & (ncap - 1);
        }
        ni[j] = (uint32_t)g + 1;
    }
    vg_free(a->index);
    a->index = ni;
    a->icap = ncap;
    return VG_OK;
}

static bool group_is(const struct group *g, const char *const *k, const uint32_t *kl, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (g->klen[i] != kl[i] || memcmp(g->keys[i], k[i], kl[i]) != 0) {
            return false;
        }
    }
    return true;
}

static int group_new(struct qagg_state *a, const char *const *k, const uint32_t *kl, uint64_t h,
                     size_t slot, struct group **out)
{
    if (a->ngroups >= MAX_GROUPS) {
        return VG_ELIMIT;
    }
    if (vg_grow(&a->groups, &a->capgroups, a->ngroups + 1, sizeof(*a->groups)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct group *g = &a->groups[a->ngroups];
    memset(g, 0, sizeof(*g));
    g->keys = vg_arena_alloc(a->arena, a->nkeys * sizeof(*g->keys) + 1);
    g->klen = vg_arena_alloc(a->arena, a->nkeys * sizeof(*g->klen) + 1);
    g->v = vg_arena_calloc(a->arena, a->p->naggs * sizeof(*g->v) + 1);
    if (!g->keys || !g->klen || !g->v) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < a->nkeys; i++) {
        if (!(g->keys[i] = vg_arena_strndup(a->arena, k[i], kl[i]))) {
            return VG_ENOMEM;
        }
        g->klen[i] = kl[i];
    }
    g->hash = h;
    a->index[slot] = (uint32_t)++a->ngroups;
    *out = g;
    return VG_OK;
}

static int group_get(struct qagg_state *a, const char *const *k, const uint32_t *kl,
                     struct group **out)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < a->nkeys; i++) {
        h = vg_hash64(k[i], kl[i], h);
    }
    if ((a->ngroups + 1) * 2 > a->icap && index_grow(a) != VG_OK) {
        return VG_ENOMEM;
    }
    size_t j = h & (a->icap - 1);
    for (; a->index[j]; j = (j + 1) & (a->icap - 1)) {
        struct group *g = &a->groups[a->index[j] - 1];
        if (g->hash == h && group_is(g, k, kl, a->nkeys)) {
            *out = g;
            return VG_OK;
        }
    }
    return group_new(a, k, kl, h, j, out);
}

/* ---------------------------------------------------------------- feeding */

static int agg_value(struct qagg_state *a, struct aggv *v, const struct qagg *ag,
                     struct vg_event *ev)
{
    if (!ag->field) {
        return VG_OK; /* count: the group's event count */
    }
    const struct vg_field *f = vg_event_get(ev, ag->fid);
    if (!f || f->v.type == VG_V_NULL) {
        return VG_OK;
    }
    if (ag->fn == AG_COUNT) {
        v->n++;
        return VG_OK;
    }
    if (ag->fn == AG_DC) {
        for (; f; f = vg_event_next(ev, f)) {
            if (strset_add(&v->dc, a->arena, f->v.str, f->v.len) != VG_OK) {
                return VG_ENOMEM;
            }
        }
        return VG_OK;
    }
    double d;
    int64_t i;
    bool is_int;
    if (!vg_value_number(&f->v, &d, &i, &is_int)) {
        return VG_OK;
    }
    v->min = v->n ? fmin(v->min, d) : d;
    v->max = v->n ? fmax(v->max, d) : d;
    v->sum += d;
    v->n++;
    return VG_OK;
}

int vg_query_agg_add(struct qagg_state *a, struct vg_event *ev, const char *tenant)
{
    const char *k[16];
    uint32_t kl[16];
    char bucket[24];
    size_t nk = 0;
    if (a->nkeys > VG_ARRAY_LEN(k)) {
        return VG_ELIMIT;
    }
    if (a->p->kind == QP_TIMECHART) {
        if (ev->ts == VG_TIME_NONE) {
            return VG_OK;
        }
        int64_t b = ev->ts / a->span - (ev->ts % a->span < 0);
        kl[nk] = (uint32_t)snprintf(bucket, sizeof(bucket), "%lld", (long long)b);
        k[nk++] = bucket;
    }
    for (size_t i = 0; i < a->p->nby; i++, nk++) {
        if (!strcmp(a->p->by[i].name, QF_TENANT) && tenant) {
            k[nk] = tenant;
            kl[nk] = (uint32_t)strlen(tenant);
            continue;
        }
        const struct vg_field *f = vg_event_get(ev, a->p->by[i].fid);
        if (!f || f->v.type == VG_V_NULL) {
            return VG_OK; /* no value for a group field: not counted */
        }
        k[nk] = f->v.str;
        kl[nk] = f->v.len;
    }
    struct group *g;
    int rc = group_get(a, k, kl, &g);
    if (rc != VG_OK) {
        return rc;
    }
    g->count++;
    a->total++;
    for (size_t i = 0; rc == VG_OK && i < a->p->naggs; i++) {
        rc = agg_value(a, &g->v[i], &a->p->aggs[i], ev);
    }
    return rc;
}

/* ---------------------------------------------------------------- tables */

static struct qtable *table_new(size_t ncols)
{
    struct qtable *t = vg_calloc(1, sizeof(*t));
    if (!t || !(t->arena = vg_arena_create(65536)) ||
        !(t->cols = vg_arena_calloc(t->arena, ncols * sizeof(*t->cols) + 1)) ||
        !(t->numeric = vg_arena_calloc(t->arena, ncols * sizeof(*t->numeric) + 1))) {
        vg_query_table_destroy(t);
        return NULL;
    }
    t->ncols = ncols;
    return t;
}

void vg_query_table_destroy(struct qtable *t)
{
    if (!t) {
        return;
    }
    vg_free(t->rows);
    vg_arena_destroy(t->arena);
    vg_free(t);
}

static char **table_row(struct qtable *t)
{
    if (vg_grow(&t->rows, &t->cap, t->nrows + 1, sizeof(*t->rows)) != VG_OK) {
        return NULL;
    }
    char **r = vg_arena_calloc(t->arena, t->ncols * sizeof(*r) + 1);
    if (r) {
        t->rows[t->nrows++] = r;
    }
    return r;
}

static char *num_text(struct qtable *t, double d)
{
    if (d == floor(d) && fabs(d) < 9e15) {
        return vg_arena_printf(t->arena, "%lld", (long long)d);
    }
    return vg_arena_printf(t->arena, "%.6g", d);
}

static char *agg_text(struct qtable *t, const struct qagg *ag, const struct group *g,
                      const struct aggv *v)
{
    switch (ag->fn) {
    case AG_COUNT:
        return num_text(t, (double)(ag->field ? v->n : g->count));
    case AG_DC:
        return num_text(t, (double)v->dc.count);
    case AG_SUM:
        return num_text(t, v->sum);
    case AG_AVG:
        return v->n ? num_text(t, v->sum / (double)v->n) : vg_arena_strdup(t->arena, "");
    case AG_MIN:
        return v->n ? num_text(t, v->min) : vg_arena_strdup(t->arena, "");
    case AG_MAX:
        return v->n ? num_text(t, v->max) : vg_arena_strdup(t->arena, "");
    }
    return NULL;
}

static int table_stats(struct qagg_state *a, struct qtable **out)
{
    const struct qpipe *p = a->p;
    struct qtable *t = table_new(p->nby + p->naggs);
    if (!t) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < p->nby; i++) {
        t->cols[i] = (char *)p->by[i].name;
    }
    for (size_t i = 0; i < p->naggs; i++) {
        t->cols[p->nby + i] = (char *)p->aggs[i].name;
        t->numeric[p->nby + i] = true;
    }
    for (size_t g = 0; g < a->ngroups; g++) {
        char **r = table_row(t);
        if (!r) {
            vg_query_table_destroy(t);
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < p->nby; i++) {
            r[i] = a->groups[g].keys[i];
        }
        for (size_t i = 0; i < p->naggs; i++) {
            r[p->nby + i] = agg_text(t, &p->aggs[i], &a->groups[g], &a->groups[g].v[i]);
        }
    }
    if (!p->nby && !a->ngroups) {
        /* stats over nothing still answers: count 0 */
        char **r = table_row(t);
        for (size_t i = 0; r && i < p->naggs; i++) {
            r[i] = vg_arena_strdup(t->arena, p->aggs[i].fn <= AG_SUM ? "0" : "");
        }
    }
    *out = t;
    return VG_OK;
}

static int group_count_cmp(const void *x, const void *y)
{
    const struct group *a = *(struct group *const *)x, *b = *(struct group *const *)y;
    return a->count > b->count ? -1 : a->count < b->count;
}

static int table_top(struct qagg_state *a, struct qtable **out)
{
    const struct qpipe *p = a->p;
    struct qtable *t = table_new(p->nby + 2);
    struct group **order = vg_malloc((a->ngroups + 1) * sizeof(*order));
    if (!t || !order) {
        vg_query_table_destroy(t);
        vg_free(order);
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < p->nby; i++) {
        t->cols[i] = (char *)p->by[i].name;
    }
    t->cols[p->nby] = "count";
    t->cols[p->nby + 1] = "percent";
    t->numeric[p->nby] = t->numeric[p->nby + 1] = true;
    for (size_t g = 0; g < a->ngroups; g++) {
        order[g] = &a->groups[g];
    }
    qsort(order, a->ngroups, sizeof(*order), group_count_cmp);
    int rc = VG_OK;
    for (size_t g = 0; g < a->ngroups && g < p->n && rc == VG_OK; g++) {
        char **r = table_row(t);
        if (!r) {
            rc = VG_ENOMEM;
            break;
        }
        for (size_t i = 0; i < p->nby; i++) {
            r[i] = order[g]->keys[i];
        }
        r[p->nby] = num_text(t, (double)order[g]->count);
        r[p->nby + 1] =
            vg_arena_printf(t->arena, "%.2f", 100.0 * (double)order[g]->count / (double)a->total);
    }
    vg_free(order);
    if (rc != VG_OK) {
        vg_query_table_destroy(t);
        return rc;
    }
    *out = t;
    return VG_OK;
}

/* ---------------------------------------------------------------- timechart */

struct series {
    const char *name;
    uint32_t len;
    uint64_t total;
};

static int series_cmp(const void *x, const void *y)
{
    const struct series *a = x, *b = y;
    return a->total > b->total ? -1 : a->total < b->total;
}

/* Distinct series values with their totals, largest first. */
static int series_list(struct qagg_state *a, struct series **out, size_t *n)
{
    struct qagg_state tmp = {.p = a->p, .nkeys = 1};
    struct series *s = NULL;
    size_t cnt = 0, cap = 0;
    int rc = VG_OK;
    tmp.arena = a->arena;
    for (size_t g = 0; g < a->ngroups && rc == VG_OK; g++) {
        struct group *sg;
        const char *k[1] = {a->groups[g].keys[1]};
        uint32_t kl[1] = {a->groups[g].klen[1]};
        rc = group_get(&tmp, k, kl, &sg);
        if (rc == VG_OK) {
            sg->count += a->groups[g].count;
        }
    }
    for (size_t g = 0; rc == VG_OK && g < tmp.ngroups; g++) {
        rc = vg_grow(&s, &cap, cnt + 1, sizeof(*s));
        if (rc == VG_OK) {
            s[cnt++] =
                (struct series){tmp.groups[g].keys[0], tmp.groups[g].klen[0], tmp.groups[g].count};
        }
    }
    vg_free(tmp.groups);
    vg_free(tmp.index);
    if (rc != VG_OK) {
        vg_free(s);
        return rc;
    }
    if (cnt) {
        qsort(s, cnt, sizeof(*s), series_cmp);
    }
    *out = s;
    *n = cnt;
    return VG_OK;
}

static int bucket_of(const struct group *g, int64_t *b)
{
    return vg_parse_i64(g->keys[0], g->klen[0], b);
}

/* Column of a group's series: its rank among the kept series, or OTHER. */
static size_t series_col(const struct series *s, size_t kept, const struct group *g)
{
    for (size_t i = 0; i < kept; i++) {
        if (s[i].len == g->klen[1] && !memcmp(s[i].name, g->keys[1], s[i].len)) {
            return 1 + i;
        }
    }
    return 1 + kept;
}

static int tc_range(struct qagg_state *a, int64_t *lo, int64_t *hi)
{
    *lo = INT64_MAX;
    *hi = INT64_MIN;
    for (size_t g = 0; g < a->ngroups; g++) {
        int64_t b;
        if (bucket_of(&a->groups[g], &b) == VG_OK) {
            *lo = VG_MIN(*lo, b);
            *hi = VG_MAX(*hi, b);
        }
    }
    if (a->from != VG_TIME_NONE && a->to != VG_TIME_NONE && a->to > a->from) {
        *lo = VG_MIN(*lo, a->from / a->span);
        *hi = VG_MAX(*hi, (a->to - 1) / a->span);
    }
    if (*lo > *hi) {
        return VG_ENOENT;
    }
    return (uint64_t)(*hi - *lo) >= TC_MAX_BUCKETS ? VG_ELIMIT : VG_OK;
}

static int tc_fill(struct qagg_state *a, struct qtable *t, const struct series *s, size_t kept,
                   int64_t lo, int64_t hi)
{
    uint64_t *cells = vg_calloc((size_t)(hi - lo + 1) * t->ncols, sizeof(*cells));
    if (!cells) {
        return VG_ENOMEM;
    }
    for (size_t g = 0; g < a->ngroups; g++) {
        int64_t b;
        if (bucket_of(&a->groups[g], &b) == VG_OK) {
            size_t c = a->p->nby ? series_col(s, kept, &a->groups[g]) : 1;
            cells[(size_t)(b - lo) * t->ncols + c] += a->groups[g].count;
        }
    }
    int rc = VG_OK;
    for (int64_t b = lo; b <= hi && rc == VG_OK; b++) {
        char **r = table_row(t);
        char ts[40];
        if (!r) {
            rc = VG_ENOMEM;
            break;
        }
        vg_time_format(b * a->span, ts, sizeof(ts));
        r[0] = vg_arena_strdup(t->arena, ts);
        for (size_t c = 1; c < t->ncols; c++) {
            r[c] = num_text(t, (double)cells[(size_t)(b - lo) * t->ncols + c]);
        }
    }
    vg_free(cells);
    return rc;
}

static int table_timechart(struct qagg_state *a, struct qtable **out)
{
    struct series *s = NULL;
    size_t ns = 0, kept = 0;
    int64_t lo, hi;
    int rc = a->p->nby ? series_list(a, &s, &ns) : VG_OK;
    kept = VG_MIN(ns, (size_t)TC_SERIES);
    struct qtable *t = rc == VG_OK ? table_new(1 + (a->p->nby ? kept + (ns > kept) : 1)) : NULL;
    if (rc == VG_OK && !t) {
        rc = VG_ENOMEM;
    }
    if (rc == VG_OK) {
        t->cols[0] = "_time";
        for (size_t c = 1; c < t->ncols; c++) {
            t->cols[c] = !a->p->nby  ? "count"
                         : c <= kept ? vg_arena_strndup(t->arena, s[c - 1].name, s[c - 1].len)
                                     : "OTHER";
            t->numeric[c] = true;
        }
        int rr = tc_range(a, &lo, &hi);
        rc = rr == VG_OK ? tc_fill(a, t, s, kept, lo, hi) : rr == VG_ENOENT ? VG_OK : rr;
    }
    vg_free(s);
    if (rc != VG_OK) {
        vg_query_table_destroy(t);
        return rc;
    }
    *out = t;
    return VG_OK;
}

int vg_query_agg_table(struct qagg_state *a, struct qtable **out)
{
    switch (a->p->kind) {
    case QP_TOP:
        return table_top(a, out);
    case QP_TIMECHART:
        return table_timechart(a, out);
    default:
        return table_stats(a, out);
    }
}

/* ---------------------------------------------------------------- sorting */

struct sort_ctx {
    const struct qtable *t;
    size_t cols[16];
    bool desc[16];
    size_t n;
};

static _Thread_local const struct sort_ctx *sort_current;

static int row_cmp(const void *x, const void *y)
{
    const struct sort_ctx *c = sort_current;
    char *const *a = *(char **const *)x, *const *b = *(char **const *)y;
    for (size_t i = 0; i < c->n; i++) {
        const char *va = a[c->cols[i]] ? a[c->cols[i]] : "";
        const char *vb = b[c->cols[i]] ? b[c->cols[i]] : "";
        int r = vg_query_value_cmp(va, strlen(va), vb, strlen(vb));
        if (r) {
            return c->desc[i] ? -r : r;
        }
    }
    return 0;
}

void vg_query_table_sort(struct qtable *t, const struct qfield *keys, size_t nkeys)
{
    struct sort_ctx c = {.t = t};
    for (size_t k = 0; k < nkeys && c.n < VG_ARRAY_LEN(c.cols); k++) {
        for (size_t i = 0; i < t->ncols; i++) {
            if (!strcmp(t->cols[i], keys[k].name)) {
                c.cols[c.n] = i;
                c.desc[c.n++] = keys[k].desc;
                break;
            }
        }
    }
    if (!c.n || !t->nrows) {
        return;
    }
    sort_current = &c;
    /* qsort is not stable: ties keep no particular order, as in Splunk */
    qsort(t->rows, t->nrows, sizeof(*t->rows), row_cmp);
    sort_current = NULL;
}
