/*
 * sigma_rule.c — one YAML document → one struct vg_sigma_rule (detection rule, correlation
 * rule or meta-filter), with its metadata, compiled detection and status.
 *
 * A document that cannot be compiled is still recorded (status ERROR / UNSUPPORTED /
 * NEEDS_PLACEHOLDER, a message and the line) so that `vigie rules check` reports every
 * document and detection uses only the good ones.
 */
#include "sigma/sigma_int.h"

#include <stdarg.h>
#include <string.h>

int sctx_fail(struct sctx *c, int status, uint32_t line, const char *fmt, ...)
{
    if (c->status == VG_RULE_OK || c->status == VG_RULE_NEEDS_PLACEHOLDER) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, sizeof(c->err), fmt, ap);
        va_end(ap);
        c->status = status;
        c->err_line = line;
    }
    return VG_EINVAL;
}

void sctx_warn(struct sctx *c, uint32_t line, const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (vg_grow(&c->warn, &c->capwarn, c->nwarn + 1, sizeof(*c->warn)) != VG_OK) {
        return;
    }
    const char *w =
        line ? vg_arena_printf(c->arena, "line %u: %s", line, buf) : vg_arena_strdup(c->arena, buf);
    if (w) {
        c->warn[c->nwarn++] = w;
    }
}

uint32_t sctx_slot(struct sctx *c, const char *field)
{
    for (uint32_t i = 0; i < c->nslots; i++) {
        if (!strcmp(c->slots[i], field)) {
            return i;
        }
    }
    if (vg_grow(&c->slots, &c->capslots, c->nslots + 1, sizeof(*c->slots)) != VG_OK) {
        return UINT32_MAX;
    }
    c->slots[c->nslots] = field;
    return c->nslots++;
}

/* ---------------------------------------------------------------- metadata helpers */

static const char *scalar_dup(struct sctx *c, const struct vg_yaml_node *doc, const char *key)
{
    const struct vg_yaml_node *n = vg_yaml_get(doc, key);
    if (!n || n->type != VG_YAML_SCALAR || vg_yaml_is_null(n)) {
        return NULL;
    }
    return vg_arena_strndup(c->arena, n->str, n->len);
}

/* A string or a list of strings → array (author may be either). */
static int str_list(struct sctx *c, const struct vg_yaml_node *n, const char ***out,
                    uint32_t *count, const char *what)
{
    *out = NULL;
    *count = 0;
    if (!n || vg_yaml_is_null(n)) {
        return VG_OK;
    }
    if (n->type == VG_YAML_SCALAR) {
        *out = vg_arena_alloc(c->arena, sizeof(**out));
        if (!*out || !((*out)[0] = vg_arena_strndup(c->arena, n->str, n->len))) {
            return VG_ENOMEM;
        }
        *count = 1;
        return VG_OK;
    }
    if (n->type != VG_YAML_SEQ) {
        return sctx_fail(c, VG_RULE_ERROR, n->line, "'%s' must be a string or a list", what);
    }
    *out = vg_arena_alloc(c->arena, (n->n ? n->n : 1) * sizeof(**out));
    if (!*out) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct vg_yaml_node *it = n->items[i];
        if (it->type != VG_YAML_SCALAR) {
            return sctx_fail(c, VG_RULE_ERROR, it->line, "'%s' items must be strings", what);
        }
        if (!((*out)[*count] = vg_arena_strndup(c->arena, it->str, it->len))) {
            return VG_ENOMEM;
        }
        (*count)++;
    }
    return VG_OK;
}

static int parse_metadata(struct sctx *c, const struct vg_yaml_node *doc)
{
    struct vg_sigma_rule *r = c->rule;
    const struct vg_yaml_node *title = vg_yaml_get(doc, "title");
    if (!title || title->type != VG_YAML_SCALAR || title->len == 0) {
        return sctx_fail(c, VG_RULE_ERROR, doc->line, "missing mandatory 'title'");
    }
    if (title->len > 256) {
        sctx_warn(c, title->line, "title longer than 256 characters");
    }
    r->title = vg_arena_strndup(c->arena, title->str, title->len);
    r->id = scalar_dup(c, doc, "id");
    r->name = scalar_dup(c, doc, "name");
    r->rule_status = scalar_dup(c, doc, "status");
    r->description = scalar_dup(c, doc, "description");
    r->date = scalar_dup(c, doc, "date");
    r->modified = scalar_dup(c, doc, "modified");
    r->license = scalar_dup(c, doc, "license");
    r->taxonomy = scalar_dup(c, doc, "taxonomy");
    const struct vg_yaml_node *author = vg_yaml_get(doc, "author");
    if (author && author->type == VG_YAML_SCALAR) {
        r->author = vg_arena_strndup(c->arena, author->str, author->len);
    }
    const struct vg_yaml_node *level = vg_yaml_get(doc, "level");
    if (level && !vg_yaml_is_null(level)) {
        int lv;
        if (level->type != VG_YAML_SCALAR || vg_sigma_level_parse(level->str, &lv) != VG_OK) {
            return sctx_fail(c, VG_RULE_ERROR, level->line,
                             "level must be informational, low, medium, high or critical");
        }
        r->level = (uint8_t)lv;
    }
    int rc;
    if ((rc = str_list(c, vg_yaml_get(doc, "tags"), &r->tags, &r->ntags, "tags")) != VG_OK ||
        (rc = str_list(c, vg_yaml_get(doc, "references"), &r->references, &r->nrefs,
                       "references")) != VG_OK ||
        (rc = str_list(c, vg_yaml_get(doc, "falsepositives"), &r->falsepositives, &r->nfp,
                       "falsepositives")) != VG_OK ||
        (rc = str_list(c, vg_yaml_get(doc, "fields"), &r->fields, &r->nfields, "fields")) !=
            VG_OK) {
        return rc;
    }
    const struct vg_yaml_node *rel = vg_yaml_get(doc, "related");
    if (rel && rel->type == VG_YAML_SEQ && rel->n) {
        r->related = vg_arena_calloc(c->arena, rel->n * sizeof(*r->related));
        if (!r->related) {
            return VG_ENOMEM;
        }
        for (size_t i = 0; i < rel->n; i++) {
            r->related[r->nrelated].id = scalar_dup(c, rel->items[i], "id");
            r->related[r->nrelated].type = scalar_dup(c, rel->items[i], "type");
            r->nrelated++;
        }
    }
    const struct vg_yaml_node *ls = vg_yaml_get(doc, "logsource");
    if (ls && ls->type == VG_YAML_MAP) {
        r->logsource.product = scalar_dup(c, ls, "product");
        r->logsource.category = scalar_dup(c, ls, "category");
        r->logsource.service = scalar_dup(c, ls, "service");
        r->logsource.definition = scalar_dup(c, ls, "definition");
    } else if (ls && !vg_yaml_is_null(ls)) {
        return sctx_fail(c, VG_RULE_ERROR, ls->line, "logsource must be a map");
    }
    return r->title ? VG_OK : VG_ENOMEM;
}

/* ---------------------------------------------------------------- detection */

static int compile_map(struct sctx *c, const struct vg_yaml_node *m, struct vg_sigma_map *out)
{
    out->nitems = (uint32_t)m->n;
    out->items = vg_arena_calloc(c->arena, (m->n ? m->n : 1) * sizeof(*out->items));
    if (!out->items) {
        return VG_ENOMEM;
    }
    if (m->n == 0) {
        return sctx_fail(c, VG_RULE_ERROR, m->line, "empty selection map");
    }
    for (size_t i = 0; i < m->n; i++) {
        int rc = sigma_compile_item(c, m->items[2 * i], m->items[2 * i + 1], &out->items[i]);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* A keyword selection: one map holding one field-less item. */
static int keyword_selection(struct sctx *c, const struct vg_yaml_node *list,
                             struct vg_sigma_selection *sel)
{
    sel->nmaps = 1;
    sel->maps = vg_arena_calloc(c->arena, sizeof(*sel->maps));
    if (!sel->maps ||
        !(sel->maps[0].items = vg_arena_calloc(c->arena, sizeof(struct vg_sigma_item)))) {
        return VG_ENOMEM;
    }
    sel->maps[0].nitems = 1;
    return sigma_compile_keywords(c, list, &sel->maps[0].items[0]);
}

static int compile_selection(struct sctx *c, const struct vg_yaml_node *key,
                             const struct vg_yaml_node *v, struct vg_sigma_selection *sel)
{
    sel->name = vg_arena_strndup(c->arena, key->str, key->len);
    sel->line = key->line;
    if (!sel->name) {
        return VG_ENOMEM;
    }
    if (v->type == VG_YAML_MAP) {
        sel->nmaps = 1;
        sel->maps = vg_arena_calloc(c->arena, sizeof(*sel->maps));
        return sel->maps ? compile_map(c, v, &sel->maps[0]) : VG_ENOMEM;
    }
    if (v->type == VG_YAML_SCALAR) {
        if (vg_yaml_is_null(v)) {
            return sctx_fail(c, VG_RULE_ERROR, v->line, "search identifier '%s' is empty",
                             sel->name);
        }
        /* a single keyword */
        struct vg_yaml_node one = {.type = VG_YAML_SEQ, .line = v->line, .n = 1};
        struct vg_yaml_node *items[1] = {(struct vg_yaml_node *)v};
        one.items = items;
        return keyword_selection(c, &one, sel);
    }
    if (v->n == 0) {
        return sctx_fail(c, VG_RULE_ERROR, v->line, "search identifier '%s' is an empty list",
                         sel->name);
    }
    size_t nmaps = 0, nscalars = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->items[i]->type == VG_YAML_MAP) {
            nmaps++;
        } else if (v->items[i]->type == VG_YAML_SCALAR) {
            nscalars++;
        } else {
            return sctx_fail(c, VG_RULE_ERROR, v->items[i]->line,
                             "a selection list holds maps or keywords, not nested lists");
        }
    }
    if (nmaps && nscalars) {
        return sctx_fail(c, VG_RULE_ERROR, v->line,
                         "selection '%s' mixes maps and keywords in one list", sel->name);
    }
    if (nscalars) {
        return keyword_selection(c, v, sel);
    }
    sel->nmaps = (uint32_t)nmaps;
    sel->maps = vg_arena_calloc(c->arena, nmaps * sizeof(*sel->maps));
    if (!sel->maps) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < nmaps; i++) {
        int rc = compile_map(c, v->items[i], &sel->maps[i]);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int compile_condition(struct sctx *c, const struct vg_yaml_node *cond,
                             struct vg_sigma_detection *det)
{
    const char **names = vg_arena_alloc(c->tmp, (det->nsels ? det->nsels : 1) * sizeof(*names));
    if (!names) {
        return VG_ENOMEM;
    }
    for (uint32_t i = 0; i < det->nsels; i++) {
        names[i] = det->sels[i].name;
    }
    const struct vg_yaml_node *one = cond;
    size_t n = 1;
    if (cond->type == VG_YAML_SEQ) {
        n = cond->n;
        if (n == 0) {
            return sctx_fail(c, VG_RULE_ERROR, cond->line, "condition list is empty");
        }
    } else if (cond->type != VG_YAML_SCALAR) {
        return sctx_fail(c, VG_RULE_ERROR, cond->line, "condition must be a string or a list");
    }
    struct vg_sigma_cond * or = NULL;
    if (n > 1) {
        or = vg_arena_calloc(c->arena, sizeof(* or));
        if (! or || !(or->kids = vg_arena_calloc(c->arena, n * sizeof(* or->kids)))) {
            return VG_ENOMEM;
        }
        or->op = VG_SC_OR;
        or->n = (uint32_t)n;
    }
    for (size_t i = 0; i < n; i++) {
        if (cond->type == VG_YAML_SEQ) {
            one = cond->items[i];
            if (one->type != VG_YAML_SCALAR) {
                return sctx_fail(c, VG_RULE_ERROR, one->line, "conditions must be strings");
            }
        }
        char err[300];
        struct vg_sigma_cond *tree;
        int rc = vg_sigma_cond_parse(c->arena, one->str, one->len, names, det->nsels, &tree, err,
                                     sizeof(err));
        if (rc != VG_OK) {
            return sctx_fail(c, rc == VG_EUNSUPPORTED ? VG_RULE_UNSUPPORTED : VG_RULE_ERROR,
                             one->line, "%s", err);
        }
        if (or) {
            or->kids[i] = tree;
        } else {
            det->cond = tree;
        }
    }
    if (or) {
        det->cond = or ;
    }
    return VG_OK;
}

/*
 * Compile a detection map: every key but `condition` (and the keys in skip[]) is a search
 * identifier.
 */
static int compile_detection(struct sctx *c, const struct vg_yaml_node *d,
                             struct vg_sigma_detection *det, const char *const *skip, size_t nskip)
{
    if (!d || d->type != VG_YAML_MAP) {
        return sctx_fail(c, VG_RULE_ERROR, d ? d->line : c->rule->line,
                         "missing or malformed 'detection' map");
    }
    const struct vg_yaml_node *cond = vg_yaml_get(d, "condition");
    if (!cond || vg_yaml_is_null(cond)) {
        return sctx_fail(c, VG_RULE_ERROR, d->line, "detection has no 'condition'");
    }
    c->det = det;
    c->nvalues = 0;
    det->sels = vg_arena_calloc(c->arena, (d->n ? d->n : 1) * sizeof(*det->sels));
    if (!det->sels) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < d->n; i++) {
        const struct vg_yaml_node *k = d->items[2 * i], *v = d->items[2 * i + 1];
        if (k->type != VG_YAML_SCALAR || !strcmp(k->str, "condition")) {
            continue;
        }
        bool skipped = false;
        for (size_t s = 0; s < nskip; s++) {
            skipped |= !strcmp(k->str, skip[s]);
        }
        if (skipped) {
            continue;
        }
        if (!strcmp(k->str, "timeframe")) {
            sctx_warn(c, k->line, "'timeframe' belongs to legacy aggregations and is ignored");
            continue;
        }
        int rc = compile_selection(c, k, v, &det->sels[det->nsels]);
        if (rc != VG_OK) {
            return rc;
        }
        det->nsels++;
    }
    int rc = compile_condition(c, cond, det);
    if (rc != VG_OK) {
        return rc;
    }
    det->nslots = c->nslots;
    det->nvalues = c->nvalues;
    det->slot_names = vg_arena_alloc(c->arena, (c->nslots ? c->nslots : 1) * sizeof(char *));
    if (!det->slot_names) {
        return VG_ENOMEM;
    }
    if (c->nslots) {
        memcpy(det->slot_names, c->slots, c->nslots * sizeof(char *));
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- correlations */

static const char *const corr_types[] = {"event_count",      "value_count", "temporal",
                                         "temporal_ordered", "value_sum",   "value_avg",
                                         "value_percentile"};

static int parse_corr_cond(struct sctx *c, const struct vg_yaml_node *n,
                           struct vg_sigma_correlation *k)
{
    static const char *const ops[] = {"", "gt", "gte", "lt", "lte", "eq", "neq"};
    if (n->type != VG_YAML_MAP) {
        return sctx_fail(c, VG_RULE_ERROR, n->line,
                         "correlation condition must be a map like {gte: 10}");
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct vg_yaml_node *key = n->items[2 * i], *v = n->items[2 * i + 1];
        if (!strcmp(key->str, "field")) {
            int rc = str_list(c, v, &k->fields, &k->nfields, "condition.field");
            if (rc != VG_OK) {
                return rc;
            }
            continue;
        }
        int op = 0;
        for (int o = 1; o < (int)VG_ARRAY_LEN(ops); o++) {
            if (!strcmp(key->str, ops[o])) {
                op = o;
            }
        }
        if (!op) {
            return sctx_fail(c, VG_RULE_ERROR, key->line,
                             "unknown correlation condition '%s' (gt, gte, lt, lte, eq, neq, "
                             "field)",
                             key->str);
        }
        double d;
        int64_t iv;
        if (v->type != VG_YAML_SCALAR ||
            (vg_parse_i64(v->str, v->len, &iv) == VG_OK ? (d = (double)iv, 0)
                                                        : vg_parse_double(v->str, v->len, &d))) {
            return sctx_fail(c, VG_RULE_ERROR, v->line, "'%s' needs a number", key->str);
        }
        if (k->cond.ncmp == 2) {
            return sctx_fail(c, VG_RULE_ERROR, key->line,
                             "a correlation condition holds at most two comparisons");
        }
        k->cond.op[k->cond.ncmp] = (uint8_t)op;
        k->cond.val[k->cond.ncmp] = d;
        k->cond.ncmp++;
    }
    k->has_cond = k->cond.ncmp > 0;
    return VG_OK;
}

static int parse_aliases(struct sctx *c, const struct vg_yaml_node *n,
                         struct vg_sigma_correlation *k)
{
    if (n->type != VG_YAML_MAP) {
        return sctx_fail(c, VG_RULE_ERROR, n->line, "aliases must be a map");
    }
    k->aliases = vg_arena_calloc(c->arena, (n->n ? n->n : 1) * sizeof(*k->aliases));
    if (!k->aliases) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct vg_yaml_node *name = n->items[2 * i], *m = n->items[2 * i + 1];
        struct vg_corr_alias *a = &k->aliases[k->naliases++];
        a->alias = vg_arena_strndup(c->arena, name->str, name->len);
        if (m->type != VG_YAML_MAP) {
            return sctx_fail(c, VG_RULE_ERROR, m->line,
                             "alias '%s' must map rule names to field names", name->str);
        }
        a->rule = vg_arena_alloc(c->arena, (m->n ? m->n : 1) * sizeof(char *));
        a->field = vg_arena_alloc(c->arena, (m->n ? m->n : 1) * sizeof(char *));
        if (!a->alias || !a->rule || !a->field) {
            return VG_ENOMEM;
        }
        for (size_t j = 0; j < m->n; j++) {
            const struct vg_yaml_node *rk = m->items[2 * j], *fv = m->items[2 * j + 1];
            if (fv->type != VG_YAML_SCALAR) {
                return sctx_fail(c, VG_RULE_ERROR, fv->line, "alias fields must be strings");
            }
            a->rule[a->n] = vg_arena_strndup(c->arena, rk->str, rk->len);
            a->field[a->n] = vg_arena_strndup(c->arena, fv->str, fv->len);
            a->n++;
        }
    }
    return VG_OK;
}

static int compile_correlation(struct sctx *c, const struct vg_yaml_node *doc)
{
    struct vg_sigma_correlation *k = &c->rule->corr;
    const struct vg_yaml_node *cn = vg_yaml_get(doc, "correlation");
    if (cn->type != VG_YAML_MAP) {
        return sctx_fail(c, VG_RULE_ERROR, cn->line, "'correlation' must be a map");
    }
    const struct vg_yaml_node *type = vg_yaml_get(cn, "type");
    if (!type || type->type != VG_YAML_SCALAR) {
        return sctx_fail(c, VG_RULE_ERROR, cn->line, "correlation needs a 'type'");
    }
    int t = -1;
    for (int i = 0; i < (int)VG_ARRAY_LEN(corr_types); i++) {
        if (!strcmp(type->str, corr_types[i])) {
            t = i;
        }
    }
    if (t < 0) {
        return sctx_fail(c, VG_RULE_ERROR, type->line, "unknown correlation type '%s'", type->str);
    }
    k->type = (uint8_t)t;
    int rc = str_list(c, vg_yaml_get(cn, "rules"), &k->rules, &k->nrules, "rules");
    if (rc != VG_OK) {
        return rc;
    }
    if (!k->nrules) {
        return sctx_fail(c, VG_RULE_ERROR, cn->line, "correlation needs 'rules'");
    }
    if ((rc = str_list(c, vg_yaml_get(cn, "group-by"), &k->group_by, &k->ngroup, "group-by")) !=
        VG_OK) {
        return rc;
    }
    const struct vg_yaml_node *ts = vg_yaml_get(cn, "timespan");
    if (!ts || ts->type != VG_YAML_SCALAR ||
        vg_duration_parse(ts->str, ts->len, &k->timespan_ns) != VG_OK) {
        return sctx_fail(c, VG_RULE_ERROR, ts ? ts->line : cn->line,
                         "correlation needs a 'timespan' like 30s, 5m, 1h or 1d");
    }
    const struct vg_yaml_node *cond = vg_yaml_get(cn, "condition");
    if (cond && (rc = parse_corr_cond(c, cond, k)) != VG_OK) {
        return rc;
    }
    bool temporal = t == VG_CORR_TEMPORAL || t == VG_CORR_TEMPORAL_ORDERED;
    if (!temporal && !k->has_cond) {
        return sctx_fail(c, VG_RULE_ERROR, cond ? cond->line : cn->line,
                         "%s correlation needs a condition (gt, gte, lt, lte, eq, neq)",
                         corr_types[t]);
    }
    if (t != VG_CORR_EVENT_COUNT && !temporal && !k->nfields) {
        return sctx_fail(c, VG_RULE_ERROR, cond ? cond->line : cn->line,
                         "%s correlation needs condition.field", corr_types[t]);
    }
    if (!k->ngroup) {
        sctx_warn(c, cn->line, "no group-by: all matching events form one group");
    }
    const struct vg_yaml_node *al = vg_yaml_get(cn, "aliases");
    if (al && !vg_yaml_is_null(al) && (rc = parse_aliases(c, al, k)) != VG_OK) {
        return rc;
    }
    const struct vg_yaml_node *gen = vg_yaml_get(cn, "generate");
    if (!gen) {
        gen = vg_yaml_get(doc, "generate");
    }
    bool g = false;
    if (gen && vg_yaml_bool(gen, &g) != VG_OK) {
        return sctx_fail(c, VG_RULE_ERROR, gen->line, "generate must be true or false");
    }
    k->generate = g;
    return VG_OK;
}

static int compile_filter(struct sctx *c, const struct vg_yaml_node *doc)
{
    const struct vg_yaml_node *f = vg_yaml_get(doc, "filter");
    if (!vg_yaml_get(doc, "logsource")) {
        return sctx_fail(c, VG_RULE_ERROR, doc->line, "a filter needs a 'logsource'");
    }
    if (!f || f->type != VG_YAML_MAP) {
        return sctx_fail(c, VG_RULE_ERROR, f ? f->line : doc->line, "'filter' must be a map");
    }
    int rc = str_list(c, vg_yaml_get(f, "rules"), &c->rule->filter.rules, &c->rule->filter.nrules,
                      "filter.rules");
    if (rc != VG_OK) {
        return rc;
    }
    static const char *const skip[] = {"rules"};
    return compile_detection(c, f, &c->rule->det, skip, 1);
}

/* ---------------------------------------------------------------- entry point */

static void finish(struct sctx *c)
{
    struct vg_sigma_rule *r = c->rule;
    if (c->status == VG_RULE_OK && c->nmissing) {
        struct vg_sbuf sb = VG_SBUF_INIT;
        vg_sbuf_adds(&sb, "placeholders without values:");
        for (uint32_t i = 0; i < c->nmissing; i++) {
            vg_sbuf_printf(&sb, " %%%s%%", c->missing_ph[i]);
        }
        snprintf(c->err, sizeof(c->err), "%s", sb.p ? sb.p : "placeholders without values");
        vg_sbuf_fini(&sb);
        c->status = VG_RULE_NEEDS_PLACEHOLDER;
    }
    if (c->nmissing) {
        r->placeholders = vg_arena_alloc(c->arena, c->nmissing * sizeof(char *));
        if (r->placeholders) {
            for (uint32_t i = 0; i < c->nmissing; i++) {
                r->placeholders[i] = vg_arena_strdup(c->arena, c->missing_ph[i]);
            }
            r->nplaceholders = c->nmissing;
        }
    }
    r->status = (uint8_t)c->status;
    if (c->status != VG_RULE_OK) {
        r->message = vg_arena_strdup(c->arena, c->err);
        r->err_line = c->err_line;
    }
    if (c->nwarn) {
        r->warnings = vg_arena_alloc(c->arena, c->nwarn * sizeof(char *));
        if (r->warnings) {
            memcpy(r->warnings, c->warn, c->nwarn * sizeof(char *));
            r->nwarnings = c->nwarn;
        }
    }
}

/* Compile one document into r (already allocated in the set arena). */
int sigma_compile_doc(struct sctx *c, const struct vg_yaml_node *doc, struct vg_sigma_rule *r);

int sigma_compile_doc(struct sctx *c, const struct vg_yaml_node *doc, struct vg_sigma_rule *r)
{
    c->rule = r;
    c->status = VG_RULE_OK;
    c->err[0] = '\0';
    c->err_line = 0;
    c->nwarn = c->nmissing = c->nslots = 0;
    r->line = doc->line;
    int rc = VG_OK;
    if (doc->type != VG_YAML_MAP) {
        sctx_fail(c, VG_RULE_ERROR, doc->line, "a Sigma document must be a YAML map");
        goto done;
    }
    if (vg_yaml_get(doc, "action")) {
        sctx_fail(c, VG_RULE_UNSUPPORTED, vg_yaml_get(doc, "action")->line,
                  "Sigma 1 rule collections ('action: global/reset/repeat') are not part of "
                  "Sigma 2: write one document per rule");
        goto done;
    }
    if ((rc = parse_metadata(c, doc)) != VG_OK) {
        goto done;
    }
    if (vg_yaml_get(doc, "correlation")) {
        r->kind = VG_SIGMA_CORRELATION;
        rc = compile_correlation(c, doc);
    } else if (vg_yaml_get(doc, "filter")) {
        r->kind = VG_SIGMA_FILTER;
        rc = compile_filter(c, doc);
    } else {
        r->kind = VG_SIGMA_RULE;
        if (!vg_yaml_get(doc, "logsource")) {
            sctx_fail(c, VG_RULE_ERROR, doc->line, "missing mandatory 'logsource'");
            goto done;
        }
        rc = compile_detection(c, vg_yaml_get(doc, "detection"), &r->det, NULL, 0);
    }
done:
    if (rc == VG_ENOMEM && c->status == VG_RULE_OK) {
        sctx_fail(c, VG_RULE_ERROR, doc->line, "out of memory");
    }
    finish(c);
    return rc == VG_ENOMEM ? VG_ENOMEM : VG_OK;
}
