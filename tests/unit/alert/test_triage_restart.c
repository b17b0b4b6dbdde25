/*
 * test_triage_restart.c — restarts rebuild the triage state exactly: the same alert stream
 * triaged by one engine without interruption and by an engine reopened from triage.db after
 * every batch (with a batch a hook refuses, rolled back and retried, and an incident closed
 * and reopened through the API half way) ends with the same incidents, the same per-alert
 * decisions (duplicates included), the same rule counters and the same entity risk.
 */
#include "alert/alert_int.h"
#include "triage_test.h"

#include <string.h>

#define NALERTS 9000
#define BATCH   250

struct mixgen {
    char host[40][16], user[25][16], ip[60][20], rule[12][16], tags[12][64];
    struct vg_store_alert recent[32];
    uint64_t seed;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void mix_init(struct mixgen *m)
{
    static const char *const tac[] = {"initial_access",    "execution",
                                      "persistence",       "privilege_escalation",
                                      "credential_access", "lateral_movement"};
    memset(m, 0, sizeof(*m));
    m->seed = 0x1234567887654321ULL;
    for (int i = 0; i < 40; i++) {
        snprintf(m->host[i], sizeof(m->host[i]), "h%02d", i);
    }
    for (int i = 0; i < 25; i++) {
        snprintf(m->user[i], sizeof(m->user[i]), "u%02d", i);
    }
    for (int i = 0; i < 60; i++) {
        snprintf(m->ip[i], sizeof(m->ip[i]), "10.0.0.%d", i);
    }
    for (int i = 0; i < 12; i++) {
        snprintf(m->rule[i], sizeof(m->rule[i]), "r%02d", i);
        snprintf(m->tags[i], sizeof(m->tags[i]), "[\"attack.%s\"]", tac[i % 6]);
    }
}

/* Alert id: every 3 s of alert time; a third repeat a recent fingerprint. */
static struct vg_store_alert gen(struct mixgen *m, int64_t id)
{
    uint64_t r = rnd(&m->seed);
    struct vg_store_alert a;
    if (id > 32 && r % 3 == 0) {
        a = m->recent[r % 32];
    } else {
        int rule = (int)(r % 12);
        a = mk(id, 0, m->rule[rule], 1 + rule % 5, m->tags[rule], m->host[(r >> 8) % 40],
               (r >> 16) % 3 ? m->user[(r >> 20) % 25] : NULL, m->ip[(r >> 28) % 60],
               (r >> 36) % 4 ? NULL : m->ip[(r >> 40) % 60], (r >> 48) % 2 ? "sshd" : NULL);
        a.attack = (r >> 50) % 2 ? "[\"T1110\"]" : "[\"T1059\",\"T1110\"]";
        m->recent[id % 32] = a;
    }
    a.id = id;
    a.ts = t0() + id * 3000000000LL;
    return a;
}

static int refuse_once(void *ctx, const struct vg_triage_alert_out *a)
{
    int *n = ctx;
    (void)a;
    return (*n)++ == 0 ? VG_EIO : VG_OK;
}

static struct vg_triage *open_engine(const char *dir)
{
    struct vg_triage_opts o;
    struct vg_triage *t = NULL;
    char err[256];
    vg_triage_opts_init(&o);
    o.dedup_window = 10 * MIN_NS;
    o.risk_window = 60 * MIN_NS;
    o.tactic_window = 180 * MIN_NS;
    o.group_window = 60 * MIN_NS;
    vg_strlist_add(&o.rule_dedup, "r03=30m");
    if (vg_triage_open(dir, &o, NULL, &t, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  open: %s\n", err);
    }
    vg_triage_opts_fini(&o);
    return t;
}

/* The run: restart after every batch or not. Leaves the final engine open in *out. */
static int run(const char *dir, bool restart, struct vg_triage **out)
{
    struct mixgen *m = malloc(sizeof(*m));
    struct vg_store_alert *a = calloc(BATCH, sizeof(*a));
    struct vg_triage *t = open_engine(dir);
    int refused = 0, rc = m && a && t ? VG_OK : VG_ENOMEM;
    char err[256];
    mix_init(m);
    for (int64_t id = 1, b = 0; rc == VG_OK && id <= NALERTS; id += BATCH, b++) {
        for (int i = 0; i < BATCH; i++) {
            a[i] = gen(m, id + i);
        }
        if (restart && b == 10) { /* refused: rolled back, memory rebuilt, retried */
            struct vg_triage_hooks h = {refuse_once, NULL, &refused};
            rc = vg_triage_process(t, a, BATCH, &h, NULL, err, sizeof(err));
            rc = rc == VG_AGAIN ? vg_triage_process(t, a, BATCH, &h, NULL, err, sizeof(err)) : -1;
        } else {
            rc = vg_triage_process(t, a, BATCH, NULL, NULL, err, sizeof(err));
        }
        if (rc == VG_OK && (b == 12 || b == 20)) { /* close, then reopen, incident 1 */
            rc = vg_triage_incident_update(t, "default", "tester", 1, b == 12 ? "closed" : "open",
                                           NULL, VG_TRIAGE_VERDICT_NONE, NULL, err, sizeof(err));
        }
        if (rc == VG_OK && restart) {
            vg_triage_destroy(t);
            t = open_engine(dir);
            rc = t ? VG_OK : VG_EIO;
        }
    }
    if (rc != VG_OK) {
        fprintf(stderr, "  run: %s (%d)\n", err, rc);
    }
    free(m);
    free(a);
    *out = t;
    return rc;
}

/* The incident JSON without its wall-clock times (created, updated). */
static void incident_text(struct vg_triage *t, int64_t id, struct vg_sbuf *b)
{
    vg_sbuf_reset(b);
    if (vg_triage_incident_json(t, "default", id, b) != VG_OK) {
        vg_sbuf_adds(b, "none");
        return;
    }
    static const char *const keys[] = {"\"created\":\"", "\"updated\":\""};
    for (int k = 0; k < 2; k++) {
        char *p = strstr(b->p, keys[k]);
        for (p = p ? p + strlen(keys[k]) : NULL; p && *p && *p != '"'; p++) {
            *p = 'x';
        }
    }
}

static int rule_line(void *ctx, const struct vg_triage_rule_stats *r)
{
    vg_sbuf_printf(ctx, "%s:%lld/%lld/%lld;", r->rule_id, (long long)r->alerts,
                   (long long)r->duplicates, (long long)r->suppressed);
    return VG_OK;
}

static double entity_risk(struct vg_triage *t, int type, const char *v, int64_t *inc)
{
    struct tx_entity *e = tx_entity_get(t, "default", type, v, false);
    *inc =
        e && e->incident_id && tx_map_get(&t->incs, (uint64_t)e->incident_id) ? e->incident_id : 0;
    return e ? e->risk : 0;
}

VG_TEST(restart_after_every_batch_rebuilds_the_same_state)
{
    char d1[64], d2[64];
    scratch_dir(d1, sizeof(d1));
    scratch_dir(d2, sizeof(d2));
    struct vg_triage *a = NULL, *b = NULL;
    CHECK_EQ_INT(run(d1, false, &a), VG_OK);
    CHECK_EQ_INT(run(d2, true, &b), VG_OK);
    CHECK(a && b);
    CHECK_EQ_INT(vg_triage_position(a), NALERTS);
    CHECK_EQ_INT(vg_triage_position(b), NALERTS);
    CHECK(a->next_incident > 3); /* the mix opens incidents */
    CHECK_EQ_INT(a->next_incident, b->next_incident);
    struct vg_sbuf x = VG_SBUF_INIT, y = VG_SBUF_INIT;
    for (int64_t id = 1; id < a->next_incident; id++) {
        incident_text(a, id, &x);
        incident_text(b, id, &y);
        CHECK_STR(x.p, y.p);
    }
    int64_t dups = 0, grouped = 0;
    for (int64_t id = 1; id <= NALERTS; id++) {
        struct tx_alert_row ra, rb;
        CHECK_EQ_INT(tx_db_alert_row(a, "default", id, &ra), VG_OK);
        CHECK_EQ_INT(tx_db_alert_row(b, "default", id, &rb), VG_OK);
        CHECK(ra.fp == rb.fp && ra.duplicate_of == rb.duplicate_of &&
              ra.duplicates == rb.duplicates && ra.suppressed_by == rb.suppressed_by &&
              ra.incident_id == rb.incident_id && ra.risk == rb.risk);
        dups += ra.duplicate_of != 0;
        grouped += ra.incident_id != 0;
    }
    CHECK(dups > NALERTS / 4 && grouped > NALERTS / 4);
    vg_sbuf_reset(&x);
    vg_sbuf_reset(&y);
    vg_triage_rule_stats(a, "default", rule_line, &x);
    vg_triage_rule_stats(b, "default", rule_line, &y);
    CHECK_STR(x.p, y.p);
    struct mixgen *m = malloc(sizeof(*m));
    mix_init(m);
    for (int i = 0; i < 60; i++) {
        int64_t ia, ib;
        CHECK(entity_risk(a, 3, m->ip[i], &ia) == entity_risk(b, 3, m->ip[i], &ib));
        CHECK_EQ_INT(ia, ib);
        if (i < 40) {
            CHECK(entity_risk(a, 1, m->host[i], &ia) == entity_risk(b, 1, m->host[i], &ib));
            CHECK_EQ_INT(ia, ib);
        }
    }
    free(m);
    vg_sbuf_fini(&x);
    vg_sbuf_fini(&y);
    vg_triage_destroy(a);
    vg_triage_destroy(b);
    scratch_rm(d1);
    scratch_rm(d2);
}

/* A duplicate keeps only a compact row, yet answers for itself and can take a verdict. */
VG_TEST(duplicate_answers_and_takes_a_verdict)
{
    char dir[64];
    scratch_dir(dir, sizeof(dir));
    struct vg_triage *t = open_engine(dir);
    CHECK(t != NULL);
    struct vg_store_alert a[3] = {
        mk(1, 0, "r01", 3, "[]", "web-1", "bob", NULL, NULL, NULL),
        mk(2, 1, "r01", 3, "[]", "web-1", "bob", NULL, NULL, NULL),
        mk(3, 2, "r01", 3, "[]", "web-1", "bob", NULL, NULL, NULL),
    };
    char err[256];
    CHECK_EQ_INT(vg_triage_process(t, a, 1, NULL, NULL, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_triage_process(t, a + 1, 2, NULL, NULL, err, sizeof(err)), VG_OK);
    struct tx_alert_row r;
    CHECK_EQ_INT(tx_db_alert_row(t, "default", 1, &r), VG_OK);
    CHECK_EQ_INT(r.duplicates, 2);
    CHECK_EQ_INT(r.duplicate_of, 0);
    uint64_t fp = r.fp;
    CHECK_EQ_INT(tx_db_alert_row(t, "default", 3, &r), VG_OK);
    CHECK_EQ_INT(r.duplicate_of, 1);
    CHECK(r.fp == fp);
    CHECK_STR(r.rule_id, "r01");
    CHECK_EQ_INT(tx_db_alert_row(t, "other", 3, &r), VG_ENOENT);
    CHECK_EQ_INT(vg_triage_verdict_set(t, "default", "ann", 3, VG_TRIAGE_VERDICT_FP, "noise", err,
                                       sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(tx_db_alert_row(t, "default", 3, &r), VG_OK);
    CHECK_EQ_INT(r.duplicate_of, 1);
    CHECK_STR(r.verdict, "false_positive");
    vg_triage_destroy(t);
    t = open_engine(dir); /* the materialized row does not disturb the rebuild */
    CHECK(t != NULL);
    struct vg_store_alert d = mk(4, 3, "r01", 3, "[]", "web-1", "bob", NULL, NULL, NULL);
    CHECK_EQ_INT(vg_triage_process(t, &d, 1, NULL, NULL, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(tx_db_alert_row(t, "default", 4, &r), VG_OK);
    CHECK_EQ_INT(r.duplicate_of, 1);
    CHECK_EQ_INT(tx_db_alert_row(t, "default", 1, &r), VG_OK);
    CHECK_EQ_INT(r.duplicates, 3);
    vg_triage_destroy(t);
    scratch_rm(dir);
}
