/*
 * intel_misp.h — MISP event and feed importer (issue 7).
 *
 * Reads MISP's JSON (the "MISP core format"): one event ({"Event":{…}}), a bare event object,
 * the REST search output ({"response":[{"Event":{…}},…]}) or an array of any of those, and
 * MISP feed directories (manifest.json plus one <uuid>.json per event). Each event becomes a
 * context object ("misp-event--<uuid>"), each galaxy cluster another ("misp-galaxy--<uuid>",
 * type "misp-galaxy:<galaxy type>", ext_id the ATT&CK id), and each attribute that is an
 * indicator (to_ids set, not deleted, of a matched type) one or two indicator records
 * carrying the attribute and event tags, TLP, confidence from estimative-language tags, the
 * event and cluster ids, and first/last seen. Everything else is rejected through the sink
 * with where and why. Sits between the feed readers (CLI, TAXII/HTTP fetchers) and the store.
 */
#ifndef VG_INTEL_MISP_H
#define VG_INTEL_MISP_H

#include <stddef.h>

#include "intel/intel_import.h"

/* Largest MISP document (or feed event file) read: 512 MiB. */
#define VG_INTEL_MISP_MAX_DOC (512u << 20)

/*
 * Import one MISP document held in text/len (need not be NUL-terminated). o may be NULL
 * (defaults: origin "misp", to_ids honoured). Returns 0 (unusable events and attributes are
 * rejected through s->reject and the import goes on), VG_EINVAL when the document is not JSON
 * or not MISP (err: "ORIGIN: offset N: reason" or "ORIGIN: field \"Event\" is not an object"),
 * VG_ELIMIT past VG_INTEL_MISP_MAX_DOC or the JSON nesting bound, VG_ENOMEM, or the sink's
 * negative status (the import stops there). err may be NULL when errsz is 0. The parsed
 * document lives in one arena freed before returning. Reentrant: no shared state.
 */
int vg_intel_import_misp(const char *text, size_t len, const struct vg_intel_import_opts *o,
                         const struct vg_intel_sink *s, char *err, size_t errsz);

/*
 * Import a MISP feed directory: dir/manifest.json ({"<uuid>": {"info":…, …}, …}) and the
 * dir/<uuid>.json files it lists, in uuid order. A listed file that is missing, unreadable, not
 * JSON or not MISP is rejected (VG_INTEL_REJ_MALFORMED, where = "<uuid>.json") and the import
 * goes on; a manifest key that is not a plain uuid is rejected the same way. Returns 0,
 * VG_EINVAL when manifest.json is missing or not a JSON object (err names the file),
 * VG_ENOMEM, or the sink's negative status. One event file is in memory at a time.
 */
int vg_intel_import_misp_dir(const char *dir, const struct vg_intel_import_opts *o,
                             const struct vg_intel_sink *s, char *err, size_t errsz);

#endif
