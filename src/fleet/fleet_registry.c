/*
 * fleet_registry.c — DATA/fleet/agents.db, the agent registry (SQLite, WAL, one connection
 * guarded by f->db_mu):
 *
 *   agents         id, tenant, hostname, os, ips (JSON), version, collectors (JSON), status
 *                  online|offline|revoked, cert_serial, enrolled, last_seen, revoked
 *   enroll_tokens  SHA-256 of each enrollment token, tenant, expiry, uses left
 *   spools         per agent and spool: the highest event sequence made durable (the ACK)
 *   commands       id, agent, tenant, action, args, the signed JSON, status, result, times
 *   agent_configs  remote configuration per (tenant, agent); agent '' is the tenant's
 *                  default (fleet_config.c)
 *
 * Times are vg_time_t nanoseconds. The listener's verify callback reads the agents table on
 * every handshake (fleet_db_cert_ok), so a revocation takes effect at the next connection.
 */
#include "fleet/fleet_int.h"

#include "agent/agent_wire.h"
#include "store/store.h"

#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS agents("
    " id TEXT PRIMARY KEY, tenant TEXT NOT NULL, hostname TEXT NOT NULL DEFAULT '',"
    " os TEXT NOT NULL DEFAULT '', ips TEXT NOT NULL DEFAULT '[]',"
    " version TEXT NOT NULL DEFAULT '', collectors TEXT NOT NULL DEFAULT '{}',"
    " status TEXT NOT NULL, cert_serial TEXT NOT NULL UNIQUE, enrolled INTEGER NOT NULL,"
    " last_seen INTEGER, revoked INTEGER);"
    "CREATE INDEX IF NOT EXISTS agents_tenant ON agents(tenant, id);"
    "CREATE TABLE IF NOT EXISTS enroll_tokens("
    " id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, tenant TEXT NOT NULL,"
    " created INTEGER NOT NULL, expires INTEGER NOT NULL, uses_left INTEGER NOT NULL,"
    " created_by TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS spools("
    " agent TEXT NOT NULL, spool TEXT NOT NULL, hw INTEGER NOT NULL,"
    " PRIMARY KEY(agent, spool));"
    "CREATE TABLE IF NOT EXISTS commands("
    " id TEXT PRIMARY KEY, agent TEXT NOT NULL REFERENCES agents(id), tenant TEXT NOT NULL,"
    " action TEXT NOT NULL, args TEXT NOT NULL, signed TEXT NOT NULL, status TEXT NOT NULL,"
    " result TEXT, actor TEXT NOT NULL, issued INTEGER NOT NULL, expires INTEGER NOT NULL,"
    " finished INTEGER);"
    "CREATE INDEX IF NOT EXISTS commands_agent ON commands(agent, status, issued);"
    "CREATE TABLE IF NOT EXISTS agent_configs("
    " tenant TEXT NOT NULL, agent TEXT NOT NULL, config TEXT NOT NULL,"
    " updated INTEGER NOT NULL, updated_by TEXT NOT NULL, PRIMARY KEY(tenant, agent));";

sqlite3_stmt *fleet_db_prep(struct vg_fleet *f, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(f->db, sql, -1, &st, NULL) != SQLITE_OK) {
        VG_ERR(FLEET_COMP, "agents.db: %s", sqlite3_errmsg(f->db));
        return NULL;
    }
    return st;
}

void fleet_db_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) {
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(st, i);
    }
}

const char *fleet_db_col(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? s : "";
}

int fleet_db_done(struct vg_fleet *f, sqlite3_stmt *st, const char *what)
{
    if (!st) {
        return VG_EIO;
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        char err[256];
        return vg_store_sqlite_fail(f->db, rc, what, err, sizeof(err));
    }
    return VG_OK;
}

int fleet_db_open(struct vg_fleet *f, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/agents.db", f->dir);
    int rc = vg_store_sqlite_open(path, &f->db, err, errsz);
    rc = rc ? rc : vg_store_sqlite_exec(f->db, schema, "agents.db schema", err, errsz);
    /* nothing is connected before the listener starts */
    rc =
        rc ? rc
           : vg_store_sqlite_exec(f->db, "UPDATE agents SET status='offline' WHERE status='online'",
                                  "agents.db", err, errsz);
    return rc;
}

void fleet_db_close(struct vg_fleet *f)
{
    if (f->db) {
        sqlite3_close(f->db);
        f->db = NULL;
    }
}

int fleet_db_cert_ok(struct vg_fleet *f, const char *serial, const char *cn, char *tenant,
                     size_t tsize)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, "SELECT tenant FROM agents WHERE id=?1 AND "
                                        "cert_serial=?2 AND status<>'revoked'");
    int rc = st ? VG_EDENIED : VG_EIO;
    if (st) {
        fleet_db_text(st, 1, cn);
        fleet_db_text(st, 2, serial);
        if (sqlite3_step(st) == SQLITE_ROW) {
            vg_strlcpy(tenant, fleet_db_col(st, 0), tsize);
            rc = VG_OK;
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

int fleet_db_hello(struct vg_fleet *f, const char *id, const struct vg_agent_hello *h,
                   const char *collectors_json, const char *ips_json)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st =
        fleet_db_prep(f, "UPDATE agents SET hostname=?2, os=?3, version=?4, ips=?5, collectors=?6, "
                         "status='online', last_seen=?7 WHERE id=?1 AND status<>'revoked'");
    if (st) {
        fleet_db_text(st, 1, id);
        fleet_db_text(st, 2, h->hostname ? h->hostname : "");
        fleet_db_text(st, 3, h->os ? h->os : "");
        fleet_db_text(st, 4, h->version ? h->version : "");
        fleet_db_text(st, 5, ips_json);
        fleet_db_text(st, 6, collectors_json);
        sqlite3_bind_int64(st, 7, vg_time_now());
    }
    int rc = fleet_db_done(f, st, "agents.db hello");
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

int fleet_db_status(struct vg_fleet *f, const char *id, const char *status, bool seen)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st =
        fleet_db_prep(f, status ? "UPDATE agents SET status=?2, last_seen=coalesce(?3, last_seen) "
                                  "WHERE id=?1 AND status<>'revoked'"
                                : "UPDATE agents SET last_seen=?3 WHERE id=?1");
    if (st) {
        fleet_db_text(st, 1, id);
        if (status) {
            fleet_db_text(st, 2, status);
        }
        if (seen) {
            sqlite3_bind_int64(st, 3, vg_time_now());
        }
    }
    int rc = fleet_db_done(f, st, "agents.db status");
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

int fleet_db_hw_get(struct vg_fleet *f, const char *id, const char *spool, uint64_t *hw)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, "SELECT hw FROM spools WHERE agent=?1 AND spool=?2");
    int rc = st ? VG_OK : VG_EIO;
    *hw = 0;
    if (st) {
        fleet_db_text(st, 1, id);
        fleet_db_text(st, 2, spool);
        if (sqlite3_step(st) == SQLITE_ROW) {
            *hw = (uint64_t)sqlite3_column_int64(st, 0);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

int fleet_db_hw_set(struct vg_fleet *f, const char *id, const char *spool, uint64_t hw)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, "INSERT INTO spools(agent, spool, hw) VALUES(?1,?2,?3) "
                                        "ON CONFLICT(agent, spool) DO UPDATE SET hw=max(hw, ?3)");
    if (st) {
        fleet_db_text(st, 1, id);
        fleet_db_text(st, 2, spool);
        sqlite3_bind_int64(st, 3, (int64_t)hw);
    }
    int rc = fleet_db_done(f, st, "agents.db spool");
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

/* ---------------------------------------------------------------- listing */

static int emit_rows(sqlite3_stmt *st, int (*fn)(void *ctx, const struct vg_fleet_agent *a),
                     void *ctx, bool one)
{
    int rc = one ? VG_ENOENT : VG_OK, s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct vg_fleet_agent a = {
            .id = fleet_db_col(st, 0),
            .tenant = fleet_db_col(st, 1),
            .hostname = fleet_db_col(st, 2),
            .os = fleet_db_col(st, 3),
            .ips_json = fleet_db_col(st, 4),
            .version = fleet_db_col(st, 5),
            .collectors_json = fleet_db_col(st, 6),
            .status = fleet_db_col(st, 7),
            .cert_serial = fleet_db_col(st, 8),
            .enrolled = sqlite3_column_int64(st, 9),
            .last_seen = sqlite3_column_type(st, 10) == SQLITE_NULL ? VG_TIME_NONE
                                                                    : sqlite3_column_int64(st, 10),
        };
        rc = fn(ctx, &a);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return s == SQLITE_DONE ? rc : VG_EIO;
}

#define AGENT_COLS                                                                                 \
    "SELECT id, tenant, hostname, os, ips, version, collectors, status, cert_serial, enrolled, "   \
    "last_seen FROM agents "

int vg_fleet_agent_list(struct vg_fleet *f, const char *tenant,
                        int (*fn)(void *ctx, const struct vg_fleet_agent *a), void *ctx)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, AGENT_COLS "WHERE ?1 IS NULL OR tenant=?1 ORDER BY id");
    int rc = VG_EIO;
    if (st) {
        fleet_db_text(st, 1, tenant);
        rc = emit_rows(st, fn, ctx, false);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

int vg_fleet_agent_get(struct vg_fleet *f, const char *tenant, const char *id,
                       int (*fn)(void *ctx, const struct vg_fleet_agent *a), void *ctx)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, AGENT_COLS "WHERE id=?2 AND (?1 IS NULL OR tenant=?1)");
    int rc = VG_EIO;
    if (st) {
        fleet_db_text(st, 1, tenant);
        fleet_db_text(st, 2, id);
        rc = emit_rows(st, fn, ctx, true);
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&f->db_mu);
    return rc;
}

int vg_fleet_agent_revoke(struct vg_fleet *f, const char *tenant, const char *actor, const char *id)
{
    pthread_mutex_lock(&f->db_mu);
    sqlite3_stmt *st = fleet_db_prep(f, "UPDATE agents SET status='revoked', revoked=?3 "
                                        "WHERE id=?2 AND (?1 IS NULL OR tenant=?1) "
                                        "RETURNING tenant, cert_serial");
    int rc = VG_EIO;
    char t[FLEET_TENANT_MAX + 1] = "", serial[80] = "";
    if (st) {
        fleet_db_text(st, 1, tenant);
        fleet_db_text(st, 2, id);
        sqlite3_bind_int64(st, 3, vg_time_now());
        int s = sqlite3_step(st);
        rc = s == SQLITE_ROW ? VG_OK : s == SQLITE_DONE ? VG_ENOENT : VG_EIO;
        if (rc == VG_OK) {
            vg_strlcpy(t, fleet_db_col(st, 0), sizeof(t));
            vg_strlcpy(serial, fleet_db_col(st, 1), sizeof(serial));
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&f->db_mu);
    if (rc == VG_OK) {
        struct vg_sbuf d = VG_SBUF_INIT;
        vg_sbuf_adds(&d, "{\"cert_serial\":");
        vg_sbuf_add_json_str(&d, serial, strlen(serial));
        vg_sbuf_addc(&d, '}');
        char obj[64];
        snprintf(obj, sizeof(obj), "agent:%s", id);
        fleet_audit(f, t, actor, "agent.revoke", obj, d.p);
        vg_sbuf_fini(&d);
        fleet_conn_poke(f, id, true);
    }
    return rc;
}
