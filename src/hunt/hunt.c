/*
 * hunt.c — the `vigie hunt` pipeline: collect input files, decode and detect on a pool of
 * worker threads (one file per worker at a time), write each file's detections in input
 * order, replay correlation inputs in time order, and report progress and a summary.
 */
#include "hunt/hunt_int.h"
#include "decode/decode.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WARN_PER_FILE 5

struct input {
    char *path;
    uint64_t size;
};

/* A base-rule match kept for the correlation replay. */
struct snap {
    vg_time_t ts;
    uint32_t file;
    uint64_t seq;
    uint32_t rule, variant;
    char *json; /* the event's fields, flat JSON */
};

struct file_out {
    struct vg_sbuf buf;
    bool done;
    uint64_t events, bad, oversized, detections, bytes;
    uint64_t by_level[6];
    bool unreadable, skipped;
};

struct shared {
    struct vg_ruleset *rs;
    const struct vg_hunt_opts *o;
    struct input *in;
    size_t nin;
    struct file_out *out;
    atomic_size_t next;
    atomic_uint_fast64_t bytes_done, events_done, dets_done;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* correlation snapshots (merged under lock) */
    struct snap *snaps;
    size_t nsnaps, capsnaps;
    uint64_t *rule_hits; /* per rule (summary) */
    uint64_t candidates;
    int err;
};

struct worker {
    struct shared *sh;
    struct vg_detect_ctx *ctx;
    struct vg_event *ev;
    struct file_out *fo;
    uint32_t file;
    const char *path;
    struct snap *snaps;
    size_t nsnaps, capsnaps;
    uint64_t *rule_hits;
    uint64_t seq;
};

/* ---------------------------------------------------------------- inputs */

static int add_input(struct input **v, size_t *n, size_t *cap, const char *path, uint64_t size)
{
    if (vg_grow(v, cap, *n + 1, sizeof(**v)) != VG_OK) {
        return VG_ENOMEM;
    }
    (*v)[*n].path = vg_strdup(path);
    (*v)[*n].size = size;
    if (!(*v)[*n].path) {
        return VG_ENOMEM;
    }
    (*n)++;
    return VG_OK;
}

static int walk(const char *path, int depth, struct input **v, size_t *n, size_t *cap,
                uint64_t *unreadable)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "vigie: %s: %s\n", path, strerror(errno));
        (*unreadable)++;
        return VG_OK;
    }
    if (!S_ISDIR(st.st_mode)) {
        return add_input(v, n, cap, path, (uint64_t)st.st_size);
    }
    if (depth > 64) {
        return VG_OK;
    }
    struct dirent **list = NULL;
    int k = scandir(path, &list, NULL, alphasort);
    if (k < 0) {
        fprintf(stderr, "vigie: %s: %s\n", path, strerror(errno));
        (*unreadable)++;
        return VG_OK;
    }
    int rc = VG_OK;
    for (int i = 0; i < k; i++) {
        if (rc == VG_OK && list[i]->d_name[0] != '.') {
            char sub[4096];
            snprintf(sub, sizeof(sub), "%s/%s", path, list[i]->d_name);
            rc = walk(sub, depth + 1, v, n, cap, unreadable);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

/* ---------------------------------------------------------------- detection callback */

static int keep_snapshot(struct worker *w, const struct vg_detect_match *m, struct vg_event *ev)
{
    struct vg_sbuf js = VG_SBUF_INIT;
    vg_event_write_json(ev, &js);
    if (js.err || vg_grow(&w->snaps, &w->capsnaps, w->nsnaps + 1, sizeof(*w->snaps)) != VG_OK) {
        vg_sbuf_fini(&js);
        return VG_ENOMEM;
    }
    struct snap *s = &w->snaps[w->nsnaps++];
    s->ts = ev->ts == VG_TIME_NONE ? 0 : ev->ts;
    s->file = w->file;
    s->seq = w->seq++;
    s->rule = m->rule;
    s->variant = m->variant;
    s->json = vg_sbuf_take(&js, NULL);
    return s->json ? VG_OK : VG_ENOMEM;
}

static int on_detect(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    struct worker *w = ud;
    const struct vg_ruleset *rs = w->sh->rs;
    if (vg_ruleset_rule_correlated(rs, m->rule)) {
        int rc = keep_snapshot(w, m, ev);
        if (rc != VG_OK) {
            return rc;
        }
    }
    if (!vg_ruleset_rule_standalone(rs, m->rule) ||
        (w->sh->o->min_level && m->doc->level && m->doc->level < w->sh->o->min_level)) {
        return VG_OK;
    }
    w->rule_hits[m->rule]++;
    w->fo->detections++;
    w->fo->by_level[m->doc->level]++;
    atomic_fetch_add(&w->sh->dets_done, 1);
    hunt_format_detection(&w->fo->buf, w->sh->o->format, rs, m, ev, w->path);
    return w->fo->buf.err;
}

/* ---------------------------------------------------------------- one file */

static void hunt_file(struct worker *w, uint32_t idx)
{
    struct shared *sh = w->sh;
    struct file_out *fo = &sh->out[idx];
    const char *path = sh->in[idx].path;
    w->fo = fo;
    w->file = idx;
    w->path = path;
    struct vg_mapped map;
    int rc = vg_file_map(path, &map);
    if (rc != VG_OK) {
        fprintf(stderr, "vigie: %s: cannot read: %s\n", path,
                rc == VG_ENOENT ? "no such file" : strerror(errno));
        fo->unreadable = true;
        atomic_fetch_add(&sh->bytes_done, sh->in[idx].size);
        return;
    }
    struct vg_reader_limits lim = {.max_record = sh->o->max_record};
    struct vg_reader *r = NULL;
    rc = vg_reader_open(&r, map.p, map.len, &lim);
    if (rc == VG_OK && vg_reader_format(r) == VG_FMT_BINARY) {
        fprintf(stderr, "vigie: %s: skipped: not EVTX, JSON or text\n", path);
        fo->skipped = true;
    } else if (rc != VG_OK) {
        fprintf(stderr, "vigie: %s: %s\n", path,
                rc == VG_DECLINED ? "not a valid EVTX file" : vg_strerror(rc));
        fo->unreadable = rc != VG_DECLINED;
        fo->skipped = rc == VG_DECLINED;
    }
    uint64_t done = 0, warned = 0;
    while (r && !fo->skipped) {
        char err[256] = "";
        rc = vg_reader_next(r, w->ev, err, sizeof(err));
        if (rc == VG_EOF) {
            break;
        }
        if (rc == VG_OK) {
            fo->events++;
            rc = vg_detect_event(sh->rs, w->ctx, w->ev, on_detect, w);
            if (rc != VG_OK) {
                fprintf(stderr, "vigie: %s: detection stopped: %s\n", path, vg_strerror(rc));
                break;
            }
        } else if (rc == VG_ENOMEM) {
            fprintf(stderr, "vigie: %s: out of memory\n", path);
            break;
        } else if (warned++ < WARN_PER_FILE) {
            fprintf(stderr, "vigie: %s: %s\n", path, err);
        }
        uint64_t off = vg_reader_stats(r)->offset;
        if (off > done) {
            atomic_fetch_add(&sh->bytes_done, off - done);
            done = off;
        }
        if ((fo->events & 1023) == 0) {
            atomic_fetch_add(&sh->events_done, 1024);
        }
    }
    if (r) {
        const struct vg_reader_stats *st = vg_reader_stats(r);
        fo->bad = st->bad;
        fo->oversized = st->oversized;
        if (warned > WARN_PER_FILE) {
            fprintf(stderr, "vigie: %s: %llu more malformed records skipped\n", path,
                    (unsigned long long)(warned - WARN_PER_FILE));
        }
    }
    fo->bytes = map.len;
    atomic_fetch_add(&sh->bytes_done, map.len > done ? map.len - done : 0);
    atomic_fetch_add(&sh->events_done, fo->events & 1023);
    vg_reader_close(r);
    vg_file_unmap(&map);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    for (;;) {
        size_t i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->nin) {
            break;
        }
        hunt_file(w, (uint32_t)i);
        pthread_mutex_lock(&sh->lock);
        sh->out[i].done = true;
        pthread_cond_broadcast(&sh->cond);
        pthread_mutex_unlock(&sh->lock);
    }
    return NULL;
}

/* ---------------------------------------------------------------- progress */

static void human_bytes(uint64_t b, char *buf, size_t size)
{
    static const char *const u[] = {"B", "KB", "MB", "GB", "TB"};
    double d = (double)b;
    int i = 0;
    while (d >= 1000 && i < 4) {
        d /= 1000;
        i++;
    }
    snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", d, u[i]);
}

static void progress(struct shared *sh, uint64_t total, uint64_t t0, bool final)
{
    uint64_t done = atomic_load(&sh->bytes_done);
    double frac = total ? (double)done / (double)total : 1.0;
    frac = frac > 1 ? 1 : frac;
    double el = (double)(vg_clock_ns() - t0) / 1e9;
    char d[32], t[32];
    human_bytes(done, d, sizeof(d));
    human_bytes(total, t, sizeof(t));
    int width = 30, fill = (int)(frac * width);
    char bar[64];
    for (int i = 0; i < width; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[width] = '\0';
    double eta = frac > 0.01 ? el / frac - el : 0;
    fprintf(stderr, "\r\033[K[%s] %3.0f%%  %s / %s  %llu events  %llu detections  ETA %.0fs", bar,
            frac * 100, d, t, (unsigned long long)atomic_load(&sh->events_done),
            (unsigned long long)atomic_load(&sh->dets_done), eta);
    if (final) {
        fprintf(stderr, "\r\033[K");
    }
    fflush(stderr);
}

/* ---------------------------------------------------------------- correlation replay */

static int snap_cmp(const void *a, const void *b)
{
    const struct snap *x = a, *y = b;
    if (x->ts != y->ts) {
        return x->ts < y->ts ? -1 : 1;
    }
    if (x->file != y->file) {
        return x->file < y->file ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct corr_out {
    struct shared *sh;
    struct vg_hunt_result *res;
    const char *path;
    struct vg_sbuf buf;
};

static int on_corr(void *ud, const struct vg_corr_alert *a)
{
    struct corr_out *co = ud;
    if (!a->standalone ||
        (co->sh->o->min_level && a->doc->level && a->doc->level < co->sh->o->min_level)) {
        return VG_OK;
    }
    co->res->correlations++;
    co->res->by_level[a->doc->level]++;
    hunt_format_correlation(&co->buf, co->sh->o->format, a, co->path);
    if (co->buf.len > (1u << 20)) {
        fwrite(co->buf.p, 1, co->buf.len, co->sh->o->out);
        vg_sbuf_reset(&co->buf);
    }
    return co->buf.err;
}

static int replay_correlations(struct shared *sh, struct vg_hunt_result *res)
{
    if (!vg_ruleset_has_correlations(sh->rs)) {
        return VG_OK;
    }
    if (sh->nsnaps) {
        qsort(sh->snaps, sh->nsnaps, sizeof(*sh->snaps), snap_cmp);
    }
    struct vg_correlator *cor = vg_correlator_create(sh->rs, NULL);
    struct vg_event *ev = vg_event_create();
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct corr_out co = {.sh = sh, .res = res};
    int rc = cor && ev && jp ? VG_OK : VG_ENOMEM;
    for (size_t i = 0; i < sh->nsnaps && rc == VG_OK; i++) {
        struct snap *s = &sh->snaps[i];
        vg_event_reset(ev);
        size_t used;
        struct vg_json *doc;
        char err[128];
        if (vg_json_parse(jp, ev->arena, s->json, strlen(s->json), &used, &doc, err, sizeof(err)) !=
                VG_OK ||
            vg_event_from_json(ev, doc, NULL) != VG_OK) {
            continue;
        }
        ev->ts = s->ts;
        co.path = sh->in[s->file].path;
        struct vg_detect_match m = {s->rule, s->variant, vg_ruleset_rule(sh->rs, s->rule)};
        rc = vg_correlator_feed(cor, &m, ev, on_corr, &co);
    }
    co.path = NULL;
    if (rc == VG_OK) {
        rc = vg_correlator_flush(cor, on_corr, &co);
    }
    if (co.buf.len) {
        fwrite(co.buf.p, 1, co.buf.len, sh->o->out);
    }
    vg_sbuf_fini(&co.buf);
    vg_json_parser_destroy(jp);
    vg_event_destroy(ev);
    vg_correlator_destroy(cor);
    return rc;
}

/* ---------------------------------------------------------------- run */

static void merge_worker(struct shared *sh, struct worker *w)
{
    for (uint32_t i = 0; i < vg_ruleset_nrules(sh->rs); i++) {
        sh->rule_hits[i] += w->rule_hits[i];
    }
    sh->candidates += vg_detect_ctx_counters(w->ctx)->candidates;
    if (w->nsnaps &&
        vg_grow(&sh->snaps, &sh->capsnaps, sh->nsnaps + w->nsnaps, sizeof(*sh->snaps)) == VG_OK) {
        memcpy(sh->snaps + sh->nsnaps, w->snaps, w->nsnaps * sizeof(*w->snaps));
        sh->nsnaps += w->nsnaps;
    } else {
        for (size_t i = 0; i < w->nsnaps; i++) {
            vg_free(w->snaps[i].json);
        }
    }
    vg_free(w->snaps);
    vg_free(w->rule_hits);
    vg_detect_ctx_destroy(w->ctx);
    vg_event_destroy(w->ev);
}

/* Write finished files' output in input order; returns the next file not yet written. */
static size_t drain(struct shared *sh, size_t next, struct vg_hunt_result *res)
{
    while (next < sh->nin && sh->out[next].done) {
        struct file_out *fo = &sh->out[next];
        if (fo->buf.len) {
            fwrite(fo->buf.p, 1, fo->buf.len, sh->o->out);
        }
        vg_sbuf_fini(&fo->buf);
        res->files++;
        res->unreadable += fo->unreadable;
        res->skipped_files += fo->skipped;
        res->bytes += fo->bytes;
        res->events += fo->events;
        res->bad_records += fo->bad;
        res->oversized += fo->oversized;
        res->detections += fo->detections;
        for (int l = 0; l < 6; l++) {
            res->by_level[l] += fo->by_level[l];
        }
        next++;
    }
    return next;
}

static void print_summary(struct shared *sh, const struct vg_hunt_result *res);

int vg_hunt_run(struct vg_ruleset *rs, const struct vg_hunt_opts *o, struct vg_hunt_result *res)
{
    memset(res, 0, sizeof(*res));
    uint64_t t0 = vg_clock_ns();
    struct shared sh = {.rs = rs, .o = o};
    size_t cap = 0;
    int rc = VG_OK;
    for (size_t i = 0; i < o->ninputs && rc == VG_OK; i++) {
        rc = walk(o->inputs[i], 0, &sh.in, &sh.nin, &cap, &res->unreadable);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < sh.nin; i++) {
        total += sh.in[i].size;
    }
    int nthreads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = VG_MAX(1, VG_MIN(nthreads, 256));
    if ((size_t)nthreads > sh.nin && sh.nin) {
        nthreads = (int)sh.nin;
    }
    sh.out = vg_calloc(sh.nin + 1, sizeof(*sh.out));
    sh.rule_hits = vg_calloc(vg_ruleset_nrules(rs) + 1, sizeof(uint64_t));
    struct worker *ws = vg_calloc((size_t)nthreads, sizeof(*ws));
    pthread_t *tids = vg_calloc((size_t)nthreads, sizeof(*tids));
    if (rc != VG_OK || !sh.out || !sh.rule_hits || !ws || !tids) {
        rc = VG_ENOMEM;
        goto out;
    }
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.cond, NULL);
    if (o->format == VG_HUNT_CSV) {
        struct vg_sbuf h = VG_SBUF_INIT;
        hunt_csv_header(&h);
        fwrite(h.p, 1, h.len, o->out);
        vg_sbuf_fini(&h);
    }
    int started = 0;
    for (int i = 0; i < nthreads; i++) {
        ws[i].sh = &sh;
        ws[i].ctx = vg_detect_ctx_create(rs);
        ws[i].ev = vg_event_create();
        ws[i].rule_hits = vg_calloc(vg_ruleset_nrules(rs) + 1, sizeof(uint64_t));
        if (!ws[i].ctx || !ws[i].ev || !ws[i].rule_hits ||
            pthread_create(&tids[i], NULL, worker_main, &ws[i]) != 0) {
            rc = VG_ENOMEM;
            break;
        }
        started++;
    }
    size_t next = 0;
    uint64_t last_draw = 0;
    pthread_mutex_lock(&sh.lock);
    while (next < sh.nin && started) {
        if (!sh.out[next].done) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 100000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&sh.cond, &sh.lock, &ts);
        }
        pthread_mutex_unlock(&sh.lock);
        next = drain(&sh, next, res);
        if (o->progress && vg_clock_ns() - last_draw > 100000000) {
            progress(&sh, total, t0, false);
            last_draw = vg_clock_ns();
        }
        pthread_mutex_lock(&sh.lock);
    }
    pthread_mutex_unlock(&sh.lock);
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
    }
    for (int i = 0; i < nthreads; i++) {
        if (ws[i].ctx || ws[i].ev) {
            merge_worker(&sh, &ws[i]);
        }
    }
    if (o->progress) {
        progress(&sh, total, t0, true);
    }
    if (rc == VG_OK) {
        rc = replay_correlations(&sh, res);
    }
    fflush(o->out);
    res->candidates = sh.candidates;
    res->seconds = (double)(vg_clock_ns() - t0) / 1e9;
    if (o->summary) {
        print_summary(&sh, res);
    }
    pthread_mutex_destroy(&sh.lock);
    pthread_cond_destroy(&sh.cond);
out:
    for (size_t i = 0; i < sh.nsnaps; i++) {
        vg_free(sh.snaps[i].json);
    }
    vg_free(sh.snaps);
    for (size_t i = 0; i < sh.nin; i++) {
        vg_free(sh.in[i].path);
        if (sh.out) {
            vg_sbuf_fini(&sh.out[i].buf);
        }
    }
    vg_free(sh.in);
    vg_free(sh.out);
    vg_free(sh.rule_hits);
    vg_free(ws);
    vg_free(tids);
    return rc;
}

/* ---------------------------------------------------------------- summary */

struct hit {
    uint64_t n;
    uint32_t rule;
};

static int hit_cmp(const void *a, const void *b)
{
    const struct hit *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : (x->rule > y->rule) - (x->rule < y->rule);
}

static void print_summary(struct shared *sh, const struct vg_hunt_result *res)
{
    char b[32];
    human_bytes(res->bytes, b, sizeof(b));
    double eps = res->seconds > 0 ? (double)res->events / res->seconds : 0;
    fprintf(stderr, "\nvigie hunt: %llu events in %llu files (%s) in %.2f s — %.0f events/s\n",
            (unsigned long long)res->events, (unsigned long long)res->files, b, res->seconds, eps);
    fprintf(stderr, "detections: %llu", (unsigned long long)(res->detections + res->correlations));
    const char *sep = " (";
    for (int l = 5; l >= 1; l--) {
        if (res->by_level[l]) {
            fprintf(stderr, "%s%s %llu", sep, vg_sigma_level_name(l),
                    (unsigned long long)res->by_level[l]);
            sep = ", ";
        }
    }
    fprintf(stderr, "%s", *sep == ',' ? ")" : "");
    if (res->correlations) {
        fprintf(stderr, ", of which %llu from correlations", (unsigned long long)res->correlations);
    }
    fprintf(stderr, "\n");
    /* by ATT&CK tactic */
    static const char *const tactics[] = {"reconnaissance",  "resource_development",
                                          "initial_access",  "execution",
                                          "persistence",     "privilege_escalation",
                                          "defense_evasion", "credential_access",
                                          "discovery",       "lateral_movement",
                                          "collection",      "command_and_control",
                                          "exfiltration",    "impact"};
    uint64_t by_t[VG_ARRAY_LEN(tactics)] = {0};
    uint32_t nr = vg_ruleset_nrules(sh->rs);
    struct hit *hits = vg_calloc(nr + 1, sizeof(*hits));
    uint32_t nh = 0;
    for (uint32_t r = 0; r < nr; r++) {
        if (!sh->rule_hits[r]) {
            continue;
        }
        const struct vg_sigma_rule *d = vg_ruleset_rule(sh->rs, r);
        for (uint32_t t = 0; t < d->ntags; t++) {
            const char *name;
            if (!vg_sigma_tag_is_tactic(d->tags[t], &name)) {
                continue;
            }
            for (size_t k = 0; k < VG_ARRAY_LEN(tactics); k++) {
                if (!strcmp(tactics[k], name)) {
                    by_t[k] += sh->rule_hits[r];
                }
            }
        }
        if (hits) {
            hits[nh].n = sh->rule_hits[r];
            hits[nh].rule = r;
            nh++;
        }
    }
    bool any = false;
    for (size_t k = 0; k < VG_ARRAY_LEN(tactics); k++) {
        if (by_t[k]) {
            fprintf(stderr, "%s%s %llu", any ? ", " : "by ATT&CK tactic: ", tactics[k],
                    (unsigned long long)by_t[k]);
            any = true;
        }
    }
    if (any) {
        fprintf(stderr, "\n");
    }
    if (hits && nh) {
        qsort(hits, nh, sizeof(*hits), hit_cmp);
        fprintf(stderr, "top rules:\n");
        for (uint32_t i = 0; i < nh && i < 10; i++) {
            const struct vg_sigma_rule *d = vg_ruleset_rule(sh->rs, hits[i].rule);
            fprintf(stderr, "  %6llu  %-13s  %s\n", (unsigned long long)hits[i].n,
                    vg_sigma_level_name(d->level), d->title);
        }
    }
    vg_free(hits);
    if (res->candidates && res->events) {
        fprintf(stderr, "rules evaluated per event: %.2f (of %u loaded)\n",
                (double)res->candidates / (double)res->events, vg_ruleset_nrules(sh->rs));
    }
    if (res->bad_records || res->oversized || res->unreadable || res->skipped_files) {
        fprintf(stderr,
                "warnings: %llu malformed records skipped, %llu oversized records skipped, "
                "%llu inputs unreadable, %llu files of unsupported format\n",
                (unsigned long long)res->bad_records, (unsigned long long)res->oversized,
                (unsigned long long)res->unreadable, (unsigned long long)res->skipped_files);
    }
}
