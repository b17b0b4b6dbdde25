/*
 * test_http.c — the API's HTTP framework on a real loopback socket: exact and {param}
 * routes, 404/405 with Allow, HEAD, the body limit (by Content-Length and while a chunked
 * body streams), query and header getters, handler status mapping, security headers on
 * every response (the Content-Security-Policy unless the handler set its own), /healthz with
 * a failing check, the /metrics exposition format (label escaping, the metrics token), the
 * access log (no secrets), HTTPS, and the thread pool.
 */
#include "api_test.h"

#include <pthread.h>

/* ---------------------------------------------------------------- handlers */

static int h_echo(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    const char *q = vg_api_query(req, "q"), *x = vg_api_query(req, "x");
    const char *h = vg_api_header(req, "X-Test");
    vg_sbuf_printf(&resp->body, "%s|%s|param=%s|q=%s|x=%s|h=%s|body=%zu:%s|tenant=%s|who=%s",
                   (const char *)ctx, req->method, req->param ? req->param : "(none)",
                   q ? q : "(none)", x ? x : "(none)", h ? h : "(none)", req->body_len, req->body,
                   req->tenant, req->who.name);
    resp->content_type = "text/plain";
    vg_api_resp_header(resp, "X-Handler", (const char *)ctx);
    return VG_OK;
}

static int h_fail(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(req);
    VG_UNUSED(resp);
    return (int)(intptr_t)ctx;
}

static int h_custom_error(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(ctx);
    VG_UNUSED(req);
    vg_api_resp_error(resp, 409, "conflict", "already %s", "there");
    return VG_ENOENT; /* the handler's own error status wins over the mapping */
}

static int h_own_csp(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(ctx);
    VG_UNUSED(req);
    resp->content_type = "text/html";
    vg_api_resp_header(resp, "content-security-policy", "default-src 'none'; style-src 'self'");
    vg_sbuf_adds(&resp->body, "<p>report</p>");
    return VG_OK;
}

static struct rig open_rig(const struct vg_api_opts *o, bool *ok)
{
    struct rig r;
    *ok = rig_open(&r, o, NULL, 0, false);
    if (*ok) {
        *ok = vg_api_route(r.api, "GET", "/api/v1/things", VG_API_ROLE_PUBLIC, h_echo, "list") ==
                  VG_OK &&
              vg_api_route(r.api, "GET", "/api/v1/things/{id}", VG_API_ROLE_PUBLIC, h_echo,
                           "one") == VG_OK &&
              vg_api_route(r.api, "GET", "/api/v1/things/count", VG_API_ROLE_PUBLIC, h_echo,
                           "count") == VG_OK &&
              vg_api_route(r.api, "DELETE", "/api/v1/things/{id}", VG_API_ROLE_PUBLIC, h_echo,
                           "del") == VG_OK &&
              vg_api_route(r.api, "POST", "/api/v1/things/{id}/notes", VG_API_ROLE_PUBLIC, h_echo,
                           "note") == VG_OK &&
              vg_api_route(r.api, "POST", "/api/v1/echo", VG_API_ROLE_PUBLIC, h_echo, "post") ==
                  VG_OK &&
              vg_api_route(r.api, "GET", "/fail/enoent", VG_API_ROLE_PUBLIC, h_fail,
                           (void *)(intptr_t)VG_ENOENT) == VG_OK &&
              vg_api_route(r.api, "GET", "/fail/again", VG_API_ROLE_PUBLIC, h_fail,
                           (void *)(intptr_t)VG_AGAIN) == VG_OK &&
              vg_api_route(r.api, "GET", "/fail/io", VG_API_ROLE_PUBLIC, h_fail,
                           (void *)(intptr_t)VG_EIO) == VG_OK &&
              vg_api_route(r.api, "GET", "/fail/custom", VG_API_ROLE_PUBLIC, h_custom_error,
                           NULL) == VG_OK &&
              vg_api_route(r.api, "GET", "/api/v1/private", VG_API_ROLE_READ, h_echo, "priv") ==
                  VG_OK &&
              vg_api_route(r.api, "GET", "/report", VG_API_ROLE_PUBLIC, h_own_csp, NULL) == VG_OK;
    }
    return r;
}

#define RIG(r, o)                                                                                  \
    bool ok_;                                                                                      \
    struct rig r = open_rig((o), &ok_);                                                            \
    if (!ok_ || !rig_start(&r)) {                                                                  \
        CHECK(!"rig");                                                                             \
        return;                                                                                    \
    }

VG_TEST(routes_exact_param_and_getters)
{
    vg_log_set_level(VG_LOG_ERROR);
    RIG(r, NULL);
    struct hresp h = {0};
    char v[128];
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things?q=a+b%21&x", "X-Test: yes\r\n", NULL, &h),
                 200);
    CHECK_STR(h.body, "list|GET|param=(none)|q=a b!|x=|h=yes|body=0:|tenant=default|who=");
    CHECK_STR(hr_header(&h, "X-Handler", v, sizeof(v)), "list");
    CHECK_STR(hr_header(&h, "Content-Type", v, sizeof(v)), "text/plain");
    /* an exact route wins over {id}; %2F stays inside the parameter */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things/count", NULL, NULL, &h), 200);
    CHECK(!strncmp(h.body, "count|", 6));
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things/a%2Fb%20c", NULL, NULL, &h), 200);
    CHECK(strstr(h.body, "one|GET|param=a/b c|") != NULL);
    CHECK_EQ_INT(http1(r.port, "DELETE", "/api/v1/things/42", NULL, NULL, &h), 200);
    CHECK(!strncmp(h.body, "del|DELETE|param=42|", 20));
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/things/7/notes", NULL, "hello", &h), 200);
    CHECK(strstr(h.body, "note|POST|param=7|") && strstr(h.body, "body=5:hello"));
    /* a %00 in the parameter is refused */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things/a%00b", NULL, NULL, &h), 400);
    /* the query string's first value wins */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things?q=1&q=2", NULL, NULL, &h), 200);
    CHECK(strstr(h.body, "q=1|") != NULL);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(not_found_method_not_allowed_head)
{
    RIG(r, NULL);
    struct hresp h = {0};
    char v[128];
    CHECK_EQ_INT(http1(r.port, "GET", "/nope", NULL, NULL, &h), 404);
    CHECK_STR(h.body, "{\"error\":{\"code\":\"not_found\",\"message\":\"no such endpoint\"}}");
    CHECK_STR(hr_header(&h, "Content-Type", v, sizeof(v)), "application/json");
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things/", NULL, NULL, &h), 404);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things/1/2/3", NULL, NULL, &h), 404);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/things", NULL, "x", &h), 405);
    CHECK_STR(hr_header(&h, "Allow", v, sizeof(v)), "GET, HEAD");
    CHECK(strstr(h.body, "\"code\":\"method_not_allowed\"") != NULL);
    CHECK_EQ_INT(http1(r.port, "PUT", "/api/v1/things/9", NULL, "", &h), 405);
    CHECK_STR(hr_header(&h, "Allow", v, sizeof(v)), "GET, HEAD, DELETE");
    CHECK_EQ_INT(http1(r.port, "HEAD", "/api/v1/things", NULL, NULL, &h), 200);
    CHECK_EQ_INT(h.body_len, 0);
    CHECK(hr_header(&h, "Content-Length", v, sizeof(v)) && strtol(v, NULL, 10) > 10);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(security_headers_everywhere)
{
    RIG(r, NULL);
    struct hresp h = {0};
    char v[128], csp[512];
    const char *paths[] = {"/api/v1/things", "/nope", "/api/v1/private", "/fail/io"};
    for (size_t i = 0; i < VG_ARRAY_LEN(paths); i++) {
        CHECK(http1(r.port, "GET", paths[i], NULL, NULL, &h) > 0);
        CHECK_STR(hr_header(&h, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
        CHECK_STR(hr_header(&h, "Cache-Control", v, sizeof(v)), "no-store");
        CHECK_STR(hr_header(&h, "X-Frame-Options", v, sizeof(v)), "DENY");
        CHECK_STR(hr_header(&h, "Content-Security-Policy", csp, sizeof(csp)), VG_API_CSP);
    }
    /* errors before any handler (401, 405) carry it too */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/things", NULL, "x", &h), 405);
    CHECK_STR(hr_header(&h, "Content-Security-Policy", csp, sizeof(csp)), VG_API_CSP);
    CHECK(strstr(VG_API_CSP, "script-src 'self'") && strstr(VG_API_CSP, "frame-ancestors 'none'") &&
          !strstr(VG_API_CSP, "unsafe"));
    /* a handler's own policy (the case report) replaces the default, exactly once */
    CHECK_EQ_INT(http1(r.port, "GET", "/report", NULL, NULL, &h), 200);
    CHECK_STR(hr_header(&h, "Content-Security-Policy", csp, sizeof(csp)),
              "default-src 'none'; style-src 'self'");
    const char *first = strcasestr(h.head, "Content-Security-Policy:");
    CHECK(first && !strcasestr(first + 1, "Content-Security-Policy:"));
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(handler_status_mapping)
{
    RIG(r, NULL);
    struct hresp h = {0};
    char v[64];
    CHECK_EQ_INT(http1(r.port, "GET", "/fail/enoent", NULL, NULL, &h), 404);
    CHECK(strstr(h.body, "\"error\":{\"code\":") != NULL);
    CHECK_EQ_INT(http1(r.port, "GET", "/fail/again", NULL, NULL, &h), 503);
    CHECK(hr_header(&h, "Retry-After", v, sizeof(v)) != NULL);
    CHECK_EQ_INT(http1(r.port, "GET", "/fail/io", NULL, NULL, &h), 500);
    CHECK_STR(h.body, "{\"error\":{\"code\":\"internal\",\"message\":\"input/output error\"}}");
    CHECK_EQ_INT(http1(r.port, "GET", "/fail/custom", NULL, NULL, &h), 409);
    CHECK_STR(h.body, "{\"error\":{\"code\":\"conflict\",\"message\":\"already there\"}}");
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(body_limit)
{
    struct vg_api_opts o = {.max_body = 1000};
    RIG(r, &o);
    struct hresp h = {0};
    char big[3000], hdr[128];
    memset(big, 'x', sizeof(big));
    big[sizeof(big) - 1] = '\0';
    /* announced too large: refused before the body is read */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/echo", NULL, big, &h), 413);
    CHECK(strstr(h.body, "\"code\":\"payload_too_large\"") != NULL);
    /* exactly the limit passes, byte for byte */
    big[1000] = '\0';
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/echo", NULL, big, &h), 200);
    CHECK(strstr(h.body, "body=1000:xxxx") != NULL);
    big[1000] = 'x';
    /* chunked, no length: noticed while streaming, answered at the end */
    struct hc c;
    hc_init(&c, r.port, false);
    CHECK(hc_open(&c));
    snprintf(hdr, sizeof(hdr),
             "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\n"
             "Transfer-Encoding: chunked\r\n\r\n");
    CHECK(hc_send(&c, hdr, strlen(hdr)));
    for (int i = 0; i < 3; i++) {
        CHECK(hc_send(&c, "1f4\r\n", 5) && hc_send(&c, big, 500) && hc_send(&c, "\r\n", 2));
    }
    CHECK(hc_send(&c, "0\r\n\r\n", 5));
    CHECK(hc_read_resp(&c, &h, false));
    CHECK_EQ_INT(h.status, 413);
    /* the connection stays usable after a streamed 413 */
    CHECK_EQ_INT(hc_req(&c, "GET", "/api/v1/things", NULL, NULL, 0, &h), 200);
    hc_fini(&c);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(keep_alive_many_requests)
{
    RIG(r, NULL);
    struct hc c;
    struct hresp h = {0};
    hc_init(&c, r.port, false);
    int good = 0;
    for (int i = 0; i < 200; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/things/%d", i);
        good += hc_req(&c, "GET", path, NULL, NULL, 0, &h) == 200 && strstr(h.body, "param=");
    }
    CHECK_EQ_INT(good, 200);
    hc_fini(&c);
    hresp_free(&h);
    rig_close(&r);
}

static int health_bad(void *ctx, char *why, size_t whysz)
{
    snprintf(why, whysz, "disk is gone");
    return *(int *)ctx ? VG_EIO : VG_OK;
}

VG_TEST(healthz_and_checks)
{
    bool ok;
    int failing = 0;
    struct rig r = open_rig(NULL, &ok);
    CHECK(ok && vg_api_health_add(r.api, "store", health_bad, &failing) == VG_OK);
    if (!ok || !rig_start(&r)) {
        return;
    }
    CHECK_EQ_INT(vg_api_health_add(r.api, "late", health_bad, &failing), VG_EINVAL);
    struct hresp h = {0};
    CHECK_EQ_INT(http1(r.port, "GET", "/healthz", NULL, NULL, &h), 200);
    CHECK_STR(h.body, "{\"status\":\"ok\"}");
    failing = 1;
    CHECK_EQ_INT(http1(r.port, "GET", "/healthz", NULL, NULL, &h), 503);
    CHECK_STR(h.body, "{\"status\":\"unavailable\",\"failed\":[\"store\"]}");
    CHECK(!strstr(h.body, "disk is gone")); /* reasons go to the log only */
    hresp_free(&h);
    rig_close(&r);
}

static void custom_metrics(void *ctx, struct vg_api_metrics *w)
{
    VG_UNUSED(ctx);
    const char *l[] = {"path", "a\"b\\c\nd", "kind", "x", NULL};
    const char *bad[] = {"9bad", "v", NULL};
    vg_api_metrics_family(w, "test_things_total", "counter", "things\ncounted \\ here");
    vg_api_metrics_value(w, "test_things_total", l, 42);
    vg_api_metrics_value(w, "test_things_total", bad, 1); /* invalid label name: skipped */
    vg_api_metrics_family(w, "test_ratio", "gauge", "a ratio");
    vg_api_metrics_value(w, "test_ratio", NULL, 0.25);
    vg_api_metrics_value(w, "bad-name", NULL, 1); /* invalid metric name: skipped */
}

/* Every line is a comment or `name[{labels}] value`. */
static bool exposition_ok(const char *text)
{
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        if (!e) {
            return false; /* the format ends every line with \n */
        }
        if (*p != '#') {
            const char *sp = memchr(p, ' ', (size_t)(e - p));
            if (!sp || sp == p || !strchr("0123456789-+N", sp[1])) {
                return false;
            }
        }
        p = e + 1;
    }
    return true;
}

VG_TEST(metrics_format_and_token)
{
    struct vg_api_opts o = {.metrics_token = "scrape-secret-123"};
    bool ok;
    struct rig r = open_rig(&o, &ok);
    CHECK(ok && vg_api_metrics_add(r.api, custom_metrics, NULL) == VG_OK);
    if (!ok || !rig_start(&r)) {
        return;
    }
    struct hresp h = {0};
    char v[128], rd[128], ing[128];
    CHECK(rig_token(&r, "reader", VG_API_ROLE_READ, NULL, rd, sizeof(rd)));
    CHECK(rig_token(&r, "shipper", VG_API_ROLE_INGEST, NULL, ing, sizeof(ing)));
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/things", NULL, NULL, &h), 200);
    CHECK_EQ_INT(http1(r.port, "GET", "/metrics", NULL, NULL, &h), 401);
    CHECK_EQ_INT(http1(r.port, "GET", "/metrics", ing, NULL, &h), 403);
    CHECK_EQ_INT(http1(r.port, "GET", "/metrics", rd, NULL, &h), 200);
    CHECK_STR(hr_header(&h, "Content-Type", v, sizeof(v)),
              "text/plain; version=0.0.4; charset=utf-8");
    CHECK(exposition_ok(h.body));
    CHECK(strstr(h.body, "# TYPE vigie_api_requests_total counter\n") != NULL);
    CHECK(strstr(h.body, "vigie_api_requests_total{route=\"/api/v1/things\",method=\"GET\","
                         "code=\"2xx\"} 1\n") != NULL);
    CHECK(strstr(h.body, "# HELP test_things_total things\\ncounted \\\\ here\n"
                         "# TYPE test_things_total counter\n"
                         "test_things_total{path=\"a\\\"b\\\\c\\nd\",kind=\"x\"} 42\n"
                         "# HELP test_ratio a ratio\n# TYPE test_ratio gauge\n"
                         "test_ratio 0.25\n") != NULL);
    CHECK(!strstr(h.body, "9bad") && !strstr(h.body, "bad-name"));
    CHECK(strstr(h.body, "vigie_api_unauthenticated_total 1\n") != NULL);
    CHECK(strstr(h.body, "vigie_api_forbidden_total 1\n") != NULL);
    /* the metrics token opens /metrics and nothing else */
    CHECK_EQ_INT(
        http1(r.port, "GET", "/metrics", "Authorization: Bearer scrape-secret-123\r\n", NULL, &h),
        200);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/private",
                       "Authorization: Bearer scrape-secret-123\r\n", NULL, &h),
                 401);
    CHECK_EQ_INT(
        http1(r.port, "GET", "/metrics", "Authorization: Bearer scrape-secret-124\r\n", NULL, &h),
        401);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(access_log_without_secrets)
{
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *mem = open_memstream(&logbuf, &loglen);
    RIG(r, NULL);
    char tok[128], user_hdr[256], bare[64];
    CHECK(rig_token(&r, "reader", VG_API_ROLE_READ, NULL, tok, sizeof(tok)));
    snprintf(bare, sizeof(bare), "%.46s", tok + 22); /* the token itself */
    snprintf(user_hdr, sizeof(user_hdr), "%sX-Test: 1\r\n", tok);
    vg_log_set_stream(mem);
    vg_log_set_level(VG_LOG_INFO);
    struct hresp h = {0};
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/private?password=hunter2", user_hdr, NULL, &h), 200);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/echo", NULL, "body-secret-xyz", &h), 200);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/private",
                       "Authorization: Bearer vg_wrongwrongwrongwrongwrongwrongwrongwrongwro\r\n",
                       NULL, &h),
                 401);
    vg_api_stop(r.api); /* waits for every request, so their log lines are written */
    vg_log_set_level(VG_LOG_ERROR);
    vg_log_set_stream(NULL);
    fclose(mem);
    CHECK(logbuf && strstr(logbuf, "GET /api/v1/private 200 ") &&
          strstr(logbuf, "who=read:reader"));
    CHECK(logbuf && strstr(logbuf, "POST /api/v1/echo 200 in=15 "));
    CHECK(logbuf && strstr(logbuf, "GET /api/v1/private 401 "));
    CHECK(logbuf && !strstr(logbuf, "hunter2") && !strstr(logbuf, "body-secret") &&
          !strstr(logbuf, bare) && !strstr(logbuf, "vg_wrong"));
    free(logbuf);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(route_registration_errors)
{
    bool ok;
    struct rig r = open_rig(NULL, &ok);
    CHECK(ok);
    if (!ok) {
        return;
    }
    CHECK_EQ_INT(vg_api_route(r.api, "GET", "/api/v1/things", 0, h_echo, NULL), VG_EEXIST);
    CHECK_EQ_INT(vg_api_route(r.api, "GET", "no-slash", 0, h_echo, NULL), VG_EINVAL);
    CHECK_EQ_INT(vg_api_route(r.api, "GET", "/a/{x}/{y}", 0, h_echo, NULL), VG_EINVAL);
    CHECK_EQ_INT(vg_api_route(r.api, "GET", "/a/b{x}", 0, h_echo, NULL), VG_EINVAL);
    CHECK_EQ_INT(vg_api_route(r.api, "BREW", "/coffee", 0, h_echo, NULL), VG_EINVAL);
    CHECK_EQ_INT(vg_api_route(r.api, "GET", "/x", 9, h_echo, NULL), VG_EINVAL);
    CHECK(rig_start(&r));
    CHECK_EQ_INT(vg_api_route(r.api, "GET", "/late", 0, h_echo, NULL), VG_EINVAL);
    rig_close(&r);
    /* a taken port is an error naming the address */
    struct vg_api *a = NULL, *b = NULL;
    char err[256], dir[] = "/tmp/vg-api-XXXXXX", addr[64];
    CHECK(mkdtemp(dir) != NULL);
    struct vg_api_opts o = {.listen = "127.0.0.1:0", .data_dir = dir};
    CHECK_EQ_INT(vg_api_create(&o, &a, err, sizeof(err)), VG_OK);
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", vg_api_port(a));
    o.listen = addr;
    CHECK_EQ_INT(vg_api_create(&o, &b, err, sizeof(err)), VG_EIO);
    CHECK(strstr(err, addr) != NULL);
    o.listen = "nonsense";
    CHECK_EQ_INT(vg_api_create(&o, &b, err, sizeof(err)), VG_EINVAL);
    o.listen = "127.0.0.1:0";
    o.tls_cert = "/nonexistent.pem";
    CHECK(vg_api_create(&o, &b, err, sizeof(err)) != VG_OK);
    vg_api_destroy(a);
    vg_api_destroy(NULL);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

VG_TEST(https_only)
{
    char dir[] = "/tmp/vg-api-XXXXXX", cert[128], key[128];
    CHECK(mkdtemp(dir) != NULL);
    CHECK(write_test_cert(dir, cert, key, sizeof(cert)));
    struct vg_api_opts o = {.tls_cert = cert, .tls_key = key};
    RIG(r, &o);
    struct hc c;
    struct hresp h = {0};
    hc_init(&c, r.port, true);
    CHECK_EQ_INT(hc_req(&c, "GET", "/api/v1/things/tls", NULL, NULL, 0, &h), 200);
    CHECK(h.body && strstr(h.body, "param=tls"));
    CHECK_EQ_INT(hc_req(&c, "GET", "/healthz", NULL, NULL, 0, &h), 200);
    /* over HTTPS the session cookie is Secure */
    const char *login = "{\"user\":\"tls-user\",\"password\":\"a long tls password\"}";
    char v[256];
    CHECK_EQ_INT(vg_api_user_add(vg_api_get_auth(r.api), "tls-user", "a long tls password",
                                 VG_API_ROLE_READ, NULL),
                 VG_OK);
    CHECK_EQ_INT(hc_req(&c, "POST", "/api/v1/auth/login", "Content-Type: application/json\r\n",
                        login, strlen(login), &h),
                 200);
    CHECK(hr_header(&h, "Set-Cookie", v, sizeof(v)) && strstr(v, "; Secure"));
    hc_fini(&c);
    /* plain HTTP on the HTTPS port gets no HTTP answer */
    CHECK(http1(r.port, "GET", "/healthz", NULL, NULL, &h) != 200);
    hresp_free(&h);
    rig_close(&r);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

struct pool_arg {
    int port, ok;
};

static void *pool_client(void *p)
{
    struct pool_arg *a = p;
    struct hc c;
    struct hresp h = {0};
    hc_init(&c, a->port, false);
    for (int i = 0; i < 100; i++) {
        a->ok += hc_req(&c, "POST", "/api/v1/echo", NULL, "ping", 4, &h) == 200 &&
                 strstr(h.body, "body=4:ping");
    }
    hc_fini(&c);
    hresp_free(&h);
    return NULL;
}

VG_TEST(thread_pool_mode)
{
    struct vg_api_opts o = {.threads = 2};
    RIG(r, &o);
    pthread_t t[4];
    struct pool_arg a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (struct pool_arg){.port = r.port};
        pthread_create(&t[i], NULL, pool_client, &a[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += a[i].ok;
    }
    CHECK_EQ_INT(total, 400);
    rig_close(&r);
}

VG_TEST(malformed_requests_leak_nothing)
{
    RIG(r, NULL);
    const char *bad[] = {
        "GET /api/v1/things HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
        "GET /api/v1/things HTTP/9.9\r\nHost: x\r\n\r\n",
        "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
        "POST /api/v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET http://evil/api/v1/things HTTP/1.1\r\nHost: x\r\n\r\n",
        "\r\n\r\n",
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct hc c;
        char buf[4096];
        hc_init(&c, r.port, false);
        CHECK(hc_open(&c));
        CHECK(hc_send(&c, bad[i], strlen(bad[i])));
        shutdown(c.fd, SHUT_WR);
        while (hc_read(&c, buf, sizeof(buf)) > 0) {
        }
        hc_fini(&c);
    }
    struct hresp h = {0};
    char tok[128];
    CHECK(rig_token(&r, "reader", VG_API_ROLE_READ, NULL, tok, sizeof(tok)));
    bool settled = false; /* the server notices the closed connections on its own time */
    for (int k = 0; k < 100 && !settled; k++) {
        settled = http1(r.port, "GET", "/metrics", tok, NULL, &h) == 200 &&
                  strstr(h.body, "vigie_api_requests_in_flight 1\n");
        usleep(settled ? 0 : 50000);
    }
    CHECK(settled);
    hresp_free(&h);
    rig_close(&r); /* LeakSanitizer checks the rest */
}
