/*
 * intel_db_int.h — internals shared by the indicator store (intel_db.c: manifest, imports,
 * rewrites) and its snapshots (intel_snap.c: load, match, describe, search).
 *
 * Source file (src-<id>-<gen>.vgi), little-endian, mmapped by snapshots:
 *   header (40 bytes): "VGINTEL1", u32 version, u32 nrec, u32 nobj, u32 0,
 *                      u64 rec_index_off, u64 obj_index_off
 *   data: records and objects, each 8-byte aligned
 *     record: u8 type, u8 flags, u8 confidence, u8 0, u32 first_seen, last_seen, valid_until,
 *             u16 len[6] (value, ref, name, tags, related, warninglists), then the bytes
 *     object: u8 active, u8 0, u16 len[8] (id, type, name, ext_id, rel_src, rel_type,
 *             rel_dst, 0), u32 json_len, then the bytes
 *   rec index: u64 offset per record; obj index: u64 offset per object
 */
#ifndef VG_INTEL_DB_INT_H
#define VG_INTEL_DB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "intel/intel_db.h"

#define VGI_MAGIC     "VGINTEL1"
#define VGI_VERSION   1u
#define VGI_HDR       40u
#define VGI_REC_HDR   28u
#define VGI_OBJ_HDR   24u
#define VGI_NFIELDS   6 /* value, ref, name, tags, related, warninglists */
#define VGI_ONFIELDS  7 /* id, type, name, ext_id, rel_src, rel_type, rel_dst */
#define VGI_FIELD_MAX 65535u
/* Record flag: a duplicate of an earlier record of the same source (skipped by readers). */
#define VGI_FLAG_DEAD 0x80u

enum { VGI_F_VALUE, VGI_F_REF, VGI_F_NAME, VGI_F_TAGS, VGI_F_RELATED, VGI_F_WL };
enum { VGI_O_ID, VGI_O_TYPE, VGI_O_NAME, VGI_O_EXT, VGI_O_SRC, VGI_O_RTYPE, VGI_O_DST };

/* A record as read from a mapped file (strings point into the mapping). */
struct vgi_rec {
    uint8_t type, flags, confidence;
    uint32_t first_seen, last_seen, valid_until;
    const char *f[VGI_NFIELDS];
    uint16_t n[VGI_NFIELDS];
};

struct vgi_obj {
    bool active;
    const char *f[VGI_ONFIELDS];
    uint16_t n[VGI_ONFIELDS];
    const char *json;
    uint32_t json_len;
};

/* A mapped source file. */
struct vgi_file {
    struct vg_mapped map;
    uint32_t nrec, nobj;
    const uint8_t *rec_index, *obj_index; /* u64 offsets (unaligned reads) */
};

int vgi_open(const char *path, struct vgi_file *f, char *err, size_t errsz);
void vgi_close(struct vgi_file *f);
/* Record/object i (< nrec / nobj); VG_EINVAL if the file is corrupt there, VG_ENOENT for a
 * dead (duplicate) record. */
int vgi_rec_get(const struct vgi_file *f, uint32_t i, struct vgi_rec *r);
int vgi_obj_get(const struct vgi_file *f, uint32_t i, struct vgi_obj *o);

/* One source of the manifest. */
struct vgi_source {
    char *name;
    uint32_t id;
    char *file; /* base name in DIR */
    char *format;
    char *origin;
    int64_t imported; /* Unix seconds */
    uint64_t indicators, objects, relationships, warninglisted;
    char *objtypes; /* JSON object {"type":{"count":n,"active":n},…} */
    char *rejected; /* JSON object {"compound":n,…,"first":{…}} */
    struct vg_intel_policy pol;
    size_t nmeta;
    char **mkey, **mval;
};

struct vgi_manifest {
    uint64_t generation;
    uint32_t next_id;
    struct vgi_source *src;
    size_t n;
};

int vgi_manifest_read(const char *dir, struct vgi_manifest *m, char *err, size_t errsz);
void vgi_manifest_fini(struct vgi_manifest *m);
struct vgi_source *vgi_manifest_find(struct vgi_manifest *m, const char *name);

/* Helpers shared by both files. */
static inline uint16_t vgi_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t vgi_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t vgi_u64(const uint8_t *p)
{
    return (uint64_t)vgi_u32(p) | (uint64_t)vgi_u32(p + 4) << 32;
}

/* Warninglist hint for an indicator type. */
int vgi_wl_hint(enum vg_intel_type t);
/* Append RFC 3339 for Unix seconds as a JSON member value ("…"). */
void vgi_json_time(struct vg_sbuf *b, uint32_t t);

#endif
