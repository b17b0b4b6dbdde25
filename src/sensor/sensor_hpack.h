/*
 * sensor_hpack.h — HPACK (RFC 7541) header decompression for the sensor's HTTP/2 parser
 * (sensor_http2.c, issue 6), and the few HTTP/2 parser symbols its tests use.
 *
 *   HEADERS/CONTINUATION/PUSH_PROMISE block -> vg_sensor_hpack_decode -> one callback per
 *   field (name, value) or dynamic table size update
 *
 * One decoding context per direction of a connection. The dynamic table is bounded: its size
 * (RFC accounting: name + value + 32 per entry) never exceeds VG_SENSOR_HPACK_TABLE_MAX, and
 * a size update above the peer's SETTINGS_HEADER_TABLE_SIZE (vg_sensor_hpack_set_limit) is
 * an error. Storage grows on demand up to that bound; decoding allocates nothing else (decoded
 * strings go to the caller's scratch buffer). Single-threaded, like the rest of the engine.
 */
#ifndef VG_SENSOR_HPACK_H
#define VG_SENSOR_HPACK_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/sensor_app.h"

#define VG_SENSOR_HPACK_TABLE_DEFAULT 4096u  /* RFC 7540 initial SETTINGS_HEADER_TABLE_SIZE */
#define VG_SENSOR_HPACK_TABLE_MAX     65536u /* hard bound on one dynamic table (bytes) */

/* Decoding errors (negative returns of vg_sensor_hpack_decode). */
#define VG_SENSOR_HPACK_E_TRUNCATED -1 /* the block ends inside a representation */
#define VG_SENSOR_HPACK_E_INTEGER   -2 /* integer above 2^32 - 1 */
#define VG_SENSOR_HPACK_E_INDEX     -3 /* index 0 or past the tables */
#define VG_SENSOR_HPACK_E_HUFFMAN   -4 /* bad Huffman code, EOS, or bad padding */
#define VG_SENSOR_HPACK_E_SIZE      -5 /* size update above the allowed table size */
#define VG_SENSOR_HPACK_E_TOO_LONG  -6 /* a decoded string does not fit the scratch buffer */
#define VG_SENSOR_HPACK_E_NOMEM     -7 /* the dynamic table could not grow */

struct vg_sensor_hpack_ent {
    uint32_t off;  /* in data */
    uint32_t nlen; /* name bytes, then value bytes */
    uint32_t vlen;
    uint32_t name_id; /* identity of the name (see vg_sensor_hpack_field.name_id) */
};

/* One direction's decoding context. Zero-initialise with vg_sensor_hpack_init. */
struct vg_sensor_hpack {
    uint8_t *data;                   /* entry bytes, oldest at head */
    uint32_t data_cap, head, tail;   /* live bytes are data[head..tail) */
    struct vg_sensor_hpack_ent *ent; /* ring, oldest at ent_first */
    uint32_t ent_cap, ent_first, ent_count;
    uint32_t size;     /* RFC size of the entries */
    uint32_t max_size; /* current maximum (last size update) */
    uint32_t limit;    /* largest size update allowed (peer's SETTINGS_HEADER_TABLE_SIZE) */
    uint32_t next_name_id;
    uint64_t evictions; /* entries evicted (counter) */
};

/* What a representation decoded to. Pointers are valid for the callback only. */
struct vg_sensor_hpack_field {
    int size_update; /* 1: a dynamic table size update (size); 0: a header field */
    uint32_t size;
    const uint8_t *name;
    size_t nlen;
    const uint8_t *value;
    size_t vlen;
    /* Names decoded as literals or taken from the static table get a fresh id; a name taken
     * from a dynamic entry keeps the id of the literal it was first decoded from. */
    uint32_t name_id;
    int from_dynamic; /* name came from the dynamic table */
};

typedef void (*vg_sensor_hpack_emit_fn)(void *ctx, const struct vg_sensor_hpack_field *f);

void vg_sensor_hpack_init(struct vg_sensor_hpack *h);
/* Free the table storage (h may be reused after vg_sensor_hpack_init). */
void vg_sensor_hpack_fini(struct vg_sensor_hpack *h);
/* The peer's SETTINGS_HEADER_TABLE_SIZE for this decoder (clamped to the hard bound). */
void vg_sensor_hpack_set_limit(struct vg_sensor_hpack *h, uint32_t limit);

/*
 * Decode one complete header block p[0..n), calling emit for every field and size update in
 * order, and updating the dynamic table. scratch[0..scratch_cap) holds decoded strings.
 * Returns 0, or a VG_SENSOR_HPACK_E_* (fields before the error were emitted; the table may
 * then differ from the encoder's: the caller should stop trusting this direction).
 */
int vg_sensor_hpack_decode(struct vg_sensor_hpack *h, const uint8_t *p, size_t n, uint8_t *scratch,
                           size_t scratch_cap, vg_sensor_hpack_emit_fn emit, void *ctx);

/*
 * Huffman-decode p[0..n) (RFC 7541 Appendix B) into out[0..cap). Returns the decoded length,
 * or VG_SENSOR_HPACK_E_HUFFMAN / VG_SENSOR_HPACK_E_TOO_LONG.
 */
long vg_sensor_hpack_huffman_decode(const uint8_t *p, size_t n, uint8_t *out, size_t cap);

/*
 * Decode an HPACK integer with an N-bit prefix (1..8) at p[*pos..n). Returns 0 and advances
 * *pos, or VG_SENSOR_HPACK_E_TRUNCATED / VG_SENSOR_HPACK_E_INTEGER.
 */
int vg_sensor_hpack_int(const uint8_t *p, size_t n, size_t *pos, int prefix, uint32_t *out);

/* ------------------------------------------------------------------ HTTP/2 parser */

/* The HTTP/2 parser (sensor_http2.c), app_proto "http2". */
extern const struct vg_sensor_app_proto vg_sensor_proto_http2;

/* Counters of one HTTP/2 connection (for tests and debugging). */
struct vg_sensor_http2_stats {
    uint64_t frames, txs, records;
    uint64_t malformed_frames;  /* bad lengths, padding, settings */
    uint64_t long_frames;       /* frames of 64 KiB or more (anomaly records; not kept) */
    uint64_t hpack_errors;      /* header blocks that failed to decode */
    uint64_t headers_truncated; /* header fields dropped past the per-transaction bound */
    uint64_t streams_evicted;   /* transactions logged early because too many were open */
    uint64_t gaps;
};

/* Counters of the state st returned by vg_sensor_proto_http2.state_new. */
void vg_sensor_http2_stats(const void *st, struct vg_sensor_http2_stats *out);

#endif
