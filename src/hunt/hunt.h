/*
 * hunt.h — offline threat hunting: run a Sigma ruleset over log files (EVTX, JSON, text)
 * and report every detection, like Hayabusa/Chainsaw but with the full Sigma 2.1 feature
 * set including correlations. Used by `vigie hunt`.
 *
 * Inputs are files or directories (recursed, sorted, format detected per file) processed by
 * a pool of worker threads, one file at a time each; detections are written in input order.
 * Rules referenced by correlation rules are replayed through the correlator at the end in
 * timestamp order, so correlations see a merged, time-ordered stream across files.
 */
#ifndef VG_HUNT_H
#define VG_HUNT_H

#include "detect/detect.h"

enum vg_hunt_format {
    VG_HUNT_TABLE = 0,
    VG_HUNT_JSONL,
    VG_HUNT_CSV,
};

struct vg_hunt_opts {
    const char *const *inputs;
    size_t ninputs;
    int format;        /* enum vg_hunt_format */
    int min_level;     /* enum vg_sigma_level; 0 = all */
    int threads;       /* 0 = number of CPUs */
    size_t max_record; /* 0 = 16 MiB */
    bool progress;     /* progress bar on stderr */
    bool summary;      /* summary on stderr */
    FILE *out;
};

struct vg_hunt_result {
    uint64_t files;
    uint64_t unreadable;    /* inputs that could not be read (exit status 1) */
    uint64_t skipped_files; /* unsupported formats */
    uint64_t bytes;
    uint64_t events;
    uint64_t bad_records;
    uint64_t oversized;
    uint64_t detections;
    uint64_t correlations;
    uint64_t by_level[6];
    uint64_t candidates; /* rule variants evaluated in full */
    double seconds;
};

/* Run rs over the inputs. Returns VG_OK (even with unreadable inputs: see result). */
int vg_hunt_run(struct vg_ruleset *rs, const struct vg_hunt_opts *o, struct vg_hunt_result *res);

#endif /* VG_HUNT_H */
