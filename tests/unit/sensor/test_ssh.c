/*
 * test_ssh.c — the sensor's SSH parser (sensor_ssh.c): banners both ways, HASSH and
 * HASSH-server from KEXINIT recomputed independently, every byte split giving the same record,
 * logging at NEWKEYS both ways or at flow end, SSH-1.99, pre-banner server lines, an overlong
 * banner, garbage and probing.
 */
#include "core/core.h"
#include "sensor/sensor_app.h"
#include "sensor/sensor_tls_int.h"
#include "sensor_rig.h"
#include "vgtest.h"

struct bb {
    uint8_t p[4096];
    size_t n;
};

static void bput(struct bb *b, const void *p, size_t n)
{
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void b32(struct bb *b, uint32_t v)
{
    uint8_t q[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    bput(b, q, 4);
}

static void namelist(struct bb *b, const char *s)
{
    b32(b, (uint32_t)strlen(s));
    bput(b, s, strlen(s));
}

/* An SSH-2 binary packet with payload pl (code first) and 4 bytes of padding. */
static void packet(struct bb *b, const uint8_t *pl, size_t n)
{
    b32(b, (uint32_t)(n + 1 + 4));
    uint8_t pad = 4;
    bput(b, &pad, 1);
    bput(b, pl, n);
    bput(b, "\0\0\0\0", 4);
}

static void kexinit(struct bb *b, const char *enc_cs, const char *enc_sc)
{
    struct bb pl = {{0}, 0};
    uint8_t code = 20;
    bput(&pl, &code, 1);
    bput(&pl, "0123456789abcdef", 16);
    namelist(&pl, "curve25519-sha256,diffie-hellman-group14-sha1");
    namelist(&pl, "ssh-ed25519");
    namelist(&pl, enc_cs);
    namelist(&pl, enc_sc);
    namelist(&pl, "hmac-sha2-256");
    namelist(&pl, "hmac-sha1");
    namelist(&pl, "none");
    namelist(&pl, "zlib");
    namelist(&pl, "");
    namelist(&pl, "");
    bput(&pl, "\0\0\0\0\0", 5);
    packet(b, pl.p, pl.n);
}

static void streams(struct bb *cli, struct bb *srv)
{
    static const uint8_t newkeys = 21;
    cli->n = srv->n = 0;
    bput(cli, "SSH-2.0-OpenSSH_for_Windows_7.7\r\n", 33);
    kexinit(cli, "aes128-ctr,aes256-ctr", "chacha20-poly1305@openssh.com");
    packet(cli, &newkeys, 1);
    bput(cli, "encrypted!", 10);
    bput(srv, "SSH-2.0-OpenSSH_7.4 Debian-10\r\n", 31);
    kexinit(srv, "aes128-ctr,aes256-ctr", "chacha20-poly1305@openssh.com");
    packet(srv, &newkeys, 1);
}

VG_TEST(ssh_banners_and_hassh)
{
    static struct bb cli, srv;
    struct rig r;
    char md5[33], want[512];
    streams(&cli, &srv);
    rig_init(&r, &vg_sensor_proto_ssh, "ssh", 22, true);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n), VG_SENSOR_APP_OK);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n), VG_SENSOR_APP_DONE);
    CHECK_EQ_INT(r.out.records, 1);
    const char *t = rig_obj(&r);
    const char *hc = "curve25519-sha256,diffie-hellman-group14-sha1;aes128-ctr,aes256-ctr;"
                     "hmac-sha2-256;none";
    const char *hs = "curve25519-sha256,diffie-hellman-group14-sha1;"
                     "chacha20-poly1305@openssh.com;hmac-sha1;zlib";
    vg_sensor_tls_md5_hex(hc, strlen(hc), md5);
    snprintf(want, sizeof(want),
             "\"ssh\":{\"client\":{\"proto_version\":\"2.0\",\"software_version\":"
             "\"OpenSSH_for_Windows_7.7\",\"hassh\":{\"hash\":\"%s\",\"string\":\"%s\"}}",
             md5, hc);
    CHECK(strncmp(t, want, strlen(want)) == 0);
    vg_sensor_tls_md5_hex(hs, strlen(hs), md5);
    snprintf(want, sizeof(want),
             "\"server\":{\"proto_version\":\"2.0\",\"software_version\":\"OpenSSH_7.4\","
             "\"hassh\":{\"hash\":\"%s\",\"string\":\"%s\"}}}",
             md5, hs);
    CHECK(strstr(t, want) != NULL);
    rig_end(&r);
    CHECK_EQ_INT(r.out.records, 1);
    rig_fini(&r);
}

VG_TEST(ssh_every_split_same_record)
{
    static struct bb cli, srv;
    struct rig r;
    char base[2048];
    streams(&cli, &srv);
    rig_init(&r, &vg_sensor_proto_ssh, "ssh", 22, true);
    rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n);
    rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n);
    snprintf(base, sizeof(base), "%s", rig_obj(&r));
    rig_fini(&r);
    int bad = 0;
    for (size_t k = 0; k <= cli.n + srv.n; k++) {
        rig_init(&r, &vg_sensor_proto_ssh, "ssh", 22, true);
        if (k <= cli.n) {
            rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, k);
            rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p + k, cli.n - k);
            rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, srv.n);
        } else {
            size_t s = k - cli.n;
            rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, cli.p, cli.n);
            rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p, s);
            rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT, srv.p + s, srv.n - s);
        }
        rig_end(&r);
        if (r.out.records != 1 || strcmp(rig_obj(&r), base) != 0) {
            bad++;
        }
        rig_fini(&r);
    }
    CHECK_EQ_INT(bad, 0);
}

VG_TEST(ssh_banner_only_logged_at_end)
{
    struct rig r;
    rig_init(&r, &vg_sensor_proto_ssh, "ssh", 22, true);
    rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, (const uint8_t *)"SSH-2.0-OpenSSH_3.6.1p1\n", 24);
    rig_feed(&r, VG_SENSOR_FLOW_TO_CLIENT,
             (const uint8_t *)"Welcome\r\nSSH-1.99-OpenSSH_3.1p1\r\n\x00\x00", 35);
    CHECK_EQ_INT(r.out.records, 0);
    rig_end(&r);
    CHECK_EQ_INT(r.out.records, 1);
    CHECK_STR(rig_obj(&r),
              "\"ssh\":{\"client\":{\"proto_version\":\"2.0\",\"software_version\":"
              "\"OpenSSH_3.6.1p1\"},\"server\":{\"proto_version\":\"1.99\",\"software_version\":"
              "\"OpenSSH_3.1p1\"}}}\n");
    rig_fini(&r);
}

VG_TEST(ssh_bounds_and_garbage)
{
    struct rig r;
    char big[2000];
    memset(big, 'A', sizeof(big));
    memcpy(big, "SSH-2.0-", 8);
    big[sizeof(big) - 1] = '\n';
    rig_init(&r, &vg_sensor_proto_ssh, "ssh", 22, true);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, (const uint8_t *)big, sizeof(big)),
                 VG_SENSOR_APP_OK);
    /* an absurd packet length stops this direction quietly */
    CHECK_EQ_INT(
        rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, (const uint8_t *)"\xff\xff\xff\xff\x04\x14", 6),
        VG_SENSOR_APP_OK);
    rig_end(&r);
    CHECK_EQ_INT(r.out.records, 1);
    CHECK(strlen(rig_obj(&r)) < 400); /* truncated banner */
    rig_fini(&r);
    rig_init(&r, &vg_sensor_proto_ssh, "ssh", 22, true);
    CHECK_EQ_INT(rig_feed(&r, VG_SENSOR_FLOW_TO_SERVER, (const uint8_t *)"HELO x\r\n", 8),
                 VG_SENSOR_APP_ERROR);
    rig_fini(&r);
    CHECK_EQ_INT(vg_sensor_proto_ssh.probe((const uint8_t *)"SSH-2.0", 7, 0), 1);
    CHECK_EQ_INT(vg_sensor_proto_ssh.probe((const uint8_t *)"SS", 2, 0), -1);
    CHECK_EQ_INT(vg_sensor_proto_ssh.probe((const uint8_t *)"GET /", 5, 0), 0);
}
