/*
 * query_compile.c — from the parsed tree to what the store can use, once per query:
 * AND/OR chains are flattened; top-level @timestamp bounds become the scan's time range
 * (whole day partitions and blocks are skipped); and the tree becomes a block prefilter
 * for the full-text index — field terms of indexed fields (exact, or the literal prefix of
 * a pattern), the words of free text, CIDR networks as dotted prefixes. NOT, ranges and
 * leading wildcards select every block; the per-event check does the rest.
 *
 * Also the canonical dump of a query (tests and logs).
 */
#include "query/query_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- flattening */

static int flatten_into(struct vg_arena *a, struct qnode *n, enum qn_op op, struct qnode ***v,
                        size_t *cnt, size_t *cap)
{
    if (n->op == op) {
        for (size_t i = 0; i < n->nkids; i++) {
            int rc = flatten_into(a, n->kids[i], op, v, cnt, cap);
            if (rc != VG_OK) {
                return rc;
            }
        }
        return VG_OK;
    }
    if (*cnt == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct qnode **nv = vg_arena_alloc(a, ncap * sizeof(*nv));
        if (!nv) {
            return VG_ENOMEM;
        }
        if (*cnt) {
            memcpy(nv, *v, *cnt * sizeof(*nv));
        }
        *v = nv;
        *cap = ncap;
    }
    (*v)[(*cnt)++] = n;
    return VG_OK;
}

static int flatten(struct vg_arena *a, struct qnode *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        int rc = flatten(a, n->kids[i]);
        if (rc != VG_OK) {
            return rc;
        }
    }
    if (n->op != QN_AND && n->op != QN_OR) {
        return VG_OK;
    }
    struct qnode **v = NULL;
    size_t cnt = 0, cap = 0;
    for (size_t i = 0; i < n->nkids; i++) {
        int rc = flatten_into(a, n->kids[i], n->op, &v, &cnt, &cap);
        if (rc != VG_OK) {
            return rc;
        }
    }
    n->kids = v;
    n->nkids = cnt;
    return VG_OK;
}

/* ---------------------------------------------------------------- time bounds */

static void time_narrow(struct vg_query *q, const struct qnode *n)
{
    if (n->op != QN_FIELD || !n->is_ts || n->cmp != QC_RANGE) {
        return;
    }
    /* exclusive lower and inclusive upper bounds move by 1 ns (saturating) */
    if (n->lo.set) {
        vg_time_t from = n->lo.t;
        if (!n->lo.incl && from < INT64_MAX) {
            from++;
        }
        q->from = q->from == VG_TIME_NONE ? from : VG_MAX(q->from, from);
    }
    if (n->hi.set) {
        vg_time_t to = n->hi.t;
        if (n->hi.incl && to < INT64_MAX) {
            to++;
        }
        q->to = q->to == VG_TIME_NONE ? to : VG_MIN(q->to, to);
    }
}

static void time_bounds(struct vg_query *q)
{
    q->from = q->to = VG_TIME_NONE;
    if (q->root->op == QN_AND) {
        for (size_t i = 0; i < q->root->nkids; i++) {
            time_narrow(q, q->root->kids[i]);
        }
    } else {
        time_narrow(q, q->root);
    }
}

/* ---------------------------------------------------------------- store prefilter */

static struct vg_store_filter *filt_new(struct vg_arena *a, enum vg_store_filter_op op)
{
    struct vg_store_filter *f = vg_arena_calloc(a, sizeof(*f));
    if (f) {
        f->op = op;
    }
    return f;
}

/* The literal text before the first wildcard of a pattern (escapes removed). */
static size_t glob_prefix(struct vg_arena *a, const char *pat, size_t pn, char **out)
{
    char *buf = vg_arena_alloc(a, pn + 1);
    size_t n = 0;
    if (!buf) {
        return 0;
    }
    for (size_t i = 0; i < pn && pat[i] != '*' && pat[i] != '?'; i++) {
        if (pat[i] == '\\' && i + 1 < pn) {
            i++;
        }
        buf[n++] = pat[i];
    }
    buf[n] = '\0';
    *out = buf;
    return n;
}

/* A CIDR network of IPv4 as the dotted prefix every member's text starts with. */
static struct vg_store_filter *filt_cidr(struct vg_arena *a, const struct qnode *n)
{
    int octets = n->prefix / 8;
    if (n->family != AF_INET || octets == 0) {
        return filt_new(a, VG_STORE_F_ALL);
    }
    struct vg_store_filter *f = filt_new(a, VG_STORE_F_FIELD);
    char *t = vg_arena_printf(a, "%u.%u.%u.%u", n->net[0], n->net[1], n->net[2], n->net[3]);
    if (!f || !t) {
        return NULL;
    }
    if (octets < 4) {
        /* "10.1." : keep octets and their dots */
        char *p = t;
        for (int k = 0; k < octets; k++) {
            p = strchr(p, '.') + 1;
        }
        *p = '\0';
        f->prefix = true;
    }
    f->field = n->field;
    f->text = t;
    f->len = strlen(t);
    return f;
}

static struct vg_store_filter *filt_field(struct vg_arena *a, const struct qnode *n)
{
    struct vg_store_filter *f;
    char *pre;
    size_t pl;
    if (n->is_ts || n->is_tenant) {
        return filt_new(a, VG_STORE_F_ALL);
    }
    switch (n->cmp) {
    case QC_EQ:
        if (!(f = filt_new(a, VG_STORE_F_FIELD))) {
            return NULL;
        }
        f->field = n->field;
        f->text = n->val;
        f->len = n->vlen;
        return f;
    case QC_GLOB:
        pl = glob_prefix(a, n->val, n->vlen, &pre);
        if (pl == 0) {
            return filt_new(a, VG_STORE_F_ALL);
        }
        if (!(f = filt_new(a, VG_STORE_F_FIELD))) {
            return NULL;
        }
        f->field = n->field;
        f->text = pre;
        f->len = pl;
        f->prefix = true;
        return f;
    case QC_CIDR:
        return filt_cidr(a, n);
    default:
        return filt_new(a, VG_STORE_F_ALL);
    }
}

/* Free text with wildcards: each literal run between wildcards must be in the text. */
static struct vg_store_filter *filt_text_glob(struct vg_arena *a, const struct qnode *n)
{
    struct vg_store_filter *and = filt_new(a, VG_STORE_F_AND);
    if (!and || !(and->kids = vg_arena_alloc(a, (n->tlen / 2 + 1) * sizeof(*and->kids)))) {
        return NULL;
    }
    size_t i = 0;
    bool open_start = false;
    while (i < n->tlen) {
        char *seg = vg_arena_alloc(a, n->tlen + 1);
        size_t sl = 0;
        if (!seg) {
            return NULL;
        }
        while (i < n->tlen && n->text[i] != '*' && n->text[i] != '?') {
            i += n->text[i] == '\\' && i + 1 < n->tlen;
            seg[sl++] = n->text[i++];
        }
        bool open_end = i < n->tlen;
        if (sl) {
            struct vg_store_filter *t = filt_new(a, VG_STORE_F_TEXT);
            if (!t) {
                return NULL;
            }
            t->text = seg;
            t->len = sl;
            t->open_start = open_start;
            t->open_end = open_end;
            and->kids[ and->nkids++] = t;
        }
        open_start = true;
        i++; /* the wildcard */
    }
    return and;
}

static struct vg_store_filter *filt_build(struct vg_arena *a, const struct qnode *n)
{
    struct vg_store_filter *f;
    switch (n->op) {
    case QN_AND:
    case QN_OR:
        f = filt_new(a, n->op == QN_AND ? VG_STORE_F_AND : VG_STORE_F_OR);
        if (!f || !(f->kids = vg_arena_alloc(a, n->nkids * sizeof(*f->kids)))) {
            return NULL;
        }
        for (size_t i = 0; i < n->nkids; i++) {
            if (!(f->kids[i] = filt_build(a, n->kids[i]))) {
                return NULL;
            }
        }
        f->nkids = n->nkids;
        return f;
    case QN_FIELD:
        return filt_field(a, n);
    case QN_TEXT:
        if (n->glob) {
            return filt_text_glob(a, n);
        }
        if ((f = filt_new(a, VG_STORE_F_TEXT))) {
            f->text = n->text;
            f->len = n->tlen;
        }
        return f;
    default:
        return filt_new(a, VG_STORE_F_ALL); /* NOT, everything */
    }
}

int vg_query_compile(struct vg_query *q)
{
    if (flatten(q->arena, q->root) != VG_OK) {
        return VG_ENOMEM;
    }
    time_bounds(q);
    q->filter = filt_build(q->arena, q->root);
    return q->filter ? VG_OK : VG_ENOMEM;
}

/* ---------------------------------------------------------------- dump */

static void dump_str(struct vg_sbuf *out, const char *s, size_t n)
{
    vg_sbuf_add_json_str(out, s, n);
}

static void dump_bound(struct vg_sbuf *out, const struct qbound *b)
{
    if (!b->set) {
        vg_sbuf_addc(out, '*');
    } else if (b->is_time) {
        char buf[40];
        vg_time_format(b->t, buf, sizeof(buf));
        vg_sbuf_adds(out, buf);
    } else if (b->is_num) {
        vg_sbuf_printf(out, "%.17g", b->num);
    } else {
        dump_str(out, b->s, b->n);
    }
}

static void dump_field(const struct qnode *n, struct vg_sbuf *out)
{
    char buf[64];
    vg_sbuf_adds(out, n->field);
    vg_sbuf_addc(out, ':');
    switch (n->cmp) {
    case QC_EQ:
        dump_str(out, n->val, n->vlen);
        break;
    case QC_GLOB:
        vg_sbuf_adds(out, "glob");
        dump_str(out, n->val, n->vlen);
        break;
    case QC_EXISTS:
        vg_sbuf_addc(out, '*');
        break;
    case QC_RANGE:
        vg_sbuf_addc(out, n->lo.set && n->lo.incl ? '[' : '{');
        dump_bound(out, &n->lo);
        vg_sbuf_adds(out, " TO ");
        dump_bound(out, &n->hi);
        vg_sbuf_addc(out, n->hi.set && n->hi.incl ? ']' : '}');
        break;
    case QC_CIDR:
        inet_ntop(n->family, n->net, buf, sizeof(buf));
        vg_sbuf_printf(out, "cidr(%s/%d)", buf, n->prefix);
        break;
    }
}

static void dump_node(const struct qnode *n, struct vg_sbuf *out)
{
    switch (n->op) {
    case QN_ALL:
        vg_sbuf_addc(out, '*');
        break;
    case QN_AND:
    case QN_OR:
        vg_sbuf_addc(out, '(');
        for (size_t i = 0; i < n->nkids; i++) {
            if (i) {
                vg_sbuf_adds(out, n->op == QN_AND ? " AND " : " OR ");
            }
            dump_node(n->kids[i], out);
        }
        vg_sbuf_addc(out, ')');
        break;
    case QN_NOT:
        vg_sbuf_adds(out, "NOT ");
        dump_node(n->kids[0], out);
        break;
    case QN_FIELD:
        dump_field(n, out);
        break;
    case QN_TEXT:
        vg_sbuf_adds(out, n->glob ? "textglob" : "text");
        dump_str(out, n->text, n->tlen);
        break;
    }
}

static void dump_fields(const struct qfield *f, size_t n, struct vg_sbuf *out)
{
    for (size_t i = 0; i < n; i++) {
        vg_sbuf_printf(out, "%s%s%s", i ? "," : "", f[i].desc ? "-" : "", f[i].name);
    }
}

static void dump_pipe(const struct qpipe *p, struct vg_sbuf *out)
{
    static const char *const names[] = {"stats", "top", "timechart", "sort", "head"};
    vg_sbuf_printf(out, " | %s", names[p->kind]);
    for (size_t i = 0; i < p->naggs; i++) {
        vg_sbuf_printf(out, "%s %s", i ? "," : "", p->aggs[i].name);
    }
    if (p->kind == QP_TIMECHART) {
        vg_sbuf_printf(out, " span=%llds", (long long)(p->span / 1000000000));
    }
    if (p->nby) {
        vg_sbuf_adds(out, p->kind == QP_STATS || p->kind == QP_TIMECHART ? " by " : " ");
        dump_fields(p->by, p->nby, out);
    }
    if (p->kind == QP_TOP || p->kind == QP_HEAD) {
        vg_sbuf_printf(out, " %zu", p->n);
    }
}

void vg_query_dump(const struct vg_query *q, struct vg_sbuf *out)
{
    dump_node(q->root, out);
    for (size_t i = 0; i < q->npipes; i++) {
        dump_pipe(&q->pipes[i], out);
    }
}
