/*
 * sigma_value.c — detection items: `field|modifier|...: value(s)` → compiled values.
 *
 * A raw value becomes a Sigma string (literal runs and wildcards, after the spec's escape
 * rules), goes through the transformation modifiers in the order written (expand, windash,
 * utf16le/utf16be/utf16/wide, base64, base64offset, contains/startswith/endswith), and is
 * finally classified into the cheapest matcher (equality, prefix, suffix, substring, glob)
 * with its literal case-folded unless `cased`. Type modifiers (re, cidr, lt/lte/gt/gte,
 * time parts, exists, fieldref, neq) compile to their own matchers. Every problem is
 * reported with the line of the value.
 */
#include "sigma/sigma_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <pcre2.h>
#include <string.h>

#define WINDASH_MAX_POSITIONS 5
#define MAX_VALUES_PER_ITEM   100000

enum mod {
    M_CONTAINS = 0,
    M_STARTSWITH,
    M_ENDSWITH,
    M_ALL,
    M_BASE64,
    M_BASE64OFFSET,
    M_UTF16LE,
    M_UTF16BE,
    M_UTF16,
    M_WIDE,
    M_WINDASH,
    M_RE,
    M_RE_I,
    M_RE_M,
    M_RE_S,
    M_CIDR,
    M_LT,
    M_LTE,
    M_GT,
    M_GTE,
    M_NEQ,
    M_EXISTS,
    M_CASED,
    M_FIELDREF,
    M_EXPAND,
    M_MINUTE,
    M_HOUR,
    M_DAY,
    M_WEEK,
    M_MONTH,
    M_YEAR,
    M__COUNT,
};

static const char *const mod_names[M__COUNT] = {
    "contains", "startswith", "endswith", "all",    "base64",  "base64offset",
    "utf16le",  "utf16be",    "utf16",    "wide",   "windash", "re",
    "i",        "m",          "s",        "cidr",   "lt",      "lte",
    "gt",       "gte",        "neq",      "exists", "cased",   "fieldref",
    "expand",   "minute",     "hour",     "day",    "week",    "month",
    "year",
};

/* ---------------------------------------------------------------- Sigma strings */

int slist_push(struct vg_arena *a, struct slist *l, const struct sstr *s)
{
    if (l->n == l->cap) {
        uint32_t ncap = l->cap ? l->cap * 2 : 4;
        struct sstr *nv = vg_arena_alloc(a, ncap * sizeof(*nv));
        if (!nv) {
            return VG_ENOMEM;
        }
        if (l->n) {
            memcpy(nv, l->v, l->n * sizeof(*nv));
        }
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = *s;
    return VG_OK;
}

/* Append a part to a string being built (parts array grows in the arena). */
static int sstr_add(struct vg_arena *a, struct sstr *s, uint32_t *cap, uint8_t kind, const char *p,
                    size_t n)
{
    if (kind == SP_LIT && s->n && s->p[s->n - 1].kind == SP_LIT) {
        struct spart *last = &s->p[s->n - 1];
        char *m = vg_arena_alloc(a, last->n + n + 1);
        if (!m) {
            return VG_ENOMEM;
        }
        memcpy(m, last->s, last->n);
        memcpy(m + last->n, p, n);
        m[last->n + n] = '\0';
        last->s = m;
        last->n += (uint32_t)n;
        return VG_OK;
    }
    if (kind == SP_STAR && s->n && s->p[s->n - 1].kind == SP_STAR) {
        return VG_OK; /* ** == * */
    }
    if (s->n == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 4;
        struct spart *np = vg_arena_alloc(a, ncap * sizeof(*np));
        if (!np) {
            return VG_ENOMEM;
        }
        if (s->n) {
            memcpy(np, s->p, s->n * sizeof(*np));
        }
        s->p = np;
        *cap = ncap;
    }
    struct spart *sp = &s->p[s->n++];
    sp->kind = kind;
    sp->n = (uint32_t)n;
    sp->s = n || kind == SP_LIT || kind == SP_PH ? vg_arena_strndup(a, p ? p : "", n) : NULL;
    if ((kind == SP_LIT || kind == SP_PH) && !sp->s) {
        return VG_ENOMEM;
    }
    return VG_OK;
}

/*
 * Plain value → Sigma string: `*` and `?` are wildcards; a backslash escapes `*`, `?` and
 * itself, and is literal before anything else (spec §Escape Character). With expand,
 * `%name%` is a placeholder and `\%` a literal percent sign.
 */
int sstr_parse_plain(struct vg_arena *a, const char *s, size_t n, bool expand, struct sstr *out)
{
    struct sstr r = {0};
    uint32_t cap = 0;
    char *lit = vg_arena_alloc(a, n + 1);
    size_t ln = 0;
    int rc = VG_OK;
    if (!lit) {
        return VG_ENOMEM;
    }
#define FLUSH()                                                                                    \
    do {                                                                                           \
        if (ln && (rc = sstr_add(a, &r, &cap, SP_LIT, lit, ln)) != VG_OK) {                        \
            return rc;                                                                             \
        }                                                                                          \
        ln = 0;                                                                                    \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\\' && i + 1 < n &&
            (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\' ||
             (expand && s[i + 1] == '%'))) {
            lit[ln++] = s[++i];
        } else if (ch == '*' || ch == '?') {
            FLUSH();
            if ((rc = sstr_add(a, &r, &cap, ch == '*' ? SP_STAR : SP_ONE, NULL, 0)) != VG_OK) {
                return rc;
            }
        } else if (expand && ch == '%') {
            const char *end = memchr(s + i + 1, '%', n - i - 1);
            if (!end || end == s + i + 1) {
                lit[ln++] = ch;
                continue;
            }
            FLUSH();
            size_t pl = (size_t)(end - (s + i + 1));
            if ((rc = sstr_add(a, &r, &cap, SP_PH, s + i + 1, pl)) != VG_OK) {
                return rc;
            }
            i += pl + 1;
        } else {
            lit[ln++] = ch;
        }
    }
    FLUSH();
#undef FLUSH
    *out = r;
    return VG_OK;
}

static bool sstr_has_wild(const struct sstr *s)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->p[i].kind != SP_LIT) {
            return true;
        }
    }
    return false;
}

/* Concatenate all literal bytes of a wildcard-free string. */
static char *sstr_flat(struct vg_arena *a, const struct sstr *s, size_t *n)
{
    size_t total = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        total += s->p[i].n;
    }
    char *d = vg_arena_alloc(a, total + 1);
    if (!d) {
        return NULL;
    }
    size_t o = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        memcpy(d + o, s->p[i].s, s->p[i].n);
        o += s->p[i].n;
    }
    d[o] = '\0';
    *n = o;
    return d;
}

static int sstr_copy_parts(struct vg_arena *a, const struct sstr *in, struct sstr *out,
                           uint32_t *cap, uint32_t from, uint32_t to)
{
    for (uint32_t i = from; i < to; i++) {
        int rc = sstr_add(a, out, cap, in->p[i].kind, in->p[i].s, in->p[i].n);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- transformations */

static int t_wrap(struct vg_arena *a, const struct sstr *in, bool front, bool back,
                  struct slist *out)
{
    struct sstr r = {0};
    uint32_t cap = 0;
    int rc = VG_OK;
    if (front && (in->n == 0 || in->p[0].kind != SP_STAR)) {
        rc = sstr_add(a, &r, &cap, SP_STAR, NULL, 0);
    }
    if (rc == VG_OK) {
        rc = sstr_copy_parts(a, in, &r, &cap, 0, in->n);
    }
    if (rc == VG_OK && back && (r.n == 0 || r.p[r.n - 1].kind != SP_STAR)) {
        rc = sstr_add(a, &r, &cap, SP_STAR, NULL, 0);
    }
    return rc != VG_OK ? rc : slist_push(a, out, &r);
}

static bool is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || c == '_' || c >= 0x80;
}

/* windash: every '-' or '/' that starts a word (`\B[-/]\b`) becomes each of five dashes. */
static int t_windash(struct sctx *c, uint32_t line, const struct sstr *in, struct slist *out)
{
    static const char *const dashes[] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};
    struct pos {
        uint32_t part, off;
    } pos[WINDASH_MAX_POSITIONS];
    uint32_t k = 0;
    for (uint32_t i = 0; i < in->n; i++) {
        const struct spart *p = &in->p[i];
        if (p->kind != SP_LIT) {
            continue;
        }
        for (uint32_t j = 0; j < p->n; j++) {
            if (p->s[j] != '-' && p->s[j] != '/') {
                continue;
            }
            bool prev_word = j > 0 ? is_word((unsigned char)p->s[j - 1]) : false;
            bool next_word = j + 1 < p->n ? is_word((unsigned char)p->s[j + 1]) : false;
            if (prev_word || !next_word) {
                continue;
            }
            if (k == WINDASH_MAX_POSITIONS) {
                return sctx_fail(c, VG_RULE_ERROR, line,
                                 "windash: more than %d dash positions in one value",
                                 WINDASH_MAX_POSITIONS);
            }
            pos[k].part = i;
            pos[k].off = j;
            k++;
        }
    }
    uint32_t total = 1;
    for (uint32_t i = 0; i < k; i++) {
        total *= 5;
    }
    for (uint32_t combo = 0; combo < total; combo++) {
        struct sstr r = {0};
        uint32_t cap = 0, x = combo, pi = 0;
        int rc = VG_OK;
        for (uint32_t i = 0; i < in->n && rc == VG_OK; i++) {
            const struct spart *p = &in->p[i];
            if (p->kind != SP_LIT) {
                rc = sstr_add(c->tmp, &r, &cap, p->kind, p->s, p->n);
                continue;
            }
            uint32_t from = 0;
            while (pi < k && pos[pi].part == i && rc == VG_OK) {
                const char *d = dashes[x % 5];
                x /= 5;
                rc = sstr_add(c->tmp, &r, &cap, SP_LIT, p->s + from, pos[pi].off - from);
                if (rc == VG_OK) {
                    rc = sstr_add(c->tmp, &r, &cap, SP_LIT, d, strlen(d));
                }
                from = pos[pi].off + 1;
                pi++;
            }
            if (rc == VG_OK) {
                rc = sstr_add(c->tmp, &r, &cap, SP_LIT, p->s + from, p->n - from);
            }
        }
        if (rc != VG_OK || (rc = slist_push(c->tmp, out, &r)) != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int t_utf16(struct vg_arena *a, const struct sstr *in, bool be, bool bom, struct slist *out)
{
    struct sstr r = {0};
    uint32_t cap = 0;
    int rc = VG_OK;
    if (bom) {
        rc = sstr_add(a, &r, &cap, SP_LIT, "\xFF\xFE", 2);
    }
    for (uint32_t i = 0; i < in->n && rc == VG_OK; i++) {
        const struct spart *p = &in->p[i];
        if (p->kind != SP_LIT) {
            rc = sstr_add(a, &r, &cap, p->kind, p->s, p->n);
            continue;
        }
        char *buf = vg_arena_alloc(a, (size_t)p->n * 4 + 1);
        if (!buf) {
            return VG_ENOMEM;
        }
        size_t o = 0;
        for (size_t j = 0; j < p->n;) {
            uint32_t cp = vg_utf8_next(p->s, p->n, &j);
            uint16_t units[2];
            int nu = 1;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                units[0] = (uint16_t)(0xD800 + (cp >> 10));
                units[1] = (uint16_t)(0xDC00 + (cp & 0x3FF));
                nu = 2;
            } else {
                units[0] = (uint16_t)cp;
            }
            for (int u = 0; u < nu; u++) {
                buf[o++] = (char)(be ? units[u] >> 8 : units[u] & 0xFF);
                buf[o++] = (char)(be ? units[u] & 0xFF : units[u] >> 8);
            }
        }
        rc = sstr_add(a, &r, &cap, SP_LIT, buf, o);
    }
    return rc != VG_OK ? rc : slist_push(a, out, &r);
}

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int push_literal(struct vg_arena *a, struct slist *out, const char *s, size_t n)
{
    struct sstr r = {0};
    uint32_t cap = 0;
    int rc = sstr_add(a, &r, &cap, SP_LIT, s, n);
    return rc != VG_OK ? rc : slist_push(a, out, &r);
}

static int t_base64(struct sctx *c, uint32_t line, const struct sstr *in, bool offset,
                    struct slist *out)
{
    if (sstr_has_wild(in)) {
        return sctx_fail(c, VG_RULE_ERROR, line,
                         "base64%s cannot encode wildcards: put contains/startswith/endswith "
                         "after it",
                         offset ? "offset" : "");
    }
    size_t n;
    char *flat = sstr_flat(c->tmp, in, &n);
    char *enc = flat ? vg_arena_alloc(c->tmp, (n + 2) / 3 * 4 + 8) : NULL;
    if (!enc) {
        return VG_ENOMEM;
    }
    if (!offset) {
        size_t en = b64_encode((const unsigned char *)flat, n, enc);
        return push_literal(c->tmp, out, enc, en);
    }
    /* Three shifts; drop the leading and trailing characters that depend on the unknown
     * neighbouring bytes (pySigma's start offsets 0,2,3 and end offsets by length). */
    static const int start_off[3] = {0, 2, 3};
    static const int end_off[3] = {0, -3, -2};
    char *buf = vg_arena_alloc(c->tmp, n + 3);
    if (!buf) {
        return VG_ENOMEM;
    }
    for (int i = 0; i < 3; i++) {
        memset(buf, ' ', (size_t)i);
        memcpy(buf + i, flat, n);
        size_t en = b64_encode((const unsigned char *)buf, n + (size_t)i, enc);
        int eo = end_off[(n + (size_t)i) % 3];
        size_t from = (size_t)start_off[i];
        size_t to = eo ? (en >= (size_t)-eo ? en - (size_t)-eo : 0) : en;
        if (to <= from) {
            continue; /* value too short for this shift */
        }
        int rc = push_literal(c->tmp, out, enc + from, to - from);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* Replace placeholders by each of their values (cartesian product). */
static int t_expand(struct sctx *c, const struct sstr *in, struct slist *out)
{
    uint32_t ph_at = UINT32_MAX;
    for (uint32_t i = 0; i < in->n; i++) {
        if (in->p[i].kind == SP_PH) {
            ph_at = i;
            break;
        }
    }
    if (ph_at == UINT32_MAX) {
        return slist_push(c->tmp, out, in);
    }
    const struct spart *ph = &in->p[ph_at];
    const struct slist *vals = c->ph ? sigma_placeholder_get(c->ph, ph->s, ph->n) : NULL;
    if (!vals) {
        for (uint32_t i = 0; i < c->nmissing; i++) {
            if (!strcmp(c->missing_ph[i], ph->s)) {
                return VG_OK;
            }
        }
        if (vg_grow(&c->missing_ph, &c->capmissing, c->nmissing + 1, sizeof(*c->missing_ph)) !=
            VG_OK) {
            return VG_ENOMEM;
        }
        c->missing_ph[c->nmissing++] = ph->s;
        return VG_OK;
    }
    for (uint32_t v = 0; v < vals->n; v++) {
        struct sstr r = {0};
        uint32_t cap = 0;
        int rc = sstr_copy_parts(c->tmp, in, &r, &cap, 0, ph_at);
        if (rc == VG_OK) {
            rc = sstr_copy_parts(c->tmp, &vals->v[v], &r, &cap, 0, vals->v[v].n);
        }
        if (rc == VG_OK) {
            rc = sstr_copy_parts(c->tmp, in, &r, &cap, ph_at + 1, in->n);
        }
        if (rc == VG_OK) {
            rc = t_expand(c, &r, out); /* further placeholders */
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- final values */

/* Sigma string → matcher: EQ / STARTSWITH / ENDSWITH / CONTAINS / GLOB. */
static int finalize_string(struct sctx *c, const struct sstr *s, bool cased,
                           struct vg_sigma_value *v)
{
    memset(v, 0, sizeof(*v));
    v->cased = cased;
    uint32_t n = s->n;
    const struct spart *p = s->p;
    bool lead = n && p[0].kind == SP_STAR;
    bool trail = n && p[n - 1].kind == SP_STAR;
    uint32_t inner_from = lead ? 1 : 0, inner_to = trail && n > (uint32_t)lead ? n - 1 : n;
    bool simple =
        inner_to - inner_from <= 1 && (inner_to == inner_from || p[inner_from].kind == SP_LIT);
    if (simple) {
        const struct spart *lit = inner_to > inner_from ? &p[inner_from] : NULL;
        v->op = lead && trail ? VG_SOP_CONTAINS
                : lead        ? VG_SOP_ENDSWITH
                : trail       ? VG_SOP_STARTSWITH
                              : VG_SOP_EQ;
        if (n == 1 && lead) {
            v->op = VG_SOP_GLOB; /* lone '*': any value */
        }
        v->n = lit ? lit->n : 0;
        char *d = vg_arena_alloc(c->arena, v->n + 1);
        if (!d) {
            return VG_ENOMEM;
        }
        if (lit) {
            if (cased) {
                memcpy(d, lit->s, v->n);
            } else {
                vg_fold(d, lit->s, v->n);
            }
        }
        d[v->n] = '\0';
        v->s = d;
        if (v->op == VG_SOP_GLOB) {
            struct vg_sigma_part *gp = vg_arena_calloc(c->arena, sizeof(*gp));
            if (!gp) {
                return VG_ENOMEM;
            }
            gp->kind = VG_SPART_STAR;
            v->parts = gp;
            v->nparts = 1;
        }
        return VG_OK;
    }
    v->op = VG_SOP_GLOB;
    struct vg_sigma_part *gp = vg_arena_calloc(c->arena, n * sizeof(*gp));
    if (!gp) {
        return VG_ENOMEM;
    }
    size_t longest = 0;
    for (uint32_t i = 0; i < n; i++) {
        gp[i].kind = p[i].kind;
        if (p[i].kind == SP_LIT) {
            char *d = vg_arena_alloc(c->arena, p[i].n + 1);
            if (!d) {
                return VG_ENOMEM;
            }
            if (cased) {
                memcpy(d, p[i].s, p[i].n);
            } else {
                vg_fold(d, p[i].s, p[i].n);
            }
            d[p[i].n] = '\0';
            gp[i].s = d;
            gp[i].n = p[i].n;
            if (p[i].n > longest) {
                longest = p[i].n;
                v->s = d; /* longest literal: used by the prefilter */
                v->n = p[i].n;
            }
        }
    }
    if (!v->s) {
        v->s = "";
    }
    v->parts = gp;
    v->nparts = n;
    return VG_OK;
}

static bool scalar_number(const struct vg_yaml_node *n, double *d, int64_t *i, bool *is_int)
{
    if (n->type != VG_YAML_SCALAR) {
        return false;
    }
    if (vg_parse_i64(n->str, n->len, i) == VG_OK) {
        *d = (double)*i;
        *is_int = true;
        return true;
    }
    if (vg_parse_double(n->str, n->len, d) == VG_OK) {
        *is_int = false;
        return true;
    }
    return false;
}

static int compile_regex(struct sctx *c, const struct vg_yaml_node *n, const bool *mods,
                         struct vg_sigma_value *v)
{
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (mods[M_RE_I]) {
        opts |= PCRE2_CASELESS;
    }
    if (mods[M_RE_M]) {
        opts |= PCRE2_MULTILINE;
    }
    if (mods[M_RE_S]) {
        opts |= PCRE2_DOTALL;
    }
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)n->str, n->len, opts, &errcode, &erroff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(errcode, msg, sizeof(msg));
        return sctx_fail(c, VG_RULE_ERROR, n->line, "invalid regular expression at offset %zu: %s",
                         (size_t)erroff, (const char *)msg);
    }
    /* the set owns every compiled regex, whatever happens to the rule afterwards */
    struct vg_sigma_set *set = c->set;
    if (vg_grow(&set->regexes, &set->capregexes, set->nregexes + 1, sizeof(void *)) != VG_OK) {
        pcre2_code_free(re);
        return VG_ENOMEM;
    }
    set->regexes[set->nregexes++] = re;
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter if JIT fails */
    memset(v, 0, sizeof(*v));
    v->op = VG_SOP_RE;
    v->re = (struct pcre2_real_code_8 *)re;
    v->s = vg_arena_strndup(c->arena, n->str, n->len);
    v->n = (uint32_t)n->len;
    v->cased = !mods[M_RE_I];
    return v->s ? VG_OK : VG_ENOMEM;
}

static int compile_cidr(struct sctx *c, const struct vg_yaml_node *n, struct vg_sigma_value *v)
{
    char buf[64];
    memset(v, 0, sizeof(*v));
    v->op = VG_SOP_CIDR;
    const char *slash = memchr(n->str, '/', n->len);
    size_t al = slash ? (size_t)(slash - n->str) : n->len;
    if (al >= sizeof(buf)) {
        goto bad;
    }
    memcpy(buf, n->str, al);
    buf[al] = '\0';
    if (inet_pton(AF_INET, buf, v->cidr_addr) == 1) {
        v->cidr_family = 4;
        v->cidr_prefix = 32;
    } else if (inet_pton(AF_INET6, buf, v->cidr_addr) == 1) {
        v->cidr_family = 6;
        v->cidr_prefix = 128;
    } else {
        goto bad;
    }
    if (slash) {
        int64_t pfx;
        if (vg_parse_i64(slash + 1, n->len - al - 1, &pfx) != VG_OK || pfx < 0 ||
            pfx > v->cidr_prefix) {
            goto bad;
        }
        v->cidr_prefix = (uint8_t)pfx;
    }
    v->s = vg_arena_strndup(c->arena, n->str, n->len);
    v->n = (uint32_t)n->len;
    return v->s ? VG_OK : VG_ENOMEM;
bad:
    return sctx_fail(c, VG_RULE_ERROR, n->line, "cidr: '%.*s' is not an IPv4/IPv6 network",
                     (int)VG_MIN(n->len, 64), n->str);
}

/* Values of the item as a list of scalar nodes. */
static int value_nodes(struct sctx *c, const struct vg_yaml_node *val,
                       const struct vg_yaml_node ***out, uint32_t *n)
{
    if (val->type == VG_YAML_SCALAR) {
        *out = vg_arena_alloc(c->tmp, sizeof(**out));
        if (!*out) {
            return VG_ENOMEM;
        }
        (*out)[0] = val;
        *n = 1;
        return VG_OK;
    }
    if (val->type == VG_YAML_MAP) {
        return sctx_fail(c, VG_RULE_ERROR, val->line,
                         "a field's value must be a scalar or a list, not a map");
    }
    *out = (const struct vg_yaml_node **)val->items;
    *n = (uint32_t)val->n;
    for (uint32_t i = 0; i < *n; i++) {
        if (val->items[i]->type != VG_YAML_SCALAR) {
            return sctx_fail(c, VG_RULE_ERROR, val->items[i]->line,
                             "list values must be scalars (nested lists/maps are not Sigma)");
        }
        if (*n > 1 && vg_yaml_is_null(val->items[i])) {
            return sctx_fail(c, VG_RULE_ERROR, val->items[i]->line,
                             "null cannot be part of a list of values (spec: use a separate "
                             "selection)");
        }
    }
    return VG_OK;
}

static int parse_modifiers(struct sctx *c, const struct vg_yaml_node *key, const char *mods_s,
                           bool *mods, uint8_t *order, uint32_t *norder, uint8_t *timepart)
{
    *norder = 0;
    *timepart = VG_STP_NONE;
    const char *p = mods_s;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        int m = -1;
        for (int k = 0; k < M__COUNT; k++) {
            if (strlen(mod_names[k]) == l && memcmp(mod_names[k], p, l) == 0) {
                m = k;
                break;
            }
        }
        if (m < 0) {
            return sctx_fail(c, VG_RULE_ERROR, key->line, "unknown modifier '%.*s' in '%s'", (int)l,
                             p, key->str);
        }
        if ((m == M_RE_I || m == M_RE_M || m == M_RE_S) && !mods[M_RE]) {
            return sctx_fail(c, VG_RULE_ERROR, key->line,
                             "modifier '%s' is a sub-modifier of 're' and must follow it",
                             mod_names[m]);
        }
        mods[m] = true;
        if (m >= M_MINUTE && m <= M_YEAR) {
            *timepart = (uint8_t)(VG_STP_MINUTE + (m - M_MINUTE));
        }
        if (*norder < 32) {
            order[(*norder)++] = (uint8_t)m;
        }
        p = bar ? bar + 1 : NULL;
    }
    return VG_OK;
}

static int check_combinations(struct sctx *c, uint32_t line, const bool *mods)
{
    int types = mods[M_RE] + mods[M_CIDR] + mods[M_EXISTS] + mods[M_FIELDREF] +
                (mods[M_LT] || mods[M_LTE] || mods[M_GT] || mods[M_GTE]);
    if (types > 1) {
        return sctx_fail(c, VG_RULE_ERROR, line,
                         "re, cidr, exists, fieldref and numeric comparisons cannot be combined");
    }
    bool transforms = mods[M_BASE64] || mods[M_BASE64OFFSET] || mods[M_WINDASH] || mods[M_UTF16] ||
                      mods[M_UTF16LE] || mods[M_UTF16BE] || mods[M_WIDE];
    if (types && transforms) {
        return sctx_fail(c, VG_RULE_ERROR, line,
                         "string transformations cannot be combined with re, cidr, exists, "
                         "fieldref or numeric comparisons");
    }
    if ((mods[M_RE] || mods[M_CIDR] || mods[M_EXISTS]) &&
        (mods[M_CONTAINS] || mods[M_STARTSWITH] || mods[M_ENDSWITH])) {
        return sctx_fail(c, VG_RULE_ERROR, line,
                         "contains/startswith/endswith cannot be combined with re, cidr or "
                         "exists");
    }
    return VG_OK;
}

/* A string value through the transformation chain into compiled values. */
static int compile_string(struct sctx *c, const struct vg_yaml_node *n, const bool *mods,
                          const uint8_t *order, uint32_t norder, struct vg_sigma_item *it,
                          size_t *cap)
{
    struct slist cur = {0}, next = {0};
    struct sstr s;
    int rc = sstr_parse_plain(c->tmp, n->str, n->len, mods[M_EXPAND], &s);
    if (rc == VG_OK) {
        rc = mods[M_EXPAND] ? t_expand(c, &s, &cur) : slist_push(c->tmp, &cur, &s);
    }
    for (uint32_t k = 0; k < norder && rc == VG_OK; k++) {
        memset(&next, 0, sizeof(next));
        for (uint32_t i = 0; i < cur.n && rc == VG_OK; i++) {
            const struct sstr *in = &cur.v[i];
            switch (order[k]) {
            case M_CONTAINS:
                rc = t_wrap(c->tmp, in, true, true, &next);
                break;
            case M_STARTSWITH:
                rc = t_wrap(c->tmp, in, false, true, &next);
                break;
            case M_ENDSWITH:
                rc = t_wrap(c->tmp, in, true, false, &next);
                break;
            case M_WINDASH:
                rc = t_windash(c, n->line, in, &next);
                break;
            case M_UTF16LE:
            case M_WIDE:
                rc = t_utf16(c->tmp, in, false, false, &next);
                break;
            case M_UTF16BE:
                rc = t_utf16(c->tmp, in, true, false, &next);
                break;
            case M_UTF16:
                rc = t_utf16(c->tmp, in, false, true, &next);
                break;
            case M_BASE64:
            case M_BASE64OFFSET:
                rc = t_base64(c, n->line, in, order[k] == M_BASE64OFFSET, &next);
                break;
            default:
                rc = slist_push(c->tmp, &next, in);
            }
        }
        cur = next;
        if (cur.n > MAX_VALUES_PER_ITEM) {
            return sctx_fail(c, VG_RULE_ERROR, n->line, "value expands to too many variants");
        }
    }
    if (rc != VG_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < cur.n; i++) {
        if (vg_grow(&it->vals, cap, it->nvals + 1, sizeof(*it->vals)) != VG_OK) {
            return VG_ENOMEM;
        }
        rc = finalize_string(c, &cur.v[i], mods[M_CASED], &it->vals[it->nvals]);
        if (rc != VG_OK) {
            return rc;
        }
        it->nvals++;
    }
    return VG_OK;
}

/* Compile one scalar into zero or more values appended to it->vals. */
static int compile_one(struct sctx *c, const struct vg_yaml_node *n, const bool *mods,
                       const uint8_t *order, uint32_t norder, uint8_t timepart,
                       struct vg_sigma_item *it, size_t *cap)
{
    struct vg_sigma_value v;
    memset(&v, 0, sizeof(v));
    int rc;
    if (vg_yaml_is_null(n)) {
        if (norder && !(norder == 1 && mods[M_NEQ])) {
            return sctx_fail(c, VG_RULE_ERROR, n->line, "null cannot take modifiers");
        }
        v.op = VG_SOP_NULL;
        v.s = "";
        goto append;
    }
    if (mods[M_EXISTS]) {
        bool b;
        if (vg_yaml_bool(n, &b) != VG_OK) {
            return sctx_fail(c, VG_RULE_ERROR, n->line, "exists takes true or false, not '%s'",
                             n->str);
        }
        v.op = VG_SOP_EXISTS;
        v.b = b;
        v.s = "";
        goto append;
    }
    if (mods[M_RE]) {
        if ((rc = compile_regex(c, n, mods, &v)) != VG_OK) {
            return rc;
        }
        goto append;
    }
    if (mods[M_CIDR]) {
        if ((rc = compile_cidr(c, n, &v)) != VG_OK) {
            return rc;
        }
        goto append;
    }
    if (mods[M_FIELDREF]) {
        v.op = VG_SOP_FIELDREF;
        v.ref_op = mods[M_CONTAINS]     ? VG_SOP_CONTAINS
                   : mods[M_STARTSWITH] ? VG_SOP_STARTSWITH
                   : mods[M_ENDSWITH]   ? VG_SOP_ENDSWITH
                                        : VG_SOP_EQ;
        v.cased = mods[M_CASED];
        v.s = vg_arena_strndup(c->arena, n->str, n->len);
        if (!v.s) {
            return VG_ENOMEM;
        }
        v.n = (uint32_t)n->len;
        v.ref_slot = sctx_slot(c, v.s);
        if (v.ref_slot == UINT32_MAX) {
            return VG_ENOMEM;
        }
        goto append;
    }
    bool numeric = mods[M_LT] || mods[M_LTE] || mods[M_GT] || mods[M_GTE] || timepart;
    if (numeric) {
        bool is_int;
        if (!scalar_number(n, &v.num, &v.inum, &is_int)) {
            return sctx_fail(c, VG_RULE_ERROR, n->line,
                             "numeric comparison needs a number, not '%.*s'",
                             (int)VG_MIN(n->len, 64), n->str);
        }
        v.num_is_int = is_int;
        v.op = mods[M_LT]    ? VG_SOP_LT
               : mods[M_LTE] ? VG_SOP_LTE
               : mods[M_GT]  ? VG_SOP_GT
               : mods[M_GTE] ? VG_SOP_GTE
                             : VG_SOP_NUMEQ;
        v.timepart = timepart;
        v.s = vg_arena_strndup(c->arena, n->str, n->len);
        v.n = (uint32_t)n->len;
        if (!v.s) {
            return VG_ENOMEM;
        }
        goto append;
    }
    return compile_string(c, n, mods, order, norder, it, cap);
append:
    if (vg_grow(&it->vals, cap, it->nvals + 1, sizeof(*it->vals)) != VG_OK) {
        return VG_ENOMEM;
    }
    it->vals[it->nvals++] = v;
    return VG_OK;
}

/* Move the heap-grown value array into the set arena. */
static int settle_values(struct sctx *c, struct vg_sigma_item *it)
{
    struct vg_sigma_value *heap = it->vals;
    if (!it->nvals) {
        vg_free(heap);
        it->vals = NULL;
        return VG_OK;
    }
    it->vals = vg_arena_alloc(c->arena, it->nvals * sizeof(*it->vals));
    if (!it->vals) {
        vg_free(heap);
        return VG_ENOMEM;
    }
    memcpy(it->vals, heap, it->nvals * sizeof(*it->vals));
    vg_free(heap);
    for (uint32_t i = 0; i < it->nvals; i++) {
        it->has_re |= it->vals[i].op == VG_SOP_RE;
        it->vals[i].idx = c->nvalues++;
    }
    return VG_OK;
}

int sigma_compile_item(struct sctx *c, const struct vg_yaml_node *key,
                       const struct vg_yaml_node *val, struct vg_sigma_item *out)
{
    memset(out, 0, sizeof(*out));
    out->line = key->line;
    if (key->type != VG_YAML_SCALAR) {
        return sctx_fail(c, VG_RULE_ERROR, key->line, "field names must be scalars");
    }
    const char *bar = strchr(key->str, '|');
    size_t fl = bar ? (size_t)(bar - key->str) : key->len;
    bool mods[M__COUNT] = {0};
    uint8_t order[32], timepart;
    uint32_t norder;
    int rc = parse_modifiers(c, key, bar ? bar + 1 : NULL, mods, order, &norder, &timepart);
    if (rc != VG_OK || (rc = check_combinations(c, key->line, mods)) != VG_OK) {
        return rc;
    }
    if (fl) {
        out->field = vg_arena_strndup(c->arena, key->str, fl);
        if (!out->field) {
            return VG_ENOMEM;
        }
        out->slot = sctx_slot(c, out->field);
        if (out->slot == UINT32_MAX) {
            return VG_ENOMEM;
        }
    } else if (mods[M_FIELDREF] || mods[M_EXISTS]) {
        return sctx_fail(c, VG_RULE_ERROR, key->line, "'%s' needs a field name", key->str);
    }
    if (!fl && !mods[M_CONTAINS] && !mods[M_STARTSWITH] && !mods[M_ENDSWITH] && !mods[M_RE] &&
        !mods[M_CIDR] && norder < VG_ARRAY_LEN(order)) {
        /* keyword search with modifiers (e.g. '|all'): still a search anywhere in values */
        mods[M_CONTAINS] = true;
        order[norder++] = M_CONTAINS;
    }
    out->all = mods[M_ALL];
    out->neq = mods[M_NEQ];
    const struct vg_yaml_node **nodes = NULL;
    uint32_t nn = 0;
    if ((rc = value_nodes(c, val, &nodes, &nn)) != VG_OK) {
        return rc;
    }
    if (nn == 0) {
        return sctx_fail(c, VG_RULE_ERROR, val->line, "'%s' has an empty list of values", key->str);
    }
    if (mods[M_ALL] && nn == 1) {
        sctx_warn(c, key->line, "'all' on a single value has no effect");
    }
    size_t cap = 0;
    for (uint32_t i = 0; i < nn; i++) {
        rc = compile_one(c, nodes[i], mods, order, norder, timepart, out, &cap);
        if (rc != VG_OK) {
            vg_free(out->vals);
            out->vals = NULL;
            out->nvals = 0;
            return rc;
        }
    }
    return settle_values(c, out);
}

int sigma_compile_keywords(struct sctx *c, const struct vg_yaml_node *list,
                           struct vg_sigma_item *out)
{
    memset(out, 0, sizeof(*out));
    out->line = list->line;
    bool mods[M__COUNT] = {0};
    uint8_t order[1] = {M_CONTAINS};
    mods[M_CONTAINS] = true; /* keywords are searched anywhere in the event's values */
    size_t cap = 0;
    for (uint32_t i = 0; i < list->n; i++) {
        const struct vg_yaml_node *n = list->items[i];
        if (n->type != VG_YAML_SCALAR) {
            return sctx_fail(c, VG_RULE_ERROR, n->line,
                             "a keyword list may only hold strings or numbers");
        }
        int rc = compile_one(c, n, mods, order, 1, VG_STP_NONE, out, &cap);
        if (rc != VG_OK) {
            vg_free(out->vals);
            out->vals = NULL;
            return rc;
        }
    }
    return settle_values(c, out);
}
