/*
 * server_soc.c — the SOC layer of `vigie server`: triage, cases, playbooks and the audit log
 * wired to the pipeline.
 *
 *   pipeline writer ── stores alerts ──▶ store (alerts table)
 *        │ after_alerts (wake)                 │ read after the triage position
 *        ▼                                     ▼
 *   triage consumer: dedup → exceptions → risk → incidents   (DATA/triage.db)
 *        │ hooks, before each batch commits
 *        ▼
 *   playbook engine: a run per matching playbook, idempotent per alert/incident (DATA/runs.db)
 *        │ actions
 *        ▼
 *   nftables, webhooks, responders, mail, cases (DATA/cases.db) ── every change ──▶ audit.db
 *
 * Exactly once across crashes: the triage batch commits after the hooks created their runs;
 * a batch replayed after a crash triggers again, and the engine's unique (playbook, source)
 * key turns the second trigger into nothing.
 */
#include "server/server_int.h"

#include "alert/alert.h"
#include "api/api.h"
#include "audit/audit.h"
#include "case/case.h"
#include "fleet/fleet.h"
#include "respond/respond.h"
#include "respond/respond_action.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct vg_server_soc {
    struct vg_audit *audit;
    struct vg_fleet *fleet; /* agents (NULL: fleet.listen empty) */
    struct vg_case_db *cases;
    struct vg_respond *respond;
    struct vg_triage *triage;
    struct vg_respond_services svc;
    bool started;
};

static const char *opt_str(const char *s)
{
    return s && *s ? s : NULL;
}

/* ---------------------------------------------------------------- triage hooks */

static int on_alert(void *ctx, const struct vg_triage_alert_out *a)
{
    struct vg_server_soc *soc = ctx;
    char key[48], err[512];
    snprintf(key, sizeof(key), "alert:%" PRId64, a->alert->id);
    int rc = vg_respond_trigger(soc->respond, "alert", a->alert->tenant, a->json, key, NULL, err,
                                sizeof(err));
    if (rc != VG_OK) {
        VG_WARN("respond", "alert %" PRId64 ": cannot start playbooks: %s (retrying)", a->alert->id,
                err);
    }
    return rc;
}

static int on_incident(void *ctx, const struct vg_triage_incident_out *inc, bool opened)
{
    struct vg_server_soc *soc = ctx;
    struct vg_sbuf ctxj = VG_SBUF_INIT;
    char key[48], err[512];
    (void)opened;
    snprintf(key, sizeof(key), "incident:%" PRId64, inc->id);
    vg_sbuf_adds(&ctxj, "{\"incident\":");
    vg_sbuf_add(&ctxj, inc->json, inc->json_len);
    vg_sbuf_addc(&ctxj, '}');
    int rc = ctxj.err ? ctxj.err
                      : vg_respond_trigger(soc->respond, "incident", inc->tenant, ctxj.p, key, NULL,
                                           err, sizeof(err));
    if (rc != VG_OK) {
        VG_WARN("respond", "incident %" PRId64 ": cannot start playbooks: %s (retrying)", inc->id,
                ctxj.err ? vg_strerror(rc) : err);
    }
    vg_sbuf_fini(&ctxj);
    return rc;
}

/* ---------------------------------------------------------------- playbooks */

/* The shipped playbooks, unless a file of playbooks.dir already defines the same id. */
static void put_builtin_playbooks(struct vg_server_soc *soc)
{
    for (const struct vg_builtin_playbook *b = vg_builtin_playbook_table; b->path; b++) {
        struct vg_playbook *pb = NULL;
        struct vg_sbuf cur = VG_SBUF_INIT;
        char err[512];
        if (vg_playbook_parse(b->path, b->text, b->len, &pb, err, sizeof(err)) != VG_OK) {
            VG_ERR("respond", "shipped playbook %s: %s", b->path, err);
            continue;
        }
        if (vg_respond_playbook_json(soc->respond, vg_playbook_id(pb), &cur) == VG_ENOENT &&
            vg_respond_playbook_put(soc->respond, b->path, b->text, b->len, err, sizeof(err)) !=
                VG_OK) {
            VG_ERR("respond", "shipped playbook %s: %s", b->path, err);
        }
        vg_sbuf_fini(&cur);
        vg_playbook_unref(pb);
    }
}

static int open_respond(struct vg_server *s, struct vg_server_soc *soc, char *err, size_t errsz)
{
    const struct vg_server_conf *c = s->c;
    soc->svc = (struct vg_respond_services){
        .cases = soc->cases,
        .audit = soc->audit,
        .nft_table = opt_str(c->nft_table),
        .smtp_url = opt_str(c->smtp_url),
        .smtp_from = opt_str(c->smtp_from),
        .responders_dir = opt_str(c->responders_dir),
        .contain_dry_run = !c->respond_contain,
        .fleet = soc->fleet,
        .intel_lookup = s->intel ? vg_server_intel_lookup : NULL,
        .intel_ctx = s->intel,
    };
    struct vg_respond_opts ro = {
        .data_dir = c->data_dir,
        .workers = (unsigned)c->playbook_workers,
        .svc = &soc->svc,
        .playbook_dir = opt_str(c->playbooks_dir),
    };
    char e[512];
    int rc = vg_respond_create(&ro, &soc->respond, e, sizeof(e));
    if (rc != VG_OK) {
        snprintf(err, errsz, "playbooks: %s", e);
        return rc;
    }
    if (c->playbooks_builtin) {
        put_builtin_playbooks(soc);
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- agents */

static int open_fleet(struct vg_server *s, struct vg_server_soc *soc, char *err, size_t errsz)
{
    const struct vg_server_conf *c = s->c;
    if (!c->fleet_listen || !*c->fleet_listen) {
        return VG_OK;
    }
    struct vg_fleet_opts fo = {
        .data_dir = c->data_dir,
        .journal = s->j,
        .audit = soc->audit,
        .listen = c->fleet_listen,
        .endpoint = opt_str(c->fleet_endpoint),
        .hostnames = (const char *const *)c->fleet_hostnames.v,
        .nhostnames = c->fleet_hostnames.n,
        .input = s->fleet_input,
    };
    char e[512];
    int rc = vg_fleet_create(&fo, &soc->fleet, e, sizeof(e));
    if (rc != VG_OK) {
        snprintf(err, errsz, "fleet: %s", e);
    }
    return rc;
}

/* ---------------------------------------------------------------- lifecycle */

static int open_db(const char *dir, const char *name, char *path, size_t size)
{
    int n = snprintf(path, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size ? VG_OK : VG_EINVAL;
}

int vg_server_soc_create(struct vg_server *s, char *err, size_t errsz)
{
    const struct vg_server_conf *c = s->c;
    struct vg_server_soc *soc = vg_calloc(1, sizeof(*soc));
    char path[4096], e[512];
    if (!soc) {
        return VG_ENOMEM;
    }
    s->soc = soc;
    int rc = open_db(c->data_dir, "audit.db", path, sizeof(path));
    rc = rc == VG_OK ? vg_audit_open(path, &soc->audit, e, sizeof(e)) : rc;
    if (rc == VG_OK) {
        vg_server_intel_set_audit(s->intel, soc->audit);
        vg_server_vuln_set_audit(s->vuln, soc->audit);
    }
    if (rc == VG_OK && (rc = open_db(c->data_dir, "cases.db", path, sizeof(path))) == VG_OK) {
        rc = vg_case_db_open(path, s->st, soc->audit, &soc->cases, e, sizeof(e));
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s", e);
        return rc;
    }
    if ((rc = open_fleet(s, soc, err, errsz)) != VG_OK) {
        return rc;
    }
    if ((rc = open_respond(s, soc, err, errsz)) != VG_OK) {
        return rc;
    }
    if (c->triage_enabled) {
        rc = vg_triage_open(c->data_dir, &c->triage, soc->audit, &soc->triage, e, sizeof(e));
        if (rc != VG_OK) {
            snprintf(err, errsz, "triage: %s", e);
            return rc;
        }
        vg_triage_set_store(soc->triage, s->st);
    }
    return VG_OK;
}

int vg_server_soc_start(struct vg_server *s, struct vg_api *api, char *err, size_t errsz)
{
    struct vg_server_soc *soc = s->soc;
    int rc = VG_OK;
    if (api) {
        rc = vg_audit_api_register(soc->audit, api);
        rc = rc == VG_OK ? vg_case_api_register(soc->cases, api) : rc;
        rc = rc == VG_OK ? vg_respond_api_register(soc->respond, api) : rc;
        rc = rc == VG_OK && soc->triage ? vg_alert_api_register(soc->triage, api) : rc;
        rc = rc == VG_OK && soc->fleet ? vg_fleet_api_register(soc->fleet, api) : rc;
        if (rc != VG_OK) {
            snprintf(err, errsz, "http: cannot register the SOC endpoints: %s", vg_strerror(rc));
            return rc;
        }
    }
    return VG_OK;
}

/* The consumer starts after the API is up (it may run playbooks at once). */
int vg_server_soc_run(struct vg_server *s, char *err, size_t errsz)
{
    struct vg_server_soc *soc = s->soc;
    char e[512];
    if (soc->fleet && vg_fleet_start(soc->fleet, e, sizeof(e)) != VG_OK) {
        snprintf(err, errsz, "fleet: %s", e);
        return VG_ERROR;
    }
    if (!soc->triage || soc->started) {
        return VG_OK;
    }
    struct vg_triage_hooks h = {.on_alert = on_alert, .on_incident = on_incident, .ctx = soc};
    int rc = vg_triage_start(soc->triage, s->st, &h);
    if (rc != VG_OK) {
        snprintf(err, errsz, "triage: cannot start the consumer: %s", vg_strerror(rc));
        return rc;
    }
    soc->started = true;
    return VG_OK;
}

void vg_server_soc_notify(void *server)
{
    struct vg_server *s = server;
    if (s->soc && s->soc->triage) {
        vg_triage_notify(s->soc->triage);
    }
}

void vg_server_soc_stop(struct vg_server *s)
{
    if (!s->soc) {
        return;
    }
    if (s->soc->triage) {
        vg_triage_stop(s->soc->triage);
    }
    if (s->soc->respond) {
        vg_respond_stop(s->soc->respond);
    }
    if (s->soc->fleet) {
        vg_fleet_stop(s->soc->fleet);
    }
}

void vg_server_soc_destroy(struct vg_server *s)
{
    struct vg_server_soc *soc = s->soc;
    if (!soc) {
        return;
    }
    vg_server_soc_stop(s);
    vg_triage_destroy(soc->triage);
    vg_respond_destroy(soc->respond);
    vg_fleet_destroy(soc->fleet);
    vg_case_db_close(soc->cases);
    vg_audit_close(soc->audit);
    vg_free(soc);
    s->soc = NULL;
}

int vg_server_fleet_port(const struct vg_server *s)
{
    return s->soc && s->soc->fleet ? vg_fleet_port(s->soc->fleet) : 0;
}

struct vg_triage *vg_server_triage(struct vg_server *s)
{
    return s->soc ? s->soc->triage : NULL;
}

struct vg_audit *vg_server_audit(struct vg_server *s)
{
    return s->soc ? s->soc->audit : NULL;
}

/* ---------------------------------------------------------------- demo summary */

/* A string member (length in *n; "" when absent). */
static const char *jstr(const struct vg_json *o, const char *k, int *n)
{
    const struct vg_json *v = vg_json_get(o, k);
    bool ok = v && v->type == VG_JSON_STRING;
    *n = ok ? (int)VG_MIN(v->n, 120) : 0;
    return ok ? v->s : "";
}

static double jnum(const struct vg_json *o, const char *k)
{
    const struct vg_json *v = vg_json_get(o, k);
    if (!v || v->type != VG_JSON_NUMBER) {
        return 0;
    }
    return v->is_int ? (double)v->u.i : v->u.d;
}

/* Parse text and print each object of its array member `key` with fn. */
static void print_list(const char *text, size_t len, const char *key, FILE *out,
                       void (*fn)(const struct vg_json *o, FILE *out))
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(16384);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char err[128];
    if (p && a && vg_json_parse(p, a, text, len, &used, &doc, err, sizeof(err)) == VG_OK) {
        const struct vg_json *l = vg_json_get(doc, key);
        size_t n = l && l->type == VG_JSON_ARRAY ? l->n : 0;
        for (size_t i = 0; i < n; i++) {
            fn(&l->u.items[i], out);
        }
        if (!n) {
            fprintf(out, "  (none)\n");
        }
    }
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
}

static void print_incident(const struct vg_json *o, FILE *out)
{
    int n1, n2, n3;
    const char *sev = jstr(o, "severity_name", &n1), *st = jstr(o, "status", &n2);
    const char *title = jstr(o, "title", &n3);
    fprintf(out, "  #%-4.0f risk %-5.0f %-8.*s %-6.*s %.*s\n", jnum(o, "id"), jnum(o, "risk"), n1,
            sev, n2, st, n3, title);
}

static void print_run(const struct vg_json *o, FILE *out)
{
    int n1, n2, n3, n4;
    const char *id = jstr(o, "id", &n1), *pb = jstr(o, "playbook", &n2);
    const char *st = jstr(o, "status", &n3), *src = jstr(o, "source", &n4);
    fprintf(out, "  %-6.*s %-28.*s %-10.*s from %.*s\n", n1, id, n2, pb, n3, st, n4, src);
}

void vg_server_soc_summary(struct vg_server *s, FILE *out)
{
    struct vg_server_soc *soc = s->soc;
    struct vg_sbuf b = VG_SBUF_INIT;
    if (!soc || !soc->triage) {
        return;
    }
    vg_triage_wait_idle(soc->triage, 10000);
    vg_respond_wait_idle(soc->respond, 10000);
    if (vg_triage_incidents_json(soc->triage, "default", NULL, 10, &b) == VG_OK && !b.err) {
        fprintf(out, "Incidents (triage: dedup, risk, grouping; vigie incident list):\n");
        print_list(b.p, b.len, "incidents", out, print_incident);
    }
    vg_sbuf_reset(&b);
    struct vg_respond_run_filter f = {.limit = 10};
    if (vg_respond_runs_json(soc->respond, "default", &f, &b) == VG_OK && !b.err) {
        fprintf(out, "\nPlaybook runs (containment steps only describe themselves in the demo; "
                     "vigie run list, vigie case list):\n");
        print_list(b.p, b.len, "runs", out, print_run);
    }
    fprintf(out, "\n");
    vg_sbuf_fini(&b);
}
