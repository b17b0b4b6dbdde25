/*
 * bench_vuln_version.c — version comparison speed (src/vuln/vuln_version.c) on one core:
 * comparisons per second for dpkg over the 22,984 real pairs of
 * ../shared/corpus/debian/debian-version-pairs.tsv (or FILE); on the same pairs rpm and
 * PEP 440 (mostly legacy versions there); and PEP 440, semver and apk over generated versions
 * with pre/post/dev/local parts, prereleases and suffixes.
 *
 *   bench_vuln_version [FILE] [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "vuln/vuln.h"

#include "bench_util.h"

struct pair {
    char *a, *b;
    size_t an, bn;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Load the TSV's pairs (a, b) into p (caller frees the buffer *text); returns the count. */
static size_t load_pairs(const char *path, char **text, struct pair **out)
{
    size_t len = 0, n = 0, cap = 0;
    struct pair *p = NULL;
    if (vg_file_read(path, 64u << 20, text, &len) != VG_OK) {
        return 0;
    }
    for (char *line = *text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (line[0] == '#' || !t2) {
            continue;
        }
        *t1 = *t2 = '\0';
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            p = realloc(p, cap * sizeof(*p));
            if (!p) {
                return 0;
            }
        }
        p[n++] = (struct pair){line, t1 + 1, strlen(line), strlen(t1 + 1)};
    }
    *out = p;
    return n;
}

/* Time `rounds` passes over the pairs; print comparisons/s and how many were valid. */
static void run(const char *label, enum vg_vuln_scheme s, const struct pair *p, size_t n,
                int rounds)
{
    long ok = 0, lt = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            int c = 0;
            if (vg_vuln_vercmp(s, p[i].a, p[i].an, p[i].b, p[i].bn, &c, NULL, 0) == VG_OK) {
                ok++;
                lt += c < 0;
            }
        }
    }
    double dt = now() - t0, total = (double)n * rounds;
    printf("%-28s %8zu pairs x %d: %10.0f cmp/s  %6.1f ns/cmp  (%ld valid, %ld lt)\n", label, n,
           rounds, total / dt, dt * 1e9 / total, ok / rounds, lt / rounds);
}

static void gen_pep(char *o, size_t on)
{
    static const char *const pre[] = {"", "a1", "b2", "rc3", ".dev4", ".post5", "-1", "+ubuntu.1"};
    snprintf(o, on, "%u.%u.%u%s", (unsigned)(rnd64() % 5), (unsigned)(rnd64() % 30),
             (unsigned)(rnd64() % 12), pre[rnd64() % 8]);
}

static void gen_semver(char *o, size_t on)
{
    static const char *const pre[] = {"", "-alpha", "-alpha.1", "-beta.11", "-rc.1", "+build.7"};
    snprintf(o, on, "%u.%u.%u%s", (unsigned)(rnd64() % 5), (unsigned)(rnd64() % 30),
             (unsigned)(rnd64() % 12), pre[rnd64() % 6]);
}

static void gen_apk(char *o, size_t on)
{
    static const char *const suf[] = {"", "_rc1", "_alpha2", "_p3", "a", "_git20240101", ".01"};
    snprintf(o, on, "%u.%u.%u%s-r%u", (unsigned)(rnd64() % 5), (unsigned)(rnd64() % 30),
             (unsigned)(rnd64() % 12), suf[rnd64() % 7], (unsigned)(rnd64() % 8));
}

static size_t gen_pairs(void (*gen)(char *, size_t), size_t n, char **buf, struct pair **out)
{
    struct pair *p = calloc(n, sizeof(*p));
    char *b = calloc(n * 2, 48);
    if (!p || !b) {
        free(p);
        free(b);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char *x = b + i * 96, *y = x + 48;
        gen(x, 48);
        gen(y, 48);
        p[i] = (struct pair){x, y, strlen(x), strlen(y)};
    }
    *buf = b;
    *out = p;
    return n;
}

int main(int argc, char **argv)
{
    char def[1024];
    const char *path = argc > 1 ? argv[1] : NULL;
    int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 50;
    char *text = NULL, *gbuf = NULL;
    struct pair *p = NULL, *g = NULL;
    if (!path) {
        snprintf(def, sizeof(def), "%s", "../shared/corpus/debian/debian-version-pairs.tsv");
        path = def;
    }
    if (rounds < 1) {
        rounds = 1;
    }
    size_t n = load_pairs(path, &text, &p);
    if (n == 0) {
        fprintf(stderr, "bench_vuln_version: no pairs in %s\n", path);
        return 1;
    }
    run("dpkg (debian pairs)", VG_VULN_DPKG, p, n, rounds);
    run("rpm (debian pairs)", VG_VULN_RPM, p, n, rounds);
    run("pep440 (debian pairs)", VG_VULN_PEP440, p, n, rounds);
    size_t gn = gen_pairs(gen_pep, 20000, &gbuf, &g);
    run("pep440 (generated)", VG_VULN_PEP440, g, gn, rounds);
    free(g);
    free(gbuf);
    gn = gen_pairs(gen_semver, 20000, &gbuf, &g);
    run("semver (generated)", VG_VULN_SEMVER, g, gn, rounds);
    free(g);
    free(gbuf);
    gn = gen_pairs(gen_apk, 20000, &gbuf, &g);
    run("apk (generated)", VG_VULN_APK, g, gn, rounds);
    free(g);
    free(gbuf);
    free(p);
    vg_free(text);
    return 0;
}
