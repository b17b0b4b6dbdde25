/*
 * test_proc.c — the agent's process collector against the real kernel: each backend
 * (ebpf, proc_connector, proc_poll) is started in turn, runs children with a unique marker
 * in argv, and must report their fork, exec (argv, executable, ppid, uid, SHA-256) and exit
 * (exit code). Backends the kernel does not offer are skipped with the collector's reason;
 * "audit" must be refused with a reason. Only events of the test's own children are
 * counted: the machine is shared.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_proc.h"
#include "event/event.h"
#include "vgtest.h"

extern char **environ;

/* ---------------------------------------------------------------- event sink */

#define SINK_MAX 200000

struct sink {
    pthread_mutex_t mu;
    char **ev;
    size_t n, cap;
    size_t dropped;
};

static struct sink g_sink = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int sink_emit(void *ctx, const char *json, size_t len)
{
    struct sink *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (s->n < SINK_MAX && vg_grow(&s->ev, &s->cap, s->n + 1, sizeof(*s->ev)) == VG_OK) {
        s->ev[s->n++] = vg_strndup(json, len);
    } else {
        s->dropped++;
    }
    pthread_mutex_unlock(&s->mu);
    return VG_OK;
}

static void sink_clear(struct sink *s)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        vg_free(s->ev[i]);
    }
    vg_free(s->ev);
    s->ev = NULL;
    s->n = s->cap = 0;
    pthread_mutex_unlock(&s->mu);
}

/* ---------------------------------------------------------------- parsed events of one pid */

struct evset {
    struct vg_arena *arena;
    struct vg_json_parser *parser;
    const struct vg_json *ev[64];
    size_t n;
};

static long long jint(const struct vg_json *e, const char *k)
{
    const struct vg_json *v = vg_json_get(e, k);
    return v && v->type == VG_JSON_NUMBER ? v->u.i : -999;
}

static const char *jstr(struct evset *es, const struct vg_json *e, const char *k)
{
    const struct vg_json *v = vg_json_get(e, k);
    return v && v->type == VG_JSON_STRING ? vg_arena_strndup(es->arena, v->s, v->n) : NULL;
}

/* Parse every collected event whose process.pid is pid (in arrival order). */
static void evset_load(struct evset *es, pid_t pid)
{
    es->n = 0;
    char needle[48];
    snprintf(needle, sizeof(needle), "\"process.pid\":%d", (int)pid);
    pthread_mutex_lock(&g_sink.mu);
    for (size_t i = 0; i < g_sink.n && es->n < VG_ARRAY_LEN(es->ev); i++) {
        const char *t = g_sink.ev[i];
        if (!strstr(t, needle)) {
            continue;
        }
        struct vg_json *out = NULL;
        size_t used;
        char err[128];
        if (vg_json_parse(es->parser, es->arena, t, strlen(t), &used, &out, err, sizeof(err)) ==
                VG_OK &&
            jint(out, "process.pid") == pid) {
            es->ev[es->n++] = out;
        }
    }
    pthread_mutex_unlock(&g_sink.mu);
}

/* The k-th (0-based) event of the set with this action, or NULL. */
static const struct vg_json *evset_find(struct evset *es, const char *action, int k)
{
    for (size_t i = 0; i < es->n; i++) {
        if (vg_json_str_is(vg_json_get(es->ev[i], "event.action"), action) && k-- == 0) {
            return es->ev[i];
        }
    }
    return NULL;
}

/* Does process.args equal want (n strings)? */
static bool args_eq(const struct vg_json *e, const char *const *want, size_t n)
{
    const struct vg_json *a = vg_json_get(e, "process.args");
    if (!a || a->type != VG_JSON_ARRAY || a->n != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!vg_json_str_is(&a->u.items[i], want[i])) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- helpers */

static void sha256_hex(const char *path, char out[65])
{
    out[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f) {
        return;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char buf[65536], md[32];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        EVP_DigestUpdate(ctx, buf, n);
    }
    unsigned int l = 0;
    EVP_DigestFinal_ex(ctx, md, &l);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
}

static pid_t spawn(char *const argv[])
{
    pid_t pid = -1;
    return posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0 ? pid : -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (≤ timeout_ms) until an event with this action arrived for pid. */
static bool wait_action(struct evset *es, pid_t pid, const char *action, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 50) {
        vg_arena_reset(es->arena);
        evset_load(es, pid);
        if (evset_find(es, action, 0)) {
            return true;
        }
        sleep_ms(50);
    }
    return false;
}

static int start_collector(const char *backend, const char *yaml, struct vg_agent_collector **c,
                           char *err, size_t errsz)
{
    struct vg_yaml_file *yf = NULL;
    if (yaml && vg_yaml_parse(yaml, strlen(yaml), &yf, err, errsz) != VG_OK) {
        return VG_EINVAL;
    }
    struct vg_agent_collector_opts o = {
        .conf = yf && yf->ndocs ? yf->docs[0] : NULL,
        .state_dir = "/tmp",
        .force_backend = backend,
        .emit = sink_emit,
        .emit_ctx = &g_sink,
    };
    int rc = vg_agent_proc_collector.start(&o, c, err, errsz);
    vg_yaml_file_destroy(yf);
    return rc;
}

/* Print the raw events of pid (diagnostics of a failed check). */
static void dump_pid(pid_t pid)
{
    char needle[48];
    snprintf(needle, sizeof(needle), "\"process.pid\":%d", (int)pid);
    pthread_mutex_lock(&g_sink.mu);
    for (size_t i = 0; i < g_sink.n; i++) {
        if (strstr(g_sink.ev[i], needle)) {
            fprintf(stderr, "    %s\n", g_sink.ev[i]);
        }
    }
    pthread_mutex_unlock(&g_sink.mu);
}

/* ---------------------------------------------------------------- kernel backends */

struct expect {
    char sh[PATH_MAX], tru[PATH_MAX], sh_sha[65], true_sha[65], cwd[PATH_MAX];
};

static void expect_init(struct expect *x)
{
    CHECK(realpath("/bin/sh", x->sh) != NULL);
    CHECK(realpath("/bin/true", x->tru) != NULL);
    sha256_hex(x->sh, x->sh_sha);
    sha256_hex(x->tru, x->true_sha);
    CHECK(getcwd(x->cwd, sizeof(x->cwd)) != NULL);
}

/* The exec of the shell: argv with the marker, executable, user, parent, hash. */
static void check_sh_exec(struct evset *es, const struct expect *x, const char *script,
                          const char *marker)
{
    const struct vg_json *e = evset_find(es, "exec", 0);
    CHECK(e != NULL);
    if (!e) {
        return;
    }
    const char *argv[] = {"/bin/sh", "-c", script, marker};
    CHECK(args_eq(e, argv, 4));
    CHECK_STR(jstr(es, e, "event.type"), "start");
    CHECK_STR(jstr(es, e, "event.category"), "process");
    CHECK_STR(jstr(es, e, "process.executable"), x->sh);
    CHECK_EQ_INT(jint(e, "process.parent.pid"), getpid());
    char uid[32];
    snprintf(uid, sizeof(uid), "%d", (int)getuid());
    CHECK_STR(jstr(es, e, "user.id"), uid);
    CHECK_STR(jstr(es, e, "process.hash.sha256"), x->sh_sha);
    CHECK_STR(jstr(es, e, "process.working_directory"), x->cwd);
    CHECK(jstr(es, e, "process.command_line") &&
          strstr(jstr(es, e, "process.command_line"), marker));
    CHECK(jstr(es, e, "process.start") != NULL);
    CHECK(jstr(es, e, "@timestamp") != NULL);
}

/* Children A (sh, then exec /bin/true marker) and B (exit 7); their events must arrive. */
static void run_backend(const char *backend)
{
    struct vg_agent_collector *c = NULL;
    char err[512];
    int rc = start_collector(backend, NULL, &c, err, sizeof(err));
    if (rc == VG_EUNSUPPORTED) {
        VG_SKIP(err);
    }
    CHECK_EQ_INT(rc, VG_OK);
    if (rc != VG_OK) {
        fprintf(stderr, "  %s: %s\n", backend, err);
        return;
    }
    CHECK_STR(vg_agent_proc_collector.backend(c), backend);
    struct expect x;
    expect_init(&x);
    char ma[64], mb[64], sa[128], sb[128];
    snprintf(ma, sizeof(ma), "marker-A-%d-%s", (int)getpid(), backend);
    snprintf(mb, sizeof(mb), "marker-B-%d-%s", (int)getpid(), backend);
    snprintf(sa, sizeof(sa), "sleep 0.5; exec /bin/true %s", ma);
    snprintf(sb, sizeof(sb), "sleep 0.3; exit 7");
    char *const av[] = {"/bin/sh", "-c", sa, ma, NULL};
    char *const bv[] = {"/bin/sh", "-c", sb, mb, NULL};
    pid_t a = spawn(av), b = spawn(bv);
    CHECK(a > 0 && b > 0);
    int st;
    waitpid(a, &st, 0);
    waitpid(b, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);

    struct evset es = {.arena = vg_arena_create(1 << 16), .parser = vg_json_parser_create(NULL)};
    CHECK(wait_action(&es, a, "exit", 5000));
    CHECK(wait_action(&es, b, "exit", 5000));

    /* A: fork by the test, exec of sh, exec of /bin/true (same pid), exit 0 */
    evset_load(&es, a);
    const struct vg_json *f = evset_find(&es, "fork", 0);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ_INT(jint(f, "process.parent.pid"), getpid());
        CHECK_STR(jstr(&es, f, "event.type"), "info");
    }
    check_sh_exec(&es, &x, sa, ma);
    const struct vg_json *t = evset_find(&es, "exec", 1);
    CHECK(t != NULL);
    if (!t) {
        dump_pid(a);
    }
    if (t && strcmp(backend, "ebpf") == 0) {
        /* /bin/true is gone before /proc can be read: the kernel-side record must suffice */
        const char *argv[] = {"/bin/true", ma};
        CHECK(args_eq(t, argv, 2));
        CHECK_STR(jstr(&es, t, "process.executable"), x.tru);
        CHECK_STR(jstr(&es, t, "process.name"), "true");
        CHECK_STR(jstr(&es, t, "process.hash.sha256"), x.true_sha);
        CHECK_EQ_INT(jint(t, "process.parent.pid"), getpid());
    }
    const struct vg_json *ea = evset_find(&es, "exit", 0);
    if (ea) {
        CHECK_EQ_INT(jint(ea, "process.exit_code"), 0);
        CHECK_STR(jstr(&es, ea, "event.type"), "end");
    }

    /* B: exit code 7 */
    vg_arena_reset(es.arena);
    evset_load(&es, b);
    check_sh_exec(&es, &x, sb, mb);
    const struct vg_json *eb = evset_find(&es, "exit", 0);
    CHECK(eb != NULL);
    if (eb) {
        CHECK_EQ_INT(jint(eb, "process.exit_code"), 7);
        CHECK_STR(jstr(&es, eb, "process.name"), "dash");
    }

    struct vg_sbuf s = VG_SBUF_INIT;
    vg_agent_proc_collector.stats(c, &s);
    CHECK(s.p && strstr(s.p, "\"events\":") && strstr(s.p, backend));
    fprintf(stderr, "  %s stats: %s\n", backend, s.p ? s.p : "");
    vg_sbuf_fini(&s);
    vg_agent_proc_collector.stop(c);
    vg_json_parser_destroy(es.parser);
    vg_arena_destroy(es.arena);
    sink_clear(&g_sink);
}

VG_TEST(proc_ebpf_exec_fork_exit)
{
    run_backend("ebpf");
}

VG_TEST(proc_connector_exec_fork_exit)
{
    run_backend("proc_connector");
}

/* proc_poll sees a child that lives for more than two poll periods (no exit code). */
VG_TEST(proc_poll_sees_long_child)
{
    struct vg_agent_collector *c = NULL;
    char err[512];
    int rc = start_collector("proc_poll", "poll_interval_ms: 200\n", &c, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  proc_poll: %s\n", err);
    }
    if (rc == VG_EUNSUPPORTED) {
        VG_SKIP(err);
    }
    CHECK_EQ_INT(rc, VG_OK);
    if (rc != VG_OK) {
        return;
    }
    struct expect x;
    expect_init(&x);
    char m[64];
    snprintf(m, sizeof(m), "marker-P-%d", (int)getpid());
    char *const av[] = {"/bin/sh", "-c", "sleep 0.8; exit 3", m, NULL};
    pid_t a = spawn(av);
    CHECK(a > 0);
    int st;
    waitpid(a, &st, 0);
    struct evset es = {.arena = vg_arena_create(1 << 16), .parser = vg_json_parser_create(NULL)};
    CHECK(wait_action(&es, a, "exit", 3000));
    check_sh_exec(&es, &x, "sleep 0.8; exit 3", m);
    const struct vg_json *e = evset_find(&es, "exit", 0);
    if (e) {
        CHECK_STR(jstr(&es, e, "process.executable"), x.sh);
        CHECK_STR(jstr(&es, e, "vigie.agent.backend"), "proc_poll");
    }
    vg_agent_proc_collector.stop(c);
    vg_json_parser_destroy(es.parser);
    vg_arena_destroy(es.arena);
    sink_clear(&g_sink);
}

/* A forced backend that does not work is refused with its reason; an unknown one is EINVAL. */
VG_TEST(proc_forced_missing_backend_is_refused)
{
    struct vg_agent_collector *c = NULL;
    char err[512];
    CHECK_EQ_INT(start_collector("audit", NULL, &c, err, sizeof(err)), VG_EUNSUPPORTED);
    CHECK(c == NULL);
    CHECK(strncmp(err, "audit: ", 7) == 0 && strlen(err) > 12);
    CHECK_EQ_INT(start_collector("kprobe", NULL, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "kprobe") != NULL);
    CHECK_EQ_INT(start_collector("proc_poll", "poll_interval_ms: 0\n", &c, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(strstr(err, "poll_interval") != NULL);
    CHECK_EQ_INT(start_collector(NULL, "no_such_key: 1\n", &c, err, sizeof(err)), VG_EINVAL);
}

/* Without a forced backend the first that works is chosen, in the table's order. */
VG_TEST(proc_default_picks_first_working_backend)
{
    const char *const *names = vg_agent_proc_collector.backends;
    CHECK_STR(names[0], "ebpf");
    CHECK_STR(names[1], "proc_connector");
    CHECK_STR(names[2], "audit");
    CHECK_STR(names[3], "proc_poll");
    CHECK(names[4] == NULL);
    const char *first = NULL;
    char err[512];
    for (size_t i = 0; names[i] && !first; i++) {
        struct vg_agent_collector *c = NULL;
        if (start_collector(names[i], NULL, &c, err, sizeof(err)) == VG_OK) {
            first = names[i];
            vg_agent_proc_collector.stop(c);
        }
    }
    CHECK(first != NULL);
    struct vg_agent_collector *c = NULL;
    CHECK_EQ_INT(start_collector(NULL, NULL, &c, err, sizeof(err)), VG_OK);
    CHECK_STR(vg_agent_proc_collector.backend(c), first);
    vg_agent_proc_collector.stop(c);
    vg_agent_proc_collector.stop(NULL);
    sink_clear(&g_sink);
}

/* The pid sets behind proc_poll and the connector's resync: sorted, deduplicated, and a
   /proc scan holds this process. */
VG_TEST(proc_pidset_ops_and_scan)
{
    struct vg_agent_proc_pidset s = {0};
    int32_t in[] = {50, 3, 900, 3, 7};
    for (size_t i = 0; i < VG_ARRAY_LEN(in); i++) {
        CHECK_EQ_INT(vg_agent_proc_pidset_add(&s, in[i]), VG_OK);
    }
    CHECK_EQ_INT(s.n, 4);
    CHECK(s.v[0] == 3 && s.v[1] == 7 && s.v[2] == 50 && s.v[3] == 900);
    vg_agent_proc_pidset_del(&s, 7);
    vg_agent_proc_pidset_del(&s, 8);
    CHECK(!vg_agent_proc_pidset_has(&s, 7) && vg_agent_proc_pidset_has(&s, 900));
    CHECK_EQ_INT(s.n, 3);
    CHECK_EQ_INT(vg_agent_proc_pidset_scan(&s), VG_OK);
    CHECK(vg_agent_proc_pidset_has(&s, getpid()));
    for (size_t i = 1; i < s.n; i++) {
        CHECK(s.v[i - 1] < s.v[i]);
    }
    vg_agent_proc_pidset_fini(&s);
}

/* A process killed by a signal exits with 128 + signal (and says which signal). */
VG_TEST(proc_exit_by_signal)
{
    struct vg_agent_collector *c = NULL;
    char err[512];
    int rc = start_collector(NULL, NULL, &c, err, sizeof(err));
    CHECK_EQ_INT(rc, VG_OK);
    if (rc != VG_OK) {
        return;
    }
    if (strcmp(vg_agent_proc_collector.backend(c), "proc_poll") == 0) {
        vg_agent_proc_collector.stop(c);
        VG_SKIP("proc_poll cannot know exit codes");
    }
    char *const av[] = {"/bin/sh", "-c", "kill -9 $$", "marker-K", NULL};
    pid_t a = spawn(av);
    int st;
    waitpid(a, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == 9);
    struct evset es = {.arena = vg_arena_create(1 << 16), .parser = vg_json_parser_create(NULL)};
    CHECK(wait_action(&es, a, "exit", 5000));
    const struct vg_json *e = evset_find(&es, "exit", 0);
    if (e) {
        CHECK_EQ_INT(jint(e, "process.exit_code"), 137);
        CHECK_EQ_INT(jint(e, "vigie.process.exit_signal"), 9);
    }
    vg_agent_proc_collector.stop(c);
    vg_json_parser_destroy(es.parser);
    vg_arena_destroy(es.arena);
    sink_clear(&g_sink);
}
