/*
 * sensor_defrag.h — IPv4/IPv6 fragment reassembly of the sensor engine (private to the
 * engine).
 *
 * Fragments are kept per (family, src, dst, protocol, id) in a bounded table (max datagrams,
 * max bytes in total, 64 KiB per datagram) on the packet clock with a timeout. When the last
 * hole is filled, the datagram is rebuilt (IP header of the first fragment, without fragment
 * fields) and decoded again. Overlapping fragments are kept first-copy-wins and counted.
 */
#ifndef VG_SENSOR_DEFRAG_H
#define VG_SENSOR_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/sensor_pkt.h"

struct vg_sensor_defrag;

struct vg_sensor_defrag_stats {
    uint64_t fragments;   /* fragments received */
    uint64_t reassembled; /* datagrams rebuilt */
    uint64_t overlaps;    /* fragments overlapping earlier data */
    uint64_t timeouts;    /* datagrams dropped incomplete (timeout or eviction) */
    uint64_t dropped;     /* fragments dropped (bounds, malformed) */
};

/* Result of vg_sensor_defrag_add. */
enum vg_sensor_defrag_res {
    VG_SENSOR_DEFRAG_HELD = 0, /* kept; the datagram is not complete yet */
    VG_SENSOR_DEFRAG_DONE = 1, /* *out holds the rebuilt datagram, decoded */
    VG_SENSOR_DEFRAG_DROP = 2, /* fragment dropped (malformed or a bound) */
};

/* Flag bits of vg_sensor_defrag_add's *events. */
#define VG_SENSOR_DEFRAG_EV_OVERLAP 0x1 /* this fragment overlapped data already held */
#define VG_SENSOR_DEFRAG_EV_TOO_BIG 0x2 /* offset + length past 65535 */

/* max_bytes: all held fragment data (0: 16 MiB); timeout_ns (0: 60 s). */
int vg_sensor_defrag_create(size_t max_bytes, int64_t timeout_ns, struct vg_sensor_defrag **out);
void vg_sensor_defrag_destroy(struct vg_sensor_defrag *d);

/*
 * Add the decoded fragment pkt (pkt->is_fragment) seen at now_ns. On DONE, *out is the rebuilt
 * datagram decoded (its bytes stay valid until the next call). *events gets
 * VG_SENSOR_DEFRAG_EV_* bits.
 */
enum vg_sensor_defrag_res vg_sensor_defrag_add(struct vg_sensor_defrag *d,
                                               const struct vg_sensor_pkt *pkt, int64_t now_ns,
                                               struct vg_sensor_pkt *out, unsigned *events);

void vg_sensor_defrag_stats(const struct vg_sensor_defrag *d, struct vg_sensor_defrag_stats *out);

#endif
