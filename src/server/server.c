/*
 * server.c — `vigie server` assembled: data directory, journal, store, rules, pipeline,
 * network inputs, file inputs and the HTTP API, with start, reload and an orderly stop.
 *
 * Data directory:
 *   DIR/journal/   the write-ahead journal of raw records (src/ingest)
 *   DIR/store/     events, alerts and state (src/store)
 *   DIR/tail/      file-tailing checkpoints
 *   DIR/auth.db    users, tokens, sessions (src/api)
 *   DIR/triage.db  incidents, exceptions, verdicts (src/alert)
 *   DIR/cases.db   cases (src/case)
 *   DIR/runs.db    playbook runs (src/respond)
 *   DIR/audit.db   the hash-chained audit log (src/audit)
 *   DIR/intel/     the threat intelligence store (src/intel; intel.db moves it)
 *   DIR/vuln/      the advisory database (vuln.db moves it) and hosts.db, the fleet's
 *                  package inventories and findings (server_vuln.c)
 *
 * Input ids (recorded with every journal record, they select the decoder hint):
 *   0 the HTTP ingest API, then one per syslog listener, then one per file pattern.
 */
#include "server/server_int.h"

#include "api/api.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAINTAIN_EVERY_S 60

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = vg_malloc(n);
    if (p) {
        snprintf(p, n, "%s/%s", dir, name);
    }
    return p;
}

static int make_dir(const char *path, char *err, size_t errsz)
{
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "cannot create %s: %s", path, strerror(errno));
        return errno == ENOSPC ? VG_ENOSPC : VG_EIO;
    }
    return VG_OK;
}

static int open_dirs(struct vg_server *s, char *err, size_t errsz)
{
    const char *d = s->c->data_dir;
    s->dir_journal = join_path(d, "journal");
    s->dir_store = join_path(d, "store");
    s->dir_tail = join_path(d, "tail");
    if (!s->dir_journal || !s->dir_store || !s->dir_tail) {
        return VG_ENOMEM;
    }
    int rc = make_dir(d, err, errsz);
    rc = rc == VG_OK ? make_dir(s->dir_journal, err, errsz) : rc;
    rc = rc == VG_OK ? make_dir(s->dir_store, err, errsz) : rc;
    return rc == VG_OK ? make_dir(s->dir_tail, err, errsz) : rc;
}

static int open_storage(struct vg_server *s, char *err, size_t errsz)
{
    const struct vg_server_conf *c = s->c;
    struct vg_journal_opts jo = {
        .segment_bytes = (uint64_t)c->journal_segment_mb << 20,
        .max_lag_bytes = (uint64_t)c->journal_max_lag_mb << 20,
        .sync = true,
    };
    char e[512];
    int rc = vg_journal_open(s->dir_journal, &jo, &s->j, e, sizeof(e));
    if (rc != VG_OK) {
        snprintf(err, errsz, "journal: %s", e);
        return rc;
    }
    struct vg_store_opts so = {
        .index_fields = c->index_fields && *c->index_fields ? c->index_fields : NULL,
        .retention_days = (uint32_t)c->retention_days,
        .max_bytes = (uint64_t)c->store_max_gb << 30,
    };
    rc = vg_store_open(s->dir_store, &so, &s->st, e, sizeof(e));
    if (rc != VG_OK) {
        snprintf(err, errsz, "store: %s", e);
    }
    return rc;
}

static int load_rules(struct vg_server *s, struct vg_ruleset **out, char *err, size_t errsz)
{
    uint32_t bad = 0;
    int rc = vg_server_rules_build(s->c, out, &bad, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    const struct vg_ruleset_stats *st = vg_ruleset_stats(*out);
    pthread_mutex_lock(&s->mu);
    s->rules = st->rules;
    s->correlation_rules = st->correlations;
    pthread_mutex_unlock(&s->mu);
    VG_INFO("rules", "%u rules, %u correlations loaded in %.0f ms%s", st->rules, st->correlations,
            st->build_ms, bad ? " (some documents were not loaded)" : "");
    return VG_OK;
}

/* ---------------------------------------------------------------- inputs */

static int add_input(struct vg_server *s, const char *hint)
{
    if (vg_grow(&s->inputs, &s->capinputs, s->ninputs + 1, sizeof(*s->inputs)) != VG_OK) {
        return VG_ENOMEM;
    }
    s->inputs[s->ninputs++].hint = hint;
    return VG_OK;
}

static int add_listeners(struct vg_server *s, const struct vg_strlist *l, int proto)
{
    for (size_t i = 0; i < l->n; i++) {
        if (vg_grow(&s->ls, &s->capls, s->nls + 1, sizeof(*s->ls)) != VG_OK ||
            add_input(s, "syslog") != VG_OK) {
            return VG_ENOMEM;
        }
        s->ls[s->nls++] = (struct vg_net_listen){
            .proto = proto,
            .addr = l->v[i],
            .input = (uint32_t)s->ninputs - 1,
            .tls_cert = s->c->tls_cert,
            .tls_key = s->c->tls_key,
        };
    }
    return VG_OK;
}

static int plan_inputs(struct vg_server *s)
{
    s->ninputs = 0;
    int rc = add_input(s, NULL); /* 0: HTTP ingest */
    rc = rc == VG_OK ? add_listeners(s, &s->c->syslog_udp, VG_NET_UDP) : rc;
    rc = rc == VG_OK ? add_listeners(s, &s->c->syslog_tcp, VG_NET_TCP) : rc;
    rc = rc == VG_OK ? add_listeners(s, &s->c->syslog_tls, VG_NET_TLS) : rc;
    rc = rc == VG_OK ? add_listeners(s, &s->c->syslog_relp, VG_NET_RELP) : rc;
    s->first_file_input = (uint32_t)s->ninputs;
    for (size_t i = 0; rc == VG_OK && i < s->c->files.n; i++) {
        rc = add_input(s, NULL); /* the file path itself is the hint */
    }
    if (rc == VG_OK && s->c->fleet_listen && *s->c->fleet_listen) {
        s->fleet_input = (uint32_t)s->ninputs; /* agents send ECS JSON events */
        rc = add_input(s, "json");
    }
    return rc;
}

/* Every released record must be covered by a persisted tail checkpoint (exactly once). */
static int before_release(void *ctx, uint64_t seq)
{
    (void)seq;
    struct vg_server *s = ctx;
    int rc = s->tail ? vg_tail_checkpoint(s->tail) : VG_OK;
    if (rc != VG_OK) {
        VG_WARN("files",
                "cannot write the file checkpoints in %s (%s): the journal keeps "
                "the records until it can",
                s->dir_tail, vg_strerror(rc));
    }
    return rc;
}

static int create_tail(struct vg_server *s, char *err, size_t errsz)
{
    const struct vg_server_conf *c = s->c;
    struct vg_tail_input *ins = vg_calloc(c->files.n, sizeof(*ins));
    if (!ins) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < c->files.n; i++) {
        ins[i] = (struct vg_tail_input){c->files.v[i], s->first_file_input + (uint32_t)i};
    }
    struct vg_tail_opts o = {
        .start = c->files_from_beginning ? VG_TAIL_START_BEGINNING : VG_TAIL_START_END,
        .max_line = (size_t)c->max_message,
    };
    char e[512];
    int rc = vg_tail_create(s->j, s->dir_tail, ins, c->files.n, &o, &s->tail, e, sizeof(e));
    if (rc != VG_OK) {
        snprintf(err, errsz, "files: %s", e);
    }
    vg_free(ins);
    return rc;
}

/* ---------------------------------------------------------------- lifecycle */

int vg_server_create(const struct vg_server_conf *c, struct vg_server **out, char *err,
                     size_t errsz)
{
    struct vg_server *s = vg_calloc(1, sizeof(*s));
    struct vg_ruleset *rs = NULL;
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return VG_ENOMEM;
    }
    s->c = c;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->maint_mu, NULL);
    pthread_cond_init(&s->maint_cond, NULL);
    int rc = open_dirs(s, err, errsz);
    rc = rc == VG_OK ? open_storage(s, err, errsz) : rc;
    rc = rc == VG_OK ? load_rules(s, &rs, err, errsz) : rc;
    if (rc == VG_OK && !(s->eng = vg_detect_engine_create(rs))) {
        vg_ruleset_unref(rs);
        rc = VG_ENOMEM;
    }
    rc = rc == VG_OK ? plan_inputs(s) : rc;
    rc = rc == VG_OK ? vg_server_intel_create(c, &s->intel, err, errsz) : rc;
    rc = rc == VG_OK ? vg_server_vuln_create(c, s->j, &s->vuln, err, errsz) : rc;
    if (rc == VG_OK) {
        struct vg_pipeline_opts po = {
            .workers = (int)c->workers,
            .batch = (uint32_t)c->batch,
            .inputs = s->inputs,
            .ninputs = s->ninputs,
            .no_store = c->bench_no_store,
            .before_release = before_release,
            .after_alerts = vg_server_soc_notify,
            .ctx = s,
            .intel = s->intel,
            .vuln = s->vuln,
        };
        rc = vg_pipeline_create(s->j, s->st, s->eng, &po, &s->pipe, err, errsz);
    }
    if (rc == VG_OK && !c->bench_no_store) {
        rc = vg_server_soc_create(s, err, errsz);
    }
    if (rc != VG_OK) {
        if (rc == VG_ENOMEM && !*err) {
            snprintf(err, errsz, "out of memory");
        }
        vg_server_destroy(s);
        return rc;
    }
    *out = s;
    return VG_OK;
}

static void *maint_main(void *arg)
{
    struct vg_server *s = arg;
    pthread_mutex_lock(&s->maint_mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += MAINTAIN_EVERY_S;
        pthread_cond_timedwait(&s->maint_cond, &s->maint_mu, &ts);
        if (s->stopping) {
            break;
        }
        pthread_mutex_unlock(&s->maint_mu);
        struct vg_store_maint_report r;
        char err[512];
        if (vg_store_maintain(s->st, vg_time_now(), &r, err, sizeof(err)) != VG_OK) {
            VG_WARN("store", "maintenance: %s", err);
        } else if (r.dropped_partitions) {
            VG_INFO("store", "retention: dropped %u day partitions (%llu bytes)",
                    r.dropped_partitions, (unsigned long long)r.dropped_bytes);
        }
        pthread_mutex_lock(&s->maint_mu);
    }
    pthread_mutex_unlock(&s->maint_mu);
    return NULL;
}

static int start_api(struct vg_server *s, char *err, size_t errsz)
{
    const struct vg_server_conf *c = s->c;
    struct vg_api_opts ao = {
        .listen = c->http_listen,
        .data_dir = c->data_dir,
        .tls_cert = c->http_tls_cert && *c->http_tls_cert ? c->http_tls_cert : NULL,
        .tls_key = c->http_tls_key && *c->http_tls_key ? c->http_tls_key : NULL,
    };
    struct vg_api_ingest_opts io = {
        .input = 0,
        .hec_input = 0,
        .max_wait_ms = c->http_ingest_wait_s ? c->http_ingest_wait_s * 1000 : -1,
    };
    char e[512];
    bool loopback = !strncmp(c->http_listen, "127.", 4) || !strncmp(c->http_listen, "[::1]", 5) ||
                    !strncmp(c->http_listen, "localhost:", 10);
    if (!loopback && !ao.tls_cert) {
        VG_WARN("http",
                "the API listens on %s without TLS: passwords and tokens cross the "
                "network in clear (set http.tls_cert and http.tls_key)",
                c->http_listen);
    }
    int rc = vg_api_create(&ao, &s->api, e, sizeof(e));
    if (rc != VG_OK) {
        snprintf(err, errsz, "http: %s", e);
        return rc;
    }
    rc = vg_api_ingest_register(s->api, s->j, &io);
    rc = rc == VG_OK ? vg_server_api_register(s, s->api) : rc;
    if (rc != VG_OK) {
        snprintf(err, errsz, "http: cannot register the endpoints: %s", vg_strerror(rc));
        return rc;
    }
    if (s->soc && (rc = vg_server_soc_start(s, s->api, err, errsz)) != VG_OK) {
        return rc;
    }
    if ((rc = vg_api_start(s->api, e, sizeof(e))) != VG_OK) {
        snprintf(err, errsz, "http: %s", e);
    }
    return rc;
}

int vg_server_start(struct vg_server *s, char *err, size_t errsz)
{
    s->started = vg_time_now();
    int rc = s->c->files.n ? create_tail(s, err, errsz) : VG_OK;
    if (rc != VG_OK) {
        return rc;
    }
    if ((rc = vg_server_intel_start(s->intel)) != VG_OK) {
        snprintf(err, errsz, "cannot start the threat intelligence reload thread");
        return rc;
    }
    if ((rc = vg_server_vuln_start(s->vuln)) != VG_OK) {
        snprintf(err, errsz, "cannot start the vulnerability scan thread");
        return rc;
    }
    if ((rc = vg_pipeline_start(s->pipe)) != VG_OK) {
        snprintf(err, errsz, "cannot start the pipeline threads");
        return rc;
    }
    if (s->tail && (rc = vg_tail_start(s->tail)) != VG_OK) {
        snprintf(err, errsz, "files: cannot start the tailing thread");
        return rc;
    }
    if (s->nls) {
        struct vg_net_opts no = {.max_msg = (size_t)s->c->max_message};
        rc = vg_net_create(s->j, s->ls, s->nls, &no, &s->net, err, errsz);
        rc = rc == VG_OK ? vg_net_start(s->net) : rc;
        if (rc != VG_OK) {
            return rc;
        }
    }
    if (s->c->http_listen && *s->c->http_listen && (rc = start_api(s, err, errsz)) != VG_OK) {
        return rc;
    }
    if (s->soc && (rc = vg_server_soc_run(s, err, errsz)) != VG_OK) {
        return rc;
    }
    if (pthread_create(&s->maint, NULL, maint_main, s) == 0) {
        s->maint_running = true;
    }
    return VG_OK;
}

int vg_server_reload(struct vg_server *s, char *err, size_t errsz)
{
    struct vg_ruleset *rs = NULL;
    int rc = load_rules(s, &rs, err, errsz);
    if (rc != VG_OK) {
        VG_ERR("rules", "reload failed, the current rules stay: %s", err);
        return rc;
    }
    vg_detect_engine_swap(s->eng, rs);
    pthread_mutex_lock(&s->mu);
    s->reloads++;
    pthread_mutex_unlock(&s->mu);
    return VG_OK;
}

void vg_server_stop(struct vg_server *s, int drain_ms)
{
    if (!s) {
        return;
    }
    if (s->api) {
        vg_api_stop(s->api);
    }
    if (s->net) {
        vg_net_stop(s->net);
    }
    if (s->tail) {
        vg_tail_stop(s->tail);
    }
    vg_pipeline_stop(s->pipe, drain_ms);
    if (s->tail) {
        vg_tail_checkpoint(s->tail);
    }
    vg_server_soc_stop(s);
    vg_server_intel_stop(s->intel);
    vg_server_vuln_stop(s->vuln);
    pthread_mutex_lock(&s->maint_mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->maint_cond);
    pthread_mutex_unlock(&s->maint_mu);
    if (s->maint_running) {
        pthread_join(s->maint, NULL);
        s->maint_running = false;
    }
}

void vg_server_destroy(struct vg_server *s)
{
    if (!s) {
        return;
    }
    vg_server_stop(s, 0);
    vg_api_destroy(s->api);
    vg_net_destroy(s->net);
    vg_tail_destroy(s->tail);
    vg_pipeline_destroy(s->pipe);
    vg_server_soc_destroy(s);
    vg_server_intel_destroy(s->intel);
    vg_server_vuln_destroy(s->vuln);
    vg_detect_engine_destroy(s->eng);
    vg_store_close(s->st);
    vg_journal_close(s->j);
    vg_free(s->ls);
    vg_free(s->inputs);
    vg_free(s->dir_journal);
    vg_free(s->dir_store);
    vg_free(s->dir_tail);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->maint_mu);
    pthread_cond_destroy(&s->maint_cond);
    vg_free(s);
}

void vg_server_get_stats(struct vg_server *s, struct vg_server_stats *out)
{
    struct vg_pipeline_stats ps;
    vg_pipeline_get_stats(s->pipe, &ps);
    memset(out, 0, sizeof(*out));
    out->records = ps.records;
    out->events = ps.events;
    out->unparsed = ps.unparsed;
    out->matches = ps.matches;
    out->alerts = ps.alerts;
    out->correlations = ps.correlations;
    out->stored = ps.stored;
    out->duplicates = ps.duplicates;
    out->store_retries = ps.store_retries;
    out->batches = ps.batches;
    out->position = ps.position;
    out->journal_next = vg_journal_next_seq(s->j);
    pthread_mutex_lock(&s->mu);
    out->rules = s->rules;
    out->correlation_rules = s->correlation_rules;
    out->reloads = s->reloads;
    out->started = s->started;
    pthread_mutex_unlock(&s->mu);
}

int vg_server_http_port(const struct vg_server *s)
{
    return s->api ? vg_api_port(s->api) : -1;
}

int vg_server_syslog_port(const struct vg_server *s, const char *proto, size_t i)
{
    static const char *const names[] = {"udp", "tcp", "tls", "relp"};
    size_t seen = 0;
    for (size_t k = 0; s->net && k < s->nls; k++) {
        if (!strcmp(names[s->ls[k].proto], proto) && seen++ == i) {
            return vg_net_port(s->net, k);
        }
    }
    return -1;
}

int vg_server_wait_idle(struct vg_server *s, int timeout_ms)
{
    uint64_t next = vg_journal_next_seq(s->j);
    return next ? vg_pipeline_wait(s->pipe, next - 1, timeout_ms) : VG_OK;
}

struct vg_journal *vg_server_journal(struct vg_server *s)
{
    return s->j;
}

struct vg_store *vg_server_store(struct vg_server *s)
{
    return s->st;
}
