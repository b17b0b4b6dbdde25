/*
 * test_builtin.c — Vigie's built-in Sigma ruleset (rules/builtin, as embedded in the binary
 * by vg_builtin_rules) against its golden cases, tests/golden/rules/<rule-file-stem>/:
 *
 *   match.log    lines in the source's native format. For a detection rule, every event they
 *                decode to must raise the rule (once per event); for a correlation file, its
 *                top-level correlation must fire the number of times given by a
 *                "## expect: N" line (default 1).
 *   nomatch.log  near-miss benign lines: no built-in rule at all may fire on them (this is
 *                also the noise check: every rule runs over every case's benign lines).
 *   also.txt     optional: ids (first word of each line) of other built-in rules that also
 *                fire on match.log; any other co-firing rule is a failure, and so is a listed
 *                one that does not fire.
 *
 * Lines starting with "## " are comments. Each file is one stream through the real decoder
 * chain (auditd records join, IIS "#Fields:" headers apply; syslog years are 2026), then
 * vg_detect_event with the whole built-in set loaded together, as the server does, and the
 * correlator, flushed at the end.
 *
 * Also checked: every document compiles without warnings; each rule's metadata (UUID id,
 * title, status stable/test, description, author Vigie, date, level, falsepositives,
 * logsource, ATT&CK tags checked against ../shared/corpus/mitre-attack when present); the
 * embedded table equals rules/builtin on disk; every rule file has a golden case and every
 * case a rule file. Finally all rules run over the Wazuh logtest corpus
 * (../shared/corpus/wazuh-logtests) and the alerts per rule are printed. docs/rules.md holds
 * the rule table and those noise figures between generated markers; when they are stale the
 * test fails and writes the regenerated page into a temporary directory to copy over.
 */
#include "decode/decode.h"
#include "detect/detect.h"
#include "detect/detect_builtin.h"
#include "vgtest.h"

#include <dirent.h>
#include <sys/stat.h>

#define GOLDEN_YEAR 2026
#define MAX_TARGETS 8

/* ---------------------------------------------------------------- the built-in set */

static struct {
    struct vg_sigma_set *set;
    struct vg_mapping *map;
    struct vg_ruleset *rs;
    bool tried;
} B;

static struct technique *techs; /* ATT&CK techniques, see load_techniques */

/* At exit (so that running a single test by name frees it too): release the shared set. */
static void builtin_release(void)
{
    vg_ruleset_unref(B.rs);
    vg_mapping_destroy(B.map);
    vg_sigma_set_destroy(B.set);
    vg_free(techs);
}

static const struct vg_ruleset *builtin(void)
{
    if (B.tried) {
        return B.rs;
    }
    B.tried = true;
    atexit(builtin_release);
    char err[512];
    B.set = vg_sigma_set_create(NULL);
    if (!B.set || vg_builtin_rules_load(B.set) != VG_OK ||
        vg_mapping_default(&B.map, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  cannot load the built-in rules\n");
        return NULL;
    }
    if (vg_ruleset_build(B.set, B.map, NULL, &B.rs, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  ruleset: %s\n", err);
        B.rs = NULL;
    }
    return B.rs;
}

/* Index of a document in the set (alerts are counted per document). */
static int doc_index(const struct vg_sigma_rule *d)
{
    for (uint32_t i = 0; i < B.set->n; i++) {
        if (B.set->rules[i] == d) {
            return (int)i;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------- running a stream */

struct stream {
    const struct vg_ruleset *rs;
    struct vg_decoder *dec;
    struct vg_detect_ctx *ctx;
    struct vg_correlator *cor;
    struct vg_event *ev;
    uint32_t *hits;    /* alerts per document index */
    uint32_t events;   /* events decoded */
    uint32_t rejected; /* records the decoders rejected */
};

static void hit(struct stream *s, const struct vg_sigma_rule *d)
{
    int i = doc_index(d);
    if (i >= 0) {
        s->hits[i]++;
    }
}

static int on_corr(void *ud, const struct vg_corr_alert *a)
{
    if (a->standalone) {
        hit(ud, a->doc);
    }
    return 0;
}

static int on_match(void *ud, const struct vg_detect_match *m, struct vg_event *ev)
{
    struct stream *s = ud;
    if (vg_ruleset_rule_standalone(s->rs, m->rule)) {
        hit(s, m->doc);
    }
    if (vg_ruleset_rule_correlated(s->rs, m->rule)) {
        return vg_correlator_feed(s->cor, m, ev, on_corr, s);
    }
    return 0;
}

static bool stream_open(struct stream *s, const struct vg_ruleset *rs)
{
    memset(s, 0, sizeof(*s));
    struct vg_decoder_opts o = {.default_year = GOLDEN_YEAR};
    s->rs = rs;
    s->dec = vg_decoder_create(&o);
    s->ctx = vg_detect_ctx_create(rs);
    s->cor = vg_correlator_create(rs, NULL);
    s->ev = vg_event_create();
    s->hits = vg_calloc(B.set->n + 1, sizeof(uint32_t));
    return s->dec && s->ctx && s->cor && s->ev && s->hits;
}

static void stream_close(struct stream *s)
{
    vg_decoder_destroy(s->dec);
    vg_detect_ctx_destroy(s->ctx);
    vg_correlator_destroy(s->cor);
    vg_event_destroy(s->ev);
    vg_free(s->hits);
}

static void detect(struct stream *s)
{
    s->events++;
    CHECK(vg_detect_event(s->rs, s->ctx, s->ev, on_match, s) == VG_OK);
}

/* One record: decode it, and every further JSON document of the same line. */
static void feed_record(struct stream *s, const char *rec, size_t len)
{
    int rc = vg_decoder_decode(s->dec, rec, len, s->ev);
    if (rc == VG_EINVAL) {
        s->rejected++;
        fprintf(stderr, "    rejected: %s: %.*s\n", vg_decoder_error(s->dec), (int)VG_MIN(len, 120),
                rec);
    } else if (rc == VG_OK) {
        detect(s);
    }
    while (rc != VG_ENOMEM && (rc = vg_decoder_next(s->dec, s->ev)) != VG_EOF) {
        if (rc == VG_OK) {
            detect(s);
        }
    }
}

/* End of input: the buffered auditd event, then the correlation windows. */
static void stream_flush(struct stream *s)
{
    if (vg_decoder_flush(s->dec, s->ev) == VG_OK) {
        detect(s);
    }
    vg_correlator_flush(s->cor, on_corr, s);
}

/* Feed a golden file: one record per line, "## " comment lines skipped. */
static void feed_text(struct stream *s, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n && strncmp(p, "## ", VG_MIN(n, 3)) != 0) {
            feed_record(s, p, n);
        }
        p += n + 1;
    }
    stream_flush(s);
}

/* ---------------------------------------------------------------- files */

static char *read_rel(const char *rel, size_t *len)
{
    char path[4096];
    char *text = NULL;
    snprintf(path, sizeof(path), "%s/%s", vgt_source_dir(), rel);
    if (vg_file_read(path, 1 << 24, &text, len) != VG_OK) {
        return NULL;
    }
    return text;
}

/* "rules/builtin/<area>/<stem>.yml" → area and stem; false if the path has another shape. */
static bool split_path(const char *path, char *area, size_t asz, char *stem, size_t ssz)
{
    const char *pre = "rules/builtin/";
    const char *a = path + strlen(pre), *slash = strchr(a, '/');
    size_t pl = strlen(path);
    if (strncmp(path, pre, strlen(pre)) != 0 || !slash || strchr(slash + 1, '/') || pl < 5 ||
        strcmp(path + pl - 4, ".yml") != 0) {
        return false;
    }
    snprintf(area, asz, "%.*s", (int)(slash - a), a);
    snprintf(stem, ssz, "%.*s", (int)(path + pl - 4 - slash - 1), slash + 1);
    return true;
}

/* Value of a "## key: value" directive in a golden file, or def. */
static long directive(const char *text, const char *key, long def)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "## %s:", key);
    const char *p = text ? strstr(text, pat) : NULL;
    int64_t v;
    if (!p) {
        return def;
    }
    p += strlen(pat);
    while (*p == ' ') {
        p++;
    }
    size_t n = strspn(p, "0123456789");
    return vg_parse_i64(p, n, &v) == VG_OK ? (long)v : def;
}

/* ---------------------------------------------------------------- documents of a file */

static bool refers(const char *ref, const struct vg_sigma_rule *d)
{
    return ref && ((d->id && !strcmp(ref, d->id)) || (d->name && !strcmp(ref, d->name)));
}

/* Is d referenced by a correlation of the set? */
static bool referenced(const struct vg_sigma_rule *d)
{
    for (uint32_t i = 0; i < B.set->n; i++) {
        const struct vg_sigma_rule *c = B.set->rules[i];
        for (uint32_t k = 0; c->kind == VG_SIGMA_CORRELATION && k < c->corr.nrules; k++) {
            if (refers(c->corr.rules[k], d)) {
                return true;
            }
        }
    }
    return false;
}

/* The documents of a file that must alert on its match.log: its detection rules, or the
 * correlations no other correlation builds on. */
static uint32_t targets(const char *path, const struct vg_sigma_rule **out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < B.set->n && n < MAX_TARGETS; i++) {
        const struct vg_sigma_rule *d = B.set->rules[i];
        if (strcmp(d->path, path) != 0) {
            continue;
        }
        bool corr_file = strstr(path, "/correlation/") != NULL;
        if (corr_file ? d->kind == VG_SIGMA_CORRELATION && !referenced(d)
                      : d->kind == VG_SIGMA_RULE) {
            out[n++] = d;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- golden cases */

/* Is id listed (first word of a line) in also.txt? */
static bool also_lists(const char *also, const char *id)
{
    for (const char *p = also; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t w = strcspn(p, " \t\n");
        if (w <= n && w == strlen(id) && !strncmp(p, id, w)) {
            return true;
        }
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

static int check_match(const char *stem, const char *text, size_t len, const char *also,
                       const struct vg_sigma_rule **tg, uint32_t ntg, bool corr)
{
    struct stream s;
    int fails = 0;
    if (!stream_open(&s, B.rs)) {
        stream_close(&s);
        return 1;
    }
    feed_text(&s, text, len);
    long want = corr ? directive(text, "expect", 1) : directive(text, "expect", s.events);
    for (uint32_t k = 0; k < ntg; k++) {
        uint32_t got = s.hits[doc_index(tg[k])];
        if ((long)got != want || !s.events) {
            fprintf(stderr, "  %s: %s fired %u times on match.log (%u events), expected %ld\n",
                    stem, tg[k]->id, got, s.events, want);
            fails++;
        }
    }
    for (uint32_t i = 0; i < B.set->n; i++) {
        const struct vg_sigma_rule *d = B.set->rules[i];
        bool is_target = false;
        for (uint32_t k = 0; k < ntg; k++) {
            is_target |= tg[k] == d;
        }
        bool listed = d->id && also_lists(also, d->id);
        if (!is_target && (s.hits[i] != 0) != listed) {
            fprintf(stderr, "  %s: %s (%s) %s on match.log\n", stem, d->id, d->title,
                    listed ? "is in also.txt but does not fire" : "also fires (add to also.txt?)");
            fails++;
        }
    }
    fails += s.rejected != 0;
    stream_close(&s);
    return fails;
}

static int check_nomatch(const char *stem, const char *text, size_t len)
{
    struct stream s;
    int fails = 0;
    if (!stream_open(&s, B.rs)) {
        stream_close(&s);
        return 1;
    }
    feed_text(&s, text, len);
    for (uint32_t i = 0; i < B.set->n; i++) {
        if (s.hits[i]) {
            fprintf(stderr, "  %s: nomatch.log raised %s (%s) %u times\n", stem,
                    B.set->rules[i]->id, B.set->rules[i]->title, s.hits[i]);
            fails++;
        }
    }
    if (!s.events) {
        fprintf(stderr, "  %s: nomatch.log has no events\n", stem);
        fails++;
    }
    fails += s.rejected != 0;
    stream_close(&s);
    return fails;
}

/* Run one rule file's golden case; returns the number of failures. */
static int run_case(const struct vg_builtin_rule *f)
{
    char area[64], stem[256], rel[512];
    const struct vg_sigma_rule *tg[MAX_TARGETS];
    if (!split_path(f->path, area, sizeof(area), stem, sizeof(stem))) {
        fprintf(stderr, "  %s: not rules/builtin/<area>/<name>.yml\n", f->path);
        return 1;
    }
    uint32_t ntg = targets(f->path, tg);
    size_t ml = 0, nl = 0, al = 0;
    snprintf(rel, sizeof(rel), "tests/golden/rules/%s/match.log", stem);
    char *match = read_rel(rel, &ml);
    snprintf(rel, sizeof(rel), "tests/golden/rules/%s/nomatch.log", stem);
    char *nomatch = read_rel(rel, &nl);
    snprintf(rel, sizeof(rel), "tests/golden/rules/%s/also.txt", stem);
    char *also = read_rel(rel, &al);
    int fails = 0;
    if (!match || !nomatch || !ntg) {
        fprintf(stderr, "  %s: %s\n", stem,
                !ntg ? "no rule to test in the file" : "missing match.log or nomatch.log");
        fails = 1;
    } else {
        fails += check_match(stem, match, ml, also, tg, ntg, !strcmp(area, "correlation"));
        fails += check_nomatch(stem, nomatch, nl);
    }
    vg_free(match);
    vg_free(nomatch);
    vg_free(also);
    return fails;
}

VG_TEST(builtin_golden_cases)
{
    size_t n;
    const struct vg_builtin_rule *files = vg_builtin_rules(&n);
    CHECK(builtin() != NULL);
    if (!B.rs) {
        return;
    }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        int f = run_case(&files[i]);
        failed += f != 0;
        vgt_failed_checks += f;
    }
    fprintf(stderr, "  %zu golden cases, %d failed\n", n, failed);
}

/* ---------------------------------------------------------------- documents and metadata */

static bool is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (!s || strlen(s) != sizeof(shape) - 1) {
        return false;
    }
    for (size_t i = 0; s[i]; i++) {
        bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
        if (shape[i] == '-' ? s[i] != '-' : !hex) {
            return false;
        }
    }
    return true;
}

static bool nonempty(const char *s)
{
    return s && *s;
}

/* Problems with one document's metadata, into sb (empty when fine). */
static void doc_problems(const struct vg_sigma_rule *d, struct vg_sbuf *sb)
{
    if (d->status != VG_RULE_OK) {
        vg_sbuf_printf(sb, " status %s (%s);", vg_sigma_status_name(d->status),
                       d->message ? d->message : "");
    }
    for (uint32_t w = 0; w < d->nwarnings; w++) {
        vg_sbuf_printf(sb, " warning: %s;", d->warnings[w]);
    }
    if (!is_uuid(d->id)) {
        vg_sbuf_adds(sb, " id is not a lower-case UUID;");
    }
    if (!nonempty(d->title) || !nonempty(d->description) || !nonempty(d->date)) {
        vg_sbuf_adds(sb, " needs title, description and date;");
    }
    if (!d->rule_status || (strcmp(d->rule_status, "stable") && strcmp(d->rule_status, "test"))) {
        vg_sbuf_adds(sb, " status must be stable or test;");
    }
    if (!d->author || strcmp(d->author, "Vigie") != 0) {
        vg_sbuf_adds(sb, " author must be Vigie;");
    }
    if (!d->level || !d->nfp) {
        vg_sbuf_adds(sb, " needs level and falsepositives;");
    }
    if (d->kind == VG_SIGMA_RULE && !d->logsource.product && !d->logsource.category &&
        !d->logsource.service) {
        vg_sbuf_adds(sb, " needs a logsource;");
    }
}

VG_TEST(builtin_documents_valid)
{
    CHECK(builtin() != NULL);
    if (!B.rs) {
        return;
    }
    uint32_t rules = 0, corrs = 0;
    for (uint32_t i = 0; i < B.set->n; i++) {
        const struct vg_sigma_rule *d = B.set->rules[i];
        struct vg_sbuf sb = VG_SBUF_INIT;
        doc_problems(d, &sb);
        for (uint32_t k = 0; k < i; k++) {
            const struct vg_sigma_rule *o = B.set->rules[k];
            if ((d->id && o->id && !strcmp(d->id, o->id)) ||
                (d->name && o->name && !strcmp(d->name, o->name))) {
                vg_sbuf_printf(&sb, " id or name also used in %s;", o->path);
            }
        }
        if (sb.len) {
            fprintf(stderr, "  %s (%s):%s\n", d->path, d->title ? d->title : "?", sb.p);
        }
        CHECK(sb.len == 0);
        vg_sbuf_fini(&sb);
        rules += d->kind == VG_SIGMA_RULE;
        corrs += d->kind == VG_SIGMA_CORRELATION;
    }
    const struct vg_ruleset_stats *st = vg_ruleset_stats(B.rs);
    fprintf(stderr, "  %u detection rules, %u correlations (%u variants, %u unwitnessed)\n", rules,
            corrs, st->variants, st->unwitnessed);
    CHECK(st->rules == rules && st->correlations == corrs);
}

/* ---------------------------------------------------------------- ATT&CK tags */

struct technique {
    char id[24];       /* lower case, as in tags: t1078.003 */
    char tactics[200]; /* ';'-separated, hyphenated: defense-evasion;persistence */
};
static size_t ntechs;

/* Load the active techniques of ../shared/corpus/mitre-attack/techniques.tsv. */
static bool load_techniques(void)
{
    const char *path = vgt_shared("corpus/mitre-attack/techniques.tsv");
    char *text = NULL;
    size_t len = 0, cap = 0;
    if (!path || vg_file_read(path, 1 << 24, &text, &len) != VG_OK) {
        return false;
    }
    for (char *l = strchr(text, '\n'); l && *++l;) {
        char *nl = strchr(l, '\n'), *t1 = strchr(l, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
        if (t3 && (!nl || t3 < nl) && vg_grow(&techs, &cap, ntechs + 1, sizeof(*techs)) == VG_OK) {
            struct technique *t = &techs[ntechs++];
            snprintf(t->id, sizeof(t->id), "%.*s", (int)(t1 - l), l);
            snprintf(t->tactics, sizeof(t->tactics), "%.*s", (int)(t3 - t2 - 1), t2 + 1);
            for (char *c = t->id; *c; c++) {
                *c = (char)(*c == 'T' ? 't' : *c);
            }
        }
        l = nl;
    }
    vg_free(text);
    return ntechs > 0;
}

static const struct technique *technique_find(const char *tag)
{
    for (size_t i = 0; i < ntechs; i++) {
        if (!strcmp(techs[i].id, tag + 7)) {
            return &techs[i];
        }
    }
    return NULL;
}

/* Is tactic ("initial-access") one of a ';'-separated list? */
static bool tactic_in(const char *list, const char *tactic)
{
    size_t n = strlen(tactic);
    for (const char *p = list; p && *p;) {
        size_t w = strcspn(p, ";");
        if (w == n && !strncmp(p, tactic, n)) {
            return true;
        }
        p = p[w] ? p + w + 1 : NULL;
    }
    return false;
}

/* Does one of d's technique tags carry this tactic? */
static bool tactic_of_some_technique(const struct vg_sigma_rule *d, const char *tactic)
{
    for (uint32_t i = 0; i < d->ntags; i++) {
        const struct technique *t =
            vg_sigma_tag_is_technique(d->tags[i]) ? technique_find(d->tags[i]) : NULL;
        if (t && tactic_in(t->tactics, tactic)) {
            return true;
        }
    }
    return false;
}

/* Is one of the technique's tactics tagged on d? */
static bool technique_tactic_tagged(const struct vg_sigma_rule *d, const struct technique *t)
{
    for (uint32_t i = 0; i < d->ntags; i++) {
        if (vg_sigma_tag_is_tactic(d->tags[i], NULL) && tactic_in(t->tactics, d->tags[i] + 7)) {
            return true;
        }
    }
    return false;
}

static void attack_problems(const struct vg_sigma_rule *d, struct vg_sbuf *sb)
{
    uint32_t ntec = 0, ntac = 0;
    for (uint32_t i = 0; i < d->ntags; i++) {
        const char *tag = d->tags[i];
        if (vg_sigma_tag_is_technique(tag)) {
            const struct technique *t = technique_find(tag);
            ntec++;
            if (!t) {
                vg_sbuf_printf(sb, " %s is not an active ATT&CK technique;", tag);
            } else if (!technique_tactic_tagged(d, t)) {
                vg_sbuf_printf(sb, " none of %s's tactics (%s) is tagged;", tag, t->tactics);
            }
        } else if (vg_sigma_tag_is_tactic(tag, NULL)) {
            ntac++;
            if (strchr(tag, '_') || !tactic_of_some_technique(d, tag + 7)) {
                vg_sbuf_printf(sb, " tactic %s belongs to none of the tagged techniques;", tag);
            }
        } else if (!strncmp(tag, "attack.", 7)) {
            vg_sbuf_printf(sb, " unknown ATT&CK tag %s;", tag);
        }
    }
    if (!ntec || !ntac) {
        vg_sbuf_adds(sb, " needs ATT&CK technique and tactic tags;");
    }
}

VG_TEST(builtin_attack_tags)
{
    CHECK(builtin() != NULL);
    if (!B.rs) {
        return;
    }
    if (!load_techniques()) {
        VG_SKIP("../shared/corpus/mitre-attack absent");
    }
    for (uint32_t i = 0; i < B.set->n; i++) {
        struct vg_sbuf sb = VG_SBUF_INIT;
        attack_problems(B.set->rules[i], &sb);
        if (sb.len) {
            fprintf(stderr, "  %s (%s):%s\n", B.set->rules[i]->path, B.set->rules[i]->title, sb.p);
        }
        CHECK(sb.len == 0);
        vg_sbuf_fini(&sb);
    }
}

/* ---------------------------------------------------------------- what ships = the tree */

/* Names in a directory (no dot files), sorted; *n receives the count. */
static struct dirent **dir_list(const char *rel, int *n)
{
    char path[4096];
    struct dirent **list = NULL;
    snprintf(path, sizeof(path), "%s/%s", vgt_source_dir(), rel);
    *n = scandir(path, &list, NULL, alphasort);
    return *n < 0 ? NULL : list;
}

static void dir_free(struct dirent **list, int n)
{
    for (int i = 0; i < n; i++) {
        free(list[i]);
    }
    free(list);
}

/* Every rules/builtin/<area>/<file>.yml or .yaml on disk, one path per line, sorted (only
 * .yml files are embedded: a .yaml file shows up as a difference). */
static void disk_rules(struct vg_sbuf *out)
{
    int na, nf;
    struct dirent **areas = dir_list("rules/builtin", &na);
    for (int i = 0; areas && i < na; i++) {
        char rel[512];
        snprintf(rel, sizeof(rel), "rules/builtin/%s", areas[i]->d_name);
        struct dirent **files = areas[i]->d_name[0] != '.' ? dir_list(rel, &nf) : NULL;
        for (int k = 0; files && k < nf; k++) {
            const char *dot = strrchr(files[k]->d_name, '.');
            if (files[k]->d_name[0] != '.' && dot &&
                (!strcmp(dot, ".yml") || !strcmp(dot, ".yaml"))) {
                vg_sbuf_printf(out, "%s/%s\n", rel, files[k]->d_name);
            }
        }
        if (files) {
            dir_free(files, nf);
        }
    }
    if (areas) {
        dir_free(areas, na);
    }
}

static bool has_rule_file(const struct vg_builtin_rule *files, size_t n, const char *stem)
{
    char area[64], s[256];
    for (size_t i = 0; i < n; i++) {
        if (split_path(files[i].path, area, sizeof(area), s, sizeof(s)) && !strcmp(s, stem)) {
            return true;
        }
    }
    return false;
}

VG_TEST(builtin_table_matches_tree)
{
    size_t n;
    const struct vg_builtin_rule *files = vg_builtin_rules(&n);
    struct vg_sbuf emb = VG_SBUF_INIT, disk = VG_SBUF_INIT;
    uint32_t per_area[5] = {0};
    static const char *const areas[] = {"linux", "network", "web", "vuln", "correlation"};
    for (size_t i = 0; i < n; i++) {
        char area[64], stem[256];
        vg_sbuf_printf(&emb, "%s\n", files[i].path);
        CHECK(files[i].len == strlen(files[i].text));
        CHECK(split_path(files[i].path, area, sizeof(area), stem, sizeof(stem)));
        bool known = false;
        for (size_t a = 0; a < VG_ARRAY_LEN(areas); a++) {
            per_area[a] += !strcmp(area, areas[a]);
            known |= !strcmp(area, areas[a]);
        }
        if (!known) {
            fprintf(stderr, "  %s: area must be linux, network, web, vuln or correlation\n",
                    files[i].path);
        }
        CHECK(known);
    }
    disk_rules(&disk);
    bool same = emb.len == disk.len && (!emb.len || !memcmp(emb.p, disk.p, emb.len));
    if (!same) {
        fprintf(stderr, "  the embedded rules differ from rules/builtin (rebuild?):\n%s--\n%s",
                emb.p ? emb.p : "", disk.p ? disk.p : "");
    }
    CHECK(same);
    int nc;
    struct dirent **cases = dir_list("tests/golden/rules", &nc);
    for (int i = 0; cases && i < nc; i++) {
        if (cases[i]->d_name[0] != '.' && !has_rule_file(files, n, cases[i]->d_name)) {
            fprintf(stderr, "  tests/golden/rules/%s has no rule file\n", cases[i]->d_name);
            CHECK(false);
        }
    }
    if (cases) {
        dir_free(cases, nc);
    }
    fprintf(stderr, "  %zu rule files: linux %u, network %u, web %u, vuln %u, correlation %u\n", n,
            per_area[0], per_area[1], per_area[2], per_area[3], per_area[4]);
    CHECK(n >= 60);
    vg_sbuf_fini(&emb);
    vg_sbuf_fini(&disk);
}

/* ---------------------------------------------------------------- Wazuh corpus noise */

struct where {
    int doc;
    char ini[64]; /* Wazuh test file the alerting lines come from */
    uint32_t n;
};

struct noise {
    uint32_t lines;
    uint32_t *total; /* alerts per document */
    struct where *w;
    size_t nw, cap;
};

static void noise_add(struct noise *z, int doc, const char *ini, uint32_t n)
{
    for (size_t i = 0; i < z->nw; i++) {
        if (z->w[i].doc == doc && !strcmp(z->w[i].ini, ini)) {
            z->w[i].n += n;
            return;
        }
    }
    if (vg_grow(&z->w, &z->cap, z->nw + 1, sizeof(*z->w)) == VG_OK) {
        struct where *w = &z->w[z->nw++];
        w->doc = doc;
        w->n = n;
        snprintf(w->ini, sizeof(w->ini), "%s", ini);
    }
}

/* Attribute the alerts raised since `before` to the Wazuh test file ini (and print the line
 * with VG_RULES_NOISE_LINES=1, to review what a rule fires on). */
static void noise_collect(struct noise *z, const struct stream *s, uint32_t *before,
                          const char *ini, const char *line, size_t len)
{
    for (uint32_t i = 0; i < B.set->n; i++) {
        if (s->hits[i] != before[i]) {
            if (getenv("VG_RULES_NOISE_LINES")) {
                fprintf(stderr, "  [%s] %s: %.*s\n", B.set->rules[i]->title, ini, (int)len, line);
            }
            noise_add(z, (int)i, ini, s->hits[i] - before[i]);
            before[i] = s->hits[i];
        }
    }
}

/* Every corpus line alone through the decoders (as wazuh-logtest does), all through one
 * detection context and one correlator, in file order. */
static bool noise_run(struct noise *z)
{
    const char *path = vgt_shared("corpus/wazuh-logtests/ORACLE_logtests.tsv");
    char *data = NULL;
    size_t len = 0;
    struct stream s;
    if (!path || vg_file_read(path, 1 << 26, &data, &len) != VG_OK) {
        return false;
    }
    uint32_t *before = vg_calloc(B.set->n + 1, sizeof(uint32_t));
    if (stream_open(&s, B.rs) && before) {
        for (char *l = strchr(data, '\n'); l && *++l;) {
            char *nl = strchr(l, '\n'), *tab = l, *log = NULL;
            for (int k = 0; k < 7 && tab; k++) {
                tab = strchr(tab + (k > 0), '\t');
            }
            log = tab && (!nl || tab < nl) ? tab + 1 : NULL;
            if (log) {
                char ini[64];
                snprintf(ini, sizeof(ini), "%.*s", (int)strcspn(l, "\t"), l);
                size_t ll = nl ? (size_t)(nl - log) : strlen(log);
                feed_record(&s, log, ll);
                if (vg_decoder_flush(s.dec, s.ev) == VG_OK) {
                    detect(&s);
                }
                z->lines++;
                noise_collect(z, &s, before, ini, log, ll);
            }
            l = nl;
        }
        vg_correlator_flush(s.cor, on_corr, &s);
        noise_collect(z, &s, before, "(correlations at end of input)", "", 0);
        memcpy(z->total, s.hits, B.set->n * sizeof(uint32_t));
    }
    stream_close(&s);
    vg_free(before);
    vg_free(data);
    return true;
}

/* The noise table of docs/rules.md. */
static void noise_table(const struct noise *z, struct vg_sbuf *o)
{
    uint32_t firing = 0, alerts = 0, emitting = 0;
    vg_sbuf_adds(o, "| rule | alerts | Wazuh test files (alerts) |\n| --- | ---: | --- |\n");
    for (uint32_t i = 0; i < B.set->n; i++) {
        const struct vg_sigma_rule *d = B.set->rules[i];
        char area[64], stem[256];
        emitting += d->level != VG_LEVEL_INFORMATIONAL;
        if (!z->total[i] || !split_path(d->path, area, sizeof(area), stem, sizeof(stem))) {
            continue;
        }
        firing++;
        alerts += z->total[i];
        vg_sbuf_printf(o, "| %s/%s | %u | ", area, stem, z->total[i]);
        bool first = true;
        for (size_t k = 0; k < z->nw; k++) {
            if (z->w[k].doc == (int)i) {
                vg_sbuf_printf(o, "%s%s (%u)", first ? "" : ", ", z->w[k].ini, z->w[k].n);
                first = false;
            }
        }
        vg_sbuf_adds(o, " |\n");
    }
    vg_sbuf_printf(o,
                   "\n%u alerts from %u of the %u alerting rules on the %u corpus lines; the "
                   "other %u rules raise none.\n",
                   alerts, firing, emitting, z->lines, emitting - firing);
}

/* ---------------------------------------------------------------- docs/rules.md */

static void attack_ids(const struct vg_sigma_rule *d, struct vg_sbuf *o)
{
    bool first = true;
    for (uint32_t i = 0; i < d->ntags; i++) {
        if (vg_sigma_tag_is_technique(d->tags[i])) {
            vg_sbuf_printf(o, "%sT%s", first ? "" : ", ", d->tags[i] + 8);
            first = false;
        }
    }
}

static void source_of(const struct vg_sigma_rule *d, struct vg_sbuf *o)
{
    if (d->kind == VG_SIGMA_CORRELATION) {
        int64_t ts = d->corr.timespan_ns / 1000000000;
        vg_sbuf_printf(o, "%s by ", vg_corr_type_name(d->corr.type));
        for (uint32_t g = 0; g < d->corr.ngroup; g++) {
            vg_sbuf_printf(o, "%s%s", g ? ", " : "", d->corr.group_by[g]);
        }
        vg_sbuf_printf(o, " in %lld%s",
                       (long long)(ts % 3600 == 0 ? ts / 3600
                                   : ts % 60 == 0 ? ts / 60
                                                  : ts),
                       ts % 3600 == 0 ? "h"
                       : ts % 60 == 0 ? "m"
                                      : "s");
        return;
    }
    const char *k[] = {d->logsource.product, d->logsource.category, d->logsource.service};
    bool first = true;
    for (size_t i = 0; i < VG_ARRAY_LEN(k); i++) {
        if (k[i]) {
            vg_sbuf_printf(o, "%s%s", first ? "" : " / ", k[i]);
            first = false;
        }
    }
}

/* The rule table of docs/rules.md: the rules that alert, file by file. */
static void rule_table(struct vg_sbuf *o)
{
    size_t n;
    const struct vg_builtin_rule *files = vg_builtin_rules(&n);
    vg_sbuf_adds(o, "| rule | title | level | ATT&CK | source | id |\n"
                    "| --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) {
        const struct vg_sigma_rule *tg[MAX_TARGETS];
        char area[64], stem[256];
        uint32_t nt = targets(files[i].path, tg);
        split_path(files[i].path, area, sizeof(area), stem, sizeof(stem));
        for (uint32_t k = 0; k < nt; k++) {
            vg_sbuf_printf(o, "| %s/%s | %s | %s | ", area, stem, tg[k]->title,
                           vg_sigma_level_name(tg[k]->level));
            attack_ids(tg[k], o);
            vg_sbuf_adds(o, " | ");
            source_of(tg[k], o);
            vg_sbuf_printf(o, " | `%s` |\n", tg[k]->id);
        }
    }
}

/* Replace the text between begin and end markers of doc (a heap string) with gen. */
static bool splice(char **doc, const char *mark, const struct vg_sbuf *gen)
{
    char b[128], e[128];
    snprintf(b, sizeof(b), "<!-- %s:begin -->\n", mark);
    snprintf(e, sizeof(e), "<!-- %s:end -->", mark);
    char *bp = strstr(*doc, b), *ep = bp ? strstr(bp, e) : NULL;
    if (!bp || !ep) {
        fprintf(stderr, "  docs/rules.md lacks the %s markers\n", mark);
        return false;
    }
    bp += strlen(b);
    struct vg_sbuf out = VG_SBUF_INIT;
    vg_sbuf_add(&out, *doc, (size_t)(bp - *doc));
    vg_sbuf_add(&out, gen->p, gen->len);
    vg_sbuf_adds(&out, ep);
    bool same = !strcmp(out.p, *doc);
    vg_free(*doc);
    *doc = vg_sbuf_take(&out, NULL);
    return same;
}

/* Write the regenerated page into a fresh temporary directory for the developer to copy. */
static void write_fresh(const char *doc)
{
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/vigie-rules-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        return;
    }
    snprintf(path, sizeof(path), "%s/rules.md", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(doc, f);
        fclose(f);
        fprintf(stderr,
                "  docs/rules.md is stale; review and copy the regenerated page:\n"
                "    cp %s docs/rules.md\n",
                path);
    }
}

static void check_doc(const struct noise *z)
{
    size_t len;
    char *doc = read_rel("docs/rules.md", &len);
    CHECK(doc != NULL);
    if (!doc) {
        return;
    }
    struct vg_sbuf rules = VG_SBUF_INIT, noise = VG_SBUF_INIT;
    rule_table(&rules);
    bool same = splice(&doc, "builtin-rules", &rules);
    if (z) {
        noise_table(z, &noise);
        same = splice(&doc, "builtin-noise", &noise) && same;
    }
    if (!same) {
        write_fresh(doc);
    }
    CHECK(same);
    vg_sbuf_fini(&rules);
    vg_sbuf_fini(&noise);
    vg_free(doc);
}

VG_TEST(builtin_wazuh_noise_and_docs)
{
    CHECK(builtin() != NULL);
    if (!B.rs) {
        return;
    }
    struct noise z = {0};
    z.total = vg_calloc(B.set->n + 1, sizeof(uint32_t));
    bool have = z.total && noise_run(&z);
    if (have) {
        struct vg_sbuf t = VG_SBUF_INIT;
        noise_table(&z, &t);
        fprintf(stderr, "%s", t.p);
        vg_sbuf_fini(&t);
        /* a rule raising on more than 5% of these mostly benign lines needs tightening */
        for (uint32_t i = 0; i < B.set->n; i++) {
            if (z.total[i] * 20 > z.lines) {
                fprintf(stderr, "  %s fires on %u of %u lines\n", B.set->rules[i]->title,
                        z.total[i], z.lines);
                CHECK(false);
            }
        }
    } else {
        fprintf(stderr, "  skipped the noise figures: ../shared/corpus/wazuh-logtests absent\n");
    }
    check_doc(have ? &z : NULL);
    vg_free(z.total);
    vg_free(z.w);
}
