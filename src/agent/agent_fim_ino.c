/*
 * agent_fim_ino.c — the inotify backend of the FIM collector (the fallback to fanotify).
 *
 * inotify watches single directories, so every directory under the configured paths gets
 * its own watch (excluded ones and other filesystems are skipped, as in scans); a configured
 * file is watched through its parent directory. New or moved-in directories get watches
 * before they are re-checked, so nothing created inside them is missed; a directory moved
 * away loses its watches. A queue overflow (IN_Q_OVERFLOW) asks the collector for a full
 * scan. inotify does not say who made a change, so events carry no process.
 */
#include "agent/agent_fim_int.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#define INO_MASK                                                                                   \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE_WRITE |            \
     IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)

struct ino_state {
    int fd;
    char **wd_path; /* indexed by watch descriptor */
    size_t nwd;
    const struct vg_fim_opts *o;
    bool full_warned;
    char buf[65536] __attribute__((aligned(8)));
};

static void ino_close(void *st)
{
    struct ino_state *s = st;
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->nwd; i++) {
        vg_free(s->wd_path[i]);
    }
    vg_free(s->wd_path);
    if (s->fd >= 0) {
        close(s->fd);
    }
    vg_free(s);
}

static int ino_watch(struct ino_state *s, const char *dir)
{
    int wd = inotify_add_watch(s->fd, dir, INO_MASK);
    if (wd < 0) {
        if (errno == ENOSPC && !s->full_warned) {
            VG_WARN(VG_FIM_COMP,
                    "inotify: out of watches at %s (fs.inotify.max_user_watches);"
                    " the rest is covered by scheduled scans only",
                    dir);
            s->full_warned = true;
        }
        return errno == ENOSPC ? VG_ELIMIT : VG_EIO;
    }
    size_t cap = s->nwd;
    if ((size_t)wd >= s->nwd) {
        if (vg_grow(&s->wd_path, &cap, (size_t)wd + 1, sizeof(*s->wd_path)) != VG_OK) {
            return VG_ENOMEM;
        }
        memset(s->wd_path + s->nwd, 0, (cap - s->nwd) * sizeof(*s->wd_path));
        s->nwd = cap;
    }
    char *p = vg_strdup(dir);
    if (!p) {
        return VG_ENOMEM;
    }
    vg_free(s->wd_path[wd]);
    s->wd_path[wd] = p;
    return VG_OK;
}

/* Watch dir and every directory below it (same filesystem, not excluded). */
static int ino_watch_tree(struct ino_state *s, char *path, size_t len, dev_t dev, int depth)
{
    int rc = ino_watch(s, path);
    DIR *d = rc == VG_OK && depth < 256 ? opendir(path) : NULL;
    struct dirent *de;
    while (d && rc != VG_ENOMEM && (de = readdir(d))) {
        const char *nm = de->d_name;
        size_t nl = strlen(nm);
        struct stat st;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
            continue;
        }
        if ((nm[0] == '.' && (nl == 1 || (nl == 2 && nm[1] == '.'))) || len + 1 + nl >= PATH_MAX) {
            continue;
        }
        snprintf(path + len, PATH_MAX - len, "%s%s", len > 1 ? "/" : "", nm);
        size_t pl = len + (len > 1 ? 1 : 0) + nl;
        if (!vg_fim_excluded(s->o, path, pl) && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
            st.st_dev == dev) {
            rc = ino_watch_tree(s, path, pl, dev, depth + 1);
        }
        path[len] = '\0';
    }
    if (d) {
        closedir(d);
    }
    return rc == VG_ENOMEM ? rc : VG_OK;
}

static int ino_add_root(struct ino_state *s, const char *root)
{
    char path[PATH_MAX];
    struct stat st;
    size_t len = vg_strlcpy(path, root, sizeof(path));
    if (len >= sizeof(path) || lstat(path, &st) != 0) {
        return VG_OK; /* absent: covered by scans */
    }
    if (!S_ISDIR(st.st_mode)) {
        char *slash = strrchr(path, '/');
        if (slash) {
            slash[slash == path ? 1 : 0] = '\0';
        }
        return ino_watch(s, path) == VG_ENOMEM ? VG_ENOMEM : VG_OK;
    }
    return ino_watch_tree(s, path, len, st.st_dev, 0);
}

static int ino_open(struct vg_fim_coll *c, void **state, char *err, size_t errsz)
{
    struct ino_state *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return VG_ENOMEM;
    }
    s->o = vg_fim_coll_opts(c);
    s->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->fd < 0) {
        snprintf(err, errsz, "inotify_init1: %s", strerror(errno));
        ino_close(s);
        return VG_EUNSUPPORTED;
    }
    for (size_t i = 0; i < s->o->npaths; i++) {
        if (ino_add_root(s, s->o->paths[i]) != VG_OK) {
            snprintf(err, errsz, "inotify: out of memory");
            ino_close(s);
            return VG_ENOMEM;
        }
    }
    *state = s;
    return VG_OK;
}

static int ino_fd(void *st)
{
    return ((struct ino_state *)st)->fd;
}

/* A watched directory moved away: drop its watch and the watches below it (their paths are
   stale; the new location gets fresh ones from its IN_MOVED_TO). */
static void ino_forget_tree(struct ino_state *s, int wd)
{
    char *root = s->wd_path[wd];
    size_t rl = strlen(root);
    for (size_t i = 0; i < s->nwd; i++) {
        char *p = s->wd_path[i];
        if (p && (int)i != wd && !strncmp(p, root, rl) && p[rl] == '/') {
            inotify_rm_watch(s->fd, (int)i);
            vg_free(p);
            s->wd_path[i] = NULL;
        }
    }
    inotify_rm_watch(s->fd, wd);
    vg_free(root);
    s->wd_path[wd] = NULL;
}

static void ino_event(struct ino_state *s, struct vg_fim_coll *c, const struct inotify_event *e)
{
    if (e->mask & IN_Q_OVERFLOW) {
        vg_fim_coll_rescan(c);
        return;
    }
    if (e->wd < 0 || (size_t)e->wd >= s->nwd || !s->wd_path[e->wd]) {
        return;
    }
    if (e->mask & IN_IGNORED) {
        vg_free(s->wd_path[e->wd]);
        s->wd_path[e->wd] = NULL;
        return;
    }
    if (e->mask & IN_MOVE_SELF) {
        ino_forget_tree(s, e->wd);
        return;
    }
    char path[PATH_MAX];
    const char *dir = s->wd_path[e->wd];
    int n = e->len && e->name[0]
                ? snprintf(path, sizeof(path), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", e->name)
                : snprintf(path, sizeof(path), "%s", dir);
    if (n < 0 || (size_t)n >= sizeof(path) || !vg_fim_in_scope(s->o, path)) {
        return;
    }
    if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO))) {
        struct stat st;
        if (lstat(path, &st) == 0 && ino_watch_tree(s, path, (size_t)n, st.st_dev, 0) != VG_OK) {
            vg_fim_coll_rescan(c);
        }
    }
    vg_fim_coll_touch(c, path, 0);
}

static void ino_drain(void *st, struct vg_fim_coll *c)
{
    struct ino_state *s = st;
    for (int reads = 0; reads < 64; reads++) {
        ssize_t n = read(s->fd, s->buf, sizeof(s->buf));
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return;
        }
        for (size_t off = 0; off + sizeof(struct inotify_event) <= (size_t)n;) {
            const struct inotify_event *e = (const void *)(s->buf + off);
            ino_event(s, c, e);
            off += sizeof(*e) + e->len;
        }
    }
}

const struct vg_fim_backend vg_fim_backend_inotify = {
    .name = "inotify",
    .open = ino_open,
    .fd = ino_fd,
    .drain = ino_drain,
    .close = ino_close,
};
