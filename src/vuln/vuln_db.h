/*
 * vuln_db.h — the advisory database of the vulnerability scanner (issue 8): one SQLite file
 * DIR/vuln.db (WAL) holding OSV advisories, the Debian Security Tracker's per-release status,
 * FIRST.org EPSS scores and CISA KEV entries (vuln_db.c: open, import, status), and the
 * matching of an installed-package inventory against it (vuln_match.c). The accepted input
 * formats are documented in docs/vuln.md, "Advisory database and matching".
 *
 * Thread-safety: a handle is used by one thread at a time; separate handles on the same
 * directory may be used concurrently (SQLite WAL, busy timeout).
 */
#ifndef VG_VULN_DB_H
#define VG_VULN_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/core.h"
#include "vuln/vuln.h"

struct vg_vuln_db;

/* Bounds applied to untrusted input. */
#define VG_VULN_DB_MAX_FILE    (1024u << 20) /* largest file (JSON, CSV, zip) read */
#define VG_VULN_DB_MAX_ENTRY   (64u << 20)   /* largest uncompressed zip member */
#define VG_VULN_DB_MAX_ENTRIES 2000000u      /* zip members / directory files */
#define VG_VULN_DB_MAX_DEPTH   32            /* directory recursion */

/* What one import did. */
struct vg_vuln_import_report {
    char source[32];       /* "osv", "debian-tracker", "epss", "kev" */
    char format[32];       /* "osv-json", "osv-yaml", "osv-dir", "osv-zip", "debian-tracker-json",
                              "epss-csv", "kev-json" */
    size_t files;          /* files / zip members read */
    size_t records;        /* advisories (OSV, tracker CVE entries) or rows (EPSS, KEV) stored */
    size_t affected;       /* affected rows stored (OSV package entries, tracker releases) */
    size_t skipped;        /* malformed records skipped */
    char first_error[384]; /* the first skipped record's reason, "PATH[:LINE]: field: why" */
};

/*
 * Open (create = make DIR and the schema when missing) the database DIR/vuln.db. *out owns
 * the handle (vg_vuln_db_close). Returns VG_OK, VG_ENOENT (missing and !create), VG_EIO
 * (SQLite error; err says which), VG_ENOMEM.
 */
int vg_vuln_db_open(const char *dir, bool create, struct vg_vuln_db **out, char *err, size_t errsz);
/* Close; NULL is a no-op. */
void vg_vuln_db_close(struct vg_vuln_db *db);

/*
 * Import one file or directory, its format detected (OSV JSON/YAML file, directory of OSV
 * files (recursive), OSV zip archive, Debian Security Tracker JSON, EPSS CSV (plain or gzip),
 * CISA KEV JSON). One transaction: on error nothing changes. The tracker, EPSS and KEV
 * replace their source's previous rows; OSV advisories replace the stored advisory with the
 * same id. Malformed records are skipped and counted in rep (may be NULL). Returns VG_OK,
 * VG_EINVAL (not a recognised format / unparsable file; err names file, line, field),
 * VG_EIO, VG_ELIMIT, VG_ENOMEM.
 */
int vg_vuln_db_import(struct vg_vuln_db *db, const char *path, struct vg_vuln_import_report *rep,
                      char *err, size_t errsz);

/*
 * The same for bytes in memory (stdin, tests, fuzzing); name stands for the file in messages
 * and in the sources table, and its extension (.yaml/.yml) selects OSV YAML.
 */
int vg_vuln_db_import_mem(struct vg_vuln_db *db, const char *name, const void *p, size_t n,
                          struct vg_vuln_import_report *rep, char *err, size_t errsz);

/*
 * Append a JSON object describing the database: {"path", "advisories", "affected", "epss",
 * "kev", "sources": [{"name","format","path","imported","records","affected","skipped"}]}.
 */
int vg_vuln_db_status_json(struct vg_vuln_db *db, struct vg_sbuf *out, char *err, size_t errsz);

/*
 * Debian codename of an OSV ecosystem or release string: "Debian:12" → "bookworm",
 * "Debian:bookworm" → "bookworm", "Debian" → NULL. Static string, or NULL when unknown.
 */
const char *vg_vuln_debian_codename(const char *ecosystem);

/*
 * Called once per finding. The finding and its strings are valid only during the call
 * (copy what you keep). Return 0 to continue, non-zero to stop the match (returned as is).
 */
typedef int (*vg_vuln_finding_fn)(const struct vg_vuln_finding *f, void *arg);

/*
 * Match n installed packages against the database and call cb for each finding.
 * release: the Debian codename to use for Debian packages ("bookworm"); NULL derives it from
 * each package's ecosystem ("Debian:12"). Debian packages are matched against the tracker by
 * source package (binary name when none) and per-release status, and against OSV records of
 * their ecosystem; other packages against OSV ranges and enumerated versions. EPSS and KEV
 * are joined by CVE id, directly or through aliases. Returns VG_OK, the callback's non-zero
 * value, VG_EIO (SQLite), VG_ENOMEM. An installed version that its scheme rejects matches
 * nothing but enumerated versions (the comparisons fail closed; see docs/vuln.md).
 */
int vg_vuln_match(struct vg_vuln_db *db, const struct vg_vuln_pkg *pkgs, size_t n,
                  const char *release, vg_vuln_finding_fn cb, void *arg, char *err, size_t errsz);

/* ---- internal to the module (vuln_db.c ↔ vuln_match.c) ---- */
struct sqlite3 *vg_vuln_db_handle(struct vg_vuln_db *db);
/* CVSS v3.x base score of a vector ("CVSS:3.1/AV:N/..."); -1 when unparsable. */
double vg_vuln_cvss3_score(const char *vec, size_t n);
enum vg_vuln_severity vg_vuln_severity_of_cvss(double score);

#endif
