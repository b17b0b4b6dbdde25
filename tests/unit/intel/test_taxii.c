/*
 * test_taxii.c — the TAXII 2.1 client (intel_taxii.c) against a real server on loopback:
 * tests/intel/taxii_server.py, started as a child process (its port read from its stdout; it
 * is killed on every path and also exits when our end of its stdin closes). Each test writes
 * the server's objects file and a store under a mkdtemp directory, then checks full pulls over
 * several pages (with "next" and, for servers without it, X-TAXII-Date-Added-Last), incremental
 * pulls (only the new objects, the cursor advances, the total grows), HTTP errors (401 with
 * the server's title, 403, 404), a page that is not JSON and the max_pages bound (both leave
 * the store's generation as it was), bad api roots, and the collections listing.
 * VG_TAXII_BENCH=N also pulls N indicators with pages of 1000 and prints objects/s.
 */
#include "core/core.h"
#include "intel/intel_db.h"
#include "intel/intel_taxii.h"
#include "vgtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct server {
    pid_t pid;
    int in_fd; /* the child's stdin: closing it makes the server exit */
    int port;
    char root[96];
};

static char tmpdir[256];
static int seq;

/* Start taxii_server.py FILE ARGS...; 0 with s filled, -1 (and nothing left running). */
static int server_start(struct server *s, const char *file, const char *const *extra)
{
    char script[512];
    const char *argv[24];
    int out[2], in[2], n = 0;
    snprintf(script, sizeof(script), "%s/tests/intel/taxii_server.py", vgt_source_dir());
    argv[n++] = "python3";
    argv[n++] = script;
    argv[n++] = file;
    argv[n++] = "--exit-on-stdin-eof";
    argv[n++] = "--max-seconds";
    argv[n++] = "600";
    for (int i = 0; extra && extra[i] && n < 22; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    memset(s, 0, sizeof(*s));
    s->pid = -1;
    if (pipe(out) != 0) {
        return -1;
    }
    if (pipe(in) != 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(in[0], 0);
        close(out[0]);
        close(out[1]);
        close(in[0]);
        close(in[1]);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    s->pid = pid;
    s->in_fd = in[1];
    fcntl(s->in_fd, F_SETFD, FD_CLOEXEC);
    char line[32];
    size_t got = 0;
    /* The port line, within 10 s. */
    while (pid > 0 && got < sizeof(line) - 1) {
        struct pollfd pf = {.fd = out[0], .events = POLLIN};
        if (poll(&pf, 1, 10000) <= 0) {
            break;
        }
        ssize_t r = read(out[0], line + got, 1);
        if (r <= 0 || line[got] == '\n') {
            break;
        }
        got++;
    }
    line[got] = '\0';
    close(out[0]);
    int64_t port = 0;
    s->port = vg_parse_i64(line, strcspn(line, "\r\n"), &port) == VG_OK && port > 0 && port < 65536
                  ? (int)port
                  : 0;
    if (pid < 0 || s->port <= 0) {
        fprintf(stderr, "  taxii_server.py did not start (port line \"%s\")\n", line);
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        close(s->in_fd);
        s->pid = -1;
        return -1;
    }
    snprintf(s->root, sizeof(s->root), "http://127.0.0.1:%d/api1/", s->port);
    return 0;
}

static void server_stop(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        close(s->in_fd);
        s->pid = -1;
    }
}

/* Write an objects file: indicators first..first+n-1 (198.51.<i/256>.<i%256>), date_added
 * 2025-01-01 + i seconds. */
static void write_objects(const char *path, int n_total)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return;
    }
    fputs("{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\","
          "\"objects\":[",
          f);
    for (int i = 0; i < n_total; i++) {
        fprintf(f,
                "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\","
                "\"id\":\"indicator--00000000-0000-4000-8000-%012d\","
                "\"created\":\"2025-01-01T00:00:00Z\",\"modified\":\"2025-01-01T00:00:00Z\","
                "\"name\":\"test %d\",\"pattern\":\"[ipv4-addr:value = '10.%d.%d.%d']\","
                "\"pattern_type\":\"stix\",\"valid_from\":\"2025-01-01T00:00:00Z\","
                "\"x_taxii_date_added\":\"2025-01-%02dT%02d:%02d:%02d.%03dZ\"}",
                i ? "," : "", i, i, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1 + i / 86400,
                (i / 3600) % 24, (i / 60) % 60, i % 60, 0);
    }
    fputs("]}\n", f);
    fclose(f);
}

struct fixture {
    char dir[300], objects[320];
    struct vg_intel_db *db;
    struct server srv;
};

static int fixture_open(struct fixture *fx, int n, const char *const *args)
{
    char err[256];
    memset(fx, 0, sizeof(*fx));
    fx->srv.pid = -1;
    snprintf(fx->dir, sizeof(fx->dir), "%s/store%d", tmpdir, seq);
    snprintf(fx->objects, sizeof(fx->objects), "%s/objects%d.json", tmpdir, seq++);
    write_objects(fx->objects, n);
    if (vg_intel_db_open(fx->dir, true, &fx->db, err, sizeof(err)) != 0) {
        fprintf(stderr, "  db_open: %s\n", err);
        return -1;
    }
    return server_start(&fx->srv, fx->objects, args);
}

static void fixture_close(struct fixture *fx)
{
    server_stop(&fx->srv);
    vg_intel_db_close(fx->db);
    fx->db = NULL;
}

static struct vg_intel_taxii_opts opts_for(const struct fixture *fx, uint32_t limit)
{
    struct vg_intel_taxii_opts o = {.api_root = fx->srv.root,
                                    .collection = "indicators",
                                    .source = "feed",
                                    .page_limit = limit,
                                    .timeout_s = 20};
    return o;
}

static int pull(struct fixture *fx, const struct vg_intel_taxii_opts *o,
                struct vg_intel_import_report *rep, uint32_t *pages, uint64_t *objects, char *err,
                size_t errsz)
{
    memset(rep, 0, sizeof(*rep));
    *pages = 0;
    *objects = 0;
    err[0] = '\0';
    int rc = vg_intel_taxii_pull(fx->db, o, rep, pages, objects, err, errsz);
    if (rc != 0) {
        fprintf(stderr, "    (pull: %s: %s)\n", vg_strerror(rc), err);
    }
    return rc;
}

static bool matches(struct vg_intel_db *db, const char *ip)
{
    struct vg_intel_snap *s = NULL;
    struct vg_intel_hit hit;
    char err[256];
    if (vg_intel_db_load(db, &s, err, sizeof(err)) != 0) {
        return false;
    }
    bool ok = vg_intel_snap_match_value(s, VG_INTEL_IPV4, ip, strlen(ip),
                                        (uint32_t)(vg_time_now() / 1000000000), 0, &hit) == 0;
    vg_intel_snap_unref(s);
    return ok;
}

static const char *meta(struct vg_intel_db *db, const char *key)
{
    static char buf[256];
    if (vg_intel_db_get_meta(db, "feed", key, buf, sizeof(buf)) != 0) {
        return "(none)";
    }
    return buf;
}

VG_TEST(full_then_incremental_pull)
{
    struct fixture fx;
    struct vg_intel_import_report rep;
    uint32_t pages;
    uint64_t objects;
    char err[512];
    if (fixture_open(&fx, 7, NULL) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    struct vg_intel_taxii_opts o = opts_for(&fx, 2);
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(pages, 4);
    CHECK_EQ_INT(objects, 7);
    CHECK_EQ_INT(rep.indicators, 7);
    CHECK_STR(meta(fx.db, "taxii.cursor"), "2025-01-01T00:00:06.000000Z");
    CHECK(strstr(meta(fx.db, "taxii.url"), "/api1/collections/indicators/") != NULL);
    CHECK(matches(fx.db, "10.0.0.6"));
    uint64_t gen = vg_intel_db_generation(fx.db);

    /* Three more objects with later date_added: only they come; the total grows. */
    write_objects(fx.objects, 10);
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(pages, 2);
    CHECK_EQ_INT(objects, 3);
    CHECK_EQ_INT(rep.indicators, 10);
    CHECK_STR(meta(fx.db, "taxii.cursor"), "2025-01-01T00:00:09.000000Z");
    CHECK(vg_intel_db_generation(fx.db) > gen);
    CHECK(matches(fx.db, "10.0.0.9"));
    CHECK(matches(fx.db, "10.0.0.0"));

    /* Nothing new: one empty page, the cursor and the total stay. */
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(pages, 1);
    CHECK_EQ_INT(objects, 0);
    CHECK_EQ_INT(rep.indicators, 10);
    CHECK_STR(meta(fx.db, "taxii.cursor"), "2025-01-01T00:00:09.000000Z");

    /* added_after "" forces a full pull that replaces the source. */
    o.added_after = "";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(objects, 10);
    CHECK_EQ_INT(rep.indicators, 10);
    fixture_close(&fx);
}

VG_TEST(pull_without_next_uses_date_added_last)
{
    static const char *const args[] = {"--no-next", NULL};
    struct fixture fx;
    struct vg_intel_import_report rep;
    uint32_t pages;
    uint64_t objects;
    char err[512];
    if (fixture_open(&fx, 5, args) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    struct vg_intel_taxii_opts o = opts_for(&fx, 2);
    o.source = NULL; /* "taxii-indicators" */
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(pages, 3);
    CHECK_EQ_INT(objects, 5);
    CHECK_EQ_INT(rep.indicators, 5);
    CHECK_STR(rep.source, "taxii-indicators");
    char cur[64] = "";
    CHECK_EQ_INT(vg_intel_db_get_meta(fx.db, "taxii-indicators", "taxii.cursor", cur, sizeof(cur)),
                 0);
    CHECK_STR(cur, "2025-01-01T00:00:04.000000Z");
    fixture_close(&fx);
}

VG_TEST(auth_basic_and_bearer)
{
    static const char *const args[] = {"--user", "alice", "--password", "s3cret-pw", NULL};
    static const char *const targs[] = {"--token", "tok-123", NULL};
    struct fixture fx;
    struct vg_intel_import_report rep;
    uint32_t pages;
    uint64_t objects;
    char err[512];
    if (fixture_open(&fx, 3, args) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    struct vg_intel_taxii_opts o = opts_for(&fx, 2);
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "HTTP 401: Unauthorized") != NULL);
    o.user = "alice";
    o.password = "wrong-pw";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "Unauthorized") != NULL);
    CHECK(strstr(err, "wrong-pw") == NULL);
    CHECK_EQ_INT(vg_intel_db_generation(fx.db), 0);
    CHECK_STR(meta(fx.db, "taxii.cursor"), "(none)");
    o.password = "s3cret-pw";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(rep.indicators, 3);
    server_stop(&fx.srv);

    /* Bearer token; userinfo in api_root is never shown. */
    CHECK_EQ_INT(server_start(&fx.srv, fx.objects, targs), 0);
    char root[160];
    snprintf(root, sizeof(root), "http://bob:pw-in-url@127.0.0.1:%d/api1", fx.srv.port);
    o = opts_for(&fx, 2);
    o.api_root = root;
    o.token = "bad";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "401") != NULL);
    CHECK(strstr(err, "pw-in-url") == NULL);
    o.token = "tok-123";
    o.added_after = "";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(objects, 3);
    CHECK(strstr(meta(fx.db, "taxii.url"), "pw-in-url") == NULL);
    o.token = "tok\r\nX-Evil: 1";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EINVAL);
    fixture_close(&fx);
}

VG_TEST(http_errors)
{
    struct fixture fx;
    struct vg_intel_import_report rep;
    uint32_t pages;
    uint64_t objects;
    char err[512];
    if (fixture_open(&fx, 3, NULL) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    struct vg_intel_taxii_opts o = opts_for(&fx, 2);
    o.collection = "nope";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "HTTP 404: Collection not found") != NULL);
    o.collection = "locked";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "HTTP 403: Forbidden") != NULL);
    o.collection = "a b/../c"; /* escaped into one path segment */
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "a%20b%2F..%2Fc") != NULL);
    o.collection = "indicators";
    o.api_root = "ftp://127.0.0.1/api1/";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EINVAL);
    o.api_root = "not a url";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EINVAL);
    o.api_root = NULL;
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(vg_intel_db_generation(fx.db), 0);
    char root[96];
    snprintf(root, sizeof(root), "%s", fx.srv.root);
    server_stop(&fx.srv); /* nothing listens there now */
    o.api_root = root;
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "127.0.0.1") != NULL);
    fixture_close(&fx);
}

VG_TEST(bad_page_and_max_pages_leave_the_store)
{
    static const char *const bad[] = {"--bad-page", "3", NULL};
    struct fixture fx;
    struct vg_intel_import_report rep;
    uint32_t pages;
    uint64_t objects;
    char err[512];
    if (fixture_open(&fx, 7, bad) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    /* Request 1 works (one page of 100): a first generation. */
    struct vg_intel_taxii_opts o = opts_for(&fx, 100);
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(rep.indicators, 7);
    uint64_t gen = vg_intel_db_generation(fx.db);
    char cur[256];
    vg_strlcpy(cur, meta(fx.db, "taxii.cursor"), sizeof(cur));
    /* Requests 2, 3: the second page is not JSON. */
    o.page_limit = 4;
    o.added_after = "";
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "not a TAXII envelope") != NULL);
    CHECK(strstr(err, "next=4") != NULL);
    CHECK_EQ_INT(vg_intel_db_generation(fx.db), gen);
    CHECK_STR(meta(fx.db, "taxii.cursor"), cur);
    CHECK(matches(fx.db, "10.0.0.6"));
    /* max_pages: 7 objects by 2 need 4 pages. */
    o.page_limit = 2;
    o.max_pages = 3;
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_ELIMIT);
    CHECK(strstr(err, "max_pages") != NULL);
    CHECK_EQ_INT(pages, 3);
    CHECK_EQ_INT(vg_intel_db_generation(fx.db), gen);
    o.max_pages = 4;
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    CHECK_EQ_INT(pages, 4);
    fixture_close(&fx);
}

VG_TEST(timeout)
{
    static const char *const args[] = {"--delay", "3", NULL};
    struct fixture fx;
    struct vg_intel_import_report rep;
    uint32_t pages;
    uint64_t objects;
    char err[512];
    if (fixture_open(&fx, 1, args) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    struct vg_intel_taxii_opts o = opts_for(&fx, 10);
    o.timeout_s = 1;
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), VG_EIO);
    CHECK(vg_clock_ns() - t0 < 2500000000ull);
    CHECK(strstr(err, "imeout") != NULL || strstr(err, "timed out") != NULL);
    CHECK_EQ_INT(vg_intel_db_generation(fx.db), 0);
    fixture_close(&fx);
}

VG_TEST(collections_listing)
{
    static const char *const args[] = {"--user", "alice", "--password", "pw", NULL};
    struct fixture fx;
    struct vg_sbuf out = VG_SBUF_INIT;
    char err[512];
    if (fixture_open(&fx, 1, args) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    struct vg_intel_taxii_opts o = opts_for(&fx, 0);
    CHECK_EQ_INT(vg_intel_taxii_collections(&o, &out, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, "401") != NULL);
    o.user = "alice";
    o.password = "pw";
    CHECK_EQ_INT(vg_intel_taxii_collections(&o, &out, err, sizeof(err)), 0);
    CHECK(out.p && strstr(out.p, "\"collections\"") != NULL);
    CHECK(out.p && strstr(out.p, "\"id\":\"indicators\"") != NULL);
    CHECK(out.p && strstr(out.p, "\"id\":\"locked\"") != NULL);
    vg_sbuf_fini(&out);
    fixture_close(&fx);
}

VG_TEST(bench_pull)
{
    const char *n_env = getenv("VG_TAXII_BENCH");
    struct fixture fx;
    struct vg_intel_import_report rep;
    uint32_t pages;
    uint64_t objects;
    char err[512];
    int64_t n64 = 0;
    if (!n_env || vg_parse_i64(n_env, strlen(n_env), &n64) != VG_OK || n64 <= 0 || n64 > 10000000) {
        VG_SKIP("set VG_TAXII_BENCH=N (1-10000000) to time a pull of N indicators");
    }
    int n = (int)n64;
    if (fixture_open(&fx, n, NULL) != 0) {
        fixture_close(&fx);
        VG_SKIP("python3 or the store is not available");
    }
    struct vg_intel_taxii_opts o = opts_for(&fx, 1000);
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0); /* ours only: the server is a child */
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(pull(&fx, &o, &rep, &pages, &objects, err, sizeof(err)), 0);
    double s = (double)(vg_clock_ns() - t0) / 1e9;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    CHECK_EQ_INT(objects, n);
    CHECK_EQ_INT(rep.indicators, n);
    fprintf(stderr,
            "  bench: %llu objects in %u pages, %.2f s (%.0f objects/s), client CPU %.2f s "
            "(%.0f objects/s), commit %.2f s\n",
            (unsigned long long)objects, pages, s, s > 0 ? (double)objects / s : 0.0, cpu,
            cpu > 0 ? (double)objects / cpu : 0.0, rep.seconds);
    fixture_close(&fx);
}

static int rm_tree(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
        _exit(127);
    }
    return pid > 0 && waitpid(pid, NULL, 0) == pid ? 0 : -1;
}

__attribute__((constructor(200))) static void taxii_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/vg-taxii-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
    }
    signal(SIGPIPE, SIG_IGN);
}

__attribute__((destructor)) static void taxii_teardown(void)
{
    if (tmpdir[0]) {
        rm_tree(tmpdir);
    }
}
