/*
 * agent_transport.h — the agent's connection to the server (issue 5): mutual TLS (client
 * certificate from the enrollment, trust pinned to the server's CA file, server name or IP
 * checked), HELLO, then batches from the spool as EVENTS frames (zstd) each acknowledged
 * before the spool commits it, heartbeats, and CONFIG / signed COMMAND frames handed to
 * callbacks. When the server is away it reconnects with exponential backoff; the spool
 * keeps every event meanwhile and the transport replays from the last acknowledgement.
 *
 * One thread per transport (started by vg_agent_transport_start); callbacks run on it.
 */
#ifndef VG_AGENT_TRANSPORT_H
#define VG_AGENT_TRANSPORT_H

#include "agent/agent_spool.h"
#include "agent/agent_wire.h"

struct vg_agent_transport_opts {
    const char *host; /* server address: name or IP literal */
    uint16_t port;
    const char *ca_file;          /* the server's CA (the only trust anchor) */
    const char *cert_file;        /* this agent's certificate (PEM) */
    const char *key_file;         /* its private key (PEM) */
    const char *server_name;      /* name/IP to check in the server certificate (NULL: host) */
    struct vg_agent_spool *spool; /* borrowed */
    struct vg_agent_cmd_verifier *verifier; /* borrowed; NULL: every command is refused */
    struct vg_agent_hello hello;            /* spool_id/next_seq are filled in per session */
    uint32_t batch_events;                  /* events per EVENTS frame (0: 2000) */
    size_t batch_bytes;                     /* about this many body bytes per frame (0: 1 MiB) */
    uint32_t heartbeat_ms;                  /* (0: 30000) */
    uint32_t io_timeout_ms;                 /* connect, handshake, waiting for an ACK (0: 15000) */
    uint32_t backoff_min_ms;                /* first reconnect delay (0: 250), doubled up to max */
    uint32_t backoff_max_ms;                /* (0: 30000) */
    /* CONFIG from the server: a JSON object (len bytes, NUL-terminated). */
    void (*on_config)(void *ctx, const char *json, size_t len);
    /* A verified command: do it, write a short text into output, return VG_OK or an error
       code (reported as "error"). NULL: every command gets "error". */
    int (*on_command)(void *ctx, const struct vg_agent_command *cmd, struct vg_sbuf *output);
    void *ctx;
};

struct vg_agent_transport_stats {
    uint64_t connects;                  /* sessions established (HELLO acknowledged) */
    uint64_t connect_failures;          /* TCP, TLS handshake or HELLO failures */
    uint64_t batches_sent, events_sent; /* including resends after a reconnect */
    uint64_t acked_seq;
    uint64_t heartbeats_sent;
    uint64_t configs;
    uint64_t commands_ok, commands_failed, commands_refused;
    bool connected;
    char last_error[160];
};

struct vg_agent_transport;

/*
 * Copy opts (strings duplicated), load the TLS material and start the thread. VG_OK;
 * VG_EINVAL (missing option; err says which); VG_EIO (certificate/key/CA unreadable or not
 * matching; err says which); VG_ENOMEM.
 */
int vg_agent_transport_start(const struct vg_agent_transport_opts *opts,
                             struct vg_agent_transport **out, char *err, size_t errsz);
/* Stop the thread (closing the connection) and free. NULL-safe. */
void vg_agent_transport_stop(struct vg_agent_transport *t);
/* A snapshot of the counters (thread-safe). */
void vg_agent_transport_stats(struct vg_agent_transport *t, struct vg_agent_transport_stats *st);

#endif /* VG_AGENT_TRANSPORT_H */
