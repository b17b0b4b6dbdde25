/*
 * fleet.c — the fleet's lifecycle: options, DATA/fleet (CA, command key, registry), the
 * listener's TLS context and socket, start/stop, counters, and small shared helpers.
 */
#include "fleet/fleet_int.h"

#include "audit/audit.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_LISTEN       "0.0.0.0:8471"
#define DEFAULT_MAX_CONNS    1024
#define DEFAULT_HANDSHAKE_MS 10000
#define DEFAULT_OFFLINE_S    120
#define DEFAULT_ENROLL_FAILS 10
#define DEFAULT_JOURNAL_WAIT 30000

void fleet_rand_hex(char *out, size_t n)
{
    uint8_t b[64];
    n = VG_MIN(n, sizeof(b));
    randombytes_buf(b, n);
    sodium_bin2hex(out, 2 * n + 1, b, n);
}

bool fleet_tenant_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > FLEET_TENANT_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

void fleet_audit(struct vg_fleet *f, const char *tenant, const char *actor, const char *action,
                 const char *object, const char *detail)
{
    char err[256];
    struct vg_audit_rec r = {.tenant = tenant,
                             .actor = actor ? actor : "system",
                             .action = action,
                             .object = object,
                             .detail = detail};
    if (vg_audit_append(f->audit, &r, NULL, err, sizeof(err)) != VG_OK) {
        VG_ERR(FLEET_COMP, "audit %s %s: %s", action, object, err);
    }
}

/* ---------------------------------------------------------------- options */

/* The host part of "host:port" / "[v6]:port" into out. */
static void host_of(const char *addr, char *out, size_t size)
{
    const char *end = addr[0] == '[' ? strchr(addr, ']') : strrchr(addr, ':');
    const char *start = addr[0] == '[' ? addr + 1 : addr;
    size_t n = end ? (size_t)(end - start) : strlen(start);
    snprintf(out, size, "%.*s", (int)n, start);
}

static int opts_copy(struct vg_fleet *f, const struct vg_fleet_opts *o, char *err, size_t errsz)
{
    if (!o || !o->data_dir || !o->journal) {
        snprintf(err, errsz, "fleet: data_dir and journal are required");
        return VG_EINVAL;
    }
    f->data_dir = vg_strdup(o->data_dir);
    f->listen = vg_strdup(o->listen ? o->listen : DEFAULT_LISTEN);
    size_t dl = strlen(o->data_dir) + 8;
    f->dir = vg_malloc(dl);
    if (!f->data_dir || !f->listen || !f->dir) {
        return VG_ENOMEM;
    }
    snprintf(f->dir, dl, "%s/fleet", o->data_dir);
    f->journal = o->journal;
    f->audit = o->audit;
    f->input = o->input;
    f->max_conns = o->max_conns ? o->max_conns : DEFAULT_MAX_CONNS;
    f->handshake_ms = o->handshake_ms ? o->handshake_ms : DEFAULT_HANDSHAKE_MS;
    f->offline_after_s = o->offline_after_s ? o->offline_after_s : DEFAULT_OFFLINE_S;
    f->enroll_failures = o->enroll_failures ? o->enroll_failures : DEFAULT_ENROLL_FAILS;
    f->journal_wait_ms = o->journal_wait_ms ? o->journal_wait_ms : DEFAULT_JOURNAL_WAIT;
    return VG_OK;
}

/* SANs: the configured names plus the listen host (unless a wildcard address). */
static int tls_names(struct vg_fleet *f, const struct vg_fleet_opts *o, char *err, size_t errsz)
{
    char host[256];
    const char *sans[65];
    size_t n = 0;
    host_of(f->listen, host, sizeof(host));
    for (size_t i = 0; i < o->nhostnames && n < 64; i++) {
        sans[n++] = o->hostnames[i];
    }
    if (*host && strcmp(host, "0.0.0.0") && strcmp(host, "::")) {
        sans[n++] = host;
    }
    if (!n) {
        sans[n++] = "localhost";
    }
    return fleet_tls_init(f, sans, n, err, errsz);
}

static int endpoint_init(struct vg_fleet *f, const struct vg_fleet_opts *o)
{
    char host[256], buf[300];
    if (o->endpoint) {
        f->endpoint = vg_strdup(o->endpoint);
        return f->endpoint ? VG_OK : VG_ENOMEM;
    }
    if (o->nhostnames) {
        vg_strlcpy(host, o->hostnames[0], sizeof(host));
    } else {
        host_of(f->listen, host, sizeof(host));
    }
    bool v6 = strchr(host, ':') != NULL;
    snprintf(buf, sizeof(buf), "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", f->port);
    f->endpoint = vg_strdup(buf);
    return f->endpoint ? VG_OK : VG_ENOMEM;
}

/* ---------------------------------------------------------------- lifecycle */

static void fleet_init_sync(struct vg_fleet *f)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cmd_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&f->db_mu, NULL);
    pthread_mutex_init(&f->conn_mu, NULL);
    pthread_mutex_init(&f->rl_mu, NULL);
    f->lfd = -1;
    f->wake[0] = f->wake[1] = -1;
}

int vg_fleet_create(const struct vg_fleet_opts *o, struct vg_fleet **out, char *err, size_t errsz)
{
    struct vg_fleet *f = vg_calloc(1, sizeof(*f));
    int rc = f ? VG_OK : VG_ENOMEM;
    *out = NULL;
    if (rc != VG_OK || sodium_init() < 0) {
        vg_free(f);
        snprintf(err, errsz, "fleet: out of memory or libsodium unavailable");
        return VG_ENOMEM;
    }
    fleet_init_sync(f);
    rc = opts_copy(f, o, err, errsz);
    if (rc == VG_OK && mkdir(f->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "%s: %s", f->dir, strerror(errno));
        rc = VG_EIO;
    }
    rc = rc ? rc : fleet_ca_init(f, err, errsz);
    rc = rc ? rc : fleet_cmdkey_init(f, err, errsz);
    rc = rc ? rc : fleet_db_open(f, err, errsz);
    rc = rc ? rc : tls_names(f, o, err, errsz);
    rc = rc ? rc : fleet_listen_bind(f, f->listen, err, errsz);
    rc = rc ? rc : endpoint_init(f, o);
    if (rc != VG_OK) {
        if (rc == VG_ENOMEM) {
            snprintf(err, errsz, "fleet: out of memory");
        }
        vg_fleet_destroy(f);
        return rc;
    }
    *out = f;
    return VG_OK;
}

int vg_fleet_start(struct vg_fleet *f, char *err, size_t errsz)
{
    if (f->started) {
        return VG_OK;
    }
    int rc = fleet_listen_start(f, err, errsz);
    f->started = rc == VG_OK;
    return rc;
}

int vg_fleet_port(const struct vg_fleet *f)
{
    return f->port;
}

void vg_fleet_stop(struct vg_fleet *f)
{
    if (f) {
        fleet_listen_stop(f);
    }
}

void vg_fleet_destroy(struct vg_fleet *f)
{
    if (!f) {
        return;
    }
    vg_fleet_stop(f);
    fleet_db_close(f);
    fleet_ca_fini(f);
    pthread_cond_destroy(&f->cmd_cond);
    pthread_mutex_destroy(&f->db_mu);
    pthread_mutex_destroy(&f->conn_mu);
    pthread_mutex_destroy(&f->rl_mu);
    vg_free(f->data_dir);
    vg_free(f->dir);
    vg_free(f->listen);
    vg_free(f->endpoint);
    vg_free(f);
}

const char *vg_fleet_ca_pem(const struct vg_fleet *f)
{
    return f->ca_pem;
}

const uint8_t *vg_fleet_command_pubkey(const struct vg_fleet *f)
{
    return f->cmd_pk;
}

void vg_fleet_stats(const struct vg_fleet *f, struct vg_fleet_stats *out)
{
    struct vg_fleet *m = (struct vg_fleet *)f; /* conn_mu only guards the count */
    pthread_mutex_lock(&m->conn_mu);
    out->conns_open = m->nconns;
    pthread_mutex_unlock(&m->conn_mu);
    out->conns_total = atomic_load(&m->n_conns_total);
    out->conns_refused = atomic_load(&m->n_conns_refused);
    out->events = atomic_load(&m->n_events);
    out->events_dup = atomic_load(&m->n_events_dup);
    out->frames_bad = atomic_load(&m->n_frames_bad);
    out->commands_sent = atomic_load(&m->n_commands_sent);
    out->results = atomic_load(&m->n_results);
}
