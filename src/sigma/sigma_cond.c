/*
 * sigma_cond.c — the Sigma condition language → a boolean tree over selection indexes.
 *
 *   expr    := and ( "or" and )*
 *   and     := not ( "and" not )*
 *   not     := "not" not | primary
 *   primary := "(" expr ")" | quant | IDENT
 *   quant   := ("1" | "any" | "all") "of" ( PATTERN | "them" )
 *
 * Precedence from loosest to tightest: or, and, not, x of, brackets (spec §Condition).
 * `them` covers identifiers not starting with '_'; patterns use '*' wildcards. Legacy pipe
 * aggregations (`| count() > 5`, `near`) are reported as unsupported: Sigma 2 replaced
 * them with correlation rules. Errors name the 1-based column of the offending token.
 */
#include "sigma/sigma.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#define COND_MAX_DEPTH 64

struct tok {
    const char *s;
    size_t n;
    size_t col;
};

struct cparse {
    struct vg_arena *a;
    const char *const *names;
    uint32_t nnames;
    struct tok *toks;
    size_t ntoks, pos;
    char *err;
    size_t errsz;
    int rc;
};

static bool tok_is(const struct tok *t, const char *w)
{
    return t && t->n == strlen(w) && strncasecmp(t->s, w, t->n) == 0;
}

static struct tok *peek(struct cparse *p)
{
    return p->pos < p->ntoks ? &p->toks[p->pos] : NULL;
}

static void *perr(struct cparse *p, int rc, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void *perr(struct cparse *p, int rc, size_t col, const char *fmt, ...)
{
    if (p->rc == VG_OK) {
        p->rc = rc;
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(p->err, p->errsz, "condition column %zu: %s", col, msg);
    }
    return NULL;
}

static struct vg_sigma_cond *node(struct cparse *p, uint8_t op, uint32_t n)
{
    struct vg_sigma_cond *c = vg_arena_calloc(p->a, sizeof(*c));
    if (!c) {
        p->rc = VG_ENOMEM;
        return NULL;
    }
    c->op = op;
    c->n = n;
    if (n) {
        c->kids = vg_arena_calloc(p->a, n * sizeof(*c->kids));
        if (!c->kids) {
            p->rc = VG_ENOMEM;
            return NULL;
        }
    }
    return c;
}

static struct vg_sigma_cond *parse_or(struct cparse *p, int depth);

static struct vg_sigma_cond *sel_node(struct cparse *p, uint32_t idx)
{
    struct vg_sigma_cond *c = node(p, VG_SC_SEL, 0);
    if (c) {
        c->sel = idx;
    }
    return c;
}

static struct vg_sigma_cond *parse_quant(struct cparse *p, bool all)
{
    struct tok *of = &p->toks[p->pos - 1];
    struct tok *t = peek(p);
    if (!t) {
        return perr(p, VG_EINVAL, of->col + of->n, "'%.*s' needs a pattern or 'them'", (int)2,
                    "of");
    }
    p->pos++;
    bool them = tok_is(t, "them");
    uint32_t hits = 0;
    uint32_t *idx = vg_arena_alloc(p->a, (p->nnames ? p->nnames : 1) * sizeof(*idx));
    if (!idx) {
        p->rc = VG_ENOMEM;
        return NULL;
    }
    for (uint32_t i = 0; i < p->nnames; i++) {
        const char *nm = p->names[i];
        bool m = them ? nm[0] != '_' : vg_glob_match(t->s, t->n, nm, strlen(nm));
        if (m) {
            idx[hits++] = i;
        }
    }
    if (!hits) {
        return perr(p, VG_EINVAL, t->col, "'%.*s' matches no search identifier", (int)t->n, t->s);
    }
    if (hits == 1) {
        return sel_node(p, idx[0]);
    }
    struct vg_sigma_cond *c = node(p, all ? VG_SC_AND : VG_SC_OR, hits);
    for (uint32_t i = 0; c && i < hits; i++) {
        if (!(c->kids[i] = sel_node(p, idx[i]))) {
            return NULL;
        }
    }
    return c;
}

static struct vg_sigma_cond *parse_primary(struct cparse *p, int depth)
{
    struct tok *t = peek(p);
    if (!t) {
        size_t col = p->ntoks ? p->toks[p->ntoks - 1].col + p->toks[p->ntoks - 1].n : 1;
        return perr(p, VG_EINVAL, col, "unexpected end of condition%.*s", (int)0, "");
    }
    if (depth > COND_MAX_DEPTH) {
        return perr(p, VG_ELIMIT, t->col, "condition nested too deeply%.*s", (int)0, "");
    }
    p->pos++;
    if (t->n == 1 && t->s[0] == '(') {
        struct vg_sigma_cond *c = parse_or(p, depth + 1);
        if (!c) {
            return NULL;
        }
        struct tok *r = peek(p);
        if (!r || !(r->n == 1 && r->s[0] == ')')) {
            return perr(p, VG_EINVAL, r ? r->col : t->col, "missing ')' to close '(' at column %zu",
                        t->col);
        }
        p->pos++;
        return c;
    }
    if (t->n == 1 && t->s[0] == ')') {
        return perr(p, VG_EINVAL, t->col, "unexpected '%.*s'", (int)t->n, t->s);
    }
    if (t->n == 1 && t->s[0] == '|') {
        return perr(p, VG_EUNSUPPORTED, t->col,
                    "legacy aggregation '%.*s ...' is not part of Sigma 2: use a correlation rule",
                    (int)t->n, t->s);
    }
    struct tok *nx = peek(p);
    if ((tok_is(t, "1") || tok_is(t, "any") || tok_is(t, "all")) && tok_is(nx, "of")) {
        p->pos++;
        return parse_quant(p, tok_is(t, "all"));
    }
    if (tok_is(t, "and") || tok_is(t, "or") || tok_is(t, "of")) {
        return perr(p, VG_EINVAL, t->col, "operator '%.*s' without a left operand", (int)t->n,
                    t->s);
    }
    if (tok_is(t, "near")) {
        return perr(p, VG_EUNSUPPORTED, t->col,
                    "'%.*s' is not part of Sigma 2: use a temporal correlation rule", (int)t->n,
                    t->s);
    }
    for (uint32_t i = 0; i < p->nnames; i++) {
        if (strlen(p->names[i]) == t->n && memcmp(p->names[i], t->s, t->n) == 0) {
            return sel_node(p, i);
        }
    }
    return perr(p, VG_EINVAL, t->col, "unknown search identifier '%.*s'", (int)t->n, t->s);
}

static struct vg_sigma_cond *parse_not(struct cparse *p, int depth)
{
    struct tok *t = peek(p);
    if (tok_is(t, "not")) {
        p->pos++;
        if (depth > COND_MAX_DEPTH) {
            return perr(p, VG_ELIMIT, t->col, "condition nested too deeply%.*s", (int)0, "");
        }
        struct vg_sigma_cond *k = parse_not(p, depth + 1);
        if (!k) {
            return NULL;
        }
        struct vg_sigma_cond *c = node(p, VG_SC_NOT, 1);
        if (c) {
            c->kids[0] = k;
        }
        return c;
    }
    return parse_primary(p, depth);
}

/* Parse op-separated operands into one n-ary node. */
static struct vg_sigma_cond *parse_nary(struct cparse *p, int depth, const char *word, uint8_t op)
{
    struct vg_sigma_cond *buf[256];
    uint32_t n = 0;
    for (;;) {
        struct vg_sigma_cond *k =
            op == VG_SC_OR ? parse_nary(p, depth, "and", VG_SC_AND) : parse_not(p, depth);
        if (!k) {
            return NULL;
        }
        if (n == VG_ARRAY_LEN(buf)) {
            return perr(p, VG_ELIMIT, peek(p) ? peek(p)->col : 1, "too many operands%.*s", (int)0,
                        "");
        }
        buf[n++] = k;
        if (!tok_is(peek(p), word)) {
            break;
        }
        p->pos++;
    }
    if (n == 1) {
        return buf[0];
    }
    struct vg_sigma_cond *c = node(p, op, n);
    if (c) {
        memcpy(c->kids, buf, n * sizeof(*buf));
    }
    return c;
}

static struct vg_sigma_cond *parse_or(struct cparse *p, int depth)
{
    return parse_nary(p, depth, "or", VG_SC_OR);
}

static int tokenize(struct cparse *p, const char *s, size_t n)
{
    size_t cap = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        size_t st = i;
        if (c == '(' || c == ')' || c == '|') {
            i++;
        } else {
            while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' &&
                   s[i] != '(' && s[i] != ')' && s[i] != '|') {
                i++;
            }
        }
        if (vg_grow(&p->toks, &cap, p->ntoks + 1, sizeof(*p->toks)) != VG_OK) {
            return VG_ENOMEM;
        }
        p->toks[p->ntoks].s = s + st;
        p->toks[p->ntoks].n = i - st;
        p->toks[p->ntoks].col = st + 1;
        p->ntoks++;
    }
    return VG_OK;
}

int vg_sigma_cond_parse(struct vg_arena *a, const char *text, size_t len, const char *const *names,
                        uint32_t nnames, struct vg_sigma_cond **out, char *err, size_t errsz)
{
    struct cparse p = {.a = a, .names = names, .nnames = nnames, .err = err, .errsz = errsz};
    int rc = tokenize(&p, text, len);
    if (rc != VG_OK) {
        vg_free(p.toks);
        return rc;
    }
    if (p.ntoks == 0) {
        vg_free(p.toks);
        snprintf(err, errsz, "condition is empty");
        return VG_EINVAL;
    }
    struct vg_sigma_cond *c = parse_or(&p, 0);
    if (c && p.pos < p.ntoks) {
        struct tok *t = &p.toks[p.pos];
        if (t->n == 1 && t->s[0] == '|') {
            perr(&p, VG_EUNSUPPORTED, t->col,
                 "legacy aggregation '%.*s ...' is not part of Sigma 2: use a correlation rule",
                 (int)t->n, t->s);
        } else if (t->n == 1 && t->s[0] == ')') {
            perr(&p, VG_EINVAL, t->col, "unbalanced '%.*s'", (int)t->n, t->s);
        } else {
            perr(&p, VG_EINVAL, t->col, "expected 'and' or 'or' before '%.*s'", (int)t->n, t->s);
        }
        c = NULL;
    }
    vg_free(p.toks);
    if (!c) {
        return p.rc ? p.rc : VG_EINVAL;
    }
    *out = c;
    return VG_OK;
}
