/*
 * test_detect.c — the sensor's network detections (sensor_detect.c) driven through the real
 * engine's record writer: constructed flows go to vg_sensor_detect_flow_end, parser facts to
 * the vg_sensor_note_* hooks; the alerts written to the sink are counted by signature id and
 * their evidence checked. Each detection: fires once at its threshold, stays silent on the
 * benign look-alike, is suppressed on repetition; the tables stay bounded under a flood.
 */
#include "core/core.h"
#include "event/event.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_detect.h"
#include "vgtest.h"

#define SEC 1000000000LL
#define MS  1000000LL
#define T0  (1700000000LL * SEC)

uint64_t vg_sensor_detect_evictions(const struct vg_sensor_detect *d);

/* ------------------------------------------------------------------ fixture */

struct cap {
    struct vg_sbuf out;
    int lines;
};

static void sink(void *ctx, const char *line, size_t len)
{
    struct cap *c = ctx;
    vg_sbuf_add(&c->out, line, len);
    c->lines++;
}

struct fx {
    struct cap cap;
    struct vg_sensor_engine *eng;
    struct vg_sensor_detect *det;
};

static void fx_init(struct fx *x)
{
    memset(x, 0, sizeof(*x));
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = true;
    cfg.log_flow = false;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, sink, &x->cap, &x->eng), VG_OK);
    x->det = vg_sensor_engine_detector(x->eng);
    CHECK(x->det != NULL);
}

static void fx_fini(struct fx *x)
{
    vg_sensor_engine_destroy(x->eng);
    vg_sbuf_fini(&x->cap.out);
}

/* Alerts with this signature id in the output. */
static int count_sid(const struct fx *x, unsigned sid)
{
    char pat[48];
    snprintf(pat, sizeof(pat), "\"signature_id\":%u,", sid);
    int n = 0;
    const char *p = x->cap.out.p;
    while (p && (p = strstr(p, pat)) != NULL) {
        n++;
        p++;
    }
    return n;
}

static bool has(const struct fx *x, const char *s)
{
    return x->cap.out.p && strstr(x->cap.out.p, s) != NULL;
}

static uint32_t ip4(int a, int b, int c, int d)
{
    uint8_t q[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
    uint32_t v;
    memcpy(&v, q, 4);
    return v;
}

static struct vg_sensor_flow mkflow(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                                    uint8_t proto, int64_t first, int64_t last)
{
    struct vg_sensor_flow f;
    memset(&f, 0, sizeof(f));
    f.key.family = VG_SENSOR_FLOW_AF_INET;
    f.key.proto = proto;
    f.key.sport = sport;
    f.key.dport = dport;
    memcpy(f.key.src, &src, 4);
    memcpy(f.key.dst, &dst, 4);
    f.first_ns = first;
    f.last_ns = last;
    f.pkts[0] = 1;
    return f;
}

/* TCP outcomes. */
static void tcp_refused(struct vg_sensor_flow *f)
{
    f->tcp_flags[0] = VG_SENSOR_TCP_SYN;
    f->tcp_flags[1] = VG_SENSOR_TCP_RST | VG_SENSOR_TCP_ACK;
    f->pkts[1] = 1;
    f->tcp_state = VG_SENSOR_TCP_CLOSED;
}

static void tcp_session(struct vg_sensor_flow *f, uint64_t up, uint64_t down)
{
    f->tcp_flags[0] = VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK | VG_SENSOR_TCP_FIN;
    f->tcp_flags[1] = VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK | VG_SENSOR_TCP_FIN;
    f->pkts[0] = 5;
    f->pkts[1] = 5;
    f->payload[0] = up;
    f->payload[1] = down;
    f->tcp_state = VG_SENSOR_TCP_CLOSED;
}

static void end(struct fx *x, struct vg_sensor_flow *f)
{
    struct vg_sensor_app_ctx c = {
        .eng = x->eng, .flow = f, .dir = VG_SENSOR_FLOW_TO_SERVER, .ts_ns = f->last_ns};
    vg_sensor_detect_flow_end(x->det, &c);
}

static struct vg_sensor_app_ctx ctx_at(struct fx *x, struct vg_sensor_flow *f, int64_t ts)
{
    struct vg_sensor_app_ctx c = {
        .eng = x->eng, .flow = f, .dir = VG_SENSOR_FLOW_TO_CLIENT, .ts_ns = ts, .pcap_cnt = 1};
    return c;
}

/* Every line of the output is one valid JSON object. */
static void check_json_lines(const struct fx *x)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(1 << 16);
    const char *s = x->cap.out.p;
    size_t left = x->cap.out.len;
    int n = 0;
    while (s && left > 0) {
        const char *nl = memchr(s, '\n', left);
        size_t len = nl ? (size_t)(nl - s) : left;
        struct vg_json *doc = NULL;
        size_t used = 0;
        char err[128];
        int rc = vg_json_parse(p, a, s, len, &used, &doc, err, sizeof(err));
        if (rc != VG_OK) {
            fprintf(stderr, "  bad JSON (%s): %.*s\n", err, (int)len, s);
        }
        CHECK_EQ_INT(rc, VG_OK);
        CHECK(doc && vg_json_str_is(vg_json_get(doc, "event_type"), "alert"));
        n++;
        left -= len + (nl ? 1 : 0);
        s += len + (nl ? 1 : 0);
        vg_arena_reset(a);
    }
    CHECK_EQ_INT(n, x->cap.lines);
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
}

/* ------------------------------------------------------------------ scans */

VG_TEST(port_scan_fires_once_with_evidence)
{
    struct fx x;
    fx_init(&x);
    for (int i = 0; i < 200; i++) {
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), 40000,
                                         (uint16_t)(1 + i), 6, T0 + i * MS, T0 + i * MS + MS);
        tcp_refused(&f);
        end(&x, &f);
    }
    CHECK_EQ_INT(count_sid(&x, 9600001), 1);
    CHECK_EQ_INT(x.cap.lines, 1);
    CHECK(has(&x, "\"distinct_ports\":20,"));
    CHECK(has(&x, "\"mitre_technique_id\":[\"T1046\"]"));
    CHECK(has(&x, "\"ports_sample\":[1,2,3,"));
    CHECK(has(&x, "\"src_ip\":\"10.0.0.5\""));
    CHECK(has(&x, "\"action\":\"allowed\",\"gid\":1,\"signature_id\":9600001,\"rev\":1"));
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(many_ports_with_data_is_not_a_scan)
{
    struct fx x;
    fx_init(&x);
    for (int i = 0; i < 100; i++) {
        struct vg_sensor_flow f =
            mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), 40000, (uint16_t)(30000 + i * 7), 6,
                   T0 + i * 37 * MS, T0 + i * 37 * MS + 5 * MS);
        tcp_session(&f, 100, 5000); /* passive FTP data connections, say */
        end(&x, &f);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

VG_TEST(scan_refires_after_suppression_only)
{
    struct fx x;
    fx_init(&x);
    for (int round = 0; round < 3; round++) {
        int64_t base = T0 + round * 1800 * SEC; /* every 30 min: suppressed for an hour */
        for (int i = 0; i < 40; i++) {
            struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), 40000,
                                             (uint16_t)(100 + i), 6, base + i * MS, base + i * MS);
            tcp_refused(&f);
            end(&x, &f);
        }
    }
    CHECK_EQ_INT(count_sid(&x, 9600001), 2); /* t=0 and t=60 min */
    fx_fini(&x);
}

VG_TEST(host_sweep_fires_once)
{
    struct fx x;
    fx_init(&x);
    for (int i = 0; i < 60; i++) {
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 1, i + 1), 40000, 445, 6,
                                         T0 + i * 10 * MS, T0 + i * 10 * MS);
        f.tcp_flags[0] = VG_SENSOR_TCP_SYN; /* no answer */
        end(&x, &f);
    }
    CHECK_EQ_INT(count_sid(&x, 9600002), 1);
    CHECK_EQ_INT(count_sid(&x, 9600001), 0);
    CHECK(has(&x, "\"distinct_hosts\":20,\"port\":445"));
    CHECK(has(&x, "\"hosts_sample\":[\"10.0.1.1\",\"10.0.1.2\""));
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(browsing_many_hosts_is_not_a_sweep)
{
    struct fx x;
    fx_init(&x);
    for (int i = 0; i < 60; i++) {
        struct vg_sensor_flow f =
            mkflow(ip4(10, 0, 0, 5), ip4(93, 184, 1, i + 1), (uint16_t)(40000 + i), 443, 6,
                   T0 + i * 130 * MS, T0 + i * 130 * MS + SEC);
        tcp_session(&f, 700, 30000);
        end(&x, &f);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

/* ------------------------------------------------------------------ brute force */

VG_TEST(ssh_and_rdp_connection_bursts)
{
    struct fx x;
    fx_init(&x);
    int64_t t = T0;
    for (int i = 0; i < 30; i++) {
        t += (i % 3 + 1) * 150 * MS; /* irregular: not a beacon */
        struct vg_sensor_flow f =
            mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), (uint16_t)(40000 + i), 22, 6, t, t + SEC);
        tcp_session(&f, 1500, 2000);
        end(&x, &f);
        struct vg_sensor_flow g =
            mkflow(ip4(10, 0, 0, 6), ip4(10, 0, 0, 9), (uint16_t)(40000 + i), 3389, 6, t, t + SEC);
        tcp_session(&g, 1500, 2000);
        end(&x, &g);
    }
    CHECK_EQ_INT(count_sid(&x, 9600003), 1);
    CHECK_EQ_INT(count_sid(&x, 9600004), 1);
    CHECK_EQ_INT(count_sid(&x, 9600010), 0);
    CHECK(has(&x, "\"connections\":15,"));
    CHECK(has(&x, "\"mitre_technique_id\":[\"T1110\"]"));
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(few_ssh_sessions_are_not_brute_force)
{
    struct fx x;
    fx_init(&x);
    for (int i = 0; i < 14; i++) {
        int64_t t = T0 + i * i * 200 * MS;
        struct vg_sensor_flow f =
            mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), (uint16_t)(40000 + i), 22, 6, t, t + SEC);
        tcp_session(&f, 1500, 2000);
        end(&x, &f);
    }
    /* long interactive sessions never count */
    for (int i = 0; i < 30; i++) {
        int64_t t = T0 + i * i * 300 * MS;
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 7), ip4(10, 0, 0, 9), (uint16_t)(40000 + i),
                                         22, 6, t, t + 600 * SEC);
        tcp_session(&f, 15000, 200000);
        end(&x, &f);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

VG_TEST(auth_failures_brute_force)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), 40000, 21, 6, T0, T0);
    for (int i = 0; i < 9; i++) {
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_auth(&c, "ftp", false);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    for (int i = 9; i < 30; i++) {
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_auth(&c, "ftp", false);
    }
    CHECK_EQ_INT(count_sid(&x, 9600005), 1);
    CHECK(has(&x, "\"protocol\":\"ftp\",\"failures\":10,\"successes\":0"));
    /* another protocol on the same pair is its own detection */
    for (int i = 0; i < 12; i++) {
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + (40 + i) * SEC);
        vg_sensor_note_auth(&c, "smtp", false);
    }
    CHECK_EQ_INT(count_sid(&x, 9600005), 2);
    check_json_lines(&x);
    fx_fini(&x);
}

/* ------------------------------------------------------------------ beaconing */

VG_TEST(beacon_regular_intervals)
{
    struct fx x;
    fx_init(&x);
    static const int jitter_ms[] = {0, 400, -300, 200, -500, 100, 300, -200, 0, 250, -100, 50};
    for (int i = 0; i < 12; i++) {
        int64_t t = T0 + i * 60 * SEC + jitter_ms[i] * MS;
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(198, 51, 100, 7),
                                         (uint16_t)(40000 + i), 443, 6, t, t + 200 * MS);
        tcp_session(&f, 300, 900);
        end(&x, &f);
    }
    CHECK_EQ_INT(count_sid(&x, 9600010), 1);
    CHECK(has(&x, "\"connections\":8,\"mean_interval_s\":"));
    CHECK(has(&x, "\"mitre_technique_id\":[\"T1071\"]"));
    const char *m = strstr(x.cap.out.p ? x.cap.out.p : "", "\"mean_interval_s\":");
    CHECK(m != NULL);
    if (m) {
        double mean = strtod(m + 18, NULL);
        CHECK(mean > 59.0 && mean < 61.0);
    }
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(beacon_out_of_order_flow_ends)
{
    struct fx x;
    fx_init(&x);
    static const int order[] = {3, 0, 7, 1, 9, 2, 5, 4, 8, 6};
    for (int j = 0; j < 10; j++) {
        int i = order[j];
        int64_t t = T0 + i * 5 * SEC + (i % 2) * 50 * MS;
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(198, 51, 100, 8),
                                         (uint16_t)(40000 + i), 8080, 6, t, t + 20 * MS);
        tcp_session(&f, 100, 100);
        end(&x, &f);
    }
    CHECK_EQ_INT(count_sid(&x, 9600010), 1);
    fx_fini(&x);
}

VG_TEST(irregular_connections_are_not_a_beacon)
{
    struct fx x;
    fx_init(&x);
    uint64_t r = 12345;
    int64_t t = T0;
    for (int i = 0; i < 40; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        t += (int64_t)(5 + (r >> 33) % 120) * SEC;
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(198, 51, 100, 7),
                                         (uint16_t)(40000 + i), 443, 6, t, t + SEC);
        tcp_session(&f, 300, 900);
        end(&x, &f);
    }
    /* a tight loop (intervals < 200 ms) is not a beacon either */
    for (int i = 0; i < 40; i++) {
        int64_t u = T0 + i * 2 * MS;
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 6), ip4(198, 51, 100, 7),
                                         (uint16_t)(40000 + i), 443, 6, u, u + MS);
        tcp_session(&f, 300, 900);
        end(&x, &f);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

/* ------------------------------------------------------------------ exfiltration */

VG_TEST(large_outbound_transfer_against_baseline)
{
    struct fx x;
    fx_init(&x);
    for (int i = 0; i < 20; i++) {
        int64_t t = T0 + i * i * SEC; /* irregular: not a beacon */
        struct vg_sensor_flow f =
            mkflow(ip4(10, 0, 0, 5), ip4(8, 8, 4, 4), (uint16_t)(40000 + i), 443, 6, t, t + SEC);
        tcp_session(&f, 100000, 5000);
        end(&x, &f);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    int64_t t = T0 + 1000 * SEC;
    struct vg_sensor_flow big =
        mkflow(ip4(10, 0, 0, 5), ip4(8, 8, 4, 4), 41000, 443, 6, t, t + 30 * SEC);
    tcp_session(&big, 50ULL << 20, 4000);
    end(&x, &big);
    CHECK_EQ_INT(count_sid(&x, 9600030), 1);
    CHECK(has(&x, "\"bytes_out\":52428800,"));
    CHECK(has(&x, "\"baseline_flows\":20,"));
    CHECK(has(&x, "\"mitre_technique_id\":[\"T1048\",\"T1030\"]"));
    /* an internal server sending to an external client counts as outbound, reversed header */
    struct vg_sensor_flow pull =
        mkflow(ip4(203, 0, 113, 9), ip4(192, 168, 1, 20), 50000, 80, 6, t, t + 10 * SEC);
    tcp_session(&pull, 300, 60ULL << 20);
    end(&x, &pull);
    CHECK_EQ_INT(count_sid(&x, 9600030), 2);
    CHECK(has(&x, "\"src_ip\":\"192.168.1.20\",\"src_port\":80"));
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(routine_large_uploads_and_internal_copies_are_quiet)
{
    struct fx x;
    fx_init(&x);
    for (int i = 0; i < 20; i++) {
        int64_t t = T0 + i * 60 * SEC;
        struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(8, 8, 4, 4), (uint16_t)(40000 + i),
                                         443, 6, t, t + 10 * SEC);
        tcp_session(&f, i == 0 ? 1000 : 30ULL << 20, 5000); /* backups every minute */
        end(&x, &f);
    }
    CHECK_EQ_INT(count_sid(&x, 9600030), 1); /* only the first, against no baseline */
    struct vg_sensor_flow lan =
        mkflow(ip4(10, 0, 0, 6), ip4(10, 0, 0, 7), 40000, 445, 6, T0, T0 + 10 * SEC);
    tcp_session(&lan, 500ULL << 20, 5000);
    end(&x, &lan);
    CHECK_EQ_INT(count_sid(&x, 9600030), 1);
    fx_fini(&x);
}

/* ------------------------------------------------------------------ DNS */

static void random_label(uint64_t *r, char *out, size_t n, const char *alphabet)
{
    size_t m = strlen(alphabet);
    for (size_t i = 0; i < n; i++) {
        *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
        out[i] = alphabet[(*r >> 33) % m];
    }
    out[n] = 0;
}

VG_TEST(dns_tunnel_random_subdomains)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    uint64_t r = 99;
    for (int i = 0; i < 60; i++) {
        char lbl[64], q[128];
        random_label(&r, lbl, 40, "abcdefghijklmnopqrstuvwxyz234567");
        snprintf(q, sizeof(q), "%s.t.Tunnel-Example.com.", lbl);
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * 100 * MS);
        vg_sensor_note_dns(&c, q, strlen(q), 1, -1);
    }
    CHECK_EQ_INT(count_sid(&x, 9600020), 1);
    CHECK(has(&x, "\"domain\":\"tunnel-example.com\""));
    CHECK(has(&x, "\"unique_subdomains\":30,"));
    CHECK(has(&x, "\"mitre_technique_id\":[\"T1071.004\",\"T1048.003\"]"));
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(dns_tunnel_txt_volume)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    for (int i = 0; i < 40; i++) {
        char q[64];
        snprintf(q, sizeof(q), "c%d.data.example.net", i); /* short, low entropy, but TXT */
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_dns(&c, q, strlen(q), 16, -1);
    }
    CHECK_EQ_INT(count_sid(&x, 9600020), 1);
    CHECK(has(&x, "\"txt_null_queries\":20,"));
    fx_fini(&x);
}

VG_TEST(dns_tunnel_long_names)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    char q[200];
    memset(q, 'a', 60);
    memcpy(q + 60, ".x.exfil.co.uk", sizeof(".x.exfil.co.uk"));
    for (int i = 0; i < 12; i++) {
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_dns(&c, q, strlen(q), 1, -1);
    }
    CHECK_EQ_INT(count_sid(&x, 9600020), 1);
    CHECK(has(&x, "\"domain\":\"exfil.co.uk\""));
    CHECK(has(&x, "\"long_names\":10,"));
    fx_fini(&x);
}

VG_TEST(ordinary_dns_is_quiet)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    static const char *const names[] = {"www.google.com",
                                        "mail.google.com",
                                        "fonts.googleapis.com",
                                        "www.example.org",
                                        "cdn.jsdelivr.net",
                                        "api.github.com",
                                        "e1234.dscb.akamaiedge.net",
                                        "_ldap._tcp.dc._msdcs.corp.example.com",
                                        "4.3.2.1.in-addr.arpa",
                                        "outlook.office365.com"};
    for (int i = 0; i < 400; i++) {
        const char *n = names[i % 10];
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * 200 * MS);
        vg_sensor_note_dns(&c, n, strlen(n), 1, -1);
        vg_sensor_note_dns(&c, n, strlen(n), 1, i % 10 == 3 ? 3 : 0);
    }
    /* DNSBL lookups: many unique, low-entropy numeric subdomains */
    for (int i = 0; i < 100; i++) {
        char q[64];
        snprintf(q, sizeof(q), "%d.%d.113.203.zen.spamhaus.org", i, i * 7 % 256);
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_dns(&c, q, strlen(q), 1, -1);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

VG_TEST(dga_nxdomain_burst)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    uint64_t r = 7;
    for (int i = 0; i < 20; i++) {
        char lbl[32], q[64];
        random_label(&r, lbl, 12 + (size_t)(i % 5), "abcdefghijklmnopqrstuvwxyz");
        snprintf(q, sizeof(q), "%s.%s", lbl, i % 2 ? "com" : "net");
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * 500 * MS);
        vg_sensor_note_dns(&c, q, strlen(q), 1, -1);
        vg_sensor_note_dns(&c, q, strlen(q), 1, 3);
    }
    CHECK_EQ_INT(count_sid(&x, 9600021), 1);
    CHECK(has(&x, "\"dga_like_nxdomain_names\":8,"));
    CHECK(has(&x, "\"mitre_technique_id\":[\"T1568.002\"]"));
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(dga_amid_ordinary_lookups)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    static const char *const names[] = {"www.google.com", "mail.google.com", "api.github.com"};
    uint64_t r = 11;
    for (int i = 0; i < 60; i++) {
        const char *n = names[i % 3];
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * 100 * MS);
        vg_sensor_note_dns(&c, n, strlen(n), 1, 0);
        if (i % 4 == 0) {
            char lbl[32], q[64];
            random_label(&r, lbl, 14, "abcdefghijklmnopqrstuvwxyz0123456789");
            snprintf(q, sizeof(q), "%s.org", lbl);
            vg_sensor_note_dns(&c, q, strlen(q), 1, 3);
        }
    }
    CHECK_EQ_INT(count_sid(&x, 9600021), 1);
    fx_fini(&x);
}

VG_TEST(dga_like_nx_among_many_domains_is_quiet)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    uint64_t r = 13;
    for (int i = 0; i < 100; i++) {
        char q[64];
        snprintf(q, sizeof(q), "site%d.example%d.com", i, i);
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_dns(&c, q, strlen(q), 1, 0);
        if (i % 10 == 0) {
            char lbl[32];
            random_label(&r, lbl, 14, "bcdfghjklmnpqrstvwxz");
            snprintf(q, sizeof(q), "%s.com", lbl);
            vg_sensor_note_dns(&c, q, strlen(q), 1, 3);
        }
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

VG_TEST(nxdomain_for_words_is_not_dga)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    static const char *const names[] = {
        "printerserver.com",   "intranetportal.net", "sharepoint-old.org", "wpad.example.com",
        "microsoftonline.com", "documentation.net",  "kubernetes.io",      "elasticsearch.org",
        "monitoring.io",       "fileserver.local"};
    for (int i = 0; i < 40; i++) {
        const char *n = names[i % 10];
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_dns(&c, n, strlen(n), 1, 3);
    }
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

/* ------------------------------------------------------------------ credentials, certs */

VG_TEST(cleartext_credentials_once_per_service)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), 40000, 21, 6, T0, T0);
    struct vg_sensor_flow g = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 10), 40001, 80, 6, T0, T0);
    for (int i = 0; i < 5; i++) {
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_cred(&c, "ftp", "alice\"x", 7);
        struct vg_sensor_app_ctx d = ctx_at(&x, &g, T0 + i * SEC);
        vg_sensor_note_cred(&d, "http", "bob", 3);
    }
    CHECK_EQ_INT(count_sid(&x, 9600040), 2);
    CHECK(has(&x, "\"protocol\":\"ftp\",\"user\":\"alice\\\"x\""));
    CHECK(has(&x, "\"mitre_technique_id\":[\"T1552\",\"T1040\"]"));
    CHECK(!has(&x, "password"));
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(certificate_problems)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 9), 40000, 443, 6, T0, T0);
    int64_t now = T0 / SEC;
    struct vg_sensor_cert_facts bad = {.sni = "bank.example",
                                       .subject = "CN=localhost",
                                       .issuer = "CN=localhost",
                                       .not_before = now - 400 * 86400,
                                       .not_after = now - 35 * 86400,
                                       .self_signed = true,
                                       .name_matches = false};
    for (int i = 0; i < 3; i++) {
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0 + i * SEC);
        vg_sensor_note_cert(&c, &bad);
    }
    CHECK_EQ_INT(count_sid(&x, 9600050), 1);
    CHECK_EQ_INT(count_sid(&x, 9600051), 1);
    CHECK_EQ_INT(count_sid(&x, 9600053), 1);
    CHECK(has(&x, "\"days_expired\":35"));
    CHECK(has(&x, "\"sni\":\"bank.example\",\"subject\":\"CN=localhost\""));
    struct vg_sensor_cert_facts early = {.sni = NULL,
                                         .subject = "CN=a",
                                         .issuer = "CN=ca",
                                         .not_before = now + 10 * 86400,
                                         .not_after = now + 300 * 86400,
                                         .name_matches = true};
    struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0);
    vg_sensor_note_cert(&c, &early);
    CHECK_EQ_INT(count_sid(&x, 9600052), 1);
    int before = x.cap.lines;
    struct vg_sensor_cert_facts good = {.sni = "www.example.com",
                                        .subject = "CN=www.example.com",
                                        .issuer = "CN=R3",
                                        .not_before = now - 10 * 86400,
                                        .not_after = now + 80 * 86400,
                                        .name_matches = true};
    struct vg_sensor_flow g = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 8), 40000, 443, 6, T0, T0);
    struct vg_sensor_app_ctx d = ctx_at(&x, &g, T0);
    vg_sensor_note_cert(&d, &good);
    CHECK_EQ_INT(x.cap.lines, before);
    check_json_lines(&x);
    fx_fini(&x);
}

/* ------------------------------------------------------------------ bounds, robustness */

VG_TEST(flood_of_sources_stays_bounded)
{
    struct fx x;
    fx_init(&x);
    for (uint32_t i = 0; i < 200000; i++) {
        int64_t t = T0 + (int64_t)i * MS;
        struct vg_sensor_flow f = mkflow(ip4(10, (int)(i >> 16), (int)(i >> 8) & 255, (int)i & 255),
                                         ip4(8, 8, 8, 8), 1234, 80, 6, t, t);
        tcp_refused(&f);
        end(&x, &f);
        struct vg_sensor_app_ctx c = ctx_at(&x, &f, t);
        vg_sensor_note_dns(&c, "abc.example.com", 15, 1, 0);
    }
    CHECK(vg_sensor_detect_evictions(x.det) > 100000);
    CHECK_EQ_INT(x.cap.lines, 0);
    fx_fini(&x);
}

VG_TEST(hostile_inputs)
{
    struct fx x;
    fx_init(&x);
    struct vg_sensor_flow f = mkflow(ip4(10, 0, 0, 5), ip4(10, 0, 0, 53), 5353, 53, 17, T0, T0);
    struct vg_sensor_app_ctx c = ctx_at(&x, &f, T0);
    char big[1000];
    memset(big, '.', sizeof(big));
    vg_sensor_note_dns(&c, big, sizeof(big), 1, -1);
    memset(big, 'z', sizeof(big));
    vg_sensor_note_dns(&c, big, sizeof(big), 1, 3);
    vg_sensor_note_dns(&c, "\xff\xfe.\x01", 4, 1, -1);
    vg_sensor_note_dns(&c, NULL, 0, 1, -1);
    vg_sensor_note_dns(&c, "com", 3, 1, 3);
    vg_sensor_note_cred(&c, "ftp", NULL, 0);
    vg_sensor_note_cred(&c, "http", "\xc3\x28\x01", 3);
    struct vg_sensor_app_ctx none = {0};
    vg_sensor_note_dns(&none, "a.b", 3, 1, -1);
    vg_sensor_note_auth(&none, "ftp", false);
    vg_sensor_note_cert(&none, NULL);
    vg_sensor_detect_flow_end(NULL, &c);
    vg_sensor_detect_flow_end(x.det, &none);
    check_json_lines(&x);
    fx_fini(&x);
}

VG_TEST(create_destroy_under_allocation_failure)
{
    for (int i = 1; i < 12; i++) {
        struct vg_sensor_detect *d = NULL;
        vg_alloc_fail_at(i);
        int rc = vg_sensor_detect_create(&d);
        vg_alloc_fail_at(0);
        if (rc == VG_OK) {
            vg_sensor_detect_destroy(d);
        } else {
            CHECK_EQ_INT(rc, VG_ENOMEM);
        }
    }
    vg_sensor_detect_destroy(NULL);
}
