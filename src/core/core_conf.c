/*
 * core_conf.c — table-driven configuration binding.
 *
 * A module declares its keys once (struct vg_conf_field). From that table this file fills
 * defaults, binds a YAML map (rejecting unknown keys and out-of-range values with the file,
 * line and key), applies VIGIE_<KEY> environment overrides, and prints the schema for
 * `vigie config schema`. Secret values are never printed.
 */
#include "core/core.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void vg_strlist_free(struct vg_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        vg_free(l->v[i]);
    }
    vg_free(l->v);
    l->v = NULL;
    l->n = 0;
}

int vg_strlist_add(struct vg_strlist *l, const char *s)
{
    char **nv = vg_realloc(l->v, (l->n + 1) * sizeof(*nv));
    if (!nv) {
        return VG_ENOMEM;
    }
    l->v = nv;
    if (!(l->v[l->n] = vg_strdup(s))) {
        return VG_ENOMEM;
    }
    l->n++;
    return VG_OK;
}

static const char *type_name(enum vg_conf_type t)
{
    static const char *const names[] = {"bool", "int", "string", "duration", "list", "enum"};
    return names[t];
}

/* Set one field from text (from YAML or the environment). */
static int set_value(const struct vg_conf_field *f, void *obj, const char *text, size_t len,
                     char *err, size_t errsz, const char *where)
{
    char *dst = (char *)obj + f->offset;
    int64_t v;
    switch (f->type) {
    case VG_CONF_BOOL:
        if (len == 4 && !memcmp(text, "true", 4)) {
            *(bool *)dst = true;
        } else if (len == 5 && !memcmp(text, "false", 5)) {
            *(bool *)dst = false;
        } else {
            snprintf(err, errsz, "%s: %s: expected true or false", where, f->key);
            return VG_EINVAL;
        }
        return VG_OK;
    case VG_CONF_INT:
    case VG_CONF_DURATION:
        if (f->type == VG_CONF_INT ? vg_parse_i64(text, len, &v) != VG_OK
                                   : vg_duration_parse(text, len, &v) != VG_OK) {
            snprintf(err, errsz, "%s: %s: expected %s, got '%.*s'", where, f->key,
                     f->type == VG_CONF_INT ? "an integer" : "a duration like 30s, 5m, 1h",
                     (int)VG_MIN(len, 64), text);
            return VG_EINVAL;
        }
        if (f->min <= f->max && (v < f->min || v > f->max)) {
            snprintf(err, errsz, "%s: %s: %lld is outside [%lld, %lld]", where, f->key,
                     (long long)v, (long long)f->min, (long long)f->max);
            return VG_EINVAL;
        }
        *(int64_t *)dst = v;
        return VG_OK;
    case VG_CONF_STR: {
        char *s = vg_strndup(text, len);
        if (!s) {
            return VG_ENOMEM;
        }
        vg_free(*(char **)dst);
        *(char **)dst = s;
        return VG_OK;
    }
    case VG_CONF_ENUM:
        for (int i = 0; f->enum_names[i]; i++) {
            if (strlen(f->enum_names[i]) == len && !memcmp(f->enum_names[i], text, len)) {
                *(int *)dst = i;
                return VG_OK;
            }
        }
        snprintf(err, errsz, "%s: %s: '%.*s' is not one of the allowed values", where, f->key,
                 (int)VG_MIN(len, 64), text);
        return VG_EINVAL;
    case VG_CONF_STRLIST: {
        /* comma-separated text form (defaults, environment) */
        struct vg_strlist *l = (struct vg_strlist *)dst;
        vg_strlist_free(l);
        size_t i = 0;
        while (i < len) {
            size_t j = i;
            while (j < len && text[j] != ',') {
                j++;
            }
            if (j > i) {
                char *s = vg_strndup(text + i, j - i);
                if (!s || vg_strlist_add(l, s) != VG_OK) {
                    vg_free(s);
                    return VG_ENOMEM;
                }
                vg_free(s);
            }
            i = j + 1;
        }
        return VG_OK;
    }
    }
    return VG_EINVAL;
}

int vg_conf_defaults(const struct vg_conf_field *table, size_t n, void *obj, char *err,
                     size_t errsz)
{
    for (size_t i = 0; i < n; i++) {
        const char *d = table[i].defval ? table[i].defval : "";
        if (!table[i].defval && table[i].type != VG_CONF_STR && table[i].type != VG_CONF_STRLIST) {
            continue;
        }
        if (table[i].type == VG_CONF_STR && !table[i].defval) {
            continue;
        }
        int rc = set_value(&table[i], obj, d, strlen(d), err, errsz, "default");
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* Find the YAML node at a dotted path. */
static const struct vg_yaml_node *find_path(const struct vg_yaml_node *root, const char *key)
{
    char seg[128];
    const struct vg_yaml_node *cur = root;
    while (cur && *key) {
        const char *dot = strchr(key, '.');
        size_t l = dot ? (size_t)(dot - key) : strlen(key);
        if (l >= sizeof(seg)) {
            return NULL;
        }
        memcpy(seg, key, l);
        seg[l] = '\0';
        cur = vg_yaml_get(cur, seg);
        key += l + (dot ? 1 : 0);
    }
    return cur;
}

/* Reject keys that no table entry names (typos must not be silently ignored). */
static int check_unknown(const struct vg_conf_field *table, size_t n,
                         const struct vg_yaml_node *map, const char *prefix, const char *path,
                         char *err, size_t errsz)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct vg_yaml_node *k = map->items[2 * i], *v = map->items[2 * i + 1];
        char full[256];
        snprintf(full, sizeof(full), "%s%s%s", prefix, *prefix ? "." : "", k->str);
        bool exact = false, parent = false;
        size_t fl = strlen(full);
        for (size_t j = 0; j < n; j++) {
            if (!strcmp(table[j].key, full)) {
                exact = true;
            } else if (!strncmp(table[j].key, full, fl) && table[j].key[fl] == '.') {
                parent = true;
            }
        }
        if (exact) {
            continue;
        }
        if (parent && v->type == VG_YAML_MAP) {
            int rc = check_unknown(table, n, v, full, path, err, errsz);
            if (rc != VG_OK) {
                return rc;
            }
            continue;
        }
        snprintf(err, errsz, "%s:%u: unknown configuration key '%s'", path, k->line, full);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int bind_node(const struct vg_conf_field *f, const struct vg_yaml_node *v, void *obj,
                     const char *path, char *err, size_t errsz)
{
    char where[300];
    snprintf(where, sizeof(where), "%s:%u", path, v->line);
    if (f->type == VG_CONF_STRLIST) {
        struct vg_strlist *l = (struct vg_strlist *)((char *)obj + f->offset);
        if (v->type == VG_YAML_SCALAR) {
            return set_value(f, obj, v->str, v->len, err, errsz, where);
        }
        if (v->type != VG_YAML_SEQ) {
            snprintf(err, errsz, "%s: %s: expected a list", where, f->key);
            return VG_EINVAL;
        }
        vg_strlist_free(l);
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i]->type != VG_YAML_SCALAR) {
                snprintf(err, errsz, "%s:%u: %s: list items must be scalars", path,
                         v->items[i]->line, f->key);
                return VG_EINVAL;
            }
            if (vg_strlist_add(l, v->items[i]->str) != VG_OK) {
                return VG_ENOMEM;
            }
        }
        return VG_OK;
    }
    if (v->type != VG_YAML_SCALAR) {
        snprintf(err, errsz, "%s: %s: expected a %s value", where, f->key, type_name(f->type));
        return VG_EINVAL;
    }
    return set_value(f, obj, v->str, v->len, err, errsz, where);
}

int vg_conf_bind(const struct vg_conf_field *table, size_t n, const struct vg_yaml_node *root,
                 const char *path, void *obj, char *err, size_t errsz)
{
    int rc;
    if (root && root->type != VG_YAML_MAP && !vg_yaml_is_null(root)) {
        snprintf(err, errsz, "%s:%u: configuration must be a map", path, root->line);
        return VG_EINVAL;
    }
    if (root && root->type == VG_YAML_MAP) {
        if ((rc = check_unknown(table, n, root, "", path, err, errsz)) != VG_OK) {
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct vg_yaml_node *v = root ? find_path(root, table[i].key) : NULL;
        if (v && (rc = bind_node(&table[i], v, obj, path, err, errsz)) != VG_OK) {
            return rc;
        }
        char env[160] = "VIGIE_";
        size_t e = 6;
        for (const char *k = table[i].key; *k && e + 1 < sizeof(env); k++) {
            env[e++] = (*k == '.' || *k == '-') ? '_' : (char)toupper((unsigned char)*k);
        }
        env[e] = '\0';
        const char *ev = getenv(env);
        if (ev && (rc = set_value(&table[i], obj, ev, strlen(ev), err, errsz, env)) != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

void vg_conf_release(const struct vg_conf_field *table, size_t n, void *obj)
{
    for (size_t i = 0; i < n; i++) {
        char *dst = (char *)obj + table[i].offset;
        if (table[i].type == VG_CONF_STR) {
            vg_free(*(char **)dst);
            *(char **)dst = NULL;
        } else if (table[i].type == VG_CONF_STRLIST) {
            vg_strlist_free((struct vg_strlist *)dst);
        }
    }
}

void vg_conf_schema_print(const struct vg_conf_field *table, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        const struct vg_conf_field *f = &table[i];
        fprintf(out, "# %s\n#   type: %s", f->description, type_name(f->type));
        if (f->min <= f->max && (f->type == VG_CONF_INT || f->type == VG_CONF_DURATION)) {
            fprintf(out, ", range [%lld, %lld]", (long long)f->min, (long long)f->max);
        }
        if (f->type == VG_CONF_ENUM) {
            fprintf(out, ", one of:");
            for (int k = 0; f->enum_names[k]; k++) {
                fprintf(out, " %s", f->enum_names[k]);
            }
        }
        fprintf(out, "%s%s\n", f->reloadable ? ", reloadable" : "", f->secret ? ", secret" : "");
        fprintf(out, "%s: %s\n\n", f->key,
                f->secret ? "<secret>" : (f->defval && *f->defval ? f->defval : "\"\""));
    }
}
