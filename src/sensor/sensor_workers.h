/*
 * sensor_workers.h — vigie-sensor's worker threads (issue 6): N engines, one per thread, fed
 * by flow hash from one producer (the pcap file reader or a live capture).
 *
 *   producer thread: frame -> vg_sensor_decode -> symmetric hash of (addresses, ports, proto,
 *                    VLAN) -> worker k's ring (the frame's bytes are copied in)
 *   worker k:        ring -> vg_sensor_engine_frame -> record lines -> its own buffer
 *                    -> the shared output, a batch of complete lines at a time
 *
 * Both directions of a flow hash alike, so a flow lives in one engine. Frames without IP go
 * to worker 0; IP fragments are steered by their address pair and protocol only (they carry
 * no ports after the first), so fragments of one datagram meet in one worker.
 *
 * Rings are bounded single-producer/single-consumer byte rings. When a ring is full the
 * producer waits (files: nothing is lost) or drops the frame and counts it (live capture:
 * drop_when_full), so a slow worker never stalls the capture ring. Output lines are never
 * interleaved: each worker buffers whole lines and hands them to out() under one lock.
 *
 * The producer API (push, tick, finish) belongs to one thread.
 */
#ifndef VG_SENSOR_WORKERS_H
#define VG_SENSOR_WORKERS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sensor/sensor_app.h"
#include "sensor/sensor_live.h"
#include "sensor/sensor_pkt.h"

#define VG_SENSOR_WORKERS_MAX 64

/* Complete record lines (one or more, each ending in '\n'); called under the output lock. */
typedef void (*vg_sensor_workers_out_fn)(void *ctx, const char *lines, size_t len);

/*
 * The engine each worker runs. NULL in the options means the sensor's engine
 * (vg_sensor_engine_*); tests and benchmarks may pass their own.
 */
struct vg_sensor_workers_engine_ops {
    int (*create)(const struct vg_sensor_engine_config *cfg, vg_sensor_sink_fn sink, void *sink_ctx,
                  struct vg_sensor_engine **out);
    void (*frame)(struct vg_sensor_engine *e, const struct vg_sensor_frame *f, uint64_t pcap_cnt);
    void (*tick)(struct vg_sensor_engine *e, int64_t now_ns);
    void (*flush)(struct vg_sensor_engine *e);
    void (*stats)(const struct vg_sensor_engine *e, struct vg_sensor_engine_stats *out);
    void (*destroy)(struct vg_sensor_engine *e);
};

struct vg_sensor_workers_opts {
    uint32_t n;                                   /* worker threads, 1..VG_SENSOR_WORKERS_MAX */
    const struct vg_sensor_engine_config *engine; /* NULL: defaults; .worker is set per thread */
    size_t ring_bytes;                            /* per worker (0: 16 MiB; at least 1 MiB) */
    bool drop_when_full; /* live capture: drop and count when a ring is full (else wait) */
    size_t out_batch;    /* a worker hands its lines over past this size (0: 256 KiB) */
    vg_sensor_workers_out_fn out;
    void *out_ctx;
    const struct vg_sensor_workers_engine_ops *ops; /* NULL: the sensor's engine */
};

struct vg_sensor_workers_stats {
    uint64_t frames;  /* frames pushed (accepted into a ring) */
    uint64_t dropped; /* frames dropped because their worker's ring was full */
    uint64_t too_big; /* frames larger than a quarter of a ring (dropped) */
    uint64_t waits;   /* times the producer waited for room (files) */
    uint64_t per_worker[VG_SENSOR_WORKERS_MAX]; /* frames given to each worker */
    struct vg_sensor_engine_stats engine;       /* the engines' counters, summed (after finish) */
};

struct vg_sensor_workers;

/*
 * Create the engines and start the threads. VG_OK and *out; VG_EINVAL (n out of range, no
 * out); VG_ENOMEM; an engine creation error. err says why.
 */
int vg_sensor_workers_create(const struct vg_sensor_workers_opts *o, struct vg_sensor_workers **out,
                             char *err, size_t errsz);

/*
 * Hand one frame (copied) to its flow's worker. pcap_cnt: its 1-based number in the capture.
 * VG_OK; VG_ELIMIT when it was dropped (ring full with drop_when_full, or too big).
 */
int vg_sensor_workers_push(struct vg_sensor_workers *w, const struct vg_sensor_frame *f,
                           uint64_t pcap_cnt);

/* Advance every engine's clock (idle live capture: vg_sensor_engine_tick on each worker). */
void vg_sensor_workers_tick(struct vg_sensor_workers *w, int64_t now_ns);

/*
 * Drain the rings, flush every engine (ending their flows) and its lines, join the threads.
 * Afterwards only stats and destroy may be called. Idempotent.
 */
void vg_sensor_workers_finish(struct vg_sensor_workers *w);

void vg_sensor_workers_stats(const struct vg_sensor_workers *w, struct vg_sensor_workers_stats *st);

/* Finish (if not done) and free. NULL is a no-op. */
void vg_sensor_workers_destroy(struct vg_sensor_workers *w);

/* The worker a decoded packet goes to (exposed for tests): symmetric in its direction. */
uint32_t vg_sensor_workers_pick(const struct vg_sensor_pkt *p, uint32_t n);

/*
 * Feed every frame of the pcap/pcapng file at path to the workers (waiting for room), until
 * its end or *stop (stop may be NULL). Does not finish. VG_OK; the reader's error code with
 * err naming the file offset (frames before the error were pushed).
 */
int vg_sensor_workers_run_file(struct vg_sensor_workers *w, const char *path,
                               const volatile sig_atomic_t *stop, char *err, size_t errsz);

/*
 * Feed a live capture to the workers until *stop, ticking them when the link is idle. Does
 * not finish. VG_OK after a stop; VG_EIO when the capture failed.
 */
int vg_sensor_workers_run_live(struct vg_sensor_workers *w, struct vg_sensor_live *l,
                               const volatile sig_atomic_t *stop);

/* A vg_sensor_workers_out_fn writing to a FILE * (ctx), e.g. the --eve file or stdout. */
void vg_sensor_workers_out_stdio(void *ctx, const char *lines, size_t len);

#endif
