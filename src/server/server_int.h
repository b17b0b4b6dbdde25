/*
 * server_int.h — internals of the server module: the pipeline and the rules loader.
 */
#ifndef VG_SERVER_INT_H
#define VG_SERVER_INT_H

#include "detect/detect.h"
#include "ingest/ingest.h"
#include "server/server.h"
#include "store/store.h"

#include <pthread.h>

/* ---------------------------------------------------------------- rules */

/*
 * Build a ruleset generation from the configuration: the built-in rules, then every
 * rules.paths entry, with the placeholders and mapping files. The ruleset owns its
 * documents. Documents that fail are reported (count in *bad, the first reasons logged);
 * only a missing path or an unusable mapping/placeholders file is an error.
 */
int vg_server_rules_build(const struct vg_server_conf *c, struct vg_ruleset **out, uint32_t *bad,
                          char *err, size_t errsz);

/*
 * Rules managed through the API (server_rules.c, server_rules_api.c, docs/rules.md
 * "Managing rules through the API"): DATA/rules-custom/<name>.yml and the list of disabled
 * rule ids in DATA/rules-disabled.json, both read by every vg_server_rules_build.
 */
struct vg_sigma_rule;
/* A document left out of the generation because it is disabled (message is this string). */
extern const char vg_server_rule_disabled_msg[];
bool vg_server_rule_is_disabled(const struct vg_sigma_rule *r);
/* DATA/rules-custom into buf. */
void vg_server_rules_custom_dir(const char *data_dir, char *buf, size_t size);
/* Read DATA/rules-disabled.json into out (empty when the file is absent; free with
   vg_strlist_free). VG_OK, VG_EINVAL (malformed, err says why), VG_EIO, VG_ENOMEM. */
int vg_server_rules_disabled_load(const char *data_dir, struct vg_strlist *out, char *err,
                                  size_t errsz);
/* Write the list atomically (temporary file, fsync, rename, directory fsync). */
int vg_server_rules_disabled_save(const char *data_dir, const struct vg_strlist *l, char *err,
                                  size_t errsz);
/* Replace path with data atomically, as above. VG_OK, VG_EIO, VG_ENOSPC. */
int vg_server_file_write_atomic(const char *path, const char *data, size_t len, char *err,
                                size_t errsz);
/* Serialise rule changes and reloads through the API (an edit of the files and the reload
   that applies it happen under this lock, so a concurrent reload cannot swap in a generation
   built before the edit after the one built with it). */
void vg_server_rules_lock(void);
void vg_server_rules_unlock(void);
struct vg_api;
/* POST /api/v1/rules/test, /rules/{id}/enable|disable, PUT|DELETE /rules/custom/{name}. */
int vg_server_rules_api_register(struct vg_server *s, struct vg_api *api);

/* ---------------------------------------------------------------- vulnerabilities */

struct vg_api;
struct vg_audit;

/*
 * The fleet's package inventories and their findings (server_vuln.c, docs/vuln.md "In the
 * server"): the pipeline writer hands over inventory events in journal order; a scan thread
 * matches changed hosts against the advisory database; /api/v1/vulns serves the findings.
 */
struct vg_server_vuln;

/* Open DATA/vuln/hosts.db and the advisory database (vuln.db); NULL in *out when
   vuln.enabled is false. New findings of vuln.event_severity or known exploited are
   appended to j (NULL: none) as events of dataset "vulnerability". */
int vg_server_vuln_create(const struct vg_server_conf *c, struct vg_journal *j,
                          struct vg_server_vuln **out, char *err, size_t errsz);
int vg_server_vuln_start(struct vg_server_vuln *sv); /* the scan thread; NULL: no-op */
void vg_server_vuln_stop(struct vg_server_vuln *sv);
void vg_server_vuln_destroy(struct vg_server_vuln *sv); /* NULL is a no-op */
void vg_server_vuln_set_audit(struct vg_server_vuln *sv, struct vg_audit *a);
/* Whether ev is an inventory event (event.dataset "inventory"); cheap, thread-safe. */
bool vg_server_vuln_wants(const struct vg_server_vuln *sv, const struct vg_event *ev);
/*
 * Record an inventory event of a host (the pipeline writer, in journal order; idempotent, so
 * a replay after a crash changes nothing). tenant/agent come from the record's journal meta
 * (may be NULL). Returns VG_OK, VG_EINVAL (no host, malformed), VG_EIO.
 */
int vg_server_vuln_observe(struct vg_server_vuln *sv, const char *tenant, size_t tlen,
                           const char *agent, size_t alen, const struct vg_event *ev);
/* Match again the hosts of tenant (NULL: all) named host (agent id or name; NULL: all):
   how many were marked, -1 on a database error. */
long vg_server_vuln_rescan(struct vg_server_vuln *sv, const char *tenant, const char *host);
/* Wait until no host waits to be matched (tests): VG_OK or VG_AGAIN at timeout. */
int vg_server_vuln_wait_idle(struct vg_server_vuln *sv, int timeout_ms);
int vg_server_vuln_api_register(struct vg_server_vuln *sv, struct vg_api *api);

/* ---------------------------------------------------------------- threat intelligence */

/*
 * The indicator store seen by the server (server_intel.c): the store handle (one thread at a
 * time: a mutex), the current snapshot (a reference-counted pointer swapped by a reload
 * thread when the store's generation changes), the /api/v1/intel routes and the lookup the
 * intel.lookup playbook action calls. Matching never waits for a load.
 */
struct vg_server_intel;
struct vg_intel_snap;
struct vg_event;

/* Open (creating it) intel.db; NULL in *out when intel.enabled is false. */
int vg_server_intel_create(const struct vg_server_conf *c, struct vg_server_intel **out, char *err,
                           size_t errsz);
/* Start the reload thread. NULL is a no-op. */
int vg_server_intel_start(struct vg_server_intel *si);
/* Stop the reload thread (idempotent; NULL is a no-op). */
void vg_server_intel_stop(struct vg_server_intel *si);
void vg_server_intel_destroy(struct vg_server_intel *si); /* NULL is a no-op */
/* The current snapshot with a reference for the caller (vg_intel_snap_unref), or NULL
   (no intel, or nothing loaded). Thread-safe, cheap (a mutex and an increment). */
struct vg_intel_snap *vg_server_intel_acquire(struct vg_server_intel *si);

/* One indicator hit of an event, ready to become an alert. Strings live until cb returns. */
struct vg_server_intel_alert {
    const char *rule_id; /* "intel:<type>" */
    const char *title;   /* "Threat intel match: <field> <value> (<source>)" */
    int level;           /* VG_LEVEL_HIGH / MEDIUM / LOW from the decayed confidence */
    const char *tags;    /* JSON array: the indicator's tags, "intel", attack.tNNNN */
    const char *attack;  /* JSON array of technique ids of the related objects */
    const char *context; /* JSON members (no braces): threat.indicator.*, threat.feed.name,
                            vigie.intel (the indicator as vg_intel_snap_describe writes it) */
};
typedef int (*vg_server_intel_alert_cb)(void *u, const struct vg_server_intel_alert *a);
/*
 * Match ev against snap (from vg_server_intel_acquire) and call cb once per hit that passes
 * intel.min_confidence. Returns VG_OK or cb's / an allocation failure's status. Thread-safe
 * (each pipeline worker calls it with its own events).
 */
int vg_server_intel_match(struct vg_server_intel *si, const struct vg_intel_snap *snap,
                          const struct vg_event *ev, vg_server_intel_alert_cb cb, void *u);
/* Register the /api/v1/intel routes (NULL si: none). */
/* Record every change of the store (API imports, removals, expiry, TAXII pulls) in the audit
 * log (server_soc.c opens it after the intel part; NULL: none). */
struct vg_audit;
void vg_server_intel_set_audit(struct vg_server_intel *si, struct vg_audit *a);
int vg_server_intel_api_register(struct vg_server_intel *si, struct vg_api *api);
/*
 * The intel.lookup action's callback (struct vg_respond_services.intel_lookup): writes
 * {"found":bool,"indicator":{…}} to out. type NULL or "" guesses; "ip", "hash", "mail" are
 * accepted besides the store's type names. VG_OK, VG_EINVAL (err says why).
 */
int vg_server_intel_lookup(void *si, const char *value, const char *type, struct vg_sbuf *out,
                           char *err, size_t errsz);

/* ---------------------------------------------------------------- pipeline */

/* What the pipeline needs to know about an input to decode its records. */
struct vg_pipeline_input {
    const char *hint; /* decoder hint ("syslog", "json", NULL); files use "file:<path>" */
};

struct vg_pipeline_opts {
    int workers;    /* decode + detect threads; 0 = one per CPU */
    uint32_t batch; /* records per batch */
    const struct vg_pipeline_input *inputs;
    size_t ninputs;
    bool no_store; /* benchmarks: decode and detect, count, store nothing (never in a server) */
    /*
     * Called by the writer right before it releases the journal up to seq (tail checkpoints);
     * when it fails the journal is not released this time (the next batch tries again).
     */
    int (*before_release)(void *ctx, uint64_t seq);
    /* Called by the writer after it stored alerts (triage wakes up); keep it cheap. */
    void (*after_alerts)(void *ctx);
    void *ctx;
    struct vg_server_intel *intel; /* indicator matching (NULL: none); borrowed */
    struct vg_server_vuln *vuln;   /* package inventories (NULL: none); borrowed */
};

struct vg_pipeline_stats {
    uint64_t records, events, unparsed, matches, alerts, correlations, stored, duplicates;
    uint64_t store_retries, batches;
    uint64_t position; /* last journal seq stored */
};

struct vg_pipeline;

/*
 * Create the pipeline over journal j, store st and detection engine eng (all borrowed).
 * It resumes after the store's recorded position.
 */
int vg_pipeline_create(struct vg_journal *j, struct vg_store *st, struct vg_detect_engine *eng,
                       const struct vg_pipeline_opts *o, struct vg_pipeline **out, char *err,
                       size_t errsz);
int vg_pipeline_start(struct vg_pipeline *p);
/* Drain what the journal holds (at most drain_ms), then stop every thread. */
void vg_pipeline_stop(struct vg_pipeline *p, int drain_ms);
void vg_pipeline_destroy(struct vg_pipeline *p);
void vg_pipeline_get_stats(struct vg_pipeline *p, struct vg_pipeline_stats *out);
/*
 * Per-rule profile of the current generation: for each rule evaluated or matched so far,
 * cb gets its document, the estimated evaluation time and evaluations (sampled, scaled)
 * and its matches. cb runs under the pipeline lock: keep it short.
 */
typedef void (*vg_pipeline_prof_cb)(void *ctx, const struct vg_sigma_rule *r, double seconds,
                                    uint64_t evals, uint64_t matches);
void vg_pipeline_rule_profile(struct vg_pipeline *p, vg_pipeline_prof_cb cb, void *ctx);
/* Wait until the store position reaches seq (VG_OK) or timeout (VG_AGAIN). */
int vg_pipeline_wait(struct vg_pipeline *p, uint64_t seq, int timeout_ms);

/* ---------------------------------------------------------------- the server object */

struct vg_api;

struct vg_server {
    const struct vg_server_conf *c;
    char *dir_journal, *dir_store, *dir_tail;
    struct vg_journal *j;
    struct vg_store *st;
    struct vg_detect_engine *eng;
    struct vg_pipeline *pipe;
    struct vg_net *net;
    struct vg_net_listen *ls;
    size_t nls, capls;
    struct vg_pipeline_input *inputs;
    size_t ninputs, capinputs;
    struct vg_api *api;
    struct vg_tail *tail;
    uint32_t first_file_input;
    uint32_t fleet_input; /* journal input id of agent events (when fleet.listen is set) */
    pthread_mutex_t mu;   /* reload, stats below */
    uint32_t rules, correlation_rules;
    uint64_t reloads;
    vg_time_t started;
    pthread_t maint;
    bool maint_running;
    pthread_mutex_t maint_mu;
    pthread_cond_t maint_cond;
    bool stopping;
    struct vg_server_soc *soc;     /* triage, cases, playbooks, audit (server_soc.c) */
    struct vg_server_intel *intel; /* threat intelligence (server_intel.c); NULL: disabled */
    struct vg_server_vuln *vuln;   /* fleet vulnerabilities (server_vuln.c); NULL: disabled */
};

/* ---------------------------------------------------------------- triage, cases, playbooks */

/*
 * The SOC layer over the pipeline's alerts (server_soc.c): DATA/audit.db, DATA/cases.db,
 * DATA/runs.db and DATA/triage.db. create opens them (after the store), start starts the
 * triage consumer and the playbook workers and registers their REST routes on api (NULL: no
 * API), stop stops them; destroy(NULL) is a no-op.
 */
struct vg_server_soc;
int vg_server_soc_create(struct vg_server *s, char *err, size_t errsz);
int vg_server_soc_start(struct vg_server *s, struct vg_api *api, char *err, size_t errsz);
/* Start the triage consumer (after the API is up). */
int vg_server_soc_run(struct vg_server *s, char *err, size_t errsz);
void vg_server_soc_notify(void *server); /* the pipeline's after_alerts */
void vg_server_soc_stop(struct vg_server *s);
void vg_server_soc_destroy(struct vg_server *s);
/* Per-rule triage counters (false-positive ratios) for GET /api/v1/rules; NULL without triage. */
struct vg_triage *vg_server_triage(struct vg_server *s);
/* The audit log (DATA/audit.db) for changes made outside the SOC layer; NULL without one. */
struct vg_audit *vg_server_audit(struct vg_server *s);

/* The playbooks shipped with Vigie (the .yml files of playbooks/), embedded at build time. */
struct vg_builtin_playbook {
    const char *path; /* "playbooks/ssh-bruteforce-block.yml" */
    const char *text;
    size_t len;
};
extern const struct vg_builtin_playbook vg_builtin_playbook_table[]; /* ends with {NULL} */

/* The web console (the files of web/), embedded at build time by cmake/embed_files.cmake. */
struct vg_web_file {
    const char *path; /* "index.html", "app.js": relative to web/ */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"<16 hex digits of the SHA-256>\"" */
};
extern const struct vg_web_file vg_web_file_table[]; /* ends with {NULL} */
/*
 * Register the console's public routes: GET / (index.html) and GET /ui/{file} (every other
 * file of the table), with their Content-Type and ETag (If-None-Match answers 304). They hold
 * no data: every page reads the REST API with the session cookie. Before vg_api_start.
 */
int vg_server_web_register(struct vg_api *api);

/* GET /api/v1/stream: live updates for the console as server-sent events (server_stream.c). */
int vg_server_stream_register(struct vg_server *s, struct vg_api *api);

/* Users and API tokens of the admin's tenant, /api/v1/users and /api/v1/tokens (server_users.c). */
int vg_server_users_register(struct vg_server *s, struct vg_api *api);

/* Register the server's own HTTP endpoints (search, alerts, rules, stats, metrics, health). */
int vg_server_api_register(struct vg_server *s, struct vg_api *api);
/* Is the pipeline running (not stopped by an unrecoverable error)? */
bool vg_pipeline_alive(struct vg_pipeline *p);

#endif /* VG_SERVER_INT_H */
