/*
 * alert_exception.c — exceptions, Vigie's one noise-control concept (a snooze is an
 * exception with a short expiry): the JSON parser (untrusted: every error names the field),
 * the matcher against an alert and its event, and the normalised JSON form.
 *
 *   {"rule":"ssh-brute" | "*", "entity":{"type":"host","value":"web-*"},
 *    "fields":{"user.name":"svc_*"}, "expires":"2026-01-01T00:00:00Z" | "2h" | "never",
 *    "reason":"vulnerability scanner"}
 */
#include "alert/alert_int.h"

#include <inttypes.h>
#include <string.h>

#define EXC_STR_MAX    1024
#define EXC_FIELDS_MAX 32

void tx_exc_free(struct tx_exc *e)
{
    if (!e) {
        return;
    }
    for (size_t i = 0; i < e->nm; i++) {
        vg_free(e->m[i].field);
        vg_free(e->m[i].glob);
    }
    vg_free(e->m);
    vg_free(e->tenant);
    vg_free(e->rule);
    vg_free(e->evalue);
    vg_free(e->reason);
    vg_free(e->author);
    vg_free(e);
}

/* ---------------------------------------------------------------- parsing */

struct exc_parse {
    struct tx_exc *e;
    vg_time_t now;
    bool *dry_run;
    int *days;
    char *err;
    size_t errsz;
};

static int fail(struct exc_parse *p, const char *field, const char *why)
{
    snprintf(p->err, p->errsz, "exceptions: field '%s': %s", field, why);
    return VG_EINVAL;
}

/* A non-empty string of at most max bytes, copied. */
static int get_str(struct exc_parse *p, const struct vg_json *v, const char *field, size_t max,
                   char **out)
{
    if (v->type != VG_JSON_STRING) {
        return fail(p, field, "expected a string");
    }
    if (!v->n || v->n > max || memchr(v->s, '\0', v->n)) {
        char why[64];
        snprintf(why, sizeof(why), "expected 1 to %zu characters", max);
        return fail(p, field, why);
    }
    vg_free(*out);
    *out = vg_strndup(v->s, v->n);
    return *out ? VG_OK : VG_ENOMEM;
}

static int parse_entity(struct exc_parse *p, const struct vg_json *v)
{
    if (v->type == VG_JSON_NULL) {
        return VG_OK;
    }
    if (v->type != VG_JSON_OBJECT) {
        return fail(p, "entity", "expected an object {\"type\":..., \"value\":...}");
    }
    for (uint32_t i = 0; i < v->n; i++) {
        const struct vg_json *k = &v->u.items[2 * i], *val = &v->u.items[2 * i + 1];
        if (vg_json_str_is(k, "type")) {
            int t = val->type == VG_JSON_STRING ? tx_etype_parse(val->s, val->n) : 0;
            if (!t) {
                return fail(p, "entity.type", "expected host, user, ip or process");
            }
            p->e->etype = (uint8_t)t;
        } else if (vg_json_str_is(k, "value")) {
            int rc = get_str(p, val, "entity.value", EXC_STR_MAX, &p->e->evalue);
            if (rc != VG_OK) {
                return rc;
            }
        } else {
            return fail(p, "entity", "unknown member (expected type and value)");
        }
    }
    if (!p->e->etype || !p->e->evalue) {
        return fail(p, p->e->etype ? "entity.value" : "entity.type", "required");
    }
    return VG_OK;
}

static int parse_fields(struct exc_parse *p, const struct vg_json *v)
{
    if (v->type != VG_JSON_OBJECT) {
        return fail(p, "fields", "expected an object of field name to value (glob)");
    }
    if (v->n > EXC_FIELDS_MAX) {
        return fail(p, "fields", "at most 32 field matches");
    }
    p->e->m = v->n ? vg_calloc(v->n, sizeof(*p->e->m)) : NULL;
    if (v->n && !p->e->m) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        const struct vg_json *k = &v->u.items[2 * i], *val = &v->u.items[2 * i + 1];
        char name[160];
        snprintf(name, sizeof(name), "fields.%.*s", (int)VG_MIN(k->n, 128u), k->s);
        struct tx_match *m = &p->e->m[p->e->nm++];
        int rc = get_str(p, k, "fields", 128, &m->field);
        rc = rc ? rc : get_str(p, val, name, EXC_STR_MAX, &m->glob);
        if (rc != VG_OK) {
            return rc;
        }
        static const char *const own[] = {"rule_id", "rule",   "title",   "host", "user",
                                          "src_ip",  "dst_ip", "process", "level"};
        bool alert_field = false;
        for (size_t j = 0; j < VG_ARRAY_LEN(own); j++) {
            alert_field = alert_field || !strcmp(m->field, own[j]);
        }
        p->e->needs_event = p->e->needs_event || !alert_field;
    }
    return VG_OK;
}

static int parse_expires(struct exc_parse *p, const struct vg_json *v)
{
    int64_t d;
    vg_time_t t;
    if (v->type != VG_JSON_STRING) {
        return fail(p, "expires", "expected a string: a time, a duration (2h, 7d) or \"never\"");
    }
    if (vg_str_eq(v->s, v->n, "never", 5)) {
        p->e->expires = VG_TIME_NONE;
    } else if (vg_duration_parse(v->s, v->n, &d) == VG_OK) {
        if (d <= 0) {
            return fail(p, "expires", "the duration must be positive");
        }
        if (d > (int64_t)36500 * 86400 * 1000000000) { /* also keeps now + d in range */
            return fail(p, "expires", "the duration must be at most 36500d (use \"never\")");
        }
        p->e->expires = (p->now == VG_TIME_NONE ? vg_time_now() : p->now) + d;
    } else if (vg_store_time_parse(v->s, v->n, &t) == VG_OK) {
        if (p->now != VG_TIME_NONE && t <= p->now) {
            return fail(p, "expires", "the time is in the past");
        }
        p->e->expires = t;
    } else {
        return fail(p, "expires", "not a time or duration");
    }
    return VG_OK;
}

static int parse_extra(struct exc_parse *p, const struct vg_json *k, const struct vg_json *v)
{
    if (vg_json_str_is(k, "dry_run")) {
        if (v->type != VG_JSON_TRUE && v->type != VG_JSON_FALSE) {
            return fail(p, "dry_run", "expected true or false");
        }
        if (p->dry_run) {
            *p->dry_run = v->type == VG_JSON_TRUE;
        }
        return VG_OK;
    }
    if (vg_json_str_is(k, "days")) {
        if (v->type != VG_JSON_NUMBER || !v->is_int || v->u.i < 1 || v->u.i > 3650) {
            return fail(p, "days", "expected an integer from 1 to 3650");
        }
        if (p->days) {
            *p->days = (int)v->u.i;
        }
        return VG_OK;
    }
    snprintf(p->err, p->errsz,
             "exceptions: unknown field '%.*s' (expected rule, entity, fields, expires, reason)",
             (int)VG_MIN(k->n, 64u), k->s);
    return VG_EINVAL;
}

static int parse_member(struct exc_parse *p, const struct vg_json *k, const struct vg_json *v,
                        unsigned *seen)
{
    static const char *const keys[] = {"rule", "entity", "fields", "expires", "reason"};
    for (unsigned i = 0; i < VG_ARRAY_LEN(keys); i++) {
        if (!vg_json_str_is(k, keys[i])) {
            continue;
        }
        if (*seen & (1u << i)) {
            return fail(p, keys[i], "given twice");
        }
        *seen |= 1u << i;
        switch (i) {
        case 0:
            return get_str(p, v, "rule", 256, &p->e->rule);
        case 1:
            return parse_entity(p, v);
        case 2:
            return parse_fields(p, v);
        case 3:
            return parse_expires(p, v);
        default:
            return get_str(p, v, "reason", EXC_STR_MAX, &p->e->reason);
        }
    }
    return parse_extra(p, k, v);
}

static int parse_doc(struct exc_parse *p, const struct vg_json *doc)
{
    unsigned seen = 0;
    if (doc->type != VG_JSON_OBJECT) {
        snprintf(p->err, p->errsz, "exceptions: body: expected a JSON object");
        return VG_EINVAL;
    }
    for (uint32_t i = 0; i < doc->n; i++) {
        int rc = parse_member(p, &doc->u.items[2 * i], &doc->u.items[2 * i + 1], &seen);
        if (rc != VG_OK) {
            return rc;
        }
    }
    if (!p->e->rule) {
        return fail(p, "rule", "required (a rule id, or \"*\" for every rule)");
    }
    if (!(seen & 8)) {
        return fail(p, "expires", "required (a time, a duration such as 2h, or \"never\")");
    }
    if (!p->e->reason) {
        return fail(p, "reason", "required");
    }
    return VG_OK;
}

int tx_exc_parse(const char *json, size_t len, vg_time_t now, struct tx_exc **out, bool *dry_run,
                 int *days, char *err, size_t errsz)
{
    struct vg_json_limits lim = {.max_depth = 8, .max_len = 1 << 20};
    struct vg_json_parser *jp = vg_json_parser_create(&lim);
    struct vg_arena *ar = vg_arena_create(8192);
    struct exc_parse p = {vg_calloc(1, sizeof(struct tx_exc)), now, dry_run, days, err, errsz};
    struct vg_json *doc = NULL;
    char jerr[160];
    size_t used = 0;
    int rc = jp && ar && p.e ? VG_OK : VG_ENOMEM;
    *out = NULL;
    if (rc == VG_OK) {
        rc = vg_json_parse(jp, ar, json, len, &used, &doc, jerr, sizeof(jerr));
        if (rc != VG_OK) {
            snprintf(err, errsz, "exceptions: body: %s",
                     rc == VG_EINVAL ? jerr
                     : rc == VG_EOF  ? "empty"
                                     : "incomplete or too deep JSON");
            rc = VG_EINVAL;
        } else if (used < len && json[used + strspn(json + used, " \t\r\n")] != '\0') {
            snprintf(err, errsz, "exceptions: body: offset %zu: text after the object", used);
            rc = VG_EINVAL;
        }
    }
    rc = rc ? rc : parse_doc(&p, doc);
    if (rc == VG_OK) {
        *out = p.e;
        p.e = NULL;
    }
    tx_exc_free(p.e);
    vg_arena_destroy(ar);
    vg_json_parser_destroy(jp);
    return rc;
}

int vg_triage_exception_check(const char *json, size_t len, char *err, size_t errsz)
{
    struct tx_exc *e = NULL;
    int rc = tx_exc_parse(json, len, vg_time_now(), &e, NULL, NULL, err, errsz);
    tx_exc_free(e);
    return rc;
}

/* ---------------------------------------------------------------- matching */

/* The alert's own fields; false when name is not one of them. */
static bool alert_field(const struct vg_store_alert *a, const char *name, const char **v, char *buf,
                        size_t size)
{
    *v = NULL;
    if (!strcmp(name, "rule_id") || !strcmp(name, "rule")) {
        *v = a->rule_id;
    } else if (!strcmp(name, "title")) {
        *v = a->title;
    } else if (!strcmp(name, "host")) {
        *v = a->host;
    } else if (!strcmp(name, "user")) {
        *v = a->user;
    } else if (!strcmp(name, "src_ip")) {
        *v = a->src_ip;
    } else if (!strcmp(name, "dst_ip")) {
        *v = a->dst_ip;
    } else if (!strcmp(name, "process")) {
        *v = a->process;
    } else if (!strcmp(name, "level")) {
        snprintf(buf, size, "%d", a->level);
        *v = buf;
    } else {
        return false;
    }
    return true;
}

/* A member of obj by flat ("process.name") or nested ({"process":{"name":..}}) name. */
static const struct vg_json *json_find(const struct vg_json *obj, const char *name, size_t n)
{
    if (!obj || obj->type != VG_JSON_OBJECT) {
        return NULL;
    }
    for (uint32_t i = 0; i < obj->n; i++) {
        const struct vg_json *k = &obj->u.items[2 * i];
        if (vg_str_eq(k->s, k->n, name, n)) {
            return &obj->u.items[2 * i + 1];
        }
        if (k->n < n && name[k->n] == '.' && !memcmp(k->s, name, k->n)) {
            const struct vg_json *r =
                json_find(&obj->u.items[2 * i + 1], name + k->n + 1, n - k->n - 1);
            if (r) {
                return r;
            }
        }
    }
    return NULL;
}

static bool value_match(const struct vg_json *v, const char *glob, int depth)
{
    size_t gl = strlen(glob);
    switch (v->type) {
    case VG_JSON_STRING:
    case VG_JSON_NUMBER:
        return vg_glob_match(glob, gl, v->s, v->n);
    case VG_JSON_TRUE:
        return vg_glob_match(glob, gl, "true", 4);
    case VG_JSON_FALSE:
        return vg_glob_match(glob, gl, "false", 5);
    case VG_JSON_ARRAY:
        for (uint32_t i = 0; depth < 4 && i < v->n; i++) {
            if (value_match(&v->u.items[i], glob, depth + 1)) {
                return true;
            }
        }
        return false;
    default:
        return false;
    }
}

static bool entity_match(const struct tx_exc *e, const struct vg_store_alert *a)
{
    size_t gl = strlen(e->evalue);
#define EM(s) ((s) && vg_glob_match(e->evalue, gl, (s), strlen(s)))
    switch (e->etype) {
    case TX_E_HOST:
        return EM(a->host);
    case TX_E_USER:
        return EM(a->user);
    case TX_E_IP:
        return EM(a->src_ip) || EM(a->dst_ip);
    default:
        return EM(a->process);
    }
#undef EM
}

bool tx_exc_match(const struct tx_exc *e, const struct vg_store_alert *a, struct vg_json_parser *p,
                  struct vg_arena *ar)
{
    struct vg_json *doc = NULL;
    if (strcmp(e->rule, "*") && (!a->rule_id || strcmp(e->rule, a->rule_id))) {
        return false;
    }
    if (e->evalue && !entity_match(e, a)) {
        return false;
    }
    if (e->needs_event && a->event_json && p) {
        size_t used;
        char err[64];
        if (vg_json_parse(p, ar, a->event_json, strlen(a->event_json), &used, &doc, err,
                          sizeof(err)) != VG_OK) {
            doc = NULL;
        }
    }
    for (size_t i = 0; i < e->nm; i++) {
        const char *v;
        char buf[24];
        if (alert_field(a, e->m[i].field, &v, buf, sizeof(buf))) {
            if (!v || !vg_glob_match(e->m[i].glob, strlen(e->m[i].glob), v, strlen(v))) {
                return false;
            }
            continue;
        }
        const struct vg_json *jv = json_find(doc, e->m[i].field, strlen(e->m[i].field));
        if (!jv || !value_match(jv, e->m[i].glob, 0)) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- JSON */

/* The definition only (what is stored and re-parsed on open). */
static void spec_json(const struct tx_exc *e, struct vg_sbuf *b)
{
    vg_sbuf_adds(b, "\"rule\":");
    tx_json_str(b, e->rule);
    if (e->evalue) {
        vg_sbuf_printf(b, ",\"entity\":{\"type\":\"%s\",\"value\":", tx_etype_name(e->etype));
        tx_json_str(b, e->evalue);
        vg_sbuf_addc(b, '}');
    }
    vg_sbuf_adds(b, ",\"fields\":{");
    for (size_t i = 0; i < e->nm; i++) {
        vg_sbuf_adds(b, i ? "," : "");
        tx_json_str(b, e->m[i].field);
        vg_sbuf_addc(b, ':');
        tx_json_str(b, e->m[i].glob);
    }
    vg_sbuf_addc(b, '}');
    if (e->expires == VG_TIME_NONE) {
        vg_sbuf_adds(b, ",\"expires\":\"never\"");
    } else {
        tx_json_time(b, "expires", e->expires, true);
    }
    vg_sbuf_adds(b, ",\"reason\":");
    tx_json_str(b, e->reason);
}

void tx_exc_spec_json(const struct tx_exc *e, struct vg_sbuf *b)
{
    vg_sbuf_addc(b, '{');
    spec_json(e, b);
    vg_sbuf_addc(b, '}');
}

void tx_exc_json(const struct tx_exc *e, struct vg_sbuf *b)
{
    vg_sbuf_printf(b, "{\"id\":%" PRId64 ",", e->id);
    spec_json(e, b);
    vg_sbuf_adds(b, ",\"author\":");
    tx_json_str(b, e->author);
    tx_json_time(b, "created", e->created, true);
    bool active = e->expires == VG_TIME_NONE || e->expires > vg_time_now();
    vg_sbuf_printf(b, ",\"active\":%s}", active ? "true" : "false");
}
