/*
 * audit.h — the hash-chained audit log: who changed what, when, with which inputs and
 * results, in a form where any edit or deletion of a past record is detected.
 *
 * Where it sits: every module that changes state on an analyst's or a playbook's behalf
 * (triage exceptions and verdicts, cases, playbook runs and their actions, approvals)
 * appends one record per change. `vigie audit verify` and GET /api/v1/audit/verify check
 * the chain.
 *
 * Format (DATA/audit.db, table audit): seq (1, 2, 3 ... without gaps), ts, tenant, actor,
 * action, object, detail (JSON text), prev (hex SHA-256 of the previous record, 64 zeros
 * for the first), hash = SHA-256 over the canonical encoding of every other column and prev.
 * The head (last seq and hash) is also written to DATA/audit.head after each commit, so
 * deleting the newest records (which leaves a valid shorter chain) is detected too.
 *
 * Threads: vg_audit_append may be called from any thread; appends are serialised and group
 * committed (concurrent callers share one transaction); a record is durable (against a
 * process crash) when the call returns.
 */
#ifndef VG_AUDIT_H
#define VG_AUDIT_H

#include "core/core.h"

struct vg_audit;

struct vg_audit_rec {
    const char *tenant; /* NULL: "default" */
    const char *actor;  /* "user:alice", "token:ci", "playbook:ssh-bruteforce#run-12", "system" */
    const char *action; /* dotted verb: "case.create", "exception.create", "run.approve" ... */
    const char *object; /* what it acted on: "case:12", "run:40", "ip:203.0.113.5" */
    const char *detail; /* JSON text (inputs, outputs); NULL: {} */
};

/* Open (creating) PATH (normally DATA/audit.db); the head file is PATH with ".head". */
int vg_audit_open(const char *path, struct vg_audit **out, char *err, size_t errsz);
void vg_audit_close(struct vg_audit *a); /* NULL: no-op */

/*
 * Append one record; *seq (optional) receives its sequence number. a == NULL is a no-op
 * returning VG_OK (modules run without an audit log in unit tests). Returns VG_OK,
 * VG_EIO / VG_ENOSPC (err says why).
 */
int vg_audit_append(struct vg_audit *a, const struct vg_audit_rec *r, int64_t *seq, char *err,
                    size_t errsz);

struct vg_audit_report {
    int64_t records;  /* records checked */
    int64_t bad_seq;  /* first record that fails (0: none) */
    char reason[256]; /* why it fails ("" when the chain is intact) */
};
/*
 * Verify the whole chain at PATH (read-only; safe while a server appends). Returns VG_OK
 * when intact, VG_EINVAL when tampered (report says where and why), other codes on I/O
 * errors.
 */
int vg_audit_verify(const char *path, struct vg_audit_report *rep, char *err, size_t errsz);

struct vg_audit_query {
    const char *tenant;        /* NULL: all */
    const char *object;        /* NULL: all; exact match */
    const char *action_prefix; /* NULL: all; "case." */
    int64_t before_seq;        /* paging: only seq below this; 0: none */
    size_t limit;              /* 0: 100 */
    /* newest first; strings borrowed until the callback returns; non-VG_OK stops */
    int (*on_rec)(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *r,
                  const char *hash);
    void *ctx;
};
int vg_audit_query(struct vg_audit *a, const struct vg_audit_query *q, char *err, size_t errsz);

/* The database path the log was opened with (borrowed). */
const char *vg_audit_path(const struct vg_audit *a);

/* GET /api/v1/audit (list, admin) and GET /api/v1/audit/verify (admin). */
struct vg_api;
int vg_audit_api_register(struct vg_audit *a, struct vg_api *api);

#endif /* VG_AUDIT_H */
