/*
 * event.c — arena-owned events: adding typed fields, id → field lookup without clearing
 * (epoch stamps), lazy case folding, numeric views, and the flat JSON writer.
 */
#include "event/event.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

struct vg_event *vg_event_create(void)
{
    struct vg_event *ev = vg_calloc(1, sizeof(*ev));
    if (!ev) {
        return NULL;
    }
    ev->arena = vg_arena_create(32768);
    if (!ev->arena) {
        vg_free(ev);
        return NULL;
    }
    ev->epoch = 1;
    ev->ts = VG_TIME_NONE;
    return ev;
}

void vg_event_destroy(struct vg_event *ev)
{
    if (!ev) {
        return;
    }
    vg_arena_destroy(ev->arena);
    vg_free(ev->fields);
    vg_free(ev->idx);
    vg_free(ev);
}

void vg_event_reset(struct vg_event *ev)
{
    vg_arena_reset(ev->arena);
    ev->n = 0;
    ev->nkeys = 0;
    if (++ev->epoch == 0) { /* wrapped: clear stamps once every 4 billion events */
        if (ev->idx) {
            memset(ev->idx, 0, ev->idx_cap * sizeof(*ev->idx));
        }
        ev->epoch = 1;
    }
    ev->kind = VG_EK_GENERIC;
    ev->ts = VG_TIME_NONE;
    ev->raw = NULL;
    ev->raw_len = 0;
    ev->record = 0;
}

/* The slot of id in a table: its own, or the empty one where it would go. */
static struct vg_event_slot *slot_in(struct vg_event_slot *t, uint32_t cap, uint32_t epoch,
                                     uint32_t id)
{
    uint32_t mask = cap - 1;
    for (uint32_t i = vg_event_slot_of(id) & mask;; i = (i + 1) & mask) {
        if (t[i].stamp != epoch || t[i].id == id) {
            return &t[i];
        }
    }
}

static struct vg_event_slot *slot_find(const struct vg_event *ev, uint32_t id)
{
    return slot_in(ev->idx, ev->idx_cap, ev->epoch, id);
}

/*
 * Double the table (or make the first one). Fields go back in the order of their first
 * occurrence, as if inserted one by one: a probe chain then only ever runs through fields
 * added before it, which is what lets vg_event_truncate empty slots without breaking one.
 */
static int index_grow(struct vg_event *ev)
{
    uint32_t ncap = ev->idx_cap ? ev->idx_cap * 2 : 64;
    struct vg_event_slot *old = ev->idx, *ns = vg_calloc(ncap, sizeof(*ns));
    if (!ns) {
        return VG_ENOMEM;
    }
    uint32_t ocap = ev->idx_cap;
    for (uint32_t k = 0; k < ev->n; k++) {
        struct vg_event_slot *o = slot_in(old, ocap, ev->epoch, ev->fields[k].id);
        if (o->first == k) {
            *slot_in(ns, ncap, ev->epoch, o->id) = *o;
        }
    }
    vg_free(old);
    ev->idx = ns;
    ev->idx_cap = ncap;
    return VG_OK;
}

int vg_event_add(struct vg_event *ev, uint32_t id, const struct vg_value *v)
{
    if (id == VG_FIELD_NONE) {
        return VG_ELIMIT;
    }
    if (VG_UNLIKELY(ev->n == ev->cap)) {
        size_t cap = ev->cap;
        if (vg_grow(&ev->fields, &cap, (size_t)ev->n + 1, sizeof(*ev->fields)) != VG_OK) {
            return VG_ENOMEM;
        }
        ev->cap = (uint32_t)cap;
    }
    if (VG_UNLIKELY((ev->nkeys + 1) * 2 > ev->idx_cap) && index_grow(ev) != VG_OK) {
        return VG_ENOMEM;
    }
    struct vg_field *f = &ev->fields[ev->n];
    f->id = id;
    f->next = UINT32_MAX;
    f->v = *v;
    struct vg_event_slot *sl = slot_find(ev, id);
    if (sl->stamp == ev->epoch) {
        ev->fields[sl->last].next = ev->n;
    } else {
        sl->stamp = ev->epoch;
        sl->id = id;
        sl->first = ev->n;
        ev->nkeys++;
    }
    sl->last = ev->n;
    ev->n++;
    return VG_OK;
}

void vg_event_truncate(struct vg_event *ev, uint32_t n)
{
    while (ev->n > n) {
        uint32_t k = --ev->n, id = ev->fields[k].id;
        struct vg_event_slot *sl = slot_find(ev, id);
        if (sl->first == k) {
            /* added after every field still present: no probe chain runs through it */
            sl->stamp = ev->epoch - 1; /* never the current epoch (epoch >= 1) */
            ev->nkeys--;
            continue;
        }
        uint32_t j = sl->first;
        while (ev->fields[j].next != k) {
            j = ev->fields[j].next;
        }
        ev->fields[j].next = UINT32_MAX;
        sl->last = j;
    }
}

int vg_event_add_str(struct vg_event *ev, uint32_t id, const char *s, size_t n)
{
    struct vg_value v = {.type = VG_V_STR, .len = (uint32_t)n, .str = s};
    if (n > UINT32_MAX) {
        return VG_ELIMIT;
    }
    return vg_event_add(ev, id, &v);
}

int vg_event_add_strdup(struct vg_event *ev, uint32_t id, const char *s, size_t n)
{
    char *c = vg_arena_strndup(ev->arena, s, n);
    if (!c) {
        return VG_ENOMEM;
    }
    return vg_event_add_str(ev, id, c, n);
}

int vg_event_add_int(struct vg_event *ev, uint32_t id, int64_t i, const char *text, size_t tn)
{
    struct vg_value v = {.type = VG_V_INT, .num.i = i};
    if (!text) {
        char buf[24];
        int l = snprintf(buf, sizeof(buf), "%" PRId64, i);
        text = vg_arena_strndup(ev->arena, buf, (size_t)l);
        if (!text) {
            return VG_ENOMEM;
        }
        tn = (size_t)l;
    }
    v.str = text;
    v.len = (uint32_t)tn;
    v.fold = text; /* digits and signs fold to themselves */
    v.folded = 1;
    return vg_event_add(ev, id, &v);
}

int vg_event_add_double(struct vg_event *ev, uint32_t id, double d, const char *text, size_t tn)
{
    struct vg_value v = {.type = VG_V_DOUBLE, .num.d = d};
    if (!text) {
        char buf[40];
        int l = snprintf(buf, sizeof(buf), "%.17g", d);
        text = vg_arena_strndup(ev->arena, buf, (size_t)l);
        if (!text) {
            return VG_ENOMEM;
        }
        tn = (size_t)l;
    }
    v.str = text;
    v.len = (uint32_t)tn;
    return vg_event_add(ev, id, &v);
}

int vg_event_add_bool(struct vg_event *ev, uint32_t id, bool b)
{
    struct vg_value v = {.type = VG_V_BOOL, .num.b = b};
    v.str = b ? "true" : "false";
    v.len = b ? 4 : 5;
    v.fold = v.str;
    v.folded = 1;
    return vg_event_add(ev, id, &v);
}

int vg_event_add_null(struct vg_event *ev, uint32_t id)
{
    struct vg_value v = {.type = VG_V_NULL, .str = "", .fold = "", .folded = 1};
    return vg_event_add(ev, id, &v);
}

const char *vg_event_get_str(const struct vg_event *ev, const char *name, size_t *len)
{
    uint32_t id = vg_field_lookup(name, strlen(name));
    const struct vg_field *f = id == VG_FIELD_NONE ? NULL : vg_event_get(ev, id);
    if (!f || f->v.type == VG_V_NULL) {
        return NULL;
    }
    if (len) {
        *len = f->v.len;
    }
    return f->v.str;
}

const char *vg_value_fold_slow(struct vg_event *ev, struct vg_value *v)
{
    if (vg_fold_is_identity(v->str, v->len)) {
        v->fold = v->str;
    } else {
        char *f = vg_arena_alloc(ev->arena, v->len + 1);
        if (!f) {
            return v->str; /* out of memory: compare unfolded rather than crash */
        }
        vg_fold(f, v->str, v->len);
        f[v->len] = '\0';
        v->fold = f;
    }
    v->folded = 1;
    return v->fold;
}

bool vg_value_number(const struct vg_value *v, double *d, int64_t *i, bool *is_int)
{
    switch (v->type) {
    case VG_V_INT:
        *i = v->num.i;
        *d = (double)v->num.i;
        *is_int = true;
        return true;
    case VG_V_DOUBLE:
        *d = v->num.d;
        *is_int = false;
        return true;
    case VG_V_STR: {
        const char *s = v->str;
        size_t n = v->len;
        while (n && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
            n--;
        }
        if (n && vg_parse_i64(s, n, i) == VG_OK) {
            *d = (double)*i;
            *is_int = true;
            return true;
        }
        if (n && vg_parse_double(s, n, d) == VG_OK) {
            *is_int = false;
            return true;
        }
        return false;
    }
    default:
        return false;
    }
}

static void write_value(const struct vg_value *v, struct vg_sbuf *out)
{
    switch (v->type) {
    case VG_V_NULL:
        vg_sbuf_add(out, "null", 4);
        break;
    case VG_V_INT:
    case VG_V_BOOL:
        vg_sbuf_add(out, v->str, v->len);
        break;
    case VG_V_DOUBLE:
        if (isfinite(v->num.d)) {
            vg_sbuf_add(out, v->str, v->len);
        } else {
            vg_sbuf_add(out, "null", 4);
        }
        break;
    default:
        vg_sbuf_add_json_str(out, v->str, v->len);
    }
}

void vg_event_write_json(const struct vg_event *ev, struct vg_sbuf *out)
{
    vg_sbuf_addc(out, '{');
    bool first = true;
    for (uint32_t k = 0; k < ev->n; k++) {
        const struct vg_field *f = &ev->fields[k];
        if (vg_event_get(ev, f->id) != f) {
            continue; /* later occurrence: written with the first */
        }
        size_t nl;
        const char *name = vg_field_name(f->id, &nl);
        if (!first) {
            vg_sbuf_addc(out, ',');
        }
        first = false;
        vg_sbuf_add_json_str(out, name, nl);
        vg_sbuf_addc(out, ':');
        if (f->next == UINT32_MAX) {
            write_value(&f->v, out);
            continue;
        }
        vg_sbuf_addc(out, '[');
        for (const struct vg_field *g = f; g; g = vg_event_next(ev, g)) {
            if (g != f) {
                vg_sbuf_addc(out, ',');
            }
            write_value(&g->v, out);
        }
        vg_sbuf_addc(out, ']');
    }
    vg_sbuf_addc(out, '}');
}
