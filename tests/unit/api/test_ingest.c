/*
 * test_ingest.c — HTTP ingest into a real journal over loopback: JSON lines, arrays and
 * text lines kept byte for byte with their meta (peer, tenant, dedupe keys), all or nothing
 * on a bad document (with its line), Splunk HEC event/raw/health with Splunk's error codes
 * and token errors, back-pressure (503 + Retry-After after the wait, recovery when the
 * pipeline catches up, a prompt answer at shutdown), 8 concurrent clients x 1000 requests
 * with nothing lost or doubled, and the ingest metrics.
 */
#include "api_test.h"

#include <pthread.h>
#include <sodium.h>

static uint64_t read_seq;

/* Records after seq from, as "data<TAB>meta" lines (\x1f shown as '|'). */
static size_t collect(struct rig *r, uint64_t from, size_t max, struct vg_sbuf *out)
{
    struct vg_journal_reader *rd = vg_journal_reader_open(r->j, from);
    struct vg_rec rec;
    uint64_t seq;
    size_t n = 0;
    vg_sbuf_reset(out);
    while (n < max && vg_journal_next(rd, &rec, &seq, 200) == VG_OK) {
        vg_sbuf_add(out, rec.data, rec.len);
        vg_sbuf_addc(out, '\t');
        for (uint32_t i = 0; i < rec.meta_len; i++) {
            vg_sbuf_addc(out, rec.meta[i] == '\x1f' ? '|' : rec.meta[i]);
        }
        vg_sbuf_addc(out, '\n');
        read_seq = seq;
        n++;
    }
    vg_journal_reader_close(rd);
    return n;
}

/* The meta every record of this connection carries: "peer=127.0.0.1:PORT|tenant=T". */
static bool meta_ok(const char *line, const char *tenant)
{
    char want[64];
    snprintf(want, sizeof(want), "|tenant=%s", tenant);
    const char *tab = strchr(line, '\t');
    return tab && !strncmp(tab + 1, "peer=127.0.0.1:", 15) && strstr(tab, want);
}

static bool open_ingest(struct rig *r, const struct vg_api_ingest_opts *io, uint64_t max_lag)
{
    vg_log_set_level(VG_LOG_ERROR);
    struct vg_api_ingest_opts d = {.input = 7, .hec_input = 8};
    read_seq = 0;
    return rig_open(r, NULL, io ? io : &d, max_lag, false) && rig_start(r);
}

#define RIG(r, io, lag)                                                                            \
    struct rig r;                                                                                  \
    char tok[128];                                                                                 \
    if (!open_ingest(&r, (io), (lag)) ||                                                           \
        !rig_token(&r, "shipper", VG_API_ROLE_INGEST, NULL, tok, sizeof(tok))) {                   \
        CHECK(!"rig");                                                                             \
        return;                                                                                    \
    }

/* Strip the meta column: just the records, one per line. */
static void data_only(const struct vg_sbuf *in, struct vg_sbuf *out)
{
    vg_sbuf_reset(out);
    for (const char *p = in->p; p && *p;) {
        const char *tab = strchr(p, '\t'), *nl = strchr(tab, '\n');
        vg_sbuf_add(out, p, (size_t)(tab - p));
        vg_sbuf_addc(out, '\n');
        p = nl + 1;
    }
}

VG_TEST(ndjson_array_and_text)
{
    RIG(r, NULL, 0);
    struct hresp h = {0};
    struct vg_sbuf got = VG_SBUF_INIT, data = VG_SBUF_INIT;
    char hdr[256];
    const char *nd = "{\"a\":1}\n\n  {\"b\": \"two\" , \"c\":[1,2]}\r\n{\"d\":{\"e\":null}}";
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, nd, &h), 200);
    CHECK_STR(h.body, "{\"accepted\":3}");
    CHECK_EQ_INT(collect(&r, 0, 10, &got), 3);
    data_only(&got, &data);
    CHECK_STR(data.p, "{\"a\":1}\n{\"b\": \"two\" , \"c\":[1,2]}\n{\"d\":{\"e\":null}}\n");
    CHECK(meta_ok(got.p, "default"));
    /* the input id travels with each record */
    struct vg_journal_reader *rd = vg_journal_reader_open(r.j, 0);
    struct vg_rec rec;
    uint64_t seq;
    CHECK(vg_journal_next(rd, &rec, &seq, 1000) == VG_OK && rec.input == 7);
    vg_journal_reader_close(rd);
    /* a pretty-printed document, and objects run together on a line */
    snprintf(hdr, sizeof(hdr), "%sContent-Type: application/json\r\n", tok);
    CHECK_EQ_INT(
        http1(r.port, "POST", "/api/v1/ingest", hdr, "{\n  \"x\": 1\n}{\"y\":2} {\"z\":3}", &h),
        200);
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 3);
    data_only(&got, &data);
    CHECK_STR(data.p, "{\n  \"x\": 1\n}\n{\"y\":2}\n{\"z\":3}\n");
    /* an array: each element's text as sent */
    CHECK_EQ_INT(
        http1(r.port, "POST", "/api/v1/ingest", hdr, " [ {\"k\":\"v1\"},\n{\"k\" : \"v2\"} ] ", &h),
        200);
    CHECK_STR(h.body, "{\"accepted\":2}");
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 2);
    data_only(&got, &data);
    CHECK_STR(data.p, "{\"k\":\"v1\"}\n{\"k\" : \"v2\"}\n");
    /* text lines: CR/LF trimmed, blank lines skipped */
    snprintf(hdr, sizeof(hdr), "%sContent-Type: text/plain; charset=utf-8\r\n", tok);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", hdr,
                       "<13>Jan  1 00:00:00 host sshd[1]: hello\r\n\n   \nsecond {line}\n", &h),
                 200);
    CHECK_STR(h.body, "{\"accepted\":2}");
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 2);
    data_only(&got, &data);
    CHECK_STR(data.p, "<13>Jan  1 00:00:00 host sshd[1]: hello\nsecond {line}\n");
    /* empty */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, " \n ", &h), 400);
    CHECK(strstr(h.body, "\"code\":\"no_documents\"") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "[]", &h), 400);
    vg_sbuf_fini(&got);
    vg_sbuf_fini(&data);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(bad_document_all_or_nothing)
{
    RIG(r, NULL, 0);
    struct hresp h = {0};
    uint64_t before = vg_journal_next_seq(r.j);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok,
                       "{\"a\":1}\n{\"b\":2}\n{\"c\":3,}\n{\"d\":4}\n", &h),
                 400);
    CHECK_STR(h.body, "{\"error\":{\"code\":\"invalid_document\",\"message\":\"line 3, column 8: "
                      "expected a string key in object\",\"line\":3,\"document\":2}}");
    /* a document left open: the error says where it started */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"a\":1\n{\"b\":2}\n", &h), 400);
    CHECK(strstr(h.body, "line 2, column 1: expected ',' or '}' in object (document starting "
                         "on line 1)") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"a\":1}\n42\n", &h), 400);
    CHECK(strstr(h.body, "line 2, column 1: expected a JSON object") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"a\":\"\xff\"}\n", &h), 400);
    CHECK(strstr(h.body, "invalid UTF-8") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "[{\"a\":1},\n 7]", &h), 400);
    CHECK(strstr(h.body, "line 2, column 2: expected a JSON object") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "[{\"a\":1}] x", &h), 400);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"a\":1} {\"b\":", &h), 400);
    CHECK(strstr(h.body, "\"document\":1") != NULL);
    CHECK_EQ_INT(vg_journal_next_seq(r.j), before); /* nothing appended */
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(dedupe_keys_and_tenants)
{
    RIG(r, NULL, 0);
    struct hresp h = {0};
    struct vg_sbuf got = VG_SBUF_INIT;
    char hdr[256], acme[128], adm[128];
    /* Idempotency-Key: one key per document position */
    snprintf(hdr, sizeof(hdr), "%sIdempotency-Key: batch-17\r\n", tok);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", hdr,
                       "{\"a\":1}\n{\"event\":{\"id\":\"ignored-here\"}}\n", &h),
                 200);
    CHECK_EQ_INT(collect(&r, 0, 10, &got), 2);
    CHECK(strstr(got.p, "{\"a\":1}\tpeer=127.0.0.1:") != NULL);
    CHECK(strstr(got.p, "|tenant=default|key=default/batch-17/0\n") != NULL);
    CHECK(strstr(got.p, "|tenant=default|key=default/batch-17/1\n") != NULL);
    /* event.id, dotted or nested, string or number */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok,
                       "{\"event.id\":\"abc-1\"}\n{\"event\":{\"id\":42}}\n{\"event\":\"x\"}\n"
                       "{\"event.id\":\"bad\\u001fid\"}",
                       &h),
                 200);
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 4);
    CHECK(strstr(got.p, "|tenant=default|key=default/id/abc-1\n") != NULL);
    CHECK(strstr(got.p, "|tenant=default|key=default/id/42\n") != NULL);
    CHECK(strstr(got.p, "{\"event\":\"x\"}\tpeer=") && !strstr(got.p, "key=default/id/bad"));
    /* bad Idempotency-Keys */
    snprintf(hdr, sizeof(hdr), "%sIdempotency-Key: id\r\n", tok);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", hdr, "{}", &h), 400);
    /* the principal's tenant; an admin of default may choose */
    CHECK(rig_token(&r, "acme", VG_API_ROLE_INGEST, "acme", acme, sizeof(acme)));
    CHECK(rig_token(&r, "root", VG_API_ROLE_ADMIN, NULL, adm, sizeof(adm)));
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", acme, "{\"event.id\":\"e1\"}", &h), 200);
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 1);
    CHECK(meta_ok(got.p, "acme") && strstr(got.p, "key=acme/id/e1\n"));
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest?tenant=default", acme, "{}", &h), 403);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest?tenant=globex", adm, "{}", &h), 200);
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 1);
    CHECK(meta_ok(got.p, "globex"));
    /* no credentials, read role (above ingest) */
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", NULL, "{}", &h), 401);
    CHECK(strstr(h.body, "\"error\":{\"code\":\"unauthorized\"") != NULL);
    vg_sbuf_fini(&got);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(hec_event_and_raw)
{
    RIG(r, NULL, 0);
    struct hresp h = {0};
    struct vg_sbuf got = VG_SBUF_INIT, data = VG_SBUF_INIT;
    char hdr[256], v[64];
    snprintf(hdr, sizeof(hdr), "Authorization: Splunk %s", tok + 22);
    const char *body =
        "{\"time\":1700000000.5,\"host\":\"web1\",\"source\":\"/var/log/x\",\"sourcetype\":"
        "\"access\",\"index\":\"main\",\"event\":{\"user\":\"bob\",\"action\":\"login\"},"
        "\"fields\":{\"dc\":\"eu\",\"tags\":[\"a\",\"b\"]}}\n"
        "{\"event\":\"plain \\\"text\\\" line\",\"time\":\"1700000001\"}"
        "{\"event\":{\"@timestamp\":\"2020-01-01T00:00:00Z\",\"event\":{\"id\":\"k1\"}},"
        "\"time\":5}"
        "{\"event\":[1,2]}";
    CHECK_EQ_INT(http1(r.port, "POST", "/services/collector/event", hdr, body, &h), 200);
    CHECK_STR(h.body, "{\"text\":\"Success\",\"code\":0}");
    CHECK_EQ_INT(collect(&r, 0, 10, &got), 4);
    data_only(&got, &data);
    CHECK_STR(data.p,
              "{\"@timestamp\":\"2023-11-14T22:13:20.500000Z\",\"user\":\"bob\",\"action\":"
              "\"login\",\"hec\":{\"time\":1700000000.5,\"host\":\"web1\",\"source\":"
              "\"/var/log/x\",\"sourcetype\":\"access\",\"index\":\"main\",\"fields\":{\"dc\":"
              "\"eu\",\"tags\":[\"a\",\"b\"]}}}\n"
              "{\"@timestamp\":\"2023-11-14T22:13:21.000000Z\",\"message\":\"plain \\\"text\\\" "
              "line\",\"hec\":{\"time\":1700000001.000000}}\n"
              "{\"@timestamp\":\"2020-01-01T00:00:00Z\",\"event\":{\"id\":\"k1\"},\"hec\":{"
              "\"time\":5}}\n"
              "{\"message\":\"[1,2]\",\"hec\":{}}\n");
    CHECK(strstr(got.p, "|tenant=default|key=default/id/k1\n") != NULL);
    /* the other paths, Basic with the token as password, query defaults for raw */
    CHECK_EQ_INT(http1(r.port, "POST", "/services/collector", tok, "{\"event\":\"e\"}", &h), 200);
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 1);
    char b64[128], basic[192];
    char cred[96];
    snprintf(cred, sizeof(cred), "x:%.46s", tok + 22);
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)cred, strlen(cred),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(basic, sizeof(basic), "Authorization: Basic %s\r\n", b64);
    CHECK_EQ_INT(http1(r.port, "POST",
                       "/services/collector/raw?host=h1&sourcetype=syslog&channel=c", basic,
                       "line one\nline \"two\"\r\n\n", &h),
                 200);
    CHECK_STR(h.body, "{\"text\":\"Success\",\"code\":0}");
    CHECK_EQ_INT(collect(&r, read_seq, 10, &got), 2);
    data_only(&got, &data);
    CHECK_STR(data.p, "{\"message\":\"line one\",\"hec\":{\"host\":\"h1\",\"sourcetype\":"
                      "\"syslog\"}}\n{\"message\":\"line \\\"two\\\"\",\"hec\":{\"host\":\"h1\","
                      "\"sourcetype\":\"syslog\"}}\n");
    struct vg_journal_reader *rd = vg_journal_reader_open(r.j, read_seq - 1);
    struct vg_rec rec;
    uint64_t seq;
    CHECK(vg_journal_next(rd, &rec, &seq, 1000) == VG_OK && rec.input == 8);
    vg_journal_reader_close(rd);
    /* health needs no token */
    CHECK_EQ_INT(http1(r.port, "GET", "/services/collector/health", NULL, NULL, &h), 200);
    CHECK_STR(h.body, "{\"text\":\"HEC is healthy\",\"code\":17}");
    CHECK_STR(hr_header(&h, "Content-Type", v, sizeof(v)), "application/json");
    vg_sbuf_fini(&got);
    vg_sbuf_fini(&data);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(hec_errors)
{
    RIG(r, NULL, 0);
    struct hresp h = {0};
    uint64_t before = vg_journal_next_seq(r.j);
    const char *ev = "/services/collector/event";
    CHECK_EQ_INT(http1(r.port, "POST", ev, tok, "", &h), 400);
    CHECK_STR(h.body, "{\"text\":\"No data\",\"code\":5}");
    CHECK_EQ_INT(http1(r.port, "POST", "/services/collector/raw", tok, "\n\n", &h), 400);
    CHECK_STR(h.body, "{\"text\":\"No data\",\"code\":5}");
    CHECK_EQ_INT(http1(r.port, "POST", ev, tok, "{\"event\":\"a\"}{\"event\":", &h), 400);
    CHECK_STR(h.body, "{\"text\":\"Invalid data format\",\"code\":6,\"invalid-event-number\":1}");
    CHECK_EQ_INT(http1(r.port, "POST", ev, tok, "{\"event\":\"a\"} x", &h), 400);
    CHECK_STR(h.body, "{\"text\":\"Invalid data format\",\"code\":6,\"invalid-event-number\":1}");
    CHECK_EQ_INT(http1(r.port, "POST", ev, tok, "{\"host\":\"x\"}", &h), 400);
    CHECK_STR(h.body,
              "{\"text\":\"Event field is required\",\"code\":12,\"invalid-event-number\":0}");
    CHECK_EQ_INT(http1(r.port, "POST", ev, tok, "{\"event\":\"a\"}{\"event\":\"\"}", &h), 400);
    CHECK_STR(h.body,
              "{\"text\":\"Event field cannot be blank\",\"code\":13,\"invalid-event-number\":1}");
    CHECK_EQ_INT(
        http1(r.port, "POST", ev, tok, "{\"event\":\"x\",\"fields\":{\"a\":{\"b\":1}}}", &h), 400);
    CHECK_STR(h.body, "{\"text\":\"Error in handling indexed fields\",\"code\":15,"
                      "\"invalid-event-number\":0}");
    CHECK_EQ_INT(http1(r.port, "POST", ev, tok, "{\"event\":\"x\",\"time\":\"soon\"}", &h), 400);
    CHECK(strstr(h.body, "\"code\":6") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", ev, tok, "{\"event\":\"x\",\"host\":7}", &h), 400);
    CHECK_EQ_INT(vg_journal_next_seq(r.j), before);
    /* token errors in Splunk's words */
    CHECK_EQ_INT(http1(r.port, "POST", ev, NULL, "{\"event\":\"x\"}", &h), 401);
    CHECK_STR(h.body, "{\"text\":\"Token is required\",\"code\":2}");
    CHECK_EQ_INT(http1(r.port, "POST", ev,
                       "Authorization: Splunk vg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
                       "{\"event\":\"x\"}", &h),
                 403);
    CHECK_STR(h.body, "{\"text\":\"Invalid token\",\"code\":4}");
    CHECK_EQ_INT(
        http1(r.port, "POST", ev, "Authorization: Negotiate abc\r\n", "{\"event\":\"x\"}", &h),
        401);
    CHECK_STR(h.body, "{\"text\":\"Invalid authorization\",\"code\":3}");
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(too_many_documents)
{
    struct vg_api_ingest_opts io = {.max_docs = 2};
    RIG(r, &io, 0);
    struct hresp h = {0};
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{}\n{}\n", &h), 200);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{}\n{}\n{}\n", &h), 413);
    CHECK(strstr(h.body, "\"code\":\"too_many_documents\"") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", "/services/collector", tok,
                       "{\"event\":1}{\"event\":2}{\"event\":3}", &h),
                 413);
    hresp_free(&h);
    rig_close(&r);
}

struct waiter {
    int port;
    const char *tok;
    int status;
    uint64_t ns;
};

static void *wait_request(void *p)
{
    struct waiter *w = p;
    struct hresp h = {0};
    uint64_t t0 = vg_clock_ns();
    w->status = http1(w->port, "POST", "/api/v1/ingest", w->tok, "{\"late\":1}", &h);
    w->ns = vg_clock_ns() - t0;
    hresp_free(&h);
    return NULL;
}

VG_TEST(back_pressure)
{
    struct vg_api_ingest_opts io = {.max_wait_ms = 300};
    RIG(r, &io, 1); /* a 1-byte bound and no consumer: full after one request */
    struct hresp h = {0};
    char v[64];
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"first\":1}", &h), 200);
    uint64_t before = vg_journal_next_seq(r.j), t0 = vg_clock_ns();
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"second\":1}", &h), 503);
    CHECK(vg_clock_ns() - t0 >= 300000000ull); /* it waited first */
    CHECK_STR(hr_header(&h, "Retry-After", v, sizeof(v)), "5");
    CHECK(strstr(h.body, "\"code\":\"busy\"") != NULL);
    CHECK_EQ_INT(http1(r.port, "POST", "/services/collector", tok, "{\"event\":\"x\"}", &h), 503);
    CHECK_STR(h.body, "{\"text\":\"Server is busy\",\"code\":9}");
    CHECK_EQ_INT(http1(r.port, "GET", "/services/collector/health", NULL, NULL, &h), 503);
    CHECK_STR(h.body, "{\"text\":\"HEC is unhealthy, queues are full\",\"code\":18}");
    CHECK_EQ_INT(vg_journal_next_seq(r.j), before);
    /* the pipeline catches up: accepted again */
    vg_journal_release(r.j, before - 1);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"third\":1}", &h), 200);
    CHECK_EQ_INT(http1(r.port, "GET", "/services/collector/health", NULL, NULL, &h), 200);
    vg_journal_release(r.j, vg_journal_next_seq(r.j) - 1);
    CHECK_EQ_INT(http1(r.port, "GET", "/metrics", "", NULL, &h), 401);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(back_pressure_released_during_wait)
{
    struct vg_api_ingest_opts io = {.max_wait_ms = 20000};
    RIG(r, &io, 1);
    struct hresp h = {0};
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\"first\":1}", &h), 200);
    struct waiter w = {.port = r.port, .tok = tok};
    pthread_t t;
    pthread_create(&t, NULL, wait_request, &w);
    usleep(300000);
    vg_journal_release(r.j, vg_journal_next_seq(r.j) - 1); /* the consumer frees space */
    pthread_join(t, NULL);
    CHECK_EQ_INT(w.status, 200);
    CHECK(w.ns >= 250000000ull && w.ns < 5000000000ull);
    /* at shutdown a waiting request is answered promptly */
    pthread_create(&t, NULL, wait_request, &w);
    usleep(300000);
    uint64_t t0 = vg_clock_ns();
    vg_api_stop(r.api);
    pthread_join(t, NULL);
    CHECK(vg_clock_ns() - t0 < 5000000000ull);
    CHECK(w.status == 503 || w.status == -1);
    hresp_free(&h);
    rig_close(&r);
}

#define NTHREADS 8
#define NREQ     1000

struct client {
    int port, id, ok;
    const char *tok;
    bool hec;
};

static void *client_main(void *p)
{
    struct client *c = p;
    struct hc conn;
    struct hresp h = {0};
    char body[128];
    hc_init(&conn, c->port, false);
    for (int i = 0; i < NREQ; i++) {
        int n = c->hec ? snprintf(body, sizeof(body), "{\"event\":{\"t\":%d,\"i\":%d}}", c->id, i)
                       : snprintf(body, sizeof(body), "{\"t\":%d,\"i\":%d}", c->id, i);
        c->ok += hc_req(&conn, "POST", c->hec ? "/services/collector" : "/api/v1/ingest", c->tok,
                        body, (size_t)n, &h) == 200;
    }
    hc_fini(&conn);
    hresp_free(&h);
    return NULL;
}

VG_TEST(concurrent_clients_nothing_lost)
{
    RIG(r, NULL, 0);
    pthread_t t[NTHREADS];
    struct client c[NTHREADS];
    uint64_t t0 = vg_clock_ns();
    for (int i = 0; i < NTHREADS; i++) {
        c[i] = (struct client){.port = r.port, .id = i, .tok = tok, .hec = i % 2};
        pthread_create(&t[i], NULL, client_main, &c[i]);
    }
    int ok = 0;
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(t[i], NULL);
        ok += c[i].ok;
    }
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    CHECK_EQ_INT(ok, NTHREADS * NREQ);
    /* every document exactly once */
    static unsigned char seen[NTHREADS][NREQ];
    memset(seen, 0, sizeof(seen));
    struct vg_journal_reader *rd = vg_journal_reader_open(r.j, 0);
    struct vg_rec rec;
    uint64_t seq;
    size_t n = 0, bad = 0;
    while (vg_journal_next(rd, &rec, &seq, 500) == VG_OK) {
        const char *p = memmem(rec.data, rec.len, "{\"t\":", 5);
        char *end;
        long th = p ? strtol(p + 5, &end, 10) : -1, i = -1;
        if (p && !strncmp(end, ",\"i\":", 5)) {
            i = strtol(end + 5, NULL, 10);
        }
        if (th >= 0 && th < NTHREADS && i >= 0 && i < NREQ) {
            seen[th][i]++;
        } else {
            bad++;
        }
        n++;
    }
    vg_journal_reader_close(rd);
    size_t once = 0;
    for (int th = 0; th < NTHREADS; th++) {
        for (int i = 0; i < NREQ; i++) {
            once += seen[th][i] == 1;
        }
    }
    CHECK_EQ_INT(n, NTHREADS * NREQ);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(once, NTHREADS * NREQ);
    fprintf(stderr, "  %d requests in %.2f s (%.0f/s)\n", NTHREADS * NREQ, secs,
            NTHREADS * NREQ / secs);
    rig_close(&r);
}

VG_TEST(ingest_metrics)
{
    RIG(r, NULL, 0);
    struct hresp h = {0};
    char rd[128];
    CHECK(rig_token(&r, "reader", VG_API_ROLE_READ, NULL, rd, sizeof(rd)));
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{}\n{}\n{}\n", &h), 200);
    CHECK_EQ_INT(http1(r.port, "POST", "/api/v1/ingest", tok, "{\n", &h), 400);
    CHECK_EQ_INT(http1(r.port, "POST", "/services/collector/raw", tok, "a\nb\n", &h), 200);
    CHECK_EQ_INT(http1(r.port, "GET", "/metrics", rd, NULL, &h), 200);
    CHECK(strstr(h.body, "# TYPE vigie_ingest_http_documents_total counter\n") != NULL);
    CHECK(strstr(h.body, "vigie_ingest_http_requests_total{endpoint=\"ingest\"} 2\n") != NULL);
    CHECK(strstr(h.body, "vigie_ingest_http_documents_total{endpoint=\"ingest\"} 3\n") != NULL);
    CHECK(strstr(h.body, "vigie_ingest_http_documents_total{endpoint=\"hec_raw\"} 2\n") != NULL);
    CHECK(strstr(h.body, "vigie_ingest_http_rejected_total{endpoint=\"ingest\"} 1\n") != NULL);
    CHECK(strstr(h.body, "vigie_ingest_http_bytes_total{endpoint=\"ingest\"} 11\n") != NULL);
    CHECK(strstr(h.body, "vigie_ingest_http_busy_total{endpoint=\"hec_event\"} 0\n") != NULL);
    hresp_free(&h);
    rig_close(&r);
}
