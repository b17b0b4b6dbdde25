/*
 * test_template.c — templating and conditions: JSON types kept, filters, dotted keys,
 * missing paths, hostile values staying data, bounds.
 */
#include <string.h>

#include "respond/respond_int.h"
#include "vgtest.h"

static const char ctx_text[] =
    "{\"alert\":{\"id\":42,\"source.ip\":\"203.0.113.5\",\"level\":\"high\",\"rule\":{\"id\":"
    "\"R1\"},"
    "\"tags\":[\"attack.t1110\",\"attack.credential_access\"],\"user\":\"; rm -rf / #\","
    "\"quote\":\"a\\\"b{{ alert.id }}\",\"n\":null,\"flag\":true,\"score\":7.5},"
    "\"inputs\":{\"duration\":\"1h\",\"n\":3},"
    "\"steps\":{\"block\":{\"output\":{\"expires\":\"2026-01-01\",\"list\":[1,2,3]}}}}";

struct fixture {
    struct vg_arena *a;
    struct vg_json_parser *jp;
    struct vg_json *ctx;
};

static void fx_init(struct fixture *f)
{
    size_t used;
    char err[128];
    f->a = vg_arena_create(4096);
    f->jp = vg_json_parser_create(NULL);
    CHECK_EQ_INT(
        vg_json_parse(f->jp, f->a, ctx_text, strlen(ctx_text), &used, &f->ctx, err, sizeof(err)),
        VG_OK);
}

static void fx_fini(struct fixture *f)
{
    vg_json_parser_destroy(f->jp);
    vg_arena_destroy(f->a);
}

/* Render a template given as JSON text; returns the rendered JSON (static) or the error. */
static const char *render(struct fixture *f, const char *tmpl, int *rc_out)
{
    static char out[4096];
    struct vg_json *t;
    size_t used;
    char err[512];
    int rc = vg_json_parse(f->jp, f->a, tmpl, strlen(tmpl), &used, &t, err, sizeof(err));
    CHECK_EQ_INT(rc, VG_OK);
    struct vg_sbuf b = VG_SBUF_INIT;
    rc = vg_tmpl_render(t, f->ctx, &b, err, sizeof(err));
    snprintf(out, sizeof(out), "%s", rc == VG_OK ? (b.p ? b.p : "") : err);
    vg_sbuf_fini(&b);
    if (rc_out) {
        *rc_out = rc;
    }
    return out;
}

VG_TEST(whole_template_keeps_type)
{
    struct fixture f;
    fx_init(&f);
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.id }}\"}", NULL), "{\"a\":42}");
    CHECK_STR(render(&f, "{\"a\":\"{{alert.tags}}\"}", NULL),
              "{\"a\":[\"attack.t1110\",\"attack.credential_access\"]}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.flag }}\",\"b\":\"{{ alert.score }}\"}", NULL),
              "{\"a\":true,\"b\":7.5}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.n }}\"}", NULL), "{\"a\":null}");
    /* interpolated: always a string */
    CHECK_STR(render(&f, "{\"a\":\"id={{ alert.id }}\"}", NULL), "{\"a\":\"id=42\"}");
    fx_fini(&f);
}

VG_TEST(paths_dotted_keys_and_indexes)
{
    struct fixture f;
    fx_init(&f);
    CHECK_STR(render(&f, "{\"ip\":\"{{ alert.source.ip }}\"}", NULL), "{\"ip\":\"203.0.113.5\"}");
    CHECK_STR(render(&f, "{\"r\":\"{{ alert.rule.id }}\"}", NULL), "{\"r\":\"R1\"}");
    CHECK_STR(render(&f, "[\"{{ alert.tags[1] }}\",\"{{ steps.block.output.list[2] }}\"]", NULL),
              "[\"attack.credential_access\",3]");
    CHECK_STR(render(&f, "{\"e\":\"until {{ steps.block.output.expires }}\"}", NULL),
              "{\"e\":\"until 2026-01-01\"}");
    CHECK_STR(render(&f, "{\"d\":\"{{ inputs.duration }}\",\"n\":\"{{ inputs.n }}\"}", NULL),
              "{\"d\":\"1h\",\"n\":3}");
    fx_fini(&f);
}

VG_TEST(filters)
{
    struct fixture f;
    fx_init(&f);
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.missing | default('x') }}\"}", NULL), "{\"a\":\"x\"}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.missing | default(5) }}\"}", NULL), "{\"a\":5}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.n | default('none') }}\"}", NULL), "{\"a\":\"none\"}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.level | upper }}\"}", NULL), "{\"a\":\"HIGH\"}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.rule.id | lower }}\"}", NULL), "{\"a\":\"r1\"}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.tags | join(',') }}\"}", NULL),
              "{\"a\":\"attack.t1110,attack.credential_access\"}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.rule | json }}\"}", NULL),
              "{\"a\":\"{\\\"id\\\":\\\"R1\\\"}\"}");
    CHECK_STR(render(&f, "{\"a\":\"{{ alert.missing | default('A') | lower }}\"}", NULL),
              "{\"a\":\"a\"}");
    fx_fini(&f);
}

VG_TEST(missing_path_fails_clearly)
{
    struct fixture f;
    int rc;
    fx_init(&f);
    const char *e = render(&f, "{\"a\":\"{{ alert.nope }}\"}", &rc);
    CHECK_EQ_INT(rc, VG_EINVAL);
    CHECK(strstr(e, "no value at 'alert.nope'") != NULL);
    render(&f, "{\"a\":\"x {{ steps.other.output.x }}\"}", &rc);
    CHECK_EQ_INT(rc, VG_EINVAL);
    render(&f, "{\"a\":\"{{ alert.tags[9] }}\"}", &rc);
    CHECK_EQ_INT(rc, VG_EINVAL);
    e = render(&f, "{\"a\":\"{{ alert.id | shell }}\"}", &rc);
    CHECK_EQ_INT(rc, VG_EINVAL);
    CHECK(strstr(e, "unknown filter 'shell'") != NULL);
    render(&f, "{\"a\":\"{{ alert.id \"}", &rc);
    CHECK_EQ_INT(rc, VG_EINVAL);
    fx_fini(&f);
}

VG_TEST(hostile_values_stay_data)
{
    struct fixture f;
    fx_init(&f);
    CHECK_STR(render(&f, "{\"argv\":[\"--user\",\"{{ alert.user }}\"]}", NULL),
              "{\"argv\":[\"--user\",\"; rm -rf / #\"]}");
    /* a value that looks like a template is not expanded again; quotes stay escaped */
    CHECK_STR(render(&f, "{\"q\":\"x{{ alert.quote }}\"}", NULL),
              "{\"q\":\"xa\\\"b{{ alert.id }}\"}");
    CHECK_STR(render(&f, "{\"q\":\"{{ alert.quote }}\"}", NULL),
              "{\"q\":\"a\\\"b{{ alert.id }}\"}");
    fx_fini(&f);
}

VG_TEST(render_text_and_check)
{
    struct fixture f;
    char err[256];
    fx_init(&f);
    struct vg_sbuf b = VG_SBUF_INIT;
    CHECK_EQ_INT(
        vg_tmpl_render_text("Block {{ alert.source.ip }}?", 28, f.ctx, &b, err, sizeof(err)),
        VG_OK);
    CHECK_STR(b.p, "Block 203.0.113.5?");
    vg_sbuf_fini(&b);
    CHECK_EQ_INT(vg_tmpl_check("a {{ b", 6, NULL, NULL, err, sizeof(err)), VG_EINVAL);
    CHECK_STR(err, "unclosed '{{' (missing '}}')");
    CHECK_EQ_INT(vg_tmpl_check("{{ a..b }}", 10, NULL, NULL, err, sizeof(err)), VG_EINVAL);
    CHECK_EQ_INT(vg_tmpl_check("{{ a | join }}", 14, NULL, NULL, err, sizeof(err)), VG_EINVAL);
    CHECK_STR(err, "filter join needs an argument: join('x')");
    fx_fini(&f);
}

static bool cond(struct fixture *f, const char *text)
{
    struct vg_cond *c = NULL;
    char err[256];
    int rc = vg_cond_compile(f->a, text, strlen(text), &c, NULL, NULL, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  condition '%s': %s\n", text, err);
        vgt_failed_checks++;
        return false;
    }
    return vg_cond_eval(c, f->ctx);
}

VG_TEST(conditions)
{
    struct fixture f;
    fx_init(&f);
    CHECK(cond(&f, "alert.level == 'high'"));
    CHECK(cond(&f, "alert.id > 41 and alert.id <= 42"));
    CHECK(!cond(&f, "alert.id != 42"));
    CHECK(cond(&f, "alert.tags contains 'attack.t1110'"));
    CHECK(cond(&f, "'attack.t1110' in alert.tags"));
    CHECK(cond(&f, "alert.level in ['high', 'critical']"));
    CHECK(!cond(&f, "alert.level in ['low']"));
    CHECK(cond(&f, "exists alert.source.ip and not exists(alert.nope)"));
    CHECK(cond(&f, "(alert.id == 1 or alert.flag) and not alert.n"));
    CHECK(cond(&f, "{{ alert.score }} >= 7.5"));
    CHECK(cond(&f, "alert.user contains 'rm -rf'"));
    CHECK(!cond(&f, "alert.nope == 'x'"));
    CHECK(cond(&f, "alert.nope == null"));
    CHECK(cond(&f, "inputs.n == 3 and inputs.duration == \"1h\""));
    fx_fini(&f);
}

VG_TEST(condition_errors)
{
    struct vg_arena *a = vg_arena_create(1024);
    struct vg_cond *c;
    char err[256];
    const char *bad[] = {"alert.x ==",  "(alert.x",      "alert.x = 1", "exists 'x'",
                         "alert.x and", "'unterminated", "alert..x",    "alert.x in [1, 2"};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        int rc = vg_cond_compile(a, bad[i], strlen(bad[i]), &c, NULL, NULL, err, sizeof(err));
        if (rc != VG_EINVAL) {
            fprintf(stderr, "  '%s' compiled\n", bad[i]);
        }
        CHECK_EQ_INT(rc, VG_EINVAL);
        CHECK(strstr(err, "offset") != NULL);
    }
    vg_arena_destroy(a);
}
