/*
 * intel_csv.h — CSV and plain-list threat-intelligence importer (issue 7).
 *
 * Reads one CSV document (RFC 4180: quotes, doubled quotes, quoted newlines, CRLF, a UTF-8
 * BOM) or a plain list (one value per line, hosts-file lines, Spamhaus DROP lines) in a single
 * streaming pass — no DOM — and hands every indicator to a vg_intel_sink (intel_import.h).
 *
 * Which column holds what comes from a preset (opts->csv_preset: "urlhaus", "feodo",
 * "threatfox", "bazaar", "sslbl", "ja3", "plain", "spamhaus-drop") and/or a mapping
 * (opts->csv_map), e.g. "value=3,type=url,first_seen=2,tags=7" or "value=ioc_value,
 * type=ioc_type". Keys:
 *   value, first_seen, last_seen, valid_until, tags, name, ref, confidence   column (1-based
 *       number or header name)
 *   type            a column (number or header name) holding a type word per row (vg_intel
 *                   type names, MISP types such as ip-dst, ThreatFox ones such as ip:port,
 *                   md5_hash), or a constant type name ("type=url")
 *   <type name>     an extra value column of that type: "sha256=2,md5=3,sha1=4"
 *   delimiter       one character, or tab, semicolon, pipe, comma, space
 *   header          yes | no | auto (auto: the first row is a header when its value field
 *                   is not a value)
 *   comment         comment prefix character (default '#'); skip=N skips N lines first
 *   confidence      default confidence when no column gives one: "confidence=80" is a
 *                   column, "default_confidence=80" the constant
 * A mapping given with a preset overrides the preset's keys. With neither, the preset is
 * detected from the header/comment lines (urlhaus, feodo, threatfox, bazaar, sslbl, ja3,
 * spamhaus-drop), else "plain".
 */
#ifndef VG_INTEL_CSV_H
#define VG_INTEL_CSV_H

#include <stddef.h>

#include "intel/intel_import.h"

/* A record (header, data row or quoted multi-line row) longer than this is rejected. */
#define VG_INTEL_CSV_MAX_RECORD (64u * 1024u)
/* Columns past this are ignored. */
#define VG_INTEL_CSV_MAX_COLS 256u

/*
 * Import text/len (need not be NUL-terminated). o may be NULL (auto-detect, no origin).
 * Each indicator goes to s->indicator; each row that cannot be taken to s->reject with
 * where "line N" (the row's first line): MALFORMED for a broken record (unterminated quote,
 * record over 64 KiB, empty value column), UNSUPPORTED for a type word or value that maps to
 * no indicator type. Rejects never stop the import.
 * Returns 0; VG_EINVAL for unusable options (err: "csv map: unknown column 'x'", "csv: unknown
 * preset 'x'"); VG_ENOMEM; or the negative status a sink callback returned (the import stops).
 * Thread-safe (no shared state); the sink is called from the caller's thread.
 */
int vg_intel_import_csv(const char *text, size_t len, const struct vg_intel_import_opts *o,
                        const struct vg_intel_sink *s, char *err, size_t errsz);

/* The preset a document's first lines point to ("urlhaus", …, "plain"); never NULL. */
const char *vg_intel_csv_detect(const char *text, size_t len);

#endif
