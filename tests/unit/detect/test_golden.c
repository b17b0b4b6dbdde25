/*
 * test_golden.c — Sigma behaviour as data: every directory under tests/golden/sigma/ is one
 * case run through the real pipeline (compile → ruleset → detect → correlate):
 *
 *   rules.yml          Sigma documents (multi-document allowed)
 *   events.jsonl       one JSON event per line (Windows renderings or flat JSON)
 *   expected.txt       the expected output, one line per result, in any order:
 *                        match <event line> <rule id>
 *                        corr <rule id> <value> <group values joined by ','>
 *                        status <rule id> <ok|error|needs-placeholder|unsupported> [<text>]
 *                      where <text> must occur in the document's message.
 *   placeholders.yml   optional values for %placeholders%
 *
 * `match`/`corr` lines must be exactly the results produced; `status` lines are checked
 * for the documents they name.
 */
#include "decode/decode.h"
#include "detect/detect.h"
#include "vgtest.h"

#include <dirent.h>
#include <sys/stat.h>

struct out {
    char **lines;
    size_t n, cap;
    uint32_t line; /* current event line */
    const struct vg_ruleset *rs;
    struct vg_correlator *cor;
};

static void add_line(struct out *o, const char *s)
{
    if (vg_grow(&o->lines, &o->cap, o->n + 1, sizeof(char *)) == VG_OK) {
        o->lines[o->n++] = vg_strdup(s);
    }
}

static int on_corr(void *ud, const struct vg_corr_alert *a);

static int on_match(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    struct out *o = ud;
    if (vg_ruleset_rule_standalone(o->rs, m->rule) && m->doc->id) {
        char buf[512];
        snprintf(buf, sizeof(buf), "match %u %s", o->line, m->doc->id);
        add_line(o, buf);
    }
    return vg_correlator_feed(o->cor, m, ev, on_corr, o);
}

static int on_corr(void *ud, const struct vg_corr_alert *a)
{
    struct out *o = ud;
    if (!a->standalone) {
        return 0;
    }
    struct vg_sbuf sb = VG_SBUF_INIT;
    vg_sbuf_printf(&sb, "corr %s %g ", a->doc->id ? a->doc->id : "-", a->value);
    for (uint32_t i = 0; i < a->ngroup; i++) {
        vg_sbuf_printf(&sb, "%s%s", i ? "," : "", a->group_values[i]);
    }
    if (!a->ngroup) {
        vg_sbuf_adds(&sb, "-");
    }
    add_line(o, sb.p);
    vg_sbuf_fini(&sb);
    return 0;
}

/* out = dir + "/" + name (truncated safely; paths here are short) */
static void join(char *out, size_t size, const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + nl + 2 > size) {
        dl = 0;
        nl = nl < size - 1 ? nl : size - 1;
    }
    memcpy(out, dir, dl);
    out[dl] = '/';
    memcpy(out + dl + (dl ? 1 : 0), name, nl);
    out[dl + (dl ? 1 : 0) + nl] = '\0';
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void out_free(struct out *o)
{
    for (size_t i = 0; i < o->n; i++) {
        vg_free(o->lines[i]);
    }
    vg_free(o->lines);
}

/* Run one case; returns the number of failures. */
static int run_case(const char *dir)
{
    char path[4096], err[512];
    int failures = 0;
    struct vg_sigma_placeholders *ph = NULL;
    join(path, sizeof(path), dir, "placeholders.yml");
    struct stat st;
    if (stat(path, &st) == 0 && vg_sigma_placeholders_load(path, &ph, err, sizeof(err)) != 0) {
        fprintf(stderr, "  %s: %s\n", dir, err);
        return 1;
    }
    struct vg_sigma_set *set = vg_sigma_set_create(ph);
    join(path, sizeof(path), dir, "rules.yml");
    CHECK(vg_sigma_set_load(set, path, err, sizeof(err)) == VG_OK);
    /* the built-in mapping plus a `product: test` source for generic JSON events */
    struct vg_mapping *map = NULL;
    size_t dl;
    const char *def = vg_mapping_default_text(&dl);
    struct vg_sbuf mt = VG_SBUF_INIT;
    vg_sbuf_add(&mt, def, dl);
    vg_sbuf_adds(&mt, "\n  - logsource: {product: test}\n    kind: generic\n");
    CHECK(vg_mapping_load(mt.p, mt.len, "golden mapping", &map, err, sizeof(err)) == VG_OK);
    vg_sbuf_fini(&mt);
    struct vg_ruleset *rs = NULL;
    if (vg_ruleset_build(set, map, NULL, &rs, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  %s: ruleset: %s\n", dir, err);
        vg_mapping_destroy(map);
        vg_sigma_set_destroy(set);
        vg_sigma_placeholders_destroy(ph);
        return 1;
    }
    struct out got = {0}, want = {0};
    /* events, one per line */
    join(path, sizeof(path), dir, "events.jsonl");
    char *text = NULL;
    size_t len = 0;
    if (vg_file_read(path, 1 << 24, &text, &len) == VG_OK) {
        struct vg_detect_ctx *ctx = vg_detect_ctx_create(rs);
        struct vg_correlator *cor = vg_correlator_create(rs, NULL);
        struct vg_event *ev = vg_event_create();
        struct vg_json_parser *jp = vg_json_parser_create(NULL);
        got.rs = rs;
        got.cor = cor;
        char *line = text;
        uint32_t ln = 0;
        while (line && *line) {
            char *nl = strchr(line, '\n');
            size_t ll = nl ? (size_t)(nl - line) : strlen(line);
            ln++;
            if (ll && line[0] != '#') {
                vg_event_reset(ev);
                size_t used;
                struct vg_json *doc;
                if (vg_json_parse(jp, ev->arena, line, ll, &used, &doc, err, sizeof(err)) ==
                        VG_OK &&
                    vg_decode_json(ev, doc) == VG_OK) {
                    got.line = ln;
                    vg_detect_event(rs, ctx, ev, on_match, &got);
                } else {
                    fprintf(stderr, "  %s: events.jsonl:%u: %s\n", dir, ln, err);
                    failures++;
                }
            }
            line = nl ? nl + 1 : NULL;
        }
        vg_correlator_flush(cor, on_corr, &got);
        vg_json_parser_destroy(jp);
        vg_event_destroy(ev);
        vg_correlator_destroy(cor);
        vg_detect_ctx_destroy(ctx);
        vg_free(text);
    }
    /* expected */
    join(path, sizeof(path), dir, "expected.txt");
    text = NULL;
    if (vg_file_read(path, 1 << 20, &text, &len) != VG_OK) {
        fprintf(stderr, "  %s: no expected.txt\n", dir);
        failures++;
    }
    for (char *l = text; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl) {
            *nl = '\0';
        }
        if (!strncmp(l, "status ", 7)) {
            char id[256], status[64];
            int off = 0;
            if (sscanf(l + 7, "%255s %63s %n", id, status, &off) >= 2) {
                const struct vg_sigma_rule *r = vg_sigma_set_find(set, id);
                const char *text_want = off ? l + 7 + off : "";
                if (!r) {
                    fprintf(stderr, "  %s: status: no document %s\n", dir, id);
                    failures++;
                } else if (strcmp(vg_sigma_status_name(r->status), status) != 0 ||
                           (*text_want && (!r->message || !strstr(r->message, text_want)))) {
                    fprintf(stderr, "  %s: %s is %s (%s), expected %s (%s)\n", dir, id,
                            vg_sigma_status_name(r->status), r->message ? r->message : "", status,
                            text_want);
                    failures++;
                }
            }
        } else if (*l && *l != '#') {
            add_line(&want, l);
        }
        l = nl ? nl + 1 : NULL;
    }
    vg_free(text);
    /* compare the match/corr lines as sets */
    if (got.n) {
        qsort(got.lines, got.n, sizeof(char *), cmpstr);
    }
    if (want.n) {
        qsort(want.lines, want.n, sizeof(char *), cmpstr);
    }
    size_t i = 0, j = 0;
    while (i < got.n || j < want.n) {
        int c = i >= got.n ? 1 : j >= want.n ? -1 : strcmp(got.lines[i], want.lines[j]);
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0) {
            fprintf(stderr, "  %s: unexpected: %s\n", dir, got.lines[i++]);
            failures++;
        } else {
            fprintf(stderr, "  %s: missing:    %s\n", dir, want.lines[j++]);
            failures++;
        }
    }
    out_free(&got);
    out_free(&want);
    vg_ruleset_unref(rs);
    vg_mapping_destroy(map);
    vg_sigma_set_destroy(set);
    vg_sigma_placeholders_destroy(ph);
    return failures;
}

VG_TEST(golden_sigma_cases)
{
    char root[4096];
    snprintf(root, sizeof(root), "%s/tests/golden/sigma", vgt_source_dir());
    struct dirent **list;
    int n = scandir(root, &list, NULL, alphasort);
    CHECK(n > 0);
    int cases = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            char dir[4096];
            join(dir, sizeof(dir), root, list[i]->d_name);
            int f = run_case(dir);
            fprintf(stderr, "  %-40s %s\n", list[i]->d_name, f ? "FAIL" : "ok");
            cases++;
            failed += f != 0;
            vgt_failed_checks += f;
        }
        free(list[i]);
    }
    free(list);
    fprintf(stderr, "  %d golden cases, %d failed\n", cases, failed);
}
