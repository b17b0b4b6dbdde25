/*
 * core_yaml.c — YAML text → vg_yaml_node tree (libyaml event parser), with line/column on
 * every node and quoted-ness on scalars. Bounds: nesting depth 128, 10,000 alias uses, so a
 * hostile file cannot exhaust the stack or explode consumers walking aliases.
 */
#include "core/core.h"

#include <string.h>
#include <yaml.h>

#define YAML_MAX_DEPTH   128
#define YAML_MAX_ALIASES 10000

struct anchor {
    char *name;
    struct vg_yaml_node *node;
};

struct yctx {
    yaml_parser_t parser;
    struct vg_arena *arena;
    struct anchor *anchors;
    size_t nanchors, capanchors;
    size_t aliases;
    char *err;
    size_t errsz;
};

static void set_err(struct yctx *c, size_t line, size_t col, const char *msg)
{
    snprintf(c->err, c->errsz, "line %zu col %zu: %s", line, col, msg);
}

static int remember_anchor(struct yctx *c, const yaml_char_t *name, struct vg_yaml_node *n)
{
    if (!name) {
        return VG_OK;
    }
    if (vg_grow(&c->anchors, &c->capanchors, c->nanchors + 1, sizeof(*c->anchors)) != VG_OK) {
        return VG_ENOMEM;
    }
    c->anchors[c->nanchors].name = vg_arena_strdup(c->arena, (const char *)name);
    c->anchors[c->nanchors].node = n;
    if (!c->anchors[c->nanchors].name) {
        return VG_ENOMEM;
    }
    c->nanchors++;
    return VG_OK;
}

static int parse_node(struct yctx *c, yaml_event_t *ev, int depth, struct vg_yaml_node **out);

/* Collect children until the matching end event into a temporary array. */
static int parse_children(struct yctx *c, yaml_event_type_t end, int depth,
                          struct vg_yaml_node *parent)
{
    struct vg_yaml_node **tmp = NULL;
    size_t n = 0, cap = 0;
    int rc = VG_OK;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&c->parser, &ev)) {
            set_err(c, c->parser.problem_mark.line + 1, c->parser.problem_mark.column + 1,
                    c->parser.problem ? c->parser.problem : "YAML syntax error");
            rc = VG_EINVAL;
            break;
        }
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        struct vg_yaml_node *child = NULL;
        rc = parse_node(c, &ev, depth + 1, &child);
        yaml_event_delete(&ev);
        if (rc != VG_OK) {
            break;
        }
        if (vg_grow(&tmp, &cap, n + 1, sizeof(*tmp)) != VG_OK) {
            rc = VG_ENOMEM;
            break;
        }
        tmp[n++] = child;
    }
    if (rc == VG_OK) {
        parent->items = vg_arena_alloc(c->arena, (n ? n : 1) * sizeof(*tmp));
        if (!parent->items) {
            rc = VG_ENOMEM;
        } else {
            if (n) {
                memcpy(parent->items, tmp, n * sizeof(*tmp));
            }
            parent->n = end == YAML_MAPPING_END_EVENT ? n / 2 : n;
        }
    }
    vg_free(tmp);
    return rc;
}

static int parse_node(struct yctx *c, yaml_event_t *ev, int depth, struct vg_yaml_node **out)
{
    if (depth > YAML_MAX_DEPTH) {
        set_err(c, ev->start_mark.line + 1, ev->start_mark.column + 1, "nesting too deep");
        return VG_ELIMIT;
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        if (++c->aliases > YAML_MAX_ALIASES) {
            set_err(c, ev->start_mark.line + 1, ev->start_mark.column + 1, "too many aliases");
            return VG_ELIMIT;
        }
        for (size_t i = c->nanchors; i-- > 0;) {
            if (strcmp(c->anchors[i].name, (const char *)ev->data.alias.anchor) == 0) {
                *out = c->anchors[i].node;
                return VG_OK;
            }
        }
        set_err(c, ev->start_mark.line + 1, ev->start_mark.column + 1, "unknown alias");
        return VG_EINVAL;
    }
    struct vg_yaml_node *n = vg_arena_calloc(c->arena, sizeof(*n));
    if (!n) {
        return VG_ENOMEM;
    }
    n->line = (uint32_t)ev->start_mark.line + 1;
    n->col = (uint32_t)ev->start_mark.column + 1;
    int rc = VG_OK;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n->type = VG_YAML_SCALAR;
        n->len = ev->data.scalar.length;
        n->str = vg_arena_strndup(c->arena, (const char *)ev->data.scalar.value, n->len);
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
        if (!n->str) {
            return VG_ENOMEM;
        }
        rc = remember_anchor(c, ev->data.scalar.anchor, n);
        break;
    case YAML_SEQUENCE_START_EVENT:
        n->type = VG_YAML_SEQ;
        rc = remember_anchor(c, ev->data.sequence_start.anchor, n);
        if (rc == VG_OK) {
            rc = parse_children(c, YAML_SEQUENCE_END_EVENT, depth, n);
        }
        break;
    case YAML_MAPPING_START_EVENT:
        n->type = VG_YAML_MAP;
        rc = remember_anchor(c, ev->data.mapping_start.anchor, n);
        if (rc == VG_OK) {
            rc = parse_children(c, YAML_MAPPING_END_EVENT, depth, n);
        }
        break;
    default:
        set_err(c, n->line, n->col, "unexpected YAML event");
        return VG_EINVAL;
    }
    *out = n;
    return rc;
}

static int parse_stream(struct yctx *c, struct vg_yaml_file *f)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&c->parser, &ev)) {
            set_err(c, c->parser.problem_mark.line + 1, c->parser.problem_mark.column + 1,
                    c->parser.problem ? c->parser.problem : "YAML syntax error");
            return VG_EINVAL;
        }
        yaml_event_type_t t = ev.type;
        int rc = VG_OK;
        if (t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_t root;
            yaml_event_delete(&ev);
            if (!yaml_parser_parse(&c->parser, &root)) {
                set_err(c, c->parser.problem_mark.line + 1, c->parser.problem_mark.column + 1,
                        c->parser.problem ? c->parser.problem : "YAML syntax error");
                return VG_EINVAL;
            }
            struct vg_yaml_node *node = NULL;
            if (root.type != YAML_DOCUMENT_END_EVENT) {
                rc = parse_node(c, &root, 0, &node);
            }
            bool had_end = root.type == YAML_DOCUMENT_END_EVENT;
            yaml_event_delete(&root);
            if (rc != VG_OK) {
                return rc;
            }
            if (!had_end) {
                yaml_event_t end;
                if (!yaml_parser_parse(&c->parser, &end)) {
                    set_err(c, c->parser.problem_mark.line + 1, c->parser.problem_mark.column + 1,
                            c->parser.problem ? c->parser.problem : "YAML syntax error");
                    return VG_EINVAL;
                }
                yaml_event_delete(&end);
            }
            if (node) {
                if (vg_grow(&f->docs, &cap, f->ndocs + 1, sizeof(*f->docs)) != VG_OK) {
                    return VG_ENOMEM;
                }
                f->docs[f->ndocs++] = node;
            }
            continue;
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT) {
            return VG_OK;
        }
    }
}

int vg_yaml_parse(const char *text, size_t len, struct vg_yaml_file **out, char *err, size_t errsz)
{
    struct yctx c = {.err = err, .errsz = errsz};
    if (errsz) {
        err[0] = '\0';
    }
    *out = NULL;
    struct vg_yaml_file *f = vg_calloc(1, sizeof(*f));
    if (!f) {
        return VG_ENOMEM;
    }
    f->arena = vg_arena_create(len < 8192 ? 16384 : len * 2);
    if (!f->arena || !yaml_parser_initialize(&c.parser)) {
        vg_arena_destroy(f->arena);
        vg_free(f);
        return VG_ENOMEM;
    }
    c.arena = f->arena;
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
    int rc = parse_stream(&c, f);
    yaml_parser_delete(&c.parser);
    vg_free(c.anchors);
    if (rc != VG_OK) {
        if (rc == VG_ENOMEM && errsz) {
            snprintf(err, errsz, "out of memory");
        }
        vg_free(f->docs);
        vg_arena_destroy(f->arena);
        vg_free(f);
        return rc;
    }
    /* docs array lives on the heap; move it into the arena so destroy is one call */
    if (f->ndocs) {
        struct vg_yaml_node **docs = vg_arena_alloc(f->arena, f->ndocs * sizeof(*docs));
        if (!docs) {
            vg_free(f->docs);
            vg_arena_destroy(f->arena);
            vg_free(f);
            return VG_ENOMEM;
        }
        memcpy(docs, f->docs, f->ndocs * sizeof(*docs));
        vg_free(f->docs);
        f->docs = docs;
    }
    *out = f;
    return VG_OK;
}

void vg_yaml_file_destroy(struct vg_yaml_file *f)
{
    if (!f) {
        return;
    }
    vg_arena_destroy(f->arena);
    vg_free(f);
}

struct vg_yaml_node *vg_yaml_get(const struct vg_yaml_node *map, const char *key)
{
    if (!map || map->type != VG_YAML_MAP) {
        return NULL;
    }
    size_t kl = strlen(key);
    for (size_t i = 0; i < map->n; i++) {
        const struct vg_yaml_node *k = map->items[2 * i];
        if (k->type == VG_YAML_SCALAR && k->len == kl && memcmp(k->str, key, kl) == 0) {
            return map->items[2 * i + 1];
        }
    }
    return NULL;
}

bool vg_yaml_is_null(const struct vg_yaml_node *n)
{
    if (!n || n->type != VG_YAML_SCALAR || n->quoted) {
        return false;
    }
    return n->len == 0 || strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
           strcmp(n->str, "NULL") == 0 || strcmp(n->str, "~") == 0;
}

bool vg_yaml_scalar_is(const struct vg_yaml_node *n, const char *s)
{
    return n && n->type == VG_YAML_SCALAR && strcmp(n->str, s) == 0;
}

int vg_yaml_bool(const struct vg_yaml_node *n, bool *out)
{
    if (!n || n->type != VG_YAML_SCALAR || n->quoted) {
        return VG_EINVAL;
    }
    if (!strcmp(n->str, "true") || !strcmp(n->str, "True") || !strcmp(n->str, "TRUE") ||
        !strcmp(n->str, "yes") || !strcmp(n->str, "on")) {
        *out = true;
        return VG_OK;
    }
    if (!strcmp(n->str, "false") || !strcmp(n->str, "False") || !strcmp(n->str, "FALSE") ||
        !strcmp(n->str, "no") || !strcmp(n->str, "off")) {
        *out = false;
        return VG_OK;
    }
    return VG_EINVAL;
}

int vg_yaml_int(const struct vg_yaml_node *n, int64_t *out)
{
    if (!n || n->type != VG_YAML_SCALAR || n->quoted) {
        return VG_EINVAL;
    }
    return vg_parse_i64(n->str, n->len, out);
}
