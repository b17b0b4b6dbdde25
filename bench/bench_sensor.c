/*
 * bench_sensor.c — the sensor engine on one core over a pcap given as argument (issue 6):
 * packets/s, Gbit/s (captured bytes) and records/s, in three configurations run side by side:
 *   all     — every parser, flow records, detections (what `vigie-sensor -r` does);
 *   nodet   — every parser and flow records, no detections;
 *   frame   — the framework alone: decode, defrag, flows, TCP reassembly, flow records, no
 *             parser (what the engine costs by itself).
 * Records go to a counting sink (no I/O). The pcap is mapped once; each configuration runs
 * `passes` times (default 3) and the best pass is printed.
 *
 *   bench_sensor FILE.pcap [passes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_engine_int.h"
#include "sensor/sensor_pkt.h"

struct count {
    uint64_t lines, bytes;
};

static void sink(void *ctx, const char *line, size_t len)
{
    struct count *c = ctx;
    (void)line;
    c->lines++;
    c->bytes += len;
}

/* One pass; returns the seconds taken, or -1 on error. */
static double run(const char *path, bool detect, bool parsers, struct vg_sensor_engine_stats *st,
                  struct count *cnt)
{
    char err[256];
    struct vg_sensor_pcap *r = NULL;
    if (vg_sensor_pcap_open_file(&r, path, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_sensor: %s: %s\n", path, err);
        return -1;
    }
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = detect;
    struct vg_sensor_engine *e = NULL;
    if (vg_sensor_engine_create(&cfg, sink, cnt, &e) != VG_OK) {
        vg_sensor_pcap_destroy(r);
        return -1;
    }
    if (!parsers) {
        vg_sensor_engine_set_protos(e, NULL, 0);
    }
    struct vg_sensor_frame f;
    uint64_t n = 0;
    uint64_t t0 = vg_clock_ns();
    while (vg_sensor_pcap_next(r, &f) == VG_OK) {
        vg_sensor_engine_frame(e, &f, ++n);
    }
    vg_sensor_engine_flush(e);
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    vg_sensor_engine_stats(e, st);
    vg_sensor_engine_destroy(e);
    vg_sensor_pcap_destroy(r);
    return secs;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sensor FILE.pcap [passes]\n");
        return 2;
    }
    int64_t np = 3;
    if (argc > 2 && (vg_parse_i64(argv[2], strlen(argv[2]), &np) != VG_OK || np < 1 || np > 1000)) {
        fprintf(stderr, "bench_sensor: passes must be 1..1000, not '%s'\n", argv[2]);
        return 2;
    }
    int passes = (int)np;
    static const struct {
        const char *name;
        bool detect, parsers;
    } modes[] = {{"all", true, true}, {"nodet", false, true}, {"frame", false, false}};
    printf("%-6s %10s %12s %9s %10s %12s\n", "mode", "packets", "packets/s", "Gbit/s", "records",
           "records/s");
    for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        double best = -1;
        struct vg_sensor_engine_stats st = {0};
        struct count cnt = {0};
        for (int i = 0; i < (passes > 0 ? passes : 1); i++) {
            struct count c = {0};
            double s = run(argv[1], modes[m].detect, modes[m].parsers, &st, &c);
            if (s < 0) {
                return 1;
            }
            if (best < 0 || s < best) {
                best = s;
                cnt = c;
            }
        }
        printf("%-6s %10llu %12.0f %9.2f %10llu %12.0f\n", modes[m].name,
               (unsigned long long)st.packets, (double)st.packets / best,
               (double)st.bytes * 8 / best / 1e9, (unsigned long long)cnt.lines,
               (double)cnt.lines / best);
    }
    return 0;
}
