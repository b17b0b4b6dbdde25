/*
 * respond.h — Vigie's SOAR module: playbooks (YAML), safe templating, and a durable run engine.
 *
 * Where it sits: triage hands alerts and incidents to vg_respond_trigger(); every playbook
 * whose triggers match gets one run (idempotent per playbook and source key). A run executes
 * its steps — actions from the table in respond_action.h — on worker threads, with retries,
 * deadlines, parallel groups and approval gates. Every state change is journalled in
 * DATA/runs.db (group committed) so that a restart resumes each run where it stopped, and
 * audited with vg_audit_append. The REST routes (vg_respond_api_register) and the CLI
 * (`vigie playbook`) sit on top. docs/playbooks.md describes the language.
 *
 * Threads: every vg_respond_* function may be called from any thread.
 */
#ifndef VG_RESPOND_H
#define VG_RESPOND_H

#include "core/core.h"

struct vg_respond;
struct vg_respond_services;
struct vg_api;
struct vg_playbook;

/* ---------------------------------------------------------------- playbooks */

/*
 * Parse and check one playbook. file names it in messages. On error returns VG_EINVAL and
 * err holds "file:line: field: reason" (e.g. "a.yml:14: steps[2].retry.max: expected an
 * integer 0-20"). *out holds one reference (vg_playbook_unref).
 */
int vg_playbook_parse(const char *file, const char *text, size_t len, struct vg_playbook **out,
                      char *err, size_t errsz);
/* Read and parse a file (the message names its base name). */
int vg_playbook_load_file(const char *path, struct vg_playbook **out, char *err, size_t errsz);
void vg_playbook_unref(struct vg_playbook *pb); /* NULL: no-op */
const char *vg_playbook_id(const struct vg_playbook *pb);

/*
 * Dry run for `vigie playbook test`: match the triggers against ctx_json ({"alert":{..}} or
 * {"incident":{..}}) saying why each does or does not match, evaluate the condition, render
 * every step's inputs and let each action describe what it would do (svc->dry_run must be
 * true). Writes a report to out. Returns VG_OK, or VG_EINVAL for bad context JSON (err
 * says where).
 */
int vg_playbook_dry_run(const struct vg_playbook *pb, const char *ctx_json, size_t len,
                        const struct vg_respond_services *svc, FILE *out, char *err, size_t errsz);

/* ---------------------------------------------------------------- the engine */

struct vg_respond_opts {
    const char *data_dir;                  /* required: DATA/runs.db lives here */
    unsigned workers;                      /* action threads (0: 4) */
    const struct vg_respond_services *svc; /* required; borrowed for the engine's life */
    const char *playbook_dir;              /* *.yml / *.yaml loaded from here (optional) */
    const char *const *playbook_files;     /* and/or these files */
    size_t nplaybook_files;
    int64_t tick_ms;          /* watchdog period (0: 50) */
    int64_t abandon_grace_ms; /* past a step's deadline before its worker is
                                 abandoned (0: 1000) */
};

/*
 * Open the journal, load playbooks (files that fail are listed with their errors, not
 * fatal), and resume every unfinished run. Returns VG_OK, VG_EIO (err says why).
 */
int vg_respond_create(const struct vg_respond_opts *o, struct vg_respond **out, char *err,
                      size_t errsz);
/*
 * Stop: no new steps start; in-flight steps finish (or are abandoned at their deadline);
 * the journal is flushed. Runs stay unfinished in the journal and resume on the next create.
 */
void vg_respond_stop(struct vg_respond *e);
/*
 * Free everything. Without a prior stop it behaves like a crash for the journal: queued,
 * uncommitted changes are dropped (tests use this for kill -9). NULL: no-op.
 */
void vg_respond_destroy(struct vg_respond *e);

/* Reload the playbooks (a new generation; running runs keep theirs). err: summary. */
int vg_respond_reload(struct vg_respond *e, char *err, size_t errsz);
/* Add or replace one playbook from text (tests, the API's validate uses parse only). */
int vg_respond_playbook_put(struct vg_respond *e, const char *file, const char *text, size_t len,
                            char *err, size_t errsz);

/*
 * Start a run of every enabled playbook whose triggers match. kind is "alert", "incident"
 * or "manual"; context_json is an object ({"alert":{...}}); source_key ("alert:123") makes
 * it idempotent: a second call with the same key creates nothing. *created (optional)
 * receives the number of new runs. Returns once the runs are durable.
 */
int vg_respond_trigger(struct vg_respond *e, const char *kind, const char *tenant,
                       const char *context_json, const char *source_key, size_t *created, char *err,
                       size_t errsz);
/* Run one playbook by hand (its triggers are not checked; `enabled` is). */
int vg_respond_run_manual(struct vg_respond *e, const char *playbook_id, const char *tenant,
                          const char *context_json, const char *actor, int64_t *run_id, char *err,
                          size_t errsz);

/* Who approves: the API's principal (role: enum vg_api_role). */
struct vg_respond_principal {
    const char *name;
    int role;
};
/*
 * Decide a pending approval step. VG_ENOENT (no such run/pending approval in tenant),
 * VG_EDENIED (the principal is not an approver), VG_OK.
 */
int vg_respond_approve(struct vg_respond *e, const char *tenant, int64_t run_id,
                       const char *step_id, const struct vg_respond_principal *who, bool approve,
                       const char *comment, char *err, size_t errsz);
/* Cancel an unfinished run. VG_ENOENT, VG_EINVAL (already finished), VG_OK. */
int vg_respond_cancel(struct vg_respond *e, const char *tenant, int64_t run_id, const char *actor,
                      char *err, size_t errsz);

/*
 * Wait until the run ended or timeout_ms passed; status (>= 16 bytes) receives "running",
 * "succeeded", "failed", "timed_out", "denied" or "cancelled". VG_ETIMEOUT, VG_ENOENT, VG_OK.
 */
int vg_respond_run_wait(struct vg_respond *e, int64_t run_id, int64_t timeout_ms, char *status,
                        size_t size);
/* Wait until no run is unfinished in memory (bench, tests). */
int vg_respond_wait_idle(struct vg_respond *e, int64_t timeout_ms);

/* JSON views (appended to out); tenant scoped. VG_ENOENT when absent. */
int vg_respond_run_json(struct vg_respond *e, const char *tenant, int64_t run_id,
                        struct vg_sbuf *out);
struct vg_respond_run_filter {
    const char *status;   /* NULL: all */
    const char *playbook; /* NULL: all */
    int64_t before_id;    /* paging: ids below; 0: none */
    size_t limit;         /* 0: 100 */
};
int vg_respond_runs_json(struct vg_respond *e, const char *tenant,
                         const struct vg_respond_run_filter *f, struct vg_sbuf *out);
int vg_respond_approvals_json(struct vg_respond *e, const char *tenant, const char *status,
                              struct vg_sbuf *out);
int vg_respond_playbooks_json(struct vg_respond *e, struct vg_sbuf *out);
int vg_respond_playbook_json(struct vg_respond *e, const char *id, struct vg_sbuf *out);

struct vg_respond_stats {
    uint64_t runs_started, runs_ended, steps_run, step_retries, steps_timed_out;
    uint64_t journal_batches, journal_changes, workers_abandoned;
};
void vg_respond_stats(struct vg_respond *e, struct vg_respond_stats *st);

/* REST routes under /api/v1/playbooks, /runs, /approvals. */
int vg_respond_api_register(struct vg_respond *e, struct vg_api *api);

#endif /* VG_RESPOND_H */
