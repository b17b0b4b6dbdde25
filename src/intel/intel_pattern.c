/*
 * intel_pattern.c — STIX 2.0/2.1 patterning language: a hand-written recursive-descent parser
 * (lexer + one function per grammar rule of OASIS STIXPattern.g4) building an n-ary AST in an
 * arena, a canonical printer, and the extraction of simple (type, value) indicators that the
 * typed indicator sets (intel_set.c) load directly; compound patterns go to the correlation
 * compiler. Input is untrusted (feeds, TAXII): bounded length and nesting, every error names
 * the column and what was expected; recursion depth is bounded by the nesting limit because
 * AND/OR/FOLLOWEDBY chains are parsed iteratively into n-ary nodes.
 */
#include "intel/intel_pattern.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_PATH_STEPS 64
#define MAX_QUALIFIERS 8

enum tok {
    T_EOF,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COLON,
    T_DOT,
    T_COMMA,
    T_STAR,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_STRING,
    T_INT,
    T_FLOAT,
    T_TIME,
    T_HEX,
    T_BIN,
    T_IDENT,
};

struct token {
    enum tok kind;
    size_t start, len;
};

struct parser {
    const char *s;
    size_t n, pos;
    struct token tok;
    struct vg_arena *arena;
    unsigned depth, max_depth;
    size_t nnodes;
    int rc;
    char *err;
    size_t errsz;
};

typedef struct vg_intel_pattern_node node_t;

/* ---------------------------------------------------------------- errors */

static void describe(const struct parser *ps, const struct token *t, char *buf, size_t sz)
{
    const char *p = ps->s + t->start;
    size_t n = t->len > 24 ? 24 : t->len, k = 0;
    bool quoted = t->kind == T_STRING || t->kind == T_TIME || t->kind == T_HEX || t->kind == T_BIN;
    if (t->kind == T_EOF) {
        snprintf(buf, sz, "end of pattern");
        return;
    }
    /* quoted literals already carry their quotes; control bytes print as '?' */
    if (!quoted && k + 1 < sz) {
        buf[k++] = '\'';
    }
    for (size_t i = 0; i < n && k + 5 < sz; i++) {
        unsigned char c = (unsigned char)p[i];
        buf[k++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    if (t->len > n && k + 5 < sz) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    if (!quoted && k + 1 < sz) {
        buf[k++] = '\'';
    }
    buf[k] = '\0';
}

/* Record the first error: "column N: <message>". Returns rc for `return fail(...)`. */
static int fail_at(struct parser *ps, int rc, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(struct parser *ps, int rc, size_t off, const char *fmt, ...)
{
    if (ps->rc == 0) {
        ps->rc = rc;
        if (ps->err && ps->errsz) {
            va_list ap;
            int k = snprintf(ps->err, ps->errsz, "column %zu: ", off + 1);
            if (k >= 0 && (size_t)k < ps->errsz) {
                va_start(ap, fmt);
                vsnprintf(ps->err + k, ps->errsz - (size_t)k, fmt, ap);
                va_end(ap);
            }
        }
    }
    return ps->rc;
}

/* "column N: expected <what>, found <current token>" */
static int expected(struct parser *ps, const char *what)
{
    char found[40];
    describe(ps, &ps->tok, found, sizeof found);
    return fail_at(ps, VG_EINVAL, ps->tok.start, "expected %s, found %s", what, found);
}

/* ---------------------------------------------------------------- lexer */

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Scan a quoted literal starting at the quote p; only \' and \\ escapes are allowed. */
static int lex_quoted(struct parser *ps, size_t q, size_t *end)
{
    size_t i = q + 1;
    while (i < ps->n) {
        char c = ps->s[i];
        if (c == '\'') {
            *end = i + 1;
            return 0;
        }
        if (c == '\\') {
            if (i + 1 >= ps->n) {
                break;
            }
            if (ps->s[i + 1] != '\'' && ps->s[i + 1] != '\\') {
                return fail_at(ps, VG_EINVAL, i,
                               "invalid escape '\\%c' in string literal (only \\' and \\\\)",
                               ps->s[i + 1]);
            }
            i += 2;
            continue;
        }
        i++;
    }
    return fail_at(ps, VG_EINVAL, q, "unterminated string literal");
}

static void lex_number(struct parser *ps, size_t i)
{
    bool dot = false;
    if (ps->s[i] == '+' || ps->s[i] == '-') {
        i++;
    }
    while (i < ps->n && is_digit(ps->s[i])) {
        i++;
    }
    if (i + 1 < ps->n && ps->s[i] == '.' && is_digit(ps->s[i + 1])) {
        dot = true;
        i++;
        while (i < ps->n && is_digit(ps->s[i])) {
            i++;
        }
    }
    ps->tok.kind = dot ? T_FLOAT : T_INT;
    ps->tok.len = i - ps->tok.start;
}

static int lex_punct(struct parser *ps, char c, char d)
{
    static const char one[] = "[]():.,*=<>";
    static const enum tok kinds[] = {T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN, T_COLON, T_DOT,
                                     T_COMMA,  T_STAR,   T_EQ,     T_LT,     T_GT};
    const char *hit = strchr(one, c);
    ps->tok.len = 1;
    if ((c == '!' && d == '=') || (c == '<' && d == '>')) {
        ps->tok.kind = T_NE;
        ps->tok.len = 2;
    } else if ((c == '<' || c == '>' || c == '=') && d == '=') {
        ps->tok.kind = c == '<' ? T_LE : c == '>' ? T_GE : T_EQ;
        ps->tok.len = 2;
    } else if (c != '\0' && hit) {
        ps->tok.kind = kinds[hit - one];
    } else {
        unsigned char u = (unsigned char)c;
        if (u < 0x20 || u >= 0x7f) {
            return fail_at(ps, VG_EINVAL, ps->pos, "unexpected byte 0x%02x", u);
        }
        return fail_at(ps, VG_EINVAL, ps->pos, "unexpected character '%c'", c);
    }
    return 0;
}

/* Advance to the next token (ps->tok). */
static int lex_next(struct parser *ps)
{
    size_t i = ps->pos + ps->tok.len;
    while (i < ps->n &&
           (ps->s[i] == ' ' || ps->s[i] == '\t' || ps->s[i] == '\r' || ps->s[i] == '\n')) {
        i++;
    }
    ps->pos = i;
    ps->tok.start = i;
    ps->tok.len = 0;
    if (i >= ps->n) {
        ps->tok.kind = T_EOF;
        return 0;
    }
    char c = ps->s[i], d = i + 1 < ps->n ? ps->s[i + 1] : '\0';
    if (c == '\'' || ((c == 't' || c == 'h' || c == 'b') && d == '\'')) {
        size_t q = c == '\'' ? i : i + 1, end = 0;
        int rc = lex_quoted(ps, q, &end);
        ps->tok.kind = c == '\'' ? T_STRING : c == 't' ? T_TIME : c == 'h' ? T_HEX : T_BIN;
        ps->tok.len = end - i;
        return rc;
    }
    if (is_alpha(c)) {
        size_t j = i + 1;
        while (j < ps->n && (is_alpha(ps->s[j]) || is_digit(ps->s[j]) || ps->s[j] == '-')) {
            j++;
        }
        ps->tok.kind = T_IDENT;
        ps->tok.len = j - i;
        return 0;
    }
    if (is_digit(c) ||
        ((c == '-' || c == '+') &&
         (is_digit(d) || (d == '.' && i + 2 < ps->n && is_digit(ps->s[i + 2])))) ||
        (c == '.' && is_digit(d))) {
        lex_number(ps, i);
        return 0;
    }
    return lex_punct(ps, c, d);
}

static bool tok_is(const struct parser *ps, const char *kw)
{
    size_t n = strlen(kw);
    return ps->tok.kind == T_IDENT && ps->tok.len == n && memcmp(ps->s + ps->tok.start, kw, n) == 0;
}

/* ---------------------------------------------------------------- nodes */

static node_t *node_new(struct parser *ps, enum vg_intel_pattern_kind kind, size_t col)
{
    node_t *nd = vg_arena_calloc(ps->arena, sizeof *nd);
    if (!nd) {
        fail_at(ps, VG_ENOMEM, col, "out of memory");
        return NULL;
    }
    nd->kind = kind;
    nd->column = (unsigned)(col + 1);
    ps->nnodes++;
    return nd;
}

struct nodelist {
    node_t **v;
    size_t n, cap;
};

static int list_push(struct parser *ps, struct nodelist *l, node_t *nd)
{
    if (vg_grow(&l->v, &l->cap, l->n + 1, sizeof *l->v) != 0) {
        return fail_at(ps, VG_ENOMEM, ps->pos, "out of memory");
    }
    l->v[l->n++] = nd;
    return 0;
}

/* Turn a list of >= 2 operands into one n-ary node (arena copy); frees the list. */
static node_t *list_finish(struct parser *ps, struct nodelist *l, enum vg_intel_pattern_kind kind)
{
    node_t *nd = NULL;
    if (ps->rc == 0 && l->n == 1) {
        nd = l->v[0];
    } else if (ps->rc == 0 && l->n > 1) {
        nd = node_new(ps, kind, l->v[0]->column - 1);
        if (nd) {
            nd->kids = vg_arena_alloc(ps->arena, l->n * sizeof *nd->kids);
            if (!nd->kids) {
                fail_at(ps, VG_ENOMEM, ps->pos, "out of memory");
                nd = NULL;
            } else {
                memcpy(nd->kids, l->v, l->n * sizeof *nd->kids);
                nd->nkids = l->n;
            }
        }
    }
    vg_free(l->v);
    l->v = NULL;
    return nd;
}

typedef node_t *(*parse_fn)(struct parser *ps);

/* operand (KW operand)* → n-ary node of kind, or the single operand. */
static node_t *parse_chain(struct parser *ps, parse_fn operand, const char *kw,
                           enum vg_intel_pattern_kind kind)
{
    struct nodelist l = {NULL, 0, 0};
    for (;;) {
        node_t *nd = operand(ps);
        if (!nd || list_push(ps, &l, nd) != 0) {
            break;
        }
        if (!tok_is(ps, kw)) {
            break;
        }
        if (lex_next(ps) != 0) {
            break;
        }
    }
    return list_finish(ps, &l, kind);
}

static int enter(struct parser *ps)
{
    if (++ps->depth > ps->max_depth) {
        return fail_at(ps, VG_ELIMIT, ps->tok.start, "nesting deeper than %u", ps->max_depth);
    }
    return lex_next(ps);
}

/* ---------------------------------------------------------------- literals */

/* Decode a string literal body (between quotes, escapes already validated). */
static char *decode_string(struct parser *ps, const char *p, size_t n, size_t *outlen)
{
    char *o = vg_arena_alloc(ps->arena, n + 1);
    size_t k = 0;
    if (!o) {
        fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n) {
            i++;
        }
        o[k++] = p[i];
    }
    o[k] = '\0';
    *outlen = k;
    return o;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int lit_hex(struct parser *ps, const char *p, size_t n, struct vg_intel_pattern_value *v)
{
    char *o = vg_arena_alloc(ps->arena, n / 2 + 1);
    if (!o) {
        return fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
    }
    if (n % 2) {
        return fail_at(ps, VG_EINVAL, ps->tok.start, "invalid hex literal: odd number of digits");
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(p[i]), lo = hexval(p[i + 1]);
        if (hi < 0 || lo < 0) {
            return fail_at(ps, VG_EINVAL, ps->tok.start, "invalid hex literal: bad digit");
        }
        o[i / 2] = (char)(hi << 4 | lo);
    }
    o[n / 2] = '\0';
    v->s = o;
    v->len = n / 2;
    return 0;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static int lit_base64(struct parser *ps, const char *p, size_t n, struct vg_intel_pattern_value *v)
{
    char *o = vg_arena_alloc(ps->arena, n / 4 * 3 + 1);
    size_t k = 0, pad = 0;
    uint32_t acc = 0;
    if (!o) {
        return fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
    }
    if (n % 4) {
        return fail_at(ps, VG_EINVAL, ps->tok.start,
                       "invalid binary literal: base64 length not a multiple of 4");
    }
    for (size_t i = 0; i < n; i++) {
        int b = b64val(p[i]);
        if (p[i] == '=' && i + 2 >= n && (pad || i + 1 == n || p[i + 1] == '=')) {
            pad++;
            b = 0;
        } else if (b < 0 || pad) {
            return fail_at(ps, VG_EINVAL, ps->tok.start,
                           "invalid binary literal: bad base64 character");
        }
        acc = acc << 6 | (uint32_t)b;
        if (i % 4 == 3) {
            o[k++] = (char)(acc >> 16);
            o[k++] = (char)(acc >> 8);
            o[k++] = (char)acc;
        }
    }
    v->s = o;
    v->len = k - pad;
    o[v->len] = '\0';
    return 0;
}

/* t'YYYY-MM-DDTHH:MM:SS[.s+]Z' — the RFC 3339 profile STIX requires. */
static int lit_time(struct parser *ps, const char *p, size_t n, struct vg_intel_pattern_value *v)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i = 0;
    bool ok = n >= 20;
    for (; ok && i < 19; i++) {
        ok = shape[i] == 'd' ? is_digit(p[i]) : p[i] == shape[i];
    }
    if (ok && p[i] == '.') {
        size_t j = ++i;
        while (i < n && is_digit(p[i])) {
            i++;
        }
        ok = i > j;
    }
    ok = ok && i + 1 == n && p[i] == 'Z';
    if (!ok || vg_time_parse(p, n, &v->t) != 0) {
        return fail_at(ps, VG_EINVAL, ps->tok.start,
                       "invalid timestamp '%.*s' (expected YYYY-MM-DDTHH:MM:SS[.s]Z)",
                       (int)(n > 40 ? 40 : n), p);
    }
    v->s = vg_arena_strndup(ps->arena, p, n);
    v->len = n;
    return v->s ? 0 : fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
}

static int lit_number(struct parser *ps, struct vg_intel_pattern_value *v)
{
    const char *p = ps->s + ps->tok.start;
    size_t n = ps->tok.len;
    if (ps->tok.kind == T_INT) {
        v->kind = VG_INTEL_PATTERN_LIT_INT;
        if (vg_parse_i64(p, n, &v->i) != 0) {
            return fail_at(ps, VG_EINVAL, ps->tok.start, "integer out of range");
        }
        v->d = (double)v->i;
    } else {
        v->kind = VG_INTEL_PATTERN_LIT_FLOAT;
        if (vg_parse_double(p, n, &v->d) != 0) {
            return fail_at(ps, VG_EINVAL, ps->tok.start, "invalid number");
        }
    }
    v->s = v->raw;
    v->len = v->rawlen;
    return 0;
}

/* Parse the current token as a scalar literal (not a set) into v; consumes it. */
static int parse_scalar(struct parser *ps, struct vg_intel_pattern_value *v)
{
    const char *p = ps->s + ps->tok.start;
    size_t n = ps->tok.len;
    int rc = 0;
    memset(v, 0, sizeof *v);
    v->raw = vg_arena_strndup(ps->arena, p, n);
    v->rawlen = n;
    if (!v->raw) {
        return fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
    }
    switch (ps->tok.kind) {
    case T_STRING:
        v->kind = VG_INTEL_PATTERN_LIT_STRING;
        v->s = decode_string(ps, p + 1, n - 2, &v->len);
        rc = v->s ? 0 : ps->rc;
        break;
    case T_TIME:
        v->kind = VG_INTEL_PATTERN_LIT_TIME;
        rc = lit_time(ps, p + 2, n - 3, v);
        break;
    case T_HEX:
        v->kind = VG_INTEL_PATTERN_LIT_HEX;
        rc = lit_hex(ps, p + 2, n - 3, v);
        break;
    case T_BIN:
        v->kind = VG_INTEL_PATTERN_LIT_BINARY;
        rc = lit_base64(ps, p + 2, n - 3, v);
        break;
    case T_INT:
    case T_FLOAT:
        rc = lit_number(ps, v);
        break;
    default:
        v->kind = VG_INTEL_PATTERN_LIT_BOOL;
        v->b = tok_is(ps, "true") || tok_is(ps, "TRUE");
        v->s = v->raw;
        v->len = n;
        break;
    }
    return rc ? rc : lex_next(ps);
}

static bool at_scalar(const struct parser *ps)
{
    enum tok k = ps->tok.kind;
    return k == T_STRING || k == T_INT || k == T_FLOAT || k == T_TIME || k == T_HEX || k == T_BIN ||
           tok_is(ps, "true") || tok_is(ps, "false") || tok_is(ps, "TRUE") || tok_is(ps, "FALSE");
}

static int set_push(struct parser *ps, struct vg_intel_pattern_value **v, size_t *n, size_t *cap)
{
    if (!at_scalar(ps)) {
        return expected(ps, "literal in set");
    }
    if (vg_grow(v, cap, *n + 1, sizeof **v) != 0) {
        return fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
    }
    size_t col = ps->tok.start;
    int rc = parse_scalar(ps, &(*v)[*n]);
    if (rc == 0 && *n > 0 && (*v)[*n].kind != (*v)[0].kind) {
        return fail_at(ps, VG_EINVAL, col, "set elements must all be of the same type");
    }
    (*n)++;
    return rc;
}

/* '(' [literal (',' literal)*] ')' */
static int parse_set(struct parser *ps, struct vg_intel_pattern_value *out)
{
    struct vg_intel_pattern_value *v = NULL;
    size_t n = 0, cap = 0, start = ps->tok.start;
    int rc = 0;
    if (ps->tok.kind != T_LPAREN) {
        return expected(ps, "'(' to start a set after IN");
    }
    rc = lex_next(ps);
    while (rc == 0 && ps->tok.kind != T_RPAREN) {
        if (n > 0 && (ps->tok.kind != T_COMMA || (rc = lex_next(ps)) != 0)) {
            rc = rc ? rc : expected(ps, "',' or ')' in set");
            break;
        }
        rc = set_push(ps, &v, &n, &cap);
    }
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->kind = VG_INTEL_PATTERN_LIT_SET;
        out->raw = vg_arena_strndup(ps->arena, ps->s + start, ps->tok.start + 1 - start);
        out->rawlen = ps->tok.start + 1 - start;
        out->items = n ? vg_arena_alloc(ps->arena, n * sizeof *v) : NULL;
        if (!out->raw || (n && !out->items)) {
            rc = fail_at(ps, VG_ENOMEM, start, "out of memory");
        } else {
            if (n) {
                memcpy(out->items, v, n * sizeof *v);
            }
            out->nitems = n;
            rc = lex_next(ps);
        }
    }
    vg_free(v);
    return rc;
}

/* ---------------------------------------------------------------- object paths */

static int path_key(struct parser *ps, struct vg_intel_pattern_step *st, const char *what)
{
    const char *p = ps->s + ps->tok.start;
    size_t n = ps->tok.len, len = 0;
    st->kind = VG_INTEL_PATTERN_STEP_KEY;
    if (ps->tok.kind == T_IDENT) {
        st->key = vg_arena_strndup(ps->arena, p, n);
    } else if (ps->tok.kind == T_STRING) {
        st->key = decode_string(ps, p + 1, n - 2, &len);
        st->quoted = true;
    } else {
        return expected(ps, what);
    }
    if (!st->key) {
        return fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
    }
    return lex_next(ps);
}

static int path_index(struct parser *ps, struct vg_intel_pattern_step *st)
{
    int rc = lex_next(ps);
    if (rc != 0) {
        return rc;
    }
    if (ps->tok.kind == T_STAR) {
        st->kind = VG_INTEL_PATTERN_STEP_ANY;
    } else if (ps->tok.kind == T_INT) {
        st->kind = VG_INTEL_PATTERN_STEP_INDEX;
        if (vg_parse_i64(ps->s + ps->tok.start, ps->tok.len, &st->index) != 0) {
            return fail_at(ps, VG_EINVAL, ps->tok.start, "list index out of range");
        }
    } else {
        return expected(ps, "list index or '*' after '['");
    }
    if ((rc = lex_next(ps)) != 0) {
        return rc;
    }
    if (ps->tok.kind != T_RBRACK) {
        return expected(ps, "']' after list index");
    }
    return lex_next(ps);
}

/* type ':' key ('.' key | '[' index ']')* */
static int parse_path(struct parser *ps, struct vg_intel_pattern_path *path)
{
    struct vg_intel_pattern_step steps[MAX_PATH_STEPS];
    size_t n = 0;
    int rc;
    if (ps->tok.kind != T_IDENT) {
        return expected(ps, "object path (type:property)");
    }
    path->type = vg_arena_strndup(ps->arena, ps->s + ps->tok.start, ps->tok.len);
    if (!path->type) {
        return fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
    }
    if ((rc = lex_next(ps)) != 0) {
        return rc;
    }
    if (ps->tok.kind != T_COLON) {
        return expected(ps, "':' after object type");
    }
    if ((rc = lex_next(ps)) != 0) {
        return rc;
    }
    memset(steps, 0, sizeof steps);
    rc = path_key(ps, &steps[n++], "property name after ':'");
    while (rc == 0 && (ps->tok.kind == T_DOT || ps->tok.kind == T_LBRACK)) {
        if (n == MAX_PATH_STEPS) {
            return fail_at(ps, VG_ELIMIT, ps->tok.start, "object path longer than %d steps",
                           MAX_PATH_STEPS);
        }
        if (ps->tok.kind == T_LBRACK) {
            rc = path_index(ps, &steps[n++]);
        } else if ((rc = lex_next(ps)) == 0) {
            rc = path_key(ps, &steps[n++], "property name after '.'");
        }
    }
    if (rc != 0) {
        return rc;
    }
    path->steps = vg_arena_alloc(ps->arena, n * sizeof *steps);
    if (!path->steps) {
        return fail_at(ps, VG_ENOMEM, ps->tok.start, "out of memory");
    }
    memcpy(path->steps, steps, n * sizeof *steps);
    path->nsteps = n;
    return 0;
}

/* ---------------------------------------------------------------- comparisons */

static const struct {
    const char *kw;
    enum vg_intel_pattern_op op;
} word_ops[] = {
    {"IN", VG_INTEL_PATTERN_IN},
    {"LIKE", VG_INTEL_PATTERN_LIKE},
    {"MATCHES", VG_INTEL_PATTERN_MATCHES},
    {"ISSUBSET", VG_INTEL_PATTERN_ISSUBSET},
    {"ISSUPERSET", VG_INTEL_PATTERN_ISSUPERSET},
};

static const char *const op_names[] = {
    "=", "!=", ">", "<", ">=", "<=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"};

static bool parse_op(struct parser *ps, enum vg_intel_pattern_op *op)
{
    static const enum tok sym[] = {T_EQ, T_NE, T_GT, T_LT, T_GE, T_LE};
    for (size_t i = 0; i < sizeof sym / sizeof sym[0]; i++) {
        if (ps->tok.kind == sym[i]) {
            *op = (enum vg_intel_pattern_op)i;
            return true;
        }
    }
    for (size_t i = 0; i < sizeof word_ops / sizeof word_ops[0]; i++) {
        if (tok_is(ps, word_ops[i].kw)) {
            *op = word_ops[i].op;
            return true;
        }
    }
    return false;
}

/* The value after the operator: what each operator accepts, per the grammar. */
static int parse_operand(struct parser *ps, node_t *nd)
{
    char what[64];
    enum tok k = ps->tok.kind;
    switch (nd->op) {
    case VG_INTEL_PATTERN_IN:
        return parse_set(ps, &nd->value);
    case VG_INTEL_PATTERN_EQ:
    case VG_INTEL_PATTERN_NE:
        if (at_scalar(ps)) {
            return parse_scalar(ps, &nd->value);
        }
        break;
    case VG_INTEL_PATTERN_GT:
    case VG_INTEL_PATTERN_LT:
    case VG_INTEL_PATTERN_GE:
    case VG_INTEL_PATTERN_LE:
        if (at_scalar(ps) && k != T_IDENT) {
            return parse_scalar(ps, &nd->value);
        }
        snprintf(what, sizeof what, "orderable literal after '%s'", op_names[nd->op]);
        return expected(ps, what);
    default:
        if (k == T_STRING) {
            return parse_scalar(ps, &nd->value);
        }
        snprintf(what, sizeof what, "string literal after %s", op_names[nd->op]);
        return expected(ps, what);
    }
    snprintf(what, sizeof what, "literal after '%s'", op_names[nd->op]);
    return expected(ps, what);
}

static node_t *parse_cmp_or(struct parser *ps);

/* '(' comparison ')' | EXISTS path | path [NOT] op operand */
static node_t *parse_cmp_test(struct parser *ps)
{
    size_t col = ps->tok.start;
    node_t *nd = NULL;
    if (ps->tok.kind == T_LPAREN) {
        if (enter(ps) != 0 || !(nd = parse_cmp_or(ps))) {
            return NULL;
        }
        if (ps->tok.kind != T_RPAREN) {
            expected(ps, "')' after comparison");
            return NULL;
        }
        ps->depth--;
        return lex_next(ps) == 0 ? nd : NULL;
    }
    if (!(nd = node_new(ps, VG_INTEL_PATTERN_CMP_TEST, col))) {
        return NULL;
    }
    if (tok_is(ps, "EXISTS")) {
        nd->op = VG_INTEL_PATTERN_EXISTS;
        return lex_next(ps) == 0 && parse_path(ps, &nd->path) == 0 ? nd : NULL;
    }
    if (parse_path(ps, &nd->path) != 0) {
        return NULL;
    }
    if (tok_is(ps, "NOT")) {
        nd->negated = true;
        if (lex_next(ps) != 0) {
            return NULL;
        }
    }
    if (!parse_op(ps, &nd->op)) {
        expected(ps, nd->negated ? "comparison operator after NOT"
                                 : "comparison operator after object path");
        return NULL;
    }
    return lex_next(ps) == 0 && parse_operand(ps, nd) == 0 ? nd : NULL;
}

static node_t *parse_cmp_and(struct parser *ps)
{
    return parse_chain(ps, parse_cmp_test, "AND", VG_INTEL_PATTERN_CMP_AND);
}

static node_t *parse_cmp_or(struct parser *ps)
{
    return parse_chain(ps, parse_cmp_and, "OR", VG_INTEL_PATTERN_CMP_OR);
}

/* ---------------------------------------------------------------- observations */

static node_t *parse_obs_fby(struct parser *ps);

/* '[' comparison ']' | '(' observations ')' */
static node_t *parse_obs_primary(struct parser *ps)
{
    size_t col = ps->tok.start;
    node_t *nd = NULL, *inner = NULL;
    if (ps->tok.kind == T_LBRACK) {
        if (!(nd = node_new(ps, VG_INTEL_PATTERN_OBSERVATION, col)) || enter(ps) != 0 ||
            !(inner = parse_cmp_or(ps))) {
            return NULL;
        }
        if (ps->tok.kind != T_RBRACK) {
            expected(ps, "']' after comparison");
            return NULL;
        }
        nd->kids = vg_arena_alloc(ps->arena, sizeof *nd->kids);
        if (!nd->kids) {
            fail_at(ps, VG_ENOMEM, col, "out of memory");
            return NULL;
        }
        nd->kids[0] = inner;
        nd->nkids = 1;
    } else if (ps->tok.kind == T_LPAREN) {
        if (enter(ps) != 0 || !(nd = parse_obs_fby(ps))) {
            return NULL;
        }
        if (ps->tok.kind != T_RPAREN) {
            expected(ps, "')' after observation expression");
            return NULL;
        }
    } else {
        expected(ps, "'[' or '(' to start an observation");
        return NULL;
    }
    ps->depth--;
    return lex_next(ps) == 0 ? nd : NULL;
}

/* A positive number then a keyword: WITHIN n SECONDS, REPEATS n TIMES. */
static int qual_number(struct parser *ps, node_t *q, const char *unit)
{
    char what[64];
    const char *kw = q->kind == VG_INTEL_PATTERN_OBS_WITHIN ? "WITHIN" : "REPEATS";
    struct vg_intel_pattern_value v;
    bool isint = ps->tok.kind == T_INT;
    if (!isint && !(ps->tok.kind == T_FLOAT && q->kind == VG_INTEL_PATTERN_OBS_WITHIN)) {
        return expected(ps, q->kind == VG_INTEL_PATTERN_OBS_WITHIN
                                ? "positive number after WITHIN"
                                : "positive integer after REPEATS");
    }
    size_t col = ps->tok.start;
    if (parse_scalar(ps, &v) != 0) {
        return ps->rc;
    }
    if (v.d <= 0) {
        return fail_at(ps, VG_EINVAL, col, "%s needs a positive number, found '%s'", kw, v.raw);
    }
    q->within = v.d;
    q->within_s = v.raw;
    q->repeats = v.i;
    if (!tok_is(ps, unit)) {
        snprintf(what, sizeof what, "%s after %s %s", unit, kw, v.raw);
        return expected(ps, what);
    }
    return lex_next(ps);
}

static int qual_startstop(struct parser *ps, node_t *q)
{
    struct vg_intel_pattern_value a, b;
    if (ps->tok.kind != T_TIME) {
        return expected(ps, "timestamp t'...' after START");
    }
    if (parse_scalar(ps, &a) != 0) {
        return ps->rc;
    }
    if (!tok_is(ps, "STOP")) {
        return expected(ps, "STOP after START timestamp");
    }
    if (lex_next(ps) != 0) {
        return ps->rc;
    }
    if (ps->tok.kind != T_TIME) {
        return expected(ps, "timestamp t'...' after STOP");
    }
    size_t col = ps->tok.start;
    if (parse_scalar(ps, &b) != 0) {
        return ps->rc;
    }
    if (b.t <= a.t) {
        return fail_at(ps, VG_EINVAL, col, "STOP must be later than START");
    }
    q->start = a.t;
    q->stop = b.t;
    q->start_s = a.s;
    q->stop_s = b.s;
    return 0;
}

/* primary qualifier*, each qualifier wrapping what precedes it. */
static node_t *parse_obs_qualified(struct parser *ps)
{
    node_t *nd = parse_obs_primary(ps);
    for (int nq = 0; nd; nq++) {
        enum vg_intel_pattern_kind k;
        if (tok_is(ps, "WITHIN")) {
            k = VG_INTEL_PATTERN_OBS_WITHIN;
        } else if (tok_is(ps, "REPEATS")) {
            k = VG_INTEL_PATTERN_OBS_REPEATS;
        } else if (tok_is(ps, "START")) {
            k = VG_INTEL_PATTERN_OBS_STARTSTOP;
        } else {
            break;
        }
        if (nq == MAX_QUALIFIERS) {
            fail_at(ps, VG_ELIMIT, ps->tok.start, "more than %d qualifiers", MAX_QUALIFIERS);
            return NULL;
        }
        node_t *q = node_new(ps, k, ps->tok.start);
        node_t **kids = vg_arena_alloc(ps->arena, sizeof *kids);
        if (!q || !kids || lex_next(ps) != 0) {
            fail_at(ps, VG_ENOMEM, ps->pos, "out of memory");
            return NULL;
        }
        kids[0] = nd;
        q->kids = kids;
        q->nkids = 1;
        int rc = k == VG_INTEL_PATTERN_OBS_WITHIN    ? qual_number(ps, q, "SECONDS")
                 : k == VG_INTEL_PATTERN_OBS_REPEATS ? qual_number(ps, q, "TIMES")
                                                     : qual_startstop(ps, q);
        nd = rc == 0 ? q : NULL;
    }
    return nd;
}

static node_t *parse_obs_and(struct parser *ps)
{
    return parse_chain(ps, parse_obs_qualified, "AND", VG_INTEL_PATTERN_OBS_AND);
}

static node_t *parse_obs_or(struct parser *ps)
{
    return parse_chain(ps, parse_obs_and, "OR", VG_INTEL_PATTERN_OBS_OR);
}

static node_t *parse_obs_fby(struct parser *ps)
{
    return parse_chain(ps, parse_obs_or, "FOLLOWEDBY", VG_INTEL_PATTERN_OBS_FOLLOWEDBY);
}

/* ---------------------------------------------------------------- public: parse */

int vg_intel_pattern_parse(const char *text, size_t len, const struct vg_intel_pattern_limits *lim,
                           struct vg_intel_pattern **out, char *err, size_t errsz)
{
    struct parser ps;
    struct vg_intel_pattern *p = NULL;
    size_t max_len = lim && lim->max_len ? lim->max_len : VG_INTEL_PATTERN_MAX_LEN;
    memset(&ps, 0, sizeof ps);
    ps.s = text;
    ps.n = len;
    ps.err = err;
    ps.errsz = errsz;
    ps.max_depth = lim && lim->max_depth ? lim->max_depth : VG_INTEL_PATTERN_MAX_DEPTH;
    *out = NULL;
    if (err && errsz) {
        err[0] = '\0';
    }
    if (len > max_len) {
        fail_at(&ps, VG_ELIMIT, max_len, "pattern longer than %zu bytes", max_len);
        goto fail;
    }
    p = vg_calloc(1, sizeof *p);
    ps.arena = p ? vg_arena_create(len * 2 + 1024) : NULL;
    if (!ps.arena) {
        fail_at(&ps, VG_ENOMEM, 0, "out of memory");
        goto fail;
    }
    p->arena = ps.arena;
    if (lex_next(&ps) != 0 || !(p->root = parse_obs_fby(&ps))) {
        goto fail;
    }
    if (ps.tok.kind != T_EOF) {
        expected(&ps, "AND, OR, FOLLOWEDBY, a qualifier or end of pattern");
        goto fail;
    }
    p->nnodes = ps.nnodes;
    *out = p;
    return 0;
fail:
    if (ps.rc == 0) {
        fail_at(&ps, VG_EINVAL, ps.tok.start, "syntax error");
    }
    vg_intel_pattern_destroy(p);
    return ps.rc;
}

void vg_intel_pattern_destroy(struct vg_intel_pattern *p)
{
    if (!p) {
        return;
    }
    vg_arena_destroy(p->arena);
    vg_free(p);
}

/* ---------------------------------------------------------------- printing */

static void fmt_quoted(struct vg_sbuf *sb, const char *s)
{
    vg_sbuf_addc(sb, '\'');
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\') {
            vg_sbuf_addc(sb, '\\');
        }
        vg_sbuf_addc(sb, *s);
    }
    vg_sbuf_addc(sb, '\'');
}

static void fmt_path(struct vg_sbuf *sb, const struct vg_intel_pattern_path *path)
{
    vg_sbuf_adds(sb, path->type);
    vg_sbuf_addc(sb, ':');
    for (size_t i = 0; i < path->nsteps; i++) {
        const struct vg_intel_pattern_step *st = &path->steps[i];
        if (st->kind == VG_INTEL_PATTERN_STEP_ANY) {
            vg_sbuf_adds(sb, "[*]");
        } else if (st->kind == VG_INTEL_PATTERN_STEP_INDEX) {
            vg_sbuf_printf(sb, "[%lld]", (long long)st->index);
        } else {
            if (i > 0) {
                vg_sbuf_addc(sb, '.');
            }
            if (st->quoted) {
                fmt_quoted(sb, st->key);
            } else {
                vg_sbuf_adds(sb, st->key);
            }
        }
    }
}

static void fmt_node(struct vg_sbuf *sb, const node_t *nd);

static bool is_chain(const node_t *nd)
{
    return nd->kind <= VG_INTEL_PATTERN_OBS_AND || nd->kind == VG_INTEL_PATTERN_CMP_OR ||
           nd->kind == VG_INTEL_PATTERN_CMP_AND;
}

/* Parenthesise nested chains, and a qualified observation under another qualifier (so the
 * canonical form never stacks more qualifiers on one primary than the input did). */
static void fmt_kid(struct vg_sbuf *sb, const node_t *kid, bool under_qualifier)
{
    bool paren = is_chain(kid) || (under_qualifier && kid->kind >= VG_INTEL_PATTERN_OBS_WITHIN &&
                                   kid->kind <= VG_INTEL_PATTERN_OBS_STARTSTOP);
    if (paren) {
        vg_sbuf_addc(sb, '(');
    }
    fmt_node(sb, kid);
    if (paren) {
        vg_sbuf_addc(sb, ')');
    }
}

static void fmt_test(struct vg_sbuf *sb, const node_t *nd)
{
    if (nd->op == VG_INTEL_PATTERN_EXISTS) {
        vg_sbuf_adds(sb, "EXISTS ");
        fmt_path(sb, &nd->path);
        return;
    }
    fmt_path(sb, &nd->path);
    vg_sbuf_printf(sb, "%s %s ", nd->negated ? " NOT" : "", op_names[nd->op]);
    vg_sbuf_add(sb, nd->value.raw, nd->value.rawlen);
}

static void fmt_node(struct vg_sbuf *sb, const node_t *nd)
{
    static const char *const joins[] = {" FOLLOWEDBY ", " OR ", " AND "};
    switch (nd->kind) {
    case VG_INTEL_PATTERN_OBS_FOLLOWEDBY:
    case VG_INTEL_PATTERN_OBS_OR:
    case VG_INTEL_PATTERN_OBS_AND:
    case VG_INTEL_PATTERN_CMP_OR:
    case VG_INTEL_PATTERN_CMP_AND:
        for (size_t i = 0; i < nd->nkids; i++) {
            if (i > 0) {
                vg_sbuf_adds(sb, nd->kind == VG_INTEL_PATTERN_CMP_OR    ? " OR "
                                 : nd->kind == VG_INTEL_PATTERN_CMP_AND ? " AND "
                                                                        : joins[nd->kind]);
            }
            fmt_kid(sb, nd->kids[i], false);
        }
        break;
    case VG_INTEL_PATTERN_OBSERVATION:
        vg_sbuf_addc(sb, '[');
        fmt_node(sb, nd->kids[0]);
        vg_sbuf_addc(sb, ']');
        break;
    case VG_INTEL_PATTERN_OBS_WITHIN:
    case VG_INTEL_PATTERN_OBS_REPEATS:
    case VG_INTEL_PATTERN_OBS_STARTSTOP:
        fmt_kid(sb, nd->kids[0], true);
        if (nd->kind == VG_INTEL_PATTERN_OBS_WITHIN) {
            vg_sbuf_printf(sb, " WITHIN %s SECONDS", nd->within_s);
        } else if (nd->kind == VG_INTEL_PATTERN_OBS_REPEATS) {
            vg_sbuf_printf(sb, " REPEATS %lld TIMES", (long long)nd->repeats);
        } else {
            vg_sbuf_printf(sb, " START t'%s' STOP t'%s'", nd->start_s, nd->stop_s);
        }
        break;
    case VG_INTEL_PATTERN_CMP_TEST:
        fmt_test(sb, nd);
        break;
    }
}

int vg_intel_pattern_format(const struct vg_intel_pattern *p, struct vg_sbuf *sb)
{
    fmt_node(sb, p->root);
    return sb->err;
}

/* ---------------------------------------------------------------- simple indicators */

static const char *const ioc_names[VG_INTEL_IOC_COUNT_] = {
    "ipv4",   "ipv6", "domain",    "url",         "email", "md5",      "sha1",  "sha256",
    "sha512", "ja3",  "x509-sha1", "x509-sha256", "mac",   "filename", "regkey"};

const char *vg_intel_ioc_type_name(enum vg_intel_ioc_type t)
{
    return (unsigned)t < VG_INTEL_IOC_COUNT_ ? ioc_names[t] : "?";
}

static bool key_is(const struct vg_intel_pattern_path *p, size_t i, const char *k)
{
    return i < p->nsteps && p->steps[i].kind == VG_INTEL_PATTERN_STEP_KEY &&
           strcmp(p->steps[i].key, k) == 0;
}

/* hashes.'<name>' → md5/sha1/sha256/sha512/ja3 (-1 if unknown); names as in the STIX
 * hash-algorithm vocabulary, case-insensitive, with or without the dash. */
static int hash_type(const struct vg_intel_pattern_path *p)
{
    static const struct {
        const char *name;
        enum vg_intel_ioc_type t;
    } h[] = {{"MD5", VG_INTEL_IOC_MD5},       {"SHA-1", VG_INTEL_IOC_SHA1},
             {"SHA1", VG_INTEL_IOC_SHA1},     {"SHA-256", VG_INTEL_IOC_SHA256},
             {"SHA256", VG_INTEL_IOC_SHA256}, {"SHA-512", VG_INTEL_IOC_SHA512},
             {"SHA512", VG_INTEL_IOC_SHA512}, {"JA3", VG_INTEL_IOC_JA3}};
    if (p->nsteps != 2 || !key_is(p, 0, "hashes") ||
        p->steps[1].kind != VG_INTEL_PATTERN_STEP_KEY) {
        return -1;
    }
    const char *k = p->steps[1].key;
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        if (vg_str_ieq_ascii(k, strlen(k), h[i].name, strlen(h[i].name))) {
            return (int)h[i].t;
        }
    }
    return -1;
}

static int map_ref_value(const struct vg_intel_pattern_path *p, const char *value)
{
    const char *t = p->type;
    if (p->nsteps != 2 || !key_is(p, 1, "value")) {
        return -1;
    }
    if (strcmp(t, "network-traffic") == 0 && (key_is(p, 0, "dst_ref") || key_is(p, 0, "src_ref"))) {
        return strchr(value, ':') ? VG_INTEL_IOC_IPV6 : VG_INTEL_IOC_IPV4;
    }
    if (strcmp(t, "email-message") == 0 &&
        (key_is(p, 0, "from_ref") || key_is(p, 0, "sender_ref"))) {
        return VG_INTEL_IOC_EMAIL;
    }
    return -1;
}

/* Object path → simple indicator type, or -1. */
static int map_path(const struct vg_intel_pattern_path *p, const char *value)
{
    static const struct {
        const char *type, *prop;
        enum vg_intel_ioc_type t;
    } one[] = {
        {"ipv4-addr", "value", VG_INTEL_IOC_IPV4},
        {"ipv6-addr", "value", VG_INTEL_IOC_IPV6},
        {"domain-name", "value", VG_INTEL_IOC_DOMAIN},
        {"url", "value", VG_INTEL_IOC_URL},
        {"email-addr", "value", VG_INTEL_IOC_EMAIL},
        {"mac-addr", "value", VG_INTEL_IOC_MAC},
        {"file", "name", VG_INTEL_IOC_FILENAME},
        {"windows-registry-key", "key", VG_INTEL_IOC_REGKEY},
        {"win-registry-key", "key", VG_INTEL_IOC_REGKEY},
    };
    int h = hash_type(p);
    if (h >= 0) {
        if (strcmp(p->type, "x509-certificate") == 0) {
            return h == VG_INTEL_IOC_SHA1     ? VG_INTEL_IOC_X509_SHA1
                   : h == VG_INTEL_IOC_SHA256 ? VG_INTEL_IOC_X509_SHA256
                                              : -1;
        }
        return h;
    }
    for (size_t i = 0; p->nsteps == 1 && i < sizeof one / sizeof one[0]; i++) {
        if (strcmp(p->type, one[i].type) == 0 && key_is(p, 0, one[i].prop)) {
            return (int)one[i].t;
        }
    }
    return map_ref_value(p, value);
}

struct collect {
    struct vg_intel_ioc *iocs;
    size_t cap, n;
    const char *reason;
};

static const char *const op_reasons[] = {
    "comparison operator =",        "comparison operator !=",         "comparison operator >",
    "comparison operator <",        "comparison operator >=",         "comparison operator <=",
    "comparison operator IN",       "comparison operator LIKE",       "comparison operator MATCHES",
    "comparison operator ISSUBSET", "comparison operator ISSUPERSET", "comparison operator EXISTS"};

static void collect_one(struct collect *c, int t, const char *v, size_t len)
{
    if (c->n < c->cap) {
        c->iocs[c->n].type = (enum vg_intel_ioc_type)t;
        c->iocs[c->n].value = v;
        c->iocs[c->n].len = len;
    }
    c->n++;
}

/* `path IN ('a', 'b')`: each string of the set on its own, as if joined by OR. */
static bool collect_in(struct collect *c, const node_t *nd)
{
    const struct vg_intel_pattern_value *set = &nd->value;
    for (size_t i = 0; i < set->nitems; i++) {
        int t;
        if (set->items[i].kind != VG_INTEL_PATTERN_LIT_STRING) {
            c->reason = "comparison with a non-string value";
            return false;
        }
        if ((t = map_path(&nd->path, set->items[i].s)) < 0) {
            c->reason = "object path with no simple indicator type";
            return false;
        }
        collect_one(c, t, set->items[i].s, set->items[i].len);
    }
    return true;
}

/*
 * `domain-name:value LIKE '%.example.com'`: the domain and its subdomains, given to the sets
 * as ".example.com" (the subdomain flag). Any other LIKE is not a simple indicator.
 */
static bool collect_like(struct collect *c, const node_t *nd)
{
    const char *v = nd->value.s;
    size_t n = nd->value.len;
    if (nd->value.kind == VG_INTEL_PATTERN_LIT_STRING && n > 2 && v[0] == '%' && v[1] == '.' &&
        !memchr(v + 1, '%', n - 1) && !memchr(v + 1, '_', n - 1) &&
        map_path(&nd->path, v) == VG_INTEL_IOC_DOMAIN) {
        collect_one(c, VG_INTEL_IOC_DOMAIN, v + 1, n - 1);
        return true;
    }
    c->reason = op_reasons[nd->op];
    return false;
}

static bool collect_test(struct collect *c, const node_t *nd)
{
    int t;
    if (nd->negated) {
        c->reason = "negated comparison (NOT)";
    } else if (nd->op == VG_INTEL_PATTERN_IN && nd->value.kind == VG_INTEL_PATTERN_LIT_SET) {
        return collect_in(c, nd);
    } else if (nd->op == VG_INTEL_PATTERN_LIKE) {
        return collect_like(c, nd);
    } else if (nd->op != VG_INTEL_PATTERN_EQ) {
        c->reason = op_reasons[nd->op];
    } else if (nd->value.kind != VG_INTEL_PATTERN_LIT_STRING) {
        c->reason = "comparison with a non-string value";
    } else if ((t = map_path(&nd->path, nd->value.s)) < 0) {
        c->reason = "object path with no simple indicator type";
    } else {
        collect_one(c, t, nd->value.s, nd->value.len);
        return true;
    }
    return false;
}

static bool collect_node(struct collect *c, const node_t *nd)
{
    switch (nd->kind) {
    case VG_INTEL_PATTERN_OBS_FOLLOWEDBY:
        c->reason = "observations joined by FOLLOWEDBY";
        return false;
    case VG_INTEL_PATTERN_OBS_AND:
        c->reason = "observations joined by AND";
        return false;
    case VG_INTEL_PATTERN_OBS_WITHIN:
        c->reason = "qualifier WITHIN";
        return false;
    case VG_INTEL_PATTERN_OBS_REPEATS:
        c->reason = "qualifier REPEATS";
        return false;
    case VG_INTEL_PATTERN_OBS_STARTSTOP:
        c->reason = "qualifier START/STOP";
        return false;
    case VG_INTEL_PATTERN_CMP_AND:
        c->reason = "comparisons joined by AND";
        return false;
    case VG_INTEL_PATTERN_CMP_TEST:
        return collect_test(c, nd);
    default: /* OBS_OR, OBSERVATION, CMP_OR: every operand matches on its own */
        for (size_t i = 0; i < nd->nkids; i++) {
            if (!collect_node(c, nd->kids[i])) {
                return false;
            }
        }
        return true;
    }
}

int vg_intel_pattern_simple(const struct vg_intel_pattern *p, struct vg_intel_ioc *iocs, size_t cap,
                            size_t *n, const char **reason)
{
    struct collect c = {iocs, iocs ? cap : 0, 0, NULL};
    *n = 0;
    *reason = NULL;
    if (!collect_node(&c, p->root)) {
        *reason = c.reason;
        return VG_DECLINED;
    }
    *n = c.n;
    return c.n > c.cap ? VG_ELIMIT : 0;
}
