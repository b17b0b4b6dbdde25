/*
 * intel_wl.h — MISP warninglists (issue 7): load the `lists/<name>/list.json` files of the
 * misp-warninglists project and answer "does this value hit a warninglist, and which?" fast
 * enough to be applied to every indicator at import and every lookup at match time.
 *
 * List types and their semantics (as MISP applies them):
 *   cidr      IPv4/IPv6 prefixes; a bare address is a /32 or /128. An address value hits when
 *             it lies in a prefix; a prefix value hits when it is wholly inside one.
 *   hostname  the entry or any subdomain of it (leading "." / "*." and a trailing "." are
 *             stripped); case-insensitive.
 *   string    exact, case-insensitive.
 *   substring the value contains the entry, case-insensitive (Aho-Corasick DFA).
 *   regex     PCRE2 (JIT) given as "/pattern/flags" (flags i m s x u; g ignored) or bare.
 * A list applies only to the value kinds named by its matching_attributes (mapped to a
 * vg_intel_wl_hint); VG_INTEL_WL_HINT_ANY consults every list.
 *
 * Malformed entries (not a string, bad CIDR, empty or blank hostname, regex that does not
 * compile) are skipped and counted per list; the first such error is kept per list as
 * "FILE: list[INDEX]: reason". A malformed document (not JSON, missing "list"/"type") fails the
 * load of that file with an error naming the file and the field.
 *
 * Thread-safety: loading and building are single-threaded; once vg_intel_wl_build() (or
 * vg_intel_wl_load_dir()) returned, vg_intel_wl_match() may be called from any number of
 * threads concurrently.
 */
#ifndef VG_INTEL_WL_H
#define VG_INTEL_WL_H

#include <stddef.h>
#include <stdint.h>

enum vg_intel_wl_type {
    VG_INTEL_WL_CIDR = 0,
    VG_INTEL_WL_HOSTNAME,
    VG_INTEL_WL_STRING,
    VG_INTEL_WL_SUBSTRING,
    VG_INTEL_WL_REGEX,
    VG_INTEL_WL_TYPE_COUNT,
};

/* What kind of value is being looked up (selects lists by their matching_attributes). */
enum vg_intel_wl_hint {
    VG_INTEL_WL_HINT_ANY = 0, /* every list, every structure */
    VG_INTEL_WL_HINT_IP,      /* ip-src, ip-dst, *|port, domain|ip */
    VG_INTEL_WL_HINT_DOMAIN,  /* domain, hostname, domain|ip, hostname|port */
    VG_INTEL_WL_HINT_URL,     /* url, uri, link (host also checked against hostname lists) */
    VG_INTEL_WL_HINT_EMAIL,   /* email-*, target-email, whois-registrant-email, dns-soa-email */
    VG_INTEL_WL_HINT_HASH,    /* md5, sha*, ssdeep, filename|*, x509-fingerprint-* */
    VG_INTEL_WL_HINT_PHONE,   /* phone-number, whois-registrant-phone */
    VG_INTEL_WL_HINT_OTHER,   /* any other MISP attribute type */
    VG_INTEL_WL_HINT_COUNT,
};

#define VG_INTEL_WL_HIT_MAX 64

/* Lists hit by one value: ids (for vg_intel_wl_list_name()), deduplicated, at most
 * VG_INTEL_WL_HIT_MAX; truncated is set when more lists matched. */
struct vg_intel_wl_hit {
    uint32_t n;
    uint32_t truncated;
    uint32_t ids[VG_INTEL_WL_HIT_MAX];
};

struct vg_intel_wl_stats {
    uint32_t lists;
    uint64_t entries; /* entries accepted */
    uint64_t skipped; /* malformed entries skipped */
    uint64_t by_type[VG_INTEL_WL_TYPE_COUNT];
    size_t bytes; /* memory held by the built structures (approximate) */
};

struct vg_intel_wl;

/* Create an empty warninglist set. Returns 0 or VG_ENOMEM. Caller destroys. */
int vg_intel_wl_create(struct vg_intel_wl **out);
/* Free everything; NULL is a no-op. */
void vg_intel_wl_destroy(struct vg_intel_wl *wl);

/*
 * Add one list.json document held in memory (src names it in errors; text need not be
 * NUL-terminated and is not kept). Returns 0 (malformed entries skipped and counted),
 * VG_EINVAL (document malformed; err says "SRC: reason"), VG_ELIMIT, VG_ENOMEM, or VG_EINVAL
 * if the set is already built. err may be NULL.
 */
int vg_intel_wl_load_mem(struct vg_intel_wl *wl, const char *src, const char *text, size_t len,
                         char *err, size_t errsz);
/* As vg_intel_wl_load_mem() for a file (at most 256 MiB); VG_EIO/VG_ENOENT if unreadable. */
int vg_intel_wl_load_file(struct vg_intel_wl *wl, const char *path, char *err, size_t errsz);
/*
 * Build the lookup structures (hash sets, CIDR segments, Aho-Corasick). Must be called once
 * after loading and before vg_intel_wl_match(). Returns 0 or VG_ENOMEM/VG_ELIMIT.
 */
int vg_intel_wl_build(struct vg_intel_wl *wl, char *err, size_t errsz);

/*
 * Load every DIR/<name>/list.json (and DIR/<name>.json) in name order, then build. On success
 * *out owns the set. A file that fails to load fails the whole call (err names the file).
 */
int vg_intel_wl_load_dir(const char *dir, struct vg_intel_wl **out, char *err, size_t errsz);

/*
 * Look value (len bytes, need not be NUL-terminated) up in every applicable list. Fills hit
 * and returns the number of lists hit (0 = none), or VG_EINVAL if the set is not built.
 * Thread-safe on a built set; does not allocate except one PCRE2 match block per thread.
 */
int vg_intel_wl_match(const struct vg_intel_wl *wl, const char *value, size_t len,
                      enum vg_intel_wl_hint hint, struct vg_intel_wl_hit *hit);

/* Number of lists; per-list accessors (id < count; borrowed strings live as long as wl). */
uint32_t vg_intel_wl_count(const struct vg_intel_wl *wl);
const char *vg_intel_wl_list_name(const struct vg_intel_wl *wl, uint32_t id);
/* Short key: the list's directory name ("rfc1918" for lists/rfc1918/list.json) or the file's
 * basename without ".json"; the src given to vg_intel_wl_load_mem() otherwise. */
const char *vg_intel_wl_list_key(const struct vg_intel_wl *wl, uint32_t id);
const char *vg_intel_wl_list_file(const struct vg_intel_wl *wl, uint32_t id);
enum vg_intel_wl_type vg_intel_wl_list_type(const struct vg_intel_wl *wl, uint32_t id);
uint32_t vg_intel_wl_list_entries(const struct vg_intel_wl *wl, uint32_t id);
uint32_t vg_intel_wl_list_skipped(const struct vg_intel_wl *wl, uint32_t id);
/* First skipped-entry error of the list ("FILE: list[INDEX]: reason") or NULL. */
const char *vg_intel_wl_list_error(const struct vg_intel_wl *wl, uint32_t id);
/* Find a list by key or name; returns its id or -1. */
int vg_intel_wl_find(const struct vg_intel_wl *wl, const char *name);

void vg_intel_wl_stats(const struct vg_intel_wl *wl, struct vg_intel_wl_stats *st);
const char *vg_intel_wl_type_name(enum vg_intel_wl_type t);

#endif
