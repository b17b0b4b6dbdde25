/*
 * bench_sigma.c — Sigma evaluation throughput on one core.
 *
 *   bench_sigma [--events N] [--rules DIR]... [--corpus DIR]
 *
 * Loads every rule under the given directories (default: the five SigmaHQ rule folders of
 * ../shared/corpus/sigma), takes the Windows events of the regression samples (the .json
 * renderings: one JSON document per event), replicates them to N events (default 1,000,000)
 * in one JSON-lines buffer, and measures in one thread:
 *   1. parse only: JSON → event (no rules)
 *   2. parse + detect with all rules
 * It prints events/s for both, their ratio, rules evaluated per event (candidates after the
 * prefilter), detections, rule load/compile time and peak RSS.
 *
 * --unique-cmdline makes every replica's CommandLine and ParentCommandLine unique (a counter
 * is prepended), the worst realistic case for the scan cache: in real logs image paths,
 * companies or hashes repeat, command lines often do not. (Detections then differ slightly:
 * rules anchored at the start of a command line stop matching.)
 */
#include "decode/decode.h"
#include "detect/detect.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

static void collect_json(const char *dir, struct vg_sbuf *out, struct vg_json_parser *jp,
                         struct vg_arena *a, size_t *nev)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            collect_json(p, out, jp, a, nev);
            continue;
        }
        size_t l = strlen(p);
        if (l < 5 || strcmp(p + l - 5, ".json") != 0) {
            continue;
        }
        char *text;
        size_t len;
        if (vg_file_read(p, 64u << 20, &text, &len) != VG_OK) {
            continue;
        }
        size_t off = 0;
        for (;;) {
            size_t used;
            struct vg_json *doc;
            char err[128];
            vg_arena_reset(a);
            if (vg_json_parse(jp, a, text + off, len - off, &used, &doc, err, sizeof(err)) !=
                VG_OK) {
                break;
            }
            vg_json_write(doc, out); /* compact: one event per line */
            vg_sbuf_addc(out, '\n');
            (*nev)++;
            off += used;
        }
        vg_free(text);
    }
    closedir(d);
}

static int count_cb(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    VG_UNUSED(m);
    VG_UNUSED(ev);
    (*(uint64_t *)ud)++;
    return 0;
}

static uint64_t scans, cached;

static double run(const uint8_t *buf, size_t len, struct vg_ruleset *rs, uint64_t *events,
                  uint64_t *dets, uint64_t *cands)
{
    struct vg_reader *r;
    struct vg_event *ev = vg_event_create();
    struct vg_detect_ctx *ctx = rs ? vg_detect_ctx_create(rs) : NULL;
    vg_reader_open(&r, buf, len, NULL);
    char err[256];
    uint64_t t0 = vg_clock_ns();
    *events = 0;
    while (vg_reader_next(r, ev, err, sizeof(err)) == VG_OK) {
        (*events)++;
        if (ctx) {
            vg_detect_event(rs, ctx, ev, count_cb, dets);
        }
    }
    double s = (double)(vg_clock_ns() - t0) / 1e9;
    if (ctx) {
        *cands = vg_detect_ctx_counters(ctx)->candidates;
        scans = vg_detect_ctx_counters(ctx)->scans;
        cached = vg_detect_ctx_counters(ctx)->cached;
    }
    vg_reader_close(r);
    vg_detect_ctx_destroy(ctx);
    vg_event_destroy(ev);
    return s;
}

int main(int argc, char **argv)
{
    const char *corpus = "../shared/corpus/sigma";
    const char *rules[16];
    int nrules = 0;
    long target = 1000000;
    bool unique = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc) {
            int64_t v;
            i++;
            if (vg_parse_i64(argv[i], strlen(argv[i]), &v) != VG_OK || v < 1) {
                fprintf(stderr, "bench_sigma: --events takes a positive number\n");
                return 2;
            }
            target = (long)v;
        } else if (!strcmp(argv[i], "--rules") && i + 1 < argc && nrules < 16) {
            rules[nrules++] = argv[++i];
        } else if (!strcmp(argv[i], "--unique-cmdline")) {
            unique = true;
        } else if (!strcmp(argv[i], "--corpus") && i + 1 < argc) {
            corpus = argv[++i];
        } else {
            fprintf(stderr, "usage: bench_sigma [--events N] [--rules DIR]... [--corpus DIR] "
                            "[--unique-cmdline]\n");
            return 2;
        }
    }
    char paths[5][2048];
    static const char *const dirs[] = {"rules", "rules-emerging-threats", "rules-threat-hunting",
                                       "rules-compliance", "rules-placeholder"};
    if (!nrules) {
        for (int i = 0; i < 5; i++) {
            snprintf(paths[i], sizeof(paths[i]), "%s/%s", corpus, dirs[i]);
            rules[nrules++] = paths[i];
        }
    }
    /* events */
    char reg[2048];
    snprintf(reg, sizeof(reg), "%s/regression_data", corpus);
    struct vg_sbuf base = VG_SBUF_INIT, all = VG_SBUF_INIT;
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(1 << 16);
    size_t nbase = 0;
    collect_json(reg, &base, jp, a, &nbase);
    if (!nbase) {
        fprintf(stderr, "bench_sigma: no events under %s\n", reg);
        return 1;
    }
    size_t reps = ((size_t)target + nbase - 1) / nbase;
    for (size_t i = 0; i < reps; i++) {
        if (!unique) {
            vg_sbuf_add(&all, base.p, base.len);
            continue;
        }
        static const char *const keys[] = {"\"CommandLine\":\"", "\"ParentCommandLine\":\""};
        const char *p = base.p, *end = base.p + base.len;
        while (p < end) {
            const char *hit = NULL;
            size_t kl = 0;
            for (size_t k = 0; k < 2; k++) {
                const char *h = memmem(p, (size_t)(end - p), keys[k], strlen(keys[k]));
                if (h && (!hit || h < hit)) {
                    hit = h;
                    kl = strlen(keys[k]);
                }
            }
            if (!hit) {
                vg_sbuf_add(&all, p, (size_t)(end - p));
                break;
            }
            vg_sbuf_add(&all, p, (size_t)(hit - p) + kl);
            vg_sbuf_printf(&all, "%zu ", i);
            p = hit + kl;
        }
    }
    /* rules */
    uint64_t t0 = vg_clock_ns();
    struct vg_sigma_set *set = vg_sigma_set_create(NULL);
    char err[512];
    for (int i = 0; i < nrules; i++) {
        vg_sigma_set_load(set, rules[i], err, sizeof(err));
    }
    struct vg_mapping *map;
    vg_mapping_default(&map, err, sizeof(err));
    struct vg_ruleset *rs;
    if (vg_ruleset_build(set, map, NULL, &rs, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_sigma: %s\n", err);
        return 1;
    }
    double load_s = (double)(vg_clock_ns() - t0) / 1e9;
    const struct vg_ruleset_stats *st = vg_ruleset_stats(rs);

    uint64_t ev0, ev1, dets = 0, cands = 0, dummy = 0;
    double parse_s = run((const uint8_t *)all.p, all.len, NULL, &ev0, &dummy, &dummy);
    double full_s = run((const uint8_t *)all.p, all.len, rs, &ev1, &dets, &cands);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);

    printf("events:                 %llu (%zu distinct regression events x %zu%s), %.1f MB JSON\n",
           (unsigned long long)ev1, nbase, reps, unique ? ", unique command lines" : "",
           (double)all.len / 1e6);
    printf("rules loaded:           %u rules, %u variants, %u prefilter patterns, %u unwitnessed\n",
           st->rules, st->variants, st->literals, st->unwitnessed);
    printf("load + compile:         %.3f s (ruleset build %.0f ms)\n", load_s, st->build_ms);
    printf("parse only:             %.0f events/s (%.3f s)\n", (double)ev0 / parse_s, parse_s);
    printf("parse + all rules:      %.0f events/s (%.3f s)\n", (double)ev1 / full_s, full_s);
    printf("ratio (all rules/parse): %.2f\n", (parse_s > 0 ? full_s / parse_s : 0));
    printf("rules evaluated/event:  %.2f (of %u)\n", (double)cands / (double)ev1, st->rules);
    printf("values scanned/event:   %.2f (+ %.2f answered by the scan cache)\n",
           (double)scans / (double)ev1, (double)cached / (double)ev1);
    printf("detections:             %llu (%.3f per event)\n", (unsigned long long)dets,
           (double)dets / (double)ev1);
    printf("peak RSS:               %.1f MB\n", (double)ru.ru_maxrss / 1024);
    vg_ruleset_unref(rs);
    vg_mapping_destroy(map);
    vg_sigma_set_destroy(set);
    vg_sbuf_fini(&base);
    vg_sbuf_fini(&all);
    vg_arena_destroy(a);
    vg_json_parser_destroy(jp);
    return 0;
}
