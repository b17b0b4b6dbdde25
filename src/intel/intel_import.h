/*
 * intel_import.h — what every threat-intelligence importer hands to the indicator store
 * (issue 7).
 *
 * An importer (STIX bundle, MISP event/feed, CSV/plain list) reads one document and calls a
 * sink: once per indicator (a typed value with its context), once per context object (STIX
 * SDOs and relationships, MISP events and galaxy clusters), and once per thing it could not
 * take (a compound pattern, an unsupported attribute type, a malformed row), with where and
 * why. Importers do not validate values beyond picking the type: the store checks every value
 * (vg_intel_value_check) and reports a malformed one through the same reject path.
 *
 * All strings in the records are borrowed for the duration of the callback only and are not
 * NUL-terminated unless stated (use the _len fields).
 */
#ifndef VG_INTEL_IMPORT_H
#define VG_INTEL_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "intel/intel_set.h"

/* confidence when the document gives none: the source's default (the store's policy) */
#define VG_INTEL_CONF_UNSET 255u

/* One indicator. */
struct vg_intel_rec {
    enum vg_intel_type type;
    const char *value; /* as written in the feed (the store normalises it) */
    size_t value_len;
    uint8_t confidence;             /* 0-100, or VG_INTEL_CONF_UNSET */
    uint8_t flags;                  /* VG_INTEL_F_SUBDOMAINS, VG_INTEL_F_NO_DECAY */
    uint32_t first_seen, last_seen; /* Unix seconds, 0 unknown */
    uint32_t valid_until;           /* Unix seconds, 0 never expires */
    /* The indicator's id in its source: STIX indicator id, MISP attribute uuid, feed row id. */
    const char *ref;
    size_t ref_len;
    /* Short description: STIX name/description, MISP comment or event info, feed threat. */
    const char *name;
    size_t name_len;
    /* Comma-separated labels: STIX labels/indicator_types, TLP ("tlp:amber"), MISP tags, feed
     * tags. No spaces around commas are required; the store trims them. */
    const char *tags;
    size_t tags_len;
    /* Comma-separated ids of context objects this indicator relates to (STIX ids such as
     * "malware--…", "misp-event--<uuid>", "misp-galaxy--<uuid>"). May be empty. */
    const char *related;
    size_t related_len;
};

/* One context object. */
struct vg_intel_obj {
    const char *id; /* STIX id, "misp-event--<uuid>", "misp-galaxy--<uuid>" */
    size_t id_len;
    const char *type; /* STIX type ("malware", "attack-pattern", "relationship", …), "misp-event" */
    size_t type_len;
    const char *name; /* name / event info; "" if none */
    size_t name_len;
    const char *ext_id; /* ATT&CK external id (T1059.001, G0016, S0154), CVE id, ""  */
    size_t ext_id_len;
    bool active; /* false when revoked or deprecated (x_mitre_deprecated) */
    /* Relationships (type "relationship"): source_ref, relationship_type, target_ref. */
    const char *rel_src, *rel_type, *rel_dst;
    size_t rel_src_len, rel_type_len, rel_dst_len;
    /* The object as imported (compact JSON), kept for search and the API; may be NULL. */
    const char *json;
    size_t json_len;
};

/* Why something was not imported as an indicator. */
enum vg_intel_reject {
    VG_INTEL_REJ_MALFORMED = 0, /* not valid JSON/CSV/STIX, a value that fails its type */
    VG_INTEL_REJ_COMPOUND,      /* a STIX pattern that is not a list of simple comparisons */
    VG_INTEL_REJ_UNSUPPORTED,   /* a type the store does not match (MISP regkey, mutex, …) */
    VG_INTEL_REJ_NOT_IDS,       /* MISP attribute with to_ids false (kept as context only) */
    VG_INTEL_REJ_REVOKED,       /* revoked STIX indicator / deleted MISP attribute */
    VG_INTEL_REJ_COUNT
};

struct vg_intel_sink {
    void *u;
    /* Returns 0, or a negative VG_E* status to stop the import (it is returned by the
     * importer). */
    int (*indicator)(void *u, const struct vg_intel_rec *r);
    int (*object)(void *u, const struct vg_intel_obj *o);
    /* where: "objects[12] indicator--5a…", "line 42", "Event.Attribute[3]"; reason: one line. */
    void (*reject)(void *u, enum vg_intel_reject why, const char *where, const char *reason);
};

/* Feed formats. */
enum vg_intel_format {
    VG_INTEL_FMT_AUTO = 0,
    VG_INTEL_FMT_STIX,        /* STIX 2.0/2.1 bundle (or a single object, or a TAXII envelope) */
    VG_INTEL_FMT_MISP,        /* MISP event JSON, a list of events, or a feed directory */
    VG_INTEL_FMT_CSV,         /* CSV / plain list (column mapping or preset) */
    VG_INTEL_FMT_WARNINGLIST, /* MISP warninglist list.json (false-positive filter) */
};

const char *vg_intel_format_name(enum vg_intel_format f);
int vg_intel_format_parse(const char *name, enum vg_intel_format *out);
/* Guess a document's format from its first bytes (and path, may be NULL): a JSON object with
 * "type":"bundle"/"objects" → STIX, "Event"/"response" → MISP, "list"+"matching_attributes" or
 * "list"+"type" → warninglist; anything else CSV. A directory holding manifest.json → MISP (a
 * feed); one holding <name>/list.json → warninglists. */
enum vg_intel_format vg_intel_format_detect(const char *path, const char *head, size_t n);

/* Per-source policy, kept in the store's manifest. */
struct vg_intel_policy {
    uint8_t confidence;   /* default when a record gives none (default 50) */
    uint32_t half_life_s; /* confidence decay half-life; 0 = no decay (default 0) */
    uint32_t max_age_s;   /* no valid_until given: expire at last_seen (or import) + max_age;
                             0 = never (default 0) */
};

/* Options common to the importers. */
struct vg_intel_import_opts {
    const char *origin; /* file name or URL, used in messages */
    uint32_t now;       /* Unix seconds (valid_until in the past is still imported) */
    /* CSV: a preset name ("urlhaus", "feodo", "threatfox", "bazaar", "sslbl", "ja3", "plain")
     * and/or a column mapping "value=3,type=url,first_seen=2,tags=7" (1-based columns; see
     * intel_csv.h). NULL: preset from the header line, else "plain". */
    const char *csv_preset;
    const char *csv_map;
    /* CSV/plain: type of every value when the mapping has no type column; VG_INTEL_TYPE_COUNT
     * guesses per value (vg_intel_value_guess). */
    enum vg_intel_type csv_type;
    /* MISP: also import attributes whose to_ids is false (default: rejected as NOT_IDS). */
    bool misp_all;
    /* Store: the source's policy from this import on (NULL: keep the source's, or defaults). */
    const struct vg_intel_policy *policy;
};

#endif
