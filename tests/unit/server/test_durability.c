/*
 * test_durability.c — `vigie server` killed with SIGKILL at random points while two clients
 * stream to it: RFC 5424 messages over RELP (application-acknowledged TCP) and NDJSON
 * batches over HTTP (200 = durable). After each kill the server is restarted and the
 * clients do what real ones do: the RELP client resends what was not acknowledged, the HTTP
 * client retries the failed request with the same Idempotency-Key. At the end every
 * message is stored exactly once: nothing acknowledged is lost, nothing resent doubles.
 *
 * The server is the real binary (a child process). VG_DURABILITY_N sets the number of
 * messages per client (default 100,000 each; the closing figures use 500,000 + 500,000).
 */
#include "server/server.h"
#include "store/store.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WINDOW 4096

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof(a);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

static int connect_port(int port, int tries)
{
    for (int t = 0; t < tries; t++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            return fd;
        }
        close(fd);
        usleep(20000);
    }
    return -1;
}

static pid_t spawn_server(const char *conf)
{
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s/vigie", VG_BINARY_DIR);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(bin, bin, "server", "-c", conf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* A RELP session: sends messages, tracks which were acknowledged. */
struct relp {
    int fd;
    uint64_t next_tx;
    uint32_t *tx_msg; /* txnr → message index (per session) */
    size_t captx;
    char buf[1 << 16];
    size_t len;
};

static bool relp_open(struct relp *r, int port)
{
    r->fd = connect_port(port, 500);
    r->next_tx = 2;
    r->len = 0;
    const char *offer = "relp_version=0\nrelp_software=vigie-test\ncommands=syslog";
    char m[256];
    int n = snprintf(m, sizeof(m), "1 open %zu %s\n", strlen(offer), offer);
    if (r->fd < 0 || send(r->fd, m, (size_t)n, MSG_NOSIGNAL) != n) {
        return false;
    }
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    return poll(&p, 1, 5000) == 1 && recv(r->fd, m, sizeof(m), 0) > 0 && !strncmp(m, "1 rsp", 5);
}

static bool relp_send(struct relp *r, uint32_t msg)
{
    char line[256], body[200];
    int bl =
        snprintf(body, sizeof(body),
                 "<13>1 2026-11-29T10:00:00Z durable-host loadgen 4242 - [meta sequenceId=\"%u\"] "
                 "durability message %u",
                 msg, msg);
    int n = snprintf(line, sizeof(line), "%llu syslog %d %s\n", (unsigned long long)r->next_tx, bl,
                     body);
    if (vg_grow(&r->tx_msg, &r->captx, r->next_tx + 1, sizeof(*r->tx_msg)) != VG_OK) {
        return false;
    }
    r->tx_msg[r->next_tx++] = msg;
    for (int off = 0; off < n;) {
        ssize_t k = send(r->fd, line + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (k <= 0) {
            return false;
        }
        off += (int)k;
    }
    return true;
}

/* Read what acks are there (waiting up to ms); mark them. -1 when the connection died. */
static int relp_acks(struct relp *r, uint8_t *acked, atomic_uint *count, int ms)
{
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0) {
        return 0;
    }
    ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len - 1, 0);
    if (n <= 0) {
        return -1;
    }
    r->len += (size_t)n;
    r->buf[r->len] = '\0';
    int got = 0;
    char *line = r->buf, *nl;
    while ((nl = strchr(line, '\n'))) {
        unsigned long long tx;
        int off = 0;
        if (sscanf(line, "%llu rsp 6 200 OK%n", &tx, &off) == 1 && off > 0 && tx < r->next_tx) {
            if (!acked[r->tx_msg[tx]]) {
                acked[r->tx_msg[tx]] = 1;
                atomic_fetch_add(count, 1);
            }
            got++;
        }
        line = nl + 1;
    }
    r->len = strlen(line);
    memmove(r->buf, line, r->len);
    return got;
}

/* Shared state of one client thread. */
struct client {
    int port;
    uint32_t n;
    uint8_t *acked;     /* per message, set once the server acknowledged it */
    atomic_uint nacked; /* how many are set */
    atomic_bool done;   /* every message acknowledged */
    atomic_bool quit;   /* give up (test failure path) */
    const char *token;  /* HTTP: bearer token */
    uint32_t batch;     /* HTTP: documents per request */
};

static void mark(struct client *c, uint32_t i)
{
    if (!c->acked[i]) {
        c->acked[i] = 1;
        atomic_fetch_add(&c->nacked, 1);
    }
}

/* RELP: send what is unacknowledged (WINDOW in flight); reconnect whenever the server dies. */
static void *relp_client(void *arg)
{
    struct client *c = arg;
    struct relp r = {0};
    while (!atomic_load(&c->done) && !atomic_load(&c->quit)) {
        if (!relp_open(&r, c->port)) {
            if (r.fd >= 0) {
                close(r.fd);
            }
            usleep(20000);
            continue;
        }
        uint32_t sent = 0, acks = 0, next = 0;
        while (!atomic_load(&c->quit)) {
            while (next < c->n && c->acked[next]) {
                next++;
            }
            if (next < c->n && sent - acks < WINDOW) {
                if (!relp_send(&r, next++)) {
                    break;
                }
                sent++;
                continue;
            }
            if (next >= c->n && acks == sent) {
                break;
            }
            int k = relp_acks(&r, c->acked, &c->nacked, 5000);
            if (k < 0) {
                break; /* the server died: reconnect, resend the unacknowledged */
            }
            acks += (uint32_t)k;
        }
        close(r.fd);
        atomic_store(&c->done, atomic_load(&c->nacked) == c->n);
    }
    vg_free(r.tx_msg);
    return NULL;
}

/* One HTTP request; returns the status (0 when the connection failed). */
static int http_post(int port, const char *token, const char *key, const char *body, size_t n)
{
    int fd = connect_port(port, 1);
    if (fd < 0) {
        return 0;
    }
    char head[512];
    int hl = snprintf(head, sizeof(head),
                      "POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                      "%s\r\nContent-Type: application/x-ndjson\r\nIdempotency-Key: %s\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      token, key, n);
    int status = 0;
    if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) == hl &&
        send(fd, body, n, MSG_NOSIGNAL) == (ssize_t)n) {
        char rsp[256] = {0};
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 60000) == 1 && recv(fd, rsp, sizeof(rsp) - 1, 0) > 12) {
            status = (int)strtol(rsp + 9, NULL, 10);
        }
    }
    close(fd);
    return status;
}

/* HTTP: NDJSON batches, each retried with the same Idempotency-Key until it gets 200. */
static void *http_client(void *arg)
{
    struct client *c = arg;
    struct vg_sbuf body = {0};
    for (uint32_t b0 = 0; b0 < c->n && !atomic_load(&c->quit);) {
        uint32_t b1 = VG_MIN(c->n, b0 + c->batch);
        body.len = 0;
        for (uint32_t i = b0; i < b1; i++) {
            vg_sbuf_printf(&body,
                           "{\"event\":{\"id\":\"http-%u\"},\"n\":%u,\"message\":\"http "
                           "durability document %u\"}\n",
                           i, i, i);
        }
        char key[32];
        snprintf(key, sizeof(key), "batch-%u", b0);
        int st = http_post(c->port, c->token, key, body.p, body.len);
        if (st == 200) {
            for (uint32_t i = b0; i < b1; i++) {
                mark(c, i);
            }
            b0 = b1;
        } else {
            usleep(20000); /* killed, restarting, or 503: retry the same request */
        }
    }
    atomic_store(&c->done, true);
    vg_sbuf_fini(&body);
    return NULL;
}

struct scan_ud {
    uint8_t *seen_relp, *seen_http;
    uint32_t n;
    uint64_t total, dup, foreign;
};

static void seen(struct scan_ud *u, uint8_t *map, const char *s, size_t l)
{
    int64_t v;
    if (!s || vg_parse_i64(s, l, &v) != VG_OK || v < 0 || v >= u->n) {
        u->foreign++;
    } else if (map[v]++) {
        u->dup++;
    }
}

static int on_event(void *ctx, struct vg_event *ev, const struct vg_store_event_meta *m)
{
    (void)m;
    struct scan_ud *u = ctx;
    size_t l;
    const char *s = vg_event_get_str(ev, "sequenceId", &l);
    u->total++;
    if (s) {
        seen(u, u->seen_relp, s, l);
    } else {
        s = vg_event_get_str(ev, "n", &l);
        seen(u, u->seen_http, s, l);
    }
    return VG_STORE_CONTINUE;
}

static bool make_token(const char *data, char *token, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s/vigie token create --data %s loadgen --role ingest",
             VG_BINARY_DIR, data);
    FILE *f = popen(cmd, "r");
    bool ok = f && fgets(token, (int)size, f) && !strncmp(token, "vg_", 3);
    if (f) {
        pclose(f);
    }
    token[strcspn(token, "\r\n")] = '\0';
    return ok;
}

static uint32_t absent(const uint8_t *map, uint32_t n)
{
    uint32_t a = 0;
    for (uint32_t i = 0; i < n; i++) {
        a += !map[i];
    }
    return a;
}

VG_TEST(sigkill_at_random_points_loses_and_repeats_nothing)
{
    const char *env = getenv("VG_DURABILITY_N");
    int64_t nn = 100000;
    if (env && (vg_parse_i64(env, strlen(env), &nn) != VG_OK || nn < 1000)) {
        nn = 100000;
    }
    uint32_t n = (uint32_t)nn;
    char dir[] = "/tmp/vg-durable-XXXXXX", data[64], conf[64], token[128];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(data, sizeof(data), "%s/data", dir);
    snprintf(conf, sizeof(conf), "%s/vigie.yml", dir);
    int relp_port = free_port(), http_port = free_port();
    FILE *f = fopen(conf, "w");
    fprintf(f,
            "data_dir: %s\nhttp:\n  listen: '127.0.0.1:%d'\nsyslog:\n  udp: []\n  tcp: []\n"
            "  relp: ['127.0.0.1:%d']\nrules:\n  builtin: false\nlog_level: error\n",
            data, http_port, relp_port);
    fclose(f);
    CHECK(mkdir(data, 0700) == 0 && make_token(data, token, sizeof(token)));
    struct client rc = {.port = relp_port, .n = n, .acked = vg_calloc(n, 1)};
    struct client hc = {
        .port = http_port, .n = n, .acked = vg_calloc(n, 1), .token = token, .batch = 500};
    pthread_t rt, ht;
    pid_t pid = spawn_server(conf);
    pthread_create(&rt, NULL, relp_client, &rc);
    pthread_create(&ht, NULL, http_client, &hc);
    unsigned seed = (unsigned)getpid();
    int kills = 0;
    for (int k = 0; k < 4; k++) { /* kill -9 at random points of the stream */
        uint32_t at =
            (uint32_t)(((uint64_t)n * 2 * (uint64_t)(k * 2 + 1 + rand_r(&seed) % 2)) / 10);
        while (atomic_load(&rc.nacked) + atomic_load(&hc.nacked) < at &&
               !(atomic_load(&rc.done) && atomic_load(&hc.done))) {
            usleep(1000 + rand_r(&seed) % 5000);
        }
        if (atomic_load(&rc.done) && atomic_load(&hc.done)) {
            break;
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        kills++;
        pid = spawn_server(conf);
    }
    for (int t = 0; t < 6000 && !(atomic_load(&rc.done) && atomic_load(&hc.done)); t++) {
        usleep(50000);
    }
    atomic_store(&rc.quit, true);
    atomic_store(&hc.quit, true);
    pthread_join(rt, NULL);
    pthread_join(ht, NULL);
    CHECK_EQ_INT(absent(rc.acked, n), 0);
    CHECK_EQ_INT(absent(hc.acked, n), 0);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* process whatever the drain left in the journal, then read the store back */
    struct vg_server_conf c;
    char err[512];
    struct vg_server *s = NULL;
    CHECK_EQ_INT(vg_server_conf_load(conf, &c, err, sizeof(err)), VG_OK);
    vg_strlist_free(&c.syslog_relp);
    vg_free(c.http_listen);
    c.http_listen = vg_strdup("");
    CHECK_EQ_INT(vg_server_create(&c, &s, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_server_start(s, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_server_wait_idle(s, 120000), VG_OK);
    struct scan_ud u = {vg_calloc(n, 1), vg_calloc(n, 1), n, 0, 0, 0};
    struct vg_store_scan sc = {.from = VG_TIME_NONE,
                               .to = VG_TIME_NONE,
                               .on_event = on_event,
                               .ctx = &u,
                               .floor = VG_TIME_NONE};
    CHECK_EQ_INT(vg_store_scan(vg_server_store(s), &sc, NULL, err, sizeof(err)), VG_OK);
    printf("  %u RELP messages + %u HTTP documents, %d SIGKILLs; stored %llu, duplicates %llu, "
           "absent %u + %u\n",
           n, n, kills, (unsigned long long)u.total, (unsigned long long)u.dup,
           absent(u.seen_relp, n), absent(u.seen_http, n));
    CHECK(kills >= 2);
    CHECK_EQ_INT(absent(u.seen_relp, n), 0);
    CHECK_EQ_INT(absent(u.seen_http, n), 0);
    CHECK_EQ_INT(u.dup, 0);
    CHECK_EQ_INT(u.foreign, 0);
    CHECK_EQ_INT(u.total, 2 * (uint64_t)n);
    vg_server_destroy(s);
    vg_server_conf_fini(&c);
    vg_free(u.seen_relp);
    vg_free(u.seen_http);
    vg_free(rc.acked);
    vg_free(hc.acked);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}
