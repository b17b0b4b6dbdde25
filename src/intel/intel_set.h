/*
 * intel_set.h — typed indicator sets (issue 7): the in-memory, read-only form of the
 * indicator store that matching queries on every event and flow.
 *
 * A set is built once: a builder collects indicators (IPv4/IPv6 addresses and CIDR prefixes,
 * domains with an optional "match subdomains" flag, URLs, emails, file names, JA3/JA3S and
 * md5/sha1/sha256/sha512 hashes), each with a small fixed context record, normalising and
 * validating every value; freezing turns it into compact arrays (IP ranges with a bucket
 * index, an open-addressing table over a byte arena) that any number of threads may query
 * without locks. A feed update builds a new set and swaps the pointer; the old one is
 * destroyed once no reader holds it (the store's refcount, not this file, handles that).
 *
 * Lookups take `now` and skip indicators whose valid_until has passed; for a CIDR hit the
 * next enclosing live prefix answers instead, for a domain the next shorter suffix.
 */
#ifndef VG_INTEL_SET_H
#define VG_INTEL_SET_H

#include <stddef.h>
#include <stdint.h>

/* Indicator types; names are vg_intel_type_name() ("ipv4", "ipv6", "domain", ...). */
enum vg_intel_type {
    VG_INTEL_IPV4 = 0, /* address or CIDR prefix */
    VG_INTEL_IPV6,     /* address or CIDR prefix */
    VG_INTEL_DOMAIN,   /* exact name, or the name and its subdomains (VG_INTEL_F_SUBDOMAINS) */
    VG_INTEL_URL,
    VG_INTEL_EMAIL,
    VG_INTEL_MD5,
    VG_INTEL_SHA1,
    VG_INTEL_SHA256,
    VG_INTEL_SHA512,
    VG_INTEL_JA3,
    VG_INTEL_JA3S,
    VG_INTEL_FILENAME,
    VG_INTEL_X509_SHA1, /* certificate fingerprints (x509-certificate:hashes) */
    VG_INTEL_X509_SHA256,
    VG_INTEL_TYPE_COUNT
};

/* Context flags (struct vg_intel_ctx.flags). */
#define VG_INTEL_F_SUBDOMAINS    0x01u /* domain: also match every subdomain */
#define VG_INTEL_F_WARNINGLISTED 0x02u /* hit a warninglist at import: not matched by default */
#define VG_INTEL_F_NO_DECAY      0x04u /* confidence does not decay with age */

/*
 * Per-indicator context, copied once into the set and returned by pointer on a hit (never
 * copied per lookup). Times are Unix seconds (uint32: good until 2106); 0 means unknown for
 * first_seen/last_seen and "never expires" for valid_until. 20 bytes.
 */
struct vg_intel_ctx {
    uint16_t source;      /* index into the store's source table */
    uint8_t confidence;   /* 0-100 */
    uint8_t flags;        /* VG_INTEL_F_* */
    uint32_t first_seen;  /* Unix seconds, 0 unknown */
    uint32_t last_seen;   /* Unix seconds, 0 unknown */
    uint32_t valid_until; /* Unix seconds, 0 never expires */
    uint32_t tags;        /* tag list id in the store's tag table, 0 none */
};

/* A lookup result; ctx points into the set and lives as long as the set. */
struct vg_intel_hit {
    const struct vg_intel_ctx *ctx;
    uint32_t id;       /* indicator id within the set (stable for the set's lifetime) */
    uint8_t type;      /* enum vg_intel_type */
    uint8_t prefix;    /* IP: prefix length of the matching indicator; otherwise 0 */
    uint16_t match_at; /* domain: offset in the normalised query where the match starts */
};

struct vg_intel_set_stats {
    size_t count[VG_INTEL_TYPE_COUNT]; /* distinct indicators per type */
    size_t total;                      /* distinct indicators */
    size_t expired;                    /* of those, expired at `now` */
    size_t bytes;                      /* heap bytes held by the frozen set */
    uint64_t expired_skips;            /* lookups that skipped an expired indicator so far */
};

struct vg_intel_set_builder;
struct vg_intel_set;

/* Type name ("ipv4", ...) or "?" ; parse a name (exact, lower case) → 0 or VG_EINVAL. */
const char *vg_intel_type_name(enum vg_intel_type t);
int vg_intel_type_parse(const char *name, size_t len, enum vg_intel_type *out);

/*
 * Check one value as the builder would (same normalisation and messages) without storing it.
 * Returns 0 or VG_EINVAL/VG_ELIMIT with the reason in err ("ipv4: octet 4 > 255 at offset 6").
 */
int vg_intel_value_check(enum vg_intel_type type, const char *value, size_t len, char *err,
                         size_t errsz);

/*
 * Validate a value and give a 64-bit key of its normalised form (type included), equal for
 * values the set treats as the same indicator ("1.2.3.4" and "1.2.3.4/32", "A.com" and
 * "a.com."). Returns 0 or the error of vg_intel_value_check.
 */
int vg_intel_value_key(enum vg_intel_type type, const char *value, size_t len, uint64_t *key,
                       char *err, size_t errsz);

/*
 * Undo the usual defanging of indicators in reports and feeds: "hxxp://" / "hxxps://" /
 * "fxp://", "[.]" "(.)" "{.}" "[dot]" "(dot)" → ".", "[:]" → ":", "[@]" "[at]" "(at)" → "@",
 * "[/]" → "/". Writes at most n bytes to out (refanging never lengthens) and returns the new
 * length; out may equal in. A value without any of these is copied unchanged.
 */
size_t vg_intel_refang(const char *in, size_t n, char *out);
/* Whether a value looks defanged (cheap check before vg_intel_refang). */
int vg_intel_is_defanged(const char *v, size_t n);

/*
 * Guess the type of a bare value as an analyst pastes it: IPv4/IPv6 address or prefix,
 * 32/40/64/128 hex digits (md5, sha1, sha256, sha512), "scheme://" (url), local@domain
 * (email), a dotted host name (domain). Returns 0 or VG_ENOENT when none fits.
 */
int vg_intel_value_guess(const char *value, size_t len, enum vg_intel_type *out);

/* New empty builder, or NULL on allocation failure. Not thread-safe; one owner. */
struct vg_intel_set_builder *vg_intel_set_builder_create(void);

/*
 * Add one indicator. value/len is the textual value (not NUL-terminated): normalised
 * (lower-case domains, emails and hex hashes, canonical IPs with host bits cleared, a leading
 * "*." on a domain sets VG_INTEL_F_SUBDOMAINS, one trailing dot dropped) and validated.
 * ctx may be NULL (all zero). Adding the same (type, value) again replaces its context.
 * Returns 0, VG_EINVAL for a malformed value (reason in vg_intel_set_builder_error()),
 * VG_ELIMIT beyond 2^31 indicators or values over 4096 bytes, VG_ENOMEM.
 */
int vg_intel_set_builder_add(struct vg_intel_set_builder *b, enum vg_intel_type type,
                             const char *value, size_t len, const struct vg_intel_ctx *ctx);

/* Reason for the last rejected add ("ipv4: octet 2 > 255 at offset 4"); "" if none. */
const char *vg_intel_set_builder_error(const struct vg_intel_set_builder *b);

/* Indicators accepted so far (duplicates included). */
size_t vg_intel_set_builder_count(const struct vg_intel_set_builder *b);

/*
 * Build the immutable set from everything added. The builder stays usable (and must still be
 * destroyed). *out is owned by the caller: vg_intel_set_destroy(). Returns 0 or VG_ENOMEM.
 */
int vg_intel_set_builder_freeze(struct vg_intel_set_builder *b, struct vg_intel_set **out);

/* Free a builder; NULL is a no-op. */
void vg_intel_set_builder_destroy(struct vg_intel_set_builder *b);

/*
 * Look a textual value up (normalised as on add; for domains, every label suffix is tried,
 * most specific first). now is Unix seconds. Returns 0 with *hit filled, VG_ENOENT when no
 * live indicator matches, VG_EINVAL when the value is malformed for the type. All lookups
 * are thread-safe on a frozen set and allocation-free.
 */
int vg_intel_set_lookup(const struct vg_intel_set *s, enum vg_intel_type type, const char *value,
                        size_t len, uint32_t now, struct vg_intel_hit *hit);

/* Fast paths: IPv4 address in network byte order; IPv6 as 16 bytes; binary hash. */
int vg_intel_set_lookup_ip4(const struct vg_intel_set *s, uint32_t be_addr, uint32_t now,
                            struct vg_intel_hit *hit);
int vg_intel_set_lookup_ip6(const struct vg_intel_set *s, const uint8_t addr[16], uint32_t now,
                            struct vg_intel_hit *hit);
int vg_intel_set_lookup_bin(const struct vg_intel_set *s, enum vg_intel_type type,
                            const uint8_t *bin, size_t len, uint32_t now, struct vg_intel_hit *hit);

/* Counts, expired-at-now count and memory. Thread-safe. */
void vg_intel_set_stats(const struct vg_intel_set *s, uint32_t now, struct vg_intel_set_stats *st);

/*
 * Confidence after decay: confidence * 2^(-age / half_life) with age = now - last_seen
 * (first_seen when last_seen is 0), rounded down. No decay when half_life_s is 0, when the
 * age is unknown or negative, or with VG_INTEL_F_NO_DECAY. Expired indicators score 0.
 */
unsigned vg_intel_ctx_confidence_at(const struct vg_intel_ctx *c, uint32_t now,
                                    uint32_t half_life_s);

/* Free a set; NULL is a no-op. No lookup may be running on it. */
void vg_intel_set_destroy(struct vg_intel_set *s);

#endif
