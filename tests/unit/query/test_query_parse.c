/*
 * test_query_parse.c — the search language's parser: accepted queries in canonical form,
 * rejected ones with the column of the offending text, and bounds on hostile input.
 */
#include "query/query_int.h"
#include "vgtest.h"

/* 2024-05-10T12:00:00Z: relative times in these tests are relative to it */
#define NOW (1715342400LL * 1000000000LL)

static char dump_buf[4096];

static const char *parse_dump(const char *text)
{
    char err[256];
    struct vg_query *q = NULL;
    if (vg_query_parse(text, strlen(text), NOW, &q, err, sizeof(err)) != VG_OK) {
        snprintf(dump_buf, sizeof(dump_buf), "ERROR %s", err);
        return dump_buf;
    }
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_query_dump(q, &s);
    snprintf(dump_buf, sizeof(dump_buf), "%s", s.p ? s.p : "");
    vg_sbuf_fini(&s);
    vg_query_destroy(q);
    return dump_buf;
}

static const char *parse_err(const char *text)
{
    char err[256];
    struct vg_query *q = NULL;
    int rc = vg_query_parse(text, strlen(text), NOW, &q, err, sizeof(err));
    if (rc == VG_OK) {
        vg_query_destroy(q);
        return "(accepted)";
    }
    snprintf(dump_buf, sizeof(dump_buf), "%s", err);
    return dump_buf;
}

VG_TEST(query_parse_terms)
{
    CHECK_STR(parse_dump("user.name:alice"), "user.name:\"alice\"");
    CHECK_STR(parse_dump("user.name:Alice"), "user.name:\"alice\"");
    CHECK_STR(parse_dump("user.name:adm*"), "user.name:glob\"adm*\"");
    CHECK_STR(parse_dump("url.path:\"/a b*\""), "url.path:\"/a b*\"");
    CHECK_STR(parse_dump("msg:foo\\*bar"), "msg:\"foo*bar\"");
    CHECK_STR(parse_dump("msg:foo\\*bar*"), "msg:glob\"foo\\\\*bar*\"");
    CHECK_STR(parse_dump("host.name:*"), "host.name:*");
    CHECK_STR(parse_dump("source.ip:10.0.0.0/8"), "source.ip:cidr(10.0.0.0/8)");
    CHECK_STR(parse_dump("source.ip:fe80::/16"), "source.ip:cidr(fe80::/16)");
    CHECK_STR(parse_dump("\"Failed password\" root"), "(text\"failed password\" AND text\"root\")");
    CHECK_STR(parse_dump("fail*"), "textglob\"fail*\"");
    CHECK_STR(parse_dump("*"), "*");
    CHECK_STR(parse_dump("   "), "*");
    CHECK_STR(parse_dump("EventID:4625"), "EventID:\"4625\"");
}

VG_TEST(query_parse_boolean)
{
    CHECK_STR(parse_dump("a OR b c"), "(text\"a\" OR (text\"b\" AND text\"c\"))");
    CHECK_STR(parse_dump("a AND b OR c"), "((text\"a\" AND text\"b\") OR text\"c\")");
    CHECK_STR(parse_dump("(a OR b) AND c"), "((text\"a\" OR text\"b\") AND text\"c\")");
    CHECK_STR(parse_dump("a b c d"), "(text\"a\" AND text\"b\" AND text\"c\" AND text\"d\")");
    CHECK_STR(parse_dump("NOT a"), "NOT text\"a\"");
    CHECK_STR(parse_dump("-a b"), "(NOT text\"a\" AND text\"b\")");
    CHECK_STR(parse_dump("a AND NOT b"), "(text\"a\" AND NOT text\"b\")");
    CHECK_STR(parse_dump("user.name:(alice OR bob)"), "(user.name:\"alice\" OR user.name:\"bob\")");
    CHECK_STR(parse_dump("and or"), "(text\"and\" AND text\"or\")"); /* lower case: words */
}

VG_TEST(query_parse_ranges)
{
    CHECK_STR(parse_dump("source.port:[1000 TO 2000]"), "source.port:[1000 TO 2000]");
    CHECK_STR(parse_dump("bytes:{0 TO 100]"), "bytes:{0 TO 100]");
    CHECK_STR(parse_dump("status:>=500"), "status:[500 TO *}");
    CHECK_STR(parse_dump("status:<500"), "status:{* TO 500}");
    CHECK_STR(parse_dump("status>500"), "status:{500 TO *}");
    CHECK_STR(parse_dump("user.name:[a TO m]"), "user.name:[\"a\" TO \"m\"]");
    CHECK_STR(parse_dump("@timestamp:[2024-05-01 TO 2024-05-02T10:00:00Z]"),
              "@timestamp:[2024-05-01T00:00:00.000000Z TO 2024-05-02T10:00:00.000000Z]");
    CHECK_STR(parse_dump("@timestamp:>=-1h"), "@timestamp:[2024-05-10T11:00:00.000000Z TO *}");
    CHECK_STR(parse_dump("@timestamp:[now-2d TO now]"),
              "@timestamp:[2024-05-08T12:00:00.000000Z TO 2024-05-10T12:00:00.000000Z]");
    CHECK_STR(parse_dump("@timestamp:2024-05-09"),
              "@timestamp:[2024-05-09T00:00:00.000000Z TO 2024-05-10T00:00:00.000000Z}");
}

VG_TEST(query_parse_pipes)
{
    CHECK_STR(parse_dump("| stats count by host.name"), "* | stats count by host.name");
    CHECK_STR(parse_dump("x | stats count, dc(user.name) as users avg(bytes) by host.name, "
                         "user.name"),
              "text\"x\" | stats count, users, avg(bytes) by host.name,user.name");
    CHECK_STR(parse_dump("| top 5 source.ip"), "* | top source.ip 5");
    CHECK_STR(parse_dump("| top source.ip 3"), "* | top source.ip 3");
    CHECK_STR(parse_dump("| top limit=7 source.ip"), "* | top source.ip 7");
    CHECK_STR(parse_dump("| timechart span=5m count by host.name"),
              "* | timechart span=300s by host.name");
    CHECK_STR(parse_dump("| sort -count, host.name | head 20"),
              "* | sort -count,host.name | head 20");
    CHECK_STR(parse_dump("| head"), "* | head 10");
}

VG_TEST(query_parse_errors_name_the_column)
{
    CHECK_STR(parse_err("user.name:"), "column 11: expected a value after ':'");
    CHECK_STR(parse_err("event.outcome:ok user.name: alice"),
              "column 28: expected a value after ':'");
    CHECK_STR(parse_err("host.name:x AND a:"), "column 19: expected a value after ':'");
    CHECK_STR(parse_err("(a OR b"), "column 8: expected ')' to close the '(' at column 1");
    CHECK_STR(parse_err("a)"), "column 2: unexpected ')' without a matching '('");
    CHECK_STR(parse_err("a AND"), "column 6: expected a search term after AND");
    CHECK_STR(parse_err("a OR"), "column 5: expected a search term after OR");
    CHECK_STR(parse_err("NOT"), "column 4: expected a search term after NOT");
    CHECK_STR(parse_err("x \"abc"), "column 3: unterminated quote");
    CHECK_STR(parse_err("x:[1 2]"), "column 6: expected TO in the range opened at column 3");
    CHECK_STR(parse_err("x:[1 TO"), "column 8: expected a value after 'TO'");
    CHECK_STR(parse_err("x:[1 TO 2"), "column 10: expected ']' or '}' to close the range "
                                      "opened at column 3");
    CHECK_STR(parse_err("status:>="), "column 10: expected a value after '>='");
    CHECK_STR(parse_err("\"é\" x:"), "column 7: expected a value after ':'");
    CHECK_STR(parse_err("@timestamp:[yesterday TO now]"),
              "column 13: 'yesterday' is not a time (RFC 3339, YYYY-MM-DD, now, -1h)");
    CHECK_STR(parse_err("@timestamp:2024*"), "column 12: wildcards do not apply to @timestamp");
    CHECK_STR(parse_err("a | "), "column 5: expected a command after '|' (stats, top, "
                                 "timechart, sort, head)");
    CHECK_STR(parse_err("| frobnicate x"),
              "column 3: unknown command 'frobnicate' (stats, top, timechart, sort, head)");
    CHECK_STR(parse_err("| stats"), "column 8: expected an aggregation after 'stats' (count, "
                                    "dc(f), sum(f), avg(f), min(f), max(f))");
    CHECK_STR(parse_err("| stats median(x)"),
              "column 9: unknown function 'median' (count, dc, sum, avg, min, max)");
    CHECK_STR(parse_err("| stats avg by x"), "column 12: expected '(' after 'avg'");
    CHECK_STR(parse_err("| stats count by"), "column 17: expected a field after 'by'");
    CHECK_STR(parse_err("| head x"), "column 8: expected a positive number, found 'x'");
    CHECK_STR(parse_err("| head 0"), "column 8: expected a positive number, found '0'");
    CHECK_STR(parse_err("| timechart span=7q"), "column 18: bad span '7q' (e.g. 30s, 1m, 1h, 1d)");
    CHECK_STR(parse_err("| sort"), "column 7: expected a field after 'sort'");
    CHECK_STR(parse_err("| top"), "column 6: expected a field after 'top'");
    CHECK_STR(parse_err("| stats count | top x"),
              "column 15: only one of stats, top, timechart per query");
    CHECK_STR(parse_err("\"\""), "column 1: empty phrase");
}

VG_TEST(query_parse_bounds)
{
    char buf[1024];
    memset(buf, '(', 300);
    buf[300] = 'a';
    memset(buf + 301, ')', 299);
    CHECK(strstr(parse_err(buf), "nested too deeply") != NULL);
    memset(buf, 0, sizeof(buf));
    for (int i = 0; i < 200; i++) {
        memcpy(buf + strlen(buf), "NOT ", 5);
    }
    CHECK(strstr(parse_err(buf), "nested too deeply") != NULL);
    /* many terms: bounded */
    struct vg_sbuf big = VG_SBUF_INIT;
    for (int i = 0; i < 5000; i++) {
        vg_sbuf_adds(&big, "a ");
    }
    CHECK(strstr(parse_err(big.p), "query too long") != NULL);
    vg_sbuf_fini(&big);
    /* NUL bytes and invalid UTF-8 are just bytes */
    char err[128];
    struct vg_query *q = NULL;
    CHECK_EQ_INT(vg_query_parse("a\0b \xff\xfe", 7, NOW, &q, err, sizeof(err)), VG_OK);
    vg_query_destroy(q);
}

VG_TEST(query_time_parse)
{
    vg_time_t t;
    CHECK_EQ_INT(vg_query_time_parse("now", 3, NOW, &t), VG_OK);
    CHECK_EQ_INT(t, NOW);
    CHECK_EQ_INT(vg_query_time_parse("-15m", 4, NOW, &t), VG_OK);
    CHECK_EQ_INT(t, NOW - 900LL * 1000000000LL);
    CHECK_EQ_INT(vg_query_time_parse("now+1d", 6, NOW, &t), VG_OK);
    CHECK_EQ_INT(t, NOW + 86400LL * 1000000000LL);
    CHECK_EQ_INT(vg_query_time_parse("2024-05-10T12:00:00Z", 20, NOW, &t), VG_OK);
    CHECK_EQ_INT(t, NOW);
    CHECK_EQ_INT(vg_query_time_parse("yesterday", 9, NOW, &t), VG_EINVAL);
    CHECK_EQ_INT(vg_query_time_parse("-", 1, NOW, &t), VG_EINVAL);
}
