/*
 * bench_intel_misp.c — the MISP importer (src/intel/intel_misp.c) on one core: one generated
 * event with N attributes (default 1M) written as MISP exports them (every attribute with its
 * id, category, distribution, timestamps, comment, first/last seen; one in ten with a tag; one
 * in eight to_ids false), mixing ip-dst, domain, url, sha256, domain|ip and filename|md5.
 * Prints the document size, the time to parse it alone (vg_json_parse, the DOM the importer
 * builds) and the time of the whole import into a counting sink, in attributes/s and MB/s,
 * plus the DOM's arena size.
 *
 *   bench_intel_misp [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/core.h"
#include "event/event.h"
#include "intel/intel_misp.h"

#include "bench_util.h"

static size_t n_ind, n_rej;

static int count_ind(void *u, const struct vg_intel_rec *r)
{
    (void)u;
    n_ind += r->value_len > 0;
    return 0;
}

static int count_obj(void *u, const struct vg_intel_obj *o)
{
    (void)u;
    (void)o;
    return 0;
}

static void count_rej(void *u, enum vg_intel_reject why, const char *where, const char *reason)
{
    (void)u;
    (void)why;
    (void)where;
    (void)reason;
    n_rej++;
}

static void gen_value(struct vg_sbuf *sb, size_t i, const char *type)
{
    uint64_t r = rnd64();
    if (strcmp(type, "ip-dst") == 0) {
        vg_sbuf_printf(sb, "%u.%u.%u.%u", (unsigned)(r >> 24) & 255, (unsigned)(r >> 16) & 255,
                       (unsigned)(r >> 8) & 255, (unsigned)r & 255);
    } else if (strcmp(type, "domain") == 0) {
        vg_sbuf_printf(sb, "d%zu-%x.example.com", i, (unsigned)r & 0xffff);
    } else if (strcmp(type, "url") == 0) {
        vg_sbuf_printf(sb, "http://u%zu.example.net/gate.php?id=%x", i, (unsigned)r);
    } else if (strcmp(type, "sha256") == 0) {
        vg_sbuf_printf(sb, "%016llx%016llx%016llx%016llx", (unsigned long long)r,
                       (unsigned long long)rnd64(), (unsigned long long)rnd64(),
                       (unsigned long long)rnd64());
    } else if (strcmp(type, "domain|ip") == 0) {
        vg_sbuf_printf(sb, "h%zu.example.org|10.%u.%u.%u", i, (unsigned)(r >> 16) & 255,
                       (unsigned)(r >> 8) & 255, (unsigned)r & 255);
    } else {
        vg_sbuf_printf(sb, "f%zu.exe|%016llx%016llx", i, (unsigned long long)r,
                       (unsigned long long)rnd64());
    }
}

static void gen_event(struct vg_sbuf *sb, size_t n)
{
    static const char *const types[] = {"ip-dst", "domain",    "url",
                                        "sha256", "domain|ip", "filename|md5"};
    vg_sbuf_adds(sb, "{\"Event\":{\"id\":\"1\",\"uuid\":\"b1b1b1b1-0000-4000-8000-000000000000\","
                     "\"info\":\"bulk\",\"date\":\"2023-11-14\",\"timestamp\":\"1700000000\","
                     "\"threat_level_id\":\"2\",\"analysis\":\"2\",\"published\":true,"
                     "\"Orgc\":{\"name\":\"BENCH\"},\"Tag\":[{\"name\":\"tlp:green\"}],"
                     "\"Attribute\":[");
    for (size_t i = 0; i < n; i++) {
        const char *t = types[i % 6];
        vg_sbuf_printf(sb,
                       "%s{\"id\":\"%zu\",\"event_id\":\"1\",\"object_id\":\"0\","
                       "\"object_relation\":null,\"category\":\"Network activity\","
                       "\"type\":\"%s\",\"to_ids\":%s,\"uuid\":\"00000000-0000-4000-8000-%012zu\","
                       "\"timestamp\":\"%zu\",\"distribution\":\"5\",\"sharing_group_id\":\"0\","
                       "\"comment\":\"\",\"deleted\":false,\"disable_correlation\":false,"
                       "\"first_seen\":null,\"last_seen\":null,\"value\":\"",
                       i ? "," : "", i + 1, t, i % 8 == 7 ? "false" : "true", i,
                       (size_t)1700000000 + i);
        gen_value(sb, i, t);
        vg_sbuf_adds(sb, i % 10 == 0 ? "\",\"Tag\":[{\"name\":\"kill-chain:Delivery\"}]}" : "\"}");
    }
    vg_sbuf_adds(sb, "]}}");
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    struct vg_sbuf sb = VG_SBUF_INIT;
    struct vg_intel_sink sink = {NULL, count_ind, count_obj, count_rej};
    char err[256];
    gen_event(&sb, n);
    if (sb.err) {
        fprintf(stderr, "out of memory generating the event\n");
        return 1;
    }
    double mb = (double)sb.len / 1e6;
    printf("event: %zu attributes, %.1f MB\n", n, mb);

    struct vg_json_limits lim = {.max_len = VG_INTEL_MISP_MAX_DOC};
    struct vg_json_parser *p = vg_json_parser_create(&lim);
    struct vg_arena *a = vg_arena_create(1u << 20);
    struct vg_json *doc;
    size_t used;
    uint64_t t0 = vg_clock_ns();
    int rc = vg_json_parse(p, a, sb.p, sb.len, &used, &doc, err, sizeof(err));
    uint64_t t1 = vg_clock_ns();
    printf("parse only: %.3f s (%.0f MB/s), DOM arena %.1f MB (%.0f B/attribute), rc %d\n",
           (double)(t1 - t0) / 1e9, mb / ((double)(t1 - t0) / 1e9), vg_arena_used(a) / 1e6,
           (double)vg_arena_used(a) / (double)(n ? n : 1), rc);
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);

    t0 = vg_clock_ns();
    rc = vg_intel_import_misp(sb.p, sb.len, NULL, &sink, err, sizeof(err));
    t1 = vg_clock_ns();
    double s = (double)(t1 - t0) / 1e9;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("import: rc %d, %.3f s, %.2f M attributes/s, %.0f MB/s; %zu indicators, %zu rejected; "
           "max RSS %.0f MB\n",
           rc, s, (double)n / s / 1e6, mb / s, n_ind, n_rej, (double)ru.ru_maxrss / 1024.0);
    vg_sbuf_fini(&sb);
    return rc == 0 ? 0 : 1;
}
