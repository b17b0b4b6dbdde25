/*
 * intel_pattern.h — STIX 2.0/2.1 patterning language (OASIS STIX 2.1 §9): a parser of untrusted
 * pattern text into an AST held in one arena, a canonical printer, and the extraction of SIMPLE
 * indicators (one observation of equality tests joined by OR) into (type, value) pairs for the
 * typed indicator sets. Everything else is reported as "compound" with a reason; the
 * correlation compiler consumes those ASTs later.
 *
 * Grammar (precedence lowest first): observations FOLLOWEDBY > OR > AND, each observation is
 * '[' comparison ']' or '(' observations ')' followed by qualifiers (WITHIN n SECONDS,
 * REPEATS n TIMES, START t'..' STOP t'..'); comparisons OR > AND > test, a test being
 * path [NOT] op literal, EXISTS path or '(' comparison ')'.
 */
#ifndef VG_INTEL_PATTERN_H
#define VG_INTEL_PATTERN_H

#include "core/core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vg_intel_pattern_kind {
    VG_INTEL_PATTERN_OBS_FOLLOWEDBY, /* kids[0..nkids): observation expressions, in order */
    VG_INTEL_PATTERN_OBS_OR,
    VG_INTEL_PATTERN_OBS_AND,
    VG_INTEL_PATTERN_OBS_WITHIN,    /* kids[0] + within (seconds) */
    VG_INTEL_PATTERN_OBS_REPEATS,   /* kids[0] + repeats */
    VG_INTEL_PATTERN_OBS_STARTSTOP, /* kids[0] + start, stop */
    VG_INTEL_PATTERN_OBSERVATION,   /* '[' kids[0] ']' : kids[0] is a comparison expression */
    VG_INTEL_PATTERN_CMP_OR,        /* kids[0..nkids): comparison expressions (n-ary) */
    VG_INTEL_PATTERN_CMP_AND,
    VG_INTEL_PATTERN_CMP_TEST, /* path [NOT] op value */
};

enum vg_intel_pattern_op {
    VG_INTEL_PATTERN_EQ,
    VG_INTEL_PATTERN_NE,
    VG_INTEL_PATTERN_GT,
    VG_INTEL_PATTERN_LT,
    VG_INTEL_PATTERN_GE,
    VG_INTEL_PATTERN_LE,
    VG_INTEL_PATTERN_IN,
    VG_INTEL_PATTERN_LIKE,
    VG_INTEL_PATTERN_MATCHES,
    VG_INTEL_PATTERN_ISSUBSET,
    VG_INTEL_PATTERN_ISSUPERSET,
    VG_INTEL_PATTERN_EXISTS, /* no value */
};

enum vg_intel_pattern_lit {
    VG_INTEL_PATTERN_LIT_STRING, /* s/len: decoded (escapes resolved) */
    VG_INTEL_PATTERN_LIT_INT,    /* i */
    VG_INTEL_PATTERN_LIT_FLOAT,  /* d */
    VG_INTEL_PATTERN_LIT_BOOL,   /* b */
    VG_INTEL_PATTERN_LIT_TIME,   /* t (ns since epoch) and s/len: the text between quotes */
    VG_INTEL_PATTERN_LIT_HEX,    /* s/len: decoded bytes */
    VG_INTEL_PATTERN_LIT_BINARY, /* s/len: decoded bytes (base64) */
    VG_INTEL_PATTERN_LIT_SET,    /* items/nitems */
};

struct vg_intel_pattern_value {
    enum vg_intel_pattern_lit kind;
    const char *raw; /* the literal as written (whole token, quotes and prefix included) */
    size_t rawlen;
    const char *s; /* arena; NUL-terminated */
    size_t len;
    int64_t i;
    double d;
    bool b;
    vg_time_t t;
    struct vg_intel_pattern_value *items;
    size_t nitems;
};

enum vg_intel_pattern_step_kind {
    VG_INTEL_PATTERN_STEP_KEY,   /* .name or .'quoted name' */
    VG_INTEL_PATTERN_STEP_INDEX, /* [n] */
    VG_INTEL_PATTERN_STEP_ANY,   /* [*] */
};

struct vg_intel_pattern_step {
    enum vg_intel_pattern_step_kind kind;
    const char *key; /* STEP_KEY: arena, NUL-terminated */
    bool quoted;     /* STEP_KEY written as a string literal */
    int64_t index;   /* STEP_INDEX */
};

struct vg_intel_pattern_path {
    const char *type; /* object type, e.g. "file" */
    struct vg_intel_pattern_step *steps;
    size_t nsteps; /* >= 1: the first step is always a KEY */
};

struct vg_intel_pattern_node {
    enum vg_intel_pattern_kind kind;
    unsigned column;                     /* 1-based byte column where the node starts */
    struct vg_intel_pattern_node **kids; /* AND/OR/FOLLOWEDBY chains are n-ary (>= 2 kids) */
    size_t nkids;
    /* CMP_TEST */
    enum vg_intel_pattern_op op;
    bool negated;
    struct vg_intel_pattern_path path;
    struct vg_intel_pattern_value value;
    /* qualifiers */
    double within;        /* seconds, > 0 */
    const char *within_s; /* the number as written (also for REPEATS) */
    int64_t repeats;      /* > 0 */
    vg_time_t start, stop;
    const char *start_s, *stop_s; /* the timestamps as written */
};

struct vg_intel_pattern {
    struct vg_arena *arena;
    struct vg_intel_pattern_node *root;
    size_t nnodes;
};

struct vg_intel_pattern_limits {
    size_t max_len;     /* bytes of pattern text; default 262144 */
    unsigned max_depth; /* nesting of brackets/parentheses; default 64 */
};

#define VG_INTEL_PATTERN_MAX_LEN   262144u
#define VG_INTEL_PATTERN_MAX_DEPTH 64u

/*
 * Parse pattern text (len bytes, need not be NUL-terminated). lim may be NULL for defaults.
 * On success *out owns an arena with the AST (free with vg_intel_pattern_destroy).
 * Returns 0; VG_EINVAL for a syntax error, VG_ELIMIT past a bound, VG_ENOMEM. On error err
 * (errsz bytes, may be NULL/0) holds e.g. "column 17: expected ']' after comparison, found
 * 'AND'" and *out is NULL. Thread-safe (no shared state).
 */
int vg_intel_pattern_parse(const char *text, size_t len, const struct vg_intel_pattern_limits *lim,
                           struct vg_intel_pattern **out, char *err, size_t errsz);

/* Free a parsed pattern; NULL is a no-op. */
void vg_intel_pattern_destroy(struct vg_intel_pattern *p);

/*
 * Append the canonical text of p to sb (single spaces, parentheses around every nested
 * binary expression, strings re-escaped). The output re-parses to the same AST. Returns 0 or
 * VG_ENOMEM (sb->err).
 */
int vg_intel_pattern_format(const struct vg_intel_pattern *p, struct vg_sbuf *sb);

/* Simple indicator types. */
enum vg_intel_ioc_type {
    VG_INTEL_IOC_IPV4, /* address or CIDR */
    VG_INTEL_IOC_IPV6, /* address or CIDR */
    VG_INTEL_IOC_DOMAIN,
    VG_INTEL_IOC_URL,
    VG_INTEL_IOC_EMAIL,
    VG_INTEL_IOC_MD5,
    VG_INTEL_IOC_SHA1,
    VG_INTEL_IOC_SHA256,
    VG_INTEL_IOC_SHA512,
    VG_INTEL_IOC_JA3,
    VG_INTEL_IOC_X509_SHA1,
    VG_INTEL_IOC_X509_SHA256,
    VG_INTEL_IOC_MAC,
    VG_INTEL_IOC_FILENAME,
    VG_INTEL_IOC_REGKEY,
    VG_INTEL_IOC_COUNT_,
};

/* "ipv4", "ipv6", "domain", "url", "email", "md5", ... ; "?" out of range. */
const char *vg_intel_ioc_type_name(enum vg_intel_ioc_type t);

struct vg_intel_ioc {
    enum vg_intel_ioc_type type;
    const char *value; /* borrowed from the pattern's arena; NUL-terminated */
    size_t len;
};

/*
 * Extract simple indicators from p. If p is one observation without qualifiers whose
 * comparison is equality tests (not negated, string values, known object paths) joined by
 * OR, stores up to cap pairs in iocs[], the total in *n and returns 0 (VG_ELIMIT when more
 * than cap; *n is then the number needed). Otherwise returns VG_DECLINED ("compound") with
 * *reason set to a static string, e.g. "observations joined by FOLLOWEDBY" or "comparison
 * operator MATCHES". Values stay valid until vg_intel_pattern_destroy(p). Thread-safe for a
 * given p (read-only).
 */
int vg_intel_pattern_simple(const struct vg_intel_pattern *p, struct vg_intel_ioc *iocs, size_t cap,
                            size_t *n, const char **reason);

#endif
