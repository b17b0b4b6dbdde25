/*
 * test_act_http.c — http.webhook against a real HTTP server on 127.0.0.1 (a thread in this
 * test with a listening socket) that records every request: JSON body, Slack, Mattermost,
 * Teams and Adaptive Card shapes, the Idempotency-Key and X-Vigie-Run headers, custom
 * headers, PUT, the response body in the output (JSON and text, bounded), 503/429 →
 * retryable, 404 → not, a slow server → VG_ETIMEOUT retryable, connection refused →
 * retryable.
 */
#include "act_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

struct srv {
    int fd;
    int port;
    volatile int stop;
    pthread_t th;
    pthread_mutex_t mu;
    char method[16], path[256];
    char head[8192];
    char body[65536];
    int nreq;
};

static void srv_reply(int c, const char *path)
{
    char big[100000];
    const char *status = "200 OK", *ctype = "application/json", *body = "{\"ok\":true,\"id\":7}";
    if (strcmp(path, "/text") == 0) {
        ctype = "text/plain";
        body = "accepted";
    } else if (strcmp(path, "/503") == 0) {
        status = "503 Service Unavailable";
        body = "{\"error\":\"busy\"}";
    } else if (strcmp(path, "/429") == 0) {
        status = "429 Too Many Requests";
    } else if (strcmp(path, "/404") == 0) {
        status = "404 Not Found";
        body = "nope";
    } else if (strcmp(path, "/slow") == 0) {
        usleep(1500000);
    } else if (strcmp(path, "/big") == 0) {
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        body = big;
        ctype = "text/plain";
    }
    char h[512];
    int n = snprintf(h, sizeof(h),
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: "
                     "close\r\n\r\n",
                     status, ctype, strlen(body));
    if (send(c, h, (size_t)n, MSG_NOSIGNAL) < 0 || send(c, body, strlen(body), MSG_NOSIGNAL) < 0) {
        return;
    }
}

static void srv_handle(struct srv *s, int c)
{
    static char buf[200000];
    size_t len = 0;
    char *end = NULL;
    while (!end && len < sizeof(buf) - 1) {
        ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            return;
        }
        len += (size_t)n;
        buf[len] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) {
        return;
    }
    size_t hl = (size_t)(end - buf) + 4, cl = 0;
    const char *p = strcasestr(buf, "\r\nContent-Length:");
    if (p && p < end) {
        cl = strtoul(p + 17, NULL, 10);
    }
    while (len < hl + cl && len < sizeof(buf) - 1) {
        ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    buf[len] = 0;
    pthread_mutex_lock(&s->mu);
    sscanf(buf, "%15s %255s", s->method, s->path);
    snprintf(s->head, sizeof(s->head), "%.*s", (int)hl, buf);
    snprintf(s->body, sizeof(s->body), "%s", buf + hl);
    s->nreq++;
    pthread_mutex_unlock(&s->mu);
    srv_reply(c, s->path);
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    while (!s->stop) {
        struct pollfd pf = {s->fd, POLLIN, 0};
        if (poll(&pf, 1, 50) <= 0) {
            continue;
        }
        int c = accept(s->fd, NULL, NULL);
        if (c >= 0) {
            srv_handle(s, c);
            close(c);
        }
    }
    return NULL;
}

static bool srv_start(struct srv *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 16) < 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) < 0) {
        return false;
    }
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, srv_main, s) == 0;
}

static void srv_stop(struct srv *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
}

static int hook(struct srv *s, const char *path, const char *extra, int timeout_ms,
                struct act_run *ar)
{
    char in[2048];
    snprintf(in, sizeof(in), "{\"url\":\"http://127.0.0.1:%d%s\"%s%s}", s->port, path,
             extra[0] ? "," : "", extra);
    return act_run("http.webhook", in, NULL, timeout_ms, ar);
}

VG_TEST(webhook_json_body_and_headers)
{
    struct srv s;
    struct act_run ar = {0};
    CHECK(srv_start(&s));
    CHECK_EQ_INT(hook(&s, "/ok",
                      "\"body\":{\"alert\":{\"id\":5,\"host\":\"web-1\"},\"note\":\"a\\\"b\"},"
                      "\"headers\":{\"Authorization\":\"Bearer T0K\",\"X-Team\":\"soc\"}",
                      3000, &ar),
                 VG_OK);
    CHECK_EQ_INT(act_out_int(&ar, "status"), 200);
    const struct vg_json *b = ar.out ? vg_json_get(ar.out, "body") : NULL;
    CHECK(b && b->type == VG_JSON_OBJECT && vg_json_get(b, "id") && vg_json_get(b, "id")->u.i == 7);
    act_done(&ar);
    CHECK_STR(s.method, "POST");
    CHECK_STR(s.path, "/ok");
    CHECK_STR(s.body, "{\"alert\":{\"id\":5,\"host\":\"web-1\"},\"note\":\"a\\\"b\"}");
    CHECK(strstr(s.head, "\r\nIdempotency-Key: r-42/s1\r\n") != NULL);
    CHECK(strstr(s.head, "\r\nX-Vigie-Run: r-42\r\n") != NULL);
    CHECK(strstr(s.head, "\r\nAuthorization: Bearer T0K\r\n") != NULL);
    CHECK(strstr(s.head, "\r\nX-Team: soc\r\n") != NULL);
    CHECK(strcasestr(s.head, "\r\nContent-Type: application/json\r\n") != NULL);
    CHECK(strcasestr(s.head, "Expect:") == NULL);

    /* PUT, a text answer comes back as a string */
    CHECK_EQ_INT(hook(&s, "/text", "\"method\":\"PUT\",\"body\":{}", 3000, &ar), VG_OK);
    CHECK_STR(s.method, "PUT");
    CHECK_STR(act_out_str(&ar, "body"), "accepted");
    act_done(&ar);

    /* a big answer is bounded to 64 KiB and marked truncated */
    CHECK_EQ_INT(hook(&s, "/big", "\"body\":{}", 3000, &ar), VG_OK);
    CHECK_EQ_INT(strlen(act_out_str(&ar, "body")), 65536);
    CHECK(ar.out && vg_json_get(ar.out, "truncated")->type == VG_JSON_TRUE);
    act_done(&ar);
    srv_stop(&s);
}

VG_TEST(webhook_chat_formats)
{
    struct srv s;
    struct act_run ar = {0};
    CHECK(srv_start(&s));
    CHECK_EQ_INT(hook(&s, "/ok",
                      "\"format\":\"slack\",\"title\":\"SSH brute force\",\"text\":"
                      "\"host web-1: 50 failures\"",
                      3000, &ar),
                 VG_OK);
    act_done(&ar);
    CHECK_STR(s.body, "{\"text\":\"*SSH brute force*\\nhost web-1: 50 failures\"}");

    CHECK_EQ_INT(hook(&s, "/ok", "\"format\":\"mattermost\",\"text\":\"plain\"", 3000, &ar), VG_OK);
    act_done(&ar);
    CHECK_STR(s.body, "{\"text\":\"plain\"}");

    CHECK_EQ_INT(hook(&s, "/ok", "\"format\":\"teams\",\"title\":\"T\",\"text\":\"x\"", 3000, &ar),
                 VG_OK);
    act_done(&ar);
    struct vg_arena *a = vg_arena_create(4096);
    const struct vg_json *d = act_json(a, s.body, strlen(s.body));
    CHECK(d && vg_json_str_is(vg_json_get(d, "@type"), "MessageCard"));
    CHECK(d && vg_json_str_is(vg_json_get(d, "title"), "T"));
    CHECK(d && vg_json_str_is(vg_json_get(d, "text"), "x"));

    CHECK_EQ_INT(
        hook(&s, "/ok", "\"format\":\"teams_adaptive\",\"title\":\"T\",\"text\":\"x\"", 3000, &ar),
        VG_OK);
    act_done(&ar);
    d = act_json(a, s.body, strlen(s.body));
    const struct vg_json *att = d ? vg_json_get(d, "attachments") : NULL;
    CHECK(att && att->n == 1);
    if (att && att->n == 1) {
        const struct vg_json *card = vg_json_get(&att->u.items[0], "content");
        CHECK(vg_json_str_is(vg_json_get(&att->u.items[0], "contentType"),
                             "application/vnd.microsoft.card.adaptive"));
        CHECK(card && vg_json_str_is(vg_json_get(card, "type"), "AdaptiveCard"));
        CHECK(card && vg_json_get(card, "body")->n == 2);
    }
    vg_arena_destroy(a);
    srv_stop(&s);
}

VG_TEST(webhook_status_mapping)
{
    struct srv s;
    struct act_run ar = {0};
    CHECK(srv_start(&s));
    CHECK_EQ_INT(hook(&s, "/503", "\"body\":{}", 3000, &ar), VG_EIO);
    CHECK(ar.res.retryable);
    CHECK(strstr(ar.res.err, "HTTP 503") != NULL);
    CHECK_EQ_INT(act_out_int(&ar, "status"), 503);
    act_done(&ar);
    CHECK_EQ_INT(hook(&s, "/429", "\"body\":{}", 3000, &ar), VG_EIO);
    CHECK(ar.res.retryable);
    act_done(&ar);
    CHECK_EQ_INT(hook(&s, "/404", "\"body\":{}", 3000, &ar), VG_EIO);
    CHECK(!ar.res.retryable);
    CHECK(strstr(ar.res.err, "HTTP 404") != NULL);
    act_done(&ar);

    /* the step deadline (300 ms) is shorter than the server's delay */
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(hook(&s, "/slow", "\"body\":{}", 300, &ar), VG_ETIMEOUT);
    CHECK(vg_clock_ns() - t0 < 1200000000u);
    CHECK(ar.res.retryable);
    act_done(&ar);
    /* and the timeout_ms parameter when it is the smaller */
    CHECK_EQ_INT(hook(&s, "/slow", "\"body\":{},\"timeout_ms\":200", 10000, &ar), VG_ETIMEOUT);
    act_done(&ar);
    srv_stop(&s);

    /* nothing listens any more: connection refused is retryable */
    CHECK_EQ_INT(hook(&s, "/ok", "\"body\":{}", 2000, &ar), VG_EIO);
    CHECK(ar.res.retryable);
    act_done(&ar);
}

VG_TEST(webhook_tls_verification_is_on)
{
    /* a plain-HTTP server spoken to as HTTPS fails the handshake: an error, never a send */
    struct srv s;
    struct act_run ar = {0};
    char in[256];
    CHECK(srv_start(&s));
    snprintf(in, sizeof(in), "{\"url\":\"https://127.0.0.1:%d/ok\",\"body\":{}}", s.port);
    CHECK(act_run("http.webhook", in, NULL, 2000, &ar) != VG_OK);
    act_done(&ar);
    CHECK_EQ_INT(s.nreq, 0);
    srv_stop(&s);
}
