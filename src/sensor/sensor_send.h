/*
 * sensor_send.h — vigie-sensor's records to the Vigie server (issue 6), through the agent's
 * disk spool and mutual-TLS transport (src/agent/agent_spool.h, agent_transport.h).
 *
 *   engine/workers record lines -> vg_sensor_send_lines -> spool (STATE/spool/, durable,
 *   bounded) -> transport thread -> server fleet listener -> journal -> decoder chain
 *
 * The sensor enrols like an agent (POST /api/v1/agents/enroll with an enrollment token; the
 * state directory then holds agent.key, agent.crt, ca.crt, command.pub, agent.json) and shows
 * up in the server's agent registry with the collector "sensor". Each record is one EVE JSON
 * object; the server's fleet input decodes events with its decoder chain, where the Suricata
 * EVE decoder claims objects with event_type and src_ip, so dns/http/tls/flow/alert records
 * become network events that Sigma rules and search see. Nothing is lost while the server is
 * away: the spool keeps the records and the transport replays them.
 *
 * Thread-safety: vg_sensor_send_lines / _line / _append may be called from any thread;
 * start, drain, stats and stop from the owner.
 */
#ifndef VG_SENSOR_SEND_H
#define VG_SENSOR_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_spool.h"

#define VG_SENSOR_VERSION "0.1.0"

struct vg_sensor_send_opts {
    const char *state_dir; /* required: enrollment files and spool/ */
    /* The server: "host:port" of its fleet listener (overrides the enrolled endpoint), or
       "http(s)://host:port" of its API (enrolment; the endpoint then comes from it). NULL:
       the enrolled endpoint. */
    const char *server;
    const char *enroll_token; /* enrol first when the state directory holds no enrollment */
    const char *enroll_url;   /* API URL for the enrollment when server is a host:port */
    const char *hostname;     /* enrolment and HELLO (NULL: gethostname) */
    const char *ca_file;      /* trust for an https API (NULL: the system's) */
    const char *capture;      /* HELLO's collector backend, e.g. "afpacket:eth0" (NULL: "sensor") */
    const struct vg_agent_spool_opts *spool; /* NULL: defaults (1 GiB bound) */
};

struct vg_sensor_send_stats {
    uint64_t records;  /* records handed in */
    uint64_t spooled;  /* accepted by the spool */
    uint64_t dropped;  /* refused: spool full (counted by the spool too) */
    uint64_t rejected; /* refused: not a single-line record (empty, NUL, too big) */
    uint64_t sent;     /* events sent to the server (with resends after a reconnect) */
    uint64_t acked;    /* highest sequence the server acknowledged */
    uint64_t pending;  /* spooled and not yet acknowledged */
    bool connected;
    char last_error[160];
};

struct vg_sensor_send;

/*
 * Enrol with the server's API (url, e.g. "http://127.0.0.1:8470") using token; writes the
 * enrollment into o->state_dir (created 0700). VG_OK; VG_EDENIED (token refused); VG_EIO /
 * VG_EINVAL with err saying what failed.
 */
int vg_sensor_send_enroll(const struct vg_sensor_send_opts *o, const char *url, char *err,
                          size_t errsz);

/*
 * Enrol if needed (no agent.json in the state directory and a token given), open the spool
 * and start the transport thread. VG_OK and *out; VG_EINVAL (missing enrollment or option,
 * bad endpoint); VG_EIO; VG_EDENIED; VG_ENOMEM. err says why.
 */
int vg_sensor_send_start(const struct vg_sensor_send_opts *o, struct vg_sensor_send **out,
                         char *err, size_t errsz);

/* Spool one record (a JSON object; a trailing newline is dropped). VG_OK, VG_ELIMIT (spool
   full: dropped and counted), VG_EINVAL (rejected), VG_EIO. */
int vg_sensor_send_append(struct vg_sensor_send *s, const char *json, size_t len);

/* vg_sensor_sink_fn adapter (ctx: the vg_sensor_send): one record line. */
void vg_sensor_send_line(void *ctx, const char *line, size_t len);

/* vg_sensor_workers_out_fn adapter (ctx: the vg_sensor_send): several complete lines. */
void vg_sensor_send_lines(void *ctx, const char *lines, size_t len);

/*
 * Wait up to timeout_ms for the server to acknowledge every record spooled so far (clean
 * exit of a -r run, tests). VG_OK or VG_ETIMEOUT (they stay in the spool for next time).
 */
int vg_sensor_send_drain(struct vg_sensor_send *s, uint32_t timeout_ms);

void vg_sensor_send_stats(struct vg_sensor_send *s, struct vg_sensor_send_stats *st);

/* Stop the transport, sync and close the spool, free. NULL is a no-op. */
void vg_sensor_send_stop(struct vg_sensor_send *s);

#endif
