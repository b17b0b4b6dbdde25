/*
 * test_fim.c — the FIM collector and its baseline/check API, on real files in the test's own
 * temporary trees, with the real kernel notification facilities (fanotify, inotify; a test
 * skips with the reason when the kernel or our privileges do not offer one).
 *
 * Changes are made by a forked child so that fanotify reports another process than the agent
 * (the collector ignores its own process) and the test can check process.pid/executable.
 */
#include "vgtest.h"

#include "agent/agent_fim.h"
#include "core/core.h"
#include "event/event.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

static void put_file(const char *dir, const char *name, const char *content)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, content, strlen(content));
        VG_UNUSED(w);
        close(fd);
    }
}

static char *path_of(char *buf, size_t n, const char *dir, const char *name)
{
    if (snprintf(buf, n, "%s/%s", dir, name) >= (int)n) {
        buf[0] = '\0'; /* never happens with the test's short paths */
    }
    return buf;
}

/* A tree: a.txt b.txt c.txt d.bin, sub/e.txt, link -> a.txt */
static void make_tree(char *dir, size_t n)
{
    snprintf(dir, n, "/tmp/vg_fim_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    put_file(dir, "a.txt", "alpha\n");
    put_file(dir, "b.txt", "bravo\n");
    put_file(dir, "c.txt", "charlie\n");
    put_file(dir, "d.bin", "delta\n");
    char p[4096];
    CHECK(mkdir(path_of(p, sizeof(p), dir, "sub"), 0755) == 0);
    put_file(p, "e.txt", "echo\n");
    CHECK(symlink("a.txt", path_of(p, sizeof(p), dir, "link")) == 0);
}

struct changes {
    int n[4]; /* per vg_fim_kind */
    uint32_t mode_changed;
};

static void count_change(void *ctx, const struct vg_fim_change *c)
{
    struct changes *ch = ctx;
    ch->n[c->kind]++;
    if (c->changed & VG_FIM_CH_MODE) {
        ch->mode_changed++;
    }
}

/* ---------------------------------------------------------------- API */

VG_TEST(baseline_then_check_counts_and_rehashes_only_changed)
{
    char dir[64], db[128], p[4096], q[4096];
    make_tree(dir, sizeof(dir));
    snprintf(db, sizeof(db), "%s.db", dir);
    const char *paths[] = {dir};
    struct vg_fim_opts o = {.paths = paths, .npaths = 1};
    struct vg_fim_result r;
    char err[256];
    CHECK_EQ_INT(vg_fim_baseline(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.files, 8); /* root, 4 files, sub, sub/e.txt, link */
    CHECK_EQ_INT(r.hashed, 5);

    /* unchanged: metadata only, nothing hashed */
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.added + r.removed + r.changed, 0);
    CHECK_EQ_INT(r.hashed, 0);

    /* the full-rehash mode reads everything and still finds nothing */
    o.rehash = true;
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.hashed, 5);
    CHECK_EQ_INT(r.changed, 0);
    o.rehash = false;

    put_file(dir, "a.txt", "ALPHA, longer\n");                    /* modified */
    CHECK(chmod(path_of(p, sizeof(p), dir, "b.txt"), 0600) == 0); /* attributes */
    CHECK(unlink(path_of(p, sizeof(p), dir, "c.txt")) == 0);      /* deleted */
    CHECK(rename(path_of(p, sizeof(p), dir, "d.bin"), path_of(q, sizeof(q), dir, "D.bin")) == 0);
    put_file(dir, "new.txt", "new\n"); /* created */
    struct changes ch;
    memset(&ch, 0, sizeof(ch));
    o.on_change = count_change;
    o.ctx = &ch;
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.added, 2);   /* new.txt, D.bin */
    CHECK_EQ_INT(r.removed, 2); /* c.txt, d.bin */
    CHECK_EQ_INT(r.changed, 2); /* a.txt, b.txt (the directory's own times are not reported) */
    CHECK_EQ_INT(ch.n[VG_FIM_MODIFIED], 1);
    CHECK_EQ_INT(ch.n[VG_FIM_ATTRIBUTES], 1);
    CHECK_EQ_INT(ch.mode_changed, 1);
    /* a.txt (content), b.txt (ctime moved), D.bin and new.txt (new paths): not e.txt */
    CHECK_EQ_INT(r.hashed, 4);

    /* without update the baseline is unchanged: the same differences again; with update,
       a further check is clean */
    o.update = true;
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.added + r.removed + r.changed, 6);
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.added + r.removed + r.changed, 0);
    CHECK_EQ_INT(r.hashed, 0);

    /* content changed with mtime put back: ctime betrays it, the hash confirms it */
    struct stat st;
    CHECK(stat(path_of(p, sizeof(p), dir, "sub/e.txt"), &st) == 0);
    put_file(dir, "sub/e.txt", "ECHO\n");
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.changed, 1);
    CHECK_EQ_INT(r.hashed, 1);

    vgt_rm_tree(dir);
    unlink(db);
    snprintf(p, sizeof(p), "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", db);
    unlink(p);
}

VG_TEST(check_without_baseline_and_bad_options_fail_clearly)
{
    const char *rel[] = {"relative/path"};
    struct vg_fim_opts o = {.paths = rel, .npaths = 1};
    struct vg_fim_result r;
    char err[256] = "";
    CHECK_EQ_INT(vg_fim_baseline(&o, "/tmp/vg_fim_never.db", &r, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "absolute") != NULL);
    const char *abs[] = {"/tmp"};
    o.paths = abs;
    CHECK_EQ_INT(vg_fim_check(&o, "/tmp/vg_fim_no_such_dir/fim.db", &r, err, sizeof(err)),
                 VG_ENOENT);
    CHECK(strstr(err, "no baseline") != NULL);
}

VG_TEST(excludes_skip_names_and_whole_subtrees)
{
    char dir[64], db[128], pat[128], p[4096];
    make_tree(dir, sizeof(dir));
    snprintf(db, sizeof(db), "%s.db", dir);
    snprintf(pat, sizeof(pat), "%s/sub", dir);
    put_file(dir, "x.swp", "swap\n");
    const char *paths[] = {dir};
    const char *excl[] = {"*.swp", pat};
    struct vg_fim_opts o = {.paths = paths, .npaths = 1, .exclude = excl, .nexclude = 2};
    struct vg_fim_result r;
    char err[256];
    CHECK_EQ_INT(vg_fim_baseline(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.files, 6); /* root, a b c d, link: not x.swp, sub, sub/e.txt */
    put_file(dir, "y.swp", "swap\n");
    put_file(dir, "sub/f.txt", "new\n");
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.added + r.removed + r.changed, 0);
    put_file(dir, "z.txt", "zulu\n");
    CHECK_EQ_INT(vg_fim_check(&o, db, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.added, 1);
    vgt_rm_tree(dir);
    unlink(db);
    snprintf(p, sizeof(p), "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", db);
    unlink(p);
}

VG_TEST(change_json_has_ecs_fields_and_changes)
{
    struct vg_fim_rec old = {.path = "/etc/passwd", .mode = S_IFREG | 0644, .size = 10, .inode = 7},
                      cur = old;
    cur.mode = S_IFREG | 0666;
    struct vg_fim_change c = {
        .kind = VG_FIM_ATTRIBUTES, .old = &old, .cur = &cur, .changed = VG_FIM_CH_MODE};
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_fim_change_json(&c, "fanotify", 42, "/usr/bin/chmod", &s);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *doc = NULL;
    size_t used;
    char err[128];
    CHECK_EQ_INT(vg_json_parse(jp, a, s.p, s.len, &used, &doc, err, sizeof(err)), VG_OK);
    CHECK(doc && vg_json_str_is(vg_json_get(doc, "event.category"), "file"));
    CHECK(doc && vg_json_str_is(vg_json_get(doc, "event.type"), "change"));
    CHECK(doc && vg_json_str_is(vg_json_get(doc, "event.action"), "fim_attributes"));
    CHECK(doc && vg_json_str_is(vg_json_get(doc, "file.path"), "/etc/passwd"));
    CHECK(doc && vg_json_str_is(vg_json_get(doc, "file.mode"), "0666"));
    CHECK(doc && vg_json_str_is(vg_json_get(doc, "process.executable"), "/usr/bin/chmod"));
    const struct vg_json *chs = doc ? vg_json_get(doc, "file.changes") : NULL;
    CHECK(chs && chs->n == 1);
    if (chs && chs->n == 1) {
        CHECK(vg_json_str_is(vg_json_get(&chs->u.items[0], "attribute"), "mode"));
        CHECK(vg_json_str_is(vg_json_get(&chs->u.items[0], "old"), "0644"));
        CHECK(vg_json_str_is(vg_json_get(&chs->u.items[0], "new"), "0666"));
    }
    vg_json_parser_destroy(jp);
    vg_arena_destroy(a);
    vg_sbuf_fini(&s);
}

/* ---------------------------------------------------------------- collector harness */

struct evlog {
    pthread_mutex_t mu;
    char *ev[1024];
    size_t n;
};

static int emit_cb(void *ctx, const char *json, size_t len)
{
    struct evlog *l = ctx;
    pthread_mutex_lock(&l->mu);
    if (l->n < VG_ARRAY_LEN(l->ev)) {
        l->ev[l->n++] = vg_strndup(json, len);
    }
    pthread_mutex_unlock(&l->mu);
    return VG_OK;
}

static void evlog_fini(struct evlog *l)
{
    for (size_t i = 0; i < l->n; i++) {
        vg_free(l->ev[i]);
    }
    l->n = 0;
}

static size_t evlog_mark(struct evlog *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* Index of the first event from index `from` with this action and path, waiting up to
   timeout_ms; -1 if none came. */
static long wait_event(struct evlog *l, size_t from, const char *action, const char *path,
                       int timeout_ms)
{
    char a[64], p[4200];
    snprintf(a, sizeof(a), "\"event.action\":\"%s\"", action);
    snprintf(p, sizeof(p), "\"file.path\":\"%s\",", path);
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        pthread_mutex_lock(&l->mu);
        for (size_t i = from; i < l->n; i++) {
            if (strstr(l->ev[i], a) && strstr(l->ev[i], p)) {
                pthread_mutex_unlock(&l->mu);
                return (long)i;
            }
        }
        pthread_mutex_unlock(&l->mu);
        usleep(20000);
    }
    return -1;
}

static bool any_event_for(struct evlog *l, const char *path)
{
    char p[4200];
    snprintf(p, sizeof(p), "\"file.path\":\"%s\",", path);
    bool found = false;
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->n; i++) {
        found = found || strstr(l->ev[i], p) != NULL;
    }
    pthread_mutex_unlock(&l->mu);
    return found;
}

static int64_t stat_field(const struct vg_agent_collector *c, const char *key)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_agent_fim_collector.stats(c, &s);
    char k[64];
    snprintf(k, sizeof(k), "\"%s\":", key);
    const char *p = s.p ? strstr(s.p, k) : NULL;
    int64_t v = p ? strtoll(p + strlen(k), NULL, 10) : -1;
    vg_sbuf_fini(&s);
    return v;
}

static bool wait_scans(const struct vg_agent_collector *c, int64_t n)
{
    for (int i = 0; i < 500; i++) {
        if (stat_field(c, "scans") >= n) {
            return true;
        }
        usleep(20000);
    }
    return false;
}

/* Start the collector on dir (state in state), forcing backend; returns VG_* from start. */
static int start_on(const char *dir, const char *state, const char *backend, const char *extra,
                    struct evlog *l, struct vg_agent_collector **c, char *err, size_t errsz)
{
    char yaml[1024];
    snprintf(yaml, sizeof(yaml), "paths: [%s]\nscan_interval: 1h\n%s", dir, extra ? extra : "");
    struct vg_yaml_file *f = NULL;
    int rc = vg_yaml_parse(yaml, strlen(yaml), &f, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    struct vg_agent_collector_opts o = {.conf = f->docs[0],
                                        .state_dir = state,
                                        .force_backend = backend,
                                        .emit = emit_cb,
                                        .emit_ctx = l};
    rc = vg_agent_fim_collector.start(&o, c, err, errsz);
    vg_yaml_file_destroy(f);
    return rc;
}

/* ---------------------------------------------------------------- child that makes changes */

enum op { OP_WRITE, OP_CHMOD, OP_RENAME, OP_UNLINK, OP_MKDIR_WRITE };

struct child {
    pid_t pid;
    int go[2], done[2];
};

static void do_op(enum op op, const char *a, const char *b)
{
    int fd;
    char p[4200];
    switch (op) {
    case OP_WRITE:
        fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ssize_t w = write(fd, b, strlen(b));
            VG_UNUSED(w);
            close(fd);
        }
        break;
    case OP_CHMOD:
        chmod(a, 0600);
        break;
    case OP_RENAME:
        rename(a, b);
        break;
    case OP_UNLINK:
        unlink(a);
        break;
    case OP_MKDIR_WRITE:
        mkdir(a, 0755);
        snprintf(p, sizeof(p), "%s/%s", a, b);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ssize_t w = write(fd, "x\n", 2);
            VG_UNUSED(w);
            close(fd);
        }
        break;
    }
}

/* Run op in a child that stays alive until child_end (so /proc/<pid>/exe resolves). The
   parent keeps only the ends it uses, so a child that dies early gives EOF, not a hang. */
static void child_op(struct child *ch, enum op op, const char *a, const char *b)
{
    char x;
    ch->pid = -1;
    ch->go[0] = ch->go[1] = ch->done[0] = ch->done[1] = -1;
    if (pipe(ch->go) != 0 || pipe(ch->done) != 0) {
        CHECK(!"pipe");
        return;
    }
    ch->pid = fork();
    if (ch->pid == 0) {
        close(ch->go[1]);
        close(ch->done[0]);
        do_op(op, a, b);
        ssize_t w = write(ch->done[1], "d", 1);
        ssize_t r = read(ch->go[0], &x, 1); /* until the parent says go, or EOF */
        VG_UNUSED(w);
        VG_UNUSED(r);
        _exit(0);
    }
    close(ch->go[0]);
    close(ch->done[1]);
    ch->go[0] = ch->done[1] = -1;
    struct pollfd p = {.fd = ch->done[0], .events = POLLIN};
    CHECK(ch->pid > 0 && poll(&p, 1, 10000) == 1 && read(ch->done[0], &x, 1) == 1);
}

static void child_end(struct child *ch)
{
    if (ch->go[1] >= 0) {
        ssize_t w = write(ch->go[1], "g", 1);
        VG_UNUSED(w);
        close(ch->go[1]);
    }
    if (ch->pid > 0) {
        waitpid(ch->pid, NULL, 0);
    }
    if (ch->done[0] >= 0) {
        close(ch->done[0]);
    }
}

/* ---------------------------------------------------------------- collector tests */

static void check_pid(struct evlog *l, long idx, pid_t pid)
{
    char want[64], exe[4096], wexe[4200];
    if (idx < 0) {
        return;
    }
    snprintf(want, sizeof(want), "\"process.pid\":%d", (int)pid);
    CHECK(strstr(l->ev[idx], want) != NULL);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(wexe, sizeof(wexe), "\"process.executable\":\"%s\"", exe);
        CHECK(strstr(l->ev[idx], wexe) != NULL);
    }
}

/* One backend through creation, change, attributes, rename, deletion, a new subtree and an
   excluded name. */
static void backend_roundtrip(const char *backend)
{
    char dir[64], state[64], err[512], a[4096], b[4096], s[4096], extra[128];
    struct evlog l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector *c = NULL;
    bool fan = !strcmp(backend, "fanotify");
    make_tree(dir, sizeof(dir));
    snprintf(state, sizeof(state), "/tmp/vg_fimst_XXXXXX");
    CHECK(mkdtemp(state) != NULL);
    snprintf(extra, sizeof(extra), "exclude: ['*.tmp']\n");
    int rc = start_on(dir, state, backend, extra, &l, &c, err, sizeof(err));
    if (rc == VG_EUNSUPPORTED) {
        vgt_rm_tree(dir);
        vgt_rm_tree(state);
        fprintf(stderr, "  %s\n", err);
        VG_SKIP("backend not available here");
    }
    CHECK_EQ_INT(rc, VG_OK);
    if (rc != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_STR(vg_agent_fim_collector.backend(c), backend);
    CHECK(wait_scans(c, 1));
    CHECK_EQ_INT(l.n, 0); /* building the baseline reports nothing */
    int64_t hashed0 = stat_field(c, "hashed");
    CHECK_EQ_INT(hashed0, 5);

    struct child ch;
    size_t m = evlog_mark(&l);
    child_op(&ch, OP_WRITE, path_of(a, sizeof(a), dir, "new.txt"), "fresh\n");
    long i = wait_event(&l, m, "fim_created", a, 10000);
    CHECK(i >= 0);
    if (fan) {
        check_pid(&l, i, ch.pid);
    }
    child_end(&ch);
    usleep(300000); /* let the create's own close-write settle */

    m = evlog_mark(&l);
    hashed0 = stat_field(c, "hashed");
    child_op(&ch, OP_WRITE, path_of(a, sizeof(a), dir, "b.txt"), "bravo, longer now\n");
    i = wait_event(&l, m, "fim_modified", a, 10000);
    CHECK(i >= 0);
    CHECK(i >= 0 && strstr(l.ev[i], "{\"attribute\":\"size\",\"old\":\"6\",\"new\":\"18\"}"));
    CHECK(i >= 0 && strstr(l.ev[i], "\"attribute\":\"sha256\""));
    if (fan) {
        check_pid(&l, i, ch.pid);
    }
    child_end(&ch);
    CHECK_EQ_INT(stat_field(c, "hashed") - hashed0, 1); /* only b.txt was read again */

    m = evlog_mark(&l);
    child_op(&ch, OP_CHMOD, path_of(a, sizeof(a), dir, "c.txt"), NULL);
    i = wait_event(&l, m, "fim_attributes", a, 10000);
    CHECK(i >= 0 && strstr(l.ev[i], "{\"attribute\":\"mode\",\"old\":\"0644\",\"new\":\"0600\"}"));
    child_end(&ch);

    m = evlog_mark(&l);
    child_op(&ch, OP_RENAME, path_of(a, sizeof(a), dir, "d.bin"),
             path_of(b, sizeof(b), dir, "renamed.bin"));
    CHECK(wait_event(&l, m, "fim_deleted", a, 10000) >= 0);
    CHECK(wait_event(&l, m, "fim_created", b, 10000) >= 0);
    child_end(&ch);

    m = evlog_mark(&l);
    child_op(&ch, OP_UNLINK, path_of(a, sizeof(a), dir, "a.txt"), NULL);
    CHECK(wait_event(&l, m, "fim_deleted", a, 10000) >= 0);
    child_end(&ch);

    m = evlog_mark(&l);
    child_op(&ch, OP_MKDIR_WRITE, path_of(a, sizeof(a), dir, "newdir"), "inside.txt");
    CHECK(wait_event(&l, m, "fim_created", a, 10000) >= 0);
    CHECK(wait_event(&l, m, "fim_created", path_of(s, sizeof(s), a, "inside.txt"), 10000) >= 0);
    child_end(&ch);

    m = evlog_mark(&l);
    child_op(&ch, OP_WRITE, path_of(b, sizeof(b), dir, "ignored.tmp"), "x\n");
    child_end(&ch);
    child_op(&ch, OP_WRITE, path_of(a, sizeof(a), dir, "after.txt"), "x\n");
    CHECK(wait_event(&l, m, "fim_created", a, 10000) >= 0);
    child_end(&ch);
    CHECK(!any_event_for(&l, b)); /* excluded */
    CHECK(l.n > 0 && strstr(l.ev[l.n - 1], "\"event.provider\":\"") != NULL);

    vg_agent_fim_collector.stop(c);
    evlog_fini(&l);
    vgt_rm_tree(dir);
    vgt_rm_tree(state);
}

VG_TEST(fanotify_reports_changes_with_the_process)
{
    if (geteuid() != 0) {
        VG_SKIP("fanotify filesystem marks need root (CAP_SYS_ADMIN)");
    }
    backend_roundtrip("fanotify");
}

VG_TEST(inotify_reports_changes)
{
    backend_roundtrip("inotify");
}

VG_TEST(full_scan_finds_changes_made_while_stopped)
{
    char dir[64], state[64], err[512], a[4096];
    struct evlog l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector *c = NULL;
    make_tree(dir, sizeof(dir));
    snprintf(state, sizeof(state), "/tmp/vg_fimst_XXXXXX");
    CHECK(mkdtemp(state) != NULL);
    CHECK_EQ_INT(start_on(dir, state, "scan", NULL, &l, &c, err, sizeof(err)), VG_OK);
    CHECK(c && wait_scans(c, 1));
    vg_agent_fim_collector.stop(c);
    c = NULL;

    put_file(dir, "a.txt", "changed while the agent was away\n");
    CHECK(unlink(path_of(a, sizeof(a), dir, "b.txt")) == 0);
    put_file(dir, "sub/new.txt", "new\n");

    CHECK_EQ_INT(start_on(dir, state, NULL, NULL, &l, &c, err, sizeof(err)), VG_OK);
    CHECK(c && wait_scans(c, 1));
    long i = wait_event(&l, 0, "fim_modified", path_of(a, sizeof(a), dir, "a.txt"), 2000);
    CHECK(i >= 0 && strstr(l.ev[i], "\"event.provider\":\"scan\""));
    CHECK(wait_event(&l, 0, "fim_deleted", path_of(a, sizeof(a), dir, "b.txt"), 2000) >= 0);
    CHECK(wait_event(&l, 0, "fim_created", path_of(a, sizeof(a), dir, "sub/new.txt"), 2000) >= 0);
    CHECK_EQ_INT(l.n, 3);
    vg_agent_fim_collector.stop(c);
    evlog_fini(&l);
    vgt_rm_tree(dir);
    vgt_rm_tree(state);
}

VG_TEST(bad_configuration_is_refused_with_the_key)
{
    struct evlog l = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector *c = NULL;
    char err[512] = "";
    CHECK_EQ_INT(start_on("relative", "/tmp", NULL, NULL, &l, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "fim.paths") != NULL);
    CHECK_EQ_INT(start_on("/tmp", "/tmp", NULL, "colour: blue\n", &l, &c, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(strstr(err, "fim.colour") != NULL);
    CHECK_EQ_INT(start_on("/tmp", "/tmp", NULL, "max_file_size: big\n", &l, &c, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(strstr(err, "fim.max_file_size") != NULL);
    char state[64] = "/tmp/vg_fimst_XXXXXX";
    CHECK(mkdtemp(state) != NULL);
    CHECK_EQ_INT(start_on(state, state, "bogus", NULL, &l, &c, err, sizeof(err)), VG_EUNSUPPORTED);
    CHECK(strstr(err, "bogus") != NULL);
    vgt_rm_tree(state);
}
