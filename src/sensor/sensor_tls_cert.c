/*
 * sensor_tls_cert.c — X.509 server certificate facts for the sensor's TLS parser (issue 6).
 *
 * Decodes the first certificate of a TLS Certificate message with a small bounded DER reader
 * (OpenSSL 3 decodes the public key eagerly, ~2 ms a certificate; only a certificate whose
 * issuer equals its subject goes through d2i_X509 + X509_verify) and
 * renders what Suricata 8 logs: subject / issuerdn in "C=US, O=…, CN=…" form (RDNs joined by
 * ", ", multi-valued RDNs by " + ", emailAddress shown as "Email"), subjectaltname (DNS names
 * and IP addresses), serial as the DER integer's bytes in uppercase "08:3A:…", the SHA-1
 * fingerprint in lowercase "cc:aa:…" and validity as "2020-05-13T12:00:00" (UTC). It also
 * derives the facts the detections want: self-signed (issuer == subject and the signature
 * verifies with the certificate's own key) and whether the SNI matches CN or a SAN
 * (wildcards cover exactly one left-most label).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sensor/sensor_tls_int.h"

#define VG_TLS_SAN_MAX 64

/* ---------------------------------------------------------------- DER reader */

/* A DER value: its tag and content bytes. Reads never pass p + n. */
struct der {
    const uint8_t *p;
    size_t n;
};

/* Take the next TLV of d into tag/val (definite lengths of up to 4 bytes only). */
static bool der_next(struct der *d, uint8_t *tag, struct der *val)
{
    size_t len, hl = 2;
    if (d->n < 2) {
        return false;
    }
    *tag = d->p[0];
    len = d->p[1];
    if (len & 0x80) {
        size_t k = len & 0x7f;
        if (k == 0 || k > 4 || d->n < 2 + k) {
            return false;
        }
        len = 0;
        for (size_t i = 0; i < k; i++) {
            len = (len << 8) | d->p[2 + i];
        }
        hl += k;
    }
    if (d->n - hl < len) {
        return false;
    }
    val->p = d->p + hl;
    val->n = len;
    d->p += hl + len;
    d->n -= hl + len;
    return true;
}

/* Take the next TLV and require its tag. */
static bool der_take(struct der *d, uint8_t want, struct der *val)
{
    uint8_t tag;
    return der_next(d, &tag, val) && tag == want;
}

/* ---------------------------------------------------------------- text helpers */

struct tbuf {
    char *p;
    size_t cap, len;
};

static void tput(struct tbuf *t, const char *s, size_t n)
{
    if (t->len + 1 >= t->cap) {
        return;
    }
    size_t k = VG_MIN(n, t->cap - 1 - t->len);
    memcpy(t->p + t->len, s, k);
    t->len += k;
    t->p[t->len] = '\0';
}

/* One code point as UTF-8 (invalid ones as U+FFFD). */
static void tput_cp(struct tbuf *t, uint32_t cp)
{
    char u[4];
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        cp = 0xfffd;
    }
    if (cp < 0x80) {
        u[0] = (char)cp;
        tput(t, u, 1);
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        tput(t, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        tput(t, u, 3);
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        tput(t, u, 4);
    }
}

/* An attribute value as UTF-8 text, by its ASN.1 string type. */
static void tput_value(struct tbuf *t, uint8_t tag, struct der v)
{
    static const char hx[] = "0123456789abcdef";
    switch (tag) {
    case 0x0c: /* UTF8String */
    case 0x12: /* NumericString */
    case 0x13: /* PrintableString */
    case 0x16: /* IA5String */
    case 0x1a: /* VisibleString */
        tput(t, (const char *)v.p, v.n);
        return;
    case 0x14: /* T61String: taken as Latin-1 */
        for (size_t i = 0; i < v.n; i++) {
            tput_cp(t, v.p[i]);
        }
        return;
    case 0x1e: /* BMPString: UCS-2BE */
        for (size_t i = 0; i + 1 < v.n; i += 2) {
            tput_cp(t, (uint32_t)(v.p[i] << 8) | v.p[i + 1]);
        }
        return;
    case 0x1c: /* UniversalString: UCS-4BE */
        for (size_t i = 0; i + 3 < v.n; i += 4) {
            tput_cp(t, ((uint32_t)v.p[i] << 24) | ((uint32_t)v.p[i + 1] << 16) |
                           ((uint32_t)v.p[i + 2] << 8) | v.p[i + 3]);
        }
        return;
    default: /* other types: "#" and the hex of the content */
        tput(t, "#", 1);
        for (size_t i = 0; i < v.n; i++) {
            char h[2] = {hx[v.p[i] >> 4], hx[v.p[i] & 15]};
            tput(t, h, 2);
        }
    }
}

/* Attribute type short names (content bytes of the OID). */
static const struct {
    const char *oid;
    uint8_t len;
    const char *name;
} attr_names[] = {
    {"\x55\x04\x03", 3, "CN"},
    {"\x55\x04\x06", 3, "C"},
    {"\x55\x04\x07", 3, "L"},
    {"\x55\x04\x08", 3, "ST"},
    {"\x55\x04\x0a", 3, "O"},
    {"\x55\x04\x0b", 3, "OU"},
    {"\x55\x04\x05", 3, "serialNumber"},
    {"\x55\x04\x09", 3, "street"},
    {"\x55\x04\x11", 3, "postalCode"},
    {"\x55\x04\x04", 3, "SN"},
    {"\x55\x04\x2a", 3, "GN"},
    {"\x55\x04\x0c", 3, "title"},
    {"\x55\x04\x0f", 3, "businessCategory"},
    {"\x55\x04\x2e", 3, "dnQualifier"},
    {"\x55\x04\x41", 3, "pseudonym"},
    {"\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01", 9, "Email"},
    {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19", 10, "DC"},
    {"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01", 10, "UID"},
    {"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x03", 11, "jurisdictionC"},
    {"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x02", 11, "jurisdictionST"},
    {"\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x01", 11, "jurisdictionL"},
};

/* An OID: its short name, else dotted text. */
static void tput_oid(struct tbuf *t, struct der o)
{
    char num[24];
    for (size_t i = 0; i < VG_ARRAY_LEN(attr_names); i++) {
        if (o.n == attr_names[i].len && memcmp(o.p, attr_names[i].oid, o.n) == 0) {
            tput(t, attr_names[i].name, strlen(attr_names[i].name));
            return;
        }
    }
    uint64_t v = 0;
    bool first = true;
    for (size_t i = 0; i < o.n; i++) {
        v = (v << 7) | (o.p[i] & 0x7f);
        if (o.p[i] & 0x80) {
            continue;
        }
        if (first) {
            unsigned a = v < 80 ? (unsigned)(v / 40) : 2;
            snprintf(num, sizeof(num), "%u.%llu", a, (unsigned long long)(v - a * 40));
            first = false;
        } else {
            snprintf(num, sizeof(num), ".%llu", (unsigned long long)v);
        }
        tput(t, num, strlen(num));
        v = 0;
    }
}

/* Name ::= SEQUENCE OF SET OF {type, value}: "C=US, O=Org, CN=x" (" + " inside a set). */
static bool name_str(struct der name, char *out, size_t cap)
{
    struct tbuf t = {out, cap, 0};
    struct der set, atv, oid, val;
    uint8_t tag;
    out[0] = '\0';
    bool first = true;
    while (name.n > 0) {
        if (!der_take(&name, 0x31, &set)) {
            return false;
        }
        bool first_in_set = true;
        while (set.n > 0) {
            if (!der_take(&set, 0x30, &atv) || !der_take(&atv, 0x06, &oid) ||
                !der_next(&atv, &tag, &val)) {
                return false;
            }
            if (!first) {
                tput(&t, first_in_set ? ", " : " + ", first_in_set ? 2 : 3);
            }
            first = first_in_set = false;
            tput_oid(&t, oid);
            tput(&t, "=", 1);
            tput_value(&t, tag, val);
        }
    }
    return true;
}

/* First CN value of a Name (for name matching). */
static void name_cn(struct der name, char *out, size_t cap)
{
    struct der set, atv, oid, val;
    uint8_t tag;
    out[0] = '\0';
    while (der_take(&name, 0x31, &set)) {
        while (der_take(&set, 0x30, &atv)) {
            if (der_take(&atv, 0x06, &oid) && oid.n == 3 && memcmp(oid.p, "\x55\x04\x03", 3) == 0 &&
                der_next(&atv, &tag, &val)) {
                struct tbuf t = {out, cap, 0};
                tput_value(&t, tag, val);
                return;
            }
        }
    }
}

/* ---------------------------------------------------------------- time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const uint8_t *p, size_t n, unsigned *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        *v = *v * 10 + (unsigned)(p[i] - '0');
    }
    return true;
}

/* UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime "YYYYMMDDHHMMSSZ" to Unix seconds. */
static bool der_time(uint8_t tag, struct der v, int64_t *out)
{
    unsigned y, mo, d, h, mi, s;
    size_t yl = tag == 0x17 ? 2 : 4;
    if ((tag != 0x17 && tag != 0x18) || v.n < yl + 10 || !digits(v.p, yl, &y) ||
        !digits(v.p + yl, 2, &mo) || !digits(v.p + yl + 2, 2, &d) || !digits(v.p + yl + 4, 2, &h) ||
        !digits(v.p + yl + 6, 2, &mi) || !digits(v.p + yl + 8, 2, &s) || mo < 1 || mo > 12 ||
        d < 1 || d > 31) {
        return false;
    }
    if (tag == 0x17) {
        y += y < 50 ? 2000 : 1900;
    }
    *out = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + s;
    return true;
}

static void json_time(struct vg_sbuf *frag, const char *key, int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t sec = t - days * 86400;
    /* civil from days (H. Hinnant) */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[48];
    int n = snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02u", (long long)y, m, d,
                     (unsigned)(sec / 3600), (unsigned)(sec / 60 % 60), (unsigned)(sec % 60));
    vg_sensor_json_kstr(frag, key, buf, (size_t)n);
}

/* ---------------------------------------------------------------- members */

static void json_serial(struct vg_sbuf *frag, struct der v)
{
    char buf[3 * 64 + 4];
    size_t len = 0;
    if (v.n == 0) {
        vg_sensor_json_kstr(frag, "serial", "00", 2);
        return;
    }
    for (size_t i = 0; i < v.n && len + 4 < sizeof(buf); i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, i ? ":%02X" : "%02X", v.p[i]);
    }
    vg_sensor_json_kstr(frag, "serial", buf, len);
}

static EVP_MD *md_sha1;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_init(void)
{
    md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static void json_fingerprint(struct vg_sbuf *frag, const uint8_t *der, size_t n)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    char buf[3 * 20 + 1];
    size_t len = 0;
    pthread_once(&md_once, md_init);
    if (!md_sha1 || EVP_Digest(der, n, d, &dl, md_sha1, NULL) != 1) {
        return;
    }
    for (unsigned int i = 0; i < dl && len + 4 <= sizeof(buf); i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, i ? ":%02x" : "%02x", d[i]);
    }
    vg_sensor_json_kstr(frag, "fingerprint", buf, len);
}

/* Does host name h match pattern p (case-insensitive; "*.x.y" covers one label)? */
static bool host_match(const char *p, size_t pn, const char *h)
{
    size_t hn = strlen(h);
    if (pn == 0 || hn == 0) {
        return false;
    }
    if (pn > 2 && p[0] == '*' && p[1] == '.') {
        const char *dot = strchr(h, '.');
        if (!dot || dot == h) {
            return false;
        }
        size_t rest = hn - (size_t)(dot - h);
        return rest == pn - 1 && strncasecmp(dot, p + 1, rest) == 0;
    }
    return pn == hn && strncasecmp(p, h, hn) == 0;
}

/* The subjectAltName extension value (OCTET STRING content): DNS names and IPv4 addresses. */
static void json_sans(struct vg_sbuf *frag, struct der ext, const char *sni, bool *match)
{
    struct der seq, gn;
    uint8_t tag;
    int written = 0;
    if (!der_take(&ext, 0x30, &seq)) {
        return;
    }
    while (written < VG_TLS_SAN_MAX && der_next(&seq, &tag, &gn)) {
        char ip[24];
        const char *s = NULL;
        size_t sl = 0;
        if (tag == 0x82) {
            s = (const char *)gn.p;
            sl = gn.n;
            if (sni && host_match(s, sl, sni)) {
                *match = true;
            }
        } else if (tag == 0x87 && gn.n == 4) {
            sl =
                (size_t)snprintf(ip, sizeof(ip), "%u.%u.%u.%u", gn.p[0], gn.p[1], gn.p[2], gn.p[3]);
            s = ip;
        } else {
            continue;
        }
        if (!written) {
            char last = frag->len ? frag->p[frag->len - 1] : '{';
            vg_sbuf_adds(frag, last == ',' || last == '{' ? "\"subjectaltname\":["
                                                          : ",\"subjectaltname\":[");
        } else {
            vg_sbuf_addc(frag, ',');
        }
        vg_sbuf_add_json_str(frag, s, sl);
        written++;
    }
    if (written) {
        vg_sbuf_addc(frag, ']');
    }
}

/* Find the subjectAltName extension in the [3] extensions of the TBS. */
static bool find_san(struct der exts, struct der *val)
{
    struct der seq, ext, oid, v;
    uint8_t tag;
    if (!der_take(&exts, 0x30, &seq)) {
        return false;
    }
    while (der_take(&seq, 0x30, &ext)) {
        if (!der_take(&ext, 0x06, &oid)) {
            return false;
        }
        if (oid.n != 3 || memcmp(oid.p, "\x55\x1d\x11", 3) != 0) {
            continue;
        }
        while (der_next(&ext, &tag, &v)) {
            if (tag == 0x04) {
                *val = v;
                return true;
            }
        }
    }
    return false;
}

/* Issuer == subject, and the signature verifies with the certificate's own key. This is the
 * one place OpenSSL decodes the whole certificate (slow in OpenSSL 3), so only for
 * certificates whose names already match. */
static bool self_signed(const uint8_t *der, size_t n)
{
    const unsigned char *q = der;
    X509 *x = n <= 0x7fffffff ? d2i_X509(NULL, &q, (long)n) : NULL;
    bool r = false;
    if (x) {
        EVP_PKEY *k = X509_get0_pubkey(x);
        r = k && X509_verify(x, k) == 1;
        X509_free(x);
    }
    return r;
}

/* The TBSCertificate fields we use. */
struct tbs {
    struct der serial, issuer, subject, exts;
    uint8_t nb_tag, na_tag;
    struct der nb, na;
    bool has_exts;
};

static bool parse_tbs(const uint8_t *der, size_t n, struct tbs *t)
{
    struct der all = {der, n}, cert, tbs, v, validity;
    uint8_t tag;
    memset(t, 0, sizeof(*t));
    if (!der_take(&all, 0x30, &cert) || !der_take(&cert, 0x30, &tbs) || !der_next(&tbs, &tag, &v)) {
        return false;
    }
    if (tag == 0xa0 && !der_next(&tbs, &tag, &v)) { /* [0] version */
        return false;
    }
    if (tag != 0x02) {
        return false;
    }
    t->serial = v;
    if (!der_take(&tbs, 0x30, &v) || !der_take(&tbs, 0x30, &t->issuer) ||
        !der_take(&tbs, 0x30, &validity) || !der_next(&validity, &t->nb_tag, &t->nb) ||
        !der_next(&validity, &t->na_tag, &t->na) || !der_take(&tbs, 0x30, &t->subject) ||
        !der_take(&tbs, 0x30, &v)) {
        return false;
    }
    while (der_next(&tbs, &tag, &v)) {
        if (tag == 0xa3) {
            t->exts = v;
            t->has_exts = true;
        }
    }
    return true;
}

int vg_sensor_tls_cert_parse(const uint8_t *der, size_t n, const char *sni,
                             struct vg_sensor_tls_cert *out, struct vg_sbuf *frag)
{
    struct tbs t;
    struct der san;
    bool match = false;
    int64_t nb = 0, na = 0;
    char cn[256];
    memset(&out->facts, 0, sizeof(out->facts));
    if (!parse_tbs(der, n, &t) || !name_str(t.subject, out->subject, sizeof(out->subject)) ||
        !name_str(t.issuer, out->issuer, sizeof(out->issuer))) {
        return VG_EINVAL;
    }
    bool ok_nb = der_time(t.nb_tag, t.nb, &nb), ok_na = der_time(t.na_tag, t.na, &na);
    vg_sensor_json_kstr(frag, "subject", out->subject, strlen(out->subject));
    vg_sensor_json_kstr(frag, "issuerdn", out->issuer, strlen(out->issuer));
    if (t.has_exts && find_san(t.exts, &san)) {
        json_sans(frag, san, sni, &match);
    }
    json_serial(frag, t.serial);
    json_fingerprint(frag, der, n);
    if (ok_nb) {
        json_time(frag, "notbefore", nb);
    }
    if (ok_na) {
        json_time(frag, "notafter", na);
    }
    name_cn(t.subject, cn, sizeof(cn));
    if (sni && host_match(cn, strlen(cn), sni)) {
        match = true;
    }
    out->facts.sni = sni;
    out->facts.subject = out->subject;
    out->facts.issuer = out->issuer;
    out->facts.not_before = nb;
    out->facts.not_after = na;
    out->facts.self_signed = t.issuer.n == t.subject.n &&
                             memcmp(t.issuer.p, t.subject.p, t.subject.n) == 0 &&
                             self_signed(der, n);
    out->facts.name_matches = sni == NULL || match;
    return 0;
}
