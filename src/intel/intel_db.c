/*
 * intel_db.c — the indicator store on disk: the manifest, one file per source, imports as
 * transactions (write a new source file, fsync, rename, then the manifest), rewrites for
 * expiry and warninglist re-flagging, and the store's statistics. Snapshots (what matching
 * reads) are in intel_snap.c; the file layout is in intel_db_int.h.
 */
#include "intel/intel_db.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "intel/intel_csv.h"
#include "intel/intel_db_int.h"
#include "intel/intel_misp.h"
#include "intel/intel_stix.h"
#include "intel/intel_wl.h"

#define MANIFEST     "manifest.json"
#define MANIFEST_MAX (64u << 20)
#define IMPORT_MAX   (4ull << 30) /* largest document imported from a file */
#define MAX_OBJTYPES 256
#define DEFAULT_CONF 50

struct vg_intel_db {
    char *dir;
    int lockfd;
    struct vg_intel_wl *wl; /* DIR/wl lists, loaded on the first import that needs them */
    bool wl_loaded;
};

static int fail(char *err, size_t errsz, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, int rc, const char *fmt, ...)
{
    va_list ap;
    if (err && errsz) {
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---------------------------------------------------------------- source files */

int vgi_open(const char *path, struct vgi_file *f, char *err, size_t errsz)
{
    const uint8_t *p;
    uint64_t ri, oi;
    memset(f, 0, sizeof(*f));
    if (vg_file_map(path, &f->map) != VG_OK) {
        return fail(err, errsz, VG_EIO, "%s: %s", path, strerror(errno));
    }
    p = f->map.p;
    if (f->map.len < VGI_HDR || memcmp(p, VGI_MAGIC, 8) != 0 || vgi_u32(p + 8) != VGI_VERSION) {
        vgi_close(f);
        return fail(err, errsz, VG_EINVAL, "%s: not a Vigie intel source file", path);
    }
    f->nrec = vgi_u32(p + 12);
    f->nobj = vgi_u32(p + 16);
    ri = vgi_u64(p + 24);
    oi = vgi_u64(p + 32);
    if (ri > f->map.len || (f->map.len - ri) / 8 < f->nrec || oi > f->map.len ||
        (f->map.len - oi) / 8 < f->nobj) {
        vgi_close(f);
        return fail(err, errsz, VG_EINVAL, "%s: truncated index", path);
    }
    f->rec_index = p + ri;
    f->obj_index = p + oi;
    return VG_OK;
}

void vgi_close(struct vgi_file *f)
{
    if (f->map.p) {
        vg_file_unmap(&f->map);
    }
    memset(f, 0, sizeof(*f));
}

static int read_fields(const struct vgi_file *f, uint64_t off, size_t hdr, const uint8_t *lens,
                       unsigned nf, const char **out, uint16_t *n, uint64_t extra)
{
    uint64_t pos = off + hdr;
    for (unsigned k = 0; k < nf; k++) {
        n[k] = vgi_u16(lens + 2 * k);
        if (pos + n[k] > f->map.len) {
            return VG_EINVAL;
        }
        out[k] = (const char *)f->map.p + pos;
        pos += n[k];
    }
    return pos + extra > f->map.len ? VG_EINVAL : VG_OK;
}

int vgi_rec_get(const struct vgi_file *f, uint32_t i, struct vgi_rec *r)
{
    uint64_t off;
    const uint8_t *p;
    if (i >= f->nrec) {
        return VG_EINVAL;
    }
    off = vgi_u64(f->rec_index + 8ull * i);
    if (off > f->map.len || f->map.len - off < VGI_REC_HDR) {
        return VG_EINVAL;
    }
    p = f->map.p + off;
    r->type = p[0];
    r->flags = p[1];
    r->confidence = p[2];
    r->first_seen = vgi_u32(p + 4);
    r->last_seen = vgi_u32(p + 8);
    r->valid_until = vgi_u32(p + 12);
    if (r->type >= VG_INTEL_TYPE_COUNT) {
        return VG_EINVAL;
    }
    if (r->flags & VGI_FLAG_DEAD) {
        return VG_ENOENT;
    }
    return read_fields(f, off, VGI_REC_HDR, p + 16, VGI_NFIELDS, r->f, r->n, 0);
}

int vgi_obj_get(const struct vgi_file *f, uint32_t i, struct vgi_obj *o)
{
    uint64_t off;
    const uint8_t *p;
    int rc;
    if (i >= f->nobj) {
        return VG_EINVAL;
    }
    off = vgi_u64(f->obj_index + 8ull * i);
    if (off > f->map.len || f->map.len - off < VGI_OBJ_HDR) {
        return VG_EINVAL;
    }
    p = f->map.p + off;
    o->active = p[0] != 0;
    o->json_len = vgi_u32(p + 20);
    rc = read_fields(f, off, VGI_OBJ_HDR, p + 2, VGI_ONFIELDS, o->f, o->n, o->json_len);
    if (rc == VG_OK) {
        o->json = o->f[VGI_ONFIELDS - 1] + o->n[VGI_ONFIELDS - 1];
    }
    return rc;
}

int vgi_wl_hint(enum vg_intel_type t)
{
    switch (t) {
    case VG_INTEL_IPV4:
    case VG_INTEL_IPV6:
        return VG_INTEL_WL_HINT_IP;
    case VG_INTEL_DOMAIN:
        return VG_INTEL_WL_HINT_DOMAIN;
    case VG_INTEL_URL:
        return VG_INTEL_WL_HINT_URL;
    case VG_INTEL_EMAIL:
        return VG_INTEL_WL_HINT_EMAIL;
    case VG_INTEL_FILENAME:
        return VG_INTEL_WL_HINT_OTHER;
    default:
        return VG_INTEL_WL_HINT_HASH;
    }
}

void vgi_json_time(struct vg_sbuf *b, uint32_t t)
{
    char buf[48];
    vg_time_format((vg_time_t)t * 1000000000, buf, sizeof(buf));
    vg_sbuf_add_json_str(b, buf, strlen(buf));
}

/* ---------------------------------------------------------------- manifest */

static char *jdup(const struct vg_json *o, const char *key)
{
    const struct vg_json *v = vg_json_get(o, key);
    return v && v->type == VG_JSON_STRING ? vg_strndup(v->s, v->n) : vg_strdup("");
}

static uint64_t jnum(const struct vg_json *o, const char *key)
{
    const struct vg_json *v = vg_json_get(o, key);
    return v && v->type == VG_JSON_NUMBER && v->is_int && v->u.i > 0 ? (uint64_t)v->u.i : 0;
}

static char *jraw(const struct vg_json *o, const char *key)
{
    const struct vg_json *v = vg_json_get(o, key);
    struct vg_sbuf b = VG_SBUF_INIT;
    if (!v || v->type != VG_JSON_OBJECT) {
        return vg_strdup("{}");
    }
    vg_json_write(v, &b);
    return vg_sbuf_take(&b, NULL);
}

static int source_from_json(struct vgi_source *s, const struct vg_json *o)
{
    const struct vg_json *pol = vg_json_get(o, "policy"), *meta = vg_json_get(o, "meta");
    memset(s, 0, sizeof(*s));
    s->name = jdup(o, "name");
    s->file = jdup(o, "file");
    s->format = jdup(o, "format");
    s->origin = jdup(o, "origin");
    s->objtypes = jraw(o, "objects_by_type");
    s->rejected = jraw(o, "rejected");
    s->id = (uint32_t)jnum(o, "id");
    s->imported = (int64_t)jnum(o, "imported_unix");
    s->indicators = jnum(o, "indicators");
    s->objects = jnum(o, "objects");
    s->relationships = jnum(o, "relationships");
    s->warninglisted = jnum(o, "warninglisted");
    s->pol.confidence = DEFAULT_CONF;
    if (pol && pol->type == VG_JSON_OBJECT) {
        uint64_t c = jnum(pol, "confidence");
        s->pol.confidence = vg_json_get(pol, "confidence") ? (uint8_t)(c > 100 ? 100 : c) : 50;
        s->pol.half_life_s = (uint32_t)jnum(pol, "half_life_s");
        s->pol.max_age_s = (uint32_t)jnum(pol, "max_age_s");
    }
    for (uint32_t i = 0; meta && meta->type == VG_JSON_OBJECT && i < meta->n; i++) {
        const struct vg_json *k = &meta->u.items[2 * i], *v = &meta->u.items[2 * i + 1];
        if (v->type != VG_JSON_STRING || k->type != VG_JSON_STRING) {
            continue;
        }
        s->mkey = vg_realloc(s->mkey, (s->nmeta + 1) * sizeof(char *));
        s->mval = vg_realloc(s->mval, (s->nmeta + 1) * sizeof(char *));
        if (!s->mkey || !s->mval) {
            return VG_ENOMEM;
        }
        s->mkey[s->nmeta] = vg_strndup(k->s, k->n);
        s->mval[s->nmeta++] = vg_strndup(v->s, v->n);
    }
    return s->name && s->file && s->format && s->origin && s->objtypes && s->rejected ? VG_OK
                                                                                      : VG_ENOMEM;
}

static void source_fini(struct vgi_source *s)
{
    vg_free(s->name);
    vg_free(s->file);
    vg_free(s->format);
    vg_free(s->origin);
    vg_free(s->objtypes);
    vg_free(s->rejected);
    for (size_t i = 0; i < s->nmeta; i++) {
        vg_free(s->mkey[i]);
        vg_free(s->mval[i]);
    }
    vg_free(s->mkey);
    vg_free(s->mval);
    memset(s, 0, sizeof(*s));
}

void vgi_manifest_fini(struct vgi_manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        source_fini(&m->src[i]);
    }
    vg_free(m->src);
    memset(m, 0, sizeof(*m));
}

int vgi_manifest_read(const char *dir, struct vgi_manifest *m, char *err, size_t errsz)
{
    char path[4096], perr[160];
    char *text = NULL;
    size_t len = 0, used = 0;
    struct vg_json_parser *p = NULL;
    struct vg_arena *a = NULL;
    struct vg_json *doc = NULL;
    const struct vg_json *srcs;
    int rc;
    memset(m, 0, sizeof(*m));
    m->next_id = 1;
    snprintf(path, sizeof(path), "%s/%s", dir, MANIFEST);
    rc = vg_file_read(path, MANIFEST_MAX, &text, &len);
    if (rc == VG_ENOENT) {
        return VG_OK; /* an empty store */
    }
    if (rc != VG_OK) {
        return fail(err, errsz, rc, "%s: %s", path, vg_strerror(rc));
    }
    p = vg_json_parser_create(&(struct vg_json_limits){.max_depth = 16, .max_len = MANIFEST_MAX});
    a = vg_arena_create(64 * 1024);
    if (!p || !a) {
        rc = VG_ENOMEM;
        goto out;
    }
    if (vg_json_parse(p, a, text, len, &used, &doc, perr, sizeof(perr)) != VG_OK ||
        doc->type != VG_JSON_OBJECT) {
        rc = fail(err, errsz, VG_EINVAL, "%s: corrupt manifest (%s)", path, perr);
        goto out;
    }
    m->generation = jnum(doc, "generation");
    m->next_id = (uint32_t)jnum(doc, "next_id");
    m->next_id = m->next_id ? m->next_id : 1;
    srcs = vg_json_get(doc, "sources");
    if (srcs && srcs->type == VG_JSON_ARRAY && srcs->n) {
        m->src = vg_calloc(srcs->n, sizeof(*m->src));
        if (!m->src) {
            rc = VG_ENOMEM;
            goto out;
        }
        for (uint32_t i = 0; i < srcs->n && rc == VG_OK; i++) {
            rc = source_from_json(&m->src[m->n++], &srcs->u.items[i]);
        }
    }
out:
    if (rc != VG_OK) {
        vgi_manifest_fini(m);
    }
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    vg_free(text);
    return rc;
}

struct vgi_source *vgi_manifest_find(struct vgi_manifest *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++) {
        if (strcmp(m->src[i].name, name) == 0) {
            return &m->src[i];
        }
    }
    return NULL;
}

static void source_json(struct vg_sbuf *b, const struct vgi_source *s)
{
    vg_sbuf_adds(b, "{\"name\":");
    vg_sbuf_add_json_str(b, s->name, strlen(s->name));
    vg_sbuf_printf(b, ",\"id\":%u,\"file\":", s->id);
    vg_sbuf_add_json_str(b, s->file, strlen(s->file));
    vg_sbuf_adds(b, ",\"format\":");
    vg_sbuf_add_json_str(b, s->format, strlen(s->format));
    vg_sbuf_adds(b, ",\"origin\":");
    vg_sbuf_add_json_str(b, s->origin, strlen(s->origin));
    vg_sbuf_adds(b, ",\"imported\":");
    vgi_json_time(b, (uint32_t)s->imported);
    vg_sbuf_printf(b,
                   ",\"imported_unix\":%lld,\"indicators\":%llu,\"objects\":%llu,"
                   "\"relationships\":%llu,\"warninglisted\":%llu,\"objects_by_type\":%s,"
                   "\"rejected\":%s,\"policy\":{\"confidence\":%u,\"half_life_s\":%u,"
                   "\"max_age_s\":%u},\"meta\":{",
                   (long long)s->imported, (unsigned long long)s->indicators,
                   (unsigned long long)s->objects, (unsigned long long)s->relationships,
                   (unsigned long long)s->warninglisted, s->objtypes, s->rejected,
                   s->pol.confidence, s->pol.half_life_s, s->pol.max_age_s);
    for (size_t i = 0; i < s->nmeta; i++) {
        vg_sbuf_adds(b, i ? "," : "");
        vg_sbuf_add_json_str(b, s->mkey[i], strlen(s->mkey[i]));
        vg_sbuf_addc(b, ':');
        vg_sbuf_add_json_str(b, s->mval[i], strlen(s->mval[i]));
    }
    vg_sbuf_adds(b, "}}");
}

static int write_durable(const char *path, const void *p, size_t n, char *err, size_t errsz)
{
    char tmp[4200];
    int fd;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return fail(err, errsz, VG_EIO, "%s: %s", tmp, strerror(errno));
    }
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, (const char *)p + off, n - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return fail(err, errsz, e == ENOSPC ? VG_ENOSPC : VG_EIO, "%s: %s", tmp, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return fail(err, errsz, VG_EIO, "%s: %s", path, strerror(e));
    }
    return VG_OK;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int manifest_write(struct vg_intel_db *db, struct vgi_manifest *m, char *err, size_t errsz)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    char path[4096];
    int rc;
    m->generation++;
    vg_sbuf_printf(&b,
                   "{\"format\":\"vigie-intel\",\"version\":1,\"generation\":%llu,"
                   "\"next_id\":%u,\"sources\":[",
                   (unsigned long long)m->generation, m->next_id);
    for (size_t i = 0; i < m->n; i++) {
        vg_sbuf_adds(&b, i ? ",\n" : "\n");
        source_json(&b, &m->src[i]);
    }
    vg_sbuf_adds(&b, "]}\n");
    if (b.err) {
        vg_sbuf_fini(&b);
        return VG_ENOMEM;
    }
    snprintf(path, sizeof(path), "%s/%s", db->dir, MANIFEST);
    rc = write_durable(path, b.p, b.len, err, errsz);
    vg_sbuf_fini(&b);
    if (rc == VG_OK) {
        fsync_dir(db->dir);
    }
    return rc;
}

/* Delete source files that the manifest does not name (left by a crash or replaced). */
static void sweep_files(struct vg_intel_db *db, const struct vgi_manifest *m)
{
    DIR *d = opendir(db->dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        bool keep = strncmp(e->d_name, "src-", 4) != 0;
        for (size_t i = 0; !keep && i < m->n; i++) {
            keep = strcmp(m->src[i].file, e->d_name) == 0;
        }
        if (!keep) {
            char path[4200];
            snprintf(path, sizeof(path), "%s/%s", db->dir, e->d_name);
            unlink(path);
        }
    }
    if (d) {
        closedir(d);
    }
}

/* ---------------------------------------------------------------- open / close */

int vg_intel_db_open(const char *dir, bool create, struct vg_intel_db **out, char *err,
                     size_t errsz)
{
    struct vg_intel_db *db;
    char path[4096];
    struct stat st;
    *out = NULL;
    if (stat(dir, &st) != 0) {
        if (!create || errno != ENOENT) {
            return fail(err, errsz, VG_ENOENT, "%s: %s", dir, strerror(errno));
        }
        if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
            return fail(err, errsz, VG_EIO, "%s: cannot create: %s", dir, strerror(errno));
        }
    } else if (!S_ISDIR(st.st_mode)) {
        return fail(err, errsz, VG_EINVAL, "%s: not a directory", dir);
    }
    db = vg_calloc(1, sizeof(*db));
    if (!db || !(db->dir = vg_strdup(dir))) {
        vg_free(db);
        return VG_ENOMEM;
    }
    snprintf(path, sizeof(path), "%s/lock", dir);
    db->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (db->lockfd < 0) {
        /* a read-only store can still be loaded and matched */
        db->lockfd = -1;
    }
    *out = db;
    return VG_OK;
}

void vg_intel_db_close(struct vg_intel_db *db)
{
    if (!db) {
        return;
    }
    if (db->lockfd >= 0) {
        close(db->lockfd);
    }
    vg_intel_wl_destroy(db->wl);
    vg_free(db->dir);
    vg_free(db);
}

const char *vg_intel_db_dir(const struct vg_intel_db *db)
{
    return db->dir;
}

uint64_t vg_intel_db_generation(const struct vg_intel_db *db)
{
    struct vgi_manifest m;
    uint64_t g;
    if (vgi_manifest_read(db->dir, &m, NULL, 0) != VG_OK) {
        return 0;
    }
    g = m.generation;
    vgi_manifest_fini(&m);
    return g;
}

static int lock_db(struct vg_intel_db *db, char *err, size_t errsz)
{
    if (db->lockfd < 0) {
        return fail(err, errsz, VG_EIO, "%s: store is read-only (cannot open its lock file)",
                    db->dir);
    }
    while (flock(db->lockfd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            return fail(err, errsz, VG_EIO, "%s/lock: %s", db->dir, strerror(errno));
        }
    }
    return VG_OK;
}

static void unlock_db(struct vg_intel_db *db)
{
    if (db->lockfd >= 0) {
        flock(db->lockfd, LOCK_UN);
    }
}

/* Load DIR/wl/ (the warninglists imported into the store) once. */
static int load_wl(struct vg_intel_db *db, char *err, size_t errsz)
{
    char path[4096];
    struct stat st;
    if (db->wl_loaded) {
        return VG_OK;
    }
    snprintf(path, sizeof(path), "%s/wl", db->dir);
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        int rc = vg_intel_wl_load_dir(path, &db->wl, err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
        if (vg_intel_wl_count(db->wl) == 0) {
            vg_intel_wl_destroy(db->wl);
            db->wl = NULL;
        }
    }
    db->wl_loaded = true;
    return VG_OK;
}

/* ---------------------------------------------------------------- transactions */

struct objtype {
    char name[48];
    uint64_t count, active;
};

struct kent {
    uint64_t key;
    uint32_t idx; /* record index in the file being written */
    uint8_t type, flags, expired, pad;
};

struct vg_intel_txn {
    struct vg_intel_db *db;
    struct vgi_manifest m;
    char source[64];
    char *origin;
    enum vg_intel_format fmt;
    unsigned flags;
    struct vg_intel_policy pol;
    uint32_t now;
    char path[4200];
    FILE *f;
    uint64_t off;
    uint64_t synced;  /* bytes handed to background writeback */
    int werr;         /* first write error */
    bool keep_counts; /* rewrite: keep the import's object counts and rejections */
    uint64_t *recs;
    size_t nrec, rec_cap;
    uint64_t *objs;
    size_t nobj, obj_cap;
    /* (type, value) key of every record written, in order; sorted at commit to find the
     * duplicates (a sort touches memory in order, a hash set misses the cache per record) */
    struct kent *kv;
    size_t nkv, kv_cap;
    bool kv_sorted;
    /* object id hashes (APPEND: keep old objects not replaced) */
    uint64_t *oids;
    size_t noids, oid_cap;
    struct objtype types[MAX_OBJTYPES];
    unsigned ntypes;
    size_t nmeta;
    char *mkey[16], *mval[16];
    struct vg_intel_import_report rep;
    struct vg_sbuf scratch;
    struct vg_intel_sink sink;
};

/*
 * Every WRITEBACK_STEP bytes, start writing the file out in the background, so the fsync at
 * commit finds little left to do (the import keeps parsing while the disk works).
 */
#define WRITEBACK_STEP (8u << 20)

static void put_bytes(struct vg_intel_txn *t, const void *p, size_t n)
{
    if (n && !t->werr && fwrite(p, 1, n, t->f) != n) {
        t->werr = errno ? errno : EIO;
    }
    t->off += n;
    if (t->off - t->synced >= WRITEBACK_STEP && !t->werr && fflush(t->f) == 0) {
        (void)sync_file_range(fileno(t->f), (off64_t)t->synced, (off64_t)(t->off - t->synced),
                              SYNC_FILE_RANGE_WRITE);
        t->synced = t->off;
    }
}

static void put_u16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, v);
    put_u32(p + 4, v >> 32);
}

static void pad8(struct vg_intel_txn *t)
{
    static const uint8_t zero[8];
    put_bytes(t, zero, (8 - t->off % 8) % 8);
}

static int push_off(uint64_t **v, size_t *n, size_t *cap, uint64_t off)
{
    if (vg_grow(v, cap, *n + 1, sizeof(**v))) {
        return VG_ENOMEM;
    }
    (*v)[(*n)++] = off;
    return VG_OK;
}

/* Write one record (fields already bounded to VGI_FIELD_MAX). */
static int put_rec(struct vg_intel_txn *t, const struct vgi_rec *r)
{
    uint8_t h[VGI_REC_HDR] = {r->type, r->flags, r->confidence, 0};
    pad8(t);
    if (push_off(&t->recs, &t->nrec, &t->rec_cap, t->off)) {
        return VG_ENOMEM;
    }
    put_u32(h + 4, r->first_seen);
    put_u32(h + 8, r->last_seen);
    put_u32(h + 12, r->valid_until);
    for (int k = 0; k < VGI_NFIELDS; k++) {
        put_u16(h + 16 + 2 * k, r->n[k]);
    }
    {
        /* one write per record: header and fields assembled here (most records are small) */
        uint8_t buf[1024];
        size_t len = sizeof(h);
        memcpy(buf, h, sizeof(h));
        for (int k = 0; k < VGI_NFIELDS && len <= sizeof(buf); k++) {
            if (len + r->n[k] > sizeof(buf)) {
                len = sizeof(buf) + 1;
                break;
            }
            memcpy(buf + len, r->f[k], r->n[k]);
            len += r->n[k];
        }
        if (len <= sizeof(buf)) {
            put_bytes(t, buf, len);
            return t->werr ? VG_EIO : VG_OK;
        }
    }
    put_bytes(t, h, sizeof(h));
    for (int k = 0; k < VGI_NFIELDS; k++) {
        put_bytes(t, r->f[k], r->n[k]);
    }
    return t->werr ? VG_EIO : VG_OK;
}

static int put_obj(struct vg_intel_txn *t, const struct vgi_obj *o)
{
    uint8_t h[VGI_OBJ_HDR] = {o->active ? 1 : 0, 0};
    pad8(t);
    if (push_off(&t->objs, &t->nobj, &t->obj_cap, t->off)) {
        return VG_ENOMEM;
    }
    for (int k = 0; k < VGI_ONFIELDS; k++) {
        put_u16(h + 2 + 2 * k, o->n[k]);
    }
    put_u32(h + 20, o->json_len);
    put_bytes(t, h, sizeof(h));
    for (int k = 0; k < VGI_ONFIELDS; k++) {
        put_bytes(t, o->f[k], o->n[k]);
    }
    put_bytes(t, o->json, o->json_len);
    return t->werr ? VG_EIO : VG_OK;
}

/* Insert key into an open-addressing set; false if it was there. */
static int key_insert(uint64_t **tab, size_t *n, size_t *cap, uint64_t k, bool *fresh)
{
    k = k ? k : 1;
    if ((*n + 1) * 3 >= *cap * 2) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        uint64_t *nt = vg_calloc(ncap, sizeof(uint64_t));
        if (!nt) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < *cap; i++) {
            if ((*tab)[i]) {
                size_t j = vg_hash_mix((*tab)[i]) & (ncap - 1);
                while (nt[j]) {
                    j = (j + 1) & (ncap - 1);
                }
                nt[j] = (*tab)[i];
            }
        }
        vg_free(*tab);
        *tab = nt;
        *cap = ncap;
    }
    for (size_t j = vg_hash_mix(k) & (*cap - 1);; j = (j + 1) & (*cap - 1)) {
        if ((*tab)[j] == k) {
            *fresh = false;
            return VG_OK;
        }
        if (!(*tab)[j]) {
            (*tab)[j] = k;
            (*n)++;
            *fresh = true;
            return VG_OK;
        }
    }
}

static bool key_has(const uint64_t *tab, size_t cap, uint64_t k)
{
    k = k ? k : 1;
    for (size_t j = cap ? vg_hash_mix(k) & (cap - 1) : 0; cap; j = (j + 1) & (cap - 1)) {
        if (tab[j] == k) {
            return true;
        }
        if (!tab[j]) {
            return false;
        }
    }
    return false;
}

static void note_reject(struct vg_intel_txn *t, enum vg_intel_reject why, const char *where,
                        const char *reason)
{
    if ((unsigned)why >= VG_INTEL_REJ_COUNT) {
        return;
    }
    if (t->rep.rejected[why]++ == 0) {
        struct vg_sbuf b = VG_SBUF_INIT;
        vg_sbuf_printf(&b, "%s: %s", where, reason);
        snprintf(t->rep.first_reject[why], sizeof(t->rep.first_reject[why]), "%s", b.p ? b.p : "");
        vg_sbuf_fini(&b);
    }
}

static void sink_reject(void *u, enum vg_intel_reject why, const char *where, const char *reason)
{
    note_reject(u, why, where, reason);
}

static size_t clamp16(size_t n)
{
    return n > VGI_FIELD_MAX ? VGI_FIELD_MAX : n;
}

/* Warninglist keys hit by a value, comma-separated into t->scratch; returns the count. */
static int wl_flag(struct vg_intel_txn *t, enum vg_intel_type type, const char *v, size_t n)
{
    struct vg_intel_wl_hit hit;
    int k;
    vg_sbuf_reset(&t->scratch);
    if (!t->db->wl) {
        return 0;
    }
    k = vg_intel_wl_match(t->db->wl, v, n, (enum vg_intel_wl_hint)vgi_wl_hint(type), &hit);
    for (uint32_t i = 0; k > 0 && i < hit.n; i++) {
        const char *key = vg_intel_wl_list_key(t->db->wl, hit.ids[i]);
        vg_sbuf_adds(&t->scratch, i ? "," : "");
        vg_sbuf_adds(&t->scratch, key);
    }
    return k > 0 ? k : 0;
}

/* Policy and warninglists applied to a record about to be written. */
static void finish_rec(struct vg_intel_txn *t, struct vgi_rec *r)
{
    if (!r->valid_until && t->pol.max_age_s) {
        uint32_t base = r->last_seen ? r->last_seen : r->first_seen ? r->first_seen : t->now;
        r->valid_until = base + t->pol.max_age_s;
    }
    r->flags &= (uint8_t)~VG_INTEL_F_WARNINGLISTED;
    if (wl_flag(t, (enum vg_intel_type)r->type, r->f[VGI_F_VALUE], r->n[VGI_F_VALUE]) > 0) {
        r->flags |= VG_INTEL_F_WARNINGLISTED;
    }
    r->f[VGI_F_WL] = t->scratch.p ? t->scratch.p : "";
    r->n[VGI_F_WL] = (uint16_t)clamp16(t->scratch.len);
}

static void count_rec(struct vg_intel_txn *t, const struct vgi_rec *r)
{
    t->rep.indicators++;
    t->rep.by_type[r->type]++;
    t->rep.warninglisted += (r->flags & VG_INTEL_F_WARNINGLISTED) != 0;
    t->rep.expired += r->valid_until && r->valid_until <= t->now;
}

static int sink_indicator(void *u, const struct vg_intel_rec *in)
{
    struct vg_intel_txn *t = u;
    struct vgi_rec r = {0};
    char verr[200];
    uint64_t key;
    int rc;
    if ((unsigned)in->type >= VG_INTEL_TYPE_COUNT) {
        note_reject(t, VG_INTEL_REJ_UNSUPPORTED, "indicator", "unknown indicator type");
        return VG_OK;
    }
    rc = vg_intel_value_key(in->type, in->value, in->value_len, &key, verr, sizeof(verr));
    if (rc != VG_OK) {
        char where[160];
        snprintf(where, sizeof(where), "%.*s", (int)(in->ref_len > 120 ? 120 : in->ref_len),
                 in->ref ? in->ref : "");
        note_reject(t, VG_INTEL_REJ_MALFORMED, where[0] ? where : "indicator", verr);
        return VG_OK;
    }
    r.type = (uint8_t)in->type;
    r.flags = in->flags & (VG_INTEL_F_SUBDOMAINS | VG_INTEL_F_NO_DECAY);
    r.confidence = in->confidence <= 100 ? in->confidence : t->pol.confidence;
    r.first_seen = in->first_seen;
    r.last_seen = in->last_seen ? in->last_seen : in->first_seen;
    r.valid_until = in->valid_until;
    r.f[VGI_F_VALUE] = in->value;
    r.n[VGI_F_VALUE] = (uint16_t)clamp16(in->value_len);
    r.f[VGI_F_REF] = in->ref ? in->ref : "";
    r.n[VGI_F_REF] = (uint16_t)clamp16(in->ref ? in->ref_len : 0);
    r.f[VGI_F_NAME] = in->name ? in->name : "";
    r.n[VGI_F_NAME] = (uint16_t)clamp16(in->name ? in->name_len : 0);
    r.f[VGI_F_TAGS] = in->tags ? in->tags : "";
    r.n[VGI_F_TAGS] = (uint16_t)clamp16(in->tags ? in->tags_len : 0);
    r.f[VGI_F_RELATED] = in->related ? in->related : "";
    r.n[VGI_F_RELATED] = (uint16_t)clamp16(in->related ? in->related_len : 0);
    finish_rec(t, &r);
    if (vg_grow(&t->kv, &t->kv_cap, t->nkv + 1, sizeof(*t->kv))) {
        return VG_ENOMEM;
    }
    t->kv[t->nkv++] = (struct kent){
        key, (uint32_t)t->nrec, r.type, r.flags, r.valid_until && r.valid_until <= t->now, 0};
    count_rec(t, &r);
    return put_rec(t, &r);
}

/* Add count/active to the entry for type in types[0..*n) (a new entry if there is room). */
static void objtype_add(struct objtype *types, unsigned *n, const char *type, size_t len,
                        uint64_t count, uint64_t active)
{
    unsigned i;
    len = len >= sizeof(types[0].name) ? sizeof(types[0].name) - 1 : len;
    for (i = 0; i < *n; i++) {
        if (strlen(types[i].name) == len && memcmp(types[i].name, type, len) == 0) {
            break;
        }
    }
    if (i == *n) {
        if (*n == MAX_OBJTYPES) {
            return;
        }
        memcpy(types[i].name, type, len);
        types[i].name[len] = 0;
        (*n)++;
    }
    types[i].count += count;
    types[i].active += active;
}

static void count_objtype(struct vg_intel_txn *t, const char *type, size_t n, bool active)
{
    objtype_add(t->types, &t->ntypes, type, n, 1, active);
}

static int sink_object(void *u, const struct vg_intel_obj *in)
{
    struct vg_intel_txn *t = u;
    struct vgi_obj o = {.active = in->active, .json = in->json, .json_len = 0};
    bool fresh = true;
    int rc;
    count_objtype(t, in->type, in->type_len, in->active);
    t->rep.objects++;
    if (in->rel_src_len) {
        t->rep.relationships++;
    }
    if (vg_str_eq(in->type, in->type_len, "indicator", 9)) {
        return VG_OK; /* its records hold what matching needs */
    }
    if ((rc = key_insert(&t->oids, &t->noids, &t->oid_cap, vg_hash64(in->id, in->id_len, 7),
                         &fresh)) != VG_OK) {
        return rc;
    }
    o.f[VGI_O_ID] = in->id;
    o.n[VGI_O_ID] = (uint16_t)clamp16(in->id_len);
    o.f[VGI_O_TYPE] = in->type;
    o.n[VGI_O_TYPE] = (uint16_t)clamp16(in->type_len);
    o.f[VGI_O_NAME] = in->name ? in->name : "";
    o.n[VGI_O_NAME] = (uint16_t)clamp16(in->name ? in->name_len : 0);
    o.f[VGI_O_EXT] = in->ext_id ? in->ext_id : "";
    o.n[VGI_O_EXT] = (uint16_t)clamp16(in->ext_id ? in->ext_id_len : 0);
    o.f[VGI_O_SRC] = in->rel_src ? in->rel_src : "";
    o.n[VGI_O_SRC] = (uint16_t)clamp16(in->rel_src ? in->rel_src_len : 0);
    o.f[VGI_O_RTYPE] = in->rel_type ? in->rel_type : "";
    o.n[VGI_O_RTYPE] = (uint16_t)clamp16(in->rel_type ? in->rel_type_len : 0);
    o.f[VGI_O_DST] = in->rel_dst ? in->rel_dst : "";
    o.n[VGI_O_DST] = (uint16_t)clamp16(in->rel_dst ? in->rel_dst_len : 0);
    o.json = in->json ? in->json : "";
    o.json_len = in->json && in->json_len < (16u << 20) ? (uint32_t)in->json_len : 0;
    return put_obj(t, &o);
}

static void txn_free(struct vg_intel_txn *t)
{
    if (t->f) {
        fclose(t->f);
        unlink(t->path);
    }
    vgi_manifest_fini(&t->m);
    for (size_t i = 0; i < t->nmeta; i++) {
        vg_free(t->mkey[i]);
        vg_free(t->mval[i]);
    }
    vg_free(t->origin);
    vg_free(t->recs);
    vg_free(t->objs);
    vg_free(t->kv);
    vg_free(t->oids);
    vg_sbuf_fini(&t->scratch);
    vg_free(t);
}

static bool valid_source_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n >= 64 || s[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}

int vg_intel_db_begin(struct vg_intel_db *db, const char *source, enum vg_intel_format fmt,
                      const char *origin, unsigned txn_flags, struct vg_intel_txn **out, char *err,
                      size_t errsz)
{
    struct vg_intel_txn *t;
    struct vgi_source *old;
    uint8_t hdr[VGI_HDR] = {0};
    int rc;
    *out = NULL;
    if (!source || !valid_source_name(source)) {
        return fail(err, errsz, VG_EINVAL,
                    "source name '%s' is not valid (1-63 of A-Z a-z 0-9 - _ ., not starting "
                    "with '.')",
                    source ? source : "");
    }
    if ((rc = lock_db(db, err, errsz)) != VG_OK) {
        return rc;
    }
    t = vg_calloc(1, sizeof(*t));
    if (!t) {
        unlock_db(db);
        return VG_ENOMEM;
    }
    t->db = db;
    t->fmt = fmt;
    t->flags = txn_flags;
    t->now = (uint32_t)time(NULL);
    t->pol.confidence = DEFAULT_CONF;
    snprintf(t->source, sizeof(t->source), "%s", source);
    t->origin = vg_strdup(origin ? origin : "");
    if (!t->origin) {
        rc = VG_ENOMEM;
        goto fail;
    }
    if ((rc = vgi_manifest_read(db->dir, &t->m, err, errsz)) != VG_OK ||
        (rc = load_wl(db, err, errsz)) != VG_OK) {
        goto fail;
    }
    if ((old = vgi_manifest_find(&t->m, source)) != NULL) {
        t->pol = old->pol;
    }
    snprintf(t->path, sizeof(t->path), "%s/.import-%s.tmp", db->dir, source);
    t->f = fopen(t->path, "wbe");
    if (!t->f) {
        rc = fail(err, errsz, VG_EIO, "%s: %s", t->path, strerror(errno));
        goto fail;
    }
    setvbuf(t->f, NULL, _IOFBF, 1 << 20);
    put_bytes(t, hdr, sizeof(hdr));
    snprintf(t->rep.source, sizeof(t->rep.source), "%s", source);
    t->rep.format = fmt;
    t->sink = (struct vg_intel_sink){t, sink_indicator, sink_object, sink_reject};
    *out = t;
    return VG_OK;
fail:
    txn_free(t);
    unlock_db(db);
    return rc;
}

const struct vg_intel_sink *vg_intel_txn_sink(struct vg_intel_txn *t)
{
    return &t->sink;
}

int vg_intel_txn_set_meta(struct vg_intel_txn *t, const char *key, const char *value)
{
    for (size_t i = 0; i < t->nmeta; i++) {
        if (strcmp(t->mkey[i], key) == 0) {
            char *v = vg_strdup(value);
            if (!v) {
                return VG_ENOMEM;
            }
            vg_free(t->mval[i]);
            t->mval[i] = v;
            return VG_OK;
        }
    }
    if (t->nmeta == 16) {
        return VG_ELIMIT;
    }
    t->mkey[t->nmeta] = vg_strdup(key);
    t->mval[t->nmeta] = vg_strdup(value);
    if (!t->mkey[t->nmeta] || !t->mval[t->nmeta]) {
        vg_free(t->mkey[t->nmeta]);
        vg_free(t->mval[t->nmeta]);
        return VG_ENOMEM;
    }
    t->nmeta++;
    return VG_OK;
}

void vg_intel_txn_abort(struct vg_intel_txn *t)
{
    if (t) {
        struct vg_intel_db *db = t->db;
        txn_free(t);
        unlock_db(db);
    }
}

/* Stable LSD radix sort of the keys (16-bit digits): equal keys keep their write order. */
static int kv_sort(struct vg_intel_txn *t)
{
    struct kent *tmp;
    size_t *count;
    if (t->kv_sorted || t->nkv < 2) {
        t->kv_sorted = true;
        return VG_OK;
    }
    tmp = vg_malloc(t->nkv * sizeof(*tmp));
    count = vg_malloc(65536 * sizeof(*count));
    if (!tmp || !count) {
        vg_free(tmp);
        vg_free(count);
        return VG_ENOMEM;
    }
    for (unsigned shift = 0; shift < 64; shift += 16) {
        size_t sum = 0;
        memset(count, 0, 65536 * sizeof(*count));
        for (size_t i = 0; i < t->nkv; i++) {
            count[(t->kv[i].key >> shift) & 0xffff]++;
        }
        for (size_t d = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < t->nkv; i++) {
            tmp[count[(t->kv[i].key >> shift) & 0xffff]++] = t->kv[i];
        }
        struct kent *sw = t->kv;
        t->kv = tmp;
        tmp = sw;
    }
    vg_free(tmp);
    vg_free(count);
    t->kv_sorted = true;
    return VG_OK;
}

static bool kv_has(const struct vg_intel_txn *t, uint64_t key)
{
    size_t lo = 0, hi = t->nkv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->kv[mid].key < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < t->nkv && t->kv[lo].key == key;
}

/*
 * The second and later records of one (type, value) are marked dead in the file (flag byte
 * rewritten in place) and taken out of the counts: the first occurrence in the document wins.
 */
static int kv_dedupe(struct vg_intel_txn *t)
{
    int rc = kv_sort(t);
    if (rc != VG_OK || t->werr || fflush(t->f) != 0) {
        return rc != VG_OK ? rc : VG_EIO;
    }
    for (size_t i = 1; i < t->nkv; i++) {
        const struct kent *e = &t->kv[i];
        uint8_t fl = (uint8_t)(e->flags | VGI_FLAG_DEAD);
        if (e->key != t->kv[i - 1].key) {
            continue;
        }
        if (pwrite(fileno(t->f), &fl, 1, (off_t)t->recs[e->idx] + 1) != 1) {
            return VG_EIO;
        }
        t->rep.duplicates++;
        t->rep.indicators--;
        t->rep.by_type[e->type]--;
        t->rep.warninglisted -= (e->flags & VG_INTEL_F_WARNINGLISTED) != 0;
        t->rep.expired -= e->expired;
    }
    return VG_OK;
}

/* APPEND: the previous generation's records and objects that the new data did not replace. */
static int carry_old(struct vg_intel_txn *t, const struct vgi_source *old)
{
    char path[4200];
    struct vgi_file f;
    int rc;
    snprintf(path, sizeof(path), "%s/%s", t->db->dir, old->file);
    if ((rc = vgi_open(path, &f, NULL, 0)) != VG_OK) {
        return rc;
    }
    for (uint32_t i = 0; i < f.nrec && rc == VG_OK; i++) {
        struct vgi_rec r;
        uint64_t key;
        char verr[8];
        if (vgi_rec_get(&f, i, &r) != VG_OK ||
            vg_intel_value_key((enum vg_intel_type)r.type, r.f[0], r.n[0], &key, verr,
                               sizeof(verr)) != VG_OK) {
            continue;
        }
        if (!kv_has(t, key)) {
            finish_rec(t, &r);
            count_rec(t, &r);
            rc = put_rec(t, &r);
        }
    }
    for (uint32_t i = 0; i < f.nobj && rc == VG_OK; i++) {
        struct vgi_obj o;
        if (vgi_obj_get(&f, i, &o) == VG_OK &&
            !key_has(t->oids, t->oid_cap, vg_hash64(o.f[0], o.n[0], 7))) {
            /* the source's counts cover what it holds, not only this pull */
            count_objtype(t, o.f[VGI_O_TYPE], o.n[VGI_O_TYPE], o.active);
            t->rep.objects++;
            t->rep.relationships += o.n[VGI_O_SRC] != 0;
            rc = put_obj(t, &o);
        }
    }
    vgi_close(&f);
    return rc;
}

static char *objtypes_json(const struct vg_intel_txn *t)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_sbuf_addc(&b, '{');
    for (unsigned i = 0; i < t->ntypes; i++) {
        vg_sbuf_adds(&b, i ? "," : "");
        vg_sbuf_add_json_str(&b, t->types[i].name, strlen(t->types[i].name));
        vg_sbuf_printf(&b, ":{\"count\":%llu,\"active\":%llu}",
                       (unsigned long long)t->types[i].count,
                       (unsigned long long)t->types[i].active);
    }
    vg_sbuf_addc(&b, '}');
    return vg_sbuf_take(&b, NULL);
}

static const char *const reject_names[VG_INTEL_REJ_COUNT] = {"malformed", "compound", "unsupported",
                                                             "not_ids", "revoked"};

static char *rejected_json(const struct vg_intel_import_report *rep)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_sbuf_addc(&b, '{');
    for (int i = 0; i < VG_INTEL_REJ_COUNT; i++) {
        vg_sbuf_printf(&b, "%s\"%s\":%llu", i ? "," : "", reject_names[i],
                       (unsigned long long)rep->rejected[i]);
    }
    vg_sbuf_adds(&b, ",\"first\":{");
    for (int i = 0, k = 0; i < VG_INTEL_REJ_COUNT; i++) {
        if (rep->rejected[i]) {
            vg_sbuf_printf(&b, "%s\"%s\":", k++ ? "," : "", reject_names[i]);
            vg_sbuf_add_json_str(&b, rep->first_reject[i], strlen(rep->first_reject[i]));
        }
    }
    vg_sbuf_adds(&b, "}}");
    return vg_sbuf_take(&b, NULL);
}

/* Finish the source file: indexes, header, fsync, rename to its final name. */
static int seal_file(struct vg_intel_txn *t, const char *final, char *err, size_t errsz)
{
    uint8_t hdr[VGI_HDR] = {0}, b8[8];
    uint64_t ri, oi;
    pad8(t);
    ri = t->off;
    for (size_t i = 0; i < t->nrec; i++) {
        put_u64(b8, t->recs[i]);
        put_bytes(t, b8, 8);
    }
    oi = t->off;
    for (size_t i = 0; i < t->nobj; i++) {
        put_u64(b8, t->objs[i]);
        put_bytes(t, b8, 8);
    }
    memcpy(hdr, VGI_MAGIC, 8);
    put_u32(hdr + 8, VGI_VERSION);
    put_u32(hdr + 12, t->nrec);
    put_u32(hdr + 16, t->nobj);
    put_u64(hdr + 24, ri);
    put_u64(hdr + 32, oi);
    if (!t->werr && (fflush(t->f) != 0 || fseek(t->f, 0, SEEK_SET) != 0 ||
                     fwrite(hdr, 1, sizeof(hdr), t->f) != sizeof(hdr) || fflush(t->f) != 0 ||
                     fsync(fileno(t->f)) != 0)) {
        t->werr = errno ? errno : EIO;
    }
    if (fclose(t->f) != 0 && !t->werr) {
        t->werr = errno ? errno : EIO;
    }
    t->f = NULL;
    if (t->werr || rename(t->path, final) != 0) {
        int e = t->werr ? t->werr : errno;
        unlink(t->path);
        return fail(err, errsz, e == ENOSPC ? VG_ENOSPC : VG_EIO, "%s: %s", final, strerror(e));
    }
    return VG_OK;
}

int vg_intel_txn_commit(struct vg_intel_txn *t, struct vg_intel_import_report *rep, char *err,
                        size_t errsz)
{
    struct vgi_source *old = vgi_manifest_find(&t->m, t->source), fresh = {0}, *s;
    struct vg_intel_db *db = t->db;
    char final[4200], name[96];
    uint64_t t0 = vg_clock_ns();
    int rc = VG_OK;
    if (t->nrec > UINT32_MAX / 2 || t->nobj > UINT32_MAX / 2) {
        rc = fail(err, errsz, VG_ELIMIT, "%s: too many records", t->source);
        goto out;
    }
    if ((rc = kv_dedupe(t)) != VG_OK) {
        rc = fail(err, errsz, rc, "%s: %s", t->path, vg_strerror(rc));
        goto out;
    }
    if (old && (t->flags & VG_INTEL_TXN_APPEND) && (rc = carry_old(t, old)) != VG_OK) {
        rc = fail(err, errsz, rc, "%s: cannot carry the previous generation over: %s", t->source,
                  vg_strerror(rc));
        goto out;
    }
    if (!old) {
        t->m.src = vg_realloc(t->m.src, (t->m.n + 1) * sizeof(*t->m.src));
        if (!t->m.src) {
            rc = VG_ENOMEM;
            goto out;
        }
        fresh.id = t->m.next_id++;
        old = &t->m.src[t->m.n++];
        *old = fresh;
    } else {
        vg_free(old->file);
        vg_free(old->format);
        vg_free(old->origin);
        old->file = old->format = old->origin = NULL;
        if (!t->keep_counts) {
            vg_free(old->objtypes);
            vg_free(old->rejected);
            old->objtypes = old->rejected = NULL;
        }
    }
    s = old;
    snprintf(name, sizeof(name), "src-%u-%llu.vgi", s->id, (unsigned long long)t->m.generation + 1);
    snprintf(final, sizeof(final), "%s/%s", db->dir, name);
    if ((rc = seal_file(t, final, err, errsz)) != VG_OK) {
        goto out;
    }
    if (!s->name) {
        s->name = vg_strdup(t->source);
    }
    s->file = vg_strdup(name);
    s->format = vg_strdup(vg_intel_format_name(t->fmt));
    s->origin = vg_strdup(t->origin);
    if (!t->keep_counts || !s->objtypes) {
        s->objtypes = objtypes_json(t);
        s->rejected = rejected_json(&t->rep);
    }
    s->imported = t->now;
    s->pol = t->pol;
    s->indicators = t->rep.indicators;
    s->objects = t->rep.objects;
    s->relationships = t->rep.relationships;
    s->warninglisted = t->rep.warninglisted;
    for (size_t i = 0; i < t->nmeta; i++) {
        size_t k;
        for (k = 0; k < s->nmeta && strcmp(s->mkey[k], t->mkey[i]) != 0; k++) {
        }
        if (k == s->nmeta) {
            s->mkey = vg_realloc(s->mkey, (s->nmeta + 1) * sizeof(char *));
            s->mval = vg_realloc(s->mval, (s->nmeta + 1) * sizeof(char *));
            if (!s->mkey || !s->mval) {
                rc = VG_ENOMEM;
                goto out;
            }
            s->mkey[s->nmeta] = t->mkey[i];
            s->mval[s->nmeta++] = t->mval[i];
        } else {
            vg_free(s->mval[k]);
            vg_free(t->mkey[i]);
            s->mval[k] = t->mval[i];
        }
        t->mkey[i] = t->mval[i] = NULL;
    }
    t->nmeta = 0;
    if (!s->name || !s->file || !s->format || !s->origin || !s->objtypes || !s->rejected) {
        rc = VG_ENOMEM;
        goto out;
    }
    if ((rc = manifest_write(db, &t->m, err, errsz)) != VG_OK) {
        unlink(final);
        goto out;
    }
    sweep_files(db, &t->m);
    t->rep.generation = t->m.generation;
out:
    t->rep.seconds += (double)(vg_clock_ns() - t0) / 1e9;
    if (rep) {
        *rep = t->rep;
    }
    txn_free(t);
    unlock_db(db);
    return rc;
}

/* ---------------------------------------------------------------- formats */

const char *vg_intel_format_name(enum vg_intel_format f)
{
    static const char *const names[] = {"auto", "stix", "misp", "csv", "warninglist"};
    return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

int vg_intel_format_parse(const char *name, enum vg_intel_format *out)
{
    for (int f = VG_INTEL_FMT_AUTO; f <= VG_INTEL_FMT_WARNINGLIST; f++) {
        if (strcmp(name, vg_intel_format_name((enum vg_intel_format)f)) == 0) {
            *out = (enum vg_intel_format)f;
            return VG_OK;
        }
    }
    if (strcmp(name, "txt") == 0 || strcmp(name, "plain") == 0) {
        *out = VG_INTEL_FMT_CSV;
        return VG_OK;
    }
    return VG_EINVAL;
}

/* A directory: a MISP feed has manifest.json; warninglists are <name>/list.json. */
static enum vg_intel_format dir_format(const char *dir)
{
    char p[4200];
    struct stat st;
    DIR *d;
    struct dirent *e;
    enum vg_intel_format f = VG_INTEL_FMT_MISP;
    snprintf(p, sizeof(p), "%s/manifest.json", dir);
    if (stat(p, &st) == 0 || !(d = opendir(dir))) {
        return VG_INTEL_FMT_MISP;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(p, sizeof(p), "%s/%s/list.json", dir, e->d_name);
        if (stat(p, &st) == 0) {
            f = VG_INTEL_FMT_WARNINGLIST;
            break;
        }
    }
    closedir(d);
    return f;
}

enum vg_intel_format vg_intel_format_detect(const char *path, const char *head, size_t n)
{
    struct stat st;
    size_t i = 0;
    if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        return dir_format(path);
    }
    if (n >= 3 && (unsigned char)head[0] == 0xef && (unsigned char)head[1] == 0xbb) {
        i = 3;
    }
    while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) {
        i++;
    }
    if (i >= n || (head[i] != '{' && head[i] != '[')) {
        return VG_INTEL_FMT_CSV;
    }
    head += i;
    n -= i;
    n = n > 65536 ? 65536 : n; /* the top of the document decides */
    if (vg_memmem(head, n, "\"Event\"", 7) || vg_memmem(head, n, "\"Attribute\"", 11) ||
        vg_memmem(head, n, "\"response\"", 10)) {
        return VG_INTEL_FMT_MISP;
    }
    if (vg_memmem(head, n, "\"matching_attributes\"", 21) ||
        (vg_memmem(head, n, "\"list\"", 6) && !vg_memmem(head, n, "\"objects\"", 9) &&
         !vg_memmem(head, n, "\"spec_version\"", 14))) {
        return VG_INTEL_FMT_WARNINGLIST;
    }
    return VG_INTEL_FMT_STIX;
}

/* ---------------------------------------------------------------- imports */

static const char *base_source(const char *path, char *buf, size_t bufsz)
{
    const char *b = strrchr(path, '/');
    size_t n, k = 0;
    b = b && b[1] ? b + 1 : path;
    n = strcspn(b, ".");
    for (size_t i = 0; i < n && k + 1 < bufsz && k < 63; i++) {
        char c = b[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        buf[k++] = ok ? c : '_';
    }
    buf[k] = 0;
    return k ? buf : "feed";
}

/* Warninglist import: validate, copy into DIR/wl/<key>.json, then re-flag every source. */
static int import_wl(struct vg_intel_db *db, const char *origin, const char *text, size_t len,
                     const char *source, struct vg_intel_import_report *rep, char *err,
                     size_t errsz);
static int import_wl_dir(struct vg_intel_db *db, const char *dir,
                         struct vg_intel_import_report *rep, char *err, size_t errsz);

static int run_importer(enum vg_intel_format fmt, const char *path, const char *text, size_t len,
                        const struct vg_intel_import_opts *o, const struct vg_intel_sink *s,
                        char *err, size_t errsz)
{
    switch (fmt) {
    case VG_INTEL_FMT_STIX:
        return vg_intel_import_stix(text, len, o, s, err, errsz);
    case VG_INTEL_FMT_MISP:
        return path && !text ? vg_intel_import_misp_dir(path, o, s, err, errsz)
                             : vg_intel_import_misp(text, len, o, s, err, errsz);
    case VG_INTEL_FMT_CSV:
        return vg_intel_import_csv(text, len, o, s, err, errsz);
    default:
        return fail(err, errsz, VG_EINVAL, "unsupported format");
    }
}

static int import_doc(struct vg_intel_db *db, const char *path, const char *origin,
                      const char *text, size_t len, const char *source, enum vg_intel_format fmt,
                      const struct vg_intel_import_opts *opts, struct vg_intel_import_report *rep,
                      char *err, size_t errsz)
{
    struct vg_intel_import_opts o = opts ? *opts : (struct vg_intel_import_opts){0};
    struct vg_intel_txn *t = NULL;
    uint64_t t0 = vg_clock_ns();
    char sbuf[64];
    int rc;
    if (fmt == VG_INTEL_FMT_AUTO) {
        fmt = vg_intel_format_detect(text ? NULL : path, text ? text : "", text ? len : 0);
    }
    if (!source) {
        source = base_source(origin, sbuf, sizeof(sbuf));
    }
    if (fmt == VG_INTEL_FMT_WARNINGLIST) {
        return import_wl(db, origin, text, len, source, rep, err, errsz);
    }
    o.origin = o.origin ? o.origin : origin;
    o.now = o.now ? o.now : (uint32_t)time(NULL);
    o.csv_type = opts ? opts->csv_type : VG_INTEL_TYPE_COUNT;
    if ((rc = vg_intel_db_begin(db, source, fmt, origin, 0, &t, err, errsz)) != VG_OK) {
        return rc;
    }
    if (o.policy) {
        t->pol = *o.policy;
        t->pol.confidence = t->pol.confidence > 100 ? 100 : t->pol.confidence;
    }
    rc = run_importer(fmt, path, text, len, &o, vg_intel_txn_sink(t), err, errsz);
    if (rc != VG_OK) {
        vg_intel_txn_abort(t);
        return rc;
    }
    rc = vg_intel_txn_commit(t, rep, err, errsz);
    if (rep) {
        rep->seconds = (double)(vg_clock_ns() - t0) / 1e9;
    }
    return rc;
}

int vg_intel_db_import_mem(struct vg_intel_db *db, const char *origin, const char *text, size_t len,
                           const char *source, enum vg_intel_format fmt,
                           const struct vg_intel_import_opts *opts,
                           struct vg_intel_import_report *rep, char *err, size_t errsz)
{
    return import_doc(db, NULL, origin ? origin : "-", text ? text : "", len, source, fmt, opts,
                      rep, err, errsz);
}

int vg_intel_db_import_file(struct vg_intel_db *db, const char *path, const char *source,
                            enum vg_intel_format fmt, const struct vg_intel_import_opts *opts,
                            struct vg_intel_import_report *rep, char *err, size_t errsz)
{
    struct vg_mapped m = {0};
    struct stat st;
    int rc;
    if (stat(path, &st) != 0) {
        return fail(err, errsz, VG_ENOENT, "%s: %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode) && fmt == VG_INTEL_FMT_AUTO) {
        fmt = dir_format(path);
    }
    if (S_ISDIR(st.st_mode) && fmt == VG_INTEL_FMT_WARNINGLIST) {
        return import_wl_dir(db, path, rep, err, errsz);
    }
    if (S_ISDIR(st.st_mode)) {
        if (fmt != VG_INTEL_FMT_AUTO && fmt != VG_INTEL_FMT_MISP) {
            return fail(err, errsz, VG_EINVAL, "%s: a directory is read as a MISP feed only", path);
        }
        return import_doc(db, path, path, NULL, 0, source, VG_INTEL_FMT_MISP, opts, rep, err,
                          errsz);
    }
    if ((uint64_t)st.st_size > IMPORT_MAX) {
        return fail(err, errsz, VG_ELIMIT, "%s: larger than 4 GiB", path);
    }
    if (vg_file_map(path, &m) != VG_OK) {
        return fail(err, errsz, VG_EIO, "%s: %s", path, strerror(errno));
    }
    rc = import_doc(db, path, path, m.p ? (const char *)m.p : "", m.len, source, fmt, opts, rep,
                    err, errsz);
    vg_file_unmap(&m);
    return rc;
}

/* ---------------------------------------------------------------- rewrites */

/* Rewrite one source through a transaction: expired records dropped when now != 0, every
 * record re-flagged against the current warninglists. */
static int rewrite_source(struct vg_intel_db *db, struct vgi_manifest *m, size_t si, uint32_t now,
                          uint64_t *removed, char *err, size_t errsz)
{
    struct vgi_source *src = &m->src[si];
    struct vg_intel_txn *t = NULL;
    enum vg_intel_format fmt = VG_INTEL_FMT_CSV;
    struct vgi_file f;
    char path[4200];
    int rc;
    snprintf(path, sizeof(path), "%s/%s", db->dir, src->file);
    if ((rc = vgi_open(path, &f, err, errsz)) != VG_OK) {
        return rc;
    }
    vg_intel_format_parse(src->format, &fmt);
    if ((rc = vg_intel_db_begin(db, src->name, fmt, src->origin, 0, &t, err, errsz)) != VG_OK) {
        vgi_close(&f);
        return rc;
    }
    t->ntypes = 0;
    for (uint32_t i = 0; i < f.nrec && rc == VG_OK; i++) {
        struct vgi_rec r;
        if (vgi_rec_get(&f, i, &r) != VG_OK) {
            continue;
        }
        if (now && r.valid_until && r.valid_until <= now) {
            (*removed)++;
            continue;
        }
        finish_rec(t, &r);
        count_rec(t, &r);
        rc = put_rec(t, &r);
    }
    for (uint32_t i = 0; i < f.nobj && rc == VG_OK; i++) {
        struct vgi_obj o;
        if (vgi_obj_get(&f, i, &o) == VG_OK) {
            rc = put_obj(t, &o);
        }
    }
    vgi_close(&f);
    if (rc != VG_OK) {
        vg_intel_txn_abort(t);
        return fail(err, errsz, rc, "%s: rewrite failed: %s", src->name, vg_strerror(rc));
    }
    /* keep the import's object counts and rejections: only indicators changed */
    {
        struct vgi_source *cur = vgi_manifest_find(&t->m, src->name);
        t->rep.objects = cur ? cur->objects : 0;
        t->rep.relationships = cur ? cur->relationships : 0;
    }
    t->keep_counts = true;
    return vg_intel_txn_commit(t, NULL, err, errsz);
}

/* Re-flag (and with now != 0, expire) every source; one manifest generation per source. */
static int rewrite_all(struct vg_intel_db *db, uint32_t now, uint64_t *removed, char *err,
                       size_t errsz)
{
    struct vgi_manifest m;
    int rc = vgi_manifest_read(db->dir, &m, err, errsz);
    for (size_t i = 0; rc == VG_OK && i < m.n; i++) {
        rc = rewrite_source(db, &m, i, now, removed, err, errsz);
    }
    vgi_manifest_fini(&m);
    return rc;
}

/* The key of a warninglist file: lists/<key>/list.json → key, else the base name. */
static void wl_key(const char *origin, const char *fallback, char *key, size_t keysz)
{
    const char *slash = strrchr(origin, '/');
    snprintf(key, keysz, "%s", fallback);
    if (slash && strcmp(slash, "/list.json") == 0 && slash > origin) {
        const char *b = slash - 1;
        while (b > origin && b[-1] != '/') {
            b--;
        }
        snprintf(key, keysz, "%.*s", (int)(slash - b), b);
    }
}

/* Validate one list.json and copy it into DIR/wl/<key>.json (no re-flag). */
static int wl_copy(struct vg_intel_db *db, const char *origin, const char *text, size_t len,
                   const char *key, struct vg_intel_import_report *rep, char *err, size_t errsz)
{
    struct vg_intel_wl *one = NULL;
    struct vg_intel_wl_stats st;
    char dir[4200], path[4300];
    int rc;
    if (!valid_source_name(key)) {
        return fail(err, errsz, VG_EINVAL, "%s: warninglist name '%s' is not valid", origin, key);
    }
    if ((rc = vg_intel_wl_create(&one)) != VG_OK ||
        (rc = vg_intel_wl_load_mem(one, origin, text, len, err, errsz)) != VG_OK ||
        (rc = vg_intel_wl_build(one, err, errsz)) != VG_OK) {
        vg_intel_wl_destroy(one);
        return rc;
    }
    vg_intel_wl_stats(one, &st);
    if (st.skipped && !rep->first_reject[VG_INTEL_REJ_MALFORMED][0] &&
        vg_intel_wl_list_error(one, 0)) {
        snprintf(rep->first_reject[VG_INTEL_REJ_MALFORMED],
                 sizeof(rep->first_reject[VG_INTEL_REJ_MALFORMED]), "%s",
                 vg_intel_wl_list_error(one, 0));
    }
    vg_intel_wl_destroy(one);
    rep->indicators += st.entries;
    rep->rejected[VG_INTEL_REJ_MALFORMED] += st.skipped;
    snprintf(dir, sizeof(dir), "%s/wl", db->dir);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        return fail(err, errsz, VG_EIO, "%s: %s", dir, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/%s.json", dir, key);
    if ((rc = lock_db(db, err, errsz)) != VG_OK) {
        return rc;
    }
    rc = write_durable(path, text, len, err, errsz);
    unlock_db(db);
    return rc;
}

/* After lists changed: reload them and re-flag every source. */
static int wl_reflag(struct vg_intel_db *db, struct vg_intel_import_report *rep, uint64_t t0,
                     char *err, size_t errsz)
{
    uint64_t removed = 0;
    int rc;
    vg_intel_wl_destroy(db->wl);
    db->wl = NULL;
    db->wl_loaded = false;
    if ((rc = load_wl(db, err, errsz)) == VG_OK) {
        struct vg_intel_wl_stats st = {0};
        char path[4200], buf[160];
        if (db->wl) {
            vg_intel_wl_stats(db->wl, &st);
        }
        snprintf(path, sizeof(path), "%s/wl/summary", db->dir);
        snprintf(buf, sizeof(buf), "{\"lists\":%u,\"entries\":%llu,\"skipped\":%llu}", st.lists,
                 (unsigned long long)st.entries, (unsigned long long)st.skipped);
        rc = write_durable(path, buf, strlen(buf), err, errsz);
    }
    if (rc == VG_OK) {
        rc = rewrite_all(db, 0, &removed, err, errsz);
    }
    rep->format = VG_INTEL_FMT_WARNINGLIST;
    rep->generation = vg_intel_db_generation(db);
    rep->seconds = (double)(vg_clock_ns() - t0) / 1e9;
    return rc;
}

static int import_wl(struct vg_intel_db *db, const char *origin, const char *text, size_t len,
                     const char *source, struct vg_intel_import_report *rep, char *err,
                     size_t errsz)
{
    struct vg_intel_import_report local;
    uint64_t t0 = vg_clock_ns();
    char key[64];
    int rc;
    rep = rep ? rep : &local;
    memset(rep, 0, sizeof(*rep));
    wl_key(origin, source, key, sizeof(key));
    snprintf(rep->source, sizeof(rep->source), "%s", key);
    rep->objects = 1;
    if ((rc = wl_copy(db, origin, text, len, key, rep, err, errsz)) != VG_OK) {
        return rc;
    }
    return wl_reflag(db, rep, t0, err, errsz);
}

/* A directory of warninglists (the project's lists/ or a flat directory of *.json). */
static int import_wl_dir(struct vg_intel_db *db, const char *dir,
                         struct vg_intel_import_report *rep, char *err, size_t errsz)
{
    struct vg_intel_import_report local;
    struct dirent **names = NULL;
    uint64_t t0 = vg_clock_ns();
    int n = scandir(dir, &names, NULL, alphasort), rc = VG_OK;
    rep = rep ? rep : &local;
    memset(rep, 0, sizeof(*rep));
    snprintf(rep->source, sizeof(rep->source), "warninglists");
    if (n < 0) {
        return fail(err, errsz, VG_EIO, "%s: %s", dir, strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        char path[4200], key[64];
        char *text = NULL;
        size_t len = 0, nl = strlen(names[i]->d_name);
        struct stat st;
        if (rc != VG_OK || names[i]->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s/list.json", dir, names[i]->d_name);
        snprintf(key, sizeof(key), "%.63s", names[i]->d_name);
        if (stat(path, &st) != 0) {
            if (nl <= 5 || strcmp(names[i]->d_name + nl - 5, ".json") != 0) {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
            key[nl - 5 < sizeof(key) ? nl - 5 : sizeof(key) - 1] = 0;
        }
        rc = vg_file_read(path, 256u << 20, &text, &len);
        if (rc != VG_OK) {
            rc = fail(err, errsz, rc, "%s: %s", path, vg_strerror(rc));
        } else {
            rc = wl_copy(db, path, text, len, key, rep, err, errsz);
            rep->objects++;
        }
        vg_free(text);
    }
    for (int i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    if (rc != VG_OK) {
        return rc;
    }
    if (!rep->objects) {
        return fail(err, errsz, VG_EINVAL, "%s: no warninglists (lists/<name>/list.json) found",
                    dir);
    }
    return wl_reflag(db, rep, t0, err, errsz);
}

int vg_intel_db_expire(struct vg_intel_db *db, uint32_t now, uint64_t *removed, char *err,
                       size_t errsz)
{
    int rc = load_wl(db, err, errsz);
    *removed = 0;
    return rc == VG_OK ? rewrite_all(db, now ? now : (uint32_t)time(NULL), removed, err, errsz)
                       : rc;
}

int vg_intel_db_remove(struct vg_intel_db *db, const char *source, char *err, size_t errsz)
{
    struct vgi_manifest m;
    struct vgi_source *s;
    int rc = lock_db(db, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if ((rc = vgi_manifest_read(db->dir, &m, err, errsz)) != VG_OK) {
        unlock_db(db);
        return rc;
    }
    if (!(s = vgi_manifest_find(&m, source))) {
        rc = fail(err, errsz, VG_ENOENT, "no source '%s' in %s", source, db->dir);
    } else {
        size_t i = (size_t)(s - m.src);
        source_fini(s);
        memmove(&m.src[i], &m.src[i + 1], (m.n - i - 1) * sizeof(*m.src));
        m.n--;
        if ((rc = manifest_write(db, &m, err, errsz)) == VG_OK) {
            sweep_files(db, &m);
        }
    }
    vgi_manifest_fini(&m);
    unlock_db(db);
    return rc;
}

int vg_intel_db_set_policy(struct vg_intel_db *db, const char *source,
                           const struct vg_intel_policy *pol, char *err, size_t errsz)
{
    struct vgi_manifest m;
    struct vgi_source *s;
    int rc = lock_db(db, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if ((rc = vgi_manifest_read(db->dir, &m, err, errsz)) == VG_OK) {
        if (!(s = vgi_manifest_find(&m, source))) {
            rc = fail(err, errsz, VG_ENOENT, "no source '%s' in %s", source, db->dir);
        } else {
            s->pol = *pol;
            s->pol.confidence = pol->confidence > 100 ? 100 : pol->confidence;
            rc = manifest_write(db, &m, err, errsz);
        }
        vgi_manifest_fini(&m);
    }
    unlock_db(db);
    return rc;
}

int vg_intel_db_get_meta(struct vg_intel_db *db, const char *source, const char *key, char *buf,
                         size_t bufsz)
{
    struct vgi_manifest m;
    struct vgi_source *s;
    int rc = vgi_manifest_read(db->dir, &m, NULL, 0);
    if (rc != VG_OK) {
        return rc;
    }
    rc = VG_ENOENT;
    if ((s = vgi_manifest_find(&m, source)) != NULL) {
        for (size_t i = 0; i < s->nmeta; i++) {
            if (strcmp(s->mkey[i], key) == 0) {
                snprintf(buf, bufsz, "%s", s->mval[i]);
                rc = VG_OK;
            }
        }
    }
    vgi_manifest_fini(&m);
    return rc;
}

/* ---------------------------------------------------------------- statistics */

struct stat_acc {
    uint64_t by_type[VG_INTEL_TYPE_COUNT];
    uint64_t total, warninglisted, expired, objects, relationships;
    struct objtype types[MAX_OBJTYPES];
    unsigned ntypes;
};

static void acc_objtypes(struct stat_acc *a, const char *json)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *ar = vg_arena_create(16 * 1024);
    struct vg_json *doc = NULL;
    size_t used;
    if (p && ar && vg_json_parse(p, ar, json, strlen(json), &used, &doc, NULL, 0) == VG_OK &&
        doc->type == VG_JSON_OBJECT) {
        for (uint32_t i = 0; i < doc->n; i++) {
            const struct vg_json *k = &doc->u.items[2 * i], *v = &doc->u.items[2 * i + 1];
            objtype_add(a->types, &a->ntypes, k->s, k->n, jnum(v, "count"), jnum(v, "active"));
        }
    }
    vg_arena_destroy(ar);
    vg_json_parser_destroy(p);
}

static void acc_file(struct stat_acc *a, const char *path, uint32_t now)
{
    struct vgi_file f;
    if (vgi_open(path, &f, NULL, 0) != VG_OK) {
        return;
    }
    for (uint32_t i = 0; i < f.nrec; i++) {
        uint64_t off = vgi_u64(f.rec_index + 8ull * i);
        const uint8_t *p;
        uint32_t until;
        if (off > f.map.len || f.map.len - off < VGI_REC_HDR) {
            continue;
        }
        p = f.map.p + off;
        if (p[0] >= VG_INTEL_TYPE_COUNT || (p[1] & VGI_FLAG_DEAD)) {
            continue;
        }
        until = vgi_u32(p + 12);
        a->by_type[p[0]]++;
        a->total++;
        a->warninglisted += (p[1] & VG_INTEL_F_WARNINGLISTED) != 0;
        a->expired += until && until <= now;
    }
    vgi_close(&f);
}

static void stats_sources(struct vg_sbuf *out, const struct vgi_manifest *m)
{
    vg_sbuf_adds(out, ",\"sources\":[");
    for (size_t i = 0; i < m->n; i++) {
        const struct vgi_source *s = &m->src[i];
        vg_sbuf_adds(out, i ? ",{\"name\":" : "{\"name\":");
        vg_sbuf_add_json_str(out, s->name, strlen(s->name));
        vg_sbuf_adds(out, ",\"format\":");
        vg_sbuf_add_json_str(out, s->format, strlen(s->format));
        vg_sbuf_adds(out, ",\"origin\":");
        vg_sbuf_add_json_str(out, s->origin, strlen(s->origin));
        vg_sbuf_adds(out, ",\"imported\":");
        vgi_json_time(out, (uint32_t)s->imported);
        vg_sbuf_printf(out,
                       ",\"indicators\":%llu,\"warninglisted\":%llu,\"objects\":%llu,"
                       "\"relationships\":%llu,\"rejected\":%s,\"policy\":{\"confidence\":%u,"
                       "\"half_life_s\":%u,\"max_age_s\":%u}}",
                       (unsigned long long)s->indicators, (unsigned long long)s->warninglisted,
                       (unsigned long long)s->objects, (unsigned long long)s->relationships,
                       s->rejected, s->pol.confidence, s->pol.half_life_s, s->pol.max_age_s);
    }
    vg_sbuf_addc(out, ']');
}

int vg_intel_db_stats_json(struct vg_intel_db *db, uint32_t now, struct vg_sbuf *out, char *err,
                           size_t errsz)
{
    struct vgi_manifest m;
    struct stat_acc *a;
    int rc = vgi_manifest_read(db->dir, &m, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (!(a = vg_calloc(1, sizeof(*a)))) {
        vgi_manifest_fini(&m);
        return VG_ENOMEM;
    }
    now = now ? now : (uint32_t)time(NULL);
    for (size_t i = 0; i < m.n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", db->dir, m.src[i].file);
        acc_file(a, path, now);
        acc_objtypes(a, m.src[i].objtypes);
        a->objects += m.src[i].objects;
        a->relationships += m.src[i].relationships;
    }
    vg_sbuf_printf(out, "{\"generation\":%llu,\"indicators\":{\"total\":%llu,\"by_type\":{",
                   (unsigned long long)m.generation, (unsigned long long)a->total);
    for (int t = 0, k = 0; t < VG_INTEL_TYPE_COUNT; t++) {
        if (a->by_type[t]) {
            vg_sbuf_printf(out, "%s\"%s\":%llu", k++ ? "," : "",
                           vg_intel_type_name((enum vg_intel_type)t),
                           (unsigned long long)a->by_type[t]);
        }
    }
    vg_sbuf_printf(out,
                   "},\"warninglisted\":%llu,\"expired\":%llu},\"objects\":{\"total\":%llu,"
                   "\"by_type\":{",
                   (unsigned long long)a->warninglisted, (unsigned long long)a->expired,
                   (unsigned long long)a->objects);
    for (unsigned j = 0; j < a->ntypes; j++) {
        vg_sbuf_adds(out, j ? "," : "");
        vg_sbuf_add_json_str(out, a->types[j].name, strlen(a->types[j].name));
        vg_sbuf_printf(out, ":{\"count\":%llu,\"active\":%llu}",
                       (unsigned long long)a->types[j].count,
                       (unsigned long long)a->types[j].active);
    }
    vg_sbuf_printf(out, "}},\"relationships\":%llu", (unsigned long long)a->relationships);
    stats_sources(out, &m);
    {
        char path[4200], *text = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/wl/summary", db->dir);
        if (vg_file_read(path, 4096, &text, &len) == VG_OK && len && text[0] == '{') {
            vg_sbuf_adds(out, ",\"warninglists\":");
            vg_sbuf_add(out, text, len);
            vg_sbuf_addc(out, '}');
        } else {
            vg_sbuf_adds(out, ",\"warninglists\":{\"lists\":0,\"entries\":0,\"skipped\":0}}");
        }
        vg_free(text);
    }
    vg_free(a);
    vgi_manifest_fini(&m);
    return out->err ? VG_ENOMEM : VG_OK;
}
