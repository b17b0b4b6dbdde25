/*
 * server_pipeline.c — journal → decode + detect (one worker per core) → store, in order.
 *
 * Three kinds of threads share a ring of batch slots:
 *   - the dispatcher reads the journal from the store's position, copies records into a free
 *     slot until it holds `batch` records (or 20 ms passed) and marks the slot ready;
 *   - workers take ready slots, decode every record (per input stream decoders, flushed at
 *     the batch end so a batch is self-contained), run the Sigma rules on each event and
 *     match it against the threat intelligence snapshot taken for the batch (server_intel.c);
 *   - the writer takes finished slots strictly in dispatch order, makes sure the journal
 *     holds them durably (vg_journal_sync: nothing is stored that a crash could take back
 *     from the journal and renumber), feeds the correlator, stores the alerts with the alert
 * position and the events with the event position (each in its own transaction), calls the
 * before_release hook and releases the journal.
 *
 * A batch is cut only between auditd events, never inside one (records with the same
 * `msg=audit(time:serial)` stay together), so joining never depends on the batch size.
 *
 * Records the decoders reject are stored too (event.module "unparsed", error.message says
 * why, event.original the record with invalid bytes replaced): nothing is lost.
 *
 * Restart: events up to the store position and alerts up to the alert position were
 * committed; the dispatcher resumes after the store position and the writer suppresses the
 * alerts it already stored. Correlation windows start empty after a restart or a reload.
 */
#include "server/server_int.h"

#include "decode/decode.h"
#include "intel/intel_db.h"
#include "sigma/sigma.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ALERTS_POSITION_KEY "pipeline.alerts_position"
#define MAX_DECODERS        64
#define BATCH_FILL_MS       20
#define AUDIT_EXTRA         4096 /* records a batch may grow past its size to finish an audit event */

enum slot_state { SLOT_FREE, SLOT_READY, SLOT_WORKING, SLOT_DONE };

struct rref {
    uint64_t seq;
    uint32_t off, len;   /* record bytes in data */
    uint32_t moff, mlen; /* meta in data */
    uint32_t input;
    vg_time_t recv;
};

struct bmatch {
    uint32_t ev;
    uint32_t rule;
    uint32_t variant;
};

/* An indicator hit of event ev; the alert's strings are NUL-terminated in batch.idata. */
struct bintel {
    uint32_t ev;
    int level;
    uint32_t rule_id, title, tags, attack, context; /* offsets in idata */
};

struct batch {
    enum slot_state state;
    uint64_t no;
    struct vg_sbuf data;
    struct rref *recs;
    size_t nrecs, caprecs;
    struct vg_event **pool; /* events, reused across batches */
    size_t npool, cappool, nev;
    uint32_t *ev_rec; /* record index of each event */
    size_t capevrec;
    struct bmatch *m;
    size_t nm, capm;
    struct bintel *ih; /* threat intelligence hits (server_intel.c) */
    size_t nih, capih;
    uint32_t *inv; /* inventory events, for the vulnerability module (server_vuln.c) */
    size_t ninv, capinv;
    struct vg_sbuf idata;
    struct vg_ruleset *rs;
    uint64_t unparsed;
    int rc; /* worker failure (ENOMEM): the writer stops */
};

struct dec_slot {
    uint32_t input;
    char *file;
    struct vg_decoder *d;
    uint64_t used;  /* LRU clock */
    uint64_t batch; /* last batch that used it (flush at its end) */
};

struct worker {
    struct vg_pipeline *p;
    pthread_t th;
    struct dec_slot dec[MAX_DECODERS];
    size_t ndec;
    uint64_t clock;
    struct vg_ruleset *rs; /* the generation ctx was made for (a reference) */
    struct vg_detect_ctx *ctx;
    struct batch *b;            /* current batch (detect callback) */
    struct vg_intel_snap *snap; /* indicators, a reference for the current batch (or NULL) */
};

struct vg_pipeline {
    struct vg_journal *j;
    struct vg_store *st;
    struct vg_detect_engine *eng;
    struct vg_pipeline_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* any slot state change, stop */
    struct batch *slots;
    size_t nslots;
    uint64_t next_no;   /* dispatcher: next batch number */
    uint64_t write_no;  /* writer: next batch number to store */
    bool stop_dispatch; /* requested: drain, then stop reading */
    bool dispatch_done; /* the dispatcher has exited */
    bool stop_all;
    vg_time_t drain_deadline_ns;

    pthread_t dispatcher, writer;
    struct worker *workers;
    int nworkers;
    bool started;

    uint64_t event_pos; /* last seq stored (events) */
    uint64_t alert_pos; /* last seq whose alerts are stored */
    uint64_t read_pos;  /* last seq dispatched */

    /* writer state */
    struct vg_correlator *corr;
    const struct vg_ruleset *corr_rs; /* a reference */
    struct vg_arena *scratch;
    struct vg_store_alert *alerts;
    size_t nalerts, capalerts;
    struct vg_store_item *items;
    size_t capitems;
    const struct vg_event **evs;
    size_t capevs;
    struct vg_sbuf json;
    uint64_t cur_seq; /* seq of the event being fed to the correlator */

    struct vg_pipeline_stats stats; /* under mu */
    /* per-rule profile of the newest generation seen by a worker (under mu) */
    const struct vg_ruleset *prof_rs; /* a reference */
    struct vg_detect_rule_prof *prof;
};

#define PROF_SHIFT 6 /* one routed event in 64 has its rule evaluations timed */

/* ---------------------------------------------------------------- batch slots */

static void batch_clear(struct batch *b)
{
    b->data.len = 0;
    b->nrecs = 0;
    b->nev = 0;
    b->nm = 0;
    b->nih = 0;
    b->ninv = 0;
    b->idata.len = 0;
    b->unparsed = 0;
    b->rc = VG_OK;
    vg_ruleset_unref(b->rs);
    b->rs = NULL;
}

static void batch_fini(struct batch *b)
{
    batch_clear(b);
    vg_sbuf_fini(&b->data);
    for (size_t i = 0; i < b->npool; i++) {
        vg_event_destroy(b->pool[i]);
    }
    vg_free(b->pool);
    vg_free(b->recs);
    vg_free(b->ev_rec);
    vg_free(b->m);
    vg_free(b->ih);
    vg_free(b->inv);
    vg_sbuf_fini(&b->idata);
}

/* A fresh event for record rec of the batch (pooled). */
static struct vg_event *batch_event(struct batch *b)
{
    if (b->nev == b->npool) {
        if (vg_grow(&b->pool, &b->cappool, b->npool + 1, sizeof(*b->pool)) != VG_OK) {
            return NULL;
        }
        struct vg_event *ev = vg_event_create();
        if (!ev) {
            return NULL;
        }
        b->pool[b->npool++] = ev;
    }
    vg_event_reset(b->pool[b->nev]);
    return b->pool[b->nev];
}

static int batch_keep_event(struct batch *b, uint32_t rec)
{
    if (vg_grow(&b->ev_rec, &b->capevrec, b->nev + 1, sizeof(*b->ev_rec)) != VG_OK) {
        return VG_ENOMEM;
    }
    b->ev_rec[b->nev++] = rec;
    return VG_OK;
}

static const char *rec_data(const struct batch *b, const struct rref *r)
{
    return b->data.p + r->off;
}

/* The value of key in a record's meta (not NUL-terminated), or NULL. */
static const char *rec_meta(const struct batch *b, const struct rref *r, const char *key,
                            size_t *len)
{
    struct vg_rec tmp = {.meta = b->data.p + r->moff, .meta_len = r->mlen};
    return r->mlen ? vg_rec_meta(&tmp, key, len) : NULL;
}

/* ---------------------------------------------------------------- dispatcher */

/* The "audit(time:serial)" token of an auditd record, or NULL. */
static const char *audit_token(const char *p, size_t n, size_t *len)
{
    const char *a = vg_memmem(p, VG_MIN(n, 512), "msg=audit(", 10);
    if (!a) {
        return NULL;
    }
    const char *end = memchr(a, ')', (size_t)(p + n - a));
    if (!end) {
        return NULL;
    }
    *len = (size_t)(end - a);
    return a;
}

static int batch_add(struct batch *b, const struct vg_rec *r, uint64_t seq)
{
    if (vg_grow(&b->recs, &b->caprecs, b->nrecs + 1, sizeof(*b->recs)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct rref *x = &b->recs[b->nrecs];
    x->seq = seq;
    x->input = r->input;
    x->recv = r->recv_ts;
    x->off = (uint32_t)b->data.len;
    x->len = r->len;
    vg_sbuf_add(&b->data, r->data, r->len);
    vg_sbuf_addc(&b->data, '\0');
    x->moff = (uint32_t)b->data.len;
    x->mlen = r->meta_len;
    vg_sbuf_add(&b->data, r->meta, r->meta_len);
    vg_sbuf_addc(&b->data, '\0');
    if (b->data.err) {
        return VG_ENOMEM;
    }
    b->nrecs++;
    return VG_OK;
}

/* Does record r continue the auditd event the batch ends with? */
static bool same_audit_event(const struct batch *b, const struct vg_rec *r)
{
    if (!b->nrecs) {
        return false;
    }
    const struct rref *last = &b->recs[b->nrecs - 1];
    size_t la, lb;
    const char *ta = audit_token(rec_data(b, last), last->len, &la);
    const char *tb = ta ? audit_token(r->data, r->len, &lb) : NULL;
    return tb && la == lb && !memcmp(ta, tb, la);
}

static struct batch *wait_free_slot(struct vg_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    struct batch *b = &p->slots[p->next_no % p->nslots];
    while (b->state != SLOT_FREE && !p->stop_all) {
        pthread_cond_wait(&p->cond, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return b->state == SLOT_FREE ? b : NULL;
}

static bool dispatch_stopping(struct vg_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    bool stop = p->stop_all || (p->stop_dispatch && (vg_time_now() > p->drain_deadline_ns ||
                                                     p->read_pos + 1 >= vg_journal_next_seq(p->j)));
    pthread_mutex_unlock(&p->mu);
    return stop;
}

/* Fill b from the reader; a carried record (read but not fitting the last batch) first. */
static int fill_batch(struct vg_pipeline *p, struct vg_journal_reader *rd, struct batch *b,
                      struct vg_rec *carry, uint64_t *carry_seq, bool *has_carry)
{
    uint64_t t0 = 0;
    int rc = VG_OK;
    if (*has_carry) {
        rc = batch_add(b, carry, *carry_seq);
        *has_carry = false;
        t0 = vg_clock_ns();
    }
    while (rc == VG_OK && b->nrecs < p->o.batch + AUDIT_EXTRA) {
        int wait = BATCH_FILL_MS;
        if (b->nrecs) {
            uint64_t el = (vg_clock_ns() - t0) / 1000000u;
            if (el >= BATCH_FILL_MS) {
                break;
            }
            wait = BATCH_FILL_MS - (int)el;
        }
        struct vg_rec r;
        uint64_t seq;
        if (vg_journal_next(rd, &r, &seq, wait) != VG_OK) {
            if (!b->nrecs && !dispatch_stopping(p)) {
                continue;
            }
            break;
        }
        if (b->nrecs >= p->o.batch && !same_audit_event(b, &r)) {
            *carry = r; /* borrowed until the next read: copy it now */
            *carry_seq = seq;
            *has_carry = true;
            break;
        }
        if (!b->nrecs) {
            t0 = vg_clock_ns();
        }
        rc = batch_add(b, &r, seq);
    }
    return rc;
}

static void *dispatcher_main(void *arg)
{
    struct vg_pipeline *p = arg;
    struct vg_journal_reader *rd = vg_journal_reader_open(p->j, p->event_pos);
    struct vg_sbuf carry_buf = {0};
    struct vg_rec carry = {0};
    uint64_t carry_seq = 0;
    bool has_carry = false;
    while (rd) {
        struct batch *b = wait_free_slot(p);
        if (!b) {
            break;
        }
        int rc = fill_batch(p, rd, b, &carry, &carry_seq, &has_carry);
        if (has_carry) { /* detach the carried record from the reader's buffer */
            carry_buf.len = 0;
            vg_sbuf_add(&carry_buf, carry.data, carry.len);
            vg_sbuf_add(&carry_buf, carry.meta, carry.meta_len);
            carry.data = carry_buf.p;
            carry.meta = carry_buf.p + carry.len;
        }
        if (!b->nrecs) {
            if (dispatch_stopping(p) && !has_carry) {
                break;
            }
            continue;
        }
        uint64_t last = b->recs[b->nrecs - 1].seq;
        pthread_mutex_lock(&p->mu);
        b->no = p->next_no++;
        b->rc = rc;
        b->state = SLOT_READY;
        p->read_pos = last;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->mu);
    }
    vg_sbuf_fini(&carry_buf);
    vg_journal_reader_close(rd);
    pthread_mutex_lock(&p->mu);
    p->dispatch_done = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---------------------------------------------------------------- workers */

static struct vg_decoder *decoder_for(struct worker *w, const struct batch *b, const struct rref *r,
                                      uint64_t bno)
{
    size_t fl = 0;
    const char *file = rec_meta(b, r, "file", &fl);
    struct dec_slot *lru = NULL;
    for (size_t i = 0; i < w->ndec; i++) {
        struct dec_slot *s = &w->dec[i];
        if (s->input == r->input &&
            (file ? s->file && strlen(s->file) == fl && !memcmp(s->file, file, fl) : !s->file)) {
            s->used = ++w->clock;
            s->batch = bno;
            return s->d;
        }
        if (!lru || s->used < lru->used) {
            lru = s;
        }
    }
    struct dec_slot *s = w->ndec < MAX_DECODERS ? &w->dec[w->ndec++] : lru;
    if (s == lru) { /* evict: nothing is buffered between batches (flushed at batch end) */
        vg_decoder_destroy(s->d);
        vg_free(s->file);
    }
    char hint[4096];
    const struct vg_pipeline_input *in =
        r->input < w->p->o.ninputs ? &w->p->o.inputs[r->input] : NULL;
    if (file) {
        snprintf(hint, sizeof(hint), "file:%.*s", (int)VG_MIN(fl, 4000), file);
    } else {
        snprintf(hint, sizeof(hint), "%s", in && in->hint ? in->hint : "");
    }
    struct vg_decoder_opts o = {.hint = hint[0] ? hint : NULL};
    s->d = vg_decoder_create(&o);
    s->input = r->input;
    s->file = file ? vg_strndup(file, fl) : NULL;
    s->used = ++w->clock;
    s->batch = bno;
    return s->d;
}

static int on_match(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    (void)ev;
    struct worker *w = ud;
    struct batch *b = w->b;
    if (vg_grow(&b->m, &b->capm, b->nm + 1, sizeof(*b->m)) != VG_OK) {
        return VG_ENOMEM;
    }
    b->m[b->nm++] = (struct bmatch){(uint32_t)b->nev - 1, m->rule, m->variant};
    return VG_OK;
}

/* Replace what is not printable UTF-8 (NUL, invalid sequences) so the record can be kept. */
static char *sanitize(struct vg_arena *a, const char *p, size_t n)
{
    char *out = vg_arena_alloc(a, n + 1);
    if (!out) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        out[i] = (c == 0 || c >= 0x80) ? '?' : (char)c;
    }
    out[n] = '\0';
    return out;
}

/* A record the decoders rejected: keep it, searchable, with the reason. */
static int fill_unparsed(struct vg_event *ev, const char *rec, size_t len, const char *why)
{
    /* interning is thread-safe and returns the same id every time */
    uint32_t f_error = vg_field_intern("error.message", 13);
    uint32_t f_orig = vg_field_intern("event.original", 14);
    uint32_t f_tags = vg_field_intern("tags", 4);
    uint32_t f_module = vg_field_intern("event.module", 12);
    vg_event_reset(ev);
    size_t keep = VG_MIN(len, (size_t)64 << 10);
    char *s = sanitize(ev->arena, rec, keep);
    if (!s) {
        return VG_ENOMEM;
    }
    ev->raw = s;
    ev->raw_len = keep;
    ev->kind = VG_EK_GENERIC;
    vg_event_add_str(ev, f_module, "unparsed", 8);
    vg_event_add_strdup(ev, f_error, why, strlen(why));
    vg_event_add_str(ev, f_orig, s, keep);
    return vg_event_add_str(ev, f_tags, "decode_failure", 14);
}

static uint32_t idata_add(struct batch *b, const char *s)
{
    uint32_t off = (uint32_t)b->idata.len;
    vg_sbuf_add(&b->idata, s, strlen(s) + 1);
    return off;
}

/* An indicator hit of the batch's last event: keep the alert's parts for the writer. */
static int on_intel(void *ud, const struct vg_server_intel_alert *a)
{
    struct batch *b = ud;
    if (vg_grow(&b->ih, &b->capih, b->nih + 1, sizeof(*b->ih)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct bintel *h = &b->ih[b->nih];
    h->ev = (uint32_t)b->nev - 1;
    h->level = a->level;
    h->rule_id = idata_add(b, a->rule_id);
    h->title = idata_add(b, a->title);
    h->tags = idata_add(b, a->tags);
    h->attack = idata_add(b, a->attack);
    h->context = idata_add(b, a->context);
    if (b->idata.err) {
        return VG_ENOMEM;
    }
    b->nih++;
    return VG_OK;
}

/* Per event: time, detection, threat intelligence, inventories. */
static int finish_event(struct worker *w, struct batch *b, struct vg_event *ev, uint32_t rec,
                        const struct vg_ruleset *rs)
{
    if (ev->ts == VG_TIME_NONE) {
        ev->ts = b->recs[rec].recv;
    }
    int rc = batch_keep_event(b, rec);
    if (rc == VG_OK) {
        rc = vg_detect_event(rs, w->ctx, ev, on_match, w);
    }
    if (rc == VG_OK && w->snap) {
        rc = vg_server_intel_match(w->p->o.intel, w->snap, ev, on_intel, b);
    }
    if (rc == VG_OK && vg_server_vuln_wants(w->p->o.vuln, ev)) {
        rc = vg_grow(&b->inv, &b->capinv, b->ninv + 1, sizeof(*b->inv));
        if (rc == VG_OK) {
            b->inv[b->ninv++] = (uint32_t)b->nev - 1;
        }
    }
    return rc;
}

static int decode_record(struct worker *w, struct batch *b, uint32_t i, uint64_t bno)
{
    const struct rref *r = &b->recs[i];
    struct vg_decoder *d = decoder_for(w, b, r, bno);
    struct vg_event *ev = batch_event(b);
    if (!d || !ev) {
        return VG_ENOMEM;
    }
    int rc = vg_decoder_decode(d, rec_data(b, r), r->len, ev);
    while (rc == VG_OK || rc == VG_EINVAL) {
        if (rc == VG_EINVAL) {
            b->unparsed++;
            if ((rc = fill_unparsed(ev, rec_data(b, r), r->len, vg_decoder_error(d))) != VG_OK) {
                return rc;
            }
        }
        if ((rc = finish_event(w, b, ev, i, b->rs)) != VG_OK) {
            return rc;
        }
        if (!(ev = batch_event(b))) {
            return VG_ENOMEM;
        }
        rc = vg_decoder_next(d, ev);
    }
    return rc == VG_AGAIN || rc == VG_EOF ? VG_OK : rc;
}

/* End of batch: emit what the stream decoders buffered (auditd) for this batch's records. */
static int flush_decoders(struct worker *w, struct batch *b, uint64_t bno)
{
    for (size_t k = 0; k < w->ndec; k++) {
        if (w->dec[k].batch != bno) {
            continue;
        }
        for (;;) {
            struct vg_event *ev = batch_event(b);
            if (!ev) {
                return VG_ENOMEM;
            }
            if (vg_decoder_flush(w->dec[k].d, ev) != VG_OK) {
                break;
            }
            int rc = finish_event(w, b, ev, (uint32_t)b->nrecs - 1, b->rs);
            if (rc != VG_OK) {
                return rc;
            }
        }
    }
    return VG_OK;
}

static int work_batch(struct worker *w, struct batch *b)
{
    b->rs = vg_detect_engine_acquire(w->p->eng);
    if (w->rs != b->rs) { /* a reload: the scratch space is per generation */
        vg_detect_ctx_destroy(w->ctx);
        vg_ruleset_unref(w->rs);
        w->rs = vg_ruleset_ref(b->rs);
        w->ctx = vg_detect_ctx_create(b->rs);
        if (!w->ctx || vg_detect_ctx_sample(w->ctx, PROF_SHIFT) != VG_OK) {
            return VG_ENOMEM;
        }
    }
    w->b = b;
    /* one snapshot per batch: a feed update swaps the pointer, never pauses matching */
    w->snap = vg_server_intel_acquire(w->p->o.intel);
    int rc = VG_OK;
    for (uint32_t i = 0; i < b->nrecs && rc == VG_OK; i++) {
        rc = decode_record(w, b, i, b->no + 1);
    }
    rc = rc == VG_OK ? flush_decoders(w, b, b->no + 1) : rc;
    vg_intel_snap_unref(w->snap);
    w->snap = NULL;
    return rc;
}

/* Fold a worker's per-rule profile into the pipeline's (caller holds p->mu). */
static void fold_profile(struct vg_pipeline *p, struct worker *w)
{
    struct vg_detect_rule_prof *wp = w->ctx ? vg_detect_ctx_profile(w->ctx) : NULL;
    if (!wp) {
        return;
    }
    uint32_t n = vg_ruleset_nrules(w->rs);
    if (p->prof_rs != w->rs) { /* a newer generation: start its profile */
        vg_free(p->prof);
        vg_ruleset_unref((struct vg_ruleset *)p->prof_rs);
        p->prof = vg_calloc(n + 1, sizeof(*p->prof));
        p->prof_rs = p->prof ? vg_ruleset_ref(w->rs) : NULL;
    }
    for (uint32_t i = 0; p->prof && i < n; i++) {
        p->prof[i].ns += wp[i].ns;
        p->prof[i].evals += wp[i].evals;
        p->prof[i].matches += wp[i].matches;
    }
    memset(wp, 0, n * sizeof(*wp));
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct vg_pipeline *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct batch *b = NULL;
        for (size_t k = 0; k < p->nslots && !b; k++) {
            struct batch *c = &p->slots[(p->write_no + k) % p->nslots];
            b = c->state == SLOT_READY ? c : NULL;
        }
        if (!b) {
            if (p->stop_all) { /* set once the writer has stored everything dispatched */
                break;
            }
            pthread_cond_wait(&p->cond, &p->mu);
            continue;
        }
        b->state = SLOT_WORKING;
        pthread_mutex_unlock(&p->mu);
        int rc = b->rc == VG_OK ? work_batch(w, b) : b->rc;
        pthread_mutex_lock(&p->mu);
        if (rc == VG_OK && w->rs == b->rs) {
            fold_profile(p, w);
        }
        b->rc = rc;
        b->state = SLOT_DONE;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->mu);
    vg_detect_ctx_destroy(w->ctx);
    vg_ruleset_unref(w->rs);
    for (size_t k = 0; k < w->ndec; k++) {
        vg_decoder_destroy(w->dec[k].d);
        vg_free(w->dec[k].file);
    }
    return NULL;
}

/* ---------------------------------------------------------------- writer: alerts */

static const char *ent(struct vg_pipeline *p, const struct vg_event *ev, const char *name)
{
    size_t n;
    const char *s = vg_event_get_str(ev, name, &n);
    return s ? vg_arena_strndup(p->scratch, s, n) : NULL;
}

/* The entities of an alert: host, user, addresses and process of its event. */
static void alert_entities(struct vg_pipeline *p, const struct vg_event *ev,
                           struct vg_store_alert *a)
{
    a->host = ent(p, ev, "host.name");
    a->user = ent(p, ev, "user.name");
    a->src_ip = ent(p, ev, "source.ip");
    a->dst_ip = ent(p, ev, "destination.ip");
    a->process = ent(p, ev, "process.executable");
    a->process = a->process ? a->process : ent(p, ev, "process.name");
}

/* tags and ATT&CK technique ids of a rule as JSON arrays. */
static void rule_tags(struct vg_pipeline *p, const struct vg_sigma_rule *r,
                      struct vg_store_alert *a)
{
    struct vg_sbuf t = {0}, k = {0};
    vg_sbuf_addc(&t, '[');
    vg_sbuf_addc(&k, '[');
    for (uint32_t i = 0; i < r->ntags; i++) {
        if (t.len > 1) {
            vg_sbuf_addc(&t, ',');
        }
        vg_sbuf_add_json_str(&t, r->tags[i], strlen(r->tags[i]));
        if (vg_sigma_tag_is_technique(r->tags[i])) {
            char id[32];
            size_t n = 0;
            for (const char *c = r->tags[i] + 7; *c && n + 1 < sizeof(id); c++) {
                id[n++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
            }
            id[n] = '\0';
            if (k.len > 1) {
                vg_sbuf_addc(&k, ',');
            }
            vg_sbuf_add_json_str(&k, id, n);
        }
    }
    vg_sbuf_addc(&t, ']');
    vg_sbuf_addc(&k, ']');
    a->tags = vg_arena_strndup(p->scratch, t.p, t.len);
    a->attack = vg_arena_strndup(p->scratch, k.p, k.len);
    vg_sbuf_fini(&t);
    vg_sbuf_fini(&k);
}

static struct vg_store_alert *new_alert(struct vg_pipeline *p)
{
    if (vg_grow(&p->alerts, &p->capalerts, p->nalerts + 1, sizeof(*p->alerts)) != VG_OK) {
        return NULL;
    }
    struct vg_store_alert *a = &p->alerts[p->nalerts++];
    memset(a, 0, sizeof(*a));
    return a;
}

static const char *tenant_of(struct vg_pipeline *p, const struct batch *b, uint32_t rec)
{
    size_t n;
    const char *t = rec_meta(b, &b->recs[rec], "tenant", &n);
    return t ? vg_arena_strndup(p->scratch, t, n) : NULL;
}

static int rule_alert(struct vg_pipeline *p, const struct batch *b, const struct bmatch *m)
{
    const struct vg_event *ev = b->pool[m->ev];
    const struct vg_sigma_rule *r = vg_ruleset_rule(b->rs, m->rule);
    struct vg_store_alert *a = new_alert(p);
    if (!a) {
        return VG_ENOMEM;
    }
    a->ts = ev->ts;
    a->tenant = tenant_of(p, b, b->ev_rec[m->ev]);
    a->rule_id = r->id ? r->id : r->title;
    a->title = r->title;
    a->level = r->level;
    rule_tags(p, r, a);
    alert_entities(p, ev, a);
    p->json.len = 0;
    vg_event_write_json(ev, &p->json);
    a->event_json = vg_arena_strndup(p->scratch, p->json.p, p->json.len);
    return VG_OK;
}

/*
 * Alerts raised upstream — Suricata's EVE `alert` records and vigie-sensor's own network
 * detections, which use the same layout — become Vigie alerts as they arrive, so triage,
 * incidents and playbooks see them like Sigma hits: rule "eve:<gid>:<sid>", the signature as
 * title, severity 1/2/3 as high/medium/low, ATT&CK from alert.metadata.mitre_technique_id.
 */
static bool is_eve_alert(const struct vg_event *ev)
{
    size_t n, tn;
    const char *m = vg_event_get_str(ev, "event.module", &n);
    const char *t = vg_event_get_str(ev, "event_type", &tn);
    return m && t && vg_str_eq(m, n, "suricata", 8) && vg_str_eq(t, tn, "alert", 5);
}

static void eve_alert_tags(struct vg_pipeline *p, const struct vg_event *ev,
                           struct vg_store_alert *a)
{
    struct vg_sbuf t = VG_SBUF_INIT, k = VG_SBUF_INIT;
    vg_sbuf_addc(&t, '[');
    vg_sbuf_addc(&k, '[');
    static const char tech[] = "alert.metadata.mitre_technique_id";
    const struct vg_field *f = vg_event_get(ev, vg_field_lookup(tech, sizeof(tech) - 1));
    for (; f; f = vg_event_next(ev, f)) {
        if (f->v.len == 0 || f->v.len > 16) {
            continue;
        }
        char tag[32] = "attack.";
        for (size_t i = 0; i < f->v.len; i++) {
            char c = f->v.str[i];
            tag[7 + i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        vg_sbuf_adds(&t, t.len > 1 ? "," : "");
        vg_sbuf_add_json_str(&t, tag, 7 + f->v.len);
        vg_sbuf_adds(&k, k.len > 1 ? "," : "");
        vg_sbuf_add_json_str(&k, f->v.str, f->v.len);
    }
    vg_sbuf_addc(&t, ']');
    vg_sbuf_addc(&k, ']');
    a->tags = vg_arena_strndup(p->scratch, t.p, t.len);
    a->attack = vg_arena_strndup(p->scratch, k.p, k.len);
    vg_sbuf_fini(&t);
    vg_sbuf_fini(&k);
}

static int eve_alert(struct vg_pipeline *p, const struct batch *b, uint32_t e)
{
    const struct vg_event *ev = b->pool[e];
    struct vg_store_alert *a = new_alert(p);
    if (!a) {
        return VG_ENOMEM;
    }
    size_t n, sn;
    const char *gid = vg_event_get_str(ev, "alert.gid", &n);
    const char *sid = ent(p, ev, "alert.signature_id");
    const char *sev = vg_event_get_str(ev, "alert.severity", &sn);
    int level = sev && sn == 1 && *sev >= '1' && *sev <= '3' ? VG_LEVEL_HIGH - (*sev - '1')
                                                             : VG_LEVEL_MEDIUM;
    a->ts = ev->ts;
    a->tenant = tenant_of(p, b, b->ev_rec[e]);
    char rid[64];
    snprintf(rid, sizeof(rid), "eve:%.*s:%s", gid ? (int)n : 1, gid ? gid : "1", sid ? sid : "0");
    a->rule_id = vg_arena_strndup(p->scratch, rid, strlen(rid));
    a->title = ent(p, ev, "alert.signature");
    a->title = a->title ? a->title : a->rule_id;
    a->level = level;
    eve_alert_tags(p, ev, a);
    a->host = ent(p, ev, "host.name");
    a->user = ent(p, ev, "user.name");
    a->src_ip = ent(p, ev, "source.ip");
    a->dst_ip = ent(p, ev, "destination.ip");
    p->json.len = 0;
    vg_event_write_json(ev, &p->json);
    a->event_json = vg_arena_strndup(p->scratch, p->json.p, p->json.len);
    return VG_OK;
}

/*
 * A threat intelligence hit (server_intel.c) becomes an alert like a Sigma hit: rule
 * "intel:<type>", the event with the indicator's threat.indicator.* context added.
 */
static int intel_alert(struct vg_pipeline *p, const struct batch *b, const struct bintel *h)
{
    const struct vg_event *ev = b->pool[h->ev];
    struct vg_store_alert *a = new_alert(p);
    if (!a) {
        return VG_ENOMEM;
    }
    const char *d = b->idata.p;
    a->ts = ev->ts;
    a->tenant = tenant_of(p, b, b->ev_rec[h->ev]);
    a->rule_id = d + h->rule_id;
    a->title = d + h->title;
    a->level = h->level;
    a->tags = d + h->tags;
    a->attack = d + h->attack;
    alert_entities(p, ev, a);
    p->json.len = 0;
    vg_event_write_json(ev, &p->json);
    if (p->json.len >= 2 && p->json.p[p->json.len - 1] == '}') { /* a flat object: add to it */
        p->json.len--;
        vg_sbuf_adds(&p->json, p->json.len > 1 ? "," : "");
        vg_sbuf_adds(&p->json, d + h->context);
        vg_sbuf_addc(&p->json, '}');
    }
    a->event_json = vg_arena_strndup(p->scratch, p->json.p, p->json.len);
    return a->event_json ? VG_OK : VG_ENOMEM;
}

/* Put a group-by value where the alert keeps that entity. */
static void corr_entity(struct vg_pipeline *p, struct vg_store_alert *a, const char *name,
                        const char *value)
{
    static const struct {
        const char *field;
        size_t off;
    } map[] = {
        {"host.name", offsetof(struct vg_store_alert, host)},
        {"Computer", offsetof(struct vg_store_alert, host)},
        {"user.name", offsetof(struct vg_store_alert, user)},
        {"TargetUserName", offsetof(struct vg_store_alert, user)},
        {"source.ip", offsetof(struct vg_store_alert, src_ip)},
        {"IpAddress", offsetof(struct vg_store_alert, src_ip)},
        {"destination.ip", offsetof(struct vg_store_alert, dst_ip)},
        {"process.executable", offsetof(struct vg_store_alert, process)},
        {"process.name", offsetof(struct vg_store_alert, process)},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(map); i++) {
        if (!strcmp(map[i].field, name)) {
            *(const char **)((char *)a + map[i].off) = vg_arena_strdup(p->scratch, value);
        }
    }
}

struct corr_ud {
    struct vg_pipeline *p;
    const char *tenant;
    int rc;
};

static int on_corr(void *ud, const struct vg_corr_alert *c)
{
    struct corr_ud *u = ud;
    struct vg_pipeline *p = u->p;
    if (!c->standalone || p->cur_seq <= p->alert_pos) {
        return VG_OK;
    }
    struct vg_store_alert *a = new_alert(p);
    if (!a) {
        return u->rc = VG_ENOMEM;
    }
    const struct vg_sigma_rule *r = c->doc;
    a->ts = c->ts;
    a->tenant = u->tenant;
    a->rule_id = r->id ? r->id : r->title;
    a->title = r->title;
    a->level = r->level;
    rule_tags(p, r, a);
    struct vg_sbuf *j = &p->json;
    j->len = 0;
    vg_sbuf_printf(j, "{\"correlation\":{\"type\":\"%s\",\"value\":%.17g,\"events\":%u,",
                   vg_corr_type_name(r->corr.type), c->value, c->nevents);
    char first[40];
    vg_time_format(c->first_ts, first, sizeof(first));
    vg_sbuf_printf(j, "\"first\":\"%s\",\"group\":{", first);
    for (uint32_t g = 0; g < c->ngroup; g++) {
        vg_sbuf_printf(j, "%s", g ? "," : "");
        vg_sbuf_add_json_str(j, c->group_names[g], strlen(c->group_names[g]));
        vg_sbuf_addc(j, ':');
        vg_sbuf_add_json_str(j, c->group_values[g], strlen(c->group_values[g]));
        corr_entity(p, a, c->group_names[g], c->group_values[g]);
    }
    vg_sbuf_adds(j, "}}}");
    a->event_json = vg_arena_strndup(p->scratch, j->p, j->len);
    p->stats.correlations++;
    return VG_OK;
}

static void writer_correlator(struct vg_pipeline *p, const struct vg_ruleset *rs)
{
    if (p->corr_rs == rs) {
        return;
    }
    vg_correlator_destroy(p->corr);
    vg_ruleset_unref((struct vg_ruleset *)p->corr_rs);
    p->corr_rs = vg_ruleset_ref((struct vg_ruleset *)rs); /* the correlator points into it */
    p->corr = vg_ruleset_has_correlations(rs) ? vg_correlator_create(rs, NULL) : NULL;
}

static int batch_alerts(struct vg_pipeline *p, struct batch *b)
{
    writer_correlator(p, b->rs);
    for (uint32_t e = 0; e < b->nev; e++) {
        if (b->recs[b->ev_rec[e]].seq > p->alert_pos && is_eve_alert(b->pool[e])) {
            int rc = eve_alert(p, b, e);
            if (rc != VG_OK) {
                return rc;
            }
        }
    }
    for (size_t i = 0; i < b->nih; i++) {
        if (b->recs[b->ev_rec[b->ih[i].ev]].seq > p->alert_pos) {
            int rc = intel_alert(p, b, &b->ih[i]);
            if (rc != VG_OK) {
                return rc;
            }
        }
    }
    for (size_t i = 0; i < b->nm; i++) {
        const struct bmatch *m = &b->m[i];
        uint32_t rec = b->ev_rec[m->ev];
        p->cur_seq = b->recs[rec].seq;
        if (p->cur_seq > p->alert_pos && vg_ruleset_rule_standalone(b->rs, m->rule)) {
            int rc = rule_alert(p, b, m);
            if (rc != VG_OK) {
                return rc;
            }
        }
        if (p->corr && vg_ruleset_rule_correlated(b->rs, m->rule)) {
            struct vg_detect_match dm = {m->rule, m->variant, vg_ruleset_rule(b->rs, m->rule)};
            struct corr_ud u = {p, tenant_of(p, b, rec), VG_OK};
            vg_correlator_feed(p->corr, &dm, b->pool[m->ev], on_corr, &u);
            if (u.rc != VG_OK) {
                return u.rc;
            }
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- writer: store */

static bool writer_should_give_up(struct vg_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    bool stop = p->stop_all;
    pthread_mutex_unlock(&p->mu);
    return stop;
}

/* Store alerts with their position; a full disk holds the pipeline (back-pressure). */
static int store_alerts(struct vg_pipeline *p, uint64_t last)
{
    char err[512], pos[32];
    int n = snprintf(pos, sizeof(pos), "%" PRIu64, last);
    for (;;) {
        int rc = vg_store_alert_append_state(p->st, p->alerts, p->nalerts, ALERTS_POSITION_KEY, pos,
                                             (size_t)n, err, sizeof(err));
        if (rc == VG_OK) {
            p->alert_pos = last;
            if (p->o.after_alerts && p->nalerts) {
                p->o.after_alerts(p->o.ctx);
            }
            return VG_OK;
        }
        VG_ERR("pipeline", "storing %zu alerts: %s; retrying", p->nalerts, err);
        p->stats.store_retries++;
        if (writer_should_give_up(p)) {
            return rc;
        }
        sleep(1);
    }
}

/*
 * A dedupe key from the event itself when the input gave none: `event.id` (ECS: unique per
 * event), or RFC 5424's sequenceId with the sender's host, app and process (a sender that
 * retransmits after a reconnect sends the same values).
 */
static const char *derived_key(struct vg_pipeline *p, const struct vg_event *ev, const char *t,
                               size_t tl, size_t *len)
{
    size_t n, hn, an, pn;
    const char *id = vg_event_get_str(ev, "event.id", &n);
    char *k = NULL;
    if (id) {
        k = vg_arena_printf(p->scratch, "%.*s/id/%.*s", (int)tl, t ? t : "", (int)n, id);
    } else if ((id = vg_event_get_str(ev, "sequenceId", &n))) {
        const char *h = vg_event_get_str(ev, "hostname", &hn);
        const char *a = vg_event_get_str(ev, "program", &an);
        const char *pid = vg_event_get_str(ev, "pid", &pn);
        k = vg_arena_printf(p->scratch, "%.*s/seq/%.*s/%.*s/%.*s/%.*s", (int)tl, t ? t : "",
                            h ? (int)hn : 0, h ? h : "", a ? (int)an : 0, a ? a : "",
                            pid ? (int)pn : 0, pid ? pid : "", (int)n, id);
    }
    *len = k ? strlen(k) : 0;
    return k;
}

static int store_events(struct vg_pipeline *p, struct batch *b, uint64_t last,
                        struct vg_store_append_result *res)
{
    if (vg_grow(&p->items, &p->capitems, b->nev + 1, sizeof(*p->items)) != VG_OK ||
        vg_grow(&p->evs, &p->capevs, b->nev + 1, sizeof(*p->evs)) != VG_OK) {
        return VG_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < b->nev; i++) {
        const struct rref *r = &b->recs[b->ev_rec[i]];
        if (r->seq <= p->event_pos) {
            continue; /* stored before a restart */
        }
        size_t tl = 0, kl = 0;
        const char *t = rec_meta(b, r, "tenant", &tl);
        const char *k = rec_meta(b, r, "key", &kl);
        if (!k) {
            k = derived_key(p, b->pool[i], t, tl, &kl);
        }
        p->items[n] = (struct vg_store_item){t ? vg_arena_strndup(p->scratch, t, tl) : NULL, k, kl};
        p->evs[n++] = b->pool[i];
    }
    struct vg_store_append_opts o = {.items = p->items, .has_position = true, .position = last};
    char err[512];
    for (;;) {
        int rc = vg_store_append(p->st, p->evs, n, &o, res, err, sizeof(err));
        if (rc == VG_OK) {
            return VG_OK;
        }
        VG_ERR("pipeline", "storing %zu events: %s; retrying", n, err);
        p->stats.store_retries++;
        if (writer_should_give_up(p)) {
            return rc;
        }
        sleep(1);
    }
}

/*
 * Package inventories go to the vulnerability module in journal order, after the batch is
 * stored and before the journal is released: a crash replays them (recording is
 * idempotent). A failure is logged and counted there; the next inventory repairs the host.
 */
static void record_inventories(struct vg_pipeline *p, const struct batch *b)
{
    for (size_t i = 0; i < b->ninv; i++) {
        uint32_t e = b->inv[i];
        const struct rref *r = &b->recs[b->ev_rec[e]];
        size_t tl = 0, al = 0;
        const char *t = rec_meta(b, r, "tenant", &tl);
        const char *a = rec_meta(b, r, "agent", &al);
        vg_server_vuln_observe(p->o.vuln, t, tl, a, al, b->pool[e]);
    }
}

static int write_batch(struct vg_pipeline *p, struct batch *b)
{
    if (b->rc != VG_OK) {
        return b->rc;
    }
    uint64_t last = b->recs[b->nrecs - 1].seq;
    /*
     * Never store what a crash could still take back from the journal (its seq numbers
     * would be reused). Syncing here, not in the dispatcher, lets the fsync overlap with
     * the workers' decoding of the next batches; concurrent syncs are grouped.
     */
    while (vg_journal_sync(p->j, last) != VG_OK) {
        VG_ERR("pipeline", "journal sync failed; retrying");
        if (writer_should_give_up(p)) {
            return VG_EIO;
        }
        usleep(100000);
    }
    vg_arena_reset(p->scratch);
    p->nalerts = 0;
    int rc = batch_alerts(p, b);
    if (rc == VG_OK && p->nalerts && !p->o.no_store) {
        rc = store_alerts(p, last);
    }
    struct vg_store_append_result res = {.stored = b->nev};
    if (rc == VG_OK && !p->o.no_store) {
        rc = store_events(p, b, last, &res);
    }
    if (rc != VG_OK) {
        return rc;
    }
    record_inventories(p, b);
    if (!p->o.before_release || p->o.before_release(p->o.ctx, last) == VG_OK) {
        vg_journal_release(p->j, last);
    }
    pthread_mutex_lock(&p->mu);
    p->event_pos = last;
    p->stats.records += b->nrecs;
    p->stats.events += b->nev;
    p->stats.unparsed += b->unparsed;
    p->stats.matches += b->nm;
    p->stats.alerts += p->nalerts;
    p->stats.stored += res.stored;
    p->stats.duplicates += res.skipped;
    p->stats.batches++;
    p->stats.position = last;
    pthread_mutex_unlock(&p->mu);
    return VG_OK;
}

static void *writer_main(void *arg)
{
    struct vg_pipeline *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct batch *b = &p->slots[p->write_no % p->nslots];
        if (b->state != SLOT_DONE || b->no != p->write_no) {
            if (p->stop_all || (p->dispatch_done && p->write_no == p->next_no)) {
                break;
            }
            pthread_cond_wait(&p->cond, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        int rc = write_batch(p, b);
        pthread_mutex_lock(&p->mu);
        if (rc != VG_OK) {
            VG_ERR("pipeline",
                   "batch %" PRIu64 " not stored (%s): stopping the pipeline; its "
                   "records stay in the journal for the next start",
                   b->no, vg_strerror(rc));
            p->stop_all = true;
            pthread_cond_broadcast(&p->cond);
            break;
        }
        batch_clear(b);
        b->state = SLOT_FREE;
        p->write_no++;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---------------------------------------------------------------- lifecycle */

static uint64_t alerts_position(struct vg_store *st, uint64_t event_pos)
{
    char *v = NULL;
    size_t n = 0;
    uint64_t pos = 0;
    if (vg_store_state_get(st, ALERTS_POSITION_KEY, &v, &n) == VG_OK) {
        int64_t x;
        pos = vg_parse_i64(v, n, &x) == VG_OK && x > 0 ? (uint64_t)x : 0;
        vg_free(v);
    }
    return VG_MAX(pos, event_pos);
}

int vg_pipeline_create(struct vg_journal *j, struct vg_store *st, struct vg_detect_engine *eng,
                       const struct vg_pipeline_opts *o, struct vg_pipeline **out, char *err,
                       size_t errsz)
{
    struct vg_pipeline *p = vg_calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->j = j;
    p->st = st;
    p->eng = eng;
    p->o = *o;
    p->o.batch = p->o.batch ? p->o.batch : 1024;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    p->nworkers = o->workers > 0 ? o->workers : (int)VG_MAX(cpus, 1);
    p->nslots = (size_t)p->nworkers * 2 + 2;
    p->slots = vg_calloc(p->nslots, sizeof(*p->slots));
    p->workers = vg_calloc((size_t)p->nworkers, sizeof(*p->workers));
    p->scratch = vg_arena_create(1 << 16);
    if (!p->slots || !p->workers || !p->scratch) {
        vg_pipeline_destroy(p);
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    if (vg_store_position(st, &p->event_pos) != VG_OK) {
        p->event_pos = 0;
    }
    p->alert_pos = alerts_position(st, p->event_pos);
    p->read_pos = p->event_pos;
    p->stats.position = p->event_pos;
    *out = p;
    return VG_OK;
}

int vg_pipeline_start(struct vg_pipeline *p)
{
    for (int i = 0; i < p->nworkers; i++) {
        p->workers[i].p = p;
        if (pthread_create(&p->workers[i].th, NULL, worker_main, &p->workers[i]) != 0) {
            p->nworkers = i;
            return VG_ENOMEM;
        }
    }
    if (pthread_create(&p->writer, NULL, writer_main, p) != 0) {
        return VG_ENOMEM;
    }
    if (pthread_create(&p->dispatcher, NULL, dispatcher_main, p) != 0) {
        return VG_ENOMEM;
    }
    p->started = true;
    return VG_OK;
}

void vg_pipeline_stop(struct vg_pipeline *p, int drain_ms)
{
    if (!p || !p->started) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop_dispatch = true;
    p->drain_deadline_ns = vg_time_now() + (vg_time_t)drain_ms * 1000000;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    vg_journal_wake(p->j);
    pthread_join(p->dispatcher, NULL);
    pthread_join(p->writer, NULL);
    pthread_mutex_lock(&p->mu);
    p->stop_all = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++) {
        pthread_join(p->workers[i].th, NULL);
    }
    p->started = false;
}

void vg_pipeline_destroy(struct vg_pipeline *p)
{
    if (!p) {
        return;
    }
    vg_pipeline_stop(p, 0);
    for (size_t i = 0; p->slots && i < p->nslots; i++) {
        batch_fini(&p->slots[i]);
    }
    vg_free(p->slots);
    vg_free(p->workers);
    vg_correlator_destroy(p->corr);
    vg_ruleset_unref((struct vg_ruleset *)p->corr_rs);
    vg_free(p->prof);
    vg_ruleset_unref((struct vg_ruleset *)p->prof_rs);
    vg_arena_destroy(p->scratch);
    vg_free(p->alerts);
    vg_free(p->items);
    vg_free(p->evs);
    vg_sbuf_fini(&p->json);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    vg_free(p);
}

void vg_pipeline_get_stats(struct vg_pipeline *p, struct vg_pipeline_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->stats;
    pthread_mutex_unlock(&p->mu);
}

int vg_pipeline_wait(struct vg_pipeline *p, uint64_t seq, int timeout_ms)
{
    uint64_t deadline = vg_clock_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool done = p->event_pos >= seq;
        bool dead = p->stop_all;
        pthread_mutex_unlock(&p->mu);
        if (done) {
            return VG_OK;
        }
        if (dead || vg_clock_ns() > deadline) {
            return VG_AGAIN;
        }
        usleep(2000);
    }
}

bool vg_pipeline_alive(struct vg_pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    bool alive = p->started && !p->stop_all;
    pthread_mutex_unlock(&p->mu);
    return alive;
}

void vg_pipeline_rule_profile(struct vg_pipeline *p, vg_pipeline_prof_cb cb, void *ctx)
{
    pthread_mutex_lock(&p->mu);
    uint32_t n = p->prof_rs ? vg_ruleset_nrules(p->prof_rs) : 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct vg_detect_rule_prof *r = &p->prof[i];
        if (r->evals || r->matches) {
            cb(ctx, vg_ruleset_rule(p->prof_rs, i), (double)(r->ns << PROF_SHIFT) / 1e9,
               r->evals << PROF_SHIFT, r->matches);
        }
    }
    pthread_mutex_unlock(&p->mu);
}
