/*
 * test_compile.c — the Sigma compiler: condition grammar and its errors, value
 * transformations compared with pySigma's outputs, error locations, correlation and filter
 * documents (including the specification's own examples from ../shared/ref).
 */
#include "sigma/sigma.h"
#include "vgtest.h"

static const char *const names[] = {"sel_a", "sel_b", "filter_x", "_private", "keywords"};

static int cond(const char *text, struct vg_sigma_cond **out, char *err)
{
    static struct vg_arena *a;
    if (!a) {
        a = vg_arena_create(4096);
    }
    return vg_sigma_cond_parse(a, text, strlen(text), names, VG_ARRAY_LEN(names), out, err, 256);
}

VG_TEST(condition_precedence_and_quantifiers)
{
    struct vg_sigma_cond *c;
    char err[256];
    CHECK(cond("sel_a or sel_b and not filter_x", &c, err) == VG_OK);
    CHECK_EQ_INT(c->op, VG_SC_OR);
    CHECK_EQ_INT(c->kids[1]->op, VG_SC_AND);
    CHECK_EQ_INT(c->kids[1]->kids[1]->op, VG_SC_NOT);
    CHECK(cond("1 of them", &c, err) == VG_OK);
    CHECK_EQ_INT(c->op, VG_SC_OR);
    CHECK_EQ_INT(c->n, 4); /* _private excluded */
    CHECK(cond("all of sel_*", &c, err) == VG_OK);
    CHECK_EQ_INT(c->op, VG_SC_AND);
    CHECK_EQ_INT(c->n, 2);
    CHECK(cond("not 1 of filter_*", &c, err) == VG_OK);
    CHECK_EQ_INT(c->op, VG_SC_NOT);
    CHECK_EQ_INT(c->kids[0]->op, VG_SC_SEL); /* a single match collapses */
    CHECK(cond("((sel_a))", &c, err) == VG_OK);
    CHECK(cond("sel_a AND NOT sel_b", &c, err) == VG_OK);
}

VG_TEST(condition_errors_name_the_column)
{
    struct vg_sigma_cond *c;
    char err[256];
    CHECK(cond("sel_a and", &c, err) == VG_EINVAL);
    CHECK(strstr(err, "column 10") != NULL);
    CHECK(cond("sel_a sel_b", &c, err) == VG_EINVAL);
    CHECK(strstr(err, "column 7") != NULL);
    CHECK(cond("(sel_a or sel_b", &c, err) == VG_EINVAL);
    CHECK(cond("sel_a)", &c, err) == VG_EINVAL);
    CHECK(cond("1 of nope*", &c, err) == VG_EINVAL);
    CHECK(cond("unknown", &c, err) == VG_EINVAL);
    CHECK(strstr(err, "unknown search identifier 'unknown'") != NULL);
    CHECK(cond("sel_a | count() > 5", &c, err) == VG_EUNSUPPORTED);
    CHECK(cond("", &c, err) == VG_EINVAL);
    struct vg_sbuf deep = VG_SBUF_INIT;
    for (int i = 0; i < 200; i++) {
        vg_sbuf_addc(&deep, '(');
    }
    vg_sbuf_adds(&deep, "sel_a");
    CHECK(cond(deep.p, &c, err) == VG_ELIMIT);
    vg_sbuf_fini(&deep);
}

static const struct vg_sigma_rule *compile_one(struct vg_sigma_set *s, const char *yaml)
{
    uint32_t before = s->n;
    CHECK(vg_sigma_set_add_text(s, yaml, strlen(yaml), "test.yml") == VG_OK);
    CHECK(s->n == before + 1);
    return s->rules[before];
}

VG_TEST(transformations_match_pysigma)
{
    struct vg_sigma_set *s = vg_sigma_set_create(NULL);
    const struct vg_sigma_rule *r = compile_one(
        s, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    f|base64offset|contains: "
           "'http://'\n  condition: sel\n");
    CHECK_EQ_INT(r->status, VG_RULE_OK);
    const struct vg_sigma_item *it = &r->det.sels[0].maps[0].items[0];
    CHECK_EQ_INT(it->nvals, 3);
    /* pySigma: aHR0cDovL, h0dHA6Ly, odHRwOi8v (case-folded here) */
    CHECK_STR(it->vals[0].s, "ahr0cdovl");
    CHECK_STR(it->vals[1].s, "h0dha6ly");
    CHECK_STR(it->vals[2].s, "odhrwoi8v");
    CHECK_EQ_INT(it->vals[0].op, VG_SOP_CONTAINS);
    r = compile_one(s, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    f|windash|"
                       "contains: ' -a -b'\n  condition: sel\n");
    CHECK_EQ_INT(r->det.sels[0].maps[0].items[0].nvals, 25);
    r = compile_one(s, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    f|wide: "
                       "'ab'\n  condition: sel\n");
    CHECK_EQ_INT(r->det.sels[0].maps[0].items[0].vals[0].n, 4);
    CHECK(memcmp(r->det.sels[0].maps[0].items[0].vals[0].s, "a\0b\0", 4) == 0);
    r = compile_one(s, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    f: "
                       "'C:\\Win*\\x?.exe'\n  condition: sel\n");
    const struct vg_sigma_value *g = &r->det.sels[0].maps[0].items[0].vals[0];
    CHECK_EQ_INT(g->op, VG_SOP_GLOB);
    CHECK_EQ_INT(g->nparts, 5);
    vg_sigma_set_destroy(s);
}

VG_TEST(errors_carry_lines)
{
    struct vg_sigma_set *s = vg_sigma_set_create(NULL);
    const struct vg_sigma_rule *r = compile_one(
        s, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    a: 1\n    b|re: '('\n"
           "  condition: sel\n");
    CHECK_EQ_INT(r->status, VG_RULE_ERROR);
    CHECK_EQ_INT(r->err_line, 6);
    r = compile_one(s, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    a: 1\n"
                       "  condition: sel and nope\n");
    CHECK_EQ_INT(r->err_line, 6);
    CHECK(vg_sigma_set_add_text(s, "a: [", 4, "broken.yml") == VG_OK);
    CHECK_EQ_INT(s->rules[s->n - 1]->status, VG_RULE_ERROR);
    CHECK(strstr(s->rules[s->n - 1]->message, "YAML") != NULL);
    r = compile_one(s, "title: t\nlogsource: {product: x}\ndetection:\n  sel:\n    a: 1\n"
                       "  condition: sel\nlevel: severe\n");
    CHECK_EQ_INT(r->status, VG_RULE_ERROR);
    vg_sigma_set_destroy(s);
}

/* The specification's example documents all compile. */
VG_TEST(spec_examples_compile)
{
    static const char *const files[] = {
        "ref/sigma-specification/tests/schema/rules/rule_1.yml",
        "ref/sigma-specification/tests/schema/filter/filter_1.yml",
        "ref/sigma-specification/tests/schema/correlation/event_count.yml",
        "ref/sigma-specification/tests/schema/correlation/value_count.yml",
        "ref/sigma-specification/tests/schema/correlation/temporal.yml",
        "ref/sigma-specification/tests/schema/correlation/temporal_ordered.yml",
        "ref/sigma-specification/tests/schema/correlation/value_sum.yml",
        "ref/sigma-specification/tests/schema/correlation/value_avg.yml",
        "ref/sigma-specification/tests/schema/correlation/value_percentile.yml",
    };
    if (!vgt_shared(files[0])) {
        VG_SKIP("../shared/ref not present");
    }
    struct vg_sigma_set *s = vg_sigma_set_create(NULL);
    char err[256];
    for (size_t i = 0; i < VG_ARRAY_LEN(files); i++) {
        CHECK(vg_sigma_set_load(s, vgt_shared(files[i]), err, sizeof(err)) == VG_OK);
    }
    int corr_types = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct vg_sigma_rule *r = s->rules[i];
        if (r->status != VG_RULE_OK) {
            fprintf(stderr, "  %s: %s\n", r->path, r->message);
        }
        CHECK_EQ_INT(r->status, VG_RULE_OK);
        corr_types |= r->kind == VG_SIGMA_CORRELATION ? 1 << r->corr.type : 0;
    }
    CHECK_EQ_INT(corr_types, 0x7f); /* all seven correlation types */
    vg_sigma_set_destroy(s);
}
