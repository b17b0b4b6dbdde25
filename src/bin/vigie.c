/*
 * vigie.c — the `vigie` command: dispatch to subcommands. Thin by design: every command
 * parses its options and calls into the modules.
 */
#include "bin/vigie_cmd.h"
#include "bin/vigie_playbook.h"

#include <stdlib.h>
#include <string.h>

static const struct vg_command commands[] = {
    {"server", "run the SIEM server: collect, decode, detect, store and search", vg_cmd_server},
    {"config", "print the server's configuration schema (config schema)", vg_cmd_config},
    {"hunt", "run Sigma rules over EVTX, JSON and log files", vg_cmd_hunt},
    {"decode", "decode log lines as the server does and print the normalised events",
     vg_cmd_decode},
    {"search", "search the events stored by the server (--data DIR QUERY)", vg_cmd_search},
    {"rules", "check or list Sigma rules (rules check|list PATH...)", vg_cmd_rules},
    {"mapping", "print the built-in Sigma logsource mapping", vg_cmd_mapping},
    {"demo", "hunt over the bundled example logs with the bundled example rules", vg_cmd_demo},
    {"intel",
     "threat intelligence: intel import|stats|list|search|match|expire|remove|policy|export|taxii",
     vg_cmd_intel},
    {"vuln", "vulnerability scanning: vuln vercmp|outdated|scan|db|discover", vg_cmd_vuln},
    {"user", "manage API users: user add|passwd|del|list --data DIR", vg_cmd_user},
    {"token", "manage API tokens: token create|revoke|list --data DIR", vg_cmd_token},
    {"incident", "list, show and update incidents (via the server's API)", vg_cmd_incident},
    {"alert", "list alerts, show their triage, set verdicts (via the API)", vg_cmd_alert},
    {"case", "work cases: create, comment, observables, tasks, report (via the API)", vg_cmd_case},
    {"exception", "noise control: list, add, backtest, delete exceptions (via the API)",
     vg_cmd_exception},
    {"playbook", "check, dry-run and list the actions of playbooks (playbook check|test|actions)",
     vg_cmd_playbook},
    {"run", "playbook runs: list, show, approve, deny, cancel (via the API)", vg_cmd_run},
    {"agent", "enrolled agents: list, show, enrollment tokens, revoke, commands (via the API)",
     vg_cmd_agent},
    {"audit", "verify the hash-chained audit log (audit verify --data DIR), list it", vg_cmd_audit},
    {"version", "print the version", vg_cmd_version},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vigie <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < VG_ARRAY_LEN(commands); i++) {
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    }
    fprintf(f, "\n`vigie <command> --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    const char *lv = getenv("VIGIE_LOG_LEVEL");
    enum vg_log_level level;
    if (lv && vg_log_level_parse(lv, &level) == VG_OK) {
        vg_log_set_level(level);
    }
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? VG_EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        return vg_cmd_version(argc - 1, argv + 1);
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(commands); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "vigie: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return VG_EXIT_USAGE;
}
