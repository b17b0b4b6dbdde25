/*
 * test_wl.c — MISP warninglists (intel_wl.c): the semantics of each list type on small
 * documents (cidr with prefix containment, hostname suffixes, case-insensitive strings,
 * substrings, PCRE regexes, hints from matching_attributes, URL hosts), malformed entries
 * skipped and counted with "FILE: list[INDEX]: reason", malformed documents rejected with the
 * field named; then the real corpus (../shared/corpus/misp-warninglists, issue 7 acceptance
 * 3): every entry of every list hits its own list, and random non-members hit nothing.
 */
#include "core/core.h"
#include "event/event.h"
#include "intel/intel_wl.h"
#include "vgtest.h"

#include <dirent.h>

static struct vg_intel_wl *wl_from(const char *const *docs, int n)
{
    struct vg_intel_wl *wl = NULL;
    char err[256];
    if (vg_intel_wl_create(&wl) != 0) {
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        char src[32];
        snprintf(src, sizeof(src), "doc%d", i);
        if (vg_intel_wl_load_mem(wl, src, docs[i], strlen(docs[i]), err, sizeof(err)) != 0) {
            fprintf(stderr, "  load: %s\n", err);
            vg_intel_wl_destroy(wl);
            return NULL;
        }
    }
    if (vg_intel_wl_build(wl, err, sizeof(err)) != 0) {
        vg_intel_wl_destroy(wl);
        return NULL;
    }
    return wl;
}

/* Names of the lists hit, comma-separated, "" for none. */
static bool by_key; /* corpus tests print list keys ("rfc1918"), the others list names */

static const char *hits(const struct vg_intel_wl *wl, const char *v, enum vg_intel_wl_hint h)
{
    static char buf[1024];
    struct vg_intel_wl_hit hit;
    size_t o = 0;
    buf[0] = '\0';
    if (vg_intel_wl_match(wl, v, strlen(v), h, &hit) < 0) {
        return "ERR";
    }
    for (uint32_t i = 0; i < hit.n; i++) {
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? "," : "",
                              by_key ? vg_intel_wl_list_key(wl, hit.ids[i])
                                     : vg_intel_wl_list_name(wl, hit.ids[i]));
    }
    return buf;
}

static const char *const docs[] = {
    "{\"name\":\"nets\",\"type\":\"cidr\",\"matching_attributes\":[\"ip-src\",\"ip-dst\"],"
    "\"list\":[\"10.0.0.0/8\",\"192.0.2.7\",\"2001:db8::/32\",\"1.2.3.4/24\",\"bogus\","
    "\"10.0.0.0/33\",42]}",
    "{\"name\":\"nets2\",\"type\":\"cidr\",\"list\":[\"10.1.0.0/16\",\"0.0.0.0/0\"]}",
    "{\"name\":\"hosts\",\"type\":\"hostname\",\"matching_attributes\":[\"domain\",\"url\"],"
    "\"list\":[\"Example.COM\",\".corp.test\",\"fqdn.test.\",\"bad host\",\"\"]}",
    "{\"name\":\"strs\",\"type\":\"string\",\"matching_attributes\":[\"md5\",\"domain\"],"
    "\"list\":[\"D41D8CD98F00B204E9800998ECF8427E\",\"exact.test\"]}",
    "{\"name\":\"subs\",\"type\":\"substring\",\"matching_attributes\":[\"email-src\"],"
    "\"list\":[\"mailinator\",\"0-mail.com\",\"ail\"]}",
    "{\"name\":\"re\",\"type\":\"regex\",\"matching_attributes\":[\"email-src\",\"phone-number\"],"
    "\"list\":[\"/^(security|abuse)\\\\@.*$/i\",\"/((?:\\\\+|00)1)?55501([0-9]{2})/g\",\"/(/\"]}",
};

VG_TEST(wl_cidr_semantics)
{
    struct vg_intel_wl *wl = wl_from(docs, 2);
    int id;
    CHECK(wl != NULL);
    if (!wl) {
        return;
    }
    CHECK_STR(hits(wl, "10.9.9.9", VG_INTEL_WL_HINT_IP), "nets,nets2");
    CHECK_STR(hits(wl, "10.1.2.3", VG_INTEL_WL_HINT_ANY), "nets,nets2");
    CHECK_STR(hits(wl, "192.0.2.7", VG_INTEL_WL_HINT_IP), "nets,nets2");
    CHECK_STR(hits(wl, "1.2.3.200", VG_INTEL_WL_HINT_IP), "nets,nets2"); /* host bits masked */
    CHECK_STR(hits(wl, "192.0.2.8", VG_INTEL_WL_HINT_IP), "nets2");
    CHECK_STR(hits(wl, "10.0.0.0/9", VG_INTEL_WL_HINT_IP), "nets,nets2");
    CHECK_STR(hits(wl, "10.0.0.0/7", VG_INTEL_WL_HINT_IP), "nets2"); /* wider than 10/8 */
    CHECK_STR(hits(wl, "::ffff:10.0.0.1", VG_INTEL_WL_HINT_IP), "nets,nets2");
    CHECK_STR(hits(wl, "2001:DB8::1", VG_INTEL_WL_HINT_IP), "nets");
    CHECK_STR(hits(wl, "2001:db9::1", VG_INTEL_WL_HINT_IP), "");
    CHECK_STR(hits(wl, "10.0.0.1", VG_INTEL_WL_HINT_HASH), ""); /* a hash is not parsed as IP */
    CHECK_STR(hits(wl, "not-an-ip", VG_INTEL_WL_HINT_IP), "");
    id = vg_intel_wl_find(wl, "nets");
    CHECK_EQ_INT(vg_intel_wl_list_entries(wl, (uint32_t)id), 4);
    CHECK_EQ_INT(vg_intel_wl_list_skipped(wl, (uint32_t)id), 3);
    CHECK_STR(vg_intel_wl_list_error(wl, (uint32_t)id),
              "doc0: list[4]: not an IPv4/IPv6 address or prefix");
    vg_intel_wl_destroy(wl);
}

VG_TEST(wl_host_string_substring_regex)
{
    struct vg_intel_wl *wl = wl_from(docs + 2, 4);
    int id;
    CHECK(wl != NULL);
    if (!wl) {
        return;
    }
    CHECK_STR(hits(wl, "example.com", VG_INTEL_WL_HINT_DOMAIN), "hosts");
    CHECK_STR(hits(wl, "A.b.EXAMPLE.com.", VG_INTEL_WL_HINT_DOMAIN), "hosts");
    CHECK_STR(hits(wl, "notexample.com", VG_INTEL_WL_HINT_DOMAIN), "");
    CHECK_STR(hits(wl, "x.corp.test", VG_INTEL_WL_HINT_DOMAIN), "hosts");
    CHECK_STR(hits(wl, "corp.test", VG_INTEL_WL_HINT_DOMAIN), "hosts");
    CHECK_STR(hits(wl, "fqdn.test", VG_INTEL_WL_HINT_DOMAIN), "hosts");
    CHECK_STR(hits(wl, "https://u@www.example.com:8443/x?y", VG_INTEL_WL_HINT_URL), "hosts");
    CHECK_STR(hits(wl, "www.example.com", VG_INTEL_WL_HINT_EMAIL), ""); /* hint filters */
    CHECK_STR(hits(wl, "d41d8cd98f00b204e9800998ecf8427e", VG_INTEL_WL_HINT_HASH), "strs");
    CHECK_STR(hits(wl, "EXACT.test", VG_INTEL_WL_HINT_DOMAIN), "strs");
    CHECK_STR(hits(wl, "a.exact.test", VG_INTEL_WL_HINT_DOMAIN), "");
    CHECK_STR(hits(wl, "bob@MAILINATOR.com", VG_INTEL_WL_HINT_EMAIL), "subs");
    CHECK_STR(hits(wl, "x@00-mail.com", VG_INTEL_WL_HINT_EMAIL), "subs");
    CHECK_STR(hits(wl, "x@nothing.org", VG_INTEL_WL_HINT_EMAIL), "");
    CHECK_STR(hits(wl, "Security@corp.org", VG_INTEL_WL_HINT_EMAIL), "re");
    CHECK_STR(hits(wl, "+15550123", VG_INTEL_WL_HINT_PHONE), "re");
    CHECK_STR(hits(wl, "+15560123", VG_INTEL_WL_HINT_PHONE), "");
    CHECK_STR(hits(wl, "+15550123", VG_INTEL_WL_HINT_DOMAIN), "");
    id = vg_intel_wl_find(wl, "hosts");
    CHECK_EQ_INT(vg_intel_wl_list_entries(wl, (uint32_t)id), 3);
    CHECK_EQ_INT(vg_intel_wl_list_skipped(wl, (uint32_t)id), 2);
    id = vg_intel_wl_find(wl, "re");
    CHECK_EQ_INT(vg_intel_wl_list_entries(wl, (uint32_t)id), 2);
    CHECK_EQ_INT(vg_intel_wl_list_skipped(wl, (uint32_t)id), 1);
    CHECK(strstr(vg_intel_wl_list_error(wl, (uint32_t)id), "doc3: list[2]: regex") != NULL);
    vg_intel_wl_destroy(wl);
}

VG_TEST(wl_bad_documents)
{
    static const char *const bad[] = {
        "[1,2]",
        "{\"name\":\"x\",\"list\":[]}",
        "{\"name\":\"x\",\"type\":\"cidr\"}",
        "{\"name\":\"x\",\"type\":\"glob\",\"list\":[]}",
        "{\"name\":\"x\",\"type\":\"cidr\",\"list\":[",
    };
    static const char *const want[] = {"top level", "\"type\"", "\"list\"", "\"type\"",
                                       "invalid JSON"};
    struct vg_intel_wl *wl = NULL;
    struct vg_intel_wl_hit hit;
    char err[256];
    CHECK_EQ_INT(vg_intel_wl_create(&wl), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CHECK(vg_intel_wl_load_mem(wl, "f.json", bad[i], strlen(bad[i]), err, sizeof(err)) < 0);
        CHECK(strstr(err, "f.json: ") == err);
        CHECK(strstr(err, want[i]) != NULL);
    }
    CHECK_EQ_INT(vg_intel_wl_count(wl), 0);
    CHECK_EQ_INT(vg_intel_wl_match(wl, "x", 1, VG_INTEL_WL_HINT_ANY, &hit), VG_EINVAL);
    CHECK_EQ_INT(vg_intel_wl_build(wl, err, sizeof(err)), 0);
    CHECK_EQ_INT(vg_intel_wl_match(wl, "x", 1, VG_INTEL_WL_HINT_ANY, &hit), 0);
    CHECK_EQ_INT(vg_intel_wl_match(wl, "", 0, VG_INTEL_WL_HINT_ANY, &hit), 0);
    vg_intel_wl_destroy(wl);
    CHECK(vg_intel_wl_load_dir("/nonexistent-wl", &wl, err, sizeof(err)) < 0);
    CHECK(wl == NULL);
}

/* ---------------------------------------------------------------- real corpus */

static struct vg_intel_wl *corpus_wl;

static struct vg_intel_wl *corpus(void)
{
    const char *dir = vgt_shared("corpus/misp-warninglists/lists");
    char err[512];
    DIR *d;
    if (corpus_wl || !dir || !(d = opendir(dir))) {
        return corpus_wl;
    }
    closedir(d);
    if (vg_intel_wl_load_dir(dir, &corpus_wl, err, sizeof(err)) != 0) {
        fprintf(stderr, "  load_dir: %s\n", err);
    }
    return corpus_wl;
}

/* Re-read one list file and look every entry up (hint ANY); returns entries seen. */
static uint64_t check_list(const struct vg_intel_wl *wl, uint32_t id, uint64_t *missed,
                           uint64_t *regex)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(1 << 20);
    struct vg_json *doc = NULL;
    const struct vg_json *list;
    char *buf = NULL, perr[128];
    size_t len = 0, used = 0;
    uint64_t n = 0;
    if (vg_file_read(vg_intel_wl_list_file(wl, id), 1 << 28, &buf, &len) != 0 ||
        vg_json_parse(p, a, buf, len, &used, &doc, perr, sizeof(perr)) != 0) {
        CHECK(0);
        goto out;
    }
    list = vg_json_get(doc, "list");
    for (uint32_t i = 0; list && i < list->n; i++) {
        const struct vg_json *e = &list->u.items[i];
        struct vg_intel_wl_hit hit;
        bool own = false;
        n++;
        if (vg_intel_wl_list_type(wl, id) == VG_INTEL_WL_REGEX) {
            (*regex)++; /* an entry is a pattern, not a value: checked by compiling it */
            continue;
        }
        vg_intel_wl_match(wl, e->s, e->n, VG_INTEL_WL_HINT_ANY, &hit);
        for (uint32_t k = 0; k < hit.n; k++) {
            own = own || hit.ids[k] == id;
        }
        if (!own && (*missed)++ < 20) {
            fprintf(stderr, "  miss: %s[%u] \"%.*s\" (hits %u%s)\n", vg_intel_wl_list_key(wl, id),
                    i, (int)e->n, e->s, hit.n, hit.truncated ? ", truncated" : "");
        }
    }
out:
    vg_free(buf);
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    return n;
}

VG_TEST(wl_corpus_every_entry_hits_its_list)
{
    struct vg_intel_wl *wl = corpus();
    struct vg_intel_wl_stats st;
    uint64_t total = 0, missed = 0, regex = 0;
    if (!wl) {
        VG_SKIP("../shared/corpus/misp-warninglists absent");
    }
    vg_intel_wl_stats(wl, &st);
    CHECK_EQ_INT(st.lists, 136);
    for (uint32_t i = 0; i < vg_intel_wl_count(wl); i++) {
        total += check_list(wl, i, &missed, &regex);
        if (vg_intel_wl_list_skipped(wl, i)) {
            fprintf(stderr, "  skipped %u in %s: %s\n", vg_intel_wl_list_skipped(wl, i),
                    vg_intel_wl_list_key(wl, i), vg_intel_wl_list_error(wl, i));
        }
    }
    fprintf(stderr, "  %llu entries, %llu accepted, %llu skipped, %llu missed\n",
            (unsigned long long)total, (unsigned long long)st.entries,
            (unsigned long long)st.skipped, (unsigned long long)missed);
    CHECK_EQ_INT(total, 528970);
    CHECK_EQ_INT(st.entries + st.skipped, 528970);
    /* the malformed entries, hostnames with a blank: covid[37] "corona helden" and
     * public-dns-hostname[32065] "static-185.132.201.202.andorpac.ad\ " */
    CHECK_EQ_INT(st.skipped, 2);
    CHECK_EQ_INT(missed, st.skipped);
    CHECK_EQ_INT(regex, 34);
    CHECK_EQ_INT(st.by_type[VG_INTEL_WL_REGEX], 34); /* all 34 regexes compiled */
}

static uint64_t rng_state = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void rnd_alnum(char *out, size_t n)
{
    static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (size_t i = 0; i < n; i++) {
        out[i] = cs[rnd() % 36];
    }
    out[n] = '\0';
}

/* Count values that hit some list; report the first few and which lists. */
static int allowed_hits;

static int count_hits(const struct vg_intel_wl *wl, const char *v, enum vg_intel_wl_hint h,
                      const char *allowed, int *reported)
{
    struct vg_intel_wl_hit hit;
    int bad = 0;
    vg_intel_wl_match(wl, v, strlen(v), h, &hit);
    for (uint32_t k = 0; k < hit.n; k++) {
        const char *name = vg_intel_wl_list_key(wl, hit.ids[k]);
        if (allowed && strcmp(name, allowed) == 0) {
            allowed_hits++;
            continue;
        }
        bad = 1;
        if ((*reported)++ < 10) {
            fprintf(stderr, "  non-member \"%s\" hits %s\n", v, name);
        }
    }
    return bad;
}

VG_TEST(wl_corpus_non_members_hit_nothing)
{
    struct vg_intel_wl *wl = corpus();
    char v[256], a[40], b[40];
    int bad = 0, reported = 0, in240 = 0;
    struct vg_intel_wl_hit hit;
    if (!wl) {
        VG_SKIP("../shared/corpus/misp-warninglists absent");
    }
    for (int i = 0; i < 10000; i++) {
        rnd_alnum(a, 12);
        rnd_alnum(b, 8);
        snprintf(v, sizeof(v), "%s.%s.invalid", a, b);
        bad += count_hits(wl, v, VG_INTEL_WL_HINT_DOMAIN, "disposable-email", &reported);
        bad += count_hits(wl, v, VG_INTEL_WL_HINT_ANY, "disposable-email", &reported);
        snprintf(v, sizeof(v), "https://%s.%s.invalid/%s", a, b, a);
        bad += count_hits(wl, v, VG_INTEL_WL_HINT_URL, NULL, &reported);
        rnd_alnum(a, 24);
        bad += count_hits(wl, a, VG_INTEL_WL_HINT_ANY, NULL, &reported);
        uint64_t r = rnd();
        snprintf(v, sizeof(v), "3fff:%x:%x:%x::%x", (unsigned)(r & 0xfff),
                 (unsigned)(r >> 16) & 0xffff, (unsigned)(r >> 32) & 0xffff, (unsigned)(r >> 48));
        bad += count_hits(wl, v, VG_INTEL_WL_HINT_ANY, NULL, &reported);
        /* 240.0.0.0/4 is reserved space that rfc5735 itself lists: only that list may hit */
        snprintf(v, sizeof(v), "%u.%u.%u.%u", 240 + (unsigned)(r % 15), (unsigned)(r >> 8) & 255,
                 (unsigned)(r >> 16) & 255, (unsigned)(r >> 24) & 255);
        bad += count_hits(wl, v, VG_INTEL_WL_HINT_IP, "rfc5735", &reported);
        vg_intel_wl_match(wl, v, strlen(v), VG_INTEL_WL_HINT_IP, &hit);
        in240 += hit.n == 1;
    }
    /*
     * disposable-email is a substring list that also applies to domain|ip: short entries such
     * as "sd3.in" or "0v.ro" occur inside random hostnames (MISP semantics, kept). Report it.
     */
    fprintf(stderr,
            "  20000 random .invalid hostname lookups: %d hit disposable-email by substring\n",
            allowed_hits - 10000);
    CHECK(allowed_hits - 10000 < 100);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(in240, 10000);
}

VG_TEST(wl_corpus_known_values)
{
    struct vg_intel_wl *wl = corpus();
    if (!wl) {
        VG_SKIP("../shared/corpus/misp-warninglists absent");
    }
    by_key = true;
    CHECK(strstr(hits(wl, "10.1.2.3", VG_INTEL_WL_HINT_IP), "rfc1918") != NULL);
    CHECK(strstr(hits(wl, "8.8.8.8", VG_INTEL_WL_HINT_IP), "public-dns-v4") != NULL);
    CHECK(strstr(hits(wl, "fe80::1", VG_INTEL_WL_HINT_IP), "ipv6-linklocal") != NULL);
    CHECK(strstr(hits(wl, "abuse@example.org", VG_INTEL_WL_HINT_EMAIL), "common-contact-emails") !=
          NULL);
    CHECK(strstr(hits(wl, "www.google.com", VG_INTEL_WL_HINT_DOMAIN), "google") != NULL ||
          strstr(hits(wl, "google.com", VG_INTEL_WL_HINT_DOMAIN), "google") != NULL);
    /* regex lists: values built from the patterns */
    CHECK_STR(hits(wl, "+15550123", VG_INTEL_WL_HINT_PHONE), "phone_numbers");
    CHECK_STR(hits(wl, "004401632960123", VG_INTEL_WL_HINT_PHONE), "phone_numbers");
    CHECK_STR(hits(wl, "+33199001234", VG_INTEL_WL_HINT_PHONE), "phone_numbers");
    CHECK_STR(hits(wl, "+3212345678", VG_INTEL_WL_HINT_PHONE), "");
    CHECK_STR(hits(wl, "NOC@corp.example", VG_INTEL_WL_HINT_EMAIL), "common-contact-emails");
    CHECK_STR(hits(wl, "noc@localhost", VG_INTEL_WL_HINT_EMAIL), "");
    vg_intel_wl_destroy(corpus_wl);
    corpus_wl = NULL;
}
