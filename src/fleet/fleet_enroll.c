/*
 * fleet_enroll.c — enrollment: tokens an admin creates ("vge_" + 32 random bytes in
 * base64url, shown once, stored as SHA-256), and vg_fleet_enroll, which turns a valid token
 * and a CSR into an agent id and a client certificate signed by the fleet CA.
 *
 * The token check compares the presented hash with every live token's hash with
 * sodium_memcmp (no early exit, no index lookup keyed by the secret); a use of the token is
 * consumed in the same transaction that registers the agent, so a token with one use enrols
 * exactly one agent even under concurrent requests. Failed attempts are counted per client
 * address (fleet_rl_*) so the API can answer 429 before checking anything.
 */
#include "fleet/fleet_int.h"

#include "store/store.h"

#include <sodium.h>
#include <string.h>

#define TOKEN_PREFIX   "vge_"
#define TOKEN_RAW      32
#define TOKEN_MAX_TTL  (365 * 86400LL)
#define TOKEN_MAX_USES 1000000u
#define HOSTNAME_MAX   255

/* ---------------------------------------------------------------- rate limit */

static int64_t minute_now(void)
{
    return (int64_t)(vg_clock_ns() / 60000000000ull);
}

static struct fleet_rl_slot *rl_slot(struct vg_fleet *f, const char *addr, bool create)
{
    int64_t now = minute_now();
    struct fleet_rl_slot *oldest = &f->rl[0];
    for (size_t i = 0; i < FLEET_RL_SLOTS; i++) {
        struct fleet_rl_slot *s = &f->rl[i];
        if (s->minute == now && !strcmp(s->addr, addr)) {
            return s;
        }
        if (s->minute < oldest->minute) {
            oldest = s;
        }
    }
    if (!create) {
        return NULL;
    }
    /* a full table of this minute's offenders recycles the oldest slot */
    vg_strlcpy(oldest->addr, addr, sizeof(oldest->addr));
    oldest->minute = now;
    oldest->fails = 0;
    return oldest;
}

bool fleet_rl_blocked(struct vg_fleet *f, const char *addr)
{
    pthread_mutex_lock(&f->rl_mu);
    struct fleet_rl_slot *s = rl_slot(f, addr, false);
    bool blocked = s && s->fails >= f->enroll_failures;
    pthread_mutex_unlock(&f->rl_mu);
    return blocked;
}

void fleet_rl_fail(struct vg_fleet *f, const char *addr)
{
    pthread_mutex_lock(&f->rl_mu);
    rl_slot(f, addr, true)->fails++;
    pthread_mutex_unlock(&f->rl_mu);
}

/* ---------------------------------------------------------------- tokens */

int vg_fleet_enroll_token_create(struct vg_fleet *f, const char *tenant, const char *actor,
                                 int64_t ttl_s, unsigned uses, char *token, size_t size,
                                 int64_t *id)
{
    uint8_t raw[TOKEN_RAW], hash[crypto_hash_sha256_BYTES];
    tenant = tenant ? tenant : "default";
    actor = actor ? actor : "system";
    if (!fleet_tenant_ok(tenant) || ttl_s < 1 || ttl_s > TOKEN_MAX_TTL || uses < 1 ||
        uses > TOKEN_MAX_USES || size < VG_FLEET_TOKEN_SIZE) {
        return VG_EINVAL;
    }
    randombytes_buf(raw, sizeof(raw));
    memcpy(token, TOKEN_PREFIX, 4);
    sodium_bin2base64(token + 4, size - 4, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    crypto_hash_sha256(hash, (const uint8_t *)token, strlen(token));
    vg_time_t now = vg_time_now();
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, "INSERT INTO enroll_tokens(hash, tenant, created, "
                                        "expires, uses_left, created_by) VALUES(?,?,?,?,?,?)");
    if (st) {
        sqlite3_bind_blob(st, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
        fleet_db_text(st, 2, tenant);
        sqlite3_bind_int64(st, 3, now);
        sqlite3_bind_int64(st, 4, now + ttl_s * 1000000000LL);
        sqlite3_bind_int64(st, 5, uses);
        fleet_db_text(st, 6, actor);
    }
    int rc = fleet_db_done(f, st, "agents.db token");
    int64_t rowid = sqlite3_last_insert_rowid(f->db);
    pthread_mutex_unlock(&f->db_mu);
    if (rc != VG_OK) {
        sodium_memzero(token, size);
        return rc;
    }
    if (id) {
        *id = rowid;
    }
    char obj[48], detail[96];
    snprintf(obj, sizeof(obj), "enroll-token:%lld", (long long)rowid);
    snprintf(detail, sizeof(detail), "{\"ttl_s\":%lld,\"uses\":%u}", (long long)ttl_s, uses);
    fleet_audit(f, tenant, actor, "agent.enroll_token.create", obj, detail);
    return VG_OK;
}

/* The live token matching token: its id and tenant. VG_EDENIED when none matches. */
static int token_find(struct vg_fleet *f, const char *token, int64_t *id, char *tenant,
                      size_t tsize)
{
    uint8_t hash[crypto_hash_sha256_BYTES];
    size_t n = token ? strlen(token) : 0;
    bool shaped = n == VG_FLEET_TOKEN_SIZE - 1 && !strncmp(token, TOKEN_PREFIX, 4);
    crypto_hash_sha256(hash, (const uint8_t *)(token ? token : ""), n);
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, "SELECT id, hash, tenant FROM enroll_tokens "
                                        "WHERE uses_left>0 AND expires>?1");
    int rc = st ? VG_EDENIED : VG_EIO;
    if (st) {
        sqlite3_bind_int64(st, 1, vg_time_now());
        while (sqlite3_step(st) == SQLITE_ROW) {
            const void *h = sqlite3_column_blob(st, 1);
            bool same = h && sqlite3_column_bytes(st, 1) == (int)sizeof(hash) &&
                        sodium_memcmp(h, hash, sizeof(hash)) == 0;
            if (same && shaped && rc != VG_OK) {
                *id = sqlite3_column_int64(st, 0);
                vg_strlcpy(tenant, fleet_db_col(st, 2), tsize);
                rc = VG_OK;
            }
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

/* ---------------------------------------------------------------- enrollment */

/* Consume one use of the token and insert the agent, in one transaction (under db_mu). */
static int register_agent(struct vg_fleet *f, int64_t token_id, const char *id, const char *tenant,
                          const char *hostname, const char *serial)
{
    char err[256];
    vg_time_t now = vg_time_now();
    int rc = vg_store_sqlite_exec(f->db, "BEGIN IMMEDIATE", "agents.db", err, sizeof(err));
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_stmt *st = fleet_db_prep(f, "UPDATE enroll_tokens SET uses_left=uses_left-1 "
                                        "WHERE id=?1 AND uses_left>0 AND expires>?2");
    if (st) {
        sqlite3_bind_int64(st, 1, token_id);
        sqlite3_bind_int64(st, 2, now);
    }
    rc = fleet_db_done(f, st, "agents.db token use");
    if (rc == VG_OK && sqlite3_changes(f->db) != 1) {
        rc = VG_EDENIED; /* used up by a concurrent enrollment */
    }
    if (rc == VG_OK) {
        st = fleet_db_prep(f, "INSERT INTO agents(id, tenant, hostname, status, cert_serial, "
                              "enrolled) VALUES(?,?,?,'offline',?,?)");
        if (st) {
            fleet_db_text(st, 1, id);
            fleet_db_text(st, 2, tenant);
            fleet_db_text(st, 3, hostname ? hostname : "");
            fleet_db_text(st, 4, serial);
            sqlite3_bind_int64(st, 5, now);
        }
        rc = fleet_db_done(f, st, "agents.db enroll");
    }
    vg_store_sqlite_exec(f->db, rc == VG_OK ? "COMMIT" : "ROLLBACK", "agents.db", err, sizeof(err));
    return rc;
}

static bool hostname_ok(const char *h)
{
    size_t n = h ? strlen(h) : 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)h[i] < 0x20 || h[i] == 0x7f) {
            return false;
        }
    }
    return n <= HOSTNAME_MAX;
}

void vg_fleet_enrollment_fini(struct vg_fleet_enrollment *e)
{
    if (e) {
        vg_free(e->cert_pem);
        vg_free(e->ca_pem);
        vg_free(e->endpoint);
        vg_free(e->tenant);
        memset(e, 0, sizeof(*e));
    }
}

static int fill_out(struct vg_fleet *f, const char *tenant, char *cert_pem,
                    struct vg_fleet_enrollment *out)
{
    out->cert_pem = cert_pem;
    out->ca_pem = vg_strdup(f->ca_pem);
    out->endpoint = vg_strdup(f->endpoint);
    out->tenant = vg_strdup(tenant);
    sodium_bin2hex(out->command_pubkey, sizeof(out->command_pubkey), f->cmd_pk, 32);
    if (!out->ca_pem || !out->endpoint || !out->tenant) {
        vg_fleet_enrollment_fini(out);
        return VG_ENOMEM;
    }
    return VG_OK;
}

static void audit_enroll(struct vg_fleet *f, const char *tenant, int64_t token_id, const char *id,
                         const char *hostname, const char *serial)
{
    struct vg_sbuf d = VG_SBUF_INIT;
    char obj[64], actor[48];
    vg_sbuf_printf(
        &d, "{\"token_id\":%lld,\"cert_serial\":\"%s\",\"hostname\":", (long long)token_id, serial);
    vg_sbuf_add_json_str(&d, hostname ? hostname : "", hostname ? strlen(hostname) : 0);
    vg_sbuf_addc(&d, '}');
    snprintf(obj, sizeof(obj), "agent:%s", id);
    snprintf(actor, sizeof(actor), "enroll-token:%lld", (long long)token_id);
    fleet_audit(f, tenant, actor, "agent.enroll", obj, d.p);
    vg_sbuf_fini(&d);
}

int vg_fleet_enroll(struct vg_fleet *f, const char *token, const char *csr_pem, size_t csr_len,
                    const char *hostname, struct vg_fleet_enrollment *out, char *err, size_t errsz)
{
    char tenant[FLEET_TENANT_MAX + 1], serial[65], *pem = NULL;
    int64_t token_id = 0;
    EVP_PKEY *pub = NULL;
    memset(out, 0, sizeof(*out));
    int rc = token_find(f, token, &token_id, tenant, sizeof(tenant));
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s",
                 rc == VG_EDENIED ? "invalid, expired or used-up enrollment token"
                                  : "agents.db unavailable");
        return rc;
    }
    if (!hostname_ok(hostname)) {
        snprintf(err, errsz, "hostname: at most %d printable characters", HOSTNAME_MAX);
        return VG_EINVAL;
    }
    if ((rc = fleet_csr_check(csr_pem, csr_len, &pub, err, errsz)) != VG_OK) {
        return rc;
    }
    fleet_rand_hex(out->agent_id, 16);
    rc = fleet_ca_issue(f, pub, out->agent_id, 365, false, NULL, 0, serial, &pem, NULL, err, errsz);
    EVP_PKEY_free(pub);
    if (rc == VG_OK) {
        pthread_mutex_lock(&f->db_mu);
        rc = register_agent(f, token_id, out->agent_id, tenant, hostname, serial);
        pthread_mutex_unlock(&f->db_mu);
        if (rc != VG_OK) {
            snprintf(err, errsz, "%s",
                     rc == VG_EDENIED ? "enrollment token used up"
                                      : "agents.db: cannot register the agent");
        }
    }
    if (rc != VG_OK) {
        vg_free(pem);
        return rc;
    }
    audit_enroll(f, tenant, token_id, out->agent_id, hostname, serial);
    VG_INFO(FLEET_COMP, "enrolled agent %s (tenant %s, serial %s)", out->agent_id, tenant, serial);
    return fill_out(f, tenant, pem, out);
}
