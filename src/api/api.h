/*
 * api.h — the HTTP API of `vigie server`: a small routing framework over libmicrohttpd,
 * authentication (users with argon2id passwords, API tokens, browser sessions with CSRF
 * tokens), authorisation (one role per principal, per tenant), the ingest endpoints (JSON
 * lines, Splunk HEC) and the /healthz and /metrics endpoints.
 *
 * Where it sits: the server creates one struct vg_api, registers its own endpoints (search,
 * alerts, rules) with vg_api_route and the ingest endpoints with vg_api_ingest_register
 * (they append to the journal of src/ingest), then starts it. Every request is routed and
 * authenticated before its body is read, and authorised before its handler runs: deny by
 * default — only GET /healthz, POST /api/v1/auth/login and GET /services/collector/health
 * answer without credentials (and the web console's static files, which the server registers
 * as public routes: src/server/server_web.c). See docs/api.md.
 *
 * Threads: by default each connection has its own thread, so handlers run concurrently on
 * many threads and may block (fsync, a search, back-pressure) without stalling other
 * clients. A handler and its ctx must therefore be thread-safe.
 *
 * Credentials live in DATA/auth.db (SQLite, WAL) keyed with DATA/auth.key (a per-install
 * secret, mode 0600); the `vigie user` and `vigie token` commands edit the same file while
 * the server runs, and the server sees their changes at once (revocations included).
 */
#ifndef VG_API_H
#define VG_API_H

#include "core/core.h"

struct vg_journal;

/* ---------------------------------------------------------------- roles and principals */

/*
 * Roles are ordered: a principal may call a route when its role is at least the route's.
 * An admin of tenant "default" may act on any tenant with ?tenant=NAME; everyone else is
 * confined to their own tenant (a ?tenant= naming another one is answered 403).
 */
enum vg_api_role {
    VG_API_ROLE_PUBLIC = 0,  /* routes only: no credentials needed */
    VG_API_ROLE_INGEST = 1,  /* may only send data (collector tokens) */
    VG_API_ROLE_READ = 2,    /* search, read alerts, metrics */
    VG_API_ROLE_ANALYST = 3, /* + triage: change alerts and cases, run playbooks */
    VG_API_ROLE_ADMIN = 4,   /* + rules, configuration */
};
/* "ingest", "read", "analyst", "admin" ("public" for 0); never NULL. */
const char *vg_api_role_name(int role);
/* Parse a role name (not "public"). Returns VG_OK or VG_EINVAL. */
int vg_api_role_parse(const char *name, int *role);

/* How a request was authenticated. */
enum vg_api_auth_kind {
    VG_API_AUTH_NONE = 0, /* public route, no credentials */
    VG_API_AUTH_TOKEN,    /* Authorization: Bearer|Splunk vg_... */
    VG_API_AUTH_PASSWORD, /* Authorization: Basic user:password */
    VG_API_AUTH_SESSION,  /* vigie_session cookie (+ X-CSRF-Token on changes) */
};

struct vg_api_principal {
    int kind;           /* enum vg_api_auth_kind */
    int role;           /* enum vg_api_role (PUBLIC when kind is NONE) */
    const char *name;   /* user or token name; "" when kind is NONE */
    const char *tenant; /* the principal's own tenant; "" when kind is NONE */
};

/* ---------------------------------------------------------------- requests and responses */

/* A request as a handler sees it. Every pointer is valid until the handler returns. */
struct vg_api_req {
    const char *method; /* "GET", "POST", ... (HEAD is routed to GET handlers) */
    const char *path;   /* path as received (still percent-encoded), without the query */
    const char *param;  /* the route's {param} segment, percent-decoded; NULL if none */
    const char *body;   /* request body, NUL-terminated ("" when empty) */
    size_t body_len;
    const char *peer;   /* client "IP:PORT" ("[v6]:PORT") */
    const char *tenant; /* effective tenant: the principal's, or ?tenant= for an admin of
                           "default"; "default" on public routes */
    struct vg_api_principal who;
    struct vg_arena *arena; /* per-request arena, freed after the response is sent */
    void *internal;         /* the framework's connection state: do not touch */
};

/*
 * The first value of query-string parameter key, percent-decoded ('+' is a space), copied
 * into req->arena; "" for "?key" without '='; NULL when absent (or out of memory).
 */
const char *vg_api_query(const struct vg_api_req *req, const char *key);
/* A request header (name case-insensitive), borrowed until the handler returns; NULL if absent. */
const char *vg_api_header(const struct vg_api_req *req, const char *name);

/*
 * What a handler fills. status defaults to 200, content_type to "application/json" (set it
 * to a static string or one in req->arena). The framework frees body and headers, and adds
 * X-Content-Type-Options: nosniff, Cache-Control: no-store, X-Frame-Options: DENY,
 * Referrer-Policy: no-referrer and Content-Security-Policy: VG_API_CSP unless the handler
 * set a header of that name.
 */
/*
 * The default Content-Security-Policy of every response: the web console's pages load only
 * their own scripts, styles and images (no inline script or style, no eval), talk only to
 * this server, and cannot be framed; an API answer opened in a browser runs nothing.
 */
#define VG_API_CSP                                                                                 \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "                   \
    "frame-ancestors 'none'"
struct vg_api_stream;
struct vg_api_resp {
    int status;
    const char *content_type;
    struct vg_sbuf body;
    struct vg_sbuf headers;       /* use vg_api_resp_header */
    struct vg_api_stream *stream; /* set by vg_api_resp_stream */
};
/* Add a response header (may repeat, e.g. Set-Cookie). VG_EINVAL if name or value hold CR/LF. */
int vg_api_resp_header(struct vg_api_resp *resp, const char *name, const char *value);
/*
 * Replace the response with the API's JSON error {"error":{"code":CODE,"message":MSG}}
 * (status e.g. 400, code a stable machine-readable word such as "bad_request").
 */
struct vg_json;
/*
 * The request body as a JSON object, parsed into req->arena: VG_OK, or a 400 "the body must be
 * a JSON object[: where]" in resp and VG_EINVAL (VG_ENOMEM on allocation failure).
 */
int vg_api_body_object(const struct vg_api_req *req, const struct vg_json **out,
                       struct vg_api_resp *resp);
/*
 * A string member of o copied (NUL-terminated) into req->arena; *out NULL when absent or null;
 * a 400 "KEY: expected a string" in resp and VG_EINVAL when it is something else.
 */
int vg_api_member_str(const struct vg_api_req *req, const struct vg_json *o, const char *key,
                      const char **out, struct vg_api_resp *resp);
void vg_api_resp_error(struct vg_api_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * A streamed response (server-sent events): after the handler returns, the status and headers
 * go out at once, then the bytes fn produces for as long as it produces them. fn runs on the
 * connection's thread, called again each time its previous bytes were sent: it writes at most
 * size bytes to buf and returns how many (> 0), or 0 to end the stream. It may wait for
 * something to send, but must look at vg_api_stream_alive(s) at least every second while it
 * waits and return 0 once it is false. free_ctx(ctx) (may be NULL) runs when the response is
 * done, on any thread. Only 2xx responses stream (an error status sends the body instead).
 * Returns VG_OK, VG_EUNSUPPORTED when the server runs a thread pool (a waiting fn would stall
 * the other connections of its thread: streams need a thread per connection, the default),
 * VG_ENOMEM. On failure free_ctx(ctx) has been called.
 */
typedef size_t (*vg_api_stream_fn)(void *ctx, struct vg_api_stream *s, char *buf, size_t size);
int vg_api_resp_stream(const struct vg_api_req *req, struct vg_api_resp *resp, vg_api_stream_fn fn,
                       void *ctx, void (*free_ctx)(void *ctx));
/*
 * False once the server is stopping, or the credentials that opened the stream no longer
 * hold: the session was closed or expired, the token revoked, the user deleted or given a
 * role below the route's (checked at most every 5 s; sessions count the stream as activity).
 */
bool vg_api_stream_alive(struct vg_api_stream *s);

/*
 * A route handler, called only for authorised requests, once per request, after the whole
 * body was received; possibly on several threads at once. Return VG_OK once resp is
 * filled, or a negative status: unless the handler already set an error status (>= 400),
 * the framework then answers with a JSON error — VG_EINVAL 400, VG_ENOENT 404, VG_ELIMIT
 * 413, VG_AGAIN and VG_ENOSPC 503 (with Retry-After), anything else 500.
 */
typedef int (*vg_api_handler)(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp);

/* ---------------------------------------------------------------- the server */

struct vg_api_opts {
    const char *listen;        /* "host:port" or "[v6]:port"; NULL: "127.0.0.1:8470";
                                  port 0 picks a free one (vg_api_port) */
    const char *data_dir;      /* required: auth.db and auth.key live here */
    const char *tls_cert;      /* PEM certificate chain file: with tls_key, HTTPS only */
    const char *tls_key;       /* PEM private key file */
    size_t max_body;           /* request body limit, larger → 413 (0: 16 MiB) */
    unsigned threads;          /* 0: a thread per connection; N: a pool of N epoll threads */
    unsigned max_conns;        /* concurrent connections (0: 1024) */
    unsigned idle_timeout_s;   /* idle keep-alive connections are closed after (0: 60) */
    const char *metrics_token; /* a bearer token accepted by GET /metrics only (secret) */
    int64_t session_idle_ms;   /* session idle expiry (0: 30 min) */
    int64_t session_max_ms;    /* session absolute expiry (0: 12 h) */
    unsigned login_free;       /* failed logins per user before delays start (0: 5); per
                                  client address four times as many */
};

struct vg_api;

/*
 * Open DATA/auth.db (creating it and DATA/auth.key if needed), read the TLS files, and bind
 * the listening socket (so vg_api_port works before start). Registers the built-in routes:
 * /healthz, /metrics, /api/v1/auth/{login,logout,me}. err names the address or file.
 * Returns VG_OK, VG_EINVAL (bad address, TLS files, options), VG_EIO (bind, auth.db),
 * VG_EUNSUPPORTED (TLS requested but libmicrohttpd lacks it), VG_ENOMEM.
 */
int vg_api_create(const struct vg_api_opts *o, struct vg_api **out, char *err, size_t errsz);
/*
 * Register a route before vg_api_start (not thread-safe). method: "GET", "POST", "PUT",
 * "PATCH", "DELETE". pattern: an exact path, in which at most one whole segment may be
 * "{name}" — it matches any one non-empty segment, passed percent-decoded in req->param
 * (exact routes win over patterns). role: the least role allowed (VG_API_ROLE_PUBLIC: no
 * credentials). ctx is passed to fn. Returns VG_OK, VG_EINVAL (bad pattern or role, or the
 * server started), VG_EEXIST (same method and pattern), VG_ENOMEM.
 */
int vg_api_route(struct vg_api *api, const char *method, const char *pattern, int role,
                 vg_api_handler fn, void *ctx);
/* Start serving (threads of libmicrohttpd). Returns VG_OK or VG_ERROR (err says why). */
int vg_api_start(struct vg_api *api, char *err, size_t errsz);
/* The port the server is bound to. */
int vg_api_port(const struct vg_api *api);
/*
 * Stop accepting, wake handlers waiting on back-pressure (they answer 503) and wait for
 * every request in flight to finish. Idempotent.
 */
void vg_api_stop(struct vg_api *api);
/* Stop (if needed) and free everything. NULL is a no-op. */
void vg_api_destroy(struct vg_api *api);
/* The credential store the server uses (borrowed; lives as long as api). */
struct vg_api_auth *vg_api_get_auth(struct vg_api *api);

/* ---------------------------------------------------------------- health and metrics */

/*
 * A health check: return VG_OK when healthy, else a negative status and a reason in why
 * (logged, never sent to the unauthenticated client). Called for every GET /healthz, from
 * any thread; keep it cheap.
 */
typedef int (*vg_api_health_fn)(void *ctx, char *why, size_t whysz);
/* Register a check before vg_api_start; name labels it in the log and the 503 body. */
int vg_api_health_add(struct vg_api *api, const char *name, vg_api_health_fn fn, void *ctx);

/*
 * Prometheus text exposition (format 0.0.4) of GET /metrics: each registered callback
 * writes its metric families through a writer. A family (name, "counter"|"gauge", help)
 * is declared once, immediately followed by all its samples; names are unique across
 * callbacks. labels is NULL or a NULL-terminated array of name, value pairs:
 *   const char *l[] = {"endpoint", "hec", NULL};
 *   vg_api_metrics_value(w, "vigie_ingest_http_documents_total", l, n);
 * Label values are escaped by the writer; invalid metric or label names are skipped.
 */
struct vg_api_metrics;
typedef void (*vg_api_metrics_fn)(void *ctx, struct vg_api_metrics *w);
/* Register a callback before vg_api_start; called on any thread, one scrape at a time. */
int vg_api_metrics_add(struct vg_api *api, vg_api_metrics_fn fn, void *ctx);
void vg_api_metrics_family(struct vg_api_metrics *w, const char *name, const char *type,
                           const char *help);
void vg_api_metrics_value(struct vg_api_metrics *w, const char *name, const char *const *labels,
                          double value);
/* Unlabelled counters kept as atomic_uint_fast64_t members of one struct: each entry names
   the counter, its help and the member's offset in base. */
struct vg_api_counter {
    const char *name, *help;
    size_t off;
};
void vg_api_metrics_counters(struct vg_api_metrics *w, const struct vg_api_counter *c, size_t n,
                             const void *base);

/* ---------------------------------------------------------------- ingest endpoints */

struct vg_api_ingest_opts {
    uint32_t input;      /* input id of records from POST /api/v1/ingest */
    uint32_t hec_input;  /* input id of records from the Splunk HEC endpoints */
    int64_t max_wait_ms; /* wait for journal space before 503 (0: 30 s; < 0: no wait) */
    size_t max_docs;     /* documents per request, more → 413 (0: 100000) */
};

/*
 * Register POST /api/v1/ingest (role ingest) and the Splunk HEC endpoints
 * /services/collector[/event|/raw|/health][/1.0] on api, appending to j (which must outlive
 * api), and their metrics. Each request's documents are validated first and appended in
 * one batch (all or nothing); the client gets 200 only once vg_journal_sync made them
 * durable. Record meta: peer=IP:PORT, tenant=T, and key=<tenant>/<Idempotency-Key>/<index>
 * or key=<tenant>/id/<event.id> for dedupe. Call before vg_api_start.
 */
int vg_api_ingest_register(struct vg_api *api, struct vg_journal *j,
                           const struct vg_api_ingest_opts *o);

/* ---------------------------------------------------------------- credentials */

/*
 * The credential store (DATA/auth.db). Names of users and tokens: 1-64 of [A-Za-z0-9._@-];
 * tenants: 1-64 of [A-Za-z0-9._-]. All functions are thread-safe.
 */
struct vg_api_auth;
#define VG_API_PASSWORD_MIN 12 /* bytes */
#define VG_API_TOKEN_SIZE   47 /* "vg_" + 43 base64url characters + NUL */

/* Open (or create) DATA/auth.db and the install secret DATA/auth.key. */
int vg_api_auth_open(const char *data_dir, struct vg_api_auth **out, char *err, size_t errsz);
void vg_api_auth_close(struct vg_api_auth *a);

/*
 * Users. Passwords are hashed with argon2id (libsodium crypto_pwhash_str, interactive
 * limits: ~0.1 s and 64 MiB per hash). add: VG_EEXIST if the name is taken, VG_EINVAL for
 * a bad name, tenant, role or a password shorter than VG_API_PASSWORD_MIN. passwd and del:
 * VG_ENOENT for an unknown user; both end the user's sessions.
 */
int vg_api_user_add(struct vg_api_auth *a, const char *name, const char *password, int role,
                    const char *tenant);
int vg_api_user_passwd(struct vg_api_auth *a, const char *name, const char *password);
int vg_api_user_del(struct vg_api_auth *a, const char *name);
/* Change a user's role (effective on their next request). VG_ENOENT, VG_EINVAL (role). */
int vg_api_user_set_role(struct vg_api_auth *a, const char *name, int role);
/* Is s a valid user or token name (1-64 of [A-Za-z0-9._@-])? */
bool vg_api_name_valid(const char *s);

struct vg_api_user_info {
    const char *name;
    const char *tenant;
    int role;
    vg_time_t created;
    vg_time_t updated; /* last password change */
};
/*
 * Call fn for each user (by name); a non-zero return from fn stops and is returned. fn runs
 * under the store's lock: it must not call other functions on a.
 */
int vg_api_user_list(struct vg_api_auth *a, int (*fn)(void *ctx, const struct vg_api_user_info *u),
                     void *ctx);

/*
 * Create an API token: 32 random bytes shown once as "vg_<base64url>" in token (size >=
 * VG_API_TOKEN_SIZE); only its keyed BLAKE2b hash is stored. expires: VG_TIME_NONE for
 * never. VG_EEXIST if an active (unrevoked) token has this name.
 */
int vg_api_token_create(struct vg_api_auth *a, const char *name, int role, const char *tenant,
                        vg_time_t expires, char *token, size_t size);
/* Revoke the active token called name (effective at once). VG_ENOENT if there is none. */
int vg_api_token_revoke(struct vg_api_auth *a, const char *name);

struct vg_api_token_info {
    int64_t id;
    const char *name;
    const char *tenant;
    int role;
    vg_time_t created;
    vg_time_t expires;   /* VG_TIME_NONE: never */
    vg_time_t last_used; /* VG_TIME_NONE: never (updated at most once a minute) */
    vg_time_t revoked;   /* VG_TIME_NONE: active */
};
/* Each token, revoked ones included (by id), as vg_api_user_list (same lock rule). */
int vg_api_token_list(struct vg_api_auth *a,
                      int (*fn)(void *ctx, const struct vg_api_token_info *t), void *ctx);

/*
 * First start: when DATA/auth.db holds no user, create user "admin" (role admin, tenant
 * "default") with a random password, print it once to out (NULL: stderr) and write it to
 * DATA/initial-admin-password (mode 0600). *created (may be NULL) says whether it did.
 */
int vg_api_bootstrap(const char *data_dir, FILE *out, bool *created);

#endif /* VG_API_H */
