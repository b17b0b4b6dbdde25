/*
 * agent_spool.c — the agent's disk spool: append-only segments of CRC-checked, sequenced
 * records, a committed read cursor, a byte bound with a drop counter. See agent_spool.h for
 * the layout and the contract; this file is the write side (append, roll, fsync policy),
 * the read side (buffered pread over the segments, validation) and recovery at open.
 *
 * Locking: `mu` guards the segment list, the write fd and the counters; the write of a
 * record happens under it, so a record is whole on disk before anyone can see its bytes.
 * The reader copies what it needs of the segment list under the lock and reads the files
 * without it. Only the reader thread (ack) deletes segments.
 */
#include "agent/agent_spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SPOOL_REC_HDR    16
#define SPOOL_READ_CHUNK (1u << 20)
#define SPOOL_CURSOR_SZ  24

struct spool_seg {
    uint64_t first_seq; /* sequence of its first record (also in the file name) */
    uint64_t count;     /* records in it */
    uint64_t bytes;     /* valid bytes */
};

struct vg_agent_spool {
    char *dir;
    struct vg_agent_spool_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    char id[33];
    struct spool_seg *segs; /* oldest first; the last one is the write segment */
    size_t nseg, segcap;
    int wfd;
    uint64_t next_seq, acked, total_bytes;
    uint64_t unsynced, last_sync_ns, drop_unreported;
    struct vg_agent_spool_stats st;
    /* reader side */
    uint64_t read_seq;
    int rfd;
    uint64_t rseg_first; /* segment rfd reads */
    uint64_t roff;       /* offset of the record read_seq in it (valid when rpositioned) */
    bool rpositioned;
    uint8_t *rbuf;
    uint64_t rbase; /* file offset of rbuf[0] */
    size_t rlen;
};

/* ------------------------------------------------------------------ small helpers */

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_le64(uint8_t *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

static void spool_err(char *err, size_t errsz, const char *what, const char *path)
{
    if (err && errsz) {
        snprintf(err, errsz, "spool: %s %s: %s", what, path, strerror(errno));
    }
}

static void seg_path(const struct vg_agent_spool *s, uint64_t first, char *buf, size_t size)
{
    snprintf(buf, size, "%s/seg-%020" PRIu64 ".log", s->dir, first);
}

static uint32_t rec_crc(uint64_t seq, const void *json, size_t len)
{
    uint8_t b[8];
    put_le64(b, seq);
    return vg_crc32(vg_crc32(0, b, 8), json, len);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return VG_EIO;
    }
    int rc = fsync(fd) == 0 ? VG_OK : VG_EIO;
    close(fd);
    return rc;
}

/* Write a small file atomically (tmp + rename); sync: fsync file and directory. */
static int write_atomic(const char *dir, const char *name, const void *p, size_t n, bool sync)
{
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
    snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return VG_EIO;
    }
    bool ok = write(fd, p, n) == (ssize_t)n && (!sync || fsync(fd) == 0);
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, dst) != 0) {
        unlink(tmp);
        return VG_EIO;
    }
    return sync ? fsync_dir(dir) : VG_OK;
}

static int mkdir_p(const char *path)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        return VG_OK;
    }
    return VG_EIO;
}

/* ------------------------------------------------------------------ id and cursor */

static int spool_write_cursor(struct vg_agent_spool *s)
{
    uint8_t b[SPOOL_CURSOR_SZ] = {'V', 'G', 'S', 'C'};
    put_le64(b + 8, s->acked);
    put_le32(b + 16, vg_crc32(0, b, 16));
    return write_atomic(s->dir, "cursor", b, sizeof(b), s->o.fsync == VG_AGENT_SPOOL_FSYNC_ALWAYS);
}

/* VG_OK with s->acked, or VG_ENOENT when absent or unreadable (treated alike). */
static int spool_read_cursor(struct vg_agent_spool *s)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/cursor", s->dir);
    char *p = NULL;
    size_t n = 0;
    if (vg_file_read(path, 64, &p, &n) != VG_OK) {
        return VG_ENOENT;
    }
    const uint8_t *b = (const uint8_t *)p;
    int rc = VG_ENOENT;
    if (n == SPOOL_CURSOR_SZ && memcmp(b, "VGSC", 4) == 0 &&
        vg_le32(b + 16) == vg_crc32(0, b, 16)) {
        s->acked = vg_le64(b + 8);
        rc = VG_OK;
    }
    vg_free(p);
    return rc;
}

static int spool_new_id(struct vg_agent_spool *s)
{
    uint8_t raw[16];
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(s->id, sizeof(s->id), raw, sizeof(raw));
    char line[34];
    memcpy(line, s->id, 32);
    line[32] = '\n';
    return write_atomic(s->dir, "id", line, 33, s->o.fsync != VG_AGENT_SPOOL_FSYNC_NONE);
}

/* VG_OK with s->id, VG_ENOENT if absent or malformed. */
static int spool_read_id(struct vg_agent_spool *s)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/id", s->dir);
    char *p = NULL;
    size_t n = 0;
    if (vg_file_read(path, 64, &p, &n) != VG_OK) {
        return VG_ENOENT;
    }
    int rc = VG_ENOENT;
    if (n >= 32 && strspn(p, "0123456789abcdef") == 32) {
        memcpy(s->id, p, 32);
        s->id[32] = '\0';
        rc = VG_OK;
    }
    vg_free(p);
    return rc;
}

/* ------------------------------------------------------------------ segment list */

static int seg_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct spool_seg *)a)->first_seq;
    uint64_t y = ((const struct spool_seg *)b)->first_seq;
    return x < y ? -1 : x > y;
}

static int seg_push(struct vg_agent_spool *s, uint64_t first, uint64_t bytes)
{
    if (vg_grow(&s->segs, &s->segcap, s->nseg + 1, sizeof(*s->segs)) != VG_OK) {
        return VG_ENOMEM;
    }
    s->segs[s->nseg++] = (struct spool_seg){first, 0, bytes};
    return VG_OK;
}

/* List seg-*.log files into s->segs (sorted, bytes = file size). */
static int spool_list_segments(struct vg_agent_spool *s, char *err, size_t errsz)
{
    DIR *d = opendir(s->dir);
    if (!d) {
        spool_err(err, errsz, "cannot list", s->dir);
        return VG_EIO;
    }
    int rc = VG_OK;
    struct dirent *e;
    while (rc == VG_OK && (e = readdir(d)) != NULL) {
        uint64_t first;
        int used = 0;
        if (sscanf(e->d_name, "seg-%20" SCNu64 ".log%n", &first, &used) != 1 ||
            e->d_name[used] != '\0' || used == 0) {
            continue;
        }
        char path[4096];
        seg_path(s, first, path, sizeof(path));
        struct stat sb;
        rc = stat(path, &sb) == 0 ? seg_push(s, first, (uint64_t)sb.st_size) : VG_EIO;
    }
    closedir(d);
    if (s->nseg > 1) {
        qsort(s->segs, s->nseg, sizeof(*s->segs), seg_cmp);
    }
    return rc;
}

/*
 * Check the last segment record by record; cut a torn or corrupt tail (counted as
 * corrupt when bytes were there). Sets its count.
 */
static int spool_recover_tail(struct vg_agent_spool *s, struct spool_seg *g)
{
    char path[4096];
    seg_path(s, g->first_seq, path, sizeof(path));
    struct vg_mapped m = {0};
    if (g->bytes > 0 && vg_file_map(path, &m) != VG_OK) {
        return VG_EIO;
    }
    uint64_t off = 0, n = 0;
    while (off + SPOOL_REC_HDR <= m.len) {
        uint32_t len = vg_le32(m.p + off);
        if (len == 0 || len > s->o.max_record || off + SPOOL_REC_HDR + len > m.len ||
            vg_le64(m.p + off + 8) != g->first_seq + n ||
            vg_le32(m.p + off + 4) != rec_crc(g->first_seq + n, m.p + off + 16, len)) {
            break;
        }
        off += SPOOL_REC_HDR + len;
        n++;
    }
    vg_file_unmap(&m);
    if (off < g->bytes) {
        VG_WARN("agent", "spool: cutting %" PRIu64 " bytes of torn tail in %s", g->bytes - off,
                path);
        s->st.corrupt++;
        if (truncate(path, (off_t)off) != 0) {
            return VG_EIO;
        }
    }
    g->bytes = off;
    g->count = n;
    return VG_OK;
}

static int spool_open_write_fd(struct vg_agent_spool *s)
{
    char path[4096];
    seg_path(s, s->segs[s->nseg - 1].first_seq, path, sizeof(path));
    s->wfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    return s->wfd < 0 ? VG_EIO : VG_OK;
}

/* Start a new write segment whose first record will be s->next_seq. */
static int spool_roll(struct vg_agent_spool *s)
{
    if (s->wfd >= 0) {
        if (s->o.fsync != VG_AGENT_SPOOL_FSYNC_NONE && fsync(s->wfd) == 0) {
            s->st.fsyncs++;
        }
        close(s->wfd);
        s->wfd = -1;
    }
    s->unsynced = 0;
    if (seg_push(s, s->next_seq, 0) != VG_OK) {
        return VG_ENOMEM;
    }
    int rc = spool_open_write_fd(s);
    if (rc == VG_OK && s->o.fsync != VG_AGENT_SPOOL_FSYNC_NONE) {
        rc = fsync_dir(s->dir); /* the name carries next_seq: make it durable */
    }
    if (rc != VG_OK) {
        s->nseg--;
    }
    return rc;
}

/* Delete segment i (not the write segment unless it is being replaced). */
static void spool_unlink_seg(struct vg_agent_spool *s, size_t i)
{
    char path[4096];
    seg_path(s, s->segs[i].first_seq, path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT) {
        VG_WARN("agent", "spool: cannot delete %s: %s", path, strerror(errno));
    }
    if (s->rfd >= 0 && s->rseg_first == s->segs[i].first_seq) {
        close(s->rfd); /* the reader's segment: reopen whatever comes next */
        s->rfd = -1;
    }
    s->total_bytes -= s->segs[i].bytes;
    memmove(s->segs + i, s->segs + i + 1, (s->nseg - i - 1) * sizeof(*s->segs));
    s->nseg--;
}

/*
 * Drop fully acknowledged segments from the front. The write segment goes too when it is
 * fully acknowledged and not empty: a fresh empty one named after next_seq replaces it so
 * the sequence survives a restart.
 */
static void spool_gc(struct vg_agent_spool *s)
{
    while (s->nseg > 1 && s->segs[0].first_seq + s->segs[0].count <= s->acked + 1) {
        spool_unlink_seg(s, 0);
    }
    if (s->nseg == 1 && s->segs[0].count > 0 && s->next_seq == s->acked + 1) {
        if (spool_roll(s) == VG_OK) {
            spool_unlink_seg(s, 0);
        }
    }
}

/* ------------------------------------------------------------------ open / close */

static int spool_opts_fill(struct vg_agent_spool_opts *o, const struct vg_agent_spool_opts *in)
{
    *o = in ? *in : (struct vg_agent_spool_opts){0};
    o->max_bytes = o->max_bytes ? o->max_bytes : (1ull << 30);
    o->segment_bytes = o->segment_bytes ? o->segment_bytes : (16ull << 20);
    o->segment_bytes = VG_MIN(o->segment_bytes, VG_MAX(o->max_bytes / 4, 4096));
    o->max_record = o->max_record ? o->max_record : (size_t)VG_MIN(1u << 20, o->segment_bytes);
    o->fsync_interval_ms = o->fsync_interval_ms ? o->fsync_interval_ms : 200;
    o->fsync_bytes = o->fsync_bytes ? o->fsync_bytes : (4ull << 20);
    if (o->max_record > o->max_bytes || o->max_record > UINT32_MAX ||
        o->fsync > VG_AGENT_SPOOL_FSYNC_ALWAYS) {
        return VG_EINVAL;
    }
    return VG_OK;
}

static struct vg_agent_spool *spool_alloc(const char *state_dir)
{
    struct vg_agent_spool *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    struct vg_sbuf p = VG_SBUF_INIT;
    vg_sbuf_printf(&p, "%s/spool", state_dir);
    s->dir = vg_sbuf_take(&p, NULL);
    s->rbuf = vg_malloc(SPOOL_READ_CHUNK);
    s->wfd = s->rfd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (!s->dir || !s->rbuf) {
        vg_agent_spool_close(s);
        return NULL;
    }
    return s;
}

/* Recover id, cursor, segments; establish next_seq / read_seq. */
static int spool_recover(struct vg_agent_spool *s, char *err, size_t errsz)
{
    int rc = spool_list_segments(s, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    bool have_id = spool_read_id(s) == VG_OK;
    bool have_cursor = spool_read_cursor(s) == VG_OK;
    if (!have_id || (!have_cursor && s->nseg == 0)) {
        /* Unknown past: a new spool id makes the server start a new high-water mark. */
        s->acked = 0;
        if (spool_new_id(s) != VG_OK) {
            spool_err(err, errsz, "cannot write id in", s->dir);
            return VG_EIO;
        }
    }
    if (s->nseg > 0 && spool_recover_tail(s, &s->segs[s->nseg - 1]) != VG_OK) {
        spool_err(err, errsz, "cannot recover", s->dir);
        return VG_EIO;
    }
    for (size_t i = 0; i + 1 < s->nseg; i++) {
        s->segs[i].count = s->segs[i + 1].first_seq - s->segs[i].first_seq;
    }
    for (size_t i = 0; i < s->nseg; i++) {
        s->total_bytes += s->segs[i].bytes;
    }
    struct spool_seg *last = s->nseg ? &s->segs[s->nseg - 1] : NULL;
    s->next_seq = VG_MAX(last ? last->first_seq + last->count : 1, s->acked + 1);
    s->acked = VG_MIN(s->acked, s->next_seq - 1);
    return VG_OK;
}

int vg_agent_spool_open(const char *state_dir, const struct vg_agent_spool_opts *opts,
                        struct vg_agent_spool **out, char *err, size_t errsz)
{
    struct vg_agent_spool_opts o;
    if (!state_dir || !out || spool_opts_fill(&o, opts) != VG_OK) {
        if (err && errsz) {
            snprintf(err, errsz, "spool: invalid options");
        }
        return VG_EINVAL;
    }
    struct vg_agent_spool *s = spool_alloc(state_dir);
    if (!s) {
        return VG_ENOMEM;
    }
    s->o = o;
    int rc = VG_EIO;
    if (mkdir_p(state_dir) != VG_OK || mkdir_p(s->dir) != VG_OK) {
        spool_err(err, errsz, "cannot create", s->dir);
        goto fail;
    }
    if ((rc = spool_recover(s, err, errsz)) != VG_OK) {
        goto fail;
    }
    struct spool_seg *last = s->nseg ? &s->segs[s->nseg - 1] : NULL;
    /* Append to the last segment only if its records run up to next_seq. */
    rc = last && last->first_seq + last->count == s->next_seq ? spool_open_write_fd(s)
                                                              : spool_roll(s);
    if (rc != VG_OK) {
        spool_err(err, errsz, "cannot open a segment in", s->dir);
        goto fail;
    }
    spool_gc(s);
    s->read_seq = s->acked + 1;
    s->last_sync_ns = vg_clock_ns();
    *out = s;
    return VG_OK;
fail:
    vg_agent_spool_close(s);
    return rc;
}

void vg_agent_spool_close(struct vg_agent_spool *s)
{
    if (!s) {
        return;
    }
    if (s->wfd >= 0) {
        if (s->o.fsync != VG_AGENT_SPOOL_FSYNC_NONE) {
            fsync(s->wfd);
        }
        close(s->wfd);
    }
    if (s->rfd >= 0) {
        close(s->rfd);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    vg_free(s->segs);
    vg_free(s->rbuf);
    vg_free(s->dir);
    vg_free(s);
}

/* ------------------------------------------------------------------ append */

static void spool_maybe_sync(struct vg_agent_spool *s)
{
    bool due = s->o.fsync == VG_AGENT_SPOOL_FSYNC_ALWAYS;
    if (s->o.fsync == VG_AGENT_SPOOL_FSYNC_BATCH && s->unsynced > 0) {
        due = s->unsynced >= s->o.fsync_bytes ||
              vg_clock_ns() - s->last_sync_ns >= (uint64_t)s->o.fsync_interval_ms * 1000000u;
    }
    if (!due) {
        return;
    }
    if (fsync(s->wfd) == 0) {
        s->st.fsyncs++;
    } else {
        s->st.write_errors++;
    }
    s->unsynced = 0;
    s->last_sync_ns = vg_clock_ns();
}

/* Write one record under the lock. VG_OK, VG_ELIMIT (full), VG_EIO. */
static int spool_write_locked(struct vg_agent_spool *s, const char *json, size_t len)
{
    uint64_t need = SPOOL_REC_HDR + len;
    if (s->total_bytes + need > s->o.max_bytes) {
        return VG_ELIMIT;
    }
    struct spool_seg *g = &s->segs[s->nseg - 1];
    if (g->bytes > 0 && g->bytes + need > s->o.segment_bytes) {
        if (spool_roll(s) != VG_OK) {
            return VG_EIO;
        }
        g = &s->segs[s->nseg - 1];
    }
    uint8_t h[SPOOL_REC_HDR];
    put_le32(h, (uint32_t)len);
    put_le32(h + 4, rec_crc(s->next_seq, json, len));
    put_le64(h + 8, s->next_seq);
    struct iovec iov[2] = {{h, sizeof(h)}, {(void *)json, len}};
    ssize_t w = writev(s->wfd, iov, 2);
    if (w != (ssize_t)need) {
        /* Cut a partial record so the segment stays parseable. */
        if (w > 0 && ftruncate(s->wfd, (off_t)g->bytes) != 0) {
            VG_ERR("agent", "spool: cannot cut a partial record: %s", strerror(errno));
        }
        return VG_EIO;
    }
    g->bytes += need;
    g->count++;
    s->total_bytes += need;
    s->unsynced += need;
    s->next_seq++;
    s->st.appended++;
    return VG_OK;
}

/* After drops, tell the stream how many were lost, once space is back. */
static void spool_report_drops_locked(struct vg_agent_spool *s)
{
    char ts[40], buf[320];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    int n = snprintf(buf, sizeof(buf),
                     "{\"@timestamp\":\"%s\",\"event.kind\":\"metric\",\"event.module\":"
                     "\"vigie-agent\",\"event.dataset\":\"agent.spool\",\"event.action\":"
                     "\"spool-full-dropped\",\"vigie.agent.spool.dropped\":%" PRIu64 "}",
                     ts, s->drop_unreported);
    if (n > 0 && (size_t)n < sizeof(buf) && spool_write_locked(s, buf, (size_t)n) == VG_OK) {
        s->drop_unreported = 0;
    }
}

int vg_agent_spool_append(struct vg_agent_spool *s, const char *json, size_t len)
{
    bool bad =
        len == 0 || len > s->o.max_record || memchr(json, '\n', len) || memchr(json, '\0', len);
    pthread_mutex_lock(&s->mu);
    int rc = VG_EINVAL;
    if (bad) {
        s->st.rejected++;
        goto out;
    }
    if (s->drop_unreported > 0) {
        spool_report_drops_locked(s);
    }
    rc = spool_write_locked(s, json, len);
    if (rc == VG_ELIMIT) {
        s->st.dropped++;
        s->drop_unreported++;
    } else if (rc != VG_OK) {
        s->st.write_errors++;
    } else {
        spool_maybe_sync(s);
        pthread_cond_broadcast(&s->cond);
    }
out:
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vg_agent_spool_emit(void *ctx, const char *json, size_t len)
{
    return vg_agent_spool_append(ctx, json, len);
}

int vg_agent_spool_sync(struct vg_agent_spool *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = fsync(s->wfd) == 0 ? VG_OK : VG_EIO;
    if (rc == VG_OK) {
        s->st.fsyncs++;
        s->unsynced = 0;
        s->last_sync_ns = vg_clock_ns();
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ------------------------------------------------------------------ read side */

void vg_agent_spool_batch_fini(struct vg_agent_spool_batch *b)
{
    if (b) {
        vg_sbuf_fini(&b->body);
        b->count = 0;
    }
}

/* Under the lock: the segment holding seq (or the first one after it). */
static bool spool_find_seg_locked(struct vg_agent_spool *s, uint64_t seq, struct spool_seg *out)
{
    for (size_t i = 0; i < s->nseg; i++) {
        if (seq < s->segs[i].first_seq + s->segs[i].count || i + 1 == s->nseg) {
            *out = s->segs[i];
            return true;
        }
    }
    return false;
}

/* Bytes [off, off+n) of the reader's segment, bounded by limit; NULL on short/err. */
static const uint8_t *spool_rget(struct vg_agent_spool *s, uint64_t off, size_t n, uint64_t limit)
{
    if (off + n > limit) {
        return NULL;
    }
    if (off >= s->rbase && off + n <= s->rbase + s->rlen) {
        return s->rbuf + (off - s->rbase);
    }
    size_t want = (size_t)VG_MIN((uint64_t)SPOOL_READ_CHUNK, limit - off);
    if (n > want) {
        return NULL; /* max_record is bounded below the chunk size */
    }
    ssize_t r = pread(s->rfd, s->rbuf, want, (off_t)off);
    if (r < (ssize_t)n) {
        s->rlen = 0;
        return NULL;
    }
    s->rbase = off;
    s->rlen = (size_t)r;
    return s->rbuf;
}

static int spool_ropen(struct vg_agent_spool *s, uint64_t first)
{
    if (s->rfd >= 0 && s->rseg_first == first) {
        return VG_OK;
    }
    if (s->rfd >= 0) {
        close(s->rfd);
    }
    char path[4096];
    seg_path(s, first, path, sizeof(path));
    s->rfd = open(path, O_RDONLY | O_CLOEXEC);
    s->rseg_first = first;
    s->rlen = 0;
    s->roff = 0;
    s->rpositioned = false;
    return s->rfd < 0 ? VG_EIO : VG_OK;
}

/*
 * Read the record at s->roff in segment g. VG_OK with its json; VG_EOF at the end of the
 * valid bytes; VG_EINVAL when corrupt.
 */
static int spool_read_rec(struct vg_agent_spool *s, const struct spool_seg *g, uint64_t *seq,
                          const uint8_t **json, uint32_t *len)
{
    if (s->roff >= g->bytes) {
        return VG_EOF;
    }
    const uint8_t *h = spool_rget(s, s->roff, SPOOL_REC_HDR, g->bytes);
    if (!h) {
        return VG_EINVAL;
    }
    *len = vg_le32(h);
    *seq = vg_le64(h + 8);
    uint32_t crc = vg_le32(h + 4);
    if (*len == 0 || *len > s->o.max_record || *len > SPOOL_READ_CHUNK - SPOOL_REC_HDR) {
        return VG_EINVAL;
    }
    const uint8_t *p = spool_rget(s, s->roff, SPOOL_REC_HDR + *len, g->bytes);
    if (!p || crc != rec_crc(*seq, p + SPOOL_REC_HDR, *len)) {
        return VG_EINVAL;
    }
    *json = p + SPOOL_REC_HDR;
    return VG_OK;
}

/*
 * A corrupt record: the rest of segment g is lost (counted) and reading continues after it.
 * If g is the write segment, the writer moves to a new segment first, since nothing appended
 * after the bad bytes could be found again.
 */
static void spool_skip_corrupt(struct vg_agent_spool *s, const struct spool_seg *g)
{
    pthread_mutex_lock(&s->mu);
    if (g->first_seq == s->segs[s->nseg - 1].first_seq && spool_roll(s) != VG_OK) {
        s->st.write_errors++;
    }
    uint64_t end = s->next_seq;
    for (size_t i = 0; i < s->nseg; i++) {
        if (s->segs[i].first_seq == g->first_seq) {
            end = s->segs[i].first_seq + s->segs[i].count;
        }
    }
    end = VG_MAX(end, s->read_seq + 1);
    VG_ERR("agent", "spool: corrupt record in segment %" PRIu64 "; %" PRIu64 " events lost",
           g->first_seq, end - s->read_seq);
    s->st.corrupt += end - s->read_seq;
    s->read_seq = end;
    s->rpositioned = false;
    pthread_mutex_unlock(&s->mu);
}

/* Snapshot the segment for read_seq under the lock. false: nothing to read. */
static bool spool_rseg(struct vg_agent_spool *s, struct spool_seg *g)
{
    pthread_mutex_lock(&s->mu);
    bool ok = s->read_seq < s->next_seq && spool_find_seg_locked(s, s->read_seq, g);
    if (ok && s->read_seq < g->first_seq) {
        s->read_seq = g->first_seq; /* records before it were acknowledged or lost */
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void batch_add(struct vg_agent_spool_batch *b, uint64_t seq, const uint8_t *j, size_t n)
{
    if (b->count == 0) {
        b->first_seq = seq;
    }
    b->last_seq = seq;
    b->count++;
    vg_sbuf_add(&b->body, j, n);
    vg_sbuf_addc(&b->body, '\n');
}

/* Read from one segment into b. VG_OK (keep going in the next segment), VG_ELIMIT (batch
   full), VG_EINVAL (corruption: stop the batch so it stays contiguous), VG_EIO. */
static int spool_read_seg(struct vg_agent_spool *s, const struct spool_seg *g, uint32_t max_ev,
                          size_t max_bytes, struct vg_agent_spool_batch *b)
{
    if (spool_ropen(s, g->first_seq) != VG_OK) {
        return VG_EIO;
    }
    if (!s->rpositioned || s->roff > g->bytes) {
        s->roff = 0;
        s->rpositioned = true;
    }
    while (b->count < max_ev && b->body.len < max_bytes) {
        uint64_t seq;
        const uint8_t *json;
        uint32_t len;
        int rc = spool_read_rec(s, g, &seq, &json, &len);
        if (rc == VG_EOF) {
            return VG_OK;
        }
        if (rc != VG_OK || seq > s->read_seq) {
            return VG_EINVAL;
        }
        s->roff += SPOOL_REC_HDR + len;
        if (seq == s->read_seq) {
            batch_add(b, seq, json, len);
            s->read_seq++;
        }
    }
    return VG_ELIMIT;
}

int vg_agent_spool_read_batch(struct vg_agent_spool *s, uint32_t max_events, size_t max_bytes,
                              struct vg_agent_spool_batch *b)
{
    b->count = 0;
    b->first_seq = b->last_seq = 0;
    vg_sbuf_reset(&b->body);
    max_events = max_events ? max_events : 1;
    struct spool_seg g;
    while (spool_rseg(s, &g)) {
        int rc = spool_read_seg(s, &g, max_events, max_bytes, b);
        if (rc == VG_EIO) {
            return b->count ? VG_OK : VG_EIO;
        }
        if (rc == VG_EINVAL) {
            if (b->count > 0) {
                break; /* return the contiguous part; the next call skips */
            }
            spool_skip_corrupt(s, &g);
            continue;
        }
        if (rc == VG_ELIMIT || s->read_seq < g.first_seq + g.count) {
            break; /* full, or at the write end of the segment */
        }
    }
    if (b->body.err) {
        return VG_ENOMEM;
    }
    return b->count ? VG_OK : VG_AGAIN;
}

int vg_agent_spool_wait(struct vg_agent_spool *s, uint32_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * 1000000u;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&s->mu);
    int rc = VG_OK;
    while (s->read_seq >= s->next_seq && rc == VG_OK) {
        rc = pthread_cond_timedwait(&s->cond, &s->mu, &ts) == 0 ? VG_OK : VG_ETIMEOUT;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int vg_agent_spool_ack(struct vg_agent_spool *s, uint64_t last_seq)
{
    pthread_mutex_lock(&s->mu);
    int rc = VG_OK;
    if (last_seq >= s->next_seq) {
        rc = VG_EINVAL;
    } else if (last_seq > s->acked) {
        s->acked = last_seq;
        rc = spool_write_cursor(s);
        spool_gc(s);
        if (s->read_seq <= s->acked) {
            s->read_seq = s->acked + 1;
            s->rpositioned = false;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void vg_agent_spool_rewind(struct vg_agent_spool *s)
{
    pthread_mutex_lock(&s->mu);
    s->read_seq = s->acked + 1;
    s->rpositioned = false;
    pthread_mutex_unlock(&s->mu);
}

void vg_agent_spool_stats(struct vg_agent_spool *s, struct vg_agent_spool_stats *st)
{
    pthread_mutex_lock(&s->mu);
    *st = s->st;
    st->next_seq = s->next_seq;
    st->acked_seq = s->acked;
    st->read_seq = s->read_seq;
    st->pending = s->next_seq - 1 - s->acked;
    st->bytes = s->total_bytes;
    st->segments = (uint32_t)s->nseg;
    pthread_mutex_unlock(&s->mu);
}

const char *vg_agent_spool_id(const struct vg_agent_spool *s)
{
    return s->id;
}
