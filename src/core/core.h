/*
 * core.h — the foundation every Vigie module builds on.
 *
 * Status codes, allocation wrappers (which tests can make fail), arenas, levelled logging,
 * the bounded reader through which every untrusted byte is read, a growable string builder,
 * UTF-8 case folding, hashing, time parsing, file loading, a YAML document model over libyaml
 * and table-driven config binding. Nothing here knows about events or detection.
 *
 * Thread-safety: everything is safe to call from several threads on distinct objects; the
 * logger and the allocation-failure hook are process-wide.
 */
#ifndef VG_CORE_H
#define VG_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- status codes */

/* Every function that can fail returns 0 or one of these (negative) codes. */
enum vg_status {
    VG_OK = 0,
    VG_ERROR = -1,         /* generic failure (details logged or in an error buffer) */
    VG_ENOMEM = -2,        /* allocation failed */
    VG_EINVAL = -3,        /* invalid argument or malformed input */
    VG_EIO = -4,           /* read/write/system error (errno is preserved where useful) */
    VG_ENOENT = -5,        /* not found */
    VG_AGAIN = -6,         /* need more input; call again */
    VG_DECLINED = -7,      /* not my format: let the next decoder try */
    VG_ETRUNC = -8,        /* input ended before a complete item */
    VG_ELIMIT = -9,        /* a configured bound was hit (size, depth, count) */
    VG_EUNSUPPORTED = -10, /* valid input using a feature this build does not support */
    VG_EEXIST = -11,       /* already exists */
    VG_EOF = -12,          /* clean end of input */
    VG_ENOSPC = -13,       /* no space left on the device: stop intake, retry when space returns */
    VG_ETIMEOUT = -14,     /* a deadline passed before the work finished */
    VG_EDENIED = -15,      /* refused: not permitted, or an approval was denied */
};

/* Human-readable text for a status code; never NULL. */
const char *vg_strerror(int status);

#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VG_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define VG_MAX(a, b)    ((a) > (b) ? (a) : (b))
#define VG_UNUSED(x)    ((void)(x))
#define VG_LIKELY(x)    __builtin_expect(!!(x), 1)
#define VG_UNLIKELY(x)  __builtin_expect(!!(x), 0)

/* ---------------------------------------------------------------- allocation */

/*
 * Allocation wrappers. They return NULL on failure (never abort) so callers can report
 * VG_ENOMEM. vg_alloc_fail_at(n) makes the n-th following allocation fail (0 disables):
 * tests use it to walk every failure path.
 */
void *vg_malloc(size_t size);
void *vg_calloc(size_t n, size_t size);
void *vg_realloc(void *p, size_t size);
void vg_free(void *p);
char *vg_strdup(const char *s);
char *vg_strndup(const char *s, size_t n);
void vg_alloc_fail_at(long n);
/* Grow *p (array of elem bytes, capacity *cap) to hold at least need elements. */
int vg_grow(void *pp, size_t *cap, size_t need, size_t elem);

/* ---------------------------------------------------------------- arena */

/*
 * A bump allocator owning many small allocations with one lifetime (an event, a ruleset, a
 * request). Memory is freed all at once by reset (keeps the first block) or destroy.
 */
struct vg_arena;
struct vg_arena *vg_arena_create(size_t block_size);
void vg_arena_destroy(struct vg_arena *a);
void vg_arena_reset(struct vg_arena *a);
void *vg_arena_alloc(struct vg_arena *a, size_t size); /* 8-byte aligned */
void *vg_arena_calloc(struct vg_arena *a, size_t size);
char *vg_arena_strndup(struct vg_arena *a, const char *s, size_t n); /* NUL-terminated */
char *vg_arena_strdup(struct vg_arena *a, const char *s);
char *vg_arena_printf(struct vg_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
size_t vg_arena_used(const struct vg_arena *a);

/* ---------------------------------------------------------------- logging */

enum vg_log_level {
    VG_LOG_ERROR = 0,
    VG_LOG_WARN = 1,
    VG_LOG_INFO = 2,
    VG_LOG_DEBUG = 3,
};
extern int vg_log_level_current;
void vg_log_set_level(enum vg_log_level level);
int vg_log_level_parse(const char *name, enum vg_log_level *out);
void vg_log_set_stream(FILE *f); /* default stderr */
void vg_log_write(enum vg_log_level level, const char *component, const char *file, int line,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The level is checked before any argument is evaluated. */
#define VG_LOG(level, comp, ...)                                                                   \
    do {                                                                                           \
        if ((level) <= vg_log_level_current) {                                                     \
            vg_log_write((level), (comp), __FILE__, __LINE__, __VA_ARGS__);                        \
        }                                                                                          \
    } while (0)
#define VG_ERR(comp, ...)   VG_LOG(VG_LOG_ERROR, comp, __VA_ARGS__)
#define VG_WARN(comp, ...)  VG_LOG(VG_LOG_WARN, comp, __VA_ARGS__)
#define VG_INFO(comp, ...)  VG_LOG(VG_LOG_INFO, comp, __VA_ARGS__)
#define VG_DEBUG(comp, ...) VG_LOG(VG_LOG_DEBUG, comp, __VA_ARGS__)

/* ---------------------------------------------------------------- bounded reader */

/*
 * Read-only cursor over untrusted bytes. Every getter checks bounds and returns VG_ETRUNC
 * (leaving the cursor unchanged) when the data is too short. Little-endian getters are
 * named _le.
 */
struct vg_rbuf {
    const uint8_t *p;
    size_t len;
    size_t off;
};

static inline void vg_rbuf_init(struct vg_rbuf *b, const void *p, size_t len)
{
    b->p = (const uint8_t *)p;
    b->len = len;
    b->off = 0;
}
static inline size_t vg_rbuf_left(const struct vg_rbuf *b)
{
    return b->len - b->off;
}
static inline const uint8_t *vg_rbuf_cur(const struct vg_rbuf *b)
{
    return b->p + b->off;
}
int vg_rbuf_skip(struct vg_rbuf *b, size_t n);
int vg_rbuf_seek(struct vg_rbuf *b, size_t off);
int vg_rbuf_u8(struct vg_rbuf *b, uint8_t *out);
int vg_rbuf_u16le(struct vg_rbuf *b, uint16_t *out);
int vg_rbuf_u32le(struct vg_rbuf *b, uint32_t *out);
int vg_rbuf_u64le(struct vg_rbuf *b, uint64_t *out);
/* Borrow n bytes (pointer into the buffer). */
int vg_rbuf_bytes(struct vg_rbuf *b, size_t n, const uint8_t **out);
/* Borrow the bytes up to (not including) delim; the cursor moves past delim. */
int vg_rbuf_until(struct vg_rbuf *b, uint8_t delim, const uint8_t **out, size_t *n);

/* Unchecked little-endian loads for callers that checked the length already. */
static inline uint16_t vg_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t vg_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t vg_le64(const uint8_t *p)
{
    return (uint64_t)vg_le32(p) | ((uint64_t)vg_le32(p + 4) << 32);
}

/* ---------------------------------------------------------------- string builder */

/*
 * Growable byte string, always NUL-terminated when p != NULL. An allocation failure sets
 * err = VG_ENOMEM and turns further appends into no-ops, so callers check once at the end.
 */
struct vg_sbuf {
    char *p;
    size_t len;
    size_t cap;
    int err;
};
#define VG_SBUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0, 0                                                                              \
    }
void vg_sbuf_fini(struct vg_sbuf *s);
void vg_sbuf_reset(struct vg_sbuf *s);
int vg_sbuf_reserve(struct vg_sbuf *s, size_t extra);
void vg_sbuf_add(struct vg_sbuf *s, const void *p, size_t n);
void vg_sbuf_addc(struct vg_sbuf *s, char c);
void vg_sbuf_adds(struct vg_sbuf *s, const char *str);
void vg_sbuf_printf(struct vg_sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vg_sbuf_vprintf(struct vg_sbuf *s, const char *fmt, va_list ap);
/* Append p as a JSON string literal (with quotes); invalid UTF-8 becomes U+FFFD. */
void vg_sbuf_add_json_str(struct vg_sbuf *s, const char *p, size_t n);
/* Take ownership of the buffer (caller frees with vg_free); s is reset. */
char *vg_sbuf_take(struct vg_sbuf *s, size_t *len);

/* ---------------------------------------------------------------- strings */

/* Bounded copy that always terminates; returns strlen(src). */
size_t vg_strlcpy(char *dst, const char *src, size_t size);
/*
 * Case folding used for every case-insensitive comparison in Vigie: ASCII plus the
 * same-length lower-case mappings of Latin-1, Latin Extended-A, Greek and Cyrillic. The
 * output has exactly n bytes (the mapping never changes an encoded length), so offsets into
 * the folded copy are offsets into the original.
 */
void vg_fold(char *dst, const char *src, size_t n);
/*
 * The other case of a folded code point (e.g. U+0430 'а' → U+0410 'А'), or cp itself when
 * no other code point folds to it. Used to build case variants of non-ASCII literals.
 */
uint32_t vg_fold_partner(uint32_t cp);
/* True when folding p changes nothing (fast path: skip the copy). */
bool vg_fold_is_identity(const char *p, size_t n);
/* Is p valid UTF-8? */
bool vg_utf8_valid(const char *p, size_t n);
/* Encode code point cp as UTF-8 into d (room for 4 bytes); returns the bytes written. */
size_t vg_utf8_put(char *d, uint32_t cp);
/* Decode the code point at p[*i] and advance *i; an invalid byte decodes as itself. */
uint32_t vg_utf8_next(const char *p, size_t n, size_t *i);
/* Parse an integer (optional sign, decimal or 0x hex) of exactly n bytes. */
int vg_parse_i64(const char *p, size_t n, int64_t *out);
/* Parse a decimal floating-point number of exactly n bytes. */
int vg_parse_double(const char *p, size_t n, double *out);
bool vg_str_eq(const char *a, size_t an, const char *b, size_t bn);
bool vg_str_ieq_ascii(const char *a, size_t an, const char *b, size_t bn);
/*
 * memmem for the short needles of detection rules: SIMD scan for the needle's first and last
 * bytes (SSE2 on x86-64), memcmp on candidates. Same contract as memmem(3).
 */
const char *vg_memmem(const char *hay, size_t n, const char *needle, size_t m);
/* Simple shell-style glob over bytes: '*' any run, '?' one byte; no escapes. */
bool vg_glob_match(const char *pat, size_t pn, const char *s, size_t sn);

/* ---------------------------------------------------------------- hashing */

/* Fast non-cryptographic 64-bit hash (not for adversarial hash tables keyed by secrets). */
uint64_t vg_hash64(const void *p, size_t n, uint64_t seed);
static inline uint64_t vg_hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* CRC-32 (IEEE, as zlib): vg_crc32(0, p, n); chainable: vg_crc32(vg_crc32(0, a, n), b, m). */
uint32_t vg_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* ---------------------------------------------------------------- time */

/* Nanoseconds since the Unix epoch, UTC. */
typedef int64_t vg_time_t;
#define VG_TIME_NONE INT64_MIN
vg_time_t vg_time_now(void);
uint64_t vg_clock_ns(void); /* monotonic */
/*
 * Parse the timestamps found in logs: ISO 8601 / RFC 3339 (`2025-12-10T04:33:20.562782Z`,
 * offsets, space instead of T, no zone = UTC) and `YYYY-MM-DD HH:MM:SS[.fff]`.
 */
int vg_time_parse(const char *p, size_t n, vg_time_t *out);
/* Format as RFC 3339 UTC with microseconds into buf (>= 32 bytes); returns length. */
size_t vg_time_format(vg_time_t t, char *buf, size_t size);
/* Windows FILETIME (100 ns since 1601) to vg_time_t. */
vg_time_t vg_time_from_filetime(uint64_t ft);
/* Break t into calendar parts (UTC). */
struct vg_tm {
    int year, month, day, hour, minute, second, nsec, wday, yday, iso_week;
};
void vg_time_split(vg_time_t t, struct vg_tm *tm);
/* Parse a duration like 90s, 5m, 1h, 7d into nanoseconds. */
int vg_duration_parse(const char *p, size_t n, int64_t *out_ns);

/* ---------------------------------------------------------------- files */

/* Read a whole file (NUL-terminated). max bounds the size; VG_ELIMIT beyond it. */
int vg_file_read(const char *path, size_t max, char **out, size_t *len);
/* Memory-map a file read-only (falls back to reading for non-regular files). */
struct vg_mapped {
    const uint8_t *p;
    size_t len;
    bool mapped;
};
int vg_file_map(const char *path, struct vg_mapped *m);
void vg_file_unmap(struct vg_mapped *m);

/* ---------------------------------------------------------------- YAML documents */

/*
 * A YAML document tree built with libyaml, keeping the source line/column of every node and
 * whether a scalar was quoted (so `null` and `'null'` differ). Anchors/aliases are resolved
 * by reference (a bounded number of alias expansions guards against "billion laughs").
 * The tree is owned by one arena per file.
 */
enum vg_yaml_type {
    VG_YAML_SCALAR,
    VG_YAML_SEQ,
    VG_YAML_MAP,
};
struct vg_yaml_node {
    enum vg_yaml_type type;
    bool quoted;     /* scalar was single- or double-quoted, or a literal/folded block */
    uint32_t line;   /* 1-based */
    uint32_t col;    /* 1-based */
    const char *str; /* scalar text (NUL-terminated), else NULL */
    size_t len;
    size_t n;                    /* children in a SEQ; pairs in a MAP */
    struct vg_yaml_node **items; /* SEQ: n items; MAP: 2n (key, value, key, value, ...) */
};
struct vg_yaml_file {
    struct vg_arena *arena;
    size_t ndocs;
    struct vg_yaml_node **docs;
};
/*
 * Parse YAML text (multi-document). On error returns VG_EINVAL and writes
 * "line L col C: reason" into err (size errsz).
 */
int vg_yaml_parse(const char *text, size_t len, struct vg_yaml_file **out, char *err, size_t errsz);
void vg_yaml_file_destroy(struct vg_yaml_file *f);
/* Map lookup by key (NULL if absent or node is not a map). */
struct vg_yaml_node *vg_yaml_get(const struct vg_yaml_node *map, const char *key);
bool vg_yaml_is_null(const struct vg_yaml_node *n);
bool vg_yaml_scalar_is(const struct vg_yaml_node *n, const char *s);
/* Interpret a plain scalar as YAML 1.2 core schema bool/int/float. */
int vg_yaml_bool(const struct vg_yaml_node *n, bool *out);
int vg_yaml_int(const struct vg_yaml_node *n, int64_t *out);

/* ---------------------------------------------------------------- config binding */

/*
 * Configuration is declared: each module lists its keys in a table (key, type, offset into
 * its struct, default, bounds, secret, reloadable, description). The same table drives YAML
 * parsing, validation, defaults, environment overrides and `vigie config schema`.
 */
enum vg_conf_type {
    VG_CONF_BOOL,
    VG_CONF_INT,
    VG_CONF_STR,
    VG_CONF_DURATION, /* stored as int64 nanoseconds */
    VG_CONF_STRLIST,  /* stored as struct vg_strlist */
    VG_CONF_ENUM,     /* stored as int; choices in enum_names, NULL-terminated */
};
struct vg_strlist {
    size_t n;
    char **v;
};
struct vg_conf_field {
    const char *key; /* dotted path: "hunt.min_level" */
    enum vg_conf_type type;
    size_t offset;      /* offsetof in the bound struct */
    const char *defval; /* default, as YAML text */
    int64_t min, max;   /* bounds for INT/DURATION (min > max means unbounded) */
    bool secret;        /* never printed or logged */
    bool reloadable;
    const char *const *enum_names;
    const char *description;
};
/* Fill obj with the defaults of table. */
int vg_conf_defaults(const struct vg_conf_field *table, size_t n, void *obj, char *err,
                     size_t errsz);
/*
 * Bind a YAML map onto obj. Unknown keys and out-of-range values are errors naming the
 * file, line and key. Environment variables VIGIE_<KEY> (dots → underscores, upper case)
 * override file values.
 */
int vg_conf_bind(const struct vg_conf_field *table, size_t n, const struct vg_yaml_node *root,
                 const char *path, void *obj, char *err, size_t errsz);
void vg_conf_release(const struct vg_conf_field *table, size_t n, void *obj);
/* Print the schema (key, type, default, bounds, description) as YAML comments+values. */
void vg_conf_schema_print(const struct vg_conf_field *table, size_t n, FILE *out);
void vg_strlist_free(struct vg_strlist *l);
int vg_strlist_add(struct vg_strlist *l, const char *s);

#endif /* VG_CORE_H */
