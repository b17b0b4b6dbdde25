/*
 * detect_corr.c — Sigma correlation rules: event_count, value_count, temporal,
 * temporal_ordered, value_sum, value_avg and value_percentile, with group-by, aliases,
 * sliding time windows and chaining (a correlation's alerts feed the correlations that
 * reference it).
 *
 * Window semantics (documented in docs/sigma.md):
 *   - The window is sliding: an event at time t sees the events of its group in
 *     [t - timespan, t].
 *   - Conditions with only lower bounds (gt, gte) — and temporal types — fire as soon as they
 *     hold; the group's window is then cleared so the same burst alerts once.
 *   - Conditions with an upper bound (lt, lte, eq, neq) can only be decided when a window is
 *     complete: they are evaluated when a window of `timespan` after its first event closes
 *     (a later event of the group arrives, the group is swept, or the input ends: flush).
 *   - value_percentile fires per event: the share (%) of the group's window values that are
 *     <= the event's value (numbers), or equal to it (strings), is compared with the
 *     condition — "this value is among the rarest 1%" is `lte: 1`.
 * Events without a timestamp count as time 0. Events lacking a group-by field are not
 * grouped (skipped). Memory is bounded by max_groups and max_window (counted when hit).
 */
#include "detect/detect_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_EVERY 4096

struct wentry {
    vg_time_t ts;
    uint32_t ref;
    double num;
    const char *val; /* heap copy for value_count / percentile on strings */
};

struct vcount {
    char *val;
    uint32_t n;
};

struct group {
    uint64_t hash;
    char *key;
    uint32_t keylen;
    char **values;    /* group-by values */
    struct wentry *w; /* ring buffer ordered by ts */
    uint32_t head, n, cap;
    vg_time_t *last;   /* temporal: last time each reference matched */
    vg_time_t *start;  /* temporal_ordered: start of the sequence up to each step */
    struct vcount *vc; /* value_count: distinct values in the window */
    uint32_t vc_n, vc_cap;
    vg_time_t latest;
    bool live;
};

struct cstate {
    struct group **tab;
    uint32_t mask;
    uint32_t n;
    uint64_t feeds;
};

/* (route, field name) → field id, so a match does not hash field names again. */
struct fid_memo {
    const void *route;
    const char *name;
    uint32_t id;
};
#define FID_MEMO 256

struct vg_correlator {
    const struct vg_ruleset *rs;
    struct fid_memo memo[FID_MEMO];
    struct vg_correlator_limits lim;
    struct cstate *st;
    uint64_t dropped;
    int depth;
};

struct vg_correlator *vg_correlator_create(const struct vg_ruleset *rs,
                                           const struct vg_correlator_limits *lim)
{
    struct vg_correlator *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->rs = rs;
    c->lim.max_groups = lim && lim->max_groups ? lim->max_groups : 1000000;
    c->lim.max_window = lim && lim->max_window ? lim->max_window : 100000;
    c->st = vg_calloc(rs->ncorrs + 1, sizeof(*c->st));
    if (!c->st) {
        vg_free(c);
        return NULL;
    }
    return c;
}

static void group_free(struct group *g, uint32_t ngroup)
{
    if (!g) {
        return;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        vg_free((void *)g->w[(g->head + i) % g->cap].val);
    }
    for (uint32_t i = 0; i < ngroup; i++) {
        vg_free(g->values[i]);
    }
    for (uint32_t i = 0; i < g->vc_n; i++) {
        vg_free(g->vc[i].val);
    }
    vg_free(g->vc);
    vg_free(g->values);
    vg_free(g->w);
    vg_free(g->last);
    vg_free(g->start);
    vg_free(g->key);
    vg_free(g);
}

void vg_correlator_destroy(struct vg_correlator *c)
{
    if (!c) {
        return;
    }
    for (uint32_t i = 0; i < c->rs->ncorrs; i++) {
        struct cstate *s = &c->st[i];
        for (uint32_t k = 0; s->tab && k <= s->mask; k++) {
            group_free(s->tab[k], c->rs->corrs[i].k->ngroup);
        }
        vg_free(s->tab);
    }
    vg_free(c->st);
    vg_free(c);
}

void vg_correlator_counts(const struct vg_correlator *c, uint64_t *groups, uint64_t *dropped)
{
    uint64_t g = 0;
    for (uint32_t i = 0; i < c->rs->ncorrs; i++) {
        g += c->st[i].n;
    }
    *groups = g;
    *dropped = c->dropped;
}

/* ---------------------------------------------------------------- groups */

static struct group *group_get(struct vg_correlator *c, uint32_t ci, const char *const *vals,
                               uint32_t nv)
{
    struct cstate *s = &c->st[ci];
    struct vg_sbuf k = VG_SBUF_INIT;
    for (uint32_t i = 0; i < nv; i++) {
        vg_sbuf_adds(&k, vals[i]);
        vg_sbuf_addc(&k, '\x1f');
    }
    if (k.err) {
        vg_sbuf_fini(&k);
        return NULL;
    }
    const char *key = k.p ? k.p : "";
    uint64_t h = vg_hash64(key, k.len, 77);
    if (s->tab) {
        for (uint32_t i = (uint32_t)h & s->mask;; i = (i + 1) & s->mask) {
            struct group *g = s->tab[i];
            if (!g) {
                break;
            }
            if (g->hash == h && g->keylen == k.len && memcmp(g->key, key, k.len) == 0) {
                vg_sbuf_fini(&k);
                return g;
            }
        }
    }
    if (s->n >= c->lim.max_groups) {
        c->dropped++;
        vg_sbuf_fini(&k);
        return NULL;
    }
    if (!s->tab || (s->n + 1) * 2 > s->mask + 1) {
        uint32_t nmask = s->tab ? s->mask * 2 + 1 : 255;
        struct group **nt = vg_calloc(nmask + 1, sizeof(*nt));
        if (!nt) {
            vg_sbuf_fini(&k);
            return NULL;
        }
        for (uint32_t i = 0; s->tab && i <= s->mask; i++) {
            if (s->tab[i]) {
                uint32_t j = (uint32_t)s->tab[i]->hash & nmask;
                while (nt[j]) {
                    j = (j + 1) & nmask;
                }
                nt[j] = s->tab[i];
            }
        }
        vg_free(s->tab);
        s->tab = nt;
        s->mask = nmask;
    }
    const struct corr_rt *cr = &c->rs->corrs[ci];
    struct group *g = vg_calloc(1, sizeof(*g));
    if (!g) {
        vg_sbuf_fini(&k);
        return NULL;
    }
    g->hash = h;
    g->keylen = (uint32_t)k.len;
    g->key = vg_sbuf_take(&k, NULL);
    g->values = vg_calloc(nv + 1, sizeof(char *));
    g->last = vg_calloc(cr->nrefs + 1, sizeof(vg_time_t));
    g->start = vg_calloc(cr->nrefs + 1, sizeof(vg_time_t));
    bool ok = g->key && g->values && g->last && g->start;
    for (uint32_t i = 0; ok && i < nv; i++) {
        ok = (g->values[i] = vg_strdup(vals[i])) != NULL;
    }
    if (!ok) {
        group_free(g, nv);
        return NULL;
    }
    for (uint32_t i = 0; i < cr->nrefs; i++) {
        g->last[i] = g->start[i] = VG_TIME_NONE;
    }
    uint32_t i = (uint32_t)h & s->mask;
    while (s->tab[i]) {
        i = (i + 1) & s->mask;
    }
    s->tab[i] = g;
    s->n++;
    return g;
}

/* ---------------------------------------------------------------- windows */

static struct wentry *went(struct group *g, uint32_t i)
{
    return &g->w[(g->head + i) % g->cap];
}

static void vc_add(struct group *g, const char *v, int delta)
{
    for (uint32_t i = 0; i < g->vc_n; i++) {
        if (!strcmp(g->vc[i].val, v)) {
            g->vc[i].n += (uint32_t)delta;
            if (g->vc[i].n == 0) {
                vg_free(g->vc[i].val);
                g->vc[i] = g->vc[--g->vc_n];
            }
            return;
        }
    }
    if (delta < 0) {
        return;
    }
    size_t cap = g->vc_cap;
    if (vg_grow(&g->vc, &cap, g->vc_n + 1, sizeof(*g->vc)) != VG_OK) {
        return;
    }
    g->vc_cap = (uint32_t)cap;
    char *d = vg_strdup(v);
    if (d) {
        g->vc[g->vc_n].val = d;
        g->vc[g->vc_n].n = 1;
        g->vc_n++;
    }
}

static void pop_front(struct group *g, bool counting)
{
    struct wentry *e = went(g, 0);
    if (counting && e->val) {
        vc_add(g, e->val, -1);
    }
    vg_free((void *)e->val);
    e->val = NULL;
    g->head = (g->head + 1) % g->cap;
    g->n--;
}

static void window_clear(struct group *g, bool counting)
{
    while (g->n) {
        pop_front(g, counting);
    }
    g->head = 0;
}

/* Insert keeping ts order (late events slide into place). */
static int window_push(struct vg_correlator *c, struct group *g, const struct wentry *e,
                       bool counting)
{
    if (g->n == c->lim.max_window) {
        pop_front(g, counting);
        c->dropped++;
    }
    if (g->n == g->cap) {
        uint32_t ncap = g->cap ? g->cap * 2 : 8;
        struct wentry *nw = vg_malloc(ncap * sizeof(*nw));
        if (!nw) {
            vg_free((void *)e->val);
            return VG_ENOMEM;
        }
        for (uint32_t i = 0; i < g->n; i++) {
            nw[i] = *went(g, i);
        }
        vg_free(g->w);
        g->w = nw;
        g->cap = ncap;
        g->head = 0;
    }
    uint32_t pos = g->n;
    while (pos > 0 && went(g, pos - 1)->ts > e->ts) {
        *went(g, pos) = *went(g, pos - 1);
        pos--;
    }
    *went(g, pos) = *e;
    g->n++;
    if (counting && e->val) {
        vc_add(g, e->val, +1);
    }
    return VG_OK;
}

static void window_evict(struct group *g, vg_time_t before, bool counting)
{
    while (g->n && went(g, 0)->ts < before) {
        pop_front(g, counting);
    }
}

static bool upper_bounded(const struct vg_corr_cond *cond)
{
    for (int i = 0; i < cond->ncmp; i++) {
        if (cond->op[i] != VG_CMP_GT && cond->op[i] != VG_CMP_GTE) {
            return true;
        }
    }
    return false;
}

/* Aggregate of the window for count/value types. */
static double window_value(const struct corr_rt *cr, struct group *g)
{
    switch (cr->k->type) {
    case VG_CORR_VALUE_COUNT:
        return g->vc_n;
    case VG_CORR_VALUE_SUM:
    case VG_CORR_VALUE_AVG: {
        double sum = 0;
        uint32_t cnt = 0;
        for (uint32_t i = 0; i < g->n; i++) {
            if (!isnan(went(g, i)->num)) {
                sum += went(g, i)->num;
                cnt++;
            }
        }
        return cr->k->type == VG_CORR_VALUE_SUM ? sum : (cnt ? sum / cnt : 0);
    }
    default:
        return g->n;
    }
}

/* ---------------------------------------------------------------- firing */

static int feed_corr(struct vg_correlator *c, uint32_t ci, uint32_t ref, vg_time_t ts,
                     const char *const *gvals, const char *val, double num, vg_corr_cb cb,
                     void *ud);

static int fire(struct vg_correlator *c, uint32_t ci, struct group *g, vg_time_t ts,
                vg_time_t first, double value, uint32_t nevents, vg_corr_cb cb, void *ud)
{
    const struct corr_rt *cr = &c->rs->corrs[ci];
    const struct vg_sigma_correlation *k = cr->k;
    struct vg_corr_alert a = {
        .corr = ci,
        .doc = cr->doc,
        .ts = ts,
        .first_ts = first,
        .ngroup = k->ngroup,
        .group_names = k->group_by,
        .group_values = (const char *const *)g->values,
        .value = value,
        .nevents = nevents,
        .standalone = cr->standalone,
    };
    int rc = cb ? cb(ud, &a) : 0;
    if (rc) {
        return rc;
    }
    /* chaining: parents see this alert as a match with the group-by values as fields */
    if (c->depth > 16) {
        return VG_OK;
    }
    c->depth++;
    for (uint32_t p = 0; p < cr->nparents && !rc; p++) {
        uint32_t pi = cr->parents[p];
        const struct corr_rt *pr = &c->rs->corrs[pi];
        for (uint32_t r = 0; r < pr->nrefs && !rc; r++) {
            if (!pr->refs[r].is_corr || pr->refs[r].idx != ci) {
                continue;
            }
            const char *pv[64];
            bool ok = pr->k->ngroup <= 64;
            for (uint32_t gi = 0; ok && gi < pr->k->ngroup; gi++) {
                const char *want = pr->refs[r].group_names[gi];
                pv[gi] = NULL;
                for (uint32_t j = 0; j < k->ngroup; j++) {
                    if (!strcmp(k->group_by[j], want)) {
                        pv[gi] = g->values[j];
                    }
                }
                ok = pv[gi] != NULL;
            }
            if (ok) {
                rc = feed_corr(c, pi, r, ts, pv, NULL, value, cb, ud);
            }
        }
    }
    c->depth--;
    return rc;
}

/* Close the window that started at the group's first event, if it is complete by `now`. */
static int close_windows(struct vg_correlator *c, uint32_t ci, struct group *g, vg_time_t now,
                         bool force, vg_corr_cb cb, void *ud)
{
    const struct corr_rt *cr = &c->rs->corrs[ci];
    bool counting = cr->k->type == VG_CORR_VALUE_COUNT;
    int64_t span = cr->k->timespan_ns;
    while (g->n) {
        vg_time_t start = went(g, 0)->ts;
        if (!force && now - start <= span) {
            return VG_OK;
        }
        /* entries of the window [start, start + span] */
        uint32_t m = 0;
        while (m < g->n && went(g, m)->ts - start <= span) {
            m++;
        }
        struct group tmp = *g;
        tmp.n = m;
        double value = counting ? 0 : window_value(cr, &tmp);
        if (counting) { /* distinct values among the first m entries */
            uint32_t distinct = 0;
            for (uint32_t i = 0; i < m; i++) {
                bool dup = false;
                for (uint32_t j = 0; j < i && !dup; j++) {
                    dup = went(g, i)->val && went(g, j)->val &&
                          !strcmp(went(g, i)->val, went(g, j)->val);
                }
                distinct += !dup && went(g, i)->val;
            }
            value = distinct;
        }
        vg_time_t last = went(g, m - 1)->ts;
        if (vg_corr_cond_eval(&cr->k->cond, value)) {
            int rc = fire(c, ci, g, last, start, value, m, cb, ud);
            if (rc) {
                return rc;
            }
        }
        for (uint32_t i = 0; i < m; i++) {
            pop_front(g, counting);
        }
    }
    return VG_OK;
}

static int on_count(struct vg_correlator *c, uint32_t ci, struct group *g, vg_time_t ts,
                    const char *val, double num, vg_corr_cb cb, void *ud)
{
    const struct corr_rt *cr = &c->rs->corrs[ci];
    const struct vg_sigma_correlation *k = cr->k;
    bool counting = k->type == VG_CORR_VALUE_COUNT;
    if ((k->type == VG_CORR_VALUE_COUNT && !val) ||
        ((k->type == VG_CORR_VALUE_SUM || k->type == VG_CORR_VALUE_AVG) && isnan(num))) {
        return VG_OK; /* the event lacks the aggregated field */
    }
    if (upper_bounded(&k->cond)) {
        int rc = close_windows(c, ci, g, ts, false, cb, ud);
        if (rc) {
            return rc;
        }
        struct wentry e = {ts, 0, num, val ? vg_strdup(val) : NULL};
        return window_push(c, g, &e, counting);
    }
    window_evict(g, ts - k->timespan_ns, counting);
    struct wentry e = {ts, 0, num, val ? vg_strdup(val) : NULL};
    int rc = window_push(c, g, &e, counting);
    if (rc != VG_OK) {
        return rc;
    }
    double value = window_value(cr, g);
    if (vg_corr_cond_eval(&k->cond, value)) {
        vg_time_t first = went(g, 0)->ts;
        uint32_t n = g->n;
        rc = fire(c, ci, g, ts, first, value, n, cb, ud);
        window_clear(g, counting);
    }
    return rc;
}

static int on_percentile(struct vg_correlator *c, uint32_t ci, struct group *g, vg_time_t ts,
                         const char *val, double num, vg_corr_cb cb, void *ud)
{
    const struct corr_rt *cr = &c->rs->corrs[ci];
    if (!val && isnan(num)) {
        return VG_OK;
    }
    window_evict(g, ts - cr->k->timespan_ns, false);
    struct wentry e = {ts, 0, num, val ? vg_strdup(val) : NULL};
    int rc = window_push(c, g, &e, false);
    if (rc != VG_OK) {
        return rc;
    }
    uint32_t le = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        const struct wentry *x = went(g, i);
        if (!isnan(num) && !isnan(x->num)) {
            le += x->num <= num;
        } else if (val && x->val) {
            le += !strcmp(x->val, val);
        }
    }
    double pct = 100.0 * le / g->n;
    if (vg_corr_cond_eval(&cr->k->cond, pct)) {
        return fire(c, ci, g, ts, went(g, 0)->ts, pct, g->n, cb, ud);
    }
    return VG_OK;
}

static int on_temporal(struct vg_correlator *c, uint32_t ci, struct group *g, uint32_t ref,
                       vg_time_t ts, vg_corr_cb cb, void *ud)
{
    const struct corr_rt *cr = &c->rs->corrs[ci];
    const struct vg_sigma_correlation *k = cr->k;
    int64_t span = k->timespan_ns;
    /* distinct referenced rules (a rule listed twice counts once) */
    uint32_t nref = cr->nrefs;
    if (k->type == VG_CORR_TEMPORAL) {
        if (g->last[ref] == VG_TIME_NONE || g->last[ref] < ts) {
            g->last[ref] = ts;
        }
        uint32_t seen = 0;
        vg_time_t first = ts;
        for (uint32_t i = 0; i < nref; i++) {
            if (g->last[i] != VG_TIME_NONE && ts - g->last[i] <= span) {
                seen++;
                first = VG_MIN(first, g->last[i]);
            }
        }
        bool hit = k->has_cond ? vg_corr_cond_eval(&k->cond, seen) : seen == nref;
        if (!hit) {
            return VG_OK;
        }
        for (uint32_t i = 0; i < nref; i++) {
            g->last[i] = VG_TIME_NONE;
        }
        return fire(c, ci, g, ts, first, seen, seen, cb, ud);
    }
    /* temporal_ordered: start[i] = start time of the latest sequence completed up to step i */
    if (ref == 0) {
        g->start[0] = ts;
    } else if (g->start[ref - 1] != VG_TIME_NONE && ts - g->start[ref - 1] <= span) {
        g->start[ref] = g->start[ref - 1];
    } else {
        return VG_OK;
    }
    if (ref != nref - 1) {
        return VG_OK;
    }
    vg_time_t first = g->start[ref];
    for (uint32_t i = 0; i < nref; i++) {
        g->start[i] = VG_TIME_NONE;
    }
    return fire(c, ci, g, ts, first, nref, nref, cb, ud);
}

static void sweep(struct vg_correlator *c, uint32_t ci, vg_time_t now, vg_corr_cb cb, void *ud)
{
    struct cstate *s = &c->st[ci];
    const struct corr_rt *cr = &c->rs->corrs[ci];
    int64_t span = cr->k->timespan_ns;
    bool upper = upper_bounded(&cr->k->cond) && cr->k->type != VG_CORR_VALUE_PERCENTILE;
    for (uint32_t i = 0; i <= s->mask; i++) {
        struct group *g = s->tab[i];
        if (!g || now - g->latest <= 2 * span) {
            continue;
        }
        if (upper && (cr->k->type == VG_CORR_EVENT_COUNT || cr->k->type == VG_CORR_VALUE_COUNT ||
                      cr->k->type == VG_CORR_VALUE_SUM || cr->k->type == VG_CORR_VALUE_AVG)) {
            close_windows(c, ci, g, now, true, cb, ud);
        }
        /* idle for two timespans: drop it (rebuild the probe chain by reinsertion) */
        s->tab[i] = NULL;
        s->n--;
        group_free(g, cr->k->ngroup);
    }
    /* reinsert everything to repair open-addressing chains broken by deletions */
    struct group **old = s->tab;
    uint32_t mask = s->mask;
    s->tab = vg_calloc(mask + 1, sizeof(*s->tab));
    if (!s->tab) {
        s->tab = old;
        return;
    }
    for (uint32_t i = 0; i <= mask; i++) {
        if (old[i]) {
            uint32_t j = (uint32_t)old[i]->hash & mask;
            while (s->tab[j]) {
                j = (j + 1) & mask;
            }
            s->tab[j] = old[i];
        }
    }
    vg_free(old);
}

static int feed_corr(struct vg_correlator *c, uint32_t ci, uint32_t ref, vg_time_t ts,
                     const char *const *gvals, const char *val, double num, vg_corr_cb cb, void *ud)
{
    const struct corr_rt *cr = &c->rs->corrs[ci];
    struct cstate *s = &c->st[ci];
    if (++s->feeds % SWEEP_EVERY == 0 && s->tab) {
        sweep(c, ci, ts, cb, ud);
    }
    struct group *g = group_get(c, ci, gvals, cr->k->ngroup);
    if (!g) {
        return VG_OK;
    }
    g->latest = VG_MAX(g->latest, ts);
    switch (cr->k->type) {
    case VG_CORR_TEMPORAL:
    case VG_CORR_TEMPORAL_ORDERED:
        /* a rule listed several times: advance every step it stands for, last first */
        for (uint32_t r = cr->nrefs; r-- > 0;) {
            if (r == ref || (cr->refs[r].is_corr == cr->refs[ref].is_corr &&
                             cr->refs[r].idx == cr->refs[ref].idx && r > ref)) {
                int rc = on_temporal(c, ci, g, r, ts, cb, ud);
                if (rc) {
                    return rc;
                }
            }
        }
        return VG_OK;
    case VG_CORR_VALUE_PERCENTILE:
        return on_percentile(c, ci, g, ts, val, num, cb, ud);
    default:
        return on_count(c, ci, g, ts, val, num, cb, ud);
    }
}

/* Value of a named field of the event under a route (first occurrence). */
static const struct vg_value *event_value(struct vg_correlator *c, struct vg_event *ev,
                                          const struct route *r, const char *name)
{
    uintptr_t h = ((uintptr_t)r >> 4) * 31u + ((uintptr_t)name >> 3);
    struct fid_memo *m = &c->memo[(h ^ (h >> 9)) % FID_MEMO];
    if (m->route != r || m->name != name) {
        const char *fname = route_map_field(r, name);
        uint32_t fid = vg_field_lookup(fname, strlen(fname));
        if (fid == VG_FIELD_NONE) {
            return NULL; /* not interned yet: no event has it; not remembered */
        }
        *m = (struct fid_memo){r, name, fid};
    }
    uint32_t id = m->id;
    const struct vg_field *f = id == VG_FIELD_NONE ? NULL : vg_event_get(ev, id);
    return f && f->v.type != VG_V_NULL ? &f->v : NULL;
}

int vg_correlator_feed(struct vg_correlator *c, const struct vg_detect_match *m,
                       struct vg_event *ev, vg_corr_cb cb, void *ud)
{
    const struct vg_ruleset *rs = c->rs;
    const struct rule_rt *rt = &rs->rules[m->rule];
    const struct route *route = &rs->routes[rs->variants[m->variant].route];
    vg_time_t ts = ev->ts == VG_TIME_NONE ? 0 : ev->ts;
    for (uint32_t i = 0; i < rt->ncorrs; i++) {
        uint32_t ci = rt->corrs[i];
        const struct corr_rt *cr = &rs->corrs[ci];
        for (uint32_t r = 0; r < cr->nrefs; r++) {
            const struct corr_ref *ref = &cr->refs[r];
            if (ref->is_corr || ref->idx != m->rule) {
                continue;
            }
            const char *gv[64];
            char *owned[64];
            uint32_t ng = VG_MIN(cr->k->ngroup, 64u);
            bool ok = true;
            uint32_t no = 0;
            for (uint32_t gi = 0; gi < ng && ok; gi++) {
                const struct vg_value *v = event_value(c, ev, route, ref->group_names[gi]);
                ok = v != NULL;
                if (ok) {
                    owned[no] = vg_strndup(v->str, v->len);
                    ok = owned[no] != NULL;
                    gv[gi] = owned[no++];
                }
            }
            char *val = NULL;
            double num = NAN;
            if (ok && cr->k->nfields) {
                /* value_count over several fields counts distinct tuples */
                struct vg_sbuf sb = VG_SBUF_INIT;
                bool have = true;
                for (uint32_t f = 0; f < cr->k->nfields && have; f++) {
                    const struct vg_value *v = event_value(c, ev, route, ref->value_names[f]);
                    have = v != NULL;
                    if (have) {
                        if (f) {
                            vg_sbuf_addc(&sb, '\x1f');
                        }
                        vg_sbuf_add(&sb, v->str, v->len);
                        double d;
                        int64_t iv;
                        bool isint;
                        if (f == 0 && vg_value_number(v, &d, &iv, &isint)) {
                            num = d;
                        }
                    }
                }
                if (have && !sb.err) {
                    val = vg_sbuf_take(&sb, NULL);
                }
                vg_sbuf_fini(&sb);
            }
            int rc = ok ? feed_corr(c, ci, r, ts, gv, val, num, cb, ud) : VG_OK;
            vg_free(val);
            for (uint32_t k = 0; k < no; k++) {
                vg_free(owned[k]);
            }
            if (rc) {
                return rc;
            }
        }
    }
    return VG_OK;
}

int vg_correlator_flush(struct vg_correlator *c, vg_corr_cb cb, void *ud)
{
    for (uint32_t ci = 0; ci < c->rs->ncorrs; ci++) {
        const struct corr_rt *cr = &c->rs->corrs[ci];
        struct cstate *s = &c->st[ci];
        bool counts = cr->k->type == VG_CORR_EVENT_COUNT || cr->k->type == VG_CORR_VALUE_COUNT ||
                      cr->k->type == VG_CORR_VALUE_SUM || cr->k->type == VG_CORR_VALUE_AVG;
        if (!counts || !upper_bounded(&cr->k->cond)) {
            continue;
        }
        for (uint32_t i = 0; s->tab && i <= s->mask; i++) {
            if (s->tab[i]) {
                int rc = close_windows(c, ci, s->tab[i], 0, true, cb, ud);
                if (rc) {
                    return rc;
                }
            }
        }
    }
    return VG_OK;
}
