/*
 * ingest_journal.c — the ingest journal: an append-only, checksummed, segmented log of raw
 * records on disk; the durability point between the inputs and the pipeline.
 *
 * Layout: DIR/<first-seq, 20 digits>.vjl segments. A segment starts with "VGJRNL01" and its
 * first sequence number (u64 LE), then records:
 *     u32 total   record size, header included
 *     u32 crc     CRC-32 of everything after this field
 *     u64 seq     consecutive across segments
 *     u64 ts      receive time (ns)
 *     u32 input
 *     u32 meta_len
 *     meta, data
 * Appends are written under a mutex (page cache); vg_journal_sync() makes them durable with
 * one fdatasync shared by every waiting caller (group commit). Opening cuts a torn tail off
 * the last segment. Readers follow the writer, waiting on a condition variable. Released
 * segments (fully stored downstream) are deleted; unreleased bytes bound the journal and
 * make appends wait — the back-pressure that reaches TCP senders.
 */
#include "ingest/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEG_MAGIC    "VGJRNL01"
#define SEG_HDR      16
#define REC_HDR      32
#define REC_MAX      (64u << 20)
#define PATH_MAX_LEN 4096

struct segment {
    uint64_t first_seq;
    uint64_t last_seq; /* first_seq - 1 when empty */
    uint64_t size;     /* bytes, header included */
};

struct batch_mark { /* for the unreleased-bytes account */
    uint64_t last_seq;
    uint64_t cum_bytes;
};

struct vg_journal {
    char *dir;
    struct vg_journal_opts o;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* new records, released space, shutdown */
    pthread_mutex_t sync_lock;
    struct segment *segs;
    size_t nsegs, capsegs;
    int fd; /* active (last) segment */
    int dirfd;
    uint64_t next_seq;
    uint64_t durable_seq;
    uint64_t released_seq;
    uint64_t cum_bytes;      /* bytes appended since open */
    uint64_t released_bytes; /* cum_bytes at released_seq */
    struct batch_mark *marks;
    size_t nmarks, capmarks, headmark;
    struct vg_journal_stats st;
    struct vg_sbuf wbuf; /* encoding buffer (under lock) */
    bool closing;
};

struct vg_journal_reader {
    struct vg_journal *j;
    uint64_t want;      /* next sequence to return */
    uint64_t seg_first; /* segment being read (first_seq), 0 = none */
    int fd;
    uint64_t off;
    uint8_t *buf;
    size_t cap;
};

/* ---------------------------------------------------------------- metadata */

const char *vg_rec_meta(const struct vg_rec *r, const char *key, size_t *len)
{
    size_t kl = strlen(key);
    const char *p = r->meta, *end = r->meta + r->meta_len;
    while (p && p < end) {
        const char *sep = memchr(p, '\x1f', (size_t)(end - p));
        const char *e = sep ? sep : end;
        if ((size_t)(e - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            *len = (size_t)(e - p) - kl - 1;
            return p + kl + 1;
        }
        p = sep ? sep + 1 : end;
    }
    return NULL;
}

/* ---------------------------------------------------------------- segments */

static void seg_path(const struct vg_journal *j, uint64_t first, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%020llu.vjl", j->dir, (unsigned long long)first);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == ENOSPC || errno == EDQUOT ? VG_ENOSPC : VG_EIO;
        }
        c += w;
        n -= (size_t)w;
    }
    return VG_OK;
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
    char *c = p;
    while (n) {
        ssize_t r = pread(fd, c, n, (off_t)off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return r == 0 ? VG_ETRUNC : VG_EIO;
        }
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return VG_OK;
}

/* Create a new active segment starting at first (called with the lock held). */
static int seg_create(struct vg_journal *j, uint64_t first)
{
    char path[PATH_MAX_LEN];
    seg_path(j, first, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return errno == ENOSPC ? VG_ENOSPC : VG_EIO;
    }
    uint8_t hdr[SEG_HDR];
    memcpy(hdr, SEG_MAGIC, 8);
    for (int i = 0; i < 8; i++) {
        hdr[8 + i] = (uint8_t)(first >> (8 * i));
    }
    int rc = write_all(fd, hdr, SEG_HDR);
    if (rc != VG_OK) {
        close(fd);
        unlink(path);
        return rc;
    }
    fsync(j->dirfd); /* the new file's directory entry must survive a crash too */
    if (vg_grow(&j->segs, &j->capsegs, j->nsegs + 1, sizeof(*j->segs)) != VG_OK) {
        close(fd);
        return VG_ENOMEM;
    }
    if (j->fd >= 0) {
        fdatasync(j->fd); /* the finished segment is complete on disk before we move on */
        close(j->fd);
    }
    j->fd = fd;
    j->segs[j->nsegs].first_seq = first;
    j->segs[j->nsegs].last_seq = first - 1;
    j->segs[j->nsegs].size = SEG_HDR;
    j->nsegs++;
    return VG_OK;
}

/* Validate one record header+payload in buf; returns its total size or 0. */
static uint32_t rec_check(const uint8_t *p, size_t avail, uint64_t want_seq)
{
    if (avail < REC_HDR) {
        return 0;
    }
    uint32_t total = vg_le32(p), crc = vg_le32(p + 4);
    uint32_t meta_len = vg_le32(p + 28);
    if (total < REC_HDR || total > REC_MAX || total > avail || meta_len > total - REC_HDR ||
        vg_le64(p + 8) != want_seq) {
        return 0;
    }
    return vg_crc32(0, p + 8, total - 8) == crc ? total : 0;
}

/* Scan the last segment: find its last complete record, cut a torn tail. */
static int seg_recover_last(struct vg_journal *j, struct segment *s)
{
    char path[PATH_MAX_LEN];
    seg_path(j, s->first_seq, path, sizeof(path));
    char *data;
    size_t len;
    int rc = vg_file_read(path, SIZE_MAX / 2, &data, &len);
    if (rc != VG_OK) {
        return rc;
    }
    size_t off = SEG_HDR;
    uint64_t seq = s->first_seq;
    if (len < SEG_HDR || memcmp(data, SEG_MAGIC, 8) != 0) {
        off = 0; /* unusable header: the whole file is rewritten below */
    } else {
        uint32_t t;
        while ((t = rec_check((const uint8_t *)data + off, len - off, seq)) != 0) {
            off += t;
            seq++;
        }
    }
    vg_free(data);
    if (off < len) {
        j->st.recovered_tail += len - off;
        if (truncate(path, (off_t)(off ? off : 0)) != 0) {
            return VG_EIO;
        }
    }
    s->last_seq = seq - 1;
    s->size = off;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        return VG_EIO;
    }
    if (off == 0) { /* rewrite a destroyed header */
        uint8_t hdr[SEG_HDR];
        memcpy(hdr, SEG_MAGIC, 8);
        for (int i = 0; i < 8; i++) {
            hdr[8 + i] = (uint8_t)(s->first_seq >> (8 * i));
        }
        if (write_all(fd, hdr, SEG_HDR) != VG_OK) {
            close(fd);
            return VG_EIO;
        }
        s->size = SEG_HDR;
    }
    j->fd = fd;
    return VG_OK;
}

static int seg_cmp(const void *a, const void *b)
{
    const struct segment *x = a, *y = b;
    return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

static int load_segments(struct vg_journal *j)
{
    DIR *d = opendir(j->dir);
    if (!d) {
        return VG_EIO;
    }
    struct dirent *e;
    int rc = VG_OK;
    while ((e = readdir(d)) && rc == VG_OK) {
        size_t l = strlen(e->d_name);
        int64_t first;
        if (l != 24 || strcmp(e->d_name + 20, ".vjl") != 0 ||
            vg_parse_i64(e->d_name, 20, &first) != VG_OK || first < 1) {
            continue;
        }
        if (vg_grow(&j->segs, &j->capsegs, j->nsegs + 1, sizeof(*j->segs)) != VG_OK) {
            rc = VG_ENOMEM;
            break;
        }
        j->segs[j->nsegs].first_seq = (uint64_t)first;
        j->segs[j->nsegs].size = 0;
        j->nsegs++;
    }
    closedir(d);
    if (rc != VG_OK || !j->nsegs) {
        return rc;
    }
    qsort(j->segs, j->nsegs, sizeof(*j->segs), seg_cmp);
    for (size_t i = 0; i + 1 < j->nsegs; i++) {
        j->segs[i].last_seq = j->segs[i + 1].first_seq - 1;
        char path[PATH_MAX_LEN];
        struct stat st;
        seg_path(j, j->segs[i].first_seq, path, sizeof(path));
        j->segs[i].size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
    }
    return seg_recover_last(j, &j->segs[j->nsegs - 1]);
}

int vg_journal_open(const char *dir, const struct vg_journal_opts *o, struct vg_journal **out,
                    char *err, size_t errsz)
{
    struct vg_journal *j = vg_calloc(1, sizeof(*j));
    if (!j) {
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    j->fd = j->dirfd = -1;
    j->o.segment_bytes = o && o->segment_bytes ? o->segment_bytes : (64u << 20);
    j->o.max_lag_bytes = o && o->max_lag_bytes ? o->max_lag_bytes : (1ull << 30);
    j->o.sync = o ? o->sync : true;
    pthread_mutex_init(&j->lock, NULL);
    pthread_mutex_init(&j->sync_lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    int rc = VG_ENOMEM;
    if (!(j->dir = vg_strdup(dir))) {
        goto fail;
    }
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "%s: cannot create: %s", dir, strerror(errno));
        rc = VG_EIO;
        goto fail;
    }
    j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j->dirfd < 0) {
        snprintf(err, errsz, "%s: %s", dir, strerror(errno));
        rc = VG_EIO;
        goto fail;
    }
    if ((rc = load_segments(j)) != VG_OK) {
        snprintf(err, errsz, "%s: cannot read the journal: %s", dir, vg_strerror(rc));
        goto fail;
    }
    if (!j->nsegs && (rc = seg_create(j, 1)) != VG_OK) {
        snprintf(err, errsz, "%s: cannot create a journal segment: %s", dir, vg_strerror(rc));
        goto fail;
    }
    j->next_seq = j->segs[j->nsegs - 1].last_seq + 1;
    j->durable_seq = j->next_seq - 1; /* what is in the files after a restart is on disk */
    j->released_seq = j->segs[0].first_seq - 1;
    *out = j;
    return VG_OK;
fail:
    vg_journal_close(j);
    return rc;
}

void vg_journal_close(struct vg_journal *j)
{
    if (!j) {
        return;
    }
    pthread_mutex_lock(&j->lock);
    j->closing = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
    if (j->fd >= 0) {
        if (j->o.sync) {
            fdatasync(j->fd);
        }
        close(j->fd);
    }
    if (j->dirfd >= 0) {
        close(j->dirfd);
    }
    vg_sbuf_fini(&j->wbuf);
    vg_free(j->marks);
    vg_free(j->segs);
    vg_free(j->dir);
    pthread_mutex_destroy(&j->lock);
    pthread_mutex_destroy(&j->sync_lock);
    pthread_cond_destroy(&j->cond);
    vg_free(j);
}

/* ---------------------------------------------------------------- append */

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* Encode records into j->wbuf starting at seq. */
static int encode(struct vg_journal *j, const struct vg_rec *recs, size_t n, uint64_t seq)
{
    struct vg_sbuf *b = &j->wbuf;
    vg_sbuf_reset(b);
    for (size_t i = 0; i < n; i++) {
        const struct vg_rec *r = &recs[i];
        uint64_t total = REC_HDR + (uint64_t)r->meta_len + r->len;
        if (total > REC_MAX) {
            return VG_ELIMIT;
        }
        if (vg_sbuf_reserve(b, (size_t)total) != VG_OK) {
            return VG_ENOMEM;
        }
        uint8_t *p = (uint8_t *)b->p + b->len;
        put32(p, (uint32_t)total);
        put64(p + 8, seq + i);
        put64(p + 16, (uint64_t)r->recv_ts);
        put32(p + 24, r->input);
        put32(p + 28, r->meta_len);
        if (r->meta_len) {
            memcpy(p + REC_HDR, r->meta, r->meta_len);
        }
        if (r->len) {
            memcpy(p + REC_HDR + r->meta_len, r->data, r->len);
        }
        put32(p + 4, vg_crc32(0, p + 8, (size_t)total - 8));
        b->len += (size_t)total;
    }
    return VG_OK;
}

static uint64_t unreleased(const struct vg_journal *j)
{
    return j->cum_bytes - j->released_bytes;
}

int vg_journal_append(struct vg_journal *j, const struct vg_rec *recs, size_t n, int wait,
                      uint64_t *last_seq)
{
    if (!n) {
        *last_seq = j->next_seq - 1;
        return VG_OK;
    }
    pthread_mutex_lock(&j->lock);
    while (wait != VG_JOURNAL_FORCE && unreleased(j) > j->o.max_lag_bytes && !j->closing) {
        if (wait == VG_JOURNAL_NOWAIT) {
            pthread_mutex_unlock(&j->lock);
            return VG_AGAIN;
        }
        j->st.waits++;
        pthread_cond_wait(&j->cond, &j->lock);
    }
    int rc = encode(j, recs, n, j->next_seq);
    struct segment *s = &j->segs[j->nsegs - 1];
    if (rc == VG_OK && s->size > SEG_HDR && s->size + j->wbuf.len > j->o.segment_bytes) {
        rc = seg_create(j, j->next_seq);
        s = &j->segs[j->nsegs - 1];
    }
    if (rc == VG_OK) {
        rc = write_all(j->fd, j->wbuf.p, j->wbuf.len);
        if (rc != VG_OK) {
            /* never leave half a batch: cut the file back to its last complete record */
            if (ftruncate(j->fd, (off_t)s->size) == 0) {
                lseek(j->fd, 0, SEEK_END);
            }
            j->st.full += rc == VG_ENOSPC;
        }
    }
    if (rc == VG_OK) {
        s->size += j->wbuf.len;
        s->last_seq = j->next_seq + n - 1;
        j->next_seq += n;
        j->cum_bytes += j->wbuf.len;
        j->st.appended += n;
        j->st.bytes += j->wbuf.len;
        if (vg_grow(&j->marks, &j->capmarks, j->nmarks + 1, sizeof(*j->marks)) == VG_OK) {
            j->marks[j->nmarks].last_seq = j->next_seq - 1;
            j->marks[j->nmarks].cum_bytes = j->cum_bytes;
            j->nmarks++;
        }
        *last_seq = j->next_seq - 1;
        pthread_cond_broadcast(&j->cond);
    }
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int vg_journal_sync(struct vg_journal *j, uint64_t seq)
{
    if (__atomic_load_n(&j->durable_seq, __ATOMIC_ACQUIRE) >= seq) {
        return VG_OK;
    }
    pthread_mutex_lock(&j->sync_lock);
    int rc = VG_OK;
    if (__atomic_load_n(&j->durable_seq, __ATOMIC_ACQUIRE) < seq) {
        pthread_mutex_lock(&j->lock);
        uint64_t target = j->next_seq - 1;
        int fd = dup(j->fd); /* the segment may rotate while we sync: keep this one open */
        pthread_mutex_unlock(&j->lock);
        if (fd < 0 || (j->o.sync && fdatasync(fd) != 0)) {
            rc = VG_EIO;
        } else {
            j->st.syncs++;
            __atomic_store_n(&j->durable_seq, target, __ATOMIC_RELEASE);
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    pthread_mutex_unlock(&j->sync_lock);
    return rc;
}

uint64_t vg_journal_next_seq(const struct vg_journal *j)
{
    struct vg_journal *m = (struct vg_journal *)j;
    pthread_mutex_lock(&m->lock);
    uint64_t s = m->next_seq;
    pthread_mutex_unlock(&m->lock);
    return s;
}

uint64_t vg_journal_durable_seq(const struct vg_journal *j)
{
    return __atomic_load_n(&j->durable_seq, __ATOMIC_ACQUIRE);
}

void vg_journal_release(struct vg_journal *j, uint64_t seq)
{
    pthread_mutex_lock(&j->lock);
    if (seq > j->released_seq) {
        j->released_seq = seq;
        /* unreleased-bytes account */
        while (j->headmark < j->nmarks && j->marks[j->headmark].last_seq <= seq) {
            j->released_bytes = j->marks[j->headmark].cum_bytes;
            j->headmark++;
        }
        if (j->headmark > 4096 && j->headmark * 2 > j->nmarks) {
            memmove(j->marks, j->marks + j->headmark,
                    (j->nmarks - j->headmark) * sizeof(*j->marks));
            j->nmarks -= j->headmark;
            j->headmark = 0;
        }
        /* delete whole segments below the released point (never the active one) */
        size_t drop = 0;
        while (drop + 1 < j->nsegs && j->segs[drop].last_seq <= seq) {
            char path[PATH_MAX_LEN];
            seg_path(j, j->segs[drop].first_seq, path, sizeof(path));
            unlink(path);
            drop++;
        }
        if (drop) {
            memmove(j->segs, j->segs + drop, (j->nsegs - drop) * sizeof(*j->segs));
            j->nsegs -= drop;
        }
        pthread_cond_broadcast(&j->cond);
    }
    pthread_mutex_unlock(&j->lock);
}

void vg_journal_stats(const struct vg_journal *j, struct vg_journal_stats *out)
{
    struct vg_journal *m = (struct vg_journal *)j;
    pthread_mutex_lock(&m->lock);
    *out = m->st;
    pthread_mutex_unlock(&m->lock);
}

void vg_journal_wake(struct vg_journal *j)
{
    pthread_mutex_lock(&j->lock);
    j->closing = true;
    pthread_cond_broadcast(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

/* ---------------------------------------------------------------- readers */

struct vg_journal_reader *vg_journal_reader_open(struct vg_journal *j, uint64_t from_seq)
{
    struct vg_journal_reader *r = vg_calloc(1, sizeof(*r));
    if (r) {
        r->j = j;
        r->want = from_seq + 1;
        r->fd = -1;
    }
    return r;
}

void vg_journal_reader_close(struct vg_journal_reader *r)
{
    if (!r) {
        return;
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    vg_free(r->buf);
    vg_free(r);
}

/* Position the reader on the segment holding r->want (lock held by the caller). */
static int reader_seek(struct vg_journal_reader *r)
{
    struct vg_journal *j = r->j;
    size_t k = 0;
    while (k + 1 < j->nsegs && j->segs[k].last_seq < r->want) {
        k++;
    }
    if (r->want < j->segs[0].first_seq) {
        r->want = j->segs[0].first_seq; /* released and deleted: continue from what exists */
        k = 0;
    }
    if (r->fd >= 0 && r->seg_first == j->segs[k].first_seq) {
        return VG_OK;
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    char path[PATH_MAX_LEN];
    seg_path(j, j->segs[k].first_seq, path, sizeof(path));
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    r->seg_first = j->segs[k].first_seq;
    r->off = SEG_HDR;
    /* skip records before want by walking their headers */
    uint64_t seq = r->seg_first;
    while (r->fd >= 0 && seq < r->want) {
        uint8_t h[8];
        if (pread_all(r->fd, h, 8, r->off) != VG_OK) {
            break;
        }
        uint32_t total = vg_le32(h);
        if (total < REC_HDR || total > REC_MAX) {
            break;
        }
        r->off += total;
        seq++;
    }
    return r->fd >= 0 ? VG_OK : VG_EIO;
}

static int wait_for(struct vg_journal_reader *r, int timeout_ms)
{
    struct vg_journal *j = r->j;
    if (r->want < j->next_seq) {
        return VG_OK;
    }
    if (timeout_ms <= 0 || j->closing) {
        return VG_AGAIN;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    while (r->want >= j->next_seq && !j->closing) {
        if (pthread_cond_timedwait(&j->cond, &j->lock, &ts) != 0) {
            break;
        }
    }
    return r->want < j->next_seq ? VG_OK : VG_AGAIN;
}

int vg_journal_next(struct vg_journal_reader *r, struct vg_rec *out, uint64_t *seq, int timeout_ms)
{
    struct vg_journal *j = r->j;
    pthread_mutex_lock(&j->lock);
    int rc = wait_for(r, timeout_ms);
    if (rc == VG_OK) {
        rc = reader_seek(r);
    }
    pthread_mutex_unlock(&j->lock);
    if (rc != VG_OK) {
        return rc;
    }
    uint8_t h[REC_HDR];
    if ((rc = pread_all(r->fd, h, REC_HDR, r->off)) != VG_OK) {
        return rc == VG_ETRUNC ? VG_AGAIN : rc;
    }
    uint32_t total = vg_le32(h);
    if (total < REC_HDR || total > REC_MAX) {
        goto corrupt;
    }
    if (r->cap < total) {
        uint8_t *nb = vg_realloc(r->buf, total);
        if (!nb) {
            return VG_ENOMEM;
        }
        r->buf = nb;
        r->cap = total;
    }
    if (pread_all(r->fd, r->buf, total, r->off) != VG_OK || !rec_check(r->buf, total, r->want)) {
        goto corrupt;
    }
    out->recv_ts = (vg_time_t)vg_le64(r->buf + 16);
    out->input = vg_le32(r->buf + 24);
    out->meta_len = vg_le32(r->buf + 28);
    out->meta = (const char *)r->buf + REC_HDR;
    out->data = out->meta + out->meta_len;
    out->len = total - REC_HDR - out->meta_len;
    *seq = r->want++;
    r->off += total;
    return VG_OK;
corrupt:
    /* a damaged record in a finished segment: skip to the next segment */
    pthread_mutex_lock(&j->lock);
    j->st.corrupt++;
    for (size_t k = 0; k < j->nsegs; k++) {
        if (j->segs[k].first_seq == r->seg_first) {
            r->want = j->segs[k].last_seq + 1;
        }
    }
    pthread_mutex_unlock(&j->lock);
    return VG_EINVAL;
}
