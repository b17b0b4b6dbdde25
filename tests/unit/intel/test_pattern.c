/*
 * test_pattern.c — STIX 2.x patterns (intel_pattern.c): the 22 patterns of the STIX spec
 * corpus parse and print back to text that re-parses to the same canonical form; simple
 * indicator extraction and the "compound" reasons; invalid patterns with their exact error;
 * length/depth bounds; allocation failures; throughput on a simple pattern.
 */
#include "core/core.h"
#include "intel/intel_pattern.h"
#include "vgtest.h"

/* Parse text; on success return the canonical form (vg_free), else NULL. */
static char *canon(const char *text)
{
    struct vg_intel_pattern *p = NULL;
    struct vg_sbuf sb = VG_SBUF_INIT;
    char err[256];
    if (vg_intel_pattern_parse(text, strlen(text), NULL, &p, err, sizeof err) != 0) {
        fprintf(stderr, "  parse failed: %s\n    %s\n", err, text);
        return NULL;
    }
    vg_intel_pattern_format(p, &sb);
    vg_intel_pattern_destroy(p);
    return vg_sbuf_take(&sb, NULL);
}

VG_TEST(spec_examples_parse_and_round_trip)
{
    const char *path = vgt_shared("corpus/stix2/spec_examples.txt");
    char *text = NULL, *save = NULL;
    size_t len = 0;
    int lines = 0, ok = 0;
    if (!path || vg_file_read(path, 1 << 20, &text, &len) != 0) {
        VG_SKIP("../shared/corpus/stix2/spec_examples.txt absent");
    }
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = canon(line), *c2 = c1 ? canon(c1) : NULL;
        lines++;
        if (c1 && c2 && strcmp(c1, c2) == 0) {
            ok++;
        }
        vg_free(c1);
        vg_free(c2);
    }
    CHECK_EQ_INT(lines, 22);
    CHECK_EQ_INT(ok, 22);
    vg_free(text);
}

VG_TEST(ast_shape)
{
    const char *t = "[file:hashes.'SHA-256' = 'ab' AND file:size >= 10] REPEATS 5 TIMES "
                    "WITHIN 1800 SECONDS FOLLOWEDBY [email-message:body_multipart[*]."
                    "body_raw_ref.name NOT LIKE 'x%' OR a:b[-1] IN ('a', 'b')]";
    struct vg_intel_pattern *p = NULL;
    char err[200];
    CHECK_EQ_INT(vg_intel_pattern_parse(t, strlen(t), NULL, &p, err, sizeof err), 0);
    if (!p) {
        return;
    }
    const struct vg_intel_pattern_node *r = p->root, *w, *obs, *and, *in;
    CHECK_EQ_INT(r->kind, VG_INTEL_PATTERN_OBS_FOLLOWEDBY);
    CHECK_EQ_INT(r->nkids, 2);
    w = r->kids[0];
    CHECK_EQ_INT(w->kind, VG_INTEL_PATTERN_OBS_WITHIN);
    CHECK(w->within == 1800.0);
    CHECK_EQ_INT(w->kids[0]->kind, VG_INTEL_PATTERN_OBS_REPEATS);
    CHECK_EQ_INT(w->kids[0]->repeats, 5);
    obs = w->kids[0]->kids[0];
    CHECK_EQ_INT(obs->kind, VG_INTEL_PATTERN_OBSERVATION);
    and = obs->kids[0];
    CHECK_EQ_INT(and->kind, VG_INTEL_PATTERN_CMP_AND);
    CHECK_STR(and->kids[0]->path.type, "file");
    CHECK_EQ_INT(and->kids[0]->path.nsteps, 2);
    CHECK_STR(and->kids[0]->path.steps[1].key, "SHA-256");
    CHECK(and->kids[0]->path.steps[1].quoted);
    CHECK_EQ_INT(and->kids[1]->op, VG_INTEL_PATTERN_GE);
    CHECK_EQ_INT(and->kids[1]->value.i, 10);
    const struct vg_intel_pattern_node * or = r->kids[1]->kids[0];
    CHECK_EQ_INT(or->kind, VG_INTEL_PATTERN_CMP_OR);
    CHECK(or->kids[0]->negated);
    CHECK_EQ_INT(or->kids[0]->op, VG_INTEL_PATTERN_LIKE);
    CHECK_EQ_INT(or->kids[0]->path.nsteps, 4);
    CHECK_EQ_INT(or->kids[0]->path.steps[1].kind, VG_INTEL_PATTERN_STEP_ANY);
    in = or->kids[1];
    CHECK_EQ_INT(in->path.steps[1].kind, VG_INTEL_PATTERN_STEP_INDEX);
    CHECK_EQ_INT(in->path.steps[1].index, -1);
    CHECK_EQ_INT(in->value.kind, VG_INTEL_PATTERN_LIT_SET);
    CHECK_EQ_INT(in->value.nitems, 2);
    CHECK_STR(in->value.items[1].s, "b");
    vg_intel_pattern_destroy(p);
}

VG_TEST(literals_decode)
{
    const char *t = "[a:b = 'it\\'s \\\\ ok' OR a:c = h'ffd8' OR a:d = b'aGk=' OR "
                    "a:e = t'2014-01-13T07:03:17.5Z' OR a:f = true OR a:g = -2.5 OR a:h == 3 OR "
                    "a:i <> 4]";
    struct vg_intel_pattern *p = NULL;
    char err[200];
    CHECK_EQ_INT(vg_intel_pattern_parse(t, strlen(t), NULL, &p, err, sizeof err), 0);
    if (!p) {
        return;
    }
    struct vg_intel_pattern_node **k = p->root->kids[0]->kids;
    CHECK_STR(k[0]->value.s, "it's \\ ok");
    CHECK_MEM(k[1]->value.s, k[1]->value.len, "\xff\xd8");
    CHECK_MEM(k[2]->value.s, k[2]->value.len, "hi");
    CHECK_EQ_INT(k[3]->value.t, 1389596597500000000LL);
    CHECK(k[4]->value.b);
    CHECK(k[5]->value.d == -2.5);
    CHECK_EQ_INT(k[6]->op, VG_INTEL_PATTERN_EQ);
    CHECK_EQ_INT(k[7]->op, VG_INTEL_PATTERN_NE);
    vg_intel_pattern_destroy(p);
}

/* Run extraction; returns "type=value;..." or "compound: reason" (static buffer). */
static const char *simple(const char *text)
{
    static char out[1024];
    struct vg_intel_pattern *p = NULL;
    struct vg_intel_ioc iocs[8];
    size_t n = 0, k = 0;
    const char *why = NULL;
    char err[200];
    if (vg_intel_pattern_parse(text, strlen(text), NULL, &p, err, sizeof err) != 0) {
        snprintf(out, sizeof out, "error: %s", err);
        return out;
    }
    int rc = vg_intel_pattern_simple(p, iocs, 8, &n, &why);
    out[0] = '\0';
    if (rc == VG_DECLINED) {
        snprintf(out, sizeof out, "compound: %s", why);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        k += (size_t)snprintf(out + k, sizeof out - k, "%s%s=%s", i ? ";" : "",
                              vg_intel_ioc_type_name(iocs[i].type), iocs[i].value);
    }
    vg_intel_pattern_destroy(p);
    return out;
}

VG_TEST(simple_indicators)
{
    static const char *const cases[][2] = {
        {"[ipv4-addr:value = '1.2.3.4']", "ipv4=1.2.3.4"},
        {"[ipv4-addr:value = '10.0.0.0/8']", "ipv4=10.0.0.0/8"},
        {"[ipv6-addr:value = '2001:db8::/32']", "ipv6=2001:db8::/32"},
        {"[domain-name:value = 'x' OR url:value = 'y']", "domain=x;url=y"},
        {"[file:hashes.'SHA-256' = 'aa']", "sha256=aa"},
        {"[file:hashes.MD5 = 'bb' OR file:hashes.'SHA-1' = 'cc' OR file:hashes.'SHA-512' = 'dd']",
         "md5=bb;sha1=cc;sha512=dd"},
        {"[network-traffic:dst_ref.value = '198.51.100.7']", "ipv4=198.51.100.7"},
        {"[network-traffic:src_ref.value = '2001:db8::1']", "ipv6=2001:db8::1"},
        {"[x509-certificate:hashes.'SHA-1' = 'ee']", "x509-sha1=ee"},
        {"[x509-certificate:hashes.'SHA-256' = 'ff']", "x509-sha256=ff"},
        {"[network-traffic:extensions.'tls'.hashes.JA3 = 'j']",
         "compound: object path with no simple indicator type"},
        {"[x-tls:hashes.'JA3' = 'e7d705a3286e19ea42f587b344ee6865']",
         "ja3=e7d705a3286e19ea42f587b344ee6865"},
        {"[email-addr:value = 'a@b.c' OR email-message:from_ref.value = 'd@e.f']",
         "email=a@b.c;email=d@e.f"},
        {"[(ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2') OR url:value = 'u']",
         "ipv4=1.1.1.1;ipv4=2.2.2.2;url=u"},
        {"[ipv4-addr:value = '1.1.1.1'] OR [domain-name:value = 'd']", "ipv4=1.1.1.1;domain=d"},
        {"[ipv4-addr:value = '1.1.1.1'] AND [domain-name:value = 'd']",
         "compound: observations joined by AND"},
        {"[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [domain-name:value = 'd']",
         "compound: observations joined by FOLLOWEDBY"},
        {"[ipv4-addr:value = '1.1.1.1'] WITHIN 60 SECONDS", "compound: qualifier WITHIN"},
        {"[ipv4-addr:value = '1.1.1.1'] REPEATS 3 TIMES", "compound: qualifier REPEATS"},
        {"[ipv4-addr:value = '1.1.1.1'] START t'2020-01-01T00:00:00Z' STOP "
         "t'2021-01-01T00:00:00Z'",
         "compound: qualifier START/STOP"},
        {"[ipv4-addr:value = '1.1.1.1' AND ipv4-addr:value = '2.2.2.2']",
         "compound: comparisons joined by AND"},
        {"[ipv4-addr:value != '1.1.1.1']", "compound: comparison operator !="},
        {"[url:value MATCHES '^http']", "compound: comparison operator MATCHES"},
        {"[ipv4-addr:value NOT = '1.1.1.1']", "compound: negated comparison (NOT)"},
        {"[ipv4-addr:value = h'01020304']", "compound: comparison with a non-string value"},
        {"[process:name = 'x']", "compound: object path with no simple indicator type"},
        {"[file:name = 'evil.exe']", "filename=evil.exe"},
        {"[ipv4-addr:value IN ('1.1.1.1', '10.0.0.0/8')]", "ipv4=1.1.1.1;ipv4=10.0.0.0/8"},
        {"[ipv4-addr:value IN (1, 2)]", "compound: comparison with a non-string value"},
        {"[ipv4-addr:value NOT IN ('1.1.1.1')]", "compound: negated comparison (NOT)"},
        {"[domain-name:value LIKE '%.example.com']", "domain=.example.com"},
        {"[domain-name:value LIKE '%example.com']", "compound: comparison operator LIKE"},
        {"[domain-name:value LIKE '%.ex%mple.com']", "compound: comparison operator LIKE"},
        {"[url:value LIKE '%.example.com']", "compound: comparison operator LIKE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_STR(simple(cases[i][0]), cases[i][1]);
    }
}

VG_TEST(simple_capacity)
{
    const char *t = "[url:value = 'a' OR url:value = 'b' OR url:value = 'c']";
    struct vg_intel_pattern *p = NULL;
    struct vg_intel_ioc iocs[2];
    size_t n = 0;
    const char *why = NULL;
    CHECK_EQ_INT(vg_intel_pattern_parse(t, strlen(t), NULL, &p, NULL, 0), 0);
    CHECK_EQ_INT(vg_intel_pattern_simple(p, iocs, 2, &n, &why), VG_ELIMIT);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(vg_intel_pattern_simple(p, NULL, 0, &n, &why), VG_ELIMIT);
    CHECK_EQ_INT(n, 3);
    vg_intel_pattern_destroy(p);
}

static const char *const invalid[][2] = {
    {"", "column 1: expected '[' or '(' to start an observation, found end of pattern"},
    {"[ipv4-addr:value = '1.2.3.4'",
     "column 29: expected ']' after comparison, found end of pattern"},
    {"[ipv4-addr:value = '1.2.3.4' 'x']", "column 30: expected ']' after comparison, found 'x'"},
    {"[ipv4-addr:value = '1.2.3.4' NOT ipv4-addr:value = '1']",
     "column 30: expected ']' after comparison, found 'NOT'"},
    {"ipv4-addr:value = '1.2.3.4'",
     "column 1: expected '[' or '(' to start an observation, found 'ipv4-addr'"},
    {"[ipv4-addr:value '1.2.3.4']",
     "column 18: expected comparison operator after object path, found '1.2.3.4'"},
    {"[ipv4-addr value = '1.2.3.4']", "column 12: expected ':' after object type, found 'value'"},
    {"[ipv4-addr: = '1.2.3.4']", "column 13: expected property name after ':', found '='"},
    {"[ipv4-addr:value = ]", "column 20: expected literal after '=', found ']'"},
    {"[ipv4-addr:value = '1.2.3.4]", "column 20: unterminated string literal"},
    {"[file:name = 'a\\nb']",
     "column 16: invalid escape '\\n' in string literal (only \\' and \\\\)"},
    {"[ipv4-addr:value = '1.2.3.4'] AND",
     "column 34: expected '[' or '(' to start an observation, found end of pattern"},
    {"[ipv4-addr:value = '1.2.3.4'] [domain-name:value = 'x']",
     "column 31: expected AND, OR, FOLLOWEDBY, a qualifier or end of pattern, found '['"},
    {"[file:name MATCHES 5]", "column 20: expected string literal after MATCHES, found '5'"},
    {"[file:size IN 1, 2]", "column 15: expected '(' to start a set after IN, found '1'"},
    {"[file:size IN (1, 'a')]", "column 19: set elements must all be of the same type"},
    {"[file:size IN (1 2)]", "column 18: expected ',' or ')' in set, found '2'"},
    {"[file:size > true]", "column 14: expected orderable literal after '>', found 'true'"},
    {"[file:created = t'2014-01-13 07:03:17']",
     "column 17: invalid timestamp '2014-01-13 07:03:17' (expected YYYY-MM-DDTHH:MM:SS[.s]Z)"},
    {"[file:magic_number_hex = h'abc']", "column 26: invalid hex literal: odd number of digits"},
    {"[file:magic_number_hex = h'zz']", "column 26: invalid hex literal: bad digit"},
    {"[file:payload_bin = b'abc']",
     "column 21: invalid binary literal: base64 length not a multiple of 4"},
    {"[file:payload_bin = b'a=bc']", "column 21: invalid binary literal: bad base64 character"},
    {"[a:b = 1] WITHIN 0 SECONDS", "column 18: WITHIN needs a positive number, found '0'"},
    {"[a:b = 1] WITHIN 5 MINUTES", "column 20: expected SECONDS after WITHIN 5, found 'MINUTES'"},
    {"[a:b = 1] REPEATS 2.5 TIMES",
     "column 19: expected positive integer after REPEATS, found '2.5'"},
    {"[a:b = 1] START t'2020-01-01T00:00:00Z' STOP t'2019-01-01T00:00:00Z'",
     "column 46: STOP must be later than START"},
    {"[a:b = 1] START t'2020-01-01T00:00:00Z'",
     "column 40: expected STOP after START timestamp, found end of pattern"},
    {"[a:b[x] = 1]", "column 6: expected list index or '*' after '[', found 'x'"},
    {"[a:b[1 = 1]", "column 8: expected ']' after list index, found '='"},
    {"[a:b = 1 AND]", "column 13: expected object path (type:property), found ']'"},
    {"[a:b NOT EXISTS]", "column 10: expected comparison operator after NOT, found 'EXISTS'"},
    {"[a:b = 1] # c", "column 11: unexpected character '#'"},
    {"[a:b = '1'] \x01", "column 13: unexpected byte 0x01"},
    {"[(a:b = 1 OR a:c = 2]", "column 21: expected ')' after comparison, found ']'"},
    {"([a:b = 1]", "column 11: expected ')' after observation expression, found end of pattern"},
    {"[a:b = 99999999999999999999]", "column 8: integer out of range"},
    {"[]", "column 2: expected object path (type:property), found ']'"},
    {"[a:b.= 1]", "column 6: expected property name after '.', found '='"},
    {"[a:b = 1] FOLLOWEDBY",
     "column 21: expected '[' or '(' to start an observation, found end of pattern"},
    {"[a:b = 1] and [a:c = 2]",
     "column 11: expected AND, OR, FOLLOWEDBY, a qualifier or end of pattern, found 'and'"},
};

VG_TEST(invalid_patterns_exact_errors)
{
    CHECK(sizeof invalid / sizeof invalid[0] >= 20);
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        struct vg_intel_pattern *p = (void *)1;
        char err[256];
        const char *t = invalid[i][0];
        CHECK_EQ_INT(vg_intel_pattern_parse(t, strlen(t), NULL, &p, err, sizeof err), VG_EINVAL);
        CHECK(p == NULL);
        CHECK_STR(err, invalid[i][1]);
    }
}

VG_TEST(bounds)
{
    struct vg_sbuf sb = VG_SBUF_INIT;
    struct vg_intel_pattern *p = NULL;
    struct vg_intel_pattern_limits lim = {100, 4};
    char err[256];
    for (int i = 0; i < 5; i++) {
        vg_sbuf_addc(&sb, '(');
    }
    vg_sbuf_adds(&sb, "[a:b = 1]))))");
    vg_sbuf_addc(&sb, ')');
    CHECK_EQ_INT(vg_intel_pattern_parse(sb.p, sb.len, &lim, &p, err, sizeof err), VG_ELIMIT);
    CHECK_STR(err, "column 5: nesting deeper than 4");
    lim.max_depth = 6; /* five parentheses and the brackets */
    CHECK_EQ_INT(vg_intel_pattern_parse(sb.p, sb.len, &lim, &p, err, sizeof err), 0);
    vg_intel_pattern_destroy(p);
    vg_sbuf_reset(&sb);
    /* 100000 nested parentheses with default limits: error, no stack overflow */
    for (int i = 0; i < 100000; i++) {
        vg_sbuf_addc(&sb, '(');
    }
    CHECK_EQ_INT(vg_intel_pattern_parse(sb.p, sb.len, NULL, &p, err, sizeof err), VG_ELIMIT);
    CHECK_STR(err, "column 65: nesting deeper than 64");
    lim.max_depth = 0;
    CHECK_EQ_INT(vg_intel_pattern_parse(sb.p, sb.len, &lim, &p, err, sizeof err), VG_ELIMIT);
    CHECK_STR(err, "column 101: pattern longer than 100 bytes");
    vg_sbuf_reset(&sb);
    /* a long flat OR chain (n-ary, no recursion per operand) */
    vg_sbuf_adds(&sb, "[url:value = 'u0'");
    for (int i = 1; i < 10000; i++) {
        vg_sbuf_printf(&sb, " OR url:value = 'u%d'", i);
    }
    vg_sbuf_addc(&sb, ']');
    CHECK_EQ_INT(vg_intel_pattern_parse(sb.p, sb.len, NULL, &p, err, sizeof err), 0);
    if (p) {
        size_t n = 0;
        const char *why = NULL;
        CHECK_EQ_INT(p->root->kids[0]->nkids, 10000);
        CHECK_EQ_INT(vg_intel_pattern_simple(p, NULL, 0, &n, &why), VG_ELIMIT);
        CHECK_EQ_INT(n, 10000);
    }
    vg_intel_pattern_destroy(p);
    vg_sbuf_fini(&sb);
}

VG_TEST(allocation_failures)
{
    const char *t = "([file:hashes.'SHA-256' = 'ab' AND a:b IN (1, 2, 3)] OR [c:d[*].e = h'00']) "
                    "FOLLOWEDBY [x:y = 1] WITHIN 5 SECONDS";
    int ok = 0, nomem = 0;
    for (long n = 1; n < 200 && !ok; n++) {
        struct vg_intel_pattern *p = NULL;
        char err[256];
        vg_alloc_fail_at(n);
        int rc = vg_intel_pattern_parse(t, strlen(t), NULL, &p, err, sizeof err);
        vg_alloc_fail_at(0);
        if (rc == 0) {
            ok = 1;
        } else {
            CHECK_EQ_INT(rc, VG_ENOMEM);
            CHECK(p == NULL);
            nomem++;
        }
        vg_intel_pattern_destroy(p);
    }
    CHECK(ok);
    CHECK(nomem > 0);
}

VG_TEST(throughput)
{
    const char *t = "[ipv4-addr:value = '198.51.100.7']";
    const char *t2 =
        "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add"
        "178b6ccdfb0019f' OR url:value = 'http://example.com/a?b=c'] WITHIN 60 SECONDS";
    const char *pats[2] = {t, t2};
    for (int k = 0; k < 2; k++) {
        int n = 200000;
        uint64_t t0 = vg_clock_ns();
        for (int i = 0; i < n; i++) {
            struct vg_intel_pattern *p = NULL;
            if (vg_intel_pattern_parse(pats[k], strlen(pats[k]), NULL, &p, NULL, 0) != 0) {
                CHECK(0);
                break;
            }
            vg_intel_pattern_destroy(p);
        }
        double s = (double)(vg_clock_ns() - t0) / 1e9;
        fprintf(stderr, "  parse %s pattern (%zu bytes): %.0f patterns/s\n",
                k ? "compound" : "simple", strlen(pats[k]), n / s);
    }
}
