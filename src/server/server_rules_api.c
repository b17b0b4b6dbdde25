/*
 * server_rules_api.c — managing the detection rules through the REST API (docs/rules.md,
 * "Managing rules through the API"):
 *
 *   POST   /api/v1/rules/test             (analyst)  compile a Sigma rule and run it over the
 *                                                    newest stored events of the tenant
 *   POST   /api/v1/rules/{id}/disable     (admin)    leave a rule out of every generation
 *   POST   /api/v1/rules/{id}/enable      (admin)    take it back
 *   PUT    /api/v1/rules/custom/{name}    (admin)    DATA/rules-custom/<name>.yml
 *   DELETE /api/v1/rules/custom/{name}    (admin)
 *
 * Rules are shared by every tenant, so only admins of tenant "default" change them; each
 * change is written atomically, applied by a reload (a new generation swapped in, as POST
 * /api/v1/rules/reload does) and recorded in the audit log. Testing enables nothing: the
 * rule is compiled into its own throw-away ruleset with the server's mapping. Changes are
 * serialised by one mutex (file edit + reload), so two admins cannot lose each other's edit.
 */
#include "server/server_int.h"

#include "api/api.h"
#include "audit/audit.h"
#include "query/query.h"
#include "sigma/sigma.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_SCAN_MAX   100000 /* events a test reads at most (the newest first) */
#define TEST_LIMIT_MAX  1000   /* matching events returned at most */
#define TEST_LIMIT_DEF  20
#define RULE_TEXT_MAX   (1u << 20)
#define CUSTOM_NAME_MAX 64

static pthread_mutex_t change_mu = PTHREAD_MUTEX_INITIALIZER;

void vg_server_rules_lock(void)
{
    pthread_mutex_lock(&change_mu);
}

void vg_server_rules_unlock(void)
{
    pthread_mutex_unlock(&change_mu);
}

/* ---------------------------------------------------------------- helpers */

static bool may_change(const struct vg_api_req *req, struct vg_api_resp *resp)
{
    if (!req->who.tenant || strcmp(req->who.tenant, "default") != 0) {
        vg_api_resp_error(resp, 403, "forbidden",
                          "rules are shared by every tenant: only admins of tenant \"default\" "
                          "may change them");
        return false;
    }
    return true;
}

static void audit(struct vg_server *s, const struct vg_api_req *req, const char *action,
                  const char *object, const char *detail)
{
    struct vg_audit *a = vg_server_audit(s);
    char actor[160], obj[256], err[256];
    if (!a) {
        return;
    }
    snprintf(actor, sizeof(actor), "%s:%s", req->who.kind == VG_API_AUTH_TOKEN ? "token" : "user",
             req->who.name);
    snprintf(obj, sizeof(obj), "rule:%s", object);
    struct vg_audit_rec r = {"default", actor, action, obj, detail};
    if (vg_audit_append(a, &r, NULL, err, sizeof(err)) != VG_OK) {
        VG_ERR("rules", "audit log: %s", err);
    }
}

/* The first document of set that failed, as "line N: title: reason", or NULL. */
static const struct vg_sigma_rule *first_bad(const struct vg_sigma_set *set)
{
    for (uint32_t i = 0; i < set->n; i++) {
        if (set->rules[i]->status != VG_RULE_OK) {
            return set->rules[i];
        }
    }
    return NULL;
}

static int bad_rule(struct vg_api_resp *resp, const struct vg_sigma_rule *r)
{
    bool titled = r->title && *r->title;
    vg_api_resp_error(resp, 400, "bad_rule", "line %u: %s%s%s (%s)",
                      r->err_line ? r->err_line : r->line, titled ? r->title : "",
                      titled ? ": " : "", r->message ? r->message : "not loaded",
                      vg_sigma_status_name(r->status));
    return VG_EINVAL;
}

/* Compile text as one rule file into a new set; 400 with the first problem. */
static int compile(const char *text, size_t len, const char *path, struct vg_sigma_set **out,
                   struct vg_api_resp *resp)
{
    struct vg_sigma_set *set = vg_sigma_set_create(NULL);
    *out = NULL;
    if (!set) {
        return VG_ENOMEM;
    }
    if (!len || len > RULE_TEXT_MAX) {
        vg_sigma_set_destroy(set);
        vg_api_resp_error(resp, 400, "bad_rule", "the rule is %s (at most 1 MiB of YAML)",
                          len ? "too large" : "empty");
        return VG_EINVAL;
    }
    int rc = vg_sigma_set_add_text(set, text, len, path);
    const struct vg_sigma_rule *bad = first_bad(set);
    if (rc == VG_OK && !set->n) {
        vg_api_resp_error(resp, 400, "bad_rule", "no Sigma document in the text");
        rc = VG_EINVAL;
    } else if (rc == VG_OK && bad) {
        rc = bad_rule(resp, bad);
    } else if (rc != VG_OK && rc != VG_ENOMEM) {
        vg_api_resp_error(resp, 400, "bad_rule", "%s", vg_strerror(rc));
    }
    if (rc != VG_OK) {
        vg_sigma_set_destroy(set);
        return rc;
    }
    *out = set;
    return VG_OK;
}

/* ---------------------------------------------------------------- POST /rules/test */

struct test_run {
    const struct vg_ruleset *rs;
    struct vg_detect_ctx *dctx;
    struct vg_sbuf *b;
    struct vg_sbuf ev;
    uint64_t scanned, matched;
    size_t limit, shown;
    bool hit, truncated;
};

static int test_match(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    (void)m;
    (void)ev;
    ((struct test_run *)ud)->hit = true;
    return VG_OK;
}

/* A matching event as the search API shows it: @timestamp, _id, its fields, event.original. */
static void test_event_json(struct test_run *t, const struct vg_event *ev,
                            const struct vg_store_event_meta *m)
{
    char ts[40];
    vg_sbuf_reset(&t->ev);
    vg_event_write_json(ev, &t->ev);
    vg_time_format(ev->ts, ts, sizeof(ts));
    vg_sbuf_printf(t->b, "%s{\"@timestamp\":\"%s\",\"_id\":\"%s/%" PRId64 "/%u\"",
                   t->shown ? "," : "", ts, m->partition, m->block, m->index);
    if (t->ev.p && t->ev.len > 2) {
        vg_sbuf_addc(t->b, ',');
        vg_sbuf_add(t->b, t->ev.p + 1, t->ev.len - 2);
    }
    if (ev->raw && ev->raw_len && !vg_event_get_str(ev, "event.original", NULL)) {
        vg_sbuf_adds(t->b, ",\"event.original\":");
        vg_sbuf_add_json_str(t->b, ev->raw, ev->raw_len);
    }
    vg_sbuf_addc(t->b, '}');
}

static int test_event(void *ctx, struct vg_event *ev, const struct vg_store_event_meta *m)
{
    struct test_run *t = ctx;
    if (t->scanned >= TEST_SCAN_MAX) {
        t->truncated = true;
        return VG_STORE_STOP;
    }
    t->scanned++;
    t->hit = false;
    int rc = vg_detect_event(t->rs, t->dctx, ev, test_match, t);
    if (rc != VG_OK) {
        return rc;
    }
    if (t->hit) {
        t->matched++;
        if (t->shown < t->limit) {
            test_event_json(t, ev, m);
            t->shown++;
        }
    }
    return VG_STORE_CONTINUE;
}

/* Parse the test request: rule text, from (a time; none: no bound) and limit. */
static int test_params(const struct vg_api_req *req, const char **rule, vg_time_t *from,
                       size_t *limit, struct vg_api_resp *resp)
{
    const struct vg_json *doc, *lim;
    const char *f = NULL;
    int rc = vg_api_body_object(req, &doc, resp);
    rc = rc == VG_OK ? vg_api_member_str(req, doc, "rule", rule, resp) : rc;
    rc = rc == VG_OK ? vg_api_member_str(req, doc, "from", &f, resp) : rc;
    if (rc != VG_OK) {
        return rc;
    }
    if (!*rule || !**rule) {
        vg_api_resp_error(resp, 400, "bad_request", "rule: required (the Sigma rule as YAML)");
        return VG_EINVAL;
    }
    *from = VG_TIME_NONE; /* no bound: the newest TEST_SCAN_MAX events */
    if (f && *f && vg_query_time_parse(f, strlen(f), VG_TIME_NONE, from) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request", "from: '%.64s' is not a time (-24h, RFC 3339)",
                          f);
        return VG_EINVAL;
    }
    *limit = TEST_LIMIT_DEF;
    if ((lim = vg_json_get(doc, "limit")) && lim->type != VG_JSON_NULL) {
        if (lim->type != VG_JSON_NUMBER || !lim->is_int || lim->u.i < 1 ||
            lim->u.i > TEST_LIMIT_MAX) {
            vg_api_resp_error(resp, 400, "bad_request", "limit: expected an integer in [1, %d]",
                              TEST_LIMIT_MAX);
            return VG_EINVAL;
        }
        *limit = (size_t)lim->u.i;
    }
    return VG_OK;
}

/* The rule's own generation, with the server's mapping (its cross-document checks too). */
static int test_build(struct vg_server *s, struct vg_sigma_set *set, struct vg_ruleset **rs,
                      struct vg_api_resp *resp)
{
    struct vg_mapping *map = NULL;
    char err[512];
    const char *mp = s->c->rules_mapping;
    int rc = mp && *mp ? vg_mapping_load_file(mp, &map, err, sizeof(err))
                       : vg_mapping_default(&map, err, sizeof(err));
    struct vg_ruleset_opts o = {0};
    rc = rc == VG_OK ? vg_ruleset_build(set, map, &o, rs, err, sizeof(err)) : rc;
    vg_mapping_destroy(map);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, rc == VG_ENOMEM ? 500 : 400, "bad_rule", "%s", err);
        return rc;
    }
    const struct vg_sigma_rule *bad = first_bad(set);
    if (bad) {
        return bad_rule(resp, bad);
    }
    if (!vg_ruleset_nrules(*rs)) {
        vg_api_resp_error(resp, 400, "bad_rule", "no detection rule in the text");
        return VG_EINVAL;
    }
    return VG_OK;
}

static int h_test(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *s = ctx;
    struct vg_sigma_set *set = NULL;
    struct vg_ruleset *rs = NULL;
    const char *rule;
    vg_time_t from;
    size_t limit = TEST_LIMIT_DEF;
    char err[512];
    int rc = test_params(req, &rule, &from, &limit, resp);
    rc = rc == VG_OK ? compile(rule, strlen(rule), "test.yml", &set, resp) : rc;
    rc = rc == VG_OK ? test_build(s, set, &rs, resp) : rc;
    if (rs) {
        vg_ruleset_take_set(rs);
        set = NULL;
    }
    struct test_run t = {.rs = rs, .b = &resp->body, .limit = limit};
    if (rc == VG_OK && !(t.dctx = vg_detect_ctx_create(rs))) {
        rc = VG_ENOMEM;
    }
    if (rc == VG_OK) {
        struct vg_store_scan sc = {.tenant = req->tenant,
                                   .from = from,
                                   .to = VG_TIME_NONE,
                                   .on_event = test_event,
                                   .ctx = &t,
                                   .floor = VG_TIME_NONE};
        struct vg_store_scan_stats st = {0};
        uint64_t t0 = vg_clock_ns();
        vg_sbuf_adds(&resp->body, "{\"events\":[");
        rc = vg_store_scan(s->st, &sc, &st, err, sizeof(err));
        if (rc != VG_OK) {
            vg_api_resp_error(resp, 500, "store_error", "%s", err);
        } else {
            vg_sbuf_printf(&resp->body,
                           "],\"scanned\":%" PRIu64 ",\"matched\":%" PRIu64
                           ",\"truncated\":%s,\"rules\":%u,\"took_ms\":%.1f}",
                           t.scanned, t.matched, t.truncated ? "true" : "false",
                           vg_ruleset_nrules(rs), (double)(vg_clock_ns() - t0) / 1e6);
        }
    }
    vg_sbuf_fini(&t.ev);
    vg_detect_ctx_destroy(t.dctx);
    vg_ruleset_unref(rs);
    vg_sigma_set_destroy(set);
    return rc;
}

/* ---------------------------------------------------------------- enable / disable */

/* Is ref the id or name of a document of the current generation's set (disabled included)? */
static bool rule_known(struct vg_server *s, const char *ref)
{
    struct vg_ruleset *rs = vg_detect_engine_acquire(s->eng);
    const struct vg_sigma_set *set = vg_ruleset_set(rs);
    bool found = false;
    for (uint32_t i = 0; set && !found && i < set->n; i++) {
        const struct vg_sigma_rule *r = set->rules[i];
        found = r->kind != VG_SIGMA_FILTER &&
                ((r->id && !strcmp(r->id, ref)) || (r->name && !strcmp(r->name, ref)));
    }
    vg_ruleset_unref(rs);
    return found;
}

/* Add (disable) or remove (enable) ref in the list; *changed says whether it moved. */
static int list_set(struct vg_strlist *l, const char *ref, bool disable, bool *changed)
{
    size_t at = l->n;
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i], ref)) {
            at = i;
        }
    }
    *changed = disable ? at == l->n : at < l->n;
    if (disable && *changed) {
        return vg_strlist_add(l, ref);
    }
    if (!disable && *changed) {
        vg_free(l->v[at]);
        memmove(&l->v[at], &l->v[at + 1], (l->n - at - 1) * sizeof(*l->v));
        l->n--;
    }
    return VG_OK;
}

/* Edit the disabled list for refs (under change_mu). */
static int disabled_edit(struct vg_server *s, const char *const *refs, size_t n, bool disable,
                         bool *changed, char *err, size_t errsz)
{
    struct vg_strlist l;
    int rc = vg_server_rules_disabled_load(s->c->data_dir, &l, err, errsz);
    *changed = false;
    for (size_t i = 0; rc == VG_OK && i < n; i++) {
        bool c;
        rc = list_set(&l, refs[i], disable, &c);
        *changed |= c;
    }
    if (rc == VG_OK && *changed) {
        rc = vg_server_rules_disabled_save(s->c->data_dir, &l, err, errsz);
    }
    vg_strlist_free(&l);
    return rc;
}

static int toggle(struct vg_server *s, const struct vg_api_req *req, struct vg_api_resp *resp,
                  bool disable)
{
    const char *ref = req->param;
    char err[1024] = "";
    bool changed = false;
    if (!may_change(req, resp)) {
        return VG_EDENIED;
    }
    if (!rule_known(s, ref)) {
        vg_api_resp_error(resp, 404, "not_found", "no rule with id or name '%.128s'", ref);
        return VG_ENOENT;
    }
    pthread_mutex_lock(&change_mu);
    int rc = disabled_edit(s, &ref, 1, disable, &changed, err, sizeof(err));
    if (rc == VG_OK && changed && (rc = vg_server_reload(s, err, sizeof(err))) != VG_OK) {
        bool back;
        char e2[256];
        (void)disabled_edit(s, &ref, 1, !disable, &back, e2, sizeof(e2)); /* undo */
    }
    pthread_mutex_unlock(&change_mu);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, rc == VG_EINVAL ? 400 : 500, "rules_failed", "%s", err);
        return rc;
    }
    VG_INFO("rules", "%s %s rule %s", req->who.name, disable ? "disabled" : "enabled", ref);
    vg_sbuf_adds(&resp->body, "{\"id\":");
    vg_sbuf_add_json_str(&resp->body, ref, strlen(ref));
    vg_sbuf_printf(&resp->body, ",\"enabled\":%s,\"changed\":%s}", disable ? "false" : "true",
                   changed ? "true" : "false");
    if (changed) {
        audit(s, req, disable ? "rule.disable" : "rule.enable", ref, resp->body.p);
    }
    return VG_OK;
}

static int h_disable(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return toggle(ctx, req, resp, true);
}

static int h_enable(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    return toggle(ctx, req, resp, false);
}

/* ---------------------------------------------------------------- custom rules */

static bool custom_name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (!len || len > CUSTOM_NAME_MAX || n[0] == '.') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

static int custom_path(struct vg_server *s, const struct vg_api_req *req, char *path, size_t size,
                       struct vg_api_resp *resp)
{
    char dir[4096];
    if (!may_change(req, resp)) {
        return VG_EDENIED;
    }
    if (!custom_name_ok(req->param)) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "name: 1-64 of [A-Za-z0-9._-], not starting with '.'");
        return VG_EINVAL;
    }
    vg_server_rules_custom_dir(s->c->data_dir, dir, sizeof(dir));
    snprintf(path, size, "%s/%s.yml", dir, req->param);
    return VG_OK;
}

/* The rule text and whether to enable it: a JSON body {"rule","enabled"} or the YAML itself. */
static int custom_body(const struct vg_api_req *req, const char **text, size_t *len, bool *enabled,
                       struct vg_api_resp *resp)
{
    const char *ct = vg_api_header(req, "Content-Type");
    *text = req->body;
    *len = req->body_len;
    *enabled = true;
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        return VG_OK;
    }
    const struct vg_json *doc, *en;
    int rc = vg_api_body_object(req, &doc, resp);
    rc = rc == VG_OK ? vg_api_member_str(req, doc, "rule", text, resp) : rc;
    if (rc != VG_OK) {
        return rc;
    }
    if ((en = vg_json_get(doc, "enabled")) && en->type != VG_JSON_NULL) {
        if (en->type != VG_JSON_TRUE && en->type != VG_JSON_FALSE) {
            vg_api_resp_error(resp, 400, "bad_request", "enabled: expected true or false");
            return VG_EINVAL;
        }
        *enabled = en->type == VG_JSON_TRUE;
    }
    *len = *text ? strlen(*text) : 0;
    return VG_OK;
}

/* The ids (or names) of the documents of set, for the disabled list and the answer. */
static size_t set_refs(const struct vg_sigma_set *set, const char **refs, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < set->n && n < max; i++) {
        const struct vg_sigma_rule *r = set->rules[i];
        const char *ref = r->id ? r->id : r->name;
        if (ref && r->kind != VG_SIGMA_FILTER) {
            refs[n++] = ref;
        }
    }
    return n;
}

/* Write the file, update the disabled list, reload; undo the file on a failed reload. */
static int custom_install(struct vg_server *s, const char *path, const char *text, size_t len,
                          const char *const *refs, size_t nrefs, bool enabled, char *err,
                          size_t errsz)
{
    char dir[4096], *old = NULL;
    size_t oldlen = 0;
    bool changed;
    vg_server_rules_custom_dir(s->c->data_dir, dir, sizeof(dir));
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "cannot create %.900s: %s", dir, strerror(errno));
        return VG_EIO;
    }
    bool existed = vg_file_read(path, RULE_TEXT_MAX, &old, &oldlen) == VG_OK;
    int rc = vg_server_file_write_atomic(path, text, len, err, errsz);
    rc = rc == VG_OK ? disabled_edit(s, refs, nrefs, !enabled, &changed, err, errsz) : rc;
    rc = rc == VG_OK ? vg_server_reload(s, err, errsz) : rc;
    if (rc != VG_OK) {
        char e2[256];
        if (existed) {
            (void)vg_server_file_write_atomic(path, old, oldlen, e2, sizeof(e2));
        } else {
            unlink(path);
        }
    }
    vg_free(old);
    return rc;
}

static int h_custom_put(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *s = ctx;
    struct vg_sigma_set *set = NULL;
    char path[4200], err[1024] = "";
    const char *text, *refs[64];
    size_t len;
    bool enabled;
    int rc = custom_path(s, req, path, sizeof(path), resp);
    rc = rc == VG_OK ? custom_body(req, &text, &len, &enabled, resp) : rc;
    rc = rc == VG_OK ? compile(text, len, path, &set, resp) : rc;
    if (rc != VG_OK) {
        return rc;
    }
    size_t nrefs = set_refs(set, refs, 64);
    pthread_mutex_lock(&change_mu);
    rc = custom_install(s, path, text, len, refs, nrefs, enabled, err, sizeof(err));
    pthread_mutex_unlock(&change_mu);
    if (rc != VG_OK) {
        vg_sigma_set_destroy(set);
        vg_api_resp_error(resp, rc == VG_EINVAL ? 400 : 500, "rules_failed", "%s (nothing changed)",
                          err);
        return rc;
    }
    VG_INFO("rules", "%s saved custom rule %s", req->who.name, req->param);
    struct vg_sbuf *b = &resp->body;
    vg_sbuf_adds(b, "{\"name\":");
    vg_sbuf_add_json_str(b, req->param, strlen(req->param));
    vg_sbuf_printf(b, ",\"enabled\":%s,\"ids\":[", enabled ? "true" : "false");
    for (size_t i = 0; i < nrefs; i++) {
        vg_sbuf_adds(b, i ? "," : "");
        vg_sbuf_add_json_str(b, refs[i], strlen(refs[i]));
    }
    vg_sbuf_adds(b, "]}");
    vg_sigma_set_destroy(set);
    audit(s, req, "rule.custom.put", req->param, b->p);
    return VG_OK;
}

static int h_custom_delete(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *s = ctx;
    char path[4200], err[1024] = "";
    char *old = NULL;
    size_t oldlen = 0;
    int rc = custom_path(s, req, path, sizeof(path), resp);
    if (rc != VG_OK) {
        return rc;
    }
    pthread_mutex_lock(&change_mu);
    if (vg_file_read(path, RULE_TEXT_MAX, &old, &oldlen) != VG_OK) {
        pthread_mutex_unlock(&change_mu);
        vg_api_resp_error(resp, 404, "not_found", "no custom rule '%s'", req->param);
        return VG_ENOENT;
    }
    rc = unlink(path) == 0 ? VG_OK : VG_EIO;
    if (rc != VG_OK) {
        snprintf(err, sizeof(err), "cannot remove %.900s: %s", path, strerror(errno));
    } else if ((rc = vg_server_reload(s, err, sizeof(err))) != VG_OK) {
        char e2[256];
        (void)vg_server_file_write_atomic(path, old, oldlen, e2, sizeof(e2));
    }
    pthread_mutex_unlock(&change_mu);
    vg_free(old);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 500, "rules_failed", "%s", err);
        return rc;
    }
    VG_INFO("rules", "%s deleted custom rule %s", req->who.name, req->param);
    vg_sbuf_adds(&resp->body, "{\"deleted\":");
    vg_sbuf_add_json_str(&resp->body, req->param, strlen(req->param));
    vg_sbuf_addc(&resp->body, '}');
    audit(s, req, "rule.custom.delete", req->param, resp->body.p);
    return VG_OK;
}

/* ---------------------------------------------------------------- registration */

int vg_server_rules_api_register(struct vg_server *s, struct vg_api *api)
{
    static const struct {
        const char *method, *pattern;
        int role;
        vg_api_handler fn;
    } routes[] = {
        {"POST", "/api/v1/rules/test", VG_API_ROLE_ANALYST, h_test},
        {"POST", "/api/v1/rules/{id}/disable", VG_API_ROLE_ADMIN, h_disable},
        {"POST", "/api/v1/rules/{id}/enable", VG_API_ROLE_ADMIN, h_enable},
        {"PUT", "/api/v1/rules/custom/{name}", VG_API_ROLE_ADMIN, h_custom_put},
        {"DELETE", "/api/v1/rules/custom/{name}", VG_API_ROLE_ADMIN, h_custom_delete},
    };
    int rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < sizeof(routes) / sizeof(routes[0]); i++) {
        rc =
            vg_api_route(api, routes[i].method, routes[i].pattern, routes[i].role, routes[i].fn, s);
    }
    return rc;
}
