/*
 * sensor_send.c — records to the server through the agent's spool and transport (see
 * sensor_send.h). The sensor is an enrolled "agent" whose only collector is "sensor": its
 * HELLO says so, and its events are EVE JSON objects that the server's decoder chain gives to
 * the Suricata EVE decoder.
 */
#include "sensor/sensor_send.h"

#include "agent/agent_run.h"
#include "agent/agent_transport.h"
#include "event/event.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define COMP "sensor"

struct vg_sensor_send {
    struct vg_arena *arena;
    struct vg_agent_spool *spool;
    struct vg_agent_transport *transport;
    _Atomic uint64_t records, spooled, dropped, rejected;
    const char *agent_id, *endpoint;
    char host[256], port[16];
};

/* ------------------------------------------------------------------ enrollment */

int vg_sensor_send_enroll(const struct vg_sensor_send_opts *o, const char *url, char *err,
                          size_t errsz)
{
    struct vg_agent_enroll_opts eo = {.server_url = url,
                                      .token = o->enroll_token,
                                      .state_dir = o->state_dir,
                                      .hostname = o->hostname,
                                      .ca_file = o->ca_file};
    return vg_agent_enroll(&eo, err, errsz);
}

static bool is_url(const char *s)
{
    return s && (!strncmp(s, "http://", 7) || !strncmp(s, "https://", 8));
}

/* Enrol when the state holds none and a token was given. */
static int maybe_enroll(const struct vg_sensor_send_opts *o, char *err, size_t errsz)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof(path), "%s/agent.json", o->state_dir);
    if (stat(path, &sb) == 0) {
        return VG_OK;
    }
    const char *url = is_url(o->server) ? o->server : o->enroll_url;
    if (!o->enroll_token || !url) {
        snprintf(err, errsz,
                 "%s: not enrolled (give --enroll-token and the server's API URL, e.g. "
                 "--server http://HOST:8470)",
                 o->state_dir);
        return VG_EINVAL;
    }
    int rc = vg_sensor_send_enroll(o, url, err, errsz);
    if (rc == VG_OK) {
        VG_INFO(COMP, "enrolled with %s; state in %s", url, o->state_dir);
    }
    return rc;
}

/* agent_id and endpoint from STATE/agent.json. */
static int read_state(struct vg_sensor_send *s, const char *dir, char *err, size_t errsz)
{
    char path[4096], *text = NULL;
    size_t len = 0, used = 0;
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_json *doc = NULL;
    snprintf(path, sizeof(path), "%s/agent.json", dir);
    int rc = p ? vg_file_read(path, 1 << 16, &text, &len) : VG_ENOMEM;
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, vg_strerror(rc));
    } else if ((rc = vg_json_parse(p, s->arena, text, len, &used, &doc, err, errsz)) == VG_OK) {
        const struct vg_json *id = vg_json_get(doc, "agent_id"), *ep = vg_json_get(doc, "endpoint");
        if (!id || id->type != VG_JSON_STRING || !ep || ep->type != VG_JSON_STRING) {
            snprintf(err, errsz, "%s: agent_id or endpoint missing", path);
            rc = VG_EINVAL;
        } else {
            s->agent_id = vg_arena_strndup(s->arena, id->s, id->n);
            s->endpoint = vg_arena_strndup(s->arena, ep->s, ep->n);
        }
    }
    vg_free(text);
    vg_json_parser_destroy(p);
    return rc;
}

/* "host:port" or "[v6]:port" into s->host / s->port. */
static int split_endpoint(struct vg_sensor_send *s, const char *ep, char *err, size_t errsz)
{
    const char *colon = strrchr(ep, ':');
    size_t hl = colon ? (size_t)(colon - ep) : 0;
    if (hl && ep[0] == '[' && ep[hl - 1] == ']') {
        ep++;
        hl -= 2;
    }
    char *end = NULL;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || !hl || hl >= sizeof(s->host) || !port || port > 65535 || *end) {
        snprintf(err, errsz, "server endpoint '%s': expected host:port", ep);
        return VG_EINVAL;
    }
    memcpy(s->host, ep, hl);
    s->host[hl] = '\0';
    snprintf(s->port, sizeof(s->port), "%lu", port);
    return VG_OK;
}

/* ------------------------------------------------------------------ transport */

static int start_transport(struct vg_sensor_send *s, const struct vg_sensor_send_opts *o, char *err,
                           size_t errsz)
{
    char ca[4096], cert[4096], key[4096], host[256] = "vigie-sensor", os[400] = "Linux";
    struct utsname u;
    struct vg_sbuf cols = VG_SBUF_INIT;
    const char *cap = o->capture ? o->capture : "sensor";
    snprintf(ca, sizeof(ca), "%s/ca.crt", o->state_dir);
    snprintf(cert, sizeof(cert), "%s/agent.crt", o->state_dir);
    snprintf(key, sizeof(key), "%s/agent.key", o->state_dir);
    if (o->hostname) {
        vg_strlcpy(host, o->hostname, sizeof(host));
    } else {
        gethostname(host, sizeof(host) - 1);
    }
    if (uname(&u) == 0) {
        snprintf(os, sizeof(os), "%s %s %s", u.sysname, u.release, u.machine);
    }
    vg_sbuf_adds(&cols, "{\"sensor\":");
    vg_sbuf_add_json_str(&cols, cap, strlen(cap));
    vg_sbuf_addc(&cols, '}');
    if (cols.err) {
        vg_sbuf_fini(&cols);
        return VG_ENOMEM;
    }
    struct vg_agent_transport_opts t = {
        .host = s->host,
        .port = (uint16_t)strtoul(s->port, NULL, 10),
        .ca_file = ca,
        .cert_file = cert,
        .key_file = key,
        .spool = s->spool,
        .hello = {.agent_id = s->agent_id,
                  .version = "vigie-sensor " VG_SENSOR_VERSION,
                  .hostname = host,
                  .os = os,
                  .collectors_json = cols.p},
        .ctx = s,
    };
    int rc = vg_agent_transport_start(&t, &s->transport, err, errsz);
    vg_sbuf_fini(&cols);
    return rc;
}

int vg_sensor_send_start(const struct vg_sensor_send_opts *o, struct vg_sensor_send **out,
                         char *err, size_t errsz)
{
    *out = NULL;
    if (!o || !o->state_dir || !*o->state_dir) {
        snprintf(err, errsz, "sending to a server needs a state directory (--state DIR)");
        return VG_EINVAL;
    }
    struct vg_sensor_send *s = vg_calloc(1, sizeof(*s));
    if (!s || !(s->arena = vg_arena_create(4096))) {
        vg_free(s);
        return VG_ENOMEM;
    }
    int rc = maybe_enroll(o, err, errsz);
    rc = rc ? rc : read_state(s, o->state_dir, err, errsz);
    if (rc == VG_OK) {
        const char *ep = o->server && !is_url(o->server) ? o->server : s->endpoint;
        rc = split_endpoint(s, ep, err, errsz);
    }
    rc = rc ? rc : vg_agent_spool_open(o->state_dir, o->spool, &s->spool, err, errsz);
    rc = rc ? rc : start_transport(s, o, err, errsz);
    if (rc != VG_OK) {
        vg_sensor_send_stop(s);
        return rc;
    }
    VG_INFO(COMP, "sending records to %s:%s as %s", s->host, s->port, s->agent_id);
    *out = s;
    return VG_OK;
}

/* ------------------------------------------------------------------ records */

int vg_sensor_send_append(struct vg_sensor_send *s, const char *json, size_t len)
{
    while (len && (json[len - 1] == '\n' || json[len - 1] == '\r')) {
        len--;
    }
    atomic_fetch_add_explicit(&s->records, 1, memory_order_relaxed);
    int rc = vg_agent_spool_append(s->spool, json, len);
    if (rc == VG_OK) {
        atomic_fetch_add_explicit(&s->spooled, 1, memory_order_relaxed);
    } else if (rc == VG_ELIMIT) {
        atomic_fetch_add_explicit(&s->dropped, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&s->rejected, 1, memory_order_relaxed);
    }
    return rc;
}

void vg_sensor_send_line(void *ctx, const char *line, size_t len)
{
    (void)vg_sensor_send_append(ctx, line, len);
}

void vg_sensor_send_lines(void *ctx, const char *lines, size_t len)
{
    const char *p = lines, *end = lines + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        if (stop > p) {
            (void)vg_sensor_send_append(ctx, p, (size_t)(stop - p));
        }
        p = stop + 1;
    }
}

int vg_sensor_send_drain(struct vg_sensor_send *s, uint32_t timeout_ms)
{
    uint64_t deadline = vg_clock_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        struct vg_agent_spool_stats st;
        vg_agent_spool_stats(s->spool, &st);
        if (st.pending == 0) {
            return VG_OK;
        }
        if (vg_clock_ns() >= deadline) {
            return VG_ETIMEOUT;
        }
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

void vg_sensor_send_stats(struct vg_sensor_send *s, struct vg_sensor_send_stats *st)
{
    struct vg_agent_transport_stats ts;
    struct vg_agent_spool_stats ss;
    memset(st, 0, sizeof(*st));
    vg_agent_transport_stats(s->transport, &ts);
    vg_agent_spool_stats(s->spool, &ss);
    st->records = atomic_load(&s->records);
    st->spooled = atomic_load(&s->spooled);
    st->dropped = atomic_load(&s->dropped);
    st->rejected = atomic_load(&s->rejected);
    st->sent = ts.events_sent;
    st->acked = ts.acked_seq;
    st->pending = ss.pending;
    st->connected = ts.connected;
    vg_strlcpy(st->last_error, ts.last_error, sizeof(st->last_error));
}

void vg_sensor_send_stop(struct vg_sensor_send *s)
{
    if (!s) {
        return;
    }
    vg_agent_transport_stop(s->transport);
    vg_agent_spool_close(s->spool);
    vg_arena_destroy(s->arena);
    vg_free(s);
}
