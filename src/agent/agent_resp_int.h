/*
 * agent_resp_int.h — private to the agent's response actions (agent_resp*.c): argument
 * getters that name the parameter in their errors, a child-process runner for firewall tools
 * (posix_spawn, fixed argv and environment, script on stdin, bounded stderr, deadline), and
 * SHA-256 over a file descriptor.
 */
#ifndef VG_AGENT_RESP_INT_H
#define VG_AGENT_RESP_INT_H

#include "agent/agent_resp.h"
#include "event/event.h"

#include <sys/types.h>

#define VG_RESP_SHA256_HEX 65 /* 64 hex digits + NUL */

/* Format err and return status (for one-line failure returns). */
int vg_resp_fail(char *err, size_t errsz, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Argument getters. Absent optional arguments return VG_ENOENT and leave the output alone;
 * absent required ones, wrong types, out-of-range values, embedded NULs and over-long strings
 * return VG_EINVAL with err naming the parameter. Strings are copied into buf (size bytes,
 * NUL-terminated).
 */
int vg_resp_arg_str(const struct vg_json *args, const char *key, bool required, char *buf,
                    size_t size, char *err, size_t errsz);
int vg_resp_arg_int(const struct vg_json *args, const char *key, bool required, int64_t min,
                    int64_t max, int64_t *out, char *err, size_t errsz);
int vg_resp_arg_bool(const struct vg_json *args, const char *key, bool *out, char *err,
                     size_t errsz);
/* The array argument key (strings only, at most max items); *items borrowed from args. */
int vg_resp_arg_list(const struct vg_json *args, const char *key, bool required, size_t max,
                     const struct vg_json **items, size_t *n, char *err, size_t errsz);
/* Copy one JSON string (e.g. a list item) into buf; what names it in errors. */
int vg_resp_json_str(const struct vg_json *v, const char *what, char *buf, size_t size, char *err,
                     size_t errsz);

/* SHA-256 of everything readable from fd (read from offset 0 with pread) as lowercase hex. */
int vg_resp_sha256_fd(int fd, char hex[VG_RESP_SHA256_HEX], uint64_t *size);

/* Locate a tool: the override if set (must be executable), else /usr/sbin, /sbin, /usr/bin,
   /bin. NULL when absent. */
const char *vg_resp_tool_find(const char *override, const char *name, char *buf, size_t size);

/*
 * Run path with argv (no shell) in its own process group with environment PATH + LC_ALL=C,
 * stdin = in (may be NULL: /dev/null-like empty), stdout discarded unless out != NULL
 * (bounded to 64 KiB), stderr's first line kept for err. Kills the group at the deadline.
 * VG_OK when it exited 0; VG_ERROR with "argv[0] failed: <stderr line>" otherwise;
 * VG_ETIMEOUT; VG_EIO when it could not start.
 */
int vg_resp_tool_run(const char *path, char *const argv[], const char *in, struct vg_sbuf *out,
                     int64_t timeout_ms, char *err, size_t errsz);

/* The actions (one file each topic). */
int vg_resp_kill_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                     struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_quarantine_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                           struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_restore_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_block_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                      struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_unblock_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_isolate_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_release_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_collect_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                        struct vg_sbuf *out, char *err, size_t errsz);
int vg_resp_scan_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                     struct vg_sbuf *out, char *err, size_t errsz);

#endif /* VG_AGENT_RESP_INT_H */
