/*
 * api_metrics.c — GET /healthz (public: {"status":"ok"}, or 503 naming the failed checks)
 * and GET /metrics (role read, or the configured metrics token): the Prometheus text
 * exposition format 0.0.4 written by callbacks that modules register, through a writer
 * that validates names and escapes label values and help texts.
 *
 * The framework's own metrics (requests per route and status class, refusals) are the
 * first callback.
 */
#include "api/api_int.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

struct vg_api_metrics {
    struct vg_sbuf *out;
};

/* ---------------------------------------------------------------- writer */

static bool metric_name_ok(const char *s, bool label)
{
    if (!s || !*s) {
        return false;
    }
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
            return false;
        }
    }
    return true;
}

/* Escape for a label value (quote too) or a HELP text. */
static void add_escaped(struct vg_sbuf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\') {
            vg_sbuf_adds(b, "\\\\");
        } else if (*s == '\n') {
            vg_sbuf_adds(b, "\\n");
        } else if (quote && *s == '"') {
            vg_sbuf_adds(b, "\\\"");
        } else {
            vg_sbuf_addc(b, *s);
        }
    }
}

void vg_api_metrics_family(struct vg_api_metrics *w, const char *name, const char *type,
                           const char *help)
{
    static const char *const types[] = {"counter", "gauge", "untyped", "summary", "histogram"};
    const char *t = "untyped";
    if (!metric_name_ok(name, false)) {
        return;
    }
    for (size_t i = 0; type && i < VG_ARRAY_LEN(types); i++) {
        t = !strcmp(type, types[i]) ? types[i] : t;
    }
    vg_sbuf_printf(w->out, "# HELP %s ", name);
    add_escaped(w->out, help ? help : "", false);
    vg_sbuf_printf(w->out, "\n# TYPE %s %s\n", name, t);
}

void vg_api_metrics_value(struct vg_api_metrics *w, const char *name, const char *const *labels,
                          double value)
{
    if (!metric_name_ok(name, false)) {
        return;
    }
    for (size_t i = 0; labels && labels[i]; i += 2) {
        if (!labels[i + 1] || !metric_name_ok(labels[i], true)) {
            return;
        }
    }
    vg_sbuf_adds(w->out, name);
    for (size_t i = 0; labels && labels[i]; i += 2) {
        vg_sbuf_printf(w->out, "%c%s=\"", i ? ',' : '{', labels[i]);
        add_escaped(w->out, labels[i + 1], true);
        vg_sbuf_addc(w->out, '"');
    }
    if (labels && labels[0]) {
        vg_sbuf_addc(w->out, '}');
    }
    if (isnan(value)) {
        vg_sbuf_adds(w->out, " NaN\n");
    } else if (isinf(value)) {
        vg_sbuf_adds(w->out, value > 0 ? " +Inf\n" : " -Inf\n");
    } else if (value == floor(value) && fabs(value) < 9007199254740992.0) {
        vg_sbuf_printf(w->out, " %.0f\n", value);
    } else {
        vg_sbuf_printf(w->out, " %.17g\n", value);
    }
}

int vg_api_metrics_add(struct vg_api *api, vg_api_metrics_fn fn, void *ctx)
{
    if (!api || api->started || !fn) {
        return VG_EINVAL;
    }
    if (vg_grow(&api->mcbs, &api->capmcbs, api->nmcbs + 1, sizeof(*api->mcbs)) != VG_OK) {
        return VG_ENOMEM;
    }
    api->mcbs[api->nmcbs++] = (struct vg_api_mcb){fn, ctx};
    return VG_OK;
}

int vg_api_health_add(struct vg_api *api, const char *name, vg_api_health_fn fn, void *ctx)
{
    if (!api || api->started || !fn || !name) {
        return VG_EINVAL;
    }
    char *n = vg_strdup(name);
    if (!n || vg_grow(&api->checks, &api->capchecks, api->nchecks + 1, sizeof(*api->checks))) {
        vg_free(n);
        return VG_ENOMEM;
    }
    api->checks[api->nchecks++] = (struct vg_api_check){n, fn, ctx};
    return VG_OK;
}

/* ---------------------------------------------------------------- endpoints */

static int on_healthz(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_api *api = ctx;
    size_t failed = 0;
    VG_UNUSED(req);
    for (size_t i = 0; i < api->nchecks; i++) {
        char why[256] = "";
        if (api->checks[i].fn(api->checks[i].ctx, why, sizeof(why)) == VG_OK) {
            continue;
        }
        VG_WARN(VG_API_COMP, "health check %s failed: %s", api->checks[i].name,
                why[0] ? why : "(no reason given)");
        vg_sbuf_adds(&resp->body, failed++ ? "," : "{\"status\":\"unavailable\",\"failed\":[");
        vg_sbuf_add_json_str(&resp->body, api->checks[i].name, strlen(api->checks[i].name));
    }
    if (failed) {
        resp->status = 503;
        vg_sbuf_adds(&resp->body, "]}");
    } else {
        vg_sbuf_adds(&resp->body, "{\"status\":\"ok\"}");
    }
    return VG_OK;
}

static int on_metrics(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_api *api = ctx;
    struct vg_api_metrics w = {.out = &resp->body};
    VG_UNUSED(req);
    pthread_mutex_lock(&api->metrics_lock);
    for (size_t i = 0; i < api->nmcbs; i++) {
        api->mcbs[i].fn(api->mcbs[i].ctx, &w);
    }
    pthread_mutex_unlock(&api->metrics_lock);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    return VG_OK;
}

static void count(struct vg_api_metrics *w, const char *name, const char *help,
                  atomic_uint_fast64_t *v)
{
    vg_api_metrics_family(w, name, "counter", help);
    vg_api_metrics_value(w, name, NULL, (double)atomic_load_explicit(v, memory_order_relaxed));
}

static void http_metrics(void *ctx, struct vg_api_metrics *w)
{
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    struct vg_api *api = ctx;
    const char *name = "vigie_api_requests_total";
    vg_api_metrics_family(w, name, "counter", "HTTP responses by route, method and status class");
    for (size_t i = 0; i < api->nroutes; i++) {
        struct vg_api_route *r = api->routes[i];
        for (size_t c = 1; c < VG_ARRAY_LEN(classes); c++) {
            uint64_t n = atomic_load_explicit(&r->by_class[c], memory_order_relaxed);
            const char *l[] = {"route", r->pattern, "method", r->method, "code", classes[c], NULL};
            if (n || c == 1) {
                vg_api_metrics_value(w, name, l, (double)n);
            }
        }
    }
    count(w, "vigie_api_unmatched_total", "requests for no route (404) or method (405)",
          &api->unmatched);
    count(w, "vigie_api_unauthenticated_total", "requests refused with 401", &api->auth_fail);
    count(w, "vigie_api_forbidden_total", "requests refused with 403 (role, tenant, CSRF)",
          &api->denied);
    count(w, "vigie_api_rate_limited_total", "password checks refused with 429 (lock-out)",
          &api->limited);
    count(w, "vigie_api_too_large_total", "requests refused with 413 (body limit)",
          &api->too_large);
    vg_api_metrics_family(w, "vigie_api_requests_in_flight", "gauge", "requests being served");
    vg_api_metrics_value(w, "vigie_api_requests_in_flight", NULL,
                         (double)atomic_load_explicit(&api->in_flight, memory_order_relaxed));
}

int vg_api_metrics_init(struct vg_api *api)
{
    int rc = vg_api_route(api, "GET", "/healthz", VG_API_ROLE_PUBLIC, on_healthz, api);
    if (rc == VG_OK) {
        rc = vg_api_route_ex(api, "GET", "/metrics", VG_API_ROLE_READ, VG_API_RF_METRICS,
                             on_metrics, api);
    }
    if (rc == VG_OK) {
        rc = vg_api_metrics_add(api, http_metrics, api);
    }
    return rc;
}

void vg_api_metrics_counters(struct vg_api_metrics *w, const struct vg_api_counter *c, size_t n,
                             const void *base)
{
    for (size_t i = 0; i < n; i++) {
        const atomic_uint_fast64_t *v =
            (const atomic_uint_fast64_t *)(const void *)((const char *)base + c[i].off);
        vg_api_metrics_family(w, c[i].name, "counter", c[i].help);
        vg_api_metrics_value(w, c[i].name, NULL, (double)atomic_load(v));
    }
}
