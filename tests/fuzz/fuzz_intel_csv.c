/*
 * fuzz_intel_csv.c — libFuzzer target: the CSV / plain-list importer (intel_csv.c). The first
 * input byte picks a preset or a column mapping (auto-detection, each preset, name- and
 * number-based maps, other delimiters, header modes), the rest is the document. The sink
 * checks the importer's promises: values and strings lie inside the input or are short
 * copies, every reject names a line.
 * Seeds: tests/fuzz/corpus/intel_csv/ (small feeds in each layout, broken quoting).
 */
#include "core/core.h"
#include "intel/intel_csv.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    const char *text;
    size_t len;
    size_t n;
};

static int fz_ind(void *u, const struct vg_intel_rec *r)
{
    struct fz *f = u;
    volatile char sink = 0;
    if ((unsigned)r->type >= VG_INTEL_TYPE_COUNT || r->value_len == 0 ||
        r->value_len > VG_INTEL_CSV_MAX_RECORD || r->ref_len > VG_INTEL_CSV_MAX_RECORD) {
        abort();
    }
    /* touch every byte (ASan checks the bounds) */
    for (size_t i = 0; i < r->value_len; i++) {
        sink ^= r->value[i];
    }
    for (size_t i = 0; i < r->name_len; i++) {
        sink ^= r->name[i];
    }
    for (size_t i = 0; i < r->tags_len; i++) {
        sink ^= r->tags[i];
    }
    for (size_t i = 0; i < r->ref_len; i++) {
        sink ^= r->ref[i];
    }
    (void)sink;
    f->n++;
    return 0;
}

static void fz_rej(void *u, enum vg_intel_reject why, const char *where, const char *reason)
{
    (void)u;
    if ((unsigned)why >= VG_INTEL_REJ_COUNT || strncmp(where, "line ", 5) != 0 || reason == NULL) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        const char *preset, *map;
        int type;
    } modes[] = {
        {NULL, NULL, VG_INTEL_TYPE_COUNT},
        {"urlhaus", NULL, VG_INTEL_TYPE_COUNT},
        {"feodo", NULL, VG_INTEL_TYPE_COUNT},
        {"threatfox", NULL, VG_INTEL_TYPE_COUNT},
        {"bazaar", NULL, VG_INTEL_TYPE_COUNT},
        {"sslbl", NULL, VG_INTEL_TYPE_COUNT},
        {"ja3", NULL, VG_INTEL_TYPE_COUNT},
        {"plain", NULL, VG_INTEL_TYPE_COUNT},
        {"plain", NULL, VG_INTEL_DOMAIN},
        {"spamhaus-drop", NULL, VG_INTEL_TYPE_COUNT},
        {NULL, "value=ioc_value,type=ioc_type,name=name,first_seen=first_seen_utc",
         VG_INTEL_TYPE_COUNT},
        {NULL, "value=1,type=2,ref=3,tags=4,confidence=5,first_seen=6,last_seen=7,header=no",
         VG_INTEL_TYPE_COUNT},
        {NULL, "delimiter=tab,value=2,header=yes", VG_INTEL_TYPE_COUNT},
        {NULL, "delimiter=;,value=1,skip=2,comment=/,md5=2,sha1=3", VG_INTEL_URL},
        {"threatfox", "name=5,delimiter=|", VG_INTEL_TYPE_COUNT},
        {NULL, "value=1,header=auto,default_confidence=70", VG_INTEL_TYPE_COUNT},
    };
    struct fz f = {0};
    struct vg_intel_sink s = {.u = &f, .indicator = fz_ind, .reject = fz_rej};
    char err[256];
    if (size == 0) {
        return 0;
    }
    unsigned m = data[0] % (sizeof(modes) / sizeof(modes[0]));
    struct vg_intel_import_opts o = {.origin = "fuzz",
                                     .csv_preset = modes[m].preset,
                                     .csv_map = modes[m].map,
                                     .csv_type = (enum vg_intel_type)modes[m].type};
    f.text = (const char *)data + 1;
    f.len = size - 1;
    int rc = vg_intel_import_csv(f.text, f.len, &o, &s, err, sizeof(err));
    if (rc != 0 && rc != VG_EINVAL && rc != VG_ENOMEM) {
        abort();
    }
    vg_intel_csv_detect(f.text, f.len);
    return 0;
}
