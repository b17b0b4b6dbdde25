/*
 * intel_stix.c — STIX 2.0/2.1 bundle importer: walks a bundle's "objects" array one object at a
 * time (one small DOM per object in an arena reset between objects, so memory is bounded by the
 * largest object), turns indicators with simple patterns into indicator records and hands every
 * object to the store as context (intel_db.c keeps them; relationships link indicators to
 * malware, threat actors and ATT&CK techniques when a hit is described).
 *
 * Accepted documents: a bundle {"type":"bundle","objects":[…]}, a TAXII 2.1 envelope
 * {"more":…,"objects":[…]}, a bare array of objects, or one object.
 */
#include "intel/intel_stix.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "event/event.h"
#include "intel/intel_pattern.h"

#define STIX_MAX_OBJECT (64u << 20) /* one object's JSON */
#define STIX_MAX_IOCS   256         /* simple indicators per pattern */
#define STIX_MAX_TLP    64          /* marking definitions remembered per document */

/* TLP 2.0/1.0 marking-definition ids fixed by the STIX 2.1 specification (§7.2.1.4). */
static const struct {
    const char *id;
    const char *tlp;
} tlp_ids[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "tlp:white"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "tlp:green"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "tlp:amber"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "tlp:red"},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "tlp:clear"},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "tlp:green"},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "tlp:amber"},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "tlp:amber+strict"},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "tlp:red"},
};

struct stix_ctx {
    const struct vg_intel_import_opts *o;
    const struct vg_intel_sink *s;
    struct vg_json_parser *parser;
    struct vg_arena *arena;
    struct vg_sbuf tags;
    /* marking definitions of this document: id → "tlp:amber" */
    char *mark_id[STIX_MAX_TLP];
    char *mark_tlp[STIX_MAX_TLP];
    unsigned nmarks;
    size_t index; /* position in objects[] */
};

static const char *jstr(const struct vg_json *o, const char *key, size_t *n)
{
    const struct vg_json *v = vg_json_get(o, key);
    if (!v || v->type != VG_JSON_STRING) {
        *n = 0;
        return "";
    }
    *n = v->n;
    return v->s;
}

static bool jtrue(const struct vg_json *o, const char *key)
{
    const struct vg_json *v = vg_json_get(o, key);
    return v && v->type == VG_JSON_TRUE;
}

/* RFC 3339 timestamp → Unix seconds clamped to uint32 (0 when absent or unparsable). */
static uint32_t jtime(const struct vg_json *o, const char *key)
{
    size_t n;
    const char *s = jstr(o, key, &n);
    vg_time_t t;
    if (!n || vg_time_parse(s, n, &t) != VG_OK || t <= 0) {
        return 0;
    }
    int64_t sec = t / 1000000000;
    return sec > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)sec;
}

static void add_tag(struct vg_sbuf *b, const char *s, size_t n)
{
    if (!n) {
        return;
    }
    if (b->len) {
        vg_sbuf_addc(b, ',');
    }
    vg_sbuf_add(b, s, n);
}

static void add_tag_array(struct vg_sbuf *b, const struct vg_json *a)
{
    if (!a || a->type != VG_JSON_ARRAY) {
        return;
    }
    for (uint32_t i = 0; i < a->n; i++) {
        if (a->u.items[i].type == VG_JSON_STRING) {
            add_tag(b, a->u.items[i].s, a->u.items[i].n);
        }
    }
}

static const char *marking_tlp(const struct stix_ctx *c, const char *id, size_t n)
{
    for (size_t i = 0; i < sizeof(tlp_ids) / sizeof(tlp_ids[0]); i++) {
        if (vg_str_eq(id, n, tlp_ids[i].id, strlen(tlp_ids[i].id))) {
            return tlp_ids[i].tlp;
        }
    }
    for (unsigned i = 0; i < c->nmarks; i++) {
        if (vg_str_eq(id, n, c->mark_id[i], strlen(c->mark_id[i]))) {
            return c->mark_tlp[i];
        }
    }
    return NULL;
}

/* Remember a document's own TLP marking definitions (definition_type "tlp"). */
static void note_marking(struct stix_ctx *c, const struct vg_json *obj)
{
    size_t idn, dtn;
    const char *id = jstr(obj, "id", &idn);
    const char *dt = jstr(obj, "definition_type", &dtn);
    const struct vg_json *def = vg_json_get(obj, "definition");
    size_t tn = 0;
    const char *t = def ? jstr(def, "tlp", &tn) : "";
    if (!idn || !vg_str_eq(dt, dtn, "tlp", 3) || !tn || tn > 32 || c->nmarks >= STIX_MAX_TLP) {
        return;
    }
    char *mid = vg_strndup(id, idn);
    char *tlp = vg_malloc(tn + 5);
    if (!mid || !tlp) {
        vg_free(mid);
        vg_free(tlp);
        return;
    }
    memcpy(tlp, "tlp:", 4);
    for (size_t i = 0; i < tn; i++) {
        tlp[4 + i] = (char)((t[i] >= 'A' && t[i] <= 'Z') ? t[i] + 32 : t[i]);
    }
    tlp[4 + tn] = 0;
    c->mark_id[c->nmarks] = mid;
    c->mark_tlp[c->nmarks++] = tlp;
}

/* The ATT&CK (or CVE) id among external_references, if any. */
static const char *ext_id(const struct vg_json *obj, size_t *n)
{
    const struct vg_json *refs = vg_json_get(obj, "external_references");
    *n = 0;
    if (!refs || refs->type != VG_JSON_ARRAY) {
        return "";
    }
    for (uint32_t i = 0; i < refs->n; i++) {
        size_t sn, en;
        const char *src = jstr(&refs->u.items[i], "source_name", &sn);
        const char *eid = jstr(&refs->u.items[i], "external_id", &en);
        if (en && (vg_str_eq(src, sn, "mitre-attack", 12) || vg_str_eq(src, sn, "cve", 3) ||
                   vg_str_eq(src, sn, "mitre-mobile-attack", 19) ||
                   vg_str_eq(src, sn, "mitre-ics-attack", 16) || vg_str_eq(src, sn, "capec", 5))) {
            *n = en;
            return eid;
        }
    }
    return "";
}

static void reject(const struct stix_ctx *c, enum vg_intel_reject why, const struct vg_json *obj,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void reject(const struct stix_ctx *c, enum vg_intel_reject why, const struct vg_json *obj,
                   const char *fmt, ...)
{
    char where[160], reason[256];
    size_t idn = 0;
    const char *id = obj ? jstr(obj, "id", &idn) : "";
    va_list ap;
    if (!c->s->reject) {
        return;
    }
    snprintf(where, sizeof(where), "objects[%zu]%s%.*s", c->index, idn ? " " : "",
             (int)(idn > 100 ? 100 : idn), id);
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    c->s->reject(c->s->u, why, where, reason);
}

static const enum vg_intel_type ioc_map[VG_INTEL_IOC_COUNT_] = {
    [VG_INTEL_IOC_IPV4] = VG_INTEL_IPV4,
    [VG_INTEL_IOC_IPV6] = VG_INTEL_IPV6,
    [VG_INTEL_IOC_DOMAIN] = VG_INTEL_DOMAIN,
    [VG_INTEL_IOC_URL] = VG_INTEL_URL,
    [VG_INTEL_IOC_EMAIL] = VG_INTEL_EMAIL,
    [VG_INTEL_IOC_MD5] = VG_INTEL_MD5,
    [VG_INTEL_IOC_SHA1] = VG_INTEL_SHA1,
    [VG_INTEL_IOC_SHA256] = VG_INTEL_SHA256,
    [VG_INTEL_IOC_SHA512] = VG_INTEL_SHA512,
    [VG_INTEL_IOC_JA3] = VG_INTEL_JA3,
    [VG_INTEL_IOC_X509_SHA1] = VG_INTEL_X509_SHA1,
    [VG_INTEL_IOC_X509_SHA256] = VG_INTEL_X509_SHA256,
    [VG_INTEL_IOC_MAC] = VG_INTEL_TYPE_COUNT,
    [VG_INTEL_IOC_FILENAME] = VG_INTEL_FILENAME,
    [VG_INTEL_IOC_REGKEY] = VG_INTEL_TYPE_COUNT,
};

/* Fill the record fields shared by every simple indicator of one STIX indicator. */
static void indicator_base(struct stix_ctx *c, const struct vg_json *obj, struct vg_intel_rec *r)
{
    const struct vg_json *conf = vg_json_get(obj, "confidence");
    const struct vg_json *marks = vg_json_get(obj, "object_marking_refs");
    const char *name;
    size_t n;
    memset(r, 0, sizeof(*r));
    r->ref = jstr(obj, "id", &r->ref_len);
    name = jstr(obj, "name", &n);
    if (!n) {
        name = jstr(obj, "description", &n);
    }
    r->name = name;
    r->name_len = n > 200 ? 200 : n;
    r->confidence = VG_INTEL_CONF_UNSET;
    if (conf && conf->type == VG_JSON_NUMBER && conf->is_int && conf->u.i >= 0 &&
        conf->u.i <= 100) {
        r->confidence = (uint8_t)conf->u.i;
    }
    r->first_seen = jtime(obj, "valid_from");
    if (!r->first_seen) {
        r->first_seen = jtime(obj, "created");
    }
    r->last_seen = jtime(obj, "modified");
    r->valid_until = jtime(obj, "valid_until");
    vg_sbuf_reset(&c->tags);
    add_tag_array(&c->tags, vg_json_get(obj, "labels"));
    add_tag_array(&c->tags, vg_json_get(obj, "indicator_types"));
    for (uint32_t i = 0; marks && marks->type == VG_JSON_ARRAY && i < marks->n; i++) {
        const struct vg_json *m = &marks->u.items[i];
        const char *tlp = m->type == VG_JSON_STRING ? marking_tlp(c, m->s, m->n) : NULL;
        if (tlp) {
            add_tag(&c->tags, tlp, strlen(tlp));
        }
    }
    r->tags = c->tags.p ? c->tags.p : "";
    r->tags_len = c->tags.len;
    /* related objects come from relationships, which the store resolves when describing a hit
     * (a relationship may come after the indicator in the bundle) */
    r->related = "";
}

static int indicator(struct stix_ctx *c, const struct vg_json *obj)
{
    size_t ptn, pn;
    const char *ptype = jstr(obj, "pattern_type", &ptn);
    const char *pat = jstr(obj, "pattern", &pn);
    struct vg_intel_pattern *p = NULL;
    struct vg_intel_ioc iocs[STIX_MAX_IOCS];
    struct vg_intel_rec r;
    const char *why = NULL;
    char perr[200];
    size_t n = 0;
    int rc;
    if (jtrue(obj, "revoked")) {
        reject(c, VG_INTEL_REJ_REVOKED, obj, "indicator is revoked");
        return VG_OK;
    }
    if (ptn && !vg_str_eq(ptype, ptn, "stix", 4)) {
        reject(c, VG_INTEL_REJ_UNSUPPORTED, obj, "pattern_type '%.*s' is not matched (stix only)",
               (int)(ptn > 40 ? 40 : ptn), ptype);
        return VG_OK;
    }
    if (!pn) {
        reject(c, VG_INTEL_REJ_MALFORMED, obj, "indicator has no pattern");
        return VG_OK;
    }
    rc = vg_intel_pattern_parse(pat, pn, NULL, &p, perr, sizeof(perr));
    if (rc == VG_ENOMEM) {
        return rc;
    }
    if (rc != VG_OK) {
        reject(c, VG_INTEL_REJ_MALFORMED, obj, "pattern: %s", perr);
        return VG_OK;
    }
    rc = vg_intel_pattern_simple(p, iocs, STIX_MAX_IOCS, &n, &why);
    if (rc == VG_DECLINED || rc == VG_ELIMIT) {
        reject(c, VG_INTEL_REJ_COMPOUND, obj, "compound pattern (%s): not a simple indicator",
               rc == VG_ELIMIT ? "more than 256 comparisons" : why);
        vg_intel_pattern_destroy(p);
        return VG_OK;
    }
    indicator_base(c, obj, &r);
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        enum vg_intel_type t = ioc_map[iocs[i].type];
        if (t == VG_INTEL_TYPE_COUNT) {
            reject(c, VG_INTEL_REJ_UNSUPPORTED, obj, "indicator type %s is not matched",
                   vg_intel_ioc_type_name(iocs[i].type));
            continue;
        }
        if (!iocs[i].len) {
            reject(c, VG_INTEL_REJ_MALFORMED, obj, "empty %s value",
                   vg_intel_ioc_type_name(iocs[i].type));
            continue;
        }
        r.type = t;
        r.value = iocs[i].value;
        r.value_len = iocs[i].len;
        rc = c->s->indicator(c->s->u, &r);
    }
    vg_intel_pattern_destroy(p);
    return rc;
}

/* One object of the document: indicator records (for indicators) and the context object. */
static int object(struct stix_ctx *c, const struct vg_json *obj, const char *raw, size_t rawn)
{
    struct vg_intel_obj o = {0};
    int rc = VG_OK;
    if (obj->type != VG_JSON_OBJECT) {
        reject(c, VG_INTEL_REJ_MALFORMED, NULL, "not a JSON object");
        return VG_OK;
    }
    o.type = jstr(obj, "type", &o.type_len);
    o.id = jstr(obj, "id", &o.id_len);
    if (!o.type_len || !o.id_len) {
        reject(c, VG_INTEL_REJ_MALFORMED, obj, "object without \"%s\"", o.type_len ? "id" : "type");
        return VG_OK;
    }
    if (vg_str_eq(o.type, o.type_len, "marking-definition", 18)) {
        note_marking(c, obj);
    } else if (vg_str_eq(o.type, o.type_len, "indicator", 9) && (rc = indicator(c, obj)) != VG_OK) {
        return rc;
    }
    o.name = jstr(obj, "name", &o.name_len);
    o.ext_id = ext_id(obj, &o.ext_id_len);
    o.active = !jtrue(obj, "revoked") && !jtrue(obj, "x_mitre_deprecated");
    if (vg_str_eq(o.type, o.type_len, "relationship", 12)) {
        o.rel_src = jstr(obj, "source_ref", &o.rel_src_len);
        o.rel_type = jstr(obj, "relationship_type", &o.rel_type_len);
        o.rel_dst = jstr(obj, "target_ref", &o.rel_dst_len);
    }
    o.json = raw;
    o.json_len = rawn;
    return c->s->object ? c->s->object(c->s->u, &o) : VG_OK;
}

static size_t skip_ws(const char *t, size_t len, size_t i)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) {
        i++;
    }
    return i;
}

static int fail_at(const struct stix_ctx *c, char *err, size_t errsz, size_t off, const char *what)
{
    snprintf(err, errsz, "%s: offset %zu: %s", c->o && c->o->origin ? c->o->origin : "stix", off,
             what);
    return VG_EINVAL;
}

/* Parse one value at *i into the arena; *i advances past it. */
static int parse_at(struct stix_ctx *c, const char *t, size_t len, size_t *i, struct vg_json **v,
                    char *err, size_t errsz)
{
    char perr[160];
    size_t used = 0;
    int rc = vg_json_parse(c->parser, c->arena, t + *i, len - *i, &used, v, perr, sizeof(perr));
    if (rc == VG_ENOMEM) {
        return rc;
    }
    if (rc != VG_OK) {
        char what[220];
        snprintf(what, sizeof(what), "%s",
                 rc == VG_ETRUNC   ? "document ends inside a value"
                 : rc == VG_ELIMIT ? "value too large or too deeply nested"
                                   : perr);
        return fail_at(c, err, errsz, *i, what);
    }
    *i += used;
    return VG_OK;
}

/* The elements of the array starting at *i ('['), one object at a time. */
static int walk_array(struct stix_ctx *c, const char *t, size_t len, size_t *i, char *err,
                      size_t errsz)
{
    size_t p = skip_ws(t, len, *i + 1);
    int rc;
    if (p < len && t[p] == ']') {
        *i = p + 1;
        return VG_OK;
    }
    for (;;) {
        struct vg_json *v = NULL;
        size_t start = skip_ws(t, len, p);
        p = start;
        vg_arena_reset(c->arena);
        if ((rc = parse_at(c, t, len, &p, &v, err, errsz)) != VG_OK ||
            (rc = object(c, v, t + start, p - start)) != VG_OK) {
            return rc;
        }
        c->index++;
        p = skip_ws(t, len, p);
        if (p < len && t[p] == ',') {
            p++;
            continue;
        }
        if (p < len && t[p] == ']') {
            *i = p + 1;
            return VG_OK;
        }
        return fail_at(c, err, errsz, p, "expected ',' or ']' in \"objects\"");
    }
}

/*
 * A top-level object: find "objects" and stream it; other members are parsed and dropped. An
 * object without "objects" that has a "type" is a single STIX object.
 */
static int walk_top(struct stix_ctx *c, const char *t, size_t len, size_t i, char *err,
                    size_t errsz)
{
    size_t start = i;
    bool seen_objects = false;
    int rc;
    i = skip_ws(t, len, i + 1);
    if (i < len && t[i] == '}') {
        return fail_at(c, err, errsz, start, "empty object: not a STIX bundle");
    }
    for (;;) {
        struct vg_json *key = NULL, *v = NULL;
        vg_arena_reset(c->arena);
        i = skip_ws(t, len, i);
        if (i >= len || t[i] != '"') {
            return fail_at(c, err, errsz, i, "expected a member name");
        }
        if ((rc = parse_at(c, t, len, &i, &key, err, errsz)) != VG_OK) {
            return rc;
        }
        i = skip_ws(t, len, i);
        if (i >= len || t[i] != ':') {
            return fail_at(c, err, errsz, i, "expected ':'");
        }
        i = skip_ws(t, len, i + 1);
        if (vg_json_str_is(key, "objects") && (i >= len || t[i] != '[')) {
            return fail_at(c, err, errsz, i, "\"objects\" is not an array");
        }
        if (vg_json_str_is(key, "objects")) {
            seen_objects = true;
            if ((rc = walk_array(c, t, len, &i, err, errsz)) != VG_OK) {
                return rc;
            }
        } else if ((rc = parse_at(c, t, len, &i, &v, err, errsz)) != VG_OK) {
            return rc;
        }
        i = skip_ws(t, len, i);
        if (i < len && t[i] == ',') {
            i++;
            continue;
        }
        if (i < len && t[i] == '}') {
            break;
        }
        return fail_at(c, err, errsz, i, "expected ',' or '}'");
    }
    if (!seen_objects) {
        /* a single object: parse it whole */
        struct vg_json *v = NULL;
        size_t p = start;
        vg_arena_reset(c->arena);
        if ((rc = parse_at(c, t, len, &p, &v, err, errsz)) != VG_OK) {
            return rc;
        }
        if (!vg_json_get(v, "type")) {
            return fail_at(c, err, errsz, start, "not a STIX bundle: no \"objects\" or \"type\"");
        }
        return object(c, v, t + start, p - start);
    }
    return VG_OK;
}

int vg_intel_import_stix(const char *text, size_t len, const struct vg_intel_import_opts *o,
                         const struct vg_intel_sink *s, char *err, size_t errsz)
{
    struct vg_json_limits lim = {.max_depth = 64, .max_len = STIX_MAX_OBJECT};
    struct stix_ctx c = {.o = o, .s = s};
    size_t i = skip_ws(text, len, 0);
    int rc;
    if (err && errsz) {
        err[0] = 0;
    }
    if (i + 3 <= len && (unsigned char)text[i] == 0xef && (unsigned char)text[i + 1] == 0xbb &&
        (unsigned char)text[i + 2] == 0xbf) {
        i = skip_ws(text, len, i + 3);
    }
    if (i >= len || (text[i] != '{' && text[i] != '[')) {
        return fail_at(&c, err, errsz, i, "not a STIX document (expected '{' or '[')");
    }
    c.parser = vg_json_parser_create(&lim);
    c.arena = vg_arena_create(64 * 1024);
    if (!c.parser || !c.arena) {
        rc = VG_ENOMEM;
        goto out;
    }
    rc = text[i] == '[' ? walk_array(&c, text, len, &i, err, errsz)
                        : walk_top(&c, text, len, i, err, errsz);
out:
    for (unsigned k = 0; k < c.nmarks; k++) {
        vg_free(c.mark_id[k]);
        vg_free(c.mark_tlp[k]);
    }
    vg_sbuf_fini(&c.tags);
    vg_arena_destroy(c.arena);
    vg_json_parser_destroy(c.parser);
    return rc;
}
