/*
 * respond_int.h — internals of the playbook engine shared by its files: the parsed playbook
 * (respond_playbook.c), templates and conditions (respond_template.c), the journal
 * (respond_journal.c) and the engine (respond_engine.c). Nothing here is public.
 */
#ifndef VG_RESPOND_INT_H
#define VG_RESPOND_INT_H

#include <pthread.h>

#include "respond/respond.h"
#include "respond/respond_action.h"

#define VG_PB_MAX_STEPS    64
#define VG_PB_MAX_RETRY    20
#define VG_TMPL_MAX_OUT    (1u << 20) /* rendered input of one step */
#define VG_TMPL_MAX_DEPTH  32
#define VG_PB_MAX_TEXT     (1u << 20)
#define VG_PB_DEFAULT_STEP (30LL * 1000000000LL)
#define VG_PB_DEFAULT_RUN  (3600LL * 1000000000LL)
#define VG_PB_DEFAULT_APPR (3600LL * 1000000000LL)

/* ---------------------------------------------------------------- conditions */

enum vg_cond_op {
    VG_COND_OR = 1,
    VG_COND_AND,
    VG_COND_NOT,
    VG_COND_CMP,    /* l <cmp> r */
    VG_COND_EXISTS, /* path resolves to something not null */
    VG_COND_TRUTHY, /* a bare operand */
};

enum vg_cond_cmp {
    VG_CMP_EQ = 1,
    VG_CMP_NE,
    VG_CMP_LT,
    VG_CMP_LE,
    VG_CMP_GT,
    VG_CMP_GE,
    VG_CMP_IN,
    VG_CMP_CONTAINS,
};

struct vg_cond_operand {
    const char *path; /* a context path, or NULL for a literal */
    size_t path_len;
    struct vg_json *lit;
};

struct vg_cond {
    int op;  /* enum vg_cond_op */
    int cmp; /* enum vg_cond_cmp */
    struct vg_cond *a, *b;
    struct vg_cond_operand l, r;
};

/*
 * Compile a condition into arena nodes. on_path (optional) is called for each path (to check
 * step references). VG_EINVAL with err "reason at offset N".
 */
int vg_cond_compile(struct vg_arena *a, const char *text, size_t n, struct vg_cond **out,
                    int (*on_path)(void *c, const char *p, size_t n, char *err, size_t errsz),
                    void *c, char *err, size_t errsz);
/* Evaluate against the context; a missing path is null (false), never an error. */
bool vg_cond_eval(const struct vg_cond *c, const struct vg_json *ctx);

/* ---------------------------------------------------------------- templates */

/* Look a dotted path ("alert.source.ip", "steps.x.output.list[0]") up; NULL when absent. */
const struct vg_json *vg_tmpl_lookup(const struct vg_json *ctx, const char *path, size_t n);
/*
 * Check the syntax of the templates in a string; on_path sees each path. VG_EINVAL with
 * err set.
 */
int vg_tmpl_check(const char *s, size_t n,
                  int (*on_path)(void *c, const char *p, size_t n, char *err, size_t errsz),
                  void *c, char *err, size_t errsz);
/*
 * Render a template value (JSON whose strings may hold {{ }}) into JSON text appended to
 * out. A string that is exactly one template keeps the JSON type of its value. VG_EINVAL
 * (missing path without default, bad filter input), VG_ELIMIT (output too large).
 */
int vg_tmpl_render(const struct vg_json *t, const struct vg_json *ctx, struct vg_sbuf *out,
                   char *err, size_t errsz);
/* Render one string template into plain text (not JSON-quoted). */
int vg_tmpl_render_text(const char *s, size_t n, const struct vg_json *ctx, struct vg_sbuf *out,
                        char *err, size_t errsz);

/* ---------------------------------------------------------------- playbooks */

enum vg_pb_trigger_kind {
    VG_PB_ON_ALERT = 1,
    VG_PB_ON_INCIDENT,
    VG_PB_ON_MANUAL,
};

struct vg_pb_trigger {
    int on;                /* enum vg_pb_trigger_kind */
    const char *rule;      /* glob over the alert's rule id; NULL: any */
    const char *tag;       /* exact tag (case-insensitive); NULL: any */
    int min_level;         /* 0: any; 1 informational .. 5 critical */
    const char *technique; /* "T1110" matches T1110 and T1110.001; NULL: any */
    int64_t min_risk;      /* incident risk at least (0: any) */
    uint32_t line;
};

struct vg_pb_step {
    const char *id;
    uint32_t line;
    unsigned stage;
    const struct vg_action_def *action; /* NULL for approvals */
    const char *action_name;
    struct vg_json *with; /* template object ({} when absent) */
    int64_t timeout_ns;
    unsigned retry_max;
    int64_t backoff_initial_ns;
    double backoff_factor;
    int64_t backoff_max_ns;
    struct vg_cond *when;
    bool on_failure_continue;
    /* approval steps */
    bool approval;
    int approver_role;           /* >= 0: any principal with at least this role */
    const char **approver_users; /* else: these user names */
    size_t napprover_users;
    int64_t approval_timeout_ns;
    bool approval_default_approve;
    const char *approval_message; /* template text */
};

struct vg_playbook {
    struct vg_arena *arena;
    int refs;
    const char *file; /* name for messages ("ssh-bruteforce.yml") */
    const char *id, *name, *description;
    int64_t version;
    bool enabled;
    struct vg_pb_trigger *triggers;
    size_t ntriggers;
    struct vg_cond *condition;
    struct vg_json *inputs; /* defaults ({} when absent) */
    struct vg_pb_step *steps;
    size_t nsteps;
    unsigned nstages;
    int64_t timeout_ns;
    const char *text; /* the source, for the journal and GET /playbooks/{id} */
    size_t text_len;
    char hash[17]; /* hex of a 64-bit hash of the text */
};

void vg_playbook_ref(struct vg_playbook *pb);
/* ctx: the trigger context ({"alert":..} or {"incident":..}); why (optional) explains. */
bool vg_playbook_trigger_match(const struct vg_pb_trigger *t, const char *kind,
                               const struct vg_json *ctx, struct vg_sbuf *why);
/* Render the playbook's triggers as a JSON array (API listings). */
void vg_playbook_triggers_json(const struct vg_playbook *pb, struct vg_sbuf *out);

/* ---------------------------------------------------------------- journal */

struct vg_rj; /* the journal writer: one SQLite connection, one thread, group commit */

enum vg_rj_op {
    VG_RJ_RUN_INSERT = 1, /* may be ignored (duplicate idempotency key) */
    VG_RJ_RUN_STATUS,
    VG_RJ_STEP_PUT,
    VG_RJ_APPROVAL_PUT,
    VG_RJ_APPROVAL_DECIDE,
};

/* One change. Strings are owned by the op (freed after commit). */
struct vg_rj_change {
    struct vg_rj_change *next;
    int op;
    int64_t run;
    char *tenant, *playbook, *hash, *text, *source_key, *trigger, *actor, *context;
    char *step, *status, *action, *input, *output, *error, *extra;
    unsigned attempt;
    vg_time_t t1, t2, t3, t4; /* per op: created/started/ended/deadline/next_attempt */
    /* filled by the journal thread */
    int rc;
    bool inserted;
    int64_t new_id;
    /* called on the journal thread after the batch committed (or failed: rc) */
    void (*done)(void *c, struct vg_rj_change *ch);
    void *done_ctx;
    /* frees done_ctx when the change is dropped uncommitted (a simulated crash); NULL: none */
    void (*drop_ctx)(void *c);
};

int vg_rj_open(const char *path, struct vg_rj **out, char *err, size_t errsz);
/* Stop the thread after committing what is queued (crash == false) or dropping it. */
void vg_rj_close(struct vg_rj *j, bool drop);
/* Queue a change (taken). */
void vg_rj_submit(struct vg_rj *j, struct vg_rj_change *ch);
/* Queue a change and wait until its batch committed; returns its rc (ch stays the caller's). */
int vg_rj_submit_wait(struct vg_rj *j, struct vg_rj_change *ch);
struct vg_rj_change *vg_rj_change_new(int op);
void vg_rj_change_free(struct vg_rj_change *ch);
/* A read-only connection for queries (one at a time: the caller holds the engine's lock). */
struct sqlite3 *vg_rj_reader(struct vg_rj *j);
/* Batches and changes committed so far. */
void vg_rj_stats(struct vg_rj *j, uint64_t *batches, uint64_t *changes);

int64_t vg_respond_dur_parse(const char *p, size_t n, int64_t *out_ns);

#endif /* VG_RESPOND_INT_H */
