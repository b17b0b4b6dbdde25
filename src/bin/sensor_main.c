/*
 * sensor_main.c — the `vigie-sensor` command (issue 6): thin over the sensor engine
 * (src/sensor/sensor_app.h).
 *
 *   vigie-sensor -r FILE.pcap [--eve OUT.json|-] [--no-flow] [--no-detect] [-v]
 *
 * Reads a pcap/pcapng file, runs every frame through one engine (decode, flows, TCP
 * reassembly, protocol parsers, detections) and writes EVE JSON lines to OUT (default
 * stdout). A summary goes to stderr. A truncated or corrupt file is processed up to the bad
 * record; the error (with its file offset) is printed and the exit status is 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_pkt.h"

struct opts {
    const char *read;
    const char *eve;
    bool no_flow;
    bool no_detect;
    bool verbose;
};

struct out {
    FILE *f;
    bool failed;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vigie-sensor -r FILE.pcap [--eve OUT.json|-] [--no-flow] [--no-detect] "
               "[-v]\n\n"
               "  -r FILE        read a pcap or pcapng capture\n"
               "  --eve OUT      write EVE JSON lines to OUT ('-': stdout, the default)\n"
               "  --no-flow      do not write `flow` records\n"
               "  --no-detect    do not run the network detections\n"
               "  -v             more detail in the summary (counters)\n"
               "  -h, --help     this help\n");
}

/* Returns 0, 1 (help shown) or 2 (usage error). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-r") == 0 || strcmp(a, "--read") == 0) && i + 1 < argc) {
            o->read = argv[++i];
        } else if ((strcmp(a, "--eve") == 0 || strcmp(a, "-o") == 0) && i + 1 < argc) {
            o->eve = argv[++i];
        } else if (strcmp(a, "--no-flow") == 0) {
            o->no_flow = true;
        } else if (strcmp(a, "--no-detect") == 0) {
            o->no_detect = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else {
            fprintf(stderr, "vigie-sensor: unexpected '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!o->read) {
        fprintf(stderr, "vigie-sensor: -r FILE is required\n\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

static void sink_file(void *ctx, const char *line, size_t len)
{
    struct out *o = ctx;
    if (!o->failed && fwrite(line, 1, len, o->f) != len) {
        o->failed = true;
    }
}

static void summary(const struct vg_sensor_engine_stats *st, double secs, bool verbose)
{
    double pps = secs > 0 ? (double)st->packets / secs : 0;
    double gbps = secs > 0 ? (double)st->bytes * 8 / secs / 1e9 : 0;
    fprintf(stderr,
            "vigie-sensor: %llu packets, %llu flows, %llu records, %llu anomalies, %.3f s, "
            "%.0f packets/s, %.2f Gbit/s\n",
            (unsigned long long)st->packets, (unsigned long long)st->flows.created,
            (unsigned long long)st->app_records, (unsigned long long)st->anomalies, secs, pps,
            gbps);
    if (!verbose) {
        return;
    }
    fprintf(stderr,
            "  bytes %llu, decode errors %llu, tcp segments %llu, reassembled %llu, gaps %llu, "
            "ooo dropped %llu, memcap hits %llu, app errors %llu, alerts %llu\n"
            "  flows: timed out %llu, evicted %llu, flushed %llu\n",
            (unsigned long long)st->bytes, (unsigned long long)st->decode_errors,
            (unsigned long long)st->tcp_segments, (unsigned long long)st->tcp_reassembled_bytes,
            (unsigned long long)st->tcp_gaps, (unsigned long long)st->tcp_ooo_dropped,
            (unsigned long long)st->tcp_memcap_hits, (unsigned long long)st->app_errors,
            (unsigned long long)st->alerts, (unsigned long long)st->flows.timed_out,
            (unsigned long long)st->flows.evicted, (unsigned long long)st->flows.flushed);
}

/* Feed every frame of r to e; returns 0 at the clean end, 1 on a file error (printed). */
static int run_file(struct vg_sensor_pcap *r, struct vg_sensor_engine *e, const char *path)
{
    struct vg_sensor_frame f;
    uint64_t cnt = 0;
    int rc;
    while ((rc = vg_sensor_pcap_next(r, &f)) == VG_OK) {
        vg_sensor_engine_frame(e, &f, ++cnt);
    }
    if (rc == VG_EOF) {
        return 0;
    }
    fprintf(stderr, "vigie-sensor: %s: %s (after %llu packets)\n", path, vg_sensor_pcap_error(r),
            (unsigned long long)cnt);
    return 1;
}

static FILE *open_out(const char *path)
{
    if (!path || strcmp(path, "-") == 0) {
        return stdout;
    }
    FILE *f = fopen(path, "w");
    if (f) {
        setvbuf(f, NULL, _IOFBF, 1u << 20);
    }
    return f;
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse_args(argc, argv, &o);
    if (prc) {
        return prc == 1 ? 0 : 2;
    }
    char err[256] = "";
    struct vg_sensor_pcap *r = NULL;
    int rc = vg_sensor_pcap_open_file(&r, o.read, err, sizeof(err));
    if (rc != VG_OK) {
        if (err[0] && strstr(err, o.read)) {
            fprintf(stderr, "vigie-sensor: %s\n", err); /* the message names the file */
        } else {
            fprintf(stderr, "vigie-sensor: %s: %s\n", o.read, err[0] ? err : vg_strerror(rc));
        }
        return 1;
    }
    struct out out = {.f = open_out(o.eve), .failed = false};
    if (!out.f) {
        fprintf(stderr, "vigie-sensor: cannot write %s\n", o.eve);
        vg_sensor_pcap_destroy(r);
        return 1;
    }
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.log_flow = !o.no_flow;
    cfg.detect = !o.no_detect;
    struct vg_sensor_engine *e = NULL;
    rc = vg_sensor_engine_create(&cfg, sink_file, &out, &e);
    if (rc != VG_OK) {
        fprintf(stderr, "vigie-sensor: engine: %s\n", vg_strerror(rc));
        vg_sensor_pcap_destroy(r);
        return 1;
    }
    uint64_t t0 = vg_clock_ns();
    int status = run_file(r, e, o.read);
    vg_sensor_engine_flush(e);
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    vg_sensor_engine_destroy(e);
    vg_sensor_pcap_destroy(r);
    if (fflush(out.f) != 0 || out.failed) {
        fprintf(stderr, "vigie-sensor: write error on %s\n", o.eve ? o.eve : "stdout");
        status = 1;
    }
    if (out.f != stdout) {
        fclose(out.f);
    }
    summary(&st, secs, o.verbose);
    return status;
}
