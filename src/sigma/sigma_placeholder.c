/*
 * sigma_placeholder.c — user values for `%name%` placeholders (the `expand` modifier).
 *
 * File format (YAML): a map of placeholder name → value or list of values. Values are Sigma
 * strings (wildcards allowed), e.g.
 *   Administrators: ['admin*', 'root']
 *   DomainControllers: dc01.corp.example
 * A rule whose placeholders are not all defined reports `needs-placeholder`.
 */
#include "sigma/sigma_int.h"

#include <string.h>

struct ph_entry {
    char *name;
    struct slist vals;
};

struct vg_sigma_placeholders {
    struct vg_arena *arena;
    uint32_t n;
    struct ph_entry *e;
};

const struct slist *sigma_placeholder_get(const struct vg_sigma_placeholders *p, const char *name,
                                          size_t n)
{
    for (uint32_t i = 0; i < p->n; i++) {
        if (strlen(p->e[i].name) == n && memcmp(p->e[i].name, name, n) == 0) {
            return &p->e[i].vals;
        }
    }
    return NULL;
}

static int add_value(struct vg_arena *a, struct slist *l, const struct vg_yaml_node *v)
{
    struct sstr s;
    int rc = sstr_parse_plain(a, v->str, v->len, false, &s);
    return rc != VG_OK ? rc : slist_push(a, l, &s);
}

int vg_sigma_placeholders_load(const char *path, struct vg_sigma_placeholders **out, char *err,
                               size_t errsz)
{
    char *text = NULL;
    size_t len;
    struct vg_yaml_file *yf = NULL;
    struct vg_sigma_placeholders *p = NULL;
    char yerr[256];
    int rc = vg_file_read(path, 64u << 20, &text, &len);
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: cannot read: %s", path, vg_strerror(rc));
        return rc;
    }
    if ((rc = vg_yaml_parse(text, len, &yf, yerr, sizeof(yerr))) != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, yerr);
        goto out;
    }
    const struct vg_yaml_node *root = yf->ndocs ? yf->docs[0] : NULL;
    if (!root || root->type != VG_YAML_MAP) {
        snprintf(err, errsz, "%s: expected a map of placeholder name to values", path);
        rc = VG_EINVAL;
        goto out;
    }
    rc = VG_ENOMEM;
    if (!(p = vg_calloc(1, sizeof(*p))) || !(p->arena = vg_arena_create(16384)) ||
        !(p->e = vg_arena_calloc(p->arena, (root->n ? root->n : 1) * sizeof(*p->e)))) {
        goto out;
    }
    for (size_t i = 0; i < root->n; i++) {
        const struct vg_yaml_node *k = root->items[2 * i], *v = root->items[2 * i + 1];
        struct ph_entry *e = &p->e[p->n++];
        const char *name = k->str;
        size_t nl = k->len;
        if (nl >= 2 && name[0] == '%' && name[nl - 1] == '%') {
            name++; /* accept "%Name%" keys too */
            nl -= 2;
        }
        if (!(e->name = vg_arena_strndup(p->arena, name, nl))) {
            goto out;
        }
        if (v->type == VG_YAML_SCALAR) {
            rc = add_value(p->arena, &e->vals, v);
        } else if (v->type == VG_YAML_SEQ) {
            rc = VG_OK;
            for (size_t j = 0; j < v->n && rc == VG_OK; j++) {
                if (v->items[j]->type != VG_YAML_SCALAR) {
                    snprintf(err, errsz, "%s:%u: placeholder values must be strings", path,
                             v->items[j]->line);
                    rc = VG_EINVAL;
                    goto out;
                }
                rc = add_value(p->arena, &e->vals, v->items[j]);
            }
        } else {
            snprintf(err, errsz, "%s:%u: placeholder '%s' must be a value or a list", path, v->line,
                     e->name);
            rc = VG_EINVAL;
            goto out;
        }
        if (rc != VG_OK) {
            goto out;
        }
    }
    rc = VG_OK;
    *out = p;
    p = NULL;
out:
    if (rc == VG_ENOMEM) {
        snprintf(err, errsz, "%s: out of memory", path);
    }
    vg_sigma_placeholders_destroy(p);
    vg_yaml_file_destroy(yf);
    vg_free(text);
    return rc;
}

void vg_sigma_placeholders_destroy(struct vg_sigma_placeholders *p)
{
    if (!p) {
        return;
    }
    vg_arena_destroy(p->arena);
    vg_free(p);
}
