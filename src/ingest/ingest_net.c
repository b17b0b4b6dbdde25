/*
 * ingest_net.c — syslog over UDP, TCP, TLS (RFC 5425) and RELP into the journal.
 *
 * One I/O thread runs an epoll loop over every listening socket and connection. A read
 * yields many messages; they are framed (LF, or octet counting when a frame starts with a
 * digit — RFC 6587), and appended to the journal as one batch. A full journal blocks the
 * append, the loop stops reading, the kernel's receive buffers fill and TCP slows the
 * senders down: back-pressure end to end. UDP cannot be slowed: a datagram that finds the
 * journal over its bound is dropped and counted.
 *
 * RELP (rsyslog's reliable protocol) acknowledges each message: the ack is held until the
 * journal has synced the message (a commit thread syncs every few milliseconds while acks
 * wait, then wakes the loop through an eventfd).
 */
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK  65536
#define UDP_BATCH   64
#define UDP_MAX     65536
#define EV_WAKE_TAG UINTPTR_MAX

struct listener {
    int fd;
    int proto;
    uint32_t input;
    int port;
    uint32_t kdrops; /* UDP: the kernel's drop counter last seen (SO_RXQ_OVFL) */
    SSL_CTX *tls;
    struct vg_net_stats st;
};

struct pending_ack {
    uint64_t txnr;
    uint64_t seq;
};

struct conn {
    int fd;
    struct listener *l;
    SSL *ssl;
    char peer[64];
    char *rbuf;
    size_t rlen, rcap;
    bool skipping;       /* discarding an oversized LF frame up to its newline */
    uint64_t skip_bytes; /* discarding an oversized octet-counted frame */
    struct vg_sbuf out;  /* RELP responses not yet written */
    struct pending_ack *acks;
    size_t nacks, capacks;
    bool closing; /* RELP close received: close once acks are out */
    bool want_write;
};

struct vg_net {
    struct vg_journal *j;
    struct vg_net_opts o;
    struct listener *ls;
    size_t nls;
    int ep;
    int wake; /* eventfd: acks ready or stop */
    pthread_t io, committer;
    bool started;
    atomic_bool stop;
    atomic_uint_fast64_t ack_wanted; /* highest seq a RELP ack waits for */
    struct conn **conns;
    size_t nconns, capconns;
    vg_time_t now;       /* receive time of the batch being built */
    struct vg_rec *recs; /* batch being built */
    size_t nrecs, caprecs;
    char **frame_starts;
    pthread_mutex_t stlock;
};

/* ---------------------------------------------------------------- sockets */

static int parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *len, bool udp)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr) {
        return VG_EINVAL;
    }
    size_t hl = (size_t)(colon - addr);
    if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
        addr++;
        hl -= 2;
    }
    if (hl >= sizeof(host)) {
        return VG_EINVAL;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                             .ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res) != 0 || !res) {
        return VG_EINVAL;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return VG_OK;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t l = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &l) != 0) {
        return -1;
    }
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

static int open_listener(struct listener *l, const struct vg_net_listen *cfg, char *err,
                         size_t errsz)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    bool udp = cfg->proto == VG_NET_UDP;
    if (parse_addr(cfg->addr, &ss, &sl, udp) != VG_OK) {
        snprintf(err, errsz, "%s: not a host:port address", cfg->addr);
        return VG_EINVAL;
    }
    l->fd =
        socket(ss.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1, rcvbuf = 8 << 20;
    if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
        snprintf(err, errsz, "%s: socket: %s", cfg->addr, strerror(errno));
        return VG_EIO;
    }
    if (udp) {
        /* a large receive buffer absorbs bursts; SO_RXQ_OVFL reports what the kernel dropped */
        setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        setsockopt(l->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
    }
    if (bind(l->fd, (struct sockaddr *)&ss, sl) != 0 || (!udp && listen(l->fd, 512) != 0)) {
        snprintf(err, errsz, "%s: cannot listen: %s", cfg->addr, strerror(errno));
        return VG_EIO;
    }
    l->proto = cfg->proto;
    l->input = cfg->input;
    l->port = bound_port(l->fd);
    if (cfg->proto != VG_NET_TLS) {
        return VG_OK;
    }
    l->tls = SSL_CTX_new(TLS_server_method());
    if (!l->tls || !cfg->tls_cert || !cfg->tls_key ||
        SSL_CTX_use_certificate_chain_file(l->tls, cfg->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(l->tls, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(l->tls) != 1) {
        char e[200] = "no certificate/key configured";
        unsigned long code = ERR_get_error();
        if (code) {
            ERR_error_string_n(code, e, sizeof(e));
        }
        snprintf(err, errsz, "%s: TLS: %s", cfg->addr, e);
        return VG_EINVAL;
    }
    SSL_CTX_set_min_proto_version(l->tls, TLS1_2_VERSION);
    return VG_OK;
}

static int ep_add(struct vg_net *net, int fd, void *ptr, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    return epoll_ctl(net->ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? VG_OK : VG_EIO;
}

int vg_net_create(struct vg_journal *j, const struct vg_net_listen *ls, size_t n,
                  const struct vg_net_opts *o, struct vg_net **out, char *err, size_t errsz)
{
    struct vg_net *net = vg_calloc(1, sizeof(*net));
    if (!net) {
        return VG_ENOMEM;
    }
    net->j = j;
    net->o.max_msg = o && o->max_msg ? o->max_msg : 65536;
    net->o.max_conns = o && o->max_conns ? o->max_conns : 4096;
    net->o.sync_interval_ms = o && o->sync_interval_ms ? o->sync_interval_ms : 2;
    net->ep = epoll_create1(EPOLL_CLOEXEC);
    net->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    net->ls = vg_calloc(n ? n : 1, sizeof(*net->ls));
    pthread_mutex_init(&net->stlock, NULL);
    int rc = net->ep < 0 || net->wake < 0 || !net->ls ? VG_EIO : VG_OK;
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        net->ls[i].fd = -1;
        rc = open_listener(&net->ls[i], &ls[i], err, errsz);
        net->nls++;
        if (rc == VG_OK) {
            rc = ep_add(net, net->ls[i].fd, &net->ls[i], EPOLLIN);
        }
    }
    if (rc == VG_OK) {
        rc = ep_add(net, net->wake, (void *)EV_WAKE_TAG, EPOLLIN);
    }
    if (rc != VG_OK) {
        vg_net_destroy(net);
        return rc;
    }
    *out = net;
    return VG_OK;
}

/* ---------------------------------------------------------------- connections */

static void conn_close(struct vg_net *net, struct conn *c)
{
    for (size_t i = 0; i < net->nconns; i++) {
        if (net->conns[i] == c) {
            net->conns[i] = net->conns[--net->nconns];
            break;
        }
    }
    pthread_mutex_lock(&net->stlock);
    c->l->st.conns_open--;
    pthread_mutex_unlock(&net->stlock);
    epoll_ctl(net->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->ssl) {
        SSL_free(c->ssl);
    }
    close(c->fd);
    vg_sbuf_fini(&c->out);
    vg_free(c->acks);
    vg_free(c->rbuf);
    vg_free(c);
}

/* "peer=ADDR:PORT" metadata for a sender's address. */
static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
    }
    snprintf(buf, size, ss->ss_family == AF_INET6 ? "peer=[%s]:%d" : "peer=%s:%d", host, port);
}

static void do_accept(struct vg_net *net, struct listener *l)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }
        struct conn *c = net->nconns < net->o.max_conns ? vg_calloc(1, sizeof(*c)) : NULL;
        if (!c ||
            vg_grow(&net->conns, &net->capconns, net->nconns + 1, sizeof(*net->conns)) != VG_OK) {
            vg_free(c);
            close(fd);
            pthread_mutex_lock(&net->stlock);
            l->st.conns_refused++;
            pthread_mutex_unlock(&net->stlock);
            continue;
        }
        c->fd = fd;
        c->l = l;
        format_peer(&ss, c->peer, sizeof(c->peer));
        if (l->tls) {
            c->ssl = SSL_new(l->tls);
            if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
                if (c->ssl) {
                    SSL_free(c->ssl);
                }
                close(fd);
                vg_free(c);
                continue;
            }
            SSL_set_accept_state(c->ssl);
        }
        net->conns[net->nconns++] = c;
        pthread_mutex_lock(&net->stlock);
        l->st.conns_open++;
        l->st.conns_total++;
        pthread_mutex_unlock(&net->stlock);
        ep_add(net, fd, c, EPOLLIN | EPOLLRDHUP);
    }
}

/* ---------------------------------------------------------------- framing */

static int add_rec_meta(struct vg_net *net, uint32_t input, const char *p, size_t n,
                        const char *meta)
{
    if (vg_grow(&net->recs, &net->caprecs, net->nrecs + 1, sizeof(*net->recs)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct vg_rec *r = &net->recs[net->nrecs++];
    r->data = p;
    r->len = (uint32_t)n;
    r->input = input;
    r->recv_ts = net->now;
    r->meta = meta;
    r->meta_len = (uint32_t)strlen(meta);
    return VG_OK;
}

static int add_rec(struct vg_net *net, struct conn *c, const char *p, size_t n)
{
    return add_rec_meta(net, c->l->input, p, n, c->peer);
}

static void count_rejected(struct vg_net *net, struct conn *c)
{
    pthread_mutex_lock(&net->stlock);
    c->l->st.rejected++;
    pthread_mutex_unlock(&net->stlock);
}

/*
 * Split c->rbuf into syslog messages (RFC 6587): a frame starting with a digit is octet
 * counted ("LEN SP MSG"), anything else ends at LF. Returns the bytes consumed.
 */
static size_t frame_syslog(struct vg_net *net, struct conn *c)
{
    size_t i = 0, n = c->rlen;
    const char *b = c->rbuf;
    while (i < n) {
        if (c->skip_bytes) {
            size_t k = VG_MIN((uint64_t)(n - i), c->skip_bytes);
            i += k;
            c->skip_bytes -= k;
            continue;
        }
        if (c->skipping) {
            const char *nl = memchr(b + i, '\n', n - i);
            if (!nl) {
                return n;
            }
            i = (size_t)(nl - b) + 1;
            c->skipping = false;
            continue;
        }
        if (b[i] == '\n' || b[i] == '\r' || b[i] == '\0') {
            i++;
            continue;
        }
        if (b[i] >= '1' && b[i] <= '9') {
            size_t k = i;
            uint64_t len = 0;
            while (k < n && k - i < 10 && b[k] >= '0' && b[k] <= '9') {
                len = len * 10 + (uint64_t)(b[k] - '0');
                k++;
            }
            if (k < n && b[k] == ' ') {
                if (len > net->o.max_msg) {
                    count_rejected(net, c);
                    c->skip_bytes = len;
                    i = k + 1;
                    continue;
                }
                if (n - (k + 1) < len) {
                    return i; /* wait for the rest of the frame */
                }
                add_rec(net, c, b + k + 1, (size_t)len);
                i = k + 1 + (size_t)len;
                continue;
            }
            if (k >= n && k - i < 10) {
                return i; /* the count itself is incomplete */
            }
        }
        const char *nl = memchr(b + i, '\n', n - i);
        if (!nl) {
            if (n - i > net->o.max_msg) {
                count_rejected(net, c);
                c->skipping = true;
                return n;
            }
            return i;
        }
        size_t len = (size_t)(nl - (b + i));
        if (len && b[i + len - 1] == '\r') {
            len--;
        }
        if (len > net->o.max_msg) {
            count_rejected(net, c);
        } else {
            add_rec(net, c, b + i, len);
        }
        i = (size_t)(nl - b) + 1;
    }
    return i;
}

static void relp_respond(struct conn *c, uint64_t txnr, const char *msg)
{
    vg_sbuf_printf(&c->out, "%llu rsp %zu %s\n", (unsigned long long)txnr, strlen(msg), msg);
    c->want_write = true;
}

/* RELP frames: "TXNR SP COMMAND SP DATALEN [SP DATA] LF". Returns the bytes consumed. */
static size_t frame_relp(struct vg_net *net, struct conn *c, uint64_t **txnrs, size_t *ntx,
                         size_t *captx)
{
    size_t i = 0, n = c->rlen;
    const char *b = c->rbuf;
    while (i < n) {
        size_t k = i;
        uint64_t txnr = 0, len = 0;
        while (k < n && b[k] >= '0' && b[k] <= '9' && k - i < 10) {
            txnr = txnr * 10 + (uint64_t)(b[k++] - '0');
        }
        if (k >= n) {
            return i;
        }
        if (b[k] != ' ' || k == i) {
            goto bad;
        }
        size_t cs = ++k;
        while (k < n && b[k] != ' ' && k - cs < 32) {
            k++;
        }
        if (k >= n) {
            return i;
        }
        size_t cl = k - cs, ds = ++k;
        while (k < n && b[k] >= '0' && b[k] <= '9' && k - ds < 10) {
            len = len * 10 + (uint64_t)(b[k++] - '0');
        }
        if (k >= n) {
            return i;
        }
        if (k == ds || len > net->o.max_msg + 64) {
            goto bad;
        }
        size_t data = k + (len ? 1 : 0);
        if (n < data + len + 1) {
            return i; /* frame incomplete */
        }
        if ((len && b[k] != ' ') || b[data + len] != '\n') {
            goto bad;
        }
        const char *cmd = b + cs;
        if (cl == 6 && !memcmp(cmd, "syslog", 6)) {
            if (vg_grow(txnrs, captx, *ntx + 1, sizeof(**txnrs)) == VG_OK) {
                (*txnrs)[(*ntx)++] = txnr;
                add_rec(net, c, b + data, (size_t)len);
            }
        } else if (cl == 4 && !memcmp(cmd, "open", 4)) {
            relp_respond(c, txnr, "200 OK\nrelp_version=0\nrelp_software=vigie\ncommands=syslog");
        } else if (cl == 5 && !memcmp(cmd, "close", 5)) {
            relp_respond(c, txnr, "");
            c->closing = true;
        } else {
            relp_respond(c, txnr, "500 unknown command");
        }
        i = data + len + 1;
    }
    return i;
bad:
    count_rejected(net, c);
    c->closing = true; /* a broken RELP stream cannot be resynchronised */
    return n;
}

/* ---------------------------------------------------------------- reading */

static ssize_t conn_read(struct conn *c, char *p, size_t n)
{
    if (!c->ssl) {
        return read(c->fd, p, n);
    }
    int r = SSL_read(c->ssl, p, (int)VG_MIN(n, (size_t)INT32_MAX));
    if (r > 0) {
        return r;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    return e == SSL_ERROR_ZERO_RETURN ? 0 : (errno = EPROTO, -1);
}

static ssize_t conn_write(struct conn *c, const char *p, size_t n)
{
    if (!c->ssl) {
        return write(c->fd, p, n);
    }
    int w = SSL_write(c->ssl, p, (int)VG_MIN(n, (size_t)INT32_MAX));
    return w > 0 ? w : -1;
}

static void flush_out(struct vg_net *net, struct conn *c)
{
    while (c->out.len) {
        ssize_t w = conn_write(c, c->out.p, c->out.len);
        if (w <= 0) {
            break;
        }
        memmove(c->out.p, c->out.p + w, c->out.len - (size_t)w);
        c->out.len -= (size_t)w;
    }
    bool need = c->out.len > 0;
    if (need != c->want_write) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (need ? EPOLLOUT : 0),
                                 .data.ptr = c};
        epoll_ctl(net->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_write = need;
    }
}

/* Append the batch; remember RELP acks by sequence number. */
static int commit_batch(struct vg_net *net, struct conn *c, const uint64_t *txnrs, size_t ntx)
{
    if (!net->nrecs) {
        return VG_OK;
    }
    uint64_t last = 0;
    int rc, wait = VG_JOURNAL_NOWAIT;
    useconds_t pause = 1000;
    /*
     * Over the journal's bound or out of disk: hold this batch and stop reading (the kernel's
     * buffers fill and TCP slows the sender). At shutdown the batch already taken from the
     * sender is appended over the bound rather than lost.
     */
    while ((rc = vg_journal_append(net->j, net->recs, net->nrecs, wait, &last)) != VG_OK) {
        if (rc != VG_AGAIN && rc != VG_ENOSPC) {
            return rc;
        }
        if (atomic_load(&net->stop)) {
            if (rc == VG_ENOSPC) {
                VG_ERR("net", "%zu records from %s not journaled: disk full at shutdown",
                       net->nrecs, c->peer);
                return rc;
            }
            wait = VG_JOURNAL_FORCE;
            continue;
        }
        if (pause == 1000) {
            pthread_mutex_lock(&net->stlock);
            c->l->st.stalls++;
            pthread_mutex_unlock(&net->stlock);
        }
        usleep(pause);
        pause = VG_MIN(pause * 2, 50000);
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < net->nrecs; i++) {
        bytes += net->recs[i].len;
    }
    pthread_mutex_lock(&net->stlock);
    c->l->st.messages += net->nrecs;
    c->l->st.bytes += bytes;
    pthread_mutex_unlock(&net->stlock);
    uint64_t first = last - net->nrecs + 1;
    for (size_t i = 0; i < ntx; i++) {
        if (vg_grow(&c->acks, &c->capacks, c->nacks + 1, sizeof(*c->acks)) == VG_OK) {
            c->acks[c->nacks].txnr = txnrs[i];
            c->acks[c->nacks].seq = first + i;
            c->nacks++;
        }
    }
    if (ntx) {
        uint64_t want = atomic_load(&net->ack_wanted);
        while (want < last && !atomic_compare_exchange_weak(&net->ack_wanted, &want, last)) {
        }
    }
    net->nrecs = 0;
    return VG_OK;
}

static void do_read(struct vg_net *net, struct conn *c)
{
    uint64_t *txnrs = NULL;
    size_t ntx = 0, captx = 0;
    for (;;) {
        if (c->rcap - c->rlen < READ_CHUNK) {
            size_t cap = c->rcap;
            if (vg_grow(&c->rbuf, &cap, c->rlen + READ_CHUNK, 1) != VG_OK) {
                break;
            }
            c->rcap = cap;
        }
        ssize_t r = conn_read(c, c->rbuf + c->rlen, c->rcap - c->rlen);
        if (r <= 0) {
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                if (c->ssl && !SSL_is_init_finished(c->ssl)) {
                    pthread_mutex_lock(&net->stlock);
                    c->l->st.conns_refused++; /* TLS handshake failed */
                    pthread_mutex_unlock(&net->stlock);
                }
                c->closing = true;
                c->out.len = c->l->proto == VG_NET_RELP ? c->out.len : 0;
            }
            break;
        }
        c->rlen += (size_t)r;
        net->nrecs = 0;
        net->now = vg_time_now();
        ntx = 0;
        size_t used = c->l->proto == VG_NET_RELP ? frame_relp(net, c, &txnrs, &ntx, &captx)
                                                 : frame_syslog(net, c);
        commit_batch(net, c, txnrs, ntx);
        memmove(c->rbuf, c->rbuf + used, c->rlen - used);
        c->rlen -= used;
        if (c->closing) {
            break;
        }
    }
    vg_free(txnrs);
    flush_out(net, c);
    if (c->closing && !c->nacks && !c->out.len) {
        conn_close(net, c);
    }
}

static void do_udp(struct vg_net *net, struct listener *l)
{
    static _Thread_local char bufs[UDP_BATCH][UDP_MAX];
    static _Thread_local char ctl[UDP_BATCH][CMSG_SPACE(sizeof(uint32_t))];
    static _Thread_local char peers[UDP_BATCH][64];
    struct sockaddr_storage from[UDP_BATCH];
    struct mmsghdr msgs[UDP_BATCH];
    struct iovec iov[UDP_BATCH];
    for (;;) {
        for (int i = 0; i < UDP_BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = UDP_MAX;
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
            msgs[i].msg_hdr.msg_control = ctl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
        }
        int n = recvmmsg(l->fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            return;
        }
        uint64_t kdropped = 0;
        for (int i = 0; i < n; i++) {
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
                 cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
                    uint32_t v;
                    memcpy(&v, CMSG_DATA(cm), sizeof(v));
                    kdropped += (uint32_t)(v - l->kdrops); /* the counter wraps */
                    l->kdrops = v;
                }
            }
        }
        net->nrecs = 0;
        net->now = vg_time_now();
        uint64_t rejected = 0;
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len;
            while (len && (bufs[i][len - 1] == '\n' || bufs[i][len - 1] == '\0')) {
                len--;
            }
            if (len > net->o.max_msg || (msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
                rejected++;
            } else if (len) {
                format_peer(&from[i], peers[i], sizeof(peers[i]));
                add_rec_meta(net, l->input, bufs[i], len, peers[i]);
            }
        }
        uint64_t last;
        int rc = vg_journal_append(net->j, net->recs, net->nrecs, VG_JOURNAL_NOWAIT, &last);
        pthread_mutex_lock(&net->stlock);
        l->st.dropped += kdropped;
        l->st.rejected += rejected;
        if (rc == VG_OK) {
            l->st.messages += net->nrecs;
            for (size_t i = 0; i < net->nrecs; i++) {
                l->st.bytes += net->recs[i].len;
            }
        } else {
            l->st.dropped += net->nrecs;
        }
        pthread_mutex_unlock(&net->stlock);
        net->nrecs = 0;
    }
}

/* ---------------------------------------------------------------- acks */

static void send_acks(struct vg_net *net)
{
    uint64_t durable = vg_journal_durable_seq(net->j);
    for (size_t i = 0; i < net->nconns; i++) {
        struct conn *c = net->conns[i];
        size_t k = 0;
        while (k < c->nacks && c->acks[k].seq <= durable) {
            relp_respond(c, c->acks[k].txnr, "200 OK");
            k++;
        }
        if (!k) {
            continue;
        }
        memmove(c->acks, c->acks + k, (c->nacks - k) * sizeof(*c->acks));
        c->nacks -= k;
        pthread_mutex_lock(&net->stlock);
        c->l->st.acks += k;
        pthread_mutex_unlock(&net->stlock);
        flush_out(net, c);
        if (c->closing && !c->nacks && !c->out.len) {
            conn_close(net, c);
            i--;
        }
    }
}

/* Group commit for RELP: sync the journal while acks wait, then wake the I/O loop. */
static void *committer_main(void *arg)
{
    struct vg_net *net = arg;
    uint64_t woken = 0; /* acks up to this seq were signalled to the I/O loop */
    while (!atomic_load(&net->stop)) {
        uint64_t want = atomic_load(&net->ack_wanted);
        /*
         * Another thread (the pipeline, the HTTP ingest) may have made the records durable
         * already: the I/O loop must be woken all the same, or the acks wait forever.
         */
        if (want > woken &&
            (vg_journal_durable_seq(net->j) >= want || vg_journal_sync(net->j, want) == VG_OK)) {
            uint64_t one = 1;
            ssize_t w = write(net->wake, &one, sizeof(one));
            VG_UNUSED(w);
            woken = want;
        }
        usleep((useconds_t)net->o.sync_interval_ms * 1000);
    }
    return NULL;
}

static void *io_main(void *arg)
{
    struct vg_net *net = arg;
    struct epoll_event evs[128];
    while (!atomic_load(&net->stop)) {
        int n = epoll_wait(net->ep, evs, 128, 200);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == (void *)EV_WAKE_TAG) {
                uint64_t v;
                ssize_t r = read(net->wake, &v, sizeof(v));
                VG_UNUSED(r);
                send_acks(net);
                continue;
            }
            bool is_listener = false;
            for (size_t k = 0; k < net->nls; k++) {
                if (p == &net->ls[k]) {
                    is_listener = true;
                    if (net->ls[k].proto == VG_NET_UDP) {
                        do_udp(net, &net->ls[k]);
                    } else {
                        do_accept(net, &net->ls[k]);
                    }
                }
            }
            if (is_listener) {
                continue;
            }
            struct conn *c = p;
            if (evs[i].events & EPOLLOUT) {
                flush_out(net, c);
            }
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
                do_read(net, c);
            }
        }
    }
    return NULL;
}

int vg_net_start(struct vg_net *net)
{
    if (pthread_create(&net->io, NULL, io_main, net) != 0) {
        return VG_ERROR;
    }
    if (pthread_create(&net->committer, NULL, committer_main, net) != 0) {
        atomic_store(&net->stop, true);
        pthread_join(net->io, NULL);
        return VG_ERROR;
    }
    net->started = true;
    return VG_OK;
}

void vg_net_stop(struct vg_net *net)
{
    if (!net || !net->started) {
        return;
    }
    atomic_store(&net->stop, true);
    uint64_t one = 1;
    ssize_t w = write(net->wake, &one, sizeof(one));
    VG_UNUSED(w);
    pthread_join(net->io, NULL);
    pthread_join(net->committer, NULL);
    net->started = false;
}

void vg_net_destroy(struct vg_net *net)
{
    if (!net) {
        return;
    }
    vg_net_stop(net);
    while (net->nconns) {
        conn_close(net, net->conns[net->nconns - 1]);
    }
    for (size_t i = 0; i < net->nls; i++) {
        if (net->ls[i].fd >= 0) {
            close(net->ls[i].fd);
        }
        if (net->ls[i].tls) {
            SSL_CTX_free(net->ls[i].tls);
        }
    }
    if (net->ep >= 0) {
        close(net->ep);
    }
    if (net->wake >= 0) {
        close(net->wake);
    }
    pthread_mutex_destroy(&net->stlock);
    vg_free(net->conns);
    vg_free(net->recs);
    vg_free(net->ls);
    vg_free(net);
}

void vg_net_stats(const struct vg_net *net, size_t listener, struct vg_net_stats *out)
{
    struct vg_net *m = (struct vg_net *)net;
    pthread_mutex_lock(&m->stlock);
    *out = listener < net->nls ? net->ls[listener].st : (struct vg_net_stats){0};
    pthread_mutex_unlock(&m->stlock);
}

int vg_net_port(const struct vg_net *net, size_t listener)
{
    return listener < net->nls ? net->ls[listener].port : -1;
}
