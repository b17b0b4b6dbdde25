/*
 * test_ftp.c — FTP control parser: one record per command and reply (banner included),
 * multi-line and 1xx replies, PORT/EPSV/PASV dynamic ports, credentials and login outcome;
 * the same records whatever the segmentation.
 */
#include "sensor_app_fake.h"
#include "vgtest.h"

#define C2S VG_SENSOR_FLOW_TO_SERVER
#define S2C VG_SENSOR_FLOW_TO_CLIENT

VG_TEST(ftp_session)
{
    const struct fake_step s[] = {
        {S2C, "220 (vsFTPd 2.3.5)\r\n"},
        {C2S, "USER alice\r\n"},
        {S2C, "331 Please specify the password.\r\n"},
        {C2S, "PASS secret\r\n"},
        {S2C, "230-Welcome\r\n230 Login successful.\r\n"},
        {C2S, "PORT 192,168,0,13,234,10\r\n"},
        {S2C, "200 PORT command successful.\r\n"},
        {C2S, "NLST\r\nEPSV\r\n"},
        {S2C, "150 Here comes the directory listing.\r\n226 Directory send OK.\r\n"
              "229 Entering Extended Passive Mode (|||58612|)\r\n"},
        {C2S, "PASV\r\n"},
        {S2C, "227 Entering Passive Mode (10,0,0,1,4,1).\r\n"},
        {C2S, "QUIT\r\n"},
    };
    int bad;
    char *out = fake_run_all_cuts(&vg_sensor_proto_ftp, s, sizeof(s) / sizeof(s[0]), &bad);
    CHECK_EQ_INT(bad, 0);
    CHECK(strstr(out, "{\"event_type\":\"ftp\",\"tx_id\":0,\"ftp\":{\"completion_code\":[\"220\"],"
                      "\"reply\":[\"(vsFTPd 2.3.5)\"],\"reply_received\":\"yes\","
                      "\"reply_truncated\":false}}\n") != NULL);
    CHECK(strstr(out, "\"command\":\"PASS\",\"command_data\":\"<hidden>\",\"command_truncated\":"
                      "false,\"completion_code\":[\"230\",\"230\"],\"reply\":[\"Welcome\","
                      "\"Login successful.\"]") != NULL);
    CHECK(strstr(out, "secret") == NULL); /* the password never reaches a record */
    CHECK(strstr(out,
                 "\"command\":\"PORT\",\"command_data\":\"192,168,0,13,234,10\","
                 "\"command_truncated\":false,\"completion_code\":[\"200\"],\"reply\":"
                 "[\"PORT command successful.\"],\"dynamic_port\":59914,\"mode\":\"active\"") !=
          NULL);
    CHECK(strstr(out, "\"reply\":[\"Here comes the directory listing.\",\"Directory send OK.\"]"));
    CHECK(strstr(out, "\"command\":\"EPSV\"") && strstr(out, "\"dynamic_port\":58612"));
    CHECK(strstr(out, "\"dynamic_port\":1025"));
    CHECK(strstr(out, "\"command\":\"QUIT\",\"reply_received\":\"no\""));
    CHECK_EQ_INT(fake_creds, 1);
    CHECK_STR(fake_last_user, "alice");
    CHECK_EQ_INT(fake_auth_ok, 1);
    vg_free(out);
}

VG_TEST(ftp_anonymous_password_kept)
{
    int bad;
    /* an anonymous login's "password" is an e-mail address by convention: kept, no cred */
    const struct fake_step anon[] = {
        {C2S, "USER anonymous\r\n"},
        {S2C, "331 Please specify the password.\r\n"},
        {C2S, "PASS guest@example.org\r\n"},
        {S2C, "230 Login successful.\r\n"},
    };
    char *out = fake_run_all_cuts(&vg_sensor_proto_ftp, anon, 4, &bad);
    CHECK_EQ_INT(bad, 0);
    CHECK(strstr(out, "\"command_data\":\"guest@example.org\"") != NULL);
    CHECK_EQ_INT(fake_creds, 0);
    vg_free(out);
}

VG_TEST(ftp_long_command_truncated)
{
    static char big[6000];
    memcpy(big, "RETR ", 5);
    memset(big + 5, 'a', sizeof(big) - 8);
    memcpy(big + sizeof(big) - 3, "\r\n", 3);
    const struct fake_step s[] = {{C2S, big}, {S2C, "550 No.\r\n530 Login incorrect.\r\n"}};
    int rc;
    char *out = fake_run(&vg_sensor_proto_ftp, s, 2, 0, 3000, &rc);
    CHECK(strstr(out, "\"command\":\"RETR\"") && strstr(out, "\"command_truncated\":true"));
    vg_free(out);
}

VG_TEST(ftp_probe)
{
    CHECK_EQ_INT(vg_sensor_proto_ftp.probe((const uint8_t *)"220 hi\r\n", 8, S2C), 1);
    CHECK_EQ_INT(vg_sensor_proto_ftp.probe((const uint8_t *)"USER x\r\n", 8, C2S), 1);
    CHECK_EQ_INT(vg_sensor_proto_ftp.probe((const uint8_t *)"GET / HTTP", 10, C2S), 0);
}
