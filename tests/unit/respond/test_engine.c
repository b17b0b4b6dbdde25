/*
 * test_engine.c — the run engine end to end with the real action table, a real runs.db and
 * a loopback HTTP server: sequence and outputs, parallel groups, retries with backoff (an
 * HTTP endpoint that fails twice), timeouts retried, approvals (approve, deny, non-approver,
 * default at the deadline), the run deadline, idempotent triggers, cancel, and crash
 * recovery (destroy without stop, reopen, finish, nothing done twice).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "respond/respond.h"
#include "respond/respond_action.h"
#include "event/event.h"
#include "vgtest.h"

/* ---------------------------------------------------------------- fixtures */

static struct vg_respond_services svc;

static void tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/vg-respond-test-XXXXXX");
    CHECK(mkdtemp(buf) != NULL);
}

static void rmdir_all(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir); /* test-owned mkdtemp path */
    CHECK(system(cmd) == 0);
}

static struct vg_respond *open_engine(const char *dir)
{
    struct vg_respond_opts o = {.data_dir = dir, .workers = 4, .svc = &svc, .tick_ms = 10};
    struct vg_respond *e = NULL;
    char err[512] = "";
    int rc = vg_respond_create(&o, &e, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  create: %s\n", err);
    }
    CHECK_EQ_INT(rc, VG_OK);
    return e;
}

static void put(struct vg_respond *e, const char *yaml)
{
    char err[512] = "";
    int rc = vg_respond_playbook_put(e, "t.yml", yaml, strlen(yaml), err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  playbook: %s\n", err);
    }
    CHECK_EQ_INT(rc, VG_OK);
}

static int64_t run(struct vg_respond *e, const char *id, const char *ctx)
{
    int64_t rid = 0;
    char err[256] = "";
    CHECK_EQ_INT(vg_respond_run_manual(e, id, "default", ctx, "user:alice", &rid, err, sizeof(err)),
                 VG_OK);
    CHECK(rid > 0);
    return rid;
}

static const char *wait_status(struct vg_respond *e, int64_t rid, int64_t ms)
{
    static char st[32];
    st[0] = 0;
    vg_respond_run_wait(e, rid, ms, st, sizeof(st));
    return st;
}

static char *run_json(struct vg_respond *e, int64_t rid)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_respond_run_json(e, "default", rid, &b), VG_OK);
    return b.p ? b.p : vg_strdup("");
}

static int64_t count_sql(const char *dir, const char *sql)
{
    char path[512];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    snprintf(path, sizeof(path), "%s/runs.db", dir);
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* ---------------------------------------------------------------- a loopback HTTP server */

struct httpd {
    int fd, port;
    pthread_t th;
    int statuses[8]; /* answers in order; then 200 */
    int nreq;
    char keys[8][128];
    uint64_t at_ms[8];
    int delay_ms;
};

static void http_one(struct httpd *h, int c)
{
    char buf[8192];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof(buf) - 1 && (k = read(c, buf + n, sizeof(buf) - 1 - n)) > 0) {
        n += (size_t)k;
        buf[n] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        const char *cl = strcasestr(buf, "Content-Length:");
        if (end && (!cl || strlen(end + 4) >= strtoul(cl + 15, NULL, 10))) {
            break;
        }
    }
    int i = h->nreq < 8 ? h->nreq : 7;
    const char *key = strcasestr(buf, "Idempotency-Key: ");
    h->keys[i][0] = 0;
    if (key) {
        sscanf(key + 17, "%127[^\r]", h->keys[i]);
    }
    h->at_ms[i] = vg_clock_ns() / 1000000;
    int status = h->nreq < 8 && h->statuses[h->nreq] ? h->statuses[h->nreq] : 200;
    __atomic_add_fetch(&h->nreq, 1, __ATOMIC_SEQ_CST);
    if (h->delay_ms) {
        usleep((useconds_t)h->delay_ms * 1000);
    }
    char resp[256];
    int len = snprintf(resp, sizeof(resp),
                       "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                       "Connection: close\r\n\r\n{\"ok\":true}",
                       status);
    CHECK(write(c, resp, (size_t)len) == len);
    close(c);
}

static void *http_main(void *arg)
{
    struct httpd *h = arg;
    for (;;) {
        int c = accept(h->fd, NULL, NULL);
        if (c < 0) {
            return NULL;
        }
        http_one(h, c);
    }
}

static void http_start(struct httpd *h)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(bind(h->fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(listen(h->fd, 16) == 0);
    CHECK(getsockname(h->fd, (struct sockaddr *)&a, &al) == 0);
    h->port = ntohs(a.sin_port);
    pthread_create(&h->th, NULL, http_main, h);
}

static void http_stop(struct httpd *h)
{
    shutdown(h->fd, SHUT_RDWR);
    close(h->fd);
    pthread_join(h->th, NULL);
}

/* ---------------------------------------------------------------- tests */

VG_TEST(sequence_outputs_and_hostile_values)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: seq\ntriggers: [{on: manual}]\ninputs: {duration: 1h}\nsteps:\n"
           "  - {id: a, action: set, with: {ip: '{{ alert.source.ip }}', d: '{{ inputs.duration "
           "}}'}}\n"
           "  - {id: b, action: set, with: {cmd: 'block {{ steps.a.output.ip }}', n: '{{ "
           "alert.n }}'}}\n"
           "  - {id: c, action: noop, when: steps.b.output.n > 5}\n"
           "  - {id: d, action: log, with: {message: 'done {{ run.id }}'}}\n");
    int64_t rid = run(e, "seq", "{\"alert\":{\"source.ip\":\"1.2.3.4; rm -rf /\",\"n\":3}}");
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    char *j = run_json(e, rid);
    CHECK(strstr(j, "\"output\":{\"ip\":\"1.2.3.4; rm -rf /\",\"d\":\"1h\"}") != NULL);
    CHECK(strstr(j, "\"output\":{\"cmd\":\"block 1.2.3.4; rm -rf /\",\"n\":3}") != NULL);
    CHECK(strstr(j, "\"step\":\"c\",\"status\":\"skipped\"") != NULL);
    CHECK(strstr(j, "\"status\":\"succeeded\"") != NULL);
    vg_free(j);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

VG_TEST(missing_template_value_fails_the_step)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: miss\ntriggers: [{on: manual}]\nsteps:\n"
           "  - {id: a, action: log, with: {message: '{{ alert.user }}'}}\n"
           "  - {id: b, action: noop}\n");
    int64_t rid = run(e, "miss", "{\"alert\":{}}");
    CHECK_STR(wait_status(e, rid, 5000), "failed");
    char *j = run_json(e, rid);
    CHECK(strstr(j, "no value at 'alert.user'") != NULL);
    CHECK(strstr(j, "\"step\":\"b\"") == NULL);
    /* the run's view stays JSON: a partial rendering is not kept as the step's input */
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_arena *ja = vg_arena_create(0);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char jerr[128] = "";
    CHECK(jp && ja &&
          vg_json_parse(jp, ja, j, strlen(j), &used, &doc, jerr, sizeof(jerr)) == VG_OK);
    if (*jerr) {
        fprintf(stderr, "  %s\n  %s\n", jerr, j);
    }
    vg_json_parser_destroy(jp);
    vg_arena_destroy(ja);
    vg_free(j);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

VG_TEST(parallel_runs_together)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: par\ntriggers: [{on: manual}]\nsteps:\n"
           "  - parallel:\n"
           "    - {id: a, action: sleep, with: {ms: 300}}\n"
           "    - {id: b, action: sleep, with: {ms: 300}}\n"
           "    - {id: c, action: set, with: {x: 1}}\n"
           "  - {id: d, action: set, with: {sum: '{{ steps.a.output.slept_ms }}-{{ "
           "steps.c.output.x }}'}}\n");
    uint64_t t0 = vg_clock_ns();
    int64_t rid = run(e, "par", "{}");
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    uint64_t ms = (vg_clock_ns() - t0) / 1000000;
    CHECK(ms >= 300 && ms < 600); /* one after the other: >= 600 */
    char *j = run_json(e, rid);
    CHECK(strstr(j, "\"output\":{\"sum\":\"300-1\"}") != NULL);
    vg_free(j);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

VG_TEST(retries_with_backoff_against_http)
{
    char dir[64], yaml[1024];
    struct httpd h = {.statuses = {503, 500, 200}};
    http_start(&h);
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    snprintf(yaml, sizeof(yaml),
             "id: hook\ntriggers: [{on: manual}]\nsteps:\n"
             "  - id: notify\n    action: http.webhook\n"
             "    with: {url: 'http://127.0.0.1:%d/hook', body: {ip: '{{ alert.ip }}'}}\n"
             "    retry: {max: 3, backoff: {initial: 100ms, factor: 2, max_delay: 1s}}\n",
             h.port);
    put(e, yaml);
    int64_t rid = run(e, "hook", "{\"alert\":{\"ip\":\"10.0.0.1\"}}");
    CHECK_STR(wait_status(e, rid, 10000), "succeeded");
    CHECK_EQ_INT(h.nreq, 3);
    char key[64];
    snprintf(key, sizeof(key), "r-%lld/notify", (long long)rid);
    CHECK_STR(h.keys[0], key);
    CHECK_STR(h.keys[2], key);
    CHECK(h.at_ms[1] - h.at_ms[0] >= 95);  /* initial backoff */
    CHECK(h.at_ms[2] - h.at_ms[1] >= 195); /* x factor */
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM steps WHERE run=%lld AND step='notify'",
             (long long)rid);
    CHECK_EQ_INT(count_sql(dir, sql), 3);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    http_stop(&h);
    rmdir_all(dir);
}

VG_TEST(timeouts_are_retried_then_fail)
{
    char dir[64];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: slow\ntriggers: [{on: manual}]\nsteps:\n"
           "  - id: s\n    action: sleep\n    with: {ms: 2000}\n    timeout: 100ms\n"
           "    retry: {max: 1, backoff: {initial: 10ms}}\n");
    int64_t rid = run(e, "slow", "{}");
    CHECK_STR(wait_status(e, rid, 5000), "failed");
    char *j = run_json(e, rid);
    CHECK(strstr(j, "\"attempt\":2,\"step\":\"s\",\"status\":\"timed_out\"") != NULL);
    CHECK(strstr(j, "\"attempt\":1,\"step\":\"s\",\"status\":\"retry_wait\"") != NULL);
    vg_free(j);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

static const char approval_pb[] =
    "id: appr\ntriggers: [{on: manual}]\nsteps:\n"
    "  - {id: a, action: set, with: {ip: '{{ alert.ip }}'}}\n"
    "  - id: ok\n    approval: {approvers: [bob], timeout: %s, default: %s, message: 'Block {{ "
    "steps.a.output.ip }}?'}\n"
    "  - {id: c, action: set, with: {done: true}}\n";

static void wait_pending(struct vg_respond *e, int64_t rid)
{
    for (int i = 0; i < 200; i++) {
        struct vg_sbuf b = VG_SBUF_INIT;
        vg_respond_run_json(e, "default", rid, &b);
        bool pending = b.p && strstr(b.p, "\"status\":\"awaiting_approval\"");
        vg_sbuf_fini(&b);
        if (pending) {
            return;
        }
        usleep(10000);
    }
    CHECK(!"approval never became pending");
}

VG_TEST(approvals_approve_deny_and_default)
{
    char dir[64], yaml[1024], err[256];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    snprintf(yaml, sizeof(yaml), approval_pb, "1h", "deny");
    put(e, yaml);
    /* approve, after a refused non-approver */
    int64_t rid = run(e, "appr", "{\"alert\":{\"ip\":\"5.6.7.8\"}}");
    wait_pending(e, rid);
    struct vg_respond_principal eve = {"eve", 4}, bob = {"bob", 3};
    CHECK_EQ_INT(vg_respond_approve(e, "default", rid, "ok", &eve, true, "me", err, sizeof(err)),
                 VG_EDENIED);
    CHECK_EQ_INT(vg_respond_approve(e, "other", rid, "ok", &bob, true, "x", err, sizeof(err)),
                 VG_ENOENT);
    CHECK_EQ_INT(vg_respond_approve(e, "default", rid, "ok", &bob, true, "go", err, sizeof(err)),
                 VG_OK);
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    char *j = run_json(e, rid);
    CHECK(strstr(j, "\"message\":\"Block 5.6.7.8?\"") != NULL);
    CHECK(strstr(j, "\"status\":\"approved\"") != NULL);
    CHECK(strstr(j, "\"decided_by\":\"user:bob\"") != NULL);
    vg_free(j);
    /* deny */
    rid = run(e, "appr", "{\"alert\":{\"ip\":\"5.6.7.8\"}}");
    wait_pending(e, rid);
    CHECK_EQ_INT(vg_respond_approve(e, "default", rid, "ok", &bob, false, "no", err, sizeof(err)),
                 VG_OK);
    CHECK_STR(wait_status(e, rid, 5000), "denied");
    /* default at the deadline: approve */
    snprintf(yaml, sizeof(yaml), approval_pb, "200ms", "approve");
    put(e, yaml);
    rid = run(e, "appr", "{\"alert\":{\"ip\":\"1.1.1.1\"}}");
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    j = run_json(e, rid);
    CHECK(strstr(j, "\"decided_by\":\"system:approval-timeout\"") != NULL);
    vg_free(j);
    /* default deny at the deadline */
    snprintf(yaml, sizeof(yaml), approval_pb, "200ms", "deny");
    put(e, yaml);
    rid = run(e, "appr", "{\"alert\":{\"ip\":\"1.1.1.1\"}}");
    CHECK_STR(wait_status(e, rid, 5000), "denied");
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_respond_approvals_json(e, "default", "denied", &b), VG_OK);
    CHECK(b.p && strstr(b.p, "\"playbook\":\"appr\"") != NULL);
    vg_sbuf_fini(&b);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

VG_TEST(run_deadline_and_cancel)
{
    char dir[64], err[256];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: long\ntriggers: [{on: manual}]\ntimeout: 300ms\nsteps:\n"
           "  - {id: s, action: sleep, with: {ms: 3000}, timeout: 10s}\n");
    uint64_t t0 = vg_clock_ns();
    int64_t rid = run(e, "long", "{}");
    CHECK_STR(wait_status(e, rid, 5000), "timed_out");
    CHECK((vg_clock_ns() - t0) / 1000000 < 1500);
    put(e, "id: gate\ntriggers: [{on: manual}]\nsteps:\n"
           "  - {id: g, approval: {approvers: admin}}\n");
    rid = run(e, "gate", "{}");
    wait_pending(e, rid);
    CHECK_EQ_INT(vg_respond_cancel(e, "default", rid, "user:alice", err, sizeof(err)), VG_OK);
    CHECK_STR(wait_status(e, rid, 5000), "cancelled");
    CHECK_EQ_INT(vg_respond_cancel(e, "default", rid, "user:alice", err, sizeof(err)), VG_ENOENT);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

VG_TEST(triggers_are_idempotent)
{
    char dir[64], err[256];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: t1\ntriggers: [{on: alert, rule: 'ssh-*', level: '>=high'}]\nsteps:\n"
           "  - {id: a, action: noop}\n");
    put(e, "id: t2\ntriggers: [{on: alert, tag: attack.t1110}]\n"
           "condition: alert.source.ip != '127.0.0.1'\nsteps:\n  - {id: a, action: noop}\n");
    const char *alert = "{\"alert\":{\"id\":7,\"rule.id\":\"ssh-brute\",\"level\":\"high\","
                        "\"tags\":[\"attack.t1110\"],\"source.ip\":\"9.9.9.9\"}}";
    size_t created = 99;
    CHECK_EQ_INT(
        vg_respond_trigger(e, "alert", "default", alert, "alert:7", &created, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(created, 2);
    CHECK_EQ_INT(
        vg_respond_trigger(e, "alert", "default", alert, "alert:7", &created, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(created, 0);
    const char *local = "{\"alert\":{\"rule.id\":\"x\",\"tags\":[\"attack.t1110\"],"
                        "\"source.ip\":\"127.0.0.1\"}}";
    CHECK_EQ_INT(
        vg_respond_trigger(e, "alert", "default", local, "alert:8", &created, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(created, 0);
    CHECK_EQ_INT(vg_respond_trigger(e, "alert", "default", "{\"alert\":", "alert:9", &created, err,
                                    sizeof(err)),
                 VG_EINVAL);
    CHECK(strncmp(err, "context: not valid JSON", 23) == 0);
    CHECK_EQ_INT(vg_respond_wait_idle(e, 5000), VG_OK);
    CHECK_EQ_INT(count_sql(dir, "SELECT count(*) FROM runs WHERE status='succeeded'"), 2);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

VG_TEST(crash_recovery_resumes_without_repeating)
{
    char dir[64], yaml[1024], err[256];
    struct httpd h = {.statuses = {0}};
    http_start(&h);
    tmpdir(dir, sizeof(dir));
    snprintf(yaml, sizeof(yaml),
             "id: rec\ntriggers: [{on: manual}]\nsteps:\n"
             "  - id: hook\n    action: http.webhook\n"
             "    with: {url: 'http://127.0.0.1:%d/h', body: {n: 1}}\n"
             "  - {id: gate, approval: {approvers: analyst, timeout: 1h}}\n"
             "  - {id: after, action: set, with: {status: '{{ steps.hook.output.status }}'}}\n",
             h.port);
    struct vg_respond *e = open_engine(dir);
    put(e, yaml);
    int64_t rid = run(e, "rec", "{}");
    wait_pending(e, rid);
    CHECK_EQ_INT(h.nreq, 1);
    vg_respond_destroy(e); /* no stop: a crash */

    /* the playbook is gone from the new engine: the run keeps its own text */
    e = open_engine(dir);
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_respond_approvals_json(e, "default", "pending", &b), VG_OK);
    CHECK(b.p && strstr(b.p, "\"step\":\"gate\"") != NULL);
    vg_sbuf_fini(&b);
    struct vg_respond_principal al = {"al", 3};
    int rc = vg_respond_approve(e, "default", rid, "gate", &al, true, "", err, sizeof(err));
    CHECK_EQ_INT(rc, VG_OK);
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    CHECK_EQ_INT(h.nreq, 1); /* the webhook was not called again */
    char *j = run_json(e, rid);
    CHECK(strstr(j, "\"output\":{\"status\":200}") != NULL);
    vg_free(j);
    vg_respond_stop(e);
    vg_respond_destroy(e);

    /* a crash while a step is in flight: re-run with the same idempotency key */
    h.delay_ms = 400;
    e = open_engine(dir);
    put(e, yaml);
    rid = run(e, "rec", "{}");
    while (__atomic_load_n(&h.nreq, __ATOMIC_SEQ_CST) < 2) {
        usleep(5000);
    }
    vg_respond_destroy(e);
    e = open_engine(dir);
    wait_pending(e, rid);
    char key[64];
    snprintf(key, sizeof(key), "r-%lld/hook", (long long)rid);
    CHECK_STR(h.keys[1], key);
    if (h.nreq > 2) {
        CHECK_STR(h.keys[2], key); /* re-run: same key */
    }
    CHECK_EQ_INT(vg_respond_cancel(e, "default", rid, "user:x", err, sizeof(err)), VG_OK);
    CHECK_STR(wait_status(e, rid, 5000), "cancelled");
    vg_respond_stop(e);
    vg_respond_destroy(e);
    http_stop(&h);
    rmdir_all(dir);
}

VG_TEST(reload_keeps_running_versions)
{
    char dir[64], err[256];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: v\nversion: 1\ntriggers: [{on: manual}]\nsteps:\n"
           "  - {id: g, approval: {approvers: analyst}}\n  - {id: x, action: set, with: {v: 1}}\n");
    int64_t rid = run(e, "v", "{}");
    wait_pending(e, rid);
    put(e, "id: v\nversion: 2\ntriggers: [{on: manual}]\nsteps:\n"
           "  - {id: g, approval: {approvers: analyst}}\n  - {id: x, action: set, with: {v: 2}}\n");
    struct vg_respond_principal al = {"al", 3};
    CHECK_EQ_INT(vg_respond_approve(e, "default", rid, "g", &al, true, "", err, sizeof(err)),
                 VG_OK);
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    char *j = run_json(e, rid);
    CHECK(strstr(j, "\"output\":{\"v\":1}") != NULL);
    vg_free(j);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

/* ---------------------------------------------------------------- REST */

#include <curl/curl.h>

#include "api/api.h"

static size_t curl_sink(char *p, size_t sz, size_t n, void *ud)
{
    vg_sbuf_add(ud, p, sz * n);
    return sz * n;
}

static int http(int port, const char *method, const char *path, const char *token, const char *body,
                struct vg_sbuf *out)
{
    CURL *c = curl_easy_init();
    char url[512], auth[128];
    long status = 0;
    struct curl_slist *h = NULL;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    vg_sbuf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    vg_sbuf_addc(out, 0);
    out->len--;
    return (int)status;
}

VG_TEST(rest_api_routes_roles_and_approvers)
{
    char dir[64], err[256], tok_an[VG_API_TOKEN_SIZE], tok_bob[VG_API_TOKEN_SIZE],
        tok_rd[VG_API_TOKEN_SIZE], tok_adm[VG_API_TOKEN_SIZE], path[128];
    tmpdir(dir, sizeof(dir));
    struct vg_respond *e = open_engine(dir);
    put(e, "id: gate\nname: Gate\ntriggers: [{on: manual}]\nsteps:\n"
           "  - {id: ok, approval: {approvers: [bob], message: 'ip {{ alert.ip }}'}}\n"
           "  - {id: s, action: set, with: {ip: '{{ alert.ip }}'}}\n");
    struct vg_api_opts ao = {.listen = "127.0.0.1:0", .data_dir = dir};
    struct vg_api *api = NULL;
    CHECK_EQ_INT(vg_api_create(&ao, &api, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_respond_api_register(e, api), VG_OK);
    struct vg_api_auth *au = vg_api_get_auth(api);
    CHECK_EQ_INT(vg_api_token_create(au, "an", VG_API_ROLE_ANALYST, "default", VG_TIME_NONE, tok_an,
                                     sizeof(tok_an)),
                 VG_OK);
    CHECK_EQ_INT(vg_api_token_create(au, "bob", VG_API_ROLE_ANALYST, "default", VG_TIME_NONE,
                                     tok_bob, sizeof(tok_bob)),
                 VG_OK);
    CHECK_EQ_INT(vg_api_token_create(au, "rd", VG_API_ROLE_READ, "default", VG_TIME_NONE, tok_rd,
                                     sizeof(tok_rd)),
                 VG_OK);
    CHECK_EQ_INT(vg_api_token_create(au, "adm", VG_API_ROLE_ADMIN, "default", VG_TIME_NONE, tok_adm,
                                     sizeof(tok_adm)),
                 VG_OK);
    CHECK_EQ_INT(vg_api_start(api, err, sizeof(err)), VG_OK);
    int port = vg_api_port(api);
    struct vg_sbuf b = VG_SBUF_INIT;

    CHECK_EQ_INT(http(port, "GET", "/api/v1/playbooks", tok_rd, NULL, &b), 200);
    CHECK(strstr(b.p, "\"id\":\"gate\"") && strstr(b.p, "\"steps\":2"));
    CHECK_EQ_INT(http(port, "GET", "/api/v1/playbooks/gate", tok_rd, NULL, &b), 200);
    CHECK(strstr(b.p, "\"source\":\"id: gate") != NULL);
    CHECK_EQ_INT(http(port, "POST", "/api/v1/playbooks/gate/run", tok_rd, "{}", &b), 403);
    CHECK_EQ_INT(http(port, "POST", "/api/v1/playbooks/gate/run", tok_an, "{\"alert\":", &b), 400);
    CHECK_EQ_INT(http(port, "POST", "/api/v1/playbooks/nope/run", tok_an, "{}", &b), 404);
    CHECK_EQ_INT(http(port, "POST", "/api/v1/playbooks/gate/run", tok_an,
                      "{\"alert\":{\"ip\":\"9.9.9.9\"}}", &b),
                 201);
    long long rid = 0;
    CHECK(b.p && sscanf(b.p, "{\"run\":\"r-%lld\"", &rid) == 1);
    CHECK_EQ_INT(http(port, "POST", "/api/v1/playbooks/validate", tok_an, "id: x", &b), 403);
    CHECK_EQ_INT(http(port, "POST", "/api/v1/playbooks/validate", tok_adm,
                      "id: x\ntriggers: [{on: manual}]\nsteps: [{id: a, action: zap}]\n", &b),
                 200);
    CHECK(strstr(b.p, "\"valid\":false") &&
          strstr(b.p, "playbook.yml:3: steps[0].action: unknown action 'zap'"));

    wait_pending(e, rid);
    CHECK_EQ_INT(http(port, "GET", "/api/v1/approvals?status=pending", tok_rd, NULL, &b), 200);
    CHECK(strstr(b.p, "\"message\":\"ip 9.9.9.9\"") != NULL);
    snprintf(path, sizeof(path), "/api/v1/runs/r-%lld/approve", rid);
    CHECK_EQ_INT(http(port, "POST", path, tok_an, "{\"step\":\"ok\"}", &b), 403);
    CHECK_EQ_INT(http(port, "POST", path, tok_bob, "{\"stp\":\"ok\"}", &b), 400);
    CHECK_EQ_INT(http(port, "POST", path, tok_bob, "{\"step\":\"ok\",\"comment\":\"fine\"}", &b),
                 200);
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    snprintf(path, sizeof(path), "/api/v1/runs/r-%lld", rid);
    CHECK_EQ_INT(http(port, "GET", path, tok_rd, NULL, &b), 200);
    CHECK(strstr(b.p, "\"output\":{\"ip\":\"9.9.9.9\"}") && strstr(b.p, "\"comment\":\"fine\""));
    CHECK_EQ_INT(http(port, "GET", "/api/v1/runs?status=succeeded&playbook=gate", tok_rd, NULL, &b),
                 200);
    CHECK(strstr(b.p, "\"status\":\"succeeded\"") != NULL);
    snprintf(path, sizeof(path), "/api/v1/runs/r-%lld/cancel", rid);
    CHECK_EQ_INT(http(port, "POST", path, tok_an, "", &b), 404);
    CHECK_EQ_INT(http(port, "GET", "/api/v1/runs/r-999999", tok_rd, NULL, &b), 404);
    vg_sbuf_fini(&b);
    vg_api_destroy(api);
    vg_respond_stop(e);
    vg_respond_destroy(e);
    rmdir_all(dir);
}

/* ---------------------------------------------------------------- audit */

#include "audit/audit.h"

static int count_rec(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *r,
                     const char *hash)
{
    struct vg_sbuf *b = ctx;
    vg_sbuf_printf(b, "%s %s %s|", r->action, r->actor, r->object);
    return VG_OK;
}

VG_TEST(every_change_is_audited)
{
    char dir[64], path[128], err[256];
    tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/audit.db", dir);
    struct vg_audit *au = NULL;
    CHECK_EQ_INT(vg_audit_open(path, &au, err, sizeof(err)), VG_OK);
    svc.audit = au;
    struct vg_respond *e = open_engine(dir);
    put(e, "id: aud\ntriggers: [{on: manual}]\nsteps:\n"
           "  - {id: a, action: set, with: {x: 1}}\n"
           "  - {id: g, approval: {approvers: analyst}}\n");
    int64_t rid = run(e, "aud", "{}");
    wait_pending(e, rid);
    struct vg_respond_principal al = {"al", 3};
    CHECK_EQ_INT(vg_respond_approve(e, "default", rid, "g", &al, true, "ok", err, sizeof(err)),
                 VG_OK);
    CHECK_STR(wait_status(e, rid, 5000), "succeeded");
    vg_respond_stop(e);
    vg_respond_destroy(e);
    svc.audit = NULL;
    struct vg_sbuf b = VG_SBUF_INIT;
    struct vg_audit_query q = {.limit = 100, .on_rec = count_rec, .ctx = &b};
    CHECK_EQ_INT(vg_audit_query(au, &q, err, sizeof(err)), VG_OK);
    char want[256];
    snprintf(want, sizeof(want), "run.end playbook:aud#r-%lld run:%lld|", (long long)rid,
             (long long)rid);
    CHECK(b.p && strstr(b.p, want) != NULL);
    CHECK(b.p && strstr(b.p, "run.approve user:al") != NULL);
    snprintf(want, sizeof(want), "run.step playbook:aud#r-%lld", (long long)rid);
    CHECK(b.p && strstr(b.p, want) != NULL);
    CHECK(b.p && strstr(b.p, "run.create user:alice") != NULL);
    vg_sbuf_fini(&b);
    vg_audit_close(au);
    struct vg_audit_report rep;
    CHECK_EQ_INT(vg_audit_verify(path, &rep, err, sizeof(err)), VG_OK);
    rmdir_all(dir);
}
