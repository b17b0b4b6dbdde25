/*
 * detect_builtin.c — access to the built-in Sigma ruleset. The table itself is generated at
 * build time (cmake/embed_rules.cmake → builtin_rules.c in the build tree) from
 * the rule files under rules/builtin; this file only hands it out and loads it into a rule set.
 */
#include "detect/detect_builtin.h"

/* Generated: every rule file, sorted by path, then a {NULL, NULL, 0} terminator. */
extern const struct vg_builtin_rule vg_builtin_rule_table[];

const struct vg_builtin_rule *vg_builtin_rules(size_t *n)
{
    size_t k = 0;
    while (vg_builtin_rule_table[k].path) {
        k++;
    }
    *n = k;
    return vg_builtin_rule_table;
}

int vg_builtin_rules_load(struct vg_sigma_set *set)
{
    for (const struct vg_builtin_rule *r = vg_builtin_rule_table; r->path; r++) {
        int rc = vg_sigma_set_add_text(set, r->text, r->len, r->path);
        if (rc == VG_ENOMEM) {
            return rc;
        }
    }
    return VG_OK;
}
