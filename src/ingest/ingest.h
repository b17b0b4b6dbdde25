/*
 * ingest.h — getting records into Vigie without losing any: the journal, and the inputs
 * that feed it (syslog over UDP, TCP, TLS and RELP; file tailing).
 *
 * Every input appends the raw records it receives to the journal, an append-only log on
 * disk. The journal is the durability point: a record is acknowledged to its sender (RELP,
 * HTTP) only once the journal has synced it, and the pipeline downstream (decode, detect,
 * store) reads from the journal, so after a crash it replays exactly what was not yet
 * stored. The journal also carries back-pressure: when it holds more unprocessed data than
 * its bound, or the disk is full, appends wait (or fail for UDP, which counts the drop).
 */
#ifndef VG_INGEST_H
#define VG_INGEST_H

#include "core/core.h"

/* ---------------------------------------------------------------- records */

/* One raw record as received. */
struct vg_rec {
    const char *data; /* the record (a syslog message, a log line, a JSON document) */
    uint32_t len;
    uint32_t input;    /* which input received it (server's input table index) */
    vg_time_t recv_ts; /* receive time */
    const char *meta;  /* input metadata (peer, file position, dedupe key), see below */
    uint32_t meta_len;
};

/*
 * Record metadata is a small key=value list "k=v\x1fk=v" (values without \x1f):
 *   peer=ADDR:PORT      network inputs
 *   file=PATH ino=N off=END   file tailing (END = offset just after the line)
 *   key=KEY             dedupe key: a record whose key was stored already is skipped
 * vg_rec_meta() finds one.
 */
const char *vg_rec_meta(const struct vg_rec *r, const char *key, size_t *len);

/* ---------------------------------------------------------------- journal */

struct vg_journal_opts {
    uint64_t segment_bytes; /* segment file size; default 64 MiB */
    uint64_t max_lag_bytes; /* unreleased data before appends wait; default 1 GiB */
    bool sync;              /* fdatasync on vg_journal_sync (default true; false for tests) */
};

struct vg_journal_stats {
    uint64_t appended;       /* records appended since open */
    uint64_t bytes;          /* bytes appended since open */
    uint64_t syncs;          /* fdatasync calls */
    uint64_t waits;          /* appends that waited for back-pressure */
    uint64_t full;           /* appends refused: disk full */
    uint64_t recovered_tail; /* bytes cut from a torn tail when opening */
    uint64_t corrupt;        /* records skipped by readers (bad checksum) */
};

struct vg_journal;

/*
 * Open (or create) the journal in dir. A torn last record (crash during a write) is cut
 * off; every complete record keeps its sequence number. err says what went wrong.
 */
int vg_journal_open(const char *dir, const struct vg_journal_opts *o, struct vg_journal **out,
                    char *err, size_t errsz);
void vg_journal_close(struct vg_journal *j);

/* What vg_journal_append does when the journal is over its lag bound. */
enum vg_journal_wait {
    VG_JOURNAL_NOWAIT = 0, /* return VG_AGAIN */
    VG_JOURNAL_WAIT = 1,   /* wait for the pipeline to release space */
    VG_JOURNAL_FORCE = 2,  /* append anyway: data already taken from a sender at shutdown */
};

/*
 * Append records (thread-safe). *last_seq receives the sequence number of the last one
 * (they are consecutive). Returns VG_OK; VG_ENOSPC when the disk is full (nothing
 * appended); VG_AGAIN with VG_JOURNAL_NOWAIT when the journal is over its lag bound.
 */
int vg_journal_append(struct vg_journal *j, const struct vg_rec *recs, size_t n, int wait,
                      uint64_t *last_seq);
/*
 * Make every record up to seq durable (group commit: concurrent callers share one
 * fdatasync). Returns VG_OK or VG_EIO.
 */
int vg_journal_sync(struct vg_journal *j, uint64_t seq);
/* Sequence numbers: next to be assigned, and the highest known durable. */
uint64_t vg_journal_next_seq(const struct vg_journal *j);
uint64_t vg_journal_durable_seq(const struct vg_journal *j);
/* Everything <= seq has been consumed for good (stored): its segments may be deleted. */
void vg_journal_release(struct vg_journal *j, uint64_t seq);
void vg_journal_stats(const struct vg_journal *j, struct vg_journal_stats *out);

/* Sequential reader of records with seq > from (thread-safe against appends). */
struct vg_journal_reader;
struct vg_journal_reader *vg_journal_reader_open(struct vg_journal *j, uint64_t from_seq);
void vg_journal_reader_close(struct vg_journal_reader *r);
/*
 * Next record (borrowed until the next call). Waits up to timeout_ms for new records:
 * VG_AGAIN when none arrived, VG_OK with *seq set otherwise. Damaged records are skipped
 * and counted.
 */
int vg_journal_next(struct vg_journal_reader *r, struct vg_rec *out, uint64_t *seq, int timeout_ms);
/* Wake readers blocked in vg_journal_next (shutdown). */
void vg_journal_wake(struct vg_journal *j);

/* ---------------------------------------------------------------- network inputs */

enum vg_net_proto {
    VG_NET_UDP = 0, /* syslog over UDP (RFC 3164/5424), one message per datagram */
    VG_NET_TCP,     /* syslog over TCP: LF or octet-counted framing (RFC 6587) */
    VG_NET_TLS,     /* syslog over TLS (RFC 5425, octet counting or LF) */
    VG_NET_RELP,    /* RELP: each message acknowledged once the journal has synced it */
};

struct vg_net_listen {
    int proto;            /* enum vg_net_proto */
    const char *addr;     /* "host:port", "[v6]:port"; port 0 picks a free one */
    uint32_t input;       /* input id recorded with every record */
    const char *tls_cert; /* PEM certificate chain (TLS) */
    const char *tls_key;  /* PEM private key (TLS) */
};

struct vg_net_opts {
    size_t max_msg;       /* longest message; longer ones are rejected and counted (64 KiB) */
    uint32_t max_conns;   /* concurrent connections (4096) */
    int sync_interval_ms; /* group-commit period for RELP acknowledgements (2 ms) */
};

struct vg_net_stats {
    uint64_t messages; /* records appended to the journal */
    uint64_t bytes;
    uint64_t rejected; /* oversized or malformed frames */
    uint64_t dropped;  /* UDP datagrams dropped: journal full or over its bound */
    uint64_t conns_open;
    uint64_t conns_total;
    uint64_t conns_refused; /* over max_conns, or TLS handshake failures */
    uint64_t acks;          /* RELP acknowledgements sent */
    uint64_t stalls; /* reads held back by back-pressure (journal over its bound, disk full) */
};

struct vg_net;

/*
 * Bind every listener (errors name the address). Records go to j. The sockets are open when
 * this returns, so senders can connect before vg_net_start.
 */
int vg_net_create(struct vg_journal *j, const struct vg_net_listen *ls, size_t n,
                  const struct vg_net_opts *o, struct vg_net **out, char *err, size_t errsz);
/* Start the I/O thread (one epoll loop for every socket) and the RELP commit thread. */
int vg_net_start(struct vg_net *net);
void vg_net_stop(struct vg_net *net);
void vg_net_destroy(struct vg_net *net);
void vg_net_stats(const struct vg_net *net, size_t listener, struct vg_net_stats *out);
/* The port a listener is bound to (useful with port 0). */
int vg_net_port(const struct vg_net *net, size_t listener);

#endif /* VG_INGEST_H */
