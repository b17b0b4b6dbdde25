/*
 * sensor_live.h — live capture for vigie-sensor (issue 6): frames from a network interface,
 * through libpcap or through an AF_PACKET TPACKET_V3 memory-mapped ring, as the same
 * struct vg_sensor_frame the pcap file reader produces (sensor_pkt.h), with nanosecond
 * timestamps.
 *
 *   interface -> [libpcap | AF_PACKET ring (+ BPF, + fanout)] -> vg_sensor_live_next()
 *             -> engine (vg_sensor_live_run) or workers (sensor_workers.h)
 *
 * BPF filters use tcpdump syntax: libpcap compiles them (pcap_compile); the AF_PACKET backend
 * attaches the same program with SO_ATTACH_FILTER (compiled for the interface's link type
 * with pcap_open_dead). Several AF_PACKET handles may share an interface through
 * PACKET_FANOUT (hash mode, symmetric in the kernel, defragmented first) so each worker gets
 * whole flows.
 *
 * A handle belongs to one thread. Frames are borrowed from the ring and valid until the next
 * call on the handle. vg_sensor_live_stats may be called from the owning thread only.
 */
#ifndef VG_SENSOR_LIVE_H
#define VG_SENSOR_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/sensor_pkt.h"

enum vg_sensor_live_backend {
    VG_SENSOR_LIVE_AUTO = 0,     /* AF_PACKET where it works, else libpcap */
    VG_SENSOR_LIVE_PCAP = 1,     /* libpcap (any link type libpcap supports) */
    VG_SENSOR_LIVE_AFPACKET = 2, /* AF_PACKET TPACKET_V3 ring (Ethernet and loopback links) */
};

struct vg_sensor_live_opts {
    const char *iface;                   /* interface name (required) */
    enum vg_sensor_live_backend backend; /* VG_SENSOR_LIVE_AUTO by default */
    const char *bpf;                     /* tcpdump filter expression; NULL or "": none */
    uint32_t snaplen;                    /* bytes kept per frame (0: 65535) */
    bool no_promisc;                     /* do not put the interface in promiscuous mode */
    uint32_t buffer_bytes;               /* kernel buffer / ring size (0: 64 MiB) */
    uint32_t timeout_ms;                 /* block retire / read timeout, idle tick (0: 100) */
    bool immediate;                      /* libpcap immediate mode (lower latency) */
    uint16_t fanout_group;               /* AF_PACKET: join this fanout group (0: none) */
};

/* Counters of a handle (cumulative since open). */
struct vg_sensor_live_stats {
    uint64_t received;   /* frames handed to the caller */
    uint64_t bytes;      /* their captured bytes */
    uint64_t kernel;     /* frames the kernel passed the filter (AF_PACKET) or ps_recv (pcap) */
    uint64_t dropped;    /* frames dropped by the kernel: ring/buffer full */
    uint64_t if_dropped; /* frames dropped by the interface (pcap ps_ifdrop) */
    uint64_t freezes;    /* AF_PACKET ring freezes (all blocks owned by user space) */
};

struct vg_sensor_live;

/*
 * Open and activate a capture on o->iface. VG_OK and *out; VG_EINVAL (bad option or a BPF
 * expression that does not compile: err holds libpcap's message, e.g. "syntax error");
 * VG_ENOENT (no such interface); VG_EDENIED (not permitted: needs CAP_NET_RAW);
 * VG_EUNSUPPORTED (AF_PACKET on a link type it does not handle); VG_EIO; VG_ENOMEM.
 * With VG_SENSOR_LIVE_AUTO, an AF_PACKET failure other than a bad filter falls back to
 * libpcap.
 */
int vg_sensor_live_open(const struct vg_sensor_live_opts *o, struct vg_sensor_live **out, char *err,
                        size_t errsz);

/*
 * The next frame, waiting at most timeout_ms (-1: the handle's timeout). VG_OK and *f
 * (borrowed until the next call); VG_AGAIN when nothing arrived in time (idle link: tick
 * the engine); VG_EIO when the interface went away or the socket failed (message in
 * vg_sensor_live_error).
 */
int vg_sensor_live_next(struct vg_sensor_live *l, struct vg_sensor_frame *f, int timeout_ms);

/* Counters; reads the kernel's (PACKET_STATISTICS / pcap_stats) and accumulates them. */
void vg_sensor_live_stats(struct vg_sensor_live *l, struct vg_sensor_live_stats *st);

/* The backend in use ("afpacket" or "pcap"), its link type (VG_SENSOR_LINK_*), last error. */
const char *vg_sensor_live_backend_name(const struct vg_sensor_live *l);
uint32_t vg_sensor_live_linktype(const struct vg_sensor_live *l);
const char *vg_sensor_live_error(const struct vg_sensor_live *l);

/* Close the capture (releases the ring and the socket). NULL is a no-op. */
void vg_sensor_live_close(struct vg_sensor_live *l);

/* Frame and idle callbacks of vg_sensor_live_run (ctx is the caller's). */
typedef void (*vg_sensor_live_frame_fn)(void *ctx, const struct vg_sensor_frame *f);
typedef void (*vg_sensor_live_tick_fn)(void *ctx, int64_t now_ns);

/*
 * Capture loop on the calling thread: on_frame for every frame, on_tick (may be NULL) with
 * the wall clock when the link was idle for the handle's timeout and at least once a second
 * otherwise (so flows time out on a quiet link: pass vg_sensor_engine_tick's adapter). Ends
 * when *stop becomes non-zero (checked at least every timeout) or on an error. VG_OK after a
 * stop, VG_EIO.
 */
int vg_sensor_live_run(struct vg_sensor_live *l, const volatile sig_atomic_t *stop,
                       vg_sensor_live_frame_fn on_frame, vg_sensor_live_tick_fn on_tick, void *ctx);

#endif
