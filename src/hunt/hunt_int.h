/*
 * hunt_int.h — internals of the hunt module.
 */
#ifndef VG_HUNT_INT_H
#define VG_HUNT_INT_H

#include "hunt/hunt.h"

void hunt_csv_header(struct vg_sbuf *o);
void hunt_format_detection(struct vg_sbuf *o, int format, const struct vg_ruleset *rs,
                           const struct vg_detect_match *m, struct vg_event *ev, const char *path);
void hunt_format_correlation(struct vg_sbuf *o, int format, const struct vg_corr_alert *a,
                             const char *path);

#endif
