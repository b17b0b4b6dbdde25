/*
 * sensor_engine_int.h — the sensor engine's private layout (issue 6), shared by
 * sensor_engine.c (packet path, app dispatch), sensor_stream.c (TCP reassembly) and
 * sensor_eve.c (record header). Nothing outside those files includes it.
 *
 * Per flow, the engine hangs a struct vg_sensor_fstate off flow->user: the flow id, the chosen
 * protocol parser and its state, and the two TCP stream directions.
 */
#ifndef VG_SENSOR_ENGINE_INT_H
#define VG_SENSOR_ENGINE_INT_H

#include "sensor/sensor_app.h"
#include "sensor/sensor_defrag.h"
#include "sensor/sensor_detect.h"
#include "sensor/sensor_stream.h"

/* Where a flow stands with its application parser. */
enum vg_sensor_app_state {
    VG_SENSOR_APPST_PROBING = 0, /* no parser chosen yet */
    VG_SENSOR_APPST_ACTIVE,      /* parser chosen, being fed */
    VG_SENSOR_APPST_DONE,        /* parser said DONE: stop feeding */
    VG_SENSOR_APPST_ERROR,       /* parser said ERROR (anomaly written): stop feeding */
    VG_SENSOR_APPST_NONE,        /* no parser recognised the flow */
};

/* Per-flow engine state (flow->user). */
struct vg_sensor_fstate {
    uint64_t flow_id;
    const struct vg_sensor_app_proto *app;      /* chosen parser (NULL while probing / none) */
    const struct vg_sensor_app_proto *app_orig; /* parser before a TLS upgrade */
    void *app_state;
    uint8_t appst;         /* enum vg_sensor_app_state */
    uint8_t probe_done[2]; /* TCP: the direction's probes said no; UDP: datagrams probed */
    uint8_t first_dir;     /* direction whose bytes came first (0xff: none yet) */
    bool alerted;
    bool is_tcp;
    bool had_data;     /* application bytes were seen */
    bool swapped;      /* the table's client is really the server (reply seen first) */
    uint8_t icmp_seen; /* bit per direction */
    uint8_t icmp_type[2], icmp_code[2];
    uint8_t tcp_st; /* Suricata-like TCP state, see sensor_stream.c */
    uint16_t probe_len[2];
    size_t probe_lead[2];              /* bytes of a direction lost before its first kept byte */
    size_t probe_lost[2];              /* bytes of a direction lost after the kept ones */
    uint8_t *probe_buf[2];             /* first bytes of each direction while probing (bounded) */
    struct vg_sensor_stream stream[2]; /* TCP, indexed by enum vg_sensor_flow_dir */
};

struct vg_sensor_engine {
    struct vg_sensor_engine_config cfg;
    vg_sensor_sink_fn sink;
    void *sink_ctx;
    struct vg_sensor_flow_table *ft;
    struct vg_sensor_detect *det;
    struct vg_sensor_defrag *defrag;
    struct vg_sbuf rec; /* the record being written */
    bool rec_open;
    struct vg_sensor_engine_stats st;
    uint64_t flow_seq;   /* flows created, for flow ids */
    uint64_t pcap_cnt;   /* number of the packet being processed (last one at flush) */
    int64_t now_ns;      /* packet clock */
    size_t stream_total; /* out-of-order bytes buffered by all flows */
    const struct vg_sensor_app_proto *const *protos; /* candidate parsers */
    size_t nprotos;
};

/* Replace the candidate parsers (tests; tab is borrowed and must outlive the engine). */
void vg_sensor_engine_set_protos(struct vg_sensor_engine *e,
                                 const struct vg_sensor_app_proto *const *tab, size_t n);

/* Write an `anomaly` record for the flow in c (flow may be NULL: packet-only anomaly).
 * type "decode"/"stream"/"applayer"; event is the anomaly's name. */
void vg_sensor_eve_anomaly(struct vg_sensor_app_ctx *c, const char *type, const char *event,
                           int layer_app);

/* Hand TCP payload bytes of c->dir, in order, to the flow's application layer. */
void vg_sensor_engine_app_data(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs,
                               const uint8_t *p, size_t n);
/* Report n lost bytes of c->dir to the flow's application layer. */
void vg_sensor_engine_app_gap(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, size_t n);

#endif
