/*
 * test_config.c — the fleet's remote configuration of agents (fleet_config.c) over loopback:
 * validation (unknown collector / key, a YARA rule that does not compile — with its line —,
 * not an object, trailing data) as vg_fleet_config_check and as 400s of PUT; roles (a reader
 * may read, not change); the tenant default and an agent's own configuration with their
 * source; another tenant sees 404; a hand-written mTLS agent gets CONFIG after HELLO's ACK
 * and again at once when the configuration changes; its config_applied event updates the
 * registry's collectors; changes are audited as agent.config.
 */
#include "fleet_test.h"

#include "agent/agent_wire.h"

static bool connect_hello(struct frig *g, struct ag *a, const struct cred *c, const char *spool,
                          long long *ack)
{
    if (!ag_connect(a, vg_fleet_port(g->f), c->cert, c->key, c->ca) || !ag_hello(a, c->id, spool)) {
        return false;
    }
    *ack = ag_ack(a);
    return *ack >= 0;
}

static int agent_cols(void *ctx, const struct vg_fleet_agent *a)
{
    snprintf(ctx, 256, "%s", a->collectors_json);
    return VG_OK;
}

static int audit_rec(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *r,
                     const char *hash)
{
    VG_UNUSED(seq);
    VG_UNUSED(ts);
    VG_UNUSED(hash);
    vg_sbuf_printf(ctx, "%s %s %s\n", r->action, r->actor, r->object);
    return VG_OK;
}

/* Expect a CONFIG frame; its payload (malloc'ed) or NULL. */
static char *ag_config(struct ag *a)
{
    char *p = NULL;
    size_t n = 0;
    int t = ag_recv(a, &p, &n);
    if (t != 5) {
        fprintf(stderr, "  expected CONFIG, got type %d: %.*s\n", t, (int)n, p ? p : "");
        free(p);
        return NULL;
    }
    return p;
}

VG_TEST(config_check_names_the_problem)
{
    static const struct {
        const char *json, *err;
    } bad[] = {
        {"[1]", "expected a JSON object"},
        {"{\"collectors\":{\"procs\":{}}}", "unknown collector 'procs'"},
        {"{\"collectors\":{\"fim\":[]}}", "collectors.fim: expected an object"},
        {"{\"collectors\":{\"fim\":{},\"fim\":{}}}", "'fim' appears twice"},
        {"{\"collectors\":[]}", "\"collectors\" must be an object"},
        {"{\"interval\":3}", "unknown key 'interval'"},
        {"{\"collectors\":{\"yara\":{\"rules\":\"rule a {\\n condition: nope }\"}}}",
         "collectors.yara.rules: pushed:2:"},
        {"{\"collectors\":{\"yara\":{\"rules\":7}}}", "expected YARA rule text"},
        {"{} x", "unexpected data"},
        {"{\"collectors\":", "expected a JSON object"},
    };
    char err[512];
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        int rc = vg_fleet_config_check(bad[i].json, strlen(bad[i].json), NULL, err, sizeof(err));
        if (rc != VG_EINVAL || !strstr(err, bad[i].err)) {
            fprintf(stderr, "  case %zu: rc %d err '%s'\n", i, rc, err);
            CHECK(0);
        }
    }
    struct vg_sbuf canon = VG_SBUF_INIT;
    const char *ok = "{ \"collectors\" : {\"fim\": {\"paths\": [\"/etc\"]}, \"process\": null,"
                     " \"yara\": {\"rules\": \"rule a { condition: true }\"}} }\n";
    CHECK_EQ_INT(vg_fleet_config_check(ok, strlen(ok), &canon, err, sizeof(err)), VG_OK);
    CHECK_STR(canon.p, "{\"collectors\":{\"fim\":{\"paths\":[\"/etc\"]},\"process\":null,"
                       "\"yara\":{\"rules\":\"rule a { condition: true }\"}}}");
    CHECK_EQ_INT(vg_fleet_config_check("{}", 2, &canon, err, sizeof(err)), VG_OK);
    vg_sbuf_fini(&canon);
}

static void api_checks(struct frig *g, const char *id)
{
    struct hresp h = {0};
    char path[128], other[160];
    snprintf(path, sizeof(path), "/api/v1/agents/%s/config", id);
    CHECK_EQ_INT(http1(g->r.port, "GET", path, g->reader, NULL, &h), 200);
    CHECK(h.body && strstr(h.body, "\"source\":\"none\"") && strstr(h.body, "\"config\":null"));
    CHECK_EQ_INT(http1(g->r.port, "PUT", path, g->reader, "{}", &h), 403);
    CHECK_EQ_INT(http1(g->r.port, "PUT", path, g->admin, "{\"collectors\":{\"x\":{}}}", &h), 400);
    CHECK(h.body && strstr(h.body, "unknown collector 'x'"));
    CHECK_EQ_INT(http1(g->r.port, "PUT", "/api/v1/agents/0123/config", g->admin, "{}", &h), 404);
    /* the tenant default applies to an agent without its own */
    CHECK_EQ_INT(http1(g->r.port, "PUT", "/api/v1/agents/config", g->admin,
                       "{\"collectors\":{\"process\":{}}}", &h),
                 200);
    CHECK(h.body && strstr(h.body, "\"id\":null") && strstr(h.body, "\"source\":\"default\""));
    CHECK_EQ_INT(http1(g->r.port, "GET", path, g->reader, NULL, &h), 200);
    CHECK(h.body && strstr(h.body, "\"source\":\"default\"") &&
          strstr(h.body, "\"config\":{\"collectors\":{\"process\":{}}}") &&
          strstr(h.body, "\"updated_by\":\"token:root\""));
    /* another tenant: no such agent, its own (empty) default */
    CHECK(rig_token(&g->r, "t2", VG_API_ROLE_ADMIN, "acme", other, sizeof(other)));
    CHECK_EQ_INT(http1(g->r.port, "GET", path, other, NULL, &h), 404);
    CHECK_EQ_INT(http1(g->r.port, "PUT", path, other, "{}", &h), 404);
    CHECK_EQ_INT(http1(g->r.port, "GET", "/api/v1/agents/config", other, NULL, &h), 200);
    CHECK(h.body && strstr(h.body, "\"source\":\"none\""));
    hresp_free(&h);
}

/* EVENTS frame with one event (seq 1) of the given JSON. */
static bool ag_event(struct ag *a, uint64_t seq, const char *json)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    uint8_t h[12] = {0};
    for (int i = 0; i < 8; i++) {
        h[i] = (uint8_t)(seq >> (8 * i));
    }
    h[8] = 1;
    vg_sbuf_add(&b, h, 12);
    vg_sbuf_adds(&b, json);
    vg_sbuf_addc(&b, '\n');
    bool ok = ag_send(a, 2, b.p, b.len);
    vg_sbuf_fini(&b);
    return ok;
}

VG_TEST(config_sent_after_hello_and_on_change)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    api_checks(&g, c.id);
    struct ag a;
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "s1", &ack) && ack == 0);
    char *cfg = ag_config(&a);
    CHECK(cfg && !strcmp(cfg, "{\"collectors\":{\"process\":{}}}"));
    free(cfg);
    /* the agent's own configuration wins and reaches it at once */
    char path[128], st[256] = "", err[256];
    struct hresp h = {0};
    snprintf(path, sizeof(path), "/api/v1/agents/%s/config", c.id);
    CHECK_EQ_INT(http1(g.r.port, "PUT", path, g.admin,
                       "{\"collectors\":{\"yara\":{\"rules\":\"rule r { condition: true }\"}}}",
                       &h),
                 200);
    CHECK(h.body && strstr(h.body, "\"source\":\"agent\""));
    cfg = ag_config(&a);
    CHECK(cfg && strstr(cfg, "\"yara\":{\"rules\":\"rule r { condition: true }\"}"));
    free(cfg);
    /* its config_applied event updates the registry */
    CHECK(ag_event(&a, 1,
                   "{\"event.module\":\"vigie-agent\",\"event.dataset\":\"agent\","
                   "\"event.action\":\"config_applied\",\"agent.collectors\":"
                   "{\"yara\":\"libyara\"}}"));
    CHECK_EQ_INT(ag_ack(&a), 1);
    CHECK_EQ_INT(vg_fleet_agent_get(g.f, NULL, c.id, agent_cols, st), VG_OK);
    CHECK_STR(st, "{\"yara\":\"libyara\"}");
    /* a malformed one is stored as an event but does not touch the registry */
    CHECK(ag_event(&a, 2,
                   "{\"event.dataset\":\"agent\",\"event.action\":\"config_applied\","
                   "\"agent.collectors\":{\"yara\":[1]}}"));
    CHECK_EQ_INT(ag_ack(&a), 2);
    CHECK_EQ_INT(vg_fleet_agent_get(g.f, NULL, c.id, agent_cols, st), VG_OK);
    CHECK_STR(st, "{\"yara\":\"libyara\"}");
    /* the same configuration again sends nothing; {} is sent (back to the local file) */
    const char *same = "{\"collectors\":{\"yara\":{\"rules\":\"rule r { condition: true }\"}}}";
    CHECK_EQ_INT(vg_fleet_config_set(g.f, NULL, NULL, c.id, same, strlen(same), err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(vg_fleet_config_set(g.f, NULL, NULL, c.id, "{}", 2, err, sizeof(err)), VG_OK);
    cfg = ag_config(&a);
    CHECK(cfg && !strcmp(cfg, "{}"));
    free(cfg);
    /* audited */
    struct vg_sbuf out = VG_SBUF_INIT;
    struct vg_audit_query q = {.action_prefix = "agent.config", .on_rec = audit_rec, .ctx = &out};
    CHECK_EQ_INT(vg_audit_query(g.audit, &q, err, sizeof(err)), VG_OK);
    CHECK(out.p && strstr(out.p, "agent.config token:root agent-config:default") &&
          strstr(out.p, "agent.config token:root agent:") && strstr(out.p, "agent.config system"));
    vg_sbuf_fini(&out);
    ag_close(&a);
    hresp_free(&h);
    cred_free(&c);
    frig_close(&g);
}
