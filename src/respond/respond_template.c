/*
 * respond_template.c — the safe templating of playbook inputs and the small condition
 * language of `condition:` and `when:`.
 *
 * Templates are `{{ path | filter(arg) ... }}` inside JSON strings; a path is dotted with
 * [n] indexes into the run's context (alert, incident, case, inputs, steps.<id>.output, run,
 * now). Keys holding dots ("source.ip" in a stored alert) are found too: at each object the
 * longest run of segments that names a key wins. Nothing is evaluated: a rendered value is
 * data, put into JSON with proper escaping. Filters: default(x), lower, upper, json,
 * join(sep). Output size and nesting are bounded.
 *
 * Conditions: or / and / not, comparisons (== != < <= > >=), `in`, `contains`, `exists`,
 * over paths and literals (strings, numbers, true/false/null, [lists]); compiled once at
 * load, evaluated per run; a missing path is null.
 */
#include <string.h>

#include "respond/respond_int.h"

/* ---------------------------------------------------------------- paths */

struct seg {
    const char *s;
    size_t n;
    long idx; /* >= 0: an [n] index */
};
#define MAX_SEGS 32

static bool is_path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '@';
}

/* Split "a.b[2].c" into segments; VG_EINVAL on bad syntax. */
static int path_split(const char *p, size_t n, struct seg *segs, size_t *nseg)
{
    size_t i = 0, k = 0;
    while (i < n) {
        if (k == MAX_SEGS) {
            return VG_ELIMIT;
        }
        if (p[i] == '[') {
            long v = 0;
            size_t j = i + 1;
            while (j < n && p[j] >= '0' && p[j] <= '9' && v < 1000000) {
                v = v * 10 + (p[j++] - '0');
            }
            if (j == i + 1 || j >= n || p[j] != ']') {
                return VG_EINVAL;
            }
            segs[k++] = (struct seg){NULL, 0, v};
            i = j + 1;
        } else {
            size_t j = i;
            while (j < n && is_path_char(p[j])) {
                j++;
            }
            if (j == i) {
                return VG_EINVAL;
            }
            segs[k++] = (struct seg){p + i, j - i, -1};
            i = j;
        }
        if (i < n && p[i] == '.') {
            if (++i == n || p[i] == '[') {
                return VG_EINVAL;
            }
        } else if (i < n && p[i] != '[') {
            return VG_EINVAL;
        }
    }
    *nseg = k;
    return k ? VG_OK : VG_EINVAL;
}

static const struct vg_json *obj_get_n(const struct vg_json *o, const char *k, size_t kn)
{
    for (uint32_t i = 0; i < o->n; i++) {
        const struct vg_json *kk = &o->u.items[2 * i];
        if (kk->n == kn && memcmp(kk->s, k, kn) == 0) {
            return &o->u.items[2 * i + 1];
        }
    }
    return NULL;
}

/* At an object: the longest run of name segments from i that is a key ("source.ip"). */
static const struct vg_json *obj_step(const struct vg_json *o, const struct seg *sg, size_t ns,
                                      size_t i, size_t *used)
{
    size_t last = i;
    while (last + 1 < ns && sg[last + 1].idx < 0) {
        last++;
    }
    for (size_t e = last + 1; e > i; e--) {
        const char *start = sg[i].s;
        size_t len = (size_t)(sg[e - 1].s + sg[e - 1].n - start);
        const struct vg_json *v = obj_get_n(o, start, len);
        if (v) {
            *used = e - i;
            return v;
        }
    }
    return NULL;
}

const struct vg_json *vg_tmpl_lookup(const struct vg_json *ctx, const char *path, size_t n)
{
    struct seg sg[MAX_SEGS];
    size_t ns;
    if (!ctx || path_split(path, n, sg, &ns) != VG_OK) {
        return NULL;
    }
    const struct vg_json *cur = ctx;
    for (size_t i = 0; i < ns && cur;) {
        size_t used = 1;
        if (sg[i].idx >= 0) {
            cur = cur->type == VG_JSON_ARRAY && (uint32_t)sg[i].idx < cur->n
                      ? &cur->u.items[sg[i].idx]
                      : NULL;
        } else {
            cur = cur->type == VG_JSON_OBJECT ? obj_step(cur, sg, ns, i, &used) : NULL;
        }
        i += used;
    }
    return cur;
}

/* ---------------------------------------------------------------- template expressions */

enum filter_kind { F_DEFAULT = 1, F_LOWER, F_UPPER, F_JSON, F_JOIN };

struct filter {
    int kind;
    const char *arg; /* unquoted argument text */
    size_t arg_n;
    bool arg_quoted;
};

struct texpr {
    const char *path;
    size_t path_n;
    struct filter f[8];
    size_t nf;
};

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
    return i;
}

static int filter_arg(const char *s, size_t n, size_t *i, struct filter *f, char *err, size_t esz)
{
    size_t j = skip_ws(s, *i, n);
    if (j < n && (s[j] == '\'' || s[j] == '"')) {
        char q = s[j];
        size_t k = j + 1;
        while (k < n && s[k] != q) {
            k++;
        }
        if (k >= n) {
            snprintf(err, esz, "unterminated string in filter argument");
            return VG_EINVAL;
        }
        *f = (struct filter){f->kind, s + j + 1, k - j - 1, true};
        j = k + 1;
    } else {
        size_t k = j;
        while (k < n && (is_path_char(s[k]) || s[k] == '.')) {
            k++;
        }
        *f = (struct filter){f->kind, s + j, k - j, false};
        j = k;
    }
    j = skip_ws(s, j, n);
    if (j >= n || s[j] != ')') {
        snprintf(err, esz, "expected ')' after the filter argument");
        return VG_EINVAL;
    }
    *i = j + 1;
    return VG_OK;
}

static int filter_parse(const char *s, size_t n, size_t *i, struct filter *f, char *err, size_t esz)
{
    static const struct {
        const char *name;
        int kind;
        bool arg;
    } names[] = {{"default", F_DEFAULT, true},
                 {"lower", F_LOWER, false},
                 {"upper", F_UPPER, false},
                 {"json", F_JSON, false},
                 {"join", F_JOIN, true}};
    size_t j = skip_ws(s, *i, n), k = j;
    while (k < n && is_path_char(s[k])) {
        k++;
    }
    for (size_t m = 0; m < VG_ARRAY_LEN(names); m++) {
        if (strlen(names[m].name) != k - j || memcmp(names[m].name, s + j, k - j) != 0) {
            continue;
        }
        *f = (struct filter){names[m].kind, NULL, 0, false};
        k = skip_ws(s, k, n);
        if (k < n && s[k] == '(') {
            *i = k + 1;
            return filter_arg(s, n, i, f, err, esz);
        }
        if (names[m].arg) {
            snprintf(err, esz, "filter %s needs an argument: %s('x')", names[m].name,
                     names[m].name);
            return VG_EINVAL;
        }
        *i = k;
        return VG_OK;
    }
    snprintf(err, esz, "unknown filter '%.*s' (default, lower, upper, json, join)", (int)(k - j),
             s + j);
    return VG_EINVAL;
}

/* Parse the inside of {{ }}. */
static int texpr_parse(const char *s, size_t n, struct texpr *e, char *err, size_t esz)
{
    size_t i = skip_ws(s, 0, n), j = i;
    while (j < n && (is_path_char(s[j]) || s[j] == '.' || s[j] == '[' || s[j] == ']')) {
        j++;
    }
    struct seg sg[MAX_SEGS];
    size_t ns;
    if (j == i || path_split(s + i, j - i, sg, &ns) != VG_OK) {
        snprintf(err, esz, "bad path '%.*s' in template", (int)VG_MIN(n, 60), s);
        return VG_EINVAL;
    }
    e->path = s + i;
    e->path_n = j - i;
    e->nf = 0;
    for (i = skip_ws(s, j, n); i < n; i = skip_ws(s, i, n)) {
        if (s[i] != '|' || e->nf == VG_ARRAY_LEN(e->f)) {
            snprintf(err, esz, "unexpected '%c' in template (only path | filter)", s[i]);
            return VG_EINVAL;
        }
        i++;
        if (filter_parse(s, n, &i, &e->f[e->nf++], err, esz) != VG_OK) {
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

/* Find the next "{{ ... }}" from i: open and close (at the first brace of the closing pair). */
static int next_template(const char *s, size_t n, size_t i, size_t *open, size_t *close)
{
    const char *o = i < n ? vg_memmem(s + i, n - i, "{{", 2) : NULL;
    if (!o) {
        return VG_ENOENT;
    }
    *open = (size_t)(o - s);
    const char *c = vg_memmem(o + 2, n - *open - 2, "}}", 2);
    if (!c) {
        return VG_EINVAL;
    }
    *close = (size_t)(c - s);
    return VG_OK;
}

int vg_tmpl_check(const char *s, size_t n,
                  int (*on_path)(void *c, const char *p, size_t n, char *err, size_t errsz),
                  void *c, char *err, size_t errsz)
{
    size_t open, close, i = 0;
    int rc;
    while ((rc = next_template(s, n, i, &open, &close)) == VG_OK) {
        struct texpr e;
        if (texpr_parse(s + open + 2, close - open - 2, &e, err, errsz) != VG_OK) {
            return VG_EINVAL;
        }
        if (on_path && on_path(c, e.path, e.path_n, err, errsz) != VG_OK) {
            return VG_EINVAL;
        }
        i = close + 2;
    }
    if (rc == VG_EINVAL) {
        snprintf(err, errsz, "unclosed '{{' (missing '}}')");
    }
    return rc == VG_ENOENT ? VG_OK : VG_EINVAL;
}

/* ---------------------------------------------------------------- rendering */

struct rctx {
    const struct vg_json *ctx;
    struct vg_arena *arena;
    char *err;
    size_t errsz;
};

/* The text of a value when interpolated into a string. */
static void value_text(const struct vg_json *v, struct vg_sbuf *out)
{
    switch (v->type) {
    case VG_JSON_STRING:
    case VG_JSON_NUMBER:
        vg_sbuf_add(out, v->s, v->n);
        break;
    case VG_JSON_TRUE:
        vg_sbuf_adds(out, "true");
        break;
    case VG_JSON_FALSE:
        vg_sbuf_adds(out, "false");
        break;
    case VG_JSON_NULL:
        break;
    default:
        vg_json_write(v, out);
    }
}

static struct vg_json *mk_string(struct vg_arena *a, const char *s, size_t n)
{
    struct vg_json *j = vg_arena_calloc(a, sizeof(*j));
    char *copy = vg_arena_strndup(a, s ? s : "", n);
    if (!j || !copy) {
        return NULL;
    }
    j->type = VG_JSON_STRING;
    j->s = copy;
    j->n = (uint32_t)n;
    return j;
}

static const struct vg_json *literal_value(struct vg_arena *a, const struct filter *f)
{
    struct vg_json *j = vg_arena_calloc(a, sizeof(*j));
    int64_t iv;
    if (!j) {
        return NULL;
    }
    if (!f->arg_quoted && vg_parse_i64(f->arg, f->arg_n, &iv) == VG_OK) {
        *j = (struct vg_json){.type = VG_JSON_NUMBER, .is_int = 1, .n = (uint32_t)f->arg_n};
        j->s = vg_arena_strndup(a, f->arg, f->arg_n);
        j->u.i = iv;
        return j->s ? j : NULL;
    }
    return mk_string(a, f->arg, f->arg_n);
}

static const struct vg_json *apply_case(struct rctx *r, const struct vg_json *v, bool upper)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    value_text(v, &b);
    for (size_t i = 0; i < b.len; i++) {
        char c = b.p[i];
        if (upper && c >= 'a' && c <= 'z') {
            b.p[i] = (char)(c - 32);
        } else if (!upper && c >= 'A' && c <= 'Z') {
            b.p[i] = (char)(c + 32);
        }
    }
    const struct vg_json *j = b.err ? NULL : mk_string(r->arena, b.p, b.len);
    vg_sbuf_fini(&b);
    return j;
}

static const struct vg_json *apply_filter(struct rctx *r, const struct vg_json *v,
                                          const struct filter *f)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    const struct vg_json *res = NULL;
    switch (f->kind) {
    case F_DEFAULT:
        return v && v->type != VG_JSON_NULL ? v : literal_value(r->arena, f);
    case F_LOWER:
    case F_UPPER:
        return apply_case(r, v, f->kind == F_UPPER);
    case F_JSON:
        vg_json_write(v, &b);
        break;
    case F_JOIN:
        if (v->type != VG_JSON_ARRAY) {
            value_text(v, &b);
            break;
        }
        for (uint32_t i = 0; i < v->n; i++) {
            if (i) {
                vg_sbuf_add(&b, f->arg, f->arg_n);
            }
            value_text(&v->u.items[i], &b);
        }
        break;
    }
    if (!b.err && b.len <= VG_TMPL_MAX_OUT) {
        res = mk_string(r->arena, b.p ? b.p : "", b.len);
    }
    vg_sbuf_fini(&b);
    return res;
}

/*
 * A dry run (`vigie playbook test`) has no real outputs: a path into the output of a step
 * that only described itself ({"dry_run":true,...}) renders as "<steps.X.output.Y>", so the
 * steps after it can still be shown.
 */
static const struct vg_json *dry_placeholder(struct rctx *r, const char *path, size_t n)
{
    const char *o = n > 6 && !memcmp(path, "steps.", 6) ? vg_memmem(path, n, ".output", 7) : NULL;
    char key[256];
    if (!o || (size_t)(o - path) + 16 > sizeof(key)) {
        return NULL;
    }
    int k = snprintf(key, sizeof(key), "%.*s.dry_run", (int)(o - path + 7), path);
    const struct vg_json *d = vg_tmpl_lookup(r->ctx, key, (size_t)k);
    if (!d || d->type != VG_JSON_TRUE) {
        return NULL;
    }
    char *ph = vg_arena_printf(r->arena, "<%.*s>", (int)VG_MIN(n, 200), path);
    return ph ? mk_string(r->arena, ph, strlen(ph)) : NULL;
}

/* Evaluate one {{ }}: the value (arena or context), or NULL with err set. */
static const struct vg_json *texpr_eval(struct rctx *r, const char *s, size_t n)
{
    struct texpr e;
    if (texpr_parse(s, n, &e, r->err, r->errsz) != VG_OK) {
        return NULL;
    }
    const struct vg_json *v = vg_tmpl_lookup(r->ctx, e.path, e.path_n);
    if (!v) {
        v = dry_placeholder(r, e.path, e.path_n);
    }
    for (size_t i = 0; i < e.nf; i++) {
        if (!v && e.f[i].kind != F_DEFAULT) {
            break;
        }
        v = apply_filter(r, v, &e.f[i]);
    }
    if (!v) {
        snprintf(r->err, r->errsz, "template {{ %.*s }}: no value at '%.*s' (use | default('x'))",
                 (int)VG_MIN(n, 80), s, (int)VG_MIN(e.path_n, 80), e.path);
    }
    return v;
}

/* Render a string value: one whole template keeps its type; else interpolate. */
static int render_string(struct rctx *r, const char *s, size_t n, struct vg_sbuf *out, bool json)
{
    size_t open, close, i = 0;
    int rc = next_template(s, n, 0, &open, &close);
    if (rc == VG_OK && json && open == 0 && close + 2 == n) {
        const struct vg_json *v = texpr_eval(r, s + 2, close - 2);
        if (!v) {
            return VG_EINVAL;
        }
        vg_json_write(v, out);
        return VG_OK;
    }
    struct vg_sbuf text = VG_SBUF_INIT;
    for (; rc == VG_OK; rc = next_template(s, n, i, &open, &close)) {
        vg_sbuf_add(&text, s + i, open - i);
        const struct vg_json *v = texpr_eval(r, s + open + 2, close - open - 2);
        if (!v) {
            vg_sbuf_fini(&text);
            return VG_EINVAL;
        }
        value_text(v, &text);
        i = close + 2;
    }
    vg_sbuf_add(&text, s + i, n - i);
    if (json) {
        vg_sbuf_add_json_str(out, text.p ? text.p : "", text.len);
    } else {
        vg_sbuf_add(out, text.p ? text.p : "", text.len);
    }
    vg_sbuf_fini(&text);
    return rc == VG_EINVAL ? (snprintf(r->err, r->errsz, "unclosed '{{'"), VG_EINVAL) : VG_OK;
}

static int render_value(struct rctx *r, const struct vg_json *t, struct vg_sbuf *out, int depth)
{
    if (depth > VG_TMPL_MAX_DEPTH) {
        snprintf(r->err, r->errsz, "template nested deeper than %d", VG_TMPL_MAX_DEPTH);
        return VG_ELIMIT;
    }
    if (out->len > VG_TMPL_MAX_OUT) {
        snprintf(r->err, r->errsz, "rendered input larger than %u bytes", VG_TMPL_MAX_OUT);
        return VG_ELIMIT;
    }
    if (t->type == VG_JSON_STRING) {
        return render_string(r, t->s, t->n, out, true);
    }
    if (t->type != VG_JSON_ARRAY && t->type != VG_JSON_OBJECT) {
        vg_json_write(t, out);
        return VG_OK;
    }
    bool obj = t->type == VG_JSON_OBJECT;
    vg_sbuf_addc(out, obj ? '{' : '[');
    for (uint32_t i = 0; i < t->n; i++) {
        if (i) {
            vg_sbuf_addc(out, ',');
        }
        if (obj) {
            vg_sbuf_add_json_str(out, t->u.items[2 * i].s, t->u.items[2 * i].n);
            vg_sbuf_addc(out, ':');
        }
        int rc = render_value(r, obj ? &t->u.items[2 * i + 1] : &t->u.items[i], out, depth + 1);
        if (rc != VG_OK) {
            return rc;
        }
    }
    vg_sbuf_addc(out, obj ? '}' : ']');
    return VG_OK;
}

int vg_tmpl_render(const struct vg_json *t, const struct vg_json *ctx, struct vg_sbuf *out,
                   char *err, size_t errsz)
{
    struct rctx r = {ctx, vg_arena_create(4096), err, errsz};
    if (!r.arena) {
        return VG_ENOMEM;
    }
    int rc = render_value(&r, t, out, 0);
    vg_arena_destroy(r.arena);
    if (rc == VG_OK && out->len > VG_TMPL_MAX_OUT) {
        snprintf(err, errsz, "rendered input larger than %u bytes", VG_TMPL_MAX_OUT);
        rc = VG_ELIMIT;
    }
    return rc == VG_OK && out->err ? VG_ENOMEM : rc;
}

int vg_tmpl_render_text(const char *s, size_t n, const struct vg_json *ctx, struct vg_sbuf *out,
                        char *err, size_t errsz)
{
    struct rctx r = {ctx, vg_arena_create(1024), err, errsz};
    if (!r.arena) {
        return VG_ENOMEM;
    }
    int rc = render_string(&r, s, n, out, false);
    vg_arena_destroy(r.arena);
    return rc;
}

/* ---------------------------------------------------------------- conditions: parser */

struct cparse {
    struct vg_arena *a;
    const char *s;
    size_t n, i;
    int (*on_path)(void *c, const char *p, size_t n, char *err, size_t errsz);
    void *c;
    char *err;
    size_t errsz;
    int depth;
};

static int cp_fail(struct cparse *p, const char *what)
{
    if (!p->err[0]) {
        snprintf(p->err, p->errsz, "%s at offset %zu", what, p->i);
    }
    return VG_EINVAL;
}

static void cp_ws(struct cparse *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) {
        p->i++;
    }
}

/* Is the next token the keyword kw (followed by a non-path character)? Consumes it. */
static bool cp_kw(struct cparse *p, const char *kw)
{
    cp_ws(p);
    size_t l = strlen(kw);
    if (p->n - p->i < l || memcmp(p->s + p->i, kw, l) != 0 ||
        (p->i + l < p->n && (is_path_char(p->s[p->i + l]) || p->s[p->i + l] == '.'))) {
        return false;
    }
    p->i += l;
    return true;
}

static bool cp_sym(struct cparse *p, const char *sym)
{
    cp_ws(p);
    size_t l = strlen(sym);
    if (p->n - p->i < l || memcmp(p->s + p->i, sym, l) != 0) {
        return false;
    }
    p->i += l;
    return true;
}

static int cp_literal(struct cparse *p, struct vg_json **out);

static int cp_list(struct cparse *p, struct vg_json **out)
{
    struct vg_json items[64];
    uint32_t n = 0;
    if (!cp_sym(p, "]")) {
        do {
            struct vg_json *it;
            if (n == VG_ARRAY_LEN(items)) {
                return cp_fail(p, "list longer than 64 items");
            }
            if (cp_literal(p, &it) != VG_OK) {
                return VG_EINVAL;
            }
            items[n++] = *it;
        } while (cp_sym(p, ","));
        if (!cp_sym(p, "]")) {
            return cp_fail(p, "expected ']'");
        }
    }
    struct vg_json *j = vg_arena_calloc(p->a, sizeof(*j));
    struct vg_json *arr = vg_arena_alloc(p->a, sizeof(items[0]) * (n ? n : 1));
    if (!j || !arr) {
        return VG_ENOMEM;
    }
    memcpy(arr, items, sizeof(items[0]) * n);
    *j = (struct vg_json){.type = VG_JSON_ARRAY, .n = n};
    j->u.items = arr;
    *out = j;
    return VG_OK;
}

static int cp_number(struct cparse *p, struct vg_json **out)
{
    size_t j = p->i;
    while (j < p->n && ((p->s[j] >= '0' && p->s[j] <= '9') || p->s[j] == '-' || p->s[j] == '.')) {
        j++;
    }
    double d;
    int64_t iv;
    struct vg_json *v = vg_arena_calloc(p->a, sizeof(*v));
    if (!v) {
        return VG_ENOMEM;
    }
    if (vg_parse_double(p->s + p->i, j - p->i, &d) != VG_OK) {
        return cp_fail(p, "bad number");
    }
    *v = (struct vg_json){.type = VG_JSON_NUMBER, .n = (uint32_t)(j - p->i)};
    v->s = vg_arena_strndup(p->a, p->s + p->i, j - p->i);
    if (vg_parse_i64(p->s + p->i, j - p->i, &iv) == VG_OK) {
        v->is_int = 1;
        v->u.i = iv;
    } else {
        v->u.d = d;
    }
    p->i = j;
    *out = v;
    return VG_OK;
}

static int cp_literal(struct cparse *p, struct vg_json **out)
{
    cp_ws(p);
    if (p->i >= p->n) {
        return cp_fail(p, "expected a value");
    }
    char c = p->s[p->i];
    if (c == '\'' || c == '"') {
        const char *end = memchr(p->s + p->i + 1, c, p->n - p->i - 1);
        if (!end) {
            return cp_fail(p, "unterminated string");
        }
        size_t st = p->i + 1;
        p->i = (size_t)(end - p->s) + 1;
        *out = mk_string(p->a, p->s + st, (size_t)(end - p->s) - st);
        return *out ? VG_OK : VG_ENOMEM;
    }
    if (c == '[') { /* lists nest: bounded like the condition itself */
        p->i++;
        if (++p->depth > VG_TMPL_MAX_DEPTH) {
            return cp_fail(p, "lists nested too deeply");
        }
        int rc = cp_list(p, out);
        p->depth--;
        return rc;
    }
    if ((c >= '0' && c <= '9') || c == '-') {
        return cp_number(p, out);
    }
    static const struct {
        const char *kw;
        int type;
    } kws[] = {{"true", VG_JSON_TRUE}, {"false", VG_JSON_FALSE}, {"null", VG_JSON_NULL}};
    for (size_t k = 0; k < VG_ARRAY_LEN(kws); k++) {
        if (cp_kw(p, kws[k].kw)) {
            *out = vg_arena_calloc(p->a, sizeof(**out));
            if (!*out) {
                return VG_ENOMEM;
            }
            (*out)->type = (uint8_t)kws[k].type;
            return VG_OK;
        }
    }
    return cp_fail(p, "expected a value");
}

static int cp_operand(struct cparse *p, struct vg_cond_operand *o)
{
    cp_ws(p);
    bool braces = cp_sym(p, "{{");
    cp_ws(p);
    size_t j = p->i;
    while (j < p->n &&
           (is_path_char(p->s[j]) || p->s[j] == '.' || p->s[j] == '[' || p->s[j] == ']')) {
        j++;
    }
    char c = p->i < p->n ? p->s[p->i] : 0;
    bool is_path = j > p->i && is_path_char(c) && !((c >= '0' && c <= '9') || c == '-');
    static const char *const lits[] = {"true", "false", "null"};
    for (size_t k = 0; is_path && k < VG_ARRAY_LEN(lits); k++) {
        if (j - p->i == strlen(lits[k]) && memcmp(p->s + p->i, lits[k], j - p->i) == 0) {
            is_path = false;
        }
    }
    if (!is_path) {
        *o = (struct vg_cond_operand){NULL, 0, NULL};
        return braces ? cp_fail(p, "expected a path inside {{ }}") : cp_literal(p, &o->lit);
    }
    struct seg sg[MAX_SEGS];
    size_t ns;
    if (path_split(p->s + p->i, j - p->i, sg, &ns) != VG_OK) {
        return cp_fail(p, "bad path");
    }
    *o = (struct vg_cond_operand){vg_arena_strndup(p->a, p->s + p->i, j - p->i), j - p->i, NULL};
    if (p->on_path && p->on_path(p->c, p->s + p->i, j - p->i, p->err, p->errsz) != VG_OK) {
        return VG_EINVAL;
    }
    p->i = j;
    if (braces && !cp_sym(p, "}}")) {
        return cp_fail(p, "expected '}}'");
    }
    return o->path ? VG_OK : VG_ENOMEM;
}

static int cp_or(struct cparse *p, struct vg_cond **out);

static struct vg_cond *cnode(struct cparse *p, int op)
{
    struct vg_cond *c = vg_arena_calloc(p->a, sizeof(*c));
    if (c) {
        c->op = op;
    }
    return c;
}

static int cp_cmp(struct cparse *p, struct vg_cond **out)
{
    static const struct {
        const char *sym;
        int cmp;
        bool kw;
    } ops[] = {{"==", VG_CMP_EQ, false},
               {"!=", VG_CMP_NE, false},
               {"<=", VG_CMP_LE, false},
               {">=", VG_CMP_GE, false},
               {"<", VG_CMP_LT, false},
               {">", VG_CMP_GT, false},
               {"contains", VG_CMP_CONTAINS, true},
               {"in", VG_CMP_IN, true}};
    struct vg_cond *c = cnode(p, VG_COND_TRUTHY);
    if (!c || cp_operand(p, &c->l) != VG_OK) {
        return c ? VG_EINVAL : VG_ENOMEM;
    }
    for (size_t k = 0; k < VG_ARRAY_LEN(ops); k++) {
        if (ops[k].kw ? cp_kw(p, ops[k].sym) : cp_sym(p, ops[k].sym)) {
            c->op = VG_COND_CMP;
            c->cmp = ops[k].cmp;
            if (cp_operand(p, &c->r) != VG_OK) {
                return VG_EINVAL;
            }
            break;
        }
    }
    *out = c;
    return VG_OK;
}

static int cp_unary(struct cparse *p, struct vg_cond **out)
{
    if (++p->depth > VG_TMPL_MAX_DEPTH) {
        return cp_fail(p, "condition nested too deeply");
    }
    int rc;
    if (cp_kw(p, "not")) {
        struct vg_cond *c = cnode(p, VG_COND_NOT);
        rc = c ? cp_unary(p, &c->a) : VG_ENOMEM;
        *out = c;
    } else if (cp_kw(p, "exists")) {
        struct vg_cond *c = cnode(p, VG_COND_EXISTS);
        bool paren = cp_sym(p, "(");
        rc = c ? cp_operand(p, &c->l) : VG_ENOMEM;
        if (rc == VG_OK && (!c->l.path || (paren && !cp_sym(p, ")")))) {
            rc = cp_fail(p, c->l.path ? "expected ')'" : "exists needs a path");
        }
        *out = c;
    } else if (cp_sym(p, "(")) {
        rc = cp_or(p, out);
        if (rc == VG_OK && !cp_sym(p, ")")) {
            rc = cp_fail(p, "expected ')'");
        }
    } else {
        rc = cp_cmp(p, out);
    }
    p->depth--;
    return rc;
}

static int cp_binary(struct cparse *p, struct vg_cond **out, int op)
{
    int rc = op == VG_COND_OR ? cp_binary(p, out, VG_COND_AND) : cp_unary(p, out);
    while (rc == VG_OK && cp_kw(p, op == VG_COND_OR ? "or" : "and")) {
        struct vg_cond *c = cnode(p, op);
        if (!c) {
            return VG_ENOMEM;
        }
        c->a = *out;
        rc = op == VG_COND_OR ? cp_binary(p, &c->b, VG_COND_AND) : cp_unary(p, &c->b);
        *out = c;
    }
    return rc;
}

static int cp_or(struct cparse *p, struct vg_cond **out)
{
    return cp_binary(p, out, VG_COND_OR);
}

int vg_cond_compile(struct vg_arena *a, const char *text, size_t n, struct vg_cond **out,
                    int (*on_path)(void *c, const char *p, size_t n, char *err, size_t errsz),
                    void *c, char *err, size_t errsz)
{
    struct cparse p = {a, text, n, 0, on_path, c, err, errsz, 0};
    err[0] = 0;
    int rc = cp_or(&p, out);
    cp_ws(&p);
    if (rc == VG_OK && p.i < p.n) {
        rc = cp_fail(&p, "unexpected text");
    }
    return rc == VG_OK ? VG_OK : (err[0] ? rc : cp_fail(&p, "bad condition"));
}

/* ---------------------------------------------------------------- conditions: evaluation */

static const struct vg_json *operand_value(const struct vg_cond_operand *o,
                                           const struct vg_json *ctx)
{
    return o->path ? vg_tmpl_lookup(ctx, o->path, o->path_len) : o->lit;
}

static bool as_number(const struct vg_json *v, double *d)
{
    if (v->type == VG_JSON_NUMBER) {
        *d = v->is_int ? (double)v->u.i : v->u.d;
        return true;
    }
    return v->type == VG_JSON_STRING && vg_parse_double(v->s, v->n, d) == VG_OK;
}

/* <0, 0, >0, or 2 when the values do not compare (different kinds). */
static int json_cmp(const struct vg_json *a, const struct vg_json *b)
{
    double x, y;
    if ((a->type == VG_JSON_NUMBER || b->type == VG_JSON_NUMBER) && as_number(a, &x) &&
        as_number(b, &y)) {
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a->type == VG_JSON_STRING && b->type == VG_JSON_STRING) {
        int c = memcmp(a->s, b->s, VG_MIN(a->n, b->n));
        return c ? (c < 0 ? -1 : 1) : (a->n < b->n ? -1 : a->n > b->n ? 1 : 0);
    }
    if (a->type == b->type && a->type <= VG_JSON_TRUE) {
        return 0;
    }
    return 2;
}

static bool json_has(const struct vg_json *hay, const struct vg_json *needle)
{
    if (hay->type == VG_JSON_ARRAY) {
        for (uint32_t i = 0; i < hay->n; i++) {
            if (json_cmp(&hay->u.items[i], needle) == 0) {
                return true;
            }
        }
        return false;
    }
    if (hay->type == VG_JSON_STRING && needle->type == VG_JSON_STRING) {
        return needle->n == 0 || vg_memmem(hay->s, hay->n, needle->s, needle->n) != NULL;
    }
    if (hay->type == VG_JSON_OBJECT && needle->type == VG_JSON_STRING) {
        return obj_get_n(hay, needle->s, needle->n) != NULL;
    }
    return false;
}

static bool truthy(const struct vg_json *v)
{
    if (!v) {
        return false;
    }
    switch (v->type) {
    case VG_JSON_NULL:
    case VG_JSON_FALSE:
        return false;
    case VG_JSON_NUMBER:
        return v->is_int ? v->u.i != 0 : v->u.d != 0;
    default:
        return v->type == VG_JSON_TRUE || v->n > 0;
    }
}

static bool eval_cmp(const struct vg_cond *c, const struct vg_json *ctx)
{
    static const struct vg_json null_v = {.type = VG_JSON_NULL};
    const struct vg_json *l = operand_value(&c->l, ctx), *r = operand_value(&c->r, ctx);
    l = l ? l : &null_v;
    r = r ? r : &null_v;
    int k = json_cmp(l, r);
    switch (c->cmp) {
    case VG_CMP_EQ:
        return k == 0;
    case VG_CMP_NE:
        return k != 0;
    case VG_CMP_LT:
        return k == -1;
    case VG_CMP_LE:
        return k == -1 || k == 0;
    case VG_CMP_GT:
        return k == 1;
    case VG_CMP_GE:
        return k == 1 || k == 0;
    case VG_CMP_IN:
        return json_has(r, l);
    case VG_CMP_CONTAINS:
        return json_has(l, r);
    }
    return false;
}

bool vg_cond_eval(const struct vg_cond *c, const struct vg_json *ctx)
{
    if (!c) {
        return true;
    }
    const struct vg_json *v;
    switch (c->op) {
    case VG_COND_OR:
        return vg_cond_eval(c->a, ctx) || vg_cond_eval(c->b, ctx);
    case VG_COND_AND:
        return vg_cond_eval(c->a, ctx) && vg_cond_eval(c->b, ctx);
    case VG_COND_NOT:
        return !vg_cond_eval(c->a, ctx);
    case VG_COND_EXISTS:
        v = operand_value(&c->l, ctx);
        return v && v->type != VG_JSON_NULL;
    case VG_COND_CMP:
        return eval_cmp(c, ctx);
    default:
        return truthy(operand_value(&c->l, ctx));
    }
}
