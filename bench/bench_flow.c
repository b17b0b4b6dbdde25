/*
 * bench_flow.c — throughput of the sensor's flow table (src/sensor/sensor_flow.c) on one
 * core: PACKETS packets over FLOWS flows (default 10M over 1M), packets/s and ns/packet.
 *
 *   bench_flow [PACKETS] [FLOWS] [MAX_FLOWS]
 *
 * The traffic is generated in memory before timing: a mix of IPv4 (90 %) and IPv6 flows,
 * 75 % TCP, 22 % UDP, 3 % ICMP; flow popularity is heavy-tailed (a Zipf-like draw: a few
 * elephant flows carry most packets, most flows see a handful), each flow starts with its
 * handshake (SYN, SYN-ACK, ACK) and its packets go both ways (60 % to the server). The
 * packet clock advances 1 µs per packet on average, so UDP/ICMP flows idle for long enough
 * time out while the run goes; MAX_FLOWS (default 1M) below FLOWS exercises eviction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "sensor/sensor_flow.h"

#include "bench_util.h"

static double rnd01(void)
{
    return (double)(rnd64() >> 11) / 9007199254740992.0;
}

static void make_key(struct vg_flow_key *k, uint32_t i)
{
    memset(k, 0, sizeof(*k));
    uint32_t r = (uint32_t)rnd64();
    int six = r % 10 == 0;
    uint32_t p = (r >> 8) % 100;
    k->family = six ? VG_SENSOR_FLOW_AF_INET6 : VG_SENSOR_FLOW_AF_INET;
    k->proto = p < 75 ? 6 : p < 97 ? 17 : 1;
    uint32_t client = 0x0a000000u | (i & 0xffffu), server = 0xc0a80000u | ((r >> 16) & 0x3ffu);
    memcpy(k->src + (six ? 12 : 0), &client, 4);
    memcpy(k->dst + (six ? 12 : 0), &server, 4);
    if (six) {
        k->src[0] = k->dst[0] = 0x20;
    }
    static const uint16_t svc[] = {443, 80, 53, 22, 25, 123, 8080, 3389};
    k->sport = k->proto == 1 ? 0 : (uint16_t)(1024 + (i >> 16) * 97 % 60000 + (i & 3));
    k->dport = k->proto == 1 ? 0 : k->proto == 17 ? 53 : svc[(r >> 26) % 8];
}

/* Zipf-like index in [0, n): u^3 skews mass toward low indices (s ≈ 0.67). */
static uint32_t popular(uint32_t n)
{
    double u = rnd01();
    return (uint32_t)(n * u * u * u) % n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_end(void *ctx, struct vg_sensor_flow *f, enum vg_sensor_flow_end why)
{
    uint64_t *sum = ctx;
    (void)why;
    *sum += f->pkts[0] + f->pkts[1];
}

struct gen {
    struct vg_flow_key *keys; /* per flow, client -> server */
    uint32_t *pick;           /* per packet: flow index */
    uint8_t *seen;            /* per flow: packets generated so far (saturating) */
};

static int generate(struct gen *g, uint64_t npkts, uint32_t nflows)
{
    g->keys = malloc(sizeof(*g->keys) * nflows);
    g->pick = malloc(sizeof(*g->pick) * npkts);
    g->seen = calloc(nflows, 1);
    if (!g->keys || !g->pick || !g->seen) {
        return -1;
    }
    for (uint32_t i = 0; i < nflows; i++) {
        make_key(&g->keys[i], i);
    }
    /* the first nflows packets touch every flow once (in random order), the rest are
     * drawn from the skewed popularity */
    for (uint64_t j = 0; j < npkts; j++) {
        g->pick[j] = j < nflows ? (uint32_t)j : popular(nflows);
    }
    for (uint64_t j = (npkts < nflows ? npkts : nflows); j > 1; j--) {
        uint64_t r = rnd64() % j;
        uint32_t tmp = g->pick[j - 1];
        g->pick[j - 1] = g->pick[r];
        g->pick[r] = tmp;
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t npkts = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000ULL;
    uint32_t nflows = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000000u;
    size_t maxf = argc > 3 ? strtoull(argv[3], NULL, 10) : 1000000u;
    struct gen g = {0};
    struct vg_sensor_flow_table *t = NULL;
    struct vg_sensor_flow_config cfg;
    uint64_t ended_pkts = 0;
    if (nflows == 0 || generate(&g, npkts, nflows) != 0) {
        fprintf(stderr, "bench_flow: out of memory\n");
        return 1;
    }
    vg_sensor_flow_config_default(&cfg);
    cfg.max_flows = maxf;
    if (vg_sensor_flow_table_create(&cfg, on_end, &ended_pkts, &t) != VG_OK) {
        fprintf(stderr, "bench_flow: cannot create the table\n");
        return 1;
    }
    static const uint8_t hs[] = {VG_SENSOR_TCP_SYN, VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK,
                                 VG_SENSOR_TCP_ACK};
    int64_t ts = 1500000000LL * 1000000000LL;
    uint64_t checksum = 0;
    double t0 = now_s();
    for (uint64_t j = 0; j < npkts; j++) {
        uint32_t i = g.pick[j];
        struct vg_flow_key k = g.keys[i];
        uint8_t s = g.seen[i];
        int back = s < 3 ? s == 1 : (rnd64() & 0xff) < 102; /* 40 % to the client */
        struct vg_flow_pkt p = {.ts_ns = ts += 1000, .bytes = 60 + (uint32_t)(j & 1023)};
        p.payload = p.bytes - 52;
        p.tcp_flags = k.proto != 6 ? 0 : s < 3 ? hs[s] : VG_SENSOR_TCP_ACK;
        if (back) {
            struct vg_flow_key r = k;
            memcpy(r.src, k.dst, 16);
            memcpy(r.dst, k.src, 16);
            r.sport = k.dport;
            r.dport = k.sport;
            k = r;
        }
        g.seen[i] = s < 255 ? (uint8_t)(s + 1) : s;
        struct vg_sensor_flow *f = NULL;
        if (vg_sensor_flow_lookup_or_create(t, &k, &p, &f, NULL) != VG_OK) {
            fprintf(stderr, "bench_flow: lookup failed\n");
            return 1;
        }
        checksum += f->tcp_state;
    }
    double el = now_s() - t0;
    struct vg_sensor_flow_stats st;
    vg_sensor_flow_table_stats(t, &st);
    printf("flow table: %" PRIu64 " packets over %u flows (max %zu) in %.3f s on one core\n", npkts,
           nflows, maxf, el);
    printf("  %.2f Mpackets/s, %.1f ns/packet\n", (double)npkts / el / 1e6,
           el * 1e9 / (double)npkts);
    printf("  flows created %" PRIu64 ", active %" PRIu64 ", timed out %" PRIu64
           ", evicted %" PRIu64 " (checksum %" PRIu64 ")\n",
           st.created, st.active, st.timed_out, st.evicted, checksum);
    vg_sensor_flow_table_flush(t);
    vg_sensor_flow_table_destroy(t);
    printf("  packets reported at flow end: %" PRIu64 "\n", ended_pkts);
    free(g.keys);
    free(g.pick);
    free(g.seen);
    return ended_pkts == npkts ? 0 : 1;
}
