/*
 * agent_main.c — the `vigie-agent` command (issue 5): thin over src/agent/agent_run.h.
 *
 *   vigie-agent enroll --server URL --token T [--state DIR] [--hostname H] [--ca-file F]
 *   vigie-agent run [--state DIR] [-c FILE] [--endpoint HOST:PORT]
 *   vigie-agent collectors          list the collectors and their backends
 *   vigie-agent actions             list the response actions (JSON)
 */
#include "agent/agent_resp.h"
#include "agent/agent_run.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_STATE "/var/lib/vigie-agent"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vigie-agent enroll --server URL --token TOKEN [--state DIR] [--hostname H]\n"
               "                          [--ca-file FILE]\n"
               "       vigie-agent run [--state DIR] [-c FILE] [--endpoint HOST:PORT]\n"
               "       vigie-agent collectors | actions | version\n\n"
               "  --state DIR   the agent's state (default " DEFAULT_STATE ")\n"
               "  --server URL  the server's API for the enrollment, e.g. https://siem:8470\n"
               "  -c FILE       agent configuration (YAML: collectors: {process: {}, fim: {paths: "
               "[/etc]}})\n");
}

/* --name VALUE pairs into vals[] by the position of the name in names[]. */
static int parse_opts(int argc, char **argv, const char *const *names, size_t n, const char **vals)
{
    for (int i = 2; i < argc; i++) {
        size_t k = 0;
        while (k < n && strcmp(argv[i], names[k]) != 0) {
            k++;
        }
        if (k == n || i + 1 >= argc) {
            fprintf(stderr, "vigie-agent: unexpected '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
        vals[k] = argv[++i];
    }
    return 0;
}

static int cmd_enroll(int argc, char **argv)
{
    static const char *const names[] = {"--server", "--token", "--state", "--hostname",
                                        "--ca-file"};
    const char *v[5] = {NULL, NULL, DEFAULT_STATE, NULL, NULL};
    if (parse_opts(argc, argv, names, 5, v)) {
        return 2;
    }
    struct vg_agent_enroll_opts o = {
        .server_url = v[0], .token = v[1], .state_dir = v[2], .hostname = v[3], .ca_file = v[4]};
    char err[1024] = "";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = vg_agent_enroll(&o, err, sizeof(err));
    curl_global_cleanup();
    if (rc != VG_OK) {
        fprintf(stderr, "vigie-agent enroll: %s\n", err);
        return 1;
    }
    printf("enrolled; state in %s (vigie-agent run --state %s)\n", o.state_dir, o.state_dir);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    static const char *const names[] = {"--state", "-c", "--endpoint"};
    const char *v[3] = {DEFAULT_STATE, NULL, NULL};
    struct vg_yaml_file *yf = NULL;
    char err[1024] = "";
    if (parse_opts(argc, argv, names, 3, v)) {
        return 2;
    }
    if (v[1]) {
        char *text = NULL;
        size_t len = 0;
        int rc = vg_file_read(v[1], 1 << 20, &text, &len);
        rc = rc ? rc : vg_yaml_parse(text, len, &yf, err, sizeof(err));
        vg_free(text);
        if (rc != VG_OK) {
            fprintf(stderr, "vigie-agent: %s: %s\n", v[1], *err ? err : vg_strerror(rc));
            return 2;
        }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct vg_agent_run_opts o = {.state_dir = v[0],
                                  .conf = yf && yf->ndocs ? yf->docs[0] : NULL,
                                  .endpoint = v[2],
                                  .stop = &stop_flag,
                                  .status = stderr};
    int rc = vg_agent_run(&o, err, sizeof(err));
    vg_yaml_file_destroy(yf);
    if (rc != VG_OK) {
        fprintf(stderr, "vigie-agent: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_collectors(void)
{
    size_t n = 0;
    const struct vg_agent_collector_def *const *t = vg_agent_collectors(&n);
    for (size_t i = 0; i < n; i++) {
        printf("%-10s %s\n           backends:", t[i]->name, t[i]->description);
        for (const char *const *b = t[i]->backends; b && *b; b++) {
            printf(" %s", *b);
        }
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *lv = getenv("VIGIE_LOG_LEVEL");
    enum vg_log_level level;
    if (lv && vg_log_level_parse(lv, &level) == VG_OK) {
        vg_log_set_level(level);
    }
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "enroll")) {
        return cmd_enroll(argc, argv);
    }
    if (!strcmp(cmd, "run")) {
        return cmd_run(argc, argv);
    }
    if (!strcmp(cmd, "collectors")) {
        return cmd_collectors();
    }
    if (!strcmp(cmd, "actions")) {
        struct vg_sbuf b = VG_SBUF_INIT;
        vg_agent_resp_list_json(&b);
        printf("%s\n", b.p ? b.p : "[]");
        vg_sbuf_fini(&b);
        return 0;
    }
    if (!strcmp(cmd, "version")) {
        printf("vigie-agent %s\n", VG_AGENT_VERSION);
        return 0;
    }
    usage(argc > 1 && strcmp(cmd, "--help") && strcmp(cmd, "-h") ? stderr : stdout);
    return argc > 1 && (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) ? 0 : 2;
}
