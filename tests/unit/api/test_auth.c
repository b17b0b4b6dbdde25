/*
 * test_auth.c — authentication and authorisation of the API over loopback: deny by default
 * (no credentials, bad, malformed, revoked and expired tokens, too small a role, another
 * tenant), tokens (stored hashed, last use, revocation seen at once), argon2id passwords
 * with HTTP Basic, console sessions with their cookie flags and CSRF token, idle and
 * absolute expiry, sessions ended by a password change or a deleted user, brute-force
 * lock-outs per user and per address, the first-start admin, and the CLI.
 */
#include "api_test.h"

#include <sodium.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int h_who(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    static const char *const kinds[] = {"none", "token", "password", "session"};
    VG_UNUSED(ctx);
    vg_sbuf_printf(&resp->body, "%s:%s:%s:%s:%s", kinds[req->who.kind],
                   vg_api_role_name(req->who.role), req->who.name, req->who.tenant, req->tenant);
    resp->content_type = "text/plain";
    return VG_OK;
}

static bool open_auth_rig(struct rig *r, const struct vg_api_opts *o)
{
    vg_log_set_level(VG_LOG_ERROR);
    return rig_open(r, o, NULL, 0, false) &&
           vg_api_route(r->api, "GET", "/api/v1/data", VG_API_ROLE_READ, h_who, NULL) == VG_OK &&
           vg_api_route(r->api, "POST", "/api/v1/change", VG_API_ROLE_ANALYST, h_who, NULL) ==
               VG_OK &&
           vg_api_route(r->api, "GET", "/api/v1/admin", VG_API_ROLE_ADMIN, h_who, NULL) == VG_OK &&
           rig_start(r);
}

#define RIG(r, o)                                                                                  \
    struct rig r;                                                                                  \
    if (!open_auth_rig(&r, (o))) {                                                                 \
        CHECK(!"rig");                                                                             \
        return;                                                                                    \
    }

static void basic_hdr(const char *user, const char *pw, char *out, size_t size)
{
    char cred[256], b64[400];
    snprintf(cred, sizeof(cred), "%s:%s", user, pw);
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, size, "Authorization: Basic %s\r\n", b64);
}

VG_TEST(deny_by_default)
{
    RIG(r, NULL);
    struct vg_api_auth *a = vg_api_get_auth(r.api);
    struct hresp h = {0};
    char v[128], rd[128], ing[128], adm[128], acme[128], tok[VG_API_TOKEN_SIZE], hdr[128];
    CHECK(rig_token(&r, "reader", VG_API_ROLE_READ, NULL, rd, sizeof(rd)));
    CHECK(rig_token(&r, "shipper", VG_API_ROLE_INGEST, NULL, ing, sizeof(ing)));
    CHECK(rig_token(&r, "root", VG_API_ROLE_ADMIN, NULL, adm, sizeof(adm)));
    CHECK(rig_token(&r, "acme-reader", VG_API_ROLE_READ, "acme", acme, sizeof(acme)));
    /* no credentials */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", NULL, NULL, &h), 401);
    CHECK_STR(hr_header(&h, "WWW-Authenticate", v, sizeof(v)), "Bearer realm=\"vigie\"");
    CHECK(strstr(h.body, "\"code\":\"unauthorized\"") != NULL);
    /* good token */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", rd, NULL, &h), 200);
    CHECK_STR(h.body, "token:read:reader:default:default");
    /* the Splunk scheme carries the same tokens */
    snprintf(hdr, sizeof(hdr), "Authorization: Splunk %s", rd + 22);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", hdr, NULL, &h), 200);
    /* unknown, malformed, unsupported scheme */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data",
                       "Authorization: Bearer vg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
                       NULL, &h),
                 401);
    CHECK(strstr(h.body, "\"code\":\"invalid_credentials\"") != NULL);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", "Authorization: Bearer nope\r\n", NULL, &h),
                 401);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", "Authorization: Digest x\r\n", NULL, &h),
                 401);
    /* revoked: effective at once */
    CHECK_EQ_INT(vg_api_token_revoke(a, "reader"), VG_OK);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", rd, NULL, &h), 401);
    CHECK_EQ_INT(vg_api_token_revoke(a, "reader"), VG_ENOENT);
    /* expired */
    CHECK_EQ_INT(vg_api_token_create(a, "old", VG_API_ROLE_READ, NULL, vg_time_now() - 1000000000ll,
                                     tok, sizeof(tok)),
                 VG_OK);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", hdr, NULL, &h), 401);
    /* a token expiring later works */
    CHECK_EQ_INT(vg_api_token_create(a, "soon", VG_API_ROLE_READ, NULL,
                                     vg_time_now() + 3600 * 1000000000ll, tok, sizeof(tok)),
                 VG_OK);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", hdr, NULL, &h), 200);
    /* roles: ingest < read < analyst < admin */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", ing, NULL, &h), 403);
    CHECK(strstr(h.body, "\"code\":\"forbidden\"") && strstr(h.body, "role read required"));
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/change", hdr, "", &h), 403);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/change", adm, "", &h), 200);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/admin", adm, NULL, &h), 200);
    /* tenants: confined to one's own; an admin of "default" may pick any */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", acme, NULL, &h), 200);
    CHECK_STR(h.body, "token:read:acme-reader:acme:acme");
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data?tenant=acme", acme, NULL, &h), 200);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data?tenant=default", acme, NULL, &h), 403);
    CHECK(strstr(h.body, "\"code\":\"forbidden_tenant\"") != NULL);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data?tenant=acme", hdr, NULL, &h), 403);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data?tenant=acme", adm, NULL, &h), 200);
    CHECK_STR(h.body, "token:admin:root:default:acme");
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data?tenant=../x", adm, NULL, &h), 400);
    /* public routes stay open */
    CHECK_EQ_INT(http1(r.port, "GET", "/healthz", NULL, NULL, &h), 200);
    hresp_free(&h);
    rig_close(&r);
}

struct tok_seen {
    int n, revoked, used;
    char names[8][32];
};

static int collect_token(void *ctx, const struct vg_api_token_info *t)
{
    struct tok_seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s/%s/%s", t->name,
                 vg_api_role_name(t->role), t->tenant);
    }
    s->n++;
    s->revoked += t->revoked != VG_TIME_NONE;
    s->used += t->last_used != VG_TIME_NONE;
    return 0;
}

VG_TEST(token_lifecycle_and_storage)
{
    RIG(r, NULL);
    struct vg_api_auth *a = vg_api_get_auth(r.api);
    char tok[VG_API_TOKEN_SIZE], tok2[VG_API_TOKEN_SIZE], hdr[128], path[128];
    struct hresp h = {0};
    CHECK_EQ_INT(
        vg_api_token_create(a, "ci", VG_API_ROLE_READ, "team-1", VG_TIME_NONE, tok, sizeof(tok)),
        VG_OK);
    CHECK_EQ_INT(strlen(tok), VG_API_TOKEN_SIZE - 1);
    CHECK(!strncmp(tok, "vg_", 3));
    CHECK_EQ_INT(
        vg_api_token_create(a, "ci", VG_API_ROLE_READ, NULL, VG_TIME_NONE, tok2, sizeof(tok2)),
        VG_EEXIST);
    CHECK_EQ_INT(vg_api_token_create(a, "bad name", VG_API_ROLE_READ, NULL, VG_TIME_NONE, tok2,
                                     sizeof(tok2)),
                 VG_EINVAL);
    CHECK_EQ_INT(
        vg_api_token_create(a, "x", VG_API_ROLE_PUBLIC, NULL, VG_TIME_NONE, tok2, sizeof(tok2)),
        VG_EINVAL);
    CHECK_EQ_INT(
        vg_api_token_create(a, "x", VG_API_ROLE_READ, "a/b", VG_TIME_NONE, tok2, sizeof(tok2)),
        VG_EINVAL);
    snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", hdr, NULL, &h), 200);
    struct tok_seen s = {0};
    CHECK_EQ_INT(vg_api_token_list(a, collect_token, &s), VG_OK);
    CHECK_EQ_INT(s.n, 1);
    CHECK_STR(s.names[0], "ci/read/team-1");
    CHECK_EQ_INT(s.used, 1);
    /* revoke, then the name is free again; the old token stays dead */
    CHECK_EQ_INT(vg_api_token_revoke(a, "ci"), VG_OK);
    CHECK_EQ_INT(
        vg_api_token_create(a, "ci", VG_API_ROLE_INGEST, NULL, VG_TIME_NONE, tok2, sizeof(tok2)),
        VG_OK);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", hdr, NULL, &h), 401);
    memset(&s, 0, sizeof(s));
    CHECK_EQ_INT(vg_api_token_list(a, collect_token, &s), VG_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_INT(s.revoked, 1);
    /* at rest: the token is nowhere in auth.db; the secrets are 0600 */
    char *db = NULL;
    size_t dblen = 0;
    struct stat st;
    snprintf(path, sizeof(path), "%s/auth.db", r.dir);
    CHECK(vg_file_read(path, 1 << 24, &db, &dblen) == VG_OK);
    CHECK(db && !memmem(db, dblen, tok + 3, 20) && !memmem(db, dblen, tok2 + 3, 20));
    vg_free(db);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    snprintf(path, sizeof(path), "%s/auth.key", r.dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(basic_auth_passwords)
{
    RIG(r, NULL);
    struct vg_api_auth *a = vg_api_get_auth(r.api);
    struct hresp h = {0};
    char good[512], bad[512], newer[512];
    CHECK_EQ_INT(vg_api_user_add(a, "alice", "correct horse battery", VG_API_ROLE_ANALYST, "blue"),
                 VG_OK);
    CHECK_EQ_INT(vg_api_user_add(a, "alice", "correct horse battery", VG_API_ROLE_READ, NULL),
                 VG_EEXIST);
    CHECK_EQ_INT(vg_api_user_add(a, "bob", "short", VG_API_ROLE_READ, NULL), VG_EINVAL);
    CHECK_EQ_INT(vg_api_user_add(a, "b\nb", "long enough pw", VG_API_ROLE_READ, NULL), VG_EINVAL);
    basic_hdr("alice", "correct horse battery", good, sizeof(good));
    basic_hdr("alice", "wrong horse battery", bad, sizeof(bad));
    basic_hdr("alice", "a brand new password", newer, sizeof(newer));
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", good, NULL, &h), 200);
    CHECK_STR(h.body, "password:analyst:alice:blue:blue");
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", good, NULL, &h), 200); /* cached */
    uint64_t cached_ns = vg_clock_ns() - t0;
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", bad, NULL, &h), 401);
    CHECK(strstr(h.body, "\"code\":\"invalid_credentials\"") != NULL);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", "Authorization: Basic !!!\r\n", NULL, &h),
                 401);
    /* a new password applies at once, despite the cache */
    CHECK_EQ_INT(vg_api_user_passwd(a, "alice", "a brand new password"), VG_OK);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", good, NULL, &h), 401);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", newer, NULL, &h), 200);
    CHECK_EQ_INT(vg_api_user_passwd(a, "nobody", "a brand new password"), VG_ENOENT);
    /* deleted: gone at once */
    CHECK_EQ_INT(vg_api_user_del(a, "alice"), VG_OK);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", newer, NULL, &h), 401);
    CHECK_EQ_INT(vg_api_user_del(a, "alice"), VG_ENOENT);
    fprintf(stderr, "  cached Basic request: %.1f ms\n", (double)cached_ns / 1e6);
    hresp_free(&h);
    rig_close(&r);
}

/* Log in; fills cookie ("Cookie: vigie_session=...\r\n") and csrf. Returns the status. */
static int login(int port, const char *user, const char *pw, char *cookie, size_t csize, char *csrf,
                 size_t xsize, struct hresp *h)
{
    char body[256], v[512];
    snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
    int st =
        http1(port, "POST", "/api/v1/auth/login", "Content-Type: application/json\r\n", body, h);
    if (st == 200 && hr_header(h, "Set-Cookie", v, sizeof(v))) {
        snprintf(cookie, csize, "Cookie: theme=dark; %.*s\r\n", (int)strcspn(v, ";"), v);
        const char *c = strstr(h->body, "\"csrf_token\":\"");
        snprintf(csrf, xsize, "%.*s", c ? 43 : 0, c ? c + 14 : "");
    }
    return st;
}

VG_TEST(sessions_and_csrf)
{
    RIG(r, NULL);
    struct vg_api_auth *a = vg_api_get_auth(r.api);
    struct hresp h = {0};
    char cookie[256], csrf[64], v[512], hdr[512];
    CHECK_EQ_INT(vg_api_user_add(a, "carol", "carol's long secret", VG_API_ROLE_ANALYST, NULL),
                 VG_OK);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/auth/login", "Content-Type: text/plain\r\n",
                       "{\"user\":\"carol\",\"password\":\"carol's long secret\"}", &h),
                 415);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/auth/login", "Content-Type: application/json\r\n",
                       "{\"user\":\"carol\"}", &h),
                 400);
    CHECK_EQ_INT(
        login(r.port, "carol", "wrong secret....", cookie, sizeof(cookie), csrf, sizeof(csrf), &h),
        401);
    CHECK(!hr_header(&h, "Set-Cookie", v, sizeof(v)));
    CHECK_EQ_INT(login(r.port, "carol", "carol's long secret", cookie, sizeof(cookie), csrf,
                       sizeof(csrf), &h),
                 200);
    CHECK(hr_header(&h, "Set-Cookie", v, sizeof(v)) != NULL);
    CHECK(strstr(v, "HttpOnly") && strstr(v, "SameSite=Strict") && strstr(v, "Path=/"));
    CHECK(!strstr(v, "Secure")); /* plain HTTP here */
    CHECK(strstr(h.body, "\"user\":\"carol\",\"role\":\"analyst\",\"tenant\":\"default\"") != NULL);
    CHECK_EQ_INT(strlen(csrf), 43);
    /* reads with the cookie alone */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 200);
    CHECK_STR(h.body, "session:analyst:carol:default:default");
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/auth/me", cookie, NULL, &h), 200);
    CHECK(strstr(h.body, "\"auth\":\"session\"") != NULL);
    /* changes need the CSRF token */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/change", cookie, "", &h), 403);
    CHECK(strstr(h.body, "\"code\":\"csrf\"") != NULL);
    snprintf(hdr, sizeof(hdr), "%sX-CSRF-Token: %.42sx\r\n", cookie, csrf);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/change", hdr, "", &h), 403);
    snprintf(hdr, sizeof(hdr), "%sX-CSRF-Token: %s\r\n", cookie, csrf);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/change", hdr, "", &h), 200);
    /* a forged cookie */
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data",
                       "Cookie: vigie_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
                       NULL, &h),
                 401);
    /* logout is a change too: it needs the CSRF token, then the session is gone */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/auth/logout", cookie, "", &h), 403);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/auth/logout", hdr, "", &h), 200);
    CHECK(hr_header(&h, "Set-Cookie", v, sizeof(v)) && strstr(v, "Max-Age=0"));
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 401);
    /* a password change or a deletion ends the sessions */
    CHECK_EQ_INT(login(r.port, "carol", "carol's long secret", cookie, sizeof(cookie), csrf,
                       sizeof(csrf), &h),
                 200);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 200);
    CHECK_EQ_INT(vg_api_user_passwd(a, "carol", "carol's newer secret"), VG_OK);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 401);
    CHECK_EQ_INT(login(r.port, "carol", "carol's newer secret", cookie, sizeof(cookie), csrf,
                       sizeof(csrf), &h),
                 200);
    CHECK_EQ_INT(vg_api_user_del(a, "carol"), VG_OK);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 401);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(session_expiry)
{
    struct vg_api_opts o = {.session_idle_ms = 2000, .session_max_ms = 3000};
    RIG(r, &o);
    struct hresp h = {0};
    char cookie[256], csrf[64];
    CHECK_EQ_INT(vg_api_user_add(vg_api_get_auth(r.api), "dave", "dave's long secret",
                                 VG_API_ROLE_READ, NULL),
                 VG_OK);
    CHECK_EQ_INT(
        login(r.port, "dave", "dave's long secret", cookie, sizeof(cookie), csrf, sizeof(csrf), &h),
        200);
    CHECK(strstr(h.body, "\"idle_timeout_s\":2,\"expires_in_s\":3") != NULL);
    /* activity keeps it alive while idle < 2 s... */
    usleep(1000000);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 200);
    usleep(1000000);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 200);
    /* ...but not past the absolute 3 s */
    usleep(1400000);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 401);
    CHECK(strstr(h.body, "\"code\":\"session_expired\"") != NULL);
    /* idle expiry */
    CHECK_EQ_INT(
        login(r.port, "dave", "dave's long secret", cookie, sizeof(cookie), csrf, sizeof(csrf), &h),
        200);
    usleep(2400000);
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", cookie, NULL, &h), 401);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(brute_force_lockout)
{
    struct vg_api_opts o = {.login_free = 3};
    RIG(r, &o);
    struct hresp h = {0};
    char cookie[256], csrf[64], v[64], basic[512];
    CHECK_EQ_INT(vg_api_user_add(vg_api_get_auth(r.api), "erin", "erin's long secret",
                                 VG_API_ROLE_READ, NULL),
                 VG_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(login(r.port, "erin", "guess number 1234", cookie, sizeof(cookie), csrf,
                           sizeof(csrf), &h),
                     401);
    }
    /* locked: even the right password is refused, without a check */
    CHECK_EQ_INT(
        login(r.port, "erin", "erin's long secret", cookie, sizeof(cookie), csrf, sizeof(csrf), &h),
        429);
    CHECK_STR(hr_header(&h, "Retry-After", v, sizeof(v)), "1");
    CHECK(strstr(h.body, "\"code\":\"too_many_requests\"") != NULL);
    basic_hdr("erin", "erin's long secret", basic, sizeof(basic));
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", basic, NULL, &h), 429);
    /* the lock-out ends */
    usleep(1100000);
    CHECK_EQ_INT(
        login(r.port, "erin", "erin's long secret", cookie, sizeof(cookie), csrf, sizeof(csrf), &h),
        200);
    /* per address: 4 x 3 failures in all, whatever the user names */
    for (int i = 0; i < 9; i++) {
        char user[32];
        snprintf(user, sizeof(user), "user%d", i);
        CHECK_EQ_INT(login(r.port, user, "guess number 1234", cookie, sizeof(cookie), csrf,
                           sizeof(csrf), &h),
                     401);
    }
    CHECK_EQ_INT(
        login(r.port, "erin", "erin's long secret", cookie, sizeof(cookie), csrf, sizeof(csrf), &h),
        429);
    /* tokens are not password checks: unaffected */
    char tok[128];
    CHECK(rig_token(&r, "t", VG_API_ROLE_READ, NULL, tok, sizeof(tok)));
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/data", tok, NULL, &h), 200);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(bootstrap_first_admin)
{
    char dir[] = "/tmp/vg-api-XXXXXX", path[128], *pw = NULL, *out = NULL;
    size_t pl = 0, ol = 0;
    bool created = false;
    CHECK(mkdtemp(dir) != NULL);
    FILE *mem = open_memstream(&out, &ol);
    CHECK_EQ_INT(vg_api_bootstrap(dir, mem, &created), VG_OK);
    fclose(mem);
    CHECK(created);
    snprintf(path, sizeof(path), "%s/initial-admin-password", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(vg_file_read(path, 4096, &pw, &pl) == VG_OK && pl == 25 && pw[24] == '\n');
    pw[24] = '\0';
    CHECK(out && strstr(out, pw) && strstr(out, "admin"));
    /* a second start leaves everything alone */
    CHECK_EQ_INT(vg_api_bootstrap(dir, stderr, &created), VG_OK);
    CHECK(!created);
    /* the password works */
    struct rig r = {0};
    struct vg_api_opts o = {.listen = "127.0.0.1:0", .data_dir = dir};
    char err[256], hdr[512];
    CHECK_EQ_INT(vg_api_create(&o, &r.api, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_api_route(r.api, "GET", "/api/v1/admin", VG_API_ROLE_ADMIN, h_who, NULL),
                 VG_OK);
    snprintf(r.dir, sizeof(r.dir), "%s", dir);
    CHECK(rig_start(&r));
    r.port = vg_api_port(r.api);
    basic_hdr("admin", pw, hdr, sizeof(hdr));
    struct hresp h = {0};
    CHECK_EQ_INT(http1(r.port, "GET", "/api/v1/admin", hdr, NULL, &h), 200);
    CHECK_STR(h.body, "password:admin:admin:default:default");
    hresp_free(&h);
    vg_free(pw);
    free(out);
    rig_close(&r);
}

/* Run the vigie binary with stdin_text; output into out. Returns the exit status. */
static int run_cli(const char *args, const char *stdin_text, char *out, size_t size)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | %s/vigie %s 2>&1", stdin_text, VG_BINARY_DIR,
             args);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, size - 1, p) : 0;
    out[n] = '\0';
    int st = p ? pclose(p) : -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

VG_TEST(cli_users_and_tokens)
{
    char bin[512], dir[] = "/tmp/vg-api-XXXXXX", args[512], out[4096];
    snprintf(bin, sizeof(bin), "%s/vigie", VG_BINARY_DIR);
    if (access(bin, X_OK) != 0) {
        VG_SKIP("the vigie binary is not built");
    }
    CHECK(mkdtemp(dir) != NULL);
    snprintf(args, sizeof(args), "user add --data %s frank --role analyst --tenant t1", dir);
    CHECK_EQ_INT(run_cli(args, "frank long password", out, sizeof(out)), 0);
    CHECK_EQ_INT(run_cli(args, "frank long password", out, sizeof(out)), 1); /* exists */
    snprintf(args, sizeof(args), "user add --data %s gina --role read", dir);
    CHECK_EQ_INT(run_cli(args, "short", out, sizeof(out)), 1);
    CHECK(strstr(out, "at least 12") != NULL);
    snprintf(args, sizeof(args), "user add --data %s gina --role boss", dir);
    CHECK_EQ_INT(run_cli(args, "gina long password", out, sizeof(out)), 2);
    snprintf(args, sizeof(args), "user list --data %s --format json", dir);
    CHECK_EQ_INT(run_cli(args, "", out, sizeof(out)), 0);
    CHECK(strstr(out, "{\"name\":\"frank\",\"role\":\"analyst\",\"tenant\":\"t1\"") != NULL);
    snprintf(args, sizeof(args), "token create --data %s ship-1 --role ingest --expires 90d", dir);
    CHECK_EQ_INT(run_cli(args, "", out, sizeof(out)), 0);
    CHECK(!strncmp(out, "vg_", 3) && out[VG_API_TOKEN_SIZE - 1] == '\n');
    snprintf(args, sizeof(args), "token list --data %s", dir);
    CHECK_EQ_INT(run_cli(args, "", out, sizeof(out)), 0);
    CHECK(strstr(out, "ship-1") && strstr(out, "ingest"));
    snprintf(args, sizeof(args), "token revoke --data %s ship-1", dir);
    CHECK_EQ_INT(run_cli(args, "", out, sizeof(out)), 0);
    CHECK_EQ_INT(run_cli(args, "", out, sizeof(out)), 1);
    snprintf(args, sizeof(args), "user passwd --data %s frank", dir);
    CHECK_EQ_INT(run_cli(args, "frank newer password", out, sizeof(out)), 0);
    snprintf(args, sizeof(args), "user del --data %s frank", dir);
    CHECK_EQ_INT(run_cli(args, "", out, sizeof(out)), 0);
    CHECK_EQ_INT(run_cli(args, "", out, sizeof(out)), 1);
    CHECK_EQ_INT(run_cli("user frobnicate", "", out, sizeof(out)), 2);
    snprintf(args, sizeof(args), "rm -rf '%s'", dir);
    CHECK(system(args) == 0);
}
