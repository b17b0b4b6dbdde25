/*
 * fleet_command.c — signed commands to agents.
 *
 * vg_fleet_command_send builds the command JSON of agent_wire.h ({"id","action","args",
 * "issued","expires","agent_id"}), stores it with status "pending" and pokes the agent's
 * connection. The connection thread (fleet_listen.c) then asks fleet_command_pending for
 * COMMAND frames: each is the Ed25519 signature (command.key) over exactly the stored JSON
 * bytes followed by those bytes; sent commands become "sent". The agent verifies the
 * signature, its own id, the validity window and the id against its replay window, runs the
 * action and answers COMMAND_RESULT {"id","status":"ok"|"error"|"refused","output"}, which
 * fleet_command_result records (only from the agent the command was for), audits and
 * signals to vg_fleet_command_wait.
 *
 * Lifecycle: pending → sent → ok | error | refused; pending or sent → expired once past its
 * expiry (a sent command gets a grace period for the agent's answer). A command sent on a
 * connection that breaks before the answer stays "sent" until then: it is never re-sent
 * (the agent would refuse it as replayed anyway).
 */
#include "fleet/fleet_int.h"

#include "agent/agent_wire.h"
#include "event/event.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define NS            1000000000LL
#define SENT_GRACE_NS (300 * NS)
#define ARGS_MAX      65536
#define OUTPUT_MAX    (4u << 20)

/* ---------------------------------------------------------------- helpers */

static bool action_ok(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-')) {
            return false;
        }
    }
    return n >= 1 && n <= 64;
}

/* Is text one JSON object (and nothing else)? */
static bool args_ok(const char *text)
{
    size_t len = strlen(text), used = 0, rest = 0;
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *doc = NULL, *more = NULL;
    char err[128];
    bool ok =
        p && a && len <= ARGS_MAX &&
        vg_json_parse(p, a, text, len, &used, &doc, err, sizeof(err)) == VG_OK &&
        doc->type == VG_JSON_OBJECT &&
        vg_json_parse(p, a, text + used, len - used, &rest, &more, err, sizeof(err)) == VG_EOF;
    vg_json_parser_destroy(p);
    vg_arena_destroy(a);
    return ok;
}

/* Under db_mu: due commands become "expired". */
static void expire_due(struct vg_fleet *f)
{
    vg_time_t now = vg_time_now();
    sqlite3_stmt *st = fleet_db_prep(
        f, "UPDATE commands SET status='expired', finished=?1 WHERE "
           "(status='pending' AND expires<=?1) OR (status='sent' AND expires<=?1 - ?2)");
    if (st) {
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, SENT_GRACE_NS);
    }
    fleet_db_done(f, st, "agents.db expire");
}

/* Under db_mu: the agent's tenant; VG_ENOENT, VG_EDENIED (revoked). */
static int agent_check(struct vg_fleet *f, const char *tenant, const char *id, char *t,
                       size_t tsize)
{
    sqlite3_stmt *st = fleet_db_prep(
        f, "SELECT tenant, status FROM agents WHERE id=?2 AND (?1 IS NULL OR tenant=?1)");
    int rc = st ? VG_ENOENT : VG_EIO;
    if (st) {
        fleet_db_text(st, 1, tenant);
        fleet_db_text(st, 2, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            vg_strlcpy(t, fleet_db_col(st, 0), tsize);
            rc = strcmp(fleet_db_col(st, 1), "revoked") ? VG_OK : VG_EDENIED;
        }
        sqlite3_finalize(st);
    }
    return rc;
}

/* ---------------------------------------------------------------- queueing */

struct cmd_new {
    const char *id, *agent, *tenant, *action, *args, *json, *actor;
    vg_time_t issued, expires;
};

static int cmd_insert(struct vg_fleet *f, const struct cmd_new *c)
{
    sqlite3_stmt *st = fleet_db_prep(f, "INSERT INTO commands(id, agent, tenant, action, args, "
                                        "signed, status, actor, issued, expires) "
                                        "VALUES(?,?,?,?,?,?,'pending',?,?,?)");
    if (st) {
        fleet_db_text(st, 1, c->id);
        fleet_db_text(st, 2, c->agent);
        fleet_db_text(st, 3, c->tenant);
        fleet_db_text(st, 4, c->action);
        fleet_db_text(st, 5, c->args);
        fleet_db_text(st, 6, c->json);
        fleet_db_text(st, 7, c->actor);
        sqlite3_bind_int64(st, 8, c->issued);
        sqlite3_bind_int64(st, 9, c->expires);
    }
    return fleet_db_done(f, st, "agents.db command");
}

static void audit_send(struct vg_fleet *f, const struct cmd_new *c)
{
    struct vg_sbuf d = VG_SBUF_INIT;
    char obj[64];
    vg_sbuf_printf(&d, "{\"command\":\"%s\",\"action\":\"%s\",\"args\":%s,\"expires\":%lld}", c->id,
                   c->action, c->args, (long long)(c->expires / NS));
    snprintf(obj, sizeof(obj), "agent:%s", c->agent);
    fleet_audit(f, c->tenant, c->actor, "agent.command", obj, d.err ? "{}" : d.p);
    vg_sbuf_fini(&d);
}

int vg_fleet_command_send_as(struct vg_fleet *f, const char *tenant, const char *actor,
                             const char *agent_id, const char *action, const char *args_json,
                             int64_t ttl_s, char *cmd_id)
{
    char t[FLEET_TENANT_MAX + 1];
    struct vg_sbuf json = VG_SBUF_INIT;
    struct cmd_new c = {.id = cmd_id,
                        .agent = agent_id,
                        .action = action,
                        .args = args_json ? args_json : "{}",
                        .actor = actor ? actor : "system"};
    if (!agent_id || !action_ok(action) || !args_ok(c.args) || ttl_s < 1 ||
        ttl_s > FLEET_CMD_LIFE) {
        return VG_EINVAL;
    }
    fleet_rand_hex(cmd_id, 16);
    int64_t issued = (int64_t)time(NULL);
    int rc = vg_agent_command_json(&json, cmd_id, action, c.args, issued, issued + ttl_s, agent_id);
    c.issued = issued * NS;
    c.expires = (issued + ttl_s) * NS;
    c.json = json.p;
    pthread_mutex_lock(&f->db_mu);
    rc = rc ? rc : agent_check(f, tenant, agent_id, t, sizeof(t));
    c.tenant = t;
    rc = rc ? rc : cmd_insert(f, &c);
    pthread_mutex_unlock(&f->db_mu);
    if (rc == VG_OK) {
        audit_send(f, &c);
        fleet_conn_poke(f, agent_id, false);
    }
    vg_sbuf_fini(&json);
    return rc;
}

int vg_fleet_command_send(struct vg_fleet *f, const char *agent_id, const char *action,
                          const char *args_json, int64_t ttl_s, char *cmd_id)
{
    return vg_fleet_command_send_as(f, NULL, NULL, agent_id, action, args_json, ttl_s, cmd_id);
}

/* ---------------------------------------------------------------- delivery */

int fleet_command_pending(struct vg_fleet *f, const char *agent_id, struct vg_sbuf *out, size_t *n)
{
    *n = 0;
    pthread_mutex_lock(&f->db_mu);
    expire_due(f);
    sqlite3_stmt *st = fleet_db_prep(f, "SELECT signed FROM commands WHERE agent=?1 AND "
                                        "status='pending' ORDER BY issued, rowid");
    int rc = st ? VG_OK : VG_EIO;
    if (st) {
        fleet_db_text(st, 1, agent_id);
    }
    while (st && rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *json = fleet_db_col(st, 0);
        rc = vg_agent_wire_encode_command(out, f->cmd_sk, json, strlen(json));
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc == VG_OK && *n) {
        st = fleet_db_prep(f, "UPDATE commands SET status='sent' WHERE agent=?1 AND "
                              "status='pending'");
        fleet_db_text(st, 1, agent_id);
        rc = fleet_db_done(f, st, "agents.db command sent");
    }
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

/* ---------------------------------------------------------------- results */

struct result_in {
    char id[VG_FLEET_ID_SIZE];
    const char *status;
    char *output; /* JSON text (vg_free) */
};

static int result_parse(const uint8_t *p, size_t len, struct result_in *r)
{
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char err[128];
    int rc = jp && a ? VG_OK : VG_ENOMEM;
    if (rc == VG_OK &&
        (vg_json_parse(jp, a, (const char *)p, len, &used, &doc, err, sizeof(err)) != VG_OK ||
         doc->type != VG_JSON_OBJECT)) {
        rc = VG_EINVAL;
    }
    const struct vg_json *id = rc ? NULL : vg_json_get(doc, "id");
    const struct vg_json *st = rc ? NULL : vg_json_get(doc, "status");
    const struct vg_json *out = rc ? NULL : vg_json_get(doc, "output");
    static const char *const ok[] = {"ok", "error", "refused"};
    for (size_t i = 0; st && i < VG_ARRAY_LEN(ok); i++) {
        r->status = vg_json_str_is(st, ok[i]) ? ok[i] : r->status;
    }
    if (rc == VG_OK &&
        (!id || id->type != VG_JSON_STRING || id->n >= VG_FLEET_ID_SIZE || !r->status)) {
        rc = VG_EINVAL;
    }
    if (rc == VG_OK) {
        memcpy(r->id, id->s, id->n);
        r->id[id->n] = '\0';
        struct vg_sbuf b = VG_SBUF_INIT;
        if (out && len <= OUTPUT_MAX) {
            vg_json_write(out, &b);
        } else {
            vg_sbuf_adds(&b, out ? "\"(output over 4 MiB dropped)\"" : "null");
        }
        r->output = b.err ? NULL : vg_sbuf_take(&b, NULL);
        rc = r->output ? VG_OK : VG_ENOMEM;
        vg_sbuf_fini(&b);
    }
    vg_json_parser_destroy(jp);
    vg_arena_destroy(a);
    return rc;
}

int fleet_command_result(struct vg_fleet *f, const char *agent_id, const char *tenant,
                         const uint8_t *p, size_t len)
{
    struct result_in r = {.status = NULL};
    int rc = result_parse(p, len, &r);
    if (rc != VG_OK) {
        VG_WARN(FLEET_COMP, "agent %s: malformed COMMAND_RESULT ignored", agent_id);
        return rc;
    }
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st =
        fleet_db_prep(f, "UPDATE commands SET status=?3, result=?4, finished=?5 "
                         "WHERE id=?1 AND agent=?2 AND status IN ('pending','sent')");
    if (st) {
        fleet_db_text(st, 1, r.id);
        fleet_db_text(st, 2, agent_id);
        fleet_db_text(st, 3, r.status);
        fleet_db_text(st, 4, r.output);
        sqlite3_bind_int64(st, 5, vg_time_now());
    }
    rc = fleet_db_done(f, st, "agents.db result");
    if (rc == VG_OK && sqlite3_changes(f->db) != 1) {
        rc = VG_ENOENT; /* unknown, another agent's, finished or expired */
    }
    pthread_cond_broadcast(&f->cmd_cond);
    pthread_mutex_unlock(&f->db_mu);
    if (rc == VG_OK) {
        char obj[64], actor[64], detail[64];
        snprintf(obj, sizeof(obj), "command:%s", r.id);
        snprintf(actor, sizeof(actor), "agent:%s", agent_id);
        snprintf(detail, sizeof(detail), "{\"status\":\"%s\"}", r.status);
        fleet_audit(f, tenant, actor, "agent.command.result", obj, detail);
    } else {
        VG_WARN(FLEET_COMP, "agent %s: result for command %s not recorded: %s", agent_id, r.id,
                vg_strerror(rc));
    }
    vg_free(r.output);
    return rc;
}

/* ---------------------------------------------------------------- waiting */

void vg_fleet_command_result_fini(struct vg_fleet_command_result *r)
{
    if (r) {
        vg_free(r->status);
        vg_free(r->output);
        memset(r, 0, sizeof(*r));
    }
}

/* Under db_mu: the command's row into res; VG_OK finished, VG_AGAIN not yet, VG_ENOENT. */
static int cmd_look(struct vg_fleet *f, const char *id, struct vg_fleet_command_result *res)
{
    sqlite3_stmt *st =
        fleet_db_prep(f, "SELECT status, result, issued, finished FROM commands WHERE id=?1");
    int rc = st ? VG_ENOENT : VG_EIO;
    if (st) {
        fleet_db_text(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            vg_fleet_command_result_fini(res);
            res->status = vg_strdup(fleet_db_col(st, 0));
            bool has = sqlite3_column_type(st, 1) != SQLITE_NULL;
            res->output = has ? vg_strdup(fleet_db_col(st, 1)) : NULL;
            res->issued = sqlite3_column_int64(st, 2);
            has = sqlite3_column_type(st, 3) != SQLITE_NULL;
            res->finished = has ? sqlite3_column_int64(st, 3) : VG_TIME_NONE;
            rc = !res->status ? VG_ENOMEM : has ? VG_OK : VG_AGAIN;
        }
        sqlite3_finalize(st);
    }
    return rc;
}

int vg_fleet_command_wait(struct vg_fleet *f, const char *cmd_id, int64_t timeout_ms,
                          struct vg_fleet_command_result *res)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    int64_t ns = (int64_t)dl.tv_nsec + (timeout_ms > 0 ? timeout_ms : 0) % 1000 * 1000000;
    dl.tv_sec += (timeout_ms > 0 ? timeout_ms : 0) / 1000 + ns / NS;
    dl.tv_nsec = ns % NS;
    memset(res, 0, sizeof(*res));
    pthread_mutex_lock(&f->db_mu);
    int rc;
    for (;;) {
        expire_due(f);
        rc = cmd_look(f, cmd_id, res);
        if (rc != VG_AGAIN || atomic_load(&f->stopping)) {
            break;
        }
        /* results broadcast; expiry is noticed at the latest each second */
        struct timespec now, step;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > dl.tv_sec || (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec)) {
            break;
        }
        step = now;
        step.tv_sec += 1;
        if (step.tv_sec > dl.tv_sec || (step.tv_sec == dl.tv_sec && step.tv_nsec > dl.tv_nsec)) {
            step = dl;
        }
        pthread_cond_timedwait(&f->cmd_cond, &f->db_mu, &step);
    }
    pthread_mutex_unlock(&f->db_mu);
    return rc == VG_AGAIN ? VG_ETIMEOUT : rc;
}

/* ---------------------------------------------------------------- listing (API) */

int fleet_command_list(struct vg_fleet *f, const char *agent_id, int64_t limit, struct vg_sbuf *out)
{
    pthread_mutex_lock(&f->db_mu);
    expire_due(f);
    sqlite3_stmt *st = fleet_db_prep(f, "SELECT id, action, args, status, result, actor, issued, "
                                        "expires, finished FROM commands WHERE agent=?1 "
                                        "ORDER BY issued DESC, rowid DESC LIMIT ?2");
    int rc = st ? VG_OK : VG_EIO, s = SQLITE_DONE;
    char ts[40];
    vg_sbuf_addc(out, '[');
    if (st) {
        fleet_db_text(st, 1, agent_id);
        sqlite3_bind_int64(st, 2, limit);
    }
    for (size_t i = 0; st && (s = sqlite3_step(st)) == SQLITE_ROW; i++) {
        vg_sbuf_printf(out, "%s{\"id\":\"%s\",\"action\":\"%s\",\"args\":%s,\"status\":\"%s\"",
                       i ? "," : "", fleet_db_col(st, 0), fleet_db_col(st, 1), fleet_db_col(st, 2),
                       fleet_db_col(st, 3));
        vg_sbuf_printf(out, ",\"result\":%s,\"actor\":",
                       sqlite3_column_type(st, 4) == SQLITE_NULL ? "null" : fleet_db_col(st, 4));
        vg_sbuf_add_json_str(out, fleet_db_col(st, 5), strlen(fleet_db_col(st, 5)));
        vg_time_format(sqlite3_column_int64(st, 6), ts, sizeof(ts));
        vg_sbuf_printf(out, ",\"issued\":\"%s\"", ts);
        vg_time_format(sqlite3_column_int64(st, 7), ts, sizeof(ts));
        vg_sbuf_printf(out, ",\"expires\":\"%s\"", ts);
        if (sqlite3_column_type(st, 8) != SQLITE_NULL) {
            vg_time_format(sqlite3_column_int64(st, 8), ts, sizeof(ts));
            vg_sbuf_printf(out, ",\"finished\":\"%s\"", ts);
        }
        vg_sbuf_addc(out, '}');
    }
    vg_sbuf_addc(out, ']');
    if (st && s != SQLITE_DONE) {
        rc = VG_EIO;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&f->db_mu);
    return rc ? rc : out->err;
}
