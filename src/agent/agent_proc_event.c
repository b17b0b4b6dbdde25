/*
 * agent_proc_event.c — turns a backend's observation (struct vg_agent_proc_obs) into the ECS
 * event the process collector emits, enriching it from /proc/PID at event time and from
 * three bounded caches:
 *
 *   users   uid → user name (getpwuid_r), 256 slots, entries live 60 s;
 *   hashes  (dev, inode, mtime, size) → SHA-256 of an executable, hash_cache slots;
 *   pids    pid → name and executable seen at exec, 4096 slots, so exit events and parents
 *           that are already gone from /proc still carry a name;
 *   paths   absolute execve path → realpath(), 256 slots, entries live 10 s.
 *
 * All caches are direct-mapped (a colliding entry replaces the old one): O(1), fixed memory.
 * /proc races are normal — a short-lived process may be gone (ENOENT) and some are denied
 * even to root (/proc/1/exe: EACCES); the event then carries what the backend saw. Runs on
 * the collector's thread only.
 */
#include "agent/agent_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USER_SLOTS   256
#define USER_TTL     (60LL * 1000000000LL)
#define PID_SLOTS    4096
#define EXE_MAX      4096
#define HASH_READ_SZ 65536
#define PATH_SLOTS   256
#define PATH_TTL     (10LL * 1000000000LL)

struct user_slot {
    int64_t uid; /* -1: empty */
    vg_time_t at;
    bool found;
    char name[64];
};

struct hash_slot {
    dev_t dev;
    ino_t ino;
    int64_t mtime_ns;
    int64_t size;
    bool used;
    uint8_t sha[32];
};

/* realpath() of an absolute execve path: the same few binaries run again and again */
struct path_slot {
    vg_time_t at; /* 0: empty */
    char in[256];
    char out[512];
};

struct pid_slot {
    int32_t pid; /* 0: empty */
    char name[16];
    char exe[240];
};

/* The details gathered for one event (buffers on the caller's stack). */
struct proc_info {
    char exe[EXE_MAX];
    char cwd[EXE_MAX];
    char comm[64];
    char pexe[EXE_MAX];
    char pname[64];
    char cgroup[1024];
    char container[80];
    const char *args;
    size_t args_len;
    bool args_truncated;
    int64_t ppid, uid, gid, euid;
    vg_time_t start;
    uint8_t sha[32];
    bool has_sha, hash_too_large;
};

struct vg_agent_proc_enrich {
    struct user_slot users[USER_SLOTS];
    struct pid_slot pids[PID_SLOTS];
    struct path_slot paths[PATH_SLOTS];
    struct hash_slot *hashes;
    size_t nhash; /* power of two */
    uint8_t *rdbuf;
    char *args; /* args_max + 1 */
    struct vg_sbuf out;
    struct proc_info pi; /* scratch of the event being built */
};

/* ---------------------------------------------------------------- lifecycle */

int vg_agent_proc_enrich_create(struct vg_agent_proc *p)
{
    struct vg_agent_proc_enrich *en = vg_calloc(1, sizeof(*en));
    if (!en) {
        return VG_ENOMEM;
    }
    p->en = en;
    for (size_t i = 0; i < USER_SLOTS; i++) {
        en->users[i].uid = -1;
    }
    en->nhash = 16;
    while ((int64_t)en->nhash < p->conf.hash_cache) {
        en->nhash <<= 1;
    }
    en->hashes = vg_calloc(en->nhash, sizeof(*en->hashes));
    en->rdbuf = vg_malloc(HASH_READ_SZ);
    en->args = vg_malloc((size_t)p->conf.args_max + 1);
    if (!en->hashes || !en->rdbuf || !en->args) {
        vg_agent_proc_enrich_destroy(p);
        return VG_ENOMEM;
    }
    return VG_OK;
}

void vg_agent_proc_enrich_destroy(struct vg_agent_proc *p)
{
    struct vg_agent_proc_enrich *en = p->en;
    if (!en) {
        return;
    }
    vg_free(en->hashes);
    vg_free(en->rdbuf);
    vg_free(en->args);
    vg_sbuf_fini(&en->out);
    vg_free(en);
    p->en = NULL;
}

/* ---------------------------------------------------------------- /proc readers */

ssize_t vg_agent_proc_read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t r = read(fd, buf + n, size - 1 - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* readlink /proc/<pid>/<what> into out; false when gone or denied. */
static bool proc_link(int32_t pid, const char *what, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
    ssize_t n = readlink(path, out, size - 1);
    if (n < 0) {
        out[0] = '\0';
        return false;
    }
    out[n] = '\0';
    return true;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The number after "key:\t" in /proc/PID/status text (first of several for Uid/Gid). */
static int64_t status_num(const char *text, const char *key)
{
    const char *s = strstr(text, key);
    if (!s) {
        return -1;
    }
    s += strlen(key);
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    return end == s ? -1 : v;
}

/* The effective uid: the second number of the Uid: line. */
static int64_t status_euid(const char *text)
{
    const char *s = strstr(text, "\nUid:");
    if (!s) {
        return -1;
    }
    char *end;
    strtoll(s + 5, &end, 10);
    long long v = strtoll(end, &end, 10);
    return v;
}

static void proc_status(int32_t pid, struct proc_info *pi)
{
    char path[64], text[2048];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (vg_agent_proc_read_small(path, text, sizeof(text)) <= 0) {
        return;
    }
    if (!pi->comm[0] && strncmp(text, "Name:\t", 6) == 0) {
        size_t n = strcspn(text + 6, "\n");
        snprintf(pi->comm, sizeof(pi->comm), "%.*s", (int)VG_MIN(n, 63), text + 6);
    }
    if (pi->ppid < 0) {
        pi->ppid = status_num(text, "\nPPid:");
    }
    if (pi->uid < 0) {
        pi->uid = status_num(text, "\nUid:");
        pi->gid = status_num(text, "\nGid:");
    }
    pi->euid = status_euid(text);
}

/* Process start from field 22 of /proc/PID/stat (clock ticks after boot). */
static void proc_start_time(struct vg_agent_proc *p, int32_t pid, struct proc_info *pi)
{
    char path[64], text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (vg_agent_proc_read_small(path, text, sizeof(text)) <= 0) {
        return;
    }
    const char *s = strrchr(text, ')'); /* comm may contain spaces and parentheses */
    for (int field = 2; s && field < 22; field++) {
        s = strchr(s + 1, ' ');
    }
    if (s) {
        unsigned long long ticks = strtoull(s + 1, NULL, 10);
        pi->start = vg_agent_proc_boot_to_wall(p, ticks * (1000000000ULL / (uint64_t)p->clk_tck));
    }
}

/* A container id: the first run of 64 hex digits in the cgroup path (docker, containerd,
   cri-o, podman all embed one). */
static void container_id(const char *cg, char *out, size_t size)
{
    size_t run = 0;
    for (const char *s = cg;; s++) {
        bool hex = (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f');
        if (hex) {
            run++;
            continue;
        }
        if (run == 64) {
            snprintf(out, size, "%.64s", s - 64);
            return;
        }
        run = 0;
        if (!*s) {
            return;
        }
    }
}

/* The cgroup v2 path ("0::/x") or else the first hierarchy's path. */
static void proc_cgroup(int32_t pid, struct proc_info *pi)
{
    char path[64], text[4096];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
    if (vg_agent_proc_read_small(path, text, sizeof(text)) <= 0) {
        return;
    }
    const char *line = strstr(text, "0::");
    line = line && (line == text || line[-1] == '\n') ? line : text;
    const char *sep = strstr(line, ":");
    sep = sep ? strchr(sep + 1, ':') : NULL;
    if (!sep) {
        return;
    }
    size_t n = strcspn(sep + 1, "\n");
    snprintf(pi->cgroup, sizeof(pi->cgroup), "%.*s", (int)VG_MIN(n, sizeof(pi->cgroup) - 1),
             sep + 1);
    container_id(pi->cgroup, pi->container, sizeof(pi->container));
}

static void proc_cmdline(struct vg_agent_proc *p, int32_t pid, struct proc_info *pi)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    size_t max = (size_t)p->conf.args_max;
    ssize_t n = vg_agent_proc_read_small(path, p->en->args, max + 1);
    if (n > 0) {
        pi->args = p->en->args;
        pi->args_len = (size_t)n;
        pi->args_truncated = (size_t)n >= max;
    }
}

/* ---------------------------------------------------------------- caches */

/* The user name of uid, or NULL when the user database has none. */
static const char *user_name(struct vg_agent_proc_enrich *en, int64_t uid)
{
    struct user_slot *u = &en->users[(uint64_t)uid % USER_SLOTS];
    vg_time_t now = vg_time_now();
    if (u->uid != uid || now - u->at > USER_TTL) {
        struct passwd pw, *res = NULL;
        char buf[1024];
        u->uid = uid;
        u->at = now;
        u->found = getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res;
        if (u->found) {
            vg_strlcpy(u->name, pw.pw_name, sizeof(u->name));
        }
    }
    return u->found ? u->name : NULL;
}

static struct pid_slot *pid_slot(struct vg_agent_proc_enrich *en, int32_t pid)
{
    return &en->pids[(uint32_t)pid % PID_SLOTS];
}

static const struct pid_slot *pid_lookup(struct vg_agent_proc_enrich *en, int32_t pid)
{
    const struct pid_slot *s = pid_slot(en, pid);
    return pid > 0 && s->pid == pid ? s : NULL;
}

static void pid_remember(struct vg_agent_proc_enrich *en, int32_t pid, const char *name,
                         const char *exe)
{
    struct pid_slot *s = pid_slot(en, pid);
    s->pid = pid;
    vg_strlcpy(s->name, name ? name : "", sizeof(s->name));
    vg_strlcpy(s->exe, exe ? exe : "", sizeof(s->exe));
}

static int sha256_fd(struct vg_agent_proc_enrich *en, int fd, uint8_t out[32])
{
    int rc = VG_EIO;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, en->rdbuf, HASH_READ_SZ);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            goto out;
        }
        if (n == 0) {
            break;
        }
        if (EVP_DigestUpdate(ctx, en->rdbuf, (size_t)n) != 1) {
            goto out;
        }
    }
    unsigned int len = 0;
    rc = EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32 ? VG_OK : VG_EIO;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

static struct hash_slot *hash_slot(struct vg_agent_proc_enrich *en, const struct stat *st)
{
    uint64_t k = vg_hash_mix((uint64_t)st->st_dev * 0x9e3779b97f4a7c15ULL ^ (uint64_t)st->st_ino);
    return &en->hashes[k & (en->nhash - 1)];
}

static bool hash_slot_is(const struct hash_slot *h, const struct stat *st)
{
    int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    return h->used && h->dev == st->st_dev && h->ino == st->st_ino && h->mtime_ns == mt &&
           h->size == st->st_size;
}

/* Hash the open file fd (stat st) into its cache slot. */
static int exe_hash_fd(struct vg_agent_proc *p, int fd, const struct stat *st, uint8_t sha[32])
{
    struct hash_slot *h = hash_slot(p->en, st);
    if (sha256_fd(p->en, fd, sha) != VG_OK) {
        h->used = false;
        atomic_fetch_add(&p->st.hash_errors, 1);
        return VG_EIO;
    }
    int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    *h = (struct hash_slot){st->st_dev, st->st_ino, mt, st->st_size, true, {0}};
    memcpy(h->sha, sha, 32);
    atomic_fetch_add(&p->st.hash_computed, 1);
    return VG_OK;
}

/*
 * process.hash.sha256: a stat() decides whether the cache knows the file (the common case
 * costs one system call); otherwise the file is opened, checked to be the one stat()ed and
 * hashed. pid > 0 reads the file through /proc/PID/exe (the very file the process runs).
 */
static void exe_hash(struct vg_agent_proc *p, int32_t pid, struct proc_info *pi)
{
    char path[64];
    const char *f = pi->exe;
    struct stat st, fst;
    if (pid > 0) {
        snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
        f = path;
    }
    if (stat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
        return;
    }
    if (st.st_size > p->conf.hash_max_size) {
        pi->hash_too_large = true;
        atomic_fetch_add(&p->st.hash_skipped, 1);
        return;
    }
    const struct hash_slot *h = hash_slot(p->en, &st);
    if (hash_slot_is(h, &st)) {
        memcpy(pi->sha, h->sha, 32);
        pi->has_sha = true;
        atomic_fetch_add(&p->st.hash_hits, 1);
        return;
    }
    int fd = open(f, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        return;
    }
    if (fstat(fd, &fst) == 0 && fst.st_dev == st.st_dev && fst.st_ino == st.st_ino &&
        exe_hash_fd(p, fd, &fst, pi->sha) == VG_OK) {
        pi->has_sha = true;
    }
    close(fd);
}

static struct path_slot *path_slot(struct vg_agent_proc_enrich *en, const char *in)
{
    return &en->paths[vg_hash64(in, strlen(in), 0) % PATH_SLOTS];
}

static bool path_cached(struct vg_agent_proc_enrich *en, const char *in, char *out, size_t size)
{
    const struct path_slot *s = path_slot(en, in);
    if (s->at && vg_time_now() - s->at < PATH_TTL && strcmp(s->in, in) == 0) {
        vg_strlcpy(out, s->out, size);
        return true;
    }
    return false;
}

static void path_remember(struct vg_agent_proc_enrich *en, const char *in, const char *out)
{
    struct path_slot *s = path_slot(en, in);
    if (in[0] == '/' && strlen(in) < sizeof(s->in) && strlen(out) < sizeof(s->out)) {
        s->at = vg_time_now();
        vg_strlcpy(s->in, in, sizeof(s->in));
        vg_strlcpy(s->out, out, sizeof(s->out));
    }
}

/* ---------------------------------------------------------------- gathering */

/*
 * The executable of an exec. With the path execve() resolved in the kernel (ebpf: the
 * interpreter for scripts) it is canonicalised with realpath, relative to the process's cwd;
 * /proc/PID/exe is used otherwise — it may already show a later exec of the same pid, which
 * is why the kernel's path wins when there is one.
 */
static void exec_exe(struct vg_agent_proc *p, const struct vg_agent_proc_obs *o,
                     struct proc_info *pi)
{
    char rel[EXE_MAX + 64];
    const char *f = o->filename;
    if (f && f[0] == '/' && path_cached(p->en, f, pi->exe, sizeof(pi->exe))) {
        return;
    }
    if (f && f[0]) {
        if (f[0] != '/') {
            snprintf(rel, sizeof(rel), "/proc/%d/cwd/%s", (int)o->pid, f);
            f = rel;
        }
        if (realpath(f, pi->exe)) {
            path_remember(p->en, o->filename, pi->exe);
            return;
        }
    }
    if (!proc_link(o->pid, "exe", pi->exe, sizeof(pi->exe))) {
        atomic_fetch_add(&p->st.proc_gone, 1);
        if (o->filename) {
            vg_strlcpy(pi->exe, o->filename, sizeof(pi->exe));
        }
    }
}

/* Name and executable of the parent: the pid cache, else /proc/PPID. */
static void parent_info(struct vg_agent_proc *p, struct proc_info *pi)
{
    if (pi->ppid <= 0) {
        return;
    }
    const struct pid_slot *s = pid_lookup(p->en, (int32_t)pi->ppid);
    if (s && s->exe[0]) {
        vg_strlcpy(pi->pexe, s->exe, sizeof(pi->pexe));
        vg_strlcpy(pi->pname, base_name(s->exe), sizeof(pi->pname));
        return;
    }
    if (proc_link((int32_t)pi->ppid, "exe", pi->pexe, sizeof(pi->pexe))) {
        vg_strlcpy(pi->pname, base_name(pi->pexe), sizeof(pi->pname));
        pid_remember(p->en, (int32_t)pi->ppid, pi->pname, pi->pexe); /* next child: no read */
    } else {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pi->ppid);
        if (vg_agent_proc_read_small(path, pi->pname, sizeof(pi->pname)) > 0) {
            pi->pname[strcspn(pi->pname, "\n")] = '\0';
        }
    }
}

static void gather_exec(struct vg_agent_proc *p, const struct vg_agent_proc_obs *o,
                        struct proc_info *pi)
{
    exec_exe(p, o, pi);
    if (o->args) {
        pi->args = o->args;
        pi->args_len = o->args_len;
        pi->args_truncated = o->args_truncated;
    } else {
        proc_cmdline(p, o->pid, pi);
    }
    proc_link(o->pid, "cwd", pi->cwd, sizeof(pi->cwd));
    if (pi->uid < 0 || pi->ppid < 0 || !o->comm) {
        proc_status(o->pid, pi);
    }
    if (pi->start == VG_TIME_NONE) {
        proc_start_time(p, o->pid, pi);
    }
    proc_cgroup(o->pid, pi);
    parent_info(p, pi);
    if (p->conf.hash && pi->exe[0]) {
        exe_hash(p, o->filename ? 0 : o->pid, pi);
    }
    pid_remember(p->en, o->pid, pi->comm, pi->exe);
}

/* A fork runs the parent's image: its executable is the parent's (its cgroup too: the
   exec that usually follows reports it). */
static void gather_fork(struct vg_agent_proc *p, const struct vg_agent_proc_obs *o,
                        struct proc_info *pi)
{
    parent_info(p, pi);
    vg_strlcpy(pi->exe, pi->pexe, sizeof(pi->exe));
    if (!pi->comm[0]) {
        vg_strlcpy(pi->comm, pi->pname, sizeof(pi->comm));
    }
    if (pi->uid < 0) {
        proc_status(o->pid, pi);
    }
    pid_remember(p->en, o->pid, pi->comm, pi->exe);
}

/* An exit: /proc/PID is gone or going; only the pid cache knows the executable. */
static void gather_exit(struct vg_agent_proc *p, const struct vg_agent_proc_obs *o,
                        struct proc_info *pi)
{
    struct pid_slot *s = pid_slot(p->en, o->pid);
    if (s->pid == o->pid) {
        vg_strlcpy(pi->exe, s->exe, sizeof(pi->exe));
        if (!pi->comm[0]) {
            vg_strlcpy(pi->comm, s->name, sizeof(pi->comm));
        }
        s->pid = 0; /* the pid may be reused: forget it */
    }
}

/* ---------------------------------------------------------------- the event */

static void key(struct vg_sbuf *s, const char *k)
{
    vg_sbuf_printf(s, ",\"%s\":", k);
}

static void key_str(struct vg_sbuf *s, const char *k, const char *v)
{
    if (v && v[0]) {
        key(s, k);
        vg_sbuf_add_json_str(s, v, strlen(v));
    }
}

static void key_int(struct vg_sbuf *s, const char *k, int64_t v)
{
    key(s, k);
    vg_sbuf_printf(s, "%lld", (long long)v);
}

static void key_time(struct vg_sbuf *s, const char *k, vg_time_t t)
{
    char buf[40];
    size_t n = vg_time_format(t, buf, sizeof(buf));
    key(s, k);
    vg_sbuf_add_json_str(s, buf, n);
}

/* process.args (array), process.args_count and process.command_line from NUL-separated argv. */
static void put_args(struct vg_sbuf *s, const char *a, size_t n, bool truncated)
{
    while (n > 0 && a[n - 1] == '\0') {
        n--;
    }
    size_t count = 0;
    key(s, "process.args");
    vg_sbuf_addc(s, '[');
    for (size_t i = 0; i <= n;) {
        size_t l = strnlen(a + i, n - i);
        vg_sbuf_adds(s, count ? "," : "");
        vg_sbuf_add_json_str(s, a + i, l);
        count++;
        i += l + 1;
    }
    vg_sbuf_addc(s, ']');
    key_int(s, "process.args_count", (int64_t)count);
    key(s, "process.command_line");
    /* the command line is argv joined by spaces: NULs become spaces */
    struct vg_sbuf cl = VG_SBUF_INIT;
    vg_sbuf_add(&cl, a, n);
    for (size_t i = 0; i < cl.len && cl.p; i++) {
        cl.p[i] = cl.p[i] == '\0' ? ' ' : cl.p[i];
    }
    vg_sbuf_add_json_str(s, cl.p ? cl.p : "", cl.len);
    vg_sbuf_fini(&cl);
    if (truncated) {
        key(s, "vigie.process.args_truncated");
        vg_sbuf_adds(s, "true");
    }
}

static void put_hex(struct vg_sbuf *s, const char *k, const uint8_t *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    key(s, k);
    vg_sbuf_addc(s, '"');
    for (size_t i = 0; i < n; i++) {
        vg_sbuf_addc(s, hx[b[i] >> 4]);
        vg_sbuf_addc(s, hx[b[i] & 15]);
    }
    vg_sbuf_addc(s, '"');
}

/* Clear what gather_*() fills (the first byte of each string is enough). */
static void pi_reset(struct proc_info *pi, const struct vg_agent_proc_obs *o)
{
    pi->exe[0] = pi->cwd[0] = pi->comm[0] = pi->pexe[0] = pi->pname[0] = '\0';
    pi->cgroup[0] = pi->container[0] = '\0';
    pi->args = NULL;
    pi->args_len = 0;
    pi->args_truncated = false;
    pi->ppid = o->ppid;
    pi->uid = o->uid;
    pi->gid = o->gid;
    pi->euid = -1;
    pi->start = o->start;
    pi->has_sha = pi->hash_too_large = false;
}

static const char *const kind_type[] = {"", "start", "info", "end"};
static const char *const kind_action[] = {"", "exec", "fork", "exit"};

static void put_head(struct vg_agent_proc *p, struct vg_sbuf *s, const struct vg_agent_proc_obs *o)
{
    char ts[40];
    size_t n = vg_time_format(o->ts, ts, sizeof(ts));
    vg_sbuf_adds(s, "{\"@timestamp\":");
    vg_sbuf_add_json_str(s, ts, n);
    vg_sbuf_adds(s, ",\"event.module\":\"vigie-agent\",\"event.dataset\":\"process\","
                    "\"event.kind\":\"event\",\"event.category\":\"process\"");
    key_str(s, "event.type", kind_type[o->kind]);
    key_str(s, "event.action", kind_action[o->kind]);
    key_str(s, "vigie.agent.backend", p->be ? p->be->name : "");
    if (o->resync) {
        key(s, "vigie.agent.resync");
        vg_sbuf_adds(s, "true");
    }
    key_int(s, "process.pid", o->pid);
}

/* Exit status as a shell shows it: the code, or 128 + signal (also in exit_signal). */
static void put_exit(struct vg_sbuf *s, int64_t ws)
{
    if (ws < 0) {
        return;
    }
    int sig = (int)(ws & 0x7f);
    key_int(s, "process.exit_code", sig ? 128 + sig : (ws >> 8) & 0xff);
    if (sig) {
        key_int(s, "vigie.process.exit_signal", sig);
    }
}

static void put_body(struct vg_agent_proc *p, struct vg_sbuf *s, const struct vg_agent_proc_obs *o,
                     const struct proc_info *pi)
{
    if (pi->ppid > 0) {
        key_int(s, "process.parent.pid", pi->ppid);
    }
    key_str(s, "process.executable", pi->exe);
    key_str(s, "process.name", pi->exe[0] ? base_name(pi->exe) : pi->comm);
    if (pi->args) {
        put_args(s, pi->args, pi->args_len, pi->args_truncated);
    }
    key_str(s, "process.working_directory", pi->cwd);
    if (pi->start != VG_TIME_NONE) {
        key_time(s, "process.start", pi->start);
    }
    if (pi->has_sha) {
        put_hex(s, "process.hash.sha256", pi->sha, 32);
    } else if (pi->hash_too_large) {
        key_str(s, "vigie.process.hash_skipped", "too_large");
    }
    key_str(s, "process.parent.executable", pi->pexe);
    key_str(s, "process.parent.name", pi->pname);
    key_str(s, "process.cgroup", pi->cgroup);
    key_str(s, "container.id", pi->container);
    if (pi->uid >= 0) {
        vg_sbuf_printf(s, ",\"user.id\":\"%lld\"", (long long)pi->uid);
        key_str(s, "user.name", user_name(p->en, pi->uid));
    }
    if (pi->euid >= 0 && pi->euid != pi->uid) {
        vg_sbuf_printf(s, ",\"user.effective.id\":\"%lld\"", (long long)pi->euid);
    }
    if (pi->gid >= 0) {
        vg_sbuf_printf(s, ",\"group.id\":\"%lld\"", (long long)pi->gid);
    }
    if (o->kind == VG_AGENT_PROC_EXIT) {
        put_exit(s, o->wstatus);
    }
    vg_sbuf_addc(s, '}');
}

static void emit_buf(struct vg_agent_proc *p, struct vg_sbuf *s)
{
    if (s->err || p->emit(p->emit_ctx, s->p, s->len) != VG_OK) {
        atomic_fetch_add(&p->st.emit_errors, 1);
    }
    vg_sbuf_reset(s);
}

void vg_agent_proc_observe(struct vg_agent_proc *p, const struct vg_agent_proc_obs *o)
{
    if (o->pid <= 0 || o->kind < VG_AGENT_PROC_EXEC || o->kind > VG_AGENT_PROC_EXIT) {
        return;
    }
    struct proc_info *pi = &p->en->pi;
    pi_reset(pi, o);
    if (o->comm) {
        vg_strlcpy(pi->comm, o->comm, sizeof(pi->comm));
    }
    if (o->kind == VG_AGENT_PROC_EXEC) {
        gather_exec(p, o, pi);
    } else if (o->kind == VG_AGENT_PROC_FORK) {
        gather_fork(p, o, pi);
    } else {
        gather_exit(p, o, pi);
    }
    struct vg_sbuf *s = &p->en->out;
    put_head(p, s, o);
    put_body(p, s, o, pi);
    emit_buf(p, s);
    atomic_fetch_add(&p->st.events, 1);
    atomic_fetch_add(o->kind == VG_AGENT_PROC_EXEC   ? &p->st.exec
                     : o->kind == VG_AGENT_PROC_FORK ? &p->st.fork
                                                     : &p->st.exit,
                     1);
}

void vg_agent_proc_notice_lost(struct vg_agent_proc *p, uint64_t lost)
{
    struct vg_sbuf *s = &p->en->out;
    char ts[40];
    size_t n = vg_time_format(vg_time_now(), ts, sizeof(ts));
    vg_sbuf_adds(s, "{\"@timestamp\":");
    vg_sbuf_add_json_str(s, ts, n);
    vg_sbuf_adds(s, ",\"event.module\":\"vigie-agent\",\"event.dataset\":\"process\","
                    "\"event.kind\":\"event\",\"event.category\":\"process\","
                    "\"event.type\":\"info\",\"event.action\":\"resync\"");
    key_str(s, "vigie.agent.backend", p->be ? p->be->name : "");
    key_int(s, "vigie.agent.lost", (int64_t)lost);
    vg_sbuf_adds(s, ",\"message\":\"kernel process events were lost; /proc was rescanned\"}");
    emit_buf(p, s);
}
