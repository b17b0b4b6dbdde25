/*
 * vuln_inv.h — inventories for vulnerability scanning (vuln_inv.c): what is installed
 * (dpkg status file, apk installed database, rpm database of a root filesystem through the
 * rpm program), which release it is (os-release → OSV ecosystem "Debian:12"), and Debian
 * `Packages` indexes with the "installed package behind the archive" check.
 *
 * Inputs are untrusted text: every parser walks [text, text+len) with bounded scanning, skips
 * and counts a malformed paragraph (inv->bad), reports the first problem as
 * "PATH:LINE: reason", and fails the whole parse only on a size or count bound (VG_ELIMIT),
 * an unreadable file (VG_ENOENT / VG_EIO) or memory (VG_ENOMEM).
 *
 * Thread-safety: an inventory or index is built by one thread; once built it is read-only and
 * may be shared by any number of readers.
 */
#ifndef VG_VULN_INV_H
#define VG_VULN_INV_H

#include "vuln/vuln.h"

#define VG_VULN_INV_MAX_FILE  (256u << 20) /* largest status / installed / Packages file read */
#define VG_VULN_INV_MAX_PKGS  2000000      /* packages per inventory or index */
#define VG_VULN_INV_MAX_FIELD 1024         /* longest name/version/arch/source/status kept */

/* What the package manager says beyond struct vg_vuln_pkg; parallel to inv->pkgs. */
struct vg_vuln_inv_rec {
    const char *status;         /* dpkg Status ("install ok installed"); NULL for apk/rpm */
    const char *source_field;   /* the Source field as written ("bash (5.2.15-2)"), or NULL */
    const char *source_version; /* the version in Source's parentheses, else the package's */
    uint32_t line;              /* line of the paragraph's first field (rpm: output line) */
};

/*
 * An inventory. pkgs[i].source is the effective source package: the Source field's name, or
 * the binary name when the field is absent (dpkg's ${source:Package}); NULL for rpm.
 * Every string lives in the inventory's arena. Initialise zeroed; release with
 * vg_vuln_inv_fini. pkgs[i].ecosystem is `ecosystem` (NULL until known: set by from_root,
 * or by vg_vuln_inv_set_ecosystem).
 */
struct vg_vuln_inv {
    struct vg_vuln_pkg *pkgs;
    struct vg_vuln_inv_rec *rec;
    size_t n, cap;
    struct vg_arena *arena;
    size_t bad;            /* malformed paragraphs/lines skipped */
    char err[256];         /* the first problem, "PATH:LINE: reason" ("" when none) */
    char os_id[32];        /* from os-release: "debian", "ubuntu", "alpine", "rhel" */
    char os_version[32];   /* VERSION_ID: "12", "22.04", "3.19.1", "9.3" */
    const char *ecosystem; /* "Debian:12", "Ubuntu:22.04", "Alpine:v3.19", "Red Hat:9" */
};

/*
 * Parse the text of a dpkg status file and append its installed packages to out. A package
 * counts as installed when its Status (want flag status) has the flag "ok" or "reinstreq"
 * and the status "installed", "triggers-pending", "triggers-awaited", "half-configured" or
 * "unpacked" (files on disk); "config-files", "not-installed" and "half-installed" are left
 * out. Multi-Arch duplicates (libc6:amd64 and libc6:i386) are separate entries. CRLF line
 * ends are accepted. path names the file in messages. Returns VG_OK (problems counted in
 * out->bad, the first one in out->err and err), VG_ELIMIT, VG_ENOMEM.
 */
int vg_vuln_inv_dpkg_parse(const char *text, size_t len, const char *path, struct vg_vuln_inv *out,
                           char *err, size_t errsz);
/* Read (bounded by VG_VULN_INV_MAX_FILE) and parse a status file; VG_ENOENT, VG_EIO too. */
int vg_vuln_inv_from_dpkg_status(const char *path, struct vg_vuln_inv *out, char *err,
                                 size_t errsz);
/*
 * Parse an apk installed database (lib/apk/db/installed): "K:value" lines, packages separated
 * by blank lines; P name, V version, A arch, o origin (the source package). Scheme VG_VULN_APK.
 * Same returns as vg_vuln_inv_dpkg_parse.
 */
int vg_vuln_inv_from_apk(const char *text, size_t len, const char *path, struct vg_vuln_inv *out,
                         char *err, size_t errsz);
/*
 * A root filesystem: ROOT/etc/os-release (else ROOT/usr/lib/os-release) sets os_id,
 * os_version and the ecosystem; packages come from ROOT/var/lib/dpkg/status,
 * ROOT/lib/apk/db/installed and, when the rpm program is installed and ROOT has an rpm
 * database, `rpm --root ROOT -qa --queryformat …` (spawned with a fixed argv, no shell).
 * Returns VG_OK when at least one database was read (an empty one counts), VG_ENOENT when ROOT
 * has none, or the first hard error.
 */
int vg_vuln_inv_from_root(const char *root, struct vg_vuln_inv *out, char *err, size_t errsz);
/*
 * The OSV ecosystem of an os-release ID and VERSION_ID: ("debian", "12.4") → "Debian:12",
 * ("ubuntu", "22.04") → "Ubuntu:22.04:LTS" (LTS: April of even years), ("ubuntu", "23.10") →
 * "Ubuntu:23.10", ("alpine", "3.19.1") → "Alpine:v3.19", ("rhel", "9.3") → "Red Hat:9"; an
 * unknown ID is kept as is; an empty version gives the name alone.
 */
void vg_vuln_os_ecosystem(const char *id, const char *version, char *dst, size_t dsz);
/*
 * Parse os-release text (KEY=value, values optionally quoted) into out->os_id/os_version and
 * set out->ecosystem from them. Returns VG_OK, VG_ENOENT (no ID), VG_ENOMEM.
 */
int vg_vuln_inv_osrelease_parse(const char *text, size_t len, struct vg_vuln_inv *out);
/* Set the ecosystem of the inventory and of every package in it (copied). VG_ENOMEM. */
int vg_vuln_inv_set_ecosystem(struct vg_vuln_inv *inv, const char *ecosystem);
/* Release everything the inventory owns and zero it. NULL and zeroed inventories are fine. */
void vg_vuln_inv_fini(struct vg_vuln_inv *inv);

/* ---------------------------------------------------------------- Packages indexes */

struct vg_vuln_pkgindex;

/*
 * Parse a Debian/Ubuntu `Packages` index (deb822: Package, Version, Architecture) into a new
 * index owned by the caller (vg_vuln_pkgindex_destroy). Paragraphs missing a field are
 * skipped and counted (vg_vuln_pkgindex_bad); err gets the first problem as "PATH:LINE:
 * reason". Returns VG_OK, VG_ELIMIT, VG_ENOMEM.
 */
int vg_vuln_pkgindex_parse(const char *text, size_t len, const char *path,
                           struct vg_vuln_pkgindex **out, char *err, size_t errsz);
/* Read (bounded by VG_VULN_INV_MAX_FILE) and parse; VG_ENOENT, VG_EIO too. */
int vg_vuln_pkgindex_load(const char *path, struct vg_vuln_pkgindex **out, char *err, size_t errsz);
/* Number of entries kept, and of paragraphs skipped. */
size_t vg_vuln_pkgindex_count(const struct vg_vuln_pkgindex *idx);
size_t vg_vuln_pkgindex_bad(const struct vg_vuln_pkgindex *idx);
/*
 * The highest version (dpkg order) the index has for package `name` on a compatible
 * architecture: the same, or either side "all"; arch NULL matches any. *version is
 * borrowed from the index. Returns VG_OK, VG_ENOENT (no such package/arch), VG_EINVAL (a
 * version dpkg cannot parse; err says which).
 */
int vg_vuln_pkgindex_best(const struct vg_vuln_pkgindex *idx, const char *name, const char *arch,
                          const char **version, char *err, size_t errsz);
void vg_vuln_pkgindex_destroy(struct vg_vuln_pkgindex *idx);

/*
 * Called once per outdated package, in inventory order: pkg and its installed version
 * (pkg->version) and the index's newer version `available` (borrowed). Return 0 to go on,
 * non-zero to stop (vg_vuln_outdated then returns that value).
 */
typedef int (*vg_vuln_outdated_fn)(void *ctx, const struct vg_vuln_pkg *pkg, const char *available);
/*
 * Report every installed dpkg package of inv (other schemes are passed over) for which idx
 * has a newer version (dpkg order) of the same name on a compatible architecture. *count (if not
 * NULL) receives the number reported; *nbad (if not NULL) the number of packages skipped because a
 * version could not be compared (the first such problem in err). Returns VG_OK or the callback's
 * stop value.
 */
int vg_vuln_outdated(const struct vg_vuln_inv *inv, const struct vg_vuln_pkgindex *idx,
                     vg_vuln_outdated_fn fn, void *ctx, size_t *count, size_t *nbad, char *err,
                     size_t errsz);

#endif /* VG_VULN_INV_H */
