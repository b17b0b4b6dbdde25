/*
 * sensor_app.h — the sensor's application layer (issue 6): how protocol parsers plug into the
 * engine, how they write EVE JSON records, and the hooks they call for network detections.
 *
 *   frames -> vg_sensor_decode -> flow table -> (TCP: stream reassembly) -> protocol parser
 *          -> EVE records (vg_sensor_rec_*) -> sink (file, stdout, server spool)
 *          -> detection hooks (vg_sensor_note_*) -> `alert` records
 *
 * One engine per worker thread; everything below runs on that thread (no locks), except the
 * sink, which the engine's owner provides.
 *
 * Records follow Suricata's EVE JSON (version 8 layout) so existing tools and the
 * suricata-verify checks read them: the engine writes the common header
 *   {"timestamp":"2016-01-01T12:00:00.123456+0000","flow_id":N,"pcap_cnt":N,
 *    "event_type":"dns",["vlan":[N,…],]"src_ip":"…","src_port":N,"dest_ip":"…","dest_port":N,
 *    "proto":"UDP",["tx_id":N,] ["app_proto":"…",] ["community_id":"1:…",]
 *    ["ether":{"src_mac":"…","dest_mac":"…"},] (ether with cfg.log_ether)
 * and the parser appends its own members ("dns":{…}) before vg_sensor_rec_end closes the object.
 */
#ifndef VG_SENSOR_APP_H
#define VG_SENSOR_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "sensor/sensor_flow.h"
#include "sensor/sensor_pkt.h"

struct vg_sensor_engine;

/* ------------------------------------------------------------------ parser context */

/* What the engine tells a parser about the bytes it hands over. */
struct vg_sensor_app_ctx {
    struct vg_sensor_engine *eng;
    struct vg_sensor_flow *flow;     /* key oriented client -> server */
    enum vg_sensor_flow_dir dir;     /* direction of the data being handed over */
    int64_t ts_ns;                   /* time of the packet that carried (or completed) the data */
    uint64_t pcap_cnt;               /* 1-based number of that packet in the capture */
    const struct vg_sensor_pkt *pkt; /* that packet (NULL at flow end / flush) */
};

/* Which addresses a record's header shows as src/dest. */
enum vg_sensor_rec_dir {
    VG_SENSOR_REC_FLOW = 0,    /* src = the flow's client (HTTP, TLS, SSH, SMTP, FTP, flow) */
    VG_SENSOR_REC_PACKET = 1,  /* src = the current packet's sender (DNS, DHCP, anomaly) */
    VG_SENSOR_REC_REVERSE = 2, /* src = the flow's server */
};

/* Returns of a parser's data callback. */
#define VG_SENSOR_APP_OK   0 /* consumed; keep feeding */
#define VG_SENSOR_APP_DONE 1 /* nothing more to parse on this flow (stop feeding, no error) */
#define VG_SENSOR_APP_ERROR                                                                        \
    2 /* the bytes are not this protocol/malformed beyond recovery:                                \
         the engine writes an `anomaly` record (type applayer) once and                            \
         stops feeding the flow */
/*
 * The protocol changes (SMTP STARTTLS, FTP AUTH TLS, HTTP CONNECT 2xx), TLS expected. The
 * engine calls the parser's end() (log what is pending) and frees its state, then detects the
 * protocol again on the bytes that follow (the unconsumed rest of this call first, see
 * vg_sensor_app_upgrade_at; then either
 * direction), asking TLS's probe first and then every parser (the old one included, with a
 * fresh state: plain HTTP inside a CONNECT tunnel is logged as new http transactions, tx_id
 * from 0). The flow's app_proto_orig is the old parser; a TLS record reads it through
 * vg_sensor_app_from_proto(). When no parser recognises the bytes, app_proto stays the old
 * name and nothing more is parsed.
 */
#define VG_SENSOR_APP_UPGRADE_TLS 3

/*
 * A protocol parser. TCP parsers receive each direction's bytes in order, exactly once
 * (reassembled; a hole is reported through gap). UDP parsers receive one datagram per call.
 * Parsers must read only p[0..n) and keep their own bounded buffers (a line or a record
 * larger than their bound is truncated or skipped with a counted anomaly, never grown without
 * limit). They never block and never allocate per byte.
 */
struct vg_sensor_app_proto {
    const char *name;  /* app_proto value: "dns", "http", "tls", "ssh", "smtp", "ftp", "dhcp" */
    uint8_t ipproto;   /* 6 (TCP) or 17 (UDP); DNS registers one entry for each */
    uint16_t ports[8]; /* ports that suggest this protocol (either side); 0-terminated */
    /*
     * Does this look like the protocol? Called with the first bytes seen in dir (TCP: the
     * reassembled start of that direction; UDP: the datagram). Returns 1 (yes), 0 (no) or
     * -1 (need more bytes; TCP only). Must be cheap and never read past n.
     */
    int (*probe)(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir);
    /* Per-flow state (NULL is allowed when the parser keeps none). */
    void *(*state_new)(void);
    void (*state_free)(void *st);
    /* Bytes of one direction (c->dir). Returns VG_SENSOR_APP_*. */
    int (*data)(struct vg_sensor_app_ctx *c, void *st, const uint8_t *p, size_t n);
    /* n bytes of c->dir were lost (capture gap, memory bound). May be NULL. */
    void (*gap)(struct vg_sensor_app_ctx *c, void *st, size_t n);
    /* The flow ends (timeout, FIN/RST after data, flush): log pending transactions. May be
     * NULL. c->pkt is NULL. */
    void (*end)(struct vg_sensor_app_ctx *c, void *st);
};

/* The parsers, defined in their own files. */
extern const struct vg_sensor_app_proto vg_sensor_proto_dns_udp, vg_sensor_proto_dns_tcp,
    vg_sensor_proto_dhcp, vg_sensor_proto_http, vg_sensor_proto_tls, vg_sensor_proto_ssh,
    vg_sensor_proto_smtp, vg_sensor_proto_ftp;

/* Before returning VG_SENSOR_APP_UPGRADE_TLS from data(p, n): only p[0..used) were consumed;
 * the engine hands p[used..n) to the detection that follows. Without this call, all n were
 * consumed. No effect outside a data call. */
void vg_sensor_app_upgrade_at(struct vg_sensor_app_ctx *c, size_t used);

/* The protocol that upgraded this flow to the current parser ("smtp", "ftp", "http", …), or
 * NULL when the flow did not change protocol. For tls.from_proto. */
const char *vg_sensor_app_from_proto(const struct vg_sensor_app_ctx *c);

/* The flow's server (server true) or client endpoint, oriented as records show them: *addr
 * (4 or 16 bytes, borrowed from the flow), *family VG_SENSOR_FLOW_AF_*, *port. */
void vg_sensor_app_endpoint(const struct vg_sensor_app_ctx *c, bool server, const uint8_t **addr,
                            uint8_t *family, uint16_t *port);

/*
 * A dynamic channel is coming (FTP data, …): the next flow to server_addr:port (family
 * VG_SENSOR_FLOW_AF_*; addr 4 or 16 bytes) within VG_SENSOR_EXPECT_TTL of now (2 minutes) is
 * labelled app_proto `proto` (e.g. "ftp-data", copied, at most 15 bytes) and not probed; its
 * flow record carries that app_proto. At most VG_SENSOR_EXPECT_MAX (64) wait per engine (the
 * oldest is replaced). Registering the same endpoint again refreshes it. Returns VG_OK.
 */
int vg_sensor_expect(struct vg_sensor_app_ctx *c, uint8_t family, const uint8_t *server_addr,
                     uint16_t port, const char *proto);
/*
 * What the latest channel this flow expected will carry: command ("RETR", "STOR", …) and
 * file name (borrowed, truncated to 256 bytes). When the channel ends, the engine writes one
 * record of event_type "<proto with '-' as '_'>" (Suricata's `ftp_data`):
 *   {…,"app_proto":"ftp-data","ftp_data":{"filename":"…","command":"RETR"}}
 * Works whether the channel's flow already started or not. No effect without an expectation.
 */
void vg_sensor_expect_file(struct vg_sensor_app_ctx *c, const char *command, const char *file,
                           size_t file_len);

/* ------------------------------------------------------------------ records */

/*
 * Start an EVE record of event_type for the flow in c: writes the common header (see top of
 * file) and returns the buffer where the caller appends its members, each preceded by a
 * comma (the header ends without one), e.g. vg_sbuf_adds(b, ",\"dns\":{…}"). tx_id < 0 omits
 * tx_id. Never NULL. Close with vg_sensor_rec_end before starting another record.
 */
struct vg_sbuf *vg_sensor_rec_begin(struct vg_sensor_app_ctx *c, const char *event_type,
                                    enum vg_sensor_rec_dir dir, int64_t tx_id);
/* Close the record ('}' and newline) and hand it to the sink. */
void vg_sensor_rec_end(struct vg_sensor_app_ctx *c);

/*
 * An application-layer anomaly of the flow in c (Suricata layout, counted in the engine's
 * anomalies whether written or not; written when cfg.log_anomaly):
 *   {…,"event_type":"anomaly",…,["tx_id":N,]"app_proto":"ftp","anomaly":{"app_proto":"ftp",
 *    "type":"applayer","event":"<event>","layer":"<layer>"}}
 * layer: "proto_parser" (a parser's finding) or "proto_detect"; event: the parser's event
 * name as Suricata spells it (e.g. "request_command_too_long", "INVALID_REPLY"). tx_id < 0
 * omits it. Must not be called while a record is open.
 */
void vg_sensor_rec_anomaly(struct vg_sensor_app_ctx *c, const char *layer, const char *event,
                           int64_t tx_id);

/* JSON helpers for record members (s gets the literal, quoted and escaped where needed). */
void vg_sensor_json_kstr(struct vg_sbuf *s, const char *key, const char *v, size_t n);
void vg_sensor_json_kint(struct vg_sbuf *s, const char *key, int64_t v);
void vg_sensor_json_kbool(struct vg_sbuf *s, const char *key, bool v);
/* "2016-01-01T12:00:00.123456+0000" (UTC, microseconds), as Suricata writes times. */
void vg_sensor_json_time(struct vg_sbuf *s, int64_t ts_ns);
/* Address as text: dotted IPv4, or IPv6 as Suricata writes it (eight groups of four hex
 * digits, "2001:0db8:0000:…", what EVE consumers compare). family VG_SENSOR_FLOW_AF_*. */
void vg_sensor_addr_str(char out[46], uint8_t family, const uint8_t *addr);

/* ------------------------------------------------------------------ detection hooks */

/*
 * Facts the parsers report for the sensor's network detections (sensor_detect.c). Each hook
 * is cheap (a hash update) and may write an `alert` record for the flow in c. Strings are
 * borrowed for the call.
 *
 * Because a hook may write a record, never call one while a record of yours is open (between
 * vg_sensor_rec_begin and vg_sensor_rec_end): the engine has one record buffer.
 */

/* A DNS query name was seen (response: with its rcode; query: rcode -1). */
void vg_sensor_note_dns(struct vg_sensor_app_ctx *c, const char *qname, size_t n, int qtype,
                        int rcode);
/* Cleartext credentials crossed the wire (proto "ftp", "http" basic, "smtp", "pop3", …). The
 * password is never copied into records. */
void vg_sensor_note_cred(struct vg_sensor_app_ctx *c, const char *proto, const char *user,
                         size_t user_len);
/* An authentication attempt ended (HTTP 401/403 answer to a request with credentials, FTP 530,
 * SMTP 535; success = false for a failure). SSH/RDP brute force is detected from flows. */
void vg_sensor_note_auth(struct vg_sensor_app_ctx *c, const char *proto, bool success);

/* What the TLS parser learnt about the server certificate. */
struct vg_sensor_cert_facts {
    const char *sni;     /* client's server name or NULL */
    const char *subject; /* "C=US, O=…, CN=…" */
    const char *issuer;
    int64_t not_before; /* Unix seconds */
    int64_t not_after;
    bool self_signed;  /* issuer == subject and the signature verifies with its own key */
    bool name_matches; /* sni matches CN or a subjectAltName (true when no SNI) */
};
void vg_sensor_note_cert(struct vg_sensor_app_ctx *c, const struct vg_sensor_cert_facts *f);

/* ------------------------------------------------------------------ engine */

/* Where finished records go: one call per record line (with its newline). */
typedef void (*vg_sensor_sink_fn)(void *ctx, const char *line, size_t len);

struct vg_sensor_engine_config {
    struct vg_sensor_flow_config flow; /* zeroed fields: defaults */
    size_t stream_max_per_flow; /* out-of-order bytes buffered per flow direction (default 1 MiB) */
    size_t stream_max_total;    /* all flows of the engine (default 256 MiB) */
    bool log_flow;              /* `flow` records (default on in vg_sensor_engine_config_default) */
    bool log_anomaly;           /* `anomaly` records */
    bool detect;                /* run the network detections */
    uint32_t worker;            /* worker index, for flow ids */
    bool log_ether;             /* "ether":{"src_mac","dest_mac"} in record headers (off) */
    bool no_vlan_tracking;      /* VLAN ids not part of the flow key (default: they are) */
    uint16_t community_id_seed; /* Community ID v1 seed (default 0; Suricata's
                                   community-id-seed) */
    bool http_headers;          /* log request_headers/response_headers (Suricata's
                                   dump-all-headers: both) */
};

void vg_sensor_engine_config_default(struct vg_sensor_engine_config *cfg);
/* The configuration engine e runs with (parsers read their options through c->eng). */
const struct vg_sensor_engine_config *vg_sensor_engine_config_of(const struct vg_sensor_engine *e);

/* Counters (monotonic) of one engine. */
struct vg_sensor_engine_stats {
    uint64_t packets, bytes, decode_errors, anomalies;
    uint64_t tcp_segments, tcp_reassembled_bytes, tcp_gaps, tcp_ooo_dropped, tcp_memcap_hits;
    uint64_t app_records, app_errors, alerts;
    struct vg_sensor_flow_stats flows;
    uint64_t app_upgrades; /* protocol changes (VG_SENSOR_APP_UPGRADE_TLS) */
    uint64_t expect_hits;  /* flows labelled by an expectation (vg_sensor_expect) */
};

int vg_sensor_engine_create(const struct vg_sensor_engine_config *cfg, vg_sensor_sink_fn sink,
                            void *sink_ctx, struct vg_sensor_engine **out);
/* Process one captured frame. pcap_cnt: its 1-based number in the capture. */
void vg_sensor_engine_frame(struct vg_sensor_engine *e, const struct vg_sensor_frame *f,
                            uint64_t pcap_cnt);
/* Advance the clock without packets (idle live capture). */
void vg_sensor_engine_tick(struct vg_sensor_engine *e, int64_t now_ns);
/* End every flow (flush parsers, write flow records). */
void vg_sensor_engine_flush(struct vg_sensor_engine *e);
void vg_sensor_engine_stats(const struct vg_sensor_engine *e, struct vg_sensor_engine_stats *out);
void vg_sensor_engine_destroy(struct vg_sensor_engine *e);

#endif
