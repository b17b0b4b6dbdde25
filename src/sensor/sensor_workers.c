/*
 * sensor_workers.c — N engines on N threads fed by flow hash (see sensor_workers.h).
 *
 * Each worker owns a single-producer/single-consumer byte ring. A ring entry is a 32-byte
 * header (kind, lengths, time, capture number) followed by the frame's bytes, padded to 8;
 * an entry never wraps: when the end of the buffer is too close, the producer writes a WRAP
 * header (or leaves fewer than 32 bytes, which the consumer skips alike) and starts again at
 * offset 0. head and tail are byte counters that only grow; the producer publishes head with
 * a release store after writing an entry, the consumer publishes tail after processing one,
 * and each side caches the other's counter so the shared cache lines move only when needed.
 *
 * A worker with nothing to read sleeps on a condition variable: it sets `sleeping` and
 * re-checks head under its mutex before waiting; the producer, after publishing, signals
 * only when it sees `sleeping` (both accesses sequentially consistent, so one of the two
 * sees the other). The wait has a 100 ms bound anyway. A producer facing a full ring either
 * drops (live) or yields and sleeps briefly until the worker frees room (files).
 */
#include "sensor/sensor_workers.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_RING  (16u << 20)
#define MIN_RING      (1u << 20)
#define DEFAULT_BATCH (256u << 10)
#define HDR_SIZE      32u
#define COMP          "sensor"

enum rec_kind { REC_FRAME = 1, REC_TICK = 2, REC_WRAP = 3 };

struct rec_hdr {
    uint32_t kind;
    uint32_t caplen;
    uint32_t origlen;
    uint32_t linktype;
    uint64_t ts_ns; /* frame time, or the tick's clock */
    uint64_t pcap_cnt;
};
_Static_assert(sizeof(struct rec_hdr) == HDR_SIZE, "ring header is 32 bytes");

struct worker {
    struct vg_sensor_workers *w;
    uint32_t index;
    pthread_t thread;
    bool started;
    struct vg_sensor_engine *eng;
    uint8_t *buf;
    size_t size;
    /* producer side */
    _Alignas(64) _Atomic uint64_t head;
    uint64_t tail_cache;
    uint64_t pushed, dropped;
    /* consumer side (tail is published every few entries: it is the line the producer
       reads only when its cached copy says the ring is full) */
    _Alignas(64) _Atomic uint64_t tail;
    /* read by the producer after every entry: alone on its line, written only on sleep */
    _Alignas(64) _Atomic int sleeping;
    _Alignas(64) pthread_mutex_t mu;
    pthread_cond_t cv;
    struct vg_sbuf lines; /* this worker's pending output (whole lines) */
};

struct vg_sensor_workers {
    struct vg_sensor_workers_opts o;
    const struct vg_sensor_workers_engine_ops *ops;
    struct vg_sensor_engine_config ecfg[VG_SENSOR_WORKERS_MAX];
    struct worker *wk;
    uint32_t n;
    _Atomic int stopping;
    bool finished;
    pthread_mutex_t out_mu;
    uint64_t too_big, waits;
    struct vg_sensor_engine_stats est;
};

/* The sensor's engine (sensor_app.h). */
static const struct vg_sensor_workers_engine_ops engine_ops = {
    .create = vg_sensor_engine_create,
    .frame = vg_sensor_engine_frame,
    .tick = vg_sensor_engine_tick,
    .flush = vg_sensor_engine_flush,
    .stats = vg_sensor_engine_stats,
    .destroy = vg_sensor_engine_destroy,
};

/* ------------------------------------------------------------------ hashing */

uint32_t vg_sensor_workers_pick(const struct vg_sensor_pkt *p, uint32_t n)
{
    if (n <= 1 || (p->ip_version != 4 && p->ip_version != 6)) {
        return 0;
    }
    struct {
        uint8_t lo[16], hi[16];
        uint16_t plo, phi, vlan;
        uint8_t proto, pad;
    } k;
    size_t alen = p->ip_version == 4 ? 4 : 16;
    uint16_t sp = p->is_fragment ? 0 : p->sport, dp = p->is_fragment ? 0 : p->dport;
    int c = memcmp(p->src, p->dst, alen);
    bool swap = c > 0 || (c == 0 && sp > dp);
    memset(&k, 0, sizeof(k));
    memcpy(k.lo, swap ? p->dst : p->src, alen);
    memcpy(k.hi, swap ? p->src : p->dst, alen);
    k.plo = swap ? dp : sp;
    k.phi = swap ? sp : dp;
    k.vlan = 0; /* not hashed: with asymmetric tagging (--no-vlan-tracking) the two directions
                   of a flow carry different tags and must still meet in one worker */
    k.proto = p->proto;
    uint64_t h = vg_hash64(&k, sizeof(k), 0x5eed5eedu);
    return (uint32_t)(((h >> 32) * (uint64_t)n) >> 32);
}

/* ------------------------------------------------------------------ output */

static void lines_flush(struct worker *k)
{
    if (!k->lines.len) {
        return;
    }
    pthread_mutex_lock(&k->w->out_mu);
    k->w->o.out(k->w->o.out_ctx, k->lines.p, k->lines.len);
    pthread_mutex_unlock(&k->w->out_mu);
    vg_sbuf_reset(&k->lines);
}

/* The engine's sink: whole lines into the worker's buffer. */
static void worker_sink(void *ctx, const char *line, size_t len)
{
    struct worker *k = ctx;
    vg_sbuf_add(&k->lines, line, len);
    if (k->lines.err) { /* out of memory: hand over what we have, lose this line */
        VG_WARN(COMP, "worker %u: output buffer allocation failed", k->index);
        k->lines.err = 0;
        k->lines.len = 0;
        return;
    }
    if (k->lines.len >= k->w->o.out_batch) {
        lines_flush(k);
    }
}

/* ------------------------------------------------------------------ consumer */

static size_t rec_size(uint32_t caplen)
{
    return HDR_SIZE + (((size_t)caplen + 7u) & ~(size_t)7u);
}

/* Wait until head moves past tail or the producer stops (bounded wait). */
static void worker_wait(struct worker *k, uint64_t tail)
{
    lines_flush(k); /* an idle worker's lines go out now, not at the next batch */
    pthread_mutex_lock(&k->mu);
    atomic_store(&k->sleeping, 1);
    if (atomic_load(&k->head) == tail && !atomic_load(&k->w->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    }
    atomic_store(&k->sleeping, 0);
    pthread_mutex_unlock(&k->mu);
}

/* Process the entry at tail; returns the bytes it used. */
static size_t worker_entry(struct worker *k, uint64_t tail)
{
    size_t pos = (size_t)(tail % k->size), room = k->size - pos;
    if (room < HDR_SIZE) {
        return room;
    }
    const struct rec_hdr *h = (const struct rec_hdr *)(const void *)(k->buf + pos);
    if (h->kind == REC_WRAP) {
        return room;
    }
    if (h->kind == REC_TICK) {
        k->w->ops->tick(k->eng, (int64_t)h->ts_ns);
        return HDR_SIZE;
    }
    struct vg_sensor_frame f = {.data = k->buf + pos + HDR_SIZE,
                                .caplen = h->caplen,
                                .origlen = h->origlen,
                                .ts_ns = h->ts_ns,
                                .linktype = h->linktype};
    k->w->ops->frame(k->eng, &f, h->pcap_cnt);
    return rec_size(h->caplen);
}

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    uint64_t tail = atomic_load_explicit(&k->tail, memory_order_relaxed);
    for (;;) {
        uint64_t head = atomic_load_explicit(&k->head, memory_order_acquire);
        if (head == tail) {
            if (atomic_load(&k->w->stopping) && atomic_load(&k->head) == tail) {
                break;
            }
            worker_wait(k, tail);
            continue;
        }
        for (unsigned i = 1; tail != head; i++) {
            tail += worker_entry(k, tail);
            if ((i & 31) == 0 || tail == head) {
                atomic_store_explicit(&k->tail, tail, memory_order_release);
            }
        }
    }
    k->w->ops->flush(k->eng);
    lines_flush(k);
    return NULL;
}

/* ------------------------------------------------------------------ producer */

static void worker_wake(struct worker *k)
{
    if (atomic_load(&k->sleeping)) {
        pthread_mutex_lock(&k->mu);
        pthread_cond_signal(&k->cv);
        pthread_mutex_unlock(&k->mu);
    }
}

/*
 * Room for an entry of need bytes at head (plus the bytes skipped to wrap): VG_OK with *pos
 * (the entry's offset); VG_AGAIN when the ring is full now.
 */
static int ring_reserve(struct worker *k, size_t need, uint64_t *head, size_t *skip)
{
    uint64_t h = atomic_load_explicit(&k->head, memory_order_relaxed);
    size_t pos = (size_t)(h % k->size), room = k->size - pos;
    *skip = room < need ? room : 0;
    size_t total = need + *skip;
    if (h + total - k->tail_cache > k->size) {
        k->tail_cache = atomic_load_explicit(&k->tail, memory_order_acquire);
        if (h + total - k->tail_cache > k->size) {
            return VG_AGAIN;
        }
    }
    *head = h;
    return VG_OK;
}

/* Write one entry (hdr + data) into worker k, waiting or dropping when full. */
static int ring_put(struct vg_sensor_workers *w, struct worker *k, const struct rec_hdr *hdr,
                    const uint8_t *data, bool may_drop)
{
    size_t need = rec_size(hdr->caplen), skip = 0;
    uint64_t h = 0;
    unsigned spins = 0;
    while (ring_reserve(k, need, &h, &skip) != VG_OK) {
        if (may_drop) {
            return VG_ELIMIT;
        }
        worker_wake(k);
        if (spins++ == 0) {
            w->waits++;
        }
        if (spins < 64) {
            sched_yield();
        } else {
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
    if (skip >= HDR_SIZE) {
        struct rec_hdr wrap = {.kind = REC_WRAP};
        memcpy(k->buf + (size_t)(h % k->size), &wrap, sizeof(wrap));
    }
    h += skip;
    size_t pos = (size_t)(h % k->size);
    memcpy(k->buf + pos, hdr, HDR_SIZE);
    if (hdr->caplen) {
        memcpy(k->buf + pos + HDR_SIZE, data, hdr->caplen);
    }
    atomic_store(&k->head, h + need); /* seq_cst: ordered before the sleeping check */
    worker_wake(k);
    return VG_OK;
}

int vg_sensor_workers_push(struct vg_sensor_workers *w, const struct vg_sensor_frame *f,
                           uint64_t pcap_cnt)
{
    struct vg_sensor_pkt p;
    if (rec_size(f->caplen) > w->wk[0].size / 4) {
        w->too_big++;
        return VG_ELIMIT;
    }
    uint32_t i = 0;
    if (w->n > 1) {
        (void)vg_sensor_decode(&p, f->linktype, f->data, f->caplen); /* anomalies: engine's */
        i = vg_sensor_workers_pick(&p, w->n);
    }
    struct worker *k = &w->wk[i];
    struct rec_hdr hdr = {.kind = REC_FRAME,
                          .caplen = f->caplen,
                          .origlen = f->origlen,
                          .linktype = f->linktype,
                          .ts_ns = f->ts_ns,
                          .pcap_cnt = pcap_cnt};
    if (ring_put(w, k, &hdr, f->data, w->o.drop_when_full) != VG_OK) {
        k->dropped++;
        return VG_ELIMIT;
    }
    k->pushed++;
    return VG_OK;
}

void vg_sensor_workers_tick(struct vg_sensor_workers *w, int64_t now_ns)
{
    struct rec_hdr hdr = {.kind = REC_TICK, .ts_ns = (uint64_t)now_ns};
    for (uint32_t i = 0; i < w->n && !w->finished; i++) {
        (void)ring_put(w, &w->wk[i], &hdr, NULL, true); /* a full ring is busy: no tick needed */
    }
}

/* ------------------------------------------------------------------ lifecycle */

static void add_stats(struct vg_sensor_engine_stats *a, const struct vg_sensor_engine_stats *b)
{
    a->packets += b->packets;
    a->bytes += b->bytes;
    a->decode_errors += b->decode_errors;
    a->anomalies += b->anomalies;
    a->tcp_segments += b->tcp_segments;
    a->tcp_reassembled_bytes += b->tcp_reassembled_bytes;
    a->tcp_gaps += b->tcp_gaps;
    a->tcp_ooo_dropped += b->tcp_ooo_dropped;
    a->tcp_memcap_hits += b->tcp_memcap_hits;
    a->app_records += b->app_records;
    a->app_errors += b->app_errors;
    a->alerts += b->alerts;
    a->flows.active += b->flows.active;
    a->flows.created += b->flows.created;
    a->flows.timed_out += b->flows.timed_out;
    a->flows.evicted += b->flows.evicted;
    a->flows.flushed += b->flows.flushed;
    a->flows.packets += b->flows.packets;
}

void vg_sensor_workers_finish(struct vg_sensor_workers *w)
{
    if (!w || w->finished) {
        return;
    }
    w->finished = true;
    atomic_store(&w->stopping, 1);
    for (uint32_t i = 0; i < w->n; i++) {
        struct worker *k = &w->wk[i];
        pthread_mutex_lock(&k->mu);
        pthread_cond_signal(&k->cv);
        pthread_mutex_unlock(&k->mu);
    }
    for (uint32_t i = 0; i < w->n; i++) {
        struct worker *k = &w->wk[i];
        if (k->started) {
            pthread_join(k->thread, NULL);
            k->started = false;
        }
        if (k->eng) {
            struct vg_sensor_engine_stats es;
            w->ops->stats(k->eng, &es);
            add_stats(&w->est, &es);
        }
    }
}

static int worker_init(struct vg_sensor_workers *w, uint32_t i, char *err, size_t errsz)
{
    struct worker *k = &w->wk[i];
    k->w = w;
    k->index = i;
    k->size = w->o.ring_bytes;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    k->buf = vg_malloc(k->size);
    if (!k->buf || vg_sbuf_reserve(&k->lines, w->o.out_batch + 4096) != VG_OK) {
        snprintf(err, errsz, "worker %u: out of memory for its ring", i);
        return VG_ENOMEM;
    }
    int rc = w->ops->create(&w->ecfg[i], worker_sink, k, &k->eng);
    if (rc != VG_OK) {
        snprintf(err, errsz, "worker %u: engine: %s", i, vg_strerror(rc));
        return rc;
    }
    if (pthread_create(&k->thread, NULL, worker_main, k) != 0) {
        snprintf(err, errsz, "worker %u: cannot start its thread: %s", i, strerror(errno));
        return VG_EIO;
    }
    k->started = true;
    return VG_OK;
}

int vg_sensor_workers_create(const struct vg_sensor_workers_opts *o, struct vg_sensor_workers **out,
                             char *err, size_t errsz)
{
    *out = NULL;
    if (!o || !o->out || o->n < 1 || o->n > VG_SENSOR_WORKERS_MAX) {
        snprintf(err, errsz, "workers: between 1 and %d, with an output", VG_SENSOR_WORKERS_MAX);
        return VG_EINVAL;
    }
    struct vg_sensor_workers *w = vg_calloc(1, sizeof(*w));
    if (!w || !(w->wk = vg_calloc(o->n, sizeof(*w->wk)))) {
        vg_free(w);
        return VG_ENOMEM;
    }
    w->o = *o;
    w->o.ring_bytes =
        o->ring_bytes ? VG_MAX(o->ring_bytes, (size_t)MIN_RING) & ~(size_t)7u : DEFAULT_RING;
    w->o.out_batch = o->out_batch ? o->out_batch : DEFAULT_BATCH;
    w->n = o->n;
    w->ops = o->ops ? o->ops : &engine_ops;
    pthread_mutex_init(&w->out_mu, NULL);
    int rc = VG_OK;
    for (uint32_t i = 0; i < w->n; i++) {
        if (o->engine) {
            w->ecfg[i] = *o->engine;
        } else {
            vg_sensor_engine_config_default(&w->ecfg[i]);
        }
        w->ecfg[i].worker = i;
    }
    for (uint32_t i = 0; i < w->n && rc == VG_OK; i++) {
        rc = worker_init(w, i, err, errsz);
    }
    if (rc != VG_OK) {
        vg_sensor_workers_destroy(w);
        return rc;
    }
    *out = w;
    return VG_OK;
}

void vg_sensor_workers_stats(const struct vg_sensor_workers *w, struct vg_sensor_workers_stats *st)
{
    memset(st, 0, sizeof(*st));
    for (uint32_t i = 0; i < w->n; i++) {
        st->frames += w->wk[i].pushed;
        st->dropped += w->wk[i].dropped;
        st->per_worker[i] = w->wk[i].pushed;
    }
    st->too_big = w->too_big;
    st->waits = w->waits;
    st->engine = w->est;
}

void vg_sensor_workers_destroy(struct vg_sensor_workers *w)
{
    if (!w) {
        return;
    }
    w->finished = false; /* a failed create: join what started */
    vg_sensor_workers_finish(w);
    for (uint32_t i = 0; i < w->n; i++) {
        struct worker *k = &w->wk[i];
        if (!k->w) {
            continue; /* never initialised (a failed create) */
        }
        if (k->eng) {
            w->ops->destroy(k->eng);
        }
        vg_free(k->buf);
        vg_sbuf_fini(&k->lines);
        pthread_mutex_destroy(&k->mu);
        pthread_cond_destroy(&k->cv);
    }
    pthread_mutex_destroy(&w->out_mu);
    vg_free(w->wk);
    vg_free(w);
}

/* ------------------------------------------------------------------ producers */

int vg_sensor_workers_run_file(struct vg_sensor_workers *w, const char *path,
                               const volatile sig_atomic_t *stop, char *err, size_t errsz)
{
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame f;
    uint64_t cnt = 0;
    int rc = vg_sensor_pcap_open_file(&r, path, err, errsz);
    while (rc == VG_OK && !(stop && *stop)) {
        rc = vg_sensor_pcap_next(r, &f);
        if (rc == VG_OK) {
            (void)vg_sensor_workers_push(w, &f, ++cnt);
        }
    }
    if (rc != VG_OK && rc != VG_EOF && r) {
        snprintf(err, errsz, "%s: %s", path, vg_sensor_pcap_error(r));
    }
    vg_sensor_pcap_destroy(r);
    return rc == VG_EOF ? VG_OK : rc;
}

struct live_feed {
    struct vg_sensor_workers *w;
    uint64_t cnt;
};

static void live_frame(void *ctx, const struct vg_sensor_frame *f)
{
    struct live_feed *lf = ctx;
    (void)vg_sensor_workers_push(lf->w, f, ++lf->cnt);
}

static void live_tick(void *ctx, int64_t now_ns)
{
    struct live_feed *lf = ctx;
    vg_sensor_workers_tick(lf->w, now_ns);
}

int vg_sensor_workers_run_live(struct vg_sensor_workers *w, struct vg_sensor_live *l,
                               const volatile sig_atomic_t *stop)
{
    struct live_feed lf = {.w = w};
    return vg_sensor_live_run(l, stop, live_frame, live_tick, &lf);
}

void vg_sensor_workers_out_stdio(void *ctx, const char *lines, size_t len)
{
    FILE *f = ctx;
    if (fwrite(lines, 1, len, f) != len) {
        VG_WARN(COMP, "output: write failed: %s", strerror(errno));
    }
}
