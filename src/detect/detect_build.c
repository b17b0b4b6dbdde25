/*
 * detect_build.c — building a ruleset generation: routing every rule to its mapping
 * entries (variants), binding Sigma field names to event field ids per variant, attaching
 * meta-filters, resolving correlation references (with cycle detection), and finally the
 * prefilter (detect_witness.c). Problems that involve several documents are written back
 * into the documents so `vigie rules check` shows them.
 */
#include "detect/detect_int.h"

#include <string.h>

static void doc_warn(struct vg_sigma_set *set, struct vg_sigma_rule *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void doc_warn(struct vg_sigma_set *set, struct vg_sigma_rule *r, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    const char **nw = vg_arena_alloc(set->arena, (r->nwarnings + 1) * sizeof(char *));
    const char *w = vg_arena_strdup(set->arena, buf);
    if (!nw || !w) {
        return;
    }
    for (uint32_t i = 0; i < r->nwarnings; i++) {
        if (!strcmp(r->warnings[i], buf)) {
            return; /* already noted (rulesets may be rebuilt from the same set) */
        }
        nw[i] = r->warnings[i];
    }
    nw[r->nwarnings] = w;
    r->warnings = nw;
    r->nwarnings++;
}

static void doc_error(struct vg_sigma_set *set, struct vg_sigma_rule *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void doc_error(struct vg_sigma_set *set, struct vg_sigma_rule *r, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    r->status = VG_RULE_ERROR;
    r->message = vg_arena_strdup(set->arena, buf);
}

/* ---------------------------------------------------------------- routes */

static bool key_eq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static int add_synthetic_routes(struct vg_ruleset *rs)
{
    const struct vg_mapping *m = rs->map;
    uint32_t extra = m->nkinds + 1;
    rs->routes = vg_arena_calloc(rs->arena, (m->nroutes + extra) * sizeof(*rs->routes));
    if (!rs->routes) {
        return VG_ENOMEM;
    }
    memcpy(rs->routes, m->routes, m->nroutes * sizeof(*rs->routes));
    rs->nroutes = m->nroutes;
    for (uint32_t k = 0; k < m->nkinds; k++) {
        bool have = false;
        for (uint32_t i = 0; i < m->nroutes; i++) {
            const struct route *r = &m->routes[i];
            have |= key_eq(r->product, m->kind_product[k]) && !r->category && !r->service;
        }
        if (!have) {
            struct route *r = &rs->routes[rs->nroutes++];
            r->product = m->kind_product[k];
            r->kind = m->kind_value[k];
            r->synthetic = true;
        }
    }
    struct route *g = &rs->routes[rs->nroutes];
    g->kind = VG_EK_GENERIC;
    g->synthetic = true;
    rs->generic_route = rs->nroutes++;
    return VG_OK;
}

static int collect_route_fields(struct vg_ruleset *rs)
{
    uint32_t total = 0;
    for (uint32_t i = 0; i < rs->nroutes; i++) {
        total += rs->routes[i].ncond;
    }
    rs->route_fields = vg_arena_alloc(rs->arena, (total ? total : 1) * sizeof(uint32_t));
    if (!rs->route_fields) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < rs->nroutes; i++) {
        for (uint32_t c = 0; c < rs->routes[i].ncond; c++) {
            uint32_t f = rs->routes[i].cond[c].field;
            bool seen = false;
            for (uint32_t k = 0; k < rs->nroute_fields; k++) {
                seen |= rs->route_fields[k] == f;
            }
            if (!seen) {
                rs->route_fields[rs->nroute_fields++] = f;
            }
        }
    }
    return VG_OK;
}

/* Number of logsource keys a rule sets. */
static int ls_keys(const char *p, const char *c, const char *s)
{
    return (p != NULL) + (c != NULL) + (s != NULL);
}

/*
 * Routes of a logsource: the most specific mapping entries whose keys all equal the rule's.
 * If they do not cover every key of the rule, fall back to the product-wide route (known
 * product) or the generic route, and say so in *note.
 */
static uint32_t resolve_routes(const struct vg_ruleset *rs, const char *p, const char *c,
                               const char *s, uint32_t *out, char *note, size_t notesz)
{
    int best = -1;
    uint32_t n = 0;
    note[0] = '\0';
    for (uint32_t i = 0; i < rs->nroutes; i++) {
        const struct route *r = &rs->routes[i];
        if (i == rs->generic_route || (r->product && !key_eq(r->product, p)) ||
            (r->category && !key_eq(r->category, c)) || (r->service && !key_eq(r->service, s))) {
            continue;
        }
        int score = ls_keys(r->product, r->category, r->service);
        if (score == 0) {
            continue;
        }
        if (score > best) {
            best = score;
            n = 0;
        }
        if (score == best) {
            out[n++] = i;
        }
    }
    if (best == ls_keys(p, c, s) && n) {
        return n;
    }
    int kind = mapping_product_kind(rs->map, p);
    if (kind >= 0) {
        for (uint32_t i = 0; i < rs->nroutes; i++) {
            const struct route *r = &rs->routes[i];
            if (key_eq(r->product, p) && !r->category && !r->service) {
                snprintf(note, notesz,
                         "logsource (product: %s%s%s%s%s) has no mapping entry: the rule runs "
                         "on every %s event",
                         p, c ? ", category: " : "", c ? c : "", s ? ", service: " : "", s ? s : "",
                         p);
                out[0] = i;
                return 1;
            }
        }
    }
    out[0] = rs->generic_route;
    return 1;
}

/* ---------------------------------------------------------------- binding */

static uint32_t *bind_slots(struct vg_ruleset *rs, const struct vg_sigma_detection *det,
                            const struct route *r)
{
    uint32_t *ids = vg_arena_alloc(rs->arena, (det->nslots ? det->nslots : 1) * sizeof(*ids));
    if (!ids) {
        return NULL;
    }
    for (uint32_t i = 0; i < det->nslots; i++) {
        const char *name = route_map_field(r, det->slot_names[i]);
        ids[i] = vg_field_intern(name, strlen(name));
    }
    return ids;
}

static bool ls_compatible(const struct vg_sigma_rule *filter, const struct vg_sigma_rule *rule)
{
    return (!filter->logsource.product ||
            key_eq(filter->logsource.product, rule->logsource.product)) &&
           (!filter->logsource.category ||
            key_eq(filter->logsource.category, rule->logsource.category)) &&
           (!filter->logsource.service ||
            key_eq(filter->logsource.service, rule->logsource.service));
}

static bool refers_to(const char *ref, const struct vg_sigma_rule *r)
{
    return key_eq(ref, r->id) || key_eq(ref, r->name);
}

/* Is document r referenced by an OK correlation of the set? */
static bool correlated(const struct vg_sigma_set *set, const struct vg_sigma_rule *r)
{
    for (uint32_t i = 0; i < set->n; i++) {
        const struct vg_sigma_rule *c = set->rules[i];
        if (c->kind != VG_SIGMA_CORRELATION || c->status != VG_RULE_OK) {
            continue;
        }
        for (uint32_t k = 0; k < c->corr.nrules; k++) {
            if (refers_to(c->corr.rules[k], r)) {
                return true;
            }
        }
    }
    return false;
}

static int build_rules(struct vg_ruleset *rs)
{
    struct vg_sigma_set *set = rs->set;
    uint32_t *routes = vg_arena_alloc(rs->arena, rs->nroutes * sizeof(uint32_t));
    rs->rules = vg_arena_calloc(rs->arena, (set->n ? set->n : 1) * sizeof(*rs->rules));
    if (!routes || !rs->rules) {
        return VG_ENOMEM;
    }
    size_t vcap = 0;
    struct variant *vars = NULL;
    for (uint32_t i = 0; i < set->n; i++) {
        struct vg_sigma_rule *doc = set->rules[i];
        if (doc->kind != VG_SIGMA_RULE || doc->status != VG_RULE_OK) {
            continue;
        }
        if (rs->opts.min_level && doc->level && doc->level < rs->opts.min_level &&
            !correlated(set, doc)) {
            continue;
        }
        char note[400];
        uint32_t nr = resolve_routes(rs, doc->logsource.product, doc->logsource.category,
                                     doc->logsource.service, routes, note, sizeof(note));
        if (note[0]) {
            doc_warn(set, doc, "%s", note);
        }
        struct rule_rt *rt = &rs->rules[rs->nrules];
        rt->doc = doc;
        rt->standalone = true;
        rt->first_variant = rs->nvariants;
        rt->nvariants = nr;
        if (vg_grow(&vars, &vcap, rs->nvariants + nr, sizeof(*vars)) != VG_OK) {
            vg_free(vars);
            return VG_ENOMEM;
        }
        for (uint32_t k = 0; k < nr; k++) {
            struct variant *v = &vars[rs->nvariants + k];
            memset(v, 0, sizeof(*v));
            v->rule = rs->nrules;
            v->route = routes[k];
            /* A rule routed by fallback (no mapping entry for its logsource) would otherwise
             * run on events of every source; requiring one of its own fields in the event
             * keeps e.g. `not selection` rules of other products from firing on them. */
            v->gated = note[0] != '\0' || routes[k] == rs->generic_route;
            v->slots = bind_slots(rs, &doc->det, &rs->routes[routes[k]]);
            if (!v->slots) {
                vg_free(vars);
                return VG_ENOMEM;
            }
        }
        rs->nvariants += nr;
        rs->nrules++;
    }
    rs->variants = vg_arena_alloc(rs->arena, (rs->nvariants ? rs->nvariants : 1) * sizeof(*vars));
    if (!rs->variants) {
        vg_free(vars);
        return VG_ENOMEM;
    }
    if (rs->nvariants) {
        memcpy(rs->variants, vars, rs->nvariants * sizeof(*vars));
    }
    vg_free(vars);
    return VG_OK;
}

static int attach_filters(struct vg_ruleset *rs)
{
    struct vg_sigma_set *set = rs->set;
    for (uint32_t i = 0; i < set->n; i++) {
        struct vg_sigma_rule *f = set->rules[i];
        if (f->kind != VG_SIGMA_FILTER || f->status != VG_RULE_OK) {
            continue;
        }
        uint32_t hits = 0;
        for (uint32_t k = 0; k < f->filter.nrules; k++) {
            bool found = false;
            for (uint32_t j = 0; j < set->n; j++) {
                found |= set->rules[j]->kind == VG_SIGMA_RULE &&
                         refers_to(f->filter.rules[k], set->rules[j]);
            }
            if (!found) {
                doc_warn(set, f, "filter refers to unknown rule '%s'", f->filter.rules[k]);
            }
        }
        for (uint32_t r = 0; r < rs->nrules; r++) {
            struct rule_rt *rt = &rs->rules[r];
            bool applies = false;
            if (f->filter.nrules == 0) {
                applies = ls_compatible(f, rt->doc);
            }
            for (uint32_t k = 0; k < f->filter.nrules && !applies; k++) {
                applies = refers_to(f->filter.rules[k], rt->doc);
            }
            if (!applies) {
                continue;
            }
            const struct vg_sigma_rule **nf =
                vg_arena_alloc(rs->arena, (rt->nfilters + 1) * sizeof(*nf));
            if (!nf) {
                return VG_ENOMEM;
            }
            if (rt->nfilters) {
                memcpy(nf, rt->filters, rt->nfilters * sizeof(*nf));
            }
            nf[rt->nfilters++] = f;
            rt->filters = nf;
            hits++;
        }
        rs->stats.filters++;
        if (!hits) {
            doc_warn(set, f, "filter applies to no loaded rule");
        }
    }
    /* bind filter slots per variant */
    for (uint32_t v = 0; v < rs->nvariants; v++) {
        struct variant *var = &rs->variants[v];
        const struct rule_rt *rt = &rs->rules[var->rule];
        if (!rt->nfilters) {
            continue;
        }
        const uint32_t **fs = vg_arena_alloc(rs->arena, rt->nfilters * sizeof(*fs));
        if (!fs) {
            return VG_ENOMEM;
        }
        for (uint32_t k = 0; k < rt->nfilters; k++) {
            if (!(fs[k] = bind_slots(rs, &rt->filters[k]->det, &rs->routes[var->route]))) {
                return VG_ENOMEM;
            }
        }
        var->filt_slots = fs;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- correlations */

static int find_ref(const struct vg_ruleset *rs, const struct vg_sigma_rule **corr_docs,
                    uint32_t ncorr, const char *ref, struct corr_ref *out)
{
    for (uint32_t i = 0; i < rs->nrules; i++) {
        if (refers_to(ref, rs->rules[i].doc)) {
            out->is_corr = false;
            out->idx = i;
            return VG_OK;
        }
    }
    for (uint32_t i = 0; i < ncorr; i++) {
        if (refers_to(ref, corr_docs[i])) {
            out->is_corr = true;
            out->idx = i;
            return VG_OK;
        }
    }
    return VG_ENOENT;
}

/* Field name that group-by entry g means for events of the referenced rule. */
static const char *alias_for(const struct vg_sigma_correlation *k, const char *g,
                             const struct vg_sigma_rule *ref)
{
    for (uint32_t a = 0; a < k->naliases; a++) {
        if (strcmp(k->aliases[a].alias, g) != 0) {
            continue;
        }
        for (uint32_t j = 0; j < k->aliases[a].n; j++) {
            if (refers_to(k->aliases[a].rule[j], ref)) {
                return k->aliases[a].field[j];
            }
        }
    }
    return g;
}

static bool has_cycle(const struct vg_ruleset *rs, uint32_t start, uint32_t at, int depth)
{
    if (depth > 64) {
        return true;
    }
    const struct corr_rt *c = &rs->corrs[at];
    for (uint32_t i = 0; i < c->nrefs; i++) {
        if (!c->refs[i].is_corr) {
            continue;
        }
        if (c->refs[i].idx == start || has_cycle(rs, start, c->refs[i].idx, depth + 1)) {
            return true;
        }
    }
    return false;
}

static int add_parent(struct vg_ruleset *rs, uint32_t **list, uint32_t *n, uint32_t parent)
{
    uint32_t *nl = vg_arena_alloc(rs->arena, (*n + 1) * sizeof(uint32_t));
    if (!nl) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < *n; i++) {
        if ((*list)[i] == parent) {
            return VG_OK;
        }
        nl[i] = (*list)[i];
    }
    nl[*n] = parent;
    *list = nl;
    (*n)++;
    return VG_OK;
}

static int resolve_corr(struct vg_ruleset *rs, const struct vg_sigma_rule **docs, uint32_t ndocs,
                        uint32_t i)
{
    struct corr_rt *c = &rs->corrs[i];
    const struct vg_sigma_correlation *k = c->k;
    c->refs = vg_arena_calloc(rs->arena, k->nrules * sizeof(*c->refs));
    if (!c->refs) {
        return VG_ENOMEM;
    }
    for (uint32_t j = 0; j < k->nrules; j++) {
        struct corr_ref *ref = &c->refs[j];
        if (find_ref(rs, docs, ndocs, k->rules[j], ref) != VG_OK) {
            doc_error(rs->set, (struct vg_sigma_rule *)c->doc,
                      "correlation refers to unknown rule '%s'", k->rules[j]);
            return VG_ENOENT;
        }
        ref->name = k->rules[j];
        const struct vg_sigma_rule *rd = ref->is_corr ? docs[ref->idx] : rs->rules[ref->idx].doc;
        ref->group_names = vg_arena_alloc(rs->arena, (k->ngroup + 1) * sizeof(char *));
        ref->value_names = vg_arena_alloc(rs->arena, (k->nfields + 1) * sizeof(char *));
        if (!ref->group_names || !ref->value_names) {
            return VG_ENOMEM;
        }
        for (uint32_t g = 0; g < k->ngroup; g++) {
            ref->group_names[g] = alias_for(k, k->group_by[g], rd);
        }
        for (uint32_t f = 0; f < k->nfields; f++) {
            ref->value_names[f] = alias_for(k, k->fields[f], rd);
        }
    }
    c->nrefs = k->nrules;
    return VG_OK;
}

static int build_correlations(struct vg_ruleset *rs)
{
    struct vg_sigma_set *set = rs->set;
    const struct vg_sigma_rule **docs = vg_arena_alloc(rs->arena, (set->n + 1) * sizeof(*docs));
    if (!docs) {
        return VG_ENOMEM;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < set->n; i++) {
        if (set->rules[i]->kind == VG_SIGMA_CORRELATION && set->rules[i]->status == VG_RULE_OK) {
            docs[n++] = set->rules[i];
        }
    }
    rs->corrs = vg_arena_calloc(rs->arena, (n ? n : 1) * sizeof(*rs->corrs));
    if (!rs->corrs) {
        return VG_ENOMEM;
    }
    rs->ncorrs = n;
    bool *bad = vg_arena_calloc(rs->arena, (n ? n : 1) * sizeof(bool));
    if (!bad) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        rs->corrs[i].doc = docs[i];
        rs->corrs[i].k = &docs[i]->corr;
        rs->corrs[i].standalone = true;
    }
    for (uint32_t i = 0; i < n; i++) {
        int rc = resolve_corr(rs, docs, n, i);
        if (rc == VG_ENOMEM) {
            return rc;
        }
        bad[i] = rc != VG_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (!bad[i] && has_cycle(rs, i, i, 0)) {
            doc_error(set, (struct vg_sigma_rule *)docs[i], "correlation references form a cycle");
            bad[i] = true;
        }
    }
    /* links: rules/correlations → the correlations that use them; generate flag */
    for (uint32_t i = 0; i < n; i++) {
        struct corr_rt *c = &rs->corrs[i];
        if (bad[i]) {
            c->nrefs = 0;
            continue;
        }
        for (uint32_t j = 0; j < c->nrefs; j++) {
            const struct corr_ref *ref = &c->refs[j];
            int rc;
            if (ref->is_corr) {
                struct corr_rt *child = &rs->corrs[ref->idx];
                child->standalone = child->standalone && c->k->generate;
                rc = add_parent(rs, &child->parents, &child->nparents, i);
            } else {
                struct rule_rt *rt = &rs->rules[ref->idx];
                rc = add_parent(rs, &rt->corrs, &rt->ncorrs, i);
            }
            if (rc != VG_OK) {
                return rc;
            }
        }
    }
    /* a rule is standalone unless every correlation using it says generate: false */
    for (uint32_t r = 0; r < rs->nrules; r++) {
        struct rule_rt *rt = &rs->rules[r];
        if (!rt->ncorrs) {
            continue;
        }
        bool gen = false;
        for (uint32_t k = 0; k < rt->ncorrs; k++) {
            gen |= rs->corrs[rt->corrs[k]].k->generate;
        }
        rt->standalone = gen;
    }
    rs->stats.correlations = n;
    return VG_OK;
}

/* ---------------------------------------------------------------- entry points */

int vg_ruleset_build(struct vg_sigma_set *set, const struct vg_mapping *map,
                     const struct vg_ruleset_opts *opts, struct vg_ruleset **out, char *err,
                     size_t errsz)
{
    uint64_t t0 = vg_clock_ns();
    struct vg_ruleset *rs = vg_calloc(1, sizeof(*rs));
    if (!rs || !(rs->arena = vg_arena_create(1u << 20))) {
        vg_free(rs);
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    atomic_init(&rs->refs, 1);
    rs->set = set;
    rs->map = mapping_ref(map);
    if (opts) {
        rs->opts = *opts;
    }
    int rc;
    if ((rc = add_synthetic_routes(rs)) != VG_OK || (rc = collect_route_fields(rs)) != VG_OK ||
        (rs->nroutes >= 0xFFFF && (rc = VG_ELIMIT) != VG_OK) || (rc = build_rules(rs)) != VG_OK ||
        (rc = attach_filters(rs)) != VG_OK || (rc = build_correlations(rs)) != VG_OK) {
        snprintf(err, errsz, "building the ruleset: %s", vg_strerror(rc));
        vg_ruleset_unref(rs);
        return rc;
    }
    if ((rc = build_prefilter(rs, err, errsz)) != VG_OK) {
        vg_ruleset_unref(rs);
        return rc;
    }
    rs->stats.rules = rs->nrules;
    rs->stats.variants = rs->nvariants;
    rs->stats.routes = rs->nroutes;
    rs->stats.build_ms = (double)(vg_clock_ns() - t0) / 1e6;
    *out = rs;
    return VG_OK;
}

struct vg_ruleset *vg_ruleset_ref(struct vg_ruleset *rs)
{
    atomic_fetch_add(&rs->refs, 1);
    return rs;
}

void vg_ruleset_unref(struct vg_ruleset *rs)
{
    if (!rs || atomic_fetch_sub(&rs->refs, 1) != 1) {
        return;
    }
    for (uint32_t i = 0; i < rs->nfdb; i++) {
        hs_free_database(rs->fdbs[i].db);
    }
    vg_mapping_destroy(rs->map);
    vg_arena_destroy(rs->arena);
    if (rs->owns_set) {
        vg_sigma_set_destroy(rs->set);
    }
    vg_free(rs);
}

void vg_ruleset_take_set(struct vg_ruleset *rs)
{
    rs->owns_set = true;
}

const struct vg_sigma_set *vg_ruleset_set(const struct vg_ruleset *rs)
{
    return rs->set;
}

const struct vg_ruleset_stats *vg_ruleset_stats(const struct vg_ruleset *rs)
{
    return &rs->stats;
}

uint32_t vg_ruleset_nrules(const struct vg_ruleset *rs)
{
    return rs->nrules;
}

const struct vg_sigma_rule *vg_ruleset_rule(const struct vg_ruleset *rs, uint32_t idx)
{
    return idx < rs->nrules ? rs->rules[idx].doc : NULL;
}

bool vg_ruleset_rule_standalone(const struct vg_ruleset *rs, uint32_t idx)
{
    return idx < rs->nrules && rs->rules[idx].standalone;
}

bool vg_ruleset_has_correlations(const struct vg_ruleset *rs)
{
    return rs->ncorrs > 0;
}

bool vg_ruleset_rule_correlated(const struct vg_ruleset *rs, uint32_t idx)
{
    return idx < rs->nrules && rs->rules[idx].ncorrs > 0;
}

uint32_t vg_ruleset_field_id(const struct vg_ruleset *rs, uint32_t variant, const char *name)
{
    if (variant >= rs->nvariants) {
        return VG_FIELD_NONE;
    }
    const char *f = route_map_field(&rs->routes[rs->variants[variant].route], name);
    return vg_field_lookup(f, strlen(f));
}

/* ---------------------------------------------------------------- engine (generations) */

struct vg_detect_engine {
    _Atomic(struct vg_ruleset *) cur;
    atomic_int readers; /* guards the instant between loading cur and taking a reference */
};

struct vg_detect_engine *vg_detect_engine_create(struct vg_ruleset *initial)
{
    struct vg_detect_engine *e = vg_calloc(1, sizeof(*e));
    if (e) {
        atomic_init(&e->cur, initial);
        atomic_init(&e->readers, 0);
    }
    return e;
}

void vg_detect_engine_destroy(struct vg_detect_engine *e)
{
    if (!e) {
        return;
    }
    vg_ruleset_unref(atomic_load(&e->cur));
    vg_free(e);
}

struct vg_ruleset *vg_detect_engine_acquire(struct vg_detect_engine *e)
{
    atomic_fetch_add(&e->readers, 1);
    struct vg_ruleset *rs = vg_ruleset_ref(atomic_load(&e->cur));
    atomic_fetch_sub(&e->readers, 1);
    return rs;
}

void vg_detect_engine_swap(struct vg_detect_engine *e, struct vg_ruleset *next)
{
    struct vg_ruleset *old = atomic_exchange(&e->cur, next);
    /* a reader may have loaded old but not yet counted its reference: wait it out */
    while (atomic_load(&e->readers) != 0) {
    }
    vg_ruleset_unref(old);
}
