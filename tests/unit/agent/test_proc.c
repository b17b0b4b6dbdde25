/*
 * test_proc.c — the agent's process collector against the real kernel: each backend
 * (ebpf, proc_connector, proc_poll) is started in turn, runs children with a unique marker
 * in argv, and must report their fork, exec (argv, executable, ppid, uid, SHA-256) and exit
 * (exit code). Backends the kernel does not offer are skipped with the collector's reason.
 * The audit backend runs with a rule narrowed to the test's own children (ppid = the test)
 * and must leave the machine's audit state as it found it. Only events of the test's own
 * children are counted: the machine is shared.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
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

/* An unknown forced backend and bad configuration are EINVAL (the refusal of a backend the
   kernel lacks is covered by the skips above: its reason is what they print). */
VG_TEST(proc_forced_missing_backend_is_refused)
{
    struct vg_agent_collector *c = NULL;
    char err[512];
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

/* ---------------------------------------------------------------- audit backend */

struct aud_rules {
    int n;                 /* rules carrying the key "vigie-agent" */
    uint8_t copy[4][2048]; /* their data, to delete them should the backend have left them */
    size_t len[4];
};

static void aud_status_fn(void *arg, const struct nlmsghdr *nh)
{
    size_t n = nh->nlmsg_len - NLMSG_HDRLEN;
    memcpy(arg, NLMSG_DATA(nh), VG_MIN(n, sizeof(struct audit_status)));
}

static void aud_rule_fn(void *arg, const struct nlmsghdr *nh)
{
    struct aud_rules *r = arg;
    const struct audit_rule_data *d = NLMSG_DATA(nh);
    size_t n = nh->nlmsg_len - NLMSG_HDRLEN;
    if (n < sizeof(*d) || n < sizeof(*d) + d->buflen ||
        !memmem(d->buf, d->buflen, "vigie-agent", 11)) {
        return;
    }
    if (r->n < 4 && n <= sizeof(r->copy[0])) {
        memcpy(r->copy[r->n], d, n);
        r->len[r->n] = n;
    }
    r->n++;
}

/* The reply of one message (fn gets each of type `type`): 0 or -errno. The kernel sends
   replies and rule lists from a thread of its own, after or before the acknowledgement:
   AUDIT_GET waits for both, a rule list for its NLMSG_DONE. */
static bool aud_msg(const struct nlmsghdr *nh, uint16_t type,
                    void (*fn)(void *, const struct nlmsghdr *), void *arg, int *rc, int *state)
{
    if (nh->nlmsg_seq != 1) {
        return false;
    }
    if (nh->nlmsg_type == NLMSG_ERROR) {
        *rc = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
        *state |= 1;
        return *rc != 0 || (type != AUDIT_LIST_RULES && type != AUDIT_GET) || (*state & 2);
    }
    if (nh->nlmsg_type == NLMSG_DONE) {
        *rc = (*state & 1) ? *rc : 0; /* the list may overtake the acknowledgement */
        return true;
    }
    if (nh->nlmsg_type == type && fn) {
        fn(arg, nh);
        *state |= 2;
        return type == AUDIT_GET && (*state & 1);
    }
    return false;
}

static int aud_query(uint16_t type, const void *data, size_t len,
                     void (*fn)(void *, const struct nlmsghdr *), void *arg)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (fd < 0) {
        return -errno;
    }
    struct {
        struct nlmsghdr nh;
        uint8_t d[2048];
    } m = {.nh = {.nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
                  .nlmsg_type = type,
                  .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
                  .nlmsg_seq = 1}};
    if (data) {
        memcpy(m.d, data, VG_MIN(len, sizeof(m.d)));
    }
    int rc = send(fd, &m, m.nh.nlmsg_len, 0) < 0 ? -errno : -ETIMEDOUT, state = 0;
    uint8_t *buf = vg_malloc(65536);
    bool done = rc != -ETIMEDOUT || !buf;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    while (!done && poll(&pf, 1, 1000) > 0) {
        ssize_t n = recv(fd, buf, 65536, 0);
        size_t left = n > 0 ? (size_t)n : 0;
        for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; !done && NLMSG_OK(nh, left);
             nh = NLMSG_NEXT(nh, left)) {
            done = aud_msg(nh, type, fn, arg, &rc, &state);
        }
    }
    vg_free(buf);
    close(fd);
    return done ? rc : -ETIMEDOUT;
}

static int aud_status(struct audit_status *st)
{
    memset(st, 0, sizeof(*st));
    return aud_query(AUDIT_GET, NULL, 0, aud_status_fn, st);
}

/* Rules with our key now (-1: cannot list); with cleanup, delete them (a failed check
   must not leave the machine audited). */
static int aud_rules_with_key(bool cleanup)
{
    struct aud_rules r = {0};
    if (aud_query(AUDIT_LIST_RULES, NULL, 0, aud_rule_fn, &r) != 0) {
        return -1;
    }
    for (int i = 0; cleanup && i < VG_MIN(r.n, 4); i++) {
        aud_query(AUDIT_DEL_RULE, r.copy[i], r.len[i], NULL, NULL);
    }
    return r.n;
}

/* After stop: audit enabled and daemon pid as before, no rule of ours. */
static void check_audit_restored(const struct audit_status *before)
{
    struct audit_status after;
    CHECK_EQ_INT(aud_status(&after), 0);
    CHECK_EQ_INT(after.enabled, before->enabled);
    CHECK_EQ_INT(after.pid, before->pid);
    int left = aud_rules_with_key(false);
    CHECK_EQ_INT(left, 0);
    if (left > 0) {
        aud_rules_with_key(true);
    }
    if (after.enabled != before->enabled) {
        struct audit_status st = {.mask = AUDIT_STATUS_ENABLED, .enabled = before->enabled};
        aud_query(AUDIT_SET, &st, sizeof(st), NULL, NULL);
    }
    fprintf(stderr, "  audit after stop: enabled=%u pid=%u rules(vigie-agent)=%d\n", after.enabled,
            after.pid, left);
}

/* The two execs of `sh -c 'exec /bin/true MARKER'`, both from the kernel's records. */
static void check_audit_execs(struct evset *es, const struct expect *x, const char *script,
                              const char *marker)
{
    const struct vg_json *sh = evset_find(es, "exec", 0), *t = evset_find(es, "exec", 1);
    CHECK(sh != NULL && t != NULL);
    if (!sh || !t) {
        return;
    }
    const char *shv[] = {"/bin/sh", "-c", script};
    CHECK(args_eq(sh, shv, 3));
    CHECK_STR(jstr(es, sh, "process.executable"), x->sh);
    CHECK_EQ_INT(jint(sh, "process.parent.pid"), getpid());
    CHECK_STR(jstr(es, sh, "vigie.agent.backend"), "audit");
    const char *tv[] = {"/bin/true", marker};
    CHECK(args_eq(t, tv, 2));
    CHECK_STR(jstr(es, t, "process.executable"), x->tru);
    CHECK_STR(jstr(es, t, "process.name"), "true");
    CHECK_EQ_INT(jint(t, "process.parent.pid"), getpid());
    CHECK_STR(jstr(es, t, "process.working_directory"), x->cwd);
    CHECK_STR(jstr(es, t, "process.hash.sha256"), x->true_sha);
    CHECK_STR(jstr(es, t, "event.type"), "start");
    char uid[32];
    snprintf(uid, sizeof(uid), "%d", (int)getuid());
    CHECK_STR(jstr(es, t, "user.id"), uid);
}

/* Was any event's text holding s collected? */
static bool sink_has(const char *s)
{
    bool found = false;
    pthread_mutex_lock(&g_sink.mu);
    for (size_t i = 0; i < g_sink.n && !found; i++) {
        found = strstr(g_sink.ev[i], s) != NULL;
    }
    pthread_mutex_unlock(&g_sink.mu);
    return found;
}

static void run_audit(struct vg_agent_collector *c)
{
    struct expect x;
    expect_init(&x);
    char m[64], script[128], gscript[128], gmark[64];
    snprintf(m, sizeof(m), "marker-U-%d", (int)getpid());
    snprintf(script, sizeof(script), "exec /bin/true %s", m);
    /* a grandchild (ppid = the shell, not the test) is outside the narrow rule */
    snprintf(gscript, sizeof(gscript), "g=grand; /bin/true \"${g}child-%d\"; exit 0",
             (int)getpid());
    snprintf(gmark, sizeof(gmark), "grandchild-%d", (int)getpid());
    char *const av[] = {"/bin/sh", "-c", script, NULL};
    char *const gv[] = {"/bin/sh", "-c", gscript, NULL};
    pid_t g = spawn(gv), a = spawn(av);
    CHECK(a > 0 && g > 0);
    int st;
    waitpid(g, &st, 0);
    waitpid(a, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    struct evset es = {.arena = vg_arena_create(1 << 16), .parser = vg_json_parser_create(NULL)};
    for (int t = 0; t < 5000; t += 50) {
        vg_arena_reset(es.arena);
        evset_load(&es, a);
        if (evset_find(&es, "exec", 1)) {
            break;
        }
        sleep_ms(50);
    }
    check_audit_execs(&es, &x, script, m);
    if (!evset_find(&es, "exec", 1)) {
        dump_pid(a);
    }
    CHECK(wait_action(&es, g, "exec", 2000)); /* the test's child g itself is audited */
    CHECK(!sink_has(gmark));
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_agent_proc_collector.stats(c, &s);
    fprintf(stderr, "  audit stats: %s\n", s.p ? s.p : "");
    vg_sbuf_fini(&s);
    vg_json_parser_destroy(es.parser);
    vg_arena_destroy(es.arena);
}

/*
 * The audit backend with a rule narrowed to the test's children (VIGIE_AUDIT_FILTER_PPID):
 * argv, executable, ppid and cwd of both execs of `sh -c 'exec /bin/true MARKER'` come from
 * the kernel's records; a grandchild is not reported; after stop the audit enabled flag and
 * daemon pid are as before and no "vigie-agent" rule remains.
 */
VG_TEST(proc_audit_exec_and_restore)
{
    struct audit_status before;
    int e = aud_status(&before);
    char why[160];
    if (e != 0) {
        snprintf(why, sizeof(why), "audit netlink unavailable: AUDIT_GET: %s", strerror(-e));
        VG_SKIP(why);
    }
    if (aud_rules_with_key(false) != 0) {
        VG_SKIP("audit rules with key vigie-agent exist already (an agent runs here) or the "
                "rule list is refused");
    }
    char pid[24], err[512];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("VIGIE_AUDIT_FILTER_PPID", pid, 1);
    struct vg_agent_collector *c = NULL;
    int rc = start_collector("audit", NULL, &c, err, sizeof(err));
    unsetenv("VIGIE_AUDIT_FILTER_PPID");
    if (rc == VG_EUNSUPPORTED) {
        check_audit_restored(&before);
        VG_SKIP(err);
    }
    CHECK_EQ_INT(rc, VG_OK);
    if (rc == VG_OK) {
        CHECK_STR(vg_agent_proc_collector.backend(c), "audit");
        fprintf(stderr, "  audit before: enabled=%u pid=%u\n", before.enabled, before.pid);
        run_audit(c);
        vg_agent_proc_collector.stop(c);
    } else {
        fprintf(stderr, "  audit: %s\n", err);
    }
    check_audit_restored(&before);
    sink_clear(&g_sink);
}

/* A bad narrowing filter is refused before anything is changed. */
VG_TEST(proc_audit_bad_filter_is_einval)
{
    struct vg_agent_collector *c = NULL;
    char err[512];
    setenv("VIGIE_AUDIT_FILTER_PPID", "12x", 1);
    int rc = start_collector("audit", NULL, &c, err, sizeof(err));
    unsetenv("VIGIE_AUDIT_FILTER_PPID");
    CHECK_EQ_INT(rc, VG_EINVAL);
    CHECK(c == NULL && strstr(err, "VIGIE_AUDIT_FILTER_PPID") != NULL);
}

/* ---------------------------------------------------------------- a stand-in audit daemon */

/* Child: register as the audit daemon on fd, say so on ready, drain records until ctl
   closes, then unregister. */
static void fake_auditd_body(int ctl, int ready)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    struct {
        struct nlmsghdr nh;
        struct audit_status st;
    } m = {.nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct audit_status)),
                  .nlmsg_type = AUDIT_SET,
                  .nlmsg_flags = NLM_F_REQUEST},
           .st = {.mask = AUDIT_STATUS_PID, .pid = (uint32_t)getpid()}};
    char ok = fd >= 0 && send(fd, &m, m.nh.nlmsg_len, 0) > 0 ? '1' : '0';
    sleep_ms(100);
    if (write(ready, &ok, 1) != 1) {
        _exit(1);
    }
    static uint8_t buf[65536];
    struct pollfd pf[2] = {{.fd = ctl, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    while (poll(pf, 2, 1000) >= 0 && !pf[0].revents) {
        if (pf[1].revents && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno != EAGAIN) {
            break;
        }
    }
    m.st.pid = 0;
    if (send(fd, &m, m.nh.nlmsg_len, 0) < 0) {
        _exit(2);
    }
    sleep_ms(100);
    _exit(0);
}

static pid_t fake_auditd(int *ctl_w)
{
    int ctl[2], ready[2];
    if (pipe(ctl) != 0 || pipe(ready) != 0) {
        return -1;
    }
    pid_t c = fork();
    if (c == 0) {
        close(ctl[1]);
        close(ready[0]);
        fake_auditd_body(ctl[0], ready[1]);
    }
    close(ctl[0]);
    close(ready[1]);
    char ok = '0';
    struct pollfd pf = {.fd = ready[0], .events = POLLIN};
    if (c < 0 || poll(&pf, 1, 3000) <= 0 || read(ready[0], &ok, 1) != 1 || ok != '1') {
        ok = '0';
    }
    close(ready[0]);
    *ctl_w = ctl[1];
    return ok == '1' ? c : -c;
}

/*
 * Another daemon owns audit (a child of the test registered as the audit pid): the backend
 * reads the read-only log group instead, still sees the execs, and at stop leaves the
 * daemon registered, the enabled flag as it was and no rule of ours.
 */
VG_TEST(proc_audit_readlog_beside_a_daemon)
{
    struct audit_status before, during;
    if (aud_status(&before) != 0 || before.pid != 0 || aud_rules_with_key(false) != 0) {
        VG_SKIP("audit unavailable, owned by a daemon, or already carrying vigie-agent rules");
    }
    int ctl = -1;
    pid_t d = fake_auditd(&ctl);
    if (d <= 0) {
        close(ctl);
        waitpid(d < 0 ? -d : d, NULL, 0);
        VG_SKIP("cannot register a stand-in audit daemon");
    }
    char pid[24], err[512];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("VIGIE_AUDIT_FILTER_PPID", pid, 1);
    struct vg_agent_collector *c = NULL;
    int rc = start_collector("audit", NULL, &c, err, sizeof(err));
    unsetenv("VIGIE_AUDIT_FILTER_PPID");
    if (rc != VG_OK) {
        fprintf(stderr, "  audit beside a daemon: %s\n", err);
    }
    CHECK_EQ_INT(rc, VG_OK);
    if (rc == VG_OK) {
        CHECK_EQ_INT(aud_status(&during), 0);
        CHECK_EQ_INT(during.pid, d); /* not replaced */
        run_audit(c);
        vg_agent_proc_collector.stop(c);
    }
    struct audit_status with_daemon = before;
    with_daemon.pid = (uint32_t)d;
    check_audit_restored(&with_daemon);
    close(ctl);
    waitpid(d, NULL, 0);
    check_audit_restored(&before);
    sink_clear(&g_sink);
}
