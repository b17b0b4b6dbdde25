/*
 * api_ingest.c — HTTP ingest into the journal: POST /api/v1/ingest (JSON lines, a JSON
 * array of objects, or text/plain lines) and the Splunk HTTP Event Collector endpoints
 * (/services/collector/event, /raw, /health), so existing shippers (Splunk forwarders'
 * HEC output, Vector, Fluent Bit, the OpenTelemetry collector) can send to Vigie as is.
 *
 * Every request is all or nothing: its body is split and validated first (a bad document
 * is answered 400 with its line, or Splunk's invalid-event-number, and nothing is kept),
 * then its records go to the journal in one append, and the client hears 200 only once
 * vg_journal_sync made them durable. When the journal is over its bound (the pipeline is
 * behind) the append is retried with backoff for up to max_wait, then the client gets 503
 * with Retry-After: nothing is dropped silently.
 *
 * /api/v1/ingest keeps each document's text as sent; the server's decoders parse it. HEC
 * events become a JSON object built here: the event's members (or "message" for a string
 * event), "@timestamp" from HEC's time, and the HEC metadata under "hec".
 *
 * Record meta: peer=IP:PORT, tenant=T, and a dedupe key: <tenant>/<Idempotency-Key>/<n>
 * for the n-th document of a request with an Idempotency-Key header (a retried request is
 * then stored once), else <tenant>/id/<event.id> when the document has one.
 */
#include "api/api_int.h"
#include "ingest/ingest.h"

#include <math.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_WAIT_MS  30000
#define DEFAULT_MAX_DOCS 100000
#define MAX_ID           256
#define MAX_BACKOFF_NS   (100ull * 1000000ull)

enum { EP_INGEST, EP_HEC_EVENT, EP_HEC_RAW, EP_N };
static const char *const ep_names[] = {"ingest", "hec_event", "hec_raw"};

struct ep_stats {
    atomic_uint_fast64_t requests, documents, bytes, rejected, busy;
};

struct ingest {
    struct vg_api *api;
    struct vg_journal *j;
    struct vg_api_ingest_opts o;
    struct ep_stats st[EP_N];
    atomic_bool busy; /* the last append found the journal over its bound */
};

/* ================================================================ body parsers */

int vg_api_parse_init(struct vg_api_parse *ps, size_t max_docs)
{
    memset(ps, 0, sizeof(*ps));
    ps->max_docs = max_docs ? max_docs : DEFAULT_MAX_DOCS;
    ps->jp = vg_json_parser_create(NULL);
    ps->scratch = vg_arena_create(65536);
    ps->keep = vg_arena_create(4096);
    return ps->jp && ps->scratch && ps->keep ? VG_OK : VG_ENOMEM;
}

void vg_api_parse_fini(struct vg_api_parse *ps)
{
    vg_json_parser_destroy(ps->jp);
    vg_arena_destroy(ps->scratch);
    vg_arena_destroy(ps->keep);
    vg_free(ps->docs);
    vg_sbuf_fini(&ps->built);
    memset(ps, 0, sizeof(*ps));
}

static int doc_push(struct vg_api_parse *ps, const char *p, size_t len, size_t off)
{
    if (ps->ndocs >= ps->max_docs) {
        return VG_ELIMIT;
    }
    if (len > UINT32_MAX ||
        vg_grow(&ps->docs, &ps->cap, ps->ndocs + 1, sizeof(*ps->docs)) != VG_OK) {
        return len > UINT32_MAX ? VG_ELIMIT : VG_ENOMEM;
    }
    ps->docs[ps->ndocs++] = (struct vg_api_doc){.p = p, .len = (uint32_t)len, .off = off};
    return VG_OK;
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
        i++;
    }
    return i;
}

/* 1-based line and column of byte offset off. */
static void position(const char *s, size_t off, size_t *line, size_t *col)
{
    size_t l = 1, last_nl = 0;
    bool any = false;
    for (const char *p = s; (p = memchr(p, '\n', (size_t)(s + off - p))) != NULL; p++) {
        l++;
        last_nl = (size_t)(p - s);
        any = true;
    }
    *line = l;
    *col = any ? off - last_nl : off + 1;
}

/* Record a parse error at offset off of body for document start. */
static int fail_at(struct vg_api_parse *ps, const char *body, size_t off, size_t start, int code,
                   const char *why)
{
    size_t scol;
    position(body, off, &ps->line, &ps->col);
    position(body, start, &ps->start_line, &scol);
    ps->bad_index = ps->ndocs;
    ps->hec_code = code;
    const char *w = why;
    if (!strncmp(w, "offset ", 7) && strstr(w, ": ")) {
        w = strstr(w, ": ") + 2; /* the parser's offset is relative: we give line:column */
    }
    snprintf(ps->msg, sizeof(ps->msg), "%s", w);
    return VG_EINVAL;
}

/* event.id of a document ({"event.id":..} or {"event":{"id":..}}), kept if usable as a key. */
static void find_id(struct vg_api_parse *ps, const struct vg_json *doc, struct vg_api_doc *d)
{
    const struct vg_json *v = vg_json_get(doc, "event.id");
    if (!v) {
        v = vg_json_get(vg_json_get(doc, "event"), "id");
    }
    if (!v || (v->type != VG_JSON_STRING && v->type != VG_JSON_NUMBER) || !v->n || v->n > MAX_ID) {
        return;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        if ((unsigned char)v->s[i] < 0x20 || v->s[i] == 0x7f) {
            return; /* would break the meta list: no dedupe for this one */
        }
    }
    d->id = vg_arena_strndup(ps->keep, v->s, v->n);
    d->id_len = d->id ? v->n : 0;
}

/* Parse one JSON object at body[*off]; on success push it (text as sent) and advance. */
static int json_doc(struct vg_api_parse *ps, const char *body, size_t len, size_t *off)
{
    size_t at = *off, used = 0;
    struct vg_json *doc = NULL;
    char err[160];
    if (body[at] != '{') {
        return fail_at(ps, body, at, at, 6, "expected a JSON object");
    }
    vg_arena_reset(ps->scratch);
    int rc = vg_json_parse(ps->jp, ps->scratch, body + at, len - at, &used, &doc, err, sizeof(err));
    if (rc == VG_ENOMEM) {
        return rc;
    }
    if (rc != VG_OK) {
        return fail_at(ps, body, at + VG_MIN(used, len - at), at, 6, err);
    }
    const char *nul = memchr(body + at, '\0', used);
    if (nul) {
        return fail_at(ps, body, (size_t)(nul - body), at, 6, "NUL byte in the document");
    }
    if (!vg_utf8_valid(body + at, used)) {
        return fail_at(ps, body, at, at, 6, "invalid UTF-8 in the document");
    }
    if ((rc = doc_push(ps, body + at, used, 0)) != VG_OK) {
        return rc;
    }
    find_id(ps, doc, &ps->docs[ps->ndocs - 1]);
    *off = at + used;
    return VG_OK;
}

static int parse_array(struct vg_api_parse *ps, const char *body, size_t len, size_t off)
{
    off = skip_ws(body, len, off + 1);
    if (off < len && body[off] == ']') {
        off = skip_ws(body, len, off + 1);
        return off == len ? VG_EOF
                          : fail_at(ps, body, off, off, 6, "unexpected data after the array");
    }
    for (;;) {
        off = skip_ws(body, len, off);
        if (off == len) {
            return fail_at(ps, body, off, off, 6, "unterminated array");
        }
        int rc = json_doc(ps, body, len, &off);
        if (rc != VG_OK) {
            return rc;
        }
        off = skip_ws(body, len, off);
        if (off < len && body[off] == ',') {
            off++;
            continue;
        }
        if (off < len && body[off] == ']') {
            break;
        }
        return fail_at(ps, body, off, off, 6, "expected ',' or ']' after an array element");
    }
    off = skip_ws(body, len, off + 1);
    return off == len ? VG_OK : fail_at(ps, body, off, off, 6, "unexpected data after the array");
}

static int parse_lines(struct vg_api_parse *ps, const char *body, size_t len)
{
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(body + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - body) : len, n = end - off;
        while (n && body[off + n - 1] == '\r') {
            n--;
        }
        if (skip_ws(body + off, n, 0) < n) {
            int rc = doc_push(ps, body + off, n, 0);
            if (rc != VG_OK) {
                return rc;
            }
        }
        off = end + 1;
    }
    return ps->ndocs ? VG_OK : VG_EOF;
}

int vg_api_parse_ingest(struct vg_api_parse *ps, const char *body, size_t len, bool text)
{
    if (text) {
        return parse_lines(ps, body, len);
    }
    size_t off = skip_ws(body, len, 0);
    if (off == len) {
        return VG_EOF;
    }
    if (body[off] == '[') {
        return parse_array(ps, body, len, off);
    }
    while ((off = skip_ws(body, len, off)) < len) {
        int rc = json_doc(ps, body, len, &off);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- HEC */

struct hec_event {
    const struct vg_json *event, *fields;
    const struct vg_json *time;
    double t;
    const char *meta[4]; /* host, source, sourcetype, index (NULL: absent) */
    size_t lens[4];
};

static const char *const meta_keys[] = {"host", "source", "sourcetype", "index"};

/* The defaults of the query string as meta values of e. */
static void meta_defaults(struct hec_event *e, const struct vg_api_hec_meta *def)
{
    const char *d[] = {def ? def->host : NULL, def ? def->source : NULL,
                       def ? def->sourcetype : NULL, def ? def->index : NULL};
    for (size_t i = 0; i < VG_ARRAY_LEN(meta_keys); i++) {
        e->meta[i] = d[i];
        e->lens[i] = d[i] ? strlen(d[i]) : 0;
    }
}

static void add_sep(struct vg_sbuf *b, bool *first)
{
    if (!*first) {
        vg_sbuf_addc(b, ',');
    }
    *first = false;
}

/* HEC time: epoch seconds as a number or a numeric string. */
static bool hec_time(const struct vg_json *v, double *t)
{
    if (v->type == VG_JSON_NUMBER) {
        *t = v->is_int ? (double)v->u.i : v->u.d;
    } else if (v->type != VG_JSON_STRING || vg_parse_double(v->s, v->n, t) != VG_OK) {
        return false;
    }
    return isfinite(*t) && *t >= 0 && *t < 253402300800.0; /* before year 10000 */
}

static void build_hec(struct vg_sbuf *b, const struct hec_event *e)
{
    const struct vg_json *ev = e->event;
    bool first = true;
    vg_sbuf_addc(b, '{');
    if (e->time && !(ev->type == VG_JSON_OBJECT && vg_json_get(ev, "@timestamp"))) {
        char ts[40];
        size_t n = vg_time_format((vg_time_t)llround(e->t * 1e6) * 1000, ts, sizeof(ts));
        vg_sbuf_adds(b, "\"@timestamp\":");
        vg_sbuf_add_json_str(b, ts, n);
        first = false;
    }
    if (ev->type == VG_JSON_OBJECT) {
        for (uint32_t k = 0; k < ev->n; k++) {
            add_sep(b, &first);
            vg_json_write(&ev->u.items[2 * k], b);
            vg_sbuf_addc(b, ':');
            vg_json_write(&ev->u.items[2 * k + 1], b);
        }
    } else if (ev->type == VG_JSON_STRING) {
        add_sep(b, &first);
        vg_sbuf_adds(b, "\"message\":");
        vg_json_write(ev, b);
    } else {
        struct vg_sbuf tmp = VG_SBUF_INIT;
        vg_json_write(ev, &tmp);
        add_sep(b, &first);
        vg_sbuf_adds(b, "\"message\":");
        vg_sbuf_add_json_str(b, tmp.p ? tmp.p : "", tmp.len);
        b->err = b->err ? b->err : tmp.err;
        vg_sbuf_fini(&tmp);
    }
    add_sep(b, &first);
    vg_sbuf_adds(b, "\"hec\":{");
    bool hf = true;
    if (e->time) {
        add_sep(b, &hf);
        vg_sbuf_adds(b, "\"time\":");
        if (e->time->type == VG_JSON_NUMBER) {
            vg_sbuf_add(b, e->time->s, e->time->n); /* as sent */
        } else {
            vg_sbuf_printf(b, "%.6f", e->t);
        }
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(meta_keys); i++) {
        if (e->meta[i]) {
            add_sep(b, &hf);
            vg_sbuf_printf(b, "\"%s\":", meta_keys[i]);
            vg_sbuf_add_json_str(b, e->meta[i], e->lens[i]);
        }
    }
    if (e->fields) {
        add_sep(b, &hf);
        vg_sbuf_adds(b, "\"fields\":");
        vg_json_write(e->fields, b);
    }
    vg_sbuf_adds(b, "}}");
}

/* Indexed fields: an object of scalars or arrays of scalars. */
static bool fields_ok(const struct vg_json *f)
{
    if (f->type != VG_JSON_OBJECT) {
        return false;
    }
    for (uint32_t k = 0; k < f->n; k++) {
        const struct vg_json *v = &f->u.items[2 * k + 1];
        if (v->type == VG_JSON_OBJECT) {
            return false;
        }
        for (uint32_t i = 0; v->type == VG_JSON_ARRAY && i < v->n; i++) {
            if (v->u.items[i].type == VG_JSON_OBJECT || v->u.items[i].type == VG_JSON_ARRAY) {
                return false;
            }
        }
    }
    return true;
}

/* Check one HEC event object and fill e. Returns 0 or Splunk's error code. */
static int hec_check(const struct vg_json *doc, const struct vg_api_hec_meta *def,
                     struct hec_event *e)
{
    memset(e, 0, sizeof(*e));
    e->event = vg_json_get(doc, "event");
    if (!e->event) {
        return 12;
    }
    if (e->event->type == VG_JSON_NULL || (e->event->type == VG_JSON_STRING && !e->event->n)) {
        return 13;
    }
    e->fields = vg_json_get(doc, "fields");
    if (e->fields && !fields_ok(e->fields)) {
        return 15;
    }
    e->time = vg_json_get(doc, "time");
    if (e->time && !hec_time(e->time, &e->t)) {
        return 6;
    }
    meta_defaults(e, def);
    for (size_t i = 0; i < VG_ARRAY_LEN(meta_keys); i++) {
        const struct vg_json *v = vg_json_get(doc, meta_keys[i]);
        if (v && v->type != VG_JSON_STRING) {
            return 6;
        }
        if (v) {
            e->meta[i] = v->s;
            e->lens[i] = v->n;
        }
    }
    return 0;
}

static int hec_event(struct vg_api_parse *ps, const char *body, size_t len, size_t *off,
                     const struct vg_api_hec_meta *def)
{
    size_t at = *off, used = 0;
    struct vg_json *doc = NULL;
    struct hec_event e;
    char err[160];
    if (body[at] != '{') {
        return fail_at(ps, body, at, at, 6, "expected a JSON object");
    }
    vg_arena_reset(ps->scratch);
    int rc = vg_json_parse(ps->jp, ps->scratch, body + at, len - at, &used, &doc, err, sizeof(err));
    if (rc == VG_ENOMEM) {
        return rc;
    }
    if (rc != VG_OK) {
        return fail_at(ps, body, at + VG_MIN(used, len - at), at, 6, err);
    }
    int code = hec_check(doc, def, &e);
    if (code) {
        return fail_at(ps, body, at, at, code, "invalid event");
    }
    size_t start = ps->built.len;
    build_hec(&ps->built, &e);
    if (ps->built.err) {
        return VG_ENOMEM;
    }
    if ((rc = doc_push(ps, NULL, ps->built.len - start, start)) != VG_OK) {
        return rc;
    }
    if (e.event->type == VG_JSON_OBJECT) {
        find_id(ps, e.event, &ps->docs[ps->ndocs - 1]);
    }
    *off = at + used;
    return VG_OK;
}

static int hec_raw(struct vg_api_parse *ps, const char *body, size_t len,
                   const struct vg_api_hec_meta *def)
{
    int rc = parse_lines(ps, body, len);
    size_t n = ps->ndocs;
    struct vg_json line = {.type = VG_JSON_STRING};
    struct hec_event e = {.event = &line};
    meta_defaults(&e, def);
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        line.s = ps->docs[i].p;
        line.n = ps->docs[i].len;
        ps->docs[i].off = ps->built.len;
        build_hec(&ps->built, &e);
        ps->docs[i].len = (uint32_t)(ps->built.len - ps->docs[i].off);
    }
    return rc == VG_OK && ps->built.err ? VG_ENOMEM : rc;
}

int vg_api_parse_hec(struct vg_api_parse *ps, const char *body, size_t len, bool raw,
                     const struct vg_api_hec_meta *defaults)
{
    int rc = VG_OK;
    ps->hec_code = 0;
    if (raw) {
        rc = hec_raw(ps, body, len, defaults);
    } else {
        for (size_t off = 0; rc == VG_OK && (off = skip_ws(body, len, off)) < len;) {
            rc = hec_event(ps, body, len, &off, defaults);
        }
        rc = rc == VG_OK && !ps->ndocs ? VG_EOF : rc;
    }
    if (rc == VG_EOF) {
        ps->hec_code = 5;
    }
    for (size_t i = 0; rc == VG_OK && i < ps->ndocs; i++) {
        ps->docs[i].p = ps->built.p + ps->docs[i].off; /* built has stopped moving */
    }
    return rc;
}

/* ================================================================ into the journal */

/*
 * Append all records in one batch, waiting (NOWAIT + backoff) while the journal is over its
 * bound, then make them durable.
 */
static int append_durable(struct ingest *ing, const struct vg_rec *recs, size_t n)
{
    uint64_t last = 0, backoff = 1000000, now = vg_clock_ns();
    uint64_t deadline = now + (uint64_t)VG_MAX(ing->o.max_wait_ms, 0) * 1000000ull;
    int rc;
    for (;;) {
        rc = vg_journal_append(ing->j, recs, n, VG_JOURNAL_NOWAIT, &last);
        if (rc != VG_AGAIN) {
            break;
        }
        atomic_store(&ing->busy, true);
        now = vg_clock_ns();
        if (ing->o.max_wait_ms < 0 || now >= deadline || vg_api_stopping(ing->api)) {
            break;
        }
        uint64_t ns = VG_MIN(backoff, deadline - now);
        struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
        nanosleep(&ts, NULL);
        backoff = VG_MIN(backoff * 2, MAX_BACKOFF_NS);
    }
    if (rc == VG_OK) {
        atomic_store(&ing->busy, false);
        rc = vg_journal_sync(ing->j, last);
    }
    return rc;
}

static bool idem_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (!n || n > MAX_ID || !strcmp(k, "id") || !strncmp(k, "id/", 3)) {
        return false; /* "id" keys would collide with <tenant>/id/<event.id> */
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* One vg_rec per document, with its meta (shared when it carries no key). */
static int make_recs(const struct vg_api_req *req, const struct vg_api_parse *ps, const char *idem,
                     uint32_t input, struct vg_rec **out)
{
    struct vg_rec *recs = vg_arena_alloc(req->arena, ps->ndocs * sizeof(*recs));
    char *base = vg_arena_printf(req->arena, "peer=%s\x1ftenant=%s", req->peer, req->tenant);
    vg_time_t now = vg_time_now();
    if (!recs || !base) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < ps->ndocs; i++) {
        const struct vg_api_doc *d = &ps->docs[i];
        char *meta = base;
        if (idem) {
            meta = vg_arena_printf(req->arena, "%s\x1fkey=%s/%s/%zu", base, req->tenant, idem, i);
        } else if (d->id) {
            meta = vg_arena_printf(req->arena, "%s\x1fkey=%s/id/%s", base, req->tenant, d->id);
        }
        if (!meta) {
            return VG_ENOMEM;
        }
        recs[i] = (struct vg_rec){.data = d->p,
                                  .len = d->len,
                                  .input = input,
                                  .recv_ts = now,
                                  .meta = meta,
                                  .meta_len = (uint32_t)strlen(meta)};
    }
    *out = recs;
    return VG_OK;
}

/* Validate, append, sync. Returns VG_OK or the append/sync status. */
static int commit(struct ingest *ing, const struct vg_api_req *req, struct vg_api_parse *ps,
                  const char *idem, uint32_t input, struct ep_stats *st)
{
    struct vg_rec *recs = NULL;
    int rc = make_recs(req, ps, idem, input, &recs);
    if (rc == VG_OK) {
        rc = append_durable(ing, recs, ps->ndocs);
    }
    if (rc == VG_OK) {
        atomic_fetch_add(&st->documents, ps->ndocs);
    } else if (rc == VG_AGAIN || rc == VG_ENOSPC) {
        atomic_fetch_add(&st->busy, 1);
        VG_WARN(VG_API_COMP, "ingest from %s refused (%zu documents): %s", req->peer, ps->ndocs,
                rc == VG_AGAIN ? "journal over its bound" : "disk full");
    } else {
        VG_ERR(VG_API_COMP, "ingest from %s failed: %s", req->peer, vg_strerror(rc));
    }
    return rc;
}

/* ---------------------------------------------------------------- POST /api/v1/ingest */

static void ingest_invalid(struct vg_api_resp *resp, const struct vg_api_parse *ps)
{
    char msg[320];
    int n = snprintf(msg, sizeof(msg), "line %zu, column %zu: %s", ps->line, ps->col, ps->msg);
    if (ps->start_line != ps->line && n > 0 && (size_t)n < sizeof(msg)) {
        snprintf(msg + n, sizeof(msg) - (size_t)n, " (document starting on line %zu)",
                 ps->start_line);
    }
    resp->status = 400;
    vg_sbuf_reset(&resp->body);
    vg_sbuf_adds(&resp->body, "{\"error\":{\"code\":\"invalid_document\",\"message\":");
    vg_sbuf_add_json_str(&resp->body, msg, strlen(msg));
    vg_sbuf_printf(&resp->body, ",\"line\":%zu,\"document\":%zu}}", ps->line, ps->bad_index);
}

static void busy_reply(struct vg_api_resp *resp, int rc, bool hec)
{
    if (hec) {
        vg_api_hec_reply(
            resp, rc == VG_AGAIN || rc == VG_ENOSPC ? 503 : 500,
            rc == VG_AGAIN || rc == VG_ENOSPC ? 9 : 8,
            rc == VG_AGAIN || rc == VG_ENOSPC ? "Server is busy" : "Internal server error", -1);
    } else if (rc == VG_AGAIN || rc == VG_ENOSPC) {
        vg_api_resp_error(resp, 503, "busy", "%s: retry later",
                          rc == VG_AGAIN ? "the pipeline is behind" : "the disk is full");
    } else {
        vg_api_resp_error(resp, 500, "internal", "not stored: %s", vg_strerror(rc));
    }
    if (rc == VG_AGAIN || rc == VG_ENOSPC) {
        vg_api_resp_header(resp, "Retry-After", "5");
    }
}

static int on_ingest(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct ingest *ing = ctx;
    struct ep_stats *st = &ing->st[EP_INGEST];
    struct vg_api_parse ps;
    const char *ct = vg_api_header(req, "Content-Type");
    const char *idem = vg_api_header(req, "Idempotency-Key");
    atomic_fetch_add(&st->requests, 1);
    atomic_fetch_add(&st->bytes, req->body_len);
    if (idem && !idem_key_ok(idem)) {
        atomic_fetch_add(&st->rejected, 1);
        vg_api_resp_error(resp, 400, "bad_request",
                          "Idempotency-Key: 1-256 printable ASCII characters, not \"id\"");
        return VG_OK;
    }
    int rc = vg_api_parse_init(&ps, ing->o.max_docs);
    if (rc == VG_OK) {
        bool text = ct && !strncasecmp(ct, "text/plain", 10);
        rc = vg_api_parse_ingest(&ps, req->body, req->body_len, text);
    }
    if (rc == VG_EOF) {
        vg_api_resp_error(resp, 400, "no_documents", "the body holds no document");
    } else if (rc == VG_EINVAL) {
        ingest_invalid(resp, &ps);
    } else if (rc == VG_ELIMIT) {
        vg_api_resp_error(resp, 413, "too_many_documents", "more than %zu documents", ps.max_docs);
    } else if (rc == VG_OK && (rc = commit(ing, req, &ps, idem, ing->o.input, st)) == VG_OK) {
        vg_sbuf_printf(&resp->body, "{\"accepted\":%zu}", ps.ndocs);
    } else if (rc != VG_ENOMEM) {
        busy_reply(resp, rc, false);
    }
    if (resp->status == 400 || resp->status == 413) {
        atomic_fetch_add(&st->rejected, 1);
    }
    vg_api_parse_fini(&ps);
    return rc == VG_ENOMEM ? rc : VG_OK;
}

/* ---------------------------------------------------------------- Splunk HEC */

static const char *hec_text(int code)
{
    switch (code) {
    case 5:
        return "No data";
    case 12:
        return "Event field is required";
    case 13:
        return "Event field cannot be blank";
    case 15:
        return "Error in handling indexed fields";
    default:
        return "Invalid data format";
    }
}

static int on_hec(struct ingest *ing, const struct vg_api_req *req, struct vg_api_resp *resp,
                  bool raw)
{
    struct ep_stats *st = &ing->st[raw ? EP_HEC_RAW : EP_HEC_EVENT];
    struct vg_api_parse ps;
    struct vg_api_hec_meta def = {
        .host = vg_api_query(req, "host"),
        .source = vg_api_query(req, "source"),
        .sourcetype = vg_api_query(req, "sourcetype"),
        .index = vg_api_query(req, "index"),
    };
    const char *idem = vg_api_header(req, "Idempotency-Key");
    atomic_fetch_add(&st->requests, 1);
    atomic_fetch_add(&st->bytes, req->body_len);
    if (idem && !idem_key_ok(idem)) {
        idem = NULL; /* Splunk clients do not send one: ignore a malformed one */
    }
    int rc = vg_api_parse_init(&ps, ing->o.max_docs);
    if (rc == VG_OK) {
        rc = vg_api_parse_hec(&ps, req->body, req->body_len, raw, &def);
    }
    if (rc == VG_EOF || rc == VG_EINVAL) {
        atomic_fetch_add(&st->rejected, 1);
        vg_api_hec_reply(resp, 400, ps.hec_code, hec_text(ps.hec_code),
                         rc == VG_EINVAL ? (long)ps.bad_index : -1);
    } else if (rc == VG_ELIMIT) {
        atomic_fetch_add(&st->rejected, 1);
        vg_api_hec_reply(resp, 413, 6, "Too many events in one request", (long)ps.max_docs);
    } else if (rc == VG_OK && (rc = commit(ing, req, &ps, idem, ing->o.hec_input, st)) == VG_OK) {
        vg_api_hec_reply(resp, 200, 0, "Success", -1);
    } else if (rc != VG_ENOMEM) {
        busy_reply(resp, rc, true);
    }
    vg_api_parse_fini(&ps);
    return rc == VG_ENOMEM ? rc : VG_OK;
}

static int on_hec_event(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return on_hec(ctx, req, resp, false);
}

static int on_hec_raw(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return on_hec(ctx, req, resp, true);
}

static int on_hec_health(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct ingest *ing = ctx;
    VG_UNUSED(req);
    if (atomic_load(&ing->busy)) {
        vg_api_hec_reply(resp, 503, 18, "HEC is unhealthy, queues are full", -1);
    } else {
        vg_api_hec_reply(resp, 200, 17, "HEC is healthy", -1);
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- registration */

static void ingest_metrics(void *ctx, struct vg_api_metrics *w)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } m[] = {
        {"vigie_ingest_http_requests_total", "ingest requests received",
         offsetof(struct ep_stats, requests)},
        {"vigie_ingest_http_documents_total", "documents made durable in the journal",
         offsetof(struct ep_stats, documents)},
        {"vigie_ingest_http_bytes_total", "request body bytes received",
         offsetof(struct ep_stats, bytes)},
        {"vigie_ingest_http_rejected_total", "requests refused as invalid (400, 413)",
         offsetof(struct ep_stats, rejected)},
        {"vigie_ingest_http_busy_total",
         "requests answered 503: journal over its bound or disk full",
         offsetof(struct ep_stats, busy)},
    };
    struct ingest *ing = ctx;
    for (size_t k = 0; k < VG_ARRAY_LEN(m); k++) {
        vg_api_metrics_family(w, m[k].name, "counter", m[k].help);
        for (size_t e = 0; e < EP_N; e++) {
            const char *l[] = {"endpoint", ep_names[e], NULL};
            atomic_uint_fast64_t *v = (atomic_uint_fast64_t *)((char *)&ing->st[e] + m[k].off);
            vg_api_metrics_value(w, m[k].name, l, (double)atomic_load(v));
        }
    }
}

static const struct {
    const char *method, *path;
    int role;
    unsigned flags;
    vg_api_handler fn;
} ingest_routes[] = {
    {"POST", "/api/v1/ingest", VG_API_ROLE_INGEST, 0, on_ingest},
    {"POST", "/services/collector", VG_API_ROLE_INGEST, VG_API_RF_HEC, on_hec_event},
    {"POST", "/services/collector/event", VG_API_ROLE_INGEST, VG_API_RF_HEC, on_hec_event},
    {"POST", "/services/collector/event/1.0", VG_API_ROLE_INGEST, VG_API_RF_HEC, on_hec_event},
    {"POST", "/services/collector/raw", VG_API_ROLE_INGEST, VG_API_RF_HEC, on_hec_raw},
    {"POST", "/services/collector/raw/1.0", VG_API_ROLE_INGEST, VG_API_RF_HEC, on_hec_raw},
    {"GET", "/services/collector/health", VG_API_ROLE_PUBLIC, VG_API_RF_HEC, on_hec_health},
    {"GET", "/services/collector/health/1.0", VG_API_ROLE_PUBLIC, VG_API_RF_HEC, on_hec_health},
};

int vg_api_ingest_register(struct vg_api *api, struct vg_journal *j,
                           const struct vg_api_ingest_opts *o)
{
    if (!api || !j || api->started) {
        return VG_EINVAL;
    }
    struct ingest *ing = vg_calloc(1, sizeof(*ing));
    if (!ing || vg_api_on_destroy(api, vg_free, ing) != VG_OK) {
        vg_free(ing);
        return VG_ENOMEM;
    }
    ing->api = api;
    ing->j = j;
    if (o) {
        ing->o = *o;
    }
    ing->o.max_wait_ms = ing->o.max_wait_ms ? ing->o.max_wait_ms : DEFAULT_WAIT_MS;
    ing->o.max_docs = ing->o.max_docs ? ing->o.max_docs : DEFAULT_MAX_DOCS;
    int rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < VG_ARRAY_LEN(ingest_routes); i++) {
        rc = vg_api_route_ex(api, ingest_routes[i].method, ingest_routes[i].path,
                             ingest_routes[i].role, ingest_routes[i].flags, ingest_routes[i].fn,
                             ing);
    }
    return rc == VG_OK ? vg_api_metrics_add(api, ingest_metrics, ing) : rc;
}
