/*
 * vuln_report.c — scan findings as a table, JSON, SARIF 2.1.0 or CycloneDX 1.5 with VEX, and
 * suppression by a VEX document (see vuln_report.h). The last step of `vigie vuln scan`.
 */
#include "vuln/vuln_report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "event/event.h"

struct rpkg {
    struct vg_vuln_pkg p;
};

struct rfind {
    struct vg_vuln_finding f;
    size_t pkg; /* index in r->pkgs of the finding's package copy */
    const char *vex_state, *vex_just, *vex_detail; /* set when a VEX statement applies */
    bool suppressed;
};

struct vex_stmt {
    const char *id, *state, *just, *detail;
    const char **refs; /* products / affects refs; none = every product */
    size_t nrefs;
};

struct vg_vuln_report {
    struct vg_arena *a;
    struct vg_vuln_report_meta meta;
    struct rpkg *pkgs;
    size_t npkgs, cap_pkgs;
    struct rfind *finds;
    size_t nfinds, cap_finds;
};

static const char *dup(struct vg_vuln_report *r, const char *s)
{
    return s ? vg_arena_strdup(r->a, s) : NULL;
}

int vg_vuln_report_fmt_parse(const char *name, enum vg_vuln_report_fmt *out)
{
    static const char *const names[] = {"table", "json", "sarif", "cyclonedx"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            *out = (enum vg_vuln_report_fmt)i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

int vg_vuln_report_create(const struct vg_vuln_report_meta *meta, struct vg_vuln_report **out)
{
    struct vg_vuln_report *r = vg_calloc(1, sizeof(*r));
    *out = NULL;
    if (!r || !(r->a = vg_arena_create(64 * 1024))) {
        vg_free(r);
        return VG_ENOMEM;
    }
    r->meta.tool_version = dup(r, meta && meta->tool_version ? meta->tool_version : "0");
    r->meta.target = dup(r, meta && meta->target ? meta->target : "");
    r->meta.location = dup(r, meta && meta->location ? meta->location : "");
    r->meta.ecosystem = dup(r, meta && meta->ecosystem ? meta->ecosystem : "");
    *out = r;
    return VG_OK;
}

void vg_vuln_report_destroy(struct vg_vuln_report *r)
{
    if (!r) {
        return;
    }
    vg_free(r->pkgs);
    vg_free(r->finds);
    vg_arena_destroy(r->a);
    vg_free(r);
}

static int pkg_copy(struct vg_vuln_report *r, const struct vg_vuln_pkg *p, size_t *idx)
{
    for (size_t i = 0; i < r->npkgs; i++) {
        const struct vg_vuln_pkg *q = &r->pkgs[i].p;
        if (strcmp(q->name, p->name) == 0 &&
            strcmp(q->version, p->version ? p->version : "") == 0 &&
            strcmp(q->arch ? q->arch : "", p->arch ? p->arch : "") == 0) {
            *idx = i;
            return VG_OK;
        }
    }
    if (vg_grow(&r->pkgs, &r->cap_pkgs, r->npkgs + 1, sizeof(*r->pkgs))) {
        return VG_ENOMEM;
    }
    struct vg_vuln_pkg *c = &r->pkgs[r->npkgs].p;
    *c = *p;
    c->ecosystem = dup(r, p->ecosystem ? p->ecosystem : r->meta.ecosystem);
    c->name = dup(r, p->name ? p->name : "");
    c->source = dup(r, p->source);
    c->version = dup(r, p->version ? p->version : "");
    c->arch = dup(r, p->arch);
    *idx = r->npkgs++;
    return VG_OK;
}

int vg_vuln_report_add_pkg(struct vg_vuln_report *r, const struct vg_vuln_pkg *p)
{
    size_t idx;
    return pkg_copy(r, p, &idx);
}

int vg_vuln_report_add(struct vg_vuln_report *r, const struct vg_vuln_finding *f)
{
    size_t idx = 0;
    int rc = f->pkg ? pkg_copy(r, f->pkg, &idx) : VG_EINVAL;
    if (rc != VG_OK) {
        return rc;
    }
    if (vg_grow(&r->finds, &r->cap_finds, r->nfinds + 1, sizeof(*r->finds))) {
        return VG_ENOMEM;
    }
    struct rfind *c = &r->finds[r->nfinds];
    memset(c, 0, sizeof(*c));
    c->f = *f;
    c->pkg = idx;
    c->f.id = dup(r, f->id ? f->id : "");
    c->f.aliases = dup(r, f->aliases);
    c->f.summary = dup(r, f->summary);
    c->f.source = dup(r, f->source);
    c->f.range = dup(r, f->range);
    c->f.fixed = dup(r, f->fixed);
    c->f.status = dup(r, f->status);
    c->f.severity_source = dup(r, f->severity_source);
    r->nfinds++;
    return VG_OK;
}

/* ---------------------------------------------------------------- VEX */

static const char *jstr(struct vg_vuln_report *r, const struct vg_json *o, const char *k)
{
    const struct vg_json *v = vg_json_get(o, k);
    return v && v->type == VG_JSON_STRING ? vg_arena_strndup(r->a, v->s, v->n) : NULL;
}

static bool id_matches(const struct rfind *f, const char *id)
{
    size_t n = strlen(id);
    if (strcmp(f->f.id, id) == 0) {
        return true;
    }
    for (const char *a = f->f.aliases; a && *a;) {
        const char *e = strchr(a, ',');
        size_t len = e ? (size_t)(e - a) : strlen(a);
        while (len && *a == ' ') {
            a++, len--;
        }
        if (len == n && memcmp(a, id, n) == 0) {
            return true;
        }
        a = e ? e + 1 : NULL;
    }
    return false;
}

/* A product reference names the package: a purl "pkg:deb/debian/NAME@…", "…/NAME", or NAME. */
static bool ref_matches(const char *ref, const struct vg_vuln_pkg *p)
{
    size_t n = strlen(p->name);
    const char *slash = strrchr(ref, '/');
    const char *name = slash ? slash + 1 : ref;
    if (strncmp(ref, "pkg:", 4) == 0 && !slash) {
        name = strchr(ref, ':') + 1;
    }
    return strncmp(name, p->name, n) == 0 &&
           (name[n] == 0 || name[n] == '@' || name[n] == '?' || name[n] == '#');
}

static bool suppressing(const char *state)
{
    static const char *const s[] = {"not_affected", "false_positive", "resolved",
                                    "resolved_with_pedigree", "fixed"};
    for (size_t i = 0; state && i < sizeof(s) / sizeof(s[0]); i++) {
        if (strcmp(state, s[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void apply_stmt(struct vg_vuln_report *r, const struct vex_stmt *st)
{
    for (size_t i = 0; i < r->nfinds; i++) {
        struct rfind *f = &r->finds[i];
        bool product = st->nrefs == 0;
        for (size_t k = 0; k < st->nrefs && !product; k++) {
            product = ref_matches(st->refs[k], &r->pkgs[f->pkg].p);
        }
        if (!product || !id_matches(f, st->id)) {
            continue;
        }
        f->vex_state = st->state;
        f->vex_just = st->just;
        f->vex_detail = st->detail;
        f->suppressed = suppressing(st->state);
    }
}

/* Collect the refs of an array of strings or objects with "ref" / "@id". */
static int stmt_refs(struct vg_vuln_report *r, const struct vg_json *arr, struct vex_stmt *st)
{
    if (!arr || arr->type != VG_JSON_ARRAY || !arr->n) {
        return VG_OK;
    }
    st->refs = vg_arena_calloc(r->a, arr->n * sizeof(*st->refs));
    if (!st->refs) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < arr->n; i++) {
        const struct vg_json *e = &arr->u.items[i];
        const char *ref = e->type == VG_JSON_STRING ? vg_arena_strndup(r->a, e->s, e->n)
                          : jstr(r, e, "ref")       ? jstr(r, e, "ref")
                                                    : jstr(r, e, "@id");
        if (ref) {
            st->refs[st->nrefs++] = ref;
        }
    }
    return VG_OK;
}

static int vex_cyclonedx(struct vg_vuln_report *r, const struct vg_json *vulns)
{
    for (uint32_t i = 0; i < vulns->n; i++) {
        const struct vg_json *v = &vulns->u.items[i], *an = vg_json_get(v, "analysis");
        struct vex_stmt st = {jstr(r, v, "id"),
                              an ? jstr(r, an, "state") : NULL,
                              an ? jstr(r, an, "justification") : NULL,
                              an ? jstr(r, an, "detail") : NULL,
                              NULL,
                              0};
        if (!st.id || !st.state) {
            continue;
        }
        if (stmt_refs(r, vg_json_get(v, "affects"), &st) != VG_OK) {
            return VG_ENOMEM;
        }
        apply_stmt(r, &st);
    }
    return VG_OK;
}

static int vex_openvex(struct vg_vuln_report *r, const struct vg_json *stmts)
{
    for (uint32_t i = 0; i < stmts->n; i++) {
        const struct vg_json *s = &stmts->u.items[i], *vu = vg_json_get(s, "vulnerability");
        struct vex_stmt st = {vu && vu->type == VG_JSON_STRING
                                  ? vg_arena_strndup(r->a, vu->s, vu->n)
                              : vu ? jstr(r, vu, "name")
                                   : NULL,
                              jstr(r, s, "status"),
                              jstr(r, s, "justification"),
                              jstr(r, s, "impact_statement"),
                              NULL,
                              0};
        if (!st.id || !st.state) {
            continue;
        }
        if (stmt_refs(r, vg_json_get(s, "products"), &st) != VG_OK) {
            return VG_ENOMEM;
        }
        apply_stmt(r, &st);
    }
    return VG_OK;
}

int vg_vuln_report_vex(struct vg_vuln_report *r, const char *path, char *err, size_t errsz)
{
    char *text = NULL, perr[160] = "";
    size_t len = 0, used;
    struct vg_json_parser *p = NULL;
    struct vg_json *doc = NULL;
    const struct vg_json *arr;
    int rc = vg_file_read(path, 64u << 20, &text, &len);
    if (rc != VG_OK) {
        snprintf(err, errsz, "%s: %s", path, vg_strerror(rc));
        return rc;
    }
    p = vg_json_parser_create(NULL);
    if (!p) {
        rc = VG_ENOMEM;
    } else if (vg_json_parse(p, r->a, text, len, &used, &doc, perr, sizeof(perr)) != VG_OK ||
               doc->type != VG_JSON_OBJECT) {
        snprintf(err, errsz, "%s: not a JSON object (%s)", path, perr);
        rc = VG_EINVAL;
    } else if ((arr = vg_json_get(doc, "vulnerabilities")) && arr->type == VG_JSON_ARRAY) {
        rc = vex_cyclonedx(r, arr);
    } else if ((arr = vg_json_get(doc, "statements")) && arr->type == VG_JSON_ARRAY) {
        rc = vex_openvex(r, arr);
    } else {
        snprintf(err, errsz,
                 "%s: neither CycloneDX VEX (\"vulnerabilities\") nor OpenVEX (\"statements\")",
                 path);
        rc = VG_EINVAL;
    }
    vg_json_parser_destroy(p);
    vg_free(text);
    return rc;
}

void vg_vuln_report_counts(const struct vg_vuln_report *r, size_t *shown, size_t *suppressed)
{
    size_t s = 0;
    for (size_t i = 0; i < r->nfinds; i++) {
        s += r->finds[i].suppressed;
    }
    *shown = r->nfinds - s;
    *suppressed = s;
}

/* ---------------------------------------------------------------- order */

static int by_priority(const void *a, const void *b)
{
    const struct rfind *x = a, *y = b;
    if (x->f.kev != y->f.kev) {
        return x->f.kev ? -1 : 1;
    }
    if (x->f.severity != y->f.severity) {
        return x->f.severity > y->f.severity ? -1 : 1;
    }
    if (x->f.epss != y->f.epss) {
        return x->f.epss > y->f.epss ? -1 : 1;
    }
    if (x->f.cvss != y->f.cvss) {
        return x->f.cvss > y->f.cvss ? -1 : 1;
    }
    int c = strcmp(x->f.id, y->f.id);
    return c ? c : (x->pkg > y->pkg) - (x->pkg < y->pkg);
}

/* ---------------------------------------------------------------- writers */

static void js(struct vg_sbuf *b, const char *s)
{
    if (s) {
        vg_sbuf_add_json_str(b, s, strlen(s));
    } else {
        vg_sbuf_adds(b, "null");
    }
}

static void kv(struct vg_sbuf *b, bool *first, const char *k, const char *v)
{
    vg_sbuf_printf(b, "%s\"%s\":", *first ? "" : ",", k);
    js(b, v);
    *first = false;
}

static void num(struct vg_sbuf *b, const char *k, double v)
{
    if (v < 0) {
        vg_sbuf_printf(b, ",\"%s\":null", k);
    } else {
        vg_sbuf_printf(b, ",\"%s\":%.5g", k, v);
    }
}

/* Why the finding matched, in one sentence. */
static void why(struct vg_sbuf *b, const struct vg_vuln_finding *f, const struct vg_vuln_pkg *p)
{
    vg_sbuf_printf(b, "%s %s", p->name, p->version);
    if (p->source && strcmp(p->source, p->name) != 0) {
        vg_sbuf_printf(b, " (source %s)", p->source);
    }
    vg_sbuf_printf(b, " is affected by %s", f->id);
    if (f->range) {
        vg_sbuf_printf(b, ": affected range %s", f->range);
    }
    if (f->fixed) {
        vg_sbuf_printf(b, "; fixed in %s", f->fixed);
    } else {
        vg_sbuf_printf(b, "; no fix released for %s",
                       p->ecosystem && *p->ecosystem ? p->ecosystem : "this release");
    }
    if (f->status && *f->status) {
        vg_sbuf_printf(b, " (status %s)", f->status);
    }
    vg_sbuf_printf(b, " [source %s]", f->source ? f->source : "?");
}

void vg_vuln_finding_json(const struct vg_vuln_finding *f, const struct vg_vuln_pkg *p,
                          struct vg_sbuf *b)
{
    struct vg_sbuf w = VG_SBUF_INIT;
    bool first = true;
    vg_sbuf_addc(b, '{');
    kv(b, &first, "id", f->id);
    kv(b, &first, "aliases", f->aliases);
    kv(b, &first, "package", p->name);
    kv(b, &first, "source_package", p->source);
    kv(b, &first, "installed", p->version);
    kv(b, &first, "arch", p->arch);
    kv(b, &first, "ecosystem", p->ecosystem);
    kv(b, &first, "fixed", f->fixed);
    kv(b, &first, "affected_range", f->range);
    kv(b, &first, "status", f->status);
    kv(b, &first, "severity", vg_vuln_severity_name(f->severity));
    kv(b, &first, "severity_source", f->severity_source);
    num(b, "cvss", f->cvss);
    num(b, "epss", f->epss);
    num(b, "epss_percentile", f->epss_percentile);
    vg_sbuf_printf(b, ",\"kev\":%s,\"low_confidence\":%s", f->kev ? "true" : "false",
                   f->low_confidence ? "true" : "false");
    kv(b, &first, "summary", f->summary);
    kv(b, &first, "advisory_source", f->source);
    why(&w, f, p);
    kv(b, &first, "why", w.p);
    vg_sbuf_fini(&w);
    vg_sbuf_addc(b, '}');
}

static void write_json(struct vg_vuln_report *r, struct vg_sbuf *b)
{
    size_t shown, supp;
    vg_vuln_report_counts(r, &shown, &supp);
    vg_sbuf_adds(b, "{\"target\":");
    js(b, r->meta.target);
    vg_sbuf_adds(b, ",\"ecosystem\":");
    js(b, r->meta.ecosystem);
    vg_sbuf_printf(b, ",\"packages\":%zu,\"findings\":[", r->npkgs);
    for (size_t i = 0, k = 0; i < r->nfinds; i++) {
        const struct rfind *f = &r->finds[i];
        if (f->suppressed) {
            continue;
        }
        vg_sbuf_adds(b, k++ ? "," : "");
        vg_vuln_finding_json(&f->f, &r->pkgs[f->pkg].p, b);
    }
    vg_sbuf_adds(b, "],\"suppressed\":[");
    for (size_t i = 0, k = 0; i < r->nfinds; i++) {
        const struct rfind *f = &r->finds[i];
        bool first = true;
        if (!f->suppressed) {
            continue;
        }
        vg_sbuf_adds(b, k++ ? ",{" : "{");
        kv(b, &first, "id", f->f.id);
        kv(b, &first, "package", r->pkgs[f->pkg].p.name);
        kv(b, &first, "state", f->vex_state);
        kv(b, &first, "justification", f->vex_just);
        kv(b, &first, "detail", f->vex_detail);
        vg_sbuf_addc(b, '}');
    }
    vg_sbuf_printf(b, "],\"summary\":{\"findings\":%zu,\"suppressed\":%zu}}\n", shown, supp);
}

static const char *sarif_level(enum vg_vuln_severity s)
{
    return s >= VG_VULN_SEV_HIGH ? "error" : s == VG_VULN_SEV_MEDIUM ? "warning" : "note";
}

/* GitHub's "security-severity": the CVSS score, else a score standing for the level. */
static double security_severity(const struct vg_vuln_finding *f)
{
    static const double by_level[] = {0.0, 0.1, 3.0, 5.5, 8.0, 9.5};
    return f->cvss >= 0 ? f->cvss : by_level[f->severity <= VG_VULN_SEV_CRITICAL ? f->severity : 0];
}

static void write_sarif(struct vg_vuln_report *r, struct vg_sbuf *b)
{
    size_t *rule_of = vg_calloc(r->nfinds ? r->nfinds : 1, sizeof(size_t)), nrules = 0;
    vg_sbuf_adds(b, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\","
                    "\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"vigie\","
                    "\"informationUri\":\"https://github.com/vigie-secops/vigie\",\"version\":");
    js(b, r->meta.tool_version);
    vg_sbuf_adds(b, ",\"rules\":[");
    for (size_t i = 0; rule_of && i < r->nfinds; i++) {
        const struct rfind *f = &r->finds[i];
        size_t k;
        if (f->suppressed) {
            continue;
        }
        for (k = 0; k < i && (r->finds[k].suppressed || strcmp(r->finds[k].f.id, f->f.id)); k++) {
        }
        if (k < i) {
            rule_of[i] = rule_of[k];
            continue;
        }
        rule_of[i] = nrules;
        vg_sbuf_adds(b, nrules++ ? ",{\"id\":" : "{\"id\":");
        js(b, f->f.id);
        vg_sbuf_adds(b, ",\"shortDescription\":{\"text\":");
        js(b, f->f.summary && *f->f.summary ? f->f.summary : f->f.id);
        vg_sbuf_printf(b,
                       "},\"properties\":{\"security-severity\":\"%.1f\",\"tags\":"
                       "[\"security\",\"vulnerability\"]}}",
                       security_severity(&f->f));
    }
    vg_sbuf_adds(b, "]}},\"results\":[");
    for (size_t i = 0, k = 0; rule_of && i < r->nfinds; i++) {
        const struct rfind *f = &r->finds[i];
        struct vg_sbuf w = VG_SBUF_INIT;
        if (f->suppressed) {
            continue;
        }
        why(&w, &f->f, &r->pkgs[f->pkg].p);
        vg_sbuf_adds(b, k++ ? ",{\"ruleId\":" : "{\"ruleId\":");
        js(b, f->f.id);
        vg_sbuf_printf(b, ",\"ruleIndex\":%zu,\"level\":\"%s\",\"message\":{\"text\":", rule_of[i],
                       sarif_level(f->f.severity));
        js(b, w.p);
        vg_sbuf_adds(b, "},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
        js(b, r->meta.location && *r->meta.location ? r->meta.location : "var/lib/dpkg/status");
        vg_sbuf_adds(b, "}},\"logicalLocations\":[{\"name\":");
        js(b, r->pkgs[f->pkg].p.name);
        vg_sbuf_adds(b, ",\"kind\":\"package\"}]}]}");
        vg_sbuf_fini(&w);
    }
    vg_sbuf_adds(b, "]}]}\n");
    vg_free(rule_of);
}

/* purl: pkg:TYPE/NAMESPACE/NAME@VERSION?arch=…&distro=…, percent-encoding what purl requires. */
static void purl_part(struct vg_sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-' || c == '_' || c == '~') {
            vg_sbuf_addc(b, (char)c);
        } else {
            vg_sbuf_printf(b, "%%%02X", c);
        }
    }
}

static void purl(struct vg_sbuf *b, const struct vg_vuln_pkg *p)
{
    const char *eco = p->ecosystem ? p->ecosystem : "";
    char distro[64] = "";
    if (strncmp(eco, "Debian", 6) == 0 || strncmp(eco, "Ubuntu", 6) == 0) {
        vg_sbuf_adds(b, eco[0] == 'D' ? "pkg:deb/debian/" : "pkg:deb/ubuntu/");
    } else if (strncmp(eco, "Alpine", 6) == 0) {
        vg_sbuf_adds(b, "pkg:apk/alpine/");
    } else if (strcmp(eco, "PyPI") == 0) {
        vg_sbuf_adds(b, "pkg:pypi/");
    } else if (p->scheme == VG_VULN_RPM) {
        vg_sbuf_adds(b, "pkg:rpm/");
    } else {
        vg_sbuf_adds(b, "pkg:generic/");
    }
    purl_part(b, p->name);
    vg_sbuf_addc(b, '@');
    purl_part(b, p->version);
    const char *colon = strchr(eco, ':');
    if (colon) {
        const char *end = strchr(colon + 1, ':'); /* "Ubuntu:22.04:LTS" → ubuntu-22.04 */
        snprintf(distro, sizeof(distro), "%.*s-%.*s", (int)(colon - eco), eco,
                 (int)(end ? (size_t)(end - colon - 1) : strlen(colon + 1)), colon + 1);
        for (char *c = distro; *c; c++) {
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        }
    }
    if (p->arch && *p->arch) {
        vg_sbuf_adds(b, "?arch=");
        purl_part(b, p->arch);
    }
    if (distro[0]) {
        vg_sbuf_adds(b, p->arch && *p->arch ? "&distro=" : "?distro=");
        purl_part(b, distro);
    }
}

static const char *cdx_severity(enum vg_vuln_severity s)
{
    static const char *const n[] = {"unknown", "info", "low", "medium", "high", "critical"};
    return s <= VG_VULN_SEV_CRITICAL ? n[s] : "unknown";
}

static void uuid4(char out[37])
{
    unsigned char u[16] = {0};
    if (RAND_bytes(u, sizeof(u)) != 1) {
        uint64_t t = (uint64_t)time(NULL);
        memcpy(u, &t, sizeof(t));
    }
    u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
    u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
             u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

/* OpenVEX statuses and justifications in CycloneDX's vocabulary (CycloneDX ones pass). */
static const char *cdx_word(const char *w)
{
    static const char *const map[][2] = {
        {"affected", "exploitable"},
        {"under_investigation", "in_triage"},
        {"fixed", "resolved"},
        {"component_not_present", "code_not_present"},
        {"vulnerable_code_not_present", "code_not_present"},
        {"vulnerable_code_not_in_execute_path", "code_not_reachable"},
        {"vulnerable_code_cannot_be_controlled_by_adversary", "protected_by_mitigating_control"},
        {"inline_mitigations_already_exist", "protected_by_mitigating_control"},
    };
    for (size_t i = 0; w && i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(w, map[i][0]) == 0) {
            return map[i][1];
        }
    }
    return w;
}

static void cdx_analysis(struct vg_sbuf *b, const struct rfind *f)
{
    if (!f->vex_state) {
        vg_sbuf_adds(b, ",\"analysis\":{\"state\":\"in_triage\"}");
        return;
    }
    vg_sbuf_adds(b, ",\"analysis\":{\"state\":");
    js(b, cdx_word(f->vex_state));
    if (f->vex_just) {
        vg_sbuf_adds(b, ",\"justification\":");
        js(b, cdx_word(f->vex_just));
    }
    if (f->vex_detail) {
        vg_sbuf_adds(b, ",\"detail\":");
        js(b, f->vex_detail);
    }
    vg_sbuf_addc(b, '}');
}

static void write_cyclonedx(struct vg_vuln_report *r, struct vg_sbuf *b)
{
    char uuid[37], ts[48];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    uuid4(uuid);
    vg_sbuf_printf(b,
                   "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"serialNumber\":"
                   "\"urn:uuid:%s\",\"version\":1,\"metadata\":{\"timestamp\":\"%.19sZ\","
                   "\"tools\":{\"components\":[{\"type\":\"application\",\"name\":\"vigie\","
                   "\"version\":",
                   uuid, ts);
    js(b, r->meta.tool_version);
    vg_sbuf_adds(b, "}]},\"component\":{\"type\":\"operating-system\",\"name\":");
    js(b, r->meta.target && *r->meta.target ? r->meta.target : "host");
    vg_sbuf_adds(b, "}},\"components\":[");
    for (size_t i = 0; i < r->npkgs; i++) {
        const struct vg_vuln_pkg *p = &r->pkgs[i].p;
        struct vg_sbuf u = VG_SBUF_INIT;
        purl(&u, p);
        vg_sbuf_adds(b, i ? ",{\"type\":\"library\",\"bom-ref\":"
                          : "{\"type\":\"library\","
                            "\"bom-ref\":");
        js(b, u.p);
        vg_sbuf_adds(b, ",\"name\":");
        js(b, p->name);
        vg_sbuf_adds(b, ",\"version\":");
        js(b, p->version);
        vg_sbuf_adds(b, ",\"purl\":");
        js(b, u.p);
        vg_sbuf_addc(b, '}');
        vg_sbuf_fini(&u);
    }
    vg_sbuf_adds(b, "],\"vulnerabilities\":[");
    for (size_t i = 0; i < r->nfinds; i++) {
        const struct rfind *f = &r->finds[i];
        struct vg_sbuf u = VG_SBUF_INIT;
        purl(&u, &r->pkgs[f->pkg].p);
        vg_sbuf_printf(b, "%s{\"bom-ref\":\"vuln-%zu\",\"id\":", i ? "," : "", i + 1);
        js(b, f->f.id);
        vg_sbuf_adds(b, ",\"source\":{\"name\":");
        js(b, f->f.source ? f->f.source : "vigie");
        vg_sbuf_printf(b, "},\"ratings\":[{\"severity\":\"%s\",\"method\":\"other\"",
                       cdx_severity(f->f.severity));
        if (f->f.cvss >= 0) {
            vg_sbuf_printf(b, ",\"score\":%.1f", f->f.cvss);
        }
        vg_sbuf_adds(b, "}]");
        if (f->f.summary && *f->f.summary) {
            vg_sbuf_adds(b, ",\"description\":");
            js(b, f->f.summary);
        }
        if (f->f.fixed) {
            struct vg_sbuf rec = VG_SBUF_INIT;
            vg_sbuf_printf(&rec, "upgrade %s to %s", r->pkgs[f->pkg].p.name, f->f.fixed);
            vg_sbuf_adds(b, ",\"recommendation\":");
            js(b, rec.p);
            vg_sbuf_fini(&rec);
        }
        cdx_analysis(b, f);
        vg_sbuf_adds(b, ",\"affects\":[{\"ref\":");
        js(b, u.p);
        vg_sbuf_printf(b, "}],\"properties\":[{\"name\":\"vigie:kev\",\"value\":\"%s\"}",
                       f->f.kev ? "true" : "false");
        if (f->f.epss >= 0) {
            vg_sbuf_printf(b, ",{\"name\":\"vigie:epss\",\"value\":\"%.5f\"}", f->f.epss);
        }
        vg_sbuf_adds(b, "]}");
        vg_sbuf_fini(&u);
    }
    vg_sbuf_adds(b, "]}\n");
}

static void write_table(struct vg_vuln_report *r, struct vg_sbuf *b)
{
    size_t shown, supp, kev = 0;
    vg_vuln_report_counts(r, &shown, &supp);
    vg_sbuf_printf(b, "%-28s %-26s %-18s %-9s %-26s %6s %s\n", "PACKAGE", "INSTALLED",
                   "VULNERABILITY", "SEVERITY", "FIXED IN", "EPSS", "KEV");
    for (size_t i = 0; i < r->nfinds; i++) {
        const struct rfind *f = &r->finds[i];
        const struct vg_vuln_pkg *p = &r->pkgs[f->pkg].p;
        char epss[16] = "-";
        if (f->suppressed) {
            continue;
        }
        kev += f->f.kev;
        if (f->f.epss >= 0) {
            snprintf(epss, sizeof(epss), "%.1f%%", f->f.epss * 100);
        }
        vg_sbuf_printf(b, "%-28.28s %-26.26s %-18.18s %-9s %-26.26s %6s %s\n", p->name, p->version,
                       f->f.id, vg_vuln_severity_name(f->f.severity),
                       f->f.fixed ? f->f.fixed : (f->f.status ? f->f.status : "(no fix)"), epss,
                       f->f.kev ? "yes" : "");
    }
    vg_sbuf_printf(b, "\n%zu findings in %zu packages (%zu known exploited)", shown, r->npkgs, kev);
    if (supp) {
        vg_sbuf_printf(b, ", %zu suppressed by VEX", supp);
    }
    vg_sbuf_adds(b, "\n");
}

int vg_vuln_report_write(struct vg_vuln_report *r, enum vg_vuln_report_fmt fmt, FILE *out)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    int rc = VG_OK;
    if (r->nfinds > 1) {
        qsort(r->finds, r->nfinds, sizeof(*r->finds), by_priority);
    }
    switch (fmt) {
    case VG_VULN_REPORT_JSON:
        write_json(r, &b);
        break;
    case VG_VULN_REPORT_SARIF:
        write_sarif(r, &b);
        break;
    case VG_VULN_REPORT_CYCLONEDX:
        write_cyclonedx(r, &b);
        break;
    default:
        write_table(r, &b);
        break;
    }
    if (b.err) {
        rc = VG_ENOMEM;
    } else if (b.len && fwrite(b.p, 1, b.len, out) != b.len) {
        rc = VG_EIO;
    }
    vg_sbuf_fini(&b);
    return rc;
}
