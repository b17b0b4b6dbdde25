/*
 * alert_db.c — DATA/triage.db: the durable side of the triage engine.
 *
 * Each batch commits in one transaction: a row per non-duplicate alert in alert_state (its
 * decision, fingerprint, duplicate counter and its risk contributions encoded in one blob), a
 * compact alert_dups row (id, first alert) per duplicate, the counters of earlier first alerts
 * that got duplicates, incident joins of earlier alerts, changed incidents (without their
 * entity set), the entity-set changes as one appended incident_ents row per changed incident,
 * per-rule counters, a clock mark and the consumer position. Every hot table is appended to in
 * key order (alert id, seq, clock), so a batch dirties few pages.
 *
 * On open (and after a batch is rolled back) memory is rebuilt from the same tables: open
 * incidents with their entity sets and the entities' incident pointers (incident_ents replayed
 * in order), then one pass over alert_state from the first alert of the oldest window (found
 * through marks: clock -> first alert id of the batch that reached it) for the fingerprints
 * and the entities' risk and tactic windows.
 *
 * One connection (NOMUTEX), used under the engine's mutex only.
 */
#include "alert/alert_int.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>

#define TX_SCHEMA_VERSION 2

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, val INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS alert_state(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,"
    " rule_id TEXT NOT NULL, title TEXT, level INTEGER, ts INTEGER, fp INTEGER NOT NULL,"
    " duplicate_of INTEGER, suppressed_by INTEGER, incident_id INTEGER, risk REAL,"
    " tactics INTEGER, ents BLOB, dups INTEGER NOT NULL DEFAULT 0, last_ts INTEGER, win INTEGER,"
    " verdict TEXT, verdict_by TEXT, verdict_at INTEGER, comment TEXT);"
    "CREATE INDEX IF NOT EXISTS alert_state_incident ON alert_state(incident_id)"
    " WHERE incident_id IS NOT NULL;"
    "CREATE TABLE IF NOT EXISTS alert_dups(id INTEGER PRIMARY KEY, dup_of INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS marks(clock INTEGER PRIMARY KEY, first_id INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS incidents(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,"
    " title TEXT, status INTEGER, severity INTEGER, risk REAL, alert_count INTEGER,"
    " first_seen INTEGER, last_seen INTEGER, created INTEGER, updated INTEGER, assignee TEXT,"
    " verdict INTEGER, summary TEXT, reason TEXT, reason_detail TEXT, trig_type INTEGER,"
    " trig_value TEXT, tactics INTEGER, techniques TEXT, links TEXT);"
    "CREATE TABLE IF NOT EXISTS incident_ents(seq INTEGER PRIMARY KEY,"
    " incident_id INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS incident_ents_inc ON incident_ents(incident_id);"
    "CREATE TABLE IF NOT EXISTS exceptions(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,"
    " spec TEXT NOT NULL, author TEXT, created INTEGER);"
    "CREATE TABLE IF NOT EXISTS rule_stats(tenant TEXT, rule_id TEXT, alerts INTEGER,"
    " duplicates INTEGER, suppressed INTEGER, tp INTEGER, benign INTEGER, fp INTEGER,"
    " PRIMARY KEY(tenant, rule_id)) WITHOUT ROWID;";

enum {
    S_STATE,
    S_DUP,
    S_FPUPD,
    S_JOIN,
    S_RULE,
    S_INCIDENT,
    S_INC_UPD,
    S_IENT,
    S_IENT_SEL,
    S_META,
    S_MARK,
    S_N,
};

static const char *const stmt_sql[S_N] = {
    [S_STATE] = "INSERT OR IGNORE INTO alert_state(id, tenant, rule_id, title, level, ts, fp,"
                " suppressed_by, incident_id, risk, tactics, ents, dups, last_ts, win)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [S_DUP] = "INSERT OR IGNORE INTO alert_dups(id, dup_of) VALUES(?1, ?2)",
    [S_FPUPD] = "UPDATE alert_state SET dups = ?2, last_ts = ?3 WHERE id = ?1",
    [S_JOIN] = "UPDATE alert_state SET incident_id = ?1 WHERE id = ?2 AND incident_id IS NULL",
    [S_RULE] = "INSERT INTO rule_stats(tenant, rule_id, alerts, duplicates, suppressed, tp,"
               " benign, fp) VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, 0) ON CONFLICT(tenant, rule_id)"
               " DO UPDATE SET alerts = alerts + excluded.alerts,"
               " duplicates = duplicates + excluded.duplicates,"
               " suppressed = suppressed + excluded.suppressed",
    [S_INCIDENT] = "INSERT OR REPLACE INTO incidents(" TX_INCIDENT_COLS ", title) VALUES(?1, ?2,"
                   " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
                   " ?19, ?20, ?21)",
    [S_INC_UPD] = "UPDATE incidents SET status = ?3, severity = ?4, risk = ?5, alert_count = ?6,"
                  " first_seen = ?7, last_seen = ?8, created = ?9, updated = ?10, assignee = ?11,"
                  " verdict = ?12, summary = ?13, reason = ?14, reason_detail = ?15,"
                  " trig_type = ?16, trig_value = ?17, tactics = ?18, techniques = ?19,"
                  " links = ?20, title = ?21 WHERE id = ?1 AND tenant = ?2",
    [S_IENT] = "INSERT INTO incident_ents(seq, incident_id, data) VALUES(?1, ?2, ?3)",
    [S_IENT_SEL] = "SELECT seq, data FROM incident_ents WHERE incident_id = ?1 ORDER BY seq",
    [S_META] = "INSERT OR REPLACE INTO meta(key, val) VALUES(?1, ?2)",
    [S_MARK] = "INSERT OR IGNORE INTO marks(clock, first_id) VALUES(?1, ?2)",
};

/* ---------------------------------------------------------------- open */

/* A file of the first development layout (JSON entity lists, a row per contribution). */
static int check_version(struct vg_triage *t, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int v = -1, old = 0;
    if (sqlite3_prepare_v2(t->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    if (v == 0 &&
        sqlite3_prepare_v2(t->db, "SELECT 1 FROM sqlite_master WHERE name = 'contributions'", -1,
                           &st, NULL) == SQLITE_OK) {
        old = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    if (v < 0 || old || v > TX_SCHEMA_VERSION) {
        snprintf(err, errsz,
                 "%s: triage.db layout %d is not the one of this build (%d): move the file away"
                 " to triage again from the store",
                 t->db_path, old ? 1 : v, TX_SCHEMA_VERSION);
        return VG_EINVAL;
    }
    return VG_OK;
}

int tx_db_open(struct vg_triage *t, char *err, size_t errsz)
{
    int rc = vg_store_sqlite_open(t->db_path, &t->db, err, errsz);
    rc = rc ? rc : check_version(t, err, errsz);
    rc = rc ? rc : vg_store_sqlite_exec(t->db, schema, "triage.db schema", err, errsz);
    /* checkpoints every 64 MiB of WAL rather than 16: a batch rewrites the same incident pages */
    rc = rc ? rc
            : vg_store_sqlite_exec(t->db,
                                   "PRAGMA user_version = 2; PRAGMA wal_autocheckpoint = 16000",
                                   "triage.db", err, errsz);
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
    vg_sbuf_fini(&t->enc);
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

/* Step a bound statement once and reset it (bindings are all rebound by the callers). */
static int step(struct vg_triage *t, sqlite3_stmt *st, const char *what, char *err, size_t errsz)
{
    int src = sqlite3_step(st);
    sqlite3_reset(st);
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

/* ---------------------------------------------------------------- blob encoding */

/* A string as a varint length and its bytes. */
static void enc_str(struct vg_sbuf *b, const char *s)
{
    size_t n = strlen(s);
    uint8_t v[10];
    size_t k = 0;
    for (size_t x = n; k == 0 || x; x >>= 7) {
        v[k++] = (uint8_t)((x & 0x7f) | (x >> 7 ? 0x80 : 0));
    }
    vg_sbuf_add(b, v, k);
    vg_sbuf_add(b, s, n);
}

struct dec {
    const uint8_t *p, *end;
};

/* The next string of d into buf (NUL-terminated). false at the end or on damage. */
static bool dec_str(struct dec *d, char *buf, size_t size)
{
    size_t n = 0;
    for (int shift = 0;; shift += 7) {
        if (d->p >= d->end || shift > 28) {
            return false;
        }
        uint8_t c = *d->p++;
        n |= (size_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            break;
        }
    }
    if (n >= size || n > (size_t)(d->end - d->p)) {
        return false;
    }
    memcpy(buf, d->p, n);
    buf[n] = '\0';
    d->p += n;
    return true;
}

/* An alert's contributions: per entity, type (1 byte), risk (float, 4 bytes), value. */
static void enc_contribs(struct vg_triage *t, const struct tx_decision *d)
{
    vg_sbuf_reset(&t->enc);
    for (size_t i = d->crow0; i < d->crow0 + d->ncrow; i++) {
        const struct contrib_row *r = &t->crow[i];
        vg_sbuf_addc(&t->enc, (char)r->e->type);
        vg_sbuf_add(&t->enc, &r->c.risk, sizeof(r->c.risk));
        enc_str(&t->enc, r->e->value);
    }
}

/* ---------------------------------------------------------------- batch rows */

static int write_state(struct vg_triage *t, const struct tx_decision *d, char *err, size_t errsz)
{
    sqlite3_stmt *st = t->stmts[S_STATE];
    enc_contribs(t, d);
    if (t->enc.err) {
        return VG_ENOMEM;
    }
    sqlite3_bind_int64(st, 1, d->a->id);
    bind_text(st, 2, d->a->tenant && *d->a->tenant ? d->a->tenant : "default");
    bind_text(st, 3, d->a->rule_id ? d->a->rule_id : "");
    bind_text(st, 4, d->a->title);
    sqlite3_bind_int(st, 5, d->a->level);
    sqlite3_bind_int64(st, 6, d->ts);
    sqlite3_bind_int64(st, 7, (int64_t)d->fp);
    bind_id(st, 8, d->suppressed_by);
    bind_id(st, 9, d->incident_id);
    sqlite3_bind_double(st, 10, d->risk);
    sqlite3_bind_int(st, 11, d->tactics);
    if (t->enc.len) {
        sqlite3_bind_blob(st, 12, t->enc.p, (int)t->enc.len, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 12);
    }
    sqlite3_bind_int64(st, 13, d->f ? d->f->count - 1 : d->dups);
    sqlite3_bind_int64(st, 14, d->f ? d->f->last_ts : d->last_ts);
    sqlite3_bind_int64(st, 15, d->win);
    return step(t, st, "alert_state", err, errsz);
}

static int write_decisions(struct vg_triage *t, char *err, size_t errsz)
{
    sqlite3_stmt *dup = t->stmts[S_DUP];
    for (size_t i = 0; i < t->ndec; i++) {
        const struct tx_decision *d = &t->dec[i];
        int rc;
        if (d->dup_of) {
            sqlite3_bind_int64(dup, 1, d->a->id);
            sqlite3_bind_int64(dup, 2, d->dup_of);
            rc = step(t, dup, "alert_dups", err, errsz);
        } else {
            rc = write_state(t, d, err, errsz);
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* Duplicate counters of first alerts of earlier batches; joins of earlier alerts. */
static int write_updates(struct vg_triage *t, char *err, size_t errsz)
{
    sqlite3_stmt *st = t->stmts[S_FPUPD];
    int rc = VG_OK;
    for (size_t i = 0; rc == VG_OK && i < t->nfupd; i++) {
        sqlite3_bind_int64(st, 1, t->fupd[i].first_id);
        sqlite3_bind_int64(st, 2, t->fupd[i].dups);
        sqlite3_bind_int64(st, 3, t->fupd[i].last_ts);
        rc = step(t, st, "alert_state duplicates", err, errsz);
    }
    st = t->stmts[S_JOIN];
    for (size_t i = 0; rc == VG_OK && i < t->njoins; i++) {
        sqlite3_bind_int64(st, 1, t->joins[i].incident_id);
        sqlite3_bind_int64(st, 2, t->joins[i].alert_id);
        rc = step(t, st, "alert_state join", err, errsz);
    }
    return rc;
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

/* The batch's clock mark (the first batch to reach a clock keeps it) and old marks' pruning. */
static int write_mark(struct vg_triage *t, char *err, size_t errsz)
{
    if (!t->ndec) {
        return VG_OK;
    }
    sqlite3_stmt *st = t->stmts[S_MARK];
    sqlite3_bind_int64(st, 1, t->clock);
    sqlite3_bind_int64(st, 2, t->dec[0].a->id);
    int rc = step(t, st, "marks", err, errsz);
    if (rc != VG_OK || t->clock - t->db_pruned < 10LL * 60 * 1000000000LL) {
        return rc;
    }
    char sql[128];
    int64_t keep = VG_MAX(VG_MAX(t->o.risk_window, t->o.tactic_window), t->max_win);
    snprintf(sql, sizeof(sql), "DELETE FROM marks WHERE clock < %" PRId64, t->clock - keep);
    t->db_pruned = t->clock;
    return vg_store_sqlite_exec(t->db, sql, "triage prune", err, errsz);
}

int tx_db_write_batch(struct vg_triage *t, char *err, size_t errsz)
{
    if (!t->db) {
        return VG_OK;
    }
    int rc = write_decisions(t, err, errsz);
    rc = rc ? rc : write_updates(t, err, errsz);
    rc = rc ? rc : write_rules(t, err, errsz);
    for (size_t i = 0; rc == VG_OK && i < t->ndincs; i++) {
        rc = tx_db_incident_save(t, t->dincs[i], err, errsz);
    }
    rc = rc ? rc : write_meta(t, "position", t->position, err, errsz);
    rc = rc ? rc : write_meta(t, "clock", t->clock, err, errsz);
    rc = rc ? rc : write_meta(t, "next_incident", t->next_incident, err, errsz);
    if (rc == VG_OK && t->max_win_dirty) {
        rc = write_meta(t, "max_win", t->max_win, err, errsz);
        t->max_win_dirty = rc != VG_OK;
    }
    return rc ? rc : write_mark(t, err, errsz);
}

/* ---------------------------------------------------------------- incidents */

/* The stored forms of the techniques and links, encoded again only after they changed. */
static int incident_sets(struct tx_incident *inc)
{
    if (inc->sets_json[0] && inc->sets_json[1]) {
        return VG_OK;
    }
    struct vg_sbuf techs = VG_SBUF_INIT, links = VG_SBUF_INIT;
    vg_sbuf_addc(&techs, '[');
    for (size_t i = 0; i < inc->techniques.n; i++) {
        vg_sbuf_adds(&techs, i ? "," : "");
        tx_json_str(&techs, inc->techniques.v[i]);
    }
    vg_sbuf_addc(&techs, ']');
    vg_sbuf_addc(&links, '[');
    for (size_t i = 0; i < inc->nlinks; i++) {
        vg_sbuf_printf(&links, "%s%" PRId64, i ? "," : "", inc->links[i]);
    }
    vg_sbuf_addc(&links, ']');
    if (techs.err || links.err) {
        vg_sbuf_fini(&techs);
        vg_sbuf_fini(&links);
        return VG_ENOMEM;
    }
    vg_free(inc->sets_json[0]);
    vg_free(inc->sets_json[1]);
    inc->sets_json[0] = vg_sbuf_take(&techs, NULL);
    inc->sets_json[1] = vg_sbuf_take(&links, NULL);
    return inc->sets_json[0] && inc->sets_json[1] ? VG_OK : VG_ENOMEM;
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

/* One incident_ents row: entries of type (1 byte), flags (1 byte), value. */
static int write_ents_row(struct vg_triage *t, int64_t incident_id, char *err, size_t errsz)
{
    if (t->enc.err) {
        return VG_ENOMEM;
    }
    sqlite3_stmt *st = t->stmts[S_IENT];
    sqlite3_bind_int64(st, 1, t->ent_seq++);
    sqlite3_bind_int64(st, 2, incident_id);
    sqlite3_bind_blob(st, 3, t->enc.p, (int)t->enc.len, SQLITE_STATIC);
    return step(t, st, "incident_ents", err, errsz);
}

static int save_changes(struct vg_triage *t, struct tx_incident *inc, char *err, size_t errsz)
{
    if (!inc->nchg) {
        return VG_OK;
    }
    vg_sbuf_reset(&t->enc);
    for (size_t i = 0; i < inc->nchg; i++) {
        vg_sbuf_addc(&t->enc, (char)inc->chg[i].type);
        vg_sbuf_addc(&t->enc, (char)inc->chg[i].flags);
        enc_str(&t->enc, inc->chg[i].value);
    }
    inc->nchg = 0;
    return write_ents_row(t, inc->id, err, errsz);
}

int tx_db_incident_save(struct vg_triage *t, struct tx_incident *inc, char *err, size_t errsz)
{
    if (!t->db) {
        inc->nchg = 0;
        return VG_OK;
    }
    vg_sbuf_reset(&t->enc);
    tx_incident_title(inc, &t->enc);
    int rc = incident_sets(inc);
    rc = rc ? rc : t->enc.err ? VG_ENOMEM : VG_OK;
    if (rc == VG_OK) {
        sqlite3_stmt *st = t->stmts[inc->in_db ? S_INC_UPD : S_INCIDENT];
        bind_incident(st, inc);
        bind_text(st, 19, inc->sets_json[0]);
        bind_text(st, 20, inc->sets_json[1]);
        bind_text(st, 21, t->enc.p);
        rc = step(t, st, "incidents", err, errsz);
        inc->in_db = rc == VG_OK && sqlite3_changes(t->db) == 1; /* else rebuilt from the file */
    }
    return rc ? rc : save_changes(t, inc, err, errsz);
}

int tx_db_clears_save(struct vg_triage *t, char *err, size_t errsz)
{
    int rc = VG_OK;
    if (t->db && t->nclears) {
        vg_sbuf_reset(&t->enc);
        for (size_t i = 0; i < t->nclears; i++) {
            vg_sbuf_addc(&t->enc, (char)t->clears[i].type);
            vg_sbuf_addc(&t->enc, (char)(TX_OWN | TX_UNLISTED));
            enc_str(&t->enc, t->clears[i].value);
        }
        rc = write_ents_row(t, 0, err, errsz);
    }
    for (size_t i = 0; i < t->nclears; i++) {
        vg_free(t->clears[i].value);
    }
    t->nclears = 0;
    return rc;
}

/* Apply one incident_ents blob: fn(ctx, type, flags, value) per entry. */
static int ents_each(const void *blob, int len,
                     int (*fn)(void *ctx, int type, int flags, const char *value), void *ctx)
{
    struct dec d = {blob, (const uint8_t *)blob + (len > 0 ? len : 0)};
    char value[1024];
    while (d.p + 2 <= d.end) {
        int type = d.p[0], flags = d.p[1];
        d.p += 2;
        if (!dec_str(&d, value, sizeof(value))) {
            return VG_EINVAL;
        }
        int rc = fn(ctx, type, flags, value);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return d.p == d.end ? VG_OK : VG_EINVAL;
}

static int list_entry(void *ctx, int type, int flags, const char *value)
{
    return flags & TX_UNLISTED ? VG_OK : tx_incident_add_entity(ctx, type, value, flags & 0x1f);
}

int tx_db_incident_ents(struct vg_triage *t, struct tx_incident *inc)
{
    sqlite3_stmt *st = t->stmts[S_IENT_SEL];
    int rc = VG_OK, src;
    sqlite3_bind_int64(st, 1, inc->id);
    while (rc == VG_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        rc = ents_each(sqlite3_column_blob(st, 1), sqlite3_column_bytes(st, 1), list_entry, inc);
    }
    sqlite3_reset(st);
    inc->nchg = 0; /* what was read is written */
    return rc;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return s ? vg_strdup(s) : NULL;
}

/* The stored sets: techniques, links. */
static int incident_parse_sets(struct tx_incident *inc, const char *techs, const char *links)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *ar = vg_arena_create(4096);
    struct vg_json *d[2] = {NULL, NULL};
    const char *src[2] = {techs ? techs : "[]", links ? links : "[]"};
    int rc = p && ar ? VG_OK : VG_ENOMEM;
    for (int k = 0; rc == VG_OK && k < 2; k++) {
        size_t used;
        char jerr[64];
        rc = vg_json_parse(p, ar, src[k], strlen(src[k]), &used, &d[k], jerr, sizeof(jerr));
        rc = rc == VG_OK && d[k]->type != VG_JSON_ARRAY ? VG_EINVAL : rc;
    }
    for (uint32_t i = 0; rc == VG_OK && i < d[0]->n; i++) {
        rc = tx_incident_add_technique(inc, d[0]->u.items[i].s, d[0]->u.items[i].n);
    }
    for (uint32_t i = 0; rc == VG_OK && i < d[1]->n; i++) {
        rc = vg_grow(&inc->links, &inc->clinks, inc->nlinks + 1, sizeof(*inc->links));
        if (rc == VG_OK) {
            inc->links[inc->nlinks++] = d[1]->u.items[i].u.i;
            vg_free(inc->sets_json[1]);
            inc->sets_json[1] = NULL;
        }
    }
    vg_arena_destroy(ar);
    vg_json_parser_destroy(p);
    return rc;
}

int tx_incident_from_row(struct vg_triage *t, sqlite3_stmt *st, struct tx_incident **out)
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
    inc->in_db = true;
    int rc = inc->tenant ? VG_OK : VG_ENOMEM;
    rc = rc ? rc
            : incident_parse_sets(inc, (const char *)sqlite3_column_text(st, 18),
                                  (const char *)sqlite3_column_text(st, 19));
    rc = rc ? rc : tx_db_incident_ents(t, inc);
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
        rc = tx_incident_from_row(t, st, out);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---------------------------------------------------------------- one alert's triage */

static void col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    vg_strlcpy(buf, s ? s : "", size);
}

int tx_db_alert_row(struct vg_triage *t, const char *tenant, int64_t id, struct tx_alert_row *r)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_ENOENT;
    memset(r, 0, sizeof(*r));
    if (!t->db ||
        sqlite3_prepare_v2(
            t->db,
            "SELECT s.id, s.tenant, s.rule_id, s.fp, s.duplicate_of, s.dups, s.suppressed_by,"
            " s.incident_id, s.risk, s.verdict, s.verdict_by, s.verdict_at, s.comment, 0"
            " FROM alert_state s WHERE s.id = ?1 AND s.tenant = ?2 UNION ALL"
            " SELECT d.id, s.tenant, s.rule_id, s.fp, d.dup_of, 0, NULL, NULL, 0, NULL, NULL,"
            " NULL, NULL, 1 FROM alert_dups d JOIN alert_state s ON s.id = d.dup_of"
            " WHERE d.id = ?1 AND s.tenant = ?2 AND NOT EXISTS"
            " (SELECT 1 FROM alert_state WHERE id = ?1)",
            -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return t->db ? VG_EIO : VG_ENOENT;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, tenant, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->id = sqlite3_column_int64(st, 0);
        col_copy(st, 1, r->tenant, sizeof(r->tenant));
        col_copy(st, 2, r->rule_id, sizeof(r->rule_id));
        r->fp = (uint64_t)sqlite3_column_int64(st, 3);
        r->duplicate_of = sqlite3_column_int64(st, 4);
        r->duplicates = sqlite3_column_int64(st, 5);
        r->suppressed_by = sqlite3_column_int64(st, 6);
        r->incident_id = sqlite3_column_int64(st, 7);
        r->risk = sqlite3_column_double(st, 8);
        col_copy(st, 9, r->verdict, sizeof(r->verdict));
        col_copy(st, 10, r->verdict_by, sizeof(r->verdict_by));
        r->verdict_at = sqlite3_column_int64(st, 11);
        col_copy(st, 12, r->comment, sizeof(r->comment));
        rc = VG_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

int tx_db_dup_materialize(struct vg_triage *t, int64_t id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(t->db,
                           "INSERT OR IGNORE INTO alert_state(id, tenant, rule_id, title, level,"
                           " fp, duplicate_of, risk) SELECT d.id, s.tenant, s.rule_id, s.title,"
                           " s.level, s.fp, d.dup_of, 0 FROM alert_dups d JOIN alert_state s ON"
                           " s.id = d.dup_of WHERE d.id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? VG_OK : VG_EIO;
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
        } else if (!strcmp(k, "max_win")) {
            t->max_win = v;
        }
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(t->db, "SELECT COALESCE(MAX(seq), 0) FROM incident_ents", -1, &st,
                           NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    t->ent_seq = (sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0) + 1;
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

/* Open incidents back in memory. */
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
        rc = tx_incident_from_row(t, st, &inc);
        if (rc == VG_OK && tx_map_put(&t->incs, (uint64_t)inc->id, inc) != VG_OK) {
            tx_incident_free(inc);
            rc = VG_ENOMEM;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

struct owner_ctx {
    struct vg_triage *t;
    struct tx_incident *inc; /* NULL: row 0 (pointers a closed incident gave up) */
};

static int owner_entry(void *ctx, int type, int flags, const char *value)
{
    struct owner_ctx *o = ctx;
    if (!(flags & TX_OWN)) {
        return VG_OK;
    }
    struct tx_entity *e = tx_entity_get(o->t, o->inc ? o->inc->tenant : "", type, value, !!o->inc);
    if (o->inc && !e) {
        return VG_ENOMEM;
    }
    if (e) {
        e->incident_id = o->inc ? o->inc->id : 0;
    }
    return VG_OK;
}

/*
 * The entities' incident pointers: replaying, in write order, the moves to open incidents and
 * the pointers closed incidents gave up (moves to closed incidents are undone by the latter).
 * Row 0 entries carry their tenant in front of the value ("tenant\x1fvalue").
 */
static int owner_clear(void *ctx, int type, int flags, const char *value)
{
    struct owner_ctx *o = ctx;
    const char *sep = strchr(value, '\x1f');
    char tenant[256];
    if (!sep || (size_t)(sep - value) >= sizeof(tenant) || !(flags & TX_OWN)) {
        return VG_OK;
    }
    memcpy(tenant, value, (size_t)(sep - value));
    tenant[sep - value] = '\0';
    struct tx_entity *e = tx_entity_get(o->t, tenant, type, sep + 1, false);
    if (e) {
        e->incident_id = 0;
    }
    return VG_OK;
}

static int load_pointers(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT incident_id, data FROM incident_ents WHERE incident_id = 0 OR"
                           " incident_id IN (SELECT id FROM incidents WHERE status != 2)"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        struct owner_ctx o = {t, id ? tx_map_get(&t->incs, (uint64_t)id) : NULL};
        if (id && !o.inc) {
            continue;
        }
        rc = ents_each(sqlite3_column_blob(st, 1), sqlite3_column_bytes(st, 1),
                       id ? owner_entry : owner_clear, &o);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The first alert id of the oldest window still open (0: nothing to rebuild). */
static int64_t window_floor(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    int64_t keep =
        VG_MAX(VG_MAX(t->o.risk_window, t->o.tactic_window), VG_MAX(t->max_win, t->o.dedup_window));
    int64_t id = 0;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT first_id FROM marks WHERE clock >= ?1 ORDER BY clock LIMIT 1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, t->clock - keep);
        id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    }
    sqlite3_finalize(st);
    return id;
}

struct contrib_ctx {
    struct vg_triage *t;
    const char *tenant;
    struct tx_contrib c;
    vg_time_t rfloor, tfloor;
};

static int contrib_entry(struct contrib_ctx *x, int type, float risk, const char *value)
{
    struct tx_entity *e = tx_entity_get(x->t, x->tenant, type, value, true);
    if (!e) {
        return VG_ENOMEM;
    }
    struct tx_contrib c = x->c;
    c.risk = risk;
    if (c.ts >= x->rfloor) {
        tx_contrib_push(e, &c);
    }
    for (int k = 0; k < TX_NTACTICS; k++) {
        if ((c.tactics & (1u << k)) && c.ts >= x->tfloor) {
            e->tactic_ts[k] = VG_MAX(e->tactic_ts[k], c.ts);
        }
    }
    return VG_OK;
}

static int contribs_each(struct contrib_ctx *x, const void *blob, int len)
{
    struct dec d = {blob, (const uint8_t *)blob + (len > 0 ? len : 0)};
    char value[1024];
    while (d.p + 1 + sizeof(float) <= d.end) {
        int type = *d.p++;
        float risk;
        memcpy(&risk, d.p, sizeof(risk));
        d.p += sizeof(risk);
        if (!dec_str(&d, value, sizeof(value))) {
            return VG_EINVAL;
        }
        int rc = contrib_entry(x, type, risk, value);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return d.p == d.end ? VG_OK : VG_EINVAL;
}

static int load_fp_row(struct vg_triage *t, sqlite3_stmt *st)
{
    struct tx_fp *f = tx_fp_add(t, (uint64_t)sqlite3_column_int64(st, 3));
    if (!f) {
        return VG_ENOMEM;
    }
    f->first_id = sqlite3_column_int64(st, 0);
    f->first_ts = sqlite3_column_int64(st, 2);
    f->count = sqlite3_column_int64(st, 8) + 1;
    f->last_ts = sqlite3_column_int64(st, 9);
    f->window = sqlite3_column_int64(st, 10);
    return VG_OK;
}

/* One pass over the windows' alerts: fingerprints (the latest first alert wins) and risk. */
static int load_alerts(struct vg_triage *t)
{
    sqlite3_stmt *st = NULL;
    int64_t floor = window_floor(t);
    int rc = VG_OK;
    if (!floor) {
        return VG_OK;
    }
    if (sqlite3_prepare_v2(t->db,
                           "SELECT id, tenant, ts, fp, incident_id, tactics, level, ents, dups,"
                           " last_ts, win FROM alert_state WHERE id >= ?1 AND duplicate_of IS"
                           " NULL ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, floor);
    struct contrib_ctx x = {
        .t = t, .rfloor = t->clock - t->o.risk_window, .tfloor = t->clock - t->o.tactic_window};
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = load_fp_row(t, st);
        x.tenant = (const char *)sqlite3_column_text(st, 1);
        x.c = (struct tx_contrib){.ts = sqlite3_column_int64(st, 2),
                                  .alert_id = sqlite3_column_int64(st, 0),
                                  .incident_id = sqlite3_column_int64(st, 4),
                                  .tactics = (uint16_t)sqlite3_column_int(st, 5),
                                  .level = (uint8_t)sqlite3_column_int(st, 6)};
        if (rc == VG_OK && x.c.ts >= VG_MIN(x.rfloor, x.tfloor)) {
            rc = contribs_each(&x, sqlite3_column_blob(st, 7), sqlite3_column_bytes(st, 7));
        }
    }
    sqlite3_finalize(st);
    tx_fp_sweep(t); /* those whose window is over, as the sweep forgets them */
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
    rc = rc ? rc : load_pointers(t);
    rc = rc ? rc : load_alerts(t);
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: rebuilding the triage state: %s (%s)", t->db_path,
                 vg_strerror(rc), sqlite3_errmsg(t->db));
    }
    return rc;
}
