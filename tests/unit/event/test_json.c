/*
 * test_json.c — the JSON reader/writer and JSON → event flattening, the field registry.
 */
#include "decode/decode.h"
#include "event/event.h"
#include "vgtest.h"

#include <pthread.h>

static int parse(const char *s, struct vg_json **out, struct vg_arena *a, char *err)
{
    static struct vg_json_parser *p;
    if (!p) {
        struct vg_json_limits lim = {.max_depth = 16, .max_len = 1 << 16};
        p = vg_json_parser_create(&lim);
    }
    size_t used;
    return vg_json_parse(p, a, s, strlen(s), &used, out, err, 128);
}

VG_TEST(json_values)
{
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *v;
    char err[128];
    CHECK(parse("{\"a\":1,\"b\":-2.5e1,\"c\":\"x\\u00e9\\ud83e\\udd86\",\"d\":[true,false,null],"
                "\"e\":{}}",
                &v, a, err) == VG_OK);
    CHECK_EQ_INT(v->type, VG_JSON_OBJECT);
    CHECK_EQ_INT(vg_json_get(v, "a")->u.i, 1);
    CHECK(vg_json_get(v, "b")->u.d == -25.0);
    CHECK_MEM(vg_json_get(v, "c")->s, vg_json_get(v, "c")->n, "x\xc3\xa9\xf0\x9f\xa6\x86");
    CHECK_EQ_INT(vg_json_get(v, "d")->n, 3);
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_json_write(v, &s);
    CHECK_STR(s.p, "{\"a\":1,\"b\":-2.5e1,\"c\":\"x\xc3\xa9\xf0\x9f\xa6\x86\",\"d\":[true,false,"
                   "null],\"e\":{}}");
    vg_sbuf_fini(&s);
    vg_arena_destroy(a);
}

VG_TEST(json_errors)
{
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *v;
    char err[128];
    CHECK(parse("{\"a\":1", &v, a, err) == VG_ETRUNC);
    CHECK(parse("{\"a\" 1}", &v, a, err) == VG_EINVAL);
    CHECK(strstr(err, "offset 5") != NULL);
    CHECK(parse("{\"a\":tru}", &v, a, err) == VG_EINVAL);
    CHECK(parse("{\"a\":\"\\x\"}", &v, a, err) == VG_EINVAL);
    CHECK(parse("[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]", &v, a, err) == VG_ELIMIT);
    CHECK(parse("   ", &v, a, err) == VG_EOF);
    CHECK(parse("\"\\ud800\"", &v, a, err) == VG_OK); /* lone surrogate → U+FFFD */
    CHECK_MEM(v->s, v->n, "\xef\xbf\xbd");
    vg_arena_destroy(a);
}

VG_TEST(json_to_event_flattening)
{
    struct vg_event *ev = vg_event_create();
    struct vg_json *v;
    char err[128];
    CHECK(parse("{\"process\":{\"name\":\"cmd.exe\",\"pid\":42},\"tags\":[\"a\",\"b\"],\"n\":null}",
                &v, ev->arena, err) == VG_OK);
    CHECK(vg_decode_json(ev, v) == VG_OK);
    size_t n;
    CHECK_MEM(vg_event_get_str(ev, "process.name", &n), n, "cmd.exe");
    uint32_t tags = vg_field_lookup("tags", 4);
    struct vg_field *f = vg_event_get(ev, tags);
    CHECK(f && vg_event_next(ev, f) && !vg_event_next(ev, vg_event_next(ev, f)));
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_event_write_json(ev, &s);
    CHECK_STR(s.p, "{\"process.name\":\"cmd.exe\",\"process.pid\":42,\"tags\":[\"a\",\"b\"],"
                   "\"n\":null}");
    vg_sbuf_fini(&s);
    vg_event_destroy(ev);
}

VG_TEST(windows_json_rendering)
{
    struct vg_event *ev = vg_event_create();
    struct vg_json *v;
    char err[128];
    const char *doc =
        "{\"Event\":{\"#attributes\":{\"xmlns\":\"x\"},\"System\":{\"Provider\":{\"#attributes\":"
        "{\"Name\":\"Microsoft-Windows-Sysmon\",\"Guid\":\"5770385F\"}},\"EventID\":1,"
        "\"TimeCreated\":{\"#attributes\":{\"SystemTime\":\"2025-12-10T04:33:20.562782Z\"}},"
        "\"Channel\":\"Microsoft-Windows-Sysmon/Operational\"},\"EventData\":{\"Image\":"
        "\"C:\\\\x.exe\",\"Threat Name\":\"EICAR\"}}}";
    CHECK(parse(doc, &v, ev->arena, err) == VG_OK);
    CHECK(vg_decode_json(ev, v) == VG_OK);
    CHECK_EQ_INT(ev->kind, VG_EK_WINDOWS);
    size_t n;
    CHECK_MEM(vg_event_get_str(ev, "Provider_Name", &n), n, "Microsoft-Windows-Sysmon");
    CHECK_MEM(vg_event_get_str(ev, "EventID", &n), n, "1");
    CHECK_MEM(vg_event_get_str(ev, "Image", &n), n, "C:\\x.exe");
    CHECK_MEM(vg_event_get_str(ev, "ThreatName", &n), n, "EICAR");
    char t[40];
    vg_time_format(ev->ts, t, sizeof(t));
    CHECK_STR(t, "2025-12-10T04:33:20.562782Z");
    vg_event_destroy(ev);
}

static void *intern_many(void *arg)
{
    uintptr_t base = (uintptr_t)arg;
    for (int i = 0; i < 5000; i++) {
        char name[32];
        int n = snprintf(name, sizeof(name), "field_%d", (int)((i * 7 + base) % 3000));
        uint32_t id = vg_field_intern(name, (size_t)n);
        size_t l;
        const char *back = vg_field_name(id, &l);
        if (l != (size_t)n || memcmp(back, name, l) != 0) {
            return (void *)1;
        }
    }
    return NULL;
}

VG_TEST(field_registry_concurrent)
{
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, intern_many, (void *)(i * 13));
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECK(r == NULL);
    }
    CHECK(vg_field_lookup("field_0", 7) != VG_FIELD_NONE);
    CHECK(vg_field_lookup("no_such_field_xyz", 17) == VG_FIELD_NONE);
}
