/*
 * test_version.c — version schemes and OSV ranges (src/vuln/vuln_version.c): Debian's 22,984
 * real version pairs as apt/dpkg order them, the PyPI advisory database's enumerated affected
 * versions against its own ranges (every listed version inside, every fix outside), and
 * hand-written cases from rpm's test suite, the semver 2.0.0 spec, packaging's ordering
 * examples, apk-tools and dpkg edge cases; error messages; antisymmetry on all of them.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgtest.h"
#include "vuln/vuln_version.h"

/* cmp(a, b) under scheme s, checking antisymmetry; 99 on error (printed). */
static int vcmp(enum vg_vuln_scheme s, const char *a, const char *b)
{
    char err[256] = "";
    int c1 = 0, c2 = 0;
    if (vg_vuln_vercmp(s, a, strlen(a), b, strlen(b), &c1, err, sizeof(err)) != VG_OK ||
        vg_vuln_vercmp(s, b, strlen(b), a, strlen(a), &c2, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  %s: '%s' vs '%s': %s\n", vg_vuln_scheme_name(s), a, b, err);
        return 99;
    }
    if ((c1 > 0) - (c1 < 0) != -((c2 > 0) - (c2 < 0))) {
        fprintf(stderr, "  %s: not antisymmetric: '%s' '%s' %d %d\n", vg_vuln_scheme_name(s), a, b,
                c1, c2);
        return 98;
    }
    return (c1 > 0) - (c1 < 0);
}

struct vcase {
    const char *a, *b;
    int want;
};

static void run_cases(enum vg_vuln_scheme s, const struct vcase *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int got = vcmp(s, c[i].a, c[i].b);
        if (got != c[i].want) {
            fprintf(stderr, "  %s: cmp('%s', '%s') = %d, expected %d\n", vg_vuln_scheme_name(s),
                    c[i].a, c[i].b, got, c[i].want);
        }
        CHECK_EQ_INT(got, c[i].want);
    }
}

/* Each version strictly below the next one, and equal to itself. */
static void run_chain(enum vg_vuln_scheme s, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_INT(vcmp(s, v[i], v[i]), 0);
        for (size_t j = i + 1; j < n; j++) {
            int got = vcmp(s, v[i], v[j]);
            if (got != -1) {
                fprintf(stderr, "  %s: '%s' should be < '%s' (got %d)\n", vg_vuln_scheme_name(s),
                        v[i], v[j], got);
            }
            CHECK_EQ_INT(got, -1);
        }
    }
}

/* v is rejected by the comparison (or, strict, by vg_vuln_version_check) with a message
 * containing needle. */
static int bad_as(enum vg_vuln_scheme s, const char *v, const char *needle, bool strict)
{
    char err[256] = "";
    int c = 0;
    int rc = strict ? vg_vuln_version_check(s, v, strlen(v), err, sizeof(err))
                    : vg_vuln_vercmp(s, v, strlen(v), "1", 1, &c, err, sizeof(err));
    if (rc == VG_OK || !strstr(err, needle)) {
        fprintf(stderr, "  %s: '%s' rc=%d err='%s' (wanted '%s')\n", vg_vuln_scheme_name(s), v, rc,
                err, needle);
        return 0;
    }
    return 1;
}

static int bad(enum vg_vuln_scheme s, const char *v, const char *needle)
{
    return bad_as(s, v, needle, false) && bad_as(s, v, needle, true);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

VG_TEST(scheme_names)
{
    enum vg_vuln_scheme s = VG_VULN_APK;
    for (int i = 0; i < VG_VULN_SCHEME_COUNT; i++) {
        CHECK_EQ_INT(vg_vuln_scheme_parse(vg_vuln_scheme_name((enum vg_vuln_scheme)i), &s), 0);
        CHECK_EQ_INT(s, i);
    }
    CHECK_STR(vg_vuln_scheme_name(VG_VULN_PEP440), "pep440");
    CHECK_EQ_INT(vg_vuln_scheme_parse("PyPI", &s), 0);
    CHECK_EQ_INT(s, VG_VULN_PEP440);
    CHECK_EQ_INT(vg_vuln_scheme_parse("cobol", &s), VG_EINVAL);
    CHECK_STR(vg_vuln_severity_name(VG_VULN_SEV_CRITICAL), "critical");
    CHECK_STR(vg_vuln_severity_name(VG_VULN_SEV_NEGLIGIBLE), "negligible");
    CHECK_STR(vg_vuln_severity_name((enum vg_vuln_severity)42), "unknown");
}

VG_TEST(dpkg_edge_cases)
{
    static const struct vcase c[] = {
        {"1.0", "1.0", 0},
        {"0:1.0", "1.0", 0},
        {"00:1.0", "0:1.0", 0},
        {"1:0.1", "2.0", 1},
        {"2:1.0", "10:0.1", -1},
        {"1.0~rc1", "1.0", -1},
        {"1.0~~", "1.0~", -1},
        {"1.0~", "1.0", -1},
        {"1.0~~a", "1.0~~", 1},
        {"1.0", "1.0a", -1},
        {"1.0a", "1.0+", -1}, /* letters before non-letters */
        {"1.0+", "1.0.", -1},
        {"1.0-1", "1.0", 1},
        {"1.0-0", "1.0", 0},
        {"1.0-1", "1.0-1.1", -1},
        {"1.0-1~bpo1", "1.0-1", -1},
        {"1.01", "1.1", 0},
        {"1.001", "1.0001", 0},
        {"1.010", "1.9", 1},
        {"2.30-1+deb12u1", "2.30-1", 1},
        {"1.2.3-4-5", "1.2.3-4", 1}, /* revision after the last hyphen: upstream 1.2.3-4 */
        {"1:1.2", "1:1.2-0", 0},
        {"a", "b", -1}, /* no leading digit: dpkg warns, apt compares */
        {"123456789012345678901234567890", "123456789012345678901234567891", -1},
        {"1.99999999999999999999999999999999", "1.100000000000000000000000000000000", -1},
        {"99999999999999999999:1", "100000000000000000000:0", -1},
        {"1.0+dfsg", "1.0", 1},
        {"1.0+dfsg-1", "1.0-1", 1},
        {"7.88.1-10+deb12u5", "7.88.1-10+deb12u12", -1},
    };
    run_cases(VG_VULN_DPKG, c, N(c));
    CHECK(bad(VG_VULN_DPKG, "", "empty"));
    CHECK(bad(VG_VULN_DPKG, "1.0 1", "space"));
    CHECK(bad(VG_VULN_DPKG, "a:1.0", "epoch in version is not a number"));
    CHECK(bad(VG_VULN_DPKG, ":1.0", "epoch in version is empty"));
    CHECK(bad(VG_VULN_DPKG, "1.0-", "revision number is empty"));
    CHECK(bad(VG_VULN_DPKG, "1:", "version number is empty"));
    CHECK(bad(VG_VULN_DPKG, "1.0\n", "control byte"));
}

VG_TEST(rpm_vercmp_suite)
{
    /* rpm's tests/rpmvercmp.at */
    static const struct vcase c[] = {
        {"1.0", "1.0", 0},
        {"1.0", "2.0", -1},
        {"2.0.1", "2.0.1", 0},
        {"2.0", "2.0.1", -1},
        {"2.0.1a", "2.0.1a", 0},
        {"2.0.1a", "2.0.1", 1},
        {"5.5p1", "5.5p1", 0},
        {"5.5p1", "5.5p2", -1},
        {"5.5p10", "5.5p10", 0},
        {"5.5p1", "5.5p10", -1},
        {"10xyz", "10.1xyz", -1},
        {"xyz10", "xyz10", 0},
        {"xyz10", "xyz10.1", -1},
        {"xyz.4", "xyz.4", 0},
        {"xyz.4", "8", -1},
        {"xyz.4", "2", -1},
        {"5.5p2", "5.6p1", -1},
        {"5.6p1", "6.5p1", -1},
        {"6.0.rc1", "6.0", 1},
        {"10b2", "10a1", 1},
        {"1.0aa", "1.0aa", 0},
        {"1.0a", "1.0aa", -1},
        {"10.0001", "10.0001", 0},
        {"10.0001", "10.1", 0},
        {"10.0001", "10.0039", -1},
        {"4.999.9", "5.0", -1},
        {"20101121", "20101121", 0},
        {"20101121", "20101122", -1},
        {"2_0", "2_0", 0},
        {"2.0", "2_0", 0},
        {"a", "a", 0},
        {"a+", "a+", 0},
        {"a+", "a_", 0},
        {"+a", "+a", 0},
        {"+a", "_a", 0},
        {"+", "_", 0},
        {"1.0~rc1", "1.0~rc1", 0},
        {"1.0~rc1", "1.0", -1},
        {"1.0~rc1", "1.0~rc2", -1},
        {"1.0~rc1~git123", "1.0~rc1~git123", 0},
        {"1.0~rc1~git123", "1.0~rc1", -1},
        {"1.0^", "1.0^", 0},
        {"1.0^", "1.0", 1},
        {"1.0^git1", "1.0^git1", 0},
        {"1.0^git1", "1.0", 1},
        {"1.0^git1", "1.0^git2", -1},
        {"1.0^git1", "1.01", -1},
        {"1.0^20160101", "1.0^20160101", 0},
        {"1.0^20160101", "1.0.1", -1},
        {"1.0^20160102", "1.0^20160101^git1", 1},
        {"1.0~rc1^git1", "1.0~rc1^git1", 0},
        {"1.0~rc1^git1", "1.0~rc1", 1},
        {"1.0^git1~pre", "1.0^git1~pre", 0},
        {"1.0^git1", "1.0^git1~pre", 1},
        /* EVR */
        {"1:1.0-1", "2.0-1", 1},
        {"0:1.0-1", "1.0-1", 0},
        {"1.0-1", "1.0-2", -1},
        {"1.0", "1.0-2", 0}, /* rpmverCmp ignores the release when one side has none */
        {"1.0-1.el9", "1.0-1.el9_2", -1},
        {"99999999999999999999999.1", "99999999999999999999999.2", -1},
    };
    run_cases(VG_VULN_RPM, c, N(c));
    CHECK(bad(VG_VULN_RPM, "", "empty"));
    CHECK(bad(VG_VULN_RPM, "1:-1", "version is empty"));
    CHECK(bad(VG_VULN_RPM, "1 .0", "space"));
}

VG_TEST(semver_spec)
{
    /* semver.org §11: 1.0.0-alpha < 1.0.0-alpha.1 < ... < 1.0.0, and 1.0.0 < 2.0.0 < 2.1.0 <
     * 2.1.1 */
    static const char *const chain[] = {
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
        "10.0.0",
        "18446744073709551616.0.0",
    };
    static const struct vcase c[] = {
        {"1.0.0+build.1", "1.0.0+build.2", 0},
        {"1.0.0-alpha+001", "1.0.0-alpha", 0},
        {"1.0.0-0.3.7", "1.0.0-alpha", -1},
        {"1.0.0-x.7.z.92", "1.0.0-x.7.z.93", -1},
        {"1.0.0-a-b", "1.0.0-a", 1},
        {"1.0.0-99999999999999999999999", "1.0.0-100000000000000000000000", -1},
        {"0.0.0", "0.0.0-0", 1},
    };
    run_chain(VG_VULN_SEMVER, chain, N(chain));
    run_cases(VG_VULN_SEMVER, c, N(c));
    CHECK(bad(VG_VULN_SEMVER, "1.2", "'1.2' has 2 components, expected 3"));
    CHECK(bad(VG_VULN_SEMVER, "1", "has 1 component, expected 3"));
    CHECK(bad(VG_VULN_SEMVER, "01.2.3", "major version has a leading zero"));
    CHECK(bad(VG_VULN_SEMVER, "1.2.03", "patch version has a leading zero"));
    CHECK(bad(VG_VULN_SEMVER, "1.2.3-01", "leading zero in pre-release"));
    CHECK(bad(VG_VULN_SEMVER, "1.2.3-", "empty pre-release"));
    CHECK(bad(VG_VULN_SEMVER, "1.2.3-a..b", "empty identifier in pre-release"));
    CHECK(bad(VG_VULN_SEMVER, "1.2.3+", "empty build metadata"));
    CHECK(bad(VG_VULN_SEMVER, "1.2.3+a_b", "invalid character '_' in build metadata"));
    CHECK(bad(VG_VULN_SEMVER, "1.2.3.4", "unexpected '.' after the patch version"));
    CHECK(bad(VG_VULN_SEMVER, "v1.2.3", "major version is not a number"));
    CHECK(bad(VG_VULN_SEMVER, "1.x.3", "minor version is not a number"));
}

VG_TEST(pep440_packaging_order)
{
    /* packaging's tests/test_version.py VERSIONS list, in order */
    static const char *const chain[] = {
        "1.0.dev456",
        "1.0a1",
        "1.0a2.dev456",
        "1.0a12.dev456",
        "1.0a12",
        "1.0b1.dev456",
        "1.0b2",
        "1.0b2.post345.dev456",
        "1.0b2.post345",
        "1.0b2-346",
        "1.0c1.dev456",
        "1.0c1",
        "1.0rc2",
        "1.0c3",
        "1.0",
        "1.0.post456.dev34",
        "1.0.post456",
        "1.1.dev1",
        "1.2+123abc",
        "1.2+123abc456",
        "1.2+abc",
        "1.2+abc123",
        "1.2+abc123def",
        "1.2+1234.abc",
        "1.2+123456",
        "1.2.r32+123456",
        "1.2.rev33+123456",
        "1!1.0.dev456",
        "1!1.0a1",
        "1!1.0a2.dev456",
        "1!1.0a12.dev456",
        "1!1.0a12",
        "1!1.0b1.dev456",
        "1!1.0b2",
        "1!1.0b2.post345.dev456",
        "1!1.0b2.post345",
        "1!1.0b2-346",
        "1!1.0c1.dev456",
        "1!1.0c1",
        "1!1.0rc2",
        "1!1.0c3",
        "1!1.0",
        "1!1.0.post456.dev34",
        "1!1.0.post456",
        "1!1.1.dev1",
        "1!1.2+123abc",
        "1!1.2+123abc456",
        "1!1.2+abc",
        "1!1.2+abc123",
        "1!1.2+abc123def",
        "1!1.2+1234.abc",
        "1!1.2+123456",
        "1!1.2.r32+123456",
        "1!1.2.rev33+123456",
    };
    /* normalisation: equal spellings */
    static const struct vcase c[] = {
        {"1.0", "1.0.0", 0},
        {"1.0", "v1.0", 0},
        {"1.0", "V1.0", 0},
        {"1.0", " 1.0\n", 0},
        {"0!1.0", "1.0", 0},
        {"1.0a1", "1.0alpha1", 0},
        {"1.0a1", "1.0-a.1", 0},
        {"1.0A1", "1.0a_1", 0},
        {"1.0b1", "1.0beta1", 0},
        {"1.0rc1", "1.0c1", 0},
        {"1.0rc1", "1.0pre1", 0},
        {"1.0rc1", "1.0preview1", 0},
        {"1.0rc", "1.0rc0", 0},
        {"1.0.post1", "1.0-1", 0},
        {"1.0.post1", "1.0post1", 0},
        {"1.0.post1", "1.0-r1", 0},
        {"1.0.post1", "1.0.rev1", 0},
        {"1.0.post", "1.0.post0", 0},
        {"1.0.dev", "1.0.dev0", 0},
        {"1.0.DEV1", "1.0-dev1", 0},
        {"1.0a.", "1.0a0", 0},
        {"1.0a.post1", "1.0a0.post1", 0},
        {"1.0+ubuntu-1", "1.0+ubuntu.1", 0},
        {"1.0+UBUNTU_1", "1.0+ubuntu.1", 0},
        {"1.0+1", "1.0+01", 0},
        {"1.0+1", "1.0", 1},
        {"1.0.dev1", "1.0a1", -1},
        {"1.0a1.dev1", "1.0a1", -1},
        {"1.0.post1.dev1", "1.0.post1", -1},
        {"1.0.post1.dev1", "1.0", 1},
        {"2.0", "10.0", -1},
        {"1.0.0.0.0.1", "1.0", 1},
        {"1.99999999999999999999999999", "1.100000000000000000000000000", -1},
    };
    run_chain(VG_VULN_PEP440, chain, N(chain));
    run_cases(VG_VULN_PEP440, c, N(c));
    CHECK(bad(VG_VULN_PEP440, "", "empty"));
    CHECK(bad(VG_VULN_PEP440, "1.0 1", "space"));
    CHECK(bad_as(VG_VULN_PEP440, "frenchtoast", "release segment is not a number", true));
    CHECK(bad_as(VG_VULN_PEP440, "1.0+", "invalid local version label", true));
    CHECK(bad_as(VG_VULN_PEP440, "1.0+a..b", "invalid local version label", true));
    CHECK(bad_as(VG_VULN_PEP440, "1.0.", "unexpected '.'", true));
    CHECK(bad_as(VG_VULN_PEP440, "1.0-beta-gamma", "unexpected 'gamma'", true));
    CHECK(bad_as(VG_VULN_PEP440, "1.0a1b2", "unexpected 'b2'", true));
    CHECK(bad_as(VG_VULN_PEP440,
                 "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24."
                 "25.26.27.28.29.30.31.32.33.34.35.36.37.38.39.40.41.42.43.44.45.46.47.48.49.50.51."
                 "52.53.54.55.56.57.58.59.60.61.62.63.64.65",
                 "more than 64 release segments", true));
}

VG_TEST(pep440_legacy_versions)
{
    /* packaging's LegacyVersion, as OSV orders PyPI's pre-PEP 440 releases */
    static const char *const chain[] = {
        "frenchtoast",
        "trunk",
        "0.1-bulbasaur",
        "0.3.2d",
        "0.3.2e.dev",
        "0.7.10p1",
        "0.7.11p1",
        "2.0.0-final",
        "2013-01-21T20:33:09+0100",
        "2013-01-23T17:11:52+0100",
        "0.0.0.dev0", /* any PEP 440 version is newer than any legacy one */
        "0.7.10",
    };
    static const struct vcase c[] = {
        {"1.0final", "1.0.final", 0},
        {"1.0-pre1", "1.0-rc1", 0},         /* pre, preview and rc all become "c" */
        {"1.0-DEV", "1.0-dev", 0},          /* lowercased */
        {"1.0.0-x", "1.0-x", 0},            /* trailing zero runs dropped before a letter */
        {"999999999.x", "1000000000.x", 1}, /* digit runs compared as zero-padded strings */
        {"0.3.2d", "0.3.2", -1},
    };
    run_chain(VG_VULN_PEP440, chain, N(chain));
    run_cases(VG_VULN_PEP440, c, N(c));
    CHECK(bad_as(VG_VULN_PEP440, "0.7.10p1", "unexpected 'p1'", true));
}

VG_TEST(apk_versions)
{
    /* apk-tools (2.14/3.x) ordering */
    static const struct vcase c[] = {
        {"1.0", "1.0", 0},
        {"1.0", "1.1", -1},
        {"1.0-r0", "1.0-r1", -1},
        {"1.0-r1", "1.0", 1},
        {"1.0_alpha1", "1.0", -1},
        {"1.0_alpha1", "1.0_beta1", -1},
        {"1.0_beta1", "1.0_pre1", -1},
        {"1.0_pre1", "1.0_rc1", -1},
        {"1.0_rc1", "1.0", -1},
        {"1.0", "1.0_p1", -1},
        {"1.0_p1", "1.0.1", -1},
        {"1.0_git20200101", "1.0_p1", -1},
        {"1.0_cvs1", "1.0_svn1", -1},
        {"1.0a", "1.0b", -1},
        {"1.0a", "1.0", 1},
        {"1.01", "1.1", -1},
        {"1.0", "1.00", -1}, /* a leading zero: compared as strings */
        {"1.0~abc", "1.0~abd", -1},
        {"1.0~abc", "1.0", 1},
        {"1.0~abc-r1", "1.0-r1", 1},
        {"1.0_rc1~abc", "1.0", -1},
        {"2.0_alpha", "2.0_alpha1", -1},
        {"2.34-r10", "2.34-r9", 1},
        {"3.0.8-r0", "3.1.4-r5", -1},
        {"1.2.3_rc2-r1", "1.2.3-r0", -1},
        {"99999999999999999999999", "99999999999999999999998", 1},
    };
    run_cases(VG_VULN_APK, c, N(c));
    CHECK(bad(VG_VULN_APK, "1.0-1", "invalid version"));
    CHECK(bad(VG_VULN_APK, "1.0_foo", "invalid version"));
    CHECK(bad(VG_VULN_APK, "1..0", "invalid version"));
    CHECK(bad(VG_VULN_APK, "1.0a1", "invalid version"));
    CHECK(bad(VG_VULN_APK, "1.0-r", "invalid version"));
    CHECK(bad(VG_VULN_APK, "v1.0", "invalid version"));
}

static bool in_range(enum vg_vuln_scheme s, const struct vg_vuln_event *ev, size_t n, const char *v)
{
    bool inside = false;
    char err[256] = "";
    int rc = vg_vuln_range_contains(s, ev, n, v, strlen(v), &inside, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  range: '%s': %s\n", v, err);
    }
    return inside;
}

#define EV(k, v)                                                                                   \
    {                                                                                              \
        VG_VULN_##k, v, sizeof(v) - 1                                                              \
    }

VG_TEST(osv_range_semantics)
{
    static const struct vg_vuln_event two[] = {EV(INTRODUCED, "5.0"), EV(FIXED, "5.2"),
                                               EV(INTRODUCED, "4.0"), EV(FIXED, "4.3")};
    static const struct vg_vuln_event la[] = {EV(INTRODUCED, "0"), EV(LAST_AFFECTED, "1.4")};
    static const struct vg_vuln_event lim[] = {EV(INTRODUCED, "0"), EV(LIMIT, "2.0.0")};
    static const struct vg_vuln_event open_[] = {EV(INTRODUCED, "1.0.0")};
    static const struct vg_vuln_event tie[] = {EV(INTRODUCED, "0"), EV(FIXED, "3.1.1"),
                                               EV(INTRODUCED, "3.1.1"), EV(FIXED, "3.2.0")};
    static const struct vg_vuln_event nolim[] = {EV(INTRODUCED, "1.0.0"), EV(LIMIT, "*")};
    static const struct vg_vuln_event deb[] = {EV(INTRODUCED, "0"), EV(FIXED, "7.88.1-10+deb12u5")};
    bool inside = true;
    char err[128] = "";
    CHECK(!in_range(VG_VULN_PEP440, two, 4, "3.9"));
    CHECK(in_range(VG_VULN_PEP440, two, 4, "4.0"));
    CHECK(in_range(VG_VULN_PEP440, two, 4, "4.2.9"));
    CHECK(!in_range(VG_VULN_PEP440, two, 4, "4.3"));
    CHECK(!in_range(VG_VULN_PEP440, two, 4, "4.9"));
    CHECK(in_range(VG_VULN_PEP440, two, 4, "5.1"));
    CHECK(!in_range(VG_VULN_PEP440, two, 4, "5.2"));
    CHECK(!in_range(VG_VULN_PEP440, two, 4, "5.2.0.post1"));
    CHECK(in_range(VG_VULN_PEP440, la, 2, "0.1"));
    CHECK(in_range(VG_VULN_PEP440, la, 2, "1.4"));
    CHECK(!in_range(VG_VULN_PEP440, la, 2, "1.4.1"));
    CHECK(in_range(VG_VULN_SEMVER, lim, 2, "1.9.9"));
    CHECK(!in_range(VG_VULN_SEMVER, lim, 2, "2.0.0"));
    CHECK(!in_range(VG_VULN_SEMVER, open_, 1, "0.9.9"));
    CHECK(in_range(VG_VULN_SEMVER, open_, 1, "99.0.0"));
    CHECK(in_range(VG_VULN_DPKG, deb, 2, "7.88.1-10+deb12u4"));
    CHECK(!in_range(VG_VULN_DPKG, deb, 2, "7.88.1-10+deb12u5"));
    CHECK(!in_range(VG_VULN_DPKG, deb, 2, "7.88.1-10+deb12u12"));
    CHECK(!in_range(VG_VULN_DPKG, NULL, 0, "1.0"));
    CHECK_EQ_INT(
        vg_vuln_range_contains(VG_VULN_SEMVER, two, 4, "5.1.0", 5, &inside, err, sizeof(err)),
        VG_EINVAL);
    CHECK(strstr(err, "'5.0' has 2 components") != NULL);
    /* equal versions keep the record's order, as a stable sort would */
    CHECK(in_range(VG_VULN_SEMVER, tie, 4, "3.1.1"));
    CHECK(!in_range(VG_VULN_SEMVER, tie, 4, "3.2.0"));
    CHECK(in_range(VG_VULN_SEMVER, nolim, 2, "9.0.0"));
    CHECK_EQ_INT(vg_vuln_range_contains(VG_VULN_SEMVER, lim, 2, "x", 1, &inside, err, sizeof(err)),
                 VG_EINVAL);
}

/* ---------------------------------------------------------------- Debian oracle */

VG_TEST(debian_version_pairs_oracle)
{
    const char *path = vgt_shared("corpus/debian/debian-version-pairs.tsv");
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[1024];
    long n = 0, agree = 0, lineno = 0;
    if (!f) {
        VG_SKIP("../shared/corpus/debian/debian-version-pairs.tsv absent");
    }
    while (fgets(line, sizeof(line), f)) {
        char *a = line, *b, *v, err[256] = "";
        int c = 0, want;
        lineno++;
        if (line[0] == '#' || line[0] == '\n') {
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        b = strchr(a, '\t');
        v = b ? strchr(b + 1, '\t') : NULL;
        if (!v) {
            continue;
        }
        *b++ = '\0';
        *v++ = '\0';
        want = !strcmp(v, "lt") ? -1 : !strcmp(v, "gt") ? 1 : 0;
        n++;
        if (vg_vuln_vercmp(VG_VULN_DPKG, a, strlen(a), b, strlen(b), &c, err, sizeof(err)) != 0) {
            if (n - agree <= 10) {
                fprintf(stderr, "  line %ld: '%s' '%s': %s\n", lineno, a, b, err);
            }
            continue;
        }
        if (c == want) {
            agree++;
        } else if (n - agree <= 10) {
            fprintf(stderr, "  line %ld: '%s' vs '%s': got %d, dpkg says %s\n", lineno, a, b, c, v);
        }
    }
    fclose(f);
    fprintf(stderr, "  debian pairs: %ld/%ld agree\n", agree, n);
    CHECK_EQ_INT(n, 22984);
    CHECK_EQ_INT(agree, n);
}

/* ---------------------------------------------------------------- PyPI advisories oracle */

struct osv_stats {
    long records, entries, listed, inside_checks, fixed_checks, failures, known, errors;
};

/*
 * Where the database contradicts its own ECOSYSTEM ranges under the OSV schema's evaluation
 * (events sorted by version). Each must still occur, so the list cannot go stale silently.
 */
static struct {
    const char *file, *version, *why;
    int seen;
} known[] = {
    {"gevent/PYSEC-2023-177.yaml", "23.9.0", "listed from the GIT range (fix commit after the tag)",
     0},
    {"gevent/PYSEC-2023-177.yaml", "23.9.0.post1", "listed from the GIT range", 0},
    {"pyspark/PYSEC-2023-72.yaml", "3.1.1", "fixed 3.1.1 and introduced 3.1.1 in one range", 0},
    {"pyspark/PYSEC-2022-236.yaml", "3.1.1", "fixed 3.1.1 and introduced 3.1.1 in one range", 0},
    {"wagtail/PYSEC-2021-114.yaml", "2.11.6",
     "overlapping pairs [2.11, 2.11.7) and [0, 2.11.6): the sorted walk ends at 2.11.6", 0},
    {"django/PYSEC-2023-61.yaml", "3.2a1", "pre-release of the introduced 3.2 (3.2a1 < 3.2)", 0},
    {"django/PYSEC-2023-61.yaml", "3.2b1", "pre-release of the introduced 3.2", 0},
    {"django/PYSEC-2023-61.yaml", "3.2rc1", "pre-release of the introduced 3.2", 0},
    {"django/PYSEC-2023-61.yaml", "4.2a1", "pre-release of the introduced 4.2", 0},
    {"django/PYSEC-2023-61.yaml", "4.2b1", "pre-release of the introduced 4.2", 0},
    {"django/PYSEC-2023-61.yaml", "4.2rc1", "pre-release of the introduced 4.2", 0},
};

static bool is_known(const char *file, const char *v, size_t vn)
{
    size_t fl = strlen(file);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        size_t kl = strlen(known[i].file);
        if (fl >= kl && !strcmp(file + fl - kl, known[i].file) && strlen(known[i].version) == vn &&
            !memcmp(known[i].version, v, vn)) {
            known[i].seen++;
            return true;
        }
    }
    return false;
}

/* Collect the ECOSYSTEM ranges' events of one affected[] entry (bounded). */
static size_t collect_ranges(const struct vg_yaml_node *ranges, struct vg_vuln_event (*ev)[64],
                             size_t *nev, size_t maxr)
{
    size_t nr = 0;
    for (size_t i = 0; ranges && ranges->type == VG_YAML_SEQ && i < ranges->n && nr < maxr; i++) {
        const struct vg_yaml_node *r = ranges->items[i];
        const struct vg_yaml_node *evs = vg_yaml_get(r, "events");
        if (!vg_yaml_scalar_is(vg_yaml_get(r, "type"), "ECOSYSTEM") || !evs ||
            evs->type != VG_YAML_SEQ) {
            continue;
        }
        nev[nr] = 0;
        for (size_t j = 0; j < evs->n && nev[nr] < 64; j++) {
            const struct vg_yaml_node *e = evs->items[j];
            static const char *const kinds[] = {"introduced", "fixed", "last_affected", "limit"};
            if (!e || e->type != VG_YAML_MAP || e->n < 1 || !e->items[1]->str) {
                continue;
            }
            for (int k = 0; k < 4; k++) {
                if (vg_yaml_scalar_is(e->items[0], kinds[k])) {
                    ev[nr][nev[nr]++] = (struct vg_vuln_event){(enum vg_vuln_event_kind)k,
                                                               e->items[1]->str, e->items[1]->len};
                }
            }
        }
        nr++;
    }
    return nr;
}

static int union_contains(struct vg_vuln_event (*ev)[64], const size_t *nev, size_t nr,
                          const char *v, size_t vn, bool *inside, char *err, size_t errsz)
{
    *inside = false;
    for (size_t r = 0; r < nr && !*inside; r++) {
        int rc = vg_vuln_range_contains(VG_VULN_PEP440, ev[r], nev[r], v, vn, inside, err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static void check_version(const char *file, struct vg_vuln_event (*ev)[64], const size_t *nev,
                          size_t nr, const char *v, size_t vn, bool want, struct osv_stats *st)
{
    char err[256] = "";
    bool inside = false;
    if (union_contains(ev, nev, nr, v, vn, &inside, err, sizeof(err)) != VG_OK) {
        if (st->errors++ < 20) {
            fprintf(stderr, "  %s: %s\n", file, err);
        }
        return;
    }
    if (inside != want && is_known(file, v, vn)) {
        st->known++;
    } else if (inside != want && st->failures++ < 20) {
        fprintf(stderr, "  %s: version '%.*s' should be %s the ranges\n", file, (int)vn, v,
                want ? "inside" : "outside");
    }
}

static void check_affected(const char *file, const struct vg_yaml_node *aff, struct osv_stats *st)
{
    static struct vg_vuln_event ev[16][64];
    size_t nev[16];
    size_t nr = collect_ranges(vg_yaml_get(aff, "ranges"), ev, nev, 16);
    const struct vg_yaml_node *vers = vg_yaml_get(aff, "versions");
    st->listed += vers && vers->type == VG_YAML_SEQ ? (long)vers->n : 0;
    if (nr == 0) {
        return;
    }
    st->entries++;
    for (size_t i = 0; vers && vers->type == VG_YAML_SEQ && i < vers->n; i++) {
        if (vers->items[i]->str) {
            st->inside_checks++;
            check_version(file, ev, nev, nr, vers->items[i]->str, vers->items[i]->len, true, st);
        }
    }
    for (size_t r = 0; r < nr; r++) {
        for (size_t j = 0; j < nev[r]; j++) {
            if (ev[r][j].kind == VG_VULN_FIXED) {
                st->fixed_checks++;
                check_version(file, ev, nev, nr, ev[r][j].version, ev[r][j].len, false, st);
            }
        }
    }
}

static void check_advisory(const char *path, struct osv_stats *st)
{
    char *text = NULL, err[256] = "";
    size_t len = 0;
    struct vg_yaml_file *y = NULL;
    if (vg_file_read(path, 16u << 20, &text, &len) != VG_OK ||
        vg_yaml_parse(text, len, &y, err, sizeof(err)) != VG_OK || y->ndocs < 1) {
        fprintf(stderr, "  %s: unreadable: %s\n", path, err);
        st->errors++;
        goto out;
    }
    st->records++;
    const struct vg_yaml_node *aff = vg_yaml_get(y->docs[0], "affected");
    for (size_t i = 0; aff && aff->type == VG_YAML_SEQ && i < aff->n; i++) {
        check_affected(path, aff->items[i], st);
    }
out:
    vg_yaml_file_destroy(y);
    vg_free(text);
}

VG_TEST(osv_pypi_oracle)
{
    const char *root = vgt_shared("corpus/osv-pypi/vulns");
    char rootbuf[1024];
    struct osv_stats st = {0};
    DIR *d = root ? opendir(root) : NULL;
    struct dirent *e;
    if (!d) {
        VG_SKIP("../shared/corpus/osv-pypi/vulns absent");
    }
    snprintf(rootbuf, sizeof(rootbuf), "%s", root);
    while ((e = readdir(d))) {
        char dir[2048];
        DIR *pd;
        struct dirent *f;
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(dir, sizeof(dir), "%s/%s", rootbuf, e->d_name);
        pd = opendir(dir);
        while (pd && (f = readdir(pd))) {
            char p[4096];
            size_t l = strlen(f->d_name);
            if (l > 5 && !strcmp(f->d_name + l - 5, ".yaml")) {
                snprintf(p, sizeof(p), "%s/%s", dir, f->d_name);
                check_advisory(p, &st);
            }
        }
        if (pd) {
            closedir(pd);
        }
    }
    closedir(d);
    fprintf(stderr,
            "  osv-pypi: %ld records, %ld affected entries with ECOSYSTEM ranges, %ld listed "
            "versions (%ld checked inside), %ld fixed versions checked outside, %ld known data "
            "discrepancies, %ld failures, %ld errors\n",
            st.records, st.entries, st.listed, st.inside_checks, st.fixed_checks, st.known,
            st.failures, st.errors);
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!known[i].seen) {
            fprintf(stderr, "  known discrepancy no longer seen: %s %s\n", known[i].file,
                    known[i].version);
        }
        CHECK(known[i].seen == 1);
    }
    CHECK_EQ_INT(st.records, 2661);
    CHECK(st.inside_checks >= 140000);
    CHECK_EQ_INT(st.failures, 0);
    CHECK_EQ_INT(st.errors, 0);
}
