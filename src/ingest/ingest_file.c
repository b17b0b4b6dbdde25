/*
 * ingest_file.c — file tailing: the lines of log files matched by glob patterns, into the
 * journal (the `files.paths` input of vigie server; docs/ingest-files.md).
 *
 * One thread per tailer. It rescans the patterns every scan interval, and at once when
 * inotify reports a change in a watched directory; it keeps one entry per file identity —
 * (dev, inode) plus a fingerprint, the hash of the first up to 1 KiB — and reads every open
 * file from its offset. Complete lines become records, one journal append per chunk read,
 * with VG_JOURNAL_NOWAIT: over the journal's bound the file simply stays unread while the
 * thread backs off. A last line without LF waits until it has been still for the flush
 * timeout; a line longer than max_line is cut into max_line pieces.
 *
 * Rotation: a file that leaves its path (renamed, deleted) is detached and read on until it
 * has been idle for rotate_wait, then closed; the new file at the path is a new identity,
 * read from 0. A file whose size drops under the offset (copytruncate), or whose first bytes
 * change, is read again from 0. A closed identity whose inode comes back holding other bytes
 * (inode reuse) is a new file.
 *
 * Exactly once: every record carries "file=PATH ino=N off=END". Each offset advance is
 * queued with the journal seq of the file's last record and becomes checkpointable once that
 * seq is durable. The checkpoint (STATE/tail.ckpt: text, CRC-checked, replaced by rename)
 * lists every identity with its durable position, and the journal seq up to which it covers
 * this tailer's records. Every new file generation (new file, truncation, reuse) is
 * checkpointed before its first record is appended, so at start the records after the
 * checkpoint's seq all belong to listed identities: replaying them puts each file just after
 * its last journaled line.
 */
#include "ingest/ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define MS          1000000ull /* nanoseconds */
#define FP_MAX      1024       /* the fingerprint covers the first FP_MAX bytes at most */
#define FP_SEED     0x76677461696cull
#define READ_CHUNK  (256u << 10)
#define ROUND_BYTES (4u << 20) /* per file per round, so one busy file cannot starve the rest */
#define LINE_LIMIT  (16u << 20)
#define MAX_WATCHES 4096
#define BACKOFF_MAX 50         /* ms */
#define DEV_UNKNOWN UINT64_MAX /* identity known only from journal records */
#define CKPT_FILE   "tail.ckpt"
#define CKPT_TMP    "tail.ckpt.tmp"
#define LOCK_FILE   "tail.lock"
#define CKPT_MAGIC  "vigie-tail-checkpoint 1"
#define CKPT_MAX    (256u << 20)
#define WATCH_MASK                                                                                 \
    (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_ONLYDIR)
#define RESCAN_EVENTS                                                                              \
    (IN_Q_OVERFLOW | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | IN_IGNORED)

/* A file position, valid once the journal has made record `seq` durable. */
struct pos {
    uint64_t seq; /* the file's last record before off (0: none) */
    uint64_t off;
    uint64_t fp; /* fingerprint of the generation off belongs to */
    uint32_t fp_len;
};

/* One file identity: (dev, ino) and the fingerprint of its first bytes. */
struct tfile {
    char *path; /* where it was first found: the file= of its records */
    char *meta; /* "file=PATH\x1fino=N\x1foff=" */
    size_t meta_len;
    size_t mpath_len; /* PATH's length inside meta */
    uint32_t input;
    uint64_t dev, ino;
    uint64_t fp;
    uint32_t fp_len;
    int fd;            /* -1: closed (rotated and drained, failed, or not found yet) */
    uint64_t off;      /* every line before it is journaled (or was empty) */
    uint64_t partial;  /* bytes after off without LF, at the last read */
    uint64_t size;     /* size at the last look */
    uint64_t grew_ns;  /* when the size last changed */
    uint64_t last_seq; /* the file's last record */
    uint64_t gen;      /* generation number: checkpointed before its first record */
    bool in_long;      /* inside a line longer than max_line */
    bool detached;     /* left its path: read to the end, then closed */
    bool seen;         /* matched by the current scan */
    bool dormant;      /* from the checkpoint or the journal, not found yet */
    struct pos *pend;  /* positions waiting for durability (t->lock) */
    size_t head, npend, cappend;
    struct pos dur; /* the latest durable position (t->lock) */
};

struct errnote {
    char *path;
    int err;
    bool hit; /* happened again since the last scan began */
};

struct watch {
    int wd;
    char *dir;
};

struct vg_tail {
    struct vg_journal *j;
    struct vg_tail_input *ins;
    size_t nins;
    struct vg_tail_opts o;
    char *state_dir;
    int dirfd, lockfd, ifd, wakefd;
    pthread_t th;
    bool started;
    atomic_bool stop;
    pthread_mutex_t lock;      /* files table, pend queues, dur, path/dev, last_seq, gens */
    pthread_mutex_t ckpt_lock; /* one checkpoint writer at a time */
    pthread_mutex_t stlock;
    struct tfile **files;
    size_t nfiles, capfiles;
    uint64_t ckpt_seq;  /* journal seq covered by the checkpoint found at create */
    uint64_t last_seq;  /* last record appended by this tailer */
    uint64_t gen;       /* last generation number given out */
    uint64_t saved_gen; /* every generation <= this is in a stored checkpoint */
    bool fresh;         /* no checkpoint at create: VG_TAIL_START_END applies to scan 1 */
    bool first_scan_done;
    bool scan_now, scan_error;
    bool stalled; /* in a back-pressure episode (counted once, backoff doubling) */
    bool held;    /* this round hit back-pressure: read nothing more */
    uint64_t next_scan_ns, deadline_ns, resume_ns;
    int backoff_ms;
    vg_time_t now_ts;
    char *rbuf;
    size_t rcap;
    struct vg_rec *recs; /* batch being built */
    size_t nrecs, caprecs;
    size_t *metaoff; /* each record's meta offset in metas */
    size_t capmetaoff;
    struct vg_sbuf metas;
    bool batch_err;
    struct errnote *errs;
    size_t nerrs, caperrs;
    struct watch *watches;
    size_t nwatches, capwatches;
    struct vg_tail_stats st;
};

static void push_pos_locked(struct tfile *f);

/* ---------------------------------------------------------------- small helpers */

static void st_add(struct vg_tail *t, uint64_t *counter, int64_t n)
{
    pthread_mutex_lock(&t->stlock);
    *counter += (uint64_t)n;
    pthread_mutex_unlock(&t->stlock);
}

static uint64_t ms_ns(int ms)
{
    return (uint64_t)ms * MS;
}

/* A decimal (base 10) or lower-case hex (base 16) u64 of exactly n bytes. */
static bool parse_u64(const char *p, size_t n, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9'                 ? (unsigned)(c - '0')
                     : base == 16 && c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                                          : 99;
        if (d >= base || v > (UINT64_MAX - d) / base) {
            return false;
        }
        v = v * base + d;
    }
    *out = v;
    return true;
}

static void add_u64(struct vg_sbuf *s, uint64_t v)
{
    char b[24];
    size_t i = sizeof(b);
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    vg_sbuf_add(s, b + i, sizeof(b) - i);
}

/* Checkpoint paths: control bytes, DEL and '%' as %XX, so an entry stays on one line. */
static void add_escaped(struct vg_sbuf *s, const char *p)
{
    static const char hex[] = "0123456789abcdef";
    for (; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f || c == '%') {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            vg_sbuf_add(s, e, sizeof(e));
        } else {
            vg_sbuf_addc(s, (char)c);
        }
    }
}

/* Undo add_escaped; NULL on a malformed escape (or no memory). */
static char *unescape(const char *p, size_t n)
{
    char *out = vg_malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; out && i < n; i++) {
        uint64_t v = 0;
        if (p[i] != '%') {
            out[o++] = p[i];
        } else if (i + 2 < n && parse_u64(p + i + 1, 2, 16, &v) && v) {
            out[o++] = (char)v;
            i += 2;
        } else {
            vg_free(out);
            return NULL;
        }
    }
    if (out) {
        out[o] = '\0';
    }
    return out;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return errno == ENOSPC || errno == EDQUOT ? VG_ENOSPC : VG_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- problems, logged once */

/*
 * Report a file or directory problem: logged and counted the first time, silent while it
 * persists, forgotten when a scan no longer meets it (so it is logged again if it returns).
 */
static void note_error(struct vg_tail *t, const char *path, int err, const char *what)
{
    for (size_t i = 0; i < t->nerrs; i++) {
        if (t->errs[i].err == err && !strcmp(t->errs[i].path, path)) {
            t->errs[i].hit = true;
            return;
        }
    }
    VG_WARN("tail", "%s: %s: %s (retried at every scan)", path, what, strerror(err));
    st_add(t, &t->st.read_errors, 1);
    char *p = vg_strdup(path);
    if (p && vg_grow(&t->errs, &t->caperrs, t->nerrs + 1, sizeof(*t->errs)) == VG_OK) {
        t->errs[t->nerrs++] = (struct errnote){p, err, true};
    } else {
        vg_free(p);
    }
}

static void errs_sweep(struct vg_tail *t)
{
    size_t k = 0;
    for (size_t i = 0; i < t->nerrs; i++) {
        if (t->errs[i].hit) {
            t->errs[i].hit = false;
            t->errs[k++] = t->errs[i];
        } else {
            VG_INFO("tail", "%s: readable again", t->errs[i].path);
            vg_free(t->errs[i].path);
        }
    }
    t->nerrs = k;
}

/* ---------------------------------------------------------------- file entries */

static void file_free(struct tfile *f)
{
    if (!f) {
        return;
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    vg_free(f->path);
    vg_free(f->meta);
    vg_free(f->pend);
    vg_free(f);
}

/* Set the path f's records carry, and their meta prefix (t->lock held once f is listed). */
static int file_set_path(struct tfile *f, const char *path)
{
    struct vg_sbuf m = VG_SBUF_INIT;
    vg_sbuf_adds(&m, "file=");
    for (const char *p = path; *p; p++) {
        vg_sbuf_addc(&m, *p == '\x1f' ? '?' : *p); /* the meta separator cannot be in a value */
    }
    size_t plen = m.len - 5;
    vg_sbuf_adds(&m, "\x1fino=");
    add_u64(&m, f->ino);
    vg_sbuf_adds(&m, "\x1foff=");
    char *dup = vg_strdup(path);
    if (m.err || !dup) {
        vg_sbuf_fini(&m);
        vg_free(dup);
        return VG_ENOMEM;
    }
    vg_free(f->path);
    vg_free(f->meta);
    f->path = dup;
    f->mpath_len = plen;
    f->meta = vg_sbuf_take(&m, &f->meta_len);
    return VG_OK;
}

static struct tfile *file_new(uint32_t input, const char *path, uint64_t dev, uint64_t ino)
{
    struct tfile *f = vg_calloc(1, sizeof(*f));
    if (!f) {
        return NULL;
    }
    f->fd = -1;
    f->input = input;
    f->dev = dev;
    f->ino = ino;
    if (file_set_path(f, path) != VG_OK) {
        file_free(f);
        return NULL;
    }
    return f;
}

/* List f (taken: freed on failure). */
static int table_add(struct vg_tail *t, struct tfile *f)
{
    pthread_mutex_lock(&t->lock);
    int rc = vg_grow(&t->files, &t->capfiles, t->nfiles + 1, sizeof(*t->files));
    if (rc == VG_OK) {
        t->files[t->nfiles++] = f;
    }
    pthread_mutex_unlock(&t->lock);
    if (rc != VG_OK) {
        file_free(f);
    }
    return rc;
}

/* The entry for identity st found at path (an entry known only from records: by path). */
static struct tfile *find_identity(struct vg_tail *t, const struct stat *st, const char *path)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tfile *f = t->files[i];
        if (f->ino == (uint64_t)st->st_ino &&
            (f->dev == (uint64_t)st->st_dev || (f->dev == DEV_UNKNOWN && !strcmp(f->path, path)))) {
            return f;
        }
    }
    return NULL;
}

/* Does f carry records "file=MPATH ino=INO"? */
static bool file_is(const struct tfile *f, const char *mpath, size_t n, uint64_t ino)
{
    return f->ino == ino && f->mpath_len == n && !memcmp(f->meta + 5, mpath, n);
}

/* ---------------------------------------------------------------- fingerprints, positions */

static int fp_hash(int fd, uint32_t n, uint64_t *out)
{
    char b[FP_MAX];
    if (n && pread(fd, b, n, 0) != (ssize_t)n) {
        return VG_EIO;
    }
    *out = vg_hash64(b, n, FP_SEED);
    return VG_OK;
}

/* Does fd (size bytes) still start with the bytes fingerprinted as (fp, len)? */
static bool fp_same(int fd, uint64_t size, uint64_t fp, uint32_t len)
{
    uint64_t h;
    return size >= len && fp_hash(fd, len, &h) == VG_OK && h == fp;
}

/*
 * Check that f still starts with the bytes it was fingerprinted on, and extend the
 * fingerprint as the file grows towards FP_MAX. False: the file was rewritten.
 */
static bool fp_refresh(struct vg_tail *t, struct tfile *f, uint64_t size)
{
    char b[FP_MAX];
    uint32_t n = (uint32_t)VG_MIN(size, FP_MAX);
    if (n < f->fp_len) {
        return false;
    }
    if (pread(f->fd, b, n, 0) != (ssize_t)n) {
        return true; /* a read error shows up in the next read */
    }
    if (vg_hash64(b, f->fp_len, FP_SEED) != f->fp) {
        return false;
    }
    if (n > f->fp_len) {
        pthread_mutex_lock(&t->lock);
        f->fp = vg_hash64(b, n, FP_SEED);
        f->fp_len = n;
        push_pos_locked(f);
        pthread_mutex_unlock(&t->lock);
    }
    return true;
}

/* Queue f's current position until f->last_seq is durable (t->lock held). */
static void push_pos_locked(struct tfile *f)
{
    struct pos p = {f->last_seq, f->off, f->fp, f->fp_len};
    if (f->npend > f->head && f->pend[f->npend - 1].seq == p.seq) {
        f->pend[f->npend - 1] = p; /* no record since: the newer position replaces it */
        return;
    }
    if (f->head == f->npend) {
        f->head = f->npend = 0;
    } else if (f->head > 64 && f->head * 2 > f->npend) {
        memmove(f->pend, f->pend + f->head, (f->npend - f->head) * sizeof(*f->pend));
        f->npend -= f->head;
        f->head = 0;
    }
    /* out of memory: the checkpoint lags behind, so lines may be read twice, never lost */
    if (vg_grow(&f->pend, &f->cappend, f->npend + 1, sizeof(*f->pend)) == VG_OK) {
        f->pend[f->npend++] = p;
    }
}

/* Every queued position whose records are durable becomes the checkpointable one. */
static void advance_locked(struct vg_tail *t, uint64_t durable)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tfile *f = t->files[i];
        while (f->head < f->npend && f->pend[f->head].seq <= durable) {
            f->dur = f->pend[f->head++];
        }
    }
}

/*
 * Begin a new generation of f (a new file, a truncation, inode reuse) at off: fingerprint
 * it, and make its first append wait for a checkpoint that lists it.
 */
static void file_restart(struct vg_tail *t, struct tfile *f, uint64_t off, uint64_t size)
{
    uint32_t n = (uint32_t)VG_MIN(size, FP_MAX);
    uint64_t fp;
    if (fp_hash(f->fd, n, &fp) != VG_OK) {
        n = 0;
        fp = vg_hash64("", 0, FP_SEED);
    }
    pthread_mutex_lock(&t->lock);
    f->fp = fp;
    f->fp_len = n;
    f->off = off;
    f->gen = ++t->gen;
    push_pos_locked(f);
    pthread_mutex_unlock(&t->lock);
    f->size = size;
    f->partial = 0;
    f->in_long = false;
    f->grew_ns = vg_clock_ns();
}

/* ---------------------------------------------------------------- checkpoint */

static void ckpt_add_entry(struct vg_sbuf *b, const struct tfile *f)
{
    const struct pos *d = &f->dur;
    if (f->dev == DEV_UNKNOWN) {
        vg_sbuf_adds(b, "f - ");
    } else {
        vg_sbuf_printf(b, "f %llu ", (unsigned long long)f->dev);
    }
    vg_sbuf_printf(b, "%llu %016llx %u %llu %llu %u ", (unsigned long long)f->ino,
                   (unsigned long long)d->fp, d->fp_len, (unsigned long long)d->off,
                   (unsigned long long)d->seq, f->input);
    add_escaped(b, f->path);
    vg_sbuf_addc(b, '\n');
}

/*
 * The checkpoint text (t->lock held): header, the journal seq it covers, one line per
 * identity "f DEV INO FP FPLEN OFF SEQ INPUT PATH", and a CRC of everything before it.
 */
static void ckpt_snapshot_locked(struct vg_tail *t, struct vg_sbuf *b)
{
    /* read under the lock: every record of ours up to it has its position queued */
    uint64_t durable = vg_journal_durable_seq(t->j);
    advance_locked(t, durable);
    vg_sbuf_printf(b, CKPT_MAGIC "\nseq %llu\n", (unsigned long long)durable);
    for (size_t i = 0; i < t->nfiles; i++) {
        ckpt_add_entry(b, t->files[i]);
    }
    vg_sbuf_printf(b, "end %08x\n", vg_crc32(0, (const uint8_t *)b->p, b->len));
}

/* Replace the checkpoint file atomically and durably. */
static int ckpt_store(struct vg_tail *t, const struct vg_sbuf *b)
{
    int fd = openat(t->dirfd, CKPT_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return errno == ENOSPC || errno == EDQUOT ? VG_ENOSPC : VG_EIO;
    }
    int rc = write_all(fd, b->p, b->len);
    if (rc == VG_OK && fsync(fd) != 0) {
        rc = VG_EIO;
    }
    close(fd);
    if (rc == VG_OK && renameat(t->dirfd, CKPT_TMP, t->dirfd, CKPT_FILE) != 0) {
        rc = VG_EIO;
    }
    if (rc == VG_OK && fsync(t->dirfd) != 0) {
        rc = VG_EIO;
    }
    return rc;
}

/* Sync what we appended, then store the durable positions (t->ckpt_lock held). */
static int ckpt_write(struct vg_tail *t)
{
    pthread_mutex_lock(&t->lock);
    uint64_t last = t->last_seq;
    pthread_mutex_unlock(&t->lock);
    int rc = last ? vg_journal_sync(t->j, last) : VG_OK;
    struct vg_sbuf b = VG_SBUF_INIT;
    uint64_t gen = 0;
    if (rc == VG_OK) {
        pthread_mutex_lock(&t->lock);
        gen = t->gen;
        ckpt_snapshot_locked(t, &b);
        pthread_mutex_unlock(&t->lock);
        rc = b.err ? VG_ENOMEM : ckpt_store(t, &b);
    }
    vg_sbuf_fini(&b);
    if (rc == VG_OK) {
        pthread_mutex_lock(&t->lock);
        t->saved_gen = VG_MAX(t->saved_gen, gen);
        pthread_mutex_unlock(&t->lock);
        st_add(t, &t->st.checkpoints, 1);
    }
    return rc;
}

/* Before f's first record of a new generation: a stored checkpoint must list it. */
static int ensure_saved(struct vg_tail *t, const struct tfile *f)
{
    pthread_mutex_lock(&t->lock);
    bool need = f->gen > t->saved_gen;
    pthread_mutex_unlock(&t->lock);
    if (!need) {
        return VG_OK;
    }
    pthread_mutex_lock(&t->ckpt_lock);
    pthread_mutex_lock(&t->lock);
    need = f->gen > t->saved_gen; /* another writer may have covered it meanwhile */
    pthread_mutex_unlock(&t->lock);
    int rc = need ? ckpt_write(t) : VG_OK;
    pthread_mutex_unlock(&t->ckpt_lock);
    if (rc != VG_OK && !t->stalled) { /* once per episode: stall() retries with backoff */
        VG_WARN("tail", "%s/%s: cannot write the checkpoint: %s; %s waits", t->state_dir, CKPT_FILE,
                vg_strerror(rc), f->path);
    }
    return rc;
}

/* Split off the next space-separated token of [*p, end). */
static bool next_tok(const char **p, const char *end, const char **tok, size_t *n)
{
    const char *sp = memchr(*p, ' ', (size_t)(end - *p));
    if (!sp || sp == *p) {
        return false;
    }
    *tok = *p;
    *n = (size_t)(sp - *p);
    *p = sp + 1;
    return true;
}

/* One "DEV INO FP FPLEN OFF SEQ INPUT PATH" entry, listed as a dormant identity. */
static int ckpt_entry(struct vg_tail *t, const char *p, size_t n)
{
    const char *end = p + n, *tk[7];
    size_t tl[7];
    uint64_t v[7] = {DEV_UNKNOWN};
    for (int i = 0; i < 7; i++) {
        if (!next_tok(&p, end, &tk[i], &tl[i])) {
            return VG_EINVAL;
        }
    }
    for (int i = tl[0] == 1 && tk[0][0] == '-' ? 1 : 0; i < 7; i++) {
        if (!parse_u64(tk[i], tl[i], i == 2 ? 16 : 10, &v[i])) {
            return VG_EINVAL;
        }
    }
    char *path =
        p < end && v[3] <= FP_MAX && v[6] <= UINT32_MAX ? unescape(p, (size_t)(end - p)) : NULL;
    struct tfile *f = path ? file_new((uint32_t)v[6], path, v[0], v[1]) : NULL;
    vg_free(path);
    if (!f) {
        return VG_EINVAL;
    }
    f->dormant = true;
    f->fp = v[2];
    f->fp_len = (uint32_t)v[3];
    f->off = v[4];
    f->last_seq = v[5];
    f->dur = (struct pos){v[5], v[4], v[2], (uint32_t)v[3]};
    return table_add(t, f);
}

/* The last line "end CRC": the CRC of everything before it, and nothing after. */
static int ckpt_end(const char *data, size_t start, const uint8_t *ln, size_t n, size_t left)
{
    uint64_t crc;
    if (left || !parse_u64((const char *)ln + 4, n - 4, 16, &crc) ||
        crc != vg_crc32(0, (const uint8_t *)data, start)) {
        return VG_EINVAL;
    }
    return VG_OK;
}

static int ckpt_parse(struct vg_tail *t, const char *data, size_t len, size_t *lineno)
{
    struct vg_rbuf b;
    const uint8_t *ln;
    size_t n;
    vg_rbuf_init(&b, data, len);
    *lineno = 1;
    if (vg_rbuf_until(&b, '\n', &ln, &n) != VG_OK ||
        !vg_str_eq((const char *)ln, n, CKPT_MAGIC, strlen(CKPT_MAGIC))) {
        return VG_EINVAL;
    }
    *lineno = 2;
    if (vg_rbuf_until(&b, '\n', &ln, &n) != VG_OK || n < 5 || memcmp(ln, "seq ", 4) != 0 ||
        !parse_u64((const char *)ln + 4, n - 4, 10, &t->ckpt_seq)) {
        return VG_EINVAL;
    }
    for (;;) {
        size_t start = b.off;
        (*lineno)++;
        if (vg_rbuf_until(&b, '\n', &ln, &n) != VG_OK) {
            return VG_EINVAL; /* cut short: no end line */
        }
        if (n > 4 && !memcmp(ln, "end ", 4)) {
            return ckpt_end(data, start, ln, n, vg_rbuf_left(&b));
        }
        if (n < 2 || memcmp(ln, "f ", 2) != 0 || ckpt_entry(t, (const char *)ln + 2, n - 2)) {
            return VG_EINVAL;
        }
    }
}

/* Read STATE/tail.ckpt into dormant entries; none means a fresh tailer. */
static int ckpt_load(struct vg_tail *t, char *err, size_t errsz)
{
    char path[4096];
    char *data = NULL;
    size_t len = 0, lineno = 0;
    snprintf(path, sizeof(path), "%s/%s", t->state_dir, CKPT_FILE);
    int rc = vg_file_read(path, CKPT_MAX, &data, &len);
    if (rc == VG_ENOENT) {
        t->fresh = true;
        return VG_OK;
    }
    if (rc == VG_OK) {
        rc = ckpt_parse(t, data, len, &lineno);
        if (rc != VG_OK) {
            snprintf(err, errsz, "%s: damaged checkpoint (line %zu); remove it to start over", path,
                     lineno);
        }
    } else {
        snprintf(err, errsz, "%s: cannot read: %s", path, vg_strerror(rc));
    }
    vg_free(data);
    return rc;
}

/* ---------------------------------------------------------------- recovery from the journal */

static bool our_input(const struct vg_tail *t, uint32_t input)
{
    for (size_t i = 0; i < t->nins; i++) {
        if (t->ins[i].input == input) {
            return true;
        }
    }
    return false;
}

static bool meta_u64(const struct vg_rec *r, const char *key, uint64_t *out)
{
    size_t n = 0;
    const char *v = vg_rec_meta(r, key, &n);
    return v && parse_u64(v, n, 10, out);
}

static struct tfile *find_record_file(struct vg_tail *t, const struct vg_rec *r, const char *mpath,
                                      size_t n, uint64_t ino)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        if (file_is(t->files[i], mpath, n, ino)) {
            return t->files[i];
        }
    }
    /* no checkpoint lists it (the checkpoint was removed): known by path and inode only */
    char *path = vg_strndup(mpath, n);
    struct tfile *f = path ? file_new(r->input, path, DEV_UNKNOWN, ino) : NULL;
    vg_free(path);
    if (!f || table_add(t, f) != VG_OK) {
        return NULL;
    }
    f->dormant = true;
    f->fp = vg_hash64("", 0, FP_SEED);
    f->dur.fp = f->fp;
    return f;
}

/*
 * A journal record written after the checkpoint: its file resumes just after it. The last
 * record wins, not the largest offset: after a truncation the offsets start again from 0.
 */
static void recover_rec(struct vg_tail *t, const struct vg_rec *r, uint64_t seq,
                        struct tfile **cache)
{
    size_t n = 0;
    uint64_t ino, off;
    const char *mpath = vg_rec_meta(r, "file", &n);
    if (!mpath || !meta_u64(r, "ino", &ino) || !meta_u64(r, "off", &off)) {
        return;
    }
    struct tfile *f = *cache;
    if (!f || !file_is(f, mpath, n, ino)) {
        f = find_record_file(t, r, mpath, n, ino);
    }
    if (f) {
        f->off = f->dur.off = off;
        f->last_seq = f->dur.seq = seq;
        *cache = f;
    }
}

static int recover(struct vg_tail *t, char *err, size_t errsz)
{
    uint64_t next = vg_journal_next_seq(t->j);
    if (t->ckpt_seq >= next) {
        VG_WARN("tail", "%s: checkpoint is ahead of the journal (seq %llu, journal at %llu)",
                t->state_dir, (unsigned long long)t->ckpt_seq, (unsigned long long)next);
        t->ckpt_seq = next - 1;
        for (size_t i = 0; i < t->nfiles; i++) {
            struct tfile *f = t->files[i];
            f->last_seq = f->dur.seq = VG_MIN(f->dur.seq, t->ckpt_seq);
        }
    }
    struct vg_journal_reader *rd = vg_journal_reader_open(t->j, t->ckpt_seq);
    struct tfile *cache = NULL;
    struct vg_rec r;
    uint64_t seq;
    int rc = rd ? VG_OK : VG_ENOMEM;
    while (rd && ((rc = vg_journal_next(rd, &r, &seq, 0)) == VG_OK || rc == VG_EINVAL)) {
        if (rc == VG_OK && our_input(t, r.input)) {
            recover_rec(t, &r, seq, &cache);
        }
    }
    vg_journal_reader_close(rd);
    if (rc != VG_AGAIN) {
        snprintf(err, errsz, "%s: cannot replay the journal: %s", t->state_dir, vg_strerror(rc));
        return rc;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- inotify */

static void watch_dir(struct vg_tail *t, const char *dir, size_t n)
{
    if (t->ifd < 0) {
        return;
    }
    for (size_t i = 0; i < t->nwatches; i++) {
        if (vg_str_eq(t->watches[i].dir, strlen(t->watches[i].dir), dir, n)) {
            return;
        }
    }
    char *d = vg_strndup(dir, n);
    int wd = d && t->nwatches < MAX_WATCHES ? inotify_add_watch(t->ifd, d, WATCH_MASK) : -1;
    if (wd >= 0 &&
        vg_grow(&t->watches, &t->capwatches, t->nwatches + 1, sizeof(*t->watches)) == VG_OK) {
        t->watches[t->nwatches++] = (struct watch){wd, d};
        return;
    }
    if (wd < 0 && d && (errno == ENOENT || errno == ENOTDIR || errno == EACCES)) {
        vg_free(d); /* not there yet, or unlistable (the scan reports it): tried again later */
        return;
    }
    /* watch limit, memory: poll every file instead */
    VG_WARN("tail", "%s: cannot watch (%s): polling every %d ms", d ? d : "?", strerror(errno),
            t->o.poll_interval_ms);
    vg_free(d);
    close(t->ifd);
    t->ifd = -1;
}

/* Watch the directory of path; a pattern's is the directory of its fixed leading part. */
static void watch_parent(struct vg_tail *t, const char *path, bool pattern)
{
    size_t n = pattern ? strcspn(path, "*?[") : strlen(path);
    while (n && path[n - 1] != '/') {
        n--;
    }
    if (n == 0) {
        watch_dir(t, ".", 1);
    } else {
        watch_dir(t, path, n > 1 ? n - 1 : 1);
    }
}

static void unwatch(struct vg_tail *t, int wd)
{
    for (size_t i = 0; i < t->nwatches; i++) {
        if (t->watches[i].wd == wd) {
            vg_free(t->watches[i].dir);
            t->watches[i] = t->watches[--t->nwatches];
            return;
        }
    }
}

/* Consume inotify events: directory changes ask for a rescan; writes just wake the loop. */
static void drain_inotify(struct vg_tail *t)
{
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while (t->ifd >= 0 && (n = read(t->ifd, buf, sizeof(buf))) > 0) {
        const char *p = buf, *end = buf + n;
        while ((size_t)(end - p) >= sizeof(struct inotify_event)) {
            const struct inotify_event *ev = (const struct inotify_event *)(const void *)p;
            if (ev->len > (size_t)(end - p) - sizeof(*ev)) {
                break;
            }
            if (ev->mask & IN_IGNORED) {
                unwatch(t, ev->wd);
            }
            t->scan_now |= (ev->mask & RESCAN_EVENTS) != 0;
            p += sizeof(*ev) + ev->len;
        }
    }
}

/* ---------------------------------------------------------------- scanning */

static _Thread_local struct vg_tail *glob_owner;

static int glob_error(const char *path, int err)
{
    if (glob_owner && err != ENOENT && err != ENOTDIR) {
        note_error(glob_owner, path, err, "cannot list directory");
        glob_owner->scan_error = true;
    }
    return 0; /* go on: the other directories still count */
}

static int open_file(struct vg_tail *t, const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        note_error(t, path, errno, "cannot open");
        return -1;
    }
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void open_new(struct vg_tail *t, uint32_t input, const char *path)
{
    struct stat st;
    int fd = open_file(t, path, &st);
    if (fd < 0) {
        return;
    }
    struct tfile *f =
        find_identity(t, &st, path) ? NULL : file_new(input, path, st.st_dev, st.st_ino);
    if (!f) {
        close(fd); /* replaced between stat and open: the next scan sorts it out */
        return;
    }
    f->fd = fd;
    f->seen = true;
    if (table_add(t, f) != VG_OK) {
        return;
    }
    bool at_end = t->o.start == VG_TAIL_START_END && t->fresh && !t->first_scan_done;
    uint64_t size = (uint64_t)st.st_size;
    file_restart(t, f, at_end ? size : 0, size);
    st_add(t, &t->st.files_open, 1);
    VG_INFO("tail", "%s: new file, reading from offset %llu", path,
            (unsigned long long)(at_end ? size : 0));
}

/* A known identity opened again: resume at its offset if it still holds the same bytes. */
static void resume(struct vg_tail *t, struct tfile *f, int fd, const struct stat *st,
                   uint32_t input, const char *path)
{
    uint64_t size = (uint64_t)st->st_size;
    bool unknown = f->dev == DEV_UNKNOWN;
    f->fd = fd;
    f->detached = false;
    pthread_mutex_lock(&t->lock);
    f->dev = (uint64_t)st->st_dev;
    f->input = f->dormant ? input : f->input; /* the pattern that matches it now */
    f->dormant = false;
    pthread_mutex_unlock(&t->lock);
    st_add(t, &t->st.files_open, 1);
    if (size < f->off) {
        st_add(t, &t->st.truncations, 1);
        VG_INFO("tail", "%s: shorter than its offset %llu: truncated, reading from 0", path,
                (unsigned long long)f->off);
        file_restart(t, f, 0, size);
    } else if (!fp_same(fd, size, f->fp, f->fp_len)) {
        VG_INFO("tail", "%s: inode %llu holds a new file, reading from 0", path,
                (unsigned long long)f->ino);
        pthread_mutex_lock(&t->lock);
        file_set_path(f, path); /* on failure the records keep the old path */
        pthread_mutex_unlock(&t->lock);
        file_restart(t, f, 0, size);
    } else {
        f->size = size;
        f->partial = 0;
        f->grew_ns = vg_clock_ns();
        fp_refresh(t, f, size);
        pthread_mutex_lock(&t->lock);
        f->gen = unknown ? ++t->gen : f->gen; /* checkpoint its dev and fingerprint first */
        pthread_mutex_unlock(&t->lock);
    }
}

static void reopen(struct vg_tail *t, struct tfile *f, uint32_t input, const char *path)
{
    struct stat st;
    f->seen = true; /* found, even if unreadable: keep its position */
    int fd = open_file(t, path, &st);
    if (fd < 0) {
        return;
    }
    if ((uint64_t)st.st_ino != f->ino) {
        close(fd); /* replaced between stat and open: the next scan sorts it out */
        return;
    }
    resume(t, f, fd, &st, input, path);
}

static void found(struct vg_tail *t, uint32_t input, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT) {
            note_error(t, path, errno, "cannot stat");
        }
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        return; /* directories, FIFOs, devices matched by a pattern are not tailed */
    }
    watch_parent(t, path, false);
    struct tfile *f = find_identity(t, &st, path);
    if (f && f->fd >= 0) {
        f->seen = true;
        f->detached = false;
    } else if (f) {
        reopen(t, f, input, path);
    } else {
        open_new(t, input, path);
    }
}

static void scan_pattern(struct vg_tail *t, const struct vg_tail_input *in)
{
    glob_t g;
    memset(&g, 0, sizeof(g));
    glob_owner = t;
    int rc = glob(in->glob, 0, glob_error, &g);
    glob_owner = NULL;
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        found(t, in->input, g.gl_pathv[i]);
    }
    struct stat st;
    if (rc == GLOB_NOMATCH && !strpbrk(in->glob, "*?[") && stat(in->glob, &st) != 0 &&
        errno != ENOENT) {
        note_error(t, in->glob, errno, "cannot stat"); /* a plain path: say why it is missing */
        t->scan_error = true;
    }
    t->scan_error |= rc == GLOB_ABORTED || rc == GLOB_NOSPACE;
    globfree(&g);
}

/* An open file no pattern matched any more: rotated or deleted. */
static void detach(struct vg_tail *t, struct tfile *f)
{
    struct stat st;
    if (stat(f->path, &st) == 0 && (uint64_t)st.st_ino == f->ino && (uint64_t)st.st_dev == f->dev) {
        f->seen = true; /* still at its path: the scan missed it (unlistable directory) */
        return;
    }
    f->detached = true;
    f->grew_ns = vg_clock_ns();
    st_add(t, &t->st.rotations, 1);
    VG_INFO("tail", "%s: rotated or deleted; reading inode %llu to its end", f->path,
            (unsigned long long)f->ino);
}

/* Restart a file whose first bytes changed (rewritten in place, size kept or grown). */
static void check_rewrite(struct vg_tail *t, struct tfile *f)
{
    struct stat st;
    if (fstat(f->fd, &st) == 0 && !fp_refresh(t, f, (uint64_t)st.st_size)) {
        st_add(t, &t->st.truncations, 1);
        VG_INFO("tail", "%s: first bytes changed: rewritten, reading from 0", f->path);
        file_restart(t, f, 0, (uint64_t)st.st_size);
    }
}

/* After a scan: detach open files nothing matched, forget closed files nothing needs. */
static void scan_sweep(struct vg_tail *t)
{
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tfile *f = t->files[i];
        if (f->fd >= 0 && !f->seen && !f->detached) {
            detach(t, f);
        }
        if (f->fd >= 0) {
            check_rewrite(t, f);
        }
    }
    pthread_mutex_lock(&t->lock);
    advance_locked(t, vg_journal_durable_seq(t->j));
    size_t k = 0;
    for (size_t i = 0; i < t->nfiles; i++) {
        struct tfile *f = t->files[i];
        if (f->fd < 0 && !f->seen && !t->scan_error && f->head == f->npend) {
            file_free(f); /* gone, and every record of it is durable */
        } else {
            t->files[k++] = f;
        }
    }
    t->nfiles = k;
    pthread_mutex_unlock(&t->lock);
}

/*
 * A file known from the checkpoint or the journal that the first scan did not find at its
 * path: logrotate may have renamed it while the server was down (auth.log → auth.log.1,
 * a name the pattern need not match). Look for its inode in the same directory; when it
 * still holds the same first bytes, finish it (read to its end, then close), so the lines
 * written before the rotation are not lost.
 */
static void adopt_rotated(struct vg_tail *t, struct tfile *f)
{
    const char *slash = strrchr(f->path, '/');
    char dir[4096], path[4096 + 256];
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - f->path) : 1,
             slash ? (slash == f->path ? "/" : f->path) : ".");
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if ((uint64_t)e->d_ino != f->ino) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        int fd = open_file(t, path, &st);
        if (fd < 0) {
            break;
        }
        bool same = (uint64_t)st.st_ino == f->ino &&
                    (f->dev == DEV_UNKNOWN || f->dev == (uint64_t)st.st_dev) &&
                    (uint64_t)st.st_size >= f->off &&
                    fp_same(fd, (uint64_t)st.st_size, f->fp, f->fp_len);
        if (!same) {
            close(fd);
            break;
        }
        f->seen = true;
        resume(t, f, fd, &st, f->input, path);
        f->detached = true;
        f->grew_ns = vg_clock_ns();
        st_add(t, &t->st.rotations, 1);
        VG_INFO("tail", "%s: rotated to %s while stopped; reading it to its end", f->path, path);
        break;
    }
    if (d) {
        closedir(d);
    }
}

static void scan(struct vg_tail *t, uint64_t now)
{
    t->scan_error = false;
    t->scan_now = false;
    t->next_scan_ns = now + ms_ns(t->o.scan_interval_ms);
    for (size_t i = 0; i < t->nfiles; i++) {
        t->files[i]->seen = false;
    }
    for (size_t i = 0; i < t->nins; i++) {
        scan_pattern(t, &t->ins[i]);
        watch_parent(t, t->ins[i].glob, true);
    }
    for (size_t i = 0; !t->first_scan_done && i < t->nfiles; i++) {
        struct tfile *f = t->files[i];
        if (f->fd < 0 && !f->seen && f->dormant) {
            adopt_rotated(t, f);
        }
    }
    scan_sweep(t);
    errs_sweep(t);
    t->first_scan_done = true;
}

/* ---------------------------------------------------------------- reading */

static void file_close(struct vg_tail *t, struct tfile *f)
{
    close(f->fd);
    f->fd = -1;
    st_add(t, &t->st.files_open, -1);
}

static void file_fail(struct vg_tail *t, struct tfile *f, int err, const char *what)
{
    note_error(t, f->path, err, what);
    file_close(t, f); /* reopened by a later scan, at the same offset */
}

/* Add one line ending at file offset end to the batch. */
static void add_line(struct vg_tail *t, const struct tfile *f, const char *p, size_t len,
                     uint64_t end)
{
    if (vg_grow(&t->recs, &t->caprecs, t->nrecs + 1, sizeof(*t->recs)) != VG_OK ||
        vg_grow(&t->metaoff, &t->capmetaoff, t->nrecs + 1, sizeof(*t->metaoff)) != VG_OK) {
        t->batch_err = true;
        return;
    }
    size_t m0 = t->metas.len;
    vg_sbuf_add(&t->metas, f->meta, f->meta_len);
    add_u64(&t->metas, end);
    t->metaoff[t->nrecs] = m0;
    t->recs[t->nrecs++] = (struct vg_rec){.data = p,
                                          .len = (uint32_t)len,
                                          .input = f->input,
                                          .recv_ts = t->now_ts,
                                          .meta_len = (uint32_t)(t->metas.len - m0)};
}

/*
 * Cut t->rbuf[0, n) (the file's bytes from f->off) into lines: LF-terminated, a CR before
 * the LF dropped, empty lines skipped, lines over max_line cut into max_line pieces. With
 * flush the rest without LF is a line too. Returns the bytes consumed.
 */
static size_t split_lines(struct vg_tail *t, const struct tfile *f, size_t n, bool flush,
                          bool *in_long, uint64_t *nlong)
{
    const char *b = t->rbuf;
    size_t pos = 0, max = t->o.max_line;
    while (pos < n) {
        size_t left = n - pos, len, next;
        const char *nl = memchr(b + pos, '\n', VG_MIN(left, max + 1));
        if (nl || (flush && left <= max)) {
            len = nl ? (size_t)(nl - (b + pos)) : left;
            next = pos + len + (nl ? 1 : 0);
            len -= len && b[pos + len - 1] == '\r';
            *in_long = false;
        } else if (left > max) {
            len = next = max;
            next += pos;
            *nlong += !*in_long;
            *in_long = true;
        } else {
            break; /* the rest waits for its LF */
        }
        if (len) {
            add_line(t, f, b + pos, len, f->off + next);
        }
        pos = next;
    }
    return pos;
}

/* Back off: the journal is over its bound (or full); the file stays unread meanwhile. */
static void stall(struct vg_tail *t, const struct tfile *f, int rc)
{
    if (!t->stalled) {
        st_add(t, &t->st.stalls, 1);
        t->backoff_ms = 1;
        if (rc == VG_ENOSPC || rc == VG_EIO) {
            VG_WARN("tail", "%s: lines held back: journal: %s", f->path, vg_strerror(rc));
        }
    } else {
        t->backoff_ms = VG_MIN(t->backoff_ms * 2, BACKOFF_MAX);
    }
    t->stalled = true;
    t->held = true;
    t->resume_ns = vg_clock_ns() + ms_ns(t->backoff_ms);
}

/* Append the batch and move f past the used bytes. */
static int commit(struct vg_tail *t, struct tfile *f, size_t used)
{
    int rc = t->batch_err || t->metas.err ? VG_ENOMEM : VG_OK;
    if (rc == VG_OK && ensure_saved(t, f) != VG_OK) {
        stall(t, f, VG_AGAIN); /* ensure_saved said why */
        return VG_AGAIN;
    }
    for (size_t i = 0; rc == VG_OK && i < t->nrecs; i++) {
        t->recs[i].meta = t->metas.p + t->metaoff[i];
    }
    uint64_t last = 0;
    if (rc == VG_OK) {
        /* under t->lock: a checkpoint sees the append and its queued position together */
        pthread_mutex_lock(&t->lock);
        if (t->nrecs) {
            rc = vg_journal_append(t->j, t->recs, t->nrecs, VG_JOURNAL_NOWAIT, &last);
        }
        if (rc == VG_OK) {
            f->last_seq = t->nrecs ? last : f->last_seq;
            t->last_seq = t->nrecs ? last : t->last_seq;
            f->off += used;
            push_pos_locked(f);
        }
        pthread_mutex_unlock(&t->lock);
    }
    if (rc != VG_OK) {
        stall(t, f, rc);
        return rc;
    }
    t->stalled = false;
    pthread_mutex_lock(&t->stlock);
    t->st.lines += t->nrecs;
    t->st.bytes += used;
    pthread_mutex_unlock(&t->stlock);
    return VG_OK;
}

/* Lines of t->rbuf[0, n) into the journal; *used receives the bytes consumed. */
static int emit(struct vg_tail *t, struct tfile *f, size_t n, bool flush, size_t *used)
{
    bool in_long = f->in_long;
    uint64_t nlong = 0;
    t->nrecs = 0;
    t->batch_err = false;
    vg_sbuf_reset(&t->metas);
    *used = split_lines(t, f, n, flush, &in_long, &nlong);
    int rc = *used ? commit(t, f, *used) : VG_OK;
    if (rc != VG_OK) {
        *used = 0;
        return rc;
    }
    f->in_long = in_long;
    pthread_mutex_lock(&t->stlock);
    t->st.long_lines += nlong;
    t->st.partial_lines += flush && t->nrecs;
    pthread_mutex_unlock(&t->stlock);
    return VG_OK;
}

/* Read f from its offset up to size (ROUND_BYTES at most); true when lines were consumed. */
static bool read_lines(struct vg_tail *t, struct tfile *f, uint64_t size)
{
    uint64_t budget = ROUND_BYTES;
    bool progress = false;
    while (budget && size > f->off && size - f->off > f->partial && !atomic_load(&t->stop)) {
        size_t want = (size_t)VG_MIN(size - f->off, (uint64_t)t->rcap), used = 0;
        ssize_t n = pread(f->fd, t->rbuf, want, (off_t)f->off);
        if (n <= 0) {
            if (n < 0) {
                file_fail(t, f, errno, "cannot read");
            }
            return true; /* shrank meanwhile: the next look sees the truncation */
        }
        if (emit(t, f, (size_t)n, false, &used) != VG_OK) {
            return progress;
        }
        f->partial = (size_t)n - used;
        budget -= VG_MIN(budget, (uint64_t)n);
        progress |= used > 0;
    }
    return progress;
}

/* Emit the last line without LF (still for flush_timeout, or its file is closing). */
static bool flush_partial(struct vg_tail *t, struct tfile *f)
{
    size_t used = 0;
    ssize_t n = pread(f->fd, t->rbuf, (size_t)f->partial, (off_t)f->off);
    if (n != (ssize_t)f->partial) {
        f->partial = 0; /* changed under us: the next look reads it again */
        return true;
    }
    if (emit(t, f, (size_t)n, true, &used) == VG_OK) {
        f->partial = 0;
        return true;
    }
    return false;
}

/* Nothing new in f: flush its last line, close it if rotated and idle; else set deadlines. */
static bool file_idle(struct vg_tail *t, struct tfile *f, uint64_t now)
{
    uint64_t flush_at = f->grew_ns + ms_ns(t->o.flush_timeout_ms);
    uint64_t close_at = f->grew_ns + ms_ns(t->o.rotate_wait_ms);
    bool closing = f->detached && now >= close_at;
    if (f->partial && (closing || now >= flush_at)) {
        return flush_partial(t, f);
    }
    if (closing) {
        VG_INFO("tail", "%s: rotated file closed at offset %llu", f->path,
                (unsigned long long)f->off);
        file_close(t, f);
        return true;
    }
    if (f->partial) {
        t->deadline_ns = VG_MIN(t->deadline_ns, flush_at);
    }
    if (f->detached) {
        t->deadline_ns = VG_MIN(t->deadline_ns, close_at);
    }
    return false;
}

/* One look at f: truncation, new lines, idle handling. True when anything happened. */
static bool file_read(struct vg_tail *t, struct tfile *f, uint64_t now)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        file_fail(t, f, errno, "cannot stat");
        return true;
    }
    uint64_t size = (uint64_t)st.st_size;
    /* shrunk under what we read, or grown with other first bytes (rewritten meanwhile) */
    if (size < f->off + f->partial || (size != f->size && !fp_refresh(t, f, size))) {
        st_add(t, &t->st.truncations, 1);
        VG_INFO("tail", "%s: truncated (size %llu, offset %llu): reading from 0", f->path,
                (unsigned long long)size, (unsigned long long)f->off);
        file_restart(t, f, 0, size);
    }
    if (size != f->size) {
        f->size = size;
        f->grew_ns = now;
    }
    if (read_lines(t, f, size)) {
        return true;
    }
    return f->fd >= 0 && !t->held && file_idle(t, f, now);
}

/* Read every open file; rotated ones first, as they hold the older lines. */
static bool read_all(struct vg_tail *t, uint64_t now)
{
    bool progress = false;
    t->deadline_ns = UINT64_MAX;
    t->now_ts = vg_time_now();
    t->held = false;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->nfiles && !t->held && !atomic_load(&t->stop); i++) {
            struct tfile *f = t->files[i];
            if (f->fd >= 0 && f->detached == (pass == 0)) {
                progress |= file_read(t, f, now);
            }
        }
    }
    return progress;
}

/* ---------------------------------------------------------------- the thread */

static void wait_events(struct vg_tail *t, uint64_t now)
{
    uint64_t until = VG_MIN(t->next_scan_ns, t->deadline_ns);
    if (t->ifd < 0) {
        until = VG_MIN(until, now + ms_ns(t->o.poll_interval_ms));
    }
    if (t->resume_ns > now) {
        until = VG_MIN(until, t->resume_ns);
    }
    uint64_t wait_ms = until > now ? (until - now + MS - 1) / MS : 0;
    struct pollfd p[2] = {{.fd = t->wakefd, .events = POLLIN}, {.fd = t->ifd, .events = POLLIN}};
    if (poll(p, t->ifd >= 0 ? 2 : 1, (int)VG_MAX(VG_MIN(wait_ms, 60000), 1)) <= 0) {
        return;
    }
    if (p[0].revents) {
        uint64_t v;
        ssize_t r = read(t->wakefd, &v, sizeof(v));
        VG_UNUSED(r);
    }
    if (t->ifd >= 0 && p[1].revents) {
        drain_inotify(t);
    }
}

static void *tail_main(void *arg)
{
    struct vg_tail *t = arg;
    while (!atomic_load(&t->stop)) {
        uint64_t now = vg_clock_ns();
        drain_inotify(t);
        if (t->scan_now || now >= t->next_scan_ns) {
            scan(t, now);
        }
        bool progress = now >= t->resume_ns && read_all(t, now);
        if (!progress && !atomic_load(&t->stop)) {
            wait_events(t, vg_clock_ns());
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- API */

static int opts_set(struct vg_tail *t, const struct vg_tail_opts *o, char *err, size_t errsz)
{
    struct vg_tail_opts d = o ? *o : (struct vg_tail_opts){0};
    if (d.scan_interval_ms < 0 || d.poll_interval_ms < 0 || d.flush_timeout_ms < 0 ||
        d.rotate_wait_ms < 0 || d.max_line > LINE_LIMIT ||
        (d.start != VG_TAIL_START_BEGINNING && d.start != VG_TAIL_START_END)) {
        snprintf(err, errsz, "file input: an option is out of range (max_line <= %u)", LINE_LIMIT);
        return VG_EINVAL;
    }
    d.scan_interval_ms = d.scan_interval_ms ? d.scan_interval_ms : 1000;
    d.poll_interval_ms = d.poll_interval_ms ? d.poll_interval_ms : 250;
    d.flush_timeout_ms = d.flush_timeout_ms ? d.flush_timeout_ms : 1000;
    d.rotate_wait_ms = d.rotate_wait_ms ? d.rotate_wait_ms : 5000;
    d.max_line = d.max_line ? d.max_line : 65536;
    t->o = d;
    t->rcap = d.max_line + READ_CHUNK; /* holds a whole max_line piece: every read progresses */
    return VG_OK;
}

static int inputs_set(struct vg_tail *t, const struct vg_tail_input *ins, size_t n, char *err,
                      size_t errsz)
{
    if (!n) {
        snprintf(err, errsz, "file input: no path pattern");
        return VG_EINVAL;
    }
    t->ins = vg_calloc(n, sizeof(*t->ins));
    if (!t->ins) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ins[i].glob || !ins[i].glob[0]) {
            snprintf(err, errsz, "file input %zu: empty path pattern", i);
            return VG_EINVAL;
        }
        t->ins[i].input = ins[i].input;
        t->ins[i].glob = vg_strdup(ins[i].glob);
        t->nins++;
        if (!t->ins[i].glob) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

static int state_open(struct vg_tail *t, const char *dir, char *err, size_t errsz)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "%s: cannot create: %s", dir, strerror(errno));
        return VG_EIO;
    }
    t->state_dir = vg_strdup(dir);
    t->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (!t->state_dir || t->dirfd < 0) {
        snprintf(err, errsz, "%s: %s", dir, t->state_dir ? strerror(errno) : "out of memory");
        return t->state_dir ? VG_EIO : VG_ENOMEM;
    }
    t->lockfd = openat(t->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (t->lockfd < 0) {
        snprintf(err, errsz, "%s/%s: %s", dir, LOCK_FILE, strerror(errno));
        return VG_EIO;
    }
    if (flock(t->lockfd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errsz, "%s: in use by another file tailer", dir);
        return VG_EEXIST;
    }
    return VG_OK;
}

static int io_init(struct vg_tail *t, char *err, size_t errsz)
{
    t->rbuf = vg_malloc(t->rcap);
    t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!t->rbuf || t->wakefd < 0) {
        snprintf(err, errsz, "file input: %s", t->rbuf ? strerror(errno) : "out of memory");
        return t->rbuf ? VG_EIO : VG_ENOMEM;
    }
    if (!t->o.no_inotify) {
        t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->ifd < 0) {
            VG_WARN("tail", "inotify unavailable (%s): polling every %d ms", strerror(errno),
                    t->o.poll_interval_ms);
        }
    }
    return VG_OK;
}

int vg_tail_create(struct vg_journal *j, const char *state_dir, const struct vg_tail_input *ins,
                   size_t n, const struct vg_tail_opts *o, struct vg_tail **out, char *err,
                   size_t errsz)
{
    struct vg_tail *t = vg_calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    t->j = j;
    t->dirfd = t->lockfd = t->ifd = t->wakefd = -1;
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->ckpt_lock, NULL);
    pthread_mutex_init(&t->stlock, NULL);
    int rc = opts_set(t, o, err, errsz);
    if (rc == VG_OK) {
        rc = inputs_set(t, ins, n, err, errsz);
    }
    if (rc == VG_OK) {
        rc = state_open(t, state_dir, err, errsz);
    }
    if (rc == VG_OK) {
        rc = ckpt_load(t, err, errsz);
    }
    if (rc == VG_OK) {
        rc = recover(t, err, errsz);
    }
    if (rc == VG_OK) {
        rc = io_init(t, err, errsz);
    }
    if (rc != VG_OK) {
        vg_tail_destroy(t);
        return rc;
    }
    *out = t;
    return VG_OK;
}

int vg_tail_start(struct vg_tail *t)
{
    if (t->started) {
        return VG_EINVAL;
    }
    atomic_store(&t->stop, false);
    if (pthread_create(&t->th, NULL, tail_main, t) != 0) {
        return VG_ERROR;
    }
    t->started = true;
    return VG_OK;
}

void vg_tail_stop(struct vg_tail *t)
{
    if (!t || !t->started) {
        return;
    }
    atomic_store(&t->stop, true);
    uint64_t one = 1;
    ssize_t w = write(t->wakefd, &one, sizeof(one));
    VG_UNUSED(w);
    pthread_join(t->th, NULL);
    t->started = false;
}

static void close_fd(int fd)
{
    if (fd >= 0) {
        close(fd);
    }
}

void vg_tail_destroy(struct vg_tail *t)
{
    if (!t) {
        return;
    }
    vg_tail_stop(t);
    for (size_t i = 0; i < t->nfiles; i++) {
        file_free(t->files[i]);
    }
    for (size_t i = 0; i < t->nins; i++) {
        vg_free((char *)t->ins[i].glob);
    }
    for (size_t i = 0; i < t->nerrs; i++) {
        vg_free(t->errs[i].path);
    }
    for (size_t i = 0; i < t->nwatches; i++) {
        vg_free(t->watches[i].dir);
    }
    close_fd(t->dirfd);
    close_fd(t->lockfd); /* releases the flock */
    close_fd(t->ifd);
    close_fd(t->wakefd);
    vg_sbuf_fini(&t->metas);
    vg_free(t->files);
    vg_free(t->ins);
    vg_free(t->errs);
    vg_free(t->watches);
    vg_free(t->state_dir);
    vg_free(t->rbuf);
    vg_free(t->recs);
    vg_free(t->metaoff);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->ckpt_lock);
    pthread_mutex_destroy(&t->stlock);
    vg_free(t);
}

int vg_tail_checkpoint(struct vg_tail *t)
{
    pthread_mutex_lock(&t->ckpt_lock);
    int rc = ckpt_write(t);
    pthread_mutex_unlock(&t->ckpt_lock);
    return rc;
}

void vg_tail_stats(const struct vg_tail *t, struct vg_tail_stats *out)
{
    struct vg_tail *m = (struct vg_tail *)t;
    pthread_mutex_lock(&m->stlock);
    *out = m->st;
    pthread_mutex_unlock(&m->stlock);
}
