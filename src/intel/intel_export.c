/*
 * intel_export.c — Suricata dataset and Zeek intel exports of the indicator store (issue 7;
 * contract in intel_export.h).
 *
 * Sits after the store: `vigie intel export` walks a snapshot and feeds each record here.
 * Each value is checked (vg_intel_value_check), normalised where the target needs it
 * (lower-case names and hashes, "*." dropped, /32 and /128 written as addresses, URL scheme
 * dropped for Zeek), de-duplicated across sources by a 64-bit hash set, and appended to a
 * temporary file renamed into place by finish.
 */
#include "intel/intel_export.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Suricata dataset files. */
enum sfile {
    SF_IPV4,
    SF_IPV6,
    SF_DOMAIN,
    SF_URL,
    SF_EMAIL,
    SF_FILENAME,
    SF_MD5,
    SF_SHA1,
    SF_SHA256,
    SF_SHA512,
    SF_JA3,
    SF_JA3S,
    SF_CERT,
    SF_N
};

struct sfile_desc {
    const char *file, *set, *dtype;
    bool b64;
    /* example rules: "proto|buffer|what" separated by ';' ("" none) */
    const char *rules;
};

static const struct sfile_desc sfiles[SF_N] = {
    [SF_IPV4] = {"ipv4.lst", "vigie-ipv4", "ipv4", false,
                 "ip|ip.dst|IPv4 destination;ip|ip.src|IPv4 source"},
    [SF_IPV6] = {"ipv6.lst", "vigie-ipv6", "ipv6", false,
                 "ip|ip.dst|IPv6 destination;ip|ip.src|IPv6 source"},
    [SF_DOMAIN] = {"domain.lst", "vigie-domain", "string", true,
                   "dns|dns.query|DNS query;tls|tls.sni|TLS SNI;http|http.host|HTTP host"},
    [SF_URL] = {"url.lst", "vigie-url", "string", true, ""},
    [SF_EMAIL] = {"email.lst", "vigie-email", "string", true, ""},
    [SF_FILENAME] = {"filename.lst", "vigie-filename", "string", true, "http|file.name|file name"},
    [SF_MD5] = {"md5.lst", "vigie-md5", "md5", false, ""},
    [SF_SHA1] = {"sha1.lst", "vigie-sha1", "string", true, ""},
    [SF_SHA256] = {"sha256.lst", "vigie-sha256", "sha256", false, ""},
    [SF_SHA512] = {"sha512.lst", "vigie-sha512", "string", true, ""},
    [SF_JA3] = {"ja3.lst", "vigie-ja3", "string", true, "tls|ja3.hash|JA3"},
    [SF_JA3S] = {"ja3s.lst", "vigie-ja3s", "string", true, "tls|ja3s.hash|JA3S"},
    [SF_CERT] = {"tls-cert-sha1.lst", "vigie-tls-cert-sha1", "string", true,
                 "tls|tls.cert_fingerprint|TLS certificate SHA-1"},
};

static const int type_sfile[VG_INTEL_TYPE_COUNT] = {
    [VG_INTEL_IPV4] = SF_IPV4,      [VG_INTEL_IPV6] = SF_IPV6,
    [VG_INTEL_DOMAIN] = SF_DOMAIN,  [VG_INTEL_URL] = SF_URL,
    [VG_INTEL_EMAIL] = SF_EMAIL,    [VG_INTEL_MD5] = SF_MD5,
    [VG_INTEL_SHA1] = SF_SHA1,      [VG_INTEL_SHA256] = SF_SHA256,
    [VG_INTEL_SHA512] = SF_SHA512,  [VG_INTEL_JA3] = SF_JA3,
    [VG_INTEL_JA3S] = SF_JA3S,      [VG_INTEL_FILENAME] = SF_FILENAME,
    [VG_INTEL_X509_SHA1] = SF_CERT, [VG_INTEL_X509_SHA256] = -1,
};

static const char *const zeek_types[VG_INTEL_TYPE_COUNT] = {
    [VG_INTEL_IPV4] = "Intel::ADDR",           [VG_INTEL_IPV6] = "Intel::ADDR",
    [VG_INTEL_DOMAIN] = "Intel::DOMAIN",       [VG_INTEL_URL] = "Intel::URL",
    [VG_INTEL_EMAIL] = "Intel::EMAIL",         [VG_INTEL_MD5] = "Intel::FILE_HASH",
    [VG_INTEL_SHA1] = "Intel::FILE_HASH",      [VG_INTEL_SHA256] = "Intel::FILE_HASH",
    [VG_INTEL_SHA512] = "Intel::FILE_HASH",    [VG_INTEL_FILENAME] = "Intel::FILE_NAME",
    [VG_INTEL_X509_SHA1] = "Intel::CERT_HASH",
};

enum skip { SK_WL, SK_EXPIRED, SK_INVALID, SK_DUP, SK_CIDR, SK_UNSUPPORTED, SK_N };
static const char *const skip_names[SK_N] = {"warninglisted", "expired", "invalid",
                                             "duplicate",     "cidr",    "unsupported"};

struct vg_intel_export {
    enum vg_intel_export_fmt fmt;
    char *path; /* directory (Suricata) or file (Zeek) */
    uint32_t now;
    unsigned flags;
    FILE *f[SF_N]; /* Suricata; Zeek uses f[0] */
    uint64_t n[SF_N];
    uint64_t written;
    uint64_t skipped[SK_N];
    uint64_t *seen; /* open-addressing set of value hashes (0 = empty) */
    size_t seen_cap, seen_n;
    struct vg_sbuf val, line;
    bool finished;
};

int vg_intel_export_fmt_parse(const char *name, enum vg_intel_export_fmt *out)
{
    if (strcmp(name, "suricata") == 0) {
        *out = VG_INTEL_EXPORT_SURICATA;
    } else if (strcmp(name, "zeek") == 0) {
        *out = VG_INTEL_EXPORT_ZEEK;
    } else {
        return VG_EINVAL;
    }
    return 0;
}

/* "<path>/<name>" or "<path>" (name NULL), with an optional ".tmp" suffix. */
static void file_path(const struct vg_intel_export *x, const char *name, bool tmp, char *buf,
                      size_t size)
{
    if (name) {
        snprintf(buf, size, "%s/%s%s", x->path, name, tmp ? ".tmp" : "");
    } else {
        snprintf(buf, size, "%s%s", x->path, tmp ? ".tmp" : "");
    }
}

static int open_tmp(struct vg_intel_export *x, int i, const char *name, char *err, size_t errsz)
{
    char p[4096];
    file_path(x, name, true, p, sizeof(p));
    x->f[i] = fopen(p, "w");
    if (x->f[i] == NULL) {
        snprintf(err, errsz, "%s: %s", p, strerror(errno));
        return VG_EIO;
    }
    return 0;
}

int vg_intel_export_create(enum vg_intel_export_fmt f, const char *dir_or_path, uint32_t now,
                           unsigned flags, struct vg_intel_export **out, char *err, size_t errsz)
{
    struct vg_intel_export *x = vg_calloc(1, sizeof(*x));
    int rc = VG_ENOMEM;
    *out = NULL;
    if (x == NULL || (x->path = vg_strdup(dir_or_path)) == NULL) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    x->fmt = f;
    x->now = now;
    x->flags = flags;
    if (f == VG_INTEL_EXPORT_SURICATA) {
        if (mkdir(dir_or_path, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errsz, "%s: %s", dir_or_path, strerror(errno));
            rc = VG_EIO;
            goto fail;
        }
    } else {
        rc = open_tmp(x, 0, NULL, err, errsz);
        if (rc != 0) {
            goto fail;
        }
        fputs("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n", x->f[0]);
    }
    *out = x;
    return 0;
fail:
    vg_intel_export_destroy(x);
    return rc;
}

/* ---------------------------------------------------------------- values */

/* Insert h; false when already present. */
static int seen_add(struct vg_intel_export *x, uint64_t h, bool *fresh)
{
    h = h ? h : 1;
    if (x->seen_n * 2 >= x->seen_cap) {
        size_t cap = x->seen_cap ? x->seen_cap * 2 : 1024;
        uint64_t *t = vg_calloc(cap, sizeof(*t));
        if (t == NULL) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < x->seen_cap; i++) {
            if (x->seen[i]) {
                size_t j = (size_t)x->seen[i] & (cap - 1);
                while (t[j]) {
                    j = (j + 1) & (cap - 1);
                }
                t[j] = x->seen[i];
            }
        }
        vg_free(x->seen);
        x->seen = t;
        x->seen_cap = cap;
    }
    size_t j = (size_t)h & (x->seen_cap - 1);
    while (x->seen[j]) {
        if (x->seen[j] == h) {
            *fresh = false;
            return 0;
        }
        j = (j + 1) & (x->seen_cap - 1);
    }
    x->seen[j] = h;
    x->seen_n++;
    *fresh = true;
    return 0;
}

static bool lower_type(enum vg_intel_type t)
{
    return t != VG_INTEL_URL && t != VG_INTEL_FILENAME;
}

/*
 * Normalise r's value into x->val: trimmed, lower-cased where case carries no meaning, "*."
 * and a trailing dot dropped from domains, "/32" and "/128" dropped. *cidr tells a prefix.
 */
static void norm_value(struct vg_intel_export *x, const struct vg_intel_rec *r, bool *cidr)
{
    const char *v = r->value;
    size_t n = r->value_len;
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r')) {
        n--;
    }
    if (r->type == VG_INTEL_DOMAIN) {
        if (n > 2 && v[0] == '*' && v[1] == '.') {
            v += 2;
            n -= 2;
        }
        if (n > 1 && v[n - 1] == '.') {
            n--;
        }
    }
    *cidr = false;
    if (r->type == VG_INTEL_IPV4 || r->type == VG_INTEL_IPV6) {
        const char *sl = memchr(v, '/', n);
        if (sl) {
            size_t pl = n - (size_t)(sl + 1 - v);
            bool host = (r->type == VG_INTEL_IPV4 && vg_str_eq(sl + 1, pl, "32", 2)) ||
                        (r->type == VG_INTEL_IPV6 && vg_str_eq(sl + 1, pl, "128", 3));
            if (host) {
                n = (size_t)(sl - v);
            } else {
                *cidr = true;
            }
        }
    }
    vg_sbuf_reset(&x->val);
    vg_sbuf_add(&x->val, v, n);
    if (lower_type(r->type) && x->val.p) {
        for (size_t i = 0; i < x->val.len; i++) {
            char c = x->val.p[i];
            x->val.p[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
}

static void add_b64(struct vg_sbuf *s, const char *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *u = (const uint8_t *)p;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
        char q[4] = {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
        vg_sbuf_add(s, q, 4);
    }
    if (i < n) {
        uint32_t v = (uint32_t)u[i] << 16 | (i + 1 < n ? (uint32_t)u[i + 1] << 8 : 0);
        char q[4] = {a[v >> 18], a[(v >> 12) & 63], i + 1 < n ? a[(v >> 6) & 63] : '=', '='};
        vg_sbuf_add(s, q, 4);
    }
}

/* "aabb…" → "aa:bb:…" (tls.cert_fingerprint's form). */
static void add_colon_hex(struct vg_sbuf *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 2) {
        if (i) {
            vg_sbuf_addc(s, ':');
        }
        vg_sbuf_add(s, p + i, i + 1 < n ? 2 : 1);
    }
}

/* Zeek field: tabs, newlines and other control bytes become spaces; "" becomes "-". */
static void add_zeek_field(struct vg_sbuf *s, const char *p, size_t n)
{
    if (p == NULL || n == 0) {
        vg_sbuf_addc(s, '-');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        vg_sbuf_addc(s, c < 0x20 || c == 0x7f ? ' ' : (char)c);
    }
}

static int add_suricata(struct vg_intel_export *x, const struct vg_intel_rec *r, bool cidr)
{
    int i = type_sfile[r->type];
    char err[256];
    if (i < 0) {
        x->skipped[SK_UNSUPPORTED]++;
        return 1;
    }
    if (cidr) {
        x->skipped[SK_CIDR]++;
        return 1;
    }
    vg_sbuf_reset(&x->line);
    if (i == SF_CERT) {
        struct vg_sbuf tmp = VG_SBUF_INIT;
        add_colon_hex(&tmp, x->val.p, x->val.len);
        add_b64(&x->line, tmp.p ? tmp.p : "", tmp.len);
        vg_sbuf_fini(&tmp);
    } else if (sfiles[i].b64) {
        add_b64(&x->line, x->val.p, x->val.len);
    } else {
        vg_sbuf_add(&x->line, x->val.p, x->val.len);
    }
    vg_sbuf_addc(&x->line, '\n');
    if (x->line.err) {
        return VG_ENOMEM;
    }
    if (x->f[i] == NULL && open_tmp(x, i, sfiles[i].file, err, sizeof(err)) != 0) {
        VG_ERR("intel", "export: %s", err);
        return VG_EIO;
    }
    if (fwrite(x->line.p, 1, x->line.len, x->f[i]) != x->line.len) {
        return VG_EIO;
    }
    x->n[i]++;
    return 0;
}

static int add_zeek(struct vg_intel_export *x, const char *source, const struct vg_intel_rec *r,
                    bool cidr)
{
    const char *zt = zeek_types[r->type];
    const char *v = x->val.p;
    size_t n = x->val.len;
    if (zt == NULL) {
        x->skipped[SK_UNSUPPORTED]++;
        return 1;
    }
    if (cidr) {
        zt = "Intel::SUBNET";
    }
    if (r->type == VG_INTEL_URL) {
        const char *sep = vg_memmem(v, n, "://", 3);
        if (sep) {
            n -= (size_t)(sep + 3 - v);
            v = sep + 3;
        }
    }
    vg_sbuf_reset(&x->line);
    add_zeek_field(&x->line, v, n);
    vg_sbuf_printf(&x->line, "\t%s\t", zt);
    add_zeek_field(&x->line, source ? source : "vigie", strlen(source ? source : "vigie"));
    vg_sbuf_addc(&x->line, '\t');
    if (r->name_len > 0) {
        add_zeek_field(&x->line, r->name, r->name_len);
    } else {
        add_zeek_field(&x->line, r->tags, r->tags_len);
    }
    vg_sbuf_addc(&x->line, '\t');
    bool url = r->ref_len > 7 && (vg_str_ieq_ascii(r->ref, 7, "http://", 7) ||
                                  vg_str_ieq_ascii(r->ref, 8, "https://", 8));
    add_zeek_field(&x->line, url ? r->ref : NULL, url ? r->ref_len : 0);
    vg_sbuf_addc(&x->line, '\n');
    if (x->line.err) {
        return VG_ENOMEM;
    }
    if (fwrite(x->line.p, 1, x->line.len, x->f[0]) != x->line.len) {
        return VG_EIO;
    }
    x->n[0]++;
    return 0;
}

int vg_intel_export_add(struct vg_intel_export *x, const char *source, const struct vg_intel_rec *r)
{
    char err[256];
    bool cidr, fresh;
    int rc;
    if ((unsigned)r->type >= VG_INTEL_TYPE_COUNT) {
        x->skipped[SK_UNSUPPORTED]++;
        return 0;
    }
    if ((r->flags & VG_INTEL_F_WARNINGLISTED) && !(x->flags & VG_INTEL_EXPORT_WARNINGLISTED)) {
        x->skipped[SK_WL]++;
        return 0;
    }
    if (x->now && r->valid_until && r->valid_until < x->now) {
        x->skipped[SK_EXPIRED]++;
        return 0;
    }
    if (vg_intel_value_check(r->type, r->value, r->value_len, err, sizeof(err)) != 0) {
        x->skipped[SK_INVALID]++;
        return 0;
    }
    norm_value(x, r, &cidr);
    if (x->val.err) {
        return VG_ENOMEM;
    }
    rc = seen_add(x, vg_hash64(x->val.p, x->val.len, 0x9e37u + (uint64_t)r->type), &fresh);
    if (rc != 0) {
        return rc;
    }
    if (!fresh) {
        x->skipped[SK_DUP]++;
        return 0;
    }
    rc = x->fmt == VG_INTEL_EXPORT_SURICATA ? add_suricata(x, r, cidr)
                                            : add_zeek(x, source, r, cidr);
    if (rc == 0) {
        x->written++;
    }
    return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- finish */

static void rules_for(struct vg_sbuf *s, int i, unsigned *sid)
{
    const struct sfile_desc *d = &sfiles[i];
    const char *p = d->rules;
    while (*p) {
        const char *e = strchr(p, ';'), *b1 = strchr(p, '|'), *b2 = strchr(b1 + 1, '|');
        if (e == NULL) {
            e = p + strlen(p);
        }
        vg_sbuf_printf(s,
                       "alert %.*s any any -> any any (msg:\"VIGIE intel %.*s listed (%s)\"; "
                       "%.*s; dataset:isset,%s,type %s,load %s; sid:%u; rev:1;)\n",
                       (int)(b1 - p), p, (int)(e - b2 - 1), b2 + 1, d->file, (int)(b2 - b1 - 1),
                       b1 + 1, d->set, d->dtype, d->file, (*sid)++);
        p = *e ? e + 1 : e;
    }
}

static int write_rules(struct vg_intel_export *x, char *err, size_t errsz)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    unsigned sid = 9700001;
    char p[4096];
    int rc = 0;
    FILE *f;
    vg_sbuf_adds(&s, "# vigie-intel.rules - generated by Vigie from its indicator store.\n"
                     "# Suricata 7 datasets: each .lst file sits beside this file (dataset load\n"
                     "# paths are relative to the rule file). ipv4/ipv6: one address per line;\n"
                     "# md5/sha256: hex; the others are type string (base64 of the value).\n"
                     "# Files without a rule (url, email, md5, sha1, sha256, sha512) have no\n"
                     "# Suricata 7 sticky buffer to match them on; use them from Lua or\n"
                     "# filemd5/filesha256 lists. ja3/ja3s are type string, not md5: ja3.hash\n"
                     "# holds the 32-character hex text, an md5 dataset 16 raw bytes.\n"
                     "# sids 9700001+.\n");
    for (int i = 0; i < SF_N; i++) {
        if (x->n[i] == 0) {
            continue;
        }
        vg_sbuf_printf(&s, "# %s: %llu entries, dataset %s type %s\n", sfiles[i].file,
                       (unsigned long long)x->n[i], sfiles[i].set, sfiles[i].dtype);
        rules_for(&s, i, &sid);
    }
    if (s.err) {
        rc = VG_ENOMEM;
        goto out;
    }
    file_path(x, "vigie-intel.rules", true, p, sizeof(p));
    f = fopen(p, "w");
    if (f == NULL || fwrite(s.p, 1, s.len, f) != s.len || fclose(f) != 0) {
        snprintf(err, errsz, "%s: %s", p, strerror(errno));
        rc = VG_EIO;
        goto out;
    }
    rc = 0;
out:
    vg_sbuf_fini(&s);
    return rc;
}

/* Close file i (-1: none open; name NULL: the Zeek file) and rename it into place. */
static int commit_file(struct vg_intel_export *x, int i, const char *name, char *err, size_t errsz)
{
    char tmp[4096], fin[4096];
    file_path(x, name, true, tmp, sizeof(tmp));
    file_path(x, name, false, fin, sizeof(fin));
    if (i >= 0 && x->f[i] != NULL) {
        int bad = ferror(x->f[i]);
        if (fclose(x->f[i]) != 0 || bad) {
            x->f[i] = NULL;
            snprintf(err, errsz, "%s: write failed", tmp);
            return VG_EIO;
        }
        x->f[i] = NULL;
    }
    if (rename(tmp, fin) != 0) {
        snprintf(err, errsz, "%s: %s", fin, strerror(errno));
        return VG_EIO;
    }
    return 0;
}

static void summary_json(const struct vg_intel_export *x, struct vg_sbuf *s)
{
    vg_sbuf_printf(s, "{\"format\":\"%s\",\"path\":",
                   x->fmt == VG_INTEL_EXPORT_SURICATA ? "suricata" : "zeek");
    vg_sbuf_add_json_str(s, x->path, strlen(x->path));
    vg_sbuf_printf(s, ",\"written\":%llu,\"files\":{", (unsigned long long)x->written);
    for (int i = 0, first = 1; x->fmt == VG_INTEL_EXPORT_SURICATA && i < SF_N; i++) {
        if (x->n[i]) {
            vg_sbuf_printf(s, "%s\"%s\":%llu", first ? "" : ",", sfiles[i].file,
                           (unsigned long long)x->n[i]);
            first = 0;
        }
    }
    vg_sbuf_adds(s, "},\"skipped\":{");
    for (int k = 0; k < SK_N; k++) {
        vg_sbuf_printf(s, "%s\"%s\":%llu", k ? "," : "", skip_names[k],
                       (unsigned long long)x->skipped[k]);
    }
    vg_sbuf_adds(s, "}}");
}

int vg_intel_export_finish(struct vg_intel_export *x, struct vg_sbuf *summary, char *err,
                           size_t errsz)
{
    int rc = 0;
    char p[4096];
    if (x->fmt == VG_INTEL_EXPORT_ZEEK) {
        rc = commit_file(x, 0, NULL, err, errsz);
    } else {
        for (int i = 0; i < SF_N && rc == 0; i++) {
            if (x->f[i] != NULL) {
                rc = commit_file(x, i, sfiles[i].file, err, errsz);
            } else {
                /* no entries this time: a file from an earlier export would be stale */
                file_path(x, sfiles[i].file, false, p, sizeof(p));
                unlink(p);
            }
        }
        if (rc == 0) {
            rc = write_rules(x, err, errsz);
        }
        if (rc == 0) {
            rc = commit_file(x, -1, "vigie-intel.rules", err, errsz);
        }
    }
    x->finished = rc == 0;
    if (rc == 0 && summary != NULL) {
        summary_json(x, summary);
    }
    return rc;
}

void vg_intel_export_destroy(struct vg_intel_export *x)
{
    char p[4096];
    if (x == NULL) {
        return;
    }
    for (int i = 0; i < SF_N; i++) {
        if (x->f[i] != NULL) {
            fclose(x->f[i]);
            file_path(x, x->fmt == VG_INTEL_EXPORT_ZEEK ? NULL : sfiles[i].file, true, p,
                      sizeof(p));
            unlink(p);
        }
    }
    vg_sbuf_fini(&x->val);
    vg_sbuf_fini(&x->line);
    vg_free(x->seen);
    vg_free(x->path);
    vg_free(x);
}
