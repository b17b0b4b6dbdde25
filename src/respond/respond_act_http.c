/*
 * respond_act_http.c — http.webhook: POST (or PUT) a JSON body to a URL with libcurl.
 *
 * The body is the step's `body` object, or a chat payload built from text/title for
 * `format: slack | mattermost | teams | teams_adaptive`. Only http and https are allowed
 * (checked here and enforced by libcurl, redirects are not followed), TLS is verified unless
 * `insecure: true`, and the transfer's timeout is the smaller of the step's deadline and
 * the `timeout_ms` parameter. Idempotency-Key: <idem_key> and X-Vigie-Run: <run id> go with
 * every request so receivers can de-duplicate a retried step. Header values are never
 * logged; a dry run shows sensitive ones as "***".
 *
 * Status mapping: 2xx ok; 429, 5xx, connection errors and timeouts are retryable; other
 * statuses (3xx, 4xx) and TLS verification failures are not.
 */
#include "respond/respond_act_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#define HTTP_BODY_MAX (64u * 1024u)

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int vg_act_curl_init(void)
{
    pthread_once(&curl_once, curl_init);
    return curl_init_rc == CURLE_OK ? VG_OK : VG_ERROR;
}

struct webhook {
    const char *url, *method, *format, *text, *title;
    const struct vg_json *body, *headers;
    bool insecure;
    int64_t timeout_ms;
    struct vg_sbuf payload;
    struct vg_sbuf resp;
    bool resp_trunc;
};

/* ---------------------------------------------------------------- payloads */

static void add_str(struct vg_sbuf *s, const char *p)
{
    vg_sbuf_add_json_str(s, p ? p : "", p ? strlen(p) : 0);
}

static void payload_chat(struct webhook *w)
{
    struct vg_sbuf *s = &w->payload;
    struct vg_sbuf t = VG_SBUF_INIT;
    bool md = strcmp(w->format, "mattermost") == 0;
    if (strcmp(w->format, "teams") == 0) {
        vg_sbuf_adds(s, "{\"@type\":\"MessageCard\",\"@context\":\"https://schema.org/extensions\","
                        "\"summary\":");
        add_str(s, w->title ? w->title : w->text);
        if (w->title) {
            vg_sbuf_adds(s, ",\"title\":");
            add_str(s, w->title);
        }
        vg_sbuf_adds(s, ",\"text\":");
        add_str(s, w->text);
        vg_sbuf_addc(s, '}');
        return;
    }
    if (strcmp(w->format, "teams_adaptive") == 0) {
        vg_sbuf_adds(s, "{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                        "\"application/vnd.microsoft.card.adaptive\",\"content\":{\"$schema\":"
                        "\"http://adaptivecards.io/schemas/adaptive-card.json\",\"type\":"
                        "\"AdaptiveCard\",\"version\":\"1.4\",\"body\":[");
        if (w->title) {
            vg_sbuf_adds(s, "{\"type\":\"TextBlock\",\"size\":\"Medium\",\"weight\":\"Bolder\","
                            "\"wrap\":true,\"text\":");
            add_str(s, w->title);
            vg_sbuf_adds(s, "},");
        }
        vg_sbuf_adds(s, "{\"type\":\"TextBlock\",\"wrap\":true,\"text\":");
        add_str(s, w->text);
        vg_sbuf_adds(s, "}]}}]}");
        return;
    }
    /* slack and mattermost: {"text": ...}, the title in bold (Slack mrkdwn) or a heading */
    if (w->title) {
        vg_sbuf_printf(&t, md ? "#### %s\n" : "*%s*\n", w->title);
    }
    vg_sbuf_adds(&t, w->text);
    vg_sbuf_adds(s, "{\"text\":");
    vg_sbuf_add_json_str(s, t.p ? t.p : "", t.len);
    vg_sbuf_addc(s, '}');
    vg_sbuf_fini(&t);
}

static int payload_build(struct webhook *w, struct vg_action_result *r)
{
    if (w->format) {
        static const char *const formats[] = {"slack", "mattermost", "teams", "teams_adaptive"};
        bool known = false;
        for (size_t i = 0; i < VG_ARRAY_LEN(formats); i++) {
            known = known || strcmp(w->format, formats[i]) == 0;
        }
        if (!known) {
            return vg_act_fail(r, VG_EINVAL, false,
                               "parameter 'format' must be slack, mattermost, teams or "
                               "teams_adaptive (got \"%.64s\")",
                               w->format);
        }
        if (w->body || !w->text) {
            return vg_act_fail(r, VG_EINVAL, false,
                               "with 'format', give 'text' (and optionally 'title'), not 'body'");
        }
        payload_chat(w);
    } else if (w->body) {
        if (w->body->type != VG_JSON_OBJECT && w->body->type != VG_JSON_ARRAY) {
            return vg_act_fail(r, VG_EINVAL, false, "parameter 'body' must be a JSON object");
        }
        vg_json_write(w->body, &w->payload);
    } else {
        return vg_act_fail(r, VG_EINVAL, false,
                           "give either 'body' (a JSON object) or 'format' with 'text'");
    }
    return w->payload.err ? vg_act_fail(r, VG_ENOMEM, true, "out of memory") : VG_OK;
}

/* ---------------------------------------------------------------- checks */

static bool url_scheme_ok(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

static int url_check(const char *u, struct vg_action_result *r)
{
    if (!url_scheme_ok(u)) {
        return vg_act_fail(r, VG_EINVAL, false,
                           "parameter 'url' must start with http:// or https:// (other schemes "
                           "are refused)");
    }
    for (const char *p = u; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            return vg_act_fail(r, VG_EINVAL, false,
                               "parameter 'url' contains a space or control character");
        }
    }
    return VG_OK;
}

static bool header_name_ok(const char *p, size_t n)
{
    if (n == 0 || n > 128) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(p[i] >= 'a' && p[i] <= 'z') && !(p[i] >= 'A' && p[i] <= 'Z') &&
            !(p[i] >= '0' && p[i] <= '9') && !strchr("!#$%&'*+-.^_`|~", p[i])) {
            return false;
        }
    }
    return true;
}

/* Headers whose values are secrets (never shown, never logged). */
static bool header_secret(const char *name, size_t n)
{
    static const char *const words[] = {"auth", "token", "key", "secret", "cookie", "password"};
    char low[129];
    vg_fold(low, name, n);
    low[n] = 0;
    for (size_t i = 0; i < VG_ARRAY_LEN(words); i++) {
        if (strstr(low, words[i])) {
            return true;
        }
    }
    return false;
}

/* Build the curl header list from the `headers` map plus ours; *has_ct: a Content-Type given. */
static int headers_build(const struct vg_action_ctx *c, const struct webhook *w,
                         struct vg_action_result *r, struct curl_slist **out)
{
    struct curl_slist *l = NULL, *t;
    bool has_ct = false;
    size_t n = w->headers ? w->headers->n : 0;
    if (w->headers && w->headers->type != VG_JSON_OBJECT) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter 'headers' must be an object");
    }
    for (size_t i = 0; i < n; i++) {
        const struct vg_json *k = &w->headers->u.items[2 * i], *v = &w->headers->u.items[2 * i + 1];
        char *val = v->type == VG_JSON_STRING ? vg_act_json_strdup(c->arena, v) : NULL;
        if (!header_name_ok(k->s, k->n) || !val || vg_act_has_ctl(val)) {
            curl_slist_free_all(l);
            return vg_act_fail(r, VG_EINVAL, false,
                               "parameter 'headers': header %zu has an invalid name or a value "
                               "that is not a string without control characters",
                               i + 1);
        }
        has_ct = has_ct || vg_str_ieq_ascii(k->s, k->n, "content-type", 12);
        char *line = vg_arena_printf(c->arena, "%.*s: %s", (int)k->n, k->s, val);
        if (!line || !(t = curl_slist_append(l, line))) {
            curl_slist_free_all(l);
            return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
        }
        l = t;
    }
    const char *ours[] = {
        has_ct ? NULL : "Content-Type: application/json",
        "Expect:", vg_arena_printf(c->arena, "Idempotency-Key: %s", c->idem_key ? c->idem_key : ""),
        vg_arena_printf(c->arena, "X-Vigie-Run: %s", c->run_id ? c->run_id : "")};
    for (size_t i = 0; i < VG_ARRAY_LEN(ours); i++) {
        if (ours[i] && !(t = curl_slist_append(l, ours[i]))) {
            curl_slist_free_all(l);
            return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
        }
        l = ours[i] ? t : l;
    }
    *out = l;
    return VG_OK;
}

/* ---------------------------------------------------------------- transfer */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct webhook *w = ud;
    size_t n = size * nmemb;
    size_t keep = w->resp.len < HTTP_BODY_MAX ? VG_MIN(n, HTTP_BODY_MAX - w->resp.len) : 0;
    vg_sbuf_add(&w->resp, p, keep);
    w->resp_trunc = w->resp_trunc || keep < n;
    return n; /* keep reading (and dropping) past the bound so the status stays meaningful */
}

static void curl_setup(CURL *h, struct webhook *w, struct curl_slist *hdrs, long timeout_ms)
{
    curl_easy_setopt(h, CURLOPT_URL, w->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, w->method);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, w->payload.p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)w->payload.len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, w->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, w->insecure ? 0L : 2L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vigie-playbook/0.1");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
}

/* Output {"status":N,"body":<JSON if it parses, else string>,"truncated":bool}. */
static void output_write(const struct vg_action_ctx *c, struct webhook *w, long status,
                         struct vg_action_result *r)
{
    const struct vg_json *doc =
        w->resp_trunc || !w->resp.len ? NULL : vg_act_json_parse(c, w->resp.p, w->resp.len);
    vg_sbuf_reset(&r->output);
    vg_sbuf_printf(&r->output, "{\"status\":%ld,\"body\":", status);
    if (doc) {
        vg_json_write(doc, &r->output);
    } else {
        vg_sbuf_add_json_str(&r->output, w->resp.p ? w->resp.p : "", w->resp.len);
    }
    vg_sbuf_printf(&r->output, ",\"truncated\":%s}", w->resp_trunc ? "true" : "false");
}

static int transfer_status(CURLcode cc, const char *ebuf, long timeout_ms,
                           struct vg_action_result *r)
{
    switch (cc) {
    case CURLE_OK:
        return VG_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return vg_act_fail(r, VG_ETIMEOUT, true, "webhook timed out after %ld ms", timeout_ms);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return vg_act_fail(r, VG_EINVAL, false, "webhook url refused: %s", ebuf);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return vg_act_fail(r, VG_EDENIED, false,
                           "webhook TLS verification failed: %s (set insecure: true only for "
                           "a test server)",
                           ebuf);
    default:
        return vg_act_fail(r, VG_EIO, true, "webhook transfer failed: %s", ebuf);
    }
}

static int http_status(long st, struct vg_action_result *r)
{
    if (st >= 200 && st < 300) {
        return VG_OK;
    }
    bool retry = st == 429 || st >= 500;
    return vg_act_fail(r, VG_EIO, retry, "webhook answered HTTP %ld%s", st,
                       retry ? " (retryable)"
                             : (st >= 300 && st < 400 ? " (redirects are not followed)" : ""));
}

static int webhook_send(const struct vg_action_ctx *c, struct webhook *w,
                        struct vg_action_result *r)
{
    struct curl_slist *hdrs = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    long st = 0, tmo = VG_MIN((long)w->timeout_ms, vg_act_left_ms(vg_act_deadline(c)));
    int rc = headers_build(c, w, r, &hdrs);
    if (rc != VG_OK) {
        return rc;
    }
    if (tmo <= 0) {
        curl_slist_free_all(hdrs);
        return vg_act_fail(r, VG_ETIMEOUT, true, "the step's deadline passed before sending");
    }
    CURL *h = vg_act_curl_init() == VG_OK ? curl_easy_init() : NULL;
    if (!h) {
        curl_slist_free_all(hdrs);
        return vg_act_fail(r, VG_ENOMEM, true, "libcurl could not start");
    }
    curl_setup(h, w, hdrs, tmo);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode cc = curl_easy_perform(h);
    if (!ebuf[0]) {
        vg_strlcpy(ebuf, curl_easy_strerror(cc), sizeof(ebuf));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    if ((rc = transfer_status(cc, ebuf, tmo, r)) != VG_OK) {
        return rc;
    }
    output_write(c, w, st, r);
    if (r->output.err) {
        return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
    }
    return http_status(st, r);
}

/* ---------------------------------------------------------------- the action */

/* The URL without user:password@ for descriptions. */
static const char *url_shown(const struct vg_action_ctx *c, const char *u)
{
    const char *s = strstr(u, "://"), *at, *end;
    if (!s) {
        return u;
    }
    s += 3;
    end = s + strcspn(s, "/?#");
    at = memchr(s, '@', (size_t)(end - s));
    return at ? vg_arena_printf(c->arena, "%.*s%s", (int)(s - u), u, at + 1) : u;
}

static int webhook_dry(const struct vg_action_ctx *c, struct webhook *w, struct vg_action_result *r)
{
    struct vg_sbuf h = VG_SBUF_INIT;
    for (size_t i = 0; w->headers && w->headers->type == VG_JSON_OBJECT && i < w->headers->n; i++) {
        const struct vg_json *k = &w->headers->u.items[2 * i], *v = &w->headers->u.items[2 * i + 1];
        bool secret = header_secret(k->s, VG_MIN(k->n, 128u));
        vg_sbuf_printf(&h, ", header %.*s: %.*s", (int)VG_MIN(k->n, 128u), k->s,
                       secret ? 3 : (int)v->n, secret ? "***" : v->s);
    }
    int rc =
        vg_act_dry(r, "%s %s with body %s%s (Idempotency-Key: %s)", w->method, url_shown(c, w->url),
                   w->payload.p, h.p ? h.p : "", c->idem_key ? c->idem_key : "");
    vg_sbuf_fini(&h);
    return rc;
}

static int webhook_params(const struct vg_action_ctx *c, struct webhook *w,
                          struct vg_action_result *r)
{
    int rc;
    if ((rc = vg_act_str(c, r, "url", true, 8192, &w->url)) != VG_OK ||
        (rc = url_check(w->url, r)) != VG_OK ||
        (rc = vg_act_str(c, r, "method", false, 8, &w->method)) != VG_OK ||
        (rc = vg_act_str(c, r, "format", false, 32, &w->format)) != VG_OK ||
        (rc = vg_act_str(c, r, "text", false, 1u << 20, &w->text)) != VG_OK ||
        (rc = vg_act_str(c, r, "title", false, 4096, &w->title)) != VG_OK ||
        (rc = vg_act_bool(c, r, "insecure", false, &w->insecure)) != VG_OK ||
        (rc = vg_act_int(c, r, "timeout_ms", 30000, 1, 3600000, &w->timeout_ms)) != VG_OK) {
        return rc;
    }
    w->method = w->method ? w->method : "POST";
    if (strcmp(w->method, "POST") != 0 && strcmp(w->method, "PUT") != 0) {
        return vg_act_fail(r, VG_EINVAL, false, "parameter 'method' must be POST or PUT");
    }
    w->body = vg_act_param(c, "body");
    w->headers = vg_act_param(c, "headers");
    return payload_build(w, r);
}

static int webhook_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct webhook w = {0};
    int rc = webhook_params(c, &w, r);
    if (rc == VG_OK && c->svc && c->svc->dry_run) {
        rc = webhook_dry(c, &w, r);
    } else if (rc == VG_OK) {
        rc = webhook_send(c, &w, r);
        char *obj = vg_arena_printf(c->arena, "url:%s", url_shown(c, w.url));
        vg_act_audit(c, "respond.http.webhook", obj, NULL);
    }
    vg_sbuf_fini(&w.payload);
    vg_sbuf_fini(&w.resp);
    return rc;
}

static const struct vg_action_param webhook_params_tab[] = {
    {"url", VG_ACTION_STRING, true, "http:// or https:// URL (other schemes are refused)"},
    {"method", VG_ACTION_STRING, false, "POST (default) or PUT"},
    {"body", VG_ACTION_OBJECT, false, "JSON object sent as the body (or use format + text)"},
    {"format", VG_ACTION_STRING, false,
     "slack | mattermost | teams (MessageCard) | teams_adaptive (Adaptive Card): build the "
     "chat payload from text and title"},
    {"text", VG_ACTION_STRING, false, "message text for format"},
    {"title", VG_ACTION_STRING, false, "message title for format (optional)"},
    {"headers", VG_ACTION_OBJECT, false,
     "extra headers {name: value}; values are never logged (Authorization etc.)"},
    {"timeout_ms", VG_ACTION_INT, false,
     "transfer timeout (default 30000; the step's deadline "
     "caps it)"},
    {"insecure", VG_ACTION_BOOL, false, "skip TLS verification (default false; tests only)"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_http_webhook = {
    .name = "http.webhook",
    .description = "POST/PUT a JSON body (or a Slack/Mattermost/Teams message) to an HTTP(S) "
                   "URL; output {status, body}",
    .params = webhook_params_tab,
    .run = webhook_run,
};
