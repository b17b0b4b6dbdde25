/*
 * respond_act_int.h — what the action families (respond_act_*.c) share: the action
 * definitions the table lists, parameter getters that fill the result's error, the deadline,
 * dry-run output, audit records and a child-process runner (no shell, clean environment,
 * bounded output, process-group kill at the deadline).
 *
 * Private to src/respond/: the engine sees only respond_action.h.
 */
#ifndef VG_RESPOND_ACT_INT_H
#define VG_RESPOND_ACT_INT_H

#include "respond/respond_action.h"

#include <sys/types.h>

/* ---------------------------------------------------------------- the families */

extern const struct vg_action_def vg_act_noop, vg_act_log, vg_act_set, vg_act_sleep;
extern const struct vg_action_def vg_act_http_webhook;
extern const struct vg_action_def vg_act_exec_responder;
extern const struct vg_action_def vg_act_mail_send;
extern const struct vg_action_def vg_act_nft_block, vg_act_nft_unblock;
extern const struct vg_action_def vg_act_case_create, vg_act_case_comment, vg_act_case_observable,
    vg_act_case_task, vg_act_case_status, vg_act_case_link_alerts;
extern const struct vg_action_def vg_act_agent_kill_process, vg_act_agent_quarantine_file,
    vg_act_agent_isolate_host, vg_act_agent_release_host, vg_act_intel_lookup;

/* ---------------------------------------------------------------- results */

/* Fill r->err (printf-style) and r->retryable; returns status (a negative VG_E*). */
int vg_act_fail(struct vg_action_result *r, int status, bool retryable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Dry run: output {"dry_run":true,"would":"<text>"}; returns VG_OK. */
int vg_act_dry(struct vg_action_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- parameters */

/* The member key of the input (NULL when absent or JSON null). */
const struct vg_json *vg_act_param(const struct vg_action_ctx *c, const char *key);
/*
 * A string parameter copied NUL-terminated into c->arena. Absent: *out = NULL and VG_OK
 * unless required. A non-string, a string holding a NUL byte or longer than max bytes is
 * VG_EINVAL with r->err naming the parameter (not retryable).
 */
int vg_act_str(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
               bool required, size_t max, const char **out);
/* An integer (JSON integer or a string holding one, as templates render); def when absent. */
int vg_act_int(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
               int64_t def, int64_t min, int64_t max, int64_t *out);
/* A boolean (true/false or the strings "true"/"false"); def when absent. */
int vg_act_bool(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
                bool def, bool *out);
/*
 * A list of strings (a JSON array of strings; a single string counts as a list of one).
 * *out is a NULL-terminated array in c->arena; *n its length (at most max).
 */
int vg_act_strlist(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
                   bool required, size_t max, char ***out, size_t *n);
/* A JSON string's bytes as a NUL-terminated arena copy (NULL if it holds a NUL byte). */
char *vg_act_json_strdup(struct vg_arena *a, const struct vg_json *v);

/* ---------------------------------------------------------------- deadline */

/* Absolute monotonic deadline (ns) for a step given timeout_ms from now (<= 0: now). */
uint64_t vg_act_deadline(const struct vg_action_ctx *c);
/* Milliseconds left before deadline (0 when passed). */
long vg_act_left_ms(uint64_t deadline);

/* ---------------------------------------------------------------- audit and text */

/* Append an audit record for an outside effect (a NULL audit is a no-op; failures logged). */
void vg_act_audit(const struct vg_action_ctx *c, const char *action, const char *object,
                  const char *detail_json);
/* Does s contain CR, LF or another control byte (< 0x20, 0x7f)? */
bool vg_act_has_ctl(const char *s);
/* Parse JSON text into c->arena; NULL when it is not valid JSON. */
const struct vg_json *vg_act_json_parse(const struct vg_action_ctx *c, const char *p, size_t n);

/* curl_global_init exactly once (pthread_once); VG_OK or VG_ERROR. Thread-safe. */
int vg_act_curl_init(void);

/* ---------------------------------------------------------------- child processes */

/*
 * Run path with argv and envp (no shell, no PATH search), stdin fed from in (through a
 * socket so a child that stops reading cannot raise SIGPIPE here), stdout and stderr
 * captured up to out_max / err_max bytes (the rest is read and dropped). The child runs in
 * its own process group with default signal dispositions, an empty signal mask, no
 * inherited descriptors beyond 0-2 and cwd (NULL: "/"). At the deadline the group gets
 * SIGTERM, and SIGKILL 2 s later; timed_out is then set.
 * Returns VG_OK once the child has been reaped (check status), VG_EIO if it could not start
 * (errno_start says why), VG_ENOMEM.
 */
struct vg_act_proc {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    const char *in;
    size_t in_len;
    size_t out_max, err_max;
    uint64_t deadline;
    /* results */
    struct vg_sbuf out, err;
    bool out_truncated;
    bool timed_out;
    int status; /* waitpid status */
    int errno_start;
};
int vg_act_proc_run(struct vg_act_proc *p);
void vg_act_proc_fini(struct vg_act_proc *p);

#endif /* VG_RESPOND_ACT_INT_H */
