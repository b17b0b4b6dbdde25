/*
 * vuln.h — vulnerability scanning (issue 8): the shared vocabulary of the module.
 *
 *   vuln_version.c   version schemes: dpkg, rpm, semver, PEP 440 (compare, validate, ranges)
 *   vuln_inv.c       inventories: dpkg status, rpm, apk installed db, Debian Packages indexes,
 *                    "outdated against an index"
 *   vuln_db.c        the advisory database (SQLite): OSV, Debian Security Tracker JSON, EPSS,
 *                    CISA KEV; import and status
 *   vuln_match.c     matching an inventory against the database → findings with reasons
 *   vuln_report.c    table, JSON, SARIF 2.1.0, CycloneDX 1.5 with VEX
 *   vuln_discover.c  network service discovery (TCP connect, banners, fingerprints)
 *
 * Thread-safety: the comparison functions are pure and thread-safe; the database handle is
 * used by one thread at a time.
 */
#ifndef VG_VULN_H
#define VG_VULN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ---------------------------------------------------------------- versions */

enum vg_vuln_scheme {
    VG_VULN_DPKG = 0, /* Debian/Ubuntu: [epoch:]upstream[-revision], '~' sorts before all */
    VG_VULN_RPM,      /* rpmvercmp, [epoch:]version[-release], '~' and '^' */
    VG_VULN_SEMVER,   /* Semantic Versioning 2.0.0 (prerelease ordering, build ignored) */
    VG_VULN_PEP440,   /* Python: epochs, pre/post/dev releases, local versions */
    VG_VULN_APK,      /* Alpine apk versions */
    VG_VULN_SCHEME_COUNT
};

/* "dpkg", "rpm", "semver", "pep440", "apk"; parse → 0 or VG_EINVAL. */
const char *vg_vuln_scheme_name(enum vg_vuln_scheme s);
int vg_vuln_scheme_parse(const char *name, enum vg_vuln_scheme *out);

/*
 * Compare two versions under a scheme: *cmp < 0, 0, > 0. Returns 0, or VG_EINVAL when a
 * version is not valid for the scheme (err, if not NULL, says which and why: "semver: '1.2'
 * has 2 components, expected 3"). Pure, allocation-free, thread-safe.
 */
int vg_vuln_vercmp(enum vg_vuln_scheme s, const char *a, size_t an, const char *b, size_t bn,
                   int *cmp, char *err, size_t errsz);

/*
 * OSV-style range events for one affected range of type ECOSYSTEM/SEMVER:
 * introduced/fixed/last_affected/limit, in the record's order. A version is inside when it is
 * ≥ an introduced and < the next fixed (≤ last_affected, < limit).
 */
enum vg_vuln_event_kind { VG_VULN_INTRODUCED, VG_VULN_FIXED, VG_VULN_LAST_AFFECTED, VG_VULN_LIMIT };
struct vg_vuln_event {
    enum vg_vuln_event_kind kind;
    const char *version; /* "0" for introduced means "from the beginning" */
    size_t len;
};
/* *inside = whether v falls in the range. Returns 0 or VG_EINVAL (unparsable version). */
int vg_vuln_range_contains(enum vg_vuln_scheme s, const struct vg_vuln_event *ev, size_t nev,
                           const char *v, size_t vn, bool *inside, char *err, size_t errsz);

/* ---------------------------------------------------------------- findings */

enum vg_vuln_severity {
    VG_VULN_SEV_UNKNOWN = 0,
    VG_VULN_SEV_NEGLIGIBLE,
    VG_VULN_SEV_LOW,
    VG_VULN_SEV_MEDIUM,
    VG_VULN_SEV_HIGH,
    VG_VULN_SEV_CRITICAL,
};
const char *vg_vuln_severity_name(enum vg_vuln_severity s);

/* One installed package (an inventory entry). Strings are borrowed. */
struct vg_vuln_pkg {
    const char *ecosystem; /* OSV ecosystem: "Debian:12", "Ubuntu:22.04", "PyPI", "Alpine:v3.19" */
    const char *name;      /* binary package name */
    const char *source;    /* source package (dpkg), or NULL */
    const char *version;   /* as the package manager writes it */
    const char *arch;
    enum vg_vuln_scheme scheme;
};

/* Why a package matched an advisory, with the data to rank it. Strings are borrowed from the
 * database or the inventory for the lifetime of the result set. */
struct vg_vuln_finding {
    const struct vg_vuln_pkg *pkg;
    const char *id;      /* CVE-…, DSA-…, GHSA-…, PYSEC-…, OSV id */
    const char *aliases; /* comma-separated */
    const char *summary;
    const char *source; /* "debian-tracker", "osv", … */
    const char *range;  /* the affected range as text: ">= 0, < 1.2.3-1+deb12u1" */
    const char *fixed;  /* the fixed version for this release, or NULL (no fix released) */
    const char *status; /* tracker status: "fixed", "open", "no-dsa", "end-of-life", … */
    enum vg_vuln_severity severity;
    const char *severity_source; /* "debian" (urgency), "cvss:3.1", … */
    double cvss;                 /* base score, -1 unknown */
    double epss;                 /* probability 0-1, -1 unknown */
    double epss_percentile;
    bool kev;            /* in CISA's Known Exploited Vulnerabilities */
    bool low_confidence; /* network discovery: product/version from a banner */
};

#endif
