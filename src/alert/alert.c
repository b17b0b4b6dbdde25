/*
 * alert.c — the triage engine's lifecycle and batch transaction: open (options, criticality
 * table, triage.db, rebuilding memory), process (engine → rows → hooks → commit, or roll
 * back and rebuild), destroy.
 */
#include "alert/alert_int.h"

#include "audit/audit.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>

void tx_lock(struct vg_triage *t)
{
    pthread_mutex_lock(&t->mu);
}

void tx_unlock(struct vg_triage *t)
{
    pthread_mutex_unlock(&t->mu);
}

int tx_audit(struct vg_triage *t, const char *tenant, const char *actor, const char *action,
             const char *object, const char *detail, char *err, size_t errsz)
{
    struct vg_audit_rec r = {tenant, actor ? actor : "system", action, object, detail};
    return vg_audit_append(t->audit, &r, NULL, err, errsz);
}

/* ---------------------------------------------------------------- options */

static int copy_list(struct vg_strlist *dst, const struct vg_strlist *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->n; i++) {
        if (vg_strlist_add(dst, src->v[i]) != VG_OK) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

static int copy_opts(struct vg_triage *t, const struct vg_triage_opts *o)
{
    if (!o) {
        return vg_triage_opts_init(&t->o);
    }
    t->o = *o;
    int rc = copy_list(&t->o.criticality, &o->criticality);
    return rc ? rc : copy_list(&t->o.rule_dedup, &o->rule_dedup);
}

/* "TYPE:GLOB=FACTOR" entries of opts.criticality. */
static int parse_crit(struct vg_triage *t, const char *s, char *err, size_t errsz)
{
    const char *colon = strchr(s, ':'), *eq = strrchr(s, '=');
    double mult;
    int type = colon ? tx_etype_parse(s, (size_t)(colon - s)) : 0;
    bool any = colon && colon - s == 1 && *s == '*';
    if (!colon || !eq || eq < colon || (!type && !any) ||
        vg_parse_double(eq + 1, strlen(eq + 1), &mult) != VG_OK || mult < 0 || mult > 1000) {
        snprintf(err, errsz,
                 "triage: criticality '%.80s': expected TYPE:GLOB=FACTOR (TYPE host, user, ip, "
                 "process or *; FACTOR 0 to 1000)",
                 s);
        return VG_EINVAL;
    }
    struct tx_crit *c = &t->crits[t->ncrits];
    c->type = (uint8_t)type;
    c->mult = mult;
    c->glob = vg_strndup(colon + 1, (size_t)(eq - colon - 1));
    t->ncrits += c->glob ? 1 : 0;
    return c->glob ? VG_OK : VG_ENOMEM;
}

static int check_opts(struct vg_triage *t, char *err, size_t errsz)
{
    t->crits = vg_calloc(t->o.criticality.n + 1, sizeof(*t->crits));
    int rc = t->crits ? VG_OK : VG_ENOMEM;
    for (size_t i = 0; rc == VG_OK && i < t->o.criticality.n; i++) {
        rc = parse_crit(t, t->o.criticality.v[i], err, errsz);
    }
    for (size_t i = 0; rc == VG_OK && i < t->o.rule_dedup.n; i++) {
        const char *s = t->o.rule_dedup.v[i], *eq = strrchr(s, '=');
        int64_t w;
        if (!eq || eq == s || vg_duration_parse(eq + 1, strlen(eq + 1), &w) != VG_OK || w <= 0) {
            snprintf(err, errsz,
                     "triage: rule_dedup '%.80s': expected RULE_ID=DURATION (e.g. "
                     "ssh-brute=15m)",
                     s);
            rc = VG_EINVAL;
        }
    }
    if (rc == VG_OK && (t->o.dedup_window <= 0 || t->o.risk_window <= 0 ||
                        t->o.tactic_window <= 0 || t->o.group_window <= 0 || t->o.batch <= 0)) {
        snprintf(err, errsz, "triage: windows and batch must be positive");
        rc = VG_EINVAL;
    }
    return rc;
}

/* ---------------------------------------------------------------- open, destroy */

static int init_sync(struct vg_triage *t)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&t->mu, NULL) || pthread_cond_init(&t->cv, &ca) ? VG_ERROR : VG_OK;
    pthread_condattr_destroy(&ca);
    return rc;
}

int vg_triage_open(const char *data_dir, const struct vg_triage_opts *o, struct vg_audit *audit,
                   struct vg_triage **out, char *err, size_t errsz)
{
    struct vg_triage *t = vg_calloc(1, sizeof(*t));
    *out = NULL;
    if (!t || init_sync(t) != VG_OK) {
        vg_free(t);
        snprintf(err, errsz, "triage: out of memory");
        return VG_ENOMEM;
    }
    t->audit = audit;
    t->next_incident = t->next_exception = 1;
    t->jp = vg_json_parser_create(NULL);
    t->scratch = vg_arena_create(16384);
    int rc = copy_opts(t, o);
    rc = rc ? rc : t->jp && t->scratch ? VG_OK : VG_ENOMEM;
    rc = rc ? rc : check_opts(t, err, errsz);
    if (rc == VG_OK && data_dir) {
        size_t n = strlen(data_dir) + 16;
        t->db_path = vg_malloc(n);
        rc = t->db_path ? VG_OK : VG_ENOMEM;
        if (rc == VG_OK) {
            snprintf(t->db_path, n, "%s/triage.db", data_dir);
            rc = tx_db_open(t, err, errsz);
        }
        rc = rc ? rc : tx_db_load(t, err, errsz);
    }
    if (rc != VG_OK) {
        if (rc == VG_ENOMEM) {
            snprintf(err, errsz, "triage: out of memory");
        }
        vg_triage_destroy(t);
        return rc;
    }
    *out = t;
    return VG_OK;
}

void vg_triage_destroy(struct vg_triage *t)
{
    if (!t) {
        return;
    }
    vg_triage_stop(t);
    tx_engine_reset(t);
    tx_db_close(t);
    vg_free(t->excs);
    vg_free(t->dec);
    vg_free(t->joins);
    vg_free(t->drules);
    vg_free(t->fupd);
    vg_free(t->clears);
    vg_free(t->claims);
    vg_free(t->dincs);
    vg_free(t->crow);
    for (size_t i = 0; i < t->ncrits; i++) {
        vg_free(t->crits[i].glob);
    }
    vg_free(t->crits);
    vg_json_parser_destroy(t->jp);
    vg_arena_destroy(t->scratch);
    vg_free(t->db_path);
    vg_triage_opts_fini(&t->o);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    vg_free(t);
}

/* ---------------------------------------------------------------- the batch */

static int hook_alerts(struct vg_triage *t, const struct vg_triage_hooks *h, struct vg_sbuf *b)
{
    for (size_t i = 0; h->on_alert && i < t->ndec; i++) {
        const struct tx_decision *d = &t->dec[i];
        if (d->dup_of || d->suppressed_by) {
            continue;
        }
        char fp[17];
        tx_fp_hex(d->fp, fp);
        vg_sbuf_reset(b);
        tx_alert_out_json(d->a, d, b);
        if (b->err) {
            return VG_ENOMEM;
        }
        struct vg_triage_alert_out o = {d->a, fp, d->incident_id, d->risk, b->p, b->len};
        int rc = h->on_alert(h->ctx, &o);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int hook_incidents(struct vg_triage *t, const struct vg_triage_hooks *h, struct vg_sbuf *b)
{
    struct vg_sbuf title = VG_SBUF_INIT;
    int rc = VG_OK;
    for (size_t i = 0; h->on_incident && rc == VG_OK && i < t->ndincs; i++) {
        const struct tx_incident *inc = t->dincs[i];
        vg_sbuf_reset(b);
        vg_sbuf_reset(&title);
        tx_incident_json(inc, b);
        tx_incident_title(inc, &title);
        if (b->err || title.err) {
            rc = VG_ENOMEM;
            break;
        }
        struct vg_triage_incident_out o = {
            inc->id,       inc->tenant, title.p,          tx_status_name(inc->status),
            inc->severity, inc->risk,   inc->alert_count, b->p,
            b->len};
        rc = h->on_incident(h->ctx, &o, inc->opened);
    }
    vg_sbuf_fini(&title);
    return rc;
}

static int run_hooks(struct vg_triage *t, const struct vg_triage_hooks *h)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    int rc = h ? hook_alerts(t, h, &b) : VG_OK;
    rc = rc == VG_OK && h ? hook_incidents(t, h, &b) : rc;
    vg_sbuf_fini(&b);
    return rc;
}

/* Forget the batch: memory is rebuilt from what triage.db committed. */
static void undo_batch(struct vg_triage *t)
{
    char err[256];
    tx_db_rollback(t);
    if (!t->db) {
        tx_batch_clear(t);
        return;
    }
    tx_engine_reset(t);
    if (tx_db_load(t, err, sizeof(err)) != VG_OK) {
        VG_ERR("triage", "%s", err);
    }
}

static int process_locked(struct vg_triage *t, const struct vg_store_alert *a, size_t n,
                          const struct vg_triage_hooks *h, struct vg_triage_batch_stats *st,
                          char *err, size_t errsz)
{
    int rc = tx_db_begin(t, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    rc = tx_engine_batch(t, a, n, st);
    if (rc == VG_ENOMEM) {
        snprintf(err, errsz, "triage: out of memory");
    }
    rc = rc ? rc : tx_db_write_batch(t, err, errsz);
    if (rc == VG_OK) {
        rc = run_hooks(t, h);
        if (rc != VG_OK) {
            snprintf(err, errsz, "triage: a hook refused the batch (%s): retried later",
                     vg_strerror(rc));
            rc = VG_AGAIN;
        }
    }
    rc = rc ? rc : tx_db_commit(t, err, errsz);
    if (rc != VG_OK) {
        undo_batch(t);
        return rc;
    }
    tx_batch_clear(t);
    tx_engine_sweep(t);
    return VG_OK;
}

int vg_triage_process(struct vg_triage *t, const struct vg_store_alert *a, size_t n,
                      const struct vg_triage_hooks *hooks, struct vg_triage_batch_stats *st,
                      char *err, size_t errsz)
{
    struct vg_triage_batch_stats local;
    memset(&local, 0, sizeof(local));
    tx_lock(t);
    int rc = process_locked(t, a, n, hooks, &local, err, errsz);
    tx_unlock(t);
    if (st) {
        *st = local;
    }
    return rc;
}

int64_t vg_triage_position(struct vg_triage *t)
{
    tx_lock(t);
    int64_t p = t->position;
    tx_unlock(t);
    return p;
}

uint64_t vg_triage_changes(struct vg_triage *t)
{
    tx_lock(t);
    uint64_t c = t->changes + (uint64_t)t->position;
    tx_unlock(t);
    return c;
}

void vg_triage_set_store(struct vg_triage *t, struct vg_store *store)
{
    tx_lock(t);
    t->store = store;
    tx_unlock(t);
}
