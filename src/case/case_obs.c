/*
 * case_obs.c — observables: type detection and normalisation, de-duplication by
 * type+value per case, and their JSON listing.
 *
 * Types follow TheHive's data types. Values are normalised so the same indicator written
 * twice is one observable: IPs in inet_ntop's canonical form, hashes, domains, FQDNs,
 * hostnames and mail addresses lower-case. The IOC flag defaults by type: public IPs,
 * hashes, URLs, domains and FQDNs are indicators; private, loopback and link-local
 * addresses and the environment's own names (hosts, users, files) are not.
 */
#include "case/case_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const obs_types[] = {"ip",       "domain", "fqdn",     "url",
                                        "hash",     "mail",   "filename", "user-agent",
                                        "hostname", "user",   "other"};

static bool known_type(const char *t)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(obs_types); i++) {
        if (!strcmp(t, obs_types[i])) {
            return true;
        }
    }
    return false;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return n > 0;
}

static const char *hash_kind(const char *s)
{
    size_t n = strlen(s);
    if (!all_hex(s, n)) {
        return NULL;
    }
    return n == 32 ? "md5" : n == 40 ? "sha1" : n == 64 ? "sha256" : NULL;
}

/* A DNS name: labels of [A-Za-z0-9-_], at least two, the last not all digits. */
static bool looks_fqdn(const char *s)
{
    size_t n = strlen(s), labels = 0, len = 0;
    bool alpha_last = false;
    if (!n || n > 253 || s[n - 1] == '.' || s[0] == '.') {
        return false;
    }
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (!len || len > 63) {
                return false;
            }
            labels++;
            len = 0;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '-' && c != '_') {
            return false;
        }
        if (len == 0) {
            alpha_last = false;
        }
        alpha_last = alpha_last || isalpha(c);
        len++;
    }
    return labels >= 2 && alpha_last;
}

static bool looks_mail(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at > s && !strchr(at + 1, '@') && looks_fqdn(at + 1) && !strpbrk(s, " <>\t");
}

void vg_case_observable_detect(const char *value, const char **type, const char **subtype)
{
    unsigned char buf[sizeof(struct in6_addr)];
    const char *h = NULL;
    *subtype = "";
    if (inet_pton(AF_INET, value, buf) == 1) {
        *type = "ip";
        *subtype = "ipv4";
    } else if (inet_pton(AF_INET6, value, buf) == 1) {
        *type = "ip";
        *subtype = "ipv6";
    } else if ((h = hash_kind(value)) != NULL) {
        *type = "hash";
        *subtype = h;
    } else if (strstr(value, "://")) {
        *type = "url";
    } else if (looks_mail(value)) {
        *type = "mail";
    } else if (looks_fqdn(value)) {
        *type = "fqdn";
    } else {
        *type = "other";
    }
}

/* Private, loopback, link-local, unspecified, CGNAT, multicast: not indicators. */
static bool ip_internal(const char *subtype, const unsigned char *a)
{
    if (!strcmp(subtype, "ipv4")) {
        return a[0] == 10 || a[0] == 127 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
               (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224;
    }
    static const unsigned char zero[15] = {0};
    bool v4mapped = !memcmp(a, zero, 10) && a[10] == 0xff && a[11] == 0xff;
    if (v4mapped) {
        return ip_internal("ipv4", a + 12);
    }
    return !memcmp(a, zero, 15) /* :: and ::1 */ || (a[0] & 0xfe) == 0xfc /* fc00::/7 */ ||
           (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 */ || a[0] == 0xff;
}

/* The normalised value, its subtype and default IOC flag; VG_EINVAL when it does not fit. */
struct obs_norm {
    char type[16];
    const char *subtype;
    char *value; /* vg_malloc'ed */
    bool ioc_default;
};

static int norm_ip(const char *v, struct obs_norm *n, char *err, size_t errsz)
{
    unsigned char a[sizeof(struct in6_addr)];
    char text[INET6_ADDRSTRLEN];
    int af = inet_pton(AF_INET, v, a) == 1    ? AF_INET
             : inet_pton(AF_INET6, v, a) == 1 ? AF_INET6
                                              : 0;
    if (!af) {
        snprintf(err, errsz, "cases: field 'value': '%.64s' is not an IPv4 or IPv6 address", v);
        return VG_EINVAL;
    }
    inet_ntop(af, a, text, sizeof(text));
    n->subtype = af == AF_INET ? "ipv4" : "ipv6";
    n->ioc_default = !ip_internal(n->subtype, a);
    n->value = vg_strdup(text);
    return n->value ? VG_OK : VG_ENOMEM;
}

static void lower(char *s)
{
    for (; *s; s++) {
        *s = (char)tolower((unsigned char)*s);
    }
}

static int norm_value(const char *type, const char *v, struct obs_norm *n, char *err, size_t errsz)
{
    n->subtype = "";
    if (!strcmp(type, "ip")) {
        return norm_ip(v, n, err, errsz);
    }
    if (!strcmp(type, "hash") && !(n->subtype = hash_kind(v))) {
        snprintf(err, errsz,
                 "cases: field 'value': a hash is 32 (md5), 40 (sha1) or 64 (sha256) "
                 "hex digits");
        return VG_EINVAL;
    }
    if (!strcmp(type, "mail") && !strchr(v, '@')) {
        snprintf(err, errsz, "cases: field 'value': a mail address needs an '@'");
        return VG_EINVAL;
    }
    n->value = vg_strdup(v);
    if (!n->value) {
        return VG_ENOMEM;
    }
    bool fold = !strcmp(type, "hash") || !strcmp(type, "domain") || !strcmp(type, "fqdn") ||
                !strcmp(type, "hostname") || !strcmp(type, "mail");
    if (fold) {
        lower(n->value);
    }
    n->ioc_default = !strcmp(type, "hash") || !strcmp(type, "url") || !strcmp(type, "domain") ||
                     !strcmp(type, "fqdn");
    return VG_OK;
}

static int obs_normalise(const struct vg_case_observable *o, struct obs_norm *n, char *err,
                         size_t errsz)
{
    const char *type = o->type, *sub = NULL;
    int rc = case_check_text("value", o->value, CASE_VALUE_MAX, true, err, errsz);
    rc = rc ? rc : case_check_text("message", o->message, CASE_TEXT_MAX, false, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (!type || !*type || !strcmp(type, "auto")) {
        vg_case_observable_detect(o->value, &type, &sub);
    }
    if (!known_type(type)) {
        snprintf(err, errsz,
                 "cases: field 'type': expected ip|domain|fqdn|url|hash|mail|"
                 "filename|user-agent|hostname|user|other");
        return VG_EINVAL;
    }
    vg_strlcpy(n->type, type, sizeof(n->type));
    return norm_value(type, o->value, n, err, errsz);
}

/* Merge into an existing observable: OR the flags, merge the tags. */
static int obs_merge(struct vg_case_db *db, int64_t oid, const char *old_tags, const char *tags,
                     bool ioc, bool sighted, char *err, size_t errsz)
{
    struct vg_sbuf merged = VG_SBUF_INIT;
    sqlite3_stmt *st = NULL;
    int rc = case_tags_merge(old_tags, tags, &merged);
    rc = rc ? rc
            : case_prepare(db,
                           "UPDATE observables SET ioc = ioc OR ?, sighted = sighted OR ?,"
                           " tags = ? WHERE id = ?",
                           &st, "observable merge", err, errsz);
    if (rc == VG_OK) {
        sqlite3_bind_int(st, 1, ioc);
        sqlite3_bind_int(st, 2, sighted);
        case_bind_text(st, 3, merged.p);
        sqlite3_bind_int64(st, 4, oid);
        rc = case_step_done(db, st, "observable merge", err, errsz);
    }
    vg_sbuf_fini(&merged);
    return rc;
}

static int obs_find(struct vg_case_db *db, int64_t case_id, const struct obs_norm *n, int64_t *oid,
                    struct vg_sbuf *tags, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db,
                          "SELECT id, tags FROM observables WHERE case_id = ? AND type = ?"
                          " AND value = ?",
                          &st, "observable lookup", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, case_id);
    case_bind_text(st, 2, n->type);
    case_bind_text(st, 3, n->value);
    *oid = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *oid = case_col_i64(st, 0);
        vg_sbuf_adds(tags, case_col(st, 1));
    }
    sqlite3_finalize(st);
    return tags->err;
}

static int obs_insert(struct vg_case_db *db, int64_t case_id, const struct obs_norm *n,
                      const char *tags, bool ioc, const struct vg_case_observable *o,
                      const char *source, int64_t *oid, char *err, size_t errsz)
{
    sqlite3_stmt *st = NULL;
    int rc = case_prepare(db,
                          "INSERT INTO observables(case_id, type, subtype, value, ioc, sighted,"
                          " tags, message, source, created) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          &st, "observable insert", err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    sqlite3_bind_int64(st, 1, case_id);
    case_bind_text(st, 2, n->type);
    case_bind_text(st, 3, n->subtype);
    case_bind_text(st, 4, n->value);
    sqlite3_bind_int(st, 5, ioc);
    sqlite3_bind_int(st, 6, o->sighted);
    case_bind_text(st, 7, tags);
    case_bind_text(st, 8, o->message ? o->message : "");
    case_bind_text(st, 9, source ? source : "");
    sqlite3_bind_int64(st, 10, vg_time_now());
    rc = case_step_done(db, st, "observable insert", err, errsz);
    *oid = sqlite3_last_insert_rowid(db->db);
    return rc;
}

int case_observable_put(struct vg_case_db *db, int64_t case_id, const struct vg_case_observable *o,
                        const char *source, int64_t *obs_id, bool *added, char *err, size_t errsz)
{
    struct obs_norm n = {0};
    struct vg_sbuf tags = VG_SBUF_INIT, old = VG_SBUF_INIT;
    int64_t oid = 0;
    *added = false;
    int rc = obs_normalise(o, &n, err, errsz);
    rc = rc ? rc : case_tags_norm("tags", o->tags, &tags, err, errsz);
    rc = rc ? rc : obs_find(db, case_id, &n, &oid, &old, err, errsz);
    bool ioc = o->ioc < 0 ? n.ioc_default : o->ioc > 0;
    if (rc == VG_OK && oid) {
        rc = obs_merge(db, oid, old.p, tags.p, ioc, o->sighted, err, errsz);
    } else if (rc == VG_OK) {
        rc = obs_insert(db, case_id, &n, tags.p, ioc, o, source, &oid, err, errsz);
        *added = rc == VG_OK;
    }
    if (rc == VG_OK && obs_id) {
        *obs_id = oid;
    }
    vg_free(n.value);
    vg_sbuf_fini(&tags);
    vg_sbuf_fini(&old);
    return rc;
}

int vg_case_observable_add(struct vg_case_db *db, const struct vg_case_op *op, int64_t id,
                           const struct vg_case_observable *o, int64_t *obs_id, bool *added,
                           char *err, size_t errsz)
{
    struct case_write w;
    struct vg_sbuf d = VG_SBUF_INIT;
    bool is_new = false;
    int64_t oid = 0;
    int rc = case_write_begin(db, op, &w, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    if (w.replayed) {
        oid = w.prev_id;
    } else {
        rc = case_lookup_open(db, w.tenant, id, err, errsz);
        rc = rc ? rc : case_observable_put(db, id, o, "manual", &oid, &is_new, err, errsz);
        vg_sbuf_printf(&d, "{\"observable_id\":%" PRId64 ",\"new\":%s}", oid,
                       is_new ? "true" : "false");
        if (rc == VG_OK && is_new) {
            struct vg_sbuf text = VG_SBUF_INIT;
            vg_sbuf_printf(&text, "Observable added: %s %s", o->type ? o->type : "auto", o->value);
            rc = text.err ? text.err
                          : case_timeline_put(db, id, w.actor, "observable_added", text.p, d.p, err,
                                              errsz);
            vg_sbuf_fini(&text);
        }
    }
    rc = case_write_end(&w, rc, oid, "case.observable", id, d.p, err, errsz);
    if (obs_id) {
        *obs_id = rc == VG_OK ? oid : 0;
    }
    if (added) {
        *added = rc == VG_OK && is_new;
    }
    vg_sbuf_fini(&d);
    return rc;
}

static void obs_row_json(struct vg_sbuf *out, sqlite3_stmt *st)
{
    case_json_col(out, "type", st, 1, false);
    case_json_col(out, "subtype", st, 2, false);
    case_json_col(out, "value", st, 3, false);
    vg_sbuf_printf(out, ",\"ioc\":%s,\"sighted\":%s,\"tags\":%s",
                   sqlite3_column_int(st, 4) ? "true" : "false",
                   sqlite3_column_int(st, 5) ? "true" : "false", case_col(st, 6));
    case_json_col(out, "message", st, 7, false);
    case_json_col(out, "source", st, 8, false);
    case_json_member_time(out, "created", case_col_i64(st, 9));
}

int vg_case_observables_json(struct vg_case_db *db, const char *tenant, int64_t id,
                             struct vg_sbuf *out, char *err, size_t errsz)
{
    return case_list_json(db, tenant, id, "observables",
                          "SELECT id, type, subtype, value, ioc, sighted, tags, message, source,"
                          " created FROM observables WHERE case_id = ? ORDER BY id",
                          obs_row_json, out, err, errsz);
}
