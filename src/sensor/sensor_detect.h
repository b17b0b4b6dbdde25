/*
 * sensor_detect.h — the sensor's own network detections (issue 6), engine side.
 *
 * The parsers report facts through the vg_sensor_note_* hooks of sensor_app.h; the engine
 * reports every flow that ends. The detector keeps bounded per-source/per-pair state (hash
 * tables with a fixed capacity; the oldest entries make room, counted) on the packet clock and
 * writes `alert` records through vg_sensor_rec_begin(c, "alert", …) with
 *   "alert":{"action":"allowed","gid":1,"signature_id":N,"rev":1,"signature":"…",
 *            "category":"…","severity":1..3,
 *            "metadata":{"mitre_tactic_id":["TA…"],"mitre_technique_id":["T…"],…}}
 * plus a "vigie" object with the evidence (counts, intervals, entropy, …) that explains it.
 */
#ifndef VG_SENSOR_DETECT_H
#define VG_SENSOR_DETECT_H

#include "sensor/sensor_app.h"

struct vg_sensor_detect;

/* Create the detector (thresholds in sensor_detect.c, documented in docs/sensor-detections.md). */
int vg_sensor_detect_create(struct vg_sensor_detect **out);
void vg_sensor_detect_destroy(struct vg_sensor_detect *d);

/* A flow ended; c->flow is the flow (still valid), c->pkt NULL. */
void vg_sensor_detect_flow_end(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c);

/* The engine's detector (NULL when detections are off): the note hooks find it here. */
struct vg_sensor_detect *vg_sensor_engine_detector(struct vg_sensor_engine *e);

#endif
