/*
 * server.h — `vigie server`: the SIEM core in one process.
 *
 * Where it sits: inputs (syslog over UDP/TCP/TLS/RELP, tailed files, the HTTP ingest API)
 * append raw records to the journal (src/ingest) and acknowledge only what it made durable.
 * The pipeline reads the journal in order and hands batches to one worker per core, which
 * decode (src/decode) and detect (src/detect); one writer stores events and alerts in
 * journal order (src/store), feeds the correlator, records the journal position it reached
 * and releases the journal behind it. The HTTP API (src/api) serves search, alerts, rules,
 * health and metrics. See docs/server.md.
 *
 * Delivery: every record acknowledged by an input is in the journal; the store records the
 * journal position of each batch in the batch's own transaction, and alerts record theirs,
 * so after a crash the pipeline resumes exactly after what was stored: nothing is lost and
 * nothing stored twice.
 */
#ifndef VG_SERVER_H
#define VG_SERVER_H

#include "alert/alert.h"
#include "core/core.h"

struct vg_journal;
struct vg_store;

/* Configuration (YAML file; every key also VIGIE_<KEY> in the environment). */
struct vg_server_conf {
    char *data_dir;
    char *http_listen; /* "" disables the HTTP API */
    char *http_tls_cert;
    char *http_tls_key;
    struct vg_strlist syslog_udp; /* "host:port" each */
    struct vg_strlist syslog_tcp;
    struct vg_strlist syslog_tls;
    struct vg_strlist syslog_relp;
    char *tls_cert; /* for syslog_tls */
    char *tls_key;
    int64_t max_message;     /* bytes */
    struct vg_strlist files; /* glob patterns to tail */
    bool files_from_beginning;
    bool rules_builtin;
    struct vg_strlist rules_paths;
    char *rules_placeholders;
    char *rules_mapping;
    int min_level;   /* enum vg_sigma_level; 0 = all */
    int64_t workers; /* 0 = one per CPU */
    int64_t batch;   /* records per pipeline batch */
    int64_t journal_max_lag_mb;
    int64_t journal_segment_mb;
    int64_t retention_days;
    int64_t store_max_gb;
    char *index_fields;
    int64_t http_ingest_wait_s;
    char *log_level;
    /* triage, cases, playbooks (server_soc.c) */
    struct vg_triage_opts triage; /* the triage.* keys (src/alert) */
    bool triage_enabled;
    bool playbooks_builtin; /* load the playbooks shipped with Vigie */
    char *playbooks_dir;    /* *.yml playbooks ("" none) */
    int64_t playbook_workers;
    char *responders_dir; /* exec.responder programs ("" none) */
    char *nft_table;
    bool respond_contain; /* false: containment actions only describe (demo) */
    char *smtp_url;
    char *smtp_from;
    char *fleet_listen;   /* agents' mTLS listener ("" disabled) */
    char *fleet_endpoint; /* what agents are told to connect to ("" derived) */
    struct vg_strlist fleet_hostnames;
    /* threat intelligence (server_intel.c, docs/intel.md "In the server") */
    bool intel_enabled;
    char *intel_db;                /* the indicator store directory ("": DATA/intel) */
    int64_t intel_reload_s;        /* seconds between generation checks */
    int64_t intel_min_confidence;  /* hits below this decayed confidence raise no alert */
    bool intel_warninglisted;      /* also alert on indicators flagged by a warninglist */
    struct vg_strlist intel_taxii; /* "API_ROOT COLLECTION [SOURCE]" feeds pulled on schedule */
    int64_t intel_taxii_interval_s;
    char *intel_taxii_user;
    char *intel_taxii_password_file; /* secrets are read from files, never from the config */
    char *intel_taxii_token_file;
    char *intel_taxii_ca;
    /* vulnerabilities of the agents' hosts (server_vuln.c, docs/vuln.md "In the server") */
    bool vuln_enabled;
    char *vuln_db;             /* the advisory database directory ("": DATA/vuln) */
    int64_t vuln_recheck_s;    /* seconds between checks for a changed advisory database */
    char *vuln_event_severity; /* new findings at least this severe (or KEV) become events */
    bool bench_no_store;       /* not a configuration key: bench_server's --no-store */
};

/* The key table (for `vigie config schema` and docs). */
const struct vg_conf_field *vg_server_conf_table(size_t *n);
/*
 * Load path (NULL: defaults and the environment only). Errors name the file, line and key.
 * Returns VG_OK, VG_ENOENT (no such file), VG_EINVAL.
 */
int vg_server_conf_load(const char *path, struct vg_server_conf *c, char *err, size_t errsz);
void vg_server_conf_fini(struct vg_server_conf *c);

struct vg_server;

/* Open the journal and the store, load the rules. Nothing listens yet. */
int vg_server_create(const struct vg_server_conf *c, struct vg_server **out, char *err,
                     size_t errsz);
/* Start the pipeline, the inputs and the HTTP API (binds every listener or fails). */
int vg_server_start(struct vg_server *s, char *err, size_t errsz);
/* Reload the rules (SIGHUP, POST /api/v1/rules/reload). The old set keeps running on error. */
int vg_server_reload(struct vg_server *s, char *err, size_t errsz);
/*
 * Stop: inputs first (senders see the connection close; nothing taken from them is
 * dropped), then the pipeline drains what the journal holds for at most drain_ms.
 */
void vg_server_stop(struct vg_server *s, int drain_ms);
void vg_server_destroy(struct vg_server *s);

struct vg_server_stats {
    uint64_t records;      /* journal records processed */
    uint64_t events;       /* events produced by the decoders */
    uint64_t unparsed;     /* records the decoders rejected, stored as event.module=unparsed */
    uint64_t matches;      /* rule matches */
    uint64_t alerts;       /* alerts stored (rule and correlation) */
    uint64_t correlations; /* correlation alerts */
    uint64_t stored;       /* events stored */
    uint64_t duplicates;   /* events skipped by their dedupe key */
    uint64_t store_retries;
    uint64_t batches;
    uint64_t journal_next; /* next journal sequence */
    uint64_t position;     /* last journal sequence stored */
    uint32_t rules;
    uint32_t correlation_rules;
    uint64_t reloads;
    vg_time_t started;
};
void vg_server_get_stats(struct vg_server *s, struct vg_server_stats *out);

/* Print the open incidents and the latest playbook runs (the demo's summary), after waiting
   up to 10 s each for triage and the playbooks to catch up. */
void vg_server_soc_summary(struct vg_server *s, FILE *out);
/* Print the hosts most exposed to known vulnerabilities and their most urgent findings (the
   demo's summary), after waiting up to 10 s for matching to catch up. */
void vg_server_vuln_summary(struct vg_server *s, FILE *out);

/* The agents' listener port (0: fleet disabled). */
int vg_server_fleet_port(const struct vg_server *s);

/* Addresses actually bound (useful with port 0): input index as in the listing order. */
int vg_server_http_port(const struct vg_server *s);
int vg_server_syslog_port(const struct vg_server *s, const char *proto, size_t i);

/* Wait until everything appended so far is stored (tests, benchmarks). */
int vg_server_wait_idle(struct vg_server *s, int timeout_ms);

struct vg_journal *vg_server_journal(struct vg_server *s);
struct vg_store *vg_server_store(struct vg_server *s);

#endif /* VG_SERVER_H */
