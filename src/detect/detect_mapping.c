/*
 * detect_mapping.c — the logsource mapping: which events each Sigma logsource selects and
 * how Sigma field names are renamed for them. Loaded from YAML (the embedded default is
 * data/sigma/mapping.yml); every error names the file and line.
 */
#include "detect/detect_int.h"

#include <string.h>

struct vg_embedded_file {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct vg_embedded_file vg_sigma_data_files[];

static const char *const kind_names[] = {"generic", "windows", "linux", "web"};

struct vg_mapping *mapping_ref(const struct vg_mapping *m)
{
    struct vg_mapping *mm = (struct vg_mapping *)m;
    atomic_fetch_add(&mm->refs, 1);
    return mm;
}

void vg_mapping_destroy(struct vg_mapping *m)
{
    if (!m || atomic_fetch_sub(&m->refs, 1) != 1) {
        return;
    }
    vg_arena_destroy(m->arena);
    vg_free(m);
}

int mapping_product_kind(const struct vg_mapping *m, const char *product)
{
    for (uint32_t i = 0; product && i < m->nkinds; i++) {
        if (!strcmp(m->kind_product[i], product)) {
            return m->kind_value[i];
        }
    }
    return -1;
}

const char *route_map_field(const struct route *r, const char *sigma_field)
{
    for (uint32_t i = 0; i < r->nfmap; i++) {
        if (!strcmp(r->fmap_from[i], sigma_field)) {
            return r->fmap_to[i];
        }
    }
    return sigma_field;
}

static int kind_parse(const char *s)
{
    for (int i = 0; i < (int)VG_ARRAY_LEN(kind_names); i++) {
        if (!strcmp(s, kind_names[i])) {
            return i;
        }
    }
    return -1;
}

#define MERR(line, ...)                                                                            \
    do {                                                                                           \
        char m_[256];                                                                              \
        snprintf(m_, sizeof(m_), __VA_ARGS__);                                                     \
        snprintf(err, errsz, "%s:%u: %s", path, (unsigned)(line), m_);                             \
        return VG_EINVAL;                                                                          \
    } while (0)

static const char *adup(struct vg_arena *a, const struct vg_yaml_node *n)
{
    return n && n->type == VG_YAML_SCALAR ? vg_arena_strndup(a, n->str, n->len) : NULL;
}

static int parse_cond(struct vg_mapping *m, const struct vg_yaml_node *k,
                      const struct vg_yaml_node *v, struct route_cond *c, const char *path,
                      char *err, size_t errsz)
{
    c->field = vg_field_intern(k->str, k->len);
    if (c->field == VG_FIELD_NONE) {
        return VG_ENOMEM;
    }
    const struct vg_yaml_node *const *items = (const struct vg_yaml_node *const *)&v;
    size_t n = 1;
    if (v->type == VG_YAML_SEQ) {
        items = (const struct vg_yaml_node *const *)v->items;
        n = v->n;
    } else if (v->type != VG_YAML_SCALAR) {
        MERR(v->line, "condition '%s' must be a value or a list of values", k->str);
    }
    if (n == 1 && items[0]->type == VG_YAML_SCALAR && !strcmp(items[0]->str, "*")) {
        c->any = true;
        return VG_OK;
    }
    c->vals = vg_arena_alloc(m->arena, (n ? n : 1) * sizeof(*c->vals));
    c->lens = vg_arena_alloc(m->arena, (n ? n : 1) * sizeof(*c->lens));
    if (!c->vals || !c->lens) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i]->type != VG_YAML_SCALAR) {
            MERR(items[i]->line, "condition values must be scalars");
        }
        char *f = vg_arena_alloc(m->arena, items[i]->len + 1);
        if (!f) {
            return VG_ENOMEM;
        }
        vg_fold(f, items[i]->str, items[i]->len);
        f[items[i]->len] = '\0';
        c->vals[c->nvals] = f;
        c->lens[c->nvals] = (uint32_t)items[i]->len;
        c->nvals++;
    }
    return VG_OK;
}

static int parse_route(struct vg_mapping *m, const struct vg_yaml_node *e, struct route *r,
                       const char *path, char *err, size_t errsz)
{
    r->line = e->line;
    r->kind = -1;
    if (e->type != VG_YAML_MAP) {
        MERR(e->line, "each logsources entry must be a map");
    }
    const struct vg_yaml_node *ls = vg_yaml_get(e, "logsource");
    if (!ls || ls->type != VG_YAML_MAP) {
        MERR(e->line, "entry needs a 'logsource' map (product/category/service)");
    }
    for (size_t i = 0; i < e->n; i++) {
        const char *k = e->items[2 * i]->str;
        if (strcmp(k, "logsource") && strcmp(k, "kind") && strcmp(k, "conditions") &&
            strcmp(k, "fields")) {
            MERR(e->items[2 * i]->line, "unknown key '%s' (logsource, kind, conditions, fields)",
                 k);
        }
    }
    r->product = adup(m->arena, vg_yaml_get(ls, "product"));
    r->category = adup(m->arena, vg_yaml_get(ls, "category"));
    r->service = adup(m->arena, vg_yaml_get(ls, "service"));
    const struct vg_yaml_node *kind = vg_yaml_get(e, "kind");
    if (kind && (kind->type != VG_YAML_SCALAR || (r->kind = kind_parse(kind->str)) < 0)) {
        MERR(kind->line, "kind must be generic, windows, linux or web");
    }
    const struct vg_yaml_node *cond = vg_yaml_get(e, "conditions");
    if (cond && !vg_yaml_is_null(cond)) {
        if (cond->type != VG_YAML_MAP) {
            MERR(cond->line, "conditions must be a map of field to value(s)");
        }
        r->cond = vg_arena_calloc(m->arena, (cond->n ? cond->n : 1) * sizeof(*r->cond));
        if (!r->cond) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < cond->n; i++) {
            int rc = parse_cond(m, cond->items[2 * i], cond->items[2 * i + 1], &r->cond[i], path,
                                err, errsz);
            if (rc != VG_OK) {
                return rc;
            }
        }
        r->ncond = (uint32_t)cond->n;
    }
    const struct vg_yaml_node *fm = vg_yaml_get(e, "fields");
    if (fm && !vg_yaml_is_null(fm)) {
        if (fm->type != VG_YAML_MAP) {
            MERR(fm->line, "fields must map Sigma field names to event field names");
        }
        r->fmap_from = vg_arena_alloc(m->arena, (fm->n ? fm->n : 1) * sizeof(char *));
        r->fmap_to = vg_arena_alloc(m->arena, (fm->n ? fm->n : 1) * sizeof(char *));
        if (!r->fmap_from || !r->fmap_to) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < fm->n; i++) {
            const struct vg_yaml_node *to = fm->items[2 * i + 1];
            if (to->type != VG_YAML_SCALAR) {
                MERR(to->line, "field mapping targets must be field names");
            }
            r->fmap_from[i] = adup(m->arena, fm->items[2 * i]);
            r->fmap_to[i] = adup(m->arena, to);
        }
        r->nfmap = (uint32_t)fm->n;
    }
    return VG_OK;
}

static int parse_mapping(struct vg_mapping *m, const struct vg_yaml_node *root, const char *path,
                         char *err, size_t errsz)
{
    if (!root || root->type != VG_YAML_MAP) {
        MERR(root ? root->line : 1, "mapping must be a YAML map");
    }
    const struct vg_yaml_node *kinds = vg_yaml_get(root, "kinds");
    if (kinds && kinds->type == VG_YAML_MAP) {
        m->kind_product = vg_arena_alloc(m->arena, (kinds->n + 1) * sizeof(char *));
        m->kind_value = vg_arena_alloc(m->arena, (kinds->n + 1) * sizeof(int));
        if (!m->kind_product || !m->kind_value) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < kinds->n; i++) {
            const struct vg_yaml_node *v = kinds->items[2 * i + 1];
            int k = v->type == VG_YAML_SCALAR ? kind_parse(v->str) : -1;
            if (k < 0) {
                MERR(v->line, "kind must be generic, windows, linux or web");
            }
            m->kind_product[m->nkinds] = adup(m->arena, kinds->items[2 * i]);
            m->kind_value[m->nkinds++] = k;
        }
    }
    const struct vg_yaml_node *ls = vg_yaml_get(root, "logsources");
    if (!ls || ls->type != VG_YAML_SEQ) {
        MERR(root->line, "mapping needs a 'logsources' list");
    }
    m->routes = vg_arena_calloc(m->arena, (ls->n ? ls->n : 1) * sizeof(*m->routes));
    if (!m->routes) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < ls->n; i++) {
        int rc = parse_route(m, ls->items[i], &m->routes[i], path, err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
        m->nroutes++;
    }
    return VG_OK;
}

int vg_mapping_load(const char *text, size_t len, const char *path, struct vg_mapping **out,
                    char *err, size_t errsz)
{
    struct vg_yaml_file *yf = NULL;
    char yerr[256];
    int rc = vg_yaml_parse(text, len, &yf, yerr, sizeof(yerr));
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, yerr);
        return rc;
    }
    struct vg_mapping *m = vg_calloc(1, sizeof(*m));
    if (!m || !(m->arena = vg_arena_create(65536))) {
        vg_free(m);
        vg_yaml_file_destroy(yf);
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    atomic_init(&m->refs, 1);
    rc = parse_mapping(m, yf->ndocs ? yf->docs[0] : NULL, path, err, errsz);
    vg_yaml_file_destroy(yf);
    if (rc != VG_OK) {
        if (rc == VG_ENOMEM) {
            snprintf(err, errsz, "out of memory");
        }
        vg_mapping_destroy(m);
        return rc;
    }
    *out = m;
    return VG_OK;
}

int vg_mapping_load_file(const char *path, struct vg_mapping **out, char *err, size_t errsz)
{
    char *text;
    size_t len;
    int rc = vg_file_read(path, 16u << 20, &text, &len);
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: cannot read: %s", path, vg_strerror(rc));
        return rc;
    }
    rc = vg_mapping_load(text, len, path, out, err, errsz);
    vg_free(text);
    return rc;
}

const char *vg_mapping_default_text(size_t *len)
{
    for (const struct vg_embedded_file *f = vg_sigma_data_files; f->name; f++) {
        if (strstr(f->name, "mapping.yml")) {
            *len = f->len;
            return (const char *)f->data;
        }
    }
    *len = 0;
    return "";
}

int vg_mapping_default(struct vg_mapping **out, char *err, size_t errsz)
{
    size_t len;
    const char *text = vg_mapping_default_text(&len);
    return vg_mapping_load(text, len, "<built-in mapping.yml>", out, err, errsz);
}
