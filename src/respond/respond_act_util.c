/*
 * respond_act_util.c — helpers every action family uses: errors and dry-run output in the
 * result, typed parameter getters over the rendered `with` object, the step deadline, audit
 * records, and the child-process runner used by exec.responder and nft.block.
 *
 * Parameters come from templates, so getters are lenient about representation (a number
 * rendered as the string "30" is an int) and strict about content (a string holding a NUL
 * byte is refused rather than silently cut).
 */
#include "respond/respond_act_int.h"

#include "audit/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- results */

int vg_act_fail(struct vg_action_result *r, int status, bool retryable, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    r->retryable = retryable;
    return status < 0 ? status : VG_ERROR;
}

int vg_act_dry(struct vg_action_result *r, const char *fmt, ...)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    vg_sbuf_vprintf(&s, fmt, ap);
    va_end(ap);
    vg_sbuf_reset(&r->output);
    vg_sbuf_adds(&r->output, "{\"dry_run\":true,\"would\":");
    vg_sbuf_add_json_str(&r->output, s.p ? s.p : "", s.len);
    vg_sbuf_addc(&r->output, '}');
    int err = s.err;
    vg_sbuf_fini(&s);
    return err ? err : r->output.err;
}

/* ---------------------------------------------------------------- parameters */

const struct vg_json *vg_act_param(const struct vg_action_ctx *c, const char *key)
{
    const struct vg_json *v = c->input ? vg_json_get(c->input, key) : NULL;
    return v && v->type != VG_JSON_NULL ? v : NULL;
}

char *vg_act_json_strdup(struct vg_arena *a, const struct vg_json *v)
{
    if (memchr(v->s, 0, v->n)) {
        return NULL;
    }
    return vg_arena_strndup(a, v->s, v->n);
}

int vg_act_str(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
               bool required, size_t max, const char **out)
{
    const struct vg_json *v = vg_act_param(c, key);
    *out = NULL;
    if (!v) {
        return required ? vg_act_fail(r, VG_EINVAL, false, "parameter '%s' is required", key)
                        : VG_OK;
    }
    if (v->type != VG_JSON_STRING && v->type != VG_JSON_NUMBER) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' must be a string", key);
    }
    if (v->n > max) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' is longer than %zu bytes", key,
                           max);
    }
    char *s = vg_act_json_strdup(c->arena, v);
    if (!s) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' contains a NUL byte", key);
    }
    *out = s;
    return VG_OK;
}

int vg_act_int(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
               int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const struct vg_json *v = vg_act_param(c, key);
    *out = def;
    if (!v) {
        return VG_OK;
    }
    int64_t x = 0;
    if (v->type == VG_JSON_NUMBER && v->is_int) {
        x = v->u.i;
    } else if (v->type != VG_JSON_STRING || vg_parse_i64(v->s, v->n, &x) != VG_OK) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' must be an integer", key);
    }
    if (x < min || x > max) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' must be between %lld and %lld", key,
                           (long long)min, (long long)max);
    }
    *out = x;
    return VG_OK;
}

int vg_act_bool(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
                bool def, bool *out)
{
    const struct vg_json *v = vg_act_param(c, key);
    *out = def;
    if (!v) {
        return VG_OK;
    }
    if (v->type == VG_JSON_TRUE || vg_json_str_is(v, "true")) {
        *out = true;
    } else if (v->type == VG_JSON_FALSE || vg_json_str_is(v, "false")) {
        *out = false;
    } else {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' must be true or false", key);
    }
    return VG_OK;
}

int vg_act_strlist(const struct vg_action_ctx *c, struct vg_action_result *r, const char *key,
                   bool required, size_t max, char ***out, size_t *n)
{
    const struct vg_json *v = vg_act_param(c, key);
    size_t cnt = !v ? 0 : v->type == VG_JSON_ARRAY ? v->n : 1;
    *out = NULL;
    *n = 0;
    if (!v && required) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' is required", key);
    }
    if (v && v->type != VG_JSON_ARRAY && v->type != VG_JSON_STRING) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' must be a list of strings", key);
    }
    if (cnt > max) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' has more than %zu items", key, max);
    }
    char **list = vg_arena_calloc(c->arena, (cnt + 1) * sizeof(*list));
    if (!list) {
        return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
    }
    for (size_t i = 0; i < cnt; i++) {
        const struct vg_json *it = v->type == VG_JSON_ARRAY ? &v->u.items[i] : v;
        if (it->type != VG_JSON_STRING && it->type != VG_JSON_NUMBER) {
            return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' item %zu must be a string", key,
                               i);
        }
        if (!(list[i] = vg_act_json_strdup(c->arena, it))) {
            return vg_act_fail(r, VG_EINVAL, false, "parameter '%s' item %zu contains a NUL byte",
                               key, i);
        }
    }
    *out = list;
    *n = cnt;
    return VG_OK;
}

/* ---------------------------------------------------------------- deadline, audit, text */

uint64_t vg_act_deadline(const struct vg_action_ctx *c)
{
    uint64_t now = vg_clock_ns();
    return c->timeout_ms > 0 ? now + (uint64_t)c->timeout_ms * 1000000u : now;
}

long vg_act_left_ms(uint64_t deadline)
{
    uint64_t now = vg_clock_ns();
    return now >= deadline ? 0 : (long)((deadline - now) / 1000000u);
}

void vg_act_audit(const struct vg_action_ctx *c, const char *action, const char *object,
                  const char *detail_json)
{
    if (!c->svc || !c->svc->audit) {
        return;
    }
    struct vg_audit_rec rec = {c->tenant, c->actor, action, object, detail_json};
    char err[256];
    if (vg_audit_append(c->svc->audit, &rec, NULL, err, sizeof(err)) != VG_OK) {
        VG_WARN("respond", "audit record for %s %s failed: %s", action, object, err);
    }
}

bool vg_act_has_ctl(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return true;
        }
    }
    return false;
}

const struct vg_json *vg_act_json_parse(const struct vg_action_ctx *c, const char *p, size_t n)
{
    struct vg_json_limits lim = {64, 16u << 20};
    struct vg_json_parser *jp = vg_json_parser_create(&lim);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char err[128];
    if (!jp) {
        return NULL;
    }
    int rc = vg_json_parse(jp, c->arena, p, n, &used, &doc, err, sizeof(err));
    vg_json_parser_destroy(jp);
    if (rc != VG_OK) {
        return NULL;
    }
    for (; used < n; used++) { /* only whitespace may follow the value */
        if (!strchr(" \t\r\n", p[used])) {
            return NULL;
        }
    }
    return doc;
}

/* ---------------------------------------------------------------- child processes */

static int proc_spawn(struct vg_act_proc *p, int in_fd, int out_fd, int err_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawn_file_actions_addchdir_np(&fa, p->cwd ? p->cwd : "/");
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    int rc = posix_spawn(pid, p->path, &fa, &at, p->argv, p->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    p->errno_start = rc;
    return rc == 0 ? VG_OK : VG_EIO;
}

/* Read what is available on fd into s (up to max kept); returns false at EOF/error. */
static bool proc_drain(int fd, struct vg_sbuf *s, size_t max, bool *trunc)
{
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return true;
    }
    if (n <= 0) {
        return false;
    }
    size_t keep = s->len < max ? VG_MIN((size_t)n, max - s->len) : 0;
    vg_sbuf_add(s, buf, keep);
    if (keep < (size_t)n && trunc) {
        *trunc = true;
    }
    return true;
}

/* Feed stdin, collect stdout/stderr, enforce the deadline; returns once both outputs close. */
static void proc_pump(struct vg_act_proc *p, pid_t pid, int in_fd, int out_fd, int err_fd)
{
    size_t off = 0;
    uint64_t until = p->deadline;
    int stage = 0; /* 0 running, 1 SIGTERM sent, 2 SIGKILL sent */
    while (out_fd >= 0 || err_fd >= 0) {
        struct pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        uint64_t now = vg_clock_ns();
        if (now >= until) {
            if (stage == 2) {
                break; /* something outside the group holds the pipes: stop waiting */
            }
            kill(-pid, stage == 0 ? SIGTERM : SIGKILL);
            p->timed_out = true;
            until = now + (stage == 0 ? 2000000000ull : 1000000000ull);
            stage++;
            continue;
        }
        int wait_ms = (int)VG_MIN((until - now) / 1000000u + 1, 1000u);
        if (poll(fds, in_fd >= 0 ? 3 : 2, wait_ms) < 0 && errno != EINTR) {
            break;
        }
        if (fds[0].revents && !proc_drain(out_fd, &p->out, p->out_max, &p->out_truncated)) {
            close(out_fd);
            out_fd = -1;
        }
        if (fds[1].revents && !proc_drain(err_fd, &p->err, p->err_max, NULL)) {
            close(err_fd);
            err_fd = -1;
        }
        if (in_fd >= 0 && fds[2].revents) {
            ssize_t w = off < p->in_len
                            ? send(in_fd, p->in + off, p->in_len - off, MSG_NOSIGNAL | MSG_DONTWAIT)
                            : 0;
            off += w > 0 ? (size_t)w : 0;
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                off = p->in_len; /* the child closed its stdin: stop feeding it */
            }
            if (off >= p->in_len) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0) {
        close(in_fd);
    }
}

/* Reap the child; after a timeout the group is killed hard so nothing lingers. */
static void proc_reap(struct vg_act_proc *p, pid_t pid)
{
    if (p->timed_out) {
        kill(-pid, SIGKILL);
    }
    while (waitpid(pid, &p->status, 0) < 0 && errno == EINTR) {
    }
}

int vg_act_proc_run(struct vg_act_proc *p)
{
    int in_sv[2] = {-1, -1}, out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    pid_t pid = -1;
    int rc = VG_EIO;
    p->timed_out = p->out_truncated = false;
    p->status = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sv) < 0 ||
        pipe2(out_p, O_CLOEXEC) < 0 || pipe2(err_p, O_CLOEXEC) < 0) {
        p->errno_start = errno;
        goto out;
    }
    shutdown(in_sv[1], SHUT_WR); /* the child's end only reads */
    if ((rc = proc_spawn(p, in_sv[1], out_p[1], err_p[1], &pid)) != VG_OK) {
        goto out;
    }
    close(in_sv[1]);
    close(out_p[1]);
    close(err_p[1]);
    in_sv[1] = out_p[1] = err_p[1] = -1;
    proc_pump(p, pid, in_sv[0], out_p[0], err_p[0]);
    in_sv[0] = out_p[0] = err_p[0] = -1; /* closed by proc_pump */
    proc_reap(p, pid);
    rc = p->out.err ? p->out.err : p->err.err;
out:
    for (int i = 0; i < 2; i++) {
        int fds[3] = {in_sv[i], out_p[i], err_p[i]};
        for (int k = 0; k < 3; k++) {
            if (fds[k] >= 0) {
                close(fds[k]);
            }
        }
    }
    return rc;
}

void vg_act_proc_fini(struct vg_act_proc *p)
{
    vg_sbuf_fini(&p->out);
    vg_sbuf_fini(&p->err);
}
