/*
 * test_stream.c — streamed responses of the API framework (vg_api_resp_stream, the base of
 * the console's server-sent events) on a real loopback socket: a producer's chunks arrive in
 * order with the security headers and the stream's own content type; a stream ends within
 * the 5 s recheck when its token is revoked or its session closed; stopping the server while
 * a producer waits returns promptly; a stream does not keep an idle session alive; a thread
 * pool refuses streams; an error status after vg_api_resp_stream sends the error body (and
 * frees the producer's state).
 */
#include "api/api_int.h"
#include "api_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

struct producer {
    int chunks; /* chunks to send, then end; < 0: wait (alive) for ever */
    int sent;
};

static size_t produce(void *ctx, struct vg_api_stream *s, char *buf, size_t size)
{
    struct producer *p = ctx;
    if (p->chunks < 0) {
        while (vg_api_stream_alive(s)) {
            struct timespec ts = {0, 20 * 1000000L};
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    if (p->sent == p->chunks) {
        return 0;
    }
    int n = snprintf(buf, size, "data: %d\n\n", ++p->sent);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static atomic_int freed;

static void producer_free(void *ctx)
{
    vg_free(ctx);
    atomic_fetch_add(&freed, 1);
}

static int h_stream(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct producer *p = vg_calloc(1, sizeof(*p));
    if (!p) {
        return VG_ENOMEM;
    }
    p->chunks = (int)(intptr_t)ctx;
    int rc = vg_api_resp_stream(req, resp, produce, p, producer_free);
    if (rc != VG_OK) {
        vg_api_resp_error(resp, 501, "not_implemented", "%s", vg_strerror(rc));
        return rc;
    }
    resp->content_type = "text/event-stream";
    return VG_OK;
}

/* A stream whose handler then fails: the error goes out, the producer's state is freed. */
static int h_stream_then_fail(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(ctx);
    struct producer *p = vg_calloc(1, sizeof(*p));
    if (!p || vg_api_resp_stream(req, resp, produce, p, producer_free) != VG_OK) {
        return VG_ENOMEM;
    }
    vg_api_resp_error(resp, 409, "conflict", "changed my mind");
    return VG_OK;
}

static bool open_streams(struct rig *r, const struct vg_api_opts *o)
{
    return rig_open(r, o, NULL, 0, false) &&
           vg_api_route(r->api, "GET", "/s/three", VG_API_ROLE_READ, h_stream, (void *)3) ==
               VG_OK &&
           vg_api_route(r->api, "GET", "/s/wait", VG_API_ROLE_READ, h_stream, (void *)-1) ==
               VG_OK &&
           vg_api_route(r->api, "GET", "/s/fail", VG_API_ROLE_READ, h_stream_then_fail, NULL) ==
               VG_OK &&
           rig_start(r);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

VG_TEST(chunks_in_order_with_headers)
{
    struct rig r;
    char auth[128], v[512];
    struct hresp h = {0};
    atomic_store(&freed, 0);
    if (!open_streams(&r, NULL) ||
        !rig_token(&r, "reader", VG_API_ROLE_READ, "default", auth, sizeof(auth))) {
        CHECK(!"rig");
        return;
    }
    CHECK_EQ_INT(http1(r.port, "GET", "/s/three", auth, NULL, &h), 200);
    CHECK_STR(h.body, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
    CHECK_STR(hr_header(&h, "Content-Type", v, sizeof(v)), "text/event-stream");
    CHECK_STR(hr_header(&h, "Transfer-Encoding", v, sizeof(v)), "chunked");
    CHECK_STR(hr_header(&h, "Content-Security-Policy", v, sizeof(v)), VG_API_CSP);
    CHECK_STR(hr_header(&h, "Cache-Control", v, sizeof(v)), "no-store");
    /* still authorised like any route */
    CHECK_EQ_INT(http1(r.port, "GET", "/s/three", NULL, NULL, &h), 401);
    /* an error after vg_api_resp_stream: the error body, the state freed */
    CHECK_EQ_INT(http1(r.port, "GET", "/s/fail", auth, NULL, &h), 409);
    CHECK(h.body && strstr(h.body, "changed my mind"));
    hresp_free(&h);
    rig_close(&r);
    CHECK_EQ_INT(atomic_load(&freed), 2); /* the streamed one and the failed one */
}

struct waiter {
    int port;
    char hdr[256];
    int status;
    double took;
    atomic_int done;
};

static void *wait_stream(void *arg)
{
    struct waiter *w = arg;
    struct hresp h = {0};
    double t0 = now_s();
    w->status = http1(w->port, "GET", "/s/wait", w->hdr, NULL, &h);
    w->took = now_s() - t0;
    atomic_store(&w->done, 1);
    hresp_free(&h);
    return NULL;
}

VG_TEST(stream_ends_when_its_credentials_do)
{
    struct rig r;
    struct waiter tok = {0}, ses = {0};
    char sid[VG_API_SID_SIZE], csrf[VG_API_SID_SIZE];
    if (!open_streams(&r, NULL) ||
        !rig_token(&r, "watcher", VG_API_ROLE_READ, "default", tok.hdr, sizeof(tok.hdr))) {
        CHECK(!"rig");
        return;
    }
    struct vg_api_auth *a = vg_api_get_auth(r.api);
    CHECK_EQ_INT(vg_api_user_add(a, "ana", "correct horse battery", VG_API_ROLE_ANALYST, "default"),
                 VG_OK);
    CHECK_EQ_INT(vg_api_session_open(a, "ana", sid, csrf), VG_OK);
    snprintf(ses.hdr, sizeof(ses.hdr), "Cookie: vigie_session=%s\r\n", sid);
    tok.port = ses.port = r.port;
    pthread_t t1, t2;
    pthread_create(&t1, NULL, wait_stream, &tok);
    pthread_create(&t2, NULL, wait_stream, &ses);
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
    double t0 = now_s();
    CHECK_EQ_INT(vg_api_token_revoke(a, "watcher"), VG_OK);
    vg_api_session_close(a, sid);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    double waited = now_s() - t0;
    CHECK_EQ_INT(tok.status, 200);
    CHECK_EQ_INT(ses.status, 200);
    CHECK(tok.took > 0.9 && ses.took > 0.9); /* they did stream until then */
    CHECK(waited < 7.0);                     /* the 5 s recheck ended them */
    rig_close(&r);
}

VG_TEST(stop_while_streaming_and_thread_pool)
{
    struct rig r;
    struct waiter w = {0};
    if (!open_streams(&r, NULL) ||
        !rig_token(&r, "w", VG_API_ROLE_READ, "default", w.hdr, sizeof(w.hdr))) {
        CHECK(!"rig");
        return;
    }
    w.port = r.port;
    pthread_t t;
    pthread_create(&t, NULL, wait_stream, &w);
    struct timespec ts = {0, 500 * 1000000L};
    nanosleep(&ts, NULL);
    double t0 = now_s();
    vg_api_stop(r.api);
    double stop = now_s() - t0;
    pthread_join(t, NULL);
    CHECK(stop < 2.0);
    CHECK_EQ_INT(w.status, 200);
    rig_close(&r);

    /* a pool of epoll threads cannot hold a waiting producer: refused */
    struct vg_api_opts o = {.threads = 2};
    struct hresp h = {0};
    char auth[128];
    if (!open_streams(&r, &o) ||
        !rig_token(&r, "p", VG_API_ROLE_READ, "default", auth, sizeof(auth))) {
        CHECK(!"rig");
        return;
    }
    CHECK_EQ_INT(http1(r.port, "GET", "/s/three", auth, NULL, &h), 501);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(stream_does_not_keep_an_idle_session_alive)
{
    /* sessions idle for 7 s expire; the stream's rechecks (5 s, 10 s) must not refresh it, so
       the one at 10 s finds it expired (refreshing at 5 s would keep it alive for ever) */
    struct vg_api_opts o = {.session_idle_ms = 7000};
    struct rig r;
    struct waiter w = {0};
    char sid[VG_API_SID_SIZE], csrf[VG_API_SID_SIZE];
    if (!open_streams(&r, &o)) {
        CHECK(!"rig");
        return;
    }
    struct vg_api_auth *a = vg_api_get_auth(r.api);
    CHECK_EQ_INT(vg_api_user_add(a, "ida", "correct horse battery", VG_API_ROLE_READ, "default"),
                 VG_OK);
    CHECK_EQ_INT(vg_api_session_open(a, "ida", sid, csrf), VG_OK);
    snprintf(w.hdr, sizeof(w.hdr), "Cookie: vigie_session=%s\r\n", sid);
    w.port = r.port;
    w.took = -1;
    pthread_t t;
    pthread_create(&t, NULL, wait_stream, &w);
    double t0 = now_s();
    while (now_s() - t0 < 14.0 && atomic_load(&w.done) == 0) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    bool ended = atomic_load(&w.done) != 0;
    vg_api_stop(r.api); /* if it did not end, this does */
    pthread_join(t, NULL);
    CHECK(ended);
    CHECK_EQ_INT(w.status, 200);
    CHECK(w.took > 9.0 && w.took < 13.5); /* ended by the recheck 10 s in */
    rig_close(&r);
}
