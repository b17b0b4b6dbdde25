/*
 * detect.h — evaluating compiled Sigma rules against events, fast.
 *
 * A ruleset generation (struct vg_ruleset) binds a set of compiled Sigma documents to a
 * logsource mapping: each rule becomes one variant per mapping entry it is routed to, with
 * its Sigma field names resolved to event field ids for that entry. The generation also
 * holds the per-event machinery that keeps the cost of an event independent of the number
 * of rules:
 *   - routing: the event's logsource entries are computed once per distinct (kind, Channel,
 *     EventID, ...) tuple and memoised;
 *   - prefilter: every rule contributes "witness" literals (a set of (field, literal) of
 *     which at least one must occur for the rule to match); one vectorscan database per
 *     field scans the event's values once and yields the few candidate rules;
 *   - only candidates (plus the rare rules without a witness) are evaluated in full.
 * Generations are immutable and reference counted; vg_detect_engine swaps them atomically
 * so a reload never pauses matching.
 *
 * Correlation rules (all seven types) run in struct vg_correlator, fed with the matches of
 * the rules they reference.
 */
#ifndef VG_DETECT_H
#define VG_DETECT_H

#include "event/event.h"
#include "sigma/sigma.h"

/* ---------------------------------------------------------------- logsource mapping */

struct vg_mapping;
/* Parse a mapping file (format: data/sigma/mapping.yml, docs/sigma.md). */
int vg_mapping_load(const char *text, size_t len, const char *path, struct vg_mapping **out,
                    char *err, size_t errsz);
int vg_mapping_load_file(const char *path, struct vg_mapping **out, char *err, size_t errsz);
/* The mapping built into the binary. */
int vg_mapping_default(struct vg_mapping **out, char *err, size_t errsz);
void vg_mapping_destroy(struct vg_mapping *m);
/* The embedded default mapping text. */
const char *vg_mapping_default_text(size_t *len);

/* ---------------------------------------------------------------- ruleset generations */

struct vg_ruleset_opts {
    int min_level;     /* skip rules below this level (enum vg_sigma_level); 0 = all */
    bool no_prefilter; /* evaluate every routed rule (for testing the prefilter) */
};

struct vg_ruleset_stats {
    uint32_t rules;    /* detection rules taking part */
    uint32_t variants; /* rule × routed mapping entry */
    uint32_t correlations;
    uint32_t filters;
    uint32_t routes;
    uint32_t unwitnessed; /* variants evaluated on every routed event */
    uint32_t literals;    /* prefilter patterns */
    uint32_t databases;   /* prefilter databases (one per field) */
    double build_ms;
};

struct vg_ruleset;

/*
 * Build a generation from the OK documents of set. Cross-document problems (correlation or
 * filter referencing an unknown rule, reference cycles) and mapping notes are written back
 * into the set's documents (status / message / warnings), so `rules check` reports them.
 * The set must outlive the ruleset. Returns VG_OK or an error with err filled.
 */
int vg_ruleset_build(struct vg_sigma_set *set, const struct vg_mapping *map,
                     const struct vg_ruleset_opts *opts, struct vg_ruleset **out, char *err,
                     size_t errsz);
/*
 * The ruleset takes ownership of the set it was built from: the set is destroyed with the
 * last reference (a server reloading rules keeps each generation's documents alive exactly
 * as long as a worker uses them).
 */
void vg_ruleset_take_set(struct vg_ruleset *rs);
/* The set the generation was built from (borrowed, as long as rs). */
const struct vg_sigma_set *vg_ruleset_set(const struct vg_ruleset *rs);
struct vg_ruleset *vg_ruleset_ref(struct vg_ruleset *rs);
void vg_ruleset_unref(struct vg_ruleset *rs);
const struct vg_ruleset_stats *vg_ruleset_stats(const struct vg_ruleset *rs);
/* Number of detection rules (indexes 0..n-1 used in matches). */
uint32_t vg_ruleset_nrules(const struct vg_ruleset *rs);
const struct vg_sigma_rule *vg_ruleset_rule(const struct vg_ruleset *rs, uint32_t idx);
/* Does a match of this rule produce an alert on its own (not only feed correlations)? */
bool vg_ruleset_rule_standalone(const struct vg_ruleset *rs, uint32_t idx);
bool vg_ruleset_has_correlations(const struct vg_ruleset *rs);
/* Is the rule referenced by a correlation (its matches must be fed to the correlator)? */
bool vg_ruleset_rule_correlated(const struct vg_ruleset *rs, uint32_t idx);
/* Event field id that a Sigma field name denotes for events of a variant (VG_FIELD_NONE if
 * the name was never seen). */
uint32_t vg_ruleset_field_id(const struct vg_ruleset *rs, uint32_t variant, const char *name);

/* ---------------------------------------------------------------- evaluation */

/* Per-thread scratch space for evaluation (not shareable between threads). */
struct vg_detect_ctx;
struct vg_detect_ctx *vg_detect_ctx_create(const struct vg_ruleset *rs);
void vg_detect_ctx_destroy(struct vg_detect_ctx *ctx);

struct vg_detect_counters {
    uint64_t events;
    uint64_t routed;     /* events that matched at least one mapping entry */
    uint64_t candidates; /* rule variants evaluated in full */
    uint64_t scans;      /* field values scanned by the prefilter */
    uint64_t cached;     /* field values whose scan result came from the scan cache */
    uint64_t matches;
};
const struct vg_detect_counters *vg_detect_ctx_counters(const struct vg_detect_ctx *ctx);

/*
 * Per-rule profile: when sampling is on, one routed event in 2^shift has the full
 * evaluation of each of its candidate rules timed (ns, evals), and every match is counted
 * (matches, not sampled). The server scales ns and evals by 2^shift for its metrics.
 */
struct vg_detect_rule_prof {
    uint64_t ns;      /* sampled evaluation time */
    uint64_t evals;   /* sampled evaluations */
    uint64_t matches; /* all matches */
};
int vg_detect_ctx_sample(struct vg_detect_ctx *ctx, unsigned shift);
/* Per rule index of the ctx's ruleset (vg_ruleset_nrules entries); NULL when not sampling.
 * The caller may read and reset the entries between vg_detect_event calls. */
struct vg_detect_rule_prof *vg_detect_ctx_profile(struct vg_detect_ctx *ctx);

struct vg_detect_match {
    uint32_t rule;                   /* index in the ruleset */
    uint32_t variant;                /* which mapping entry matched */
    const struct vg_sigma_rule *doc; /* the rule document */
};

/* Called for each rule that matches the event (each rule at most once per event). */
typedef int (*vg_detect_cb)(void *ud, const struct vg_detect_match *m, struct vg_event *ev);

/*
 * Evaluate every rule of rs on ev (thread-safe for distinct ctx). The event's values may get
 * their folded forms computed (that is why ev is not const). Returns VG_OK or the first
 * non-zero value returned by cb.
 */
int vg_detect_event(const struct vg_ruleset *rs, struct vg_detect_ctx *ctx, struct vg_event *ev,
                    vg_detect_cb cb, void *ud);

/* ---------------------------------------------------------------- reloadable engine */

struct vg_detect_engine;
struct vg_detect_engine *vg_detect_engine_create(struct vg_ruleset *initial);
void vg_detect_engine_destroy(struct vg_detect_engine *e);
/* Take a reference to the current generation (release with vg_ruleset_unref). */
struct vg_ruleset *vg_detect_engine_acquire(struct vg_detect_engine *e);
/* Publish a new generation (takes the caller's reference); the old one is released when its
 * last user lets go. */
void vg_detect_engine_swap(struct vg_detect_engine *e, struct vg_ruleset *next);

/* ---------------------------------------------------------------- correlation */

struct vg_correlator;

struct vg_corr_alert {
    uint32_t corr;                   /* correlation index in the ruleset */
    const struct vg_sigma_rule *doc; /* the correlation document */
    vg_time_t ts;                    /* time of the event that completed it */
    vg_time_t first_ts;              /* earliest event in the window */
    uint32_t ngroup;
    const char *const *group_names;  /* group-by names */
    const char *const *group_values; /* their values */
    double value;                    /* count / distinct count / sum / avg / percentile */
    uint32_t nevents;                /* events in the window */
    bool standalone;                 /* emit (false: only feeds other correlations) */
};
typedef int (*vg_corr_cb)(void *ud, const struct vg_corr_alert *a);

struct vg_correlator_limits {
    uint32_t max_groups; /* per correlation; default 1,000,000 */
    uint32_t max_window; /* events kept per group window; default 100,000 */
};

struct vg_correlator *vg_correlator_create(const struct vg_ruleset *rs,
                                           const struct vg_correlator_limits *lim);
void vg_correlator_destroy(struct vg_correlator *c);
/*
 * Feed one rule match (events should arrive in time order; late events are placed by their
 * timestamp within the window). Fires cb for each correlation completed.
 */
int vg_correlator_feed(struct vg_correlator *c, const struct vg_detect_match *m,
                       struct vg_event *ev, vg_corr_cb cb, void *ud);
/* End of input: evaluate windows whose condition has an upper bound (lt/lte/eq/neq). */
int vg_correlator_flush(struct vg_correlator *c, vg_corr_cb cb, void *ud);
/* Groups currently tracked and groups dropped because of limits. */
void vg_correlator_counts(const struct vg_correlator *c, uint64_t *groups, uint64_t *dropped);

#endif /* VG_DETECT_H */
