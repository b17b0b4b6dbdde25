/*
 * api_session.c — browser sessions for the web console: POST /api/v1/auth/login checks a
 * user's password and sets the vigie_session cookie (HttpOnly, SameSite=Strict, Secure over
 * HTTPS) and returns a CSRF token that must come back in X-CSRF-Token on every
 * state-changing request made with the cookie; POST /api/v1/auth/logout ends it; GET
 * /api/v1/auth/me says who the caller is.
 *
 * Sessions live in memory (a restart logs everyone out), at most 4096 (the least recently
 * used goes first). The table keeps only a hash of each cookie value. A session expires
 * after 30 minutes idle or 12 hours in all, and ends when its user is deleted or changes
 * password (the session remembers a fingerprint of the password hash and compares it on
 * every request; role and tenant are read afresh each time).
 */
#include "api/api_int.h"

#include <sodium.h>
#include <string.h>

#define MAX_SESSIONS 4096

struct session {
    uint8_t id[32]; /* BLAKE2b of the cookie value */
    char user[72];
    uint8_t fp[16];
    char csrf[VG_API_SID_SIZE];
    uint64_t created, last; /* monotonic ns */
};

struct vg_api_sessions {
    pthread_mutex_t lock;
    struct session *v;
    size_t n;
};

struct vg_api_sessions *vg_api_sessions_create(void)
{
    struct vg_api_sessions *s = vg_calloc(1, sizeof(*s));
    if (s && !(s->v = vg_calloc(MAX_SESSIONS, sizeof(*s->v)))) {
        vg_free(s);
        return NULL;
    }
    if (s) {
        pthread_mutex_init(&s->lock, NULL);
    }
    return s;
}

void vg_api_sessions_destroy(struct vg_api_sessions *s)
{
    if (!s) {
        return;
    }
    sodium_memzero(s->v, MAX_SESSIONS * sizeof(*s->v));
    vg_free(s->v);
    pthread_mutex_destroy(&s->lock);
    vg_free(s);
}

static void random_id(char out[VG_API_SID_SIZE])
{
    uint8_t r[32];
    randombytes_buf(r, sizeof(r));
    sodium_bin2base64(out, VG_API_SID_SIZE, r, sizeof(r), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(r, sizeof(r));
}

static void sid_hash(const char *sid, uint8_t out[32])
{
    crypto_generichash(out, 32, (const uint8_t *)sid, strlen(sid), NULL, 0);
}

static bool expired(const struct session *x, uint64_t now, int64_t idle, int64_t max)
{
    return now - x->last > (uint64_t)idle || now - x->created > (uint64_t)max;
}

static void drop(struct vg_api_sessions *s, size_t i)
{
    s->v[i] = s->v[--s->n];
    sodium_memzero(&s->v[s->n], sizeof(s->v[s->n]));
}

/* A free slot: expired sessions go first, then the least recently used. */
static struct session *slot(struct vg_api_sessions *s, uint64_t now, int64_t idle, int64_t max)
{
    for (size_t i = 0; i < s->n;) {
        if (expired(&s->v[i], now, idle, max)) {
            drop(s, i);
        } else {
            i++;
        }
    }
    if (s->n == MAX_SESSIONS) {
        size_t lru = 0;
        for (size_t i = 1; i < s->n; i++) {
            lru = s->v[i].last < s->v[lru].last ? i : lru;
        }
        drop(s, lru);
    }
    return &s->v[s->n++];
}

int vg_api_session_open(struct vg_api_auth *a, const char *user, char sid[VG_API_SID_SIZE],
                        char csrf[VG_API_SID_SIZE])
{
    struct vg_api_sessions *s = vg_api_auth_sessions(a);
    struct vg_api_principal p;
    struct vg_arena *ar = vg_arena_create(512);
    uint8_t fp[16];
    int64_t idle, max;
    int rc = ar ? vg_api_auth_user_get(a, user, ar, &p, fp) : VG_ENOMEM;
    vg_arena_destroy(ar);
    if (rc != VG_OK) {
        return rc;
    }
    vg_api_auth_lifetimes(a, &idle, &max);
    random_id(sid);
    random_id(csrf);
    uint64_t now = vg_clock_ns();
    pthread_mutex_lock(&s->lock);
    struct session *x = slot(s, now, idle, max);
    sid_hash(sid, x->id);
    vg_strlcpy(x->user, user, sizeof(x->user));
    memcpy(x->fp, fp, sizeof(fp));
    memcpy(x->csrf, csrf, VG_API_SID_SIZE);
    x->created = x->last = now;
    pthread_mutex_unlock(&s->lock);
    return VG_OK;
}

static struct session *find(struct vg_api_sessions *s, const uint8_t id[32], size_t *at)
{
    for (size_t i = 0; i < s->n; i++) {
        if (sodium_memcmp(s->v[i].id, id, 32) == 0) {
            *at = i;
            return &s->v[i];
        }
    }
    return NULL;
}

/* Remove the session with this id (if still there). */
static void forget(struct vg_api_sessions *s, const uint8_t id[32])
{
    size_t at;
    pthread_mutex_lock(&s->lock);
    if (find(s, id, &at)) {
        drop(s, at);
    }
    pthread_mutex_unlock(&s->lock);
}

/* vg_api_session_check and vg_api_session_peek: touch says whether to refresh the idle timer. */
static int session_check(struct vg_api_auth *a, const char *sid, struct vg_arena *arena,
                         struct vg_api_principal *p, char csrf[VG_API_SID_SIZE], bool touch)
{
    struct vg_api_sessions *s = vg_api_auth_sessions(a);
    uint8_t id[32], fp[16], now_fp[16];
    char user[72];
    int64_t idle, max;
    size_t at;
    if (strlen(sid) != VG_API_SID_SIZE - 1) {
        return VG_ENOENT;
    }
    vg_api_auth_lifetimes(a, &idle, &max);
    sid_hash(sid, id);
    uint64_t now = vg_clock_ns();
    pthread_mutex_lock(&s->lock);
    struct session *x = find(s, id, &at);
    bool live = x && !expired(x, now, idle, max);
    if (x && !live) {
        drop(s, at);
    } else if (live) {
        memcpy(user, x->user, sizeof(user));
        memcpy(fp, x->fp, sizeof(fp));
        memcpy(csrf, x->csrf, VG_API_SID_SIZE);
    }
    pthread_mutex_unlock(&s->lock);
    if (!live) {
        return VG_ENOENT;
    }
    /* the user may have been deleted or changed password since: ask auth.db */
    if (vg_api_auth_user_get(a, user, arena, p, now_fp) != VG_OK ||
        sodium_memcmp(fp, now_fp, sizeof(fp)) != 0) {
        forget(s, id);
        return VG_ENOENT;
    }
    p->kind = VG_API_AUTH_SESSION;
    pthread_mutex_lock(&s->lock);
    if ((x = find(s, id, &at)) && touch) {
        x->last = now;
    }
    pthread_mutex_unlock(&s->lock);
    return VG_OK;
}

int vg_api_session_check(struct vg_api_auth *a, const char *sid, struct vg_arena *arena,
                         struct vg_api_principal *p, char csrf[VG_API_SID_SIZE])
{
    return session_check(a, sid, arena, p, csrf, true);
}

int vg_api_session_peek(struct vg_api_auth *a, const char *sid, struct vg_arena *arena,
                        struct vg_api_principal *p)
{
    char csrf[VG_API_SID_SIZE];
    int rc = session_check(a, sid, arena, p, csrf, false);
    sodium_memzero(csrf, sizeof(csrf));
    return rc;
}

void vg_api_session_close(struct vg_api_auth *a, const char *sid)
{
    uint8_t id[32];
    sid_hash(sid, id);
    forget(vg_api_auth_sessions(a), id);
}

static size_t session_count(struct vg_api_auth *a)
{
    struct vg_api_sessions *s = vg_api_auth_sessions(a);
    pthread_mutex_lock(&s->lock);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---------------------------------------------------------------- endpoints */

/* The value of cookie name in the Cookie header (arena copy), or NULL. */
static const char *cookie_get(const struct vg_api_req *req, const char *name)
{
    const char *h = vg_api_header(req, "Cookie");
    size_t nl = strlen(name);
    for (const char *p = h; p && *p;) {
        p += strspn(p, " \t");
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > nl && !memcmp(p, name, nl) && p[nl] == '=') {
            return vg_arena_strndup(req->arena, p + nl + 1, n - nl - 1);
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

/* A JSON string member as a NUL-free C string in the arena; NULL if absent or not. */
static const char *json_str(const struct vg_json *doc, const char *key, struct vg_arena *ar,
                            size_t *len)
{
    const struct vg_json *v = vg_json_get(doc, key);
    if (!v || v->type != VG_JSON_STRING || memchr(v->s, '\0', v->n)) {
        return NULL;
    }
    *len = v->n;
    return vg_arena_strndup(ar, v->s, v->n);
}

static void peer_ip(const char *peer, char *ip, size_t size)
{
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    snprintf(ip, size, "%.*s", (int)n, peer);
}

static int login_reply(struct vg_api *api, const struct vg_api_req *req, struct vg_api_resp *resp,
                       const struct vg_api_principal *p)
{
    char sid[VG_API_SID_SIZE], csrf[VG_API_SID_SIZE], cookie[192];
    int64_t idle, max;
    int rc = vg_api_session_open(api->auth, p->name, sid, csrf);
    if (rc != VG_OK) {
        return rc;
    }
    vg_api_auth_lifetimes(api->auth, &idle, &max);
    snprintf(cookie, sizeof(cookie),
             "vigie_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", sid,
             (long long)(max / 1000000000), api->tls_cert_pem ? "; Secure" : "");
    vg_api_resp_header(resp, "Set-Cookie", cookie);
    struct vg_sbuf *b = &resp->body;
    vg_sbuf_adds(b, "{\"user\":");
    vg_sbuf_add_json_str(b, p->name, strlen(p->name));
    vg_sbuf_printf(b, ",\"role\":\"%s\",\"tenant\":", vg_api_role_name(p->role));
    vg_sbuf_add_json_str(b, p->tenant, strlen(p->tenant));
    vg_sbuf_printf(b, ",\"csrf_token\":\"%s\",\"idle_timeout_s\":%lld,\"expires_in_s\":%lld}", csrf,
                   (long long)(idle / 1000000000), (long long)(max / 1000000000));
    sodium_memzero(sid, sizeof(sid));
    VG_INFO(VG_API_COMP, "session opened for '%s' from %s", p->name, req->peer);
    return VG_OK;
}

static int on_login(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_api *api = ctx;
    const char *ct = vg_api_header(req, "Content-Type");
    struct vg_json_parser *jp = NULL;
    struct vg_json *doc = NULL;
    size_t used, ul = 0, pl = 0;
    char err[128], ip[64];
    /* a JSON content type forces a CORS preflight: no login CSRF from other sites */
    if (!ct || !strstr(ct, "application/json")) {
        vg_api_resp_error(resp, 415, "unsupported_media_type",
                          "send {\"user\":..,\"password\":..} as application/json");
        return VG_OK;
    }
    if (!(jp = vg_json_parser_create(NULL))) {
        return VG_ENOMEM;
    }
    int rc = vg_json_parse(jp, req->arena, req->body, req->body_len, &used, &doc, err, sizeof(err));
    vg_json_parser_destroy(jp);
    const char *user = rc == VG_OK ? json_str(doc, "user", req->arena, &ul) : NULL;
    const char *pw = rc == VG_OK ? json_str(doc, "password", req->arena, &pl) : NULL;
    if (!user || !pw) {
        vg_api_resp_error(resp, 400, "bad_request", "expected {\"user\":..,\"password\":..}");
        return VG_OK;
    }
    struct vg_api_principal p;
    int retry = 0;
    peer_ip(req->peer, ip, sizeof(ip));
    rc = vg_api_auth_password(api->auth, user, pw, pl, ip, req->arena, &p, &retry);
    sodium_memzero((char *)pw, pl);
    if (rc == VG_AGAIN) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%d", retry);
        vg_api_resp_error(resp, 429, "too_many_requests", "too many failed logins: retry in %d s",
                          retry);
        vg_api_resp_header(resp, "Retry-After", ra);
        atomic_fetch_add_explicit(&api->limited, 1, memory_order_relaxed);
        return VG_OK;
    }
    if (rc != VG_OK) {
        atomic_fetch_add_explicit(&api->auth_fail, 1, memory_order_relaxed);
        vg_api_resp_error(resp, 401, "invalid_credentials", "invalid user or password");
        return VG_OK;
    }
    return login_reply(api, req, resp, &p);
}

static int on_logout(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_api *api = ctx;
    const char *sid = cookie_get(req, "vigie_session");
    if (req->who.kind == VG_API_AUTH_SESSION && sid) {
        vg_api_session_close(api->auth, sid);
        VG_INFO(VG_API_COMP, "session closed for '%s'", req->who.name);
    }
    vg_api_resp_header(resp, "Set-Cookie",
                       "vigie_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    vg_sbuf_adds(&resp->body, "{\"status\":\"logged out\"}");
    return VG_OK;
}

static int on_me(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    static const char *const kinds[] = {"none", "token", "password", "session"};
    struct vg_sbuf *b = &resp->body;
    VG_UNUSED(ctx);
    vg_sbuf_adds(b, "{\"name\":");
    vg_sbuf_add_json_str(b, req->who.name, strlen(req->who.name));
    vg_sbuf_printf(b, ",\"role\":\"%s\",\"tenant\":", vg_api_role_name(req->who.role));
    vg_sbuf_add_json_str(b, req->who.tenant, strlen(req->who.tenant));
    vg_sbuf_adds(b, ",\"effective_tenant\":");
    vg_sbuf_add_json_str(b, req->tenant, strlen(req->tenant));
    vg_sbuf_printf(b, ",\"auth\":\"%s\"}", kinds[req->who.kind & 3]);
    return VG_OK;
}

static void session_metrics(void *ctx, struct vg_api_metrics *w)
{
    struct vg_api *api = ctx;
    struct vg_api_auth_stats st;
    vg_api_auth_get_stats(api->auth, &st);
    const char *ok[] = {"result", "ok", NULL}, *bad[] = {"result", "failed", NULL},
               *locked[] = {"result", "locked", NULL};
    vg_api_metrics_family(w, "vigie_api_logins_total", "counter",
                          "password checks (Basic and login) by result");
    vg_api_metrics_value(w, "vigie_api_logins_total", ok, (double)st.logins_ok);
    vg_api_metrics_value(w, "vigie_api_logins_total", bad, (double)st.logins_failed);
    vg_api_metrics_value(w, "vigie_api_logins_total", locked, (double)st.logins_locked);
    vg_api_metrics_family(w, "vigie_api_token_checks_total", "counter", "API token checks");
    vg_api_metrics_value(w, "vigie_api_token_checks_total", ok, (double)st.token_ok);
    vg_api_metrics_value(w, "vigie_api_token_checks_total", bad, (double)st.token_failed);
    vg_api_metrics_family(w, "vigie_api_sessions", "gauge", "open console sessions");
    vg_api_metrics_value(w, "vigie_api_sessions", NULL, (double)session_count(api->auth));
}

int vg_api_session_routes(struct vg_api *api)
{
    int rc = vg_api_route(api, "POST", "/api/v1/auth/login", VG_API_ROLE_PUBLIC, on_login, api);
    if (rc == VG_OK) {
        rc = vg_api_route(api, "POST", "/api/v1/auth/logout", VG_API_ROLE_INGEST, on_logout, api);
    }
    if (rc == VG_OK) {
        rc = vg_api_route(api, "GET", "/api/v1/auth/me", VG_API_ROLE_INGEST, on_me, api);
    }
    if (rc == VG_OK) {
        rc = vg_api_metrics_add(api, session_metrics, api);
    }
    return rc;
}
