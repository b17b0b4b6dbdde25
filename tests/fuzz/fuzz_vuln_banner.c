/*
 * fuzz_vuln_banner.c — libFuzzer target: banner identification and fingerprinting of
 * network service discovery (vg_vuln_banner_identify, vg_vuln_fp_match in
 * src/vuln/vuln_discover.c) over arbitrary bytes, as a server's reply on the ports of each
 * service kind (SSH, SMTP, FTP, HTTP, HTTPS over TLS, POP3, IMAP, unknown) and as the text
 * of every fingerprint service. Checks that every output string is terminated, bounded and
 * printable, and that a product is set exactly when a fingerprint matched.
 */
#include "vuln/vuln_discover.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n >= cap) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f) {
            abort();
        }
    }
}

static void check(const struct vg_vuln_service *s)
{
    check_str(s->service, sizeof(s->service));
    check_str(s->banner, sizeof(s->banner));
    check_str(s->product, sizeof(s->product));
    check_str(s->version, sizeof(s->version));
    check_str(s->extra, sizeof(s->extra));
    if ((s->fingerprint != NULL) != (s->product[0] != '\0')) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t ports[] = {22, 25, 21, 80, 443, 110, 143, 0};
    static const char *const kinds[] = {"ssh", "http", "smtp", "ftp", "pop3", "imap"};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        struct vg_vuln_service s;
        memset(&s, 0x7f, sizeof(s)); /* stale bytes must not leak through */
        s.banner[0] = s.product[0] = s.version[0] = s.extra[0] = '\0';
        vg_vuln_banner_identify(data, size, ports[i], ports[i] == 443, &s);
        check(&s);
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct vg_vuln_service s;
        memset(&s, 0, sizeof(s));
        if (vg_vuln_fp_match(kinds[i], (const char *)data, size, &s)) {
            check(&s);
        }
    }
    return 0;
}
