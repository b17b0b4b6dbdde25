/*
 * fuzz_intel_misp.c — libFuzzer target: the MISP event importer (intel_misp.c). The input is
 * imported as one MISP document (to_ids honoured, or every attribute when the input's size is
 * odd) into a sink that reads every byte of every string it is given (so ASan sees an
 * out-of-bounds record), checks types, reject reasons and lengths, and folds it all into a
 * checksum. The importer must return 0, VG_EINVAL or VG_ELIMIT, with a message on failure.
 * Seeds: tests/fuzz/corpus/intel_misp/ (events with every attribute type, objects, galaxies,
 * a REST response, feed event files, malformed documents).
 */
#include "core/core.h"
#include "intel/intel_misp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sum;

static void fold(const char *s, size_t n)
{
    if (n && !s) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        sum = sum * 31u + (unsigned char)s[i];
    }
}

static int on_ind(void *u, const struct vg_intel_rec *r)
{
    (void)u;
    if ((unsigned)r->type >= VG_INTEL_TYPE_COUNT ||
        (r->confidence > 100 && r->confidence != VG_INTEL_CONF_UNSET) || r->valid_until != 0) {
        abort();
    }
    fold(r->value, r->value_len);
    fold(r->ref, r->ref_len);
    fold(r->name, r->name_len);
    fold(r->tags, r->tags_len);
    fold(r->related, r->related_len);
    if (r->related_len < 12 || memcmp(r->related, "misp-event--", 12) != 0) {
        abort();
    }
    return 0;
}

static int on_obj(void *u, const struct vg_intel_obj *o)
{
    (void)u;
    if (!o->id || !o->type || !o->name || !o->ext_id) {
        abort();
    }
    fold(o->id, o->id_len);
    fold(o->type, o->type_len);
    fold(o->name, o->name_len);
    fold(o->ext_id, o->ext_id_len);
    fold(o->json, o->json_len);
    return 0;
}

static void on_rej(void *u, enum vg_intel_reject why, const char *where, const char *reason)
{
    (void)u;
    if ((unsigned)why >= VG_INTEL_REJ_COUNT || !where || !reason || !reason[0]) {
        abort();
    }
    fold(where, strlen(where));
    fold(reason, strlen(reason));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_intel_sink sink = {NULL, on_ind, on_obj, on_rej};
    struct vg_intel_import_opts o = {.origin = "fuzz", .misp_all = (size & 1u) != 0};
    char err[256];
    int rc = vg_intel_import_misp((const char *)data, size, &o, &sink, err, sizeof(err));
    if (rc != 0 && rc != VG_EINVAL && rc != VG_ELIMIT) {
        abort();
    }
    if (rc != 0 && strncmp(err, "fuzz: ", 6) != 0) {
        abort();
    }
    return 0;
}
