/*
 * test_inv.c — inventories (src/vuln/vuln_inv.c): the dpkg status parser against dpkg-query's
 * own parse of a real status file (issue 8 acceptance 3), the "outdated against the security
 * archive" oracle (acceptance 2), deb822 details (continuations, CRLF, Status states,
 * Multi-Arch duplicates, Source forms, errors with file and line), the apk installed db,
 * root-filesystem fixtures with os-release, Packages index lookups, bounds and truncations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vgtest.h"
#include "vuln/vuln_inv.h"

static char errbuf[512];

static const char *fixture(const char *rel)
{
    static char p[1024];
    snprintf(p, sizeof(p), "%s/tests/unit/vuln/data/inv/%s", vgt_source_dir(), rel);
    return p;
}

static const struct vg_vuln_pkg *find(const struct vg_vuln_inv *inv, const char *name,
                                      const char *arch, size_t *at)
{
    for (size_t i = 0; i < inv->n; i++) {
        if (!strcmp(inv->pkgs[i].name, name) && (!arch || !strcmp(inv->pkgs[i].arch, arch))) {
            if (at) {
                *at = i;
            }
            return &inv->pkgs[i];
        }
    }
    return NULL;
}

/* Split a TSV line in place into at most max fields; returns the count. */
static size_t tsv_split(char *line, char **f, size_t max)
{
    size_t n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    f[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == '\t') {
            *p = '\0';
            f[n++] = p + 1;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- corpus oracles */

VG_TEST(dpkg_status_equals_dpkg_query)
{
    const char *st = vgt_shared("corpus/debian/dpkg-status.bookworm-host");
    char tsvp[4096], line[4096], *f[8];
    struct vg_vuln_inv inv = {0};
    size_t rows = 0, ok = 0;
    FILE *t;
    if (!st) {
        VG_SKIP("../shared/corpus/debian absent");
    }
    CHECK_EQ_INT(vg_vuln_inv_from_dpkg_status(st, &inv, errbuf, sizeof(errbuf)), VG_OK);
    CHECK_EQ_INT(inv.bad, 0);
    CHECK_EQ_INT(inv.n, 948);
    snprintf(tsvp, sizeof(tsvp), "%s", vgt_shared("corpus/debian/dpkg-query.expected.tsv"));
    t = fopen(tsvp, "r");
    CHECK(t != NULL);
    while (t && fgets(line, sizeof(line), t)) {
        size_t nf = tsv_split(line, f, 8), at = 0;
        const struct vg_vuln_pkg *p = find(&inv, f[0], f[1], &at);
        rows++;
        CHECK_EQ_INT(nf, 5);
        if (!p || nf != 5) {
            fprintf(stderr, "  missing %s:%s\n", f[0], nf > 1 ? f[1] : "?");
            vgt_failed_checks++;
            continue;
        }
        const char *src = inv.rec[at].source_field ? inv.rec[at].source_field : "";
        if (strcmp(p->version, f[2]) || strcmp(inv.rec[at].status, f[3]) || strcmp(src, f[4])) {
            fprintf(stderr, "  %s: got %s|%s|%s expected %s|%s|%s\n", f[0], p->version,
                    inv.rec[at].status, src, f[2], f[3], f[4]);
            vgt_failed_checks++;
            continue;
        }
        ok++;
    }
    if (t) {
        fclose(t);
    }
    CHECK_EQ_INT(rows, 948);
    CHECK_EQ_INT(ok, 948);
    /* Source defaulting and versions: bash is a binNMU of source bash 5.2.15-2. */
    size_t at = 0;
    const struct vg_vuln_pkg *b = find(&inv, "bash", NULL, &at);
    CHECK(b != NULL);
    if (b) {
        CHECK_STR(b->source, "bash");
        CHECK_STR(inv.rec[at].source_version, "5.2.15-2");
        CHECK_EQ_INT(b->scheme, VG_VULN_DPKG);
    }
    b = find(&inv, "adduser", NULL, &at);
    if (b) {
        CHECK_STR(b->source, "adduser");
        CHECK_STR(inv.rec[at].source_version, b->version);
        CHECK(inv.rec[at].source_field == NULL);
    }
    vg_vuln_inv_fini(&inv);
}

struct expect_row {
    char name[128], inst[128], avail[128];
    bool seen;
};
struct outdated_ctx {
    struct expect_row *rows;
    size_t n, matched, unexpected;
};

static int on_outdated(void *ctx, const struct vg_vuln_pkg *pkg, const char *available)
{
    struct outdated_ctx *c = ctx;
    for (size_t i = 0; i < c->n; i++) {
        if (!strcmp(c->rows[i].name, pkg->name)) {
            if (!c->rows[i].seen && !strcmp(c->rows[i].inst, pkg->version) &&
                !strcmp(c->rows[i].avail, available)) {
                c->rows[i].seen = true;
                c->matched++;
                return 0;
            }
            break;
        }
    }
    fprintf(stderr, "  unexpected outdated %s %s → %s\n", pkg->name, pkg->version, available);
    c->unexpected++;
    return 0;
}

static size_t load_outdated_rows(struct expect_row *rows, size_t max)
{
    const char *p = vgt_shared("corpus/debian/installed-vs-bookworm-security.tsv");
    char line[1024], *f[6];
    size_t n = 0;
    FILE *t = p ? fopen(p, "r") : NULL;
    while (t && fgets(line, sizeof(line), t)) {
        if (tsv_split(line, f, 6) == 4 && !strcmp(f[3], "outdated") && n < max) {
            snprintf(rows[n].name, sizeof(rows[n].name), "%s", f[0]);
            snprintf(rows[n].inst, sizeof(rows[n].inst), "%s", f[1]);
            snprintf(rows[n].avail, sizeof(rows[n].avail), "%s", f[2]);
            rows[n++].seen = false;
        }
    }
    if (t) {
        fclose(t);
    }
    return n;
}

VG_TEST(outdated_against_security_archive)
{
    char st[4096], pk[4096];
    struct vg_vuln_inv inv = {0};
    struct vg_vuln_pkgindex *idx = NULL;
    static struct expect_row rows[512];
    struct outdated_ctx c = {.rows = rows};
    size_t count = 0, nbad = 0;
    if (!vgt_shared("corpus/debian/dpkg-status.bookworm-host") ||
        !vgt_shared("corpus/debian/bookworm-security_main_amd64.Packages")) {
        VG_SKIP("../shared/corpus/debian absent");
    }
    snprintf(st, sizeof(st), "%s", vgt_shared("corpus/debian/dpkg-status.bookworm-host"));
    snprintf(pk, sizeof(pk), "%s",
             vgt_shared("corpus/debian/bookworm-security_main_amd64.Packages"));
    c.n = load_outdated_rows(rows, 512);
    CHECK_EQ_INT(c.n, 83);
    CHECK_EQ_INT(vg_vuln_inv_from_dpkg_status(st, &inv, errbuf, sizeof(errbuf)), VG_OK);
    CHECK_EQ_INT(vg_vuln_pkgindex_load(pk, &idx, errbuf, sizeof(errbuf)), VG_OK);
    CHECK(idx != NULL);
    CHECK_EQ_INT(vg_vuln_pkgindex_bad(idx), 0);
    CHECK(vg_vuln_pkgindex_count(idx) > 1000);
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(
        vg_vuln_outdated(&inv, idx, on_outdated, &c, &count, &nbad, errbuf, sizeof(errbuf)), VG_OK);
    fprintf(stderr, "  outdated check of %zu packages against %zu entries: %.2f ms\n", inv.n,
            vg_vuln_pkgindex_count(idx), (double)(vg_clock_ns() - t0) / 1e6);
    CHECK_EQ_INT(count, 83);
    CHECK_EQ_INT(nbad, 0);
    CHECK_EQ_INT(c.matched, 83);
    CHECK_EQ_INT(c.unexpected, 0);
    vg_vuln_pkgindex_destroy(idx);
    vg_vuln_inv_fini(&inv);
}

/* Every prefix-truncation of the real status file parses without a crash and never yields
 * more packages than the whole. */
VG_TEST(dpkg_status_truncations)
{
    const char *st = vgt_shared("corpus/debian/dpkg-status.bookworm-host");
    char *text = NULL;
    size_t len = 0;
    if (!st) {
        VG_SKIP("../shared/corpus/debian absent");
    }
    CHECK_EQ_INT(vg_file_read(st, 64u << 20, &text, &len), VG_OK);
    for (size_t cut = 0; text && cut < len; cut += 997) {
        struct vg_vuln_inv inv = {0};
        CHECK_EQ_INT(vg_vuln_inv_dpkg_parse(text, cut, "cut", &inv, NULL, 0), VG_OK);
        CHECK(inv.n <= 948);
        vg_vuln_inv_fini(&inv);
    }
    vg_free(text);
}

/* ---------------------------------------------------------------- deb822 details */

static int parse_status(const char *s, struct vg_vuln_inv *inv)
{
    memset(inv, 0, sizeof(*inv));
    errbuf[0] = '\0';
    return vg_vuln_inv_dpkg_parse(s, strlen(s), "status", inv, errbuf, sizeof(errbuf));
}

VG_TEST(dpkg_status_states)
{
    struct vg_vuln_inv inv;
    const char *s = "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n"
                    "Package: b\nStatus: deinstall ok config-files\nVersion: 1\n\n"
                    "Package: c\nStatus: purge ok not-installed\n\n"
                    "Package: d\nStatus: hold ok installed\nArchitecture: all\nVersion: 2\n\n"
                    "Package: e\nStatus: install ok unpacked\nArchitecture: amd64\nVersion: 3\n\n"
                    "Package: f\nStatus: install reinstreq half-installed\nVersion: 3\n\n"
                    "Package: g\nStatus: install ok triggers-pending\nArchitecture: amd64\n"
                    "Version: 4\n\n"
                    "Package: h\nStatus: deinstall ok installed\nArchitecture: amd64\nVersion: 5\n";
    CHECK_EQ_INT(parse_status(s, &inv), VG_OK);
    CHECK_EQ_INT(inv.bad, 0);
    CHECK_EQ_INT(inv.n, 5);
    CHECK(find(&inv, "a", NULL, NULL) && find(&inv, "d", NULL, NULL));
    CHECK(find(&inv, "e", NULL, NULL) && find(&inv, "g", NULL, NULL));
    CHECK(find(&inv, "h", NULL, NULL));
    CHECK(!find(&inv, "b", NULL, NULL) && !find(&inv, "c", NULL, NULL));
    CHECK(!find(&inv, "f", NULL, NULL));
    CHECK_STR(inv.rec[1].status, "hold ok installed");
    vg_vuln_inv_fini(&inv);
}

VG_TEST(dpkg_status_crlf_continuations_multiarch)
{
    struct vg_vuln_inv inv;
    const char *s = "Package: libc6\r\nStatus: install ok installed\r\nArchitecture: amd64\r\n"
                    "Version: 2.36-9\r\nSource: glibc\r\nDescription: x\r\n more\r\n .\r\n"
                    "\r\n"
                    "package: libc6\r\nSTATUS:   install ok installed  \r\n"
                    "architecture:i386\r\nVersion: 2.36-9\r\nsource: glibc\r\n"
                    "Conffiles:\r\n /etc/x 0123\r\n\t/etc/y 4567\r\n"
                    " \t \r\n"
                    "Package: bash\nStatus: install ok installed\nArchitecture: amd64\n"
                    "Source: bash   ( 5.2.15-2 ) \nVersion: 5.2.15-2+b2\n";
    size_t at = 0;
    CHECK_EQ_INT(parse_status(s, &inv), VG_OK);
    CHECK_EQ_INT(inv.bad, 0);
    CHECK_STR(errbuf, "");
    CHECK_EQ_INT(inv.n, 3);
    CHECK(find(&inv, "libc6", "amd64", NULL) != NULL);
    CHECK(find(&inv, "libc6", "i386", &at) != NULL);
    CHECK_STR(inv.pkgs[at].source, "glibc");
    CHECK_STR(inv.rec[at].status, "install ok installed");
    CHECK_EQ_INT(inv.rec[at].line, 10);
    CHECK(find(&inv, "bash", NULL, &at) != NULL);
    CHECK_STR(inv.pkgs[at].source, "bash");
    CHECK_STR(inv.rec[at].source_version, "5.2.15-2");
    CHECK_STR(inv.pkgs[at].version, "5.2.15-2+b2");
    CHECK(inv.pkgs[at].ecosystem == NULL);
    CHECK_EQ_INT(vg_vuln_inv_set_ecosystem(&inv, "Debian:12"), VG_OK);
    CHECK_STR(inv.pkgs[at].ecosystem, "Debian:12");
    vg_vuln_inv_fini(&inv);
}

/* Each malformed paragraph is skipped, counted, and the first one named by file and line. */
VG_TEST(dpkg_status_errors)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"Package: a\nStatus install ok installed\nVersion: 1\n",
         "status:2: expected 'Field: value'"},
        {"Package: a\nStatus: install ok installed\nVersion: 1\n 2\n",
         "status:4: field Version: continuation line in a single-line field"},
        {" x\nPackage: a\n", "status:1: continuation line before any field"},
        {"Package: a\nPackage: b\n", "status:2: duplicate field Package"},
        {"Version: 1\nStatus: install ok installed\n", "status:1: paragraph without Package"},
        {"\n\nPackage: a\nVersion: 1\n", "status:3: package a: no Status field"},
        {"Package: a\nStatus: install ok\nVersion: 1\n",
         "status:1: package a: Status is not 'WANT FLAG STATUS'"},
        {"Package: a\nStatus: install ok weird\nVersion: 1\n",
         "status:1: package a: Status is not 'WANT FLAG STATUS'"},
        {"Package: a\nStatus: install ok installed\n",
         "status:1: package a: installed without a Version"},
        {"Package: a\nStatus: install ok installed\nVersion: 1\nSource: b (1\n",
         "status:1: package a: Source is not 'NAME [(VERSION)]'"},
        {"Package: a b\nStatus: install ok installed\nVersion: 1\n",
         "status:1: invalid Package 'a b'"},
        {"Package: a\nStatus: install ok installed\nVersion: 1 2\n",
         "status:1: package a: invalid Version"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_vuln_inv inv;
        char text[512];
        /* A good paragraph after the bad one still parses. */
        snprintf(text, sizeof(text),
                 "%s\nPackage: ok\nStatus: install ok installed\nVersion: 1\nArchitecture: all\n",
                 cases[i].text);
        CHECK_EQ_INT(parse_status(text, &inv), VG_OK);
        CHECK_EQ_INT(inv.bad, 1);
        CHECK_STR(errbuf, cases[i].err);
        CHECK_STR(inv.err, cases[i].err);
        CHECK_EQ_INT(inv.n, 1);
        CHECK(find(&inv, "ok", NULL, NULL) != NULL);
        vg_vuln_inv_fini(&inv);
    }
    /* An over-long field. */
    struct vg_vuln_inv inv;
    char *big = malloc(4096);
    snprintf(big, 4096, "Package: a\nVersion: %02000d\n", 1);
    CHECK_EQ_INT(parse_status(big, &inv), VG_OK);
    CHECK_STR(errbuf, "status:2: field Version: value longer than 1024 bytes");
    CHECK_EQ_INT(inv.n, 0);
    vg_vuln_inv_fini(&inv);
    free(big);
    /* Files: absent, and the message names it. */
    memset(&inv, 0, sizeof(inv));
    CHECK_EQ_INT(vg_vuln_inv_from_dpkg_status("/nonexistent/status", &inv, errbuf, sizeof(errbuf)),
                 VG_ENOENT);
    CHECK(strstr(errbuf, "/nonexistent/status") != NULL);
    vg_vuln_inv_fini(&inv);
    vg_vuln_inv_fini(NULL);
}

/* A 300,000-package status file with long descriptions: linear time, everything kept. */
VG_TEST(dpkg_status_huge)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    struct vg_vuln_inv inv = {0};
    const size_t n = 300000;
    for (size_t i = 0; i < n; i++) {
        vg_sbuf_printf(&s,
                       "Package: pkg%zu\nStatus: install ok installed\nArchitecture: amd64\n"
                       "Version: 1:%zu.0-1\nDescription: d\n line one\n line two\n\n",
                       i, i);
    }
    CHECK_EQ_INT(s.err, 0);
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(vg_vuln_inv_dpkg_parse(s.p, s.len, "huge", &inv, NULL, 0), VG_OK);
    fprintf(stderr, "  %zu packages (%.1f MB) in %.1f ms\n", inv.n, (double)s.len / 1e6,
            (double)(vg_clock_ns() - t0) / 1e6);
    CHECK_EQ_INT(inv.n, n);
    CHECK_EQ_INT(inv.bad, 0);
    CHECK_STR(inv.pkgs[n - 1].name, "pkg299999");
    vg_vuln_inv_fini(&inv);
    vg_sbuf_fini(&s);
}

/* ---------------------------------------------------------------- apk */

VG_TEST(apk_installed_db)
{
    char *text = NULL;
    size_t len = 0, at = 0;
    struct vg_vuln_inv inv = {0};
    CHECK_EQ_INT(vg_file_read(fixture("root-alpine/lib/apk/db/installed"), 1 << 20, &text, &len),
                 VG_OK);
    CHECK_EQ_INT(vg_vuln_inv_from_apk(text, len, "installed", &inv, errbuf, sizeof(errbuf)), VG_OK);
    CHECK_EQ_INT(inv.bad, 0);
    CHECK_EQ_INT(inv.n, 3);
    CHECK(find(&inv, "libcrypto3", "x86_64", &at) != NULL);
    CHECK_STR(inv.pkgs[at].version, "3.1.4-r5");
    CHECK_STR(inv.pkgs[at].source, "openssl");
    CHECK_EQ_INT(inv.pkgs[at].scheme, VG_VULN_APK);
    CHECK(inv.rec[at].status == NULL);
    CHECK_EQ_INT(inv.rec[at].line, 23);
    CHECK(find(&inv, "musl", NULL, &at) != NULL);
    CHECK_STR(inv.pkgs[at].version, "1.2.4_git20230717-r4");
    vg_vuln_inv_fini(&inv);
    vg_free(text);

    const char *bad = "P:a\nV:1\nA:x86_64\n\nP:b\nbroken line\nV:2\n\nP:c\r\nP:c2\r\n\r\n"
                      "V:3\nA:x\n\nP:d\nV:4\no:src\n";
    memset(&inv, 0, sizeof(inv));
    CHECK_EQ_INT(vg_vuln_inv_from_apk(bad, strlen(bad), "db", &inv, errbuf, sizeof(errbuf)), VG_OK);
    CHECK_EQ_INT(inv.bad, 3);
    CHECK_STR(errbuf, "db:6: expected 'K:value'");
    CHECK_EQ_INT(inv.n, 2);
    CHECK(find(&inv, "a", NULL, NULL) && find(&inv, "d", NULL, &at));
    CHECK_STR(inv.pkgs[at].source, "src");
    CHECK_STR(inv.pkgs[at].arch, "");
    vg_vuln_inv_fini(&inv);
}

/* ---------------------------------------------------------------- roots and os-release */

VG_TEST(root_debian)
{
    struct vg_vuln_inv inv = {0};
    size_t at = 0;
    CHECK_EQ_INT(vg_vuln_inv_from_root(fixture("root-debian"), &inv, errbuf, sizeof(errbuf)),
                 VG_OK);
    CHECK_STR(inv.os_id, "debian");
    CHECK_STR(inv.os_version, "12");
    CHECK_STR(inv.ecosystem, "Debian:12");
    CHECK_EQ_INT(inv.n, 4);
    CHECK_EQ_INT(inv.bad, 0);
    CHECK(find(&inv, "libc6", "i386", &at) != NULL);
    CHECK_STR(inv.pkgs[at].ecosystem, "Debian:12");
    CHECK_STR(inv.pkgs[at].source, "glibc");
    CHECK(find(&inv, "oldpkg", NULL, NULL) == NULL);
    CHECK(find(&inv, "tzdata", "all", NULL) != NULL);
    vg_vuln_inv_fini(&inv);
}

VG_TEST(root_alpine_and_empty)
{
    struct vg_vuln_inv inv = {0};
    CHECK_EQ_INT(vg_vuln_inv_from_root(fixture("root-alpine/"), &inv, errbuf, sizeof(errbuf)),
                 VG_OK);
    CHECK_STR(inv.ecosystem, "Alpine:v3.19");
    CHECK_EQ_INT(inv.n, 3);
    CHECK_STR(inv.pkgs[0].ecosystem, "Alpine:v3.19");
    vg_vuln_inv_fini(&inv);
    CHECK_EQ_INT(vg_vuln_inv_from_root(fixture("root-empty"), &inv, errbuf, sizeof(errbuf)),
                 VG_ENOENT);
    CHECK(strstr(errbuf, "no dpkg, apk or rpm package database") != NULL);
    vg_vuln_inv_fini(&inv);
}

/* /etc/os-release as an absolute symlink is resolved inside the root, not on the host. */
VG_TEST(root_osrelease_absolute_symlink)
{
    char dir[] = "/tmp/vg_inv_rootXXXXXX", p[512];
    struct vg_vuln_inv inv = {0};
    FILE *f;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(p, sizeof(p), "%s/etc", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/usr", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/usr/lib", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/usr/lib/os-release", dir);
    f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("ID=ubuntu\nVERSION_ID=\"22.04\"\n", f);
        fclose(f);
    }
    snprintf(p, sizeof(p), "%s/etc/os-release", dir);
    CHECK_EQ_INT(symlink("/usr/lib/os-release", p), 0);
    CHECK_EQ_INT(vg_vuln_inv_from_root(dir, &inv, errbuf, sizeof(errbuf)), VG_ENOENT);
    CHECK_STR(inv.ecosystem, "Ubuntu:22.04:LTS");
    vg_vuln_inv_fini(&inv);
    unlink(p);
    snprintf(p, sizeof(p), "%s/usr/lib/os-release", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/usr/lib", dir);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/usr", dir);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/etc", dir);
    rmdir(p);
    rmdir(dir);
}

VG_TEST(osrelease_ecosystems)
{
    static const struct {
        const char *text, *eco;
    } cases[] = {
        {"ID=debian\nVERSION_ID=\"12\"\n", "Debian:12"},
        {"NAME=\"Ubuntu\"\r\nID=ubuntu\r\nVERSION_ID=\"22.04\"\r\n", "Ubuntu:22.04:LTS"},
        {"ID=ubuntu\nVERSION_ID=\"23.10\"\n", "Ubuntu:23.10"},
        {"ID=ubuntu\nVERSION_ID=\"23.04\"\n", "Ubuntu:23.04"},
        {"ID=ubuntu\nVERSION_ID=\"24.04\"\n", "Ubuntu:24.04:LTS"},
        {"ID=alpine\nVERSION_ID=3.19.1\n", "Alpine:v3.19"},
        {"ID=\"rhel\"\nVERSION_ID=\"9.3\"\n", "Red Hat:9"},
        {"ID='rocky'\nVERSION_ID='8.9'\n", "Rocky Linux:8"},
        {"ID=debian\nVERSION_CODENAME=trixie\n", "Debian"},
        {"ID=\"my\\\"os\"\nVERSION_ID=1\n", "my\"os:1"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_vuln_inv inv = {0};
        CHECK_EQ_INT(vg_vuln_inv_osrelease_parse(cases[i].text, strlen(cases[i].text), &inv),
                     VG_OK);
        CHECK_STR(inv.ecosystem, cases[i].eco);
        vg_vuln_inv_fini(&inv);
    }
    struct vg_vuln_inv inv = {0};
    CHECK_EQ_INT(vg_vuln_inv_osrelease_parse("NAME=x\n", 7, &inv), VG_ENOENT);
    vg_vuln_inv_fini(&inv);
}

/* ---------------------------------------------------------------- Packages indexes */

static const char *const INDEX =
    "Package: apt\nVersion: 2.6.1\nArchitecture: amd64\nDescription: x\n y\n\n"
    "Package: apt\nVersion: 2.6.2\nArchitecture: amd64\n\n"
    "Package: apt\nVersion: 2.6.10\nArchitecture: i386\n\n"
    "Package: apt\nVersion: 2.6.1+deb12u1~bpo1\nArchitecture: amd64\n\n"
    "Package: tzdata\nVersion: 2025b-0+deb12u1\nArchitecture: all\n\n"
    "Package: libfoo\nVersion: 1:1.0-1\nArchitecture: amd64\n\n"
    "Package: broken\nArchitecture: amd64\n\n"
    "Package: epoch\nVersion: 1.0-1\nArchitecture: amd64\n\n";

VG_TEST(pkgindex_best)
{
    struct vg_vuln_pkgindex *idx = NULL;
    const char *v = NULL;
    CHECK_EQ_INT(
        vg_vuln_pkgindex_parse(INDEX, strlen(INDEX), "Packages", &idx, errbuf, sizeof(errbuf)),
        VG_OK);
    CHECK_EQ_INT(vg_vuln_pkgindex_count(idx), 7);
    CHECK_EQ_INT(vg_vuln_pkgindex_bad(idx), 1);
    CHECK_STR(errbuf, "Packages:27: paragraph without Version");
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "apt", "amd64", &v, NULL, 0), VG_OK);
    CHECK_STR(v, "2.6.2");
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "apt", "i386", &v, NULL, 0), VG_OK);
    CHECK_STR(v, "2.6.10");
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "apt", NULL, &v, NULL, 0), VG_OK);
    CHECK_STR(v, "2.6.10");
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "apt", "all", &v, NULL, 0), VG_OK);
    CHECK_STR(v, "2.6.10");
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "apt", "arm64", &v, NULL, 0), VG_ENOENT);
    CHECK(v == NULL);
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "tzdata", "arm64", &v, NULL, 0), VG_OK);
    CHECK_STR(v, "2025b-0+deb12u1");
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "nope", "amd64", &v, NULL, 0), VG_ENOENT);
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "broken", "amd64", &v, NULL, 0), VG_ENOENT);
    vg_vuln_pkgindex_destroy(idx);
    vg_vuln_pkgindex_destroy(NULL);

    /* Empty index, absent file. */
    CHECK_EQ_INT(vg_vuln_pkgindex_parse("", 0, "empty", &idx, errbuf, sizeof(errbuf)), VG_OK);
    CHECK_EQ_INT(vg_vuln_pkgindex_best(idx, "apt", "amd64", &v, NULL, 0), VG_ENOENT);
    vg_vuln_pkgindex_destroy(idx);
    CHECK_EQ_INT(vg_vuln_pkgindex_load("/nonexistent/Packages", &idx, errbuf, sizeof(errbuf)),
                 VG_ENOENT);
    CHECK(idx == NULL);
    CHECK(strstr(errbuf, "/nonexistent/Packages") != NULL);
}

struct collect {
    char names[16][32];
    size_t n;
};
static int collect_fn(void *ctx, const struct vg_vuln_pkg *pkg, const char *available)
{
    struct collect *c = ctx;
    if (c->n < 16) {
        snprintf(c->names[c->n++], 32, "%s=%s", pkg->name, available);
    }
    return 0;
}
static int stop_fn(void *ctx, const struct vg_vuln_pkg *pkg, const char *available)
{
    (*(int *)ctx)++;
    return 7;
}

VG_TEST(outdated_rules)
{
    struct vg_vuln_pkgindex *idx = NULL;
    struct vg_vuln_inv inv;
    struct collect c = {0};
    size_t count = 0, nbad = 0;
    int calls = 0;
    const char *st =
        "Package: apt\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.6.1\n\n"
        "Package: apt\nStatus: install ok installed\nArchitecture: arm64\nVersion: 2.6.1\n\n"
        "Package: tzdata\nStatus: install ok installed\nArchitecture: all\n"
        "Version: 2024a-0+deb12u1\n\n"
        "Package: libfoo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.0-1\n\n"
        "Package: epoch\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n\n"
        "Package: local\nStatus: install ok installed\nArchitecture: amd64\nVersion: 9\n";
    CHECK_EQ_INT(vg_vuln_pkgindex_parse(INDEX, strlen(INDEX), "Packages", &idx, NULL, 0), VG_OK);
    CHECK_EQ_INT(parse_status(st, &inv), VG_OK);
    CHECK_EQ_INT(inv.n, 6);
    CHECK_EQ_INT(vg_vuln_outdated(&inv, idx, collect_fn, &c, &count, &nbad, errbuf, sizeof(errbuf)),
                 VG_OK);
    CHECK_EQ_INT(count, 3);
    CHECK_EQ_INT(nbad, 0);
    CHECK_STR(c.names[0], "apt=2.6.2");
    CHECK_STR(c.names[1], "tzdata=2025b-0+deb12u1");
    CHECK_STR(c.names[2], "libfoo=1:1.0-1");
    /* The callback stops the walk with its value. */
    CHECK_EQ_INT(vg_vuln_outdated(&inv, idx, stop_fn, &calls, &count, NULL, NULL, 0), 7);
    CHECK_EQ_INT(calls, 1);
    CHECK_EQ_INT(count, 1);
    vg_vuln_inv_fini(&inv);

    /* A version dpkg cannot parse is counted and named, not reported as outdated. */
    const char *bad = "Package: apt\nStatus: install ok installed\nArchitecture: amd64\n"
                      "Version: x:1\n";
    CHECK_EQ_INT(parse_status(bad, &inv), VG_OK);
    CHECK_EQ_INT(vg_vuln_outdated(&inv, idx, collect_fn, &c, &count, &nbad, errbuf, sizeof(errbuf)),
                 VG_OK);
    CHECK_EQ_INT(count, 0);
    CHECK_EQ_INT(nbad, 1);
    CHECK(strncmp(errbuf, "package apt: ", 13) == 0);
    vg_vuln_inv_fini(&inv);
    vg_vuln_pkgindex_destroy(idx);
}

/* ---------------------------------------------------------------- allocation failures */

/* Every allocation of every parser fails in turn: VG_ENOMEM or success, never a leak or
 * crash (ASan build). */
VG_TEST(allocation_failures)
{
    char *status = NULL, *apk = NULL;
    size_t slen = 0, alen = 0;
    int seen_nomem = 0;
    CHECK_EQ_INT(vg_file_read(fixture("root-debian/var/lib/dpkg/status"), 1 << 20, &status, &slen),
                 VG_OK);
    CHECK_EQ_INT(vg_file_read(fixture("root-alpine/lib/apk/db/installed"), 1 << 20, &apk, &alen),
                 VG_OK);
    for (long n = 1; n < 200 && status && apk; n++) {
        struct vg_vuln_inv inv = {0};
        struct vg_vuln_pkgindex *idx = NULL;
        int r1, r2, r3, r4;
        vg_alloc_fail_at(n);
        r1 = vg_vuln_inv_dpkg_parse(status, slen, "status", &inv, NULL, 0);
        vg_vuln_inv_fini(&inv);
        vg_alloc_fail_at(n);
        r2 = vg_vuln_inv_from_apk(apk, alen, "apk", &inv, NULL, 0);
        vg_vuln_inv_fini(&inv);
        vg_alloc_fail_at(n);
        r3 = vg_vuln_pkgindex_parse(INDEX, strlen(INDEX), "Packages", &idx, NULL, 0);
        vg_vuln_pkgindex_destroy(idx);
        vg_alloc_fail_at(n);
        r4 = vg_vuln_inv_from_root(fixture("root-debian"), &inv, errbuf, sizeof(errbuf));
        vg_vuln_inv_fini(&inv);
        vg_alloc_fail_at(0);
        CHECK(r1 == VG_OK || r1 == VG_ENOMEM);
        CHECK(r2 == VG_OK || r2 == VG_ENOMEM);
        CHECK(r3 == VG_OK || r3 == VG_ENOMEM);
        CHECK(r4 == VG_OK || r4 == VG_ENOMEM || r4 == VG_EIO);
        seen_nomem += r1 == VG_ENOMEM || r3 == VG_ENOMEM;
    }
    CHECK(seen_nomem > 0);
    vg_free(status);
    vg_free(apk);
}
