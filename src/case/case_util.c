/*
 * case_util.c — small helpers of the case module: JSON output members, validation of the
 * text fields, and the canonical forms of tag arrays and custom-field objects (stored as
 * JSON text in cases.db).
 */
#include "case/case_int.h"

#include <stdio.h>
#include <string.h>

void case_json_member_str(struct vg_sbuf *b, const char *key, const char *v, bool first)
{
    if (!first) {
        vg_sbuf_addc(b, ',');
    }
    vg_sbuf_add_json_str(b, key, strlen(key));
    vg_sbuf_addc(b, ':');
    if (v) {
        vg_sbuf_add_json_str(b, v, strlen(v));
    } else {
        vg_sbuf_adds(b, "null");
    }
}

/* A text column as a JSON string member (NULL column: null). */
void case_json_col(struct vg_sbuf *b, const char *key, sqlite3_stmt *st, int i, bool first)
{
    case_json_member_str(b, key, (const char *)sqlite3_column_text(st, i), first);
}

/* ,"key":"RFC 3339" (0 or VG_TIME_NONE: null). */
void case_json_member_time(struct vg_sbuf *b, const char *key, int64_t t)
{
    char ts[48];
    if (t == 0 || t == VG_TIME_NONE) {
        case_json_member_str(b, key, NULL, false);
        return;
    }
    vg_time_format(t, ts, sizeof(ts));
    case_json_member_str(b, key, ts, false);
}

int case_check_text(const char *field, const char *s, size_t max, bool required, char *err,
                    size_t errsz)
{
    size_t n = s ? strlen(s) : 0;
    if (required && n == 0) {
        snprintf(err, errsz, "cases: field '%s': required", field);
        return VG_EINVAL;
    }
    if (n > max) {
        snprintf(err, errsz, "cases: field '%s': longer than %zu bytes", field, max);
        return VG_EINVAL;
    }
    if (s && !vg_utf8_valid(s, n)) {
        snprintf(err, errsz, "cases: field '%s': not valid UTF-8", field);
        return VG_EINVAL;
    }
    return VG_OK;
}

int case_json_parse(const char *text, size_t len, struct vg_arena *a, struct vg_json **out,
                    char *err, size_t errsz)
{
    struct vg_json_limits lim = {.max_depth = 32, .max_len = 16u << 20};
    struct vg_json_parser *p = vg_json_parser_create(&lim);
    size_t used = 0;
    char e[160] = "";
    if (!p) {
        snprintf(err, errsz, "cases: out of memory");
        return VG_ENOMEM;
    }
    int rc = vg_json_parse(p, a, text, len, &used, out, e, sizeof(e));
    vg_json_parser_destroy(p);
    if (rc == VG_OK) {
        for (size_t i = used; i < len; i++) {
            if (!strchr(" \t\r\n", text[i])) {
                snprintf(e, sizeof(e), "offset %zu: data after the JSON value", i);
                rc = VG_EINVAL;
                break;
            }
        }
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "invalid JSON: %s", rc == VG_EOF ? "empty" : e);
        return rc == VG_ENOMEM ? rc : VG_EINVAL;
    }
    return VG_OK;
}

static bool tag_seen(const struct vg_json *arr, uint32_t upto, const struct vg_json *t)
{
    for (uint32_t i = 0; i < upto; i++) {
        const struct vg_json *o = &arr->u.items[i];
        if (o->n == t->n && !memcmp(o->s, t->s, t->n)) {
            return true;
        }
    }
    return false;
}

/* Write the string items of arr not seen before (in arr or among skip's items) to out. */
static size_t tags_write(const struct vg_json *arr, const struct vg_json *skip, size_t count,
                         struct vg_sbuf *out)
{
    for (uint32_t i = 0; i < arr->n; i++) {
        const struct vg_json *t = &arr->u.items[i];
        if (tag_seen(arr, i, t) || (skip && tag_seen(skip, skip->n, t))) {
            continue;
        }
        vg_sbuf_adds(out, count++ ? "," : "");
        vg_sbuf_add_json_str(out, t->s, t->n);
    }
    return count;
}

static int tags_check(const char *field, const struct vg_json *v, char *err, size_t errsz)
{
    if (v->type != VG_JSON_ARRAY) {
        snprintf(err, errsz, "cases: field '%s': expected an array of strings", field);
        return VG_EINVAL;
    }
    if (v->n > CASE_TAGS_MAX) {
        snprintf(err, errsz, "cases: field '%s': more than %d tags", field, CASE_TAGS_MAX);
        return VG_EINVAL;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        const struct vg_json *t = &v->u.items[i];
        if (t->type != VG_JSON_STRING || !t->n || t->n > CASE_TAG_MAX ||
            !vg_utf8_valid(t->s, t->n) || memchr(t->s, '\0', t->n)) {
            snprintf(err, errsz, "cases: field '%s': item %u: expected a tag of 1-%d bytes", field,
                     i, CASE_TAG_MAX);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

/*
 * Parse field's JSON text into a new arena *a (the caller destroys it; NULL when out of
 * memory); a syntax error names the field.
 */
static int field_parse(const char *field, const char *json, struct vg_arena **a, struct vg_json **v,
                       char *err, size_t errsz)
{
    char e[200];
    *a = vg_arena_create(4096);
    int rc = *a ? case_json_parse(json, strlen(json), *a, v, e, sizeof(e)) : VG_ENOMEM;
    if (rc == VG_EINVAL) {
        snprintf(err, errsz, "cases: field '%s': %s", field, e);
    }
    return rc;
}

int case_tags_norm(const char *field, const char *json, struct vg_sbuf *out, char *err,
                   size_t errsz)
{
    struct vg_arena *a = NULL;
    struct vg_json *v = NULL;
    if (!json || !*json) {
        vg_sbuf_adds(out, "[]");
        return out->err;
    }
    int rc = field_parse(field, json, &a, &v, err, errsz);
    rc = rc ? rc : tags_check(field, v, err, errsz);
    if (rc == VG_OK) {
        vg_sbuf_addc(out, '[');
        tags_write(v, NULL, 0, out);
        vg_sbuf_addc(out, ']');
        rc = out->err;
    }
    vg_arena_destroy(a);
    return rc;
}

int case_tags_merge(const char *ta, const char *tb, struct vg_sbuf *out)
{
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *va = NULL, *vb = NULL;
    char e[64];
    int rc = a ? VG_OK : VG_ENOMEM;
    if (rc == VG_OK) {
        rc = case_json_parse(ta, strlen(ta), a, &va, e, sizeof(e));
    }
    if (rc == VG_OK) {
        rc = case_json_parse(tb, strlen(tb), a, &vb, e, sizeof(e));
    }
    if (rc == VG_OK && (va->type != VG_JSON_ARRAY || vb->type != VG_JSON_ARRAY)) {
        rc = VG_EINVAL;
    }
    if (rc == VG_OK) {
        vg_sbuf_addc(out, '[');
        size_t n = tags_write(va, NULL, 0, out);
        n = tags_write(vb, va, n, out);
        vg_sbuf_addc(out, ']');
        rc = n > CASE_TAGS_MAX * 2 ? VG_ELIMIT : out->err;
    }
    vg_arena_destroy(a);
    return rc;
}

int case_object_norm(const char *field, const char *json, struct vg_sbuf *out, char *err,
                     size_t errsz)
{
    struct vg_arena *a = NULL;
    struct vg_json *v = NULL;
    if (!json || !*json) {
        vg_sbuf_adds(out, "{}");
        return out->err;
    }
    if (strlen(json) > CASE_CUSTOM_MAX) {
        snprintf(err, errsz, "cases: field '%s': longer than %d bytes", field, CASE_CUSTOM_MAX);
        return VG_EINVAL;
    }
    int rc = field_parse(field, json, &a, &v, err, errsz);
    if (rc == VG_OK && v->type != VG_JSON_OBJECT) {
        snprintf(err, errsz, "cases: field '%s': expected an object", field);
        rc = VG_EINVAL;
    }
    if (rc == VG_OK) {
        vg_json_write(v, out);
        rc = out->err;
    }
    vg_arena_destroy(a);
    return rc;
}
