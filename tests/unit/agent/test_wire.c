/*
 * test_wire.c — the agent frame codec and signed commands: round trips (byte by byte, with
 * zstd), every rejection of the decoder with its reason (magic, length, crc, type, reserved
 * bits, zstd bomb and garbage), EVENTS splitting, and command verification refusing forged,
 * unsigned, tampered, foreign, expired, early, over-long and replayed commands.
 */
#include "agent/agent_wire.h"
#include "event/event.h"
#include "vgtest.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

static struct vg_agent_wire_decoder *dec(size_t max_payload)
{
    struct vg_agent_wire_decoder *d = NULL;
    struct vg_agent_wire_limits lim = {0, max_payload};
    CHECK_EQ_INT(vg_agent_wire_decoder_create(&lim, &d), VG_OK);
    return d;
}

VG_TEST(wire_round_trips_every_frame_byte_by_byte)
{
    struct vg_sbuf out = VG_SBUF_INIT;
    const char *body = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
    struct vg_sbuf big = VG_SBUF_INIT;
    for (int i = 0; i < 2000; i++) {
        vg_sbuf_printf(&big, "{\"event.dataset\":\"process\",\"process.pid\":%d}\n", i);
    }
    CHECK_EQ_INT(vg_agent_wire_encode(&out, VG_AGENT_FRAME_HELLO, 0, 0, "{\"x\":1}", 7), VG_OK);
    CHECK_EQ_INT(vg_agent_wire_encode_events(&out, 7, 3, body, strlen(body), false), VG_OK);
    size_t before = out.len;
    CHECK_EQ_INT(vg_agent_wire_encode_events(&out, 10, 2000, big.p, big.len, true), VG_OK);
    CHECK(out.len - before < big.len / 4); /* compressed */
    CHECK_EQ_INT(vg_agent_wire_encode_ack(&out, 2009), VG_OK);
    CHECK_EQ_INT(vg_agent_wire_encode(&out, VG_AGENT_FRAME_HEARTBEAT, 0, 0, NULL, 0), VG_OK);
    struct vg_agent_wire_decoder *d = dec(0);
    struct vg_agent_frame f;
    char err[200];
    int types[8], n = 0;
    uint64_t acked = 0;
    uint32_t events = 0;
    for (size_t i = 0; i < out.len; i++) {
        CHECK_EQ_INT(vg_agent_wire_decoder_feed(d, out.p + i, 1), VG_OK);
        int rc;
        while ((rc = vg_agent_wire_decoder_next(d, &f, err, sizeof(err))) == VG_OK) {
            types[n++ % 8] = f.type;
            struct vg_agent_wire_events ev;
            if (f.type == VG_AGENT_FRAME_EVENTS) {
                CHECK_EQ_INT(vg_agent_wire_events_parse(&f, &ev, err, sizeof(err)), VG_OK);
                events += ev.count;
                if (ev.first_seq == 10) {
                    CHECK(f.flags & VG_AGENT_WIRE_ZSTD);
                    CHECK_EQ_INT(ev.body_len, big.len);
                    CHECK(memcmp(ev.body, big.p, big.len) == 0);
                }
            }
            if (f.type == VG_AGENT_FRAME_ACK) {
                CHECK_EQ_INT(vg_agent_wire_ack_parse(&f, &acked), VG_OK);
            }
        }
        CHECK_EQ_INT(rc, VG_AGAIN);
    }
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(types[0], VG_AGENT_FRAME_HELLO);
    CHECK_EQ_INT(types[4], VG_AGENT_FRAME_HEARTBEAT);
    CHECK_EQ_INT(events, 2003);
    CHECK_EQ_INT(acked, 2009);
    CHECK_EQ_INT(vg_agent_wire_decoder_pending(d), 0);
    vg_agent_wire_decoder_destroy(d);
    vg_sbuf_fini(&out);
    vg_sbuf_fini(&big);
}

/* Decode buf as one frame and expect VG_EINVAL with reason containing want. */
static void expect_bad(const void *buf, size_t n, size_t max_payload, const char *want)
{
    struct vg_agent_wire_decoder *d = dec(max_payload);
    struct vg_agent_frame f;
    char err[200] = "";
    size_t used = 0;
    CHECK_EQ_INT(vg_agent_wire_decode_one(d, buf, n, &used, &f, err, sizeof(err)), VG_EINVAL);
    if (!strstr(err, want)) {
        fprintf(stderr, "  reason \"%s\" lacks \"%s\"\n", err, want);
        vgt_failed_checks++;
    }
    /* The decoder stays failed. */
    CHECK_EQ_INT(vg_agent_wire_decoder_next(d, &f, err, sizeof(err)), VG_EINVAL);
    vg_agent_wire_decoder_destroy(d);
}

VG_TEST(wire_decoder_refuses_bad_headers_early)
{
    struct vg_sbuf out = VG_SBUF_INIT;
    vg_agent_wire_encode(&out, VG_AGENT_FRAME_CONFIG, 0, 0, "{\"a\":1}", 7);
    uint8_t b[64];
    memcpy(b, out.p, out.len);
    b[0] = 'X';
    expect_bad(b, out.len, 0, "bad magic");
    memcpy(b, out.p, out.len);
    b[4] = 9;
    expect_bad(b, out.len, 0, "unknown frame type 9");
    memcpy(b, out.p, out.len);
    b[5] = 0x80;
    expect_bad(b, out.len, 0, "reserved bits");
    memcpy(b, out.p, out.len);
    b[7] = 1;
    expect_bad(b, out.len, 0, "reserved bits");
    memcpy(b, out.p, out.len);
    b[20] ^= 1;
    expect_bad(b, out.len, 0, "crc mismatch");
    /* A huge length fails with only the header received. */
    memcpy(b, out.p, 16);
    b[8] = 0xff, b[9] = 0xff, b[10] = 0xff, b[11] = 0x7f;
    expect_bad(b, 16, 0, "over limit 16777216");
    vg_sbuf_fini(&out);
}

VG_TEST(wire_decoder_bounds_decompression)
{
    /* 4 MiB of zeros compresses to a few hundred bytes: a bomb for a 1 MiB limit. */
    size_t n = 4u << 20;
    char *zeros = calloc(1, n);
    struct vg_sbuf out = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_agent_wire_encode(&out, VG_AGENT_FRAME_CONFIG, VG_AGENT_WIRE_ZSTD, 0, zeros, n),
                 VG_OK);
    CHECK(out.len < 4096);
    expect_bad(out.p, out.len, 1u << 20, "declared size 4194304 over limit 1048576");
    /* Same bomb without a declared size (streaming frame). */
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    uint8_t z[8192];
    ZSTD_outBuffer ob = {z, sizeof(z), 0};
    ZSTD_inBuffer in = {zeros, n, 0};
    ZSTD_compressStream2(c, &ob, &in, ZSTD_e_end);
    ZSTD_freeCCtx(c);
    CHECK(ZSTD_getFrameContentSize(z, ob.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
    uint8_t frame[16 + 8192] = {'V', 'G', 'A', '1', VG_AGENT_FRAME_CONFIG, 1, 0, 0};
    memcpy(frame + 16, z, ob.pos);
    uint32_t len = (uint32_t)ob.pos, crc = vg_crc32(0, z, ob.pos);
    memcpy(frame + 8, &len, 4);
    memcpy(frame + 12, &crc, 4);
    expect_bad(frame, 16 + ob.pos, 1u << 20, "decompressed size over limit");
    /* Garbage flagged as zstd, and a valid frame with trailing bytes. */
    uint8_t junk[16 + 8] = {'V', 'G', 'A', '1', VG_AGENT_FRAME_CONFIG, 1, 0, 0, 8, 0, 0, 0};
    memcpy(junk + 16, "notzstd!", 8);
    crc = vg_crc32(0, junk + 16, 8);
    memcpy(junk + 12, &crc, 4);
    expect_bad(junk, sizeof(junk), 0, "zstd");
    free(zeros);
    vg_sbuf_fini(&out);
}

VG_TEST(wire_events_payload_is_checked)
{
    struct vg_agent_frame f = {VG_AGENT_FRAME_EVENTS, 0, NULL, 0};
    uint8_t p[64] = {5, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0};
    char err[200];
    struct vg_agent_wire_events ev;
    const char *cases[][2] = {
        {"{\"a\":1}\n{\"b\":2}\n", NULL},
        {"{\"a\":1}\n", "fewer events"},
        {"{\"a\":1}\n{}\n{}\n", "event 2: more events"},
        {"{\"a\":1}\n\n", "event 1: not a JSON object"},
        {"{\"a\":1}\n{\"b\":2}", "event 1: not newline-terminated"},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        size_t bl = strlen(cases[i][0]);
        memcpy(p + 12, cases[i][0], bl);
        f.payload = p;
        f.len = 12 + bl;
        int rc = vg_agent_wire_events_parse(&f, &ev, err, sizeof(err));
        CHECK_EQ_INT(rc, cases[i][1] ? VG_EINVAL : VG_OK);
        if (cases[i][1] && !strstr(err, cases[i][1])) {
            fprintf(stderr, "  case %zu: \"%s\"\n", i, err);
            vgt_failed_checks++;
        }
    }
    memcpy(p + 12, "{\"a\":1}\n{\"b\":2}\n", 16);
    f.len = 28;
    CHECK_EQ_INT(vg_agent_wire_events_parse(&f, &ev, err, sizeof(err)), VG_OK);
    size_t pos = 0, n;
    const char *j;
    CHECK(vg_agent_wire_events_next(&ev, &pos, &j, &n));
    CHECK_MEM(j, n, "{\"a\":1}");
    CHECK(vg_agent_wire_events_next(&ev, &pos, &j, &n));
    CHECK_MEM(j, n, "{\"b\":2}");
    CHECK(!vg_agent_wire_events_next(&ev, &pos, &j, &n));
    p[0] = 0; /* first_seq 0 */
    CHECK_EQ_INT(vg_agent_wire_events_parse(&f, &ev, err, sizeof(err)), VG_EINVAL);
}

VG_TEST(wire_hello_is_valid_json)
{
    const char *ips[] = {"10.0.0.2", "fe80::1"};
    struct vg_agent_hello h = {
        "agent-1", "0.5.0", "host\"x", "Debian 12", ips, 2, "{\"process\":\"ebpf\"}", "00ff", 42};
    struct vg_sbuf out = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_agent_wire_hello_json(&h, &out), VG_OK);
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *doc;
    size_t used;
    char err[100];
    CHECK_EQ_INT(vg_json_parse(p, a, out.p, out.len, &used, &doc, err, sizeof(err)), VG_OK);
    CHECK(vg_json_str_is(vg_json_get(doc, "hostname"), "host\"x"));
    CHECK_EQ_INT(vg_json_get(doc, "ips")->n, 2);
    CHECK(vg_json_str_is(vg_json_get(vg_json_get(doc, "collectors"), "process"), "ebpf"));
    CHECK_EQ_INT(vg_json_get(doc, "next_seq")->u.i, 42);
    vg_json_parser_destroy(p);
    vg_arena_destroy(a);
    vg_sbuf_fini(&out);
}

/* ------------------------------------------------------------------ commands */

struct keys {
    uint8_t pk[32], sk[64], pk2[32], sk2[64];
};

/* Build, sign with sk and decode a COMMAND; payload copied into buf. */
static size_t signed_cmd(const uint8_t *sk, const char *id, int64_t issued, int64_t expires,
                         const char *agent, uint8_t *buf, size_t cap)
{
    struct vg_sbuf j = VG_SBUF_INIT, fr = VG_SBUF_INIT;
    vg_agent_command_json(&j, id, "kill", "{\"pid\":42}", issued, expires, agent);
    CHECK_EQ_INT(vg_agent_wire_encode_command(&fr, sk, j.p, j.len), VG_OK);
    CHECK(fr.len - 16 <= cap);
    size_t n = fr.len - 16;
    memcpy(buf, fr.p + 16, n);
    vg_sbuf_fini(&j);
    vg_sbuf_fini(&fr);
    return n;
}

static int verify(struct vg_agent_cmd_verifier *v, const uint8_t *p, size_t n, int64_t now,
                  char *err)
{
    struct vg_agent_command c;
    int rc = vg_agent_cmd_verify(v, p, n, now, &c, err, 200);
    vg_agent_command_fini(&c);
    return rc;
}

VG_TEST(command_verification_refuses_forged_and_replayed)
{
    struct keys k;
    CHECK_EQ_INT(vg_agent_sign_keypair(k.pk, k.sk), VG_OK);
    CHECK_EQ_INT(vg_agent_sign_keypair(k.pk2, k.sk2), VG_OK);
    struct vg_agent_cmd_verifier *v = NULL;
    CHECK_EQ_INT(vg_agent_cmd_verifier_create(k.pk, "agent-1", NULL, &v), VG_OK);
    int64_t now = 1700000000;
    uint8_t b[1024];
    char err[200];
    size_t n = signed_cmd(k.sk, "c1", now - 5, now + 600, "agent-1", b, sizeof(b));
    struct vg_agent_command c;
    CHECK_EQ_INT(vg_agent_cmd_verify(v, b, n, now, &c, err, sizeof(err)), VG_OK);
    CHECK_STR(c.id, "c1");
    CHECK_STR(c.action, "kill");
    CHECK_STR(c.args_json, "{\"pid\":42}");
    vg_agent_command_fini(&c);
    CHECK_EQ_INT(verify(v, b, n, now + 1, err), VG_EDENIED);
    CHECK_STR(err, "replayed id");
    /* Tampered JSON byte. */
    n = signed_cmd(k.sk, "c2", now, now + 600, "agent-1", b, sizeof(b));
    b[n - 3] ^= 1;
    CHECK_EQ_INT(verify(v, b, n, now, err), VG_EDENIED);
    CHECK_STR(err, "bad signature");
    /* Signed by another key (forged). */
    n = signed_cmd(k.sk2, "c3", now, now + 600, "agent-1", b, sizeof(b));
    CHECK_EQ_INT(verify(v, b, n, now, err), VG_EDENIED);
    CHECK_STR(err, "bad signature");
    /* Unsigned: the bare JSON. */
    CHECK_EQ_INT(verify(v, (const uint8_t *)"{\"id\":\"x\"}", 10, now, err), VG_EDENIED);
    CHECK_STR(err, "unsigned");
    n = signed_cmd(k.sk, "c4", now, now + 600, "agent-2", b, sizeof(b));
    CHECK_EQ_INT(verify(v, b, n, now, err), VG_EDENIED);
    CHECK_STR(err, "wrong agent id");
    n = signed_cmd(k.sk, "c5", now - 700, now - 100, "agent-1", b, sizeof(b));
    CHECK_EQ_INT(verify(v, b, n, now, err), VG_EDENIED);
    CHECK_STR(err, "expired");
    n = signed_cmd(k.sk, "c6", now + 3600, now + 4000, "agent-1", b, sizeof(b));
    CHECK_EQ_INT(verify(v, b, n, now, err), VG_EDENIED);
    CHECK_STR(err, "not yet valid");
    n = signed_cmd(k.sk, "c7", now, now + 10 * 86400, "agent-1", b, sizeof(b));
    CHECK_EQ_INT(verify(v, b, n, now, err), VG_EDENIED);
    CHECK_STR(err, "lifetime too long");
    /* Signed but malformed: a clear reason naming the field. */
    struct vg_sbuf fr = VG_SBUF_INIT;
    const char *bad = "{\"id\":\"c8\",\"action\":\"kill\",\"issued\":\"now\",\"expires\":1,"
                      "\"agent_id\":\"agent-1\"}";
    vg_agent_wire_encode_command(&fr, k.sk, bad, strlen(bad));
    CHECK_EQ_INT(verify(v, (const uint8_t *)fr.p + 16, fr.len - 16, now, err), VG_EINVAL);
    CHECK(strstr(err, "\"issued\"") != NULL);
    vg_sbuf_fini(&fr);
    vg_agent_cmd_verifier_destroy(v);
}

VG_TEST(command_replay_window_survives_a_restart)
{
    struct keys k;
    vg_agent_sign_keypair(k.pk, k.sk);
    char dir[] = "/tmp/vg_cmdwin_XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/seen", dir);
    int64_t now = 1700000000;
    uint8_t b[1024];
    char err[200];
    size_t n = signed_cmd(k.sk, "c1", now, now + 600, "a", b, sizeof(b));
    struct vg_agent_cmd_verifier *v = NULL;
    CHECK_EQ_INT(vg_agent_cmd_verifier_create(k.pk, "a", path, &v), VG_OK);
    CHECK_EQ_INT(verify(v, b, n, now, err), VG_OK);
    vg_agent_cmd_verifier_destroy(v);
    CHECK_EQ_INT(vg_agent_cmd_verifier_create(k.pk, "a", path, &v), VG_OK);
    CHECK_EQ_INT(verify(v, b, n, now + 10, err), VG_EDENIED);
    CHECK_STR(err, "replayed id");
    vg_agent_cmd_verifier_destroy(v);
    unlink(path);
    rmdir(dir);
}

VG_TEST(sign_key_files_round_trip_and_refuse_loose_modes)
{
    struct keys k;
    vg_agent_sign_keypair(k.pk, k.sk);
    char dir[] = "/tmp/vg_keys_XXXXXX", skp[64], pkp[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(skp, sizeof(skp), "%s/cmd.key", dir);
    snprintf(pkp, sizeof(pkp), "%s/cmd.pub", dir);
    CHECK_EQ_INT(vg_agent_sign_key_save(skp, k.sk, 64, true), VG_OK);
    CHECK_EQ_INT(vg_agent_sign_key_save(pkp, k.pk, 32, false), VG_OK);
    uint8_t sk[64], pk[32];
    CHECK_EQ_INT(vg_agent_sign_key_load(skp, sk, 64, true), VG_OK);
    CHECK_EQ_INT(vg_agent_sign_key_load(pkp, pk, 32, false), VG_OK);
    CHECK(memcmp(sk, k.sk, 64) == 0 && memcmp(pk, k.pk, 32) == 0);
    CHECK_EQ_INT(vg_agent_sign_key_load(pkp, sk, 64, false), VG_EINVAL); /* wrong size */
    chmod(skp, 0644);
    CHECK_EQ_INT(vg_agent_sign_key_load(skp, sk, 64, true), VG_EDENIED);
    unlink(skp);
    unlink(pkp);
    rmdir(dir);
}
