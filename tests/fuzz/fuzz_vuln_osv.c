/*
 * fuzz_vuln_osv.c — libFuzzer target: arbitrary bytes through the advisory importers that take
 * OSV data (src/vuln/vuln_db.c): as an OSV JSON file (or, by content, a zip archive, gzip,
 * EPSS CSV, KEV or tracker JSON) and as an OSV YAML file, then a match of a few packages of
 * every scheme against what was stored (range parsing of stored events, vercmp).
 */
#include <stdint.h>
#include <stdlib.h>

#include "vuln/vuln_db.h"

#include "fuzz_scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vg_vuln_db *db;

static int ignore(const struct vg_vuln_finding *f, void *arg)
{
    (void)f;
    (void)arg;
    return 0;
}

static const struct vg_vuln_pkg pkgs[] = {
    {.ecosystem = "PyPI", .name = "demo-pkg", .version = "1.9", .scheme = VG_VULN_PEP440},
    {.ecosystem = "npm", .name = "left-pad", .version = "1.2.0", .scheme = VG_VULN_SEMVER},
    {.ecosystem = "Debian:12",
     .name = "libssl3",
     .source = "openssl",
     .version = "3.0.11-1~deb12u2",
     .scheme = VG_VULN_DPKG},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!db) {
        const char *dir = fuzz_scratch("vuln-osv");
        if (!dir || vg_vuln_db_open(dir, true, &db, err, sizeof(err)) != VG_OK) {
            abort();
        }
    }
    vg_vuln_db_import_mem(db, "fuzz.json", data, size, NULL, err, sizeof(err));
    vg_vuln_db_import_mem(db, "fuzz.yaml", data, size, NULL, err, sizeof(err));
    vg_vuln_match(db, pkgs, sizeof(pkgs) / sizeof(pkgs[0]), NULL, ignore, NULL, err, sizeof(err));
    return 0;
}
