/*
 * test_resp.c — the agent's response actions on real kernel facilities, touching only what
 * the test creates:
 *   - kill_process on a child the test spawned (expect_exe wrong: refused and the child lives;
 *     right: killed through a pidfd, seen by waitpid), refusals for pid 1, self, kthreadd;
 *   - quarantine_file / restore_file in a temporary directory (mode 000, immutable flag set —
 *     unlink refused even for root — then cleared, content hash unchanged, owner/mode back;
 *     restore refused when the path exists again; symlink, directory and wrong sha256
 *     refused); teardown clears the immutable flag of everything left, even on failure;
 *   - block_ip / unblock_ip / isolate_host / release_host inside a network namespace a child
 *     creates with unshare(CLONE_NEWNET) (lo up, 198.51.100.7/32 and 192.0.2.1/32 on lo):
 *     TCP to the non-server address is dropped while isolated and to the server works, both
 *     work after release; the host's `nft list ruleset` is identical before and after;
 *   - collect_file (hash, size, base64 prefix, truncation); scan of a file and a directory
 *     tree with the command's rules or the collector's (match file, rule, tags; bounded
 *     list; no rules at all refused); argument errors name the parameter; the action list.
 */
#include "agent/agent_resp.h"
#include "event/event.h"
#include "vgnet.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---------------------------------------------------------------- helpers */

struct run {
    int rc;
    char err[512];
    struct vg_sbuf out;
    struct vg_arena *arena;
    struct vg_json *doc;
};

static int resp(const char *action, const char *args, const struct vg_agent_resp_opts *o,
                struct run *r)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_json *a = NULL;
    size_t used;
    char perr[128];
    memset(r, 0, sizeof(*r));
    r->arena = vg_arena_create(8192);
    if (args) {
        CHECK_EQ_INT(vg_json_parse(p, r->arena, args, strlen(args), &used, &a, perr, sizeof(perr)),
                     VG_OK);
    }
    r->rc = vg_agent_resp_run(action, a, o, &r->out, r->err, sizeof(r->err));
    if (r->rc == VG_OK) {
        CHECK_EQ_INT(
            vg_json_parse(p, r->arena, r->out.p, r->out.len, &used, &r->doc, perr, sizeof(perr)),
            VG_OK);
    } else if (r->out.len) {
        CHECK(!"output written on failure");
    }
    vg_json_parser_destroy(p);
    return r->rc;
}

static void run_fini(struct run *r)
{
    vg_sbuf_fini(&r->out);
    vg_arena_destroy(r->arena);
}

/* A string member of the output, copied into a static buffer ("" if absent). */
static const char *out_str(const struct run *r, const char *key)
{
    static char buf[4][8192];
    static int k;
    const struct vg_json *v = r->doc ? vg_json_get(r->doc, key) : NULL;
    char *b = buf[k++ & 3];
    b[0] = '\0';
    if (v && v->type == VG_JSON_STRING && v->n < sizeof(buf[0])) {
        memcpy(b, v->s, v->n);
        b[v->n] = '\0';
    }
    return b;
}

static int out_bool(const struct run *r, const char *key)
{
    const struct vg_json *v = r->doc ? vg_json_get(r->doc, key) : NULL;
    return !v ? -1 : v->type == VG_JSON_TRUE;
}

static long long out_int(const struct run *r, const char *key)
{
    const struct vg_json *v = r->doc ? vg_json_get(r->doc, key) : NULL;
    return v && v->type == VG_JSON_NUMBER ? (long long)v->u.i : -1;
}

/* Run argv (no shell), stdout into out (size n, may be NULL); the exit status or -1. */
static int run_cmd(char *const argv[], char *out, size_t n)
{
    int p[2];
    if (pipe(p) < 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t k;
    char sink[4096];
    while ((k = out && len + 1 < n ? read(p[0], out + len, n - 1 - len)
                                   : read(p[0], sink, sizeof(sink))) > 0) {
        len += out && len + 1 < n ? (size_t)k : 0;
    }
    if (out) {
        out[len] = 0;
    }
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---------------------------------------------------------------- actions table */

VG_TEST(actions_are_listed)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    size_t n;
    const struct vg_agent_resp_action *const *a = vg_agent_resp_actions(&n);
    CHECK(n >= 9);
    for (size_t i = 0; i < n; i++) {
        CHECK(a[i]->name && a[i]->description && a[i]->params && a[i]->run);
        CHECK(vg_agent_resp_find(a[i]->name) == a[i]);
    }
    CHECK(vg_agent_resp_find("rm_rf") == NULL);
    vg_agent_resp_list_json(&s);
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *ar = vg_arena_create(4096);
    struct vg_json *doc = NULL;
    size_t used;
    char err[128];
    CHECK_EQ_INT(vg_json_parse(p, ar, s.p, s.len, &used, &doc, err, sizeof(err)), VG_OK);
    CHECK(doc && doc->type == VG_JSON_ARRAY && doc->n == n);
    CHECK(strstr(s.p, "\"name\":\"isolate_host\"") && strstr(s.p, "\"name\":\"server_ips\""));
    vg_json_parser_destroy(p);
    vg_arena_destroy(ar);
    vg_sbuf_fini(&s);
}

VG_TEST(arguments_are_checked)
{
    struct run r;
    CHECK_EQ_INT(resp("nope", NULL, NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "unknown action"));
    run_fini(&r);
    CHECK_EQ_INT(resp("kill_process", "{\"pid\":\"12\"}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "'pid'"));
    run_fini(&r);
    CHECK_EQ_INT(resp("kill_process", "{\"pid\":12,\"expect\":\"/x\"}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "unknown parameter 'expect'"));
    run_fini(&r);
    CHECK_EQ_INT(resp("kill_process", "[1]", NULL, &r), VG_EINVAL);
    run_fini(&r);
    CHECK_EQ_INT(resp("kill_process", "{\"pid\":99,\"signal\":\"BOOM\"}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "'signal'"));
    run_fini(&r);
    CHECK_EQ_INT(resp("block_ip", "{\"ip\":\"10.0.0.300\"}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "'ip'"));
    run_fini(&r);
    CHECK_EQ_INT(resp("block_ip", "{\"ip\":\"127.0.0.1\"}", NULL, &r), VG_EDENIED);
    run_fini(&r);
    CHECK_EQ_INT(resp("block_ip", "{\"ip\":\"192.0.2.9\",\"duration\":\"40d\"}", NULL, &r),
                 VG_EINVAL);
    CHECK(strstr(r.err, "'duration'"));
    run_fini(&r);
    CHECK_EQ_INT(resp("isolate_host", "{\"server_ips\":[]}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "server_ips"));
    run_fini(&r);
    CHECK_EQ_INT(resp("isolate_host", "{\"server_ips\":[\"192.0.2.1\",\"0.0.0.0/0\"]}", NULL, &r),
                 VG_EINVAL);
    CHECK(strstr(r.err, "server_ips[1]"));
    run_fini(&r);
    CHECK_EQ_INT(resp("isolate_host", "{\"server_ips\":[\"192.0.2.1\"],\"allow\":[7]}", NULL, &r),
                 VG_EINVAL);
    CHECK(strstr(r.err, "allow[0]"));
    run_fini(&r);
    CHECK_EQ_INT(resp("scan", "{\"path\":\"/tmp\"}", NULL, &r), VG_EUNSUPPORTED);
    CHECK(strstr(r.err, "no rules"));
    run_fini(&r);
    CHECK_EQ_INT(resp("scan", "{\"path\":\"tmp\",\"rules\":\"\"}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "'path'"));
    run_fini(&r);
    CHECK_EQ_INT(resp("scan", "{\"path\":\"/tmp\",\"recursive\":3}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "'recursive'"));
    run_fini(&r);
    CHECK_EQ_INT(resp("scan", "{\"path\":\"/tmp\",\"rules\":\"rule x {\"}", NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "'rules'") && strstr(r.err, "syntax error"));
    run_fini(&r);
    CHECK_EQ_INT(resp("restore_file", "{\"quarantine_id\":\"../../etc\"}", NULL, &r), VG_EINVAL);
    run_fini(&r);
}

/* ---------------------------------------------------------------- kill_process */

static pid_t spawn_sleep(void)
{
    char *argv[] = {"sleep", "60", NULL};
    pid_t pid = -1;
    if (posix_spawn(&pid, "/bin/sleep", NULL, NULL, argv, environ) != 0) {
        return -1;
    }
    /* wait until the exec happened, so /proc/<pid>/exe is sleep, not the test */
    char path[64], exe[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    for (int i = 0; i < 200; i++) {
        ssize_t n = readlink(path, exe, sizeof(exe) - 1);
        if (n > 0 && (exe[n] = 0, strstr(exe, "sleep"))) {
            break;
        }
        usleep(5000);
    }
    return pid;
}

VG_TEST(kill_process_checks_exe_and_kills_through_pidfd)
{
    char args[PATH_MAX + 128], real[PATH_MAX];
    struct run r;
    pid_t pid = spawn_sleep();
    CHECK(pid > 0);
    CHECK(realpath("/bin/sleep", real) != NULL);
    snprintf(args, sizeof(args), "{\"pid\":%d,\"expect_exe\":\"/usr/bin/true\"}", (int)pid);
    CHECK_EQ_INT(resp("kill_process", args, NULL, &r), VG_EDENIED);
    CHECK(strstr(r.err, "not the expected"));
    run_fini(&r);
    CHECK_EQ_INT(kill(pid, 0), 0); /* still alive */

    snprintf(args, sizeof(args), "{\"pid\":%d,\"expect_exe\":\"%s\"}", (int)pid, real);
    CHECK_EQ_INT(resp("kill_process", args, NULL, &r), VG_OK);
    CHECK_EQ_INT(out_int(&r, "pid"), pid);
    CHECK_EQ_INT(out_int(&r, "signal"), SIGKILL);
    CHECK_STR(out_str(&r, "exe"), real);
    CHECK_STR(out_str(&r, "method"), "pidfd");
    CHECK_EQ_INT(out_bool(&r, "exited"), 1);
    run_fini(&r);
    int st = 0;
    CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

    /* the pid is gone now (reaped): no such process */
    snprintf(args, sizeof(args), "{\"pid\":%d}", (int)pid);
    CHECK_EQ_INT(resp("kill_process", args, NULL, &r), VG_ENOENT);
    run_fini(&r);
}

VG_TEST(kill_process_signal_by_name)
{
    char args[128];
    struct run r;
    pid_t pid = spawn_sleep();
    CHECK(pid > 0);
    snprintf(args, sizeof(args), "{\"pid\":%d,\"signal\":\"SIGTERM\"}", (int)pid);
    CHECK_EQ_INT(resp("kill_process", args, NULL, &r), VG_OK);
    CHECK_EQ_INT(out_int(&r, "signal"), SIGTERM);
    run_fini(&r);
    int st = 0;
    CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}

VG_TEST(kill_process_refuses_init_self_and_kernel_threads)
{
    char args[64];
    struct run r;
    CHECK_EQ_INT(resp("kill_process", "{\"pid\":1}", NULL, &r), VG_EDENIED);
    run_fini(&r);
    CHECK_EQ_INT(resp("kill_process", "{\"pid\":0}", NULL, &r), VG_EDENIED);
    run_fini(&r);
    CHECK_EQ_INT(resp("kill_process", "{\"pid\":-1}", NULL, &r), VG_EDENIED);
    run_fini(&r);
    snprintf(args, sizeof(args), "{\"pid\":%d}", (int)getpid());
    CHECK_EQ_INT(resp("kill_process", args, NULL, &r), VG_EDENIED);
    CHECK(strstr(r.err, "agent itself"));
    run_fini(&r);
    char comm[64] = "";
    FILE *f = fopen("/proc/2/comm", "r");
    if (f && fgets(comm, sizeof(comm), f) && strncmp(comm, "kthreadd", 8) == 0) {
        CHECK_EQ_INT(resp("kill_process", "{\"pid\":2}", NULL, &r), VG_EDENIED);
        CHECK(strstr(r.err, "kernel thread"));
        run_fini(&r);
    }
    if (f) {
        fclose(f);
    }
}

/* ---------------------------------------------------------------- quarantine */

static char qroot[PATH_MAX];

static int unimmutable(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    VG_UNUSED(ftw);
    if (flag == FTW_F && S_ISREG(st->st_mode)) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
        int fl = 0;
        if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0 && (fl & FS_IMMUTABLE_FL)) {
            fl &= ~FS_IMMUTABLE_FL;
            ioctl(fd, FS_IOC_SETFLAGS, &fl);
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    VG_UNUSED(st);
    VG_UNUSED(ftw);
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Teardown: always clear the flag first, then remove the tree. */
static void qroot_cleanup(void)
{
    if (qroot[0]) {
        nftw(qroot, unimmutable, 16, FTW_PHYS);
        nftw(qroot, rm_entry, 16, FTW_PHYS | FTW_DEPTH);
        qroot[0] = '\0';
    }
}

static bool immutable_of(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK), fl = 0;
    bool on = fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0 && (fl & FS_IMMUTABLE_FL);
    if (fd >= 0) {
        close(fd);
    }
    return on;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    if (fd >= 0) {
        fchmod(fd, mode);
        close(fd);
    }
}

static void quarantine_roundtrip(const struct vg_agent_resp_opts *o, const char *data)
{
    char file[PATH_MAX + 32], args[PATH_MAX + 160], stored[PATH_MAX], id[64], sha[80];
    struct run r;
    struct stat st;
    snprintf(file, sizeof(file), "%s/evil.bin", data);
    write_file(file, "#!/bin/sh\necho pwned\n", 0750);
    CHECK(chown(file, 4242, 4343) == 0);
    /* a wrong expected hash: refused, nothing moves */
    snprintf(args, sizeof(args), "{\"path\":\"%s\",\"sha256\":\"%s\"}", file,
             "0000000000000000000000000000000000000000000000000000000000000000");
    CHECK_EQ_INT(resp("quarantine_file", args, o, &r), VG_EDENIED);
    run_fini(&r);
    CHECK(access(file, F_OK) == 0);

    snprintf(args, sizeof(args), "{\"path\":\"%s\"}", file);
    CHECK_EQ_INT(resp("quarantine_file", args, o, &r), VG_OK);
    if (r.rc != VG_OK) {
        fprintf(stderr, "  quarantine: %s\n", r.err);
        run_fini(&r);
        return;
    }
    vg_strlcpy(id, out_str(&r, "quarantine_id"), sizeof(id));
    vg_strlcpy(sha, out_str(&r, "sha256"), sizeof(sha));
    vg_strlcpy(stored, out_str(&r, "stored_path"), sizeof(stored));
    CHECK_EQ_INT(strlen(id), 32);
    CHECK_EQ_INT(strlen(sha), 64);
    CHECK_STR(out_str(&r, "mode"), "0750");
    bool imm = out_bool(&r, "immutable") == 1;
    run_fini(&r);
    CHECK(access(file, F_OK) != 0 && errno == ENOENT);
    CHECK(lstat(stored, &st) == 0 && S_ISREG(st.st_mode));
    CHECK_EQ_INT(st.st_mode & 07777, 0);
    CHECK(imm);
    CHECK(immutable_of(stored));
    CHECK(unlink(stored) != 0 && errno == EPERM); /* immutable: even root cannot remove it */

    /* the original path exists again: restore refuses and the quarantined copy stays */
    write_file(file, "innocent", 0644);
    snprintf(args, sizeof(args), "{\"quarantine_id\":\"%s\"}", id);
    CHECK_EQ_INT(resp("restore_file", args, o, &r), VG_EEXIST);
    run_fini(&r);
    CHECK(immutable_of(stored));
    CHECK(unlink(file) == 0);

    CHECK_EQ_INT(resp("restore_file", args, o, &r), VG_OK);
    CHECK_STR(out_str(&r, "sha256"), sha);
    CHECK_EQ_INT(out_bool(&r, "sha256_match"), 1);
    run_fini(&r);
    CHECK(lstat(file, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0750);
    CHECK_EQ_INT(st.st_uid, 4242);
    CHECK_EQ_INT(st.st_gid, 4343);
    CHECK(!immutable_of(file));
    CHECK(access(stored, F_OK) != 0);
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_INT(vg_file_read(file, 4096, &text, &len), VG_OK);
    CHECK(text && strcmp(text, "#!/bin/sh\necho pwned\n") == 0);
    vg_free(text);

    /* restored once: the id is spent */
    CHECK_EQ_INT(resp("restore_file", args, o, &r), VG_ENOENT);
    run_fini(&r);
}

static void quarantine_refusals(const struct vg_agent_resp_opts *o, const char *data)
{
    char link[PATH_MAX + 32], args[PATH_MAX + 64];
    struct run r;
    snprintf(link, sizeof(link), "%s/link", data);
    CHECK(symlink("/etc/passwd", link) == 0);
    snprintf(args, sizeof(args), "{\"path\":\"%s\"}", link);
    CHECK_EQ_INT(resp("quarantine_file", args, o, &r), VG_EDENIED);
    CHECK(strstr(r.err, "symbolic link"));
    run_fini(&r);
    snprintf(args, sizeof(args), "{\"path\":\"%s\"}", data);
    CHECK_EQ_INT(resp("quarantine_file", args, o, &r), VG_EDENIED);
    run_fini(&r);
    CHECK_EQ_INT(resp("quarantine_file", "{\"path\":\"relative/file\"}", o, &r), VG_EINVAL);
    run_fini(&r);
    snprintf(args, sizeof(args), "{\"path\":\"%s/missing\"}", data);
    CHECK_EQ_INT(resp("quarantine_file", args, o, &r), VG_ENOENT);
    run_fini(&r);
    snprintf(args, sizeof(args), "{\"path\":\"%s/quarantine.db\"}", o->state_dir);
    CHECK_EQ_INT(resp("quarantine_file", args, o, &r), VG_EDENIED);
    CHECK(strstr(r.err, "own state"));
    run_fini(&r);
}

VG_TEST(quarantine_and_restore_in_a_temp_dir)
{
    char state[PATH_MAX + 16], data[PATH_MAX + 16];
    vg_strlcpy(qroot, "/tmp/vg-resp-q.XXXXXX", sizeof(qroot));
    if (!mkdtemp(qroot)) {
        VG_SKIP("mkdtemp failed");
    }
    snprintf(state, sizeof(state), "%s/state", qroot);
    snprintf(data, sizeof(data), "%s/data", qroot);
    CHECK(mkdir(state, 0700) == 0 && mkdir(data, 0755) == 0);
    struct vg_agent_resp_opts o = {.state_dir = state};
    if (geteuid() != 0) {
        qroot_cleanup();
        VG_SKIP("quarantine needs root (chown, immutable flag)");
    }
    quarantine_roundtrip(&o, data);
    quarantine_refusals(&o, data);
    qroot_cleanup();
}

/*
 * The state directory on another filesystem: the quarantine dir must be made at the top of
 * the file's own filesystem. A child makes a private mount namespace and mounts a tmpfs on a
 * directory of the test's temp tree, so nothing outside that tree is touched.
 */
static void quarantine_on_other_mount(const char *state, const char *mnt)
{
    char sub[PATH_MAX + 32], file[PATH_MAX + 48], args[PATH_MAX + 96], qdir[PATH_MAX + 48];
    struct run r;
    struct vg_agent_resp_opts o = {.state_dir = state};
    snprintf(sub, sizeof(sub), "%s/deep", mnt);
    snprintf(file, sizeof(file), "%s/deep/x.bin", mnt);
    snprintf(qdir, sizeof(qdir), "%s/.vigie-quarantine", mnt);
    CHECK(mkdir(sub, 0755) == 0);
    write_file(file, "tmpfs payload", 0600);
    snprintf(args, sizeof(args), "{\"path\":\"%s\"}", file);
    CHECK_EQ_INT(resp("quarantine_file", args, &o, &r), VG_OK);
    const char *stored = out_str(&r, "stored_path");
    CHECK(strncmp(stored, qdir, strlen(qdir)) == 0);
    fprintf(stderr, "  tmpfs: stored in %s, immutable=%d\n", stored, out_bool(&r, "immutable"));
    char id[64];
    vg_strlcpy(id, out_str(&r, "quarantine_id"), sizeof(id));
    run_fini(&r);
    CHECK(access(file, F_OK) != 0);
    snprintf(args, sizeof(args), "{\"quarantine_id\":\"%s\"}", id);
    CHECK_EQ_INT(resp("restore_file", args, &o, &r), VG_OK);
    run_fini(&r);
    CHECK(access(file, F_OK) == 0);
    /* a planted, world-writable quarantine dir is refused */
    nftw(qdir, unimmutable, 16, FTW_PHYS);
    nftw(qdir, rm_entry, 16, FTW_PHYS | FTW_DEPTH);
    CHECK(mkdir(qdir, 0777) == 0 && chmod(qdir, 0777) == 0);
    snprintf(args, sizeof(args), "{\"path\":\"%s\"}", file);
    CHECK_EQ_INT(resp("quarantine_file", args, &o, &r), VG_EDENIED);
    run_fini(&r);
    CHECK(access(file, F_OK) == 0);
}

VG_TEST(quarantine_uses_the_files_own_filesystem)
{
    char state[PATH_MAX + 16], mnt[PATH_MAX + 16];
    vg_strlcpy(qroot, "/tmp/vg-resp-m.XXXXXX", sizeof(qroot));
    if (geteuid() != 0 || !mkdtemp(qroot)) {
        VG_SKIP("needs root and a temp dir");
    }
    snprintf(state, sizeof(state), "%s/state", qroot);
    snprintf(mnt, sizeof(mnt), "%s/mnt", qroot);
    CHECK(mkdir(state, 0700) == 0 && mkdir(mnt, 0755) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("tmpfs", mnt, "tmpfs", 0, "size=4m") != 0) {
            _exit(77);
        }
        quarantine_on_other_mount(state, mnt);
        nftw(mnt, unimmutable, 16, FTW_PHYS);
        _exit(vgt_failed_checks ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    qroot_cleanup();
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        VG_SKIP("cannot make a private mount namespace with a tmpfs here");
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---------------------------------------------------------------- collect_file */

VG_TEST(collect_file_hashes_and_bounds_content)
{
    char dir[] = "/tmp/vg-resp-c.XXXXXX", file[64], args[160];
    struct run r;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof(file), "%s/f", dir);
    write_file(file, "hello world", 0600);
    snprintf(args, sizeof(args), "{\"path\":\"%s\"}", file);
    CHECK_EQ_INT(resp("collect_file", args, NULL, &r), VG_OK);
    CHECK_STR(out_str(&r, "sha256"),
              "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
    CHECK_EQ_INT(out_int(&r, "size"), 11);
    CHECK_STR(out_str(&r, "content_b64"), "aGVsbG8gd29ybGQ=");
    CHECK_EQ_INT(out_bool(&r, "truncated"), 0);
    run_fini(&r);
    snprintf(args, sizeof(args), "{\"path\":\"%s\",\"max_bytes\":5}", file);
    CHECK_EQ_INT(resp("collect_file", args, NULL, &r), VG_OK);
    CHECK_STR(out_str(&r, "content_b64"), "aGVsbG8=");
    CHECK_EQ_INT(out_bool(&r, "truncated"), 1);
    CHECK_EQ_INT(out_int(&r, "size"), 11);
    run_fini(&r);
    struct vg_agent_resp_opts o = {.collect_max = 4};
    snprintf(args, sizeof(args), "{\"path\":\"%s\",\"max_bytes\":5}", file);
    CHECK_EQ_INT(resp("collect_file", args, &o, &r), VG_EINVAL);
    CHECK(strstr(r.err, "'max_bytes'"));
    run_fini(&r);
    snprintf(args, sizeof(args), "{\"path\":\"%s\"}", dir);
    CHECK_EQ_INT(resp("collect_file", args, NULL, &r), VG_EINVAL);
    run_fini(&r);
    unlink(file);
    rmdir(dir);
}

/* ---------------------------------------------------------------- scan */

#include "agent/agent_yara.h"

static struct vg_agent_yara_rules *test_rules(void *ctx)
{
    return vg_agent_yara_rules_ref(ctx);
}

VG_TEST(scan_lists_matches_with_given_or_collector_rules)
{
    char dir[] = "/tmp/vg-resp-y.XXXXXX", path[96], args[600], yerr[256];
    static const char rule[] = "rule vg_marker : evil test { strings: $a = \"VG-SCAN-MARK\" "
                               "condition: $a }";
    struct run r;
    CHECK(mkdtemp(dir) != NULL);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/m%d", dir, i);
        write_file(path, "xx VG-SCAN-MARK yy", 0600);
    }
    snprintf(path, sizeof(path), "%s/clean", dir);
    write_file(path, "nothing here", 0600);
    /* one file, with the command's rules */
    snprintf(args, sizeof(args), "{\"path\":\"%s/m0\",\"rules\":\"%s\"}", dir,
             "rule vg_marker : evil test { strings: $a = \\\"VG-SCAN-MARK\\\" condition: $a }");
    CHECK_EQ_INT(resp("scan", args, NULL, &r), VG_OK);
    CHECK_STR(out_str(&r, "rules"), "command");
    CHECK_EQ_INT(out_int(&r, "files"), 1);
    CHECK_EQ_INT(out_int(&r, "matches_total"), 1);
    CHECK(strstr(r.out.p, "\"rule\":\"vg_marker\"") &&
          strstr(r.out.p, "\"tags\":[\"evil\",\"test\"]"));
    run_fini(&r);
    /* a directory needs recursive */
    snprintf(args, sizeof(args), "{\"path\":\"%s\",\"rules\":\"rule a { condition: true }\"}", dir);
    CHECK_EQ_INT(resp("scan", args, NULL, &r), VG_EINVAL);
    CHECK(strstr(r.err, "recursive"));
    run_fini(&r);
    /* the tree with the collector's rules, two matches listed of three */
    struct vg_agent_yara_rules *rs = NULL;
    CHECK_EQ_INT(vg_agent_yara_compile(rule, strlen(rule), "t", &rs, yerr, sizeof(yerr)), VG_OK);
    struct vg_agent_resp_opts o = {.yara_rules = test_rules, .yara_ctx = rs};
    snprintf(args, sizeof(args), "{\"path\":\"%s\",\"recursive\":true,\"max_matches\":2}", dir);
    CHECK_EQ_INT(resp("scan", args, &o, &r), VG_OK);
    CHECK_STR(out_str(&r, "rules"), "collector");
    CHECK_EQ_INT(out_int(&r, "files"), 4);
    CHECK_EQ_INT(out_int(&r, "matches_total"), 3);
    CHECK_EQ_INT(out_bool(&r, "truncated"), 1);
    const struct vg_json *m = r.doc ? vg_json_get(r.doc, "matches") : NULL;
    CHECK(m && m->type == VG_JSON_ARRAY && m->n == 2);
    CHECK(!strstr(r.out.p, "clean"));
    run_fini(&r);
    vg_agent_yara_rules_unref(rs);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/m%d", dir, i);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/clean", dir);
    unlink(path);
    rmdir(dir);
}

/* ---------------------------------------------------------------- network namespace */

/* Drain the listeners' accept queues so the backlog never fills. */
static void drain(int fd)
{
    int c;
    while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
        close(c);
    }
}

struct ns_env {
    int lfd_other, lfd_server, lfd_lo;
    int port_other, port_server, port_lo;
};

static bool other_ok(struct ns_env *e)
{
    drain(e->lfd_other);
    bool ok = tcp_reaches("198.51.100.7", e->port_other, 400);
    drain(e->lfd_other);
    return ok;
}

static bool server_ok(struct ns_env *e)
{
    drain(e->lfd_server);
    bool ok = tcp_reaches("192.0.2.1", e->port_server, 1000);
    drain(e->lfd_server);
    return ok;
}

static void ns_block(struct ns_env *e)
{
    struct run r;
    CHECK_EQ_INT(resp("block_ip", "{\"ip\":\"198.51.100.7\",\"duration\":\"10m\"}", NULL, &r),
                 VG_OK);
    CHECK_STR(out_str(&r, "backend"), "nftables");
    CHECK_STR(out_str(&r, "expiry"), "kernel");
    run_fini(&r);
    CHECK(!other_ok(e));
    CHECK(server_ok(e));
    CHECK_EQ_INT(resp("block_ip", "{\"ip\":\"198.51.100.7\",\"duration\":600}", NULL, &r), VG_OK);
    run_fini(&r);
    CHECK_EQ_INT(resp("unblock_ip", "{\"ip\":\"198.51.100.7\"}", NULL, &r), VG_OK);
    run_fini(&r);
    CHECK(other_ok(e));
    CHECK_EQ_INT(resp("unblock_ip", "{\"ip\":\"198.51.100.7\"}", NULL, &r), VG_OK); /* again */
    run_fini(&r);
    /* kernel-side expiry */
    CHECK_EQ_INT(resp("block_ip", "{\"ip\":\"198.51.100.7\",\"duration\":\"1s\"}", NULL, &r),
                 VG_OK);
    run_fini(&r);
    CHECK(!other_ok(e));
    usleep(1300000);
    CHECK(other_ok(e));
}

static void ns_isolate(struct ns_env *e)
{
    struct run r;
    const char *iso = "{\"server_ips\":[\"192.0.2.1\"],\"allow\":[\"203.0.113.0/24\"]}";
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(resp("isolate_host", iso, NULL, &r), VG_OK);
    fprintf(stderr, "  isolate_host (nft -f -): %.1f ms\n", (double)(vg_clock_ns() - t0) / 1e6);
    CHECK_EQ_INT(out_bool(&r, "isolated"), 1);
    CHECK(strstr(r.out.p, "\"server\":[\"192.0.2.1\"]") &&
          strstr(r.out.p, "\"allow\":[\"203.0.113.0/24\"]"));
    run_fini(&r);
    CHECK(!other_ok(e));
    CHECK(server_ok(e));
    CHECK(tcp_reaches("127.0.0.1", e->port_lo, 1000));
    drain(e->lfd_lo);
    CHECK_EQ_INT(resp("isolate_host", iso, NULL, &r), VG_OK); /* idempotent */
    run_fini(&r);
    CHECK(!other_ok(e));
    CHECK(server_ok(e));
    /* allowing the other address opens it */
    CHECK_EQ_INT(resp("isolate_host",
                      "{\"server_ips\":[\"192.0.2.1\"],\"allow\":[\"198.51.100.7\"]}", NULL, &r),
                 VG_OK);
    run_fini(&r);
    CHECK(other_ok(e));
    CHECK_EQ_INT(resp("isolate_host", iso, NULL, &r), VG_OK);
    run_fini(&r);
    CHECK(!other_ok(e));
    CHECK_EQ_INT(resp("release_host", NULL, NULL, &r), VG_OK);
    CHECK_EQ_INT(out_bool(&r, "isolated"), 0);
    run_fini(&r);
    CHECK(other_ok(e));
    CHECK(server_ok(e));
    CHECK_EQ_INT(resp("release_host", NULL, NULL, &r), VG_OK); /* not isolated: success */
    run_fini(&r);
}

/* Runs in the child, inside the namespace it created. */
static void in_namespace(void)
{
    char *lo_up[] = {"/usr/sbin/ip", "link", "set", "lo", "up", NULL};
    char *a1[] = {"/usr/sbin/ip", "addr", "add", "198.51.100.7/32", "dev", "lo", NULL};
    char *a2[] = {"/usr/sbin/ip", "addr", "add", "192.0.2.1/32", "dev", "lo", NULL};
    struct ns_env e;
    CHECK_EQ_INT(run_cmd(lo_up, NULL, 0), 0);
    CHECK_EQ_INT(run_cmd(a1, NULL, 0), 0);
    CHECK_EQ_INT(run_cmd(a2, NULL, 0), 0);
    e.lfd_other = listener("198.51.100.7", &e.port_other);
    e.lfd_server = listener("192.0.2.1", &e.port_server);
    e.lfd_lo = listener("127.0.0.1", &e.port_lo);
    CHECK(e.lfd_other >= 0 && e.lfd_server >= 0 && e.lfd_lo >= 0);
    fcntl(e.lfd_other, F_SETFL, O_NONBLOCK);
    fcntl(e.lfd_server, F_SETFL, O_NONBLOCK);
    fcntl(e.lfd_lo, F_SETFL, O_NONBLOCK);
    CHECK(other_ok(&e));
    CHECK(server_ok(&e));
    ns_block(&e);
    ns_isolate(&e);
    char *list[] = {"/usr/sbin/nft", "list", "table", "inet", "vigie", NULL};
    static char listing[1 << 15];
    CHECK_EQ_INT(run_cmd(list, listing, sizeof(listing)), 0);
    CHECK(strstr(listing, "iso_input") == NULL && strstr(listing, "blocked4") != NULL);
}

VG_TEST(block_isolate_release_in_a_network_namespace)
{
    char *list[] = {"/usr/sbin/nft", "list", "ruleset", NULL};
    static char before[1 << 16], after[1 << 16];
    if (access("/usr/sbin/nft", X_OK) != 0 || access("/usr/sbin/ip", X_OK) != 0) {
        VG_SKIP("nft or ip is not installed in /usr/sbin");
    }
    int host_rc = run_cmd(list, before, sizeof(before));
    char verdict = vgt_in_netns(in_namespace);
    CHECK_EQ_INT(run_cmd(list, after, sizeof(after)), host_rc);
    CHECK_STR(after, before); /* the host's ruleset was never touched */
    if (verdict == 'S') {
        VG_SKIP("unshare(CLONE_NEWNET) is not permitted here");
    }
    CHECK(verdict == 'P');
}
