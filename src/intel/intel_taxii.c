/*
 * intel_taxii.c — TAXII 2.1 client (issue 7): pulls one collection's objects page by page with
 * libcurl and feeds each page (a TAXII envelope) to the STIX importer, inside one store
 * transaction, so a pull is all-or-nothing: the source's previous generation stays in place
 * until the commit, and any failure (transport, HTTP status, a page that is not an envelope,
 * the page bound) aborts it.
 *
 * Paging: a page whose envelope says "more" is followed by a request with the envelope's
 * "next" (and the same added_after), or — for servers that give no "next" — by a request whose
 * added_after is the page's X-TAXII-Date-Added-Last. The cursor stored with the commit
 * ("taxii.cursor") is the last X-TAXII-Date-Added-Last seen; a server that sends no such header
 * keeps the previous cursor (the next pull then fetches again rather than miss objects).
 *
 * Transport rules (as in src/respond): http/https only, redirects not followed, TLS verified
 * (optional CA file), per-request timeout, responses bounded (VG_INTEL_TAXII_MAX_BODY →
 * VG_ELIMIT). Credentials go to libcurl only: they are never logged nor put into err, and
 * userinfo in api_root is stripped from the URL kept in the manifest and in messages.
 */
#include "intel/intel_taxii.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "event/event.h"
#include "intel/intel_stix.h"

#define VG_INTEL_TAXII_MAX_BODY ((size_t)256 << 20)
#define TAXII_ACCEPT            "Accept: application/taxii+json;version=2.1"
#define TAXII_CURSOR_MAX        128
#define TAXII_NEXT_MAX          1024

static pthread_once_t taxii_curl_once = PTHREAD_ONCE_INIT;
static CURLcode taxii_curl_rc = CURLE_OK;

static void taxii_curl_init(void)
{
    taxii_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* One HTTP client for the whole pull (keeps the connection alive across pages). */
struct taxii_http {
    CURL *h;
    struct curl_slist *hdrs;
    struct vg_sbuf body;
    bool too_big;
    char date_last[TAXII_CURSOR_MAX]; /* X-TAXII-Date-Added-Last of the last response */
    char ebuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *p, size_t sz, size_t n, void *u)
{
    struct taxii_http *c = u;
    size_t len = sz * n;
    if (c->body.len + len > VG_INTEL_TAXII_MAX_BODY) {
        c->too_big = true;
        return 0;
    }
    vg_sbuf_add(&c->body, p, len);
    return c->body.err ? 0 : len;
}

/* Keeps X-TAXII-Date-Added-Last (trimmed; at most TAXII_CURSOR_MAX-1 bytes, else ignored). */
static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
    struct taxii_http *c = u;
    size_t len = sz * n;
    static const char name[] = "x-taxii-date-added-last:";
    size_t nl = sizeof(name) - 1;
    if (len > nl && strncasecmp(p, name, nl) == 0) {
        const char *v = p + nl, *e = p + len;
        while (v < e && (*v == ' ' || *v == '\t')) {
            v++;
        }
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if ((size_t)(e - v) < sizeof(c->date_last)) {
            memcpy(c->date_last, v, (size_t)(e - v));
            c->date_last[e - v] = '\0';
        }
    }
    return len;
}

static bool has_ctl(const char *s)
{
    for (; s && *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            return true;
        }
    }
    return false;
}

/* Header list: Accept, and the bearer token when given (CR/LF in it → VG_EINVAL). */
static int http_headers(struct taxii_http *c, const struct vg_intel_taxii_opts *o, char *err,
                        size_t errsz)
{
    struct curl_slist *t = curl_slist_append(NULL, TAXII_ACCEPT);
    if (!t) {
        return VG_ENOMEM;
    }
    c->hdrs = t;
    if (o->token && *o->token) {
        if (has_ctl(o->token)) {
            snprintf(err, errsz, "taxii: the bearer token holds control characters");
            return VG_EINVAL;
        }
        struct vg_sbuf a = VG_SBUF_INIT;
        vg_sbuf_printf(&a, "Authorization: Bearer %s", o->token);
        t = a.err ? NULL : curl_slist_append(c->hdrs, a.p);
        vg_sbuf_fini(&a); /* the token is not kept beyond libcurl's copy */
        if (!t) {
            return VG_ENOMEM;
        }
        c->hdrs = t;
    }
    return VG_OK;
}

static int http_open(struct taxii_http *c, const struct vg_intel_taxii_opts *o, char *err,
                     size_t errsz)
{
    memset(c, 0, sizeof(*c));
    pthread_once(&taxii_curl_once, taxii_curl_init);
    if (taxii_curl_rc != CURLE_OK || !(c->h = curl_easy_init())) {
        snprintf(err, errsz, "taxii: libcurl could not start");
        return VG_ENOMEM;
    }
    int rc = http_headers(c, o, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    long tmo = (long)(o->timeout_s ? o->timeout_s : 60) * 1000L;
    CURL *h = c->h;
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, tmo);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, tmo);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* gzip/deflate/br/zstd as built */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)VG_INTEL_TAXII_MAX_BODY);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vigie-taxii/0.1");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->ebuf);
    if (o->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    }
    if (o->user && !(o->token && *o->token)) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, o->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, o->password ? o->password : "");
    }
    return VG_OK;
}

static void http_close(struct taxii_http *c)
{
    if (c->h) {
        curl_easy_cleanup(c->h);
    }
    curl_slist_free_all(c->hdrs);
    vg_sbuf_fini(&c->body);
    c->h = NULL;
    c->hdrs = NULL;
}

/* "title (description)" of a TAXII error document in body, or "" when it is not one. */
static void error_title(const char *body, size_t len, char *out, size_t outsz)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char e[64];
    out[0] = '\0';
    if (p && a && len && vg_json_parse(p, a, body, len, &used, &doc, e, sizeof(e)) == VG_OK) {
        const struct vg_json *t = vg_json_get(doc, "title");
        const struct vg_json *d = vg_json_get(doc, "description");
        if (t && t->type == VG_JSON_STRING) {
            snprintf(out, outsz, ": %.*s", (int)(t->n > 200 ? 200 : t->n), t->s);
        }
        if (t && d && d->type == VG_JSON_STRING && d->n) {
            size_t o = strlen(out);
            snprintf(out + o, outsz - o, " (%.*s)", (int)(d->n > 300 ? 300 : d->n), d->s);
        }
    }
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
}

/* GET url into c->body. Returns 0 on a 2xx; VG_EIO/VG_ELIMIT/VG_ENOMEM with err. shown is the
 * URL for messages (no credentials). */
static int http_get(struct taxii_http *c, const char *url, const char *shown, char *err,
                    size_t errsz)
{
    vg_sbuf_reset(&c->body);
    c->too_big = false;
    c->date_last[0] = '\0';
    c->ebuf[0] = '\0';
    curl_easy_setopt(c->h, CURLOPT_URL, url);
    CURLcode cc = curl_easy_perform(c->h);
    long st = 0;
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &st);
    if (c->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
        snprintf(err, errsz, "%s: response larger than %zu MiB", shown,
                 VG_INTEL_TAXII_MAX_BODY >> 20);
        return VG_ELIMIT;
    }
    if (c->body.err) {
        return VG_ENOMEM;
    }
    if (cc != CURLE_OK) {
        snprintf(err, errsz, "%s: %s", shown, c->ebuf[0] ? c->ebuf : curl_easy_strerror(cc));
        return VG_EIO;
    }
    if (st < 200 || st > 299) {
        char title[600];
        error_title(c->body.p, c->body.len, title, sizeof(title));
        snprintf(err, errsz, "%s: HTTP %ld%s%s", shown, st, title,
                 st >= 300 && st < 400 ? " (redirects are not followed)" : "");
        return VG_EIO;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- URLs */

/* api_root with a trailing slash, as given (with credentials, for libcurl) and as shown
 * (userinfo removed, for messages and the manifest). */
static int root_urls(const char *api_root, struct vg_sbuf *full, struct vg_sbuf *shown, char *err,
                     size_t errsz)
{
    CURLU *u = curl_url();
    char *s = NULL, *scheme = NULL;
    int rc = VG_EINVAL;
    if (!u) {
        return VG_ENOMEM;
    }
    if (has_ctl(api_root) || curl_url_set(u, CURLUPART_URL, api_root, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        snprintf(err, errsz, "taxii: api_root is not an http(s) URL");
        goto out;
    }
    if (curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK) {
        goto out;
    }
    vg_sbuf_adds(full, api_root);
    curl_url_set(u, CURLUPART_USER, NULL, 0);
    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK) {
        goto out;
    }
    vg_sbuf_adds(shown, s);
    if (full->len && full->p[full->len - 1] != '/') {
        vg_sbuf_addc(full, '/');
    }
    if (shown->len && shown->p[shown->len - 1] != '/') {
        vg_sbuf_addc(shown, '/');
    }
    rc = full->err || shown->err ? VG_ENOMEM : VG_OK;
out:
    curl_free(s);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* Append s percent-encoded (unreserved characters kept). */
static void add_escaped(struct vg_sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            vg_sbuf_addc(b, (char)ch);
        } else {
            vg_sbuf_addc(b, '%');
            vg_sbuf_addc(b, hex[ch >> 4]);
            vg_sbuf_addc(b, hex[ch & 15]);
        }
    }
}

/* ---------------------------------------------------------------- pull */

struct taxii_pull {
    const struct vg_intel_taxii_opts *o;
    struct taxii_http http;
    struct vg_sbuf root, shown;    /* api_root (full / without userinfo) */
    struct vg_sbuf url, url_shown; /* the current page */
    char source[64];
    char cursor[TAXII_CURSOR_MAX];  /* added_after of the current request ("" none) */
    char last[TAXII_CURSOR_MAX];    /* newest X-TAXII-Date-Added-Last seen */
    char next[TAXII_NEXT_MAX];      /* envelope "next" ("" none) */
    char prev_next[TAXII_NEXT_MAX]; /* the "next" this page was asked with */
    uint64_t page_objects;          /* objects on the last page */
    bool more;
    uint32_t pages;
    uint64_t objects;
};

/* {root}collections/{id}/objects/?limit=N[&added_after=C][&next=X] into url and url_shown. */
static int page_url(struct taxii_pull *p)
{
    uint32_t lim = p->o->page_limit ? p->o->page_limit : 1000;
    for (int k = 0; k < 2; k++) {
        struct vg_sbuf *b = k ? &p->url_shown : &p->url;
        vg_sbuf_reset(b);
        vg_sbuf_add(b, k ? p->shown.p : p->root.p, k ? p->shown.len : p->root.len);
        vg_sbuf_adds(b, "collections/");
        add_escaped(b, p->o->collection);
        vg_sbuf_printf(b, "/objects/?limit=%u", lim);
        if (p->cursor[0]) {
            vg_sbuf_adds(b, "&added_after=");
            add_escaped(b, p->cursor);
        }
        if (p->next[0]) {
            vg_sbuf_adds(b, "&next=");
            add_escaped(b, p->next);
        }
        if (b->err) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

/* Reads the envelope of c->body: more, next, number of objects. VG_EINVAL if it is not one. */
static int read_envelope(struct taxii_pull *p, uint64_t *nobj, char *err, size_t errsz)
{
    struct vg_json_limits lim = {.max_depth = 128, .max_len = VG_INTEL_TAXII_MAX_BODY};
    struct vg_json_parser *jp = vg_json_parser_create(&lim);
    struct vg_arena *a = vg_arena_create(1 << 16);
    struct vg_json *doc = NULL;
    const struct vg_sbuf *b = &p->http.body;
    size_t used = 0;
    char e[160] = "nesting too deep";
    int rc = VG_ENOMEM;
    *nobj = 0;
    p->more = false;
    p->next[0] = '\0';
    if (!jp || !a) {
        goto out;
    }
    rc = b->len ? vg_json_parse(jp, a, b->p, b->len, &used, &doc, e, sizeof(e)) : VG_EOF;
    if (rc == VG_EOF) { /* an empty 200 answer: no objects */
        rc = VG_OK;
        goto out;
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: not a TAXII envelope: %s", p->url_shown.p,
                 rc == VG_ETRUNC ? "JSON ends early" : e);
        rc = rc == VG_ENOMEM ? rc : VG_EINVAL;
        goto out;
    }
    const struct vg_json *objs = vg_json_get(doc, "objects");
    const struct vg_json *more = vg_json_get(doc, "more");
    const struct vg_json *next = vg_json_get(doc, "next");
    rc = VG_EINVAL;
    if (doc->type != VG_JSON_OBJECT || (objs && objs->type != VG_JSON_ARRAY)) {
        snprintf(err, errsz, "%s: not a TAXII envelope: %s", p->url_shown.p,
                 doc->type != VG_JSON_OBJECT ? "not a JSON object" : "\"objects\" not an array");
        goto out;
    }
    if (next && (next->type != VG_JSON_STRING || next->n >= sizeof(p->next) ||
                 memchr(next->s, '\0', next->n))) {
        snprintf(err, errsz, "%s: envelope \"next\" is not a string of < %zu bytes", p->url_shown.p,
                 sizeof(p->next));
        goto out;
    }
    p->more = more && more->type == VG_JSON_TRUE;
    if (next && p->more) {
        memcpy(p->next, next->s, next->n);
        p->next[next->n] = '\0';
    }
    *nobj = objs ? objs->n : 0;
    rc = VG_OK;
out:
    vg_arena_destroy(a);
    vg_json_parser_destroy(jp);
    return rc;
}

/* Decides the next request after a page with more=true; VG_EINVAL when the server gives no
 * way forward (no next, no X-TAXII-Date-Added-Last newer than the cursor). */
static int advance(struct taxii_pull *p, char *err, size_t errsz)
{
    if (p->next[0]) {
        if (p->page_objects == 0 && strcmp(p->next, p->prev_next) == 0) {
            snprintf(err, errsz, "%s: \"more\" with an empty page and the same \"next\"",
                     p->url_shown.p);
            return VG_EINVAL;
        }
        return VG_OK;
    }
    const char *last = p->http.date_last;
    if (!last[0] || strcmp(last, p->cursor) == 0) {
        snprintf(err, errsz, "%s: \"more\" without \"next\" nor a new X-TAXII-Date-Added-Last",
                 p->url_shown.p);
        return VG_EINVAL;
    }
    vg_strlcpy(p->cursor, last, sizeof(p->cursor));
    return VG_OK;
}

/* Fetch and import one page into the transaction. */
static int pull_page(struct taxii_pull *p, struct vg_intel_txn *txn, char *err, size_t errsz)
{
    uint64_t n = 0;
    int rc = page_url(p);
    if (rc == VG_OK) {
        rc = http_get(&p->http, p->url.p, p->url_shown.p, err, errsz);
    }
    if (rc == VG_OK) {
        vg_strlcpy(p->prev_next, p->next, sizeof(p->prev_next));
        rc = read_envelope(p, &n, err, errsz);
    }
    if (rc == VG_OK && n > 0) {
        struct vg_intel_import_opts io = {.origin = p->url_shown.p,
                                          .now = (uint32_t)(vg_time_now() / 1000000000)};
        rc = vg_intel_import_stix(p->http.body.p, p->http.body.len, &io, vg_intel_txn_sink(txn),
                                  err, errsz);
    }
    if (rc != VG_OK) {
        return rc;
    }
    if (p->http.date_last[0]) {
        vg_strlcpy(p->last, p->http.date_last, sizeof(p->last));
    }
    p->pages++;
    p->objects += n;
    p->page_objects = n;
    return VG_OK;
}

/* The starting cursor: the override, else the stored one. *append: a later pull. */
static int start_cursor(struct vg_intel_db *db, struct taxii_pull *p, bool *append)
{
    *append = false;
    p->cursor[0] = '\0';
    if (p->o->added_after) {
        if (strlen(p->o->added_after) >= sizeof(p->cursor) || has_ctl(p->o->added_after)) {
            return VG_EINVAL;
        }
        vg_strlcpy(p->cursor, p->o->added_after, sizeof(p->cursor));
        *append = p->cursor[0] != '\0';
        return VG_OK;
    }
    int rc = vg_intel_db_get_meta(db, p->source, "taxii.cursor", p->cursor, sizeof(p->cursor));
    if (rc == VG_ENOENT) {
        p->cursor[0] = '\0';
        return VG_OK;
    }
    *append = rc == VG_OK && p->cursor[0] != '\0';
    return rc;
}

static int pull_loop(struct taxii_pull *p, struct vg_intel_txn *txn, char *err, size_t errsz)
{
    uint32_t max = p->o->max_pages ? p->o->max_pages : 10000;
    for (;;) {
        int rc = pull_page(p, txn, err, errsz);
        if (rc != VG_OK || !p->more) {
            return rc;
        }
        if (p->pages >= max) {
            snprintf(err, errsz, "%s: more than %u pages (max_pages)", p->url_shown.p, max);
            return VG_ELIMIT;
        }
        if ((rc = advance(p, err, errsz)) != VG_OK) {
            return rc;
        }
    }
}

static int pull_commit(struct taxii_pull *p, struct vg_intel_txn *txn,
                       struct vg_intel_import_report *rep, char *err, size_t errsz)
{
    struct vg_intel_import_report tmp;
    const char *cur = p->last[0] ? p->last : p->cursor;
    vg_sbuf_reset(&p->url_shown);
    vg_sbuf_add(&p->url_shown, p->shown.p, p->shown.len);
    vg_sbuf_adds(&p->url_shown, "collections/");
    add_escaped(&p->url_shown, p->o->collection);
    vg_sbuf_adds(&p->url_shown, "/");
    if (p->url_shown.err) {
        return VG_ENOMEM;
    }
    int rc = cur[0] ? vg_intel_txn_set_meta(txn, "taxii.cursor", cur) : VG_OK;
    if (rc == VG_OK) {
        rc = vg_intel_txn_set_meta(txn, "taxii.url", p->url_shown.p);
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "taxii: cannot keep the cursor: %s", vg_strerror(rc));
        return rc;
    }
    return vg_intel_txn_commit(txn, rep ? rep : &tmp, err, errsz);
}

static int pull_prepare(struct vg_intel_db *db, struct taxii_pull *p, bool *append, char *err,
                        size_t errsz)
{
    const struct vg_intel_taxii_opts *o = p->o;
    if (!db || !o->api_root || !o->collection || !o->collection[0]) {
        snprintf(err, errsz, "taxii: api_root and collection are required");
        return VG_EINVAL;
    }
    if (o->source) {
        vg_strlcpy(p->source, o->source, sizeof(p->source));
    } else {
        /* a store source name takes [A-Za-z0-9._-] only */
        snprintf(p->source, sizeof(p->source), "taxii-%s", o->collection);
        for (char *c = p->source; *c; c++) {
            if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
                !(*c >= '0' && *c <= '9') && *c != '-' && *c != '_' && *c != '.') {
                *c = '_';
            }
        }
    }
    int rc = root_urls(o->api_root, &p->root, &p->shown, err, errsz);
    if (rc == VG_OK && (rc = start_cursor(db, p, append)) != VG_OK) {
        snprintf(err, errsz, "taxii: source %s: bad cursor (%s)", p->source, vg_strerror(rc));
    }
    if (rc == VG_OK) {
        rc = http_open(&p->http, o, err, errsz);
    }
    return rc;
}

int vg_intel_taxii_pull(struct vg_intel_db *db, const struct vg_intel_taxii_opts *o,
                        struct vg_intel_import_report *rep, uint32_t *pages, uint64_t *objects,
                        char *err, size_t errsz)
{
    struct taxii_pull p = {.o = o};
    struct vg_intel_txn *txn = NULL;
    bool append = false;
    uint64_t t0 = vg_clock_ns();
    int rc = pull_prepare(db, &p, &append, err, errsz);
    if (rc == VG_OK) {
        rc = vg_intel_db_begin(db, p.source, VG_INTEL_FMT_STIX, p.shown.p,
                               append ? VG_INTEL_TXN_APPEND : 0, &txn, err, errsz);
    }
    if (rc == VG_OK && (rc = pull_loop(&p, txn, err, errsz)) == VG_OK) {
        rc = pull_commit(&p, txn, rep, err, errsz);
        txn = NULL; /* commit consumes the transaction, success or not */
    }
    if (txn) {
        vg_intel_txn_abort(txn);
    }
    if (rc == VG_OK) {
        VG_INFO("intel", "taxii %scollections/%s: %u pages, %llu objects in %.2fs%s", p.shown.p,
                o->collection, p.pages, (unsigned long long)p.objects,
                (double)(vg_clock_ns() - t0) / 1e9, append ? " (incremental)" : "");
    }
    if (pages) {
        *pages = p.pages;
    }
    if (objects) {
        *objects = p.objects;
    }
    http_close(&p.http);
    vg_sbuf_fini(&p.root);
    vg_sbuf_fini(&p.shown);
    vg_sbuf_fini(&p.url);
    vg_sbuf_fini(&p.url_shown);
    return rc;
}

/* ---------------------------------------------------------------- collections */

int vg_intel_taxii_collections(const struct vg_intel_taxii_opts *o, struct vg_sbuf *out, char *err,
                               size_t errsz)
{
    struct vg_sbuf root = VG_SBUF_INIT, shown = VG_SBUF_INIT;
    struct taxii_http c = {0};
    int rc = VG_EINVAL;
    if (!o || !o->api_root || !out) {
        snprintf(err, errsz, "taxii: api_root is required");
        return VG_EINVAL;
    }
    rc = root_urls(o->api_root, &root, &shown, err, errsz);
    if (rc == VG_OK) {
        vg_sbuf_adds(&root, "collections/");
        vg_sbuf_adds(&shown, "collections/");
        rc = root.err || shown.err ? VG_ENOMEM : http_open(&c, o, err, errsz);
    }
    if (rc == VG_OK) {
        rc = http_get(&c, root.p, shown.p, err, errsz);
    }
    if (rc == VG_OK) {
        struct vg_arena *a = vg_arena_create(1 << 14);
        struct vg_json_parser *jp = vg_json_parser_create(NULL);
        struct vg_json *doc = NULL;
        size_t used = 0;
        char e[160] = "";
        rc = !a || !jp ? VG_ENOMEM
             : c.body.len == 0
                 ? VG_OK
                 : vg_json_parse(jp, a, c.body.p, c.body.len, &used, &doc, e, sizeof(e));
        if (rc == VG_OK && doc && doc->type != VG_JSON_OBJECT) {
            vg_strlcpy(e, "not a JSON object", sizeof(e));
            rc = VG_EINVAL;
        }
        if (rc != VG_OK && rc != VG_ENOMEM) {
            snprintf(err, errsz, "%s: not a TAXII collections document: %s", shown.p, e);
            rc = VG_EINVAL;
        }
        vg_arena_destroy(a);
        vg_json_parser_destroy(jp);
    }
    if (rc == VG_OK) {
        vg_sbuf_add(out, c.body.len ? c.body.p : "{}", c.body.len ? c.body.len : 2);
        rc = out->err ? VG_ENOMEM : VG_OK;
    }
    http_close(&c);
    vg_sbuf_fini(&root);
    vg_sbuf_fini(&shown);
    return rc;
}
