/*
 * agent_fim.h — file integrity monitoring (FIM) for the endpoint agent.
 *
 * Two faces:
 *   - the collector `vg_agent_fim_collector` (name "fim"): a baseline of the configured trees in
 *     a local SQLite database (state_dir/fim.db), kept current by real-time change
 *     notification (fanotify filesystem marks in FID mode, else recursive inotify) plus
 *     scheduled full scans; each difference becomes an ECS `file` event;
 *   - a library API for the command line and the benchmark: vg_fim_baseline() builds the
 *     baseline of a set of paths, vg_fim_check() compares the trees with it and counts what
 *     was added, removed and changed.
 *
 * What is recorded per path: type, size, mode, uid, gid, mtime, ctime, inode, device, the
 * target of a symbolic link and the SHA-256 of regular files. Like AIDE, the content is
 * hashed again only when size, mtime, ctime, inode or device changed (or when asked to), so
 * a check of an unchanged tree reads metadata only.
 *
 * Configuration (the collector's YAML section; every key optional):
 *   paths:         [/etc, /usr/bin, ...]   directories or files to watch
 *   exclude:       ["*.swp", "/etc/mtab"]  globs; with a '/' against the whole path, else
 *                                           against the last component; excluded
 *                                           directories are not descended
 *   scan_interval: 12h                      full scan period
 *   hash:          sha256                   or "none" (metadata only)
 *   max_file_size: 1073741824               larger files are recorded without a hash
 *   threads:       2                        hashing threads of a full scan
 */
#ifndef VG_AGENT_FIM_H
#define VG_AGENT_FIM_H

#include "agent/agent.h"

#include <stdbool.h>
#include <stdint.h>

extern const struct vg_agent_collector_def vg_agent_fim_collector;

/* One path's recorded state. */
struct vg_fim_rec {
    const char *path;
    const char *link; /* symlink target, else NULL */
    uint32_t mode;    /* st_mode: type and permission bits */
    uint32_t uid, gid;
    uint64_t size, inode, dev;
    int64_t mtime_ns, ctime_ns;
    bool has_hash;
    uint8_t sha256[32];
};

/* Which attributes differ (bits of vg_fim_change.changed). */
enum {
    VG_FIM_CH_TYPE = 1u << 0,
    VG_FIM_CH_SIZE = 1u << 1,
    VG_FIM_CH_MODE = 1u << 2,
    VG_FIM_CH_UID = 1u << 3,
    VG_FIM_CH_GID = 1u << 4,
    VG_FIM_CH_MTIME = 1u << 5,
    VG_FIM_CH_CTIME = 1u << 6,
    VG_FIM_CH_INODE = 1u << 7,
    VG_FIM_CH_DEV = 1u << 8,
    VG_FIM_CH_HASH = 1u << 9,
    VG_FIM_CH_LINK = 1u << 10,
};

enum vg_fim_kind {
    VG_FIM_CREATED,
    VG_FIM_MODIFIED,   /* content: size, mtime, hash, link target, type or inode */
    VG_FIM_ATTRIBUTES, /* mode, owner only */
    VG_FIM_DELETED,
};

/* One difference between the baseline and the disk. old is NULL for CREATED, cur NULL for
   DELETED. Borrowed for the duration of the callback. */
struct vg_fim_change {
    enum vg_fim_kind kind;
    const struct vg_fim_rec *old;
    const struct vg_fim_rec *cur;
    uint32_t changed; /* VG_FIM_CH_* */
};
typedef void (*vg_fim_change_fn)(void *ctx, const struct vg_fim_change *c);

struct vg_fim_opts {
    const char *const *paths; /* absolute; trailing '/' ignored */
    size_t npaths;
    const char *const *exclude; /* globs (see above) */
    size_t nexclude;
    bool no_hash;               /* record metadata only */
    bool rehash;                /* check: hash every regular file even when metadata is unchanged */
    bool update;                /* check: store the new state as the baseline */
    uint64_t max_file_size;     /* 0: no limit */
    int threads;                /* hashing threads; 0: 2 */
    vg_fim_change_fn on_change; /* check: called for each difference (may be NULL) */
    void *ctx;
};

struct vg_fim_result {
    uint64_t files;  /* entries seen on disk (all types) */
    uint64_t hashed; /* files whose content was read and hashed */
    uint64_t bytes_hashed;
    uint64_t added, removed, changed;
    uint64_t errors; /* entries that could not be read (logged at debug level) */
};

/*
 * Build (replace) the baseline of o->paths in the SQLite database db_path (created if
 * missing). VG_OK, or VG_EINVAL (bad options), VG_EIO (a root is unreadable, the database
 * cannot be written) with err set. Blocks; uses o->threads threads internally.
 */
int vg_fim_baseline(const struct vg_fim_opts *o, const char *db_path, struct vg_fim_result *r,
                    char *err, size_t errsz);

/*
 * Compare o->paths with the baseline in db_path: count (and report through o->on_change)
 * every path added, removed or changed; with o->update, store the new state. Baseline
 * entries outside o->paths are left alone. VG_ENOENT when db_path has no baseline.
 */
int vg_fim_check(const struct vg_fim_opts *o, const char *db_path, struct vg_fim_result *r,
                 char *err, size_t errsz);

/*
 * Render one change as an agent event (JSON object, ECS dotted names) appended to out.
 * provider: "scan", "fanotify" or "inotify"; pid > 0 and exe (may be NULL) name who made the
 * change when the backend knows it.
 */
void vg_fim_change_json(const struct vg_fim_change *c, const char *provider, int pid,
                        const char *exe, struct vg_sbuf *out);

#endif /* VG_AGENT_FIM_H */
