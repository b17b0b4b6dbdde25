/*
 * agent_run.h — the agent assembled (issue 5): enrollment and the run loop that wires the
 * collectors to the spool and the transport, and the server's signed commands to the
 * response actions. `vigie-agent` (src/bin/agent_main.c) is a thin main over these.
 *
 * State directory (default /var/lib/vigie-agent): agent.key, agent.crt, ca.crt,
 * command.pub, agent.json (from the enrollment), spool/ (events not yet acknowledged),
 * commands.state (the replay window), fim.db, quarantine.db and quarantine/.
 */
#ifndef VG_AGENT_RUN_H
#define VG_AGENT_RUN_H

#include "agent/agent.h"

#include <signal.h>
#include <stdio.h>

#define VG_AGENT_VERSION "0.1.0"

struct vg_agent_enroll_opts {
    const char *server_url; /* the server's API: "http://127.0.0.1:8470" or https://... */
    const char *token;      /* an enrollment token (vigie agent token / POST enroll-tokens) */
    const char *state_dir;
    const char *hostname; /* NULL: gethostname() */
    const char *ca_file;  /* trust for an https API (NULL: the system's) */
};
/* Enrol: key + CSR → certificate, CA, command key, agent id. err says what failed. */
int vg_agent_enroll(const struct vg_agent_enroll_opts *o, char *err, size_t errsz);

struct vg_agent_run_opts {
    const char *state_dir;
    const struct vg_yaml_node *conf; /* the agent configuration (NULL: defaults) */
    const char *endpoint;            /* "host:port" overriding the enrolled endpoint */
    volatile sig_atomic_t *stop;     /* the loop ends when *stop becomes non-zero */
    FILE *status;                    /* a status line per interval (NULL: none) */
};
/*
 * Run until *stop: start the configured collectors (each on its best backend, reported),
 * spool their events, send them to the server, execute verified commands. Returns VG_OK
 * after a clean stop; VG_EINVAL / VG_EIO when the state or configuration is unusable (err).
 */
int vg_agent_run(const struct vg_agent_run_opts *o, char *err, size_t errsz);

#endif /* VG_AGENT_RUN_H */
