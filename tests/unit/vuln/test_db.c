/*
 * test_db.c — the advisory database and matching (src/vuln/vuln_db.c, vuln_match.c): import
 * of every accepted format (OSV JSON/YAML/directory/zip, Debian Security Tracker JSON, EPSS
 * CSV, CISA KEV JSON) from fixtures under tests/unit/vuln/data/db/, skipped-record counts and
 * error messages, replacement and rollback, the real OSV PyPI corpus (2,661 records), and the
 * matching rules: per-release tracker status, no-dsa/postponed/ignored/end-of-life, OSV
 * SEMVER/ECOSYSTEM ranges and enumerated versions, EPSS/KEV joined through aliases.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "vgtest.h"
#include "vuln/vuln_db.h"
#include "vuln/vuln_inv.h"

static char root[256];
static int ndb;

static const char *scratch(void)
{
    if (!root[0]) {
        snprintf(root, sizeof(root), "/tmp/vg-test-vuln-db-XXXXXX");
        if (!mkdtemp(root)) {
            return NULL;
        }
    }
    return root;
}

static struct vg_vuln_db *fresh_db(void)
{
    char dir[512], err[256];
    struct vg_vuln_db *db = NULL;
    snprintf(dir, sizeof(dir), "%s/db%d", scratch(), ndb++);
    if (vg_vuln_db_open(dir, true, &db, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "open: %s\n", err);
    }
    return db;
}

static const char *fixture(const char *name)
{
    static char p[1024];
    snprintf(p, sizeof(p), "%s/tests/unit/vuln/data/db/%s", vgt_source_dir(), name);
    return p;
}

static int import(struct vg_vuln_db *db, const char *name, struct vg_vuln_import_report *rep)
{
    char err[512];
    int rc = vg_vuln_db_import(db, fixture(name), rep, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  import %s: %s\n", name, err);
    }
    return rc;
}

/* ---------------------------------------------------------------- findings collector */

struct got {
    char id[64], source[32], status[32], fixed[64], range[160], sevsrc[32];
    bool has_fixed, kev;
    int severity;
    double cvss, epss, pct;
};
struct gotlist {
    struct got v[64];
    size_t n;
};

static void cp(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static int collect(const struct vg_vuln_finding *f, void *arg)
{
    struct gotlist *l = arg;
    struct got *g;
    if (l->n >= 64) {
        return VG_OK;
    }
    g = &l->v[l->n++];
    cp(g->id, sizeof(g->id), f->id);
    cp(g->source, sizeof(g->source), f->source);
    cp(g->status, sizeof(g->status), f->status);
    cp(g->fixed, sizeof(g->fixed), f->fixed);
    cp(g->range, sizeof(g->range), f->range);
    cp(g->sevsrc, sizeof(g->sevsrc), f->severity_source);
    g->has_fixed = f->fixed != NULL;
    g->kev = f->kev;
    g->severity = (int)f->severity;
    g->cvss = f->cvss;
    g->epss = f->epss;
    g->pct = f->epss_percentile;
    return VG_OK;
}

static const struct got *find(const struct gotlist *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i].id, id)) {
            return &l->v[i];
        }
    }
    return NULL;
}

static void match1(struct vg_vuln_db *db, const char *eco, const char *name, const char *src,
                   const char *ver, enum vg_vuln_scheme s, struct gotlist *out)
{
    struct vg_vuln_pkg p = {
        .ecosystem = eco, .name = name, .source = src, .version = ver, .scheme = s};
    char err[256] = "";
    memset(out, 0, sizeof(*out));
    CHECK_EQ_INT(vg_vuln_match(db, &p, 1, NULL, collect, out, err, sizeof(err)), VG_OK);
}

/* A database with every fixture imported. */
static struct vg_vuln_db *full_db(void)
{
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    CHECK(db != NULL);
    CHECK_EQ_INT(import(db, "osv-semver.json", &rep), VG_OK);
    CHECK_EQ_INT(import(db, "osvdir", &rep), VG_OK);
    CHECK_EQ_INT(import(db, "tracker.json", &rep), VG_OK);
    CHECK_EQ_INT(import(db, "epss.csv", &rep), VG_OK);
    CHECK_EQ_INT(import(db, "kev.json", &rep), VG_OK);
    return db;
}

/* ---------------------------------------------------------------- open, CVSS, codenames */

VG_TEST(open_missing_without_create)
{
    char dir[512], err[256];
    struct vg_vuln_db *db = NULL;
    snprintf(dir, sizeof(dir), "%s/nothing", scratch());
    CHECK_EQ_INT(vg_vuln_db_open(dir, false, &db, err, sizeof(err)), VG_ENOENT);
    CHECK(db == NULL);
    CHECK(strstr(err, "vuln.db") != NULL);
}

VG_TEST(cvss3_base_scores)
{
    const char *a = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    const char *b = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N";
    const char *c = "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N";
    const char *d = "CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N";
    CHECK(vg_vuln_cvss3_score(a, strlen(a)) == 9.8);
    CHECK(vg_vuln_cvss3_score(b, strlen(b)) == 5.4);
    CHECK(vg_vuln_cvss3_score(c, strlen(c)) == 6.1);
    CHECK(vg_vuln_cvss3_score(d, strlen(d)) == 0.0);
    CHECK(vg_vuln_cvss3_score("AV:N", 4) < 0);
    CHECK(vg_vuln_cvss3_score("CVSS:4.0/AV:N/AC:L", 18) < 0);
    CHECK_EQ_INT(vg_vuln_severity_of_cvss(9.8), VG_VULN_SEV_CRITICAL);
    CHECK_EQ_INT(vg_vuln_severity_of_cvss(7.0), VG_VULN_SEV_HIGH);
    CHECK_EQ_INT(vg_vuln_severity_of_cvss(5.4), VG_VULN_SEV_MEDIUM);
    CHECK_EQ_INT(vg_vuln_severity_of_cvss(-1), VG_VULN_SEV_UNKNOWN);
}

VG_TEST(debian_codenames)
{
    CHECK_STR(vg_vuln_debian_codename("Debian:12"), "bookworm");
    CHECK_STR(vg_vuln_debian_codename("Debian:11"), "bullseye");
    CHECK_STR(vg_vuln_debian_codename("Debian:bookworm"), "bookworm");
    CHECK_STR(vg_vuln_debian_codename("Debian:13"), "trixie");
    CHECK(vg_vuln_debian_codename("Debian") == NULL);
    CHECK(vg_vuln_debian_codename("Ubuntu:22.04") == NULL);
    CHECK(vg_vuln_debian_codename("Debian:99") == NULL);
}

/* ---------------------------------------------------------------- imports */

VG_TEST(import_osv_json_single)
{
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    CHECK_EQ_INT(import(db, "osv-semver.json", &rep), VG_OK);
    CHECK_STR(rep.source, "osv");
    CHECK_STR(rep.format, "osv-json");
    CHECK_EQ_INT(rep.records, 1);
    CHECK_EQ_INT(rep.affected, 1);
    CHECK_EQ_INT(rep.skipped, 0);
    /* importing the same advisory again replaces it */
    CHECK_EQ_INT(import(db, "osv-semver.json", &rep), VG_OK);
    struct vg_sbuf s = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_vuln_db_status_json(db, &s, NULL, 0), VG_OK);
    CHECK(s.p && strstr(s.p, "\"advisories\":1,\"affected\":1,") != NULL);
    vg_sbuf_fini(&s);
    vg_vuln_db_close(db);
}

VG_TEST(import_osv_directory_json_and_yaml)
{
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    CHECK_EQ_INT(import(db, "osvdir", &rep), VG_OK);
    CHECK_STR(rep.format, "osv-dir");
    CHECK_EQ_INT(rep.files, 4);
    CHECK_EQ_INT(rep.records, 2);
    CHECK_EQ_INT(rep.affected, 2);
    CHECK_EQ_INT(rep.skipped, 2);
    CHECK(rep.first_error[0] != 0);
    CHECK(strstr(rep.first_error, "field '") != NULL);
    vg_vuln_db_close(db);
}

VG_TEST(import_osv_zip)
{
    char zpath[600], bad[600], cmd[8192], err[512];
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    snprintf(zpath, sizeof(zpath), "%s/all.zip", scratch());
    snprintf(bad, sizeof(bad), "%s/bad.zip", scratch());
    snprintf(cmd, sizeof(cmd),
             "python3 -c \"import zipfile,sys\n"
             "z=zipfile.ZipFile(sys.argv[1],'w')\n"
             "z.write(sys.argv[2],'GHSA-aaaa-bbbb-cccc.json',compress_type=zipfile.ZIP_DEFLATED)\n"
             "z.write(sys.argv[3],'PYSEC-2099-1.json',compress_type=zipfile.ZIP_STORED)\n"
             "z.writestr('README','ignored')\n"
             "z.writestr('bad.json','{not json')\n"
             "z.close()\n"
             "d=open(sys.argv[1],'rb').read(); open(sys.argv[4],'wb').write(d[:len(d)//2])\" "
             "%s %s %s %s 2>/dev/null",
             zpath, fixture("osv-semver.json"), fixture("osvdir/PYSEC-2099-1.json"), bad);
    if (system(cmd) != 0) {
        vg_vuln_db_close(db);
        VG_SKIP("python3 not available to build the zip");
    }
    CHECK_EQ_INT(vg_vuln_db_import(db, zpath, &rep, err, sizeof(err)), VG_OK);
    CHECK_STR(rep.format, "osv-zip");
    CHECK_EQ_INT(rep.files, 3);
    CHECK_EQ_INT(rep.records, 2);
    CHECK_EQ_INT(rep.skipped, 1);
    CHECK(strstr(rep.first_error, "all.zip!bad.json:1: JSON") != NULL);
    CHECK_EQ_INT(vg_vuln_db_import(db, bad, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "zip") != NULL);
    vg_vuln_db_close(db);
}

VG_TEST(import_debian_tracker)
{
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    struct vg_sbuf s = VG_SBUF_INIT;
    CHECK_EQ_INT(import(db, "tracker.json", &rep), VG_OK);
    CHECK_STR(rep.source, "debian-tracker");
    CHECK_STR(rep.format, "debian-tracker-json");
    CHECK_EQ_INT(rep.records, 8);
    CHECK_EQ_INT(rep.affected, 13);
    CHECK_EQ_INT(rep.skipped, 1);
    CHECK(strstr(rep.first_error, "TEMP-0000000-BADREC: field 'releases'") != NULL);
    /* re-import replaces the source's rows */
    CHECK_EQ_INT(import(db, "tracker.json", &rep), VG_OK);
    CHECK_EQ_INT(vg_vuln_db_status_json(db, &s, NULL, 0), VG_OK);
    CHECK(s.p && strstr(s.p, "\"advisories\":8,\"affected\":13,") != NULL);
    CHECK(s.p &&
          strstr(s.p, "\"name\":\"debian-tracker\",\"format\":\"debian-tracker-json\"") != NULL);
    vg_sbuf_fini(&s);
    vg_vuln_db_close(db);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

VG_TEST(import_epss_gzip)
{
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    char p[600], err[512], *text = NULL;
    size_t len = 0;
    gzFile gz;
    snprintf(p, sizeof(p), "%s/epss_scores-current.csv.gz", scratch());
    CHECK_EQ_INT(vg_file_read(fixture("epss.csv"), 1 << 20, &text, &len), VG_OK);
    gz = gzopen(p, "wb");
    CHECK(gz != NULL);
    if (gz) {
        gzwrite(gz, text, (unsigned)len);
        gzclose(gz);
    }
    vg_free(text);
    CHECK_EQ_INT(vg_vuln_db_import(db, p, &rep, err, sizeof(err)), VG_OK);
    CHECK_STR(rep.format, "epss-csv");
    CHECK_EQ_INT(rep.records, 3);
    /* a truncated gzip stream is an error, not a partial import */
    FILE *f = fopen(p, "r+");
    if (f) {
        CHECK_EQ_INT(ftruncate(fileno(f), 40), 0);
        fclose(f);
    }
    CHECK_EQ_INT(vg_vuln_db_import(db, p, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "gzip") != NULL);
    vg_vuln_db_close(db);
}

VG_TEST(import_epss_and_kev)
{
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    struct vg_sbuf s = VG_SBUF_INIT;
    CHECK_EQ_INT(import(db, "epss.csv", &rep), VG_OK);
    CHECK_STR(rep.format, "epss-csv");
    CHECK_EQ_INT(rep.records, 3);
    CHECK_EQ_INT(rep.skipped, 2);
    CHECK(strstr(rep.first_error, "epss.csv:6: field 'cve'") != NULL);
    CHECK_EQ_INT(import(db, "kev.json", &rep), VG_OK);
    CHECK_STR(rep.format, "kev-json");
    CHECK_EQ_INT(rep.records, 2);
    CHECK_EQ_INT(rep.skipped, 1);
    CHECK(strstr(rep.first_error, "vulnerabilities[2]: field 'cveID'") != NULL);
    CHECK_EQ_INT(vg_vuln_db_status_json(db, &s, NULL, 0), VG_OK);
    CHECK(s.p && strstr(s.p, "\"epss\":3,\"kev\":2") != NULL);
    CHECK(s.p && strstr(s.p, "\"date\":\"2024-05-01T00:00:00+0000\"") != NULL);
    CHECK(s.p && strstr(s.p, "\"date\":\"2024-05-01T14:00:00.0000Z\"") != NULL);
    vg_sbuf_fini(&s);
    vg_vuln_db_close(db);
}

VG_TEST(import_errors_and_rollback)
{
    struct vg_vuln_db *db = fresh_db();
    struct vg_vuln_import_report rep;
    struct vg_sbuf s = VG_SBUF_INIT;
    char p[600], err[512];
    CHECK_EQ_INT(import(db, "tracker.json", &rep), VG_OK);
    snprintf(p, sizeof(p), "%s/broken-tracker.json", scratch());
    write_file(p, "{\n \"openssl\": {\n  \"CVE-1\": {\"releases\": {}}\n },\n \"x\": [1,,2]\n}\n");
    CHECK_EQ_INT(vg_vuln_db_import(db, p, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "broken-tracker.json:5: JSON") != NULL);
    CHECK_EQ_INT(vg_vuln_db_status_json(db, &s, NULL, 0), VG_OK);
    CHECK(s.p && strstr(s.p, "\"advisories\":8,\"affected\":13,") != NULL);
    vg_sbuf_fini(&s);
    snprintf(p, sizeof(p), "%s/unknown.txt", scratch());
    write_file(p, "hello world\n");
    CHECK_EQ_INT(vg_vuln_db_import(db, p, &rep, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "not a recognised advisory format") != NULL);
    snprintf(p, sizeof(p), "%s/list.json", scratch());
    write_file(p, "{\"a\": 1}");
    CHECK_EQ_INT(vg_vuln_db_import(db, p, &rep, err, sizeof(err)), VG_EINVAL);
    snprintf(p, sizeof(p), "%s/does-not-exist.json", scratch());
    CHECK_EQ_INT(vg_vuln_db_import(db, p, &rep, err, sizeof(err)), VG_ENOENT);
    vg_vuln_db_close(db);
}

VG_TEST(import_real_osv_pypi_corpus)
{
    const char *dir = vgt_shared("corpus/osv-pypi/vulns");
    struct vg_vuln_db *db;
    struct vg_vuln_import_report rep;
    struct gotlist l;
    char err[512];
    struct stat st;
    if (!dir || stat(dir, &st) != 0) {
        VG_SKIP("../shared/corpus/osv-pypi absent");
    }
    db = fresh_db();
    CHECK_EQ_INT(vg_vuln_db_import(db, dir, &rep, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(rep.files, 2661);
    CHECK_EQ_INT(rep.records, 2661);
    CHECK_EQ_INT(rep.skipped, 0);
    CHECK(rep.affected >= 2661);
    if (rep.skipped) {
        fprintf(stderr, "  first: %s\n", rep.first_error);
    }
    /* PYSEC-2020-342: apache-skywalking, every version from 0, CVSS 9.8 */
    match1(db, "PyPI", "apache-skywalking", NULL, "1.0.1", VG_VULN_PEP440, &l);
    const struct got *g = find(&l, "PYSEC-2020-342");
    CHECK(g != NULL);
    if (g) {
        CHECK(g->cvss == 9.8);
        CHECK_EQ_INT(g->severity, VG_VULN_SEV_CRITICAL);
        CHECK_STR(g->range, ">= 0");
    }
    vg_vuln_db_close(db);
}

/* ---------------------------------------------------------------- matching */

VG_TEST(match_tracker_per_release)
{
    struct vg_vuln_db *db = full_db();
    struct gotlist l;
    const struct got *g;
    match1(db, "Debian:12", "libssl3", "openssl", "3.0.11-1~deb12u2", VG_VULN_DPKG, &l);
    CHECK_EQ_INT(l.n, 5);
    /* fixed in this release by a DSA: vulnerable, with the fix */
    g = find(&l, "CVE-2099-1000");
    CHECK(g != NULL);
    if (g) {
        CHECK_STR(g->source, "debian-tracker");
        CHECK_STR(g->status, "fixed");
        CHECK_STR(g->fixed, "3.0.13-1~deb12u1");
        CHECK_STR(g->range, "< 3.0.13-1~deb12u1 (fixed in bookworm)");
        CHECK_EQ_INT(g->severity, VG_VULN_SEV_HIGH);
        CHECK_STR(g->sevsrc, "debian");
        CHECK(g->kev);
        CHECK(g->epss > 0.97 && g->epss < 0.98);
        CHECK(g->pct > 0.99);
    }
    /* fixed only in a later release: vulnerable, no fix for bookworm */
    g = find(&l, "CVE-2099-1001");
    CHECK(g != NULL);
    if (g) {
        CHECK(!g->has_fixed);
        CHECK_STR(g->status, "open");
        CHECK_EQ_INT(g->severity, VG_VULN_SEV_UNKNOWN);
        CHECK(!g->kev);
        CHECK(g->epss < 0);
    }
    g = find(&l, "CVE-2099-1002");
    CHECK(g && !strcmp(g->status, "no-dsa") && g->severity == VG_VULN_SEV_LOW && !g->has_fixed);
    g = find(&l, "CVE-2099-1003");
    CHECK(g && !strcmp(g->status, "postponed") && g->severity == VG_VULN_SEV_NEGLIGIBLE);
    g = find(&l, "CVE-2099-1006");
    CHECK(g && !strcmp(g->status, "undetermined"));
    CHECK(find(&l, "CVE-2099-1004") == NULL); /* fixed_version 0: never affected */
    CHECK(find(&l, "CVE-2099-1005") == NULL); /* installed newer than the fix */
    vg_vuln_db_close(db);
}

VG_TEST(match_tracker_fix_installed_and_other_releases)
{
    struct vg_vuln_db *db = full_db();
    struct gotlist l;
    const struct got *g;
    /* exactly the fixed version, and newer: not vulnerable to 1000 */
    match1(db, "Debian:12", "libssl3", "openssl", "3.0.13-1~deb12u1", VG_VULN_DPKG, &l);
    CHECK(find(&l, "CVE-2099-1000") == NULL);
    CHECK_EQ_INT(l.n, 4);
    match1(db, "Debian:12", "openssl", NULL, "3.0.14-1~deb12u1", VG_VULN_DPKG, &l);
    CHECK(find(&l, "CVE-2099-1000") == NULL);
    /* the binary name is used when there is no source */
    CHECK(find(&l, "CVE-2099-1001") != NULL);
    /* bullseye has its own fixed version */
    match1(db, "Debian:11", "libssl1.1", "openssl", "1.1.1w-0+deb11u1", VG_VULN_DPKG, &l);
    CHECK_EQ_INT(l.n, 1);
    g = find(&l, "CVE-2099-1000");
    CHECK(g && !strcmp(g->fixed, "1.1.1w-0+deb11u2"));
    /* trixie: resolved at the installed version */
    match1(db, "Debian:13", "libssl3", "openssl", "3.3.2-1", VG_VULN_DPKG, &l);
    CHECK_EQ_INT(l.n, 0);
    /* linux: ignored with a guessed urgency; the same CVE under another source package */
    match1(db, "Debian:12", "linux-image-6.1.0-18-amd64", "linux", "6.1.76-1", VG_VULN_DPKG, &l);
    CHECK_EQ_INT(l.n, 2);
    g = find(&l, "CVE-2099-2000");
    CHECK(g && !strcmp(g->status, "ignored") && g->severity == VG_VULN_SEV_MEDIUM);
    g = find(&l, "CVE-2099-1000");
    CHECK(g && !strcmp(g->fixed, "6.1.80-1") && g->kev);
    /* an installed version dpkg rejects is not provably fixed */
    match1(db, "Debian:11", "openssl", NULL, "not a version", VG_VULN_DPKG, &l);
    g = find(&l, "CVE-2099-1000");
    CHECK(g && strstr(g->range, "cannot compare") != NULL);
    match1(db, "Debian:10", "linux-image", "linux", "4.19.249-2", VG_VULN_DPKG, &l);
    g = find(&l, "CVE-2099-2000");
    CHECK(g && !strcmp(g->status, "end-of-life"));
    vg_vuln_db_close(db);
}

VG_TEST(match_osv_semver_ranges)
{
    struct vg_vuln_db *db = full_db();
    struct gotlist l;
    const struct got *g;
    match1(db, "npm", "left-pad", NULL, "1.2.0", VG_VULN_SEMVER, &l);
    CHECK_EQ_INT(l.n, 1);
    g = find(&l, "GHSA-aaaa-bbbb-cccc");
    if (g) {
        CHECK_STR(g->source, "osv");
        CHECK_STR(g->fixed, "1.3.1");
        CHECK_STR(g->range, ">= 1.0.0, < 1.3.1, >= 2.0.0, < 2.0.4");
        CHECK(g->cvss == 9.8);
        CHECK_EQ_INT(g->severity, VG_VULN_SEV_CRITICAL);
        CHECK_STR(g->sevsrc, "cvss:3.1");
        CHECK(g->kev);                           /* through the alias CVE-2024-1111 */
        CHECK(g->epss > 0.50 && g->epss < 0.52); /* same */
    }
    match1(db, "npm", "left-pad", NULL, "2.0.3", VG_VULN_SEMVER, &l);
    CHECK(l.n == 1 && !strcmp(l.v[0].fixed, "2.0.4"));
    match1(db, "npm", "left-pad", NULL, "1.3.1", VG_VULN_SEMVER, &l);
    CHECK_EQ_INT(l.n, 0);
    match1(db, "npm", "left-pad", NULL, "0.9.0", VG_VULN_SEMVER, &l);
    CHECK_EQ_INT(l.n, 0);
    match1(db, "npm", "left-pad", NULL, "2.1.0", VG_VULN_SEMVER, &l);
    CHECK_EQ_INT(l.n, 0);
    match1(db, "PyPI", "left-pad", NULL, "1.2.0", VG_VULN_PEP440, &l);
    CHECK_EQ_INT(l.n, 0); /* other ecosystem */
    vg_vuln_db_close(db);
}

VG_TEST(match_osv_ecosystem_ranges_and_versions)
{
    struct vg_vuln_db *db = full_db();
    struct gotlist l;
    const struct got *g;
    match1(db, "PyPI", "demo-pkg", NULL, "1.9", VG_VULN_PEP440, &l);
    CHECK_EQ_INT(l.n, 1);
    g = find(&l, "PYSEC-2099-1");
    CHECK(g && !strcmp(g->fixed, "2.0.0rc1") && !strcmp(g->range, ">= 0, < 2.0.0rc1"));
    CHECK(g && g->epss > 0 && g->epss < 0.001 && !g->kev); /* alias CVE-2099-0001 */
    match1(db, "PyPI", "demo-pkg", NULL, "2.0.0", VG_VULN_PEP440, &l);
    CHECK_EQ_INT(l.n, 0);
    match1(db, "PyPI", "demo-pkg", NULL, "2.0.0b1", VG_VULN_PEP440, &l);
    CHECK_EQ_INT(l.n, 1);
    match1(db, "PyPI", "listed-pkg", NULL, "1.0.1", VG_VULN_PEP440, &l);
    CHECK_EQ_INT(l.n, 1);
    g = find(&l, "PYSEC-2099-2");
    CHECK(g && !g->has_fixed && strstr(g->range, "listed") != NULL);
    CHECK(g && g->cvss == 5.4 && g->severity == VG_VULN_SEV_MEDIUM);
    match1(db, "PyPI", "listed-pkg", NULL, "1.0.2", VG_VULN_PEP440, &l);
    CHECK_EQ_INT(l.n, 0);
    vg_vuln_db_close(db);
}

/* Ubuntu: OSV's "Ubuntu:22.04:LTS" records name source packages, like Debian's tracker. */
VG_TEST(match_osv_ubuntu_lts_by_source_package)
{
    static const char rec[] =
        "{\"schema_version\":\"1.6.0\",\"id\":\"UBUNTU-CVE-2099-7000\",\"modified\":"
        "\"2026-01-01T00:00:00Z\",\"aliases\":[\"CVE-2099-7000\"],\"summary\":\"ubuntu test\","
        "\"affected\":[{\"package\":{\"ecosystem\":\"Ubuntu:22.04:LTS\",\"name\":\"openssl\"},"
        "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
        "\"3.0.2-0ubuntu1.18\"}]}]}]}";
    struct vg_vuln_db *db = fresh_db();
    struct gotlist l;
    char err[256] = "", eco[64];
    CHECK(db != NULL);
    CHECK_EQ_INT(
        vg_vuln_db_import_mem(db, "ubuntu.json", rec, sizeof(rec) - 1, NULL, err, sizeof(err)),
        VG_OK);
    vg_vuln_os_ecosystem("ubuntu", "22.04", eco, sizeof(eco));
    CHECK_STR(eco, "Ubuntu:22.04:LTS");
    match1(db, eco, "libssl3", "openssl", "3.0.2-0ubuntu1.15", VG_VULN_DPKG, &l);
    CHECK_EQ_INT(l.n, 1);
    CHECK(find(&l, "UBUNTU-CVE-2099-7000") != NULL);
    match1(db, eco, "libssl3", "openssl", "3.0.2-0ubuntu1.18", VG_VULN_DPKG, &l);
    CHECK_EQ_INT(l.n, 0);
    match1(db, "Ubuntu:23.10", "libssl3", "openssl", "3.0.2-0ubuntu1.15", VG_VULN_DPKG, &l);
    CHECK_EQ_INT(l.n, 0); /* another release */
    vg_vuln_db_close(db);
}

/* Alpine: OSV's records name the origin (aport), and apk versions compare as apk does. */
VG_TEST(match_osv_alpine_by_origin)
{
    static const char rec[] =
        "{\"id\":\"ALPINE-CVE-2099-7100\",\"modified\":\"2026-01-01T00:00:00Z\","
        "\"affected\":[{\"package\":{\"ecosystem\":\"Alpine:v3.19\",\"name\":\"openssl\"},"
        "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
        "\"3.1.4-r6\"}]}]}]}";
    struct vg_vuln_db *db = fresh_db();
    struct gotlist l;
    char err[256] = "";
    CHECK(db != NULL);
    CHECK_EQ_INT(
        vg_vuln_db_import_mem(db, "alpine.json", rec, sizeof(rec) - 1, NULL, err, sizeof(err)),
        VG_OK);
    match1(db, "Alpine:v3.19", "libcrypto3", "openssl", "3.1.4-r5", VG_VULN_APK, &l);
    CHECK_EQ_INT(l.n, 1);
    match1(db, "Alpine:v3.19", "libcrypto3", "openssl", "3.1.4-r6", VG_VULN_APK, &l);
    CHECK_EQ_INT(l.n, 0);
    match1(db, "Alpine:v3.19", "libcrypto3", "openssl", "3.1.4_p1-r0", VG_VULN_APK, &l);
    CHECK_EQ_INT(l.n, 0); /* _p (patch) sorts after the release */
    vg_vuln_db_close(db);
}

VG_TEST(match_many_and_stop)
{
    struct vg_vuln_db *db = full_db();
    struct vg_vuln_pkg p[3] = {
        {.ecosystem = "Debian:12",
         .name = "libssl3",
         .source = "openssl",
         .version = "3.0.11-1~deb12u2",
         .scheme = VG_VULN_DPKG},
        {.ecosystem = "npm", .name = "left-pad", .version = "1.2.0", .scheme = VG_VULN_SEMVER},
        {.ecosystem = "PyPI",
         .name = "demo-pkg",
         .version = "not a version!",
         .scheme = VG_VULN_PEP440},
    };
    struct gotlist l;
    char err[256];
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(vg_vuln_match(db, p, 3, NULL, collect, &l, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(l.n, 6);
    /* two binaries of one source at one version: the same findings, each with its package */
    struct vg_vuln_pkg two[3] = {p[0], p[0], p[0]};
    two[1].name = "openssl";
    two[2].version = "3.0.13-1~deb12u1"; /* same source, other version: looked up again */
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(vg_vuln_match(db, two, 3, NULL, collect, &l, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(l.n, 14);
    CHECK(l.n == 14 && !strcmp(l.v[5].id, l.v[0].id) && !strcmp(l.v[5].fixed, l.v[0].fixed));
    /* an explicit release overrides the ecosystem's */
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(vg_vuln_match(db, p, 1, "bullseye", collect, &l, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(l.n, 0); /* 3.0.11 > bullseye's fix */
    vg_vuln_db_close(db);
}

VG_TEST(zz_cleanup)
{
    if (root[0]) {
        vgt_rm_tree(root);
    }
}
