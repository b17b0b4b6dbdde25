/*
 * test_workers.c — the sensor's worker threads (sensor_workers.h).
 *
 * With a fake engine (through the ops hook) whose every frame writes one line naming its
 * worker and flow: every frame is processed once, both directions of a flow reach the same
 * worker, frames without IP go to worker 0, output lines are whole (never interleaved),
 * a small ring applies back-pressure without loss, drop mode counts its drops, ticks reach
 * every engine. With the real engine on corpus pcaps: 1 and 2 workers give the same records
 * (flow ids aside).
 */
#include "sensor/sensor_workers.h"
#include "vgtest.h"

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ fake engine */

struct vg_sensor_engine {
    vg_sensor_sink_fn sink;
    void *ctx;
    uint32_t worker;
    uint64_t frames, ticks;
    int slow_us;
};

static atomic_int fake_slow_us;
static atomic_long fake_ticks;

static int fake_create(const struct vg_sensor_engine_config *cfg, vg_sensor_sink_fn sink, void *ctx,
                       struct vg_sensor_engine **out)
{
    struct vg_sensor_engine *e = vg_calloc(1, sizeof(*e));
    if (!e) {
        return VG_ENOMEM;
    }
    e->sink = sink;
    e->ctx = ctx;
    e->worker = cfg->worker;
    e->slow_us = atomic_load(&fake_slow_us);
    *out = e;
    return VG_OK;
}

/* One line per frame: "w<worker> <lo addr-port>|<hi addr-port> <pcap_cnt> <padding>\n" */
static void fake_frame(struct vg_sensor_engine *e, const struct vg_sensor_frame *f, uint64_t cnt)
{
    struct vg_sensor_pkt p;
    char line[600];
    int n;
    e->frames++;
    if (vg_sensor_decode(&p, f->linktype, f->data, f->caplen) == VG_OK && p.ip_version == 4) {
        unsigned a = p.src[3], b = p.dst[3];
        unsigned pa = p.sport, pb = p.dport;
        if (a > b || (a == b && pa > pb)) {
            unsigned t = a;
            a = b, b = t, t = pa, pa = pb, pb = t;
        }
        n = snprintf(line, sizeof(line), "w%u %u:%u|%u:%u %llu %0*d\n", e->worker, a, pa, b, pb,
                     (unsigned long long)cnt, (int)(cnt % 400), 0);
    } else {
        n = snprintf(line, sizeof(line), "w%u noip %llu\n", e->worker, (unsigned long long)cnt);
    }
    if (e->slow_us) {
        usleep((useconds_t)e->slow_us);
    }
    e->sink(e->ctx, line, (size_t)n);
}

static void fake_tick(struct vg_sensor_engine *e, int64_t now)
{
    (void)now;
    e->ticks++;
    atomic_fetch_add(&fake_ticks, 1);
}

static void fake_flush(struct vg_sensor_engine *e)
{
    char line[64];
    int n =
        snprintf(line, sizeof(line), "flush w%u %llu\n", e->worker, (unsigned long long)e->frames);
    e->sink(e->ctx, line, (size_t)n);
}

static void fake_stats(const struct vg_sensor_engine *e, struct vg_sensor_engine_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->packets = e->frames;
}

static void fake_destroy(struct vg_sensor_engine *e)
{
    vg_free(e);
}

static const struct vg_sensor_workers_engine_ops fake_ops = {fake_create, fake_frame, fake_tick,
                                                             fake_flush,  fake_stats, fake_destroy};

/* ------------------------------------------------------------------ output capture */

struct out {
    struct vg_sbuf s;
    long calls;
};

static void out_fn(void *ctx, const char *lines, size_t len)
{
    struct out *o = ctx;
    o->calls++;
    /* the contract: complete lines only */
    CHECK(len > 0 && lines[len - 1] == '\n');
    vg_sbuf_add(&o->s, lines, len);
}

static size_t frame_udp(uint8_t *b, uint8_t src, uint8_t dst, uint16_t sp, uint16_t dp)
{
    memset(b, 0, 14 + 28);
    b[12] = 0x08;
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    ip[3] = 28;
    ip[8] = 64;
    ip[9] = 17;
    ip[12] = 10, ip[15] = src;
    ip[16] = 10, ip[19] = dst;
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum = ~sum & 0xffff;
    ip[10] = (uint8_t)(sum >> 8), ip[11] = (uint8_t)sum;
    ip[20] = (uint8_t)(sp >> 8), ip[21] = (uint8_t)sp;
    ip[22] = (uint8_t)(dp >> 8), ip[23] = (uint8_t)dp;
    ip[25] = 8;
    return 14 + 28;
}

/*
 * Push n frames over `flows` flows, alternating directions, plus an ARP-like non-IP frame
 * every 97th. Checks: every frame seen once, each flow in one worker, non-IP in worker 0.
 */
static void run_fake(uint32_t nw, size_t ring, int n, int flows, bool drop)
{
    struct out o = {VG_SBUF_INIT, 0};
    struct vg_sensor_workers_opts opts = {.n = nw,
                                          .ring_bytes = ring,
                                          .drop_when_full = drop,
                                          .out_batch = 4096,
                                          .out = out_fn,
                                          .out_ctx = &o,
                                          .ops = &fake_ops};
    struct vg_sensor_workers *w = NULL;
    char err[256];
    CHECK_EQ_INT(vg_sensor_workers_create(&opts, &w, err, sizeof(err)), VG_OK);
    if (!w) {
        return;
    }
    uint8_t b[64];
    int pushed = 0, dropped = 0;
    for (int i = 1; i <= n; i++) {
        struct vg_sensor_frame f = {.data = b, .linktype = VG_SENSOR_LINK_ETHERNET};
        int fl = i % flows;
        if (i % 97 == 0) {
            memset(b, 0, 60);
            b[12] = 0x08, b[13] = 0x06;
            f.caplen = f.origlen = 60;
        } else if (i & 1) {
            f.caplen = f.origlen =
                (uint32_t)frame_udp(b, 1, (uint8_t)(2 + fl % 50), (uint16_t)(1000 + fl), 53);
        } else {
            f.caplen = f.origlen =
                (uint32_t)frame_udp(b, (uint8_t)(2 + fl % 50), 1, 53, (uint16_t)(1000 + fl));
        }
        f.ts_ns = (uint64_t)i * 1000;
        if (vg_sensor_workers_push(w, &f, (uint64_t)i) == VG_OK) {
            pushed++;
        } else {
            dropped++;
        }
    }
    vg_sensor_workers_tick(w, 123);
    vg_sensor_workers_finish(w);
    struct vg_sensor_workers_stats st;
    vg_sensor_workers_stats(w, &st);
    CHECK_EQ_INT(st.frames, pushed);
    CHECK_EQ_INT(st.dropped, dropped);
    CHECK_EQ_INT(st.engine.packets, pushed);
    if (!drop) {
        CHECK_EQ_INT(pushed, n);
    }
    /* parse the output: each flow key -> worker; lines whole */
    char *save = NULL, *line;
    int frames = 0, flushes = 0, bad = 0, split = 0, noip_elsewhere = 0;
    char *keys[256] = {0};
    unsigned kw[256] = {0};
    size_t nk = 0;
    vg_sbuf_addc(&o.s, '\0');
    for (line = strtok_r(o.s.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned wk;
        char key[64];
        unsigned long long cnt;
        if (sscanf(line, "flush w%u", &wk) == 1) {
            flushes++;
        } else if (sscanf(line, "w%u noip %llu", &wk, &cnt) == 2) {
            frames++;
            noip_elsewhere += wk != 0;
        } else if (sscanf(line, "w%u %63s %llu", &wk, key, &cnt) == 3 &&
                   strlen(strrchr(line, ' ') + 1) == (cnt % 400 ? cnt % 400 : 1)) {
            frames++;
            size_t k = 0;
            while (k < nk && strcmp(keys[k], key) != 0) {
                k++;
            }
            if (k == nk && nk < 256) {
                keys[nk] = strdup(key);
                kw[nk++] = wk;
            } else if (k < nk && kw[k] != wk) {
                split++;
            }
        } else {
            bad++;
        }
    }
    CHECK_EQ_INT(frames, pushed);
    CHECK_EQ_INT(flushes, (int)nw);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(split, 0);
    CHECK_EQ_INT(noip_elsewhere, 0);
    if (nw > 1) {
        bool several = false;
        for (size_t k = 1; k < nk; k++) {
            several = several || kw[k] != kw[0];
        }
        CHECK(several); /* the flows spread over the workers */
    }
    for (size_t k = 0; k < nk; k++) {
        free(keys[k]);
    }
    vg_sbuf_fini(&o.s);
    vg_sensor_workers_destroy(w);
}

VG_TEST(one_worker_sees_everything)
{
    run_fake(1, 0, 5000, 40, false);
}

VG_TEST(flows_stay_on_one_worker_both_directions)
{
    run_fake(2, 0, 20000, 60, false);
    run_fake(4, 0, 20000, 60, false);
}

VG_TEST(small_ring_applies_back_pressure_without_loss)
{
    atomic_store(&fake_slow_us, 0);
    run_fake(2, 1 << 20, 200000, 100, false);
}

VG_TEST(drop_mode_counts_drops_when_a_worker_is_slow)
{
    atomic_store(&fake_slow_us, 20);
    run_fake(2, 1 << 20, 60000, 10, true); /* 60000 x ~72 bytes > 2 MiB of rings */
    atomic_store(&fake_slow_us, 0);
}

VG_TEST(pick_is_symmetric)
{
    struct vg_sensor_pkt a, b;
    uint8_t fa[64], fb[64];
    int diff = 0;
    for (int i = 0; i < 500; i++) {
        uint16_t sp = (uint16_t)(1024 + i * 7);
        frame_udp(fa, (uint8_t)(i % 200), (uint8_t)(i % 13), sp, 443);
        frame_udp(fb, (uint8_t)(i % 13), (uint8_t)(i % 200), 443, sp);
        CHECK_EQ_INT(vg_sensor_decode(&a, 1, fa, 42), VG_OK);
        CHECK_EQ_INT(vg_sensor_decode(&b, 1, fb, 42), VG_OK);
        CHECK_EQ_INT(vg_sensor_workers_pick(&a, 8), vg_sensor_workers_pick(&b, 8));
        diff += vg_sensor_workers_pick(&a, 8) != 0;
    }
    CHECK(diff > 300); /* and it spreads */
}

VG_TEST(ticks_reach_every_engine)
{
    struct out o = {VG_SBUF_INIT, 0};
    struct vg_sensor_workers_opts opts = {.n = 3, .out = out_fn, .out_ctx = &o, .ops = &fake_ops};
    struct vg_sensor_workers *w = NULL;
    char err[256];
    atomic_store(&fake_ticks, 0);
    CHECK_EQ_INT(vg_sensor_workers_create(&opts, &w, err, sizeof(err)), VG_OK);
    vg_sensor_workers_tick(w, 1);
    vg_sensor_workers_tick(w, 2);
    vg_sensor_workers_finish(w);
    CHECK_EQ_INT(atomic_load(&fake_ticks), 6);
    vg_sensor_workers_destroy(w);
    vg_sbuf_fini(&o.s);
}

VG_TEST(bad_options_are_refused)
{
    struct vg_sensor_workers_opts opts = {.n = 0, .out = out_fn};
    struct vg_sensor_workers *w = NULL;
    char err[256];
    CHECK_EQ_INT(vg_sensor_workers_create(&opts, &w, err, sizeof(err)), VG_EINVAL);
    opts.n = VG_SENSOR_WORKERS_MAX + 1;
    CHECK_EQ_INT(vg_sensor_workers_create(&opts, &w, err, sizeof(err)), VG_EINVAL);
    opts.n = 2;
    opts.out = NULL;
    CHECK_EQ_INT(vg_sensor_workers_create(&opts, &w, err, sizeof(err)), VG_EINVAL);
    CHECK(w == NULL);
}

/* ------------------------------------------------------------------ real engine */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replace the number after key (in place) by '#'. */
static void blank_number(char *l, const char *key)
{
    char *p = strstr(l, key);
    if (!p) {
        return;
    }
    p += strlen(key);
    char *q = p;
    while (*q >= '0' && *q <= '9') {
        q++;
    }
    if (q > p) {
        *p = '#';
        memmove(p + 1, q, strlen(q) + 1);
    }
}

/* The records of path with n workers, flow ids removed, sorted, as one string. */
static char *records(const char *path, uint32_t n, size_t *count)
{
    struct out o = {VG_SBUF_INIT, 0};
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    struct vg_sensor_workers_opts opts = {.n = n, .engine = &cfg, .out = out_fn, .out_ctx = &o};
    struct vg_sensor_workers *w = NULL;
    char err[256];
    if (vg_sensor_workers_create(&opts, &w, err, sizeof(err)) != VG_OK) {
        return NULL;
    }
    (void)vg_sensor_workers_run_file(w, path, NULL, err, sizeof(err));
    vg_sensor_workers_destroy(w);
    vg_sbuf_addc(&o.s, '\0');
    char **lines = NULL, *save = NULL, *l;
    size_t nl = 0, cap = 0;
    for (l = strtok_r(o.s.p, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        blank_number(l, "\"flow_id\":"); /* ids carry the worker's index */
        blank_number(l, "\"parent_id\":");
        /* records written when flows end at the flush carry their engine's last packet
           number, which depends on the split */
        blank_number(l, "\"pcap_cnt\":");
        vg_grow(&lines, &cap, nl + 1, sizeof(*lines));
        lines[nl++] = l;
    }
    qsort(lines, nl, sizeof(*lines), cmp_str);
    struct vg_sbuf all = VG_SBUF_INIT;
    for (size_t i = 0; i < nl; i++) {
        CHECK(lines[i][0] == '{' && lines[i][strlen(lines[i]) - 1] == '}');
        vg_sbuf_adds(&all, lines[i]);
        vg_sbuf_addc(&all, '\n');
    }
    *count = nl;
    vg_free(lines);
    vg_sbuf_fini(&o.s);
    return all.p ? all.p : vg_strdup("");
}

/* The first *.pcap of the test directory dir/name into path. */
static bool first_pcap(const char *dir, const char *name, char *path, size_t n)
{
    char d[512];
    snprintf(d, sizeof(d), "%.250s/%.250s", dir, name);
    DIR *dd = opendir(d);
    struct dirent *e;
    bool found = false;
    while (dd && !found && (e = readdir(dd))) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".pcap")) {
            snprintf(path, n, "%.511s/%.255s", d, e->d_name);
            found = true;
        }
    }
    if (dd) {
        closedir(dd);
    }
    return found;
}

VG_TEST(two_workers_write_the_same_records_as_one)
{
    const char *dir = vgt_shared("corpus/suricata-verify/tests");
    if (!dir) {
        VG_SKIP("../shared/corpus absent");
    }
    static const char *const prefixes[] = {"dns", "http", "tls", "ssh", "smtp", "ftp", "dhcp"};
    int compared = 0, per[VG_ARRAY_LEN(prefixes)] = {0};
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t k = 0;
        while (k < VG_ARRAY_LEN(prefixes) &&
               strncmp(de->d_name, prefixes[k], strlen(prefixes[k])) != 0) {
            k++;
        }
        char path[1024];
        if (k == VG_ARRAY_LEN(prefixes) || per[k] >= 6 ||
            !first_pcap(dir, de->d_name, path, sizeof(path))) {
            continue;
        }
        per[k]++;
        size_t n1 = 0, n2 = 0;
        char *a = records(path, 1, &n1), *b = records(path, 2, &n2);
        CHECK(a && b);
        if (a && b) {
            CHECK_EQ_INT(n1, n2);
            if (strcmp(a, b) != 0) {
                fprintf(stderr, "  %s: records differ between 1 and 2 workers\n", de->d_name);
                if (getenv("VG_WORKERS_DUMP")) {
                    FILE *fa = fopen("/tmp/vgw1.txt", "w"), *fb = fopen("/tmp/vgw2.txt", "w");
                    fputs(a, fa);
                    fputs(b, fb);
                    fclose(fa);
                    fclose(fb);
                }
                CHECK(0);
            }
            compared++;
        }
        vg_free(a);
        vg_free(b);
    }
    if (d) {
        closedir(d);
    }
    printf("  %d corpus pcaps compared\n", compared);
}
