/*
 * respond_journal.c — DATA/runs.db, the durable record of playbook runs, and its writer.
 *
 * One thread owns the write connection. Changes from every worker queue up; the thread takes
 * all that are queued, applies them in one transaction (group commit) and only then calls
 * each change's done() callback: the engine acts on a change (runs the next step, answers
 * the trigger) after it is durable. With WAL and synchronous=NORMAL a commit survives a
 * process crash.
 *
 * Tables: runs (one per run; UNIQUE(tenant, playbook, source_key) makes triggers
 * idempotent), pb_texts (the playbook text each run started with, by hash), steps (one row
 * per run, step and attempt), approvals (one per approval step of a run).
 */
#include <sqlite3.h>
#include <string.h>

#include "respond/respond_int.h"
#include "store/store.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, tenant TEXT NOT NULL,"
    " playbook TEXT NOT NULL, pb_hash TEXT NOT NULL, source_key TEXT NOT NULL, trigger TEXT,"
    " actor TEXT, status TEXT NOT NULL, context TEXT NOT NULL, error TEXT, created INTEGER,"
    " ended INTEGER, deadline INTEGER, UNIQUE(tenant, playbook, source_key));"
    "CREATE INDEX IF NOT EXISTS runs_status ON runs(status);"
    "CREATE TABLE IF NOT EXISTS pb_texts(hash TEXT PRIMARY KEY, playbook TEXT, text TEXT);"
    "CREATE TABLE IF NOT EXISTS steps(run INTEGER NOT NULL, step TEXT NOT NULL,"
    " attempt INTEGER NOT NULL, status TEXT NOT NULL, action TEXT, input TEXT, output TEXT,"
    " error TEXT, started INTEGER, ended INTEGER, next_attempt_at INTEGER, deadline INTEGER,"
    " PRIMARY KEY(run, step, attempt));"
    "CREATE TABLE IF NOT EXISTS approvals(run INTEGER NOT NULL, step TEXT NOT NULL,"
    " status TEXT NOT NULL, approvers TEXT, message TEXT, deadline INTEGER, dflt TEXT,"
    " actor TEXT, comment TEXT, created INTEGER, decided INTEGER, PRIMARY KEY(run, step));";

enum { ST_RUN_INS, ST_TEXT_INS, ST_RUN_STATUS, ST_STEP_PUT, ST_APPR_PUT, ST_APPR_DECIDE, ST_N };

static const char *const sqls[ST_N] = {
    "INSERT OR IGNORE INTO runs(tenant, playbook, pb_hash, source_key, trigger, actor, status,"
    " context, created, deadline) VALUES(?1,?2,?3,?4,?5,?6,'running',?7,?8,?9)",
    "INSERT OR IGNORE INTO pb_texts(hash, playbook, text) VALUES(?1,?2,?3)",
    "UPDATE runs SET status=?2, error=?3, ended=?4 WHERE id=?1",
    "INSERT OR REPLACE INTO steps(run, step, attempt, status, action, input, output, error,"
    " started, ended, next_attempt_at, deadline) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
    "INSERT OR IGNORE INTO approvals(run, step, status, approvers, message, deadline, dflt,"
    " created) VALUES(?1,?2,'pending',?3,?4,?5,?6,?7)",
    "UPDATE approvals SET status=?3, actor=?4, comment=?5, decided=?6 WHERE run=?1 AND step=?2"
    " AND status='pending'",
};

struct vg_rj {
    sqlite3 *db;
    sqlite3 *rdb; /* reader */
    sqlite3_stmt *st[ST_N];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* queue non-empty / stop */
    pthread_cond_t done_cv; /* a batch committed */
    struct vg_rj_change *head, *tail;
    uint64_t batches, changes, committed_seq, queued_seq;
    bool stop, drop;
};

struct vg_rj_change *vg_rj_change_new(int op)
{
    struct vg_rj_change *ch = vg_calloc(1, sizeof(*ch));
    if (ch) {
        ch->op = op;
    }
    return ch;
}

void vg_rj_change_free(struct vg_rj_change *ch)
{
    if (!ch) {
        return;
    }
    char *strs[] = {ch->tenant,  ch->playbook, ch->hash,    ch->text,  ch->source_key,
                    ch->trigger, ch->actor,    ch->context, ch->step,  ch->status,
                    ch->action,  ch->input,    ch->output,  ch->error, ch->extra};
    for (size_t i = 0; i < VG_ARRAY_LEN(strs); i++) {
        vg_free(strs[i]);
    }
    vg_free(ch);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s) {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static void bind_time(sqlite3_stmt *st, int i, vg_time_t t)
{
    if (t && t != VG_TIME_NONE) {
        sqlite3_bind_int64(st, i, t);
    } else {
        sqlite3_bind_null(st, i);
    }
}

static int apply_run_insert(struct vg_rj *j, struct vg_rj_change *c)
{
    sqlite3_stmt *t = j->st[ST_TEXT_INS];
    bind_text(t, 1, c->hash);
    bind_text(t, 2, c->playbook);
    bind_text(t, 3, c->text);
    int rc = sqlite3_step(t);
    sqlite3_reset(t);
    if (rc != SQLITE_DONE) {
        return rc;
    }
    sqlite3_stmt *st = j->st[ST_RUN_INS];
    const char *v[] = {c->tenant,  c->playbook, c->hash,   c->source_key,
                       c->trigger, c->actor,    c->context};
    for (int i = 0; i < 7; i++) {
        bind_text(st, i + 1, v[i]);
    }
    bind_time(st, 8, c->t1);
    bind_time(st, 9, c->t4);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    c->inserted = rc == SQLITE_DONE && sqlite3_changes(j->db) == 1;
    c->new_id = c->inserted ? sqlite3_last_insert_rowid(j->db) : 0;
    return rc;
}

static int apply_one(struct vg_rj *j, struct vg_rj_change *c)
{
    sqlite3_stmt *st = NULL;
    switch (c->op) {
    case VG_RJ_RUN_INSERT:
        return apply_run_insert(j, c);
    case VG_RJ_RUN_STATUS:
        st = j->st[ST_RUN_STATUS];
        bind_text(st, 2, c->status);
        bind_text(st, 3, c->error);
        bind_time(st, 4, c->t3);
        break;
    case VG_RJ_STEP_PUT:
        st = j->st[ST_STEP_PUT];
        sqlite3_bind_text(st, 2, c->step, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, (int)c->attempt);
        const char *v[] = {c->status, c->action, c->input, c->output, c->error};
        for (int i = 0; i < 5; i++) {
            bind_text(st, i + 4, v[i]);
        }
        bind_time(st, 9, c->t2);
        bind_time(st, 10, c->t3);
        bind_time(st, 11, c->t1);
        bind_time(st, 12, c->t4);
        break;
    case VG_RJ_APPROVAL_PUT:
        st = j->st[ST_APPR_PUT];
        bind_text(st, 2, c->step);
        bind_text(st, 3, c->extra);
        bind_text(st, 4, c->input);
        bind_time(st, 5, c->t4);
        bind_text(st, 6, c->status);
        bind_time(st, 7, c->t1);
        break;
    case VG_RJ_APPROVAL_DECIDE:
        st = j->st[ST_APPR_DECIDE];
        bind_text(st, 2, c->step);
        bind_text(st, 3, c->status);
        bind_text(st, 4, c->actor);
        bind_text(st, 5, c->input);
        bind_time(st, 6, c->t3);
        break;
    default:
        return SQLITE_MISUSE;
    }
    sqlite3_bind_int64(st, 1, c->run);
    int rc = sqlite3_step(st);
    c->inserted = rc == SQLITE_DONE && sqlite3_changes(j->db) > 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Apply a batch in one transaction; each change's rc says how it went. */
static void apply_batch(struct vg_rj *j, struct vg_rj_change *list)
{
    char err[256];
    int brc = vg_store_sqlite_exec(j->db, "BEGIN IMMEDIATE", "runs.db", err, sizeof(err));
    for (struct vg_rj_change *c = list; c; c = c->next) {
        int rc = brc == VG_OK ? apply_one(j, c) : SQLITE_ERROR;
        c->rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? VG_OK : VG_EIO;
    }
    if (brc == VG_OK &&
        vg_store_sqlite_exec(j->db, "COMMIT", "runs.db", err, sizeof(err)) != VG_OK) {
        VG_ERR("respond", "journal commit failed: %s", err);
        vg_store_sqlite_exec(j->db, "ROLLBACK", "runs.db", err, sizeof(err));
        for (struct vg_rj_change *c = list; c; c = c->next) {
            c->rc = VG_EIO;
        }
    }
}

static void *rj_main(void *arg)
{
    struct vg_rj *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->head && !j->stop) {
            pthread_cond_wait(&j->cv, &j->mu);
        }
        if (!j->head || (j->stop && j->drop)) {
            break;
        }
        struct vg_rj_change *list = j->head;
        uint64_t seq = j->queued_seq, n = 0;
        j->head = j->tail = NULL;
        pthread_mutex_unlock(&j->mu);
        apply_batch(j, list);
        while (list) {
            struct vg_rj_change *next = list->next;
            n++;
            if (list->done) {
                list->done(list->done_ctx, list);
            } else {
                vg_rj_change_free(list);
            }
            list = next;
        }
        pthread_mutex_lock(&j->mu);
        j->batches++;
        j->changes += n;
        j->committed_seq = seq;
        pthread_cond_broadcast(&j->done_cv);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

static int prepare_all(struct vg_rj *j, char *err, size_t errsz)
{
    int rc = vg_store_sqlite_exec(j->db, schema, "runs.db schema", err, errsz);
    for (int i = 0; rc == VG_OK && i < ST_N; i++) {
        int src =
            sqlite3_prepare_v3(j->db, sqls[i], -1, SQLITE_PREPARE_PERSISTENT, &j->st[i], NULL);
        if (src != SQLITE_OK) {
            rc = vg_store_sqlite_fail(j->db, src, "runs.db prepare", err, errsz);
        }
    }
    return rc;
}

int vg_rj_open(const char *path, struct vg_rj **out, char *err, size_t errsz)
{
    struct vg_rj *j = vg_calloc(1, sizeof(*j));
    *out = NULL;
    if (!j) {
        return VG_ENOMEM;
    }
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    pthread_cond_init(&j->done_cv, NULL);
    int rc = vg_store_sqlite_open(path, &j->db, err, errsz);
    rc = rc ? rc : prepare_all(j, err, errsz);
    rc = rc ? rc : vg_store_sqlite_open(path, &j->rdb, err, errsz);
    if (rc == VG_OK && pthread_create(&j->thread, NULL, rj_main, j) != 0) {
        snprintf(err, errsz, "runs.db: cannot start the journal thread");
        rc = VG_ERROR;
    }
    if (rc != VG_OK) {
        for (int i = 0; i < ST_N; i++) {
            sqlite3_finalize(j->st[i]);
        }
        sqlite3_close(j->db);
        sqlite3_close(j->rdb);
        vg_free(j);
        return rc;
    }
    *out = j;
    return VG_OK;
}

void vg_rj_close(struct vg_rj *j, bool drop)
{
    if (!j) {
        return;
    }
    pthread_mutex_lock(&j->mu);
    j->stop = true;
    j->drop = drop;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    while (j->head) {
        struct vg_rj_change *n = j->head->next;
        if (j->head->drop_ctx) {
            j->head->drop_ctx(j->head->done_ctx);
        }
        vg_rj_change_free(j->head);
        j->head = n;
    }
    for (int i = 0; i < ST_N; i++) {
        sqlite3_finalize(j->st[i]);
    }
    sqlite3_close(j->db);
    sqlite3_close(j->rdb);
    pthread_cond_destroy(&j->cv);
    pthread_cond_destroy(&j->done_cv);
    pthread_mutex_destroy(&j->mu);
    vg_free(j);
}

static uint64_t enqueue(struct vg_rj *j, struct vg_rj_change *ch)
{
    ch->next = NULL;
    pthread_mutex_lock(&j->mu);
    if (j->tail) {
        j->tail->next = ch;
    } else {
        j->head = ch;
    }
    j->tail = ch;
    uint64_t seq = ++j->queued_seq;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return seq;
}

void vg_rj_submit(struct vg_rj *j, struct vg_rj_change *ch)
{
    enqueue(j, ch);
}

static void keep(void *c, struct vg_rj_change *ch)
{
    VG_UNUSED(c);
    VG_UNUSED(ch);
}

int vg_rj_submit_wait(struct vg_rj *j, struct vg_rj_change *ch)
{
    ch->done = keep;
    uint64_t seq = enqueue(j, ch);
    pthread_mutex_lock(&j->mu);
    while (j->committed_seq < seq && !(j->stop && j->drop)) {
        pthread_cond_wait(&j->done_cv, &j->mu);
    }
    bool ok = j->committed_seq >= seq;
    pthread_mutex_unlock(&j->mu);
    return ok ? ch->rc : VG_EIO;
}

struct sqlite3 *vg_rj_reader(struct vg_rj *j)
{
    return j->rdb;
}

void vg_rj_stats(struct vg_rj *j, uint64_t *batches, uint64_t *changes)
{
    pthread_mutex_lock(&j->mu);
    *batches = j->batches;
    *changes = j->changes;
    pthread_mutex_unlock(&j->mu);
}
