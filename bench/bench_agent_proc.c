/*
 * bench_agent_proc.c — CPU and memory of the agent's process collector while the host runs
 * 200 execs/s (issue 5 target: agent < 2 % of one core, RSS < 40 MB).
 *
 * For each backend (arguments, default: ebpf proc_connector proc_poll) the collector runs
 * in this process; the main thread posix_spawns /bin/true with a marker argument every 5 ms
 * for 10 s and reaps it. Reported: the CPU time of the collector's own thread (from
 * /proc/self/task/TID/stat) as % of one core, the events it emitted and how many of our
 * execs it saw, and the process's RSS. For ebpf, the in-kernel program time (run_time_ns
 * with BPF stats enabled) is reported too: it is spent in the exec'ing processes, not in the
 * agent. Needs root for ebpf/proc_connector; unavailable backends are reported and skipped.
 *
 *   bench_agent_proc [seconds] [backend...]
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_proc.h"

extern char **environ;

static atomic_ulong g_events, g_ours;
static char g_marker[64];

static int bench_emit(void *ctx, const char *json, size_t len)
{
    (void)ctx;
    (void)len;
    atomic_fetch_add(&g_events, 1);
    if (strstr(json, g_marker) && strstr(json, "\"event.action\":\"exec\"")) {
        atomic_fetch_add(&g_ours, 1);
    }
    return VG_OK;
}

/* Thread ids of this process. */
static size_t list_tasks(pid_t *out, size_t max)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < max) {
        if (e->d_name[0] != '.') {
            out[n++] = (pid_t)strtol(e->d_name, NULL, 10);
        }
    }
    if (d) {
        closedir(d);
    }
    return n;
}

/* utime + stime of one thread, in clock ticks. */
static unsigned long long task_ticks(pid_t tid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    if (vg_agent_proc_read_small(path, buf, sizeof(buf)) <= 0) {
        return 0;
    }
    const char *s = strrchr(buf, ')');
    for (int f = 2; s && f < 14; f++) {
        s = strchr(s + 1, ' ');
    }
    if (!s) {
        return 0;
    }
    char *end;
    unsigned long long ut = strtoull(s + 1, &end, 10);
    return ut + strtoull(end, NULL, 10);
}

static long status_kb(const char *key)
{
    char buf[4096];
    if (vg_agent_proc_read_small("/proc/self/status", buf, sizeof(buf)) <= 0) {
        return -1;
    }
    const char *s = strstr(buf, key);
    return s ? strtol(s + strlen(key), NULL, 10) : -1;
}

/* Total run time of the loaded programs named vg_proc_* (needs BPF stats enabled). */
static unsigned long long bpf_prog_ns(unsigned long long *runs)
{
    unsigned long long ns = 0;
    __u32 id = 0;
    *runs = 0;
    while (bpf_prog_get_next_id(id, &id) == 0) {
        int fd = bpf_prog_get_fd_by_id(id);
        struct bpf_prog_info info;
        __u32 len = sizeof(info);
        memset(&info, 0, sizeof(info));
        if (fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
            strncmp(info.name, "vg_proc_", 8) == 0) {
            ns += info.run_time_ns;
            *runs += info.run_cnt;
            if (getenv("BENCH_VERBOSE")) {
                printf("  [%s: %llu runs, %llu ns]\n", info.name, (unsigned long long)info.run_cnt,
                       (unsigned long long)info.run_time_ns);
            }
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    return ns;
}

/* Spawn /bin/true <marker> at rate per second for secs seconds; returns the execs done. */
static long spawn_load(int rate, int secs)
{
    char *const argv[] = {"/bin/true", g_marker, NULL};
    uint64_t period = 1000000000ULL / (uint64_t)rate, t0 = vg_clock_ns();
    long n = 0;
    for (uint64_t next = t0; next < t0 + (uint64_t)secs * 1000000000ULL; next += period) {
        uint64_t now = vg_clock_ns();
        if (next > now) {
            struct timespec ts = {0, (long)(next - now)};
            nanosleep(&ts, NULL);
        }
        pid_t pid;
        if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) == 0) {
            n++;
        }
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
    }
    while (waitpid(-1, NULL, 0) > 0) {
    }
    return n;
}

static void bench_backend(const char *backend, int secs)
{
    pid_t before[256], after[256], tid = 0;
    size_t nb = list_tasks(before, 256);
    struct vg_agent_collector *c = NULL;
    char err[512];
    struct vg_agent_collector_opts o = {.force_backend = backend, .emit = bench_emit};
    if (vg_agent_proc_collector.start(&o, &c, err, sizeof(err)) != VG_OK) {
        printf("%-15s unavailable: %s\n", backend, err);
        return;
    }
    size_t na = list_tasks(after, 256);
    for (size_t i = 0; i < na; i++) {
        bool old = false;
        for (size_t j = 0; j < nb; j++) {
            old = old || after[i] == before[j];
        }
        tid = old ? tid : after[i];
    }
    snprintf(g_marker, sizeof(g_marker), "bench-marker-%d-%s", (int)getpid(), backend);
    atomic_store(&g_events, 0);
    atomic_store(&g_ours, 0);
    unsigned long long runs0, ns0 = bpf_prog_ns(&runs0), runs1;
    unsigned long long t0 = task_ticks(tid);
    uint64_t w0 = vg_clock_ns();
    long execs = spawn_load(200, secs);
    struct timespec settle = {0, 300000000L}; /* let the collector catch up */
    nanosleep(&settle, NULL);
    double wall = (double)(vg_clock_ns() - w0) / 1e9;
    double cpu = (double)(task_ticks(tid) - t0) / (double)sysconf(_SC_CLK_TCK);
    unsigned long long ns1 = bpf_prog_ns(&runs1);
    struct vg_sbuf st = VG_SBUF_INIT;
    vg_agent_proc_collector.stats(c, &st);
    printf("%-15s execs %ld (%.0f/s)  seen %lu/%ld  events %lu  collector CPU %.2f%% of a core"
           "  RSS %ld kB (peak %ld kB)",
           backend, execs, (double)execs / wall, (unsigned long)atomic_load(&g_ours), execs,
           (unsigned long)atomic_load(&g_events), 100.0 * cpu / wall, status_kb("VmRSS:"),
           status_kb("VmHWM:"));
    if (runs1 > runs0) {
        printf("  in-kernel %.0f ns/record (%.3f%% of a core)",
               (double)(ns1 - ns0) / (double)(runs1 - runs0),
               100.0 * (double)(ns1 - ns0) / 1e9 / wall);
    }
    printf("\n  stats %s\n", st.p ? st.p : "");
    vg_sbuf_fini(&st);
    vg_agent_proc_collector.stop(c);
}

int main(int argc, char **argv)
{
    int64_t secs = 10;
    if (argc > 1 &&
        (vg_parse_i64(argv[1], strlen(argv[1]), &secs) != VG_OK || secs < 1 || secs > 3600)) {
        fprintf(stderr, "usage: bench_agent_proc [SECONDS 1-3600] [BACKEND...]\n");
        return 2;
    }
    int stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME); /* for the in-kernel figure */
    if (argc > 2) {
        for (int i = 2; i < argc; i++) {
            bench_backend(argv[i], (int)secs);
        }
    } else {
        const char *def[] = {"ebpf", "proc_connector", "proc_poll"};
        for (size_t i = 0; i < VG_ARRAY_LEN(def); i++) {
            bench_backend(def[i], secs > 0 ? secs : 10);
        }
    }
    if (stats_fd >= 0) {
        close(stats_fd);
    }
    return 0;
}
