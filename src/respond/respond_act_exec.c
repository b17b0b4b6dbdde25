/*
 * respond_act_exec.c — exec.responder: run a Cortex-style responder program.
 *
 * The program is a bare name resolved only inside services->responders_dir (no '/', no
 * '..'); it runs without a shell (args become argv as they are), in its own process group,
 * with a clean environment (PATH, VIGIE_IDEMPOTENCY_KEY, VIGIE_RUN_ID) and cwd the responders
 * directory. Its stdin gets the `input` object as JSON plus "idempotency_key" and "run_id";
 * its stdout (at most 1 MiB) must be one JSON object, which becomes the step's output.
 * Cortex's {"success": false, "errorMessage": ...} and a non-zero exit are failures (the
 * message, or stderr's first line, in the error). At the deadline the group gets SIGTERM,
 * then SIGKILL 2 s later, and the step fails with VG_ETIMEOUT (retryable).
 */
#include "respond/respond_act_int.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXEC_OUT_MAX  (1u << 20)
#define EXEC_ERR_MAX  (16u * 1024u)
#define EXEC_ARGS_MAX 256

static bool name_ok(const char *n)
{
    if (!n[0] || n[0] == '.' || strstr(n, "..") || strlen(n) > 128) {
        return false;
    }
    for (const char *p = n; *p; p++) {
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            !strchr("._-+", *p)) {
            return false; /* '/' among others */
        }
    }
    return true;
}

/* Check the program; *path receives responders_dir/name. */
static int program_resolve(const struct vg_action_ctx *c, const char *name, const char **path,
                           struct vg_action_result *r)
{
    const char *dir = c->svc ? c->svc->responders_dir : NULL;
    struct stat st;
    if (!name_ok(name)) {
        return vg_act_fail(r, VG_EINVAL, false,
                           "parameter 'program' must be a bare responder name (letters, digits, "
                           "'.', '_', '-', '+'; no '/' or '..'), got \"%.64s\"",
                           name);
    }
    if (!dir || !dir[0]) {
        return vg_act_fail(r, VG_EDENIED, false,
                           "no responders directory is configured: exec.responder cannot run "
                           "\"%s\"",
                           name);
    }
    *path = vg_arena_printf(c->arena, "%s/%s", dir, name);
    if (!*path) {
        return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
    }
    if (stat(*path, &st) < 0 || !S_ISREG(st.st_mode) || access(*path, X_OK) < 0) {
        return vg_act_fail(r, VG_ENOENT, false,
                           "responder \"%s\" is not an executable file in the responders "
                           "directory",
                           name);
    }
    return VG_OK;
}

/* argv = {name, args...}; envp = the clean environment. */
static int argv_build(const struct vg_action_ctx *c, const char *name, char ***argv, char ***envp,
                      struct vg_action_result *r)
{
    char **args;
    size_t n;
    int rc = vg_act_strlist(c, r, "args", false, EXEC_ARGS_MAX, &args, &n);
    if (rc != VG_OK) {
        return rc;
    }
    char **av = vg_arena_calloc(c->arena, (n + 2) * sizeof(*av));
    char **ev = vg_arena_calloc(c->arena, 4 * sizeof(*ev));
    if (!av || !ev) {
        return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
    }
    av[0] = (char *)name;
    memcpy(av + 1, args, n * sizeof(*av));
    ev[0] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    ev[1] = vg_arena_printf(c->arena, "VIGIE_IDEMPOTENCY_KEY=%s", c->idem_key ? c->idem_key : "");
    ev[2] = vg_arena_printf(c->arena, "VIGIE_RUN_ID=%s", c->run_id ? c->run_id : "");
    if (!ev[1] || !ev[2]) {
        return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
    }
    *argv = av;
    *envp = ev;
    return VG_OK;
}

/* stdin document: the input object's members plus idempotency_key and run_id. */
static int stdin_build(const struct vg_action_ctx *c, struct vg_sbuf *s, struct vg_action_result *r)
{
    const struct vg_json *in = vg_act_param(c, "input");
    if (in && in->type != VG_JSON_OBJECT) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter 'input' must be a JSON object");
    }
    vg_sbuf_adds(s, "{\"idempotency_key\":");
    vg_sbuf_add_json_str(s, c->idem_key ? c->idem_key : "", c->idem_key ? strlen(c->idem_key) : 0);
    vg_sbuf_adds(s, ",\"run_id\":");
    vg_sbuf_add_json_str(s, c->run_id ? c->run_id : "", c->run_id ? strlen(c->run_id) : 0);
    for (size_t i = 0; in && i < in->n; i++) {
        const struct vg_json *k = &in->u.items[2 * i];
        if (vg_json_str_is(k, "idempotency_key") || vg_json_str_is(k, "run_id")) {
            continue; /* ours win: the responder must see the real key */
        }
        vg_sbuf_addc(s, ',');
        vg_json_write(k, s);
        vg_sbuf_addc(s, ':');
        vg_json_write(&in->u.items[2 * i + 1], s);
    }
    vg_sbuf_adds(s, "}\n");
    return s->err ? vg_act_fail(r, VG_ENOMEM, true, "out of memory") : VG_OK;
}

/* The first line of stderr, bounded, control characters dropped. */
static const char *stderr_line(const struct vg_action_ctx *c, const struct vg_sbuf *e)
{
    size_t n = e->p ? strcspn(e->p, "\r\n") : 0;
    char *s = vg_arena_strndup(c->arena, e->p ? e->p : "", VG_MIN(n, 300u));
    for (char *p = s; p && *p; p++) {
        *p = (unsigned char)*p < 0x20 ? ' ' : *p;
    }
    return s && s[0] ? s : "(no message on stderr)";
}

/* Interpret the finished process: exit status, then the Cortex JSON contract. */
static int result_read(const struct vg_action_ctx *c, const char *name, struct vg_act_proc *p,
                       struct vg_action_result *r)
{
    if (p->timed_out) {
        return vg_act_fail(r, VG_ETIMEOUT, true,
                           "responder \"%s\" did not finish before the deadline (%d ms): killed",
                           name, c->timeout_ms);
    }
    if (!WIFEXITED(p->status) || WEXITSTATUS(p->status) != 0) {
        bool sig = WIFSIGNALED(p->status);
        return vg_act_fail(r, VG_ERROR, false, "responder \"%s\" %s %d: %s", name,
                           sig ? "was killed by signal" : "exited with status",
                           sig ? WTERMSIG(p->status) : WEXITSTATUS(p->status),
                           stderr_line(c, &p->err));
    }
    const struct vg_json *doc =
        p->out_truncated ? NULL : vg_act_json_parse(c, p->out.p ? p->out.p : "", p->out.len);
    if (!doc || doc->type != VG_JSON_OBJECT) {
        return vg_act_fail(r, VG_ERROR, false,
                           "responder \"%s\" did not print one JSON object on stdout%s", name,
                           p->out_truncated ? " (output over 1 MiB)" : "");
    }
    const struct vg_json *ok = vg_json_get(doc, "success");
    if (ok && ok->type == VG_JSON_FALSE) {
        const struct vg_json *m = vg_json_get(doc, "errorMessage");
        return vg_act_fail(r, VG_ERROR, false, "responder \"%s\" reported failure: %.*s", name,
                           m && m->type == VG_JSON_STRING ? (int)VG_MIN(m->n, 300u) : 0,
                           m && m->type == VG_JSON_STRING ? m->s : "");
    }
    vg_json_write(doc, &r->output);
    return r->output.err ? vg_act_fail(r, VG_ENOMEM, true, "out of memory") : VG_OK;
}

static int exec_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    const char *name, *path = NULL;
    char **argv = NULL, **envp = NULL;
    struct vg_sbuf in = VG_SBUF_INIT;
    struct vg_act_proc p = {0};
    int rc;
    if ((rc = vg_act_str(c, r, "program", true, 256, &name)) != VG_OK ||
        (rc = argv_build(c, name, &argv, &envp, r)) != VG_OK ||
        (rc = stdin_build(c, &in, r)) != VG_OK) {
        goto out;
    }
    if (c->svc && c->svc->dry_run) {
        struct vg_sbuf a = VG_SBUF_INIT;
        for (size_t k = 1; argv[k]; k++) {
            vg_sbuf_adds(&a, k > 1 ? ", " : "");
            vg_sbuf_add_json_str(&a, argv[k], strlen(argv[k]));
        }
        rc = vg_act_dry(r, "run responder %s with args [%s] and stdin %s", name, a.p ? a.p : "",
                        in.p);
        vg_sbuf_fini(&a);
        goto out;
    }
    if ((rc = program_resolve(c, name, &path, r)) != VG_OK) {
        goto out;
    }
    p = (struct vg_act_proc){.path = path,
                             .argv = argv,
                             .envp = envp,
                             .cwd = c->svc->responders_dir,
                             .in = in.p,
                             .in_len = in.len,
                             .out_max = EXEC_OUT_MAX,
                             .err_max = EXEC_ERR_MAX,
                             .deadline = vg_act_deadline(c)};
    if ((rc = vg_act_proc_run(&p)) != VG_OK) {
        rc = vg_act_fail(r, rc, rc == VG_ENOMEM, "responder \"%s\" could not start: %s", name,
                         strerror(p.errno_start));
        goto out;
    }
    rc = result_read(c, name, &p, r);
    vg_act_audit(c, "respond.exec.responder", vg_arena_printf(c->arena, "responder:%s", name),
                 NULL);
out:
    vg_act_proc_fini(&p);
    vg_sbuf_fini(&in);
    return rc;
}

static const struct vg_action_param exec_params[] = {
    {"program", VG_ACTION_STRING, true,
     "responder name: an executable file directly inside the configured responders directory"},
    {"args", VG_ACTION_LIST, false, "arguments, passed as argv (never through a shell)"},
    {"input", VG_ACTION_OBJECT, false,
     "JSON object written on stdin (with idempotency_key and run_id added)"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_exec_responder = {
    .name = "exec.responder",
    .description = "Run a responder program from the responders directory: JSON on stdin, "
                   "one JSON object on stdout becomes the output",
    .params = exec_params,
    .run = exec_run,
};
