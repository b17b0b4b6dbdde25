/*
 * sensor_dhcp.c — the sensor's DHCP parser (issue 6): BOOTP/DHCP over UDP 67/68, one
 * message per datagram, written as Suricata EVE "dhcp" records in the "extended" layout:
 *
 *   "dhcp":{"type":"request"|"reply","id":N,"client_mac":"aa:bb:…","assigned_ip":"…",
 *           "client_ip":"…",["relay_ip":"…","next_server_ip":"…" (replies)],
 *           then one member per known option in wire order: "client_id","lease_time",
 *           "rebinding_time","renewal_time","subnet_mask","hostname","dhcp_type",
 *           "requested_ip","params":[…],"dns_servers":[…],"routers":[…],
 *           "vendor_class_identifier"}
 *
 * Semantics follow Suricata's rust/src/dhcp (parser.rs, logger.rs): a datagram shorter than
 * the fixed 240-byte header (with the magic cookie) is not DHCP; options are read until END
 * or the end of the datagram (an option running past it: event truncated_options, an
 * option that cannot be decoded: malformed_options); option 52 (overload) continues the
 * option list in the BOOTP file and/or sname fields. Every message is one transaction,
 * numbered per flow from 0. No state besides the counter; nothing is allocated per message.
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"

#define DHCP_HDR_LEN  240 /* BOOTP header (236) + magic cookie */
#define DHCP_MAX_OPTS 256 /* options kept per message (more: ignored) */

enum {
    DHCP_OPT_PAD = 0,
    DHCP_OPT_SUBNET_MASK = 1,
    DHCP_OPT_ROUTERS = 3,
    DHCP_OPT_DNS_SERVER = 6,
    DHCP_OPT_HOSTNAME = 12,
    DHCP_OPT_REQUESTED_IP = 50,
    DHCP_OPT_ADDRESS_TIME = 51,
    DHCP_OPT_OVERLOAD = 52,
    DHCP_OPT_TYPE = 53,
    DHCP_OPT_PARAMETER_LIST = 55,
    DHCP_OPT_RENEWAL_TIME = 58,
    DHCP_OPT_REBINDING_TIME = 59,
    DHCP_OPT_VENDOR_CLASS_ID = 60,
    DHCP_OPT_CLIENT_ID = 61,
    DHCP_OPT_END = 255,
};

/* One option: offset of its data in the datagram. */
struct dhcp_opt {
    uint8_t code;
    uint8_t len;
    uint16_t off;
};

struct dhcp_msg {
    const uint8_t *p;
    size_t n;
    struct dhcp_opt opt[DHCP_MAX_OPTS];
    size_t nopt;
    bool truncated, malformed;
};

struct dhcp_state {
    uint64_t tx_next;
};

/* ---------------------------------------------------------------- parsing */

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Is p[0..n) a BOOTP message with the DHCP magic cookie? */
static bool dhcp_header_ok(const uint8_t *p, size_t n)
{
    static const uint8_t magic[4] = {99, 130, 83, 99};
    return n >= DHCP_HDR_LEN && memcmp(p + 236, magic, 4) == 0;
}

/*
 * Read the options in p[from, to) into mg; returns true when END was reached. A length
 * running past `to` (the datagram end, or the end of an overloaded BOOTP field) marks the
 * message truncated.
 */
static bool dhcp_parse_area(struct dhcp_msg *mg, size_t from, size_t to)
{
    size_t i = from;
    while (i < to) {
        uint8_t code = mg->p[i];
        if (code == DHCP_OPT_PAD) {
            i++;
            continue;
        }
        if (code == DHCP_OPT_END) {
            return true;
        }
        if (i + 2 > to || i + 2 + mg->p[i + 1] > to) {
            mg->truncated = true;
            return false;
        }
        uint8_t len = mg->p[i + 1];
        bool bad = (code == DHCP_OPT_CLIENT_ID && len < 1) ||
                   ((code == DHCP_OPT_ADDRESS_TIME || code == DHCP_OPT_RENEWAL_TIME ||
                     code == DHCP_OPT_REBINDING_TIME) &&
                    len < 4);
        if (bad) {
            mg->malformed = true;
        } else if (mg->nopt < DHCP_MAX_OPTS) {
            mg->opt[mg->nopt++] = (struct dhcp_opt){code, len, (uint16_t)(i + 2)};
        }
        i += 2 + (size_t)len;
    }
    return false;
}

/* The overload value (option 52) among the options read so far, 0 if none. */
static uint8_t dhcp_overload(const struct dhcp_msg *mg)
{
    for (size_t i = 0; i < mg->nopt; i++) {
        if (mg->opt[i].code == DHCP_OPT_OVERLOAD && mg->opt[i].len >= 1) {
            return mg->p[mg->opt[i].off];
        }
    }
    return 0;
}

/* Parse the options of a datagram whose header is valid. */
static void dhcp_msg_parse(struct dhcp_msg *mg, const uint8_t *p, size_t n)
{
    mg->p = p;
    mg->n = n;
    mg->nopt = 0;
    mg->truncated = mg->malformed = false;
    dhcp_parse_area(mg, DHCP_HDR_LEN, n);
    uint8_t ov = dhcp_overload(mg);
    /* RFC 2131 4.1: the options field, then `file` (108..236), then `sname` (44..108). */
    if (ov & 1) {
        dhcp_parse_area(mg, 108, 236);
    }
    if (ov & 2) {
        dhcp_parse_area(mg, 44, 108);
    }
}

/* ---------------------------------------------------------------- JSON output */

/* Bytes as a JSON string the way Suricata's set_string_from_bytes writes them: valid UTF-8
 * as is, otherwise bytes >= 0x80 as the text "\xNN". */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
        if (c >= 0x80 && ((c & 0xF8) == 0xF8 || (c & 0xC0) == 0x80)) {
            return false;
        }
        uint32_t cp = k == 0 ? c : k == 1 ? (c & 0x1Fu) : k == 2 ? (c & 0x0Fu) : (c & 0x07u);
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + j] & 0x3Fu);
        }
        static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += k + 1;
    }
    return true;
}

static void json_bytes(struct vg_sbuf *s, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    bool valid = utf8_valid(p, n);
    vg_sbuf_addc(s, '"');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 0x80 && !valid) {
            char x[5] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 15]};
            vg_sbuf_add(s, x, 5);
        } else if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            vg_sbuf_add(s, e, 2);
        } else if (c < 0x20 || c == 0x7F) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            vg_sbuf_add(s, u, 6);
        } else {
            vg_sbuf_addc(s, (char)c);
        }
    }
    vg_sbuf_addc(s, '"');
}

/* ,"key":"addr" — dotted IPv4 for 4 bytes, Suricata's IPv6 text for 16, else "". */
static void put_kaddr(struct vg_sbuf *s, const char *key, const uint8_t *a, size_t n)
{
    char txt[46];
    if (n == 4) {
        vg_sensor_addr_str(txt, VG_SENSOR_FLOW_AF_INET, a);
    } else if (n == 16) {
        vg_sensor_addr_str(txt, VG_SENSOR_FLOW_AF_INET6, a);
    } else {
        txt[0] = '\0';
    }
    vg_sensor_json_kstr(s, key, txt, strlen(txt));
}

/* ,"key":"aa:bb:…" */
static void put_khex(struct vg_sbuf *s, const char *key, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    vg_sbuf_add(s, ",\"", 2);
    vg_sbuf_adds(s, key);
    vg_sbuf_add(s, "\":\"", 3);
    for (size_t i = 0; i < n; i++) {
        char h[3] = {':', hex[p[i] >> 4], hex[p[i] & 15]};
        vg_sbuf_add(s, i ? h : h + 1, i ? 3 : 2);
    }
    vg_sbuf_addc(s, '"');
}

/* ,"key":["a.b.c.d",…] for each whole 4-byte address of the option. */
static void put_addr_list(struct vg_sbuf *s, const char *key, const uint8_t *p, size_t n)
{
    vg_sbuf_add(s, ",\"", 2);
    vg_sbuf_adds(s, key);
    vg_sbuf_add(s, "\":[", 3);
    for (size_t i = 0; i + 4 <= n; i += 4) {
        char txt[46];
        vg_sensor_addr_str(txt, VG_SENSOR_FLOW_AF_INET, p + i);
        vg_sbuf_add(s, "\"", i ? 0 : 1);
        vg_sbuf_add(s, ",\"", i ? 2 : 0);
        vg_sbuf_adds(s, txt);
        vg_sbuf_addc(s, '"');
    }
    vg_sbuf_addc(s, ']');
}

static const char *dhcp_type_name(uint8_t t)
{
    static const char *const names[] = {"unknown", "discover", "offer",   "request", "decline",
                                        "ack",     "nak",      "release", "inform"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

static const char *dhcp_param_name(uint8_t c)
{
    switch (c) {
    case 1:
        return "subnet_mask";
    case 3:
        return "router";
    case 6:
        return "dns_server";
    case 15:
        return "domain";
    case 35:
        return "arp_timeout";
    case 42:
        return "ntp_server";
    case 66:
        return "tftp_server_name";
    case 150:
        return "tftp_server_ip";
    default:
        return NULL;
    }
}

static void put_params(struct vg_sbuf *s, const uint8_t *p, size_t n)
{
    bool first = true;
    vg_sbuf_adds(s, ",\"params\":[");
    for (size_t i = 0; i < n; i++) {
        const char *nm = dhcp_param_name(p[i]);
        if (nm) {
            vg_sbuf_add(s, ",", first ? 0 : 1);
            first = false;
            vg_sbuf_addc(s, '"');
            vg_sbuf_adds(s, nm);
            vg_sbuf_addc(s, '"');
        }
    }
    vg_sbuf_addc(s, ']');
}

/* The member for one option (nothing for options Suricata does not log). */
static void put_option(struct vg_sbuf *s, const struct dhcp_msg *mg, const struct dhcp_opt *o)
{
    const uint8_t *d = mg->p + o->off;
    switch (o->code) {
    case DHCP_OPT_CLIENT_ID:
        put_khex(s, "client_id", d + 1, o->len - 1u);
        break;
    case DHCP_OPT_ADDRESS_TIME:
        vg_sensor_json_kint(s, "lease_time", rd32(d));
        break;
    case DHCP_OPT_REBINDING_TIME:
        vg_sensor_json_kint(s, "rebinding_time", rd32(d));
        break;
    case DHCP_OPT_RENEWAL_TIME:
        vg_sensor_json_kint(s, "renewal_time", rd32(d));
        break;
    case DHCP_OPT_SUBNET_MASK:
        put_kaddr(s, "subnet_mask", d, o->len);
        break;
    case DHCP_OPT_HOSTNAME:
        if (o->len) {
            vg_sbuf_adds(s, ",\"hostname\":");
            json_bytes(s, d, o->len);
        }
        break;
    case DHCP_OPT_TYPE:
        if (o->len) {
            const char *t = dhcp_type_name(d[0]);
            vg_sensor_json_kstr(s, "dhcp_type", t, strlen(t));
        }
        break;
    case DHCP_OPT_REQUESTED_IP:
        put_kaddr(s, "requested_ip", d, o->len);
        break;
    case DHCP_OPT_PARAMETER_LIST:
        put_params(s, d, o->len);
        break;
    case DHCP_OPT_DNS_SERVER:
        put_addr_list(s, "dns_servers", d, o->len);
        break;
    case DHCP_OPT_ROUTERS:
        put_addr_list(s, "routers", d, o->len);
        break;
    case DHCP_OPT_VENDOR_CLASS_ID:
        if (o->len) {
            vg_sbuf_adds(s, ",\"vendor_class_identifier\":");
            json_bytes(s, d, o->len);
        }
        break;
    default:
        break;
    }
}

/* ,"dhcp":{…} */
static void dhcp_rec_write(struct vg_sbuf *s, const struct dhcp_msg *mg)
{
    const uint8_t *p = mg->p;
    uint8_t op = p[0];
    size_t hlen = p[2] < 16 ? p[2] : 16;
    vg_sbuf_adds(s, op == 1   ? ",\"dhcp\":{\"type\":\"request\""
                    : op == 2 ? ",\"dhcp\":{\"type\":\"reply\""
                              : ",\"dhcp\":{\"type\":\"<unknown>\"");
    vg_sensor_json_kint(s, "id", rd32(p + 4));
    put_khex(s, "client_mac", p + 28, hlen);
    put_kaddr(s, "assigned_ip", p + 16, 4);
    put_kaddr(s, "client_ip", p + 12, 4);
    if (op == 2) {
        put_kaddr(s, "relay_ip", p + 24, 4);
        put_kaddr(s, "next_server_ip", p + 20, 4);
    }
    for (size_t i = 0; i < mg->nopt; i++) {
        put_option(s, mg, &mg->opt[i]);
    }
    vg_sbuf_addc(s, '}');
}

/* ---------------------------------------------------------------- callbacks */

static void dhcp_anomaly(struct vg_sensor_app_ctx *c, const char *event, int64_t tx_id)
{
    struct vg_sbuf *s = vg_sensor_rec_begin(c, "anomaly", VG_SENSOR_REC_PACKET, tx_id);
    vg_sbuf_adds(s, ",\"anomaly\":{\"app_proto\":\"dhcp\",\"type\":\"applayer\",\"event\":\"");
    vg_sbuf_adds(s, event);
    vg_sbuf_adds(s, "\",\"layer\":\"proto_parser\"}");
    vg_sensor_rec_end(c);
}

/* Looks like DHCP: a BOOTP request or reply with the magic cookie. */
static int dhcp_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    (void)dir;
    return dhcp_header_ok(p, n) && (p[0] == 1 || p[0] == 2) ? 1 : 0;
}

static void *dhcp_state_new(void)
{
    return vg_calloc(1, sizeof(struct dhcp_state));
}

static void dhcp_state_free(void *st)
{
    vg_free(st);
}

/* One datagram: log it when it is DHCP, ignore it otherwise (as Suricata does). */
static int dhcp_data(struct vg_sensor_app_ctx *c, void *stp, const uint8_t *p, size_t n)
{
    struct dhcp_state *st = stp;
    if (!dhcp_header_ok(p, n)) {
        return VG_SENSOR_APP_OK;
    }
    static _Thread_local struct dhcp_msg mg;
    dhcp_msg_parse(&mg, p, n);
    int64_t tx_id = st ? (int64_t)st->tx_next++ : 0;
    struct vg_sbuf *s = vg_sensor_rec_begin(c, "dhcp", VG_SENSOR_REC_PACKET, -1);
    dhcp_rec_write(s, &mg);
    vg_sensor_rec_end(c);
    if (mg.malformed) {
        dhcp_anomaly(c, "malformed_options", tx_id);
    }
    if (mg.truncated) {
        dhcp_anomaly(c, "truncated_options", tx_id);
    }
    return VG_SENSOR_APP_OK;
}

const struct vg_sensor_app_proto vg_sensor_proto_dhcp = {
    .name = "dhcp",
    .ipproto = 17,
    .ports = {67, 68, 0},
    .probe = dhcp_probe,
    .state_new = dhcp_state_new,
    .state_free = dhcp_state_free,
    .data = dhcp_data,
};
