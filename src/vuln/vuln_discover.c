/*
 * vuln_discover.c — network service discovery (issue 8): targets and port specs, the
 * epoll-driven TCP connect scanner with a token-bucket rate limit, banner grabbing (greeting,
 * HTTP HEAD probe, TLS handshake with certificate fields) and our own fingerprint table.
 *
 * Sits under `vigie vuln discover` (src/bin/vigie_vuln.c); the products and versions it finds
 * are matched against advisories by vuln_match.c as low-confidence findings.
 *
 * Per connection: CONNECT → (TLS_HS → TLS_IO) | READ. On a port with no known protocol we
 * first wait for a greeting (half the read timeout); if the server stays silent we send an
 * HTTP HEAD; if it then closes silently or answers with TLS records we reconnect once and try
 * a TLS handshake. Every untrusted byte lands in a fixed per-connection buffer.
 */
#include "vuln/vuln_discover.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define RBUF_MAX 4096 /* bytes read from one server */

/* ---------------------------------------------------------------- errors */

static int fail(char *err, size_t errsz, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsz, int rc, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---------------------------------------------------------------- ports */

/* Our list of the 100 most useful TCP ports to look at (services, admin, databases). */
static const uint16_t top100[] = {
    7,    9,    13,   21,   22,   23,   25,    26,    37,    53,    79,   80,   81,   88,   106,
    110,  111,  113,  119,  135,  139,  143,   144,   179,   199,   389,  427,  443,  444,  445,
    465,  513,  514,  515,  543,  544,  548,   554,   587,   631,   636,  646,  873,  990,  993,
    995,  1025, 1026, 1027, 1028, 1029, 1110,  1433,  1521,  1720,  1723, 1755, 1900, 2000, 2001,
    2049, 2121, 2375, 2376, 2717, 3000, 3128,  3306,  3389,  3986,  4899, 5000, 5009, 5051, 5060,
    5101, 5190, 5357, 5432, 5631, 5666, 5800,  5900,  6000,  6001,  6379, 6646, 7070, 8000, 8008,
    8080, 8443, 8888, 9100, 9200, 9999, 10000, 11211, 27017, 32768,
};

static int ports_item(const char *p, size_t n, uint8_t *bits, char *err, size_t errsz)
{
    const char *dash = memchr(p, '-', n);
    int64_t lo, hi;
    if (n == 6 && memcmp(p, "top100", 6) == 0) {
        for (size_t i = 0; i < VG_ARRAY_LEN(top100); i++) {
            bits[top100[i] >> 3] |= (uint8_t)(1u << (top100[i] & 7));
        }
        return VG_OK;
    }
    if (dash) {
        if (vg_parse_i64(p, (size_t)(dash - p), &lo) ||
            vg_parse_i64(dash + 1, n - (size_t)(dash - p) - 1, &hi)) {
            goto bad;
        }
    } else if (vg_parse_i64(p, n, &lo)) {
        goto bad;
    } else {
        hi = lo;
    }
    if (lo < 1 || hi > 65535 || lo > hi) {
        goto bad;
    }
    for (int64_t v = lo; v <= hi; v++) {
        bits[v >> 3] |= (uint8_t)(1u << (v & 7));
    }
    return VG_OK;
bad:
    return fail(err, errsz, VG_EINVAL, "ports: '%.*s' is not a port (1-65535), a range or top100",
                (int)VG_MIN(n, 64), p);
}

int vg_vuln_ports_parse(const char *spec, struct vg_vuln_ports *out, char *err, size_t errsz)
{
    uint8_t *bits = NULL;
    int rc = VG_OK;
    memset(out, 0, sizeof(*out));
    if (!spec || !*spec) {
        return fail(err, errsz, VG_EINVAL, "ports: empty spec");
    }
    bits = vg_calloc(8192, 1);
    if (!bits) {
        return VG_ENOMEM;
    }
    for (const char *p = spec; rc == VG_OK;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        rc = ports_item(p, n, bits, err, errsz);
        if (!c) {
            break;
        }
        p = c + 1;
    }
    if (rc == VG_OK) {
        size_t cnt = 0;
        for (uint32_t v = 1; v < 65536; v++) {
            cnt += (bits[v >> 3] >> (v & 7)) & 1;
        }
        out->v = vg_malloc(cnt * sizeof(uint16_t));
        if (!out->v) {
            rc = VG_ENOMEM;
        }
        for (uint32_t v = 1; rc == VG_OK && v < 65536; v++) {
            if ((bits[v >> 3] >> (v & 7)) & 1) {
                out->v[out->n++] = (uint16_t)v;
            }
        }
    }
    vg_free(bits);
    return rc;
}

void vg_vuln_ports_fini(struct vg_vuln_ports *p)
{
    vg_free(p->v);
    memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- targets */

static bool same_addr(const struct vg_vuln_target *t, const struct sockaddr_storage *a)
{
    if (t->addr.ss_family != a->ss_family) {
        return false;
    }
    if (a->ss_family == AF_INET) {
        return ((const struct sockaddr_in *)&t->addr)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)a)->sin_addr.s_addr;
    }
    return memcmp(&((const struct sockaddr_in6 *)&t->addr)->sin6_addr,
                  &((const struct sockaddr_in6 *)a)->sin6_addr, 16) == 0;
}

/* Append one address; dedup scans the list (names and literals are few; CIDR blocks are
 * distinct by construction and skip it). */
static int targets_add(struct vg_vuln_targets *t, bool dedup, const struct sockaddr_storage *a,
                       const char *host, size_t max)
{
    for (size_t i = 0; dedup && i < t->n; i++) {
        if (same_addr(&t->v[i], a)) {
            return VG_OK;
        }
    }
    if (t->n >= max) {
        return VG_ELIMIT;
    }
    if (vg_grow(&t->v, &t->cap, t->n + 1, sizeof(*t->v))) {
        return VG_ENOMEM;
    }
    struct vg_vuln_target *e = &t->v[t->n++];
    memset(e, 0, sizeof(*e));
    e->addr = *a;
    e->alen = a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    vg_strlcpy(e->host, host, sizeof(e->host));
    return VG_OK;
}

static int targets_cidr(struct vg_vuln_targets *t, const char *ip, int64_t bits, size_t max,
                        char *err, size_t errsz)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    uint32_t count;
    int rc = VG_OK;
    if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
        if (bits < 16 || bits > 32) {
            return fail(err, errsz, VG_ELIMIT, "targets: %s/%lld: IPv4 prefix must be /16../32", ip,
                        (long long)bits);
        }
        ss.ss_family = AF_INET;
        count = 1u << (32 - bits);
        uint32_t base = ntohl(s4->sin_addr.s_addr) & ~(count - 1);
        for (uint32_t i = 0; i < count && rc == VG_OK; i++) {
            s4->sin_addr.s_addr = htonl(base + i);
            rc = targets_add(t, false, &ss, "", max);
        }
    } else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
        if (bits < 112 || bits > 128) {
            return fail(err, errsz, VG_ELIMIT, "targets: %s/%lld: IPv6 prefix must be /112../128",
                        ip, (long long)bits);
        }
        ss.ss_family = AF_INET6;
        count = 1u << (128 - bits);
        uint32_t base =
            ((uint32_t)s6->sin6_addr.s6_addr[14] << 8 | s6->sin6_addr.s6_addr[15]) & ~(count - 1);
        for (uint32_t i = 0; i < count && rc == VG_OK; i++) {
            s6->sin6_addr.s6_addr[14] = (uint8_t)((base + i) >> 8);
            s6->sin6_addr.s6_addr[15] = (uint8_t)(base + i);
            rc = targets_add(t, false, &ss, "", max);
        }
    } else {
        return fail(err, errsz, VG_EINVAL, "targets: '%s' is not an IP address", ip);
    }
    if (rc == VG_ELIMIT) {
        return fail(err, errsz, rc, "targets: more than %zu hosts", max);
    }
    return rc;
}

static int targets_name(struct vg_vuln_targets *t, const char *name, size_t max, char *err,
                        size_t errsz)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *res = NULL;
    struct sockaddr_storage ss;
    int rc = VG_OK;
    bool literal = inet_pton(AF_INET, name, &ss) == 1 || inet_pton(AF_INET6, name, &ss) == 1;
    if (literal) {
        hints.ai_flags = AI_NUMERICHOST;
    }
    int g = getaddrinfo(name, NULL, &hints, &res);
    if (g != 0) {
        return fail(err, errsz, VG_ENOENT, "targets: '%s': %s", name, gai_strerror(g));
    }
    for (struct addrinfo *a = res; a && rc == VG_OK; a = a->ai_next) {
        if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) || a->ai_addrlen > sizeof(ss)) {
            continue;
        }
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, a->ai_addr, a->ai_addrlen);
        rc = targets_add(t, true, &ss, literal ? "" : name, max);
    }
    freeaddrinfo(res);
    if (rc == VG_ELIMIT) {
        return fail(err, errsz, rc, "targets: more than %zu hosts", max);
    }
    return rc;
}

static int targets_item(struct vg_vuln_targets *t, const char *p, size_t n, size_t max, char *err,
                        size_t errsz)
{
    char item[256];
    int64_t bits;
    if (n == 0 || n >= sizeof(item)) {
        return fail(err, errsz, VG_EINVAL, "targets: item %s",
                    n ? "longer than 255 bytes" : "is empty");
    }
    memcpy(item, p, n);
    item[n] = '\0';
    char *slash = strchr(item, '/');
    if (!slash) {
        return targets_name(t, item, max, err, errsz);
    }
    *slash = '\0';
    if (vg_parse_i64(slash + 1, strlen(slash + 1), &bits) || bits < 0 || bits > 128) {
        return fail(err, errsz, VG_EINVAL, "targets: '%.*s': bad prefix length", (int)n, p);
    }
    return targets_cidr(t, item, bits, max, err, errsz);
}

int vg_vuln_targets_parse(const char *spec, size_t max_hosts, struct vg_vuln_targets *out,
                          char *err, size_t errsz)
{
    int rc = VG_OK;
    memset(out, 0, sizeof(*out));
    if (!spec || !*spec) {
        return fail(err, errsz, VG_EINVAL, "targets: empty spec");
    }
    if (max_hosts == 0 || max_hosts > VG_VULN_DISCOVER_MAX_HOSTS) {
        max_hosts = VG_VULN_DISCOVER_MAX_HOSTS;
    }
    for (const char *p = spec; rc == VG_OK;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        rc = targets_item(out, p, n, max_hosts, err, errsz);
        if (!c) {
            break;
        }
        p = c + 1;
    }
    if (rc != VG_OK) {
        vg_vuln_targets_fini(out);
    }
    return rc;
}

void vg_vuln_targets_fini(struct vg_vuln_targets *t)
{
    vg_free(t->v);
    memset(t, 0, sizeof(*t));
}

/* ---------------------------------------------------------------- fingerprints */

/* clang-format off */
static const struct vg_vuln_fp fp_table[] = {
    {"openssh", "ssh", "openssh", "^SSH-[0-9.]+-OpenSSH_([0-9][0-9A-Za-z.]*)( +([^ ].*))?$", 1, 3,
     "OpenSSH identification string; the comment carries the distro revision"},
    {"dropbear", "ssh", "dropbear", "^SSH-[0-9.]+-dropbear_([0-9][0-9.]*)", 1, 0,
     "Dropbear SSH (embedded devices)"},
    {"libssh", "ssh", "libssh", "^SSH-[0-9.]+-libssh[_-]([0-9][0-9.]*)", 1, 0, "libssh server"},
    {"cisco-ssh", "ssh", "cisco-ssh", "^SSH-[0-9.]+-Cisco-([0-9][0-9.]*)", 1, 0,
     "Cisco IOS SSH server"},
    {"paramiko", "ssh", "paramiko", "^SSH-[0-9.]+-paramiko_([0-9][0-9.]*)", 1, 0,
     "Paramiko (Python) SSH server"},
    {"nginx", "http", "nginx", "^nginx(/([0-9][0-9.]*))?( \\(([^)]*)\\))?", 2, 4,
     "nginx Server header (version hidden with server_tokens off)"},
    {"openresty", "http", "openresty", "^openresty(/([0-9][0-9.]*))?", 2, 0, "OpenResty (nginx)"},
    {"apache-coyote", "http", "tomcat", "^Apache-Coyote/([0-9][0-9.]*)", 1, 0,
     "Tomcat's Coyote connector"},
    {"apache", "http", "apache", "^Apache(/([0-9][0-9.]*))?( \\(([^)]*)\\))?", 2, 4,
     "Apache httpd; the parenthesis names the distro (Debian, Ubuntu, Red Hat)"},
    {"lighttpd", "http", "lighttpd", "^lighttpd(/([0-9][0-9.]*))?", 2, 0, "lighttpd"},
    {"iis", "http", "microsoft-iis", "^Microsoft-IIS(/([0-9][0-9.]*))?", 2, 0,
     "Microsoft IIS"},
    {"python-simplehttp", "http", "python", "^SimpleHTTP/([0-9.]+) Python/([0-9][0-9.]*)", 2, 1,
     "Python http.server (SimpleHTTPRequestHandler); version is CPython's"},
    {"python-basehttp", "http", "python", "^BaseHTTP/([0-9.]+) Python/([0-9][0-9.]*)", 2, 1,
     "Python http.server (BaseHTTPRequestHandler); version is CPython's"},
    {"werkzeug", "http", "werkzeug", "^Werkzeug/([0-9][0-9.]*)", 1, 0,
     "Werkzeug development server (Flask)"},
    {"gunicorn", "http", "gunicorn", "^gunicorn(/([0-9][0-9.]*))?", 2, 0, "gunicorn"},
    {"jetty", "http", "jetty", "^Jetty\\(([0-9][^)]*)\\)", 1, 0, "Eclipse Jetty"},
    {"caddy", "http", "caddy", "^Caddy", 0, 0, "Caddy (no version in the header)"},
    {"envoy", "http", "envoy", "^envoy", 0, 0, "Envoy proxy"},
    {"postfix", "smtp", "postfix", "^220[ -].*ESMTP Postfix( \\(([^)]*)\\))?", 0, 2,
     "Postfix greeting (smtpd_banner default; no version)"},
    {"exim", "smtp", "exim", "^220[ -].*Exim ([0-9][0-9.]*)", 1, 0, "Exim greeting"},
    {"sendmail", "smtp", "sendmail", "^220[ -].*Sendmail ([0-9][0-9.]*)(/[0-9.]+)?", 1, 0,
     "Sendmail greeting"},
    {"opensmtpd", "smtp", "opensmtpd", "^220[ -].*ESMTP OpenSMTPD", 0, 0, "OpenSMTPD greeting"},
    {"ms-smtp", "smtp", "microsoft-smtp",
     "^220[ -].*Microsoft ESMTP MAIL Service(, Version: ([0-9][0-9.]*))?", 2, 0,
     "Microsoft Exchange / IIS SMTP"},
    {"vsftpd", "ftp", "vsftpd", "^220[ -].*\\(vsFTPd ([0-9][0-9.]*)\\)", 1, 0, "vsftpd greeting"},
    {"proftpd", "ftp", "proftpd", "^220[ -].*ProFTPD( ([0-9][0-9a-z.]*))?( Server)?( \\(([^)]*)\\))?",
     2, 5, "ProFTPD greeting"},
    {"pure-ftpd", "ftp", "pure-ftpd", "^220[ -].*Pure-FTPd", 0, 0,
     "Pure-FTPd greeting (no version)"},
    {"filezilla", "ftp", "filezilla-server", "^220[ -].*FileZilla Server( version)? ([0-9][0-9a-z.]*)",
     2, 0, "FileZilla Server greeting"},
    {"dovecot-pop3", "pop3", "dovecot", "^\\+OK.*Dovecot( \\(([^)]*)\\))?", 0, 2,
     "Dovecot POP3 greeting"},
    {"dovecot-imap", "imap", "dovecot", "^\\* OK.*Dovecot( \\(([^)]*)\\))?", 0, 2,
     "Dovecot IMAP greeting"},
    {"cyrus-imap", "imap", "cyrus-imapd", "^\\* OK.*Cyrus IMAP v?([0-9][0-9.]*)", 1, 0,
     "Cyrus IMAP greeting"},
    {"courier-imap", "imap", "courier-imap", "^\\* OK.*Courier-IMAP", 0, 0, "Courier IMAP"},
};
/* clang-format on */

static regex_t fp_re[VG_ARRAY_LEN(fp_table)];
static bool fp_ok[VG_ARRAY_LEN(fp_table)];
static pthread_once_t fp_once = PTHREAD_ONCE_INIT;

static void fp_compile(void)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(fp_table); i++) {
        fp_ok[i] = regcomp(&fp_re[i], fp_table[i].pattern, REG_EXTENDED) == 0;
        if (!fp_ok[i]) {
            VG_ERR("vuln", "fingerprint %s: bad pattern", fp_table[i].name);
        }
    }
}

const struct vg_vuln_fp *vg_vuln_fp_list(size_t *n)
{
    *n = VG_ARRAY_LEN(fp_table);
    return fp_table;
}

static void copy_group(const char *text, const regmatch_t *m, int g, char *dst, size_t size)
{
    if (g <= 0 || m[g].rm_so < 0) {
        dst[0] = '\0';
        return;
    }
    size_t n = (size_t)(m[g].rm_eo - m[g].rm_so);
    n = VG_MIN(n, size - 1);
    memcpy(dst, text + m[g].rm_so, n);
    dst[n] = '\0';
}

bool vg_vuln_fp_match(const char *service, const char *text, size_t n, struct vg_vuln_service *s)
{
    char esc[VG_VULN_BANNER_MAX];
    regmatch_t m[8];
    pthread_once(&fp_once, fp_compile);
    /* Match on the escaped text: NUL-terminated, printable, bounded. */
    vg_vuln_banner_escape((const uint8_t *)text, n, esc, sizeof(esc));
    for (size_t i = 0; i < VG_ARRAY_LEN(fp_table); i++) {
        const struct vg_vuln_fp *f = &fp_table[i];
        if (!fp_ok[i] || strcmp(f->service, service) != 0 ||
            regexec(&fp_re[i], esc, VG_ARRAY_LEN(m), m, 0) != 0) {
            continue;
        }
        vg_strlcpy(s->product, f->product, sizeof(s->product));
        copy_group(esc, m, f->vgroup, s->version, sizeof(s->version));
        copy_group(esc, m, f->xgroup, s->extra, sizeof(s->extra));
        s->fingerprint = f->name;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- banners */

size_t vg_vuln_banner_escape(const uint8_t *p, size_t n, char *dst, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char e[4];
        size_t k = 0;
        uint8_t c = p[i];
        if (c == '\r' || c == '\n' || c == '\t' || c == '\\') {
            e[k++] = '\\';
            e[k++] = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't' : '\\';
        } else if (c >= 0x20 && c < 0x7f) {
            e[k++] = (char)c;
        } else {
            e[k++] = '\\';
            e[k++] = 'x';
            e[k++] = hex[c >> 4];
            e[k++] = hex[c & 15];
        }
        if (o + k + 1 > size) {
            break;
        }
        memcpy(dst + o, e, k);
        o += k;
    }
    dst[o] = '\0';
    return o;
}

/* Length of the first line (without \r\n). */
static size_t line_len(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    size_t l = nl ? (size_t)(nl - p) : n;
    return l && p[l - 1] == '\r' ? l - 1 : l;
}

/* End of the HTTP header block (after the blank line), or n. */
static size_t http_head_len(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\n' &&
            (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n'))) {
            return i + 1;
        }
    }
    return n;
}

/* Find the Server header's value in an HTTP header block. */
static bool http_server(const uint8_t *p, size_t n, const uint8_t **v, size_t *vn)
{
    size_t i = 0;
    while (i < n) {
        size_t l = line_len(p + i, n - i);
        if (l > 7 && vg_str_ieq_ascii((const char *)p + i, 7, "server:", 7)) {
            size_t s = 7;
            while (s < l && (p[i + s] == ' ' || p[i + s] == '\t')) {
                s++;
            }
            *v = p + i + s;
            *vn = l - s;
            return true;
        }
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        if (!nl) {
            break;
        }
        i = (size_t)(nl - p) + 1;
    }
    return false;
}

static bool has_ci(const uint8_t *p, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        if (vg_str_ieq_ascii((const char *)p + i, m, needle, m)) {
            return true;
        }
    }
    return false;
}

static const char *greeting_220(const uint8_t *p, size_t l, uint16_t port)
{
    if (has_ci(p, l, "ftp")) {
        return "ftp";
    }
    if (has_ci(p, l, "smtp") || has_ci(p, l, "mail") || has_ci(p, l, "exim") ||
        has_ci(p, l, "sendmail") || has_ci(p, l, "postfix")) {
        return "smtp";
    }
    return port == 25 || port == 465 || port == 587 || port == 2525 ? "smtp" : "ftp";
}

static const char *classify(const uint8_t *p, size_t n, uint16_t port, bool tls)
{
    size_t l = line_len(p, n);
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        return tls ? "https" : "http";
    }
    if (n >= 4 && memcmp(p, "SSH-", 4) == 0) {
        return "ssh";
    }
    if (n >= 4 && memcmp(p, "220", 3) == 0 && (p[3] == ' ' || p[3] == '-')) {
        return greeting_220(p, l, port);
    }
    if (n >= 3 && memcmp(p, "+OK", 3) == 0) {
        return "pop3";
    }
    if (n >= 4 && memcmp(p, "* OK", 4) == 0) {
        return "imap";
    }
    if (n >= 4 && memcmp(p, "RFB ", 4) == 0) {
        return "vnc";
    }
    if (n >= 2 && (p[0] == 0x15 || p[0] == 0x16) && p[1] == 0x03) {
        return "tls";
    }
    return tls ? "tls" : "";
}

void vg_vuln_banner_identify(const uint8_t *data, size_t n, uint16_t port, bool tls,
                             struct vg_vuln_service *s)
{
    const char *svc = classify(data, n, port, tls);
    vg_strlcpy(s->service, svc, sizeof(s->service));
    s->product[0] = s->version[0] = s->extra[0] = '\0';
    s->fingerprint = NULL;
    if (!strcmp(svc, "http") || !strcmp(svc, "https")) {
        const uint8_t *v;
        size_t vn;
        vg_vuln_banner_escape(data, http_head_len(data, n), s->banner, sizeof(s->banner));
        if (http_server(data, n, &v, &vn)) {
            vg_vuln_fp_match("http", (const char *)v, vn, s);
        }
        return;
    }
    vg_vuln_banner_escape(data, line_len(data, n), s->banner, sizeof(s->banner));
    if (*svc && strcmp(svc, "tls") != 0) {
        vg_vuln_fp_match(svc, (const char *)data, line_len(data, n), s);
    }
}

/* ---------------------------------------------------------------- the scanner */

enum cstate { C_FREE = 0, C_CONNECT, C_READ, C_TLS_HS, C_TLS_WRITE, C_TLS_READ };

struct conn {
    enum cstate st;
    int fd;
    SSL *ssl;
    const struct vg_vuln_target *t;
    uint16_t port;
    bool tls;        /* this connection does a TLS handshake */
    bool probe_sent; /* the HEAD probe went out (or the protocol needs no greeting wait) */
    bool greet_only; /* TLS port whose protocol speaks first (imaps, pop3s, smtps) */
    bool counted;    /* counted as open */
    int cerr;        /* errno of a connect that failed synchronously */
    uint64_t deadline;
    size_t n, wsent;
    char req[384];
    size_t reqlen;
    uint8_t buf[RBUF_MAX];
    struct vg_vuln_service svc;
};

struct scan {
    const struct vg_vuln_discover_opts *o;
    vg_vuln_service_cb cb;
    void *ud;
    int ep;
    SSL_CTX *ctx;
    struct conn *c;
    size_t nconn, active;
    uint64_t conn_ns, read_ns;
    double tokens, burst;
    uint64_t last_refill;
    unsigned rate;
    int stop;
    int sys_errno; /* errno of the socket/epoll call that failed the scan */
    struct vg_vuln_discover_stats st;
};

static bool port_in(uint16_t p, const uint16_t *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i] == p) {
            return true;
        }
    }
    return false;
}

static const uint16_t tls_ports[] = {443, 465, 636, 853, 990, 992, 993, 994, 995, 5061, 8443, 9443};
static const uint16_t tls_greet_ports[] = {465, 990, 992, 993, 995};
static const uint16_t http_ports[] = {80, 81, 591, 3000, 5000, 8000, 8008, 8080, 8081, 8888, 9000};

static void conn_close(struct scan *sc, struct conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        epoll_ctl(sc->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
}

static void conn_done(struct scan *sc, struct conn *c)
{
    if (c->counted && !sc->stop) {
        if (c->n > 0 || c->svc.tls) {
            vg_vuln_banner_identify(c->buf, c->n, c->port, c->svc.tls, &c->svc);
        }
        int r = sc->cb ? sc->cb(&c->svc, sc->ud) : 0;
        if (r != 0) {
            sc->stop = r;
        }
    }
    conn_close(sc, c);
    c->st = C_FREE;
    sc->active--;
}

static int conn_watch(struct scan *sc, struct conn *c, uint32_t ev, int op)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    return epoll_ctl(sc->ep, op, c->fd, &e);
}

static void conn_build_req(struct conn *c)
{
    const char *h = c->t->host[0] ? c->t->host : c->svc.addr;
    bool v6 = !c->t->host[0] && c->t->addr.ss_family == AF_INET6;
    int n = snprintf(c->req, sizeof(c->req), "HEAD / HTTP/1.0\r\nHost: %s%s%s\r\n\r\n",
                     v6 ? "[" : "", h, v6 ? "]" : "");
    c->reqlen = n > 0 ? VG_MIN((size_t)n, sizeof(c->req) - 1) : 0;
}

/* Open the socket and start a non-blocking connect; C_CONNECT. false when socket() fails. */
static int conn_start(struct scan *sc, struct conn *c)
{
    struct sockaddr_storage ss = c->t->addr;
    if (ss.ss_family == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_port = htons(c->port);
    } else {
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(c->port);
    }
    c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        return VG_EIO;
    }
    c->st = C_CONNECT;
    c->deadline = vg_clock_ns() + sc->conn_ns;
    if (connect(c->fd, (struct sockaddr *)&ss, c->t->alen) != 0 && errno != EINPROGRESS) {
        /* Refused synchronously (possible on loopback): let the event loop see it. */
        c->cerr = errno;
        c->deadline = 0;
        return VG_OK;
    }
    return conn_watch(sc, c, EPOLLOUT, EPOLL_CTL_ADD) == 0 ? VG_OK : VG_EIO;
}

static void conn_send_probe(struct scan *sc, struct conn *c)
{
    /* A one-packet request on a fresh socket: a short write only happens on a broken peer. */
    ssize_t w = send(c->fd, c->req, c->reqlen, MSG_NOSIGNAL);
    VG_UNUSED(w);
    c->probe_sent = true;
    c->deadline = vg_clock_ns() + sc->read_ns;
}

static void conn_retry_tls(struct scan *sc, struct conn *c)
{
    conn_close(sc, c);
    c->tls = true;
    c->n = 0;
    c->probe_sent = false;
    if (conn_start(sc, c) != VG_OK) {
        conn_done(sc, c);
    }
}

static void tls_cert_time(const ASN1_TIME *t, char *dst, size_t size)
{
    struct tm tm;
    dst[0] = '\0';
    if (t && ASN1_TIME_to_tm(t, &tm) == 1) {
        strftime(dst, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
}

static void tls_name(const X509_NAME *nm, char *dst, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    dst[0] = '\0';
    if (!b) {
        return;
    }
    if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253) >= 0) {
        long n = BIO_get_mem_data(b, &p);
        if (n > 0) {
            vg_vuln_banner_escape((const uint8_t *)p, (size_t)n, dst, size);
        }
    }
    BIO_free(b);
}

static void tls_take_cert(struct conn *c)
{
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    c->svc.tls = true;
    if (!x) {
        return;
    }
    tls_name(X509_get_subject_name(x), c->svc.tls_subject, sizeof(c->svc.tls_subject));
    tls_name(X509_get_issuer_name(x), c->svc.tls_issuer, sizeof(c->svc.tls_issuer));
    tls_cert_time(X509_get0_notBefore(x), c->svc.tls_not_before, sizeof(c->svc.tls_not_before));
    tls_cert_time(X509_get0_notAfter(x), c->svc.tls_not_after, sizeof(c->svc.tls_not_after));
    X509_free(x);
}

/* The response is complete: a line for greetings, the header block for HTTP. */
static bool resp_complete(const struct conn *c)
{
    if (c->n >= sizeof(c->buf)) {
        return true;
    }
    if (!c->probe_sent || c->greet_only) {
        return memchr(c->buf, '\n', c->n) != NULL;
    }
    return http_head_len(c->buf, c->n) < c->n ||
           (c->n >= 4 && memcmp(c->buf, "HTTP", 4) != 0 && memchr(c->buf, '\n', c->n) != NULL);
}

static void tls_wait(struct scan *sc, struct conn *c, int r)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
        conn_watch(sc, c, EPOLLIN, EPOLL_CTL_MOD);
    } else if (e == SSL_ERROR_WANT_WRITE) {
        conn_watch(sc, c, EPOLLOUT, EPOLL_CTL_MOD);
    } else {
        ERR_clear_error();
        conn_done(sc, c);
    }
}

static void tls_step(struct scan *sc, struct conn *c)
{
    int r;
    if (c->st == C_TLS_HS) {
        r = SSL_connect(c->ssl);
        if (r != 1) {
            tls_wait(sc, c, r);
            return;
        }
        tls_take_cert(c);
        c->deadline = vg_clock_ns() + sc->read_ns;
        c->st = c->greet_only ? C_TLS_READ : C_TLS_WRITE;
    }
    if (c->st == C_TLS_WRITE) {
        r = SSL_write(c->ssl, c->req, (int)c->reqlen);
        if (r <= 0) {
            tls_wait(sc, c, r);
            return;
        }
        c->probe_sent = true;
        c->st = C_TLS_READ;
    }
    while (c->n < sizeof(c->buf)) {
        r = SSL_read(c->ssl, c->buf + c->n, (int)(sizeof(c->buf) - c->n));
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                tls_wait(sc, c, r);
                return;
            }
            ERR_clear_error();
            break;
        }
        c->n += (size_t)r;
        if (resp_complete(c)) {
            break;
        }
    }
    conn_done(sc, c);
}

static void tls_begin(struct scan *sc, struct conn *c)
{
    c->ssl = SSL_new(sc->ctx);
    if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
        conn_done(sc, c);
        return;
    }
    if (c->t->host[0]) {
        SSL_set_tlsext_host_name(c->ssl, c->t->host);
    }
    c->greet_only = port_in(c->port, tls_greet_ports, VG_ARRAY_LEN(tls_greet_ports));
    c->st = C_TLS_HS;
    c->deadline = vg_clock_ns() + sc->read_ns;
    tls_step(sc, c);
}

static void conn_connected(struct scan *sc, struct conn *c)
{
    if (!c->counted) {
        c->counted = true;
        sc->st.open++;
    }
    if (sc->o->no_probes) {
        conn_done(sc, c);
        return;
    }
    conn_build_req(c);
    if (c->tls || port_in(c->port, tls_ports, VG_ARRAY_LEN(tls_ports))) {
        c->tls = true;
        tls_begin(sc, c);
        return;
    }
    conn_watch(sc, c, EPOLLIN, EPOLL_CTL_MOD);
    c->st = C_READ;
    if (port_in(c->port, http_ports, VG_ARRAY_LEN(http_ports))) {
        conn_send_probe(sc, c);
    } else {
        c->deadline = vg_clock_ns() + sc->read_ns / 2; /* greeting wait */
    }
}

static void conn_on_connect(struct scan *sc, struct conn *c)
{
    int e = 0;
    socklen_t el = sizeof(e);
    if (c->cerr) {
        e = c->cerr;
    } else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0) {
        e = errno;
    }
    if (e == 0) {
        conn_connected(sc, c);
        return;
    }
    if (!c->counted) {
        if (e == ECONNREFUSED) {
            sc->st.closed++;
        } else {
            sc->st.filtered++;
        }
    }
    conn_done(sc, c);
}

/* After a probe: silence-then-close or TLS records mean "try TLS" (once). */
static bool wants_tls(const struct conn *c)
{
    if (c->tls || !c->probe_sent) {
        return false;
    }
    return c->n == 0 || (c->n >= 2 && (c->buf[0] == 0x15 || c->buf[0] == 0x16) && c->buf[1] == 3);
}

static void conn_read(struct scan *sc, struct conn *c)
{
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->n, sizeof(c->buf) - c->n, 0);
        if (r > 0) {
            c->n += (size_t)r;
            if (!resp_complete(c)) {
                continue;
            }
        } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        break; /* complete, EOF or error */
    }
    if (wants_tls(c)) {
        conn_retry_tls(sc, c);
        return;
    }
    conn_done(sc, c);
}

static void conn_timeout(struct scan *sc, struct conn *c)
{
    if (c->st == C_CONNECT) {
        if (!c->counted) {
            sc->st.filtered++;
        }
        conn_done(sc, c);
    } else if (c->st == C_READ && !c->probe_sent && c->n == 0) {
        conn_send_probe(sc, c);
    } else {
        conn_done(sc, c);
    }
}

static void conn_event(struct scan *sc, struct conn *c)
{
    switch (c->st) {
    case C_CONNECT:
        conn_on_connect(sc, c);
        break;
    case C_READ:
        conn_read(sc, c);
        break;
    case C_TLS_HS:
    case C_TLS_WRITE:
    case C_TLS_READ:
        tls_step(sc, c);
        break;
    case C_FREE:
        break;
    }
}

/* ---------------------------------------------------------------- the loop */

static void bucket_refill(struct scan *sc, uint64_t now)
{
    double add = (double)(now - sc->last_refill) * sc->rate / 1e9;
    sc->tokens = VG_MIN(sc->burst, sc->tokens + add);
    sc->last_refill = now;
}

static struct conn *conn_free_slot(struct scan *sc)
{
    for (size_t i = 0; i < sc->nconn; i++) {
        if (sc->c[i].st == C_FREE) {
            return &sc->c[i];
        }
    }
    return NULL;
}

/* Start as many attempts as tokens and free slots allow. */
static int scan_launch(struct scan *sc, const struct vg_vuln_targets *t,
                       const struct vg_vuln_ports *p, size_t *next, size_t total)
{
    while (*next < total && sc->active < sc->nconn && sc->tokens >= 1.0 && !sc->stop) {
        struct conn *c = conn_free_slot(sc);
        size_t k = (*next)++;
        memset(c, 0, offsetof(struct conn, buf));
        memset(&c->svc, 0, sizeof(c->svc));
        c->fd = -1;
        c->t = &t->v[k / p->n];
        c->port = p->v[k % p->n];
        c->svc.port = c->port;
        c->svc.proto = "tcp";
        c->svc.host = c->t->host;
        getnameinfo((const struct sockaddr *)&c->t->addr, c->t->alen, c->svc.addr,
                    sizeof(c->svc.addr), NULL, 0, NI_NUMERICHOST);
        sc->tokens -= 1.0;
        sc->active++;
        sc->st.attempted++;
        if (conn_start(sc, c) != VG_OK) {
            sc->sys_errno = errno;
            sc->active--;
            c->st = C_FREE;
            return VG_EIO;
        }
    }
    return VG_OK;
}

/* Expire deadlines; return the ms until the next deadline (bounded). */
static int scan_expire(struct scan *sc, uint64_t now)
{
    uint64_t next = now + 100000000ull;
    for (size_t i = 0; i < sc->nconn; i++) {
        struct conn *c = &sc->c[i];
        if (c->st == C_FREE) {
            continue;
        }
        if (c->deadline <= now) {
            if (c->deadline == 0) {
                conn_on_connect(sc, c); /* synchronous connect failure */
            } else {
                conn_timeout(sc, c);
            }
        }
        if (c->st != C_FREE && c->deadline < next) {
            next = c->deadline;
        }
    }
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

static int scan_ctx(struct scan *sc)
{
    sc->ctx = SSL_CTX_new(TLS_client_method());
    if (!sc->ctx) {
        return VG_ENOMEM;
    }
    /* Discovery, not trust: accept every certificate and every legacy parameter. */
    SSL_CTX_set_verify(sc->ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_security_level(sc->ctx, 0);
    SSL_CTX_set_cipher_list(sc->ctx, "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(sc->ctx, 0);
    return VG_OK;
}

static int scan_run(struct scan *sc, const struct vg_vuln_targets *t, const struct vg_vuln_ports *p)
{
    struct epoll_event ev[64];
    size_t next = 0, total = t->n * p->n;
    int rc = VG_OK;
    while ((next < total || sc->active > 0) && rc == VG_OK && !sc->stop) {
        uint64_t now = vg_clock_ns();
        bucket_refill(sc, now);
        rc = scan_launch(sc, t, p, &next, total);
        int wait = scan_expire(sc, vg_clock_ns());
        if (next < total && sc->tokens < 1.0) {
            int tw = (int)((1.0 - sc->tokens) * 1000.0 / sc->rate) + 1;
            wait = VG_MIN(wait, tw);
        }
        int ne = epoll_wait(sc->ep, ev, VG_ARRAY_LEN(ev), sc->active ? wait : VG_MIN(wait, 10));
        if (ne < 0 && errno != EINTR) {
            sc->sys_errno = errno;
            rc = VG_EIO;
        }
        for (int i = 0; i < ne && !sc->stop; i++) {
            conn_event(sc, ev[i].data.ptr);
        }
    }
    for (size_t i = 0; i < sc->nconn; i++) {
        conn_close(sc, &sc->c[i]);
    }
    return rc;
}

int vg_vuln_discover(const struct vg_vuln_discover_opts *o, vg_vuln_service_cb cb, void *ud,
                     char *err, size_t errsz)
{
    struct vg_vuln_targets t = {0};
    struct vg_vuln_ports p = {0};
    struct scan sc = {.o = o, .cb = cb, .ud = ud, .ep = -1};
    uint64_t t0 = vg_clock_ns();
    int rc = vg_vuln_targets_parse(o->targets, 0, &t, err, errsz);
    if (rc == VG_OK) {
        rc = vg_vuln_ports_parse(o->ports ? o->ports : "top100", &p, err, errsz);
    }
    if (rc != VG_OK) {
        goto out;
    }
    sc.rate = o->rate ? o->rate : 1000;
    sc.burst = VG_MAX(1.0, sc.rate / 50.0);
    sc.tokens = sc.burst;
    sc.last_refill = t0;
    sc.nconn = o->max_conns ? o->max_conns : 256;
    sc.conn_ns = (uint64_t)(o->connect_timeout_ms ? o->connect_timeout_ms : 1000) * 1000000ull;
    sc.read_ns = (uint64_t)(o->read_timeout_ms ? o->read_timeout_ms : 2000) * 1000000ull;
    sc.c = vg_calloc(sc.nconn, sizeof(*sc.c));
    sc.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!sc.c || sc.ep < 0) {
        rc = sc.c ? fail(err, errsz, VG_EIO, "discover: epoll: %s", strerror(errno)) : VG_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < sc.nconn; i++) {
        sc.c[i].fd = -1;
    }
    if ((rc = scan_ctx(&sc)) != VG_OK) {
        goto out;
    }
    rc = scan_run(&sc, &t, &p);
    if (rc == VG_EIO) {
        fail(err, errsz, rc, "discover: socket/epoll: %s", strerror(sc.sys_errno));
    } else if (sc.stop) {
        rc = sc.stop;
    }
out:
    sc.st.elapsed_ns = vg_clock_ns() - t0;
    if (o->stats) {
        *o->stats = sc.st;
    }
    SSL_CTX_free(sc.ctx);
    if (sc.ep >= 0) {
        close(sc.ep);
    }
    vg_free(sc.c);
    vg_vuln_ports_fini(&p);
    vg_vuln_targets_fini(&t);
    return rc;
}
