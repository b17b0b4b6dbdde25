/*
 * fleet_ca.c — Vigie's small certificate authority for the agents (OpenSSL 3 EVP/X509).
 *
 * On first start DATA/fleet/ca.key (EC P-256, mode 0600) and ca.crt (self-signed, 10 years,
 * CA:TRUE pathlen 0) are created; later starts load them and refuse a key file readable by
 * group or others. The CA issues two kinds of certificates: client certificates for agents
 * (CN = agent id, clientAuth, 1 year) from the CSRs they send at enrollment, and at every
 * start a fresh certificate for the fleet listener (serverAuth, SANs from the options), so
 * changing the listener's names needs only a restart. The listener's TLS context requires a
 * client certificate chaining to this CA and, in the verify callback, checks its serial
 * against the registry on every handshake (session resumption is off, so there is no way
 * around the check).
 */
#include "fleet/fleet_int.h"

#include "agent/agent_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DAYS     3650
#define SERVER_DAYS 397
#define CSR_MAX     16384

/* The first OpenSSL error (queue cleared) after what, into err. */
static int ssl_fail(const char *what, char *err, size_t errsz)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
    }
    ERR_clear_error();
    snprintf(err, errsz, "%s%s%s", what, *buf ? ": " : "", buf);
    return VG_EINVAL;
}

void fleet_serial_hex(const X509 *x, char *out, size_t size)
{
    const ASN1_INTEGER *s = X509_get0_serialNumber(x);
    const unsigned char *p = ASN1_STRING_get0_data(s);
    int n = ASN1_STRING_length(s);
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n && o + 3 <= size; i++) {
        o += (size_t)snprintf(out + o, size - o, "%02x", p[i]);
    }
}

bool fleet_cert_cn(const X509 *x, char *out, size_t size)
{
    X509_NAME *nm = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1);
    const ASN1_STRING *s = i >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i)) : NULL;
    int n = s ? ASN1_STRING_length(s) : 0;
    if (!s || n <= 0 || (size_t)n >= size) {
        return false;
    }
    memcpy(out, ASN1_STRING_get0_data(s), (size_t)n);
    out[n] = '\0';
    return strlen(out) == (size_t)n; /* no embedded NUL */
}

/* ---------------------------------------------------------------- files */

/* Write text to path atomically (tmp + fsync + rename) with mode. */
static int write_file(const char *path, const char *text, size_t len, mode_t mode, char *err,
                      size_t errsz)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    bool ok =
        fd >= 0 && fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0) {
        ok = false;
    }
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errsz, "%s: %s", ok ? path : tmp, strerror(ok ? errno : e));
        unlink(tmp);
        return VG_EIO;
    }
    return VG_OK;
}

/* PEM text of a key or a certificate (vg_free). */
static char *pem_of(EVP_PKEY *key, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    bool ok = b && (key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
                        : PEM_write_bio_X509(b, x));
    long n = ok ? BIO_get_mem_data(b, &data) : 0;
    if (n > 0) {
        out = vg_strndup(data, (size_t)n);
    }
    BIO_free(b);
    return out;
}

/* ---------------------------------------------------------------- issuing */

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? VG_OK : VG_ERROR;
}

/* subjectAltName from names: IP addresses where they parse as one, DNS names otherwise. */
static int add_sans(X509 *x, const char *const *sans, size_t n)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    int rc = gens ? VG_OK : VG_ENOMEM;
    for (size_t i = 0; i < n && rc == VG_OK; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_OCTET_STRING *ip = a2i_IPADDRESS(sans[i]);
        ASN1_IA5STRING *dns = ip ? NULL : ASN1_IA5STRING_new();
        if (!g || (!ip && (!dns || !ASN1_STRING_set(dns, sans[i], -1)))) {
            GENERAL_NAME_free(g);
            ASN1_IA5STRING_free(dns);
            rc = VG_ENOMEM;
            break;
        }
        GENERAL_NAME_set0_value(g, ip ? GEN_IPADD : GEN_DNS, ip ? (void *)ip : (void *)dns);
        if (!sk_GENERAL_NAME_push(gens, g)) {
            GENERAL_NAME_free(g);
            rc = VG_ENOMEM;
        }
    }
    if (rc == VG_OK && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0)) {
        rc = VG_ERROR;
    }
    GENERAL_NAMES_free(gens);
    return rc;
}

/* A random positive 128-bit serial. */
static int set_serial(X509 *x)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        return VG_ERROR;
    }
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40); /* positive, always 16 bytes */
    BIGNUM *bn = BN_bin2bn(b, sizeof(b), NULL);
    ASN1_INTEGER *ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    int ok = ai && X509_set_serialNumber(x, ai);
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    return ok ? VG_OK : VG_ERROR;
}

/* Subject, issuer, key, validity, serial of a new certificate. */
static int cert_base(X509 *x, X509 *issuer, EVP_PKEY *pub, const char *cn, int days)
{
    X509_NAME *nm = X509_get_subject_name(x);
    bool ok =
        X509_set_version(x, 2) && set_serial(x) == VG_OK &&
        X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
        X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) && X509_set_pubkey(x, pub) &&
        X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"Vigie", -1, -1,
                                   0) &&
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm);
    return ok ? VG_OK : VG_ERROR;
}

int fleet_ca_issue(struct vg_fleet *f, EVP_PKEY *pub, const char *cn, int days, bool server,
                   const char *const *sans, size_t nsans, char *serial, char **pem, X509 **cert,
                   char *err, size_t errsz)
{
    X509 *x = X509_new();
    int rc = x ? cert_base(x, f->ca_cert, pub, cn, days) : VG_ENOMEM;
    if (rc == VG_OK) {
        rc = add_ext(x, NULL, NID_basic_constraints, "critical,CA:FALSE");
        rc = rc ? rc : add_ext(x, NULL, NID_key_usage, "critical,digitalSignature");
        rc = rc ? rc : add_ext(x, NULL, NID_ext_key_usage, server ? "serverAuth" : "clientAuth");
        rc = rc ? rc : add_ext(x, NULL, NID_subject_key_identifier, "hash");
        rc = rc ? rc : add_ext(x, f->ca_cert, NID_authority_key_identifier, "keyid:always");
        rc = rc ? rc : (nsans ? add_sans(x, sans, nsans) : VG_OK);
    }
    if (rc == VG_OK && X509_sign(x, f->ca_key, EVP_sha256()) <= 0) {
        rc = VG_ERROR;
    }
    if (rc == VG_OK && pem && !(*pem = pem_of(NULL, x))) {
        rc = VG_ENOMEM;
    }
    if (rc != VG_OK) {
        ssl_fail("issuing a certificate", err, errsz);
        X509_free(x);
        return rc == VG_ENOMEM ? VG_ENOMEM : VG_ERROR;
    }
    if (serial) {
        fleet_serial_hex(x, serial, 65);
    }
    if (cert) {
        *cert = x;
    } else {
        X509_free(x);
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- the CA itself */

static int ca_create(struct vg_fleet *f, const char *kpath, const char *cpath, char *err,
                     size_t errsz)
{
    char *kpem = NULL;
    f->ca_key = EVP_EC_gen("P-256");
    f->ca_cert = X509_new();
    int rc = f->ca_key && f->ca_cert
                 ? cert_base(f->ca_cert, NULL, f->ca_key, "Vigie fleet CA", CA_DAYS)
                 : VG_ENOMEM;
    rc = rc ? rc : add_ext(f->ca_cert, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
    rc = rc ? rc : add_ext(f->ca_cert, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
    rc = rc ? rc : add_ext(f->ca_cert, f->ca_cert, NID_subject_key_identifier, "hash");
    if (rc != VG_OK || X509_sign(f->ca_cert, f->ca_key, EVP_sha256()) <= 0) {
        return ssl_fail("creating the CA", err, errsz);
    }
    f->ca_pem = pem_of(NULL, f->ca_cert);
    kpem = pem_of(f->ca_key, NULL);
    rc = f->ca_pem && kpem ? VG_OK : VG_ENOMEM;
    /* the certificate first: a key without its certificate is refused at the next start */
    rc = rc ? rc : write_file(cpath, f->ca_pem, strlen(f->ca_pem), 0644, err, errsz);
    rc = rc ? rc : write_file(kpath, kpem, strlen(kpem), 0600, err, errsz);
    if (kpem) {
        OPENSSL_cleanse(kpem, strlen(kpem));
    }
    vg_free(kpem);
    if (rc == VG_OK) {
        VG_INFO(FLEET_COMP, "created the fleet CA in %s", f->dir);
    }
    return rc;
}

static int ca_load(struct vg_fleet *f, const char *kpath, const char *cpath, char *err,
                   size_t errsz)
{
    struct stat st;
    if (stat(kpath, &st) != 0 || (st.st_mode & 077)) {
        snprintf(err, errsz, "%s: must not be readable by group or others (chmod 600)", kpath);
        return VG_EINVAL;
    }
    FILE *fk = fopen(kpath, "re"), *fc = fopen(cpath, "re");
    if (fk) {
        f->ca_key = PEM_read_PrivateKey(fk, NULL, NULL, NULL);
        fclose(fk);
    }
    if (fc) {
        f->ca_cert = PEM_read_X509(fc, NULL, NULL, NULL);
        fclose(fc);
    }
    if (!f->ca_key || !f->ca_cert) {
        return ssl_fail(!f->ca_key ? kpath : cpath, err, errsz);
    }
    if (X509_check_private_key(f->ca_cert, f->ca_key) != 1) {
        ERR_clear_error();
        snprintf(err, errsz, "%s does not belong to %s", kpath, cpath);
        return VG_EINVAL;
    }
    f->ca_pem = pem_of(NULL, f->ca_cert);
    return f->ca_pem ? VG_OK : VG_ENOMEM;
}

int fleet_ca_init(struct vg_fleet *f, char *err, size_t errsz)
{
    char kpath[4096], cpath[4096];
    snprintf(kpath, sizeof(kpath), "%s/ca.key", f->dir);
    snprintf(cpath, sizeof(cpath), "%s/ca.crt", f->dir);
    if (access(kpath, F_OK) == 0) {
        return ca_load(f, kpath, cpath, err, errsz);
    }
    return ca_create(f, kpath, cpath, err, errsz);
}

int fleet_cmdkey_init(struct vg_fleet *f, char *err, size_t errsz)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/command.key", f->dir);
    int rc = vg_agent_sign_key_load(path, f->cmd_sk, sizeof(f->cmd_sk), true);
    if (rc == VG_EIO && access(path, F_OK) != 0) {
        rc = vg_agent_sign_keypair(f->cmd_pk, f->cmd_sk);
        rc = rc ? rc : vg_agent_sign_key_save(path, f->cmd_sk, sizeof(f->cmd_sk), true);
        if (rc == VG_OK) {
            VG_INFO(FLEET_COMP, "created the command-signing key %s", path);
        }
    }
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s", path,
                 rc == VG_EDENIED ? "must not be readable by group or others (chmod 600)"
                                  : vg_strerror(rc));
        return rc == VG_EDENIED ? VG_EINVAL : rc;
    }
    memcpy(f->cmd_pk, f->cmd_sk + 32, 32); /* libsodium's secret key ends with the public key */
    return VG_OK;
}

/* ---------------------------------------------------------------- CSR */

static int key_ok(EVP_PKEY *pk, char *err, size_t errsz)
{
    char group[64] = "";
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_EC:
        EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL);
        if (!strcmp(group, "prime256v1") || !strcmp(group, "secp384r1")) {
            return VG_OK;
        }
        snprintf(err, errsz, "CSR: EC curve '%s' not accepted (P-256 or P-384)", group);
        return VG_EINVAL;
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(pk) >= 2048 && EVP_PKEY_get_bits(pk) <= 8192) {
            return VG_OK;
        }
        snprintf(err, errsz, "CSR: RSA key of %d bits not accepted (2048-8192)",
                 EVP_PKEY_get_bits(pk));
        return VG_EINVAL;
    case EVP_PKEY_ED25519:
        return VG_OK;
    default:
        snprintf(err, errsz, "CSR: key type not accepted (EC P-256/P-384, RSA, Ed25519)");
        return VG_EINVAL;
    }
}

int fleet_csr_check(const char *pem, size_t len, EVP_PKEY **pub, char *err, size_t errsz)
{
    if (!pem || !len || len > CSR_MAX) {
        snprintf(err, errsz, "CSR: expected a PEM certificate request of at most %d bytes",
                 CSR_MAX);
        return VG_EINVAL;
    }
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509_REQ *req = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    EVP_PKEY *pk = req ? X509_REQ_get_pubkey(req) : NULL;
    int rc = VG_OK;
    if (!req || !pk) {
        rc = ssl_fail("CSR: not a PEM certificate request", err, errsz);
    } else if ((rc = key_ok(pk, err, errsz)) == VG_OK && X509_REQ_verify(req, pk) != 1) {
        rc = ssl_fail("CSR: bad self-signature", err, errsz);
    }
    X509_REQ_free(req);
    BIO_free(b);
    if (rc != VG_OK) {
        EVP_PKEY_free(pk);
        return VG_EINVAL;
    }
    *pub = pk;
    return VG_OK;
}

/* ---------------------------------------------------------------- listener TLS */

/* Depth 0 of a chain that verified: is this an enrolled, unrevoked agent's certificate? */
static int verify_cb(int ok, X509_STORE_CTX *xs)
{
    if (!ok || X509_STORE_CTX_get_error_depth(xs) != 0) {
        return ok;
    }
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct vg_fleet *f = ssl ? SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)) : NULL;
    X509 *x = X509_STORE_CTX_get_current_cert(xs);
    char serial[65], cn[VG_FLEET_ID_SIZE], tenant[FLEET_TENANT_MAX + 1];
    if (!f || !x || !fleet_cert_cn(x, cn, sizeof(cn))) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    fleet_serial_hex(x, serial, sizeof(serial));
    if (fleet_db_cert_ok(f, serial, cn, tenant, sizeof(tenant)) != VG_OK) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REVOKED);
        return 0;
    }
    return 1;
}

static int ctx_setup(struct vg_fleet *f, SSL_CTX *ctx, X509 *cert, EVP_PKEY *key)
{
    STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
    X509_NAME *cn = X509_NAME_dup(X509_get_subject_name(f->ca_cert));
    if (!names || !cn || !sk_X509_NAME_push(names, cn)) {
        X509_NAME_free(cn);
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return VG_ENOMEM;
    }
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_app_data(ctx, f);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* every connection does a full handshake, so the revocation check always runs */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_verify_depth(ctx, 2);
    SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    bool ok = X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), f->ca_cert) &&
              SSL_CTX_use_certificate(ctx, cert) && SSL_CTX_use_PrivateKey(ctx, key) &&
              SSL_CTX_check_private_key(ctx);
    return ok ? VG_OK : VG_ERROR;
}

int fleet_tls_init(struct vg_fleet *f, const char *const *sans, size_t nsans, char *err,
                   size_t errsz)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = NULL;
    int rc = key ? VG_OK : VG_ENOMEM;
    rc = rc ? rc
            : fleet_ca_issue(f, key, "vigie-fleet", SERVER_DAYS, true, sans, nsans, NULL, NULL,
                             &cert, err, errsz);
    if (rc == VG_OK) {
        f->ssl_ctx = SSL_CTX_new(TLS_server_method());
        rc = f->ssl_ctx ? ctx_setup(f, f->ssl_ctx, cert, key) : VG_ENOMEM;
        if (rc != VG_OK) {
            rc = ssl_fail("listener TLS context", err, errsz);
        }
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

void fleet_ca_fini(struct vg_fleet *f)
{
    SSL_CTX_free(f->ssl_ctx);
    X509_free(f->ca_cert);
    EVP_PKEY_free(f->ca_key);
    vg_free(f->ca_pem);
    OPENSSL_cleanse(f->cmd_sk, sizeof(f->cmd_sk));
    f->ssl_ctx = NULL;
    f->ca_cert = NULL;
    f->ca_key = NULL;
    f->ca_pem = NULL;
}
