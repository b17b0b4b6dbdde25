/*
 * decode_reader.c — one iterator over the events of a file of any supported format:
 * EVTX (decode_evtx.c), JSON (a top-level array is streamed element by element; JSON lines
 * and concatenated pretty-printed objects are a stream of values) and text lines
 * (decode_line.c). Malformed records are skipped and counted, never fatal: the reader
 * re-synchronises on the next line that starts a JSON value.
 */
#include "decode/decode.h"

#include <string.h>
#include <time.h>

struct vg_reader {
    enum vg_format fmt;
    const uint8_t *p;
    size_t n;
    size_t pos;
    struct vg_reader_limits lim;
    struct vg_reader_stats st;
    struct vg_evtx *evtx;
    struct vg_json_parser *jp;
    bool in_array;
    uint32_t w3c[64]; /* field ids of the last "#Fields:" header (W3C extended logs) */
    uint32_t nw3c;
};

const char *vg_format_name(int fmt)
{
    static const char *const names[] = {"unknown", "evtx", "json", "text", "binary"};
    return fmt >= 0 && fmt < (int)VG_ARRAY_LEN(names) ? names[fmt] : "unknown";
}

enum vg_format vg_format_detect(const uint8_t *p, size_t n)
{
    if (n >= 8 && memcmp(p, "ElfFile\0", 8) == 0) {
        return VG_FMT_EVTX;
    }
    size_t probe = VG_MIN(n, 4096);
    if (memchr(p, '\0', probe)) {
        return VG_FMT_BINARY;
    }
    size_t i = 0;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        i = 3; /* UTF-8 BOM */
    }
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
        i++;
    }
    if (i < n && (p[i] == '{' || p[i] == '[')) {
        return VG_FMT_JSON;
    }
    return VG_FMT_TEXT;
}

int vg_reader_open(struct vg_reader **out, const uint8_t *data, size_t len,
                   const struct vg_reader_limits *lim)
{
    struct vg_reader *r = vg_calloc(1, sizeof(*r));
    if (!r) {
        return VG_ENOMEM;
    }
    r->p = data;
    r->n = len;
    r->lim.max_record = lim && lim->max_record ? lim->max_record : (16u << 20);
    r->lim.default_year = lim && lim->default_year ? lim->default_year : 0;
    if (!r->lim.default_year) {
        struct vg_tm tm;
        vg_time_split(vg_time_now(), &tm);
        r->lim.default_year = tm.year;
    }
    r->fmt = vg_format_detect(data, len);
    int rc = VG_OK;
    if (r->fmt == VG_FMT_EVTX) {
        rc = vg_evtx_open(&r->evtx, data, len);
    } else if (r->fmt == VG_FMT_JSON) {
        struct vg_json_limits jl = {.max_depth = 128, .max_len = r->lim.max_record};
        r->jp = vg_json_parser_create(&jl);
        rc = r->jp ? VG_OK : VG_ENOMEM;
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
            r->pos = 3;
        }
    } else if (r->fmt == VG_FMT_TEXT && len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        r->pos = 3;
    }
    if (rc != VG_OK) {
        vg_reader_close(r);
        return rc;
    }
    *out = r;
    return VG_OK;
}

enum vg_format vg_reader_format(const struct vg_reader *r)
{
    return r->fmt;
}

const struct vg_reader_stats *vg_reader_stats(const struct vg_reader *r)
{
    return &r->st;
}

void vg_reader_close(struct vg_reader *r)
{
    if (!r) {
        return;
    }
    if (r->evtx) {
        vg_evtx_close(r->evtx);
    }
    vg_json_parser_destroy(r->jp);
    vg_free(r);
}

static size_t line_of(const struct vg_reader *r, size_t off)
{
    size_t line = 1;
    const uint8_t *p = r->p, *end = r->p + VG_MIN(off, r->n);
    while ((p = memchr(p, '\n', (size_t)(end - p)))) {
        line++;
        p++;
    }
    return line;
}

/* Account for a record decoded (rc from the decoder) from the bytes at offset at. */
static int finish_record(struct vg_reader *r, struct vg_event *ev, int rc, size_t at, char *err,
                         size_t errsz)
{
    if (rc != VG_OK) {
        r->st.bad++;
        snprintf(err, errsz, "line %zu: %s", line_of(r, at), vg_strerror(rc));
        return rc == VG_ENOMEM ? rc : VG_EINVAL;
    }
    r->st.records++;
    ev->record = r->st.records;
    return VG_OK;
}

/* Skip to the next line whose first non-blank byte starts a JSON value. */
static void json_resync(struct vg_reader *r, size_t from)
{
    size_t i = from;
    for (;;) {
        const uint8_t *nl = memchr(r->p + i, '\n', r->n - i);
        if (!nl) {
            r->pos = r->n;
            return;
        }
        i = (size_t)(nl - r->p) + 1;
        size_t j = i;
        while (j < r->n && (r->p[j] == ' ' || r->p[j] == '\t' || r->p[j] == '\r')) {
            j++;
        }
        if (j < r->n && (r->p[j] == '{' || r->p[j] == '[')) {
            r->pos = j;
            r->in_array = false;
            return;
        }
    }
}

static int next_json(struct vg_reader *r, struct vg_event *ev, char *err, size_t errsz)
{
    for (;;) {
        size_t i = r->pos;
        while (i < r->n && (r->p[i] == ' ' || r->p[i] == '\t' || r->p[i] == '\r' ||
                            r->p[i] == '\n' || (r->in_array && r->p[i] == ','))) {
            i++;
        }
        r->pos = i;
        if (i >= r->n) {
            return VG_EOF;
        }
        if (!r->in_array && r->p[i] == '[') {
            r->in_array = true;
            r->pos = i + 1;
            continue;
        }
        if (r->in_array && r->p[i] == ']') {
            r->in_array = false;
            r->pos = i + 1;
            continue;
        }
        vg_event_reset(ev);
        size_t used = 0;
        struct vg_json *doc = NULL;
        char jerr[128];
        int rc = vg_json_parse(r->jp, ev->arena, (const char *)r->p + i, r->n - i, &used, &doc,
                               jerr, sizeof(jerr));
        if (rc == VG_OK) {
            r->pos = i + used;
            r->st.offset = r->pos;
            ev->raw = (const char *)r->p + i;
            ev->raw_len = used;
            if (doc->type != VG_JSON_OBJECT) {
                r->st.bad++;
                snprintf(err, errsz, "line %zu: JSON value is not an object", line_of(r, i));
                return VG_EINVAL;
            }
            return finish_record(r, ev, vg_decode_json(ev, doc), i, err, errsz);
        }
        if (rc == VG_ENOMEM) {
            return rc;
        }
        if (rc == VG_ELIMIT) {
            r->st.oversized++;
        } else {
            r->st.bad++;
        }
        snprintf(err, errsz, "line %zu: %s", line_of(r, i + used),
                 rc == VG_ELIMIT   ? "JSON record larger than the record limit (skipped)"
                 : rc == VG_ETRUNC ? "JSON record truncated at end of file"
                                   : jerr);
        json_resync(r, i + (used ? used - 1 : 0));
        r->st.offset = r->pos;
        return VG_EINVAL;
    }
}

static int next_text(struct vg_reader *r, struct vg_event *ev, char *err, size_t errsz)
{
    while (r->pos < r->n) {
        size_t i = r->pos;
        const uint8_t *nl = memchr(r->p + i, '\n', r->n - i);
        size_t end = nl ? (size_t)(nl - r->p) : r->n;
        r->pos = nl ? end + 1 : r->n;
        r->st.offset = r->pos;
        size_t len = end - i;
        if (len && r->p[end - 1] == '\r') {
            len--;
        }
        if (len == 0) {
            continue;
        }
        if (len > r->lim.max_record) {
            r->st.oversized++;
            snprintf(err, errsz, "line %zu: %zu-byte line longer than the record limit (skipped)",
                     line_of(r, i), len);
            return VG_EINVAL;
        }
        const char *line = (const char *)r->p + i;
        if (line[0] == '#') {
            /* W3C extended log directives: remember the columns, skip the rest */
            if (len > 8 && memcmp(line, "#Fields:", 8) == 0) {
                r->nw3c = vg_w3c_fields(line, len, r->w3c, VG_ARRAY_LEN(r->w3c));
            }
            if (r->nw3c || (len > 9 && memcmp(line, "#Software", 9) == 0)) {
                continue;
            }
        }
        vg_event_reset(ev);
        ev->raw = line;
        ev->raw_len = len;
        int rc = r->nw3c ? vg_decode_w3c(ev, line, len, r->w3c, r->nw3c)
                         : vg_decode_line(ev, line, len, r->lim.default_year);
        return finish_record(r, ev, rc, i, err, errsz);
    }
    return VG_EOF;
}

int vg_reader_next(struct vg_reader *r, struct vg_event *ev, char *err, size_t errsz)
{
    switch (r->fmt) {
    case VG_FMT_EVTX: {
        vg_event_reset(ev);
        int rc = vg_evtx_next(r->evtx, ev, err, errsz);
        const struct vg_evtx_stats *es = vg_evtx_stats(r->evtx);
        r->st.records = es->records;
        r->st.bad = es->bad_records + es->bad_chunks;
        r->st.offset = VG_MIN(r->n, (size_t)(es->chunks + 1) * 65536 + 4096);
        if (rc == VG_EOF) {
            r->st.offset = r->n;
        }
        return rc;
    }
    case VG_FMT_JSON:
        return next_json(r, ev, err, errsz);
    case VG_FMT_TEXT:
        return next_text(r, ev, err, errsz);
    default:
        snprintf(err, errsz, "not a supported format (binary data)");
        return VG_EOF;
    }
}
