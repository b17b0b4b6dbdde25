/*
 * test_transport.c — the agent transport against a small mutual-TLS server run in the test
 * on 127.0.0.1 (throwaway CA, server and client certificates made with the OpenSSL API):
 * events arrive once and in order, also across a server stop/restart with events produced
 * meanwhile and across a lost ACK; CONFIG reaches its callback; forged, unsigned, expired
 * and replayed commands are refused while a valid one runs and is answered; a server whose
 * certificate is not from the pinned CA is never sent anything.
 */
#include "agent/agent_transport.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------------ certificates */

struct pki {
    char dir[64];
    char ca[128], ca_key[128], srv[128], srv_key[128], cli[128], cli_key[128];
};

static bool add_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
    X509V3_CTX c;
    X509V3_set_ctx(&c, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &c, nid, val);
    bool ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

static bool write_pem(const char *cert, const char *key, X509 *x, EVP_PKEY *pk)
{
    FILE *fc = fopen(cert, "w"), *fk = fopen(key, "w");
    bool ok = fc && fk && PEM_write_X509(fc, x) && PEM_write_PrivateKey(fk, pk, 0, 0, 0, 0, 0);
    if (fc) {
        fclose(fc);
    }
    if (fk) {
        fclose(fk);
    }
    return ok;
}

/* A certificate for cn, signed by (ica, ikey) or self-signed when ica is NULL. */
static bool make_cert(const char *cn, const char *san, X509 *ica, EVP_PKEY *ikey, X509 **xo,
                      EVP_PKEY **ko)
{
    static long serial = 1;
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pk);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, ica ? X509_get_subject_name(ica) : nm);
    bool ok =
        add_ext(x, ica ? ica : x, NID_basic_constraints, ica ? "CA:FALSE" : "critical,CA:TRUE");
    if (!ica) {
        ok = ok && add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (san) {
        ok = ok && add_ext(x, ica, NID_subject_alt_name, san);
    }
    ok = ok && X509_sign(x, ica ? ikey : pk, EVP_sha256()) > 0;
    *xo = x;
    *ko = pk;
    return ok;
}

static bool make_pki(struct pki *p)
{
    snprintf(p->dir, sizeof(p->dir), "/tmp/vg_tr_XXXXXX");
    if (!mkdtemp(p->dir)) {
        return false;
    }
#define P(f, n) snprintf(p->f, sizeof(p->f), "%s/" n, p->dir)
    P(ca, "ca.pem"), P(ca_key, "ca.key"), P(srv, "srv.pem"), P(srv_key, "srv.key");
    P(cli, "cli.pem"), P(cli_key, "cli.key");
#undef P
    X509 *ca, *srv, *cli;
    EVP_PKEY *cak, *srvk, *clik;
    bool ok = make_cert("Vigie test CA", NULL, NULL, NULL, &ca, &cak);
    ok = ok && make_cert("vigie-server", "IP:127.0.0.1,DNS:localhost", ca, cak, &srv, &srvk);
    ok = ok && make_cert("agent-1", NULL, ca, cak, &cli, &clik);
    ok = ok && write_pem(p->ca, p->ca_key, ca, cak) && write_pem(p->srv, p->srv_key, srv, srvk) &&
         write_pem(p->cli, p->cli_key, cli, clik);
    X509_free(ca), X509_free(srv), X509_free(cli);
    EVP_PKEY_free(cak), EVP_PKEY_free(srvk), EVP_PKEY_free(clik);
    return ok;
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (unlink(p) != 0) {
            rm_dir(p);
        }
    }
    if (d) {
        closedir(d);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------------ the test server */

struct tsrv {
    SSL_CTX *ctx;
    int port, lfd;
    pthread_t th;
    atomic_bool stop;
    atomic_int drop_ack_once; /* store the next EVENTS frame, then vanish without ACK */
    pthread_mutex_t mu;
    uint64_t hw;           /* highest stored seq (kept across restarts, like a store) */
    uint64_t hw_acked;     /* highest seq acknowledged: what HELLO reports (conservative) */
    struct vg_sbuf events; /* stored events, one per line */
    uint32_t nevents, gaps, hellos, results, heartbeats;
    struct vg_sbuf results_text;
    struct vg_sbuf outq; /* frames to send to the agent */
};

static void srv_store(struct tsrv *s, const struct vg_agent_wire_events *ev)
{
    pthread_mutex_lock(&s->mu);
    if (ev->first_seq > s->hw + 1) {
        s->gaps++;
    }
    size_t pos = 0, n;
    const char *j;
    for (uint64_t seq = ev->first_seq; vg_agent_wire_events_next(ev, &pos, &j, &n); seq++) {
        if (seq > s->hw) { /* a resend after a lost ACK is acknowledged, not stored again */
            vg_sbuf_add(&s->events, j, n);
            vg_sbuf_addc(&s->events, '\n');
            s->nevents++;
            s->hw = seq;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* Handle one frame; returns false to drop the connection. */
static bool srv_frame(struct tsrv *s, SSL *ssl, const struct vg_agent_frame *f)
{
    struct vg_sbuf out = VG_SBUF_INIT;
    struct vg_agent_wire_events ev;
    char err[160];
    bool keep = true;
    if (f->type == VG_AGENT_FRAME_HELLO) {
        pthread_mutex_lock(&s->mu);
        s->hellos++;
        vg_agent_wire_encode_ack(&out, s->hw_acked);
        pthread_mutex_unlock(&s->mu);
    } else if (f->type == VG_AGENT_FRAME_EVENTS) {
        keep = vg_agent_wire_events_parse(f, &ev, err, sizeof(err)) == VG_OK;
        if (keep) {
            srv_store(s, &ev);
            keep = atomic_exchange(&s->drop_ack_once, 0) == 0;
            vg_agent_wire_encode_ack(&out, ev.first_seq + ev.count - 1);
            pthread_mutex_lock(&s->mu);
            s->hw_acked = keep ? ev.first_seq + ev.count - 1 : s->hw_acked;
            pthread_mutex_unlock(&s->mu);
        }
    } else if (f->type == VG_AGENT_FRAME_COMMAND_RESULT) {
        pthread_mutex_lock(&s->mu);
        s->results++;
        vg_sbuf_add(&s->results_text, f->payload, f->len);
        vg_sbuf_addc(&s->results_text, '\n');
        pthread_mutex_unlock(&s->mu);
    } else if (f->type == VG_AGENT_FRAME_HEARTBEAT) {
        pthread_mutex_lock(&s->mu);
        s->heartbeats++;
        pthread_mutex_unlock(&s->mu);
    }
    if (keep && out.len) {
        keep = SSL_write(ssl, out.p, (int)out.len) == (int)out.len;
    }
    vg_sbuf_fini(&out);
    return keep;
}

static bool srv_send_queued(struct tsrv *s, SSL *ssl)
{
    pthread_mutex_lock(&s->mu);
    bool ok = s->outq.len == 0 || SSL_write(ssl, s->outq.p, (int)s->outq.len) == (int)s->outq.len;
    vg_sbuf_reset(&s->outq);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void srv_conn(struct tsrv *s, int fd)
{
    SSL *ssl = SSL_new(s->ctx);
    struct vg_agent_wire_decoder *d = NULL;
    vg_agent_wire_decoder_create(NULL, &d);
    SSL_set_fd(ssl, fd);
    bool ok = SSL_accept(ssl) == 1;
    uint8_t buf[65536];
    while (ok && !atomic_load(&s->stop)) {
        ok = srv_send_queued(s, ssl);
        struct pollfd p = {fd, POLLIN, 0};
        if (!ok || (SSL_pending(ssl) == 0 && poll(&p, 1, 20) <= 0)) {
            continue;
        }
        int r = SSL_read(ssl, buf, sizeof(buf));
        ok = r > 0 && vg_agent_wire_decoder_feed(d, buf, (size_t)r) == VG_OK;
        struct vg_agent_frame f;
        char err[160];
        while (ok && vg_agent_wire_decoder_next(d, &f, err, sizeof(err)) == VG_OK) {
            ok = srv_frame(s, ssl, &f);
        }
    }
    SSL_free(ssl);
    vg_agent_wire_decoder_destroy(d);
    close(fd);
}

static void *srv_main(void *arg)
{
    struct tsrv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) {
            continue;
        }
        int fd = accept(s->lfd, NULL, NULL);
        if (fd >= 0) {
            srv_conn(s, fd); /* one agent at a time is enough here */
        }
    }
    return NULL;
}

static bool srv_start(struct tsrv *s)
{
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof(a);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->lfd, 8) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        return false;
    }
    s->port = ntohs(a.sin_port);
    atomic_store(&s->stop, false);
    return pthread_create(&s->th, NULL, srv_main, s) == 0;
}

static void srv_halt(struct tsrv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    close(s->lfd);
}

static bool srv_init(struct tsrv *s, const struct pki *p, const char *ca)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->ctx = SSL_CTX_new(TLS_server_method());
    bool ok = SSL_CTX_use_certificate_file(s->ctx, p->srv, SSL_FILETYPE_PEM) == 1 &&
              SSL_CTX_use_PrivateKey_file(s->ctx, p->srv_key, SSL_FILETYPE_PEM) == 1 &&
              SSL_CTX_load_verify_locations(s->ctx, ca, NULL) == 1;
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ok && srv_start(s);
}

static void srv_fini(struct tsrv *s)
{
    SSL_CTX_free(s->ctx);
    vg_sbuf_fini(&s->events);
    vg_sbuf_fini(&s->results_text);
    vg_sbuf_fini(&s->outq);
    pthread_mutex_destroy(&s->mu);
}

static uint32_t srv_count(struct tsrv *s, uint32_t *field)
{
    pthread_mutex_lock(&s->mu);
    uint32_t n = *field;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static bool wait_for(struct tsrv *s, uint32_t *field, uint32_t want, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (srv_count(s, field) >= want) {
            return true;
        }
        usleep(10000);
    }
    return srv_count(s, field) >= want;
}

/* ------------------------------------------------------------------ agent side */

struct agent {
    char state[128];
    struct vg_agent_spool *spool;
    struct vg_agent_transport *tr;
    struct vg_agent_cmd_verifier *ver;
    int next;
    atomic_int configs, commands;
};

static void on_config(void *ctx, const char *json, size_t len)
{
    struct agent *a = ctx;
    if (len > 0 && json[0] == '{' && strstr(json, "\"fim\"")) {
        atomic_fetch_add(&a->configs, 1);
    }
}

static int on_command(void *ctx, const struct vg_agent_command *c, struct vg_sbuf *out)
{
    struct agent *a = ctx;
    atomic_fetch_add(&a->commands, 1);
    vg_sbuf_printf(out, "did %s", c->action);
    return VG_OK;
}

static void produce(struct agent *a, int n)
{
    for (int i = 0; i < n; i++) {
        char buf[96];
        a->next++;
        int len = snprintf(buf, sizeof(buf), "{\"event.dataset\":\"test\",\"n\":%d}", a->next);
        CHECK_EQ_INT(vg_agent_spool_append(a->spool, buf, (size_t)len), VG_OK);
    }
}

static bool agent_start(struct agent *a, const struct pki *p, int port, const uint8_t *pk,
                        const char *ca)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->state, sizeof(a->state), "%s/state", p->dir);
    char err[256] = "";
    struct vg_agent_spool_opts so = {.segment_bytes = 16 << 10};
    if (vg_agent_spool_open(a->state, &so, &a->spool, err, sizeof(err)) != VG_OK) {
        return false;
    }
    if (pk && vg_agent_cmd_verifier_create(pk, "agent-1", NULL, &a->ver) != VG_OK) {
        return false;
    }
    const char *ips[] = {"127.0.0.1"};
    struct vg_agent_transport_opts o = {.host = "127.0.0.1",
                                        .port = (uint16_t)port,
                                        .ca_file = ca,
                                        .cert_file = p->cli,
                                        .key_file = p->cli_key,
                                        .spool = a->spool,
                                        .verifier = a->ver,
                                        .hello = {.agent_id = "agent-1",
                                                  .version = "test",
                                                  .hostname = "h",
                                                  .os = "linux",
                                                  .ips = ips,
                                                  .n_ips = 1},
                                        .batch_events = 100,
                                        .heartbeat_ms = 50,
                                        .io_timeout_ms = 2000,
                                        .backoff_min_ms = 20,
                                        .backoff_max_ms = 100,
                                        .on_config = on_config,
                                        .on_command = on_command,
                                        .ctx = a};
    int rc = vg_agent_transport_start(&o, &a->tr, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  transport: %s\n", err);
    }
    return rc == VG_OK;
}

static void agent_stop(struct agent *a)
{
    vg_agent_transport_stop(a->tr);
    vg_agent_cmd_verifier_destroy(a->ver);
    vg_agent_spool_close(a->spool);
}

/* The server's events must be n = 1..want, each once, in order. */
static bool events_exact(struct tsrv *s, int want)
{
    pthread_mutex_lock(&s->mu);
    int expect = 1;
    bool ok = true;
    for (const char *p = s->events.p; ok && p && *p; p = strchr(p, '\n') + 1) {
        const char *q = strstr(p, "\"n\":");
        int64_t v = -1;
        const char *e = q ? q + 4 : NULL;
        while (e && *e >= '0' && *e <= '9') {
            e++;
        }
        ok = q && vg_parse_i64(q + 4, (size_t)(e - (q + 4)), &v) == VG_OK && v == expect++;
    }
    pthread_mutex_unlock(&s->mu);
    return ok && expect - 1 == want;
}

VG_TEST(transport_delivers_once_in_order_across_a_server_restart)
{
    signal(SIGPIPE, SIG_IGN); /* the test server's own writes */
    struct pki p;
    CHECK(make_pki(&p));
    struct tsrv s;
    CHECK(srv_init(&s, &p, p.ca));
    struct agent a;
    CHECK(agent_start(&a, &p, s.port, NULL, p.ca));
    produce(&a, 500);
    CHECK(wait_for(&s, &s.nevents, 500, 10000));
    /* Server away; the agent keeps producing. */
    srv_halt(&s);
    produce(&a, 1000);
    usleep(300000);
    struct vg_agent_transport_stats ts;
    vg_agent_transport_stats(a.tr, &ts);
    CHECK(!ts.connected);
    CHECK(ts.connect_failures > 0);
    struct vg_agent_spool_stats ss;
    vg_agent_spool_stats(a.spool, &ss);
    CHECK_EQ_INT(ss.pending, 1000);
    CHECK(srv_start(&s));
    CHECK(wait_for(&s, &s.nevents, 1500, 10000));
    /* A lost ACK: the server stores a batch and vanishes; the resend is not stored twice. */
    atomic_store(&s.drop_ack_once, 1);
    produce(&a, 300);
    CHECK(wait_for(&s, &s.nevents, 1800, 10000));
    usleep(200000);
    CHECK(events_exact(&s, 1800));
    CHECK_EQ_INT(srv_count(&s, &s.gaps), 0);
    CHECK(srv_count(&s, &s.hellos) >= 3);
    vg_agent_transport_stats(a.tr, &ts);
    CHECK(ts.events_sent > 1800); /* the unacknowledged batch went twice */
    CHECK(ts.heartbeats_sent > 0);
    for (int i = 0; i < 100 && ss.pending; i++) {
        usleep(10000);
        vg_agent_spool_stats(a.spool, &ss);
    }
    CHECK_EQ_INT(ss.pending, 0);
    CHECK_EQ_INT(ss.acked_seq, 1800);
    agent_stop(&a);
    srv_halt(&s);
    srv_fini(&s);
    rm_dir(p.dir);
}

static void queue_command(struct tsrv *s, const uint8_t *sk, const char *id, int64_t issued,
                          int64_t expires, bool sign)
{
    struct vg_sbuf j = VG_SBUF_INIT;
    vg_agent_command_json(&j, id, "kill", "{\"pid\":1}", issued, expires, "agent-1");
    pthread_mutex_lock(&s->mu);
    if (sign) {
        vg_agent_wire_encode_command(&s->outq, sk, j.p, j.len);
    } else {
        vg_agent_wire_encode(&s->outq, VG_AGENT_FRAME_COMMAND, 0, 0, j.p, j.len);
    }
    pthread_mutex_unlock(&s->mu);
    vg_sbuf_fini(&j);
}

VG_TEST(transport_runs_signed_commands_and_refuses_the_rest)
{
    struct pki p;
    CHECK(make_pki(&p));
    uint8_t pk[32], sk[64], pk2[32], sk2[64];
    vg_agent_sign_keypair(pk, sk);
    vg_agent_sign_keypair(pk2, sk2);
    struct tsrv s;
    CHECK(srv_init(&s, &p, p.ca));
    struct agent a;
    CHECK(agent_start(&a, &p, s.port, pk, p.ca));
    CHECK(wait_for(&s, &s.hellos, 1, 5000));
    int64_t now = vg_time_now() / 1000000000;
    queue_command(&s, sk, "c1", now, now + 600, true);       /* valid */
    queue_command(&s, sk2, "c2", now, now + 600, true);      /* forged: other key */
    queue_command(&s, sk, "c3", now, now + 600, false);      /* unsigned */
    queue_command(&s, sk, "c4", now - 900, now - 300, true); /* expired */
    queue_command(&s, sk, "c1", now, now + 600, true);       /* replayed id */
    pthread_mutex_lock(&s.mu);
    vg_agent_wire_encode(&s.outq, VG_AGENT_FRAME_CONFIG, VG_AGENT_WIRE_ZSTD, 0,
                         "{\"fim\":{\"paths\":[\"/etc\"]}}", 27);
    pthread_mutex_unlock(&s.mu);
    struct vg_agent_transport_stats ts = {0};
    for (int i = 0; i < 300 && ts.commands_refused + ts.commands_ok < 5; i++) {
        usleep(10000);
        vg_agent_transport_stats(a.tr, &ts);
    }
    CHECK_EQ_INT(ts.commands_ok, 1);
    CHECK_EQ_INT(ts.commands_refused, 4);
    CHECK_EQ_INT(atomic_load(&a.commands), 1);
    CHECK(wait_for(&s, &s.results, 1, 3000));
    usleep(100000);
    CHECK_EQ_INT(srv_count(&s, &s.results), 1);
    pthread_mutex_lock(&s.mu);
    CHECK(s.results_text.p && strstr(s.results_text.p, "{\"id\":\"c1\",\"status\":\"ok\","
                                                       "\"output\":\"did kill\"}"));
    pthread_mutex_unlock(&s.mu);
    for (int i = 0; i < 100 && atomic_load(&a.configs) == 0; i++) {
        usleep(10000);
    }
    CHECK_EQ_INT(atomic_load(&a.configs), 1);
    agent_stop(&a);
    srv_halt(&s);
    srv_fini(&s);
    rm_dir(p.dir);
}

VG_TEST(transport_refuses_a_server_outside_the_pinned_ca)
{
    struct pki p, other;
    CHECK(make_pki(&p));
    CHECK(make_pki(&other));
    struct tsrv s;
    CHECK(srv_init(&s, &p, p.ca));
    struct agent a;
    /* The agent trusts only another CA: the handshake must fail, nothing is sent. */
    CHECK(agent_start(&a, &p, s.port, NULL, other.ca));
    produce(&a, 10);
    usleep(400000);
    struct vg_agent_transport_stats ts;
    vg_agent_transport_stats(a.tr, &ts);
    CHECK_EQ_INT(ts.connects, 0);
    CHECK(ts.connect_failures > 0);
    CHECK(strstr(ts.last_error, "handshake") != NULL);
    CHECK_EQ_INT(srv_count(&s, &s.hellos), 0);
    CHECK_EQ_INT(srv_count(&s, &s.nevents), 0);
    agent_stop(&a);
    srv_halt(&s);
    srv_fini(&s);
    rm_dir(p.dir);
    rm_dir(other.dir);
}
