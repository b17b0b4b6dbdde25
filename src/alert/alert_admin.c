/*
 * alert_admin.c — what analysts change: exceptions (create, delete, list, backtest),
 * verdicts on alerts with per-rule counters, and incident status/assignee/verdict. Every
 * change is written to triage.db and to the audit log in one step (the audit record is
 * appended inside the transaction; a failed append rolls the change back).
 */
#include "alert/alert_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <string.h>

#define NS_PER_DAY (86400LL * 1000000000LL)

static int exec(struct vg_triage *t, const char *sql, char *err, size_t errsz)
{
    return vg_store_sqlite_exec(t->db, sql, "triage.db", err, errsz);
}

/* Prepare, bind ints/texts by a tiny format ("i" int64, "s" text, "n" null), step once. */
static int run(struct vg_triage *t, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    if (sqlite3_prepare_v2(t->db, sql, -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    va_start(ap, fmt);
    for (int i = 0; fmt[i]; i++) {
        if (fmt[i] == 'i') {
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        } else if (fmt[i] == 's') {
            const char *s = va_arg(ap, const char *);
            s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT)
              : sqlite3_bind_null(st, i + 1);
        }
    }
    va_end(ap);
    int src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE || src == SQLITE_ROW ? VG_OK : VG_EIO;
}

/* ---------------------------------------------------------------- exceptions */

static int exc_store(struct vg_triage *t, struct tx_exc *e, const char *spec, char *err,
                     size_t errsz)
{
    char obj[48], next[96];
    snprintf(obj, sizeof(obj), "exception:%" PRId64, e->id);
    int rc = exec(t, "BEGIN IMMEDIATE", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    rc = run(t, "INSERT INTO exceptions(id, tenant, spec, author, created) VALUES(?,?,?,?,?)",
             "isssi", e->id, e->tenant, spec, e->author, e->created);
    snprintf(next, sizeof(next),
             "INSERT OR REPLACE INTO meta(key, val) VALUES('next_exception', %" PRId64 ")",
             t->next_exception);
    rc = rc ? rc : exec(t, next, err, errsz);
    rc = rc ? rc : tx_audit(t, e->tenant, e->author, "exception.create", obj, spec, err, errsz);
    rc = rc ? rc : exec(t, "COMMIT", err, errsz);
    if (rc != VG_OK) {
        tx_db_rollback(t);
        if (!*err) {
            snprintf(err, errsz, "triage.db: %s", sqlite3_errmsg(t->db));
        }
    }
    return rc;
}

int vg_triage_exception_add(struct vg_triage *t, const char *tenant, const char *actor,
                            const char *json, size_t len, int64_t *id, char *err, size_t errsz)
{
    struct tx_exc *e = NULL;
    struct vg_sbuf spec = VG_SBUF_INIT;
    vg_time_t now = vg_time_now();
    *err = '\0';
    int rc = tx_exc_parse(json, len, now, &e, NULL, NULL, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    tx_lock(t);
    e->tenant = vg_strdup(tenant ? tenant : "default");
    e->author = vg_strdup(actor ? actor : "system");
    e->created = now;
    e->id = t->next_exception++;
    tx_exc_spec_json(e, &spec);
    rc = e->tenant && e->author && !spec.err ? VG_OK : VG_ENOMEM;
    rc = rc ? rc : vg_grow(&t->excs, &t->cexcs, t->nexcs + 1, sizeof(*t->excs));
    rc = rc || !t->db ? rc : exc_store(t, e, spec.p, err, errsz);
    if (rc == VG_OK) {
        t->excs[t->nexcs++] = e;
        *id = e->id;
        e = NULL;
    }
    tx_unlock(t);
    tx_exc_free(e);
    vg_sbuf_fini(&spec);
    return rc;
}

int vg_triage_exception_delete(struct vg_triage *t, const char *tenant, const char *actor,
                               int64_t id, char *err, size_t errsz)
{
    char obj[48];
    int rc = VG_ENOENT;
    snprintf(obj, sizeof(obj), "exception:%" PRId64, id);
    snprintf(err, errsz, "exception %" PRId64 " not found", id);
    tx_lock(t);
    for (size_t i = 0; i < t->nexcs; i++) {
        struct tx_exc *e = t->excs[i];
        if (e->id != id || strcmp(e->tenant, tenant)) {
            continue;
        }
        *err = '\0';
        rc = t->db ? exec(t, "BEGIN IMMEDIATE", err, errsz) : VG_OK;
        rc = rc || !t->db ? rc : run(t, "DELETE FROM exceptions WHERE id = ?", "i", id);
        rc = rc ? rc : tx_audit(t, tenant, actor, "exception.delete", obj, NULL, err, errsz);
        rc = rc || !t->db ? rc : exec(t, "COMMIT", err, errsz);
        if (rc != VG_OK) {
            tx_db_rollback(t);
            break;
        }
        memmove(&t->excs[i], &t->excs[i + 1], (t->nexcs - i - 1) * sizeof(*t->excs));
        t->nexcs--;
        tx_exc_free(e);
        break;
    }
    tx_unlock(t);
    return rc;
}

int vg_triage_exception_list(struct vg_triage *t, const char *tenant, struct vg_sbuf *out)
{
    size_t n = 0;
    tx_lock(t);
    vg_sbuf_addc(out, '[');
    for (size_t i = 0; i < t->nexcs; i++) {
        if (!strcmp(t->excs[i]->tenant, tenant)) {
            vg_sbuf_adds(out, n++ ? "," : "");
            tx_exc_json(t->excs[i], out);
        }
    }
    vg_sbuf_addc(out, ']');
    tx_unlock(t);
    return out->err ? VG_ENOMEM : VG_OK;
}

/* ---------------------------------------------------------------- backtest */

struct bt_ctx {
    const struct tx_exc *e;
    struct vg_triage_backtest *bt;
    struct vg_json_parser *p;
    struct vg_arena *ar;
};

static int bt_alert(void *ctx, const struct vg_store_alert *a)
{
    struct bt_ctx *c = ctx;
    c->bt->scanned++;
    vg_arena_reset(c->ar);
    if (tx_exc_match(c->e, a, c->p, c->ar)) {
        if (c->bt->nsamples < VG_ARRAY_LEN(c->bt->samples)) {
            c->bt->samples[c->bt->nsamples++] = a->id;
        }
        c->bt->matched++;
    }
    return VG_OK;
}

int vg_triage_exception_backtest(struct vg_triage *t, const char *tenant, const char *json,
                                 size_t len, int days, struct vg_triage_backtest *bt, char *err,
                                 size_t errsz)
{
    struct tx_exc *e = NULL;
    memset(bt, 0, sizeof(*bt));
    vg_time_t now = vg_time_now();
    int rc = tx_exc_parse(json, len, now, &e, NULL, NULL, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    struct bt_ctx c = {e, bt, vg_json_parser_create(NULL), vg_arena_create(16384)};
    tx_lock(t);
    struct vg_store *store = t->store;
    days = days > 0 ? days : (int)t->o.backtest_days;
    tx_unlock(t);
    if (!store) {
        snprintf(err, errsz, "triage: no store to backtest against");
        rc = VG_EUNSUPPORTED;
    } else if (!c.p || !c.ar) {
        rc = VG_ENOMEM;
    } else {
        struct vg_store_alert_query q = {.tenant = tenant,
                                         .from = now - (int64_t)days * NS_PER_DAY,
                                         .to = VG_TIME_NONE,
                                         .limit = 1000000, /* newest first; a bound on the work */
                                         .on_alert = bt_alert,
                                         .ctx = &c};
        rc = vg_store_alert_query(store, &q, err, errsz);
    }
    vg_json_parser_destroy(c.p);
    vg_arena_destroy(c.ar);
    tx_exc_free(e);
    return rc;
}

/* ---------------------------------------------------------------- verdicts */

const char *vg_triage_verdict_name(int v)
{
    static const char *const n[] = {"", "true_positive", "benign", "false_positive"};
    return v >= 0 && v <= 3 ? n[v] : "";
}

int vg_triage_verdict_parse(const char *s, int *out)
{
    for (int i = 1; i <= 3; i++) {
        if (s && !strcmp(s, vg_triage_verdict_name(i))) {
            *out = i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

static const char *verdict_col(int v)
{
    return v == VG_TRIAGE_VERDICT_TP ? "tp" : v == VG_TRIAGE_VERDICT_BENIGN ? "benign" : "fp";
}

/* rule_stats: one more alert with verdict v, one fewer with old (NONE: none). */
static int count_verdict(struct vg_triage *t, const char *tenant, const char *rule, int old, int v,
                         int64_t n)
{
    char sql[160];
    int rc = VG_OK;
    if (old) {
        snprintf(sql, sizeof(sql),
                 "UPDATE rule_stats SET %s = %s - ? WHERE tenant = ? AND rule_id = ?",
                 verdict_col(old), verdict_col(old));
        rc = run(t, sql, "iss", n, tenant, rule);
    }
    snprintf(sql, sizeof(sql), "UPDATE rule_stats SET %s = %s + ? WHERE tenant = ? AND rule_id = ?",
             verdict_col(v), verdict_col(v));
    return rc ? rc : run(t, sql, "iss", n, tenant, rule);
}

static int alert_verdict_row(struct vg_triage *t, const char *tenant, int64_t id, char **rule,
                             int *old)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_ENOENT;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT rule_id, verdict FROM alert_state WHERE id = ? AND tenant = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, tenant, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 1);
        *rule = vg_strdup((const char *)sqlite3_column_text(st, 0));
        *old = VG_TRIAGE_VERDICT_NONE;
        if (v) {
            vg_triage_verdict_parse(v, old);
        }
        rc = *rule ? VG_OK : VG_ENOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

static int verdict_locked(struct vg_triage *t, const char *tenant, const char *actor, int64_t id,
                          int verdict, const char *comment, char *err, size_t errsz)
{
    char *rule = NULL, obj[48];
    struct vg_sbuf detail = VG_SBUF_INIT;
    int old = 0;
    int rc = exec(t, "BEGIN IMMEDIATE", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    rc = tx_db_dup_materialize(t, id); /* a duplicate's compact row takes a verdict as a full one */
    rc = rc ? rc : alert_verdict_row(t, tenant, id, &rule, &old);
    if (rc != VG_OK) {
        tx_db_rollback(t);
        if (rc == VG_ENOENT) {
            snprintf(err, errsz, "alert %" PRId64 " is not known to triage (yet)", id);
        }
        return rc;
    }
    snprintf(obj, sizeof(obj), "alert:%" PRId64, id);
    vg_sbuf_printf(&detail, "{\"verdict\":\"%s\",\"previous\":", vg_triage_verdict_name(verdict));
    tx_json_str(&detail, old ? vg_triage_verdict_name(old) : NULL);
    vg_sbuf_adds(&detail, ",\"comment\":");
    tx_json_str(&detail, comment);
    vg_sbuf_addc(&detail, '}');
    rc = rc ? rc
            : run(t,
                  "UPDATE alert_state SET verdict = ?, verdict_by = ?, verdict_at = ?, "
                  "comment = ? WHERE id = ?",
                  "ssisi", vg_triage_verdict_name(verdict), actor, vg_time_now(), comment, id);
    rc = rc ? rc : count_verdict(t, tenant, rule, old, verdict, 1);
    rc = rc ? rc : tx_audit(t, tenant, actor, "alert.verdict", obj, detail.p, err, errsz);
    rc = rc ? rc : exec(t, "COMMIT", err, errsz);
    if (rc != VG_OK) {
        tx_db_rollback(t);
    }
    vg_free(rule);
    vg_sbuf_fini(&detail);
    return rc;
}

int vg_triage_verdict_set(struct vg_triage *t, const char *tenant, const char *actor,
                          int64_t alert_id, int verdict, const char *comment, char *err,
                          size_t errsz)
{
    if (verdict < VG_TRIAGE_VERDICT_TP || verdict > VG_TRIAGE_VERDICT_FP) {
        snprintf(err, errsz, "verdict: expected true_positive, benign or false_positive");
        return VG_EINVAL;
    }
    if (!t->db) {
        snprintf(err, errsz, "triage: verdicts need triage.db (memory-only engine)");
        return VG_EUNSUPPORTED;
    }
    *err = '\0';
    tx_lock(t);
    int rc = verdict_locked(t, tenant, actor, alert_id, verdict, comment, err, errsz);
    tx_unlock(t);
    return rc;
}

int vg_triage_rule_stats(struct vg_triage *t, const char *tenant,
                         int (*fn)(void *ctx, const struct vg_triage_rule_stats *r), void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    if (!t->db) {
        return VG_OK;
    }
    tx_lock(t);
    if (sqlite3_prepare_v2(t->db,
                           "SELECT rule_id, alerts, duplicates, suppressed, tp, benign, fp FROM"
                           " rule_stats WHERE tenant = ? ORDER BY rule_id",
                           -1, &st, NULL) != SQLITE_OK) {
        rc = VG_EIO;
    }
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        struct vg_triage_rule_stats r = {(const char *)sqlite3_column_text(st, 0),
                                         sqlite3_column_int64(st, 1),
                                         sqlite3_column_int64(st, 2),
                                         sqlite3_column_int64(st, 3),
                                         sqlite3_column_int64(st, 4),
                                         sqlite3_column_int64(st, 5),
                                         sqlite3_column_int64(st, 6),
                                         0};
        int64_t judged = r.tp + r.benign + r.fp;
        r.fp_ratio = judged ? (double)r.fp / (double)judged : 0;
        rc = fn(ctx, &r);
    }
    sqlite3_finalize(st);
    tx_unlock(t);
    return rc;
}

/* ---------------------------------------------------------------- incidents */

/* Entities pointing at inc (listed or not) point nowhere; noted in t->clears for triage.db. */
static int incident_unindex(struct vg_triage *t, struct tx_incident *inc)
{
    int rc = VG_OK;
    for (size_t i = 0; i < t->ents.cap; i++) {
        struct tx_entity *e = t->ents.keys[i] ? t->ents.vals[i] : NULL;
        if (!e || e->incident_id != inc->id) {
            continue;
        }
        e->incident_id = 0;
        size_t tl = strlen(e->tenant), vl = strlen(e->value);
        char *v = vg_malloc(tl + vl + 2);
        if (!v || vg_grow(&t->clears, &t->cclears, t->nclears + 1, sizeof(*t->clears)) != VG_OK) {
            vg_free(v);
            rc = VG_ENOMEM;
            continue;
        }
        memcpy(v, e->tenant, tl);
        v[tl] = '\x1f'; /* row 0 entries carry their tenant */
        memcpy(v + tl + 1, e->value, vl + 1);
        t->clears[t->nclears].type = e->type;
        t->clears[t->nclears++].value = v;
    }
    tx_map_del(&t->incs, (uint64_t)inc->id);
    return rc;
}

void tx_incident_unindex(struct vg_triage *t, struct tx_incident *inc)
{
    incident_unindex(t, inc);
}

/* Reopened: its listed entities point at it again (noted as moves for triage.db). */
void tx_incident_index(struct vg_triage *t, struct tx_incident *inc)
{
    if (tx_map_put(&t->incs, (uint64_t)inc->id, inc) != VG_OK) {
        return;
    }
    for (size_t i = 0; i < inc->nents; i++) {
        struct tx_entity *e =
            tx_entity_get(t, inc->tenant, inc->ents[i].type, inc->ents[i].value, true);
        if (e) {
            tx_entity_own(inc, e);
        }
    }
}

/* Closing with a verdict: the incident's alerts without one get it (and the rule counters). */
static int close_alerts(struct vg_triage *t, const struct tx_incident *inc, const char *actor)
{
    sqlite3_stmt *st = NULL;
    int rc = VG_OK;
    if (sqlite3_prepare_v2(t->db,
                           "SELECT rule_id, COUNT(*) FROM alert_state WHERE incident_id = ? AND"
                           " verdict IS NULL GROUP BY rule_id",
                           -1, &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, inc->id);
    while (rc == VG_OK && sqlite3_step(st) == SQLITE_ROW) {
        rc = count_verdict(t, inc->tenant, (const char *)sqlite3_column_text(st, 0), 0,
                           inc->verdict, sqlite3_column_int64(st, 1));
    }
    sqlite3_finalize(st);
    return rc ? rc
              : run(t,
                    "UPDATE alert_state SET verdict = ?, verdict_by = ?, verdict_at = ? WHERE"
                    " incident_id = ? AND verdict IS NULL",
                    "ssii", vg_triage_verdict_name(inc->verdict), actor, vg_time_now(), inc->id);
}

static int set_str(char **dst, const char *v)
{
    if (!v) {
        return VG_OK;
    }
    vg_free(*dst);
    *dst = *v ? vg_strdup(v) : NULL;
    return *v && !*dst ? VG_ENOMEM : VG_OK;
}

static int incident_change(struct tx_incident *inc, int status, const char *assignee, int verdict,
                           const char *summary)
{
    inc->status = status >= 0 ? status : inc->status;
    inc->verdict = verdict ? verdict : inc->verdict;
    inc->updated = vg_time_now();
    int rc = set_str(&inc->assignee, assignee);
    return rc ? rc : set_str(&inc->summary, summary);
}

static int update_locked(struct vg_triage *t, const char *tenant, const char *actor,
                         struct tx_incident *inc, bool in_mem, char *err, size_t errsz)
{
    char obj[48];
    struct vg_sbuf detail = VG_SBUF_INIT;
    snprintf(obj, sizeof(obj), "incident:%" PRId64, inc->id);
    vg_sbuf_printf(&detail, "{\"status\":\"%s\",\"assignee\":", tx_status_name(inc->status));
    tx_json_str(&detail, inc->assignee);
    vg_sbuf_adds(&detail, ",\"verdict\":");
    tx_json_str(&detail, inc->verdict ? vg_triage_verdict_name(inc->verdict) : NULL);
    vg_sbuf_addc(&detail, '}');
    int rc = t->db ? exec(t, "BEGIN IMMEDIATE", err, errsz) : VG_OK;
    /* memory first: the entity pointers it moves are written with the incident */
    bool closing = in_mem && inc->status == TX_ST_CLOSED;
    bool reopening = !in_mem && inc->status != TX_ST_CLOSED;
    if (rc == VG_OK && closing) {
        rc = incident_unindex(t, inc);
    } else if (rc == VG_OK && reopening) {
        tx_incident_index(t, inc); /* reopened: alerts may join it again */
    }
    rc = rc ? rc : tx_db_incident_save(t, inc, err, errsz);
    rc = rc ? rc : tx_db_clears_save(t, err, errsz);
    if (rc == VG_OK && t->db && inc->status == TX_ST_CLOSED && inc->verdict) {
        rc = close_alerts(t, inc, actor);
    }
    rc = rc ? rc : tx_audit(t, tenant, actor, "incident.update", obj, detail.p, err, errsz);
    rc = rc || !t->db ? rc : exec(t, "COMMIT", err, errsz);
    vg_sbuf_fini(&detail);
    if (rc != VG_OK) {
        tx_db_rollback(t);
        for (size_t i = 0; i < t->nclears; i++) {
            vg_free(t->clears[i].value);
        }
        t->nclears = 0;
        return rc;
    }
    if (closing || (!in_mem && !reopening)) { /* no longer (or never) in memory */
        tx_incident_free(inc);
    }
    return VG_OK;
}

static struct tx_incident *incident_find(struct vg_triage *t, const char *tenant, int64_t id,
                                         bool *in_mem)
{
    struct tx_incident *inc = tx_map_get(&t->incs, (uint64_t)id);
    *in_mem = inc != NULL;
    if (inc && strcmp(inc->tenant, tenant) != 0) {
        return NULL;
    }
    if (!inc) {
        tx_db_incident_load(t, tenant, id, &inc);
    }
    return inc;
}

int vg_triage_incident_update(struct vg_triage *t, const char *tenant, const char *actor,
                              int64_t id, const char *status, const char *assignee, int verdict,
                              const char *summary, char *err, size_t errsz)
{
    int st = status ? tx_status_parse(status) : -1;
    bool in_mem;
    if (status && st < 0) {
        snprintf(err, errsz, "status: expected open, acknowledged or closed");
        return VG_EINVAL;
    }
    *err = '\0';
    tx_lock(t);
    struct tx_incident *inc = incident_find(t, tenant, id, &in_mem);
    int rc = inc ? VG_OK : VG_ENOENT;
    if (!inc) {
        snprintf(err, errsz, "incident %" PRId64 " not found", id);
    }
    rc = rc ? rc : incident_change(inc, st, assignee, verdict, summary);
    rc = rc ? rc : update_locked(t, tenant, actor, inc, in_mem, err, errsz);
    if (rc == VG_OK) {
        t->changes++;
    }
    if (rc != VG_OK && inc) { /* memory must match the db again */
        if (tx_map_get(&t->incs, (uint64_t)id) != inc) {
            tx_incident_free(inc);
        }
        if (t->db) {
            char lerr[256];
            tx_engine_reset(t);
            if (tx_db_load(t, lerr, sizeof(lerr)) != VG_OK) {
                VG_ERR("triage", "%s", lerr);
            }
        }
    }
    tx_unlock(t);
    return rc;
}

int vg_triage_incident_json(struct vg_triage *t, const char *tenant, int64_t id,
                            struct vg_sbuf *out)
{
    bool in_mem;
    tx_lock(t);
    struct tx_incident *inc = incident_find(t, tenant, id, &in_mem);
    if (inc) {
        tx_incident_json(inc, out);
    }
    if (inc && !in_mem) {
        tx_incident_free(inc);
    }
    tx_unlock(t);
    return inc ? VG_OK : VG_ENOENT;
}
