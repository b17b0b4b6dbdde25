/*
 * vgtest.h — Vigie's tiny test harness. One executable per test file; each VG_TEST runs in
 * order; CHECK* record failures with file:line and keep going; main prints
 * "N passed, N failed" and exits non-zero on any failure.
 *
 *   VG_TEST(json_parses_numbers) { CHECK_EQ_INT(parse("1"), 1); }
 *
 * vgt_shared(path) resolves a path under ../shared (or $VG_SHARED); VG_SKIP(reason) ends a
 * test as skipped (corpus absent).
 */
#ifndef VG_TEST_H
#define VG_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*vgt_fn)(void);
void vgt_register(const char *name, vgt_fn fn);
extern int vgt_failed_checks;
extern int vgt_skip;
const char *vgt_shared(const char *rel); /* static buffer; NULL if ../shared is missing */
const char *vgt_source_dir(void);
/* Remove a test's scratch tree (files, directories, symlinks not followed); 0 or -1. */
int vgt_rm_tree(const char *dir);

#define VG_TEST(name)                                                                              \
    static void vgt_##name(void);                                                                  \
    __attribute__((constructor)) static void vgt_reg_##name(void)                                  \
    {                                                                                              \
        vgt_register(#name, vgt_##name);                                                           \
    }                                                                                              \
    static void vgt_##name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);             \
            vgt_failed_checks++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
        if (va_ != vb_) {                                                                          \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a,  \
                    va_, #b, vb_);                                                                 \
            vgt_failed_checks++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                               \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,    \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                                   \
            vgt_failed_checks++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(p, n, s)                                                                         \
    do {                                                                                           \
        const char *pm_ = (const char *)(p);                                                       \
        size_t nm_ = (n);                                                                          \
        const char *sm_ = (s);                                                                     \
        if (!pm_ || nm_ != strlen(sm_) || memcmp(pm_, sm_, nm_) != 0) {                            \
            fprintf(stderr, "  %s:%d: %s == \"%.*s\", expected \"%s\"\n", __FILE__, __LINE__, #p,  \
                    pm_ ? (int)nm_ : 6, pm_ ? pm_ : "(null)", sm_);                                \
            vgt_failed_checks++;                                                                   \
        }                                                                                          \
    } while (0)

#define VG_SKIP(reason)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "  skipped: %s\n", reason);                                                \
        vgt_skip = 1;                                                                              \
        return;                                                                                    \
    } while (0)

#endif
