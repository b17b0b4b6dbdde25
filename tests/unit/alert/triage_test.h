/*
 * triage_test.h — helpers shared by the triage tests: alerts built in place, a scratch data
 * directory, an engine opened on it, and hooks that count what they are told.
 */
#ifndef VG_TRIAGE_TEST_H
#define VG_TRIAGE_TEST_H

#include "alert/alert.h"
#include "audit/audit.h"
#include "vgtest.h"

#include <stdlib.h>
#include <unistd.h>

#define MIN_NS (60LL * 1000000000LL)

static inline vg_time_t t0(void)
{
    vg_time_t t = 0;
    vg_time_parse("2026-03-01T08:00:00Z", 20, &t);
    return t;
}

/* An alert at t0 + min minutes. */
static inline struct vg_store_alert mk(int64_t id, int64_t min, const char *rule, int level,
                                       const char *tags, const char *host, const char *user,
                                       const char *src, const char *dst, const char *proc)
{
    struct vg_store_alert a = {.id = id,
                               .ts = t0() + min * MIN_NS,
                               .tenant = "default",
                               .rule_id = rule,
                               .title = rule,
                               .level = level,
                               .tags = tags,
                               .attack = "[]",
                               .host = host,
                               .user = user,
                               .src_ip = src,
                               .dst_ip = dst,
                               .process = proc};
    return a;
}

static inline void scratch_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/vg-triage-XXXXXX");
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
    }
}

static inline void scratch_rm(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", dir);
    }
}

struct counts {
    int alerts, opened, changed, refuse;
    int64_t last_incident;
    char last_title[256];
};

static inline int on_alert(void *ctx, const struct vg_triage_alert_out *a)
{
    struct counts *c = ctx;
    if (c->refuse) {
        return VG_EIO;
    }
    c->alerts += a->json && strstr(a->json, "\"fingerprint\"") ? 1 : 0;
    return VG_OK;
}

static inline int on_incident(void *ctx, const struct vg_triage_incident_out *i, bool opened)
{
    struct counts *c = ctx;
    c->opened += opened;
    c->changed += !opened;
    c->last_incident = i->id;
    snprintf(c->last_title, sizeof(c->last_title), "%s", i->title);
    return VG_OK;
}

#endif
