/*
 * test_smtp.c — SMTP parser: one record per mail transaction with the envelope (helo,
 * mail_from, rcpt_to) and the message headers and attachment names, pipelining, BDAT, EHLO
 * resets, rejected DATA, STARTTLS upgrade, AUTH credentials; the same records whatever the
 * segmentation.
 */
#include "sensor_app_fake.h"
#include "vgtest.h"

#define C2S VG_SENSOR_FLOW_TO_SERVER
#define S2C VG_SENSOR_FLOW_TO_CLIENT

static char *run(const struct fake_step *s, size_t n)
{
    int bad;
    char *out = fake_run_all_cuts(&vg_sensor_proto_smtp, s, n, &bad);
    CHECK_EQ_INT(bad, 0);
    return out;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

VG_TEST(smtp_mail_with_attachment)
{
    const struct fake_step s[] = {
        {S2C, "220 mail ESMTP\r\n"},
        {C2S, "EHLO GP\r\n"},
        {S2C, "250-mail\r\n250 PIPELINING\r\n"},
        {C2S, "AUTH PLAIN AHVzZXIAcGFzcw==\r\n"},
        {S2C, "235 ok\r\n"},
        {C2S, "MAIL FROM:<a@x.org> SIZE=10\r\nRCPT TO:<b@y.org>\r\nRCPT TO:<c@y.org>\r\nDATA\r\n"},
        {S2C, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"},
        {C2S, "From: \"A\" <a@x.org>\r\nTo: <b@y.org>,\r\n <c@y.org>\r\nSubject: hi\r\n"
              "Content-Type: multipart/mixed;\r\n\tboundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\n"
              "Content-Type: text/plain\r\n\r\n..dot\r\n--XX\r\n"
              "Content-Type: application/octet-stream; name=\"n.bin\"\r\n"
              "Content-Disposition: attachment;\r\n filename=\"NEWS.txt\"\r\n\r\nAAAA\r\n"
              "--XX--\r\n.\r\n"},
        {S2C, "250 queued\r\n"},
        {C2S, "QUIT\r\n"},
        {S2C, "221 bye\r\n"},
    };
    char *out = run(s, sizeof(s) / sizeof(s[0]));
    CHECK_STR(out, "{\"event_type\":\"smtp\",\"tx_id\":0,\"smtp\":{\"helo\":\"GP\",\"mail_from\":"
                   "\"<a@x.org>\",\"rcpt_to\":[\"<b@y.org>\",\"<c@y.org>\"]},\"email\":{\"from\":"
                   "\"\\\"A\\\" <a@x.org>\",\"to\":[\"<b@y.org>\",\" <c@y.org>\"],\"status\":"
                   "\"PARSE_DONE\",\"attachment\":[\"n.bin\"]}}\n");
    CHECK_EQ_INT(fake_creds, 1);
    CHECK_STR(fake_last_user, "user");
    CHECK_EQ_INT(fake_auth_ok, 1);
    vg_free(out);
}

VG_TEST(smtp_resets_and_rejected_data)
{
    const struct fake_step s[] = {
        {S2C, "220 mail\r\n"},
        {C2S, "helo client\r\n"},
        {S2C, "250 ok\r\n"},
        {C2S, "data\r\n"},
        {S2C, "503 need RCPT\r\n"},
        {C2S, "ehlo client\r\n"},
        {S2C, "250 ok\r\n"},
        {C2S, "mail from:<bob@e>\r\nrcpt to:<al@e>\r\n"},
        {S2C, "250 ok\r\n250 ok\r\n"},
        {C2S, "BDAT 23\r\nFrom: bob@e\r\nTo: al@e\r\n"},
        {C2S, "BDAT 2 LAST\r\n\r\n"},
        {S2C, "250 ok\r\n250 ok\r\n"},
        {C2S, "QUIT\r\n"},
    };
    char *out = run(s, sizeof(s) / sizeof(s[0]));
    CHECK_EQ_INT(count_lines(out), 2);
    CHECK(strstr(out, "\"tx_id\":0,\"smtp\":{\"helo\":\"client\"}}\n") != NULL);
    CHECK(strstr(out, "\"tx_id\":1,\"smtp\":{\"helo\":\"client\",\"mail_from\":\"<bob@e>\","
                      "\"rcpt_to\":[\"<al@e>\"]},\"email\":{\"from\":\"bob@e\",\"to\":[\"al@e\"],"
                      "\"status\":\"PARSE_DONE\"}}") != NULL);
    vg_free(out);
}

VG_TEST(smtp_starttls)
{
    const struct fake_step s[] = {
        {S2C, "220 mail\r\n"}, {C2S, "EHLO c\r\n"},       {S2C, "250 STARTTLS\r\n"},
        {C2S, "STARTTLS\r\n"}, {S2C, "220 go ahead\r\n"},
    };
    int rc;
    char *out = fake_run(&vg_sensor_proto_smtp, s, 5, -1, 0, &rc);
    CHECK_EQ_INT(rc, VG_SENSOR_APP_UPGRADE_TLS);
    vg_free(out);
}

VG_TEST(smtp_auth_login_failure_and_long_line)
{
    static char big[5000];
    memcpy(big, "EHLO ", 5);
    memset(big + 5, 'B', sizeof(big) - 8);
    memcpy(big + sizeof(big) - 3, "\r\n", 3);
    const struct fake_step s[] = {
        {C2S, big},
        {S2C, "250 ok\r\n"},
        {C2S, "AUTH LOGIN\r\n"},
        {S2C, "334 VXNlcm5hbWU6\r\n"},
        {C2S, "Ym9i\r\n"},
        {S2C, "334 UGFzc3dvcmQ6\r\n"},
        {C2S, "c2VjcmV0\r\n"},
        {S2C, "535 bad\r\n"},
    };
    int rc;
    char *out = fake_run(&vg_sensor_proto_smtp, s, sizeof(s) / sizeof(s[0]), 0, 4000, &rc);
    CHECK_STR(fake_last_user, "bob");
    CHECK_EQ_INT(fake_auth_fail, 1);
    CHECK_EQ_INT(count_lines(out), 1);
    CHECK(strlen(out) < 4300); /* helo bounded by the line cap */
    vg_free(out);
}

/* RSET ends the transaction on its 250 reply: a DATA pipelined behind it joins the current
 * transaction; the reply to the final "." takes its own slot in the reply queue. */
VG_TEST(smtp_pipelined_rset_and_dot_reply)
{
    const struct fake_step s[] = {
        {S2C, "220 mail\r\n"},
        {C2S, "EHLO cl\r\n"},
        {S2C, "250-PIPELINING\r\n250 OK\r\n"},
        {C2S, "RSET\r\nDATA\r\n.\r\n"},
        {S2C, "250 reset\r\n354 go\r\n250 queued\r\n"},
        {C2S, "MAIL FROM:<a@e>\r\nRCPT TO:<b@e>\r\nDATA\r\n"},
        {S2C, "250 ok\r\n250 ok\r\n354 go\r\n"},
        {C2S, "From: a@e\r\n\r\nx\r\n.\r\nRSET\r\nMAIL FROM:<b@e>\r\nRCPT TO:<a@e>\r\nDATA\r\n"},
        {S2C, "250 queued\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"},
        {C2S, "From: b@e\r\n\r\ny\r\n.\r\n"},
        {S2C, "250 queued\r\n"},
    };
    char *out = run(s, sizeof(s) / sizeof(s[0]));
    CHECK_EQ_INT(count_lines(out), 3);
    CHECK(strstr(out,
                 "\"tx_id\":0,\"smtp\":{\"helo\":\"cl\"},\"email\":{\"status\":\"PARSE_DONE\"}}") !=
          NULL);
    CHECK(strstr(out,
                 "\"tx_id\":2,\"smtp\":{\"helo\":\"cl\",\"mail_from\":\"<b@e>\",\"rcpt_to\":["
                 "\"<a@e>\"]},\"email\":{\"from\":\"b@e\",\"status\":\"PARSE_DONE\"}}") != NULL);
    vg_free(out);
}

/* A malformed BDAT opens nothing and reads no chunk, but its reply keeps its queue slot. */
VG_TEST(smtp_bad_bdat_keeps_reply_slot)
{
    const struct fake_step s[] = {
        {S2C, "220 mail\r\n"},
        {C2S, "EHLO cl\r\n"},
        {S2C, "250 CHUNKING\r\n"},
        {C2S, "BDAT 5 X\r\nMAIL FROM:<a@e>\r\nRCPT TO:<b@e>\r\nDATA\r\n"},
        {S2C, "501 syntax\r\n250 ok\r\n250 ok\r\n354 go\r\n"},
        {C2S, "To: b@e\r\n\r\nbody\r\n.\r\n"},
        {S2C, "250 queued\r\n"},
    };
    char *out = run(s, sizeof(s) / sizeof(s[0]));
    CHECK_STR(out, "{\"event_type\":\"smtp\",\"tx_id\":0,\"smtp\":{\"helo\":\"cl\",\"mail_from\":"
                   "\"<a@e>\",\"rcpt_to\":[\"<b@e>\"]},\"email\":{\"to\":[\"b@e\"],\"status\":"
                   "\"PARSE_DONE\"}}\n");
    vg_free(out);
}

/* Attachment names are kept up to 255 bytes, as Suricata's MIME decoder does. */
VG_TEST(smtp_long_attachment_name)
{
    char msg[1024];
    char name[301];
    memset(name, 'n', 300);
    name[300] = '\0';
    snprintf(msg, sizeof(msg),
             "Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\n"
             "Content-Disposition: attachment; filename=\"%s\"\r\n\r\nx\r\n--B--\r\n.\r\n",
             name);
    const struct fake_step s[] = {
        {S2C, "220 mail\r\n"},         {C2S, "MAIL FROM:<a@e>\r\nDATA\r\n"},
        {S2C, "250 ok\r\n354 go\r\n"}, {C2S, msg},
        {S2C, "250 queued\r\n"},
    };
    char *out = run(s, sizeof(s) / sizeof(s[0]));
    name[255] = '\0';
    char want[400];
    snprintf(want, sizeof(want), "\"attachment\":[\"%s\"]", name);
    CHECK(strstr(out, want) != NULL);
    vg_free(out);
}
