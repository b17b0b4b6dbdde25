/*
 * test_rconf.c — the agent's remote configuration (agent_rconf.c): the server's JSON becomes
 * a YAML node tree that a collector's config table binds (the yara collector starts on it),
 * malformed configurations are refused naming the key, the canonical text says "same
 * settings" for the same values from YAML and JSON and "changed" otherwise, yara's "rules"
 * can be taken out of its section, and STATE/remote-config.json survives a save/load.
 */
#include "agent/agent_rconf.h"
#include "agent/agent_yara.h"
#include "vgtest.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse(const char *json, struct vg_agent_rconf **r, char *err, size_t errsz)
{
    return vg_agent_rconf_parse(json, strlen(json), r, err, errsz);
}

static char *canon_of(const struct vg_yaml_node *n)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_agent_rconf_canon(n, &b);
    return b.p ? b.p : vg_strdup("");
}

VG_TEST(json_becomes_yaml_nodes)
{
    struct vg_agent_rconf *r = NULL;
    char err[256];
    CHECK_EQ_INT(parse("{\"collectors\":{\"fim\":{\"paths\":[\"/etc\",\"/usr/bin\"],"
                       "\"scan_interval\":\"1h\",\"hash\":true,\"max\":12},\"process\":null}}",
                       &r, err, sizeof(err)),
                 VG_OK);
    const struct vg_yaml_node *fim = r ? vg_yaml_get(r->collectors, "fim") : NULL;
    CHECK(fim && fim->type == VG_YAML_MAP && fim->n == 4);
    const struct vg_yaml_node *paths = vg_yaml_get(fim, "paths");
    CHECK(paths && paths->type == VG_YAML_SEQ && paths->n == 2 &&
          !strcmp(paths->items[1]->str, "/usr/bin") && paths->items[1]->quoted);
    bool b = false;
    int64_t i = 0;
    CHECK_EQ_INT(vg_yaml_bool(vg_yaml_get(fim, "hash"), &b), VG_OK);
    CHECK(b);
    CHECK_EQ_INT(vg_yaml_int(vg_yaml_get(fim, "max"), &i), VG_OK);
    CHECK_EQ_INT(i, 12);
    CHECK(r && vg_yaml_is_null(vg_yaml_get(r->collectors, "process")));
    vg_agent_rconf_destroy(r);
    /* {} : no remote configuration */
    CHECK_EQ_INT(parse(" {} ", &r, err, sizeof(err)), VG_OK);
    CHECK(r && !r->collectors);
    vg_agent_rconf_destroy(r);
}

VG_TEST(malformed_configurations_are_refused)
{
    static const struct {
        const char *json, *err;
    } cases[] = {
        {"[1]", "expected a JSON object"},
        {"{\"collectors\":[]}", "collectors: expected an object"},
        {"{\"collectors\":{\"fim\":3}}", "collectors.fim: expected an object"},
        {"{\"collector\":{}}", "unknown key 'collector'"},
        {"{\"collectors\":{\"fim\":{\"paths\":[\"/a\\u0000b\"]}}}", "NUL"},
        {"{\"collectors\":", ""},
    };
    for (size_t i = 0; i < VG_ARRAY_LEN(cases); i++) {
        struct vg_agent_rconf *r = NULL;
        char err[256] = "";
        int rc = parse(cases[i].json, &r, err, sizeof(err));
        if (rc == VG_OK || !strstr(err, cases[i].err) || r) {
            fprintf(stderr, "  case %zu: rc %d err '%s'\n", i, rc, err);
            CHECK(0);
        }
        vg_agent_rconf_destroy(r);
    }
}

VG_TEST(canonical_text_tells_changed_settings)
{
    struct vg_yaml_file *y = NULL;
    struct vg_agent_rconf *same = NULL, *other = NULL, *str = NULL;
    char err[256];
    static const char yaml[] = "collectors:\n  network: {interval_ms: 1000, listen: true}\n";
    CHECK_EQ_INT(vg_yaml_parse(yaml, strlen(yaml), &y, err, sizeof(err)), VG_OK);
    const struct vg_yaml_node *local =
        y ? vg_yaml_get(vg_yaml_get(y->docs[0], "collectors"), "network") : NULL;
    CHECK_EQ_INT(parse("{\"collectors\":{\"network\":{\"interval_ms\":1000,\"listen\":true}}}",
                       &same, err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(parse("{\"collectors\":{\"network\":{\"interval_ms\":500,\"listen\":true}}}",
                       &other, err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(parse("{\"collectors\":{\"network\":{\"interval_ms\":\"1000\",\"listen\":true}}}",
                       &str, err, sizeof(err)),
                 VG_OK);
    char *a = canon_of(local), *b = canon_of(vg_yaml_get(same->collectors, "network"));
    char *c = canon_of(vg_yaml_get(other->collectors, "network"));
    char *d = canon_of(vg_yaml_get(str->collectors, "network"));
    CHECK_STR(a, b); /* YAML and JSON, same values */
    CHECK(strcmp(a, c) != 0);
    CHECK(strcmp(a, d) != 0); /* the string "1000" is not the number 1000 */
    char *n = canon_of(NULL);
    CHECK_STR(n, "");
    vg_free(a);
    vg_free(b);
    vg_free(c);
    vg_free(d);
    vg_free(n);
    vg_agent_rconf_destroy(same);
    vg_agent_rconf_destroy(other);
    vg_agent_rconf_destroy(str);
    vg_yaml_file_destroy(y);
}

static int no_emit(void *ctx, const char *json, size_t len)
{
    VG_UNUSED(ctx);
    VG_UNUSED(json);
    VG_UNUSED(len);
    return VG_OK;
}

VG_TEST(yara_section_binds_without_its_rules)
{
    struct vg_agent_rconf *r = NULL;
    struct vg_arena *ar = vg_arena_create(4096);
    char err[512];
    CHECK_EQ_INT(parse("{\"collectors\":{\"yara\":{\"rules\":\"rule a { condition: true }\","
                       "\"max_size\":1024}}}",
                       &r, err, sizeof(err)),
                 VG_OK);
    const struct vg_yaml_node *sec = r ? vg_yaml_get(r->collectors, "yara") : NULL, *rules = NULL;
    const struct vg_yaml_node *rest = vg_agent_rconf_without(ar, sec, "rules", &rules);
    CHECK(rules && rules->type == VG_YAML_SCALAR && strstr(rules->str, "rule a"));
    CHECK(rest && rest != sec && rest->n == 1 && !vg_yaml_get(rest, "rules"));
    CHECK(sec && sec->n == 2); /* the original is untouched */
    CHECK(vg_agent_rconf_without(ar, rest, "rules", &rules) == rest && !rules);
    /* the collector's own table accepts the rest, and refuses "rules" */
    struct vg_agent_collector *c = NULL;
    struct vg_agent_collector_opts o = {.conf = rest, .emit = no_emit};
    CHECK_EQ_INT(vg_agent_yara_collector.start(&o, &c, err, sizeof(err)), VG_OK);
    vg_agent_yara_collector.stop(c);
    o.conf = sec;
    c = NULL;
    CHECK(vg_agent_yara_collector.start(&o, &c, err, sizeof(err)) != VG_OK);
    vg_agent_yara_collector.stop(c);
    vg_agent_rconf_destroy(r);
    vg_arena_destroy(ar);
}

VG_TEST(state_file_round_trip)
{
    char dir[] = "/tmp/vg-rconf.XXXXXX", err[512], path[64];
    struct vg_agent_rconf *r = NULL, *back = NULL;
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(vg_agent_rconf_load(dir, &back, err, sizeof(err)), VG_ENOENT);
    const char *json = "{\"collectors\":{\"process\":{}}}";
    CHECK_EQ_INT(parse(json, &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_agent_rconf_save(dir, r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(vg_agent_rconf_load(dir, &back, err, sizeof(err)), VG_OK);
    CHECK(back && back->len == strlen(json) && !memcmp(back->json, json, back->len) &&
          vg_yaml_get(back->collectors, "process"));
    snprintf(path, sizeof(path), "%s/%s", dir, VG_AGENT_RCONF_FILE);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    /* a corrupt file is an error naming it, not a crash */
    FILE *f = fopen(path, "w");
    fputs("{\"collectors\":", f);
    fclose(f);
    vg_agent_rconf_destroy(back);
    back = NULL;
    CHECK_EQ_INT(vg_agent_rconf_load(dir, &back, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, VG_AGENT_RCONF_FILE));
    CHECK_EQ_INT(vg_agent_rconf_remove(dir), VG_OK);
    CHECK_EQ_INT(vg_agent_rconf_remove(dir), VG_OK);
    CHECK(access(path, F_OK) != 0);
    vg_agent_rconf_destroy(r);
    rmdir(dir);
}
