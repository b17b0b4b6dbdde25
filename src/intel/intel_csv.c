/*
 * intel_csv.c — the CSV / plain-list indicator importer (issue 7; contract in intel_csv.h).
 *
 * Sits between a fetched feed (abuse.ch dumps, Spamhaus DROP, hosts files, an analyst's
 * list) and the indicator store's sink. One pass over the text: a bounded RFC 4180 record
 * reader (fields point into the text; only fields with doubled quotes are copied, into one
 * 64 KiB scratch buffer), then a column mapping turns each record into vg_intel_rec(s).
 * Presets are mapping strings in a table, parsed by the same code as opts->csv_map.
 */
#include "intel/intel_csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* ---------------------------------------------------------------- configuration */

enum csv_key { K_VALUE, K_TYPE, K_FIRST, K_LAST, K_VALID, K_TAGS, K_NAME, K_REF, K_CONF, K_NKEYS };
static const char *const key_names[K_NKEYS] = {
    "value", "type", "first_seen", "last_seen", "valid_until", "tags", "name", "ref", "confidence"};

enum csv_mode { MODE_CSV, MODE_PLAIN, MODE_DROP };
enum csv_header { HDR_NO, HDR_YES, HDR_AUTO };

#define MAX_EXTRA 4

struct csv_col {
    int idx;          /* 0-based column, -1 unset */
    const char *name; /* header name still to resolve (borrowed from the map), or NULL */
    size_t name_len;
    char label[40]; /* for messages: header name or "column N" */
};

struct csv_cfg {
    enum csv_mode mode;
    struct csv_col col[K_NKEYS];
    struct csv_col extra[MAX_EXTRA]; /* typed extra value columns ("md5=3") */
    enum vg_intel_type extra_type[MAX_EXTRA];
    int nextra;
    bool type_const;
    enum vg_intel_type type;
    char delim, comment, comment2;
    enum csv_header header;
    unsigned skip;
    uint8_t conf;
};

struct csv_preset {
    const char *name;
    enum csv_mode mode;
    const char *map;
};

/* Column layouts of the abuse.ch exports (their header is a '#' comment line). */
static const struct csv_preset presets[] = {
    {"urlhaus", MODE_CSV, "ref=1,first_seen=2,value=3,type=url,last_seen=5,name=6,tags=7"},
    {"feodo", MODE_CSV, "first_seen=1,value=2,type=ipv4,last_seen=5,name=6"},
    {"threatfox", MODE_CSV,
     "first_seen=1,ref=2,value=3,type=4,name=8,last_seen=9,confidence=10,tags=12"},
    {"bazaar", MODE_CSV, "first_seen=1,value=2,type=sha256,md5=3,sha1=4,name=9"},
    {"sslbl", MODE_CSV, "first_seen=1,value=2,type=x509-sha1,name=3"},
    {"ja3", MODE_CSV, "value=1,type=ja3,first_seen=2,last_seen=3,name=4"},
    {"plain", MODE_PLAIN, ""},
    {"spamhaus-drop", MODE_DROP, "comment=;"},
};

static void cfg_init(struct csv_cfg *c)
{
    memset(c, 0, sizeof(*c));
    for (int k = 0; k < K_NKEYS; k++) {
        c->col[k].idx = -1;
    }
    c->delim = ',';
    c->comment = '#';
    c->header = HDR_AUTO;
    c->conf = VG_INTEL_CONF_UNSET;
    c->type = VG_INTEL_TYPE_COUNT;
}

static bool parse_uint(const char *p, size_t n, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (n == 0 || n > 9) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Set a column from "3" or "header_name". */
static int col_set(struct csv_col *c, const char *v, size_t n)
{
    unsigned idx;
    if (n == 0) {
        return VG_EINVAL;
    }
    if (parse_uint(v, n, VG_INTEL_CSV_MAX_COLS, &idx)) {
        if (idx == 0) {
            return VG_EINVAL;
        }
        c->idx = (int)idx - 1;
        c->name = NULL;
        return 0;
    }
    c->idx = -1;
    c->name = v;
    c->name_len = n;
    return 0;
}

static int delim_parse(const char *v, size_t n, char *out)
{
    static const struct {
        const char *w;
        char c;
    } words[] = {{"tab", '\t'}, {"comma", ','}, {"semicolon", ';'}, {"pipe", '|'}, {"space", ' '}};
    if (n == 1 && v[0] != '"' && v[0] != '\n' && v[0] != '\r') {
        *out = v[0];
        return 0;
    }
    if (n == 2 && v[0] == '\\' && v[1] == 't') {
        *out = '\t';
        return 0;
    }
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (vg_str_eq(v, n, words[i].w, strlen(words[i].w))) {
            *out = words[i].c;
            return 0;
        }
    }
    return VG_EINVAL;
}

static int opt_key(struct csv_cfg *c, const char *k, size_t kn, const char *v, size_t vn, char *err,
                   size_t errsz)
{
    unsigned u;
    enum vg_intel_type t;
    if (vg_str_eq(k, kn, "delimiter", 9) || vg_str_eq(k, kn, "delim", 5)) {
        if (delim_parse(v, vn, &c->delim) == 0) {
            return 0;
        }
    } else if (vg_str_eq(k, kn, "header", 6)) {
        if (vg_str_eq(v, vn, "yes", 3) || vg_str_eq(v, vn, "no", 2) ||
            vg_str_eq(v, vn, "auto", 4)) {
            c->header = v[0] == 'y' ? HDR_YES : v[0] == 'n' ? HDR_NO : HDR_AUTO;
            return 0;
        }
    } else if (vg_str_eq(k, kn, "comment", 7)) {
        if (vn <= 1) {
            c->comment = vn ? v[0] : '\0';
            return 0;
        }
    } else if (vg_str_eq(k, kn, "skip", 4)) {
        if (parse_uint(v, vn, 1000000, &u)) {
            c->skip = u;
            return 0;
        }
    } else if (vg_str_eq(k, kn, "default_confidence", 18)) {
        if (parse_uint(v, vn, 100, &u)) {
            c->conf = (uint8_t)u;
            return 0;
        }
    } else if (vg_str_eq(k, kn, "type", 4) && vg_intel_type_parse(v, vn, &t) == 0) {
        c->type_const = true;
        c->type = t;
        c->col[K_TYPE].idx = -1;
        c->col[K_TYPE].name = NULL;
        return 0;
    } else if (vg_intel_type_parse(k, kn, &t) == 0) {
        int i = 0;
        while (i < c->nextra && c->extra_type[i] != t) {
            i++;
        }
        if (i < MAX_EXTRA) {
            c->extra_type[i] = t;
            c->extra[i].idx = -1;
            if (col_set(&c->extra[i], v, vn) == 0) {
                c->nextra = i >= c->nextra ? i + 1 : c->nextra;
                return 0;
            }
        }
    } else {
        for (int i = 0; i < K_NKEYS; i++) {
            if (vg_str_eq(k, kn, key_names[i], strlen(key_names[i]))) {
                if (col_set(&c->col[i], v, vn) == 0) {
                    if (i == K_TYPE) {
                        c->type_const = false;
                    }
                    return 0;
                }
                goto bad;
            }
        }
        snprintf(err, errsz, "csv map: unknown key '%.*s'", (int)(kn > 64 ? 64 : kn), k);
        return VG_EINVAL;
    }
bad:
    snprintf(err, errsz, "csv map: invalid value '%.*s' for '%.*s'", (int)(vn > 64 ? 64 : vn), v,
             (int)(kn > 64 ? 64 : kn), k);
    return VG_EINVAL;
}

/* Apply "k=v,k=v" (a value may be ',' only as "delimiter=,": an empty next item). */
static int map_apply(struct csv_cfg *c, const char *map, char *err, size_t errsz)
{
    const char *p = map;
    while (*p) {
        const char *item = p, *eq, *e;
        e = strchr(p, ',');
        if (e == NULL) {
            e = p + strlen(p);
        }
        eq = memchr(item, '=', (size_t)(e - item));
        /* "delimiter=," : the ',' right after '=' is the value */
        if (eq && eq + 1 == e && *e == ',') {
            e++;
        }
        if (e == item) {
            p++;
            continue;
        }
        if (eq == NULL) {
            snprintf(err, errsz, "csv map: expected key=value, found '%.*s'",
                     (int)((e - item) > 64 ? 64 : (e - item)), item);
            return VG_EINVAL;
        }
        int rc = opt_key(c, item, (size_t)(eq - item), eq + 1, (size_t)(e - eq - 1), err, errsz);
        if (rc != 0) {
            return rc;
        }
        p = *e ? e + 1 : e;
    }
    return 0;
}

/* ---------------------------------------------------------------- detection */

static bool head_has(const char *h, size_t n, const char *needle)
{
    return vg_memmem(h, n, needle, strlen(needle)) != NULL;
}

const char *vg_intel_csv_detect(const char *text, size_t len)
{
    size_t n = len < 8192 ? len : 8192;
    if (head_has(text, n, "dateadded,url,url_status") ||
        head_has(text, n, "\"dateadded\",\"url\",\"url_status\"")) {
        return "urlhaus";
    }
    if (head_has(text, n, "ioc_value") && head_has(text, n, "ioc_type")) {
        return "threatfox";
    }
    if (head_has(text, n, "dst_ip") && head_has(text, n, "c2_status")) {
        return "feodo";
    }
    if (head_has(text, n, "sha256_hash") && head_has(text, n, "file_type_guess")) {
        return "bazaar";
    }
    if (head_has(text, n, "ja3_md5") && head_has(text, n, "Listingreason")) {
        return "ja3";
    }
    if (head_has(text, n, "Listingdate,SHA1,Listingreason")) {
        return "sslbl";
    }
    if (head_has(text, n, "Spamhaus") && head_has(text, n, " ; SBL")) {
        return "spamhaus-drop";
    }
    return "plain";
}

static int cfg_build(struct csv_cfg *c, const char *text, size_t len,
                     const struct vg_intel_import_opts *o, char *err, size_t errsz)
{
    const char *pname = o ? o->csv_preset : NULL;
    const char *map = o ? o->csv_map : NULL;
    const struct csv_preset *pr = NULL;
    cfg_init(c);
    if (pname == NULL && map == NULL) {
        pname = vg_intel_csv_detect(text, len);
    }
    if (pname != NULL) {
        for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
            if (strcmp(pname, presets[i].name) == 0) {
                pr = &presets[i];
            }
        }
        if (pr == NULL) {
            snprintf(err, errsz, "csv: unknown preset '%.64s'", pname);
            return VG_EINVAL;
        }
        c->mode = pr->mode;
        if (map_apply(c, pr->map, err, errsz) != 0) {
            return VG_EINVAL;
        }
    }
    if (map != NULL && map_apply(c, map, err, errsz) != 0) {
        return VG_EINVAL;
    }
    if (c->mode == MODE_CSV && c->col[K_VALUE].idx < 0 && c->col[K_VALUE].name == NULL) {
        snprintf(err, errsz, "csv map: no value column (value=N or value=NAME)");
        return VG_EINVAL;
    }
    if (c->mode != MODE_CSV && c->comment == '#') {
        c->comment2 = ';';
    }
    return 0;
}

/* ---------------------------------------------------------------- record reader */

struct csv_field {
    const char *p;
    uint32_t len;
};

struct csv_rd {
    const char *p, *end;
    const char *last_quote; /* the last '"' in the text, or NULL */
    size_t line;            /* line number at p */
    char delim;
    bool trim; /* blanks before a field and after an unquoted one are dropped */
    uint32_t nf;
    struct csv_field f[VG_INTEL_CSV_MAX_COLS];
    char *scratch; /* VG_INTEL_CSV_MAX_RECORD bytes: fields with doubled quotes */
    size_t scr_len;
};

static void count_lines(struct csv_rd *r, const char *a, const char *b)
{
    while (a < b && (a = memchr(a, '\n', (size_t)(b - a))) != NULL) {
        r->line++;
        a++;
    }
}

/* Skip to just past the next '\n' at or after q. */
static void rd_skip_line(struct csv_rd *r, const char *q)
{
    const char *nl = q < r->end ? memchr(q, '\n', (size_t)(r->end - q)) : NULL;
    if (nl == NULL) {
        r->p = r->end;
        return;
    }
    r->line++;
    r->p = nl + 1;
}

static void rd_push(struct csv_rd *r, const char *p, size_t n)
{
    if (r->nf < VG_INTEL_CSV_MAX_COLS) {
        r->f[r->nf].p = p;
        r->f[r->nf].len = (uint32_t)n;
    }
    r->nf++;
}

/*
 * A quoted field starting at *qp ('"'). Returns 0 with *qp past the closing quote, or -1 with
 * *why (the reader is then repositioned after the offending line).
 */
static int rd_quoted(struct csv_rd *r, const char **qp, const char *lim, const char **why)
{
    const char *cs = *qp + 1, *q = cs, *seg = cs;
    bool copied = false;
    size_t scr0 = r->scr_len;
    for (;;) {
        const char *x = q < lim ? memchr(q, '"', (size_t)(lim - q)) : NULL;
        if (x == NULL) {
            if (r->last_quote == NULL || r->last_quote < q || lim == r->end) {
                *why = "unterminated quoted field";
                rd_skip_line(r, *qp);
            } else {
                /* skip the whole oversized record: up to its closing quote (each byte is
                 * still scanned once) and the rest of that line */
                const char *y = lim;
                while ((y = memchr(y, '"', (size_t)(r->end - y))) != NULL && y + 1 < r->end &&
                       y[1] == '"') {
                    y += 2;
                }
                y = y ? y : r->end;
                *why = "record over 64 KiB";
                count_lines(r, cs, y);
                rd_skip_line(r, y);
            }
            return -1;
        }
        if (x + 1 < r->end && x[1] == '"') {
            memcpy(r->scratch + r->scr_len, seg, (size_t)(x + 1 - seg));
            r->scr_len += (size_t)(x + 1 - seg);
            copied = true;
            seg = q = x + 2;
            continue;
        }
        count_lines(r, cs, x);
        if (copied) {
            memcpy(r->scratch + r->scr_len, seg, (size_t)(x - seg));
            r->scr_len += (size_t)(x - seg);
            rd_push(r, r->scratch + scr0, r->scr_len - scr0);
        } else {
            rd_push(r, cs, (size_t)(x - cs));
        }
        *qp = x + 1;
        return 0;
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Read one record. Returns 1, 0 at the end of the text, -1 for a malformed record (*why). */
static int rd_record(struct csv_rd *r, const char **why)
{
    const char *start = r->p, *q = r->p;
    const char *lim = (size_t)(r->end - start) > VG_INTEL_CSV_MAX_RECORD
                          ? start + VG_INTEL_CSV_MAX_RECORD
                          : r->end;
    r->nf = 0;
    r->scr_len = 0;
    if (q >= r->end) {
        return 0;
    }
    for (;;) {
        while (r->trim && q < lim && is_blank(*q) && *q != r->delim) {
            q++;
        }
        if (q < lim && *q == '"') {
            if (rd_quoted(r, &q, lim, why) != 0) {
                return -1;
            }
            while (q < lim && (is_blank(*q) || *q == '\r') && *q != r->delim) {
                q++;
            }
            if (q < r->end && *q != r->delim && *q != '\n') {
                *why = q >= lim ? "record over 64 KiB" : "unexpected character after quoted field";
                rd_skip_line(r, q);
                return -1;
            }
        } else {
            const char *s = q, *e;
            char d = r->delim;
            while (q < lim && *q != d && *q != '\n') {
                q++;
            }
            if (q == lim && lim != r->end) {
                *why = "record over 64 KiB";
                rd_skip_line(r, q);
                return -1;
            }
            e = q;
            while (e > s && (e[-1] == '\r' || (r->trim && is_blank(e[-1])))) {
                e--;
            }
            rd_push(r, s, (size_t)(e - s));
        }
        if (q >= r->end) {
            r->p = q;
            return 1;
        }
        if (*q++ == '\n') {
            r->line++;
            r->p = q;
            return 1;
        }
    }
}

/* ---------------------------------------------------------------- import state */

struct imp {
    struct csv_cfg cfg;
    const struct vg_intel_sink *s;
    enum vg_intel_type dflt_type; /* opts->csv_type */
    struct csv_rd rd;
    size_t line; /* first line of the current record */
    bool resolved;
    const char *last_comment;
    size_t last_comment_len;
    char where[32];
};

static void rej(struct imp *im, enum vg_intel_reject why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void rej(struct imp *im, enum vg_intel_reject why, const char *fmt, ...)
{
    char reason[320];
    va_list ap;
    if (im->s->reject == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    im->s->reject(im->s->u, why, im->where, reason);
}

static struct csv_field row_get(const struct csv_rd *r, int idx)
{
    struct csv_field f = {"", 0};
    if (idx >= 0 && (uint32_t)idx < r->nf && idx < (int)VG_INTEL_CSV_MAX_COLS) {
        f = r->f[idx];
    }
    return f;
}

/* Header names, in a document without a header row, come from the last comment line. */
static int resolve_one(struct csv_col *c, const struct csv_rd *h, char *err, size_t errsz)
{
    if (c->name != NULL) {
        for (uint32_t i = 0; h != NULL && i < h->nf && i < VG_INTEL_CSV_MAX_COLS; i++) {
            if (vg_str_eq(h->f[i].p, h->f[i].len, c->name, c->name_len)) {
                c->idx = (int)i;
            }
        }
        if (c->idx < 0) {
            snprintf(err, errsz, "csv map: unknown column '%.*s'%s",
                     (int)(c->name_len > 64 ? 64 : c->name_len), c->name,
                     h ? "" : " (the document has no header row)");
            return VG_EINVAL;
        }
    }
    if (c->idx >= 0) {
        struct csv_field f = h ? row_get(h, c->idx) : (struct csv_field){"", 0};
        if (f.len > 0 && f.len < sizeof(c->label)) {
            snprintf(c->label, sizeof(c->label), "%.*s", (int)f.len, f.p);
        } else {
            snprintf(c->label, sizeof(c->label), "%d", c->idx + 1);
        }
    }
    return 0;
}

static int resolve_all(struct imp *im, const struct csv_rd *h, char *err, size_t errsz)
{
    for (int k = 0; k < K_NKEYS; k++) {
        if (resolve_one(&im->cfg.col[k], h, err, errsz) != 0) {
            return VG_EINVAL;
        }
    }
    for (int i = 0; i < im->cfg.nextra; i++) {
        if (resolve_one(&im->cfg.extra[i], h, err, errsz) != 0) {
            return VG_EINVAL;
        }
    }
    im->resolved = true;
    return 0;
}

/* A header row: its value field is a word, not a value. */
static bool looks_like_header(struct imp *im)
{
    struct csv_field f;
    enum vg_intel_type t;
    if (im->cfg.col[K_VALUE].name != NULL) {
        for (uint32_t i = 0; i < im->rd.nf && i < VG_INTEL_CSV_MAX_COLS; i++) {
            if (vg_str_eq(im->rd.f[i].p, im->rd.f[i].len, im->cfg.col[K_VALUE].name,
                          im->cfg.col[K_VALUE].name_len)) {
                return true;
            }
        }
        return false;
    }
    f = row_get(&im->rd, im->cfg.col[K_VALUE].idx);
    if (f.len == 0 || vg_intel_value_guess(f.p, f.len, &t) == 0) {
        return false;
    }
    for (uint32_t i = 0; i < f.len; i++) {
        char c = f.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ' ')) {
            return false;
        }
    }
    return true;
}

/* The first data record: decide on the header and resolve column names. 1: it was the
 * header (consumed), 0: data, <0 error. */
static int first_record(struct imp *im, char *err, size_t errsz)
{
    bool hdr = im->cfg.header == HDR_YES || (im->cfg.header == HDR_AUTO && looks_like_header(im));
    /* names in the map and no header comment: the first row must be the header */
    if (im->cfg.header == HDR_AUTO && im->cfg.col[K_VALUE].name != NULL &&
        im->last_comment == NULL) {
        hdr = true;
    }
    if (hdr) {
        return resolve_all(im, &im->rd, err, errsz) == 0 ? 1 : VG_EINVAL;
    }
    if (im->last_comment != NULL) {
        struct csv_rd *h = vg_malloc(sizeof(*h));
        int rc;
        const char *why;
        if (h == NULL) {
            return VG_ENOMEM;
        }
        *h = (struct csv_rd){.p = im->last_comment,
                             .end = im->last_comment + im->last_comment_len,
                             .delim = im->cfg.delim,
                             .trim = true,
                             .scratch = im->rd.scratch + VG_INTEL_CSV_MAX_RECORD};
        h->last_quote = h->end;
        rc = rd_record(h, &why) == 1 ? resolve_all(im, h, err, errsz)
                                     : resolve_all(im, NULL, err, errsz);
        vg_free(h);
        return rc;
    }
    return resolve_all(im, NULL, err, errsz);
}

/* ---------------------------------------------------------------- fields → record */

static uint32_t time_field(struct csv_field f)
{
    vg_time_t t;
    char buf[32];
    size_t digits = 0;
    if (f.len == 0) {
        return 0;
    }
    while (digits < f.len && f.p[digits] >= '0' && f.p[digits] <= '9') {
        digits++;
    }
    if (digits == f.len && f.len <= 13) { /* Unix seconds, or milliseconds */
        int64_t v = 0;
        for (size_t i = 0; i < f.len; i++) {
            v = v * 10 + (f.p[i] - '0');
        }
        v = v > 99999999999LL ? v / 1000 : v;
        return v > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    }
    if (f.len == 10 && f.p[4] == '-') { /* a date alone */
        snprintf(buf, sizeof(buf), "%.10s 00:00:00", f.p);
        f.p = buf;
        f.len = 19;
    }
    if (vg_time_parse(f.p, f.len, &t) != 0 || t < 0) {
        return 0;
    }
    t /= 1000000000;
    return t > (vg_time_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static struct csv_field opt_field(const struct csv_rd *r, int idx)
{
    struct csv_field f = row_get(r, idx);
    if (vg_str_eq(f.p, f.len, "None", 4) || vg_str_eq(f.p, f.len, "null", 4)) {
        f.len = 0;
    }
    return f;
}

static bool word_in(const char *w, size_t n, const char *const *list)
{
    for (; *list; list++) {
        if (vg_str_ieq_ascii(w, n, *list, strlen(*list))) {
            return true;
        }
    }
    return false;
}

static void ip_kind(const char *v, size_t n, enum vg_intel_type *t)
{
    *t = memchr(v, ':', n) ? VG_INTEL_IPV6 : VG_INTEL_IPV4;
}

/* "1.2.3.4:443" → "1.2.3.4"; "[2001:db8::1]:443" → "2001:db8::1". */
static void strip_port(const char **v, size_t *n)
{
    const char *p = *v;
    if (*n > 2 && p[0] == '[') {
        const char *rb = memchr(p, ']', *n);
        if (rb) {
            *v = p + 1;
            *n = (size_t)(rb - p - 1);
        }
        return;
    }
    const char *c = memchr(p, ':', *n);
    if (c && memchr(c + 1, ':', *n - (size_t)(c + 1 - p)) == NULL) {
        *n = (size_t)(c - p);
    }
}

/* Composite MISP values "a|b": keep side 0 or 1. */
static void split_bar(const char **v, size_t *n, int side)
{
    const char *bar = memchr(*v, '|', *n);
    if (bar == NULL) {
        return;
    }
    if (side == 0) {
        *n = (size_t)(bar - *v);
    } else {
        *n -= (size_t)(bar + 1 - *v);
        *v = bar + 1;
    }
}

/*
 * Map a type word (vg_intel names, MISP attribute types, ThreatFox ioc_type) to a type,
 * adjusting the value (port stripped, composite split). 0, or -1 when unsupported.
 */
static int type_word(const char *w, size_t n, const char **v, size_t *vn, enum vg_intel_type *t)
{
    static const char *const ipport[] = {"ip:port", "ip-dst|port", "ip-src|port", NULL};
    static const char *const ip[] = {"ip",        "ip-dst",     "ip-src", "ip_address",
                                     "ipaddress", "ip-address", "ipv4",   "ipv6",
                                     "ipv4-addr", "ipv6-addr",  NULL};
    static const char *const dom[] = {"domain", "hostname", "fqdn", "domain-name", NULL};
    static const char *const url[] = {"url", "link", NULL};
    static const char *const email[] = {"email",      "email-src",     "email-dst",
                                        "email-addr", "email_address", NULL};
    static const struct {
        const char *w;
        enum vg_intel_type t;
    } direct[] = {
        {"md5_hash", VG_INTEL_MD5},
        {"sha1_hash", VG_INTEL_SHA1},
        {"sha256_hash", VG_INTEL_SHA256},
        {"sha512_hash", VG_INTEL_SHA512},
        {"file_name", VG_INTEL_FILENAME},
        {"ja3-fingerprint-md5", VG_INTEL_JA3},
        {"ja3_md5", VG_INTEL_JA3},
        {"ja3s-fingerprint-md5", VG_INTEL_JA3S},
        {"x509-fingerprint-sha1", VG_INTEL_X509_SHA1},
        {"x509-fingerprint-sha256", VG_INTEL_X509_SHA256},
        {"filename|md5", VG_INTEL_MD5},
        {"filename|sha1", VG_INTEL_SHA1},
        {"filename|sha256", VG_INTEL_SHA256},
        {"filename|sha512", VG_INTEL_SHA512},
    };
    if (word_in(w, n, ipport)) {
        if (memchr(*v, '|', *vn)) {
            split_bar(v, vn, 0);
        } else {
            strip_port(v, vn);
        }
        ip_kind(*v, *vn, t);
        return 0;
    }
    if (word_in(w, n, ip)) {
        ip_kind(*v, *vn, t);
        return 0;
    }
    if (word_in(w, n, dom) || vg_str_ieq_ascii(w, n, "domain|ip", 9)) {
        split_bar(v, vn, 0);
        *t = VG_INTEL_DOMAIN;
        return 0;
    }
    if (word_in(w, n, url)) {
        *t = VG_INTEL_URL;
        return 0;
    }
    if (word_in(w, n, email)) {
        *t = VG_INTEL_EMAIL;
        return 0;
    }
    for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++) {
        if (vg_str_ieq_ascii(w, n, direct[i].w, strlen(direct[i].w))) {
            if (memchr(direct[i].w, '|', strlen(direct[i].w))) {
                split_bar(v, vn, 1);
            }
            *t = direct[i].t;
            return 0;
        }
    }
    return vg_intel_type_parse(w, n, t) == 0 ? 0 : -1;
}

static int emit(struct imp *im, struct vg_intel_rec *r, enum vg_intel_type t, const char *v,
                size_t n)
{
    if (n == 0) {
        /* ":443" or "|x": nothing left once the port or the other half is taken off */
        rej(im, VG_INTEL_REJ_MALFORMED, "%s value empty once its port or pair half is removed",
            vg_intel_type_name(t));
        return 0;
    }
    r->type = t;
    r->value = v;
    r->value_len = n;
    return im->s->indicator ? im->s->indicator(im->s->u, r) : 0;
}

static void rec_context(struct imp *im, struct vg_intel_rec *r)
{
    const struct csv_cfg *c = &im->cfg;
    const struct csv_rd *rd = &im->rd;
    struct csv_field f;
    unsigned u;
    memset(r, 0, sizeof(*r));
    r->confidence = c->conf;
    f = row_get(rd, c->col[K_CONF].idx);
    if (parse_uint(f.p, f.len, 100, &u)) {
        r->confidence = (uint8_t)u;
    }
    r->first_seen = time_field(row_get(rd, c->col[K_FIRST].idx));
    r->last_seen = time_field(row_get(rd, c->col[K_LAST].idx));
    r->valid_until = time_field(row_get(rd, c->col[K_VALID].idx));
    f = opt_field(rd, c->col[K_TAGS].idx);
    r->tags = f.p;
    r->tags_len = f.len;
    f = opt_field(rd, c->col[K_NAME].idx);
    r->name = f.p;
    r->name_len = f.len;
    f = opt_field(rd, c->col[K_REF].idx);
    r->ref = f.len ? f.p : im->where;
    r->ref_len = f.len ? f.len : strlen(im->where);
    r->related = "";
}

static bool all_in(const char *v, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '\0' || strchr(set, v[i]) == NULL) {
            return false;
        }
    }
    return true;
}

/*
 * vg_intel_value_guess, with a cheap look at the characters first so that the usual value
 * costs one vg_intel_value_check instead of up to nine (each failed check formats a message).
 */
static int guess(const char *v, size_t n, enum vg_intel_type *t)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    enum vg_intel_type c = VG_INTEL_TYPE_COUNT;
    char err[8];
    if (vg_memmem(v, n, "://", 3)) {
        c = VG_INTEL_URL;
    } else if (memchr(v, '@', n)) {
        c = VG_INTEL_EMAIL;
    } else if ((n == 32 || n == 40 || n == 64 || n == 128) && all_in(v, n, hex)) {
        c = n == 32   ? VG_INTEL_MD5
            : n == 40 ? VG_INTEL_SHA1
            : n == 64 ? VG_INTEL_SHA256
                      : VG_INTEL_SHA512;
    } else if (all_in(v, n, "0123456789./")) {
        c = VG_INTEL_IPV4;
    } else if (memchr(v, ':', n) && all_in(v, n, "0123456789abcdefABCDEF:./")) {
        c = VG_INTEL_IPV6;
    } else if (memchr(v, '.', n)) {
        c = VG_INTEL_DOMAIN;
    }
    if (c != VG_INTEL_TYPE_COUNT && vg_intel_value_check(c, v, n, err, sizeof(err)) == 0) {
        *t = c;
        return 0;
    }
    return vg_intel_value_guess(v, n, t);
}

/* The main value's type: constant, a type column, opts->csv_type, or a guess. */
static int main_type(struct imp *im, const char **v, size_t *n, enum vg_intel_type *t)
{
    const struct csv_cfg *c = &im->cfg;
    if (c->type_const) {
        *t = c->type;
        return 0;
    }
    if (c->col[K_TYPE].idx >= 0) {
        struct csv_field w = row_get(&im->rd, c->col[K_TYPE].idx);
        if (type_word(w.p, w.len, v, n, t) != 0) {
            rej(im, VG_INTEL_REJ_UNSUPPORTED, "%s '%.*s' not supported (value '%.*s')",
                c->col[K_TYPE].label, (int)(w.len > 64 ? 64 : w.len), w.p,
                (int)(*n > 128 ? 128 : *n), *v);
            return -1;
        }
        return 0;
    }
    if (im->dflt_type < VG_INTEL_TYPE_COUNT) {
        *t = im->dflt_type;
        return 0;
    }
    if (guess(*v, *n, t) != 0) {
        rej(im, VG_INTEL_REJ_UNSUPPORTED, "cannot guess the type of '%.*s'",
            (int)(*n > 128 ? 128 : *n), *v);
        return -1;
    }
    return 0;
}

static int csv_row(struct imp *im)
{
    const struct csv_cfg *c = &im->cfg;
    struct vg_intel_rec r;
    struct csv_field f = row_get(&im->rd, c->col[K_VALUE].idx);
    const char *v = f.p;
    size_t n = f.len;
    enum vg_intel_type t;
    int rc;
    char plain[4096];
    rec_context(im, &r);
    if (n <= sizeof(plain) && vg_intel_is_defanged(v, n)) {
        n = vg_intel_refang(v, n, plain);
        v = plain;
    }
    if (n == 0) {
        rej(im, VG_INTEL_REJ_MALFORMED, "column '%s' empty", c->col[K_VALUE].label);
    } else if (main_type(im, &v, &n, &t) == 0 && (rc = emit(im, &r, t, v, n)) != 0) {
        return rc;
    }
    for (int i = 0; i < c->nextra; i++) {
        f = row_get(&im->rd, c->extra[i].idx);
        if (f.len > 0 && (rc = emit(im, &r, c->extra_type[i], f.p, f.len)) != 0) {
            return rc;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- line modes */

static bool is_hosts_noise(const char *w, size_t n)
{
    static const char *const noise[] = {"localhost",
                                        "localhost.localdomain",
                                        "local",
                                        "broadcasthost",
                                        "ip6-localhost",
                                        "ip6-loopback",
                                        "ip6-localnet",
                                        "ip6-mcastprefix",
                                        "ip6-allnodes",
                                        "ip6-allrouters",
                                        "ip6-allhosts",
                                        "0.0.0.0",
                                        NULL};
    return word_in(w, n, noise);
}

static const char *next_token(const char **p, const char *e, size_t *n)
{
    const char *s = *p;
    while (s < e && is_blank(*s)) {
        s++;
    }
    const char *t = s;
    while (t < e && !is_blank(*t)) {
        t++;
    }
    *n = (size_t)(t - s);
    *p = t;
    return s;
}

static int plain_value(struct imp *im, struct vg_intel_rec *r, const char *v, size_t n)
{
    enum vg_intel_type t;
    char plain[4096];
    if (n <= sizeof(plain) && vg_intel_is_defanged(v, n)) {
        n = vg_intel_refang(v, n, plain); /* "hxxp://evil[.]example/" as reports write it */
        v = plain;
    }
    if (main_type(im, &v, &n, &t) != 0) {
        return 0;
    }
    return emit(im, r, t, v, n);
}

/* One plain line (comments and blanks already skipped, \r stripped). */
static int plain_line(struct imp *im, const char *p, const char *e)
{
    struct vg_intel_rec r;
    size_t n, n2;
    const char *tok = next_token(&p, e, &n);
    enum vg_intel_type t;
    rec_context(im, &r);
    /* inline comment: "value # why" */
    for (const char *q = p; q < e; q++) {
        if ((*q == '#' || *q == ';') && is_blank(q[-1])) {
            e = q;
            break;
        }
    }
    const char *tok2 = next_token(&p, e, &n2);
    if (n2 > 0 && guess(tok, n, &t) == 0 && (t == VG_INTEL_IPV4 || t == VG_INTEL_IPV6) &&
        memchr(tok, '/', n) == NULL) {
        /* hosts file: "0.0.0.0 example.com www.example.com" */
        do {
            if (!is_hosts_noise(tok2, n2)) {
                int rc = emit(im, &r, VG_INTEL_DOMAIN, tok2, n2);
                if (rc != 0) {
                    return rc;
                }
            }
            tok2 = next_token(&p, e, &n2);
        } while (n2 > 0);
        return 0;
    }
    return plain_value(im, &r, tok, n);
}

/* "1.10.16.0/20 ; SBL256894" */
static int drop_line(struct imp *im, const char *p, const char *e)
{
    struct vg_intel_rec r;
    const char *semi = memchr(p, ';', (size_t)(e - p)), *ve = semi ? semi : e;
    size_t n;
    const char *v = next_token(&p, ve, &n);
    enum vg_intel_type t;
    rec_context(im, &r);
    if (semi) {
        const char *q = semi + 1;
        size_t rn;
        const char *ref = next_token(&q, e, &rn);
        if (rn > 0) {
            r.ref = ref;
            r.ref_len = rn;
        }
    }
    if (n == 0) {
        rej(im, VG_INTEL_REJ_MALFORMED, "no prefix before ';'");
        return 0;
    }
    ip_kind(v, n, &t);
    return emit(im, &r, t, v, n);
}

/* ---------------------------------------------------------------- driver */

/* At a line start: a comment or blank line to skip? Remembers the last comment. */
static bool skip_noise(struct imp *im)
{
    struct csv_rd *r = &im->rd;
    const char *p = r->p;
    while (p < r->end && (is_blank(*p) || *p == '\r') && *p != r->delim) {
        p++;
    }
    if (p < r->end && *p != '\n' && !(im->cfg.comment && *p == im->cfg.comment) &&
        !(im->cfg.comment2 && *p == im->cfg.comment2)) {
        return false;
    }
    if (p < r->end && *p != '\n') {
        const char *nl = memchr(p, '\n', (size_t)(r->end - p));
        const char *e = nl ? nl : r->end;
        p++;
        while (p < e && is_blank(*p)) {
            p++;
        }
        while (e > p && (e[-1] == '\r' || is_blank(e[-1]))) {
            e--;
        }
        if (e > p) {
            im->last_comment = p;
            im->last_comment_len = (size_t)(e - p);
        }
    }
    rd_skip_line(r, p);
    return true;
}

static int run_lines(struct imp *im)
{
    struct csv_rd *r = &im->rd;
    while (r->p < r->end) {
        const char *nl, *e;
        int rc;
        if (skip_noise(im)) {
            continue;
        }
        im->line = r->line;
        snprintf(im->where, sizeof(im->where), "line %zu", im->line);
        nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
        e = nl ? nl : r->end;
        if ((size_t)(e - r->p) > VG_INTEL_CSV_MAX_RECORD) {
            rej(im, VG_INTEL_REJ_MALFORMED, "line over 64 KiB");
            rd_skip_line(r, r->p);
            continue;
        }
        const char *s = r->p;
        while (e > s && (e[-1] == '\r' || is_blank(e[-1]))) {
            e--;
        }
        rc = im->cfg.mode == MODE_DROP ? drop_line(im, s, e) : plain_line(im, s, e);
        if (rc != 0) {
            return rc;
        }
        rd_skip_line(r, r->p);
    }
    return 0;
}

static int run_csv(struct imp *im, char *err, size_t errsz)
{
    struct csv_rd *r = &im->rd;
    for (;;) {
        const char *why = NULL;
        int rc;
        if (r->p < r->end && skip_noise(im)) {
            continue;
        }
        im->line = r->line;
        snprintf(im->where, sizeof(im->where), "line %zu", im->line);
        rc = rd_record(r, &why);
        if (rc == 0) {
            return 0;
        }
        if (rc < 0) {
            rej(im, VG_INTEL_REJ_MALFORMED, "%s", why);
            continue;
        }
        if (!im->resolved) {
            rc = first_record(im, err, errsz);
            if (rc < 0) {
                return rc;
            }
            if (rc == 1) {
                continue;
            }
        }
        rc = csv_row(im);
        if (rc != 0) {
            return rc;
        }
    }
}

static const char *find_last_quote(const char *p, size_t n)
{
    while (n > 0) {
        if (p[n - 1] == '"') {
            return p + n - 1;
        }
        n--;
    }
    return NULL;
}

int vg_intel_import_csv(const char *text, size_t len, const struct vg_intel_import_opts *o,
                        const struct vg_intel_sink *s, char *err, size_t errsz)
{
    struct imp *im = NULL;
    int rc;
    if (errsz > 0) {
        err[0] = '\0';
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    im = vg_calloc(1, sizeof(*im));
    if (im == NULL) {
        rc = VG_ENOMEM;
        goto out;
    }
    rc = cfg_build(&im->cfg, text, len, o, err, errsz);
    if (rc != 0) {
        goto out;
    }
    im->s = s;
    im->dflt_type = o ? o->csv_type : VG_INTEL_TYPE_COUNT;
    im->rd = (struct csv_rd){.p = text, .end = text + len, .line = 1, .delim = im->cfg.delim};
    im->rd.trim = !is_blank(im->cfg.delim);
    /* scratch for the record, then one for a header taken from a comment line */
    im->rd.scratch = vg_malloc(2 * (size_t)VG_INTEL_CSV_MAX_RECORD);
    if (im->rd.scratch == NULL) {
        rc = VG_ENOMEM;
        goto out;
    }
    im->rd.last_quote = im->cfg.mode == MODE_CSV ? find_last_quote(text, len) : NULL;
    for (unsigned i = 0; i < im->cfg.skip && im->rd.p < im->rd.end; i++) {
        rd_skip_line(&im->rd, im->rd.p);
    }
    rc = im->cfg.mode == MODE_CSV ? run_csv(im, err, errsz) : run_lines(im);
out:
    if (rc == VG_EINVAL && o && o->origin && errsz > 0 && err[0]) {
        char tmp[256];
        vg_strlcpy(tmp, err, sizeof(tmp));
        snprintf(err, errsz, "%s: %s", o->origin, tmp);
    }
    if (im) {
        vg_free(im->rd.scratch);
    }
    vg_free(im);
    return rc;
}
