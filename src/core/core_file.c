/*
 * core_file.c — loading files: whole-file reads with a size bound, and read-only mappings.
 */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int vg_file_read(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? VG_ENOENT : VG_EIO;
    }
    struct vg_sbuf s = VG_SBUF_INIT;
    int rc = VG_OK;
    for (;;) {
        if (vg_sbuf_reserve(&s, 65536) != VG_OK) {
            rc = VG_ENOMEM;
            break;
        }
        ssize_t r = read(fd, s.p + s.len, 65536);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = VG_EIO;
            break;
        }
        if (r == 0) {
            break;
        }
        s.len += (size_t)r;
        s.p[s.len] = '\0';
        if (s.len > max) {
            rc = VG_ELIMIT;
            break;
        }
    }
    close(fd);
    if (rc != VG_OK) {
        vg_sbuf_fini(&s);
        return rc;
    }
    *out = vg_sbuf_take(&s, len);
    return *out ? VG_OK : VG_ENOMEM;
}

int vg_file_map(const char *path, struct vg_mapped *m)
{
    m->p = NULL;
    m->len = 0;
    m->mapped = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? VG_ENOENT : VG_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return VG_EIO;
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED) {
            return VG_EIO;
        }
        madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
        m->p = p;
        m->len = (size_t)st.st_size;
        m->mapped = true;
        return VG_OK;
    }
    close(fd);
    char *buf;
    size_t len;
    int rc = vg_file_read(path, SIZE_MAX / 2, &buf, &len);
    if (rc == VG_OK) {
        m->p = (const uint8_t *)buf;
        m->len = len;
    }
    return rc;
}

void vg_file_unmap(struct vg_mapped *m)
{
    if (m->mapped) {
        munmap((void *)m->p, m->len);
    } else {
        vg_free((void *)m->p);
    }
    m->p = NULL;
    m->len = 0;
    m->mapped = false;
}
