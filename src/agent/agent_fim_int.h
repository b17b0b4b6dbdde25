/*
 * agent_fim_int.h — internals of the FIM collector shared by its files:
 *   agent_fim_db.c    the SQLite baseline (state_dir/fim.db)
 *   agent_fim_file.c  reading one path: stat, hash, compare, excludes
 *   agent_fim_scan.c  full scans (walk + parallel hashing) and the public baseline/check API
 *   agent_fim_event.c the event JSON
 *   agent_fim.c       the collector: configuration, thread, schedule, one-path re-checks
 *   agent_fim_fan.c   the fanotify backend
 *   agent_fim_ino.c   the inotify backend
 */
#ifndef VG_AGENT_FIM_INT_H
#define VG_AGENT_FIM_INT_H

#include "agent/agent_fim.h"

#include <stdatomic.h>
#include <sys/stat.h>

#define VG_FIM_COMP     "fim"
#define VG_FIM_BUF_SIZE (1u << 20) /* read buffer per hashing thread */

/* ---------------------------------------------------------------- baseline database */

struct vg_fim_db;

/* Open (create with create) the baseline database. err says why on failure. */
int vg_fim_db_open(const char *path, bool create, struct vg_fim_db **out, char *err, size_t errsz);
void vg_fim_db_close(struct vg_fim_db *db);
/* Does the database hold a completed baseline? */
bool vg_fim_db_has_baseline(struct vg_fim_db *db);
int vg_fim_db_mark_baseline(struct vg_fim_db *db);
int vg_fim_db_begin(struct vg_fim_db *db);
int vg_fim_db_commit(struct vg_fim_db *db);
/* Fetch one path's record; strings live in *buf (caller's vg_sbuf, reset here). VG_ENOENT
   when absent. */
int vg_fim_db_get(struct vg_fim_db *db, const char *path, struct vg_fim_rec *r,
                  struct vg_sbuf *buf);
int vg_fim_db_put(struct vg_fim_db *db, const struct vg_fim_rec *r);
int vg_fim_db_del(struct vg_fim_db *db, const char *path);
/* Delete every record (baseline rebuild). */
int vg_fim_db_clear(struct vg_fim_db *db);
/* Call fn for each record at or under root (root itself and root/...); records are borrowed.
   root "" means everything. */
typedef int (*vg_fim_db_each_fn)(void *ctx, const struct vg_fim_rec *r);
int vg_fim_db_each_under(struct vg_fim_db *db, const char *root, vg_fim_db_each_fn fn, void *ctx);
const char *vg_fim_db_errmsg(struct vg_fim_db *db);

/* ---------------------------------------------------------------- one path */

/* Per-thread hashing state (EVP context + read buffer). */
struct vg_fim_hasher;
struct vg_fim_hasher *vg_fim_hasher_create(void);
void vg_fim_hasher_destroy(struct vg_fim_hasher *h);

/* Fill r's metadata from st (r->path, r->link untouched; has_hash cleared). */
void vg_fim_rec_from_stat(struct vg_fim_rec *r, const struct stat *st);
/*
 * Open r->path (relative to dirfd, or absolute with AT_FDCWD) without following links,
 * with O_NOATIME where permitted, refresh r's metadata from the open file and hash it.
 * VG_OK; VG_ENOENT (gone), VG_EIO. Bytes read are added to *bytes.
 */
int vg_fim_hash_file(struct vg_fim_hasher *h, int dirfd, const char *name, struct vg_fim_rec *r,
                     uint64_t *bytes);
/* Should cur be hashed, given the baseline old (NULL: new path)? */
bool vg_fim_need_hash(const struct vg_fim_opts *o, const struct vg_fim_rec *old,
                      const struct vg_fim_rec *cur);
/* The VG_FIM_CH_* bits that differ, and the kind of change they make (for non-zero masks).
   Directory time and size changes (a directory's entries changed) are not reported. */
uint32_t vg_fim_rec_diff(const struct vg_fim_rec *old, const struct vg_fim_rec *cur);
enum vg_fim_kind vg_fim_kind_of(uint32_t changed);
/* Is path (length n) excluded by o->exclude? */
bool vg_fim_excluded(const struct vg_fim_opts *o, const char *path, size_t n);
/* Is path at or under one of o->paths? */
bool vg_fim_in_scope(const struct vg_fim_opts *o, const char *path);

/*
 * Re-examine one path after a change notification: compare it with the baseline, call
 * o->on_change for each difference and store the new state. A new or replaced directory is
 * scanned whole; a vanished directory removes its subtree. Paths outside the scope or
 * excluded are ignored. r accumulates counters.
 */
int vg_fim_path_update(struct vg_fim_db *db, struct vg_fim_hasher *h, const struct vg_fim_opts *o,
                       const char *path, struct vg_fim_result *r);

/* ---------------------------------------------------------------- scans */

/*
 * Walk o->paths: with baseline, replace the database content with what is on disk; else
 * compare with the stored records at or under o->paths (reporting through o->on_change and
 * storing the new state when o->update). Hashes with o->threads threads.
 */
int vg_fim_scan(struct vg_fim_db *db, const struct vg_fim_opts *o, bool baseline,
                struct vg_fim_result *r, char *err, size_t errsz);

/* ---------------------------------------------------------------- collector and backends */

struct vg_fim_coll;

/* Backends call these from the collector thread while draining events. */
/* Something happened at path (absolute); pid is who did it (0: unknown). */
void vg_fim_coll_touch(struct vg_fim_coll *c, const char *path, int pid);
/* Events were lost (queue overflow): a full scan is needed. */
void vg_fim_coll_rescan(struct vg_fim_coll *c);
const struct vg_fim_opts *vg_fim_coll_opts(const struct vg_fim_coll *c);

/* A change-notification backend, driven by the collector thread. */
struct vg_fim_backend {
    const char *name;
    /* Set up notification for the configured paths; *state is the backend's. VG_OK;
       VG_EUNSUPPORTED (err says why) when the kernel or our privileges do not allow it. */
    int (*open)(struct vg_fim_coll *c, void **state, char *err, size_t errsz);
    int (*fd)(void *state); /* poll()ed for POLLIN */
    /* Read the pending events, calling vg_fim_coll_touch / vg_fim_coll_rescan. */
    void (*drain)(void *state, struct vg_fim_coll *c);
    void (*close)(void *state); /* NULL-safe */
};
extern const struct vg_fim_backend vg_fim_backend_fanotify;
extern const struct vg_fim_backend vg_fim_backend_inotify;

#endif /* VG_AGENT_FIM_INT_H */
