/*
 * intel_stix.h — STIX 2.0/2.1 bundle importer (issue 7).
 *
 * Reads a bundle ({"type":"bundle","objects":[…]}), a TAXII 2.1 envelope ({"objects":[…],
 * "more":…}), a bare array of objects or a single object, one object at a time (memory stays
 * bounded by the largest object, not the bundle). Indicators with pattern_type "stix" (or
 * none, STIX 2.0) whose pattern is simple (vg_intel_pattern_simple) become indicator records
 * with valid_from/valid_until, confidence, labels/indicator_types, TLP markings and the ids of
 * the objects their relationships point to; compound patterns are rejected with the reason.
 * Every object (indicators included) is passed to the sink as a context object.
 */
#ifndef VG_INTEL_STIX_H
#define VG_INTEL_STIX_H

#include <stddef.h>

#include "intel/intel_import.h"

/*
 * Import one document. Returns 0 (objects that are not usable are rejected through the sink
 * and the import goes on), VG_EINVAL when the document is not JSON or not STIX (err:
 * "ORIGIN: offset N: reason"), or the sink's negative status.
 */
int vg_intel_import_stix(const char *text, size_t len, const struct vg_intel_import_opts *o,
                         const struct vg_intel_sink *s, char *err, size_t errsz);

#endif
