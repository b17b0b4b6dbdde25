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
