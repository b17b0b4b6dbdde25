/*
 * query_match.c — what a query means for one event, and what it tells the store's index.
 *
 * Matching rules (case-insensitive throughout, with vg_fold):
 *   field:value   some occurrence of the field equals value
 *   field:a*b?    some occurrence matches the pattern over its whole text
 *   ranges        numbers compare as numbers, times as times, anything else as text;
 *                 a numeric bound never matches a non-numeric value
 *   free text     the event's searchable text (raw record) contains the word or phrase
 *                 starting and ending at word boundaries: "root" matches "for root from" and
 *                 "user=root", not "rootkit"; wildcards in a word never cross whitespace
 * The store prefilter built here (vg_query_compile) may select blocks that hold no match,
 * never the reverse; the whole tree is always checked on every candidate event.
 */
#include "query/query_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* ---------------------------------------------------------------- glob */

bool vg_query_glob(const char *pat, size_t pn, const char *s, size_t sn, bool stop_ws)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < sn) {
        if (pi < pn) {
            char pc = pat[pi];
            bool lit = pc == '\\' && pi + 1 < pn;
            size_t adv = lit ? 2 : 1;
            pc = lit ? pat[pi + 1] : pc;
            if (!lit && pc == '*') {
                star_p = pi++;
                star_s = si;
                continue;
            }
            if ((!lit && pc == '?') ? !(stop_ws && is_space(s[si])) : pc == s[si]) {
                pi += adv;
                si++;
                continue;
            }
        }
        if (star_p == SIZE_MAX || (stop_ws && is_space(s[star_s]))) {
            return false;
        }
        pi = star_p + 1;
        si = ++star_s;
    }
    while (pi < pn && pat[pi] == '*') {
        pi++;
    }
    return pi == pn;
}

/* Does the pattern end in an unescaped '*'? */
static bool glob_tail_star(const char *pat, size_t pn)
{
    bool star = false;
    for (size_t i = 0; i < pn; i++) {
        star = pat[i] == '*';
        i += pat[i] == '\\';
    }
    return star;
}

/* ---------------------------------------------------------------- values */

int vg_query_value_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    double x, y;
    if (vg_parse_double(a, an, &x) == VG_OK && vg_parse_double(b, bn, &y) == VG_OK) {
        return x < y ? -1 : x > y;
    }
    int c = memcmp(a, b, VG_MIN(an, bn));
    return c ? (c < 0 ? -1 : 1) : (an < bn ? -1 : an > bn);
}

/* Compare a value with a bound: <0, 0, >0; false when they are not comparable. */
static bool bound_cmp(struct vg_event *ev, struct vg_value *v, const struct qbound *b, int *out)
{
    double d;
    int64_t i;
    bool is_int;
    if (b->is_num) {
        if (!vg_value_number(v, &d, &i, &is_int)) {
            return false;
        }
        *out = d < b->num ? -1 : d > b->num;
        return true;
    }
    if (b->is_time) {
        vg_time_t t;
        if (v->type == VG_V_TIME) {
            t = v->num.t;
        } else if (vg_store_time_parse(v->str, v->len, &t) != VG_OK) {
            return false;
        }
        *out = t < b->t ? -1 : t > b->t;
        return true;
    }
    const char *f = vg_value_fold(ev, v);
    int c = memcmp(f, b->s, VG_MIN((size_t)v->len, b->n));
    *out = c ? c : (v->len < b->n ? -1 : v->len > b->n);
    return true;
}

static bool range_match(const struct qnode *n, struct vg_event *ev, struct vg_value *v)
{
    int c;
    if (n->lo.set && (!bound_cmp(ev, v, &n->lo, &c) || c < 0 || (c == 0 && !n->lo.incl))) {
        return false;
    }
    if (n->hi.set && (!bound_cmp(ev, v, &n->hi, &c) || c > 0 || (c == 0 && !n->hi.incl))) {
        return false;
    }
    return true;
}

static bool time_match(const struct qnode *n, vg_time_t t)
{
    if (t == VG_TIME_NONE) {
        return false;
    }
    if (n->lo.set && (t < n->lo.t || (t == n->lo.t && !n->lo.incl))) {
        return false;
    }
    return !(n->hi.set && (t > n->hi.t || (t == n->hi.t && !n->hi.incl)));
}

static bool cidr_match(const struct qnode *n, const struct vg_value *v)
{
    char buf[64];
    uint8_t addr[16];
    if (v->len == 0 || v->len >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, v->str, v->len);
    buf[v->len] = '\0';
    if (inet_pton(n->family, buf, addr) != 1) {
        return false;
    }
    int full = n->prefix / 8, rest = n->prefix % 8;
    if (memcmp(addr, n->net, (size_t)full) != 0) {
        return false;
    }
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return rest == 0 || (addr[full] & mask) == (n->net[full] & mask);
}

static bool value_match(const struct qnode *n, struct vg_event *ev, struct vg_value *v)
{
    switch (n->cmp) {
    case QC_EQ:
        return v->type != VG_V_NULL && v->len == n->vlen &&
               memcmp(vg_value_fold(ev, v), n->val, n->vlen) == 0;
    case QC_GLOB:
        return v->type != VG_V_NULL &&
               vg_query_glob(n->val, n->vlen, vg_value_fold(ev, v), v->len, false);
    case QC_EXISTS:
        return true;
    case QC_RANGE:
        return v->type != VG_V_NULL && range_match(n, ev, v);
    case QC_CIDR:
        return cidr_match(n, v);
    }
    return false;
}

static bool field_match(const struct qnode *n, struct qmatch *m)
{
    if (n->is_ts) {
        return n->cmp == QC_EXISTS ? m->ev->ts != VG_TIME_NONE : time_match(n, m->ev->ts);
    }
    if (n->is_tenant) {
        const char *t = m->tenant ? m->tenant : "default";
        struct vg_value v = {.type = VG_V_STR, .str = t, .len = (uint32_t)strlen(t)};
        return value_match(n, m->ev, &v);
    }
    for (struct vg_field *f = vg_event_get(m->ev, n->fid); f; f = vg_event_next(m->ev, f)) {
        if (value_match(n, m->ev, &f->v)) {
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- free text */

void vg_query_match_init(struct qmatch *m)
{
    memset(m, 0, sizeof(*m));
}

void vg_query_match_fini(struct qmatch *m)
{
    vg_sbuf_fini(&m->text);
    vg_sbuf_fini(&m->fold);
}

/* The folded searchable text of the current event (built once per event). */
static bool text_get(struct qmatch *m, const char **t, size_t *n)
{
    if (!m->have_text) {
        const char *src = m->ev->raw;
        size_t len = m->ev->raw_len;
        if (!src || !len) {
            vg_sbuf_reset(&m->text);
            vg_store_event_text(m->ev, &m->text);
            src = m->text.p ? m->text.p : "";
            len = m->text.len;
        }
        vg_sbuf_reset(&m->fold);
        if (vg_sbuf_reserve(&m->fold, len + 1) != VG_OK || m->text.err) {
            return false;
        }
        vg_fold(m->fold.p, src, len);
        m->fold.len = len;
        m->fold.p[len] = '\0';
        m->have_text = true;
    }
    *t = m->fold.p;
    *n = m->fold.len;
    return true;
}

/* A match may start at p / end before q only at word boundaries (store.h's word rules). */
static bool left_ok(const char *t, size_t n, size_t p)
{
    return p == 0 || !vg_store_in_word(t, n, p - 1) || !vg_store_in_word(t, n, p);
}

static bool right_ok(const char *t, size_t n, size_t q)
{
    return q == n || q == 0 || !vg_store_in_word(t, n, q) || !vg_store_in_word(t, n, q - 1);
}

static bool text_literal(const char *needle, size_t m, const char *t, size_t n)
{
    size_t from = 0;
    while (from + m <= n) {
        const char *hit = vg_memmem(t + from, n - from, needle, m);
        if (!hit) {
            return false;
        }
        size_t p = (size_t)(hit - t);
        if (left_ok(t, n, p) && right_ok(t, n, p + m)) {
            return true;
        }
        from = p + 1;
    }
    return false;
}

/* Does the pattern match t[p:q] for some valid q within the chunk [.., c1)? */
static bool glob_from(const struct qnode *nd, const char *t, size_t n, size_t p, size_t c1,
                      bool tail_star)
{
    if (tail_star) {
        return vg_query_glob(nd->text, nd->tlen, t + p, c1 - p, true);
    }
    for (size_t q = p + 1; q <= c1; q++) {
        if (right_ok(t, n, q) && vg_query_glob(nd->text, nd->tlen, t + p, q - p, true)) {
            return true;
        }
    }
    return false;
}

/* A wildcard word: within one whitespace-free chunk, from a word boundary to a word boundary. */
static bool text_glob(const struct qnode *nd, const char *t, size_t n)
{
    bool lead = nd->text[0] == '*', tail = glob_tail_star(nd->text, nd->tlen);
    char first = nd->text[0] == '\\' && nd->tlen > 1 ? nd->text[1] : nd->text[0];
    bool first_lit = nd->text[0] == '\\' || (first != '*' && first != '?');
    size_t i = 0;
    while (i < n) {
        while (i < n && is_space(t[i])) {
            i++;
        }
        size_t c0 = i;
        while (i < n && !is_space(t[i])) {
            i++;
        }
        /* a leading * can absorb any prefix: trying the chunk start suffices */
        for (size_t p = c0; p < i; p++) {
            if (left_ok(t, n, p) && (!first_lit || t[p] == first) &&
                glob_from(nd, t, n, p, i, tail)) {
                return true;
            }
            if (lead) {
                break;
            }
        }
    }
    return false;
}

static bool text_match(const struct qnode *nd, struct qmatch *m)
{
    const char *t;
    size_t n;
    if (!text_get(m, &t, &n)) {
        return false;
    }
    return nd->glob ? text_glob(nd, t, n) : text_literal(nd->text, nd->tlen, t, n);
}

bool vg_query_node_match(const struct qnode *n, struct qmatch *m)
{
    switch (n->op) {
    case QN_ALL:
        return true;
    case QN_AND:
        for (size_t i = 0; i < n->nkids; i++) {
            if (!vg_query_node_match(n->kids[i], m)) {
                return false;
            }
        }
        return true;
    case QN_OR:
        for (size_t i = 0; i < n->nkids; i++) {
            if (vg_query_node_match(n->kids[i], m)) {
                return true;
            }
        }
        return false;
    case QN_NOT:
        return !vg_query_node_match(n->kids[0], m);
    case QN_FIELD:
        return field_match(n, m);
    case QN_TEXT:
        return text_match(n, m);
    }
    return false;
}

bool vg_query_match(const struct vg_query *q, struct vg_event *ev, const char *tenant)
{
    struct qmatch m;
    vg_query_match_init(&m);
    m.ev = ev;
    m.tenant = tenant;
    bool r = vg_query_node_match(q->root, &m);
    vg_query_match_fini(&m);
    return r;
}
