/*
 * vuln_discover.h — network service discovery for `vigie vuln discover` (issue 8).
 *
 * TCP connect scanning of targets × ports with a token-bucket rate limit, a bound on
 * concurrent connections and per-step timeouts; banner grabbing (what the server says first,
 * an HTTP HEAD probe, a TLS handshake with the certificate's subject/issuer/validity) and our
 * own fingerprints (a table of POSIX regular expressions, each with a description) that map
 * banners to a product and version. The results feed vuln_match.c as low-confidence findings.
 *
 * Thread-safety: vg_vuln_discover runs its own event loop on the calling thread and keeps no
 * global state besides the compiled fingerprint table (built once, read-only afterwards);
 * several scans may run in parallel on different threads.
 */
#ifndef VG_VULN_DISCOVER_H
#define VG_VULN_DISCOVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "vuln/vuln.h"

#define VG_VULN_DISCOVER_MAX_HOSTS 65536 /* bound on the hosts one TARGETS spec expands to */
#define VG_VULN_BANNER_MAX         512   /* escaped banner bytes kept (incl. NUL) */
#define VG_VULN_FIELD_MAX          128   /* product, version, extra (incl. NUL) */
#define VG_VULN_CERT_FIELD_MAX     256   /* TLS subject / issuer (incl. NUL) */

/* ---------------------------------------------------------------- targets and ports */

struct vg_vuln_target {
    struct sockaddr_storage addr; /* port left 0 */
    socklen_t alen;
    char host[256]; /* the hostname it came from ("" for literals and CIDR) — SNI, Host: */
};
struct vg_vuln_targets {
    size_t n, cap;
    struct vg_vuln_target *v;
};

/*
 * Parse a comma-separated TARGETS spec: IPv4/IPv6 literals, CIDR blocks (IPv4 /16 or
 * longer, IPv6 /112 or longer; network and broadcast addresses are kept), hostnames
 * (resolved with getaddrinfo; every distinct address is kept). Duplicates are removed.
 * max_hosts bounds the expansion (0 = VG_VULN_DISCOVER_MAX_HOSTS); past it VG_ELIMIT.
 * Returns 0, VG_EINVAL (err names the item and why), VG_ENOENT (name did not resolve),
 * VG_ELIMIT or VG_ENOMEM. *out is owned by the caller: vg_vuln_targets_fini.
 */
int vg_vuln_targets_parse(const char *spec, size_t max_hosts, struct vg_vuln_targets *out,
                          char *err, size_t errsz);
void vg_vuln_targets_fini(struct vg_vuln_targets *t);

struct vg_vuln_ports {
    size_t n;
    uint16_t *v; /* ascending, distinct */
};
/*
 * Parse a port spec: "22,80,443", ranges "1-1024", "top100" (our list of common TCP
 * ports), mixed ("top100,8443,9000-9010"). Returns 0, VG_EINVAL (err names the item) or
 * VG_ENOMEM; *out is owned by the caller: vg_vuln_ports_fini.
 */
int vg_vuln_ports_parse(const char *spec, struct vg_vuln_ports *out, char *err, size_t errsz);
void vg_vuln_ports_fini(struct vg_vuln_ports *p);

/* ---------------------------------------------------------------- results */

/* One open port. All strings are NUL-terminated, "" when unknown. The struct and host are
 * valid during the callback only (copy what you keep; host points into the scan's targets). */
struct vg_vuln_service {
    char addr[64];    /* numeric address */
    const char *host; /* hostname it was resolved from, or "" (borrowed) */
    uint16_t port;
    const char *proto; /* "tcp" */
    char service[16];  /* "ssh", "http", "https", "smtp", "ftp", "pop3", "imap", "tls", … */
    char banner[VG_VULN_BANNER_MAX];          /* what the server said, escaped: \r \n \t \\ \xHH */
    char product[VG_VULN_FIELD_MAX];          /* "openssh", "nginx", … */
    char version[VG_VULN_FIELD_MAX];          /* "9.2p1", "1.22.1", … */
    char extra[VG_VULN_FIELD_MAX];            /* distro hint: "Debian-2+deb12u3", "Debian", … */
    const char *fingerprint;                  /* name of the table entry that matched, or NULL */
    bool tls;                                 /* a TLS handshake completed */
    char tls_subject[VG_VULN_CERT_FIELD_MAX]; /* RFC 2253 */
    char tls_issuer[VG_VULN_CERT_FIELD_MAX];
    char tls_not_before[32]; /* "2026-11-29T18:00:00Z" */
    char tls_not_after[32];
};

/* Called once per open port; a non-zero return stops the scan (vg_vuln_discover returns it). */
typedef int (*vg_vuln_service_cb)(const struct vg_vuln_service *s, void *ud);

struct vg_vuln_discover_stats {
    uint64_t attempted; /* connection attempts started (TLS retries not counted) */
    uint64_t open;
    uint64_t closed;   /* refused */
    uint64_t filtered; /* connect timed out or unreachable */
    uint64_t elapsed_ns;
};

struct vg_vuln_discover_opts {
    const char *targets;                  /* TARGETS spec (vg_vuln_targets_parse) */
    const char *ports;                    /* port spec (vg_vuln_ports_parse); NULL = "top100" */
    unsigned rate;                        /* connection attempts per second; 0 = 1000 */
    unsigned max_conns;                   /* concurrent connections; 0 = 256 */
    unsigned connect_timeout_ms;          /* 0 = 1000 */
    unsigned read_timeout_ms;             /* per read step; 0 = 2000 */
    bool no_probes;                       /* only report open ports: no banner, no probe, no TLS */
    struct vg_vuln_discover_stats *stats; /* optional out */
};

/*
 * Scan o->targets × o->ports; cb(s, ud) for each open port, in completion order. Returns 0
 * when the scan ran to the end, cb's non-zero value when it stopped the scan, VG_EINVAL
 * (bad spec; err says which item), VG_ENOENT (unresolvable name), VG_ELIMIT, VG_EIO (epoll
 * or socket failure, e.g. out of descriptors) or VG_ENOMEM.
 */
int vg_vuln_discover(const struct vg_vuln_discover_opts *o, vg_vuln_service_cb cb, void *ud,
                     char *err, size_t errsz);

/* ---------------------------------------------------------------- fingerprints */

/* One fingerprint: a POSIX extended regex over the escaped banner text of one service. */
struct vg_vuln_fp {
    const char *name;    /* "openssh" */
    const char *service; /* which text it applies to: "ssh" (identification line), "http"
                            (the Server header value), "smtp", "ftp", "pop3", "imap" (greeting) */
    const char *product; /* product written to the result */
    const char *pattern; /* POSIX ERE */
    int vgroup;          /* capture group holding the version (0 = none) */
    int xgroup;          /* capture group holding the distro/extra text (0 = none) */
    const char *description;
};

/* The fingerprint table (static, read-only); *n = its length. Thread-safe. */
const struct vg_vuln_fp *vg_vuln_fp_list(size_t *n);

/*
 * Match text (n bytes, any bytes) for a service against the table; on a match fill
 * s->product, s->version, s->extra, s->fingerprint and return true. Thread-safe.
 */
bool vg_vuln_fp_match(const char *service, const char *text, size_t n, struct vg_vuln_service *s);

/*
 * Identify a service from the raw bytes a server sent (greeting, or its reply to our HTTP
 * HEAD probe; tls = they came over TLS): fills s->service, s->banner (escaped, bounded),
 * and, through vg_vuln_fp_match, product/version/extra. port breaks ties ("220 ready" on 21
 * is FTP, on 25 SMTP). Never fails; bytes are untrusted. Thread-safe.
 */
void vg_vuln_banner_identify(const uint8_t *data, size_t n, uint16_t port, bool tls,
                             struct vg_vuln_service *s);

/* Escape bytes as printable ASCII (\r \n \t \\ \xHH) into dst (size ≥ 1, always terminated,
 * truncated on a whole escape); returns the bytes written. */
size_t vg_vuln_banner_escape(const uint8_t *p, size_t n, char *dst, size_t size);

#endif
