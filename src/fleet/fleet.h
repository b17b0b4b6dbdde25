/*
 * fleet.h — the server side of the endpoint agents (issue 5): Vigie's small CA, enrollment,
 * the mutual-TLS agent listener, the agent registry and signed commands.
 *
 * Where it sits: `vigie server` creates one struct vg_fleet next to its journal and API.
 * Agents enrol over the API (POST /api/v1/agents/enroll with an enrollment token and a CSR)
 * and then connect to the fleet listener with the client certificate they got; the frames
 * of src/agent/agent_wire.h carry their events (appended to the ingest journal, so they run
 * through the same decode → detect → store pipeline as every other source), heartbeats and
 * command results. See docs/fleet.md.
 *
 * Files (DATA/fleet/, created on first start):
 *   ca.key        EC P-256 CA private key (0600)     ca.crt   CA certificate (10 years)
 *   command.key   Ed25519 command-signing secret key (0600, hex, agent_wire.h format)
 *   agents.db     the registry (SQLite, WAL): agents, enrollment tokens, commands, spools,
 *                 remote configurations
 * The listener's certificate is issued by the CA at every start (SANs from the options).
 *
 * Threads: the listener runs its own accept thread and one thread per agent connection
 * (bounded by max_conns). Every function below is thread-safe unless it says otherwise.
 */
#ifndef VG_FLEET_H
#define VG_FLEET_H

#include "core/core.h"

struct vg_fleet;
struct vg_journal;
struct vg_audit;
struct vg_api;

#define VG_FLEET_ID_SIZE    33 /* agent and command ids: 32 hex digits + NUL */
#define VG_FLEET_TOKEN_SIZE 48 /* "vge_" + 43 base64url characters + NUL */

struct vg_fleet_opts {
    const char *data_dir;         /* required: DATA (files in DATA/fleet/) */
    struct vg_journal *journal;   /* required: agent events are appended here */
    struct vg_audit *audit;       /* may be NULL (no audit records) */
    const char *listen;           /* mTLS listener "host:port" / "[v6]:port"; NULL:
                                     "0.0.0.0:8471"; port 0 picks a free one */
    const char *endpoint;         /* "host:port" agents are told to connect to; NULL: the
                                     first hostname (or the listen host) with the bound port */
    const char *const *hostnames; /* DNS names / IP addresses for the listener certificate's
                                     SANs (the listen host is always added) */
    size_t nhostnames;
    uint32_t input;           /* input id recorded with agent records in the journal */
    unsigned max_conns;       /* concurrent agent connections (0: 1024) */
    unsigned handshake_ms;    /* TLS handshake + HELLO deadline (0: 10 s) */
    unsigned offline_after_s; /* a connection silent this long is closed (0: 120 s) */
    unsigned enroll_failures; /* failed enrollments per client address per minute before
                                 429 (0: 10) */
    int64_t journal_wait_ms;  /* wait for journal space before dropping the connection
                                 (0: 30 s); the agent keeps the batch and resends */
};

/*
 * Open DATA/fleet (creating the CA, the command key and agents.db on first start), issue
 * the listener certificate and bind the listener (so vg_fleet_port works before start).
 * Agents that were left "online" by a previous run are marked offline. err names the file or
 * address. Returns VG_OK, VG_EINVAL (options, unreadable or foreign key files), VG_EIO,
 * VG_ENOMEM.
 */
int vg_fleet_create(const struct vg_fleet_opts *o, struct vg_fleet **out, char *err, size_t errsz);
/* Start the accept thread. VG_OK or VG_ERROR (err says why). */
int vg_fleet_start(struct vg_fleet *f, char *err, size_t errsz);
/* The port the listener is bound to. */
int vg_fleet_port(const struct vg_fleet *f);
/* Close the listener and every agent connection and wait for their threads. Idempotent. */
void vg_fleet_stop(struct vg_fleet *f);
/* Stop (if needed) and free. NULL is a no-op. */
void vg_fleet_destroy(struct vg_fleet *f);

/* CA certificate PEM (borrowed, lives as long as f) and the command public key (32 bytes). */
const char *vg_fleet_ca_pem(const struct vg_fleet *f);
const uint8_t *vg_fleet_command_pubkey(const struct vg_fleet *f);

/* ---------------------------------------------------------------- enrollment */

/*
 * Create an enrollment token for tenant (NULL: "default") usable `uses` times (1..1000000)
 * until now + ttl_s (1 s .. 365 days). The token ("vge_...", 32 random bytes) is written
 * once into token (size >= VG_FLEET_TOKEN_SIZE); only its SHA-256 is stored. *id (may be
 * NULL) receives the token's row id. actor (NULL: "system") goes to the audit record.
 * Returns VG_OK, VG_EINVAL, VG_EIO.
 */
int vg_fleet_enroll_token_create(struct vg_fleet *f, const char *tenant, const char *actor,
                                 int64_t ttl_s, unsigned uses, char *token, size_t size,
                                 int64_t *id);

/* What an enrollment returns to the agent. Strings owned (vg_fleet_enrollment_fini). */
struct vg_fleet_enrollment {
    char agent_id[VG_FLEET_ID_SIZE];
    char *cert_pem;                  /* the agent's client certificate (1 year) */
    char *ca_pem;                    /* the CA certificate */
    char command_pubkey[2 * 32 + 1]; /* Ed25519 public key, hex */
    char *endpoint;                  /* "host:port" of the fleet listener */
    char *tenant;
};
void vg_fleet_enrollment_fini(struct vg_fleet_enrollment *e);

/*
 * Enrol an agent: check token (constant-time; expired, used-up or unknown → VG_EDENIED),
 * validate the CSR (PEM; self-signature, key EC P-256/P-384, RSA 2048-8192 or Ed25519),
 * assign an agent id, sign a client certificate (subject CN = agent id, 1 year, random
 * serial recorded in the registry) and register the agent (status "offline"). hostname may
 * be NULL. The token's use is consumed only on success. Returns VG_OK, VG_EDENIED (token),
 * VG_EINVAL (CSR: err says what is wrong), VG_EIO, VG_ENOMEM. Audited as agent.enroll.
 */
int vg_fleet_enroll(struct vg_fleet *f, const char *token, const char *csr_pem, size_t csr_len,
                    const char *hostname, struct vg_fleet_enrollment *out, char *err, size_t errsz);

/* ---------------------------------------------------------------- registry */

struct vg_fleet_agent {
    const char *id;
    const char *tenant;
    const char *hostname;
    const char *os;
    const char *ips_json; /* JSON array text */
    const char *version;
    const char *collectors_json; /* JSON object text: collector -> backend */
    const char *status;          /* "online", "offline", "revoked" */
    const char *cert_serial;     /* hex */
    vg_time_t enrolled;
    vg_time_t last_seen; /* VG_TIME_NONE: never connected */
};

/*
 * Call fn for each agent of tenant (NULL: all), by id; strings borrowed until fn returns;
 * a non-zero return from fn stops and is returned. fn runs under the registry lock: it must
 * not call other vg_fleet functions.
 */
int vg_fleet_agent_list(struct vg_fleet *f, const char *tenant,
                        int (*fn)(void *ctx, const struct vg_fleet_agent *a), void *ctx);
/* One agent (tenant NULL: any) as vg_fleet_agent_list. VG_ENOENT if unknown (or another
   tenant's). */
int vg_fleet_agent_get(struct vg_fleet *f, const char *tenant, const char *id,
                       int (*fn)(void *ctx, const struct vg_fleet_agent *a), void *ctx);
/*
 * Revoke an agent (tenant NULL: any): its status becomes "revoked", its certificate is
 * refused at every later handshake, and a live connection is sent ERROR and closed.
 * VG_ENOENT if unknown; VG_OK also when it was revoked already. Audited as agent.revoke.
 */
int vg_fleet_agent_revoke(struct vg_fleet *f, const char *tenant, const char *actor,
                          const char *id);

/* ---------------------------------------------------------------- commands */

/*
 * Queue a signed command for agent_id: the JSON {"id","action","args","issued","expires",
 * "agent_id"} is signed with the command key (Ed25519 over exactly those bytes) and stored;
 * it is sent at once when the agent is connected, else when it next connects, unless
 * ttl_s (1..86400) has passed first (status "expired"). action: 1-64 of [a-z0-9_.-];
 * args_json: a JSON object text (NULL: {}). cmd_id (size VG_FLEET_ID_SIZE) receives the
 * id. Uses tenant "any" and actor "system"; see vg_fleet_command_send_as. Returns VG_OK,
 * VG_ENOENT (unknown agent), VG_EDENIED (revoked agent), VG_EINVAL (action, args, ttl),
 * VG_EIO.
 */
int vg_fleet_command_send(struct vg_fleet *f, const char *agent_id, const char *action,
                          const char *args_json, int64_t ttl_s, char *cmd_id);
/* Same, confined to tenant (NULL: any; another tenant's agent is VG_ENOENT), audited as
   agent.command by actor (NULL: "system"). */
int vg_fleet_command_send_as(struct vg_fleet *f, const char *tenant, const char *actor,
                             const char *agent_id, const char *action, const char *args_json,
                             int64_t ttl_s, char *cmd_id);

/* A command's state. Strings owned (vg_fleet_command_result_fini). */
struct vg_fleet_command_result {
    char *status; /* "pending", "sent", "ok", "error", "refused", "expired" */
    char *output; /* the agent's output (JSON text or string); NULL until it answered */
    vg_time_t issued;
    vg_time_t finished; /* VG_TIME_NONE while pending/sent */
};
void vg_fleet_command_result_fini(struct vg_fleet_command_result *r);

/*
 * Wait up to timeout_ms (0: just look) for command cmd_id to finish (the agent answered or
 * it expired) and fill *res either way. Returns VG_OK (finished), VG_ETIMEOUT (still
 * pending or sent; *res filled), VG_ENOENT (unknown id), VG_EIO.
 */
int vg_fleet_command_wait(struct vg_fleet *f, const char *cmd_id, int64_t timeout_ms,
                          struct vg_fleet_command_result *res);

/* ---------------------------------------------------------------- remote configuration */

#define VG_FLEET_CONFIG_MAX (1u << 20) /* bytes of one configuration */

/*
 * Check a remote configuration: a JSON object {"collectors":{NAME:{settings}|null,...}}
 * whose only top-level key is "collectors", whose collector names the agent knows
 * (vg_agent_collector_find) and appear once, and whose collectors.yara.rules, if present,
 * is YARA rule text that compiles. canon (may be NULL) receives the compact form stored and
 * sent. VG_OK; VG_EINVAL with err naming the key (or the rule line); VG_ENOMEM.
 */
int vg_fleet_config_check(const char *json, size_t len, struct vg_sbuf *canon, char *err,
                          size_t errsz);

/* A configuration as stored. json owned (vg_fleet_config_fini); NULL when there is none. */
struct vg_fleet_config {
    char *json;
    const char *source; /* "agent" (its own), "default" (the tenant's), "none" */
    vg_time_t updated;
    char updated_by[128];
};
void vg_fleet_config_fini(struct vg_fleet_config *c);

/*
 * The effective configuration of agent_id (its own, else its tenant's default), or with
 * agent_id NULL the default of tenant (NULL: "default"). tenant confines the agent lookup
 * (NULL: any). VG_OK (out->json NULL when none), VG_ENOENT (unknown agent), VG_EIO.
 */
int vg_fleet_config_get(struct vg_fleet *f, const char *tenant, const char *agent_id,
                        struct vg_fleet_config *out);
/*
 * Check (vg_fleet_config_check) and store the configuration of agent_id, or with agent_id
 * NULL the default of tenant; a connected agent concerned gets it at once as a CONFIG frame,
 * the others at their next HELLO. `{}` means "no remote configuration: the agent's local
 * file". Audited as agent.config by actor (NULL: "system"). VG_OK, VG_EINVAL (err says
 * why), VG_ENOENT (unknown agent or another tenant's), VG_EIO, VG_ENOMEM.
 */
int vg_fleet_config_set(struct vg_fleet *f, const char *tenant, const char *actor,
                        const char *agent_id, const char *json, size_t len, char *err,
                        size_t errsz);

/* ---------------------------------------------------------------- counters and API */

struct vg_fleet_stats {
    uint64_t conns_open;
    uint64_t conns_total;
    uint64_t conns_refused; /* handshake failures: no/foreign/revoked certificate, over max */
    uint64_t events;        /* events appended to the journal */
    uint64_t events_dup;    /* events at or below the high-water mark (resent), not appended */
    uint64_t frames_bad;    /* protocol errors (connection closed) */
    uint64_t commands_sent;
    uint64_t results;
};
void vg_fleet_stats(const struct vg_fleet *f, struct vg_fleet_stats *out);

/*
 * Register the REST endpoints on api (before vg_api_start; f must outlive api):
 *   POST /api/v1/agents/enroll            enrollment token as Bearer; body: CSR PEM, or
 *                                          {"csr":PEM,"hostname":H}         (token, public route)
 *   POST /api/v1/agents/enroll-tokens     {"ttl":"24h"|seconds,"uses":N}   (admin)
 *   GET  /api/v1/agents                    status=...                       (read)
 *   GET  /api/v1/agents/{id}                                                (read)
 *   POST /api/v1/agents/{id}/revoke                                         (admin)
 *   POST /api/v1/agents/{id}/commands      {"action","args":{..},"ttl"}     (analyst)
 *   GET  /api/v1/agents/{id}/commands      limit=N                          (read)
 *   GET  /api/v1/agents/{id}/config                                         (read)
 *   PUT  /api/v1/agents/{id}/config        {"collectors":{...}}             (admin)
 *   GET  /api/v1/agents/config             the tenant's default             (read)
 *   PUT  /api/v1/agents/config             {"collectors":{...}}             (admin)
 * and the fleet metrics. Returns VG_OK or the vg_api_route error.
 */
int vg_fleet_api_register(struct vg_fleet *f, struct vg_api *api);

#endif /* VG_FLEET_H */
