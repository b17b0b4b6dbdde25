/*
 * test_csv.c — the CSV / plain-list importer (intel_csv.c): every preset against a small
 * fixture in the feed's real layout (tests/unit/intel/data/csv/: quoted commas, comment
 * headers, CRLF, bad rows), preset detection, the mapping syntax and its errors, type words
 * and guessing, RFC 4180 corner cases (BOM, doubled quotes, quoted newlines, unterminated
 * quotes, records over 64 KiB), and throughput on a generated 1M-line feed.
 */
#include "core/core.h"
#include "intel/intel_csv.h"
#include "vgtest.h"

/* The sink writes one line per call: "type value|ref|name|tags|first|last|conf" or
 * "REJ kind WHERE: reason". */
struct cap {
    struct vg_sbuf out;
    size_t n, rejects;
    int stop_after; /* > 0: return VG_ELIMIT from the Nth indicator */
};

static int cap_ind(void *u, const struct vg_intel_rec *r)
{
    struct cap *c = u;
    vg_sbuf_printf(&c->out, "%s %.*s|%.*s|%.*s|%.*s|%u|%u|%u\n", vg_intel_type_name(r->type),
                   (int)r->value_len, r->value, (int)r->ref_len, r->ref, (int)r->name_len, r->name,
                   (int)r->tags_len, r->tags, r->first_seen, r->last_seen, r->confidence);
    c->n++;
    return c->stop_after > 0 && c->n >= (size_t)c->stop_after ? VG_ELIMIT : 0;
}

static void cap_rej(void *u, enum vg_intel_reject why, const char *where, const char *reason)
{
    static const char *const k[] = {"MALFORMED", "COMPOUND", "UNSUPPORTED", "NOT_IDS", "REVOKED"};
    struct cap *c = u;
    vg_sbuf_printf(&c->out, "REJ %s %s: %s\n", k[why], where, reason);
    c->rejects++;
}

static int run(struct cap *c, const char *text, size_t len, const char *preset, const char *map,
               enum vg_intel_type t, char *err, size_t errsz)
{
    struct vg_intel_import_opts o = {
        .origin = "test", .csv_preset = preset, .csv_map = map, .csv_type = t};
    struct vg_intel_sink s = {.u = c, .indicator = cap_ind, .reject = cap_rej};
    memset(c, 0, sizeof(*c));
    return vg_intel_import_csv(text, len, &o, &s, err, errsz);
}

/* Import a string; returns the capture text (static) or "ERR <rc>: <err>". */
static const char *imp(const char *text, const char *preset, const char *map)
{
    static char buf[8192];
    struct cap c;
    char err[256] = "";
    int rc = run(&c, text, strlen(text), preset, map, VG_INTEL_TYPE_COUNT, err, sizeof(err));
    if (rc != 0) {
        snprintf(buf, sizeof(buf), "ERR %d: %s", rc, err);
    } else {
        snprintf(buf, sizeof(buf), "%s", c.out.p ? c.out.p : "");
    }
    vg_sbuf_fini(&c.out);
    return buf;
}

static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    char *text = NULL;
    snprintf(path, sizeof(path), "%s/tests/unit/intel/data/csv/%s", vgt_source_dir(), name);
    if (vg_file_read(path, 1 << 20, &text, len) != 0) {
        fprintf(stderr, "  cannot read %s\n", path);
        return NULL;
    }
    return text;
}

static const char *imp_file(const char *name, const char *preset)
{
    size_t len;
    char *t = fixture(name, &len);
    const char *r;
    if (t == NULL) {
        return "NOFILE";
    }
    r = imp(t, preset, NULL);
    vg_free(t);
    return r;
}

/* 2024-12-30 07:13:06 UTC etc. */
#define T_URLH1 1735542786u

VG_TEST(preset_urlhaus)
{
    const char *want =
        "url http://115.55.237.117:45133/i|3343613|malware_download|32-bit,elf,mips,Mozi|"
        "1735542786|1735542786|255\n"
        "url https://example.net/a,b.exe?x=\"1\"|3343612|malware_download|exe|1735542725|0|255\n"
        "REJ MALFORMED line 12: column 'url' empty\n"
        "REJ MALFORMED line 13: unexpected character after quoted field\n"
        "url http://multi.example/line\ntwo|3343609|malware_download||1735542480|0|255\n";
    CHECK_STR(imp_file("urlhaus.csv", "urlhaus"), want);
    CHECK_STR(imp_file("urlhaus.csv", NULL), want);
}

VG_TEST(preset_feodo_crlf)
{
    const char *want = "ipv4 67.213.75.205|line 4|Pikabot||1610868605|1704067200|255\n"
                       "ipv4 198.51.100.7|line 5|QakBot||1651399200|1675382400|255\n"
                       "REJ MALFORMED line 6: column 'dst_ip' empty\n";
    CHECK_STR(imp_file("feodo.csv", "feodo"), want);
    CHECK_STR(imp_file("feodo.csv", NULL), want);
}

VG_TEST(preset_threatfox)
{
    const char *want =
        "ipv4 45.61.137.174|1228877|Cobalt Strike|CobaltStrike,cs-watermark-987654321|"
        "1704164645|0|100\n"
        "domain evil.example.com|1228878|Agent Tesla||1704164700|1704240000|75\n"
        "url http://evil.example.com/p.exe|1228879|Agent Tesla|exe|1704164760|0|50\n"
        "md5 d41d8cd98f00b204e9800998ecf8427e|1228880|Unknown malware||1704164820|0|50\n"
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855|1228881|"
        "Unknown malware||1704164880|0|50\n"
        "REJ UNSUPPORTED line 15: ioc_type 'regkey' not supported (value "
        "'HKLM\\Software\\Evil')\n"
        "REJ MALFORMED line 16: column 'ioc_value' empty\n";
    CHECK_STR(imp_file("threatfox.csv", "threatfox"), want);
    CHECK_STR(imp_file("threatfox.csv", NULL), want);
    /* the same by header names, taken from the '#' header comment */
    CHECK_STR(imp_file("threatfox.csv", NULL), want);
    {
        size_t len;
        char *t = fixture("threatfox.csv", &len);
        if (t) {
            CHECK_STR(imp(t, NULL,
                          "value=ioc_value,type=ioc_type,ref=ioc_id,name=malware_printable,"
                          "first_seen=first_seen_utc,last_seen=last_seen_utc,"
                          "confidence=confidence_level,tags=tags"),
                      want);
            /* a map with a preset overrides its columns: name from threat_type */
            const char *r = imp(t, "threatfox", "name=threat_type");
            CHECK(strstr(r, "ipv4 45.61.137.174|1228877|botnet_cc|") != NULL);
            vg_free(t);
        }
    }
}

VG_TEST(preset_bazaar)
{
    const char *want =
        "sha256 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9|line 7|"
        "AgentTesla||1704067215|0|255\n"
        "md5 0123456789abcdef0123456789abcdef|line 7|AgentTesla||1704067215|0|255\n"
        "sha1 0123456789abcdef0123456789abcdef01234567|line 7|AgentTesla||1704067215|0|255\n"
        "sha256 1111111111111111111111111111111111111111111111111111111111111111|line 8|n/a||"
        "1704067260|0|255\n"
        "md5 22222222222222222222222222222222|line 8|n/a||1704067260|0|255\n"
        "sha1 3333333333333333333333333333333333333333|line 8|n/a||1704067260|0|255\n";
    CHECK_STR(imp_file("bazaar.csv", "bazaar"), want);
    CHECK_STR(imp_file("bazaar.csv", NULL), want);
}

VG_TEST(preset_sslbl_ja3)
{
    const char *ssl =
        "x509-sha1 b08a9ef8e1b54ebf7f3ba2a9e7e1a2df4b8b1a11|line 7|Dridex C&C||1704103200|0|255\n"
        "x509-sha1 0d5c5ba8d2f5b7b9a9e3b8e0c1d2e3f4a5b6c7d8|line 8|AsyncRAT C&C, port 6606||"
        "1704013200|0|255\n";
    const char *ja3 =
        "ja3 b386946a5a44d1ddcc843bc75336dfce|line 7|Dridex||1500055695|1564260174|255\n"
        "ja3 8991a387e4cc841740f25d6f5139f92d|line 8|Adwind||1500145511|1564272699|255\n";
    CHECK_STR(imp_file("sslbl.csv", "sslbl"), ssl);
    CHECK_STR(imp_file("sslbl.csv", NULL), ssl);
    CHECK_STR(imp_file("ja3.csv", "ja3"), ja3);
    CHECK_STR(imp_file("ja3.csv", NULL), ja3);
}

VG_TEST(preset_spamhaus_drop)
{
    const char *want = "ipv4 1.10.16.0/20|SBL256894|||0|0|255\n"
                       "ipv4 1.19.0.0/16|SBL434604|||0|0|255\n"
                       "ipv6 2001:db8::/32|SBL999999|||0|0|255\n";
    CHECK_STR(imp_file("spamhaus-drop.txt", "spamhaus-drop"), want);
    CHECK_STR(imp_file("spamhaus-drop.txt", NULL), want);
}

VG_TEST(preset_plain)
{
    const char *want = "ipv4 198.51.100.23|line 3|||0|0|255\n"
                       "ipv6 2001:db8::7|line 4|||0|0|255\n"
                       "domain evil.example.org|line 5|||0|0|255\n"
                       "url http://evil.example.org/login.php|line 6|||0|0|255\n"
                       "md5 d41d8cd98f00b204e9800998ecf8427e|line 7|||0|0|255\n"
                       "email phish@evil.example.org|line 8|||0|0|255\n"
                       "domain ads.example.com|line 9|||0|0|255\n"
                       "domain tracker.example.com|line 9|||0|0|255\n"
                       "REJ UNSUPPORTED line 11: cannot guess the type of 'not_a_value!'\n";
    CHECK_STR(imp_file("plain.txt", "plain"), want);
    CHECK_STR(imp_file("plain.txt", NULL), want);
    /* a fixed type: no guessing */
    struct cap c;
    char err[128];
    const char *t = "a.example\nb.example\r\n";
    CHECK_EQ_INT(run(&c, t, strlen(t), "plain", NULL, VG_INTEL_FILENAME, err, sizeof(err)), 0);
    CHECK_STR(c.out.p,
              "filename a.example|line 1|||0|0|255\nfilename b.example|line 2|||0|0|255\n");
    vg_sbuf_fini(&c.out);
}

VG_TEST(detect_names)
{
    CHECK_STR(vg_intel_csv_detect("# id,dateadded,url,url_status,x\n", 33), "urlhaus");
    CHECK_STR(vg_intel_csv_detect("1.2.3.4\n", 8), "plain");
    CHECK_STR(vg_intel_csv_detect("", 0), "plain");
}

VG_TEST(map_generic)
{
    /* header row, tab delimiter, constant type, default confidence */
    CHECK_STR(imp("host\tseen\tnote\nevil.example\t1704067200\tc2\n", NULL,
                  "delimiter=tab,value=host,first_seen=seen,name=note,type=domain,"
                  "default_confidence=80"),
              "domain evil.example|line 2|c2||1704067200|0|80\n");
    /* numbered columns, semicolon, header=no, skip, comment prefix, ISO time, ms epoch */
    CHECK_STR(imp("junk line\n// c\n1.2.3.4;2024-01-02T03:04:05Z;x\n5.6.7.8;1704164645000;y\n",
                  NULL, "delimiter=;,value=1,first_seen=2,ref=3,header=no,skip=1,comment=/"),
              "ipv4 1.2.3.4|x|||1704164645|0|255\nipv4 5.6.7.8|y|||1704164645|0|255\n");
    /* "delimiter=," at the end and in the middle */
    CHECK_STR(imp("a.example,1\n", NULL, "value=1,delimiter=,"),
              "domain a.example|line 1|||0|0|255\n");
    CHECK_STR(imp("a.example|1\n", NULL, "delimiter=|,value=1,confidence=2"),
              "domain a.example|line 1|||0|0|1\n");
    /* typed extra columns */
    CHECK_STR(
        imp("x.exe,d41d8cd98f00b204e9800998ecf8427e\n", NULL, "value=1,type=filename,md5=2"),
        "filename x.exe|line 1|||0|0|255\nmd5 d41d8cd98f00b204e9800998ecf8427e|line 1|||0|0|255\n");
    /* header=auto: a first row that is a value is data */
    CHECK_STR(imp("1.2.3.4\n", NULL, "value=1"), "ipv4 1.2.3.4|line 1|||0|0|255\n");
    CHECK_STR(imp("indicator\n1.2.3.4\n", NULL, "value=1"), "ipv4 1.2.3.4|line 2|||0|0|255\n");
}

VG_TEST(map_errors)
{
    CHECK_STR(imp("ioc,type\n1.2.3.4,ip\n", NULL, "value=ioc_valu"),
              "ERR -3: test: csv map: unknown column 'ioc_valu'");
    CHECK_STR(imp("1.2.3.4\n", NULL, "value=ioc,header=no"),
              "ERR -3: test: csv map: unknown column 'ioc' (the document has no header row)");
    CHECK_STR(imp("x\n", NULL, "valeu=1"), "ERR -3: test: csv map: unknown key 'valeu'");
    CHECK_STR(imp("x\n", NULL, "value=0"), "ERR -3: test: csv map: invalid value '0' for 'value'");
    CHECK_STR(imp("x\n", NULL, "value=1,header=maybe"),
              "ERR -3: test: csv map: invalid value 'maybe' for 'header'");
    CHECK_STR(imp("x\n", NULL, "value"),
              "ERR -3: test: csv map: expected key=value, found 'value'");
    CHECK_STR(imp("x\n", NULL, "type=url"),
              "ERR -3: test: csv map: no value column (value=N or value=NAME)");
    CHECK_STR(imp("x\n", "nosuch", NULL), "ERR -3: test: csv: unknown preset 'nosuch'");
    CHECK_STR(imp("x\n", NULL, "value=1,default_confidence=101"),
              "ERR -3: test: csv map: invalid value '101' for 'default_confidence'");
}

VG_TEST(type_words)
{
    const char *doc = "v,t\n"
                      "1.2.3.4|443,ip-dst|port\n"
                      "[2001:db8::1]:443,ip:port\n"
                      "a.example|9.9.9.9,domain|ip\n"
                      "x.exe|d41d8cd98f00b204e9800998ecf8427e,filename|md5\n"
                      "2001:db8::2,ip-src\n"
                      "a@b.example,email-src\n"
                      "771ace7cc1b0e5dd50f0e9b0b66c9f2b,ja3-fingerprint-md5\n"
                      "HKLM\\x,regkey\n"
                      "x,\n";
    CHECK_STR(imp(doc, NULL, "value=v,type=t"),
              "ipv4 1.2.3.4|line 2|||0|0|255\n"
              "ipv6 2001:db8::1|line 3|||0|0|255\n"
              "domain a.example|line 4|||0|0|255\n"
              "md5 d41d8cd98f00b204e9800998ecf8427e|line 5|||0|0|255\n"
              "ipv6 2001:db8::2|line 6|||0|0|255\n"
              "email a@b.example|line 7|||0|0|255\n"
              "ja3 771ace7cc1b0e5dd50f0e9b0b66c9f2b|line 8|||0|0|255\n"
              "REJ UNSUPPORTED line 9: t 'regkey' not supported (value 'HKLM\\x')\n"
              "REJ UNSUPPORTED line 10: t '' not supported (value 'x')\n");
}

VG_TEST(rfc4180)
{
    /* BOM, CRLF, doubled quotes, a quoted newline, spaces around quoted fields */
    CHECK_STR(imp("\xEF\xBB\xBFvalue,name\r\n\"a.example\" , \"say \"\"hi\"\"\r\nthere\"\r\n"
                  "b.example,x\r\n",
                  NULL, "value=value,name=name,type=domain"),
              "domain a.example|line 2|say \"hi\"\r\nthere||0|0|255\n"
              "domain b.example|line 4|x||0|0|255\n");
    /* an unterminated quote: that line is rejected, the rest goes on */
    CHECK_STR(imp("a.example,\"x\nb.example,y\n", NULL, "value=1,name=2,type=domain"),
              "REJ MALFORMED line 1: unterminated quoted field\n"
              "domain b.example|line 2|y||0|0|255\n");
    /* a quoted field closing on a later line swallows the lines between (RFC 4180) */
    CHECK_STR(imp("a.example,\"x\nb.example,\"\nc.example,z\n", NULL, "value=1,name=2,type=domain"),
              "domain a.example|line 1|x\nb.example,||0|0|255\n"
              "domain c.example|line 3|z||0|0|255\n");
    /* a missing column is empty */
    CHECK_STR(imp("a.example\n", NULL, "value=1,name=5,type=domain"),
              "domain a.example|line 1|||0|0|255\n");
    /* no final newline, empty lines */
    CHECK_STR(imp("\n\na.example", NULL, "value=1,type=domain"),
              "domain a.example|line 3|||0|0|255\n");
}

VG_TEST(record_limits)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    struct cap c;
    char err[128];
    /* an unquoted line over 64 KiB, then a quoted field running past 64 KiB */
    vg_sbuf_adds(&s, "a.example\n");
    for (int i = 0; i < 70000; i++) {
        vg_sbuf_addc(&s, 'x');
    }
    vg_sbuf_adds(&s, "\nb.example\n\"");
    for (int i = 0; i < 7000; i++) {
        vg_sbuf_adds(&s, "yyyyyyyyy\n");
    }
    vg_sbuf_adds(&s, "\"\nc.example\n");
    CHECK_EQ_INT(
        run(&c, s.p, s.len, NULL, "value=1,type=domain", VG_INTEL_TYPE_COUNT, err, sizeof(err)), 0);
    CHECK_STR(c.out.p, "domain a.example|line 1|||0|0|255\n"
                       "REJ MALFORMED line 2: record over 64 KiB\n"
                       "domain b.example|line 3|||0|0|255\n"
                       "REJ MALFORMED line 4: record over 64 KiB\n"
                       "domain c.example|line 7005|||0|0|255\n");
    vg_sbuf_fini(&c.out);
    /* more columns than the limit: ignored */
    vg_sbuf_reset(&s);
    vg_sbuf_adds(&s, "a.example");
    for (int i = 0; i < 1000; i++) {
        vg_sbuf_adds(&s, ",z");
    }
    vg_sbuf_adds(&s, "\n");
    CHECK_EQ_INT(run(&c, s.p, s.len, NULL, "value=1,type=domain,name=256", VG_INTEL_TYPE_COUNT, err,
                     sizeof(err)),
                 0);
    CHECK_STR(c.out.p, "domain a.example|line 1|z||0|0|255\n");
    vg_sbuf_fini(&c.out);
    vg_sbuf_fini(&s);
}

VG_TEST(sink_stops)
{
    struct vg_intel_import_opts o = {.csv_preset = "plain", .csv_type = VG_INTEL_TYPE_COUNT};
    struct cap c = {.stop_after = 2};
    struct vg_intel_sink s = {.u = &c, .indicator = cap_ind, .reject = cap_rej};
    char err[64];
    const char *t = "a.example\nb.example\nc.example\n";
    CHECK_EQ_INT(vg_intel_import_csv(t, strlen(t), &o, &s, err, sizeof(err)), VG_ELIMIT);
    CHECK_EQ_INT(c.n, 2);
    vg_sbuf_fini(&c.out);
    /* no reject callback, NULL opts */
    s.reject = NULL;
    c.stop_after = 0;
    CHECK_EQ_INT(vg_intel_import_csv("!!\n", 3, NULL, &s, err, sizeof(err)), 0);
    vg_sbuf_fini(&c.out);
}

static int count_ind(void *u, const struct vg_intel_rec *r)
{
    (*(size_t *)u) += r->value_len > 0;
    return 0;
}

VG_TEST(throughput)
{
    /* 1M ThreatFox-like rows (~200 bytes each) and 1M plain lines */
    struct vg_sbuf s = VG_SBUF_INIT;
    size_t n = 0, lines = 1000000;
    char err[128];
    vg_sbuf_adds(&s, "# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\","
                     "\"fk_malware\",\"malware_alias\",\"malware_printable\",\"last_seen_utc\","
                     "\"confidence_level\",\"reference\",\"tags\",\"anonymous\",\"reporter\"\n");
    for (size_t i = 0; i < lines; i++) {
        vg_sbuf_printf(&s,
                       "\"2024-01-02 03:04:05\", \"%zu\", \"10.%zu.%zu.%zu:443\", \"ip:port\", "
                       "\"botnet_cc\", \"win.cobalt_strike\", \"None\", \"Cobalt Strike\", \"\", "
                       "\"100\", \"None\", \"CobaltStrike,tag2\", \"0\", \"abuse_ch\"\n",
                       i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
    }
    struct vg_intel_import_opts o = {.csv_type = VG_INTEL_TYPE_COUNT};
    struct vg_intel_sink sk = {.u = &n, .indicator = count_ind};
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(vg_intel_import_csv(s.p, s.len, &o, &sk, err, sizeof(err)), 0);
    double sec = (double)(vg_clock_ns() - t0) / 1e9;
    CHECK_EQ_INT(n, lines);
    fprintf(stderr, "  threatfox csv: %zu lines, %.1f MB in %.3f s: %.0f MB/s, %.2f M lines/s\n",
            lines, (double)s.len / 1e6, sec, (double)s.len / 1e6 / sec, (double)lines / 1e6 / sec);
    vg_sbuf_reset(&s);
    for (size_t i = 0; i < lines; i++) {
        vg_sbuf_printf(&s, "host%zu.example.com\n", i);
    }
    n = 0;
    o.csv_preset = "plain";
    t0 = vg_clock_ns();
    CHECK_EQ_INT(vg_intel_import_csv(s.p, s.len, &o, &sk, err, sizeof(err)), 0);
    sec = (double)(vg_clock_ns() - t0) / 1e9;
    CHECK_EQ_INT(n, lines);
    fprintf(stderr, "  plain list:    %zu lines, %.1f MB in %.3f s: %.0f MB/s, %.2f M lines/s\n",
            lines, (double)s.len / 1e6, sec, (double)s.len / 1e6 / sec, (double)lines / 1e6 / sec);
    vg_sbuf_fini(&s);
}
