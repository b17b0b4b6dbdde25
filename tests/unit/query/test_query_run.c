/*
 * test_query_run.c — queries against a real store: each operator and pipe on a small
 * hand-checked data set, the newest-first limit, tenants, then an oracle test — thousands of
 * varied events over several blocks and days, many queries, and every result compared with
 * a brute-force check of every event (so the index prefilter never loses a match) — and the
 * `vigie search` command line (formats, errors, exit statuses).
 */
#include "../store/store_testlib.h"
#include "query/query.h"
#include "vgtest.h"

#include <sys/wait.h>

#ifndef VG_BINARY_DIR
#define VG_BINARY_DIR "build"
#endif

static char g_dir[64];
static vg_time_t g_t0; /* a minute boundary, yesterday 10:00 UTC */

/* ---------------------------------------------------------------- the small data set */

struct row_def {
    int n;
    int dt; /* seconds after g_t0 */
    const char *host, *user, *status, *bytes, *ip, *tenant;
    const char *raw;
};

static const struct row_def rows[] = {
    {1, 1, "web01", "alice", "200", "100", "10.1.2.3", NULL,
     "10.1.2.3 GET /index.html 200 user=alice"},
    {2, 2, "web01", "bob", "404", "50", "10.1.2.4", NULL, "10.1.2.4 GET /missing 404 user=bob"},
    {3, 3, "web02", "alice", "500", "300", "192.168.1.9", NULL,
     "192.168.1.9 POST /api/login 500 Failed password for alice"},
    {4, 4, "web02", "carol", "200", "10", "10.9.9.9", NULL,
     "10.9.9.9 GET /rootkit.tar.gz 200 carol"},
    {5, 65, "web01", "alice", "503", "20", "10.1.2.3", NULL,
     "10.1.2.3 GET /api/v1 503 Failed password for root"},
    {6, 70, "web03", "dave", "200", "5", "10.1.2.5", "acme", "10.1.2.5 GET / 200 dave"},
};

static void small_store(void)
{
    char err[256];
    struct vg_store *s = NULL;
    vg_time_t now = vg_time_now();
    g_t0 = now - now % (86400LL * NS_PER_S) - 86400LL * NS_PER_S + 36000LL * NS_PER_S;
    tl_tmpdir(g_dir, sizeof(g_dir), "query");
    CHECK_EQ_INT(vg_store_open(g_dir, NULL, &s, err, sizeof(err)), VG_OK);
    struct vg_event *evs[VG_ARRAY_LEN(rows)];
    struct vg_store_item it[VG_ARRAY_LEN(rows)] = {{0}};
    for (size_t i = 0; i < VG_ARRAY_LEN(rows); i++) {
        const struct row_def *r = &rows[i];
        char n[8];
        snprintf(n, sizeof(n), "%d", r->n);
        const char *kv[] = {"n",         n,        "host.name", r->host, "user.name",
                            r->user,     "status", r->status,   "bytes", r->bytes,
                            "source.ip", r->ip,    NULL};
        evs[i] = tl_event(g_t0 + (vg_time_t)r->dt * NS_PER_S, r->raw, kv);
        it[i].tenant = r->tenant;
    }
    CHECK_EQ_INT(tl_append(s, evs, it, VG_ARRAY_LEN(rows), NULL, NULL), VG_OK);
    tl_events_free(evs, VG_ARRAY_LEN(rows));
    vg_store_close(s);
}

/* Rows of a query as text: events "n,n,..." (newest first); aggregates "a|b;c|d;". */
static int row_text(void *ctx, const struct vg_query_row *r)
{
    struct vg_sbuf *out = ctx;
    if (r->kind == VG_QUERY_ROW_EVENT) {
        size_t l;
        const char *n = vg_event_get_str(r->ev, "n", &l);
        vg_sbuf_printf(out, "%s%.*s", out->len ? "," : "", n ? (int)l : 1, n ? n : "?");
        return VG_OK;
    }
    for (size_t c = 0; c < r->ncols; c++) {
        vg_sbuf_printf(out, "%s%s", c ? "|" : "", r->vals[c]);
    }
    vg_sbuf_addc(out, ';');
    return VG_OK;
}

static char result[8192];

static const char *run_opts(const char *text, const char *tenant, size_t limit)
{
    char err[256];
    struct vg_store *s = NULL;
    struct vg_query *q = NULL;
    struct vg_sbuf out = VG_SBUF_INIT;
    struct vg_store_opts ro = {.readonly = true};
    snprintf(result, sizeof(result), "?");
    if (vg_query_parse(text, strlen(text), VG_TIME_NONE, &q, err, sizeof(err)) != VG_OK) {
        snprintf(result, sizeof(result), "PARSE %s", err);
        return result;
    }
    struct vg_query_opts o = {.tenant = tenant,
                              .from = VG_TIME_NONE,
                              .to = VG_TIME_NONE,
                              .limit = limit,
                              .on_row = row_text,
                              .ctx = &out};
    if (vg_store_open(g_dir, &ro, &s, err, sizeof(err)) != VG_OK ||
        vg_query_run(q, s, &o, NULL, err, sizeof(err)) != VG_OK) {
        snprintf(result, sizeof(result), "RUN %s", err);
    } else {
        snprintf(result, sizeof(result), "%s", out.p ? out.p : "");
    }
    vg_sbuf_fini(&out);
    vg_store_close(s);
    vg_query_destroy(q);
    return result;
}

static const char *run(const char *text)
{
    return run_opts(text, NULL, 0);
}

VG_TEST(query_run_filters)
{
    small_store();
    CHECK_STR(run(""), "6,5,4,3,2,1");
    CHECK_STR(run("user.name:alice"), "5,3,1");
    CHECK_STR(run("user.name:ALICE"), "5,3,1");
    CHECK_STR(run("user.name:al*"), "5,3,1");
    CHECK_STR(run("user.name:*o*"), "4,2");
    CHECK_STR(run("host.name:web0?"), "6,5,4,3,2,1");
    CHECK_STR(run("user.name:alice AND NOT status:200"), "5,3");
    CHECK_STR(run("user.name:alice -status:200"), "5,3");
    CHECK_STR(run("user.name:bob OR user.name:carol"), "4,2");
    CHECK_STR(run("user.name:(bob OR carol) bytes:<20"), "4");
    CHECK_STR(run("status:>=500"), "5,3");
    CHECK_STR(run("status:[404 TO 500}"), "2");
    CHECK_STR(run("bytes:{10 TO 100]"), "5,2,1");
    CHECK_STR(run("source.ip:10.1.0.0/16"), "6,5,2,1");
    CHECK_STR(run("source.ip:10.1.2.3"), "5,1");
    CHECK_STR(run("nosuchfield:*"), "");
    CHECK_STR(run("status:*"), "6,5,4,3,2,1");
    /* free text: words at word boundaries, phrases, wildcards */
    CHECK_STR(run("root"), "5"); /* not "rootkit" */
    CHECK_STR(run("rootkit"), "4");
    CHECK_STR(run("root*"), "5,4");
    CHECK_STR(run("\"failed password\""), "5,3");
    CHECK_STR(run("\"Failed password\" AND root"), "5");
    CHECK_STR(run("\"password for\" alice"), "3");
    CHECK_STR(run("10.1.2.3"), "5,1");
    CHECK_STR(run("10.1.2"), ""); /* part of a dotted number is no match */
    CHECK_STR(run("10.1.2.*"), "6,5,2,1");
    CHECK_STR(run("index.html"), "1");
    CHECK_STR(run("*.html"), "1");
    CHECK_STR(run("/api/*"), "5,3");
    CHECK_STR(run("\"user=alice\""), "1"); /* unquoted, user=alice is the field form */
    CHECK_STR(run("tar.gz"), "4");
    CHECK_STR(run("gz"), "4");
    /* tenants */
    CHECK_STR(run("tenant:acme"), "6");
    CHECK_STR(run_opts("", "acme", 0), "6");
    CHECK_STR(run_opts("", "default", 0), "5,4,3,2,1");
    /* the limit keeps the newest */
    CHECK_STR(run_opts("", NULL, 2), "6,5");
}

VG_TEST(query_run_time)
{
    char q[128], t[40];
    vg_time_format(g_t0 + 60 * NS_PER_S, t, sizeof(t));
    snprintf(q, sizeof(q), "@timestamp:>=%s", t);
    CHECK_STR(run(q), "6,5");
    snprintf(q, sizeof(q), "@timestamp:<%s user.name:alice", t);
    CHECK_STR(run(q), "3,1");
    CHECK_STR(run("@timestamp:>=now-1m"), "");
    CHECK_STR(run("@timestamp:[now-3d TO now]"), "6,5,4,3,2,1");
    /* --from/--to */
    char err[256];
    struct vg_store *s;
    struct vg_query *qq;
    struct vg_sbuf out = VG_SBUF_INIT;
    struct vg_store_opts ro = {.readonly = true};
    CHECK_EQ_INT(vg_query_parse("", 0, VG_TIME_NONE, &qq, err, sizeof(err)), VG_OK);
    struct vg_query_opts o = {
        .from = g_t0 + 3 * NS_PER_S, .to = g_t0 + 66 * NS_PER_S, .on_row = row_text, .ctx = &out};
    CHECK_EQ_INT(vg_store_open(g_dir, &ro, &s, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_query_run(qq, s, &o, NULL, err, sizeof(err)), VG_OK);
    CHECK_STR(out.p, "5,4,3");
    vg_sbuf_fini(&out);
    vg_store_close(s);
    vg_query_destroy(qq);
}

VG_TEST(query_run_pipes)
{
    char t0[40], t1[40], want[256];
    CHECK_STR(run("| stats count by host.name | sort host.name"), "web01|3;web02|2;web03|1;");
    CHECK_STR(run("tenant:default | stats count, dc(user.name), sum(bytes), avg(bytes), "
                  "min(bytes), max(bytes)"),
              "5|3|480|96|10|300;");
    CHECK_STR(run("| stats count as n by user.name, host.name | sort -n, user.name | head 2"),
              "alice|web01|2;alice|web02|1;");
    CHECK_STR(run("nosuch:x | stats count"), "0;");
    CHECK_STR(run("| top user.name 1"), "alice|3|50.00;");
    CHECK_STR(run("status:>=500 | stats count"), "2;");
    CHECK_STR(run("| sort -bytes | head 2"), "3,1");
    CHECK_STR(run("| sort bytes | head 1"), "6");
    CHECK_STR(run("| sort host.name, -bytes | head 3"), "1,2,5");
    CHECK_STR(run("| head 2"), "6,5");
    CHECK_STR(run("| head 3 | stats count by host.name | sort host.name"),
              "web01|1;web02|1;web03|1;");
    CHECK_STR(run("| head 4 | stats count by host.name | sort -count | head 1"), "web02|2;");
    vg_time_format(g_t0, t0, sizeof(t0));
    vg_time_format(g_t0 + 60 * NS_PER_S, t1, sizeof(t1));
    snprintf(want, sizeof(want), "%s|4;%s|2;", t0, t1);
    CHECK_STR(run("| timechart span=1m"), want);
    snprintf(want, sizeof(want), "%s|2|2|0;%s|1|0|1;", t0, t1);
    CHECK_STR(run("| timechart span=1m count by host.name | sort _time"), want);
    /* aggregate rows obey the limit too */
    CHECK_STR(run_opts("| stats count by user.name | sort user.name", NULL, 2), "alice|3;bob|1;");
}

/* ---------------------------------------------------------------- the oracle */

#define ORACLE_N 6000

static const char *const o_hosts[] = {"web01", "web02", "db01", "mail", "bastion"};
static const char *const o_users[] = {"alice", "bob", "carol", "root", "admin", "svc.backup"};
static const char *const o_words[] = {"failed", "accepted", "password", "session",
                                      "opened", "closed",   "invalid",  "GET",
                                      "POST",   "error",    "timeout"};

static uint64_t o_rng = 88172645463325252ull;
static uint32_t o_pick(uint32_t n)
{
    o_rng ^= o_rng << 13;
    o_rng ^= o_rng >> 7;
    o_rng ^= o_rng << 17;
    return (uint32_t)(o_rng % n);
}

static struct vg_event **o_events;

static void oracle_build(const char *dir)
{
    char err[256];
    struct vg_store *s = NULL;
    struct vg_store_opts so = {.block_events = 500};
    CHECK_EQ_INT(vg_store_open(dir, &so, &s, err, sizeof(err)), VG_OK);
    o_events = vg_calloc(ORACLE_N, sizeof(*o_events));
    vg_time_t t0 = vg_time_now() - 3 * 86400LL * NS_PER_S;
    for (int i = 0; i < ORACLE_N; i++) {
        char raw[256], n[16], ip[32], port[16];
        const char *h = o_hosts[o_pick(5)], *u = o_users[o_pick(6)];
        snprintf(n, sizeof(n), "%d", i);
        snprintf(ip, sizeof(ip), "10.%u.%u.%u", o_pick(3), o_pick(4), o_pick(20));
        snprintf(port, sizeof(port), "%u", 1000 + o_pick(5000));
        snprintf(raw, sizeof(raw), "%s app[%u]: %s %s %s for %s from %s port %s id=%s", h,
                 o_pick(100), o_words[o_pick(11)], o_words[o_pick(11)], o_words[o_pick(11)], u, ip,
                 port, n);
        const char *kv[] = {"host.name",   h,    "user.name", u, "source.ip", ip,
                            "source.port", port, "n",         n, NULL};
        o_events[i] = tl_event(t0 + (vg_time_t)i * 40 * NS_PER_S + o_pick(1000), raw,
                               o_pick(10) ? kv : kv + 4 /* some events lack host and user */);
    }
    /* batches of varied sizes: full blocks, small unindexed ones, days in between */
    for (int i = 0; i < ORACLE_N;) {
        int want = 1 + (int)o_pick(700); /* VG_MIN evaluates twice: pick first */
        int n = VG_MIN(ORACLE_N - i, want);
        CHECK_EQ_INT(tl_append(s, o_events + i, NULL, (size_t)n, NULL, NULL), VG_OK);
        i += n;
    }
    vg_store_close(s);
}

/* Sorted list of n values of the events matching q, by brute force. */
static void oracle_expect(const struct vg_query *q, struct vg_sbuf *out)
{
    for (int i = 0; i < ORACLE_N; i++) {
        if (vg_query_match(q, o_events[i], "default")) {
            vg_sbuf_printf(out, "%d,", i);
        }
    }
}

static int int_cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static int oracle_row(void *ctx, const struct vg_query_row *r)
{
    struct vg_sbuf *out = ctx;
    size_t l;
    const char *n = vg_event_get_str(r->ev, "n", &l);
    vg_sbuf_printf(out, "%.*s ", n ? (int)l : 1, n ? n : "?");
    return VG_OK;
}

/* The run's n values, sorted like oracle_expect. */
static void oracle_sorted(const char *in, struct vg_sbuf *out)
{
    int *v = vg_calloc(ORACLE_N + 1, sizeof(*v));
    size_t k = 0;
    for (const char *p = in; p && *p && k < ORACLE_N;) {
        int64_t x = 0;
        const char *sp = strchr(p, ' ');
        vg_parse_i64(p, (size_t)(sp - p), &x);
        v[k++] = (int)x;
        p = sp + 1;
    }
    qsort(v, k, sizeof(*v), int_cmp);
    for (size_t i = 0; i < k; i++) {
        vg_sbuf_printf(out, "%d,", v[i]);
    }
    vg_free(v);
}

static const char *const oracle_queries[] = {
    "",
    "user.name:alice",
    "user.name:svc.backup",
    "user.name:svc*",
    "host.name:web01 AND user.name:root",
    "host.name:web01 OR user.name:bob",
    "NOT host.name:web01",
    "source.ip:10.1.2.3",
    "source.ip:10.1.*",
    "source.ip:10.2.0.0/16",
    "source.port:[1000 TO 1100]",
    "failed password",
    "\"failed password\"",
    "\"password for root\"",
    "accepted OR timeout",
    "fail* AND bob",
    "*ssion",
    "10.0.3.7",
    "id=4242",
    "4242",
    "web01 alice",
    "svc.backup",
    "backup",
    "svc",
    "(GET OR POST) AND NOT error",
    "host.name:web0? user.name:(alice OR carol) opened",
    "-user.name:* session",
};

VG_TEST(query_run_matches_brute_force)
{
    char dir[64], err[256];
    tl_tmpdir(dir, sizeof(dir), "oracle");
    oracle_build(dir);
    struct vg_store *s = NULL;
    struct vg_store_opts ro = {.readonly = true};
    CHECK_EQ_INT(vg_store_open(dir, &ro, &s, err, sizeof(err)), VG_OK);
    for (size_t k = 0; k < VG_ARRAY_LEN(oracle_queries); k++) {
        struct vg_query *q = NULL;
        struct vg_sbuf want = VG_SBUF_INIT, got = VG_SBUF_INIT, sorted = VG_SBUF_INIT;
        const char *text = oracle_queries[k];
        CHECK_EQ_INT(vg_query_parse(text, strlen(text), VG_TIME_NONE, &q, err, sizeof(err)), VG_OK);
        struct vg_query_opts o = {.from = VG_TIME_NONE,
                                  .to = VG_TIME_NONE,
                                  .limit = SIZE_MAX,
                                  .on_row = oracle_row,
                                  .ctx = &got};
        struct vg_query_stats st;
        CHECK_EQ_INT(vg_query_run(q, s, &o, &st, err, sizeof(err)), VG_OK);
        oracle_expect(q, &want);
        oracle_sorted(got.p, &sorted);
        if (!want.p != !sorted.p || (want.p && strcmp(want.p, sorted.p) != 0)) {
            fprintf(stderr, "  query %s: store and brute force differ (%zu vs %zu bytes)\n", text,
                    sorted.len, want.len);
            if (getenv("VG_ORACLE_DEBUG")) {
                fprintf(stderr, "GOT %s\nWANT %s\n", sorted.p, want.p);
            }
            vgt_failed_checks++;
        }
        vg_sbuf_fini(&want);
        vg_sbuf_fini(&got);
        vg_sbuf_fini(&sorted);
        vg_query_destroy(q);
    }
    vg_store_close(s);
    tl_events_free(o_events, ORACLE_N);
    vg_free(o_events);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- the command line */

static int sh(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    size_t n = 0;
    if (!p) {
        return -1;
    }
    while (n + 1 < size && fgets(out + n, (int)(size - n), p)) {
        n += strlen(out + n);
    }
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

VG_TEST(query_cli_search)
{
    char cmd[1024], out[8192];
    const char *vigie = VG_BINARY_DIR "/vigie";
    if (access(vigie, X_OK) != 0) {
        VG_SKIP("the vigie binary is not built");
    }
    snprintf(cmd, sizeof(cmd), "%s search --data %s --format jsonl user.name:alice 2>&1", vigie,
             g_dir);
    CHECK_EQ_INT(sh(cmd, out, sizeof(out)), 0);
    CHECK(strstr(out, "\"n\":\"5\"") && strstr(out, "\"event.original\":\"10.1.2.3 GET /api/v1"));
    CHECK(strstr(out, "\"_id\":\"") && strstr(out, "\"tenant\":\"default\""));
    snprintf(cmd, sizeof(cmd),
             "%s search --data %s --format csv '| stats count by host.name | sort host.name' 2>&1",
             vigie, g_dir);
    CHECK_EQ_INT(sh(cmd, out, sizeof(out)), 0);
    CHECK_STR(out, "host.name,count\nweb01,3\nweb02,2\nweb03,1\n");
    snprintf(cmd, sizeof(cmd), "%s search --data %s --format table --limit 1 root 2>&1", vigie,
             g_dir);
    CHECK_EQ_INT(sh(cmd, out, sizeof(out)), 0);
    CHECK(strstr(out, "web01") && strstr(out, "Failed password for root"));
    snprintf(cmd, sizeof(cmd), "%s search --data %s 'user.name:' 2>&1", vigie, g_dir);
    CHECK_EQ_INT(sh(cmd, out, sizeof(out)), 2);
    CHECK(strstr(out, "column 11: expected a value after ':'") != NULL);
    snprintf(cmd, sizeof(cmd), "%s search --data %s/nope x 2>&1", vigie, g_dir);
    CHECK_EQ_INT(sh(cmd, out, sizeof(out)), 1);
    CHECK(strstr(out, "no Vigie store") != NULL);
    snprintf(cmd, sizeof(cmd), "%s search --data %s --from yesterday x 2>&1", vigie, g_dir);
    CHECK_EQ_INT(sh(cmd, out, sizeof(out)), 2);
    snprintf(cmd, sizeof(cmd), "%s search --data %s --from -1000d --to now --tenant acme 2>&1",
             vigie, g_dir);
    CHECK_EQ_INT(sh(cmd, out, sizeof(out)), 0);
    CHECK(strstr(out, "dave") != NULL && strstr(out, "alice") == NULL);
    tl_rm_tree(g_dir);
}
