/*
 * agent_fim_fan.c — the fanotify backend of the FIM collector.
 *
 * One fanotify group in FID mode (FAN_REPORT_DFID_NAME: every event names the parent
 * directory by file handle plus the entry name, so no file descriptor is opened per event)
 * with a filesystem mark on each filesystem holding a configured path. Such a mark sees the
 * whole filesystem — "/" is busy — so each event's path is resolved (open_by_handle_at on
 * the directory handle, then /proc/self/fd) and kept only when it lies under a configured
 * path. Notification-class only: never permission events, so no process ever waits on us.
 * Events caused by the agent itself (its own database writes) are skipped by pid.
 *
 * Watched: create, delete, move in/out, attribute change, close after writing. A writer
 * that keeps a file open without closing it is found by the next scheduled scan.
 * Needs CAP_SYS_ADMIN (filesystem marks) and CAP_DAC_READ_SEARCH (open_by_handle_at).
 */
#include "agent/agent_fim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#define FAN_MASK                                                                                   \
    (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_ATTRIB | FAN_CLOSE_WRITE |      \
     FAN_ONDIR | FAN_EVENT_ON_CHILD)

struct fan_fs {
    __fsid_t fsid;
    int mount_fd;
};

struct fan_state {
    int fd;
    pid_t self;
    struct fan_fs fs[16];
    size_t nfs;
    char buf[65536] __attribute__((aligned(8)));
};

static void fan_close(void *st)
{
    struct fan_state *s = st;
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->nfs; i++) {
        close(s->fs[i].mount_fd);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    vg_free(s);
}

/* Mark the filesystem holding path (once per filesystem) and remember a descriptor on it. */
static int fan_mark_root(struct fan_state *s, const char *path, char *err, size_t errsz)
{
    /* open_by_handle_at refuses O_PATH descriptors: a real open, non-blocking in case path
       is a FIFO */
    int mfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    struct statfs sf;
    if (mfd < 0 || fstatfs(mfd, &sf) != 0) {
        VG_WARN(VG_FIM_COMP, "fanotify: %s: %s (not watched until it exists)", path,
                strerror(errno));
        if (mfd >= 0) {
            close(mfd);
        }
        return VG_OK;
    }
    for (size_t i = 0; i < s->nfs; i++) {
        if (!memcmp(&s->fs[i].fsid, &sf.f_fsid, sizeof(sf.f_fsid))) {
            close(mfd);
            return VG_OK;
        }
    }
    if (s->nfs == VG_ARRAY_LEN(s->fs) ||
        fanotify_mark(s->fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_MASK, AT_FDCWD, path) != 0) {
        snprintf(err, errsz, "filesystem mark on %s: %s", path,
                 s->nfs == VG_ARRAY_LEN(s->fs) ? "too many filesystems" : strerror(errno));
        close(mfd);
        return VG_EUNSUPPORTED;
    }
    s->fs[s->nfs++] = (struct fan_fs){.fsid = sf.f_fsid, .mount_fd = mfd};
    return VG_OK;
}

static int fan_open(struct vg_fim_coll *c, void **state, char *err, size_t errsz)
{
    const struct vg_fim_opts *o = vg_fim_coll_opts(c);
    struct fan_state *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return VG_ENOMEM;
    }
    s->self = getpid();
    s->fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
                          O_RDONLY | O_LARGEFILE);
    if (s->fd < 0) {
        snprintf(err, errsz, "fanotify_init(FAN_REPORT_DFID_NAME): %s", strerror(errno));
        fan_close(s);
        return VG_EUNSUPPORTED;
    }
    for (size_t i = 0; i < o->npaths; i++) {
        if (fan_mark_root(s, o->paths[i], err, errsz) != VG_OK) {
            fan_close(s);
            return VG_EUNSUPPORTED;
        }
    }
    *state = s;
    return VG_OK;
}

static int fan_fd(void *st)
{
    return ((struct fan_state *)st)->fd;
}

static int mount_fd_of(const struct fan_state *s, const void *fsid)
{
    for (size_t i = 0; i < s->nfs; i++) {
        if (!memcmp(&s->fs[i].fsid, fsid, sizeof(s->fs[i].fsid))) {
            return s->fs[i].mount_fd;
        }
    }
    return -1;
}

/* Resolve a directory handle + entry name into out; false when it cannot be (gone). */
static bool fan_resolve(const struct fan_state *s, const struct fanotify_event_info_fid *fid,
                        size_t info_len, char *out, size_t outsz)
{
    struct file_handle *fh = (struct file_handle *)fid->handle;
    size_t fixed = sizeof(*fid) + sizeof(*fh);
    if (info_len < fixed || info_len < fixed + fh->handle_bytes) {
        return false;
    }
    const char *name = (const char *)fh->f_handle + fh->handle_bytes;
    size_t name_max = info_len - fixed - fh->handle_bytes;
    int mfd = mount_fd_of(s, &fid->fsid);
    int dfd = mfd >= 0 ? open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC) : -1;
    if (dfd < 0) {
        return false;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
    ssize_t n = readlink(proc, out, outsz - 1);
    close(dfd);
    if (n <= 0) {
        return false;
    }
    out[n] = '\0';
    size_t nl = strnlen(name, name_max);
    if (nl == 0 || (nl == 1 && name[0] == '.')) {
        return true; /* the event is about the directory itself */
    }
    return (size_t)snprintf(out + n, outsz - (size_t)n, "%s%.*s", out[n - 1] == '/' ? "" : "/",
                            (int)nl, name) < outsz - (size_t)n;
}

static void fan_event(struct fan_state *s, struct vg_fim_coll *c,
                      const struct fanotify_event_metadata *m)
{
    if (m->mask & FAN_Q_OVERFLOW) {
        vg_fim_coll_rescan(c);
        return;
    }
    if (m->pid == s->self) {
        return;
    }
    const char *p = (const char *)m + m->metadata_len, *end = (const char *)m + m->event_len;
    while (p + sizeof(struct fanotify_event_info_header) <= end) {
        const struct fanotify_event_info_header *h = (const void *)p;
        if (h->len < sizeof(*h) || p + h->len > end) {
            return;
        }
        char path[PATH_MAX];
        if (h->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
            h->info_type == FAN_EVENT_INFO_TYPE_DFID) {
            if (fan_resolve(s, (const void *)p, h->len, path, sizeof(path)) &&
                vg_fim_in_scope(vg_fim_coll_opts(c), path)) {
                vg_fim_coll_touch(c, path, m->pid);
            }
            return;
        }
        p += h->len;
    }
}

static void fan_drain(void *st, struct vg_fim_coll *c)
{
    struct fan_state *s = st;
    /* bounded, so that a busy filesystem cannot starve the processing of what was read */
    for (int reads = 0; reads < 64; reads++) {
        ssize_t n = read(s->fd, s->buf, sizeof(s->buf));
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            return; /* EAGAIN: drained */
        }
        /* events with FID records are 4-byte aligned in the buffer while the metadata holds
           a u64: each event is copied to an aligned place before it is read */
        const char *p = s->buf;
        size_t left = (size_t)n;
        while (left >= FAN_EVENT_METADATA_LEN) {
            union {
                struct fanotify_event_metadata md;
                char b[8192];
            } ev;
            memcpy(&ev.md, p, sizeof(ev.md));
            size_t len = ev.md.event_len;
            if (len < FAN_EVENT_METADATA_LEN || len > left) {
                break;
            }
            if (len <= sizeof(ev.b) && ev.md.vers == FANOTIFY_METADATA_VERSION) {
                memcpy(ev.b, p, len);
                fan_event(s, c, &ev.md);
            }
            p += len;
            left -= len;
        }
    }
}

const struct vg_fim_backend vg_fim_backend_fanotify = {
    .name = "fanotify",
    .open = fan_open,
    .fd = fan_fd,
    .drain = fan_drain,
    .close = fan_close,
};
