/*
 * test_svcpkg.c — discovered services as low-confidence inventory entries
 * (src/vuln/vuln_svcpkg.c): a banner naming a Debian build gives the source package, the
 * Debian version (with the package's epoch) and the release; anything less gives nothing.
 */
#include <string.h>

#include "vgtest.h"
#include "vuln/vuln_discover.h"
#include "vuln/vuln_svcpkg.h"

static int map(const char *product, const char *version, const char *extra,
               struct vg_vuln_svcpkg *out)
{
    struct vg_vuln_service s;
    memset(&s, 0, sizeof(s));
    snprintf(s.product, sizeof(s.product), "%s", product);
    snprintf(s.version, sizeof(s.version), "%s", version);
    snprintf(s.extra, sizeof(s.extra), "%s", extra);
    return vg_vuln_service_pkg(&s, out);
}

VG_TEST(svcpkg_debian_builds)
{
    struct vg_vuln_svcpkg p;
    CHECK_EQ_INT(map("openssh", "9.2p1", "Debian-2+deb12u3", &p), 0);
    CHECK_STR(p.pkg.name, "openssh");
    CHECK_STR(p.pkg.source, "openssh");
    CHECK_STR(p.pkg.version, "1:9.2p1-2+deb12u3");
    CHECK_STR(p.pkg.ecosystem, "Debian:12");
    CHECK_EQ_INT(p.pkg.scheme, VG_VULN_DPKG);
    CHECK_EQ_INT(map("openssh", "8.4p1", "Debian-5+deb11u3", &p), 0);
    CHECK_STR(p.pkg.ecosystem, "Debian:11");
    CHECK_EQ_INT(map("nginx", "1.22.1", "Debian-1~deb12u1", &p), 0);
    CHECK_STR(p.pkg.version, "1.22.1-1~deb12u1");
    /* no Debian security revision: the backported fixes are unknown, no entry */
    CHECK_EQ_INT(map("apache", "2.4.62", "Debian", &p), VG_ENOENT);
    CHECK_EQ_INT(map("openssh", "9.6p1", "Ubuntu-3ubuntu13.5", &p), VG_ENOENT);
    CHECK_EQ_INT(map("openssh", "9.2p1", "Debian-2", &p), VG_ENOENT);
    CHECK_EQ_INT(map("caddy", "2.7", "Debian-1+deb12u1", &p), VG_ENOENT);
    CHECK_EQ_INT(map("", "", "", &p), VG_ENOENT);
}
