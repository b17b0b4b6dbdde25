/*
 * test_act_mail.c — mail.send against a minimal SMTP server on 127.0.0.1 (a thread in this
 * test speaking 220, EHLO/HELO, MAIL, RCPT, DATA, QUIT): envelope, headers (From, To,
 * Subject — RFC 2047 for UTF-8 —, Message-ID from the idempotency key, stable across
 * retries), CRLF body with dot-stuffing; a 550 recipient is not retryable, a 451 is, a
 * dead server is; mail without smtp_url fails clearly.
 */
#include "act_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

struct smtp {
    int fd, port;
    pthread_t th;
    char from[256], rcpt[1024], data[16384];
};

static bool line_read(int c, char *buf, size_t n)
{
    size_t len = 0;
    while (len + 1 < n) {
        if (read(c, buf + len, 1) != 1) {
            return false;
        }
        if (buf[len++] == '\n') {
            break;
        }
    }
    buf[len] = 0;
    return true;
}

static void say(int c, const char *s)
{
    if (send(c, s, strlen(s), MSG_NOSIGNAL) < 0) {
        return;
    }
}

/* Append str to buf (size bytes) when it fits whole; what does not fit is dropped. */
static void append_whole(char *buf, size_t size, const char *str)
{
    size_t used = strlen(buf);
    if (used + strlen(str) < size) {
        snprintf(buf + used, size - used, "%s", str);
    }
}

static void smtp_session(struct smtp *s, int c)
{
    char line[2048];
    bool in_data = false;
    say(c, "220 test ESMTP\r\n");
    while (line_read(c, line, sizeof(line))) {
        if (in_data) {
            if (strcmp(line, ".\r\n") == 0) {
                in_data = false;
                say(c, "250 queued\r\n");
            } else {
                append_whole(s->data, sizeof(s->data), line);
            }
        } else if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
            say(c, "250 test\r\n");
        } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
            snprintf(s->from, sizeof(s->from), "%.200s", line + 10);
            say(c, "250 ok\r\n");
        } else if (!strncasecmp(line, "RCPT TO:", 8)) {
            bool rej = strstr(line, "nobody@") != NULL, later = strstr(line, "later@") != NULL;
            if (!rej && !later && strlen(s->rcpt) + strlen(line) < sizeof(s->rcpt)) {
                append_whole(s->rcpt, sizeof(s->rcpt), line + 8);
            }
            say(c, rej ? "550 no such user\r\n" : later ? "451 try later\r\n" : "250 ok\r\n");
        } else if (!strncasecmp(line, "DATA", 4)) {
            in_data = true;
            say(c, "354 go\r\n");
        } else if (!strncasecmp(line, "QUIT", 4)) {
            say(c, "221 bye\r\n");
            return;
        } else {
            say(c, "250 ok\r\n");
        }
    }
}

static void *smtp_main(void *arg)
{
    struct smtp *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c >= 0) {
        smtp_session(s, c);
        close(c);
    }
    return NULL;
}

static bool smtp_start(struct smtp *s, char *url, size_t n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    memset(s, 0, sizeof(*s));
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 4) < 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) < 0) {
        return false;
    }
    s->port = ntohs(a.sin_port);
    snprintf(url, n, "smtp://127.0.0.1:%d", s->port);
    return pthread_create(&s->th, NULL, smtp_main, s) == 0;
}

static void smtp_stop(struct smtp *s)
{
    pthread_join(s->th, NULL);
    close(s->fd);
}

static const char *header(const char *data, const char *name, char *out, size_t n)
{
    const char *p = strstr(data, name);
    out[0] = 0;
    if (p) {
        p += strlen(name);
        snprintf(out, n, "%.*s", (int)strcspn(p, "\r\n"), p);
    }
    return out;
}

VG_TEST(mail_is_delivered_with_safe_headers)
{
    struct smtp s;
    char url[64], h[256], mid[256];
    struct act_run ar;
    CHECK(smtp_start(&s, url, sizeof(url)));
    struct vg_respond_services svc = {.smtp_url = url, .smtp_from = "vigie@soc.example"};
    CHECK_EQ_INT(act_run("mail.send",
                         "{\"to\":[\"alice@example.org\",\"bob@example.org\"],\"subject\":"
                         "\"Alerte: accès SSH\",\"body\":\"line 1\\n.dot line\\nline 3\"}",
                         &svc, 5000, &ar),
                 VG_OK);
    CHECK_EQ_INT(act_out_int(&ar, "recipients"), 2);
    snprintf(mid, sizeof(mid), "<%s>", act_out_str(&ar, "message_id"));
    act_done(&ar);
    smtp_stop(&s);
    CHECK_STR(s.from, "<vigie@soc.example>\r\n");
    CHECK_STR(s.rcpt, "<alice@example.org>\r\n<bob@example.org>\r\n");
    CHECK_STR(header(s.data, "\r\nFrom: ", h, sizeof(h)), "<vigie@soc.example>");
    CHECK_STR(header(s.data, "\r\nTo: ", h, sizeof(h)), "<alice@example.org>, <bob@example.org>");
    CHECK_STR(header(s.data, "\r\nSubject: ", h, sizeof(h)),
              "=?UTF-8?B?QWxlcnRlOiBhY2PDqHMgU1NI?=");
    CHECK_STR(header(s.data, "\r\nMessage-ID: ", h, sizeof(h)), mid);
    CHECK(strstr(mid, "@soc.example>") != NULL);
    CHECK(strstr(s.data, "\r\n\r\nline 1\r\n..dot line\r\nline 3\r\n") != NULL);

    /* the same step again (a retry): the same Message-ID */
    CHECK(smtp_start(&s, url, sizeof(url)));
    svc.smtp_url = url;
    CHECK_EQ_INT(
        act_run("mail.send", "{\"to\":\"alice@example.org\",\"subject\":\"x\"}", &svc, 5000, &ar),
        VG_OK);
    act_done(&ar);
    smtp_stop(&s);
    CHECK_STR(header(s.data, "\r\nMessage-ID: ", h, sizeof(h)), mid);
}

VG_TEST(mail_failures)
{
    struct smtp s;
    char url[64];
    struct act_run ar;
    CHECK(smtp_start(&s, url, sizeof(url)));
    struct vg_respond_services svc = {.smtp_url = url, .smtp_from = "vigie@soc.example"};
    CHECK_EQ_INT(
        act_run("mail.send", "{\"to\":\"nobody@example.org\",\"subject\":\"x\"}", &svc, 5000, &ar),
        VG_EIO);
    CHECK(!ar.res.retryable);
    act_done(&ar);
    smtp_stop(&s);

    CHECK(smtp_start(&s, url, sizeof(url)));
    CHECK_EQ_INT(
        act_run("mail.send", "{\"to\":\"later@example.org\",\"subject\":\"x\"}", &svc, 5000, &ar),
        VG_EIO);
    CHECK(ar.res.retryable);
    act_done(&ar);
    smtp_stop(&s);

    /* nobody listens on that port any more */
    CHECK_EQ_INT(
        act_run("mail.send", "{\"to\":\"a@example.org\",\"subject\":\"x\"}", &svc, 2000, &ar),
        VG_EIO);
    CHECK(ar.res.retryable);
    act_done(&ar);

    struct vg_respond_services none = {0};
    CHECK_EQ_INT(
        act_run("mail.send", "{\"to\":\"a@example.org\",\"subject\":\"x\"}", &none, 2000, &ar),
        VG_EUNSUPPORTED);
    CHECK(strstr(ar.res.err, "mail is not configured") != NULL);
    act_done(&ar);
}
