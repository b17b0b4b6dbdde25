/*
 * alert_db.c — DATA/triage.db: the durable side of the triage engine.
 *
 * Each batch's decisions (alert_state), incident joins (incident_alerts), changed incidents,
 * fingerprints, risk contributions, per-rule counters and the consumer position are written
 * in one transaction, so a restart neither repeats nor loses a decision. On open (and after
 * a batch is rolled back) the in-memory state is rebuilt from the same tables: open
 * incidents, entity windows (contributions within the risk/tactic windows), fingerprints
 * within their dedup windows, the exceptions and the position.
 *
 * One connection (NOMUTEX), used under the engine's mutex only.
 */
#include "alert/alert_int.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, val INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alert_state(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,"
    " rule_id TEXT NOT NULL, title TEXT, level INTEGER, ts INTEGER, fingerprint TEXT NOT NULL,"
    " duplicate_of INTEGER, suppressed_by INTEGER, incident_id INTEGER, risk REAL,"
    " verdict TEXT, verdict_by TEXT, verdict_at INTEGER, comment TEXT);"
    "CREATE INDEX IF NOT EXISTS alert_state_dup ON alert_state(duplicate_of)"
    " WHERE duplicate_of IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS fingerprints(fp INTEGER PRIMARY KEY, first_id INTEGER,"
    " first_ts INTEGER, last_ts INTEGER, count INTEGER, win INTEGER);"
    "CREATE TABLE IF NOT EXISTS contributions(tenant TEXT, type INTEGER, value TEXT,"
    " ts INTEGER, alert_id INTEGER, risk REAL, tactics INTEGER, level INTEGER);"
    "CREATE INDEX IF NOT EXISTS contributions_ts ON contributions(ts);"
    "CREATE TABLE IF NOT EXISTS incidents(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,"
    " title TEXT, status INTEGER, severity INTEGER, risk REAL, alert_count INTEGER,"
    " first_seen INTEGER, last_seen INTEGER, created INTEGER, updated INTEGER, assignee TEXT,"
    " verdict INTEGER, summary TEXT, reason TEXT, reason_detail TEXT, trig_type INTEGER,"
    " trig_value TEXT, tactics INTEGER, entities TEXT, techniques TEXT, links TEXT);"
    "CREATE INDEX IF NOT EXISTS incidents_list ON incidents(tenant, risk DESC, last_seen DESC);"
    "CREATE TABLE IF NOT EXISTS incident_alerts(incident_id INTEGER, alert_id INTEGER,"
    " PRIMARY KEY(incident_id, alert_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS exceptions(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,"
    " spec TEXT NOT NULL, author TEXT, created INTEGER);"
    "CREATE TABLE IF NOT EXISTS rule_stats(tenant TEXT, rule_id TEXT, alerts INTEGER,"
    " duplicates INTEGER, suppressed INTEGER, tp INTEGER, benign INTEGER, fp INTEGER,"
    " PRIMARY KEY(tenant, rule_id)) WITHOUT ROWID;";

enum {
    S_STATE,
    S_JOIN_UPD,
    S_JOIN_INS,
    S_FP,
    S_CONTRIB,
    S_RULE,
    S_INCIDENT,
    S_META,
    S_N,
};

static const char *const stmt_sql[S_N] = {
    [S_STATE] = "INSERT OR IGNORE INTO alert_state(id, tenant, rule_id, title, level, ts,"
                " fingerprint, duplicate_of, suppressed_by, incident_id, risk)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_JOIN_UPD] = "UPDATE alert_state SET incident_id = ?1 WHERE id = ?2 AND incident_id IS NULL",
    [S_JOIN_INS] = "INSERT OR IGNORE INTO incident_alerts(incident_id, alert_id) SELECT ?1, ?2"
                   " WHERE EXISTS (SELECT 1 FROM alert_state WHERE id = ?2 AND incident_id = ?1)",
    [S_FP] = "INSERT OR REPLACE INTO fingerprints(fp, first_id, first_ts, last_ts, count, win)"
             " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [S_CONTRIB] = "INSERT INTO contributions(tenant, type, value, ts, alert_id, risk, tactics,"
                  " level) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_RULE] = "INSERT INTO rule_stats(tenant, rule_id, alerts, duplicates, suppressed, tp,"
               " benign, fp) VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, 0) ON CONFLICT(tenant, rule_id)"
               " DO UPDATE SET alerts = alerts + excluded.alerts,"
               " duplicates = duplicates + excluded.duplicates,"
               " suppressed = suppressed + excluded.suppressed",
    [S_INCIDENT] = "INSERT OR REPLACE INTO incidents(" TX_INCIDENT_COLS ", title) VALUES(?1, ?2,"
                   " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
                   " ?19, ?20, ?21, ?22)",
    [S_META] = "INSERT OR REPLACE INTO meta(key, val) VALUES(?1, ?2)",
};

/* ---------------------------------------------------------------- open */

int tx_db_open(struct vg_triage *t, char *err, size_t errsz)
{
    int rc = vg_store_sqlite_open(t->db_path, &t->db, err, errsz);
    rc = rc ? rc : vg_store_sqlite_exec(t->db, schema, "triage.db schema", err, errsz);
    for (int i = 0; rc == VG_OK && i < S_N; i++) {
        int src = sqlite3_prepare_v3(t->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                     &t->stmts[i], NULL);
        if (src != SQLITE_OK) {
            rc = vg_store_sqlite_fail(t->db, src, "triage.db prepare", err, errsz);
        }
    }
    return rc;
}

void tx_db_close(struct vg_triage *t)
{
    for (int i = 0; i < S_N; i++) {
        sqlite3_finalize(t->stmts[i]);
        t->stmts[i] = NULL;
    }
    sqlite3_close(t->db);
    t->db = NULL;
}

/* ---------------------------------------------------------------- transactions */

int tx_db_begin(struct vg_triage *t, char *err, size_t errsz)
{
    return t->db ? vg_store_sqlite_exec(t->db, "BEGIN IMMEDIATE", "triage begin", err, errsz)
                 : VG_OK;
}

int tx_db_commit(struct vg_triage *t, char *err, size_t errsz)
{
    return t->db ? vg_store_sqlite_exec(t->db, "COMMIT", "triage commit", err, errsz) : VG_OK;
}

void tx_db_rollback(struct vg_triage *t)
{
    if (t->db) {
        sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

/* Step a bound statement once and reset it. */
static int step(struct vg_triage *t, sqlite3_stmt *st, const char *what, char *err, size_t errsz)
{
    int src = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return src == SQLITE_DONE || src == SQLITE_ROW
               ? VG_OK
               : vg_store_sqlite_fail(t->db, src, what, err, errsz);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
    if (id) {
        sqlite3_bind_int64(st, i, id);
    } else {
        sqlite3_bind_null(st, i);
    }
}

/* ---------------------------------------------------------------- batch rows */

static int write_decisions(struct vg_triage *t, char *err, size_t errsz)
{
    sqlite3_stmt *st = t->stmts[S_STATE];
    for (size_t i = 0; i < t->ndec; i++) {
        const struct tx_decision *d = &t->dec[i];
        char fp[17];
        tx_fp_hex(d->fp, fp);
        sqlite3_bind_int64(st, 1, d->a->id);
        bind_text(st, 2, d->a->tenant && *d->a->tenant ? d->a->tenant : "default");
        bind_text(st, 3, d->a->rule_id ? d->a->rule_id : "");
        bind_text(st, 4, d->a->title);
        sqlite3_bind_int(st, 5, d->a->level);
        sqlite3_bind_int64(st, 6, d->a->ts);
        sqlite3_bind_text(st, 7, fp, 16, SQLITE_TRANSIENT);
        bind_id(st, 8, d->dup_of);
        bind_id(st, 9, d->suppressed_by);
        bind_id(st, 10, d->incident_id);
        sqlite3_bind_double(st, 11, d->risk);
        int rc = step(t, st, "alert_state", err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int write_joins(struct vg_triage *t, char *err, size_t errsz)
{
    for (size_t i = 0; i < t->njoins; i++) {
        for (int s = S_JOIN_UPD; s <= S_JOIN_INS; s++) {
            sqlite3_bind_int64(t->stmts[s], 1, t->joins[i].incident_id);
            sqlite3_bind_int64(t->stmts[s], 2, t->joins[i].alert_id);
            int rc = step(t, t->stmts[s], "incident_alerts", err, errsz);
            if (rc != VG_OK) {
                return rc;
            }
        }
    }
    return VG_OK;
}

static int write_fps(struct vg_triage *t, char *err, size_t errsz)
{
    sqlite3_stmt *st = t->stmts[S_FP];
    for (size_t i = 0; i < t->ndfps; i++) {
        const struct tx_fp *f = t->dfps[i];
        sqlite3_bind_int64(st, 1, (int64_t)f->fp);
        sqlite3_bind_int64(st, 2, f->first_id);
        sqlite3_bind_int64(st, 3, f->first_ts);
        sqlite3_bind_int64(st, 4, f->last_ts);
        sqlite3_bind_int64(st, 5, f->count);
        sqlite3_bind_int64(st, 6, f->window);
        int rc = step(t, st, "fingerprints", err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int write_contribs(struct vg_triage *t, char *err, size_t errsz)
{
    sqlite3_stmt *st = t->stmts[S_CONTRIB];
    for (size_t i = 0; i < t->ncrow; i++) {
        const struct contrib_row *r = &t->crow[i];
        bind_text(st, 1, r->e->tenant);
        sqlite3_bind_int(st, 2, r->e->type);
        bind_text(st, 3, r->e->value);
        sqlite3_bind_int64(st, 4, r->c.ts);
        sqlite3_bind_int64(st, 5, r->c.alert_id);
        sqlite3_bind_double(st, 6, r->c.risk);
        sqlite3_bind_int(st, 7, r->c.tactics);
        sqlite3_bind_int(st, 8, r->c.level);
        int rc = step(t, st, "contributions", err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int write_rules(struct vg_triage *t, char *err, size_t errsz)
{
    sqlite3_stmt *st = t->stmts[S_RULE];
    for (size_t i = 0; i < t->ndrules; i++) {
        const struct tx_rule *r = t->drules[i];
        bind_text(st, 1, r->tenant);
        bind_text(st, 2, r->rule_id);
        sqlite3_bind_int64(st, 3, r->alerts);
        sqlite3_bind_int64(st, 4, r->dups);
        sqlite3_bind_int64(st, 5, r->suppressed);
        int rc = step(t, st, "rule_stats", err, errsz);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int write_meta(struct vg_triage *t, const char *key, int64_t v, char *err, size_t errsz)
{
    sqlite3_stmt *st = t->stmts[S_META];
    bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, v);
    return step(t, st, "meta", err, errsz);
}

/* Rows no window needs any more (at most every 10 minutes of alert time). */
static int prune(struct vg_triage *t, char *err, size_t errsz)
{
    if (t->clock - t->db_pruned < 10LL * 60 * 1000000000LL) {
        return VG_OK;
    }
    char sql[256];
    int64_t keep = VG_MAX(t->o.risk_window, t->o.tactic_window);
    snprintf(sql, sizeof(sql),
             "DELETE FROM contributions WHERE ts < %" PRId64 ";"
             "DELETE FROM fingerprints WHERE first_ts + win <= %" PRId64,
             t->clock - keep, t->clock);
    t->db_pruned = t->clock;
    return vg_store_sqlite_exec(t->db, sql, "triage prune", err, errsz);
}

int tx_db_write_batch(struct vg_triage *t, char *err, size_t errsz)
{
    if (!t->db) {
        return VG_OK;
    }
    int rc = write_decisions(t, err, errsz);
    rc = rc ? rc : write_joins(t, err, errsz);
    rc = rc ? rc : write_fps(t, err, errsz);
    rc = rc ? rc : write_contribs(t, err, errsz);
    rc = rc ? rc : write_rules(t, err, errsz);
    for (size_t i = 0; rc == VG_OK && i < t->ndincs; i++) {
        rc = tx_db_incident_save(t, t->dincs[i], err, errsz);
    }
    rc = rc ? rc : write_meta(t, "position", t->position, err, errsz);
    rc = rc ? rc : write_meta(t, "clock", t->clock, err, errsz);
    rc = rc ? rc : write_meta(t, "next_incident", t->next_incident, err, errsz);
    return rc ? rc : prune(t, err, errsz);
}

/* ---------------------------------------------------------------- incidents */

static void incident_sets(const struct tx_incident *inc, struct vg_sbuf *ents,
                          struct vg_sbuf *techs, struct vg_sbuf *links)
{
    vg_sbuf_addc(ents, '[');
    for (size_t i = 0; i < inc->nents; i++) {
        vg_sbuf_printf(ents, "%s[%d,%d,", i ? "," : "", inc->ents[i].type, inc->ents[i].roles);
        tx_json_str(ents, inc->ents[i].value);
        vg_sbuf_addc(ents, ']');
    }
    vg_sbuf_addc(ents, ']');
    vg_sbuf_addc(techs, '[');
    for (size_t i = 0; i < inc->techniques.n; i++) {
        vg_sbuf_adds(techs, i ? "," : "");
        tx_json_str(techs, inc->techniques.v[i]);
    }
    vg_sbuf_addc(techs, ']');
    vg_sbuf_addc(links, '[');
    for (size_t i = 0; i < inc->nlinks; i++) {
        vg_sbuf_printf(links, "%s%" PRId64, i ? "," : "", inc->links[i]);
    }
    vg_sbuf_addc(links, ']');
}

static void bind_incident(sqlite3_stmt *st, const struct tx_incident *inc)
{
    sqlite3_bind_int64(st, 1, inc->id);
    bind_text(st, 2, inc->tenant);
    sqlite3_bind_int(st, 3, inc->status);
    sqlite3_bind_int(st, 4, inc->severity);
    sqlite3_bind_double(st, 5, inc->risk);
    sqlite3_bind_int64(st, 6, inc->alert_count);
    sqlite3_bind_int64(st, 7, inc->first_seen);
    sqlite3_bind_int64(st, 8, inc->last_seen);
    sqlite3_bind_int64(st, 9, inc->created);
    sqlite3_bind_int64(st, 10, inc->updated);
    bind_text(st, 11, inc->assignee);
    sqlite3_bind_int(st, 12, inc->verdict);
    bind_text(st, 13, inc->summary);
    bind_text(st, 14, inc->reason);
    bind_text(st, 15, inc->reason_detail);
    sqlite3_bind_int(st, 16, inc->trig_type);
    bind_text(st, 17, inc->trig_value);
    sqlite3_bind_int(st, 18, inc->tactics);
}

int tx_db_incident_save(struct vg_triage *t, const struct tx_incident *inc, char *err, size_t errsz)
{
    if (!t->db) {
        return VG_OK;
    }
    struct vg_sbuf ents = VG_SBUF_INIT, techs = VG_SBUF_INIT, links = VG_SBUF_INIT;
    struct vg_sbuf title = VG_SBUF_INIT;
    incident_sets(inc, &ents, &techs, &links);
    tx_incident_title(inc, &title);
    int rc = ents.err || techs.err || links.err || title.err ? VG_ENOMEM : VG_OK;
    if (rc == VG_OK) {
        sqlite3_stmt *st = t->stmts[S_INCIDENT];
        bind_incident(st, inc);
        bind_text(st, 19, ents.p);
        bind_text(st, 20, techs.p);
        bind_text(st, 21, links.p);
        bind_text(st, 22, title.p);
        rc = step(t, st, "incidents", err, errsz);
    }
    vg_sbuf_fini(&ents);
    vg_sbuf_fini(&techs);
    vg_sbuf_fini(&links);
    vg_sbuf_fini(&title);
    return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? vg_strdup(s) : NULL;
}

/* The stored sets: entities [[type,roles,"value"],...], techniques, links. */
static int incident_parse_sets(struct tx_incident *inc, const char *ents, const char *techs,
                               const char *links)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *ar = vg_arena_create(4096);
    struct vg_json *d[3] = {NULL, NULL, NULL};
    const char *src[3] = {ents ? ents : "[]", techs ? techs : "[]", links ? links : "[]"};
    int rc = p && ar ? VG_OK : VG_ENOMEM;
    for (int k = 0; rc == VG_OK && k < 3; k++) {
        size_t used;
        char jerr[64];
        rc = vg_json_parse(p, ar, src[k], strlen(src[k]), &used, &d[k], jerr, sizeof(jerr));
        rc = rc == VG_OK && d[k]->type != VG_JSON_ARRAY ? VG_EINVAL : rc;
    }
    for (uint32_t i = 0; rc == VG_OK && i < d[0]->n; i++) {
        const struct vg_json *e = &d[0]->u.items[i];
        if (e->type == VG_JSON_ARRAY && e->n == 3 && e->u.items[2].type == VG_JSON_STRING) {
            char *v = vg_strndup(e->u.items[2].s, e->u.items[2].n);
            rc = v ? tx_incident_add_entity(inc, (int)e->u.items[0].u.i, v, (int)e->u.items[1].u.i)
                   : VG_ENOMEM;
            vg_free(v);
        }
    }
    for (uint32_t i = 0; rc == VG_OK && i < d[1]->n; i++) {
        rc = tx_incident_add_technique(inc, d[1]->u.items[i].s, d[1]->u.items[i].n);
    }
    for (uint32_t i = 0; rc == VG_OK && i < d[2]->n; i++) {
        rc = vg_grow(&inc->links, &inc->clinks, inc->nlinks + 1, sizeof(*inc->links));
        if (rc == VG_OK) {
            inc->links[inc->nlinks++] = d[2]->u.items[i].u.i;
        }
    }
    vg_arena_destroy(ar);
    vg_json_parser_destroy(p);
    return rc;
}

int tx_incident_from_row(sqlite3_stmt *st, struct tx_incident **out)
{
    struct tx_incident *inc = vg_calloc(1, sizeof(*inc));
    *out = NULL;
    if (!inc) {
        return VG_ENOMEM;
    }
    inc->id = sqlite3_column_int64(st, 0);
    inc->tenant = col_dup(st, 1);
    inc->status = sqlite3_column_int(st, 2);
    inc->severity = sqlite3_column_int(st, 3);
    inc->risk = sqlite3_column_double(st, 4);
    inc->alert_count = sqlite3_column_int64(st, 5);
    inc->first_seen = sqlite3_column_int64(st, 6);
    inc->last_seen = sqlite3_column_int64(st, 7);
    inc->created = sqlite3_column_int64(st, 8);
    inc->updated = sqlite3_column_int64(st, 9);
    inc->assignee = col_dup(st, 10);
    inc->verdict = sqlite3_column_int(st, 11);
    inc->summary = col_dup(st, 12);
    inc->reason = col_dup(st, 13);
    inc->reason_detail = col_dup(st, 14);
    inc->trig_type = (uint8_t)sqlite3_column_int(st, 15);
    inc->trig_value = col_dup(st, 16);
    inc->tactics = (uint16_t)sqlite3_column_int(st, 17);
    int rc = inc->tenant ? VG_OK : VG_ENOMEM;
    rc = rc ? rc
            : incident_parse_sets(inc, (const char *)sqlite3_column_text(st, 18),
                                  (const char *)sqlite3_column_text(st, 19),
                                  (const char *)sqlite3_column_text(st, 20));
    if (rc != VG_OK) {
        tx_incident_free(inc);
        return rc;
    }
    *out = inc;
    return VG_OK;
}

int tx_db_incident_load(struct vg_triage *t, const char *tenant, int64_t id,
                        struct tx_incident **out)
{
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (!t->db) {
        return VG_ENOENT;
    }
    int rc = VG_ENOENT;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT " TX_INCIDENT_COLS
                           " FROM incidents WHERE id = ?1 AND (?2 IS NULL OR tenant = ?2)",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, tenant);
    if (sqlite3_step(st) == SQLITE_ROW) {
        rc = tx_incident_from_row(st, out);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- rebuilding memory */

static int load_meta(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(t->db, "SELECT key, val FROM meta", -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        int64_t v = sqlite3_column_int64(st, 1);
        if (!strcmp(k, "position")) {
            t->position = v;
        } else if (!strcmp(k, "clock")) {
            t->clock = v;
        } else if (!strcmp(k, "next_incident")) {
            t->next_incident = VG_MAX(v, 1);
        } else if (!strcmp(k, "next_exception")) {
            t->next_exception = VG_MAX(v, 1);
        }
    }
    sqlite3_finalize(st);
    t->last_sweep = t->db_pruned = t->clock;
    return VG_OK;
}

static int load_exceptions(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT id, tenant, spec, author, created FROM exceptions"
                           " ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *spec = (const char *)sqlite3_column_text(st, 2);
        struct tx_exc *e = NULL;
        char err[256];
        if (tx_exc_parse(spec, strlen(spec), VG_TIME_NONE, &e, NULL, NULL, err, sizeof(err)) !=
            VG_OK) {
            VG_WARN("triage", "exception %lld: %s (ignored)", sqlite3_column_int64(st, 0), err);
            continue;
        }
        e->id = sqlite3_column_int64(st, 0);
        e->tenant = col_dup(st, 1);
        e->author = col_dup(st, 3);
        e->created = sqlite3_column_int64(st, 4);
        rc = e->tenant && vg_grow(&t->excs, &t->cexcs, t->nexcs + 1, sizeof(*t->excs)) == VG_OK
                 ? VG_OK
                 : VG_ENOMEM;
        if (rc == VG_OK) {
            t->excs[t->nexcs++] = e;
        } else {
            tx_exc_free(e);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Open incidents back in memory, their entities pointing at them. */
static int load_incidents(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    if (sqlite3_prepare_v2(
            t->db, "SELECT " TX_INCIDENT_COLS " FROM incidents WHERE status != 2 ORDER BY id", -1,
            &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        struct tx_incident *inc;
        rc = tx_incident_from_row(st, &inc);
        if (rc == VG_OK && tx_map_put(&t->incs, (uint64_t)inc->id, inc) != VG_OK) {
            tx_incident_free(inc);
            rc = VG_ENOMEM;
        }
        for (size_t i = 0; rc == VG_OK && i < inc->nents; i++) {
            struct tx_entity *e =
                tx_entity_get(t, inc->tenant, inc->ents[i].type, inc->ents[i].value, true);
            rc = e ? VG_OK : VG_ENOMEM;
            if (e) {
                e->incident_id = inc->id; /* ordered by id: the newest wins */
            }
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_contribs(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    vg_time_t rfloor = t->clock - t->o.risk_window, tfloor = t->clock - t->o.tactic_window;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT c.tenant, c.type, c.value, c.ts, c.alert_id, c.risk, c.tactics,"
                           " c.level, s.incident_id FROM contributions c LEFT JOIN alert_state s"
                           " ON s.id = c.alert_id WHERE c.ts >= ?1 ORDER BY c.rowid",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, VG_MIN(rfloor, tfloor));
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        struct tx_entity *e =
            tx_entity_get(t, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
                          (const char *)sqlite3_column_text(st, 2), true);
        if (!e) {
            rc = VG_ENOMEM;
            break;
        }
        struct tx_contrib c = {.ts = sqlite3_column_int64(st, 3),
                               .alert_id = sqlite3_column_int64(st, 4),
                               .risk = (float)sqlite3_column_double(st, 5),
                               .tactics = (uint16_t)sqlite3_column_int(st, 6),
                               .level = (uint8_t)sqlite3_column_int(st, 7),
                               .incident_id = sqlite3_column_int64(st, 8)};
        if (c.ts >= rfloor) {
            tx_contrib_push(e, &c);
        }
        for (int k = 0; k < TX_NTACTICS; k++) {
            if ((c.tactics & (1u << k)) && c.ts >= tfloor) {
                e->tactic_ts[k] = VG_MAX(e->tactic_ts[k], c.ts);
            }
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int load_fps(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT fp, first_id, first_ts, last_ts, count, win FROM fingerprints"
                           " WHERE first_ts + win > ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, t->clock);
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        struct tx_fp *f = tx_fp_add(t, (uint64_t)sqlite3_column_int64(st, 0));
        if (!f) {
            rc = VG_ENOMEM;
            break;
        }
        f->first_id = sqlite3_column_int64(st, 1);
        f->first_ts = sqlite3_column_int64(st, 2);
        f->last_ts = sqlite3_column_int64(st, 3);
        f->count = sqlite3_column_int64(st, 4);
        f->window = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    return rc;
}

int tx_db_load(struct vg_triage *t, char *err, size_t errsz)
{
    if (!t->db) {
        return VG_OK;
    }
    int rc = load_meta(t);
    rc = rc ? rc : load_exceptions(t);
    rc = rc ? rc : load_incidents(t);
    rc = rc ? rc : load_contribs(t);
    rc = rc ? rc : load_fps(t);
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: rebuilding the triage state: %s (%s)", t->db_path,
                 vg_strerror(rc), sqlite3_errmsg(t->db));
    }
    return rc;
}
