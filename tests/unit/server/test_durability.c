/*
 * test_durability.c — `vigie server` killed with SIGKILL in the middle of a RELP stream:
 * every acknowledged message is stored, and the messages the client sends again after the
 * restart (the unacknowledged ones, as a RELP client does) are stored once, not twice.
 *
 * The server is the real binary (a child process). Messages are RFC 5424 with a
 * [meta sequenceId] so the pipeline derives their dedupe keys. VG_DURABILITY_N sets the
 * number of messages (default 100,000; the benchmark uses 1,000,000).
 */
#include "server/server.h"
#include "store/store.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
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
static int relp_acks(struct relp *r, uint8_t *acked, int ms)
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
            acked[r->tx_msg[tx]] = 1;
            got++;
        }
        line = nl + 1;
    }
    r->len = strlen(line);
    memmove(r->buf, line, r->len);
    return got;
}

/*
 * Send every message not yet acknowledged, keeping at most WINDOW in flight; stop early
 * (returning the acks seen) once stop_after acks arrived in this session.
 */
static uint32_t pump(struct relp *r, uint8_t *acked, uint32_t n, uint32_t stop_after)
{
    uint32_t sent = 0, acks = 0, next = 0;
    while (acks < stop_after) {
        while (next < n && acked[next]) {
            next++;
        }
        if (next < n && sent - acks < WINDOW) {
            if (!relp_send(r, next++)) {
                break;
            }
            sent++;
            continue;
        }
        if (next >= n && acks == sent) {
            break;
        }
        int k = relp_acks(r, acked, 5000);
        if (k < 0 || (k == 0 && next >= n)) {
            break;
        }
        acks += (uint32_t)k;
    }
    return acks;
}

struct scan_ud {
    uint8_t *seen;
    uint32_t n;
    uint64_t total, dup, foreign;
};

static int on_event(void *ctx, struct vg_event *ev, const struct vg_store_event_meta *m)
{
    (void)m;
    struct scan_ud *u = ctx;
    size_t l;
    const char *s = vg_event_get_str(ev, "sequenceId", &l);
    int64_t v;
    u->total++;
    if (!s || vg_parse_i64(s, l, &v) != VG_OK || v < 0 || v >= u->n) {
        u->foreign++;
    } else if (u->seen[v]++) {
        u->dup++;
    }
    return VG_STORE_CONTINUE;
}

VG_TEST(sigkill_mid_stream_loses_and_repeats_nothing)
{
    const char *env = getenv("VG_DURABILITY_N");
    int64_t nn = 100000;
    if (env && (vg_parse_i64(env, strlen(env), &nn) != VG_OK || nn < 1000)) {
        nn = 100000;
    }
    uint32_t n = (uint32_t)nn;
    char dir[] = "/tmp/vg-durable-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    int port = free_port();
    char conf[256];
    snprintf(conf, sizeof(conf), "%s/vigie.yml", dir);
    FILE *f = fopen(conf, "w");
    fprintf(f,
            "data_dir: %s/data\nhttp:\n  listen: ''\nsyslog:\n  udp: []\n  tcp: []\n"
            "  relp: ['127.0.0.1:%d']\nrules:\n  builtin: false\nlog_level: warn\n",
            dir, port);
    fclose(f);
    uint8_t *acked = vg_calloc(n, 1);
    struct relp r = {0};

    pid_t pid = spawn_server(conf);
    CHECK(relp_open(&r, port));
    uint32_t first = pump(&r, acked, n, n / 3); /* a third acknowledged, more in flight */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(r.fd);
    CHECK(first >= n / 3);

    pid = spawn_server(conf); /* restart; the client resends what was not acknowledged */
    CHECK(relp_open(&r, port));
    pump(&r, acked, n, UINT32_MAX);
    close(r.fd);
    uint32_t missing = 0;
    for (uint32_t i = 0; i < n; i++) {
        missing += !acked[i];
    }
    CHECK_EQ_INT(missing, 0);
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
    CHECK_EQ_INT(vg_server_create(&c, &s, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_server_start(s, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_server_wait_idle(s, 120000), VG_OK);
    struct scan_ud u = {vg_calloc(n, 1), n, 0, 0, 0};
    struct vg_store_scan sc = {.from = VG_TIME_NONE,
                               .to = VG_TIME_NONE,
                               .on_event = on_event,
                               .ctx = &u,
                               .floor = VG_TIME_NONE};
    CHECK_EQ_INT(vg_store_scan(vg_server_store(s), &sc, NULL, err, sizeof(err)), VG_OK);
    uint32_t absent = 0;
    for (uint32_t i = 0; i < n; i++) {
        absent += !u.seen[i];
    }
    printf("  %u messages, %u acknowledged before SIGKILL; stored %llu, duplicates %llu, "
           "absent %u\n",
           n, first, (unsigned long long)u.total, (unsigned long long)u.dup, absent);
    CHECK_EQ_INT(absent, 0);
    CHECK_EQ_INT(u.dup, 0);
    CHECK_EQ_INT(u.foreign, 0);
    CHECK_EQ_INT(u.total, n);
    vg_server_destroy(s);
    vg_server_conf_fini(&c);
    vg_free(u.seen);
    vg_free(acked);
    vg_free(r.tx_msg);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}
