/*
 * query_int.h — internals of the search language: the syntax tree, the pipes, and the
 * pieces shared by the parser (query_parse.c), the matcher (query_match.c), the
 * aggregations (query_agg.c) and the runner (query_run.c).
 */
#ifndef VG_QUERY_INT_H
#define VG_QUERY_INT_H

#include "query/query.h"

#define VG_QUERY_COMP      "query"
#define VG_QUERY_MAX_DEPTH 64      /* nesting of parentheses / NOT */
#define VG_QUERY_MAX_NODES 4096    /* terms in one query */
#define VG_QUERY_MAX_SORT  1000000 /* events a sort may hold in memory */

enum qn_op {
    QN_ALL = 0, /* matches everything (empty query) */
    QN_AND,
    QN_OR,
    QN_NOT,
    QN_FIELD,
    QN_TEXT,
};

enum qn_cmp {
    QC_EQ,     /* folded value equals */
    QC_GLOB,   /* folded value matches a pattern (\ escapes, * and ?) */
    QC_EXISTS, /* field:* */
    QC_RANGE,  /* lo/hi bounds */
    QC_CIDR,   /* address within a network */
};

/* One end of a range: compared as a number, a time or a (folded) string. */
struct qbound {
    bool set;
    bool incl;
    bool is_num;
    bool is_time;
    double num;
    vg_time_t t;
    const char *s; /* folded */
    size_t n;
};

struct qnode {
    enum qn_op op;
    uint32_t col; /* 1-based column of the term */
    struct qnode **kids;
    size_t nkids;
    /* FIELD */
    const char *field;
    uint32_t fid;
    bool is_ts;     /* @timestamp: the event time */
    bool is_tenant; /* tenant: the block's tenant */
    enum qn_cmp cmp;
    const char *val; /* EQ: folded literal; GLOB: folded pattern with escapes */
    size_t vlen;
    struct qbound lo, hi;
    uint8_t net[16]; /* CIDR */
    int family;      /* AF_INET / AF_INET6 */
    int prefix;
    /* TEXT: folded; glob when it has wildcards (pattern with escapes) */
    const char *text;
    size_t tlen;
    bool glob;
};

enum qp_kind {
    QP_STATS,
    QP_TOP,
    QP_TIMECHART,
    QP_SORT,
    QP_HEAD,
};

enum qagg_fn {
    AG_COUNT,
    AG_DC,
    AG_SUM,
    AG_AVG,
    AG_MIN,
    AG_MAX,
};

struct qagg {
    enum qagg_fn fn;
    const char *field; /* NULL: count of events */
    uint32_t fid;
    const char *name; /* column name */
};

struct qfield {
    const char *name;
    uint32_t fid;
    bool desc; /* sort */
};

struct qpipe {
    enum qp_kind kind;
    uint32_t col;
    struct qagg *aggs;
    size_t naggs;
    struct qfield *by; /* stats by / top field / timechart by / sort keys */
    size_t nby;
    size_t n;     /* top N, head N */
    int64_t span; /* timechart bucket, ns */
};

struct vg_query {
    struct vg_arena *arena;
    struct qnode *root;
    struct qpipe *pipes;
    size_t npipes;
    vg_time_t from, to;             /* time bounds implied by top-level @timestamp terms */
    struct vg_store_filter *filter; /* block prefilter for the store */
};

/* Field values the special names stand for. */
#define QF_TIMESTAMP "@timestamp"
#define QF_TENANT    "tenant"

/* ---------------------------------------------------------------- matching */

/* Per-run scratch for matching (folded event text, built once per event). */
struct qmatch {
    struct vg_event *ev;
    const char *tenant;
    struct vg_sbuf text;
    struct vg_sbuf fold;
    bool have_text;
};
void vg_query_match_init(struct qmatch *m);
void vg_query_match_fini(struct qmatch *m);
bool vg_query_node_match(const struct qnode *n, struct qmatch *m);

/* Glob with \ escapes over bytes; stop_ws: wildcards never match whitespace. */
bool vg_query_glob(const char *pat, size_t pn, const char *s, size_t sn, bool stop_ws);

/* Build the store prefilter and time bounds from the tree (at parse time). */
int vg_query_compile(struct vg_query *q);

/* Comparable text of a value for sorting/grouping: the string rendering. */
int vg_query_value_cmp(const char *a, size_t an, const char *b, size_t bn);

/* ---------------------------------------------------------------- aggregation */

struct qagg_state;
/* Aggregation of pipe p (STATS, TOP, TIMECHART) over events fed one by one. */
int vg_query_agg_create(const struct qpipe *p, vg_time_t from, vg_time_t to,
                        struct qagg_state **out);
void vg_query_agg_destroy(struct qagg_state *a);
int vg_query_agg_add(struct qagg_state *a, struct vg_event *ev, const char *tenant);

/* A table of text rows produced by an aggregation, then sorted/truncated by later pipes. */
struct qtable {
    size_t ncols;
    char **cols;
    bool *numeric; /* per column */
    size_t nrows;
    char ***rows; /* rows[i][c] */
    size_t cap;
    struct vg_arena *arena;
};
int vg_query_agg_table(struct qagg_state *a, struct qtable **out);
void vg_query_table_destroy(struct qtable *t);
void vg_query_table_sort(struct qtable *t, const struct qfield *keys, size_t nkeys);

#endif /* VG_QUERY_INT_H */
