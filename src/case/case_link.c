/*
 * case_link.c — linking alerts and incidents to a case, and extracting observables from the
 * linked alerts.
 *
 * Each alert is read from the store (same tenant) before anything is written; a missing one
 * fails the whole call. Its summary (rule, title, level, tags, ATT&CK ids, entities) is
 * copied into case_alerts so the report does not need the store, and its entities plus the
 * ECS fields of its event (source.ip, url.full, file.hash.sha256, ...) become observables,
 * sighted, tagged with the alert id. Incidents are kept as links only: the caller passes
 * their alerts' ids.
 */
#include "case/case_int.h"

#include "store/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define LINK_MAX 1000 /* alerts or incidents per call */

/* ECS fields read from an alert's event, and the observable type each becomes. */
static const struct {
    const char *field;
    const char *type;
} ecs_fields[] = {
    {"source.ip", "ip"},
    {"destination.ip", "ip"},
    {"client.ip", "ip"},
    {"server.ip", "ip"},
    {"host.ip", "ip"},
    {"host.name", "hostname"},
    {"host.hostname", "hostname"},
    {"user.name", "user"},
    {"user.target.name", "user"},
    {"url.full", "url"},
    {"url.original", "url"},
    {"url.domain", "domain"},
    {"dns.question.name", "fqdn"},
    {"destination.domain", "fqdn"},
    {"file.hash.md5", "hash"},
    {"file.hash.sha1", "hash"},
    {"file.hash.sha256", "hash"},
    {"process.hash.md5", "hash"},
    {"process.hash.sha1", "hash"},
    {"process.hash.sha256", "hash"},
    {"email.from.address", "mail"},
    {"email.to.address", "mail"},
    {"email.sender.address", "mail"},
    {"email.reply_to.address", "mail"},
    {"user.email", "mail"},
    {"file.name", "filename"},
    {"process.executable", "filename"},
    {"user_agent.original", "user-agent"},
};

/* An alert copied out of the store's callback. */
struct link_alert {
    struct vg_store_alert a;
    bool found;
    struct vg_arena *arena;
};

static const char *adup(struct vg_arena *a, const char *s)
{
    return s ? vg_arena_strdup(a, s) : NULL;
}

static int on_alert(void *ctx, const struct vg_store_alert *a)
{
    struct link_alert *l = ctx;
    struct vg_arena *ar = l->arena;
    l->a = *a;
    l->a.tenant = adup(ar, a->tenant);
    l->a.rule_id = adup(ar, a->rule_id);
    l->a.title = adup(ar, a->title);
    l->a.tags = adup(ar, a->tags);
    l->a.attack = adup(ar, a->attack);
    l->a.host = adup(ar, a->host);
    l->a.user = adup(ar, a->user);
    l->a.src_ip = adup(ar, a->src_ip);
    l->a.dst_ip = adup(ar, a->dst_ip);
    l->a.process = adup(ar, a->process);
    l->a.event_json = adup(ar, a->event_json);
    l->found = true;
    return VG_OK;
}

static int fetch_alerts(struct vg_case_db *db, const char *tenant, const int64_t *ids, size_t n,
                        struct link_alert *out, struct vg_arena *ar, char *err, size_t errsz)
{
    for (size_t i = 0; i < n; i++) {
        out[i].arena = ar;
        struct vg_store_alert_query q = {
            .tenant = tenant,
            .from = VG_TIME_NONE,
            .to = VG_TIME_NONE,
            .id = ids[i],
            .limit = 1,
            .on_alert = on_alert,
            .ctx = &out[i],
        };
        int rc = ids[i] > 0 ? vg_store_alert_query(db->store, &q, err, errsz) : VG_OK;
        if (rc != VG_OK) {
            return rc;
        }
        if (!out[i].found) {
            snprintf(err, errsz, "cases: alert %" PRId64 " not found", ids[i]);
            return VG_ENOENT;
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- extraction */

struct extract {
    struct vg_case_db *db;
    int64_t case_id;
    char source[48];
    char tags[64];
    size_t added;
};

/* Add one extracted value; values that do not fit their type are skipped, not errors. */
static int extract_one(struct extract *x, const char *type, const char *v, size_t n)
{
    char err[256];
    bool added = false;
    if (!n || n > CASE_VALUE_MAX || memchr(v, '\0', n)) {
        return VG_OK;
    }
    char *val = vg_strndup(v, n);
    if (!val) {
        return VG_ENOMEM;
    }
    struct vg_case_observable o = {
        .type = type,
        .value = val,
        .ioc = -1,
        .sighted = true,
        .tags = x->tags,
        .message = "",
    };
    int rc = case_observable_put(x->db, x->case_id, &o, x->source, NULL, &added, err, sizeof(err));
    vg_free(val);
    x->added += added;
    return rc == VG_EINVAL ? VG_OK : rc;
}

/* A member by dotted name: a flat key ("source.ip") or nested objects, or a mix. */
static const struct vg_json *json_path(const struct vg_json *obj, const char *path, size_t n)
{
    if (!obj || obj->type != VG_JSON_OBJECT) {
        return NULL;
    }
    for (uint32_t i = 0; i < obj->n; i++) {
        const struct vg_json *k = &obj->u.items[2 * i];
        if (k->n == n && !memcmp(k->s, path, n)) {
            return &obj->u.items[2 * i + 1];
        }
    }
    for (const char *dot = memchr(path, '.', n); dot;
         dot = memchr(dot + 1, '.', n - (size_t)(dot + 1 - path))) {
        size_t kl = (size_t)(dot - path);
        for (uint32_t i = 0; i < obj->n; i++) {
            const struct vg_json *k = &obj->u.items[2 * i];
            if (k->n == kl && !memcmp(k->s, path, kl)) {
                const struct vg_json *r = json_path(&obj->u.items[2 * i + 1], dot + 1, n - kl - 1);
                if (r) {
                    return r;
                }
            }
        }
    }
    return NULL;
}

static int extract_value(struct extract *x, const char *type, const struct vg_json *v)
{
    int rc = VG_OK;
    if (v->type == VG_JSON_STRING) {
        return extract_one(x, type, v->s, v->n);
    }
    for (uint32_t i = 0; v->type == VG_JSON_ARRAY && i < v->n && i < 64 && rc == VG_OK; i++) {
        if (v->u.items[i].type == VG_JSON_STRING) {
            rc = extract_one(x, type, v->u.items[i].s, v->u.items[i].n);
        }
    }
    return rc;
}

static int extract_event(struct extract *x, const char *json)
{
    struct vg_arena *a = vg_arena_create(16384);
    struct vg_json *doc = NULL;
    char e[160];
    if (!a) {
        return VG_ENOMEM;
    }
    int rc = case_json_parse(json, strlen(json), a, &doc, e, sizeof(e));
    if (rc != VG_OK) {
        vg_arena_destroy(a);
        return rc == VG_ENOMEM ? rc : VG_OK; /* an unreadable event adds nothing */
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(ecs_fields) && rc == VG_OK; i++) {
        const char *f = ecs_fields[i].field;
        const struct vg_json *v = json_path(doc, f, strlen(f));
        rc = v ? extract_value(x, ecs_fields[i].type, v) : VG_OK;
    }
    vg_arena_destroy(a);
    return rc;
}

static int extract_alert(struct extract *x, const struct vg_store_alert *a)
{
    const struct {
        const char *type;
        const char *v;
    } ents[] = {
        {"hostname", a->host}, {"user", a->user},        {"ip", a->src_ip},
        {"ip", a->dst_ip},     {"filename", a->process},
    };
    int rc = VG_OK;
    snprintf(x->source, sizeof(x->source), "alert:%" PRId64, a->id);
    snprintf(x->tags, sizeof(x->tags), "[\"alert:%" PRId64 "\"]", a->id);
    for (size_t i = 0; i < VG_ARRAY_LEN(ents) && rc == VG_OK; i++) {
        rc = ents[i].v ? extract_one(x, ents[i].type, ents[i].v, strlen(ents[i].v)) : VG_OK;
    }
    return rc == VG_OK && a->event_json ? extract_event(x, a->event_json) : rc;
}

/* ---------------------------------------------------------------- linking */

static int link_alert_row(struct vg_case_db *db, int64_t case_id, const struct vg_store_alert *a,
                          bool *is_new, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db,
                          "INSERT OR IGNORE INTO case_alerts(case_id, alert_id, ts, rule_id,"
                          " title, level, tags, attack, host, user, src_ip, dst_ip, process,"
                          " linked) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          &st, "link alert", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, a->id);
    sqlite3_bind_int64(st, 3, a->ts);
    case_bind_text(st, 4, a->rule_id);
    case_bind_text(st, 5, a->title);
    sqlite3_bind_int(st, 6, a->level);
    case_bind_text(st, 7, a->tags);
    case_bind_text(st, 8, a->attack);
    case_bind_text(st, 9, a->host);
    case_bind_text(st, 10, a->user);
    case_bind_text(st, 11, a->src_ip);
    case_bind_text(st, 12, a->dst_ip);
    case_bind_text(st, 13, a->process);
    sqlite3_bind_int64(st, 14, vg_time_now());
    rc = case_step_done(db, st, "link alert", err, errsz);
    *is_new = rc == VG_OK && sqlite3_changes(db->db) > 0;
    return rc;
}

static int link_incident_row(struct vg_case_db *db, int64_t case_id, int64_t inc, bool *is_new,
                             char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db,
                          "INSERT OR IGNORE INTO case_incidents(case_id, incident_id, linked)"
                          " VALUES(?, ?, ?)",
                          &st, "link incident", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, case_id);
    sqlite3_bind_int64(st, 2, inc);
    sqlite3_bind_int64(st, 3, vg_time_now());
    rc = case_step_done(db, st, "link incident", err, errsz);
    *is_new = rc == VG_OK && sqlite3_changes(db->db) > 0;
    return rc;
}

static int link_all(struct vg_case_db *db, const struct case_write *w, int64_t id,
                    const struct link_alert *al, size_t na, const int64_t *inc, size_t ni,
                    struct vg_case_link_result *res, struct vg_sbuf *d, char *err, size_t errsz)
{
    struct extract x = {.db = db, .case_id = id};
    int rc = VG_OK;
    bool is_new = false;
    vg_sbuf_adds(d, "{\"alerts\":[");
    for (size_t i = 0; i < na && rc == VG_OK; i++) {
        rc = link_alert_row(db, id, &al[i].a, &is_new, err, errsz);
        if (rc == VG_OK && is_new) {
            vg_sbuf_printf(d, "%s%" PRId64, res->alerts_linked++ ? "," : "", al[i].a.id);
            rc = extract_alert(&x, &al[i].a);
        }
    }
    vg_sbuf_adds(d, "],\"incidents\":[");
    for (size_t i = 0; i < ni && rc == VG_OK; i++) {
        rc = link_incident_row(db, id, inc[i], &is_new, err, errsz);
        if (rc == VG_OK && is_new) {
            vg_sbuf_printf(d, "%s%" PRId64, res->incidents_linked++ ? "," : "", inc[i]);
        }
    }
    res->observables_added = x.added;
    vg_sbuf_printf(d, "],\"observables_added\":%zu}", x.added);
    if (rc == VG_OK && (res->alerts_linked || res->incidents_linked)) {
        char text[160];
        snprintf(text, sizeof(text), "%zu alert(s) and %zu incident(s) linked, %zu observable(s)",
                 res->alerts_linked, res->incidents_linked, x.added);
        rc = case_timeline_put(db, id, w->actor, "alert_linked", text, d->p, err, errsz);
    }
    return rc ? rc : d->err;
}

static int check_link_args(struct vg_case_db *db, size_t na, const int64_t *inc, size_t ni,
                           char *err, size_t errsz)
{
    if (na && !db->store) {
        snprintf(err, errsz, "cases: no alert store to link alerts from");
        return VG_EUNSUPPORTED;
    }
    if (na > LINK_MAX || ni > LINK_MAX) {
        snprintf(err, errsz, "cases: at most %d alerts and %d incidents per call", LINK_MAX,
                 LINK_MAX);
        return VG_EINVAL;
    }
    if (!na && !ni) {
        snprintf(err, errsz, "cases: field 'alert_ids': nothing to link");
        return VG_EINVAL;
    }
    for (size_t i = 0; i < ni; i++) {
        if (inc[i] <= 0) {
            snprintf(err, errsz, "cases: field 'incident_ids': ids are positive integers");
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

int vg_case_link(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                 const int64_t *alert_ids, size_t nalerts, const int64_t *incident_ids,
                 size_t nincidents, struct vg_case_link_result *res, char *err, size_t errsz)
{
    struct vg_case_link_result r0 = {0};
    struct link_alert *al = NULL;
    struct vg_arena *ar = NULL;
    struct vg_sbuf d = VG_SBUF_INIT;
    struct case_write w;
    res = res ? res : &r0;
    memset(res, 0, sizeof(*res));
    int rc = check_link_args(db, nalerts, incident_ids, nincidents, err, errsz);
    if (rc == VG_OK) {
        al = vg_calloc(nalerts ? nalerts : 1, sizeof(*al));
        ar = vg_arena_create(65536);
        rc = al && ar ? VG_OK : VG_ENOMEM;
    }
    rc = rc ? rc : case_write_begin(db, op, &w, err, errsz);
    if (rc == VG_OK) {
        /* a replay answers without reading the store (its alerts may have expired since) */
        int wrc = w.replayed ? VG_OK : case_lookup_open(db, w.tenant, id, err, errsz);
        if (wrc == VG_OK && !w.replayed) {
            wrc = fetch_alerts(db, w.tenant, alert_ids, nalerts, al, ar, err, errsz);
        }
        if (wrc == VG_OK && !w.replayed) {
            wrc = link_all(db, &w, id, al, nalerts, incident_ids, nincidents, res, &d, err, errsz);
        }
        bool changed = res->alerts_linked || res->incidents_linked;
        rc = case_write_end(&w, wrc, id, changed ? "case.link" : NULL, id, d.p, err, errsz);
    }
    vg_free(al);
    vg_arena_destroy(ar);
    vg_sbuf_fini(&d);
    return rc;
}
