/*
 * store_words.c — what the full-text index holds and how searches address it.
 *
 * Each block has one FTS5 row with two columns (see store_int.h): the field terms of the
 * indexed fields at the position of their event, and the words of the searchable text at
 * the position of their chunk of VG_STORE_CHUNK events. A tiny custom tokenizer ("vigie")
 * reads these pre-built documents (groups of terms, one position per group) and takes
 * query strings whole, so the word rules live here in C, identical for indexing and for
 * searching. A search turns its filter into a MATCH expression plus a tree over the
 * expression's phrases; the vigie_pos() function reports where each phrase occurs in a
 * matching row, so a search decodes only the events (field terms: exactly) or chunks
 * (words) that may match — more than needed, never fewer: the query module checks every
 * event it gets.
 */
#include "store/store_int.h"

#include <sodium.h>
#include <string.h>

/* ---------------------------------------------------------------- words */

/* a.b.c.d with 1-3 digits each */
static bool ipv4_shape(const char *w, size_t n)
{
    int groups = 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] == '.') {
            if (len == 0) {
                return false;
            }
            groups++;
            len = 0;
        } else if (!vg_store_is_digit(w[i]) || ++len > 3) {
            return false;
        }
    }
    return groups == 3 && len > 0;
}

/* Only digits and dots? */
static bool numeric_word(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!vg_store_is_digit(w[i]) && w[i] != '.') {
            return false;
        }
    }
    return true;
}

size_t vg_store_word_keep(const char *w, size_t n)
{
    if (numeric_word(w, n) && !ipv4_shape(w, n)) {
        return 0; /* numbers, decimals, versions: many distinct values, seldom searched */
    }
    return VG_MIN(n, (size_t)VG_STORE_WORD_MAX);
}

void vg_store_event_text(const struct vg_event *ev, struct vg_sbuf *out)
{
    if (ev->raw && ev->raw_len) {
        vg_sbuf_add(out, ev->raw, ev->raw_len);
        return;
    }
    /* name=value pairs: built from the stored bytes only, so the index document of a block
     * can be rebuilt exactly from the block (compaction deletes documents that way) */
    for (uint32_t i = 0; i < ev->n; i++) {
        size_t nl;
        const char *name = vg_field_name(ev->fields[i].id, &nl);
        if (i) {
            vg_sbuf_addc(out, ' ');
        }
        vg_sbuf_add(out, name, nl);
        vg_sbuf_addc(out, '=');
        vg_sbuf_add(out, ev->fields[i].v.str, ev->fields[i].v.len);
    }
}

/* ---------------------------------------------------------------- term sets */

void vg_store_termset_init(struct vg_store_termset *t)
{
    memset(t, 0, sizeof(*t));
    /* a seed log content cannot know: crafted words cannot pile up in one hash chain */
    randombytes_buf(&t->seed, sizeof(t->seed));
}

void vg_store_termset_fini(struct vg_store_termset *t)
{
    vg_free(t->slots);
    vg_sbuf_fini(&t->buf);
    memset(t, 0, sizeof(*t));
}

void vg_store_termset_reset(struct vg_store_termset *t)
{
    if (t->slots && t->count) {
        memset(t->slots, 0, t->cap * sizeof(*t->slots));
    }
    t->count = 0;
    vg_sbuf_reset(&t->buf);
}

/* Short-string hash: 8 bytes at a time, keyed by the set's seed. */
static uint32_t term_hash(const char *p, size_t n, uint64_t seed)
{
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t v = 0;
    memcpy(&v, p, n);
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

static int termset_rehash(struct vg_store_termset *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 1024;
    struct vg_store_term_slot *ns = vg_calloc(ncap, sizeof(*ns));
    if (!ns) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].off1) {
            size_t j = t->slots[i].hash & (ncap - 1);
            while (ns[j].off1) {
                j = (j + 1) & (ncap - 1);
            }
            ns[j] = t->slots[i];
        }
    }
    vg_free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return VG_OK;
}

int vg_store_termset_add(struct vg_store_termset *t, const char *p, size_t n)
{
    if (n == 0) {
        return VG_OK;
    }
    if ((t->count + 1) * 2 > t->cap && termset_rehash(t) != VG_OK) {
        return VG_ENOMEM;
    }
    uint32_t h = term_hash(p, n, t->seed);
    size_t j = h & (t->cap - 1);
    for (; t->slots[j].off1; j = (j + 1) & (t->cap - 1)) {
        const struct vg_store_term_slot *sl = &t->slots[j];
        if (sl->hash == h && sl->len == n && memcmp(t->buf.p + sl->off1 - 1, p, n) == 0) {
            return VG_OK;
        }
    }
    if (t->buf.len + n + 1 >= UINT32_MAX) {
        return VG_ELIMIT;
    }
    t->slots[j].off1 = (uint32_t)t->buf.len + 1;
    t->slots[j].len = (uint32_t)n;
    t->slots[j].hash = h;
    t->count++;
    vg_sbuf_add(&t->buf, p, n);
    vg_sbuf_addc(&t->buf, '\n');
    return t->buf.err ? VG_ENOMEM : VG_OK;
}

int vg_store_termset_add_text(struct vg_store_termset *t, const char *text, size_t n)
{
    char w[VG_STORE_WORD_MAX];
    size_t i = 0;
    while (i < n) {
        while (i < n && !vg_store_word_byte((unsigned char)text[i])) {
            i++; /* a dot never starts a word */
        }
        size_t start = i;
        while (i < n && vg_store_in_word(text, n, i)) {
            i++;
        }
        if (i == start) {
            break;
        }
        size_t len = VG_MIN(i - start, sizeof(w));
        vg_fold(w, text + start, len);
        len = len < i - start ? len : vg_store_word_keep(w, len);
        if (len && vg_store_termset_add(t, w, len) != VG_OK) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- block documents */

/* Append the field term of (name, value): marker, name, '=', folded value (cut). */
static void field_term(struct vg_sbuf *out, const char *name, size_t nl, const char *v, size_t vl)
{
    vl = VG_MIN(vl, (size_t)VG_STORE_TERM_MAX);
    vg_sbuf_addc(out, VG_STORE_TERM_MARK);
    vg_sbuf_add(out, name, nl);
    vg_sbuf_addc(out, '=');
    if (vg_sbuf_reserve(out, vl + 1) != VG_OK) {
        return;
    }
    char *d = out->p + out->len;
    vg_fold(d, v, vl);
    for (size_t i = 0; i < vl; i++) {
        if (d[i] == '\n' || d[i] == '\0' || d[i] == VG_STORE_GROUP_END) {
            d[i] = ' '; /* reserved by the document format */
        }
    }
    out->len += vl;
    out->p[out->len] = '\0';
}

void vg_store_docs_init(struct vg_store_docs *d)
{
    memset(d, 0, sizeof(*d));
    vg_store_termset_init(&d->chunk);
}

void vg_store_docs_fini(struct vg_store_docs *d)
{
    vg_sbuf_fini(&d->folded);
    vg_sbuf_fini(&d->f);
    vg_sbuf_fini(&d->w);
    vg_sbuf_fini(&d->scratch);
    vg_store_termset_fini(&d->chunk);
}

void vg_store_docs_reset(struct vg_store_docs *d)
{
    vg_sbuf_reset(&d->f);
    vg_sbuf_reset(&d->w);
    vg_store_termset_reset(&d->chunk);
    d->n = 0;
}

/* End a group: an empty one still takes its position, through the placeholder term. */
static void group_end(struct vg_sbuf *s, size_t start)
{
    if (s->len == start) {
        vg_sbuf_add(s, VG_STORE_EMPTY_TERM, 1);
    }
    vg_sbuf_addc(s, VG_STORE_GROUP_END);
}

/* Is the term just written at `at` one of the event's earlier terms? */
static bool term_repeated(const struct vg_store_docs *d, size_t at)
{
    size_t n = d->f.len - at;
    for (uint32_t i = 0; i < d->nterms; i++) {
        size_t tl = d->terms[i].value + d->terms[i].len - d->terms[i].term;
        if (tl == n && memcmp(d->f.p + d->terms[i].term, d->f.p + at, n) == 0) {
            return true;
        }
    }
    return false;
}

static void event_fields(struct vg_store_docs *d, const struct vg_event *ev, char *const *fields,
                         const uint32_t *ids, size_t nfields)
{
    size_t start = d->f.len;
    d->nterms = 0;
    for (size_t k = 0; k < nfields; k++) {
        size_t nl = strlen(fields[k]);
        for (const struct vg_field *f = vg_event_get(ev, ids[k]); f; f = vg_event_next(ev, f)) {
            if (f->v.type == VG_V_NULL) {
                continue;
            }
            size_t at = d->f.len;
            field_term(&d->f, fields[k], nl, f->v.str, f->v.len);
            if (d->f.err || term_repeated(d, at)) {
                d->f.len = at; /* a repeated value: once per event */
                continue;
            }
            if (d->nterms < VG_ARRAY_LEN(d->terms)) {
                d->terms[d->nterms].term = (uint32_t)at;
                d->terms[d->nterms].value = (uint32_t)(at + nl + 2);
                d->terms[d->nterms++].len = (uint32_t)(d->f.len - at - nl - 2);
            }
            vg_sbuf_addc(&d->f, '\n');
        }
    }
    group_end(&d->f, start);
}

static int chunk_close(struct vg_store_docs *d)
{
    size_t start = d->w.len;
    if (d->chunk.buf.len) {
        vg_sbuf_add(&d->w, d->chunk.buf.p, d->chunk.buf.len);
    }
    group_end(&d->w, start);
    vg_store_termset_reset(&d->chunk);
    return d->w.err ? VG_ENOMEM : VG_OK;
}

/* Is w the whole value of one of the current event's field terms? */
static bool field_value_is(const struct vg_store_docs *d, const char *w, size_t n)
{
    for (uint32_t i = 0; i < d->nterms; i++) {
        if (d->terms[i].len == n && memcmp(d->f.p + d->terms[i].value, w, n) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The words of one event's text into the chunk's set — except a word that is the whole
 * value of one of the event's indexed fields (an address, a host or user name): the field
 * term already says where it is, and searches for a word also look it up as a value of
 * every indexed field. That keeps such often-distinct words out of the index twice.
 */
static int event_words(struct vg_store_docs *d, const char *raw, size_t n)
{
    /* fold the whole text once (length-preserving, SIMD) rather than word by word */
    vg_sbuf_reset(&d->folded);
    if (vg_sbuf_reserve(&d->folded, n) != VG_OK) {
        return VG_ENOMEM;
    }
    char *text = d->folded.p;
    vg_fold(text, raw, n);
    size_t i = 0;
    while (i < n) {
        while (i < n && !vg_store_word_byte((unsigned char)text[i])) {
            i++; /* a dot never starts a word */
        }
        size_t start = i;
        while (i < n && vg_store_in_word(text, n, i)) {
            i++;
        }
        if (i == start) {
            break;
        }
        size_t len = VG_MIN(i - start, (size_t)VG_STORE_WORD_MAX);
        bool cut = len < i - start;
        const char *w = text + start;
        len = cut ? len : vg_store_word_keep(w, len);
        if (len && (cut || !field_value_is(d, w, len)) &&
            vg_store_termset_add(&d->chunk, w, len) != VG_OK) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

int vg_store_docs_add(struct vg_store_docs *d, const struct vg_event *ev, char *const *fields,
                      const uint32_t *ids, size_t nfields)
{
    int rc;
    event_fields(d, ev, fields, ids, nfields);
    if (ev->raw && ev->raw_len) {
        rc = event_words(d, ev->raw, ev->raw_len);
    } else {
        vg_sbuf_reset(&d->scratch);
        vg_store_event_text(ev, &d->scratch);
        rc = d->scratch.err ? VG_ENOMEM : event_words(d, d->scratch.p, d->scratch.len);
    }
    if (rc == VG_OK && ++d->n % VG_STORE_CHUNK == 0) {
        rc = chunk_close(d);
    }
    return rc == VG_OK && d->f.err ? VG_ENOMEM : rc;
}

int vg_store_docs_finish(struct vg_store_docs *d)
{
    return d->n % VG_STORE_CHUNK ? chunk_close(d) : VG_OK;
}

/* ---------------------------------------------------------------- FTS5 tokenizer */

static int tok_create(void *ctx, const char **argv, int argc, Fts5Tokenizer **out)
{
    static int dummy;
    *out = (Fts5Tokenizer *)&dummy;
    return SQLITE_OK;
}

static void tok_delete(Fts5Tokenizer *t)
{
}

/* Documents: groups ended by \x1f of terms separated by \n; queries: one term. */
static int tok_tokenize(Fts5Tokenizer *t, void *ctx, int flags, const char *p, int n,
                        int (*token)(void *, int, const char *, int, int, int))
{
    if (flags & FTS5_TOKENIZE_QUERY) {
        return n > 0 ? token(ctx, 0, p, n, 0, n) : SQLITE_OK;
    }
    int start = 0;
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (p[i] != '\n' && p[i] != VG_STORE_GROUP_END) {
            continue;
        }
        if (i > start) {
            int rc = token(ctx, first ? 0 : FTS5_TOKEN_COLOCATED, p + start, i - start, start, i);
            if (rc != SQLITE_OK) {
                return rc;
            }
            first = false;
        }
        if (p[i] == VG_STORE_GROUP_END) {
            first = true; /* the next group takes the next position */
        }
        start = i + 1;
    }
    return SQLITE_OK;
}

/*
 * vigie_pos(fts): where the phrases of the MATCH occur in the current row, as an array of
 * 32-bit (phrase << 20 | position) in native byte order.
 */
static void aux_pos(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nv,
                    sqlite3_value **v)
{
    int n = 0;
    if (api->xInstCount(fts, &n) != SQLITE_OK) {
        sqlite3_result_error(ctx, "vigie_pos: instances", -1);
        return;
    }
    uint32_t *out = sqlite3_malloc64((sqlite3_uint64)(n + 1) * sizeof(*out));
    if (!out) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        int ph, col, off;
        if (api->xInst(fts, i, &ph, &col, &off) == SQLITE_OK && ph >= 0 && ph < 4096 && off >= 0 &&
            off < (1 << 20)) {
            out[k++] = (uint32_t)ph << 20 | (uint32_t)off;
        }
    }
    sqlite3_result_blob(ctx, out, k * (int)sizeof(*out), sqlite3_free);
}

int vg_store_tokenizer_register(sqlite3 *db)
{
    static fts5_tokenizer tok = {tok_create, tok_delete, tok_tokenize};
    fts5_api *api = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, (void *)&api, "fts5_api_ptr", NULL);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (!api) {
        return VG_EUNSUPPORTED;
    }
    if (api->xCreateTokenizer(api, "vigie", NULL, &tok, NULL) != SQLITE_OK ||
        api->xCreateFunction(api, "vigie_pos", NULL, aux_pos, NULL) != SQLITE_OK) {
        return VG_ERROR;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- filter → MATCH */

#define MAX_PHRASES 4095

struct cfb {
    struct vg_arena *a;
    struct vg_sbuf *out;
    char *const *fields;
    size_t nfields;
    int nph;
};

/* A quoted FTS5 string ("" doubles a quote) on column col, optionally a prefix query. */
static void match_string(struct vg_sbuf *out, char col, const char *p, size_t n, bool prefix)
{
    vg_sbuf_addc(out, col);
    vg_sbuf_add(out, " : \"", 4);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') {
            vg_sbuf_addc(out, '"');
        }
        vg_sbuf_addc(out, p[i]);
    }
    vg_sbuf_addc(out, '"');
    if (prefix) {
        vg_sbuf_add(out, " *", 2);
    }
}

static struct vg_store_cf *cf_new(struct cfb *b, enum vg_store_cf_op op)
{
    struct vg_store_cf *c = vg_arena_calloc(b->a, sizeof(*c));
    if (c) {
        c->op = op;
    }
    return c;
}

static bool field_indexed(const char *f, char *const *fields, size_t nfields)
{
    for (size_t i = 0; i < nfields; i++) {
        if (!strcmp(fields[i], f)) {
            return true;
        }
    }
    return false;
}

static struct vg_store_cf *compile_field(struct cfb *b, const struct vg_store_filter *f)
{
    if (!f->field || !field_indexed(f->field, b->fields, b->nfields) || b->nph >= MAX_PHRASES) {
        return cf_new(b, VG_STORE_CF_ALL);
    }
    struct vg_sbuf term = VG_SBUF_INIT;
    /* a prefix as long as the kept part of values is an exact term of the cut value */
    bool prefix = f->prefix && f->len < VG_STORE_TERM_MAX;
    field_term(&term, f->field, strlen(f->field), f->text, f->len);
    match_string(b->out, 'f', term.p, term.len, prefix);
    if (term.err) {
        b->out->err = term.err;
    }
    vg_sbuf_fini(&term);
    struct vg_store_cf *c = cf_new(b, VG_STORE_CF_FIELD);
    if (c) {
        c->phrase = b->nph++;
    }
    return c;
}

/* Can the index find this (folded) word of a search? */
static bool word_usable(const char *w, size_t n, bool prefix)
{
    /* numbers are left out, and a digits-and-dots prefix may grow into one */
    return !numeric_word(w, n) || (!prefix && ipv4_shape(w, n));
}

/*
 * One word of a TEXT leaf as a MATCH group: the word in column w, or the word as the whole
 * value of any indexed field (where the index leaves it instead, see event_words). Adds
 * 1 + nfields phrases.
 */
static void match_word(struct cfb *b, const char *w, size_t n, bool prefix)
{
    bool cut = n >= VG_STORE_WORD_MAX;
    vg_sbuf_addc(b->out, '(');
    /* the index holds long words cut to VG_STORE_WORD_MAX bytes */
    match_string(b->out, 'w', w, cut ? VG_STORE_WORD_MAX : n, prefix && !cut);
    for (size_t k = 0; k < b->nfields; k++) {
        struct vg_sbuf term = VG_SBUF_INIT;
        field_term(&term, b->fields[k], strlen(b->fields[k]), w, n);
        vg_sbuf_add(b->out, " OR ", 4);
        match_string(b->out, 'f', term.p, term.len, prefix && n < VG_STORE_TERM_MAX);
        b->out->err |= term.err;
        vg_sbuf_fini(&term);
    }
    vg_sbuf_addc(b->out, ')');
}

/*
 * Does the word run starting at `start` touch the wildcard before the segment? Also when
 * only a dot separates them and the run starts with a digit: "*.113.45" may be the end of
 * 203.0.113.45.
 */
static bool starts_open(const struct vg_store_filter *f, size_t start)
{
    return start == 0 || (start == 1 && f->text[0] == '.' && vg_store_is_digit(f->text[1]));
}

/* Likewise at the end: "203.0.113.*" is the start of a longer dotted word. */
static bool ends_open(const struct vg_store_filter *f, size_t end)
{
    return end == f->len ||
           (end + 1 == f->len && f->text[end] == '.' && vg_store_is_digit(f->text[end - 1]));
}

/* The words of a TEXT leaf, ANDed; CF_ALL when no word narrows the search. */
static struct vg_store_cf *compile_text(struct cfb *b, const struct vg_store_filter *f)
{
    size_t i = 0, mark = b->out->len;
    struct vg_store_cf *c = cf_new(b, VG_STORE_CF_TEXT);
    if (!c || !(c->words = vg_arena_alloc(b->a, (f->len / 2 + 1) * sizeof(*c->words)))) {
        return NULL;
    }
    vg_sbuf_addc(b->out, '(');
    while (i < f->len) {
        while (i < f->len && !vg_store_word_byte((unsigned char)f->text[i])) {
            i++;
        }
        size_t start = i;
        while (i < f->len && vg_store_in_word(f->text, f->len, i)) {
            i++;
        }
        if (i == start || (f->open_start && starts_open(f, start))) {
            continue; /* a wildcard before it: only a suffix of some word */
        }
        size_t len = i - start;
        bool prefix = f->open_end && ends_open(f, i);
        char *w = vg_arena_strndup(b->a, f->text + start, len);
        if (!w) {
            return NULL;
        }
        vg_fold(w, w, len);
        if (!word_usable(w, len, prefix) || b->nph + 1 + (int)b->nfields > MAX_PHRASES) {
            continue;
        }
        if (c->nwords) {
            vg_sbuf_add(b->out, " AND ", 5);
        }
        match_word(b, w, len, prefix);
        c->words[c->nwords++] = b->nph;
        b->nph += 1 + (int)b->nfields;
    }
    c->nfp = (int)b->nfields;
    vg_sbuf_addc(b->out, ')');
    if (!c->nwords) {
        b->out->len = mark;
        c->op = VG_STORE_CF_ALL;
    }
    return c;
}

static struct vg_store_cf *compile(struct cfb *b, const struct vg_store_filter *f);

/* AND drops "all" children; OR becomes "all" if any child is. */
static struct vg_store_cf *compile_group(struct cfb *b, const struct vg_store_filter *f)
{
    bool is_and = f->op == VG_STORE_F_AND;
    size_t mark = b->out->len;
    int ph0 = b->nph;
    struct vg_store_cf *c = cf_new(b, is_and ? VG_STORE_CF_AND : VG_STORE_CF_OR);
    if (!c || !(c->kids = vg_arena_alloc(b->a, (f->nkids + 1) * sizeof(*c->kids)))) {
        return NULL;
    }
    vg_sbuf_addc(b->out, '(');
    for (size_t k = 0; k < f->nkids; k++) {
        size_t save = b->out->len;
        if (c->nkids) {
            vg_sbuf_add(b->out, is_and ? " AND " : " OR ", is_and ? 5 : 4);
        }
        struct vg_store_cf *kid = compile(b, f->kids[k]);
        if (!kid) {
            return NULL;
        }
        if (kid->op != VG_STORE_CF_ALL) {
            c->kids[c->nkids++] = kid;
            continue;
        }
        b->out->len = save;
        if (!is_and) {
            b->out->len = mark; /* OR with an "any block" branch: any block */
            b->nph = ph0;
            c->op = VG_STORE_CF_ALL;
            return c;
        }
    }
    vg_sbuf_addc(b->out, ')');
    if (!c->nkids) {
        b->out->len = mark;
        c->op = VG_STORE_CF_ALL;
    }
    return c;
}

static struct vg_store_cf *compile(struct cfb *b, const struct vg_store_filter *f)
{
    switch (f ? f->op : VG_STORE_F_ALL) {
    case VG_STORE_F_AND:
    case VG_STORE_F_OR:
        return compile_group(b, f);
    case VG_STORE_F_FIELD:
        return compile_field(b, f);
    case VG_STORE_F_TEXT:
        return compile_text(b, f);
    default:
        return cf_new(b, VG_STORE_CF_ALL);
    }
}

int vg_store_filter_compile(const struct vg_store_filter *f, char *const *fields, size_t nfields,
                            struct vg_arena *a, struct vg_sbuf *match, struct vg_store_cf **root,
                            int *nphrases)
{
    struct cfb b = {.a = a, .out = match, .fields = fields, .nfields = nfields};
    vg_sbuf_reset(match);
    *root = compile(&b, f);
    *nphrases = b.nph;
    if (!*root || match->err) {
        return VG_ENOMEM;
    }
    if (match->p) {
        match->p[match->len] = '\0';
    }
    return VG_OK;
}
