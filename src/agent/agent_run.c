/*
 * agent_run.c — the agent's run loop: collectors → spool → transport → server, and the
 * server's verified commands → response actions (see agent_run.h).
 *
 * Every event goes through the spool before anything is sent, so a server that is away, a
 * restart of the agent or a broken connection never loses one: the transport replays from
 * the last acknowledged sequence. Commands are verified by the transport (Ed25519 signature
 * of the server's command key, this agent's id, expiry, replay window) before they reach
 * on_command here.
 *
 * Remote configuration (agent_rconf.h): a CONFIG frame from the server is stored in
 * STATE/remote-config.json (used at the next start instead of the local file's collectors)
 * and applied at once on the transport's thread: collectors whose settings changed are
 * stopped and started again, those no longer listed stopped, new ones started; a change of
 * yara's "rules" alone swaps the rule set without a restart. The result is reported as an
 * event (event.dataset "agent", event.action "config_applied", agent.collectors = the
 * collector → backend map, agent.config.errors) that the server also records in its
 * registry; the next HELLO carries the new map (the transport is restarted with it once
 * the current session has ended).
 *
 * While a yara collector runs, files FIM reports created or modified and the executable of
 * every exec are queued for a YARA scan (fim_emit), so a rule pushed with the configuration
 * fires on a file dropped into a watched path or a program as it starts.
 */
#include "agent/agent_rconf.h"
#include "agent/agent_resp.h"
#include "agent/agent_run.h"
#include "agent/agent_spool.h"
#include "agent/agent_transport.h"
#include "agent/agent_wire.h"
#include "agent/agent_yara.h"
#include "event/event.h"

#include <pthread.h>
#include <stdatomic.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define MAX_COLLECTORS 8
#define MAX_IPS        16

static const char *const default_collectors[] = {"process", "fim", "network", "inventory"};

struct agent {
    const struct vg_agent_run_opts *o;
    struct vg_arena *arena;
    struct vg_agent_spool *spool;
    struct vg_agent_cmd_verifier *verifier;
    struct vg_agent_transport *transport;
    /* collectors: changed only by the thread that starts them (main at start, then the
       transport's on_config) while no other thread reads them, except as noted */
    const struct vg_agent_collector_def *defs[MAX_COLLECTORS];
    struct vg_agent_collector *cols[MAX_COLLECTORS];
    char *canon[MAX_COLLECTORS]; /* canonical settings each was started with */
    char *yrules;                /* yara's pushed rule text (NULL: none) */
    size_t ncols;
    struct vg_agent_rconf *rconf; /* the remote configuration in force (NULL: local file) */
    pthread_mutex_t mu;           /* guards scan_rules, cols_json, hello_cols */
    struct vg_agent_yara_rules *scan_rules; /* the yara collector's, for the scan action */
    atomic_bool yara_on;                    /* a yara collector runs: FIM changes go to it */
    char *cols_json;                        /* collector → backend now */
    char *hello_cols;                       /* ... as the transport's HELLO says it */
    struct vg_agent_resp_opts resp;
    const char *agent_id, *endpoint;
    char host[256], port[16];
};

/* What to run: a collector name and its settings (NULL: defaults). */
struct want {
    char name[64];
    const struct vg_yaml_node *conf;
};

/* ---------------------------------------------------------------- state */

static int read_state(struct agent *a, char *err, size_t errsz)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_json *doc = NULL;
    size_t used = 0;
    snprintf(path, sizeof(path), "%s/agent.json", a->o->state_dir);
    int rc = vg_file_read(path, 1 << 16, &text, &len);
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s (enrol first: vigie-agent enroll)", path, vg_strerror(rc));
    } else if ((rc = vg_json_parse(p, a->arena, text, len, &used, &doc, err, errsz)) == VG_OK) {
        const struct vg_json *id = vg_json_get(doc, "agent_id"), *ep = vg_json_get(doc, "endpoint");
        if (!id || id->type != VG_JSON_STRING || !ep || ep->type != VG_JSON_STRING) {
            snprintf(err, errsz, "%s: agent_id or endpoint missing", path);
            rc = VG_EINVAL;
        } else {
            a->agent_id = vg_arena_strndup(a->arena, id->s, id->n);
            a->endpoint = vg_arena_strndup(a->arena, ep->s, ep->n);
        }
    }
    vg_free(text);
    vg_json_parser_destroy(p);
    return rc;
}

/* "host:port" or "[v6]:port" into a->host / a->port. */
static int split_endpoint(struct agent *a, const char *ep, char *err, size_t errsz)
{
    const char *colon = strrchr(ep, ':');
    size_t hl = colon ? (size_t)(colon - ep) : 0;
    if (hl && ep[0] == '[' && ep[hl - 1] == ']') {
        ep++;
        hl -= 2;
    }
    if (!colon || !hl || hl >= sizeof(a->host) || strlen(colon + 1) >= sizeof(a->port) ||
        !colon[1]) {
        snprintf(err, errsz, "endpoint '%s': expected host:port", ep);
        return VG_EINVAL;
    }
    memcpy(a->host, ep, hl);
    a->host[hl] = '\0';
    vg_strlcpy(a->port, colon + 1, sizeof(a->port));
    return VG_OK;
}

/* ---------------------------------------------------------------- collectors */

static void set_scan_rules(struct agent *a, struct vg_agent_yara_rules *r)
{
    pthread_mutex_lock(&a->mu);
    struct vg_agent_yara_rules *old = a->scan_rules;
    a->scan_rules = r;
    pthread_mutex_unlock(&a->mu);
    vg_agent_yara_rules_unref(old);
}

/* resp.yara_rules: a reference to the running yara collector's rules. */
static struct vg_agent_yara_rules *scan_rules_get(void *ctx)
{
    struct agent *a = ctx;
    pthread_mutex_lock(&a->mu);
    struct vg_agent_yara_rules *r = vg_agent_yara_rules_ref(a->scan_rules);
    pthread_mutex_unlock(&a->mu);
    return r;
}

/*
 * yara's settings may carry "rules" (rule text pushed by the server or written in the local
 * file), which its collector table does not hold: it is taken out of the section and handed
 * over with vg_agent_yara_set_rules. The scan action uses the same rules (or rules_dir).
 */
static int yara_rules_apply(struct agent *a, struct vg_agent_collector *c, const char *text,
                            const struct vg_yaml_node *conf, char *err, size_t errsz)
{
    struct vg_agent_yara_rules *r = NULL;
    const struct vg_yaml_node *dir = vg_yaml_get(conf, "rules_dir");
    int rc = VG_OK;
    if (text) {
        rc = vg_agent_yara_set_rules(c, text, strlen(text), "pushed", err, errsz);
        rc = rc ? rc : vg_agent_yara_compile(text, strlen(text), "pushed", &r, err, errsz);
    } else if (dir && dir->type == VG_YAML_SCALAR && dir->len) {
        rc = vg_agent_yara_load_dir(dir->str, &r, err, errsz);
    } else {
        rc = vg_agent_yara_compile("", 0, "empty", &r, err, errsz);
    }
    set_scan_rules(a, rc == VG_OK ? r : NULL);
    return rc;
}

/* The "rules" text of a yara section into *text (vg_strdup; NULL when absent). */
static int yara_rules_text(const struct vg_yaml_node *rules, char **text, char *err, size_t errsz)
{
    *text = NULL;
    if (!rules || vg_yaml_is_null(rules)) {
        return VG_OK;
    }
    if (rules->type != VG_YAML_SCALAR) {
        snprintf(err, errsz, "yara: rules: expected YARA rule text");
        return VG_EINVAL;
    }
    *text = vg_strdup(rules->str);
    return *text ? VG_OK : VG_ENOMEM;
}

/* Hand the path in member key of the event to the yara collector (reason for its event). */
static void yara_hand(const char *json, size_t len, const char *key, const char *reason)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *ar = vg_arena_create(4096);
    struct vg_json *doc = NULL;
    size_t used = 0;
    char err[64];
    if (p && ar && vg_json_parse(p, ar, json, len, &used, &doc, err, sizeof(err)) == VG_OK) {
        const struct vg_json *path = vg_json_get(doc, key);
        char *s =
            path && path->type == VG_JSON_STRING ? vg_arena_strndup(ar, path->s, path->n) : NULL;
        if (s && strlen(s) == path->n) {
            vg_agent_yara_notify(s, reason);
        }
    }
    vg_arena_destroy(ar);
    vg_json_parser_destroy(p);
}

/*
 * FIM's and the process collector's events pass through here when a yara collector runs: a
 * file created or modified under a watched path, and the executable of every exec, are
 * handed to it (it skips files it scanned already, unchanged).
 */
static int fim_emit(void *ctx, const char *json, size_t len)
{
    struct agent *a = ctx;
    if (atomic_load(&a->yara_on)) {
        if (vg_memmem(json, len, "\"fim_created\"", 13) ||
            vg_memmem(json, len, "\"fim_modified\"", 14)) {
            yara_hand(json, len, "file.path", "file_changed");
        } else if (vg_memmem(json, len, "\"event.action\":\"exec\"", 21)) {
            yara_hand(json, len, "process.executable", "exec");
        }
    }
    return vg_agent_spool_emit(a->spool, json, len);
}

/*
 * Start collector name with its settings (NULL: defaults) and record it. VG_OK; VG_EINVAL
 * (unknown name), VG_ELIMIT, or the collector's start code; err says why.
 */
static int start_one(struct agent *a, const char *name, const struct vg_yaml_node *conf, char *err,
                     size_t errsz)
{
    const struct vg_agent_collector_def *d = vg_agent_collector_find(name);
    const struct vg_yaml_node *rules = NULL;
    struct vg_agent_collector *c = NULL;
    struct vg_sbuf canon = VG_SBUF_INIT;
    char *text = NULL;
    int rc = d ? VG_OK : VG_EINVAL;
    if (!d) {
        snprintf(err, errsz, "unknown collector '%s' (vigie-agent collectors lists them)", name);
    } else if (a->ncols == MAX_COLLECTORS) {
        snprintf(err, errsz, "%s: too many collectors", name);
        rc = VG_ELIMIT;
    }
    if (rc == VG_OK && !strcmp(name, "yara") && conf) {
        conf = vg_agent_rconf_without(a->arena, conf, "rules", &rules);
        rc = conf ? yara_rules_text(rules, &text, err, errsz) : VG_ENOMEM;
    }
    bool fim = !strcmp(name, "fim") || !strcmp(name, "process"); /* they feed yara */
    struct vg_agent_collector_opts co = {.conf = conf,
                                         .state_dir = a->o->state_dir,
                                         .emit = fim ? fim_emit : vg_agent_spool_emit,
                                         .emit_ctx = fim ? (void *)a : (void *)a->spool};
    rc = rc ? rc : d->start(&co, &c, err, errsz);
    if (rc == VG_OK && !strcmp(name, "yara") && yara_rules_apply(a, c, text, conf, err, errsz)) {
        VG_WARN("agent", "yara: rules not loaded: %s", err); /* it runs, with no rules */
    }
    vg_agent_rconf_canon(conf, &canon);
    if (rc == VG_OK && canon.err) {
        d->stop(c);
        rc = VG_ENOMEM;
    }
    if (rc != VG_OK) {
        vg_free(text);
        vg_sbuf_fini(&canon);
        return rc;
    }
    VG_INFO("agent", "collector %s on backend %s", name, d->backend(c));
    a->defs[a->ncols] = d;
    a->cols[a->ncols] = c;
    a->canon[a->ncols++] = canon.p ? canon.p : vg_strdup("");
    if (!strcmp(name, "yara")) {
        vg_free(a->yrules);
        a->yrules = text;
        atomic_store(&a->yara_on, true);
    }
    return VG_OK;
}

static void stop_one(struct agent *a, size_t i)
{
    VG_INFO("agent", "collector %s stopped", a->defs[i]->name);
    if (!strcmp(a->defs[i]->name, "yara")) {
        atomic_store(&a->yara_on, false);
        set_scan_rules(a, NULL);
        vg_free(a->yrules);
        a->yrules = NULL;
    }
    a->defs[i]->stop(a->cols[i]);
    vg_free(a->canon[i]);
    memmove(&a->defs[i], &a->defs[i + 1], (a->ncols - i - 1) * sizeof(a->defs[0]));
    memmove(&a->cols[i], &a->cols[i + 1], (a->ncols - i - 1) * sizeof(a->cols[0]));
    memmove(&a->canon[i], &a->canon[i + 1], (a->ncols - i - 1) * sizeof(a->canon[0]));
    a->ncols--;
}

static void stop_all(struct agent *a)
{
    while (a->ncols) {
        stop_one(a, a->ncols - 1);
    }
}

/*
 * The collectors to run: the remote configuration's when one is in force, else the local
 * file's collectors map, else the defaults. VG_EINVAL when a map is malformed.
 */
static int wanted(const struct agent *a, struct want *w, size_t *n)
{
    const struct vg_yaml_node *m = a->rconf && a->rconf->collectors ? a->rconf->collectors
                                   : a->o->conf ? vg_yaml_get(a->o->conf, "collectors")
                                                : NULL;
    *n = 0;
    if (!m) {
        for (size_t i = 0; i < VG_ARRAY_LEN(default_collectors); i++) {
            w[*n].conf = NULL; /* each collector's defaults */
            snprintf(w[(*n)++].name, sizeof(w->name), "%s", default_collectors[i]);
        }
        return VG_OK;
    }
    if (m->type != VG_YAML_MAP) {
        VG_ERR("agent", "collectors: expected a map of collector name → settings");
        return VG_EINVAL;
    }
    for (size_t i = 0; i < m->n && *n < MAX_COLLECTORS; i++) {
        const struct vg_yaml_node *k = m->items[2 * i], *v = m->items[2 * i + 1];
        snprintf(w[*n].name, sizeof(w->name), "%.*s", (int)VG_MIN(k->len, 63u), k->str);
        w[(*n)++].conf = v && v->type == VG_YAML_MAP ? v : NULL;
    }
    return VG_OK;
}

static int start_collectors(struct agent *a)
{
    struct want w[MAX_COLLECTORS];
    size_t n = 0;
    char err[512];
    int rc = wanted(a, w, &n);
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        int r = start_one(a, w[i].name, w[i].conf, err, sizeof(err));
        if (r == VG_EINVAL && !vg_agent_collector_find(w[i].name)) {
            VG_ERR("agent", "%s", err);
            rc = r;
        } else if (r != VG_OK) {
            VG_WARN("agent", "collector %s not started: %s", w[i].name, err);
        }
    }
    return rc; /* the others run; HELLO reports what runs */
}

static void collectors_json(const struct agent *a, struct vg_sbuf *out)
{
    vg_sbuf_addc(out, '{');
    for (size_t i = 0; i < a->ncols; i++) {
        vg_sbuf_printf(out, "%s\"%s\":", i ? "," : "", a->defs[i]->name);
        const char *b = a->defs[i]->backend(a->cols[i]);
        vg_sbuf_add_json_str(out, b, strlen(b));
    }
    vg_sbuf_addc(out, '}');
}

/* Refresh a->cols_json; true when it differs from what the transport's HELLO said. */
static bool cols_refresh(struct agent *a)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    collectors_json(a, &b);
    pthread_mutex_lock(&a->mu);
    if (!b.err) {
        vg_free(a->cols_json);
        a->cols_json = b.p;
        b.p = NULL;
    }
    bool stale = a->cols_json && (!a->hello_cols || strcmp(a->cols_json, a->hello_cols) != 0);
    pthread_mutex_unlock(&a->mu);
    vg_sbuf_fini(&b);
    return stale;
}

/* ---------------------------------------------------------------- remote configuration */

struct apply_report {
    struct vg_sbuf changed; /* JSON strings, comma-separated */
    struct vg_sbuf errors;
    size_t nchanged, nerrors;
};

/* Append the JSON string "<what><sep><why>" to a report list. */
static void report_add(struct vg_sbuf *b, size_t *n, const char *what, const char *sep,
                       const char *why)
{
    struct vg_sbuf line = VG_SBUF_INIT;
    vg_sbuf_adds(&line, what);
    vg_sbuf_adds(&line, sep);
    vg_sbuf_adds(&line, why);
    vg_sbuf_adds(b, (*n)++ ? "," : "");
    vg_sbuf_add_json_str(b, line.p ? line.p : "", line.len);
    vg_sbuf_fini(&line);
}

static size_t running_index(const struct agent *a, const char *name)
{
    for (size_t i = 0; i < a->ncols; i++) {
        if (!strcmp(a->defs[i]->name, name)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* Same settings as running collector i? (yara: apart from its rules text) */
static bool same_settings(struct agent *a, size_t i, const struct vg_yaml_node *conf,
                          const struct vg_yaml_node **rules)
{
    struct vg_sbuf c = VG_SBUF_INIT;
    *rules = NULL;
    if (conf && !strcmp(a->defs[i]->name, "yara")) {
        conf = vg_agent_rconf_without(a->arena, conf, "rules", rules);
    }
    vg_agent_rconf_canon(conf, &c);
    bool same = !c.err && !strcmp(c.p ? c.p : "", a->canon[i]);
    vg_sbuf_fini(&c);
    return same;
}

/* yara keeps running; only its rules text may have changed. */
static void yara_rules_update(struct agent *a, size_t i, const struct vg_yaml_node *conf,
                              const struct vg_yaml_node *rules, struct apply_report *rep)
{
    char *text = NULL, err[512] = "";
    int rc = yara_rules_text(rules, &text, err, sizeof(err));
    bool same = (!text && !a->yrules) || (text && a->yrules && !strcmp(text, a->yrules));
    if (rc == VG_OK && !same) {
        conf = vg_agent_rconf_without(a->arena, conf, "rules", NULL);
        rc = conf ? yara_rules_apply(a, a->cols[i], text, conf, err, sizeof(err)) : VG_ENOMEM;
        report_add(&rep->changed, &rep->nchanged, "yara", ".", "rules");
    }
    if (rc == VG_OK && !same) {
        vg_free(a->yrules);
        a->yrules = text;
        text = NULL;
    } else if (rc != VG_OK) {
        report_add(&rep->errors, &rep->nerrors, "yara", ": rules: ", err);
    }
    vg_free(text);
}

/* Stop what is no longer wanted, restart what changed, start what is new. */
static void apply_wanted(struct agent *a, const struct want *w, size_t n, struct apply_report *rep)
{
    char err[512];
    for (size_t i = a->ncols; i-- > 0;) {
        size_t k = 0;
        while (k < n && strcmp(w[k].name, a->defs[i]->name) != 0) {
            k++;
        }
        if (k == n) {
            report_add(&rep->changed, &rep->nchanged, a->defs[i]->name, "", "");
            stop_one(a, i);
        }
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = running_index(a, w[k].name);
        const struct vg_yaml_node *rules = NULL;
        if (i != SIZE_MAX && same_settings(a, i, w[k].conf, &rules)) {
            if (!strcmp(w[k].name, "yara")) {
                yara_rules_update(a, i, w[k].conf, rules, rep);
            }
            continue;
        }
        if (i != SIZE_MAX) {
            stop_one(a, i);
        }
        report_add(&rep->changed, &rep->nchanged, w[k].name, "", "");
        if (start_one(a, w[k].name, w[k].conf, err, sizeof(err)) != VG_OK) {
            VG_WARN("agent", "collector %s not started: %s", w[k].name, err);
            report_add(&rep->errors, &rep->nerrors, w[k].name, ": ", err);
        }
    }
}

/* The config_applied (or config_rejected) event, through the spool like every event. */
static void config_event(struct agent *a, const char *action, const struct apply_report *rep)
{
    struct vg_sbuf e = VG_SBUF_INIT;
    char ts[40];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    pthread_mutex_lock(&a->mu);
    vg_sbuf_printf(&e,
                   "{\"@timestamp\":\"%s\",\"event.module\":\"vigie-agent\","
                   "\"event.dataset\":\"agent\",\"event.kind\":\"event\","
                   "\"event.category\":[\"configuration\"],\"event.type\":[\"change\"],"
                   "\"event.action\":\"%s\",\"event.outcome\":\"%s\",\"agent.id\":",
                   ts, action, rep->nerrors ? "failure" : "success");
    vg_sbuf_add_json_str(&e, a->agent_id, strlen(a->agent_id));
    vg_sbuf_printf(&e, ",\"agent.version\":\"%s\",\"agent.collectors\":%s", VG_AGENT_VERSION,
                   a->cols_json ? a->cols_json : "{}");
    pthread_mutex_unlock(&a->mu);
    vg_sbuf_printf(&e, ",\"agent.config.source\":\"%s\",\"agent.config.changed\":[",
                   a->rconf && a->rconf->collectors ? "remote" : "local");
    vg_sbuf_add(&e, rep->changed.p ? rep->changed.p : "", rep->changed.len);
    vg_sbuf_adds(&e, "],\"agent.config.errors\":[");
    vg_sbuf_add(&e, rep->errors.p ? rep->errors.p : "", rep->errors.len);
    vg_sbuf_printf(&e, "],\"message\":\"remote configuration %s: %zu change(s), %zu error(s)\"}",
                   !strcmp(action, "config_applied") ? "applied" : "rejected", rep->nchanged,
                   rep->nerrors);
    if (e.err || vg_agent_spool_emit(a->spool, e.p, e.len) != VG_OK) {
        VG_WARN("agent", "%s event not spooled", action);
    }
    vg_sbuf_fini(&e);
}

/* Keep the new configuration (memory and STATE/remote-config.json); errors are reported. */
static void config_keep(struct agent *a, struct vg_agent_rconf *r, struct apply_report *rep)
{
    char err[512];
    bool same = a->rconf && a->rconf->len == r->len && !memcmp(a->rconf->json, r->json, r->len);
    int rc = VG_OK;
    if (!same && r->collectors) {
        rc = vg_agent_rconf_save(a->o->state_dir, r, err, sizeof(err));
    } else if (!same && vg_agent_rconf_remove(a->o->state_dir) != VG_OK) {
        snprintf(err, sizeof(err), "%s: cannot remove", VG_AGENT_RCONF_FILE);
        rc = VG_EIO;
    }
    if (rc != VG_OK) {
        VG_WARN("agent", "remote configuration not kept for the next start: %s", err);
        report_add(&rep->errors, &rep->nerrors, "state", ": ", err);
    }
    vg_agent_rconf_destroy(a->rconf);
    a->rconf = r;
}

/* transport on_config: apply a CONFIG from the server (on the transport's thread). */
static void on_config(void *ctx, const char *json, size_t len)
{
    struct agent *a = ctx;
    struct vg_agent_rconf *r = NULL;
    struct apply_report rep = {.changed = VG_SBUF_INIT, .errors = VG_SBUF_INIT};
    struct want w[MAX_COLLECTORS];
    size_t n = 0;
    char err[512];
    if (vg_agent_rconf_parse(json, len, &r, err, sizeof(err)) != VG_OK) {
        VG_WARN("agent", "configuration from the server refused: %s", err);
        report_add(&rep.errors, &rep.nerrors, "", "", err);
        config_event(a, "config_rejected", &rep);
    } else {
        config_keep(a, r, &rep);
        if (wanted(a, w, &n) == VG_OK) {
            apply_wanted(a, w, n, &rep);
        } else {
            report_add(&rep.errors, &rep.nerrors, "collectors", ": ", "not a map");
        }
        bool stale = cols_refresh(a);
        VG_INFO("agent", "configuration from the server: %zu change(s), %zu error(s)", rep.nchanged,
                rep.nerrors);
        if (rep.nchanged || rep.nerrors || stale) {
            config_event(a, "config_applied", &rep);
        }
    }
    vg_sbuf_fini(&rep.changed);
    vg_sbuf_fini(&rep.errors);
}

/* ---------------------------------------------------------------- commands */

/*
 * isolate_host keeps the agent's own server reachable: the addresses the endpoint's host
 * name resolves to are added as server_ips (the server does not know which of its addresses
 * the agent uses).
 */
static void add_server_ips(const struct agent *a, const char *args, struct vg_sbuf *out)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    size_t n = 0;
    vg_sbuf_adds(out, "{\"server_ips\":[");
    if (getaddrinfo(a->host, NULL, &hints, &res) == 0) {
        for (struct addrinfo *i = res; i && n < MAX_IPS; i = i->ai_next) {
            char buf[INET6_ADDRSTRLEN];
            const void *ad =
                i->ai_family == AF_INET
                    ? (const void *)&((struct sockaddr_in *)(void *)i->ai_addr)->sin_addr
                    : (const void *)&((struct sockaddr_in6 *)(void *)i->ai_addr)->sin6_addr;
            if ((i->ai_family == AF_INET || i->ai_family == AF_INET6) &&
                inet_ntop(i->ai_family, ad, buf, sizeof(buf))) {
                vg_sbuf_printf(out, "%s\"%s\"", n++ ? "," : "", buf);
            }
        }
        freeaddrinfo(res);
    }
    vg_sbuf_addc(out, ']');
    const char *rest = args + 1; /* args is an object: "{...}" */
    while (*rest == ' ') {
        rest++;
    }
    vg_sbuf_adds(out, *rest == '}' ? "" : ",");
    vg_sbuf_adds(out, rest);
}

static int on_command(void *ctx, const struct vg_agent_command *cmd, struct vg_sbuf *output)
{
    struct agent *a = ctx;
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *ar = vg_arena_create(4096);
    struct vg_json *args = NULL;
    size_t used = 0;
    char err[512] = "";
    const char *aj = cmd->args_json && *cmd->args_json == '{' ? cmd->args_json : "{}";
    struct vg_sbuf iso = VG_SBUF_INIT;
    if (!strcmp(cmd->action, "isolate_host")) {
        add_server_ips(a, aj, &iso);
        aj = iso.p ? iso.p : aj;
    }
    int rc =
        p && ar ? vg_json_parse(p, ar, aj, strlen(aj), &used, &args, err, sizeof(err)) : VG_ENOMEM;
    if (rc == VG_OK) {
        rc = vg_agent_resp_run(cmd->action, args, &a->resp, output, err, sizeof(err));
    }
    VG_INFO("agent", "command %s %s: %s%s%s", cmd->id, cmd->action,
            rc == VG_OK ? "ok" : vg_strerror(rc), rc == VG_OK ? "" : ": ", rc == VG_OK ? "" : err);
    if (rc != VG_OK) {
        vg_sbuf_adds(output, err);
    }
    vg_sbuf_fini(&iso);
    vg_arena_destroy(ar);
    vg_json_parser_destroy(p);
    return rc;
}

/* ---------------------------------------------------------------- HELLO facts */

static const char *os_name(struct vg_arena *ar)
{
    struct utsname u;
    if (uname(&u) != 0) {
        return "Linux";
    }
    return vg_arena_printf(ar, "%s %s %s", u.sysname, u.release, u.machine);
}

static size_t host_ips(struct vg_arena *ar, const char **ips, size_t max)
{
    struct ifaddrs *ifa = NULL, *i;
    size_t n = 0;
    if (getifaddrs(&ifa) != 0) {
        return 0;
    }
    for (i = ifa; i && n < max; i = i->ifa_next) {
        char buf[INET6_ADDRSTRLEN];
        const void *addr = NULL;
        if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK)) {
            continue;
        }
        if (i->ifa_addr->sa_family == AF_INET) {
            addr = &((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr;
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            addr = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
        }
        if (addr && inet_ntop(i->ifa_addr->sa_family, addr, buf, sizeof(buf))) {
            ips[n++] = vg_arena_strdup(ar, buf);
        }
    }
    freeifaddrs(ifa);
    return n;
}

/* ---------------------------------------------------------------- run */

static int open_parts(struct agent *a, char *err, size_t errsz)
{
    char path[4096];
    uint8_t pk[VG_AGENT_WIRE_PK_SIZE];
    int rc = read_state(a, err, errsz);
    rc = rc ? rc : split_endpoint(a, a->o->endpoint ? a->o->endpoint : a->endpoint, err, errsz);
    if (rc == VG_OK) {
        rc = vg_agent_spool_open(a->o->state_dir, NULL, &a->spool, err, errsz);
    }
    snprintf(path, sizeof(path), "%s/command.pub", a->o->state_dir);
    if (rc == VG_OK && vg_agent_sign_key_load(path, pk, sizeof(pk), false) != VG_OK) {
        snprintf(err, errsz, "%s: unreadable (enrol again)", path);
        rc = VG_EIO;
    }
    snprintf(path, sizeof(path), "%s/commands.state", a->o->state_dir);
    if (rc == VG_OK && vg_agent_cmd_verifier_create(pk, a->agent_id, path, &a->verifier) != VG_OK) {
        snprintf(err, errsz, "%s: cannot keep the command replay window", path);
        rc = VG_EIO;
    }
    return rc;
}

static int start_transport(struct agent *a, char *err, size_t errsz)
{
    char ca[4096], cert[4096], key[4096], host[256] = "vigie-agent";
    const char *ips[MAX_IPS];
    struct vg_sbuf cj = VG_SBUF_INIT;
    snprintf(ca, sizeof(ca), "%s/ca.crt", a->o->state_dir);
    snprintf(cert, sizeof(cert), "%s/agent.crt", a->o->state_dir);
    snprintf(key, sizeof(key), "%s/agent.key", a->o->state_dir);
    gethostname(host, sizeof(host) - 1);
    collectors_json(a, &cj);
    pthread_mutex_lock(&a->mu);
    vg_free(a->hello_cols);
    a->hello_cols = cj.p ? vg_strdup(cj.p) : NULL;
    pthread_mutex_unlock(&a->mu);
    struct vg_agent_transport_opts t = {
        .host = a->host,
        .port = (uint16_t)strtoul(a->port, NULL, 10),
        .ca_file = ca,
        .cert_file = cert,
        .key_file = key,
        .spool = a->spool,
        .verifier = a->verifier,
        .hello = {.agent_id = a->agent_id,
                  .version = VG_AGENT_VERSION,
                  .hostname = host,
                  .os = os_name(a->arena),
                  .ips = ips,
                  .n_ips = host_ips(a->arena, ips, MAX_IPS),
                  .collectors_json = cj.p ? cj.p : "{}"},
        .on_command = on_command,
        .on_config = on_config,
        .ctx = a,
    };
    int rc = vg_agent_transport_start(&t, &a->transport, err, errsz);
    vg_sbuf_fini(&cj);
    return rc;
}

static void status_line(struct agent *a, FILE *f)
{
    struct vg_agent_transport_stats ts;
    vg_agent_transport_stats(a->transport, &ts);
    fprintf(f,
            "vigie-agent: %s, acked seq %llu, events sent %llu, commands %llu ok %llu failed%s%s\n",
            ts.connected ? "connected" : "disconnected", (unsigned long long)ts.acked_seq,
            (unsigned long long)ts.events_sent, (unsigned long long)ts.commands_ok,
            (unsigned long long)ts.commands_failed, ts.last_error[0] ? "; last error: " : "",
            ts.last_error);
    fflush(f);
}

/* A remote configuration kept from an earlier run replaces the local collectors. */
static void load_rconf(struct agent *a)
{
    char err[512];
    int rc = vg_agent_rconf_load(a->o->state_dir, &a->rconf, err, sizeof(err));
    if (rc == VG_OK) {
        VG_INFO("agent", "using the server's configuration kept in %s", VG_AGENT_RCONF_FILE);
    } else if (rc != VG_ENOENT) {
        VG_WARN("agent", "%s; using the local configuration", err);
    }
}

/*
 * The HELLO of a session cannot change, so after a configuration changed the collectors the
 * transport is restarted with the new map once its session has ended (the server knows the
 * map already from the config_applied event; this keeps later sessions right).
 */
static int hello_refresh(struct agent *a, char *err, size_t errsz)
{
    struct vg_agent_transport_stats ts;
    pthread_mutex_lock(&a->mu);
    bool stale = a->cols_json && a->hello_cols && strcmp(a->cols_json, a->hello_cols) != 0;
    pthread_mutex_unlock(&a->mu);
    if (!stale) {
        return VG_OK;
    }
    vg_agent_transport_stats(a->transport, &ts);
    if (ts.connected) {
        return VG_OK;
    }
    vg_agent_transport_stop(a->transport);
    a->transport = NULL;
    VG_INFO("agent", "transport restarted: the next HELLO carries the new collectors");
    return start_transport(a, err, errsz);
}

static void agent_fini(struct agent *a)
{
    vg_agent_transport_stop(a->transport); /* first: on_config no longer runs */
    stop_all(a);
    vg_agent_cmd_verifier_destroy(a->verifier);
    vg_agent_spool_close(a->spool);
    vg_agent_rconf_destroy(a->rconf);
    set_scan_rules(a, NULL);
    vg_free(a->yrules);
    vg_free(a->cols_json);
    vg_free(a->hello_cols);
    pthread_mutex_destroy(&a->mu);
    vg_arena_destroy(a->arena);
}

int vg_agent_run(const struct vg_agent_run_opts *o, char *err, size_t errsz)
{
    struct agent a = {.o = o};
    pthread_mutex_init(&a.mu, NULL);
    a.arena = vg_arena_create(16384);
    a.resp.state_dir = o->state_dir;
    a.resp.yara_rules = scan_rules_get;
    a.resp.yara_ctx = &a;
    int rc = a.arena ? open_parts(&a, err, errsz) : VG_ENOMEM;
    if (rc == VG_OK) {
        load_rconf(&a);
    }
    rc = rc ? rc : start_collectors(&a);
    if (rc == VG_EINVAL && !*err) {
        snprintf(err, errsz, "bad collector configuration (see the log)");
    }
    if (rc == VG_OK) {
        cols_refresh(&a);
    }
    rc = rc ? rc : start_transport(&a, err, errsz);
    for (unsigned tick = 1; rc == VG_OK && !*o->stop; tick++) {
        usleep(100 * 1000);
        if (o->status && tick % 300 == 0) {
            status_line(&a, o->status);
        }
        rc = hello_refresh(&a, err, errsz);
    }
    agent_fini(&a);
    return rc;
}
