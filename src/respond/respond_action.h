/*
 * respond_action.h — the action table of the playbook engine: what a playbook step can do.
 *
 * Where it sits: the playbook parser (respond_playbook.c) checks each step's `action` name
 * and its `with` parameters against the table at load time; the engine (respond_engine.c)
 * renders the step's inputs from the run's context (alert, incident, earlier outputs) and
 * calls the action's run() on one of its worker threads, with a deadline, and journals the
 * result. Actions are plugins as a table (STYLE.md habit 10): `vigie playbook actions`
 * lists them with their parameters.
 *
 * The contract for run():
 *   - input is a JSON object: the step's `with` after templating (every template already
 *     resolved; strings are data, never parsed as shell or code);
 *   - it must return by the deadline (timeout_ms): network calls set their own timeouts,
 *     child processes are killed when it passes;
 *   - it must be idempotent under idem_key: after a crash the engine may call it again with
 *     the same key for a step whose result was not journalled. Actions with outside effects
 *     pass the key on (HTTP header Idempotency-Key, the responder's JSON, a unique column)
 *     or check it themselves (a firewall element that already exists);
 *   - output (a JSON object, "{}" at least) becomes the step's outputs for later steps;
 *   - on failure it fills err and says whether a retry may help (retryable: network errors,
 *     5xx, timeouts) or not (4xx, bad input).
 */
#ifndef VG_RESPOND_ACTION_H
#define VG_RESPOND_ACTION_H

#include "core/core.h"
#include "event/event.h"

struct vg_audit;
struct vg_case_db;
struct vg_fleet;

/* What actions may use; owned by the engine's creator, shared by all runs (thread-safe). */
struct vg_respond_services {
    struct vg_case_db *cases; /* case operations (NULL: case actions fail, not retryable) */
    struct vg_audit *audit;   /* may be NULL */
    struct vg_fleet *fleet;   /* enrolled agents (NULL: agent.* actions fail, not retryable) */
    const char *nft_table;    /* Vigie's own nftables table (NULL: "vigie") */
    const char *smtp_url;     /* "smtp://host:port" for mail.send (NULL: mail fails) */
    const char *smtp_from;
    const char *responders_dir; /* exec: only programs in this directory may run (NULL: none) */
    bool dry_run;               /* `vigie playbook test`: describe, do nothing */
    bool contain_dry_run;       /* containment actions (nft.*, agent.*) only describe what
                                   they would do (`vigie server --demo`, respond.contain off) */
    /*
     * intel.lookup: look value up (type NULL: guessed) in the server's threat intelligence and
     * write {"found":bool,"indicator":{…}} to out; VG_OK, VG_EINVAL (err says why). NULL: the
     * action fails, not retryable. Thread-safe. The server passes vg_server_intel_lookup, so
     * the respond module does not link the indicator store.
     */
    int (*intel_lookup)(void *ctx, const char *value, const char *type, struct vg_sbuf *out,
                        char *err, size_t errsz);
    void *intel_ctx;
};

enum vg_action_param_type {
    VG_ACTION_STRING = 1,
    VG_ACTION_INT,
    VG_ACTION_BOOL,
    VG_ACTION_OBJECT, /* any JSON object (a webhook body) */
    VG_ACTION_LIST,   /* a list of strings (argv, recipients) */
    VG_ACTION_ANY,
};

struct vg_action_param {
    const char *name;
    int type; /* enum vg_action_param_type; a template string is accepted for any type */
    bool required;
    const char *description;
};

struct vg_action_ctx {
    const char *tenant;
    const char *run_id;          /* "r-42" */
    const char *step_id;         /* the step's id in the playbook */
    const char *idem_key;        /* stable across attempts and restarts: "<run id>/<step id>" */
    const char *actor;           /* for the audit log: "playbook:<id>#<run id>" */
    unsigned attempt;            /* 1, 2, ... */
    int timeout_ms;              /* the step's deadline from now */
    const struct vg_json *input; /* the rendered `with` object */
    const struct vg_respond_services *svc;
    struct vg_arena *arena; /* freed after the step */
};

struct vg_action_result {
    struct vg_sbuf output; /* JSON object text; the engine inits and frees it */
    bool retryable;        /* on failure: may a retry help? */
    char err[512];         /* on failure: why, for the run's journal and the analyst */
};

struct vg_action_def {
    const char *name;        /* "http.webhook", "exec.responder", "case.create", "nft.block" */
    const char *description; /* one line for `vigie playbook actions` */
    const struct vg_action_param *params; /* terminated by a {NULL} entry */
    /* VG_OK; VG_ETIMEOUT when the deadline passed; other negative codes on failure */
    int (*run)(const struct vg_action_ctx *c, struct vg_action_result *r);
};

/* The table: every action, by name; NULL when unknown. */
const struct vg_action_def *vg_action_find(const char *name);
/* All actions (for listings and docs). */
const struct vg_action_def *const *vg_action_all(size_t *n);

#endif /* VG_RESPOND_ACTION_H */
