/*
 * test_hpack.c — HPACK decoding (sensor_hpack.c): the Huffman code's shape, integers, and the
 * examples of RFC 7541 Appendix C (C.2 fields, C.3/C.4 requests without/with Huffman sharing a
 * dynamic table, C.5/C.6 responses with a 256-byte table and evictions), plus error cases.
 */
#include "core/core.h"
#include "vgtest.h"
#include "sensor/sensor_hpack.h"

/* Hex (spaces ignored) to bytes; returns the length. */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *h; h++) {
        int v;
        if (*h >= '0' && *h <= '9') {
            v = *h - '0';
        } else if (*h >= 'a' && *h <= 'f') {
            v = *h - 'a' + 10;
        } else {
            continue;
        }
        if (hi < 0) {
            hi = v;
        } else if (n < cap) {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

static struct vg_sbuf got = VG_SBUF_INIT;

static void collect(void *ctx, const struct vg_sensor_hpack_field *f)
{
    (void)ctx;
    if (f->size_update) {
        vg_sbuf_printf(&got, "[size %u]\n", f->size);
        return;
    }
    vg_sbuf_add(&got, f->name, f->nlen);
    vg_sbuf_adds(&got, ": ");
    vg_sbuf_add(&got, f->value, f->vlen);
    vg_sbuf_addc(&got, '\n');
}

static uint8_t scratch[4096];

/* Decode hex with h; returns the decoder's status, fields in got. */
static int decode_hex(struct vg_sensor_hpack *h, const char *hex)
{
    uint8_t buf[1024];
    size_t n = unhex(hex, buf, sizeof(buf));
    vg_sbuf_reset(&got);
    vg_sbuf_adds(&got, "");
    return vg_sensor_hpack_decode(h, buf, n, scratch, sizeof(scratch), collect, NULL);
}

VG_TEST(hpack_huffman_code_is_complete)
{
    /* A complete prefix code: sum 2^-len == 1 over the 257 symbols (Kraft equality); checked
     * through decoding: every byte value decodes back from its own code. */
    uint8_t out[4];
    /* '0' = 00000 (5 bits) + 3 bits of EOS padding */
    uint8_t a[] = {0x07};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(a, 1, out, sizeof(out)), 1);
    CHECK_EQ_INT(out[0], '0');
    /* 'a' 00011, then padding 111 */
    uint8_t b[] = {0x1f};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(b, 1, out, sizeof(out)), 1);
    CHECK_EQ_INT(out[0], 'a');
    /* '\\' is the first 19-bit code: 0x7fff0, + 5 bits of padding */
    uint8_t c[] = {0xff, 0xfe, 0x1f};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(c, 3, out, sizeof(out)), 1);
    CHECK_EQ_INT(out[0], '\\');
    /* 0xff: 26 bits 0x3ffffee, last of its length, + 6 bits of padding */
    uint8_t d[] = {0xff, 0xff, 0xfb, 0xbf};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(d, 4, out, sizeof(out)), 1);
    CHECK_EQ_INT(out[0], 0xff);
    /* 0x0a (LF) is 30 bits 0x3ffffffc + 2 bits of padding */
    uint8_t e[] = {0xff, 0xff, 0xff, 0xf3};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(e, 4, out, sizeof(out)), 1);
    CHECK_EQ_INT(out[0], 0x0a);
}

VG_TEST(hpack_huffman_errors)
{
    uint8_t out[8];
    /* EOS (30 ones) inside the string */
    uint8_t eos[] = {0xff, 0xff, 0xff, 0xff};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(eos, 4, out, sizeof(out)),
                 VG_SENSOR_HPACK_E_HUFFMAN);
    /* padding that is not all ones: '0' then 000 */
    uint8_t pad0[] = {0x00};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(pad0, 1, out, sizeof(out)),
                 VG_SENSOR_HPACK_E_HUFFMAN);
    /* 8 bits of padding (a whole 0xff byte after a symbol) */
    uint8_t pad8[] = {0x07, 0xff};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(pad8, 2, out, sizeof(out)),
                 VG_SENSOR_HPACK_E_HUFFMAN);
    /* output bound */
    uint8_t many[] = {0x00, 0x00, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(vg_sensor_hpack_huffman_decode(many, 5, out, 3), VG_SENSOR_HPACK_E_TOO_LONG);
}

VG_TEST(hpack_integers)
{
    /* C.1.1: 10 with a 5-bit prefix; C.1.2: 1337; C.1.3: 42 with 8 bits */
    uint8_t a[] = {0x0a}, b[] = {0x1f, 0x9a, 0x0a}, c[] = {0x2a};
    size_t pos = 0;
    uint32_t v = 0;
    CHECK_EQ_INT(vg_sensor_hpack_int(a, 1, &pos, 5, &v), 0);
    CHECK_EQ_INT(v, 10);
    pos = 0;
    CHECK_EQ_INT(vg_sensor_hpack_int(b, 3, &pos, 5, &v), 0);
    CHECK_EQ_INT(v, 1337);
    CHECK_EQ_INT(pos, 3);
    pos = 0;
    CHECK_EQ_INT(vg_sensor_hpack_int(c, 1, &pos, 8, &v), 0);
    CHECK_EQ_INT(v, 42);
    uint8_t trunc[] = {0x1f, 0x9a};
    pos = 0;
    CHECK_EQ_INT(vg_sensor_hpack_int(trunc, 2, &pos, 5, &v), VG_SENSOR_HPACK_E_TRUNCATED);
    uint8_t big[] = {0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f};
    pos = 0;
    CHECK_EQ_INT(vg_sensor_hpack_int(big, sizeof(big), &pos, 5, &v), VG_SENSOR_HPACK_E_INTEGER);
    uint8_t longer[] = {0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    pos = 0;
    CHECK_EQ_INT(vg_sensor_hpack_int(longer, sizeof(longer), &pos, 5, &v),
                 VG_SENSOR_HPACK_E_INTEGER);
}

VG_TEST(hpack_c2_fields)
{
    struct vg_sensor_hpack h;
    vg_sensor_hpack_init(&h);
    CHECK_EQ_INT(decode_hex(&h, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
                 0);
    CHECK_STR(got.p, "custom-key: custom-header\n");
    CHECK_EQ_INT(h.size, 55);
    CHECK_EQ_INT(h.ent_count, 1);
    vg_sensor_hpack_fini(&h);

    vg_sensor_hpack_init(&h);
    CHECK_EQ_INT(decode_hex(&h, "040c 2f73 616d 706c 652f 7061 7468"), 0);
    CHECK_STR(got.p, ":path: /sample/path\n");
    CHECK_EQ_INT(h.ent_count, 0);
    CHECK_EQ_INT(decode_hex(&h, "1008 7061 7373 776f 7264 0673 6563 7265 74"), 0);
    CHECK_STR(got.p, "password: secret\n");
    CHECK_EQ_INT(h.ent_count, 0);
    CHECK_EQ_INT(decode_hex(&h, "82"), 0);
    CHECK_STR(got.p, ":method: GET\n");
    vg_sensor_hpack_fini(&h);
}

static const char *const req1 =
    ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n";
static const char *const req2 = ":method: GET\n:scheme: http\n:path: /\n:authority: "
                                "www.example.com\ncache-control: no-cache\n";
static const char *const req3 = ":method: GET\n:scheme: https\n:path: /index.html\n:authority: "
                                "www.example.com\ncustom-key: custom-value\n";

static void requests(const char *const hex[3])
{
    struct vg_sensor_hpack h;
    vg_sensor_hpack_init(&h);
    CHECK_EQ_INT(decode_hex(&h, hex[0]), 0);
    CHECK_STR(got.p, req1);
    CHECK_EQ_INT(h.size, 57);
    CHECK_EQ_INT(decode_hex(&h, hex[1]), 0);
    CHECK_STR(got.p, req2);
    CHECK_EQ_INT(h.size, 110);
    CHECK_EQ_INT(decode_hex(&h, hex[2]), 0);
    CHECK_STR(got.p, req3);
    CHECK_EQ_INT(h.size, 164);
    CHECK_EQ_INT(h.ent_count, 3);
    vg_sensor_hpack_fini(&h);
}

VG_TEST(hpack_c3_requests_plain)
{
    static const char *const hex[3] = {
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    };
    requests(hex);
}

VG_TEST(hpack_c4_requests_huffman)
{
    static const char *const hex[3] = {
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    };
    requests(hex);
}

static const char *const rsp1 = ":status: 302\ncache-control: private\ndate: Mon, 21 Oct 2013 "
                                "20:13:21 GMT\nlocation: https://www.example.com\n";
static const char *const rsp2 = ":status: 307\ncache-control: private\ndate: Mon, 21 Oct 2013 "
                                "20:13:21 GMT\nlocation: https://www.example.com\n";
static const char *const rsp3 =
    ":status: 200\ncache-control: private\ndate: Mon, 21 Oct 2013 20:13:22 GMT\nlocation: "
    "https://www.example.com\ncontent-encoding: gzip\nset-cookie: "
    "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1\n";

static void responses(const char *const hex[3])
{
    struct vg_sensor_hpack h;
    vg_sensor_hpack_init(&h);
    vg_sensor_hpack_set_limit(&h, 256);
    h.max_size = 256; /* the examples start with a 256-byte table */
    CHECK_EQ_INT(decode_hex(&h, hex[0]), 0);
    CHECK_STR(got.p, rsp1);
    CHECK_EQ_INT(h.size, 222);
    CHECK_EQ_INT(h.ent_count, 4);
    CHECK_EQ_INT(decode_hex(&h, hex[1]), 0);
    CHECK_STR(got.p, rsp2);
    CHECK_EQ_INT(h.size, 222);
    CHECK_EQ_INT(h.evictions, 1);
    CHECK_EQ_INT(decode_hex(&h, hex[2]), 0);
    CHECK_STR(got.p, rsp3);
    CHECK_EQ_INT(h.size, 215);
    CHECK_EQ_INT(h.ent_count, 3);
    vg_sensor_hpack_fini(&h);
}

VG_TEST(hpack_c5_responses_plain)
{
    static const char *const hex[3] = {
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 "
        "303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 "
        "6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 "
        "5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 "
        "5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
    };
    responses(hex);
}

VG_TEST(hpack_c6_responses_huffman)
{
    static const char *const hex[3] = {
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b "
        "ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad "
        "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 "
        "65c0 03ed 4ee5 b106 3d50 07",
    };
    responses(hex);
}

VG_TEST(hpack_size_update_and_errors)
{
    struct vg_sensor_hpack h;
    vg_sensor_hpack_init(&h);
    CHECK_EQ_INT(decode_hex(&h, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"),
                 0);
    /* size update to 0 empties the table, then back to 4096 */
    CHECK_EQ_INT(decode_hex(&h, "20 3fe1 1f 82"), 0);
    CHECK_STR(got.p, "[size 0]\n[size 4096]\n:method: GET\n");
    CHECK_EQ_INT(h.ent_count, 0);
    /* above the limit (4096) */
    CHECK_EQ_INT(decode_hex(&h, "3fe2 1f"), VG_SENSOR_HPACK_E_SIZE);
    vg_sensor_hpack_set_limit(&h, 8192);
    CHECK_EQ_INT(decode_hex(&h, "3fe1 3f"), 0);
    CHECK_EQ_INT(h.max_size, 8192);
    /* index 0, index past the tables (62 with an empty dynamic table) */
    CHECK_EQ_INT(decode_hex(&h, "80"), VG_SENSOR_HPACK_E_INDEX);
    CHECK_EQ_INT(decode_hex(&h, "be"), VG_SENSOR_HPACK_E_INDEX);
    /* a literal that ends early */
    CHECK_EQ_INT(decode_hex(&h, "400a 6375 7374"), VG_SENSOR_HPACK_E_TRUNCATED);
    vg_sensor_hpack_fini(&h);
}

/* Many inserts through a small table: bounded, oldest evicted, newest found at index 62. */
VG_TEST(hpack_table_bounded)
{
    struct vg_sensor_hpack h;
    vg_sensor_hpack_init(&h);
    for (int i = 0; i < 2000; i++) {
        uint8_t blk[64];
        size_t n = 0;
        blk[n++] = 0x40;
        blk[n++] = 4;
        memcpy(blk + n, "x-id", 4);
        n += 4;
        char v[16];
        int k = snprintf(v, sizeof(v), "%d", i);
        blk[n++] = (uint8_t)k;
        memcpy(blk + n, v, (size_t)k);
        n += (size_t)k;
        blk[n++] = 0xbe; /* index 62: the entry just added */
        vg_sbuf_reset(&got);
        CHECK_EQ_INT(vg_sensor_hpack_decode(&h, blk, n, scratch, sizeof(scratch), collect, NULL),
                     0);
        CHECK(h.size <= 4096);
        if (i == 1999) {
            CHECK_STR(got.p, "x-id: 1999\nx-id: 1999\n");
        }
    }
    CHECK(h.evictions > 1800);
    CHECK(h.data_cap <= VG_SENSOR_HPACK_TABLE_MAX);
    vg_sensor_hpack_fini(&h);
    vg_sbuf_fini(&got);
}
