/*
 * fuzz_vuln_tracker.c — libFuzzer target: arbitrary bytes as a Debian Security Tracker JSON
 * file (src/vuln/vuln_db.c; content detection may also route them to the KEV, EPSS or OSV
 * importers), then a match of Debian packages of several releases against what was stored
 * (per-release status, fixed versions compared with dpkg ordering).
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
    {.ecosystem = "Debian:12",
     .name = "libssl3",
     .source = "openssl",
     .version = "3.0.11-1~deb12u2",
     .scheme = VG_VULN_DPKG},
    {.ecosystem = "Debian:11",
     .name = "openssl",
     .version = "1.1.1w-0+deb11u1",
     .scheme = VG_VULN_DPKG},
    {.ecosystem = "Debian:10",
     .name = "linux-image",
     .source = "linux",
     .version = "4.19.249-2",
     .scheme = VG_VULN_DPKG},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (!db) {
        const char *dir = fuzz_scratch("vuln-tracker");
        if (!dir || vg_vuln_db_open(dir, true, &db, err, sizeof(err)) != VG_OK) {
            abort();
        }
    }
    vg_vuln_db_import_mem(db, "tracker.json", data, size, NULL, err, sizeof(err));
    vg_vuln_match(db, pkgs, sizeof(pkgs) / sizeof(pkgs[0]), NULL, ignore, NULL, err, sizeof(err));
    return 0;
}
