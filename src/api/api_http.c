/*
 * api_http.c — the HTTP framework of the API: libmicrohttpd underneath, a route table,
 * authentication and authorisation before any body byte is read, bounded bodies, JSON
 * errors, security headers and one access-log line per request.
 *
 * Life of a request: libmicrohttpd calls uri_log() when the request line arrives — we
 * allocate the request state (with its arena) and keep the raw URI, because MHD would
 * percent-decode it and "%2F" must not split a path segment. on_request() then runs once
 * with the headers (route, authenticate, authorise: a refusal is answered before the body
 * is read, and MHD closes the connection after it), once per body chunk (accumulated up to
 * max_body) and once at the end, when the handler runs. on_done() writes the access-log
 * line and frees the state.
 *
 * Threading: one thread per connection by default (handlers may block on fsync, searches
 * or back-pressure without stalling other clients); a pool of epoll threads on request.
 * The route table is frozen by vg_api_start, so lookups take no lock.
 */
#include "api/api_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_LISTEN   "127.0.0.1:8470"
#define DEFAULT_MAX_BODY (16u << 20)
#define MAX_SEGS         32

/* Per-request state (allocated in its own arena). */
struct rq {
    struct vg_api *api;
    struct MHD_Connection *conn;
    struct vg_arena *arena;
    const char *method;
    const char *uri;   /* raw, as received */
    const char *path;  /* raw path (arena copy without the query) */
    const char *query; /* raw query string (after '?'), or NULL */
    uint64_t t0;
    bool started, responded, too_large, cookie_auth;
    size_t discarded;
    const struct vg_api_route *route;
    const char *param;
    struct vg_api_principal who;
    const char *tenant;
    char peer[64];
    struct vg_sbuf body;
    int status;
    size_t out_bytes;
};

/* ---------------------------------------------------------------- small helpers */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 32;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..n) into the arena ('+' → ' ' when plus). NULL on a %00 or no memory. */
static char *pct_decode(struct vg_arena *a, const char *s, size_t n, bool plus)
{
    char *d = vg_arena_alloc(a, n + 1);
    size_t o = 0;
    if (!d) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            d[o] = (char)(hi << 4 | lo);
            if (d[o] == '\0') {
                return NULL;
            }
            o++;
            i += 2;
        } else {
            d[o++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    d[o] = '\0';
    return d;
}

static bool method_known(const char *m)
{
    static const char *const known[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < VG_ARRAY_LEN(known); i++) {
        if (!strcmp(m, known[i])) {
            return true;
        }
    }
    return false;
}

static bool method_safe(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

bool vg_api_secret_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) {
        return false;
    }
    return an == 0 || sodium_memcmp(a, b, an) == 0;
}

/* ---------------------------------------------------------------- responses */

int vg_api_resp_header(struct vg_api_resp *resp, const char *name, const char *value)
{
    if (!name || !value || !*name || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
        return VG_EINVAL;
    }
    vg_sbuf_add(&resp->headers, name, strlen(name) + 1);
    vg_sbuf_add(&resp->headers, value, strlen(value) + 1);
    return resp->headers.err ? VG_ENOMEM : VG_OK;
}

void vg_api_resp_error(struct vg_api_resp *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = "application/json";
    vg_sbuf_reset(&resp->body);
    vg_sbuf_adds(&resp->body, "{\"error\":{\"code\":");
    vg_sbuf_add_json_str(&resp->body, code, strlen(code));
    vg_sbuf_adds(&resp->body, ",\"message\":");
    vg_sbuf_add_json_str(&resp->body, msg, strlen(msg));
    vg_sbuf_adds(&resp->body, "}}");
}

void vg_api_hec_reply(struct vg_api_resp *resp, int status, int code, const char *text,
                      long invalid_event)
{
    resp->status = status;
    resp->content_type = "application/json";
    vg_sbuf_reset(&resp->body);
    vg_sbuf_adds(&resp->body, "{\"text\":");
    vg_sbuf_add_json_str(&resp->body, text, strlen(text));
    vg_sbuf_printf(&resp->body, ",\"code\":%d", code);
    if (invalid_event >= 0) {
        vg_sbuf_printf(&resp->body, ",\"invalid-event-number\":%ld", invalid_event);
    }
    vg_sbuf_addc(&resp->body, '}');
}

static bool resp_has_header(const struct vg_api_resp *resp, const char *name)
{
    for (size_t off = 0; off < resp->headers.len;) {
        const char *n = resp->headers.p + off;
        const char *v = n + strlen(n) + 1;
        if (!strcasecmp(n, name)) {
            return true;
        }
        off = (size_t)(v + strlen(v) + 1 - resp->headers.p);
    }
    return false;
}

static void resp_fini(struct vg_api_resp *resp)
{
    vg_sbuf_fini(&resp->body);
    vg_sbuf_fini(&resp->headers);
    vg_api_stream_free(resp->stream);
    resp->stream = NULL;
}

static void free_body(void *p)
{
    vg_free(p);
}

static void add_headers(struct MHD_Response *r, const struct vg_api_resp *resp)
{
    static const char *const sec[][2] = {
        {"X-Content-Type-Options", "nosniff"},
        {"Cache-Control", "no-store"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
        {"Content-Security-Policy", VG_API_CSP},
    };
    for (size_t off = 0; off < resp->headers.len;) {
        const char *n = resp->headers.p + off;
        const char *v = n + strlen(n) + 1;
        MHD_add_response_header(r, n, v);
        off = (size_t)(v + strlen(v) + 1 - resp->headers.p);
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(sec); i++) {
        if (!resp_has_header(resp, sec[i][0])) {
            MHD_add_response_header(r, sec[i][0], sec[i][1]);
        }
    }
    if (!resp_has_header(resp, "Content-Type")) {
        MHD_add_response_header(r, "Content-Type",
                                resp->content_type ? resp->content_type : "application/json");
    }
}

/* Queue resp on the connection (takes the body). */
static enum MHD_Result queue(struct rq *rq, struct vg_api_resp *resp)
{
    if (resp->body.err || resp->headers.err) {
        vg_sbuf_fini(&resp->headers);
        vg_api_resp_error(resp, 500, "internal", "out of memory");
    }
    int status = resp->status ? resp->status : 200;
    size_t len = 0;
    char *buf = NULL;
    struct MHD_Response *r = NULL;
    if (resp->stream && status >= 200 && status < 300) {
        /* the stream's state now belongs to the response (freed by vg_api_stream_free) */
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, vg_api_stream_read,
                                              resp->stream, vg_api_stream_free);
        if (r) {
            resp->stream = NULL;
        }
    } else {
        buf = resp->body.p ? vg_sbuf_take(&resp->body, &len) : NULL;
        r = buf ? MHD_create_response_from_buffer_with_free_callback(len, buf, free_body)
                : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        vg_free(buf);
        resp_fini(resp);
        return MHD_NO;
    }
    add_headers(r, resp);
    enum MHD_Result ok = MHD_queue_response(rq->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    resp_fini(resp);
    rq->responded = true;
    rq->status = status;
    rq->out_bytes = len;
    if (rq->route && status >= 100 && status < 600) {
        atomic_fetch_add_explicit(&((struct vg_api_route *)rq->route)->by_class[status / 100 - 1],
                                  1, memory_order_relaxed);
    }
    return ok;
}

static enum MHD_Result queue_error(struct rq *rq, int status, const char *code, const char *msg)
{
    struct vg_api_resp resp = {.status = status};
    vg_api_resp_error(&resp, status, code, "%s", msg);
    return queue(rq, &resp);
}

int vg_api_resp_stream(const struct vg_api_req *req, struct vg_api_resp *resp, vg_api_stream_fn fn,
                       void *ctx, void (*free_ctx)(void *ctx))
{
    struct rq *rq = req->internal;
    if (rq->api->threads) {
        if (free_ctx) {
            free_ctx(ctx);
        }
        return VG_EUNSUPPORTED;
    }
    /* the credential that authenticated the request, to check it again while streaming */
    const char *cred = NULL;
    if (rq->who.kind == VG_API_AUTH_SESSION) {
        cred = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "vigie_session");
    } else if (rq->who.kind == VG_API_AUTH_TOKEN) {
        const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
        const char *sp = h ? strchr(h, ' ') : NULL;
        cred = sp ? sp + strspn(sp, " ") : NULL;
    } else if (rq->who.kind == VG_API_AUTH_PASSWORD) {
        cred = rq->who.name;
    }
    vg_api_stream_free(resp->stream);
    resp->stream = vg_api_stream_new(rq->api, &rq->who, cred, rq->route->role, fn, ctx, free_ctx,
                                     &rq->out_bytes);
    return resp->stream ? VG_OK : VG_ENOMEM;
}

/* ---------------------------------------------------------------- request accessors */

static const char *rq_query(struct rq *rq, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = rq->query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n;
        const char *k = pct_decode(rq->arena, p, klen, true);
        if (k && strlen(k) == kl && !memcmp(k, key, kl)) {
            return eq ? pct_decode(rq->arena, eq + 1, n - klen - 1, true) : "";
        }
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

const char *vg_api_query(const struct vg_api_req *req, const char *key)
{
    return rq_query(req->internal, key);
}

const char *vg_api_header(const struct vg_api_req *req, const char *name)
{
    struct rq *rq = req->internal;
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* ---------------------------------------------------------------- routes */

static void route_free(struct vg_api_route *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->nsegs; i++) {
        vg_free(r->segs[i]);
    }
    vg_free(r->segs);
    vg_free(r->pattern);
    vg_free(r);
}

/* Split a pattern into segments; at most one "{name}" segment. */
static int route_parse(struct vg_api_route *r, const char *pattern)
{
    if (pattern[0] != '/' || strpbrk(pattern, "?%# \t\r\n")) {
        return VG_EINVAL;
    }
    size_t cap = 0;
    r->param = -1;
    for (const char *p = pattern + 1;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (vg_grow(&r->segs, &cap, r->nsegs + 1, sizeof(char *)) != VG_OK ||
            !(r->segs[r->nsegs] = vg_strndup(p, n))) {
            return VG_ENOMEM;
        }
        bool brace = memchr(p, '{', n) || memchr(p, '}', n);
        if (brace) {
            if (r->param >= 0 || n < 3 || p[0] != '{' || p[n - 1] != '}') {
                r->nsegs++;
                return VG_EINVAL;
            }
            r->param = (int)r->nsegs;
        }
        r->nsegs++;
        if (r->nsegs > MAX_SEGS) {
            return VG_EINVAL;
        }
        if (!slash) {
            return VG_OK;
        }
        p = slash + 1;
    }
}

int vg_api_route_ex(struct vg_api *api, const char *method, const char *pattern, int role,
                    unsigned flags, vg_api_handler fn, void *ctx)
{
    if (!api || api->started || !method || !method_known(method) || !pattern || !fn ||
        role < VG_API_ROLE_PUBLIC || role > VG_API_ROLE_ADMIN) {
        return VG_EINVAL;
    }
    for (size_t i = 0; i < api->nroutes; i++) {
        if (!strcmp(api->routes[i]->method, method) && !strcmp(api->routes[i]->pattern, pattern)) {
            return VG_EEXIST;
        }
    }
    struct vg_api_route *r = vg_calloc(1, sizeof(*r));
    if (!r) {
        return VG_ENOMEM;
    }
    vg_strlcpy(r->method, method, sizeof(r->method));
    r->role = role;
    r->flags = flags;
    r->fn = fn;
    r->ctx = ctx;
    int rc = (r->pattern = vg_strdup(pattern)) ? route_parse(r, pattern) : VG_ENOMEM;
    if (rc == VG_OK) {
        rc = vg_grow(&api->routes, &api->caproutes, api->nroutes + 1, sizeof(*api->routes));
    }
    if (rc != VG_OK) {
        route_free(r);
        return rc;
    }
    api->routes[api->nroutes++] = r;
    return VG_OK;
}

int vg_api_route(struct vg_api *api, const char *method, const char *pattern, int role,
                 vg_api_handler fn, void *ctx)
{
    return vg_api_route_ex(api, method, pattern, role, 0, fn, ctx);
}

struct seg {
    const char *p;
    size_t n;
};

static bool route_matches(const struct vg_api_route *r, const struct seg *segs, size_t n)
{
    if (r->nsegs != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((int)i == r->param) {
            if (!segs[i].n) {
                return false;
            }
        } else if (strlen(r->segs[i]) != segs[i].n || memcmp(r->segs[i], segs[i].p, segs[i].n)) {
            return false;
        }
    }
    return true;
}

/*
 * Find the route for method and path: exact routes before {param} ones. When the path is
 * known but not with this method, allow receives the methods that are ("" if none).
 */
static const struct vg_api_route *route_find(struct vg_api *api, const char *method,
                                             const char *path, char *allow, size_t allowsz,
                                             size_t *param_seg, struct seg *segs)
{
    size_t n = 0;
    allow[0] = '\0';
    const char *m = !strcmp(method, "HEAD") ? "GET" : method;
    for (const char *p = path + 1;; n++) {
        if (n == MAX_SEGS) {
            return NULL;
        }
        const char *slash = strchr(p, '/');
        segs[n].p = p;
        segs[n].n = slash ? (size_t)(slash - p) : strlen(p);
        if (!slash) {
            n++;
            break;
        }
        p = slash + 1;
    }
    const struct vg_api_route *best = NULL;
    for (size_t i = 0; i < api->nroutes; i++) {
        const struct vg_api_route *r = api->routes[i];
        if (!route_matches(r, segs, n)) {
            continue;
        }
        if (!strcmp(r->method, m)) {
            if (!best || (best->param >= 0 && r->param < 0)) {
                best = r;
            }
        } else if (!strstr(allow, r->method)) {
            size_t l = strlen(allow);
            snprintf(allow + l, allowsz - l, "%s%s%s", l ? ", " : "", r->method,
                     !strcmp(r->method, "GET") ? ", HEAD" : "");
        }
    }
    if (best && best->param >= 0) {
        *param_seg = (size_t)best->param;
    }
    return best;
}

/* ---------------------------------------------------------------- authentication */

static enum MHD_Result deny(struct rq *rq, int status, const char *code, const char *msg,
                            int hec_code, const char *hec_text)
{
    struct vg_api_resp resp = {.status = status};
    if (rq->route && (rq->route->flags & VG_API_RF_HEC)) {
        vg_api_hec_reply(&resp, status, hec_code, hec_text, -1);
    } else {
        vg_api_resp_error(&resp, status, code, "%s", msg);
        if (status == 401) {
            vg_api_resp_header(&resp, "WWW-Authenticate", "Bearer realm=\"vigie\"");
        }
    }
    atomic_fetch_add_explicit(status == 401 ? &rq->api->auth_fail : &rq->api->denied, 1,
                              memory_order_relaxed);
    return queue(rq, &resp);
}

static void peer_ip(const struct rq *rq, char *ip, size_t size)
{
    const char *colon = strrchr(rq->peer, ':');
    size_t n = colon ? (size_t)(colon - rq->peer) : strlen(rq->peer);
    snprintf(ip, size, "%.*s", (int)n, rq->peer);
}

static int auth_token(struct rq *rq, const char *tok, size_t n)
{
    struct vg_api *api = rq->api;
    if ((rq->route->flags & VG_API_RF_METRICS) && api->metrics_token &&
        vg_api_secret_eq(tok, n, api->metrics_token, strlen(api->metrics_token))) {
        rq->who = (struct vg_api_principal){.kind = VG_API_AUTH_TOKEN,
                                            .role = VG_API_ROLE_READ,
                                            .name = "metrics-token",
                                            .tenant = "default"};
        return VG_OK;
    }
    const char *why = "malformed";
    int rc = vg_api_auth_token(api->auth, tok, n, rq->arena, &rq->who, &why);
    if (rc != VG_OK) {
        VG_WARN(VG_API_COMP, "token rejected (%s) from %s for %s %s", why, rq->peer, rq->method,
                rq->route->pattern);
    }
    return rc;
}

static enum MHD_Result auth_basic(struct rq *rq, const char *b64)
{
    size_t bl = strlen(b64), n = 0;
    unsigned char *bin = vg_arena_alloc(rq->arena, bl + 1);
    if (!bin ||
        sodium_base642bin(bin, bl, b64, bl, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        return deny(rq, 401, "invalid_authorization", "malformed Basic credentials", 3,
                    "Invalid authorization");
    }
    bin[n] = '\0';
    char *colon = memchr(bin, ':', n);
    if (!colon || memchr(bin, '\0', n)) {
        return deny(rq, 401, "invalid_authorization", "malformed Basic credentials", 3,
                    "Invalid authorization");
    }
    *colon = '\0';
    const char *pw = colon + 1;
    size_t pwl = n - (size_t)(colon + 1 - (char *)bin);
    if (rq->route->flags & VG_API_RF_HEC) { /* Splunk: any user, the token as password */
        return auth_token(rq, pw, pwl) == VG_OK
                   ? MHD_YES
                   : deny(rq, 403, "invalid_credentials", "", 4, "Invalid token");
    }
    char ip[64];
    int retry = 0;
    peer_ip(rq, ip, sizeof(ip));
    int rc =
        vg_api_auth_password(rq->api->auth, (char *)bin, pw, pwl, ip, rq->arena, &rq->who, &retry);
    if (rc == VG_AGAIN) {
        struct vg_api_resp resp = {0};
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry);
        vg_api_resp_error(&resp, 429, "too_many_requests", "too many failed logins: retry in %d s",
                          retry);
        vg_api_resp_header(&resp, "Retry-After", ra);
        atomic_fetch_add_explicit(&rq->api->limited, 1, memory_order_relaxed);
        return queue(rq, &resp);
    }
    return rc == VG_OK ? MHD_YES
                       : deny(rq, 401, "invalid_credentials", "invalid user or password", 4,
                              "Invalid token");
}

static enum MHD_Result auth_header(struct rq *rq, const char *h)
{
    const char *sp = strchr(h, ' ');
    size_t sl = sp ? (size_t)(sp - h) : strlen(h);
    const char *cred = sp ? sp + strspn(sp, " ") : "";
    if (vg_str_ieq_ascii(h, sl, "Bearer", 6) || vg_str_ieq_ascii(h, sl, "Splunk", 6)) {
        return auth_token(rq, cred, strlen(cred)) == VG_OK
                   ? MHD_YES
                   : deny(rq, rq->route->flags & VG_API_RF_HEC ? 403 : 401, "invalid_credentials",
                          "invalid, expired or revoked token", 4, "Invalid token");
    }
    if (vg_str_ieq_ascii(h, sl, "Basic", 5)) {
        return auth_basic(rq, cred);
    }
    return deny(rq, 401, "invalid_authorization", "unsupported Authorization scheme", 3,
                "Invalid authorization");
}

static enum MHD_Result auth_cookie(struct rq *rq, const char *sid)
{
    char csrf[VG_API_SID_SIZE];
    if (vg_api_session_check(rq->api->auth, sid, rq->arena, &rq->who, csrf) != VG_OK) {
        return deny(rq, 401, "session_expired", "session expired or unknown: log in again", 2,
                    "Token is required");
    }
    rq->cookie_auth = true;
    if (!method_safe(rq->method)) {
        const char *got = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
        if (!got || !vg_api_secret_eq(got, strlen(got), csrf, strlen(csrf))) {
            VG_WARN(VG_API_COMP, "CSRF token missing or wrong: %s %s by %s from %s", rq->method,
                    rq->route->pattern, rq->who.name, rq->peer);
            return deny(rq, 403, "csrf", "missing or wrong X-CSRF-Token", 4, "Invalid token");
        }
    }
    return MHD_YES;
}

/* Authenticate (credentials present or not), authorise role and tenant. */
static enum MHD_Result authorise(struct rq *rq)
{
    const struct vg_api_route *r = rq->route;
    rq->who = (struct vg_api_principal){.name = "", .tenant = ""};
    rq->tenant = "default";
    if (r->role == VG_API_ROLE_PUBLIC) {
        return MHD_YES;
    }
    const char *h = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    const char *sid =
        h ? NULL : MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "vigie_session");
    enum MHD_Result ok = h ? auth_header(rq, h) : sid ? auth_cookie(rq, sid) : MHD_YES;
    if (rq->responded || ok != MHD_YES) {
        return ok;
    }
    if (rq->who.kind == VG_API_AUTH_NONE) {
        return deny(rq, 401, "unauthorized", "authentication required", 2, "Token is required");
    }
    if (rq->who.role < r->role) {
        char msg[96];
        snprintf(msg, sizeof(msg), "role %s required", vg_api_role_name(r->role));
        return deny(rq, 403, "forbidden", msg, 4, "Invalid token");
    }
    rq->tenant = rq->who.tenant;
    const char *want = rq_query(rq, "tenant");
    if (want && strcmp(want, rq->who.tenant) != 0) {
        if (!vg_api_tenant_valid(want)) {
            return queue_error(rq, 400, "bad_request", "invalid tenant name");
        }
        if (rq->who.role != VG_API_ROLE_ADMIN || strcmp(rq->who.tenant, "default") != 0) {
            return deny(rq, 403, "forbidden_tenant", "no access to this tenant", 4,
                        "Invalid token");
        }
        rq->tenant = want;
    }
    return MHD_YES;
}

/* ---------------------------------------------------------------- request life */

static void format_peer(const struct sockaddr *sa, char *buf, size_t size)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        port = ntohs(a->sin_port);
        snprintf(buf, size, "%s:%d", ip, port);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        port = ntohs(a->sin6_port);
        snprintf(buf, size, "[%s]:%d", ip, port);
    } else {
        snprintf(buf, size, "unknown:0");
    }
}

static struct rq *rq_new(struct vg_api *api, const char *uri, struct MHD_Connection *conn)
{
    struct vg_arena *a = vg_arena_create(8192);
    struct rq *rq = a ? vg_arena_calloc(a, sizeof(*rq)) : NULL;
    if (!rq) {
        vg_arena_destroy(a);
        return NULL;
    }
    rq->api = api;
    rq->arena = a;
    rq->conn = conn;
    rq->t0 = vg_clock_ns();
    rq->uri = vg_arena_strdup(a, uri ? uri : "/");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    format_peer(ci ? ci->client_addr : NULL, rq->peer, sizeof(rq->peer));
    atomic_fetch_add_explicit(&api->in_flight, 1, memory_order_relaxed);
    return rq;
}

static void *uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
    return rq_new(cls, uri, conn);
}

/* The path for the log: printable ASCII only, bounded. */
static void log_path(const char *p, char *out, size_t size)
{
    size_t o = 0;
    for (; *p && o + 1 < size; p++) {
        out[o++] = (*p > 0x20 && *p < 0x7f) ? *p : '?';
    }
    out[o] = '\0';
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    struct rq *rq = *con_cls;
    struct vg_api *api = cls;
    if (!rq) {
        return;
    }
    if (VG_LOG_INFO <= vg_log_level_current) {
        char path[256];
        log_path(rq->path ? rq->path : rq->uri, path, sizeof(path));
        double ms = (double)(vg_clock_ns() - rq->t0) / 1e6;
        VG_INFO(VG_API_COMP, "%s %s %d in=%zu out=%zu %.1fms peer=%s who=%s%s%s tenant=%s%s",
                rq->method ? rq->method : "-", path, rq->status, rq->body.len + rq->discarded,
                rq->out_bytes, ms, rq->peer, rq->who.kind ? vg_api_role_name(rq->who.role) : "-",
                rq->who.kind ? ":" : "", rq->who.name ? rq->who.name : "",
                rq->tenant ? rq->tenant : "-",
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    }
    atomic_fetch_sub_explicit(&api->in_flight, 1, memory_order_relaxed);
    vg_sbuf_fini(&rq->body);
    vg_arena_destroy(rq->arena);
    *con_cls = NULL;
}

/* First call, headers complete: route, authenticate, authorise, check the length. */
static enum MHD_Result begin(struct rq *rq, const char *method)
{
    struct vg_api *api = rq->api;
    rq->method = vg_arena_strdup(rq->arena, method);
    const char *q = strchr(rq->uri, '?');
    rq->path = q ? vg_arena_strndup(rq->arena, rq->uri, (size_t)(q - rq->uri)) : rq->uri;
    rq->query = q ? q + 1 : NULL;
    if (!rq->method || !rq->path) {
        return MHD_NO;
    }
    char allow[128];
    size_t pseg = 0;
    struct seg segs[MAX_SEGS];
    if (rq->path[0] == '/') {
        rq->route = route_find(api, method, rq->path, allow, sizeof(allow), &pseg, segs);
    } else {
        allow[0] = '\0';
    }
    if (!rq->route) {
        atomic_fetch_add_explicit(&api->unmatched, 1, memory_order_relaxed);
        if (allow[0]) {
            struct vg_api_resp resp = {0};
            vg_api_resp_error(&resp, 405, "method_not_allowed", "%s is not allowed here", method);
            vg_api_resp_header(&resp, "Allow", allow);
            return queue(rq, &resp);
        }
        return queue_error(rq, 404, "not_found", "no such endpoint");
    }
    if (rq->route->param >= 0 &&
        !(rq->param = pct_decode(rq->arena, segs[pseg].p, segs[pseg].n, false))) {
        return queue_error(rq, 400, "bad_request", "invalid path parameter");
    }
    enum MHD_Result ok = authorise(rq);
    if (rq->responded || ok != MHD_YES) {
        return ok;
    }
    const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Length");
    int64_t n = 0;
    if (cl && vg_parse_i64(cl, strlen(cl), &n) == VG_OK && n > (int64_t)api->max_body) {
        atomic_fetch_add_explicit(&api->too_large, 1, memory_order_relaxed);
        return queue_error(rq, 413, "payload_too_large", "request body exceeds the limit");
    }
    return MHD_YES;
}

static enum MHD_Result body_add(struct rq *rq, const char *p, size_t n)
{
    if (!rq->too_large && rq->body.len + n > rq->api->max_body) {
        rq->too_large = true;
        rq->discarded = rq->body.len;
        vg_sbuf_fini(&rq->body);
    }
    if (rq->too_large) {
        rq->discarded += n;
        /* a client that keeps sending gets its connection closed */
        return rq->discarded > 2 * rq->api->max_body ? MHD_NO : MHD_YES;
    }
    vg_sbuf_add(&rq->body, p, n);
    return rq->body.err ? MHD_NO : MHD_YES;
}

static int status_of(int rc)
{
    switch (rc) {
    case VG_EINVAL:
        return 400;
    case VG_ENOENT:
        return 404;
    case VG_ELIMIT:
        return 413;
    case VG_AGAIN:
    case VG_ENOSPC:
        return 503;
    default:
        return 500;
    }
}

/* Last call: the whole body is here; run the handler. */
static enum MHD_Result finish(struct rq *rq)
{
    if (rq->too_large) {
        atomic_fetch_add_explicit(&rq->api->too_large, 1, memory_order_relaxed);
        return queue_error(rq, 413, "payload_too_large", "request body exceeds the limit");
    }
    struct vg_api_req req = {
        .method = rq->method,
        .path = rq->path,
        .param = rq->param,
        .body = rq->body.p ? rq->body.p : "",
        .body_len = rq->body.len,
        .peer = rq->peer,
        .tenant = rq->tenant,
        .who = rq->who,
        .arena = rq->arena,
        .internal = rq,
    };
    struct vg_api_resp resp = {.status = 200, .content_type = "application/json"};
    int rc = rq->route->fn(rq->route->ctx, &req, &resp);
    if (rc != VG_OK && resp.status < 400) {
        int st = status_of(rc);
        vg_sbuf_fini(&resp.headers);
        vg_api_resp_error(&resp, st,
                          st == 503   ? "unavailable"
                          : st == 500 ? "internal"
                                      : "error",
                          "%s", vg_strerror(rc));
        if (st == 503) {
            vg_api_resp_header(&resp, "Retry-After", "5");
        }
        if (st == 500) {
            VG_ERR(VG_API_COMP, "%s %s: %s", rq->method, rq->route->pattern, vg_strerror(rc));
        }
    }
    return queue(rq, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    struct rq *rq = *con_cls;
    if (!rq && !(rq = *con_cls = rq_new(cls, url, conn))) {
        return MHD_NO;
    }
    if (!rq->started) {
        rq->started = true;
        return begin(rq, method);
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return rq->responded ? MHD_YES : body_add(rq, upload, n);
    }
    return rq->responded ? MHD_YES : finish(rq);
}

/* ---------------------------------------------------------------- the server */

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct vg_api *api = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') {
        msg[--n] = '\0';
    }
    VG_LOG(api->started ? VG_LOG_DEBUG : VG_LOG_WARN, VG_API_COMP, "libmicrohttpd: %s", msg);
}

static int bind_listen(struct vg_api *api, char *err, size_t errsz)
{
    char host[256];
    const char *addr = api->listen, *colon = strrchr(addr, ':');
    struct addrinfo *res = NULL;
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']') {
        addr++;
        hl -= 2;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    if (!colon || hl >= sizeof(host) || !colon[1]) {
        snprintf(err, errsz, "listen address '%s': expected host:port", api->listen);
        return VG_EINVAL;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    if (getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res) != 0 || !res) {
        snprintf(err, errsz, "listen address '%s': cannot resolve", api->listen);
        return VG_EINVAL;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    api->family = res->ai_family;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 511) != 0) {
        snprintf(err, errsz, "listen address '%s': %s", api->listen, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(res);
        return VG_EIO;
    }
    freeaddrinfo(res);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    api->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    api->fd = fd;
    return VG_OK;
}

static int load_tls(struct vg_api *api, const struct vg_api_opts *o, char *err, size_t errsz)
{
    size_t n;
    if (!o->tls_cert && !o->tls_key) {
        return VG_OK;
    }
    if (!o->tls_cert || !o->tls_key || !*o->tls_cert || !*o->tls_key) {
        snprintf(err, errsz, "HTTPS needs both a certificate and a key");
        return VG_EINVAL;
    }
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errsz, "this libmicrohttpd was built without TLS");
        return VG_EUNSUPPORTED;
    }
    if (vg_file_read(o->tls_cert, 1u << 20, &api->tls_cert_pem, &n) != VG_OK) {
        snprintf(err, errsz, "%s: cannot read the TLS certificate", o->tls_cert);
        return VG_EINVAL;
    }
    if (vg_file_read(o->tls_key, 1u << 20, &api->tls_key_pem, &n) != VG_OK) {
        snprintf(err, errsz, "%s: cannot read the TLS key", o->tls_key);
        return VG_EINVAL;
    }
    return VG_OK;
}

static int copy_opts(struct vg_api *api, const struct vg_api_opts *o)
{
    api->listen = vg_strdup(o->listen && *o->listen ? o->listen : DEFAULT_LISTEN);
    api->data_dir = vg_strdup(o->data_dir);
    api->metrics_token = o->metrics_token && *o->metrics_token ? vg_strdup(o->metrics_token) : NULL;
    api->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
    api->threads = o->threads;
    api->max_conns = o->max_conns ? o->max_conns : 1024;
    api->idle_timeout_s = o->idle_timeout_s ? o->idle_timeout_s : 60;
    bool ok = api->listen && api->data_dir &&
              (api->metrics_token || !o->metrics_token || !*o->metrics_token);
    return ok ? VG_OK : VG_ENOMEM;
}

int vg_api_create(const struct vg_api_opts *o, struct vg_api **out, char *err, size_t errsz)
{
    struct vg_api *api = NULL;
    int rc = VG_EINVAL;
    *out = NULL;
    if (!o || !o->data_dir || !*o->data_dir) {
        snprintf(err, errsz, "the API needs a data directory");
        return VG_EINVAL;
    }
    if (sodium_init() < 0 || !(api = vg_calloc(1, sizeof(*api)))) {
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    api->fd = -1;
    pthread_mutex_init(&api->metrics_lock, NULL);
    if ((rc = copy_opts(api, o)) != VG_OK) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    if ((rc = load_tls(api, o, err, errsz)) != VG_OK ||
        (rc = vg_api_auth_open(api->data_dir, &api->auth, err, errsz)) != VG_OK) {
        goto fail;
    }
    vg_api_auth_configure(api->auth, o->login_free, o->session_idle_ms, o->session_max_ms);
    if ((rc = vg_api_metrics_init(api)) != VG_OK || (rc = vg_api_session_routes(api)) != VG_OK) {
        snprintf(err, errsz, "cannot register the built-in routes: %s", vg_strerror(rc));
        goto fail;
    }
    if ((rc = bind_listen(api, err, errsz)) != VG_OK) {
        goto fail;
    }
    *out = api;
    return VG_OK;
fail:
    vg_api_destroy(api);
    return rc;
}

int vg_api_start(struct vg_api *api, char *err, size_t errsz)
{
    if (api->started || api->fd < 0) {
        snprintf(err, errsz, "the API server is already started or stopped");
        return VG_EINVAL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    struct MHD_OptionItem ops[16];
    size_t n = 0;
#define OPT(o, v, p) (ops[n++] = (struct MHD_OptionItem){(o), (intptr_t)(v), (p)})
    OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, api);
    OPT(MHD_OPTION_LISTEN_SOCKET, api->fd, NULL);
    OPT(MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_log, api);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_done, api);
    OPT(MHD_OPTION_CONNECTION_LIMIT, api->max_conns, NULL);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, api->idle_timeout_s, NULL);
    OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, NULL);
    if (api->threads) {
        flags |= MHD_USE_EPOLL;
        OPT(MHD_OPTION_THREAD_POOL_SIZE, api->threads, NULL);
    } else {
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
    }
    if (api->tls_cert_pem) {
        flags |= MHD_USE_TLS;
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, api->tls_cert_pem);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, api->tls_key_pem);
    }
    if (api->family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
    api->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api, MHD_OPTION_ARRAY, ops,
                                MHD_OPTION_END);
    if (!api->mhd) {
        snprintf(err, errsz, "cannot start the HTTP server on %s (see the log)", api->listen);
        return VG_ERROR;
    }
    api->started = true;
    VG_INFO(VG_API_COMP, "listening on %s (port %d, %s, %s)", api->listen, api->port,
            api->tls_cert_pem ? "HTTPS" : "HTTP",
            api->threads ? "thread pool" : "thread per connection");
    return VG_OK;
}

int vg_api_port(const struct vg_api *api)
{
    return api ? api->port : 0;
}

struct vg_api_auth *vg_api_get_auth(struct vg_api *api)
{
    return api->auth;
}

void vg_api_stop(struct vg_api *api)
{
    if (!api) {
        return;
    }
    atomic_store(&api->stopping, true);
    if (api->mhd) {
        MHD_socket fd = MHD_quiesce_daemon(api->mhd);
        MHD_stop_daemon(api->mhd);
        api->mhd = NULL;
        if (fd != MHD_INVALID_SOCKET) {
            close(fd);
        }
        api->fd = -1;
    }
    if (api->fd >= 0) {
        close(api->fd);
        api->fd = -1;
    }
}

int vg_api_on_destroy(struct vg_api *api, void (*fn)(void *p), void *p)
{
    if (vg_grow(&api->cleanups, &api->capcleanups, api->ncleanups + 1, sizeof(*api->cleanups)) !=
        VG_OK) {
        return VG_ENOMEM;
    }
    api->cleanups[api->ncleanups++] = (struct vg_api_cleanup){fn, p};
    return VG_OK;
}

void vg_api_destroy(struct vg_api *api)
{
    if (!api) {
        return;
    }
    vg_api_stop(api);
    for (size_t i = api->ncleanups; i-- > 0;) {
        api->cleanups[i].fn(api->cleanups[i].p);
    }
    vg_free(api->cleanups);
    for (size_t i = 0; i < api->nroutes; i++) {
        route_free(api->routes[i]);
    }
    vg_free(api->routes);
    for (size_t i = 0; i < api->nchecks; i++) {
        vg_free(api->checks[i].name);
    }
    vg_free(api->checks);
    vg_free(api->mcbs);
    vg_api_auth_close(api->auth);
    if (api->tls_key_pem) {
        sodium_memzero(api->tls_key_pem, strlen(api->tls_key_pem));
    }
    vg_free(api->tls_key_pem);
    vg_free(api->tls_cert_pem);
    vg_free(api->listen);
    vg_free(api->data_dir);
    vg_free(api->metrics_token);
    pthread_mutex_destroy(&api->metrics_lock);
    vg_free(api);
}
