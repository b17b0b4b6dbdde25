/*
 * alert_int.h — internals of the triage engine shared by the alert_*.c files.
 *
 * The engine's memory: a fingerprint table (dedup), an entity table (risk windows and tactic
 * timestamps), the open incidents, the per-rule counters and the exceptions. All of it is
 * owned by struct vg_triage and guarded by its one mutex (taken per batch, per API call).
 * alert_db.c mirrors each batch into triage.db and rebuilds this state from it.
 */
#ifndef VG_ALERT_INT_H
#define VG_ALERT_INT_H

#include "alert/alert.h"
#include "event/event.h"

#include <pthread.h>

struct sqlite3;
struct sqlite3_stmt;

#define TX_NTACTICS   14
#define TX_SAMPLE_MAX 10

/* ---------------------------------------------------------------- hash map */

/* Open addressing, linear probing, u64 keys (0 is remapped), values are pointers. */
struct tx_map {
    uint64_t *keys;
    void **vals;
    size_t cap; /* power of two or 0 */
    size_t n;
};
void *tx_map_get(const struct tx_map *m, uint64_t key);
int tx_map_put(struct tx_map *m, uint64_t key, void *val);
void tx_map_del(struct tx_map *m, uint64_t key);
void tx_map_fini(struct tx_map *m);

/* ---------------------------------------------------------------- entities */

enum tx_etype {
    TX_E_HOST = 1,
    TX_E_USER,
    TX_E_IP,
    TX_E_PROCESS,
};
enum tx_role {
    TX_R_HOST = 1,
    TX_R_USER = 2,
    TX_R_SRC = 4,
    TX_R_DST = 8,
    TX_R_PROCESS = 16,
};
const char *tx_etype_name(int type);
int tx_etype_parse(const char *s, size_t n);

/* One alert's contribution to an entity's risk window. */
struct tx_contrib {
    vg_time_t ts;
    int64_t alert_id;
    int64_t incident_id; /* the incident the alert joined (0: none) */
    float risk;
    uint16_t tactics;
    uint8_t level;
};

struct tx_entity {
    uint64_t key;
    char *tenant;
    char *value;
    uint8_t type;
    double crit;          /* asset criticality multiplier */
    struct tx_contrib *c; /* window: c[head..n) */
    size_t head, n, cap;
    double risk;                      /* sum of c[head..n).risk */
    vg_time_t tactic_ts[TX_NTACTICS]; /* last time each tactic was seen (0: never) */
    int64_t incident_id;              /* the open incident the entity belongs to (0: none) */
    int64_t listed_in;                /* the last incident whose entity list got this entity ... */
    uint8_t listed_roles; /* ... with these roles (skips the list scan on the hot path) */
};

/* ---------------------------------------------------------------- fingerprints, rules */

struct tx_fp {
    uint64_t fp;
    int64_t first_id;
    vg_time_t first_ts, last_ts;
    int64_t count;
    int64_t window;
    size_t dec_ix; /* this batch: index + 1 of the first alert's decision (0: earlier batch) */
    size_t upd_ix; /* this batch: index + 1 of the pending counter update (0: none) */
};

/* A duplicate counter to write on a first alert of an earlier batch. */
struct tx_fpupd {
    struct tx_fp *f;
    int64_t first_id;
    int64_t dups;
    vg_time_t last_ts;
};

struct tx_rule {
    uint64_t key;
    char *tenant;
    char *rule_id;
    int64_t window;                   /* dedup window of this rule */
    int64_t alerts, dups, suppressed; /* not yet persisted */
    bool dirty;
};

/* ---------------------------------------------------------------- incidents */

struct tx_ient {
    uint8_t type;
    uint8_t roles;
    char *value;
};

/*
 * A change of an incident's entity set not yet in triage.db (appended to incident_ents):
 * roles added (TX_R_* bits), TX_OWN the entity's incident pointer moved to the incident,
 * TX_UNLISTED the entity is not in the (capped) list, only its pointer moved.
 */
#define TX_OWN      0x40
#define TX_UNLISTED 0x80
struct tx_ichange {
    const char *value; /* borrowed from the incident's list or the entity (stable in a batch) */
    uint8_t type;
    uint8_t flags;
};

enum tx_status {
    TX_ST_OPEN = 0,
    TX_ST_ACK,
    TX_ST_CLOSED,
};
const char *tx_status_name(int st);
int tx_status_parse(const char *s);

struct tx_incident {
    int64_t id;
    char *tenant;
    int status;
    int severity;
    double risk;
    int64_t alert_count;
    vg_time_t first_seen, last_seen, created, updated;
    char *assignee; /* NULL: none */
    int verdict;
    char *summary;
    char *reason;        /* "risk_threshold" | "tactics" */
    char *reason_detail; /* "host web-1 reached risk 135 within 24h" */
    uint8_t trig_type;
    char *trig_value;
    uint16_t tactics;
    struct tx_ient *ents;
    size_t nents, cents;
    struct tx_map ent_set; /* hash(type, value) -> index + 1 into ents */
    struct vg_strlist techniques;
    int64_t *links;
    size_t nlinks, clinks;
    char *sets_json[2];     /* techniques and links as stored (NULL: to encode again) */
    struct tx_ichange *chg; /* entity-set changes not yet written */
    size_t nchg, cchg;
    bool dirty, opened, changed; /* this batch */
    bool in_db;                  /* its row exists in triage.db (rewritten in place) */
};
void tx_incident_free(struct tx_incident *inc);
/* The derived title: "Risk 135 on host web-1: Credential Access, Persistence". */
void tx_incident_title(const struct tx_incident *inc, struct vg_sbuf *out);
void tx_incident_json(const struct tx_incident *inc, struct vg_sbuf *out);
int tx_incident_add_entity(struct tx_incident *inc, int type, const char *value, int roles);
/* Note a change of inc's entity set for triage.db (value must stay valid until the save). */
int tx_incident_note(struct tx_incident *inc, int type, const char *value, int flags);
int tx_incident_add_technique(struct tx_incident *inc, const char *t, size_t n);

/* ---------------------------------------------------------------- exceptions */

struct tx_match {
    char *field;
    char *glob;
};

struct tx_exc {
    int64_t id;
    char *tenant;
    char *rule; /* "*" = every rule */
    uint8_t etype;
    char *evalue; /* glob; NULL: no entity */
    struct tx_match *m;
    size_t nm;
    vg_time_t expires; /* VG_TIME_NONE: never */
    char *reason;
    char *author;
    vg_time_t created;
    bool needs_event; /* a field is looked up in event_json */
};
/*
 * Parse an exception (expiry durations are relative to now). Extra keys "dry_run" and "days"
 * are accepted (the API's); *dry_run and *days (may be NULL) receive them.
 */
int tx_exc_parse(const char *json, size_t len, vg_time_t now, struct tx_exc **out, bool *dry_run,
                 int *days, char *err, size_t errsz);
void tx_exc_free(struct tx_exc *e);
/* Does e match alert a (expiry not considered)? p: a JSON parser for event_json. */
bool tx_exc_match(const struct tx_exc *e, const struct vg_store_alert *a, struct vg_json_parser *p,
                  struct vg_arena *ar);
void tx_exc_json(const struct tx_exc *e, struct vg_sbuf *out);
/* The definition alone, as tx_exc_parse reads it back (stored in triage.db). */
void tx_exc_spec_json(const struct tx_exc *e, struct vg_sbuf *out);

/* ---------------------------------------------------------------- per-batch decisions */

struct tx_decision {
    const struct vg_store_alert *a;
    uint64_t fp;
    vg_time_t ts; /* the alert's time (ts, else created) */
    int64_t dup_of;
    int64_t suppressed_by;
    int64_t incident_id;
    double risk;
    uint16_t tactics;
    struct tx_fp *f;     /* a first alert: its fingerprint while it stays the first */
    int64_t dups;        /* ... else (restarted within the batch) its final duplicate count */
    vg_time_t last_ts;   /* ... and last duplicate time */
    int64_t win;         /* its dedup window */
    size_t crow0, ncrow; /* its risk contributions: t->crow[crow0 .. crow0 + ncrow) */
};

struct tx_join {
    int64_t incident_id;
    int64_t alert_id;
};

/* ---------------------------------------------------------------- the engine */

struct vg_triage {
    struct vg_triage_opts o;
    char *db_path; /* NULL: memory only */
    struct sqlite3 *db;
    struct sqlite3_stmt *stmts[16]; /* alert_db.c's prepared statements */
    struct vg_sbuf enc;             /* alert_db.c's encoding buffer */
    int64_t ent_seq;                /* the next incident_ents row */
    int64_t max_win;                /* the largest dedup window used (bounds the rebuild) */
    bool max_win_dirty;
    vg_time_t db_pruned; /* clock at the last prune of old rows */
    struct vg_audit *audit;
    struct vg_store *store;
    pthread_mutex_t mu;

    /* state */
    struct tx_map fps, ents, rules, incs;
    struct tx_exc **excs;
    size_t nexcs, cexcs;
    int64_t position;
    uint64_t changes; /* incident updates through the API (vg_triage_changes) */
    int64_t next_incident, next_exception;
    vg_time_t clock;      /* the newest alert time seen */
    vg_time_t last_sweep; /* clock at the last prune */
    struct tx_crit {
        uint8_t type;
        char *glob;
        double mult;
    } * crits;
    size_t ncrits;

    /* the batch in flight */
    struct tx_decision *dec;
    size_t ndec, cdec;
    struct tx_join *joins;
    size_t njoins, cjoins;
    struct tx_rule **drules;
    size_t ndrules, cdrules;
    struct tx_fpupd *fupd;
    size_t nfupd, cfupd;
    struct tx_ient_clear {
        uint8_t type;
        char *value;
    } * clears; /* entities whose pointer a closed incident gave up (incident_ents row 0) */
    size_t nclears, cclears;
    int64_t claimed_n;
    struct tx_map claimed; /* alert id -> incident id: window alerts a new incident took */
    struct tx_claim {
        vg_time_t ts;
        int64_t alert_id;
    } * claims; /* claimed's entries in claim order, to forget them */
    size_t claims_head, nclaims, cclaims;
    struct tx_incident **dincs;
    size_t ndincs, cdincs;
    struct contrib_row {
        struct tx_entity *e;
        struct tx_contrib c;
    } * crow;
    size_t ncrow, ccrow;
    struct vg_json_parser *jp;
    struct vg_arena *scratch;

    /* consumer */
    pthread_t thread;
    bool started, stopping, woken;
    pthread_cond_t cv;
    struct vg_triage_hooks hooks;
};

/* alert_engine.c */
int tx_engine_batch(struct vg_triage *t, const struct vg_store_alert *a, size_t n,
                    struct vg_triage_batch_stats *st);
void tx_engine_reset(struct vg_triage *t); /* free every in-memory state */
void tx_engine_sweep(struct vg_triage *t); /* forget what no window needs (between batches) */
void tx_batch_clear(struct vg_triage *t);
struct tx_entity *tx_entity_get(struct vg_triage *t, const char *tenant, int type,
                                const char *value, bool create);
struct tx_fp *tx_fp_add(struct vg_triage *t, uint64_t fp);
void tx_contrib_push(struct tx_entity *e, const struct tx_contrib *c);
void tx_incident_index(struct vg_triage *t, struct tx_incident *inc);
void tx_incident_unindex(struct vg_triage *t, struct tx_incident *inc);
void tx_fp_sweep(struct vg_triage *t); /* forget fingerprints whose window is over */
/* Point e at inc (noted for triage.db). */
int tx_entity_own(struct tx_incident *inc, struct tx_entity *e);
uint16_t tx_tactics_parse(const char *tags);
const char *tx_tactic_name(int i);
const char *tx_tactic_title(int i);
int tx_mark_dirty(struct vg_triage *t, struct tx_incident *inc);
int tx_rule_stats_key(const char *tenant, const char *rule_id, uint64_t *out);

/* alert_db.c */
int tx_db_open(struct vg_triage *t, char *err, size_t errsz);
void tx_db_close(struct vg_triage *t);
int tx_db_load(struct vg_triage *t, char *err, size_t errsz);
int tx_db_begin(struct vg_triage *t, char *err, size_t errsz);
int tx_db_write_batch(struct vg_triage *t, char *err, size_t errsz);
int tx_db_commit(struct vg_triage *t, char *err, size_t errsz);
void tx_db_rollback(struct vg_triage *t);
int tx_db_incident_save(struct vg_triage *t, struct tx_incident *inc, char *err, size_t errsz);
/* Write the pending pointer clears (t->clears) as incident_ents row 0. */
int tx_db_clears_save(struct vg_triage *t, char *err, size_t errsz);
/* Read inc's entity set (incident_ents) into inc. */
int tx_db_incident_ents(struct vg_triage *t, struct tx_incident *inc);
/* Per alert id: the triage row, or the duplicate's compact row answered from its first alert. */
struct tx_alert_row {
    int64_t id;
    char tenant[128];
    char rule_id[256];
    uint64_t fp;
    int64_t duplicate_of, duplicates, suppressed_by, incident_id;
    double risk;
    char verdict[32], verdict_by[128], comment[1024];
    vg_time_t verdict_at;
};
/* VG_ENOENT when alert id of tenant was not triaged. */
int tx_db_alert_row(struct vg_triage *t, const char *tenant, int64_t id, struct tx_alert_row *r);
/* A duplicate's compact row becomes a full alert_state row (to carry a verdict). */
int tx_db_dup_materialize(struct vg_triage *t, int64_t id);
/* Load incident id of tenant (tenant NULL: any) from the db. VG_ENOENT. */
int tx_db_incident_load(struct vg_triage *t, const char *tenant, int64_t id,
                        struct tx_incident **out);
int tx_incident_from_row(struct vg_triage *t, struct sqlite3_stmt *st, struct tx_incident **out);
#define TX_INCIDENT_COLS                                                                           \
    "id, tenant, status, severity, risk, alert_count, first_seen, last_seen, created, updated,"    \
    " assignee, verdict, summary, reason, reason_detail, trig_type, trig_value, tactics,"          \
    " techniques, links"

/* alert_json.c */
void tx_alert_out_json(const struct vg_store_alert *a, const struct tx_decision *d,
                       struct vg_sbuf *out);
void tx_json_time(struct vg_sbuf *b, const char *key, vg_time_t t, bool comma);
void tx_json_str(struct vg_sbuf *b, const char *s);
void tx_fp_hex(uint64_t fp, char out[17]);

/* alert.c (locking helpers used by the API) */
void tx_lock(struct vg_triage *t);
void tx_unlock(struct vg_triage *t);
int tx_audit(struct vg_triage *t, const char *tenant, const char *actor, const char *action,
             const char *object, const char *detail, char *err, size_t errsz);

#endif /* VG_ALERT_INT_H */
