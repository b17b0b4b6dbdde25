/*
 * fleet_int.h — internals shared by the fleet module's files:
 *
 *   fleet.c           create / start / stop / destroy, options, stats
 *   fleet_ca.c        the CA: key and certificate files, CSR checks, issuing certificates,
 *                     the listener's TLS context
 *   fleet_registry.c  agents.db: agents, enrollment tokens, spool high-water marks, commands
 *   fleet_enroll.c    enrollment tokens and vg_fleet_enroll, failure rate limit
 *   fleet_listen.c    the mTLS listener: accept thread, one thread per agent connection
 *   fleet_command.c   signed commands: queue, deliver, results, wait
 *   fleet_config.c    remote configuration: per agent and tenant default, validation
 *   fleet_api.c       the REST endpoints
 */
#ifndef VG_FLEET_INT_H
#define VG_FLEET_INT_H

#include "fleet/fleet.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#define FLEET_COMP       "fleet"
#define FLEET_RL_SLOTS   64
#define FLEET_CMD_LIFE   86400 /* longest command lifetime (agent_wire.h VG_AGENT_CMD_MAX_LIFE) */
#define FLEET_TENANT_MAX 64

/* Failed enrollments of one client address in the current minute. */
struct fleet_rl_slot {
    char addr[48];
    int64_t minute;
    unsigned fails;
};

struct fleet_conn; /* fleet_listen.c */

struct vg_fleet {
    /* options (strings owned) */
    char *data_dir, *dir, *listen, *endpoint;
    struct vg_journal *journal;
    struct vg_audit *audit;
    uint32_t input;
    unsigned max_conns, handshake_ms, offline_after_s, enroll_failures;
    int64_t journal_wait_ms;

    /* CA and keys */
    EVP_PKEY *ca_key;
    X509 *ca_cert;
    char *ca_pem;
    SSL_CTX *ssl_ctx;
    uint8_t cmd_pk[32];
    uint8_t cmd_sk[64];

    /* registry: one connection, one thread at a time; cmd_cond signals command results */
    sqlite3 *db;
    pthread_mutex_t db_mu;
    pthread_cond_t cmd_cond;

    /* listener */
    int lfd;
    int port;
    int wake[2];
    pthread_t accept_thread;
    bool started;
    atomic_bool stopping;
    pthread_mutex_t conn_mu;
    struct fleet_conn *conns;
    unsigned nconns;

    /* enrollment failures per address */
    pthread_mutex_t rl_mu;
    struct fleet_rl_slot rl[FLEET_RL_SLOTS];

    /* counters */
    atomic_uint_fast64_t n_conns_total, n_conns_refused, n_events, n_events_dup, n_frames_bad,
        n_commands_sent, n_results;
};

/* ---------------------------------------------------------------- fleet_ca.c */

/* Load DATA/fleet/ca.{key,crt} or create them (first start). */
int fleet_ca_init(struct vg_fleet *f, char *err, size_t errsz);
/* Load DATA/fleet/command.key or create it. */
int fleet_cmdkey_init(struct vg_fleet *f, char *err, size_t errsz);
/*
 * Parse and check a CSR (PEM): its self-signature and key type/size. *pub receives its
 * public key (caller frees). VG_OK or VG_EINVAL with err saying what is wrong.
 */
int fleet_csr_check(const char *pem, size_t len, EVP_PKEY **pub, char *err, size_t errsz);
/*
 * Issue a certificate for pub signed by the CA: subject CN=cn, valid `days`, a random
 * 128-bit serial (hex into serial, size >= 33). server: serverAuth with SANs (DNS names or
 * IP addresses) sans[0..nsans); else clientAuth. *pem receives the PEM (vg_free).
 */
int fleet_ca_issue(struct vg_fleet *f, EVP_PKEY *pub, const char *cn, int days, bool server,
                   const char *const *sans, size_t nsans, char *serial, char **pem, X509 **cert,
                   char *err, size_t errsz);
/* Build the listener's SSL_CTX: a fresh server certificate and client verification. */
int fleet_tls_init(struct vg_fleet *f, const char *const *sans, size_t nsans, char *err,
                   size_t errsz);
/* Hex of a certificate's serial into out (size >= 65). */
void fleet_serial_hex(const X509 *x, char *out, size_t size);
/* The subject CN of x into out; false if absent or too long. */
bool fleet_cert_cn(const X509 *x, char *out, size_t size);
void fleet_ca_fini(struct vg_fleet *f);

/* ---------------------------------------------------------------- fleet_registry.c */

int fleet_db_open(struct vg_fleet *f, char *err, size_t errsz);
void fleet_db_close(struct vg_fleet *f);
/* Under db_mu. Is the certificate (serial, CN) of an enrolled, unrevoked agent? tenant
   (size >= FLEET_TENANT_MAX + 1) receives its tenant. VG_OK, VG_EDENIED, VG_EIO. */
int fleet_db_cert_ok(struct vg_fleet *f, const char *serial, const char *cn, char *tenant,
                     size_t tsize);
/* Registry updates (each takes db_mu). */
struct vg_agent_hello;
int fleet_db_hello(struct vg_fleet *f, const char *id, const struct vg_agent_hello *h,
                   const char *collectors_json, const char *ips_json);
int fleet_db_status(struct vg_fleet *f, const char *id, const char *status, bool seen);
int fleet_db_hw_get(struct vg_fleet *f, const char *id, const char *spool, uint64_t *hw);
int fleet_db_hw_set(struct vg_fleet *f, const char *id, const char *spool, uint64_t hw);
/* Step a statement expecting SQLITE_DONE; finalize it. */
int fleet_db_done(struct vg_fleet *f, sqlite3_stmt *st, const char *what);
sqlite3_stmt *fleet_db_prep(struct vg_fleet *f, const char *sql);
/* Bind a text (NULL → SQL NULL). */
void fleet_db_text(sqlite3_stmt *st, int i, const char *s);
/* Column text or "" */
const char *fleet_db_col(sqlite3_stmt *st, int i);

/* ---------------------------------------------------------------- fleet_enroll.c */

/* Is addr over its failure budget? Record a failure of addr. */
bool fleet_rl_blocked(struct vg_fleet *f, const char *addr);
void fleet_rl_fail(struct vg_fleet *f, const char *addr);

/* ---------------------------------------------------------------- fleet_listen.c */

int fleet_listen_bind(struct vg_fleet *f, const char *addr, char *err, size_t errsz);
int fleet_listen_start(struct vg_fleet *f, char *err, size_t errsz);
void fleet_listen_stop(struct vg_fleet *f);
/* Wake the connection of agent id (commands queued, or close when revoked). */
void fleet_conn_poke(struct vg_fleet *f, const char *id, bool close);
/* Wake every connection (a tenant's default configuration changed). */
void fleet_conn_poke_all(struct vg_fleet *f);

/* ---------------------------------------------------------------- fleet_config.c */

struct vg_json;
/* The effective configuration of agent_id (its own, else its tenant's default) into *json
   (vg_free; NULL when there is none). VG_OK, VG_ENOENT (unknown agent), VG_EIO. */
int fleet_config_effective(struct vg_fleet *f, const char *agent_id, char **json);
/* An agent event: when it is a config_applied event, record its collectors → backends in the
   registry (as HELLO does). VG_OK (also for other events), VG_EINVAL (malformed), VG_EIO. */
int fleet_config_applied(struct vg_fleet *f, const char *agent_id, const struct vg_json *ev);

/* ---------------------------------------------------------------- fleet_command.c */

struct vg_sbuf;
/* Append COMMAND frames for the agent's pending commands to out (marking them sent). */
int fleet_command_pending(struct vg_fleet *f, const char *agent_id, struct vg_sbuf *out, size_t *n);
/* Record a COMMAND_RESULT payload from agent_id. */
int fleet_command_result(struct vg_fleet *f, const char *agent_id, const char *tenant,
                         const uint8_t *p, size_t len);

/* The agent's commands, newest first, as a JSON array appended to out. */
int fleet_command_list(struct vg_fleet *f, const char *agent_id, int64_t limit,
                       struct vg_sbuf *out);

/* ---------------------------------------------------------------- helpers (fleet.c) */

/* Random bytes as lowercase hex into out (size >= 2n + 1). */
void fleet_rand_hex(char *out, size_t n);
/* Audit one record (logs on failure; audit NULL is a no-op). */
void fleet_audit(struct vg_fleet *f, const char *tenant, const char *actor, const char *action,
                 const char *object, const char *detail);
/* Is s a valid tenant name? */
bool fleet_tenant_ok(const char *s);

#endif /* VG_FLEET_INT_H */
