/*
 * vigie_server.c — `vigie server` (the daemon) and `vigie config schema`.
 *
 * The main thread owns the signals: SIGINT/SIGTERM stop (inputs first, then the pipeline
 * drains the journal for a few seconds; what is left is processed at the next start),
 * SIGHUP reloads the rules. Every 30 s without a signal it logs one status line.
 */
#include "api/api.h"
#include "bin/vigie_cmd.h"
#include "ingest/ingest.h"
#include "intel/intel_db.h"
#include "server/server.h"
#include "vuln/vuln_db.h"
#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATUS_EVERY_S 30
#define DRAIN_MS       5000

static void server_help(FILE *f)
{
    fprintf(
        f, "usage: vigie server [-c FILE] [--data DIR] [--http ADDR] [--syslog ADDR] [--demo]\n"
           "                    [--check]\n"
           "\n"
           "Collect (syslog UDP/TCP/TLS/RELP, files, HTTP), decode, detect with Sigma rules,\n"
           "store and search. With no file the defaults apply: data in ./vigie-data, the API\n"
           "on 127.0.0.1:8470, syslog on 127.0.0.1:5514 (UDP and TCP), the built-in rules.\n"
           "\n"
           "  -c, --config FILE   YAML configuration (`vigie config schema` lists every key;\n"
           "                      each key can also be set as VIGIE_<KEY>, e.g. VIGIE_DATA_DIR)\n"
           "      --data DIR      data directory (overrides data_dir)\n"
           "      --http ADDR     HTTP API address host:port (overrides http.listen; '' = off)\n"
           "      --syslog ADDR   syslog address for both UDP and TCP (overrides syslog.*)\n"
           "      --demo          also ingest the bundled example logs once, then show the alerts\n"
           "                      (playbooks' containment steps only describe what they would do)\n"
           "      --check         validate the configuration and the rules, then exit\n"
           "  -h, --help\n"
           "\n"
           "Signals: SIGHUP reloads the rules; SIGINT/SIGTERM stop cleanly.\n");
}

struct server_args {
    const char *config;
    const char *data;
    const char *http;
    const char *syslog;
    bool demo, check;
};

static int parse_args(int argc, char **argv, struct server_args *a)
{
    static const struct option lo[] = {
        {"config", required_argument, NULL, 'c'}, {"data", required_argument, NULL, 'd'},
        {"http", required_argument, NULL, 'H'},   {"syslog", required_argument, NULL, 's'},
        {"demo", no_argument, NULL, 'D'},         {"check", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'd':
            a->data = optarg;
            break;
        case 'H':
            a->http = optarg;
            break;
        case 's':
            a->syslog = optarg;
            break;
        case 'D':
            a->demo = true;
            break;
        case 'C':
            a->check = true;
            break;
        case 'h':
            server_help(stdout);
            return -1;
        default:
            server_help(stderr);
            return VG_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vigie server: unexpected argument '%s'\n", argv[optind]);
        return VG_EXIT_USAGE;
    }
    return VG_EXIT_OK;
}

static int set_str(char **dst, const char *v)
{
    char *n = vg_strdup(v);
    if (!n) {
        return VG_ENOMEM;
    }
    vg_free(*dst);
    *dst = n;
    return VG_OK;
}

static int set_list(struct vg_strlist *l, const char *v)
{
    vg_strlist_free(l);
    return *v ? vg_strlist_add(l, v) : VG_OK;
}

static int apply_args(const struct server_args *a, struct vg_server_conf *c)
{
    int rc = VG_OK;
    if (a->data) {
        rc = set_str(&c->data_dir, a->data);
    }
    if (rc == VG_OK && a->http) {
        rc = set_str(&c->http_listen, a->http);
    }
    if (rc == VG_OK && a->demo) { /* the example rules go with the example logs */
        char rules[2048];
        c->respond_contain = false; /* demo data must not change this machine's firewall */
        snprintf(rules, sizeof(rules), "%s/examples/rules", VG_SOURCE_DIR);
        rc = vg_strlist_add(&c->rules_paths, rules);
    }
    if (rc == VG_OK && a->syslog) {
        rc = set_list(&c->syslog_udp, a->syslog);
        rc = rc == VG_OK ? set_list(&c->syslog_tcp, a->syslog) : rc;
    }
    return rc;
}

/* ---------------------------------------------------------------- demo data */

static int seed_file(struct vg_journal *j, const char *path, const char *name)
{
    struct vg_mapped m;
    if (vg_file_map(path, &m) != VG_OK) {
        return VG_EIO;
    }
    size_t line = 0, at = 0;
    int rc = VG_OK;
    while (at < m.len && rc == VG_OK) {
        const char *p = (const char *)m.p + at;
        const char *nl = memchr(p, '\n', m.len - at);
        size_t n = nl ? (size_t)(nl - p) : m.len - at;
        at += n + 1;
        line++;
        if (!n) {
            continue;
        }
        char meta[1024];
        int ml = snprintf(meta, sizeof(meta), "file=%s\x1fkey=demo/%s/%zu", path, name, line);
        struct vg_rec r = {.data = p,
                           .len = (uint32_t)n,
                           .recv_ts = vg_time_now(),
                           .meta = meta,
                           .meta_len = (uint32_t)ml};
        uint64_t last;
        rc = vg_journal_append(j, &r, 1, VG_JOURNAL_WAIT, &last);
    }
    vg_file_unmap(&m);
    return rc;
}

/* Append the bundled example logs (once: their dedupe keys make a second run a no-op). */
static int seed_demo(struct vg_server *s)
{
    char dir[2048];
    snprintf(dir, sizeof(dir), "%s/examples/logs", VG_SOURCE_DIR);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "vigie server: --demo: %s not found\n", dir);
        return VG_ENOENT;
    }
    struct dirent *e;
    int rc = VG_OK;
    while ((e = readdir(d)) && rc == VG_OK) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        rc = seed_file(vg_server_journal(s), path, e->d_name);
    }
    closedir(d);
    return rc;
}

/*
 * The bundled example threat intelligence (examples/intel, a STIX bundle naming the demo
 * brute-force source) imported as source "demo" into the server's store before it starts, so
 * the demo shows an intel alert with its context next to the rules' alerts.
 */
static void seed_demo_intel(const struct vg_server_conf *c)
{
    char dir[4096], path[2048], err[512];
    struct vg_intel_db *db = NULL;
    struct vg_intel_import_report rep;
    if (!c->intel_enabled) {
        return;
    }
    if (c->intel_db && *c->intel_db) {
        snprintf(dir, sizeof(dir), "%s", c->intel_db);
    } else {
        snprintf(dir, sizeof(dir), "%s/intel", c->data_dir);
    }
    snprintf(path, sizeof(path), "%s/examples/intel/demo-feed.json", VG_SOURCE_DIR);
    if (mkdir(c->data_dir, 0750) != 0 && errno != EEXIST) {
        return;
    }
    if (vg_intel_db_open(dir, true, &db, err, sizeof(err)) != VG_OK ||
        vg_intel_db_import_file(db, path, "demo", VG_INTEL_FMT_STIX, NULL, &rep, err,
                                sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie server: --demo: threat intelligence: %s\n", err);
    }
    vg_intel_db_close(db);
}

/*
 * The bundled example advisories (examples/vuln: a Debian Security Tracker and a KEV file in
 * the real layouts, with demo ids) imported into the server's advisory database, so the
 * demo bastion's package inventory (examples/logs/bastion-inventory.json) shows findings.
 */
static void seed_demo_vuln(const struct vg_server_conf *c)
{
    static const char *const files[] = {"demo-tracker.json", "demo-kev.json"};
    char dir[4096], path[2048], err[512] = "";
    struct vg_vuln_db *db = NULL;
    if (!c->vuln_enabled) {
        return;
    }
    if (c->vuln_db && *c->vuln_db) {
        snprintf(dir, sizeof(dir), "%s", c->vuln_db);
    } else {
        snprintf(dir, sizeof(dir), "%s/vuln", c->data_dir);
    }
    int rc = vg_vuln_db_open(dir, true, &db, err, sizeof(err));
    for (size_t i = 0; rc == VG_OK && i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/examples/vuln/%s", VG_SOURCE_DIR, files[i]);
        rc = vg_vuln_db_import(db, path, NULL, err, sizeof(err));
    }
    if (rc != VG_OK) {
        fprintf(stderr, "vigie server: --demo: advisories: %s\n", err);
    }
    vg_vuln_db_close(db);
}

static int print_alert(void *ctx, const struct vg_store_alert *a)
{
    int *n = ctx;
    static const char *const lv[] = {"-", "info", "low", "medium", "high", "critical"};
    char ts[40];
    vg_time_format(a->ts, ts, sizeof(ts));
    printf("  %.19s  %-8s  %-50.50s  %s%s%s\n", ts,
           lv[a->level >= 0 && a->level <= 5 ? a->level : 0], a->title ? a->title : "?",
           a->host ? a->host : "", a->src_ip ? " from " : "", a->src_ip ? a->src_ip : "");
    (*n)++;
    return VG_OK;
}

static void show_alerts(struct vg_server *s)
{
    printf("Ingesting the bundled example logs (%s/examples/logs)...\n", VG_SOURCE_DIR);
    fflush(stdout);
    if (vg_server_wait_idle(s, 15000) != VG_OK) {
        printf("(the pipeline is still working; alerts will follow)\n");
    }
    int n = 0;
    char err[256];
    printf("\nLatest alerts:\n");
    struct vg_store_alert_query q = {
        .from = VG_TIME_NONE, .to = VG_TIME_NONE, .limit = 15, .on_alert = print_alert, .ctx = &n};
    vg_store_alert_query(vg_server_store(s), &q, err, sizeof(err));
    if (!n) {
        printf("  (none yet)\n");
    }
    printf("\n");
    fflush(stdout);
}

/* ---------------------------------------------------------------- banner, status */

static void banner(struct vg_server *s, const struct vg_server_conf *c)
{
    struct vg_server_stats st;
    vg_server_get_stats(s, &st);
    printf("vigie server %s — data in %s\n", VG_VERSION, c->data_dir);
    printf("  rules:  %u detection rules, %u correlations (SIGHUP or POST /api/v1/rules/reload "
           "to reload)\n",
           st.rules, st.correlation_rules);
    for (size_t i = 0; i < c->syslog_udp.n; i++) {
        printf("  syslog: udp://%s\n", c->syslog_udp.v[i]);
    }
    for (size_t i = 0; i < c->syslog_tcp.n; i++) {
        printf("  syslog: tcp://%s (LF or octet-counted)\n", c->syslog_tcp.v[i]);
    }
    for (size_t i = 0; i < c->syslog_tls.n; i++) {
        printf("  syslog: tls://%s\n", c->syslog_tls.v[i]);
    }
    for (size_t i = 0; i < c->syslog_relp.n; i++) {
        printf("  syslog: relp://%s\n", c->syslog_relp.v[i]);
    }
    for (size_t i = 0; i < c->files.n; i++) {
        printf("  files:  %s\n", c->files.v[i]);
    }
    if (c->http_listen && *c->http_listen) {
        printf("  http:   %s://%s  (REST API; `vigie token create` makes API tokens)\n",
               c->http_tls_cert && *c->http_tls_cert ? "https" : "http", c->http_listen);
    }
    if (st.position) {
        printf("  resumed after journal record %llu\n", (unsigned long long)st.position);
    }
    if (c->syslog_udp.n) {
        const char *a = c->syslog_udp.v[0];
        const char *colon = strrchr(a, ':');
        printf("\nTry:  logger -n %.*s -P %s -d 'sshd[1]: Failed password for root from "
               "203.0.113.9 port 4242 ssh2'\n",
               colon ? (int)(colon - a) : (int)strlen(a), a, colon ? colon + 1 : "514");
        printf("      vigie search --data %s 'event.outcome=failure'\n", c->data_dir);
        if (c->http_listen && *c->http_listen) {
            printf("      curl -u admin:\"$(cat %s/initial-admin-password)\" "
                   "'http://%s/api/v1/alerts'\n",
                   c->data_dir, c->http_listen);
        }
    }
    printf("\n");
    fflush(stdout);
}

static void status_line(struct vg_server *s, struct vg_server_stats *prev, double secs)
{
    struct vg_server_stats st;
    vg_server_get_stats(s, &st);
    if (st.records == prev->records && st.journal_next == prev->journal_next) {
        return;
    }
    VG_INFO("server",
            "events %llu (%.0f/s), alerts %llu, unparsed %llu, duplicates %llu, backlog %llu "
            "records",
            (unsigned long long)st.stored, (double)(st.stored - prev->stored) / secs,
            (unsigned long long)st.alerts, (unsigned long long)st.unparsed,
            (unsigned long long)st.duplicates,
            (unsigned long long)(st.journal_next - 1 - st.position));
    *prev = st;
}

static int run_loop(struct vg_server *s, const sigset_t *set)
{
    struct vg_server_stats prev;
    vg_server_get_stats(s, &prev);
    for (;;) {
        struct timespec to = {STATUS_EVERY_S, 0};
        int sig = sigtimedwait(set, NULL, &to);
        if (sig == SIGHUP) {
            char err[512];
            if (vg_server_reload(s, err, sizeof(err)) == VG_OK) {
                VG_INFO("server", "rules reloaded");
            }
        } else if (sig == SIGINT || sig == SIGTERM) {
            VG_INFO("server", "stopping (signal %d)", sig);
            return VG_EXIT_OK;
        } else {
            status_line(s, &prev, STATUS_EVERY_S);
        }
    }
}

static int serve(const struct server_args *a, struct vg_server_conf *c)
{
    char err[1024] = "";
    struct vg_server *s = NULL;
    enum vg_log_level lv;
    if (vg_log_level_parse(c->log_level, &lv) == VG_OK) {
        vg_log_set_level(lv);
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits it: only main waits */
    signal(SIGPIPE, SIG_IGN);
    if (vg_server_create(c, &s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie server: %s\n", err);
        return VG_EXIT_FAIL;
    }
    if (!a->check && c->http_listen && *c->http_listen &&
        vg_api_bootstrap(c->data_dir, stdout, NULL) != VG_OK) {
        fprintf(stderr, "vigie server: cannot create the first admin user in %s\n", c->data_dir);
    }
    if (a->check) {
        printf("configuration and rules OK\n");
        vg_server_destroy(s);
        return VG_EXIT_OK;
    }
    if (vg_server_start(s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie server: %s\n", err);
        vg_server_destroy(s);
        return VG_EXIT_FAIL;
    }
    banner(s, c);
    if (a->demo && seed_demo(s) == VG_OK) {
        show_alerts(s);
        vg_server_soc_summary(s, stdout);
        vg_server_vuln_summary(s, stdout);
        fflush(stdout);
    }
    int rc = run_loop(s, &set);
    vg_server_stop(s, DRAIN_MS);
    vg_server_destroy(s);
    return rc;
}

int vg_cmd_server(int argc, char **argv)
{
    struct server_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != VG_EXIT_OK) {
        return rc < 0 ? VG_EXIT_OK : rc;
    }
    struct vg_server_conf c;
    char err[1024];
    if (vg_server_conf_load(a.config, &c, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie server: %s\n", err);
        return VG_EXIT_USAGE;
    }
    if (apply_args(&a, &c) != VG_OK) {
        fprintf(stderr, "vigie server: out of memory\n");
        vg_server_conf_fini(&c);
        return VG_EXIT_FAIL;
    }
    if (a.demo && !a.check) {
        seed_demo_intel(&c);
        seed_demo_vuln(&c);
    }
    rc = serve(&a, &c);
    vg_server_conf_fini(&c);
    return rc;
}

int vg_cmd_config(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "schema") != 0) {
        fprintf(argc < 2 ? stdout : stderr, "usage: vigie config schema\n"
                                            "  print every configuration key of `vigie server` "
                                            "with its type, default and meaning\n");
        return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_USAGE;
    }
    size_t n;
    const struct vg_conf_field *t = vg_server_conf_table(&n);
    vg_conf_schema_print(t, n, stdout);
    return VG_EXIT_OK;
}
