/*
 * vgnet.h — small IPv4 TCP helpers for tests that check what a firewall lets through (inside
 * network namespaces the tests create): a listener on an address and a connect with a
 * timeout.
 */
#ifndef VG_TEST_NET_H
#define VG_TEST_NET_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

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

#endif /* VG_TEST_NET_H */
