/*
 * agent_yara.h — YARA for the agent: compiled rule sets, a file/directory scan API
 * (agent_yara.c), and the "yara" collector (agent_yara_coll.c) that scans new or changed
 * executables handed to it by the process and file-integrity collectors, and on-demand
 * paths, with rule sets loaded from a directory or pushed from the server.
 *
 * Thread-safety: libyara is initialised once per process (pthread_once); a rule set is
 * immutable and reference-counted, so scans on several threads share it; every scan call
 * creates its own YR_SCANNER (one scanner per thread at any time).
 */
#ifndef VG_AGENT_YARA_H
#define VG_AGENT_YARA_H

#include "agent/agent.h"

/* The collector table entry ("yara"). */
extern const struct vg_agent_collector_def vg_agent_yara_collector;

/* ---------------------------------------------------------------- rule sets */

struct vg_agent_yara_rules;

/*
 * Compile rule text (name is the namespace and the file name in messages). On a syntax
 * error returns VG_EINVAL with err = "NAME:LINE: compiler message" (the first error).
 * VG_ENOMEM, VG_ERROR (libyara could not initialise). The result has one reference.
 */
int vg_agent_yara_compile(const char *text, size_t len, const char *name,
                          struct vg_agent_yara_rules **out, char *err, size_t errsz);
/*
 * Compile every *.yar / *.yara file of dir (sorted by name; each file its own namespace,
 * named after the file). VG_ENOENT when dir has no rule file; errors as above.
 */
int vg_agent_yara_load_dir(const char *dir, struct vg_agent_yara_rules **out, char *err,
                           size_t errsz);
struct vg_agent_yara_rules *vg_agent_yara_rules_ref(struct vg_agent_yara_rules *r);
void vg_agent_yara_rules_unref(struct vg_agent_yara_rules *r); /* NULL-safe */
size_t vg_agent_yara_rules_count(const struct vg_agent_yara_rules *r);

/* ---------------------------------------------------------------- scans */

#define VG_AGENT_YARA_MAX_STRINGS 32 /* string matches reported per rule match */

struct vg_agent_yara_string {
    const char *id; /* "$a" */
    uint64_t offset;
    uint32_t length;
};

/* One rule matching one file; every pointer is borrowed for the callback's duration. */
struct vg_agent_yara_match {
    const char *path;
    uint64_t size;
    const char *sha256; /* lower-case hex */
    const char *rule;
    const char *ns;
    const char *const *tags;
    size_t ntags;
    const struct vg_agent_yara_string *strings;
    size_t nstrings;
    bool strings_truncated; /* more matches than VG_AGENT_YARA_MAX_STRINGS */
};

/* Called for every match; a non-VG_OK return stops the scan with that code. */
typedef int (*vg_agent_yara_match_fn)(void *ctx, const struct vg_agent_yara_match *m);

struct vg_agent_yara_scan_stats {
    uint64_t files;   /* files scanned */
    uint64_t bytes;   /* bytes scanned */
    uint64_t matches; /* rule matches */
    uint64_t skipped; /* not regular, larger than max_size, or empty */
    uint64_t errors;  /* unreadable files, scan errors or timeouts */
};

/*
 * Scan path: a regular file, or with recursive a directory tree (symbolic links are not
 * followed below path, the walk stays on path's filesystem, depth <= 64). Files larger than
 * max_size (0: 64 MiB) are skipped. cb receives each match. st (may be NULL) is filled.
 * Returns VG_OK (per-file problems are counted, not fatal), VG_ENOENT / VG_EIO when path
 * itself cannot be opened, VG_EINVAL for a directory without recursive, cb's code, or
 * VG_ENOMEM. Thread-safe.
 */
int vg_agent_yara_scan_path(struct vg_agent_yara_rules *rules, const char *path, bool recursive,
                            uint64_t max_size, vg_agent_yara_match_fn cb, void *ctx,
                            struct vg_agent_yara_scan_stats *st);

/* ---------------------------------------------------------------- the collector */

/*
 * Queue a scan on the collector's worker (recursive for directories; reason goes into
 * event.reason: "exec", "file_changed", "on_demand"...). Matches become events. VG_OK,
 * VG_ELIMIT when the queue is full (the path is dropped and counted), VG_ENOMEM.
 * Executables already scanned with the current rules and unchanged since (same inode,
 * size and mtime) are not scanned again. Thread-safe.
 */
int vg_agent_yara_submit(struct vg_agent_collector *c, const char *path, bool recursive,
                         const char *reason);
/*
 * The same for the process and FIM collectors, which do not hold the yara collector: goes
 * to the yara collector running in this process. VG_ENOENT when none runs.
 */
int vg_agent_yara_notify(const char *path, const char *reason);
/*
 * Replace the collector's rules with pushed rule text (compiled first; on error the old
 * rules stay and err says why, with the line). Thread-safe.
 */
int vg_agent_yara_set_rules(struct vg_agent_collector *c, const char *text, size_t len,
                            const char *name, char *err, size_t errsz);
/* Wait until the queue is empty and no scan runs (VG_OK) or timeout_ms passes (VG_ETIMEOUT). */
int vg_agent_yara_wait_idle(struct vg_agent_collector *c, int timeout_ms);

#endif /* VG_AGENT_YARA_H */
