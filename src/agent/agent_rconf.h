/*
 * agent_rconf.h — the agent's remote configuration (issue 5): the JSON object the server
 * sends in a CONFIG frame, {"collectors":{"fim":{"paths":["/etc"]},"yara":{"rules":"..."}}},
 * the same shape as the local YAML file's collectors section. It is kept in
 * STATE/remote-config.json (so it survives a restart and is used at the next start instead
 * of the local file's collectors), turned into a vg_yaml_node tree (collectors bind their
 * settings from YAML nodes with vg_conf_bind) and compared section by section, so the run
 * loop (agent_run.c) restarts only the collectors whose settings changed.
 *
 * `{}` (no "collectors" key) means "no remote configuration: the local file rules".
 * Thread-safety: a struct vg_agent_rconf is immutable once parsed.
 */
#ifndef VG_AGENT_RCONF_H
#define VG_AGENT_RCONF_H

#include "core/core.h"

#define VG_AGENT_RCONF_FILE "remote-config.json"
#define VG_AGENT_RCONF_MAX  (1u << 20) /* bytes */

struct vg_agent_rconf {
    struct vg_arena *arena;
    char *json; /* the text as received (NUL-terminated), len bytes */
    size_t len;
    /* The "collectors" object as a YAML map (strings become quoted scalars, numbers, true,
       false and null plain ones); NULL for {}: the local file's collectors apply. */
    const struct vg_yaml_node *collectors;
};

/*
 * Parse a configuration: a JSON object whose only key is "collectors", an object of
 * collector name → object (or null). Unknown collector names are kept (the run loop reports
 * them). VG_OK; VG_EINVAL with err naming the key ("collectors.fim: expected an object");
 * VG_ENOMEM. *out: vg_agent_rconf_destroy.
 */
int vg_agent_rconf_parse(const char *json, size_t len, struct vg_agent_rconf **out, char *err,
                         size_t errsz);
void vg_agent_rconf_destroy(struct vg_agent_rconf *r); /* NULL-safe */

/* STATE/remote-config.json: load (VG_ENOENT when absent; errors as parse, err prefixed with
   the path), save atomically (temporary file, fsync, rename; mode 0600) or remove. */
int vg_agent_rconf_load(const char *state_dir, struct vg_agent_rconf **out, char *err,
                        size_t errsz);
int vg_agent_rconf_save(const char *state_dir, const struct vg_agent_rconf *r, char *err,
                        size_t errsz);
int vg_agent_rconf_remove(const char *state_dir);

/*
 * A canonical text of a settings node (NULL → ""), for change detection: equal texts mean
 * equal settings, whether they came from YAML or JSON. Scalars keep their quoted-ness (the
 * YAML `true` and the string "true" differ).
 */
void vg_agent_rconf_canon(const struct vg_yaml_node *n, struct vg_sbuf *out);
/*
 * map without the member key (a shallow copy in ar), for settings the collector's own table
 * does not hold (yara's "rules"). *value (may be NULL) receives the removed value or NULL.
 * Returns map itself when key is absent or map is not a map; NULL on VG_ENOMEM.
 */
const struct vg_yaml_node *vg_agent_rconf_without(struct vg_arena *ar,
                                                  const struct vg_yaml_node *map, const char *key,
                                                  const struct vg_yaml_node **value);

#endif /* VG_AGENT_RCONF_H */
