/*
 * api_int.h — internals shared by the files of src/api: the server object and its route
 * table (api_http.c), the authentication calls the request path makes (api_auth.c,
 * api_session.c), the metrics writer (api_metrics.c) and the ingest body parsers
 * (api_ingest.c, also driven by tests/fuzz/fuzz_ingest_body.c).
 */
#ifndef VG_API_INT_H
#define VG_API_INT_H

#include "api/api.h"
#include "event/event.h"

#include <pthread.h>
#include <stdatomic.h>

#define VG_API_COMP "api"

/* ---------------------------------------------------------------- routes */

enum {
    VG_API_RF_HEC = 1,     /* authentication errors in Splunk HEC's format; Basic = token */
    VG_API_RF_METRICS = 2, /* the configured metrics token is accepted */
};

struct vg_api_route {
    char method[8];
    char *pattern;
    char **segs; /* pattern split at '/', without the leading empty one */
    size_t nsegs;
    int param; /* index of the {param} segment, -1 if none */
    int role;
    unsigned flags;
    vg_api_handler fn;
    void *ctx;
    atomic_uint_fast64_t by_class[5]; /* responses 1xx..5xx */
};

/* vg_api_route with flags (VG_API_RF_*). */
int vg_api_route_ex(struct vg_api *api, const char *method, const char *pattern, int role,
                    unsigned flags, vg_api_handler fn, void *ctx);

struct vg_api_check {
    char *name;
    vg_api_health_fn fn;
    void *ctx;
};

struct vg_api_mcb {
    vg_api_metrics_fn fn;
    void *ctx;
};

struct vg_api_cleanup {
    void (*fn)(void *p);
    void *p;
};

struct vg_api {
    char *listen, *data_dir, *metrics_token;
    char *tls_cert_pem, *tls_key_pem;
    size_t max_body;
    unsigned threads, max_conns, idle_timeout_s;
    int fd, port, family;
    struct MHD_Daemon *mhd;
    bool started;
    atomic_bool stopping;
    struct vg_api_route **routes;
    size_t nroutes, caproutes;
    struct vg_api_check *checks;
    size_t nchecks, capchecks;
    struct vg_api_mcb *mcbs;
    size_t nmcbs, capmcbs;
    pthread_mutex_t metrics_lock; /* one scrape at a time */
    struct vg_api_cleanup *cleanups;
    size_t ncleanups, capcleanups;
    struct vg_api_auth *auth;
    /* counters for /metrics */
    atomic_uint_fast64_t unmatched; /* 404 and 405 */
    atomic_uint_fast64_t auth_fail; /* 401 */
    atomic_uint_fast64_t denied;    /* 403: role, tenant, CSRF */
    atomic_uint_fast64_t limited;   /* 429 */
    atomic_uint_fast64_t too_large; /* 413 by the framework */
    atomic_uint_fast64_t in_flight;
};

/* Free p with fn when api is destroyed (after the server stopped). */
int vg_api_on_destroy(struct vg_api *api, void (*fn)(void *p), void *p);
/* True once vg_api_stop began: long waits in handlers give up. */
static inline bool vg_api_stopping(struct vg_api *api)
{
    return atomic_load_explicit(&api->stopping, memory_order_relaxed);
}

/* Splunk HEC's error body {"text":TEXT,"code":CODE[,"invalid-event-number":N]} (N >= 0). */
void vg_api_hec_reply(struct vg_api_resp *resp, int status, int code, const char *text,
                      long invalid_event);

/* Register the built-in /healthz and /metrics routes and the framework's metrics. */
int vg_api_metrics_init(struct vg_api *api);
/* Register /api/v1/auth/login, logout and me. */
int vg_api_session_routes(struct vg_api *api);

/* ---------------------------------------------------------------- authentication */

/* Whether a name or tenant is acceptable (see api.h). */
bool vg_api_tenant_valid(const char *s);

/*
 * Check an API token. The principal's strings go to arena. Returns VG_OK, VG_EINVAL (not
 * shaped like a token), VG_ENOENT (unknown, revoked or expired: *why says which).
 */
int vg_api_auth_token(struct vg_api_auth *a, const char *tok, size_t n, struct vg_arena *arena,
                      struct vg_api_principal *p, const char **why);
/*
 * Check a user's password (argon2id; a verified password is remembered for a few minutes,
 * keyed by a keyed hash of the credentials, so Basic auth is not slow on every request).
 * Failures count per user and per client address (ip, without port) and past the free
 * attempts each one doubles a lock-out. Returns VG_OK, VG_ENOENT (bad credentials) or
 * VG_AGAIN (locked out: *retry_s seconds left).
 */
int vg_api_auth_password(struct vg_api_auth *a, const char *user, const char *pw, size_t pwlen,
                         const char *ip, struct vg_arena *arena, struct vg_api_principal *p,
                         int *retry_s);
/*
 * The current role and tenant of a user, with a fingerprint of its password hash (which
 * changes with the password). VG_ENOENT if the user is gone.
 */
int vg_api_auth_user_get(struct vg_api_auth *a, const char *name, struct vg_arena *arena,
                         struct vg_api_principal *p, uint8_t fp[16]);
/* Tune the login limits and session lifetimes (the server's options). */
void vg_api_auth_configure(struct vg_api_auth *a, unsigned login_free, int64_t idle_ms,
                           int64_t max_ms);

struct vg_api_auth_stats {
    uint64_t logins_ok, logins_failed, logins_locked;
    uint64_t token_ok, token_failed;
    uint64_t sessions; /* open now */
};
void vg_api_auth_get_stats(struct vg_api_auth *a, struct vg_api_auth_stats *out);

/* Sessions (api_session.c): in memory, lost on restart. Ids and CSRF tokens are base64url. */
#define VG_API_SID_SIZE 44 /* 43 characters + NUL */
/* Open a session for an authenticated user; sid and csrf receive its cookie and CSRF token. */
int vg_api_session_open(struct vg_api_auth *a, const char *user, char sid[VG_API_SID_SIZE],
                        char csrf[VG_API_SID_SIZE]);
/*
 * Find a live session and refresh its idle timer. The principal reflects the user's current
 * role and tenant; a deleted user or a changed password ends the session. csrf receives
 * the session's CSRF token. Returns VG_OK or VG_ENOENT.
 */
int vg_api_session_check(struct vg_api_auth *a, const char *sid, struct vg_arena *arena,
                         struct vg_api_principal *p, char csrf[VG_API_SID_SIZE]);
/* The same check without refreshing the idle timer (a stream is not user activity). */
int vg_api_session_peek(struct vg_api_auth *a, const char *sid, struct vg_arena *arena,
                        struct vg_api_principal *p);
void vg_api_session_close(struct vg_api_auth *a, const char *sid);
/* Session state lives in the auth object; these are called by api_auth.c. */
struct vg_api_sessions;
struct vg_api_sessions *vg_api_sessions_create(void);
void vg_api_sessions_destroy(struct vg_api_sessions *s);
struct vg_api_sessions *vg_api_auth_sessions(struct vg_api_auth *a);
void vg_api_auth_lifetimes(struct vg_api_auth *a, int64_t *idle_ns, int64_t *max_ns);

/* Constant-time comparison of two strings (length leaks, content does not). */
bool vg_api_secret_eq(const char *a, size_t an, const char *b, size_t bn);

/* ---------------------------------------------------------------- streamed responses */

/*
 * api_stream.c: the state of a streamed response (vg_api_resp_stream). new copies the
 * credential that authenticated the request (session id, token; the user name for Basic) to
 * check it again while the stream lasts; role is the route's. read and free are libmicrohttpd's
 * content reader and its free callback; out counts the bytes sent (the request's, valid while
 * the reader runs). new calls free_ctx(ctx) when it fails (NULL).
 */
struct vg_api_stream *vg_api_stream_new(struct vg_api *api, const struct vg_api_principal *who,
                                        const char *cred, int role, vg_api_stream_fn fn, void *ctx,
                                        void (*free_ctx)(void *ctx), size_t *out);
ssize_t vg_api_stream_read(void *cls, uint64_t pos, char *buf, size_t max);
void vg_api_stream_free(void *cls);

/* ---------------------------------------------------------------- ingest body parsers */

/* One document of an ingest body. */
struct vg_api_doc {
    const char *p; /* the record: into the body (ingest) or the built buffer (HEC) */
    uint32_t len;
    const char *id; /* event.id (unescaped, in the keep arena) or NULL */
    uint32_t id_len;
    size_t off; /* HEC: offset of the record in built (p is set at the end) */
};

/* HEC metadata defaults (query string: ?host=&source=&sourcetype=&index=). */
struct vg_api_hec_meta {
    const char *host, *source, *sourcetype, *index;
};

struct vg_api_parse {
    size_t max_docs;
    struct vg_json_parser *jp;
    struct vg_arena *scratch; /* one document's DOM, reset for each */
    struct vg_arena *keep;    /* ids */
    struct vg_api_doc *docs;
    size_t ndocs, cap;
    struct vg_sbuf built; /* HEC: the records built */
    /* on error */
    int hec_code;      /* Splunk's code: 5 no data, 6 invalid format, 12, 13, 15 */
    size_t bad_index;  /* 0-based document number */
    size_t line, col;  /* 1-based position of the error */
    size_t start_line; /* line where the bad document starts */
    char msg[192];
};

int vg_api_parse_init(struct vg_api_parse *ps, size_t max_docs);
void vg_api_parse_fini(struct vg_api_parse *ps);
/*
 * Split a POST /api/v1/ingest body into documents: text → one per non-blank line (CR/LF
 * trimmed); JSON → either one array of objects or a stream of objects (NDJSON, also
 * concatenated or pretty-printed), each valid UTF-8 JSON. Returns VG_OK, VG_EOF (no
 * document), VG_EINVAL (ps->msg, line, col, start_line, bad_index), VG_ELIMIT (more than
 * max_docs), VG_ENOMEM.
 */
int vg_api_parse_ingest(struct vg_api_parse *ps, const char *body, size_t len, bool text);
/*
 * Parse a HEC body (raw: lines) and build one JSON record per event into ps->built:
 * {["@timestamp":..,]<event members> | "message":<event>, "hec":{time,host,source,
 * sourcetype,index,fields}}. Returns as vg_api_parse_ingest, with ps->hec_code set.
 */
int vg_api_parse_hec(struct vg_api_parse *ps, const char *body, size_t len, bool raw,
                     const struct vg_api_hec_meta *defaults);

#endif /* VG_API_INT_H */
