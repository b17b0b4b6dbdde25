/*
 * agent_inv_sys.c — system inventory parsers for the inventory collector: /etc/passwd,
 * /etc/group, /proc/modules, and host facts (/etc/os-release, uname, /proc/cpuinfo,
 * /proc/meminfo, /etc/machine-id).
 *
 * Records are generic (struct vg_agent_inv_item: key + named string fields) so the collector
 * diffs every category the same way. Each parser walks lines with memchr over the given
 * bytes, splits on a fixed separator into a bounded number of fields, skips and counts a
 * malformed line and remembers the first problem as "PATH:LINE: reason". NIS compat lines
 * ("+", "-") and comments are skipped silently.
 */
#include "agent/agent_inv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SYS_FILE_MAX (16u << 20)
#define MAX_ITEMS    1000000
#define MAX_COLS     8

/* ---------------------------------------------------------------- records */

int vg_agent_inv_item_add(struct vg_agent_inv_list *l, const char *key, size_t keylen,
                          struct vg_agent_inv_item **out)
{
    if (l->n >= MAX_ITEMS) {
        return VG_ELIMIT;
    }
    if (!l->arena && !(l->arena = vg_arena_create(64 * 1024))) {
        return VG_ENOMEM;
    }
    if (vg_grow(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct vg_agent_inv_item *it = &l->v[l->n];
    memset(it, 0, sizeof(*it));
    if (!(it->key = vg_arena_strndup(l->arena, key, keylen))) {
        return VG_ENOMEM;
    }
    l->n++;
    *out = it;
    return VG_OK;
}

int vg_agent_inv_item_set(struct vg_agent_inv_list *l, struct vg_agent_inv_item *it,
                          const char *name, const char *val, size_t len)
{
    if (it->nf >= VG_AGENT_INV_FIELDS) {
        return VG_ELIMIT;
    }
    const char *v = vg_arena_strndup(l->arena, val, len);
    if (!v) {
        return VG_ENOMEM;
    }
    it->name[it->nf] = name;
    it->val[it->nf++] = v;
    return VG_OK;
}

static int item_cmp(const void *a, const void *b)
{
    return strcmp(((const struct vg_agent_inv_item *)a)->key,
                  ((const struct vg_agent_inv_item *)b)->key);
}

void vg_agent_inv_list_sort(struct vg_agent_inv_list *l)
{
    if (l->n > 1) {
        qsort(l->v, l->n, sizeof(*l->v), item_cmp);
    }
}

void vg_agent_inv_list_fini(struct vg_agent_inv_list *l)
{
    vg_free(l->v);
    vg_arena_destroy(l->arena);
    memset(l, 0, sizeof(*l));
}

static void list_problem(struct vg_agent_inv_list *l, const char *path, size_t line,
                         const char *why)
{
    if (!l->bad++) {
        snprintf(l->err, sizeof(l->err), "%s:%zu: %s", path, line, why);
    }
}

/* ---------------------------------------------------------------- line tables */

/* Split s (n bytes) on sep into at most MAX_COLS columns; returns the count (> MAX_COLS: too many).
 */
static size_t split(const char *s, size_t n, char sep, const char **c, size_t *cl)
{
    size_t nc = 0, i = 0;
    for (;;) {
        const char *e = memchr(s + i, sep, n - i);
        size_t end = e ? (size_t)(e - s) : n;
        if (nc == MAX_COLS) {
            return MAX_COLS + 1;
        }
        c[nc] = s + i;
        cl[nc++] = end - i;
        if (!e) {
            return nc;
        }
        i = end + 1;
    }
}

static bool all_digits(const char *s, size_t n)
{
    if (!n || n > 10) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

typedef int (*row_fn)(struct vg_agent_inv_list *l, const char **c, size_t *cl, size_t nc,
                      const char **why);

/* Walk the lines of text, handing each non-empty, non-comment row's columns to row. */
static int table_parse(const char *text, size_t len, const char *path, char sep,
                       struct vg_agent_inv_list *l, row_fn row)
{
    size_t off = 0, line = 0;
    while (off < len) {
        const char *s = text + off, *c[MAX_COLS];
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off, cl[MAX_COLS];
        off += n + 1;
        line++;
        if (!n || s[0] == '#' || s[0] == '+' || s[0] == '-') {
            continue;
        }
        const char *why = "malformed line";
        size_t nc = split(s, n, sep, c, cl);
        int rc = nc <= MAX_COLS && !memchr(s, '\0', n) ? row(l, c, cl, nc, &why) : VG_EINVAL;
        if (rc == VG_EINVAL) {
            list_problem(l, path, line, why);
        } else if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int set_cols(struct vg_agent_inv_list *l, const char *key, size_t keylen,
                    const char *const *names, const char **c, size_t *cl, const int *idx, size_t n)
{
    struct vg_agent_inv_item *it;
    int rc = vg_agent_inv_item_add(l, key, keylen, &it);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        rc = vg_agent_inv_item_set(l, it, names[i], c[idx[i]], cl[idx[i]]);
    }
    return rc;
}

/* name:passwd:uid:gid:gecos:home:shell */
static int passwd_row(struct vg_agent_inv_list *l, const char **c, size_t *cl, size_t nc,
                      const char **why)
{
    static const char *const names[] = {"name", "id", "group.id", "full_name", "home", "shell"};
    static const int idx[] = {0, 2, 3, 4, 5, 6};
    if (nc != 7 || !cl[0] || !all_digits(c[2], cl[2]) || !all_digits(c[3], cl[3])) {
        *why = "expected name:password:uid:gid:gecos:home:shell";
        return VG_EINVAL;
    }
    return set_cols(l, c[0], cl[0], names, c, cl, idx, 6);
}

/* name:passwd:gid:members */
static int group_row(struct vg_agent_inv_list *l, const char **c, size_t *cl, size_t nc,
                     const char **why)
{
    static const char *const names[] = {"name", "id", "members"};
    static const int idx[] = {0, 2, 3};
    if (nc != 4 || !cl[0] || !all_digits(c[2], cl[2])) {
        *why = "expected name:password:gid:members";
        return VG_EINVAL;
    }
    return set_cols(l, c[0], cl[0], names, c, cl, idx, 3);
}

/* name size refcount deps state address [taint] */
static int module_row(struct vg_agent_inv_list *l, const char **c, size_t *cl, size_t nc,
                      const char **why)
{
    static const char *const names[] = {"name", "size"};
    static const int idx[] = {0, 1};
    if (nc < 6 || !cl[0] || !all_digits(c[1], cl[1])) {
        *why = "expected name size refcount deps state address";
        return VG_EINVAL;
    }
    return set_cols(l, c[0], cl[0], names, c, cl, idx, 2);
}

int vg_agent_inv_passwd_parse(const char *text, size_t len, const char *path,
                              struct vg_agent_inv_list *l)
{
    return table_parse(text, len, path, ':', l, passwd_row);
}

int vg_agent_inv_group_parse(const char *text, size_t len, const char *path,
                             struct vg_agent_inv_list *l)
{
    return table_parse(text, len, path, ':', l, group_row);
}

int vg_agent_inv_modules_parse(const char *text, size_t len, const char *path,
                               struct vg_agent_inv_list *l)
{
    return table_parse(text, len, path, ' ', l, module_row);
}

int vg_agent_inv_file_parse(const char *path,
                            int (*parse)(const char *, size_t, const char *,
                                         struct vg_agent_inv_list *),
                            struct vg_agent_inv_list *l)
{
    char *text = NULL;
    size_t len = 0;
    int rc = vg_file_read(path, SYS_FILE_MAX, &text, &len);
    if (rc != VG_OK) {
        int e = errno;
        snprintf(l->err, sizeof(l->err), "%s: %s", path,
                 rc == VG_ELIMIT ? "larger than the size bound" : strerror(e));
        return rc == VG_EIO && e == ENOENT ? VG_ENOENT : rc;
    }
    rc = parse(text, len, path, l);
    vg_free(text);
    return rc;
}

/* ---------------------------------------------------------------- host facts */

/* Value of KEY= in an os-release text, unquoted (escapes in double quotes kept simple). */
static bool os_release_get(const char *text, size_t len, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key), off = 0;
    while (off < len) {
        const char *s = text + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + 1;
        if (n <= kl || memcmp(s, key, kl) != 0 || s[kl] != '=') {
            continue;
        }
        const char *v = s + kl + 1;
        size_t vl = n - kl - 1, o = 0;
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v++;
            vl -= 2;
        }
        for (size_t i = 0; i < vl && o + 1 < outsz; i++) {
            if (v[i] == '\\' && i + 1 < vl) {
                i++;
            }
            out[o++] = v[i];
        }
        out[o] = '\0';
        return o > 0;
    }
    return false;
}

static void add_field(struct vg_sbuf *out, const char *key, const char *v, size_t n)
{
    vg_sbuf_printf(out, ",\"%s\":", key);
    vg_sbuf_add_json_str(out, v, n);
}

static void host_os(const char *path, struct vg_sbuf *out)
{
    static const char *const map[][2] = {
        {"NAME", "host.os.name"},
        {"VERSION_ID", "host.os.version"},
        {"ID", "host.os.platform"},
        {"PRETTY_NAME", "host.os.full"},
        {"VERSION_CODENAME", "host.os.codename"},
        {"ID_LIKE", "host.os.family"},
    };
    char *text = NULL, v[256];
    size_t len = 0;
    if (vg_file_read(path ? path : "/etc/os-release", 1 << 20, &text, &len) != VG_OK &&
        (path || vg_file_read("/usr/lib/os-release", 1 << 20, &text, &len) != VG_OK)) {
        return;
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(map); i++) {
        if (os_release_get(text, len, map[i][0], v, sizeof(v))) {
            add_field(out, map[i][1], v, strlen(v));
        } else if (!strcmp(map[i][0], "ID_LIKE") && os_release_get(text, len, "ID", v, sizeof(v))) {
            add_field(out, "host.os.family", v, strlen(v)); /* debian has no ID_LIKE */
        }
    }
    vg_free(text);
}

/* The first "KEY<blanks>: value" of cpuinfo/meminfo style text; counts lines with key too. */
static size_t colon_value(const char *text, size_t len, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key), off = 0, count = 0;
    out[0] = '\0';
    while (off < len) {
        const char *s = text + off;
        const char *nl = memchr(s, '\n', len - off);
        size_t n = nl ? (size_t)(nl - s) : len - off;
        off += n + 1;
        const char *colon = memchr(s, ':', n);
        size_t k = colon ? (size_t)(colon - s) : 0;
        while (k && (s[k - 1] == ' ' || s[k - 1] == '\t')) {
            k--;
        }
        if (!colon || k != kl || memcmp(s, key, kl) != 0) {
            continue;
        }
        if (!count++) {
            const char *v = colon + 1;
            size_t vl = n - (size_t)(v - s);
            while (vl && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            vg_strlcpy(out, v, VG_MIN(vl + 1, outsz));
        }
    }
    return count;
}

static void host_hw(const struct vg_agent_inv_host_paths *p, struct vg_sbuf *out)
{
    char *text = NULL, v[256];
    size_t len = 0;
    if (vg_file_read(p->cpuinfo ? p->cpuinfo : "/proc/cpuinfo", 16 << 20, &text, &len) == VG_OK) {
        size_t cpus = colon_value(text, len, "processor", v, sizeof(v));
        if (colon_value(text, len, "model name", v, sizeof(v))) {
            add_field(out, "host.cpu.model", v, strlen(v));
        }
        vg_sbuf_printf(out, ",\"host.cpu.count\":%zu",
                       cpus ? cpus : (size_t)sysconf(_SC_NPROCESSORS_CONF));
        vg_free(text);
    }
    if (vg_file_read(p->meminfo ? p->meminfo : "/proc/meminfo", 1 << 20, &text, &len) == VG_OK) {
        int64_t kb;
        if (colon_value(text, len, "MemTotal", v, sizeof(v)) &&
            vg_parse_i64(v, strcspn(v, " "), &kb) == VG_OK && kb >= 0) {
            vg_sbuf_printf(out, ",\"host.memory.total\":%lld", (long long)kb * 1024);
        }
        vg_free(text);
    }
    if (vg_file_read(p->machine_id ? p->machine_id : "/etc/machine-id", 4096, &text, &len) ==
        VG_OK) {
        size_t n = strcspn(text, "\n");
        if (n) {
            add_field(out, "host.id", text, n);
        }
        vg_free(text);
    }
}

void vg_agent_inv_host_facts(const struct vg_agent_inv_host_paths *p, struct vg_sbuf *out)
{
    static const struct vg_agent_inv_host_paths none = {0};
    struct utsname u;
    p = p ? p : &none;
    host_os(p->os_release, out);
    if (uname(&u) == 0) {
        add_field(out, "host.os.kernel", u.release, strlen(u.release));
        add_field(out, "host.os.type", "linux", 5);
        add_field(out, "host.architecture", u.machine, strlen(u.machine));
        add_field(out, "host.hostname", u.nodename, strlen(u.nodename));
    }
    host_hw(p, out);
}
