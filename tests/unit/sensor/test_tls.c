/*
 * test_tls.c — the sensor's TLS parser (sensor_tls*.c) over hand-built handshakes: ClientHello
 * fields (SNI, ALPN, supported_versions, GREASE), JA3/JA4 recomputed independently, the
 * ServerHello, a runtime-generated self-signed certificate (subject, serial, fingerprint,
 * validity, SAN, self-signed/name facts), handshake messages spanning records, every byte
 * split of both directions giving the same record, TLS 1.3 / resumption / hello-only logging
 * points, SSLv2 probing and malformed input.
 */
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_tls_int.h"
#include "sensor_rig.h"
#include "vgtest.h"

/* ---------------------------------------------------------------- byte builder */

struct bb {
    uint8_t p[16384];
    size_t n;
};

static void b8(struct bb *b, unsigned v)
{
    b->p[b->n++] = (uint8_t)v;
}
static void b16(struct bb *b, unsigned v)
{
    b8(b, v >> 8);
    b8(b, v & 0xff);
}
static void b24(struct bb *b, unsigned v)
{
    b8(b, v >> 16);
    b16(b, v & 0xffff);
}
static void bmem(struct bb *b, const void *p, size_t n)
{
    if (n == 0) {
        return;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
/* Patch a length field of w bytes at off to cover everything after it. */
static void blen(struct bb *b, size_t off, int w)
{
    size_t l = b->n - off - (size_t)w;
    for (int i = w - 1; i >= 0; i--) {
        b->p[off + (size_t)i] = (uint8_t)(l & 0xff);
        l >>= 8;
    }
}

/* Wrap body as records of at most chunk bytes of content type ct. */
static void records(struct bb *out, int ct, const uint8_t *body, size_t n, size_t chunk)
{
    for (size_t o = 0; o < n; o += chunk) {
        size_t k = VG_MIN(chunk, n - o);
        b8(out, (unsigned)ct);
        b16(out, 0x0303);
        b16(out, (unsigned)k);
        bmem(out, body + o, k);
    }
}

static void ext_begin(struct bb *b, unsigned type, size_t *off)
{
    b16(b, type);
    *off = b->n;
    b16(b, 0);
}

/* ClientHello message (with handshake header). */
static void client_hello(struct bb *m, uint16_t legacy, bool tls13, const uint8_t *sid, size_t sidn)
{
    size_t hs, exts, e, l;
    b8(m, 1);
    hs = m->n;
    b24(m, 0);
    b16(m, legacy);
    for (int i = 0; i < 32; i++) {
        b8(m, (unsigned)i);
    }
    b8(m, (unsigned)sidn);
    bmem(m, sid, sidn);
    b16(m, 8);
    b16(m, 0x1a1a); /* GREASE */
    b16(m, 0x1301);
    b16(m, 0xc02f);
    b16(m, 0x002f);
    b8(m, 1);
    b8(m, 0);
    exts = m->n;
    b16(m, 0);
    ext_begin(m, 0x2a2a, &e); /* GREASE extension */
    blen(m, e, 2);
    ext_begin(m, 0, &e); /* SNI */
    l = m->n;
    b16(m, 0);
    b8(m, 0);
    b16(m, 15);
    bmem(m, "www.example.com", 15);
    blen(m, l, 2);
    blen(m, e, 2);
    ext_begin(m, 10, &e); /* supported_groups */
    b16(m, 6);
    b16(m, 0x3a3a);
    b16(m, 29);
    b16(m, 23);
    blen(m, e, 2);
    ext_begin(m, 11, &e); /* ec_point_formats */
    b8(m, 1);
    b8(m, 0);
    blen(m, e, 2);
    ext_begin(m, 13, &e); /* signature_algorithms */
    b16(m, 4);
    b16(m, 0x0804);
    b16(m, 0x0403);
    blen(m, e, 2);
    ext_begin(m, 16, &e); /* ALPN */
    l = m->n;
    b16(m, 0);
    b8(m, 2);
    bmem(m, "h2", 2);
    b8(m, 8);
    bmem(m, "http/1.1", 8);
    blen(m, l, 2);
    blen(m, e, 2);
    if (tls13) {
        ext_begin(m, 43, &e); /* supported_versions */
        b8(m, 6);
        b16(m, 0x4a4a);
        b16(m, 0x0304);
        b16(m, 0x0303);
        blen(m, e, 2);
    }
    blen(m, exts, 2);
    blen(m, hs, 3);
}

static void server_hello(struct bb *m, bool tls13, const uint8_t *sid, size_t sidn)
{
    size_t hs, exts, e, l;
    b8(m, 2);
    hs = m->n;
    b24(m, 0);
    b16(m, 0x0303);
    for (int i = 0; i < 32; i++) {
        b8(m, 0x80u + (unsigned)i);
    }
    b8(m, (unsigned)sidn);
    bmem(m, sid, sidn);
    b16(m, tls13 ? 0x1301 : 0xc02f);
    b8(m, 0);
    exts = m->n;
    b16(m, 0);
    ext_begin(m, 0xff01, &e);
    b8(m, 0);
    blen(m, e, 2);
    ext_begin(m, 16, &e);
    l = m->n;
    b16(m, 0);
    b8(m, 2);
    bmem(m, "h2", 2);
    blen(m, l, 2);
    blen(m, e, 2);
    if (tls13) {
        ext_begin(m, 43, &e);
        b16(m, 0x0304);
        blen(m, e, 2);
    }
    blen(m, exts, 2);
    blen(m, hs, 3);
}

/* A self-signed EC certificate for CN=www.example.com with SAN *.example.com. */
/* self: signed by its own key; issued: issuer name differs (a CA-issued certificate) */
static size_t make_cert_ex(uint8_t *out, size_t cap, bool self, bool issued)
{
    EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = self ? NULL : EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 0x8a07);
    ASN1_TIME_set(X509_getm_notBefore(x), 1420070400); /* 2015-01-01T00:00:00 */
    ASN1_TIME_set(X509_getm_notAfter(x), 1735689600);  /* 2025-01-01T00:00:00 */
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"Ex, Inc.", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"www.example.com", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(nm, "emailAddress", MBSTRING_ASC,
                               (const unsigned char *)"a@example.com", -1, -1, 0);
    X509_NAME *in = X509_NAME_dup(nm);
    if (issued) {
        X509_NAME_add_entry_by_txt(in, "OU", MBSTRING_ASC, (const unsigned char *)"CA", -1, -1, 0);
    }
    X509_set_issuer_name(x, in);
    X509_NAME_free(in);
    X509_set_pubkey(x, k);
    X509_EXTENSION *ext =
        X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:*.example.com,DNS:example.org");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, self ? k : k2, EVP_sha256());
    unsigned char *q = out;
    int n = i2d_X509(x, NULL);
    size_t r = 0;
    if (n > 0 && (size_t)n <= cap) {
        r = (size_t)i2d_X509(x, &q);
    }
    X509_free(x);
    EVP_PKEY_free(k);
    EVP_PKEY_free(k2);
    return r;
}

static size_t make_cert(uint8_t *out, size_t cap, bool self)
{
    return make_cert_ex(out, cap, self, false);
}

static void certificate_msg(struct bb *m, const uint8_t *der, size_t n)
{
    b8(m, 11);
    b24(m, (unsigned)(n + 6));
    b24(m, (unsigned)(n + 3));
    b24(m, (unsigned)n);
    bmem(m, der, n);
}

/* ---------------------------------------------------------------- engine harness */

/* Client and server streams of a TLS 1.2 handshake with certificate; the certificate
 * message spans two records. */
static void tls12_streams(struct bb *cli, struct bb *srv, bool self)
{
    static struct bb m;
    uint8_t der[4096];
    size_t dn = make_cert_ex(der, sizeof(der), self, !self);
    memset(&m, 0, sizeof(m));
    client_hello(&m, 0x0303, false, NULL, 0);
    records(cli, 22, m.p, m.n, 16384);
    records(cli, 20, (const uint8_t *)"\x01", 1, 16);
    records(cli, 23, (const uint8_t *)"encrypted", 9, 16);
    m.n = 0;
    server_hello(&m, false, NULL, 0);
    certificate_msg(&m, der, dn);
    b8(&m, 14);
    b24(&m, 0);
    records(srv, 22, m.p, m.n, 100); /* messages span records */
    records(srv, 20, (const uint8_t *)"\x01", 1, 16);
}

/* ---------------------------------------------------------------- tests */

VG_TEST(tls12_fields_and_fingerprints)
{
    static struct bb cli, srv;
    struct rig r;
    char md5[33], sha[65], want[600];
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    tls12_streams(&cli, &srv, true);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n), VG_SENSOR_APP_OK);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n), VG_SENSOR_APP_DONE);
    CHECK_EQ_INT(r.out.records, 1);
    const char *t = rig_obj(&r);
    CHECK(strstr(t, "\"subject\":\"C=US, O=Ex, Inc., CN=www.example.com, "
                    "Email=a@example.com\"") != NULL);
    CHECK(strstr(t, "\"issuerdn\":\"C=US, O=Ex, Inc., CN=www.example.com, "
                    "Email=a@example.com\"") != NULL);
    CHECK(strstr(t, "\"subjectaltname\":[\"*.example.com\",\"example.org\"]") != NULL);
    CHECK(strstr(t, "\"serial\":\"00:8A:07\"") != NULL);
    CHECK(strstr(t, "\"notbefore\":\"2015-01-01T00:00:00\"") != NULL);
    CHECK(strstr(t, "\"notafter\":\"2025-01-01T00:00:00\"") != NULL);
    CHECK(strstr(t, "\"version\":\"TLS 1.2\"") != NULL);
    CHECK(strstr(t, "\"sni\":\"www.example.com\"") != NULL);
    CHECK(strstr(t, "\"client_alpns\":[\"h2\",\"http/1.1\"]") != NULL);
    CHECK(strstr(t, "\"server_alpns\":[\"h2\"]") != NULL);
    CHECK(strstr(t, "\"fingerprint\":\"") != NULL);
    /* JA3: GREASE left out everywhere */
    const char *ja3 = "771,4865-49199-47,0-10-11-13-16,29-23,0";
    snprintf(want, sizeof(want), "\"string\":\"%s\"", ja3);
    CHECK(strstr(t, want) != NULL);
    vg_sensor_tls_md5_hex(ja3, strlen(ja3), md5);
    snprintf(want, sizeof(want), "\"ja3\":{\"hash\":\"%s\"", md5);
    CHECK(strstr(t, want) != NULL);
    const char *ja3s = "771,49199,65281-16";
    vg_sensor_tls_md5_hex(ja3s, strlen(ja3s), md5);
    snprintf(want, sizeof(want), "\"ja3s\":{\"hash\":\"%s\",\"string\":\"%s\"}", md5, ja3s);
    CHECK(strstr(t, want) != NULL);
    /* JA4 recomputed: sorted ciphers; sorted exts without SNI/ALPN + "_" + sigalgs in order */
    char hb[65], hc[65];
    const char *cb = "002f,1301,c02f", *cc = "000a,000b,000d_0804,0403";
    vg_sensor_tls_sha256_hex(cb, strlen(cb), hb);
    vg_sensor_tls_sha256_hex(cc, strlen(cc), hc);
    hb[12] = hc[12] = '\0';
    snprintf(want, sizeof(want), "\"ja4\":\"t12d0305h2_%s_%s\"", hb, hc);
    CHECK(strstr(t, want) != NULL);
    CHECK(strstr(t, "\"client_handshake\":{\"version\":\"TLS 1.2\",\"ciphers\":[4865,49199,47],"
                    "\"exts\":[0,10,11,13,16],\"sig_algs\":[2052,1027]}") != NULL);
    CHECK(strstr(t, "\"server_handshake\":{\"version\":\"TLS 1.2\",\"cipher\":49199,"
                    "\"exts\":[65281,16]}") != NULL);
    (void)sha;
    rig_fini(&r);
}

/* Every split of each direction (and byte-by-byte feeding) gives the same record. */
VG_TEST(tls12_every_split_same_record)
{
    static struct bb cli, srv;
    struct rig r;
    char base[8192];
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    tls12_streams(&cli, &srv, true);
    rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n);
    rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n);
    snprintf(base, sizeof(base), "%s", rig_obj(&r));
    rig_fini(&r);
    CHECK(strlen(base) > 100);
    int bad = 0;
    for (size_t k = 0; k <= cli.n + srv.n; k++) {
        rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
        if (k <= cli.n) {
            rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, k);
            rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p + k, cli.n - k);
            rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n);
        } else {
            size_t s = k - cli.n;
            rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n);
            rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, s);
            rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p + s, srv.n - s);
        }
        rig_end(&r);
        if (r.out.records != 1 || strcmp(rig_obj(&r), base) != 0) {
            bad++;
        }
        rig_fini(&r);
    }
    CHECK_EQ_INT(bad, 0);
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    for (size_t i = 0; i < cli.n; i++) {
        rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p + i, 1);
    }
    for (size_t i = 0; i < srv.n; i++) {
        rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p + i, 1);
    }
    CHECK_EQ_INT(r.out.records, 1);
    CHECK_STR(rig_obj(&r), base);
    rig_fini(&r);
}

VG_TEST(tls13_logged_at_server_hello)
{
    static struct bb cli, srv, m;
    struct rig r;
    uint8_t sid[32];
    memset(sid, 7, sizeof(sid));
    cli.n = srv.n = m.n = 0;
    client_hello(&m, 0x0303, true, sid, sizeof(sid));
    records(&cli, 22, m.p, m.n, 16384);
    m.n = 0;
    server_hello(&m, true, sid, sizeof(sid));
    records(&srv, 22, m.p, m.n, 16384);
    records(&srv, 23, (const uint8_t *)"encrypted certs", 15, 16);
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n), VG_SENSOR_APP_DONE);
    CHECK_EQ_INT(r.out.records, 1);
    const char *t = rig_obj(&r);
    CHECK(strstr(t, "\"version\":\"TLS 1.3\"") != NULL);
    CHECK(strstr(t, "session_resumed") == NULL); /* echoed id in 1.3 is not resumption */
    CHECK(strstr(t, "\"ja4\":\"t13d0306h2_") != NULL);
    CHECK(strstr(t, "\"exts\":[0,10,11,13,16,43]") != NULL);
    rig_end(&r);
    CHECK_EQ_INT(r.out.records, 1); /* once */
    rig_fini(&r);
}

VG_TEST(tls12_resumed_session)
{
    static struct bb cli, srv, m;
    struct rig r;
    uint8_t sid[32];
    memset(sid, 9, sizeof(sid));
    cli.n = srv.n = m.n = 0;
    client_hello(&m, 0x0303, false, sid, sizeof(sid));
    records(&cli, 22, m.p, m.n, 16384);
    m.n = 0;
    server_hello(&m, false, sid, sizeof(sid));
    records(&srv, 22, m.p, m.n, 16384);
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n);
    rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n);
    CHECK_EQ_INT(r.out.records, 1);
    CHECK(strstr(rig_obj(&r), "\"session_resumed\":true") != NULL);
    rig_fini(&r);
}

VG_TEST(tls_client_hello_only_logged_at_end)
{
    static struct bb cli, m;
    struct rig r;
    cli.n = m.n = 0;
    client_hello(&m, 0x0301, false, NULL, 0);
    records(&cli, 22, m.p, m.n, 40);
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n), VG_SENSOR_APP_OK);
    CHECK_EQ_INT(r.out.records, 0);
    rig_end(&r);
    CHECK_EQ_INT(r.out.records, 1);
    CHECK(strstr(rig_obj(&r), "\"version\":\"TLSv1\"") != NULL);
    CHECK(strstr(rig_obj(&r), "\"ja3\":{\"hash\":") != NULL);
    rig_fini(&r);
}

VG_TEST(tls_garbage_and_bounds)
{
    struct rig r;
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, (const uint8_t *)"GET / HTTP/1.1\r\n", 16),
                 VG_SENSOR_APP_ERROR);
    rig_end(&r);
    CHECK_EQ_INT(r.out.records, 0);
    rig_fini(&r);
    /* a record longer than TLS allows */
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, (const uint8_t *)"\x16\x03\x01\xff\xff", 5),
                 VG_SENSOR_APP_ERROR);
    rig_fini(&r);
    /* a truncated hello inside a valid record, then a gap: no crash, no record */
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER,
                          (const uint8_t *)"\x16\x03\x01\x00\x06\x01\x00\x00\x02\x03", 10),
                 VG_SENSOR_APP_OK);
    struct vg_sensor_app_ctx c = {r.eng, &r.flow, 0, 1, 1, NULL};
    vg_sensor_proto_tls.gap(&c, r.st, 100);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, (const uint8_t *)"xx", 2),
                 VG_SENSOR_APP_OK);
    rig_end(&r);
    rig_fini(&r);
}

VG_TEST(tls_probe)
{
    CHECK_EQ_INT(vg_sensor_proto_tls.probe((const uint8_t *)"\x16\x03\x01", 3, 0), 1);
    CHECK_EQ_INT(vg_sensor_proto_tls.probe((const uint8_t *)"\x16", 1, 0), -1);
    CHECK_EQ_INT(vg_sensor_proto_tls.probe((const uint8_t *)"GET", 3, 0), 0);
    /* SSLv2 CLIENT-HELLO asking for TLS 1.0 */
    CHECK_EQ_INT(vg_sensor_proto_tls.probe((const uint8_t *)"\x80\x67\x01\x03\x01", 5, 0), 1);
    CHECK_EQ_INT(vg_sensor_proto_tls.probe((const uint8_t *)"\x80\x67", 2, 0), -1);
}

VG_TEST(tls_cert_facts)
{
    uint8_t der[4096];
    struct vg_sensor_tls_cert *ci = vg_malloc(sizeof(*ci));
    struct vg_sbuf s = VG_SBUF_INIT;
    size_t n = make_cert(der, sizeof(der), true);
    CHECK_EQ_INT(vg_sensor_tls_cert_parse(der, n, "foo.example.com", ci, &s), 0);
    CHECK(ci->facts.self_signed);
    CHECK(ci->facts.name_matches); /* *.example.com */
    CHECK_EQ_INT(ci->facts.not_before, 1420070400);
    vg_sbuf_reset(&s);
    CHECK_EQ_INT(vg_sensor_tls_cert_parse(der, n, "a.b.example.com", ci, &s), 0);
    CHECK(!ci->facts.name_matches); /* a wildcard covers one label */
    vg_sbuf_reset(&s);
    CHECK_EQ_INT(vg_sensor_tls_cert_parse(der, n, "WWW.EXAMPLE.COM", ci, &s), 0);
    CHECK(ci->facts.name_matches); /* CN, case-insensitive */
    n = make_cert(der, sizeof(der), false);
    vg_sbuf_reset(&s);
    CHECK_EQ_INT(vg_sensor_tls_cert_parse(der, n, NULL, ci, &s), 0);
    CHECK(!ci->facts.self_signed); /* same names, other key */
    CHECK(ci->facts.name_matches);
    vg_sbuf_reset(&s);
    CHECK_EQ_INT(vg_sensor_tls_cert_parse(der, n / 2, NULL, ci, &s), VG_EINVAL);
    vg_sbuf_fini(&s);
    vg_free(ci);
}

VG_TEST(tls_version_names)
{
    char v[24];
    vg_sensor_tls_version_str(0x0301, v);
    CHECK_STR(v, "TLSv1");
    vg_sensor_tls_version_str(0x0300, v);
    CHECK_STR(v, "SSLv3");
    vg_sensor_tls_version_str(0x7f1c, v);
    CHECK_STR(v, "TLS 1.3 draft-28");
    vg_sensor_tls_version_str(0x7f01, v);
    CHECK_STR(v, "TLS 1.3 draft-<16");
    vg_sensor_tls_version_str(0, v);
    CHECK_STR(v, "UNDETERMINED");
    vg_sensor_tls_version_str(0x1234, v);
    CHECK_STR(v, "4660");
}

/* Handshakes per second through the whole parser (hello, cert decode, record): printed, not
 * asserted. */
VG_TEST(tls_handshake_throughput)
{
    static struct bb cli, srv;
    struct rig r;
    tls12_streams(&cli, &srv, false);
    struct timespec t0, t1;
    int n = 20000;
    rig_init(&r, &vg_sensor_proto_tls, "tls", 443, false);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        vg_sensor_proto_tls.state_free(r.st);
        r.st = vg_sensor_proto_tls.state_new();
        vg_sbuf_reset(&r.out.s);
        rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n);
        rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_EQ_INT(r.out.records, n);
    rig_fini(&r);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "  %d handshakes (%zu bytes each) in %.3f s: %.0f handshakes/s, %.1f MB/s\n", n,
            cli.n + srv.n, s, n / s, (double)n * (double)(cli.n + srv.n) / s / 1e6);
}
