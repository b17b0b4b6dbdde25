/*
 * agent_resp_util.c — shared helpers of the response actions: argument getters (the only
 * place command arguments are read), SHA-256 over a descriptor, and the firewall-tool runner.
 *
 * The runner mirrors the server's respond runner (no shell, fixed environment, own process
 * group killed at the deadline) but feeds stdin and collects stderr through memfds: the
 * script is written before the child starts, so no pipe can fill up and deadlock.
 */
#include "agent/agent_resp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int vg_resp_fail(char *err, size_t errsz, int status, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* ---------------------------------------------------------------- arguments */

static const struct vg_json *arg_get(const struct vg_json *args, const char *key)
{
    return args && args->type == VG_JSON_OBJECT ? vg_json_get(args, key) : NULL;
}

int vg_resp_json_str(const struct vg_json *v, const char *what, char *buf, size_t size, char *err,
                     size_t errsz)
{
    if (v->type != VG_JSON_STRING) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "parameter '%s' must be a string", what);
    }
    if (v->n >= size || memchr(v->s, '\0', v->n)) {
        return vg_resp_fail(err, errsz, VG_EINVAL,
                            "parameter '%s' is too long (max %zu bytes) or contains NUL", what,
                            size - 1);
    }
    memcpy(buf, v->s, v->n);
    buf[v->n] = '\0';
    return VG_OK;
}

int vg_resp_arg_str(const struct vg_json *args, const char *key, bool required, char *buf,
                    size_t size, char *err, size_t errsz)
{
    const struct vg_json *v = arg_get(args, key);
    if (!v || v->type == VG_JSON_NULL) {
        return required ? vg_resp_fail(err, errsz, VG_EINVAL, "parameter '%s' is required", key)
                        : VG_ENOENT;
    }
    return vg_resp_json_str(v, key, buf, size, err, errsz);
}

int vg_resp_arg_int(const struct vg_json *args, const char *key, bool required, int64_t min,
                    int64_t max, int64_t *out, char *err, size_t errsz)
{
    const struct vg_json *v = arg_get(args, key);
    if (!v || v->type == VG_JSON_NULL) {
        return required ? vg_resp_fail(err, errsz, VG_EINVAL, "parameter '%s' is required", key)
                        : VG_ENOENT;
    }
    if (v->type != VG_JSON_NUMBER || !v->is_int || v->u.i < min || v->u.i > max) {
        return vg_resp_fail(err, errsz, VG_EINVAL,
                            "parameter '%s' must be an integer from %lld to %lld", key,
                            (long long)min, (long long)max);
    }
    *out = v->u.i;
    return VG_OK;
}

int vg_resp_arg_bool(const struct vg_json *args, const char *key, bool *out, char *err,
                     size_t errsz)
{
    const struct vg_json *v = arg_get(args, key);
    if (!v || v->type == VG_JSON_NULL) {
        return VG_ENOENT;
    }
    /* "true"/"false" as strings too: playbook templates render values as text */
    bool t =
        v->type == VG_JSON_TRUE || (v->type == VG_JSON_STRING && vg_str_eq(v->s, v->n, "true", 4));
    bool f = v->type == VG_JSON_FALSE ||
             (v->type == VG_JSON_STRING && vg_str_eq(v->s, v->n, "false", 5));
    if (!t && !f) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "parameter '%s' must be true or false", key);
    }
    *out = t;
    return VG_OK;
}

int vg_resp_arg_list(const struct vg_json *args, const char *key, bool required, size_t max,
                     const struct vg_json **items, size_t *n, char *err, size_t errsz)
{
    const struct vg_json *v = arg_get(args, key);
    *items = NULL;
    *n = 0;
    if (!v || v->type == VG_JSON_NULL) {
        return required ? vg_resp_fail(err, errsz, VG_EINVAL, "parameter '%s' is required", key)
                        : VG_ENOENT;
    }
    if (v->type != VG_JSON_ARRAY || v->n > max) {
        return vg_resp_fail(err, errsz, VG_EINVAL,
                            "parameter '%s' must be an array of at most %zu strings", key, max);
    }
    if (required && v->n == 0) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "parameter '%s' must not be empty", key);
    }
    *items = v->u.items;
    *n = v->n;
    return VG_OK;
}

/* ---------------------------------------------------------------- sha-256 */

int vg_resp_sha256_fd(int fd, char hex[VG_RESP_SHA256_HEX], uint64_t *size)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char buf[65536], md[32];
    unsigned int mdlen = 0;
    uint64_t off = 0;
    int rc = VG_EIO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) {
        return VG_ENOMEM;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        goto out;
    }
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            goto out;
        }
        if (n == 0) {
            break;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        off += (uint64_t)n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) {
        goto out;
    }
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    if (size) {
        *size = off;
    }
    rc = VG_OK;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---------------------------------------------------------------- firewall tools */

const char *vg_resp_tool_find(const char *override, const char *name, char *buf, size_t size)
{
    static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
    if (override) {
        return access(override, X_OK) == 0 ? override : NULL;
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(dirs); i++) {
        snprintf(buf, size, "%s/%s", dirs[i], name);
        if (access(buf, X_OK) == 0) {
            return buf;
        }
    }
    return NULL;
}

static int memfd_with(const char *name, const char *data)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    size_t len = data ? strlen(data) : 0, off = 0;
    while (fd >= 0 && off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno != EINTR) {
            close(fd);
            return -1;
        }
        off += n > 0 ? (size_t)n : 0;
    }
    if (fd >= 0) {
        lseek(fd, 0, SEEK_SET);
    }
    return fd;
}

/* Wait for pid until the deadline; kill its process group when it passes. */
static int child_wait(pid_t pid, int64_t timeout_ms, int *status)
{
    uint64_t end = vg_clock_ns() + (uint64_t)timeout_ms * 1000000ull;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            return VG_OK;
        }
        if (r < 0 && errno != EINTR) {
            return VG_EIO;
        }
        if (vg_clock_ns() >= end) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
            }
            return VG_ETIMEOUT;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

static void fd_slurp(int fd, struct vg_sbuf *s, size_t max)
{
    char buf[4096];
    lseek(fd, 0, SEEK_SET);
    ssize_t n;
    while (s->len < max && (n = read(fd, buf, VG_MIN(sizeof(buf), max - s->len))) > 0) {
        vg_sbuf_add(s, buf, (size_t)n);
    }
}

static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, int in, int outfd,
                       int errfd)
{
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(fa);
    posix_spawnattr_init(at);
    posix_spawn_file_actions_adddup2(fa, in, 0);
    if (outfd >= 0) {
        posix_spawn_file_actions_adddup2(fa, outfd, 1);
    } else {
        posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
    }
    posix_spawn_file_actions_adddup2(fa, errfd, 2);
    posix_spawnattr_setsigmask(at, &none);
    posix_spawnattr_setsigdefault(at, &all);
    posix_spawnattr_setpgroup(at, 0);
    return posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                            POSIX_SPAWN_SETPGROUP);
}

int vg_resp_tool_run(const char *path, char *const argv[], const char *in, struct vg_sbuf *out,
                     int64_t timeout_ms, char *err, size_t errsz)
{
    static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
    int infd = memfd_with("vg-in", in), errfd = memfd_with("vg-err", NULL);
    int outfd = out ? memfd_with("vg-out", NULL) : -1, status = 0, rc;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    pid_t pid;
    if (infd < 0 || errfd < 0 || (out && outfd < 0)) {
        rc = vg_resp_fail(err, errsz, VG_EIO, "%s: memfd_create: %s", argv[0], strerror(errno));
        goto out;
    }
    spawn_setup(&fa, &at, infd, outfd, errfd);
    int e = posix_spawn(&pid, path, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e != 0) {
        rc = vg_resp_fail(err, errsz, VG_EIO, "%s could not start: %s", argv[0], strerror(e));
        goto out;
    }
    rc = child_wait(pid, timeout_ms > 0 ? timeout_ms : 10000, &status);
    if (rc == VG_ETIMEOUT) {
        vg_resp_fail(err, errsz, rc, "%s did not finish within %lld ms", argv[0],
                     (long long)(timeout_ms > 0 ? timeout_ms : 10000));
    } else if (rc != VG_OK) {
        vg_resp_fail(err, errsz, rc, "%s: waitpid: %s", argv[0], strerror(errno));
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        struct vg_sbuf e2 = VG_SBUF_INIT;
        fd_slurp(errfd, &e2, 2048);
        size_t n = e2.p ? strcspn(e2.p, "\n") : 0;
        rc = vg_resp_fail(err, errsz, VG_ERROR, "%s failed: %.*s", argv[0], (int)VG_MIN(n, 300u),
                          n ? e2.p : "(no message)");
        vg_sbuf_fini(&e2);
    } else if (out) {
        fd_slurp(outfd, out, 65536);
    }
out:; /* a declaration may not follow a label before C23 (clang) */
    int fds[3] = {infd, errfd, outfd};
    for (size_t i = 0; i < 3; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    return rc;
}
