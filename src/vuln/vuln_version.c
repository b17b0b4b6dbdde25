/*
 * vuln_version.c — version schemes for vulnerability matching (issue 8): dpkg, rpm, Semantic
 * Versioning 2.0.0, PEP 440 and apk comparison, and OSV range evaluation on top of them.
 *
 * Sits under the matcher (vuln_match.c): every "is installed version X affected by this
 * advisory" question ends in vg_vuln_range_contains → vg_vuln_vercmp. Versions come from
 * package databases and advisory feeds, so they are untrusted: every comparator works on
 * (pointer, length) without allocating, accepts digit runs of any length (compared as
 * strings, never converted to integers, so nothing overflows), and rejects what its scheme
 * does not allow with a message naming the version and the problem.
 *
 * The algorithms are those of the reference tools: dpkg's verrevcmp (lib/dpkg/version.c),
 * rpm 4.18's rpmvercmp/rpmverCmp, semver.org 2.0.0 §11, packaging.version (PyPA) for
 * PEP 440, and apk-tools 2.x's apk_version_compare for Alpine.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vuln/vuln_version.h"

/* A byte span inside a caller's version string. */
struct vspan {
    const char *p;
    size_t n;
};

#define VV_SHOW 64 /* bytes of a version echoed in an error message */

__attribute__((format(printf, 3, 4))) static void vv_err(char *err, size_t errsz, const char *fmt,
                                                         ...)
{
    va_list ap;
    if (!err || errsz == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

static bool vv_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool vv_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool vv_alnum(int c)
{
    return vv_digit(c) || vv_alpha(c);
}

static int vv_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Byte i of s (length n) as unsigned, or 0 past the end (the C-string view of the span). */
static int vv_at(const char *s, size_t n, size_t i)
{
    return i < n ? (unsigned char)s[i] : 0;
}

static int vv_sign(long v)
{
    return (v > 0) - (v < 0);
}

/* Compare two decimal digit strings numerically, ignoring leading zeros, any length. */
static int vv_numcmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c;
    while (an > 0 && *a == '0') {
        a++;
        an--;
    }
    while (bn > 0 && *b == '0') {
        b++;
        bn--;
    }
    if (an != bn) {
        return an < bn ? -1 : 1;
    }
    c = an ? memcmp(a, b, an) : 0;
    return vv_sign(c);
}

static bool vv_all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!vv_digit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

/*
 * Common validation: not empty, no whitespace, control byte or NUL inside (an embedded NUL
 * would make the span and C-string views disagree). `what` names the scheme.
 */
static int vv_check_bytes(const char *what, const char *v, size_t n, char *err, size_t errsz)
{
    if (!v || n == 0) {
        vv_err(err, errsz, "%s: empty version", what);
        return VG_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= ' ' || c == 0x7f) {
            vv_err(err, errsz, "%s: '%.*s' has %s at offset %zu", what,
                   (int)(n < VV_SHOW ? n : VV_SHOW), v, c == ' ' ? "a space" : "a control byte", i);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

static void vv_trim(const char **v, size_t *n)
{
    while (*n > 0 && (**v == ' ' || **v == '\t' || **v == '\n' || **v == '\r')) {
        (*v)++;
        (*n)--;
    }
    while (*n > 0 && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t' || (*v)[*n - 1] == '\n' ||
                      (*v)[*n - 1] == '\r')) {
        (*n)--;
    }
}

/* ================================================================ dpkg */

struct vv_dpkg {
    struct vspan epoch, upstream, revision;
};

/* dpkg's lib/dpkg/version.c order(): '~' before everything (even the end), letters before
 * other characters, digits and the end as 0. */
static int vv_dpkg_order(int c)
{
    if (vv_digit(c)) {
        return 0;
    }
    if (vv_alpha(c)) {
        return c;
    }
    if (c == '~') {
        return -1;
    }
    return c ? c + 256 : 0;
}

/* dpkg's verrevcmp over spans; leading zeros ignored, digit runs of any length. */
static int vv_verrevcmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an || j < bn) {
        while ((i < an && !vv_digit(vv_at(a, an, i))) || (j < bn && !vv_digit(vv_at(b, bn, j)))) {
            int ac = vv_dpkg_order(vv_at(a, an, i)), bc = vv_dpkg_order(vv_at(b, bn, j));
            if (ac != bc) {
                return vv_sign(ac - bc);
            }
            i++;
            j++;
        }
        size_t i0 = i, j0 = j;
        while (i < an && vv_digit(vv_at(a, an, i))) {
            i++;
        }
        while (j < bn && vv_digit(vv_at(b, bn, j))) {
            j++;
        }
        int c = vv_numcmp(a + i0, i - i0, b + j0, j - j0);
        if (c) {
            return c;
        }
    }
    return 0;
}

/* Split [epoch:]upstream[-revision] like dpkg's parseversion (lenient on characters). */
static int vv_dpkg_parse(const char *v, size_t n, struct vv_dpkg *out, char *err, size_t errsz)
{
    int show = (int)(n < VV_SHOW ? n : VV_SHOW);
    int rc = vv_check_bytes("dpkg", v, n, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    const char *colon = memchr(v, ':', n);
    out->epoch = (struct vspan){"0", 1};
    out->upstream = (struct vspan){v, n};
    if (colon) {
        size_t en = (size_t)(colon - v);
        if (en == 0) {
            vv_err(err, errsz, "dpkg: '%.*s': epoch in version is empty", show, v);
            return VG_EINVAL;
        }
        if (!vv_all_digits(v, en)) {
            vv_err(err, errsz, "dpkg: '%.*s': epoch in version is not a number", show, v);
            return VG_EINVAL;
        }
        out->epoch = (struct vspan){v, en};
        out->upstream = (struct vspan){colon + 1, n - en - 1};
    }
    out->revision = (struct vspan){"", 0};
    for (size_t k = out->upstream.n; k > 0; k--) {
        if (out->upstream.p[k - 1] == '-') {
            out->revision = (struct vspan){out->upstream.p + k, out->upstream.n - k};
            out->upstream.n = k - 1;
            if (out->revision.n == 0) {
                vv_err(err, errsz, "dpkg: '%.*s': revision number is empty", show, v);
                return VG_EINVAL;
            }
            break;
        }
    }
    if (out->upstream.n == 0) {
        vv_err(err, errsz, "dpkg: '%.*s': version number is empty", show, v);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int vv_dpkg_cmp(const char *a, size_t an, const char *b, size_t bn, int *cmp, char *err,
                       size_t errsz)
{
    struct vv_dpkg x, y;
    int rc = vv_dpkg_parse(a, an, &x, err, errsz);
    if (rc == VG_OK) {
        rc = vv_dpkg_parse(b, bn, &y, err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    int c = vv_numcmp(x.epoch.p, x.epoch.n, y.epoch.p, y.epoch.n);
    if (!c) {
        c = vv_verrevcmp(x.upstream.p, x.upstream.n, y.upstream.p, y.upstream.n);
    }
    if (!c) {
        c = vv_verrevcmp(x.revision.p, x.revision.n, y.revision.p, y.revision.n);
    }
    *cmp = c;
    return VG_OK;
}

/* ================================================================ rpm */

/* One step of rpmvercmp: skip separators in both, then handle '~', '^' or compare one
 * segment. Returns 2 to continue, 3 to stop the loop (one side ended), else the result. */
static int vv_rpm_step(const char *a, size_t an, size_t *pi, const char *b, size_t bn, size_t *pj)
{
    size_t i = *pi, j = *pj;
    int ca, cb;
    while (i < an && !vv_alnum(ca = vv_at(a, an, i)) && ca != '~' && ca != '^') {
        i++;
    }
    while (j < bn && !vv_alnum(cb = vv_at(b, bn, j)) && cb != '~' && cb != '^') {
        j++;
    }
    ca = vv_at(a, an, i);
    cb = vv_at(b, bn, j);
    *pi = i + 1;
    *pj = j + 1;
    if (ca == '~' || cb == '~') { /* tilde sorts before everything else */
        return ca != '~' ? 1 : (cb != '~' ? -1 : 2);
    }
    if (ca == '^' || cb == '^') { /* caret: after the base version, before anything else */
        if (!ca) {
            return -1;
        }
        if (!cb) {
            return 1;
        }
        return ca != '^' ? 1 : (cb != '^' ? -1 : 2);
    }
    if (!ca || !cb) {
        *pi = i;
        *pj = j;
        return 3;
    }
    bool isnum = vv_digit(ca);
    size_t i0 = i, j0 = j;
    while (i < an && (isnum ? vv_digit(vv_at(a, an, i)) : vv_alpha(vv_at(a, an, i)))) {
        i++;
    }
    while (j < bn && (isnum ? vv_digit(vv_at(b, bn, j)) : vv_alpha(vv_at(b, bn, j)))) {
        j++;
    }
    *pi = i;
    *pj = j;
    if (j == j0) { /* different segment types: numeric is newer */
        return isnum ? 1 : -1;
    }
    if (isnum) {
        int c = vv_numcmp(a + i0, i - i0, b + j0, j - j0);
        return c ? c : 2;
    }
    size_t la = i - i0, lb = j - j0, m = la < lb ? la : lb;
    int c = memcmp(a + i0, b + j0, m);
    if (c) {
        return vv_sign(c);
    }
    return la == lb ? 2 : (la < lb ? -1 : 1);
}

/* rpm 4.18 rpmvercmp over spans. */
static int vv_rpmvercmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    if (an == bn && memcmp(a, b, an) == 0) {
        return 0;
    }
    while (i < an || j < bn) {
        int r = vv_rpm_step(a, an, &i, b, bn, &j);
        if (r == 3) {
            break;
        }
        if (r != 2) {
            return r;
        }
    }
    if (i >= an && j >= bn) {
        return 0;
    }
    return i >= an ? -1 : 1;
}

struct vv_rpm {
    struct vspan e, v, r; /* r.p == NULL: no release */
};

/* rpmverParse: an epoch only when leading digits are followed by ':', release after the last
 * '-'. */
static int vv_rpm_parse(const char *s, size_t n, struct vv_rpm *out, char *err, size_t errsz)
{
    int show = (int)(n < VV_SHOW ? n : VV_SHOW);
    int rc = vv_check_bytes("rpm", s, n, err, errsz);
    size_t k = 0;
    if (rc != VG_OK) {
        return rc;
    }
    while (k < n && vv_digit((unsigned char)s[k])) {
        k++;
    }
    out->e = (struct vspan){"0", 1};
    out->v = (struct vspan){s, n};
    if (k < n && s[k] == ':') {
        if (k > 0) {
            out->e = (struct vspan){s, k};
        }
        out->v = (struct vspan){s + k + 1, n - k - 1};
    }
    out->r = (struct vspan){NULL, 0};
    for (size_t m = out->v.n; m > 0; m--) {
        if (out->v.p[m - 1] == '-') {
            out->r = (struct vspan){out->v.p + m, out->v.n - m};
            out->v.n = m - 1;
            break;
        }
    }
    if (out->v.n == 0) {
        vv_err(err, errsz, "rpm: '%.*s': version is empty", show, s);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* rpmverCmp: epoch, version, and the release only when both sides have one. */
static int vv_rpm_cmp(const char *a, size_t an, const char *b, size_t bn, int *cmp, char *err,
                      size_t errsz)
{
    struct vv_rpm x, y;
    int rc = vv_rpm_parse(a, an, &x, err, errsz);
    if (rc == VG_OK) {
        rc = vv_rpm_parse(b, bn, &y, err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    int c = vv_rpmvercmp(x.e.p, x.e.n, y.e.p, y.e.n);
    if (!c) {
        c = vv_rpmvercmp(x.v.p, x.v.n, y.v.p, y.v.n);
    }
    if (!c && x.r.p && y.r.p) {
        c = vv_rpmvercmp(x.r.p, x.r.n, y.r.p, y.r.n);
    }
    *cmp = c;
    return VG_OK;
}

/* ================================================================ semver */

struct vv_semver {
    struct vspan core[3];
    struct vspan pre; /* without the '-'; n == 0: none */
};

static bool vv_ident_char(int c)
{
    return vv_alnum(c) || c == '-';
}

/* Check dot-separated identifiers [0-9A-Za-z-]+; numeric ones without leading zeros when
 * `strict_num` (prerelease). */
static int vv_semver_idents(const char *v, size_t vn, struct vspan s, bool strict_num,
                            const char *what, char *err, size_t errsz)
{
    int show = (int)(vn < VV_SHOW ? vn : VV_SHOW);
    size_t start = 0;
    for (size_t k = 0; k <= s.n; k++) {
        if (k < s.n && s.p[k] != '.') {
            if (!vv_ident_char((unsigned char)s.p[k])) {
                vv_err(err, errsz, "semver: '%.*s': invalid character '%c' in %s", show, v, s.p[k],
                       what);
                return VG_EINVAL;
            }
            continue;
        }
        if (k == start) {
            vv_err(err, errsz, "semver: '%.*s': empty identifier in %s", show, v, what);
            return VG_EINVAL;
        }
        if (strict_num && k - start > 1 && s.p[start] == '0' &&
            vv_all_digits(s.p + start, k - start)) {
            vv_err(err, errsz, "semver: '%.*s': numeric identifier with a leading zero in %s", show,
                   v, what);
            return VG_EINVAL;
        }
        start = k + 1;
    }
    return VG_OK;
}

/* Parse the MAJOR.MINOR.PATCH core into out->core; returns the offset after it. */
static int vv_semver_core(const char *v, size_t n, struct vv_semver *out, size_t *end, char *err,
                          size_t errsz)
{
    static const char *names[3] = {"major", "minor", "patch"};
    int show = (int)(n < VV_SHOW ? n : VV_SHOW);
    size_t k = 0;
    int c;
    for (c = 0; c < 3; c++) {
        size_t s = k;
        while (k < n && vv_digit((unsigned char)v[k])) {
            k++;
        }
        if (k == s) {
            if (c > 0 && (k >= n || v[k] == '-' || v[k] == '+')) {
                vv_err(err, errsz, "semver: '%.*s' has %d component%s, expected 3", show, v, c,
                       c == 1 ? "" : "s");
            } else {
                vv_err(err, errsz, "semver: '%.*s': %s version is not a number", show, v, names[c]);
            }
            return VG_EINVAL;
        }
        if (k - s > 1 && v[s] == '0') {
            vv_err(err, errsz, "semver: '%.*s': %s version has a leading zero", show, v, names[c]);
            return VG_EINVAL;
        }
        out->core[c] = (struct vspan){v + s, k - s};
        if (c < 2) {
            if (k >= n || v[k] != '.') {
                vv_err(err, errsz, "semver: '%.*s' has %d component%s, expected 3", show, v, c + 1,
                       c == 0 ? "" : "s");
                return VG_EINVAL;
            }
            k++;
        }
    }
    *end = k;
    return VG_OK;
}

static int vv_semver_parse(const char *v, size_t n, struct vv_semver *out, char *err, size_t errsz)
{
    int show = (int)(n < VV_SHOW ? n : VV_SHOW);
    size_t k = 0;
    int rc = vv_check_bytes("semver", v, n, err, errsz);
    if (rc == VG_OK) {
        rc = vv_semver_core(v, n, out, &k, err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    const char *plus = memchr(v + k, '+', n - k);
    size_t pend = plus ? (size_t)(plus - v) : n;
    out->pre = (struct vspan){v + pend, 0};
    if (k < pend) {
        if (v[k] != '-') {
            vv_err(err, errsz, "semver: '%.*s': unexpected '%c' after the patch version", show, v,
                   v[k]);
            return VG_EINVAL;
        }
        out->pre = (struct vspan){v + k + 1, pend - k - 1};
        if (out->pre.n == 0) {
            vv_err(err, errsz, "semver: '%.*s': empty pre-release", show, v);
            return VG_EINVAL;
        }
        rc = vv_semver_idents(v, n, out->pre, true, "pre-release", err, errsz);
    }
    if (rc == VG_OK && plus) {
        struct vspan b = {plus + 1, n - pend - 1};
        if (b.n == 0) {
            vv_err(err, errsz, "semver: '%.*s': empty build metadata", show, v);
            return VG_EINVAL;
        }
        rc = vv_semver_idents(v, n, b, false, "build metadata", err, errsz);
    }
    return rc;
}

/* Next dot-separated identifier of s starting at *k. */
static struct vspan vv_next_ident(struct vspan s, size_t *k)
{
    size_t st = *k;
    while (*k < s.n && s.p[*k] != '.') {
        (*k)++;
    }
    struct vspan r = {s.p + st, *k - st};
    (*k)++;
    return r;
}

/* semver §11.4: identifiers compared one by one; numeric < alphanumeric; fewer is lower. */
static int vv_semver_precmp(struct vspan a, struct vspan b)
{
    size_t i = 0, j = 0;
    while (i < a.n && j < b.n) {
        struct vspan x = vv_next_ident(a, &i), y = vv_next_ident(b, &j);
        bool xn = vv_all_digits(x.p, x.n), yn = vv_all_digits(y.p, y.n);
        int c;
        if (xn != yn) {
            return xn ? -1 : 1;
        }
        if (xn) {
            c = vv_numcmp(x.p, x.n, y.p, y.n);
        } else {
            size_t m = x.n < y.n ? x.n : y.n;
            c = vv_sign(memcmp(x.p, y.p, m));
            if (!c && x.n != y.n) {
                c = x.n < y.n ? -1 : 1;
            }
        }
        if (c) {
            return c;
        }
    }
    return (i < a.n) - (j < b.n);
}

static int vv_semver_cmp(const char *a, size_t an, const char *b, size_t bn, int *cmp, char *err,
                         size_t errsz)
{
    struct vv_semver x, y;
    int rc = vv_semver_parse(a, an, &x, err, errsz);
    int c = 0;
    if (rc == VG_OK) {
        rc = vv_semver_parse(b, bn, &y, err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    for (int k = 0; k < 3 && !c; k++) {
        c = vv_numcmp(x.core[k].p, x.core[k].n, y.core[k].p, y.core[k].n);
    }
    if (!c && (x.pre.n || y.pre.n)) {
        /* a release has higher precedence than any of its pre-releases */
        c = !x.pre.n ? 1 : !y.pre.n ? -1 : vv_semver_precmp(x.pre, y.pre);
    }
    *cmp = c;
    return VG_OK;
}

/* ================================================================ PEP 440 */

#define VV_PEP_MAXREL 64 /* release segments kept; more is rejected (bounded stack) */

enum { VV_PEP_A = 0, VV_PEP_B = 1, VV_PEP_RC = 2 };

struct vv_pep {
    struct vspan epoch;
    struct vspan rel[VV_PEP_MAXREL];
    size_t nrel;
    int pre; /* -1 none, else VV_PEP_A/B/RC */
    struct vspan pre_n, post_n, dev_n;
    bool post, dev;
    struct vspan local; /* n == 0: none */
};

/* A cursor over one PEP 440 version (already trimmed). */
struct vv_cur {
    const char *p;
    size_t n, k;
};

static bool vv_cur_sep(struct vv_cur *c)
{
    if (c->k < c->n && (c->p[c->k] == '-' || c->p[c->k] == '_' || c->p[c->k] == '.')) {
        c->k++;
        return true;
    }
    return false;
}

/* Case-insensitive match of `word` at the cursor; advances on success. */
static bool vv_cur_word(struct vv_cur *c, const char *word)
{
    size_t wn = strlen(word);
    if (c->n - c->k < wn) {
        return false;
    }
    for (size_t i = 0; i < wn; i++) {
        if (vv_lower((unsigned char)c->p[c->k + i]) != word[i]) {
            return false;
        }
    }
    c->k += wn;
    return true;
}

static struct vspan vv_cur_digits(struct vv_cur *c)
{
    size_t s = c->k;
    while (c->k < c->n && vv_digit((unsigned char)c->p[c->k])) {
        c->k++;
    }
    return (struct vspan){c->p + s, c->k - s};
}

/* `[-_.]? label [-_.]? N?`, where the labels are tried longest first as the regex does. */
static bool vv_pep_labelled(struct vv_cur *c, const char *const *labels, size_t nl, size_t *which,
                            struct vspan *num)
{
    size_t save = c->k;
    vv_cur_sep(c);
    for (size_t i = 0; i < nl; i++) {
        if (vv_cur_word(c, labels[i])) {
            *which = i;
            vv_cur_sep(c); /* stays consumed even without a number, as the regex matches */
            *num = vv_cur_digits(c);
            return true;
        }
    }
    c->k = save;
    return false;
}

static void vv_pep_pre(struct vv_cur *c, struct vv_pep *o)
{
    static const char *const labels[] = {"alpha", "a", "beta", "b", "preview", "pre", "c", "rc"};
    static const int kinds[] = {VV_PEP_A,  VV_PEP_A,  VV_PEP_B,  VV_PEP_B,
                                VV_PEP_RC, VV_PEP_RC, VV_PEP_RC, VV_PEP_RC};
    size_t w;
    o->pre = -1;
    if (vv_pep_labelled(c, labels, 8, &w, &o->pre_n)) {
        o->pre = kinds[w];
    }
}

static void vv_pep_post(struct vv_cur *c, struct vv_pep *o)
{
    static const char *const labels[] = {"post", "rev", "r"};
    size_t w, save = c->k;
    o->post = false;
    if (c->k < c->n && c->p[c->k] == '-') { /* implicit post release: 1.0-1 */
        c->k++;
        o->post_n = vv_cur_digits(c);
        if (o->post_n.n) {
            o->post = true;
            return;
        }
        c->k = save;
    }
    o->post = vv_pep_labelled(c, labels, 3, &w, &o->post_n);
}

static void vv_pep_dev(struct vv_cur *c, struct vv_pep *o)
{
    static const char *const labels[] = {"dev"};
    size_t w;
    o->dev = vv_pep_labelled(c, labels, 1, &w, &o->dev_n);
}

/* Local version: [a-z0-9]+([-_.][a-z0-9]+)* after '+'. */
static bool vv_pep_local_ok(struct vspan l)
{
    bool prev_sep = true;
    if (l.n == 0) {
        return false;
    }
    for (size_t i = 0; i < l.n; i++) {
        int ch = (unsigned char)l.p[i];
        bool sep = ch == '-' || ch == '_' || ch == '.';
        if (!sep && !vv_alnum(ch)) {
            return false;
        }
        if (sep && prev_sep) {
            return false;
        }
        prev_sep = sep;
    }
    return !prev_sep;
}

static int vv_pep_release(struct vv_cur *c, struct vv_pep *o, const char *v, size_t vn, char *err,
                          size_t errsz)
{
    int show = (int)(vn < VV_SHOW ? vn : VV_SHOW);
    o->nrel = 0;
    for (;;) {
        struct vspan d = vv_cur_digits(c);
        if (d.n == 0) {
            vv_err(err, errsz, "pep440: '%.*s': release segment is not a number", show, v);
            return VG_EINVAL;
        }
        if (o->nrel == VV_PEP_MAXREL) {
            vv_err(err, errsz, "pep440: '%.*s': more than %d release segments", show, v,
                   VV_PEP_MAXREL);
            return VG_ELIMIT;
        }
        o->rel[o->nrel++] = d;
        if (c->k + 1 < c->n && c->p[c->k] == '.' && vv_digit((unsigned char)c->p[c->k + 1])) {
            c->k++;
            continue;
        }
        return VG_OK;
    }
}

static int vv_pep_parse(const char *v, size_t n, struct vv_pep *o, char *err, size_t errsz)
{
    int show, rc;
    vv_trim(&v, &n);
    show = (int)(n < VV_SHOW ? n : VV_SHOW);
    rc = vv_check_bytes("pep440", v, n, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    struct vv_cur c = {v, n, 0};
    if (v[0] == 'v' || v[0] == 'V') {
        c.k = 1;
    }
    o->epoch = (struct vspan){"0", 1};
    struct vspan e = vv_cur_digits(&c);
    if (e.n && c.k < n && v[c.k] == '!') {
        o->epoch = e;
        c.k++;
    } else {
        c.k -= e.n;
    }
    rc = vv_pep_release(&c, o, v, n, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    vv_pep_pre(&c, o);
    vv_pep_post(&c, o);
    vv_pep_dev(&c, o);
    o->local = (struct vspan){NULL, 0};
    if (c.k < n && v[c.k] == '+') {
        o->local = (struct vspan){v + c.k + 1, n - c.k - 1};
        if (!vv_pep_local_ok(o->local)) {
            vv_err(err, errsz, "pep440: '%.*s': invalid local version label", show, v);
            return VG_EINVAL;
        }
        c.k = n;
    }
    if (c.k != n) {
        vv_err(err, errsz, "pep440: '%.*s': unexpected '%.*s' at offset %zu", show, v,
               (int)(n - c.k < 16 ? n - c.k : 16), v + c.k, c.k);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int vv_pep_relcmp(const struct vv_pep *x, const struct vv_pep *y)
{
    size_t m = x->nrel > y->nrel ? x->nrel : y->nrel;
    for (size_t k = 0; k < m; k++) {
        struct vspan a = k < x->nrel ? x->rel[k] : (struct vspan){"0", 1};
        struct vspan b = k < y->nrel ? y->rel[k] : (struct vspan){"0", 1};
        int c = vv_numcmp(a.p, a.n, b.p, b.n);
        if (c) {
            return c;
        }
    }
    return 0;
}

/* packaging's _pre key: dev-only releases before every pre-release, a final release
 * (no pre) after them. Returns a rank and fills the number to compare. */
static int vv_pep_prerank(const struct vv_pep *x)
{
    if (x->pre < 0) {
        return (!x->post && x->dev) ? -1 : 3;
    }
    return x->pre;
}

/* Local segments: numeric > alphanumeric; numbers by value, strings case-insensitively;
 * a shorter label that is a prefix sorts first; no local at all sorts before any. */
static int vv_pep_localcmp(struct vspan a, struct vspan b)
{
    size_t i = 0, j = 0;
    if (!a.p || !b.p) {
        return (a.p != NULL) - (b.p != NULL);
    }
    while (i < a.n && j < b.n) {
        size_t si = i, sj = j;
        while (i < a.n && vv_alnum((unsigned char)a.p[i])) {
            i++;
        }
        while (j < b.n && vv_alnum((unsigned char)b.p[j])) {
            j++;
        }
        bool xn = vv_all_digits(a.p + si, i - si), yn = vv_all_digits(b.p + sj, j - sj);
        int c = 0;
        if (xn != yn) {
            return xn ? 1 : -1;
        }
        if (xn) {
            c = vv_numcmp(a.p + si, i - si, b.p + sj, j - sj);
        } else {
            size_t la = i - si, lb = j - sj;
            for (size_t k = 0; k < la && k < lb && !c; k++) {
                c = vv_sign(vv_lower((unsigned char)a.p[si + k]) -
                            vv_lower((unsigned char)b.p[sj + k]));
            }
            if (!c && la != lb) {
                c = la < lb ? -1 : 1;
            }
        }
        if (c) {
            return c;
        }
        i++;
        j++;
    }
    return (i < a.n) - (j < b.n);
}

/* packaging.version._cmpkey order: (epoch, release, pre, post, dev, local). */
static int vv_pep_keycmp(const struct vv_pep *x, const struct vv_pep *y)
{
    int c = vv_numcmp(x->epoch.p, x->epoch.n, y->epoch.p, y->epoch.n);
    if (!c) {
        c = vv_pep_relcmp(x, y);
    }
    if (!c) {
        int rx = vv_pep_prerank(x), ry = vv_pep_prerank(y);
        c = rx != ry ? (rx < ry ? -1 : 1) : 0;
        if (!c && x->pre >= 0) {
            c = vv_numcmp(x->pre_n.p, x->pre_n.n, y->pre_n.p, y->pre_n.n);
        }
    }
    if (!c && (x->post || y->post)) {
        c = !x->post   ? -1
            : !y->post ? 1
                       : vv_numcmp(x->post_n.p, x->post_n.n, y->post_n.p, y->post_n.n);
    }
    if (!c && (x->dev || y->dev)) {
        c = !x->dev ? 1 : !y->dev ? -1 : vv_numcmp(x->dev_n.p, x->dev_n.n, y->dev_n.p, y->dev_n.n);
    }
    if (!c) {
        c = vv_pep_localcmp(x->local, y->local);
    }
    return c;
}

/*
 * Pre-PEP 440 strings ("2.0.0-final", "0.7.10p1", "2013-01-21T20:33:09+0100") are compared as
 * packaging's LegacyVersion (packaging < 22, packaging_legacy — what OSV uses for PyPI):
 * they sort before every PEP 440 version, and among themselves by a list of parts: digit
 * runs zero-padded to 8, everything else as "*text", '.' dropped, '-' as "*final-",
 * pre/preview/rc as "*c", dev as "*@", then "*final"; trailing zero runs and "*final-"
 * before a pre-release tag are dropped.
 */
#define VV_LEGACY_MAXPARTS 128

enum { VV_LP_NUM, VV_LP_TEXT, VV_LP_LIT };

struct vv_lpart {
    const char *p; /* LIT: a lowercase literal; TEXT: input bytes, lowercased when read */
    size_t n;
    int kind;
};

struct vv_legacy {
    struct vv_lpart part[VV_LEGACY_MAXPARTS];
    size_t n;
};

/* Length and byte k of a part's string form ("00000012", "*final-"). */
static size_t vv_lpart_len(const struct vv_lpart *q)
{
    return q->kind == VV_LP_NUM ? (q->n < 8 ? 8 : q->n) : q->n + 1;
}

static int vv_lpart_at(const struct vv_lpart *q, size_t k)
{
    if (q->kind == VV_LP_NUM) {
        size_t pad = vv_lpart_len(q) - q->n;
        return k < pad ? '0' : (unsigned char)q->p[k - pad];
    }
    if (k == 0) {
        return '*';
    }
    return q->kind == VV_LP_TEXT ? vv_lower((unsigned char)q->p[k - 1])
                                 : (unsigned char)q->p[k - 1];
}

static int vv_lpart_cmp(const struct vv_lpart *a, const struct vv_lpart *b)
{
    size_t la = vv_lpart_len(a), lb = vv_lpart_len(b);
    for (size_t k = 0; k < la && k < lb; k++) {
        int c = vv_lpart_at(a, k) - vv_lpart_at(b, k);
        if (c) {
            return vv_sign(c);
        }
    }
    return la == lb ? 0 : (la < lb ? -1 : 1);
}

static bool vv_lpart_is_zero(const struct vv_lpart *q)
{
    if (q->kind != VV_LP_NUM || q->n > 8) {
        return false;
    }
    for (size_t k = 0; k < q->n; k++) {
        if (q->p[k] != '0') {
            return false;
        }
    }
    return true;
}

/* Append one part with _legacy_cmpkey's clean-ups. */
static int vv_legacy_push(struct vv_legacy *l, struct vv_lpart q)
{
    static const struct vv_lpart final = {"final", 5, VV_LP_LIT};
    static const struct vv_lpart final_dash = {"final-", 6, VV_LP_LIT};
    if (q.kind != VV_LP_NUM) {
        if (vv_lpart_cmp(&q, &final) < 0) {
            while (l->n && vv_lpart_cmp(&l->part[l->n - 1], &final_dash) == 0) {
                l->n--;
            }
        }
        while (l->n && vv_lpart_is_zero(&l->part[l->n - 1])) {
            l->n--;
        }
    }
    if (l->n == VV_LEGACY_MAXPARTS) {
        return VG_ELIMIT;
    }
    l->part[l->n++] = q;
    return VG_OK;
}

/* One token of _legacy_version_component_re.split at v[*k], mapped through the
 * replacement table; .n == 0 for a '.', which is dropped. */
static struct vv_lpart vv_legacy_token(const char *v, size_t n, size_t *k)
{
    static const struct {
        const char *from, *to;
    } repl[] = {{"pre", "c"}, {"preview", "c"}, {"rc", "c"}, {"dev", "@"}};
    size_t s = *k;
    int ch = (unsigned char)v[s];
    if (ch == '.' || ch == '-') {
        (*k)++;
        return ch == '.' ? (struct vv_lpart){v, 0, VV_LP_LIT}
                         : (struct vv_lpart){"final-", 6, VV_LP_LIT};
    }
    bool dig = vv_digit(ch), alp = vv_alpha(ch);
    while (*k < n) {
        int c = (unsigned char)v[*k];
        if (dig ? !vv_digit(c) : alp ? !vv_alpha(c) : (vv_alnum(c) || c == '.' || c == '-')) {
            break;
        }
        (*k)++;
    }
    struct vv_lpart q = {v + s, *k - s, dig ? VV_LP_NUM : VV_LP_TEXT};
    for (size_t i = 0; alp && i < sizeof(repl) / sizeof(repl[0]); i++) {
        size_t rl = strlen(repl[i].from);
        bool same = rl == q.n;
        for (size_t j = 0; same && j < rl; j++) {
            same = vv_lower((unsigned char)q.p[j]) == repl[i].from[j];
        }
        if (same) {
            return (struct vv_lpart){repl[i].to, 1, VV_LP_LIT};
        }
    }
    return q;
}

static int vv_legacy_parse(const char *v, size_t n, struct vv_legacy *l, char *err, size_t errsz)
{
    size_t k = 0;
    int rc = VG_OK;
    l->n = 0;
    while (k < n && rc == VG_OK) {
        struct vv_lpart q = vv_legacy_token(v, n, &k);
        if (q.n) {
            rc = vv_legacy_push(l, q);
        }
    }
    if (rc == VG_OK) {
        rc = vv_legacy_push(l, (struct vv_lpart){"final", 5, VV_LP_LIT});
    }
    if (rc != VG_OK) {
        vv_err(err, errsz, "pep440: '%.*s': more than %d parts", (int)(n < VV_SHOW ? n : VV_SHOW),
               v, VV_LEGACY_MAXPARTS);
    }
    return rc;
}

static int vv_legacy_cmp(const struct vv_legacy *a, const struct vv_legacy *b)
{
    for (size_t k = 0; k < a->n && k < b->n; k++) {
        int c = vv_lpart_cmp(&a->part[k], &b->part[k]);
        if (c) {
            return c;
        }
    }
    return a->n == b->n ? 0 : (a->n < b->n ? -1 : 1);
}

/* A PEP 440 version, or a legacy one when it is not PEP 440. */
struct vv_pyver {
    bool legacy;
    union {
        struct vv_pep pep;
        struct vv_legacy leg;
    } u;
};

static int vv_pyver_parse(const char *v, size_t n, struct vv_pyver *o, char *err, size_t errsz)
{
    int rc;
    vv_trim(&v, &n);
    rc = vv_check_bytes("pep440", v, n, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    o->legacy = false;
    rc = vv_pep_parse(v, n, &o->u.pep, NULL, 0); /* no message: legacy is the fallback */
    if (rc == VG_EINVAL) {
        o->legacy = true;
        rc = vv_legacy_parse(v, n, &o->u.leg, err, errsz);
    } else if (rc != VG_OK) {
        vv_pep_parse(v, n, &o->u.pep, err, errsz); /* for the message */
    }
    return rc == VG_OK ? VG_OK : VG_EINVAL; /* vuln.h's contract: too long is invalid too */
}

static int vv_pep_cmp(const char *a, size_t an, const char *b, size_t bn, int *cmp, char *err,
                      size_t errsz)
{
    struct vv_pyver x, y;
    int rc = vv_pyver_parse(a, an, &x, err, errsz);
    if (rc == VG_OK) {
        rc = vv_pyver_parse(b, bn, &y, err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    if (x.legacy != y.legacy) {
        *cmp = x.legacy ? -1 : 1;
    } else {
        *cmp = x.legacy ? vv_legacy_cmp(&x.u.leg, &y.u.leg) : vv_pep_keycmp(&x.u.pep, &y.u.pep);
    }
    return VG_OK;
}

/* ================================================================ apk */

/*
 * apk-tools (2.14 / 3.x) src/version.c: digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}.
 * Token types in their order; a token may only follow one of a lower type.
 */
enum {
    VV_APK_INITIAL_DIGIT,
    VV_APK_DIGIT,
    VV_APK_LETTER,
    VV_APK_SUFFIX,
    VV_APK_SUFFIX_NO,
    VV_APK_COMMIT_HASH,
    VV_APK_REVISION_NO,
    VV_APK_END,
    VV_APK_INVALID
};

/* Suffixes in order; NONE is the pivot between pre-release and post-release ones. */
enum {
    VV_SUF_INVALID,
    VV_SUF_ALPHA,
    VV_SUF_BETA,
    VV_SUF_PRE,
    VV_SUF_RC,
    VV_SUF_NONE,
    VV_SUF_CVS,
    VV_SUF_SVN,
    VV_SUF_GIT,
    VV_SUF_HG,
    VV_SUF_P
};

struct vv_apktok {
    int token;
    int suffix;
    struct vspan value;
};

static int vv_apk_suffix_value(struct vspan s)
{
    static const char *const names[] = {"",    "alpha", "beta", "pre", "rc", "",
                                        "cvs", "svn",   "git",  "hg",  "p"};
    for (int v = VV_SUF_ALPHA; v <= VV_SUF_P; v++) {
        if (v != VV_SUF_NONE && strlen(names[v]) == s.n && memcmp(names[v], s.p, s.n) == 0) {
            return v;
        }
    }
    return VV_SUF_INVALID;
}

/* apk_blob_sort: bytes, then the shorter first. */
static int vv_blob_sort(struct vspan a, struct vspan b)
{
    size_t m = a.n < b.n ? a.n : b.n;
    int c = m ? vv_sign(memcmp(a.p, b.p, m)) : 0;
    if (!c && a.n != b.n) {
        c = a.n < b.n ? -1 : 1;
    }
    return c;
}

static int vv_apk_token_cmp(const struct vv_apktok *a, const struct vv_apktok *b)
{
    switch (a->token) {
    case VV_APK_DIGIT:
        if (a->value.p[0] == '0' || b->value.p[0] == '0') {
            return vv_blob_sort(a->value, b->value); /* a leading zero: as a string (Gentoo) */
        }
        /* fallthrough */
    case VV_APK_INITIAL_DIGIT:
    case VV_APK_SUFFIX_NO:
    case VV_APK_REVISION_NO:
        return vv_numcmp(a->value.p, a->value.n, b->value.p, b->value.n);
    case VV_APK_LETTER:
        return vv_sign((int)(unsigned char)a->value.p[0] - (int)(unsigned char)b->value.p[0]);
    case VV_APK_SUFFIX:
        return vv_sign(a->suffix - b->suffix);
    default:
        return vv_blob_sort(a->value, b->value);
    }
}

static void vv_apk_digits(struct vv_apktok *t, struct vv_cur *c)
{
    t->value = vv_cur_digits(c);
    if (t->value.n == 0) {
        t->token = VV_APK_INVALID;
    }
}

static void vv_apk_first(struct vv_apktok *t, struct vv_cur *c)
{
    t->token = VV_APK_INITIAL_DIGIT;
    t->suffix = VV_SUF_INVALID;
    vv_apk_digits(t, c);
}

/* Span of bytes at the cursor satisfying pred. */
static struct vspan vv_cur_span(struct vv_cur *c, bool (*pred)(int))
{
    size_t s = c->k;
    while (c->k < c->n && pred((unsigned char)c->p[c->k])) {
        c->k++;
    }
    return (struct vspan){c->p + s, c->k - s};
}

static bool vv_lower_alpha(int ch)
{
    return ch >= 'a' && ch <= 'z';
}

static bool vv_hexdigit(int ch)
{
    return vv_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* The token after t: its type from its first byte, checked against the previous type. */
static int vv_apk_next_type(struct vv_apktok *t, struct vv_cur *c)
{
    int ch = (unsigned char)c->p[c->k];
    if (vv_lower_alpha(ch)) {
        return t->token > VV_APK_DIGIT ? VV_APK_INVALID : VV_APK_LETTER;
    }
    if (ch == '.' || vv_digit(ch)) {
        if (ch == '.' && t->token > VV_APK_DIGIT) {
            return VV_APK_INVALID;
        }
        return t->token <= VV_APK_DIGIT    ? VV_APK_DIGIT
               : t->token == VV_APK_SUFFIX ? VV_APK_SUFFIX_NO
                                           : VV_APK_INVALID;
    }
    if (ch == '_') {
        return t->token > VV_APK_SUFFIX_NO ? VV_APK_INVALID : VV_APK_SUFFIX;
    }
    if (ch == '~') {
        return t->token >= VV_APK_COMMIT_HASH ? VV_APK_INVALID : VV_APK_COMMIT_HASH;
    }
    if (ch == '-' && c->k + 1 < c->n && c->p[c->k + 1] == 'r') {
        return t->token >= VV_APK_REVISION_NO ? VV_APK_INVALID : VV_APK_REVISION_NO;
    }
    return VV_APK_INVALID;
}

static void vv_apk_next(struct vv_apktok *t, struct vv_cur *c)
{
    if (c->k >= c->n) {
        t->token = VV_APK_END;
        return;
    }
    int nt = vv_apk_next_type(t, c), ch = (unsigned char)c->p[c->k];
    t->token = nt;
    switch (nt) {
    case VV_APK_LETTER:
        t->value = (struct vspan){c->p + c->k++, 1};
        break;
    case VV_APK_DIGIT:
    case VV_APK_SUFFIX_NO:
        c->k += ch == '.';
        vv_apk_digits(t, c);
        break;
    case VV_APK_SUFFIX:
        c->k++;
        t->value = vv_cur_span(c, vv_lower_alpha);
        t->suffix = vv_apk_suffix_value(t->value);
        t->token = t->suffix == VV_SUF_INVALID ? VV_APK_INVALID : VV_APK_SUFFIX;
        break;
    case VV_APK_COMMIT_HASH:
        c->k++;
        t->value = vv_cur_span(c, vv_hexdigit);
        t->token = t->value.n ? VV_APK_COMMIT_HASH : VV_APK_INVALID;
        break;
    case VV_APK_REVISION_NO:
        c->k += 2;
        vv_apk_digits(t, c);
        break;
    default:
        break;
    }
}

static int vv_apk_validate(const char *v, size_t n, char *err, size_t errsz)
{
    int rc = vv_check_bytes("apk", v, n, err, errsz);
    struct vv_cur c = {v, n, 0};
    struct vv_apktok t;
    if (rc != VG_OK) {
        return rc;
    }
    for (vv_apk_first(&t, &c); t.token < VV_APK_END; vv_apk_next(&t, &c)) {
    }
    if (t.token != VV_APK_END) {
        vv_err(err, errsz,
               "apk: '%.*s': invalid version near offset %zu (expected "
               "digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#})",
               (int)(n < VV_SHOW ? n : VV_SHOW), v, c.k);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* apk_version_compare: token by token; when one version goes on, it is newer unless what
 * follows is a pre-release suffix (_alpha, _beta, _pre, _rc). */
static int vv_apk_cmp(const char *a, size_t an, const char *b, size_t bn, int *cmp, char *err,
                      size_t errsz)
{
    int rc = vv_apk_validate(a, an, err, errsz);
    struct vv_cur x = {a, an, 0}, y = {b, bn, 0};
    struct vv_apktok ta, tb;
    int c = 0;
    if (rc == VG_OK) {
        rc = vv_apk_validate(b, bn, err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    for (vv_apk_first(&ta, &x), vv_apk_first(&tb, &y);
         ta.token == tb.token && ta.token < VV_APK_END && !c;
         vv_apk_next(&ta, &x), vv_apk_next(&tb, &y)) {
        c = vv_apk_token_cmp(&ta, &tb);
    }
    if (!c && ta.token != tb.token) {
        if (ta.token == VV_APK_SUFFIX && ta.suffix < VV_SUF_NONE) {
            c = -1;
        } else if (tb.token == VV_APK_SUFFIX && tb.suffix < VV_SUF_NONE) {
            c = 1;
        } else {
            c = ta.token > tb.token ? -1 : 1;
        }
    }
    *cmp = c;
    return VG_OK;
}

/* ================================================================ public API */

static const char *const vv_scheme_names[VG_VULN_SCHEME_COUNT] = {"dpkg", "rpm", "semver", "pep440",
                                                                  "apk"};

/* Name of a scheme ("dpkg", "rpm", "semver", "pep440", "apk"), "?" if out of range. */
const char *vg_vuln_scheme_name(enum vg_vuln_scheme s)
{
    return (unsigned)s < VG_VULN_SCHEME_COUNT ? vv_scheme_names[s] : "?";
}

/* Scheme by name (also "deb", "debian", "pypi", "python", "alpine", "semver2"); 0 or
 * VG_EINVAL. */
int vg_vuln_scheme_parse(const char *name, enum vg_vuln_scheme *out)
{
    static const struct {
        const char *alias;
        enum vg_vuln_scheme s;
    } aliases[] = {{"deb", VG_VULN_DPKG},      {"debian", VG_VULN_DPKG},
                   {"pypi", VG_VULN_PEP440},   {"python", VG_VULN_PEP440},
                   {"alpine", VG_VULN_APK},    {"semver2", VG_VULN_SEMVER},
                   {"rpmvercmp", VG_VULN_RPM}, {"pep-440", VG_VULN_PEP440}};
    if (!name || !out) {
        return VG_EINVAL;
    }
    for (int s = 0; s < VG_VULN_SCHEME_COUNT; s++) {
        if (strcasecmp(name, vv_scheme_names[s]) == 0) {
            *out = (enum vg_vuln_scheme)s;
            return VG_OK;
        }
    }
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
        if (strcasecmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].s;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

/*
 * Compare a (an bytes) with b (bn bytes) under scheme s: *cmp is -1, 0 or 1. Returns 0, or
 * VG_EINVAL with the reason in err when either is not a version of the scheme (PEP 440 takes
 * any non-empty string: what is not PEP 440 is ordered as a legacy version). Neither string
 * needs a NUL; nothing is allocated; thread-safe.
 */
int vg_vuln_vercmp(enum vg_vuln_scheme s, const char *a, size_t an, const char *b, size_t bn,
                   int *cmp, char *err, size_t errsz)
{
    int c = 0, rc;
    if (!cmp) {
        return VG_EINVAL;
    }
    switch (s) {
    case VG_VULN_DPKG:
        rc = vv_dpkg_cmp(a, an, b, bn, &c, err, errsz);
        break;
    case VG_VULN_RPM:
        rc = vv_rpm_cmp(a, an, b, bn, &c, err, errsz);
        break;
    case VG_VULN_SEMVER:
        rc = vv_semver_cmp(a, an, b, bn, &c, err, errsz);
        break;
    case VG_VULN_PEP440:
        rc = vv_pep_cmp(a, an, b, bn, &c, err, errsz);
        break;
    case VG_VULN_APK:
        rc = vv_apk_cmp(a, an, b, bn, &c, err, errsz);
        break;
    default:
        vv_err(err, errsz, "unknown version scheme %d", (int)s);
        return VG_EINVAL;
    }
    if (rc == VG_OK) {
        *cmp = c;
    }
    return rc;
}

/* Strict validity of one version (see vuln_version.h). */
int vg_vuln_version_check(enum vg_vuln_scheme s, const char *v, size_t n, char *err, size_t errsz)
{
    struct vv_pep pep;
    int c = 0;
    if (s == VG_VULN_PEP440) {
        return vv_pep_parse(v, n, &pep, err, errsz) == VG_OK ? VG_OK : VG_EINVAL;
    }
    return vg_vuln_vercmp(s, v, n, v, n, &c, err, errsz);
}

/* Does event e apply to v (v ≥ introduced/fixed/limit, v > last_affected)? */
static int vv_event_triggers(enum vg_vuln_scheme s, const struct vg_vuln_event *e, const char *v,
                             size_t vn, bool *hit, char *err, size_t errsz)
{
    int c = 0, rc;
    if (e->kind == VG_VULN_INTRODUCED && e->len == 1 && e->version[0] == '0') {
        *hit = true; /* "0": from the beginning */
        return VG_OK;
    }
    if (e->kind == VG_VULN_LIMIT && e->len == 1 && e->version[0] == '*') {
        *hit = false; /* "*": no limit */
        return VG_OK;
    }
    rc = vg_vuln_vercmp(s, v, vn, e->version, e->len, &c, err, errsz);
    if (rc == VG_OK) {
        *hit = e->kind == VG_VULN_LAST_AFFECTED ? c > 0 : c >= 0;
    }
    return rc;
}

/* Is event e later than the current best in the sorted order ("0" introduced first; equal
 * versions keep record order, as a stable sort would)? */
static int vv_event_later(enum vg_vuln_scheme s, const struct vg_vuln_event *e,
                          const struct vg_vuln_event *best, bool *later, char *err, size_t errsz)
{
    int c = 0, rc;
    bool ezero = e->kind == VG_VULN_INTRODUCED && e->len == 1 && e->version[0] == '0';
    bool bzero = best->kind == VG_VULN_INTRODUCED && best->len == 1 && best->version[0] == '0';
    if (ezero || bzero) {
        *later = !ezero || bzero;
        return VG_OK;
    }
    rc = vg_vuln_vercmp(s, e->version, e->len, best->version, best->len, &c, err, errsz);
    *later = c >= 0;
    return rc;
}

/*
 * OSV evaluation without sorting (the events are const): walking the events sorted by
 * version, the state after the walk is set by the last event that applies to v. So find the
 * greatest applicable introduced/fixed/last_affected event; v is inside when it is an
 * introduced one. Limits (other than "*") additionally require v < some limit.
 * Returns 0 (*inside set) or VG_EINVAL naming the unparsable version (v or an event's).
 * Pure, allocation-free, thread-safe; O(nev) comparisons.
 */
int vg_vuln_range_contains(enum vg_vuln_scheme s, const struct vg_vuln_event *ev, size_t nev,
                           const char *v, size_t vn, bool *inside, char *err, size_t errsz)
{
    const struct vg_vuln_event *best = NULL;
    bool limited = false, below_limit = false;
    int c = 0, rc = VG_OK;
    if (!inside || (nev && !ev)) {
        return VG_EINVAL;
    }
    *inside = false;
    rc = vg_vuln_vercmp(s, v, vn, v, vn, &c, err, errsz); /* validate v once */
    for (size_t i = 0; i < nev && rc == VG_OK; i++) {
        bool hit = false, later = true;
        if (!ev[i].version) {
            vv_err(err, errsz, "range event %zu has no version", i);
            return VG_EINVAL;
        }
        rc = vv_event_triggers(s, &ev[i], v, vn, &hit, err, errsz);
        if (rc == VG_OK && ev[i].kind == VG_VULN_LIMIT) {
            limited = true;
            below_limit |= !hit;
            continue;
        }
        if (rc == VG_OK && hit && best) {
            rc = vv_event_later(s, &ev[i], best, &later, err, errsz);
        }
        if (rc == VG_OK && hit && later) {
            best = &ev[i];
        }
    }
    if (rc == VG_OK) {
        *inside = best && best->kind == VG_VULN_INTRODUCED && (!limited || below_limit);
    }
    return rc;
}

/* "unknown", "negligible", "low", "medium", "high", "critical"; "unknown" out of range. */
const char *vg_vuln_severity_name(enum vg_vuln_severity s)
{
    static const char *const names[] = {"unknown", "negligible", "low",
                                        "medium",  "high",       "critical"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}
