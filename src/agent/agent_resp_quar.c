/*
 * agent_resp_quar.c — quarantine_file / restore_file.
 *
 * A quarantined file never leaves its filesystem: it is rename(2)d — atomic, so an EXDEV or
 * any other failure leaves it where it was, and nothing is ever copied or unlinked — into a
 * quarantine directory ON THE SAME MOUNT (compared by statx mount id, falling back to st_dev):
 *   1. <state_dir>/quarantine when the state directory is on that mount;
 *   2. else <top of that mount>/.vigie-quarantine, the top found by walking ".." from the
 *      file's directory while the mount stays the same.
 * The directory must be a real directory owned by the agent's user and not group/other
 * writable (a planted directory or symlink is refused). The file is renamed to its random
 * quarantine id (32 hex digits) with RENAME_NOREPLACE, then — through the descriptor opened
 * before the move, whose inode is checked against the moved entry — chmod 000 and the
 * immutable flag (FS_IOC_SETFLAGS; "immutable": false and "immutable_error" when the
 * filesystem refuses). Its hard-link count is reported: other links keep pointing at the
 * (now unreadable, immutable) inode.
 *
 * <state_dir>/quarantine.db (SQLite) records id, original path, stored path, mode, owner,
 * size, sha256, device/inode and state. The row is written ("moving") before the rename and
 * marked "quarantined" after, so a crash in between leaves a record to find the file by.
 *
 * restore_file refuses when the original path exists (VG_EEXIST) or the stored inode is not
 * the one recorded, clears the flag, renames back (RENAME_NOREPLACE), then restores owner
 * and mode (in that order: chown clears set-id bits) and re-hashes ("sha256_match").
 */
#include "agent/agent_resp_int.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/fs.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define QDIR_NAME ".vigie-quarantine"
#define QID_LEN   32

struct quar_file {
    char path[PATH_MAX];
    char base[NAME_MAX + 1];
    int dirfd; /* the original's parent directory (O_PATH) */
    int fd;    /* the file itself */
    struct stat st;
    char sha[VG_RESP_SHA256_HEX];
};

/* ---------------------------------------------------------------- helpers */

/* Mount identity of an fd: statx mount id when the kernel gives one, else the device. */
static uint64_t mount_of(int fd)
{
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID)) {
        return sx.stx_mnt_id | (1ull << 63);
    }
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t)st.st_dev : 0;
}

static int path_split(const char *path, char *dir, size_t dsize, char *base, size_t bsize)
{
    const char *slash = strrchr(path, '/');
    size_t dn = slash == path ? 1 : (size_t)(slash - path);
    const char *b = slash + 1;
    if (!*b || strcmp(b, ".") == 0 || strcmp(b, "..") == 0 || strlen(b) >= bsize || dn >= dsize) {
        return VG_EINVAL;
    }
    memcpy(dir, path, dn);
    dir[dn] = '\0';
    vg_strlcpy(base, b, bsize);
    return VG_OK;
}

/* Text path of an open fd (for the database and messages). */
static void fd_path(int fd, char *buf, size_t size)
{
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
}

static int flags_set(int fd, bool immutable, char *why, size_t whysz)
{
    int f = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &f) != 0) {
        snprintf(why, whysz, "FS_IOC_GETFLAGS: %s", strerror(errno));
        return VG_EUNSUPPORTED;
    }
    f = immutable ? (f | FS_IMMUTABLE_FL) : (f & ~FS_IMMUTABLE_FL);
    if (ioctl(fd, FS_IOC_SETFLAGS, &f) != 0) {
        snprintf(why, whysz, "FS_IOC_SETFLAGS: %s", strerror(errno));
        return errno == ENOTTY || errno == EOPNOTSUPP ? VG_EUNSUPPORTED : VG_EIO;
    }
    return VG_OK;
}

static bool id_valid(const char *id)
{
    return strlen(id) == QID_LEN && strspn(id, "0123456789abcdef") == QID_LEN;
}

/* ---------------------------------------------------------------- quarantine directory */

/* A usable quarantine dir: a directory we own, not writable by others. */
static int qdir_check(int qfd, const char *what, char *err, size_t errsz)
{
    struct stat st;
    if (fstat(qfd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022)) {
        return vg_resp_fail(err, errsz, VG_EDENIED,
                            "quarantine directory %s is not a directory owned by the agent and "
                            "closed to others: refused",
                            what);
    }
    return VG_OK;
}

static int qdir_at(int parent, const char *name, int *qfd, char *err, size_t errsz)
{
    if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
        return vg_resp_fail(err, errsz, VG_EIO, "mkdir %s: %s", name, strerror(errno));
    }
    *qfd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*qfd < 0) {
        return vg_resp_fail(err, errsz, errno == ELOOP ? VG_EDENIED : VG_EIO, "open %s: %s", name,
                            strerror(errno));
    }
    int rc = qdir_check(*qfd, name, err, errsz);
    if (rc != VG_OK) {
        close(*qfd);
        *qfd = -1;
    }
    return rc;
}

/* Walk ".." from dirfd while the mount stays the same; returns an O_PATH fd to the top. */
static int mount_top(int dirfd, uint64_t mnt)
{
    int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (int depth = 0; cur >= 0 && depth < 4096; depth++) {
        struct stat a, b;
        int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0 || fstat(cur, &a) != 0 || fstat(up, &b) != 0 || mount_of(up) != mnt ||
            (a.st_ino == b.st_ino && a.st_dev == b.st_dev)) {
            if (up >= 0) {
                close(up);
            }
            return cur;
        }
        close(cur);
        cur = up;
    }
    return cur;
}

static int qdir_open(const struct vg_agent_resp_opts *o, const struct quar_file *f, int *qfd,
                     char *err, size_t errsz)
{
    uint64_t mnt = mount_of(f->fd);
    if (o->state_dir) {
        int sfd = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sfd >= 0 && mount_of(sfd) == mnt) {
            int rc = qdir_at(sfd, "quarantine", qfd, err, errsz);
            close(sfd);
            return rc;
        }
        if (sfd >= 0) {
            close(sfd);
        }
    }
    int top = mount_top(f->dirfd, mnt);
    if (top < 0) {
        return vg_resp_fail(err, errsz, VG_EIO, "cannot find the top of %s's filesystem", f->path);
    }
    int rc = qdir_at(top, QDIR_NAME, qfd, err, errsz);
    close(top);
    return rc;
}

/* ---------------------------------------------------------------- database */

static int db_open(const struct vg_agent_resp_opts *o, sqlite3 **db, char *err, size_t errsz)
{
    char path[PATH_MAX];
    if (!o->state_dir) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "the agent has no state directory configured");
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/quarantine.db", o->state_dir) >= sizeof(path)) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "state directory path too long");
    }
    int rc = vg_store_sqlite_open(path, db, err, errsz);
    if (rc == VG_OK) {
        rc = vg_store_sqlite_exec(*db,
                                  "CREATE TABLE IF NOT EXISTS quarantine("
                                  "id TEXT PRIMARY KEY, original_path TEXT NOT NULL,"
                                  "stored_path TEXT NOT NULL, mode INTEGER, uid INTEGER,"
                                  "gid INTEGER, size INTEGER, sha256 TEXT, dev INTEGER,"
                                  "ino INTEGER, immutable INTEGER, state TEXT NOT NULL,"
                                  "quarantined_at TEXT, restored_at TEXT);",
                                  "quarantine schema", err, errsz);
        if (rc != VG_OK) {
            sqlite3_close(*db);
            *db = NULL;
        }
    }
    return rc;
}

/* Run one statement with text/int64 bindings given as a format: 't' text, 'i' int64. */
static int db_run(sqlite3 *db, const char *sql, const char *fmt, const void *const *vals, char *err,
                  size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    for (int i = 0; src == SQLITE_OK && fmt[i]; i++) {
        src = fmt[i] == 't' ? sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT)
                            : sqlite3_bind_int64(st, i + 1, *(const int64_t *)vals[i]);
    }
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? VG_OK : vg_store_sqlite_fail(db, src, "quarantine db", err, errsz);
}

static int db_insert(sqlite3 *db, const char *id, const struct quar_file *f, const char *stored,
                     char *err, size_t errsz)
{
    char now[40];
    vg_time_format(vg_time_now(), now, sizeof(now));
    int64_t mode = f->st.st_mode & 07777, uid = f->st.st_uid, gid = f->st.st_gid;
    int64_t size = f->st.st_size, dev = (int64_t)f->st.st_dev, ino = (int64_t)f->st.st_ino;
    const void *vals[] = {id, f->path, stored, &mode, &uid, &gid, &size, f->sha, &dev, &ino, now};
    return db_run(
        db,
        "INSERT INTO quarantine(id,original_path,stored_path,mode,uid,gid,size,sha256,"
        "dev,ino,immutable,state,quarantined_at) VALUES(?,?,?,?,?,?,?,?,?,?,0,'moving',?)",
        "tttiiiitiit", vals, err, errsz);
}

static int db_state(sqlite3 *db, const char *id, const char *state, int64_t immutable, char *err,
                    size_t errsz)
{
    char now[40];
    vg_time_format(vg_time_now(), now, sizeof(now));
    const void *vals[] = {state, &immutable, now, id};
    return db_run(db,
                  "UPDATE quarantine SET state=?1, immutable=?2, restored_at=CASE WHEN "
                  "?1='restored' THEN ?3 ELSE restored_at END WHERE id=?4",
                  "titt", vals, err, errsz);
}

static int db_delete(sqlite3 *db, const char *id)
{
    const void *vals[] = {id};
    return db_run(db, "DELETE FROM quarantine WHERE id=?", "t", vals, NULL, 0);
}

/* ---------------------------------------------------------------- quarantine */

static int file_open(const struct vg_json *args, struct quar_file *f, char *err, size_t errsz)
{
    char dir[PATH_MAX];
    int rc = vg_resp_arg_str(args, "path", true, f->path, sizeof(f->path), err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (f->path[0] != '/' || path_split(f->path, dir, sizeof(dir), f->base, sizeof(f->base))) {
        return vg_resp_fail(err, errsz, VG_EINVAL,
                            "parameter 'path' must be an absolute path to a file");
    }
    f->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (f->dirfd < 0) {
        return vg_resp_fail(err, errsz, errno == ENOENT ? VG_ENOENT : VG_EIO, "open %.512s: %s",
                            dir, strerror(errno));
    }
    f->fd = openat(f->dirfd, f->base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f->fd < 0) {
        return vg_resp_fail(err, errsz,
                            errno == ENOENT  ? VG_ENOENT
                            : errno == ELOOP ? VG_EDENIED
                                             : VG_EIO,
                            "open %.512s: %s", f->path,
                            errno == ELOOP ? "is a symbolic link (refused)" : strerror(errno));
    }
    if (fstat(f->fd, &f->st) != 0 || !S_ISREG(f->st.st_mode)) {
        return vg_resp_fail(err, errsz, VG_EDENIED, "%.512s is not a regular file", f->path);
    }
    return VG_OK;
}

static int hash_check(const struct vg_json *args, struct quar_file *f, char *err, size_t errsz)
{
    char want[VG_RESP_SHA256_HEX + 1];
    if (vg_resp_sha256_fd(f->fd, f->sha, NULL) != VG_OK) {
        return vg_resp_fail(err, errsz, VG_EIO, "reading %.512s: %s", f->path, strerror(errno));
    }
    int rc = vg_resp_arg_str(args, "sha256", false, want, sizeof(want), err, errsz);
    if (rc == VG_ENOENT) {
        return VG_OK;
    }
    for (char *p = want; rc == VG_OK && *p; p++) {
        *p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
    }
    if (rc == VG_OK && strcmp(want, f->sha) != 0) {
        rc = vg_resp_fail(err, errsz, VG_EDENIED, "%.512s has sha256 %s, not %.64s: refused",
                          f->path, f->sha, want);
    }
    return rc;
}

/* Move f into qfd as id; confirm the moved entry is the inode we hashed, else move it back. */
static int file_move(struct quar_file *f, int qfd, const char *id, char *err, size_t errsz)
{
    struct stat st;
    if (renameat2(f->dirfd, f->base, qfd, id, RENAME_NOREPLACE) != 0) {
        return vg_resp_fail(err, errsz, errno == ENOENT ? VG_ENOENT : VG_EIO,
                            "rename %.512s into quarantine: %s%s (the file was not moved)", f->path,
                            strerror(errno),
                            errno == EXDEV ? " — the quarantine dir is on another mount" : "");
    }
    if (fstatat(qfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_ino == f->st.st_ino &&
        st.st_dev == f->st.st_dev) {
        return VG_OK;
    }
    renameat2(qfd, id, f->dirfd, f->base, RENAME_NOREPLACE);
    return vg_resp_fail(err, errsz, VG_EDENIED,
                        "%.512s was replaced while being quarantined: put back, refused", f->path);
}

static void quar_output(struct vg_sbuf *out, const char *id, const struct quar_file *f,
                        const char *stored, bool immutable, const char *why)
{
    vg_sbuf_printf(out, "{\"quarantine_id\":\"%s\",\"sha256\":\"%s\",\"immutable\":%s", id, f->sha,
                   immutable ? "true" : "false");
    if (!immutable) {
        vg_sbuf_adds(out, ",\"immutable_error\":");
        vg_sbuf_add_json_str(out, why, strlen(why));
    }
    vg_sbuf_adds(out, ",\"path\":");
    vg_sbuf_add_json_str(out, f->path, strlen(f->path));
    vg_sbuf_adds(out, ",\"stored_path\":");
    vg_sbuf_add_json_str(out, stored, strlen(stored));
    vg_sbuf_printf(
        out, ",\"size\":%lld,\"mode\":\"%04o\",\"uid\":%u,\"gid\":%u,\"other_links\":%u}",
        (long long)f->st.st_size, (unsigned)(f->st.st_mode & 07777), (unsigned)f->st.st_uid,
        (unsigned)f->st.st_gid, (unsigned)(f->st.st_nlink > 0 ? f->st.st_nlink - 1 : 0));
}

static int new_id(char id[QID_LEN + 1])
{
    unsigned char r[QID_LEN / 2];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        return VG_EIO;
    }
    for (size_t i = 0; i < sizeof(r); i++) {
        snprintf(id + 2 * i, 3, "%02x", r[i]);
    }
    return VG_OK;
}

static int quarantine_do(struct quar_file *f, int qfd, sqlite3 *db, struct vg_sbuf *out, char *err,
                         size_t errsz)
{
    char id[QID_LEN + 1], stored[PATH_MAX + QID_LEN + 2], why[160] = "", qpath[PATH_MAX];
    struct stat qst, dst;
    fd_path(qfd, qpath, sizeof(qpath));
    if (fstat(qfd, &qst) == 0 && fstat(f->dirfd, &dst) == 0 && qst.st_ino == dst.st_ino &&
        qst.st_dev == dst.st_dev) {
        return vg_resp_fail(err, errsz, VG_EDENIED, "%.512s is in quarantine already", f->path);
    }
    if (new_id(id) != VG_OK) {
        return vg_resp_fail(err, errsz, VG_EIO, "getrandom: %s", strerror(errno));
    }
    snprintf(stored, sizeof(stored), "%s/%s", qpath, id);
    int rc = db_insert(db, id, f, stored, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if ((rc = file_move(f, qfd, id, err, errsz)) != VG_OK) {
        db_delete(db, id);
        return rc;
    }
    if (fchmod(f->fd, 0) != 0) {
        VG_WARN("agent.resp", "chmod 000 %s: %s", stored, strerror(errno));
    }
    bool immutable = flags_set(f->fd, true, why, sizeof(why)) == VG_OK;
    rc = db_state(db, id, "quarantined", immutable, err, errsz);
    if (rc == VG_OK) {
        quar_output(out, id, f, stored, immutable, why);
    }
    return rc;
}

/* The quarantine database (and its WAL) must never be quarantined. */
static bool own_file(const struct vg_agent_resp_opts *o, const struct stat *st)
{
    static const char *const names[] = {"quarantine.db", "quarantine.db-wal", "quarantine.db-shm"};
    char path[PATH_MAX + 32];
    struct stat s;
    for (size_t i = 0; o->state_dir && i < VG_ARRAY_LEN(names); i++) {
        snprintf(path, sizeof(path), "%s/%s", o->state_dir, names[i]);
        if (stat(path, &s) == 0 && s.st_ino == st->st_ino && s.st_dev == st->st_dev) {
            return true;
        }
    }
    return false;
}

int vg_resp_quarantine_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                           struct vg_sbuf *out, char *err, size_t errsz)
{
    struct quar_file f = {.dirfd = -1, .fd = -1};
    sqlite3 *db = NULL;
    int qfd = -1;
    int rc = file_open(args, &f, err, errsz);
    if (rc == VG_OK) {
        rc = hash_check(args, &f, err, errsz);
    }
    if (rc == VG_OK) {
        rc = db_open(o, &db, err, errsz);
    }
    if (rc == VG_OK && own_file(o, &f.st)) {
        rc = vg_resp_fail(err, errsz, VG_EDENIED, "%.512s is the agent's own state: refused",
                          f.path);
    }
    if (rc == VG_OK) {
        rc = qdir_open(o, &f, &qfd, err, errsz);
    }
    if (rc == VG_OK) {
        rc = quarantine_do(&f, qfd, db, out, err, errsz);
    }
    int fds[] = {f.fd, f.dirfd, qfd};
    for (size_t i = 0; i < VG_ARRAY_LEN(fds); i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    sqlite3_close(db);
    return rc;
}

/* ---------------------------------------------------------------- restore */

struct quar_row {
    char original[PATH_MAX];
    char stored[PATH_MAX + QID_LEN + 2];
    char sha[VG_RESP_SHA256_HEX];
    int64_t mode, uid, gid, dev, ino, immutable;
};

static void col_text(sqlite3_stmt *st, int i, char *buf, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    vg_strlcpy(buf, t ? (const char *)t : "", size);
}

static int row_load(sqlite3 *db, const char *id, struct quar_row *r, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db,
                                 "SELECT original_path,stored_path,sha256,mode,uid,gid,dev,ino,"
                                 "immutable FROM quarantine WHERE id=? AND state='quarantined'",
                                 -1, &st, NULL);
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        src = sqlite3_step(st);
    }
    int rc = VG_OK;
    if (src == SQLITE_ROW) {
        col_text(st, 0, r->original, sizeof(r->original));
        col_text(st, 1, r->stored, sizeof(r->stored));
        col_text(st, 2, r->sha, sizeof(r->sha));
        int64_t *ints[] = {&r->mode, &r->uid, &r->gid, &r->dev, &r->ino, &r->immutable};
        for (int i = 0; i < 6; i++) {
            *ints[i] = sqlite3_column_int64(st, 3 + i);
        }
    } else if (src == SQLITE_DONE) {
        rc = vg_resp_fail(err, errsz, VG_ENOENT, "no file is quarantined under id %s", id);
    } else {
        rc = vg_store_sqlite_fail(db, src, "quarantine db", err, errsz);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Preconditions: the original path is free, its directory exists, the stored inode is ours. */
static int restore_check(const struct quar_row *r, int *fd, int *dirfd, char *base, char *err,
                         size_t errsz)
{
    char dir[PATH_MAX];
    struct stat st;
    if (lstat(r->original, &st) == 0 || errno != ENOENT) {
        return vg_resp_fail(err, errsz, VG_EEXIST,
                            "%.512s exists again: refusing to overwrite it (restore it elsewhere "
                            "by moving that file away first)",
                            r->original);
    }
    if (path_split(r->original, dir, sizeof(dir), base, NAME_MAX + 1) != VG_OK ||
        (*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        return vg_resp_fail(err, errsz, VG_ENOENT, "the directory of %.512s is gone: %s",
                            r->original, strerror(errno));
    }
    *fd = open(r->stored, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &st) != 0 || (int64_t)st.st_ino != r->ino ||
        (int64_t)st.st_dev != r->dev) {
        return vg_resp_fail(err, errsz, VG_EDENIED,
                            "quarantined file %.512s is missing or is not the recorded inode",
                            r->stored);
    }
    return VG_OK;
}

static int restore_do(const struct quar_row *r, int fd, int dirfd, const char *base, char *err,
                      size_t errsz)
{
    char why[160];
    if (flags_set(fd, false, why, sizeof(why)) == VG_EIO) {
        return vg_resp_fail(err, errsz, VG_EIO, "clearing the immutable flag of %.512s: %s",
                            r->stored, why);
    }
    if (renameat2(AT_FDCWD, r->stored, dirfd, base, RENAME_NOREPLACE) != 0) {
        int e = errno;
        if (r->immutable) {
            flags_set(fd, true, why, sizeof(why));
        }
        return vg_resp_fail(err, errsz, e == EEXIST ? VG_EEXIST : VG_EIO,
                            "moving %.512s back to %.512s: %s", r->stored, r->original,
                            strerror(e));
    }
    if (fchown(fd, (uid_t)r->uid, (gid_t)r->gid) != 0 || fchmod(fd, (mode_t)r->mode) != 0) {
        VG_WARN("agent.resp", "restoring owner/mode of %s: %s", r->original, strerror(errno));
    }
    return VG_OK;
}

int vg_resp_restore_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz)
{
    char id[QID_LEN + 2], base[NAME_MAX + 1], sha[VG_RESP_SHA256_HEX] = "";
    struct quar_row r;
    sqlite3 *db = NULL;
    int fd = -1, dirfd = -1;
    int rc = vg_resp_arg_str(args, "quarantine_id", true, id, sizeof(id), err, errsz);
    if (rc == VG_OK && !id_valid(id)) {
        rc = vg_resp_fail(err, errsz, VG_EINVAL,
                          "parameter 'quarantine_id' must be 32 lowercase hex digits");
    }
    if (rc == VG_OK && (rc = db_open(o, &db, err, errsz)) == VG_OK &&
        (rc = row_load(db, id, &r, err, errsz)) == VG_OK &&
        (rc = restore_check(&r, &fd, &dirfd, base, err, errsz)) == VG_OK &&
        (rc = restore_do(&r, fd, dirfd, base, err, errsz)) == VG_OK) {
        vg_resp_sha256_fd(fd, sha, NULL);
        rc = db_state(db, id, "restored", 0, err, errsz);
        vg_sbuf_printf(out, "{\"quarantine_id\":\"%s\",\"path\":", id);
        vg_sbuf_add_json_str(out, r.original, strlen(r.original));
        vg_sbuf_printf(out,
                       ",\"mode\":\"%04o\",\"uid\":%lld,\"gid\":%lld,\"sha256\":\"%s\","
                       "\"sha256_match\":%s}",
                       (unsigned)r.mode, (long long)r.uid, (long long)r.gid, sha,
                       strcmp(sha, r.sha) == 0 ? "true" : "false");
    }
    if (fd >= 0) {
        close(fd);
    }
    if (dirfd >= 0) {
        close(dirfd);
    }
    sqlite3_close(db);
    return rc;
}
