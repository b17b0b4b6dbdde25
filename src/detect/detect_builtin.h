/*
 * detect_builtin.h — Vigie's built-in Sigma ruleset, compiled into the binary.
 *
 * Every rules/builtin/<area>/<name>.yml of the source tree (linux, network, web, correlation;
 * docs/rules.md lists them) is embedded at build time by cmake/embed_rules.cmake, so a fresh
 * install detects something on day one without a rules directory. The server loads them into
 * a struct vg_sigma_set like any rule file (vg_builtin_rules_load), then builds its ruleset
 * generation with the default mapping; the golden test tests/unit/rules/test_builtin.c runs
 * exactly this table.
 */
#ifndef VG_DETECT_BUILTIN_H
#define VG_DETECT_BUILTIN_H

#include "sigma/sigma.h"

#include <stddef.h>

/* One embedded rule file. */
struct vg_builtin_rule {
    const char *path; /* source path, e.g. "rules/builtin/linux/lnx_sudo_root_shell.yml" */
    const char *text; /* the file's YAML, NUL-terminated */
    size_t len;       /* bytes of text, without the terminating NUL */
};

/*
 * The embedded rule files, sorted by path; *n receives their number. The table and its
 * strings are static and read-only: callable from any thread, nothing to free.
 */
const struct vg_builtin_rule *vg_builtin_rules(size_t *n);

/*
 * Compile every embedded file into set (vg_sigma_set_add_text, with the file's path for
 * messages). Documents that fail to compile stay in the set with their status, as for files
 * on disk. Returns VG_OK or VG_ENOMEM. Not thread-safe for the same set.
 */
int vg_builtin_rules_load(struct vg_sigma_set *set);

#endif /* VG_DETECT_BUILTIN_H */
