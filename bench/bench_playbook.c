/*
 * bench_playbook.c — throughput of the playbook engine: runs/s and steps/s of a 5-step local
 * playbook (set/noop), every state change journalled in runs.db with group commit.
 *
 *   bench_playbook [runs] [trigger threads] [workers]     (defaults 20000 8 2)
 *
 * runs 1-100000000, threads 1-64, workers 0-256 (0: the engine's default); anything else
 * prints the usage and exits 2.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "respond/respond.h"
#include "respond/respond_action.h"

static const char pb[] = "id: five\ntriggers: [{on: alert}]\nsteps:\n"
                         "  - {id: a, action: set, with: {ip: '{{ alert.ip }}'}}\n"
                         "  - {id: b, action: set, with: {x: '{{ steps.a.output.ip }}'}}\n"
                         "  - {id: c, action: noop}\n"
                         "  - {id: d, action: set, with: {y: '{{ steps.b.output.x }}'}}\n"
                         "  - {id: e, action: noop}\n";

struct feeder {
    struct vg_respond *e;
    int first, count;
    int failed;
};

static void *feed(void *arg)
{
    struct feeder *f = arg;
    char ctx[128], key[32], err[256];
    for (int i = f->first; i < f->first + f->count; i++) {
        snprintf(ctx, sizeof(ctx), "{\"alert\":{\"id\":%d,\"ip\":\"10.0.%d.%d\"}}", i,
                 (i >> 8) & 255, i & 255);
        snprintf(key, sizeof(key), "alert:%d", i);
        size_t created = 0;
        if (vg_respond_trigger(f->e, "alert", "default", ctx, key, &created, err, sizeof(err)) !=
                VG_OK ||
            created != 1) {
            f->failed++;
        }
    }
    return NULL;
}

/* argv[i] as an integer in [lo, hi] (def when absent); false when it is anything else. */
static bool arg_int(int argc, char **argv, int i, int64_t lo, int64_t hi, int64_t def, int64_t *out)
{
    if (i >= argc) {
        *out = def;
        return true;
    }
    return vg_parse_i64(argv[i], strlen(argv[i]), out) == VG_OK && *out >= lo && *out <= hi;
}

int main(int argc, char **argv)
{
    int64_t r = 0, t = 0, w = 0;
    if (argc > 4 || !arg_int(argc, argv, 1, 1, 100000000, 20000, &r) ||
        !arg_int(argc, argv, 2, 1, 64, 8, &t) || !arg_int(argc, argv, 3, 0, 256, 2, &w)) {
        fprintf(stderr, "usage: bench_playbook [runs 1-100000000] [threads 1-64] "
                        "[workers 0-256, 0: the engine's default]\n");
        return 2;
    }
    int runs = (int)r, nthreads = (int)t;
    unsigned workers = (unsigned)w;
    char dir[] = "/tmp/vg-bench-playbook-XXXXXX", err[512] = "";
    if (!mkdtemp(dir)) {
        return 1;
    }
    struct vg_respond_services svc = {0};
    struct vg_respond_opts o = {.data_dir = dir, .workers = workers, .svc = &svc};
    struct vg_respond *e = NULL;
    if (vg_respond_create(&o, &e, err, sizeof(err)) != VG_OK ||
        vg_respond_playbook_put(e, "five.yml", pb, strlen(pb), err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_playbook: %s\n", err);
        return 1;
    }
    struct feeder f[64];
    pthread_t th[64];
    uint64_t t0 = vg_clock_ns();
    for (int i = 0; i < nthreads; i++) {
        f[i] = (struct feeder){e, i * (runs / nthreads), runs / nthreads, 0};
        pthread_create(&th[i], NULL, feed, &f[i]);
    }
    int failed = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        failed += f[i].failed;
    }
    uint64_t t_trig = vg_clock_ns();
    int idle = vg_respond_wait_idle(e, 600000);
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    struct vg_respond_stats st;
    vg_respond_stats(e, &st);
    int total = runs / nthreads * nthreads;
    printf("bench_playbook: %d runs of a 5-step local playbook, %d trigger threads, %u workers\n",
           total, nthreads, workers);
    printf("  triggers accepted in %.2f s; all runs ended in %.2f s%s (%d trigger failures)\n",
           (double)(t_trig - t0) / 1e9, secs, idle == VG_OK ? "" : " (TIMED OUT)", failed);
    printf("  %.0f runs/s, %.0f steps/s; runs ended %llu, steps %llu\n",
           (double)st.runs_ended / secs, (double)st.steps_run / secs,
           (unsigned long long)st.runs_ended, (unsigned long long)st.steps_run);
    printf("  journal: %llu changes in %llu transactions (%.1f per commit)\n",
           (unsigned long long)st.journal_changes, (unsigned long long)st.journal_batches,
           st.journal_batches ? (double)st.journal_changes / (double)st.journal_batches : 0.0);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 && idle == VG_OK && failed == 0 ? 0 : 1;
}
