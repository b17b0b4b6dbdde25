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
    /* Re-detection after VG_SENSOR_APP_UPGRADE_TLS: the parser asked first (TLS). */
    const struct vg_sensor_app_proto *prefer;
    /* Record header (sensor_eve_hdr.c). */
    uint16_t vlan[VG_SENSOR_MAX_VLAN]; /* VLAN ids of the flow's first packet, outermost first */
    uint8_t vlan_count;
    uint8_t mac_seen;   /* bit per key direction: mac[d] holds that direction's frame MACs */
    bool cid_done;      /* cid computed */
    char cid[32];       /* "1:<base64 SHA-1>" Community ID v1 */
    uint8_t mac[2][12]; /* per key direction: destination then source MAC of its frames */
    /* Expected dynamic channel (vg_sensor_expect): label and pending record. */
    struct vg_sensor_expect_slot *exp;
    uint64_t tx_cnt; /* transactions logged (highest record tx_id + 1), for flow.tx_cnt */
};

/* Expectations of dynamic channels (vg_sensor_expect), per engine. */
#define VG_SENSOR_EXPECT_MAX   64
#define VG_SENSOR_EXPECT_TTL   (120LL * 1000000000LL) /* pending expectation lifetime */
#define VG_SENSOR_EXPECT_LABEL 16
#define VG_SENSOR_EXPECT_CMD   8
#define VG_SENSOR_EXPECT_FILE  256
struct vg_sensor_expect_slot {
    int64_t deadline_ns;    /* 0: free */
    uint64_t seq;           /* registration order (latest wins for vg_sensor_expect_file) */
    uint64_t owner_flow_id; /* control flow that asked */
    uint8_t family;
    uint8_t addr[16];
    uint16_t port;
    bool taken;                         /* a flow matched it (the slot then belongs to that flow) */
    char label[VG_SENSOR_EXPECT_LABEL]; /* app_proto of the channel, e.g. "ftp-data" */
    char cmd[VG_SENSOR_EXPECT_CMD];     /* "RETR", "STOR", … ("" unknown) */
    char file[VG_SENSOR_EXPECT_FILE];
    uint16_t file_len;
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
    size_t upgrade_used;      /* vg_sensor_app_upgrade_at during a data call (SIZE_MAX: all) */
    const uint8_t *frame_eth; /* Ethernet header of the frame being processed (NULL: none) */
    struct vg_sensor_expect_slot expect[VG_SENSOR_EXPECT_MAX];
    uint64_t expect_seq;
};

/* Replace the candidate parsers (tests; tab is borrowed and must outlive the engine). */
void vg_sensor_engine_set_protos(struct vg_sensor_engine *e,
                                 const struct vg_sensor_app_proto *const *tab, size_t n);

/* Write an `anomaly` record for the flow in c (flow may be NULL: packet-only anomaly).
 * type "decode"/"stream"/"applayer"; event is the anomaly's name. */
void vg_sensor_eve_anomaly(struct vg_sensor_app_ctx *c, const char *type, const char *event,
                           int layer_app);

/* Header members after the addresses (sensor_eve_hdr.c). */
/* Writes ,"vlan":[…] when the flow (or, without a flow, the packet) had VLAN tags; needs
 * VG_SENSOR_EVE_VLAN_MAX bytes at p. Returns the end. */
#define VG_SENSOR_EVE_VLAN_MAX (10 + VG_SENSOR_MAX_VLAN * 6)
char *vg_sensor_eve_w_vlan(char *p, const struct vg_sensor_app_ctx *c);
/* Appends "community_id" (flows) and "ether" (cfg.log_ether) to the open record. */
void vg_sensor_eve_hdr_tail(struct vg_sensor_app_ctx *c, struct vg_sbuf *s, bool reversed);
/* Community ID v1 of flow key k with seed into out ("1:" + 28 base64 characters + NUL). icmp_type/
 * icmp_code: the first ICMP message of the flow (ICMP flows only). */
void vg_sensor_community_id(const struct vg_flow_key *k, uint16_t seed, uint8_t icmp_type,
                            uint8_t icmp_code, char out[32]);

/* Expectations (sensor_expect.c). */
/* A new flow: label it when an expectation waits for its server endpoint (appst DONE). */
void vg_sensor_expect_match(struct vg_sensor_engine *e, struct vg_sensor_flow *f,
                            struct vg_sensor_fstate *fs);
/* The labelled flow ends: write its record (ftp_data) when the control flow said what it
 * carried. */
void vg_sensor_expect_flow_end(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs);
/* Give the flow's slot back. */
void vg_sensor_expect_release(struct vg_sensor_fstate *fs);
/* The flow's expectation label ("ftp-data") or NULL. */
const char *vg_sensor_expect_label(const struct vg_sensor_fstate *fs);

/* Hand TCP payload bytes of c->dir, in order, to the flow's application layer. */
void vg_sensor_engine_app_data(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs,
                               const uint8_t *p, size_t n);
/* Report n lost bytes of c->dir to the flow's application layer. */
void vg_sensor_engine_app_gap(struct vg_sensor_app_ctx *c, struct vg_sensor_fstate *fs, size_t n);

#endif
