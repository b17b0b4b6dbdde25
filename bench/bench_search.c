/*
 * bench_search.c — search latency over a large embedded store.
 *
 *   bench_search [--events N] [--days D] [--runs R] [--dir DIR] [--keep] [--reuse]
 *
 * Builds a store of N synthetic but realistic events (default 10,000,000 over D = 7 days;
 * bench_gen.h: sshd/syslog/nginx/JSON/firewall mix, 60 hosts, 400 users, 6,000 addresses),
 * appended in batches of 4,096 as the server would, then runs each query kind R times
 * (default 30) with varying values, as `vigie search` does (newest 100 matches over the whole
 * range), and prints p50/p95/max latency per kind. Counting queries (which must read every
 * candidate block) are measured too and reported apart. --reuse searches an existing DIR
 * (built by an earlier --keep run) without rebuilding. Temporary data lives under /tmp and is
 * removed unless --keep.
 */
#include "bench_util.h"
#include "bench_gen.h"
#include "query/query.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
    uint64_t events;
    int days;
    int runs;
    const char *dir;
    bool keep, reuse;
};

static int build(const struct opts *o, const char *dir)
{
    char err[512];
    struct vg_store *s;
    if (vg_store_open(dir, NULL, &s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_search: %s\n", err);
        return -1;
    }
    const size_t batch = 4096;
    struct gen g;
    int64_t span = (int64_t)o->days * 86400 * 1000000000LL;
    gen_init(&g, 7, vg_time_now() - span, span / (int64_t)o->events);
    struct vg_event **evs = vg_calloc(batch, sizeof(*evs));
    for (size_t i = 0; i < batch; i++) {
        evs[i] = vg_event_create();
    }
    uint64_t done = 0, raw = 0, t0 = vg_clock_ns(), tapp = 0;
    int rc = VG_OK;
    while (done < o->events && rc == VG_OK) {
        size_t n = (size_t)VG_MIN((uint64_t)batch, o->events - done);
        for (size_t i = 0; i < n; i++) {
            raw += gen_next(&g, evs[i]) + 1;
        }

        uint64_t a = vg_clock_ns();
        rc = vg_store_append(s, (const struct vg_event *const *)evs, n, NULL, NULL, err,
                             sizeof(err));
        tapp += vg_clock_ns() - a;
        done += n;
    }
    vg_store_close(s);
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    printf("built %llu events (%.0f MB raw) in %.1f s (append alone %.1f s, %.0f events/s)\n",
           (unsigned long long)done, (double)raw / 1e6, secs, (double)tapp / 1e9,
           (double)done / ((double)tapp / 1e9));
    for (size_t i = 0; i < batch; i++) {
        vg_event_destroy(evs[i]);
    }
    vg_free(evs);
    gen_fini(&g);
    if (rc != VG_OK) {
        fprintf(stderr, "bench_search: append: %s\n", err);
        return -1;
    }
    return 0;
}

static int count_row(void *ctx, const struct vg_query_row *r)
{
    (*(uint64_t *)ctx)++;
    return VG_OK;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Run one query; its latency in ms (negative on error). */
static double timed(struct vg_store *s, const char *text, uint64_t *rows, uint64_t *blocks)
{
    char err[512];
    struct vg_query *q;
    struct vg_query_stats st;
    uint64_t t0 = vg_clock_ns();
    if (vg_query_parse(text, strlen(text), VG_TIME_NONE, &q, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_search: %s: %s\n", text, err);
        return -1;
    }
    struct vg_query_opts qo = {
        .from = VG_TIME_NONE, .to = VG_TIME_NONE, .on_row = count_row, .ctx = rows};
    int rc = vg_query_run(q, s, &qo, &st, err, sizeof(err));
    vg_query_destroy(q);
    if (rc != VG_OK) {
        fprintf(stderr, "bench_search: %s: %s\n", text, err);
        return -1;
    }
    *blocks += st.scan.decoded;
    return (double)(vg_clock_ns() - t0) / 1e6;
}

typedef void (*query_fn)(struct gen *g, char *buf, size_t n);

static void q_user(struct gen *g, char *buf, size_t n)
{
    char u[48];
    gen_user(g, u, sizeof(u));
    snprintf(buf, n, "user.name:%s", u);
}

static void q_ip_failure(struct gen *g, char *buf, size_t n)
{
    char ip[32];
    gen_ip_external(g, ip, sizeof(ip));
    snprintf(buf, n, "source.ip:%s AND event.outcome:failure", ip);
}

static void q_host_action(struct gen *g, char *buf, size_t n)
{
    char h[32], u[48];
    gen_host(g, h, sizeof(h));
    gen_user(g, u, sizeof(u));
    snprintf(buf, n, "host.name:%s AND user.name:%s", h, u);
}

static void q_internal_ip(struct gen *g, char *buf, size_t n)
{
    char ip[32];
    gen_ip_internal(g, ip, sizeof(ip));
    snprintf(buf, n, "source.ip:%s", ip);
}

static void q_failed_root(struct gen *g, char *buf, size_t n)
{
    snprintf(buf, n, "\"Failed password\" AND root");
}

static void q_accepted_user(struct gen *g, char *buf, size_t n)
{
    char u[48];
    gen_user(g, u, sizeof(u));
    snprintf(buf, n, "\"Accepted publickey\" %s", u);
}

static void q_text_ip(struct gen *g, char *buf, size_t n)
{
    char ip[32];
    gen_ip_external(g, ip, sizeof(ip));
    snprintf(buf, n, "\"%s\" \"Invalid user\"", ip);
}

static void q_text_word(struct gen *g, char *buf, size_t n)
{
    static const char *const w[] = {"wp-login.php", "shadow",    "preauth", "FAILED su",
                                    "payment",      "UFW BLOCK", "CRON",    "slow query"};
    snprintf(buf, n, "\"%s\"", w[gen_pick(g, 8)]);
}

static void q_count_user(struct gen *g, char *buf, size_t n)
{
    char u[48];
    gen_user(g, u, sizeof(u));
    snprintf(buf, n, "user.name:%s | stats count", u);
}

static void q_count_text(struct gen *g, char *buf, size_t n)
{
    snprintf(buf, n, "\"Failed password\" root | stats count by host.name | sort -count | head 5");
}

static void q_top_ip(struct gen *g, char *buf, size_t n)
{
    snprintf(buf, n, "event.outcome:failure | top source.ip 10");
}

struct kind {
    const char *name;
    query_fn fn;
    int group; /* 0 field, 1 free text, 2 counting */
};

static const struct kind kinds[] = {
    {"user.name:U", q_user, 0},
    {"source.ip:IP AND event.outcome:failure", q_ip_failure, 0},
    {"host.name:H AND user.name:U", q_host_action, 0},
    {"source.ip:10.x.y.z", q_internal_ip, 0},
    {"\"Failed password\" AND root", q_failed_root, 1},
    {"\"Accepted publickey\" U", q_accepted_user, 1},
    {"\"IP\" \"Invalid user\"", q_text_ip, 1},
    {"\"word\"", q_text_word, 1},
    {"user.name:U | stats count", q_count_user, 2},
    {"\"Failed password\" root | stats count by host.name | sort -count | head 5", q_count_text, 2},
    {"event.outcome:failure | top source.ip 10", q_top_ip, 2},
};

static void pct(double *v, int n, double *p50, double *p95, double *max)
{
    qsort(v, (size_t)n, sizeof(*v), dbl_cmp);
    *p50 = v[n / 2];
    *p95 = v[(int)((n - 1) * 0.95 + 0.5)];
    *max = v[n - 1];
}

static void measure(struct vg_store *s, const struct opts *o)
{
    static const char *const groups[] = {"field queries", "free-text queries",
                                         "counting queries (read every candidate block)"};
    struct gen g;
    gen_init(&g, 99, 0, 1);
    for (int grp = 0; grp < 3; grp++) {
        int runs = grp == 2 ? VG_MAX(3, o->runs / 5) : o->runs;
        double *all = vg_calloc((size_t)runs * VG_ARRAY_LEN(kinds), sizeof(*all));
        int nall = 0;
        printf("\n%s (newest 100 matches over the whole range unless aggregated), %d runs each\n",
               groups[grp], runs);
        for (size_t k = 0; k < VG_ARRAY_LEN(kinds); k++) {
            if (kinds[k].group != grp) {
                continue;
            }
            double *v = vg_calloc((size_t)runs, sizeof(*v)), p50, p95, max;
            uint64_t rows = 0, blocks = 0;
            for (int i = 0; i < runs; i++) {
                char q[256];
                kinds[k].fn(&g, q, sizeof(q));
                v[i] = timed(s, q, &rows, &blocks);
                all[nall++] = v[i];
            }
            pct(v, runs, &p50, &p95, &max);
            printf("  %-46.46s p50 %7.1f ms  p95 %7.1f ms  max %7.1f ms  (%.0f rows, %.0f blocks "
                   "read per query)\n",
                   kinds[k].name, p50, p95, max, (double)rows / runs, (double)blocks / runs);
            vg_free(v);
        }
        double p50, p95, max;
        pct(all, nall, &p50, &p95, &max);
        printf("  %-46s p50 %7.1f ms  p95 %7.1f ms  max %7.1f ms\n", "ALL of the above", p50, p95,
               max);
        vg_free(all);
    }
    gen_fini(&g);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        int64_t v = 0;
        bool num = i + 1 < argc && vg_parse_i64(argv[i + 1], strlen(argv[i + 1]), &v) == VG_OK;
        if (!strcmp(argv[i], "--keep")) {
            o->keep = true;
        } else if (!strcmp(argv[i], "--reuse")) {
            o->reuse = true;
        } else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            o->dir = argv[++i];
        } else if (!strcmp(argv[i], "--events") && num && v > 0) {
            o->events = (uint64_t)v;
            i++;
        } else if (!strcmp(argv[i], "--days") && num && v > 0) {
            o->days = (int)v;
            i++;
        } else if (!strcmp(argv[i], "--runs") && num && v > 0) {
            o->runs = (int)v;
            i++;
        } else {
            fprintf(stderr, "usage: bench_search [--events N] [--days D] [--runs R] [--dir DIR]"
                            " [--keep] [--reuse]\n");
            return -1;
        }
    }
    return o->reuse && !o->dir ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.events = 10000000, .days = 7, .runs = 30};
    char tmpl[] = "/tmp/vigie-bench-search-XXXXXX", err[512];
    if (parse_args(argc, argv, &o) != 0) {
        return 2;
    }
    const char *dir = o.dir ? o.dir : mkdtemp(tmpl);
    if (!dir || (!o.reuse && build(&o, dir) != 0)) {
        return 1;
    }
    struct vg_store *s;
    struct vg_store_opts ro = {.readonly = true};
    struct vg_store_stats st;
    if (vg_store_open(dir, &ro, &s, err, sizeof(err)) != VG_OK ||
        vg_store_stats(s, &st, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_search: %s\n", err);
        return 1;
    }
    printf("store: %llu events in %u partitions, %llu blocks, %.0f MB on disk (%.3f × raw)\n",
           (unsigned long long)st.events, st.partitions, (unsigned long long)st.blocks,
           (double)st.disk_bytes / 1e6, (double)st.disk_bytes / (double)(st.raw_bytes + st.events));
    measure(s, &o);
    vg_store_close(s);
    if (!o.keep && !o.reuse) {
        rm_tree(dir);
    } else {
        printf("\nkept in %s\n", dir);
    }
    return 0;
}
