/*
 * bench_util.h — small helpers shared by the benchmarks (not part of the product).
 */
#ifndef VG_BENCH_UTIL_H
#define VG_BENCH_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fixed-seed xorshift64 sequence: the same workload on every run. */
static inline uint64_t rnd64(void)
{
    static uint64_t rng = 0x9e3779b97f4a7c15ULL;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Remove a benchmark's scratch directory tree. */
static inline void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[4096];
        struct stat st;
        if (e->d_name[0] == '.') {
            continue;
        }
        if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p)) {
            continue; /* too deep for a benchmark's own scratch tree */
        }
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            rm_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

#endif
