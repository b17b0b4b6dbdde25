/*
 * agent_resp_scan.c — the "scan" response action: an on-demand YARA scan of a file or a
 * directory tree (vg_agent_yara_scan_path: same filesystem, symbolic links not followed,
 * files over 64 MiB skipped), answered with a bounded list of matches.
 *
 * Rules: the command's "rules" text when given (compiled here; a syntax error names the
 * line), else the running yara collector's rule set (opts->yara_rules). With neither the
 * action fails with VG_EUNSUPPORTED. The scan runs on the command's thread and returns when
 * the walk ends; matches past max_matches are counted, not listed ("truncated": true).
 *
 * Output: {"path","recursive","rules":"command"|"collector","rule_count","files","bytes",
 * "skipped","errors","matches_total","truncated","matches":[{"file","rule","namespace",
 * "tags":[..],"sha256"}]}
 */
#include "agent/agent_resp_int.h"
#include "agent/agent_yara.h"

#include <limits.h>
#include <string.h>

#define SCAN_MAX_MATCHES     1000
#define SCAN_DEFAULT_MATCHES 100
#define SCAN_RULES_MAX       (1u << 20)

struct scan_out {
    struct vg_sbuf matches; /* the listed matches, comma-separated */
    int64_t max, listed, total;
};

static void add_key_str(struct vg_sbuf *b, const char *key, const char *v)
{
    vg_sbuf_printf(b, "\"%s\":", key);
    vg_sbuf_add_json_str(b, v, strlen(v));
}

static int on_match(void *ctx, const struct vg_agent_yara_match *m)
{
    struct scan_out *s = ctx;
    s->total++;
    if (s->listed >= s->max) {
        return VG_OK; /* counted; the walk goes on so files/matches_total stay true */
    }
    struct vg_sbuf *b = &s->matches;
    vg_sbuf_adds(b, s->listed++ ? ",{" : "{");
    add_key_str(b, "file", m->path);
    vg_sbuf_addc(b, ',');
    add_key_str(b, "rule", m->rule);
    vg_sbuf_addc(b, ',');
    add_key_str(b, "namespace", m->ns);
    vg_sbuf_adds(b, ",\"tags\":[");
    for (size_t i = 0; i < m->ntags; i++) {
        vg_sbuf_adds(b, i ? "," : "");
        vg_sbuf_add_json_str(b, m->tags[i], strlen(m->tags[i]));
    }
    vg_sbuf_adds(b, "],");
    add_key_str(b, "sha256", m->sha256);
    vg_sbuf_addc(b, '}');
    return b->err ? VG_ENOMEM : VG_OK;
}

/* The rule set: the command's text, else the collector's. *source names which. */
static int scan_rules(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                      struct vg_agent_yara_rules **out, const char **source, char *err,
                      size_t errsz)
{
    const struct vg_json *t = vg_json_get(args, "rules");
    char yerr[384];
    *out = NULL;
    if (t && t->type != VG_JSON_NULL) {
        if (t->type != VG_JSON_STRING || t->n > SCAN_RULES_MAX || memchr(t->s, '\0', t->n)) {
            return vg_resp_fail(err, errsz, VG_EINVAL,
                                "parameter 'rules' must be YARA rule text of at most %u bytes",
                                SCAN_RULES_MAX);
        }
        int rc = vg_agent_yara_compile(t->s, t->n, "command", out, yerr, sizeof(yerr));
        *source = "command";
        return rc == VG_OK ? VG_OK : vg_resp_fail(err, errsz, rc, "parameter 'rules': %s", yerr);
    }
    *out = o->yara_rules ? o->yara_rules(o->yara_ctx) : NULL;
    *source = "collector";
    if (!*out) {
        return vg_resp_fail(err, errsz, VG_EUNSUPPORTED,
                            "scan: no rules: the yara collector does not run on this agent and "
                            "the command gives no 'rules'");
    }
    return VG_OK;
}

static int scan_args(const struct vg_json *args, char *path, size_t psize, bool *recursive,
                     int64_t *max, char *err, size_t errsz)
{
    int rc = vg_resp_arg_str(args, "path", true, path, psize, err, errsz);
    if (rc == VG_OK && path[0] != '/') {
        rc = vg_resp_fail(err, errsz, VG_EINVAL, "parameter 'path' must be an absolute path");
    }
    int r2 = rc ? rc : vg_resp_arg_bool(args, "recursive", recursive, err, errsz);
    rc = r2 == VG_ENOENT ? VG_OK : r2;
    r2 =
        rc ? rc : vg_resp_arg_int(args, "max_matches", false, 1, SCAN_MAX_MATCHES, max, err, errsz);
    return r2 == VG_ENOENT ? VG_OK : r2;
}

int vg_resp_scan_run(const struct vg_json *args, const struct vg_agent_resp_opts *o,
                     struct vg_sbuf *out, char *err, size_t errsz)
{
    char path[PATH_MAX];
    bool recursive = false;
    struct scan_out s = {.matches = VG_SBUF_INIT, .max = SCAN_DEFAULT_MATCHES};
    struct vg_agent_yara_rules *rules = NULL;
    struct vg_agent_yara_scan_stats st = {0};
    const char *source = "";
    int rc = scan_args(args, path, sizeof(path), &recursive, &s.max, err, errsz);
    rc = rc ? rc : scan_rules(args, o, &rules, &source, err, errsz);
    if (rc == VG_OK) {
        rc = vg_agent_yara_scan_path(rules, path, recursive, 0, on_match, &s, &st);
        if (rc == VG_EINVAL) {
            vg_resp_fail(err, errsz, rc, "%s: a directory: set \"recursive\": true", path);
        } else if (rc != VG_OK) {
            vg_resp_fail(err, errsz, rc, "%s: %s", path, vg_strerror(rc));
        }
    }
    if (rc == VG_OK) {
        vg_sbuf_adds(out, "{");
        add_key_str(out, "path", path);
        vg_sbuf_printf(out,
                       ",\"recursive\":%s,\"rules\":\"%s\",\"rule_count\":%zu,\"files\":%llu,"
                       "\"bytes\":%llu,\"skipped\":%llu,\"errors\":%llu,\"matches_total\":%lld,"
                       "\"truncated\":%s,\"matches\":[",
                       recursive ? "true" : "false", source, vg_agent_yara_rules_count(rules),
                       (unsigned long long)st.files, (unsigned long long)st.bytes,
                       (unsigned long long)st.skipped, (unsigned long long)st.errors,
                       (long long)s.total, s.total > s.listed ? "true" : "false");
        vg_sbuf_add(out, s.matches.p ? s.matches.p : "", s.matches.len);
        vg_sbuf_adds(out, "]}");
    }
    vg_agent_yara_rules_unref(rules);
    vg_sbuf_fini(&s.matches);
    return rc;
}
