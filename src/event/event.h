/*
 * event.h — the event model shared by every Vigie module.
 *
 * An event is a flat set of (field id, typed value) pairs plus its raw record. Field names
 * are interned once, process-wide, into dense integer ids (vg_field_intern); rules resolve
 * names to ids at compile time so evaluation never compares names. Every byte of an event
 * lives in the event's arena or in the caller's input buffer (zero-copy strings), and the
 * whole event is recycled with vg_event_reset().
 *
 * A field may occur several times (a JSON array, repeated EVTX <Data>): occurrences are
 * chained (vg_field.next) and matchers iterate the chain.
 *
 * Every scalar keeps a string rendering (str/len) — the text Sigma compares — next to its
 * typed value; case-folded copies are made lazily, once per value, on first need.
 *
 * This header also declares the JSON reader (DOM into an arena, zero-copy) and writers.
 */
#ifndef VG_EVENT_H
#define VG_EVENT_H

#include "core/core.h"

/* ---------------------------------------------------------------- field registry */

#define VG_FIELD_NONE UINT32_MAX

/* Intern a field name; returns its id, or VG_FIELD_NONE on allocation failure. Thread-safe. */
uint32_t vg_field_intern(const char *name, size_t len);
/* Look up without interning; VG_FIELD_NONE if unknown. Thread-safe, lock-free. */
uint32_t vg_field_lookup(const char *name, size_t len);
/* Name of an id (borrowed, valid for the process lifetime). */
const char *vg_field_name(uint32_t id, size_t *len);
/* Number of ids handed out so far. */
uint32_t vg_field_count(void);

/* ---------------------------------------------------------------- values */

enum vg_vtype {
    VG_V_NULL = 0,
    VG_V_STR,
    VG_V_INT,
    VG_V_DOUBLE,
    VG_V_BOOL,
    VG_V_TIME, /* num.t holds the time; str its original text */
    VG_V_IP,   /* str holds the text; parsed on demand */
};

struct vg_value {
    uint8_t type;
    uint8_t folded;   /* 1 once fold is valid */
    uint32_t len;     /* length of str */
    const char *str;  /* string rendering ("" for null) — never NULL */
    const char *fold; /* case-folded rendering, valid when folded (may equal str) */
    union {
        int64_t i;
        double d;
        bool b;
        vg_time_t t;
    } num;
};

struct vg_field {
    uint32_t id;
    uint32_t next; /* index of the next occurrence of the same id, or UINT32_MAX */
    struct vg_value v;
};

/* ---------------------------------------------------------------- events */

/* Where an event came from; drives logsource routing. */
enum vg_event_kind {
    VG_EK_GENERIC = 0, /* JSON or text with no known product */
    VG_EK_WINDOWS,     /* Windows event log record (EVTX or a JSON rendering) */
    VG_EK_LINUX,       /* Linux syslog / auth / audit line */
    VG_EK_WEB,         /* web server access log (combined/common, W3C extended) */
};

struct vg_event_slot {
    uint32_t stamp; /* the epoch of the event that filled the slot; other values: empty */
    uint32_t id;    /* field id */
    uint32_t first; /* index in fields of the first occurrence */
    uint32_t last;  /* ... and of the last (repeated fields append in O(1)) */
};

struct vg_event {
    struct vg_arena *arena;
    struct vg_field *fields;
    uint32_t n;
    uint32_t cap;
    /*
     * id → first and last occurrence: a small open-addressing table (linear probing, at most
     * half full) per event, whose slots are valid where stamp == epoch, so a reset clears
     * nothing. Small and dense: an event's index stays in a few cache lines however many
     * field names the registry holds.
     */
    struct vg_event_slot *idx;
    uint32_t idx_cap; /* slots, a power of two (0 before the first field) */
    uint32_t nkeys;   /* distinct fields of this event */
    uint32_t epoch;

    enum vg_event_kind kind;
    vg_time_t ts;    /* @timestamp, VG_TIME_NONE if unknown */
    const char *raw; /* original record (borrowed or arena), may be NULL */
    size_t raw_len;
    const char *source; /* input path (borrowed) */
    uint64_t record;    /* record number / line number within the source */
};

struct vg_event *vg_event_create(void);
void vg_event_destroy(struct vg_event *ev);
/* Drop all fields and arena memory; keeps capacity. */
void vg_event_reset(struct vg_event *ev);

/*
 * Add a field. Strings are borrowed (the caller keeps s alive as long as the event) unless
 * added with vg_event_add_strdup. Return 0 or VG_ENOMEM.
 */
int vg_event_add(struct vg_event *ev, uint32_t id, const struct vg_value *v);
/* Drop the fields added from index n on (undoing the first/last/next links). */
void vg_event_truncate(struct vg_event *ev, uint32_t n);
int vg_event_add_str(struct vg_event *ev, uint32_t id, const char *s, size_t n);
int vg_event_add_strdup(struct vg_event *ev, uint32_t id, const char *s, size_t n);
/* Integer with its text rendering (text may be NULL: rendered in decimal). */
int vg_event_add_int(struct vg_event *ev, uint32_t id, int64_t v, const char *text, size_t tn);
int vg_event_add_double(struct vg_event *ev, uint32_t id, double d, const char *text, size_t tn);
int vg_event_add_bool(struct vg_event *ev, uint32_t id, bool b);
int vg_event_add_null(struct vg_event *ev, uint32_t id);

/* Home slot of a field id in an event's index (before masking). */
static inline uint32_t vg_event_slot_of(uint32_t id)
{
    return (id * 0x9E3779B1u) >> 12;
}
/* First occurrence of a field (NULL if absent); follow ->next for more. */
static inline struct vg_field *vg_event_get(const struct vg_event *ev, uint32_t id)
{
    uint32_t mask = ev->idx_cap - 1;
    for (uint32_t i = vg_event_slot_of(id) & mask; ev->idx_cap; i = (i + 1) & mask) {
        const struct vg_event_slot *sl = &ev->idx[i];
        if (sl->stamp != ev->epoch) {
            return NULL;
        }
        if (sl->id == id) {
            return &ev->fields[sl->first];
        }
    }
    return NULL;
}
static inline struct vg_field *vg_event_next(const struct vg_event *ev, const struct vg_field *f)
{
    return f->next == UINT32_MAX ? NULL : &ev->fields[f->next];
}
/* Convenience: string rendering of the first occurrence by name (NULL if absent). */
const char *vg_event_get_str(const struct vg_event *ev, const char *name, size_t *len);

/* The case-folded rendering of a value (computed once, into the event arena). */
const char *vg_value_fold_slow(struct vg_event *ev, struct vg_value *v);
static inline const char *vg_value_fold(struct vg_event *ev, struct vg_value *v)
{
    return v->folded ? v->fold : vg_value_fold_slow(ev, v);
}
/* Numeric view of a value: ints, doubles, and strings that parse as numbers. */
bool vg_value_number(const struct vg_value *v, double *d, int64_t *i, bool *is_int);

/* Write the event's fields as one flat JSON object (repeated fields become arrays). */
void vg_event_write_json(const struct vg_event *ev, struct vg_sbuf *out);

/* ---------------------------------------------------------------- JSON */

enum vg_json_type {
    VG_JSON_NULL = 0,
    VG_JSON_FALSE,
    VG_JSON_TRUE,
    VG_JSON_NUMBER,
    VG_JSON_STRING,
    VG_JSON_ARRAY,
    VG_JSON_OBJECT,
};

/*
 * A parsed JSON value. Strings point into the input when they had no escapes, else into the
 * arena (unescaped, NUL-terminated in both cases only if the input was — use len). Numbers
 * keep their text in s/len. Objects hold 2n items (key, value, ...); arrays n items.
 */
struct vg_json {
    uint8_t type;
    uint8_t is_int; /* number fits int64 and has no fraction/exponent */
    uint32_t n;     /* string/number length; array/object child count */
    const char *s;
    union {
        struct vg_json *items;
        int64_t i;
        double d;
    } u;
};

struct vg_json_limits {
    uint32_t max_depth; /* default 128 */
    size_t max_len;     /* longest single document; default 64 MiB */
};

struct vg_json_parser;
struct vg_json_parser *vg_json_parser_create(const struct vg_json_limits *lim);
void vg_json_parser_destroy(struct vg_json_parser *p);
/*
 * Parse one JSON value starting at text (leading whitespace skipped). Nodes are allocated
 * in arena. *consumed is set to the bytes used (through the value). Returns VG_OK,
 * VG_EOF (only whitespace left), VG_ETRUNC (input ends inside the value), VG_EINVAL (syntax
 * error; err says "offset N: reason"), VG_ELIMIT (depth/size bound).
 */
int vg_json_parse(struct vg_json_parser *p, struct vg_arena *arena, const char *text, size_t len,
                  size_t *consumed, struct vg_json **out, char *err, size_t errsz);
/* Object member lookup by key (NULL if absent / not an object). */
const struct vg_json *vg_json_get(const struct vg_json *obj, const char *key);
bool vg_json_str_is(const struct vg_json *v, const char *s);
/* Serialise a JSON value (compact). */
void vg_json_write(const struct vg_json *v, struct vg_sbuf *out);

/*
 * Flatten a JSON document into ev: nested object keys are joined with '.', arrays repeat the
 * field. prefix (may be NULL) is prepended to every name.
 */
int vg_event_from_json(struct vg_event *ev, const struct vg_json *doc, const char *prefix);
/* Add one JSON scalar as a field value (strings borrowed from the JSON/input). */
int vg_event_add_json(struct vg_event *ev, uint32_t id, const struct vg_json *v);

#endif /* VG_EVENT_H */
