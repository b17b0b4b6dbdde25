/*
 * agent_net.h — internals of the agent's network collector (agent_net.c): socket snapshots
 * from NETLINK_SOCK_DIAG (agent_net_diag.c) or /proc/net (agent_net_proc.c), and the
 * inode → owning process map built from /proc/PID/fd.
 *
 * A snapshot lists the TCP sockets that are established or listening and the UDP sockets
 * that are bound (unconnected: "listening") or connected, in the agent's network namespace.
 */
#ifndef VG_AGENT_NET_H
#define VG_AGENT_NET_H

#include "agent/agent.h"

/* The collector table entry ("network"). */
extern const struct vg_agent_collector_def vg_agent_net_collector;

enum vg_agent_net_backend {
    VG_AGENT_NET_SOCK_DIAG = 0,
    VG_AGENT_NET_PROCFS = 1,
};

/* One socket; addresses in network byte order (IPv4 in the first 4 bytes). */
struct vg_agent_net_sock {
    uint8_t family; /* AF_INET, AF_INET6 */
    uint8_t proto;  /* IPPROTO_TCP, IPPROTO_UDP */
    uint8_t state;  /* TCP state numbers (1 established, 10 listen, 7 close = unconnected UDP) */
    uint8_t listening;
    uint8_t inbound;       /* accepted on a listening port (filled by the collector) */
    uint16_t sport, dport; /* local and remote port, host order */
    uint8_t src[16], dst[16];
    uint32_t uid;
    uint64_t inode;
    int32_t pid; /* owning process, 0 when unknown (filled by the collector) */
};

/* A growable array of sockets. */
struct vg_agent_net_snap {
    struct vg_agent_net_sock *v;
    size_t n, cap;
};

/* Append one socket (VG_ENOMEM). */
int vg_agent_net_snap_push(struct vg_agent_net_snap *s, const struct vg_agent_net_sock *k);
void vg_agent_net_snap_fini(struct vg_agent_net_snap *s);

/*
 * Fill s (appending) with the sockets of interest via sock_diag. VG_OK; VG_EUNSUPPORTED when
 * netlink sock_diag cannot be used here (err says why); VG_EIO on a failed dump.
 */
int vg_agent_net_diag_snapshot(struct vg_agent_net_snap *s, char *err, size_t errsz);
/* The same from /proc/net/{tcp,tcp6,udp,udp6} (files that are missing are skipped). */
int vg_agent_net_proc_snapshot(struct vg_agent_net_snap *s, char *err, size_t errsz);
/*
 * Parse the text of one /proc/net/{tcp,udp}[6] file (bounded; malformed lines are skipped
 * and counted in *bad when bad != NULL). Exposed for tests.
 */
int vg_agent_net_proc_parse(const char *text, size_t len, int family, int proto,
                            struct vg_agent_net_snap *s, size_t *bad);

/* inode → pid map, rebuilt by scanning /proc/PID/fd. */
struct vg_agent_net_owners;
struct vg_agent_net_owners *vg_agent_net_owners_create(void);
void vg_agent_net_owners_destroy(struct vg_agent_net_owners *o);
/* Rescan every /proc/PID/fd (VG_OK, VG_EIO when /proc is unreadable, VG_ENOMEM). */
int vg_agent_net_owners_refresh(struct vg_agent_net_owners *o);
/* Owning pid of a socket inode, 0 when unknown. */
int32_t vg_agent_net_owners_get(const struct vg_agent_net_owners *o, uint64_t inode);

#endif /* VG_AGENT_NET_H */
