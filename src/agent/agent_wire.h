/*
 * agent_wire.h — the agent <-> server wire protocol (issue 5), shared by the agent's
 * transport (src/agent/agent_transport.c) and the server's fleet listener (src/fleet/).
 * The codec works on byte buffers; TLS (mutual, OpenSSL) is set up by the callers.
 *
 * Frame = 16-byte header + payload. All integers are little-endian.
 *
 *   offset size field
 *   0      4    magic "VGA1"
 *   4      1    type (enum vg_agent_frame_type)
 *   5      1    flags (bit 0 VG_AGENT_WIRE_ZSTD: the whole payload is one zstd frame)
 *   6      2    reserved, must be 0
 *   8      4    length of the payload as sent (<= VG_AGENT_WIRE_MAX_FRAME)
 *   12     4    CRC-32 (IEEE, vg_crc32) of the payload bytes as sent
 *
 * Payloads (after decompression):
 *   HELLO          agent -> server  JSON {"agent_id","version","hostname","os","ips":[..],
 *                                   "collectors":{"process":"ebpf",...},"spool_id","next_seq"}
 *   EVENTS         agent -> server  first_seq u64, count u32, then `count` JSON objects, each
 *                                   terminated by '\n'; event i has sequence first_seq + i
 *   ACK            both ways        last_seq u64: server -> agent "stored everything <= last_seq"
 *   HEARTBEAT      both ways        empty, or a JSON object (agent: counters)
 *   CONFIG         server -> agent  JSON configuration object
 *   COMMAND        server -> agent  64-byte Ed25519 signature, then the exact signed JSON
 *                                   {"id","action","args":{..},"issued","expires","agent_id"}
 *                                   (issued/expires: Unix seconds)
 *   COMMAND_RESULT agent -> server  JSON {"id","status":"ok"|"error"|"refused","output"}
 *   ERROR          server -> agent  JSON {"error":"..."} then the server closes (e.g. revoked)
 *
 * Delivery (at-least-once on the wire, exactly-once in the store): the agent's spool gives
 * every event a sequence number, contiguous within a spool (spool_id). After HELLO the
 * server replies ACK(highest seq it has stored for this agent_id+spool_id, 0 if none); the
 * agent drops what is acknowledged and sends EVENTS in order; the server stores only events
 * with seq > its high-water mark (a resent batch after a lost ACK is acknowledged again, not
 * stored twice) and answers every EVENTS frame with ACK(last seq of the frame). Events are
 * contiguous inside a frame; a frame starting past high-water + 1 means the agent lost the
 * events in between (a corrupt spool record, counted by the agent): the server accepts it and
 * logs the gap. A new spool_id (the agent's spool was wiped) starts a new high-water mark.
 *
 * Thread-safety: decoders and verifiers are single-threaded objects; the encoders and
 * parse helpers are pure functions.
 */
#ifndef VG_AGENT_WIRE_H
#define VG_AGENT_WIRE_H

#include "core/core.h"

#include <stdbool.h>
#include <stdint.h>

#define VG_AGENT_WIRE_MAGIC       "VGA1"
#define VG_AGENT_WIRE_HEADER_SIZE 16
#define VG_AGENT_WIRE_MAX_FRAME   (16u << 20) /* payload bytes on the wire */
#define VG_AGENT_WIRE_MAX_PAYLOAD (64u << 20) /* payload bytes after decompression */
#define VG_AGENT_WIRE_ZSTD        0x01u       /* flags bit 0 */
#define VG_AGENT_WIRE_SIG_SIZE    64          /* Ed25519 detached signature */
#define VG_AGENT_WIRE_PK_SIZE     32          /* Ed25519 public key */
#define VG_AGENT_WIRE_SK_SIZE     64          /* Ed25519 secret key (libsodium layout) */
#define VG_AGENT_WIRE_EVENTS_HDR  12          /* first_seq u64 + count u32 */

enum vg_agent_frame_type {
    VG_AGENT_FRAME_HELLO = 1,
    VG_AGENT_FRAME_EVENTS = 2,
    VG_AGENT_FRAME_ACK = 3,
    VG_AGENT_FRAME_HEARTBEAT = 4,
    VG_AGENT_FRAME_CONFIG = 5,
    VG_AGENT_FRAME_COMMAND = 6,
    VG_AGENT_FRAME_COMMAND_RESULT = 7,
    VG_AGENT_FRAME_ERROR = 8,
};

/* "HELLO", "EVENTS", ...; "?" for an unknown type. */
const char *vg_agent_frame_type_name(int type);

/* ------------------------------------------------------------------ encoding */

/*
 * Append one frame to out. With VG_AGENT_WIRE_ZSTD in flags the payload is compressed
 * (zstd level `level`, 0 = default 3) and the flag is kept only if compression made it
 * smaller. Returns VG_OK; VG_EINVAL (unknown type or flag); VG_ELIMIT (payload over
 * VG_AGENT_WIRE_MAX_PAYLOAD or the frame over VG_AGENT_WIRE_MAX_FRAME); VG_ENOMEM. On
 * error out is left as it was.
 */
int vg_agent_wire_encode(struct vg_sbuf *out, int type, unsigned flags, int level,
                         const void *payload, size_t len);
/* EVENTS: body holds `count` JSON objects each ending with '\n' (as vg_agent_spool_read_batch
   returns them). compress: zstd. Errors as vg_agent_wire_encode. */
int vg_agent_wire_encode_events(struct vg_sbuf *out, uint64_t first_seq, uint32_t count,
                                const char *body, size_t body_len, bool compress);
int vg_agent_wire_encode_ack(struct vg_sbuf *out, uint64_t last_seq);

/* ------------------------------------------------------------------ decoding */

struct vg_agent_frame {
    int type;               /* enum vg_agent_frame_type */
    unsigned flags;         /* as received (VG_AGENT_WIRE_ZSTD if it was compressed) */
    const uint8_t *payload; /* decompressed; borrowed, valid until the next decoder call */
    size_t len;
};

struct vg_agent_wire_limits {
    size_t max_frame;   /* on-wire payload bound (0: VG_AGENT_WIRE_MAX_FRAME) */
    size_t max_payload; /* decompressed bound (0: VG_AGENT_WIRE_MAX_PAYLOAD) */
};

struct vg_agent_wire_decoder;

/* Create an incremental decoder (lim NULL: defaults). VG_OK or VG_ENOMEM. */
int vg_agent_wire_decoder_create(const struct vg_agent_wire_limits *lim,
                                 struct vg_agent_wire_decoder **out);
void vg_agent_wire_decoder_destroy(struct vg_agent_wire_decoder *d); /* NULL-safe */
/* Append received bytes (copied). VG_OK, VG_ENOMEM, or VG_EINVAL once the decoder failed. */
int vg_agent_wire_decoder_feed(struct vg_agent_wire_decoder *d, const void *p, size_t n);
/*
 * Take the next complete frame. VG_OK: *f is filled (payload valid until the next call on
 * d); VG_AGAIN: feed more bytes; VG_EINVAL: the stream is bad — err says why ("bad magic",
 * "frame length 20000000 over limit 16777216", "payload crc mismatch", "unknown frame type
 * 9", "reserved bits set", "zstd: decompressed size over limit", ...). After VG_EINVAL the
 * decoder stays failed (the connection must be closed).
 */
int vg_agent_wire_decoder_next(struct vg_agent_wire_decoder *d, struct vg_agent_frame *f, char *err,
                               size_t errsz);
/* Bytes buffered and not yet returned as frames. */
size_t vg_agent_wire_decoder_pending(const struct vg_agent_wire_decoder *d);

/* One-shot: decode a single frame from a complete buffer (tests, fuzzing). *used gets the
   bytes consumed. Same codes as _next; the payload is owned by d. */
int vg_agent_wire_decode_one(struct vg_agent_wire_decoder *d, const void *p, size_t n, size_t *used,
                             struct vg_agent_frame *f, char *err, size_t errsz);

/* An EVENTS payload, split. */
struct vg_agent_wire_events {
    uint64_t first_seq;
    uint32_t count;
    const char *body; /* borrowed from the frame */
    size_t body_len;
};

/*
 * Check and split an EVENTS payload: the header, that body has exactly `count` lines, each
 * non-empty, newline-terminated, starting with '{' and free of NUL, and that
 * first_seq + count does not overflow. VG_OK or VG_EINVAL with err naming the event index.
 */
int vg_agent_wire_events_parse(const struct vg_agent_frame *f, struct vg_agent_wire_events *ev,
                               char *err, size_t errsz);
/* Iterate the events of a parsed payload: *pos starts at 0; returns true with the event's
   JSON (without '\n') in *json and *len, false at the end. */
bool vg_agent_wire_events_next(const struct vg_agent_wire_events *ev, size_t *pos,
                               const char **json, size_t *len);
/* ACK payload -> last_seq. VG_OK or VG_EINVAL (not 8 bytes). */
int vg_agent_wire_ack_parse(const struct vg_agent_frame *f, uint64_t *last_seq);

/* ------------------------------------------------------------------ HELLO */

struct vg_agent_hello {
    const char *agent_id;
    const char *version;
    const char *hostname;
    const char *os;
    const char *const *ips; /* n_ips strings */
    size_t n_ips;
    const char *collectors_json; /* JSON object text {"process":"ebpf",...}; NULL: {} */
    const char *spool_id;        /* hex id of the agent's spool */
    uint64_t next_seq;           /* sequence the spool will give the next event */
};

/* Write the HELLO JSON (not framed) into out. VG_OK or VG_ENOMEM / VG_EINVAL (bad
   collectors_json is not checked: the server parses it). */
int vg_agent_wire_hello_json(const struct vg_agent_hello *h, struct vg_sbuf *out);

/* ------------------------------------------------------------------ signed commands */

/* Ed25519 key pair (libsodium crypto_sign_keypair). VG_OK or VG_ERROR. */
int vg_agent_sign_keypair(uint8_t pk[VG_AGENT_WIRE_PK_SIZE], uint8_t sk[VG_AGENT_WIRE_SK_SIZE]);
/*
 * Key files: the secret key file holds the 64-byte secret key as 128 hex digits + '\n',
 * written mode 0600; the public key file 64 hex digits + '\n'. Load refuses a secret key file
 * readable by group/others (VG_EDENIED). VG_OK, VG_EIO, VG_EINVAL (not hex of that size).
 */
int vg_agent_sign_key_save(const char *path, const uint8_t *key, size_t len, bool secret);
int vg_agent_sign_key_load(const char *path, uint8_t *key, size_t len, bool secret);

/* Build the command JSON {"id","action","args","issued","expires","agent_id"} into out.
   args_json: a JSON object text (NULL: {}), copied verbatim. VG_OK or VG_ENOMEM. */
int vg_agent_command_json(struct vg_sbuf *out, const char *id, const char *action,
                          const char *args_json, int64_t issued, int64_t expires,
                          const char *agent_id);
/* Sign json with sk and append a COMMAND frame (signature || json) to out. */
int vg_agent_wire_encode_command(struct vg_sbuf *out, const uint8_t sk[VG_AGENT_WIRE_SK_SIZE],
                                 const char *json, size_t len);
/* Append a COMMAND_RESULT frame {"id","status","output"} (output may be NULL). */
int vg_agent_wire_encode_result(struct vg_sbuf *out, const char *id, const char *status,
                                const char *output);

/* A verified command; strings owned by the struct (vg_agent_command_fini). */
struct vg_agent_command {
    char *id;
    char *action;
    char *args_json; /* the "args" object re-serialised ({} when absent) */
    char *agent_id;
    int64_t issued, expires; /* Unix seconds */
};
void vg_agent_command_fini(struct vg_agent_command *c);

struct vg_agent_cmd_verifier;

/*
 * A verifier for one agent: the server's command public key, the agent's own id, and a
 * replay window of the ids already accepted (kept until their expiry; at most
 * VG_AGENT_CMD_WINDOW commands may be live at once). state_path (NULL: memory only) keeps
 * the window across agent restarts. VG_OK, VG_ENOMEM, VG_EIO.
 */
#define VG_AGENT_CMD_WINDOW     1024
#define VG_AGENT_CMD_MAX_LIFE   86400 /* expires - issued, seconds */
#define VG_AGENT_CMD_CLOCK_SKEW 300   /* issued may be this far in the future */
int vg_agent_cmd_verifier_create(const uint8_t pk[VG_AGENT_WIRE_PK_SIZE], const char *agent_id,
                                 const char *state_path, struct vg_agent_cmd_verifier **out);
void vg_agent_cmd_verifier_destroy(struct vg_agent_cmd_verifier *v); /* NULL-safe */
/*
 * Verify a COMMAND payload at time now (Unix seconds) and parse it into *out. Refuses with
 * VG_EDENIED and a reason in err: "unsigned" (payload shorter than a signature), "bad
 * signature", "wrong agent id", "expired", "not yet valid", "lifetime too long", "replayed
 * id", "replay window full"; VG_EINVAL for a signed but malformed JSON (field named). On
 * VG_OK the id enters the replay window; *out must be released with vg_agent_command_fini.
 */
int vg_agent_cmd_verify(struct vg_agent_cmd_verifier *v, const uint8_t *payload, size_t len,
                        int64_t now, struct vg_agent_command *out, char *err, size_t errsz);

#endif /* VG_AGENT_WIRE_H */
