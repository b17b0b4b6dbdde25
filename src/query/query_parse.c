/*
 * query_parse.c — the search language's parser: a recursive descent over the query text
 * (untrusted: it comes from the API) into the tree of query_int.h, with the pipes.
 *
 *   query    := [or] ('|' pipe)*
 *   or       := and ('OR' and)*
 *   and      := unary (['AND'] unary)*            implicit AND between terms
 *   unary    := 'NOT' unary | '-' primary | primary
 *   primary  := '(' or ')' | '"phrase"' | field value | word
 *   field    := name (':' | '=') | name ('<' | '<=' | '>' | '>=')
 *   value    := '"..."' | '[' b 'TO' b ']' (or '{' '}') | cmp bound | '(' or ')' | bare
 *
 * Every error names the column (1-based, in characters) where the parser stopped making
 * sense of the text; depth and term counts are bounded so hostile input cannot exhaust
 * the stack or memory.
 */
#include "query/query_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct parser {
    const char *s;
    size_t n;
    size_t i;
    struct vg_arena *a;
    vg_time_t now;
    char *err;
    size_t errsz;
    bool failed;
    int depth;
    size_t nodes;
    const char *dfield; /* inside field:( ... ): bare values belong to this field */
    size_t dfield_len;
};

/* ---------------------------------------------------------------- errors */

/* Column (in UTF-8 characters, 1-based) of byte offset off. */
static size_t column_of(const struct parser *p, size_t off)
{
    size_t col = 1;
    for (size_t i = 0; i < off && i < p->n; i++) {
        col += ((unsigned char)p->s[i] & 0xc0) != 0x80;
    }
    return col;
}

static int perr(struct parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(struct parser *p, size_t off, const char *fmt, ...)
{
    if (!p->failed && p->err && p->errsz) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(p->err, p->errsz, "column %zu: %s", column_of(p, off), msg);
    }
    p->failed = true;
    return VG_EINVAL;
}

static int nomem(struct parser *p)
{
    if (!p->failed && p->err && p->errsz) {
        snprintf(p->err, p->errsz, "out of memory");
    }
    p->failed = true;
    return VG_ENOMEM;
}

/* ---------------------------------------------------------------- characters */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_field_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '@' || c == '-';
}

/* Ends a bare word or value. */
static bool is_stop(char c)
{
    return is_ws(c) || c == '(' || c == ')' || c == '|' || c == '"';
}

static void skip_ws(struct parser *p)
{
    while (p->i < p->n && is_ws(p->s[p->i])) {
        p->i++;
    }
}

static bool at_end(const struct parser *p)
{
    return p->i >= p->n;
}

static char cur(const struct parser *p)
{
    return p->i < p->n ? p->s[p->i] : '\0';
}

/* Is the keyword kw (exact case) at the cursor, followed by a word end? */
static bool at_keyword(const struct parser *p, const char *kw)
{
    size_t l = strlen(kw);
    return p->n - p->i >= l && memcmp(p->s + p->i, kw, l) == 0 &&
           (p->i + l == p->n || is_stop(p->s[p->i + l]));
}

/* A short printable rendering of the text at off, for messages. */
static const char *near(const struct parser *p, size_t off, char *buf, size_t size)
{
    size_t l = 0;
    while (off + l < p->n && l + 1 < size && l < 20 && !is_ws(p->s[off + l])) {
        l++;
    }
    if (l == 0) {
        return off >= p->n ? "end of query" : "' '";
    }
    memcpy(buf, p->s + off, l);
    buf[l] = '\0';
    return buf;
}

/* ---------------------------------------------------------------- nodes */

static struct qnode *node_new(struct parser *p, enum qn_op op, size_t off)
{
    if (++p->nodes > VG_QUERY_MAX_NODES) {
        perr(p, off, "query too long (more than %d terms)", VG_QUERY_MAX_NODES);
        return NULL;
    }
    struct qnode *n = vg_arena_calloc(p->a, sizeof(*n));
    if (!n) {
        nomem(p);
        return NULL;
    }
    n->op = op;
    n->col = (uint32_t)column_of(p, off);
    return n;
}

static struct qnode *node_pair(struct parser *p, enum qn_op op, struct qnode *a, struct qnode *b,
                               size_t off)
{
    struct qnode *n = node_new(p, op, off);
    struct qnode **kids = n ? vg_arena_alloc(p->a, 2 * sizeof(*kids)) : NULL;
    if (!kids) {
        if (n) {
            nomem(p);
        }
        return NULL;
    }
    kids[0] = a;
    kids[1] = b;
    n->kids = kids;
    n->nkids = 2;
    return n;
}

static struct qnode *node_not(struct parser *p, struct qnode *a, size_t off)
{
    struct qnode *n = node_new(p, QN_NOT, off);
    struct qnode **kids = n ? vg_arena_alloc(p->a, sizeof(*kids)) : NULL;
    if (!kids) {
        if (n) {
            nomem(p);
        }
        return NULL;
    }
    kids[0] = a;
    n->kids = kids;
    n->nkids = 1;
    return n;
}

/* ---------------------------------------------------------------- literals */

/* A value being read: the pattern form keeps \ before literal wildcards. */
struct lit {
    char *pat; /* folded; escapes kept for * ? \ */
    size_t plen;
    char *txt; /* folded, unescaped */
    size_t tlen;
    bool wild; /* has an unescaped * or ? */
    size_t off;
};

static int lit_alloc(struct parser *p, struct lit *l, size_t max)
{
    l->pat = vg_arena_alloc(p->a, 2 * max + 1);
    l->txt = vg_arena_alloc(p->a, max + 1);
    l->plen = l->tlen = 0;
    l->wild = false;
    return l->pat && l->txt ? VG_OK : nomem(p);
}

static void lit_put(struct lit *l, char c, bool escaped)
{
    if (escaped && (c == '*' || c == '?' || c == '\\')) {
        l->pat[l->plen++] = '\\';
    } else if (!escaped && (c == '*' || c == '?')) {
        l->wild = true;
    }
    l->pat[l->plen++] = c;
    l->txt[l->tlen++] = c;
}

static void lit_fold(struct lit *l)
{
    vg_fold(l->pat, l->pat, l->plen);
    vg_fold(l->txt, l->txt, l->tlen);
    l->pat[l->plen] = '\0';
    l->txt[l->tlen] = '\0';
}

/* "..." with \" and \\ escapes; wildcards inside quotes are literal. */
static int read_quoted(struct parser *p, struct lit *l)
{
    size_t start = p->i++;
    l->off = start;
    if (lit_alloc(p, l, p->n - p->i) != VG_OK) {
        return VG_ENOMEM;
    }
    while (p->i < p->n && p->s[p->i] != '"') {
        char c = p->s[p->i++];
        if (c == '\\' && p->i < p->n) {
            c = p->s[p->i++];
        }
        lit_put(l, c, true);
    }
    if (p->i >= p->n) {
        return perr(p, start, "unterminated quote");
    }
    p->i++;
    lit_fold(l);
    return VG_OK;
}

/* A bare value up to a stop character (and ] } inside ranges). */
static int read_bare(struct parser *p, struct lit *l, bool in_range)
{
    l->off = p->i;
    if (lit_alloc(p, l, p->n - p->i) != VG_OK) {
        return VG_ENOMEM;
    }
    while (p->i < p->n) {
        char c = p->s[p->i];
        if (is_stop(c) || (in_range && (c == ']' || c == '}'))) {
            break;
        }
        p->i++;
        bool esc = c == '\\' && p->i < p->n;
        if (esc) {
            c = p->s[p->i++];
        }
        lit_put(l, c, esc);
    }
    lit_fold(l);
    return VG_OK;
}

static int read_value(struct parser *p, struct lit *l, bool in_range, const char *after)
{
    if (at_end(p) || is_ws(cur(p)) || cur(p) == ')' || cur(p) == '|' ||
        (in_range && (cur(p) == ']' || cur(p) == '}'))) {
        return perr(p, p->i, "expected a value after '%s'", after);
    }
    return cur(p) == '"' ? read_quoted(p, l) : read_bare(p, l, in_range);
}

/* ---------------------------------------------------------------- times */

int vg_query_time_parse(const char *p, size_t n, vg_time_t now, vg_time_t *out)
{
    if (now == VG_TIME_NONE) {
        now = vg_time_now();
    }
    if (n >= 3 && memcmp(p, "now", 3) == 0) {
        p += 3;
        n -= 3;
        if (n == 0) {
            *out = now;
            return VG_OK;
        }
    }
    if (n >= 2 && (p[0] == '-' || p[0] == '+')) {
        int64_t d;
        if (vg_duration_parse(p + 1, n - 1, &d) != VG_OK) {
            return VG_EINVAL;
        }
        bool over =
            p[0] == '-' ? __builtin_sub_overflow(now, d, out) : __builtin_add_overflow(now, d, out);
        return over ? VG_ELIMIT : VG_OK;
    }
    return vg_store_time_parse(p, n, out);
}

/* ---------------------------------------------------------------- field terms */

static bool field_is(const char *f, const char *name)
{
    return strcmp(f, name) == 0;
}

/* Type a range bound: number, time, or text. "*" leaves it open. */
static int bound_make(struct parser *p, const struct qnode *n, const struct lit *l, bool incl,
                      struct qbound *b)
{
    memset(b, 0, sizeof(*b));
    if (l->tlen == 1 && l->txt[0] == '*' && l->wild) {
        return VG_OK;
    }
    b->set = true;
    b->incl = incl;
    b->s = l->txt;
    b->n = l->tlen;
    if (n->is_ts) {
        if (vg_query_time_parse(l->txt, l->tlen, p->now, &b->t) != VG_OK) {
            return perr(p, l->off, "'%s' is not a time (RFC 3339, YYYY-MM-DD, now, -1h)", l->txt);
        }
        b->is_time = true;
        return VG_OK;
    }
    b->is_num = vg_parse_double(l->txt, l->tlen, &b->num) == VG_OK;
    b->is_time = !b->is_num && vg_store_time_parse(l->txt, l->tlen, &b->t) == VG_OK;
    return VG_OK;
}

/* field:[a TO b] or field:{a TO b} (mixed brackets allowed). */
static int parse_range(struct parser *p, struct qnode *n)
{
    struct lit lo, hi;
    size_t open = p->i;
    bool lo_incl = p->s[p->i++] == '[';
    skip_ws(p);
    if (read_value(p, &lo, true, lo_incl ? "[" : "{") != VG_OK) {
        return VG_EINVAL;
    }
    skip_ws(p);
    if (!(p->n - p->i >= 2 && memcmp(p->s + p->i, "TO", 2) == 0 &&
          (p->i + 2 == p->n || is_ws(p->s[p->i + 2])))) {
        return perr(p, p->i, "expected TO in the range opened at column %zu", column_of(p, open));
    }
    p->i += 2;
    skip_ws(p);
    if (read_value(p, &hi, true, "TO") != VG_OK) {
        return VG_EINVAL;
    }
    skip_ws(p);
    if (cur(p) != ']' && cur(p) != '}') {
        return perr(p, p->i, "expected ']' or '}' to close the range opened at column %zu",
                    column_of(p, open));
    }
    bool hi_incl = p->s[p->i++] == ']';
    n->cmp = QC_RANGE;
    if (bound_make(p, n, &lo, lo_incl, &n->lo) != VG_OK ||
        bound_make(p, n, &hi, hi_incl, &n->hi) != VG_OK) {
        return VG_EINVAL;
    }
    return VG_OK;
}

/* field:>=v, field>v, ... */
static int parse_compare(struct parser *p, struct qnode *n)
{
    bool gt = cur(p) == '>';
    p->i++;
    bool eq = cur(p) == '=';
    p->i += eq;
    char opname[3] = {gt ? '>' : '<', eq ? '=' : '\0', '\0'};
    struct lit v;
    if (read_value(p, &v, false, opname) != VG_OK) {
        return VG_EINVAL;
    }
    n->cmp = QC_RANGE;
    return bound_make(p, n, &v, eq, gt ? &n->lo : &n->hi);
}

/* a.b.c.d/nn or v6/nn: a CIDR network. */
static bool cidr_parse(const struct lit *l, struct qnode *n)
{
    char buf[64];
    const char *slash = memchr(l->txt, '/', l->tlen);
    int64_t bits;
    if (!slash || (size_t)(slash - l->txt) >= sizeof(buf) || l->wild) {
        return false;
    }
    size_t al = (size_t)(slash - l->txt);
    if (memchr(l->txt, '\0', al)) {
        return false;
    }
    memcpy(buf, l->txt, al);
    buf[al] = '\0';
    if (vg_parse_i64(slash + 1, l->tlen - al - 1, &bits) != VG_OK) {
        return false;
    }
    n->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(n->family, buf, n->net) != 1 || bits < 0 ||
        bits > (n->family == AF_INET ? 32 : 128)) {
        return false;
    }
    n->prefix = (int)bits;
    n->cmp = QC_CIDR;
    return true;
}

/* @timestamp:2024-05-01 is that day; a full time is that instant. */
static int ts_equal(struct parser *p, struct qnode *n, const struct lit *l)
{
    vg_time_t t;
    if (vg_query_time_parse(l->txt, l->tlen, p->now, &t) != VG_OK) {
        return perr(p, l->off, "'%s' is not a time (RFC 3339, YYYY-MM-DD, now, -1h)", l->txt);
    }
    n->cmp = QC_RANGE;
    n->lo = (struct qbound){.set = true, .incl = true, .is_time = true, .t = t};
    n->hi = n->lo;
    if (l->tlen == 10) { /* a date: the whole day, saturating at the end of time */
        n->hi.incl = __builtin_add_overflow(t, 86400LL * 1000000000LL, &n->hi.t);
        n->hi.t = n->hi.incl ? INT64_MAX : n->hi.t;
    }
    return VG_OK;
}

static int value_simple(struct parser *p, struct qnode *n, const struct lit *l, bool quoted)
{
    if (!quoted && l->wild && l->tlen == 1) {
        n->cmp = QC_EXISTS;
        return VG_OK;
    }
    if (n->is_ts) {
        return l->wild ? perr(p, l->off, "wildcards do not apply to @timestamp")
                       : ts_equal(p, n, l);
    }
    if (!quoted && cidr_parse(l, n)) {
        return VG_OK;
    }
    n->cmp = l->wild ? QC_GLOB : QC_EQ;
    n->val = l->wild ? l->pat : l->txt;
    n->vlen = l->wild ? l->plen : l->tlen;
    return VG_OK;
}

static struct qnode *field_node(struct parser *p, const char *name, size_t nl, size_t off)
{
    struct qnode *n = node_new(p, QN_FIELD, off);
    if (!n) {
        return NULL;
    }
    n->field = vg_arena_strndup(p->a, name, nl);
    n->fid = vg_field_intern(name, nl);
    if (!n->field || n->fid == VG_FIELD_NONE) {
        nomem(p);
        return NULL;
    }
    n->is_ts = field_is(n->field, QF_TIMESTAMP);
    n->is_tenant = field_is(n->field, QF_TENANT);
    return n;
}

static struct qnode *parse_or(struct parser *p);

/* field:( a OR b ... ): the group's bare values are values of field. */
static struct qnode *parse_field_group(struct parser *p, const char *name, size_t nl)
{
    const char *saved = p->dfield;
    size_t saved_len = p->dfield_len, open = p->i++;
    p->dfield = name;
    p->dfield_len = nl;
    struct qnode *n = parse_or(p);
    p->dfield = saved;
    p->dfield_len = saved_len;
    skip_ws(p);
    if (n && cur(p) != ')') {
        perr(p, p->i, "expected ')' to close the '(' at column %zu", column_of(p, open));
        return NULL;
    }
    p->i++;
    return n;
}

/* After a field name: what follows the ':' (or the comparison operator). */
static struct qnode *parse_field_value(struct parser *p, const char *name, size_t nl, size_t off,
                                       bool colon)
{
    if (colon && cur(p) == '(') {
        return parse_field_group(p, name, nl);
    }
    struct qnode *n = field_node(p, name, nl, off);
    struct lit l;
    int rc = n ? VG_OK : VG_ENOMEM;
    if (rc == VG_OK && (cur(p) == '>' || cur(p) == '<')) {
        rc = parse_compare(p, n);
    } else if (rc == VG_OK && colon && (cur(p) == '[' || cur(p) == '{')) {
        rc = parse_range(p, n);
    } else if (rc == VG_OK) {
        bool quoted = cur(p) == '"';
        rc = read_value(p, &l, false, ":");
        rc = rc == VG_OK ? value_simple(p, n, &l, quoted) : rc;
    }
    return rc == VG_OK ? n : NULL;
}

/* ---------------------------------------------------------------- free text */

static struct qnode *text_node(struct parser *p, const struct lit *l, bool quoted)
{
    if (!quoted && !p->dfield && l->wild && l->plen == 1) {
        return node_new(p, QN_ALL, l->off); /* a lone * matches everything */
    }
    if (p->dfield) {
        /* inside field:( ... ) a word or phrase is a value of that field */
        struct qnode *n = field_node(p, p->dfield, p->dfield_len, l->off);
        if (n && value_simple(p, n, l, quoted) != VG_OK) {
            return NULL;
        }
        return n;
    }
    struct qnode *n = node_new(p, QN_TEXT, l->off);
    if (!n) {
        return NULL;
    }
    n->glob = !quoted && l->wild;
    n->text = n->glob ? l->pat : l->txt;
    n->tlen = n->glob ? l->plen : l->tlen;
    if (n->tlen == 0) {
        perr(p, l->off, "empty phrase");
        return NULL;
    }
    return n;
}

/* A word at the cursor: a field term (name followed by ':' or a comparison) or free text. */
static struct qnode *parse_word(struct parser *p)
{
    size_t start = p->i, j = p->i;
    while (j < p->n && is_field_char(p->s[j])) {
        j++;
    }
    if (j > start && j < p->n && p->dfield == NULL &&
        (p->s[j] == ':' || p->s[j] == '=' || p->s[j] == '<' || p->s[j] == '>')) {
        bool colon = p->s[j] == ':' || p->s[j] == '='; /* name=value as Splunk users write it */
        p->i = j + colon;
        return parse_field_value(p, p->s + start, j - start, start, colon);
    }
    struct lit l;
    if (read_bare(p, &l, false) != VG_OK) {
        return NULL;
    }
    return text_node(p, &l, false);
}

static struct qnode *parse_primary(struct parser *p)
{
    char c = cur(p);
    if (c == '(') {
        size_t open = p->i++;
        struct qnode *n = parse_or(p);
        skip_ws(p);
        if (n && cur(p) != ')') {
            perr(p, p->i, "expected ')' to close the '(' at column %zu", column_of(p, open));
            return NULL;
        }
        p->i++;
        return n;
    }
    if (c == '"') {
        struct lit l;
        return read_quoted(p, &l) == VG_OK ? text_node(p, &l, true) : NULL;
    }
    if (c == ')' || c == '|' || c == '\0') {
        char buf[32];
        perr(p, p->i, "expected a search term, found %s", near(p, p->i, buf, sizeof(buf)));
        return NULL;
    }
    return parse_word(p);
}

static struct qnode *parse_unary(struct parser *p)
{
    skip_ws(p);
    size_t off = p->i;
    if (++p->depth > VG_QUERY_MAX_DEPTH) {
        perr(p, off, "query nested too deeply");
        return NULL;
    }
    struct qnode *n;
    if (at_keyword(p, "NOT")) {
        p->i += 3;
        skip_ws(p);
        if (at_end(p) || cur(p) == ')' || cur(p) == '|') {
            perr(p, p->i, "expected a search term after NOT");
            return NULL;
        }
        struct qnode *k = parse_unary(p);
        n = k ? node_not(p, k, off) : NULL;
    } else if (cur(p) == '-' && p->i + 1 < p->n && !is_stop(p->s[p->i + 1])) {
        p->i++;
        struct qnode *k = parse_primary(p);
        n = k ? node_not(p, k, off) : NULL;
    } else {
        n = parse_primary(p);
    }
    p->depth--;
    return n;
}

static bool and_ends(struct parser *p)
{
    skip_ws(p);
    return at_end(p) || cur(p) == ')' || cur(p) == '|' || at_keyword(p, "OR");
}

static struct qnode *parse_and(struct parser *p)
{
    struct qnode *left = parse_unary(p);
    while (left && !and_ends(p)) {
        size_t off = p->i;
        if (at_keyword(p, "AND")) {
            p->i += 3;
            skip_ws(p);
            if (at_end(p) || cur(p) == ')' || cur(p) == '|' || at_keyword(p, "OR")) {
                perr(p, p->i, "expected a search term after AND");
                return NULL;
            }
        }
        struct qnode *right = parse_unary(p);
        left = right ? node_pair(p, QN_AND, left, right, off) : NULL;
    }
    return left;
}

static struct qnode *parse_or(struct parser *p)
{
    if (++p->depth > VG_QUERY_MAX_DEPTH) {
        perr(p, p->i, "query nested too deeply");
        return NULL;
    }
    struct qnode *left = parse_and(p);
    while (left) {
        skip_ws(p);
        if (!at_keyword(p, "OR")) {
            break;
        }
        size_t off = p->i;
        p->i += 2;
        skip_ws(p);
        if (at_end(p) || cur(p) == ')' || cur(p) == '|') {
            perr(p, p->i, "expected a search term after OR");
            return NULL;
        }
        struct qnode *right = parse_and(p);
        left = right ? node_pair(p, QN_OR, left, right, off) : NULL;
    }
    p->depth--;
    return left;
}

/* ---------------------------------------------------------------- pipes */

/* A pipe token: a word (up to space , ( ) |) or one of , ( ). */
struct ptok {
    const char *s;
    size_t n;
    size_t off;
};

/* Ends a pipe word (explicit: strchr would also find the NUL terminator). */
static bool is_pipe_stop(char c)
{
    return c == ',' || c == '(' || c == ')' || c == '|';
}

static bool ptok_next(struct parser *p, struct ptok *t)
{
    skip_ws(p);
    t->off = p->i;
    t->s = p->s + p->i;
    t->n = 0;
    if (at_end(p) || cur(p) == '|') {
        return false;
    }
    if (cur(p) == ',' || cur(p) == '(' || cur(p) == ')') {
        p->i++;
        t->n = 1;
        return true;
    }
    while (p->i < p->n && !is_ws(cur(p)) && !is_pipe_stop(cur(p))) {
        p->i++;
    }
    t->n = p->i - t->off;
    return true;
}

static bool ptok_is(const struct ptok *t, const char *w)
{
    return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

static bool ptok_peek(struct parser *p, const char *w)
{
    size_t save = p->i;
    struct ptok t;
    bool r = ptok_next(p, &t) && ptok_is(&t, w);
    p->i = save;
    return r;
}

static int field_from_tok(struct parser *p, const struct ptok *t, struct qfield *f)
{
    for (size_t i = 0; i < t->n; i++) {
        if (!is_field_char(t->s[i])) {
            return perr(p, t->off + i, "'%.*s' is not a field name", (int)t->n, t->s);
        }
    }
    f->name = vg_arena_strndup(p->a, t->s, t->n);
    f->fid = vg_field_intern(t->s, t->n);
    return f->name && f->fid != VG_FIELD_NONE ? VG_OK : nomem(p);
}

static int list_grow(struct parser *p, void *arr, size_t *n, size_t elem)
{
    void **pp = arr;
    void *nv = vg_arena_alloc(p->a, (*n + 1) * elem);
    if (!nv) {
        return nomem(p);
    }
    if (*n) {
        memcpy(nv, *pp, *n * elem);
    }
    *pp = nv;
    memset((char *)nv + *n * elem, 0, elem);
    (*n)++;
    return VG_OK;
}

/* by f[, g ...]: at least one field. */
static int parse_by(struct parser *p, struct qpipe *pp)
{
    struct ptok t;
    size_t at = p->i;
    while (ptok_next(p, &t)) {
        if (ptok_is(&t, ",")) {
            continue;
        }
        if (list_grow(p, &pp->by, &pp->nby, sizeof(*pp->by)) != VG_OK ||
            field_from_tok(p, &t, &pp->by[pp->nby - 1]) != VG_OK) {
            return VG_EINVAL;
        }
    }
    return pp->nby ? VG_OK : perr(p, at, "expected a field after 'by'");
}

static const struct {
    const char *name;
    enum qagg_fn fn;
} agg_fns[] = {{"count", AG_COUNT}, {"dc", AG_DC},   {"sum", AG_SUM},
               {"avg", AG_AVG},     {"min", AG_MIN}, {"max", AG_MAX}};

static int parse_agg_arg(struct parser *p, struct qagg *ag, const struct ptok *fn)
{
    struct ptok t;
    if (!ptok_peek(p, "(")) {
        return ag->fn == AG_COUNT ? VG_OK
                                  : perr(p, p->i, "expected '(' after '%.*s'", (int)fn->n, fn->s);
    }
    ptok_next(p, &t);
    if (!ptok_next(p, &t)) {
        return perr(p, t.off, "expected a field or ')'");
    }
    if (!ptok_is(&t, ")")) {
        struct qfield f;
        if (field_from_tok(p, &t, &f) != VG_OK) {
            return VG_EINVAL;
        }
        ag->field = f.name;
        ag->fid = f.fid;
        if (!ptok_next(p, &t) || !ptok_is(&t, ")")) {
            return perr(p, t.off, "expected ')'");
        }
    } else if (ag->fn != AG_COUNT) {
        return perr(p, t.off, "'%.*s' needs a field", (int)fn->n, fn->s);
    }
    return VG_OK;
}

static int parse_agg(struct parser *p, struct qpipe *pp, const struct ptok *t)
{
    size_t k = 0;
    while (k < VG_ARRAY_LEN(agg_fns) && !ptok_is(t, agg_fns[k].name)) {
        k++;
    }
    if (k == VG_ARRAY_LEN(agg_fns)) {
        return perr(p, t->off, "unknown function '%.*s' (count, dc, sum, avg, min, max)", (int)t->n,
                    t->s);
    }
    if (list_grow(p, &pp->aggs, &pp->naggs, sizeof(*pp->aggs)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct qagg *ag = &pp->aggs[pp->naggs - 1];
    ag->fn = agg_fns[k].fn;
    if (parse_agg_arg(p, ag, t) != VG_OK) {
        return VG_EINVAL;
    }
    if (ptok_peek(p, "as")) {
        struct ptok nm;
        ptok_next(p, &nm);
        if (!ptok_next(p, &nm) || ptok_is(&nm, ",")) {
            return perr(p, nm.off, "expected a name after 'as'");
        }
        ag->name = vg_arena_strndup(p->a, nm.s, nm.n);
    } else {
        ag->name = ag->field ? vg_arena_printf(p->a, "%s(%s)", agg_fns[k].name, ag->field)
                             : agg_fns[k].name;
    }
    return ag->name ? VG_OK : nomem(p);
}

static int parse_stats(struct parser *p, struct qpipe *pp)
{
    struct ptok t;
    size_t at = p->i;
    while (ptok_next(p, &t)) {
        if (ptok_is(&t, ",")) {
            continue;
        }
        if (ptok_is(&t, "by") || ptok_is(&t, "BY")) {
            if (parse_by(p, pp) != VG_OK) {
                return VG_EINVAL;
            }
            break;
        }
        if (parse_agg(p, pp, &t) != VG_OK) {
            return VG_EINVAL;
        }
    }
    return pp->naggs ? VG_OK
                     : perr(p, at,
                            "expected an aggregation after 'stats' (count, dc(f), sum(f),"
                            " avg(f), min(f), max(f))");
}

static int tok_number(struct parser *p, const struct ptok *t, size_t *out)
{
    int64_t v;
    if (vg_parse_i64(t->s, t->n, &v) != VG_OK || v <= 0 || v > 1000000000) {
        return perr(p, t->off, "expected a positive number, found '%.*s'", (int)t->n, t->s);
    }
    *out = (size_t)v;
    return VG_OK;
}

static bool tok_is_number(const struct ptok *t)
{
    int64_t v;
    return vg_parse_i64(t->s, t->n, &v) == VG_OK;
}

static int parse_top(struct parser *p, struct qpipe *pp)
{
    struct ptok t;
    size_t at = p->i;
    pp->n = 10;
    while (ptok_next(p, &t)) {
        if (ptok_is(&t, ",")) {
            continue;
        }
        int rc;
        if (t.n > 6 && memcmp(t.s, "limit=", 6) == 0) {
            struct ptok v = {t.s + 6, t.n - 6, t.off + 6};
            rc = tok_number(p, &v, &pp->n);
        } else if (tok_is_number(&t)) {
            rc = tok_number(p, &t, &pp->n);
        } else {
            rc = list_grow(p, &pp->by, &pp->nby, sizeof(*pp->by));
            rc = rc == VG_OK ? field_from_tok(p, &t, &pp->by[pp->nby - 1]) : rc;
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return pp->nby ? VG_OK : perr(p, at, "expected a field after 'top'");
}

static int parse_timechart(struct parser *p, struct qpipe *pp)
{
    struct ptok t;
    while (ptok_next(p, &t)) {
        if (t.n > 5 && memcmp(t.s, "span=", 5) == 0) {
            if (vg_duration_parse(t.s + 5, t.n - 5, &pp->span) != VG_OK) {
                return perr(p, t.off + 5, "bad span '%.*s' (e.g. 30s, 1m, 1h, 1d)", (int)t.n - 5,
                            t.s + 5);
            }
        } else if (ptok_is(&t, "count")) {
            if (ptok_peek(p, "(")) {
                ptok_next(p, &t);
                if (!ptok_next(p, &t) || !ptok_is(&t, ")")) {
                    return perr(p, t.off, "timechart counts events: expected 'count' or 'count()'");
                }
            }
        } else if (ptok_is(&t, "by") || ptok_is(&t, "BY")) {
            struct ptok f;
            if (pp->nby) {
                return perr(p, t.off, "timechart splits by one field only");
            }
            if (!ptok_next(p, &f) || ptok_is(&f, ",")) {
                return perr(p, f.off, "expected a field after 'by'");
            }
            if (list_grow(p, &pp->by, &pp->nby, sizeof(*pp->by)) != VG_OK ||
                field_from_tok(p, &f, &pp->by[0]) != VG_OK) {
                return VG_EINVAL;
            }
        } else {
            return perr(p, t.off, "unexpected '%.*s' in timechart (span=D, count, by f)", (int)t.n,
                        t.s);
        }
    }
    return VG_OK;
}

static int parse_sort(struct parser *p, struct qpipe *pp)
{
    struct ptok t;
    size_t at = p->i;
    while (ptok_next(p, &t)) {
        if (ptok_is(&t, ",")) {
            continue;
        }
        bool desc = t.s[0] == '-';
        if (t.s[0] == '-' || t.s[0] == '+') {
            t.s++;
            t.n--;
            t.off++;
        }
        if (t.n == 0) {
            return perr(p, t.off, "expected a field after '%c'", desc ? '-' : '+');
        }
        if (list_grow(p, &pp->by, &pp->nby, sizeof(*pp->by)) != VG_OK ||
            field_from_tok(p, &t, &pp->by[pp->nby - 1]) != VG_OK) {
            return VG_EINVAL;
        }
        pp->by[pp->nby - 1].desc = desc;
    }
    return pp->nby ? VG_OK : perr(p, at, "expected a field after 'sort'");
}

static int parse_head(struct parser *p, struct qpipe *pp)
{
    struct ptok t;
    pp->n = 10;
    if (ptok_next(p, &t)) {
        if (tok_number(p, &t, &pp->n) != VG_OK) {
            return VG_EINVAL;
        }
        if (ptok_next(p, &t)) {
            return perr(p, t.off, "unexpected '%.*s' after head N", (int)t.n, t.s);
        }
    }
    return VG_OK;
}

static int parse_pipe(struct parser *p, struct vg_query *q)
{
    static const struct {
        const char *name;
        enum qp_kind kind;
        int (*fn)(struct parser *, struct qpipe *);
    } cmds[] = {{"stats", QP_STATS, parse_stats},
                {"top", QP_TOP, parse_top},
                {"timechart", QP_TIMECHART, parse_timechart},
                {"sort", QP_SORT, parse_sort},
                {"head", QP_HEAD, parse_head}};
    struct ptok t;
    size_t bar = p->i++;
    if (!ptok_next(p, &t)) {
        return perr(p, t.off, "expected a command after '|' (stats, top, timechart, sort, head)");
    }
    size_t k = 0;
    while (k < VG_ARRAY_LEN(cmds) && !ptok_is(&t, cmds[k].name)) {
        k++;
    }
    if (k == VG_ARRAY_LEN(cmds)) {
        return perr(p, t.off, "unknown command '%.*s' (stats, top, timechart, sort, head)",
                    (int)t.n, t.s);
    }
    if (list_grow(p, &q->pipes, &q->npipes, sizeof(*q->pipes)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct qpipe *pp = &q->pipes[q->npipes - 1];
    pp->kind = cmds[k].kind;
    pp->col = (uint32_t)column_of(p, bar);
    return cmds[k].fn(p, pp);
}

/* At most one aggregation. */
static int pipes_check(struct parser *p, const struct vg_query *q)
{
    size_t naggs = 0;
    for (size_t i = 0; i < q->npipes; i++) {
        const struct qpipe *pp = &q->pipes[i];
        naggs += pp->kind == QP_STATS || pp->kind == QP_TOP || pp->kind == QP_TIMECHART;
        if (naggs > 1) {
            if (p->err && p->errsz) {
                snprintf(p->err, p->errsz, "column %u: only one of stats, top, timechart per query",
                         pp->col);
            }
            p->failed = true;
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- entry points */

static int parse_all(struct parser *p, struct vg_query *q)
{
    skip_ws(p);
    if (at_end(p) || cur(p) == '|') {
        q->root = node_new(p, QN_ALL, p->i);
    } else {
        q->root = parse_or(p);
    }
    if (!q->root) {
        return p->failed ? VG_EINVAL : VG_ENOMEM;
    }
    skip_ws(p);
    while (!p->failed && cur(p) == '|') {
        parse_pipe(p, q);
        skip_ws(p);
    }
    if (!p->failed && !at_end(p)) {
        char buf[32];
        if (cur(p) == ')') {
            perr(p, p->i, "unexpected ')' without a matching '('");
        } else {
            perr(p, p->i, "unexpected '%s'", near(p, p->i, buf, sizeof(buf)));
        }
    }
    if (!p->failed) {
        pipes_check(p, q);
    }
    return p->failed ? VG_EINVAL : VG_OK;
}

int vg_query_parse(const char *text, size_t len, vg_time_t now, struct vg_query **out, char *err,
                   size_t errsz)
{
    struct vg_query *q = vg_calloc(1, sizeof(*q));
    struct parser p = {.s = text,
                       .n = len,
                       .now = now == VG_TIME_NONE ? vg_time_now() : now,
                       .err = err,
                       .errsz = errsz};
    if (err && errsz) {
        err[0] = '\0';
    }
    if (!q || !(q->arena = vg_arena_create(4096))) {
        vg_free(q);
        if (err && errsz) {
            snprintf(err, errsz, "out of memory");
        }
        return VG_ENOMEM;
    }
    p.a = q->arena;
    int rc = parse_all(&p, q);
    if (rc == VG_EINVAL && p.failed && err && errsz && !err[0]) {
        snprintf(err, errsz, "out of memory");
        rc = VG_ENOMEM;
    }
    rc = rc == VG_OK ? vg_query_compile(q) : rc;
    if (rc == VG_ENOMEM && err && errsz && !err[0]) {
        snprintf(err, errsz, "out of memory");
    }
    if (rc != VG_OK) {
        vg_query_destroy(q);
        return rc;
    }
    *out = q;
    return VG_OK;
}

void vg_query_destroy(struct vg_query *q)
{
    if (!q) {
        return;
    }
    vg_arena_destroy(q->arena);
    vg_free(q);
}

bool vg_query_is_aggregate(const struct vg_query *q)
{
    for (size_t i = 0; i < q->npipes; i++) {
        if (q->pipes[i].kind == QP_STATS || q->pipes[i].kind == QP_TOP ||
            q->pipes[i].kind == QP_TIMECHART) {
            return true;
        }
    }
    return false;
}
