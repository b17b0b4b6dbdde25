/*
 * agent_resp_collect.c — collect_file: hash, size and bounded content of one regular file
 * (the scan action lives in agent_resp_scan.c).
 *
 * The file is opened with O_NOFOLLOW|O_NONBLOCK (a symlink or FIFO cannot redirect or hang
 * the read) and must be a regular file; the SHA-256 covers the whole file while the content
 * returned stops at max_bytes (default 1 MiB, never above opts->collect_max, default 4 MiB),
 * with "truncated" saying so.
 */
#include "agent/agent_resp_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COLLECT_DEFAULT (1u << 20)
#define COLLECT_CAP     (4u << 20)

static int read_prefix(int fd, size_t want, unsigned char *buf, size_t *got)
{
    *got = 0;
    while (*got < want) {
        ssize_t n = pread(fd, buf + *got, want - *got, (off_t)*got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return VG_EIO;
        }
        if (n == 0) {
            break;
        }
        *got += (size_t)n;
    }
    return VG_OK;
}

static void b64_append(struct vg_sbuf *out, const unsigned char *p, size_t n)
{
    size_t need = 4 * ((n + 2) / 3) + 1;
    if (vg_sbuf_reserve(out, need) != VG_OK) {
        return;
    }
    int w = EVP_EncodeBlock((unsigned char *)out->p + out->len, p, (int)n);
    out->len += w > 0 ? (size_t)w : 0;
    out->p[out->len] = '\0';
}

static int collect_open(const struct vg_json *args, char *path, size_t psize, int *fd,
                        struct stat *st, char *err, size_t errsz)
{
    int rc = vg_resp_arg_str(args, "path", true, path, psize, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (path[0] != '/') {
        return vg_resp_fail(err, errsz, VG_EINVAL, "parameter 'path' must be absolute");
    }
    *fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (*fd < 0) {
        return vg_resp_fail(err, errsz, errno == ENOENT ? VG_ENOENT : VG_EIO, "open %.512s: %s",
                            path, strerror(errno));
    }
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        return vg_resp_fail(err, errsz, VG_EINVAL, "%.512s is not a regular file", path);
    }
    return VG_OK;
}

int vg_resp_collect_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz)
{
    char path[PATH_MAX], sha[VG_RESP_SHA256_HEX];
    size_t cap = o->collect_max ? o->collect_max : COLLECT_CAP, got = 0;
    int64_t max = COLLECT_DEFAULT;
    uint64_t size = 0;
    unsigned char *buf = NULL;
    struct stat st;
    int fd = -1;
    int rc = vg_resp_arg_int(args, "max_bytes", false, 0, (int64_t)cap, &max, err, errsz);
    rc = rc == VG_ENOENT ? VG_OK : rc;
    max = VG_MIN(max, (int64_t)cap);
    if (rc == VG_OK) {
        rc = collect_open(args, path, sizeof(path), &fd, &st, err, errsz);
    }
    if (rc == VG_OK && vg_resp_sha256_fd(fd, sha, &size) != VG_OK) {
        rc = vg_resp_fail(err, errsz, VG_EIO, "reading %.512s: %s", path, strerror(errno));
    }
    if (rc == VG_OK && !(buf = vg_malloc((size_t)max + 1))) {
        rc = vg_resp_fail(err, errsz, VG_ENOMEM, "out of memory");
    }
    if (rc == VG_OK && read_prefix(fd, (size_t)max, buf, &got) != VG_OK) {
        rc = vg_resp_fail(err, errsz, VG_EIO, "reading %.512s: %s", path, strerror(errno));
    }
    if (rc == VG_OK) {
        vg_sbuf_adds(out, "{\"path\":");
        vg_sbuf_add_json_str(out, path, strlen(path));
        vg_sbuf_printf(out,
                       ",\"sha256\":\"%s\",\"size\":%llu,\"mode\":\"%04o\",\"uid\":%u,"
                       "\"gid\":%u,\"bytes\":%zu,\"truncated\":%s,\"content_b64\":\"",
                       sha, (unsigned long long)size, (unsigned)(st.st_mode & 07777),
                       (unsigned)st.st_uid, (unsigned)st.st_gid, got,
                       (uint64_t)got < size ? "true" : "false");
        b64_append(out, buf, got);
        vg_sbuf_adds(out, "\"}");
    }
    vg_free(buf);
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}
