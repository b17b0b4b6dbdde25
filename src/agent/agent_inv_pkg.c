/*
 * agent_inv_pkg.c — installed packages for the inventory collector and, later, the
 * vulnerability module: a parser of dpkg's status file, of apk's installed database
 * (Alpine) and a reader of the rpm database through the rpm program.
 *
 * The status file is deb822: paragraphs of "Field: value" lines separated by blank lines,
 * continuation lines starting with a space or tab. Only Package, Version, Architecture,
 * Source and Status are kept. The file is untrusted text: lines are walked with memchr over
 * [text, text+len), values are bounded (VG_AGENT_INV_MAX_FIELD), a line without a colon or a
 * paragraph without Package/Version is skipped and counted, and the first problem is
 * reported with its line number. rpm is run with a fixed argv through posix_spawn (no shell)
 * and its output parsed the same bounded way.
 */
#include "agent/agent_inv.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define RPM_OUT_MAX (64u << 20)

/* ---------------------------------------------------------------- list */

static int pkgs_push(struct vg_agent_pkgs *l, const struct vg_agent_pkg *p)
{
    if (l->n >= VG_AGENT_INV_MAX_PKGS) {
        return VG_ELIMIT;
    }
    if (vg_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    l->v[l->n++] = *p;
    return VG_OK;
}

static char *pkgs_str(struct vg_agent_pkgs *l, const char *p, size_t n)
{
    if (!l->arena && !(l->arena = vg_arena_create(64 * 1024))) {
        return NULL;
    }
    return vg_arena_strndup(l->arena, p, n);
}

const struct vg_agent_pkg *vg_agent_pkgs_find(const struct vg_agent_pkgs *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i].name, name)) {
            return &l->v[i];
        }
    }
    return NULL;
}

void vg_agent_pkgs_fini(struct vg_agent_pkgs *l)
{
    vg_free(l->v);
    vg_arena_destroy(l->arena);
    memset(l, 0, sizeof(*l));
}

/* Record the first problem only; count them all. */
static void pkgs_problem(struct vg_agent_pkgs *l, char *err, size_t errsz, const char *path,
                         size_t line, const char *why)
{
    if (!l->bad++ && err && errsz) {
        snprintf(err, errsz, "%s:%zu: %s", path, line, why);
    }
}

/* ---------------------------------------------------------------- dpkg status */

struct para {
    const char *f[5]; /* Package, Version, Architecture, Source, Status */
    size_t fl[5];
    size_t line; /* first line of the paragraph */
    bool too_long;
};

static const char *const para_fields[5] = {"Package", "Version", "Architecture", "Source",
                                           "Status"};

static bool status_installed(const char *s, size_t n)
{
    /* "want flag status": the third word */
    const char *sp = memrchr(s, ' ', n);
    if (!sp) {
        return false;
    }
    size_t wl = n - (size_t)(sp + 1 - s);
    const char *w = sp + 1;
    return vg_str_eq(w, wl, "installed", 9) || vg_str_eq(w, wl, "triggers-pending", 16) ||
           vg_str_eq(w, wl, "triggers-awaited", 16);
}

/* "src (1.2-3)" → "src" */
static size_t source_name_len(const char *s, size_t n)
{
    const char *sp = memchr(s, ' ', n);
    return sp ? (size_t)(sp - s) : n;
}

static int para_finish(struct para *p, const char *path, struct vg_agent_pkgs *out, char *err,
                       size_t errsz)
{
    int rc = VG_OK;
    if (!p->line || !p->f[4] || !status_installed(p->f[4], p->fl[4])) {
        goto out; /* empty, or not installed */
    }
    if (!p->f[0] || !p->f[1] || !p->fl[0] || !p->fl[1] || p->too_long) {
        pkgs_problem(out, err, errsz, path, p->line,
                     p->too_long ? "field value too long or has a NUL byte"
                                 : "installed package without "
                                   "Package or Version");
        goto out;
    }
    struct vg_agent_pkg k = {.type = "deb", .line = (uint32_t)p->line};
    k.name = pkgs_str(out, p->f[0], p->fl[0]);
    k.version = pkgs_str(out, p->f[1], p->fl[1]);
    k.arch = pkgs_str(out, p->f[2] ? p->f[2] : "", p->f[2] ? p->fl[2] : 0);
    k.source = p->f[3] ? pkgs_str(out, p->f[3], source_name_len(p->f[3], p->fl[3])) : NULL;
    if (!k.name || !k.version || !k.arch || (p->f[3] && !k.source)) {
        rc = VG_ENOMEM;
        goto out;
    }
    rc = pkgs_push(out, &k);
out:
    memset(p, 0, sizeof(*p));
    return rc;
}

static void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r')) {
        (*n)--;
    }
}

/* One "Field: value" line of the current paragraph. */
static void para_line(struct para *p, const char *s, size_t n, size_t line, const char *path,
                      struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    const char *colon = memchr(s, ':', n);
    if (!p->line) {
        p->line = line;
    }
    if (!colon || colon == s) {
        pkgs_problem(out, err, errsz, path, line, "expected 'Field: value'");
        return;
    }
    size_t kl = (size_t)(colon - s);
    for (int i = 0; i < 5; i++) {
        if (vg_str_ieq_ascii(s, kl, para_fields[i], strlen(para_fields[i]))) {
            const char *v = colon + 1;
            size_t vl = n - kl - 1;
            trim(&v, &vl);
            if (vl > VG_AGENT_INV_MAX_FIELD || memchr(v, '\0', vl)) {
                p->too_long = true;
            }
            p->f[i] = v;
            p->fl[i] = vl;
        }
    }
}

int vg_agent_inv_dpkg_parse(const char *text, size_t len, const char *path,
                            struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    struct para p;
    size_t off = 0, line = 0;
    int rc = VG_OK;
    memset(&p, 0, sizeof(p));
    path = path ? path : "dpkg status";
    while (off < len && rc == VG_OK) {
        const char *s = text + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + 1;
        line++;
        const char *t = s;
        size_t tn = n;
        trim(&t, &tn);
        if (tn == 0) {
            rc = para_finish(&p, path, out, err, errsz);
        } else if (s[0] == ' ' || s[0] == '\t') {
            continue; /* continuation of a multi-line field (Description, Conffiles) */
        } else if (s[0] != '#') {
            para_line(&p, s, n, line, path, out, err, errsz);
        }
    }
    if (rc == VG_OK) {
        rc = para_finish(&p, path, out, err, errsz);
    }
    if (rc == VG_ELIMIT && err) {
        snprintf(err, errsz, "%s:%zu: more than %u packages", path, line, VG_AGENT_INV_MAX_PKGS);
    }
    return rc;
}

typedef int (*pkgs_parser)(const char *text, size_t len, const char *path,
                           struct vg_agent_pkgs *out, char *err, size_t errsz);

/* Read a package database (bounded) and parse it; VG_ENOENT when the file is absent. */
static int pkgs_load(const char *path, pkgs_parser parse, struct vg_agent_pkgs *out, char *err,
                     size_t errsz)
{
    char *text = NULL;
    size_t len = 0;
    int rc = vg_file_read(path, VG_AGENT_INV_MAX_FILE, &text, &len);
    if (rc != VG_OK) {
        if (rc == VG_EIO && errno == ENOENT) {
            rc = VG_ENOENT;
        }
        snprintf(err, errsz, "%s: %s", path,
                 rc == VG_ELIMIT ? "larger than the size bound" : strerror(errno));
        return rc;
    }
    rc = parse(text, len, path, out, err, errsz);
    vg_free(text);
    return rc;
}

int vg_agent_inv_dpkg_load(const char *path, struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    return pkgs_load(path, vg_agent_inv_dpkg_parse, out, err, errsz);
}

/* ---------------------------------------------------------------- apk */

/*
 * apk's installed database (lib/apk/db/installed): "K:value" lines, one package per block,
 * blocks separated by blank lines; P name, V version, A arch, o origin (the aport the
 * package was built from: Alpine's advisories name it). Other keys (files, checksums) are
 * skipped. A block with a line that is not K:value, a repeated key or a value with spaces or
 * control bytes is skipped whole (one problem), as is one without P or V.
 */
struct apk_block {
    const char *v[4]; /* P V A o */
    size_t n[4];
    size_t line; /* the block's first line */
    bool any, bad;
};

static bool apk_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) {
            return false;
        }
    }
    return n > 0 && n <= VG_AGENT_INV_MAX_FIELD;
}

static int apk_finish(struct apk_block *k, const char *path, struct vg_agent_pkgs *out, char *err,
                      size_t errsz)
{
    int rc = VG_OK;
    if (k->any && !k->bad && (!k->v[0] || !k->v[1])) {
        pkgs_problem(out, err, errsz, path, k->line,
                     k->v[0] ? "package without V: (version)" : "package without P: (name)");
    } else if (k->any && !k->bad) {
        struct vg_agent_pkg p = {.name = pkgs_str(out, k->v[0], k->n[0]),
                                 .version = pkgs_str(out, k->v[1], k->n[1]),
                                 .arch = pkgs_str(out, k->v[2] ? k->v[2] : "", k->n[2]),
                                 .source = k->v[3] ? pkgs_str(out, k->v[3], k->n[3]) : NULL,
                                 .type = "apk",
                                 .line = (uint32_t)k->line};
        rc = !p.name || !p.version || !p.arch || (k->v[3] && !p.source) ? VG_ENOMEM
                                                                        : pkgs_push(out, &p);
    }
    memset(k, 0, sizeof(*k));
    return rc;
}

static void apk_line(struct apk_block *k, const char *s, size_t n, size_t line, const char *path,
                     struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    static const char keys[] = "PVAo";
    const char *at;
    if (!k->any) {
        k->any = true;
        k->line = line;
    }
    if (k->bad) {
        return;
    }
    if (n < 2 || s[1] != ':') {
        pkgs_problem(out, err, errsz, path, line, "expected 'K:value'");
        k->bad = true;
        return;
    }
    if (!(at = memchr(keys, s[0], 4))) {
        return;
    }
    size_t i = (size_t)(at - keys);
    if (k->v[i] || !apk_token(s + 2, n - 2)) {
        char why[32];
        snprintf(why, sizeof(why), k->v[i] ? "duplicate %c: line" : "invalid %c: value", s[0]);
        pkgs_problem(out, err, errsz, path, line, why);
        k->bad = true;
        return;
    }
    k->v[i] = s + 2;
    k->n[i] = n - 2;
}

int vg_agent_inv_apk_parse(const char *text, size_t len, const char *path,
                           struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    struct apk_block k;
    size_t off = 0, line = 0;
    int rc = VG_OK;
    memset(&k, 0, sizeof(k));
    path = path ? path : "apk installed";
    while (rc == VG_OK && off < len) {
        const char *s = text + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + 1;
        line++;
        if (n && s[n - 1] == '\r') {
            n--;
        }
        if (n == 0) {
            rc = apk_finish(&k, path, out, err, errsz);
        } else {
            apk_line(&k, s, n, line, path, out, err, errsz);
        }
    }
    if (rc == VG_OK) {
        rc = apk_finish(&k, path, out, err, errsz);
    }
    if (rc == VG_ELIMIT && err) {
        snprintf(err, errsz, "%s:%zu: more than %u packages", path, line, VG_AGENT_INV_MAX_PKGS);
    }
    return rc;
}

int vg_agent_inv_apk_load(const char *path, struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    return pkgs_load(path, vg_agent_inv_apk_parse, out, err, errsz);
}

/* ---------------------------------------------------------------- rpm */

/* Lines "NAME\tEPOCH:VERSION-RELEASE\tARCH"; an epoch of 0 is dropped ("0:1.2-3" → "1.2-3"). */
int vg_agent_inv_rpm_parse(const char *text, size_t len, struct vg_agent_pkgs *out, char *err,
                           size_t errsz)
{
    size_t off = 0, line = 0;
    int rc = VG_OK;
    while (off < len && rc == VG_OK) {
        const char *s = text + off, *f[3];
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off, fl[3], nf = 0, i = 0;
        off += n + 1;
        line++;
        while (nf < 3 && i <= n) {
            const char *tab = memchr(s + i, '\t', n - i);
            size_t e = tab ? (size_t)(tab - s) : n;
            f[nf] = s + i;
            fl[nf++] = e - i;
            i = e + 1;
        }
        if (nf != 3 || i <= n || !fl[0] || !fl[1] || fl[0] > VG_AGENT_INV_MAX_FIELD ||
            fl[1] > VG_AGENT_INV_MAX_FIELD || fl[2] > VG_AGENT_INV_MAX_FIELD) {
            if (n) {
                pkgs_problem(out, err, errsz, "rpm -qa", line, "expected NAME\\tVERSION\\tARCH");
            }
            continue;
        }
        if (fl[1] > 2 && !memcmp(f[1], "0:", 2)) {
            f[1] += 2;
            fl[1] -= 2;
        }
        struct vg_agent_pkg k = {.type = "rpm", .line = (uint32_t)line};
        k.name = pkgs_str(out, f[0], fl[0]);
        k.version = pkgs_str(out, f[1], fl[1]);
        k.arch = pkgs_str(out, f[2], fl[2]);
        rc = (!k.name || !k.version || !k.arch) ? VG_ENOMEM : pkgs_push(out, &k);
    }
    return rc;
}

static const char *rpm_program(void)
{
    static const char *const paths[] = {"/usr/bin/rpm", "/bin/rpm", "/usr/local/bin/rpm"};
    for (size_t i = 0; i < VG_ARRAY_LEN(paths); i++) {
        if (access(paths[i], X_OK) == 0) {
            return paths[i];
        }
    }
    return NULL;
}

/* Read the child's output up to RPM_OUT_MAX. */
static int read_all(int fd, struct vg_sbuf *out)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n == 0 ? VG_OK : VG_EIO;
        }
        if (out->len + (size_t)n > RPM_OUT_MAX) {
            return VG_ELIMIT;
        }
        vg_sbuf_add(out, buf, (size_t)n);
    }
}

int vg_agent_inv_rpm_list_root(const char *root, struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    const char *rpm = rpm_program();
    char *const plain[] = {(char *)"rpm", (char *)"-qa", (char *)"--queryformat",
                           (char *)"%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n",
                           NULL};
    char *const rooted[] = {(char *)"rpm",
                            (char *)"--root",
                            (char *)root,
                            (char *)"-qa",
                            (char *)"--queryformat",
                            (char *)"%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n",
                            NULL};
    int pfd[2], status = 0, rc;
    pid_t pid;
    struct vg_sbuf text = VG_SBUF_INIT;
    posix_spawn_file_actions_t fa;
    if (!rpm) {
        snprintf(err, errsz, "rpm: no rpm program installed");
        return VG_ENOENT;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        snprintf(err, errsz, "rpm: pipe: %s", strerror(errno));
        return VG_EIO;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, rpm, &fa, NULL, root ? rooted : plain, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        snprintf(err, errsz, "rpm: spawn %s: %s", rpm, strerror(rc));
        return VG_EIO;
    }
    rc = read_all(pfd[0], &text);
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (rc == VG_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        rc = VG_EIO;
        snprintf(err, errsz, "rpm%s%s -qa: exit status %d", root ? " --root " : "",
                 root ? root : "", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    } else if (rc == VG_OK) {
        rc = text.err ? text.err
                      : vg_agent_inv_rpm_parse(text.p ? text.p : "", text.len, out, err, errsz);
    }
    vg_sbuf_fini(&text);
    return rc;
}

int vg_agent_inv_rpm_list(struct vg_agent_pkgs *out, char *err, size_t errsz)
{
    return vg_agent_inv_rpm_list_root(NULL, out, err, errsz);
}
