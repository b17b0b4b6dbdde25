/*
 * agent_transport.c — the agent side of the agent <-> server link: a thread that keeps one
 * mutual-TLS session (OpenSSL, non-blocking socket with deadlines) to the server, sends the
 * spool's events as acknowledged EVENTS batches (one in flight at a time, so order is
 * trivially kept), heartbeats, and dispatches CONFIG and signed COMMAND frames. Any error
 * ends the session; the spool rewinds to its last acknowledged event and the thread
 * reconnects after an exponential, jittered backoff.
 */
#include "agent/agent_transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NS_PER_MS 1000000ull

struct vg_agent_transport {
    struct vg_agent_transport_opts o;
    char *host, *server_name, *agent_id, *version, *hostname, *os, *collectors;
    char **ips;
    SSL_CTX *ctx;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    pthread_mutex_t mu; /* stats */
    struct vg_agent_transport_stats st;
    /* session state (transport thread only) */
    int fd;
    SSL *ssl;
    struct vg_agent_wire_decoder *dec;
    struct vg_sbuf wbuf;
    struct vg_agent_spool_batch batch;
    bool inflight, hello_acked;
    uint64_t inflight_last, inflight_ns, last_hb_ns;
    uint64_t acked_ns; /* when the last batch was acknowledged (linger starts there) */
};

/* A partial batch waits this long for more events: a busy host then sends a few large
   frames a second instead of one per event burst (CPU and wakeups on both ends). */
#define LINGER_NS (200 * NS_PER_MS)

static uint64_t now_ns(void)
{
    return vg_clock_ns();
}

/* Record the reason a session ended (or failed to start). Returns VG_EIO. */
static int tr_fail(struct vg_agent_transport *t, const char *what)
{
    char ssl_err[96] = "";
    unsigned long e = ERR_get_error();
    if (e) {
        ERR_error_string_n(e, ssl_err, sizeof(ssl_err));
    }
    ERR_clear_error();
    pthread_mutex_lock(&t->mu);
    snprintf(t->st.last_error, sizeof(t->st.last_error), "%s%s%s", what, e ? ": " : "", ssl_err);
    pthread_mutex_unlock(&t->mu);
    VG_DEBUG("agent", "transport: %s %s", what, ssl_err);
    return VG_EIO;
}

#define STAT_ADD(t, field, n)                                                                      \
    do {                                                                                           \
        pthread_mutex_lock(&(t)->mu);                                                              \
        (t)->st.field += (n);                                                                      \
        pthread_mutex_unlock(&(t)->mu);                                                            \
    } while (0)

/* ------------------------------------------------------------------ TLS context */

static int tls_ctx_create(struct vg_agent_transport *t, char *err, size_t errsz)
{
    const struct vg_agent_transport_opts *o = &t->o;
    const char *what = "cannot create the TLS context";
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx || !SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION)) {
        goto fail;
    }
    what = o->ca_file;
    if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1) {
        goto fail;
    }
    what = o->cert_file;
    if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert_file) != 1) {
        goto fail;
    }
    what = o->key_file;
    if (SSL_CTX_use_PrivateKey_file(t->ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->ctx) != 1) {
        goto fail;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return VG_OK;
fail:
    snprintf(err, errsz, "transport: %s: %s", what, ERR_reason_error_string(ERR_get_error()));
    ERR_clear_error();
    return VG_EIO;
}

/* ------------------------------------------------------------------ socket I/O */

/* Wait for events on fd until deadline (monotonic ns). VG_OK, VG_ETIMEOUT, VG_EIO. */
static int io_wait(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            return VG_ETIMEOUT;
        }
        struct pollfd p = {fd, events, 0};
        int ms = (int)VG_MIN((deadline - now) / NS_PER_MS + 1, 100u);
        int r = poll(&p, 1, ms);
        if (r > 0) {
            return VG_OK;
        }
        if (r < 0 && errno != EINTR) {
            return VG_EIO;
        }
    }
}

static int tcp_connect_ai(const struct addrinfo *ai, uint64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        return -1;
    }
    int one = 1, soerr = 0;
    socklen_t sl = sizeof(soerr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
        (errno == EINPROGRESS && io_wait(fd, POLLOUT, deadline) == VG_OK &&
         getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)) {
        return fd;
    }
    close(fd);
    return -1;
}

static int tcp_connect(struct vg_agent_transport *t, uint64_t deadline)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char port[8];
    snprintf(port, sizeof(port), "%u", t->o.port);
    if (getaddrinfo(t->host, port, &hints, &res) != 0) {
        return tr_fail(t, "cannot resolve the server address");
    }
    t->fd = -1;
    for (struct addrinfo *ai = res; ai && t->fd < 0; ai = ai->ai_next) {
        t->fd = tcp_connect_ai(ai, deadline);
    }
    freeaddrinfo(res);
    return t->fd < 0 ? tr_fail(t, "cannot connect to the server") : VG_OK;
}

/* Drive an SSL call that may want I/O until it succeeds or the deadline passes. */
static int ssl_retry(struct vg_agent_transport *t, int r, uint64_t deadline)
{
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        return io_wait(t->fd, POLLIN, deadline) == VG_OK ? VG_AGAIN : VG_ETIMEOUT;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
        return io_wait(t->fd, POLLOUT, deadline) == VG_OK ? VG_AGAIN : VG_ETIMEOUT;
    }
    return e == SSL_ERROR_ZERO_RETURN ? VG_EOF : VG_EIO;
}

static bool is_ip_literal(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int tls_connect(struct vg_agent_transport *t, uint64_t deadline)
{
    const char *name = t->server_name ? t->server_name : t->host;
    t->ssl = SSL_new(t->ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1) {
        return tr_fail(t, "cannot create the TLS session");
    }
    int ok = is_ip_literal(name)
                 ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name)
                 : SSL_set1_host(t->ssl, name) && SSL_set_tlsext_host_name(t->ssl, name);
    if (ok != 1) {
        return tr_fail(t, "cannot set the server name to check");
    }
    int r, rc;
    while ((r = SSL_connect(t->ssl)) != 1) {
        if ((rc = ssl_retry(t, r, deadline)) != VG_AGAIN) {
            long v = SSL_get_verify_result(t->ssl);
            char what[128];
            snprintf(what, sizeof(what), "TLS handshake failed%s%s", v != X509_V_OK ? ": " : "",
                     v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
            return tr_fail(t, what);
        }
    }
    return VG_OK;
}

/* Send everything in t->wbuf. */
static int tr_flush(struct vg_agent_transport *t)
{
    uint64_t deadline = now_ns() + t->o.io_timeout_ms * NS_PER_MS;
    size_t off = 0;
    while (off < t->wbuf.len) {
        int r = SSL_write(t->ssl, t->wbuf.p + off, (int)VG_MIN(t->wbuf.len - off, 1u << 30));
        if (r > 0) {
            off += (size_t)r;
        } else if (ssl_retry(t, r, deadline) != VG_AGAIN) {
            vg_sbuf_reset(&t->wbuf);
            return tr_fail(t, "send failed");
        }
    }
    vg_sbuf_reset(&t->wbuf);
    return VG_OK;
}

/* Read what is available (waiting up to wait_ms for the first bytes) into the decoder. */
static int tr_recv(struct vg_agent_transport *t, uint32_t wait_ms)
{
    if (SSL_pending(t->ssl) == 0 &&
        io_wait(t->fd, POLLIN, now_ns() + wait_ms * NS_PER_MS) == VG_ETIMEOUT) {
        return VG_OK;
    }
    uint8_t buf[16384];
    for (;;) {
        int r = SSL_read(t->ssl, buf, sizeof(buf));
        if (r > 0) {
            if (vg_agent_wire_decoder_feed(t->dec, buf, (size_t)r) != VG_OK) {
                return tr_fail(t, "decoder out of memory");
            }
            continue;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            return VG_OK;
        }
        return tr_fail(t, e == SSL_ERROR_ZERO_RETURN ? "server closed the connection"
                                                     : "receive failed");
    }
}

/* ------------------------------------------------------------------ frames */

static int tr_send_hello(struct vg_agent_transport *t)
{
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(t->o.spool, &st);
    struct vg_agent_hello h = t->o.hello;
    h.spool_id = vg_agent_spool_id(t->o.spool);
    h.next_seq = st.next_seq;
    struct vg_sbuf j = VG_SBUF_INIT;
    int rc = vg_agent_wire_hello_json(&h, &j);
    if (rc == VG_OK) {
        rc = vg_agent_wire_encode(&t->wbuf, VG_AGENT_FRAME_HELLO, 0, 0, j.p, j.len);
    }
    vg_sbuf_fini(&j);
    return rc == VG_OK ? tr_flush(t) : tr_fail(t, "cannot encode HELLO");
}

static int tr_on_ack(struct vg_agent_transport *t, const struct vg_agent_frame *f)
{
    uint64_t last;
    if (vg_agent_wire_ack_parse(f, &last) != VG_OK) {
        return tr_fail(t, "malformed ACK");
    }
    if (last > 0 && vg_agent_spool_ack(t->o.spool, last) != VG_OK) {
        return tr_fail(t, "server acknowledged events this spool never had");
    }
    if (!t->hello_acked) {
        t->hello_acked = true;
        vg_agent_spool_rewind(t->o.spool); /* resume right after what the server has */
    } else if (t->inflight && last >= t->inflight_last) {
        t->inflight = false;
        t->acked_ns = now_ns();
    }
    pthread_mutex_lock(&t->mu);
    t->st.acked_seq = VG_MAX(t->st.acked_seq, last);
    pthread_mutex_unlock(&t->mu);
    return VG_OK;
}

static int tr_on_command(struct vg_agent_transport *t, const struct vg_agent_frame *f)
{
    struct vg_agent_command c;
    char why[160] = "no command key configured";
    int rc = t->o.verifier ? vg_agent_cmd_verify(t->o.verifier, f->payload, f->len,
                                                 vg_time_now() / 1000000000, &c, why, sizeof(why))
                           : VG_EDENIED;
    if (rc != VG_OK) {
        VG_WARN("agent", "command refused: %s", why);
        STAT_ADD(t, commands_refused, 1);
        return VG_OK; /* the session goes on; an unverified id is not echoed */
    }
    struct vg_sbuf out = VG_SBUF_INIT;
    rc = t->o.on_command ? t->o.on_command(t->o.ctx, &c, &out) : VG_EUNSUPPORTED;
    if (rc != VG_OK && out.len == 0) {
        vg_sbuf_adds(&out, vg_strerror(rc));
    }
    if (rc == VG_OK) {
        STAT_ADD(t, commands_ok, 1);
    } else {
        STAT_ADD(t, commands_failed, 1);
    }
    int erc = vg_agent_wire_encode_result(&t->wbuf, c.id, rc == VG_OK ? "ok" : "error",
                                          out.p ? out.p : "");
    vg_sbuf_fini(&out);
    vg_agent_command_fini(&c);
    return erc == VG_OK ? tr_flush(t) : tr_fail(t, "cannot encode COMMAND_RESULT");
}

static int tr_on_frame(struct vg_agent_transport *t, const struct vg_agent_frame *f)
{
    switch (f->type) {
    case VG_AGENT_FRAME_ACK:
        return tr_on_ack(t, f);
    case VG_AGENT_FRAME_CONFIG:
        STAT_ADD(t, configs, 1);
        if (t->o.on_config) {
            char *j = vg_strndup((const char *)f->payload, f->len);
            if (j) {
                t->o.on_config(t->o.ctx, j, f->len);
            }
            vg_free(j);
        }
        return VG_OK;
    case VG_AGENT_FRAME_COMMAND:
        return tr_on_command(t, f);
    case VG_AGENT_FRAME_HEARTBEAT:
        return VG_OK;
    case VG_AGENT_FRAME_ERROR: {
        char what[160];
        snprintf(what, sizeof(what), "server error: %.*s", (int)VG_MIN(f->len, 120u),
                 (const char *)f->payload);
        return tr_fail(t, what);
    }
    default:
        return tr_fail(t, "unexpected frame from the server");
    }
}

static int tr_dispatch(struct vg_agent_transport *t)
{
    struct vg_agent_frame f;
    char why[160];
    int rc;
    while ((rc = vg_agent_wire_decoder_next(t->dec, &f, why, sizeof(why))) == VG_OK) {
        if ((rc = tr_on_frame(t, &f)) != VG_OK) {
            return rc;
        }
    }
    return rc == VG_AGAIN ? VG_OK : tr_fail(t, why);
}

/* Send the next batch if none is in flight. */
static int tr_send_batch(struct vg_agent_transport *t)
{
    if (t->inflight) {
        return VG_OK;
    }
    if (now_ns() - t->acked_ns < LINGER_NS) {
        struct vg_agent_spool_stats ss;
        vg_agent_spool_stats(t->o.spool, &ss);
        if (ss.pending < t->o.batch_events) {
            return VG_OK;
        }
    }
    int rc = vg_agent_spool_read_batch(t->o.spool, t->o.batch_events, t->o.batch_bytes, &t->batch);
    if (rc == VG_AGAIN) {
        return VG_OK;
    }
    if (rc != VG_OK) {
        return tr_fail(t, "cannot read the spool");
    }
    rc = vg_agent_wire_encode_events(&t->wbuf, t->batch.first_seq, t->batch.count, t->batch.body.p,
                                     t->batch.body.len, true);
    if (rc != VG_OK) {
        return tr_fail(t, "cannot encode EVENTS");
    }
    t->inflight = true;
    t->inflight_last = t->batch.last_seq;
    t->inflight_ns = now_ns();
    pthread_mutex_lock(&t->mu);
    t->st.batches_sent++;
    t->st.events_sent += t->batch.count;
    pthread_mutex_unlock(&t->mu);
    return tr_flush(t);
}

static int tr_heartbeat(struct vg_agent_transport *t)
{
    if (now_ns() - t->last_hb_ns < t->o.heartbeat_ms * NS_PER_MS) {
        return VG_OK;
    }
    struct vg_agent_spool_stats s;
    vg_agent_spool_stats(t->o.spool, &s);
    char j[256];
    int n = snprintf(j, sizeof(j),
                     "{\"spool.pending\":%" PRIu64 ",\"spool.dropped\":%" PRIu64
                     ",\"spool.corrupt\":%" PRIu64 ",\"spool.bytes\":%" PRIu64 "}",
                     s.pending, s.dropped, s.corrupt, s.bytes);
    t->last_hb_ns = now_ns();
    STAT_ADD(t, heartbeats_sent, 1);
    if (vg_agent_wire_encode(&t->wbuf, VG_AGENT_FRAME_HEARTBEAT, 0, 0, j, (size_t)n) != VG_OK) {
        return tr_fail(t, "cannot encode HEARTBEAT");
    }
    return tr_flush(t);
}

/* ------------------------------------------------------------------ sessions */

static void tr_session_end(struct vg_agent_transport *t)
{
    if (t->ssl) {
        SSL_shutdown(t->ssl); /* best effort close_notify */
        SSL_free(t->ssl);
        t->ssl = NULL;
    }
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    vg_agent_wire_decoder_destroy(t->dec);
    t->dec = NULL;
    vg_sbuf_reset(&t->wbuf);
    t->inflight = t->hello_acked = false;
    vg_agent_spool_rewind(t->o.spool); /* unacknowledged batches go again */
    pthread_mutex_lock(&t->mu);
    t->st.connected = false;
    pthread_mutex_unlock(&t->mu);
}

/* Connect, TLS, HELLO and its ACK. */
static int tr_session_open(struct vg_agent_transport *t)
{
    uint64_t deadline = now_ns() + t->o.io_timeout_ms * NS_PER_MS;
    int rc = tcp_connect(t, deadline);
    rc = rc ? rc : tls_connect(t, deadline);
    rc = rc ? rc : vg_agent_wire_decoder_create(NULL, &t->dec);
    rc = rc ? rc : tr_send_hello(t);
    while (rc == VG_OK && !t->hello_acked && !atomic_load(&t->stop)) {
        if (now_ns() >= deadline) {
            rc = tr_fail(t, "no ACK for HELLO");
            break;
        }
        rc = tr_recv(t, 100);
        rc = rc ? rc : tr_dispatch(t);
    }
    if (rc == VG_OK && t->hello_acked) {
        pthread_mutex_lock(&t->mu);
        t->st.connects++;
        t->st.connected = true;
        t->st.last_error[0] = '\0';
        pthread_mutex_unlock(&t->mu);
    }
    return rc;
}

static int tr_session_run(struct vg_agent_transport *t)
{
    t->last_hb_ns = now_ns();
    int rc = VG_OK;
    while (rc == VG_OK && !atomic_load(&t->stop)) {
        rc = tr_send_batch(t);
        rc = rc ? rc : tr_heartbeat(t);
        rc = rc ? rc : tr_recv(t, t->inflight ? 20 : 50);
        rc = rc ? rc : tr_dispatch(t);
        if (rc == VG_OK && t->inflight &&
            now_ns() - t->inflight_ns > t->o.io_timeout_ms * NS_PER_MS) {
            rc = tr_fail(t, "no ACK for EVENTS");
        }
        if (rc == VG_OK && !t->inflight) {
            vg_agent_spool_wait(t->o.spool, 50);
        }
    }
    return rc;
}

/* Sleep ms in small steps so stop is prompt. */
static void tr_sleep(struct vg_agent_transport *t, uint32_t ms)
{
    uint64_t end = now_ns() + ms * NS_PER_MS;
    while (!atomic_load(&t->stop) && now_ns() < end) {
        usleep(10000);
    }
}

static void *tr_main(void *arg)
{
    struct vg_agent_transport *t = arg;
    uint32_t backoff = t->o.backoff_min_ms;
    /* A write to a connection the server reset raises SIGPIPE in this thread: keep it
       blocked here so SSL_write fails with EPIPE instead of killing the agent. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    while (!atomic_load(&t->stop)) {
        int rc = tr_session_open(t);
        if (rc == VG_OK && t->hello_acked) {
            backoff = t->o.backoff_min_ms;
            rc = tr_session_run(t);
        } else {
            STAT_ADD(t, connect_failures, 1);
        }
        tr_session_end(t);
        if (atomic_load(&t->stop)) {
            break;
        }
        /* Jitter (50..100%) keeps a fleet from reconnecting in lockstep. */
        tr_sleep(t, backoff / 2 + randombytes_uniform(backoff / 2 + 1));
        backoff = (uint32_t)VG_MIN((uint64_t)backoff * 2, (uint64_t)t->o.backoff_max_ms);
    }
    return NULL;
}

/* ------------------------------------------------------------------ lifecycle */

static int tr_copy_opts(struct vg_agent_transport *t, const struct vg_agent_transport_opts *o)
{
    t->o = *o;
    const struct vg_agent_hello *h = &o->hello;
    t->host = vg_strdup(o->host);
    t->server_name = o->server_name ? vg_strdup(o->server_name) : NULL;
    t->agent_id = vg_strdup(h->agent_id ? h->agent_id : "");
    t->version = vg_strdup(h->version ? h->version : "");
    t->hostname = vg_strdup(h->hostname ? h->hostname : "");
    t->os = vg_strdup(h->os ? h->os : "");
    t->collectors = vg_strdup(h->collectors_json ? h->collectors_json : "{}");
    t->ips = vg_calloc(h->n_ips + 1, sizeof(char *));
    bool ok = t->host && (!o->server_name || t->server_name) && t->agent_id && t->version &&
              t->hostname && t->os && t->collectors && t->ips;
    for (size_t i = 0; ok && i < h->n_ips; i++) {
        ok = (t->ips[i] = vg_strdup(h->ips[i])) != NULL;
    }
    t->o.hello = (struct vg_agent_hello){.agent_id = t->agent_id,
                                         .version = t->version,
                                         .hostname = t->hostname,
                                         .os = t->os,
                                         .ips = (const char *const *)t->ips,
                                         .n_ips = h->n_ips,
                                         .collectors_json = t->collectors};
    t->o.batch_events = o->batch_events ? o->batch_events : 2000;
    t->o.batch_bytes = o->batch_bytes ? o->batch_bytes : (1u << 20);
    t->o.heartbeat_ms = o->heartbeat_ms ? o->heartbeat_ms : 30000;
    t->o.io_timeout_ms = o->io_timeout_ms ? o->io_timeout_ms : 15000;
    t->o.backoff_min_ms = o->backoff_min_ms ? o->backoff_min_ms : 250;
    t->o.backoff_max_ms =
        VG_MAX(o->backoff_max_ms ? o->backoff_max_ms : 30000, t->o.backoff_min_ms);
    return ok ? VG_OK : VG_ENOMEM;
}

static void tr_free(struct vg_agent_transport *t)
{
    SSL_CTX_free(t->ctx);
    for (size_t i = 0; t->ips && i < t->o.hello.n_ips; i++) {
        vg_free(t->ips[i]);
    }
    vg_free(t->ips);
    vg_free(t->host);
    vg_free(t->server_name);
    vg_free(t->agent_id);
    vg_free(t->version);
    vg_free(t->hostname);
    vg_free(t->os);
    vg_free(t->collectors);
    vg_agent_spool_batch_fini(&t->batch);
    vg_sbuf_fini(&t->wbuf);
    pthread_mutex_destroy(&t->mu);
    vg_free(t);
}

int vg_agent_transport_start(const struct vg_agent_transport_opts *opts,
                             struct vg_agent_transport **out, char *err, size_t errsz)
{
    const char *missing = !opts              ? "opts"
                          : !opts->host      ? "host"
                          : !opts->port      ? "port"
                          : !opts->ca_file   ? "ca_file"
                          : !opts->cert_file ? "cert_file"
                          : !opts->key_file  ? "key_file"
                          : !opts->spool     ? "spool"
                                             : NULL;
    if (missing) {
        snprintf(err, errsz, "transport: missing option %s", missing);
        return VG_EINVAL;
    }
    if (sodium_init() < 0) {
        return VG_ERROR;
    }
    struct vg_agent_transport *t = vg_calloc(1, sizeof(*t));
    if (!t) {
        return VG_ENOMEM;
    }
    pthread_mutex_init(&t->mu, NULL);
    t->fd = -1;
    int rc = tr_copy_opts(t, opts);
    rc = rc ? rc : tls_ctx_create(t, err, errsz);
    if (rc == VG_OK && pthread_create(&t->thread, NULL, tr_main, t) != 0) {
        rc = VG_ERROR;
    }
    if (rc != VG_OK) {
        tr_free(t);
        return rc;
    }
    t->started = true;
    *out = t;
    return VG_OK;
}

void vg_agent_transport_stop(struct vg_agent_transport *t)
{
    if (!t) {
        return;
    }
    atomic_store(&t->stop, true);
    if (t->started) {
        pthread_join(t->thread, NULL);
    }
    tr_free(t);
}

void vg_agent_transport_stats(struct vg_agent_transport *t, struct vg_agent_transport_stats *st)
{
    pthread_mutex_lock(&t->mu);
    *st = t->st;
    pthread_mutex_unlock(&t->mu);
}
