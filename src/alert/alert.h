/*
 * alert.h — triage: the consumer of the store's alerts that turns them into incidents.
 *
 * Where it sits: the server's pipeline appends every Sigma/correlation alert to the store's
 * alerts table; the triage consumer reads them in id order after its position and decides,
 * for each one:
 *
 *   dedup       fingerprint = hash(tenant, rule, host, user, src_ip, dst_ip, process); the
 *               same fingerprint within the suppression window (1 h; per rule configurable)
 *               is a duplicate of the first alert (its count grows, nothing else happens);
 *   exceptions  an active exception (rule or "*", optional entity, optional field globs,
 *               expiry, reason) suppresses the alert;
 *   risk        each remaining alert adds risk to each of its entities (host, user, ip,
 *               process): base by level x asset criticality + a bonus per tactic new to the
 *               entity; entities keep a sliding window (24 h) of contributions and the
 *               ATT&CK tactics seen in 7 days;
 *   incidents   an incident opens when an entity's windowed risk reaches the threshold (100)
 *               or it shows 3 distinct tactics; later alerts sharing an entity with an open
 *               incident (within 24 h of its last alert) join it.
 *
 * Every decision of a batch is written to DATA/triage.db in one transaction together with the
 * consumer position, so a restart neither repeats nor loses a decision; the in-memory state
 * (open incidents, windows, fingerprints) is rebuilt from that file on open.
 * Analysts act through REST (vg_alert_api_register): incidents, exceptions with a backtest,
 * verdicts with per-rule false-positive ratios. See docs/triage.md.
 *
 * Threads: one engine, one mutex. The consumer thread takes it once per batch (the hot path
 * itself takes no lock); the REST handlers and the other public calls take it too, so every
 * function here may be called from any thread. Hooks run under that mutex: they must not
 * call back into vg_triage_*.
 */
#ifndef VG_ALERT_H
#define VG_ALERT_H

#include "core/core.h"
#include "store/store.h"

struct vg_audit;
struct vg_api;
struct vg_triage;

/* ---------------------------------------------------------------- configuration */

struct vg_triage_opts {
    int64_t dedup_window;         /* ns: a repeated fingerprint within this is a duplicate (1 h) */
    struct vg_strlist rule_dedup; /* "RULE_ID=DURATION" per-rule dedup windows */
    int64_t risk_window;          /* ns: entity risk is summed over this (24 h) */
    int64_t tactic_window;        /* ns: distinct tactics are counted over this (7 d) */
    int64_t group_window;   /* ns: alerts join an incident whose last alert is this recent (24 h) */
    int64_t risk_threshold; /* windowed entity risk that opens an incident (100) */
    int64_t tactic_threshold; /* distinct tactics that open an incident (3; 0: off) */
    int64_t risk_info;        /* base risk of an informational alert (0) */
    int64_t risk_low;         /* (5) */
    int64_t risk_medium;      /* (20) */
    int64_t risk_high;        /* (40) */
    int64_t risk_critical;    /* (80) */
    int64_t tactic_bonus;     /* added per tactic new to the entity in the tactic window (10) */
    struct vg_strlist criticality; /* "host:db-*=2", "user:admin*=1.5": multiplier by glob */
    int64_t batch;                 /* alerts per consumer batch (1000) */
    int64_t poll_ms;               /* consumer poll period without notify (200) */
    int64_t retry_ms;              /* wait before retrying a batch a hook refused (1000) */
    int64_t backtest_days;         /* default backtest period (30) */
};

/*
 * The configuration table (keys of the server's `triage:` section, e.g. "dedup_window"),
 * bound with vg_conf_defaults / vg_conf_bind onto a struct vg_triage_opts; release with
 * vg_conf_release (or vg_triage_opts_fini).
 */
const struct vg_conf_field *vg_triage_conf_table(size_t *n);
/* Fill o with the defaults (never fails except VG_ENOMEM). */
int vg_triage_opts_init(struct vg_triage_opts *o);
void vg_triage_opts_fini(struct vg_triage_opts *o);

/* ---------------------------------------------------------------- engine */

/*
 * Open the engine. data_dir: DATA (triage.db is created there) or NULL for a memory-only
 * engine (benchmarks, tests: nothing is persisted). o: NULL for the defaults (copied).
 * audit: where exception and verdict changes are recorded (NULL: not audited; borrowed,
 * must outlive t). The in-memory state is rebuilt from triage.db. Returns VG_OK, VG_EINVAL
 * (bad criticality or rule_dedup entry: err names it), VG_EIO, VG_ENOMEM.
 */
int vg_triage_open(const char *data_dir, const struct vg_triage_opts *o, struct vg_audit *audit,
                   struct vg_triage **out, char *err, size_t errsz);
/* Stop the consumer (if started) and free everything. NULL: no-op. */
void vg_triage_destroy(struct vg_triage *t);

/* What the hooks receive. Every pointer is borrowed for the duration of the call. */
struct vg_triage_alert_out {
    const struct vg_store_alert *alert;
    const char *fingerprint; /* 16 hex digits */
    int64_t incident_id;     /* 0: none */
    double risk;             /* risk the alert added (the largest over its entities) */
    const char *json;        /* {"alert":{store fields},"triage":{fingerprint,incident_id,risk}} */
    size_t json_len;
};

struct vg_triage_incident_out {
    int64_t id;
    const char *tenant;
    const char *title;
    const char *status; /* "open", "acknowledged", "closed" */
    int severity;       /* the highest alert level */
    double risk;
    int64_t alert_count;
    const char *json; /* the incident object as GET /api/v1/incidents/{id} shows it */
    size_t json_len;
};

/*
 * Callbacks for the playbook engine. on_alert: every alert of the batch that is neither a
 * duplicate nor suppressed. on_incident: each incident opened (opened = true) or changed
 * (risk, alerts) by the batch, once per batch. Both run before the batch commits; a non-VG_OK
 * return rolls the batch back and it is retried later, so they must be idempotent by alert /
 * incident id. Either may be NULL.
 */
struct vg_triage_hooks {
    int (*on_alert)(void *ctx, const struct vg_triage_alert_out *a);
    int (*on_incident)(void *ctx, const struct vg_triage_incident_out *inc, bool opened);
    void *ctx;
};

struct vg_triage_batch_stats {
    size_t seen;    /* alerts handed in */
    size_t skipped; /* id at or below the position: triaged before */
    size_t duplicates;
    size_t suppressed;
    size_t passed;  /* neither duplicate nor suppressed */
    size_t opened;  /* incidents opened */
    size_t grouped; /* alerts that joined (or opened) an incident */
};

/*
 * Triage a batch of alerts (normally the consumer thread does this). Alerts must come in id
 * order; ids at or below the position are skipped (already triaged). Decisions, the
 * position (the last id) and the state needed after a restart commit in one transaction,
 * after the hooks (NULL: none) accepted them. Returns VG_OK; VG_AGAIN when a hook refused
 * (nothing of the batch is kept: memory is rebuilt from triage.db); VG_EIO / VG_ENOSPC /
 * VG_ENOMEM (idem). st may be NULL.
 */
int vg_triage_process(struct vg_triage *t, const struct vg_store_alert *a, size_t n,
                      const struct vg_triage_hooks *hooks, struct vg_triage_batch_stats *st,
                      char *err, size_t errsz);
/* The last alert id triaged (0: none). */
int64_t vg_triage_position(struct vg_triage *t);
/*
 * A number that changes whenever the incidents may have changed: alerts triaged or an
 * incident updated (vg_triage_incident_update). For change detection (the console's live
 * stream), not a count. Thread-safe.
 */
uint64_t vg_triage_changes(struct vg_triage *t);

/* ---------------------------------------------------------------- consumer thread */

/*
 * Start the consumer: it reads store alerts after the position in id order (opts.batch at a
 * time), triages them with the hooks (copied; may be NULL), waking on vg_triage_notify or
 * every opts.poll_ms. store (borrowed) is also what the REST handlers and the backtest read.
 * Returns VG_OK, VG_EEXIST (started already), VG_ERROR (thread).
 */
int vg_triage_start(struct vg_triage *t, struct vg_store *store, const struct vg_triage_hooks *h);
/* Wake the consumer (the server's writer calls this after appending alerts). Cheap. */
void vg_triage_notify(struct vg_triage *t);
/* Stop and join the consumer (idempotent). */
void vg_triage_stop(struct vg_triage *t);
/* Wait until the consumer has triaged every alert of the store (tests). VG_ETIMEOUT. */
int vg_triage_wait_idle(struct vg_triage *t, int64_t timeout_ms);

/* ---------------------------------------------------------------- exceptions */

/*
 * Exceptions as JSON (the body of POST /api/v1/exceptions):
 *   {"rule":"RULE_ID or *", "entity":{"type":"host|user|ip|process","value":"GLOB"},
 *    "fields":{"NAME":"GLOB", ...}, "expires":"RFC 3339 | 2h | never", "reason":"..."}
 * Field names are the alert's (rule_id, title, host, user, src_ip, dst_ip, process, level)
 * or the event's (top-level or dotted, e.g. "process.command_line"). Returns the new
 * exception's id in *id. VG_EINVAL with err like
 * "exceptions: field 'expires': not a time or duration". Audited as exception.create.
 */
int vg_triage_exception_add(struct vg_triage *t, const char *tenant, const char *actor,
                            const char *json, size_t len, int64_t *id, char *err, size_t errsz);
/* Delete (audited as exception.delete). VG_ENOENT when tenant has no such exception. */
int vg_triage_exception_delete(struct vg_triage *t, const char *tenant, const char *actor,
                               int64_t id, char *err, size_t errsz);
/* Append the tenant's exceptions as a JSON array to out. */
int vg_triage_exception_list(struct vg_triage *t, const char *tenant, struct vg_sbuf *out);

/* Just the parser (fuzzed): VG_OK when json is a valid exception. */
int vg_triage_exception_check(const char *json, size_t len, char *err, size_t errsz);

struct vg_triage_backtest {
    int64_t matched;     /* alerts the candidate would have suppressed */
    int64_t scanned;     /* alerts looked at */
    int64_t samples[10]; /* a few of the matched alert ids, newest first */
    size_t nsamples;
};
/*
 * Count the tenant's alerts of the store in the last days (0: opts.backtest_days) that the
 * candidate exception json would have suppressed (expiry ignored). Needs the store given to
 * vg_triage_start (or vg_triage_set_store). VG_EINVAL for a bad candidate.
 */
int vg_triage_exception_backtest(struct vg_triage *t, const char *tenant, const char *json,
                                 size_t len, int days, struct vg_triage_backtest *bt, char *err,
                                 size_t errsz);
/* Give the engine the store to read (backtests, incident details) without starting the consumer. */
void vg_triage_set_store(struct vg_triage *t, struct vg_store *store);

/* ---------------------------------------------------------------- verdicts */

enum vg_triage_verdict {
    VG_TRIAGE_VERDICT_NONE = 0,
    VG_TRIAGE_VERDICT_TP,     /* "true_positive" */
    VG_TRIAGE_VERDICT_BENIGN, /* "benign" (true positive, expected activity) */
    VG_TRIAGE_VERDICT_FP,     /* "false_positive" */
};
const char *vg_triage_verdict_name(int v); /* "" for NONE */
int vg_triage_verdict_parse(const char *s, int *out);

/*
 * Set the verdict of a triaged alert of tenant (replacing any earlier one); audited as
 * alert.verdict. VG_ENOENT when the alert is unknown to the tenant or not triaged yet.
 */
int vg_triage_verdict_set(struct vg_triage *t, const char *tenant, const char *actor,
                          int64_t alert_id, int verdict, const char *comment, char *err,
                          size_t errsz);

struct vg_triage_rule_stats {
    const char *rule_id;
    int64_t alerts; /* triaged (duplicates included) */
    int64_t duplicates;
    int64_t suppressed;
    int64_t tp, benign, fp;
    double fp_ratio; /* fp / (tp + benign + fp); 0 without verdicts */
};
/* Call fn for each rule of tenant that has alerts (by rule id); fn's non-VG_OK stops. */
int vg_triage_rule_stats(struct vg_triage *t, const char *tenant,
                         int (*fn)(void *ctx, const struct vg_triage_rule_stats *r), void *ctx);

/* ---------------------------------------------------------------- incidents */

/*
 * Change an incident of tenant: status ("open", "acknowledged", "closed"; NULL: keep),
 * assignee (NULL: keep; "" clears), verdict (VG_TRIAGE_VERDICT_NONE: keep) and summary.
 * Closing with a verdict applies it to the incident's alerts that have none. Audited as
 * incident.update. VG_ENOENT, VG_EINVAL (err says which field).
 */
int vg_triage_incident_update(struct vg_triage *t, const char *tenant, const char *actor,
                              int64_t id, const char *status, const char *assignee, int verdict,
                              const char *summary, char *err, size_t errsz);
/*
 * Append the tenant's incidents (status NULL: all), highest risk first, at most limit (0:
 * 100), to out as GET /api/v1/incidents answers: {"incidents":[...]}.
 */
int vg_triage_incidents_json(struct vg_triage *t, const char *tenant, const char *status,
                             size_t limit, struct vg_sbuf *out);
/* Append incident id of tenant as JSON to out (as the API shows it). VG_ENOENT. */
int vg_triage_incident_json(struct vg_triage *t, const char *tenant, int64_t id,
                            struct vg_sbuf *out);

/* ---------------------------------------------------------------- REST */

/*
 * Register the triage endpoints on api (before vg_api_start); t must outlive api:
 *   GET    /api/v1/incidents                 (read)    status, min_risk, assignee, q, limit, before
 *   GET    /api/v1/incidents/{id}            (read)    incident, alerts, entities, timeline
 *   PATCH  /api/v1/incidents/{id}            (analyst) status, assignee, verdict, summary
 *   GET    /api/v1/exceptions                (read)
 *   POST   /api/v1/exceptions                (analyst) "dry_run":true answers the backtest
 *   DELETE /api/v1/exceptions/{id}           (analyst)
 *   POST   /api/v1/exceptions/backtest       (analyst)
 *   POST   /api/v1/alerts/{id}/verdict       (analyst) {"verdict":"false_positive","comment":""}
 *   GET    /api/v1/alerts/{id}/triage        (read)
 *   GET    /api/v1/triage/rules              (read)    per-rule counts and fp ratio
 */
int vg_alert_api_register(struct vg_triage *t, struct vg_api *api);

#endif /* VG_ALERT_H */
