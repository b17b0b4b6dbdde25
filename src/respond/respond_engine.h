/*
 * respond_engine.h — the run engine's private state, shared by respond_engine.c (lifecycle,
 * state machine, workers, watchdog), respond_exec.c (running one step, approvals),
 * respond_run.c (triggers, recovery, playbook generations) and respond_view.c (JSON views).
 */
#ifndef VG_RESPOND_ENGINE_H
#define VG_RESPOND_ENGINE_H

#include "respond/respond_int.h"

#define VG_RE_BUCKETS 1024

enum vg_re_step_status {
    VG_RE_PENDING = 0,
    VG_RE_QUEUED,
    VG_RE_RUNNING,
    VG_RE_RETRY_WAIT,
    VG_RE_AWAITING,  /* approval pending */
    VG_RE_DECIDING,  /* approval decided, decision being journalled */
    VG_RE_SUCCEEDED, /* terminal from here on */
    VG_RE_FAILED,
    VG_RE_TIMED_OUT,
    VG_RE_SKIPPED,
    VG_RE_DENIED,
    VG_RE_CANCELLED,
};

enum vg_re_run_status {
    VG_RE_RUN_RUNNING = 0,
    VG_RE_RUN_SUCCEEDED,
    VG_RE_RUN_FAILED,
    VG_RE_RUN_TIMED_OUT,
    VG_RE_RUN_DENIED,
    VG_RE_RUN_CANCELLED,
};

struct vg_re_step {
    int status;
    unsigned attempt;
    uint64_t gen; /* bumped whenever the step is (re)queued or its run ends: stale results lose */
    char *input, *output, *error;
    vg_time_t next_at, deadline;
};

struct vg_respond;

struct vg_re_run {
    struct vg_re_run *next; /* hash chain */
    struct vg_respond *e;
    int64_t id;
    int refs;
    struct vg_playbook *pb; /* the version the run started with */
    char *tenant, *actor, *context, *error;
    struct vg_arena *arena;
    struct vg_json *ctx; /* the trigger context, parsed */
    int status;          /* enum vg_re_run_status */
    bool end_durable;
    unsigned stage;
    vg_time_t deadline;
    struct vg_re_step *st; /* per playbook step */
};

struct vg_re_task {
    struct vg_re_task *next;
    struct vg_re_run *run;
    size_t step;
    uint64_t gen;
};

struct vg_re_worker {
    struct vg_re_worker *next;
    struct vg_respond *e;
    pthread_t thread;
    bool abandoned;
    struct vg_re_run *run; /* the step in hand */
    size_t step;
    uint64_t deadline_mono;
    vg_time_t started;
    char input[512]; /* the beginning of its input, for the timeout record */
};

/* The loaded playbooks: one generation, swapped whole on reload. */
struct vg_re_gen {
    struct vg_playbook **pbs;
    bool *from_text;
    size_t n, cap;
    char **errors; /* files that failed to load: "file:line: field: reason" */
    size_t nerrors;
};

struct vg_respond {
    struct vg_respond_opts o;
    const struct vg_respond_services *svc;
    struct vg_rj *j;
    struct vg_json_parser *jp_ctx; /* under mu */
    pthread_mutex_t mu;
    pthread_cond_t work_cv, idle_cv, tick_cv;
    pthread_cond_t step_cv; /* a journalled step change reached the in-memory state */
    struct vg_re_gen *gen;
    struct vg_re_run *map[VG_RE_BUCKETS];
    size_t nactive;
    struct vg_re_task *qhead, *qtail;
    struct vg_re_worker *workers;
    pthread_t watchdog;
    bool watchdog_started, stopping, stopped;
    uint64_t manual_seq;
    uint64_t runs_started, runs_ended, steps_run, step_retries, steps_timed_out;
    uint64_t workers_abandoned;
};

const char *vg_re_step_status_name(int s);
const char *vg_re_run_status_name(int s);
int vg_re_step_status_parse(const char *s);

struct vg_re_run *vg_re_run_new(struct vg_respond *e, int64_t id, struct vg_playbook *pb,
                                const char *tenant, char *context, const char *actor,
                                vg_time_t deadline);
struct vg_re_run *vg_re_run_find(struct vg_respond *e, int64_t id);
void vg_re_run_unref(struct vg_respond *e, struct vg_re_run *r);
void vg_re_run_end(struct vg_respond *e, struct vg_re_run *r, int status, const char *why);
void vg_re_run_advance(struct vg_respond *e, struct vg_re_run *r);
void vg_re_context(const struct vg_re_run *r, struct vg_sbuf *b);
void vg_re_step_put(struct vg_respond *e, struct vg_re_run *r, size_t step, int status,
                    unsigned attempt, const char *input, const char *output, const char *error,
                    vg_time_t started, vg_time_t next_at, vg_time_t deadline);
void vg_re_step_result(struct vg_respond *e, struct vg_re_run *r, size_t step, int rc,
                       bool retryable, const char *input, const char *output, const char *error,
                       vg_time_t started);
int vg_re_worker_spawn(struct vg_respond *e);

/* respond_exec.c */
void vg_re_exec_step(struct vg_respond *e, struct vg_re_worker *w, struct vg_re_run *r,
                     size_t step);
void vg_re_approval_expire(struct vg_respond *e, struct vg_re_run *r, size_t step);

/* respond_run.c */
int vg_re_recover(struct vg_respond *e, char *err, size_t errsz);
void vg_re_gen_add_file(struct vg_re_gen *g, const char *path);
int vg_re_gen_put(struct vg_re_gen *g, struct vg_playbook *pb, bool from_text);
struct vg_playbook *vg_re_gen_find(const struct vg_re_gen *g, const char *id);
void vg_re_gen_free(struct vg_re_gen *g);

/* respond_view.c (under e->mu: uses the reader connection) */
int vg_re_run_status_db(struct vg_respond *e, int64_t run_id, char *status, size_t size);

#endif /* VG_RESPOND_ENGINE_H */
