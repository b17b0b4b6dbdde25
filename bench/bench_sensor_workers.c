/*
 * bench_sensor_workers.c — worker scaling of vigie-sensor (sensor_workers.h) on one pcap:
 * the engine on the reading thread (no rings), then 1, 2 (, N) workers fed by flow hash.
 * Output records are counted, not written. Prints packets/s and Gbit/s of captured bytes.
 *
 *   bench_sensor_workers [PCAP] [MAX_WORKERS]
 *
 * PCAP defaults to the peers' mixed capture ~/.cache/vigie-peers/pcap/lo.pcap (see
 * bench/sensor_vs_peers.sh).
 */
#include "sensor/sensor_workers.h"

#include <stdatomic.h>
#include <stdlib.h>

static _Atomic uint64_t out_bytes, out_lines;

static void count_lines(void *ctx, const char *lines, size_t len)
{
    (void)ctx;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        n += lines[i] == '\n';
    }
    atomic_fetch_add(&out_bytes, len);
    atomic_fetch_add(&out_lines, n);
}

static void count_line(void *ctx, const char *line, size_t len)
{
    count_lines(ctx, line, len);
}

static void report(const char *name, uint64_t pkts, uint64_t bytes, uint64_t ns)
{
    double s = (double)ns / 1e9;
    printf("%-22s %9.3f s  %10.0f packets/s  %6.2f Gbit/s  %llu records\n", name, s, pkts / s,
           bytes * 8 / s / 1e9, (unsigned long long)atomic_load(&out_lines));
}

static int direct(const char *path)
{
    struct vg_sensor_engine_config cfg;
    struct vg_sensor_engine *e = NULL;
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame f;
    char err[512];
    uint64_t n = 0, bytes = 0;
    vg_sensor_engine_config_default(&cfg);
    if (vg_sensor_pcap_open_file(&r, path, err, sizeof(err)) != VG_OK ||
        vg_sensor_engine_create(&cfg, count_line, NULL, &e) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    atomic_store(&out_lines, 0);
    uint64_t t0 = vg_clock_ns();
    while (vg_sensor_pcap_next(r, &f) == VG_OK) {
        vg_sensor_engine_frame(e, &f, ++n);
        bytes += f.caplen;
    }
    vg_sensor_engine_flush(e);
    report("engine, no workers", n, bytes, vg_clock_ns() - t0);
    vg_sensor_engine_destroy(e);
    vg_sensor_pcap_destroy(r);
    return 0;
}

static int workers(const char *path, uint32_t nw)
{
    struct vg_sensor_workers_opts o = {.n = nw, .out = count_lines};
    struct vg_sensor_workers *w = NULL;
    struct vg_sensor_workers_stats st;
    char err[512], name[64];
    atomic_store(&out_lines, 0);
    uint64_t t0 = vg_clock_ns();
    if (vg_sensor_workers_create(&o, &w, err, sizeof(err)) != VG_OK ||
        vg_sensor_workers_run_file(w, path, NULL, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        vg_sensor_workers_destroy(w);
        return 1;
    }
    vg_sensor_workers_finish(w);
    uint64_t ns = vg_clock_ns() - t0;
    vg_sensor_workers_stats(w, &st);
    snprintf(name, sizeof(name), "%u worker%s", nw, nw > 1 ? "s" : "");
    report(name, st.frames, st.engine.bytes, ns);
    printf("%-22s frames per worker:", "");
    for (uint32_t i = 0; i < nw; i++) {
        printf(" %llu", (unsigned long long)st.per_worker[i]);
    }
    printf("; producer waits %llu\n", (unsigned long long)st.waits);
    vg_sensor_workers_destroy(w);
    return 0;
}

int main(int argc, char **argv)
{
    char def[1024];
    snprintf(def, sizeof(def), "%s/.cache/vigie-peers/pcap/lo.pcap",
             getenv("HOME") ? getenv("HOME") : "/root");
    const char *path = argc > 1 ? argv[1] : def;
    long maxw = argc > 2 ? strtol(argv[2], NULL, 10) : 2;
    vg_log_set_level(VG_LOG_WARN);
    printf("pcap %s\n", path);
    int rc = direct(path);
    for (uint32_t n = 1; rc == 0 && n <= (uint32_t)maxw; n++) {
        rc = workers(path, n);
    }
    return rc;
}
