/*
 * fleet_config.c — remote configuration of the agents (issue 5): one JSON object per agent
 * and one default per tenant, kept in agents.db (table agent_configs, agent '' = the tenant's
 * default), with the shape of the agent's own configuration file:
 *
 *   {"collectors":{"process":{},"fim":{"paths":["/etc"]},"yara":{"rules":"rule r {...}"}}}
 *
 * Validation here is what the server can know without the host: the top level holds only
 * "collectors", an object whose keys are collectors the agent has (the agent's own table,
 * vg_agent_collector_find) and whose values are objects; yara.rules is compiled (a syntax
 * error is refused with its line). The agent checks the rest of each section when it starts
 * the collector and reports failures in its config_applied event.
 *
 * An agent's effective configuration is its own, else its tenant's default, else none. The
 * listener (fleet_listen.c) sends it as a CONFIG frame after HELLO and again when it changes
 * while the agent is connected (fleet_conn_poke / fleet_conn_poke_all). `{}` is a valid
 * configuration: "no remote configuration, use the local file".
 */
#include "fleet/fleet_int.h"

#include "agent/agent.h"
#include "agent/agent_yara.h"
#include "event/event.h"

#include <string.h>

/* Is the collectors member valid? err names the offending key. */
static int check_collectors(const struct vg_json *cols, char *err, size_t errsz)
{
    if (cols->type != VG_JSON_OBJECT) {
        snprintf(err, errsz,
                 "config: \"collectors\" must be an object of collector name -> "
                 "settings");
        return VG_EINVAL;
    }
    for (uint32_t i = 0; i < cols->n; i++) {
        const struct vg_json *k = &cols->u.items[2 * i], *v = &cols->u.items[2 * i + 1];
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)VG_MIN(k->n, 48u), k->s);
        if (k->n >= 48 || !vg_agent_collector_find(name)) {
            snprintf(err, errsz,
                     "config: collectors: unknown collector '%s' (known: process, fim, network, "
                     "inventory, logs, yara)",
                     name);
            return VG_EINVAL;
        }
        for (uint32_t j = 0; j < i; j++) {
            const struct vg_json *o = &cols->u.items[2 * j];
            if (vg_str_eq(o->s, o->n, k->s, k->n)) {
                snprintf(err, errsz, "config: collectors: '%s' appears twice", name);
                return VG_EINVAL;
            }
        }
        if (v->type != VG_JSON_OBJECT && v->type != VG_JSON_NULL) {
            snprintf(err, errsz, "config: collectors.%s: expected an object of settings", name);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

/* yara.rules, when present, must be rule text that compiles. */
static int check_yara(const struct vg_json *cols, char *err, size_t errsz)
{
    const struct vg_json *rules = vg_json_get(vg_json_get(cols, "yara"), "rules");
    struct vg_agent_yara_rules *r = NULL;
    char yerr[384];
    if (!rules) {
        return VG_OK;
    }
    if (rules->type != VG_JSON_STRING || memchr(rules->s, '\0', rules->n)) {
        snprintf(err, errsz, "config: collectors.yara.rules: expected YARA rule text (a string)");
        return VG_EINVAL;
    }
    int rc = vg_agent_yara_compile(rules->s, rules->n, "pushed", &r, yerr, sizeof(yerr));
    vg_agent_yara_rules_unref(r);
    if (rc == VG_EINVAL) {
        snprintf(err, errsz, "config: collectors.yara.rules: %s", yerr);
    } else if (rc != VG_OK) {
        snprintf(err, errsz, "config: collectors.yara.rules: cannot compile: %s", vg_strerror(rc));
    }
    return rc;
}

int vg_fleet_config_check(const char *json, size_t len, struct vg_sbuf *canon, char *err,
                          size_t errsz)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *ar = vg_arena_create(16384);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char perr[160];
    int rc = p && ar ? VG_OK : VG_ENOMEM;
    if (rc == VG_OK && len > VG_FLEET_CONFIG_MAX) {
        snprintf(err, errsz, "config: larger than %u bytes", VG_FLEET_CONFIG_MAX);
        rc = VG_EINVAL;
    } else if (rc == VG_OK &&
               (vg_json_parse(p, ar, json, len, &used, &doc, perr, sizeof(perr)) != VG_OK ||
                doc->type != VG_JSON_OBJECT)) {
        snprintf(err, errsz, "config: expected a JSON object {\"collectors\":{...}}%s%s",
                 doc ? "" : ": ", doc ? "" : perr);
        rc = VG_EINVAL;
    }
    while (rc == VG_OK && used < len && strchr(" \t\r\n", json[used]) && json[used]) {
        used++;
    }
    if (rc == VG_OK && used < len) {
        snprintf(err, errsz, "config: unexpected data after the JSON object (offset %zu)", used);
        rc = VG_EINVAL;
    }
    for (uint32_t i = 0; rc == VG_OK && i < doc->n; i++) {
        const struct vg_json *k = &doc->u.items[2 * i];
        if (!vg_str_eq(k->s, k->n, "collectors", 10)) {
            snprintf(err, errsz, "config: unknown key '%.*s' (expected \"collectors\")",
                     (int)VG_MIN(k->n, 64u), k->s);
            rc = VG_EINVAL;
        }
    }
    const struct vg_json *cols = rc == VG_OK ? vg_json_get(doc, "collectors") : NULL;
    rc = rc || !cols ? rc : check_collectors(cols, err, errsz);
    rc = rc || !cols ? rc : check_yara(cols, err, errsz);
    if (rc == VG_OK && canon) {
        vg_sbuf_reset(canon);
        vg_json_write(doc, canon);
        rc = canon->err ? VG_ENOMEM : VG_OK;
    }
    vg_arena_destroy(ar);
    vg_json_parser_destroy(p);
    return rc;
}

/* ---------------------------------------------------------------- storage */

/* The stored configuration of (tenant, agent) into *json (vg_malloc'ed) or NULL. */
static int config_row(struct vg_fleet *f, const char *tenant, const char *agent, char **json,
                      vg_time_t *updated, char *by, size_t bysize)
{
    sqlite3_stmt *st = fleet_db_prep(f, "SELECT config, updated, updated_by FROM agent_configs "
                                        "WHERE tenant=?1 AND agent=?2");
    *json = NULL;
    if (!st) {
        return VG_EIO;
    }
    fleet_db_text(st, 1, tenant);
    fleet_db_text(st, 2, agent);
    int s = sqlite3_step(st), rc = VG_OK;
    if (s == SQLITE_ROW) {
        *json = vg_strdup(fleet_db_col(st, 0));
        rc = *json ? VG_OK : VG_ENOMEM;
        if (updated) {
            *updated = sqlite3_column_int64(st, 1);
        }
        if (by) {
            vg_strlcpy(by, fleet_db_col(st, 2), bysize);
        }
    } else if (s != SQLITE_DONE) {
        rc = VG_EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The agent's tenant (VG_ENOENT: unknown, or not in tenant when tenant is set). */
static int agent_tenant(struct vg_fleet *f, const char *tenant, const char *id, char *out,
                        size_t size)
{
    sqlite3_stmt *st =
        fleet_db_prep(f, "SELECT tenant FROM agents WHERE id=?2 AND (?1 IS NULL OR tenant=?1)");
    if (!st) {
        return VG_EIO;
    }
    fleet_db_text(st, 1, tenant);
    fleet_db_text(st, 2, id);
    int s = sqlite3_step(st);
    int rc = s == SQLITE_ROW ? VG_OK : s == SQLITE_DONE ? VG_ENOENT : VG_EIO;
    if (rc == VG_OK) {
        vg_strlcpy(out, fleet_db_col(st, 0), size);
    }
    sqlite3_finalize(st);
    return rc;
}

void vg_fleet_config_fini(struct vg_fleet_config *c)
{
    vg_free(c->json);
    memset(c, 0, sizeof(*c));
}

int vg_fleet_config_get(struct vg_fleet *f, const char *tenant, const char *agent_id,
                        struct vg_fleet_config *out)
{
    char t[FLEET_TENANT_MAX + 1];
    int rc = VG_OK;
    memset(out, 0, sizeof(*out));
    out->source = "none";
    pthread_mutex_lock(&f->db_mu);
    if (agent_id) {
        rc = agent_tenant(f, tenant, agent_id, t, sizeof(t));
        rc = rc ? rc
                : config_row(f, t, agent_id, &out->json, &out->updated, out->updated_by,
                             sizeof(out->updated_by));
        out->source = out->json ? "agent" : "none";
    } else {
        vg_strlcpy(t, tenant ? tenant : "default", sizeof(t));
    }
    if (rc == VG_OK && !out->json) {
        rc = config_row(f, t, "", &out->json, &out->updated, out->updated_by,
                        sizeof(out->updated_by));
        out->source = out->json ? "default" : "none";
    }
    pthread_mutex_unlock(&f->db_mu);
    if (rc != VG_OK) {
        vg_fleet_config_fini(out);
    }
    return rc;
}

static int config_store(struct vg_fleet *f, const char *tenant, const char *agent, const char *json,
                        const char *actor)
{
    sqlite3_stmt *st = fleet_db_prep(
        f, "INSERT INTO agent_configs(tenant, agent, config, updated, updated_by) "
           "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(tenant, agent) DO UPDATE SET "
           "config=excluded.config, updated=excluded.updated, updated_by=excluded.updated_by");
    if (st) {
        fleet_db_text(st, 1, tenant);
        fleet_db_text(st, 2, agent);
        fleet_db_text(st, 3, json);
        sqlite3_bind_int64(st, 4, vg_time_now());
        fleet_db_text(st, 5, actor);
    }
    return fleet_db_done(f, st, "agents.db config");
}

int vg_fleet_config_set(struct vg_fleet *f, const char *tenant, const char *actor,
                        const char *agent_id, const char *json, size_t len, char *err, size_t errsz)
{
    struct vg_sbuf canon = VG_SBUF_INIT;
    char t[FLEET_TENANT_MAX + 1], obj[96];
    const char *who = actor ? actor : "system";
    int rc = vg_fleet_config_check(json, len, &canon, err, errsz);
    if (rc != VG_OK) {
        vg_sbuf_fini(&canon);
        return rc;
    }
    vg_strlcpy(t, tenant ? tenant : "default", sizeof(t));
    pthread_mutex_lock(&f->db_mu);
    rc = agent_id ? agent_tenant(f, tenant, agent_id, t, sizeof(t)) : VG_OK;
    rc = rc ? rc : config_store(f, t, agent_id ? agent_id : "", canon.p, who);
    pthread_mutex_unlock(&f->db_mu);
    if (rc == VG_ENOENT) {
        snprintf(err, errsz, "no agent '%.40s'", agent_id);
    } else if (rc != VG_OK) {
        snprintf(err, errsz, "agents.db: cannot store the configuration");
    } else {
        snprintf(obj, sizeof(obj), agent_id ? "agent:%s" : "agent-config:%s",
                 agent_id ? agent_id : t);
        fleet_audit(f, t, who, "agent.config", obj, canon.p);
        if (agent_id) {
            fleet_conn_poke(f, agent_id, false);
        } else {
            fleet_conn_poke_all(f);
        }
    }
    vg_sbuf_fini(&canon);
    return rc;
}

int fleet_config_effective(struct vg_fleet *f, const char *agent_id, char **json)
{
    struct vg_fleet_config c;
    int rc = vg_fleet_config_get(f, NULL, agent_id, &c);
    *json = rc == VG_OK ? c.json : NULL;
    return rc;
}

/*
 * A config_applied event of an agent: its "agent.collectors" object (collector → backend,
 * strings only) becomes the registry's collectors, as a HELLO would. Other events: no-op.
 */
int fleet_config_applied(struct vg_fleet *f, const char *agent_id, const struct vg_json *ev)
{
    const struct vg_json *cols = vg_json_get(ev, "agent.collectors");
    if (!vg_json_str_is(vg_json_get(ev, "event.dataset"), "agent") ||
        !vg_json_str_is(vg_json_get(ev, "event.action"), "config_applied") || !cols ||
        cols->type != VG_JSON_OBJECT || cols->n > 32) {
        return VG_OK;
    }
    for (uint32_t i = 0; i < cols->n; i++) {
        const struct vg_json *v = &cols->u.items[2 * i + 1];
        if (v->type != VG_JSON_STRING || v->n > 64 || cols->u.items[2 * i].n > 64) {
            return VG_EINVAL;
        }
    }
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_json_write(cols, &b);
    int rc = b.err ? VG_ENOMEM : VG_OK;
    if (rc == VG_OK) {
        pthread_mutex_lock(&f->db_mu);
        sqlite3_stmt *st = fleet_db_prep(f, "UPDATE agents SET collectors=?2 WHERE id=?1");
        if (st) {
            fleet_db_text(st, 1, agent_id);
            fleet_db_text(st, 2, b.p);
        }
        rc = fleet_db_done(f, st, "agents.db collectors");
        pthread_mutex_unlock(&f->db_mu);
    }
    vg_sbuf_fini(&b);
    return rc;
}
