/*
 * sensor_detect.c — the sensor's own network detections (issue 6).
 *
 * Sits at the end of the sensor pipeline: the engine calls vg_sensor_detect_flow_end() for
 * every flow that ends, and the protocol parsers call the vg_sensor_note_* hooks of
 * sensor_app.h with what they learnt (DNS names, cleartext credentials, authentication
 * results, certificates). From these facts the detector recognises
 *
 *   port scans, host sweeps, SSH/RDP brute force (flows), HTTP/FTP/SMTP brute force (auth
 *   failures), beaconing, DNS tunnelling, DGA-like names, large outbound transfers against the
 *   host's baseline, cleartext credentials, self-signed / expired / not yet valid /
 *   mismatched certificates
 *
 * and writes an EVE `alert` record per detection with the evidence in a "vigie" object.
 *
 * State lives in fixed-capacity set-associative tables (8 ways per set, keyed by a seeded
 * 64-bit hash of the source and its target): a new key takes a free way or the way of its set
 * used longest ago (counted as an eviction). Nothing grows with traffic. Time is the packet
 * clock: flow start times for flow facts, c->ts_ns for parser facts. A detection fires once
 * per (source, target, kind) per VG_DETECT_SUPPRESS_NS. Thresholds and their reasoning:
 * docs/sensor-detections.md.
 *
 * One detector per engine (worker thread): no locks.
 */
#include "sensor/sensor_detect.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ thresholds */

#define VG_NS_S  1000000000LL
#define VG_NS_MS 1000000LL

/* One alert per (source, target, kind) per hour. */
#define VG_DETECT_SUPPRESS_NS (3600 * VG_NS_S)

/* Port scan: >= 20 distinct ports of one host probed within 60 s, >= 60% of the flows
 * failed (RST / no answer) or carried no data (half-open, connect-and-close). */
#define VG_DETECT_SCAN_WINDOW_NS (60 * VG_NS_S)
#define VG_DETECT_SCAN_PORTS     20
#define VG_DETECT_SCAN_PROBE_PCT 60
/* Host sweep: the same port (or ICMP echo) of >= 20 distinct hosts within 60 s, mostly failed. */
#define VG_DETECT_SWEEP_HOSTS 20
/* UDP traceroute probes (33434..33534) are not a scan. */
#define VG_DETECT_TRACEROUTE_LO 33434
#define VG_DETECT_TRACEROUTE_HI 33534

/* SSH/RDP brute force: >= 15 completed connections, each shorter than 30 s, from one source
 * to one service within 60 s. */
#define VG_DETECT_BRUTE_WINDOW_NS (60 * VG_NS_S)
#define VG_DETECT_BRUTE_FLOWS     15
#define VG_DETECT_BRUTE_SHORT_NS  (30 * VG_NS_S)

/* HTTP/FTP/SMTP brute force: >= 10 failed authentications to one service within 5 min. */
#define VG_DETECT_AUTH_WINDOW_NS (300 * VG_NS_S)
#define VG_DETECT_AUTH_FAILS     10

/* Beaconing: >= 8 connections to one destination:port with the coefficient of variation of
 * their intervals < 0.10 and a mean interval >= 200 ms (the last 16 starts are kept). */
#define VG_DETECT_BEACON_MIN          8
#define VG_DETECT_BEACON_KEEP         16
#define VG_DETECT_BEACON_CV           0.10
#define VG_DETECT_BEACON_MIN_INTERVAL (200 * VG_NS_MS)

/* DNS (per host and registered domain, 5 min window). Tunnelling: >= 30 unique subdomains
 * with mean entropy >= 3.3 bits/char and mean length >= 20; or >= 10 very long names (name
 * >= 100 bytes or a label >= 50); or >= 20 TXT/NULL queries over >= 20 unique subdomains. */
#define VG_DETECT_DNS_WINDOW_NS    (300 * VG_NS_S)
#define VG_DETECT_TUNNEL_UNIQUE    30
#define VG_DETECT_TUNNEL_ENTROPY   3.3
#define VG_DETECT_TUNNEL_SUBLEN    20
#define VG_DETECT_TUNNEL_LONG_NAME 100
#define VG_DETECT_TUNNEL_LONG_LBL  50
#define VG_DETECT_TUNNEL_LONG      10
#define VG_DETECT_TUNNEL_TXT       20
/* DGA (per host, 5 min window): >= 8 distinct DGA-like names answered NXDOMAIN and >= 50% of
 * the distinct registered domains answered to the host NXDOMAIN. A name is DGA-like when its
 * registered label has >= 8 characters and two of: entropy >= 3.2, a consonant run >= 4, vowels <
 * 20%, digits mixed with letters. */
#define VG_DETECT_DGA_NAMES     8
#define VG_DETECT_DGA_NX_PCT    50
#define VG_DETECT_DGA_MIN_LEN   8
#define VG_DETECT_DGA_ENTROPY   3.2
#define VG_DETECT_DGA_CONS_RUN  4
#define VG_DETECT_DGA_VOWEL_PCT 20

/* Large outbound transfer: one flow sends >= 20 MiB from a private address to a public one,
 * and >= 10x the host's running mean per outbound flow (EWMA, weight 1/16). */
#define VG_DETECT_EXFIL_FLOOR  (20ULL << 20)
#define VG_DETECT_EXFIL_FACTOR 10.0
#define VG_DETECT_EXFIL_ALPHA  (1.0 / 16.0)

/* Table sizes (entries; multiples of the 8 ways). */
#define DET_WAYS      8
#define DET_CAP       4096
#define DET_CAP_SUPPR 8192

/* ------------------------------------------------------------------ signatures */

enum det_kind {
    DET_SCAN = 0,
    DET_SWEEP,
    DET_BRUTE_SSH,
    DET_BRUTE_RDP,
    DET_BRUTE_AUTH,
    DET_BEACON,
    DET_TUNNEL,
    DET_DGA,
    DET_EXFIL,
    DET_CRED,
    DET_CERT_SELF,
    DET_CERT_EXPIRED,
    DET_CERT_NOTYET,
    DET_CERT_NAME,
    DET_NKINDS
};

/* A detection's alert identity (the Suricata `alert` members). */
struct det_sig {
    uint32_t sid;
    int severity;     /* Suricata: 1 high, 2 medium, 3 low */
    const char *name; /* "detection" in the vigie object */
    const char *signature;
    const char *category; /* Suricata classification text */
    const char *tactics;  /* JSON array members */
    const char *techniques;
};

static const struct det_sig det_sigs[DET_NKINDS] = {
    [DET_SCAN] = {9600001, 2, "port_scan", "VIGIE SCAN TCP/UDP port scan",
                  "Detection of a Network Scan", "\"TA0007\"", "\"T1046\""},
    [DET_SWEEP] = {9600002, 2, "host_sweep", "VIGIE SCAN host sweep", "Detection of a Network Scan",
                   "\"TA0007\"", "\"T1018\",\"T1046\""},
    [DET_BRUTE_SSH] = {9600003, 2, "ssh_brute_force", "VIGIE BRUTEFORCE SSH connection burst",
                       "Attempted User Privilege Gain", "\"TA0006\"", "\"T1110\""},
    [DET_BRUTE_RDP] = {9600004, 2, "rdp_brute_force", "VIGIE BRUTEFORCE RDP connection burst",
                       "Attempted User Privilege Gain", "\"TA0006\"", "\"T1110\""},
    [DET_BRUTE_AUTH] = {9600005, 2, "auth_brute_force",
                        "VIGIE BRUTEFORCE repeated authentication failures",
                        "Attempted User Privilege Gain", "\"TA0006\"", "\"T1110\""},
    [DET_BEACON] = {9600010, 2, "beacon", "VIGIE C2 periodic beaconing", "Potentially Bad Traffic",
                    "\"TA0011\"", "\"T1071\""},
    [DET_TUNNEL] = {9600020, 2, "dns_tunnel", "VIGIE DNS tunnelling suspected",
                    "Potentially Bad Traffic", "\"TA0011\",\"TA0010\"",
                    "\"T1071.004\",\"T1048.003\""},
    [DET_DGA] = {9600021, 2, "dns_dga", "VIGIE DNS DGA-like NXDOMAIN burst",
                 "Potentially Bad Traffic", "\"TA0011\"", "\"T1568.002\""},
    [DET_EXFIL] = {9600030, 2, "large_outbound", "VIGIE EXFIL large outbound transfer",
                   "Potential Corporate Privacy Violation", "\"TA0010\"", "\"T1048\",\"T1030\""},
    [DET_CRED] = {9600040, 3, "cleartext_credentials", "VIGIE POLICY cleartext credentials",
                  "Potential Corporate Privacy Violation", "\"TA0006\"", "\"T1552\",\"T1040\""},
    [DET_CERT_SELF] = {9600050, 3, "tls_self_signed", "VIGIE TLS self-signed certificate",
                       "Potentially Bad Traffic", "\"TA0042\",\"TA0006\"",
                       "\"T1587.003\",\"T1557\""},
    [DET_CERT_EXPIRED] = {9600051, 3, "tls_expired", "VIGIE TLS expired certificate",
                          "Potentially Bad Traffic", "\"TA0042\",\"TA0006\"",
                          "\"T1587.003\",\"T1557\""},
    [DET_CERT_NOTYET] = {9600052, 3, "tls_not_yet_valid", "VIGIE TLS certificate not yet valid",
                         "Potentially Bad Traffic", "\"TA0042\",\"TA0006\"",
                         "\"T1587.003\",\"T1557\""},
    [DET_CERT_NAME] = {9600053, 2, "tls_name_mismatch",
                       "VIGIE TLS certificate does not match the server name",
                       "Potentially Bad Traffic", "\"TA0006\"", "\"T1557\""},
};

/* ------------------------------------------------------------------ bounded tables */

/* Every table entry starts with this header. */
struct det_hdr {
    uint64_t key;
    int64_t used_ns; /* last touch (packet clock): the oldest way of a set is evicted */
    uint8_t live;
};

struct det_tab {
    unsigned char *mem;
    size_t esize;
    size_t nsets; /* power of two */
    uint64_t evicted;
};

/* 1024-bit set of hashes: distinct counts without storing the values. */
struct det_bits {
    uint64_t w[16];
};

struct scan_ent {
    struct det_hdr h;
    int64_t win_ns;
    uint32_t flows, failed, noreply, nodata, ports;
    struct det_bits seen;
    uint16_t sample[10];
    uint8_t nsample;
};

struct sweep_ent {
    struct det_hdr h;
    int64_t win_ns;
    uint32_t flows, probes, hosts;
    struct det_bits seen;
    uint8_t sample[4][16];
    uint8_t nsample;
};

struct brute_ent {
    struct det_hdr h;
    int64_t win_ns;
    uint32_t attempts;
    uint64_t dur_sum_ns;
};

struct auth_ent {
    struct det_hdr h;
    int64_t win_ns;
    uint32_t fails, successes;
};

struct beacon_ent {
    struct det_hdr h;
    uint8_t n;
    int64_t t[VG_DETECT_BEACON_KEEP]; /* flow starts, ascending */
    uint64_t bytes_sum;
};

struct tunnel_ent {
    struct det_hdr h;
    int64_t win_ns;
    uint32_t queries, unique, long_names, txt_null, max_len;
    uint64_t sublen_sum;
    double entropy_sum;
    struct det_bits seen;
};

struct dga_ent {
    struct det_hdr h;
    int64_t win_ns;
    uint32_t domains, nx_domains, dga_names; /* distinct registered domains */
    double entropy_sum;
    uint32_t max_run;
    struct det_bits answered, nx, seen;
    char sample[3][64];
};

struct exfil_ent {
    struct det_hdr h;
    uint64_t flows;
    double mean;
};

struct suppr_ent {
    struct det_hdr h;
    int64_t fired_ns;
};

/* Longest string whose entropy is measured (a DNS name without its trailing dot). */
#define DET_ENTROPY_MAX 256

struct vg_sensor_detect {
    uint64_t seed;
    struct det_tab scan, sweep, brute, auth, beacon, tunnel, dga, exfil, suppr;
    uint64_t alerts, suppressed;
    double xlog2x[DET_ENTROPY_MAX + 1]; /* c * log2(c): entropy without a log per character */
};

/* Prototype for the tests until sensor_detect.h carries a stats call. */
uint64_t vg_sensor_detect_evictions(const struct vg_sensor_detect *d);

static int tab_init(struct det_tab *t, size_t esize, size_t cap)
{
    t->esize = esize;
    t->nsets = cap / DET_WAYS;
    t->mem = vg_calloc(cap, esize);
    return t->mem ? VG_OK : VG_ENOMEM;
}

/*
 * The entry of key, or a fresh zeroed one (the free or least recently used way of its set).
 * Never NULL once the table exists. now_ns refreshes the entry's age.
 */
static void *tab_get(struct det_tab *t, uint64_t key, int64_t now_ns)
{
    size_t set = (size_t)(vg_hash_mix(key) & (t->nsets - 1)) * DET_WAYS;
    struct det_hdr *victim = NULL;
    for (size_t i = 0; i < DET_WAYS; i++) {
        struct det_hdr *h = (struct det_hdr *)(t->mem + (set + i) * t->esize);
        if (h->live && h->key == key) {
            if (now_ns > h->used_ns) {
                h->used_ns = now_ns;
            }
            return h;
        }
        if (!victim || (victim->live && (!h->live || h->used_ns < victim->used_ns))) {
            victim = h;
        }
    }
    if (victim->live) {
        t->evicted++;
    }
    memset(victim, 0, t->esize);
    victim->key = key;
    victim->live = 1;
    victim->used_ns = now_ns;
    return victim;
}

/* Add h to the set; true when it was not there yet. */
static bool bits_add(struct det_bits *b, uint64_t h)
{
    h = vg_hash_mix(h);
    uint64_t m = 1ULL << (h & 63);
    size_t w = (size_t)((h >> 6) & 15);
    if (b->w[w] & m) {
        return false;
    }
    b->w[w] |= m;
    return true;
}

/* |a - b| without overflow: capture timestamps are untrusted and may lie anywhere in
 * int64_t's range, where a signed difference overflows. */
static uint64_t time_dist(int64_t a, int64_t b)
{
    return a >= b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* Is t within the window that started at *win (restarting it and returning false if not)? */
static bool window_keep(int64_t *win, int64_t t, int64_t len)
{
    if (*win != 0 && time_dist(t, *win) <= (uint64_t)len) {
        return true;
    }
    *win = t;
    return false;
}

/* ------------------------------------------------------------------ keys */

/*
 * The seeded hash of a detection key: the fields of struct det_key folded word by word
 * through the 64-bit finaliser (cheaper than hashing the padded struct as bytes; the seed
 * keeps the table placement unpredictable).
 */
static uint64_t key_hash(const struct vg_sensor_detect *d, int kind, const struct vg_flow_key *fk,
                         const uint8_t *a, const uint8_t *b, uint16_t port, uint64_t extra)
{
    uint64_t w[4] = {0, 0, 0, 0};
    uint64_t h = d->seed ^ ((uint64_t)(uint8_t)kind << 40 | (uint64_t)fk->family << 32 |
                            (uint64_t)fk->proto << 16 | port | (uint64_t)(a != NULL) << 48 |
                            (uint64_t)(b != NULL) << 49);
    size_t nw = 0;
    if (a) {
        memcpy(w, a, 16);
        nw = 2;
    }
    if (b) {
        memcpy(w + nw, b, 16);
        nw += 2;
    }
    h = vg_hash_mix(h);
    for (size_t i = 0; i < nw; i++) {
        h = vg_hash_mix(h ^ w[i]);
    }
    return vg_hash_mix(h ^ extra);
}

static uint64_t str_hash(const char *s, size_t n)
{
    return vg_hash64(s, n, 0x5eed);
}

/* Private, loopback, link-local, CGNAT, multicast/broadcast: not "outbound". */
static bool addr_is_local(uint8_t family, const uint8_t *a)
{
    if (family == VG_SENSOR_FLOW_AF_INET) {
        return a[0] == 10 || a[0] == 127 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
               (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224;
    }
    static const uint8_t loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff ||
           memcmp(a, loop6, 16) == 0;
}

/* ------------------------------------------------------------------ alerts */

/* Should kind fire now for this (source, target)? Records the firing. */
static bool suppress_pass(struct vg_sensor_detect *d, uint64_t key, int64_t t)
{
    struct suppr_ent *e = tab_get(&d->suppr, key, t);
    if (e->fired_ns != 0 && time_dist(t, e->fired_ns) < (uint64_t)VG_DETECT_SUPPRESS_NS) {
        d->suppressed++;
        return false;
    }
    e->fired_ns = t != 0 ? t : 1;
    return true;
}

/* Start the alert record: header, "alert" object, and the opening of "vigie". */
static struct vg_sbuf *alert_begin(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                                   int kind, enum vg_sensor_rec_dir dir)
{
    const struct det_sig *s = &det_sigs[kind];
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "alert", dir, -1);
    d->alerts++;
    vg_sbuf_printf(b,
                   ",\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":%u,"
                   "\"rev\":1,\"signature\":\"%s\",\"category\":\"%s\",\"severity\":%d,"
                   "\"metadata\":{\"mitre_tactic_id\":[%s],\"mitre_technique_id\":[%s]}}",
                   (unsigned)s->sid, s->signature, s->category, s->severity, s->tactics,
                   s->techniques);
    vg_sbuf_printf(b, ",\"vigie\":{\"detection\":\"%s\"", s->name);
    return b;
}

static void alert_end(struct vg_sensor_app_ctx *c, struct vg_sbuf *b)
{
    vg_sbuf_addc(b, '}');
    vg_sensor_rec_end(c);
}

static void json_kdouble(struct vg_sbuf *b, const char *key, double v)
{
    vg_sbuf_printf(b, ",\"%s\":%.3f", key, isfinite(v) ? v : 0.0);
}

/* "key":"2024-01-31T12:00:00Z" (Unix seconds, UTC). */
static void json_kdate(struct vg_sbuf *b, const char *key, int64_t unix_s)
{
    struct tm tm;
    time_t tt = (time_t)unix_s;
    char s[40];
    if (!gmtime_r(&tt, &tm) || strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        vg_sbuf_printf(b, ",\"%s\":%lld", key, (long long)unix_s);
        return;
    }
    vg_sbuf_printf(b, ",\"%s\":\"%s\"", key, s);
}

static struct vg_sensor_detect *det_of(struct vg_sensor_app_ctx *c)
{
    return (c && c->eng && c->flow) ? vg_sensor_engine_detector(c->eng) : NULL;
}

/* ------------------------------------------------------------------ lifecycle */

int vg_sensor_detect_create(struct vg_sensor_detect **out)
{
    struct vg_sensor_detect *d = vg_calloc(1, sizeof(*d));
    if (!d) {
        return VG_ENOMEM;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    d->seed = vg_hash_mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)d);
    for (size_t i = 1; i <= DET_ENTROPY_MAX; i++) {
        d->xlog2x[i] = (double)i * log2((double)i);
    }
    int rc = tab_init(&d->scan, sizeof(struct scan_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->sweep, sizeof(struct sweep_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->brute, sizeof(struct brute_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->auth, sizeof(struct auth_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->beacon, sizeof(struct beacon_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->tunnel, sizeof(struct tunnel_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->dga, sizeof(struct dga_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->exfil, sizeof(struct exfil_ent), DET_CAP);
    rc = rc ? rc : tab_init(&d->suppr, sizeof(struct suppr_ent), DET_CAP_SUPPR);
    if (rc != VG_OK) {
        vg_sensor_detect_destroy(d);
        return rc;
    }
    *out = d;
    return VG_OK;
}

void vg_sensor_detect_destroy(struct vg_sensor_detect *d)
{
    if (!d) {
        return;
    }
    struct det_tab *tabs[] = {&d->scan,   &d->sweep, &d->brute, &d->auth, &d->beacon,
                              &d->tunnel, &d->dga,   &d->exfil, &d->suppr};
    for (size_t i = 0; i < VG_ARRAY_LEN(tabs); i++) {
        vg_free(tabs[i]->mem);
    }
    vg_free(d);
}

uint64_t vg_sensor_detect_evictions(const struct vg_sensor_detect *d)
{
    if (!d) {
        return 0;
    }
    return d->scan.evicted + d->sweep.evicted + d->brute.evicted + d->auth.evicted +
           d->beacon.evicted + d->tunnel.evicted + d->dga.evicted + d->exfil.evicted +
           d->suppr.evicted;
}

/* ------------------------------------------------------------------ flows: scans */

/* What a flow's end says about it as a probe. */
struct flow_facts {
    bool initiated; /* the client's opening was seen (TCP SYN; always for UDP/ICMP) */
    bool failed;    /* TCP RST/no SYN-ACK; UDP/ICMP without any answer */
    bool nodata;    /* handshake done but no payload either way */
    bool answered;  /* the server sent something */
};

static struct flow_facts flow_facts_of(const struct vg_sensor_flow *f)
{
    struct flow_facts ff = {0};
    if (f->key.proto == 6) {
        uint8_t cf = f->tcp_flags[VG_SENSOR_FLOW_TO_SERVER];
        uint8_t sf = f->tcp_flags[VG_SENSOR_FLOW_TO_CLIENT];
        bool synack = (sf & (VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK)) ==
                      (VG_SENSOR_TCP_SYN | VG_SENSOR_TCP_ACK);
        ff.initiated = (cf & VG_SENSOR_TCP_SYN) != 0;
        ff.failed = !synack;
        ff.nodata = synack && f->payload[0] == 0 && f->payload[1] == 0;
        ff.answered = synack;
    } else {
        ff.initiated = true;
        ff.failed = f->pkts[VG_SENSOR_FLOW_TO_CLIENT] == 0;
        ff.answered = !ff.failed;
    }
    return ff;
}

static void scan_alert(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                       const struct scan_ent *e)
{
    struct vg_sbuf *b = alert_begin(d, c, DET_SCAN, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kint(b, "distinct_ports", e->ports);
    vg_sensor_json_kint(b, "flows", e->flows);
    vg_sensor_json_kint(b, "failed", e->failed);
    vg_sensor_json_kint(b, "no_data", e->nodata);
    vg_sensor_json_kint(b, "window_s", VG_DETECT_SCAN_WINDOW_NS / VG_NS_S);
    vg_sensor_json_kint(b, "threshold_ports", VG_DETECT_SCAN_PORTS);
    vg_sbuf_adds(b, ",\"ports_sample\":[");
    for (uint8_t i = 0; i < e->nsample; i++) {
        vg_sbuf_printf(b, "%s%u", i ? "," : "", (unsigned)e->sample[i]);
    }
    vg_sbuf_addc(b, ']');
    alert_end(c, b);
}

/* One source -> many ports of one host. */
static void scan_update(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                        const struct flow_facts *ff, int64_t t)
{
    const struct vg_flow_key *k = &c->flow->key;
    struct scan_ent *e = tab_get(&d->scan, key_hash(d, DET_SCAN, k, k->src, k->dst, 0, 0), t);
    if (!window_keep(&e->win_ns, t, VG_DETECT_SCAN_WINDOW_NS)) {
        memset((char *)e + sizeof(e->h), 0, sizeof(*e) - sizeof(e->h));
        e->win_ns = t;
    }
    e->flows++;
    bool probe = ff->failed || ff->nodata;
    e->failed += ff->failed;
    e->nodata += ff->nodata;
    if (!probe || !bits_add(&e->seen, ((uint64_t)k->proto << 16) | k->dport)) {
        return;
    }
    e->ports++;
    if (e->nsample < VG_ARRAY_LEN(e->sample)) {
        e->sample[e->nsample++] = k->dport;
    }
    if (e->ports >= VG_DETECT_SCAN_PORTS &&
        (e->failed + e->nodata) * 100 >= VG_DETECT_SCAN_PROBE_PCT * e->flows &&
        suppress_pass(d, key_hash(d, DET_SCAN, k, k->src, k->dst, 0, 1), t)) {
        scan_alert(d, c, e);
    }
}

static void sweep_alert(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                        const struct sweep_ent *e, uint16_t port)
{
    struct vg_sbuf *b = alert_begin(d, c, DET_SWEEP, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kint(b, "distinct_hosts", e->hosts);
    vg_sensor_json_kint(b, "port", port);
    vg_sensor_json_kint(b, "flows", e->flows);
    vg_sensor_json_kint(b, "failed_or_no_data", e->probes);
    vg_sensor_json_kint(b, "window_s", VG_DETECT_SCAN_WINDOW_NS / VG_NS_S);
    vg_sensor_json_kint(b, "threshold_hosts", VG_DETECT_SWEEP_HOSTS);
    vg_sbuf_adds(b, ",\"hosts_sample\":[");
    for (uint8_t i = 0; i < e->nsample; i++) {
        char s[46];
        vg_sensor_addr_str(s, c->flow->key.family, e->sample[i]);
        vg_sbuf_printf(b, "%s\"%s\"", i ? "," : "", s);
    }
    vg_sbuf_addc(b, ']');
    alert_end(c, b);
}

/* One source -> the same port (or ICMP echo) of many hosts. */
static void sweep_update(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                         const struct flow_facts *ff, int64_t t)
{
    const struct vg_flow_key *k = &c->flow->key;
    bool icmp = k->proto == 1 || k->proto == 58;
    uint16_t port = icmp ? 0 : k->dport;
    struct sweep_ent *e = tab_get(&d->sweep, key_hash(d, DET_SWEEP, k, k->src, NULL, port, 0), t);
    if (!window_keep(&e->win_ns, t, VG_DETECT_SCAN_WINDOW_NS)) {
        memset((char *)e + sizeof(e->h), 0, sizeof(*e) - sizeof(e->h));
        e->win_ns = t;
    }
    e->flows++;
    bool probe = ff->failed || ff->nodata;
    e->probes += probe;
    if (!probe || !bits_add(&e->seen, vg_hash64(k->dst, 16, 7))) {
        return;
    }
    e->hosts++;
    if (e->nsample < VG_ARRAY_LEN(e->sample)) {
        memcpy(e->sample[e->nsample++], k->dst, 16);
    }
    if (e->hosts >= VG_DETECT_SWEEP_HOSTS &&
        e->probes * 100 >= VG_DETECT_SCAN_PROBE_PCT * e->flows &&
        suppress_pass(d, key_hash(d, DET_SWEEP, k, k->src, NULL, port, 1), t)) {
        sweep_alert(d, c, e, port);
    }
}

/* ------------------------------------------------------------------ flows: brute force */

static void brute_update(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                         const struct flow_facts *ff, int64_t t)
{
    const struct vg_sensor_flow *f = c->flow;
    const struct vg_flow_key *k = &f->key;
    int kind = k->dport == 22 ? DET_BRUTE_SSH : DET_BRUTE_RDP;
    int64_t dur = f->last_ns - f->first_ns;
    if (!ff->answered || dur > VG_DETECT_BRUTE_SHORT_NS) {
        return;
    }
    struct brute_ent *e = tab_get(&d->brute, key_hash(d, kind, k, k->src, k->dst, k->dport, 0), t);
    if (!window_keep(&e->win_ns, t, VG_DETECT_BRUTE_WINDOW_NS)) {
        e->attempts = 0;
        e->dur_sum_ns = 0;
    }
    e->attempts++;
    e->dur_sum_ns += (uint64_t)(dur > 0 ? dur : 0);
    if (e->attempts < VG_DETECT_BRUTE_FLOWS ||
        !suppress_pass(d, key_hash(d, kind, k, k->src, k->dst, k->dport, 1), t)) {
        return;
    }
    struct vg_sbuf *b = alert_begin(d, c, kind, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kint(b, "connections", e->attempts);
    json_kdouble(b, "mean_duration_s", (double)e->dur_sum_ns / e->attempts / 1e9);
    vg_sensor_json_kint(b, "window_s", VG_DETECT_BRUTE_WINDOW_NS / VG_NS_S);
    vg_sensor_json_kint(b, "threshold_connections", VG_DETECT_BRUTE_FLOWS);
    alert_end(c, b);
}

/* ------------------------------------------------------------------ flows: beaconing */

static void beacon_insert(struct beacon_ent *e, int64_t t)
{
    if (e->n == VG_DETECT_BEACON_KEEP) {
        if (t <= e->t[0]) {
            return; /* older than every kept start */
        }
        memmove(e->t, e->t + 1, (size_t)(e->n - 1) * sizeof(e->t[0]));
        e->n--;
    }
    size_t i = e->n;
    while (i > 0 && e->t[i - 1] > t) {
        e->t[i] = e->t[i - 1];
        i--;
    }
    e->t[i] = t;
    e->n++;
}

struct interval_stats {
    double mean, sd, cv, min, max;
};

static struct interval_stats beacon_stats(const struct beacon_ent *e)
{
    struct interval_stats s = {0};
    double sum = 0, sq = 0;
    size_t n = (size_t)e->n - 1;
    s.min = 1e300;
    for (size_t i = 0; i < n; i++) {
        double iv = (double)e->t[i + 1] - (double)e->t[i];
        sum += iv;
        s.min = iv < s.min ? iv : s.min;
        s.max = iv > s.max ? iv : s.max;
    }
    s.mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double dv = (double)e->t[i + 1] - (double)e->t[i] - s.mean;
        sq += dv * dv;
    }
    s.sd = sqrt(sq / (double)n);
    s.cv = s.mean > 0 ? s.sd / s.mean : 1e9;
    return s;
}

static void beacon_update(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c, int64_t t)
{
    const struct vg_sensor_flow *f = c->flow;
    const struct vg_flow_key *k = &f->key;
    struct beacon_ent *e =
        tab_get(&d->beacon, key_hash(d, DET_BEACON, k, k->src, k->dst, k->dport, 0), t);
    beacon_insert(e, f->first_ns);
    e->bytes_sum += f->payload[0] + f->payload[1];
    if (e->n < VG_DETECT_BEACON_MIN) {
        return;
    }
    struct interval_stats s = beacon_stats(e);
    if (s.mean < (double)VG_DETECT_BEACON_MIN_INTERVAL || s.cv >= VG_DETECT_BEACON_CV ||
        !suppress_pass(d, key_hash(d, DET_BEACON, k, k->src, k->dst, k->dport, 1), t)) {
        return;
    }
    struct vg_sbuf *b = alert_begin(d, c, DET_BEACON, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kint(b, "connections", e->n);
    json_kdouble(b, "mean_interval_s", s.mean / 1e9);
    json_kdouble(b, "jitter_s", s.sd / 1e9);
    json_kdouble(b, "cv", s.cv);
    json_kdouble(b, "min_interval_s", s.min / 1e9);
    json_kdouble(b, "max_interval_s", s.max / 1e9);
    vg_sensor_json_kint(b, "mean_bytes", (int64_t)(e->bytes_sum / e->n));
    json_kdouble(b, "threshold_cv", VG_DETECT_BEACON_CV);
    alert_end(c, b);
}

/* ------------------------------------------------------------------ flows: exfiltration */

/* Check one direction: sender (local) -> receiver (public), sent bytes. */
static void exfil_check(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                        const uint8_t *sender, const uint8_t *receiver, uint64_t sent, int64_t t,
                        enum vg_sensor_rec_dir dir)
{
    const struct vg_flow_key *k = &c->flow->key;
    if (!addr_is_local(k->family, sender) || addr_is_local(k->family, receiver)) {
        return;
    }
    struct exfil_ent *e = tab_get(&d->exfil, key_hash(d, DET_EXFIL, k, sender, NULL, 0, 0), t);
    double base = e->mean;
    uint64_t flows = e->flows;
    e->mean = flows ? base + VG_DETECT_EXFIL_ALPHA * ((double)sent - base) : (double)sent;
    e->flows++;
    if (sent < VG_DETECT_EXFIL_FLOOR || (double)sent < VG_DETECT_EXFIL_FACTOR * base ||
        !suppress_pass(d, key_hash(d, DET_EXFIL, k, sender, receiver, 0, 1), t)) {
        return;
    }
    struct vg_sbuf *b = alert_begin(d, c, DET_EXFIL, dir);
    vg_sensor_json_kint(b, "bytes_out", (int64_t)sent);
    json_kdouble(b, "baseline_mean_bytes", base);
    vg_sensor_json_kint(b, "baseline_flows", (int64_t)flows);
    json_kdouble(b, "factor", base > 0 ? (double)sent / base : 0.0);
    vg_sensor_json_kint(b, "floor_bytes", (int64_t)VG_DETECT_EXFIL_FLOOR);
    json_kdouble(b, "duration_s", (double)(c->flow->last_ns - c->flow->first_ns) / 1e9);
    alert_end(c, b);
}

void vg_sensor_detect_flow_end(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c)
{
    if (!d || !c || !c->flow) {
        return;
    }
    const struct vg_sensor_flow *f = c->flow;
    const struct vg_flow_key *k = &f->key;
    if (k->proto != 6 && k->proto != 17 && k->proto != 1 && k->proto != 58) {
        return;
    }
    int64_t t = f->first_ns;
    struct flow_facts ff = flow_facts_of(f);
    bool traceroute = k->proto == 17 && k->dport >= VG_DETECT_TRACEROUTE_LO &&
                      k->dport <= VG_DETECT_TRACEROUTE_HI;
    if (ff.initiated && !traceroute) {
        if (k->proto == 6 || k->proto == 17) {
            scan_update(d, c, &ff, t);
        }
        sweep_update(d, c, &ff, t);
    }
    if (k->proto == 6 && (k->dport == 22 || k->dport == 3389) && ff.initiated) {
        brute_update(d, c, &ff, t);
    }
    if ((k->proto == 6 && ff.answered) || k->proto == 17) {
        beacon_update(d, c, t);
    }
    exfil_check(d, c, k->src, k->dst, f->payload[VG_SENSOR_FLOW_TO_SERVER], t, VG_SENSOR_REC_FLOW);
    exfil_check(d, c, k->dst, k->src, f->payload[VG_SENSOR_FLOW_TO_CLIENT], t,
                VG_SENSOR_REC_REVERSE);
}

/* ------------------------------------------------------------------ DNS lexical measures */

/*
 * Shannon entropy (bits per character) of s[0..n), case-folded:
 *   H = -sum p log2 p = log2 m - (1/m) sum c log2 c
 * with the c log2 c terms from the detector's table (one log2 per string, not per symbol).
 */
static double str_entropy(const struct vg_sensor_detect *d, const char *s, size_t n)
{
    uint16_t cnt[64] = {0};
    size_t m = 0;
    n = n < DET_ENTROPY_MAX ? n : DET_ENTROPY_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            continue;
        }
        int idx = ch >= 'a' && ch <= 'z'   ? ch - 'a'
                  : ch >= 'A' && ch <= 'Z' ? ch - 'A'
                  : ch >= '0' && ch <= '9' ? 26 + ch - '0'
                                           : 36 + (ch & 15);
        cnt[idx]++;
        m++;
    }
    if (m == 0) {
        return 0;
    }
    double sum = 0;
    for (size_t i = 0; i < 64; i++) {
        sum += d->xlog2x[cnt[i]]; /* xlog2x[0] and [1] are 0 */
    }
    double h = log2((double)m) - sum / (double)m;
    return h > 0 ? h : 0; /* a single symbol: exactly 0, never -0.000 */
}

/* A lower-cased, bounded copy of a query name without its trailing dot, and its parts. */
struct dns_name {
    char s[256];
    size_t n;
    size_t reg; /* offset of the registered domain ("example.co.uk") */
    size_t lbl; /* offset and length of its first label ("example") */
    size_t lbl_len;
    size_t max_label;
};

/* Second-level labels under which registrations happen (co.uk, com.au, ...). */
static bool is_sld_suffix(const char *p, size_t n)
{
    static const char *const s[] = {"co", "com", "net", "org", "gov", "edu", "ac", "ne", "or"};
    for (size_t i = 0; i < VG_ARRAY_LEN(s); i++) {
        if (strlen(s[i]) == n && memcmp(p, s[i], n) == 0) {
            return true;
        }
    }
    return false;
}

/* The dots of a name being folded: the first 128 positions, the longest label so far. */
struct name_dots {
    size_t at[128], n;
    size_t start, maxl; /* where the current label starts; longest finished label */
};

static void name_dot(struct name_dots *d, size_t i)
{
    d->maxl = i - d->start > d->maxl ? i - d->start : d->maxl;
    d->start = i + 1;
    if (d->n < VG_ARRAY_LEN(d->at)) {
        d->at[d->n++] = i;
    }
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Lower-case q[i..i+8) into out[i..i+8) as one word (ASCII letters only) and note its dots. */
static void name_fold8(char *out, const char *q, size_t i, struct name_dots *d)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
    uint64_t w;
    memcpy(&w, q + i, 8);
    uint64_t h7 = w & low7;                   /* lanes without their top bit: no carries */
    uint64_t ge_a = h7 + ones * (0x80 - 'A'); /* top bit: lane >= 'A' */
    uint64_t gt_z = h7 + ones * (0x7f - 'Z'); /* top bit: lane > 'Z' */
    uint64_t upper = ge_a & ~gt_z & ~w & high;
    w ^= upper >> 2; /* 0x80 >> 2 == 0x20: 'A' -> 'a' */
    memcpy(out + i, &w, 8);
    uint64_t t = w ^ (ones * '.');
    uint64_t dots = ~(((t & low7) + low7) | t) & high; /* top bit: lane == '.' (exact) */
    while (dots) {
        name_dot(d, i + ((size_t)__builtin_ctzll(dots) >> 3));
        dots &= dots - 1;
    }
}
#endif

static void dns_name_parse(struct dns_name *nm, const char *q, size_t n)
{
    n = n < sizeof(nm->s) - 1 ? n : sizeof(nm->s) - 1;
    while (n > 0 && q[n - 1] == '.') {
        n--;
    }
    struct name_dots nd; /* at[] is written before it is read: no 1 KiB clear per name */
    nd.n = nd.start = nd.maxl = 0;
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 8 <= n; i += 8) {
        name_fold8(nm->s, q, i, &nd);
    }
#endif
    for (; i < n; i++) {
        unsigned char ch = (unsigned char)q[i];
        nm->s[i] = (char)((unsigned)(ch - 'A') < 26u ? ch | 0x20 : ch);
        if (ch == '.') {
            name_dot(&nd, i);
        }
    }
    nm->max_label = n - nd.start > nd.maxl ? n - nd.start : nd.maxl;
    nm->s[n] = 0;
    nm->n = n;
    /* registered = last two labels, three when the middle one is a known second level under
     * a two-letter country code */
    size_t take = 2;
    if (nd.n >= 2) {
        size_t tld = nd.at[nd.n - 1] + 1, mid = nd.at[nd.n - 2] + 1;
        if (n - tld == 2 && is_sld_suffix(nm->s + mid, nd.at[nd.n - 1] - mid)) {
            take = 3;
        }
    }
    nm->reg = nd.n >= take ? nd.at[nd.n - take] + 1 : 0;
    nm->lbl = nm->reg;
    const char *dot = memchr(nm->s + nm->reg, '.', n - nm->reg);
    nm->lbl_len = dot ? (size_t)(dot - (nm->s + nm->reg)) : n - nm->reg;
}

/* Lexical measures of a registered label for the DGA test. */
struct dga_measure {
    double entropy;
    size_t cons_run;
    bool like;
};

static struct dga_measure dga_measure(const struct vg_sensor_detect *d, const char *l, size_t n)
{
    /* bit (c - 'a') set for the vowels a e i o u y */
    const uint32_t vowel_bits =
        (1u << 0) | (1u << 4) | (1u << 8) | (1u << 14) | (1u << 20) | (1u << 24);
    struct dga_measure m = {0};
    size_t vowels = 0, digits = 0, letters = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = l[i];
        bool letter = ch >= 'a' && ch <= 'z';
        bool vowel = letter && ((vowel_bits >> (ch - 'a')) & 1u);
        letters += letter;
        vowels += vowel;
        digits += ch >= '0' && ch <= '9';
        run = letter && !vowel ? run + 1 : 0;
        m.cons_run = run > m.cons_run ? run : m.cons_run;
    }
    m.entropy = str_entropy(d, l, n);
    if (n < VG_DETECT_DGA_MIN_LEN) {
        return m;
    }
    int points = (m.entropy >= VG_DETECT_DGA_ENTROPY) + (m.cons_run >= VG_DETECT_DGA_CONS_RUN) +
                 (letters > 0 && vowels * 100 < VG_DETECT_DGA_VOWEL_PCT * letters) +
                 (digits >= 3 && letters >= 3);
    m.like = points >= 2;
    return m;
}

/* ------------------------------------------------------------------ DNS: tunnelling */

static bool tunnel_fires(const struct tunnel_ent *e)
{
    double n = e->unique ? (double)e->unique : 1.0;
    bool random_names = e->unique >= VG_DETECT_TUNNEL_UNIQUE &&
                        e->entropy_sum / n >= VG_DETECT_TUNNEL_ENTROPY &&
                        (double)e->sublen_sum / n >= VG_DETECT_TUNNEL_SUBLEN;
    bool txt = e->txt_null >= VG_DETECT_TUNNEL_TXT && e->unique >= VG_DETECT_TUNNEL_TXT;
    return random_names || txt || e->long_names >= VG_DETECT_TUNNEL_LONG;
}

static void tunnel_alert(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                         const struct tunnel_ent *e, const struct dns_name *nm)
{
    double n = e->unique ? (double)e->unique : 1.0;
    struct vg_sbuf *b = alert_begin(d, c, DET_TUNNEL, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kstr(b, "domain", nm->s + nm->reg, nm->n - nm->reg);
    vg_sensor_json_kint(b, "queries", e->queries);
    vg_sensor_json_kint(b, "unique_subdomains", e->unique);
    json_kdouble(b, "mean_subdomain_len", (double)e->sublen_sum / n);
    json_kdouble(b, "mean_entropy", e->entropy_sum / n);
    vg_sensor_json_kint(b, "long_names", e->long_names);
    vg_sensor_json_kint(b, "txt_null_queries", e->txt_null);
    vg_sensor_json_kint(b, "max_qname_len", e->max_len);
    vg_sensor_json_kint(b, "window_s", VG_DETECT_DNS_WINDOW_NS / VG_NS_S);
    vg_sensor_json_kstr(b, "qname_sample", nm->s, nm->n);
    alert_end(c, b);
}

static void tunnel_query(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                         const struct dns_name *nm, int qtype)
{
    const struct vg_flow_key *k = &c->flow->key;
    uint64_t dom = str_hash(nm->s + nm->reg, nm->n - nm->reg);
    int64_t t = c->ts_ns;
    struct tunnel_ent *e = tab_get(&d->tunnel, key_hash(d, DET_TUNNEL, k, k->src, NULL, 0, dom), t);
    if (!window_keep(&e->win_ns, t, VG_DETECT_DNS_WINDOW_NS)) {
        memset((char *)e + sizeof(e->h), 0, sizeof(*e) - sizeof(e->h));
        e->win_ns = t;
    }
    e->queries++;
    e->txt_null += qtype == 16 || qtype == 10;
    e->long_names +=
        nm->n >= VG_DETECT_TUNNEL_LONG_NAME || nm->max_label >= VG_DETECT_TUNNEL_LONG_LBL;
    e->max_len = nm->n > e->max_len ? (uint32_t)nm->n : e->max_len;
    size_t sub = nm->reg > 0 ? nm->reg - 1 : 0;
    if (sub > 0 && bits_add(&e->seen, str_hash(nm->s, sub))) {
        e->unique++;
        e->sublen_sum += sub;
        e->entropy_sum += str_entropy(d, nm->s, sub);
    }
    if (tunnel_fires(e) &&
        suppress_pass(d, key_hash(d, DET_TUNNEL, k, k->src, NULL, 0, dom ^ 1), t)) {
        tunnel_alert(d, c, e, nm);
    }
}

/* ------------------------------------------------------------------ DNS: DGA */

static void dga_alert(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                      const struct dga_ent *e)
{
    struct vg_sbuf *b = alert_begin(d, c, DET_DGA, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kint(b, "dga_like_nxdomain_names", e->dga_names);
    vg_sensor_json_kint(b, "domains_answered", e->domains);
    vg_sensor_json_kint(b, "nxdomain_domains", e->nx_domains);
    json_kdouble(b, "nxdomain_ratio", e->domains ? (double)e->nx_domains / e->domains : 0.0);
    json_kdouble(b, "mean_label_entropy", e->dga_names ? e->entropy_sum / e->dga_names : 0.0);
    vg_sensor_json_kint(b, "max_consonant_run", e->max_run);
    vg_sensor_json_kint(b, "window_s", VG_DETECT_DNS_WINDOW_NS / VG_NS_S);
    vg_sbuf_adds(b, ",\"names_sample\":[");
    for (size_t i = 0; i < VG_ARRAY_LEN(e->sample) && e->sample[i][0]; i++) {
        if (i) {
            vg_sbuf_addc(b, ',');
        }
        vg_sbuf_add_json_str(b, e->sample[i], strlen(e->sample[i]));
    }
    vg_sbuf_addc(b, ']');
    alert_end(c, b);
}

static void dga_answer(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c,
                       const struct dns_name *nm, int rcode)
{
    const struct vg_flow_key *k = &c->flow->key;
    int64_t t = c->ts_ns;
    struct dga_ent *e = tab_get(&d->dga, key_hash(d, DET_DGA, k, k->src, NULL, 0, 0), t);
    if (!window_keep(&e->win_ns, t, VG_DETECT_DNS_WINDOW_NS)) {
        memset((char *)e + sizeof(e->h), 0, sizeof(*e) - sizeof(e->h));
        e->win_ns = t;
    }
    uint64_t dom = str_hash(nm->s + nm->reg, nm->n - nm->reg);
    e->domains += bits_add(&e->answered, dom);
    if (rcode != 3) {
        return;
    }
    e->nx_domains += bits_add(&e->nx, dom);
    struct dga_measure m = dga_measure(d, nm->s + nm->lbl, nm->lbl_len);
    if (!m.like || !bits_add(&e->seen, dom)) {
        return;
    }
    if (e->dga_names < VG_ARRAY_LEN(e->sample)) {
        vg_strlcpy(e->sample[e->dga_names], nm->s + nm->reg, sizeof(e->sample[0]));
    }
    e->dga_names++;
    e->entropy_sum += m.entropy;
    e->max_run = m.cons_run > e->max_run ? (uint32_t)m.cons_run : e->max_run;
    if (e->dga_names >= VG_DETECT_DGA_NAMES &&
        e->nx_domains * 100 >= VG_DETECT_DGA_NX_PCT * e->domains &&
        suppress_pass(d, key_hash(d, DET_DGA, k, k->src, NULL, 0, 1), t)) {
        dga_alert(d, c, e);
    }
}

void vg_sensor_note_dns(struct vg_sensor_app_ctx *c, const char *qname, size_t n, int qtype,
                        int rcode)
{
    struct vg_sensor_detect *d = det_of(c);
    if (!d || !qname || n == 0) {
        return;
    }
    struct dns_name nm;
    dns_name_parse(&nm, qname, n);
    if (nm.n == 0 || nm.s[0] == '_' || (nm.n > 5 && memcmp(nm.s + nm.n - 5, ".arpa", 5) == 0)) {
        return; /* service records and reverse lookups carry structured, not random, names */
    }
    if (rcode < 0) {
        tunnel_query(d, c, &nm, qtype);
    } else {
        dga_answer(d, c, &nm, rcode);
    }
}

/* ------------------------------------------------------------------ credentials and auth */

void vg_sensor_note_cred(struct vg_sensor_app_ctx *c, const char *proto, const char *user,
                         size_t user_len)
{
    struct vg_sensor_detect *d = det_of(c);
    if (!d || !proto) {
        return;
    }
    const struct vg_flow_key *k = &c->flow->key;
    uint64_t ph = str_hash(proto, strlen(proto));
    if (!suppress_pass(d, key_hash(d, DET_CRED, k, k->src, k->dst, k->dport, ph), c->ts_ns)) {
        return;
    }
    struct vg_sbuf *b = alert_begin(d, c, DET_CRED, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kstr(b, "protocol", proto, strlen(proto));
    if (user) {
        vg_sensor_json_kstr(b, "user", user, user_len < 128 ? user_len : 128);
    }
    alert_end(c, b);
}

void vg_sensor_note_auth(struct vg_sensor_app_ctx *c, const char *proto, bool success)
{
    struct vg_sensor_detect *d = det_of(c);
    if (!d || !proto) {
        return;
    }
    const struct vg_flow_key *k = &c->flow->key;
    uint64_t ph = str_hash(proto, strlen(proto));
    int64_t t = c->ts_ns;
    struct auth_ent *e =
        tab_get(&d->auth, key_hash(d, DET_BRUTE_AUTH, k, k->src, k->dst, 0, ph), t);
    if (!window_keep(&e->win_ns, t, VG_DETECT_AUTH_WINDOW_NS)) {
        e->fails = 0;
        e->successes = 0;
    }
    e->successes += success;
    e->fails += !success;
    if (success || e->fails < VG_DETECT_AUTH_FAILS ||
        !suppress_pass(d, key_hash(d, DET_BRUTE_AUTH, k, k->src, k->dst, 0, ph ^ 1), t)) {
        return;
    }
    struct vg_sbuf *b = alert_begin(d, c, DET_BRUTE_AUTH, VG_SENSOR_REC_FLOW);
    vg_sensor_json_kstr(b, "protocol", proto, strlen(proto));
    vg_sensor_json_kint(b, "failures", e->fails);
    vg_sensor_json_kint(b, "successes", e->successes);
    vg_sensor_json_kint(b, "window_s", VG_DETECT_AUTH_WINDOW_NS / VG_NS_S);
    vg_sensor_json_kint(b, "threshold_failures", VG_DETECT_AUTH_FAILS);
    alert_end(c, b);
}

/* ------------------------------------------------------------------ certificates */

static void cert_alert(struct vg_sensor_detect *d, struct vg_sensor_app_ctx *c, int kind,
                       const struct vg_sensor_cert_facts *f)
{
    const struct vg_flow_key *k = &c->flow->key;
    if (!suppress_pass(d, key_hash(d, kind, k, k->src, k->dst, k->dport, 1), c->ts_ns)) {
        return;
    }
    struct vg_sbuf *b = alert_begin(d, c, kind, VG_SENSOR_REC_FLOW);
    if (f->sni) {
        vg_sensor_json_kstr(b, "sni", f->sni, strlen(f->sni));
    }
    if (f->subject) {
        vg_sensor_json_kstr(b, "subject", f->subject, strlen(f->subject));
    }
    if (f->issuer) {
        vg_sensor_json_kstr(b, "issuer", f->issuer, strlen(f->issuer));
    }
    json_kdate(b, "not_before", f->not_before);
    json_kdate(b, "not_after", f->not_after);
    int64_t now = c->ts_ns / VG_NS_S;
    if (kind == DET_CERT_EXPIRED) {
        vg_sensor_json_kint(b, "days_expired", (now - f->not_after) / 86400);
    } else if (kind == DET_CERT_NOTYET) {
        vg_sensor_json_kint(b, "days_until_valid", (f->not_before - now) / 86400);
    }
    alert_end(c, b);
}

void vg_sensor_note_cert(struct vg_sensor_app_ctx *c, const struct vg_sensor_cert_facts *f)
{
    struct vg_sensor_detect *d = det_of(c);
    if (!d || !f) {
        return;
    }
    int64_t now = c->ts_ns / VG_NS_S;
    if (f->self_signed) {
        cert_alert(d, c, DET_CERT_SELF, f);
    }
    if (f->not_after != 0 && now > f->not_after) {
        cert_alert(d, c, DET_CERT_EXPIRED, f);
    } else if (f->not_before != 0 && now < f->not_before) {
        cert_alert(d, c, DET_CERT_NOTYET, f);
    }
    if (f->sni && f->sni[0] && !f->name_matches) {
        cert_alert(d, c, DET_CERT_NAME, f);
    }
}
