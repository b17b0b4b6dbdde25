/*
 * test_wazuh.c — the Wazuh logtest oracle (../shared/corpus/wazuh-logtests/ORACLE_logtests.tsv:
 * 2,055 real lines from ~130 products, each with the Wazuh decoder that handles it) through
 * the decoder chain.
 *
 * Every line must decode (no rejection). Each line is decoded alone (decode, next, flush), as
 * wazuh-logtest does. The coverage table of docs/decoders.md — for each Wazuh decoder (and,
 * for Wazuh's generic `json`, each product file), the lines, the Vigie decoders that claimed
 * them and whether that is the decoder the name map below expects — is generated here and
 * compared with the document, so the published figures cannot go stale. Regenerate it with
 *   VG_WAZUH_UPDATE=1 ./build/decode_test_wazuh
 * (run from the source tree) after a decoder change, and review the diff.
 */
#include "decode/decode.h"
#include "vgtest.h"

/*
 * Name map: Wazuh decoder (and product file for `json`) → the Vigie decoders that are the
 * right home for those lines. kind 'p': a decoder for that product; 'f': the product is
 * identified by a generic format decoder (its program name in `syslog`, its keys in `kv` or
 * `json`, its timestamp and level in `applog`) — the fields are there, but no
 * product-specific normalisation; 't': Wazuh's own rule-engine test lines (made-up programs).
 */
struct wmap {
    const char *wazuh; /* decoder name in the oracle */
    const char *ini;   /* product file prefix (json lines), or NULL */
    const char *vigie; /* accepted Vigie decoders, space-separated */
    char kind;
};

static const struct wmap name_map[] = {
    {"json", "sysmon", "windows", 'p'},
    {"json", "powershell", "windows", 'p'},
    {"json", "win", "windows", 'p'},
    {"json", "windows_baseline", "windows", 'p'},
    {"json", "owlh", "zeek", 'p'},
    {"json", "malicious-ioc", "json suricata windows", 'p'},
    {"json", NULL, "json", 'f'},
    {"json-msgraph", NULL, "json", 'f'},
    {"windows", NULL, "windows", 'p'},
    {"sshd", NULL, "sshd pam", 'p'},
    {"sudo", NULL, "sudo pam", 'p'},
    {"su", NULL, "su pam", 'p'},
    {"pam", NULL, "pam", 'p'},
    {"vsftpd", NULL, "vsftpd", 'p'},
    {"auditd", NULL, "auditd", 'p'},
    {"kernel", "iptables", "netfilter", 'p'},
    {"kernel", "apparmor", "auditd", 'p'},
    {"kernel", NULL, "syslog", 'f'},
    {"web-accesslog", NULL, "web-access", 'p'},
    {"web-accesslog-iis-default", NULL, "iis", 'p'},
    {"web-accesslog-iis6", NULL, "iis", 'p'},
    {"apache-errorlog", NULL, "apache-error", 'p'},
    {"nginx-errorlog", NULL, "nginx-error", 'p'},
    {"squid-accesslog", NULL, "squid", 'p'},
    {"cisco-asa", NULL, "cisco-asa", 'p'},
    {"pix", NULL, "cisco-asa", 'p'},
    {"cisco-ftd", NULL, "cisco-asa", 'p'},
    {"cisco-ios", NULL, "cisco-ios", 'p'},
    {"checkpoint-smart1", NULL, "checkpoint", 'p'},
    {"paloalto", NULL, "paloalto", 'p'},
    {"pf", NULL, "pf", 'p'},
    {"fortigate-firewall-", NULL, "fortinet", 'p'},
    {"fortimail-like", NULL, "fortinet", 'p'},
    {"fortiddos-like", NULL, "fortinet", 'p'},
    {"fortiauth", NULL, "fortinet", 'p'},
    {"sonicwall", NULL, "sonicwall", 'p'},
    {"sophos-fw", NULL, "sophos", 'p'},
    {"huawei-usg", NULL, "huawei", 'p'},
    {"f5-bigip", NULL, "f5-bigip", 'p'},
    {"f5-bigip-cef", NULL, "cef", 'p'},
    {"cef-fireeye", NULL, "cef", 'p'},
    {"paps", NULL, "leef", 'p'},
    /* products identified by a format decoder: program name, keys, or timestamp + level */
    {"eset-bsd", NULL, "json", 'f'},
    {"openldap", NULL, "kv syslog", 'f'},
    {"dovecot", NULL, "dovecot", 'p'},
    {"dovecot-info", NULL, "dovecot", 'p'},
    {"named", NULL, "named", 'p'},
    {"proftpd", NULL, "proftpd", 'p'},
    {"postfix-reject", NULL, "postfix", 'p'},
    {"smbd", NULL, "smbd", 'p'},
    {"dropbear", NULL, "dropbear", 'p'},
    {"doas", NULL, "doas", 'p'},
    {"openvpn", NULL, "openvpn", 'p'},
    {"cimserver", NULL, "syslog", 'f'},
    {"rshd", NULL, "syslog", 'f'},
    {"systemd", NULL, "syslog", 'f'},
    {"NetworkManager", NULL, "syslog", 'f'},
    {"smtpd", NULL, "syslog", 'f'},
    {"oscap", NULL, "syslog", 'f'},
    {"arbor", NULL, "syslog", 'f'},
    {"junos-", NULL, "syslog", 'f'},
    {"netscreenfw", NULL, "syslog", 'f'},
    {"macOS_", NULL, "syslog", 'f'},
    {"mcafee-epo2", NULL, "syslog xml", 'f'},
    {"sophos-win", NULL, "xml", 'f'},
    {"wazuh-api", NULL, "applog", 'f'},
    {"wazuh-api-info", NULL, "applog", 'f'},
    {"ossec-logcollector", NULL, "applog", 'f'},
    {"ar_log", NULL, "applog", 'f'},
    {"windows-date-format", NULL, "applog", 'f'},
    {"FreePBX", NULL, "applog syslog", 'f'},
    {"postgresql_log", NULL, "applog", 'f'},
    {"cpanel-login", NULL, "applog", 'f'},
    {"gitlab-", NULL, "applog", 'f'},
    {"sophos", NULL, "applog", 'f'},
    {"sqlserver", NULL, "applog", 'f'},
    {"ECPServerLog", NULL, "applog", 'f'},
    {"HTTPProxyLog", NULL, "applog", 'f'},
    /* Wazuh's own rule-engine tests: synthetic lines for made-up programs */
    {"ow_test", NULL, "syslog", 't'},
    {"osregex_", NULL, "syslog kv plain", 't'},
    {"test_", NULL, "syslog kv plain", 't'},
};

static const struct wmap *map_find(const char *wazuh, const char *ini)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(name_map); i++) {
        const struct wmap *m = &name_map[i];
        size_t wl = strlen(m->wazuh);
        bool prefix = m->wazuh[wl - 1] == '_' || m->wazuh[wl - 1] == '-';
        bool name_ok = prefix ? !strncmp(wazuh, m->wazuh, wl) : !strcmp(wazuh, m->wazuh);
        if (name_ok && (!m->ini || !strncmp(ini, m->ini, strlen(m->ini)))) {
            return m;
        }
    }
    return NULL;
}

static bool accepted(const struct wmap *m, const char *module)
{
    if (!m || !module) {
        return false;
    }
    size_t ml = strlen(module);
    for (const char *p = m->vigie; *p;) {
        size_t l = strcspn(p, " ");
        if (l == ml && !strncmp(p, module, l)) {
            return true;
        }
        p += l + (p[l] == ' ');
    }
    return false;
}

/* ---------------------------------------------------------------- tally */

#define MAX_ROWS 160
#define MAX_MODS 8

struct row {
    char wazuh[64];
    char product[64];
    const struct wmap *map;
    int lines, matched;
    char mods[MAX_MODS][16];
    int modn[MAX_MODS];
    int nmods;
};

struct tally {
    struct row rows[MAX_ROWS];
    int nrows;
    int lines, rejected, matched, matched_p, matched_f, matched_t, fallback, undecoded;
    int lines_p, lines_f, lines_t;
    int by_decoder[64]; /* lines claimed, indexed as vg_decoder_table */
    char first_reject[512];
};

static struct row *row_of(struct tally *t, const char *wazuh, const char *ini)
{
    char product[64] = "";
    if (!strcmp(wazuh, "json") || !strcmp(wazuh, "kernel")) {
        snprintf(product, sizeof(product), "%.*s", (int)strcspn(ini, "."), ini);
    }
    for (int i = 0; i < t->nrows; i++) {
        if (!strcmp(t->rows[i].wazuh, wazuh) && !strcmp(t->rows[i].product, product)) {
            return &t->rows[i];
        }
    }
    if (t->nrows == MAX_ROWS) {
        return NULL;
    }
    struct row *r = &t->rows[t->nrows++];
    memset(r, 0, sizeof(*r));
    snprintf(r->wazuh, sizeof(r->wazuh), "%s", wazuh);
    snprintf(r->product, sizeof(r->product), "%s", product);
    r->map = map_find(wazuh, ini);
    return r;
}

static void row_add(struct row *r, const char *module)
{
    int i = 0;
    while (i < r->nmods && strcmp(r->mods[i], module)) {
        i++;
    }
    if (i == r->nmods && r->nmods < MAX_MODS) {
        snprintf(r->mods[r->nmods++], sizeof(r->mods[0]), "%s", module);
    }
    if (i < MAX_MODS) {
        r->modn[i]++;
    }
}

/* Decode one oracle line alone; module receives the decoder of its first event. */
static int decode_alone(struct vg_decoder *d, struct vg_event *ev, const char *line, char *module,
                        size_t msz)
{
    int rc = vg_decoder_decode(d, line, strlen(line), ev);
    module[0] = '\0';
    if (rc == VG_AGAIN) {
        rc = vg_decoder_flush(d, ev); /* an auditd record waiting for the rest of its event */
    }
    if (rc == VG_OK) {
        size_t ml;
        const char *m = vg_event_get_str(ev, "event.module", &ml);
        snprintf(module, msz, "%.*s", m ? (int)ml : 0, m ? m : "");
    }
    int more;
    while ((more = vg_decoder_next(d, ev)) != VG_EOF) {
        rc = more == VG_OK ? rc : more;
    }
    while (vg_decoder_flush(d, ev) == VG_OK) {
    }
    return rc;
}

static void tally_line(struct tally *t, struct vg_decoder *d, struct vg_event *ev, char *f[8])
{
    const char *wazuh = f[6][0] ? f[6] : "(none)";
    char module[32];
    int rc = decode_alone(d, ev, f[7], module, sizeof(module));
    t->lines++;
    if (rc != VG_OK) {
        t->rejected++;
        if (!t->first_reject[0]) {
            snprintf(t->first_reject, sizeof(t->first_reject), "%s: %.200s (%s)",
                     vg_decoder_error(d), f[7], vg_strerror(rc));
        }
        return;
    }
    int di = vg_decoder_find(module);
    if (di >= 0 && di < (int)VG_ARRAY_LEN(t->by_decoder)) {
        t->by_decoder[di]++;
    }
    struct row *r = row_of(t, wazuh, f[0]);
    if (!r) {
        return;
    }
    r->lines++;
    row_add(r, module);
    t->fallback += !strcmp(module, "plain");
    t->undecoded += !r->map;
    t->lines_p += r->map && r->map->kind == 'p';
    t->lines_f += r->map && r->map->kind == 'f';
    t->lines_t += r->map && r->map->kind == 't';
    if (accepted(r->map, module)) {
        r->matched++;
        t->matched++;
        t->matched_p += r->map->kind == 'p';
        t->matched_f += r->map->kind == 'f';
        t->matched_t += r->map->kind == 't';
    }
}

/* ---------------------------------------------------------------- report */

static int cmp_rows(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (x->lines != y->lines) {
        return y->lines - x->lines;
    }
    int c = strcmp(x->wazuh, y->wazuh);
    return c ? c : strcmp(x->product, y->product);
}

static void table(struct tally *t, struct vg_sbuf *o)
{
    qsort(t->rows, (size_t)t->nrows, sizeof(t->rows[0]), cmp_rows);
    int mapped = t->lines - t->rejected - t->undecoded;
    vg_sbuf_printf(o, "- lines: %d, rejected: %d, fell back to `plain`: %d\n", t->lines,
                   t->rejected, t->fallback);
    vg_sbuf_printf(o, "- lines Wazuh decodes: %d (%d it leaves undecoded are listed as `(none)`)\n",
                   mapped, t->undecoded);
    vg_sbuf_printf(o, "- claimed by the decoder the name map expects: %d of %d (%.1f%%)\n",
                   t->matched, mapped, 100.0 * t->matched / (mapped ? mapped : 1));
    vg_sbuf_printf(o, "  - products with a Vigie product decoder: %d of %d\n", t->matched_p,
                   t->lines_p);
    vg_sbuf_printf(o,
                   "  - products identified by a format decoder (syslog program, kv, json, "
                   "applog): %d of %d\n",
                   t->matched_f, t->lines_f);
    vg_sbuf_printf(o, "  - Wazuh rule-engine test lines (synthetic programs): %d of %d\n",
                   t->matched_t, t->lines_t);
    int rp = 0, rf = 0, full = 0, real = 0;
    for (int i = 0; i < t->nrows; i++) {
        const struct row *r = &t->rows[i];
        if (r->map && r->map->kind != 't') {
            real++;
            rp += r->map->kind == 'p';
            rf += r->map->kind == 'f';
            full += r->matched == r->lines;
        }
    }
    vg_sbuf_printf(o,
                   "- products (Wazuh decoders, and product files of its `json` decoder): %d; "
                   "%d with a Vigie product decoder, %d through a format decoder; all lines "
                   "matched for %d of them\n\n",
                   real, rp, rf, full);
    size_t nd;
    const struct vg_decoder_def *defs = vg_decoder_table(&nd);
    vg_sbuf_adds(o, "Lines claimed per Vigie decoder:");
    for (size_t i = 0, k = 0; i < nd && i < VG_ARRAY_LEN(t->by_decoder); i++) {
        if (t->by_decoder[i]) {
            vg_sbuf_printf(o, "%s `%s` %d", k++ ? "," : "", defs[i].name, t->by_decoder[i]);
        }
    }
    vg_sbuf_adds(o, ".\n\n");
    vg_sbuf_adds(o, "| Wazuh decoder | product | lines | claimed by (lines) | expected | match |\n"
                    "| --- | --- | ---: | --- | --- | ---: |\n");
    for (int i = 0; i < t->nrows; i++) {
        const struct row *r = &t->rows[i];
        vg_sbuf_printf(o, "| %s | %s | %d | ", r->wazuh, r->product[0] ? r->product : "", r->lines);
        for (int k = 0; k < r->nmods; k++) {
            vg_sbuf_printf(o, "%s%s (%d)", k ? ", " : "", r->mods[k], r->modn[k]);
        }
        const char *kind = !r->map               ? ""
                           : r->map->kind == 'f' ? " (format)"
                           : r->map->kind == 't' ? " (test)"
                                                 : "";
        vg_sbuf_printf(o, " | %s%s | %d/%d |\n", r->map ? r->map->vigie : "—", kind, r->matched,
                       r->lines);
    }
}

#define BEGIN_MARK "<!-- wazuh-coverage:begin -->\n"
#define END_MARK   "<!-- wazuh-coverage:end -->"

/* Compare the generated table with docs/decoders.md (or rewrite it with VG_WAZUH_UPDATE). */
static void check_doc(const struct vg_sbuf *gen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/docs/decoders.md", vgt_source_dir());
    char *doc = NULL;
    size_t len = 0;
    CHECK(vg_file_read(path, 1 << 22, &doc, &len) == VG_OK);
    if (!doc) {
        return;
    }
    char *b = strstr(doc, BEGIN_MARK), *e = b ? strstr(b, END_MARK) : NULL;
    CHECK(b && e);
    if (b && e) {
        b += strlen(BEGIN_MARK);
        bool same = (size_t)(e - b) == gen->len && !memcmp(b, gen->p, gen->len);
        if (!same && getenv("VG_WAZUH_UPDATE")) {
            FILE *f = fopen(path, "wb");
            if (f) {
                fwrite(doc, 1, (size_t)(b - doc), f);
                fwrite(gen->p, 1, gen->len, f);
                fwrite(e, 1, len - (size_t)(e - doc), f);
                fclose(f);
                fprintf(stderr, "  docs/decoders.md updated\n");
                same = true;
            }
        }
        if (!same) {
            fprintf(stderr, "  docs/decoders.md coverage table is stale; the current one is:\n%s",
                    gen->p);
        }
        CHECK(same);
    }
    vg_free(doc);
}

VG_TEST(wazuh_logtests)
{
    const char *path = vgt_shared("corpus/wazuh-logtests/ORACLE_logtests.tsv");
    char *data = NULL;
    size_t len = 0;
    if (!path || vg_file_read(path, 1 << 26, &data, &len) != VG_OK) {
        VG_SKIP("../shared/corpus/wazuh-logtests absent");
    }
    struct vg_decoder_opts o = {.default_year = 2025};
    struct vg_decoder *d = vg_decoder_create(&o);
    struct vg_event *ev = vg_event_create();
    static struct tally t;
    memset(&t, 0, sizeof(t));
    char *line = strchr(data, '\n'); /* skip the header */
    while (d && ev && line && *++line) {
        char *next = strchr(line, '\n'), *f[8];
        if (next) {
            *next = '\0';
        }
        int k = 0;
        for (char *p = line; k < 8 && p; k++) {
            f[k] = p;
            p = k < 7 ? strchr(p, '\t') : NULL;
            if (p) {
                *p++ = '\0';
            }
        }
        if (k == 8) {
            tally_line(&t, d, ev, f);
        }
        line = next;
    }
    if (t.rejected) {
        fprintf(stderr, "  first rejection: %s\n", t.first_reject);
    }
    CHECK_EQ_INT(t.lines, 2055);
    CHECK_EQ_INT(t.rejected, 0);
    struct vg_sbuf gen = VG_SBUF_INIT;
    table(&t, &gen);
    if (getenv("VG_WAZUH_PRINT")) {
        fputs(gen.p, stderr);
    }
    check_doc(&gen);
    vg_sbuf_fini(&gen);
    vg_event_destroy(ev);
    vg_decoder_destroy(d);
    vg_free(data);
}
