/*
 * respond_act_mail.c — mail.send: a plain-text mail through services->smtp_url with libcurl.
 *
 * Header injection is refused at the door: CR, LF or other control bytes in the subject or
 * an address fail the step (not retryable). The Message-ID is derived from the step's
 * idempotency key so a re-sent mail after a crash carries the same id (receivers and list
 * servers drop duplicates by it). A non-ASCII subject is RFC 2047 encoded; the body goes
 * out as UTF-8 with CRLF line ends (libcurl dot-stuffs it). SMTP 4xx replies, connection
 * errors and timeouts are retryable; 5xx replies are not.
 */
#include "respond/respond_act_int.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAIL_RCPT_MAX 50

struct mail {
    const char *subject, *body, *from;
    char **to;
    size_t nto;
    struct vg_sbuf msg;
    size_t sent;
};

static bool addr_ok(const char *a)
{
    const char *at = strchr(a, '@');
    return a[0] && strlen(a) <= 254 && at && at != a && at[1] && !vg_act_has_ctl(a) &&
           !strpbrk(a, " <>,;:\"()[]\\");
}

static void b64(struct vg_sbuf *s, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        char q[4] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
                     i + 2 < n ? t[v & 63] : '='};
        vg_sbuf_add(s, q, 4);
    }
}

static void subject_add(struct vg_sbuf *s, const char *subj)
{
    bool ascii = true;
    for (const char *p = subj; *p; p++) {
        ascii = ascii && (unsigned char)*p < 0x80;
    }
    vg_sbuf_adds(s, "Subject: ");
    if (ascii) {
        vg_sbuf_adds(s, subj);
    } else {
        vg_sbuf_adds(s, "=?UTF-8?B?");
        b64(s, (const unsigned char *)subj, strlen(subj));
        vg_sbuf_adds(s, "?=");
    }
    vg_sbuf_adds(s, "\r\n");
}

/* The message: headers, a blank line, the body with bare LF turned into CRLF. */
static void message_build(const struct vg_action_ctx *c, struct mail *m)
{
    struct vg_sbuf *s = &m->msg;
    const char *key = c->idem_key ? c->idem_key : "";
    const char *dom = strchr(m->from, '@') + 1;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    vg_sbuf_printf(s, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, m->from);
    for (size_t i = 0; i < m->nto; i++) {
        vg_sbuf_printf(s, "%s<%s>", i ? ", " : "", m->to[i]);
    }
    vg_sbuf_adds(s, "\r\n");
    subject_add(s, m->subject);
    vg_sbuf_printf(s, "Message-ID: <vigie.%016llx%016llx@%s>\r\n",
                   (unsigned long long)vg_hash64(key, strlen(key), 0x5eed),
                   (unsigned long long)vg_hash64(key, strlen(key), 0x1dea), dom);
    vg_sbuf_printf(s, "X-Vigie-Run: %s\r\n",
                   c->run_id && !vg_act_has_ctl(c->run_id) ? c->run_id : "");
    vg_sbuf_adds(s, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n");
    for (const char *p = m->body; *p; p++) {
        if (*p == '\n' && (p == m->body || p[-1] != '\r')) {
            vg_sbuf_addc(s, '\r');
        }
        vg_sbuf_addc(s, *p);
    }
    vg_sbuf_adds(s, "\r\n");
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *ud)
{
    struct mail *m = ud;
    size_t n = VG_MIN(size * nitems, m->msg.len - m->sent);
    memcpy(buf, m->msg.p + m->sent, n);
    m->sent += n;
    return n;
}

static int mail_status(CURLcode cc, long code, const char *ebuf, struct vg_action_result *r)
{
    if (cc == CURLE_OK) {
        return VG_OK;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        return vg_act_fail(r, VG_ETIMEOUT, true, "mail: SMTP server did not answer in time");
    }
    if (code >= 500) {
        return vg_act_fail(r, VG_EIO, false, "mail: SMTP server refused (%ld): %s", code, ebuf);
    }
    return vg_act_fail(r, VG_EIO, true, "mail: %s%s", ebuf, code >= 400 ? " (temporary)" : "");
}

static int mail_send(const struct vg_action_ctx *c, struct mail *m, struct vg_action_result *r)
{
    char ebuf[CURL_ERROR_SIZE] = "";
    long code = 0, tmo = VG_MIN(60000L, vg_act_left_ms(vg_act_deadline(c)));
    struct curl_slist *rcpt = NULL, *t;
    for (size_t i = 0; i < m->nto; i++) {
        if (!(t = curl_slist_append(rcpt, vg_arena_printf(c->arena, "<%s>", m->to[i])))) {
            curl_slist_free_all(rcpt);
            return vg_act_fail(r, VG_ENOMEM, true, "out of memory");
        }
        rcpt = t;
    }
    CURL *h = tmo > 0 && vg_act_curl_init() == VG_OK ? curl_easy_init() : NULL;
    if (!h) {
        curl_slist_free_all(rcpt);
        return tmo <= 0 ? vg_act_fail(r, VG_ETIMEOUT, true, "the step's deadline passed")
                        : vg_act_fail(r, VG_ENOMEM, true, "libcurl could not start");
    }
    curl_easy_setopt(h, CURLOPT_URL, c->svc->smtp_url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, vg_arena_printf(c->arena, "<%s>", m->from));
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, m);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, tmo);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (!ebuf[0]) {
        vg_strlcpy(ebuf, curl_easy_strerror(cc), sizeof(ebuf));
    }
    curl_easy_cleanup(h);
    curl_slist_free_all(rcpt);
    return mail_status(cc, code, ebuf, r);
}

static int mail_params(const struct vg_action_ctx *c, struct mail *m, struct vg_action_result *r)
{
    int rc;
    if ((rc = vg_act_strlist(c, r, "to", true, MAIL_RCPT_MAX, &m->to, &m->nto)) != VG_OK ||
        (rc = vg_act_str(c, r, "subject", true, 998, &m->subject)) != VG_OK ||
        (rc = vg_act_str(c, r, "body", false, 1u << 20, &m->body)) != VG_OK) {
        return rc;
    }
    if (vg_act_has_ctl(m->subject)) {
        return vg_act_fail(r, VG_EINVAL, false,
                           "parameter 'subject' contains CR, LF or another control character");
    }
    for (size_t i = 0; i < m->nto; i++) {
        if (!addr_ok(m->to[i])) {
            return vg_act_fail(r, VG_EINVAL, false,
                               "parameter 'to' item %zu is not a plain address (name@domain, no "
                               "CR/LF, spaces or <>)",
                               i);
        }
    }
    m->body = m->body ? m->body : "";
    m->from = c->svc && c->svc->smtp_from ? c->svc->smtp_from : "vigie@localhost";
    if (!addr_ok(m->from)) {
        return vg_act_fail(r, VG_EINVAL, false, "the configured smtp_from is not a valid address");
    }
    return VG_OK;
}

static int mail_run(const struct vg_action_ctx *c, struct vg_action_result *r)
{
    struct mail m = {.msg = VG_SBUF_INIT};
    int rc = mail_params(c, &m, r);
    if (rc != VG_OK) {
        return rc;
    }
    message_build(c, &m);
    if (m.msg.err) {
        rc = vg_act_fail(r, VG_ENOMEM, true, "out of memory");
    } else if (c->svc && c->svc->dry_run) {
        rc = vg_act_dry(r, "send mail to %zu recipient(s) via %s:\n%s", m.nto,
                        c->svc->smtp_url ? "SMTP" : "(no smtp_url configured)", m.msg.p);
    } else if (!c->svc || !c->svc->smtp_url ||
               (strncasecmp(c->svc->smtp_url, "smtp://", 7) != 0 &&
                strncasecmp(c->svc->smtp_url, "smtps://", 8) != 0)) {
        rc = vg_act_fail(r, VG_EUNSUPPORTED, false,
                         "mail is not configured (smtp_url must be smtp:// or smtps://)");
    } else if ((rc = mail_send(c, &m, r)) == VG_OK) {
        const char *mid = strstr(m.msg.p, "Message-ID: <") + 13;
        vg_sbuf_printf(&r->output, "{\"sent\":true,\"recipients\":%zu,\"message_id\":\"%.*s\"}",
                       m.nto, (int)strcspn(mid, ">"), mid);
        vg_act_audit(c, "respond.mail.send", vg_arena_printf(c->arena, "mail:%s", m.to[0]), NULL);
    }
    vg_sbuf_fini(&m.msg);
    return rc;
}

static const struct vg_action_param mail_params_tab[] = {
    {"to", VG_ACTION_LIST, true, "recipient addresses (name@domain; up to 50)"},
    {"subject", VG_ACTION_STRING, true, "subject line (no CR/LF; UTF-8 is encoded)"},
    {"body", VG_ACTION_STRING, false, "plain-text body (UTF-8)"},
    {NULL, 0, false, NULL},
};

const struct vg_action_def vg_act_mail_send = {
    .name = "mail.send",
    .description = "Send a plain-text mail through the configured SMTP server (Message-ID "
                   "derived from the idempotency key)",
    .params = mail_params_tab,
    .run = mail_run,
};
