/*
 * detect_eval.c — full evaluation of a rule variant on an event: the condition tree over
 * selections (each selection evaluated at most once per rule), maps of items, and the
 * value matchers for every Sigma modifier. String comparisons use the event value's folded
 * form (computed once per value) unless the value is `cased`; regexes run on the raw value.
 */
#include "detect/detect_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <pcre2.h>
#include <string.h>

struct eval_scratch {
    pcre2_match_data *md;
    struct eval_hits hits;
    uint8_t *memo; /* per selection: 0 = not evaluated, 1 = false, 2 = true */
    size_t memocap;
};

struct eval_scratch *eval_scratch_create(void)
{
    struct eval_scratch *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->md = pcre2_match_data_create(16, NULL);
    if (!s->md) {
        vg_free(s);
        return NULL;
    }
    return s;
}

void eval_scratch_set_hits(struct eval_scratch *s, const struct eval_hits *h)
{
    s->hits = *h;
}

/* Known false: the value's prefilter pattern (a necessary substring) did not occur. */
static inline bool ruled_out(const struct eval_scratch *s, const struct vg_sigma_value *v)
{
    if (!s->hits.vpid) {
        return false;
    }
    uint32_t pid = s->hits.vpid[v->idx];
    return pid != VG_PID_NONE && s->hits.pat_hit[pid] != s->hits.epoch;
}

void eval_scratch_destroy(struct eval_scratch *s)
{
    if (!s) {
        return;
    }
    pcre2_match_data_free(s->md);
    vg_free(s->memo);
    vg_free(s);
}

/* ---------------------------------------------------------------- string matching */

static inline size_t utf8_len(unsigned char c)
{
    return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Wildcard match of parts (literal / * / ?) over s; '?' is one UTF-8 character. */
static bool glob_parts(const struct vg_sigma_part *p, uint32_t np, const char *s, size_t n)
{
    uint32_t pi = 0, star_pi = UINT32_MAX;
    size_t si = 0, star_si = 0;
    for (;;) {
        if (pi < np) {
            const struct vg_sigma_part *pp = &p[pi];
            if (pp->kind == VG_SPART_STAR) {
                star_pi = pi++;
                star_si = si;
                if (pi < np && p[pi].kind == VG_SPART_LIT) {
                    /* jump straight to the next occurrence of the following literal */
                    const char *hit = vg_memmem(s + si, n - si, p[pi].s, p[pi].n);
                    if (!hit) {
                        return false;
                    }
                    star_si = (size_t)(hit - s);
                    si = star_si;
                }
                continue;
            }
            if (pp->kind == VG_SPART_LIT) {
                if (n - si >= pp->n && memcmp(s + si, pp->s, pp->n) == 0) {
                    si += pp->n;
                    pi++;
                    continue;
                }
            } else if (si < n) { /* '?' */
                size_t l = utf8_len((unsigned char)s[si]);
                si += VG_MIN(l, n - si);
                pi++;
                continue;
            }
        } else if (si == n) {
            return true;
        }
        if (star_pi == UINT32_MAX || star_si >= n) {
            return false;
        }
        si = ++star_si;
        pi = star_pi + 1;
    }
}

static bool str_op(uint8_t op, const char *s, size_t n, const char *p, size_t pn)
{
    switch (op) {
    case VG_SOP_EQ:
        return n == pn && memcmp(s, p, pn) == 0;
    case VG_SOP_STARTSWITH:
        return n >= pn && memcmp(s, p, pn) == 0;
    case VG_SOP_ENDSWITH:
        return n >= pn && memcmp(s + n - pn, p, pn) == 0;
    case VG_SOP_CONTAINS:
        return pn == 0 || (n >= pn && vg_memmem(s, n, p, pn) != NULL);
    default:
        return false;
    }
}

/* ---------------------------------------------------------------- typed matchers */

static bool parse_ip(const char *s, size_t n, uint8_t *addr, int *family)
{
    char buf[64];
    while (n && (*s == ' ' || *s == '[')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == ']')) {
        n--;
    }
    if (n == 0 || n >= sizeof(buf)) {
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *pct = strchr(buf, '%'); /* IPv6 zone */
    if (pct) {
        *pct = '\0';
    }
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            *family = 4;
        } else {
            *family = 6;
        }
        return true;
    }
    return false;
}

static bool cidr_match(const struct vg_sigma_value *v, const struct vg_value *fv)
{
    uint8_t addr[16];
    int fam;
    if (!parse_ip(fv->str, fv->len, addr, &fam) || fam != v->cidr_family) {
        return false;
    }
    unsigned bits = v->cidr_prefix, full = bits / 8, rem = bits % 8;
    if (memcmp(addr, v->cidr_addr, full) != 0) {
        return false;
    }
    if (rem) {
        uint8_t mask = (uint8_t)(0xFF << (8 - rem));
        return (addr[full] & mask) == (v->cidr_addr[full] & mask);
    }
    return true;
}

static bool time_part(const struct vg_value *fv, uint8_t part, double *out)
{
    vg_time_t t;
    if (fv->type == VG_V_TIME) {
        t = fv->num.t;
    } else if (vg_time_parse(fv->str, fv->len, &t) != VG_OK) {
        return false;
    }
    struct vg_tm tm;
    vg_time_split(t, &tm);
    switch (part) {
    case VG_STP_MINUTE:
        *out = tm.minute;
        break;
    case VG_STP_HOUR:
        *out = tm.hour;
        break;
    case VG_STP_DAY:
        *out = tm.day;
        break;
    case VG_STP_WEEK:
        *out = tm.iso_week;
        break;
    case VG_STP_MONTH:
        *out = tm.month;
        break;
    default:
        *out = tm.year;
    }
    return true;
}

static bool num_match(const struct vg_sigma_value *v, const struct vg_value *fv)
{
    double d;
    int64_t i = 0;
    bool is_int = false;
    if (v->timepart) {
        if (!time_part(fv, v->timepart, &d)) {
            return false;
        }
    } else if (!vg_value_number(fv, &d, &i, &is_int)) {
        return false;
    }
    int cmp;
    if (is_int && v->num_is_int) {
        cmp = i < v->inum ? -1 : i > v->inum;
    } else {
        cmp = d < v->num ? -1 : d > v->num;
    }
    switch (v->op) {
    case VG_SOP_LT:
        return cmp < 0;
    case VG_SOP_LTE:
        return cmp <= 0;
    case VG_SOP_GT:
        return cmp > 0;
    case VG_SOP_GTE:
        return cmp >= 0;
    default:
        return cmp == 0;
    }
}

static bool re_match(const struct vg_sigma_value *v, const struct vg_value *fv,
                     struct eval_scratch *s)
{
    int rc =
        pcre2_match((const pcre2_code *)v->re, (PCRE2_SPTR)fv->str, fv->len, 0, 0, s->md, NULL);
    return rc >= 0;
}

/* One value against one field occurrence. */
static bool value_one(const struct vg_sigma_value *v, struct vg_value *fv, struct vg_event *ev,
                      const uint32_t *slots, struct eval_scratch *s)
{
    switch (v->op) {
    case VG_SOP_EQ:
    case VG_SOP_CONTAINS:
    case VG_SOP_STARTSWITH:
    case VG_SOP_ENDSWITH: {
        const char *str = v->cased ? fv->str : vg_value_fold(ev, fv);
        return str_op(v->op, str, fv->len, v->s, v->n);
    }
    case VG_SOP_GLOB: {
        const char *str = v->cased ? fv->str : vg_value_fold(ev, fv);
        return glob_parts(v->parts, v->nparts, str, fv->len);
    }
    case VG_SOP_RE:
        return re_match(v, fv, s);
    case VG_SOP_CIDR:
        return cidr_match(v, fv);
    case VG_SOP_LT:
    case VG_SOP_LTE:
    case VG_SOP_GT:
    case VG_SOP_GTE:
    case VG_SOP_NUMEQ:
        return num_match(v, fv);
    case VG_SOP_FIELDREF: {
        const char *a = v->cased ? fv->str : vg_value_fold(ev, fv);
        for (struct vg_field *o = vg_event_get(ev, slots[v->ref_slot]); o;
             o = vg_event_next(ev, o)) {
            const char *b = v->cased ? o->v.str : vg_value_fold(ev, &o->v);
            if (str_op(v->ref_op, a, fv->len, b, o->v.len)) {
                return true;
            }
        }
        return false;
    }
    default:
        return false;
    }
}

/* One value against all occurrences of a field (f may be NULL: absent). */
static bool value_field(const struct vg_sigma_value *v, struct vg_field *f, struct vg_event *ev,
                        const uint32_t *slots, struct eval_scratch *s)
{
    if (v->op == VG_SOP_EXISTS) {
        return (f != NULL) == (v->b != 0);
    }
    if (ruled_out(s, v)) {
        return false;
    }
    if (v->op == VG_SOP_NULL) {
        if (!f) {
            return true;
        }
        for (; f; f = vg_event_next(ev, f)) {
            if (f->v.type == VG_V_NULL || f->v.len == 0) {
                return true;
            }
        }
        return false;
    }
    for (; f; f = vg_event_next(ev, f)) {
        if (f->v.type == VG_V_NULL && v->op != VG_SOP_EQ) {
            continue;
        }
        if (value_one(v, &f->v, ev, slots, s)) {
            return true;
        }
    }
    return false;
}

/* Keyword value: anywhere in any field's value. */
static bool value_anywhere(const struct vg_sigma_value *v, struct vg_event *ev,
                           const uint32_t *slots, struct eval_scratch *s)
{
    if (ruled_out(s, v)) {
        return false;
    }
    for (uint32_t i = 0; i < ev->n; i++) {
        struct vg_value *fv = &ev->fields[i].v;
        if (fv->type != VG_V_NULL && value_one(v, fv, ev, slots, s)) {
            return true;
        }
    }
    return false;
}

static bool eval_item(const struct vg_sigma_item *it, const uint32_t *slots, struct vg_event *ev,
                      struct eval_scratch *s)
{
    if (!it->field) {
        for (uint32_t i = 0; i < it->nvals; i++) {
            bool m = value_anywhere(&it->vals[i], ev, slots, s);
            if (m != (bool)it->all) {
                return m;
            }
        }
        return it->all;
    }
    struct vg_field *f = vg_event_get(ev, slots[it->slot]);
    if (it->neq) {
        if (!f) {
            return false;
        }
        for (uint32_t i = 0; i < it->nvals; i++) {
            if (value_field(&it->vals[i], f, ev, slots, s)) {
                return false;
            }
        }
        return true;
    }
    for (uint32_t i = 0; i < it->nvals; i++) {
        bool m = value_field(&it->vals[i], f, ev, slots, s);
        if (m != (bool)it->all) {
            return m;
        }
    }
    return it->all;
}

static bool eval_sel(const struct vg_sigma_selection *sel, const uint32_t *slots,
                     struct vg_event *ev, struct eval_scratch *s)
{
    for (uint32_t m = 0; m < sel->nmaps; m++) {
        const struct vg_sigma_map *mp = &sel->maps[m];
        bool ok = true;
        for (uint32_t i = 0; i < mp->nitems && ok; i++) {
            ok = eval_item(&mp->items[i], slots, ev, s);
        }
        if (ok) {
            return true;
        }
    }
    return false;
}

static bool eval_cond(const struct vg_sigma_detection *d, const struct vg_sigma_cond *c,
                      const uint32_t *slots, struct vg_event *ev, struct eval_scratch *s)
{
    switch (c->op) {
    case VG_SC_SEL: {
        uint8_t *m = &s->memo[c->sel];
        if (!*m) {
            *m = eval_sel(&d->sels[c->sel], slots, ev, s) ? 2 : 1;
        }
        return *m == 2;
    }
    case VG_SC_AND:
        for (uint32_t i = 0; i < c->n; i++) {
            if (!eval_cond(d, c->kids[i], slots, ev, s)) {
                return false;
            }
        }
        return true;
    case VG_SC_OR:
        for (uint32_t i = 0; i < c->n; i++) {
            if (eval_cond(d, c->kids[i], slots, ev, s)) {
                return true;
            }
        }
        return false;
    case VG_SC_NOT:
        return !eval_cond(d, c->kids[0], slots, ev, s);
    case VG_SC_TRUE:
        return true;
    default:
        return false;
    }
}

static bool eval_det(const struct vg_sigma_detection *d, const uint32_t *slots, struct vg_event *ev,
                     struct eval_scratch *s)
{
    if (d->nsels > s->memocap) {
        uint8_t *nm = vg_realloc(s->memo, d->nsels);
        if (!nm) {
            return false;
        }
        s->memo = nm;
        s->memocap = d->nsels;
    }
    memset(s->memo, 0, d->nsels);
    return eval_cond(d, d->cond, slots, ev, s);
}

/* Does the event carry at least one field the detection names (keywords always pass)? */
static bool has_rule_field(const struct vg_sigma_detection *d, const uint32_t *slots,
                           const struct vg_event *ev)
{
    if (d->nslots == 0) {
        return true;
    }
    for (uint32_t i = 0; i < d->nslots; i++) {
        if (vg_event_get(ev, slots[i])) {
            return true;
        }
    }
    return false;
}

bool eval_variant(const struct vg_ruleset *rs, const struct variant *v, struct vg_event *ev,
                  struct eval_scratch *s)
{
    const struct rule_rt *rt = &rs->rules[v->rule];
    if (v->gated && !has_rule_field(&rt->doc->det, v->slots, ev)) {
        return false;
    }
    if (!eval_det(&rt->doc->det, v->slots, ev, s)) {
        return false;
    }
    s->hits.vpid = NULL; /* filters' values are numbered in their own document */
    for (uint32_t k = 0; k < rt->nfilters; k++) {
        if (eval_det(&rt->filters[k]->det, v->filt_slots[k], ev, s)) {
            return false; /* rule AND NOT filter */
        }
    }
    return true;
}
