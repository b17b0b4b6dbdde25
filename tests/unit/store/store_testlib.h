/*
 * store_testlib.h — helpers shared by the store and query tests: scratch directories,
 * building events from a raw line and name/value pairs, scanning a store into counts.
 * Header-only (static functions): each test file is one executable.
 */
#ifndef VG_STORE_TESTLIB_H
#define VG_STORE_TESTLIB_H

#include "store/store.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NS_PER_S   1000000000LL
#define NS_PER_DAY (86400LL * NS_PER_S)

static inline void tl_rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[4096];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        if (snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= (int)sizeof(p)) {
            continue;
        }
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            tl_rm_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* A fresh directory under /tmp (the caller removes it with tl_rm_tree). */
static inline const char *tl_tmpdir(char *buf, size_t size, const char *tag)
{
    snprintf(buf, size, "/tmp/vg-%s-XXXXXX", tag);
    return mkdtemp(buf);
}

/*
 * An event at ts with raw line `raw` (NULL: none) and fields from kv: name, value, name,
 * value, ..., NULL. A value that occurs inside raw is added as a slice of it (as zero-copy
 * decoders do); others are copied.
 */
static inline struct vg_event *tl_event(vg_time_t ts, const char *raw, const char *const *kv)
{
    struct vg_event *ev = vg_event_create();
    if (!ev) {
        return NULL;
    }
    ev->ts = ts;
    if (raw) {
        ev->raw = vg_arena_strdup(ev->arena, raw);
        ev->raw_len = strlen(raw);
    }
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2) {
        uint32_t id = vg_field_intern(kv[i], strlen(kv[i]));
        const char *in = ev->raw && kv[i + 1][0] ? strstr(ev->raw, kv[i + 1]) : NULL;
        if (in) {
            vg_event_add_str(ev, id, in, strlen(kv[i + 1]));
        } else {
            vg_event_add_strdup(ev, id, kv[i + 1], strlen(kv[i + 1]));
        }
    }
    return ev;
}

static inline void tl_events_free(struct vg_event **evs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vg_event_destroy(evs[i]);
    }
}

/* Append evs[0..n) in one batch; returns the status. */
static inline int tl_append(struct vg_store *s, struct vg_event **evs,
                            const struct vg_store_item *items, size_t n, const uint64_t *pos,
                            struct vg_store_append_result *res)
{
    char err[256];
    struct vg_store_append_opts b = {
        .items = items, .has_position = pos != NULL, .position = pos ? *pos : 0};
    int rc = vg_store_append(s, (const struct vg_event *const *)evs, n, &b, res, err, sizeof(err));
    if (rc != VG_OK && rc != VG_ENOSPC) {
        fprintf(stderr, "  append: %s\n", err);
    }
    return rc;
}

/* Scan collecting the values of one field (first occurrence) into out (n at most). */
struct tl_collect {
    uint32_t fid;
    char **vals;
    size_t n, cap;
};

static inline int tl_collect_cb(void *ctx, struct vg_event *ev, const struct vg_store_event_meta *m)
{
    struct tl_collect *c = ctx;
    const struct vg_field *f = vg_event_get(ev, c->fid);
    if (c->n < c->cap) {
        c->vals[c->n] = f ? vg_strndup(f->v.str, f->v.len) : vg_strdup("");
    }
    c->n++;
    return VG_STORE_CONTINUE;
}

/* Number of events a scan with filter f hands out (field values of `field` into vals). */
static inline size_t tl_scan(struct vg_store *s, const struct vg_store_filter *f, const char *field,
                             char **vals, size_t cap)
{
    char err[256];
    struct tl_collect c = {.fid = vg_field_intern(field, strlen(field)), .vals = vals, .cap = cap};
    struct vg_store_scan sc = {.from = VG_TIME_NONE,
                               .to = VG_TIME_NONE,
                               .filter = f,
                               .on_event = tl_collect_cb,
                               .ctx = &c,
                               .floor = VG_TIME_NONE};
    if (vg_store_scan(s, &sc, NULL, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  scan: %s\n", err);
        return (size_t)-1;
    }
    return c.n;
}

static inline void tl_vals_free(char **vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vg_free(vals[i]);
        vals[i] = NULL;
    }
}

#endif
