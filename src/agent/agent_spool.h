/*
 * agent_spool.h — the agent's disk spool (issue 5): every event a collector emits is appended
 * here with a sequence number before it is sent, and removed only after the server
 * acknowledged it, so a crash of the agent or an absent server never loses or reorders an
 * event. Bounded: when the spool is full, NEW events are dropped and counted (old ones are
 * never overwritten); the count is reported in the stats and, once space returns, as a
 * "agent.spool" event in the stream itself.
 *
 * Layout: <state_dir>/spool/ holds
 *   id                 the spool id (32 hex digits, made once; the server keys its
 *                      high-water mark by agent id + spool id)
 *   cursor             the acknowledged sequence (replaced atomically on each ack)
 *   seg-<first seq>.log  append-only segments of records
 *                        {u32 len, u32 crc32(seq || json), u64 seq, json}  (little-endian)
 * A segment is deleted once every record in it is acknowledged. On open the last segment is
 * checked record by record and a torn tail (crash mid-write) is cut off.
 *
 * Threads: append (and vg_agent_spool_emit) may be called from any number of threads; the
 * reader side (read_batch, ack, rewind, wait) belongs to one thread (the transport).
 */
#ifndef VG_AGENT_SPOOL_H
#define VG_AGENT_SPOOL_H

#include "core/core.h"

#include <stdint.h>

enum vg_agent_spool_fsync {
    VG_AGENT_SPOOL_FSYNC_BATCH = 0, /* group fsync: after fsync_bytes or fsync_interval_ms */
    VG_AGENT_SPOOL_FSYNC_NONE,      /* leave it to the kernel (survives an agent crash, not a
                                       power cut) */
    VG_AGENT_SPOOL_FSYNC_ALWAYS,    /* fsync before each append returns */
};

struct vg_agent_spool_opts {
    uint64_t max_bytes;     /* bound of the segment files on disk (0: 1 GiB) */
    uint64_t segment_bytes; /* segment size (0: 16 MiB; at most max_bytes / 4) */
    size_t max_record;      /* largest event (0: 1 MiB) */
    enum vg_agent_spool_fsync fsync;
    uint32_t fsync_interval_ms; /* BATCH (0: 200 ms) */
    uint64_t fsync_bytes;       /* BATCH (0: 4 MiB) */
};

struct vg_agent_spool;

/* A batch read from the spool: events [first_seq, last_seq], each a JSON object followed by
   '\n' in body (the EVENTS payload body as is). init with VG_AGENT_SPOOL_BATCH_INIT; reused
   across reads; vg_agent_spool_batch_fini frees it. */
struct vg_agent_spool_batch {
    uint64_t first_seq, last_seq;
    uint32_t count;
    struct vg_sbuf body;
};
#define VG_AGENT_SPOOL_BATCH_INIT                                                                  \
    {                                                                                              \
        0, 0, 0, VG_SBUF_INIT                                                                      \
    }
void vg_agent_spool_batch_fini(struct vg_agent_spool_batch *b);

struct vg_agent_spool_stats {
    uint64_t appended; /* events accepted since open */
    uint64_t dropped;  /* events refused because the spool was full (since open) */
    uint64_t rejected; /* events refused as invalid (empty, too big, '\n' or NUL inside) */
    uint64_t corrupt;  /* records lost to a CRC/sequence error or a torn tail */
    uint64_t write_errors;
    uint64_t fsyncs;
    uint64_t next_seq;  /* sequence of the next appended event */
    uint64_t acked_seq; /* highest acknowledged sequence */
    uint64_t read_seq;  /* next sequence read_batch will return */
    uint64_t pending;   /* events stored and not acknowledged */
    uint64_t bytes;     /* bytes of segment files on disk */
    uint32_t segments;
};

/*
 * Open (or create, mode 0700) <state_dir>/spool/ with opts (NULL: defaults). Recovers the
 * cursor and the segments; reading resumes after the acknowledged sequence. VG_OK; VG_EIO
 * (err says which file); VG_EINVAL (bad opts); VG_ENOMEM.
 */
int vg_agent_spool_open(const char *state_dir, const struct vg_agent_spool_opts *opts,
                        struct vg_agent_spool **out, char *err, size_t errsz);
void vg_agent_spool_close(struct vg_agent_spool *s); /* syncs; NULL-safe */

/*
 * Append one event (a JSON object, no newline). Thread-safe. VG_OK; VG_ELIMIT: the spool is
 * full, the event is dropped and counted; VG_EINVAL: empty, over max_record, or containing a
 * '\n' or NUL byte (counted as rejected); VG_EIO: the write failed (counted).
 */
int vg_agent_spool_append(struct vg_agent_spool *s, const char *json, size_t len);
/* vg_agent_emit_fn adapter: ctx is the spool. */
int vg_agent_spool_emit(void *ctx, const char *json, size_t len);

/*
 * Read the next events after the last one read (up to max_events and about max_bytes of
 * body; at least one event) into b. Reading does not consume: only ack does. VG_OK with
 * b->count > 0; VG_AGAIN when nothing new is stored; VG_EIO.
 */
int vg_agent_spool_read_batch(struct vg_agent_spool *s, uint32_t max_events, size_t max_bytes,
                              struct vg_agent_spool_batch *b);
/* Wait up to timeout_ms for events after the read position. VG_OK or VG_ETIMEOUT. */
int vg_agent_spool_wait(struct vg_agent_spool *s, uint32_t timeout_ms);
/*
 * The server stored everything <= last_seq: commit the cursor, delete fully acknowledged
 * segments, and move the read position past last_seq if it was behind. An older last_seq is
 * a no-op. VG_OK; VG_EINVAL (last_seq beyond what was appended); VG_EIO.
 */
int vg_agent_spool_ack(struct vg_agent_spool *s, uint64_t last_seq);
/* Restart reading after the acknowledged sequence (after a reconnect). */
void vg_agent_spool_rewind(struct vg_agent_spool *s);
/* fsync the write segment now. VG_OK or VG_EIO. */
int vg_agent_spool_sync(struct vg_agent_spool *s);
void vg_agent_spool_stats(struct vg_agent_spool *s, struct vg_agent_spool_stats *st);
/* The spool id: 32 hex digits, NUL-terminated, valid until close. */
const char *vg_agent_spool_id(const struct vg_agent_spool *s);

#endif /* VG_AGENT_SPOOL_H */
