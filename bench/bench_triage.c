/*
 * bench_triage.c — triage throughput: alert → fingerprint/dedup → exceptions → risk →
 * incident grouping on one core, for a synthetic but realistic mix: 30 rules (levels and
 * ATT&CK tactics as in the built-in set), 5,000 hosts, 3,000 users, 8,000 IPs, a third of
 * the alerts repeating a recent fingerprint, a few exceptions, and a handful of hosts under
 * a multi-stage attack. Prints alerts/s in memory and with persistence (triage.db, one
 * transaction per 1,000 alerts).
 *
 *   bench_triage [alerts [mem|disk]]  (default 1,000,000 in memory; a fifth of that persisted;
 *                                      mem / disk: run only that half, e.g. under a profiler)
 */
#include "alert/alert.h"
#include "bench_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000

static const char *const tactics[] = {
    "credential_access", "initial_access",      "privilege_escalation",
    "persistence",       "command_and_control", "discovery",
    "execution",         "lateral_movement",    "defense_evasion",
    "exfiltration",
};

struct mix {
    char rule[30][24];
    char tags[30][96];
    int level[30];
    char host[5000][16];
    char user[3000][16];
    char ip[8000][20];
};

static void mix_init(struct mix *m)
{
    for (int i = 0; i < 30; i++) {
        snprintf(m->rule[i], sizeof(m->rule[i]), "rule-%02d", i);
        snprintf(m->tags[i], sizeof(m->tags[i]), "[\"attack.t1%03d\",\"attack.%s\"]", i,
                 tactics[i % 10]);
        m->level[i] = 1 + (i * 7) % 5;
    }
    for (int i = 0; i < 5000; i++) {
        snprintf(m->host[i], sizeof(m->host[i]), "host-%04d", i);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(m->user[i], sizeof(m->user[i]), "user%04d", i);
    }
    for (int i = 0; i < 8000; i++) {
        snprintf(m->ip[i], sizeof(m->ip[i]), "10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
    }
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Alert i: a third repeat one of the last 64 fingerprints. */
static void gen(const struct mix *m, struct vg_store_alert *a, int64_t id, uint64_t *seed,
                struct vg_store_alert *recent)
{
    uint64_t r = rnd(seed);
    if (id > 64 && r % 3 == 0) {
        *a = recent[r % 64];
    } else {
        int rule = (int)(r % 30);
        memset(a, 0, sizeof(*a));
        a->tenant = "default";
        a->rule_id = m->rule[rule];
        a->title = m->rule[rule];
        a->level = m->level[rule];
        a->tags = m->tags[rule];
        a->attack = "[\"T1110\"]";
        a->host = m->host[(r >> 8) % 5000];
        a->user = (r >> 24) % 4 ? m->user[(r >> 24) % 3000] : NULL;
        a->src_ip = m->ip[(r >> 36) % 8000];
        a->dst_ip = (r >> 50) % 3 ? NULL : m->ip[(r >> 40) % 8000];
        a->process = (r >> 20) % 2 ? "sshd" : "powershell.exe";
        recent[id % 64] = *a;
    }
    a->id = id;
    a->ts = (int64_t)1772352000 * 1000000000LL + id * 10000000LL; /* 100 alerts/s of alert time */
    a->created = 0;
}

static double run(const char *dir, int64_t n, struct vg_triage_batch_stats *tot)
{
    struct vg_triage *t = NULL;
    char err[256];
    if (vg_triage_open(dir, NULL, NULL, &t, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "open: %s\n", err);
        exit(1);
    }
    const char *ex = "{\"rule\":\"rule-07\",\"entity\":{\"type\":\"host\",\"value\":\"host-00*\"},"
                     "\"expires\":\"never\",\"reason\":\"bench\"}";
    int64_t xid;
    vg_triage_exception_add(t, "default", "bench", ex, strlen(ex), &xid, err, sizeof(err));
    struct mix *m = malloc(sizeof(*m));
    struct vg_store_alert *a = calloc(BATCH, sizeof(*a)), recent[64];
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    mix_init(m);
    memset(tot, 0, sizeof(*tot));
    uint64_t start = vg_clock_ns(), gen_ns = 0;
    for (int64_t id = 1; id <= n; id += BATCH) {
        size_t k = (size_t)VG_MIN((int64_t)BATCH, n - id + 1);
        uint64_t g0 = vg_clock_ns();
        for (size_t i = 0; i < k; i++) {
            gen(m, &a[i], id + (int64_t)i, &seed, recent);
        }
        gen_ns += vg_clock_ns() - g0;
        struct vg_triage_batch_stats st;
        if (vg_triage_process(t, a, k, NULL, &st, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "process: %s\n", err);
            exit(1);
        }
        tot->seen += st.seen;
        tot->duplicates += st.duplicates;
        tot->suppressed += st.suppressed;
        tot->opened += st.opened;
        tot->grouped += st.grouped;
    }
    double secs = (double)(vg_clock_ns() - start - gen_ns) / 1e9;
    vg_triage_destroy(t);
    free(a);
    free(m);
    return (double)n / secs;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? strtoll(argv[1], NULL, 10) : 1000000;
    const char *only = argc > 2 ? argv[2] : "";
    struct vg_triage_batch_stats st;
    if (strcmp(only, "disk") != 0) {
        double mem = run(NULL, n, &st);
        printf("triage in memory:   %" PRId64
               " alerts, %.0f alerts/s (duplicates %zu, suppressed %zu,"
               " incidents %zu, grouped %zu)\n",
               n, mem, st.duplicates, st.suppressed, st.opened, st.grouped);
    }
    if (!strcmp(only, "mem")) {
        return 0;
    }
    char dir[] = "/tmp/vg-bench-triage-XXXXXX";
    if (!mkdtemp(dir)) {
        return 1;
    }
    int64_t np = VG_MAX(n / 5, 1000);
    double disk = run(dir, np, &st);
    printf("triage + triage.db: %" PRId64 " alerts, %.0f alerts/s (one transaction per %d)\n", np,
           disk, BATCH);
    rm_tree(dir);
    return 0;
}
