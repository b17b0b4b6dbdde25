/*
 * detect_int.h — internals of the detect module (not for other modules).
 */
#ifndef VG_DETECT_INT_H
#define VG_DETECT_INT_H

#include "detect/detect.h"

#include <hs/hs.h>
#include <stdatomic.h>

/* ---------------------------------------------------------------- mapping */

struct route_cond {
    uint32_t field; /* event field id */
    bool any;       /* '*': present with any value */
    uint32_t nvals;
    const char **vals; /* folded */
    uint32_t *lens;
};

struct route {
    const char *product, *category, *service; /* logsource keys (NULL = not constrained) */
    int kind;                                 /* required event kind, -1 = any */
    uint32_t ncond;
    struct route_cond *cond;
    uint32_t nfmap;
    const char **fmap_from; /* Sigma field */
    const char **fmap_to;   /* event field */
    uint32_t line;
    bool synthetic; /* added by the builder (product-wide / generic) */
};

struct vg_mapping {
    atomic_int refs;
    struct vg_arena *arena;
    uint32_t nroutes;
    struct route *routes;
    uint32_t nkinds;
    const char **kind_product;
    int *kind_value;
};

struct vg_mapping *mapping_ref(const struct vg_mapping *m);
/* Kind of a product name, or -1 if the mapping does not define it. */
int mapping_product_kind(const struct vg_mapping *m, const char *product);
/* Event field a Sigma field becomes under a route. */
const char *route_map_field(const struct route *r, const char *sigma_field);

/* ---------------------------------------------------------------- ruleset */

#define VG_SLOT_ANY UINT32_MAX /* keyword items: every field */

/* A variant's witness is up to VG_MAX_CLAUSES AND-ed clauses; database entries encode
 * (variant << VG_CLAUSE_BITS) | clause. */
#define VG_MAX_CLAUSES 8
#define VG_CLAUSE_BITS 3

/* Keyword witnesses get one database per route (pseudo field ids above every real one). */
#define VG_KW_FIELD(route) (0xF0000000u | (uint32_t)(route))
#define VG_IS_KW_FIELD(f)  (((f)&0xF0000000u) == 0xF0000000u)

struct rule_rt {
    const struct vg_sigma_rule *doc;
    uint32_t first_variant;
    uint32_t nvariants;
    bool standalone;
    uint32_t ncorrs;
    uint32_t *corrs; /* correlations that reference this rule */
    uint32_t nfilters;
    const struct vg_sigma_rule **filters;
};

struct variant {
    uint32_t rule;
    uint32_t route;
    const uint32_t *slots;       /* field id per detection slot */
    const uint32_t **filt_slots; /* per filter of the rule: field ids per filter slot */
    uint32_t *vpid;              /* per value of the rule: its prefilter pattern, or NONE */
    bool witnessed;
    uint8_t full_mask; /* all witness clauses hit: (1 << nclauses) - 1 */
    bool gated;        /* routed by fallback: needs one of the rule's fields in the event */
};

/* Prefilter database over one field (or every field for keyword searches). */
struct fdb {
    uint32_t field; /* event field id, or VG_KW_FIELD(route) for a route's keyword database */
    bool kw;        /* keyword database: scanned over all of the event's values at once */
    hs_database_t *db;
    uint32_t npat;
    uint32_t *pat_start; /* CSR: entries of pattern p are pat_var[pat_start[p]..p+1] */
    uint32_t *pat_var;   /* (variant << VG_CLAUSE_BITS) | clause */
    uint16_t *pat_route; /* route of each entry's variant (checked without touching it) */
    uint32_t pid_base;   /* global id of pattern 0 (patterns are numbered ruleset-wide) */
};

struct corr_ref {
    bool is_corr;
    uint32_t idx;
    const char *name;         /* how the correlation named it (id or name) */
    const char **group_names; /* per group-by entry: field name in that rule's events */
    const char **value_names; /* per condition.field entry */
};

struct corr_rt {
    const struct vg_sigma_rule *doc;
    const struct vg_sigma_correlation *k;
    uint32_t nrefs;
    struct corr_ref *refs;
    bool standalone;
    uint32_t nparents;
    uint32_t *parents; /* correlations that reference this one */
};

struct vg_ruleset {
    atomic_int refs;
    struct vg_arena *arena;
    struct vg_sigma_set *set;
    bool owns_set; /* vg_ruleset_take_set: destroyed with the last reference */
    struct vg_mapping *map;
    struct vg_ruleset_opts opts;
    struct vg_ruleset_stats stats;

    uint32_t nroutes;
    struct route *routes; /* mapping routes + synthetic product-wide and generic */
    uint32_t generic_route;
    uint32_t nroute_fields;
    uint32_t *route_fields; /* distinct fields used by route conditions */

    uint32_t nrules;
    struct rule_rt *rules;
    uint32_t nvariants;
    struct variant *variants;
    uint8_t *full_mask; /* per variant, compact copy for the scan callback */

    /* per route: variants without a witness (CSR) and the fields whose databases matter */
    uint32_t *route_unw_start;
    uint32_t *route_unw;
    uint32_t *route_fdb_start;
    uint32_t *route_fdb; /* fdb indexes relevant to the route */

    uint32_t nfdb;
    struct fdb *fdbs;
    uint32_t npatterns; /* over all databases */

    uint32_t ncorrs;
    struct corr_rt *corrs;
};

/* detect_eval.c: full evaluation of one variant on one event */
#define VG_PID_NONE UINT32_MAX

/*
 * Evaluation context. When vpid is set, a value whose prefilter pattern did not occur in
 * this event (pat_hit[pid] != epoch) is known false without comparing strings: the pattern
 * is a necessary substring of every match.
 */
struct eval_scratch;
struct eval_hits {
    const uint32_t *vpid;
    const uint32_t *pat_hit;
    uint32_t epoch;
};
struct eval_scratch *eval_scratch_create(void);
void eval_scratch_set_hits(struct eval_scratch *s, const struct eval_hits *h);
void eval_scratch_destroy(struct eval_scratch *s);
bool eval_variant(const struct vg_ruleset *rs, const struct variant *v, struct vg_event *ev,
                  struct eval_scratch *s);

/* detect_witness.c: prefilter witnesses */
int build_prefilter(struct vg_ruleset *rs, char *err, size_t errsz);

/* detect_build.c helpers shared with the correlator */
bool route_matches_event(const struct route *r, const struct vg_event *ev);

#endif
