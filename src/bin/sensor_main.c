/*
 * sensor_main.c — the `vigie-sensor` command (issue 6): thin over the sensor library.
 *
 *   vigie-sensor -r FILE.pcap | -i IFACE  [--bpf EXPR] [--eve OUT|-]
 *                [--server HOST:PORT|URL --state DIR [--enroll-token T]] [--workers N] ...
 *
 * Frames come from a pcap/pcapng file (sensor_pcap.c) or a live interface (sensor_live.c:
 * AF_PACKET TPACKET_V3 or libpcap), optionally through a BPF filter (files too, as tcpdump -r
 * does), into one engine on this thread or N flow-hashed worker threads (sensor_workers.c).
 * Records go to an EVE JSON file or stdout, and/or to the Vigie server through the agent's
 * spool and mTLS transport (sensor_send.c). SIGINT/SIGTERM stop a capture cleanly: flows are
 * flushed and every record is written or spooled. A summary goes to stderr.
 *
 * Exit status: 0; 1 when the input has an error (a truncated or corrupt file is processed up
 * to the bad record and the error names its offset), the output cannot be written, or the
 * capture fails; 2 on a usage error.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_live.h"
#include "sensor/sensor_pkt.h"
#include "sensor/sensor_send.h"
#include "sensor/sensor_workers.h"

struct opts {
    const char *read, *iface, *bpf, *eve, *server, *state, *token, *backend;
    uint32_t workers, snaplen, max_flows, cid_seed;
    bool no_promisc, no_flow, no_detect, ether, http_headers, no_vlan, verbose;
};

/* Where records go: a file (or stdout) and/or the server. */
struct out {
    FILE *f;
    struct vg_sensor_send *snd;
    bool failed;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vigie-sensor (-r FILE.pcap | -i IFACE) [options]\n\n"
               "input\n"
               "  -r FILE             read a pcap or pcapng capture\n"
               "  -i IFACE            capture live on IFACE (needs CAP_NET_RAW)\n"
               "  --bpf EXPR          tcpdump filter expression (live and files)\n"
               "  --backend B         live capture: auto (default), afpacket, pcap\n"
               "  --snaplen N         bytes kept per live frame (default 65535)\n"
               "  --no-promisc        do not put IFACE in promiscuous mode\n"
               "output (default: EVE JSON on stdout)\n"
               "  --eve OUT           write EVE JSON lines to OUT ('-': stdout)\n"
               "  --server S          send records to the Vigie server: HOST:PORT of its fleet\n"
               "                      listener, or http(s)://HOST:PORT of its API to enrol\n"
               "  --state DIR         enrollment and spool directory (with --server)\n"
               "  --enroll-token T    enrol with this token when DIR holds no enrollment\n"
               "processing\n"
               "  --workers N         flow-hashed worker threads (default 1: this thread)\n"
               "  --max-flows N       flows tracked per engine; the longest idle is evicted\n"
               "                      (and counted) when full (default 1000000)\n"
               "  --no-flow           do not write `flow` records\n"
               "  --no-detect         do not run the network detections\n"
               "  --ether             add source and destination MAC addresses to records\n"
               "  --community-id-seed N  seed of the Community ID flow hash (default 0)\n"
               "  --http-headers      log every HTTP request and response header\n"
               "  --no-vlan-tracking  one flow whatever its VLAN tags (asymmetric tagging)\n"
               "  -v                  more detail in the summary (counters)\n"
               "  -h, --help          this help\n");
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "vigie-sensor: %s%s%s\n\n", msg, arg ? " " : "", arg ? arg : "");
    usage(stderr);
    return 2;
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    int64_t v;
    if (vg_parse_i64(s, strlen(s), &v) != VG_OK || v < lo || v > hi) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* Options taking a value: name and where it goes. */
static const char **opt_slot(struct opts *o, const char *a)
{
    static const struct {
        const char *name, *alias;
        size_t off;
    } tab[] = {
        {"-r", "--read", offsetof(struct opts, read)},
        {"-i", "--interface", offsetof(struct opts, iface)},
        {"--bpf", "-f", offsetof(struct opts, bpf)},
        {"--eve", "-o", offsetof(struct opts, eve)},
        {"--server", NULL, offsetof(struct opts, server)},
        {"--state", NULL, offsetof(struct opts, state)},
        {"--enroll-token", NULL, offsetof(struct opts, token)},
        {"--backend", NULL, offsetof(struct opts, backend)},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(tab); i++) {
        if (strcmp(a, tab[i].name) == 0 || (tab[i].alias && strcmp(a, tab[i].alias) == 0)) {
            return (const char **)((char *)o + tab[i].off);
        }
    }
    return NULL;
}

static int check_args(const struct opts *o)
{
    if (!o->read == !o->iface) {
        return usage_error("give exactly one of -r FILE and -i IFACE", NULL);
    }
    if ((o->state || o->token) && !o->server) {
        return usage_error("--state and --enroll-token go with --server", NULL);
    }
    if (o->server && !o->state) {
        return usage_error("--server needs --state DIR (enrollment and spool)", NULL);
    }
    if (o->backend && strcmp(o->backend, "auto") && strcmp(o->backend, "afpacket") &&
        strcmp(o->backend, "pcap")) {
        return usage_error("--backend is auto, afpacket or pcap, not", o->backend);
    }
    return 0;
}

/* Returns 0, 1 (help shown) or 2 (usage error). */
static int parse_args(int argc, char **argv, struct opts *o)
{
    o->workers = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = opt_slot(o, a);
        uint32_t *num = !strcmp(a, "--workers")             ? &o->workers
                        : !strcmp(a, "--snaplen")           ? &o->snaplen
                        : !strcmp(a, "--max-flows")         ? &o->max_flows
                        : !strcmp(a, "--community-id-seed") ? &o->cid_seed
                                                            : NULL;
        if (slot || num) {
            if (i + 1 >= argc) {
                return usage_error("missing value after", a);
            }
            const char *v = argv[++i];
            uint32_t hi = num == &o->workers   ? VG_SENSOR_WORKERS_MAX
                          : num == &o->snaplen ? 262144
                                               : 100000000;
            if (slot) {
                *slot = v;
            } else if (!parse_u32(v, num == &o->max_flows ? 1024 : 1, hi, num)) {
                return usage_error("value out of range:", v);
            }
        } else if (!strcmp(a, "--no-flow")) {
            o->no_flow = true;
        } else if (!strcmp(a, "--no-detect")) {
            o->no_detect = true;
        } else if (!strcmp(a, "--no-promisc")) {
            o->no_promisc = true;
        } else if (!strcmp(a, "--ether")) {
            o->ether = true;
        } else if (!strcmp(a, "--http-headers")) {
            o->http_headers = true;
        } else if (!strcmp(a, "--no-vlan-tracking")) {
            o->no_vlan = true;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else {
            return usage_error("unexpected", a);
        }
    }
    return check_args(o);
}

/* ---------------------------------------------------------------- output */

static void out_write(struct out *o, const char *p, size_t len, bool many)
{
    if (o->f && !o->failed && fwrite(p, 1, len, o->f) != len) {
        o->failed = true;
    }
    if (o->snd) {
        if (many) {
            vg_sensor_send_lines(o->snd, p, len);
        } else {
            vg_sensor_send_line(o->snd, p, len);
        }
    }
}

static void sink_line(void *ctx, const char *line, size_t len)
{
    out_write(ctx, line, len, false);
}

static void sink_lines(void *ctx, const char *lines, size_t len)
{
    out_write(ctx, lines, len, true);
}

static int out_open(struct out *out, const struct opts *o, const char *capture)
{
    memset(out, 0, sizeof(*out));
    if (o->eve || !o->server) {
        out->f = (!o->eve || !strcmp(o->eve, "-")) ? stdout : fopen(o->eve, "w");
        if (!out->f) {
            fprintf(stderr, "vigie-sensor: cannot write %s: %s\n", o->eve, strerror(errno));
            return 1;
        }
        setvbuf(out->f, NULL, _IOFBF, 1u << 20);
    }
    if (o->server) {
        char err[512] = "";
        struct vg_sensor_send_opts so = {.state_dir = o->state,
                                         .server = o->server,
                                         .enroll_token = o->token,
                                         .capture = capture};
        if (vg_sensor_send_start(&so, &out->snd, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "vigie-sensor: server %s: %s\n", o->server, err);
            return 1;
        }
    }
    return 0;
}

/* Flush the file, wait for the server to take the spooled records. 0 or 1. */
static int out_close(struct out *out, const struct opts *o)
{
    int status = 0;
    if (out->f && (fflush(out->f) != 0 || out->failed)) {
        fprintf(stderr, "vigie-sensor: write error on %s\n", o->eve ? o->eve : "stdout");
        status = 1;
    }
    if (out->f && out->f != stdout) {
        fclose(out->f);
    }
    if (out->snd) {
        if (vg_sensor_send_drain(out->snd, 10000) != VG_OK) {
            fprintf(stderr,
                    "vigie-sensor: the server has not acknowledged every record yet; "
                    "they stay in %s/spool for the next run\n",
                    o->state);
        }
        struct vg_sensor_send_stats ss;
        vg_sensor_send_stats(out->snd, &ss);
        fprintf(stderr, "vigie-sensor: server: %llu records spooled, %llu acknowledged%s%s\n",
                (unsigned long long)ss.spooled, (unsigned long long)ss.acked,
                ss.last_error[0] ? ", last error: " : "", ss.last_error);
        vg_sensor_send_stop(out->snd);
    }
    return status;
}

/* ---------------------------------------------------------------- processing */

/* One engine on this thread, or N workers: the same three calls for both. */
struct proc {
    struct vg_sensor_engine *eng;
    struct vg_sensor_workers *w;
    uint64_t cnt;
};

static int proc_create(struct proc *p, const struct opts *o, struct out *out, bool live)
{
    memset(p, 0, sizeof(*p));
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.log_flow = !o->no_flow;
    cfg.detect = !o->no_detect;
    cfg.flow.max_flows = o->max_flows; /* 0: the default (1,000,000 per engine) */
    cfg.log_ether = o->ether;
    cfg.http_headers = o->http_headers;
    cfg.no_vlan_tracking = o->no_vlan;
    cfg.community_id_seed = (uint16_t)o->cid_seed;
    if (o->workers == 1) {
        int rc = vg_sensor_engine_create(&cfg, sink_line, out, &p->eng);
        if (rc != VG_OK) {
            fprintf(stderr, "vigie-sensor: engine: %s\n", vg_strerror(rc));
        }
        return rc == VG_OK ? 0 : 1;
    }
    char err[256] = "";
    struct vg_sensor_workers_opts wo = {
        .n = o->workers, .engine = &cfg, .drop_when_full = live, .out = sink_lines, .out_ctx = out};
    if (vg_sensor_workers_create(&wo, &p->w, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie-sensor: workers: %s\n", err);
        return 1;
    }
    return 0;
}

static void proc_frame(void *ctx, const struct vg_sensor_frame *f)
{
    struct proc *p = ctx;
    p->cnt++;
    if (p->eng) {
        vg_sensor_engine_frame(p->eng, f, p->cnt);
    } else {
        vg_sensor_workers_push(p->w, f, p->cnt);
    }
}

static void proc_tick(void *ctx, int64_t now_ns)
{
    struct proc *p = ctx;
    if (p->eng) {
        vg_sensor_engine_tick(p->eng, now_ns);
    } else {
        vg_sensor_workers_tick(p->w, now_ns);
    }
}

/* Flush every flow, collect the counters, free. */
static void proc_finish(struct proc *p, struct vg_sensor_engine_stats *st)
{
    if (p->eng) {
        vg_sensor_engine_flush(p->eng);
        vg_sensor_engine_stats(p->eng, st);
        vg_sensor_engine_destroy(p->eng);
        return;
    }
    struct vg_sensor_workers_stats ws;
    vg_sensor_workers_finish(p->w);
    vg_sensor_workers_stats(p->w, &ws);
    *st = ws.engine;
    if (ws.dropped) {
        fprintf(stderr, "vigie-sensor: %llu frames dropped (worker rings full)\n",
                (unsigned long long)ws.dropped);
    }
    vg_sensor_workers_destroy(p->w);
}

/* ---------------------------------------------------------------- files */

/* A BPF program for files (tcpdump -r EXPR semantics); NULL expr: none. */
struct file_filter {
    bool on;
    uint32_t linktype; /* the program is compiled for this link type */
    struct bpf_program prog;
};

static int filter_compile(struct file_filter *ff, const char *expr, uint32_t linktype)
{
    if (ff->on) {
        pcap_freecode(&ff->prog);
    }
    memset(ff, 0, sizeof(*ff));
    ff->linktype = linktype;
    if (!expr || !*expr) {
        return 0;
    }
    pcap_t *dead = pcap_open_dead((int)linktype, 262144);
    if (!dead) {
        fprintf(stderr, "vigie-sensor: --bpf: cannot open a filter compiler\n");
        return 1;
    }
    int rc = pcap_compile(dead, &ff->prog, expr, 1, PCAP_NETMASK_UNKNOWN);
    if (rc != 0) {
        fprintf(stderr, "vigie-sensor: --bpf '%s': %s\n", expr, pcap_geterr(dead));
    }
    pcap_close(dead);
    ff->on = rc == 0;
    return rc == 0 ? 0 : 1;
}

static bool filter_pass(const struct file_filter *ff, const struct vg_sensor_frame *f)
{
    if (!ff->on) {
        return true;
    }
    struct pcap_pkthdr h = {.caplen = f->caplen, .len = f->origlen};
    return pcap_offline_filter(&ff->prog, &h, f->data) != 0;
}

static int run_file(const struct opts *o, struct proc *p)
{
    char err[256] = "";
    struct vg_sensor_pcap *r = NULL;
    int rc = vg_sensor_pcap_open_file(&r, o->read, err, sizeof(err));
    if (rc != VG_OK) {
        if (err[0] && strstr(err, o->read)) {
            fprintf(stderr, "vigie-sensor: %s\n", err); /* the message names the file */
        } else {
            fprintf(stderr, "vigie-sensor: %s: %s\n", o->read, err[0] ? err : vg_strerror(rc));
        }
        return 1;
    }
    struct vg_sensor_frame f;
    struct file_filter ff = {0};
    uint64_t read = 0;
    int status = 0;
    while (!stop_flag && (rc = vg_sensor_pcap_next(r, &f)) == VG_OK) {
        /* compiled for the first frame's link type, again when a pcapng interface differs */
        bool recompile = read++ == 0 || (ff.on && f.linktype != ff.linktype);
        if (recompile && filter_compile(&ff, o->bpf, f.linktype) != 0) {
            status = 1;
            break;
        }
        if (filter_pass(&ff, &f)) {
            proc_frame(p, &f);
        } else {
            p->cnt++; /* pcap_cnt stays the frame's number in the file */
        }
    }
    if (!status && !stop_flag && rc != VG_EOF) {
        fprintf(stderr, "vigie-sensor: %s: %s (after %llu packets)\n", o->read,
                vg_sensor_pcap_error(r), (unsigned long long)read);
        status = 1;
    }
    if (ff.on) {
        pcap_freecode(&ff.prog);
    }
    vg_sensor_pcap_destroy(r);
    return status;
}

/* ---------------------------------------------------------------- live */

static int run_live(const struct opts *o, struct proc *p, struct vg_sensor_live *l)
{
    int rc = p->w ? vg_sensor_workers_run_live(p->w, l, &stop_flag)
                  : vg_sensor_live_run(l, &stop_flag, proc_frame, proc_tick, p);
    struct vg_sensor_live_stats ls;
    vg_sensor_live_stats(l, &ls);
    fprintf(stderr, "vigie-sensor: %s on %s: %llu frames received, %llu dropped by the kernel\n",
            vg_sensor_live_backend_name(l), o->iface, (unsigned long long)ls.received,
            (unsigned long long)ls.dropped);
    if (rc != VG_OK) {
        fprintf(stderr, "vigie-sensor: capture on %s: %s\n", o->iface, vg_sensor_live_error(l));
        return 1;
    }
    return 0;
}

static int live_open(const struct opts *o, struct vg_sensor_live **l)
{
    enum vg_sensor_live_backend b = VG_SENSOR_LIVE_AUTO;
    if (o->backend && !strcmp(o->backend, "afpacket")) {
        b = VG_SENSOR_LIVE_AFPACKET;
    } else if (o->backend && !strcmp(o->backend, "pcap")) {
        b = VG_SENSOR_LIVE_PCAP;
    }
    struct vg_sensor_live_opts lo = {.iface = o->iface,
                                     .backend = b,
                                     .bpf = o->bpf,
                                     .snaplen = o->snaplen,
                                     .no_promisc = o->no_promisc};
    char err[512] = "";
    int rc = vg_sensor_live_open(&lo, l, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "vigie-sensor: capture on %s: %s\n", o->iface,
                err[0] ? err : vg_strerror(rc));
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- main */

static void summary(const struct vg_sensor_engine_stats *st, double secs, bool verbose)
{
    double pps = secs > 0 ? (double)st->packets / secs : 0;
    double gbps = secs > 0 ? (double)st->bytes * 8 / secs / 1e9 : 0;
    fprintf(stderr,
            "vigie-sensor: %llu packets, %llu flows, %llu records, %llu anomalies, %llu alerts, "
            "%.3f s, %.0f packets/s, %.2f Gbit/s\n",
            (unsigned long long)st->packets, (unsigned long long)st->flows.created,
            (unsigned long long)st->app_records, (unsigned long long)st->anomalies,
            (unsigned long long)st->alerts, secs, pps, gbps);
    if (!verbose) {
        return;
    }
    fprintf(stderr,
            "  bytes %llu, decode errors %llu, tcp segments %llu, reassembled %llu, gaps %llu, "
            "ooo dropped %llu, memcap hits %llu, app errors %llu\n"
            "  flows: timed out %llu, evicted %llu, flushed %llu\n",
            (unsigned long long)st->bytes, (unsigned long long)st->decode_errors,
            (unsigned long long)st->tcp_segments, (unsigned long long)st->tcp_reassembled_bytes,
            (unsigned long long)st->tcp_gaps, (unsigned long long)st->tcp_ooo_dropped,
            (unsigned long long)st->tcp_memcap_hits, (unsigned long long)st->app_errors,
            (unsigned long long)st->flows.timed_out, (unsigned long long)st->flows.evicted,
            (unsigned long long)st->flows.flushed);
}

static void install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    int prc = parse_args(argc, argv, &o);
    if (prc) {
        return prc == 1 ? 0 : 2;
    }
    install_signals();
    struct vg_sensor_live *live = NULL;
    if (o.iface && live_open(&o, &live) != 0) {
        return 1;
    }
    char capture[96];
    snprintf(capture, sizeof(capture), "%s:%s", live ? vg_sensor_live_backend_name(live) : "file",
             o.iface ? o.iface : o.read);
    struct out out;
    struct proc p;
    if (out_open(&out, &o, capture) != 0 || proc_create(&p, &o, &out, live != NULL) != 0) {
        vg_sensor_live_close(live);
        out_close(&out, &o);
        return 1;
    }
    uint64_t t0 = vg_clock_ns();
    int status = live ? run_live(&o, &p, live) : run_file(&o, &p);
    struct vg_sensor_engine_stats st;
    proc_finish(&p, &st);
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    vg_sensor_live_close(live);
    status |= out_close(&out, &o);
    summary(&st, secs, o.verbose);
    return status;
}
