/*
 * agent_yara.c — YARA rule sets and scans for the agent (libyara 4.x).
 *
 * libyara is initialised once (pthread_once) and never finalised: rule sets may live until
 * exit. A rule set wraps YR_RULES with a reference count so the collector can swap in pushed
 * rules while scans on other threads finish with the old ones. Compiler errors come through
 * the compiler callback, which keeps the first one as "NAME:LINE: message".
 *
 * A scan reads each file into a buffer reused across the files of one call (not mmap: a file
 * truncated during the scan would raise SIGBUS in the agent), scans it with a YR_SCANNER
 * created for the call, and on the first match of a file computes its SHA-256 (OpenSSL).
 * Directory walks use openat/fstatat relative to the directory fd, never follow symbolic
 * links and never leave the starting filesystem.
 */
#include "agent/agent_yara.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yara.h>

#define DEFAULT_MAX_SIZE (64ull << 20)
#define MAX_DEPTH        64
#define MAX_TAGS         32
#define SCAN_TIMEOUT_S   60

struct vg_agent_yara_rules {
    YR_RULES *rules;
    atomic_int refs;
    size_t count;
};

/* ---------------------------------------------------------------- init */

static pthread_once_t yara_once = PTHREAD_ONCE_INIT;
static int yara_init_rc = ERROR_SUCCESS;

static void yara_init(void)
{
    yara_init_rc = yr_initialize();
}

static int yara_ready(char *err, size_t errsz)
{
    pthread_once(&yara_once, yara_init);
    if (yara_init_rc != ERROR_SUCCESS) {
        snprintf(err, errsz, "libyara: yr_initialize failed (error %d)", yara_init_rc);
        return VG_ERROR;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- compile */

struct compile_ctx {
    char *err;
    size_t errsz;
    const char *name;
    int errors;
};

static void compile_cb(int level, const char *file, int line, const YR_RULE *rule, const char *msg,
                       void *user)
{
    struct compile_ctx *cc = user;
    VG_UNUSED(rule);
    if (level != YARA_ERROR_LEVEL_ERROR) {
        return; /* warnings (slow rules, ...) are not failures */
    }
    if (!cc->errors++ && cc->err && cc->errsz) {
        snprintf(cc->err, cc->errsz, "%s:%d: %s", file && *file ? file : cc->name, line, msg);
    }
}

static size_t rules_count(YR_RULES *r)
{
    size_t n = 0;
    const YR_RULE *rule;
    yr_rules_foreach(r, rule)
    {
        n++;
    }
    return n;
}

static int rules_wrap(YR_COMPILER *comp, struct vg_agent_yara_rules **out)
{
    struct vg_agent_yara_rules *r = vg_calloc(1, sizeof(*r));
    if (!r) {
        return VG_ENOMEM;
    }
    if (yr_compiler_get_rules(comp, &r->rules) != ERROR_SUCCESS) {
        vg_free(r);
        return VG_ENOMEM;
    }
    atomic_init(&r->refs, 1);
    r->count = rules_count(r->rules);
    *out = r;
    return VG_OK;
}

/* Add one text to comp; VG_EINVAL with err set on a syntax error. */
static int compile_add(YR_COMPILER *comp, struct compile_ctx *cc, const char *text, size_t len,
                       const char *name)
{
    char *copy = vg_strndup(text, len); /* libyara wants a C string */
    if (!copy) {
        return VG_ENOMEM;
    }
    cc->name = name;
    yr_compiler_set_callback(comp, compile_cb, cc);
    int nerr = yr_compiler_add_string(comp, copy, name);
    vg_free(copy);
    if (nerr > 0 || cc->errors) {
        if (!cc->errors && cc->err) {
            snprintf(cc->err, cc->errsz, "%s: does not compile", name);
        }
        return VG_EINVAL;
    }
    return VG_OK;
}

int vg_agent_yara_compile(const char *text, size_t len, const char *name,
                          struct vg_agent_yara_rules **out, char *err, size_t errsz)
{
    YR_COMPILER *comp = NULL;
    struct compile_ctx cc = {err, errsz, name ? name : "rules", 0};
    int rc = yara_ready(err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (yr_compiler_create(&comp) != ERROR_SUCCESS) {
        return VG_ENOMEM;
    }
    rc = compile_add(comp, &cc, text, len, cc.name);
    if (rc == VG_OK) {
        rc = rules_wrap(comp, out);
    }
    yr_compiler_destroy(comp);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rule_file(const char *n)
{
    size_t l = strlen(n);
    return n[0] != '.' &&
           ((l > 4 && !strcmp(n + l - 4, ".yar")) || (l > 5 && !strcmp(n + l - 5, ".yara")));
}

/* The sorted names of the rule files of dir. */
static int list_rule_files(const char *dir, struct vg_strlist *names, char *err, size_t errsz)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) {
        snprintf(err, errsz, "%s: %s", dir, strerror(errno));
        return errno == ENOENT ? VG_ENOENT : VG_EIO;
    }
    int rc = VG_OK;
    while (rc == VG_OK && (e = readdir(d)) != NULL) {
        if (is_rule_file(e->d_name)) {
            rc = vg_strlist_add(names, e->d_name);
        }
    }
    closedir(d);
    if (rc == VG_OK && names->n > 1) {
        qsort(names->v, names->n, sizeof(char *), name_cmp);
    }
    if (rc == VG_OK && !names->n) {
        snprintf(err, errsz, "%s: no *.yar or *.yara file", dir);
        rc = VG_ENOENT;
    }
    return rc;
}

int vg_agent_yara_load_dir(const char *dir, struct vg_agent_yara_rules **out, char *err,
                           size_t errsz)
{
    struct vg_strlist names = {0};
    YR_COMPILER *comp = NULL;
    struct compile_ctx cc = {err, errsz, NULL, 0};
    int rc = yara_ready(err, errsz);
    if (rc == VG_OK) {
        rc = list_rule_files(dir, &names, err, errsz);
    }
    if (rc == VG_OK && yr_compiler_create(&comp) != ERROR_SUCCESS) {
        rc = VG_ENOMEM;
    }
    for (size_t i = 0; rc == VG_OK && i < names.n; i++) {
        char path[4096], *text = NULL;
        size_t len = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]);
        rc = vg_file_read(path, 64u << 20, &text, &len);
        if (rc != VG_OK) {
            snprintf(err, errsz, "%s: %s", path, strerror(errno));
            break;
        }
        rc = compile_add(comp, &cc, text, len, names.v[i]);
        vg_free(text);
    }
    if (rc == VG_OK) {
        rc = rules_wrap(comp, out);
    }
    if (comp) {
        yr_compiler_destroy(comp);
    }
    vg_strlist_free(&names);
    return rc;
}

struct vg_agent_yara_rules *vg_agent_yara_rules_ref(struct vg_agent_yara_rules *r)
{
    if (r) {
        atomic_fetch_add(&r->refs, 1);
    }
    return r;
}

void vg_agent_yara_rules_unref(struct vg_agent_yara_rules *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        yr_rules_destroy(r->rules);
        vg_free(r);
    }
}

size_t vg_agent_yara_rules_count(const struct vg_agent_yara_rules *r)
{
    return r ? r->count : 0;
}

/* ---------------------------------------------------------------- scans */

struct scan {
    YR_SCANNER *scanner;
    uint64_t max_size;
    vg_agent_yara_match_fn cb;
    void *ctx;
    struct vg_agent_yara_scan_stats st;
    uint8_t *buf;
    size_t cap;
    /* the file being scanned */
    const char *path;
    size_t len;
    char sha[65];
    int cb_rc;
};

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int ml = 0;
    static const char hex[] = "0123456789abcdef";
    if (EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL) != 1 || ml != 32) {
        out[0] = '\0';
        return;
    }
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static int report_match(struct scan *s, YR_SCAN_CONTEXT *yc, const YR_RULE *rule)
{
    const char *tags[MAX_TAGS], *tag;
    struct vg_agent_yara_string strs[VG_AGENT_YARA_MAX_STRINGS];
    const YR_STRING *str;
    size_t ntags = 0, nstr = 0;
    bool trunc = false;
    yr_rule_tags_foreach(rule, tag)
    {
        if (ntags < MAX_TAGS) {
            tags[ntags++] = tag;
        }
    }
    yr_rule_strings_foreach(rule, str)
    {
        /* libyara keeps matches in a notebook without alignment: copy each one out */
        const YR_MATCH *mp = yc->matches[str->idx].head;
        while (mp && !trunc) {
            YR_MATCH m;
            memcpy(&m, mp, sizeof(m));
            mp = m.next;
            if (m.is_private) {
                continue;
            }
            if (nstr == VG_AGENT_YARA_MAX_STRINGS) {
                trunc = true;
                break;
            }
            strs[nstr++] = (struct vg_agent_yara_string){str->identifier, (uint64_t)m.offset,
                                                         (uint32_t)m.match_length};
        }
    }
    if (!s->sha[0]) {
        sha256_hex(s->buf, s->len, s->sha);
    }
    struct vg_agent_yara_match mt = {
        s->path, s->len, s->sha, rule->identifier, rule->ns->name, tags, ntags, strs, nstr, trunc};
    s->st.matches++;
    return s->cb ? s->cb(s->ctx, &mt) : VG_OK;
}

static int scan_cb(YR_SCAN_CONTEXT *yc, int msg, void *data, void *user)
{
    struct scan *s = user;
    if (msg != CALLBACK_MSG_RULE_MATCHING) {
        return CALLBACK_CONTINUE;
    }
    s->cb_rc = report_match(s, yc, data);
    return s->cb_rc == VG_OK ? CALLBACK_CONTINUE : CALLBACK_ABORT;
}

/* Read the whole (regular, size-checked) file fd into s->buf. */
static int read_file(struct scan *s, int fd, size_t size)
{
    if (vg_grow(&s->buf, &s->cap, size + 1, 1) != VG_OK) {
        return VG_ENOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, s->buf + got, size - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break; /* shrank while we read: scan what is there */
        }
        got += (size_t)n;
    }
    s->len = got;
    return VG_OK;
}

/* Scan one open file (fd is closed here). */
static int scan_fd(struct scan *s, int fd, const char *path)
{
    struct stat sb;
    int rc = VG_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0 ||
        (uint64_t)sb.st_size > s->max_size) {
        s->st.skipped++;
        goto out;
    }
    if ((rc = read_file(s, fd, (size_t)sb.st_size)) != VG_OK) {
        goto out;
    }
    s->path = path;
    s->sha[0] = '\0';
    s->cb_rc = VG_OK;
    int yr = yr_scanner_scan_mem(s->scanner, s->buf, s->len);
    s->st.files++;
    s->st.bytes += s->len;
    if (s->cb_rc != VG_OK) {
        rc = s->cb_rc;
    } else if (yr != ERROR_SUCCESS) {
        VG_DEBUG("agent.yara", "%s: scan error %d", path, yr);
        s->st.errors++;
    }
out:
    close(fd);
    return rc;
}

static int scan_dir(struct scan *s, int dfd, const char *path, dev_t dev, int depth);

/* One directory entry: recurse into directories, scan regular files, skip the rest. */
static int scan_entry(struct scan *s, int dfd, const char *dir, const char *name, dev_t dev,
                      int depth)
{
    struct stat sb;
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
        fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        s->st.errors++;
        return VG_OK;
    }
    if (S_ISDIR(sb.st_mode) && sb.st_dev == dev && depth < MAX_DEPTH) {
        int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
            s->st.errors++;
            return VG_OK;
        }
        return scan_dir(s, sub, path, dev, depth + 1);
    }
    if (!S_ISREG(sb.st_mode)) {
        s->st.skipped += !S_ISDIR(sb.st_mode);
        return VG_OK;
    }
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        s->st.errors++;
        return VG_OK;
    }
    return scan_fd(s, fd, path);
}

/* Walk the directory open on dfd (closed here). */
static int scan_dir(struct scan *s, int dfd, const char *path, dev_t dev, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        s->st.errors++;
        return VG_OK;
    }
    int rc = VG_OK;
    struct dirent *e;
    while (rc == VG_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            rc = scan_entry(s, dirfd(d), path, e->d_name, dev, depth);
        }
    }
    closedir(d);
    return rc;
}

int vg_agent_yara_scan_path(struct vg_agent_yara_rules *rules, const char *path, bool recursive,
                            uint64_t max_size, vg_agent_yara_match_fn cb, void *ctx,
                            struct vg_agent_yara_scan_stats *st)
{
    struct scan s = {.max_size = max_size ? max_size : DEFAULT_MAX_SIZE, .cb = cb, .ctx = ctx};
    struct stat sb;
    int rc = VG_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        rc = errno == ENOENT ? VG_ENOENT : VG_EIO;
        goto out;
    }
    if (S_ISDIR(sb.st_mode) && !recursive) {
        rc = VG_EINVAL;
        goto out;
    }
    if (!rules || yr_scanner_create(rules->rules, &s.scanner) != ERROR_SUCCESS) {
        rc = rules ? VG_ENOMEM : VG_EINVAL;
        goto out;
    }
    yr_scanner_set_callback(s.scanner, scan_cb, &s);
    yr_scanner_set_timeout(s.scanner, SCAN_TIMEOUT_S);
    yr_scanner_set_flags(s.scanner, SCAN_FLAGS_REPORT_RULES_MATCHING);
    rc = S_ISDIR(sb.st_mode) ? scan_dir(&s, fd, path, sb.st_dev, 0) : scan_fd(&s, fd, path);
    fd = -1; /* closed by the scan */
out:
    if (fd >= 0) {
        close(fd);
    }
    if (s.scanner) {
        yr_scanner_destroy(s.scanner);
    }
    vg_free(s.buf);
    if (st) {
        *st = s.st;
    }
    return rc;
}
