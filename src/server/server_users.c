/*
 * server_users.c — managing users and API tokens through the REST API (docs/api.md, "Users
 * and tokens"), for the console's Users page:
 *
 *   GET    /api/v1/users          (admin)  users of the effective tenant (never a hash)
 *   POST   /api/v1/users          (admin)  {"user","password","role"}
 *   PATCH  /api/v1/users/{name}   (admin)  {"role"} and/or {"password"}
 *   DELETE /api/v1/users/{name}   (admin)  not yourself (409)
 *   GET    /api/v1/tokens         (admin)  active tokens of the tenant (never the secret)
 *   POST   /api/v1/tokens         (admin)  {"name","role","ttl"?}: the secret, once
 *   DELETE /api/v1/tokens/{name}   (admin)  revoke
 *
 * An admin manages the principals of req->tenant only (their own, or ?tenant= for an admin
 * of "default"); a principal of another tenant is answered 404 as if absent. The store is the
 * server's DATA/auth.db (vg_api_get_auth): the same functions `vigie user` and `vigie token`
 * call, with the same password policy. Every change goes to the audit log, without the
 * password or the secret.
 */
#include "server/server_int.h"

#include "api/api.h"
#include "audit/audit.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static void audit(struct vg_server *u, const struct vg_api_req *req, const char *action,
                  const char *object, const char *detail)
{
    struct vg_audit *a = vg_server_audit(u);
    char actor[160], err[256];
    if (!a) {
        return;
    }
    snprintf(actor, sizeof(actor), "%s:%s", req->who.kind == VG_API_AUTH_TOKEN ? "token" : "user",
             req->who.name);
    struct vg_audit_rec r = {req->tenant, actor, action, object, detail};
    if (vg_audit_append(a, &r, NULL, err, sizeof(err)) != VG_OK) {
        VG_ERR("users", "audit log: %s", err);
    }
}

/* Parse a role member (required or not); 400 naming "role". */
static int parse_role(const char *name, bool required, int *role, struct vg_api_resp *resp)
{
    if (!name && !required) {
        return VG_OK;
    }
    if (!name || vg_api_role_parse(name, role) != VG_OK) {
        vg_api_resp_error(resp, 400, "bad_request", "role: one of admin, analyst, read, ingest");
        return VG_EINVAL;
    }
    return VG_OK;
}

static int check_password(const char *pw, struct vg_api_resp *resp)
{
    if (!pw || strlen(pw) < VG_API_PASSWORD_MIN) {
        vg_api_resp_error(resp, 400, "bad_request", "password: at least %d characters",
                          VG_API_PASSWORD_MIN);
        return VG_EINVAL;
    }
    return VG_OK;
}

static void add_time(struct vg_sbuf *b, const char *key, vg_time_t t)
{
    char buf[64];
    if (t == VG_TIME_NONE) {
        vg_sbuf_printf(b, ",\"%s\":null", key);
        return;
    }
    vg_time_format(t, buf, sizeof(buf));
    vg_sbuf_printf(b, ",\"%s\":\"%s\"", key, buf);
}

static void add_str(struct vg_sbuf *b, const char *key, const char *val, bool first)
{
    vg_sbuf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    vg_sbuf_add_json_str(b, val, strlen(val));
}

static int store_error(struct vg_api_resp *resp, int rc, const char *what, const char *name)
{
    if (rc == VG_ENOENT) {
        vg_api_resp_error(resp, 404, "not_found", "no %s called %s", what, name);
    } else if (rc == VG_EEXIST) {
        vg_api_resp_error(resp, 409, "exists", "a %s called %s exists", what, name);
    } else if (rc == VG_EINVAL) {
        vg_api_resp_error(resp, 400, "bad_request", "%s: invalid", what);
    } else {
        vg_api_resp_error(resp, 500, "internal", "auth.db: %s", vg_strerror(rc));
    }
    return rc;
}

/* ---------------------------------------------------------------- users */

struct user_list {
    const char *tenant;
    const char *find; /* only this user (lookup) */
    bool found;
    struct vg_sbuf *b;
    int n;
};

static int user_row(void *ctx, const struct vg_api_user_info *u)
{
    struct user_list *l = ctx;
    if (strcmp(u->tenant, l->tenant) != 0 || (l->find && strcmp(u->name, l->find) != 0)) {
        return VG_OK;
    }
    l->found = true;
    if (l->b) {
        vg_sbuf_adds(l->b, l->n++ ? ",{" : "{");
        add_str(l->b, "name", u->name, true);
        add_str(l->b, "role", vg_api_role_name(u->role), false);
        add_str(l->b, "tenant", u->tenant, false);
        add_time(l->b, "created", u->created);
        add_time(l->b, "password_changed", u->updated);
        vg_sbuf_addc(l->b, '}');
    }
    return VG_OK;
}

/* Does user name exist in the request's tenant? 404 (or 500) when not. */
static bool user_in_tenant(struct vg_api_auth *a, const struct vg_api_req *req,
                           struct vg_api_resp *resp)
{
    struct user_list l = {.tenant = req->tenant, .find = req->param};
    int rc = vg_api_user_list(a, user_row, &l);
    if (rc != VG_OK || !l.found) {
        store_error(resp, rc != VG_OK ? rc : VG_ENOENT, "user", req->param);
        return false;
    }
    return true;
}

static int h_users(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *u = ctx;
    struct user_list l = {.tenant = req->tenant, .b = &resp->body};
    vg_sbuf_adds(&resp->body, "{\"users\":[");
    int rc = vg_api_user_list(vg_api_get_auth(u->api), user_row, &l);
    if (rc != VG_OK) {
        return store_error(resp, rc, "user", "");
    }
    vg_sbuf_adds(&resp->body, "]}");
    return VG_OK;
}

static int h_user_add(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *u = ctx;
    const struct vg_json *o = NULL;
    const char *name = NULL, *pw = NULL, *role_s = NULL;
    int role = 0;
    int rc = vg_api_body_object(req, &o, resp);
    rc = rc == VG_OK ? vg_api_member_str(req, o, "user", &name, resp) : rc;
    rc = rc == VG_OK ? vg_api_member_str(req, o, "password", &pw, resp) : rc;
    rc = rc == VG_OK ? vg_api_member_str(req, o, "role", &role_s, resp) : rc;
    if (rc == VG_OK && (!name || !vg_api_name_valid(name))) {
        vg_api_resp_error(resp, 400, "bad_request", "user: 1-64 of A-Z a-z 0-9 . _ @ -");
        rc = VG_EINVAL;
    }
    rc = rc == VG_OK ? check_password(pw, resp) : rc;
    rc = rc == VG_OK ? parse_role(role_s, true, &role, resp) : rc;
    if (rc != VG_OK) {
        return rc;
    }
    rc = vg_api_user_add(vg_api_get_auth(u->api), name, pw, role, req->tenant);
    if (rc != VG_OK) {
        return store_error(resp, rc, "user", name);
    }
    char obj[96], detail[64];
    snprintf(obj, sizeof(obj), "user:%s", name);
    snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", vg_api_role_name(role));
    audit(u, req, "user.create", obj, detail);
    resp->status = 201;
    vg_sbuf_addc(&resp->body, '{');
    add_str(&resp->body, "name", name, true);
    add_str(&resp->body, "role", vg_api_role_name(role), false);
    add_str(&resp->body, "tenant", req->tenant, false);
    vg_sbuf_addc(&resp->body, '}');
    return VG_OK;
}

static bool is_self(const struct vg_api_req *req)
{
    return req->who.kind != VG_API_AUTH_TOKEN && !strcmp(req->who.name, req->param);
}

static int h_user_patch(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *u = ctx;
    struct vg_api_auth *a = vg_api_get_auth(u->api);
    const struct vg_json *o = NULL;
    const char *pw = NULL, *role_s = NULL;
    int role = 0;
    int rc = vg_api_body_object(req, &o, resp);
    rc = rc == VG_OK ? vg_api_member_str(req, o, "password", &pw, resp) : rc;
    rc = rc == VG_OK ? vg_api_member_str(req, o, "role", &role_s, resp) : rc;
    if (rc == VG_OK && !pw && !role_s) {
        vg_api_resp_error(resp, 400, "bad_request", "role or password: nothing to change");
        rc = VG_EINVAL;
    }
    rc = rc == VG_OK && pw ? check_password(pw, resp) : rc;
    rc = rc == VG_OK ? parse_role(role_s, false, &role, resp) : rc;
    if (rc != VG_OK) {
        return rc;
    }
    if (!user_in_tenant(a, req, resp)) {
        return VG_ENOENT;
    }
    if (role_s && is_self(req) && role != req->who.role) {
        vg_api_resp_error(resp, 409, "conflict", "role: you cannot change your own role");
        return VG_EINVAL;
    }
    char obj[96], detail[64];
    snprintf(obj, sizeof(obj), "user:%s", req->param);
    if (role_s) {
        if ((rc = vg_api_user_set_role(a, req->param, role)) != VG_OK) {
            return store_error(resp, rc, "user", req->param);
        }
        snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", vg_api_role_name(role));
        audit(u, req, "user.role", obj, detail);
    }
    if (pw) {
        if ((rc = vg_api_user_passwd(a, req->param, pw)) != VG_OK) {
            return store_error(resp, rc, "user", req->param);
        }
        audit(u, req, "user.password", obj, NULL);
    }
    vg_sbuf_adds(&resp->body, "{\"ok\":true}");
    return VG_OK;
}

static int h_user_del(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *u = ctx;
    struct vg_api_auth *a = vg_api_get_auth(u->api);
    if (is_self(req)) {
        vg_api_resp_error(resp, 409, "conflict", "you cannot delete yourself");
        return VG_EINVAL;
    }
    if (!user_in_tenant(a, req, resp)) {
        return VG_ENOENT;
    }
    int rc = vg_api_user_del(a, req->param);
    if (rc != VG_OK) {
        return store_error(resp, rc, "user", req->param);
    }
    char obj[96];
    snprintf(obj, sizeof(obj), "user:%s", req->param);
    audit(u, req, "user.delete", obj, NULL);
    vg_sbuf_adds(&resp->body, "{\"ok\":true}");
    return VG_OK;
}

/* ---------------------------------------------------------------- tokens */

struct token_list {
    const char *tenant;
    const char *find;
    bool found;
    struct vg_sbuf *b;
    int n;
};

static int token_row(void *ctx, const struct vg_api_token_info *t)
{
    struct token_list *l = ctx;
    if (t->revoked != VG_TIME_NONE || strcmp(t->tenant, l->tenant) != 0 ||
        (l->find && strcmp(t->name, l->find) != 0)) {
        return VG_OK;
    }
    l->found = true;
    if (l->b) {
        vg_sbuf_adds(l->b, l->n++ ? ",{" : "{");
        add_str(l->b, "name", t->name, true);
        add_str(l->b, "role", vg_api_role_name(t->role), false);
        add_str(l->b, "tenant", t->tenant, false);
        add_time(l->b, "created", t->created);
        add_time(l->b, "expires", t->expires);
        add_time(l->b, "last_used", t->last_used);
        vg_sbuf_addc(l->b, '}');
    }
    return VG_OK;
}

static int h_tokens(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *u = ctx;
    struct token_list l = {.tenant = req->tenant, .b = &resp->body};
    vg_sbuf_adds(&resp->body, "{\"tokens\":[");
    int rc = vg_api_token_list(vg_api_get_auth(u->api), token_row, &l);
    if (rc != VG_OK) {
        return store_error(resp, rc, "token", "");
    }
    vg_sbuf_adds(&resp->body, "]}");
    return VG_OK;
}

/* ttl: absent/null (never), a duration string ("90d") or a number of seconds; 400 naming it. */
static int parse_ttl(const struct vg_json *o, vg_time_t *expires, struct vg_api_resp *resp)
{
    const struct vg_json *v = vg_json_get(o, "ttl");
    int64_t ns = 0;
    *expires = VG_TIME_NONE;
    if (!v || v->type == VG_JSON_NULL || (v->type == VG_JSON_STRING && v->n == 0)) {
        return VG_OK;
    }
    if (v->type == VG_JSON_STRING) {
        if (vg_duration_parse(v->s, v->n, &ns) != VG_OK) {
            ns = 0;
        }
    } else if (v->type == VG_JSON_NUMBER && v->is_int && v->u.i > 0 &&
               v->u.i < INT64_MAX / 1000000000) {
        ns = v->u.i * 1000000000;
    }
    if (ns <= 0) {
        vg_api_resp_error(resp, 400, "bad_request",
                          "ttl: a duration (90d, 12h) or a number of seconds");
        return VG_EINVAL;
    }
    *expires = vg_time_now() + ns;
    return VG_OK;
}

static int h_token_add(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *u = ctx;
    const struct vg_json *o = NULL;
    const char *name = NULL, *role_s = NULL;
    int role = 0;
    vg_time_t expires = VG_TIME_NONE;
    char tok[VG_API_TOKEN_SIZE];
    int rc = vg_api_body_object(req, &o, resp);
    rc = rc == VG_OK ? vg_api_member_str(req, o, "name", &name, resp) : rc;
    rc = rc == VG_OK ? vg_api_member_str(req, o, "role", &role_s, resp) : rc;
    if (rc == VG_OK && (!name || !vg_api_name_valid(name))) {
        vg_api_resp_error(resp, 400, "bad_request", "name: 1-64 of A-Z a-z 0-9 . _ @ -");
        rc = VG_EINVAL;
    }
    rc = rc == VG_OK ? parse_role(role_s, true, &role, resp) : rc;
    rc = rc == VG_OK ? parse_ttl(o, &expires, resp) : rc;
    if (rc != VG_OK) {
        return rc;
    }
    rc = vg_api_token_create(vg_api_get_auth(u->api), name, role, req->tenant, expires, tok,
                             sizeof(tok));
    if (rc != VG_OK) {
        return store_error(resp, rc, "token", name);
    }
    char obj[96], detail[64];
    snprintf(obj, sizeof(obj), "token:%s", name);
    snprintf(detail, sizeof(detail), "{\"role\":\"%s\"}", vg_api_role_name(role));
    audit(u, req, "token.create", obj, detail);
    resp->status = 201;
    vg_sbuf_addc(&resp->body, '{');
    add_str(&resp->body, "name", name, true);
    add_str(&resp->body, "role", vg_api_role_name(role), false);
    add_str(&resp->body, "tenant", req->tenant, false);
    add_time(&resp->body, "expires", expires);
    add_str(&resp->body, "token", tok, false);
    vg_sbuf_addc(&resp->body, '}');
    explicit_bzero(tok, sizeof(tok));
    return VG_OK;
}

static int h_token_del(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct vg_server *u = ctx;
    struct vg_api_auth *a = vg_api_get_auth(u->api);
    struct token_list l = {.tenant = req->tenant, .find = req->param};
    int rc = vg_api_token_list(a, token_row, &l);
    if (rc != VG_OK || !l.found) {
        return store_error(resp, rc != VG_OK ? rc : VG_ENOENT, "token", req->param);
    }
    if ((rc = vg_api_token_revoke(a, req->param)) != VG_OK) {
        return store_error(resp, rc, "token", req->param);
    }
    char obj[96];
    snprintf(obj, sizeof(obj), "token:%s", req->param);
    audit(u, req, "token.revoke", obj, NULL);
    vg_sbuf_adds(&resp->body, "{\"ok\":true}");
    return VG_OK;
}

/* ---------------------------------------------------------------- registration */

int vg_server_users_register(struct vg_server *s, struct vg_api *api)
{
    static const struct {
        const char *method, *pattern;
        vg_api_handler fn;
    } routes[] = {
        {"GET", "/api/v1/users", h_users},
        {"POST", "/api/v1/users", h_user_add},
        {"PATCH", "/api/v1/users/{name}", h_user_patch},
        {"DELETE", "/api/v1/users/{name}", h_user_del},
        {"GET", "/api/v1/tokens", h_tokens},
        {"POST", "/api/v1/tokens", h_token_add},
        {"DELETE", "/api/v1/tokens/{name}", h_token_del},
    };
    int rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < sizeof(routes) / sizeof(routes[0]); i++) {
        rc = vg_api_route(api, routes[i].method, routes[i].pattern, VG_API_ROLE_ADMIN, routes[i].fn,
                          s);
    }
    return rc;
}
