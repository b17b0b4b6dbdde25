/*
 * intel_taxii.h — TAXII 2.1 client (issue 7): pull a collection's objects into one source of
 * the indicator store, page by page, resuming from the last `added_after` cursor.
 *
 * GET {api_root}/collections/{collection}/objects/?added_after=CURSOR&limit=N with
 * `Accept: application/taxii+json;version=2.1`; follows the envelope's `next` while `more` is
 * true; the cursor kept in the source's metadata ("taxii.cursor") is the last page's
 * X-TAXII-Date-Added-Last header (or the newest date_added seen). The first pull replaces the
 * source; later pulls append to it (VG_INTEL_TXN_APPEND), so a feed update never pauses
 * matching and a failed pull leaves the previous generation in place.
 */
#ifndef VG_INTEL_TAXII_H
#define VG_INTEL_TAXII_H

#include <stddef.h>
#include <stdint.h>

#include "intel/intel_db.h"

struct vg_intel_taxii_opts {
    const char *api_root;    /* "https://host/api1/" (trailing slash optional) */
    const char *collection;  /* collection id */
    const char *source;      /* store source name (NULL: "taxii-<collection>") */
    const char *user;        /* HTTP basic auth user (NULL: none) */
    const char *password;    /* never logged */
    const char *token;       /* bearer token instead of basic auth (NULL: none); never logged */
    const char *ca_file;     /* CA bundle for https (NULL: system) */
    const char *added_after; /* override the stored cursor (NULL: use it; "" : full pull) */
    uint32_t page_limit;     /* objects per page (default 1000) */
    uint32_t max_pages;      /* safety bound (default 10000) */
    uint32_t timeout_s;      /* per request (default 60) */
};

/*
 * One pull. Returns 0 with rep filled (rep->indicators is the source's total after the pull),
 * VG_EIO (connection, HTTP status ≥ 400 — err has the status and the server's "title"),
 * VG_EINVAL (not a TAXII envelope), VG_ELIMIT (max_pages). pages/objects may be NULL.
 */
int vg_intel_taxii_pull(struct vg_intel_db *db, const struct vg_intel_taxii_opts *o,
                        struct vg_intel_import_report *rep, uint32_t *pages, uint64_t *objects,
                        char *err, size_t errsz);

/* GET {api_root}/collections/: the collections as JSON (the server's document) into out. */
int vg_intel_taxii_collections(const struct vg_intel_taxii_opts *o, struct vg_sbuf *out, char *err,
                               size_t errsz);

#endif
