/*
 * server_rules.c — build a ruleset generation from the configuration (start and reload).
 *
 * The generation owns everything it needs (documents, placeholders, mapping), so a reload
 * swaps it in with vg_detect_engine_swap and the old one goes away when the last worker
 * batch that uses it is stored.
 */
#include "server/server_int.h"

#include "detect/detect_builtin.h"
#include "sigma/sigma.h"

#include <stdio.h>
#include <string.h>

/* Count and log the documents that do not take part (first few with their reason). */
static uint32_t report_bad(const struct vg_sigma_set *set)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < set->n; i++) {
        const struct vg_sigma_rule *r = set->rules[i];
        if (r->status == VG_RULE_OK) {
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
