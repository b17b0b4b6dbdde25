/*
 * vgcert.h — tests that need TLS: a self-signed P-256 certificate for "localhost", valid
 * for an hour, written as cert.pem and key.pem into a test directory (OpenSSL API, no
 * openssl command).
 */
#ifndef VG_TEST_CERT_H
#define VG_TEST_CERT_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>

static inline bool write_test_cert(const char *dir, char *cert, char *key, size_t size)
{
    snprintf(cert, size, "%s/cert.pem", dir);
    snprintf(key, size, "%s/key.pem", dir);
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    bool ok = pk && x;
    if (ok) {
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, pk);
        X509_NAME *nm = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                                   -1, 0);
        X509_set_issuer_name(x, nm);
        ok = X509_sign(x, pk, EVP_sha256()) > 0;
    }
    FILE *fc = ok ? fopen(cert, "w") : NULL, *fk = ok ? fopen(key, "w") : NULL;
    ok = fc && fk && PEM_write_X509(fc, x) && PEM_write_PrivateKey(fk, pk, NULL, NULL, 0, 0, 0);
    if (fc) {
        fclose(fc);
    }
    if (fk) {
        fclose(fk);
    }
    X509_free(x);
    EVP_PKEY_free(pk);
    return ok;
}

#endif
