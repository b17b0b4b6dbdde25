/*
 * case_test.h — a rig shared by the case tests: a temporary directory with a real store
 * (for linked alerts), a real audit log and the case database.
 */
#ifndef VG_CASE_TEST_H
#define VG_CASE_TEST_H

#include "audit/audit.h"
#include "case/case.h"
#include "store/store.h"
#include "vgtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crig {
    char dir[64];
    struct vg_store *store;
    struct vg_audit *audit;
    struct vg_case_db *db;
};

static inline bool crig_open(struct crig *r)
{
    char err[512], path[128];
    memset(r, 0, sizeof(*r));
    snprintf(r->dir, sizeof(r->dir), "/tmp/vg-case-XXXXXX");
    if (!mkdtemp(r->dir)) {
        return false;
    }
    snprintf(path, sizeof(path), "%s/store", r->dir);
    if (vg_store_open(path, NULL, &r->store, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  store: %s\n", err);
        return false;
    }
    snprintf(path, sizeof(path), "%s/audit.db", r->dir);
    if (vg_audit_open(path, &r->audit, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  audit: %s\n", err);
        return false;
    }
    snprintf(path, sizeof(path), "%s/cases.db", r->dir);
    if (vg_case_db_open(path, r->store, r->audit, &r->db, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  cases: %s\n", err);
        return false;
    }
    return true;
}

static inline void crig_close(struct crig *r)
{
    char cmd[128];
    vg_case_db_close(r->db);
    vg_audit_close(r->audit);
    vg_store_close(r->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", r->dir);
    }
}

/* Does hay contain needle? (NULL-safe, for CHECKs) */
static inline bool has(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle);
}

#endif
