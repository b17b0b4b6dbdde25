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

/* ---------------------------------------------------------------- file inputs */

/*
 * File tailing (ingest_file.c, docs/ingest-files.md): glob patterns rescanned periodically
 * and on inotify events; one record per LF-terminated line (a trailing CR stripped, empty
 * lines skipped) with meta "file=PATH\x1fino=N\x1foff=END"; rotation by rename, copytruncate,
 * deletion and inode reuse handled; exactly once across restarts through a checkpoint file
 * plus the journal records written after it.
 */

struct vg_tail_input {
    const char *glob; /* glob(3) pattern: '*', '?', '[...]' in any path component */
    uint32_t input;   /* input id recorded with every record */
};

/* Where a file with no saved position starts. */
enum vg_tail_start {
    VG_TAIL_START_BEGINNING = 0, /* offset 0, always (default, as Filebeat) */
    VG_TAIL_START_END = 1,       /* the files found by the first scan of a tailer that has no
                                    checkpoint yet start at their end; files found later, or
                                    after a restart, still start at 0 (nothing written while
                                    the server was down is skipped) */
};

struct vg_tail_opts {
    int scan_interval_ms; /* glob rescans (1000) */
    int poll_interval_ms; /* growth checks without inotify (250) */
    int flush_timeout_ms; /* a last line without LF is emitted once unchanged this long (1000) */
    int rotate_wait_ms;   /* a rotated or deleted file is closed after this long idle (5000) */
    size_t max_line;      /* longer lines are split into pieces of max_line bytes, counted
                             (64 KiB; at most 16 MiB) */
    int start;            /* enum vg_tail_start */
    bool no_inotify;      /* poll even where inotify works */
};

struct vg_tail_stats {
    uint64_t files_open;    /* files held open now */
    uint64_t lines;         /* records appended to the journal */
    uint64_t bytes;         /* file bytes consumed (line ends and empty lines included) */
    uint64_t truncations;   /* files that shrank under the read offset: read again from 0 */
    uint64_t rotations;     /* open files that left their path (renamed, replaced, deleted) */
    uint64_t long_lines;    /* lines longer than max_line (split) */
    uint64_t partial_lines; /* last lines without LF emitted after the flush timeout */
    uint64_t read_errors;   /* unreadable files or directories (once per problem until fixed) */
    uint64_t stalls;        /* times reading paused: journal over its bound or disk full */
    uint64_t checkpoints;   /* checkpoint files written */
};

struct vg_tail;

/*
 * Create a tailer of the n patterns ins (copied) appending to j, keeping its checkpoint in
 * state_dir (created if missing; locked: one tailer per directory). Recovery happens here:
 * the checkpoint is read, then the journal records after it (of this tailer's input ids)
 * move each file's position to just after its last journaled line. Nothing is read from
 * the files until vg_tail_start. o may be NULL (defaults). Errors name the path in err.
 * Returns VG_OK, VG_EINVAL (bad option, damaged checkpoint), VG_EEXIST (state_dir in use),
 * VG_EIO, VG_ENOMEM.
 */
int vg_tail_create(struct vg_journal *j, const char *state_dir, const struct vg_tail_input *ins,
                   size_t n, const struct vg_tail_opts *o, struct vg_tail **out, char *err,
                   size_t errsz);
/* Start the tailer's thread. */
int vg_tail_start(struct vg_tail *t);
/* Stop the thread (returns within milliseconds); a partial last line stays unread. */
void vg_tail_stop(struct vg_tail *t);
/* Stop, close every file, free. Writes no checkpoint. NULL is a no-op. */
void vg_tail_destroy(struct vg_tail *t);
/*
 * Make every record this tailer appended so far durable (vg_journal_sync), then persist
 * each file's position after its last durable record (temp file + fsync + rename + fsync of
 * the directory). Call it before vg_journal_release() so every released record is covered.
 * Thread-safe (also after vg_tail_stop). Returns VG_OK, VG_EIO, VG_ENOSPC, VG_ENOMEM.
 */
int vg_tail_checkpoint(struct vg_tail *t);
void vg_tail_stats(const struct vg_tail *t, struct vg_tail_stats *out);

#endif /* VG_INGEST_H */
