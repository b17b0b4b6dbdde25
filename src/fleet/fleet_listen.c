/*
 * fleet_listen.c — the mutual-TLS listener the agents connect to.
 *
 * One accept thread polls the listening socket; each accepted connection gets its own
 * thread (at most max_conns at once; more are closed at once and counted as refused). A
 * connection thread does the TLS handshake (the CA must have signed the client certificate
 * and the registry must know its serial as an unrevoked agent's: fleet_ca.c's verify
 * callback), then expects HELLO within the handshake deadline and serves frames of
 * src/agent/agent_wire.h with its incremental decoder:
 *
 *   HELLO           registry update (version, hostname, OS, IPs, collectors, online); the
 *                   answer is ACK(high-water mark of the agent's spool), the agent's remote
 *                   configuration as CONFIG when it has one (fleet_config.c), then any
 *                   pending commands
 *   EVENTS          events above the high-water mark go to the journal with meta
 *                   peer=, tenant=, agent=, key=<tenant>/agent/<id>/<spool>/<seq>; ACK only
 *                   after vg_journal_sync made them durable and the mark was recorded; an
 *                   agent's config_applied event updates its collectors in the registry
 *   HEARTBEAT       last seen
 *   COMMAND_RESULT  fleet_command.c records it
 *
 * A protocol error is answered with ERROR and the connection closed. The thread also
 * listens on a wake pipe: fleet_conn_poke() asks it to send newly queued commands and a
 * changed configuration, or to close (revocation, shutdown, or a newer connection of the
 * same agent).
 */
#include "fleet/fleet_int.h"

#include "agent/agent_wire.h"
#include "event/event.h"
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK     65536
#define WRITE_WAIT_MS  10000
#define SEEN_EVERY_NS  1000000000ull
#define FIELD_MAX      255
#define SPOOL_ID_MAX   64
#define MAX_BACKOFF_NS 100000000ull

struct fleet_conn {
    struct vg_fleet *f;
    int fd;
    int wake[2];
    SSL *ssl;
    pthread_t thread;
    atomic_bool done;      /* the thread ended: the accept loop joins and frees it */
    atomic_bool close_req; /* close (reason in why) */
    const char *why;       /* static string */
    bool live;             /* HELLO done: registered under agent_id (conn_mu) */
    char peer[64];
    char agent_id[VG_FLEET_ID_SIZE];
    char tenant[FLEET_TENANT_MAX + 1];
    char spool[SPOOL_ID_MAX + 1];
    uint64_t hw;       /* highest sequence stored for (agent, spool) */
    uint64_t cfg_hash; /* of the last CONFIG sent (cfg_sent) */
    bool cfg_sent;
    uint64_t last_rx_ns, seen_db_ns;
    struct vg_agent_wire_decoder *dec;
    struct vg_json_parser *jp;
    struct vg_arena *arena;
    struct vg_sbuf out;
    struct fleet_conn *next;
};

/* ---------------------------------------------------------------- socket */

static int split_addr(const char *addr, char *host, size_t hsize, char *port, size_t psize)
{
    const char *colon = addr[0] == '[' ? strstr(addr, "]:") : strrchr(addr, ':');
    if (!colon) {
        return VG_EINVAL;
    }
    const char *h = addr[0] == '[' ? addr + 1 : addr;
    snprintf(host, hsize, "%.*s", (int)(colon - h), h);
    snprintf(port, psize, "%s", colon + (addr[0] == '[' ? 2 : 1));
    return *port ? VG_OK : VG_EINVAL;
}

static int bind_one(struct addrinfo *ai)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 256) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int fleet_listen_bind(struct vg_fleet *f, const char *addr, char *err, size_t errsz)
{
    char host[256], port[16];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST};
    struct addrinfo *res = NULL;
    if (split_addr(addr, host, sizeof(host), port, sizeof(port)) != VG_OK ||
        getaddrinfo(*host ? host : NULL, port, &hints, &res) != 0) {
        snprintf(err, errsz, "fleet listen '%s': expected IP:PORT or [IPv6]:PORT", addr);
        return VG_EINVAL;
    }
    f->lfd = bind_one(res);
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (f->lfd < 0 || getsockname(f->lfd, (struct sockaddr *)&ss, &sl) != 0 ||
        pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errsz, "fleet listen %s: %s", addr, strerror(errno));
        return VG_EIO;
    }
    f->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
    return VG_OK;
}

static void peer_name(int fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?", port[8] = "0";
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    }
    snprintf(out, size, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static void poke_fd(int fd)
{
    char b = 1;
    if (write(fd, &b, 1) < 0 && errno != EAGAIN) {
        VG_DEBUG(FLEET_COMP, "wake: %s", strerror(errno));
    }
}

static void drain_fd(int fd)
{
    char b[64];
    while (read(fd, b, sizeof(b)) > 0) {
    }
}

/* ---------------------------------------------------------------- TLS I/O */

/* Wait until fd is ready for events (deadline in ms); false on timeout or shutdown. */
static bool wait_fd(struct fleet_conn *c, short events, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = events};
    return poll(&p, 1, ms) > 0 && !atomic_load(&c->f->stopping);
}

/* Write everything in c->out (non-blocking socket, bounded wait). */
static int flush_out(struct fleet_conn *c)
{
    size_t off = 0;
    int rc = VG_OK;
    while (off < c->out.len && rc == VG_OK) {
        int n = SSL_write(c->ssl, c->out.p + off, (int)VG_MIN(c->out.len - off, 1u << 20));
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        if ((e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) ||
            !wait_fd(c, ev, WRITE_WAIT_MS)) {
            rc = VG_EIO;
        }
    }
    ERR_clear_error();
    vg_sbuf_reset(&c->out);
    return rc;
}

static int send_frame(struct fleet_conn *c, int type, const char *payload, size_t len)
{
    int rc = vg_agent_wire_encode(&c->out, type, 0, 0, payload, len);
    return rc ? rc : flush_out(c);
}

static int send_ack(struct fleet_conn *c, uint64_t seq)
{
    int rc = vg_agent_wire_encode_ack(&c->out, seq);
    return rc ? rc : flush_out(c);
}

/* Send ERROR {"error":why} and fail the connection. */
static int send_error(struct fleet_conn *c, const char *why)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_sbuf_adds(&b, "{\"error\":");
    vg_sbuf_add_json_str(&b, why, strlen(why));
    vg_sbuf_addc(&b, '}');
    if (!b.err) {
        send_frame(c, VG_AGENT_FRAME_ERROR, b.p, b.len);
    }
    vg_sbuf_fini(&b);
    VG_INFO(FLEET_COMP, "agent %s from %s: %s; closing", *c->agent_id ? c->agent_id : "?", c->peer,
            why);
    return VG_EINVAL;
}

/* ---------------------------------------------------------------- HELLO */

/* A string member of at most max bytes, without control characters; NULL when absent. */
static int hello_str(struct fleet_conn *c, const struct vg_json *doc, const char *key, size_t max,
                     const char **out)
{
    const struct vg_json *v = vg_json_get(doc, key);
    *out = NULL;
    if (!v || v->type == VG_JSON_NULL) {
        return VG_OK;
    }
    if (v->type != VG_JSON_STRING || v->n > max) {
        return VG_EINVAL;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        if ((unsigned char)v->s[i] < 0x20) {
            return VG_EINVAL;
        }
    }
    *out = vg_arena_strndup(c->arena, v->s, v->n);
    return *out ? VG_OK : VG_ENOMEM;
}

/* Re-serialise a member that must be of type `type` (default text when absent). */
static char *hello_json(struct fleet_conn *c, const struct vg_json *doc, const char *key, int type,
                        const char *def)
{
    const struct vg_json *v = vg_json_get(doc, key);
    if (!v || v->type == VG_JSON_NULL) {
        return vg_arena_strdup(c->arena, def);
    }
    if (v->type != type || v->n > 4096) {
        return NULL;
    }
    for (uint32_t i = 0; type == VG_JSON_ARRAY && i < v->n; i++) {
        if (v->u.items[i].type != VG_JSON_STRING) {
            return NULL;
        }
    }
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_json_write(v, &b);
    char *s = b.err || b.len > 65536 ? NULL : vg_arena_strndup(c->arena, b.p, b.len);
    vg_sbuf_fini(&b);
    return s;
}

static bool spool_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '-' || ch == '_')) {
            return false;
        }
    }
    return n > 0;
}

static int hello_parse(struct fleet_conn *c, const struct vg_agent_frame *fr,
                       struct vg_agent_hello *h, char **ips, char **cols, char *why, size_t wsz)
{
    struct vg_json *doc = NULL;
    size_t used = 0;
    char err[160];
    memset(h, 0, sizeof(*h));
    if (vg_json_parse(c->jp, c->arena, (const char *)fr->payload, fr->len, &used, &doc, err,
                      sizeof(err)) != VG_OK ||
        doc->type != VG_JSON_OBJECT) {
        snprintf(why, wsz, "HELLO: not a JSON object");
        return VG_EINVAL;
    }
    const char *field = "agent_id";
    int rc = hello_str(c, doc, "agent_id", VG_FLEET_ID_SIZE, &h->agent_id);
    rc = rc ? rc : hello_str(c, doc, (field = "spool_id"), SPOOL_ID_MAX, &h->spool_id);
    rc = rc ? rc : hello_str(c, doc, (field = "version"), FIELD_MAX, &h->version);
    rc = rc ? rc : hello_str(c, doc, (field = "hostname"), FIELD_MAX, &h->hostname);
    rc = rc ? rc : hello_str(c, doc, (field = "os"), FIELD_MAX, &h->os);
    if (rc == VG_OK && !(*ips = hello_json(c, doc, (field = "ips"), VG_JSON_ARRAY, "[]"))) {
        rc = VG_EINVAL;
    }
    if (rc == VG_OK &&
        !(*cols = hello_json(c, doc, (field = "collectors"), VG_JSON_OBJECT, "{}"))) {
        rc = VG_EINVAL;
    }
    if (rc == VG_OK && !spool_ok(h->spool_id)) {
        field = "spool_id";
        rc = VG_EINVAL;
    }
    if (rc != VG_OK) {
        snprintf(why, wsz, "HELLO: bad or missing \"%s\"", field);
    }
    return rc;
}

/* Register c as its agent's live connection; an older one of the same agent is closed. */
static void conn_register(struct fleet_conn *c)
{
    struct vg_fleet *f = c->f;
    pthread_mutex_lock(&f->conn_mu);
    for (struct fleet_conn *o = f->conns; o; o = o->next) {
        if (o != c && o->live && !strcmp(o->agent_id, c->agent_id)) {
            o->why = "superseded by a newer connection of this agent";
            atomic_store(&o->close_req, true);
            poke_fd(o->wake[1]);
        }
    }
    c->live = true;
    pthread_mutex_unlock(&f->conn_mu);
}

static int send_pending(struct fleet_conn *c)
{
    size_t n = 0;
    int rc = fleet_command_pending(c->f, c->agent_id, &c->out, &n);
    if (rc == VG_OK && n) {
        atomic_fetch_add(&c->f->n_commands_sent, n);
        rc = flush_out(c);
    }
    return rc;
}

/*
 * Send the agent's effective configuration when it differs from what this connection sent
 * last. Nothing is sent to an agent that never had one, so its local file rules; once one
 * was sent, a later removal is sent as {} ("back to the local file").
 */
static int send_config(struct fleet_conn *c)
{
    char *json = NULL;
    int rc = fleet_config_effective(c->f, c->agent_id, &json);
    if (rc != VG_OK || (!json && !c->cfg_sent)) {
        vg_free(json);
        return rc == VG_ENOENT ? VG_OK : rc;
    }
    const char *text = json ? json : "{}";
    uint64_t h = vg_hash64(text, strlen(text), 0x5647);
    if (!c->cfg_sent || h != c->cfg_hash) {
        rc = vg_agent_wire_encode(&c->out, VG_AGENT_FRAME_CONFIG, VG_AGENT_WIRE_ZSTD, 0, text,
                                  strlen(text));
        rc = rc ? rc : flush_out(c);
        if (rc == VG_OK) {
            c->cfg_sent = true;
            c->cfg_hash = h;
            VG_INFO(FLEET_COMP, "agent %s: configuration sent (%zu bytes)", c->agent_id,
                    strlen(text));
        }
    }
    vg_free(json);
    return rc;
}

static int on_hello(struct fleet_conn *c, const struct vg_agent_frame *fr)
{
    struct vg_agent_hello h;
    char why[128], *ips = NULL, *cols = NULL, tenant[FLEET_TENANT_MAX + 1], serial[65];
    if (c->live) {
        return send_error(c, "HELLO: sent twice");
    }
    if (hello_parse(c, fr, &h, &ips, &cols, why, sizeof(why)) != VG_OK) {
        return send_error(c, why);
    }
    if (!h.agent_id || strcmp(h.agent_id, c->agent_id) != 0) {
        return send_error(c, "HELLO: agent_id does not match the client certificate");
    }
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    fleet_serial_hex(x, serial, sizeof(serial));
    if (fleet_db_cert_ok(c->f, serial, c->agent_id, tenant, sizeof(tenant)) != VG_OK) {
        return send_error(c, "revoked");
    }
    vg_strlcpy(c->spool, h.spool_id, sizeof(c->spool));
    int rc = fleet_db_hello(c->f, c->agent_id, &h, cols, ips);
    rc = rc ? rc : fleet_db_hw_get(c->f, c->agent_id, c->spool, &c->hw);
    if (rc != VG_OK) {
        return send_error(c, "server error: registry unavailable");
    }
    c->seen_db_ns = vg_clock_ns();
    conn_register(c);
    VG_INFO(FLEET_COMP, "agent %s (%s, %s) connected from %s, spool %s at %llu", c->agent_id,
            h.hostname ? h.hostname : "?", h.version ? h.version : "?", c->peer, c->spool,
            (unsigned long long)c->hw);
    rc = send_ack(c, c->hw);
    rc = rc ? rc : send_config(c);
    return rc ? rc : send_pending(c);
}

/* ---------------------------------------------------------------- EVENTS */

/* Append and sync, waiting (with backoff) while the journal is over its bound. */
static int append_durable(struct fleet_conn *c, const struct vg_rec *recs, size_t n)
{
    struct vg_fleet *f = c->f;
    uint64_t last = 0, backoff = 1000000, now = vg_clock_ns();
    uint64_t deadline = now + (uint64_t)f->journal_wait_ms * 1000000ull;
    int rc;
    while ((rc = vg_journal_append(f->journal, recs, n, VG_JOURNAL_NOWAIT, &last)) == VG_AGAIN) {
        now = vg_clock_ns();
        if (now >= deadline || atomic_load(&f->stopping)) {
            break;
        }
        uint64_t ns = VG_MIN(backoff, deadline - now);
        struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
        nanosleep(&ts, NULL);
        backoff = VG_MIN(backoff * 2, MAX_BACKOFF_NS);
    }
    return rc == VG_OK ? vg_journal_sync(f->journal, last) : rc;
}

/* Is this (new) event the agent's config_applied report? Keep the last one's DOM. */
static void note_config_applied(struct fleet_conn *c, const char *json, size_t len,
                                struct vg_json **applied)
{
    struct vg_json *doc = NULL;
    size_t used = 0;
    char err[64];
    if (vg_memmem(json, len, "\"config_applied\"", 16) &&
        vg_json_parse(c->jp, c->arena, json, len, &used, &doc, err, sizeof(err)) == VG_OK) {
        *applied = doc;
    }
}

/* The records of the events above the high-water mark (in c->arena). */
static int events_recs(struct fleet_conn *c, const struct vg_agent_wire_events *ev,
                       struct vg_rec **out, size_t *n, struct vg_json **applied)
{
    struct vg_rec *recs = vg_arena_alloc(c->arena, (ev->count ? ev->count : 1) * sizeof(*recs));
    const char *json;
    size_t pos = 0, len, i = 0;
    vg_time_t now = vg_time_now();
    *n = 0;
    if (!recs) {
        return VG_ENOMEM;
    }
    for (uint64_t seq = ev->first_seq; vg_agent_wire_events_next(ev, &pos, &json, &len); seq++) {
        if (seq <= c->hw) {
            continue; /* resent after a lost ACK: stored already */
        }
        note_config_applied(c, json, len, applied);
        char *meta = vg_arena_printf(c->arena,
                                     "peer=%s\x1ftenant=%s\x1f"
                                     "agent=%s\x1fkey=%s/agent/%s/%s/%llu",
                                     c->peer, c->tenant, c->agent_id, c->tenant, c->agent_id,
                                     c->spool, (unsigned long long)seq);
        if (!meta || len > UINT32_MAX) {
            return VG_ENOMEM;
        }
        recs[i++] = (struct vg_rec){.data = json,
                                    .len = (uint32_t)len,
                                    .input = c->f->input,
                                    .recv_ts = now,
                                    .meta = meta,
                                    .meta_len = (uint32_t)strlen(meta)};
    }
    *out = recs;
    *n = i;
    return VG_OK;
}

static int on_events(struct fleet_conn *c, const struct vg_agent_frame *fr)
{
    struct vg_agent_wire_events ev;
    struct vg_rec *recs = NULL;
    struct vg_json *applied = NULL;
    char why[160];
    size_t n = 0;
    if (!c->live) {
        return send_error(c, "EVENTS before HELLO");
    }
    if (vg_agent_wire_events_parse(fr, &ev, why, sizeof(why)) != VG_OK) {
        return send_error(c, why);
    }
    if (!ev.count) {
        return send_ack(c, c->hw);
    }
    if (!ev.first_seq || ev.first_seq > c->hw + 1) {
        snprintf(why, sizeof(why), "EVENTS: sequence gap (first %llu, stored up to %llu)",
                 (unsigned long long)ev.first_seq, (unsigned long long)c->hw);
        return send_error(c, why);
    }
    uint64_t last = ev.first_seq + ev.count - 1;
    int rc = events_recs(c, &ev, &recs, &n, &applied);
    if (rc == VG_OK && n) {
        rc = append_durable(c, recs, n);
        rc = rc ? rc : fleet_db_hw_set(c->f, c->agent_id, c->spool, last);
    }
    if (rc == VG_OK && applied && fleet_config_applied(c->f, c->agent_id, applied) != VG_OK) {
        VG_WARN(FLEET_COMP, "agent %s: malformed config_applied event ignored", c->agent_id);
    }
    if (rc != VG_OK) {
        VG_WARN(FLEET_COMP, "agent %s: %zu events not stored: %s", c->agent_id, n, vg_strerror(rc));
        return send_error(c, "server busy: events not stored, resend later");
    }
    atomic_fetch_add(&c->f->n_events, n);
    atomic_fetch_add(&c->f->n_events_dup, ev.count - n);
    c->hw = VG_MAX(c->hw, last);
    return send_ack(c, last);
}

/* ---------------------------------------------------------------- frames */

static int on_frame(struct fleet_conn *c, const struct vg_agent_frame *fr)
{
    uint64_t now = vg_clock_ns();
    vg_arena_reset(c->arena);
    if (c->live && now - c->seen_db_ns >= SEEN_EVERY_NS) {
        fleet_db_status(c->f, c->agent_id, NULL, true);
        c->seen_db_ns = now;
    }
    switch (fr->type) {
    case VG_AGENT_FRAME_HELLO:
        return on_hello(c, fr);
    case VG_AGENT_FRAME_EVENTS:
        return on_events(c, fr);
    case VG_AGENT_FRAME_HEARTBEAT:
    case VG_AGENT_FRAME_ACK:
        return c->live ? VG_OK : send_error(c, "expected HELLO first");
    case VG_AGENT_FRAME_COMMAND_RESULT:
        if (!c->live) {
            return send_error(c, "expected HELLO first");
        }
        if (fleet_command_result(c->f, c->agent_id, c->tenant, fr->payload, fr->len) == VG_OK) {
            atomic_fetch_add(&c->f->n_results, 1);
        }
        return VG_OK;
    default:
        return send_error(c, "unexpected frame type from an agent");
    }
}

/* Read what TLS has, decode and serve every complete frame. VG_EOF when the peer left. */
static int on_readable(struct fleet_conn *c)
{
    char buf[READ_CHUNK], why[160] = "";
    struct vg_agent_frame fr;
    int rc;
    for (;;) {
        int n = SSL_read(c->ssl, buf, sizeof(buf));
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            ERR_clear_error();
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                return VG_EOF;
            }
            break;
        }
        if (vg_agent_wire_decoder_feed(c->dec, buf, (size_t)n) != VG_OK) {
            return VG_ENOMEM;
        }
        c->last_rx_ns = vg_clock_ns();
        while ((rc = vg_agent_wire_decoder_next(c->dec, &fr, why, sizeof(why))) == VG_OK) {
            if ((rc = on_frame(c, &fr)) != VG_OK) {
                return rc; /* answered with ERROR already */
            }
        }
        if (rc != VG_AGAIN) {
            atomic_fetch_add(&c->f->n_frames_bad, 1);
            return rc == VG_EINVAL ? send_error(c, why) : rc;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- connection thread */

static int handshake(struct fleet_conn *c)
{
    struct timeval tv = {.tv_sec = c->f->handshake_ms / 1000,
                         .tv_usec = (c->f->handshake_ms % 1000) * 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1; /* ACKs are small and latency-bound */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->ssl = SSL_new(c->f->ssl_ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) || SSL_accept(c->ssl) != 1) {
        long vr = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
        VG_INFO(FLEET_COMP, "TLS handshake with %s refused: %s", c->peer,
                vr != X509_V_OK ? X509_verify_cert_error_string(vr) : "handshake failed");
        ERR_clear_error();
        atomic_fetch_add(&c->f->n_conns_refused, 1);
        return VG_EDENIED;
    }
    X509 *x = SSL_get0_peer_certificate(c->ssl);
    char serial[65], cn[VG_FLEET_ID_SIZE];
    fleet_serial_hex(x, serial, sizeof(serial));
    if (!fleet_cert_cn(x, cn, sizeof(cn)) ||
        fleet_db_cert_ok(c->f, serial, cn, c->tenant, sizeof(c->tenant)) != VG_OK) {
        atomic_fetch_add(&c->f->n_conns_refused, 1);
        return VG_EDENIED;
    }
    pthread_mutex_lock(&c->f->conn_mu); /* fleet_conn_poke reads it */
    memcpy(c->agent_id, cn, sizeof(cn));
    pthread_mutex_unlock(&c->f->conn_mu);
    int fl = fcntl(c->fd, F_GETFL);
    return fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) == 0 ? VG_OK : VG_EIO;
}

/* Did the connection outlive its deadlines (HELLO, silence)? */
static bool conn_expired(struct fleet_conn *c, uint64_t start)
{
    uint64_t now = vg_clock_ns();
    if (!c->live && now - start > (uint64_t)c->f->handshake_ms * 1000000ull) {
        send_error(c, "no HELLO in time");
        return true;
    }
    return now - c->last_rx_ns > (uint64_t)c->f->offline_after_s * 1000000000ull;
}

static void serve(struct fleet_conn *c)
{
    uint64_t start = vg_clock_ns();
    c->last_rx_ns = start;
    for (;;) {
        struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
                              {.fd = c->wake[0], .events = POLLIN}};
        int n = SSL_pending(c->ssl) ? 1 : poll(p, 2, 1000);
        if (atomic_load(&c->f->stopping) || conn_expired(c, start)) {
            return;
        }
        if (n > 0 && (p[1].revents & POLLIN)) {
            drain_fd(c->wake[0]);
        }
        if (atomic_load(&c->close_req)) {
            send_error(c, c->why ? c->why : "closed by the server");
            return;
        }
        if (c->live && (p[1].revents & POLLIN) &&
            (send_config(c) != VG_OK || send_pending(c) != VG_OK)) {
            return;
        }
        if ((SSL_pending(c->ssl) || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) &&
            on_readable(c) != VG_OK) {
            return;
        }
    }
}

/* Unregister; mark the agent offline unless a newer connection took over. */
static void conn_finish(struct fleet_conn *c)
{
    struct vg_fleet *f = c->f;
    bool offline = c->live;
    pthread_mutex_lock(&f->conn_mu);
    c->live = false;
    for (struct fleet_conn *o = f->conns; o && offline; o = o->next) {
        if (o != c && o->live && !strcmp(o->agent_id, c->agent_id)) {
            offline = false; /* a newer connection took over */
        }
    }
    pthread_mutex_unlock(&f->conn_mu);
    if (offline) {
        fleet_db_status(f, c->agent_id, "offline", true);
        VG_INFO(FLEET_COMP, "agent %s disconnected", c->agent_id);
    }
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
}

static void *conn_main(void *arg)
{
    struct fleet_conn *c = arg;
    if (handshake(c) == VG_OK) {
        serve(c);
    }
    conn_finish(c);
    atomic_store(&c->done, true);
    poke_fd(c->f->wake[1]); /* the accept loop reaps it */
    return NULL;
}

static void conn_free(struct fleet_conn *c)
{
    SSL_free(c->ssl);
    if (c->fd >= 0) {
        close(c->fd);
    }
    for (int i = 0; i < 2; i++) {
        if (c->wake[i] >= 0) {
            close(c->wake[i]);
        }
    }
    vg_agent_wire_decoder_destroy(c->dec);
    vg_json_parser_destroy(c->jp);
    vg_arena_destroy(c->arena);
    vg_sbuf_fini(&c->out);
    vg_free(c);
}

static struct fleet_conn *conn_new(struct vg_fleet *f, int fd)
{
    struct fleet_conn *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NULL;
    }
    c->f = f;
    c->fd = fd;
    c->wake[0] = c->wake[1] = -1;
    peer_name(fd, c->peer, sizeof(c->peer));
    c->jp = vg_json_parser_create(NULL);
    c->arena = vg_arena_create(65536);
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0 || !c->jp || !c->arena ||
        vg_agent_wire_decoder_create(NULL, &c->dec) != VG_OK) {
        conn_free(c);
        return NULL;
    }
    return c;
}

/* ---------------------------------------------------------------- accept thread */

/* Join and free the connections whose thread ended (all of them when every). */
static void reap(struct vg_fleet *f, bool every)
{
    struct fleet_conn *dead = NULL, **pp;
    pthread_mutex_lock(&f->conn_mu);
    for (pp = &f->conns; *pp;) {
        struct fleet_conn *c = *pp;
        if (every || atomic_load(&c->done)) {
            *pp = c->next;
            c->next = dead;
            dead = c;
            f->nconns--;
        } else {
            pp = &c->next;
        }
    }
    pthread_mutex_unlock(&f->conn_mu);
    while (dead) {
        struct fleet_conn *c = dead;
        dead = c->next;
        pthread_join(c->thread, NULL);
        conn_free(c);
    }
}

static void accept_one(struct vg_fleet *f)
{
    int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    atomic_fetch_add(&f->n_conns_total, 1);
    pthread_mutex_lock(&f->conn_mu);
    bool full = f->nconns >= f->max_conns;
    pthread_mutex_unlock(&f->conn_mu);
    struct fleet_conn *c = full ? NULL : conn_new(f, fd);
    if (!c) {
        if (full) {
            close(fd);
        }
        atomic_fetch_add(&f->n_conns_refused, 1);
        return;
    }
    pthread_mutex_lock(&f->conn_mu);
    if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
        pthread_mutex_unlock(&f->conn_mu);
        conn_free(c);
        atomic_fetch_add(&f->n_conns_refused, 1);
        return;
    }
    c->next = f->conns;
    f->conns = c;
    f->nconns++;
    pthread_mutex_unlock(&f->conn_mu);
}

static void *accept_main(void *arg)
{
    struct vg_fleet *f = arg;
    while (!atomic_load(&f->stopping)) {
        struct pollfd p[2] = {{.fd = f->lfd, .events = POLLIN},
                              {.fd = f->wake[0], .events = POLLIN}};
        int n = poll(p, 2, 1000);
        if (n > 0 && (p[1].revents & POLLIN)) {
            drain_fd(f->wake[0]);
        }
        reap(f, false);
        if (n > 0 && (p[0].revents & POLLIN) && !atomic_load(&f->stopping)) {
            accept_one(f);
        }
    }
    return NULL;
}

int fleet_listen_start(struct vg_fleet *f, char *err, size_t errsz)
{
    if (pthread_create(&f->accept_thread, NULL, accept_main, f) != 0) {
        snprintf(err, errsz, "fleet: cannot start the accept thread");
        return VG_ERROR;
    }
    return VG_OK;
}

void fleet_listen_stop(struct vg_fleet *f)
{
    bool was = atomic_exchange(&f->stopping, true);
    if (f->started && !was) {
        poke_fd(f->wake[1]);
        pthread_join(f->accept_thread, NULL);
        pthread_mutex_lock(&f->conn_mu);
        for (struct fleet_conn *c = f->conns; c; c = c->next) {
            poke_fd(c->wake[1]);
        }
        pthread_mutex_unlock(&f->conn_mu);
        reap(f, true);
        pthread_mutex_lock(&f->db_mu);
        pthread_cond_broadcast(&f->cmd_cond); /* waiters re-check and time out */
        pthread_mutex_unlock(&f->db_mu);
    }
    if (f->lfd >= 0) {
        close(f->lfd);
        f->lfd = -1;
    }
    for (int i = 0; i < 2; i++) {
        if (f->wake[i] >= 0) {
            close(f->wake[i]);
            f->wake[i] = -1;
        }
    }
}

void fleet_conn_poke_all(struct vg_fleet *f)
{
    pthread_mutex_lock(&f->conn_mu);
    for (struct fleet_conn *c = f->conns; c; c = c->next) {
        if (!atomic_load(&c->done)) {
            poke_fd(c->wake[1]);
        }
    }
    pthread_mutex_unlock(&f->conn_mu);
}

void fleet_conn_poke(struct vg_fleet *f, const char *id, bool close_it)
{
    pthread_mutex_lock(&f->conn_mu);
    for (struct fleet_conn *c = f->conns; c; c = c->next) {
        if (!atomic_load(&c->done) && !strcmp(c->agent_id, id)) {
            if (close_it) {
                c->why = "revoked";
                atomic_store(&c->close_req, true);
            }
            poke_fd(c->wake[1]);
        }
    }
    pthread_mutex_unlock(&f->conn_mu);
}
