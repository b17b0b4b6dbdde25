/*
 * test_net.c — syslog inputs on loopback: LF and octet-counted framing over TCP (including
 * frames split at every byte), oversized frames, UDP with its drop counter, TLS with a
 * certificate made here, RELP acknowledgements only after the journal synced, and
 * back-pressure that holds a TCP sender instead of losing its data.
 */
#include "ingest/ingest.h"
#include "vgcert.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

struct rig {
    char dir[64];
    struct vg_journal *j;
    struct vg_net *net;
    uint64_t read_seq; /* last record collected */
};

enum { L_UDP, L_TCP, L_RELP, L_TLS };

static bool rig_open(struct rig *r, uint64_t max_lag, size_t max_msg)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/vg-net-XXXXXX");
    if (!mkdtemp(r->dir)) {
        return false;
    }
    char err[256], cert[128], key[128];
    struct vg_journal_opts jo = {.max_lag_bytes = max_lag, .sync = true};
    if (vg_journal_open(r->dir, &jo, &r->j, err, sizeof(err)) != VG_OK ||
        !write_test_cert(r->dir, cert, key, sizeof(cert))) {
        return false;
    }
    struct vg_net_listen ls[] = {
        {.proto = VG_NET_UDP, .addr = "127.0.0.1:0", .input = 1},
        {.proto = VG_NET_TCP, .addr = "127.0.0.1:0", .input = 2},
        {.proto = VG_NET_RELP, .addr = "127.0.0.1:0", .input = 3},
        {.proto = VG_NET_TLS, .addr = "127.0.0.1:0", .input = 4, .tls_cert = cert, .tls_key = key},
    };
    struct vg_net_opts no = {.max_msg = max_msg};
    if (vg_net_create(r->j, ls, 4, &no, &r->net, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return false;
    }
    return vg_net_start(r->net) == VG_OK;
}

static void rig_close(struct rig *r)
{
    vg_net_destroy(r->net);
    vg_journal_close(r->j);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", r->dir);
    }
}

/* Collect up to n records (waiting up to ~3 s for them) into a "\n"-joined string. */
static size_t collect(struct rig *r, size_t n, struct vg_sbuf *out, uint32_t *input)
{
    struct vg_journal_reader *rd = vg_journal_reader_open(r->j, r->read_seq);
    size_t got = 0;
    struct vg_rec rec;
    uint64_t seq;
    while (got < n && vg_journal_next(rd, &rec, &seq, 3000) == VG_OK) {
        vg_sbuf_add(out, rec.data, rec.len);
        vg_sbuf_add(out, "\n", 1);
        if (input) {
            *input = rec.input;
        }
        r->read_seq = seq;
        got++;
    }
    vg_journal_reader_close(rd);
    vg_journal_release(r->j, r->read_seq);
    return got;
}

static int connect_to(int port, bool udp)
{
    int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    if (!udp) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

#define SEND(fd, s) CHECK(send_all((fd), (s), strlen(s)))

VG_TEST(tcp_lf_and_octet_counting)
{
    struct rig r;
    if (!rig_open(&r, 0, 100)) {
        CHECK(!"rig");
        return;
    }
    int fd = connect_to(vg_net_port(r.net, L_TCP), false);
    CHECK(fd >= 0);
    SEND(fd, "<13>first line\n<13>second\r\n\n");
    SEND(fd, "<13>split ");
    usleep(20000);
    SEND(fd, "line\n");
    SEND(fd, "11 <13>counted"); /* octet counting: no LF needed */
    SEND(fd, "1");              /* a count split across writes */
    usleep(20000);
    SEND(fd, "4 <13>multi\nline"); /* LF inside a counted frame is data */
    SEND(fd, "<13>after\n");
    struct vg_sbuf got = {0};
    uint32_t input = 0;
    CHECK_EQ_INT(collect(&r, 5, &got, &input), 5);
    CHECK_MEM(got.p, got.len,
              "<13>first line\n<13>second\n<13>split line\n<13>counted\n<13>multi\nline\n");
    CHECK_EQ_INT(input, 2);
    got.len = 0;
    CHECK_EQ_INT(collect(&r, 1, &got, NULL), 1);
    CHECK_MEM(got.p, got.len, "<13>after\n");
    /* the peer address travels with each record */
    struct vg_journal_reader *rd = vg_journal_reader_open(r.j, 0);
    struct vg_rec rec;
    uint64_t seq;
    CHECK(vg_journal_next(rd, &rec, &seq, 1000) == VG_OK);
    size_t pl = 0;
    const char *peer = vg_rec_meta(&rec, "peer", &pl);
    CHECK(peer && pl > 10 && !memcmp(peer, "127.0.0.1:", 10));
    vg_journal_reader_close(rd);
    close(fd);
    vg_sbuf_fini(&got);
    rig_close(&r);
}

VG_TEST(tcp_every_split_point)
{
    struct rig r;
    if (!rig_open(&r, 0, 0)) {
        CHECK(!"rig");
        return;
    }
    struct vg_sbuf stream = {0}, want = {0}, got = {0};
    for (int i = 0; i < 60; i++) {
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "<14>message number %d", i);
        if (i % 2) {
            vg_sbuf_printf(&stream, "%d %s", n, msg);
        } else {
            vg_sbuf_printf(&stream, "%s\n", msg);
        }
        vg_sbuf_printf(&want, "%s\n", msg);
    }
    int fd = connect_to(vg_net_port(r.net, L_TCP), false);
    for (size_t i = 0; i < stream.len; i++) {
        CHECK(send_all(fd, stream.p + i, 1));
        if (i % 97 == 0) {
            usleep(1000); /* let some reads see a single byte */
        }
    }
    CHECK_EQ_INT(collect(&r, 60, &got, NULL), 60);
    CHECK_MEM(got.p, got.len, want.p);
    close(fd);
    vg_sbuf_fini(&stream);
    vg_sbuf_fini(&want);
    vg_sbuf_fini(&got);
    rig_close(&r);
}

/* Counters are updated just after the append a reader may already have seen: poll them. */
#define WAIT_STATS(r, l, st, cond)                                                                 \
    do {                                                                                           \
        for (int t_ = 0; t_ < 300; t_++) {                                                         \
            vg_net_stats((r)->net, (l), &(st));                                                    \
            if (cond) {                                                                            \
                break;                                                                             \
            }                                                                                      \
            usleep(10000);                                                                         \
        }                                                                                          \
    } while (0)

VG_TEST(oversized_frames_are_rejected_and_counted)
{
    struct rig r;
    if (!rig_open(&r, 0, 100)) {
        CHECK(!"rig");
        return;
    }
    int fd = connect_to(vg_net_port(r.net, L_TCP), false);
    char big[400];
    memset(big, 'x', sizeof(big));
    CHECK(send_all(fd, big, sizeof(big))); /* a 400-byte LF frame, in two writes */
    CHECK(send_all(fd, big, sizeof(big)));
    SEND(fd, "\n<13>ok one\n");
    SEND(fd, "150 "); /* a counted frame over the limit is skipped */
    CHECK(send_all(fd, big, 150));
    SEND(fd, "10 <13>ok two");
    struct vg_sbuf got = {0};
    CHECK_EQ_INT(collect(&r, 2, &got, NULL), 2);
    CHECK_MEM(got.p, got.len, "<13>ok one\n<13>ok two\n");
    struct vg_net_stats st;
    WAIT_STATS(&r, L_TCP, st, st.messages == 2);
    CHECK_EQ_INT(st.rejected, 2);
    CHECK_EQ_INT(st.messages, 2);
    close(fd);
    vg_sbuf_fini(&got);
    rig_close(&r);
}

VG_TEST(udp_datagrams)
{
    struct rig r;
    if (!rig_open(&r, 0, 0)) {
        CHECK(!"rig");
        return;
    }
    int fd = connect_to(vg_net_port(r.net, L_UDP), true);
    for (int i = 0; i < 500; i++) {
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "<13>udp %d\n", i);
        CHECK(send(fd, msg, (size_t)n, 0) == n);
        if (i % 50 == 0) {
            usleep(1000);
        }
    }
    struct vg_sbuf got = {0};
    size_t n = collect(&r, 500, &got, NULL);
    struct vg_net_stats st;
    WAIT_STATS(&r, L_UDP, st, st.messages + st.dropped >= 500);
    /* loopback with an 8 MiB buffer loses nothing; what it might lose is counted */
    CHECK_EQ_INT(n + st.dropped, 500);
    CHECK_EQ_INT(st.messages, n);
    CHECK(n > 0 && !memcmp(got.p, "<13>udp 0\n", 10)); /* trailing LF stripped */
    close(fd);
    vg_sbuf_fini(&got);
    rig_close(&r);
}

VG_TEST(udp_drops_when_journal_is_over_its_bound)
{
    struct rig r;
    if (!rig_open(&r, 1000, 0)) { /* a tiny bound, and nobody releases */
        CHECK(!"rig");
        return;
    }
    int fd = connect_to(vg_net_port(r.net, L_UDP), true);
    char msg[200];
    memset(msg, 'u', sizeof(msg));
    for (int i = 0; i < 100; i++) {
        CHECK(send(fd, msg, sizeof(msg), 0) == (ssize_t)sizeof(msg));
        usleep(200);
    }
    struct vg_net_stats st = {0};
    for (int t = 0; t < 300 && st.messages + st.dropped < 100; t++) {
        usleep(10000);
        vg_net_stats(r.net, L_UDP, &st);
    }
    CHECK_EQ_INT(st.messages + st.dropped, 100);
    CHECK(st.dropped > 0);
    CHECK(st.messages > 0 && st.messages < 100);
    close(fd);
    rig_close(&r);
}

/* Read RELP responses until `want` "200 OK" acks arrived; returns how many did. */
static int relp_read_acks(int fd, int want, uint64_t *max_txnr)
{
    char buf[65536];
    size_t len = 0;
    int acks = 0;
    while (acks < want) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 3000) <= 0) {
            break;
        }
        ssize_t n = recv(fd, buf + len, sizeof(buf) - len - 1, 0);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
        buf[len] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            unsigned long long tx;
            int off = 0;
            if (sscanf(line, "%llu rsp 6 200 OK%n", &tx, &off) == 1 && off > 0) {
                acks++;
                *max_txnr = tx > *max_txnr ? tx : *max_txnr;
            }
            line = nl + 1;
        }
        len = strlen(line);
        memmove(buf, line, len);
    }
    return acks;
}

VG_TEST(relp_acks_after_sync)
{
    struct rig r;
    if (!rig_open(&r, 0, 0)) {
        CHECK(!"rig");
        return;
    }
    int fd = connect_to(vg_net_port(r.net, L_RELP), false);
    const char *offer = "relp_version=0\nrelp_software=test\ncommands=syslog";
    char frame[256];
    int n = snprintf(frame, sizeof(frame), "1 open %zu %s\n", strlen(offer), offer);
    CHECK(send_all(fd, frame, (size_t)n));
    char rsp[256] = {0};
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 3000) == 1 && recv(fd, rsp, sizeof(rsp) - 1, 0) > 0);
    CHECK(!strncmp(rsp, "1 rsp ", 6) && strstr(rsp, "200 OK") && strstr(rsp, "commands=syslog"));
    struct vg_sbuf s = {0};
    for (int i = 2; i < 302; i++) {
        char msg[64];
        int ml = snprintf(msg, sizeof(msg), "<13>relp message %d", i);
        vg_sbuf_printf(&s, "%d syslog %d %s\n", i, ml, msg);
    }
    CHECK(send_all(fd, s.p, s.len));
    uint64_t max_tx = 0;
    CHECK_EQ_INT(relp_read_acks(fd, 300, &max_tx), 300);
    CHECK_EQ_INT(max_tx, 301);
    /* every acknowledged message is durable */
    CHECK(vg_journal_durable_seq(r.j) >= 300);
    struct vg_sbuf got = {0};
    CHECK_EQ_INT(collect(&r, 300, &got, NULL), 300);
    CHECK(!strncmp(got.p, "<13>relp message 2\n", 19));
    struct vg_net_stats st;
    WAIT_STATS(&r, L_RELP, st, st.acks >= 300);
    CHECK_EQ_INT(st.acks, 300);
    /* close is answered, then the server closes the connection */
    SEND(fd, "302 close 0\n");
    char tail[64] = {0};
    size_t tl = 0;
    for (;;) {
        if (poll(&p, 1, 3000) != 1) {
            break;
        }
        ssize_t k = recv(fd, tail + tl, sizeof(tail) - 1 - tl, 0);
        if (k <= 0) {
            break;
        }
        tl += (size_t)k;
    }
    CHECK_STR(tail, "302 rsp 0 \n");
    /* a malformed RELP frame closes the session */
    int fd2 = connect_to(vg_net_port(r.net, L_RELP), false);
    SEND(fd2, "x open 0\n");
    CHECK(poll(&(struct pollfd){.fd = fd2, .events = POLLIN}, 1, 3000) == 1);
    CHECK(recv(fd2, tail, sizeof(tail), 0) == 0);
    close(fd2);
    close(fd);
    vg_sbuf_fini(&s);
    vg_sbuf_fini(&got);
    rig_close(&r);
}

struct syncer {
    struct vg_journal *j;
    atomic_bool stop;
};

static void *sync_loop(void *arg)
{
    struct syncer *sy = arg;
    while (!atomic_load(&sy->stop)) {
        vg_journal_sync(sy->j, vg_journal_next_seq(sy->j) - 1);
    }
    return NULL;
}

/* Another thread (the server's pipeline) syncing the journal first must not hold acks back. */
VG_TEST(relp_acks_when_someone_else_synced)
{
    struct rig r;
    if (!rig_open(&r, 0, 0)) {
        CHECK(!"rig");
        return;
    }
    struct syncer sy = {.j = r.j};
    pthread_t th;
    pthread_create(&th, NULL, sync_loop, &sy);
    int fd = connect_to(vg_net_port(r.net, L_RELP), false);
    const char *offer = "relp_version=0\nrelp_software=test\ncommands=syslog";
    char frame[256];
    int n = snprintf(frame, sizeof(frame), "1 open %zu %s\n", strlen(offer), offer);
    CHECK(send_all(fd, frame, (size_t)n));
    char rsp[256] = {0};
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 3000) == 1 && recv(fd, rsp, sizeof(rsp) - 1, 0) > 0);
    uint64_t max_tx = 0;
    for (int round = 0; round < 50; round++) { /* small bursts: each may be synced by sy */
        struct vg_sbuf s = {0};
        for (int i = 0; i < 3; i++) {
            int tx = 2 + round * 3 + i;
            vg_sbuf_printf(&s, "%d syslog 13 <13>burst %03d\n", tx, tx % 1000);
        }
        CHECK(send_all(fd, s.p, s.len));
        CHECK_EQ_INT(relp_read_acks(fd, 3, &max_tx), 3);
        vg_sbuf_fini(&s);
    }
    CHECK_EQ_INT(max_tx, 151);
    atomic_store(&sy.stop, true);
    pthread_join(th, NULL);
    close(fd);
    rig_close(&r);
}

VG_TEST(tls_syslog)
{
    struct rig r;
    if (!rig_open(&r, 0, 0)) {
        CHECK(!"rig");
        return;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    int fd = connect_to(vg_net_port(r.net, L_TLS), false);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    CHECK(SSL_connect(ssl) == 1);
    const char *msgs = "25 <13>over tls, counted one<13>over tls, LF framed\n";
    CHECK(SSL_write(ssl, msgs, (int)strlen(msgs)) == (int)strlen(msgs));
    struct vg_sbuf got = {0};
    uint32_t input = 0;
    CHECK_EQ_INT(collect(&r, 2, &got, &input), 2);
    CHECK_MEM(got.p, got.len, "<13>over tls, counted one\n<13>over tls, LF framed\n");
    CHECK_EQ_INT(input, 4);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    /* plain text on the TLS port is refused, not decoded */
    fd = connect_to(vg_net_port(r.net, L_TLS), false);
    SEND(fd, "<13>not tls at all\n");
    char b[16];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    CHECK(poll(&p, 1, 3000) == 1);
    CHECK(recv(fd, b, sizeof(b), 0) <= 0);
    close(fd);
    struct vg_net_stats st;
    for (int t = 0; t < 100; t++) {
        vg_net_stats(r.net, L_TLS, &st);
        if (st.conns_refused) {
            break;
        }
        usleep(10000);
    }
    CHECK_EQ_INT(st.conns_refused, 1);
    CHECK_EQ_INT(st.messages, 2);
    SSL_CTX_free(ctx);
    vg_sbuf_fini(&got);
    rig_close(&r);
}

struct sender {
    int fd;
    int count;
    atomic_int sent;
};

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    char msg[200];
    memset(msg, 'p', sizeof(msg));
    for (int i = 0; i < s->count; i++) {
        int n = snprintf(msg, sizeof(msg), "<13>%08d ", i);
        msg[n] = 'p';
        msg[sizeof(msg) - 1] = '\n';
        if (!send_all(s->fd, msg, sizeof(msg))) {
            break;
        }
        atomic_fetch_add(&s->sent, 1);
    }
    return NULL;
}

VG_TEST(back_pressure_holds_tcp_sender_without_loss)
{
    struct rig r;
    if (!rig_open(&r, 256 << 10, 0)) { /* 256 KiB of unreleased data, then appends wait */
        CHECK(!"rig");
        return;
    }
    int count = 100000; /* 20 MB: far more than the bound plus the kernel's buffers */
    struct sender s = {.fd = connect_to(vg_net_port(r.net, L_TCP), false), .count = count};
    pthread_t th;
    pthread_create(&th, NULL, sender_main, &s);
    /* nobody consumes: the sender must stall well short of the end */
    int before = -1;
    for (int t = 0; t < 100; t++) {
        usleep(20000);
        int now = atomic_load(&s.sent);
        if (now == before) {
            break;
        }
        before = now;
    }
    CHECK(before < count / 2);
    struct vg_journal_stats js;
    vg_journal_stats(r.j, &js);
    CHECK(js.bytes < (2u << 20));
    /* now consume: every message arrives, in order, none lost */
    struct vg_journal_reader *rd = vg_journal_reader_open(r.j, 0);
    struct vg_rec rec;
    uint64_t seq;
    int got = 0, bad = 0;
    while (got < count && vg_journal_next(rd, &rec, &seq, 5000) == VG_OK) {
        char want[16];
        snprintf(want, sizeof(want), "<13>%08d ", got);
        bad += rec.len != 199 || memcmp(rec.data, want, 13) != 0;
        got++;
        vg_journal_release(r.j, seq); /* a consumer releases what it has stored */
    }
    vg_journal_reader_close(rd);
    shutdown(s.fd, SHUT_RDWR); /* never leave the sender blocked if the check failed */
    pthread_join(th, NULL);
    CHECK_EQ_INT(got, count);
    CHECK_EQ_INT(bad, 0);
    struct vg_net_stats st;
    WAIT_STATS(&r, L_TCP, st, st.messages >= (uint64_t)count);
    CHECK(st.stalls > 0);
    CHECK_EQ_INT(st.messages, count);
    close(s.fd);
    rig_close(&r);
}
