/*
 * store_alert.c — alerts and small key/value state in main.db.
 *
 * Alerts are few next to events (one per detection, after the alert stage's dedup), so
 * they are plain rows with indexes on time, rule and level for the API's listings; the
 * triggering event is kept as JSON text. State rows let other modules (file tail
 * checkpoints, cursors) keep small values durable next to the data they describe.
 */
#include "store/store_int.h"

#include <stdio.h>
#include <string.h>

static const char *const level_names[] = {"none",   "informational", "low",
                                          "medium", "high",          "critical"};

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
    if (v) {
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static int alert_insert(sqlite3 *db, sqlite3_stmt *st, struct vg_store_alert *a, vg_time_t now)
{
    a->created = now;
    sqlite3_bind_int64(st, 1, a->ts == VG_TIME_NONE ? now : a->ts);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, a->tenant ? a->tenant : "default", -1, SQLITE_STATIC);
    bind_opt(st, 4, a->rule_id);
    bind_opt(st, 5, a->title);
    sqlite3_bind_int(st, 6, a->level);
    bind_opt(st, 7, a->tags);
    bind_opt(st, 8, a->attack);
    bind_opt(st, 9, a->host);
    bind_opt(st, 10, a->user);
    bind_opt(st, 11, a->src_ip);
    bind_opt(st, 12, a->dst_ip);
    bind_opt(st, 13, a->process);
    bind_opt(st, 14, a->event_json);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    a->id = sqlite3_last_insert_rowid(db);
    return rc;
}

int vg_store_alert_append(struct vg_store *s, struct vg_store_alert *a, size_t n, char *err,
                          size_t errsz)
{
    return vg_store_alert_append_state(s, a, n, NULL, NULL, 0, err, errsz);
}

/* The state row written in the alerts' transaction (the caller holds s->mu). */
static int state_row(sqlite3 *db, const char *key, const void *val, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO state(k, v, updated) VALUES(?, ?, ?)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, vg_time_now());
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

int vg_store_alert_append_state(struct vg_store *s, struct vg_store_alert *a, size_t n,
                                const char *key, const void *val, size_t len, char *err,
                                size_t errsz)
{
    sqlite3_stmt *st = NULL;
    vg_time_t now = vg_time_now();
    if (s->opts.readonly) {
        snprintf(err, errsz, "store opened read-only");
        return VG_EINVAL;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += 512 + (a[i].event_json ? strlen(a[i].event_json) : 0);
    }
    int rc = vg_store_space_check(s, bytes, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    pthread_mutex_lock(&s->mu);
    rc = vg_store_exec(s->main, "BEGIN IMMEDIATE", "begin", err, errsz);
    if (rc == VG_OK) {
        int src = sqlite3_prepare_v2(
            s->main,
            "INSERT INTO alerts(ts, created, tenant, rule_id, title, level, tags, attack, host,"
            " user, src_ip, dst_ip, process, event) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            -1, &st, NULL);
        for (size_t i = 0; src == SQLITE_OK && i < n; i++) {
            src = alert_insert(s->main, st, &a[i], now);
            src = src == SQLITE_DONE ? SQLITE_OK : src;
        }
        if (src == SQLITE_OK && key) {
            src = state_row(s->main, key, val, len);
        }
        if (src != SQLITE_OK) {
            rc = vg_store_fail(s->main, src, "alerts", err, errsz);
        }
        sqlite3_finalize(st);
        rc = rc == VG_OK ? vg_store_exec(s->main, "COMMIT", "commit alerts", err, errsz) : rc;
        if (rc != VG_OK) {
            sqlite3_exec(s->main, "ROLLBACK", NULL, NULL, NULL);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static void alert_from_row(sqlite3_stmt *st, struct vg_store_alert *a)
{
    a->id = sqlite3_column_int64(st, 0);
    a->ts = sqlite3_column_int64(st, 1);
    a->created = sqlite3_column_int64(st, 2);
    a->tenant = col_text(st, 3);
    a->rule_id = col_text(st, 4);
    a->title = col_text(st, 5);
    a->level = sqlite3_column_int(st, 6);
    a->tags = col_text(st, 7);
    a->attack = col_text(st, 8);
    a->host = col_text(st, 9);
    a->user = col_text(st, 10);
    a->src_ip = col_text(st, 11);
    a->dst_ip = col_text(st, 12);
    a->process = col_text(st, 13);
    a->event_json = col_text(st, 14);
}

static void alert_query_bind(sqlite3_stmt *st, const struct vg_store_alert_query *q)
{
    bind_opt(st, 1, q->tenant);
    sqlite3_bind_int64(st, 2, q->from == VG_TIME_NONE ? INT64_MIN : q->from);
    sqlite3_bind_int64(st, 3, q->to == VG_TIME_NONE ? INT64_MAX : q->to);
    sqlite3_bind_int(st, 4, q->min_level);
    bind_opt(st, 5, q->rule_id);
    sqlite3_bind_int64(st, 6, q->before_id > 0 ? q->before_id : INT64_MAX);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)(q->limit ? q->limit : 100));
    sqlite3_bind_int64(st, 8, q->after_id > 0 ? q->after_id : 0);
    sqlite3_bind_int64(st, 9, q->id);
}

int vg_store_alert_query(struct vg_store *s, const struct vg_store_alert_query *q, char *err,
                         size_t errsz)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = vg_store_main_read(s, &db, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
#define ALERT_QUERY                                                                                \
    "SELECT id, ts, created, tenant, rule_id, title, level, tags, attack, host, user,"             \
    " src_ip, dst_ip, process, event FROM alerts"                                                  \
    " WHERE (?1 IS NULL OR tenant = ?1) AND ts >= ?2 AND ts < ?3 AND level >= ?4"                  \
    " AND (?5 IS NULL OR rule_id = ?5) AND id < ?6 AND id > ?8 AND (?9 = 0 OR id = ?9)"
    /* after_id reads forward by rowid (a consumer's cursor); listings are newest first */
    const char *sql = q->after_id > 0 ? ALERT_QUERY " ORDER BY id LIMIT ?7"
                                      : ALERT_QUERY " ORDER BY ts DESC, id DESC LIMIT ?7";
#undef ALERT_QUERY
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src == SQLITE_OK) {
        alert_query_bind(st, q);
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            struct vg_store_alert a;
            alert_from_row(st, &a);
            rc = q->on_alert(q->ctx, &a);
            if (rc != VG_OK) {
                break;
            }
        }
    }
    if (rc == VG_OK && src != SQLITE_DONE) {
        rc = vg_store_fail(db, src, "alerts", err, errsz);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == VG_STORE_STOP ? VG_OK : rc;
}

/* "key":"value" (skipped when value is NULL); raw inserts JSON text as is. */
static void json_member(struct vg_sbuf *out, const char *key, const char *v, bool raw)
{
    if (!v) {
        return;
    }
    vg_sbuf_addc(out, ',');
    vg_sbuf_add_json_str(out, key, strlen(key));
    vg_sbuf_addc(out, ':');
    if (raw) {
        vg_sbuf_adds(out, v);
    } else {
        vg_sbuf_add_json_str(out, v, strlen(v));
    }
}

void vg_store_alert_write_json(const struct vg_store_alert *a, struct vg_sbuf *out)
{
    char ts[40], created[40];
    vg_time_format(a->ts, ts, sizeof(ts));
    vg_time_format(a->created, created, sizeof(created));
    int level = a->level >= 0 && a->level < (int)VG_ARRAY_LEN(level_names) ? a->level : 0;
    vg_sbuf_printf(out, "{\"id\":%lld", (long long)a->id);
    json_member(out, "@timestamp", ts, false);
    json_member(out, "created", created, false);
    json_member(out, "tenant", a->tenant ? a->tenant : "default", false);
    json_member(out, "rule.id", a->rule_id, false);
    json_member(out, "rule.name", a->title, false);
    json_member(out, "level", level_names[level], false);
    json_member(out, "tags", a->tags, true);
    json_member(out, "threat.technique.id", a->attack, true);
    json_member(out, "host.name", a->host, false);
    json_member(out, "user.name", a->user, false);
    json_member(out, "source.ip", a->src_ip, false);
    json_member(out, "destination.ip", a->dst_ip, false);
    json_member(out, "process.name", a->process, false);
    json_member(out, "event", a->event_json, true);
    vg_sbuf_addc(out, '}');
}

/* ---------------------------------------------------------------- state */

int vg_store_state_put(struct vg_store *s, const char *key, const void *val, size_t len, char *err,
                       size_t errsz)
{
    sqlite3_stmt *st = NULL;
    if (s->opts.readonly) {
        snprintf(err, errsz, "store opened read-only");
        return VG_EINVAL;
    }
    pthread_mutex_lock(&s->mu);
    int rc = sqlite3_prepare_v2(
        s->main, "INSERT OR REPLACE INTO state(k, v, updated) VALUES(?, ?, ?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, vg_time_now());
        rc = sqlite3_step(st);
    }
    int status = rc == SQLITE_DONE ? VG_OK : vg_store_fail(s->main, rc, "state", err, errsz);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&s->mu);
    return status;
}

int vg_store_state_get(struct vg_store *s, const char *key, char **val, size_t *len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char err[256];
    int rc = vg_store_main_read(s, &db, err, sizeof(err));
    if (rc != VG_OK) {
        return rc;
    }
    int src = sqlite3_prepare_v2(db, "SELECT v FROM state WHERE k = ?", -1, &st, NULL);
    rc = VG_ENOENT;
    if (src == SQLITE_OK) {
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            size_t n = (size_t)sqlite3_column_bytes(st, 0);
            char *v = vg_malloc(n + 1);
            rc = v ? VG_OK : VG_ENOMEM;
            if (v) {
                memcpy(v, n ? sqlite3_column_blob(st, 0) : "", n);
                v[n] = '\0';
                *val = v;
                *len = n;
            }
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
