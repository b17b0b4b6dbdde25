/*
 * agent_fim_scan.c — full scans: walk the configured trees, compare with the baseline, hash
 * what must be hashed on several threads, report and store the differences. Also the public
 * vg_fim_baseline() / vg_fim_check() built on it.
 *
 * A scan runs in three steps:
 *   1. load the baseline records under the roots into an in-memory hash table;
 *   2. walk the trees (openat + fstatat relative to the directory fd, no link following, no
 *      crossing into other filesystems below a root), marking the baseline records seen and
 *      deciding per regular file whether its content must be hashed (new file, or size,
 *      mtime, ctime, inode or device changed — AIDE's rule);
 *   3. hash the chosen files on o->threads threads (an atomic cursor over the list), then
 *      compare, report and store in one transaction on the calling thread.
 * Paths and link targets live in one arena per scan.
 */
#include "agent/agent_fim_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEPTH 256

struct scan_ent {
    struct vg_fim_rec cur;
    int64_t old; /* index in base.v, or -1 */
    bool need_hash, gone;
};

struct base_tab {
    struct vg_fim_rec *v;
    bool *seen;
    size_t n, cap;
    uint32_t *slots; /* index + 1; 0 = empty */
    size_t nslots;
};

struct scan {
    const struct vg_fim_opts *o;
    struct vg_fim_db *db;
    struct vg_fim_result *r;
    struct vg_arena *arena;
    struct scan_ent *ents;
    size_t n, cap;
    size_t *todo;
    size_t ntodo;
    atomic_size_t next;
    atomic_uint_fast64_t hashed, bytes, errors;
    struct base_tab base;
    bool baseline;
};

/* ---------------------------------------------------------------- baseline table */

static int base_add(void *ctx, const struct vg_fim_rec *r)
{
    struct scan *s = ctx;
    struct base_tab *b = &s->base;
    if (vg_grow(&b->v, &b->cap, b->n + 1, sizeof(*b->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct vg_fim_rec *d = &b->v[b->n];
    *d = *r;
    d->path = vg_arena_strdup(s->arena, r->path);
    d->link = r->link ? vg_arena_strdup(s->arena, r->link) : NULL;
    if (!d->path || (r->link && !d->link)) {
        return VG_ENOMEM;
    }
    b->n++;
    return VG_OK;
}

static int64_t base_find(const struct base_tab *b, const char *path, size_t len)
{
    if (!b->nslots) {
        return -1;
    }
    size_t i = vg_hash64(path, len, 0) & (b->nslots - 1);
    for (; b->slots[i]; i = (i + 1) & (b->nslots - 1)) {
        const struct vg_fim_rec *r = &b->v[b->slots[i] - 1];
        if (!strncmp(r->path, path, len) && r->path[len] == '\0') {
            return (int64_t)b->slots[i] - 1;
        }
    }
    return -1;
}

/* Index the loaded records (duplicates from overlapping roots are dropped). */
static int base_index(struct base_tab *b)
{
    b->nslots = 16;
    while (b->nslots < 2 * b->n) {
        b->nslots <<= 1;
    }
    b->slots = vg_calloc(b->nslots, sizeof(*b->slots));
    b->seen = vg_calloc(b->n ? b->n : 1, sizeof(*b->seen));
    if (!b->slots || !b->seen) {
        return VG_ENOMEM;
    }
    for (size_t k = 0; k < b->n; k++) {
        size_t len = strlen(b->v[k].path);
        if (base_find(b, b->v[k].path, len) >= 0) {
            b->seen[k] = true; /* duplicate: never reported as removed */
            continue;
        }
        size_t i = vg_hash64(b->v[k].path, len, 0) & (b->nslots - 1);
        while (b->slots[i]) {
            i = (i + 1) & (b->nslots - 1);
        }
        b->slots[i] = (uint32_t)k + 1;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- walk */

/* Is root i below another configured root (so walking it again would duplicate)? */
static bool root_nested(const struct vg_fim_opts *o, size_t i)
{
    for (size_t j = 0; j < o->npaths; j++) {
        if (j == i) {
            continue;
        }
        struct vg_fim_opts one = {.paths = &o->paths[j], .npaths = 1};
        bool same = !strcmp(o->paths[i], o->paths[j]);
        if (vg_fim_in_scope(&one, o->paths[i]) && (!same || j < i)) {
            return true;
        }
    }
    return false;
}

static int ent_add(struct scan *s, const char *path, size_t len, const struct stat *st, int dirfd,
                   const char *name)
{
    if (vg_grow(&s->ents, &s->cap, s->n + 1, sizeof(*s->ents)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct scan_ent *e = &s->ents[s->n];
    memset(e, 0, sizeof(*e));
    vg_fim_rec_from_stat(&e->cur, st);
    if (!(e->cur.path = vg_arena_strndup(s->arena, path, len))) {
        return VG_ENOMEM;
    }
    if (S_ISLNK(st->st_mode)) {
        char t[PATH_MAX];
        ssize_t tn = readlinkat(dirfd, name, t, sizeof(t) - 1);
        if (tn >= 0 && !(e->cur.link = vg_arena_strndup(s->arena, t, (size_t)tn))) {
            return VG_ENOMEM;
        }
    }
    e->old = s->baseline ? -1 : base_find(&s->base, path, len);
    if (e->old >= 0) {
        s->base.seen[e->old] = true;
    }
    e->need_hash = vg_fim_need_hash(s->o, e->old >= 0 ? &s->base.v[e->old] : NULL, &e->cur);
    s->n++;
    return VG_OK;
}

static int walk_dir(struct scan *s, int dfd, char *path, size_t len, dev_t dev, int depth);

/* One directory entry: stat it, record it, descend into directories. */
static int walk_one(struct scan *s, int dfd, const char *name, char *path, size_t len, dev_t dev,
                    int depth)
{
    size_t nl = strlen(name);
    size_t sep = (len > 0 && path[len - 1] == '/') ? 0 : 1;
    if (len + sep + nl >= PATH_MAX) {
        atomic_fetch_add(&s->errors, 1);
        return VG_OK;
    }
    if (sep) {
        path[len] = '/';
    }
    memcpy(path + len + sep, name, nl + 1);
    size_t plen = len + sep + nl;
    if (vg_fim_excluded(s->o, path, plen)) {
        return VG_OK;
    }
    struct stat st;
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) {
            atomic_fetch_add(&s->errors, 1);
        }
        return VG_OK;
    }
    int rc = ent_add(s, path, plen, &st, dfd, name);
    if (rc == VG_OK && S_ISDIR(st.st_mode) && st.st_dev == dev) {
        int cfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0) {
            atomic_fetch_add(&s->errors, 1);
        } else {
            rc = walk_dir(s, cfd, path, plen, dev, depth + 1);
        }
    }
    path[len] = '\0';
    return rc;
}

/* Walk the open directory dfd (taken: closed here) whose path is path[0..len). */
static int walk_dir(struct scan *s, int dfd, char *path, size_t len, dev_t dev, int depth)
{
    if (depth > MAX_DEPTH) {
        VG_WARN(VG_FIM_COMP, "%s: deeper than %d levels, not descended", path, MAX_DEPTH);
        close(dfd);
        return VG_OK;
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        atomic_fetch_add(&s->errors, 1);
        return VG_OK;
    }
    int rc = VG_OK;
    struct dirent *de;
    while (rc == VG_OK && (de = readdir(d))) {
        const char *nm = de->d_name;
        if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0'))) {
            continue;
        }
        rc = walk_one(s, dirfd(d), nm, path, len, dev, depth);
    }
    closedir(d);
    return rc;
}

static int walk_root(struct scan *s, const char *root)
{
    char path[PATH_MAX];
    size_t len = vg_strlcpy(path, root, sizeof(path));
    struct stat st;
    if (len >= sizeof(path) || lstat(path, &st) != 0) {
        VG_DEBUG(VG_FIM_COMP, "%s: %s", root, strerror(errno));
        atomic_fetch_add(&s->errors, 1);
        return VG_OK; /* a missing root has no entries: its baseline records are removed */
    }
    int rc = ent_add(s, path, len, &st, AT_FDCWD, path);
    if (rc == VG_OK && S_ISDIR(st.st_mode)) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            atomic_fetch_add(&s->errors, 1);
        } else {
            rc = walk_dir(s, fd, path, len, st.st_dev, 0);
        }
    }
    return rc;
}

/* ---------------------------------------------------------------- hashing threads */

static void *hash_worker(void *arg)
{
    struct scan *s = arg;
    struct vg_fim_hasher *h = vg_fim_hasher_create();
    uint64_t bytes = 0, hashed = 0, errors = 0;
    size_t i;
    while (h && (i = atomic_fetch_add(&s->next, 1)) < s->ntodo) {
        struct scan_ent *e = &s->ents[s->todo[i]];
        int rc = vg_fim_hash_file(h, AT_FDCWD, e->cur.path, &e->cur, &bytes);
        if (rc == VG_OK) {
            hashed++;
        } else if (rc == VG_ENOENT) {
            e->gone = true;
        } else {
            errors++;
        }
    }
    if (!h) {
        errors++;
    }
    atomic_fetch_add(&s->bytes, bytes);
    atomic_fetch_add(&s->hashed, hashed);
    atomic_fetch_add(&s->errors, errors);
    vg_fim_hasher_destroy(h);
    return NULL;
}

static int hash_all(struct scan *s)
{
    s->todo = vg_malloc((s->n ? s->n : 1) * sizeof(*s->todo));
    if (!s->todo) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (s->ents[i].need_hash) {
            s->todo[s->ntodo++] = i;
        }
    }
    int nt = s->o->threads > 0 ? VG_MIN(s->o->threads, 64) : 2;
    pthread_t th[64];
    int started = 0;
    for (int t = 1; t < nt && (size_t)t < s->ntodo; t++) {
        if (pthread_create(&th[started], NULL, hash_worker, s) == 0) {
            started++;
        }
    }
    hash_worker(s); /* the calling thread is one of the workers */
    for (int t = 0; t < started; t++) {
        pthread_join(th[t], NULL);
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- compare and store */

static void report(struct scan *s, enum vg_fim_kind k, const struct vg_fim_rec *old,
                   const struct vg_fim_rec *cur, uint32_t changed)
{
    if (s->o->on_change) {
        struct vg_fim_change c = {.kind = k, .old = old, .cur = cur, .changed = changed};
        s->o->on_change(s->o->ctx, &c);
    }
}

static int settle_one(struct scan *s, struct scan_ent *e, bool store)
{
    const struct vg_fim_rec *old = e->old >= 0 ? &s->base.v[e->old] : NULL;
    if (e->gone) {
        if (old) {
            s->base.seen[e->old] = false; /* reported as removed below */
        }
        return VG_OK;
    }
    if (old && !e->need_hash && old->has_hash && S_ISREG(e->cur.mode)) {
        memcpy(e->cur.sha256, old->sha256, 32);
        e->cur.has_hash = true;
    }
    uint32_t ch = old ? vg_fim_rec_diff(old, &e->cur) : 0;
    if (!old) {
        s->r->added++;
        if (!s->baseline) {
            report(s, VG_FIM_CREATED, NULL, &e->cur, 0);
        }
    } else if (ch & ~(uint32_t)VG_FIM_CH_CTIME) {
        s->r->changed++;
        report(s, vg_fim_kind_of(ch), old, &e->cur, ch);
    }
    if (store && (!old || ch || (e->cur.has_hash && !old->has_hash))) {
        return vg_fim_db_put(s->db, &e->cur);
    }
    return VG_OK;
}

static int settle(struct scan *s, char *err, size_t errsz)
{
    bool store = s->baseline || s->o->update;
    int rc = store ? vg_fim_db_begin(s->db) : VG_OK;
    if (rc == VG_OK && s->baseline) {
        rc = vg_fim_db_clear(s->db);
    }
    for (size_t i = 0; rc == VG_OK && i < s->n; i++) {
        rc = settle_one(s, &s->ents[i], store);
    }
    for (size_t k = 0; rc == VG_OK && k < s->base.n; k++) {
        if (!s->base.seen[k]) {
            s->r->removed++;
            report(s, VG_FIM_DELETED, &s->base.v[k], NULL, 0);
            rc = store ? vg_fim_db_del(s->db, s->base.v[k].path) : VG_OK;
        }
    }
    if (rc == VG_OK && s->baseline) {
        rc = vg_fim_db_mark_baseline(s->db);
    }
    if (store && rc == VG_OK) {
        rc = vg_fim_db_commit(s->db);
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "fim baseline: %s", vg_fim_db_errmsg(s->db));
        if (store) {
            vg_fim_db_commit(s->db); /* ends the transaction; what was written stays */
        }
    }
    return rc;
}

int vg_fim_scan(struct vg_fim_db *db, const struct vg_fim_opts *o, bool baseline,
                struct vg_fim_result *r, char *err, size_t errsz)
{
    struct scan s = {.o = o, .db = db, .r = r, .baseline = baseline};
    int rc = VG_ENOMEM;
    if (!(s.arena = vg_arena_create(1 << 20))) {
        goto out;
    }
    for (size_t i = 0; !baseline && i < o->npaths; i++) {
        if (!root_nested(o, i) && (rc = vg_fim_db_each_under(db, o->paths[i], base_add, &s))) {
            snprintf(err, errsz, "fim baseline: reading: %s", vg_fim_db_errmsg(db));
            goto out;
        }
    }
    if ((rc = base_index(&s.base)) != VG_OK) {
        goto out;
    }
    for (size_t i = 0; i < o->npaths; i++) {
        if (!root_nested(o, i) && (rc = walk_root(&s, o->paths[i])) != VG_OK) {
            goto out;
        }
    }
    if ((rc = hash_all(&s)) != VG_OK) {
        goto out;
    }
    r->files += s.n;
    r->hashed += s.hashed;
    r->bytes_hashed += s.bytes;
    r->errors += s.errors;
    rc = settle(&s, err, errsz);
out:
    if (rc == VG_ENOMEM) {
        snprintf(err, errsz, "fim scan: out of memory");
    }
    vg_free(s.todo);
    vg_free(s.ents);
    vg_free(s.base.v);
    vg_free(s.base.seen);
    vg_free(s.base.slots);
    vg_arena_destroy(s.arena);
    return rc;
}

/* ---------------------------------------------------------------- public API */

static int opts_check(const struct vg_fim_opts *o, char *err, size_t errsz)
{
    if (!o || o->npaths == 0) {
        snprintf(err, errsz, "fim: no paths to scan");
        return VG_EINVAL;
    }
    for (size_t i = 0; i < o->npaths; i++) {
        if (!o->paths[i] || o->paths[i][0] != '/') {
            snprintf(err, errsz, "fim: path %zu is not absolute", i);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

int vg_fim_baseline(const struct vg_fim_opts *o, const char *db_path, struct vg_fim_result *r,
                    char *err, size_t errsz)
{
    struct vg_fim_db *db = NULL;
    memset(r, 0, sizeof(*r));
    int rc = opts_check(o, err, errsz);
    if (rc == VG_OK && (rc = vg_fim_db_open(db_path, true, &db, err, errsz)) == VG_OK) {
        rc = vg_fim_scan(db, o, true, r, err, errsz);
    }
    vg_fim_db_close(db);
    return rc;
}

int vg_fim_check(const struct vg_fim_opts *o, const char *db_path, struct vg_fim_result *r,
                 char *err, size_t errsz)
{
    struct vg_fim_db *db = NULL;
    memset(r, 0, sizeof(*r));
    int rc = opts_check(o, err, errsz);
    if (rc == VG_OK && access(db_path, F_OK) != 0) {
        snprintf(err, errsz, "%s: no baseline", db_path);
        rc = VG_ENOENT;
    }
    if (rc == VG_OK && (rc = vg_fim_db_open(db_path, false, &db, err, errsz)) == VG_OK) {
        if (!vg_fim_db_has_baseline(db)) {
            snprintf(err, errsz, "%s: no baseline", db_path);
            rc = VG_ENOENT;
        } else {
            rc = vg_fim_scan(db, o, false, r, err, errsz);
        }
    }
    vg_fim_db_close(db);
    return rc;
}
