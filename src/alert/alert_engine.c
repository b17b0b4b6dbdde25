/*
 * alert_engine.c — the triage hot path: alert → fingerprint/dedup → exceptions → entity risk
 * → incident grouping, all in memory, one thread, no lock (the caller holds the engine's
 * mutex for the whole batch).
 *
 * Each decision is appended to the batch arrays of struct vg_triage (decisions, incident
 * joins, dirty fingerprints/rules/incidents, new risk contributions), which alert_db.c then
 * writes in the batch's transaction.
 */
#include "alert/alert_int.h"

#include <string.h>

/* ---------------------------------------------------------------- hash map */

static uint64_t map_key(uint64_t k)
{
    return k ? k : 1;
}

void *tx_map_get(const struct tx_map *m, uint64_t key)
{
    if (!m->cap) {
        return NULL;
    }
    key = map_key(key);
    for (size_t i = key & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            return m->vals[i];
        }
        if (!m->keys[i]) {
            return NULL;
        }
    }
}

static int map_grow(struct tx_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    uint64_t *keys = vg_calloc(ncap, sizeof(*keys));
    void **vals = vg_calloc(ncap, sizeof(*vals));
    if (!keys || !vals) {
        vg_free(keys);
        vg_free(vals);
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i]) {
            size_t j = m->keys[i] & (ncap - 1);
            while (keys[j]) {
                j = (j + 1) & (ncap - 1);
            }
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
    }
    vg_free(m->keys);
    vg_free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
    return VG_OK;
}

int tx_map_put(struct tx_map *m, uint64_t key, void *val)
{
    if ((m->n + 1) * 4 > m->cap * 3 && map_grow(m) != VG_OK) {
        return VG_ENOMEM;
    }
    key = map_key(key);
    size_t i = key & (m->cap - 1);
    while (m->keys[i] && m->keys[i] != key) {
        i = (i + 1) & (m->cap - 1);
    }
    m->n += m->keys[i] ? 0 : 1;
    m->keys[i] = key;
    m->vals[i] = val;
    return VG_OK;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
void tx_map_del(struct tx_map *m, uint64_t key)
{
    if (!m->cap) {
        return;
    }
    key = map_key(key);
    size_t mask = m->cap - 1, i = key & mask;
    while (m->keys[i] != key) {
        if (!m->keys[i]) {
            return;
        }
        i = (i + 1) & mask;
    }
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t home = m->keys[j] & mask;
        /* move j into the hole at i when its home is not in (i, j] (cyclically) */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    m->vals[i] = NULL;
    m->n--;
}

void tx_map_fini(struct tx_map *m)
{
    vg_free(m->keys);
    vg_free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---------------------------------------------------------------- names */

static const char *const tactic_names[TX_NTACTICS] = {
    "reconnaissance",  "resource_development",
    "initial_access",  "execution",
    "persistence",     "privilege_escalation",
    "defense_evasion", "credential_access",
    "discovery",       "lateral_movement",
    "collection",      "command_and_control",
    "exfiltration",    "impact",
};
static const char *const tactic_titles[TX_NTACTICS] = {
    "Reconnaissance",  "Resource Development",
    "Initial Access",  "Execution",
    "Persistence",     "Privilege Escalation",
    "Defense Evasion", "Credential Access",
    "Discovery",       "Lateral Movement",
    "Collection",      "Command and Control",
    "Exfiltration",    "Impact",
};

const char *tx_tactic_name(int i)
{
    return i >= 0 && i < TX_NTACTICS ? tactic_names[i] : "";
}

const char *tx_tactic_title(int i)
{
    return i >= 0 && i < TX_NTACTICS ? tactic_titles[i] : "";
}

static int tactic_lookup(const char *p, size_t n)
{
    char buf[32];
    if (n >= sizeof(buf)) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) { /* attack.credential-access is an older spelling */
        char c = p[i];
        buf[i] = c == '-' ? '_' : (c >= 'A' && c <= 'Z' ? (char)(c + 32) : c);
    }
    buf[n] = '\0';
    for (int i = 0; i < TX_NTACTICS; i++) {
        if (!strcmp(buf, tactic_names[i])) {
            return i;
        }
    }
    return -1;
}

/* Tactic bits of a tags JSON array: every "attack.<tactic>" string. */
uint16_t tx_tactics_parse(const char *tags)
{
    uint16_t m = 0;
    for (const char *p = tags ? strstr(tags, "attack.") : NULL; p; p = strstr(p, "attack.")) {
        p += 7;
        size_t n = strcspn(p, "\",] ");
        int i = tactic_lookup(p, n);
        m |= i >= 0 ? (uint16_t)(1u << i) : 0;
        p += n;
    }
    return m;
}

const char *tx_etype_name(int type)
{
    static const char *const n[] = {"", "host", "user", "ip", "process"};
    return type >= 1 && type <= 4 ? n[type] : "";
}

int tx_etype_parse(const char *s, size_t n)
{
    for (int i = 1; i <= 4; i++) {
        if (vg_str_eq(s, n, tx_etype_name(i), strlen(tx_etype_name(i)))) {
            return i;
        }
    }
    return 0;
}

const char *tx_status_name(int st)
{
    return st == TX_ST_ACK ? "acknowledged" : st == TX_ST_CLOSED ? "closed" : "open";
}

int tx_status_parse(const char *s)
{
    for (int i = TX_ST_OPEN; i <= TX_ST_CLOSED; i++) {
        if (!strcmp(s, tx_status_name(i))) {
            return i;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------- keys */

static uint64_t hash_str(const char *s, uint64_t h)
{
    /* NULL and "" differ; the length is mixed in so "ab","c" differs from "a","bc" */
    if (!s) {
        return vg_hash_mix(h ^ 0x9e3779b97f4a7c15ULL);
    }
    size_t n = strlen(s);
    return vg_hash64(s, n, h ^ (uint64_t)n);
}

static uint64_t fingerprint(const char *tenant, const struct vg_store_alert *a)
{
    uint64_t h = hash_str(tenant, 0x5eed);
    h = hash_str(a->rule_id, h);
    h = hash_str(a->host, h);
    h = hash_str(a->user, h);
    h = hash_str(a->src_ip, h);
    h = hash_str(a->dst_ip, h);
    return hash_str(a->process, h);
}

static uint64_t entity_key(const char *tenant, int type, const char *value)
{
    return hash_str(value, hash_str(tenant, 0xe4717 + (uint64_t)type));
}

int tx_rule_stats_key(const char *tenant, const char *rule_id, uint64_t *out)
{
    *out = hash_str(rule_id, hash_str(tenant, 0x2a1e));
    return VG_OK;
}

/* ---------------------------------------------------------------- batch arrays */

#define PUSH(t, arr, n, cap, v)                                                                    \
    (vg_grow(&(t)->arr, &(t)->cap, (t)->n + 1, sizeof(*(t)->arr)) == VG_OK                         \
         ? ((t)->arr[(t)->n++] = (v), VG_OK)                                                       \
         : VG_ENOMEM)

int tx_mark_dirty(struct vg_triage *t, struct tx_incident *inc)
{
    inc->changed = true;
    if (inc->dirty) {
        return VG_OK;
    }
    inc->updated = vg_time_now();
    inc->dirty = true;
    return PUSH(t, dincs, ndincs, cdincs, inc);
}

/* f's first alert is from an earlier batch: its duplicate counter is rewritten once. */
static int fp_update(struct vg_triage *t, struct tx_fp *f)
{
    if (!f->upd_ix) {
        struct tx_fpupd u = {f, f->first_id, 0, 0};
        if (PUSH(t, fupd, nfupd, cfupd, u) != VG_OK) {
            return VG_ENOMEM;
        }
        f->upd_ix = t->nfupd;
    }
    t->fupd[f->upd_ix - 1].dups = f->count - 1;
    t->fupd[f->upd_ix - 1].last_ts = f->last_ts;
    return VG_OK;
}

void tx_batch_clear(struct vg_triage *t)
{
    for (size_t i = 0; i < t->nfupd; i++) {
        t->fupd[i].f->upd_ix = 0;
    }
    for (size_t i = 0; i < t->ndec; i++) {
        if (t->dec[i].f) {
            t->dec[i].f->dec_ix = 0;
        }
    }
    for (size_t i = 0; i < t->ndrules; i++) {
        struct tx_rule *r = t->drules[i];
        r->dirty = false;
        r->alerts = r->dups = r->suppressed = 0;
    }
    for (size_t i = 0; i < t->ndincs; i++) {
        t->dincs[i]->dirty = t->dincs[i]->opened = t->dincs[i]->changed = false;
        t->dincs[i]->nchg = 0; /* written, or (memory only) never to be */
    }
    t->ndec = t->njoins = t->ndrules = t->nfupd = t->ndincs = t->ncrow = 0;
}

/* ---------------------------------------------------------------- rules, fingerprints */

static int64_t rule_window(const struct vg_triage *t, const char *rule_id)
{
    size_t rl = strlen(rule_id);
    for (size_t i = 0; i < t->o.rule_dedup.n; i++) {
        const char *s = t->o.rule_dedup.v[i], *eq = strrchr(s, '=');
        int64_t w;
        if (eq && (size_t)(eq - s) == rl && !memcmp(s, rule_id, rl) &&
            vg_duration_parse(eq + 1, strlen(eq + 1), &w) == VG_OK) {
            return w;
        }
    }
    return t->o.dedup_window;
}

static struct tx_rule *rule_get(struct vg_triage *t, const char *tenant, const char *rule_id)
{
    uint64_t key;
    tx_rule_stats_key(tenant, rule_id, &key);
    struct tx_rule *r = tx_map_get(&t->rules, key);
    if (!r) {
        r = vg_calloc(1, sizeof(*r));
        if (!r || !(r->tenant = vg_strdup(tenant)) || !(r->rule_id = vg_strdup(rule_id)) ||
            tx_map_put(&t->rules, key, r) != VG_OK) {
            if (r) {
                vg_free(r->tenant);
                vg_free(r->rule_id);
                vg_free(r);
            }
            return NULL;
        }
        r->key = key;
        r->window = rule_window(t, rule_id);
        if (r->window > t->max_win) {
            t->max_win = r->window;
            t->max_win_dirty = true;
        }
    }
    if (!r->dirty) {
        if (PUSH(t, drules, ndrules, cdrules, r) != VG_OK) {
            return NULL;
        }
        r->dirty = true;
    }
    return r;
}

struct tx_fp *tx_fp_add(struct vg_triage *t, uint64_t fp)
{
    struct tx_fp *f = tx_map_get(&t->fps, fp);
    if (f) {
        return f;
    }
    f = vg_calloc(1, sizeof(*f));
    if (!f || tx_map_put(&t->fps, fp, f) != VG_OK) {
        vg_free(f);
        return NULL;
    }
    f->fp = fp;
    return f;
}

/* ---------------------------------------------------------------- entities */

static double crit_of(const struct vg_triage *t, int type, const char *value)
{
    size_t vl = strlen(value);
    for (size_t i = 0; i < t->ncrits; i++) {
        const struct tx_crit *c = &t->crits[i];
        if ((!c->type || c->type == type) && vg_glob_match(c->glob, strlen(c->glob), value, vl)) {
            return c->mult;
        }
    }
    return 1.0;
}

struct tx_entity *tx_entity_get(struct vg_triage *t, const char *tenant, int type,
                                const char *value, bool create)
{
    uint64_t key = entity_key(tenant, type, value);
    struct tx_entity *e = tx_map_get(&t->ents, key);
    if (e || !create) {
        return e;
    }
    e = vg_calloc(1, sizeof(*e));
    if (!e || !(e->tenant = vg_strdup(tenant)) || !(e->value = vg_strdup(value)) ||
        tx_map_put(&t->ents, key, e) != VG_OK) {
        if (e) {
            vg_free(e->tenant);
            vg_free(e->value);
            vg_free(e);
        }
        return NULL;
    }
    e->key = key;
    e->type = (uint8_t)type;
    e->crit = crit_of(t, type, value);
    return e;
}

static void entity_prune(struct tx_entity *e, vg_time_t floor)
{
    while (e->head < e->n && e->c[e->head].ts < floor) {
        e->risk -= e->c[e->head++].risk;
    }
    if (e->head == e->n) {
        e->head = e->n = 0;
        e->risk = 0; /* no drift from float sums */
    } else if (e->head > 64 && e->head * 2 > e->n) {
        memmove(e->c, e->c + e->head, (e->n - e->head) * sizeof(*e->c));
        e->n -= e->head;
        e->head = 0;
    }
}

void tx_contrib_push(struct tx_entity *e, const struct tx_contrib *c)
{
    if (vg_grow(&e->c, &e->cap, e->n + 1, sizeof(*e->c)) != VG_OK) {
        return; /* the risk is lost for this entity only; nothing else depends on it */
    }
    e->c[e->n++] = *c;
    e->risk += c->risk;
}

static int entity_tactics(const struct tx_entity *e, vg_time_t floor, uint16_t *mask)
{
    int n = 0;
    *mask = 0;
    for (int i = 0; i < TX_NTACTICS; i++) {
        if (e->tactic_ts[i] && e->tactic_ts[i] >= floor) {
            *mask |= (uint16_t)(1u << i);
            n++;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- one alert */

struct tx_aent {
    struct tx_entity *e;
    uint8_t roles;
};

struct tx_ctx {
    struct vg_triage *t;
    const struct vg_store_alert *a;
    struct tx_decision *d;
    const char *tenant;
    vg_time_t ts;
    struct tx_aent ents[5];
    size_t nents;
    struct vg_triage_batch_stats *st;
};

static int add_entity(struct tx_ctx *x, int type, const char *value, int role)
{
    if (!value || !*value) {
        return VG_OK;
    }
    struct tx_entity *e = tx_entity_get(x->t, x->tenant, type, value, true);
    if (!e) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < x->nents; i++) {
        if (x->ents[i].e == e) { /* src_ip == dst_ip: one entity, two roles */
            x->ents[i].roles |= (uint8_t)role;
            return VG_OK;
        }
    }
    x->ents[x->nents].e = e;
    x->ents[x->nents++].roles = (uint8_t)role;
    return VG_OK;
}

static int collect_entities(struct tx_ctx *x)
{
    const struct vg_store_alert *a = x->a;
    int rc = add_entity(x, TX_E_HOST, a->host, TX_R_HOST);
    rc = rc ? rc : add_entity(x, TX_E_USER, a->user, TX_R_USER);
    rc = rc ? rc : add_entity(x, TX_E_IP, a->src_ip, TX_R_SRC);
    rc = rc ? rc : add_entity(x, TX_E_IP, a->dst_ip, TX_R_DST);
    if (rc != VG_OK || !a->process || !*a->process) {
        return rc;
    }
    /* a process is qualified by its host: "sshd" on two hosts is not one entity */
    char proc[512];
    size_t hl = a->host ? strlen(a->host) : 0, pl = strlen(a->process);
    if (hl && hl + pl + 2 <= sizeof(proc)) {
        memcpy(proc, a->host, hl);
        proc[hl] = ':';
        memcpy(proc + hl + 1, a->process, pl + 1);
    } else {
        vg_strlcpy(proc, a->process, sizeof(proc));
    }
    return add_entity(x, TX_E_PROCESS, proc, TX_R_PROCESS);
}

static double base_risk(const struct vg_triage_opts *o, int level)
{
    switch (level) {
    case 2:
        return (double)o->risk_low;
    case 3:
        return (double)o->risk_medium;
    case 4:
        return (double)o->risk_high;
    case 5:
        return (double)o->risk_critical;
    default:
        return (double)o->risk_info;
    }
}

/* Add the alert's risk to each entity and note its tactics. */
static int add_risk(struct tx_ctx *x)
{
    struct vg_triage *t = x->t;
    double base = base_risk(&t->o, x->a->level);
    vg_time_t tfloor = x->ts - t->o.tactic_window;
    x->d->crow0 = t->ncrow;
    for (size_t i = 0; i < x->nents; i++) {
        struct tx_entity *e = x->ents[i].e;
        entity_prune(e, x->ts - t->o.risk_window);
        int fresh = 0;
        for (int k = 0; k < TX_NTACTICS; k++) {
            if (x->d->tactics & (1u << k)) {
                fresh += !e->tactic_ts[k] || e->tactic_ts[k] < tfloor;
                e->tactic_ts[k] = VG_MAX(e->tactic_ts[k], x->ts);
            }
        }
        struct tx_contrib c = {.ts = x->ts,
                               .alert_id = x->a->id,
                               .risk = (float)(base * e->crit + fresh * (double)t->o.tactic_bonus),
                               .tactics = x->d->tactics,
                               .level = (uint8_t)x->a->level};
        tx_contrib_push(e, &c);
        x->d->risk = VG_MAX(x->d->risk, (double)c.risk);
        struct contrib_row row = {e, c};
        if (t->db && PUSH(t, crow, ncrow, ccrow, row) != VG_OK) {
            return VG_ENOMEM;
        }
    }
    x->d->ncrow = t->ncrow - x->d->crow0;
    return VG_OK;
}

/* ---------------------------------------------------------------- incidents */

static int add_techniques(struct tx_incident *inc, const char *attack)
{
    for (const char *p = attack ? strchr(attack, '"') : NULL; p; p = strchr(p, '"')) {
        const char *q = strchr(++p, '"');
        if (!q) {
            break;
        }
        if (q > p && tx_incident_add_technique(inc, p, (size_t)(q - p)) != VG_OK) {
            return VG_ENOMEM;
        }
        p = q + 1;
    }
    return VG_OK;
}

static int record_join(struct tx_ctx *x, struct tx_incident *inc, int64_t alert_id)
{
    struct tx_join j = {inc->id, alert_id};
    return PUSH(x->t, joins, njoins, cjoins, j);
}

/* The alert's entities join inc; those without a live incident now point at it. */
static int join_entities(struct tx_ctx *x, struct tx_incident *inc)
{
    for (size_t i = 0; i < x->nents; i++) {
        struct tx_entity *e = x->ents[i].e;
        uint8_t roles = x->ents[i].roles;
        if (e->listed_in != inc->id || (e->listed_roles & roles) != roles) {
            if (tx_incident_add_entity(inc, e->type, e->value, roles) != VG_OK) {
                return VG_ENOMEM;
            }
            e->listed_roles = e->listed_in == inc->id ? e->listed_roles | roles : roles;
            e->listed_in = inc->id;
        }
        struct tx_incident *cur = e->incident_id ? tx_map_get(&x->t->incs, e->incident_id) : NULL;
        if ((!cur || cur->status == TX_ST_CLOSED ||
             x->ts - cur->last_seen > x->t->o.group_window) &&
            tx_entity_own(inc, e) != VG_OK) {
            return VG_ENOMEM;
        }
        if (e->n > e->head && e->c[e->n - 1].alert_id == x->a->id) {
            e->c[e->n - 1].incident_id = inc->id; /* the contribution this alert just made */
        }
    }
    return VG_OK;
}

static int join_alert(struct tx_ctx *x, struct tx_incident *inc)
{
    const struct vg_store_alert *a = x->a;
    inc->alert_count++;
    inc->risk += x->d->risk;
    inc->severity = VG_MAX(inc->severity, a->level);
    inc->tactics |= x->d->tactics;
    inc->first_seen = VG_MIN(inc->first_seen, x->ts);
    inc->last_seen = VG_MAX(inc->last_seen, x->ts);
    x->d->incident_id = inc->id;
    x->st->grouped++;
    int rc = add_techniques(inc, a->attack);
    rc = rc ? rc : join_entities(x, inc); /* the alert's own row carries incident_id */
    return rc ? rc : tx_mark_dirty(x->t, inc);
}

static int add_link(struct tx_incident *inc, int64_t other)
{
    for (size_t i = 0; i < inc->nlinks; i++) {
        if (inc->links[i] == other) {
            return VG_OK;
        }
    }
    if (inc->nlinks >= 64) { /* enough to show the overlap; the list is not a graph store */
        return VG_OK;
    }
    if (vg_grow(&inc->links, &inc->clinks, inc->nlinks + 1, sizeof(*inc->links)) != VG_OK) {
        return VG_ENOMEM;
    }
    inc->links[inc->nlinks++] = other;
    vg_free(inc->sets_json[1]);
    inc->sets_json[1] = NULL;
    return VG_OK;
}

/* The open incidents the alert's entities belong to: the oldest one, linked to the others. */
static int find_incident(struct tx_ctx *x, struct tx_incident **out)
{
    struct tx_incident *live[5];
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; i < x->nents; i++) {
        int64_t id = x->ents[i].e->incident_id;
        struct tx_incident *inc = id ? tx_map_get(&x->t->incs, id) : NULL;
        if (!inc || inc->status == TX_ST_CLOSED || x->ts - inc->last_seen > x->t->o.group_window) {
            continue;
        }
        bool seen = false;
        for (size_t k = 0; k < n; k++) {
            seen = seen || live[k] == inc;
        }
        if (!seen) {
            live[n++] = inc;
            *out = !*out || inc->id < (*out)->id ? inc : *out;
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (live[k] != *out &&
            (add_link(*out, live[k]->id) != VG_OK || add_link(live[k], (*out)->id) != VG_OK ||
             tx_mark_dirty(x->t, live[k]) != VG_OK || tx_mark_dirty(x->t, *out) != VG_OK)) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

static struct tx_decision *decision_of(struct vg_triage *t, int64_t alert_id)
{
    size_t lo = 0, hi = t->ndec;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->dec[mid].a->id < alert_id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < t->ndec && t->dec[lo].a->id == alert_id ? &t->dec[lo] : NULL;
}

/*
 * An alert a new incident took from its trigger's window: its contributions to the other
 * entities do not know it yet, so the claim is remembered while they may be in a window.
 */
static int claim(struct vg_triage *t, const struct tx_contrib *c, int64_t incident_id)
{
    struct tx_claim k = {c->ts, c->alert_id};
    if (tx_map_put(&t->claimed, (uint64_t)c->alert_id, (void *)(uintptr_t)incident_id) != VG_OK) {
        return VG_ENOMEM;
    }
    if (t->claims_head > 1024 && t->claims_head * 2 > t->nclaims) {
        memmove(t->claims, t->claims + t->claims_head,
                (t->nclaims - t->claims_head) * sizeof(*t->claims));
        t->nclaims -= t->claims_head;
        t->claims_head = 0;
    }
    return PUSH(t, claims, nclaims, cclaims, k);
}

/* The trigger's window alerts not yet in an incident join the new incident. */
static int gather_window(struct tx_ctx *x, struct tx_incident *inc, struct tx_entity *trig)
{
    for (size_t i = trig->head; i < trig->n; i++) {
        struct tx_contrib *c = &trig->c[i];
        if (c->incident_id || c->alert_id == x->a->id) {
            continue;
        }
        uintptr_t had = (uintptr_t)tx_map_get(&x->t->claimed, (uint64_t)c->alert_id);
        if (had) { /* another entity's incident took it */
            c->incident_id = (int64_t)had;
            continue;
        }
        c->incident_id = inc->id;
        inc->alert_count++;
        inc->severity = VG_MAX(inc->severity, c->level);
        inc->tactics |= c->tactics;
        inc->first_seen = VG_MIN(inc->first_seen, c->ts);
        struct tx_decision *d = decision_of(x->t, c->alert_id);
        if (d && !d->incident_id) {
            d->incident_id = inc->id; /* in this batch: its row carries it */
        } else if (!d && record_join(x, inc, c->alert_id) != VG_OK) {
            return VG_ENOMEM;
        }
        if (claim(x->t, c, inc->id) != VG_OK) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

static int open_incident(struct tx_ctx *x, struct tx_entity *trig, bool by_risk)
{
    struct vg_triage *t = x->t;
    struct tx_incident *inc = vg_calloc(1, sizeof(*inc));
    char detail[384];
    uint16_t tmask;
    int ntac = entity_tactics(trig, x->ts - t->o.tactic_window, &tmask);
    if (by_risk) {
        snprintf(detail, sizeof(detail), "%s %.200s reached risk %.0f within the risk window",
                 tx_etype_name(trig->type), trig->value, trig->risk);
    } else {
        snprintf(detail, sizeof(detail),
                 "%s %.200s showed %d ATT&CK tactics within the tactic window",
                 tx_etype_name(trig->type), trig->value, ntac);
    }
    if (!inc || !(inc->tenant = vg_strdup(x->tenant)) ||
        !(inc->trig_value = vg_strdup(trig->value)) ||
        !(inc->reason = vg_strdup(by_risk ? "risk_threshold" : "tactics")) ||
        !(inc->reason_detail = vg_strdup(detail))) {
        tx_incident_free(inc);
        return VG_ENOMEM;
    }
    inc->id = t->next_incident++;
    inc->status = TX_ST_OPEN;
    inc->trig_type = trig->type;
    inc->created = inc->updated = vg_time_now();
    inc->first_seen = inc->last_seen = x->ts;
    inc->tactics = tmask;
    inc->risk = trig->risk - x->d->risk; /* join_alert adds the current alert's share */
    inc->opened = true;
    x->st->opened++;
    if (tx_map_put(&t->incs, (uint64_t)inc->id, inc) != VG_OK) {
        tx_incident_free(inc);
        return VG_ENOMEM;
    }
    int rc = tx_incident_add_entity(inc, trig->type, trig->value, 0);
    rc = rc ? rc : gather_window(x, inc, trig);
    rc = rc ? rc : tx_entity_own(inc, trig);
    return rc ? rc : join_alert(x, inc);
}

/* No live incident: does an entity cross a threshold? The riskiest one opens an incident. */
static int maybe_open(struct tx_ctx *x)
{
    struct vg_triage *t = x->t;
    struct tx_entity *best = NULL;
    bool by_risk = false;
    for (size_t i = 0; i < x->nents; i++) {
        struct tx_entity *e = x->ents[i].e;
        uint16_t m;
        bool over = e->risk >= (double)t->o.risk_threshold;
        bool tac = t->o.tactic_threshold > 0 &&
                   entity_tactics(e, x->ts - t->o.tactic_window, &m) >= t->o.tactic_threshold;
        if (!over && !tac) {
            continue;
        }
        /* a risk trigger beats a tactics one; then the riskier entity */
        if (!best || (over && !by_risk) || (over == by_risk && e->risk > best->risk)) {
            best = e;
            by_risk = over;
        }
    }
    return best ? open_incident(x, best, by_risk) : VG_OK;
}

static int triage_passed(struct tx_ctx *x)
{
    x->d->tactics = tx_tactics_parse(x->a->tags);
    int rc = collect_entities(x);
    rc = rc ? rc : add_risk(x);
    if (rc != VG_OK || !x->nents) {
        return rc;
    }
    struct tx_incident *inc;
    rc = find_incident(x, &inc);
    if (rc == VG_OK) {
        rc = inc ? join_alert(x, inc) : maybe_open(x);
    }
    return rc;
}

/* ---------------------------------------------------------------- exceptions */

static const struct tx_exc *exception_for(struct vg_triage *t, const char *tenant,
                                          const struct vg_store_alert *a, vg_time_t arrival)
{
    for (size_t i = 0; i < t->nexcs; i++) {
        const struct tx_exc *e = t->excs[i];
        if (strcmp(e->tenant, tenant) != 0 ||
            (strcmp(e->rule, "*") && strcmp(e->rule, a->rule_id))) {
            continue;
        }
        if (e->expires != VG_TIME_NONE && e->expires <= arrival) {
            continue;
        }
        vg_arena_reset(t->scratch);
        if (tx_exc_match(e, a, t->jp, t->scratch)) {
            return e;
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------- dedup and the batch */

/* Dedup: true when a is a duplicate (recorded); else f is (re)started with a. */
static int dedup(struct tx_ctx *x, struct tx_rule *r, bool *dup)
{
    struct vg_triage *t = x->t;
    struct tx_fp *f = tx_fp_add(t, x->d->fp);
    if (!f) {
        return VG_ENOMEM;
    }
    int64_t age = x->ts - f->first_ts;
    *dup = f->count > 0 && age < f->window && age > -f->window;
    if (*dup) {
        f->count++;
        f->last_ts = VG_MAX(f->last_ts, x->ts);
        x->d->dup_of = f->first_id;
        r->dups++;
        x->st->duplicates++;
        return f->dec_ix || !t->db ? VG_OK : fp_update(t, f);
    }
    if (f->dec_ix) { /* restarted within the batch: that first alert's counter is final */
        struct tx_decision *p = &t->dec[f->dec_ix - 1];
        p->f = NULL;
        p->dups = f->count - 1;
        p->last_ts = f->last_ts;
    }
    f->upd_ix = 0; /* a pending update of an earlier first alert keeps its final values */
    f->first_id = x->a->id;
    f->first_ts = f->last_ts = x->ts;
    f->count = 1;
    f->window = r->window;
    f->dec_ix = t->ndec; /* x->d is the last decision */
    x->d->f = f;
    x->d->win = r->window;
    return VG_OK;
}

static int triage_one(struct vg_triage *t, const struct vg_store_alert *a,
                      struct vg_triage_batch_stats *st)
{
    struct tx_decision d0 = {.a = a};
    if (PUSH(t, dec, ndec, cdec, d0) != VG_OK) {
        return VG_ENOMEM;
    }
    struct tx_ctx x = {.t = t, .a = a, .d = &t->dec[t->ndec - 1], .st = st};
    x.tenant = a->tenant && *a->tenant ? a->tenant : "default";
    x.ts = a->ts && a->ts != VG_TIME_NONE ? a->ts : a->created;
    x.d->ts = x.ts;
    t->clock = VG_MAX(t->clock, x.ts);
    struct tx_rule *r = rule_get(t, x.tenant, a->rule_id ? a->rule_id : "");
    if (!r) {
        return VG_ENOMEM;
    }
    r->alerts++;
    x.d->fp = fingerprint(x.tenant, a);
    bool dup;
    int rc = dedup(&x, r, &dup);
    if (rc != VG_OK || dup) {
        return rc;
    }
    const struct tx_exc *e = exception_for(t, x.tenant, a, a->created ? a->created : x.ts);
    if (e) {
        x.d->suppressed_by = e->id;
        r->suppressed++;
        st->suppressed++;
        return VG_OK;
    }
    st->passed++;
    return triage_passed(&x);
}

int tx_engine_batch(struct vg_triage *t, const struct vg_store_alert *a, size_t n,
                    struct vg_triage_batch_stats *st)
{
    for (size_t i = 0; i < n; i++) {
        st->seen++;
        if (a[i].id <= t->position) {
            st->skipped++;
            continue;
        }
        int rc = triage_one(t, &a[i], st);
        if (rc != VG_OK) {
            return rc;
        }
        t->position = a[i].id;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- reset */

static void free_entity(struct tx_entity *e)
{
    vg_free(e->c);
    vg_free(e->tenant);
    vg_free(e->value);
    vg_free(e);
}

static void free_rule(struct tx_rule *r)
{
    vg_free(r->tenant);
    vg_free(r->rule_id);
    vg_free(r);
}

void tx_engine_reset(struct vg_triage *t)
{
    tx_batch_clear(t);
    for (size_t i = 0; i < t->ents.cap; i++) {
        if (t->ents.keys[i]) {
            free_entity(t->ents.vals[i]);
        }
    }
    for (size_t i = 0; i < t->fps.cap; i++) {
        if (t->fps.keys[i]) {
            vg_free(t->fps.vals[i]);
        }
    }
    for (size_t i = 0; i < t->rules.cap; i++) {
        if (t->rules.keys[i]) {
            free_rule(t->rules.vals[i]);
        }
    }
    for (size_t i = 0; i < t->incs.cap; i++) {
        if (t->incs.keys[i]) {
            tx_incident_free(t->incs.vals[i]);
        }
    }
    for (size_t i = 0; i < t->nexcs; i++) {
        tx_exc_free(t->excs[i]);
    }
    t->nexcs = 0;
    tx_map_fini(&t->ents);
    tx_map_fini(&t->fps);
    tx_map_fini(&t->rules);
    tx_map_fini(&t->incs);
    tx_map_fini(&t->claimed);
    t->claims_head = t->nclaims = 0;
    t->max_win = 0;
    t->max_win_dirty = false;
    t->position = t->clock = t->last_sweep = 0;
    t->next_incident = t->next_exception = 1;
}

/* ---------------------------------------------------------------- pruning */

void tx_fp_sweep(struct vg_triage *t)
{
    for (size_t i = 0; i < t->fps.cap;) {
        struct tx_fp *f = t->fps.keys[i] ? t->fps.vals[i] : NULL;
        if (f && t->clock - f->first_ts >= f->window) {
            tx_map_del(&t->fps, f->fp); /* shifts a later entry into slot i: look again */
            vg_free(f);
            continue;
        }
        i++;
    }
}

static bool entity_idle(const struct vg_triage *t, struct tx_entity *e)
{
    uint16_t m;
    entity_prune(e, t->clock - t->o.risk_window);
    if (e->n > e->head || entity_tactics(e, t->clock - t->o.tactic_window, &m)) {
        return false;
    }
    return !e->incident_id || !tx_map_get(&t->incs, (uint64_t)e->incident_id);
}

/* Forget fingerprints and entities whose windows are over (between batches). */

void tx_engine_sweep(struct vg_triage *t)
{
    if (t->clock - t->last_sweep < 10LL * 60 * 1000000000LL) {
        return;
    }
    t->last_sweep = t->clock;
    tx_fp_sweep(t);
    while (t->claims_head < t->nclaims &&
           t->claims[t->claims_head].ts < t->clock - t->o.risk_window) {
        tx_map_del(&t->claimed, (uint64_t)t->claims[t->claims_head++].alert_id);
    }
    for (size_t i = 0; i < t->ents.cap;) {
        struct tx_entity *e = t->ents.keys[i] ? t->ents.vals[i] : NULL;
        if (e && entity_idle(t, e)) {
            tx_map_del(&t->ents, e->key);
            free_entity(e);
            continue;
        }
        i++;
    }
}
