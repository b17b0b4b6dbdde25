/*
 * test_report.c — scan reports (src/vuln/vuln_report.c): ordering by real-world risk (KEV,
 * severity, EPSS), the table, the JSON with a reason per finding, VEX suppression (CycloneDX
 * and OpenVEX fixtures), and SARIF 2.1.0 / CycloneDX 1.5 documents validated against their
 * published schemas by tests/vuln/validate_report.py (skipped when the schemas cannot be
 * fetched).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vgtest.h"
#include "vuln/vuln_report.h"

static const struct vg_vuln_pkg pkgs[] = {
    {"Debian:12", "openssl", "openssl", "3.0.11-1~deb12u2", "amd64", VG_VULN_DPKG},
    {"Debian:12", "libfoo1", "foo", "1.0-1", "amd64", VG_VULN_DPKG},
    {"Debian:12", "bar", NULL, "2:1.2+dfsg-3", "all", VG_VULN_DPKG},
};

static struct vg_vuln_report *sample(void)
{
    struct vg_vuln_report_meta m = {"0.1.0", "test-host", "var/lib/dpkg/status", "Debian:12"};
    struct vg_vuln_report *r = NULL;
    struct vg_vuln_finding f[] = {
        {&pkgs[0], "CVE-2024-0001", "DSA-5000-1", "OpenSSL: a low one", "debian-tracker",
         "< 3.0.13-1~deb12u1", "3.0.13-1~deb12u1", "resolved", VG_VULN_SEV_LOW, "debian", 3.1, 0.01,
         0.4, false, false},
        {&pkgs[1], "CVE-2024-0002", NULL, "libfoo heap overflow", "osv", ">= 0, < 1.0-2", "1.0-2",
         NULL, VG_VULN_SEV_HIGH, "cvss:3.1", 8.1, 0.2, 0.97, false, false},
        {&pkgs[2], "CVE-2024-0003", "GHSA-xxxx", "bar RCE \"quoted\" <tag>", "debian-tracker", NULL,
         NULL, "open", VG_VULN_SEV_MEDIUM, "debian", -1, 0.9, 0.99, true, false},
    };
    if (vg_vuln_report_create(&m, &r) != VG_OK) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(pkgs) / sizeof(pkgs[0]); i++) {
        vg_vuln_report_add_pkg(r, &pkgs[i]);
    }
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        vg_vuln_report_add(r, &f[i]);
    }
    return r;
}

static char *render(struct vg_vuln_report *r, enum vg_vuln_report_fmt fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        return NULL;
    }
    CHECK_EQ_INT(vg_vuln_report_write(r, fmt, f), 0);
    fclose(f);
    return buf;
}

static const char *data(const char *name)
{
    static char p[1024];
    snprintf(p, sizeof(p), "%s/tests/unit/vuln/data/report/%s", vgt_source_dir(), name);
    return p;
}

VG_TEST(report_order_table_json)
{
    struct vg_vuln_report *r = sample();
    char *t = render(r, VG_VULN_REPORT_TABLE), *j = render(r, VG_VULN_REPORT_JSON);
    CHECK(t && j);
    /* KEV first, then severity: bar (KEV) < libfoo1 (high) < openssl (low) */
    CHECK(strstr(t, "bar") < strstr(t, "libfoo1") && strstr(t, "libfoo1") < strstr(t, "openssl"));
    CHECK(strstr(t, "3 findings in 3 packages (1 known exploited)") != NULL);
    CHECK(strstr(j, "\"why\":\"libfoo1 1.0-1 (source foo) is affected by CVE-2024-0002: affected "
                    "range >= 0, < 1.0-2; fixed in 1.0-2 [source osv]\"") != NULL);
    CHECK(strstr(j, "no fix released for Debian:12 (status open)") != NULL);
    CHECK(strstr(j, "\"kev\":true") != NULL);
    CHECK(strstr(j, "\"summary\":\"bar RCE \\\"quoted\\\" <tag>\"") != NULL);
    free(t);
    free(j);
    vg_vuln_report_destroy(r);
}

VG_TEST(report_vex_suppresses)
{
    struct vg_vuln_report *r = sample();
    char err[256];
    size_t shown, supp;
    CHECK_EQ_INT(vg_vuln_report_vex(r, data("vex-cyclonedx.json"), err, sizeof(err)), 0);
    CHECK_EQ_INT(vg_vuln_report_vex(r, data("vex-openvex.json"), err, sizeof(err)), 0);
    vg_vuln_report_counts(r, &shown, &supp);
    CHECK_EQ_INT((int)shown, 1);
    CHECK_EQ_INT((int)supp, 2);
    char *j = render(r, VG_VULN_REPORT_JSON);
    CHECK(strstr(j, "\"justification\":\"code_not_reachable\"") != NULL);
    CHECK(strstr(j, "\"justification\":\"vulnerable_code_not_in_execute_path\"") != NULL);
    CHECK(strstr(j, "\"summary\":{\"findings\":1,\"suppressed\":2}") != NULL);
    free(j);
    CHECK_EQ_INT(vg_vuln_report_vex(r, data("nope.json"), err, sizeof(err)), VG_ENOENT);
    CHECK(strstr(err, "nope.json") != NULL);
    vg_vuln_report_destroy(r);
}

/* Write the document and run the schema validator; 77 from it means "cannot check here". */
static int validate(const char *kind, const char *doc)
{
    char path[256], script[1024];
    snprintf(path, sizeof(path), "/tmp/vg-test-report-%d.%s.json", (int)getpid(), kind);
    FILE *f = fopen(path, "w");
    if (!f) {
        return -1;
    }
    fputs(doc, f);
    fclose(f);
    snprintf(script, sizeof(script), "%s/tests/vuln/validate_report.py", vgt_source_dir());
    pid_t pid = fork();
    if (pid == 0) {
        execlp("python3", "python3", script, kind, path, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

VG_TEST(report_sarif_and_cyclonedx_validate)
{
    struct vg_vuln_report *r = sample();
    char err[256];
    CHECK_EQ_INT(vg_vuln_report_vex(r, data("vex-cyclonedx.json"), err, sizeof(err)), 0);
    char *s = render(r, VG_VULN_REPORT_SARIF), *c = render(r, VG_VULN_REPORT_CYCLONEDX);
    CHECK(strstr(s, "\"version\":\"2.1.0\"") && strstr(s, "\"security-severity\":\"5.5\""));
    CHECK(strstr(c, "\"specVersion\":\"1.5\"") &&
          strstr(c, "\"purl\":\"pkg:deb/debian/bar@2%3A1.2%2Bdfsg-3?arch=all&distro=debian-12\""));
    CHECK(strstr(c, "\"state\":\"not_affected\",\"justification\":\"code_not_reachable\""));
    int vs = validate("sarif", s), vc = validate("cyclonedx", c);
    if (vs == 77 || vc == 77) {
        free(s);
        free(c);
        vg_vuln_report_destroy(r);
        VG_SKIP("schemas not reachable (offline) or python3-jsonschema missing");
    }
    CHECK_EQ_INT(vs, 0);
    CHECK_EQ_INT(vc, 0);
    free(s);
    free(c);
    vg_vuln_report_destroy(r);
}
