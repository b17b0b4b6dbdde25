/*
 * fuzz_intel_stix.c — libFuzzer target: the STIX bundle importer (intel_stix.c) over the input
 * as a document, with a sink that reads every byte it is handed (so ASan sees a string that
 * points outside the input or a freed arena) and checks the records' invariants: a known
 * type, a non-empty value, confidence 0-100 or unset, object ids and types present. Seeds:
 * tests/fuzz/corpus/intel_stix/ (bundles, envelopes, single objects, broken documents).
 */
#include "intel/intel_stix.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned sum;

static void touch(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sum += (unsigned char)p[i];
    }
}

static int on_indicator(void *u, const struct vg_intel_rec *r)
{
    (void)u;
    if ((unsigned)r->type >= VG_INTEL_TYPE_COUNT || !r->value_len ||
        (r->confidence > 100 && r->confidence != VG_INTEL_CONF_UNSET)) {
        abort();
    }
    touch(r->value, r->value_len);
    touch(r->ref, r->ref_len);
    touch(r->name, r->name_len);
    touch(r->tags, r->tags_len);
    touch(r->related, r->related_len);
    return 0;
}

static int on_object(void *u, const struct vg_intel_obj *o)
{
    (void)u;
    if (!o->id_len || !o->type_len) {
        abort();
    }
    touch(o->id, o->id_len);
    touch(o->type, o->type_len);
    touch(o->name, o->name_len);
    touch(o->ext_id, o->ext_id_len);
    touch(o->json, o->json_len);
    if (o->rel_src) {
        touch(o->rel_src, o->rel_src_len);
        touch(o->rel_type, o->rel_type_len);
        touch(o->rel_dst, o->rel_dst_len);
    }
    return 0;
}

static void on_reject(void *u, enum vg_intel_reject why, const char *where, const char *reason)
{
    (void)u;
    if ((unsigned)why >= VG_INTEL_REJ_COUNT) {
        abort();
    }
    touch(where, strlen(where));
    touch(reason, strlen(reason));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_intel_sink s = {NULL, on_indicator, on_object, on_reject};
    struct vg_intel_import_opts o = {.origin = "fuzz", .now = 1800000000u};
    char err[256];
    /* a copy of exactly size bytes: reads past the end are caught */
    char *text = malloc(size ? size : 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    (void)vg_intel_import_stix(text, size, &o, &s, err, sizeof(err));
    free(text);
    return 0;
}
