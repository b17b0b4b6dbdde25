/*
 * vuln_report.h — findings of a scan written for people and tools (issue 8): a table (the
 * default), JSON, SARIF 2.1.0 and CycloneDX 1.5 (the inventory as components, the findings
 * as vulnerabilities with VEX analysis). A VEX document (CycloneDX or OpenVEX) suppresses
 * findings with a justification.
 *
 * Findings are copied in (the caller's strings may go away after vg_vuln_report_add) and
 * sorted for the reader: known exploited (KEV) first, then severity, EPSS, CVSS.
 */
#ifndef VG_VULN_REPORT_H
#define VG_VULN_REPORT_H

#include <stdio.h>

#include "vuln/vuln.h"

enum vg_vuln_report_fmt {
    VG_VULN_REPORT_TABLE = 0,
    VG_VULN_REPORT_JSON,
    VG_VULN_REPORT_SARIF,
    VG_VULN_REPORT_CYCLONEDX,
};
int vg_vuln_report_fmt_parse(const char *name, enum vg_vuln_report_fmt *out);

struct vg_vuln_report_meta {
    const char *tool_version; /* "0.1.0" */
    const char *target;       /* what was scanned: "/", "dpkg-status.bookworm-host", a host */
    const char *location;     /* the inventory file, relative for SARIF ("var/lib/dpkg/status") */
    const char *ecosystem;    /* "Debian:12" */
};

struct vg_vuln_report;

int vg_vuln_report_create(const struct vg_vuln_report_meta *meta, struct vg_vuln_report **out);
void vg_vuln_report_destroy(struct vg_vuln_report *r);
/* An inventory entry (a CycloneDX component); copied. */
int vg_vuln_report_add_pkg(struct vg_vuln_report *r, const struct vg_vuln_pkg *p);
/* A finding; copied (its pkg too). */
int vg_vuln_report_add(struct vg_vuln_report *r, const struct vg_vuln_finding *f);
/*
 * Load a VEX document: CycloneDX ("vulnerabilities":[{"id","analysis":{"state",
 * "justification","detail"},"affects":[{"ref"}]}]) or OpenVEX ("statements":[{"vulnerability":
 * {"name"},"products":[…],"status","justification"}]). Findings whose id (or alias) has the
 * state not_affected / false_positive / resolved (CycloneDX) or not_affected / fixed (OpenVEX),
 * for all products or the finding's package, are suppressed and listed with the justification.
 * Returns 0, VG_EINVAL (err names the file and field), VG_EIO.
 */
int vg_vuln_report_vex(struct vg_vuln_report *r, const char *path, char *err, size_t errsz);
/* Counts after VEX: findings shown, suppressed. */
void vg_vuln_report_counts(const struct vg_vuln_report *r, size_t *shown, size_t *suppressed);
/*
 * One finding as the JSON object of the report's "findings" array (id, aliases, package,
 * source_package, installed, arch, ecosystem, fixed, affected_range, status, severity,
 * severity_source, cvss, epss, epss_percentile, kev, low_confidence, summary,
 * advisory_source, why), appended to b. p is the finding's package.
 */
void vg_vuln_finding_json(const struct vg_vuln_finding *f, const struct vg_vuln_pkg *p,
                          struct vg_sbuf *b);
/* Write the report. Returns 0 or VG_EIO. */
int vg_vuln_report_write(struct vg_vuln_report *r, enum vg_vuln_report_fmt fmt, FILE *out);

#endif
