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
 * which is a superset of Sigma's comparison), anchored when it is the whole pattern; regexes
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

/* Longest run of bytes < 0x80 in p[0..n): its offset/length. */
static void ascii_run(const char *p, uint32_t n, uint32_t *off, uint32_t *len)
{
    uint32_t best = 0, bo = 0, cur = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((unsigned char)p[i] < 0x80) {
            if (++cur > best) {
                best = cur;
                bo = i + 1 - cur;
            }
        } else {
            cur = 0;
        }
    }
    *off = bo;
    *len = best;
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
    uint32_t off, len;
    switch (v->op) {
    case VG_SOP_EQ:
    case VG_SOP_CONTAINS:
    case VG_SOP_STARTSWITH:
    case VG_SOP_ENDSWITH:
    case VG_SOP_GLOB:
        ascii_run(v->s, v->n, &off, &len);
        if (!len) {
            return SCORE_TOP;
        }
        /* anchored whole values are very selective even when short */
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

static struct aset item_atoms(struct wctx *w, const struct vg_sigma_item *it)
{
    if (it->neq || it->nvals == 0) {
        return top();
    }
    uint32_t slot = it->field ? it->slot : VG_SLOT_ANY;
    if (it->all) {
        int best = SCORE_TOP;
        uint32_t bi = 0;
        for (uint32_t i = 0; i < it->nvals; i++) {
            int s = value_score(w, &it->vals[i]);
            if (s > best) {
                best = s;
                bi = i;
            }
        }
        if (best == SCORE_TOP) {
            return top();
        }
        struct aset r = {best, 1, vg_arena_alloc(w->tmp, sizeof(struct atom))};
        if (!r.a) {
            return top();
        }
        r.a[0].slot = slot;
        r.a[0].v = &it->vals[bi];
        return r;
    }
    struct aset r = {SCORE_NEVER, 0, vg_arena_alloc(w->tmp, it->nvals * sizeof(struct atom))};
    if (!r.a) {
        return top();
    }
    for (uint32_t i = 0; i < it->nvals; i++) {
        int s = value_score(w, &it->vals[i]);
        if (s == SCORE_TOP) {
            return top();
        }
        r.score = VG_MIN(r.score, s);
        r.a[r.n].slot = slot;
        r.a[r.n].v = &it->vals[i];
        r.n++;
    }
    return r;
}

static struct aset map_atoms(struct wctx *w, const struct vg_sigma_map *m)
{
    struct aset best = top();
    for (uint32_t i = 0; i < m->nitems; i++) {
        struct aset a = item_atoms(w, &m->items[i]);
        if (a.score != SCORE_TOP && (best.score == SCORE_TOP || better(&a, &best))) {
            best = a;
        }
    }
    return best;
}

static struct aset sel_atoms(struct wctx *w, const struct vg_sigma_selection *s)
{
    struct aset *parts = vg_arena_alloc(w->tmp, (s->nmaps ? s->nmaps : 1) * sizeof(*parts));
    if (!parts) {
        return top();
    }
    for (uint32_t i = 0; i < s->nmaps; i++) {
        parts[i] = map_atoms(w, &s->maps[i]);
    }
    return aset_union(w, parts, s->nmaps);
}

static struct aset cond_atoms(struct wctx *w, const struct vg_sigma_detection *d,
                              const struct vg_sigma_cond *c)
{
    switch (c->op) {
    case VG_SC_SEL:
        return sel_atoms(w, &d->sels[c->sel]);
    case VG_SC_AND: {
        struct aset best = top();
        for (uint32_t i = 0; i < c->n; i++) {
            struct aset a = cond_atoms(w, d, c->kids[i]);
            if (a.score != SCORE_TOP && (best.score == SCORE_TOP || better(&a, &best))) {
                best = a;
            }
        }
        return best;
    }
    case VG_SC_OR: {
        struct aset *parts = vg_arena_alloc(w->tmp, c->n * sizeof(*parts));
        if (!parts) {
            return top();
        }
        for (uint32_t i = 0; i < c->n; i++) {
            parts[i] = cond_atoms(w, d, c->kids[i]);
            if (parts[i].score == SCORE_TOP) {
                return top();
            }
        }
        return aset_union(w, parts, c->n);
    }
    case VG_SC_FALSE: {
        struct aset never = {SCORE_NEVER, 0, NULL};
        return never;
    }
    default:
        return top();
    }
}

/* ---------------------------------------------------------------- pattern tuples */

struct tuple {
    uint32_t field;   /* VG_FIELD_NONE = keyword (any field) */
    uint32_t variant;
    unsigned flags;
    const char *pat;  /* vectorscan expression */
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

/* Vectorscan expression for a literal witness (bytes escaped, anchored if whole). */
static const char *literal_expr(struct vg_arena *a, const struct vg_sigma_value *v)
{
    uint32_t off, len;
    ascii_run(v->s, v->n, &off, &len);
    bool whole = len == v->n;
    bool head = whole && (v->op == VG_SOP_EQ || v->op == VG_SOP_STARTSWITH);
    bool tail = whole && (v->op == VG_SOP_EQ || v->op == VG_SOP_ENDSWITH);
    char *e = vg_arena_alloc(a, (size_t)len * 4 + 3);
    if (!e) {
        return NULL;
    }
    size_t o = 0;
    if (head) {
        e[o++] = '^';
    }
    for (uint32_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v->s[off + i];
        if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) {
            e[o++] = (char)ch;
        } else {
            static const char hx[] = "0123456789abcdef";
            e[o++] = '\\';
            e[o++] = 'x';
            e[o++] = hx[ch >> 4];
            e[o++] = hx[ch & 15];
        }
    }
    if (tail) {
        e[o++] = '$';
    }
    e[o] = '\0';
    return e;
}

static int compile_fdb(struct vg_ruleset *rs, struct fdb *f, struct tuple *t, size_t n,
                       char *err, size_t errsz)
{
    /* t[0..n) share the field and are sorted: group identical (flags, pat) */
    const char **exprs = vg_arena_alloc(rs->arena, n * sizeof(char *));
    unsigned *flags = vg_arena_alloc(rs->arena, n * sizeof(unsigned));
    unsigned *ids = vg_arena_alloc(rs->arena, n * sizeof(unsigned));
    f->pat_start = vg_arena_alloc(rs->arena, (n + 1) * sizeof(uint32_t));
    f->pat_var = vg_arena_alloc(rs->arena, n * sizeof(uint32_t));
    if (!exprs || !flags || !ids || !f->pat_start || !f->pat_var) {
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
        if (nv == 0 || f->pat_var[nv - 1] != t[i].variant || f->pat_start[np - 1] == nv) {
            f->pat_var[nv++] = t[i].variant;
        }
    }
    f->pat_start[np] = nv;
    f->npat = np;
    f->field = t[0].field;
    hs_compile_error_t *ce = NULL;
    if (hs_compile_multi(exprs, flags, ids, np, HS_MODE_BLOCK, NULL, &f->db, &ce) != HS_SUCCESS) {
        size_t fl;
        const char *fname = f->field == VG_FIELD_NONE ? "(keywords)" : vg_field_name(f->field, &fl);
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
    rs->route_kw = vg_arena_calloc(rs->arena, (nr ? nr : 1) * sizeof(bool));
    rs->route_unw = vg_arena_alloc(rs->arena, (rs->nvariants + 1) * sizeof(uint32_t));
    rs->route_fdb = vg_arena_alloc(rs->arena, ((size_t)nr * (rs->nfdb + 1) + 1) * sizeof(uint32_t));
    if (!rs->route_unw_start || !rs->route_fdb_start || !rs->route_kw || !rs->route_unw ||
        !rs->route_fdb) {
        return VG_ENOMEM;
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
            bool used = false;
            for (uint32_t v = 0; v < rs->nvariants && !used; v++) {
                used = rs->variants[v].route == r && var_in_fdb[d][v];
            }
            if (!used) {
                continue;
            }
            if (d == rs->kw_fdb) {
                rs->route_kw[r] = true;
            } else {
                rs->route_fdb[nf++] = d;
            }
        }
    }
    rs->route_unw_start[nr] = nu;
    rs->route_fdb_start[nr] = nf;
    rs->stats.unwitnessed = nu;
    return VG_OK;
}

static int add_tuples(struct vg_ruleset *rs, struct wctx *w, uint32_t v, const struct aset *as,
                      struct tuple **tv, size_t *nt, size_t *cap)
{
    const struct variant *var = &rs->variants[v];
    for (uint32_t i = 0; i < as->n; i++) {
        const struct vg_sigma_value *val = as->a[i].v;
        if (vg_grow(tv, cap, *nt + 1, sizeof(**tv)) != VG_OK) {
            return VG_ENOMEM;
        }
        struct tuple *t = &(*tv)[(*nt)++];
        t->field = as->a[i].slot == VG_SLOT_ANY ? VG_FIELD_NONE : var->slots[as->a[i].slot];
        t->variant = v;
        if (val->op == VG_SOP_RE) {
            t->flags = hs_re_flags(val);
            t->pat = val->s;
        } else {
            t->flags = HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;
            t->pat = literal_expr(rs->arena, val);
            if (!t->pat) {
                return VG_ENOMEM;
            }
        }
    }
    VG_UNUSED(w);
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
    /* witness per rule (shared by its variants; slots are bound per variant) */
    for (uint32_t r = 0; r < rs->nrules; r++) {
        const struct rule_rt *rt = &rs->rules[r];
        struct aset as = rs->opts.no_prefilter ? top() : cond_atoms(&w, &rt->doc->det,
                                                                    rt->doc->det.cond);
        for (uint32_t k = 0; k < rt->nvariants; k++) {
            uint32_t v = rt->first_variant + k;
            if (as.score == SCORE_TOP) {
                continue;
            }
            witnessed[v] = true;
            rs->variants[v].witnessed = true;
            if ((rc = add_tuples(rs, &w, v, &as, &tv, &nt, &cap)) != VG_OK) {
                goto out;
            }
        }
    }
    qsort(tv, nt, sizeof(*tv), tuple_cmp);
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
            var_in_fdb[d][tv[k].variant] = true;
        }
        rc = compile_fdb(rs, &rs->fdbs[d], tv + i, j - i, err, errsz);
        if (rc != VG_OK) {
            goto out;
        }
        rs->nfdb++;
        if (tv[i].field == VG_FIELD_NONE) {
            rs->kw_fdb = d;
        }
        i = j;
    }
    rs->stats.databases = rs->nfdb;
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
