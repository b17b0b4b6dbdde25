/*
 * agent_rconf.c — the agent's remote configuration: parse the server's CONFIG JSON into a
 * YAML node tree the collectors bind from, keep it in STATE/remote-config.json, and the
 * canonical text used to see which collector's settings changed (see agent_rconf.h).
 */
#include "agent/agent_rconf.h"

#include "event/event.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- JSON → YAML nodes */

static struct vg_yaml_node *node_new(struct vg_arena *ar, enum vg_yaml_type t)
{
    struct vg_yaml_node *n = vg_arena_calloc(ar, sizeof(*n));
    if (n) {
        n->type = t;
        n->line = 1;
        n->col = 1;
    }
    return n;
}

static struct vg_yaml_node *scalar_new(struct vg_arena *ar, const char *s, size_t len, bool quoted)
{
    struct vg_yaml_node *n = node_new(ar, VG_YAML_SCALAR);
    if (n && !(n->str = vg_arena_strndup(ar, s, len))) {
        return NULL;
    }
    if (n) {
        n->len = len;
        n->quoted = quoted;
    }
    return n;
}

static int to_yaml(struct vg_arena *ar, const struct vg_json *v, struct vg_yaml_node **out);

static int to_yaml_items(struct vg_arena *ar, const struct vg_json *v, struct vg_yaml_node *n)
{
    size_t k = v->type == VG_JSON_OBJECT ? 2u * v->n : v->n;
    n->n = v->n;
    n->items = vg_arena_calloc(ar, (k ? k : 1) * sizeof(*n->items));
    if (!n->items) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < k; i++) {
        int rc = to_yaml(ar, &v->u.items[i], &n->items[i]);
        if (rc != VG_OK) {
            return rc;
        }
        if (v->type == VG_JSON_OBJECT && i % 2 == 0) {
            n->items[i]->quoted = false; /* a key is a name, as a plain YAML key */
        }
    }
    return VG_OK;
}

static int to_yaml(struct vg_arena *ar, const struct vg_json *v, struct vg_yaml_node **out)
{
    struct vg_yaml_node *n = NULL;
    switch (v->type) {
    case VG_JSON_STRING:
        if (memchr(v->s, '\0', v->n)) {
            return VG_EINVAL; /* a NUL would silently cut a path or a rule */
        }
        n = scalar_new(ar, v->s, v->n, true);
        break;
    case VG_JSON_NUMBER:
        n = scalar_new(ar, v->s, v->n, false);
        break;
    case VG_JSON_TRUE:
    case VG_JSON_FALSE:
    case VG_JSON_NULL:
        n = v->type == VG_JSON_NULL ? scalar_new(ar, "null", 4, false)
                                    : scalar_new(ar, v->type == VG_JSON_TRUE ? "true" : "false",
                                                 v->type == VG_JSON_TRUE ? 4 : 5, false);
        break;
    default: {
        n = node_new(ar, v->type == VG_JSON_OBJECT ? VG_YAML_MAP : VG_YAML_SEQ);
        int rc = n ? to_yaml_items(ar, v, n) : VG_ENOMEM;
        if (rc != VG_OK) {
            return rc;
        }
        break;
    }
    }
    *out = n;
    return n ? VG_OK : VG_ENOMEM;
}

/* ---------------------------------------------------------------- parse */

void vg_agent_rconf_destroy(struct vg_agent_rconf *r)
{
    if (r) {
        vg_arena_destroy(r->arena);
        vg_free(r);
    }
}

static int check_shape(const struct vg_json *doc, char *err, size_t errsz)
{
    if (doc->type != VG_JSON_OBJECT) {
        snprintf(err, errsz, "remote configuration: expected a JSON object");
        return VG_EINVAL;
    }
    for (uint32_t i = 0; i < doc->n; i++) {
        const struct vg_json *k = &doc->u.items[2 * i];
        if (!vg_str_eq(k->s, k->n, "collectors", 10)) {
            snprintf(err, errsz, "remote configuration: unknown key '%.*s'", (int)VG_MIN(k->n, 64u),
                     k->s);
            return VG_EINVAL;
        }
    }
    const struct vg_json *cols = vg_json_get(doc, "collectors");
    if (cols && cols->type != VG_JSON_OBJECT) {
        snprintf(err, errsz, "remote configuration: collectors: expected an object");
        return VG_EINVAL;
    }
    for (uint32_t i = 0; cols && i < cols->n; i++) {
        const struct vg_json *k = &cols->u.items[2 * i], *v = &cols->u.items[2 * i + 1];
        if (v->type != VG_JSON_OBJECT && v->type != VG_JSON_NULL) {
            snprintf(err, errsz, "remote configuration: collectors.%.*s: expected an object",
                     (int)VG_MIN(k->n, 64u), k->s);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

int vg_agent_rconf_parse(const char *json, size_t len, struct vg_agent_rconf **out, char *err,
                         size_t errsz)
{
    struct vg_agent_rconf *r = vg_calloc(1, sizeof(*r));
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_json *doc = NULL;
    size_t used = 0;
    int rc = r && p && (r->arena = vg_arena_create(16384)) ? VG_OK : VG_ENOMEM;
    *out = NULL;
    if (rc == VG_OK && len > VG_AGENT_RCONF_MAX) {
        snprintf(err, errsz, "remote configuration: over %u bytes", VG_AGENT_RCONF_MAX);
        rc = VG_EINVAL;
    }
    if (rc == VG_OK && (rc = vg_json_parse(p, r->arena, json, len, &used, &doc, err, errsz))) {
        rc = rc == VG_ENOMEM ? rc : VG_EINVAL;
    }
    rc = rc ? rc : check_shape(doc, err, errsz);
    const struct vg_json *cols = rc ? NULL : vg_json_get(doc, "collectors");
    struct vg_yaml_node *ycols = NULL;
    if (cols && (rc = to_yaml(r->arena, cols, &ycols)) == VG_EINVAL) {
        snprintf(err, errsz, "remote configuration: a string holds a NUL character");
    }
    if (rc == VG_OK && !(r->json = vg_arena_strndup(r->arena, json, len))) {
        rc = VG_ENOMEM;
    }
    vg_json_parser_destroy(p);
    if (rc != VG_OK) {
        vg_agent_rconf_destroy(r);
        return rc;
    }
    r->len = len;
    r->collectors = ycols;
    *out = r;
    return VG_OK;
}

/* ---------------------------------------------------------------- the state file */

int vg_agent_rconf_load(const char *state_dir, struct vg_agent_rconf **out, char *err, size_t errsz)
{
    char path[4096], perr[256];
    char *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", state_dir, VG_AGENT_RCONF_FILE);
    *out = NULL;
    int rc = vg_file_read(path, VG_AGENT_RCONF_MAX + 1, &text, &len);
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, vg_strerror(rc));
        return rc;
    }
    rc = vg_agent_rconf_parse(text, len, out, perr, sizeof(perr));
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, perr);
    }
    vg_free(text);
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return VG_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return VG_OK;
}

int vg_agent_rconf_save(const char *state_dir, const struct vg_agent_rconf *r, char *err,
                        size_t errsz)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", state_dir, VG_AGENT_RCONF_FILE);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = fd >= 0 ? write_all(fd, r->json, r->len) : VG_EIO;
    if (rc == VG_OK && fsync(fd) != 0) {
        rc = VG_EIO;
    }
    if (fd >= 0 && close(fd) != 0) {
        rc = VG_EIO;
    }
    if (rc == VG_OK && rename(tmp, path) != 0) {
        rc = VG_EIO;
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}

int vg_agent_rconf_remove(const char *state_dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", state_dir, VG_AGENT_RCONF_FILE);
    return unlink(path) == 0 || errno == ENOENT ? VG_OK : VG_EIO;
}

/* ---------------------------------------------------------------- comparing settings */

void vg_agent_rconf_canon(const struct vg_yaml_node *n, struct vg_sbuf *out)
{
    if (!n) {
        return;
    }
    switch (n->type) {
    case VG_YAML_SCALAR:
        /* length-prefixed: no scalar text can fake a structure */
        vg_sbuf_printf(out, "%c%zu:", n->quoted ? 'q' : 's', n->len);
        vg_sbuf_add(out, n->str, n->len);
        break;
    case VG_YAML_SEQ:
    case VG_YAML_MAP: {
        size_t k = n->type == VG_YAML_MAP ? 2 * n->n : n->n;
        vg_sbuf_addc(out, n->type == VG_YAML_MAP ? '{' : '[');
        for (size_t i = 0; i < k; i++) {
            vg_agent_rconf_canon(n->items[i], out);
        }
        vg_sbuf_addc(out, n->type == VG_YAML_MAP ? '}' : ']');
        break;
    }
    }
}

const struct vg_yaml_node *vg_agent_rconf_without(struct vg_arena *ar,
                                                  const struct vg_yaml_node *map, const char *key,
                                                  const struct vg_yaml_node **value)
{
    const struct vg_yaml_node *v = vg_yaml_get(map, key);
    if (value) {
        *value = v;
    }
    if (!v) {
        return map;
    }
    struct vg_yaml_node *m = vg_arena_alloc(ar, sizeof(*m));
    struct vg_yaml_node **items = vg_arena_calloc(ar, 2 * map->n * sizeof(*items));
    if (!m || !items) {
        return NULL;
    }
    *m = *map;
    m->items = items;
    m->n = 0;
    for (size_t i = 0; i < map->n; i++) {
        if (map->items[2 * i + 1] != v) {
            items[2 * m->n] = map->items[2 * i];
            items[2 * m->n + 1] = map->items[2 * i + 1];
            m->n++;
        }
    }
    return m;
}
