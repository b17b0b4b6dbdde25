/*
 * vuln_inv.c — inventories for vulnerability scanning: the dpkg status file, the apk
 * installed database, the rpm database of a root filesystem (through the rpm program),
 * os-release → OSV ecosystem, Debian `Packages` indexes and "installed package behind the
 * index". The scanner (vuln_match.c) and `vigie vuln outdated|scan` sit on top of this.
 *
 * Why not vg_agent_inv_dpkg_parse: the agent keeps the Source name but drops the Source
 * version and the Status text, which the vulnerability module needs (the Debian Security
 * Tracker is keyed by source package, binNMU'd packages such as "bash 5.2.15-2+b8" carry
 * their source version only in "Source: bash (5.2.15-2)", and the acceptance oracle is
 * dpkg-query's own Status/Source columns). So deb822 is parsed here, by one bounded reader
 * shared by the status file and Packages indexes: paragraphs of "Field: value" lines separated
 * by blank (or whitespace-only) lines, continuation lines starting with a space or tab, field
 * names case-insensitive, CRLF accepted. A malformed paragraph (a line without a colon, a
 * continuation of a single-line field we keep, a duplicate or over-long field, a bad Status or
 * Source) is skipped as a whole, counted, and the first problem reported as "PATH:LINE: reason".
 */
#include "vuln/vuln_inv.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_inv.h"

#define INV_ARENA_BLOCK (64u << 10)
#define PATH_MAX_LEN    4096

/* ---------------------------------------------------------------- diagnostics */

/* Problems met while parsing one file: a count and the first message. */
struct diag {
    const char *path;
    size_t bad;
    char *msg; /* first problem, "PATH:LINE: reason" */
    size_t msgsz;
    bool have_msg; /* msg already holds a problem (possibly from an earlier file) */
};

static void diag_problem(struct diag *d, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void diag_problem(struct diag *d, size_t line, const char *fmt, ...)
{
    d->bad++;
    if (!d->have_msg && d->msg && d->msgsz) {
        d->have_msg = true;
        char reason[200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        snprintf(d->msg, d->msgsz, "%s:%zu: %s", d->path ? d->path : "(input)", line, reason);
    }
}

static void err_copy(char *err, size_t errsz, const char *msg)
{
    if (err && errsz && msg != err) {
        vg_strlcpy(err, msg, errsz);
    }
}

/* ---------------------------------------------------------------- deb822 reader */

#define D8_MAXF 5

/* The kept fields of one paragraph (values point into the text, trimmed). */
struct d8_para {
    const char *v[D8_MAXF];
    size_t n[D8_MAXF];
    size_t line; /* first line of the paragraph */
};

/* Called per well-formed paragraph: VG_OK, VG_EINVAL (rejected, problem already reported),
 * or a fatal status that stops the parse. */
typedef int (*d8_sink)(void *ctx, const struct d8_para *p, struct diag *d);

struct d8_reader {
    const char *const *names; /* kept field names */
    size_t nnames;
    d8_sink sink;
    void *ctx;
    struct diag *d;
    struct d8_para p;
    bool in_para, bad_para;
    int last; /* slot of the previous field, -1 another field, -2 none yet */
};

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t') {
            return false;
        }
    }
    return true;
}

/* A token: non-empty, no whitespace or control bytes. */
static bool token_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f) {
            return false;
        }
    }
    return n > 0;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) {
        (*n)--;
    }
}

static int d8_slot(const struct d8_reader *r, const char *name, size_t n)
{
    for (size_t i = 0; i < r->nnames; i++) {
        if (vg_str_ieq_ascii(name, n, r->names[i], strlen(r->names[i]))) {
            return (int)i;
        }
    }
    return -1;
}

static int d8_end_para(struct d8_reader *r)
{
    int rc = VG_OK;
    if (r->in_para && !r->bad_para) {
        rc = r->sink(r->ctx, &r->p, r->d);
        rc = rc == VG_EINVAL ? VG_OK : rc;
    }
    memset(&r->p, 0, sizeof(r->p));
    r->in_para = r->bad_para = false;
    r->last = -2;
    return rc;
}

/* One "Field: value" line (not blank, not a continuation). */
static void d8_field(struct d8_reader *r, const char *s, size_t n, size_t line)
{
    const char *colon = memchr(s, ':', n), *v;
    size_t nl, vn;
    int slot;
    if (!colon || colon == s || !token_ok(s, (size_t)(colon - s))) {
        diag_problem(r->d, line, "expected 'Field: value'");
        r->bad_para = true;
        return;
    }
    nl = (size_t)(colon - s);
    v = colon + 1;
    vn = n - nl - 1;
    trim(&v, &vn);
    slot = d8_slot(r, s, nl);
    r->last = slot;
    if (slot < 0) {
        return;
    }
    if (r->p.v[slot]) {
        diag_problem(r->d, line, "duplicate field %s", r->names[slot]);
        r->bad_para = true;
    } else if (vn > VG_VULN_INV_MAX_FIELD) {
        diag_problem(r->d, line, "field %s: value longer than %u bytes", r->names[slot],
                     VG_VULN_INV_MAX_FIELD);
        r->bad_para = true;
    } else {
        r->p.v[slot] = v;
        r->p.n[slot] = vn;
    }
}

static void d8_line(struct d8_reader *r, const char *s, size_t n, size_t line)
{
    if (!r->in_para) {
        r->in_para = true;
        r->p.line = line;
    }
    if (s[0] == ' ' || s[0] == '\t') {
        if (r->last == -2) {
            diag_problem(r->d, line, "continuation line before any field");
            r->bad_para = true;
        } else if (r->last >= 0) {
            diag_problem(r->d, line, "field %s: continuation line in a single-line field",
                         r->names[r->last]);
            r->bad_para = true;
        }
        return;
    }
    d8_field(r, s, n, line);
}

/* Walk the paragraphs of text, calling sink for each well-formed one. */
static int d8_parse(const char *text, size_t len, const char *const *names, size_t nnames,
                    d8_sink sink, void *ctx, struct diag *d)
{
    struct d8_reader r = {.names = names, .nnames = nnames, .sink = sink, .ctx = ctx, .d = d};
    size_t off = 0, line = 0;
    int rc = VG_OK;
    r.last = -2;
    while (off < len && rc == VG_OK) {
        const char *s = text + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + (nl ? 1 : 0);
        line++;
        if (n && s[n - 1] == '\r') {
            n--;
        }
        if (is_blank(s, n)) {
            rc = d8_end_para(&r);
        } else if (!r.bad_para) {
            d8_line(&r, s, n, line);
        }
    }
    if (rc == VG_OK) {
        rc = d8_end_para(&r);
    }
    return rc;
}

/* ---------------------------------------------------------------- inventory storage */

static char *inv_str(struct vg_vuln_inv *inv, const char *s, size_t n)
{
    if (!inv->arena && !(inv->arena = vg_arena_create(INV_ARENA_BLOCK))) {
        return NULL;
    }
    return vg_arena_strndup(inv->arena, s, n);
}

static int inv_push(struct vg_vuln_inv *inv, const struct vg_vuln_pkg *p,
                    const struct vg_vuln_inv_rec *rec)
{
    if (inv->n >= VG_VULN_INV_MAX_PKGS) {
        return VG_ELIMIT;
    }
    if (inv->n == inv->cap) {
        size_t cap = inv->cap ? inv->cap * 2 : 64;
        struct vg_vuln_pkg *np = vg_realloc(inv->pkgs, cap * sizeof(*np));
        if (!np) {
            return VG_ENOMEM;
        }
        inv->pkgs = np;
        struct vg_vuln_inv_rec *nr = vg_realloc(inv->rec, cap * sizeof(*nr));
        if (!nr) {
            return VG_ENOMEM;
        }
        inv->rec = nr;
        inv->cap = cap;
    }
    inv->pkgs[inv->n] = *p;
    inv->pkgs[inv->n].ecosystem = inv->ecosystem;
    inv->rec[inv->n++] = *rec;
    return VG_OK;
}

void vg_vuln_inv_fini(struct vg_vuln_inv *inv)
{
    if (!inv) {
        return;
    }
    vg_free(inv->pkgs);
    vg_free(inv->rec);
    vg_arena_destroy(inv->arena);
    memset(inv, 0, sizeof(*inv));
}

int vg_vuln_inv_set_ecosystem(struct vg_vuln_inv *inv, const char *ecosystem)
{
    const char *e = ecosystem ? inv_str(inv, ecosystem, strlen(ecosystem)) : NULL;
    if (ecosystem && !e) {
        return VG_ENOMEM;
    }
    inv->ecosystem = e;
    for (size_t i = 0; i < inv->n; i++) {
        inv->pkgs[i].ecosystem = e;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- dpkg status */

enum { F_PACKAGE, F_VERSION, F_ARCH, F_STATUS, F_SOURCE };
static const char *const status_fields[] = {"Package", "Version", "Architecture", "Status",
                                            "Source"};

static bool word_in(const char *w, size_t n, const char *const *set, size_t nset)
{
    for (size_t i = 0; i < nset; i++) {
        if (vg_str_eq(w, n, set[i], strlen(set[i]))) {
            return true;
        }
    }
    return false;
}

/*
 * Status "WANT FLAG STATUS": VG_OK and *installed, or VG_EINVAL when it is not three known
 * words. Installed means files of this version are on disk.
 */
static int status_parse(const char *s, size_t n, bool *installed)
{
    static const char *const want[] = {"unknown", "install", "hold", "deinstall", "purge"};
    static const char *const flag[] = {"ok", "reinstreq"};
    static const char *const on_disk[] = {"installed", "triggers-pending", "triggers-awaited",
                                          "half-configured", "unpacked"};
    static const char *const off_disk[] = {"not-installed", "config-files", "half-installed"};
    const char *sp1 = memchr(s, ' ', n), *sp2;
    size_t n1, n2, n3;
    if (!sp1 || !(sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s)))) {
        return VG_EINVAL;
    }
    n1 = (size_t)(sp1 - s);
    n2 = (size_t)(sp2 - sp1 - 1);
    n3 = n - (size_t)(sp2 + 1 - s);
    if (!word_in(s, n1, want, VG_ARRAY_LEN(want)) ||
        !word_in(sp1 + 1, n2, flag, VG_ARRAY_LEN(flag))) {
        return VG_EINVAL;
    }
    *installed = word_in(sp2 + 1, n3, on_disk, VG_ARRAY_LEN(on_disk));
    return *installed || word_in(sp2 + 1, n3, off_disk, VG_ARRAY_LEN(off_disk)) ? VG_OK : VG_EINVAL;
}

/* Source "name" or "name (version)": the parts, or VG_EINVAL. */
static int source_split(const char *s, size_t n, const char **name, size_t *nn, const char **ver,
                        size_t *vn)
{
    const char *sp = memchr(s, ' ', n);
    *name = s;
    *nn = sp ? (size_t)(sp - s) : n;
    *ver = NULL;
    *vn = 0;
    if (sp) {
        const char *v = sp + 1;
        size_t l = n - *nn - 1;
        trim(&v, &l);
        if (l < 3 || v[0] != '(' || v[l - 1] != ')') {
            return VG_EINVAL;
        }
        *ver = v + 1;
        *vn = l - 2;
        trim(ver, vn);
        if (!token_ok(*ver, *vn)) {
            return VG_EINVAL;
        }
    }
    return token_ok(*name, *nn) ? VG_OK : VG_EINVAL;
}

/* Check the fields of a status paragraph; VG_EINVAL (reported) or VG_OK and *installed. */
static int status_check(const struct d8_para *p, struct diag *d, bool *installed)
{
    const char *pk = p->v[F_PACKAGE];
    int pn = (int)p->n[F_PACKAGE];
    if (!pk) {
        diag_problem(d, p->line, "paragraph without Package");
        return VG_EINVAL;
    }
    if (!token_ok(pk, p->n[F_PACKAGE])) {
        diag_problem(d, p->line, "invalid Package '%.*s'", pn, pk);
        return VG_EINVAL;
    }
    if (!p->v[F_STATUS] || status_parse(p->v[F_STATUS], p->n[F_STATUS], installed) != VG_OK) {
        diag_problem(d, p->line, "package %.*s: %s", pn, pk,
                     p->v[F_STATUS] ? "Status is not 'WANT FLAG STATUS'" : "no Status field");
        return VG_EINVAL;
    }
    if (*installed && (!p->v[F_VERSION] || !token_ok(p->v[F_VERSION], p->n[F_VERSION]))) {
        diag_problem(d, p->line, "package %.*s: %s", pn, pk,
                     p->v[F_VERSION] ? "invalid Version" : "installed without a Version");
        return VG_EINVAL;
    }
    if (*installed && p->v[F_ARCH] && p->n[F_ARCH] && !token_ok(p->v[F_ARCH], p->n[F_ARCH])) {
        diag_problem(d, p->line, "package %.*s: invalid Architecture", pn, pk);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int status_sink(void *ctx, const struct d8_para *p, struct diag *d)
{
    struct vg_vuln_inv *inv = ctx;
    struct vg_vuln_pkg k = {.scheme = VG_VULN_DPKG};
    struct vg_vuln_inv_rec rec = {.line = (uint32_t)p->line};
    const char *sn = p->v[F_PACKAGE], *sv = p->v[F_VERSION];
    size_t snn = p->n[F_PACKAGE], svn = p->n[F_VERSION];
    bool installed = false;
    int rc = status_check(p, d, &installed);
    if (rc != VG_OK || !installed) {
        return rc;
    }
    if (p->v[F_SOURCE] &&
        source_split(p->v[F_SOURCE], p->n[F_SOURCE], &sn, &snn, &sv, &svn) != VG_OK) {
        diag_problem(d, p->line, "package %.*s: Source is not 'NAME [(VERSION)]'",
                     (int)p->n[F_PACKAGE], p->v[F_PACKAGE]);
        return VG_EINVAL;
    }
    if (!sv) {
        sv = p->v[F_VERSION];
        svn = p->n[F_VERSION];
    }
    k.name = inv_str(inv, p->v[F_PACKAGE], p->n[F_PACKAGE]);
    k.version = inv_str(inv, p->v[F_VERSION], p->n[F_VERSION]);
    k.arch = inv_str(inv, p->v[F_ARCH] ? p->v[F_ARCH] : "", p->n[F_ARCH]);
    k.source = inv_str(inv, sn, snn);
    rec.status = inv_str(inv, p->v[F_STATUS], p->n[F_STATUS]);
    rec.source_version = inv_str(inv, sv, svn);
    rec.source_field = p->v[F_SOURCE] ? inv_str(inv, p->v[F_SOURCE], p->n[F_SOURCE]) : NULL;
    if (!k.name || !k.version || !k.arch || !k.source || !rec.status || !rec.source_version ||
        (p->v[F_SOURCE] && !rec.source_field)) {
        return VG_ENOMEM;
    }
    return inv_push(inv, &k, &rec);
}

int vg_vuln_inv_dpkg_parse(const char *text, size_t len, const char *path, struct vg_vuln_inv *out,
                           char *err, size_t errsz)
{
    struct diag d = {.path = path, .msg = out->err, .msgsz = sizeof(out->err)};
    int rc;
    d.have_msg = out->err[0] != 0; /* keep an earlier file's first problem */
    rc = d8_parse(text, len, status_fields, VG_ARRAY_LEN(status_fields), status_sink, out, &d);
    out->bad += d.bad;
    err_copy(err, errsz, out->err);
    return rc;
}

/* Read a file bounded by VG_VULN_INV_MAX_FILE, with a message naming it on failure. */
static int read_text(const char *path, char **text, size_t *len, char *err, size_t errsz)
{
    int rc = vg_file_read(path, VG_VULN_INV_MAX_FILE, text, len);
    if (rc != VG_OK && err && errsz) {
        snprintf(err, errsz, "%s: %s", path,
                 rc == VG_ELIMIT ? "larger than the size bound" : vg_strerror(rc));
    }
    return rc;
}

int vg_vuln_inv_from_dpkg_status(const char *path, struct vg_vuln_inv *out, char *err, size_t errsz)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_text(path, &text, &len, err, errsz);
    if (rc == VG_OK) {
        rc = vg_vuln_inv_dpkg_parse(text, len, path, out, err, errsz);
    }
    vg_free(text);
    return rc;
}

/* ---------------------------------------------------------------- apk installed db */

/* The agent's reader (agent_inv_pkg.c), as an inventory: scheme apk, the origin as the source
   package (the package itself when it has none). */
int vg_vuln_inv_from_apk(const char *text, size_t len, const char *path, struct vg_vuln_inv *out,
                         char *err, size_t errsz)
{
    struct vg_agent_pkgs l = {0};
    char e[256] = "";
    int rc = vg_agent_inv_apk_parse(text, len, path, &l, e, sizeof(e));
    for (size_t i = 0; rc == VG_OK && i < l.n; i++) {
        struct vg_vuln_pkg k = {.scheme = VG_VULN_APK};
        struct vg_vuln_inv_rec rec = {.line = l.v[i].line};
        k.name = inv_str(out, l.v[i].name, strlen(l.v[i].name));
        k.version = inv_str(out, l.v[i].version, strlen(l.v[i].version));
        k.arch = inv_str(out, l.v[i].arch, strlen(l.v[i].arch));
        k.source = l.v[i].source ? inv_str(out, l.v[i].source, strlen(l.v[i].source)) : k.name;
        rec.source_version = k.version;
        rc = (!k.name || !k.version || !k.arch || !k.source) ? VG_ENOMEM : inv_push(out, &k, &rec);
    }
    out->bad += l.bad;
    if (l.bad && !out->err[0]) {
        vg_strlcpy(out->err, e, sizeof(out->err));
    }
    if (rc == VG_ELIMIT) {
        vg_strlcpy(out->err, e, sizeof(out->err));
    }
    vg_agent_pkgs_fini(&l);
    err_copy(err, errsz, out->err);
    return rc;
}

/* ---------------------------------------------------------------- os-release */

/* Unquote an os-release value ("..." with \-escapes, '...', or bare) into dst. */
static void osr_value(const char *v, size_t n, char *dst, size_t dsz)
{
    size_t o = 0;
    char q = 0;
    if (n && (v[0] == '"' || v[0] == '\'')) {
        q = v[0];
        v++;
        n--;
    }
    for (size_t i = 0; i < n && o + 1 < dsz; i++) {
        if (q && v[i] == q) {
            break;
        }
        if (q == '"' && v[i] == '\\' && i + 1 < n) {
            i++;
        }
        dst[o++] = v[i];
    }
    dst[o] = '\0';
}

/* The first `parts` dot-separated components of v ("3.19.1", 2 → "3.19"). */
static size_t ver_prefix(const char *v, int parts)
{
    size_t i = 0;
    for (int dots = 0; v[i]; i++) {
        if (v[i] == '.' && ++dots == parts) {
            break;
        }
    }
    return i;
}

void vg_vuln_os_ecosystem(const char *id, const char *ver, char *dst, size_t dsz)
{
    static const struct {
        const char *id, *eco;
        int parts; /* version components kept; 0 = all */
        const char *prefix;
    } map[] = {
        {"debian", "Debian", 1, ""},          {"ubuntu", "Ubuntu", 0, ""},
        {"alpine", "Alpine", 2, "v"},         {"rhel", "Red Hat", 1, ""},
        {"rocky", "Rocky Linux", 1, ""},      {"almalinux", "AlmaLinux", 1, ""},
        {"opensuse-leap", "openSUSE", 0, ""}, {"sles", "SUSE", 0, ""},
    };
    const char *eco = id, *prefix = "";
    int parts = 0;
    for (size_t i = 0; i < VG_ARRAY_LEN(map); i++) {
        if (!strcmp(id, map[i].id)) {
            eco = map[i].eco;
            parts = map[i].parts;
            prefix = map[i].prefix;
        }
    }
    if (!ver[0]) {
        snprintf(dst, dsz, "%s", eco);
    } else {
        int vn = (int)(parts ? ver_prefix(ver, parts) : strlen(ver));
        /* OSV names Ubuntu LTS releases "Ubuntu:22.04:LTS": the April release of even years */
        bool lts = !strcmp(eco, "Ubuntu") && vn == 5 && ver[0] >= '0' && ver[0] <= '9' &&
                   ver[1] >= '0' && ver[1] <= '9' && (ver[1] - '0') % 2 == 0 && ver[2] == '.' &&
                   ver[3] == '0' && ver[4] == '4';
        snprintf(dst, dsz, "%s:%s%.*s%s", eco, prefix, vn, ver, lts ? ":LTS" : "");
    }
}

int vg_vuln_inv_osrelease_parse(const char *text, size_t len, struct vg_vuln_inv *out)
{
    size_t off = 0;
    char eco[96];
    out->os_id[0] = out->os_version[0] = '\0';
    while (off < len) {
        const char *s = text + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + (nl ? 1 : 0);
        if (n && s[n - 1] == '\r') {
            n--;
        }
        if (n > 3 && !memcmp(s, "ID=", 3)) {
            osr_value(s + 3, n - 3, out->os_id, sizeof(out->os_id));
        } else if (n > 11 && !memcmp(s, "VERSION_ID=", 11)) {
            osr_value(s + 11, n - 11, out->os_version, sizeof(out->os_version));
        }
    }
    if (!out->os_id[0]) {
        return VG_ENOENT;
    }
    vg_vuln_os_ecosystem(out->os_id, out->os_version, eco, sizeof(eco));
    return vg_vuln_inv_set_ecosystem(out, eco);
}

/* ---------------------------------------------------------------- root filesystem */

/* ROOT + rel into buf; VG_ELIMIT when too long. */
static int root_path(char *buf, size_t bufsz, const char *root, const char *rel)
{
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/') {
        rl--;
    }
    int n = snprintf(buf, bufsz, "%.*s%s", (int)rl, root, rel);
    return n < 0 || (size_t)n >= bufsz ? VG_ELIMIT : VG_OK;
}

/*
 * Read ROOT/rel, resolving one absolute symlink inside ROOT (images ship
 * /etc/os-release -> /usr/lib/os-release; following it as is would read the host's file).
 */
static int root_read(const char *root, const char *rel, char **text, size_t *len)
{
    char p[PATH_MAX_LEN], target[PATH_MAX_LEN];
    ssize_t tl;
    int rc = root_path(p, sizeof(p), root, rel);
    if (rc == VG_OK && (tl = readlink(p, target, sizeof(target) - 1)) > 0 && target[0] == '/') {
        target[tl] = '\0';
        rc = root_path(p, sizeof(p), root, target);
    }
    return rc == VG_OK ? vg_file_read(p, VG_VULN_INV_MAX_FILE, text, len) : rc;
}

/* Packages of ROOT's rpm database, when it has one and rpm is installed (else VG_ENOENT). */
static int root_rpm(const char *root, struct vg_vuln_inv *out, char *err, size_t errsz)
{
    static const char *const dbs[] = {"/var/lib/rpm", "/usr/lib/sysimage/rpm"};
    struct vg_agent_pkgs l = {0};
    char p[PATH_MAX_LEN];
    struct stat st;
    bool have = false;
    int rc;
    for (size_t i = 0; i < VG_ARRAY_LEN(dbs); i++) {
        have |= root_path(p, sizeof(p), root, dbs[i]) == VG_OK && stat(p, &st) == 0 &&
                S_ISDIR(st.st_mode);
    }
    if (!have) {
        return VG_ENOENT;
    }
    rc = vg_agent_inv_rpm_list_root(root, &l, err, errsz);
    for (size_t i = 0; rc == VG_OK && i < l.n; i++) {
        struct vg_vuln_pkg k = {.scheme = VG_VULN_RPM};
        struct vg_vuln_inv_rec rec = {.line = l.v[i].line};
        k.name = inv_str(out, l.v[i].name, strlen(l.v[i].name));
        k.version = inv_str(out, l.v[i].version, strlen(l.v[i].version));
        k.arch = inv_str(out, l.v[i].arch, strlen(l.v[i].arch));
        rc = (!k.name || !k.version || !k.arch) ? VG_ENOMEM : inv_push(out, &k, &rec);
    }
    out->bad += l.bad;
    vg_agent_pkgs_fini(&l);
    return rc;
}

/* Parse ROOT/rel with parse(); VG_ENOENT when the file is absent. */
static int root_db(const char *root, const char *rel,
                   int (*parse)(const char *, size_t, const char *, struct vg_vuln_inv *, char *,
                                size_t),
                   struct vg_vuln_inv *out, char *err, size_t errsz)
{
    char p[PATH_MAX_LEN], *text = NULL;
    size_t len = 0;
    int rc = root_path(p, sizeof(p), root, rel);
    if (rc == VG_OK) {
        rc = read_text(p, &text, &len, err, errsz);
    }
    if (rc == VG_OK) {
        rc = parse(text, len, p, out, err, errsz);
    }
    vg_free(text);
    return rc;
}

int vg_vuln_inv_from_root(const char *root, struct vg_vuln_inv *out, char *err, size_t errsz)
{
    char *osr = NULL;
    size_t len = 0;
    int rc = VG_ENOENT, r;
    bool found = false;
    if (root_read(root, "/etc/os-release", &osr, &len) == VG_OK ||
        root_read(root, "/usr/lib/os-release", &osr, &len) == VG_OK) {
        if (vg_vuln_inv_osrelease_parse(osr, len, out) == VG_ENOMEM) {
            vg_free(osr);
            return VG_ENOMEM;
        }
    }
    vg_free(osr);
    r = root_db(root, "/var/lib/dpkg/status", vg_vuln_inv_dpkg_parse, out, err, errsz);
    found |= r == VG_OK;
    rc = r == VG_ENOENT ? VG_OK : r;
    if (rc == VG_OK) {
        r = root_db(root, "/lib/apk/db/installed", vg_vuln_inv_from_apk, out, err, errsz);
        found |= r == VG_OK;
        rc = r == VG_ENOENT ? VG_OK : r;
    }
    if (rc == VG_OK) {
        r = root_rpm(root, out, err, errsz);
        found |= r == VG_OK;
        rc = r == VG_ENOENT ? VG_OK : r;
    }
    if (rc == VG_OK && !found) {
        snprintf(err, errsz, "%s: no dpkg, apk or rpm package database", root);
        rc = VG_ENOENT;
    }
    if (rc == VG_OK && out->err[0]) {
        err_copy(err, errsz, out->err);
    }
    return rc == VG_OK ? vg_vuln_inv_set_ecosystem(out, out->ecosystem) : rc;
}

/* ---------------------------------------------------------------- Packages indexes */

struct idx_ent {
    const char *name, *arch, *version;
    uint32_t next; /* 1 + index of the next entry with the same name, 0 at the end */
};

struct vg_vuln_pkgindex {
    struct idx_ent *v;
    size_t n, cap;
    uint32_t *slots; /* open addressing: 1 + index of a name's first entry, 0 empty */
    size_t nslots;
    struct vg_arena *arena;
    size_t bad;
    char err[256];
};

static const char *const index_fields[] = {"Package", "Version", "Architecture"};

static int index_sink(void *ctx, const struct d8_para *p, struct diag *d)
{
    struct vg_vuln_pkgindex *idx = ctx;
    struct idx_ent e = {0};
    const char *pk = p->v[F_PACKAGE];
    if (!pk || !p->v[F_VERSION] || !p->v[F_ARCH]) {
        diag_problem(d, p->line, "paragraph without %s",
                     !pk ? "Package" : (!p->v[F_VERSION] ? "Version" : "Architecture"));
        return VG_EINVAL;
    }
    if (!token_ok(pk, p->n[F_PACKAGE]) || !token_ok(p->v[F_VERSION], p->n[F_VERSION]) ||
        !token_ok(p->v[F_ARCH], p->n[F_ARCH])) {
        diag_problem(d, p->line, "package %.*s: invalid Package, Version or Architecture",
                     (int)p->n[F_PACKAGE], pk);
        return VG_EINVAL;
    }
    if (idx->n >= VG_VULN_INV_MAX_PKGS) {
        return VG_ELIMIT;
    }
    if (vg_grow(&idx->v, &idx->cap, idx->n + 1, sizeof(*idx->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    e.name = vg_arena_strndup(idx->arena, pk, p->n[F_PACKAGE]);
    e.version = vg_arena_strndup(idx->arena, p->v[F_VERSION], p->n[F_VERSION]);
    e.arch = vg_arena_strndup(idx->arena, p->v[F_ARCH], p->n[F_ARCH]);
    if (!e.name || !e.version || !e.arch) {
        return VG_ENOMEM;
    }
    idx->v[idx->n++] = e;
    return VG_OK;
}

static size_t index_slot(const struct vg_vuln_pkgindex *idx, const char *name, size_t n)
{
    size_t mask = idx->nslots - 1;
    size_t i = (size_t)vg_hash_mix(vg_hash64(name, n, 0x76756c6eu)) & mask;
    while (idx->slots[i] && strcmp(idx->v[idx->slots[i] - 1].name, name) != 0) {
        i = (i + 1) & mask;
    }
    return i;
}

/* Hash the names: each slot heads the chain of one name's entries. */
static int index_build(struct vg_vuln_pkgindex *idx)
{
    size_t ns = 16;
    while (ns < idx->n * 2) {
        ns *= 2;
    }
    if (!(idx->slots = vg_calloc(ns, sizeof(*idx->slots)))) {
        return VG_ENOMEM;
    }
    idx->nslots = ns;
    for (size_t i = 0; i < idx->n; i++) {
        size_t s = index_slot(idx, idx->v[i].name, strlen(idx->v[i].name));
        idx->v[i].next = idx->slots[s];
        idx->slots[s] = (uint32_t)(i + 1);
    }
    return VG_OK;
}

int vg_vuln_pkgindex_parse(const char *text, size_t len, const char *path,
                           struct vg_vuln_pkgindex **out, char *err, size_t errsz)
{
    struct vg_vuln_pkgindex *idx = vg_calloc(1, sizeof(*idx));
    struct diag d = {.path = path};
    int rc = VG_ENOMEM;
    *out = NULL;
    if (!idx || !(idx->arena = vg_arena_create(INV_ARENA_BLOCK))) {
        goto fail;
    }
    d.msg = idx->err;
    d.msgsz = sizeof(idx->err);
    rc = d8_parse(text, len, index_fields, VG_ARRAY_LEN(index_fields), index_sink, idx, &d);
    idx->bad = d.bad;
    if (rc == VG_OK) {
        rc = index_build(idx);
    }
    if (rc != VG_OK) {
        goto fail;
    }
    err_copy(err, errsz, idx->err);
    *out = idx;
    return VG_OK;
fail:
    if (err && errsz) {
        snprintf(err, errsz, "%s: %s", path ? path : "(input)", vg_strerror(rc));
    }
    vg_vuln_pkgindex_destroy(idx);
    return rc;
}

int vg_vuln_pkgindex_load(const char *path, struct vg_vuln_pkgindex **out, char *err, size_t errsz)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_text(path, &text, &len, err, errsz);
    *out = NULL;
    if (rc == VG_OK) {
        rc = vg_vuln_pkgindex_parse(text, len, path, out, err, errsz);
    }
    vg_free(text);
    return rc;
}

size_t vg_vuln_pkgindex_count(const struct vg_vuln_pkgindex *idx)
{
    return idx ? idx->n : 0;
}

size_t vg_vuln_pkgindex_bad(const struct vg_vuln_pkgindex *idx)
{
    return idx ? idx->bad : 0;
}

void vg_vuln_pkgindex_destroy(struct vg_vuln_pkgindex *idx)
{
    if (!idx) {
        return;
    }
    vg_free(idx->v);
    vg_free(idx->slots);
    vg_arena_destroy(idx->arena);
    vg_free(idx);
}

/* Same architecture, or either side "all" (or unknown). */
static bool arch_compatible(const char *a, const char *b)
{
    return !a || !a[0] || !b[0] || !strcmp(a, "all") || !strcmp(b, "all") || !strcmp(a, b);
}

static int dpkg_cmp(const char *a, const char *b, int *cmp, char *err, size_t errsz)
{
    return vg_vuln_vercmp(VG_VULN_DPKG, a, strlen(a), b, strlen(b), cmp, err, errsz);
}

int vg_vuln_pkgindex_best(const struct vg_vuln_pkgindex *idx, const char *name, const char *arch,
                          const char **version, char *err, size_t errsz)
{
    const char *best = NULL;
    uint32_t e;
    *version = NULL;
    if (!idx || !idx->n) {
        return VG_ENOENT;
    }
    e = idx->slots[index_slot(idx, name, strlen(name))];
    for (; e; e = idx->v[e - 1].next) {
        const struct idx_ent *x = &idx->v[e - 1];
        int c = 1;
        if (!arch_compatible(arch, x->arch)) {
            continue;
        }
        if (best && dpkg_cmp(x->version, best, &c, err, errsz) != VG_OK) {
            return VG_EINVAL;
        }
        best = c > 0 ? x->version : best;
    }
    *version = best;
    return best ? VG_OK : VG_ENOENT;
}

int vg_vuln_outdated(const struct vg_vuln_inv *inv, const struct vg_vuln_pkgindex *idx,
                     vg_vuln_outdated_fn fn, void *ctx, size_t *count, size_t *nbad, char *err,
                     size_t errsz)
{
    size_t found = 0, bad = 0;
    char e1[256] = "";
    int rc = VG_OK;
    for (size_t i = 0; i < inv->n && rc == VG_OK; i++) {
        const struct vg_vuln_pkg *p = &inv->pkgs[i];
        const char *avail = NULL;
        int c = 0, r;
        if (p->scheme != VG_VULN_DPKG) {
            continue;
        }
        r = vg_vuln_pkgindex_best(idx, p->name, p->arch, &avail, e1, sizeof(e1));
        if (r == VG_OK) {
            r = dpkg_cmp(avail, p->version, &c, e1, sizeof(e1));
        }
        if (r == VG_EINVAL) {
            if (bad++ == 0 && err && errsz) {
                snprintf(err, errsz, "package %s: %s", p->name, e1);
            }
        } else if (r == VG_OK && c > 0) {
            found++;
            rc = fn ? fn(ctx, p, avail) : VG_OK;
        }
    }
    if (count) {
        *count = found;
    }
    if (nbad) {
        *nbad = bad;
    }
    return rc;
}
