/*
 * bench_server.c — `vigie server` end to end: syslog over TCP on loopback → journal (synced)
 * → decode → Sigma rules → store (events, alerts). The clock runs from the first byte sent
 * to the moment the last event is committed to the store, as the rsyslog/syslog-ng peer
 * scripts time "first byte → end marker written" (../shared/bench-peers/bench_rsyslog.sh).
 *
 * usage: bench_server FILE [--tail] [--repeat N] [--conns N] [--workers N] [--batch N] [--no-store]
 *                     [--rules builtin|none|PATH|builtin+PATH]
 *   --tail: the server tails FILE (file input) instead of receiving it over TCP
 *   --repeat N: send FILE N times (a soak: rate, RSS and backlog printed every 30 s)
 *   --no-store: decode and detect but store nothing (the receive + decode + normalise stage)
 *   FILE: syslog lines (e.g. syslog.txt from ../shared/bench-peers/gen_authlog.py)
 * prints: messages, wall seconds, msg/s, CPU seconds, msg per CPU-second, alerts, and the
 * store size per raw byte.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct part {
    const char *p;
    size_t n;
    int port;
    int repeat;
};

static void *sender(void *arg)
{
    struct part *pt = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)pt->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("connect");
        exit(1);
    }
    for (int r = 0; r < pt->repeat; r++) {
        size_t off = 0;
        while (off < pt->n) {
            ssize_t k = send(fd, pt->p + off, VG_MIN(pt->n - off, (size_t)1 << 20), MSG_NOSIGNAL);
            if (k <= 0) {
                perror("send");
                exit(1);
            }
            off += (size_t)k;
        }
    }
    close(fd);
    return NULL;
}

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &res) != 2) {
            res = 0;
        }
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE) / 1e6;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t du_bytes(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "du -sb '%s' 2>/dev/null", dir);
    FILE *f = popen(cmd, "r");
    unsigned long long b = 0;
    if (f) {
        if (fscanf(f, "%llu", &b) != 1) {
            b = 0;
        }
        pclose(f);
    }
    return b;
}

static int configure(struct vg_server_conf *c, const char *dir, const char *rules, int workers,
                     int batch)
{
    char err[512];
    if (vg_server_conf_load(NULL, c, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    vg_free(c->data_dir);
    c->data_dir = vg_strdup(dir);
    vg_free(c->http_listen);
    c->http_listen = vg_strdup("");
    vg_strlist_free(&c->syslog_udp);
    vg_strlist_free(&c->syslog_tcp);
    vg_strlist_add(&c->syslog_tcp, "127.0.0.1:0");
    c->workers = workers;
    c->batch = batch;
    c->rules_builtin = !strncmp(rules, "builtin", 7);
    const char *path = !strncmp(rules, "builtin+", 8) ? rules + 8 : rules;
    if (strcmp(path, "builtin") && strcmp(path, "none")) {
        vg_strlist_add(&c->rules_paths, path);
    }
    vg_free(c->log_level);
    c->log_level = vg_strdup("warn");
    /* a benchmark measures; it must not contain the hosts of its generated attacks on this
     * machine (the shipped playbooks block brute-force sources through nftables) */
    c->respond_contain = false;
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = NULL, *rules = "builtin";
    int conns = 1, workers = 0, batch = 1024, repeat = 1;
    bool no_store = false, tail = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--conns") && i + 1 < argc) {
            conns = (int)strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
            repeat = (int)strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--tail")) {
            tail = true;
        } else if (!strcmp(argv[i], "--no-store")) {
            no_store = true;
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            batch = (int)strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            workers = (int)strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--rules") && i + 1 < argc) {
            rules = argv[++i];
        } else {
            file = argv[i];
        }
    }
    struct vg_mapped m;
    if (!file || vg_file_map(file, &m) != VG_OK || conns < 1 || conns > 64) {
        fprintf(stderr,
                "usage: bench_server FILE [--tail] [--conns N] [--workers N] [--batch N]\n"
                "                    [--no-store] [--rules builtin|none|PATH|builtin+PATH]\n");
        return 2;
    }
    uint64_t lines = 0;
    for (size_t i = 0; i < m.len; i++) {
        lines += ((const char *)m.p)[i] == '\n';
    }
    char dir[] = "/tmp/vg-bench-server-XXXXXX";
    struct vg_server_conf c;
    struct vg_server *s = NULL;
    char err[512];
    if (!mkdtemp(dir) || configure(&c, dir, rules, workers, batch) ||
        (c.bench_no_store = no_store, tail && vg_strlist_add(&c.files, file) != VG_OK) ||
        vg_server_create(&c, &s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_server: %s\n", err);
        return 1;
    }
    double cpu0 = cpu_seconds();
    uint64_t t0 = vg_clock_ns();
    if (vg_server_start(s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_server: %s\n", err);
        return 1;
    }
    struct part parts[64];
    pthread_t th[64];
    size_t at = 0;
    for (int k = 0; k < conns; k++) { /* split on line boundaries */
        size_t end =
            k == conns - 1 ? m.len : VG_MIN(m.len, m.len * (size_t)(k + 1) / (size_t)conns);
        while (end < m.len && ((const char *)m.p)[end - 1] != '\n') {
            end++;
        }
        parts[k] = (struct part){(const char *)m.p + at, end - at,
                                 vg_server_syslog_port(s, "tcp", 0), repeat};
        at = end;
    }
    if (tail) {
        conns = 0; /* the server reads FILE itself */
    } else {
        cpu0 = cpu_seconds();
        t0 = vg_clock_ns();
    }
    for (int k = 0; k < conns; k++) {
        pthread_create(&th[k], NULL, sender, &parts[k]);
    }
    lines *= (uint64_t)(tail ? 1 : repeat);
    struct vg_server_stats st = {0};
    uint64_t next_report = vg_clock_ns() + 30000000000ull, last_stored = 0, last_t = t0;
    while (st.stored + st.duplicates < lines) {
        usleep(1000);
        vg_server_get_stats(s, &st);
        uint64_t now = vg_clock_ns();
        if (repeat > 1 && now >= next_report) { /* a soak: rate and memory every 30 s */
            printf("  t=%4.0fs stored=%llu rate=%.0f/s rss=%.0f MB backlog=%llu\n",
                   (double)(now - t0) / 1e9, (unsigned long long)st.stored,
                   (double)(st.stored - last_stored) * 1e9 / (double)(now - last_t), rss_mb(),
                   (unsigned long long)(st.journal_next - 1 - st.position));
            fflush(stdout);
            last_stored = st.stored;
            last_t = now;
            next_report = now + 30000000000ull;
        }
    }
    for (int k = 0; k < conns; k++) {
        pthread_join(th[k], NULL);
    }
    double wall = (double)(vg_clock_ns() - t0) / 1e9;
    double cpu = cpu_seconds() - cpu0;
    printf("vigie-server %s%s rules=%s conns=%d workers=%ld batch=%d sent=%llu stored=%llu "
           "alerts=%llu wall_s=%.3f msg_per_s=%.0f cpu_s=%.2f msg_per_cpu_s=%.0f\n",
           tail ? "tail" : "tcp", no_store ? " no-store" : "", rules, conns, (long)c.workers, batch,
           (unsigned long long)lines, (unsigned long long)st.stored, (unsigned long long)st.alerts,
           wall, (double)lines / wall, cpu, (double)lines / cpu);
    vg_server_stop(s, 0);
    vg_server_destroy(s);
    char store[600];
    snprintf(store, sizeof(store), "%s/store", dir);
    double raw = (double)m.len * (tail ? 1 : repeat);
    printf("  store %.1f MB for %.1f MB of raw lines (%.3f)\n", (double)du_bytes(store) / 1e6,
           raw / 1e6, (double)du_bytes(store) / raw);
    vg_server_conf_fini(&c);
    vg_file_unmap(&m);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
