/*
 * test_fleet.c — the fleet end to end over loopback: CA files created once (0600) and
 * reused; enrollment over the REST API with a CSR made here (certificate chains to the CA,
 * CN = the assigned id), refused with a bad/used-up token (401), a bad CSR (400) and
 * rate-limited (429); a hand-written mTLS agent sends HELLO and EVENTS and gets ACK only
 * once the journal holds the events durably (meta with the dedupe key); a resent batch is
 * stored once and a sequence gap is refused; a revoked agent is cut off and refused at the
 * handshake; a client certificate from another CA (or none) is refused; a signed command
 * round trip (signature checked with libsodium and with the agent's verifier) with the
 * result audited.
 */
#include "fleet_test.h"

#include "agent/agent_wire.h"

/* Connections refused so far, waiting up to 2 s for at least min (the server counts after
   the client already saw the refusal). */
static uint64_t refused(struct frig *g, uint64_t min)
{
    struct vg_fleet_stats s;
    for (int i = 0; i < 200; i++) {
        vg_fleet_stats(g->f, &s);
        if (s.conns_refused >= min) {
            break;
        }
        usleep(10000);
    }
    return s.conns_refused;
}

/* Journal records of input 42 after seq 0, as "data\tmeta" lines (meta '\x1f' → '|'). */
static size_t agent_recs(struct frig *g, struct vg_sbuf *out)
{
    struct vg_journal_reader *rd = vg_journal_reader_open(g->r.j, 0);
    struct vg_rec rec;
    uint64_t seq;
    size_t n = 0;
    vg_sbuf_reset(out);
    while (vg_journal_next(rd, &rec, &seq, 50) == VG_OK) {
        if (rec.input != 42) {
            continue;
        }
        CHECK(seq <= vg_journal_durable_seq(g->r.j));
        vg_sbuf_add(out, rec.data, rec.len);
        vg_sbuf_addc(out, '\t');
        for (uint32_t i = 0; i < rec.meta_len; i++) {
            vg_sbuf_addc(out, rec.meta[i] == '\x1f' ? '|' : rec.meta[i]);
        }
        vg_sbuf_addc(out, '\n');
        n++;
    }
    vg_journal_reader_close(rd);
    return n;
}

static bool connect_hello(struct frig *g, struct ag *a, const struct cred *c, const char *spool,
                          long long *ack)
{
    if (!ag_connect(a, vg_fleet_port(g->f), c->cert, c->key, c->ca) || !ag_hello(a, c->id, spool)) {
        return false;
    }
    *ack = ag_ack(a);
    return *ack >= 0;
}

static int agent_status(void *ctx, const struct vg_fleet_agent *a)
{
    snprintf(ctx, 160, "%s|%s|%s|%s|%s|%s", a->status, a->hostname, a->version, a->os, a->ips_json,
             a->collectors_json);
    return VG_OK;
}

/* ---------------------------------------------------------------- CA and enrollment */

VG_TEST(ca_files_created_once_and_reused)
{
    struct frig g;
    if (!frig_open(&g, 0)) {
        CHECK(!"rig");
        return;
    }
    char path[200];
    struct stat st;
    snprintf(path, sizeof(path), "%s/fleet/ca.key", g.r.dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    snprintf(path, sizeof(path), "%s/fleet/command.key", g.r.dir);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    char *ca1 = strdup(vg_fleet_ca_pem(g.f));
    uint8_t pk1[32];
    memcpy(pk1, vg_fleet_command_pubkey(g.f), 32);
    X509 *ca = pem_cert(ca1);
    CHECK(ca && X509_check_ca(ca) == 1);
    /* ten years */
    int days = 0, secs = 0;
    CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca), X509_get0_notAfter(ca)) &&
          days >= 3650);
    X509_free(ca);
    struct cred c;
    CHECK(enroll(&g, &c));
    /* a second start on the same directory keeps the CA and key: old certificates work */
    vg_fleet_destroy(g.f);
    CHECK(frig_fleet(&g, 0));
    CHECK_STR(vg_fleet_ca_pem(g.f), ca1);
    CHECK(memcmp(vg_fleet_command_pubkey(g.f), pk1, 32) == 0);
    struct ag a;
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "s1", &ack) && ack == 0);
    ag_close(&a);
    /* a CA key readable by others is refused */
    snprintf(path, sizeof(path), "%s/fleet/ca.key", g.r.dir);
    vg_fleet_destroy(g.f);
    g.f = NULL;
    chmod(path, 0644);
    struct vg_fleet *f2 = NULL;
    char err[256];
    struct vg_fleet_opts fo = {.data_dir = g.r.dir, .journal = g.r.j, .listen = "127.0.0.1:0"};
    CHECK_EQ_INT(vg_fleet_create(&fo, &f2, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "ca.key") != NULL);
    cred_free(&c);
    free(ca1);
    frig_close(&g);
}

VG_TEST(enroll_issues_client_cert_and_lists_agent)
{
    struct frig g;
    if (!frig_open(&g, 0)) {
        CHECK(!"rig");
        return;
    }
    struct cred c;
    CHECK(enroll(&g, &c));
    CHECK(c.id && strlen(c.id) == 32);
    CHECK(c.pubkey_hex && strlen(c.pubkey_hex) == 64);
    CHECK(c.endpoint && strstr(c.endpoint, "agents.test:") == c.endpoint);
    X509 *x = c.cert ? pem_cert(c.cert) : NULL, *ca = c.ca ? pem_cert(c.ca) : NULL;
    CHECK(x && ca);
    if (x && ca) {
        char cn[64] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
        CHECK_STR(cn, c.id); /* not the CN of the CSR */
        EVP_PKEY *capub = X509_get0_pubkey(ca);
        CHECK(X509_verify(x, capub) == 1);
        CHECK(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) == 1);
        CHECK(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) != 1);
        int days = 0, secs = 0;
        CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)) &&
              days >= 365 && days <= 366);
    }
    X509_free(x);
    X509_free(ca);
    struct hresp h = {0};
    CHECK_EQ_INT(http1(g.r.port, "GET", "/api/v1/agents", g.reader, NULL, &h), 200);
    CHECK(h.body && strstr(h.body, c.id) && strstr(h.body, "\"status\":\"offline\"") &&
          strstr(h.body, "\"hostname\":\"host-a\"") && strstr(h.body, "\"total\":1"));
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/agents/%s", c.id);
    CHECK_EQ_INT(http1(g.r.port, "GET", path, g.reader, NULL, &h), 200);
    CHECK_EQ_INT(http1(g.r.port, "GET", "/api/v1/agents/nope", g.reader, NULL, &h), 404);
    /* another tenant sees nothing */
    char other[160];
    CHECK(rig_token(&g.r, "t2", VG_API_ROLE_ADMIN, "acme", other, sizeof(other)));
    CHECK_EQ_INT(http1(g.r.port, "GET", "/api/v1/agents", other, NULL, &h), 200);
    CHECK(h.body && !strstr(h.body, c.id));
    CHECK_EQ_INT(http1(g.r.port, "GET", path, other, NULL, &h), 404);
    /* roles: a reader may not create tokens */
    CHECK_EQ_INT(
        http1(g.r.port, "POST", "/api/v1/agents/enroll-tokens", g.reader, "{\"uses\":1}", &h), 403);
    hresp_free(&h);
    cred_free(&c);
    frig_close(&g);
}

VG_TEST(enroll_refuses_bad_token_and_bad_csr)
{
    struct frig g;
    if (!frig_open(&g, 100)) {
        CHECK(!"rig");
        return;
    }
    EVP_PKEY *k = EVP_EC_gen("P-256");
    char *csr = make_csr(k, "x");
    char *tok = api_token(&g, "{\"ttl\":600,\"uses\":1}");
    struct hresp h = {0};
    CHECK(tok != NULL);
    CHECK_EQ_INT(api_enroll(&g, NULL, csr, &h), 401);
    CHECK_EQ_INT(api_enroll(&g, "vge_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", csr, &h), 401);
    CHECK(h.body && strstr(h.body, "enrollment token"));
    /* bad CSRs: garbage, a forged self-signature, a weak RSA key */
    CHECK_EQ_INT(api_enroll(&g, tok, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", &h), 400);
    CHECK(h.body && strstr(h.body, "CSR"));
    char *forged = strdup(csr);
    char *mid = strstr(forged, "\n") + 40;
    *mid = *mid == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(api_enroll(&g, tok, forged, &h), 400);
    EVP_PKEY *weak = EVP_RSA_gen(1024);
    char *wcsr = make_csr(weak, "x");
    CHECK_EQ_INT(api_enroll(&g, tok, wcsr, &h), 400);
    CHECK(h.body && strstr(h.body, "1024"));
    CHECK_EQ_INT(api_enroll(&g, tok, "{\"csr\":5}", &h), 400);
    /* the token was not consumed by the failures; it is by a success, once */
    CHECK_EQ_INT(api_enroll(&g, tok, csr, &h), 200);
    CHECK_EQ_INT(api_enroll(&g, tok, csr, &h), 401);
    /* Ed25519 keys are accepted; expired tokens are not */
    char *t2 = NULL;
    CHECK_EQ_INT(
        vg_fleet_enroll_token_create(g.f, NULL, NULL, 1, 5, (t2 = calloc(1, 64)), 64, NULL), VG_OK);
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char *ecsr = make_csr(ed, "x");
    CHECK_EQ_INT(api_enroll(&g, t2, ecsr, &h), 200);
    sleep(2);
    CHECK_EQ_INT(api_enroll(&g, t2, ecsr, &h), 401);
    hresp_free(&h);
    EVP_PKEY_free(k);
    EVP_PKEY_free(weak);
    EVP_PKEY_free(ed);
    free(csr);
    free(wcsr);
    free(ecsr);
    free(forged);
    free(tok);
    free(t2);
    frig_close(&g);
}

VG_TEST(enroll_failures_are_rate_limited)
{
    struct frig g;
    if (!frig_open(&g, 3)) {
        CHECK(!"rig");
        return;
    }
    EVP_PKEY *k = EVP_EC_gen("P-256");
    char *csr = make_csr(k, "x"), *tok = api_token(&g, "{}");
    struct hresp h = {0};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(api_enroll(&g, "vge_wrong", csr, &h), 401);
    }
    CHECK_EQ_INT(api_enroll(&g, "vge_wrong", csr, &h), 429);
    CHECK_EQ_INT(api_enroll(&g, tok, csr, &h), 429); /* even a good token, for a minute */
    hresp_free(&h);
    EVP_PKEY_free(k);
    free(csr);
    free(tok);
    frig_close(&g);
}

/* ---------------------------------------------------------------- events */

VG_TEST(events_acked_after_journal_with_dedupe_key)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    struct ag a;
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "sp1", &ack));
    CHECK_EQ_INT(ack, 0);
    char st[160] = "";
    CHECK_EQ_INT(vg_fleet_agent_get(g.f, NULL, c.id, agent_status, st), VG_OK);
    CHECK_STR(st, "online|host-a|0.9.1|Debian 12|[\"10.0.0.5\",\"fe80::1\"]|"
                  "{\"process\":\"proc_connector\",\"fim\":\"inotify\"}");
    struct vg_sbuf got = VG_SBUF_INIT;
    CHECK_EQ_INT(agent_recs(&g, &got), 0);
    CHECK(ag_events(&a, 1, 3));
    CHECK_EQ_INT(ag_ack(&a), 3);
    /* the ACK came after the journal had them, durably (agent_recs checks durable_seq) */
    CHECK_EQ_INT(agent_recs(&g, &got), 3);
    char want[256];
    snprintf(want, sizeof(want),
             "{\"event.module\":\"vigie-agent\",\"process.pid\":2}\tpeer=127.0.0.1:");
    CHECK(got.p && strstr(got.p, want));
    snprintf(want, sizeof(want), "|tenant=default|agent=%s|key=default/agent/%s/sp1/3\n", c.id,
             c.id);
    CHECK(got.p && strstr(got.p, want));
    CHECK(ag_events(&a, 4, 2));
    CHECK_EQ_INT(ag_ack(&a), 5);
    CHECK_EQ_INT(agent_recs(&g, &got), 5);
    /* HEARTBEAT keeps it online; last seen is recorded */
    CHECK(ag_send(&a, 4, "", 0));
    ag_close(&a);
    for (int i = 0; i < 200 && strncmp(st, "offline|", 8); i++) {
        usleep(10000);
        CHECK_EQ_INT(vg_fleet_agent_get(g.f, NULL, c.id, agent_status, st), VG_OK);
    }
    CHECK(!strncmp(st, "offline|", 8));
    struct vg_fleet_stats s;
    vg_fleet_stats(g.f, &s);
    CHECK_EQ_INT(s.events, 5);
    vg_sbuf_fini(&got);
    cred_free(&c);
    frig_close(&g);
}

VG_TEST(resent_batch_is_stored_once)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    struct ag a;
    long long ack = -1;
    struct vg_sbuf got = VG_SBUF_INIT;
    CHECK(connect_hello(&g, &a, &c, "sp1", &ack) && ack == 0);
    CHECK(ag_events(&a, 1, 4));
    CHECK_EQ_INT(ag_ack(&a), 4);
    ag_close(&a); /* as if the ACK was lost: the agent resends after reconnecting */
    CHECK(connect_hello(&g, &a, &c, "sp1", &ack));
    CHECK_EQ_INT(ack, 4); /* the server tells it what it has */
    CHECK(ag_events(&a, 1, 4));
    CHECK_EQ_INT(ag_ack(&a), 4);
    CHECK(ag_events(&a, 3, 4)); /* overlapping: 3,4 known, 5,6 new */
    CHECK_EQ_INT(ag_ack(&a), 6);
    CHECK_EQ_INT(agent_recs(&g, &got), 6);
    for (int i = 1; i <= 6; i++) {
        char k[160];
        snprintf(k, sizeof(k), "key=default/agent/%s/sp1/%d\n", c.id, i);
        const char *p = got.p ? strstr(got.p, k) : NULL;
        CHECK(p && !strstr(p + 1, k)); /* exactly once */
    }
    /* a new spool starts at 0 */
    ag_close(&a);
    CHECK(connect_hello(&g, &a, &c, "sp2", &ack) && ack == 0);
    /* a gap is a protocol error: ERROR and close */
    CHECK(ag_events(&a, 5, 1));
    char *p = NULL;
    size_t n = 0;
    CHECK_EQ_INT(ag_recv(&a, &p, &n), 8);
    CHECK(p && strstr(p, "gap"));
    free(p);
    CHECK_EQ_INT(ag_recv(&a, &p, &n), -1);
    ag_close(&a);
    /* bad frames: a corrupted CRC closes the connection with ERROR */
    CHECK(connect_hello(&g, &a, &c, "sp2", &ack));
    uint8_t bad[20] = {'V', 'G', 'A', '1', 4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4, 'a', 'b', 'c', 'd'};
    CHECK(ag_write(&a, bad, sizeof(bad)));
    CHECK_EQ_INT(ag_recv(&a, &p, &n), 8);
    CHECK(p && strstr(p, "crc"));
    free(p);
    ag_close(&a);
    CHECK_EQ_INT(agent_recs(&g, &got), 6);
    vg_sbuf_fini(&got);
    cred_free(&c);
    frig_close(&g);
}

/* ---------------------------------------------------------------- refusals */

VG_TEST(revoked_agent_is_cut_off_and_refused)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    struct ag a;
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "s", &ack));
    char path[128];
    struct hresp h = {0};
    snprintf(path, sizeof(path), "/api/v1/agents/%s/revoke", c.id);
    CHECK_EQ_INT(http1(g.r.port, "POST", path, g.reader, "", &h), 403); /* admin only */
    CHECK_EQ_INT(http1(g.r.port, "POST", path, g.admin, "", &h), 200);
    char *p = NULL;
    size_t n = 0;
    CHECK_EQ_INT(ag_recv(&a, &p, &n), 8); /* ERROR {"error":"revoked"} */
    CHECK(p && strstr(p, "revoked"));
    free(p);
    CHECK_EQ_INT(ag_recv(&a, &p, &n), -1);
    ag_close(&a);
    /* from now on the handshake fails (TLS 1.3: the client sees it on its first read) */
    bool hs = ag_connect(&a, vg_fleet_port(g.f), c.cert, c.key, c.ca);
    if (hs) {
        ag_hello(&a, c.id, "s");
        CHECK_EQ_INT(ag_recv(&a, &p, &n), -1);
    }
    ag_close(&a);
    CHECK(refused(&g, 1) >= 1);
    char st[160];
    CHECK_EQ_INT(vg_fleet_agent_get(g.f, NULL, c.id, agent_status, st), VG_OK);
    CHECK(!strncmp(st, "revoked|", 8));
    char id[VG_FLEET_ID_SIZE];
    CHECK_EQ_INT(vg_fleet_command_send(g.f, c.id, "kill", NULL, 60, id), VG_EDENIED);
    hresp_free(&h);
    cred_free(&c);
    frig_close(&g);
}

VG_TEST(foreign_or_missing_client_cert_is_refused)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    char cert[128], key[128], *p = NULL, *pem = NULL;
    size_t n = 0;
    CHECK(write_test_cert(g.r.dir, cert, key, sizeof(cert)));
    CHECK_EQ_INT(vg_file_read(cert, 1 << 20, &pem, &n), VG_OK);
    FILE *fk = fopen(key, "r");
    EVP_PKEY *k = fk ? PEM_read_PrivateKey(fk, NULL, NULL, NULL) : NULL;
    if (fk) {
        fclose(fk);
    }
    struct ag a;
    /* self-signed, another CA */
    if (ag_connect(&a, vg_fleet_port(g.f), pem, k, c.ca)) {
        ag_hello(&a, c.id, "s");
        CHECK_EQ_INT(ag_recv(&a, &p, &n), -1);
    }
    ag_close(&a);
    /* no client certificate */
    if (ag_connect(&a, vg_fleet_port(g.f), NULL, NULL, c.ca)) {
        ag_hello(&a, c.id, "s");
        CHECK_EQ_INT(ag_recv(&a, &p, &n), -1);
    }
    ag_close(&a);
    /* the right CA but a key that is not the certificate's: the handshake fails */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    CHECK(!ag_connect(&a, vg_fleet_port(g.f), c.cert, other, c.ca) ||
          (ag_hello(&a, c.id, "s"), ag_recv(&a, &p, &n) == -1));
    ag_close(&a);
    /* the genuine agent still works, and a HELLO naming another agent is refused */
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "s", &ack));
    ag_close(&a);
    CHECK(ag_connect(&a, vg_fleet_port(g.f), c.cert, c.key, c.ca));
    CHECK(ag_hello(&a, "0123456789abcdef0123456789abcdef", "s"));
    CHECK_EQ_INT(ag_recv(&a, &p, &n), 8);
    CHECK(p && strstr(p, "does not match"));
    free(p);
    ag_close(&a);
    CHECK(refused(&g, 3) >= 3);
    EVP_PKEY_free(k);
    EVP_PKEY_free(other);
    vg_free(pem);
    cred_free(&c);
    frig_close(&g);
}

/* ---------------------------------------------------------------- commands */

struct waiter {
    struct vg_fleet *f;
    char id[VG_FLEET_ID_SIZE];
    int rc;
    struct vg_fleet_command_result res;
};

static void *wait_main(void *arg)
{
    struct waiter *w = arg;
    w->rc = vg_fleet_command_wait(w->f, w->id, 10000, &w->res);
    return NULL;
}

static int count_audit(void *ctx, int64_t seq, vg_time_t ts, const struct vg_audit_rec *r,
                       const char *hash)
{
    VG_UNUSED(seq);
    VG_UNUSED(ts);
    VG_UNUSED(hash);
    struct vg_sbuf *b = ctx;
    vg_sbuf_printf(b, "%s %s %s\n", r->action, r->actor, r->object);
    return VG_OK;
}

/* Read a COMMAND frame and check its signature; returns the JSON (malloc'ed) or NULL. */
static char *read_command(struct ag *a, const uint8_t pk[32], const char *agent_id)
{
    char *p = NULL;
    size_t n = 0;
    int t = ag_recv(a, &p, &n);
    CHECK_EQ_INT(t, 6);
    if (t != 6 || n <= 64) {
        free(p);
        return NULL;
    }
    const uint8_t *sig = (const uint8_t *)p, *json = (const uint8_t *)p + 64;
    CHECK(crypto_sign_verify_detached(sig, json, n - 64, pk) == 0);
    /* and the agent's own verifier accepts it (signature, id, validity, replay) */
    struct vg_agent_cmd_verifier *v = NULL;
    struct vg_agent_command cmd = {0};
    char err[128];
    CHECK_EQ_INT(vg_agent_cmd_verifier_create(pk, agent_id, NULL, &v), VG_OK);
    CHECK_EQ_INT(vg_agent_cmd_verify(v, (const uint8_t *)p, n, time(NULL), &cmd, err, sizeof(err)),
                 VG_OK);
    vg_agent_command_fini(&cmd);
    vg_agent_cmd_verifier_destroy(v);
    /* a flipped byte breaks the signature */
    uint8_t *copy = malloc(n);
    memcpy(copy, p, n);
    copy[70] ^= 1;
    CHECK(crypto_sign_verify_detached(copy, copy + 64, n - 64, pk) != 0);
    free(copy);
    char *out = strndup((const char *)json, n - 64);
    free(p);
    return out;
}

VG_TEST(signed_command_round_trip)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    uint8_t pk[32];
    CHECK(sodium_hex2bin(pk, 32, c.pubkey_hex, 64, NULL, NULL, NULL) == 0);
    /* queued while the agent is offline, delivered after its HELLO */
    char id1[VG_FLEET_ID_SIZE], id2[VG_FLEET_ID_SIZE];
    CHECK_EQ_INT(
        vg_fleet_command_send(g.f, c.id, "collect_file", "{\"path\":\"/etc/hosts\"}", 600, id1),
        VG_OK);
    CHECK_EQ_INT(vg_fleet_command_send(g.f, c.id, "Bad Action", NULL, 600, id2), VG_EINVAL);
    CHECK_EQ_INT(vg_fleet_command_send(g.f, c.id, "kill", "[1]", 600, id2), VG_EINVAL);
    CHECK_EQ_INT(vg_fleet_command_send(g.f, "nope", "kill", NULL, 600, id2), VG_ENOENT);
    struct vg_fleet_command_result res = {0};
    CHECK_EQ_INT(vg_fleet_command_wait(g.f, id1, 0, &res), VG_ETIMEOUT);
    CHECK_STR(res.status, "pending");
    vg_fleet_command_result_fini(&res);
    struct ag a;
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "s", &ack));
    char *json = read_command(&a, pk, c.id);
    char want[200];
    snprintf(want, sizeof(want), "{\"id\":\"%s\",\"action\":\"collect_file\",", id1);
    CHECK(json && strstr(json, want) == json);
    snprintf(want, sizeof(want), "\"agent_id\":\"%s\"}", c.id);
    CHECK(json && strstr(json, want));
    CHECK(json && strstr(json, "\"args\":{\"path\":\"/etc/hosts\"}"));
    free(json);
    /* answer it; a waiter in another thread sees the result */
    struct waiter w = {.f = g.f};
    memcpy(w.id, id1, sizeof(w.id));
    pthread_t th;
    pthread_create(&th, NULL, wait_main, &w);
    struct vg_sbuf out = VG_SBUF_INIT;
    char r[200];
    int rn = snprintf(r, sizeof(r),
                      "{\"id\":\"%s\",\"status\":\"ok\",\"output\":{\"sha256\":\"ab\"}}", id1);
    usleep(100000);
    CHECK(ag_send(&a, 7, r, (size_t)rn));
    pthread_join(th, NULL);
    CHECK_EQ_INT(w.rc, VG_OK);
    CHECK_STR(w.res.status, "ok");
    CHECK_STR(w.res.output, "{\"sha256\":\"ab\"}");
    CHECK(w.res.finished != VG_TIME_NONE);
    vg_fleet_command_result_fini(&w.res);
    /* sent to a connected agent at once, through the REST API */
    char path[128];
    struct hresp h = {0};
    snprintf(path, sizeof(path), "/api/v1/agents/%s/commands", c.id);
    CHECK_EQ_INT(http1(g.r.port, "POST", path, g.reader, "{\"action\":\"kill\"}", &h), 403);
    char analyst[160];
    CHECK(rig_token(&g.r, "ana", VG_API_ROLE_ANALYST, NULL, analyst, sizeof(analyst)));
    CHECK_EQ_INT(http1(g.r.port, "POST", path, analyst,
                       "{\"action\":\"kill_process\",\"args\":{\"pid\": 4242},\"ttl\":\"5m\"}", &h),
                 202);
    char *rid = jstr(h.body, "id");
    json = read_command(&a, pk, c.id);
    CHECK(json && rid && strstr(json, rid) && strstr(json, "\"args\":{\"pid\":4242}"));
    free(json);
    rn = snprintf(r, sizeof(r), "{\"id\":\"%s\",\"status\":\"error\",\"output\":\"no such pid\"}",
                  rid ? rid : "");
    CHECK(ag_send(&a, 7, r, (size_t)rn));
    CHECK_EQ_INT(vg_fleet_command_wait(g.f, rid ? rid : "", 5000, &res), VG_OK);
    CHECK_STR(res.status, "error");
    vg_fleet_command_result_fini(&res);
    CHECK_EQ_INT(http1(g.r.port, "GET", path, g.reader, NULL, &h), 200);
    CHECK(h.body && strstr(h.body, "\"status\":\"error\"") && strstr(h.body, "\"status\":\"ok\"") &&
          strstr(h.body, "\"actor\":\"token:ana\""));
    CHECK_EQ_INT(http1(g.r.port, "POST", path, analyst, "{\"action\":\"kill\",\"ttl\":99999}", &h),
                 400);
    /* audited: enrollment, both commands, both results */
    struct vg_audit_query q = {.action_prefix = "agent.", .on_rec = count_audit, .ctx = &out};
    char err[256];
    CHECK_EQ_INT(vg_audit_query(g.audit, &q, err, sizeof(err)), VG_OK);
    CHECK(out.p && strstr(out.p, "agent.command token:ana") &&
          strstr(out.p, "agent.command system") && strstr(out.p, "agent.command.result agent:") &&
          strstr(out.p, "agent.enroll "));
    ag_close(&a);
    free(rid);
    hresp_free(&h);
    vg_sbuf_fini(&out);
    cred_free(&c);
    frig_close(&g);
}

VG_TEST(command_expires_when_never_delivered)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    char id[VG_FLEET_ID_SIZE];
    struct vg_fleet_command_result res = {0};
    CHECK_EQ_INT(vg_fleet_command_send(g.f, c.id, "isolate", NULL, 1, id), VG_OK);
    CHECK_EQ_INT(vg_fleet_command_wait(g.f, id, 3000, &res), VG_OK);
    CHECK_STR(res.status, "expired");
    vg_fleet_command_result_fini(&res);
    CHECK_EQ_INT(vg_fleet_command_wait(g.f, "unknown", 0, &res), VG_ENOENT);
    /* it is not sent when the agent comes back */
    struct ag a;
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "s", &ack));
    CHECK(ag_send(&a, 4, "", 0));
    struct pollfd p = {.fd = a.fd, .events = POLLIN};
    CHECK_EQ_INT(poll(&p, 1, 300), 0);
    ag_close(&a);
    cred_free(&c);
    frig_close(&g);
}

/* Not asserted: how fast one agent connection moves events into the journal (printed). */
VG_TEST(throughput_figure)
{
    struct frig g;
    struct cred c;
    if (!frig_open(&g, 0) || !enroll(&g, &c)) {
        CHECK(!"rig");
        return;
    }
    struct ag a;
    long long ack = -1;
    CHECK(connect_hello(&g, &a, &c, "bench", &ack));
    uint64_t t0 = vg_clock_ns(), seq = 1;
    const uint32_t batch = 1000, batches = 200;
    for (uint32_t i = 0; i < batches; i++, seq += batch) {
        CHECK(ag_events(&a, seq, batch));
        CHECK_EQ_INT(ag_ack(&a), (long long)(seq + batch - 1));
    }
    double s = (double)(vg_clock_ns() - t0) / 1e9;
    fprintf(stderr,
            "  %u events in batches of %u, each ACKed after the journal sync: %.0f events/s\n",
            batch * batches, batch, batch * batches / s);
    ag_close(&a);
    cred_free(&c);
    frig_close(&g);
}
