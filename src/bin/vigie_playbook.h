/*
 * vigie_playbook.h — the `vigie playbook` command (check, test, actions).
 */
#ifndef VG_BIN_PLAYBOOK_H
#define VG_BIN_PLAYBOOK_H

int vg_cmd_playbook(int argc, char **argv);

#endif
