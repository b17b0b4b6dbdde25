/*
 * agent_enroll.c — `vigie-agent enroll`: make a key pair and a CSR, present them with an
 * enrollment token to the server's POST /api/v1/agents/enroll, and keep what comes back in
 * the state directory:
 *
 *   agent.key    the agent's private key (EC P-256, mode 0600; never leaves the host)
 *   agent.crt    its certificate, signed by the server's CA (CN = the agent id)
 *   ca.crt       the server's CA: the only trust anchor of the fleet connection
 *   command.pub  the server's Ed25519 command key: commands not signed by it are refused
 *   agent.json   {"agent_id","tenant","endpoint"}
 */
#include "agent/agent_run.h"
#include "agent/agent_wire.h"
#include "event/event.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_file(const char *dir, const char *name, const char *data, size_t len, int mode,
                      char *err, size_t errsz)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0) {
        close(fd);
    }
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return VG_EIO;
    }
    return VG_OK;
}

/* A new EC P-256 key (written to agent.key, 0600) and a CSR for it as PEM in csr. */
static int make_csr(const char *dir, const char *cn, struct vg_sbuf *csr, char *err, size_t errsz)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_REQ *req = X509_REQ_new();
    BIO *kb = BIO_new(BIO_s_mem()), *rb = BIO_new(BIO_s_mem());
    X509_NAME *name = req ? X509_REQ_get_subject_name(req) : NULL;
    int rc = VG_ENOMEM;
    if (key && req && kb && rb && name &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) == 1 &&
        X509_REQ_set_pubkey(req, key) == 1 && X509_REQ_sign(req, key, EVP_sha256()) > 0 &&
        PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) == 1 &&
        PEM_write_bio_X509_REQ(rb, req) == 1) {
        char *p = NULL;
        long n = BIO_get_mem_data(kb, &p);
        rc = write_file(dir, "agent.key", p, (size_t)n, 0600, err, errsz);
        n = BIO_get_mem_data(rb, &p);
        vg_sbuf_add(csr, p, (size_t)n);
    } else {
        snprintf(err, errsz, "cannot make a key and a certificate request (OpenSSL)");
    }
    BIO_free(kb);
    BIO_free(rb);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    return rc;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct vg_sbuf *b = ud;
    if (b->len + sz * n > (4u << 20)) {
        return 0; /* an enrollment answer is a few KiB */
    }
    vg_sbuf_add(b, p, sz * n);
    return sz * n;
}

/* POST the CSR; the answer's JSON text in resp. */
static int post_csr(const struct vg_agent_enroll_opts *o, const char *body, struct vg_sbuf *resp,
                    char *err, size_t errsz)
{
    char url[2048], auth[512];
    long status = 0;
    snprintf(url, sizeof(url), "%s/api/v1/agents/enroll", o->server_url);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/json");
    if (!c || !h) {
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
        return VG_ENOMEM;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (o->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (cc != CURLE_OK) {
        snprintf(err, errsz, "%s: %s", url, curl_easy_strerror(cc));
        return VG_EIO;
    }
    if (status != 200) {
        snprintf(err, errsz, "%s: HTTP %ld: %.*s", url, status, (int)VG_MIN(resp->len, 300),
                 resp->p ? resp->p : "");
        return status == 401 || status == 403 ? VG_EDENIED : VG_EINVAL;
    }
    return VG_OK;
}

/* A string member of the answer, NUL-terminated in the arena; NULL (err set) when absent. */
static const char *member(const struct vg_json *doc, struct vg_arena *a, const char *key, char *err,
                          size_t errsz)
{
    const struct vg_json *v = vg_json_get(doc, key);
    if (!v || v->type != VG_JSON_STRING || !v->n) {
        snprintf(err, errsz, "enrollment answer: \"%s\" missing", key);
        return NULL;
    }
    return vg_arena_strndup(a, v->s, v->n);
}

static int save_answer(const char *dir, const char *text, size_t len, char *err, size_t errsz)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(16384);
    struct vg_json *doc = NULL;
    struct vg_sbuf meta = VG_SBUF_INIT;
    size_t used = 0;
    uint8_t pk[VG_AGENT_WIRE_PK_SIZE];
    int rc = p && a ? vg_json_parse(p, a, text, len, &used, &doc, err, errsz) : VG_ENOMEM;
    const char *id = rc ? NULL : member(doc, a, "agent_id", err, errsz);
    const char *cert = id ? member(doc, a, "cert", err, errsz) : NULL;
    const char *ca = cert ? member(doc, a, "ca", err, errsz) : NULL;
    const char *pub = ca ? member(doc, a, "command_pubkey", err, errsz) : NULL;
    const char *ep = pub ? member(doc, a, "endpoint", err, errsz) : NULL;
    const char *tenant = ep ? member(doc, a, "tenant", err, errsz) : NULL;
    rc = rc ? rc : tenant ? VG_OK : VG_EINVAL;
    if (rc == VG_OK && (sodium_hex2bin(pk, sizeof(pk), pub, strlen(pub), NULL, NULL, NULL) != 0)) {
        snprintf(err, errsz, "enrollment answer: command_pubkey is not a 32-byte hex key");
        rc = VG_EINVAL;
    }
    if (rc == VG_OK) {
        vg_sbuf_adds(&meta, "{\"agent_id\":");
        vg_sbuf_add_json_str(&meta, id, strlen(id));
        vg_sbuf_adds(&meta, ",\"tenant\":");
        vg_sbuf_add_json_str(&meta, tenant, strlen(tenant));
        vg_sbuf_adds(&meta, ",\"endpoint\":");
        vg_sbuf_add_json_str(&meta, ep, strlen(ep));
        vg_sbuf_adds(&meta, "}\n");
        char path[4096];
        snprintf(path, sizeof(path), "%s/command.pub", dir);
        rc = write_file(dir, "agent.crt", cert, strlen(cert), 0644, err, errsz);
        rc = rc ? rc : write_file(dir, "ca.crt", ca, strlen(ca), 0644, err, errsz);
        rc = rc ? rc : vg_agent_sign_key_save(path, pk, sizeof(pk), false);
        rc = rc ? rc : write_file(dir, "agent.json", meta.p, meta.len, 0644, err, errsz);
    }
    vg_sbuf_fini(&meta);
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    return rc;
}

int vg_agent_enroll(const struct vg_agent_enroll_opts *o, char *err, size_t errsz)
{
    struct vg_sbuf csr = VG_SBUF_INIT, body = VG_SBUF_INIT, resp = VG_SBUF_INIT;
    char host[256] = "";
    if (!o->server_url || !o->token || !o->state_dir) {
        snprintf(err, errsz, "enroll needs --server, --token and a state directory");
        return VG_EINVAL;
    }
    if (mkdir(o->state_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errsz, "%s: %s", o->state_dir, strerror(errno));
        return VG_EIO;
    }
    if (o->hostname) {
        vg_strlcpy(host, o->hostname, sizeof(host));
    } else if (gethostname(host, sizeof(host) - 1) != 0) {
        vg_strlcpy(host, "localhost", sizeof(host));
    }
    int rc = make_csr(o->state_dir, host, &csr, err, errsz);
    if (rc == VG_OK) {
        vg_sbuf_adds(&body, "{\"csr\":");
        vg_sbuf_add_json_str(&body, csr.p, csr.len);
        vg_sbuf_adds(&body, ",\"hostname\":");
        vg_sbuf_add_json_str(&body, host, strlen(host));
        vg_sbuf_addc(&body, '}');
        rc = body.err ? body.err : post_csr(o, body.p, &resp, err, errsz);
    }
    if (rc == VG_OK) {
        rc = save_answer(o->state_dir, resp.p ? resp.p : "", resp.len, err, errsz);
    }
    vg_sbuf_fini(&csr);
    vg_sbuf_fini(&body);
    vg_sbuf_fini(&resp);
    return rc;
}
