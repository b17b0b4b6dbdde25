/*
 * test_live.c — live capture (sensor_live.h) on a veth pair in a network namespace of the
 * test's own (unshare(CLONE_NEWNET): the namespace and its links vanish with the process).
 * Known UDP frames are injected on one end through an AF_PACKET socket and captured on the
 * other with both backends, with and without a BPF filter; fanout splits flows between two
 * handles; a quiet link gives idle ticks; a bad filter gives libpcap's message. The last test
 * measures the packet rate captured without drops. Needs root (skipped otherwise).
 */
#include "sensor/sensor_live.h"
#include "sensor/sensor_pkt.h"
#include "vgtest.h"

#include "core/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TX "vgl_tx"
#define RX "vgl_rx"

static int ns_state; /* 0 untried, 1 ready, -1 unavailable */

static int sh(const char *cmd)
{
    return system(cmd);
}

/* A private network namespace with the veth pair TX <-> RX up, IPv6 off (no stray frames). */
static bool netns_ready(void)
{
    if (ns_state) {
        return ns_state > 0;
    }
    ns_state = -1;
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
        return false;
    }
    if (sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 "
           ">/dev/null 2>&1; ip link add " TX " type veth peer name " RX " && ip link set " TX
           " up && ip link set " RX " up && ip link set lo up") != 0) {
        return false;
    }
    ns_state = 1;
    return true;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An Ethernet/IPv4/UDP frame from 10.9.0.1:sport to 10.9.0.2:dport with a 4-byte seq. */
static size_t make_frame(uint8_t *b, uint16_t sport, uint16_t dport, uint32_t seq)
{
    static const uint8_t mac[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
    memset(b, 0, 64);
    memcpy(b, mac, 12);
    b[12] = 0x08;
    b[13] = 0x00;
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    ip[3] = 20 + 8 + 22; /* total length 50 */
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 10, ip[13] = 9, ip[14] = 0, ip[15] = 1;
    ip[16] = 10, ip[17] = 9, ip[18] = 0, ip[19] = 2;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = ~sum & 0xffff;
    ip[10] = (uint8_t)(sum >> 8);
    ip[11] = (uint8_t)sum;
    uint8_t *udp = ip + 20;
    udp[0] = (uint8_t)(sport >> 8), udp[1] = (uint8_t)sport;
    udp[2] = (uint8_t)(dport >> 8), udp[3] = (uint8_t)dport;
    udp[5] = 8 + 22;
    memcpy(udp + 8, "vigie-live", 10);
    udp[18] = (uint8_t)(seq >> 24), udp[19] = (uint8_t)(seq >> 16);
    udp[20] = (uint8_t)(seq >> 8), udp[21] = (uint8_t)seq;
    return 14 + 50;
}

static int tx_socket(void)
{
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(TX)};
    int big = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send n frames to dport (sports cycle over flows), seq from 0. */
static void send_frames(int fd, int n, uint16_t dport, int flows)
{
    uint8_t b[128];
    for (int i = 0; i < n; i++) {
        size_t len = make_frame(b, (uint16_t)(20000 + i % flows), dport, (uint32_t)i);
        while (send(fd, b, len, 0) < 0 && errno == ENOBUFS) {
            sched_yield();
        }
    }
}

/* Frames of ours (marker) captured until want of them arrived or ms passed. */
struct counts {
    int ours, other, to7777, to8888;
    uint64_t last_ts;
    bool ts_ok;
};

static void count_frames(struct vg_sensor_live *l, int want, int ms, struct counts *c)
{
    int64_t end = mono_ms() + ms;
    memset(c, 0, sizeof(*c));
    c->ts_ok = true;
    while (c->ours < want && mono_ms() < end) {
        struct vg_sensor_frame f;
        struct vg_sensor_pkt p;
        if (vg_sensor_live_next(l, &f, 50) != VG_OK) {
            continue;
        }
        if (vg_sensor_decode(&p, f.linktype, f.data, f.caplen) == VG_OK && p.payload_len >= 10 &&
            !memcmp(p.payload, "vigie-live", 10)) {
            c->ours++;
            c->to7777 += p.dport == 7777;
            c->to8888 += p.dport == 8888;
            uint64_t now = (uint64_t)time(NULL) * 1000000000u;
            c->ts_ok = c->ts_ok && f.ts_ns + 5000000000u > now && f.ts_ns < now + 5000000000u;
        } else {
            c->other++;
        }
    }
}

static void capture_known(enum vg_sensor_live_backend be, const char *bpf)
{
    if (!netns_ready()) {
        VG_SKIP("needs root and network namespaces");
    }
    struct vg_sensor_live_opts o = {.iface = RX, .backend = be, .bpf = bpf, .timeout_ms = 20};
    struct vg_sensor_live *l = NULL;
    char err[256] = "";
    int rc = vg_sensor_live_open(&o, &l, err, sizeof(err));
    CHECK_EQ_INT(rc, VG_OK);
    if (rc != VG_OK) {
        fprintf(stderr, "  open: %s\n", err);
        return;
    }
    CHECK_STR(vg_sensor_live_backend_name(l), be == VG_SENSOR_LIVE_PCAP ? "pcap" : "afpacket");
    CHECK_EQ_INT(vg_sensor_live_linktype(l), VG_SENSOR_LINK_ETHERNET);
    int fd = tx_socket();
    CHECK(fd >= 0);
    send_frames(fd, 300, 7777, 7);
    send_frames(fd, 200, 8888, 5);
    struct counts c;
    int want = bpf ? 300 : 500;
    count_frames(l, want, 3000, &c);
    CHECK_EQ_INT(c.ours, want);
    CHECK_EQ_INT(c.to7777, 300);
    CHECK_EQ_INT(c.to8888, bpf ? 0 : 200);
    CHECK_EQ_INT(c.other, 0);
    CHECK(c.ts_ok);
    /* nothing else arrives afterwards */
    count_frames(l, 1, 300, &c);
    CHECK_EQ_INT(c.ours, 0);
    struct vg_sensor_live_stats st;
    vg_sensor_live_stats(l, &st);
    CHECK_EQ_INT(st.received, want);
    CHECK_EQ_INT(st.dropped, 0);
    close(fd);
    vg_sensor_live_close(l);
}

VG_TEST(afpacket_captures_every_frame)
{
    capture_known(VG_SENSOR_LIVE_AFPACKET, NULL);
}

VG_TEST(afpacket_applies_the_bpf_filter)
{
    capture_known(VG_SENSOR_LIVE_AFPACKET, "udp and dst port 7777");
}

VG_TEST(pcap_captures_every_frame)
{
    capture_known(VG_SENSOR_LIVE_PCAP, NULL);
}

VG_TEST(pcap_applies_the_bpf_filter)
{
    capture_known(VG_SENSOR_LIVE_PCAP, "udp and dst port 7777");
}

VG_TEST(bad_filter_and_interface_are_reported)
{
    if (!netns_ready()) {
        VG_SKIP("needs root and network namespaces");
    }
    for (int be = VG_SENSOR_LIVE_PCAP; be <= VG_SENSOR_LIVE_AFPACKET; be++) {
        struct vg_sensor_live_opts o = {.iface = RX, .backend = be, .bpf = "udp port nope"};
        struct vg_sensor_live *l = NULL;
        char err[256] = "";
        CHECK_EQ_INT(vg_sensor_live_open(&o, &l, err, sizeof(err)), VG_EINVAL);
        CHECK(l == NULL);
        CHECK(strstr(err, "bpf 'udp port nope'") != NULL);
        o.bpf = NULL;
        o.iface = "vgl_missing0";
        CHECK_EQ_INT(vg_sensor_live_open(&o, &l, err, sizeof(err)), VG_ENOENT);
    }
}

VG_TEST(idle_link_times_out_and_ticks)
{
    if (!netns_ready()) {
        VG_SKIP("needs root and network namespaces");
    }
    struct vg_sensor_live_opts o = {.iface = RX, .timeout_ms = 30};
    struct vg_sensor_live *l = NULL;
    char err[256];
    CHECK_EQ_INT(vg_sensor_live_open(&o, &l, err, sizeof(err)), VG_OK);
    if (!l) {
        return;
    }
    struct vg_sensor_frame f;
    int64_t t0 = mono_ms();
    CHECK_EQ_INT(vg_sensor_live_next(l, &f, -1), VG_AGAIN);
    CHECK(mono_ms() - t0 < 1000);
    vg_sensor_live_close(l);
}

/* vg_sensor_live_run: stops on the flag; ticks on a quiet link. */
struct run_ctx {
    volatile sig_atomic_t stop;
    int frames, ticks;
};

static void run_frame(void *ctx, const struct vg_sensor_frame *f)
{
    struct run_ctx *r = ctx;
    (void)f;
    r->frames++;
}

static void run_tick(void *ctx, int64_t now)
{
    struct run_ctx *r = ctx;
    (void)now;
    if (++r->ticks >= 3) {
        r->stop = 1;
    }
}

VG_TEST(run_loop_ticks_and_stops)
{
    if (!netns_ready()) {
        VG_SKIP("needs root and network namespaces");
    }
    struct vg_sensor_live_opts o = {.iface = RX, .timeout_ms = 20};
    struct vg_sensor_live *l = NULL;
    char err[256];
    CHECK_EQ_INT(vg_sensor_live_open(&o, &l, err, sizeof(err)), VG_OK);
    if (!l) {
        return;
    }
    struct run_ctx r = {0};
    CHECK_EQ_INT(vg_sensor_live_run(l, &r.stop, run_frame, run_tick, &r), VG_OK);
    CHECK_EQ_INT(r.ticks, 3);
    vg_sensor_live_close(l);
}

VG_TEST(fanout_splits_flows_between_handles)
{
    if (!netns_ready()) {
        VG_SKIP("needs root and network namespaces");
    }
    struct vg_sensor_live *l[2] = {NULL, NULL};
    char err[256];
    for (int i = 0; i < 2; i++) {
        struct vg_sensor_live_opts o = {.iface = RX,
                                        .backend = VG_SENSOR_LIVE_AFPACKET,
                                        .timeout_ms = 20,
                                        .fanout_group = 4242};
        CHECK_EQ_INT(vg_sensor_live_open(&o, &l[i], err, sizeof(err)), VG_OK);
    }
    if (!l[0] || !l[1]) {
        return;
    }
    int fd = tx_socket();
    send_frames(fd, 640, 7777, 64);
    /* per handle: which source ports (flows) it saw */
    int seen[2][64] = {{0}}, total = 0;
    int64_t end = mono_ms() + 3000;
    while (total < 640 && mono_ms() < end) {
        for (int i = 0; i < 2; i++) {
            struct vg_sensor_frame f;
            struct vg_sensor_pkt p;
            while (vg_sensor_live_next(l[i], &f, 10) == VG_OK) {
                if (vg_sensor_decode(&p, f.linktype, f.data, f.caplen) == VG_OK &&
                    p.sport >= 20000 && p.sport < 20064) {
                    seen[i][p.sport - 20000]++;
                    total++;
                }
            }
        }
    }
    CHECK_EQ_INT(total, 640);
    int split = 0, both = 0;
    for (int k = 0; k < 64; k++) {
        both += seen[0][k] && seen[1][k];
        split += seen[0][k] > 0;
    }
    CHECK_EQ_INT(both, 0);          /* a flow goes to one handle */
    CHECK(split > 0 && split < 64); /* and both handles get flows */
    close(fd);
    vg_sensor_live_close(l[0]);
    vg_sensor_live_close(l[1]);
}

/* ------------------------------------------------------------------ rate */

struct rate_ctx {
    struct vg_sensor_live *l;
    atomic_int done;
    long got;
};

static void *rate_reader(void *arg)
{
    struct rate_ctx *r = arg;
    struct vg_sensor_frame f;
    for (;;) {
        int rc = vg_sensor_live_next(r->l, &f, 20);
        if (rc == VG_OK) {
            r->got++;
        } else if (atomic_load(&r->done)) {
            break;
        }
    }
    return NULL;
}

static void measure(enum vg_sensor_live_backend be, int n)
{
    struct vg_sensor_live_opts o = {.iface = RX, .backend = be, .timeout_ms = 10};
    struct rate_ctx r = {0};
    char err[256];
    if (vg_sensor_live_open(&o, &r.l, err, sizeof(err)) != VG_OK) {
        CHECK(0);
        return;
    }
    pthread_t th;
    pthread_create(&th, NULL, rate_reader, &r);
    int fd = tx_socket();
    uint64_t t0 = vg_clock_ns();
    send_frames(fd, n, 7777, 256);
    uint64_t t1 = vg_clock_ns();
    usleep(200 * 1000);
    atomic_store(&r.done, 1);
    pthread_join(th, NULL);
    struct vg_sensor_live_stats st;
    vg_sensor_live_stats(r.l, &st);
    double secs = (double)(t1 - t0) / 1e9;
    printf("  live %-8s: %d frames sent in %.3f s (%.0f frames/s offered), captured %ld, "
           "kernel drops %llu\n",
           vg_sensor_live_backend_name(r.l), n, secs, n / secs, r.got,
           (unsigned long long)st.dropped);
    CHECK_EQ_INT(r.got + (long)st.dropped, n);
    close(fd);
    vg_sensor_live_close(r.l);
}

VG_TEST(capture_rate_on_veth)
{
    if (!netns_ready()) {
        VG_SKIP("needs root and network namespaces");
    }
    int n = getenv("VG_LIVE_RATE_N") ? (int)strtol(getenv("VG_LIVE_RATE_N"), NULL, 10) : 200000;
    measure(VG_SENSOR_LIVE_AFPACKET, n);
    measure(VG_SENSOR_LIVE_PCAP, n);
}
