/*
 * vgnet.h — small IPv4 TCP helpers for tests that check what a firewall lets through (inside
 * network namespaces the tests create): a listener on an address, a connect with a timeout,
 * and running a test body in a fresh network namespace.
 */
#ifndef VG_TEST_NET_H
#define VG_TEST_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sched.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vgtest.h"

/* TCP connect to ip:port with a timeout: true when it connects. */
static inline bool tcp_reaches(const char *ip, int port, int ms)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    bool ok = rc == 0;
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd pf = {fd, POLLOUT, 0};
        int err = 0;
        socklen_t el = sizeof(err);
        ok = poll(&pf, 1, ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
             err == 0;
    }
    close(fd);
    return ok;
}

/* A listening TCP socket on ip (port chosen by the kernel, in *port); -1 on failure. */
static inline int listener(const char *ip, int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);
    *port = 0;
    inet_pton(AF_INET, ip, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/*
 * Run fn in a child process inside a new network namespace (the host's network is never
 * touched) and return its verdict: 'P' passed, 'F' failed (checks failed or the child died),
 * 'S' unshare(CLONE_NEWNET) is not permitted here (skip).
 */
static inline char vgt_in_netns(void (*fn)(void))
{
    int p[2];
    if (pipe(p) != 0) {
        return 'F';
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        char verdict = 'S';
        if (unshare(CLONE_NEWNET) == 0) {
            fn();
            verdict = vgt_failed_checks ? 'F' : 'P';
        }
        if (write(p[1], &verdict, 1) < 0) {
            _exit(3);
        }
        _exit(0);
    }
    close(p[1]);
    char verdict = 0;
    if (pid < 0 || read(p[0], &verdict, 1) != 1) {
        verdict = 'F';
    }
    close(p[0]);
    if (pid > 0) {
        waitpid(pid, NULL, 0);
    }
    return verdict;
}

#endif /* VG_TEST_NET_H */
