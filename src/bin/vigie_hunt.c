/*
 * vigie_hunt.c — `vigie hunt`, `vigie rules check|list`, `vigie mapping`, `vigie demo`.
 */
#include "bin/vigie_cmd.h"
#include "detect/detect.h"
#include "hunt/hunt.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

#ifndef VG_VERSION
#define VG_VERSION "0.1.0"
#endif
#ifndef VG_SOURCE_DIR
#define VG_SOURCE_DIR "."
#endif

/* Options shared by commands that load rules. */
struct rules_opts {
    const char *paths[256];
    int npaths;
    const char *mapping;
    const char *placeholders;
    int min_level;
};

struct loaded {
    struct vg_sigma_placeholders *ph;
    struct vg_sigma_set *set;
    struct vg_mapping *map;
    struct vg_ruleset *rs;
};

static void loaded_free(struct loaded *l)
{
    vg_ruleset_unref(l->rs);
    vg_mapping_destroy(l->map);
    vg_sigma_set_destroy(l->set);
    vg_sigma_placeholders_destroy(l->ph);
}

/* Load rules, mapping and placeholders, and build the ruleset. Errors are printed. */
static int load_rules(const struct rules_opts *ro, struct loaded *l, bool build)
{
    char err[512];
    memset(l, 0, sizeof(*l));
    if (ro->placeholders &&
        vg_sigma_placeholders_load(ro->placeholders, &l->ph, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie: %s\n", err);
        return VG_EXIT_USAGE;
    }
    l->set = vg_sigma_set_create(l->ph);
    if (!l->set) {
        fprintf(stderr, "vigie: out of memory\n");
        return VG_EXIT_FAIL;
    }
    for (int i = 0; i < ro->npaths; i++) {
        int rc = vg_sigma_set_load(l->set, ro->paths[i], err, sizeof(err));
        if (rc == VG_ENOENT || rc == VG_EIO) {
            fprintf(stderr, "vigie: rules: %s\n", err);
            return VG_EXIT_USAGE;
        }
        if (rc != VG_OK) {
            fprintf(stderr, "vigie: rules: %s: %s\n", ro->paths[i], vg_strerror(rc));
            return VG_EXIT_FAIL;
        }
    }
    int rc = ro->mapping ? vg_mapping_load_file(ro->mapping, &l->map, err, sizeof(err))
                         : vg_mapping_default(&l->map, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "vigie: mapping: %s\n", err);
        return VG_EXIT_USAGE;
    }
    if (!build) {
        return VG_EXIT_OK;
    }
    struct vg_ruleset_opts opts = {.min_level = ro->min_level};
    if (vg_ruleset_build(l->set, l->map, &opts, &l->rs, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie: %s\n", err);
        return VG_EXIT_FAIL;
    }
    return VG_EXIT_OK;
}

static int parse_level(const char *s, int *out)
{
    if (vg_sigma_level_parse(s, out) != VG_OK) {
        fprintf(stderr, "vigie: unknown level '%s' (informational, low, medium, high, critical)\n",
                s);
        return VG_EXIT_USAGE;
    }
    return VG_EXIT_OK;
}

/* ---------------------------------------------------------------- hunt */

static void hunt_help(FILE *f)
{
    fprintf(f, "usage: vigie hunt --rules PATH [--rules PATH...] [options] INPUT...\n"
               "\n"
               "Run Sigma rules (detection, correlation and filter documents) over log files.\n"
               "INPUT is a file or a directory (recursed). The format is detected per file:\n"
               "EVTX, JSON (array, JSON lines, concatenated objects) or text lines (syslog\n"
               "RFC 3164/5424, auditd, plain). One record per detection goes to stdout; a\n"
               "summary (counts by level and ATT&CK tactic) goes to stderr, with a progress bar\n"
               "when stderr is a terminal.\n"
               "\n"
               "options:\n"
               "  -r, --rules PATH         rule file or directory (repeatable; required)\n"
               "  -f, --format FMT         table (default), jsonl or csv\n"
               "  -l, --min-level LEVEL    informational, low, medium, high or critical\n"
               "  -o, --output FILE        write detections to FILE instead of stdout\n"
               "  -j, --threads N          worker threads (default: number of CPUs)\n"
               "  -p, --placeholders FILE  values for %%placeholders%% (expand modifier)\n"
               "  -m, --mapping FILE       logsource mapping (default: built in; see\n"
               "                           `vigie mapping`)\n"
               "      --max-record BYTES   skip JSON records/lines longer than this (16 MiB)\n"
               "      --no-progress        no progress bar\n"
               "  -q, --quiet              no summary\n"
               "\n"
               "exit status: 0 when every input was read (whether or not anything was detected),\n"
               "1 when an input could not be read, 2 on a usage error.\n");
}

int vg_cmd_hunt(int argc, char **argv)
{
    static const struct option lo[] = {
        {"rules", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"min-level", required_argument, NULL, 'l'},
        {"output", required_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 'j'},
        {"placeholders", required_argument, NULL, 'p'},
        {"mapping", required_argument, NULL, 'm'},
        {"max-record", required_argument, NULL, 'M'},
        {"no-progress", no_argument, NULL, 'P'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rules_opts ro = {0};
    struct vg_hunt_opts ho = {.out = stdout, .summary = true, .progress = isatty(2)};
    const char *outpath = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:f:l:o:j:p:m:qh", lo, NULL)) != -1) {
        int64_t v;
        switch (c) {
        case 'r':
            if (ro.npaths == (int)VG_ARRAY_LEN(ro.paths)) {
                fprintf(stderr, "vigie: too many --rules\n");
                return VG_EXIT_USAGE;
            }
            ro.paths[ro.npaths++] = optarg;
            break;
        case 'f':
            if (!strcmp(optarg, "table")) {
                ho.format = VG_HUNT_TABLE;
            } else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json")) {
                ho.format = VG_HUNT_JSONL;
            } else if (!strcmp(optarg, "csv")) {
                ho.format = VG_HUNT_CSV;
            } else {
                fprintf(stderr, "vigie: unknown format '%s' (table, jsonl, csv)\n", optarg);
                return VG_EXIT_USAGE;
            }
            break;
        case 'l':
            if (parse_level(optarg, &ho.min_level) != VG_EXIT_OK) {
                return VG_EXIT_USAGE;
            }
            ro.min_level = ho.min_level;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'j':
            if (vg_parse_i64(optarg, strlen(optarg), &v) != VG_OK || v < 1 || v > 256) {
                fprintf(stderr, "vigie: --threads takes 1..256\n");
                return VG_EXIT_USAGE;
            }
            ho.threads = (int)v;
            break;
        case 'p':
            ro.placeholders = optarg;
            break;
        case 'm':
            ro.mapping = optarg;
            break;
        case 'M':
            if (vg_parse_i64(optarg, strlen(optarg), &v) != VG_OK || v < 1024) {
                fprintf(stderr, "vigie: --max-record takes a size in bytes (>= 1024)\n");
                return VG_EXIT_USAGE;
            }
            ho.max_record = (size_t)v;
            break;
        case 'P':
            ho.progress = false;
            break;
        case 'q':
            ho.summary = false;
            break;
        case 'h':
            hunt_help(stdout);
            return VG_EXIT_OK;
        default:
            hunt_help(stderr);
            return VG_EXIT_USAGE;
        }
    }
    if (!ro.npaths || optind >= argc) {
        fprintf(stderr, "vigie hunt: %s\n\n",
                !ro.npaths ? "--rules is required" : "no INPUT given");
        hunt_help(stderr);
        return VG_EXIT_USAGE;
    }
    ho.inputs = (const char *const *)argv + optind;
    ho.ninputs = (size_t)(argc - optind);
    struct loaded l;
    int ex = load_rules(&ro, &l, true);
    if (ex != VG_EXIT_OK) {
        loaded_free(&l);
        return ex;
    }
    uint32_t bad = 0;
    for (uint32_t i = 0; i < l.set->n; i++) {
        bad += l.set->rules[i]->status != VG_RULE_OK;
    }
    if (ho.summary) {
        const struct vg_ruleset_stats *st = vg_ruleset_stats(l.rs);
        fprintf(stderr, "vigie hunt: %u rules, %u correlations, %u filters loaded in %.0f ms%s",
                st->rules, st->correlations, st->filters, st->build_ms, bad ? "" : "\n");
        if (bad) {
            fprintf(stderr, " (%u documents not loaded: see `vigie rules check`)\n", bad);
        }
    }
    if (outpath && !(ho.out = fopen(outpath, "w"))) {
        fprintf(stderr, "vigie: %s: cannot write\n", outpath);
        loaded_free(&l);
        return VG_EXIT_USAGE;
    }
    struct vg_hunt_result res;
    int rc = vg_hunt_run(l.rs, &ho, &res);
    if (outpath) {
        fclose(ho.out);
    }
    loaded_free(&l);
    if (rc != VG_OK) {
        fprintf(stderr, "vigie hunt: %s\n", vg_strerror(rc));
        return VG_EXIT_FAIL;
    }
    return res.unreadable ? VG_EXIT_FAIL : VG_EXIT_OK;
}

/* ---------------------------------------------------------------- rules */

static void rules_help(FILE *f)
{
    fprintf(f, "usage: vigie rules check [options] PATH...\n"
               "       vigie rules list  [options] PATH...\n"
               "\n"
               "check: compile every Sigma document (rules, correlations, filters) and report\n"
               "each one's status: ok, error (with file, line and reason), needs-placeholder\n"
               "(uses %%placeholders%% without values: give --placeholders) or unsupported.\n"
               "Exit status 0 only if every document is ok or needs-placeholder.\n"
               "list: one line per document (id, level, status, logsource, title).\n"
               "\n"
               "options:\n"
               "      --format FMT         text (default) or jsonl (one record per document)\n"
               "  -p, --placeholders FILE  values for %%placeholders%%\n"
               "  -m, --mapping FILE       logsource mapping (default: built in)\n"
               "  -v, --verbose            also print warnings\n");
}

static void write_rule_jsonl(struct vg_sbuf *o, const struct vg_sigma_rule *r)
{
    static const char *const kinds[] = {"rule", "correlation", "filter"};
    vg_sbuf_adds(o, "{\"id\":");
    if (r->id) {
        vg_sbuf_add_json_str(o, r->id, strlen(r->id));
    } else {
        vg_sbuf_adds(o, "null");
    }
    vg_sbuf_adds(o, ",\"path\":");
    vg_sbuf_add_json_str(o, r->path, strlen(r->path));
    vg_sbuf_printf(o, ",\"document\":%u,\"status\":\"%s\",\"kind\":\"%s\"", r->doc,
                   vg_sigma_status_name(r->status), kinds[r->kind]);
    if (r->title) {
        vg_sbuf_adds(o, ",\"title\":");
        vg_sbuf_add_json_str(o, r->title, strlen(r->title));
    }
    if (r->level) {
        vg_sbuf_printf(o, ",\"level\":\"%s\"", vg_sigma_level_name(r->level));
    }
    if (r->message) {
        vg_sbuf_printf(o, ",\"line\":%u,\"message\":", r->err_line ? r->err_line : r->line);
        struct vg_sbuf m = VG_SBUF_INIT;
        vg_sbuf_printf(&m, "%s:%u: %s", r->path, r->err_line ? r->err_line : r->line, r->message);
        vg_sbuf_add_json_str(o, m.p, m.len);
        vg_sbuf_fini(&m);
    }
    if (r->nplaceholders) {
        vg_sbuf_adds(o, ",\"placeholders\":[");
        for (uint32_t i = 0; i < r->nplaceholders; i++) {
            if (i) {
                vg_sbuf_addc(o, ',');
            }
            vg_sbuf_add_json_str(o, r->placeholders[i], strlen(r->placeholders[i]));
        }
        vg_sbuf_addc(o, ']');
    }
    if (r->nwarnings) {
        vg_sbuf_adds(o, ",\"warnings\":[");
        for (uint32_t i = 0; i < r->nwarnings; i++) {
            if (i) {
                vg_sbuf_addc(o, ',');
            }
            vg_sbuf_add_json_str(o, r->warnings[i], strlen(r->warnings[i]));
        }
        vg_sbuf_addc(o, ']');
    }
    vg_sbuf_adds(o, "}\n");
}

int vg_cmd_rules(int argc, char **argv)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},  {"placeholders", required_argument, NULL, 'p'},
        {"mapping", required_argument, NULL, 'm'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        rules_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
    }
    bool list = !strcmp(argv[1], "list");
    if (!list && strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "vigie rules: unknown action '%s' (check, list)\n", argv[1]);
        return VG_EXIT_USAGE;
    }
    struct rules_opts ro = {0};
    bool jsonl = false, verbose = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "f:p:m:vh", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "jsonl") && strcmp(optarg, "text")) {
                fprintf(stderr, "vigie: unknown format '%s' (text, jsonl)\n", optarg);
                return VG_EXIT_USAGE;
            }
            jsonl = !strcmp(optarg, "jsonl");
            break;
        case 'p':
            ro.placeholders = optarg;
            break;
        case 'm':
            ro.mapping = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            rules_help(stdout);
            return VG_EXIT_OK;
        default:
            rules_help(stderr);
            return VG_EXIT_USAGE;
        }
    }
    for (int i = optind + 1; i < argc && ro.npaths < (int)VG_ARRAY_LEN(ro.paths); i++) {
        ro.paths[ro.npaths++] = argv[i];
    }
    if (!ro.npaths) {
        fprintf(stderr, "vigie rules %s: no PATH given\n", argv[1]);
        return VG_EXIT_USAGE;
    }
    uint64_t t0 = vg_clock_ns();
    struct loaded l;
    int ex = load_rules(&ro, &l, true);
    if (ex == VG_EXIT_USAGE || !l.set) {
        loaded_free(&l);
        return ex;
    }
    double ms = (double)(vg_clock_ns() - t0) / 1e6;
    uint32_t count[4] = {0};
    struct vg_sbuf o = VG_SBUF_INIT;
    for (uint32_t i = 0; i < l.set->n; i++) {
        const struct vg_sigma_rule *r = l.set->rules[i];
        count[r->status]++;
        if (jsonl) {
            write_rule_jsonl(&o, r);
        } else if (list) {
            vg_sbuf_printf(
                &o, "%-36s  %-13s  %-17s  %s/%s/%s  %s\n", r->id ? r->id : "-",
                r->level ? vg_sigma_level_name(r->level) : "-", vg_sigma_status_name(r->status),
                r->logsource.product ? r->logsource.product : "*",
                r->logsource.category ? r->logsource.category : "*",
                r->logsource.service ? r->logsource.service : "*", r->title ? r->title : "");
        } else {
            if (r->status != VG_RULE_OK) {
                vg_sbuf_printf(&o, "%s:%u: %s: %s\n", r->path, r->err_line ? r->err_line : r->line,
                               vg_sigma_status_name(r->status), r->message ? r->message : "");
            }
            for (uint32_t w = 0; verbose && w < r->nwarnings; w++) {
                vg_sbuf_printf(&o, "%s: warning: %s\n", r->path, r->warnings[w]);
            }
        }
        if (o.len > 65536) {
            fwrite(o.p, 1, o.len, stdout);
            vg_sbuf_reset(&o);
        }
    }
    if (o.len) {
        fwrite(o.p, 1, o.len, stdout);
    }
    vg_sbuf_fini(&o);
    fprintf(stderr,
            "%u documents in %llu files: %u ok, %u error, %u needs-placeholder, %u unsupported "
            "(%.0f ms)\n",
            l.set->n, (unsigned long long)l.set->files, count[VG_RULE_OK], count[VG_RULE_ERROR],
            count[VG_RULE_NEEDS_PLACEHOLDER], count[VG_RULE_UNSUPPORTED], ms);
    if (l.rs && !jsonl) {
        const struct vg_ruleset_stats *st = vg_ruleset_stats(l.rs);
        fprintf(stderr,
                "ruleset: %u rules → %u variants over %u logsource routes, %u correlations, %u "
                "filters; prefilter: %u patterns in %u databases, %u variants without a "
                "witness\n",
                st->rules, st->variants, st->routes, st->correlations, st->filters, st->literals,
                st->databases, st->unwitnessed);
    }
    loaded_free(&l);
    if (ex != VG_EXIT_OK) {
        return ex;
    }
    return count[VG_RULE_ERROR] || count[VG_RULE_UNSUPPORTED] ? VG_EXIT_FAIL : VG_EXIT_OK;
}

/* ---------------------------------------------------------------- misc */

int vg_cmd_mapping(int argc, char **argv)
{
    VG_UNUSED(argc);
    VG_UNUSED(argv);
    size_t len;
    const char *text = vg_mapping_default_text(&len);
    fwrite(text, 1, len, stdout);
    return VG_EXIT_OK;
}

int vg_cmd_version(int argc, char **argv)
{
    VG_UNUSED(argc);
    VG_UNUSED(argv);
    printf("vigie %s\n", VG_VERSION);
    return VG_EXIT_OK;
}

int vg_cmd_demo(int argc, char **argv)
{
    VG_UNUSED(argc);
    char rules[2048], logs[2048];
    snprintf(rules, sizeof(rules), "%s/examples/rules", VG_SOURCE_DIR);
    snprintf(logs, sizeof(logs), "%s/examples/logs", VG_SOURCE_DIR);
    if (access(rules, R_OK) != 0 || access(logs, R_OK) != 0) {
        fprintf(stderr, "vigie demo: examples not found under %s\n", VG_SOURCE_DIR);
        return VG_EXIT_FAIL;
    }
    printf("vigie demo: hunting %s with the rules in %s\n"
           "(the same as: vigie hunt --rules %s %s)\n\n",
           logs, rules, rules, logs);
    fflush(stdout);
    char *av[] = {argv[0], "--rules", rules, "--no-progress", logs, NULL};
    return vg_cmd_hunt(5, av);
}
