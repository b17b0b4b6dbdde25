/*
 * test_yara.c — YARA in the agent with libyara: a rule compiled from text matches a file the
 * test writes (rule name, tags, string offsets, SHA-256 checked against OpenSSL's digest of
 * the same bytes) and not a clean one; a bad rule gives the compiler's message with its
 * line; rule directories; recursive scans that skip symbolic links and oversized files;
 * several threads scanning with one rule set; the collector end to end (submit, notify,
 * pushed rules replacing the old ones, the unchanged-executable cache).
 */
#include "agent/agent_yara.h"
#include "event/event.h"
#include "agent_sink.h"
#include "vgtest.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static const char rule_text[] = "rule vigie_test_marker : test evil\n"
                                "{\n"
                                "  strings:\n"
                                "    $a = \"VIGIE-YARA-MARKER\"\n"
                                "    $b = { DE AD BE EF }\n"
                                "  condition:\n"
                                "    $a or $b\n"
                                "}\n";

static const char evil[] = "hello VIGIE-YARA-MARKER and again VIGIE-YARA-MARKER\xde\xad\xbe\xef";

struct rig {
    char dir[64];
};

static void put(const char *dir, const char *name, const void *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static void rig_open(struct rig *r)
{
    char sub[128];
    snprintf(r->dir, sizeof(r->dir), "/tmp/vg-yara-XXXXXX");
    CHECK(mkdtemp(r->dir) != NULL);
    put(r->dir, "evil.bin", evil, sizeof(evil) - 1);
    put(r->dir, "clean.txt", "nothing to see", 14);
    snprintf(sub, sizeof(sub), "%s/sub", r->dir);
    mkdir(sub, 0755);
    put(sub, "deep.bin", "xxVIGIE-YARA-MARKERxx", 21);
    snprintf(sub, sizeof(sub), "%s/link.bin", r->dir);
    CHECK(symlink("evil.bin", sub) == 0);
}

static void rig_close(struct rig *r)
{
    char cmd[160];
    const char *const files[] = {"evil.bin", "clean.txt", "sub/deep.bin", "link.bin", "big.bin"};
    for (size_t i = 0; i < VG_ARRAY_LEN(files); i++) {
        snprintf(cmd, sizeof(cmd), "%s/%s", r->dir, files[i]);
        unlink(cmd);
    }
    snprintf(cmd, sizeof(cmd), "%s/sub", r->dir);
    rmdir(cmd);
    rmdir(r->dir);
}

/* ---------------------------------------------------------------- scan API */

struct got {
    pthread_mutex_t mu;
    int n;
    char rule[64], path[256], sha[65], tags[64];
    size_t nstrings;
    uint64_t off0, off_last;
};

static int on_match(void *ctx, const struct vg_agent_yara_match *m)
{
    struct got *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->n++;
    snprintf(g->rule, sizeof(g->rule), "%s", m->rule);
    snprintf(g->path, sizeof(g->path), "%s", m->path);
    snprintf(g->sha, sizeof(g->sha), "%s", m->sha256);
    g->tags[0] = '\0';
    for (size_t i = 0, used = 0; i < m->ntags && used < sizeof(g->tags); i++) {
        int k = snprintf(g->tags + used, sizeof(g->tags) - used, "%s,", m->tags[i]);
        used += k > 0 ? (size_t)k : 0;
    }
    g->nstrings = m->nstrings;
    g->off0 = m->nstrings ? m->strings[0].offset : 0;
    g->off_last = m->nstrings ? m->strings[m->nstrings - 1].offset : 0;
    pthread_mutex_unlock(&g->mu);
    return VG_OK;
}

static void sha_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int ml;
    EVP_Digest(p, n, md, &ml, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
}

VG_TEST(rule_matches_file_and_not_clean_one)
{
    struct rig r;
    struct vg_agent_yara_rules *rules = NULL;
    char err[256] = "", path[256], sha[65];
    rig_open(&r);
    CHECK_EQ_INT(
        vg_agent_yara_compile(rule_text, strlen(rule_text), "test", &rules, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(vg_agent_yara_rules_count(rules), 1);

    struct got g = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_yara_scan_stats st;
    snprintf(path, sizeof(path), "%s/evil.bin", r.dir);
    CHECK_EQ_INT(vg_agent_yara_scan_path(rules, path, false, 0, on_match, &g, &st), VG_OK);
    CHECK_EQ_INT(g.n, 1);
    CHECK_STR(g.rule, "vigie_test_marker");
    CHECK_STR(g.tags, "test,evil,");
    CHECK_STR(g.path, path);
    sha_hex(evil, sizeof(evil) - 1, sha);
    CHECK_STR(g.sha, sha);
    CHECK_EQ_INT(g.nstrings, 3); /* $a twice, $b once */
    CHECK_EQ_INT(g.off0, 6);
    CHECK_EQ_INT(g.off_last, sizeof(evil) - 1 - 4);
    CHECK_EQ_INT(st.files, 1);
    CHECK_EQ_INT(st.matches, 1);

    memset(&g, 0, sizeof(g));
    snprintf(path, sizeof(path), "%s/clean.txt", r.dir);
    CHECK_EQ_INT(vg_agent_yara_scan_path(rules, path, false, 0, on_match, &g, &st), VG_OK);
    CHECK_EQ_INT(g.n, 0);
    CHECK_EQ_INT(st.files, 1);

    /* a directory needs recursive; symlinks below it are not followed; size bound */
    CHECK_EQ_INT(vg_agent_yara_scan_path(rules, r.dir, false, 0, on_match, &g, &st), VG_EINVAL);
    CHECK_EQ_INT(vg_agent_yara_scan_path(rules, r.dir, true, 0, on_match, &g, &st), VG_OK);
    CHECK_EQ_INT(g.n, 2); /* evil.bin and sub/deep.bin, not link.bin */
    CHECK_EQ_INT(st.files, 3);
    CHECK_EQ_INT(st.skipped, 1); /* the symlink */
    memset(&g, 0, sizeof(g));
    CHECK_EQ_INT(vg_agent_yara_scan_path(rules, r.dir, true, 30, on_match, &g, &st), VG_OK);
    CHECK_EQ_INT(g.n, 1); /* evil.bin (54 bytes) is over the 30-byte bound */
    CHECK_EQ_INT(vg_agent_yara_scan_path(rules, "/nonexistent/x", false, 0, on_match, &g, &st),
                 VG_ENOENT);
    vg_agent_yara_rules_unref(rules);
    rig_close(&r);
}

VG_TEST(bad_rule_reports_compiler_error_with_line)
{
    struct vg_agent_yara_rules *rules = NULL;
    char err[256] = "";
    static const char bad[] = "rule ok { condition: true }\n"
                              "rule broken {\n"
                              "  strings: $a = \"x\"\n"
                              "  condition: $a and $nosuch\n"
                              "}\n";
    CHECK_EQ_INT(vg_agent_yara_compile(bad, strlen(bad), "pushed.yar", &rules, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(rules == NULL);
    fprintf(stderr, "  compiler said: %s\n", err);
    /* libyara checks a rule's condition when the rule ends: it names the closing line */
    CHECK(strncmp(err, "pushed.yar:5: ", 14) == 0);
    CHECK(strstr(err, "$nosuch") != NULL);

    static const char syntax[] = "rule x {\n condition:\n  true and (\n}\n";
    CHECK_EQ_INT(vg_agent_yara_compile(syntax, strlen(syntax), "s.yar", &rules, err, sizeof(err)),
                 VG_EINVAL);
    CHECK(strncmp(err, "s.yar:4: ", 9) == 0);
}

VG_TEST(rules_directory)
{
    char dir[] = "/tmp/vg-yrules-XXXXXX", p[128];
    struct vg_agent_yara_rules *rules = NULL;
    char err[256] = "";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(vg_agent_yara_load_dir(dir, &rules, err, sizeof(err)), VG_ENOENT);
    CHECK(strstr(err, "no *.yar") != NULL);
    put(dir, "a.yar", rule_text, strlen(rule_text));
    put(dir, "b.yara", "rule other { condition: filesize > 1000000 }\n", 45);
    put(dir, "README", "not a rule", 10);
    CHECK_EQ_INT(vg_agent_yara_load_dir(dir, &rules, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_agent_yara_rules_count(rules), 2);
    vg_agent_yara_rules_unref(rules);
    put(dir, "c.yar", "\n\nrule bad { condition: nope }\n", 31);
    CHECK_EQ_INT(vg_agent_yara_load_dir(dir, &rules, err, sizeof(err)), VG_EINVAL);
    CHECK(strncmp(err, "c.yar:3: ", 9) == 0);
    const char *const names[] = {"a.yar", "b.yara", "README", "c.yar"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

struct thr {
    struct vg_agent_yara_rules *rules;
    const char *path;
    int found;
};

static void *scan_thread(void *arg)
{
    struct thr *t = arg;
    struct got g = {.mu = PTHREAD_MUTEX_INITIALIZER};
    for (int i = 0; i < 200; i++) {
        g.n = 0;
        if (vg_agent_yara_scan_path(t->rules, t->path, false, 0, on_match, &g, NULL) == VG_OK) {
            t->found += g.n;
        }
    }
    return NULL;
}

VG_TEST(threads_share_one_rule_set)
{
    struct rig r;
    struct vg_agent_yara_rules *rules = NULL;
    char err[256], path[256];
    rig_open(&r);
    CHECK_EQ_INT(vg_agent_yara_compile(rule_text, strlen(rule_text), "t", &rules, err, sizeof(err)),
                 VG_OK);
    snprintf(path, sizeof(path), "%s/evil.bin", r.dir);
    pthread_t th[4];
    struct thr t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (struct thr){rules, path, 0};
        pthread_create(&th[i], NULL, scan_thread, &t[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(t[i].found, 200);
    }
    vg_agent_yara_rules_unref(rules);
    rig_close(&r);
}

/* ---------------------------------------------------------------- collector */

VG_TEST(collector_scans_submitted_paths)
{
    struct rig r;
    char err[256] = "", conf[256], path[256], needle[1024], sha[65];
    rig_open(&r);
    char rdir[] = "/tmp/vg-yrc-XXXXXX";
    CHECK(mkdtemp(rdir) != NULL);
    put(rdir, "marker.yar", rule_text, strlen(rule_text));
    snprintf(conf, sizeof(conf), "rules_dir: %s\nqueue: 8\n", rdir);
    struct vg_yaml_file *f = NULL;
    CHECK_EQ_INT(vg_yaml_parse(conf, strlen(conf), &f, err, sizeof(err)), VG_OK);
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector_opts o = {.conf = f->docs[0], .emit = sink_emit, .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    CHECK_EQ_INT(vg_agent_yara_collector.start(&o, &c, err, sizeof(err)), VG_OK);
    CHECK_STR(vg_agent_yara_collector.backend(c), "libyara");

    snprintf(path, sizeof(path), "%s/evil.bin", r.dir);
    CHECK_EQ_INT(vg_agent_yara_notify(path, "exec"), VG_OK);
    CHECK_EQ_INT(vg_agent_yara_wait_idle(c, 5000), VG_OK);
    sha_hex(evil, sizeof(evil) - 1, sha);
    CHECK_EQ_INT(sink_find(&s, "\"event.action\":\"yara_match\""), 1);
    snprintf(needle, sizeof(needle),
             "\"event.reason\":\"exec\",\"file.path\":\"%s\",\"file.size\":%zu,"
             "\"file.hash.sha256\":\"%s\",\"rule.name\":\"vigie_test_marker\","
             "\"rule.ruleset\":\"marker.yar\",\"rule.tags\":[\"test\",\"evil\"],"
             "\"yara.strings\":[{\"id\":\"$a\",\"offset\":6,\"length\":17},",
             path, sizeof(evil) - 1, sha);
    CHECK(sink_find(&s, needle) == 1);
    CHECK(sink_find(&s, "\"event.category\":[\"malware\",\"intrusion_detection\"]") == 1);

    /* the same unchanged executable again: cached, no second scan */
    CHECK_EQ_INT(vg_agent_yara_notify(path, "exec"), VG_OK);
    CHECK_EQ_INT(vg_agent_yara_wait_idle(c, 5000), VG_OK);
    CHECK_EQ_INT(sink_find(&s, "\"event.action\":\"yara_match\""), 1);

    /* on-demand recursive scan */
    CHECK_EQ_INT(vg_agent_yara_submit(c, r.dir, true, "on_demand"), VG_OK);
    CHECK_EQ_INT(vg_agent_yara_wait_idle(c, 5000), VG_OK);
    CHECK_EQ_INT(sink_find(&s, "\"event.reason\":\"on_demand\""), 2);

    /* pushed rules: a bad set is refused and the old one stays; a good one replaces it */
    CHECK_EQ_INT(vg_agent_yara_set_rules(c, "rule {", 6, "push1", err, sizeof(err)), VG_EINVAL);
    CHECK(strncmp(err, "push1:1: ", 9) == 0);
    static const char clean_rule[] = "rule nothing_here { strings: $ = \"nothing\" condition: all "
                                     "of them }";
    CHECK_EQ_INT(
        vg_agent_yara_set_rules(c, clean_rule, strlen(clean_rule), "push2", err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(vg_agent_yara_submit(c, r.dir, true, "on_demand"), VG_OK);
    CHECK_EQ_INT(vg_agent_yara_wait_idle(c, 5000), VG_OK);
    CHECK_EQ_INT(sink_find(&s, "\"rule.name\":\"nothing_here\""), 1);
    CHECK_EQ_INT(sink_find(&s, "\"rule.ruleset\":\"push2\""), 1);

    struct vg_sbuf st = VG_SBUF_INIT;
    vg_agent_yara_collector.stats(c, &st);
    CHECK(st.p && strstr(st.p, "\"rules\":1,") && strstr(st.p, "\"cached\":1,"));
    fprintf(stderr, "  stats: %s\n", st.p ? st.p : "");
    vg_sbuf_fini(&st);
    vg_agent_yara_collector.stop(c);
    CHECK_EQ_INT(vg_agent_yara_notify(path, "exec"), VG_ENOENT);
    vg_yaml_file_destroy(f);
    sink_fini(&s);
    snprintf(path, sizeof(path), "%s/marker.yar", rdir);
    unlink(path);
    rmdir(rdir);
    rig_close(&r);
}

VG_TEST(collector_bad_rules_dir_fails_start)
{
    char err[256] = "";
    struct vg_yaml_file *f = NULL;
    const char *conf = "rules_dir: /nonexistent/rules\n";
    CHECK_EQ_INT(vg_yaml_parse(conf, strlen(conf), &f, err, sizeof(err)), VG_OK);
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector_opts o = {.conf = f->docs[0], .emit = sink_emit, .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    CHECK_EQ_INT(vg_agent_yara_collector.start(&o, &c, err, sizeof(err)), VG_ENOENT);
    CHECK(strstr(err, "/nonexistent/rules") != NULL);
    vg_yaml_file_destroy(f);
}
