/*
 * sensor_eve.c — the EVE JSON record writer of the sensor (issue 6): the common record header
 * (Suricata 8 layout), the JSON member helpers the protocol parsers use, timestamps and
 * address text, and `anomaly` records.
 *
 * One record is open at a time per engine: vg_sensor_rec_begin resets the engine's buffer and
 * writes the header, the caller appends members, vg_sensor_rec_end closes the object and hands
 * the line to the sink. No allocation per record once the buffer has grown to the largest
 * record. Timestamps cache the formatted second per thread, so most records format only the
 * microseconds.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_engine_int.h"
#include "sensor/sensor_fmt.h"

/* ---------------------------------------------------------------- small formatters */

/*
 * The writers below append into space reserved up front (vg_sbuf_reserve) through a plain
 * char pointer: a record header costs one reserve instead of a call per byte. `commit` sets
 * the length from the pointer and keeps the buffer NUL-terminated.
 */
#define U64_MAX_DIGITS 20

static inline char *wend(struct vg_sbuf *s)
{
    return s->p + s->len;
}

static inline void commit(struct vg_sbuf *s, char *p)
{
    s->len = (size_t)(p - s->p);
    s->p[s->len] = '\0';
}

static char *w_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return vg_sensor_fmt_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return vg_sensor_fmt_u64(p, (uint64_t)v);
}

/* A separating comma unless the buffer ends where a member may start, then "key":. The key
 * is a trusted literal (no escaping). Needs strlen(key) + 4 bytes reserved. */
static char *w_key(struct vg_sbuf *s, char *p, const char *key, size_t klen)
{
    if (p != s->p) {
        char last = p[-1];
        if (last != '{' && last != '[' && last != ',' && last != ':') {
            *p++ = ',';
        }
    }
    *p++ = '"';
    memcpy(p, key, klen);
    p += klen;
    *p++ = '"';
    *p++ = ':';
    return p;
}

static void put_key(struct vg_sbuf *s, const char *key)
{
    size_t kl = strlen(key);
    if (vg_sbuf_reserve(s, kl + 4) != VG_OK) {
        return;
    }
    commit(s, w_key(s, wend(s), key, kl));
}

/* ---------------------------------------------------------------- JSON string escaping */

/*
 * Most member values (host names, URIs, user agents, certificate names) need no escaping:
 * the fast path checks 16 bytes at a time that no byte is a control character, '"', '\\',
 * DEL or non-ASCII, then copies the value in one memcpy. Anything else goes through
 * vg_sbuf_add_json_str (same output: it escapes what JSON requires and maps invalid UTF-8
 * to U+FFFD; DEL and valid UTF-8 merely take the slow path).
 */

/* v[0..n) as a quoted JSON string (v may be NULL when n is 0). */
static void put_json_str(struct vg_sbuf *s, const char *v, size_t n)
{
    if (!vg_sensor_json_plain((const unsigned char *)v, n)) {
        vg_sbuf_add_json_str(s, v, n);
        return;
    }
    if (vg_sbuf_reserve(s, n + 2) != VG_OK) {
        return;
    }
    char *p = wend(s);
    *p = '"';
    if (n) {
        memcpy(p + 1, v, n);
    }
    p[n + 1] = '"';
    commit(s, p + n + 2);
}

/* ---------------------------------------------------------------- JSON helpers (public) */

/*
 * "key":"value" (escaped; invalid UTF-8 becomes U+FFFD), preceded by a comma unless s ends
 * with '{', '[', ',' or ':'. v NULL writes null.
 */
void vg_sensor_json_kstr(struct vg_sbuf *s, const char *key, const char *v, size_t n)
{
    put_key(s, key);
    if (!v) {
        vg_sbuf_add(s, "null", 4);
        return;
    }
    put_json_str(s, v, n);
}

/* "key":N with the same comma rule. */
void vg_sensor_json_kint(struct vg_sbuf *s, const char *key, int64_t v)
{
    size_t kl = strlen(key);
    if (vg_sbuf_reserve(s, kl + 4 + U64_MAX_DIGITS + 1) != VG_OK) {
        return;
    }
    commit(s, w_i64(w_key(s, wend(s), key, kl), v));
}

/* "key":true|false with the same comma rule. */
void vg_sensor_json_kbool(struct vg_sbuf *s, const char *key, bool v)
{
    size_t kl = strlen(key);
    if (vg_sbuf_reserve(s, kl + 4 + 5) != VG_OK) {
        return;
    }
    char *p = w_key(s, wend(s), key, kl);
    memcpy(p, v ? "true" : "false", v ? 4 : 5);
    commit(s, p + (v ? 4 : 5));
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian; H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put_digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Per-thread cache of the last formatted second ("2016-01-01T12:00:00"). */
static _Thread_local int64_t tcache_sec = INT64_MIN;
static _Thread_local char tcache_txt[20];

static void format_second(int64_t sec)
{
    int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
    int64_t rem = sec - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        y = y < 0 ? 0 : 9999;
    }
    char *p = tcache_txt;
    put_digits(p, (unsigned)y, 4);
    p[4] = '-';
    put_digits(p + 5, (unsigned)m, 2);
    p[7] = '-';
    put_digits(p + 8, (unsigned)d, 2);
    p[10] = 'T';
    put_digits(p + 11, (unsigned)(rem / 3600), 2);
    p[13] = ':';
    put_digits(p + 14, (unsigned)(rem / 60 % 60), 2);
    p[16] = ':';
    put_digits(p + 17, (unsigned)(rem % 60), 2);
    tcache_sec = sec;
}

/* Writes the quoted time (33 bytes). */
static char *w_time(char *p, int64_t ts_ns)
{
    int64_t sec = ts_ns / 1000000000;
    int64_t ns = ts_ns % 1000000000;
    if (ns < 0) {
        ns += 1000000000;
        sec--;
    }
    if (sec != tcache_sec) {
        format_second(sec);
    }
    p[0] = '"';
    memcpy(p + 1, tcache_txt, 19);
    p[20] = '.';
    unsigned us = (unsigned)(ns / 1000);
    memcpy(p + 21, vg_sensor_dig2 + us / 10000 * 2, 2);
    memcpy(p + 23, vg_sensor_dig2 + us / 100 % 100 * 2, 2);
    memcpy(p + 25, vg_sensor_dig2 + us % 100 * 2, 2);
    memcpy(p + 27, "+0000\"", 6);
    return p + 33;
}

/* "2016-01-01T12:00:00.123456+0000" (quoted), UTC, microseconds truncated as Suricata does. */
void vg_sensor_json_time(struct vg_sbuf *s, int64_t ts_ns)
{
    if (vg_sbuf_reserve(s, 33) != VG_OK) {
        return;
    }
    commit(s, w_time(wend(s), ts_ns));
}

/*
 * Address text as Suricata's EVE writes it: dotted IPv4; IPv6 as eight groups of four
 * lower-case hex digits ("2001:0db8:0000:…"), which is what suricata-verify checks compare
 * (not the RFC 5952 compressed form).
 */
/* "0." .. "255.": an IPv4 octet and its dot, stored in 4 bytes (no NUL). */
static const char oct_dot[256][4] = {
    "0.",   "1.",   "2.",   "3.",   "4.",   "5.",   "6.",   "7.",   "8.",   "9.",   "10.",  "11.",
    "12.",  "13.",  "14.",  "15.",  "16.",  "17.",  "18.",  "19.",  "20.",  "21.",  "22.",  "23.",
    "24.",  "25.",  "26.",  "27.",  "28.",  "29.",  "30.",  "31.",  "32.",  "33.",  "34.",  "35.",
    "36.",  "37.",  "38.",  "39.",  "40.",  "41.",  "42.",  "43.",  "44.",  "45.",  "46.",  "47.",
    "48.",  "49.",  "50.",  "51.",  "52.",  "53.",  "54.",  "55.",  "56.",  "57.",  "58.",  "59.",
    "60.",  "61.",  "62.",  "63.",  "64.",  "65.",  "66.",  "67.",  "68.",  "69.",  "70.",  "71.",
    "72.",  "73.",  "74.",  "75.",  "76.",  "77.",  "78.",  "79.",  "80.",  "81.",  "82.",  "83.",
    "84.",  "85.",  "86.",  "87.",  "88.",  "89.",  "90.",  "91.",  "92.",  "93.",  "94.",  "95.",
    "96.",  "97.",  "98.",  "99.",  "100.", "101.", "102.", "103.", "104.", "105.", "106.", "107.",
    "108.", "109.", "110.", "111.", "112.", "113.", "114.", "115.", "116.", "117.", "118.", "119.",
    "120.", "121.", "122.", "123.", "124.", "125.", "126.", "127.", "128.", "129.", "130.", "131.",
    "132.", "133.", "134.", "135.", "136.", "137.", "138.", "139.", "140.", "141.", "142.", "143.",
    "144.", "145.", "146.", "147.", "148.", "149.", "150.", "151.", "152.", "153.", "154.", "155.",
    "156.", "157.", "158.", "159.", "160.", "161.", "162.", "163.", "164.", "165.", "166.", "167.",
    "168.", "169.", "170.", "171.", "172.", "173.", "174.", "175.", "176.", "177.", "178.", "179.",
    "180.", "181.", "182.", "183.", "184.", "185.", "186.", "187.", "188.", "189.", "190.", "191.",
    "192.", "193.", "194.", "195.", "196.", "197.", "198.", "199.", "200.", "201.", "202.", "203.",
    "204.", "205.", "206.", "207.", "208.", "209.", "210.", "211.", "212.", "213.", "214.", "215.",
    "216.", "217.", "218.", "219.", "220.", "221.", "222.", "223.", "224.", "225.", "226.", "227.",
    "228.", "229.", "230.", "231.", "232.", "233.", "234.", "235.", "236.", "237.", "238.", "239.",
    "240.", "241.", "242.", "243.", "244.", "245.", "246.", "247.", "248.", "249.", "250.", "251.",
    "252.", "253.", "254.", "255."};

/* Writes the address text at p (at most 39 bytes, no NUL; IPv4 may store up to 2 bytes past
 * the end, within the 46 bytes callers provide); returns the end. */
static char *w_addr(char *p, uint8_t family, const uint8_t *addr)
{
    static const char hex[] = "0123456789abcdef";
    if (family != VG_SENSOR_FLOW_AF_INET6) {
        for (int i = 0; i < 4; i++) {
            unsigned v = addr[i];
            memcpy(p, oct_dot[v], 4);
            p += 2 + (v >= 10) + (v >= 100);
        }
        return p - 1;
    }
    for (int i = 0; i < 16; i += 2) {
        *p++ = hex[addr[i] >> 4];
        *p++ = hex[addr[i] & 15];
        *p++ = hex[addr[i + 1] >> 4];
        *p++ = hex[addr[i + 1] & 15];
        *p++ = ':';
    }
    return p - 1;
}

void vg_sensor_addr_str(char out[46], uint8_t family, const uint8_t *addr)
{
    *w_addr(out, family, addr) = '\0';
}

/* ---------------------------------------------------------------- record header */

static const char *proto_name(uint8_t proto, char buf[4])
{
    switch (proto) {
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 1:
        return "ICMP";
    case 58:
        return "IPv6-ICMP";
    case 132:
        return "SCTP";
    case 47:
        return "GRE";
    default:
        put_digits(buf, proto, 3);
        buf[3] = '\0';
        return buf[0] == '0' ? (buf[1] == '0' ? buf + 2 : buf + 1) : buf;
    }
}

/* ,"src_ip":"…","src_port":N (port only when ports); needs HDR_ENDPOINT bytes. */
#define HDR_ENDPOINT 80
static char *w_endpoint(char *p, const char *ipkey, size_t iklen, const char *portkey, size_t pklen,
                        uint8_t fam, const uint8_t *addr, uint16_t port, bool ports)
{
    memcpy(p, ipkey, iklen);
    p = w_addr(p + iklen, fam, addr);
    *p++ = '"';
    if (ports) {
        memcpy(p, portkey, pklen);
        p = vg_sensor_fmt_u64(p + pklen, port);
    }
    return p;
}

#define LIT(s) s, sizeof(s) - 1

static char *w_proto(char *p, uint8_t proto)
{
    char pbuf[4];
    const char *pn = proto_name(proto, pbuf);
    size_t n = strlen(pn);
    memcpy(p, ",\"proto\":\"", 10);
    memcpy(p + 10, pn, n);
    p[10 + n] = '"';
    return p + 11 + n;
}

/* Do src/dest come reversed relative to the flow key? */
static bool rec_reversed(const struct vg_sensor_app_ctx *c, enum vg_sensor_rec_dir dir)
{
    const struct vg_sensor_fstate *fs = c->flow->user;
    bool sw = fs && fs->swapped;
    if (dir == VG_SENSOR_REC_REVERSE) {
        return !sw;
    }
    if (dir == VG_SENSOR_REC_PACKET) {
        return (c->dir == VG_SENSOR_FLOW_TO_CLIENT) != sw;
    }
    return sw;
}

/* Header addresses from the flow (oriented as dir asks) or, without a flow, the packet.
 * Needs 2 * HDR_ENDPOINT + 36 bytes. */
static char *w_addresses(char *p, const struct vg_sensor_app_ctx *c, enum vg_sensor_rec_dir dir)
{
    uint8_t fam, proto;
    const uint8_t *src, *dst;
    uint16_t sp, dp;
    bool ports;
    if (c->flow) {
        const struct vg_flow_key *k = &c->flow->key;
        bool rev = rec_reversed(c, dir);
        fam = k->family;
        proto = k->proto;
        ports = proto == 6 || proto == 17 || proto == 132;
        src = rev ? k->dst : k->src;
        dst = rev ? k->src : k->dst;
        sp = rev ? k->dport : k->sport;
        dp = rev ? k->sport : k->dport;
    } else {
        const struct vg_sensor_pkt *pk = c->pkt;
        if (!pk || !pk->ip_version) {
            return p;
        }
        fam = pk->ip_version == 6 ? VG_SENSOR_FLOW_AF_INET6 : VG_SENSOR_FLOW_AF_INET;
        proto = pk->proto;
        ports = pk->l4 && (proto == 6 || proto == 17);
        src = pk->src;
        dst = pk->dst;
        sp = pk->sport;
        dp = pk->dport;
    }
    p = vg_sensor_eve_w_vlan(p, c);
    p = w_endpoint(p, LIT(",\"src_ip\":\""), LIT(",\"src_port\":"), fam, src, sp, ports);
    p = w_endpoint(p, LIT(",\"dest_ip\":\""), LIT(",\"dest_port\":"), fam, dst, dp, ports);
    return w_proto(p, proto);
}

/* Event types whose header carries app_proto (Suricata writes it for these). */
static bool header_has_app_proto(const char *event_type)
{
    return strcmp(event_type, "alert") == 0 || strcmp(event_type, "anomaly") == 0 ||
           strcmp(event_type, "fileinfo") == 0;
}

struct vg_sbuf *vg_sensor_rec_begin(struct vg_sensor_app_ctx *c, const char *event_type,
                                    enum vg_sensor_rec_dir dir, int64_t tx_id)
{
    struct vg_sensor_engine *e = c->eng;
    struct vg_sbuf *s = &e->rec;
    struct vg_sensor_fstate *fs = c->flow ? c->flow->user : NULL;
    size_t etlen = strlen(event_type);
    vg_sbuf_reset(s);
    e->rec_open = true;
    if (event_type[0] == 'a' && strcmp(event_type, "alert") == 0) {
        e->st.alerts++;
        if (fs) {
            fs->alerted = true;
        }
    }
    if (vg_sbuf_reserve(s, 13 + 33 + 3 * 32 + 16 + etlen + 2 * HDR_ENDPOINT + 36 +
                               VG_SENSOR_EVE_VLAN_MAX) != VG_OK) {
        return s;
    }
    char *p = wend(s);
    memcpy(p, "{\"timestamp\":", 13);
    p = w_time(p + 13, c->ts_ns);
    if (fs && fs->flow_id) {
        memcpy(p, ",\"flow_id\":", 11);
        p = vg_sensor_fmt_u64(p + 11, fs->flow_id);
    }
    if (c->pcap_cnt) {
        memcpy(p, ",\"pcap_cnt\":", 12);
        p = vg_sensor_fmt_u64(p + 12, c->pcap_cnt);
    }
    memcpy(p, ",\"event_type\":\"", 15);
    memcpy(p + 15, event_type, etlen);
    p += 15 + etlen;
    *p++ = '"';
    p = w_addresses(p, c, dir);
    if (tx_id >= 0) {
        if (fs && (uint64_t)tx_id >= fs->tx_cnt) {
            fs->tx_cnt = (uint64_t)tx_id + 1; /* flow.tx_cnt */
        }
        memcpy(p, ",\"tx_id\":", 9);
        p = vg_sensor_fmt_u64(p + 9, (uint64_t)tx_id);
    }
    commit(s, p);
    if (fs && fs->app && header_has_app_proto(event_type)) {
        vg_sensor_json_kstr(s, "app_proto", fs->app->name, strlen(fs->app->name));
    }
    vg_sensor_eve_hdr_tail(c, s, c->flow && rec_reversed(c, dir));
    return s;
}

void vg_sensor_rec_end(struct vg_sensor_app_ctx *c)
{
    struct vg_sensor_engine *e = c->eng;
    struct vg_sbuf *s = &e->rec;
    if (!e->rec_open) {
        return;
    }
    e->rec_open = false;
    vg_sbuf_add(s, "}\n", 2);
    if (s->err) {
        /* Out of memory while writing: the record is lost, counted, and the buffer reset. */
        e->st.app_errors++;
        vg_sbuf_fini(s);
        return;
    }
    e->st.app_records++;
    if (e->sink) {
        e->sink(e->sink_ctx, s->p, s->len);
    }
}

/* ---------------------------------------------------------------- anomaly records */

/*
 * {"anomaly":{"type":"decode","event":"ipv4.trunc_pkt"}} or, for the application layer,
 * {"anomaly":{"app_proto":"dns","type":"applayer","event":"…","layer":"proto_parser"}}.
 */
void vg_sensor_eve_anomaly(struct vg_sensor_app_ctx *c, const char *type, const char *event,
                           int layer_app)
{
    struct vg_sensor_engine *e = c->eng;
    e->st.anomalies++;
    if (!e->cfg.log_anomaly) {
        return;
    }
    const struct vg_sensor_fstate *fs = c->flow ? c->flow->user : NULL;
    struct vg_sbuf *s = vg_sensor_rec_begin(c, "anomaly", VG_SENSOR_REC_PACKET, -1);
    vg_sbuf_add(s, ",\"anomaly\":{", 12);
    if (layer_app && fs && fs->app) {
        vg_sensor_json_kstr(s, "app_proto", fs->app->name, strlen(fs->app->name));
    }
    vg_sensor_json_kstr(s, "type", type, strlen(type));
    vg_sensor_json_kstr(s, "event", event, strlen(event));
    if (layer_app) {
        vg_sensor_json_kstr(s, "layer", "proto_parser", 12);
    }
    vg_sbuf_addc(s, '}');
    vg_sensor_rec_end(c);
}
