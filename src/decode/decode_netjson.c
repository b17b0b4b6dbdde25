/*
 * decode_netjson.c — JSON records other than Windows events: Suricata EVE, Zeek logs written
 * as JSON, and any other object (`json`). The document is flattened as vg_decode_json does
 * (nested keys joined with '.', so the native names are EVE's alert.signature, Zeek's
 * id.orig_h, CloudTrail's userIdentity.userName, ...), then a map per format adds ECS fields
 * from the flattened names.
 */
#include "decode/decode_int.h"

static struct vg_kmap map_suricata, map_zeek, map_json;

static const struct vg_kmap_ent suricata_keys[] = {
    {"src_ip", VG_DF_SOURCE_IP, VG_KM_IP},
    {"src_port", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dest_ip", VG_DF_DEST_IP, VG_KM_IP},
    {"dest_port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"proto", -1, VG_KM_PROTO},
    {"app_proto", VG_DF_NET_PROTOCOL, VG_KM_STR},
    {"community_id", VG_DF_NET_COMMUNITY_ID, VG_KM_STR},
    {"in_iface", VG_DF_OBSERVER_IN_IF, VG_KM_STR},
    {"host", VG_DF_OBSERVER_NAME, VG_KM_STR},
    {"alert.signature", VG_DF_RULE_NAME, VG_KM_STR},
    {"alert.signature_id", VG_DF_RULE_ID, VG_KM_STR},
    {"alert.category", VG_DF_RULE_CATEGORY, VG_KM_STR},
    {"alert.severity", VG_DF_EVENT_SEVERITY, VG_KM_NUM},
    {"alert.action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"http.hostname", VG_DF_URL_DOMAIN, VG_KM_STR},
    {"http.url", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"http.http_user_agent", VG_DF_USER_AGENT, VG_KM_STR},
    {"http.http_method", VG_DF_HTTP_METHOD, VG_KM_STR},
    {"http.status", VG_DF_HTTP_STATUS, VG_KM_NUM},
    {"http.http_refer", VG_DF_HTTP_REFERRER, VG_KM_STR},
    {"dns.rrname", VG_DF_DNS_QNAME, VG_KM_STR},
    {"dns.rrtype", VG_DF_DNS_QTYPE, VG_KM_STR},
    {"dns.rcode", VG_DF_DNS_RCODE, VG_KM_STR},
    {"dns.queries.rrname", VG_DF_DNS_QNAME, VG_KM_STR},
    {"tls.sni", VG_DF_TLS_SNI, VG_KM_STR},
    {"tls.version", VG_DF_TLS_VERSION, VG_KM_STR},
    {"flow.bytes_toserver", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"flow.bytes_toclient", VG_DF_DEST_BYTES, VG_KM_NUM},
    {"fileinfo.filename", VG_DF_FILE_NAME, VG_KM_STR},
    {"timestamp", -1, VG_KM_TIME},
};

static const struct vg_kmap_ent zeek_keys[] = {
    {"id.orig_h", VG_DF_SOURCE_IP, VG_KM_IP},
    {"id.orig_p", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"id.resp_h", VG_DF_DEST_IP, VG_KM_IP},
    {"id.resp_p", VG_DF_DEST_PORT, VG_KM_PORT},
    {"proto", -1, VG_KM_PROTO},
    {"service", VG_DF_NET_PROTOCOL, VG_KM_STR},
    {"orig_bytes", VG_DF_SOURCE_BYTES, VG_KM_NUM},
    {"resp_bytes", VG_DF_DEST_BYTES, VG_KM_NUM},
    {"community_id", VG_DF_NET_COMMUNITY_ID, VG_KM_STR},
    {"query", VG_DF_DNS_QNAME, VG_KM_STR},
    {"qtype_name", VG_DF_DNS_QTYPE, VG_KM_STR},
    {"rcode_name", VG_DF_DNS_RCODE, VG_KM_STR},
    {"method", VG_DF_HTTP_METHOD, VG_KM_STR},
    {"host", VG_DF_URL_DOMAIN, VG_KM_STR},
    {"uri", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"user_agent", VG_DF_USER_AGENT, VG_KM_STR},
    {"status_code", VG_DF_HTTP_STATUS, VG_KM_NUM},
    {"referrer", VG_DF_HTTP_REFERRER, VG_KM_STR},
    {"server_name", VG_DF_TLS_SNI, VG_KM_STR},
    {"version", VG_DF_TLS_VERSION, VG_KM_STR},
    {"username", VG_DF_USER_NAME, VG_KM_STR},
    {"user", VG_DF_USER_NAME, VG_KM_STR},
    {"ts", -1, VG_KM_EPOCH},
};

/* Well-known names of other JSON sources (cloud audit logs, appliances, apps). */
static const struct vg_kmap_ent json_keys[] = {
    {"src_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"srcip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"source_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"client_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"remote_ip", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"remoteAddr", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"ClientIP", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"sourceIPAddress", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"callerIpAddress", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"ipAddress", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"protoPayload.requestMetadata.callerIp", VG_DF_SOURCE_IP, VG_KM_ADDR},
    {"dst_ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"dest_ip", VG_DF_DEST_IP, VG_KM_ADDR},
    {"src_port", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"dst_port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"dest_port", VG_DF_DEST_PORT, VG_KM_PORT},
    {"user", VG_DF_USER_NAME, VG_KM_STR},
    {"username", VG_DF_USER_NAME, VG_KM_STR},
    {"userName", VG_DF_USER_NAME, VG_KM_STR},
    {"UserId", VG_DF_USER_NAME, VG_KM_STR},
    {"actor", VG_DF_USER_NAME, VG_KM_STR},
    {"userIdentity.userName", VG_DF_USER_NAME, VG_KM_STR},
    {"userIdentity.arn", VG_DF_USER_ID, VG_KM_STR},
    {"protoPayload.authenticationInfo.principalEmail", VG_DF_USER_NAME, VG_KM_STR},
    {"userPrincipalName", VG_DF_USER_NAME, VG_KM_STR},
    {"eventName", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"Operation", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"action", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"operationName", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"protoPayload.methodName", VG_DF_EVENT_ACTION, VG_KM_STR},
    {"eventSource", VG_DF_EVENT_PROVIDER, VG_KM_STR},
    {"awsRegion", -1, VG_KM_STR},
    {"method", VG_DF_HTTP_METHOD, VG_KM_STR},
    {"ClientRequestMethod", VG_DF_HTTP_METHOD, VG_KM_STR},
    {"url", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"ClientRequestURI", VG_DF_URL_ORIGINAL, VG_KM_STR},
    {"ClientRequestHost", VG_DF_URL_DOMAIN, VG_KM_STR},
    {"userAgent", VG_DF_USER_AGENT, VG_KM_STR},
    {"user_agent", VG_DF_USER_AGENT, VG_KM_STR},
    {"status", VG_DF_HTTP_STATUS, VG_KM_NUM},
    {"EdgeResponseStatus", VG_DF_HTTP_STATUS, VG_KM_NUM},
    {"hostname", VG_DF_HOST_NAME, VG_KM_STR},
    {"level", VG_DF_LOG_LEVEL, VG_KM_STR},
    {"severity", VG_DF_LOG_LEVEL, VG_KM_STR},
};

#define FLAT_MAP_MAX 128 /* keys of one JSON map (flatten_doc remembers a leaf per key) */

static int build(struct vg_kmap *m, const struct vg_kmap_ent *e, size_t n)
{
    m->ents = e;
    m->n = n;
    return n > FLAT_MAP_MAX ? VG_ELIMIT : vg_kmap_build(m);
}

int vg_decode_kmaps_json_init(void)
{
    int rc = build(&map_suricata, suricata_keys, VG_ARRAY_LEN(suricata_keys));
    if (rc == VG_OK) {
        rc = build(&map_zeek, zeek_keys, VG_ARRAY_LEN(zeek_keys));
    }
    return rc == VG_OK ? build(&map_json, json_keys, VG_ARRAY_LEN(json_keys)) : rc;
}

static bool is_str(const struct vg_json *v)
{
    return v && v->type == VG_JSON_STRING;
}

/* ---------------------------------------------------------------- flattening */

#define PATH_MAX_LEN 1024

/*
 * A native-name → ECS map applied while flattening: the first leaf whose dotted path is a
 * key of the map is remembered (per map entry) and the ECS fields are added afterwards, in
 * the map's order. One interned-id lookup per leaf instead of a search of the document per
 * map entry.
 */
struct flat_map {
    const struct vg_kmap *m;
    const struct vg_json *first[FLAT_MAP_MAX];
};

static void flatten(struct vg_dctx *c, const struct vg_json *v, char *path, size_t pl, int depth,
                    struct flat_map *fm)
{
    if (v->type == VG_JSON_OBJECT && depth < 32) {
        for (uint32_t k = 0; k < v->n && c->rc == VG_OK; k++) {
            const struct vg_json *key = &v->u.items[2 * k];
            size_t l = pl + (pl > 0) + key->n;
            if (l >= PATH_MAX_LEN) {
                continue; /* a name over 1 KiB is no field name (the registry is bounded) */
            }
            if (pl) {
                path[pl] = '.';
            }
            memcpy(path + pl + (pl > 0), key->s, key->n);
            flatten(c, &v->u.items[2 * k + 1], path, l, depth + 1, fm);
        }
        return;
    }
    if (v->type == VG_JSON_ARRAY && depth < 32) {
        for (uint32_t k = 0; k < v->n && c->rc == VG_OK; k++) {
            flatten(c, &v->u.items[k], path, pl, depth + 1, fm);
        }
        return;
    }
    uint32_t id = vg_field_intern(path, pl);
    if (id == VG_FIELD_NONE || c->rc != VG_OK) {
        return;
    }
    c->rc = vg_event_add_json(c->ev, id, v);
    if (fm && id <= fm->m->max_id && fm->m->by_id[id] >= 0 && !fm->first[fm->m->by_id[id]]) {
        fm->first[fm->m->by_id[id]] = v;
    }
}

/* The document as dotted fields, as vg_event_from_json does but with the path on the stack:
 * no allocation per record. */
void vg_dctx_flatten(struct vg_dctx *c, const struct vg_json *doc, const char *prefix, size_t pl)
{
    char path[PATH_MAX_LEN];
    if (pl >= PATH_MAX_LEN) {
        return;
    }
    memcpy(path, prefix, pl);
    flatten(c, doc, path, pl, 0, NULL);
}

/*
 * The document flattened, remembering for each key of m the first leaf at that dotted path:
 * nested ("userIdentity.userName") or literal ("id.orig_h" as Zeek writes it); in an array
 * the first element counts (dns.queries[0].rrname is dns.queries.rrname).
 */
static void flatten_doc(struct vg_dctx *c, const struct vg_kmap *m, struct flat_map *fm)
{
    char path[PATH_MAX_LEN];
    memset(fm, 0, sizeof(*fm));
    fm->m = m;
    flatten(c, c->doc, path, 0, 0, m->by_id ? fm : NULL);
}

/*
 * ECS from the document's own members, in the map's order (not from event fields: a syslog
 * header in front of the JSON adds hostname/severity, which must not be read as the
 * document's).
 */
static void map_doc(struct vg_dctx *c, const struct flat_map *fm)
{
    const struct vg_kmap *m = fm->m;
    for (size_t i = 0; i < m->n && c->rc == VG_OK; i++) {
        const struct vg_json *v = fm->first[i];
        if (v && (v->type == VG_JSON_STRING || v->type == VG_JSON_NUMBER) && v->n) {
            vg_kmap_apply(c, m, m->ids[i], v->s, v->n);
        }
    }
}

/* ---------------------------------------------------------------- Suricata */

static const char *eve_category(const struct vg_json *type)
{
    static const struct {
        const char *type, *cat;
    } map[] = {{"alert", "intrusion_detection"},
               {"anomaly", "intrusion_detection"},
               {"drop", "intrusion_detection"},
               {"flow", "network"},
               {"netflow", "network"},
               {"dns", "network"},
               {"tls", "network"},
               {"ssh", "network"},
               {"http", "web"},
               {"fileinfo", "file"}};
    for (size_t i = 0; i < VG_ARRAY_LEN(map); i++) {
        if (vg_json_str_is(type, map[i].type)) {
            return map[i].cat;
        }
    }
    return "network";
}

int vg_dec_suricata(struct vg_dctx *c)
{
    const struct vg_json *type = c->doc ? vg_json_get(c->doc, "event_type") : NULL;
    if (!is_str(type) || !(vg_json_get(c->doc, "src_ip") || vg_json_get(c->doc, "flow_id") ||
                           vg_json_get(c->doc, "timestamp"))) {
        return VG_DECLINED;
    }
    struct flat_map fm;
    vg_dctx_claim(c, VG_EK_GENERIC);
    flatten_doc(c, &map_suricata, &fm);
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), eve_category(type));
    vg_dctx_str(c, VG_DF(EVENT_DATASET), type->s, type->n);
    map_doc(c, &fm);
    return c->rc;
}

/* ---------------------------------------------------------------- Zeek */

/* The Zeek log a record comes from: its _path, else guessed from the fields it has. */
static const char *zeek_dataset(const struct vg_json *d)
{
    static const struct {
        const char *key, *log;
    } hints[] = {{"conn_state", "conn"},   {"query", "dns"},         {"method", "http"},
                 {"server_name", "ssl"},   {"auth_attempts", "ssh"}, {"mailfrom", "smtp"},
                 {"fuid", "files"},        {"note", "notice"},       {"cookie", "rdp"},
                 {"operation", "dce_rpc"}, {"name", "weird"}};
    for (size_t i = 0; i < VG_ARRAY_LEN(hints); i++) {
        if (vg_json_get(d, hints[i].key)) {
            return hints[i].log;
        }
    }
    return NULL;
}

int vg_dec_zeek(struct vg_dctx *c)
{
    if (!c->doc || !vg_json_get(c->doc, "uid") ||
        !(vg_json_get(c->doc, "id.orig_h") || vg_json_get(c->doc, "id") ||
          vg_json_get(c->doc, "_path"))) {
        return VG_DECLINED;
    }
    struct flat_map fm;
    vg_dctx_claim(c, VG_EK_GENERIC);
    flatten_doc(c, &map_zeek, &fm);
    const struct vg_json *path = vg_json_get(c->doc, "_path");
    const char *ds = is_str(path) ? NULL : zeek_dataset(c->doc);
    if (is_str(path)) {
        vg_dctx_str(c, VG_DF(EVENT_DATASET), path->s, path->n);
    } else if (ds) {
        vg_dctx_lit(c, VG_DF(EVENT_DATASET), ds);
    }
    vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), "network");
    map_doc(c, &fm);
    const struct vg_json *ts = vg_json_get(c->doc, "ts");
    if (is_str(ts)) {
        vg_dctx_time(c, ts->s, ts->n);
    }
    return c->rc;
}

/* ---------------------------------------------------------------- any JSON */

/* The usual timestamp keys of JSON logs, as vg_decode_json reads them. */
static void json_time(struct vg_dctx *c)
{
    static const char *const keys[] = {
        "@timestamp",       "timestamp", "time", "eventTime", "EventTime",
        "TimeCreated",      "ts",        "date", "published", "createdDateTime",
        "activityDateTime", "_time",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(keys); i++) {
        const struct vg_json *t = vg_json_get(c->doc, keys[i]);
        vg_time_t ts;
        if (is_str(t) && vg_dec_time_parse(t->s, t->n, &ts) == VG_OK) {
            c->ev->ts = ts;
            return;
        }
        if (t && t->type == VG_JSON_NUMBER) {
            double d = t->is_int ? (double)t->u.i : t->u.d;
            double ns = d > 1e17 ? d : d > 1e14 ? d * 1e3 : d > 1e11 ? d * 1e6 : d * 1e9;
            if (d > 0 && ns < 9.2e18) {
                c->ev->ts = (vg_time_t)ns;
                return;
            }
        }
    }
}

int vg_dec_json(struct vg_dctx *c)
{
    if (!c->doc) {
        return VG_DECLINED;
    }
    struct flat_map fm;
    vg_dctx_claim(c, vg_dec_json_kind(c->doc));
    flatten_doc(c, &map_json, &fm);
    json_time(c); /* the document's own time wins over the syslog header's */
    map_doc(c, &fm);
    return c->rc;
}
