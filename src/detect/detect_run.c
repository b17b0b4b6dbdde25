/*
 * detect_run.c — the per-event path: route the event (memoised per distinct routing tuple),
 * scan the relevant field values once with the prefilter databases to collect candidate
 * rule variants, add the variants that have no witness, and evaluate the candidates in rule
 * order. Each rule reports at most once per event.
 */
#include "detect/detect_int.h"

#include <stdlib.h>
#include <string.h>

#define MEMO_MAX 65536

/*
 * Scan cache: field values repeat heavily in logs (image paths, companies, integrity
 * levels, hashes), so the patterns a value matched in a field's database are remembered per
 * (database, exact value bytes) and replayed instead of scanning again. Exact key
 * comparison keeps it sound; values longer than SCACHE_VALUE_MAX or matching more than
 * SCACHE_IDS patterns are simply not cached.
 */
#define SCACHE_SLOTS     4096
#define SCACHE_VALUE_MAX 256
#define SCACHE_IDS       14

struct scache_ent {
    uint64_t hash;
    uint32_t fdb;
    uint16_t len;
    uint16_t nids; /* UINT16_MAX: empty slot */
    uint32_t ids[SCACHE_IDS];
    char val[SCACHE_VALUE_MAX];
};

struct memo_ent {
    uint64_t hash;
    uint32_t keylen;
    const char *key;
    uint8_t *route_on; /* per route */
    uint32_t nfdb;
    uint32_t *fdbs;
    bool kw;
    bool any; /* some route matched */
    uint32_t nunw;
    uint32_t *unw; /* unwitnessed variants of the matched routes, ascending */
};

struct vg_detect_ctx {
    const struct vg_ruleset *rs;
    hs_scratch_t *scratch;
    struct eval_scratch *es;
    struct vg_detect_counters ctr;
    uint32_t sample_mask; /* time every (mask+1)-th routed event; 0 with prof NULL: off */
    uint32_t sample_ctr;
    struct vg_detect_rule_prof *prof; /* per rule (nrules), when sampling */

    struct memo_ent **memo;
    uint32_t memo_mask;
    uint32_t memo_n;
    struct vg_arena *memo_arena;
    struct vg_sbuf key;

    uint32_t epoch;
    uint32_t *seen;      /* per variant: added to the candidates in this epoch */
    uint32_t *hit_epoch; /* per variant: epoch of hit_mask */
    uint8_t *hit_mask;   /* per variant: witness clauses hit so far */
    uint32_t *pat_hit;   /* per prefilter pattern: epoch of its last occurrence */
    uint32_t *rule_seen; /* per rule */
    uint32_t *cand;
    uint32_t ncand;

    struct scache_ent *scache;
    uint32_t rec_ids[SCACHE_IDS]; /* pattern ids seen by the scan in progress */
    uint32_t rec_n;               /* > SCACHE_IDS: too many to cache */
    struct vg_sbuf kwbuf;         /* all values of the event, for keyword scans */
    uint32_t kw_epoch;            /* epoch kwbuf was built for */

    /* scan callback state */
    const struct memo_ent *cur;
    const struct fdb *cur_fdb;
};

struct vg_detect_ctx *vg_detect_ctx_create(const struct vg_ruleset *rs)
{
    struct vg_detect_ctx *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->rs = rs;
    c->memo_mask = 1023;
    c->memo = vg_calloc(c->memo_mask + 1, sizeof(*c->memo));
    c->memo_arena = vg_arena_create(65536);
    c->es = eval_scratch_create();
    c->seen = vg_calloc(rs->nvariants + 1, sizeof(uint32_t));
    c->hit_epoch = vg_calloc(rs->nvariants + 1, sizeof(uint32_t));
    c->hit_mask = vg_calloc(rs->nvariants + 1, 1);
    c->pat_hit = vg_calloc(rs->npatterns + 1, sizeof(uint32_t));
    c->scache = vg_malloc(SCACHE_SLOTS * sizeof(*c->scache));
    for (uint32_t i = 0; c->scache && i < SCACHE_SLOTS; i++) {
        c->scache[i].nids = UINT16_MAX;
    }
    c->cand = vg_calloc(rs->nvariants + 1, sizeof(uint32_t));
    c->rule_seen = vg_calloc(rs->nrules + 1, sizeof(uint32_t));
    if (!c->memo || !c->memo_arena || !c->es || !c->seen || !c->cand || !c->rule_seen ||
        !c->hit_epoch || !c->hit_mask || !c->scache || !c->pat_hit) {
        vg_detect_ctx_destroy(c);
        return NULL;
    }
    for (uint32_t i = 0; i < rs->nfdb; i++) {
        if (hs_alloc_scratch(rs->fdbs[i].db, &c->scratch) != HS_SUCCESS) {
            vg_detect_ctx_destroy(c);
            return NULL;
        }
    }
    return c;
}

void vg_detect_ctx_destroy(struct vg_detect_ctx *c)
{
    if (!c) {
        return;
    }
    if (c->scratch) {
        hs_free_scratch(c->scratch);
    }
    eval_scratch_destroy(c->es);
    vg_free(c->memo);
    vg_arena_destroy(c->memo_arena);
    vg_sbuf_fini(&c->key);
    vg_sbuf_fini(&c->kwbuf);
    vg_free(c->seen);
    vg_free(c->hit_epoch);
    vg_free(c->hit_mask);
    vg_free(c->scache);
    vg_free(c->pat_hit);
    vg_free(c->cand);
    vg_free(c->rule_seen);
    vg_free(c->prof);
    vg_free(c);
}

int vg_detect_ctx_sample(struct vg_detect_ctx *c, unsigned shift)
{
    if (!c->prof && !(c->prof = vg_calloc(c->rs->nrules + 1, sizeof(*c->prof)))) {
        return VG_ENOMEM;
    }
    c->sample_mask = (1u << VG_MIN(shift, 20u)) - 1;
    return VG_OK;
}

struct vg_detect_rule_prof *vg_detect_ctx_profile(struct vg_detect_ctx *c)
{
    return c->prof;
}

/* A sampled event: evaluate like vg_detect_event's loop, timing each variant. */
static bool eval_timed(struct vg_detect_ctx *c, const struct variant *v, struct vg_event *ev)
{
    uint64_t t0 = vg_clock_ns();
    bool hit = eval_variant(c->rs, v, ev, c->es);
    struct vg_detect_rule_prof *p = &c->prof[v->rule];
    p->ns += vg_clock_ns() - t0;
    p->evals++;
    return hit;
}

const struct vg_detect_counters *vg_detect_ctx_counters(const struct vg_detect_ctx *c)
{
    return &c->ctr;
}

/* ---------------------------------------------------------------- routing */

bool route_matches_event(const struct route *r, const struct vg_event *cev)
{
    struct vg_event *ev = (struct vg_event *)cev; /* folding caches into the event */
    if (r->kind >= 0 && (int)ev->kind != r->kind) {
        return false;
    }
    for (uint32_t i = 0; i < r->ncond; i++) {
        const struct route_cond *c = &r->cond[i];
        struct vg_field *f = vg_event_get(ev, c->field);
        if (!f) {
            return false;
        }
        if (c->any) {
            continue;
        }
        bool hit = false;
        for (; f && !hit; f = vg_event_next(ev, f)) {
            const char *s = vg_value_fold(ev, &f->v);
            for (uint32_t k = 0; k < c->nvals && !hit; k++) {
                hit = f->v.len == c->lens[k] && memcmp(s, c->vals[k], c->lens[k]) == 0;
            }
        }
        if (!hit) {
            return false;
        }
    }
    return true;
}

static int u32cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static struct memo_ent *memo_build(struct vg_detect_ctx *c, struct vg_event *ev, uint64_t h)
{
    const struct vg_ruleset *rs = c->rs;
    struct vg_arena *a = c->memo_arena;
    struct memo_ent *m = vg_arena_calloc(a, sizeof(*m));
    if (!m || !(m->route_on = vg_arena_calloc(a, rs->nroutes + 1)) ||
        !(m->key = vg_arena_strndup(a, c->key.p ? c->key.p : "", c->key.len))) {
        return NULL;
    }
    m->hash = h;
    m->keylen = (uint32_t)c->key.len;
    uint32_t nunw = 0, nfdb = 0;
    for (uint32_t r = 0; r < rs->nroutes; r++) {
        if (route_matches_event(&rs->routes[r], ev)) {
            m->route_on[r] = 1;
            m->any = true;
            nunw += rs->route_unw_start[r + 1] - rs->route_unw_start[r];
            nfdb += rs->route_fdb_start[r + 1] - rs->route_fdb_start[r];
        }
    }
    m->unw = vg_arena_alloc(a, (nunw + 1) * sizeof(uint32_t));
    m->fdbs = vg_arena_alloc(a, (nfdb + 1) * sizeof(uint32_t));
    if (!m->unw || !m->fdbs) {
        return NULL;
    }
    for (uint32_t r = 0; r < rs->nroutes; r++) {
        if (!m->route_on[r]) {
            continue;
        }
        for (uint32_t k = rs->route_unw_start[r]; k < rs->route_unw_start[r + 1]; k++) {
            m->unw[m->nunw++] = rs->route_unw[k];
        }
        for (uint32_t k = rs->route_fdb_start[r]; k < rs->route_fdb_start[r + 1]; k++) {
            bool dup = false;
            for (uint32_t j = 0; j < m->nfdb && !dup; j++) {
                dup = m->fdbs[j] == rs->route_fdb[k];
            }
            if (!dup) {
                m->fdbs[m->nfdb++] = rs->route_fdb[k];
            }
        }
    }
    if (m->nunw > 1) {
        qsort(m->unw, m->nunw, sizeof(uint32_t), u32cmp);
    }
    return m;
}

static const struct memo_ent *route_event(struct vg_detect_ctx *c, struct vg_event *ev)
{
    const struct vg_ruleset *rs = c->rs;
    struct vg_sbuf *k = &c->key;
    vg_sbuf_reset(k);
    vg_sbuf_addc(k, (char)('0' + ev->kind));
    for (uint32_t i = 0; i < rs->nroute_fields; i++) {
        const struct vg_field *f = vg_event_get(ev, rs->route_fields[i]);
        if (f) {
            vg_sbuf_addc(k, '\x01');
            vg_sbuf_add(k, f->v.str, VG_MIN(f->v.len, 256));
        } else {
            vg_sbuf_addc(k, '\x02');
        }
    }
    if (k->err) {
        return NULL;
    }
    uint64_t h = vg_hash64(k->p, k->len, 0x5bd1e995);
    for (uint32_t i = (uint32_t)h & c->memo_mask;; i = (i + 1) & c->memo_mask) {
        struct memo_ent *m = c->memo[i];
        if (!m) {
            break;
        }
        if (m->hash == h && m->keylen == k->len && memcmp(m->key, k->p, k->len) == 0) {
            return m;
        }
    }
    if (c->memo_n >= MEMO_MAX) { /* pathological key diversity: start over */
        memset(c->memo, 0, (c->memo_mask + 1) * sizeof(*c->memo));
        vg_arena_reset(c->memo_arena);
        c->memo_n = 0;
    }
    if ((c->memo_n + 1) * 2 > c->memo_mask + 1) {
        uint32_t nmask = c->memo_mask * 2 + 1;
        struct memo_ent **nm = vg_calloc(nmask + 1, sizeof(*nm));
        if (!nm) {
            return NULL;
        }
        for (uint32_t i = 0; i <= c->memo_mask; i++) {
            struct memo_ent *m = c->memo[i];
            if (m) {
                uint32_t j = (uint32_t)m->hash & nmask;
                while (nm[j]) {
                    j = (j + 1) & nmask;
                }
                nm[j] = m;
            }
        }
        vg_free(c->memo);
        c->memo = nm;
        c->memo_mask = nmask;
    }
    struct memo_ent *m = memo_build(c, ev, h);
    if (!m) {
        return NULL;
    }
    uint32_t i = (uint32_t)h & c->memo_mask;
    while (c->memo[i]) {
        i = (i + 1) & c->memo_mask;
    }
    c->memo[i] = m;
    c->memo_n++;
    return m;
}

/* ---------------------------------------------------------------- prefilter scan */

static void on_pattern(struct vg_detect_ctx *c, const struct fdb *d, unsigned int id)
{
    c->pat_hit[d->pid_base + id] = c->epoch;
    const uint8_t *route_on = c->cur->route_on, *full = c->rs->full_mask;
    for (uint32_t k = d->pat_start[id]; k < d->pat_start[id + 1]; k++) {
        if (!route_on[d->pat_route[k]]) {
            continue;
        }
        uint32_t v = d->pat_var[k] >> VG_CLAUSE_BITS;
        if (c->seen[v] == c->epoch) {
            continue;
        }
        if (c->hit_epoch[v] != c->epoch) {
            c->hit_epoch[v] = c->epoch;
            c->hit_mask[v] = 0;
        }
        c->hit_mask[v] |= (uint8_t)(1u << (d->pat_var[k] & ((1u << VG_CLAUSE_BITS) - 1)));
        if (c->hit_mask[v] == full[v]) { /* every witness clause occurred */
            c->seen[v] = c->epoch;
            c->cand[c->ncand++] = v;
        }
    }
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ud)
{
    VG_UNUSED(from);
    VG_UNUSED(to);
    VG_UNUSED(flags);
    struct vg_detect_ctx *c = ud;
    if (c->rec_n < SCACHE_IDS) {
        c->rec_ids[c->rec_n] = id;
    }
    c->rec_n++;
    on_pattern(c, c->cur_fdb, id);
    return 0;
}

static void scan_value(struct vg_detect_ctx *c, const struct fdb *d, const struct vg_value *v)
{
    if (v->type == VG_V_NULL) {
        return;
    }
    uint32_t di = (uint32_t)(d - c->rs->fdbs);
    struct scache_ent *e = NULL;
    uint64_t h = 0;
    if (v->len <= SCACHE_VALUE_MAX) {
        h = vg_hash64(v->str, v->len, di);
        e = &c->scache[h & (SCACHE_SLOTS - 1)];
        if (e->nids != UINT16_MAX && e->hash == h && e->fdb == di && e->len == v->len &&
            memcmp(e->val, v->str, v->len) == 0) {
            c->ctr.cached++;
            for (uint32_t i = 0; i < e->nids; i++) {
                on_pattern(c, d, e->ids[i]);
            }
            return;
        }
    }
    c->cur_fdb = d;
    c->rec_n = 0;
    c->ctr.scans++;
    hs_scan(d->db, v->str, v->len, 0, c->scratch, on_match, c);
    if (e && c->rec_n <= SCACHE_IDS) {
        e->hash = h;
        e->fdb = di;
        e->len = (uint16_t)v->len;
        e->nids = (uint16_t)c->rec_n;
        memcpy(e->ids, c->rec_ids, c->rec_n * sizeof(uint32_t));
        memcpy(e->val, v->str, v->len);
    }
}

/*
 * Keyword witnesses may occur in any value: scan all values at once, joined by a separator.
 * A match spanning two values can only add a candidate (evaluation is exact), and a match
 * inside one value is never missed.
 */
static void scan_keywords(struct vg_detect_ctx *c, struct vg_event *ev, const struct fdb *d)
{
    struct vg_sbuf *b = &c->kwbuf;
    if (c->kw_epoch != c->epoch) {
        c->kw_epoch = c->epoch;
        vg_sbuf_reset(b);
        size_t total = 0;
        for (uint32_t i = 0; i < ev->n; i++) {
            total += ev->fields[i].v.len + 2;
        }
        if (vg_sbuf_reserve(b, total) != VG_OK) {
            return;
        }
        for (uint32_t i = 0; i < ev->n; i++) {
            const struct vg_value *v = &ev->fields[i].v;
            if (v->type != VG_V_NULL) {
                memcpy(b->p + b->len, v->str, v->len);
                b->p[b->len + v->len] = '\n';
                b->p[b->len + v->len + 1] = '\0';
                b->len += v->len + 2;
            }
        }
    }
    if (b->len) {
        c->cur_fdb = d;
        c->rec_n = 0;
        c->ctr.scans++;
        hs_scan(d->db, b->p, (unsigned)VG_MIN(b->len, UINT32_MAX), 0, c->scratch, on_match, c);
    }
}

static void collect(struct vg_detect_ctx *c, struct vg_event *ev, const struct memo_ent *m)
{
    const struct vg_ruleset *rs = c->rs;
    c->cur = m;
    c->ncand = 0;
    for (uint32_t i = 0; i < m->nfdb; i++) {
        const struct fdb *d = &rs->fdbs[m->fdbs[i]];
        if (d->kw) {
            scan_keywords(c, ev, d);
            continue;
        }
        for (struct vg_field *f = vg_event_get(ev, d->field); f; f = vg_event_next(ev, f)) {
            scan_value(c, d, &f->v);
        }
    }
    for (uint32_t i = 0; i < m->nunw; i++) {
        uint32_t v = m->unw[i];
        if (c->seen[v] != c->epoch) {
            c->seen[v] = c->epoch;
            c->cand[c->ncand++] = v;
        }
    }
    /* rule order, for deterministic output; lists are short: insertion sort, no malloc */
    for (uint32_t i = 1; i < c->ncand; i++) {
        uint32_t x = c->cand[i], j = i;
        while (j > 0 && c->cand[j - 1] > x) {
            c->cand[j] = c->cand[j - 1];
            j--;
        }
        c->cand[j] = x;
    }
}

static void next_epoch(struct vg_detect_ctx *c)
{
    if (++c->epoch == 0) {
        c->kw_epoch = 0;
        memset(c->seen, 0, (c->rs->nvariants + 1) * sizeof(uint32_t));
        memset(c->hit_epoch, 0, (c->rs->nvariants + 1) * sizeof(uint32_t));
        memset(c->pat_hit, 0, (c->rs->npatterns + 1) * sizeof(uint32_t));
        memset(c->rule_seen, 0, (c->rs->nrules + 1) * sizeof(uint32_t));
        c->epoch = 1;
    }
}

int vg_detect_event(const struct vg_ruleset *rs, struct vg_detect_ctx *c, struct vg_event *ev,
                    vg_detect_cb cb, void *ud)
{
    c->ctr.events++;
    const struct memo_ent *m = route_event(c, ev);
    if (!m || !m->any) {
        return m ? VG_OK : VG_ENOMEM;
    }
    c->ctr.routed++;
    next_epoch(c);
    collect(c, ev, m);
    c->ctr.candidates += c->ncand;
    bool timed = c->prof && (c->sample_ctr++ & c->sample_mask) == 0;
    for (uint32_t i = 0; i < c->ncand; i++) {
        const struct variant *v = &rs->variants[c->cand[i]];
        struct eval_hits hits = {v->witnessed ? v->vpid : NULL, c->pat_hit, c->epoch};
        eval_scratch_set_hits(c->es, &hits);
        if (c->rule_seen[v->rule] == c->epoch ||
            !(timed ? eval_timed(c, v, ev) : eval_variant(rs, v, ev, c->es))) {
            continue;
        }
        if (c->prof) {
            c->prof[v->rule].matches++;
        }
        c->rule_seen[v->rule] = c->epoch;
        c->ctr.matches++;
        struct vg_detect_match dm = {v->rule, c->cand[i], rs->rules[v->rule].doc};
        int rc = cb ? cb(ud, &dm, ev) : 0;
        if (rc) {
            return rc;
        }
    }
    return VG_OK;
}
