/*
 * vigie_cmd.h — subcommands of the `vigie` binary.
 */
#ifndef VG_BIN_CMD_H
#define VG_BIN_CMD_H

#include "core/core.h"

/* Exit statuses scripts can rely on. */
enum {
    VG_EXIT_OK = 0,
    VG_EXIT_FAIL = 1,  /* rules with errors, unreadable inputs */
    VG_EXIT_USAGE = 2, /* bad command line */
};

struct vg_command {
    const char *name;
    const char *help;
    int (*fn)(int argc, char **argv);
};

int vg_cmd_server(int argc, char **argv);
int vg_cmd_config(int argc, char **argv);
int vg_cmd_hunt(int argc, char **argv);
int vg_cmd_decode(int argc, char **argv);
int vg_cmd_search(int argc, char **argv);
int vg_cmd_rules(int argc, char **argv);
int vg_cmd_mapping(int argc, char **argv);
int vg_cmd_demo(int argc, char **argv);
int vg_cmd_version(int argc, char **argv);
int vg_cmd_user(int argc, char **argv);
int vg_cmd_token(int argc, char **argv);
int vg_cmd_intel(int argc, char **argv);
int vg_cmd_vuln(int argc, char **argv);
/* REST clients (vigie_client.c) */
int vg_cmd_incident(int argc, char **argv);
int vg_cmd_alert(int argc, char **argv);
int vg_cmd_case(int argc, char **argv);
int vg_cmd_exception(int argc, char **argv);
int vg_cmd_run(int argc, char **argv);
int vg_cmd_agent(int argc, char **argv);
int vg_cmd_audit(int argc, char **argv);

#endif
