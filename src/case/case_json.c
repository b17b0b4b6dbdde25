/*
 * case_json.c — the JSON inputs of the case API and of playbook steps: objects read into
 * struct vg_case_new / _update / _observable / _task. Every error names the field
 * ("cases: field 'severity': expected 1-4 or low|medium|high|critical"); unknown fields are
 * errors, so a typo is not silently ignored. Strings are copied into the caller's arena
 * (NUL-terminated); tags and custom fields are re-serialised as JSON text.
 */
#include "case/case_int.h"

#include <stdio.h>
#include <string.h>

/* A field's value as an arena string; null gives "" when nullable, else an error. */
static int get_str(const struct vg_json *v, const char *field, struct vg_arena *a, bool nullable,
                   const char **out, char *err, size_t errsz)
{
    if (v->type == VG_JSON_NULL && nullable) {
        *out = "";
        return VG_OK;
    }
    if (v->type != VG_JSON_STRING || memchr(v->s, '\0', v->n)) {
        snprintf(err, errsz, "cases: field '%s': expected a string", field);
        return VG_EINVAL;
    }
    *out = vg_arena_strndup(a, v->s, v->n);
    return *out ? VG_OK : VG_ENOMEM;
}

static int get_bool(const struct vg_json *v, const char *field, bool *out, char *err, size_t errsz)
{
    if (v->type != VG_JSON_TRUE && v->type != VG_JSON_FALSE) {
        snprintf(err, errsz, "cases: field '%s': expected true or false", field);
        return VG_EINVAL;
    }
    *out = v->type == VG_JSON_TRUE;
    return VG_OK;
}

/* A JSON sub-value re-serialised into the arena (tags, custom). */
static int get_json(const struct vg_json *v, const char *field, int type, struct vg_arena *a,
                    const char **out, char *err, size_t errsz)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    if (v->type != type) {
        snprintf(err, errsz, "cases: field '%s': expected %s", field,
                 type == VG_JSON_ARRAY ? "an array of strings" : "an object");
        return VG_EINVAL;
    }
    vg_json_write(v, &b);
    *out = b.err ? NULL : vg_arena_strndup(a, b.p, b.len);
    vg_sbuf_fini(&b);
    return *out ? VG_OK : VG_ENOMEM;
}

/*
 * An enumeration given by name (or, for numbered ones, by TheHive's number): names[] maps
 * numbers (index) to our values; parse() maps names.
 */
static int get_enum(const struct vg_json *v, const char *field, int (*parse)(const char *, int *),
                    const int *numbers, size_t nnum, const char *expect, int *out, char *err,
                    size_t errsz)
{
    char name[32];
    if (v->type == VG_JSON_STRING && v->n < sizeof(name)) {
        memcpy(name, v->s, v->n);
        name[v->n] = '\0';
        if (parse(name, out) == VG_OK) {
            return VG_OK;
        }
    } else if (v->type == VG_JSON_NUMBER && v->is_int && v->u.i >= 0 && (size_t)v->u.i < nnum) {
        *out = numbers[v->u.i];
        if (*out) {
            return VG_OK;
        }
    }
    snprintf(err, errsz, "cases: field '%s': expected %s", field, expect);
    return VG_EINVAL;
}

static const int sev_numbers[] = {0, 1, 2, 3, 4};
/* TheHive numbers TLP 0 white, 1 green, 2 amber, 3 red, 4 amber+strict; PAP 0-3 likewise. */
static const int tlp_numbers[] = {VG_CASE_TLP_CLEAR, VG_CASE_TLP_GREEN, VG_CASE_TLP_AMBER,
                                  VG_CASE_TLP_RED, VG_CASE_TLP_AMBER_STRICT};
static const int pap_numbers[] = {VG_CASE_PAP_CLEAR, VG_CASE_PAP_GREEN, VG_CASE_PAP_AMBER,
                                  VG_CASE_PAP_RED};

#define SEV_EXPECT     "1-4 or low|medium|high|critical"
#define TLP_EXPECT     "clear|white|green|amber|amber+strict|red"
#define PAP_EXPECT     "clear|white|green|amber|red"
#define STATUS_EXPECT  "new|in_progress|resolved"
#define VERDICT_EXPECT "true_positive|false_positive|benign|duplicate"
#define TASK_EXPECT    "waiting|in_progress|completed|cancelled"

static int need_object(const struct vg_json *in, char *err, size_t errsz)
{
    if (!in || in->type != VG_JSON_OBJECT) {
        snprintf(err, errsz, "cases: the body must be a JSON object");
        return VG_EINVAL;
    }
    return VG_OK;
}

static int unknown(const struct vg_json *k, char *err, size_t errsz)
{
    snprintf(err, errsz, "cases: field '%.*s': unknown field", (int)VG_MIN(k->n, 64), k->s);
    return VG_EINVAL;
}

static bool key_is(const struct vg_json *k, const char *name)
{
    return k->n == strlen(name) && !memcmp(k->s, name, k->n);
}

/* The members shared by new and update; *matched says whether k was one of them. */
static int common_member(const struct vg_json *k, const struct vg_json *v, struct vg_arena *a,
                         struct vg_case_new *c, bool *matched, char *err, size_t errsz)
{
    *matched = true;
    if (key_is(k, "title")) {
        return get_str(v, "title", a, false, &c->title, err, errsz);
    } else if (key_is(k, "description")) {
        return get_str(v, "description", a, true, &c->description, err, errsz);
    } else if (key_is(k, "severity")) {
        return get_enum(v, "severity", vg_case_severity_parse, sev_numbers, 5, SEV_EXPECT,
                        &c->severity, err, errsz);
    } else if (key_is(k, "tlp")) {
        return get_enum(v, "tlp", vg_case_tlp_parse, tlp_numbers, 5, TLP_EXPECT, &c->tlp, err,
                        errsz);
    } else if (key_is(k, "pap")) {
        return get_enum(v, "pap", vg_case_pap_parse, pap_numbers, 4, PAP_EXPECT, &c->pap, err,
                        errsz);
    } else if (key_is(k, "tags")) {
        return get_json(v, "tags", VG_JSON_ARRAY, a, &c->tags, err, errsz);
    } else if (key_is(k, "custom") || key_is(k, "customFields")) {
        return get_json(v, "custom", VG_JSON_OBJECT, a, &c->custom, err, errsz);
    } else if (key_is(k, "assignee")) {
        return get_str(v, "assignee", a, true, &c->assignee, err, errsz);
    }
    *matched = false;
    return VG_OK;
}

int vg_case_parse_new(const struct vg_json *in, struct vg_arena *a, struct vg_case_new *out,
                      char *err, size_t errsz)
{
    memset(out, 0, sizeof(*out));
    int rc = need_object(in, err, errsz);
    for (uint32_t i = 0; rc == VG_OK && i < in->n; i++) {
        bool matched = false;
        const struct vg_json *k = &in->u.items[2 * i];
        rc = common_member(k, &in->u.items[2 * i + 1], a, out, &matched, err, errsz);
        rc = rc == VG_OK && !matched ? unknown(k, err, errsz) : rc;
    }
    if (rc == VG_OK && (!out->title || !*out->title)) {
        snprintf(err, errsz, "cases: field 'title': required");
        rc = VG_EINVAL;
    }
    return rc;
}

static int update_member(const struct vg_json *k, const struct vg_json *v, struct vg_arena *a,
                         struct vg_case_update *u, char *err, size_t errsz)
{
    if (key_is(k, "status")) {
        return get_enum(v, "status", vg_case_status_parse, NULL, 0, STATUS_EXPECT, &u->status, err,
                        errsz);
    } else if (key_is(k, "verdict") || key_is(k, "resolution")) {
        return get_enum(v, "verdict", vg_case_verdict_parse, NULL, 0, VERDICT_EXPECT, &u->verdict,
                        err, errsz);
    } else if (key_is(k, "summary")) {
        return get_str(v, "summary", a, true, &u->summary, err, errsz);
    } else if (key_is(k, "root_cause")) {
        return get_str(v, "root_cause", a, true, &u->root_cause, err, errsz);
    } else if (key_is(k, "lessons_learned")) {
        return get_str(v, "lessons_learned", a, true, &u->lessons_learned, err, errsz);
    }
    return unknown(k, err, errsz);
}

int vg_case_parse_update(const struct vg_json *in, struct vg_arena *a, struct vg_case_update *out,
                         char *err, size_t errsz)
{
    struct vg_case_new c = {0};
    memset(out, 0, sizeof(*out));
    int rc = need_object(in, err, errsz);
    for (uint32_t i = 0; rc == VG_OK && i < in->n; i++) {
        bool matched = false;
        const struct vg_json *k = &in->u.items[2 * i], *v = &in->u.items[2 * i + 1];
        rc = common_member(k, v, a, &c, &matched, err, errsz);
        rc = rc == VG_OK && !matched ? update_member(k, v, a, out, err, errsz) : rc;
    }
    out->title = c.title;
    out->description = c.description;
    out->severity = c.severity;
    out->tlp = c.tlp;
    out->pap = c.pap;
    out->tags = c.tags;
    out->custom = c.custom;
    out->assignee = c.assignee;
    return rc;
}

static int obs_member(const struct vg_json *k, const struct vg_json *v, struct vg_arena *a,
                      struct vg_case_observable *o, char *err, size_t errsz)
{
    bool b = false;
    int rc = VG_OK;
    if (key_is(k, "type") || key_is(k, "dataType")) {
        return get_str(v, "type", a, false, &o->type, err, errsz);
    } else if (key_is(k, "value") || key_is(k, "data")) {
        return get_str(v, "value", a, false, &o->value, err, errsz);
    } else if (key_is(k, "ioc")) {
        rc = get_bool(v, "ioc", &b, err, errsz);
        o->ioc = b ? 1 : 0;
        return rc;
    } else if (key_is(k, "sighted")) {
        return get_bool(v, "sighted", &o->sighted, err, errsz);
    } else if (key_is(k, "tags")) {
        return get_json(v, "tags", VG_JSON_ARRAY, a, &o->tags, err, errsz);
    } else if (key_is(k, "message")) {
        return get_str(v, "message", a, true, &o->message, err, errsz);
    }
    return unknown(k, err, errsz);
}

int vg_case_parse_observable(const struct vg_json *in, struct vg_arena *a,
                             struct vg_case_observable *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof(*out));
    out->ioc = -1;
    int rc = need_object(in, err, errsz);
    for (uint32_t i = 0; rc == VG_OK && i < in->n; i++) {
        rc = obs_member(&in->u.items[2 * i], &in->u.items[2 * i + 1], a, out, err, errsz);
    }
    if (rc == VG_OK && (!out->value || !*out->value)) {
        snprintf(err, errsz, "cases: field 'value': required");
        rc = VG_EINVAL;
    }
    return rc;
}

static int task_member(const struct vg_json *k, const struct vg_json *v, struct vg_arena *a,
                       struct vg_case_task *t, char *err, size_t errsz)
{
    if (key_is(k, "title")) {
        return get_str(v, "title", a, false, &t->title, err, errsz);
    } else if (key_is(k, "group")) {
        return get_str(v, "group", a, true, &t->group, err, errsz);
    } else if (key_is(k, "description")) {
        return get_str(v, "description", a, true, &t->description, err, errsz);
    } else if (key_is(k, "status")) {
        return get_enum(v, "status", vg_case_task_status_parse, NULL, 0, TASK_EXPECT, &t->status,
                        err, errsz);
    } else if (key_is(k, "assignee")) {
        return get_str(v, "assignee", a, true, &t->assignee, err, errsz);
    }
    return unknown(k, err, errsz);
}

int vg_case_parse_task(const struct vg_json *in, struct vg_arena *a, struct vg_case_task *out,
                       char *err, size_t errsz)
{
    memset(out, 0, sizeof(*out));
    int rc = need_object(in, err, errsz);
    for (uint32_t i = 0; rc == VG_OK && i < in->n; i++) {
        rc = task_member(&in->u.items[2 * i], &in->u.items[2 * i + 1], a, out, err, errsz);
    }
    return rc;
}
