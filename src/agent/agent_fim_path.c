/*
 * agent_fim_path.c — re-checking one path after a change notification (fanotify or inotify).
 *
 * The notification only says "something happened at this path"; what changed is found by
 * comparing the path's state with its baseline record — the same comparison as a full scan,
 * so both report the same way. A directory that appeared (created, moved in, or replaced) is
 * scanned whole; a directory that vanished takes its whole subtree out of the baseline.
 */
#include "agent/agent_fim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static void report(const struct vg_fim_opts *o, enum vg_fim_kind k, const struct vg_fim_rec *old,
                   const struct vg_fim_rec *cur, uint32_t changed)
{
    if (o->on_change) {
        struct vg_fim_change c = {.kind = k, .old = old, .cur = cur, .changed = changed};
        o->on_change(o->ctx, &c);
    }
}

/* Is path, or a directory between its root and it, excluded? */
static bool excluded_any(const struct vg_fim_opts *o, const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 1; i <= n; i++) {
        if ((i == n || path[i] == '/') && vg_fim_excluded(o, path, i)) {
            return true;
        }
    }
    return false;
}

struct gone_list {
    struct vg_sbuf names; /* NUL-separated paths */
    const struct vg_fim_opts *o;
    struct vg_fim_result *r;
};

static int gone_one(void *ctx, const struct vg_fim_rec *rec)
{
    struct gone_list *g = ctx;
    report(g->o, VG_FIM_DELETED, rec, NULL, 0);
    g->r->removed++;
    vg_sbuf_add(&g->names, rec->path, strlen(rec->path) + 1);
    return g->names.err ? VG_ENOMEM : VG_OK;
}

/* path no longer exists: report and forget it and everything recorded below it. */
static int forget_tree(struct vg_fim_db *db, const struct vg_fim_opts *o, const char *path,
                       struct vg_fim_result *r)
{
    struct gone_list g = {.names = VG_SBUF_INIT, .o = o, .r = r};
    int rc = vg_fim_db_each_under(db, path, gone_one, &g);
    if (rc == VG_OK && g.names.len && (rc = vg_fim_db_begin(db)) == VG_OK) {
        for (size_t off = 0; rc == VG_OK && off < g.names.len;) {
            rc = vg_fim_db_del(db, g.names.p + off);
            off += strlen(g.names.p + off) + 1;
        }
        int c = vg_fim_db_commit(db);
        rc = rc == VG_OK ? c : rc;
    }
    vg_sbuf_fini(&g.names);
    return rc;
}

/* A directory that is new at path: scan it whole (reports its content as created). */
static int scan_tree(struct vg_fim_db *db, const struct vg_fim_opts *o, const char *path,
                     struct vg_fim_result *r)
{
    struct vg_fim_opts sub = *o;
    const char *roots[1] = {path};
    char err[256];
    sub.paths = roots;
    sub.npaths = 1;
    sub.update = true;
    sub.rehash = false;
    sub.threads = 1; /* keep real-time work on the collector thread */
    int rc = vg_fim_scan(db, &sub, false, r, err, sizeof(err));
    if (rc != VG_OK) {
        VG_WARN(VG_FIM_COMP, "%s", err);
    }
    return rc;
}

/* The current state of an existing non-directory (or unchanged directory) path. */
static int read_cur(struct vg_fim_hasher *h, const struct vg_fim_opts *o, const char *path,
                    const struct stat *st, const struct vg_fim_rec *old, struct vg_fim_rec *cur,
                    char *link, size_t linksz, struct vg_fim_result *r)
{
    memset(cur, 0, sizeof(*cur));
    cur->path = path;
    vg_fim_rec_from_stat(cur, st);
    if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlink(path, link, linksz - 1);
        if (n >= 0) {
            link[n] = '\0';
            cur->link = link;
        }
    }
    if (vg_fim_need_hash(o, old, cur)) {
        int rc = vg_fim_hash_file(h, AT_FDCWD, path, cur, &r->bytes_hashed);
        if (rc != VG_OK) {
            return rc; /* gone meanwhile: its deletion event follows */
        }
        r->hashed++;
    } else if (old && old->has_hash && S_ISREG(cur->mode)) {
        memcpy(cur->sha256, old->sha256, 32);
        cur->has_hash = true;
    }
    return VG_OK;
}

int vg_fim_path_update(struct vg_fim_db *db, struct vg_fim_hasher *h, const struct vg_fim_opts *o,
                       const char *path, struct vg_fim_result *r)
{
    if (!vg_fim_in_scope(o, path) || excluded_any(o, path)) {
        return VG_OK;
    }
    struct vg_sbuf buf = VG_SBUF_INIT;
    struct vg_fim_rec old, cur;
    struct stat st;
    char link[PATH_MAX];
    int got = vg_fim_db_get(db, path, &old, &buf);
    int rc = got == VG_OK || got == VG_ENOENT ? VG_OK : got;
    bool have = got == VG_OK;
    if (rc != VG_OK) {
        goto out;
    }
    if (lstat(path, &st) != 0) {
        rc = have ? forget_tree(db, o, path, r) : VG_OK;
        goto out;
    }
    if (S_ISDIR(st.st_mode) && (!have || !S_ISDIR(old.mode) || old.inode != st.st_ino)) {
        rc = scan_tree(db, o, path, r);
        goto out;
    }
    if (read_cur(h, o, path, &st, have ? &old : NULL, &cur, link, sizeof(link), r) != VG_OK) {
        goto out;
    }
    r->files++;
    uint32_t ch = have ? vg_fim_rec_diff(&old, &cur) : 0;
    if (!have) {
        r->added++;
        report(o, VG_FIM_CREATED, NULL, &cur, 0);
    } else if (ch & ~(uint32_t)VG_FIM_CH_CTIME) {
        r->changed++;
        report(o, vg_fim_kind_of(ch), &old, &cur, ch);
    }
    if (!have || ch || (cur.has_hash && !old.has_hash)) {
        rc = vg_fim_db_put(db, &cur);
    }
out:
    vg_sbuf_fini(&buf);
    return rc;
}
