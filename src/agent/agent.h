/*
 * agent.h — the endpoint agent (`vigie-agent`): collectors, the disk spool, the transport to
 * the server, and the response actions. Work in progress (issue 5); this header fixes the
 * interfaces the parts share.
 *
 * Events: every collector produces events as JSON objects with ECS field names written flat
 * and dotted, as the rest of Vigie does ("event.category":"process", "process.pid":42,
 * "process.parent.pid":1, "process.executable":"/usr/bin/curl", "process.args":["curl","-s"],
 * "file.path", "destination.ip" ...), plus "event.module":"vigie-agent",
 * "event.dataset":"<collector>" and "@timestamp" (RFC 3339, UTC, microseconds). The server
 * decodes them with its JSON decoder, so Sigma's Linux process_creation / file_event /
 * network_connection rules run on them.
 *
 * Collectors are plugins in a table (STYLE.md habit 10): each has a name, its backends in
 * order of preference, and start/stop. start() picks the first backend the kernel offers,
 * says which in backend(), and emits events through the callback from its own thread(s).
 */
#ifndef VG_AGENT_H
#define VG_AGENT_H

#include "core/core.h"

/* Where collectors send events: one JSON object (no trailing newline). Thread-safe; may
   block briefly (spool back-pressure). Returns VG_OK or an error (the event is dropped and
   counted by the caller). */
typedef int (*vg_agent_emit_fn)(void *ctx, const char *json, size_t len);

/* Options common to collectors; each collector reads the keys it knows from conf. */
struct vg_agent_collector_opts {
    const struct vg_yaml_node *conf; /* the collector's section of the agent configuration
                                        (may be NULL: defaults) */
    const char *state_dir;           /* the agent's state directory (FIM baseline, ...) */
    const char *force_backend;       /* tests: use this backend or fail (NULL: best) */
    vg_agent_emit_fn emit;
    void *emit_ctx;
};

struct vg_agent_collector;

struct vg_agent_collector_def {
    const char *name;            /* "process", "fim", "network", "inventory", "logs", "yara" */
    const char *description;     /* one line */
    const char *const *backends; /* names in order of preference, NULL-terminated */
    /*
     * Start: choose a backend (the first that works, or opts->force_backend), start its
     * thread(s). VG_OK; VG_EUNSUPPORTED when no backend works here (err says why each
     * failed); other codes on errors.
     */
    int (*start)(const struct vg_agent_collector_opts *o, struct vg_agent_collector **out,
                 char *err, size_t errsz);
    /* The backend in use ("ebpf", "proc_connector", "audit", "proc_poll", ...). */
    const char *(*backend)(const struct vg_agent_collector *c);
    /* Counters as a JSON object text appended to out (events, drops, errors, ...). */
    void (*stats)(const struct vg_agent_collector *c, struct vg_sbuf *out);
    void (*stop)(struct vg_agent_collector *c); /* stop and free; NULL-safe */
};

/*
 * Bind a collector's section of the configuration (a map, or NULL / null for defaults) onto
 * obj with table, under the collector's name: keys read "<name>.<key>" in messages and are
 * overridden by VIGIE_<NAME>_<KEY> in the environment. VG_EINVAL (err names the line and
 * key) for a section that is not a map or a bad key/value.
 */
int vg_agent_conf_bind(const char *name, const struct vg_conf_field *table, size_t n,
                       const struct vg_yaml_node *sec, void *obj, char *err, size_t errsz);

/* The collector table. */
const struct vg_agent_collector_def *vg_agent_collector_find(const char *name);
const struct vg_agent_collector_def *const *vg_agent_collectors(size_t *n);

#endif /* VG_AGENT_H */
