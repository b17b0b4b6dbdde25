/*
 * fuzz_scratch.h — a scratch directory for fuzz targets that need files (a database, a
 * store): created once per process under /tmp, removed with everything in it at exit, so
 * replays in CI leave nothing behind.
 */
#ifndef VG_FUZZ_SCRATCH_H
#define VG_FUZZ_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_scratch_path[128];

static int fuzz_scratch_rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void fuzz_scratch_cleanup(void)
{
    if (fuzz_scratch_path[0]) {
        nftw(fuzz_scratch_path, fuzz_scratch_rm, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* The process's scratch directory "/tmp/vg-fuzz-<tag>-XXXXXX" (NULL if it cannot be made). */
static inline const char *fuzz_scratch(const char *tag)
{
    if (!fuzz_scratch_path[0]) {
        snprintf(fuzz_scratch_path, sizeof(fuzz_scratch_path), "/tmp/vg-fuzz-%s-XXXXXX", tag);
        if (!mkdtemp(fuzz_scratch_path)) {
            fuzz_scratch_path[0] = 0;
            return NULL;
        }
        atexit(fuzz_scratch_cleanup);
    }
    return fuzz_scratch_path;
}

#endif
