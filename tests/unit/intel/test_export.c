/*
 * test_export.c — Suricata dataset and Zeek intel exports (intel_export.c): the exact file
 * contents for a set of records of every type (normalisation, base64 string datasets,
 * skipped warninglisted/expired/invalid/duplicate/CIDR/unsupported records, the JSON
 * summary), stale files removed by a later export, and — when Suricata is installed — the
 * generated rules and datasets validated with `suricata -T`.
 */
#include "core/core.h"
#include "intel/intel_export.h"
#include "vgtest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOW 1735689600u /* 2025-01-01 */

struct trec {
    enum vg_intel_type t;
    const char *v, *src, *name, *tags, *ref;
    uint8_t flags;
    uint32_t valid_until;
};

static const struct trec recs[] = {
    {VG_INTEL_IPV4, "198.51.100.7", "feodo", "QakBot C2", "", "", 0, 0},
    {VG_INTEL_IPV4, "10.0.0.0/8", "drop", "", "", "SBL1", 0, 0},
    {VG_INTEL_IPV4, "192.0.2.1/32", "feodo", "", "", "", 0, 0},
    {VG_INTEL_IPV4, "999.1.1.1", "feodo", "", "", "", 0, 0},
    {VG_INTEL_IPV6, "2001:DB8::1", "misc", "", "", "", 0, 0},
    {VG_INTEL_DOMAIN, "*.Evil.Example.", "threatfox", "C2\tserver", "", "", 0, 0},
    {VG_INTEL_DOMAIN, "evil.example", "urlhaus", "", "", "", 0, 0},
    {VG_INTEL_DOMAIN, "google.com", "urlhaus", "", "", "", VG_INTEL_F_WARNINGLISTED, 0},
    {VG_INTEL_DOMAIN, "old.example", "urlhaus", "", "", "", 0, NOW - 1},
    {VG_INTEL_URL, "https://evil.example/a?b=1", "urlhaus", "", "exe,elf",
     "https://urlhaus.abuse.ch/url/1/", 0, 0},
    {VG_INTEL_EMAIL, "Phish@Evil.Example", "misp", "", "", "", 0, NOW + 10},
    {VG_INTEL_MD5, "D41D8CD98F00B204E9800998ECF8427E", "bazaar", "", "", "", 0, 0},
    {VG_INTEL_SHA1, "0123456789abcdef0123456789abcdef01234567", "bazaar", "", "", "", 0, 0},
    {VG_INTEL_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "bazaar",
     "", "", "", 0, 0},
    {VG_INTEL_JA3, "e7e2f3a1b8d6c5a4e7e2f3a1b8d6c5a4", "ja3", "Dridex", "", "", 0, 0},
    {VG_INTEL_FILENAME, "invoice.exe", "misp", "", "", "", 0, 0},
    {VG_INTEL_X509_SHA1, "abcdef0123456789abcdef0123456789abcdef01", "sslbl", "", "", "", 0, 0},
    {VG_INTEL_X509_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "x",
     "", "", "", 0, 0},
};

static int export_all(enum vg_intel_export_fmt f, const char *path, size_t n,
                      struct vg_sbuf *summary)
{
    struct vg_intel_export *x = NULL;
    char err[256];
    int rc = vg_intel_export_create(f, path, NOW, 0, &x, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "  create: %s\n", err);
        return rc;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct vg_intel_rec r = {.type = recs[i].t,
                                 .value = recs[i].v,
                                 .value_len = strlen(recs[i].v),
                                 .flags = recs[i].flags,
                                 .valid_until = recs[i].valid_until,
                                 .name = recs[i].name,
                                 .name_len = strlen(recs[i].name),
                                 .tags = recs[i].tags,
                                 .tags_len = strlen(recs[i].tags),
                                 .ref = recs[i].ref,
                                 .ref_len = strlen(recs[i].ref)};
        rc = vg_intel_export_add(x, recs[i].src, &r);
    }
    if (rc == 0) {
        rc = vg_intel_export_finish(x, summary, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "  finish: %s\n", err);
        }
    }
    vg_intel_export_destroy(x);
    return rc;
}

static const char *slurp(const char *dir, const char *name)
{
    static char buf[16384];
    char path[1024];
    char *t = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s%s%s", dir, name ? "/" : "", name ? name : "");
    if (vg_file_read(path, sizeof(buf) - 1, &t, &len) != 0) {
        return "(missing)";
    }
    memcpy(buf, t, len + 1);
    vg_free(t);
    return buf;
}

static bool exists(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void rm_rf(const char *dir)
{
    static const char *const names[] = {
        "ipv4.lst",     "ipv6.lst", "domain.lst",        "url.lst",           "email.lst",
        "filename.lst", "md5.lst",  "sha1.lst",          "sha256.lst",        "sha512.lst",
        "ja3.lst",      "ja3s.lst", "tls-cert-sha1.lst", "vigie-intel.rules", "intel.dat",
        "eve.json",     "fast.log", "stats.log",         "suricata.log",      NULL};
    char path[1024];
    for (int i = 0; names[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

VG_TEST(suricata_files)
{
    char tmpl[] = "/tmp/vg_intel_export_XXXXXX";
    char *dir = mkdtemp(tmpl);
    struct vg_sbuf sum = VG_SBUF_INIT;
    if (dir == NULL) {
        VG_SKIP("mkdtemp failed");
    }
    CHECK_EQ_INT(export_all(VG_INTEL_EXPORT_SURICATA, dir, sizeof(recs) / sizeof(recs[0]), &sum),
                 0);
    CHECK_STR(slurp(dir, "ipv4.lst"), "198.51.100.7\n192.0.2.1\n");
    CHECK_STR(slurp(dir, "ipv6.lst"), "2001:db8::1\n");
    CHECK_STR(slurp(dir, "domain.lst"), "ZXZpbC5leGFtcGxl\n");
    CHECK_STR(slurp(dir, "url.lst"), "aHR0cHM6Ly9ldmlsLmV4YW1wbGUvYT9iPTE=\n");
    CHECK_STR(slurp(dir, "email.lst"), "cGhpc2hAZXZpbC5leGFtcGxl\n");
    CHECK_STR(slurp(dir, "md5.lst"), "d41d8cd98f00b204e9800998ecf8427e\n");
    CHECK_STR(slurp(dir, "sha1.lst"), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nw==\n");
    CHECK_STR(slurp(dir, "sha256.lst"),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n");
    CHECK_STR(slurp(dir, "ja3.lst"), "ZTdlMmYzYTFiOGQ2YzVhNGU3ZTJmM2ExYjhkNmM1YTQ=\n");
    CHECK_STR(slurp(dir, "filename.lst"), "aW52b2ljZS5leGU=\n");
    CHECK_STR(slurp(dir, "tls-cert-sha1.lst"),
              "YWI6Y2Q6ZWY6MDE6MjM6NDU6Njc6ODk6YWI6Y2Q6ZWY6MDE6MjM6NDU6Njc6ODk6YWI6Y2Q6ZWY6MDE=\n");
    CHECK(!exists(dir, "sha512.lst"));
    CHECK(!exists(dir, "ja3s.lst"));
    CHECK(!exists(dir, "ipv4.lst.tmp"));
    const char *rules = slurp(dir, "vigie-intel.rules");
    CHECK(strstr(rules, "alert ip any any -> any any (msg:\"VIGIE intel IPv4 destination listed "
                        "(ipv4.lst)\"; ip.dst; dataset:isset,vigie-ipv4,type ipv4,load "
                        "ipv4.lst; sid:9700001; rev:1;)\n") != NULL);
    CHECK(strstr(rules, "dns.query; dataset:isset,vigie-domain,type string,load domain.lst;") !=
          NULL);
    CHECK(strstr(rules, "tls.sni; dataset:isset,vigie-domain,type string,load domain.lst;") !=
          NULL);
    CHECK(strstr(rules, "ja3.hash; dataset:isset,vigie-ja3,type string,load ja3.lst;") != NULL);
    CHECK(strstr(rules, "tls.cert_fingerprint; dataset:isset,vigie-tls-cert-sha1") != NULL);
    CHECK(strstr(rules, "file.name; dataset:isset,vigie-filename") != NULL);
    CHECK(strstr(rules, "# md5.lst: 1 entries, dataset vigie-md5 type md5\n") != NULL);
    CHECK(strstr(rules, "ja3s.hash") == NULL);
    CHECK(strstr(sum.p ? sum.p : "",
                 "\"written\":12,\"files\":{\"ipv4.lst\":2,\"ipv6.lst\":1,\"domain.lst\":1,"
                 "\"url.lst\":1,\"email.lst\":1,\"filename.lst\":1,\"md5.lst\":1,\"sha1.lst\":1,"
                 "\"sha256.lst\":1,\"ja3.lst\":1,\"tls-cert-sha1.lst\":1},\"skipped\":{"
                 "\"warninglisted\":1,\"expired\":1,\"invalid\":1,\"duplicate\":1,\"cidr\":1,"
                 "\"unsupported\":1}}") != NULL);
    CHECK(strncmp(sum.p ? sum.p : "", "{\"format\":\"suricata\",\"path\":\"/tmp/", 33) == 0);
    vg_sbuf_fini(&sum);
    if (getenv("VG_KEEP") == NULL) {
        rm_rf(dir);
    } else {
        fprintf(stderr, "  kept %s\n", dir);
    }
}

VG_TEST(suricata_stale_files_removed)
{
    char tmpl[] = "/tmp/vg_intel_export_XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (dir == NULL) {
        VG_SKIP("mkdtemp failed");
    }
    CHECK_EQ_INT(export_all(VG_INTEL_EXPORT_SURICATA, dir, sizeof(recs) / sizeof(recs[0]), NULL),
                 0);
    CHECK(exists(dir, "md5.lst"));
    /* only the first record now: every other dataset file disappears */
    CHECK_EQ_INT(export_all(VG_INTEL_EXPORT_SURICATA, dir, 1, NULL), 0);
    CHECK(exists(dir, "ipv4.lst"));
    CHECK(!exists(dir, "md5.lst"));
    CHECK(!exists(dir, "domain.lst"));
    CHECK(strstr(slurp(dir, "vigie-intel.rules"), "domain") == NULL);
    rm_rf(dir);
}

VG_TEST(zeek_file)
{
    char tmpl[] = "/tmp/vg_intel_export_XXXXXX";
    char *dir = mkdtemp(tmpl);
    char path[512];
    struct vg_sbuf sum = VG_SBUF_INIT;
    if (dir == NULL) {
        VG_SKIP("mkdtemp failed");
    }
    snprintf(path, sizeof(path), "%s/intel.dat", dir);
    CHECK_EQ_INT(export_all(VG_INTEL_EXPORT_ZEEK, path, sizeof(recs) / sizeof(recs[0]), &sum), 0);
    CHECK_STR(slurp(path, NULL),
              "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"
              "198.51.100.7\tIntel::ADDR\tfeodo\tQakBot C2\t-\n"
              "10.0.0.0/8\tIntel::SUBNET\tdrop\t-\t-\n"
              "192.0.2.1\tIntel::ADDR\tfeodo\t-\t-\n"
              "2001:db8::1\tIntel::ADDR\tmisc\t-\t-\n"
              "evil.example\tIntel::DOMAIN\tthreatfox\tC2 server\t-\n"
              "evil.example/a?b=1\tIntel::URL\turlhaus\texe,elf\thttps://urlhaus.abuse.ch/url/1/\n"
              "phish@evil.example\tIntel::EMAIL\tmisp\t-\t-\n"
              "d41d8cd98f00b204e9800998ecf8427e\tIntel::FILE_HASH\tbazaar\t-\t-\n"
              "0123456789abcdef0123456789abcdef01234567\tIntel::FILE_HASH\tbazaar\t-\t-\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\tIntel::FILE_"
              "HASH\tbazaar\t-\t-\n"
              "invoice.exe\tIntel::FILE_NAME\tmisp\t-\t-\n"
              "abcdef0123456789abcdef0123456789abcdef01\tIntel::CERT_HASH\tsslbl\t-\t-\n");
    CHECK(strstr(sum.p ? sum.p : "",
                 "\"written\":12,\"files\":{},\"skipped\":{\"warninglisted\":1,\"expired\":1,"
                 "\"invalid\":1,\"duplicate\":1,\"cidr\":0,\"unsupported\":2}}") != NULL);
    vg_sbuf_fini(&sum);
    rm_rf(dir);
}

VG_TEST(errors)
{
    struct vg_intel_export *x = NULL;
    enum vg_intel_export_fmt f;
    char err[256];
    CHECK_EQ_INT(vg_intel_export_create(VG_INTEL_EXPORT_SURICATA, "/nonexistent/dir/x", 0, 0, &x,
                                        err, sizeof(err)),
                 VG_EIO);
    CHECK(strstr(err, "/nonexistent/dir/x: ") == err);
    CHECK(x == NULL);
    CHECK_EQ_INT(vg_intel_export_create(VG_INTEL_EXPORT_ZEEK, "/nonexistent/intel.dat", 0, 0, &x,
                                        err, sizeof(err)),
                 VG_EIO);
    CHECK_EQ_INT(vg_intel_export_fmt_parse("zeek", &f), 0);
    CHECK_EQ_INT(f, VG_INTEL_EXPORT_ZEEK);
    CHECK_EQ_INT(vg_intel_export_fmt_parse("snort", &f), VG_EINVAL);
    vg_intel_export_destroy(NULL);
}

/* Run argv; returns the exit status (-1 when it could not run). No shell involved. */
static int run_argv(char *const argv[])
{
    pid_t pid = fork();
    int st;
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", 1);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
        return -1;
    }
    return WEXITSTATUS(st);
}

VG_TEST(suricata_validates)
{
    char tmpl[] = "/tmp/vg_intel_export_XXXXXX";
    char *dir = mkdtemp(tmpl);
    char rules[512];
    const char *bin = access("/usr/local/bin/suricata", X_OK) == 0 ? "/usr/local/bin/suricata"
                      : access("/opt/suricata/bin/suricata", X_OK) == 0
                          ? "/opt/suricata/bin/suricata"
                          : NULL;
    if (dir == NULL) {
        VG_SKIP("mkdtemp failed");
    }
    if (bin == NULL) {
        rmdir(dir);
        VG_SKIP("suricata not installed");
    }
    CHECK_EQ_INT(export_all(VG_INTEL_EXPORT_SURICATA, dir, sizeof(recs) / sizeof(recs[0]), NULL),
                 0);
    snprintf(rules, sizeof(rules), "%s/vigie-intel.rules", dir);
    char *argv[] = {(char *)bin, "-T", "-S", rules, "-l", dir, NULL};
    CHECK_EQ_INT(run_argv(argv), 0);
    /* and a broken dataset line is caught by the same check */
    char p[512];
    snprintf(p, sizeof(p), "%s/ipv4.lst", dir);
    FILE *f = fopen(p, "a");
    if (f) {
        fputs("not-an-ip\n", f);
        fclose(f);
    }
    CHECK(run_argv(argv) != 0);
    rm_rf(dir);
}
