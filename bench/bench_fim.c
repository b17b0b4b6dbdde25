/*
 * bench_fim.c — FIM baseline and check speed over a directory tree (default /usr).
 *
 *   bench_fim [-m all|baseline|check|rehash] [-t threads] [-d db] [dir...]
 *
 * baseline: walk + SHA-256 of every regular file + write the SQLite baseline;
 * check:    compare with the baseline, hashing only files whose size/mtime/ctime/inode
 *           changed (the collector's scheduled scan);
 * rehash:   compare, hashing every regular file again (what AIDE's --check does).
 * Prints entries, bytes hashed, wall time, files/s and MB/s per phase. The page cache is
 * whatever it is (run it twice for warm figures); the database is removed at the end unless
 * -d was given.
 */
#include "agent/agent_fim.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int phase(const char *name, struct vg_fim_opts *o, const char *db, bool baseline)
{
    struct vg_fim_result r;
    char err[512];
    double c0 = cpu_s();
    uint64_t t0 = vg_clock_ns();
    int rc = baseline ? vg_fim_baseline(o, db, &r, err, sizeof(err))
                      : vg_fim_check(o, db, &r, err, sizeof(err));
    double wall = (double)(vg_clock_ns() - t0) / 1e9, cpu = cpu_s() - c0;
    if (rc != VG_OK) {
        fprintf(stderr, "%s: %s\n", name, err);
        return 1;
    }
    printf("%-8s entries=%llu hashed=%llu bytes=%.2fGB wall=%.2fs cpu=%.2fs files/s=%.0f "
           "MB/s=%.0f added=%llu removed=%llu changed=%llu errors=%llu\n",
           name, (unsigned long long)r.files, (unsigned long long)r.hashed,
           (double)r.bytes_hashed / 1e9, wall, cpu, (double)r.files / wall,
           (double)r.bytes_hashed / 1e6 / wall, (unsigned long long)r.added,
           (unsigned long long)r.removed, (unsigned long long)r.changed,
           (unsigned long long)r.errors);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = "all", *db = NULL;
    int threads = 2, opt;
    while ((opt = getopt(argc, argv, "m:t:d:")) != -1) {
        if (opt == 'm') {
            mode = optarg;
        } else if (opt == 't') {
            threads = (int)strtol(optarg, NULL, 10);
        } else if (opt == 'd') {
            db = optarg;
        } else {
            fprintf(stderr,
                    "usage: %s [-m all|baseline|check|rehash] [-t threads] [-d db] "
                    "[dir...]\n",
                    argv[0]);
            return 2;
        }
    }
    static const char *def[] = {"/usr"};
    char tmpdb[64];
    if (!db) {
        snprintf(tmpdb, sizeof(tmpdb), "/tmp/bench_fim_%d.db", (int)getpid());
        db = tmpdb;
    }
    struct vg_fim_opts o = {.paths = optind < argc ? (const char *const *)argv + optind : def,
                            .npaths = optind < argc ? (size_t)(argc - optind) : 1,
                            .threads = threads};
    bool all = !strcmp(mode, "all");
    int rc = 0;
    if (all || !strcmp(mode, "baseline")) {
        rc |= phase("baseline", &o, db, true);
    }
    if (all || !strcmp(mode, "check")) {
        rc |= phase("check", &o, db, false);
    }
    if (all || !strcmp(mode, "rehash")) {
        o.rehash = true;
        rc |= phase("rehash", &o, db, false);
    }
    if (db == tmpdb) {
        char p[96];
        unlink(db);
        snprintf(p, sizeof(p), "%s-wal", db);
        unlink(p);
        snprintf(p, sizeof(p), "%s-shm", db);
        unlink(p);
    }
    return rc;
}
