/*
 * test_misp.c — the MISP importer (intel_misp.c): a hand-written event in the MISP core format
 * (tests/unit/intel/data/misp/event.json) with an attribute of every mapped type, composite
 * types, objects, event/attribute tags, galaxies at both levels, to_ids false, deleted
 * attributes and objects, unsupported types and malformed attributes — every record, object
 * and reject is checked; the REST "response" wrapper, arrays of events and bare events; a
 * feed directory (manifest + 2 events + a broken file + a missing one + a hostile key);
 * malformed documents rejected with the offset/field named; the sink stopping the import;
 * and the import rate on a generated event with 1M attributes.
 */
#include "core/core.h"
#include "intel/intel_misp.h"
#include "vgtest.h"

#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ collecting sink */

struct crec {
    enum vg_intel_type type;
    char *value, *ref, *name, *tags, *related;
    unsigned conf, fs, ls, vu;
};

struct cobj {
    char *id, *type, *name, *ext, *json;
    bool active;
};

struct crej {
    enum vg_intel_reject why;
    char *where, *reason;
};

static struct {
    struct crec rec[256];
    struct cobj obj[64];
    struct crej rej[64];
    size_t nrec, nobj, nrej;
    size_t stop_after; /* indicator count after which the sink returns VG_ELIMIT; 0 never */
    size_t count;      /* counting-only mode (bench): records seen */
    bool count_only;
} col;

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    memcpy(d, s ? s : "", s ? n : 0);
    d[s ? n : 0] = '\0';
    return d;
}

static void col_reset(void)
{
    for (size_t i = 0; i < col.nrec; i++) {
        struct crec *r = &col.rec[i];
        free(r->value), free(r->ref), free(r->name), free(r->tags), free(r->related);
    }
    for (size_t i = 0; i < col.nobj; i++) {
        struct cobj *o = &col.obj[i];
        free(o->id), free(o->type), free(o->name), free(o->ext), free(o->json);
    }
    for (size_t i = 0; i < col.nrej; i++) {
        free(col.rej[i].where), free(col.rej[i].reason);
    }
    memset(&col, 0, sizeof(col));
}

static int col_indicator(void *u, const struct vg_intel_rec *r)
{
    (void)u;
    col.count++;
    if (col.count_only) {
        return 0;
    }
    if (col.stop_after && col.nrec >= col.stop_after) {
        return VG_ELIMIT;
    }
    if (col.nrec < sizeof(col.rec) / sizeof(col.rec[0])) {
        struct crec *c = &col.rec[col.nrec++];
        c->type = r->type;
        c->value = dupn(r->value, r->value_len);
        c->ref = dupn(r->ref, r->ref_len);
        c->name = dupn(r->name, r->name_len);
        c->tags = dupn(r->tags, r->tags_len);
        c->related = dupn(r->related, r->related_len);
        c->conf = r->confidence;
        c->fs = r->first_seen;
        c->ls = r->last_seen;
        c->vu = r->valid_until;
    }
    return 0;
}

static int col_object(void *u, const struct vg_intel_obj *o)
{
    (void)u;
    if (!col.count_only && col.nobj < sizeof(col.obj) / sizeof(col.obj[0])) {
        struct cobj *c = &col.obj[col.nobj++];
        c->id = dupn(o->id, o->id_len);
        c->type = dupn(o->type, o->type_len);
        c->name = dupn(o->name, o->name_len);
        c->ext = dupn(o->ext_id, o->ext_id_len);
        c->json = dupn(o->json, o->json_len);
        c->active = o->active;
    }
    return 0;
}

static void col_reject(void *u, enum vg_intel_reject why, const char *where, const char *reason)
{
    (void)u;
    if (!col.count_only && col.nrej < sizeof(col.rej) / sizeof(col.rej[0])) {
        struct crej *c = &col.rej[col.nrej++];
        c->why = why;
        c->where = dupn(where, strlen(where));
        c->reason = dupn(reason, strlen(reason));
    }
}

static const struct vg_intel_sink sink = {NULL, col_indicator, col_object, col_reject};

static const char *const rej_names[] = {"MALFORMED", "COMPOUND", "UNSUPPORTED", "NOT_IDS",
                                        "REVOKED"};

/* "type value ref" of record i */
static const char *rec_line(size_t i)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%s %s %s", vg_intel_type_name(col.rec[i].type), col.rec[i].value,
             col.rec[i].ref);
    return buf;
}

static const char *rej_line(size_t i)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%s | %s | %s", rej_names[col.rej[i].why], col.rej[i].where,
             col.rej[i].reason);
    return buf;
}

static char *load(const char *rel, size_t *len)
{
    char path[1024], *buf = NULL;
    snprintf(path, sizeof(path), "%s/tests/unit/intel/data/misp/%s", vgt_source_dir(), rel);
    if (vg_file_read(path, 1u << 20, &buf, len) != 0) {
        return NULL;
    }
    return buf;
}

static int import_str(const char *doc, struct vg_intel_import_opts *o, char *err, size_t errsz)
{
    col_reset();
    return vg_intel_import_misp(doc, strlen(doc), o, &sink, err, errsz);
}

static int import_file(const char *rel, struct vg_intel_import_opts *o)
{
    size_t len = 0;
    char err[256] = "", *buf = load(rel, &len);
    if (!buf) {
        return VG_EIO;
    }
    col_reset();
    int rc = vg_intel_import_misp(buf, len, o, &sink, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "  import: %s\n", err);
    }
    vg_free(buf);
    return rc;
}

/* ------------------------------------------------------------------ the event fixture */

#define EV       "5f6b1c2e-7a8b-4c3d-9e0f-112233445566"
#define A(n)     "a0000001-0000-4000-8000-0000000000" #n
#define T1059    "7385dfaf-6886-4229-9ecd-6fd678040830"
#define T1059001 "970a3432-3237-47ad-bcca-7d8cbb217736"
#define EMOTET   "32f20c4d-3a6f-4a31-9c1b-a71ca1b2b1a5"
#define EV_TAGS                                                                                    \
    "tlp:amber,misp-galaxy:malpedia=\"Emotet\",estimative-language:confidence-in-analytic-"        \
    "judgment=\"moderate\""
#define EV_REL "misp-event--" EV ",misp-galaxy--" T1059 ",misp-galaxy--" EMOTET

static const char *const ev_records[] = {
    "ipv4 203.0.113.7 " A(01),
    "ipv6 2001:db8::/32 " A(02),
    "ipv4 198.51.100.9 " A(03),
    "domain evil.example.com " A(04),
    "ipv4 192.0.2.44 " A(04),
    "domain c2.example.net " A(05),
    "domain bad.example.org " A(06),
    "domain www.bad.example.org " A(07),
    "url http://bad.example.org/gate.php?id=1 " A(08),
    "md5 d41d8cd98f00b204e9800998ecf8427e " A(09),
    "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 " A(10),
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 " A(11),
    "sha512 cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d"
    "2877eec2f63b931bd47417a81a538327af927da3e " A(12),
    "filename invoice 2021.doc " A(13),
    "filename a.exe " A(14),
    "md5 0cc175b9c0f1b6a831c399e269772661 " A(14),
    "filename b.exe " A(15),
    "sha1 e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98 " A(15),
    "filename c.dll " A(16),
    "sha256 2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6 " A(16),
    "filename d.bin " A(17),
    "sha512 1f40fc92da241694750979ee6cf582f2d5d7d28e18335de05abc54d0560e0f5302860c652bf08d560252aa5"
    "e74210546f369fbbbce8c12cfc7957b2652fe9a75 " A(17),
    "email ops@bad.example.org " A(18),
    "email billing@bad.example.org " A(19),
    "email victim@corp.example " A(20),
    "ja3 72a589da586844d7f0818ce684948eea " A(21),
    "x509-sha1 6e2b1a8f0c1d2e3f405162738495a6b7c8d9e0f1 " A(22),
    "x509-sha256 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0 " A(23),
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 "
    "b1000001-0000-4000-8000-000000000002",
    "domain drop.example.net b1000002-0000-4000-8000-000000000001",
    "ipv4 192.0.2.99 b1000002-0000-4000-8000-000000000002",
};

static const char *const ev_rejects[] = {
    "UNSUPPORTED | Event[0] " EV " Attribute[23] | attribute type 'x509-fingerprint-md5' is not "
    "matched",
    "UNSUPPORTED | Event[0] " EV " Attribute[24] | attribute type 'uri' is not matched (a relative "
    "URI, no host)",
    "NOT_IDS | Event[0] " EV " Attribute[25] | to_ids is false",
    "UNSUPPORTED | Event[0] " EV " Attribute[26] | attribute type 'mutex' is not matched",
    "NOT_IDS | Event[0] " EV " Attribute[27] | to_ids is false",
    "NOT_IDS | Event[0] " EV " Attribute[28] | to_ids is false",
    "REVOKED | Event[0] " EV " Attribute[29] | attribute deleted",
    "MALFORMED | Event[0] " EV " Attribute[30] | value of a 'domain|ip' attribute has no '|'",
    "MALFORMED | Event[0] " EV " Attribute[31] | attribute is not an object",
    "NOT_IDS | Event[0] " EV " Object[0](file).Attribute[0] | to_ids is false",
    "REVOKED | Event[0] " EV " Object[2](url).Attribute[0] | object deleted",
};

VG_TEST(event_every_record)
{
    CHECK_EQ_INT(import_file("event.json", NULL), 0);
    size_t n = sizeof(ev_records) / sizeof(ev_records[0]);
    CHECK_EQ_INT(col.nrec, n);
    for (size_t i = 0; i < col.nrec && i < n; i++) {
        CHECK_STR(rec_line(i), ev_records[i]);
    }
}

VG_TEST(event_rejects)
{
    CHECK_EQ_INT(import_file("event.json", NULL), 0);
    size_t n = sizeof(ev_rejects) / sizeof(ev_rejects[0]);
    CHECK_EQ_INT(col.nrej, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < col.nrej && j < n; i++) {
        if (i == 9) {
            CHECK_STR(rej_line(i), "MALFORMED | Event[0] " EV " Attribute[32] | field \"type\" or "
                                   "\"value\" missing or not a string");
            continue;
        }
        CHECK_STR(rej_line(i), ev_rejects[j]);
        j++;
    }
}

VG_TEST(event_context)
{
    CHECK_EQ_INT(import_file("event.json", NULL), 0);
    CHECK(col.nrec >= 31);
    if (col.nrec < 31) {
        return;
    }
    /* attribute tags first (tlp:amber deduplicated), then the event's; comment as name */
    struct crec *r = &col.rec[0];
    CHECK_STR(r->tags, "tlp:red," EV_TAGS);
    CHECK_STR(r->name, "C2 server");
    CHECK_STR(r->related, EV_REL);
    CHECK_EQ_INT(r->conf, 60); /* event tag: moderate */
    CHECK_EQ_INT(r->fs, 1617875001u);
    CHECK_EQ_INT(r->ls, 1617875001u);
    CHECK_EQ_INT(r->vu, 0);
    /* empty comment → event info; numeric timestamp; string "1" to_ids */
    r = &col.rec[1];
    CHECK_STR(r->name, "Emotet epoch 3 spam run");
    CHECK_STR(r->tags, EV_TAGS);
    CHECK_EQ_INT(r->fs, 1617875002u);
    /* ISO first_seen / last_seen */
    r = &col.rec[2];
    CHECK_EQ_INT(r->fs, 1617271200u);
    CHECK_EQ_INT(r->ls, 1617363000u);
    /* composite: both parts share the context */
    CHECK_STR(col.rec[3].ref, col.rec[4].ref);
    CHECK_EQ_INT(col.rec[4].fs, 1617875004u);
    /* attribute confidence tag wins over the event's */
    r = &col.rec[5];
    CHECK_EQ_INT(r->conf, 90);
    CHECK_STR(r->tags, "estimative-language:confidence-in-analytic-judgment=\"high\"," EV_TAGS);
    /* attribute galaxy: T1059 is the event's already, T1059.001 is added */
    r = &col.rec[11];
    CHECK_STR(r->related, EV_REL ",misp-galaxy--" T1059001);
    CHECK_STR(col.rec[12].related, EV_REL);
    /* object attribute: comment, object timestamps */
    r = &col.rec[28];
    CHECK_STR(r->name, "loader hash");
    CHECK_EQ_INT(r->fs, 1617875102u);
    CHECK_STR(r->related, EV_REL);
    CHECK_STR(col.rec[29].name, "Emotet epoch 3 spam run");
}

VG_TEST(event_objects)
{
    CHECK_EQ_INT(import_file("event.json", NULL), 0);
    CHECK_EQ_INT(col.nobj, 4);
    if (col.nobj < 4) {
        return;
    }
    struct cobj *o = &col.obj[0];
    CHECK_STR(o->id, "misp-event--" EV);
    CHECK_STR(o->type, "misp-event");
    CHECK_STR(o->name, "Emotet epoch 3 spam run");
    CHECK_STR(o->ext, "");
    CHECK(o->active);
    CHECK(strstr(o->json, "\"Orgc\":{\"id\":\"2\",\"name\":\"CIRCL\"") != NULL);
    CHECK(strstr(o->json, "\"threat_level_id\":\"1\"") != NULL);
    CHECK(strstr(o->json, "\"published\":true") != NULL);
    CHECK(strstr(o->json, "tlp:amber") != NULL);
    CHECK(strstr(o->json, "Attribute") == NULL);
    CHECK(strstr(o->json, "Object") == NULL);
    CHECK(strstr(o->json, "Galaxy") == NULL);
    CHECK(o->json[0] == '{' && o->json[strlen(o->json) - 1] == '}');
    o = &col.obj[1];
    CHECK_STR(o->id, "misp-galaxy--" T1059);
    CHECK_STR(o->type, "misp-galaxy:mitre-attack-pattern");
    CHECK_STR(o->name, "Command and Scripting Interpreter - T1059");
    CHECK_STR(o->ext, "T1059");
    CHECK(strstr(o->json, "\"kill_chain\"") != NULL);
    o = &col.obj[2];
    CHECK_STR(o->id, "misp-galaxy--" EMOTET);
    CHECK_STR(o->type, "misp-galaxy:malpedia");
    CHECK_STR(o->name, "Emotet");
    CHECK_STR(o->ext, "");
    o = &col.obj[3]; /* from the attribute's own galaxy, emitted once */
    CHECK_STR(o->id, "misp-galaxy--" T1059001);
    CHECK_STR(o->type, "misp-galaxy:mitre-attack-pattern");
    CHECK_STR(o->ext, "T1059.001");
}

VG_TEST(misp_all_takes_not_ids)
{
    struct vg_intel_import_opts o = {.origin = "ev", .misp_all = true};
    CHECK_EQ_INT(import_file("event.json", &o), 0);
    /* + benign.example.com and loader.exe; link and comment are then UNSUPPORTED */
    CHECK_EQ_INT(col.nrec, 33);
    size_t notids = 0, unsup = 0;
    for (size_t i = 0; i < col.nrej; i++) {
        notids += col.rej[i].why == VG_INTEL_REJ_NOT_IDS;
        unsup += col.rej[i].why == VG_INTEL_REJ_UNSUPPORTED;
    }
    CHECK_EQ_INT(notids, 0);
    CHECK_EQ_INT(unsup, 5);
    bool seen = false;
    for (size_t i = 0; i < col.nrec; i++) {
        seen |= strcmp(col.rec[i].value, "loader.exe") == 0 && col.rec[i].type == VG_INTEL_FILENAME;
    }
    CHECK(seen);
}

/* ------------------------------------------------------------------ other document shapes */

VG_TEST(response_wrapper)
{
    CHECK_EQ_INT(import_file("response.json", NULL), 0);
    CHECK_EQ_INT(col.nrec, 3);
    CHECK_EQ_INT(col.nobj, 2);
    if (col.nrec == 3 && col.nobj == 2) {
        CHECK_STR(rec_line(0), "url https://login.example-bank.test/verify "
                               "c0000001-0000-4000-8000-000000000001");
        CHECK_STR(col.rec[0].tags, "tlp:green");
        CHECK_EQ_INT(col.rec[0].fs, 1700000000u); /* no attribute timestamp: the event's */
        CHECK_EQ_INT(col.rec[0].conf, VG_INTEL_CONF_UNSET);
        CHECK_STR(col.rec[0].name, "Phishing kit");
        CHECK_STR(col.rec[0].related, "misp-event--11111111-1111-4111-8111-111111111111");
        CHECK_EQ_INT(col.rec[1].fs, 1700000100u);
        CHECK_STR(rec_line(2), "ipv6 2001:db8::bad c0000002-0000-4000-8000-000000000001");
        CHECK_STR(col.rec[2].tags, "");
        CHECK_STR(col.obj[1].id, "misp-event--22222222-2222-4222-8222-222222222222");
    }
    CHECK_EQ_INT(col.nrej, 2);
    if (col.nrej == 2) {
        CHECK_STR(rej_line(0), "MALFORMED | Event[2] | event is not a JSON object");
        CHECK_STR(rej_line(1), "MALFORMED | Event[3] | not a MISP event");
    }
}

VG_TEST(array_and_bare_events)
{
    char err[256];
    const char *doc =
        "[{\"Event\":{\"uuid\":\"e1\",\"info\":\"one\",\"Attribute\":[{\"type\":\"domain\","
        "\"to_ids\":true,\"uuid\":\"x1\",\"value\":\"one.example\"}]}},"
        " {\"uuid\":\"e2\",\"info\":\"two\",\"Attribute\":[{\"type\":\"ip-dst\",\"to_ids\":\"1\","
        "\"uuid\":\"x2\",\"value\":\"10.0.0.1\"}]}]";
    CHECK_EQ_INT(import_str(doc, NULL, err, sizeof(err)), 0);
    CHECK_EQ_INT(col.nrec, 2);
    CHECK_EQ_INT(col.nobj, 2);
    if (col.nrec == 2) {
        CHECK_STR(rec_line(0), "domain one.example x1");
        CHECK_STR(col.rec[1].related, "misp-event--e2");
    }
    /* a bare event at the top */
    CHECK_EQ_INT(
        import_str("{\"uuid\":\"e3\",\"info\":\"three\",\"Attribute\":[]}", NULL, err, sizeof(err)),
        0);
    CHECK_EQ_INT(col.nobj, 1);
    /* an event without uuid is rejected, the document is still fine */
    CHECK_EQ_INT(
        import_str("{\"Event\":{\"info\":\"x\",\"Attribute\":[]}}", NULL, err, sizeof(err)), 0);
    CHECK_EQ_INT(col.nrej, 1);
    if (col.nrej == 1) {
        CHECK_STR(rej_line(0), "MALFORMED | Event[0] | field \"uuid\" missing or not a string");
    }
    /* Attribute / Object of the wrong type */
    CHECK_EQ_INT(import_str("{\"Event\":{\"uuid\":\"e4\",\"Attribute\":{},\"Object\":3}}", NULL,
                            err, sizeof(err)),
                 0);
    CHECK_EQ_INT(col.nrej, 2);
    if (col.nrej == 2) {
        CHECK_STR(rej_line(0),
                  "MALFORMED | Event[0] e4 Attribute[0] | field \"Attribute\" is not an array");
        CHECK_STR(rej_line(1), "MALFORMED | Event[0] e4 Object | field \"Object\" is not an array");
    }
    /* a nested response that is not an array is rejected, not fatal */
    CHECK_EQ_INT(import_str("[{\"response\":{}},{\"uuid\":\"e5\",\"Attribute\":[]}]", NULL, err,
                            sizeof(err)),
                 0);
    CHECK_EQ_INT(col.nobj, 1);
    CHECK_EQ_INT(col.nrej, 1);
    if (col.nrej == 1) {
        CHECK_STR(rej_line(0), "MALFORMED | Event[0] | field \"response\" is not an array");
    }
    /* an empty response is fine */
    CHECK_EQ_INT(import_str("{\"response\":[]}", NULL, err, sizeof(err)), 0);
    CHECK_EQ_INT(col.nobj + col.nrec + col.nrej, 0);
}

VG_TEST(malformed_documents)
{
    static const struct {
        const char *doc, *err;
    } cases[] = {
        {"", "doc: offset 0: empty document"},
        {"{\"Event\":{\"uuid\":\"e\"", "doc: offset 20: unexpected end of input"},
        {"{\"Event\":{\"uuid\":\"e\",}}", NULL},
        {"{\"Event\":[]}", "doc: field \"Event\" is not an object"},
        {"{\"response\":{}}", "doc: field \"response\" is not an array"},
        {"{\"type\":\"bundle\",\"objects\":[]}",
         "doc: top level is not a MISP document (expected {\"Event\":…}, {\"response\":[…]}, an "
         "event object or an array of them)"},
        {"42", NULL},
        {"{\"Event\":{\"uuid\":\"e\"}} x", "doc: offset 23: trailing data after the document"},
    };
    struct vg_intel_import_opts o = {.origin = "doc"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        CHECK_EQ_INT(import_str(cases[i].doc, &o, err, sizeof(err)), VG_EINVAL);
        if (cases[i].err) {
            CHECK_STR(err, cases[i].err);
        } else {
            CHECK(strncmp(err, "doc: ", 5) == 0 && err[5] != '\0');
        }
    }
    /* a syntax error names its offset */
    char err[256] = "";
    CHECK_EQ_INT(import_str("{\"Event\":{\"uuid\":\"e\",}}", &o, err, sizeof(err)), VG_EINVAL);
    CHECK_STR(err, "doc: offset 21: expected a string key in object");
    /* NULL err is allowed */
    CHECK_EQ_INT(import_str("nope", &o, NULL, 0), VG_EINVAL);
}

VG_TEST(sink_stops_import)
{
    size_t len = 0;
    char err[256], *buf = load("event.json", &len);
    CHECK(buf != NULL);
    if (!buf) {
        return;
    }
    col_reset();
    col.stop_after = 3;
    CHECK_EQ_INT(vg_intel_import_misp(buf, len, NULL, &sink, err, sizeof(err)), VG_ELIMIT);
    CHECK_EQ_INT(col.nrec, 3);
    CHECK_EQ_INT(col.count, 4);
    vg_free(buf);
}

/* ------------------------------------------------------------------ feed directories */

VG_TEST(feed_directory)
{
    char dir[1024], err[256] = "";
    snprintf(dir, sizeof(dir), "%s/tests/unit/intel/data/misp/feed", vgt_source_dir());
    col_reset();
    CHECK_EQ_INT(vg_intel_import_misp_dir(dir, NULL, &sink, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    CHECK_EQ_INT(col.nrec, 2);
    if (col.nrec == 2) { /* uuid order: aaaa… before bbbb… */
        CHECK_STR(rec_line(0), "domain feed-one.example aa000001-0000-4000-8000-000000000001");
        CHECK_STR(col.rec[0].related, "misp-event--aaaaaaaa-0000-4000-8000-000000000001");
        CHECK_STR(rec_line(1), "md5 0cc175b9c0f1b6a831c399e269772661 "
                               "bb000001-0000-4000-8000-000000000001");
        CHECK_STR(col.rec[1].tags, "tlp:white");
    }
    CHECK_EQ_INT(col.nobj, 2);
    if (col.nobj == 2) {
        CHECK_STR(col.obj[0].id, "misp-event--aaaaaaaa-0000-4000-8000-000000000001");
        CHECK_STR(col.obj[1].name, "second");
    }
    CHECK_EQ_INT(col.nrej, 4);
    if (col.nrej == 4) {
        CHECK_STR(rej_line(0), "MALFORMED | manifest.json | key '../../etc/passwd' is not an "
                               "event uuid");
        CHECK_STR(rej_line(1), "NOT_IDS | aaaaaaaa-0000-4000-8000-000000000001.json Event[0] "
                               "aaaaaaaa-0000-4000-8000-000000000001 Attribute[1] | to_ids is "
                               "false");
        CHECK_STR(col.rej[2].where, "cccccccc-0000-4000-8000-000000000003.json");
        CHECK_STR(col.rej[2].reason, "cccccccc-0000-4000-8000-000000000003.json: offset 105: "
                                     "unexpected end of input");
        CHECK_STR(rej_line(3), "MALFORMED | dddddddd-0000-4000-8000-000000000004.json | cannot "
                               "read dddddddd-0000-4000-8000-000000000004.json: not found");
    }
}

VG_TEST(feed_directory_errors)
{
    char dir[1024], err[256] = "";
    char tmpl[] = "/tmp/vg_misp_XXXXXX";
    CHECK_EQ_INT(vg_intel_import_misp_dir("/nonexistent/feed", NULL, &sink, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(strstr(err, "/nonexistent/feed/manifest.json") != NULL);
    char *d = mkdtemp(tmpl);
    CHECK(d != NULL);
    if (!d) {
        return;
    }
    snprintf(dir, sizeof(dir), "%s/manifest.json", d);
    FILE *f = fopen(dir, "w");
    fputs("[1,2]", f);
    fclose(f);
    CHECK_EQ_INT(vg_intel_import_misp_dir(d, NULL, &sink, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "manifest.json: not a JSON object") != NULL);
    f = fopen(dir, "w");
    fputs("{\"a\":", f);
    fclose(f);
    CHECK_EQ_INT(vg_intel_import_misp_dir(d, NULL, &sink, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "manifest.json: ") != NULL);
    f = fopen(dir, "w");
    fputs("{}", f);
    fclose(f);
    col_reset();
    CHECK_EQ_INT(vg_intel_import_misp_dir(d, NULL, &sink, err, sizeof(err)), 0);
    CHECK_EQ_INT(col.nrec + col.nobj + col.nrej, 0);
    remove(dir);
    rmdir(d);
}

/* ------------------------------------------------------------------ scale */

VG_TEST(one_million_attributes)
{
    const size_t n = 1000000;
    struct vg_sbuf sb = VG_SBUF_INIT;
    vg_sbuf_adds(&sb, "{\"Event\":{\"uuid\":\"b1b1b1b1-0000-4000-8000-000000000000\",\"info\":"
                      "\"bulk\",\"timestamp\":\"1700000000\",\"Tag\":[{\"name\":\"tlp:green\"}],"
                      "\"Attribute\":[");
    for (size_t i = 0; i < n; i++) {
        static const char *const types[] = {"ip-dst", "domain", "sha256", "url"};
        const char *t = types[i % 4];
        vg_sbuf_printf(&sb,
                       "%s{\"id\":\"%zu\",\"type\":\"%s\",\"category\":\"Network activity\","
                       "\"to_ids\":true,\"uuid\":\"00000000-0000-4000-8000-%012zu\","
                       "\"timestamp\":\"1700000000\",\"distribution\":\"5\",\"comment\":\"\","
                       "\"deleted\":false,\"value\":\"",
                       i ? "," : "", i, t, i);
        switch (i % 4) {
        case 0:
            vg_sbuf_printf(&sb, "10.%zu.%zu.%zu", (i >> 16) & 255, (i >> 8) & 255, i & 255);
            break;
        case 1:
            vg_sbuf_printf(&sb, "h%zu.example.com", i);
            break;
        case 2:
            vg_sbuf_printf(&sb, "%064zx", i * 2654435761u);
            break;
        default:
            vg_sbuf_printf(&sb, "http://u%zu.example.net/p?q=%zu", i, i);
        }
        vg_sbuf_adds(&sb, "\"}");
    }
    vg_sbuf_adds(&sb, "]}}");
    CHECK_EQ_INT(sb.err, 0);
    col_reset();
    col.count_only = true;
    struct timespec t0, t1;
    char err[256];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = vg_intel_import_misp(sb.p, sb.len, NULL, &sink, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(col.count, n);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "  1M attributes (%.0f MB document): %.3f s, %.2f M attributes/s\n",
            (double)sb.len / 1e6, s, (double)n / s / 1e6);
    vg_sbuf_fini(&sb);
    col_reset();
}
