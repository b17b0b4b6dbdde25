/*
 * intel_export.h — export the indicator store to other tools (issue 7): Suricata 7 datasets
 * with a rules file, and a Zeek intel framework file.
 *
 * The caller walks a snapshot (vg_intel_snap_foreach in intel_db.h) and hands every record
 * to vg_intel_export_add; finish writes the files (each written to a temporary name and
 * renamed, so a running Suricata/Zeek never reads half a file) and a JSON summary.
 *
 * Suricata (DIR): ipv4.lst, ipv6.lst (types ipv4/ipv6: one address per line), md5.lst and
 * sha256.lst (types md5/sha256: hex), and type string (base64 of the value, one per line)
 * for domain.lst, url.lst, email.lst, filename.lst, sha1.lst, sha512.lst, ja3.lst,
 * ja3s.lst, tls-cert-sha1.lst (colon-separated fingerprint, as tls.cert_fingerprint shows
 * it); plus vigie-intel.rules with `dataset:isset` rules on ip.src/ip.dst, dns.query,
 * tls.sni, http.host, file.name, ja3.hash, ja3s.hash and tls.cert_fingerprint.
 * Zeek (PATH): one tab-separated intel file (#fields indicator indicator_type meta.source
 * meta.desc meta.url) with Intel::ADDR, SUBNET, DOMAIN, URL (no scheme), EMAIL, FILE_HASH,
 * FILE_NAME, CERT_HASH.
 *
 * Skipped (and counted in the summary): warninglisted records (unless
 * VG_INTEL_EXPORT_WARNINGLISTED), records expired at `now`, values that fail
 * vg_intel_value_check, duplicates (same type and value from several sources), and what the
 * target cannot hold (CIDR prefixes in Suricata ip datasets, JA3/JA3S and x509-sha256 in Zeek,
 * x509-sha256 in Suricata).
 *
 * Thread-safety: one export object is used by one thread.
 */
#ifndef VG_INTEL_EXPORT_H
#define VG_INTEL_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "intel/intel_import.h"

enum vg_intel_export_fmt { VG_INTEL_EXPORT_SURICATA, VG_INTEL_EXPORT_ZEEK };

#define VG_INTEL_EXPORT_WARNINGLISTED 0x1u /* also export warninglisted records */

struct vg_intel_export;

/* "suricata" / "zeek" → 0, else VG_EINVAL. */
int vg_intel_export_fmt_parse(const char *name, enum vg_intel_export_fmt *out);

/*
 * Start an export. Suricata: dir_or_path is a directory (created if missing, mode 0755);
 * Zeek: the intel file to write. now (Unix seconds; 0: no expiry check) decides which
 * records are expired. flags: VG_INTEL_EXPORT_*. *out is owned by the caller:
 * vg_intel_export_destroy. Returns 0, VG_EIO (err names the path), VG_ENOMEM.
 */
int vg_intel_export_create(enum vg_intel_export_fmt f, const char *dir_or_path, uint32_t now,
                           unsigned flags, struct vg_intel_export **out, char *err, size_t errsz);

/*
 * Add one record (as vg_intel_snap_foreach hands it; source may be NULL). Returns 0 (a
 * skipped record is not an error), VG_EIO (write failed), VG_ENOMEM.
 */
int vg_intel_export_add(struct vg_intel_export *x, const char *source,
                        const struct vg_intel_rec *r);

/*
 * Write the rules file (Suricata), close and rename every file into place. summary, when not
 * NULL, gets one JSON object: {"format","path","written","files":{"ipv4.lst":N,…},
 * "skipped":{"warninglisted","expired","invalid","duplicate","cidr","unsupported"}}.
 * Returns 0 or VG_EIO (err names the file). Call once; then destroy.
 */
int vg_intel_export_finish(struct vg_intel_export *x, struct vg_sbuf *summary, char *err,
                           size_t errsz);

/* Free the export; temporary files of an unfinished export are removed. NULL is a no-op. */
void vg_intel_export_destroy(struct vg_intel_export *x);

#endif
