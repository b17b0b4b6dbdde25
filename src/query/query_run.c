/*
 * query_run.c — running a parsed query against the store.
 *
 * The store scan hands over the events of the blocks its index selected, newest blocks
 * first; each is checked against the whole tree. What happens to a match depends on the
 * pipes:
 *   no pipes         keep the newest `limit` matches in a heap; once it is full its oldest
 *                    time becomes the scan's floor, so older blocks are never read
 *   sort [| head N]  keep the N (or limit) best by the sort keys in a heap
 *   head N           the newest N
 *   stats/top/timechart   feed every match (or the events selected by a leading head)
 *                    into the aggregation, then sort/head the table
 * With limit SIZE_MAX and no pipes, matches stream to the caller as found.
 */
#include "query/query_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LIMIT 100

/* A kept event: everything needed to deliver it after the scan moved on. */
struct entry {
    vg_time_t ts;
    uint64_t seq; /* scan order, the last tie-breaker */
    char *fields; /* vg_event_write_json of its own fields */
    size_t fields_len;
    char *raw;
    size_t raw_len;
    char *tenant;
    char id[48];
    char **keys; /* sort key values */
};

struct run {
    const struct vg_query *q;
    const struct vg_query_opts *o;
    struct vg_query_stats *st;
    struct qmatch m;
    struct vg_store_scan sc;
    size_t limit;
    /* event selection */
    size_t keep;               /* heap capacity; SIZE_MAX: stream */
    const struct qfield *keys; /* NULL: by time, newest first */
    size_t nkeys;
    struct entry **heap;
    size_t nheap, capheap;
    uint64_t seq;
    /* aggregation */
    const struct qpipe *agg;
    struct qagg_state *aggst;
    bool agg_direct;
    size_t agg_at; /* index of the aggregation pipe */
    /* delivery */
    struct vg_sbuf json;
    struct vg_json_parser *jp;
    struct vg_arena *ja;
    struct vg_event *rev;
    int cb_rc;
    char *err;
    size_t errsz;
};

/* ---------------------------------------------------------------- JSON of a result */

/* The row object: @timestamp, _id, tenant, the fields, event.original (the raw record). */
static void row_json(const char *fields, size_t flen, vg_time_t ts, const char *id,
                     const char *tenant, const char *raw, size_t raw_len, const struct vg_event *ev,
                     struct vg_sbuf *out)
{
    char t[40];
    vg_sbuf_reset(out);
    vg_sbuf_addc(out, '{');
    if (!vg_event_get_str(ev, QF_TIMESTAMP, NULL)) {
        vg_time_format(ts, t, sizeof(t));
        vg_sbuf_printf(out, "\"@timestamp\":\"%s\",", t);
    }
    vg_sbuf_printf(out, "\"_id\":\"%s\",", id);
    if (!vg_event_get_str(ev, QF_TENANT, NULL)) {
        vg_sbuf_adds(out, "\"tenant\":");
        vg_sbuf_add_json_str(out, tenant, strlen(tenant));
        vg_sbuf_addc(out, ',');
    }
    if (flen > 2) {
        vg_sbuf_add(out, fields + 1, flen - 2);
        vg_sbuf_addc(out, ',');
    }
    if (raw && raw_len && !vg_event_get_str(ev, "event.original", NULL)) {
        vg_sbuf_adds(out, "\"event.original\":");
        vg_sbuf_add_json_str(out, raw, raw_len);
        vg_sbuf_addc(out, ',');
    }
    out->len--; /* the last ',' */
    vg_sbuf_addc(out, '}');
}

/* The event's own fields as one JSON object (the event module's writer). */
static void fields_json(const struct vg_event *ev, struct vg_sbuf *out)
{
    vg_sbuf_reset(out);
    vg_event_write_json(ev, out);
}

/* ---------------------------------------------------------------- entries and the heap */

static void entry_free(struct entry *e)
{
    if (!e) {
        return;
    }
    vg_free(e->fields);
    vg_free(e->raw);
    vg_free(e->tenant);
    vg_free(e->keys);
    vg_free(e);
}

/* Value of a sort key for an event ("" when absent); time sorts numerically. */
static char *key_value(const struct qfield *k, const struct vg_event *ev, const char *tenant)
{
    if (!strcmp(k->name, QF_TIMESTAMP)) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%lld", (long long)ev->ts);
        return vg_strdup(buf);
    }
    if (!strcmp(k->name, QF_TENANT)) {
        return vg_strdup(tenant);
    }
    const struct vg_field *f = vg_event_get(ev, k->fid);
    return f ? vg_strndup(f->v.str, f->v.len) : vg_strdup("");
}

static struct entry *entry_make(struct run *r, const struct vg_event *ev,
                                const struct vg_store_event_meta *m)
{
    struct entry *e = vg_calloc(1, sizeof(*e));
    if (!e) {
        return NULL;
    }
    fields_json(ev, &r->json);
    e->ts = ev->ts;
    e->seq = r->seq++;
    e->fields = vg_strndup(r->json.p ? r->json.p : "{}", r->json.len);
    e->fields_len = r->json.len;
    e->raw = ev->raw ? vg_strndup(ev->raw, ev->raw_len) : NULL;
    e->raw_len = ev->raw ? ev->raw_len : 0;
    e->tenant = vg_strdup(m->tenant);
    snprintf(e->id, sizeof(e->id), "%s/%lld/%u", m->partition, (long long)m->block, m->index);
    bool ok = e->fields && e->tenant && (!ev->raw || e->raw) && !r->json.err;
    if (ok && r->nkeys) {
        e->keys = vg_calloc(r->nkeys, sizeof(*e->keys));
        for (size_t i = 0; e->keys && i < r->nkeys; i++) {
            ok &= (e->keys[i] = key_value(&r->keys[i], ev, m->tenant)) != NULL;
        }
        ok &= e->keys != NULL;
    }
    if (!ok) {
        if (e->keys) {
            for (size_t i = 0; i < r->nkeys; i++) {
                vg_free(e->keys[i]);
            }
        }
        entry_free(e);
        return NULL;
    }
    return e;
}

static void entry_destroy(const struct run *r, struct entry *e)
{
    if (e && e->keys) {
        for (size_t i = 0; i < r->nkeys; i++) {
            vg_free(e->keys[i]);
        }
    }
    entry_free(e);
}

/* >0 when a ranks before b in the result. */
static int entry_rank(const struct run *r, const struct entry *a, const struct entry *b)
{
    for (size_t i = 0; i < r->nkeys; i++) {
        int c = vg_query_value_cmp(a->keys[i], strlen(a->keys[i]), b->keys[i], strlen(b->keys[i]));
        if (c) {
            return r->keys[i].desc ? c : -c;
        }
    }
    if (a->ts != b->ts) {
        return a->ts > b->ts ? 1 : -1;
    }
    return a->seq < b->seq ? 1 : a->seq > b->seq ? -1 : 0;
}

/* Min-heap on rank: the root is the entry that would be dropped first. */
static void heap_down(struct run *r, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, w = i;
        if (l < r->nheap && entry_rank(r, r->heap[l], r->heap[w]) < 0) {
            w = l;
        }
        if (l + 1 < r->nheap && entry_rank(r, r->heap[l + 1], r->heap[w]) < 0) {
            w = l + 1;
        }
        if (w == i) {
            return;
        }
        struct entry *t = r->heap[i];
        r->heap[i] = r->heap[w];
        r->heap[w] = t;
        i = w;
    }
}

static void heap_up(struct run *r, size_t i)
{
    while (i && entry_rank(r, r->heap[i], r->heap[(i - 1) / 2]) < 0) {
        struct entry *t = r->heap[i];
        r->heap[i] = r->heap[(i - 1) / 2];
        r->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static int heap_offer(struct run *r, const struct vg_event *ev, const struct vg_store_event_meta *m)
{
    if (r->nheap == r->keep && !r->nkeys) {
        const struct entry *worst = r->heap[0];
        if (ev->ts <= worst->ts) {
            return VG_OK; /* not newer than the oldest kept one */
        }
    }
    struct entry *e = entry_make(r, ev, m);
    if (!e) {
        return VG_ENOMEM;
    }
    if (r->nheap < r->keep) {
        if (vg_grow(&r->heap, &r->capheap, r->nheap + 1, sizeof(*r->heap)) != VG_OK) {
            entry_destroy(r, e);
            return VG_ENOMEM;
        }
        r->heap[r->nheap++] = e;
        heap_up(r, r->nheap - 1);
    } else if (entry_rank(r, e, r->heap[0]) > 0) {
        entry_destroy(r, r->heap[0]);
        r->heap[0] = e;
        heap_down(r, 0);
    } else {
        entry_destroy(r, e);
    }
    if (r->nheap == r->keep && !r->nkeys) {
        r->sc.floor = r->heap[0]->ts; /* older blocks cannot enter the result any more */
    }
    return VG_OK;
}

static int entry_sort_cmp_ctx(const struct run *r, const void *x, const void *y)
{
    return -entry_rank(r, *(struct entry *const *)x, *(struct entry *const *)y);
}

static _Thread_local const struct run *sort_run;

static int entry_sort_cmp(const void *x, const void *y)
{
    return entry_sort_cmp_ctx(sort_run, x, y);
}

static void entries_sort(struct run *r)
{
    if (!r->nheap) {
        return;
    }
    sort_run = r;
    qsort(r->heap, r->nheap, sizeof(*r->heap), entry_sort_cmp);
    sort_run = NULL;
}

/* ---------------------------------------------------------------- delivery */

static int deliver(struct run *r, const struct vg_query_row *row)
{
    if (r->cb_rc != VG_OK) {
        return r->cb_rc;
    }
    int rc = r->o->on_row ? r->o->on_row(r->o->ctx, row) : VG_OK; /* NULL: count only */
    r->st->rows++;
    if (rc != VG_OK) {
        r->cb_rc = rc;
    }
    return rc;
}

static int deliver_event(struct run *r, const struct vg_event *ev, const char *fields, size_t flen,
                         vg_time_t ts, const char *id, const char *tenant, const char *raw,
                         size_t raw_len)
{
    row_json(fields, flen, ts, id, tenant, raw, raw_len, ev, &r->json);
    if (r->json.err) {
        return VG_ENOMEM;
    }
    struct vg_query_row row = {.kind = VG_QUERY_ROW_EVENT,
                               .ev = ev,
                               .ts = ts,
                               .tenant = tenant,
                               .id = id,
                               .json = r->json.p,
                               .json_len = r->json.len};
    return deliver(r, &row);
}

/* An entry's fields back as an event (strings borrowed from the entry). */
static int entry_event(struct run *r, const struct entry *e)
{
    struct vg_json *doc;
    size_t used;
    char err[128];
    vg_event_reset(r->rev);
    vg_arena_reset(r->ja);
    int rc = vg_json_parse(r->jp, r->ja, e->fields, e->fields_len, &used, &doc, err, sizeof(err));
    rc = rc == VG_OK ? vg_event_from_json(r->rev, doc, NULL) : rc;
    r->rev->ts = e->ts;
    r->rev->raw = e->raw;
    r->rev->raw_len = e->raw_len;
    return rc;
}

static int deliver_entries(struct run *r, size_t n)
{
    int rc = VG_OK;
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        const struct entry *e = r->heap[i];
        rc = entry_event(r, e);
        rc = rc == VG_OK ? deliver_event(r, r->rev, e->fields, e->fields_len, e->ts, e->id,
                                         e->tenant, e->raw, e->raw_len)
                         : rc;
    }
    return rc == VG_STORE_STOP ? VG_OK : rc;
}

static int deliver_table(struct run *r, const struct qtable *t)
{
    int rc = VG_OK;
    size_t n = VG_MIN(t->nrows, r->limit);
    r->st->truncated |= t->nrows > n;
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        struct vg_query_row row = {.kind = VG_QUERY_ROW_AGG,
                                   .ncols = t->ncols,
                                   .cols = (const char *const *)t->cols,
                                   .vals = (const char *const *)t->rows[i],
                                   .numeric = t->numeric};
        for (size_t c = 0; c < t->ncols; c++) {
            if (!t->rows[i][c]) {
                t->rows[i][c] = "";
            }
        }
        rc = deliver(r, &row);
    }
    return rc == VG_STORE_STOP ? VG_OK : rc;
}

/* ---------------------------------------------------------------- the scan callback */

static int on_event(void *ctx, struct vg_event *ev, const struct vg_store_event_meta *m)
{
    struct run *r = ctx;
    r->m.ev = ev;
    r->m.tenant = m->tenant;
    r->m.have_text = false;
    if (!vg_query_node_match(r->q->root, &r->m)) {
        return VG_STORE_CONTINUE;
    }
    r->st->matched++;
    int rc;
    if (r->agg_direct) {
        rc = vg_query_agg_add(r->aggst, ev, m->tenant);
    } else if (r->keep == SIZE_MAX) {
        char id[48];
        snprintf(id, sizeof(id), "%s/%lld/%u", m->partition, (long long)m->block, m->index);
        fields_json(ev, &r->json);
        /* row_json rewrites r->json: keep the fields in their own buffer first */
        char *fields = vg_strndup(r->json.p, r->json.len);
        size_t flen = r->json.len;
        rc = fields
                 ? deliver_event(r, ev, fields, flen, ev->ts, id, m->tenant, ev->raw, ev->raw_len)
                 : VG_ENOMEM;
        vg_free(fields);
        return rc == VG_STORE_STOP ? VG_STORE_STOP : rc;
    } else {
        rc = heap_offer(r, ev, m);
    }
    return rc == VG_OK ? VG_STORE_CONTINUE : rc;
}

/* ---------------------------------------------------------------- planning */

/*
 * Pipes before the aggregation select events: work out how many to keep and by what. A
 * head directly after a sort bounds the sort; a head alone keeps the newest N.
 */
static void plan_events(struct run *r, size_t end)
{
    const struct qpipe *p = r->q->pipes;
    bool agg = r->agg != NULL;
    r->keep = agg ? SIZE_MAX : r->limit;
    if (end == 0) {
        r->agg_direct = agg;
        return;
    }
    if (p[0].kind == QP_HEAD) {
        r->keep = agg ? p[0].n : VG_MIN(p[0].n, r->limit);
    } else if (p[0].kind == QP_SORT) {
        r->keys = p[0].by;
        r->nkeys = p[0].nby;
        if (end > 1 && p[1].kind == QP_HEAD) {
            r->keep = agg ? p[1].n : VG_MIN(p[1].n, r->limit);
        } else if (agg) {
            r->keys = NULL; /* order is irrelevant to an aggregation over everything */
            r->nkeys = 0;
            r->agg_direct = true;
        }
    }
    if (r->keys && r->keep == SIZE_MAX) {
        r->keep = VG_QUERY_MAX_SORT; /* a sort must hold its events: bounded */
    }
}

/* Apply the event pipes after the first selection (sort / head on the kept list). */
static void apply_event_pipes(struct run *r, size_t end)
{
    const struct qpipe *p = r->q->pipes;
    size_t i = r->keys ? 1 : 0;
    i += i < end && p[i].kind == QP_HEAD; /* the bound already applied */
    entries_sort(r);
    for (; i < end; i++) {
        if (p[i].kind == QP_HEAD) {
            while (r->nheap > p[i].n) {
                entry_destroy(r, r->heap[--r->nheap]);
            }
        } else if (p[i].kind == QP_SORT) {
            r->keys = p[i].by;
            r->nkeys = p[i].nby;
            /* keys of this sort were not extracted at scan time: rebuild them */
            for (size_t k = 0; k < r->nheap; k++) {
                struct entry *e = r->heap[k];
                entry_event(r, e);
                vg_free(e->keys);
                e->keys = vg_calloc(r->nkeys, sizeof(*e->keys));
                for (size_t j = 0; e->keys && j < r->nkeys; j++) {
                    e->keys[j] = key_value(&r->keys[j], r->rev, e->tenant);
                    if (!e->keys[j]) {
                        e->keys[j] = vg_strdup("");
                    }
                }
            }
            entries_sort(r);
        }
    }
}

static int run_aggregate(struct run *r)
{
    struct qtable *t = NULL;
    int rc = VG_OK;
    if (!r->agg_direct) {
        for (size_t i = 0; i < r->nheap && rc == VG_OK; i++) {
            rc = entry_event(r, r->heap[i]);
            rc = rc == VG_OK ? vg_query_agg_add(r->aggst, r->rev, r->heap[i]->tenant) : rc;
        }
    }
    rc = rc == VG_OK ? vg_query_agg_table(r->aggst, &t) : rc;
    for (size_t i = r->agg_at + 1; rc == VG_OK && i < r->q->npipes; i++) {
        const struct qpipe *p = &r->q->pipes[i];
        if (p->kind == QP_SORT) {
            vg_query_table_sort(t, p->by, p->nby);
        } else if (p->kind == QP_HEAD && t->nrows > p->n) {
            t->nrows = p->n;
        }
    }
    rc = rc == VG_OK ? deliver_table(r, t) : rc;
    if (rc == VG_ELIMIT) {
        snprintf(r->err, r->errsz,
                 "aggregation too large (too many groups or time buckets;"
                 " use a larger span or narrow the search)");
    }
    vg_query_table_destroy(t);
    return rc;
}

static int run_setup(struct run *r, struct vg_store *s)
{
    const struct vg_query *q = r->q;
    const struct vg_query_opts *o = r->o;
    r->limit = o->limit ? o->limit : DEFAULT_LIMIT;
    r->agg_at = q->npipes;
    for (size_t i = 0; i < q->npipes; i++) {
        if (q->pipes[i].kind == QP_STATS || q->pipes[i].kind == QP_TOP ||
            q->pipes[i].kind == QP_TIMECHART) {
            r->agg = &q->pipes[i];
            r->agg_at = i;
        }
    }
    plan_events(r, r->agg_at);
    vg_time_t from = o->from, to = o->to;
    if (q->from != VG_TIME_NONE) {
        from = from == VG_TIME_NONE ? q->from : VG_MAX(from, q->from);
    }
    if (q->to != VG_TIME_NONE) {
        to = to == VG_TIME_NONE ? q->to : VG_MIN(to, q->to);
    }
    r->sc = (struct vg_store_scan){.tenant = o->tenant,
                                   .from = from,
                                   .to = to,
                                   .filter = q->filter,
                                   .on_event = on_event,
                                   .ctx = r,
                                   .floor = VG_TIME_NONE};
    VG_UNUSED(s);
    if (r->agg && vg_query_agg_create(r->agg, from, to, &r->aggst) != VG_OK) {
        return VG_ENOMEM;
    }
    r->jp = vg_json_parser_create(NULL);
    r->ja = vg_arena_create(16384);
    r->rev = vg_event_create();
    return r->jp && r->ja && r->rev ? VG_OK : VG_ENOMEM;
}

static void run_fini(struct run *r)
{
    for (size_t i = 0; i < r->nheap; i++) {
        entry_destroy(r, r->heap[i]);
    }
    vg_free(r->heap);
    vg_query_agg_destroy(r->aggst);
    vg_query_match_fini(&r->m);
    vg_sbuf_fini(&r->json);
    vg_json_parser_destroy(r->jp);
    vg_arena_destroy(r->ja);
    vg_event_destroy(r->rev);
}

int vg_query_run(const struct vg_query *q, struct vg_store *s, const struct vg_query_opts *o,
                 struct vg_query_stats *st, char *err, size_t errsz)
{
    struct vg_query_stats local;
    struct run r = {.q = q, .o = o, .st = st ? st : &local, .err = err, .errsz = errsz};
    uint64_t t0 = vg_clock_ns();
    memset(r.st, 0, sizeof(*r.st));
    if (err && errsz) {
        err[0] = '\0';
    }
    vg_query_match_init(&r.m);
    int rc = run_setup(&r, s);
    rc = rc == VG_OK ? vg_store_scan(s, &r.sc, &r.st->scan, err, errsz) : rc;
    if (rc == VG_OK && r.agg) {
        if (!r.agg_direct) {
            apply_event_pipes(&r, r.agg_at);
        }
        rc = run_aggregate(&r);
    } else if (rc == VG_OK && r.keep == VG_QUERY_MAX_SORT && r.st->matched > r.keep) {
        snprintf(err, errsz, "sort over more than %d events: add | head N or narrow the search",
                 VG_QUERY_MAX_SORT);
        rc = VG_ELIMIT;
    } else if (rc == VG_OK && r.keep != SIZE_MAX) {
        apply_event_pipes(&r, r.agg_at);
        r.st->truncated = r.st->matched > r.nheap;
        rc = deliver_entries(&r, VG_MIN(r.nheap, r.limit));
    }
    if (rc == VG_STORE_STOP) {
        rc = VG_OK;
    }
    if (rc == VG_ENOMEM && err && errsz && !err[0]) {
        snprintf(err, errsz, "out of memory");
    }
    r.st->elapsed_ns = vg_clock_ns() - t0;
    run_fini(&r);
    return rc;
}
