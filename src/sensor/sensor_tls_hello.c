/*
 * sensor_tls_hello.c — ClientHello / ServerHello decoding for the sensor's TLS parser
 * (issue 6): SNI, versions (incl. supported_versions), ALPN, JA3/JA3S and JA4 fingerprints
 * and the client_handshake / server_handshake objects of Suricata 8's `tls` record.
 *
 * Input is one complete handshake message body (reassembled by sensor_tls.c). Every read goes
 * through the bounded big-endian cursor; lists are capped (VG_TLS_HELLO_MAX entries), which
 * only matters for absurd hellos whose fingerprints are then computed over the first entries.
 * Fingerprint rules follow Suricata: GREASE values (RFC 8701) are left out of JA3, JA4 and the
 * handshake lists; JA4 counts SNI and ALPN but hashes the other extensions only.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sensor/sensor_tls_int.h"

#define VG_TLS_HELLO_MAX 512
#define VG_TLS_ALPN_MAX  16

/* What a hello carries, as lists of values (GREASE removed). Lives on the stack. */
struct tls_hello {
    uint16_t ciphers[VG_TLS_HELLO_MAX];
    uint16_t exts[VG_TLS_HELLO_MAX];
    uint16_t groups[VG_TLS_HELLO_MAX];
    uint16_t sigalgs[VG_TLS_HELLO_MAX];
    uint8_t pfmts[256];
    size_t nciphers, nexts, ngroups, nsigalgs, npfmts;
    uint16_t legacy;   /* legacy_version */
    uint16_t maxver;   /* max(legacy, supported_versions) */
    uint16_t selected; /* server: supported_versions value (0: none) */
    bool sni;
    const uint8_t *alpn[VG_TLS_ALPN_MAX];
    uint8_t alpn_len[VG_TLS_ALPN_MAX];
    size_t nalpn;
};

/* A hello with empty lists: the arrays are only read below their counts, so only the scalar
 * tail is cleared (not 4 KiB of list storage per hello). NULL when memory fails. */
static struct tls_hello *hello_new(void)
{
    struct tls_hello *h = vg_malloc(sizeof(*h));
    if (h) {
        memset(&h->nciphers, 0, sizeof(*h) - offsetof(struct tls_hello, nciphers));
    }
    return h;
}

/* ---------------------------------------------------------------- cursor */

bool vg_sensor_tls_cur_u8(struct vg_sensor_tls_cur *c, uint8_t *v)
{
    if (c->n - c->off < 1) {
        return false;
    }
    *v = c->p[c->off++];
    return true;
}

bool vg_sensor_tls_cur_u16(struct vg_sensor_tls_cur *c, uint16_t *v)
{
    if (c->n - c->off < 2) {
        return false;
    }
    *v = (uint16_t)((c->p[c->off] << 8) | c->p[c->off + 1]);
    c->off += 2;
    return true;
}

bool vg_sensor_tls_cur_u24(struct vg_sensor_tls_cur *c, uint32_t *v)
{
    if (c->n - c->off < 3) {
        return false;
    }
    const uint8_t *q = c->p + c->off;
    *v = ((uint32_t)q[0] << 16) | ((uint32_t)q[1] << 8) | q[2];
    c->off += 3;
    return true;
}

bool vg_sensor_tls_cur_sub(struct vg_sensor_tls_cur *c, size_t n, struct vg_sensor_tls_cur *sub)
{
    if (c->n - c->off < n) {
        return false;
    }
    sub->p = c->p + c->off;
    sub->n = n;
    sub->off = 0;
    c->off += n;
    return true;
}

/* A u8- or u16-length-prefixed vector as a sub-cursor. */
static bool cur_vec8(struct vg_sensor_tls_cur *c, struct vg_sensor_tls_cur *sub)
{
    uint8_t l;
    return vg_sensor_tls_cur_u8(c, &l) && vg_sensor_tls_cur_sub(c, l, sub);
}

static bool cur_vec16(struct vg_sensor_tls_cur *c, struct vg_sensor_tls_cur *sub)
{
    uint16_t l;
    return vg_sensor_tls_cur_u16(c, &l) && vg_sensor_tls_cur_sub(c, l, sub);
}

/* ---------------------------------------------------------------- helpers */

static bool is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static void push16(uint16_t *arr, size_t *n, uint16_t v)
{
    if (!is_grease(v) && *n < VG_TLS_HELLO_MAX) {
        arr[(*n)++] = v;
    }
}

static void hex_digest(const EVP_MD *md, const void *p, size_t n, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    static const char hx[] = "0123456789abcdef";
    if (EVP_Digest(p, n, d, &dl, md, NULL) != 1) {
        dl = 0;
    }
    for (unsigned int i = 0; i < dl; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[2 * dl] = '\0';
}

/* Digests fetched once: OpenSSL 3's implicit fetch per call costs more than the hashing. */
static EVP_MD *md_md5, *md_sha256;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_init(void)
{
    md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void vg_sensor_tls_md5_hex(const void *p, size_t n, char out[33])
{
    pthread_once(&md_once, md_init);
    hex_digest(md_md5 ? md_md5 : EVP_md5(), p, n, out);
}

void vg_sensor_tls_sha256_hex(const void *p, size_t n, char out[65])
{
    pthread_once(&md_once, md_init);
    hex_digest(md_sha256 ? md_sha256 : EVP_sha256(), p, n, out);
}

void vg_sensor_tls_version_str(uint16_t v, char out[24])
{
    const char *s = NULL;
    switch (v) {
    case 0x0000:
        s = "UNDETERMINED";
        break;
    case 0x0200:
        s = "SSLv2";
        break;
    case 0x0300:
        s = "SSLv3";
        break;
    case 0x0301:
        s = "TLSv1";
        break;
    case 0x0302:
        s = "TLS 1.1";
        break;
    case 0x0303:
        s = "TLS 1.2";
        break;
    case 0x0304:
        s = "TLS 1.3";
        break;
    case 0x7f01:
        s = "TLS 1.3 draft-<16";
        break;
    default:
        break;
    }
    if (s) {
        vg_strlcpy(out, s, 24);
    } else if (v >= 0x7f10 && v <= 0x7f1c) {
        snprintf(out, 24, "TLS 1.3 draft-%u", (unsigned)(v & 0xff));
    } else if (v == 0xfb14 || v == 0xfb15 || v == 0xfb16 || v == 0xfb17 || v == 0xfb1a) {
        snprintf(out, 24, "TLS 1.3 draft-%u-fb", (unsigned)(v & 0xff));
    } else {
        snprintf(out, 24, "%u", (unsigned)v);
    }
}

static void version_max(struct tls_hello *h, uint16_t v)
{
    if (!is_grease(v) && v > h->maxver) {
        h->maxver = v;
    }
}

/* Start a member: a comma unless s is empty or ends an opening or a separator. */
static void put_sep(struct vg_sbuf *s)
{
    char last = s->len ? s->p[s->len - 1] : '{';
    if (last != '{' && last != '[' && last != ',') {
        vg_sbuf_addc(s, ',');
    }
}

/* v in decimal at o (at most 5 bytes); returns the end. */
static char *w_u16(char *o, unsigned v)
{
    char tmp[5];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(o, tmp + i, sizeof(tmp) - i);
    return o + (sizeof(tmp) - i);
}

/* Commit the bytes written up to end (reserved before) and keep s NUL-terminated. */
static void sbuf_commit(struct vg_sbuf *s, char *end)
{
    s->len = (size_t)(end - s->p);
    s->p[s->len] = '\0';
}

/* The values separated by sep, written straight into one reservation (no printf). */
static void add_u16_list(struct vg_sbuf *s, const uint16_t *v, size_t n, char sep)
{
    if (n == 0 || vg_sbuf_reserve(s, 6 * n) != VG_OK) {
        return;
    }
    char *o = s->p + s->len;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            *o++ = sep;
        }
        o = w_u16(o, v[i]);
    }
    sbuf_commit(s, o);
}

/* "key":[ (after a separator when needed). */
static void put_key_open(struct vg_sbuf *s, const char *key)
{
    put_sep(s);
    vg_sbuf_addc(s, '"');
    vg_sbuf_adds(s, key);
    vg_sbuf_add(s, "\":[", 3);
}

static void json_u16_array(struct vg_sbuf *s, const char *key, const uint16_t *v, size_t n)
{
    if (n == 0) {
        return;
    }
    put_key_open(s, key);
    add_u16_list(s, v, n, ',');
    vg_sbuf_addc(s, ']');
}

static void json_alpns(struct vg_sbuf *s, const char *key, const struct tls_hello *h)
{
    if (h->nalpn == 0) {
        return;
    }
    put_key_open(s, key);
    for (size_t i = 0; i < h->nalpn; i++) {
        if (i) {
            vg_sbuf_addc(s, ',');
        }
        vg_sbuf_add_json_str(s, (const char *)h->alpn[i], h->alpn_len[i]);
    }
    vg_sbuf_addc(s, ']');
}

/* ---------------------------------------------------------------- extensions */

static void ext_sni(struct vg_sensor_tls_cur *e, struct vg_sensor_tls_client_info *ci)
{
    struct vg_sensor_tls_cur list, name;
    uint8_t type;
    if (!cur_vec16(e, &list)) {
        return;
    }
    while (vg_sensor_tls_cur_u8(&list, &type) && cur_vec16(&list, &name)) {
        if (type == 0 && ci->sni_len == 0 && name.n > 0) {
            size_t l = VG_MIN(name.n, (size_t)VG_SENSOR_TLS_SNI_MAX);
            memcpy(ci->sni, name.p, l);
            ci->sni[l] = '\0';
            ci->sni_len = (uint16_t)l;
        }
    }
}

static void ext_alpn(struct vg_sensor_tls_cur *e, struct tls_hello *h)
{
    struct vg_sensor_tls_cur list, proto;
    if (!cur_vec16(e, &list)) {
        return;
    }
    while (cur_vec8(&list, &proto)) {
        if (proto.n > 0 && h->nalpn < VG_TLS_ALPN_MAX) {
            h->alpn[h->nalpn] = proto.p;
            h->alpn_len[h->nalpn++] = (uint8_t)proto.n;
        }
    }
}

static void ext_u16_list16(struct vg_sensor_tls_cur *e, uint16_t *arr, size_t *n)
{
    struct vg_sensor_tls_cur list;
    uint16_t v;
    if (!cur_vec16(e, &list)) {
        return;
    }
    while (vg_sensor_tls_cur_u16(&list, &v)) {
        push16(arr, n, v);
    }
}

static void ext_versions(struct vg_sensor_tls_cur *e, struct tls_hello *h, bool server)
{
    uint16_t v;
    if (server) {
        if (vg_sensor_tls_cur_u16(e, &v) && !is_grease(v)) {
            h->selected = v;
            version_max(h, v);
        }
        return;
    }
    struct vg_sensor_tls_cur list;
    if (!cur_vec8(e, &list)) {
        return;
    }
    while (vg_sensor_tls_cur_u16(&list, &v)) {
        version_max(h, v);
    }
}

static void ext_pfmts(struct vg_sensor_tls_cur *e, struct tls_hello *h)
{
    struct vg_sensor_tls_cur list;
    uint8_t v;
    if (!cur_vec8(e, &list)) {
        return;
    }
    while (vg_sensor_tls_cur_u8(&list, &v) && h->npfmts < sizeof(h->pfmts)) {
        h->pfmts[h->npfmts++] = v;
    }
}

/* Walk the extensions block. Returns false when it is malformed. */
static bool parse_exts(struct vg_sensor_tls_cur *c, struct tls_hello *h,
                       struct vg_sensor_tls_client_info *ci, bool server)
{
    struct vg_sensor_tls_cur all, e;
    uint16_t type;
    if (c->off == c->n) {
        return true; /* no extensions at all */
    }
    if (!cur_vec16(c, &all)) {
        return false;
    }
    while (all.off < all.n) {
        if (!vg_sensor_tls_cur_u16(&all, &type) || !cur_vec16(&all, &e)) {
            return false;
        }
        push16(h->exts, &h->nexts, type);
        switch (type) {
        case 0:
            if (!server) {
                h->sni = true;
                ext_sni(&e, ci);
            }
            break;
        case 10:
            if (!server) {
                ext_u16_list16(&e, h->groups, &h->ngroups);
            }
            break;
        case 11:
            ext_pfmts(&e, h);
            break;
        case 13:
            if (!server) {
                ext_u16_list16(&e, h->sigalgs, &h->nsigalgs);
            }
            break;
        case 16:
            ext_alpn(&e, h);
            break;
        case 43:
            ext_versions(&e, h, server);
            break;
        default:
            break;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- fingerprints */

static void ja3_append(struct vg_sbuf *frag, const char *key, struct vg_sbuf *str)
{
    char md5[33];
    vg_sensor_tls_md5_hex(str->p ? str->p : "", str->len, md5);
    put_sep(frag);
    vg_sbuf_addc(frag, '"');
    vg_sbuf_adds(frag, key);
    vg_sbuf_add(frag, "\":{\"hash\":\"", 11);
    vg_sbuf_add(frag, md5, 32);
    vg_sbuf_add(frag, "\",", 2);
    vg_sensor_json_kstr(frag, "string", str->p ? str->p : "", str->len);
    vg_sbuf_addc(frag, '}');
}

static void client_ja3(struct vg_sbuf *frag, const struct tls_hello *h)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    add_u16_list(&s, &h->legacy, 1, ',');
    vg_sbuf_addc(&s, ',');
    add_u16_list(&s, h->ciphers, h->nciphers, '-');
    vg_sbuf_addc(&s, ',');
    add_u16_list(&s, h->exts, h->nexts, '-');
    vg_sbuf_addc(&s, ',');
    add_u16_list(&s, h->groups, h->ngroups, '-');
    vg_sbuf_addc(&s, ',');
    for (size_t i = 0; i < h->npfmts; i++) {
        uint16_t f = h->pfmts[i];
        if (i) {
            vg_sbuf_addc(&s, '-');
        }
        add_u16_list(&s, &f, 1, '-');
    }
    ja3_append(frag, "ja3", &s);
    vg_sbuf_fini(&s);
}

static int cmp_u16(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    default:
        return "00";
    }
}

/* The two ALPN characters of JA4_a: first and last character of the first ALPN value. */
static void ja4_alpn(const struct tls_hello *h, char out[3])
{
    static const char hx[] = "0123456789abcdef";
    out[0] = out[1] = '0';
    out[2] = '\0';
    if (h->nalpn == 0 || h->alpn_len[0] < 2) {
        return;
    }
    const uint8_t *a = h->alpn[0];
    uint8_t first = a[0], last = a[h->alpn_len[0] - 1];
    if (h->alpn_len[0] == 2 && is_grease((uint16_t)((first << 8) | last))) {
        return;
    }
    if (isalnum(first) && isalnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = hx[first >> 4];
        out[1] = hx[last & 15];
    }
}

/* sorted hex list "0a0b,1301" of v (sorted copy into tmp). */
static void ja4_hexlist(struct vg_sbuf *s, const uint16_t *v, size_t n, uint16_t *tmp, bool sort)
{
    static const char hx[] = "0123456789abcdef";
    memcpy(tmp, v, n * sizeof(*v));
    if (sort) {
        qsort(tmp, n, sizeof(*tmp), cmp_u16);
    }
    if (n == 0 || vg_sbuf_reserve(s, 5 * n) != VG_OK) {
        return;
    }
    char *o = s->p + s->len;
    for (size_t i = 0; i < n; i++) {
        if (i) {
            *o++ = ',';
        }
        o[0] = hx[tmp[i] >> 12];
        o[1] = hx[(tmp[i] >> 8) & 15];
        o[2] = hx[(tmp[i] >> 4) & 15];
        o[3] = hx[tmp[i] & 15];
        o += 4;
    }
    sbuf_commit(s, o);
}

static void client_ja4(struct vg_sbuf *frag, const struct tls_hello *h)
{
    uint16_t tmp[VG_TLS_HELLO_MAX], exts[VG_TLS_HELLO_MAX];
    size_t nexts = 0;
    char alpn[3], hb[65], hc[65];
    struct vg_sbuf s = VG_SBUF_INIT;

    for (size_t i = 0; i < h->nexts; i++) {
        if (h->exts[i] != 0x0000 && h->exts[i] != 0x0010) {
            exts[nexts++] = h->exts[i];
        }
    }
    ja4_alpn(h, alpn);
    ja4_hexlist(&s, h->ciphers, h->nciphers, tmp, true);
    vg_sensor_tls_sha256_hex(s.p ? s.p : "", s.len, hb);
    vg_sbuf_reset(&s);
    ja4_hexlist(&s, exts, nexts, tmp, true);
    vg_sbuf_addc(&s, '_');
    ja4_hexlist(&s, h->sigalgs, h->nsigalgs, tmp, false);
    vg_sensor_tls_sha256_hex(s.p ? s.p : "", s.len, hc);
    vg_sbuf_fini(&s);
    hb[12] = hc[12] = '\0';
    unsigned nc = (unsigned)VG_MIN(h->nciphers, (size_t)99);
    unsigned ne = (unsigned)VG_MIN(h->nexts, (size_t)99);
    char a[10] = {'t',
                  ja4_version(h->maxver)[0],
                  ja4_version(h->maxver)[1],
                  h->sni ? 'd' : 'i',
                  (char)('0' + nc / 10),
                  (char)('0' + nc % 10),
                  (char)('0' + ne / 10),
                  (char)('0' + ne % 10),
                  alpn[0],
                  alpn[1]};
    put_sep(frag);
    vg_sbuf_add(frag, "\"ja4\":\"", 7);
    vg_sbuf_add(frag, a, sizeof(a));
    vg_sbuf_addc(frag, '_');
    vg_sbuf_add(frag, hb, 12);
    vg_sbuf_addc(frag, '_');
    vg_sbuf_add(frag, hc, 12);
    vg_sbuf_addc(frag, '"');
}

static void json_version(struct vg_sbuf *frag, uint16_t v)
{
    char vs[24];
    vg_sensor_tls_version_str(v, vs);
    vg_sensor_json_kstr(frag, "version", vs, strlen(vs));
}

/* ---------------------------------------------------------------- hellos */

/* version, random, session id: common to both hellos. */
/* TLS 1.3 drafts before 22 put the version in legacy_version and drop the session id and
 * compression fields from the ServerHello. */
static bool draft_layout(uint16_t v)
{
    return v == 0x0304 || ((v >> 8) == 0x7f && (v & 0xff) < 22);
}

/* version, random, session id: common to both hellos (no session id in draft layouts). */
static bool hello_head(struct vg_sensor_tls_cur *c, struct tls_hello *h, uint8_t sid[32],
                       uint8_t *sid_len, bool server)
{
    struct vg_sensor_tls_cur rnd, sess = {NULL, 0, 0};
    if (!vg_sensor_tls_cur_u16(c, &h->legacy) || !vg_sensor_tls_cur_sub(c, 32, &rnd)) {
        return false;
    }
    h->maxver = 0;
    version_max(h, h->legacy);
    if (server && draft_layout(h->legacy)) {
        *sid_len = 0;
        return true;
    }
    if (!cur_vec8(c, &sess)) {
        return false;
    }
    *sid_len = (uint8_t)VG_MIN(sess.n, (size_t)32);
    if (*sid_len) {
        memcpy(sid, sess.p, *sid_len);
    }
    return true;
}

/* Suricata's version of a ServerHello legacy_version: early drafts collapse to 0x7f01. */
static uint16_t server_version(uint16_t v)
{
    if (v == 0x0304 || (v >= 0x7f01 && v < 0x7f10)) {
        return 0x7f01;
    }
    return v;
}

int vg_sensor_tls_client_hello(const uint8_t *p, size_t n, struct vg_sensor_tls_client_info *ci,
                               struct vg_sbuf *frag)
{
    struct tls_hello *h = hello_new();
    struct vg_sensor_tls_cur c = {p, n, 0}, cs, comp;
    uint16_t v;
    int rc = VG_EINVAL;
    if (!h) {
        return VG_ENOMEM;
    }
    ci->seen = true;
    if (!hello_head(&c, h, ci->sid, &ci->sid_len, false)) {
        goto out;
    }
    ci->version = h->legacy;
    if (!cur_vec16(&c, &cs) || !cur_vec8(&c, &comp)) {
        goto out;
    }
    while (vg_sensor_tls_cur_u16(&cs, &v)) {
        push16(h->ciphers, &h->nciphers, v);
    }
    if (!parse_exts(&c, h, ci, false)) {
        goto out;
    }
    rc = 0;
out:
    if (ci->sni_len) {
        vg_sensor_json_kstr(frag, "sni", ci->sni, ci->sni_len);
    }
    if (rc == 0) {
        client_ja3(frag, h);
        client_ja4(frag, h);
        json_alpns(frag, "client_alpns", h);
        put_sep(frag);
        vg_sbuf_adds(frag, "\"client_handshake\":{");
        json_version(frag, h->maxver);
        json_u16_array(frag, "ciphers", h->ciphers, h->nciphers);
        json_u16_array(frag, "exts", h->exts, h->nexts);
        json_u16_array(frag, "sig_algs", h->sigalgs, h->nsigalgs);
        vg_sbuf_addc(frag, '}');
    }
    vg_free(h);
    return rc;
}

int vg_sensor_tls_client_hello_v2(const uint8_t *p, size_t n, struct vg_sensor_tls_client_info *ci)
{
    /* msg_type(1)=1, version(2), cipher_spec_len(2), session_id_len(2), challenge_len(2) */
    if (n < 9 || p[0] != 1) {
        return VG_EINVAL;
    }
    ci->seen = true;
    ci->version = (uint16_t)((p[1] << 8) | p[2]);
    if (ci->version == 0x0002) {
        ci->version = 0x0200; /* SSLv2's own numbering */
    }
    return 0;
}

int vg_sensor_tls_server_hello(const uint8_t *p, size_t n, struct vg_sensor_tls_server_info *si,
                               struct vg_sbuf *frag)
{
    struct tls_hello *h = hello_new();
    struct vg_sensor_tls_cur c = {p, n, 0};
    struct vg_sensor_tls_client_info unused;
    uint16_t cipher = 0;
    uint8_t compr;
    int rc = VG_EINVAL;
    if (!h) {
        return VG_ENOMEM;
    }
    memset(&unused, 0, sizeof(unused));
    si->seen = true;
    if (!hello_head(&c, h, si->sid, &si->sid_len, true)) {
        goto out;
    }
    si->version = server_version(h->legacy);
    if (!vg_sensor_tls_cur_u16(&c, &cipher) ||
        (!draft_layout(h->legacy) && !vg_sensor_tls_cur_u8(&c, &compr))) {
        goto out;
    }
    if (!parse_exts(&c, h, &unused, true)) {
        goto out;
    }
    if (h->selected) {
        si->version = h->selected;
    }
    si->tls13 = si->version == 0x0304 || (si->version >> 8) == 0x7f || (si->version >> 8) == 0xfb ||
                draft_layout(h->legacy);
    rc = 0;

    struct vg_sbuf s = VG_SBUF_INIT;
    uint16_t head[2] = {h->legacy, cipher};
    add_u16_list(&s, head, 2, ',');
    vg_sbuf_addc(&s, ',');
    add_u16_list(&s, h->exts, h->nexts, '-');
    ja3_append(frag, "ja3s", &s);
    vg_sbuf_fini(&s);
    json_alpns(frag, "server_alpns", h);
    put_sep(frag);
    vg_sbuf_adds(frag, "\"server_handshake\":{");
    json_version(frag, h->maxver);
    vg_sensor_json_kint(frag, "cipher", cipher);
    json_u16_array(frag, "exts", h->exts, h->nexts);
    vg_sbuf_addc(frag, '}');
out:
    vg_free(h);
    return rc;
}
