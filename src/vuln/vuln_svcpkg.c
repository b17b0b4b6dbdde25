/*
 * vuln_svcpkg.c — a discovered network service as a (low-confidence) inventory entry, so that
 * `vigie vuln discover --db` can match banners against the advisory database: when the banner
 * names a distribution build ("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"), the product maps to
 * the distribution's source package and the banner's revision gives the package version and
 * the release ("+deb12u3" → Debian 12). Without a distribution revision a banner does not say
 * which fixes were backported, so no entry is made (no guessing from upstream versions).
 */
#include <stdio.h>
#include <string.h>

#include "vuln/vuln_discover.h"
#include "vuln/vuln_svcpkg.h"

/* product (fingerprint name) → Debian source package and the epoch Debian gives it. */
static const struct {
    const char *product, *source, *epoch;
} deb_sources[] = {
    {"openssh", "openssh", "1:"}, {"dropbear", "dropbear", ""}, {"nginx", "nginx", ""},
    {"apache", "apache2", ""},    {"lighttpd", "lighttpd", ""}, {"postfix", "postfix", ""},
    {"exim", "exim4", ""},        {"vsftpd", "vsftpd", ""},     {"proftpd", "proftpd-dfsg", ""},
    {"dovecot", "dovecot", "1:"},
};

/* "…+deb12u3" / "…~deb11u1" → "Debian:12"; NULL when no Debian security revision. */
static const char *debian_release(const char *rev)
{
    static const struct {
        const char *tag, *eco;
    } rel[] = {{"deb13u", "Debian:13"},
               {"deb12u", "Debian:12"},
               {"deb11u", "Debian:11"},
               {"deb10u", "Debian:10"}};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        if (strstr(rev, rel[i].tag)) {
            return rel[i].eco;
        }
    }
    return NULL;
}

int vg_vuln_service_pkg(const struct vg_vuln_service *s, struct vg_vuln_svcpkg *out)
{
    const char *rev, *eco;
    memset(out, 0, sizeof(*out));
    if (!s->product[0] || !s->version[0] || strncmp(s->extra, "Debian-", 7) != 0) {
        return VG_ENOENT;
    }
    rev = s->extra + 7;
    if (!(eco = debian_release(rev))) {
        return VG_ENOENT;
    }
    for (size_t i = 0; i < sizeof(deb_sources) / sizeof(deb_sources[0]); i++) {
        if (strcmp(s->product, deb_sources[i].product) != 0) {
            continue;
        }
        snprintf(out->name, sizeof(out->name), "%s", deb_sources[i].source);
        snprintf(out->version, sizeof(out->version), "%s%s-%s", deb_sources[i].epoch, s->version,
                 rev);
        snprintf(out->ecosystem, sizeof(out->ecosystem), "%s", eco);
        out->pkg = (struct vg_vuln_pkg){out->ecosystem, out->name, out->name,
                                        out->version,   NULL,      VG_VULN_DPKG};
        return VG_OK;
    }
    return VG_ENOENT;
}
