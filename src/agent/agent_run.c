/*
 * agent_run.c — the agent's run loop: collectors → spool → transport → server, and the
 * server's verified commands → response actions (see agent_run.h).
 *
 * Every event goes through the spool before anything is sent, so a server that is away, a
 * restart of the agent or a broken connection never loses one: the transport replays from
 * the last acknowledged sequence. Commands are verified by the transport (Ed25519 signature
 * of the server's command key, this agent's id, expiry, replay window) before they reach
 * on_command here.
 */
#include "agent/agent_resp.h"
#include "agent/agent_run.h"
#include "agent/agent_spool.h"
#include "agent/agent_transport.h"
#include "agent/agent_wire.h"
#include "event/event.h"

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
    const struct vg_agent_collector_def *defs[MAX_COLLECTORS];
    struct vg_agent_collector *cols[MAX_COLLECTORS];
    size_t ncols;
    struct vg_agent_resp_opts resp;
    const char *agent_id, *endpoint;
    char host[256], port[16];
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

static int start_one(struct agent *a, const char *name, const struct vg_yaml_node *conf)
{
    const struct vg_agent_collector_def *d = vg_agent_collector_find(name);
    char err[512];
    if (!d) {
        VG_ERR("agent", "unknown collector '%s' (vigie-agent collectors lists them)", name);
        return VG_EINVAL;
    }
    if (a->ncols == MAX_COLLECTORS) {
        return VG_ELIMIT;
    }
    struct vg_agent_collector_opts co = {.conf = conf,
                                         .state_dir = a->o->state_dir,
                                         .emit = vg_agent_spool_emit,
                                         .emit_ctx = a->spool};
    struct vg_agent_collector *c = NULL;
    int rc = d->start(&co, &c, err, sizeof(err));
    if (rc != VG_OK) {
        VG_WARN("agent", "collector %s not started: %s", name, err);
        return VG_OK; /* the others run; HELLO reports what runs */
    }
    VG_INFO("agent", "collector %s on backend %s", name, d->backend(c));
    a->defs[a->ncols] = d;
    a->cols[a->ncols++] = c;
    return VG_OK;
}

static int start_collectors(struct agent *a)
{
    const struct vg_yaml_node *m = a->o->conf ? vg_yaml_get(a->o->conf, "collectors") : NULL;
    int rc = VG_OK;
    if (!m) {
        for (size_t i = 0; i < VG_ARRAY_LEN(default_collectors) && rc == VG_OK; i++) {
            rc = start_one(a, default_collectors[i], NULL);
        }
        return rc;
    }
    if (m->type != VG_YAML_MAP) {
        VG_ERR("agent", "collectors: expected a map of collector name → settings");
        return VG_EINVAL;
    }
    for (size_t i = 0; i < m->n && rc == VG_OK; i++) {
        const struct vg_yaml_node *k = m->items[2 * i], *v = m->items[2 * i + 1];
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)k->len, k->str);
        rc = start_one(a, name, v && v->type == VG_YAML_MAP ? v : NULL);
    }
    return rc;
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

int vg_agent_run(const struct vg_agent_run_opts *o, char *err, size_t errsz)
{
    struct agent a = {.o = o};
    a.arena = vg_arena_create(16384);
    a.resp.state_dir = o->state_dir;
    int rc = a.arena ? open_parts(&a, err, errsz) : VG_ENOMEM;
    rc = rc ? rc : start_collectors(&a);
    if (rc == VG_EINVAL && !*err) {
        snprintf(err, errsz, "bad collector configuration (see the log)");
    }
    rc = rc ? rc : start_transport(&a, err, errsz);
    for (unsigned tick = 1; rc == VG_OK && !*o->stop; tick++) {
        usleep(100 * 1000);
        if (o->status && tick % 300 == 0) {
            status_line(&a, o->status);
        }
    }
    for (size_t i = a.ncols; i-- > 0;) {
        a.defs[i]->stop(a.cols[i]);
    }
    vg_agent_transport_stop(a.transport);
    vg_agent_cmd_verifier_destroy(a.verifier);
    vg_agent_spool_close(a.spool);
    vg_arena_destroy(a.arena);
    return rc;
}
