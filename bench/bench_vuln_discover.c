/*
 * bench_vuln_discover.c — network service discovery (src/vuln/vuln_discover.c) on loopback:
 * 1,000 ports of 127.0.0.1 (BASE..BASE+999, default 20000), every tenth one a listener this
 * benchmark opens that greets like OpenSSH, the others closed. Reports wall time, open /
 * closed counts and attempts/s at the default rate limit (1000/s, the figure issue 8 asks
 * for: < 2 s) and with the limiter effectively off (100,000/s), with and without banners.
 *
 *   bench_vuln_discover [BASE]
 *
 * The listeners are served by one thread (epoll: accept, write the greeting, close).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "vuln/vuln_discover.h"

#define NPORTS 1000
#define EVERY  10

static int lfd[NPORTS / EVERY];
static int nl, ep = -1;
static volatile int quit;

static void *serve(void *arg)
{
    static const char greet[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
    VG_UNUSED(arg);
    while (!quit) {
        struct epoll_event ev[64];
        int n = epoll_wait(ep, ev, 64, 50);
        for (int i = 0; i < n; i++) {
            int c = accept(ev[i].data.fd, NULL, NULL);
            if (c >= 0) {
                ssize_t w = write(c, greet, sizeof(greet) - 1);
                VG_UNUSED(w);
                close(c);
            }
        }
    }
    return NULL;
}

static int open_listeners(unsigned base)
{
    ep = epoll_create1(0);
    for (unsigned p = base; p < base + NPORTS; p += EVERY) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)p),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 128) != 0) {
            fprintf(stderr, "port %u busy; choose another BASE\n", p);
            close(fd);
            return -1;
        }
        struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        lfd[nl++] = fd;
    }
    return 0;
}

static int count_cb(const struct vg_vuln_service *s, void *ud)
{
    if (!strcmp(s->product, "openssh")) {
        (*(unsigned *)ud)++;
    }
    return 0;
}

static void run(const char *label, const char *spec, unsigned rate, bool probes)
{
    struct vg_vuln_discover_stats st = {0};
    struct vg_vuln_discover_opts o = {
        .targets = "127.0.0.1", .ports = spec, .rate = rate, .no_probes = !probes, .stats = &st};
    char err[256] = "";
    unsigned fp = 0;
    int rc = vg_vuln_discover(&o, count_cb, &fp, err, sizeof(err));
    double s = (double)st.elapsed_ns / 1e9;
    printf("%-34s rc=%d  %.3f s  attempted=%llu open=%llu closed=%llu filtered=%llu "
           "fingerprinted=%u  %.0f attempts/s\n",
           label, rc, s, (unsigned long long)st.attempted, (unsigned long long)st.open,
           (unsigned long long)st.closed, (unsigned long long)st.filtered, fp,
           (double)st.attempted / s);
    if (rc) {
        fprintf(stderr, "%s\n", err);
    }
}

int main(int argc, char **argv)
{
    unsigned base = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 20000;
    char spec[32];
    pthread_t th;
    if (base < 1 || base + NPORTS > 65536 || open_listeners(base) != 0) {
        return 1;
    }
    pthread_create(&th, NULL, serve, NULL);
    snprintf(spec, sizeof(spec), "%u-%u", base, base + NPORTS - 1);
    printf("discovery of %d loopback ports (%d listeners greeting as OpenSSH)\n", NPORTS, nl);
    run("default rate 1000/s, banners", spec, 0, true);
    run("default rate 1000/s, no probes", spec, 0, false);
    run("rate 100000/s, banners", spec, 100000, true);
    run("rate 100000/s, no probes", spec, 100000, false);
    quit = 1;
    pthread_join(th, NULL);
    for (int i = 0; i < nl; i++) {
        close(lfd[i]);
    }
    close(ep);
    return 0;
}
