/*
 * vuln_svcpkg.h — a discovered service as a low-confidence inventory entry (vuln_svcpkg.c).
 */
#ifndef VG_VULN_SVCPKG_H
#define VG_VULN_SVCPKG_H

#include "vuln/vuln.h"

struct vg_vuln_service;

/* The entry and the storage its strings point to. */
struct vg_vuln_svcpkg {
    struct vg_vuln_pkg pkg;
    char name[64], version[192], ecosystem[32];
};

/*
 * When the service's banner names a Debian build of a known product ("OpenSSH_9.2p1
 * Debian-2+deb12u3" → source openssh, version 1:9.2p1-2+deb12u3, Debian:12), fill out and
 * return 0; VG_ENOENT otherwise (no product, no distribution revision, unknown product).
 * Pure, thread-safe; out->pkg points into out.
 */
int vg_vuln_service_pkg(const struct vg_vuln_service *s, struct vg_vuln_svcpkg *out);

#endif
