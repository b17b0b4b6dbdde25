/*
 * vigie_vuln.c — `vigie vuln`: version comparison, outdated packages against an index,
 * package scans against the advisory database, the database itself, and network service
 * discovery (issue 8; src/vuln).
 */
#include "bin/vigie_cmd.h"
#include "vuln/vuln.h"
#include "vuln/vuln_db.h"
#include "vuln/vuln_discover.h"
#include "vuln/vuln_inv.h"
#include "vuln/vuln_report.h"
#include "vuln/vuln_svcpkg.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VG_VERSION
#define VG_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fputs("usage: vigie vuln COMMAND [options]\n"
          "  vercmp --scheme dpkg|rpm|semver|pep440|apk A B    print lt, eq or gt\n"
          "  vercmp --scheme S -       read \"A<TAB>B\" lines from stdin, one verdict per line\n"
          "  outdated --status FILE --packages FILE [--format table|jsonl]\n"
          "                            installed packages older than a Debian Packages index\n"
          "  scan [--root DIR | --status FILE] [--db DIR] [--ecosystem Debian:12]\n"
          "       [--format table|json|sarif|cyclonedx] [--vex FILE]\n"
          "                            installed packages against the advisory database\n"
          "  db import [--db DIR] FILE...   OSV JSON/YAML/zip/dir, Debian tracker JSON, EPSS CSV,\n"
          "                            CISA KEV JSON (format detected)\n"
          "  db status [--db DIR]      sources, dates, counts\n"
          "  discover TARGETS [--ports SPEC] [--rate N] [--timeout MS] [--format table|jsonl]\n"
          "           [--db DIR]       TCP services, banners, products, versions; with --db,\n"
          "                            banners naming a Debian build matched (low confidence)\n"
          "  --db DIR defaults to $VIGIE_VULN_DB or ./vigie-data/vuln.\n",
          f);
}

static const char *verdict(int c)
{
    return c < 0 ? "lt" : c > 0 ? "gt" : "eq";
}

/* One "A\tB" line → verdict, or an error naming the line. */
static int vercmp_stream(enum vg_vuln_scheme s)
{
    char *line = NULL, err[256];
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0, bad = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        size_t len = (size_t)n;
        char *tab;
        int c;
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            len--;
        }
        tab = memchr(line, '\t', len);
        if (!tab) {
            printf("error\n");
            fprintf(stderr, "vigie vuln vercmp: line %lu: expected A<TAB>B\n", lineno);
            bad++;
            continue;
        }
        if (vg_vuln_vercmp(s, line, (size_t)(tab - line), tab + 1, len - (size_t)(tab - line) - 1,
                           &c, err, sizeof(err)) != VG_OK) {
            printf("error\n");
            fprintf(stderr, "vigie vuln vercmp: line %lu: %s\n", lineno, err);
            bad++;
            continue;
        }
        puts(verdict(c));
    }
    free(line);
    return bad ? VG_EXIT_FAIL : VG_EXIT_OK;
}

static int cmd_vercmp(int argc, char **argv)
{
    static const struct option lo[] = {{"scheme", required_argument, 0, 's'}, {0, 0, 0, 0}};
    enum vg_vuln_scheme s = VG_VULN_DPKG;
    char err[256];
    int c, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "s:", lo, NULL)) != -1) {
        if (o != 's' || vg_vuln_scheme_parse(optarg, &s) != VG_OK) {
            fprintf(stderr, "vigie vuln vercmp: --scheme dpkg|rpm|semver|pep440|apk\n");
            return VG_EXIT_USAGE;
        }
    }
    if (optind < argc && strcmp(argv[optind], "-") == 0 && optind + 1 == argc) {
        return vercmp_stream(s);
    }
    if (argc - optind != 2) {
        usage(stderr);
        return VG_EXIT_USAGE;
    }
    if (vg_vuln_vercmp(s, argv[optind], strlen(argv[optind]), argv[optind + 1],
                       strlen(argv[optind + 1]), &c, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie vuln vercmp: %s\n", err);
        return VG_EXIT_FAIL;
    }
    puts(verdict(c));
    return VG_EXIT_OK;
}

/* ---------------------------------------------------------------- shared options */

struct vopts {
    const char *status, *packages, *root, *db, *format, *ecosystem, *vex, *ports;
    unsigned rate, timeout_ms;
    bool db_given; /* --db on the command line (discover: match banners) */
};

static int parse(int argc, char **argv, struct vopts *o, const char *cmd)
{
    enum {
        O_STATUS = 256,
        O_PACKAGES,
        O_ROOT,
        O_DB,
        O_FORMAT,
        O_ECO,
        O_VEX,
        O_PORTS,
        O_RATE,
        O_TIMEOUT
    };
    static const struct option lo[] = {
        {"status", required_argument, 0, O_STATUS},
        {"packages", required_argument, 0, O_PACKAGES},
        {"root", required_argument, 0, O_ROOT},
        {"db", required_argument, 0, O_DB},
        {"format", required_argument, 0, O_FORMAT},
        {"ecosystem", required_argument, 0, O_ECO},
        {"vex", required_argument, 0, O_VEX},
        {"ports", required_argument, 0, O_PORTS},
        {"rate", required_argument, 0, O_RATE},
        {"timeout", required_argument, 0, O_TIMEOUT},
        {0, 0, 0, 0},
    };
    int c;
    int64_t v;
    memset(o, 0, sizeof(*o));
    o->db = getenv("VIGIE_VULN_DB") ? getenv("VIGIE_VULN_DB") : "vigie-data/vuln";
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case O_STATUS:
            o->status = optarg;
            break;
        case O_PACKAGES:
            o->packages = optarg;
            break;
        case O_ROOT:
            o->root = optarg;
            break;
        case O_DB:
            o->db = optarg;
            o->db_given = true;
            break;
        case O_FORMAT:
            o->format = optarg;
            break;
        case O_ECO:
            o->ecosystem = optarg;
            break;
        case O_VEX:
            o->vex = optarg;
            break;
        case O_PORTS:
            o->ports = optarg;
            break;
        case O_RATE:
        case O_TIMEOUT:
            if (vg_parse_i64(optarg, strlen(optarg), &v) != VG_OK || v <= 0 || v > 1000000) {
                fprintf(stderr, "vigie vuln %s: '%s' is not a valid number\n", cmd, optarg);
                return VG_EXIT_USAGE;
            }
            if (c == O_RATE) {
                o->rate = (unsigned)v;
            } else {
                o->timeout_ms = (unsigned)v;
            }
            break;
        default:
            usage(stderr);
            return VG_EXIT_USAGE;
        }
    }
    return VG_EXIT_OK;
}

/* ---------------------------------------------------------------- outdated */

struct outd {
    bool jsonl;
    size_t n;
};

static int print_outdated(void *ctx, const struct vg_vuln_pkg *pkg, const char *available)
{
    struct outd *o = ctx;
    o->n++;
    if (o->jsonl) {
        struct vg_sbuf b = VG_SBUF_INIT;
        vg_sbuf_adds(&b, "{\"package\":");
        vg_sbuf_add_json_str(&b, pkg->name, strlen(pkg->name));
        vg_sbuf_adds(&b, ",\"arch\":");
        vg_sbuf_add_json_str(&b, pkg->arch ? pkg->arch : "", pkg->arch ? strlen(pkg->arch) : 0);
        vg_sbuf_adds(&b, ",\"installed\":");
        vg_sbuf_add_json_str(&b, pkg->version, strlen(pkg->version));
        vg_sbuf_adds(&b, ",\"available\":");
        vg_sbuf_add_json_str(&b, available, strlen(available));
        vg_sbuf_adds(&b, "}\n");
        fwrite(b.p, 1, b.len, stdout);
        vg_sbuf_fini(&b);
    } else {
        printf("%-40s %-32s %s\n", pkg->name, pkg->version, available);
    }
    return 0;
}

static int cmd_outdated(int argc, char **argv)
{
    struct vopts o;
    struct vg_vuln_inv inv = {0};
    struct vg_vuln_pkgindex *idx = NULL;
    struct outd od = {0};
    char err[512] = "";
    size_t count = 0, nbad = 0;
    int rc = parse(argc, argv, &o, "outdated");
    if (rc != VG_EXIT_OK) {
        return rc;
    }
    if (!o.status || !o.packages) {
        fprintf(stderr, "vigie vuln outdated: --status FILE and --packages FILE are required\n");
        return VG_EXIT_USAGE;
    }
    od.jsonl = o.format && strcmp(o.format, "jsonl") == 0;
    if (o.format && !od.jsonl && strcmp(o.format, "table") != 0) {
        fprintf(stderr, "vigie vuln outdated: --format table or jsonl\n");
        return VG_EXIT_USAGE;
    }
    if (vg_vuln_inv_from_dpkg_status(o.status, &inv, err, sizeof(err)) != VG_OK ||
        vg_vuln_pkgindex_load(o.packages, &idx, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie vuln outdated: %s\n", err);
        rc = VG_EXIT_FAIL;
        goto out;
    }
    if (!od.jsonl) {
        printf("%-40s %-32s %s\n", "PACKAGE", "INSTALLED", "AVAILABLE");
    }
    vg_vuln_outdated(&inv, idx, print_outdated, &od, &count, &nbad, err, sizeof(err));
    fprintf(stderr, "vigie vuln outdated: %zu of %zu installed packages are older than %s\n", count,
            inv.n, o.packages);
    if (nbad) {
        fprintf(stderr, "vigie vuln outdated: %zu packages not compared: %s\n", nbad, err);
    }
out:
    vg_vuln_pkgindex_destroy(idx);
    vg_vuln_inv_fini(&inv);
    return rc;
}

/* ---------------------------------------------------------------- scan */

static int add_finding(const struct vg_vuln_finding *f, void *arg)
{
    return vg_vuln_report_add(arg, f) == VG_OK ? 0 : VG_ENOMEM;
}

static int add_low_confidence(const struct vg_vuln_finding *f, void *arg)
{
    struct vg_vuln_finding c = *f;
    c.low_confidence = true;
    return vg_vuln_report_add(arg, &c) == VG_OK ? 0 : VG_ENOMEM;
}

static int load_inventory(const struct vopts *o, struct vg_vuln_inv *inv, char *err, size_t errsz)
{
    int rc;
    if (o->status) {
        rc = vg_vuln_inv_from_dpkg_status(o->status, inv, err, errsz);
        if (rc == VG_OK && !o->ecosystem) {
            /* a bare status file: the host's release unless told otherwise */
            struct vg_vuln_inv host = {0};
            if (vg_vuln_inv_from_root("/", &host, NULL, 0) == VG_OK && host.ecosystem) {
                rc = vg_vuln_inv_set_ecosystem(inv, host.ecosystem);
            }
            vg_vuln_inv_fini(&host);
        }
    } else {
        rc = vg_vuln_inv_from_root(o->root ? o->root : "/", inv, err, errsz);
    }
    if (rc == VG_OK && o->ecosystem) {
        rc = vg_vuln_inv_set_ecosystem(inv, o->ecosystem);
    }
    return rc;
}

static int cmd_scan(int argc, char **argv)
{
    struct vopts o;
    struct vg_vuln_inv inv = {0};
    struct vg_vuln_db *db = NULL;
    struct vg_vuln_report *rep = NULL;
    enum vg_vuln_report_fmt fmt = VG_VULN_REPORT_TABLE;
    char err[512] = "";
    uint64_t t0 = vg_clock_ns();
    int rc = parse(argc, argv, &o, "scan");
    if (rc != VG_EXIT_OK) {
        return rc;
    }
    if (o.format && vg_vuln_report_fmt_parse(o.format, &fmt) != VG_OK) {
        fprintf(stderr, "vigie vuln scan: --format table, json, sarif or cyclonedx\n");
        return VG_EXIT_USAGE;
    }
    if (o.status && o.root) {
        fprintf(stderr, "vigie vuln scan: --root or --status, not both\n");
        return VG_EXIT_USAGE;
    }
    struct vg_vuln_report_meta meta = {VG_VERSION,
                                       o.status ? o.status
                                       : o.root ? o.root
                                                : "/",
                                       o.status ? o.status : "var/lib/dpkg/status", NULL};
    if (load_inventory(&o, &inv, err, sizeof(err)) != VG_OK ||
        vg_vuln_db_open(o.db, false, &db, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie vuln scan: %s\n", err);
        rc = VG_EXIT_FAIL;
        goto out;
    }
    meta.ecosystem = inv.ecosystem;
    if (vg_vuln_report_create(&meta, &rep) != VG_OK) {
        rc = VG_EXIT_FAIL;
        goto out;
    }
    for (size_t i = 0; i < inv.n; i++) {
        vg_vuln_report_add_pkg(rep, &inv.pkgs[i]);
    }
    if (vg_vuln_match(db, inv.pkgs, inv.n, NULL, add_finding, rep, err, sizeof(err)) != VG_OK ||
        (o.vex && vg_vuln_report_vex(rep, o.vex, err, sizeof(err)) != VG_OK)) {
        fprintf(stderr, "vigie vuln scan: %s\n", err);
        rc = VG_EXIT_FAIL;
        goto out;
    }
    rc = vg_vuln_report_write(rep, fmt, stdout) == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
    size_t shown, supp;
    vg_vuln_report_counts(rep, &shown, &supp);
    fprintf(stderr, "vigie vuln scan: %zu packages (%s), %zu findings, %zu suppressed, %.0f ms\n",
            inv.n, inv.ecosystem ? inv.ecosystem : "unknown release", shown, supp,
            (double)(vg_clock_ns() - t0) / 1e6);
out:
    vg_vuln_report_destroy(rep);
    vg_vuln_db_close(db);
    vg_vuln_inv_fini(&inv);
    return rc;
}

/* ---------------------------------------------------------------- db */

static int cmd_db(int argc, char **argv)
{
    struct vopts o;
    struct vg_vuln_db *db = NULL;
    char err[512] = "";
    bool import;
    int rc;
    if (argc < 2 || (strcmp(argv[1], "import") != 0 && strcmp(argv[1], "status") != 0)) {
        fprintf(stderr, "vigie vuln db: import FILE... or status\n");
        return VG_EXIT_USAGE;
    }
    import = strcmp(argv[1], "import") == 0;
    if ((rc = parse(argc - 1, argv + 1, &o, "db")) != VG_EXIT_OK) {
        return rc;
    }
    argc--;
    argv++;
    if (import && optind >= argc) {
        fprintf(stderr, "vigie vuln db import: no FILE given\n");
        return VG_EXIT_USAGE;
    }
    if (vg_vuln_db_open(o.db, import, &db, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie vuln db: %s\n", err);
        return VG_EXIT_FAIL;
    }
    for (int i = optind; import && i < argc; i++) {
        struct vg_vuln_import_report r;
        uint64_t t0 = vg_clock_ns();
        memset(&r, 0, sizeof(r));
        if (vg_vuln_db_import(db, argv[i], &r, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "vigie vuln db import: %s\n", err);
            rc = VG_EXIT_FAIL;
            continue;
        }
        printf("%s: %s (%s): %zu files, %zu records, %zu affected entries, %zu skipped, %.2f s\n",
               argv[i], r.source, r.format, r.files, r.records, r.affected, r.skipped,
               (double)(vg_clock_ns() - t0) / 1e9);
        if (r.skipped) {
            printf("  first skipped: %s\n", r.first_error);
        }
    }
    if (!import) {
        struct vg_sbuf b = VG_SBUF_INIT;
        if (vg_vuln_db_status_json(db, &b, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "vigie vuln db status: %s\n", err);
            rc = VG_EXIT_FAIL;
        } else {
            printf("%s\n", b.p ? b.p : "{}");
        }
        vg_sbuf_fini(&b);
    }
    vg_vuln_db_close(db);
    return rc;
}

/* ---------------------------------------------------------------- discover */

/* Discovery output, and with --db the services whose banner names a Debian build. */
struct disc {
    bool jsonl;
    struct vg_vuln_svcpkg *pkgs;
    size_t n, cap;
    bool collect;
};

static void collect_service(struct disc *d, const struct vg_vuln_service *s)
{
    struct vg_vuln_svcpkg sp;
    if (!d->collect || vg_vuln_service_pkg(s, &sp) != VG_OK ||
        vg_grow(&d->pkgs, &d->cap, d->n + 1, sizeof(*d->pkgs))) {
        return;
    }
    d->pkgs[d->n] = sp;
    /* the strings of pkg point into the element itself: re-point them after the copy */
    d->pkgs[d->n].pkg = (struct vg_vuln_pkg){d->pkgs[d->n].ecosystem,
                                             d->pkgs[d->n].name,
                                             d->pkgs[d->n].name,
                                             d->pkgs[d->n].version,
                                             NULL,
                                             VG_VULN_DPKG};
    d->n++;
}

static int print_service(const struct vg_vuln_service *s, void *ud)
{
    struct disc *d = ud;
    bool jsonl = d->jsonl;
    collect_service(d, s);
    if (!jsonl) {
        printf("%-39s %5u/%s %-8s %-12s %-14s %s\n", s->addr, s->port, s->proto, s->service,
               s->product, s->version, s->tls ? s->tls_subject : s->banner);
        return 0;
    }
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_sbuf_adds(&b, "{\"addr\":");
    vg_sbuf_add_json_str(&b, s->addr, strlen(s->addr));
    vg_sbuf_printf(&b, ",\"port\":%u,\"proto\":\"%s\",\"service\":", s->port, s->proto);
    vg_sbuf_add_json_str(&b, s->service, strlen(s->service));
    vg_sbuf_adds(&b, ",\"product\":");
    vg_sbuf_add_json_str(&b, s->product, strlen(s->product));
    vg_sbuf_adds(&b, ",\"version\":");
    vg_sbuf_add_json_str(&b, s->version, strlen(s->version));
    vg_sbuf_adds(&b, ",\"extra\":");
    vg_sbuf_add_json_str(&b, s->extra, strlen(s->extra));
    vg_sbuf_adds(&b, ",\"banner\":");
    vg_sbuf_add_json_str(&b, s->banner, strlen(s->banner));
    if (s->tls) {
        vg_sbuf_adds(&b, ",\"tls\":{\"subject\":");
        vg_sbuf_add_json_str(&b, s->tls_subject, strlen(s->tls_subject));
        vg_sbuf_adds(&b, ",\"issuer\":");
        vg_sbuf_add_json_str(&b, s->tls_issuer, strlen(s->tls_issuer));
        vg_sbuf_printf(&b, ",\"not_before\":\"%s\",\"not_after\":\"%s\"}", s->tls_not_before,
                       s->tls_not_after);
    }
    vg_sbuf_adds(&b, "}\n");
    fwrite(b.p, 1, b.len, stdout);
    vg_sbuf_fini(&b);
    return 0;
}

/* Match the services that name a Debian build; findings are low confidence (from a banner). */
static int discover_findings(const struct vopts *o, struct disc *dc)
{
    struct vg_vuln_db *db = NULL;
    struct vg_vuln_report *rep = NULL;
    struct vg_vuln_report_meta meta = {VG_VERSION, "network services", "", NULL};
    char err[512] = "";
    int rc = VG_EXIT_OK;
    if (vg_vuln_db_open(o->db, false, &db, err, sizeof(err)) != VG_OK ||
        vg_vuln_report_create(&meta, &rep) != VG_OK) {
        fprintf(stderr, "vigie vuln discover: %s\n", err);
        vg_vuln_db_close(db);
        return VG_EXIT_FAIL;
    }
    for (size_t i = 0; i < dc->n; i++) {
        if (vg_vuln_match(db, &dc->pkgs[i].pkg, 1, NULL, add_low_confidence, rep, err,
                          sizeof(err)) != VG_OK) {
            fprintf(stderr, "vigie vuln discover: %s\n", err);
            rc = VG_EXIT_FAIL;
        }
    }
    if (rc == VG_EXIT_OK) {
        printf("\nFindings from banners (low confidence: the version a service announces):\n");
        rc = vg_vuln_report_write(rep, dc->jsonl ? VG_VULN_REPORT_JSON : VG_VULN_REPORT_TABLE,
                                  stdout) == VG_OK
                 ? VG_EXIT_OK
                 : VG_EXIT_FAIL;
    }
    vg_vuln_report_destroy(rep);
    vg_vuln_db_close(db);
    return rc;
}

static int cmd_discover(int argc, char **argv)
{
    struct vopts o;
    struct vg_vuln_discover_stats st = {0};
    char err[512] = "";
    bool jsonl;
    int rc = parse(argc, argv, &o, "discover");
    if (rc != VG_EXIT_OK) {
        return rc;
    }
    if (optind >= argc) {
        fprintf(stderr, "vigie vuln discover: TARGETS required (addresses, CIDR, names)\n");
        return VG_EXIT_USAGE;
    }
    jsonl = o.format && strcmp(o.format, "jsonl") == 0;
    struct disc dc = {.jsonl = jsonl, .collect = o.db_given};
    struct vg_vuln_discover_opts d = {.targets = argv[optind],
                                      .ports = o.ports,
                                      .rate = o.rate,
                                      .connect_timeout_ms = o.timeout_ms,
                                      .stats = &st};
    if (!jsonl) {
        printf("%-39s %9s %-8s %-12s %-14s %s\n", "ADDRESS", "PORT", "SERVICE", "PRODUCT",
               "VERSION", "BANNER / CERTIFICATE");
    }
    rc = vg_vuln_discover(&d, print_service, &dc, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "vigie vuln discover: %s\n", err);
        vg_free(dc.pkgs);
        return VG_EXIT_FAIL;
    }
    if (dc.collect) {
        rc = discover_findings(&o, &dc);
    }
    vg_free(dc.pkgs);
    fprintf(stderr,
            "vigie vuln discover: %llu ports tried, %llu open, %llu closed, %llu filtered, "
            "%.2f s\n",
            (unsigned long long)st.attempted, (unsigned long long)st.open,
            (unsigned long long)st.closed, (unsigned long long)st.filtered,
            (double)st.elapsed_ns / 1e9);
    return rc;
}

int vg_cmd_vuln(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
    }
    if (strcmp(argv[1], "vercmp") == 0) {
        return cmd_vercmp(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "outdated") == 0) {
        return cmd_outdated(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "scan") == 0) {
        return cmd_scan(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "db") == 0) {
        return cmd_db(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "discover") == 0) {
        return cmd_discover(argc - 1, argv + 1);
    }
    fprintf(stderr, "vigie vuln: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return VG_EXIT_USAGE;
}
