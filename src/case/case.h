/*
 * case.h — cases (modelled on TheHive's): an investigation that gathers alerts, observables,
 * tasks, comments and a timeline, and ends with a verdict and a post-incident report.
 *
 * Where it sits: analysts work cases through the REST API (vg_case_api_register) and
 * playbook actions (case.create, case.comment, case.observable, case.task, case.status) call
 * the functions below from the engine's worker threads. Linked alerts are read from the
 * store; their entities (hosts, users, IPs, hashes, URLs ...) become observables and their
 * ATT&CK techniques feed the report. State lives in DATA/cases.db (SQLite, WAL); every change
 * appends a timeline entry and an audit record (action "case.<verb>", object "case:<id>").
 *
 * Conventions for every changing call:
 *   - op->tenant scopes everything (NULL: "default"); a case of another tenant is VG_ENOENT;
 *   - op->actor is recorded in the timeline and the audit log (NULL: "system");
 *   - op->op_key (optional) makes the call idempotent: the same key (per tenant) a second
 *     time returns the first call's result (its id) and changes nothing — a playbook step
 *     re-run after a crash creates no second case or comment;
 *   - errors: VG_EINVAL (bad input; err names the field), VG_ENOENT (no such case/task/alert
 *     in this tenant), VG_EIO / VG_ENOSPC (database), VG_ENOMEM.
 * Threads: a struct vg_case_db may be used from any number of threads at once (calls are
 * serialised on one connection).
 *
 * Strings passed in are copied; JSON outputs are appended to the caller's vg_sbuf.
 */
#ifndef VG_CASE_H
#define VG_CASE_H

#include "core/core.h"
#include "event/event.h"

struct vg_store;
struct vg_audit;
struct vg_api;
struct vg_case_db;

/* ---------------------------------------------------------------- enumerations */

/* Severity (TheHive's numbering). */
enum vg_case_severity {
    VG_CASE_SEV_LOW = 1,
    VG_CASE_SEV_MEDIUM = 2,
    VG_CASE_SEV_HIGH = 3,
    VG_CASE_SEV_CRITICAL = 4,
};
/* Traffic Light Protocol 2.0 ("white" is accepted for clear). 0 in inputs: unset. */
enum vg_case_tlp {
    VG_CASE_TLP_CLEAR = 1,
    VG_CASE_TLP_GREEN = 2,
    VG_CASE_TLP_AMBER = 3,
    VG_CASE_TLP_AMBER_STRICT = 4,
    VG_CASE_TLP_RED = 5,
};
/* Permissible Actions Protocol ("white" is accepted for clear). 0 in inputs: unset. */
enum vg_case_pap {
    VG_CASE_PAP_CLEAR = 1,
    VG_CASE_PAP_GREEN = 2,
    VG_CASE_PAP_AMBER = 3,
    VG_CASE_PAP_RED = 4,
};
enum vg_case_status {
    VG_CASE_NEW = 1,
    VG_CASE_IN_PROGRESS = 2,
    VG_CASE_RESOLVED = 3,
};
enum vg_case_verdict {
    VG_CASE_TRUE_POSITIVE = 1,
    VG_CASE_FALSE_POSITIVE = 2,
    VG_CASE_BENIGN = 3,
    VG_CASE_DUPLICATE = 4,
};
enum vg_case_task_status {
    VG_CASE_TASK_WAITING = 1,
    VG_CASE_TASK_IN_PROGRESS = 2,
    VG_CASE_TASK_COMPLETED = 3,
    VG_CASE_TASK_CANCELLED = 4,
};

/* Names ("low", "amber+strict", "in_progress", "true_positive", ...); "" for unknown. */
const char *vg_case_severity_name(int sev);
const char *vg_case_tlp_name(int tlp);
const char *vg_case_pap_name(int pap);
const char *vg_case_status_name(int status);
const char *vg_case_verdict_name(int verdict);
const char *vg_case_task_status_name(int status);
/* Parse a name (or for severity also "1".."4"); VG_OK or VG_EINVAL. */
int vg_case_severity_parse(const char *s, int *out);
int vg_case_tlp_parse(const char *s, int *out);
int vg_case_pap_parse(const char *s, int *out);
int vg_case_status_parse(const char *s, int *out);
int vg_case_verdict_parse(const char *s, int *out);
int vg_case_task_status_parse(const char *s, int *out);

/* ---------------------------------------------------------------- the database */

/*
 * Open (creating) the case database at path (normally DATA/cases.db). store (may be NULL:
 * linking alerts then fails with VG_EUNSUPPORTED) is read for linked alerts; audit (may be
 * NULL: no audit records) receives one record per change. Both are borrowed and must
 * outlive db. Returns VG_OK, VG_EIO, VG_ENOMEM (err says why).
 */
int vg_case_db_open(const char *path, struct vg_store *store, struct vg_audit *audit,
                    struct vg_case_db **out, char *err, size_t errsz);
void vg_case_db_close(struct vg_case_db *db); /* NULL: no-op */

/* Who acts, for which tenant, under which idempotency key. */
struct vg_case_op {
    const char *tenant; /* NULL: "default" */
    const char *actor;  /* "user:alice", "token:ci", "playbook:x#r-4"; NULL: "system" */
    const char *op_key; /* NULL: not idempotent */
};

/* ---------------------------------------------------------------- cases */

struct vg_case_new {
    const char *title;       /* required, 1-512 bytes */
    const char *description; /* markdown; NULL: "" */
    int severity;            /* enum vg_case_severity; 0: medium */
    int tlp;                 /* enum vg_case_tlp; 0: amber */
    int pap;                 /* enum vg_case_pap; 0: amber */
    const char *tags;        /* JSON array of strings; NULL: [] */
    const char *custom;      /* JSON object (custom fields); NULL: {} */
    const char *assignee;    /* NULL or "": unassigned */
};
/* Create a case (status new); *id receives its id. */
int vg_case_create(struct vg_case_db *db, const struct vg_case_op *op, const struct vg_case_new *c,
                   int64_t *id, char *err, size_t errsz);

/*
 * A partial update: NULL strings and 0 numbers leave a field unchanged; assignee "" clears
 * it. Setting status resolved requires a verdict (given here or already set) and records a
 * "closed" timeline entry; other status changes record "status".
 */
struct vg_case_update {
    const char *title;
    const char *description;
    int severity, tlp, pap;
    int status;          /* enum vg_case_status */
    int verdict;         /* enum vg_case_verdict */
    const char *summary; /* closing summary */
    const char *assignee;
    const char *tags;   /* JSON array: replaces the tags */
    const char *custom; /* JSON object: its keys are set (null removes a key) */
    const char *root_cause;
    const char *lessons_learned;
};
int vg_case_update(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                   const struct vg_case_update *u, char *err, size_t errsz);

/*
 * The case as a JSON object: id, tenant, title, description, severity, tlp, pap, status,
 * verdict, summary, assignee, tags, custom, root_cause, lessons_learned, created, updated,
 * closed, merged_into, alerts (linked alert summaries), incidents, counts. VG_ENOENT if absent.
 */
int vg_case_get(struct vg_case_db *db, const char *tenant, int64_t id, struct vg_sbuf *out,
                char *err, size_t errsz);

struct vg_case_filter {
    int status;           /* 0: any */
    const char *assignee; /* NULL: any */
    int severity;         /* 0: any */
    const char *tag;      /* NULL: any (exact tag) */
    int64_t before_id;    /* paging: ids below this; 0: none */
    size_t limit;         /* 0: 50; at most 500 */
};
/* {"cases":[{id,title,severity,status,...}], "next_before_id":N|null}, newest first. */
int vg_case_list(struct vg_case_db *db, const char *tenant, const struct vg_case_filter *f,
                 struct vg_sbuf *out, char *err, size_t errsz);

/* ---------------------------------------------------------------- alerts */

struct vg_case_link_result {
    size_t alerts_linked; /* newly linked (already linked ones are skipped) */
    size_t incidents_linked;
    size_t observables_added; /* new observables extracted from the alerts */
};
/*
 * Link alerts (ids in the store, same tenant) and incidents (ids kept as links) to case id.
 * The alerts' entities and ECS fields of their events become observables (see docs/cases.md).
 * VG_ENOENT names the first alert id not found in this tenant; nothing is linked then.
 */
int vg_case_link(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                 const int64_t *alert_ids, size_t nalerts, const int64_t *incident_ids,
                 size_t nincidents, struct vg_case_link_result *res, char *err, size_t errsz);

/* ---------------------------------------------------------------- observables */

struct vg_case_observable {
    const char *type;  /* ip, domain, fqdn, url, hash, mail, filename, user-agent, hostname,
                          user, other; NULL or "auto": detected from the value */
    const char *value; /* required */
    int ioc;           /* 1 yes, 0 no, -1: default (public IPs, hashes, urls... yes; private
                          and loopback IPs, users, hostnames no) */
    bool sighted;
    const char *tags;    /* JSON array; NULL: [] */
    const char *message; /* free text; NULL: "" */
};
/*
 * Add an observable; values are normalised (IPs canonical, hashes/domains lower-case) and
 * de-duplicated by type+value per case: a duplicate merges its tags, ORs ioc/sighted and
 * sets *added false. *obs_id (may be NULL) receives the observable's id. Type "hash" is
 * checked and refined by length (md5 32, sha1 40, sha256 64 hex digits); type "ip" must parse.
 */
int vg_case_observable_add(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                           const struct vg_case_observable *o, int64_t *obs_id, bool *added,
                           char *err, size_t errsz);
/*
 * Type detection used above: writes the type ("ip", "hash", "url", "mail", "fqdn",
 * "other"...) and subtype ("ipv4", "ipv6", "md5", "sha1", "sha256" or "") for value.
 */
void vg_case_observable_detect(const char *value, const char **type, const char **subtype);
/* {"observables":[...]} of case id. */
int vg_case_observables_json(struct vg_case_db *db, const char *tenant, int64_t id,
                             struct vg_sbuf *out, char *err, size_t errsz);

/* ---------------------------------------------------------------- tasks */

struct vg_case_task {
    const char *title;       /* required on add */
    const char *group;       /* NULL: "default" */
    const char *description; /* NULL: "" */
    int status;              /* enum vg_case_task_status; 0: waiting (add) / unchanged */
    const char *assignee;    /* NULL: none / unchanged; "" clears */
};
int vg_case_task_add(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                     const struct vg_case_task *t, int64_t *task_id, char *err, size_t errsz);
/* Update task_id (NULL/0 fields unchanged; title too); *case_id (may be NULL) gets its case. */
int vg_case_task_update(struct vg_case_db *db, const struct vg_case_op *op, int64_t task_id,
                        const struct vg_case_task *t, int64_t *case_id, char *err, size_t errsz);
/* {"tasks":[...]} of case id. */
int vg_case_tasks_json(struct vg_case_db *db, const char *tenant, int64_t id, struct vg_sbuf *out,
                       char *err, size_t errsz);

/* ---------------------------------------------------------------- comments and timeline */

/* Add a markdown comment (1 byte - 1 MiB); *comment_id may be NULL. */
int vg_case_comment_add(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                        const char *markdown, int64_t *comment_id, char *err, size_t errsz);

/*
 * Append a timeline entry of kind (e.g. "action" for a playbook action) with text and an
 * optional JSON object detail_json (NULL: {}), plus an audit record "case.timeline". op_key
 * as for every change (NULL: none). actor NULL: "system".
 */
int vg_case_timeline_add(struct vg_case_db *db, const char *tenant, int64_t case_id,
                         const char *actor, const char *kind, const char *text,
                         const char *detail_json, const char *op_key, char *err, size_t errsz);
/* {"timeline":[{id,ts,actor,kind,text,detail}]} oldest first. */
int vg_case_timeline_json(struct vg_case_db *db, const char *tenant, int64_t id,
                          struct vg_sbuf *out, char *err, size_t errsz);

/* ---------------------------------------------------------------- merge and report */

/*
 * Merge case from into case into (same tenant): from's alert and incident links,
 * observables (deduplicated), tasks, comments and timeline move to into; from is closed
 * (resolved, duplicate, merged_into = into). VG_EINVAL if into == from or from was merged.
 */
int vg_case_merge(struct vg_case_db *db, const struct vg_case_op *op, int64_t into, int64_t from,
                  char *err, size_t errsz);

/*
 * The post-incident report of case id in format "markdown" or "html" (a standalone document:
 * every value HTML-escaped, inline CSS, its own Content-Security-Policy, no script).
 * VG_EINVAL for another format.
 */
int vg_case_report(struct vg_case_db *db, const char *tenant, int64_t id, const char *format,
                   struct vg_sbuf *out, char *err, size_t errsz);

/* ---------------------------------------------------------------- JSON inputs */

/*
 * Read the JSON objects of the REST API and of playbook steps into the structs above.
 * Strings point into the JSON (or arena) — keep both alive while using the struct. Errors
 * are VG_EINVAL with err "cases: field 'NAME': reason". Unknown fields are errors.
 *   new:        title, description, severity (1-4 or name), tlp, pap, tags [], custom {},
 *               assignee
 *   update:     the same + status, verdict (alias resolution), summary, root_cause,
 *               lessons_learned
 *   observable: type (alias dataType), value (alias data), ioc, sighted, tags, message
 *   task:       title, group, description, status, assignee
 */
int vg_case_parse_new(const struct vg_json *in, struct vg_arena *a, struct vg_case_new *out,
                      char *err, size_t errsz);
int vg_case_parse_update(const struct vg_json *in, struct vg_arena *a, struct vg_case_update *out,
                         char *err, size_t errsz);
int vg_case_parse_observable(const struct vg_json *in, struct vg_arena *a,
                             struct vg_case_observable *out, char *err, size_t errsz);
int vg_case_parse_task(const struct vg_json *in, struct vg_arena *a, struct vg_case_task *out,
                       char *err, size_t errsz);

/* ---------------------------------------------------------------- REST */

/*
 * Register the /api/v1/cases routes (see docs/cases.md) on api before vg_api_start; db must
 * outlive api. Reads need role read, changes analyst; all are scoped to the request's tenant.
 */
int vg_case_api_register(struct vg_case_db *db, struct vg_api *api);

#endif /* VG_CASE_H */
