/*
 * test_engine.c — ruleset generations: readers keep evaluating while new generations are
 * published (vg_detect_engine_swap); every event sees a complete ruleset, old generations are
 * freed once their last reader lets go (ASan checks use-after-free and leaks).
 */
#include "decode/decode.h"
#include "detect/detect.h"
#include "vgtest.h"

#include <pthread.h>
#include <stdatomic.h>

static const char *rule_text(int gen)
{
    static char buf[512];
    snprintf(buf, sizeof(buf),
             "title: gen %d\nid: gen-rule\nlogsource: {product: test}\ndetection:\n"
             "  sel:\n    cmd|contains: 'evil'\n  condition: sel\n",
             gen);
    return buf;
}

static struct vg_ruleset *build(struct vg_mapping *map, struct vg_sigma_set **set, int gen)
{
    char err[256];
    *set = vg_sigma_set_create(NULL);
    const char *t = rule_text(gen);
    vg_sigma_set_add_text(*set, t, strlen(t), "gen.yml");
    struct vg_ruleset *rs = NULL;
    CHECK(vg_ruleset_build(*set, map, NULL, &rs, err, sizeof(err)) == VG_OK);
    return rs;
}

struct reader_arg {
    struct vg_detect_engine *e;
    atomic_int *stop;
    long events, matches;
};

static int count(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    VG_UNUSED(m);
    VG_UNUSED(ev);
    (*(long *)ud)++;
    return 0;
}

static void *reader(void *p)
{
    struct reader_arg *a = p;
    struct vg_event *ev = vg_event_create();
    uint32_t cmd = vg_field_intern("cmd", 3);
    while (!atomic_load(a->stop)) {
        struct vg_ruleset *rs = vg_detect_engine_acquire(a->e);
        struct vg_detect_ctx *ctx = vg_detect_ctx_create(rs);
        for (int i = 0; i < 50; i++) {
            vg_event_reset(ev);
            vg_event_add_str(ev, cmd, "run evil.exe", 12);
            vg_detect_event(rs, ctx, ev, count, &a->matches);
            a->events++;
        }
        vg_detect_ctx_destroy(ctx);
        vg_ruleset_unref(rs);
    }
    vg_event_destroy(ev);
    return NULL;
}

VG_TEST(generations_swap_under_readers)
{
    char err[256];
    size_t dl;
    const char *def = vg_mapping_default_text(&dl);
    struct vg_sbuf mt = VG_SBUF_INIT;
    vg_sbuf_add(&mt, def, dl);
    vg_sbuf_adds(&mt, "\n  - logsource: {product: test}\n    kind: generic\n");
    struct vg_mapping *map;
    CHECK(vg_mapping_load(mt.p, mt.len, "m", &map, err, sizeof(err)) == VG_OK);
    vg_sbuf_fini(&mt);
    struct vg_sigma_set *sets[41];
    struct vg_detect_engine *e = vg_detect_engine_create(build(map, &sets[0], 0));
    atomic_int stop = 0;
    struct reader_arg a[2] = {{e, &stop, 0, 0}, {e, &stop, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&t[i], NULL, reader, &a[i]);
    }
    for (int g = 1; g <= 40; g++) {
        vg_detect_engine_swap(e, build(map, &sets[g], g));
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK(a[i].events > 0);
        CHECK_EQ_INT(a[i].matches, a[i].events); /* every generation detects */
    }
    struct vg_ruleset *cur = vg_detect_engine_acquire(e);
    CHECK_STR(vg_ruleset_rule(cur, 0)->title, "gen 40");
    vg_ruleset_unref(cur);
    vg_detect_engine_destroy(e);
    for (int g = 0; g <= 40; g++) {
        vg_sigma_set_destroy(sets[g]);
    }
    vg_mapping_destroy(map);
}
