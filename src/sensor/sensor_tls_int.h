/*
 * sensor_tls_int.h — private pieces of the sensor's TLS parser (issue 6), shared by
 * sensor_tls.c (record layer, per-flow state, the `tls` record), sensor_tls_hello.c
 * (ClientHello/ServerHello, JA3/JA3S/JA4) and sensor_tls_cert.c (X.509 via OpenSSL).
 * Nothing outside those files includes it.
 *
 * The hello and certificate parsers turn untrusted handshake bytes into ready-made JSON
 * member fragments (",\"sni\":\"…\",\"ja3\":{…}") kept in per-flow buffers until the flow's
 * single `tls` record is written; the few facts the record-layer logic needs (versions,
 * session ids, SNI) go to small fixed fields.
 */
#ifndef VG_SENSOR_TLS_INT_H
#define VG_SENSOR_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "sensor/sensor_app.h"

#define VG_SENSOR_TLS_SNI_MAX 255

/* What the ClientHello told us. */
struct vg_sensor_tls_client_info {
    bool seen;
    uint16_t version; /* legacy_version */
    uint8_t sid_len;
    uint8_t sid[32];
    uint16_t sni_len;
    char sni[VG_SENSOR_TLS_SNI_MAX + 1]; /* NUL-terminated */
};

/* What the ServerHello told us. */
struct vg_sensor_tls_server_info {
    bool seen;
    uint16_t version; /* legacy_version, or supported_versions when present */
    bool tls13;       /* TLS 1.3 (or a draft) was selected */
    uint8_t sid_len;
    uint8_t sid[32];
};

/* Big-endian bounded cursor over untrusted bytes: getters fail (false) past the end. */
struct vg_sensor_tls_cur {
    const uint8_t *p;
    size_t n;
    size_t off;
};

bool vg_sensor_tls_cur_u8(struct vg_sensor_tls_cur *c, uint8_t *v);
bool vg_sensor_tls_cur_u16(struct vg_sensor_tls_cur *c, uint16_t *v);
bool vg_sensor_tls_cur_u24(struct vg_sensor_tls_cur *c, uint32_t *v);
/* Borrow n bytes as a sub-cursor. */
bool vg_sensor_tls_cur_sub(struct vg_sensor_tls_cur *c, size_t n, struct vg_sensor_tls_cur *sub);

/*
 * Parse a ClientHello body (after the 4-byte handshake header). Fills ci and appends the
 * record members sni, ja3, ja4, client_alpns, client_handshake to frag. Returns 0, or
 * VG_EINVAL when the message is malformed (frag then holds whatever was complete).
 */
int vg_sensor_tls_client_hello(const uint8_t *p, size_t n, struct vg_sensor_tls_client_info *ci,
                               struct vg_sbuf *frag);
/* Parse an SSLv2 CLIENT-HELLO body (after the 2-byte record header): version only. */
int vg_sensor_tls_client_hello_v2(const uint8_t *p, size_t n, struct vg_sensor_tls_client_info *ci);
/*
 * Parse a ServerHello body. Fills si and appends ja3s, server_alpns, server_handshake to
 * frag. Returns 0 or VG_EINVAL.
 */
int vg_sensor_tls_server_hello(const uint8_t *p, size_t n, struct vg_sensor_tls_server_info *si,
                               struct vg_sbuf *frag);

/* Suricata's name of a TLS version ("TLS 1.2", "TLSv1", "UNDETERMINED", decimal if unknown). */
void vg_sensor_tls_version_str(uint16_t v, char out[24]);

/* Lowercase hex digest helpers (OpenSSL EVP). out gets 2*len+1 bytes. */
void vg_sensor_tls_md5_hex(const void *p, size_t n, char out[33]);
void vg_sensor_tls_sha256_hex(const void *p, size_t n, char out[65]);

/*
 * Parse the first certificate (DER) of a Certificate message and append subject, issuerdn,
 * subjectaltname, serial, fingerprint, notbefore, notafter to frag; fill facts (strings point
 * into *out, valid as long as *out). sni may be NULL (then name_matches is true).
 * Returns 0 (subject and issuer found), VG_EINVAL (not a certificate).
 */
struct vg_sensor_tls_cert {
    char subject[1024];
    char issuer[1024];
    struct vg_sensor_cert_facts facts;
};
int vg_sensor_tls_cert_parse(const uint8_t *der, size_t n, const char *sni,
                             struct vg_sensor_tls_cert *out, struct vg_sbuf *frag);

#endif
