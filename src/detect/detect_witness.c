/*
 * detect_witness.c — the prefilter: for every rule variant, a "witness" set of (field,
 * literal-or-regex) of which at least one must occur in the event for the rule to match,
 * and one vectorscan database per field over all witnesses.
 *
 * Witnesses are derived from the condition tree (sound by construction):
 *   W(a and b) = the better of W(a), W(b)     W(a or b) = W(a) ∪ W(b)
 *   W(not a)   = ⊤ (no witness)              W(selection) = ∪ over its maps of the best item
 *   W(item)    = ∪ of its values' literals (|all: the best single value)
 * A value's literal is the longest ASCII run of its case-folded pattern (matched caselessly,
 * which is a superset of Sigma's comparison), unanchored; regexes
 * go in as vectorscan prefilter patterns. Variants whose witness is ⊤ are evaluated on every
 * event of their route.
 */
#include "detect/detect_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define SCORE_TOP   (-1)
#define SCORE_NEVER 1000000

struct atom {
    uint32_t slot; /* VG_SLOT_ANY for keywords */
    const struct vg_sigma_value *v;
};

struct aset {
    int score; /* SCORE_TOP: no witness */
    uint32_t n;
    struct atom *a;
};

struct wctx {
    struct vg_arena *tmp;
    /* regexes vectorscan accepts in prefilter mode (cache by value pointer) */
    const struct vg_sigma_value **re_ok;
    uint8_t *re_res;
    size_t nre, capre;
};

#define MAX_CASE_VARIANT_CPS 3
#define MIN_EXTRA_CLAUSE_SCORE                                                                     \
    5 /* weakest literal length worth an extra clause */ /* foldable non-ASCII characters expanded \
                                                            into 2^k patterns */

static uint32_t next_cp(const char *p, uint32_t n, uint32_t *i)
{
    size_t k = *i;
    uint32_t cp = vg_utf8_next(p, n, &k);
    *i = (uint32_t)k;
    return cp;
}

/* Non-ASCII characters of a folded literal that have another case in the raw event. */
static uint32_t foldable_count(const char *p, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t cp = next_cp(p, n, &i);
        k += cp >= 0x80 && vg_fold_partner(cp) != cp;
    }
    return k;
}

/*
 * Longest run of p[0..n) that a raw, ASCII-caseless scan finds exactly: ASCII and non-ASCII
 * characters without another case (emoji, CJK, symbols).
 */
static void stable_run(const char *p, uint32_t n, uint32_t *off, uint32_t *len)
{
    uint32_t best = 0, bo = 0, start = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t at = i, cp = next_cp(p, n, &i);
        if (cp >= 0x80 && vg_fold_partner(cp) != cp) {
            start = i;
            continue;
        }
        if (i - start > best) {
            best = i - start;
            bo = start;
        }
        VG_UNUSED(at);
    }
    *off = bo;
    *len = best;
}

/* Bytes of a value usable as a prefilter literal (0 when none). */
static uint32_t witness_len(const struct vg_sigma_value *v)
{
    if (v->cased || foldable_count(v->s, v->n) <= MAX_CASE_VARIANT_CPS) {
        return v->n; /* whole literal, with case variants of its foldable characters */
    }
    uint32_t off, len;
    stable_run(v->s, v->n, &off, &len);
    return len;
}

static unsigned hs_re_flags(const struct vg_sigma_value *v)
{
    uint32_t opts = 0;
    pcre2_pattern_info((const pcre2_code *)v->re, PCRE2_INFO_ARGOPTIONS, &opts);
    unsigned f = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
    if (opts & PCRE2_CASELESS) {
        f |= HS_FLAG_CASELESS;
    }
    if (opts & PCRE2_DOTALL) {
        f |= HS_FLAG_DOTALL;
    }
    if (opts & PCRE2_MULTILINE) {
        f |= HS_FLAG_MULTILINE;
    }
    return f;
}

static bool regex_usable(struct wctx *w, const struct vg_sigma_value *v)
{
    for (size_t i = 0; i < w->nre; i++) {
        if (w->re_ok[i] == v) {
            return w->re_res[i];
        }
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    bool ok = hs_compile(v->s, hs_re_flags(v), HS_MODE_BLOCK, NULL, &db, &ce) == HS_SUCCESS;
    if (db) {
        hs_free_database(db);
    }
    if (ce) {
        hs_free_compile_error(ce);
    }
    size_t cap2 = w->capre;
    if (vg_grow(&w->re_ok, &w->capre, w->nre + 1, sizeof(*w->re_ok)) == VG_OK &&
        vg_grow(&w->re_res, &cap2, w->nre + 1, 1) == VG_OK) {
        w->re_ok[w->nre] = v;
        w->re_res[w->nre] = ok;
        w->nre++;
    }
    return ok;
}

/* Quality of one value as a witness (literal length), or SCORE_TOP. */
static int value_score(struct wctx *w, const struct vg_sigma_value *v)
{
    uint32_t len;
    switch (v->op) {
    case VG_SOP_EQ:
    case VG_SOP_CONTAINS:
    case VG_SOP_STARTSWITH:
    case VG_SOP_ENDSWITH:
    case VG_SOP_GLOB:
        len = witness_len(v);
        if (!len) {
            return SCORE_TOP;
        }
        /* whole values compared for equality/prefix/suffix are selective even when short */
        if (len == v->n && v->op != VG_SOP_CONTAINS && v->op != VG_SOP_GLOB) {
            len += 2;
        }
        return (int)VG_MIN(len, 16);
    case VG_SOP_RE:
        return regex_usable(w, v) ? 3 : SCORE_TOP;
    default:
        return SCORE_TOP;
    }
}

static struct aset top(void)
{
    struct aset s = {SCORE_TOP, 0, NULL};
    return s;
}

static struct aset aset_union(struct wctx *w, const struct aset *x, uint32_t nx)
{
    uint32_t total = 0;
    int score = SCORE_NEVER;
    for (uint32_t i = 0; i < nx; i++) {
        if (x[i].score == SCORE_TOP) {
            return top();
        }
        total += x[i].n;
        score = VG_MIN(score, x[i].score);
    }
    struct aset r = {score, 0, NULL};
    if (total) {
        r.a = vg_arena_alloc(w->tmp, total * sizeof(*r.a));
        if (!r.a) {
            return top();
        }
        for (uint32_t i = 0; i < nx; i++) {
            memcpy(r.a + r.n, x[i].a, x[i].n * sizeof(*r.a));
            r.n += x[i].n;
        }
    }
    return r;
}

/* Better witness: higher minimum literal quality, then fewer atoms. */
static bool better(const struct aset *a, const struct aset *b)
{
    if (a->score != b->score) {
        return a->score > b->score;
    }
    return a->n < b->n;
}

/*
 * A witness in conjunctive form: every clause (an OR of atoms) must hit for the rule to be a
 * candidate. n == 0 means no constraint (⊤). Up to VG_MAX_CLAUSES clauses are kept, the most
 * selective ones.
 */
struct cnf {
    uint32_t n;
    struct aset c[VG_MAX_CLAUSES];
};

static void cnf_add(struct cnf *f, const struct aset *a)
{
    if (a->score == SCORE_TOP) {
        return;
    }

    if (f->n < VG_MAX_CLAUSES) {
        f->c[f->n++] = *a;
        return;
    }
    uint32_t worst = 0;
    for (uint32_t i = 1; i < f->n; i++) {
        if (better(&f->c[worst], &f->c[i])) {
            worst = i;
        }
    }
    if (better(a, &f->c[worst])) {
        f->c[worst] = *a;
    }
}

static void cnf_and(struct cnf *f, const struct cnf *g)
{
    for (uint32_t i = 0; i < g->n; i++) {
        cnf_add(f, &g->c[i]);
    }
}

/*
 * Keep the clauses worth scanning for: a weak clause (short literals like '.exe' or '/c')
 * matches most events and fans out to many rules, so it costs more than the candidates it
 * saves. If no clause is strong, keep the single best one.
 */
static void cnf_prune(struct cnf *f)
{
    uint32_t n = 0, best = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        if (better(&f->c[i], &f->c[best])) {
            best = i;
        }
    }
    if (f->n && f->c[best].score < MIN_EXTRA_CLAUSE_SCORE) {
        f->c[0] = f->c[best];
        f->n = 1;
        return;
    }
    for (uint32_t i = 0; i < f->n; i++) {
        if (f->c[i].score >= MIN_EXTRA_CLAUSE_SCORE) {
            f->c[n++] = f->c[i];
        }
    }
    f->n = n;
}

/* The single most selective clause (⊤ if none). */
static struct aset cnf_best(const struct cnf *f)
{
    struct aset best = top();
    for (uint32_t i = 0; i < f->n; i++) {
        if (best.score == SCORE_TOP || better(&f->c[i], &best)) {
            best = f->c[i];
        }
    }
    return best;
}

static struct aset value_atom(struct wctx *w, uint32_t slot, const struct vg_sigma_value *v)
{
    int s = value_score(w, v);
    if (s == SCORE_TOP) {
        return top();
    }
    struct aset r = {s, 1, vg_arena_alloc(w->tmp, sizeof(struct atom))};
    if (!r.a) {
        return top();
    }
    r.a[0].slot = slot;
    r.a[0].v = v;
    return r;
}

static void item_cnf(struct wctx *w, const struct vg_sigma_item *it, struct cnf *out)
{
    out->n = 0;
    if (it->neq || it->nvals == 0) {
        return;
    }
    uint32_t slot = it->field ? it->slot : VG_SLOT_ANY;
    if (it->all) { /* every value must occur: one clause per value */
        for (uint32_t i = 0; i < it->nvals; i++) {
            struct aset a = value_atom(w, slot, &it->vals[i]);
            cnf_add(out, &a);
        }
        return;
    }
    struct aset r = {SCORE_NEVER, 0, vg_arena_alloc(w->tmp, it->nvals * sizeof(struct atom))};
    if (!r.a) {
        return;
    }
    for (uint32_t i = 0; i < it->nvals; i++) {
        int s = value_score(w, &it->vals[i]);
        if (s == SCORE_TOP) {
            return;
        }
        r.score = VG_MIN(r.score, s);
        r.a[r.n].slot = slot;
        r.a[r.n].v = &it->vals[i];
        r.n++;
    }
    cnf_add(out, &r);
}

static void map_cnf(struct wctx *w, const struct vg_sigma_map *m, struct cnf *out)
{
    out->n = 0;
    for (uint32_t i = 0; i < m->nitems; i++) {
        struct cnf k;
        item_cnf(w, &m->items[i], &k);
        cnf_and(out, &k);
    }
}

/* Disjunction of CNFs: each side collapses to its best clause, and the clauses unite. */
static void or_cnf(struct wctx *w, const struct cnf *kids, uint32_t n, struct cnf *out)
{
    struct aset *parts = vg_arena_alloc(w->tmp, (n ? n : 1) * sizeof(*parts));
    out->n = 0;
    if (!parts) {
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        parts[i] = cnf_best(&kids[i]);
        if (parts[i].score == SCORE_TOP) {
            return;
        }
    }
    struct aset u = aset_union(w, parts, n);
    cnf_add(out, &u);
}

static void sel_cnf(struct wctx *w, const struct vg_sigma_selection *s, struct cnf *out)
{
    if (s->nmaps == 1) {
        map_cnf(w, &s->maps[0], out);
        return;
    }
    struct cnf *kids = vg_arena_alloc(w->tmp, (s->nmaps ? s->nmaps : 1) * sizeof(*kids));
    out->n = 0;
    if (!kids) {
        return;
    }
    for (uint32_t i = 0; i < s->nmaps; i++) {
        map_cnf(w, &s->maps[i], &kids[i]);
    }
    or_cnf(w, kids, s->nmaps, out);
}

/* Returns false for a condition that can never be true (e.g. a constant false). */
static bool cond_cnf(struct wctx *w, const struct vg_sigma_detection *d,
                     const struct vg_sigma_cond *c, struct cnf *out)
{
    out->n = 0;
    switch (c->op) {
    case VG_SC_SEL:
        sel_cnf(w, &d->sels[c->sel], out);
        return true;
    case VG_SC_AND:
        for (uint32_t i = 0; i < c->n; i++) {
            struct cnf k;
            if (!cond_cnf(w, d, c->kids[i], &k)) {
                return false;
            }
            cnf_and(out, &k);
        }
        return true;
    case VG_SC_OR: {
        struct cnf *kids = vg_arena_alloc(w->tmp, c->n * sizeof(*kids));
        uint32_t nk = 0;
        if (!kids) {
            return true;
        }
        for (uint32_t i = 0; i < c->n; i++) {
            if (cond_cnf(w, d, c->kids[i], &kids[nk])) {
                nk++;
            }
        }
        if (!nk) {
            return false;
        }
        or_cnf(w, kids, nk, out);
        return true;
    }
    case VG_SC_FALSE:
        return false;
    default:
        return true;
    }
}

/* ---------------------------------------------------------------- pattern tuples */

struct tuple {
    uint32_t field;   /* event field, or VG_KW_FIELD(route) for keywords (any field) */
    uint32_t variant; /* (variant << VG_CLAUSE_BITS) | clause */
    uint32_t vidx;    /* value index in the rule, VG_PID_NONE when not exact */
    unsigned flags;
    const char *pat; /* vectorscan expression */
};

static int tuple_cmp(const void *a, const void *b)
{
    const struct tuple *x = a, *y = b;
    if (x->field != y->field) {
        return x->field < y->field ? -1 : 1;
    }
    if (x->flags != y->flags) {
        return x->flags < y->flags ? -1 : 1;
    }
    int c = strcmp(x->pat, y->pat);
    if (c) {
        return c;
    }
    return x->variant < y->variant ? -1 : x->variant > y->variant;
}

static void escape_into(char *e, size_t *o, const char *p, uint32_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (uint32_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
            e[(*o)++] = (char)ch;
        } else {
            e[(*o)++] = '\\';
            e[(*o)++] = 'x';
            e[(*o)++] = hx[ch >> 4];
            e[(*o)++] = hx[ch & 15];
        }
    }
}

/*
 * Vectorscan expressions for a literal witness: its bytes escaped, unanchored, one
 * expression per case variant of its foldable non-ASCII characters (ASCII case is left to
 * HS_FLAG_CASELESS). Returns the number of expressions written to out (<= 8).
 *
 * (Anchoring equality and suffix literals with ^/$ made them more selective but multiplied
 * vectorscan's compile time by ~8 for the SigmaHQ set — 0.8 s for Image alone — because
 * anchored literals leave the fast FDR literal matcher; an unanchored superset costs a few
 * extra candidates instead.)
 */
static uint32_t literal_exprs(struct vg_arena *a, const struct vg_sigma_value *v, const char **out)
{
    uint32_t k = v->cased ? 0 : foldable_count(v->s, v->n);
    if (!v->cased && k > MAX_CASE_VARIANT_CPS) {
        uint32_t off, len;
        stable_run(v->s, v->n, &off, &len);
        char *e = vg_arena_alloc(a, (size_t)len * 4 + 1);
        if (!e) {
            return 0;
        }
        size_t o = 0;
        escape_into(e, &o, v->s + off, len);
        e[o] = '\0';
        out[0] = e;
        return 1;
    }
    uint32_t nvar = 1u << k;
    for (uint32_t m = 0; m < nvar; m++) {
        char *lit = vg_arena_alloc(a, (size_t)v->n + 8);
        char *e = vg_arena_alloc(a, ((size_t)v->n + 8) * 4 + 1);
        if (!lit || !e) {
            return 0;
        }
        size_t ln = 0, o = 0;
        uint32_t bit = 0;
        for (uint32_t i = 0; i < v->n;) {
            uint32_t cp = next_cp(v->s, v->n, &i);
            if (!v->cased && cp >= 0x80 && vg_fold_partner(cp) != cp) {
                if (m & (1u << bit)) {
                    cp = vg_fold_partner(cp);
                }
                bit++;
            }
            ln += vg_utf8_put(lit + ln, cp);
        }
        escape_into(e, &o, lit, (uint32_t)ln);
        e[o] = '\0';
        out[m] = e;
    }
    return nvar;
}

static int compile_fdb(struct vg_ruleset *rs, struct fdb *f, struct tuple *t, size_t n, char *err,
                       size_t errsz)
{
    /* t[0..n) share the field and are sorted: group identical (flags, pat) */
    const char **exprs = vg_arena_alloc(rs->arena, n * sizeof(char *));
    unsigned *flags = vg_arena_alloc(rs->arena, n * sizeof(unsigned));
    unsigned *ids = vg_arena_alloc(rs->arena, n * sizeof(unsigned));
    f->pat_start = vg_arena_alloc(rs->arena, (n + 1) * sizeof(uint32_t));
    f->pat_var = vg_arena_alloc(rs->arena, n * sizeof(uint32_t));
    f->pat_route = vg_arena_alloc(rs->arena, n * sizeof(uint16_t));
    if (!exprs || !flags || !ids || !f->pat_start || !f->pat_var || !f->pat_route) {
        return VG_ENOMEM;
    }
    uint32_t np = 0, nv = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || t[i].flags != t[i - 1].flags || strcmp(t[i].pat, t[i - 1].pat) != 0) {
            exprs[np] = t[i].pat;
            flags[np] = t[i].flags;
            ids[np] = np;
            f->pat_start[np] = nv;
            np++;
        }
        if (t[i].vidx != VG_PID_NONE) {
            rs->variants[t[i].variant >> VG_CLAUSE_BITS].vpid[t[i].vidx] = rs->npatterns + np - 1;
        }
        if (nv == 0 || f->pat_var[nv - 1] != t[i].variant || f->pat_start[np - 1] == nv) {
            f->pat_route[nv] = (uint16_t)rs->variants[t[i].variant >> VG_CLAUSE_BITS].route;
            f->pat_var[nv++] = t[i].variant;
        }
    }
    f->pat_start[np] = nv;
    f->npat = np;
    f->pid_base = rs->npatterns;
    rs->npatterns += np;
    f->field = t[0].field;
    hs_compile_error_t *ce = NULL;
    uint64_t t0 = vg_clock_ns();
    int hrc = hs_compile_multi(exprs, flags, ids, np, HS_MODE_BLOCK, NULL, &f->db, &ce);
    VG_DEBUG("detect", "prefilter %s: %u patterns compiled in %.1f ms",
             f->kw ? "(keywords)" : vg_field_name(f->field, NULL), np,
             (double)(vg_clock_ns() - t0) / 1e6);
    if (hrc != HS_SUCCESS) {
        size_t fl;
        const char *fname = f->kw ? "(keywords)" : vg_field_name(f->field, &fl);
        snprintf(err, errsz, "prefilter for field %s: %s (pattern %d)", fname,
                 ce ? ce->message : "compile failed", ce ? ce->expression : -1);
        if (ce) {
            hs_free_compile_error(ce);
        }
        return VG_ERROR;
    }
    rs->stats.literals += np;
    return VG_OK;
}

/* Per route: unwitnessed variants, relevant databases, keyword flag. */
static int index_routes(struct vg_ruleset *rs, const bool *witnessed, bool **var_in_fdb)
{
    uint32_t nr = rs->nroutes;
    rs->route_unw_start = vg_arena_calloc(rs->arena, (nr + 1) * sizeof(uint32_t));
    rs->route_fdb_start = vg_arena_calloc(rs->arena, (nr + 1) * sizeof(uint32_t));
    rs->route_unw = vg_arena_alloc(rs->arena, (rs->nvariants + 1) * sizeof(uint32_t));
    rs->route_fdb = vg_arena_alloc(rs->arena, ((size_t)nr * (rs->nfdb + 1) + 1) * sizeof(uint32_t));
    /* rel[r * nfdb + d]: some variant of route r has witnesses in database d */
    bool *rel = vg_calloc((size_t)nr * (rs->nfdb + 1) + 1, sizeof(bool));
    if (!rs->route_unw_start || !rs->route_fdb_start || !rs->route_unw || !rs->route_fdb || !rel) {
        vg_free(rel);
        return VG_ENOMEM;
    }
    for (uint32_t d = 0; d < rs->nfdb; d++) {
        for (uint32_t v = 0; v < rs->nvariants; v++) {
            if (var_in_fdb[d][v]) {
                rel[(size_t)rs->variants[v].route * rs->nfdb + d] = true;
            }
        }
    }
    uint32_t nu = 0, nf = 0;
    for (uint32_t r = 0; r < nr; r++) {
        rs->route_unw_start[r] = nu;
        for (uint32_t v = 0; v < rs->nvariants; v++) {
            if (rs->variants[v].route == r && !witnessed[v]) {
                rs->route_unw[nu++] = v;
            }
        }
        rs->route_fdb_start[r] = nf;
        for (uint32_t d = 0; d < rs->nfdb; d++) {
            if (!rel[(size_t)r * rs->nfdb + d]) {
                continue;
            }
            rs->route_fdb[nf++] = d;
        }
    }
    rs->route_unw_start[nr] = nu;
    rs->route_fdb_start[nr] = nf;
    rs->stats.unwitnessed = nu;
    vg_free(rel);
    return VG_OK;
}

static int add_tuple(struct tuple **tv, size_t *nt, size_t *cap, uint32_t field, uint32_t code,
                     unsigned flags, const char *pat, uint32_t vidx)
{
    if (vg_grow(tv, cap, *nt + 1, sizeof(**tv)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct tuple *t = &(*tv)[(*nt)++];
    t->field = field;
    t->variant = code;
    t->flags = flags;
    t->pat = pat;
    t->vidx = vidx;
    return VG_OK;
}

static int add_tuples(struct vg_ruleset *rs, uint32_t v, const struct cnf *f, struct tuple **tv,
                      size_t *nt, size_t *cap)
{
    const struct variant *var = &rs->variants[v];
    for (uint32_t cl = 0; cl < f->n; cl++) {
        const struct aset *as = &f->c[cl];
        uint32_t code = (v << VG_CLAUSE_BITS) | cl;
        for (uint32_t i = 0; i < as->n; i++) {
            const struct vg_sigma_value *val = as->a[i].v;
            uint32_t field =
                as->a[i].slot == VG_SLOT_ANY ? VG_KW_FIELD(var->route) : var->slots[as->a[i].slot];
            int rc;
            if (val->op == VG_SOP_RE) {
                rc = add_tuple(tv, nt, cap, field, code, hs_re_flags(val), val->s, val->idx);
            } else {
                const char *exprs[1u << MAX_CASE_VARIANT_CPS];
                uint32_t ne = literal_exprs(rs->arena, val, exprs);
                rc = ne ? VG_OK : VG_ENOMEM;
                for (uint32_t e = 0; e < ne && rc == VG_OK; e++) {
                    /* with several case variants no single pattern stands for the value */
                    rc = add_tuple(tv, nt, cap, field, code, HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH,
                                   exprs[e], ne == 1 ? val->idx : VG_PID_NONE);
                }
            }
            if (rc != VG_OK) {
                return rc;
            }
        }
    }
    return VG_OK;
}

int build_prefilter(struct vg_ruleset *rs, char *err, size_t errsz)
{
    struct wctx w = {.tmp = vg_arena_create(1u << 20)};
    struct tuple *tv = NULL;
    size_t nt = 0, cap = 0;
    bool *witnessed = vg_arena_calloc(rs->arena, (rs->nvariants + 1) * sizeof(bool));
    bool **var_in_fdb = NULL;
    uint32_t nfields = 0;
    int rc = VG_ENOMEM;
    if (!w.tmp || !witnessed) {
        goto out;
    }
    /* per variant: value → prefilter pattern (filled as databases are built) */
    for (uint32_t v = 0; v < rs->nvariants; v++) {
        uint32_t nv = rs->rules[rs->variants[v].rule].doc->det.nvalues;
        rs->variants[v].vpid = vg_arena_alloc(rs->arena, (nv + 1) * sizeof(uint32_t));
        if (!rs->variants[v].vpid) {
            goto out;
        }
        memset(rs->variants[v].vpid, 0xFF, (nv + 1) * sizeof(uint32_t));
    }
    /* witness per rule (shared by its variants; slots are bound per variant) */
    for (uint32_t r = 0; r < rs->nrules; r++) {
        const struct rule_rt *rt = &rs->rules[r];
        struct cnf f = {0};
        bool possible = rs->opts.no_prefilter || cond_cnf(&w, &rt->doc->det, rt->doc->det.cond, &f);
        cnf_prune(&f);
        for (uint32_t k = 0; k < rt->nvariants; k++) {
            uint32_t v = rt->first_variant + k;
            if (possible && f.n == 0) {
                continue; /* no witness: evaluated on every event of its route */
            }
            witnessed[v] = true; /* (a never-true condition is "witnessed" by nothing) */
            rs->variants[v].witnessed = true;
            rs->variants[v].full_mask = (uint8_t)((1u << f.n) - 1);
            if (possible && (rc = add_tuples(rs, v, &f, &tv, &nt, &cap)) != VG_OK) {
                goto out;
            }
        }
    }
    if (nt) {
        qsort(tv, nt, sizeof(*tv), tuple_cmp);
    }
    /* one database per field */
    for (size_t i = 0; i < nt; i++) {
        nfields += i == 0 || tv[i].field != tv[i - 1].field;
    }
    rs->fdbs = vg_arena_calloc(rs->arena, (nfields ? nfields : 1) * sizeof(*rs->fdbs));
    var_in_fdb = vg_calloc(nfields ? nfields : 1, sizeof(*var_in_fdb));
    if (!rs->fdbs || !var_in_fdb) {
        rc = VG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < nt;) {
        size_t j = i;
        while (j < nt && tv[j].field == tv[i].field) {
            j++;
        }
        uint32_t d = rs->nfdb;
        var_in_fdb[d] = vg_calloc(rs->nvariants + 1, sizeof(bool));
        if (!var_in_fdb[d]) {
            rc = VG_ENOMEM;
            goto out;
        }
        for (size_t k = i; k < j; k++) {
            var_in_fdb[d][tv[k].variant >> VG_CLAUSE_BITS] = true;
        }
        rc = compile_fdb(rs, &rs->fdbs[d], tv + i, j - i, err, errsz);
        if (rc != VG_OK) {
            goto out;
        }
        rs->nfdb++;
        rs->fdbs[d].kw = VG_IS_KW_FIELD(tv[i].field);
        i = j;
    }
    rs->stats.databases = rs->nfdb;
    rs->full_mask = vg_arena_alloc(rs->arena, rs->nvariants + 1);
    if (!rs->full_mask) {
        rc = VG_ENOMEM;
        goto out;
    }
    for (uint32_t v = 0; v < rs->nvariants; v++) {
        rs->full_mask[v] = rs->variants[v].full_mask;
    }
    rc = index_routes(rs, witnessed, var_in_fdb);
out:
    if (rc == VG_ENOMEM) {
        snprintf(err, errsz, "prefilter: out of memory");
    }
    for (uint32_t d = 0; var_in_fdb && d < nfields; d++) {
        vg_free(var_in_fdb[d]);
    }
    vg_free(var_in_fdb);
    vg_free(tv);
    vg_free(w.re_ok);
    vg_free(w.re_res);
    vg_arena_destroy(w.tmp);
    return rc;
}
