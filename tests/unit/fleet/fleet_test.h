/*
 * fleet_test.h — helpers of the fleet tests: a rig (temp dir, real journal, real audit log,
 * real API on 127.0.0.1 and a fleet with its mTLS listener on 127.0.0.1), CSRs made with
 * OpenSSL, enrollment over HTTP, and a minimal agent that speaks mutual TLS and writes and
 * reads agent_wire frames by hand (an independent check of the format).
 */
#ifndef VG_FLEET_TEST_H
#define VG_FLEET_TEST_H

#include "../api/api_test.h"
#include "audit/audit.h"
#include "event/event.h"
#include "fleet/fleet.h"

#include <openssl/x509v3.h>
#include <poll.h>
#include <sodium.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- rig */

struct frig {
    struct rig r;
    struct vg_audit *audit;
    struct vg_fleet *f;
    char admin[160]; /* "Authorization: Bearer ...\r\n" (admin) */
    char reader[160];
};

static inline bool frig_fleet(struct frig *g, unsigned enroll_failures)
{
    char err[512];
    const char *names[] = {"agents.test", "127.0.0.1"};
    struct vg_fleet_opts fo = {.data_dir = g->r.dir,
                               .journal = g->r.j,
                               .audit = g->audit,
                               .listen = "127.0.0.1:0",
                               .hostnames = names,
                               .nhostnames = 2,
                               .input = 42,
                               .handshake_ms = 3000,
                               .enroll_failures = enroll_failures};
    if (vg_fleet_create(&fo, &g->f, err, sizeof(err)) != VG_OK ||
        vg_fleet_start(g->f, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  fleet: %s\n", err);
        return false;
    }
    return true;
}

static inline bool frig_open(struct frig *g, unsigned enroll_failures)
{
    char err[512], path[200];
    struct vg_api_ingest_opts io = {.input = 7};
    memset(g, 0, sizeof(*g));
    vg_log_set_level(VG_LOG_ERROR);
    if (!rig_open(&g->r, NULL, &io, 0, false)) {
        return false;
    }
    snprintf(path, sizeof(path), "%s/audit.db", g->r.dir);
    if (vg_audit_open(path, &g->audit, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  audit: %s\n", err);
        return false;
    }
    return frig_fleet(g, enroll_failures) && vg_fleet_api_register(g->f, g->r.api) == VG_OK &&
           rig_start(&g->r) &&
           rig_token(&g->r, "root", VG_API_ROLE_ADMIN, NULL, g->admin, sizeof(g->admin)) &&
           rig_token(&g->r, "viewer", VG_API_ROLE_READ, NULL, g->reader, sizeof(g->reader));
}

static inline void frig_close(struct frig *g)
{
    vg_api_stop(g->r.api);
    vg_fleet_destroy(g->f);
    vg_audit_close(g->audit);
    rig_close(&g->r);
}

/* ---------------------------------------------------------------- JSON */

/* A string member of body (malloc'ed), or NULL. */
static inline char *jstr(const char *body, const char *key)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(65536);
    struct vg_json *doc = NULL;
    size_t used;
    char err[128], *out = NULL;
    if (vg_json_parse(p, a, body, strlen(body), &used, &doc, err, sizeof(err)) == VG_OK) {
        const struct vg_json *v = vg_json_get(doc, key);
        if (v && v->type == VG_JSON_STRING) {
            out = strndup(v->s, v->n);
        }
    }
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    return out;
}

/* ---------------------------------------------------------------- CSR and enrollment */

static inline char *make_csr(EVP_PKEY *key, const char *cn)
{
    X509_REQ *req = X509_REQ_new();
    X509_NAME *nm = X509_REQ_get_subject_name(req);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_REQ_set_pubkey(req, key);
    X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_REQ(b, req);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t)n);
    BIO_free(b);
    X509_REQ_free(req);
    return out;
}

/* A new enrollment token through the API (admin); NULL on failure. */
static inline char *api_token(struct frig *g, const char *body)
{
    struct hresp h = {0};
    char *tok = NULL;
    if (http1(g->r.port, "POST", "/api/v1/agents/enroll-tokens", g->admin, body, &h) == 201) {
        tok = jstr(h.body, "token");
    }
    hresp_free(&h);
    return tok;
}

/* POST /api/v1/agents/enroll; returns the status, body in h. */
static inline int api_enroll(struct frig *g, const char *token, const char *body, struct hresp *h)
{
    char hdr[256] = "";
    if (token) {
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", token);
    }
    return http1(g->r.port, "POST", "/api/v1/agents/enroll", hdr, body, h);
}

/* An enrolled agent's credentials. */
struct cred {
    char *id, *cert, *ca, *pubkey_hex, *endpoint;
    EVP_PKEY *key;
};

static inline void cred_free(struct cred *c)
{
    free(c->id);
    free(c->cert);
    free(c->ca);
    free(c->pubkey_hex);
    free(c->endpoint);
    EVP_PKEY_free(c->key);
    memset(c, 0, sizeof(*c));
}

static inline bool enroll(struct frig *g, struct cred *c)
{
    char *tok = api_token(g, "{\"ttl\":\"1h\",\"uses\":1}");
    memset(c, 0, sizeof(*c));
    c->key = EVP_EC_gen("P-256");
    char *csr = make_csr(c->key, "host-a");
    struct vg_sbuf body = VG_SBUF_INIT;
    vg_sbuf_adds(&body, "{\"hostname\":\"host-a\",\"csr\":");
    vg_sbuf_add_json_str(&body, csr, strlen(csr));
    vg_sbuf_addc(&body, '}');
    struct hresp h = {0};
    int st = tok ? api_enroll(g, tok, body.p, &h) : -1;
    if (st == 200) {
        c->id = jstr(h.body, "agent_id");
        c->cert = jstr(h.body, "cert");
        c->ca = jstr(h.body, "ca");
        c->pubkey_hex = jstr(h.body, "command_pubkey");
        c->endpoint = jstr(h.body, "endpoint");
    } else {
        fprintf(stderr, "  enroll: %d %s\n", st, h.body ? h.body : "");
    }
    hresp_free(&h);
    vg_sbuf_fini(&body);
    free(csr);
    free(tok);
    return c->id && c->cert && c->ca && c->pubkey_hex;
}

/* ---------------------------------------------------------------- a minimal agent */

struct ag {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

static inline X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static inline void ag_close(struct ag *a)
{
    if (a->ssl) {
        SSL_free(a->ssl);
    }
    if (a->fd >= 0) {
        close(a->fd);
    }
    SSL_CTX_free(a->ctx);
    memset(a, 0, sizeof(*a));
    a->fd = -1;
}

/*
 * Connect with client cert/key (PEM cert; key object), verifying the server against ca_pem
 * and its SAN 127.0.0.1. Returns whether the TLS handshake completed on the client side.
 */
static inline bool ag_connect(struct ag *a, int port, const char *cert, EVP_PKEY *key,
                              const char *ca_pem)
{
    memset(a, 0, sizeof(*a));
    a->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 10};
    int one = 1;
    setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(a->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        return false;
    }
    a->ctx = SSL_CTX_new(TLS_client_method());
    X509 *ca = pem_cert(ca_pem), *x = cert ? pem_cert(cert) : NULL;
    X509_STORE_add_cert(SSL_CTX_get_cert_store(a->ctx), ca);
    SSL_CTX_set_verify(a->ctx, SSL_VERIFY_PEER, NULL);
    if (x) {
        SSL_CTX_use_certificate(a->ctx, x);
        SSL_CTX_use_PrivateKey(a->ctx, key);
    }
    X509_free(ca);
    X509_free(x);
    a->ssl = SSL_new(a->ctx);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(a->ssl), "127.0.0.1");
    SSL_set_fd(a->ssl, a->fd);
    bool ok = SSL_connect(a->ssl) == 1;
    ERR_clear_error();
    return ok;
}

static inline bool ag_write(struct ag *a, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        int w = SSL_write(a->ssl, c, (int)n);
        if (w <= 0) {
            ERR_clear_error();
            return false;
        }
        c += w;
        n -= (size_t)w;
    }
    return true;
}

static inline void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* A frame written by hand: "VGA1", type, flags 0, reserved, length, CRC-32. */
static inline bool ag_send(struct ag *a, int type, const void *p, size_t n)
{
    uint8_t h[16] = {'V', 'G', 'A', '1', (uint8_t)type, 0, 0, 0};
    put32(h + 8, (uint32_t)n);
    put32(h + 12, vg_crc32(0, p, n));
    return ag_write(a, h, 16) && (!n || ag_write(a, p, n));
}

static inline bool ag_read_full(struct ag *a, uint8_t *p, size_t n)
{
    while (n) {
        int r = SSL_read(a->ssl, p, (int)n);
        if (r <= 0) {
            ERR_clear_error();
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* Read one frame: its type (-1 on EOF/error) and payload (malloc'ed, NUL-terminated). */
static inline int ag_recv(struct ag *a, char **payload, size_t *len)
{
    uint8_t h[16];
    *payload = NULL;
    *len = 0;
    if (!ag_read_full(a, h, 16) || memcmp(h, "VGA1", 4) != 0) {
        return -1;
    }
    uint32_t n = vg_le32(h + 8);
    char *p = malloc((size_t)n + 1);
    if (!ag_read_full(a, (uint8_t *)p, n) || vg_crc32(0, (uint8_t *)p, n) != vg_le32(h + 12)) {
        free(p);
        return -1;
    }
    p[n] = '\0';
    *payload = p;
    *len = n;
    return h[4];
}

static inline bool ag_hello(struct ag *a, const char *id, const char *spool)
{
    char j[512];
    int n = snprintf(j, sizeof(j),
                     "{\"agent_id\":\"%s\",\"version\":\"0.9.1\",\"hostname\":\"host-a\","
                     "\"os\":\"Debian 12\",\"ips\":[\"10.0.0.5\",\"fe80::1\"],"
                     "\"collectors\":{\"process\":\"proc_connector\",\"fim\":\"inotify\"},"
                     "\"spool_id\":\"%s\",\"next_seq\":1}",
                     id, spool);
    return ag_send(a, 1 /* HELLO */, j, (size_t)n);
}

/* EVENTS first..first+count-1, event i = {"n":i,...}. */
static inline bool ag_events(struct ag *a, uint64_t first, uint32_t count)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    uint8_t h[12];
    put32(h, (uint32_t)first);
    put32(h + 4, (uint32_t)(first >> 32));
    put32(h + 8, count);
    vg_sbuf_add(&b, h, 12);
    for (uint32_t i = 0; i < count; i++) {
        vg_sbuf_printf(&b, "{\"event.module\":\"vigie-agent\",\"process.pid\":%llu}\n",
                       (unsigned long long)(first + i));
    }
    bool ok = ag_send(a, 2 /* EVENTS */, b.p, b.len);
    vg_sbuf_fini(&b);
    return ok;
}

/* Expect an ACK; its sequence or -1. */
static inline long long ag_ack(struct ag *a)
{
    char *p;
    size_t n;
    int t = ag_recv(a, &p, &n);
    long long v = t == 3 && n == 8 ? (long long)vg_le64((const uint8_t *)p) : -1;
    if (v < 0) {
        fprintf(stderr, "  expected ACK, got type %d: %.*s\n", t, (int)n, p ? p : "");
    }
    free(p);
    return v;
}

#endif
