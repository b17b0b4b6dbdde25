/*
 * test_http.c — HTTP/1.x parser: one record per transaction with Suricata 8's fields,
 * keep-alive and pipelining, chunked and Content-Length bodies, 100-continue, HEAD/304,
 * HTTP/0.9 and a missing protocol, Basic credentials, CONNECT upgrade, gaps inside and past a
 * body, all headers (cfg.http_headers); the same records whatever the segmentation.
 */
#include <time.h>

#include "sensor_app_fake.h"
#include "vgtest.h"

#define C2S VG_SENSOR_FLOW_TO_SERVER
#define S2C VG_SENSOR_FLOW_TO_CLIENT

/* The parser reads its options through the engine; here they come from test_cfg. */
static struct vg_sensor_engine_config test_cfg;

const struct vg_sensor_engine_config *vg_sensor_engine_config_of(const struct vg_sensor_engine *e)
{
    (void)e;
    return &test_cfg;
}

static char *run(const struct fake_step *s, size_t n)
{
    int bad;
    char *out = fake_run_all_cuts(&vg_sensor_proto_http, s, n, &bad);
    CHECK_EQ_INT(bad, 0);
    return out;
}

VG_TEST(http_simple_transaction)
{
    const struct fake_step s[] = {
        {C2S, "GET /index.html HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: curl/8\r\n"
              "Referer: http://a/b\r\n\r\n"},
        {S2C, "HTTP/1.1 302 Found\r\nContent-Type: text/html; charset=utf-8\r\n"
              "Location: /x\r\nContent-Length: 5\r\n\r\nhello"},
    };
    char *out = run(s, 2);
    CHECK_STR(out, "{\"event_type\":\"http\",\"tx_id\":0,\"http\":{\"hostname\":\"example.com\","
                   "\"http_port\":8080,\"url\":\"/index.html\",\"http_user_agent\":\"curl/8\","
                   "\"http_content_type\":\"text/html\",\"http_refer\":\"http://a/b\","
                   "\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\",\"status\":302,"
                   "\"redirect\":\"/x\",\"length\":5}}\n");
    vg_free(out);
}

VG_TEST(http_pipelined_chunked_head_304)
{
    const struct fake_step s[] = {
        {C2S, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n"
              "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n0\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\n\r\n"},
        {S2C, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n"
              "a\r\n0123456789\r\n0\r\nTrailer: 1\r\n\r\n"
              "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
              "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
              "HTTP/1.1 304 Not Modified\r\n\r\n"},
    };
    char *out = run(s, 2);
    CHECK(strstr(out, "\"tx_id\":0,\"http\":{\"hostname\":\"h\",\"url\":\"/1\"") != NULL);
    CHECK(strstr(out, "\"url\":\"/1\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.1\","
                      "\"status\":200,\"length\":14}") != NULL);
    CHECK(strstr(out, "\"url\":\"/2\",\"http_method\":\"HEAD\",\"protocol\":\"HTTP/1.1\","
                      "\"status\":200,\"length\":0}") != NULL);
    CHECK(strstr(out, "\"tx_id\":2,") && strstr(out, "\"status\":201,\"length\":2}"));
    CHECK(strstr(out, "\"tx_id\":3,") && strstr(out, "\"status\":304,\"length\":0}"));
    int lines = 0;
    for (const char *p = out; *p; p++) {
        lines += *p == '\n';
    }
    CHECK_EQ_INT(lines, 4);
    vg_free(out);
}

VG_TEST(http_09_and_unfinished)
{
    const struct fake_step s[] = {
        {C2S, "GET /old\r\n"},
        {S2C, "<html>hi</html>"},
    };
    char *out = run(s, 2);
    CHECK_STR(out, "{\"event_type\":\"http\",\"tx_id\":0,\"http\":{\"url\":\"/old\","
                   "\"http_method\":\"GET\",\"length\":16}}\n");
    vg_free(out);
    const struct fake_step s2[] = {{C2S, "GET /no-lf"}};
    out = run(s2, 1);
    CHECK(strstr(out, "\"url\":\"/no-lf\"") != NULL);
    vg_free(out);
}

VG_TEST(http_basic_auth_and_status_string)
{
    /* dXNlcjpwYXNz = user:pass */
    const struct fake_step s[] = {
        {C2S, "GET / HTTP/1.0\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n"},
        {S2C, "HTTP/1.0 2XX Bad\r\n\r\nbody"},
    };
    char *out = run(s, 2);
    CHECK(strstr(out, "\"status_string\":\"2XX\"") != NULL);
    CHECK(strstr(out, "\"length\":4") != NULL);
    CHECK_EQ_INT(fake_creds, 1);
    CHECK_STR(fake_last_user, "user");
    vg_free(out);
    const struct fake_step s2[] = {
        {C2S, "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n"},
        {S2C, "HTTP/1.1 401 No\r\nContent-Length: 0\r\n\r\n"},
    };
    out = run(s2, 2);
    CHECK_EQ_INT(fake_auth_fail, 1);
    vg_free(out);
}

VG_TEST(http_connect_upgrades_to_tls)
{
    const struct fake_step s[] = {
        {C2S, "CONNECT secure.example:443 HTTP/1.1\r\nHost: secure.example:443\r\n\r\n"},
        {S2C, "HTTP/1.1 200 Connection established\r\n\r\n"},
    };
    int rc;
    char *out = fake_run(&vg_sensor_proto_http, s, 2, -1, 0, &rc);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_UPGRADE_TLS);
    CHECK(strstr(out, "\"hostname\":\"secure.example\",\"http_port\":443,"
                      "\"url\":\"secure.example:443\"") != NULL);
    vg_free(out);
}

VG_TEST(http_bounded_long_header)
{
    static char big[20000];
    memcpy(big, "GET /x HTTP/1.1\r\nCookie: ", 25);
    memset(big + 25, 'a', sizeof(big) - 40);
    memcpy(big + sizeof(big) - 15, "\r\nHost: h\r\n\r\n", 14);
    const struct fake_step s[] = {{C2S, big}, {S2C, "HTTP/1.1 204 No\r\n\r\n"}};
    int rc;
    char *out = fake_run(&vg_sensor_proto_http, s, 2, 0, 7000, &rc);
    CHECK(strstr(out, "\"hostname\":\"h\"") != NULL);
    CHECK(strstr(out, "\"status\":204") != NULL);
    vg_free(out);
}

VG_TEST(http_missing_protocol_is_not_09)
{
    /* a request line without protocol followed by header lines: headers, not HTTP/0.9 */
    const struct fake_step s[] = {
        {C2S, "GET /\nFakeHeader\nHost: localhost\nUser-Agent: myscript\n\n"},
        {S2C, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
    };
    char *out = run(s, 2);
    CHECK_STR(out, "{\"event_type\":\"http\",\"tx_id\":0,\"http\":{\"hostname\":\"localhost\","
                   "\"url\":\"/\",\"http_user_agent\":\"myscript\",\"http_method\":\"GET\","
                   "\"status\":200,\"length\":2}}\n");
    vg_free(out);
    /* HTTP/0.9 followed by a new request line: two requests */
    const struct fake_step s2[] = {{C2S, "GET /a\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"}};
    out = run(s2, 1);
    CHECK(strstr(out, "\"tx_id\":0,\"http\":{\"url\":\"/a\"") != NULL);
    CHECK(strstr(out, "\"tx_id\":1,\"http\":{\"hostname\":\"x\",\"url\":\"/b\"") != NULL);
    vg_free(out);
}

/* Feed steps whole; a step with data NULL is a gap of (size_t)dir bytes in the direction of the
 * next step. */
static char *run_gaps(const struct fake_step *s, const size_t *gap, size_t n)
{
    vg_sbuf_reset(&fake_out);
    void *st = vg_sensor_proto_http.state_new();
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    for (size_t i = 0; i < n; i++) {
        c.dir = s[i].dir;
        if (gap[i]) {
            vg_sensor_proto_http.gap(&c, st, gap[i]);
        }
        vg_sensor_proto_http.data(&c, st, (const uint8_t *)s[i].data, strlen(s[i].data));
    }
    vg_sensor_proto_http.end(&c, st);
    vg_sensor_proto_http.state_free(st);
    return vg_strdup(fake_out.p ? fake_out.p : "");
}

VG_TEST(http_gap_past_body_end)
{
    /* the lost segment holds the 12-byte body and 2 more bytes: /1 still gets its status and
     * length, and the next response is /2's */
    const struct fake_step s[] = {
        {C2S, "GET /1 HTTP/1.0\r\n\r\n"},
        {S2C, "HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n"},
        {C2S, "GET /2 HTTP/1.0\r\n\r\n"},
        {S2C, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"},
        {C2S, "GET /3 HTTP/1.0\r\n\r\n"},
        {S2C, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab"},
        {C2S, "GET /4 HTTP/1.0\r\n\r\n"},
        {S2C, "HTTP/1.0 404 No\r\nContent-Length: 0\r\n\r\n"},
    };
    const size_t gap[] = {0, 0, 0, 14, 0, 0, 0, 9};
    char *out = run_gaps(s, gap, 8);
    CHECK(strstr(out, "\"url\":\"/1\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.0\","
                      "\"status\":200,\"length\":12}") != NULL);
    CHECK(strstr(out, "\"url\":\"/2\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.0\","
                      "\"status\":200,\"length\":3}") != NULL);
    /* a hole in chunk framing ends /3 with what it had; /4 parses */
    CHECK(strstr(out, "\"url\":\"/3\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.0\","
                      "\"status\":200,\"length\":4}") != NULL);
    CHECK(strstr(out, "\"url\":\"/4\",\"http_method\":\"GET\",\"protocol\":\"HTTP/1.0\","
                      "\"status\":404,\"length\":0}") != NULL);
    vg_free(out);
}

VG_TEST(http_all_headers)
{
    test_cfg.http_headers = true;
    const struct fake_step s[] = {
        {C2S, "GET / HTTP/1.1\r\nHost: www.ethereal.com\r\nX-A: 1\r\nUser-Agent: u\r\n"
              "  v\r\nx-a: 2\r\nBroken\r\n\r\n"},
        {S2C, "HTTP/1.1 200 OK\r\nETag: \"q\"\r\nContent-Length: 2\r\n\r\nok"},
        {C2S, "GET /n HTTP/1.1\r\n\r\n"},
        {S2C, "HTTP/1.1 204 No\r\n\r\n"},
    };
    char *out = run(s, 4);
    test_cfg.http_headers = false;
    CHECK_STR(
        out,
        "{\"event_type\":\"http\",\"tx_id\":0,\"http\":{\"hostname\":\"www.ethereal.com\","
        "\"url\":\"/\",\"http_user_agent\":\"u\",\"http_method\":\"GET\","
        "\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":2,"
        "\"request_headers\":[{\"name\":\"Host\",\"value\":\"www.ethereal.com\"},"
        "{\"name\":\"X-A\",\"value\":\"1, 2\"},{\"name\":\"User-Agent\",\"value\":\"u  v\"},"
        "{\"name\":\"\",\"value\":\"Broken\"}],"
        "\"response_headers\":[{\"name\":\"ETag\",\"value\":\"\\\"q\\\"\"},"
        "{\"name\":\"Content-Length\",\"value\":\"2\"}]}}\n"
        "{\"event_type\":\"http\",\"tx_id\":1,\"http\":{\"url\":\"/n\",\"http_method\":\"GET\","
        "\"protocol\":\"HTTP/1.1\",\"status\":204,\"length\":0}}\n");
    vg_free(out);
}

VG_TEST(http_all_headers_bounded)
{
    /* many repeated and distinct headers: the slice bound holds, the record stays valid */
    static char big[40000];
    size_t o = 0;
    o += (size_t)snprintf(big + o, sizeof(big) - o, "GET / HTTP/1.1\r\n");
    for (int i = 0; o + 80 < sizeof(big); i++) {
        o += (size_t)snprintf(big + o, sizeof(big) - o, "%s%d: %s\r\n", i % 3 ? "H" : "Same",
                              i % 3 ? i : 0, "0123456789012345678901234567890123456789");
    }
    memcpy(big + o, "\r\n", 3);
    test_cfg.http_headers = true;
    const struct fake_step s[] = {{C2S, big}, {S2C, "HTTP/1.1 204 No\r\n\r\n"}};
    int rc;
    char *out = fake_run(&vg_sensor_proto_http, s, 2, 0, 10000, &rc);
    test_cfg.http_headers = false;
    CHECK(strstr(out, "\"request_headers\":[{\"name\":\"Same0\"") != NULL);
    CHECK(strstr(out, "\"status\":204") != NULL);
    CHECK(strlen(out) < 16000);
    vg_free(out);
}

VG_TEST(http_probe)
{
    CHECK_EQ_INT(vg_sensor_proto_http.probe((const uint8_t *)"GET / HTTP/1.1", 14, C2S), 1);
    CHECK_EQ_INT(vg_sensor_proto_http.probe((const uint8_t *)"GE", 2, C2S), -1);
    CHECK_EQ_INT(vg_sensor_proto_http.probe((const uint8_t *)"\x16\x03\x01", 3, C2S), 0);
    CHECK_EQ_INT(vg_sensor_proto_http.probe((const uint8_t *)"HTTP/1.1 200", 12, S2C), 1);
}

/* Throughput of the parser on a synthetic keep-alive stream, without and with all headers
 * logged (printed, not asserted). */
static void throughput(bool headers)
{
    static const char req[] = "GET /some/path/to/resource?with=query&and=more HTTP/1.1\r\n"
                              "Host: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux)\r\n"
                              "Accept: */*\r\nAccept-Encoding: gzip\r\nCookie: a=b; c=d\r\n\r\n";
    static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                              "Server: nginx\r\nContent-Length: 1024\r\n\r\n";
    static char body[1024];
    memset(body, 'x', sizeof(body));
    test_cfg.http_headers = headers;
    void *st = vg_sensor_proto_http.state_new();
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    size_t bytes = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 200000; i++) {
        c.dir = C2S;
        vg_sensor_proto_http.data(&c, st, (const uint8_t *)req, sizeof(req) - 1);
        c.dir = S2C;
        vg_sensor_proto_http.data(&c, st, (const uint8_t *)rsp, sizeof(rsp) - 1);
        vg_sensor_proto_http.data(&c, st, (const uint8_t *)body, sizeof(body));
        bytes += sizeof(req) - 1 + sizeof(rsp) - 1 + sizeof(body);
        if (fake_out.len > (1u << 20)) {
            vg_sbuf_reset(&fake_out);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    vg_sensor_proto_http.state_free(st);
    test_cfg.http_headers = false;
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    fprintf(stderr, "  http parser%s: %.0f MB/s, %.0f tx/s (records included)\n",
            headers ? " (all headers)" : "", (double)bytes / s / 1e6, 200000 / s);
    vg_sbuf_reset(&fake_out);
}

VG_TEST(http_throughput)
{
    throughput(false);
    throughput(true);
}
