/*
 * bench_vuln_scan.c — issue 8's scan benchmark: a fresh advisory database with ≥ 100k
 * advisories (a generated Debian Security Tracker JSON and an OSV zip archive, plus EPSS and
 * KEV files), then the 948 installed packages of ../shared/corpus/debian/
 * dpkg-status.bookworm-host matched against it. Prints import times, the scan time (target
 * < 200 ms) and the number of findings.
 *
 *   bench_vuln_scan [TRACKER_CVES [OSV_RECORDS [SHARE [HOSTS]]]]   (defaults 80000, 40000, 20,
 *   100; run from the repository root, or set VG_SHARED to the shared directory)
 *
 * Then the server's side (server_vuln.c) on the same database: HOSTS hosts each send the
 * 948-package inventory (the agent's inventory_packages event, recorded as the pipeline writer
 * does), and the scan thread matches them all: recording time per host (the ingest path)
 * and hosts matched per second (findings stored).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_inv.h"
#include "bench_util.h"
#include "server/server_int.h"
#include "vuln/vuln_db.h"

/* One advisory in `share` is about an installed source package (20: ~5%, i.e. ~4,000 tracker
   CVEs on the host's ~500 source packages, the order of a real bookworm host's tracker
   entries; 3 gives a deliberately heavy run with ~150 findings per package). */
static size_t share = 20;

static double ms_since(uint64_t t0)
{
    return (double)(vg_clock_ns() - t0) / 1e6;
}

/* The source (or binary) name of installed package i, cycling. */
static const char *src_of(const struct vg_agent_pkgs *l, size_t i)
{
    const struct vg_agent_pkg *p = &l->v[i % l->n];
    return p->source ? p->source : p->name;
}

static int gen_tracker(const char *path, const struct vg_agent_pkgs *l, size_t ncve)
{
    FILE *f = fopen(path, "w");
    static const char *const urg[] = {"low", "medium", "high", "unimportant", "not yet assigned"};
    if (!f) {
        return -1;
    }
    fputc('{', f);
    /* one package object per CVE keeps the generator simple; the tracker groups them, which
       only changes the file's shape, not the rows stored */
    for (size_t i = 0; i < ncve; i++) {
        bool installed = i % share == 0;
        const struct vg_agent_pkg *p = &l->v[i % l->n];
        char pkg[128];
        if (installed) {
            snprintf(pkg, sizeof(pkg), "%s", src_of(l, i));
        } else {
            snprintf(pkg, sizeof(pkg), "fakepkg%zu", i % 20000);
        }
        fprintf(f,
                "%s\"%s\":{\"CVE-2030-%06zu\":{\"description\":\"generated %zu\",\"scope\":"
                "\"remote\",\"releases\":{",
                i ? "," : "", pkg, i, i);
        if (i % 5 == 0) {
            fprintf(f, "\"bookworm\":{\"status\":\"open\",\"urgency\":\"%s\"%s}", urg[i % 5],
                    i % 10 == 0 ? ",\"nodsa\":\"Minor issue\",\"nodsa_reason\":\"\"" : "");
        } else {
            fprintf(f,
                    "\"bookworm\":{\"status\":\"resolved\",\"fixed_version\":\"%s%s\","
                    "\"urgency\":\"%s\"}",
                    installed ? p->version : "1.0-1", i % 2 ? "+deb12u9" : "", urg[i % 5]);
        }
        fprintf(f, ",\"bullseye\":{\"status\":\"resolved\",\"fixed_version\":\"0.9-1\","
                   "\"urgency\":\"low\"}}}}");
    }
    fputs("}\n", f);
    return fclose(f);
}

/* ---- a stored (method 0) zip writer: enough for osv.dev's all.zip layout */

struct zipw {
    FILE *f;
    struct vg_sbuf cd;
    size_t off, count;
};

static void put16(struct vg_sbuf *b, unsigned v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    vg_sbuf_add(b, x, 2);
}
static void put32(struct vg_sbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    vg_sbuf_add(b, x, 4);
}

static void zip_add(struct zipw *z, const char *name, const char *data, size_t n)
{
    struct vg_sbuf h = VG_SBUF_INIT;
    uint32_t crc = vg_crc32(0, (const uint8_t *)data, n);
    size_t nl = strlen(name);
    put32(&h, 0x04034b50u);
    put16(&h, 10), put16(&h, 0), put16(&h, 0), put16(&h, 0), put16(&h, 0);
    put32(&h, crc), put32(&h, (uint32_t)n), put32(&h, (uint32_t)n);
    put16(&h, (unsigned)nl), put16(&h, 0);
    vg_sbuf_add(&h, name, nl);
    fwrite(h.p, 1, h.len, z->f);
    fwrite(data, 1, n, z->f);
    put32(&z->cd, 0x02014b50u);
    put16(&z->cd, 20), put16(&z->cd, 10), put16(&z->cd, 0), put16(&z->cd, 0);
    put16(&z->cd, 0), put16(&z->cd, 0);
    put32(&z->cd, crc), put32(&z->cd, (uint32_t)n), put32(&z->cd, (uint32_t)n);
    put16(&z->cd, (unsigned)nl), put16(&z->cd, 0), put16(&z->cd, 0), put16(&z->cd, 0);
    put16(&z->cd, 0), put32(&z->cd, 0), put32(&z->cd, (uint32_t)z->off);
    vg_sbuf_add(&z->cd, name, nl);
    z->off += h.len + n;
    z->count++;
    vg_sbuf_fini(&h);
}

static void zip_end(struct zipw *z)
{
    struct vg_sbuf e = VG_SBUF_INIT;
    fwrite(z->cd.p, 1, z->cd.len, z->f);
    put32(&e, 0x06054b50u);
    put16(&e, 0), put16(&e, 0), put16(&e, (unsigned)z->count), put16(&e, (unsigned)z->count);
    put32(&e, (uint32_t)z->cd.len), put32(&e, (uint32_t)z->off), put16(&e, 0);
    fwrite(e.p, 1, e.len, z->f);
    vg_sbuf_fini(&e);
    vg_sbuf_fini(&z->cd);
    fclose(z->f);
}

static int gen_osv_zip(const char *path, const struct vg_agent_pkgs *l, size_t n)
{
    struct zipw z = {.f = fopen(path, "wb"), .cd = VG_SBUF_INIT};
    struct vg_sbuf rec = VG_SBUF_INIT;
    if (!z.f || n > 65000) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char name[64];
        bool deb = i % 2 == 0;
        vg_sbuf_reset(&rec);
        vg_sbuf_printf(&rec,
                       "{\"id\":\"%s-2030-%06zu\",\"modified\":\"2030-01-01T00:00:00Z\","
                       "\"aliases\":[\"CVE-2031-%06zu\"],\"summary\":\"generated\","
                       "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/"
                       "PR:N/UI:N/S:U/C:H/I:%s/A:N\"}],\"affected\":[{\"package\":{"
                       "\"ecosystem\":\"%s\",\"name\":\"%s\"},\"ranges\":[{\"type\":"
                       "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"%s\"}]}]}]}",
                       deb ? "DSA" : "PYSEC", i, i, i % 3 ? "N" : "H", deb ? "Debian:12" : "PyPI",
                       deb && i % (2 * share) == 0 ? src_of(l, i) : "somepkg",
                       deb ? "99:1.0-1" : "1.0");
        snprintf(name, sizeof(name), "X-%06zu.json", i);
        zip_add(&z, name, rec.p, rec.len);
    }
    zip_end(&z);
    vg_sbuf_fini(&rec);
    return 0;
}

static int gen_epss_kev(const char *epss, const char *kev, size_t n)
{
    FILE *e = fopen(epss, "w"), *k = fopen(kev, "w");
    if (!e || !k) {
        return -1;
    }
    fprintf(e, "#model_version:v2023.03.01,score_date:2030-01-01T00:00:00+0000\n"
               "cve,epss,percentile\n");
    fprintf(k, "{\"catalogVersion\":\"2030.01.01\",\"vulnerabilities\":[");
    for (size_t i = 0; i < n; i++) {
        fprintf(e, "CVE-2030-%06zu,0.%05zu,0.%05zu\n", i, i % 99999, (i * 7) % 99999);
        if (i % 100 == 0) {
            fprintf(k,
                    "%s{\"cveID\":\"CVE-2030-%06zu\",\"dateAdded\":\"2030-01-01\","
                    "\"knownRansomwareCampaignUse\":\"Unknown\"}",
                    i ? "," : "", i);
        }
    }
    fputs("]}\n", k);
    fclose(e);
    return fclose(k);
}

struct counts {
    size_t findings, fixed, kev, epss;
};

static int count_finding(const struct vg_vuln_finding *f, void *arg)
{
    struct counts *c = arg;
    c->findings++;
    c->fixed += f->fixed != NULL;
    c->kev += f->kev;
    c->epss += f->epss >= 0;
    return 0;
}

static int import_timed(struct vg_vuln_db *db, const char *path, const char *what)
{
    struct vg_vuln_import_report rep;
    char err[512];
    uint64_t t0 = vg_clock_ns();
    if (vg_vuln_db_import(db, path, &rep, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "import %s: %s\n", what, err);
        return -1;
    }
    printf("import %-16s %8zu records %8zu affected %4zu skipped  %8.1f ms\n", what, rep.records,
           rep.affected, rep.skipped, ms_since(t0));
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The agent's inventory_packages event for host h, as the decoder leaves it: the fields the
   server reads and the raw record. */
static int inv_event(struct vg_event *ev, struct vg_sbuf *raw, const struct vg_agent_pkgs *l,
                     size_t h)
{
    char host[32];
    snprintf(host, sizeof(host), "host-%04zu", h);
    vg_event_reset(ev);
    vg_sbuf_reset(raw);
    vg_sbuf_printf(raw,
                   "{\"event.dataset\":\"inventory\",\"event.action\":"
                   "\"inventory_packages\",\"host.name\":\"%s\",\"packages\":[",
                   host);
    for (size_t i = 0; i < l->n; i++) {
        const struct vg_agent_pkg *p = &l->v[i];
        vg_sbuf_printf(raw,
                       "%s{\"name\":\"%s\",\"version\":\"%s\",\"architecture\":\"%s\","
                       "\"type\":\"deb\"",
                       i ? "," : "", p->name, p->version, p->arch);
        if (p->source) {
            vg_sbuf_printf(raw, ",\"source\":\"%s\"", p->source);
        }
        vg_sbuf_addc(raw, '}');
    }
    vg_sbuf_adds(raw, "]}");
    ev->raw = raw->p;
    ev->raw_len = raw->len;
    int rc = vg_event_add_strdup(ev, vg_field_intern("event.dataset", 13), "inventory", 9);
    rc =
        rc ? rc
           : vg_event_add_strdup(ev, vg_field_intern("event.action", 12), "inventory_packages", 18);
    return rc ? rc : vg_event_add_strdup(ev, vg_field_intern("host.name", 9), host, strlen(host));
}

/* The host's facts: Debian 12. */
static int host_event(struct vg_event *ev, size_t h)
{
    char host[32];
    snprintf(host, sizeof(host), "host-%04zu", h);
    vg_event_reset(ev);
    ev->raw = NULL;
    int rc = vg_event_add_strdup(ev, vg_field_intern("event.action", 12), "inventory_host", 14);
    rc = rc ? rc : vg_event_add_strdup(ev, vg_field_intern("host.name", 9), host, strlen(host));
    rc = rc ? rc : vg_event_add_strdup(ev, vg_field_intern("host.os.platform", 16), "debian", 6);
    return rc ? rc : vg_event_add_strdup(ev, vg_field_intern("host.os.version", 15), "12", 2);
}

static int bench_fleet(const char *dir, const struct vg_agent_pkgs *l, size_t hosts)
{
    struct vg_server_conf c;
    struct vg_server_vuln *sv = NULL;
    struct vg_event *ev = vg_event_create();
    struct vg_sbuf raw = VG_SBUF_INIT;
    char err[512] = "";
    if (!ev || vg_server_conf_load(NULL, &c, err, sizeof(err)) != VG_OK) {
        return 1;
    }
    vg_free(c.data_dir);
    c.data_dir = vg_strdup(dir);
    vg_free(c.vuln_db);
    c.vuln_db = vg_strdup(dir);
    c.vuln_recheck_s = 3600;
    if (getenv("VG_BENCH_DEBUG")) {
        vg_log_set_level(VG_LOG_DEBUG);
    }
    if (vg_server_vuln_create(&c, NULL, &sv, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_vuln_scan: server side: %s\n", err);
        return 1;
    }
    uint64_t t0 = vg_clock_ns();
    int rc = VG_OK;
    for (size_t h = 0; h < hosts && rc == VG_OK; h++) {
        rc = host_event(ev, h);
        rc = rc ? rc : vg_server_vuln_observe(sv, NULL, 0, NULL, 0, ev);
        rc = rc ? rc : inv_event(ev, &raw, l, h);
        rc = rc ? rc : vg_server_vuln_observe(sv, NULL, 0, NULL, 0, ev);
    }
    double rec = ms_since(t0);
    t0 = vg_clock_ns();
    rc = rc ? rc : vg_server_vuln_start(sv);
    rc = rc ? rc : vg_server_vuln_wait_idle(sv, 600000);
    double scan = ms_since(t0);
    double again = 0;
    if (rc == VG_OK) {
        t0 = vg_clock_ns();
        rc = vg_server_vuln_rescan(sv, NULL, NULL) == (long)hosts ? VG_OK : VG_EIO;
        rc = rc ? rc : vg_server_vuln_wait_idle(sv, 600000);
        again = ms_since(t0);
    }
    if (rc == VG_OK) {
        printf("server: %zu hosts x %zu packages recorded in %.0f ms (%.1f ms per inventory "
               "event, the ingest path)\n",
               hosts, l->n, rec, rec / (double)hosts);
        printf("server: all %zu hosts matched and their findings stored in %.0f ms (%.1f hosts/s, "
               "%.1f ms per host)\n",
               hosts, scan, (double)hosts * 1000.0 / scan, scan / (double)hosts);
        printf("server: rematching all %zu hosts with nothing changed (what an advisory import "
               "costs): %.0f ms (%.1f ms per host)\n",
               hosts, again, again / (double)hosts);
    } else {
        fprintf(stderr, "bench_vuln_scan: server side failed: %s\n", vg_strerror(rc));
    }
    vg_server_vuln_destroy(sv);
    vg_server_conf_fini(&c);
    vg_event_destroy(ev);
    vg_sbuf_fini(&raw);
    return rc == VG_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *shared = getenv("VG_SHARED");
    char status[600];
    size_t ncve = argc > 1 ? strtoul(argv[1], NULL, 10) : 80000;
    size_t nosv = argc > 2 ? strtoul(argv[2], NULL, 10) : 40000;
    share = argc > 3 && strtoul(argv[3], NULL, 10) > 0 ? strtoul(argv[3], NULL, 10) : 20;
    size_t hosts = argc > 4 ? strtoul(argv[4], NULL, 10) : 100;
    struct vg_agent_pkgs pk = {0};
    struct vg_vuln_pkg *pkgs = NULL;
    struct vg_vuln_db *db = NULL;
    char dir[] = "/tmp/vg-bench-vuln-XXXXXX", p[4][600], err[512];
    double runs[7];
    struct counts c = {0};
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(status, sizeof(status), "%s/corpus/debian/dpkg-status.bookworm-host",
             shared ? shared : "../shared");
    if (vg_agent_inv_dpkg_load(status, &pk, err, sizeof(err)) != VG_OK || pk.n == 0) {
        fprintf(stderr, "bench_vuln_scan: %s: %s\n", status, err);
        return 1;
    }
    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(p[0], sizeof(p[0]), "%s/tracker.json", dir);
    snprintf(p[1], sizeof(p[1]), "%s/all.zip", dir);
    snprintf(p[2], sizeof(p[2]), "%s/epss.csv", dir);
    snprintf(p[3], sizeof(p[3]), "%s/kev.json", dir);
    if (gen_tracker(p[0], &pk, ncve) || gen_osv_zip(p[1], &pk, nosv) ||
        gen_epss_kev(p[2], p[3], ncve) || vg_vuln_db_open(dir, true, &db, err, sizeof(err))) {
        fprintf(stderr, "bench_vuln_scan: setup failed: %s\n", err);
        return 1;
    }
    printf("advisories: %zu tracker CVEs + %zu OSV records = %zu; %zu installed packages\n", ncve,
           nosv, ncve + nosv, pk.n);
    if (import_timed(db, p[0], "debian-tracker") || import_timed(db, p[1], "osv-zip") ||
        import_timed(db, p[2], "epss") || import_timed(db, p[3], "kev")) {
        return 1;
    }
    pkgs = calloc(pk.n, sizeof(*pkgs));
    for (size_t i = 0; pkgs && i < pk.n; i++) {
        pkgs[i] = (struct vg_vuln_pkg){.ecosystem = "Debian:12",
                                       .name = pk.v[i].name,
                                       .source = pk.v[i].source,
                                       .version = pk.v[i].version,
                                       .arch = pk.v[i].arch,
                                       .scheme = VG_VULN_DPKG};
    }
    for (int r = 0; pkgs && r < 7; r++) {
        uint64_t t0 = vg_clock_ns();
        memset(&c, 0, sizeof(c));
        if (vg_vuln_match(db, pkgs, pk.n, NULL, count_finding, &c, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "match: %s\n", err);
            return 1;
        }
        runs[r] = ms_since(t0);
    }
    qsort(runs, 7, sizeof(runs[0]), cmp_double);
    printf("scan %zu packages: %zu findings (%zu with a fix, %zu KEV, %zu with EPSS)\n", pk.n,
           c.findings, c.fixed, c.kev, c.epss);
    printf("scan time: min %.1f ms, median %.1f ms, max %.1f ms over 7 runs (target < 200 ms)\n",
           runs[0], runs[3], runs[6]);
    vg_vuln_db_close(db);
    int rc = hosts ? bench_fleet(dir, &pk, hosts) : 0;
    free(pkgs);
    vg_agent_pkgs_fini(&pk);
    rm_tree(dir);
    return rc;
}
