/*
 * agent_inv.h — the agent's "inventory" collector (agent_inv.c) and its parsers:
 * installed packages (dpkg status file, rpm database through the rpm program; agent_inv_pkg.c),
 * users, groups, kernel modules and OS/hardware facts (agent_inv_sys.c).
 *
 * Every parser reads untrusted text through bounded scanning: a malformed line is skipped,
 * counted, and the first problem is reported as "PATH:LINE: reason"; only a size or count
 * bound (VG_ELIMIT) or an unreadable file (VG_EIO / VG_ENOENT) fails the whole parse. The
 * package parser is public so the vulnerability module can use it on any status file.
 */
#ifndef VG_AGENT_INV_H
#define VG_AGENT_INV_H

#include "agent/agent.h"

/* The collector table entry ("inventory"). */
extern const struct vg_agent_collector_def vg_agent_inv_collector;

/* ---------------------------------------------------------------- packages */

/* One installed package; strings live in the list's arena. */
struct vg_agent_pkg {
    const char *name;
    const char *version; /* as the manager writes it: dpkg "1:2.3-4", rpm "[E:]V-R" */
    const char *arch;    /* "amd64", "all", "x86_64", "noarch" */
    const char *source;  /* dpkg source package (without its version), apk origin, else NULL */
    const char *type;    /* "deb", "apk" or "rpm" */
    uint32_t line;       /* dpkg: line of the paragraph's first field */
};

struct vg_agent_pkgs {
    struct vg_agent_pkg *v;
    size_t n, cap;
    struct vg_arena *arena;
    size_t bad; /* malformed lines or paragraphs skipped */
};

#define VG_AGENT_INV_MAX_FILE  (256u << 20) /* largest status file read */
#define VG_AGENT_INV_MAX_PKGS  1000000
#define VG_AGENT_INV_MAX_FIELD 1024 /* longest name/version/arch/source kept */

/*
 * Parse the text of a dpkg status file (deb822 paragraphs). Packages whose Status says
 * "installed" (or triggers-pending / triggers-awaited) are appended to out (initialise it
 * zeroed; release with vg_agent_pkgs_fini). path names the file in messages. Returns VG_OK
 * (problems counted in out->bad, the first one in err as "PATH:LINE: reason"), VG_ELIMIT
 * (more than VG_AGENT_INV_MAX_PKGS) or VG_ENOMEM. Thread-safe; never reads past len.
 */
int vg_agent_inv_dpkg_parse(const char *text, size_t len, const char *path,
                            struct vg_agent_pkgs *out, char *err, size_t errsz);
/* Read and parse a status file (VG_ENOENT, VG_EIO, VG_ELIMIT when over the size bound). */
int vg_agent_inv_dpkg_load(const char *path, struct vg_agent_pkgs *out, char *err, size_t errsz);
/*
 * Parse apk's installed database (Alpine, lib/apk/db/installed): P name, V version, A arch,
 * o origin (kept as source); type "apk". Same returns and bounds as vg_agent_inv_dpkg_parse.
 */
int vg_agent_inv_apk_parse(const char *text, size_t len, const char *path,
                           struct vg_agent_pkgs *out, char *err, size_t errsz);
int vg_agent_inv_apk_load(const char *path, struct vg_agent_pkgs *out, char *err, size_t errsz);
/*
 * The rpm database through `rpm -qa --queryformat ...` (posix_spawn, fixed argv; no shell).
 * VG_ENOENT when no rpm program is installed; VG_EIO when it fails.
 */
/* The same for the rpm database of a root filesystem (`rpm --root ROOT`; NULL: this host). */
int vg_agent_inv_rpm_list_root(const char *root, struct vg_agent_pkgs *out, char *err,
                               size_t errsz);
int vg_agent_inv_rpm_list(struct vg_agent_pkgs *out, char *err, size_t errsz);
/* Parse the output of the query above (exposed for tests). */
int vg_agent_inv_rpm_parse(const char *text, size_t len, struct vg_agent_pkgs *out, char *err,
                           size_t errsz);
/* Find by name (linear; NULL when absent). */
const struct vg_agent_pkg *vg_agent_pkgs_find(const struct vg_agent_pkgs *l, const char *name);
void vg_agent_pkgs_fini(struct vg_agent_pkgs *l);

/* ---------------------------------------------------------------- generic records */

#define VG_AGENT_INV_FIELDS 8

/*
 * One inventory record (a package, user, group or module) as named string fields, keyed
 * by identity (the name, or name:arch for packages). Strings live in the list's arena.
 */
struct vg_agent_inv_item {
    const char *key;
    size_t nf;
    const char *name[VG_AGENT_INV_FIELDS]; /* static field names ("name", "id", ...) */
    const char *val[VG_AGENT_INV_FIELDS];
};

struct vg_agent_inv_list {
    struct vg_agent_inv_item *v;
    size_t n, cap;
    struct vg_arena *arena;
    size_t bad;    /* malformed lines skipped */
    char err[256]; /* the first problem, "PATH:LINE: reason" */
};

/* Start a record of list l (VG_ENOMEM); add fields to it with vg_agent_inv_item_set. */
int vg_agent_inv_item_add(struct vg_agent_inv_list *l, const char *key, size_t keylen,
                          struct vg_agent_inv_item **out);
int vg_agent_inv_item_set(struct vg_agent_inv_list *l, struct vg_agent_inv_item *it,
                          const char *name, const char *val, size_t len);
/* Sort by key (for diffs). */
void vg_agent_inv_list_sort(struct vg_agent_inv_list *l);
void vg_agent_inv_list_fini(struct vg_agent_inv_list *l);

/*
 * Parsers of /etc/passwd (name, id, group.id, full_name, home, shell), /etc/group (name, id,
 * members) and /proc/modules (name, size). They append to l; path names the file in l->err.
 * VG_OK, VG_ENOENT, VG_EIO, VG_ELIMIT, VG_ENOMEM.
 */
int vg_agent_inv_passwd_parse(const char *text, size_t len, const char *path,
                              struct vg_agent_inv_list *l);
int vg_agent_inv_group_parse(const char *text, size_t len, const char *path,
                             struct vg_agent_inv_list *l);
int vg_agent_inv_modules_parse(const char *text, size_t len, const char *path,
                               struct vg_agent_inv_list *l);
/* Load a file and run one of the parsers above on it. */
int vg_agent_inv_file_parse(const char *path,
                            int (*parse)(const char *, size_t, const char *,
                                         struct vg_agent_inv_list *),
                            struct vg_agent_inv_list *l);

/* Where the host facts come from (tests point these at fixtures; NULL = the system's). */
struct vg_agent_inv_host_paths {
    const char *os_release, *machine_id, *cpuinfo, *meminfo;
};
/*
 * Host facts as flat ECS fields appended to out as `,"key":value` pairs (host.os.name,
 * host.os.version, host.os.family, host.os.kernel, host.os.platform, host.architecture,
 * host.hostname, host.id, host.cpu.model, host.cpu.count, host.memory.total). Missing
 * sources leave their fields out.
 */
void vg_agent_inv_host_facts(const struct vg_agent_inv_host_paths *p, struct vg_sbuf *out);

#endif /* VG_AGENT_INV_H */
