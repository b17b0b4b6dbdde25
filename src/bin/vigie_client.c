/*
 * vigie_client.c — the triage, case and playbook commands of the CLI: thin clients of the
 * server's REST API, so the CLI and the console do exactly the same things through the same
 * authorisation and audit path (no private back door into the databases).
 *
 *   vigie incident list|show|update ...
 *   vigie alert    show|triage|verdict ...
 *   vigie case     list|show|create|update|comment|observable|task|link|timeline|report ...
 *   vigie exception list|add|backtest|del ...
 *   vigie run      list|show|approve|deny|cancel ...   (and `vigie playbook run ID`)
 *   vigie agent    list|show|token|revoke|command|commands ...
 *
 * Where: --server URL or $VIGIE_SERVER (default http://127.0.0.1:8470); credentials: --token
 * or $VIGIE_TOKEN (an API token from `vigie token create`). Options after the positional
 * arguments become query parameters for GET requests and JSON body fields otherwise
 * (numbers, true/false and null keep their JSON type; `--json TEXT` gives the whole body).
 */
#include "audit/audit.h"
#include "bin/vigie_cmd.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client_verb {
    const char *noun, *verb;
    const char *method;
    const char *path;   /* "%s" is replaced by the first positional argument (an id) */
    const char *second; /* a second positional argument becomes this body field, or NULL */
    const char *help;
};

static const struct client_verb verbs[] = {
    {"incident", "list", "GET", "/api/v1/incidents", NULL, "[--status S] [--min_risk N]"},
    {"incident", "show", "GET", "/api/v1/incidents/%s", NULL, "ID"},
    {"incident", "update", "PATCH", "/api/v1/incidents/%s", NULL,
     "ID [--status S] [--assignee U] [--verdict V --summary TEXT]"},
    {"alert", "list", "GET", "/api/v1/alerts", NULL, "[--level N] [--rule ID]"},
    {"alert", "triage", "GET", "/api/v1/alerts/%s/triage", NULL, "ID"},
    {"alert", "verdict", "POST", "/api/v1/alerts/%s/verdict", "verdict",
     "ID true_positive|benign|false_positive [--comment TEXT]"},
    {"case", "list", "GET", "/api/v1/cases", NULL, "[--status S] [--assignee U]"},
    {"case", "show", "GET", "/api/v1/cases/%s", NULL, "ID"},
    {"case", "create", "POST", "/api/v1/cases", NULL,
     "--title T [--severity high] [--tlp amber] [--description D]"},
    {"case", "update", "PATCH", "/api/v1/cases/%s", NULL,
     "ID [--status S] [--verdict V --summary T] [--assignee U]"},
    {"case", "comment", "POST", "/api/v1/cases/%s/comments", "text", "ID TEXT"},
    {"case", "observable", "POST", "/api/v1/cases/%s/observables", NULL,
     "ID --type ip --value 203.0.113.5 [--ioc true]"},
    {"case", "task", "POST", "/api/v1/cases/%s/tasks", "title", "ID TITLE [--group G]"},
    {"case", "link", "POST", "/api/v1/cases/%s/alerts", NULL,
     "ID --json '{\"alert_ids\":[1,2],\"incident_ids\":[3]}'"},
    {"case", "timeline", "GET", "/api/v1/cases/%s/timeline", NULL, "ID"},
    {"case", "report", "GET", "/api/v1/cases/%s/report", NULL, "ID [--format markdown|html]"},
    {"exception", "list", "GET", "/api/v1/exceptions", NULL, ""},
    {"exception", "add", "POST", "/api/v1/exceptions", NULL,
     "--json '{\"rule\":\"...\",\"expires\":\"7d\",\"reason\":\"...\"}'"},
    {"exception", "backtest", "POST", "/api/v1/exceptions/backtest", NULL, "--json '{...}'"},
    {"exception", "del", "DELETE", "/api/v1/exceptions/%s", NULL, "ID"},
    {"run", "list", "GET", "/api/v1/runs", NULL, "[--status S] [--playbook ID]"},
    {"run", "show", "GET", "/api/v1/runs/%s", NULL, "ID"},
    {"run", "approve", "POST", "/api/v1/runs/%s/approve", NULL, "ID --step STEP [--comment C]"},
    {"run", "deny", "POST", "/api/v1/runs/%s/deny", NULL, "ID --step STEP [--comment C]"},
    {"run", "cancel", "POST", "/api/v1/runs/%s/cancel", NULL, "ID"},
    {"run", "approvals", "GET", "/api/v1/approvals", NULL, "[--status pending]"},
    {"audit", "list", "GET", "/api/v1/audit", NULL, "[--object case:12]"},
    {"agent", "list", "GET", "/api/v1/agents", NULL, "[--status online|offline|revoked]"},
    {"agent", "show", "GET", "/api/v1/agents/%s", NULL, "ID"},
    {"agent", "token", "POST", "/api/v1/agents/enroll-tokens", NULL, "[--ttl 24h] [--uses N]"},
    {"agent", "revoke", "POST", "/api/v1/agents/%s/revoke", NULL, "ID"},
    {"agent", "command", "POST", "/api/v1/agents/%s/commands", "action",
     "ID ACTION [--json '{\"action\":..,\"args\":{..}}'] (vigie-agent actions lists them)"},
    {"agent", "commands", "GET", "/api/v1/agents/%s/commands", NULL, "ID"},
};

static void client_usage(FILE *f, const char *noun)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(verbs); i++) {
        if (!noun || !strcmp(verbs[i].noun, noun)) {
            fprintf(f, "usage: vigie %s %s %s\n", verbs[i].noun, verbs[i].verb, verbs[i].help);
        }
    }
    fprintf(f, "\ncommon options:\n"
               "  --server URL   the server (default $VIGIE_SERVER or http://127.0.0.1:8470)\n"
               "  --token T      an API token (default $VIGIE_TOKEN)\n"
               "  --json TEXT    the request body as JSON (instead of --field value options)\n");
}

/* A JSON scalar as typed on the command line: numbers, booleans and null keep their type. */
static void add_json_value(struct vg_sbuf *b, const char *v)
{
    int64_t i;
    if (!strcmp(v, "true") || !strcmp(v, "false") || !strcmp(v, "null") ||
        (vg_parse_i64(v, strlen(v), &i) == VG_OK && v[0] != '+' && (v[0] != '0' || !v[1]))) {
        vg_sbuf_adds(b, v);
    } else {
        vg_sbuf_add_json_str(b, v, strlen(v));
    }
}

static void add_query(struct vg_sbuf *url, CURL *c, const char *k, const char *v, bool *first)
{
    char *ek = curl_easy_escape(c, k, 0), *ev = curl_easy_escape(c, v, 0);
    vg_sbuf_printf(url, "%c%s=%s", *first ? '?' : '&', ek ? ek : "", ev ? ev : "");
    *first = false;
    curl_free(ek);
    curl_free(ev);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    vg_sbuf_add(ud, p, sz * n);
    return sz * n;
}

struct client_req {
    const char *server, *token, *json;
    struct vg_sbuf url, body;
    bool first_query;
    int nbody;
};

/* Options after the positional arguments: --server, --token, --json, or fields. */
static int parse_opts(struct client_req *r, CURL *c, const struct client_verb *v, int argc,
                      char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "vigie %s %s: expected --option VALUE, got '%s'\n", v->noun, v->verb,
                    argv[i]);
            return VG_EINVAL;
        }
        const char *k = argv[i] + 2, *val = argv[++i];
        if (!strcmp(k, "server")) {
            r->server = val;
        } else if (!strcmp(k, "token")) {
            r->token = val;
        } else if (!strcmp(k, "json")) {
            r->json = val;
        } else if (!strcmp(v->method, "GET")) {
            add_query(&r->url, c, k, val, &r->first_query);
        } else {
            vg_sbuf_adds(&r->body, r->nbody++ ? "," : "{");
            vg_sbuf_add_json_str(&r->body, k, strlen(k));
            vg_sbuf_addc(&r->body, ':');
            add_json_value(&r->body, val);
        }
    }
    return VG_OK;
}

/* Send the request; print the response body; exit status from the HTTP status. */
static int client_send(struct client_req *r, CURL *c, const struct client_verb *v)
{
    struct vg_sbuf resp = {0};
    struct curl_slist *h = NULL;
    char auth[512];
    long status = 0;
    if (r->token && *r->token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->token);
        h = curl_slist_append(h, auth);
    }
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, r->url.p);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, v->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    if (strcmp(v->method, "GET") != 0) {
        const char *body = r->json ? r->json : (r->nbody ? r->body.p : "{}");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (cc != CURLE_OK) {
        fprintf(stderr, "vigie %s %s: %s: %s\n", v->noun, v->verb, r->server,
                curl_easy_strerror(cc));
        vg_sbuf_fini(&resp);
        return VG_EXIT_FAIL;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    FILE *out = status >= 400 ? stderr : stdout;
    if (resp.len) {
        fwrite(resp.p, 1, resp.len, out);
        if (resp.p[resp.len - 1] != '\n') {
            fputc('\n', out);
        }
    }
    if (status == 401) {
        fprintf(stderr, "(set --token or VIGIE_TOKEN to an API token: vigie token create)\n");
    }
    vg_sbuf_fini(&resp);
    return status >= 200 && status < 300 ? VG_EXIT_OK : VG_EXIT_FAIL;
}

static const struct client_verb *find_verb(const char *noun, const char *verb)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(verbs); i++) {
        if (!strcmp(verbs[i].noun, noun) && !strcmp(verbs[i].verb, verb)) {
            return &verbs[i];
        }
    }
    return NULL;
}

/* argv[0] is the noun ("case"), argv[1] the verb. */
static int client_run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        client_usage(argc < 2 ? stderr : stdout, argv[0]);
        return argc < 2 ? VG_EXIT_USAGE : VG_EXIT_OK;
    }
    const struct client_verb *v = find_verb(argv[0], argv[1]);
    if (!v) {
        fprintf(stderr, "vigie %s: unknown command '%s'\n\n", argv[0], argv[1]);
        client_usage(stderr, argv[0]);
        return VG_EXIT_USAGE;
    }
    int npos = (strstr(v->path, "%s") ? 1 : 0) + (v->second ? 1 : 0), rc = VG_EXIT_USAGE;
    if (argc < 2 + npos || (npos && !strncmp(argv[2], "--", 2))) {
        fprintf(stderr, "usage: vigie %s %s %s\n", v->noun, v->verb, v->help);
        return VG_EXIT_USAGE;
    }
    struct client_req r = {.first_query = true};
    r.server = getenv("VIGIE_SERVER") ? getenv("VIGIE_SERVER") : "http://127.0.0.1:8470";
    r.token = getenv("VIGIE_TOKEN");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "vigie: libcurl could not start\n");
        return VG_EXIT_FAIL;
    }
    if (v->second) {
        vg_sbuf_adds(&r.body, "{");
        vg_sbuf_add_json_str(&r.body, v->second, strlen(v->second));
        vg_sbuf_addc(&r.body, ':');
        vg_sbuf_add_json_str(&r.body, argv[2 + npos - 1], strlen(argv[2 + npos - 1]));
        r.nbody = 1;
    }
    struct vg_sbuf path = {0};
    if (parse_opts(&r, c, v, argc - 2 - npos, argv + 2 + npos) == VG_OK) {
        char *id = npos && strstr(v->path, "%s") ? curl_easy_escape(c, argv[2], 0) : NULL;
        const char *hole = strstr(v->path, "%s");
        /* the URL is server + path (id escaped) + the query collected in r.url */
        vg_sbuf_adds(&path, r.server);
        vg_sbuf_add(&path, v->path, hole ? (size_t)(hole - v->path) : strlen(v->path));
        if (hole) {
            vg_sbuf_adds(&path, id ? id : "");
            vg_sbuf_adds(&path, hole + 2);
        }
        curl_free(id);
        vg_sbuf_add(&path, r.url.p ? r.url.p : "", r.url.len);
        vg_sbuf_fini(&r.url);
        r.url = path;
        if (r.nbody) {
            vg_sbuf_addc(&r.body, '}');
        }
        rc = client_send(&r, c, v);
    }
    vg_sbuf_fini(&r.url);
    vg_sbuf_fini(&r.body);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    return rc;
}

int vg_cmd_incident(int argc, char **argv)
{
    return client_run(argc, argv);
}

int vg_cmd_alert(int argc, char **argv)
{
    return client_run(argc, argv);
}

int vg_cmd_case(int argc, char **argv)
{
    return client_run(argc, argv);
}

int vg_cmd_exception(int argc, char **argv)
{
    return client_run(argc, argv);
}

int vg_cmd_run(int argc, char **argv)
{
    return client_run(argc, argv);
}

int vg_cmd_agent(int argc, char **argv)
{
    return client_run(argc, argv);
}

static int audit_verify(int argc, char **argv)
{
    const char *data = "vigie-data";
    for (int i = 2; i < argc; i++) {
        if ((!strcmp(argv[i], "--data") || !strcmp(argv[i], "-d")) && i + 1 < argc) {
            data = argv[++i];
        } else {
            fprintf(stderr, "usage: vigie audit verify [--data DIR]\n");
            return VG_EXIT_USAGE;
        }
    }
    char path[4096], err[512];
    struct vg_audit_report rep;
    snprintf(path, sizeof(path), "%s/audit.db", data);
    int rc = vg_audit_verify(path, &rep, err, sizeof(err));
    if (rc == VG_OK) {
        printf("audit log %s: intact, %lld records\n", path, (long long)rep.records);
        return VG_EXIT_OK;
    }
    if (rc == VG_EINVAL) {
        printf("audit log %s: TAMPERED at record %lld: %s (%lld records verified before it)\n",
               path, (long long)rep.bad_seq, rep.reason, (long long)rep.records);
    } else {
        fprintf(stderr, "vigie audit verify: %s\n", err);
    }
    return VG_EXIT_FAIL;
}

int vg_cmd_audit(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "verify")) {
        return audit_verify(argc, argv);
    }
    if (argc < 2) {
        fprintf(stderr, "usage: vigie audit verify [--data DIR]\n");
    }
    return client_run(argc, argv);
}
