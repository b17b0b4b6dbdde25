/*
 * sensor_live.c — live capture (see sensor_live.h): a libpcap backend and an AF_PACKET
 * TPACKET_V3 backend behind one pull interface, vg_sensor_live_next().
 *
 * AF_PACKET: the socket is created listening to no protocol, the BPF program (the user's
 * filter compiled by libpcap, or a one-instruction "accept snaplen bytes") is attached, the
 * ring is set up and mapped, and only then is the socket bound to the interface, so no
 * unfiltered frame ever reaches the ring. The kernel fills blocks and hands a block over when
 * it is full or its retire timeout passes; we walk its frames and give the block back when the
 * next one is asked for. A VLAN tag the NIC stripped (TP_STATUS_VLAN_VALID) is put back into
 * a copy of the frame so the decoder sees the same bytes a pcap file would hold.
 *
 * libpcap: non-blocking handle, nanosecond timestamps, poll() on its selectable descriptor so
 * that an idle link returns VG_AGAIN at the timeout instead of blocking.
 */
#include "sensor/sensor_live.h"

#include "core/core.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SNAPLEN    65535u
#define DEFAULT_BUFFER     (64u << 20)
#define DEFAULT_TIMEOUT_MS 100u
#define BLOCK_SIZE         (1u << 20) /* a ring block: many frames per wakeup */
#define FRAME_SIZE         2048u      /* TPACKET_V3 ignores it, but the ring request needs it */
#define VLAN_TAG_LEN       4u

struct vg_sensor_live {
    enum vg_sensor_live_backend backend;
    uint32_t linktype;
    uint32_t snaplen;
    int timeout_ms;
    char err[256];
    struct vg_sensor_live_stats st;
    /* libpcap */
    pcap_t *pcap;
    /* AF_PACKET */
    int fd;
    uint8_t *ring;
    size_t ring_len;
    uint32_t nblocks;
    uint32_t block; /* block being read */
    uint32_t left;  /* frames left in it */
    bool holding;   /* the block is ours: give it back before waiting for the next */
    const struct tpacket3_hdr *hdr; /* next frame in the block */
    uint8_t *vbuf;                  /* frame with its VLAN tag put back (snaplen + 4 bytes) */
};

/* ------------------------------------------------------------------ helpers */

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* DLT_ value (libpcap) to the pcap file LINKTYPE_ value the decoder knows. */
static uint32_t dlt_to_linktype(int dlt)
{
    switch (dlt) {
    case DLT_RAW:
        return VG_SENSOR_LINK_RAW;
    case DLT_LINUX_SLL:
        return VG_SENSOR_LINK_SLL;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        return VG_SENSOR_LINK_SLL2;
#endif
    default:
        return (uint32_t)dlt;
    }
}

/*
 * Compile expr for link type dlt (a dead handle when p is NULL). VG_OK and *prog (free with
 * pcap_freecode); VG_EINVAL with libpcap's message in err.
 */
static int compile_bpf(pcap_t *p, int dlt, uint32_t snaplen, const char *expr,
                       struct bpf_program *prog, char *err, size_t errsz)
{
    pcap_t *dead = p ? NULL : pcap_open_dead(dlt, (int)snaplen);
    pcap_t *h = p ? p : dead;
    if (!h) {
        snprintf(err, errsz, "bpf: cannot open a libpcap handle to compile the filter");
        return VG_ENOMEM;
    }
    int rc = VG_OK;
    if (pcap_compile(h, prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errsz, "bpf '%s': %s", expr, pcap_geterr(h));
        rc = VG_EINVAL;
    }
    if (dead) {
        pcap_close(dead);
    }
    return rc;
}

/* ------------------------------------------------------------------ libpcap backend */

/* libpcap's activation status as a status code with its text. */
static int pcap_status(pcap_t *p, int st, const char *iface, char *err, size_t errsz)
{
    const char *why = st == PCAP_ERROR ? pcap_geterr(p) : pcap_statustostr(st);
    snprintf(err, errsz, "%s: %s", iface, why);
    switch (st) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return VG_ENOENT;
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return VG_EDENIED;
    default:
        return VG_EIO;
    }
}

static int pcap_setup(struct vg_sensor_live *l, const struct vg_sensor_live_opts *o, char *err,
                      size_t errsz)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    l->pcap = pcap_create(o->iface, ebuf);
    if (!l->pcap) {
        snprintf(err, errsz, "%s: %s", o->iface, ebuf);
        return VG_EIO;
    }
    pcap_set_snaplen(l->pcap, (int)l->snaplen);
    pcap_set_promisc(l->pcap, o->no_promisc ? 0 : 1);
    pcap_set_timeout(l->pcap, l->timeout_ms);
    pcap_set_immediate_mode(l->pcap, o->immediate ? 1 : 0);
    pcap_set_buffer_size(l->pcap, o->buffer_bytes ? (int)o->buffer_bytes : (int)DEFAULT_BUFFER);
    pcap_set_tstamp_precision(l->pcap, PCAP_TSTAMP_PRECISION_NANO);
    int st = pcap_activate(l->pcap);
    if (st < 0) {
        return pcap_status(l->pcap, st, o->iface, err, errsz);
    }
    if (st > 0) {
        VG_WARN("sensor", "%s: %s", o->iface, pcap_statustostr(st));
    }
    l->linktype = dlt_to_linktype(pcap_datalink(l->pcap));
    if (o->bpf && *o->bpf) {
        struct bpf_program prog;
        int rc = compile_bpf(l->pcap, 0, l->snaplen, o->bpf, &prog, err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
        st = pcap_setfilter(l->pcap, &prog);
        pcap_freecode(&prog);
        if (st != 0) {
            snprintf(err, errsz, "bpf '%s': %s", o->bpf, pcap_geterr(l->pcap));
            return VG_EINVAL;
        }
    }
    if (pcap_setnonblock(l->pcap, 1, ebuf) != 0) {
        snprintf(err, errsz, "%s: %s", o->iface, ebuf);
        return VG_EIO;
    }
    l->backend = VG_SENSOR_LIVE_PCAP;
    return VG_OK;
}

static int pcap_next_frame(struct vg_sensor_live *l, struct vg_sensor_frame *f, int timeout_ms)
{
    for (int round = 0; round < 2; round++) {
        struct pcap_pkthdr *h = NULL;
        const u_char *data = NULL;
        int r = pcap_next_ex(l->pcap, &h, &data);
        if (r == 1) {
            /* nanosecond precision: tv_usec holds nanoseconds */
            *f = (struct vg_sensor_frame){.data = data,
                                          .caplen = h->caplen,
                                          .origlen = h->len,
                                          .ts_ns = (uint64_t)h->ts.tv_sec * 1000000000u +
                                                   (uint64_t)h->ts.tv_usec,
                                          .linktype = l->linktype};
            return VG_OK;
        }
        if (r < 0) {
            snprintf(l->err, sizeof(l->err), "pcap: %s", pcap_geterr(l->pcap));
            return VG_EIO;
        }
        if (round == 0) {
            struct pollfd pfd = {.fd = pcap_get_selectable_fd(l->pcap), .events = POLLIN};
            if (pfd.fd < 0 || poll(&pfd, 1, timeout_ms) <= 0) {
                return VG_AGAIN;
            }
        }
    }
    return VG_AGAIN;
}

/* ------------------------------------------------------------------ AF_PACKET backend */

static int errno_status(int e)
{
    return e == EPERM || e == EACCES ? VG_EDENIED : e == ENODEV || e == ENXIO ? VG_ENOENT : VG_EIO;
}

/* Link type of the interface (Ethernet or loopback only: they carry an Ethernet header). */
static int afp_linktype(struct vg_sensor_live *l, const char *iface, char *err, size_t errsz)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    vg_strlcpy(ifr.ifr_name, iface, sizeof(ifr.ifr_name));
    if (ioctl(l->fd, SIOCGIFHWADDR, &ifr) != 0) {
        snprintf(err, errsz, "%s: %s", iface, strerror(errno));
        return errno_status(errno);
    }
    int hw = ifr.ifr_hwaddr.sa_family;
    if (hw != ARPHRD_ETHER && hw != ARPHRD_LOOPBACK) {
        snprintf(err, errsz, "%s: link type %d is not Ethernet (use the pcap backend)", iface, hw);
        return VG_EUNSUPPORTED;
    }
    l->linktype = VG_SENSOR_LINK_ETHERNET;
    return VG_OK;
}

/* The user's filter, or "accept snaplen bytes", attached before the socket is bound. */
static int afp_filter(struct vg_sensor_live *l, const char *expr, char *err, size_t errsz)
{
    struct sock_filter accept = BPF_STMT(BPF_RET | BPF_K, l->snaplen);
    struct sock_fprog fp = {.len = 1, .filter = &accept};
    struct bpf_program prog = {0};
    if (expr && *expr) {
        int rc = compile_bpf(NULL, DLT_EN10MB, l->snaplen, expr, &prog, err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
        /* struct bpf_insn and struct sock_filter have the same layout */
        fp.len = (unsigned short)prog.bf_len;
        fp.filter = (struct sock_filter *)(void *)prog.bf_insns;
    }
    int r = setsockopt(l->fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
    int e = errno;
    if (expr && *expr) {
        pcap_freecode(&prog);
    }
    if (r != 0) {
        snprintf(err, errsz, "SO_ATTACH_FILTER: %s", strerror(e));
        return errno_status(e);
    }
    return VG_OK;
}

static int afp_ring(struct vg_sensor_live *l, const struct vg_sensor_live_opts *o, char *err,
                    size_t errsz)
{
    int ver = TPACKET_V3;
    uint32_t buf = o->buffer_bytes ? o->buffer_bytes : DEFAULT_BUFFER;
    struct tpacket_req3 req = {
        .tp_block_size = BLOCK_SIZE,
        .tp_block_nr = VG_MAX(buf / BLOCK_SIZE, 2u),
        .tp_frame_size = FRAME_SIZE,
        .tp_retire_blk_tov = (unsigned int)l->timeout_ms,
        .tp_feature_req_word = 0,
    };
    req.tp_frame_nr = req.tp_block_size / req.tp_frame_size * req.tp_block_nr;
    if (setsockopt(l->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) != 0 ||
        setsockopt(l->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0) {
        snprintf(err, errsz, "TPACKET_V3 ring: %s", strerror(errno));
        return errno_status(errno);
    }
    l->nblocks = req.tp_block_nr;
    l->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
    void *m = mmap(NULL, l->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, l->fd, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errsz, "mmap of the %zu-byte ring: %s", l->ring_len, strerror(errno));
        return VG_ENOMEM;
    }
    l->ring = m;
    return VG_OK;
}

static int afp_bind(struct vg_sensor_live *l, const struct vg_sensor_live_opts *o, char *err,
                    size_t errsz)
{
    unsigned int ifindex = if_nametoindex(o->iface);
    if (!ifindex) {
        snprintf(err, errsz, "%s: no such interface", o->iface);
        return VG_ENOENT;
    }
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)ifindex};
    if (bind(l->fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
        snprintf(err, errsz, "%s: bind: %s", o->iface, strerror(errno));
        return errno_status(errno);
    }
    if (!o->no_promisc) {
        struct packet_mreq mr = {.mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC};
        if (setsockopt(l->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
            VG_WARN("sensor", "%s: promiscuous mode: %s", o->iface, strerror(errno));
        }
    }
    if (o->fanout_group) {
        uint32_t mode = (uint32_t)(PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG);
        uint32_t word = (uint32_t)o->fanout_group | (mode << 16);
        int arg;
        memcpy(&arg, &word, sizeof(arg)); /* the kernel reads the bits; the sign bit is a flag */
        if (setsockopt(l->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
            snprintf(err, errsz, "%s: PACKET_FANOUT group %u: %s", o->iface, o->fanout_group,
                     strerror(errno));
            return errno_status(errno);
        }
    }
    return VG_OK;
}

static int afp_setup(struct vg_sensor_live *l, const struct vg_sensor_live_opts *o, char *err,
                     size_t errsz)
{
    if (!strcmp(o->iface, "any")) {
        snprintf(err, errsz, "any: the AF_PACKET backend needs one interface (use pcap)");
        return VG_EUNSUPPORTED;
    }
    l->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* no protocol until bound */
    if (l->fd < 0) {
        snprintf(err, errsz, "AF_PACKET socket: %s", strerror(errno));
        return errno_status(errno);
    }
    int rc = afp_linktype(l, o->iface, err, errsz);
    rc = rc ? rc : afp_filter(l, o->bpf, err, errsz);
    rc = rc ? rc : afp_ring(l, o, err, errsz);
    rc = rc ? rc : afp_bind(l, o, err, errsz);
    if (rc == VG_OK) {
        l->vbuf = vg_malloc(l->snaplen + VLAN_TAG_LEN);
        rc = l->vbuf ? VG_OK : VG_ENOMEM;
        l->backend = VG_SENSOR_LIVE_AFPACKET;
    }
    return rc;
}

static struct tpacket_block_desc *afp_block(const struct vg_sensor_live *l, uint32_t i)
{
    return (struct tpacket_block_desc *)(void *)(l->ring + (size_t)i * BLOCK_SIZE);
}

/* Give the block being read back to the kernel and move to the next. */
static void afp_release(struct vg_sensor_live *l)
{
    struct tpacket_block_desc *b = afp_block(l, l->block);
    atomic_thread_fence(memory_order_release);
    b->hdr.bh1.block_status = TP_STATUS_KERNEL;
    l->holding = false;
    l->left = 0;
    l->block = (l->block + 1) % l->nblocks;
}

/* Take the next block if the kernel handed it over (waiting up to timeout_ms). */
static int afp_take(struct vg_sensor_live *l, int timeout_ms)
{
    struct tpacket_block_desc *b = afp_block(l, l->block);
    if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
        struct pollfd pfd = {.fd = l->fd, .events = POLLIN | POLLERR};
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno != EINTR) {
            snprintf(l->err, sizeof(l->err), "poll: %s", strerror(errno));
            return VG_EIO;
        }
        if (r > 0 && (pfd.revents & (POLLERR | POLLNVAL))) {
            snprintf(l->err, sizeof(l->err), "capture socket error (interface down?)");
            return VG_EIO;
        }
        if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
            return VG_AGAIN;
        }
    }
    l->holding = true;
    l->left = b->hdr.bh1.num_pkts;
    l->hdr = (const struct tpacket3_hdr *)(const void *)((const uint8_t *)b +
                                                         b->hdr.bh1.offset_to_first_pkt);
    return VG_OK;
}

/* The frame at l->hdr (with a stripped VLAN tag put back). */
static void afp_frame(struct vg_sensor_live *l, struct vg_sensor_frame *f)
{
    const struct tpacket3_hdr *h = l->hdr;
    const uint8_t *data = (const uint8_t *)h + h->tp_mac;
    uint32_t caplen = VG_MIN(h->tp_snaplen, l->snaplen), origlen = h->tp_len;
    if ((h->tp_status & TP_STATUS_VLAN_VALID) && caplen >= 12) {
        uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : 0x8100;
        uint16_t tci = h->hv1.tp_vlan_tci;
        memcpy(l->vbuf, data, 12);
        l->vbuf[12] = (uint8_t)(tpid >> 8);
        l->vbuf[13] = (uint8_t)tpid;
        l->vbuf[14] = (uint8_t)(tci >> 8);
        l->vbuf[15] = (uint8_t)tci;
        memcpy(l->vbuf + 16, data + 12, caplen - 12);
        data = l->vbuf;
        caplen += VLAN_TAG_LEN;
        origlen += VLAN_TAG_LEN;
    }
    *f = (struct vg_sensor_frame){.data = data,
                                  .caplen = caplen,
                                  .origlen = origlen,
                                  .ts_ns = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec,
                                  .linktype = l->linktype};
    l->left--;
    l->hdr = (const struct tpacket3_hdr *)(const void *)((const uint8_t *)h + h->tp_next_offset);
}

static int afp_next_frame(struct vg_sensor_live *l, struct vg_sensor_frame *f, int timeout_ms)
{
    for (;;) {
        if (l->holding && l->left) {
            afp_frame(l, f);
            return VG_OK;
        }
        if (l->holding) {
            afp_release(l);
        }
        int rc = afp_take(l, timeout_ms);
        if (rc != VG_OK) {
            return rc;
        }
        timeout_ms = 0; /* an empty block: look at the next without waiting again */
    }
}

static void afp_stats(struct vg_sensor_live *l)
{
    struct tpacket_stats_v3 ks;
    socklen_t len = sizeof(ks);
    memset(&ks, 0, sizeof(ks));
    if (getsockopt(l->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0) {
        /* the kernel resets them on each read: accumulate */
        l->st.kernel += ks.tp_packets;
        l->st.dropped += ks.tp_drops;
        l->st.freezes += ks.tp_freeze_q_cnt;
    }
}

/* ------------------------------------------------------------------ public */

static int live_setup(struct vg_sensor_live *l, const struct vg_sensor_live_opts *o, char *err,
                      size_t errsz)
{
    if (o->backend == VG_SENSOR_LIVE_PCAP) {
        return pcap_setup(l, o, err, errsz);
    }
    int rc = afp_setup(l, o, err, errsz);
    if (rc == VG_OK || o->backend == VG_SENSOR_LIVE_AFPACKET || rc == VG_EINVAL ||
        rc == VG_ENOENT) {
        return rc;
    }
    VG_INFO("sensor", "%s: AF_PACKET unavailable (%s); using libpcap", o->iface, err);
    if (l->ring) {
        munmap(l->ring, l->ring_len);
        l->ring = NULL;
    }
    close(l->fd);
    l->fd = -1;
    vg_free(l->vbuf);
    l->vbuf = NULL;
    return pcap_setup(l, o, err, errsz);
}

int vg_sensor_live_open(const struct vg_sensor_live_opts *o, struct vg_sensor_live **out, char *err,
                        size_t errsz)
{
    *out = NULL;
    if (!o || !o->iface || !*o->iface || strlen(o->iface) >= IFNAMSIZ) {
        snprintf(err, errsz, "live capture: an interface name is required");
        return VG_EINVAL;
    }
    struct vg_sensor_live *l = vg_calloc(1, sizeof(*l));
    if (!l) {
        return VG_ENOMEM;
    }
    l->fd = -1;
    l->snaplen = o->snaplen ? VG_MIN(o->snaplen, 262144u) : DEFAULT_SNAPLEN;
    l->timeout_ms = (int)(o->timeout_ms ? VG_MIN(o->timeout_ms, 60000u) : DEFAULT_TIMEOUT_MS);
    int rc = live_setup(l, o, err, errsz);
    if (rc != VG_OK) {
        vg_sensor_live_close(l);
        return rc;
    }
    *out = l;
    return VG_OK;
}

int vg_sensor_live_next(struct vg_sensor_live *l, struct vg_sensor_frame *f, int timeout_ms)
{
    if (timeout_ms < 0) {
        timeout_ms = l->timeout_ms;
    }
    int rc = l->backend == VG_SENSOR_LIVE_PCAP ? pcap_next_frame(l, f, timeout_ms)
                                               : afp_next_frame(l, f, timeout_ms);
    if (rc == VG_OK) {
        l->st.received++;
        l->st.bytes += f->caplen;
    }
    return rc;
}

void vg_sensor_live_stats(struct vg_sensor_live *l, struct vg_sensor_live_stats *st)
{
    if (l->backend == VG_SENSOR_LIVE_PCAP) {
        struct pcap_stat ps;
        if (pcap_stats(l->pcap, &ps) == 0) { /* cumulative on Linux */
            l->st.kernel = ps.ps_recv;
            l->st.dropped = ps.ps_drop;
            l->st.if_dropped = ps.ps_ifdrop;
        }
    } else {
        afp_stats(l);
    }
    *st = l->st;
}

const char *vg_sensor_live_backend_name(const struct vg_sensor_live *l)
{
    return l->backend == VG_SENSOR_LIVE_PCAP ? "pcap" : "afpacket";
}

uint32_t vg_sensor_live_linktype(const struct vg_sensor_live *l)
{
    return l->linktype;
}

const char *vg_sensor_live_error(const struct vg_sensor_live *l)
{
    return l->err;
}

void vg_sensor_live_close(struct vg_sensor_live *l)
{
    if (!l) {
        return;
    }
    if (l->pcap) {
        pcap_close(l->pcap);
    }
    if (l->ring) {
        munmap(l->ring, l->ring_len);
    }
    if (l->fd >= 0) {
        close(l->fd);
    }
    vg_free(l->vbuf);
    vg_free(l);
}

int vg_sensor_live_run(struct vg_sensor_live *l, const volatile sig_atomic_t *stop,
                       vg_sensor_live_frame_fn on_frame, vg_sensor_live_tick_fn on_tick, void *ctx)
{
    int64_t last_tick = wall_ns();
    while (!*stop) {
        struct vg_sensor_frame f;
        int rc = vg_sensor_live_next(l, &f, -1);
        if (rc == VG_OK) {
            on_frame(ctx, &f);
        } else if (rc != VG_AGAIN) {
            return rc;
        }
        /* ticks: on an idle timeout, and once a second under traffic */
        if (on_tick && (rc == VG_AGAIN || (l->st.received & 1023) == 0)) {
            int64_t now = wall_ns();
            if (rc == VG_AGAIN || now - last_tick >= 1000000000) {
                on_tick(ctx, now);
                last_tick = now;
            }
        }
    }
    return VG_OK;
}
