/*
 * intel_snap.c — snapshots of the indicator store: every source's records loaded into one
 * vg_intel_set (the context's `tags` field carries the record's index in its source file, and
 * `source` the source's index), the source files kept mapped to describe hits, and sorted
 * indexes of context objects and relationships. Matching of values and events, hit
 * descriptions, search and iteration. A snapshot is immutable and reference-counted.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "intel/intel_db.h"
#include "intel/intel_db_int.h"

#define REL_MAX   32 /* related objects in one description */
#define EVENT_MAX 64 /* distinct indicators reported per event */

struct snap_src {
    char *name;
    struct vgi_file f;
    struct vg_intel_policy pol;
};

struct oent {
    uint64_t h; /* hash of the object id (objs) or of the relationship's source_ref (rels) */
    uint32_t src, idx;
};

enum fkind { K_IP, K_DOMAIN, K_URL, K_HASH, K_JA3, K_JA3S, K_X509, K_EMAIL, K_FILENAME };

static const struct {
    const char *name;
    enum fkind kind;
} match_fields[] = {
    {"source.ip", K_IP},
    {"destination.ip", K_IP},
    {"client.ip", K_IP},
    {"server.ip", K_IP},
    {"host.ip", K_IP},
    {"related.ip", K_IP},
    {"source.nat.ip", K_IP},
    {"destination.nat.ip", K_IP},
    {"src_ip", K_IP},
    {"dest_ip", K_IP},
    {"dns.resolved_ip", K_IP},
    {"dns.question.name", K_DOMAIN},
    {"url.domain", K_DOMAIN},
    {"destination.domain", K_DOMAIN},
    {"source.domain", K_DOMAIN},
    {"server.domain", K_DOMAIN},
    {"client.domain", K_DOMAIN},
    {"tls.client.server_name", K_DOMAIN},
    {"related.hosts", K_DOMAIN},
    {"dns.rrname", K_DOMAIN},
    {"dns.queries.rrname", K_DOMAIN},
    {"http.hostname", K_DOMAIN},
    {"tls.sni", K_DOMAIN},
    {"url.full", K_URL},
    {"url.original", K_URL},
    {"http.request.referrer", K_URL},
    {"http.url", K_URL},
    {"file.hash.md5", K_HASH},
    {"file.hash.sha1", K_HASH},
    {"file.hash.sha256", K_HASH},
    {"file.hash.sha512", K_HASH},
    {"process.hash.md5", K_HASH},
    {"process.hash.sha1", K_HASH},
    {"process.hash.sha256", K_HASH},
    {"process.hash.sha512", K_HASH},
    {"process.parent.hash.sha256", K_HASH},
    {"dll.hash.sha256", K_HASH},
    {"related.hash", K_HASH},
    {"fileinfo.md5", K_HASH},
    {"fileinfo.sha1", K_HASH},
    {"fileinfo.sha256", K_HASH},
    {"tls.client.ja3", K_JA3},
    {"tls.ja3.hash", K_JA3},
    {"tls.server.ja3s", K_JA3S},
    {"tls.ja3s.hash", K_JA3S},
    {"tls.server.hash.sha1", K_X509},
    {"tls.server.hash.sha256", K_X509},
    {"tls.fingerprint", K_X509},
    {"email.from.address", K_EMAIL},
    {"email.to.address", K_EMAIL},
    {"email.sender.address", K_EMAIL},
    {"email.reply_to.address", K_EMAIL},
    {"user.email", K_EMAIL},
    {"file.name", K_FILENAME},
};
#define NFIELDS (sizeof(match_fields) / sizeof(match_fields[0]))

struct vg_intel_snap {
    atomic_uint ref;
    uint64_t gen;
    struct vg_intel_set *set;
    struct snap_src *src;
    uint32_t nsrc;
    struct oent *objs, *rels;
    size_t nobjs, nrels;
    size_t nind;
    uint32_t fid[NFIELDS];
};

static uint64_t id_hash(const char *s, size_t n)
{
    return vg_hash64(s, n, 0x1d1d);
}

static int oent_cmp(const void *a, const void *b)
{
    const struct oent *x = a, *y = b;
    return x->h < y->h ? -1 : x->h > y->h;
}

/* First entry with hash h in a sorted index, or n. */
static size_t oent_find(const struct oent *v, size_t n, uint64_t h)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].h < h) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && v[lo].h == h ? lo : n;
}

static void snap_free(struct vg_intel_snap *s)
{
    for (uint32_t i = 0; i < s->nsrc; i++) {
        vgi_close(&s->src[i].f);
        vg_free(s->src[i].name);
    }
    vg_free(s->src);
    vg_free(s->objs);
    vg_free(s->rels);
    vg_intel_set_destroy(s->set);
    vg_free(s);
}

static int push_oent(struct oent **v, size_t *n, size_t *cap, uint64_t h, uint32_t src,
                     uint32_t idx)
{
    if (vg_grow(v, cap, *n + 1, sizeof(**v))) {
        return VG_ENOMEM;
    }
    (*v)[(*n)++] = (struct oent){h, src, idx};
    return VG_OK;
}

/* One source into the builder and the object indexes. */
static int load_source(struct vg_intel_snap *s, struct vg_intel_set_builder *b, uint32_t si,
                       size_t *ocap, size_t *rcap)
{
    struct snap_src *src = &s->src[si];
    int rc = VG_OK;
    for (uint32_t i = 0; i < src->f.nrec && rc != VG_ENOMEM; i++) {
        struct vgi_rec r;
        struct vg_intel_ctx c;
        if (vgi_rec_get(&src->f, i, &r) != VG_OK) {
            continue;
        }
        c = (struct vg_intel_ctx){(uint16_t)si, r.confidence,  r.flags, r.first_seen,
                                  r.last_seen,  r.valid_until, i};
        rc = vg_intel_set_builder_add(b, (enum vg_intel_type)r.type, r.f[VGI_F_VALUE],
                                      r.n[VGI_F_VALUE], &c);
    }
    if (rc == VG_ENOMEM) {
        return rc;
    }
    for (uint32_t i = 0; i < src->f.nobj; i++) {
        struct vgi_obj o;
        if (vgi_obj_get(&src->f, i, &o) != VG_OK) {
            continue;
        }
        if (push_oent(&s->objs, &s->nobjs, ocap, id_hash(o.f[VGI_O_ID], o.n[VGI_O_ID]), si, i) ||
            (o.n[VGI_O_SRC] && push_oent(&s->rels, &s->nrels, rcap,
                                         id_hash(o.f[VGI_O_SRC], o.n[VGI_O_SRC]), si, i))) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

int vg_intel_db_load(struct vg_intel_db *db, struct vg_intel_snap **out, char *err, size_t errsz)
{
    struct vgi_manifest m;
    struct vg_intel_snap *s = NULL;
    struct vg_intel_set_builder *b = NULL;
    size_t ocap = 0, rcap = 0;
    int rc;
    *out = NULL;
    if ((rc = vgi_manifest_read(vg_intel_db_dir(db), &m, err, errsz)) != VG_OK) {
        return rc;
    }
    rc = VG_ENOMEM;
    if (m.n > UINT16_MAX) {
        rc = VG_ELIMIT;
        goto out;
    }
    if (!(s = vg_calloc(1, sizeof(*s))) || (m.n && !(s->src = vg_calloc(m.n, sizeof(*s->src)))) ||
        !(b = vg_intel_set_builder_create())) {
        goto out;
    }
    atomic_init(&s->ref, 1);
    s->gen = m.generation;
    for (size_t i = 0; i < NFIELDS; i++) {
        s->fid[i] = vg_field_intern(match_fields[i].name, strlen(match_fields[i].name));
    }
    for (size_t i = 0; i < m.n; i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", vg_intel_db_dir(db), m.src[i].file);
        if ((rc = vgi_open(path, &s->src[i].f, err, errsz)) != VG_OK) {
            goto out;
        }
        s->src[i].pol = m.src[i].pol;
        if (!(s->src[i].name = vg_strdup(m.src[i].name))) {
            rc = VG_ENOMEM;
            goto out;
        }
        s->nsrc++;
        if ((rc = load_source(s, b, (uint32_t)i, &ocap, &rcap)) != VG_OK) {
            goto out;
        }
    }
    s->nind = vg_intel_set_builder_count(b);
    if ((rc = vg_intel_set_builder_freeze(b, &s->set)) != VG_OK) {
        goto out;
    }
    vg_intel_set_builder_destroy(b);
    b = NULL;
    /* The records were read once to build the set; describing a hit reads a few again. Let
     * the kernel keep them in the page cache rather than in this process's resident set, and
     * give the builder's memory back. */
    for (uint32_t i = 0; i < s->nsrc; i++) {
        if (s->src[i].f.map.mapped) {
            (void)madvise((void *)s->src[i].f.map.p, s->src[i].f.map.len, MADV_DONTNEED);
        }
    }
    malloc_trim(0);
    if (s->nobjs) {
        qsort(s->objs, s->nobjs, sizeof(*s->objs), oent_cmp);
    }
    if (s->nrels) {
        qsort(s->rels, s->nrels, sizeof(*s->rels), oent_cmp);
    }
    *out = s;
    s = NULL;
out:
    if (rc == VG_ENOMEM && err && errsz) {
        snprintf(err, errsz, "%s: out of memory loading the store", vg_intel_db_dir(db));
    }
    if (s) {
        snap_free(s);
    }
    vg_intel_set_builder_destroy(b);
    vgi_manifest_fini(&m);
    return rc;
}

void vg_intel_snap_ref(struct vg_intel_snap *s)
{
    atomic_fetch_add_explicit(&s->ref, 1, memory_order_relaxed);
}

void vg_intel_snap_unref(struct vg_intel_snap *s)
{
    if (s && atomic_fetch_sub_explicit(&s->ref, 1, memory_order_acq_rel) == 1) {
        snap_free(s);
    }
}

uint64_t vg_intel_snap_generation(const struct vg_intel_snap *s)
{
    return s->gen;
}

const struct vg_intel_set *vg_intel_snap_set(const struct vg_intel_snap *s)
{
    return s->set;
}

size_t vg_intel_snap_count(const struct vg_intel_snap *s)
{
    return s->nind;
}

const char *vg_intel_snap_source_name(const struct vg_intel_snap *s, uint32_t i)
{
    return i < s->nsrc ? s->src[i].name : "?";
}

/* ---------------------------------------------------------------- matching */

static bool usable(const struct vg_intel_hit *h, unsigned flags)
{
    return !(h->ctx->flags & VG_INTEL_F_WARNINGLISTED) || (flags & VG_INTEL_MATCH_WARNINGLISTED);
}

/* Dotted quad (exactly 4 decimal octets, no prefix) → network order; false otherwise. */
static bool quad(const char *v, size_t n, uint32_t *be)
{
    uint32_t a = 0, oct = 0;
    unsigned dots = 0, digits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)v[i];
        if (c - '0' < 10) {
            oct = oct * 10 + (c - '0');
            if (++digits > 3 || oct > 255) {
                return false;
            }
        } else if (c == '.' && digits && dots < 3) {
            a = a << 8 | oct;
            oct = digits = 0;
            dots++;
        } else {
            return false;
        }
    }
    if (dots != 3 || !digits) {
        return false;
    }
    *be = htonl(a << 8 | oct);
    return true;
}

static int hexnib(unsigned c)
{
    return c - '0' < 10 ? (int)(c - '0') : (c | 32) - 'a' < 6 ? (int)((c | 32) - 'a' + 10) : -1;
}

static int look(const struct vg_intel_snap *s, enum vg_intel_type t, const char *v, size_t n,
                uint32_t now, unsigned flags, struct vg_intel_hit *hit)
{
    int rc;
    uint32_t be;
    uint8_t bin[64];
    if (t == VG_INTEL_IPV4 && quad(v, n, &be)) {
        /* the common case, without the text path's prefix and error handling */
        rc = vg_intel_set_lookup_ip4(s->set, be, now, hit);
    } else if (t == VG_INTEL_IPV6 && n < 46 && !memchr(v, '/', n)) {
        char z[48];
        memcpy(z, v, n);
        z[n] = 0;
        rc = inet_pton(AF_INET6, z, bin) == 1 ? vg_intel_set_lookup_ip6(s->set, bin, now, hit)
                                              : vg_intel_set_lookup(s->set, t, v, n, now, hit);
    } else if (t >= VG_INTEL_MD5 && t <= VG_INTEL_SHA512 && n <= 128 && n % 2 == 0) {
        size_t k = 0;
        for (; k < n / 2; k++) {
            int hi = hexnib((unsigned char)v[2 * k]), lo = hexnib((unsigned char)v[2 * k + 1]);
            if (hi < 0 || lo < 0) {
                break;
            }
            bin[k] = (uint8_t)(hi << 4 | lo);
        }
        rc = k == n / 2 ? vg_intel_set_lookup_bin(s->set, t, bin, k, now, hit)
                        : vg_intel_set_lookup(s->set, t, v, n, now, hit);
    } else {
        rc = vg_intel_set_lookup(s->set, t, v, n, now, hit);
    }
    return rc == VG_OK && !usable(hit, flags) ? VG_ENOENT : rc;
}

/* The host of a URL ("scheme://user@host:port/…"). */
static const char *url_host(const char *v, size_t n, size_t *hn)
{
    const char *p = vg_memmem(v, n, "://", 3), *end = v + n, *h;
    p = p ? p + 3 : v;
    h = p;
    while (p < end && *p != '/' && *p != '?' && *p != '#') {
        if (*p == '@') {
            h = p + 1;
        }
        p++;
    }
    if (h < p && *h == '[') { /* [v6]:port */
        const char *close = memchr(h, ']', (size_t)(p - h));
        *hn = close ? (size_t)(close - h - 1) : 0;
        return h + 1;
    }
    {
        const char *colon = memchr(h, ':', (size_t)(p - h));
        *hn = (size_t)((colon ? colon : p) - h);
    }
    return h;
}

static int look_host(const struct vg_intel_snap *s, const char *h, size_t n, uint32_t now,
                     unsigned flags, struct vg_intel_hit *hit)
{
    enum vg_intel_type t = memchr(h, ':', n) ? VG_INTEL_IPV6 : VG_INTEL_IPV4;
    int rc = look(s, t, h, n, now, flags, hit);
    if (rc == VG_EINVAL) {
        rc = look(s, VG_INTEL_DOMAIN, h, n, now, flags, hit);
    }
    return rc;
}

static int look_url(const struct vg_intel_snap *s, const char *v, size_t n, uint32_t now,
                    unsigned flags, struct vg_intel_hit *hit)
{
    size_t hn;
    const char *h;
    int rc = look(s, VG_INTEL_URL, v, n, now, flags, hit);
    if (rc != VG_ENOENT && rc != VG_EINVAL) {
        return rc;
    }
    h = url_host(v, n, &hn);
    return hn ? look_host(s, h, hn, now, flags, hit) : rc;
}

/* A hex hash: by length, then the other types of the same length. */
static int look_hash(const struct vg_intel_snap *s, enum fkind k, const char *v, size_t n,
                     uint32_t now, unsigned flags, struct vg_intel_hit *hit)
{
    static const enum vg_intel_type by32[] = {VG_INTEL_MD5, VG_INTEL_JA3, VG_INTEL_JA3S};
    static const enum vg_intel_type by40[] = {VG_INTEL_SHA1, VG_INTEL_X509_SHA1};
    static const enum vg_intel_type by64[] = {VG_INTEL_SHA256, VG_INTEL_X509_SHA256};
    char buf[130];
    const enum vg_intel_type *ts = NULL;
    size_t nt = 0, m = 0;
    for (size_t i = 0; i < n && m < sizeof(buf); i++) {
        if (v[i] != ':') {
            buf[m++] = v[i];
        }
    }
    if (m == 32) {
        ts = by32;
        nt = k == K_JA3 ? 2 : k == K_JA3S ? 3 : 1;
        if (k == K_JA3S) {
            ts = by32 + 2, nt = 1;
        } else if (k == K_JA3) {
            ts = by32 + 1, nt = 1;
        }
    } else if (m == 40) {
        ts = k == K_X509 ? by40 + 1 : by40, nt = k == K_X509 ? 1 : 2;
    } else if (m == 64) {
        ts = k == K_X509 ? by64 + 1 : by64, nt = k == K_X509 ? 1 : 2;
    } else if (m == 128) {
        return look(s, VG_INTEL_SHA512, buf, m, now, flags, hit);
    }
    for (size_t i = 0; i < nt; i++) {
        int rc = look(s, ts[i], buf, m, now, flags, hit);
        if (rc != VG_ENOENT) {
            return rc;
        }
    }
    return VG_ENOENT;
}

int vg_intel_snap_match_value(const struct vg_intel_snap *s, enum vg_intel_type type,
                              const char *value, size_t len, uint32_t now, unsigned flags,
                              struct vg_intel_hit *hit)
{
    if ((unsigned)type < VG_INTEL_TYPE_COUNT) {
        return look(s, type, value, len, now, flags, hit);
    }
    char plain[4096];
    if (len <= sizeof(plain) && vg_intel_is_defanged(value, len)) {
        len = vg_intel_refang(value, len, plain);
        value = plain;
    }
    if (vg_intel_value_guess(value, len, &type) != VG_OK) {
        return VG_EINVAL;
    }
    switch (type) {
    case VG_INTEL_URL:
        return look_url(s, value, len, now, flags, hit);
    case VG_INTEL_MD5:
    case VG_INTEL_SHA1:
    case VG_INTEL_SHA256:
    case VG_INTEL_SHA512:
        return look_hash(s, K_HASH, value, len, now, flags, hit);
    default:
        return look(s, type, value, len, now, flags, hit);
    }
}

static int match_one(const struct vg_intel_snap *s, enum fkind k, const char *v, size_t n,
                     uint32_t now, unsigned flags, struct vg_intel_hit *hit)
{
    switch (k) {
    case K_IP:
        return look(s, memchr(v, ':', n) ? VG_INTEL_IPV6 : VG_INTEL_IPV4, v, n, now, flags, hit);
    case K_DOMAIN:
        return look(s, VG_INTEL_DOMAIN, v, n, now, flags, hit);
    case K_URL:
        return look_url(s, v, n, now, flags, hit);
    case K_EMAIL:
        return look(s, VG_INTEL_EMAIL, v, n, now, flags, hit);
    case K_FILENAME:
        return look(s, VG_INTEL_FILENAME, v, n, now, flags, hit);
    default:
        return look_hash(s, k, v, n, now, flags, hit);
    }
}

int vg_intel_snap_match_event(const struct vg_intel_snap *s, const struct vg_event *ev,
                              uint32_t now, unsigned flags, vg_intel_match_cb cb, void *u)
{
    uint32_t seen[EVENT_MAX];
    unsigned nseen = 0;
    int hits = 0;
    if (!s->nind) {
        return 0;
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        for (const struct vg_field *f = vg_event_get(ev, s->fid[i]); f; f = vg_event_next(ev, f)) {
            struct vg_intel_match m = {match_fields[i].name, f->v.str, f->v.len, {0}};
            unsigned j;
            int rc;
            if (!f->v.len || match_one(s, match_fields[i].kind, f->v.str, f->v.len, now, flags,
                                       &m.hit) != VG_OK) {
                continue;
            }
            for (j = 0; j < nseen && seen[j] != m.hit.id; j++) {
            }
            if (j < nseen || nseen == EVENT_MAX) {
                continue;
            }
            seen[nseen++] = m.hit.id;
            hits++;
            if ((rc = cb(u, &m)) != 0) {
                return rc < 0 ? rc : hits;
            }
        }
    }
    return hits;
}

/* ---------------------------------------------------------------- descriptions */

static void json_list(struct vg_sbuf *b, const char *key, const char *p, size_t n)
{
    size_t i = 0;
    int k = 0;
    vg_sbuf_printf(b, ",\"%s\":[", key);
    while (i < n) {
        size_t j = i;
        while (j < n && p[j] != ',') {
            j++;
        }
        size_t a = i, e = j;
        while (a < e && p[a] == ' ') {
            a++;
        }
        while (e > a && p[e - 1] == ' ') {
            e--;
        }
        if (e > a) {
            vg_sbuf_adds(b, k++ ? "," : "");
            vg_sbuf_add_json_str(b, p + a, e - a);
        }
        i = j + 1;
    }
    vg_sbuf_addc(b, ']');
}

static void json_obj(struct vg_sbuf *b, const struct vgi_obj *o, const char *rel, size_t reln)
{
    vg_sbuf_adds(b, "{\"id\":");
    vg_sbuf_add_json_str(b, o->f[VGI_O_ID], o->n[VGI_O_ID]);
    vg_sbuf_adds(b, ",\"type\":");
    vg_sbuf_add_json_str(b, o->f[VGI_O_TYPE], o->n[VGI_O_TYPE]);
    vg_sbuf_adds(b, ",\"name\":");
    vg_sbuf_add_json_str(b, o->f[VGI_O_NAME], o->n[VGI_O_NAME]);
    if (o->n[VGI_O_EXT]) {
        vg_sbuf_adds(b, ",\"ext_id\":");
        vg_sbuf_add_json_str(b, o->f[VGI_O_EXT], o->n[VGI_O_EXT]);
    }
    if (reln) {
        vg_sbuf_adds(b, ",\"relationship\":");
        vg_sbuf_add_json_str(b, rel, reln);
    }
    vg_sbuf_addc(b, '}');
}

struct relset {
    uint64_t h[REL_MAX];
    unsigned n;
};

/* Describe the object with id (hash h) once; returns true if it was written. */
static bool add_related(const struct vg_intel_snap *s, struct vg_sbuf *b, struct relset *rs,
                        uint64_t h, const char *rel, size_t reln, struct vgi_obj *out)
{
    size_t i = oent_find(s->objs, s->nobjs, h);
    struct vgi_obj o;
    for (unsigned k = 0; k < rs->n; k++) {
        if (rs->h[k] == h) {
            return false;
        }
    }
    if (i == s->nobjs || rs->n == REL_MAX ||
        vgi_obj_get(&s->src[s->objs[i].src].f, s->objs[i].idx, &o) != VG_OK) {
        return false;
    }
    vg_sbuf_adds(b, rs->n ? "," : "");
    rs->h[rs->n++] = h;
    json_obj(b, &o, rel, reln);
    if (out) {
        *out = o;
    }
    return true;
}

/* Objects reached from id by relationships; with second, attack-patterns one hop further. */
static void related_of(const struct vg_intel_snap *s, struct vg_sbuf *b, struct relset *rs,
                       const char *id, size_t idn, bool second)
{
    uint64_t h = id_hash(id, idn);
    for (size_t i = oent_find(s->rels, s->nrels, h); i < s->nrels && s->rels[i].h == h; i++) {
        struct vgi_obj r, o;
        if (vgi_obj_get(&s->src[s->rels[i].src].f, s->rels[i].idx, &r) != VG_OK ||
            !vg_str_eq(r.f[VGI_O_SRC], r.n[VGI_O_SRC], id, idn)) {
            continue;
        }
        if (add_related(s, b, rs, id_hash(r.f[VGI_O_DST], r.n[VGI_O_DST]), r.f[VGI_O_RTYPE],
                        r.n[VGI_O_RTYPE], &o) &&
            second && !vg_str_eq(o.f[VGI_O_TYPE], o.n[VGI_O_TYPE], "attack-pattern", 14)) {
            related_of(s, b, rs, o.f[VGI_O_ID], o.n[VGI_O_ID], false);
        }
    }
}

static void describe_rec(const struct vg_intel_snap *s, uint32_t si, const struct vgi_rec *r,
                         uint32_t now, struct vg_sbuf *b)
{
    struct vg_intel_ctx c = {(uint16_t)si, r->confidence,  r->flags, r->first_seen,
                             r->last_seen, r->valid_until, 0};
    struct relset rs = {.n = 0};
    size_t i = 0;
    vg_sbuf_adds(b, "{\"value\":");
    vg_sbuf_add_json_str(b, r->f[VGI_F_VALUE], r->n[VGI_F_VALUE]);
    vg_sbuf_printf(b, ",\"type\":\"%s\",\"source\":", vg_intel_type_name(r->type));
    vg_sbuf_add_json_str(b, s->src[si].name, strlen(s->src[si].name));
    vg_sbuf_printf(b, ",\"confidence\":%u,\"confidence_now\":%u", r->confidence,
                   vg_intel_ctx_confidence_at(&c, now, s->src[si].pol.half_life_s));
    if (r->first_seen) {
        vg_sbuf_adds(b, ",\"first_seen\":");
        vgi_json_time(b, r->first_seen);
    }
    if (r->last_seen) {
        vg_sbuf_adds(b, ",\"last_seen\":");
        vgi_json_time(b, r->last_seen);
    }
    if (r->valid_until) {
        vg_sbuf_adds(b, ",\"valid_until\":");
        vgi_json_time(b, r->valid_until);
    }
    vg_sbuf_printf(b, ",\"expired\":%s,\"subdomains\":%s",
                   r->valid_until && r->valid_until <= now ? "true" : "false",
                   r->flags & VG_INTEL_F_SUBDOMAINS ? "true" : "false");
    json_list(b, "tags", r->f[VGI_F_TAGS], r->n[VGI_F_TAGS]);
    vg_sbuf_adds(b, ",\"ref\":");
    vg_sbuf_add_json_str(b, r->f[VGI_F_REF], r->n[VGI_F_REF]);
    vg_sbuf_adds(b, ",\"name\":");
    vg_sbuf_add_json_str(b, r->f[VGI_F_NAME], r->n[VGI_F_NAME]);
    vg_sbuf_adds(b, ",\"related\":[");
    while (i < r->n[VGI_F_RELATED]) {
        const char *p = r->f[VGI_F_RELATED] + i;
        size_t n = 0;
        while (i + n < r->n[VGI_F_RELATED] && p[n] != ',') {
            n++;
        }
        struct vgi_obj o;
        if (n && add_related(s, b, &rs, id_hash(p, n), NULL, 0, &o)) {
            related_of(s, b, &rs, o.f[VGI_O_ID], o.n[VGI_O_ID], false);
        }
        i += n + 1;
    }
    if (r->n[VGI_F_REF]) {
        related_of(s, b, &rs, r->f[VGI_F_REF], r->n[VGI_F_REF], true);
    }
    vg_sbuf_printf(b, "],\"warninglisted\":%s",
                   r->flags & VG_INTEL_F_WARNINGLISTED ? "true" : "false");
    json_list(b, "warninglists", r->f[VGI_F_WL], r->n[VGI_F_WL]);
    vg_sbuf_addc(b, '}');
}

void vg_intel_snap_describe(const struct vg_intel_snap *s, const struct vg_intel_hit *hit,
                            uint32_t now, struct vg_sbuf *out)
{
    struct vgi_rec r;
    uint32_t si = hit->ctx->source;
    if (si >= s->nsrc || vgi_rec_get(&s->src[si].f, hit->ctx->tags, &r) != VG_OK) {
        vg_sbuf_adds(out, "{}");
        return;
    }
    describe_rec(s, si, &r, now, out);
}

/* ---------------------------------------------------------------- search and iteration */

static bool ci_contains(const char *h, size_t hn, const char *q, size_t qn)
{
    if (!qn) {
        return true;
    }
    for (size_t i = 0; i + qn <= hn; i++) {
        size_t k = 0;
        while (k < qn && vg_str_ieq_ascii(h + i + k, 1, q + k, 1)) {
            k++;
        }
        if (k == qn) {
            return true;
        }
    }
    return false;
}

/* Offset/limit paging of search results handed to a callback. */
struct pager {
    size_t offset, limit, seen;
    long written;
    vg_intel_json_cb cb;
    void *u;
};

/* Another match: skipped while under the offset, else written. Returns 1 when the limit is
 * reached, 0 to go on, or a negative status (the callback's, or VG_ENOMEM). */
static int pager_emit(struct pager *pg, const struct vg_sbuf *b)
{
    int rc = b->err ? VG_ENOMEM : pg->cb(pg->u, b->p, b->len);
    if (rc < 0) {
        return rc;
    }
    return ++pg->written == (long)pg->limit && pg->limit ? 1 : 0;
}

static bool pager_skip(struct pager *pg)
{
    return pg->seen++ < pg->offset;
}

static bool rec_matches(const struct vgi_rec *r, const char *q, size_t qn)
{
    for (int k = 0; k <= VGI_F_TAGS; k++) {
        if (ci_contains(r->f[k], r->n[k], q, qn)) {
            return true;
        }
    }
    return false;
}

long vg_intel_snap_search(const struct vg_intel_snap *s, const char *q, enum vg_intel_type type,
                          const char *source, uint32_t now, size_t offset, size_t limit,
                          vg_intel_json_cb cb, void *u)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    struct pager pg = {offset, limit, 0, 0, cb, u};
    size_t qn = q ? strlen(q) : 0;
    int rc = 0;
    for (uint32_t si = 0; si < s->nsrc && rc == 0; si++) {
        if (source && strcmp(source, s->src[si].name) != 0) {
            continue;
        }
        for (uint32_t i = 0; i < s->src[si].f.nrec && rc == 0; i++) {
            struct vgi_rec r;
            if (vgi_rec_get(&s->src[si].f, i, &r) != VG_OK ||
                ((unsigned)type < VG_INTEL_TYPE_COUNT && r.type != type) ||
                !rec_matches(&r, q ? q : "", qn) || pager_skip(&pg)) {
                continue;
            }
            vg_sbuf_reset(&b);
            describe_rec(s, si, &r, now, &b);
            rc = pager_emit(&pg, &b);
        }
    }
    vg_sbuf_fini(&b);
    return rc < 0 ? rc : pg.written;
}

static bool obj_matches(const struct vgi_obj *o, const char *type, const char *q, size_t qn)
{
    if (type && *type && !vg_str_eq(o->f[VGI_O_TYPE], o->n[VGI_O_TYPE], type, strlen(type))) {
        return false;
    }
    return ci_contains(o->f[VGI_O_ID], o->n[VGI_O_ID], q, qn) ||
           ci_contains(o->f[VGI_O_NAME], o->n[VGI_O_NAME], q, qn) ||
           ci_contains(o->f[VGI_O_EXT], o->n[VGI_O_EXT], q, qn);
}

long vg_intel_snap_objects(const struct vg_intel_snap *s, const char *q, const char *type,
                           size_t offset, size_t limit, vg_intel_json_cb cb, void *u)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    struct pager pg = {offset, limit, 0, 0, cb, u};
    size_t qn = q ? strlen(q) : 0;
    int rc = 0;
    for (uint32_t si = 0; si < s->nsrc && rc == 0; si++) {
        for (uint32_t i = 0; i < s->src[si].f.nobj && rc == 0; i++) {
            struct vgi_obj o;
            if (vgi_obj_get(&s->src[si].f, i, &o) != VG_OK ||
                !obj_matches(&o, type, q ? q : "", qn) || pager_skip(&pg)) {
                continue;
            }
            vg_sbuf_reset(&b);
            json_obj(&b, &o, NULL, 0);
            b.len--; /* reopen: add active and source */
            vg_sbuf_printf(&b, ",\"active\":%s,\"source\":", o.active ? "true" : "false");
            vg_sbuf_add_json_str(&b, s->src[si].name, strlen(s->src[si].name));
            vg_sbuf_addc(&b, '}');
            rc = pager_emit(&pg, &b);
        }
    }
    vg_sbuf_fini(&b);
    return rc < 0 ? rc : pg.written;
}

int vg_intel_snap_foreach(const struct vg_intel_snap *s, vg_intel_rec_cb cb, void *u)
{
    for (uint32_t si = 0; si < s->nsrc; si++) {
        for (uint32_t i = 0; i < s->src[si].f.nrec; i++) {
            struct vgi_rec r;
            struct vg_intel_rec out;
            int rc;
            if (vgi_rec_get(&s->src[si].f, i, &r) != VG_OK) {
                continue;
            }
            out = (struct vg_intel_rec){
                .type = (enum vg_intel_type)r.type,
                .value = r.f[VGI_F_VALUE],
                .value_len = r.n[VGI_F_VALUE],
                .confidence = r.confidence,
                .flags = r.flags,
                .first_seen = r.first_seen,
                .last_seen = r.last_seen,
                .valid_until = r.valid_until,
                .ref = r.f[VGI_F_REF],
                .ref_len = r.n[VGI_F_REF],
                .name = r.f[VGI_F_NAME],
                .name_len = r.n[VGI_F_NAME],
                .tags = r.f[VGI_F_TAGS],
                .tags_len = r.n[VGI_F_TAGS],
                .related = r.f[VGI_F_RELATED],
                .related_len = r.n[VGI_F_RELATED],
            };
            if ((rc = cb(u, s->src[si].name, &out)) != 0) {
                return rc;
            }
        }
    }
    return VG_OK;
}
