/*
 * api_stream.c — streamed responses (server-sent events) of the API framework: a handler calls
 * vg_api_resp_stream() with a producer; api_http.c answers with a libmicrohttpd callback
 * response whose reader (vg_api_stream_read) calls the producer on the connection's thread.
 *
 * A stream outlives the request's authorisation check, so it checks again while it lasts:
 * vg_api_stream_alive() is false once the server stops, and every 5 s it asks the credential
 * store whether the session (without refreshing its idle timer), the token or the user that
 * opened the stream still holds, with a role at least the route's and the same tenant. Logging
 * out, revoking a token or deleting a user thus ends their streams within 5 s.
 *
 * Threads: a stream is used by one connection thread at a time; only free may run elsewhere.
 */
#include "api/api_int.h"

#include <microhttpd.h>
#include <sodium.h>
#include <string.h>

#define RECHECK_NS 5000000000ull /* 5 s */

struct vg_api_stream {
    struct vg_api *api;
    int kind, role;
    char *cred;   /* session id or token; the user name for Basic */
    char *tenant; /* the principal's own tenant when the stream opened */
    vg_api_stream_fn fn;
    void *ctx;
    void (*free_ctx)(void *ctx);
    size_t *out;
    uint64_t checked; /* monotonic ns of the last credential check */
    bool dead;
};

struct vg_api_stream *vg_api_stream_new(struct vg_api *api, const struct vg_api_principal *who,
                                        const char *cred, int role, vg_api_stream_fn fn, void *ctx,
                                        void (*free_ctx)(void *ctx), size_t *out)
{
    struct vg_api_stream *s = vg_calloc(1, sizeof(*s));
    char *c = vg_strdup(cred ? cred : "");
    char *tenant = vg_strdup(who->tenant ? who->tenant : "");
    if (!s || !c || !tenant) {
        vg_free(s);
        vg_free(c);
        vg_free(tenant);
        if (free_ctx) {
            free_ctx(ctx);
        }
        return NULL;
    }
    *s = (struct vg_api_stream){.api = api,
                                .kind = who->kind,
                                .role = role,
                                .cred = c,
                                .tenant = tenant,
                                .fn = fn,
                                .ctx = ctx,
                                .free_ctx = free_ctx,
                                .out = out,
                                .checked = vg_clock_ns()};
    return s;
}

void vg_api_stream_free(void *cls)
{
    struct vg_api_stream *s = cls;
    if (!s) {
        return;
    }
    if (s->free_ctx) {
        s->free_ctx(s->ctx);
    }
    sodium_memzero(s->cred, strlen(s->cred));
    vg_free(s->cred);
    vg_free(s->tenant);
    vg_free(s);
}

/* Do the stream's credentials still hold (and with enough role, in the same tenant)? */
static bool still_valid(struct vg_api_stream *s)
{
    struct vg_api_principal p = {0};
    struct vg_arena *a = vg_arena_create(1024);
    const char *why = NULL;
    uint8_t fp[16];
    int rc = VG_ENOMEM;
    if (s->kind == VG_API_AUTH_NONE) {
        vg_arena_destroy(a);
        return true; /* a public route: nothing to check */
    }
    if (a && s->kind == VG_API_AUTH_SESSION) {
        rc = vg_api_session_peek(s->api->auth, s->cred, a, &p);
    } else if (a && s->kind == VG_API_AUTH_TOKEN) {
        rc = vg_api_auth_token(s->api->auth, s->cred, strlen(s->cred), a, &p, &why);
    } else if (a && s->kind == VG_API_AUTH_PASSWORD) {
        rc = vg_api_auth_user_get(s->api->auth, s->cred, a, &p, fp);
    }
    bool ok = rc == VG_OK && p.role >= s->role && p.tenant && !strcmp(p.tenant, s->tenant);
    vg_arena_destroy(a);
    return ok;
}

bool vg_api_stream_alive(struct vg_api_stream *s)
{
    if (!s || s->dead || vg_api_stopping(s->api)) {
        return false;
    }
    uint64_t now = vg_clock_ns();
    if (now - s->checked >= RECHECK_NS) {
        s->checked = now;
        if (!still_valid(s)) {
            s->dead = true;
            VG_INFO(VG_API_COMP, "stream ended: its credentials no longer hold");
        }
    }
    return !s->dead;
}

ssize_t vg_api_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct vg_api_stream *s = cls;
    VG_UNUSED(pos);
    if (!vg_api_stream_alive(s)) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    size_t n = s->fn(s->ctx, s, buf, max);
    if (n == 0 || n > max) {
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    *s->out += n;
    return (ssize_t)n;
}
