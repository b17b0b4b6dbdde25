/*
 * respond_view.c — JSON views of playbooks, runs, steps and approvals for the REST API and
 * the CLI. Runs are read from the journal (runs.db) through the engine's reader connection,
 * so finished runs are visible as well as unfinished ones; every query is tenant scoped.
 */
#include <sqlite3.h>
#include <string.h>

#include "respond/respond_engine.h"

static void add_col_str(struct vg_sbuf *b, const char *name, sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    vg_sbuf_printf(b, ",\"%s\":", name);
    if (s) {
        vg_sbuf_add_json_str(b, s, (size_t)sqlite3_column_bytes(st, i));
    } else {
        vg_sbuf_adds(b, "null");
    }
}

/* A column holding JSON text, embedded as JSON (null when empty). */
static void add_col_json(struct vg_sbuf *b, const char *name, sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    vg_sbuf_printf(b, ",\"%s\":", name);
    if (s && (s[0] == '{' || s[0] == '[')) {
        vg_sbuf_add(b, s, (size_t)sqlite3_column_bytes(st, i));
    } else if (s) {
        vg_sbuf_add_json_str(b, s, (size_t)sqlite3_column_bytes(st, i));
    } else {
        vg_sbuf_adds(b, "null");
    }
}

static void add_col_time(struct vg_sbuf *b, const char *name, sqlite3_stmt *st, int i)
{
    char ts[40];
    vg_sbuf_printf(b, ",\"%s\":", name);
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        vg_sbuf_adds(b, "null");
        return;
    }
    vg_time_format(sqlite3_column_int64(st, i), ts, sizeof(ts));
    vg_sbuf_printf(b, "\"%s\"", ts);
}

int vg_re_run_status_db(struct vg_respond *e, int64_t run_id, char *status, size_t size)
{
    sqlite3_stmt *st = NULL;
    if (!e->j || sqlite3_prepare_v2(vg_rj_reader(e->j), "SELECT status FROM runs WHERE id=?1", -1,
                                    &st, NULL) != SQLITE_OK) {
        return VG_EIO;
    }
    sqlite3_bind_int64(st, 1, run_id);
    int rc = VG_ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        vg_strlcpy(status, (const char *)sqlite3_column_text(st, 0), size);
        rc = VG_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

#define RUN_COLS                                                                                   \
    "id, playbook, pb_hash, source_key, trigger, actor, status, error, created, ended,"            \
    " deadline, tenant"

static void run_row(struct vg_sbuf *b, sqlite3_stmt *st)
{
    vg_sbuf_printf(b, "{\"id\":\"r-%lld\"", (long long)sqlite3_column_int64(st, 0));
    add_col_str(b, "playbook", st, 1);
    add_col_str(b, "playbook_hash", st, 2);
    add_col_str(b, "source", st, 3);
    add_col_str(b, "trigger", st, 4);
    add_col_str(b, "actor", st, 5);
    add_col_str(b, "status", st, 6);
    add_col_str(b, "error", st, 7);
    add_col_time(b, "created", st, 8);
    add_col_time(b, "ended", st, 9);
    add_col_time(b, "deadline", st, 10);
}

static void steps_json(sqlite3 *db, int64_t run, struct vg_sbuf *b)
{
    sqlite3_stmt *st = NULL;
    vg_sbuf_adds(b, ",\"steps\":[");
    if (sqlite3_prepare_v2(db,
                           "SELECT step, attempt, status, action, input, output, error, started,"
                           " ended, next_attempt_at, deadline FROM steps WHERE run=?1"
                           " ORDER BY rowid",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run);
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            vg_sbuf_adds(b, n ? ",{" : "{");
            vg_sbuf_printf(b, "\"attempt\":%d", sqlite3_column_int(st, 1));
            add_col_str(b, "step", st, 0);
            add_col_str(b, "status", st, 2);
            add_col_str(b, "action", st, 3);
            add_col_json(b, "input", st, 4);
            add_col_json(b, "output", st, 5);
            add_col_str(b, "error", st, 6);
            add_col_time(b, "started", st, 7);
            add_col_time(b, "ended", st, 8);
            add_col_time(b, "next_attempt_at", st, 9);
            add_col_time(b, "deadline", st, 10);
            vg_sbuf_addc(b, '}');
        }
    }
    sqlite3_finalize(st);
    vg_sbuf_addc(b, ']');
}

static void approval_row(struct vg_sbuf *b, sqlite3_stmt *st, int base)
{
    add_col_str(b, "step", st, base);
    add_col_str(b, "status", st, base + 1);
    add_col_json(b, "approvers", st, base + 2);
    add_col_str(b, "message", st, base + 3);
    add_col_time(b, "deadline", st, base + 4);
    add_col_str(b, "default", st, base + 5);
    add_col_str(b, "decided_by", st, base + 6);
    add_col_str(b, "comment", st, base + 7);
    add_col_time(b, "decided", st, base + 8);
}

#define APPR_COLS "step, status, approvers, message, deadline, dflt, actor, comment, decided"

static void approvals_of_run(sqlite3 *db, int64_t run, struct vg_sbuf *b)
{
    sqlite3_stmt *st = NULL;
    vg_sbuf_adds(b, ",\"approvals\":[");
    if (sqlite3_prepare_v2(db, "SELECT " APPR_COLS " FROM approvals WHERE run=?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run);
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            vg_sbuf_printf(b, "%s{\"run\":\"r-%lld\"", n ? "," : "", (long long)run);
            approval_row(b, st, 0);
            vg_sbuf_addc(b, '}');
        }
    }
    sqlite3_finalize(st);
    vg_sbuf_addc(b, ']');
}

int vg_respond_run_json(struct vg_respond *e, const char *tenant, int64_t run_id,
                        struct vg_sbuf *out)
{
    pthread_mutex_lock(&e->mu);
    sqlite3 *db = vg_rj_reader(e->j);
    sqlite3_stmt *st = NULL;
    int rc = VG_EIO;
    if (sqlite3_prepare_v2(db, "SELECT " RUN_COLS ", context FROM runs WHERE id=?1 AND tenant=?2",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_text(st, 2, tenant, -1, SQLITE_STATIC);
        rc = VG_ENOENT;
        if (sqlite3_step(st) == SQLITE_ROW) {
            run_row(out, st);
            add_col_json(out, "context", st, 12);
            steps_json(db, run_id, out);
            approvals_of_run(db, run_id, out);
            vg_sbuf_addc(out, '}');
            rc = VG_OK;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int vg_respond_runs_json(struct vg_respond *e, const char *tenant,
                         const struct vg_respond_run_filter *f, struct vg_sbuf *out)
{
    pthread_mutex_lock(&e->mu);
    sqlite3_stmt *st = NULL;
    int rc = VG_EIO;
    if (sqlite3_prepare_v2(vg_rj_reader(e->j),
                           "SELECT " RUN_COLS " FROM runs WHERE tenant=?1 AND (?2 IS NULL OR"
                           " status=?2) AND (?3 IS NULL OR playbook=?3) AND (?4 = 0 OR id < ?4)"
                           " ORDER BY id DESC LIMIT ?5",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        f->status ? sqlite3_bind_text(st, 2, f->status, -1, SQLITE_STATIC)
                  : sqlite3_bind_null(st, 2);
        f->playbook ? sqlite3_bind_text(st, 3, f->playbook, -1, SQLITE_STATIC)
                    : sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, f->before_id);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)(f->limit ? f->limit : 100));
        vg_sbuf_adds(out, "{\"runs\":[");
        int64_t last = 0;
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            vg_sbuf_adds(out, n ? "," : "");
            run_row(out, st);
            vg_sbuf_addc(out, '}');
            last = sqlite3_column_int64(st, 0);
        }
        vg_sbuf_printf(out, "],\"next_before\":%lld}", (long long)last);
        rc = VG_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int vg_respond_approvals_json(struct vg_respond *e, const char *tenant, const char *status,
                              struct vg_sbuf *out)
{
    pthread_mutex_lock(&e->mu);
    sqlite3_stmt *st = NULL;
    int rc = VG_EIO;
    if (sqlite3_prepare_v2(
            vg_rj_reader(e->j),
            "SELECT a.run, r.playbook, a.step, a.status, a.approvers, a.message, a.deadline,"
            " a.dflt, a.actor, a.comment, a.decided FROM approvals a JOIN runs r"
            " ON r.id = a.run WHERE r.tenant=?1 AND (?2 IS NULL OR a.status=?2)"
            " ORDER BY a.run DESC LIMIT 1000",
            -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
        status ? sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC) : sqlite3_bind_null(st, 2);
        vg_sbuf_adds(out, "{\"approvals\":[");
        for (int n = 0; sqlite3_step(st) == SQLITE_ROW; n++) {
            vg_sbuf_printf(out, "%s{\"run\":\"r-%lld\"", n ? "," : "",
                           (long long)sqlite3_column_int64(st, 0));
            add_col_str(out, "playbook", st, 1);
            approval_row(out, st, 2);
            vg_sbuf_addc(out, '}');
        }
        vg_sbuf_adds(out, "]}");
        rc = VG_OK;
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static void playbook_summary(const struct vg_playbook *pb, struct vg_sbuf *b)
{
    vg_sbuf_adds(b, "{\"id\":");
    vg_sbuf_add_json_str(b, pb->id, strlen(pb->id));
    vg_sbuf_adds(b, ",\"name\":");
    vg_sbuf_add_json_str(b, pb->name ? pb->name : "", pb->name ? strlen(pb->name) : 0);
    vg_sbuf_adds(b, ",\"description\":");
    vg_sbuf_add_json_str(b, pb->description ? pb->description : "",
                         pb->description ? strlen(pb->description) : 0);
    vg_sbuf_printf(b,
                   ",\"version\":%lld,\"enabled\":%s,\"steps\":%zu,\"hash\":\"%s\","
                   "\"file\":",
                   (long long)pb->version, pb->enabled ? "true" : "false", pb->nsteps, pb->hash);
    vg_sbuf_add_json_str(b, pb->file, strlen(pb->file));
    vg_sbuf_adds(b, ",\"triggers\":");
    vg_playbook_triggers_json(pb, b);
}

int vg_respond_playbooks_json(struct vg_respond *e, struct vg_sbuf *out)
{
    pthread_mutex_lock(&e->mu);
    vg_sbuf_adds(out, "{\"playbooks\":[");
    for (size_t i = 0; e->gen && i < e->gen->n; i++) {
        vg_sbuf_adds(out, i ? "," : "");
        playbook_summary(e->gen->pbs[i], out);
        vg_sbuf_addc(out, '}');
    }
    vg_sbuf_adds(out, "],\"errors\":[");
    for (size_t i = 0; e->gen && i < e->gen->nerrors; i++) {
        vg_sbuf_adds(out, i ? "," : "");
        vg_sbuf_add_json_str(out, e->gen->errors[i], strlen(e->gen->errors[i]));
    }
    vg_sbuf_adds(out, "]}");
    pthread_mutex_unlock(&e->mu);
    return VG_OK;
}

int vg_respond_playbook_json(struct vg_respond *e, const char *id, struct vg_sbuf *out)
{
    pthread_mutex_lock(&e->mu);
    const struct vg_playbook *pb = vg_re_gen_find(e->gen, id);
    if (pb) {
        playbook_summary(pb, out);
        vg_sbuf_adds(out, ",\"step_ids\":[");
        for (size_t i = 0; i < pb->nsteps; i++) {
            vg_sbuf_adds(out, i ? "," : "");
            vg_sbuf_add_json_str(out, pb->steps[i].id, strlen(pb->steps[i].id));
        }
        vg_sbuf_adds(out, "],\"source\":");
        vg_sbuf_add_json_str(out, pb->text, pb->text_len);
        vg_sbuf_addc(out, '}');
    }
    pthread_mutex_unlock(&e->mu);
    return pb ? VG_OK : VG_ENOENT;
}
