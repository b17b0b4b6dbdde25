/*
 * vuln_version.h — what vuln_version.c offers beyond vuln.h: strict validation of one version.
 *
 * vg_vuln_vercmp(VG_VULN_PEP440, …) orders pre-PEP 440 strings ("2.0.0-final", "0.7.10p1")
 * like packaging's LegacyVersion, as OSV does for PyPI, so they never fail a comparison;
 * vg_vuln_version_check says whether a version is valid in the strict sense of its scheme
 * (PEP 440 proper for Python; the comparison's own validation for the other schemes).
 */
#ifndef VG_VULN_VERSION_H
#define VG_VULN_VERSION_H

#include "vuln/vuln.h"

/*
 * 0 when v (n bytes, not necessarily NUL-terminated) is a valid version of scheme s, else
 * VG_EINVAL with the reason in err ("semver: '1.2' has 2 components, expected 3"; also for
 * more segments or parts than the fixed bounds: 64 PEP 440 release segments, 128 legacy
 * parts). Pure, allocation-free, thread-safe.
 */
int vg_vuln_version_check(enum vg_vuln_scheme s, const char *v, size_t n, char *err, size_t errsz);

#endif
