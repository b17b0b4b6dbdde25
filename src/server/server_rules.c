/*
 * server_rules.c — build a ruleset generation from the configuration (start and reload).
 *
 * The generation owns everything it needs (documents, placeholders, mapping), so a reload
 * swaps it in with vg_detect_engine_swap and the old one goes away when the last worker
 * batch that uses it is stored. Besides the configuration, two things under DATA, both
 * managed through the API (server_rules_api.c), take part in every generation:
 *   DATA/rules-custom/NAME.yml    custom rules uploaded with PUT /api/v1/rules/custom/{name}
 *   DATA/rules-disabled.json    {"disabled":["<rule id or name>",...]}: documents that stay
 *                               in the set (listed as disabled) but are not built
 */
#include "server/server_int.h"

#include "detect/detect_builtin.h"
#include "sigma/sigma.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The message of a document disabled through the API; compared by address. */
const char vg_server_rule_disabled_msg[] = "disabled (POST /api/v1/rules/{id}/enable)";

#define DISABLED_FILE "rules-disabled.json"
#define DISABLED_MAX  (4u << 20)

bool vg_server_rule_is_disabled(const struct vg_sigma_rule *r)
{
    return r->message == vg_server_rule_disabled_msg;
}

void vg_server_rules_custom_dir(const char *data_dir, char *buf, size_t size)
{
    snprintf(buf, size, "%s/rules-custom", data_dir);
}

int vg_server_rules_disabled_load(const char *data_dir, struct vg_strlist *out, char *err,
                                  size_t errsz)
{
    char path[4096];
    char *text = NULL;
    size_t len = 0;
    struct vg_arena *a = NULL;
    struct vg_json_parser *p = NULL;
    struct vg_json *doc = NULL;
    size_t used;
    char jerr[256];
    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "%s/%s", data_dir, DISABLED_FILE);
    int rc = vg_file_read(path, DISABLED_MAX, &text, &len);
    if (rc == VG_ENOENT) {
        return VG_OK; /* nothing disabled */
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, vg_strerror(rc));
        return rc;
    }
    rc = (a = vg_arena_create(0)) && (p = vg_json_parser_create(NULL)) ? VG_OK : VG_ENOMEM;
    if (rc == VG_OK &&
        (rc = vg_json_parse(p, a, text, len, &used, &doc, jerr, sizeof(jerr))) != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, jerr);
    }
    const struct vg_json *l = rc == VG_OK ? vg_json_get(doc, "disabled") : NULL;
    if (rc == VG_OK && (!l || l->type != VG_JSON_ARRAY)) {
        snprintf(err, errsz, "%s: expected {\"disabled\":[...]}", path);
        rc = VG_EINVAL;
    }
    for (uint32_t i = 0; rc == VG_OK && i < l->n; i++) {
        const struct vg_json *v = &l->u.items[i];
        char *s = v->type == VG_JSON_STRING ? vg_strndup(v->s, v->n) : NULL;
        rc = s && vg_strlist_add(out, s) == VG_OK ? VG_OK : VG_ENOMEM;
        vg_free(s);
    }
    if (rc != VG_OK) {
        vg_strlist_free(out);
    }
    vg_json_parser_destroy(p);
    vg_arena_destroy(a);
    vg_free(text);
    return rc;
}

int vg_server_file_write_atomic(const char *path, const char *data, size_t len, char *err,
                                size_t errsz)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        off += ok ? (size_t)n : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) {
        ok = false;
    }
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        snprintf(err, errsz, "cannot write %.900s: %s", path, strerror(errno));
        unlink(tmp);
        return errno == ENOSPC ? VG_ENOSPC : VG_EIO;
    }
    /* the rename itself is durable once the directory is synced */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)fsync(dfd);
            close(dfd);
        }
    }
    return VG_OK;
}

int vg_server_rules_disabled_save(const char *data_dir, const struct vg_strlist *l, char *err,
                                  size_t errsz)
{
    char path[4096];
    struct vg_sbuf b = {0};
    snprintf(path, sizeof(path), "%s/%s", data_dir, DISABLED_FILE);
    vg_sbuf_adds(&b, "{\"disabled\":[");
    for (size_t i = 0; i < l->n; i++) {
        vg_sbuf_adds(&b, i ? ",\n  " : "\n  ");
        vg_sbuf_add_json_str(&b, l->v[i], strlen(l->v[i]));
    }
    vg_sbuf_adds(&b, l->n ? "\n]}\n" : "]}\n");
    int rc = b.err ? VG_ENOMEM : vg_server_file_write_atomic(path, b.p, b.len, err, errsz);
    vg_sbuf_fini(&b);
    return rc;
}

/* Mark the documents named (id or name) in DATA/rules-disabled.json so the build skips them. */
static int apply_disabled(const struct vg_server_conf *c, struct vg_sigma_set *set, char *err,
                          size_t errsz)
{
    struct vg_strlist l;
    int rc = vg_server_rules_disabled_load(c->data_dir, &l, err, errsz);
    for (uint32_t i = 0; rc == VG_OK && i < set->n; i++) {
        struct vg_sigma_rule *r = set->rules[i];
        for (size_t k = 0; r->status == VG_RULE_OK && k < l.n; k++) {
            if ((r->id && !strcmp(r->id, l.v[k])) || (r->name && !strcmp(r->name, l.v[k]))) {
                r->status = VG_RULE_UNSUPPORTED;
                r->message = vg_server_rule_disabled_msg;
            }
        }
    }
    vg_strlist_free(&l);
    return rc;
}

/* Load DATA/rules-custom when it exists. */
static int load_custom(const struct vg_server_conf *c, struct vg_sigma_set *set, char *err,
                       size_t errsz)
{
    char dir[4096];
    struct stat st;
    vg_server_rules_custom_dir(c->data_dir, dir, sizeof(dir));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return VG_OK;
    }
    return vg_sigma_set_load(set, dir, err, errsz);
}

/* Count and log the documents that do not take part (first few with their reason). */
static uint32_t report_bad(const struct vg_sigma_set *set)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < set->n; i++) {
        const struct vg_sigma_rule *r = set->rules[i];
        if (r->status == VG_RULE_OK || vg_server_rule_is_disabled(r)) {
            continue;
        }
        if (++bad <= 10) {
            VG_WARN("rules", "%s:%u: %s: %s", r->path ? r->path : "?",
                    r->err_line ? r->err_line : r->line, r->title ? r->title : "(untitled)",
                    r->message ? r->message : "not loaded");
        }
    }
    if (bad > 10) {
        VG_WARN("rules", "%u more documents not loaded (vigie rules check lists them all)",
                bad - 10);
    }
    return bad;
}

int vg_server_rules_build(const struct vg_server_conf *c, struct vg_ruleset **out, uint32_t *bad,
                          char *err, size_t errsz)
{
    struct vg_sigma_placeholders *ph = NULL;
    struct vg_mapping *map = NULL;
    struct vg_sigma_set *set = NULL;
    int rc = VG_OK;
    if (c->rules_placeholders && *c->rules_placeholders) {
        rc = vg_sigma_placeholders_load(c->rules_placeholders, &ph, err, errsz);
    }
    if (rc == VG_OK && !(set = vg_sigma_set_create(ph))) {
        rc = VG_ENOMEM;
    }
    if (set) {
        set->owns_ph = true;
        ph = NULL;
    }
    if (rc == VG_OK && c->rules_builtin) {
        rc = vg_builtin_rules_load(set);
    }
    for (size_t i = 0; rc == VG_OK && i < c->rules_paths.n; i++) {
        rc = vg_sigma_set_load(set, c->rules_paths.v[i], err, errsz);
    }
    if (rc == VG_OK && c->data_dir) {
        rc = load_custom(c, set, err, errsz);
    }
    if (rc == VG_OK && c->data_dir) {
        rc = apply_disabled(c, set, err, errsz);
    }
    if (rc == VG_OK) {
        rc = c->rules_mapping && *c->rules_mapping
                 ? vg_mapping_load_file(c->rules_mapping, &map, err, errsz)
                 : vg_mapping_default(&map, err, errsz);
    }
    if (rc == VG_OK) {
        struct vg_ruleset_opts o = {.min_level = c->min_level};
        rc = vg_ruleset_build(set, map, &o, out, err, errsz);
    }
    if (rc == VG_OK) {
        *bad = report_bad(set);
        vg_ruleset_take_set(*out);
        set = NULL;
    } else if (rc == VG_ENOMEM) {
        snprintf(err, errsz, "out of memory loading rules");
    }
    vg_mapping_destroy(map); /* the ruleset keeps its own reference */
    vg_sigma_set_destroy(set);
    vg_sigma_placeholders_destroy(ph);
    return rc;
}
