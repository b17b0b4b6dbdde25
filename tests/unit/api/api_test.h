/*
 * api_test.h — helpers shared by the API tests: a small HTTP/1.1 client over a real socket
 * on 127.0.0.1 (keep-alive, Content-Length and chunked bodies, optional TLS with OpenSSL)
 * and a rig that starts a vg_api (with a journal for the ingest endpoints) in a mkdtemp
 * directory.
 */
#ifndef VG_API_TEST_H
#define VG_API_TEST_H

#include "api/api.h"
#include "ingest/ingest.h"
#include "vgcert.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- client */

struct hc {
    int fd;
    int port;
    SSL_CTX *ctx;
    SSL *ssl;
    bool tls;
};

struct hresp {
    int status;
    char head[16384]; /* status line and headers, NUL-terminated */
    char *body;       /* malloc'ed, NUL-terminated */
    size_t body_len;
    bool closed; /* the server closes the connection after this response */
};

static inline void hresp_free(struct hresp *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

static inline void hc_close(struct hc *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
}

static inline bool hc_open(struct hc *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 60};
    int one = 1;
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        hc_close(c);
        return false;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (c->tls) {
        if (!c->ctx) {
            c->ctx = SSL_CTX_new(TLS_client_method());
        }
        c->ssl = c->ctx ? SSL_new(c->ctx) : NULL;
        if (!c->ssl || !SSL_set_fd(c->ssl, c->fd) || SSL_connect(c->ssl) != 1) {
            hc_close(c);
            return false;
        }
    }
    return true;
}

static inline void hc_init(struct hc *c, int port, bool tls)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->port = port;
    c->tls = tls;
}

static inline void hc_fini(struct hc *c)
{
    hc_close(c);
    if (c->ctx) {
        SSL_CTX_free(c->ctx);
        c->ctx = NULL;
    }
}

static inline ssize_t hc_write(struct hc *c, const char *p, size_t n)
{
    return c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
}

static inline ssize_t hc_read(struct hc *c, char *p, size_t n)
{
    return c->ssl ? SSL_read(c->ssl, p, (int)n) : recv(c->fd, p, n, 0);
}

static inline bool hc_send(struct hc *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = hc_write(c, p, n);
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* The value of header name in r (copied into buf), or NULL. */
static inline const char *hr_header(const struct hresp *r, const char *name, char *buf, size_t size)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (!strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            v += strspn(v, " ");
            const char *e = strstr(v, "\r\n");
            size_t vl = e ? (size_t)(e - v) : strlen(v);
            snprintf(buf, size, "%.*s", (int)vl, v);
            return buf;
        }
    }
    return NULL;
}

/* Read from c into a growing buffer until cond says enough (or EOF). */
struct rbuf_t {
    char *p;
    size_t len, cap;
};

static inline bool rb_fill(struct hc *c, struct rbuf_t *b)
{
    if (b->len + 65536 + 1 > b->cap) {
        b->cap = (b->len + 65536 + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    ssize_t n = hc_read(c, b->p + b->len, 65536);
    if (n <= 0) {
        return false;
    }
    b->len += (size_t)n;
    b->p[b->len] = '\0';
    return true;
}

static inline bool hc_read_resp(struct hc *c, struct hresp *r, bool head_only)
{
    struct rbuf_t b = {0};
    char *end = NULL, v[64];
    hresp_free(r);
    while (!(end = b.p ? strstr(b.p, "\r\n\r\n") : NULL)) {
        if (!rb_fill(c, &b)) {
            free(b.p);
            return false;
        }
    }
    size_t hl = (size_t)(end - b.p) + 4;
    snprintf(r->head, sizeof(r->head), "%.*s", (int)hl, b.p);
    r->status = (int)strtol(b.p + 9, NULL, 10);
    const char *conn = hr_header(r, "Connection", v, sizeof(v));
    r->closed = conn && !strcasecmp(conn, "close");
    const char *cl = hr_header(r, "Content-Length", v, sizeof(v));
    const char *te = hr_header(r, "Transfer-Encoding", v, sizeof(v));
    size_t want = cl ? (size_t)strtoull(cl, NULL, 10) : 0;
    if (head_only) {
        want = 0;
    } else if (te && !strcasecmp(te, "chunked")) {
        /* decode chunks in place */
        struct rbuf_t out = {0};
        size_t pos = hl;
        for (;;) {
            char *crlf;
            while (!(crlf = strstr(b.p + pos, "\r\n")) && rb_fill(c, &b)) {
            }
            if (!crlf) {
                break;
            }
            size_t n = (size_t)strtoull(b.p + pos, NULL, 16);
            pos = (size_t)(crlf - b.p) + 2;
            while (b.len < pos + n + 2 && rb_fill(c, &b)) {
            }
            if (!n) {
                break;
            }
            out.p = realloc(out.p, out.len + n + 1);
            memcpy(out.p + out.len, b.p + pos, n);
            out.len += n;
            pos += n + 2;
        }
        r->body = out.p ? out.p : calloc(1, 1);
        r->body[out.len] = '\0';
        r->body_len = out.len;
        free(b.p);
        return true;
    } else if (!cl) {
        while (rb_fill(c, &b)) { /* until the server closes */
        }
        want = b.len - hl;
        r->closed = true;
    }
    while (b.len < hl + want && rb_fill(c, &b)) {
    }
    want = VG_MIN(want, b.len - hl);
    r->body = malloc(want + 1);
    memcpy(r->body, b.p + hl, want);
    r->body[want] = '\0';
    r->body_len = want;
    free(b.p);
    return true;
}

/*
 * One request on c (connecting when needed). hdrs: extra header lines, each ending in
 * "\r\n". Content-Length is added when body is not NULL. Returns the status or -1.
 */
static inline int hc_req(struct hc *c, const char *method, const char *path, const char *hdrs,
                         const char *body, size_t blen, struct hresp *r)
{
    char head[8192];
    hresp_free(r);
    r->status = -1;
    if (c->fd < 0 && !hc_open(c)) {
        return -1;
    }
    int n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", method, path,
                     hdrs ? hdrs : "");
    if (body) {
        n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n", blen);
    }
    n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
    bool ok = hc_send(c, head, (size_t)n) && (!body || !blen || hc_send(c, body, blen));
    ok = hc_read_resp(c, r, !strcmp(method, "HEAD")) && ok;
    if (!ok || r->closed) {
        hc_close(c);
    }
    return ok ? r->status : (r->status > 0 ? r->status : -1);
}

/* One request on a fresh connection. */
static inline int http1(int port, const char *method, const char *path, const char *hdrs,
                        const char *body, struct hresp *r)
{
    struct hc c;
    hc_init(&c, port, false);
    int st = hc_req(&c, method, path, hdrs, body, body ? strlen(body) : 0, r);
    hc_fini(&c);
    return st;
}

/* ---------------------------------------------------------------- rig */

struct rig {
    char dir[64];
    struct vg_api *api;
    struct vg_journal *j;
    int port;
};

static inline bool rig_open(struct rig *r, const struct vg_api_opts *opts,
                            const struct vg_api_ingest_opts *io, uint64_t max_lag, bool sync)
{
    char err[512];
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/vg-api-XXXXXX");
    if (!mkdtemp(r->dir)) {
        return false;
    }
    struct vg_api_opts o = opts ? *opts : (struct vg_api_opts){0};
    o.listen = o.listen ? o.listen : "127.0.0.1:0";
    o.data_dir = r->dir;
    if (vg_api_create(&o, &r->api, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  api: %s\n", err);
        return false;
    }
    if (io) {
        char jdir[128];
        snprintf(jdir, sizeof(jdir), "%s/journal", r->dir);
        struct vg_journal_opts jo = {.max_lag_bytes = max_lag, .sync = sync};
        if (vg_journal_open(jdir, &jo, &r->j, err, sizeof(err)) != VG_OK ||
            vg_api_ingest_register(r->api, r->j, io) != VG_OK) {
            fprintf(stderr, "  journal: %s\n", err);
            return false;
        }
    }
    r->port = vg_api_port(r->api);
    return true;
}

static inline bool rig_start(struct rig *r)
{
    char err[256];
    if (vg_api_start(r->api, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  start: %s\n", err);
        return false;
    }
    return true;
}

static inline void rig_close(struct rig *r)
{
    vg_api_destroy(r->api);
    vg_journal_close(r->j);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", r->dir);
    }
}

/* A token for the rig's server ("Authorization: Bearer ...\r\n" in hdr). */
static inline bool rig_token(struct rig *r, const char *name, int role, const char *tenant,
                             char *hdr, size_t size)
{
    char tok[VG_API_TOKEN_SIZE];
    if (vg_api_token_create(vg_api_get_auth(r->api), name, role, tenant, VG_TIME_NONE, tok,
                            sizeof(tok)) != VG_OK) {
        return false;
    }
    snprintf(hdr, size, "Authorization: Bearer %s\r\n", tok);
    return true;
}

#endif
