/*
 * sigma.h — Sigma rules (specification v2.1): YAML documents → compiled rule objects.
 *
 * The sigma module parses detection rules, correlation rules and meta-filters, applies every
 * value modifier of the specification at compile time (wildcards and escapes, contains /
 * startswith / endswith, windash, base64 / base64offset, utf16*, expand with user
 * placeholders, re with i/m/s, cidr, numeric and time-part comparisons, exists, cased, neq,
 * fieldref, all) and parses conditions into a tree. Field names stay names here: binding
 * them to event field ids through a logsource mapping is the detect module's job, so one
 * compiled rule serves every event rendering it is routed to.
 *
 * Everything a set owns lives in the set's arena; rules are immutable once compiled and may
 * be shared read-only between threads.
 */
#ifndef VG_SIGMA_H
#define VG_SIGMA_H

#include "core/core.h"

struct pcre2_real_code_8;

/* ---------------------------------------------------------------- values */

enum vg_sigma_op {
    VG_SOP_EQ = 0,     /* whole value equals pattern */
    VG_SOP_CONTAINS,   /* *pattern* */
    VG_SOP_STARTSWITH, /* pattern* */
    VG_SOP_ENDSWITH,   /* *pattern */
    VG_SOP_GLOB,       /* general wildcard pattern (parts) */
    VG_SOP_RE,         /* PCRE2 regular expression */
    VG_SOP_CIDR,       /* IP in network */
    VG_SOP_LT,         /* numeric comparisons */
    VG_SOP_LTE,
    VG_SOP_GT,
    VG_SOP_GTE,
    VG_SOP_NUMEQ,    /* numeric equality (time parts) */
    VG_SOP_EXISTS,   /* field present (b=true) / absent (b=false) */
    VG_SOP_NULL,     /* field absent, null or empty */
    VG_SOP_FIELDREF, /* compare with another field of the same event (sub-op in ref_op) */
};

/* Time-part modifiers (0 = none). */
enum vg_sigma_timepart {
    VG_STP_NONE = 0,
    VG_STP_MINUTE,
    VG_STP_HOUR,
    VG_STP_DAY,
    VG_STP_WEEK,
    VG_STP_MONTH,
    VG_STP_YEAR,
};

/* A glob pattern after escape processing: literal runs separated by wildcards. */
enum vg_sigma_part_kind {
    VG_SPART_LIT = 0,
    VG_SPART_STAR,
    VG_SPART_ONE, /* '?': exactly one character (one UTF-8 code point) */
};
struct vg_sigma_part {
    uint8_t kind;
    uint32_t n;
    const char *s;
};

/* One compiled value of a detection item: the thing a field occurrence is tested against. */
struct vg_sigma_value {
    uint8_t op;       /* enum vg_sigma_op */
    uint8_t cased;    /* case-sensitive comparison (pattern not folded) */
    uint8_t timepart; /* enum vg_sigma_timepart applied to the field before comparing */
    uint8_t ref_op;   /* FIELDREF: EQ / CONTAINS / STARTSWITH / ENDSWITH */
    uint8_t b;        /* EXISTS: expected presence */
    uint8_t num_is_int;
    uint8_t cidr_family; /* 4 or 6 */
    uint8_t cidr_prefix;
    uint32_t n;      /* pattern length */
    const char *s;   /* pattern bytes (folded unless cased) */
    uint32_t nparts; /* GLOB */
    const struct vg_sigma_part *parts;
    struct pcre2_real_code_8 *re;
    uint8_t cidr_addr[16];
    int64_t inum;
    double num;
    uint32_t ref_slot; /* FIELDREF: binding slot of the referenced field */
    uint32_t idx;      /* index of the value within its detection (0 .. nvalues-1) */
};

/* `field|modifiers: values` — one map entry of a selection. */
struct vg_sigma_item {
    const char *field; /* Sigma field name; NULL for keyword (field-less) searches */
    uint32_t slot;     /* binding slot of field (unused for keywords) */
    uint8_t all;       /* values are AND-ed (|all) instead of OR-ed */
    uint8_t neq;       /* |neq: field present and matches none of the values */
    uint8_t has_re;    /* any value is a regex */
    uint32_t line;
    uint32_t nvals;
    struct vg_sigma_value *vals;
};

/* A map of items (AND). */
struct vg_sigma_map {
    uint32_t nitems;
    struct vg_sigma_item *items;
};

/* A search identifier: OR of maps (a plain map is a one-map list). */
struct vg_sigma_selection {
    const char *name;
    uint32_t nmaps;
    struct vg_sigma_map *maps;
    uint32_t line;
};

/* ---------------------------------------------------------------- conditions */

enum vg_sigma_cond_op {
    VG_SC_SEL = 0, /* selection index in sel */
    VG_SC_AND,
    VG_SC_OR,
    VG_SC_NOT,
    VG_SC_TRUE,
    VG_SC_FALSE,
};
struct vg_sigma_cond {
    uint8_t op;
    uint32_t sel; /* VG_SC_SEL */
    uint32_t n;   /* AND/OR: children; NOT: 1 */
    struct vg_sigma_cond **kids;
};

/*
 * Parse a condition expression against a list of selection names. On error returns
 * VG_EINVAL with a message naming the column.
 */
int vg_sigma_cond_parse(struct vg_arena *a, const char *text, size_t len, const char *const *names,
                        uint32_t nnames, struct vg_sigma_cond **out, char *err, size_t errsz);

/* A compiled detection (rule body or filter body). */
struct vg_sigma_detection {
    uint32_t nsels;
    struct vg_sigma_selection *sels;
    struct vg_sigma_cond *cond; /* conditions of a list are OR-ed into one tree */
    uint32_t nslots;            /* field binding slots used by items and fieldrefs */
    uint32_t nvalues;           /* values in all items (vg_sigma_value.idx) */
    const char **slot_names;    /* Sigma field name of each slot */
};

/* ---------------------------------------------------------------- documents */

enum vg_sigma_kind {
    VG_SIGMA_RULE = 0,
    VG_SIGMA_CORRELATION,
    VG_SIGMA_FILTER,
};

enum vg_sigma_level {
    VG_LEVEL_NONE = 0,
    VG_LEVEL_INFORMATIONAL,
    VG_LEVEL_LOW,
    VG_LEVEL_MEDIUM,
    VG_LEVEL_HIGH,
    VG_LEVEL_CRITICAL,
};
const char *vg_sigma_level_name(int level);
int vg_sigma_level_parse(const char *s, int *out);

enum vg_sigma_status {
    VG_RULE_OK = 0,
    VG_RULE_ERROR,
    VG_RULE_NEEDS_PLACEHOLDER,
    VG_RULE_UNSUPPORTED,
};
const char *vg_sigma_status_name(int status);

enum vg_corr_type {
    VG_CORR_EVENT_COUNT = 0,
    VG_CORR_VALUE_COUNT,
    VG_CORR_TEMPORAL,
    VG_CORR_TEMPORAL_ORDERED,
    VG_CORR_VALUE_SUM,
    VG_CORR_VALUE_AVG,
    VG_CORR_VALUE_PERCENTILE,
};
const char *vg_corr_type_name(int type);

/* Correlation condition: up to two comparisons AND-ed (e.g. gt 100, lte 200). */
enum vg_cmp {
    VG_CMP_NONE = 0,
    VG_CMP_GT,
    VG_CMP_GTE,
    VG_CMP_LT,
    VG_CMP_LTE,
    VG_CMP_EQ,
    VG_CMP_NEQ,
};
struct vg_corr_cond {
    uint8_t ncmp;
    uint8_t op[2];
    double val[2];
};
bool vg_corr_cond_eval(const struct vg_corr_cond *c, double x);

struct vg_corr_alias {
    const char *alias;
    uint32_t n;
    const char **rule;  /* rule name/id */
    const char **field; /* field in that rule's events */
};

struct vg_sigma_correlation {
    uint8_t type; /* enum vg_corr_type */
    uint8_t generate;
    uint32_t nrules;
    const char **rules; /* referenced rule ids or names, in order */
    uint32_t ngroup;
    const char **group_by;
    int64_t timespan_ns;
    struct vg_corr_cond cond;
    bool has_cond;
    uint32_t nfields; /* condition.field: one or more (value_count tuples) */
    const char **fields;
    uint32_t naliases;
    struct vg_corr_alias *aliases;
};

struct vg_sigma_filter {
    uint32_t nrules;
    const char **rules; /* ids/names the filter applies to (0 = every rule of its logsource) */
};

struct vg_sigma_related {
    const char *id;
    const char *type;
};

/* One Sigma document (rule, correlation or filter) with its metadata and status. */
struct vg_sigma_rule {
    uint8_t kind;   /* enum vg_sigma_kind */
    uint8_t status; /* enum vg_sigma_status: compile outcome */
    uint8_t level;  /* enum vg_sigma_level */
    const char *path;
    uint32_t doc;  /* document index within the file */
    uint32_t line; /* line of the document start */
    const char *title;
    const char *id;
    const char *name;
    const char *rule_status; /* stable/test/experimental/deprecated/unsupported */
    const char *description;
    const char *author;
    const char *date;
    const char *modified;
    const char *license;
    const char *taxonomy;
    uint32_t ntags;
    const char **tags;
    uint32_t nrefs;
    const char **references;
    uint32_t nfp;
    const char **falsepositives;
    uint32_t nfields;
    const char **fields;
    uint32_t nrelated;
    struct vg_sigma_related *related;
    struct {
        const char *product;
        const char *category;
        const char *service;
        const char *definition;
    } logsource;
    struct vg_sigma_detection det;    /* RULE and FILTER */
    struct vg_sigma_correlation corr; /* CORRELATION */
    struct vg_sigma_filter filter;    /* FILTER */
    const char *message;              /* error / unsupported / needs-placeholder reason */
    uint32_t err_line;                /* line of the problem, 0 if unknown */
    uint32_t nwarnings;
    const char **warnings;
    uint32_t nplaceholders; /* placeholders this rule needs (expand) */
    const char **placeholders;
};

/* ---------------------------------------------------------------- placeholders */

/* User values for %name% placeholders (expand). */
struct vg_sigma_placeholders;
/* Load a YAML map name → value or list of values; errors name the file and line. */
int vg_sigma_placeholders_load(const char *path, struct vg_sigma_placeholders **out, char *err,
                               size_t errsz);
void vg_sigma_placeholders_destroy(struct vg_sigma_placeholders *p);

/* ---------------------------------------------------------------- sets */

/*
 * A set of compiled Sigma documents loaded from files/directories. Documents that fail to
 * compile stay in the set with status != OK and a message (so `rules check` can list them);
 * only OK documents take part in detection.
 */
struct vg_sigma_set {
    struct vg_arena *arena;
    uint32_t n;
    uint32_t cap;
    struct vg_sigma_rule **rules;
    const struct vg_sigma_placeholders *ph; /* borrowed, unless owns_ph */
    bool owns_ph;                           /* destroy ph with the set */
    void **regexes;                         /* every compiled PCRE2 code, freed at destroy */
    size_t nregexes, capregexes;
    uint64_t files;
    uint64_t file_errors;
};

struct vg_sigma_set *vg_sigma_set_create(const struct vg_sigma_placeholders *ph);
void vg_sigma_set_destroy(struct vg_sigma_set *s);
/*
 * Load one file or a directory tree (*.yml, *.yaml). Every document becomes a rule entry,
 * even when it fails (status ERROR with message). Returns VG_OK, or VG_EIO/VG_ENOENT when the
 * path cannot be read at all (err says why).
 */
int vg_sigma_set_load(struct vg_sigma_set *s, const char *path, char *err, size_t errsz);
/* Compile YAML text (one file's content) into the set. */
int vg_sigma_set_add_text(struct vg_sigma_set *s, const char *text, size_t len, const char *path);

/* Look up a document by id or name (first match), or NULL. */
const struct vg_sigma_rule *vg_sigma_set_find(const struct vg_sigma_set *s, const char *ref);

/* ATT&CK helpers over a rule's tags. */
bool vg_sigma_tag_is_tactic(const char *tag, const char **tactic_name);
bool vg_sigma_tag_is_technique(const char *tag);

#endif /* VG_SIGMA_H */
