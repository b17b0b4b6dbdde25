/*
 * vigie_intel.c — `vigie intel`: the threat-intelligence store from the command line (import,
 * stats, list, search, objects, match, expire, remove, policy, export, taxii). Works on the
 * store directory directly (the server reads the same directory and picks changes up).
 */
#include "bin/vigie_cmd.h"
#include "event/event.h"
#include "intel/intel_db.h"
#include "intel/intel_export.h"
#include "intel/intel_taxii.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_BYTES (16u << 20)

struct iopts {
    const char *db;
    const char *format;
    const char *source;
    const char *type;
    const char *preset;
    const char *map;
    const char *out;
    long limit, offset;
    bool json, all, misp_all, objects;
    int confidence;      /* -1: not given */
    int64_t half_life_s; /* -1: not given */
    int64_t max_age_s;   /* -1: not given */
    uint32_t now;
    /* taxii */
    const char *url, *collection, *user, *password_file, *token_file, *ca, *added_after;
    bool list_collections;
    uint32_t page_limit;
};

static void usage(FILE *f)
{
    fputs(
        "usage: vigie intel COMMAND --db DIR [options]\n"
        "  import FILE...      import STIX 2.x bundles, MISP events or feed directories, CSV or\n"
        "                      plain lists, MISP warninglists (format detected, or --format\n"
        "                      stix|misp|csv|warninglist); each file replaces its source\n"
        "                      (--source NAME, default the file's base name)\n"
        "      --preset P --map M --type T   CSV: preset (urlhaus feodo threatfox bazaar sslbl\n"
        "                      ja3 plain spamhaus-drop), column mapping, value type\n"
        "      --misp-all      MISP: also attributes with to_ids false\n"
        "      --confidence N --half-life DUR --max-age DUR   the source's policy\n"
        "  stats [--format json|text]       counts by source, indicator and object type\n"
        "  list [--type T] [--source S] [--limit N] [--offset N]   indicators as JSON lines\n"
        "  search QUERY [--type T] [--source S] [--objects] [--limit N]\n"
        "  match [--format jsonl|text] [--all] [FILE|-]   each line a value or a JSON event;\n"
        "                      one record per hit (--all: warninglisted indicators too)\n"
        "  expire [--now UNIX]  drop indicators whose valid_until has passed\n"
        "  remove SOURCE        drop a source\n"
        "  policy SOURCE [--confidence N] [--half-life DUR] [--max-age DUR]\n"
        "  export --format suricata|zeek --out DIR|FILE   Suricata datasets or a Zeek intel file\n"
        "  taxii --url API_ROOT --collection ID [--source S] [--user U --password-file F |\n"
        "        --token-file F] [--ca FILE] [--added-after TIME] [--list]\n"
        "  --db DIR is the store (created on import); --data DIR means DIR/intel.\n",
        f);
}

static int parse_duration_s(const char *s, int64_t *out)
{
    int64_t ns;
    if (vg_duration_parse(s, strlen(s), &ns) != VG_OK || ns < 0) {
        return VG_EINVAL;
    }
    *out = ns / 1000000000;
    return VG_OK;
}

static int parse_opts(int argc, char **argv, struct iopts *o)
{
    static char dbbuf[4096];
    enum {
        O_DB = 256,
        O_DATA,
        O_SOURCE,
        O_PRESET,
        O_MAP,
        O_TYPE,
        O_MISP_ALL,
        O_CONF,
        O_HALF,
        O_AGE,
        O_LIMIT,
        O_OFFSET,
        O_OUT,
        O_NOW,
        O_URL,
        O_COLL,
        O_USER,
        O_PWF,
        O_TOKF,
        O_CA,
        O_AFTER,
        O_LIST,
        O_OBJECTS,
        O_ALL,
        O_PAGE
    };
    static const struct option lo[] = {
        {"db", required_argument, 0, O_DB},
        {"data", required_argument, 0, O_DATA},
        {"format", required_argument, 0, 'f'},
        {"source", required_argument, 0, O_SOURCE},
        {"preset", required_argument, 0, O_PRESET},
        {"map", required_argument, 0, O_MAP},
        {"type", required_argument, 0, O_TYPE},
        {"misp-all", no_argument, 0, O_MISP_ALL},
        {"confidence", required_argument, 0, O_CONF},
        {"half-life", required_argument, 0, O_HALF},
        {"max-age", required_argument, 0, O_AGE},
        {"limit", required_argument, 0, O_LIMIT},
        {"offset", required_argument, 0, O_OFFSET},
        {"out", required_argument, 0, O_OUT},
        {"now", required_argument, 0, O_NOW},
        {"url", required_argument, 0, O_URL},
        {"collection", required_argument, 0, O_COLL},
        {"user", required_argument, 0, O_USER},
        {"password-file", required_argument, 0, O_PWF},
        {"token-file", required_argument, 0, O_TOKF},
        {"ca", required_argument, 0, O_CA},
        {"added-after", required_argument, 0, O_AFTER},
        {"list", no_argument, 0, O_LIST},
        {"objects", no_argument, 0, O_OBJECTS},
        {"all", no_argument, 0, O_ALL},
        {"page-limit", required_argument, 0, O_PAGE},
        {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    int64_t v;
    o->confidence = -1;
    o->half_life_s = o->max_age_s = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:jh", lo, NULL)) != -1) {
        switch (c) {
        case O_DB:
            o->db = optarg;
            break;
        case O_DATA:
            snprintf(dbbuf, sizeof(dbbuf), "%s/intel", optarg);
            o->db = dbbuf;
            break;
        case 'f':
            o->format = optarg;
            break;
        case O_SOURCE:
            o->source = optarg;
            break;
        case O_PRESET:
            o->preset = optarg;
            break;
        case O_MAP:
            o->map = optarg;
            break;
        case O_TYPE:
            o->type = optarg;
            break;
        case O_MISP_ALL:
            o->misp_all = true;
            break;
        case O_OBJECTS:
            o->objects = true;
            break;
        case O_ALL:
            o->all = true;
            break;
        case O_LIST:
            o->list_collections = true;
            break;
        case 'j':
            o->json = true;
            break;
        case O_OUT:
            o->out = optarg;
            break;
        case O_URL:
            o->url = optarg;
            break;
        case O_COLL:
            o->collection = optarg;
            break;
        case O_USER:
            o->user = optarg;
            break;
        case O_PWF:
            o->password_file = optarg;
            break;
        case O_TOKF:
            o->token_file = optarg;
            break;
        case O_CA:
            o->ca = optarg;
            break;
        case O_AFTER:
            o->added_after = optarg;
            break;
        case O_CONF:
        case O_LIMIT:
        case O_OFFSET:
        case O_NOW:
        case O_PAGE:
            if (vg_parse_i64(optarg, strlen(optarg), &v) != VG_OK || v < 0 ||
                (c == O_CONF && v > 100) || v > UINT32_MAX) {
                fprintf(stderr, "vigie intel: '%s' is not a valid number here\n", optarg);
                return VG_EXIT_USAGE;
            }
            if (c == O_CONF) {
                o->confidence = (int)v;
            } else if (c == O_LIMIT) {
                o->limit = (long)v;
            } else if (c == O_OFFSET) {
                o->offset = (long)v;
            } else if (c == O_NOW) {
                o->now = (uint32_t)v;
            } else {
                o->page_limit = (uint32_t)v;
            }
            break;
        case O_HALF:
        case O_AGE:
            if (parse_duration_s(optarg, c == O_HALF ? &o->half_life_s : &o->max_age_s) != VG_OK) {
                fprintf(stderr, "vigie intel: --%s: '%s' is not a duration (e.g. 30d, 12h)\n",
                        c == O_HALF ? "half-life" : "max-age", optarg);
                return VG_EXIT_USAGE;
            }
            break;
        case 'h':
            usage(stdout);
            exit(VG_EXIT_OK);
        default:
            usage(stderr);
            return VG_EXIT_USAGE;
        }
    }
    if (!o->db) {
        fprintf(stderr, "vigie intel: --db DIR (or --data DIR) is required\n");
        return VG_EXIT_USAGE;
    }
    return VG_EXIT_OK;
}

static int open_db(const struct iopts *o, bool create, struct vg_intel_db **db)
{
    char err[512];
    if (vg_intel_db_open(o->db, create, db, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel: %s\n", err);
        return VG_EXIT_FAIL;
    }
    return VG_EXIT_OK;
}

static int load_snap(struct vg_intel_db *db, struct vg_intel_snap **s)
{
    char err[512];
    if (vg_intel_db_load(db, s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel: %s\n", err);
        return VG_EXIT_FAIL;
    }
    return VG_EXIT_OK;
}

static uint32_t now_of(const struct iopts *o)
{
    return o->now ? o->now : (uint32_t)time(NULL);
}

static int parse_type(const char *name, enum vg_intel_type *t)
{
    *t = VG_INTEL_TYPE_COUNT;
    if (name && vg_intel_type_parse(name, strlen(name), t) != VG_OK) {
        fprintf(stderr, "vigie intel: unknown indicator type '%s'\n", name);
        return VG_EXIT_USAGE;
    }
    return VG_EXIT_OK;
}

/* ---------------------------------------------------------------- import */

static const char *const rej_names[VG_INTEL_REJ_COUNT] = {"malformed", "compound", "unsupported",
                                                          "not to_ids", "revoked"};

static void print_report(const char *path, const struct vg_intel_import_report *r, bool json)
{
    if (json) {
        struct vg_sbuf b = VG_SBUF_INIT;
        vg_sbuf_adds(&b, "{\"file\":");
        vg_sbuf_add_json_str(&b, path, strlen(path));
        vg_sbuf_adds(&b, ",\"source\":");
        vg_sbuf_add_json_str(&b, r->source, strlen(r->source));
        vg_sbuf_printf(&b,
                       ",\"format\":\"%s\",\"generation\":%llu,\"indicators\":%llu,"
                       "\"duplicates\":%llu,\"warninglisted\":%llu,\"expired\":%llu,"
                       "\"objects\":%llu,\"relationships\":%llu,\"seconds\":%.3f,\"by_type\":{",
                       vg_intel_format_name(r->format), (unsigned long long)r->generation,
                       (unsigned long long)r->indicators, (unsigned long long)r->duplicates,
                       (unsigned long long)r->warninglisted, (unsigned long long)r->expired,
                       (unsigned long long)r->objects, (unsigned long long)r->relationships,
                       r->seconds);
        for (int t = 0, k = 0; t < VG_INTEL_TYPE_COUNT; t++) {
            if (r->by_type[t]) {
                vg_sbuf_printf(&b, "%s\"%s\":%llu", k++ ? "," : "",
                               vg_intel_type_name((enum vg_intel_type)t),
                               (unsigned long long)r->by_type[t]);
            }
        }
        vg_sbuf_adds(&b, "},\"rejected\":{");
        for (int i = 0, k = 0; i < VG_INTEL_REJ_COUNT; i++) {
            if (r->rejected[i]) {
                vg_sbuf_printf(&b, "%s\"%s\":{\"count\":%llu,\"first\":", k++ ? "," : "",
                               rej_names[i], (unsigned long long)r->rejected[i]);
                vg_sbuf_add_json_str(&b, r->first_reject[i], strlen(r->first_reject[i]));
                vg_sbuf_addc(&b, '}');
            }
        }
        vg_sbuf_adds(&b, "}}\n");
        fwrite(b.p, 1, b.len, stdout);
        vg_sbuf_fini(&b);
        return;
    }
    printf("%s: source %s (%s), generation %llu: %llu %s", path, r->source,
           vg_intel_format_name(r->format), (unsigned long long)r->generation,
           (unsigned long long)r->indicators,
           r->format == VG_INTEL_FMT_WARNINGLIST ? "warninglist entries" : "indicators");
    int k = 0;
    for (int t = 0; t < VG_INTEL_TYPE_COUNT; t++) {
        if (r->by_type[t]) {
            printf("%s%s %llu", k++ ? ", " : " (", vg_intel_type_name((enum vg_intel_type)t),
                   (unsigned long long)r->by_type[t]);
        }
    }
    printf("%s, %llu objects (%llu relationships), %llu warninglisted, %llu expired, "
           "%llu duplicates, %.2f s\n",
           k ? ")" : "", (unsigned long long)r->objects, (unsigned long long)r->relationships,
           (unsigned long long)r->warninglisted, (unsigned long long)r->expired,
           (unsigned long long)r->duplicates, r->seconds);
    for (int i = 0; i < VG_INTEL_REJ_COUNT; i++) {
        if (r->rejected[i]) {
            printf("  %llu %s, first: %s\n", (unsigned long long)r->rejected[i], rej_names[i],
                   r->first_reject[i]);
        }
    }
}

static int cmd_import(struct iopts *o, int argc, char **argv)
{
    struct vg_intel_db *db = NULL;
    enum vg_intel_format fmt = VG_INTEL_FMT_AUTO;
    struct vg_intel_policy pol = {50, 0, 0};
    struct vg_intel_import_opts io = {0};
    int rc = VG_EXIT_OK;
    if (optind >= argc) {
        fprintf(stderr, "vigie intel import: no FILE given\n");
        return VG_EXIT_USAGE;
    }
    if (o->source && argc - optind > 1) {
        fprintf(stderr, "vigie intel import: --source names one source: give one FILE\n");
        return VG_EXIT_USAGE;
    }
    if (o->format && vg_intel_format_parse(o->format, &fmt) != VG_OK) {
        fprintf(stderr, "vigie intel import: unknown format '%s' (stix, misp, csv, warninglist)\n",
                o->format);
        return VG_EXIT_USAGE;
    }
    if ((rc = parse_type(o->type, &io.csv_type)) != VG_EXIT_OK ||
        (rc = open_db(o, true, &db)) != VG_EXIT_OK) {
        return rc;
    }
    io.csv_preset = o->preset;
    io.csv_map = o->map;
    io.misp_all = o->misp_all;
    io.now = o->now;
    if (o->confidence >= 0 || o->half_life_s >= 0 || o->max_age_s >= 0) {
        pol.confidence = (uint8_t)(o->confidence >= 0 ? o->confidence : 50);
        pol.half_life_s = (uint32_t)(o->half_life_s > 0 ? o->half_life_s : 0);
        pol.max_age_s = (uint32_t)(o->max_age_s > 0 ? o->max_age_s : 0);
        io.policy = &pol;
    }
    for (int i = optind; i < argc; i++) {
        struct vg_intel_import_report rep;
        char err[1024];
        int r = vg_intel_db_import_file(db, argv[i], o->source, fmt, &io, &rep, err, sizeof(err));
        if (r != VG_OK) {
            fprintf(stderr, "vigie intel import: %s\n", err[0] ? err : vg_strerror(r));
            rc = VG_EXIT_FAIL;
            continue;
        }
        print_report(argv[i], &rep, o->json);
    }
    vg_intel_db_close(db);
    return rc;
}

/* ---------------------------------------------------------------- stats */

static int cmd_stats(struct iopts *o)
{
    struct vg_intel_db *db = NULL;
    struct vg_sbuf b = VG_SBUF_INIT;
    char err[512];
    int rc = open_db(o, false, &db);
    if (rc != VG_EXIT_OK) {
        return rc;
    }
    if (vg_intel_db_stats_json(db, now_of(o), &b, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel stats: %s\n", err);
        rc = VG_EXIT_FAIL;
    } else if (o->format && strcmp(o->format, "json") == 0) {
        printf("%s\n", b.p);
    } else {
        /* text: the JSON is the source of truth; print the headline figures from it */
        struct vg_json_parser *p = vg_json_parser_create(NULL);
        struct vg_arena *a = vg_arena_create(64 * 1024);
        struct vg_json *doc = NULL;
        size_t used;
        if (p && a && vg_json_parse(p, a, b.p, b.len, &used, &doc, NULL, 0) == VG_OK) {
            const struct vg_json *ind = vg_json_get(doc, "indicators");
            const struct vg_json *obj = vg_json_get(doc, "objects");
            const struct vg_json *srcs = vg_json_get(doc, "sources");
            const struct vg_json *bt = vg_json_get(ind, "by_type");
            const struct vg_json *ot = vg_json_get(obj, "by_type");
            printf("generation %.*s\n", (int)vg_json_get(doc, "generation")->n,
                   vg_json_get(doc, "generation")->s);
            printf("indicators %.*s (warninglisted %.*s, expired %.*s)\n",
                   (int)vg_json_get(ind, "total")->n, vg_json_get(ind, "total")->s,
                   (int)vg_json_get(ind, "warninglisted")->n, vg_json_get(ind, "warninglisted")->s,
                   (int)vg_json_get(ind, "expired")->n, vg_json_get(ind, "expired")->s);
            for (uint32_t i = 0; bt && i < bt->n; i++) {
                printf("  %-12.*s %.*s\n", (int)bt->u.items[2 * i].n, bt->u.items[2 * i].s,
                       (int)bt->u.items[2 * i + 1].n, bt->u.items[2 * i + 1].s);
            }
            printf("objects %.*s, relationships %.*s\n", (int)vg_json_get(obj, "total")->n,
                   vg_json_get(obj, "total")->s, (int)vg_json_get(doc, "relationships")->n,
                   vg_json_get(doc, "relationships")->s);
            for (uint32_t i = 0; ot && i < ot->n; i++) {
                const struct vg_json *v = &ot->u.items[2 * i + 1];
                printf("  %-28.*s %.*s (active %.*s)\n", (int)ot->u.items[2 * i].n,
                       ot->u.items[2 * i].s, (int)vg_json_get(v, "count")->n,
                       vg_json_get(v, "count")->s, (int)vg_json_get(v, "active")->n,
                       vg_json_get(v, "active")->s);
            }
            for (uint32_t i = 0; srcs && i < srcs->n; i++) {
                const struct vg_json *s = &srcs->u.items[i];
                printf("source %.*s: %.*s, %.*s indicators, %.*s objects, imported %.*s\n",
                       (int)vg_json_get(s, "name")->n, vg_json_get(s, "name")->s,
                       (int)vg_json_get(s, "format")->n, vg_json_get(s, "format")->s,
                       (int)vg_json_get(s, "indicators")->n, vg_json_get(s, "indicators")->s,
                       (int)vg_json_get(s, "objects")->n, vg_json_get(s, "objects")->s,
                       (int)vg_json_get(s, "imported")->n, vg_json_get(s, "imported")->s);
            }
        } else {
            printf("%s\n", b.p);
        }
        vg_arena_destroy(a);
        vg_json_parser_destroy(p);
    }
    vg_sbuf_fini(&b);
    vg_intel_db_close(db);
    return rc;
}

/* ---------------------------------------------------------------- list / search */

static int print_json_line(void *u, const char *json, size_t len)
{
    (void)u;
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
}

static int cmd_search(struct iopts *o, const char *q)
{
    struct vg_intel_db *db = NULL;
    struct vg_intel_snap *s = NULL;
    enum vg_intel_type t;
    long n;
    int rc = parse_type(o->type, &t);
    if (rc != VG_EXIT_OK || (rc = open_db(o, false, &db)) != VG_EXIT_OK ||
        (rc = load_snap(db, &s)) != VG_EXIT_OK) {
        vg_intel_db_close(db);
        return rc;
    }
    n = o->objects ? vg_intel_snap_objects(s, q, o->type, (size_t)o->offset, (size_t)o->limit,
                                           print_json_line, NULL)
                   : vg_intel_snap_search(s, q, t, o->source, now_of(o), (size_t)o->offset,
                                          (size_t)o->limit, print_json_line, NULL);
    fprintf(stderr, "vigie intel: %ld %s\n", n < 0 ? 0 : n, o->objects ? "objects" : "indicators");
    vg_intel_snap_unref(s);
    vg_intel_db_close(db);
    return n < 0 ? VG_EXIT_FAIL : VG_EXIT_OK;
}

/* ---------------------------------------------------------------- match */

struct match_ctx {
    const struct vg_intel_snap *s;
    uint32_t now;
    uint64_t line, hits, unknown; /* unknown: lines that are neither an indicator nor JSON */
    bool text;
    struct vg_sbuf out;
};

static void emit_hit(struct match_ctx *m, const char *field, const char *v, size_t n,
                     const struct vg_intel_hit *hit)
{
    struct vg_sbuf *b = &m->out;
    vg_sbuf_reset(b);
    m->hits++;
    if (m->text) {
        vg_sbuf_printf(b, "line %llu: %s%s%.*s hits %s indicator of %s (confidence %u%s)\n",
                       (unsigned long long)m->line, field ? field : "", field ? " " : "", (int)n, v,
                       vg_intel_type_name(hit->type),
                       vg_intel_snap_source_name(m->s, hit->ctx->source), hit->ctx->confidence,
                       hit->ctx->flags & VG_INTEL_F_WARNINGLISTED ? ", warninglisted" : "");
        fwrite(b->p, 1, b->len, stdout);
        return;
    }
    vg_sbuf_printf(b, "{\"line\":%llu", (unsigned long long)m->line);
    if (field) {
        vg_sbuf_adds(b, ",\"field\":");
        vg_sbuf_add_json_str(b, field, strlen(field));
    }
    vg_sbuf_adds(b, ",\"value\":");
    vg_sbuf_add_json_str(b, v, n);
    vg_sbuf_adds(b, ",\"indicator\":");
    vg_intel_snap_describe(m->s, hit, m->now, b);
    vg_sbuf_adds(b, "}\n");
    fwrite(b->p, 1, b->len, stdout);
}

static int on_event_hit(void *u, const struct vg_intel_match *mt)
{
    emit_hit(u, mt->field, mt->value, mt->value_len, &mt->hit);
    return 0;
}

static int match_stream(struct match_ctx *m, FILE *in, unsigned flags)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(64 * 1024);
    struct vg_event *ev = vg_event_create();
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t bad = 0;
    if (!p || !a || !ev) {
        vg_json_parser_destroy(p);
        vg_arena_destroy(a);
        vg_event_destroy(ev);
        return VG_ENOMEM;
    }
    while ((n = getline(&line, &cap, in)) > 0) {
        size_t len = (size_t)n, i = 0;
        m->line++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ')) {
            len--;
        }
        while (i < len && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        if (i == len || line[i] == '#') {
            continue;
        }
        if (line[i] == '{') {
            struct vg_json *doc = NULL;
            char err[160];
            size_t used;
            vg_arena_reset(a);
            vg_event_reset(ev);
            if (vg_json_parse(p, a, line + i, len - i, &used, &doc, err, sizeof(err)) != VG_OK ||
                vg_event_from_json(ev, doc, NULL) != VG_OK) {
                if (bad++ < 5) {
                    fprintf(stderr, "vigie intel match: line %llu: not a JSON event: %s\n",
                            (unsigned long long)m->line, err);
                }
                continue;
            }
            vg_intel_snap_match_event(m->s, ev, m->now, flags, on_event_hit, m);
        } else {
            struct vg_intel_hit hit;
            int rc = vg_intel_snap_match_value(m->s, VG_INTEL_TYPE_COUNT, line + i, len - i, m->now,
                                               flags, &hit);
            if (rc == VG_OK) {
                emit_hit(m, NULL, line + i, len - i, &hit);
            } else if (rc == VG_EINVAL && m->unknown++ < 5) {
                fprintf(stderr,
                        "vigie intel match: line %llu: '%.*s' is not an address, domain, URL, "
                        "email or hash\n",
                        (unsigned long long)m->line, (int)(len - i > 80 ? 80 : len - i), line + i);
            }
        }
    }
    free(line);
    vg_event_destroy(ev);
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    if (bad > 5) {
        fprintf(stderr, "vigie intel match: %llu lines were not JSON events\n",
                (unsigned long long)bad);
    }
    return VG_OK;
}

static int cmd_match(struct iopts *o, int argc, char **argv)
{
    struct vg_intel_db *db = NULL;
    struct vg_intel_snap *s = NULL;
    struct match_ctx m = {0};
    FILE *in = stdin;
    uint64_t t0;
    int rc;
    if (o->format && strcmp(o->format, "jsonl") != 0 && strcmp(o->format, "text") != 0) {
        fprintf(stderr, "vigie intel match: --format jsonl or text\n");
        return VG_EXIT_USAGE;
    }
    if (optind < argc && strcmp(argv[optind], "-") != 0 && !(in = fopen(argv[optind], "re"))) {
        fprintf(stderr, "vigie intel match: %s: cannot open\n", argv[optind]);
        return VG_EXIT_FAIL;
    }
    if ((rc = open_db(o, false, &db)) != VG_EXIT_OK || (rc = load_snap(db, &s)) != VG_EXIT_OK) {
        vg_intel_db_close(db);
        if (in != stdin) {
            fclose(in);
        }
        return rc;
    }
    m.s = s;
    m.now = now_of(o);
    m.text = o->format && strcmp(o->format, "text") == 0;
    t0 = vg_clock_ns();
    rc = match_stream(&m, in, o->all ? VG_INTEL_MATCH_WARNINGLISTED : 0);
    fflush(stdout);
    fprintf(stderr,
            "vigie intel match: %llu lines, %llu hits against %zu indicators, %.3f s%s%.0llu%s\n",
            (unsigned long long)m.line, (unsigned long long)m.hits, vg_intel_snap_count(s),
            (double)(vg_clock_ns() - t0) / 1e9, m.unknown ? " (" : "",
            (unsigned long long)m.unknown, m.unknown ? " lines not recognised)" : "");
    vg_sbuf_fini(&m.out);
    vg_intel_snap_unref(s);
    vg_intel_db_close(db);
    if (in != stdin) {
        fclose(in);
    }
    return rc == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
}

/* ---------------------------------------------------------------- maintenance */

static int cmd_expire(struct iopts *o)
{
    struct vg_intel_db *db = NULL;
    uint64_t removed = 0;
    char err[512];
    int rc = open_db(o, false, &db);
    if (rc != VG_EXIT_OK) {
        return rc;
    }
    if (vg_intel_db_expire(db, now_of(o), &removed, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel expire: %s\n", err);
        rc = VG_EXIT_FAIL;
    } else {
        printf("%llu expired indicators removed (generation %llu)\n", (unsigned long long)removed,
               (unsigned long long)vg_intel_db_generation(db));
    }
    vg_intel_db_close(db);
    return rc;
}

static int cmd_remove(struct iopts *o, int argc, char **argv)
{
    struct vg_intel_db *db = NULL;
    char err[512];
    int rc;
    if (optind >= argc) {
        fprintf(stderr, "vigie intel remove: SOURCE required\n");
        return VG_EXIT_USAGE;
    }
    if ((rc = open_db(o, false, &db)) != VG_EXIT_OK) {
        return rc;
    }
    if (vg_intel_db_remove(db, argv[optind], err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel remove: %s\n", err);
        rc = VG_EXIT_FAIL;
    } else {
        printf("source %s removed\n", argv[optind]);
    }
    vg_intel_db_close(db);
    return rc;
}

static int cmd_policy(struct iopts *o, int argc, char **argv)
{
    struct vg_intel_db *db = NULL;
    struct vg_intel_policy pol;
    char err[512];
    int rc;
    if (optind >= argc) {
        fprintf(stderr, "vigie intel policy: SOURCE required\n");
        return VG_EXIT_USAGE;
    }
    pol.confidence = (uint8_t)(o->confidence >= 0 ? o->confidence : 50);
    pol.half_life_s = (uint32_t)(o->half_life_s > 0 ? o->half_life_s : 0);
    pol.max_age_s = (uint32_t)(o->max_age_s > 0 ? o->max_age_s : 0);
    if ((rc = open_db(o, false, &db)) != VG_EXIT_OK) {
        return rc;
    }
    if (vg_intel_db_set_policy(db, argv[optind], &pol, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel policy: %s\n", err);
        rc = VG_EXIT_FAIL;
    } else {
        printf("source %s: confidence %u, half-life %us, max-age %us\n", argv[optind],
               pol.confidence, pol.half_life_s, pol.max_age_s);
    }
    vg_intel_db_close(db);
    return rc;
}

static int export_one(void *u, const char *source, const struct vg_intel_rec *r)
{
    return vg_intel_export_add(u, source, r) == VG_OK ? 0 : -1;
}

static int cmd_export(struct iopts *o)
{
    struct vg_intel_db *db = NULL;
    struct vg_intel_snap *s = NULL;
    struct vg_intel_export *x = NULL;
    enum vg_intel_export_fmt f;
    struct vg_sbuf sum = VG_SBUF_INIT;
    char err[512];
    int rc;
    if (!o->format || vg_intel_export_fmt_parse(o->format, &f) != VG_OK || !o->out) {
        fprintf(stderr, "vigie intel export: --format suricata|zeek and --out are required\n");
        return VG_EXIT_USAGE;
    }
    if ((rc = open_db(o, false, &db)) != VG_EXIT_OK || (rc = load_snap(db, &s)) != VG_EXIT_OK) {
        vg_intel_db_close(db);
        return rc;
    }
    if (vg_intel_export_create(f, o->out, now_of(o), o->all ? VG_INTEL_EXPORT_WARNINGLISTED : 0, &x,
                               err, sizeof(err)) != VG_OK ||
        vg_intel_snap_foreach(s, export_one, x) != VG_OK ||
        vg_intel_export_finish(x, &sum, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel export: %s\n", err);
        rc = VG_EXIT_FAIL;
    } else if (sum.p) {
        fputs(sum.p, stdout);
        if (sum.len && sum.p[sum.len - 1] != '\n') {
            fputc('\n', stdout);
        }
    }
    vg_sbuf_fini(&sum);
    vg_intel_export_destroy(x);
    vg_intel_snap_unref(s);
    vg_intel_db_close(db);
    return rc;
}

/* A secret from a file: first line, without the newline. Never printed. */
static char *read_secret(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (vg_file_read(path, 64 * 1024, &text, &len) != VG_OK) {
        fprintf(stderr, "vigie intel taxii: %s: cannot read\n", path);
        return NULL;
    }
    text[strcspn(text, "\r\n")] = 0;
    return text;
}

static int cmd_taxii(struct iopts *o)
{
    struct vg_intel_db *db = NULL;
    struct vg_intel_taxii_opts t = {0};
    struct vg_intel_import_report rep;
    char *password = NULL, *token = NULL, err[1024];
    uint32_t pages = 0;
    uint64_t objects = 0;
    int rc = VG_EXIT_OK;
    if (!o->url || (!o->collection && !o->list_collections)) {
        fprintf(stderr, "vigie intel taxii: --url API_ROOT and --collection ID are required\n");
        return VG_EXIT_USAGE;
    }
    if ((o->password_file && !(password = read_secret(o->password_file))) ||
        (o->token_file && !(token = read_secret(o->token_file)))) {
        rc = VG_EXIT_FAIL;
        goto out;
    }
    t = (struct vg_intel_taxii_opts){.api_root = o->url,
                                     .collection = o->collection,
                                     .source = o->source,
                                     .user = o->user,
                                     .password = password,
                                     .token = token,
                                     .ca_file = o->ca,
                                     .added_after = o->added_after,
                                     .page_limit = o->page_limit};
    if (o->list_collections) {
        struct vg_sbuf b = VG_SBUF_INIT;
        if (vg_intel_taxii_collections(&t, &b, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "vigie intel taxii: %s\n", err);
            rc = VG_EXIT_FAIL;
        } else {
            printf("%s\n", b.p ? b.p : "");
        }
        vg_sbuf_fini(&b);
        goto out;
    }
    if ((rc = open_db(o, true, &db)) != VG_EXIT_OK) {
        goto out;
    }
    if (vg_intel_taxii_pull(db, &t, &rep, &pages, &objects, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie intel taxii: %s\n", err);
        rc = VG_EXIT_FAIL;
    } else {
        printf("%s: %u pages, %llu objects pulled\n", o->url, pages, (unsigned long long)objects);
        print_report(o->url, &rep, o->json);
    }
out:
    vg_intel_db_close(db);
    free(password);
    free(token);
    return rc;
}

int vg_cmd_intel(int argc, char **argv)
{
    struct iopts o = {0};
    const char *cmd;
    int rc;
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
    }
    cmd = argv[1];
    if ((rc = parse_opts(argc - 1, argv + 1, &o)) != VG_EXIT_OK) {
        return rc;
    }
    argc--;
    argv++;
    if (strcmp(cmd, "import") == 0) {
        return cmd_import(&o, argc, argv);
    }
    if (strcmp(cmd, "stats") == 0) {
        return cmd_stats(&o);
    }
    if (strcmp(cmd, "list") == 0) {
        return cmd_search(&o, NULL);
    }
    if (strcmp(cmd, "search") == 0) {
        if (optind >= argc) {
            fprintf(stderr, "vigie intel search: QUERY required\n");
            return VG_EXIT_USAGE;
        }
        return cmd_search(&o, argv[optind]);
    }
    if (strcmp(cmd, "match") == 0) {
        return cmd_match(&o, argc, argv);
    }
    if (strcmp(cmd, "expire") == 0) {
        return cmd_expire(&o);
    }
    if (strcmp(cmd, "remove") == 0) {
        return cmd_remove(&o, argc, argv);
    }
    if (strcmp(cmd, "policy") == 0) {
        return cmd_policy(&o, argc, argv);
    }
    if (strcmp(cmd, "export") == 0) {
        return cmd_export(&o);
    }
    if (strcmp(cmd, "taxii") == 0) {
        return cmd_taxii(&o);
    }
    fprintf(stderr, "vigie intel: unknown command '%s'\n", cmd);
    usage(stderr);
    return VG_EXIT_USAGE;
}
