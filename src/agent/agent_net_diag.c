/*
 * agent_net_diag.c — the network collector's preferred backend: a NETLINK_SOCK_DIAG dump
 * (inet_diag) of TCP and UDP sockets, IPv4 and IPv6, in the agent's network namespace.
 *
 * One dump per (family, protocol): TCP asks only for established and listening sockets, UDP
 * for every state (bound-unconnected UDP is "listening"). UDP diag is a separate kernel
 * module (udp_diag): when it is missing, UDP is skipped and TCP still works. Replies are
 * read through bounded netlink walking; a truncated or malformed message ends the dump with
 * VG_EIO rather than reading past the buffer.
 */
#include "agent/agent_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define TCP_ST_ESTABLISHED 1
#define TCP_ST_CLOSE       7
#define TCP_ST_LISTEN      10
#define RECV_BUF           (64 * 1024)

static int diag_open(char *err, size_t errsz)
{
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        snprintf(err, errsz, "sock_diag: socket(AF_NETLINK, NETLINK_SOCK_DIAG): %s",
                 strerror(errno));
        return -1;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static int diag_send(int fd, uint8_t family, uint8_t proto, uint32_t states, uint32_t seq)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof(req));
    req.nlh.nlmsg_len = sizeof(req);
    req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.nlh.nlmsg_seq = seq;
    req.r.sdiag_family = family;
    req.r.sdiag_protocol = proto;
    req.r.idiag_states = states;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa));
    return n == (ssize_t)sizeof(req) ? VG_OK : VG_EIO;
}

static bool diag_wanted(uint8_t proto, uint8_t state)
{
    if (proto == IPPROTO_TCP) {
        return state == TCP_ST_ESTABLISHED || state == TCP_ST_LISTEN;
    }
    return state == TCP_ST_ESTABLISHED || state == TCP_ST_CLOSE;
}

static int diag_add(struct vg_agent_net_snap *s, uint8_t proto, const struct inet_diag_msg *m)
{
    if (!diag_wanted(proto, m->idiag_state)) {
        return VG_OK;
    }
    struct vg_agent_net_sock k = {
        .family = m->idiag_family,
        .proto = proto,
        .state = m->idiag_state,
        .sport = ntohs(m->id.idiag_sport),
        .dport = ntohs(m->id.idiag_dport),
        .uid = m->idiag_uid,
        .inode = m->idiag_inode,
    };
    k.listening =
        (proto == IPPROTO_TCP) ? m->idiag_state == TCP_ST_LISTEN : m->idiag_state == TCP_ST_CLOSE;
    size_t alen = m->idiag_family == AF_INET ? 4 : 16;
    memcpy(k.src, m->id.idiag_src, alen);
    memcpy(k.dst, m->id.idiag_dst, alen);
    return vg_agent_net_snap_push(s, &k);
}

/*
 * Walk one datagram of replies. Returns VG_AGAIN (more to read), VG_OK (NLMSG_DONE),
 * VG_EUNSUPPORTED (the kernel refused this family/protocol), VG_EIO or VG_ENOMEM.
 */
static int diag_walk(struct vg_agent_net_snap *s, uint8_t proto, const uint8_t *buf, size_t len,
                     uint32_t seq, int *kerr)
{
    size_t off = 0;
    while (len - off >= sizeof(struct nlmsghdr)) {
        const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);
        if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len - off) {
            return VG_EIO;
        }
        if (h->nlmsg_seq == seq) {
            if (h->nlmsg_type == NLMSG_DONE) {
                return VG_OK;
            }
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                *kerr = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EIO;
                return VG_EUNSUPPORTED;
            }
            if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
                h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
                int rc = diag_add(s, proto, NLMSG_DATA(h));
                if (rc != VG_OK) {
                    return rc;
                }
            }
        }
        off += NLMSG_ALIGN(h->nlmsg_len);
        if (off > len) {
            break;
        }
    }
    return VG_AGAIN;
}

static int diag_dump(int fd, struct vg_agent_net_snap *s, uint8_t family, uint8_t proto,
                     uint32_t seq, int *kerr)
{
    static __thread uint8_t buf[RECV_BUF] __attribute__((aligned(8)));
    uint32_t states = proto == IPPROTO_TCP ? (1u << TCP_ST_ESTABLISHED) | (1u << TCP_ST_LISTEN)
                                           : (1u << TCP_ST_ESTABLISHED) | (1u << TCP_ST_CLOSE);
    if (diag_send(fd, family, proto, states, seq) != VG_OK) {
        *kerr = errno;
        return VG_EIO;
    }
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            *kerr = n < 0 ? errno : EIO;
            return VG_EIO;
        }
        int rc = diag_walk(s, proto, buf, (size_t)n, seq, kerr);
        if (rc != VG_AGAIN) {
            return rc;
        }
    }
}

int vg_agent_net_diag_snapshot(struct vg_agent_net_snap *s, char *err, size_t errsz)
{
    static const struct {
        uint8_t family, proto;
        const char *name;
    } dumps[] = {
        {AF_INET, IPPROTO_TCP, "tcp"},
        {AF_INET6, IPPROTO_TCP, "tcp6"},
        {AF_INET, IPPROTO_UDP, "udp"},
        {AF_INET6, IPPROTO_UDP, "udp6"},
    };
    int fd = diag_open(err, errsz);
    if (fd < 0) {
        return VG_EUNSUPPORTED;
    }
    int rc = VG_OK;
    for (size_t i = 0; i < VG_ARRAY_LEN(dumps) && rc == VG_OK; i++) {
        int kerr = 0;
        rc = diag_dump(fd, s, dumps[i].family, dumps[i].proto, (uint32_t)i + 1, &kerr);
        if (rc == VG_EUNSUPPORTED && dumps[i].proto == IPPROTO_UDP) {
            rc = VG_OK; /* no udp_diag module: TCP still counts */
        } else if (rc != VG_OK && rc != VG_ENOMEM) {
            snprintf(err, errsz, "sock_diag: %s dump: %s", dumps[i].name, strerror(kerr));
        }
    }
    close(fd);
    return rc;
}
