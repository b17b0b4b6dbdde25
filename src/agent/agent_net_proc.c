/*
 * agent_net_proc.c — the network collector's fallback backend (/proc/net/{tcp,tcp6,udp,udp6}
 * text tables) and the socket inode → owning pid map built from /proc/PID/fd, which both
 * backends use.
 *
 * The tables print addresses as the raw 32-bit words of the kernel's network-order address
 * in hex (so 127.0.0.1 reads "0100007F" on little-endian machines) and ports in host order.
 * Lines are parsed with bounded field splitting; malformed lines are skipped and counted.
 *
 * The owner map is an open-addressing hash table keyed by inode, rebuilt from scratch by each
 * refresh (a few thousand readlink calls on a busy host); the collector refreshes it only
 * when a snapshot holds an inode it does not know.
 */
#include "agent/agent_net.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROC_NET_MAX (64u << 20)
#define MAX_FIELDS   12

int vg_agent_net_snap_push(struct vg_agent_net_snap *s, const struct vg_agent_net_sock *k)
{
    if (vg_grow(&s->v, &s->cap, s->n + 1, sizeof(*s->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    s->v[s->n++] = *k;
    return VG_OK;
}

void vg_agent_net_snap_fini(struct vg_agent_net_snap *s)
{
    vg_free(s->v);
    memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- /proc/net tables */

static bool hex_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 16) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        int d = isdigit(c) ? c - '0' : (isxdigit(c) ? (tolower(c) - 'a' + 10) : -1);
        if (d < 0) {
            return false;
        }
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return true;
}

static bool dec_u64(const char *p, size_t n, uint64_t *out)
{
    int64_t v;
    if (n == 0 || !isdigit((unsigned char)p[0]) || vg_parse_i64(p, n, &v) != VG_OK || v < 0) {
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

/* "HEXADDR:HEXPORT" with 8 (IPv4) or 32 (IPv6) address digits. */
static bool parse_endpoint(const char *p, size_t n, int family, uint8_t *addr, uint16_t *port)
{
    size_t alen = family == AF_INET ? 8 : 32;
    uint64_t v;
    if (n != alen + 5 || p[alen] != ':' || !hex_u64(p + alen + 1, 4, &v)) {
        return false;
    }
    *port = (uint16_t)v;
    for (size_t w = 0; w < alen / 8; w++) {
        uint64_t word;
        if (!hex_u64(p + w * 8, 8, &word)) {
            return false;
        }
        uint32_t w32 = (uint32_t)word; /* the kernel printed the in-memory word */
        memcpy(addr + w * 4, &w32, 4);
    }
    return true;
}

/* Split a line on blanks into at most MAX_FIELDS fields; returns the count. */
static size_t split_fields(const char *p, size_t n, const char **f, size_t *fl)
{
    size_t nf = 0, i = 0;
    while (i < n && nf < MAX_FIELDS) {
        while (i < n && (p[i] == ' ' || p[i] == '\t')) {
            i++;
        }
        size_t start = i;
        while (i < n && p[i] != ' ' && p[i] != '\t') {
            i++;
        }
        if (i > start) {
            f[nf] = p + start;
            fl[nf++] = i - start;
        }
    }
    return nf;
}

static bool parse_line(const char *p, size_t n, int family, int proto, struct vg_agent_net_sock *k)
{
    const char *f[MAX_FIELDS];
    size_t fl[MAX_FIELDS];
    uint64_t st, uid, inode;
    /* sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ... */
    if (split_fields(p, n, f, fl) < 10 || !parse_endpoint(f[1], fl[1], family, k->src, &k->sport) ||
        !parse_endpoint(f[2], fl[2], family, k->dst, &k->dport) || !hex_u64(f[3], fl[3], &st) ||
        !dec_u64(f[7], fl[7], &uid) || !dec_u64(f[9], fl[9], &inode) || st > 255) {
        return false;
    }
    k->family = (uint8_t)family;
    k->proto = (uint8_t)proto;
    k->state = (uint8_t)st;
    k->uid = (uint32_t)uid;
    k->inode = inode;
    k->listening = proto == IPPROTO_TCP ? st == 10 : st == 7;
    return true;
}

int vg_agent_net_proc_parse(const char *text, size_t len, int family, int proto,
                            struct vg_agent_net_snap *s, size_t *bad)
{
    size_t off = 0, line = 0;
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
        struct vg_agent_net_sock k;
        memset(&k, 0, sizeof(k));
        if (line++ > 0 && n > 0) { /* line 0 is the column header */
            if (!parse_line(text + off, n, family, proto, &k)) {
                if (bad) {
                    (*bad)++;
                }
            } else if ((proto == IPPROTO_TCP ? (k.state == 1 || k.state == 10)
                                             : (k.state == 1 || k.state == 7)) &&
                       vg_agent_net_snap_push(s, &k) != VG_OK) {
                return VG_ENOMEM;
            }
        }
        off += n + 1;
    }
    return VG_OK;
}

int vg_agent_net_proc_snapshot(struct vg_agent_net_snap *s, char *err, size_t errsz)
{
    static const struct {
        const char *path;
        int family, proto;
    } tabs[] = {
        {"/proc/net/tcp", AF_INET, IPPROTO_TCP},
        {"/proc/net/tcp6", AF_INET6, IPPROTO_TCP},
        {"/proc/net/udp", AF_INET, IPPROTO_UDP},
        {"/proc/net/udp6", AF_INET6, IPPROTO_UDP},
    };
    size_t found = 0;
    for (size_t i = 0; i < VG_ARRAY_LEN(tabs); i++) {
        char *text = NULL;
        size_t len = 0;
        int rc = vg_file_read(tabs[i].path, PROC_NET_MAX, &text, &len);
        if (rc != VG_OK) {
            continue; /* no IPv6, say */
        }
        found++;
        rc = vg_agent_net_proc_parse(text, len, tabs[i].family, tabs[i].proto, s, NULL);
        vg_free(text);
        if (rc != VG_OK) {
            return rc;
        }
    }
    if (!found) {
        snprintf(err, errsz, "procfs: /proc/net/tcp is unreadable");
        return VG_EUNSUPPORTED;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- inode → pid */

struct owner_slot {
    uint64_t inode; /* 0 = empty */
    int32_t pid;
};

struct vg_agent_net_owners {
    struct owner_slot *slots;
    size_t cap, n; /* cap is a power of two */
};

struct vg_agent_net_owners *vg_agent_net_owners_create(void)
{
    return vg_calloc(1, sizeof(struct vg_agent_net_owners));
}

void vg_agent_net_owners_destroy(struct vg_agent_net_owners *o)
{
    if (o) {
        vg_free(o->slots);
        vg_free(o);
    }
}

static void owners_put(struct owner_slot *slots, size_t cap, uint64_t inode, int32_t pid)
{
    size_t i = vg_hash_mix(inode) & (cap - 1);
    while (slots[i].inode && slots[i].inode != inode) {
        i = (i + 1) & (cap - 1);
    }
    if (!slots[i].inode || pid < slots[i].pid) { /* shared sockets: report the lowest pid */
        slots[i].inode = inode;
        slots[i].pid = pid;
    }
}

static int owners_add(struct vg_agent_net_owners *o, uint64_t inode, int32_t pid)
{
    if ((o->n + 1) * 2 > o->cap) {
        size_t ncap = o->cap ? o->cap * 2 : 1024;
        struct owner_slot *ns = vg_calloc(ncap, sizeof(*ns));
        if (!ns) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < o->cap; i++) {
            if (o->slots[i].inode) {
                owners_put(ns, ncap, o->slots[i].inode, o->slots[i].pid);
            }
        }
        vg_free(o->slots);
        o->slots = ns;
        o->cap = ncap;
    }
    size_t before = vg_agent_net_owners_get(o, inode) ? 1 : 0;
    owners_put(o->slots, o->cap, inode, pid);
    o->n += 1 - before;
    return VG_OK;
}

int32_t vg_agent_net_owners_get(const struct vg_agent_net_owners *o, uint64_t inode)
{
    if (!o->cap || !inode) {
        return 0;
    }
    size_t i = vg_hash_mix(inode) & (o->cap - 1);
    while (o->slots[i].inode) {
        if (o->slots[i].inode == inode) {
            return o->slots[i].pid;
        }
        i = (i + 1) & (o->cap - 1);
    }
    return 0;
}

/* Record the socket inodes held by one process (a vanished process is normal). */
static int owners_scan_pid(struct vg_agent_net_owners *o, int procfd, const char *pidname,
                           int32_t pid)
{
    char path[64], link[64];
    snprintf(path, sizeof(path), "%s/fd", pidname);
    int fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) {
            close(fd);
        }
        return VG_OK; /* exited, or EACCES */
    }
    int rc = VG_OK;
    struct dirent *e;
    while (rc == VG_OK && (e = readdir(d)) != NULL) {
        ssize_t n = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        if (n < 10 || memcmp(link, "socket:[", 8) != 0 || link[n - 1] != ']') {
            continue;
        }
        uint64_t inode;
        if (dec_u64(link + 8, (size_t)n - 9, &inode)) {
            rc = owners_add(o, inode, pid);
        }
    }
    closedir(d);
    return rc;
}

int vg_agent_net_owners_refresh(struct vg_agent_net_owners *o)
{
    int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = procfd >= 0 ? fdopendir(procfd) : NULL;
    if (!d) {
        if (procfd >= 0) {
            close(procfd);
        }
        return VG_EIO;
    }
    if (o->slots) {
        memset(o->slots, 0, o->cap * sizeof(*o->slots));
    }
    o->n = 0;
    int rc = VG_OK;
    struct dirent *e;
    while (rc == VG_OK && (e = readdir(d)) != NULL) {
        uint64_t pid;
        if (dec_u64(e->d_name, strlen(e->d_name), &pid) && pid > 0 && pid < INT32_MAX) {
            rc = owners_scan_pid(o, dirfd(d), e->d_name, (int32_t)pid);
        }
    }
    closedir(d);
    return rc;
}
