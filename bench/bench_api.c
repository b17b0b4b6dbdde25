/*
 * bench_api.c — HTTP ingest throughput of the API: POST /api/v1/ingest (NDJSON) and the
 * Splunk HEC event endpoint, with N keep-alive clients sending batches of 1 and 100 events,
 * into a journal with fdatasync on (every 200 is durable) and a consumer releasing behind,
 * as in `vigie server`. Runs both server threading modes (a thread per connection, a pool
 * of epoll threads). Prints events/s, requests/s and request latency percentiles.
 *
 *   bench_api [--requests N] [--clients 1,8] [--no-sync]
 */
#include "api/api.h"
#include "ingest/ingest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct cfg {
    int port;
    const char *path;
    const char *req; /* the whole request, sent as is */
    size_t req_len;
    int requests; /* per client */
};

struct client {
    const struct cfg *c;
    uint64_t *lat; /* ns per request */
    int ok;
};

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Read one response; true for a 200. */
static bool read_resp(int fd, char *buf, size_t size)
{
    size_t len = 0;
    char *end = NULL;
    while (!end) {
        ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
        if (n <= 0) {
            return false;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t want = cl ? (size_t)strtoul(cl + 15, NULL, 10) : 0;
    size_t have = len - (size_t)(end + 4 - buf);
    while (have < want) {
        ssize_t n = recv(fd, buf, size - 1, 0);
        if (n <= 0) {
            return false;
        }
        have += (size_t)n;
    }
    return !strncmp(buf + 9, "200", 3);
}

static void *client_main(void *p)
{
    struct client *cl = p;
    const struct cfg *c = cl->c;
    char buf[65536];
    int fd = connect_port(c->port);
    for (int i = 0; fd >= 0 && i < c->requests; i++) {
        uint64_t t0 = vg_clock_ns();
        size_t off = 0;
        while (off < c->req_len) {
            ssize_t w = send(fd, c->req + off, c->req_len - off, MSG_NOSIGNAL);
            if (w <= 0) {
                break;
            }
            off += (size_t)w;
        }
        cl->ok += read_resp(fd, buf, sizeof(buf));
        cl->lat[i] = vg_clock_ns() - t0;
    }
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The request text for an endpoint and batch size. */
static char *make_request(bool hec, int batch, const char *token, size_t *len)
{
    struct vg_sbuf body = VG_SBUF_INIT, req = VG_SBUF_INIT;
    for (int i = 0; i < batch; i++) {
        if (hec) {
            vg_sbuf_printf(
                &body,
                "{\"time\":1700000000.%03d,\"host\":\"web-%d\",\"sourcetype\":\"access\","
                "\"event\":{\"user\":\"u%d\",\"action\":\"login\",\"src_ip\":"
                "\"10.1.%d.%d\",\"outcome\":\"success\"}}\n",
                i % 1000, i % 7, i, i % 250, i % 200);
        } else {
            vg_sbuf_printf(&body,
                           "{\"@timestamp\":\"2024-05-01T10:00:00.%03dZ\",\"host.name\":\"web-%d\","
                           "\"user.name\":\"u%d\",\"event.action\":\"login\",\"source.ip\":"
                           "\"10.1.%d.%d\",\"event.outcome\":\"success\"}\n",
                           i % 1000, i % 7, i, i % 250, i % 200);
        }
    }
    vg_sbuf_printf(&req,
                   "POST %s HTTP/1.1\r\nHost: bench\r\nAuthorization: %s %s\r\n"
                   "Content-Type: application/x-ndjson\r\nContent-Length: %zu\r\n\r\n",
                   hec ? "/services/collector/event" : "/api/v1/ingest", hec ? "Splunk" : "Bearer",
                   token, body.len);
    vg_sbuf_add(&req, body.p, body.len);
    vg_sbuf_fini(&body);
    return vg_sbuf_take(&req, len);
}

struct consumer {
    struct vg_journal *j;
    atomic_bool stop;
};

/* Stands in for the pipeline: reads everything and releases it. */
static void *consumer_main(void *p)
{
    struct consumer *c = p;
    struct vg_journal_reader *r = vg_journal_reader_open(c->j, vg_journal_next_seq(c->j) - 1);
    struct vg_rec rec;
    uint64_t seq = 0, n = 0;
    while (!atomic_load(&c->stop)) {
        if (vg_journal_next(r, &rec, &seq, 50) == VG_OK && (++n & 1023) == 0) {
            vg_journal_release(c->j, seq);
        }
    }
    if (seq) {
        vg_journal_release(c->j, seq);
    }
    vg_journal_reader_close(r);
    return NULL;
}

struct run {
    unsigned threads;
    bool hec;
    int clients, batch, requests;
    bool sync;
};

static int run_one(const struct run *rn)
{
    char dir[] = "/tmp/vg-bench-api-XXXXXX", jdir[64], err[256], tok[VG_API_TOKEN_SIZE];
    struct vg_api *api = NULL;
    struct vg_journal *j = NULL;
    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(jdir, sizeof(jdir), "%s/journal", dir);
    struct vg_journal_opts jo = {.sync = rn->sync};
    struct vg_api_opts ao = {.listen = "127.0.0.1:0", .data_dir = dir, .threads = rn->threads};
    struct vg_api_ingest_opts io = {0};
    if (vg_journal_open(jdir, &jo, &j, err, sizeof(err)) != VG_OK ||
        vg_api_create(&ao, &api, err, sizeof(err)) != VG_OK ||
        vg_api_ingest_register(api, j, &io) != VG_OK || vg_api_start(api, err, sizeof(err)) ||
        vg_api_token_create(vg_api_get_auth(api), "bench", VG_API_ROLE_INGEST, NULL, VG_TIME_NONE,
                            tok, sizeof(tok)) != VG_OK) {
        fprintf(stderr, "bench_api: %s\n", err);
        return 1;
    }
    struct consumer cons = {.j = j};
    pthread_t ct, t[64];
    pthread_create(&ct, NULL, consumer_main, &cons);
    struct cfg c = {.port = vg_api_port(api), .requests = rn->requests / rn->clients};
    char *req = make_request(rn->hec, rn->batch, tok, &c.req_len);
    c.req = req;
    struct client cl[64];
    uint64_t *lat = vg_calloc((size_t)rn->clients * (size_t)c.requests, sizeof(uint64_t));
    uint64_t t0 = vg_clock_ns();
    for (int i = 0; i < rn->clients; i++) {
        cl[i] = (struct client){.c = &c, .lat = lat + (size_t)i * (size_t)c.requests};
        pthread_create(&t[i], NULL, client_main, &cl[i]);
    }
    int ok = 0;
    for (int i = 0; i < rn->clients; i++) {
        pthread_join(t[i], NULL);
        ok += cl[i].ok;
    }
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    size_t nreq = (size_t)rn->clients * (size_t)c.requests;
    qsort(lat, nreq, sizeof(*lat), cmp_u64);
    struct vg_journal_stats js;
    vg_journal_stats(j, &js);
    printf("%-9s %-7s %7d %5d %8zu %10.0f %8.0f %8.2f %8.2f %7llu%s\n",
           rn->threads ? "pool-2" : "per-conn", rn->hec ? "hec" : "ndjson", rn->clients, rn->batch,
           nreq, (double)ok * rn->batch / secs, (double)ok / secs, (double)lat[nreq / 2] / 1e6,
           (double)lat[nreq * 99 / 100] / 1e6, (unsigned long long)js.syncs,
           ok == (int)nreq ? "" : "  (errors!)");
    fflush(stdout);
    atomic_store(&cons.stop, true);
    pthread_join(ct, NULL);
    vg_api_destroy(api);
    vg_journal_close(j);
    vg_free(req);
    vg_free(lat);
    snprintf(err, sizeof(err), "rm -rf '%s'", dir);
    return system(err) == 0 && ok == (int)nreq ? 0 : 1;
}

int main(int argc, char **argv)
{
    int requests = 4000, rc = 0;
    bool sync = true;
    int clients[2] = {1, 8};
    for (int i = 1; i < argc; i++) {
        int64_t v = 0;
        if (!strcmp(argv[i], "--requests") && i + 1 < argc &&
            vg_parse_i64(argv[i + 1], strlen(argv[i + 1]), &v) == VG_OK && v > 0) {
            requests = (int)v;
            i++;
        } else if (!strcmp(argv[i], "--no-sync")) {
            sync = false;
        } else {
            fprintf(stderr, "usage: bench_api [--requests N] [--no-sync]\n");
            return 2;
        }
    }
    vg_log_set_level(VG_LOG_ERROR);
    printf("HTTP ingest into the journal (fdatasync %s), %d requests per run\n",
           sync ? "on" : "off", requests);
    printf("%-9s %-7s %7s %5s %8s %10s %8s %8s %8s %7s\n", "server", "format", "clients", "batch",
           "requests", "events/s", "req/s", "p50 ms", "p99 ms", "syncs");
    for (unsigned th = 0; th <= 2; th += 2) {
        for (int hec = 0; hec < 2; hec++) {
            for (int ci = 0; ci < 2; ci++) {
                for (int batch = 1; batch <= 100; batch *= 100) {
                    struct run rn = {
                        th, hec, clients[ci], batch, batch == 1 ? requests : requests / 4, sync};
                    rc |= run_one(&rn);
                }
            }
        }
    }
    return rc;
}
