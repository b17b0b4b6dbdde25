/*
 * agent_fim_file.c — one path at a time: turning a stat into a record, hashing a file's
 * content, deciding whether content must be hashed again, comparing two records, and the
 * exclude/scope tests. Used by full scans (several hashing threads, one hasher each) and by
 * the real-time re-checks.
 *
 * Hashing opens the file without following links, non-blocking (a FIFO swapped in cannot
 * stall us) and with O_NOATIME where the kernel permits it (owner or CAP_FOWNER), and takes
 * the metadata from the open file so the hash and the attributes describe the same inode.
 */
#include "agent/agent_fim_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

struct vg_fim_hasher {
    EVP_MD *md;
    EVP_MD_CTX *ctx;
    uint8_t *buf;
    bool noatime_denied; /* O_NOATIME gave EPERM once: do not try it again */
};

struct vg_fim_hasher *vg_fim_hasher_create(void)
{
    struct vg_fim_hasher *h = vg_calloc(1, sizeof(*h));
    if (!h) {
        return NULL;
    }
    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
    h->ctx = EVP_MD_CTX_new();
    h->buf = vg_malloc(VG_FIM_BUF_SIZE);
    if (!h->md || !h->ctx || !h->buf) {
        vg_fim_hasher_destroy(h);
        return NULL;
    }
    return h;
}

void vg_fim_hasher_destroy(struct vg_fim_hasher *h)
{
    if (!h) {
        return;
    }
    EVP_MD_free(h->md);
    EVP_MD_CTX_free(h->ctx);
    vg_free(h->buf);
    vg_free(h);
}

void vg_fim_rec_from_stat(struct vg_fim_rec *r, const struct stat *st)
{
    r->mode = st->st_mode;
    r->uid = st->st_uid;
    r->gid = st->st_gid;
    r->size = (uint64_t)st->st_size;
    r->inode = st->st_ino;
    r->dev = st->st_dev;
    r->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    r->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
    r->has_hash = false;
}

static int open_noatime(struct vg_fim_hasher *h, int dirfd, const char *name)
{
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    if (!h->noatime_denied) {
        int fd = openat(dirfd, name, flags | O_NOATIME);
        if (fd >= 0 || errno != EPERM) {
            return fd;
        }
        h->noatime_denied = true;
    }
    return openat(dirfd, name, flags);
}

static int hash_fd(struct vg_fim_hasher *h, int fd, uint8_t out[32], uint64_t *bytes)
{
    if (!EVP_DigestInit_ex(h->ctx, h->md, NULL)) {
        return VG_ERROR;
    }
    for (;;) {
        ssize_t n = read(fd, h->buf, VG_FIM_BUF_SIZE);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return VG_EIO;
        }
        EVP_DigestUpdate(h->ctx, h->buf, (size_t)n);
        *bytes += (uint64_t)n;
    }
    unsigned len = 0;
    return EVP_DigestFinal_ex(h->ctx, out, &len) && len == 32 ? VG_OK : VG_ERROR;
}

int vg_fim_hash_file(struct vg_fim_hasher *h, int dirfd, const char *name, struct vg_fim_rec *r,
                     uint64_t *bytes)
{
    int fd = open_noatime(h, dirfd, name);
    if (fd < 0) {
        return errno == ENOENT || errno == ELOOP ? VG_ENOENT : VG_EIO;
    }
    struct stat st;
    int rc = VG_EIO;
    if (fstat(fd, &st) != 0) {
        goto out;
    }
    vg_fim_rec_from_stat(r, &st);
    rc = VG_OK;
    if (!S_ISREG(st.st_mode)) {
        goto out; /* replaced by something we do not hash since it was stat'ed */
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rc = hash_fd(h, fd, r->sha256, bytes);
    r->has_hash = rc == VG_OK;
out:
    close(fd);
    return rc;
}

bool vg_fim_need_hash(const struct vg_fim_opts *o, const struct vg_fim_rec *old,
                      const struct vg_fim_rec *cur)
{
    if (o->no_hash || !S_ISREG(cur->mode)) {
        return false;
    }
    if (o->max_file_size && cur->size > o->max_file_size) {
        return false;
    }
    if (!old || o->rehash || !old->has_hash || !S_ISREG(old->mode)) {
        return true;
    }
    return old->size != cur->size || old->mtime_ns != cur->mtime_ns ||
           old->ctime_ns != cur->ctime_ns || old->inode != cur->inode || old->dev != cur->dev;
}

static bool str_differs(const char *a, const char *b)
{
    if (!a || !b) {
        return a != b;
    }
    return strcmp(a, b) != 0;
}

uint32_t vg_fim_rec_diff(const struct vg_fim_rec *old, const struct vg_fim_rec *cur)
{
    uint32_t m = 0;
    if ((old->mode & S_IFMT) != (cur->mode & S_IFMT)) {
        m |= VG_FIM_CH_TYPE;
    }
    /* a directory's size and times change with every entry added or removed below it: the
       entries themselves are reported instead */
    if (!S_ISDIR(cur->mode) || !S_ISDIR(old->mode)) {
        m |= old->size != cur->size ? VG_FIM_CH_SIZE : 0;
        m |= old->mtime_ns != cur->mtime_ns ? VG_FIM_CH_MTIME : 0;
        m |= old->ctime_ns != cur->ctime_ns ? VG_FIM_CH_CTIME : 0;
    }
    m |= (old->mode & 07777) != (cur->mode & 07777) ? VG_FIM_CH_MODE : 0;
    m |= old->uid != cur->uid ? VG_FIM_CH_UID : 0;
    m |= old->gid != cur->gid ? VG_FIM_CH_GID : 0;
    m |= old->inode != cur->inode ? VG_FIM_CH_INODE : 0;
    m |= old->dev != cur->dev ? VG_FIM_CH_DEV : 0;
    if (old->has_hash && cur->has_hash && memcmp(old->sha256, cur->sha256, 32) != 0) {
        m |= VG_FIM_CH_HASH;
    }
    m |= str_differs(old->link, cur->link) ? VG_FIM_CH_LINK : 0;
    return m;
}

enum vg_fim_kind vg_fim_kind_of(uint32_t changed)
{
    const uint32_t content = VG_FIM_CH_TYPE | VG_FIM_CH_SIZE | VG_FIM_CH_MTIME | VG_FIM_CH_HASH |
                             VG_FIM_CH_LINK | VG_FIM_CH_INODE | VG_FIM_CH_DEV;
    return (changed & content) ? VG_FIM_MODIFIED : VG_FIM_ATTRIBUTES;
}

bool vg_fim_excluded(const struct vg_fim_opts *o, const char *path, size_t n)
{
    const char *slash = memrchr(path, '/', n);
    const char *base = slash ? slash + 1 : path;
    size_t bn = n - (size_t)(base - path);
    for (size_t i = 0; i < o->nexclude; i++) {
        const char *pat = o->exclude[i];
        bool whole = strchr(pat, '/') != NULL;
        if (whole ? vg_glob_match(pat, strlen(pat), path, n)
                  : vg_glob_match(pat, strlen(pat), base, bn)) {
            return true;
        }
    }
    return false;
}

bool vg_fim_in_scope(const struct vg_fim_opts *o, const char *path)
{
    for (size_t i = 0; i < o->npaths; i++) {
        const char *root = o->paths[i];
        size_t n = strlen(root);
        if (n > 0 && root[n - 1] == '/') {
            n--; /* "/" → "" : every absolute path is below it */
        }
        if (!strncmp(path, root, n) && (path[n] == '\0' || path[n] == '/')) {
            return true;
        }
    }
    return false;
}
