/*
 * intel_db.h — the indicator store (issue 7): a directory holding one file per source (feed)
 * and a manifest, loaded into read-only snapshots that matchers query at line rate.
 *
 * Layout of DIR:
 *   manifest.json          sources (name, format, origin, generation, counts, policy, cursor)
 *   src-<id>-<gen>.vgi     one source's indicators and context objects (binary, mmapped)
 *   wl/<key>.json          MISP warninglists imported with --format warninglist
 *
 * An import replaces one source: its records are written to a new file, fsynced, then the
 * manifest is rewritten (temp + rename) — readers never see half a generation, and a failed
 * import leaves the previous one in place. Indicators that hit an imported warninglist are
 * flagged VG_INTEL_F_WARNINGLISTED when written (and every source is re-flagged when a
 * warninglist is imported), so matching pays nothing for warninglists.
 *
 * A snapshot (vg_intel_db_load) is every source's indicators in one vg_intel_set plus the
 * records and context objects needed to describe a hit; it is immutable and reference-counted:
 * a server builds the next snapshot when the manifest's generation changes and swaps the
 * pointer while matching goes on with the old one.
 *
 * Thread-safety: a vg_intel_db is used by one thread at a time (imports serialise on an flock
 * of DIR/lock across processes); snapshots may be shared by any number of threads.
 */
#ifndef VG_INTEL_DB_H
#define VG_INTEL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "event/event.h"
#include "intel/intel_import.h"
#include "intel/intel_set.h"

struct vg_intel_db;
struct vg_intel_snap;
struct vg_intel_txn;

/* Open (or with create, create) a store directory. err names the path and reason. */
int vg_intel_db_open(const char *dir, bool create, struct vg_intel_db **out, char *err,
                     size_t errsz);
void vg_intel_db_close(struct vg_intel_db *db);
const char *vg_intel_db_dir(const struct vg_intel_db *db);
/* The manifest's generation on disk now (bumped by every import/expire/remove); 0 if none. */
uint64_t vg_intel_db_generation(const struct vg_intel_db *db);

/* What one import did. */
struct vg_intel_import_report {
    char source[64];
    enum vg_intel_format format;
    uint64_t generation; /* the manifest generation written */
    uint64_t indicators; /* records stored (after dropping duplicates) */
    uint64_t by_type[VG_INTEL_TYPE_COUNT];
    uint64_t duplicates;    /* same (type, value) again in this source */
    uint64_t warninglisted; /* of the stored ones, flagged by a warninglist */
    uint64_t expired;       /* of the stored ones, valid_until already passed */
    uint64_t objects;       /* context objects stored (relationships included) */
    uint64_t relationships;
    uint64_t rejected[VG_INTEL_REJ_COUNT];
    char first_reject[VG_INTEL_REJ_COUNT][256]; /* "WHERE: reason" of the first of each kind */
    double seconds;
};

#define VG_INTEL_TXN_APPEND 0x1u /* start from the source's current records (TAXII polls) */

/*
 * Import a file or directory (a MISP feed) as source `source` (NULL: the file's base name
 * without extension), replacing that source's previous generation. fmt AUTO detects it.
 * Returns 0 (rejected items are counted in rep, not errors), VG_EINVAL when the document
 * itself is unusable (err: "FILE: offset N: reason"), VG_EIO, VG_ENOMEM.
 */
int vg_intel_db_import_file(struct vg_intel_db *db, const char *path, const char *source,
                            enum vg_intel_format fmt, const struct vg_intel_import_opts *opts,
                            struct vg_intel_import_report *rep, char *err, size_t errsz);
/* The same for a document in memory (origin names it in messages). */
int vg_intel_db_import_mem(struct vg_intel_db *db, const char *origin, const char *text, size_t len,
                           const char *source, enum vg_intel_format fmt,
                           const struct vg_intel_import_opts *opts,
                           struct vg_intel_import_report *rep, char *err, size_t errsz);

/*
 * Lower level, for importers that feed one source from many documents (TAXII pages): begin,
 * hand the sink to the importers, commit. Nothing is visible before commit; abort discards.
 */
int vg_intel_db_begin(struct vg_intel_db *db, const char *source, enum vg_intel_format fmt,
                      const char *origin, unsigned txn_flags, struct vg_intel_txn **out, char *err,
                      size_t errsz);
const struct vg_intel_sink *vg_intel_txn_sink(struct vg_intel_txn *t);
/* Set a source metadata value kept in the manifest with the commit (e.g. "taxii.cursor"). */
int vg_intel_txn_set_meta(struct vg_intel_txn *t, const char *key, const char *value);
int vg_intel_txn_commit(struct vg_intel_txn *t, struct vg_intel_import_report *rep, char *err,
                        size_t errsz);
void vg_intel_txn_abort(struct vg_intel_txn *t);

/* A source's metadata value (copied into buf); VG_ENOENT if the source or key is unknown. */
int vg_intel_db_get_meta(struct vg_intel_db *db, const char *source, const char *key, char *buf,
                         size_t bufsz);
/* Set a source's policy (kept across imports; applies from the next import/load). */
int vg_intel_db_set_policy(struct vg_intel_db *db, const char *source,
                           const struct vg_intel_policy *pol, char *err, size_t errsz);
/* Remove a source. VG_ENOENT if unknown. */
int vg_intel_db_remove(struct vg_intel_db *db, const char *source, char *err, size_t errsz);
/* Rewrite every source without the indicators expired at now; *removed counts them. */
int vg_intel_db_expire(struct vg_intel_db *db, uint32_t now, uint64_t *removed, char *err,
                       size_t errsz);

/* Stats as one JSON object (see docs/intel.md: generation, sources, indicators by type,
 * objects by type with active counts, relationships, warninglists). */
int vg_intel_db_stats_json(struct vg_intel_db *db, uint32_t now, struct vg_sbuf *out, char *err,
                           size_t errsz);

/* ---------------------------------------------------------------- snapshots */

/* Load the current generation (refcount 1). An empty store loads as an empty snapshot. */
int vg_intel_db_load(struct vg_intel_db *db, struct vg_intel_snap **out, char *err, size_t errsz);
void vg_intel_snap_ref(struct vg_intel_snap *s);
void vg_intel_snap_unref(struct vg_intel_snap *s); /* frees at zero; NULL is a no-op */
uint64_t vg_intel_snap_generation(const struct vg_intel_snap *s);
const struct vg_intel_set *vg_intel_snap_set(const struct vg_intel_snap *s);
size_t vg_intel_snap_count(const struct vg_intel_snap *s);
/* Name of the source with index i (a hit's ctx->source); "?" if out of range. */
const char *vg_intel_snap_source_name(const struct vg_intel_snap *s, uint32_t i);

#define VG_INTEL_MATCH_WARNINGLISTED 0x1u /* also report indicators flagged by a warninglist */

/*
 * Look one value up. type VG_INTEL_TYPE_COUNT guesses it (vg_intel_value_guess; a URL is also
 * looked up by its host as a domain or address, an md5-length hash also as ja3/ja3s). Returns
 * 0 with *hit, VG_ENOENT (no live, non-warninglisted match unless flags say so), VG_EINVAL.
 */
int vg_intel_snap_match_value(const struct vg_intel_snap *s, enum vg_intel_type type,
                              const char *value, size_t len, uint32_t now, unsigned flags,
                              struct vg_intel_hit *hit);

struct vg_intel_match {
    const char *field; /* the event field that matched ("destination.ip") */
    const char *value; /* its value (borrowed from the event) */
    size_t value_len;
    struct vg_intel_hit hit;
};
typedef int (*vg_intel_match_cb)(void *u, const struct vg_intel_match *m);

/*
 * Match every indicator-bearing field of an event: ECS names (source.ip, destination.ip,
 * client.ip, server.ip, host.ip, related.ip, dns.question.name, url.full/url.original/
 * url.domain, destination.domain, tls.client.server_name, http.request.referrer,
 * file.hash.*, process.hash.*, tls.client.ja3, tls.server.ja3s, tls.server.hash.*,
 * email.from.address, email.to.address, file.name, …) and Suricata EVE names (src_ip,
 * dest_ip, dns.rrname, dns.queries.rrname, http.hostname, tls.sni, tls.ja3.hash, tls.ja3s.hash,
 * fileinfo.sha256, …). Calls cb once per hit (each (field, indicator) once); a non-zero
 * return from cb stops. Returns the number of hits (≥ 0) or the cb's negative status.
 */
int vg_intel_snap_match_event(const struct vg_intel_snap *s, const struct vg_event *ev,
                              uint32_t now, unsigned flags, vg_intel_match_cb cb, void *u);

/*
 * The indicator behind a hit as one JSON object: {"value","type","source","confidence",
 * "confidence_now","first_seen","last_seen","valid_until","tags":[…],"ref","name",
 * "related":[{"id","type","name","ext_id"}…],"warninglisted":bool,"warninglists":[…]}.
 * Times are RFC 3339 strings (absent when unknown).
 */
void vg_intel_snap_describe(const struct vg_intel_snap *s, const struct vg_intel_hit *hit,
                            uint32_t now, struct vg_sbuf *out);

/*
 * List/search indicators: every record whose value, name, tags or ref contains q
 * (case-insensitive; NULL or "" lists all) and whose type is `type` (VG_INTEL_TYPE_COUNT: any)
 * and source is `source` (NULL: any), in store order, skipping `offset`, at most `limit`
 * (0: no limit). Each is written with vg_intel_snap_describe's layout through cb (one JSON
 * object per call). Returns the number written or a negative status from cb.
 */
typedef int (*vg_intel_json_cb)(void *u, const char *json, size_t len);
long vg_intel_snap_search(const struct vg_intel_snap *s, const char *q, enum vg_intel_type type,
                          const char *source, uint32_t now, size_t offset, size_t limit,
                          vg_intel_json_cb cb, void *u);

/* Context objects by id substring / name substring (case-insensitive), same conventions:
 * {"id","type","name","ext_id","active","source"}. */
long vg_intel_snap_objects(const struct vg_intel_snap *s, const char *q, const char *type,
                           size_t offset, size_t limit, vg_intel_json_cb cb, void *u);

/*
 * Every stored indicator record of the snapshot, in store order, for exports: cb gets the
 * record (strings borrowed from the snapshot) with its stored flags in rec->flags and the
 * source's name. A non-zero return stops.
 */
typedef int (*vg_intel_rec_cb)(void *u, const char *source, const struct vg_intel_rec *r);
int vg_intel_snap_foreach(const struct vg_intel_snap *s, vg_intel_rec_cb cb, void *u);

#endif
