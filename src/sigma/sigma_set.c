/*
 * sigma_set.c — loading Sigma files and directory trees into a set of compiled documents,
 * plus the small vocabularies (levels, statuses, correlation types, ATT&CK tags).
 */
#include "sigma/sigma_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RULE_FILE_MAX (16u << 20)

int sigma_compile_doc(struct sctx *c, const struct vg_yaml_node *doc, struct vg_sigma_rule *r);

static const char *const level_names[] = {"", "informational", "low", "medium", "high", "critical"};

const char *vg_sigma_level_name(int level)
{
    return level >= 0 && level < (int)VG_ARRAY_LEN(level_names) ? level_names[level] : "";
}

int vg_sigma_level_parse(const char *s, int *out)
{
    for (int i = 1; i < (int)VG_ARRAY_LEN(level_names); i++) {
        if (!strcmp(s, level_names[i])) {
            *out = i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

const char *vg_sigma_status_name(int status)
{
    static const char *const names[] = {"ok", "error", "needs-placeholder", "unsupported"};
    return status >= 0 && status < (int)VG_ARRAY_LEN(names) ? names[status] : "error";
}

const char *vg_corr_type_name(int type)
{
    static const char *const names[] = {"event_count",      "value_count", "temporal",
                                        "temporal_ordered", "value_sum",   "value_avg",
                                        "value_percentile"};
    return type >= 0 && type < (int)VG_ARRAY_LEN(names) ? names[type] : "";
}

bool vg_corr_cond_eval(const struct vg_corr_cond *c, double x)
{
    for (int i = 0; i < c->ncmp; i++) {
        double v = c->val[i];
        bool ok;
        switch (c->op[i]) {
        case VG_CMP_GT:
            ok = x > v;
            break;
        case VG_CMP_GTE:
            ok = x >= v;
            break;
        case VG_CMP_LT:
            ok = x < v;
            break;
        case VG_CMP_LTE:
            ok = x <= v;
            break;
        case VG_CMP_EQ:
            ok = x == v;
            break;
        case VG_CMP_NEQ:
            ok = x != v;
            break;
        default:
            ok = true;
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

static const char *const tactics[] = {
    "reconnaissance",  "resource_development",
    "initial_access",  "execution",
    "persistence",     "privilege_escalation",
    "defense_evasion", "credential_access",
    "discovery",       "lateral_movement",
    "collection",      "command_and_control",
    "exfiltration",    "impact",
};

bool vg_sigma_tag_is_tactic(const char *tag, const char **tactic_name)
{
    if (strncmp(tag, "attack.", 7) != 0) {
        return false;
    }
    const char *t = tag + 7;
    for (size_t i = 0; i < VG_ARRAY_LEN(tactics); i++) {
        /* tags use '-' (attack.defense-evasion); accept '_' too */
        size_t l = strlen(tactics[i]);
        if (strlen(t) != l) {
            continue;
        }
        bool eq = true;
        for (size_t k = 0; k < l && eq; k++) {
            char a = t[k] == '-' ? '_' : t[k];
            eq = a == tactics[i][k];
        }
        if (eq) {
            if (tactic_name) {
                *tactic_name = tactics[i];
            }
            return true;
        }
    }
    return false;
}

bool vg_sigma_tag_is_technique(const char *tag)
{
    return strncmp(tag, "attack.t", 8) == 0 && tag[8] >= '0' && tag[8] <= '9';
}

struct vg_sigma_set *vg_sigma_set_create(const struct vg_sigma_placeholders *ph)
{
    struct vg_sigma_set *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->arena = vg_arena_create(1u << 20);
    if (!s->arena) {
        vg_free(s);
        return NULL;
    }
    s->ph = ph;
    return s;
}

void vg_sigma_set_destroy(struct vg_sigma_set *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->nregexes; i++) {
        pcre2_code_free((pcre2_code *)s->regexes[i]);
    }
    vg_free(s->regexes);
    vg_free(s->rules);
    vg_arena_destroy(s->arena);
    if (s->owns_ph) {
        vg_sigma_placeholders_destroy((struct vg_sigma_placeholders *)s->ph);
    }
    vg_free(s);
}

static struct vg_sigma_rule *new_rule(struct vg_sigma_set *s, const char *path, uint32_t doc)
{
    size_t cap = s->cap;
    if (vg_grow(&s->rules, &cap, (size_t)s->n + 1, sizeof(*s->rules)) != VG_OK) {
        return NULL;
    }
    s->cap = (uint32_t)cap;
    struct vg_sigma_rule *r = vg_arena_calloc(s->arena, sizeof(*r));
    if (!r) {
        return NULL;
    }
    r->path = path;
    r->doc = doc;
    s->rules[s->n++] = r;
    return r;
}

int vg_sigma_set_add_text(struct vg_sigma_set *s, const char *text, size_t len, const char *path)
{
    char yerr[256];
    struct vg_yaml_file *yf = NULL;
    const char *p = vg_arena_strdup(s->arena, path);
    if (!p) {
        return VG_ENOMEM;
    }
    s->files++;
    int rc = vg_yaml_parse(text, len, &yf, yerr, sizeof(yerr));
    if (rc != VG_OK) {
        s->file_errors++;
        struct vg_sigma_rule *r = new_rule(s, p, 0);
        if (!r) {
            return VG_ENOMEM;
        }
        r->status = VG_RULE_ERROR;
        r->message = vg_arena_printf(s->arena, "YAML: %s", yerr);
        unsigned line = 0;
        sscanf(yerr, "line %u", &line);
        r->err_line = line;
        r->title = "";
        return rc == VG_ENOMEM ? rc : VG_OK;
    }
    struct sctx c = {.arena = s->arena, .ph = s->ph, .set = s, .path = p};
    c.tmp = vg_arena_create(65536);
    if (!c.tmp) {
        vg_yaml_file_destroy(yf);
        return VG_ENOMEM;
    }
    rc = VG_OK;
    for (size_t d = 0; d < yf->ndocs && rc == VG_OK; d++) {
        struct vg_sigma_rule *r = new_rule(s, p, (uint32_t)d);
        if (!r) {
            rc = VG_ENOMEM;
            break;
        }
        rc = sigma_compile_doc(&c, yf->docs[d], r);
        vg_arena_reset(c.tmp);
    }
    vg_free(c.warn);
    vg_free(c.missing_ph);
    vg_free(c.slots);
    vg_arena_destroy(c.tmp);
    vg_yaml_file_destroy(yf);
    return rc;
}

static bool is_rule_file(const char *name)
{
    size_t l = strlen(name);
    return (l > 4 && !strcmp(name + l - 4, ".yml")) || (l > 5 && !strcmp(name + l - 5, ".yaml"));
}

static int load_file(struct vg_sigma_set *s, const char *path, char *err, size_t errsz)
{
    char *text;
    size_t len;
    int rc = vg_file_read(path, RULE_FILE_MAX, &text, &len);
    if (rc != VG_OK) {
        s->files++;
        s->file_errors++;
        struct vg_sigma_rule *r = new_rule(s, vg_arena_strdup(s->arena, path), 0);
        if (!r) {
            return VG_ENOMEM;
        }
        r->status = VG_RULE_ERROR;
        r->title = "";
        r->message = vg_arena_printf(s->arena, "cannot read: %s",
                                     rc == VG_ELIMIT ? "file larger than 16 MiB" : vg_strerror(rc));
        snprintf(err, errsz, "%s: %s", path, r->message ? r->message : "cannot read");
        return VG_OK;
    }
    rc = vg_sigma_set_add_text(s, text, len, path);
    vg_free(text);
    return rc;
}

static int load_dir(struct vg_sigma_set *s, const char *path, int depth, char *err, size_t errsz)
{
    struct dirent **list = NULL;
    if (depth > 32) {
        return VG_OK;
    }
    int n = scandir(path, &list, NULL, alphasort);
    if (n < 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return VG_EIO;
    }
    int rc = VG_OK;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (rc == VG_OK && name[0] != '.') {
            char sub[4096];
            struct stat st;
            snprintf(sub, sizeof(sub), "%s/%s", path, name);
            if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
                rc = load_dir(s, sub, depth + 1, err, errsz);
            } else if (is_rule_file(name)) {
                rc = load_file(s, sub, err, errsz);
            }
        }
        free(list[i]);
    }
    free(list);
    return rc == VG_EIO ? VG_OK : rc; /* unreadable subdirectory: reported, keep going */
}

int vg_sigma_set_load(struct vg_sigma_set *s, const char *path, char *err, size_t errsz)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? VG_ENOENT : VG_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        return load_dir(s, path, 0, err, errsz);
    }
    return load_file(s, path, err, errsz);
}

const struct vg_sigma_rule *vg_sigma_set_find(const struct vg_sigma_set *s, const char *ref)
{
    for (uint32_t i = 0; i < s->n; i++) {
        const struct vg_sigma_rule *r = s->rules[i];
        if ((r->id && !strcmp(r->id, ref)) || (r->name && !strcmp(r->name, ref))) {
            return r;
        }
    }
    return NULL;
}
