/*
 * vgtest.c — runner for vgtest.h: runs every registered test (or those named on the
 * command line), prints one line per test and the "N passed, N failed" summary.
 */
#include "vgtest.h"

#include <unistd.h>

#include <ftw.h>

#ifndef VG_SOURCE_DIR
#define VG_SOURCE_DIR "."
#endif

struct vgt_case {
    const char *name;
    vgt_fn fn;
};
static struct vgt_case cases[1024];
static int ncases;
int vgt_failed_checks;
int vgt_skip;

void vgt_register(const char *name, vgt_fn fn)
{
    if (ncases < (int)(sizeof(cases) / sizeof(cases[0]))) {
        cases[ncases].name = name;
        cases[ncases].fn = fn;
        ncases++;
    }
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

int vgt_rm_tree(const char *dir)
{
    return dir && *dir ? nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) : 0;
}

const char *vgt_source_dir(void)
{
    return VG_SOURCE_DIR;
}

const char *vgt_shared(const char *rel)
{
    static char buf[4096];
    const char *base = getenv("VG_SHARED");
    char def[2048];
    if (!base) {
        snprintf(def, sizeof(def), "%s/../shared", VG_SOURCE_DIR);
        base = def;
    }
    snprintf(buf, sizeof(buf), "%s/%s", base, rel);
    if (access(buf, R_OK) != 0) {
        return NULL;
    }
    return buf;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < ncases; i++) {
        if (argc > 1) {
            bool want = false;
            for (int a = 1; a < argc; a++) {
                want |= strcmp(argv[a], cases[i].name) == 0;
            }
            if (!want) {
                continue;
            }
        }
        int before = vgt_failed_checks;
        vgt_skip = 0;
        cases[i].fn();
        if (vgt_failed_checks != before) {
            fprintf(stderr, "FAIL %s\n", cases[i].name);
            failed++;
        } else if (vgt_skip) {
            fprintf(stderr, "SKIP %s\n", cases[i].name);
            skipped++;
        } else {
            fprintf(stderr, "ok   %s\n", cases[i].name);
            passed++;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
