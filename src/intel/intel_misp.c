/*
 * intel_misp.c — MISP event and feed importer (issue 7); see intel_misp.h.
 *
 * A document is parsed into one JSON DOM held in an arena (vg_json_parse, bounded by
 * VG_INTEL_MISP_MAX_DOC), then walked: the top level is dispatched to events
 * ({"Event":…}, a bare event, {"response":[…]}, or an array of those); each event yields its
 * context object, its galaxy clusters, then its attributes and its objects' attributes in
 * document order. Attribute types map to store types through one table (amap[]); a composite
 * type ("domain|ip", "filename|sha256") gives one or two records from the parts around the
 * last '|'. Tags and galaxy ids are deduplicated through small fixed-capacity hash sets, so
 * the work per attribute is bounded whatever the document holds (an event keeps its first
 * MISP_SET_MAX tags and clusters, an attribute its first MISP_ATTR_MAX).
 *
 * A feed directory (manifest.json + <uuid>.json) is read one event file at a time; a bad file
 * is rejected through the sink and the import goes on.
 */
#include "intel/intel_misp.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "event/event.h"

#define MISP_SET_MAX   256u /* tags / clusters kept per event */
#define MISP_SET_SLOTS 512u /* power of two, 2 × MISP_SET_MAX */
#define MISP_ATTR_MAX  64u  /* tags / clusters kept per attribute */
#define MISP_WHERE_MAX 320u
#define MISP_T_IP      VG_INTEL_TYPE_COUNT /* ipv4 or ipv6, decided by the value */

/* ------------------------------------------------------------------ string sets */

/* Insertion-ordered set of borrowed strings with an open-addressing index. */
struct misp_set {
    uint32_t n, cap;
    uint16_t slot[MISP_SET_SLOTS]; /* item index + 1, 0 empty */
    struct {
        const char *s;
        uint32_t len;
        uint32_t pos; /* its slot, to clear in O(n) */
    } it[MISP_SET_MAX];
};

static void misp_set_init(struct misp_set *st, uint32_t cap)
{
    memset(st->slot, 0, sizeof(st->slot));
    st->n = 0;
    st->cap = cap;
}

static void misp_set_clear(struct misp_set *st)
{
    for (uint32_t i = 0; i < st->n; i++) {
        st->slot[st->it[i].pos] = 0;
    }
    st->n = 0;
}

/* Slot of s: where it is, or the empty slot where it would go. */
static uint32_t misp_set_find(const struct misp_set *st, const char *s, size_t len)
{
    uint32_t pos = (uint32_t)vg_hash64(s, len, 0x6d697370u) & (MISP_SET_SLOTS - 1u);
    for (;;) {
        uint16_t k = st->slot[pos];
        if (k == 0 || vg_str_eq(st->it[k - 1].s, st->it[k - 1].len, s, len)) {
            return pos;
        }
        pos = (pos + 1u) & (MISP_SET_SLOTS - 1u);
    }
}

static bool misp_set_has(const struct misp_set *st, const char *s, size_t len)
{
    return st->slot[misp_set_find(st, s, len)] != 0;
}

/* 1 added, 0 already there, -1 full (the string is dropped). */
static int misp_set_add(struct misp_set *st, const char *s, size_t len)
{
    uint32_t pos = misp_set_find(st, s, len);
    if (st->slot[pos] != 0) {
        return 0;
    }
    if (st->n >= st->cap) {
        return -1;
    }
    st->it[st->n].s = s;
    st->it[st->n].len = (uint32_t)len;
    st->it[st->n].pos = pos;
    st->slot[pos] = (uint16_t)(++st->n);
    return 1;
}

/* ------------------------------------------------------------------ attribute types */

enum misp_split {
    MISP_WHOLE, /* the value is one indicator */
    MISP_LEFT,  /* the part before the last '|' ("ip-dst|port") */
    MISP_BOTH,  /* both parts ("domain|ip", "filename|md5") */
};

struct misp_amap {
    const char *name;
    size_t len;
    uint8_t split;  /* enum misp_split */
    uint8_t t1, t2; /* enum vg_intel_type or MISP_T_IP */
};

#define MISP_TYPE(name, split, t1, t2)                                                             \
    {                                                                                              \
        name, sizeof(name) - 1, split, t1, t2                                                      \
    }
static const struct misp_amap amap[] = {
    MISP_TYPE("ip-src", MISP_WHOLE, MISP_T_IP, 0),
    MISP_TYPE("ip-dst", MISP_WHOLE, MISP_T_IP, 0),
    MISP_TYPE("ip-src|port", MISP_LEFT, MISP_T_IP, 0),
    MISP_TYPE("ip-dst|port", MISP_LEFT, MISP_T_IP, 0),
    MISP_TYPE("domain", MISP_WHOLE, VG_INTEL_DOMAIN, 0),
    MISP_TYPE("hostname", MISP_WHOLE, VG_INTEL_DOMAIN, 0),
    MISP_TYPE("domain|ip", MISP_BOTH, VG_INTEL_DOMAIN, MISP_T_IP),
    MISP_TYPE("hostname|port", MISP_LEFT, VG_INTEL_DOMAIN, 0),
    MISP_TYPE("url", MISP_WHOLE, VG_INTEL_URL, 0),
    MISP_TYPE("md5", MISP_WHOLE, VG_INTEL_MD5, 0),
    MISP_TYPE("sha1", MISP_WHOLE, VG_INTEL_SHA1, 0),
    MISP_TYPE("sha256", MISP_WHOLE, VG_INTEL_SHA256, 0),
    MISP_TYPE("sha512", MISP_WHOLE, VG_INTEL_SHA512, 0),
    MISP_TYPE("filename", MISP_WHOLE, VG_INTEL_FILENAME, 0),
    MISP_TYPE("filename|md5", MISP_BOTH, VG_INTEL_FILENAME, VG_INTEL_MD5),
    MISP_TYPE("filename|sha1", MISP_BOTH, VG_INTEL_FILENAME, VG_INTEL_SHA1),
    MISP_TYPE("filename|sha256", MISP_BOTH, VG_INTEL_FILENAME, VG_INTEL_SHA256),
    MISP_TYPE("filename|sha512", MISP_BOTH, VG_INTEL_FILENAME, VG_INTEL_SHA512),
    MISP_TYPE("email", MISP_WHOLE, VG_INTEL_EMAIL, 0),
    MISP_TYPE("email-src", MISP_WHOLE, VG_INTEL_EMAIL, 0),
    MISP_TYPE("email-dst", MISP_WHOLE, VG_INTEL_EMAIL, 0),
    MISP_TYPE("ja3-fingerprint-md5", MISP_WHOLE, VG_INTEL_JA3, 0),
    MISP_TYPE("ja3s-fingerprint-md5", MISP_WHOLE, VG_INTEL_JA3S, 0),
    MISP_TYPE("x509-fingerprint-sha1", MISP_WHOLE, VG_INTEL_X509_SHA1, 0),
    MISP_TYPE("x509-fingerprint-sha256", MISP_WHOLE, VG_INTEL_X509_SHA256, 0),
};
#undef MISP_TYPE

/* Types that look like indicators but are not matched, with the reason. */
static const struct {
    const char *name, *why;
} aexcuse[] = {
    {"uri", "attribute type 'uri' is not matched (a relative URI, no host)"},
    {"link", "attribute type 'link' is not matched (a reference, not an indicator)"},
    {"jarm-fingerprint", "attribute type 'jarm-fingerprint' is not matched (no JARM set)"},
    {"x509-fingerprint-md5", "attribute type 'x509-fingerprint-md5' is not matched"},
};

static const struct misp_amap *misp_amap_find(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(amap) / sizeof(amap[0]); i++) {
        if (amap[i].len == n && memcmp(amap[i].name, s, n) == 0) {
            return &amap[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ import context */

struct misp_ctx {
    const struct vg_intel_import_opts *o;
    const struct vg_intel_sink *s;
    const char *origin;
    const char *file; /* feed event file, prefixed to where strings; NULL for a document */
    int sink_rc;      /* the sink's status when it stopped the import */
    size_t ev_index;
    /* the current event */
    const char *ev_uuid, *ev_info;
    size_t ev_uuid_len, ev_info_len;
    uint32_t ev_ts;
    uint8_t ev_conf;
    struct misp_set ev_tags, ev_clusters, at_tags, at_clusters, emitted;
    struct vg_sbuf ev_tagstr, ev_related; /* joined once per event */
    struct vg_sbuf tags, related, json, id, type;
    char where[MISP_WHERE_MAX];
};

static void misp_ctx_fini(struct misp_ctx *c)
{
    vg_sbuf_fini(&c->ev_tagstr);
    vg_sbuf_fini(&c->ev_related);
    vg_sbuf_fini(&c->tags);
    vg_sbuf_fini(&c->related);
    vg_sbuf_fini(&c->json);
    vg_sbuf_fini(&c->id);
    vg_sbuf_fini(&c->type);
}

static struct misp_ctx *misp_ctx_create(const struct vg_intel_import_opts *o,
                                        const struct vg_intel_sink *s, const char *origin)
{
    struct misp_ctx *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->o = o;
    c->s = s;
    c->origin = origin;
    misp_set_init(&c->ev_tags, MISP_SET_MAX);
    misp_set_init(&c->ev_clusters, MISP_SET_MAX);
    misp_set_init(&c->emitted, MISP_SET_MAX);
    misp_set_init(&c->at_tags, MISP_ATTR_MAX);
    misp_set_init(&c->at_clusters, MISP_ATTR_MAX);
    return c;
}

static void misp_ctx_destroy(struct misp_ctx *c)
{
    if (c) {
        misp_ctx_fini(c);
        vg_free(c);
    }
}

static void misp_reject(struct misp_ctx *c, enum vg_intel_reject why, const char *reason)
{
    if (c->s->reject) {
        c->s->reject(c->s->u, why, c->where, reason);
    }
}

/* where = "[FILE ]Event[I] UUID" then the printf suffix. */
static void misp_where(struct misp_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void misp_where(struct misp_ctx *c, const char *fmt, ...)
{
    int n =
        snprintf(c->where, sizeof(c->where), "%s%sEvent[%zu]%s%.*s", c->file ? c->file : "",
                 c->file ? " " : "", c->ev_index, c->ev_uuid_len ? " " : "",
                 (int)(c->ev_uuid_len > 64 ? 64 : c->ev_uuid_len), c->ev_uuid ? c->ev_uuid : "");
    if (n < 0 || (size_t)n >= sizeof(c->where)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->where + n, sizeof(c->where) - (size_t)n, fmt, ap);
    va_end(ap);
}

static int misp_emit_obj(struct misp_ctx *c, const struct vg_intel_obj *ob)
{
    if (c->s->object && c->sink_rc == 0) {
        int rc = c->s->object(c->s->u, ob);
        if (rc < 0) {
            c->sink_rc = rc;
        }
    }
    return c->sink_rc;
}

static int misp_emit_rec(struct misp_ctx *c, const struct vg_intel_rec *r)
{
    if (c->s->indicator && c->sink_rc == 0) {
        int rc = c->s->indicator(c->s->u, r);
        if (rc < 0) {
            c->sink_rc = rc;
        }
    }
    return c->sink_rc;
}

/* ------------------------------------------------------------------ JSON helpers */

static bool misp_str(const struct vg_json *obj, const char *key, const char **s, size_t *n)
{
    const struct vg_json *v = vg_json_get(obj, key);
    if (!v || v->type != VG_JSON_STRING) {
        return false;
    }
    *s = v->s;
    *n = v->n;
    return true;
}

/* MISP writes booleans as true/false, 1/0 or "1"/"0" ("true"/"false" seen too). */
static bool misp_bool_v(const struct vg_json *v, bool dflt)
{
    if (!v) {
        return dflt;
    }
    switch (v->type) {
    case VG_JSON_TRUE:
        return true;
    case VG_JSON_FALSE:
    case VG_JSON_NULL:
        return false;
    case VG_JSON_NUMBER:
        return !(v->n == 1 && v->s[0] == '0');
    case VG_JSON_STRING:
        return vg_str_eq(v->s, v->n, "1", 1) || vg_str_ieq_ascii(v->s, v->n, "true", 4);
    default:
        return dflt;
    }
}

static uint32_t misp_clamp_u32(int64_t i)
{
    return i <= 0 ? 0u : i > (int64_t)UINT32_MAX ? 0u : (uint32_t)i;
}

static bool misp_bool(const struct vg_json *obj, const char *key, bool dflt)
{
    return misp_bool_v(vg_json_get(obj, key), dflt);
}

/* A Unix time written as a number or a string of digits; 0 when absent or not one. */
static uint32_t misp_unix_v(const struct vg_json *v)
{
    int64_t i = 0;
    if (!v || (v->type != VG_JSON_NUMBER && v->type != VG_JSON_STRING)) {
        return 0;
    }
    if (vg_parse_i64(v->s, v->n, &i) != 0) {
        return 0;
    }
    return misp_clamp_u32(i);
}

static uint32_t misp_unix(const struct vg_json *obj, const char *key)
{
    return misp_unix_v(vg_json_get(obj, key));
}

/* An ISO 8601 time (first_seen/last_seen), or Unix digits; 0 when absent or unparsable. */
static uint32_t misp_iso_v(const struct vg_json *v)
{
    vg_time_t t;
    if (!v || v->type != VG_JSON_STRING || v->n == 0) {
        return 0;
    }
    if (vg_time_parse(v->s, v->n, &t) != 0) {
        return misp_unix_v(v);
    }
    return misp_clamp_u32(t / 1000000000);
}

/* Confidence from estimative-language:confidence-in-analytic-judgment="high|moderate|low". */
static uint8_t misp_tag_conf(const char *s, size_t n)
{
    static const char pfx[] = "estimative-language:confidence-in-analytic-judgment=";
    static const struct {
        const char *v;
        uint8_t conf;
    } lv[] = {{"\"high\"", 90}, {"\"moderate\"", 60}, {"\"low\"", 30}};
    size_t pl = sizeof(pfx) - 1;
    if (n <= pl || memcmp(s, pfx, pl) != 0) {
        return VG_INTEL_CONF_UNSET;
    }
    for (size_t i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
        if (vg_str_eq(s + pl, n - pl, lv[i].v, strlen(lv[i].v))) {
            return lv[i].conf;
        }
    }
    return VG_INTEL_CONF_UNSET;
}

/*
 * Add the names of tags (a Tag[] array, may be NULL) to st (skipping those in also, may be
 * NULL); returns the first confidence found among them or VG_INTEL_CONF_UNSET.
 */
static uint8_t misp_tags_collect(const struct vg_json *tags, struct misp_set *st,
                                 const struct misp_set *also)
{
    uint8_t conf = VG_INTEL_CONF_UNSET;
    if (!tags || tags->type != VG_JSON_ARRAY) {
        return conf;
    }
    for (uint32_t i = 0; i < tags->n; i++) {
        const char *s;
        size_t n;
        if (!misp_str(&tags->u.items[i], "name", &s, &n) || n == 0) {
            continue;
        }
        if (also && misp_set_has(also, s, n)) {
            continue;
        }
        if (misp_set_add(st, s, n) < 0) {
            break;
        }
        if (conf == VG_INTEL_CONF_UNSET) {
            conf = misp_tag_conf(s, n);
        }
    }
    return conf;
}

static void misp_join(struct vg_sbuf *sb, const struct misp_set *st, const char *pfx)
{
    for (uint32_t i = 0; i < st->n; i++) {
        if (sb->len) {
            vg_sbuf_addc(sb, ',');
        }
        vg_sbuf_adds(sb, pfx);
        vg_sbuf_add(sb, st->it[i].s, st->it[i].len);
    }
}

/* ------------------------------------------------------------------ galaxies */

/* ext_id of a cluster: meta.external_id, a string or the first string of an array. */
static void misp_cluster_ext(const struct vg_json *cl, const char **s, size_t *n)
{
    const struct vg_json *v = vg_json_get(vg_json_get(cl, "meta"), "external_id");
    *s = "";
    *n = 0;
    if (v && v->type == VG_JSON_ARRAY && v->n > 0) {
        v = &v->u.items[0];
    }
    if (v && v->type == VG_JSON_STRING) {
        *s = v->s;
        *n = v->n;
    }
}

/* Emit one cluster as a context object (once per event). */
static int misp_cluster_emit(struct misp_ctx *c, const struct vg_json *cl, const char *uuid,
                             size_t ul, const char *gtype, size_t gtl)
{
    struct vg_intel_obj ob = {0};
    const char *t = gtype;
    size_t tl = gtl;
    misp_str(cl, "type", &t, &tl);
    vg_sbuf_reset(&c->id);
    vg_sbuf_adds(&c->id, "misp-galaxy--");
    vg_sbuf_add(&c->id, uuid, ul);
    vg_sbuf_reset(&c->type);
    vg_sbuf_adds(&c->type, tl ? "misp-galaxy:" : "misp-galaxy");
    vg_sbuf_add(&c->type, t, tl);
    vg_sbuf_reset(&c->json);
    vg_json_write(cl, &c->json);
    if (c->id.err || c->type.err || c->json.err) {
        return VG_ENOMEM;
    }
    ob.id = c->id.p;
    ob.id_len = c->id.len;
    ob.type = c->type.p;
    ob.type_len = c->type.len;
    ob.name = "";
    misp_str(cl, "value", &ob.name, &ob.name_len);
    misp_cluster_ext(cl, &ob.ext_id, &ob.ext_id_len);
    ob.active = true;
    ob.json = c->json.p;
    ob.json_len = c->json.len;
    return misp_emit_obj(c, &ob);
}

/*
 * Walk gal (a Galaxy[] array, may be NULL) and its GalaxyCluster[]: add each cluster uuid to
 * st (skipping those in also) and emit the clusters not emitted yet in this event. wpfx names
 * the holder in where strings.
 */
static int misp_galaxies(struct misp_ctx *c, const struct vg_json *gal, struct misp_set *st,
                         const struct misp_set *also, const char *wpfx)
{
    for (uint32_t g = 0; gal && gal->type == VG_JSON_ARRAY && g < gal->n; g++) {
        const struct vg_json *gv = &gal->u.items[g];
        const struct vg_json *cls = vg_json_get(gv, "GalaxyCluster");
        const char *gt = "";
        size_t gtl = 0;
        misp_str(gv, "type", &gt, &gtl);
        for (uint32_t k = 0; cls && cls->type == VG_JSON_ARRAY && k < cls->n; k++) {
            const struct vg_json *cl = &cls->u.items[k];
            const char *u;
            size_t ul;
            if (!misp_str(cl, "uuid", &u, &ul) || ul == 0) {
                misp_where(c, "%sGalaxy[%u].GalaxyCluster[%u]", wpfx, g, k);
                misp_reject(c, VG_INTEL_REJ_MALFORMED, "galaxy cluster without a \"uuid\"");
                continue;
            }
            if (!(also && misp_set_has(also, u, ul)) && misp_set_add(st, u, ul) < 0) {
                return 0;
            }
            if (misp_set_add(&c->emitted, u, ul) == 1) {
                int rc = misp_cluster_emit(c, cl, u, ul, gt, gtl);
                if (rc < 0) {
                    return rc;
                }
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ attributes */

struct misp_attr_info {
    const char *obj_name; /* NULL for an event attribute */
    size_t obj_name_len;
    uint32_t obj_idx;
    bool obj_deleted;
};

/* The members of one attribute the importer reads, found in one pass over its keys. */
struct misp_attr_fields {
    const struct vg_json *type, *value, *uuid, *comment, *to_ids, *deleted;
    const struct vg_json *timestamp, *first_seen, *last_seen, *tags, *galaxy;
};

static void misp_attr_fields_get(const struct vg_json *a, struct misp_attr_fields *f)
{
#define MISP_KEY(k, m)                                                                             \
    {                                                                                              \
        k, sizeof(k) - 1, offsetof(struct misp_attr_fields, m)                                     \
    }
    static const struct {
        const char *key;
        size_t len, off;
    } keys[] = {
        MISP_KEY("type", type),           MISP_KEY("value", value),
        MISP_KEY("uuid", uuid),           MISP_KEY("comment", comment),
        MISP_KEY("to_ids", to_ids),       MISP_KEY("deleted", deleted),
        MISP_KEY("timestamp", timestamp), MISP_KEY("first_seen", first_seen),
        MISP_KEY("last_seen", last_seen), MISP_KEY("Tag", tags),
        MISP_KEY("Galaxy", galaxy),
    };
#undef MISP_KEY
    memset(f, 0, sizeof(*f));
    for (uint32_t i = 0; a->type == VG_JSON_OBJECT && i < a->n; i++) {
        const struct vg_json *k = &a->u.items[2 * i];
        for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++) {
            const struct vg_json **slot = (const struct vg_json **)((char *)f + keys[j].off);
            /* the first occurrence wins, as with vg_json_get */
            if (k->n == keys[j].len && !*slot && memcmp(k->s, keys[j].key, k->n) == 0) {
                *slot = &a->u.items[2 * i + 1];
                break;
            }
        }
    }
}

/* Set where to the attribute's position and reject it. */
static void misp_attr_reject(struct misp_ctx *c, const struct misp_attr_info *ai, uint32_t idx,
                             enum vg_intel_reject why, const char *reason)
{
    if (ai->obj_name) {
        misp_where(c, " Object[%u](%.*s).Attribute[%u]", ai->obj_idx,
                   (int)(ai->obj_name_len > 64 ? 64 : ai->obj_name_len), ai->obj_name, idx);
    } else {
        misp_where(c, " Attribute[%u]", idx);
    }
    misp_reject(c, why, reason);
}

/* The context shared by the records of one attribute: tags, related, times, confidence. */
static int misp_attr_context(struct misp_ctx *c, const struct misp_attr_fields *f,
                             struct vg_intel_rec *r)
{
    misp_set_clear(&c->at_tags);
    misp_set_clear(&c->at_clusters);
    uint8_t conf = misp_tags_collect(f->tags, &c->at_tags, &c->ev_tags);
    int rc = misp_galaxies(c, f->galaxy, &c->at_clusters, &c->ev_clusters, " Attribute.");
    if (rc < 0) {
        return rc;
    }
    r->confidence = conf != VG_INTEL_CONF_UNSET ? conf : c->ev_conf;
    if (c->at_tags.n == 0) {
        r->tags = c->ev_tagstr.p ? c->ev_tagstr.p : "";
        r->tags_len = c->ev_tagstr.len;
    } else {
        vg_sbuf_reset(&c->tags);
        misp_join(&c->tags, &c->at_tags, "");
        if (c->ev_tagstr.len) {
            vg_sbuf_addc(&c->tags, ',');
            vg_sbuf_add(&c->tags, c->ev_tagstr.p, c->ev_tagstr.len);
        }
        r->tags = c->tags.p;
        r->tags_len = c->tags.len;
    }
    if (c->at_clusters.n == 0) {
        r->related = c->ev_related.p;
        r->related_len = c->ev_related.len;
    } else {
        vg_sbuf_reset(&c->related);
        vg_sbuf_add(&c->related, c->ev_related.p, c->ev_related.len);
        misp_join(&c->related, &c->at_clusters, "misp-galaxy--");
        r->related = c->related.p;
        r->related_len = c->related.len;
    }
    uint32_t ts = misp_unix_v(f->timestamp);
    ts = ts ? ts : c->ev_ts;
    r->first_seen = misp_iso_v(f->first_seen);
    r->last_seen = misp_iso_v(f->last_seen);
    r->first_seen = r->first_seen ? r->first_seen : ts;
    r->last_seen = r->last_seen ? r->last_seen : ts;
    return c->tags.err || c->related.err ? VG_ENOMEM : 0;
}

static enum vg_intel_type misp_ip_type(const char *v, size_t n)
{
    return memchr(v, ':', n) ? VG_INTEL_IPV6 : VG_INTEL_IPV4;
}

static int misp_emit_part(struct misp_ctx *c, struct vg_intel_rec *r, uint8_t t, const char *v,
                          size_t n)
{
    r->type = t == MISP_T_IP ? misp_ip_type(v, n) : (enum vg_intel_type)t;
    r->value = v;
    r->value_len = n;
    return misp_emit_rec(c, r);
}

/* The reason an attribute of type t (not in amap[]) is not matched, into why. */
static const char *misp_unsupported_why(const struct vg_json *t, char *why, size_t whysz)
{
    for (size_t i = 0; i < sizeof(aexcuse) / sizeof(aexcuse[0]); i++) {
        if (vg_str_eq(aexcuse[i].name, strlen(aexcuse[i].name), t->s, t->n)) {
            return aexcuse[i].why;
        }
    }
    snprintf(why, whysz, "attribute type '%.*s' is not matched", (int)(t->n > 64 ? 64 : t->n),
             t->s);
    return why;
}

/* Decide whether the attribute is an indicator; reject it (and return NULL) if not. */
static const struct misp_amap *misp_attr_usable(struct misp_ctx *c, const struct vg_json *a,
                                                const struct misp_attr_fields *f,
                                                const struct misp_attr_info *ai, uint32_t idx)
{
    const struct misp_amap *m;
    char why[160];
    if (a->type != VG_JSON_OBJECT) {
        misp_attr_reject(c, ai, idx, VG_INTEL_REJ_MALFORMED, "attribute is not an object");
        return NULL;
    }
    if (!f->type || f->type->type != VG_JSON_STRING || !f->value ||
        f->value->type != VG_JSON_STRING) {
        misp_attr_reject(c, ai, idx, VG_INTEL_REJ_MALFORMED,
                         "field \"type\" or \"value\" missing or not a string");
        return NULL;
    }
    if (ai->obj_deleted || misp_bool_v(f->deleted, false)) {
        misp_attr_reject(c, ai, idx, VG_INTEL_REJ_REVOKED,
                         ai->obj_deleted ? "object deleted" : "attribute deleted");
        return NULL;
    }
    if (!misp_bool_v(f->to_ids, false) && !(c->o && c->o->misp_all)) {
        misp_attr_reject(c, ai, idx, VG_INTEL_REJ_NOT_IDS, "to_ids is false");
        return NULL;
    }
    m = misp_amap_find(f->type->s, f->type->n);
    if (!m) {
        misp_attr_reject(c, ai, idx, VG_INTEL_REJ_UNSUPPORTED,
                         misp_unsupported_why(f->type, why, sizeof(why)));
    }
    return m;
}

static int misp_attr(struct misp_ctx *c, const struct vg_json *a, const struct misp_attr_info *ai,
                     uint32_t idx)
{
    struct misp_attr_fields f;
    struct vg_intel_rec r = {0};
    misp_attr_fields_get(a, &f);
    const struct misp_amap *m = misp_attr_usable(c, a, &f, ai, idx);
    if (!m) {
        return 0;
    }
    const char *v = f.value->s, *bar = NULL;
    size_t vl = f.value->n;
    for (size_t i = vl; m->split != MISP_WHOLE && i > 0; i--) {
        if (v[i - 1] == '|') {
            bar = v + i - 1;
            break;
        }
    }
    if (m->split != MISP_WHOLE && !bar) {
        char why[160];
        snprintf(why, sizeof(why), "value of a '%s' attribute has no '|'", m->name);
        misp_attr_reject(c, ai, idx, VG_INTEL_REJ_MALFORMED, why);
        return 0;
    }
    int rc = misp_attr_context(c, &f, &r);
    if (rc < 0) {
        return rc;
    }
    if (f.uuid && f.uuid->type == VG_JSON_STRING) {
        r.ref = f.uuid->s;
        r.ref_len = f.uuid->n;
    }
    r.name = c->ev_info;
    r.name_len = c->ev_info_len;
    if (f.comment && f.comment->type == VG_JSON_STRING && f.comment->n > 0) {
        r.name = f.comment->s;
        r.name_len = f.comment->n;
    }
    if (m->split == MISP_WHOLE) {
        return misp_emit_part(c, &r, m->t1, v, vl);
    }
    rc = misp_emit_part(c, &r, m->t1, v, (size_t)(bar - v));
    if (rc == 0 && m->split == MISP_BOTH) {
        rc = misp_emit_part(c, &r, m->t2, bar + 1, vl - (size_t)(bar - v) - 1);
    }
    return rc;
}

static int misp_attr_list(struct misp_ctx *c, const struct vg_json *holder,
                          const struct misp_attr_info *ai)
{
    const struct vg_json *al = vg_json_get(holder, "Attribute");
    if (!al) {
        return 0;
    }
    if (al->type != VG_JSON_ARRAY) {
        misp_attr_reject(c, ai, 0, VG_INTEL_REJ_MALFORMED, "field \"Attribute\" is not an array");
        return 0;
    }
    for (uint32_t i = 0; i < al->n; i++) {
        int rc = misp_attr(c, &al->u.items[i], ai, i);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

static int misp_objects(struct misp_ctx *c, const struct vg_json *ev)
{
    const struct vg_json *ol = vg_json_get(ev, "Object");
    if (!ol) {
        return 0;
    }
    if (ol->type != VG_JSON_ARRAY) {
        misp_where(c, " Object");
        misp_reject(c, VG_INTEL_REJ_MALFORMED, "field \"Object\" is not an array");
        return 0;
    }
    for (uint32_t i = 0; i < ol->n; i++) {
        const struct vg_json *ob = &ol->u.items[i];
        struct misp_attr_info ai = {.obj_name = "", .obj_idx = i};
        misp_str(ob, "name", &ai.obj_name, &ai.obj_name_len);
        if (ob->type != VG_JSON_OBJECT) {
            misp_where(c, " Object[%u]", i);
            misp_reject(c, VG_INTEL_REJ_MALFORMED, "object is not a JSON object");
            continue;
        }
        ai.obj_deleted = misp_bool(ob, "deleted", false);
        int rc = misp_attr_list(c, ob, &ai);
        if (rc < 0) {
            return rc;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ events */

/* The event as a compact JSON object without its bulky members. */
static void misp_event_header(struct misp_ctx *c, const struct vg_json *ev)
{
    static const char *const skip[] = {"Attribute",   "Object", "ShadowAttribute", "RelatedEvent",
                                       "EventReport", "Galaxy", "Sighting"};
    struct vg_sbuf *sb = &c->json;
    bool first = true;
    vg_sbuf_reset(sb);
    vg_sbuf_addc(sb, '{');
    for (uint32_t i = 0; i < ev->n; i++) {
        const struct vg_json *k = &ev->u.items[2 * i];
        bool drop = false;
        for (size_t j = 0; j < sizeof(skip) / sizeof(skip[0]) && !drop; j++) {
            drop = vg_str_eq(k->s, k->n, skip[j], strlen(skip[j]));
        }
        if (drop) {
            continue;
        }
        if (!first) {
            vg_sbuf_addc(sb, ',');
        }
        first = false;
        vg_sbuf_add_json_str(sb, k->s, k->n);
        vg_sbuf_addc(sb, ':');
        vg_json_write(&ev->u.items[2 * i + 1], sb);
    }
    vg_sbuf_addc(sb, '}');
}

static int misp_event_obj(struct misp_ctx *c, const struct vg_json *ev)
{
    struct vg_intel_obj ob = {0};
    misp_event_header(c, ev);
    vg_sbuf_reset(&c->id);
    vg_sbuf_adds(&c->id, "misp-event--");
    vg_sbuf_add(&c->id, c->ev_uuid, c->ev_uuid_len);
    if (c->json.err || c->id.err) {
        return VG_ENOMEM;
    }
    ob.id = c->id.p;
    ob.id_len = c->id.len;
    ob.type = "misp-event";
    ob.type_len = strlen(ob.type);
    ob.name = c->ev_info;
    ob.name_len = c->ev_info_len;
    ob.ext_id = "";
    ob.active = true;
    ob.json = c->json.p;
    ob.json_len = c->json.len;
    return misp_emit_obj(c, &ob);
}

/* Per-event state: tags, clusters, the joined strings every record shares. */
static int misp_event_begin(struct misp_ctx *c, const struct vg_json *ev)
{
    misp_set_clear(&c->ev_tags);
    misp_set_clear(&c->ev_clusters);
    misp_set_clear(&c->emitted);
    c->ev_info = "";
    c->ev_info_len = 0;
    misp_str(ev, "info", &c->ev_info, &c->ev_info_len);
    c->ev_ts = misp_unix(ev, "timestamp");
    c->ev_conf = misp_tags_collect(vg_json_get(ev, "Tag"), &c->ev_tags, NULL);
    vg_sbuf_reset(&c->ev_tagstr);
    misp_join(&c->ev_tagstr, &c->ev_tags, "");
    int rc = misp_event_obj(c, ev);
    if (rc == 0) {
        rc = misp_galaxies(c, vg_json_get(ev, "Galaxy"), &c->ev_clusters, NULL, " ");
    }
    vg_sbuf_reset(&c->ev_related);
    vg_sbuf_adds(&c->ev_related, "misp-event--");
    vg_sbuf_add(&c->ev_related, c->ev_uuid, c->ev_uuid_len);
    misp_join(&c->ev_related, &c->ev_clusters, "misp-galaxy--");
    if (rc == 0 && (c->ev_tagstr.err || c->ev_related.err)) {
        rc = VG_ENOMEM;
    }
    return rc;
}

/* One event object (the value of "Event", or a bare event). */
static int misp_event(struct misp_ctx *c, const struct vg_json *ev)
{
    struct misp_attr_info top = {0};
    int rc;
    c->ev_uuid = NULL;
    c->ev_uuid_len = 0;
    if (ev->type != VG_JSON_OBJECT) {
        misp_where(c, "%s", "");
        misp_reject(c, VG_INTEL_REJ_MALFORMED, "event is not a JSON object");
        rc = 0;
        goto out;
    }
    if (!misp_str(ev, "uuid", &c->ev_uuid, &c->ev_uuid_len) || c->ev_uuid_len == 0) {
        c->ev_uuid_len = 0;
        misp_where(c, "%s", "");
        misp_reject(c, VG_INTEL_REJ_MALFORMED, "field \"uuid\" missing or not a string");
        rc = 0;
        goto out;
    }
    rc = misp_event_begin(c, ev);
    if (rc == 0) {
        rc = misp_attr_list(c, ev, &top);
    }
    if (rc == 0) {
        rc = misp_objects(c, ev);
    }
out:
    c->ev_index++;
    return rc;
}

static bool misp_looks_like_event(const struct vg_json *v)
{
    return vg_json_get(v, "Attribute") || vg_json_get(v, "Object") ||
           (vg_json_get(v, "uuid") && vg_json_get(v, "info"));
}

/*
 * One item of the document: {"Event":…}, {"response":[…]}, a bare event, or (top level only)
 * an array of those. Returns 0, a sink/memory status, or VG_EINVAL with err set for a
 * top-level structure that is not MISP (inner items that are not are rejected instead).
 */
static int misp_item(struct misp_ctx *c, const struct vg_json *v, int depth, char *err,
                     size_t errsz)
{
    const struct vg_json *e = vg_json_get(v, "Event");
    const struct vg_json *r = vg_json_get(v, "response");
    const struct vg_json *list = v->type == VG_JSON_ARRAY && depth == 0 ? v : r;
    if (list) {
        if (list->type != VG_JSON_ARRAY && depth > 0) {
            misp_where(c, "%s", "");
            misp_reject(c, VG_INTEL_REJ_MALFORMED, "field \"response\" is not an array");
            c->ev_index++;
            return 0;
        }
        if (list->type != VG_JSON_ARRAY) {
            snprintf(err, errsz, "%s: field \"response\" is not an array", c->origin);
            return VG_EINVAL;
        }
        for (uint32_t i = 0; i < list->n; i++) {
            int rc = misp_item(c, &list->u.items[i], depth + 1, err, errsz);
            if (rc < 0) {
                return rc;
            }
        }
        return 0;
    }
    if (e && (e->type == VG_JSON_OBJECT || depth > 0)) {
        return misp_event(c, e);
    }
    if (v->type == VG_JSON_OBJECT && !e && misp_looks_like_event(v)) {
        return misp_event(c, v);
    }
    if (depth > 0) {
        misp_where(c, "%s", "");
        misp_reject(c, VG_INTEL_REJ_MALFORMED, "not a MISP event");
        c->ev_index++;
        return 0;
    }
    snprintf(err, errsz,
             e ? "%s: field \"Event\" is not an object"
               : "%s: top level is not a MISP document (expected {\"Event\":…}, "
                 "{\"response\":[…]}, an event object or an array of them)",
             c->origin);
    return VG_EINVAL;
}

/* Parse text and import it through c. */
static int misp_import_text(struct misp_ctx *c, const char *text, size_t len, char *err,
                            size_t errsz)
{
    struct vg_json_limits lim = {.max_depth = 128, .max_len = VG_INTEL_MISP_MAX_DOC};
    struct vg_json_parser *p = vg_json_parser_create(&lim);
    struct vg_arena *arena = vg_arena_create(1u << 20);
    struct vg_json *doc = NULL;
    char jerr[160] = "";
    size_t used = 0;
    int rc = VG_ENOMEM;
    if (!p || !arena) {
        snprintf(err, errsz, "%s: out of memory", c->origin);
        goto out;
    }
    rc = vg_json_parse(p, arena, text, len, &used, &doc, jerr, sizeof(jerr));
    if (rc == VG_EOF || rc == VG_ETRUNC) {
        snprintf(err, errsz, "%s: offset %zu: %s", c->origin, used,
                 rc == VG_EOF ? "empty document" : "unexpected end of input");
        rc = VG_EINVAL;
        goto out;
    }
    if (rc != 0) {
        snprintf(err, errsz, "%s: %s", c->origin, jerr[0] ? jerr : vg_strerror(rc));
        goto out;
    }
    for (size_t i = used; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
            snprintf(err, errsz, "%s: offset %zu: trailing data after the document", c->origin, i);
            rc = VG_EINVAL;
            goto out;
        }
    }
    rc = misp_item(c, doc, 0, err, errsz);
    if (c->sink_rc < 0) {
        rc = c->sink_rc;
    }
out:
    vg_json_parser_destroy(p);
    vg_arena_destroy(arena);
    return rc;
}

int vg_intel_import_misp(const char *text, size_t len, const struct vg_intel_import_opts *o,
                         const struct vg_intel_sink *s, char *err, size_t errsz)
{
    const char *origin = o && o->origin ? o->origin : "misp";
    char dummy[1];
    if (!err || errsz == 0) {
        err = dummy;
        errsz = sizeof(dummy);
    }
    err[0] = '\0';
    struct misp_ctx *c = misp_ctx_create(o, s, origin);
    if (!c) {
        snprintf(err, errsz, "%s: out of memory", origin);
        return VG_ENOMEM;
    }
    int rc = misp_import_text(c, text ? text : "", text ? len : 0, err, errsz);
    misp_ctx_destroy(c);
    return rc;
}

/* ------------------------------------------------------------------ feed directories */

struct misp_key {
    const char *s;
    size_t n;
};

static int misp_key_cmp(const void *a, const void *b)
{
    const struct misp_key *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int d = memcmp(x->s, y->s, n);
    return d ? d : (x->n > y->n) - (x->n < y->n);
}

/* A manifest key usable as a file name: 1-64 of [0-9A-Za-z-]. */
static bool misp_uuid_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '-')) {
            return false;
        }
    }
    return true;
}

/* Import dir/<uuid>.json; a bad file is rejected through the sink (where = its name). */
static int misp_feed_event(struct misp_ctx *c, const char *dir, const struct misp_key *k)
{
    char name[80], path[4096], ferr[256];
    char *buf = NULL;
    size_t len = 0;
    snprintf(name, sizeof(name), "%.*s.json", (int)k->n, k->s);
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        snprintf(c->where, sizeof(c->where), "%s", name);
        misp_reject(c, VG_INTEL_REJ_MALFORMED, "path too long");
        return 0;
    }
    int rc = vg_file_read(path, VG_INTEL_MISP_MAX_DOC, &buf, &len);
    if (rc != 0) {
        snprintf(ferr, sizeof(ferr), "cannot read %s: %s", name, vg_strerror(rc));
        snprintf(c->where, sizeof(c->where), "%s", name);
        misp_reject(c, VG_INTEL_REJ_MALFORMED, ferr);
        return rc == VG_ENOMEM ? rc : 0;
    }
    const char *origin = c->origin;
    c->file = name;
    c->origin = name;
    c->ev_index = 0;
    rc = misp_import_text(c, buf, len, ferr, sizeof(ferr));
    c->file = NULL;
    c->origin = origin;
    vg_free(buf);
    if (c->sink_rc < 0 || rc == VG_ENOMEM) {
        return rc;
    }
    if (rc < 0) {
        snprintf(c->where, sizeof(c->where), "%s", name);
        misp_reject(c, VG_INTEL_REJ_MALFORMED, ferr);
    }
    return 0;
}

/* The manifest's keys, sorted and deduplicated, in *keys (vg_free). */
static int misp_manifest_keys(const struct vg_json *man, struct misp_key **keys, size_t *n)
{
    *n = 0;
    *keys = vg_malloc(sizeof(**keys) * (man->n ? man->n : 1));
    if (!*keys) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < man->n; i++) {
        (*keys)[i].s = man->u.items[2 * i].s;
        (*keys)[i].n = man->u.items[2 * i].n;
    }
    qsort(*keys, man->n, sizeof(**keys), misp_key_cmp);
    for (uint32_t i = 0; i < man->n; i++) {
        if (*n == 0 || misp_key_cmp(&(*keys)[*n - 1], &(*keys)[i]) != 0) {
            (*keys)[(*n)++] = (*keys)[i];
        }
    }
    return 0;
}

static int misp_feed_events(struct misp_ctx *c, const char *dir, const struct vg_json *man)
{
    struct misp_key *keys = NULL;
    size_t n = 0;
    int rc = misp_manifest_keys(man, &keys, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!misp_uuid_ok(keys[i].s, keys[i].n)) {
            char why[128];
            snprintf(why, sizeof(why), "key '%.*s' is not an event uuid",
                     (int)(keys[i].n > 64 ? 64 : keys[i].n), keys[i].s);
            snprintf(c->where, sizeof(c->where), "manifest.json");
            misp_reject(c, VG_INTEL_REJ_MALFORMED, why);
            continue;
        }
        rc = misp_feed_event(c, dir, &keys[i]);
    }
    vg_free(keys);
    return rc;
}

int vg_intel_import_misp_dir(const char *dir, const struct vg_intel_import_opts *o,
                             const struct vg_intel_sink *s, char *err, size_t errsz)
{
    struct vg_json_parser *p = NULL;
    struct vg_arena *arena = NULL;
    struct misp_ctx *c = NULL;
    struct vg_json *man = NULL;
    char *buf = NULL, path[4096], jerr[160] = "", dummy[1];
    size_t len = 0, used = 0;
    int rc;
    if (!err || errsz == 0) {
        err = dummy;
        errsz = sizeof(dummy);
    }
    err[0] = '\0';
    if ((size_t)snprintf(path, sizeof(path), "%s/manifest.json", dir) >= sizeof(path)) {
        snprintf(err, errsz, "%s: path too long", dir);
        return VG_EINVAL;
    }
    rc = vg_file_read(path, VG_INTEL_MISP_MAX_DOC, &buf, &len);
    if (rc != 0) {
        snprintf(err, errsz, "%s: cannot read: %s", path, vg_strerror(rc));
        return rc == VG_ENOMEM ? rc : VG_EINVAL;
    }
    struct vg_json_limits lim = {.max_depth = 64, .max_len = VG_INTEL_MISP_MAX_DOC};
    p = vg_json_parser_create(&lim);
    arena = vg_arena_create(1u << 16);
    c = misp_ctx_create(o, s, dir);
    if (!p || !arena || !c) {
        snprintf(err, errsz, "%s: out of memory", path);
        rc = VG_ENOMEM;
        goto out;
    }
    rc = vg_json_parse(p, arena, buf, len, &used, &man, jerr, sizeof(jerr));
    if (rc != 0 || man->type != VG_JSON_OBJECT) {
        snprintf(err, errsz, "%s: %s", path,
                 rc != 0 ? (jerr[0] ? jerr : vg_strerror(rc)) : "not a JSON object");
        rc = rc == VG_ENOMEM ? rc : VG_EINVAL;
        goto out;
    }
    rc = misp_feed_events(c, dir, man);
    if (rc < 0 && rc != c->sink_rc) {
        snprintf(err, errsz, "%s: %s", dir, vg_strerror(rc));
    }
out:
    misp_ctx_destroy(c);
    vg_arena_destroy(arena);
    vg_json_parser_destroy(p);
    vg_free(buf);
    return rc;
}
