/*
 * test_core.c — core: arenas, string builder, case folding, vg_memmem, number and time
 * parsing, YAML documents, config binding, allocation-failure injection.
 */
#include "core/core.h"
#include "vgtest.h"

VG_TEST(arena_alloc_reset_big)
{
    struct vg_arena *a = vg_arena_create(1024);
    CHECK(a != NULL);
    char *p = vg_arena_strdup(a, "hello");
    CHECK_STR(p, "hello");
    void *big = vg_arena_alloc(a, 100000); /* one-off block */
    CHECK(big != NULL);
    memset(big, 1, 100000);
    char *after = vg_arena_strdup(a, "still fine");
    CHECK_STR(after, "still fine");
    for (int i = 0; i < 1000; i++) {
        CHECK(vg_arena_alloc(a, 100) != NULL);
    }
    CHECK(((uintptr_t)vg_arena_alloc(a, 3) & 7) == 0);
    vg_arena_reset(a);
    CHECK_EQ_INT(vg_arena_used(a), 0);
    CHECK_STR(vg_arena_printf(a, "%d-%s", 42, "x"), "42-x");
    vg_arena_destroy(a);
    vg_arena_destroy(NULL);
}

VG_TEST(sbuf_json_escaping)
{
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_sbuf_add_json_str(&s, "a\"b\\c\n\x01\xff\xc3\xa9", 10);
    CHECK_STR(s.p, "\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\xc3\xa9\"");
    vg_sbuf_reset(&s);
    vg_sbuf_printf(&s, "%s=%d", "n", 5);
    CHECK_STR(s.p, "n=5");
    size_t n;
    char *t = vg_sbuf_take(&s, &n);
    CHECK_EQ_INT(n, 3);
    vg_free(t);
    vg_sbuf_fini(&s);
}

VG_TEST(fold_is_length_preserving)
{
    const char *in = "ÀÉÎ ABC ÄÖÜ ΣΩ АБВЁ ŁŃ Ÿ 🦆";
    char out[128];
    size_t n = strlen(in);
    vg_fold(out, in, n);
    out[n] = '\0';
    CHECK_STR(out, "àéî abc äöü σω абвё łń ÿ 🦆");
    CHECK(vg_fold_is_identity("abc 123 🦆", strlen("abc 123 🦆")));
    /* the 16-byte SIMD path, its edges ('@' '[' '`' '{' around the letters) and its tail */
    const char *lng = "THE QUICK BROWN FOX @[`{ JUMPS OVER THE LAZY DOG 0123456789 ÉCOLE";
    char lo[128];
    vg_fold(lo, lng, strlen(lng));
    lo[strlen(lng)] = '\0';
    CHECK_STR(lo, "the quick brown fox @[`{ jumps over the lazy dog 0123456789 école");
    CHECK(!vg_fold_is_identity(lng, strlen(lng)));
    CHECK(vg_fold_is_identity(lo, strlen(lo) - 7)); /* all but "école" */
    CHECK(!vg_fold_is_identity("the quick brown fox jumps over the lazy dog Z",
                               strlen("the quick brown fox jumps over the lazy dog Z")));
    char b[3];
    size_t at = 0;
    CHECK_EQ_INT(vg_utf8_put(b, 0xE9), 2);
    CHECK_EQ_INT(vg_utf8_next(b, 2, &at), 0xE9);
    CHECK_EQ_INT(at, 2);
    CHECK(!vg_fold_is_identity("aBc", 3));
    CHECK_EQ_INT(vg_fold_partner(0x430), 0x410); /* а → А */
    CHECK_EQ_INT(vg_fold_partner(0xE9), 0xC9);   /* é → É */
    CHECK_EQ_INT(vg_fold_partner(0x1F986), 0x1F986);
}

VG_TEST(memmem_matches_libc)
{
    const char *hay = "the quick brown fox jumps over the lazy dog; C:\\Windows\\System32\\cmd.exe";
    const char *needles[] = {"the", "dog", "fox j", "cmd.exe", "C:\\", "xyz", "g;", "e", "t"};
    size_t hn = strlen(hay);
    for (size_t i = 0; i < VG_ARRAY_LEN(needles); i++) {
        for (size_t off = 0; off < hn; off += 7) {
            const char *a = vg_memmem(hay + off, hn - off, needles[i], strlen(needles[i]));
            const char *b = memmem(hay + off, hn - off, needles[i], strlen(needles[i]));
            CHECK(a == b);
        }
    }
    CHECK(vg_memmem("abc", 3, "", 0) != NULL);
    CHECK(vg_memmem("ab", 2, "abc", 3) == NULL);
}

VG_TEST(numbers)
{
    int64_t v;
    CHECK(vg_parse_i64("42", 2, &v) == VG_OK && v == 42);
    CHECK(vg_parse_i64("-9223372036854775808", 20, &v) == VG_OK && v == INT64_MIN);
    CHECK(vg_parse_i64("0x1fffff", 8, &v) == VG_OK && v == 0x1fffff);
    CHECK(vg_parse_i64("99999999999999999999", 20, &v) == VG_ELIMIT);
    CHECK(vg_parse_i64("12a", 3, &v) == VG_EINVAL);
    CHECK(vg_parse_i64("", 0, &v) == VG_EINVAL);
    double d;
    CHECK(vg_parse_double("10.5", 4, &d) == VG_OK && d == 10.5);
    CHECK(vg_parse_double("1e3", 3, &d) == VG_OK && d == 1000);
    CHECK(vg_parse_double("nan", 3, &d) != VG_OK);
}

VG_TEST(time_parse_and_split)
{
    vg_time_t t;
    CHECK(vg_time_parse("2025-12-10T04:33:20.562782Z", 27, &t) == VG_OK);
    char buf[40];
    vg_time_format(t, buf, sizeof(buf));
    CHECK_STR(buf, "2025-12-10T04:33:20.562782Z");
    CHECK(vg_time_parse("2025-12-10 06:33:20+02:00", 25, &t) == VG_OK);
    vg_time_format(t, buf, sizeof(buf));
    CHECK_STR(buf, "2025-12-10T04:33:20.000000Z");
    CHECK(vg_time_parse("2025-12-10", 10, &t) == VG_OK);
    CHECK(vg_time_parse("2025-13-10", 10, &t) == VG_EINVAL);
    CHECK(vg_time_parse("yesterday", 9, &t) == VG_EINVAL);
    struct vg_tm tm;
    CHECK(vg_time_parse("2020-12-31T03:04:05Z", 20, &t) == VG_OK);
    vg_time_split(t, &tm);
    CHECK_EQ_INT(tm.iso_week, 53);
    CHECK_EQ_INT(tm.hour, 3);
    CHECK(vg_time_parse("2021-01-04T00:00:00Z", 20, &t) == VG_OK);
    vg_time_split(t, &tm);
    CHECK_EQ_INT(tm.iso_week, 1);
    CHECK(vg_time_parse("1969-12-31T23:59:59Z", 20, &t) == VG_OK);
    vg_time_split(t, &tm);
    CHECK_EQ_INT(tm.year, 1969);
    CHECK_EQ_INT(tm.second, 59);
    CHECK_EQ_INT(vg_time_from_filetime(116444736000000000ULL), 0);
    int64_t ns;
    CHECK(vg_duration_parse("90m", 3, &ns) == VG_OK && ns == 5400LL * 1000000000);
    CHECK(vg_duration_parse("5x", 2, &ns) == VG_EINVAL);
    CHECK(vg_duration_parse("-5m", 3, &ns) == VG_EINVAL);
}

VG_TEST(yaml_documents_and_errors)
{
    const char *text = "a: 1\nb: 'null'\nc: null\nlist: [x, y]\n---\nsecond: true\n";
    struct vg_yaml_file *f;
    char err[256];
    CHECK(vg_yaml_parse(text, strlen(text), &f, err, sizeof(err)) == VG_OK);
    CHECK_EQ_INT(f->ndocs, 2);
    const struct vg_yaml_node *d = f->docs[0];
    CHECK(vg_yaml_is_null(vg_yaml_get(d, "c")));
    CHECK(!vg_yaml_is_null(vg_yaml_get(d, "b")));
    CHECK_EQ_INT(vg_yaml_get(d, "list")->n, 2);
    CHECK_EQ_INT(vg_yaml_get(d, "list")->line, 4);
    bool b;
    CHECK(vg_yaml_bool(vg_yaml_get(f->docs[1], "second"), &b) == VG_OK && b);
    vg_yaml_file_destroy(f);
    const char *bad = "a: [1, 2\nb: 3\n";
    CHECK(vg_yaml_parse(bad, strlen(bad), &f, err, sizeof(err)) == VG_EINVAL);
    CHECK(strstr(err, "line ") != NULL);
    /* alias bomb is bounded */
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_sbuf_adds(&s, "a: &a [x, x, x, x, x, x, x, x]\n");
    for (int i = 0; i < 20000; i++) {
        vg_sbuf_printf(&s, "k%d: *a\n", i);
    }
    CHECK(vg_yaml_parse(s.p, s.len, &f, err, sizeof(err)) == VG_ELIMIT);
    vg_sbuf_fini(&s);
}

struct conf {
    bool flag;
    int64_t n;
    char *name;
    int64_t span;
    struct vg_strlist list;
    int mode;
};

static const char *const modes[] = {"fast", "safe", NULL};
static const struct vg_conf_field table[] = {
    {"hunt.flag", VG_CONF_BOOL, offsetof(struct conf, flag), "false", 1, 0, false, true, NULL,
     "a flag"},
    {"hunt.n", VG_CONF_INT, offsetof(struct conf, n), "4", 1, 64, false, true, NULL, "a count"},
    {"hunt.name", VG_CONF_STR, offsetof(struct conf, name), "x", 1, 0, true, false, NULL,
     "a secret"},
    {"hunt.span", VG_CONF_DURATION, offsetof(struct conf, span), "5m", 1, 0, false, true, NULL,
     "a span"},
    {"hunt.list", VG_CONF_STRLIST, offsetof(struct conf, list), "a,b", 1, 0, false, true, NULL,
     "a list"},
    {"mode", VG_CONF_ENUM, offsetof(struct conf, mode), "safe", 1, 0, false, true, modes, "a mode"},
};

VG_TEST(config_binding)
{
    struct conf c = {0};
    char err[256];
    CHECK(vg_conf_defaults(table, VG_ARRAY_LEN(table), &c, err, sizeof(err)) == VG_OK);
    CHECK_EQ_INT(c.n, 4);
    CHECK_EQ_INT(c.mode, 1);
    CHECK_EQ_INT(c.list.n, 2);
    const char *y = "hunt:\n  n: 8\n  flag: true\n  list: [p, q, r]\nmode: fast\n";
    struct vg_yaml_file *f;
    CHECK(vg_yaml_parse(y, strlen(y), &f, err, sizeof(err)) == VG_OK);
    setenv("VIGIE_HUNT_SPAN", "1h", 1);
    CHECK(vg_conf_bind(table, VG_ARRAY_LEN(table), f->docs[0], "t.yml", &c, err, sizeof(err)) ==
          VG_OK);
    unsetenv("VIGIE_HUNT_SPAN");
    CHECK_EQ_INT(c.n, 8);
    CHECK(c.flag);
    CHECK_EQ_INT(c.list.n, 3);
    CHECK_EQ_INT(c.span, 3600LL * 1000000000);
    CHECK_EQ_INT(c.mode, 0);
    vg_yaml_file_destroy(f);
    const char *bad = "hunt:\n  n: 99\n";
    CHECK(vg_yaml_parse(bad, strlen(bad), &f, err, sizeof(err)) == VG_OK);
    CHECK(vg_conf_bind(table, VG_ARRAY_LEN(table), f->docs[0], "t.yml", &c, err, sizeof(err)) ==
          VG_EINVAL);
    CHECK(strstr(err, "t.yml:2") && strstr(err, "outside"));
    vg_yaml_file_destroy(f);
    const char *typo = "hunt:\n  nn: 1\n";
    CHECK(vg_yaml_parse(typo, strlen(typo), &f, err, sizeof(err)) == VG_OK);
    CHECK(vg_conf_bind(table, VG_ARRAY_LEN(table), f->docs[0], "t.yml", &c, err, sizeof(err)) ==
          VG_EINVAL);
    CHECK(strstr(err, "unknown configuration key 'hunt.nn'") != NULL);
    vg_yaml_file_destroy(f);
    char *out = NULL;
    size_t outlen = 0;
    FILE *m = open_memstream(&out, &outlen);
    vg_conf_schema_print(table, VG_ARRAY_LEN(table), m);
    fclose(m);
    CHECK(strstr(out, "hunt.name: <secret>") != NULL);
    CHECK(strstr(out, "range [1, 64]") != NULL);
    free(out);
    vg_conf_release(table, VG_ARRAY_LEN(table), &c);
}

VG_TEST(allocation_failures_are_reported)
{
    /* walk the first allocations of a YAML parse: every failure is a clean error */
    const char *text = "title: x\nlist: [a, b, c]\nmap: {k: v}\n";
    for (long n = 1; n < 40; n++) {
        struct vg_yaml_file *f = NULL;
        char err[256];
        vg_alloc_fail_at(n);
        int rc = vg_yaml_parse(text, strlen(text), &f, err, sizeof(err));
        vg_alloc_fail_at(0);
        CHECK(rc == VG_OK || rc == VG_ENOMEM);
        vg_yaml_file_destroy(f);
    }
}
