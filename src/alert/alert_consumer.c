/*
 * alert_consumer.c — the consumer thread: reads the store's alerts after the triage position
 * in id order, a batch at a time, and triages them (vg_triage_process, hooks included).
 * It wakes on vg_triage_notify (the server's writer appended alerts) or every poll_ms; a
 * batch a hook refused is retried after retry_ms.
 */
#include "alert/alert_int.h"

#include <string.h>
#include <time.h>

struct batch {
    struct vg_arena *ar;
    struct vg_store_alert *a;
    size_t n, cap;
};

static const char *dup_opt(struct vg_arena *ar, const char *s)
{
    return s ? vg_arena_strdup(ar, s) : NULL;
}

/* Copy each alert: the store's strings live only during the callback. */
static int batch_add(void *ctx, const struct vg_store_alert *a)
{
    struct batch *b = ctx;
    if (b->n == b->cap) {
        return VG_STORE_STOP;
    }
    struct vg_store_alert *c = &b->a[b->n++];
    *c = *a;
    c->tenant = dup_opt(b->ar, a->tenant);
    c->rule_id = dup_opt(b->ar, a->rule_id);
    c->title = dup_opt(b->ar, a->title);
    c->tags = dup_opt(b->ar, a->tags);
    c->attack = dup_opt(b->ar, a->attack);
    c->host = dup_opt(b->ar, a->host);
    c->user = dup_opt(b->ar, a->user);
    c->src_ip = dup_opt(b->ar, a->src_ip);
    c->dst_ip = dup_opt(b->ar, a->dst_ip);
    c->process = dup_opt(b->ar, a->process);
    c->event_json = dup_opt(b->ar, a->event_json);
    return VG_OK;
}

/* Wait until notified, stopping, or ms passed. Called with the mutex held. */
static void wait_ms(struct vg_triage *t, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (!t->woken && !t->stopping) {
        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) != 0) {
            break;
        }
    }
    t->woken = false;
}

struct min_id {
    int64_t min;
    size_t n;
};

static int min_id_of(void *ctx, const struct vg_store_alert *a)
{
    struct min_id *m = ctx;
    m->min = !m->min || a->id < m->min ? a->id : m->min;
    m->n++;
    return VG_OK;
}

/*
 * Where to read from: after the position. At position 0 the store cannot read forward
 * (after_id must be > 0), so alert 1 is read by id, or, when retention deleted it, the
 * smallest id is found once by paging back from the newest alert.
 */
static int start_query(struct vg_triage *t, struct vg_store_alert_query *q, char *err, size_t errsz)
{
    int64_t pos = vg_triage_position(t);
    if (pos > 0) {
        q->after_id = pos;
        return VG_OK;
    }
    struct min_id m = {0, 0};
    struct vg_store_alert_query f = {.from = VG_TIME_NONE,
                                     .to = VG_TIME_NONE,
                                     .id = 1,
                                     .limit = 1,
                                     .on_alert = min_id_of,
                                     .ctx = &m};
    int rc = vg_store_alert_query(t->store, &f, err, errsz);
    if (rc != VG_OK || m.n) {
        q->id = 1;
        return rc;
    }
    f.id = 0;
    f.limit = 10000;
    do { /* paging back by id: ends with the smallest id */
        m.n = 0;
        f.before_id = m.min;
        rc = vg_store_alert_query(t->store, &f, err, errsz);
    } while (rc == VG_OK && m.n == f.limit);
    q->after_id = m.min > 1 ? m.min - 1 : 0;
    q->limit = m.min ? q->limit : 0;
    return rc;
}

/* One round: read a batch and triage it. *full: the batch was full (more may wait). */
static int round_once(struct vg_triage *t, struct batch *b, bool *full)
{
    char err[512];
    vg_arena_reset(b->ar);
    b->n = 0;
    struct vg_store_alert_query q = {
        .from = VG_TIME_NONE, .to = VG_TIME_NONE, .limit = b->cap, .on_alert = batch_add, .ctx = b};
    int rc = start_query(t, &q, err, sizeof(err));
    if (rc == VG_OK && q.limit && (q.after_id > 0 || q.id > 0)) {
        rc = vg_store_alert_query(t->store, &q, err, sizeof(err));
    }
    *full = rc == VG_OK && (b->n == b->cap || q.id > 0);
    if (rc == VG_OK && b->n) {
        rc = vg_triage_process(t, b->a, b->n, &t->hooks, NULL, err, sizeof(err));
    }
    if (rc == VG_AGAIN) {
        VG_WARN("triage", "%s", err);
    } else if (rc != VG_OK) {
        VG_ERR("triage", "%s", err);
    }
    return rc;
}

static void *consumer_main(void *arg)
{
    struct vg_triage *t = arg;
    struct batch b = {vg_arena_create(1 << 20), NULL, 0, (size_t)t->o.batch};
    b.a = vg_calloc(b.cap, sizeof(*b.a));
    if (!b.ar || !b.a) {
        VG_ERR("triage", "consumer: out of memory");
        goto out;
    }
    for (;;) {
        bool full = false;
        int rc = round_once(t, &b, &full);
        tx_lock(t);
        if (t->stopping) {
            tx_unlock(t);
            break;
        }
        if (!full || rc != VG_OK) {
            wait_ms(t, rc == VG_OK ? t->o.poll_ms : t->o.retry_ms);
        }
        tx_unlock(t);
    }
out:
    vg_free(b.a);
    vg_arena_destroy(b.ar);
    return NULL;
}

int vg_triage_start(struct vg_triage *t, struct vg_store *store, const struct vg_triage_hooks *h)
{
    tx_lock(t);
    int rc = t->started ? VG_EEXIST : VG_OK;
    if (rc == VG_OK) {
        t->store = store;
        memset(&t->hooks, 0, sizeof(t->hooks));
        if (h) {
            t->hooks = *h;
        }
        t->stopping = false;
        rc = pthread_create(&t->thread, NULL, consumer_main, t) ? VG_ERROR : VG_OK;
        t->started = rc == VG_OK;
    }
    tx_unlock(t);
    return rc;
}

void vg_triage_notify(struct vg_triage *t)
{
    tx_lock(t);
    t->woken = true;
    pthread_cond_signal(&t->cv);
    tx_unlock(t);
}

void vg_triage_stop(struct vg_triage *t)
{
    tx_lock(t);
    bool join = t->started;
    t->stopping = true;
    pthread_cond_signal(&t->cv);
    tx_unlock(t);
    if (join) {
        pthread_join(t->thread, NULL);
        tx_lock(t);
        t->started = false;
        tx_unlock(t);
    }
}

int vg_triage_wait_idle(struct vg_triage *t, int64_t timeout_ms)
{
    uint64_t end = vg_clock_ns() + (uint64_t)timeout_ms * 1000000ULL;
    while (vg_clock_ns() < end) {
        struct min_id m = {0, 0};
        char err[256];
        struct vg_store_alert_query q = {
            .from = VG_TIME_NONE, .to = VG_TIME_NONE, .limit = 1, .on_alert = min_id_of, .ctx = &m};
        if (!t->store || vg_store_alert_query(t->store, &q, err, sizeof(err)) != VG_OK) {
            return VG_EIO;
        }
        /* the newest alert (ts order) is not always the largest id: check forward too */
        q.after_id = vg_triage_position(t);
        m.n = 0;
        if (q.after_id > 0 && vg_store_alert_query(t->store, &q, err, sizeof(err)) != VG_OK) {
            return VG_EIO;
        }
        if (q.after_id > 0 ? !m.n : !m.min) {
            return VG_OK;
        }
        vg_triage_notify(t);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return VG_ETIMEOUT;
}
