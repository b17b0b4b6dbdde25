/*
 * test_stream.c — TCP stream reassembly of the sensor engine (sensor_stream.c), through the
 * engine with a recording parser: in-order delivery, out-of-order segments, retransmissions
 * and overlaps (first copy wins), sequence wraparound, data on SYN, mid-stream pickup, holes
 * reported as gaps (peer ACK, flow end, FIN, RST, bounds with their counters), and request
 * before response across directions.
 */
#include "sensor_fw_build.h"
#include "vgtest.h"

/* End every flow and the engine (records stay in o). */
static void finish(struct vg_sensor_engine *e, struct fw_out *o)
{
    (void)o;
    vg_sensor_engine_flush(e);
    vg_sensor_engine_destroy(e);
}

VG_TEST(in_order_delivery)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "hello ");
    fw_c(e, 1007, 5001, FW_PA, "world");
    fw_s(e, 5001, 1012, FW_PA, "ok");
    CHECK_STR(fw_echo_str(0), "hello world");
    CHECK_STR(fw_echo_str(1), "ok");
    finish(e, &o);
    CHECK_EQ_INT(fw_echo.ends, 1);
    CHECK(strstr(o.all.p, "\"app_proto\":\"echo\"") != NULL);
    vg_sbuf_fini(&o.all);
}

VG_TEST(out_of_order_waits_then_delivers)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1007, 5001, FW_PA, "world");
    fw_c(e, 1012, 5001, FW_PA, "!");
    CHECK_STR(fw_echo_str(0), "");
    fw_c(e, 1001, 5001, FW_PA, "hello ");
    CHECK_STR(fw_echo_str(0), "hello world!");
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.tcp_gaps, 0);
    CHECK_EQ_INT(e->stream_total, 0);
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(retransmission_and_overlap_first_copy_wins)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "abcdef");
    fw_c(e, 1001, 5001, FW_PA, "XXXXXX");  /* full retransmission with other bytes */
    fw_c(e, 1004, 5001, FW_PA, "YYYghi");  /* overlap: only "ghi" is new */
    fw_c(e, 1013, 5001, FW_PA, "mno");     /* waits */
    fw_c(e, 1013, 5001, FW_PA, "ZZZ");     /* retransmission of a waiting segment */
    fw_c(e, 1008, 5001, FW_PA, "QQjklQQ"); /* fills [1010,1013) and overlaps both sides */
    CHECK_STR(fw_echo_str(0), "abcdefghijklmno");
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(sequence_wraparound)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    uint32_t isn = 0xfffffffau;
    fw_handshake(e, isn, 7);
    fw_c(e, isn + 1, 8, FW_PA, "12345"); /* ends at 0xffffffff */
    fw_c(e, isn + 11, 8, FW_PA, "ABCD"); /* past zero, out of order */
    fw_c(e, isn + 6, 8, FW_PA, "67890"); /* crosses zero */
    CHECK_STR(fw_echo_str(0), "1234567890ABCD");
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(data_on_syn_and_midstream_pickup)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_c(e, 100, 0, FW_SYN, "fastopen");
    fw_s(e, 900, 109, FW_SYN | FW_ACK, NULL);
    fw_c(e, 109, 901, FW_PA, "+more");
    CHECK_STR(fw_echo_str(0), "fastopen+more");
    finish(e, &o);

    struct fw_out o2 = {0};
    e = fw_engine(&o2, 0);
    fw_c(e, 5555, 777, FW_PA, "mid");
    fw_s(e, 777, 5558, FW_PA, "stream");
    fw_c(e, 5558, 783, FW_PA, "!");
    CHECK_STR(fw_echo_str(0), "mid!");
    CHECK_STR(fw_echo_str(1), "stream");
    finish(e, &o2);
    vg_sbuf_fini(&o.all);
    vg_sbuf_fini(&o2.all);
}

VG_TEST(hole_reported_at_flow_end)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "aaa");
    fw_c(e, 1009, 5001, FW_PA, "ccc");
    CHECK_STR(fw_echo_str(0), "aaa");
    vg_sensor_engine_flush(e);
    CHECK_STR(fw_echo_str(0), "aaa[gap 5]ccc");
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.tcp_gaps, 1);
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(peer_ack_turns_hole_into_gap_before_response)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "GET ");
    fw_c(e, 1010, 5001, FW_PA, "tail"); /* bytes 1005..1009 never captured */
    fw_s(e, 5001, 1014, FW_PA, "reply");
    CHECK_STR(fw_echo_str(0), "GET [gap 5]tail");
    CHECK_STR(fw_echo_str(1), "reply");
    /* the client's bytes reached the parser before the server's answer */
    CHECK_STR(fw_echo.order.p, "CCS");
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(fin_with_missing_bytes_gives_gap)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "abc");
    fw_c(e, 1010, 5001, FW_FA, NULL); /* FIN at 1010: 1004..1009 lost */
    vg_sensor_engine_flush(e);
    CHECK_STR(fw_echo_str(0), "abc[gap 6]");
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(rst_flushes_waiting_segments)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "ab");
    fw_c(e, 1005, 5001, FW_PA, "ef");
    fw_s(e, 5001, 0, FW_RST, NULL);
    CHECK_STR(fw_echo_str(0), "ab[gap 2]ef");
    fw_c(e, 1007, 5001, FW_PA, "late"); /* after RST: ignored */
    CHECK_STR(fw_echo_str(0), "ab[gap 2]ef");
    finish(e, &o);
    CHECK(strstr(o.all.p, "\"state\":\"closed\"") != NULL);
    vg_sbuf_fini(&o.all);
}

VG_TEST(per_flow_bound_counts_and_gives_up_on_hole)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 8);
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "a");
    fw_c(e, 1003, 5001, FW_PA, "cccc");
    fw_c(e, 1007, 5001, FW_PA, "dddd");
    fw_c(e, 1011, 5001, FW_PA, "eeee"); /* 12 bytes would wait > 8: bound */
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.tcp_ooo_dropped, 1);
    CHECK_STR(fw_echo_str(0), "a[gap 1]ccccddddeeee");
    CHECK_EQ_INT(e->stream_total, 0);
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(engine_bound_counts_memcap)
{
    struct fw_out o = {0};
    struct vg_sensor_engine_config cfg;
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    cfg.stream_max_total = 6;
    struct vg_sensor_engine *e = NULL;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, fw_sink, &o, &e), VG_OK);
    vg_sensor_engine_set_protos(e, fw_protos_echo, 1);
    fw_echo_reset();
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1003, 5001, FW_PA, "cccc");
    fw_c(e, 1007, 5001, FW_PA, "dddd");
    struct vg_sensor_engine_stats st;
    vg_sensor_engine_stats(e, &st);
    CHECK_EQ_INT(st.tcp_memcap_hits, 1);
    CHECK_STR(fw_echo_str(0), "[gap 2]ccccdddd");
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(done_parser_stops_buffering)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    fw_echo.answer = VG_SENSOR_APP_DONE;
    fw_handshake(e, 1000, 5000);
    fw_c(e, 1001, 5001, FW_PA, "one");
    fw_c(e, 1010, 5001, FW_PA, "later");
    fw_c(e, 1004, 5001, FW_PA, "two");
    CHECK_STR(fw_echo_str(0), "one");
    CHECK_EQ_INT(e->stream_total, 0);
    finish(e, &o);
    CHECK_EQ_INT(fw_echo.ends, 0);
    vg_sbuf_fini(&o.all);
}

VG_TEST(many_random_orders_deliver_exactly_once)
{
    /* 64 segments of 7 bytes in a shuffled order, some sent twice: always the same bytes. */
    char want[64 * 7 + 1];
    for (int i = 0; i < 64 * 7; i++) {
        want[i] = (char)('a' + (i * 7 + i / 7) % 26);
    }
    want[64 * 7] = '\0';
    uint64_t rnd = 42;
    for (int round = 0; round < 20; round++) {
        struct fw_out o = {0};
        struct vg_sensor_engine *e = fw_engine(&o, 0);
        fw_handshake(e, 0xfffffe00u, 5000);
        int order[96];
        for (int i = 0; i < 96; i++) {
            order[i] = i % 64;
        }
        for (int i = 95; i > 0; i--) {
            rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
            int j = (int)((rnd >> 33) % (uint64_t)(i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int i = 0; i < 96; i++) {
            char seg[8];
            memcpy(seg, want + order[i] * 7, 7);
            seg[7] = '\0';
            fw_c(e, 0xfffffe01u + (uint32_t)order[i] * 7, 5001, FW_PA, seg);
        }
        CHECK_STR(fw_echo_str(0), want);
        finish(e, &o);
        vg_sbuf_fini(&o.all);
    }
}

/* ------------------------------------------------------------------ TCP session validation */

/* A TCP option block: timestamp (tsval, tsecr) when ts, else a signature of kind sig_kind
 * (19 TCP-MD5, 29 TCP-AO) when non-zero. */
struct opt_spec {
    bool ts;
    uint32_t tsval, tsecr;
    uint8_t sig_kind;
    uint16_t win;
};

/* Like fw_c / fw_s (from_cli), with TCP options and an explicit window. */
static void seg_opt(struct vg_sensor_engine *e, bool from_cli, uint32_t seq, uint32_t ack,
                    uint8_t fl, const struct opt_spec *os, const char *data)
{
    uint8_t opt[20] = {0}, b[2048];
    size_t ol = 0, n = data ? strlen(data) : 0;
    if (os->ts) {
        uint8_t t[12] = {1, 1, 8, 10};
        for (int i = 0; i < 4; i++) {
            t[4 + i] = (uint8_t)(os->tsval >> (24 - 8 * i));
            t[8 + i] = (uint8_t)(os->tsecr >> (24 - 8 * i));
        }
        memcpy(opt, t, 12);
        ol = 12;
    } else if (os->sig_kind == 19) {
        opt[0] = 19;
        opt[1] = 18; /* kind, length, 16-byte digest */
        ol = 20;     /* + 2 bytes of padding (EOL) */
    } else if (os->sig_kind == 29) {
        opt[0] = 29;
        opt[1] = 4; /* kind, length, key ids */
        ol = 4;
    }
    uint32_t src = from_cli ? FW_CLI : FW_SRV, dst = from_cli ? FW_SRV : FW_CLI;
    uint16_t sp = from_cli ? 40000 : 7777, dp = from_cli ? 7777 : 40000;
    size_t o = fw_ip4(b, src, dst, 6, 20 + ol + n, 1, 0);
    uint8_t *t = b + o;
    memset(t, 0, 20);
    t[0] = (uint8_t)(sp >> 8);
    t[1] = (uint8_t)sp;
    t[2] = (uint8_t)(dp >> 8);
    t[3] = (uint8_t)dp;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = (uint8_t)(((20 + ol) / 4) << 4);
    t[13] = fl;
    t[14] = (uint8_t)(os->win >> 8);
    t[15] = (uint8_t)os->win;
    memcpy(t + 20, opt, ol);
    if (n) {
        memcpy(t + 20 + ol, data, n);
    }
    fw_cnt++;
    fw_feed(e, b, o + 20 + ol + n, FW_SEC + (int64_t)fw_cnt * 1000, fw_cnt);
}

VG_TEST(resent_syns_the_synack_picks_the_isn)
{
    /* Many SYNs with new ISNs: the latest wins. */
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    for (uint32_t i = 0; i < 20; i++) {
        fw_c(e, 1000 + i * 77777, 0, FW_SYN, NULL);
    }
    uint32_t last = 1000 + 19 * 77777;
    fw_s(e, 5000, last + 1, FW_SYN | FW_ACK, NULL);
    fw_c(e, last + 1, 5001, FW_PA, "GET /");
    fw_s(e, 5001, last + 6, FW_PA, "200");
    CHECK_STR(fw_echo_str(0), "GET /");
    CHECK_STR(fw_echo_str(1), "200");
    finish(e, &o);
    vg_sbuf_fini(&o.all);

    /* The SYN-ACK acknowledges an earlier SYN (one of the last few): that one. */
    struct fw_out o2 = {0};
    e = fw_engine(&o2, 0);
    fw_c(e, 1000, 0, FW_SYN, NULL);
    fw_c(e, 2000, 0, FW_SYN, NULL);
    fw_c(e, 3000, 0, FW_SYN, NULL);
    fw_s(e, 5000, 2001, FW_SYN | FW_ACK, NULL);
    fw_c(e, 2001, 5001, FW_PA, "abc");
    CHECK_STR(fw_echo_str(0), "abc");
    /* A later SYN once bytes flowed does not move the ISN. */
    fw_c(e, 9000, 0, FW_SYN, NULL);
    fw_c(e, 2004, 5001, FW_PA, "def");
    CHECK_STR(fw_echo_str(0), "abcdef");
    finish(e, &o2);
    vg_sbuf_fini(&o2.all);

    /* A SYN-ACK acknowledging no SYN seen keeps the latest one. */
    struct fw_out o3 = {0};
    e = fw_engine(&o3, 0);
    fw_c(e, 1000, 0, FW_SYN, NULL);
    fw_c(e, 3000, 0, FW_SYN, NULL);
    fw_s(e, 5000, 777, FW_SYN | FW_ACK, NULL);
    fw_c(e, 3001, 5001, FW_PA, "xyz");
    CHECK_STR(fw_echo_str(0), "xyz");
    finish(e, &o3);
    vg_sbuf_fini(&o3.all);
}

VG_TEST(signed_rst_is_ignored_and_data_follows)
{
    for (int k = 0; k < 2; k++) {
        struct fw_out o = {0};
        struct vg_sensor_engine *e = fw_engine(&o, 0);
        struct opt_spec sig = {.sig_kind = k ? 29 : 19, .win = 8192};
        fw_handshake(e, 1000, 5000);
        seg_opt(e, true, 1001, 5001, FW_RST | FW_ACK, &sig, NULL); /* MD5 / AO: unverifiable */
        fw_c(e, 1001, 5001, FW_PA, "GET /x");
        fw_s(e, 5001, 1007, FW_PA, "200 ok");
        CHECK_STR(fw_echo_str(0), "GET /x");
        CHECK_STR(fw_echo_str(1), "200 ok");
        vg_sensor_engine_flush(e);
        /* The sender went on: the session was not closed by that RST. */
        CHECK_EQ_INT(fw_count(&o, "\"state\":\"established\"}}"), 1);
        finish(e, &o);
        vg_sbuf_fini(&o.all);
    }

    /* Unsigned, the same RST ends both streams. */
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    struct opt_spec none = {.win = 8192};
    fw_handshake(e, 1000, 5000);
    seg_opt(e, true, 1001, 5001, FW_RST | FW_ACK, &none, NULL);
    fw_c(e, 1001, 5001, FW_PA, "GET /x");
    CHECK_STR(fw_echo_str(0), "");
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"state\":\"closed\"}}"), 1);
    finish(e, &o);
    vg_sbuf_fini(&o.all);

    /* A signed RST that nobody contradicts leaves the session closed. */
    struct fw_out o2 = {0};
    e = fw_engine(&o2, 0);
    struct opt_spec sig = {.sig_kind = 19, .win = 8192};
    fw_handshake(e, 1000, 5000);
    seg_opt(e, true, 1001, 5001, FW_RST | FW_ACK, &sig, NULL);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o2, "\"state\":\"closed\"}}"), 1);
    finish(e, &o2);
    vg_sbuf_fini(&o2.all);
}

/* The evasion of bug 3286: before the SYN-ACK, the "server" sends a RST and a FIN whose
 * timestamps do not echo the SYN (with_ts: the SYN had one), then the client's kernel answers
 * with a RST that does not cancel its SYN; the real handshake and exchange follow. */
static void evasion_run(bool with_ts)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    struct opt_spec syn = {.ts = with_ts, .tsval = 1821165629, .win = 64240};
    struct opt_spec bad = {.ts = true, .tsval = 100, .tsecr = 100};
    struct opt_spec synack = {.ts = with_ts, .tsval = 555, .tsecr = 1821165629, .win = 64240};
    struct opt_spec cts = {.ts = with_ts, .tsval = 1821165693, .tsecr = 555, .win = 502};
    struct opt_spec sts = {.ts = with_ts, .tsval = 556, .tsecr = 1821165693, .win = 502};
    struct opt_spec none = {.win = 0};
    seg_opt(e, true, 3000, 0, FW_SYN, &syn, NULL);
    seg_opt(e, false, 0, 3001, FW_RST | FW_ACK, &bad, NULL);
    seg_opt(e, false, 0, 3001, FW_FA, &bad, NULL);
    seg_opt(e, true, 3001, 0, FW_RST, &none, NULL); /* seq is ISN+1: does not cancel */
    seg_opt(e, false, 26175, 3001, FW_SYN | FW_ACK, &synack, NULL);
    seg_opt(e, true, 3001, 26176, FW_ACK, &cts, NULL);
    seg_opt(e, true, 3001, 26176, FW_PA, &cts, "GET / HTTP/1.1");
    seg_opt(e, false, 26176, 3015, FW_PA, &sts, "HTTP/1.1 200");
    CHECK_STR(fw_echo_str(0), "GET / HTTP/1.1");
    CHECK_STR(fw_echo_str(1), "HTTP/1.1 200");
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"state\":\"established\"}}"), 1);
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}

VG_TEST(rst_and_fin_with_bad_timestamps_before_synack_are_ignored)
{
    evasion_run(true);
    evasion_run(false);

    /* A genuine refusal (acknowledges the SYN, no contradicting timestamp) closes. */
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    struct opt_spec syn = {.ts = true, .tsval = 42, .win = 64240};
    struct opt_spec none = {.win = 0};
    seg_opt(e, true, 3000, 0, FW_SYN, &syn, NULL);
    seg_opt(e, false, 0, 3001, FW_RST | FW_ACK, &none, NULL);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"state\":\"closed\"}}"), 1);
    finish(e, &o);
    vg_sbuf_fini(&o.all);

    /* The client cancelling its own SYN exactly (seq ISN, ack ISN+1, window 0) closes. */
    struct fw_out o2 = {0};
    e = fw_engine(&o2, 0);
    seg_opt(e, true, 3000, 0, FW_SYN, &syn, NULL);
    seg_opt(e, true, 3000, 3001, FW_RST | FW_ACK, &none, NULL);
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o2, "\"state\":\"closed\"}}"), 1);
    finish(e, &o2);
    vg_sbuf_fini(&o2.all);
}

VG_TEST(outdated_timestamp_rst_is_ignored_once_negotiated)
{
    struct fw_out o = {0};
    struct vg_sensor_engine *e = fw_engine(&o, 0);
    struct opt_spec syn = {.ts = true, .tsval = 1000, .win = 64240};
    struct opt_spec synack = {.ts = true, .tsval = 9000, .tsecr = 1000, .win = 64240};
    struct opt_spec c1 = {.ts = true, .tsval = 1010, .tsecr = 9000, .win = 502};
    struct opt_spec s1 = {.ts = true, .tsval = 9010, .tsecr = 1010, .win = 502};
    struct opt_spec old = {.ts = true, .tsval = 8000, .tsecr = 1010, .win = 502};
    seg_opt(e, true, 3000, 0, FW_SYN, &syn, NULL);
    seg_opt(e, false, 7000, 3001, FW_SYN | FW_ACK, &synack, NULL);
    seg_opt(e, true, 3001, 7001, FW_PA, &c1, "req");
    seg_opt(e, false, 7001, 3004, FW_PA, &s1, "resp");
    seg_opt(e, false, 7005, 3004, FW_RST | FW_ACK, &old, NULL); /* older than 9010: dropped */
    seg_opt(e, false, 7005, 3004, FW_FA, &old, NULL);           /* likewise */
    seg_opt(e, false, 7005, 3004, FW_PA, &s1, "+more");
    CHECK_STR(fw_echo_str(1), "resp+more");
    vg_sensor_engine_flush(e);
    CHECK_EQ_INT(fw_count(&o, "\"state\":\"established\"}}"), 1);
    finish(e, &o);
    vg_sbuf_fini(&o.all);
}
