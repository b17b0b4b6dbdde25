/*
 * decode_kv.c — key=value records: Fortinet (FortiGate, FortiMail, FortiDDoS,
 * FortiAuthenticator), SonicWall, and the generic `kv` decoder for any other message made of
 * at least three pairs (Sophos XG, OpenLDAP, many appliances). Keys keep the vendor's names
 * (srcip, dstport, devname, msg, ...); a per-vendor map adds the ECS fields.
 *
 * Also home of vg_decode_kmaps_init, which compiles every decoder's native → ECS map once.
 */
#include "decode/decode_int.h"

struct vg_kmap vg_kmap_kv, vg_kmap_fortinet, vg_kmap_sonicwall;

/* Common vendor spellings of the usual network/user fields. */
static const struct vg_kmap_ent kv_keys[] = {
    {"src", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"srcip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"src_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"source_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"sip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"SrcIp", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"source-ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"source-address", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"SourceIP", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"DestinationIP", VG_DF_DEST_IP, VG_KM_ADDR},
    {"SourcePort", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"DestinationPort", VG_DF_DEST_PORT, VG_KM_PORT},
    {"rip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"client_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dst", VG_DF_DEST_IP, VG_KM_ADDR},
    {"dstip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"dst_ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"dest_ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"destination_ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"dip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"DstIp", VG_DF_DEST_IP, VG_KM_ADDR},
    {"destination-ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"destination-address", VG_DF_DEST_IP, VG_KM_ADDR},
    {"spt", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"srcport", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"src_port", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"sport", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"SrcPort", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"source-port", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dpt", VG_DF_DEST_PORT, VG_KM_PORT},
    {"dstport", VG_DF_DEST_PORT, VG_KM_PORT},
    {"dst_port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"dport", VG_DF_DEST_PORT, VG_KM_PORT},
    {"dest_port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"DstPort", VG_DF_DEST_PORT, VG_KM_PORT},
    {"destination-port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"proto", -1, VG_KM_PROTO},
    {"protocol", -1, VG_KM_PROTO},
    {"Protocol", -1, VG_KM_PROTO},
    {"user", VG_DF_USER_NAME, VG_KM_STR},
    {"usr", VG_DF_USER_NAME, VG_KM_STR},
    {"username", VG_DF_USER_NAME, VG_KM_STR},
    {"user_name", VG_DF_USER_NAME, VG_KM_STR},
    {"userName", VG_DF_USER_NAME, VG_KM_STR},
    {"User", VG_DF_USER_NAME, VG_KM_STR},
    {"suser", VG_DF_USER_NAME, VG_KM_STR},
    {"duser", VG_DF_USER_TARGET_NAME, VG_KM_STR},
    {"action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"act", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"url", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"method", VG_DF_HTTP_METHOD, VG_KM_STR},
    {"srcmac", VG_DF_SOURCE_MAC, VG_KM_STR},
    {"src_mac", VG_DF_SOURCE_MAC, VG_KM_STR},
    {"dstmac", VG_DF_DEST_MAC, VG_KM_STR},
    {"dst_mac", VG_DF_DEST_MAC, VG_KM_STR},
    {"rule", VG_DF_RULE_NAME, VG_KM_STR},
    {"rule_name", VG_DF_RULE_NAME, VG_KM_STR},
    {"level", VG_DF_LOG_LEVEL, VG_KM_STR},
    {"in_interface", VG_DF_OBSERVER_IN_IF, VG_KM_STR},
    {"out_interface", VG_DF_OBSERVER_OUT_IF, VG_KM_STR},
    {"src_zone", VG_DF_OBSERVER_IN_ZONE, VG_KM_STR},
    {"SrcZone", VG_DF_OBSERVER_IN_ZONE, VG_KM_STR},
    {"dst_zone", VG_DF_OBSERVER_OUT_ZONE, VG_KM_STR},
    {"DstZone", VG_DF_OBSERVER_OUT_ZONE, VG_KM_STR},
    {"sent_bytes", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"recv_bytes", VG_DF_DEST_BYTES, VG_KM_NUM},
};

static const struct vg_kmap_ent fortinet_keys[] = {
    {"srcip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dstip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"src", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dst", VG_DF_DEST_IP, VG_KM_ADDR},
    {"sip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"client_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dst_ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"remip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"nas", VG_DF_OBSERVER_IP, VG_KM_IP},
    {"srcport", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dstport", VG_DF_DEST_PORT, VG_KM_PORT},
    {"src_port", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dst_port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"remport", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"proto", -1, VG_KM_PROTO},
    {"protocol", -1, VG_KM_PROTO},
    {"user", VG_DF_USER_NAME, VG_KM_STR},
    {"action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"srcintf", VG_DF_OBSERVER_IN_IF, VG_KM_STR},
    {"dstintf", VG_DF_OBSERVER_OUT_IF, VG_KM_STR},
    {"sentbyte", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"rcvdbyte", VG_DF_DEST_BYTES, VG_KM_NUM},
    {"devname", VG_DF_OBSERVER_NAME, VG_KM_STR},
    {"devid", VG_DF_OBSERVER_SERIAL, VG_KM_STR},
    {"device_id", VG_DF_OBSERVER_SERIAL, VG_KM_STR},
    {"logid", VG_DF_EVENT_CODE, VG_KM_STR},
    {"log_id", VG_DF_EVENT_CODE, VG_KM_STR},
    {"typeid", VG_DF_EVENT_CODE, VG_KM_STR},
    {"level", VG_DF_LOG_LEVEL, VG_KM_STR},
    {"policyid", VG_DF_RULE_ID, VG_KM_STR},
    {"attack", VG_DF_RULE_NAME, VG_KM_STR},
    {"url", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"hostname", VG_DF_URL_DOMAIN, VG_KM_STR},
    {"eventtime", -1, VG_KM_EPOCH},
    {"from", VG_DF_SOURCE_ADDRESS, VG_KM_STR},
};

static const struct vg_kmap_ent sonicwall_keys[] = {
    {"srcV6", VG_DF_SOURCE_IP, VG_KM_IP},     {"dstV6", VG_DF_DEST_IP, VG_KM_IP},
    {"srcMac", VG_DF_SOURCE_MAC, VG_KM_STR},  {"dstMac", VG_DF_DEST_MAC, VG_KM_STR},
    {"usr", VG_DF_USER_NAME, VG_KM_STR},      {"user", VG_DF_USER_NAME, VG_KM_STR},
    {"fw", VG_DF_OBSERVER_IP, VG_KM_IP},      {"sn", VG_DF_OBSERVER_SERIAL, VG_KM_STR},
    {"m", VG_DF_EVENT_CODE, VG_KM_STR},       {"fw_action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"dstname", VG_DF_URL_DOMAIN, VG_KM_STR}, {"rule", VG_DF_RULE_NAME, VG_KM_STR},
    {"sent", VG_DF_SOURCE_BYTES, VG_KM_NUM},  {"rcvd", VG_DF_DEST_BYTES, VG_KM_NUM},
};

int vg_decode_kmaps_init(void)
{
    vg_kmap_kv.ents = kv_keys;
    vg_kmap_kv.n = VG_ARRAY_LEN(kv_keys);
    vg_kmap_fortinet.ents = fortinet_keys;
    vg_kmap_fortinet.n = VG_ARRAY_LEN(fortinet_keys);
    vg_kmap_sonicwall.ents = sonicwall_keys;
    vg_kmap_sonicwall.n = VG_ARRAY_LEN(sonicwall_keys);
    int rc = vg_kmap_build(&vg_kmap_kv);
    if (rc == VG_OK) {
        rc = vg_kmap_build(&vg_kmap_fortinet);
    }
    if (rc == VG_OK) {
        rc = vg_kmap_build(&vg_kmap_sonicwall);
    }
    if (rc == VG_OK) {
        rc = vg_decode_kmaps_cef_init();
    }
    if (rc == VG_OK) {
        rc = vg_decode_kmaps_json_init();
    }
    if (rc == VG_OK) {
        rc = vg_decode_kmaps_fw_init();
    }
    if (rc == VG_OK) {
        rc = vg_decode_kmaps_web_init();
    }
    return rc == VG_OK ? vg_decode_kmaps_apps_init() : rc;
}

/* ---------------------------------------------------------------- generic */

int vg_dec_kv(struct vg_dctx *c)
{
    /* at least three pairs, and the message starts with one (not prose that has a k=v) */
    if (c->mlen < 11 || !memchr(c->msg, '=', c->mlen) ||
        vg_kv_count(c->msg, VG_MIN(c->mlen, 512), ' ', 3) < 3) {
        return VG_DECLINED;
    }
    struct vg_kv_iter it;
    struct vg_kv kv;
    vg_kv_init(&it, c->msg, c->mlen, ' ');
    if (!vg_kv_next(&it, &kv) || kv.key != c->msg) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, c->has_hdr && c->hdr.prog ? VG_EK_LINUX : VG_EK_GENERIC);
    vg_dctx_kv(c, c->msg, c->mlen, ' ', &vg_kmap_kv, true);
    return c->rc;
}

/* ---------------------------------------------------------------- Fortinet */

static bool has(const char *p, size_t n, const char *lit)
{
    return vg_dec_find(p, n, lit) < n;
}

/*
 * Text of the first field id that the decoder's own pairs added (fields from index n0 on, so
 * not a syslog header's structured data): the pairs are already split and unquoted, so the
 * ECS step reads them back instead of searching the text again.
 */
static bool kv_get(const struct vg_dctx *c, uint32_t n0, uint32_t id, const char **v, size_t *vl)
{
    const struct vg_field *f = vg_event_get(c->ev, id);
    while (f && (uint32_t)(f - c->ev->fields) < n0) {
        f = vg_event_next(c->ev, f);
    }
    if (!f || !f->v.str) {
        return false;
    }
    *v = f->v.str;
    *vl = f->v.len;
    return true;
}

static void fortinet_ecs(struct vg_dctx *c, uint32_t n0)
{
    const char *d, *t, *type, *st;
    size_t dl, tl, typel, stl;
    if (c->ev->ts == VG_TIME_NONE && kv_get(c, n0, VG_DF(KV_DATE), &d, &dl) &&
        kv_get(c, n0, VG_DF(KV_TIME), &t, &tl) && dl == 10 && tl >= 8) {
        char iso[32];
        int l = snprintf(iso, sizeof(iso), "%.10sT%.8s", d, t);
        vg_dctx_time(c, iso, (size_t)l);
    }
    if (kv_get(c, n0, VG_DF(AUDIT_TYPE), &type, &typel)) {
        vg_dctx_lit(c, VG_DF(EVENT_CATEGORY),
                    vg_dec_eq(type, typel, "traffic") ? "network"
                    : vg_dec_eq(type, typel, "attack") || vg_dec_eq(type, typel, "utm")
                        ? "intrusion_detection"
                        : "host");
    }
    /* an explicit status (logins, VPN) wins; traffic logs only have the action */
    const char *act;
    size_t al;
    bool ok = false, bad = false;
    if (kv_get(c, n0, VG_DF(KV_STATUS), &st, &stl)) {
        ok = vg_str_ieq_ascii(st, stl, "success", 7) || vg_str_ieq_ascii(st, stl, "accept", 6);
        bad = vg_str_ieq_ascii(st, stl, "failed", 6) || vg_str_ieq_ascii(st, stl, "deny", 4);
    }
    if (ok || bad) {
        vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), ok ? "success" : "failure");
    } else if (kv_get(c, n0, VG_DF(KV_ACTION), &act, &al)) {
        vg_dctx_action_outcome(c, act, al);
    }
}

int vg_dec_fortinet(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = VG_MIN(c->mlen, 400);
    /* date= time= and a log id: FortiOS 5/6 (logid=, devid=), FortiMail (log_id=,
     * device_id=), FortiDDoS (devid=); FortiAuthenticator writes typeid= and nas= */
    bool forti = (has(m, n, "date=") && has(m, n, "time=") &&
                  (has(m, n, "devid=") || has(m, n, "device_id=") || has(m, n, "logid=")) &&
                  (has(m, n, "type=") || has(m, n, "logid=") || has(m, n, "log_id=")) &&
                  !vg_dec_starts(m, n, "device=")) ||
                 (has(m, n, "subcategory=") && has(m, n, "typeid=") && has(m, n, "nas="));
    if (!forti) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "Fortinet");
    uint32_t n0 = c->ev->n;
    vg_dctx_kv(c, c->msg, c->mlen, ' ', &vg_kmap_fortinet, true);
    fortinet_ecs(c, n0);
    return c->rc;
}

/* ---------------------------------------------------------------- SonicWall */

/* "ip:port:iface[:host]" (each part optional) → ECS ip/port and interface. */
static void sonicwall_endpoint(struct vg_dctx *c, const char *v, size_t n, bool src)
{
    const char *part[3] = {v, NULL, NULL};
    size_t len[3] = {n, 0, 0};
    const char *colon = memchr(v, ':', n);
    if (colon) {
        len[0] = (size_t)(colon - v);
        part[1] = colon + 1;
        len[1] = (size_t)(v + n - part[1]);
        const char *c2 = memchr(part[1], ':', len[1]);
        if (c2) {
            part[2] = c2 + 1;
            len[2] = (size_t)(v + n - part[2]);
            len[1] = (size_t)(c2 - part[1]);
            const char *c3 = memchr(part[2], ':', len[2]);
            len[2] = c3 ? (size_t)(c3 - part[2]) : len[2];
        }
    }
    vg_dctx_ip(c, src ? VG_DF(SOURCE_IP) : VG_DF(DEST_IP), part[0], len[0]);
    vg_dctx_port(c, src ? VG_DF(SOURCE_PORT) : VG_DF(DEST_PORT), part[1], len[1]);
    vg_dctx_str(c, src ? VG_DF(OBSERVER_IN_IF) : VG_DF(OBSERVER_OUT_IF), part[2], len[2]);
}

static void sonicwall_ecs(struct vg_dctx *c, uint32_t n0)
{
    const char *v;
    size_t vl;
    if (kv_get(c, n0, VG_DF(KV_SRC), &v, &vl)) {
        sonicwall_endpoint(c, v, vl, true);
    }
    if (kv_get(c, n0, VG_DF(KV_DST), &v, &vl)) {
        sonicwall_endpoint(c, v, vl, false);
    }
    if (kv_get(c, n0, VG_DF(KV_PROTO), &v, &vl)) {
        const char *slash = memchr(v, '/', vl);
        vg_dctx_transport(c, v, slash ? (size_t)(slash - v) : vl);
    }
    if (kv_get(c, n0, VG_DF(KV_TIME), &v, &vl) && vl >= 19) {
        vg_dctx_time(c, v, 19);
    }
    if (kv_get(c, n0, VG_DF(KV_MSG), &v, &vl)) {
        vg_dctx_str(c, VG_DF(EVENT_REASON), v, vl);
    }
}

int vg_dec_sonicwall(struct vg_dctx *c)
{
    const char *m = c->msg;
    size_t n = VG_MIN(c->mlen, 120);
    if (!vg_dec_starts(m, n, "id=") || !has(m, n, " sn=") || !has(m, c->mlen, " m=")) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_GENERIC);
    vg_dctx_lit(c, VG_DF(OBSERVER_VENDOR), "SonicWall");
    uint32_t n0 = c->ev->n;
    vg_dctx_kv(c, c->msg, c->mlen, ' ', &vg_kmap_sonicwall, true);
    sonicwall_ecs(c, n0);
    return c->rc;
}
