/*
 * agent_logs.h — the agent's "logs" collector (agent_logs.c): log files tailed with
 * checkpoints (the server's file tailer, src/ingest, feeding a small local journal that the
 * collector reads back into events), and the systemd journal when this build and host have
 * it.
 */
#ifndef VG_AGENT_LOGS_H
#define VG_AGENT_LOGS_H

#include "agent/agent.h"

/* The collector table entry ("logs"). */
extern const struct vg_agent_collector_def vg_agent_logs_collector;

/*
 * Can the systemd-journal backend run here? VG_OK, or VG_EUNSUPPORTED with why = the
 * reasons (this build has no sd-journal; no journald socket at /run/systemd/journal).
 */
int vg_agent_logs_journal_probe(char *why, size_t whysz);

/* Persist now: the tailer checkpoint and the position of the last line emitted (thread-safe). */
int vg_agent_logs_checkpoint(struct vg_agent_collector *c);

#endif /* VG_AGENT_LOGS_H */
