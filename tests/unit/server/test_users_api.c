/*
 * test_users_api.c — users and API tokens through the REST API (server_users.c) over real
 * HTTP on loopback: users created, listed (never a hash), their role and password changed and
 * deleted; tokens created (the secret once, and it works), listed without the secret and
 * revoked (then 401); 403 for analyst and reader on every route; an admin of another tenant
 * sees and touches only their tenant; 400s name the field; 409 on deleting yourself; the
 * changes in the audit log without passwords or secrets.
 */
#include "srv_test.h"

#include <openssl/evp.h>

static const char *const routes[][2] = {
    {"GET", "/api/v1/users"},        {"POST", "/api/v1/users"}, {"PATCH", "/api/v1/users/bob"},
    {"DELETE", "/api/v1/users/bob"}, {"GET", "/api/v1/tokens"}, {"POST", "/api/v1/tokens"},
    {"DELETE", "/api/v1/tokens/ci"},
};

/* A call with Basic user:password. */
static int basic(struct srv *v, const char *user, const char *pw, const char *method,
                 const char *path, const char *body, struct hresp *r)
{
    char cred[256], b64[400], h[512];
    int n = snprintf(cred, sizeof(cred), "%s:%s", user, pw);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)cred, n);
    snprintf(h, sizeof(h), "Authorization: Basic %s\r\n", b64);
    return http1(v->port, method, path, h, body, r);
}

VG_TEST(users_and_tokens)
{
    struct srv v;
    struct hresp r = {0};
    char other[VG_API_TOKEN_SIZE], err[256], tok[128] = "";
    struct vg_api_auth *a = NULL;
    bool ok = srv_prepare(&v, "usersapi");
    ok = ok && vg_api_auth_open(v.dir, &a, err, sizeof(err)) == VG_OK &&
         vg_api_token_create(a, "acme-admin", VG_API_ROLE_ADMIN, "acme", VG_TIME_NONE, other,
                             sizeof(other)) == VG_OK &&
         vg_api_user_add(a, "root", "root-password-1", VG_API_ROLE_ADMIN, "default") == VG_OK &&
         vg_api_user_add(a, "carol", "carol-password-1", VG_API_ROLE_READ, "acme") == VG_OK;
    vg_api_auth_close(a);
    if (!ok || !srv_start(&v)) {
        CHECK(!"server");
        srv_close(&v);
        return;
    }
    const char *add = "{\"user\":\"bob\",\"password\":\"bob-password-1\",\"role\":\"analyst\"}";
    const char *tadd = "{\"name\":\"ci\",\"role\":\"read\",\"ttl\":\"30d\"}";

    /* only admins, on every route */
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *body = strcmp(routes[i][0], "POST") ? "{}" : add;
        CHECK_EQ_INT(call(&v, v.analyst, routes[i][0], routes[i][1], body, &r), 403);
        CHECK_EQ_INT(call(&v, v.reader, routes[i][0], routes[i][1], body, &r), 403);
        CHECK_EQ_INT(call(&v, NULL, routes[i][0], routes[i][1], body, &r), 401);
    }

    /* users: create, 400s naming the field, 409 when taken */
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/users", add, &r), 201);
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/users", add, &r), 409);
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/users",
                      "{\"user\":\"dan\",\"password\":\"short\",\"role\":\"read\"}", &r),
                 400);
    CHECK(r.body && strstr(r.body, "password"));
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/users",
                      "{\"user\":\"dan\",\"password\":\"dan-password-1\",\"role\":\"boss\"}", &r),
                 400);
    CHECK(r.body && strstr(r.body, "role"));
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/users",
                      "{\"user\":\"d n\",\"password\":\"dan-password-1\",\"role\":\"read\"}", &r),
                 400);
    CHECK(r.body && strstr(r.body, "user"));
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/users", "nope", &r), 400);
    CHECK_EQ_INT(basic(&v, "bob", "bob-password-1", "GET", "/api/v1/stats", NULL, &r), 200);

    /* list: this tenant only, no hash */
    CHECK_EQ_INT(call(&v, v.admin, "GET", "/api/v1/users", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"name\":\"bob\"") && strstr(r.body, "\"role\":\"analyst\""));
    CHECK(r.body && strstr(r.body, "\"name\":\"root\"") && !strstr(r.body, "carol"));
    CHECK(r.body && !strstr(r.body, "argon2") && !strstr(r.body, "pwhash"));

    /* change role, then password (old one refused) */
    CHECK_EQ_INT(call(&v, v.admin, "PATCH", "/api/v1/users/bob", "{\"role\":\"read\"}", &r), 200);
    CHECK_EQ_INT(basic(&v, "bob", "bob-password-1", "POST", "/api/v1/users", add, &r), 403);
    CHECK_EQ_INT(call(&v, v.admin, "PATCH", "/api/v1/users/bob", "{\"role\":\"x\"}", &r), 400);
    CHECK(r.body && strstr(r.body, "role"));
    CHECK_EQ_INT(call(&v, v.admin, "PATCH", "/api/v1/users/bob", "{\"password\":\"x\"}", &r), 400);
    CHECK(r.body && strstr(r.body, "password"));
    CHECK_EQ_INT(call(&v, v.admin, "PATCH", "/api/v1/users/bob", "{}", &r), 400);
    CHECK_EQ_INT(
        call(&v, v.admin, "PATCH", "/api/v1/users/bob", "{\"password\":\"bob-password-2\"}", &r),
        200);
    CHECK_EQ_INT(basic(&v, "bob", "bob-password-1", "GET", "/api/v1/stats", NULL, &r), 401);
    CHECK_EQ_INT(basic(&v, "bob", "bob-password-2", "GET", "/api/v1/stats", NULL, &r), 200);
    CHECK_EQ_INT(call(&v, v.admin, "PATCH", "/api/v1/users/nobody", "{\"role\":\"read\"}", &r),
                 404);

    /* another tenant: sees only its own users, cannot touch ours */
    CHECK_EQ_INT(call(&v, other, "GET", "/api/v1/users", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "carol") && !strstr(r.body, "bob") && !strstr(r.body, "root"));
    CHECK_EQ_INT(call(&v, other, "PATCH", "/api/v1/users/bob", "{\"role\":\"admin\"}", &r), 404);
    CHECK_EQ_INT(call(&v, other, "DELETE", "/api/v1/users/bob", NULL, &r), 404);
    CHECK_EQ_INT(call(&v, other, "GET", "/api/v1/users?tenant=default", NULL, &r), 403);
    CHECK_EQ_INT(call(&v, v.admin, "GET", "/api/v1/users?tenant=acme", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "carol") && !strstr(r.body, "bob"));

    /* delete: not yourself */
    CHECK_EQ_INT(basic(&v, "root", "root-password-1", "DELETE", "/api/v1/users/root", NULL, &r),
                 409);
    CHECK_EQ_INT(basic(&v, "root", "root-password-1", "DELETE", "/api/v1/users/bob", NULL, &r),
                 200);
    CHECK_EQ_INT(call(&v, v.admin, "DELETE", "/api/v1/users/bob", NULL, &r), 404);
    CHECK_EQ_INT(basic(&v, "bob", "bob-password-2", "GET", "/api/v1/stats", NULL, &r), 401);

    /* tokens: the secret once, it works, never listed, revoked → 401 */
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/tokens", tadd, &r), 201);
    const char *t = r.body ? strstr(r.body, "\"token\":\"vg_") : NULL;
    CHECK(t != NULL);
    if (t) {
        snprintf(tok, sizeof(tok), "%.*s", VG_API_TOKEN_SIZE - 1, t + 9);
    }
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/tokens", tadd, &r), 409);
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/tokens",
                      "{\"name\":\"x\",\"role\":\"read\","
                      "\"ttl\":\"soon\"}",
                      &r),
                 400);
    CHECK(r.body && strstr(r.body, "ttl"));
    CHECK_EQ_INT(call(&v, v.admin, "POST", "/api/v1/tokens", "{\"role\":\"read\"}", &r), 400);
    CHECK(r.body && strstr(r.body, "name"));
    CHECK_EQ_INT(call(&v, tok, "GET", "/api/v1/stats", NULL, &r), 200);
    CHECK_EQ_INT(call(&v, v.admin, "GET", "/api/v1/tokens", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"name\":\"ci\"") && strstr(r.body, "\"expires\":\"20"));
    CHECK(r.body && !strstr(r.body, tok + 3) && !strstr(r.body, "acme-admin"));
    CHECK_EQ_INT(call(&v, other, "GET", "/api/v1/tokens", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "acme-admin") && !strstr(r.body, "\"ci\""));
    CHECK_EQ_INT(call(&v, other, "DELETE", "/api/v1/tokens/ci", NULL, &r), 404);
    CHECK_EQ_INT(call(&v, v.admin, "DELETE", "/api/v1/tokens/ci", NULL, &r), 200);
    CHECK_EQ_INT(call(&v, tok, "GET", "/api/v1/stats", NULL, &r), 401);
    CHECK_EQ_INT(call(&v, v.admin, "DELETE", "/api/v1/tokens/ci", NULL, &r), 404);

    /* audited, without passwords or secrets */
    CHECK_EQ_INT(call(&v, v.admin, "GET", "/api/v1/audit?limit=100", NULL, &r), 200);
    CHECK(r.body && strstr(r.body, "\"action\":\"user.create\"") &&
          strstr(r.body, "\"action\":\"user.role\"") &&
          strstr(r.body, "\"action\":\"user.password\"") &&
          strstr(r.body, "\"action\":\"user.delete\"") &&
          strstr(r.body, "\"action\":\"token.create\"") &&
          strstr(r.body, "\"action\":\"token.revoke\"") &&
          strstr(r.body, "\"actor\":\"user:root\""));
    CHECK(r.body && !strstr(r.body, "bob-password") && !strstr(r.body, tok + 3));
    hresp_free(&r);
    srv_close(&v);
}
