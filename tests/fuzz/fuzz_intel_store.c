/*
 * fuzz_intel_store.c — libFuzzer target: the indicator store's own files read back
 * (intel_db.c): the input is written as a source file (first byte even) or as manifest.json
 * (odd) in a scratch store, then read with the same functions a snapshot load uses
 * (vgi_open/vgi_rec_get/vgi_obj_get, vgi_manifest_read) and the whole store loaded. A corrupt
 * file must fail cleanly, never read outside the mapping. Seeds: tests/fuzz/corpus/intel_store/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intel/intel_db.h"
#include "intel/intel_db_int.h"

#include "fuzz_scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *dir;
static volatile unsigned sum;

static void touch(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sum += (unsigned char)p[i];
    }
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static void read_source(const char *path)
{
    struct vgi_file f;
    if (vgi_open(path, &f, NULL, 0) != VG_OK) {
        return;
    }
    for (uint32_t i = 0; i < f.nrec && i < 4096; i++) {
        struct vgi_rec r;
        if (vgi_rec_get(&f, i, &r) == VG_OK) {
            for (int k = 0; k < VGI_NFIELDS; k++) {
                touch(r.f[k], r.n[k]);
            }
        }
    }
    for (uint32_t i = 0; i < f.nobj && i < 4096; i++) {
        struct vgi_obj o;
        if (vgi_obj_get(&f, i, &o) == VG_OK) {
            touch(o.json, o.json_len);
        }
    }
    vgi_close(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char src[128], man[128], err[256];
    struct vg_intel_db *db = NULL;
    struct vg_intel_snap *s = NULL;
    if (!dir) {
        dir = fuzz_scratch("intel-store");
        if (!dir || vg_intel_db_open(dir, true, &db, err, sizeof(err)) != VG_OK) {
            abort();
        }
        vg_intel_db_close(db);
        db = NULL;
    }
    if (size < 1) {
        return 0;
    }
    snprintf(src, sizeof(src), "%s/src-1-1.vgi", dir);
    snprintf(man, sizeof(man), "%s/manifest.json", dir);
    if (data[0] % 2 == 0) {
        static const char m[] = "{\"generation\":1,\"next_id\":2,\"sources\":[{\"name\":\"f\","
                                "\"id\":1,\"file\":\"src-1-1.vgi\",\"format\":\"stix\"}]}";
        write_file(man, (const uint8_t *)m, sizeof(m) - 1);
        write_file(src, data + 1, size - 1);
        read_source(src);
    } else {
        write_file(man, data + 1, size - 1);
    }
    if (vg_intel_db_open(dir, false, &db, err, sizeof(err)) == VG_OK &&
        vg_intel_db_load(db, &s, err, sizeof(err)) == VG_OK) {
        struct vg_intel_hit hit;
        (void)vg_intel_snap_match_value(s, VG_INTEL_TYPE_COUNT, "198.51.100.1", 12, 1800000000u, 0,
                                        &hit);
        vg_intel_snap_unref(s);
    }
    vg_intel_db_close(db);
    unlink(src);
    unlink(man);
    return 0;
}
