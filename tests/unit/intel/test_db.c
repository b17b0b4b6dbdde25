/*
 * test_db.c — the STIX bundle importer and the indicator store (src/intel/intel_stix.c,
 * intel_db.c, intel_snap.c): ATT&CK's object and relationship counts (issue 7 acceptance 1),
 * indicators with their context and relationships, compound/revoked/malformed rejections,
 * generations and atomic replacement, APPEND, expiry, decay, warninglist flagging at import,
 * event matching on ECS and EVE fields, search, removal, corrupt inputs.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intel/intel_db.h"
#include "intel/intel_stix.h"
#include "vgtest.h"

#define NOW 1800000000u

static char root[256];
static int ndb;

static struct vg_intel_db *fresh_db(void)
{
    char dir[512], err[256];
    struct vg_intel_db *db = NULL;
    if (!root[0]) {
        snprintf(root, sizeof(root), "/tmp/vg-test-intel-db-XXXXXX");
        if (!mkdtemp(root)) {
            return NULL;
        }
    }
    snprintf(dir, sizeof(dir), "%s/db%d", root, ndb++);
    if (vg_intel_db_open(dir, true, &db, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "open: %s\n", err);
    }
    return db;
}

static int import(struct vg_intel_db *db, const char *source, const char *text,
                  struct vg_intel_import_report *rep)
{
    char err[512];
    struct vg_intel_import_opts o = {.now = NOW, .csv_type = VG_INTEL_TYPE_COUNT};
    int rc = vg_intel_db_import_mem(db, source, text, strlen(text), source, VG_INTEL_FMT_AUTO, &o,
                                    rep, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "import %s: %s\n", source, err);
    }
    return rc;
}

static struct vg_intel_snap *load(struct vg_intel_db *db)
{
    struct vg_intel_snap *s = NULL;
    char err[256];
    if (vg_intel_db_load(db, &s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "load: %s\n", err);
    }
    return s;
}

/* Describe the hit for value (type guessed) into a static buffer; "" if no hit. */
static const char *lookup(const struct vg_intel_snap *s, const char *value, uint32_t now,
                          unsigned flags)
{
    static char out[8192];
    struct vg_intel_hit hit;
    struct vg_sbuf b = VG_SBUF_INIT;
    out[0] = 0;
    if (vg_intel_snap_match_value(s, VG_INTEL_TYPE_COUNT, value, strlen(value), now, flags, &hit) ==
        VG_OK) {
        vg_intel_snap_describe(s, &hit, now, &b);
        snprintf(out, sizeof(out), "%s", b.p ? b.p : "");
    }
    vg_sbuf_fini(&b);
    return out;
}

#define IND(id, pattern, extra)                                                                    \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--" id "\","               \
    "\"created\":\"2026-01-01T00:00:00Z\",\"modified\":\"2026-02-01T00:00:00Z\","                  \
    "\"pattern\":\"" pattern "\",\"pattern_type\":\"stix\","                                       \
    "\"valid_from\":\"2026-01-01T00:00:00Z\"" extra "}"

/* tests/unit/intel/data/stix/bundle.json: indicators of every simple type with context, and
 * one of each rejection (compound, revoked, malformed value, unsupported type, unterminated
 * pattern, snort pattern, an element that is not an object). */
static char *bundle;

static const char *bundle_text(void)
{
    char path[1024];
    size_t len;
    if (!bundle) {
        snprintf(path, sizeof(path), "%s/tests/unit/intel/data/stix/bundle.json", vgt_source_dir());
        if (vg_file_read(path, 1 << 20, &bundle, &len) != VG_OK) {
            fprintf(stderr, "cannot read %s\n", path);
            bundle = vg_strdup("{}");
        }
    }
    return bundle;
}

VG_TEST(db_stix_bundle_context_and_rejections)
{
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_import_report rep;
    struct vg_intel_snap *s;
    CHECK(db != NULL);
    CHECK_EQ_INT(import(db, "feed", bundle_text(), &rep), 0);
    CHECK_EQ_INT((int)rep.indicators, 7);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_IPV4], 2);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_DOMAIN], 1);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_SHA256], 1);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_URL], 1);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_EMAIL], 1);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_X509_SHA1], 1);
    CHECK_EQ_INT((int)rep.rejected[VG_INTEL_REJ_COMPOUND], 1);
    CHECK_EQ_INT((int)rep.rejected[VG_INTEL_REJ_REVOKED], 1);
    /* 300.0.0.1, the unterminated pattern, the 42 */
    CHECK_EQ_INT((int)rep.rejected[VG_INTEL_REJ_MALFORMED], 3);
    /* mac-addr, snort */
    CHECK_EQ_INT((int)rep.rejected[VG_INTEL_REJ_UNSUPPORTED], 2);
    CHECK(strstr(rep.first_reject[VG_INTEL_REJ_COMPOUND], "objects[5] indicator--a5") != NULL);
    CHECK(strstr(rep.first_reject[VG_INTEL_REJ_COMPOUND], "observations joined by AND") != NULL);
    CHECK(strstr(rep.first_reject[VG_INTEL_REJ_MALFORMED], "octet 1 > 255") != NULL);
    CHECK_EQ_INT((int)rep.relationships, 2);
    CHECK_EQ_INT((int)rep.objects, 16);
    s = load(db);
    CHECK(s != NULL);
    const char *d = lookup(s, "198.51.100.7", NOW, 0);
    CHECK(strstr(d, "\"source\":\"feed\"") != NULL);
    CHECK(strstr(d, "\"confidence\":85") != NULL);
    CHECK(strstr(d, "\"tags\":[\"malicious-activity\",\"tlp:red\",\"tlp:amber\"]") != NULL);
    CHECK(strstr(d, "\"name\":\"Emotet C2\"") != NULL);
    CHECK(strstr(d, "{\"id\":\"malware--e1\",\"type\":\"malware\",\"name\":\"Emotet\",\"ext_id\":"
                    "\"S0367\",\"relationship\":\"indicates\"}") != NULL);
    CHECK(strstr(d, "\"ext_id\":\"T1566\",\"relationship\":\"uses\"") != NULL);
    CHECK(strstr(lookup(s, "203.0.113.77", NOW, 0), "\"value\":\"203.0.113.0/24\"") != NULL);
    /* valid_until 2028-01-01 passed 400 days after NOW (2027-01-15): no match */
    CHECK_STR(lookup(s, "203.0.113.77", 1800000000u + 86400 * 400, 0), "");
    CHECK(lookup(s, "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", NOW,
                 0)[0] != 0);
    CHECK(lookup(s, "http://c2.example/gate.php", NOW, 0)[0] != 0);
    /* a URL not listed still hits through its host */
    CHECK(strstr(lookup(s, "https://c2.example/other", NOW, 0), "\"type\":\"domain\"") != NULL);
    CHECK(lookup(s, "X@Evil.Example", NOW, 0)[0] != 0);
    CHECK(strstr(lookup(s, "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67", NOW, 0),
                 "x509-sha1") == NULL); /* colons are not a bare value */
    CHECK_STR(lookup(s, "192.0.2.1", NOW, 0), "");
    CHECK_STR(lookup(s, "192.0.2.2", NOW, 0), "");
    CHECK_STR(lookup(s, "sub.c2.example", NOW, 0), "");
    vg_intel_snap_unref(s);
    vg_intel_db_close(db);
}

static int collect(void *u, const struct vg_intel_match *m)
{
    struct vg_sbuf *b = u;
    vg_sbuf_printf(b, "%s=%.*s;", m->field, (int)m->value_len, m->value);
    return 0;
}

static const char *match_json(const struct vg_intel_snap *s, const char *json)
{
    static char out[1024];
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_event *ev = vg_event_create();
    struct vg_json *doc = NULL;
    struct vg_sbuf b = VG_SBUF_INIT;
    size_t used;
    out[0] = 0;
    if (vg_json_parse(p, a, json, strlen(json), &used, &doc, NULL, 0) == VG_OK &&
        vg_event_from_json(ev, doc, NULL) == VG_OK) {
        vg_intel_snap_match_event(s, ev, NOW, 0, collect, &b);
        snprintf(out, sizeof(out), "%s", b.p ? b.p : "");
    }
    vg_sbuf_fini(&b);
    vg_event_destroy(ev);
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    return out;
}

VG_TEST(db_match_event_fields)
{
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_snap *s;
    CHECK_EQ_INT(import(db, "feed", bundle_text(), NULL), 0);
    s = load(db);
    CHECK(s != NULL);
    CHECK_STR(match_json(s, "{\"source\":{\"ip\":\"10.0.0.1\"},\"destination\":{\"ip\":"
                            "\"198.51.100.7\"},\"related\":{\"ip\":[\"198.51.100.7\"]}}"),
              "destination.ip=198.51.100.7;");
    CHECK_STR(match_json(s, "{\"dns\":{\"question\":{\"name\":\"c2.example\"}}}"),
              "dns.question.name=c2.example;");
    CHECK_STR(match_json(s, "{\"url\":{\"full\":\"http://c2.example/gate.php\"}}"),
              "url.full=http://c2.example/gate.php;");
    CHECK_STR(match_json(s,
                         "{\"file\":{\"hash\":{\"sha256\":"
                         "\"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f\"}}}"),
              "file.hash.sha256=aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f;");
    /* Suricata EVE names, a certificate fingerprint with colons */
    CHECK_STR(match_json(s, "{\"src_ip\":\"203.0.113.9\",\"tls\":{\"sni\":\"c2.example\","
                            "\"fingerprint\":\"01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:"
                            "23:45:67\"}}"),
              "src_ip=203.0.113.9;tls.sni=c2.example;tls.fingerprint=01:23:45:67:89:ab:cd:ef:01:"
              "23:45:67:89:ab:cd:ef:01:23:45:67;");
    CHECK_STR(match_json(s, "{\"destination\":{\"ip\":\"192.0.2.99\"},\"dns\":{\"question\":"
                            "{\"name\":\"example.org\"}}}"),
              "");
    vg_intel_snap_unref(s);
    vg_intel_db_close(db);
}

static int count_cb(void *u, const char *json, size_t len)
{
    (void)json;
    (void)len;
    (*(int *)u)++;
    return 0;
}

/* ATT&CK enterprise bundle: the counts ../shared/corpus/README.md gives (acceptance 1). */
VG_TEST(db_attack_counts)
{
    const char *path = vgt_shared("corpus/mitre-attack/enterprise-attack.reassembled.json");
    struct vg_intel_db *db;
    struct vg_intel_import_report rep;
    struct vg_sbuf b = VG_SBUF_INIT;
    char err[512];
    if (!path || access(path, R_OK) != 0) {
        VG_SKIP("../shared/corpus/mitre-attack absent");
    }
    db = fresh_db();
    CHECK_EQ_INT(vg_intel_db_import_file(db, path, "attack", VG_INTEL_FMT_AUTO, NULL, &rep, err,
                                         sizeof(err)),
                 0);
    CHECK_EQ_INT((int)rep.format, VG_INTEL_FMT_STIX);
    CHECK_EQ_INT((int)rep.objects, 24771);
    CHECK_EQ_INT((int)rep.relationships, 20048);
    CHECK_EQ_INT((int)rep.indicators, 0);
    CHECK_EQ_INT(vg_intel_db_stats_json(db, NOW, &b, err, sizeof(err)), 0);
    CHECK(strstr(b.p, "\"attack-pattern\":{\"count\":835,\"active\":691}") != NULL);
    CHECK(strstr(b.p, "\"intrusion-set\":{\"count\":187,\"active\":172}") != NULL);
    CHECK(strstr(b.p, "\"objects\":{\"total\":24771,") != NULL);
    CHECK(strstr(b.p, "\"relationships\":20048") != NULL);
    /* the objects are searchable with their ATT&CK ids */
    struct vg_intel_snap *s = load(db);
    vg_sbuf_reset(&b);
    CHECK(s != NULL);
    int n = 0;
    CHECK_EQ_INT((int)vg_intel_snap_objects(s, "T1059.001", "attack-pattern", 0, 0, count_cb, &n),
                 1);
    vg_intel_snap_unref(s);
    vg_sbuf_fini(&b);
    vg_intel_db_close(db);
}

VG_TEST(db_search_and_objects)
{
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_snap *s;
    int n = 0;
    CHECK_EQ_INT(import(db, "feed", bundle_text(), NULL), 0);
    s = load(db);
    CHECK_EQ_INT(
        (int)vg_intel_snap_search(s, "EMOTET", VG_INTEL_TYPE_COUNT, NULL, NOW, 0, 0, count_cb, &n),
        2);
    CHECK_EQ_INT(n, 2);
    n = 0;
    CHECK_EQ_INT((int)vg_intel_snap_search(s, NULL, VG_INTEL_IPV4, NULL, NOW, 1, 5, count_cb, &n),
                 1);
    CHECK_EQ_INT(
        (int)vg_intel_snap_search(s, NULL, VG_INTEL_TYPE_COUNT, "other", NOW, 0, 0, count_cb, &n),
        0);
    n = 0;
    CHECK_EQ_INT((int)vg_intel_snap_objects(s, "t1566", NULL, 0, 0, count_cb, &n), 1);
    CHECK_EQ_INT((int)vg_intel_snap_objects(s, NULL, "attack-pattern", 0, 0, count_cb, &n), 2);
    vg_intel_snap_unref(s);
    vg_intel_db_close(db);
}

static const char gen1[] = "{\"type\":\"bundle\",\"objects\":[" IND(
    "g1", "[ipv4-addr:value = '198.51.100.1'] OR [ipv4-addr:value = '198.51.100.2']", "") "]}";
static const char gen2[] = "{\"type\":\"bundle\",\"objects\":[" IND(
    "g2", "[ipv4-addr:value = '198.51.100.2'] OR [ipv4-addr:value = '198.51.100.3']", "") "]}";

VG_TEST(db_generations_replace_and_swap)
{
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_snap *s1, *s2;
    uint64_t g;
    CHECK_EQ_INT(import(db, "feed", gen1, NULL), 0);
    g = vg_intel_db_generation(db);
    s1 = load(db);
    CHECK_EQ_INT(import(db, "feed", gen2, NULL), 0);
    CHECK(vg_intel_db_generation(db) == g + 1);
    s2 = load(db);
    /* the old snapshot still answers from its generation while the new one is in use */
    CHECK(lookup(s1, "198.51.100.1", NOW, 0)[0] != 0);
    CHECK_STR(lookup(s1, "198.51.100.3", NOW, 0), "");
    CHECK_STR(lookup(s2, "198.51.100.1", NOW, 0), "");
    CHECK(lookup(s2, "198.51.100.3", NOW, 0)[0] != 0);
    CHECK_EQ_INT((int)vg_intel_snap_count(s2), 2);
    vg_intel_snap_unref(s1);
    vg_intel_snap_unref(s2);
    /* a second source adds; removing it takes its indicators away */
    CHECK_EQ_INT(import(db, "other", gen1, NULL), 0);
    s1 = load(db);
    CHECK(lookup(s1, "198.51.100.1", NOW, 0)[0] != 0);
    vg_intel_snap_unref(s1);
    char err[256];
    CHECK_EQ_INT(vg_intel_db_remove(db, "other", err, sizeof(err)), 0);
    CHECK_EQ_INT(vg_intel_db_remove(db, "other", err, sizeof(err)), VG_ENOENT);
    s1 = load(db);
    CHECK_STR(lookup(s1, "198.51.100.1", NOW, 0), "");
    vg_intel_snap_unref(s1);
    /* a broken document leaves the previous generation in place */
    g = vg_intel_db_generation(db);
    CHECK_EQ_INT(vg_intel_db_import_mem(db, "bad", "{\"type\":\"bundle\",\"objects\":[{\"a\":", 29,
                                        "feed", VG_INTEL_FMT_STIX, NULL, NULL, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(strstr(err, "bad: offset") != NULL);
    CHECK(vg_intel_db_generation(db) == g);
    s1 = load(db);
    CHECK(lookup(s1, "198.51.100.3", NOW, 0)[0] != 0);
    vg_intel_snap_unref(s1);
    vg_intel_db_close(db);
}

VG_TEST(db_duplicates_first_wins)
{
    static const char doc[] = "{\"type\":\"bundle\",\"objects\":[" IND(
        "d1", "[ipv4-addr:value = '198.51.100.5']",
        ",\"name\":\"first\"") "," IND("d2",
                                       "[ipv4-addr:value = '198.51.100.5/32'] OR "
                                       "[domain-name:value = 'A.Example.']",
                                       ",\"name\":\"second\"") "," IND("d3",
                                                                       "[domain-name:value = "
                                                                       "'a.example']",
                                                                       "") "]}";
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_import_report rep;
    struct vg_intel_snap *s;
    int n = 0;
    CHECK_EQ_INT(import(db, "feed", doc, &rep), 0);
    CHECK_EQ_INT((int)rep.indicators, 2);
    CHECK_EQ_INT((int)rep.duplicates, 2);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_IPV4], 1);
    CHECK_EQ_INT((int)rep.by_type[VG_INTEL_DOMAIN], 1);
    s = load(db);
    CHECK_EQ_INT((int)vg_intel_snap_count(s), 2);
    CHECK(strstr(lookup(s, "198.51.100.5", NOW, 0), "\"name\":\"first\"") != NULL);
    CHECK(strstr(lookup(s, "a.example", NOW, 0), "\"ref\":\"indicator--d2\"") != NULL);
    CHECK_EQ_INT(
        (int)vg_intel_snap_search(s, NULL, VG_INTEL_TYPE_COUNT, NULL, NOW, 0, 0, count_cb, &n), 2);
    vg_intel_snap_unref(s);
    vg_intel_db_close(db);
}

static int add_pages(struct vg_intel_db *db, const char *text, unsigned flags)
{
    struct vg_intel_txn *t = NULL;
    char err[256];
    struct vg_intel_import_opts o = {.now = NOW};
    int rc = vg_intel_db_begin(db, "taxii", VG_INTEL_FMT_STIX, "test", flags, &t, err, sizeof(err));
    if (rc == VG_OK) {
        rc = vg_intel_import_stix(text, strlen(text), &o, vg_intel_txn_sink(t), err, sizeof(err));
        rc = rc == VG_OK ? vg_intel_txn_set_meta(t, "taxii.cursor", "2026-01-01T00:00:00Z") : rc;
        rc = rc == VG_OK ? vg_intel_txn_commit(t, NULL, err, sizeof(err))
                         : (vg_intel_txn_abort(t), rc);
    }
    return rc;
}

VG_TEST(db_append_keeps_and_replaces)
{
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_snap *s;
    char buf[64];
    CHECK_EQ_INT(add_pages(db, gen1, 0), 0);
    CHECK_EQ_INT(add_pages(db, gen2, VG_INTEL_TXN_APPEND), 0);
    s = load(db);
    CHECK_EQ_INT((int)vg_intel_snap_count(s), 3);
    CHECK(strstr(lookup(s, "198.51.100.2", NOW, 0), "indicator--g2") != NULL);
    CHECK(strstr(lookup(s, "198.51.100.1", NOW, 0), "indicator--g1") != NULL);
    vg_intel_snap_unref(s);
    CHECK_EQ_INT(vg_intel_db_get_meta(db, "taxii", "taxii.cursor", buf, sizeof(buf)), 0);
    CHECK_STR(buf, "2026-01-01T00:00:00Z");
    CHECK_EQ_INT(vg_intel_db_get_meta(db, "taxii", "nope", buf, sizeof(buf)), VG_ENOENT);
    CHECK_EQ_INT(vg_intel_db_get_meta(db, "nope", "taxii.cursor", buf, sizeof(buf)), VG_ENOENT);
    /* objects carried over from earlier pulls stay counted */
    static const char mal[] = "{\"objects\":[{\"type\":\"malware\",\"id\":\"malware--m1\","
                              "\"name\":\"X\"}]}";
    struct vg_sbuf st = VG_SBUF_INIT;
    char err[256];
    CHECK_EQ_INT(add_pages(db, mal, VG_INTEL_TXN_APPEND), 0);
    CHECK_EQ_INT(add_pages(db, gen1, VG_INTEL_TXN_APPEND), 0);
    CHECK_EQ_INT(vg_intel_db_stats_json(db, NOW, &st, err, sizeof(err)), 0);
    CHECK(st.p && strstr(st.p, "\"malware\":{\"count\":1,\"active\":1}") != NULL);
    vg_sbuf_fini(&st);
    vg_intel_db_close(db);
}

VG_TEST(db_expire_and_decay)
{
    static const char doc[] = "{\"type\":\"bundle\",\"objects\":[" IND(
        "e1", "[ipv4-addr:value = '198.51.100.10']",
        ",\"valid_until\":\"2026-06-01T00:00:00Z\",\"confidence\":80") "," IND("e2",
                                                                               "[ipv4-addr:"
                                                                               "value = "
                                                                               "'198.51.100.11'"
                                                                               "]",
                                                                               ",\"confidence\""
                                                                               ":80") "]}";
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_policy pol = {.confidence = 40, .half_life_s = 86400 * 30};
    struct vg_intel_snap *s;
    uint64_t removed = 0;
    char err[256];
    uint32_t mar = 1772323200u; /* 2026-03-01 */
    CHECK_EQ_INT(import(db, "feed", doc, NULL), 0);
    CHECK_EQ_INT(vg_intel_db_set_policy(db, "feed", &pol, err, sizeof(err)), 0);
    s = load(db);
    /* last_seen 2026-02-01, half-life 30 days: at 2026-03-03 one half-life has passed */
    CHECK(strstr(lookup(s, "198.51.100.11", mar + 2 * 86400, 0), "\"confidence_now\":40") != NULL);
    CHECK(lookup(s, "198.51.100.10", mar, 0)[0] != 0);
    CHECK_STR(lookup(s, "198.51.100.10", NOW, 0), "");
    vg_intel_snap_unref(s);
    CHECK_EQ_INT(vg_intel_db_expire(db, mar, &removed, err, sizeof(err)), 0);
    CHECK_EQ_INT((int)removed, 0);
    CHECK_EQ_INT(vg_intel_db_expire(db, NOW, &removed, err, sizeof(err)), 0);
    CHECK_EQ_INT((int)removed, 1);
    s = load(db);
    CHECK_EQ_INT((int)vg_intel_snap_count(s), 1);
    vg_intel_snap_unref(s);
    CHECK_EQ_INT(vg_intel_db_set_policy(db, "nope", &pol, err, sizeof(err)), VG_ENOENT);
    vg_intel_db_close(db);
}

static const char wl_doc[] =
    "{\"name\":\"Test resolvers\",\"type\":\"cidr\",\"matching_attributes\":[\"ip-dst\"],"
    "\"list\":[\"198.51.100.0/28\"]}";

VG_TEST(db_warninglists_flag_at_import)
{
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_import_report rep;
    struct vg_intel_snap *s;
    char err[256];
    CHECK_EQ_INT(import(db, "feed", gen1, NULL), 0);
    /* a list imported after the indicators re-flags them */
    CHECK_EQ_INT(vg_intel_db_import_mem(db, "lists/resolvers/list.json", wl_doc, strlen(wl_doc),
                                        NULL, VG_INTEL_FMT_AUTO, NULL, &rep, err, sizeof(err)),
                 0);
    CHECK_EQ_INT((int)rep.format, VG_INTEL_FMT_WARNINGLIST);
    CHECK_STR(rep.source, "resolvers");
    s = load(db);
    CHECK_STR(lookup(s, "198.51.100.1", NOW, 0), "");
    CHECK(strstr(lookup(s, "198.51.100.1", NOW, VG_INTEL_MATCH_WARNINGLISTED),
                 "\"warninglisted\":true,\"warninglists\":[\"resolvers\"]") != NULL);
    vg_intel_snap_unref(s);
    /* indicators imported after the list are flagged when written */
    CHECK_EQ_INT(import(db, "later", gen2, &rep), 0);
    CHECK_EQ_INT((int)rep.warninglisted, 2);
    vg_intel_db_close(db);
}

static void reject_doc(const char *doc, const char *want)
{
    struct vg_intel_db *db = fresh_db();
    char err[256] = "";
    int rc = vg_intel_db_import_mem(db, "doc", doc, strlen(doc), "x", VG_INTEL_FMT_STIX, NULL, NULL,
                                    err, sizeof(err));
    CHECK_EQ_INT(rc, VG_EINVAL);
    if (!strstr(err, want)) {
        fprintf(stderr, "  error '%s' lacks '%s'\n", err, want);
        CHECK(0);
    }
    vg_intel_db_close(db);
}

VG_TEST(db_bad_documents)
{
    reject_doc("", "offset 0: not a STIX document");
    reject_doc("hello", "offset 0: not a STIX document");
    reject_doc("{}", "not a STIX bundle");
    reject_doc("{\"objects\":[{\"type\":\"x\",\"id\":\"x--1\"}", "offset 36: expected");
    reject_doc("{\"objects\":[1 2]}", "expected ',' or ']'");
    reject_doc("{\"foo\":1,\"bar\":2}", "no \"objects\" or \"type\"");
    reject_doc("{\"type\":\"bundle\",\"objects\":{}}", "offset 27: \"objects\" is not an array");
    reject_doc("[{\"type\":\"x\",\"id\":\"x--1\"},", "offset 26");
    /* a bare object and a bare array are documents too */
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_import_report rep;
    CHECK_EQ_INT(import(db, "one", IND("o1", "[domain-name:value = 'one.example']", ""), &rep), 0);
    CHECK_EQ_INT((int)rep.indicators, 1);
    CHECK_EQ_INT(
        import(db, "arr", "[" IND("o2", "[domain-name:value = 'two.example']", "") "]", &rep), 0);
    CHECK_EQ_INT((int)rep.indicators, 1);
    char err[256];
    CHECK_EQ_INT(vg_intel_db_import_mem(db, "x", "[]", 2, "bad name!", VG_INTEL_FMT_STIX, NULL,
                                        NULL, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(strstr(err, "source name 'bad name!' is not valid") != NULL);
    vg_intel_db_close(db);
}

VG_TEST(db_corrupt_files)
{
    struct vg_intel_db *db = fresh_db();
    struct vg_intel_snap *s = NULL;
    char path[1024], err[256];
    FILE *f;
    CHECK_EQ_INT(import(db, "feed", gen1, NULL), 0);
    snprintf(path, sizeof(path), "%s/src-1-1.vgi", vg_intel_db_dir(db));
    CHECK(truncate(path, 30) == 0);
    CHECK_EQ_INT(vg_intel_db_load(db, &s, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "src-1-1.vgi") != NULL);
    snprintf(path, sizeof(path), "%s/manifest.json", vg_intel_db_dir(db));
    f = fopen(path, "w");
    fputs("{not json", f);
    fclose(f);
    CHECK_EQ_INT(vg_intel_db_load(db, &s, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "corrupt manifest") != NULL);
    vg_intel_db_close(db);
}

VG_TEST(db_cleanup)
{
    vg_free(bundle);
    vgt_rm_tree(root);
}
