/*
 * respond_playbook.c — the playbook language: YAML (via core's vg_yaml_parse) to a checked
 * struct vg_playbook, and trigger matching.
 *
 * Everything that can be checked is checked at load, so a run never fails on something the
 * file already said: unknown fields, step ids (unique), actions (must be in the table), their
 * `with` parameters (no unknown, every required one), template and condition syntax, and that
 * `steps.<id>` references point at steps that finish before the referencing one starts.
 * Every error names "file:line: field: reason".
 *
 * The structure: steps is a list of stages run in order; a stage is one step or a
 * `parallel:` group whose steps run together and join.
 */
#include <stdlib.h>
#include <string.h>

#include "respond/respond_int.h"

struct pctx {
    struct vg_playbook *pb;
    struct vg_json_parser *jp;
    char *err;
    size_t errsz;
    size_t nfinished; /* steps[0..nfinished) finish before the current stage starts */
    char field[160];  /* the field being checked, for on_path */
};

static const char *const level_names[] = {"", "informational", "low", "medium", "high", "critical"};

__attribute__((format(printf, 4, 5))) static int perr(struct pctx *p, const struct vg_yaml_node *n,
                                                      const char *field, const char *fmt, ...)
{
    int k = snprintf(p->err, p->errsz, "%s:%u: %s: ", p->pb->file, n ? n->line : 1, field);
    if (k >= 0 && (size_t)k < p->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + k, p->errsz - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return VG_EINVAL;
}

int64_t vg_respond_dur_parse(const char *p, size_t n, int64_t *out_ns)
{
    int64_t v;
    if (n > 2 && p[n - 2] == 'm' && p[n - 1] == 's') {
        if (vg_parse_i64(p, n - 2, &v) != VG_OK || v <= 0 || p[0] == '+') {
            return VG_EINVAL;
        }
        *out_ns = v * 1000000;
        return VG_OK;
    }
    if (vg_duration_parse(p, n, &v) != VG_OK) {
        return VG_EINVAL;
    }
    *out_ns = v;
    return VG_OK;
}

static const char *scalar(struct pctx *p, const struct vg_yaml_node *n)
{
    VG_UNUSED(p);
    return n && n->type == VG_YAML_SCALAR ? n->str : NULL;
}

static int get_str(struct pctx *p, const struct vg_yaml_node *map, const char *key,
                   const char *field, bool required, const char **out)
{
    const struct vg_yaml_node *n = vg_yaml_get(map, key);
    if (!n || vg_yaml_is_null(n)) {
        *out = NULL;
        return required ? perr(p, map, field, "missing (required)") : VG_OK;
    }
    if (n->type != VG_YAML_SCALAR) {
        return perr(p, n, field, "expected a string");
    }
    *out = vg_arena_strndup(p->pb->arena, n->str, n->len);
    return *out ? VG_OK : VG_ENOMEM;
}

static int get_int(struct pctx *p, const struct vg_yaml_node *n, const char *field, int64_t lo,
                   int64_t hi, int64_t *out)
{
    if (vg_yaml_int(n, out) != VG_OK || *out < lo || *out > hi) {
        return perr(p, n, field, "expected an integer %lld-%lld", (long long)lo, (long long)hi);
    }
    return VG_OK;
}

static int get_dur(struct pctx *p, const struct vg_yaml_node *n, const char *field, int64_t *out)
{
    if (!n || n->type != VG_YAML_SCALAR || vg_respond_dur_parse(n->str, n->len, out) != VG_OK) {
        return perr(p, n, field, "expected a duration (500ms, 30s, 5m, 1h)");
    }
    return VG_OK;
}

/* Every key of map must be in allowed (NULL-terminated). */
static int check_keys(struct pctx *p, const struct vg_yaml_node *map, const char *prefix,
                      const char *const *allowed)
{
    for (size_t i = 0; i < map->n; i++) {
        const struct vg_yaml_node *k = map->items[2 * i];
        bool ok = false;
        for (size_t a = 0; allowed[a] && !ok; a++) {
            ok = k->str && strcmp(k->str, allowed[a]) == 0;
        }
        if (!ok) {
            return perr(p, k, prefix[0] ? prefix : "playbook", "unknown field '%s'",
                        k->str ? k->str : "?");
        }
    }
    return VG_OK;
}

static bool valid_id(const char *s)
{
    if (!s || !*s || strlen(s) > 64) {
        return false;
    }
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

/* ---------------------------------------------------------------- YAML values to JSON */

static int yaml_to_json(const struct vg_yaml_node *n, struct vg_sbuf *out, int depth)
{
    if (depth > VG_TMPL_MAX_DEPTH) {
        return VG_ELIMIT;
    }
    if (n->type == VG_YAML_SCALAR) {
        int64_t i;
        bool b;
        double d;
        if (!n->quoted && (vg_yaml_is_null(n) || n->len == 0)) {
            vg_sbuf_adds(out, "null");
        } else if (vg_yaml_bool(n, &b) == VG_OK) {
            vg_sbuf_adds(out, b ? "true" : "false");
        } else if (vg_yaml_int(n, &i) == VG_OK) {
            vg_sbuf_printf(out, "%lld", (long long)i);
        } else if (!n->quoted && vg_parse_double(n->str, n->len, &d) == VG_OK && d == d &&
                   d < 1e300 && d > -1e300) {
            vg_sbuf_printf(out, "%.17g", d);
        } else {
            vg_sbuf_add_json_str(out, n->str, n->len);
        }
        return VG_OK;
    }
    bool map = n->type == VG_YAML_MAP;
    vg_sbuf_addc(out, map ? '{' : '[');
    for (size_t i = 0; i < n->n; i++) {
        if (i) {
            vg_sbuf_addc(out, ',');
        }
        if (map) {
            const struct vg_yaml_node *k = n->items[2 * i];
            vg_sbuf_add_json_str(out, k->str ? k->str : "", k->str ? k->len : 0);
            vg_sbuf_addc(out, ':');
        }
        int rc = yaml_to_json(map ? n->items[2 * i + 1] : n->items[i], out, depth + 1);
        if (rc != VG_OK) {
            return rc;
        }
    }
    vg_sbuf_addc(out, map ? '}' : ']');
    return VG_OK;
}

static int to_json(struct pctx *p, const struct vg_yaml_node *n, const char *field,
                   struct vg_json **out)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    char jerr[128];
    size_t used;
    int rc = n ? yaml_to_json(n, &b, 0) : (vg_sbuf_adds(&b, "{}"), VG_OK);
    if (rc != VG_OK || b.err) {
        vg_sbuf_fini(&b);
        return rc == VG_ELIMIT ? perr(p, n, field, "nested too deeply") : VG_ENOMEM;
    }
    /* the DOM's strings point into its text: the text lives in the playbook's arena */
    char *text = vg_arena_strndup(p->pb->arena, b.p ? b.p : "", b.len);
    rc = text ? vg_json_parse(p->jp, p->pb->arena, text, b.len, &used, out, jerr, sizeof(jerr))
              : VG_ENOMEM;
    if (rc == VG_ENOMEM) {
        vg_sbuf_fini(&b);
        return rc;
    }
    vg_sbuf_fini(&b);
    return rc == VG_OK ? VG_OK : perr(p, n, field, "cannot convert: %s", jerr);
}

/* ---------------------------------------------------------------- references */

static const char *const roots[] = {"alert", "incident", "case",    "inputs", "steps",
                                    "run",   "now",      "trigger", NULL};

/* A path used by a template or condition: known root; steps.<id> finished before. */
static int on_path(void *c, const char *path, size_t n, char *err, size_t errsz)
{
    struct pctx *p = c;
    size_t r = 0;
    while (r < n && path[r] != '.' && path[r] != '[') {
        r++;
    }
    bool known = false;
    for (size_t k = 0; roots[k] && !known; k++) {
        known = strlen(roots[k]) == r && memcmp(roots[k], path, r) == 0;
    }
    if (!known) {
        snprintf(err, errsz,
                 "unknown variable '%.*s' (alert, incident, case, inputs, steps, run, "
                 "now)",
                 (int)VG_MIN(r, 60), path);
        return VG_EINVAL;
    }
    if (r != 5 || memcmp(path, "steps", 5) != 0) {
        return VG_OK;
    }
    const char *id = path + r + 1;
    size_t idn = 0;
    while (r + 1 + idn < n && id[idn] != '.' && id[idn] != '[') {
        idn++;
    }
    for (size_t s = 0; r < n && s < p->nfinished; s++) {
        if (strlen(p->pb->steps[s].id) == idn && memcmp(p->pb->steps[s].id, id, idn) == 0) {
            return VG_OK;
        }
    }
    snprintf(err, errsz, "step '%.*s' does not run before this step", (int)VG_MIN(idn, 64), id);
    return VG_EINVAL;
}

/* Check every template string inside a JSON value. */
static int check_templates(struct pctx *p, const struct vg_yaml_node *at, const char *field,
                           const struct vg_json *v)
{
    char e[256];
    if (v->type == VG_JSON_STRING) {
        if (vg_tmpl_check(v->s, v->n, on_path, p, e, sizeof(e)) != VG_OK) {
            return perr(p, at, field, "%s", e);
        }
        return VG_OK;
    }
    bool obj = v->type == VG_JSON_OBJECT;
    if (!obj && v->type != VG_JSON_ARRAY) {
        return VG_OK;
    }
    for (uint32_t i = 0; i < v->n; i++) {
        int rc = check_templates(p, at, field, obj ? &v->u.items[2 * i + 1] : &v->u.items[i]);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

static int get_cond(struct pctx *p, const struct vg_yaml_node *n, const char *field,
                    struct vg_cond **out)
{
    char e[256];
    *out = NULL;
    if (!n || vg_yaml_is_null(n)) {
        return VG_OK;
    }
    if (n->type != VG_YAML_SCALAR) {
        return perr(p, n, field, "expected a condition (a string)");
    }
    if (vg_cond_compile(p->pb->arena, n->str, n->len, out, on_path, p, e, sizeof(e)) != VG_OK) {
        return perr(p, n, field, "%s", e);
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- triggers */

static int parse_level(const char *s, size_t n, int *out)
{
    while (n && (*s == '>' || *s == '=' || *s == ' ')) {
        s++;
        n--;
    }
    int64_t v;
    if (vg_parse_i64(s, n, &v) == VG_OK && v >= 1 && v <= 5) {
        *out = (int)v;
        return VG_OK;
    }
    for (int i = 1; i <= 5; i++) {
        if (vg_str_ieq_ascii(s, n, level_names[i], strlen(level_names[i]))) {
            *out = i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

static int parse_trigger(struct pctx *p, const struct vg_yaml_node *n, size_t i,
                         struct vg_pb_trigger *t)
{
    static const char *const keys[] = {"on", "rule", "tag", "level", "technique", "min_risk", NULL};
    char f[64];
    snprintf(f, sizeof(f), "triggers[%zu]", i);
    if (n->type != VG_YAML_MAP) {
        return perr(p, n, f, "expected a map ({on: alert, rule: ...})");
    }
    int rc = check_keys(p, n, f, keys);
    const struct vg_yaml_node *on = vg_yaml_get(n, "on");
    const char *ons = scalar(p, on);
    t->line = n->line;
    t->on = !ons                       ? 0
            : !strcmp(ons, "alert")    ? VG_PB_ON_ALERT
            : !strcmp(ons, "incident") ? VG_PB_ON_INCIDENT
            : !strcmp(ons, "manual")   ? VG_PB_ON_MANUAL
                                       : 0;
    snprintf(f, sizeof(f), "triggers[%zu].on", i);
    if (rc == VG_OK && !t->on) {
        rc = perr(p, on ? on : n, f, "expected alert, incident or manual");
    }
    snprintf(f, sizeof(f), "triggers[%zu]", i);
    rc = rc ? rc : get_str(p, n, "rule", f, false, &t->rule);
    rc = rc ? rc : get_str(p, n, "tag", f, false, &t->tag);
    rc = rc ? rc : get_str(p, n, "technique", f, false, &t->technique);
    const struct vg_yaml_node *lv = vg_yaml_get(n, "level");
    snprintf(f, sizeof(f), "triggers[%zu].level", i);
    if (rc == VG_OK && lv &&
        (lv->type != VG_YAML_SCALAR || parse_level(lv->str, lv->len, &t->min_level) != VG_OK)) {
        rc = perr(p, lv, f,
                  "expected a level (>=high; informational, low, medium, high, "
                  "critical or 1-5)");
    }
    const struct vg_yaml_node *mr = vg_yaml_get(n, "min_risk");
    snprintf(f, sizeof(f), "triggers[%zu].min_risk", i);
    if (rc == VG_OK && mr) {
        rc = get_int(p, mr, f, 0, 1000000, &t->min_risk);
    }
    return rc;
}

static int parse_triggers(struct pctx *p, const struct vg_yaml_node *root)
{
    const struct vg_yaml_node *n = vg_yaml_get(root, "triggers");
    if (!n) {
        return perr(p, root, "triggers", "missing (required; {on: manual} for manual only)");
    }
    if (n->type != VG_YAML_SEQ || n->n == 0 || n->n > 32) {
        return perr(p, n, "triggers", "expected a list of 1-32 triggers");
    }
    p->pb->triggers = vg_arena_calloc(p->pb->arena, n->n * sizeof(*p->pb->triggers));
    if (!p->pb->triggers) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < n->n; i++) {
        int rc = parse_trigger(p, n->items[i], i, &p->pb->triggers[i]);
        if (rc != VG_OK) {
            return rc;
        }
    }
    p->pb->ntriggers = n->n;
    return VG_OK;
}

/* ---------------------------------------------------------------- steps */

static bool literal_type_ok(const struct vg_json *v, int type)
{
    if (v->type == VG_JSON_STRING && vg_memmem(v->s, v->n, "{{", 2)) {
        return true; /* a template: checked when rendered */
    }
    switch (type) {
    case VG_ACTION_STRING:
        return v->type == VG_JSON_STRING || v->type == VG_JSON_NUMBER;
    case VG_ACTION_INT:
        return v->type == VG_JSON_NUMBER && v->is_int;
    case VG_ACTION_BOOL:
        return v->type == VG_JSON_TRUE || v->type == VG_JSON_FALSE;
    case VG_ACTION_OBJECT:
        return v->type == VG_JSON_OBJECT;
    case VG_ACTION_LIST:
        return v->type == VG_JSON_ARRAY;
    default:
        return true;
    }
}

static const char *type_name(int type)
{
    static const char *const names[] = {"",          "a string", "an integer", "a boolean",
                                        "an object", "a list",   "any value"};
    return type >= 1 && type <= VG_ACTION_ANY ? names[type] : "a value";
}

/* with: params against the action's table. */
static int check_params(struct pctx *p, const struct vg_yaml_node *wn, const char *f,
                        const struct vg_pb_step *s)
{
    char field[200];
    const struct vg_json *w = s->with;
    for (uint32_t i = 0; i < w->n; i++) {
        const struct vg_json *k = &w->u.items[2 * i];
        const struct vg_action_param *pa = s->action->params;
        while (pa && pa->name && !(strlen(pa->name) == k->n && !memcmp(pa->name, k->s, k->n)) &&
               strcmp(pa->name, "*") != 0) {
            pa++;
        }
        snprintf(field, sizeof(field), "%s.with.%.*s", f, (int)VG_MIN(k->n, 40), k->s);
        if (!pa || !pa->name) {
            return perr(p, wn, field, "unknown parameter of %s", s->action->name);
        }
        if (!literal_type_ok(&w->u.items[2 * i + 1], pa->type)) {
            return perr(p, wn, field, "expected %s", type_name(pa->type));
        }
    }
    for (const struct vg_action_param *pa = s->action->params; pa && pa->name; pa++) {
        if (pa->required && !vg_json_get(w, pa->name)) {
            snprintf(field, sizeof(field), "%s.with.%s", f, pa->name);
            return perr(p, wn ? wn : NULL, field, "missing (required by %s)", s->action->name);
        }
    }
    return VG_OK;
}

static int parse_retry(struct pctx *p, const struct vg_yaml_node *n, const char *f,
                       struct vg_pb_step *s)
{
    static const char *const keys[] = {"max", "backoff", NULL};
    static const char *const bkeys[] = {"initial", "factor", "max_delay", NULL};
    char field[200];
    s->backoff_initial_ns = 1000000000LL;
    s->backoff_factor = 2;
    s->backoff_max_ns = 300000000000LL;
    if (!n) {
        return VG_OK;
    }
    snprintf(field, sizeof(field), "%s.retry", f);
    if (n->type != VG_YAML_MAP) {
        return perr(p, n, field, "expected a map {max: 3, backoff: {...}}");
    }
    int rc = check_keys(p, n, field, keys);
    int64_t v = 0;
    snprintf(field, sizeof(field), "%s.retry.max", f);
    const struct vg_yaml_node *m = vg_yaml_get(n, "max");
    rc = rc ? rc : m ? get_int(p, m, field, 0, VG_PB_MAX_RETRY, &v) : VG_OK;
    s->retry_max = (unsigned)v;
    const struct vg_yaml_node *b = vg_yaml_get(n, "backoff");
    if (rc || !b) {
        return rc;
    }
    snprintf(field, sizeof(field), "%s.retry.backoff", f);
    if (b->type != VG_YAML_MAP) {
        return perr(p, b, field, "expected a map {initial: 1s, factor: 2, max_delay: 1m}");
    }
    rc = check_keys(p, b, field, bkeys);
    const struct vg_yaml_node *x;
    snprintf(field, sizeof(field), "%s.retry.backoff.initial", f);
    rc = rc                                ? rc
         : (x = vg_yaml_get(b, "initial")) ? get_dur(p, x, field, &s->backoff_initial_ns)
                                           : VG_OK;
    snprintf(field, sizeof(field), "%s.retry.backoff.max_delay", f);
    rc = rc                                  ? rc
         : (x = vg_yaml_get(b, "max_delay")) ? get_dur(p, x, field, &s->backoff_max_ns)
                                             : VG_OK;
    snprintf(field, sizeof(field), "%s.retry.backoff.factor", f);
    if (rc == VG_OK && (x = vg_yaml_get(b, "factor"))) {
        if (x->type != VG_YAML_SCALAR || vg_parse_double(x->str, x->len, &s->backoff_factor) ||
            s->backoff_factor < 1 || s->backoff_factor > 10) {
            rc = perr(p, x, field, "expected a number 1-10");
        }
    }
    return rc;
}

static int parse_approvers(struct pctx *p, const struct vg_yaml_node *n, const char *f,
                           struct vg_pb_step *s)
{
    char field[200];
    snprintf(field, sizeof(field), "%s.approval.approvers", f);
    s->approver_role = -1;
    if (!n) {
        return perr(p, NULL, field, "missing (a role: analyst/admin, or a list of users)");
    }
    if (n->type == VG_YAML_SCALAR) {
        static const char *const roles[] = {"", "", "read", "analyst", "admin"};
        for (int r = 2; r <= 4; r++) {
            if (strcmp(n->str, roles[r]) == 0) {
                s->approver_role = r;
                return VG_OK;
            }
        }
        return perr(p, n, field, "expected a role (read, analyst, admin) or a list of users");
    }
    if (n->type != VG_YAML_SEQ || n->n == 0 || n->n > 64) {
        return perr(p, n, field, "expected a role or a list of 1-64 users");
    }
    s->approver_users = vg_arena_calloc(p->pb->arena, n->n * sizeof(char *));
    for (size_t i = 0; s->approver_users && i < n->n; i++) {
        if (n->items[i]->type != VG_YAML_SCALAR || !n->items[i]->len) {
            return perr(p, n->items[i], field, "expected user names");
        }
        s->approver_users[i] = vg_arena_strdup(p->pb->arena, n->items[i]->str);
    }
    s->napprover_users = n->n;
    return s->approver_users ? VG_OK : VG_ENOMEM;
}

static int parse_approval(struct pctx *p, const struct vg_yaml_node *n, const char *f,
                          struct vg_pb_step *s)
{
    static const char *const keys[] = {"approvers", "timeout", "default", "message", NULL};
    char field[200];
    snprintf(field, sizeof(field), "%s.approval", f);
    if (n->type != VG_YAML_MAP) {
        return perr(p, n, field, "expected a map {approvers: ..., timeout: 1h, default: deny}");
    }
    s->approval = true;
    s->approval_timeout_ns = VG_PB_DEFAULT_APPR;
    int rc = check_keys(p, n, field, keys);
    rc = rc ? rc : parse_approvers(p, vg_yaml_get(n, "approvers"), f, s);
    const struct vg_yaml_node *x = vg_yaml_get(n, "timeout");
    snprintf(field, sizeof(field), "%s.approval.timeout", f);
    rc = rc ? rc : x ? get_dur(p, x, field, &s->approval_timeout_ns) : VG_OK;
    snprintf(field, sizeof(field), "%s.approval.default", f);
    if (rc == VG_OK && (x = vg_yaml_get(n, "default"))) {
        if (!vg_yaml_scalar_is(x, "deny") && !vg_yaml_scalar_is(x, "approve")) {
            return perr(p, x, field, "expected deny or approve");
        }
        s->approval_default_approve = vg_yaml_scalar_is(x, "approve");
    }
    snprintf(field, sizeof(field), "%s.approval.message", f);
    rc = rc ? rc : get_str(p, n, "message", field, false, &s->approval_message);
    char e[256];
    if (rc == VG_OK && s->approval_message &&
        vg_tmpl_check(s->approval_message, strlen(s->approval_message), on_path, p, e, sizeof(e)) !=
            VG_OK) {
        rc = perr(p, vg_yaml_get(n, "message"), field, "%s", e);
    }
    return rc;
}

static int parse_action(struct pctx *p, const struct vg_yaml_node *n, const char *f,
                        struct vg_pb_step *s)
{
    char field[200];
    const struct vg_yaml_node *an = vg_yaml_get(n, "action");
    snprintf(field, sizeof(field), "%s.action", f);
    if (an->type != VG_YAML_SCALAR || !(s->action = vg_action_find(an->str))) {
        return perr(p, an, field, "unknown action '%s' (see `vigie playbook actions`)",
                    an->str ? an->str : "?");
    }
    s->action_name = s->action->name;
    const struct vg_yaml_node *wn = vg_yaml_get(n, "with");
    snprintf(field, sizeof(field), "%s.with", f);
    if (wn && wn->type != VG_YAML_MAP && !vg_yaml_is_null(wn)) {
        return perr(p, wn, field, "expected a map of parameters");
    }
    int rc = to_json(p, wn && wn->type == VG_YAML_MAP ? wn : NULL, field, &s->with);
    rc = rc ? rc : check_params(p, wn ? wn : n, f, s);
    return rc ? rc : check_templates(p, wn, field, s->with);
}

static int parse_step_common(struct pctx *p, const struct vg_yaml_node *n, const char *f,
                             struct vg_pb_step *s)
{
    char field[200];
    const struct vg_yaml_node *x;
    int rc = VG_OK;
    s->timeout_ns = VG_PB_DEFAULT_STEP;
    snprintf(field, sizeof(field), "%s.timeout", f);
    if ((x = vg_yaml_get(n, "timeout"))) {
        rc = get_dur(p, x, field, &s->timeout_ns);
    }
    rc = rc ? rc : parse_retry(p, vg_yaml_get(n, "retry"), f, s);
    snprintf(field, sizeof(field), "%s.when", f);
    rc = rc ? rc : get_cond(p, vg_yaml_get(n, "when"), field, &s->when);
    snprintf(field, sizeof(field), "%s.on_failure", f);
    if (rc == VG_OK && (x = vg_yaml_get(n, "on_failure"))) {
        if (!vg_yaml_scalar_is(x, "stop") && !vg_yaml_scalar_is(x, "continue")) {
            return perr(p, x, field, "expected stop or continue");
        }
        s->on_failure_continue = vg_yaml_scalar_is(x, "continue");
    }
    return rc;
}

static int parse_step(struct pctx *p, const struct vg_yaml_node *n, const char *f,
                      struct vg_pb_step *s)
{
    static const char *const keys[] = {"id",   "action",     "with",     "timeout", "retry",
                                       "when", "on_failure", "approval", "name",    NULL};
    if (n->type != VG_YAML_MAP) {
        return perr(p, n, f, "expected a map {id: ..., action: ...}");
    }
    char field[200];
    snprintf(field, sizeof(field), "%s.id", f);
    int rc = check_keys(p, n, f, keys);
    rc = rc ? rc : get_str(p, n, "id", field, true, &s->id);
    if (rc == VG_OK && !valid_id(s->id)) {
        return perr(p, vg_yaml_get(n, "id"), field, "expected letters, digits, _ - . (<= 64)");
    }
    for (size_t i = 0; rc == VG_OK && &p->pb->steps[i] != s; i++) {
        if (strcmp(p->pb->steps[i].id, s->id) == 0) {
            return perr(p, vg_yaml_get(n, "id"), field, "duplicate step id '%s'", s->id);
        }
    }
    s->line = n->line;
    bool has_action = vg_yaml_get(n, "action"), has_appr = vg_yaml_get(n, "approval");
    if (rc == VG_OK && has_action == has_appr) {
        return perr(p, n, f,
                    has_action ? "a step has action or approval, not both"
                               : "missing action (or approval, or parallel)");
    }
    rc = rc ? rc : parse_step_common(p, n, f, s);
    if (rc == VG_OK && has_appr) {
        return parse_approval(p, vg_yaml_get(n, "approval"), f, s);
    }
    return rc ? rc : parse_action(p, n, f, s);
}

static int parse_stage(struct pctx *p, const struct vg_yaml_node *n, size_t i, unsigned stage)
{
    char f[64];
    snprintf(f, sizeof(f), "steps[%zu]", i);
    const struct vg_yaml_node *par = vg_yaml_get(n, "parallel");
    if (!par) {
        if (p->pb->nsteps == VG_PB_MAX_STEPS) {
            return perr(p, n, f, "more than %d steps", VG_PB_MAX_STEPS);
        }
        struct vg_pb_step *s = &p->pb->steps[p->pb->nsteps++];
        s->stage = stage;
        return parse_step(p, n, f, s);
    }
    static const char *const keys[] = {"parallel", "id", "name", NULL};
    int rc = check_keys(p, n, f, keys);
    snprintf(f, sizeof(f), "steps[%zu].parallel", i);
    if (rc == VG_OK && (par->type != VG_YAML_SEQ || par->n == 0)) {
        return perr(p, par, f, "expected a list of steps");
    }
    for (size_t k = 0; rc == VG_OK && k < par->n; k++) {
        snprintf(f, sizeof(f), "steps[%zu].parallel[%zu]", i, k);
        if (p->pb->nsteps == VG_PB_MAX_STEPS) {
            return perr(p, par->items[k], f, "more than %d steps", VG_PB_MAX_STEPS);
        }
        if (par->items[k]->type == VG_YAML_MAP && vg_yaml_get(par->items[k], "parallel")) {
            return perr(p, par->items[k], f, "parallel groups do not nest");
        }
        struct vg_pb_step *s = &p->pb->steps[p->pb->nsteps++];
        s->stage = stage;
        rc = parse_step(p, par->items[k], f, s);
    }
    return rc;
}

static int parse_steps(struct pctx *p, const struct vg_yaml_node *root)
{
    const struct vg_yaml_node *n = vg_yaml_get(root, "steps");
    if (!n) {
        return perr(p, root, "steps", "missing (required)");
    }
    if (n->type != VG_YAML_SEQ || n->n == 0) {
        return perr(p, n, "steps", "expected a list of steps");
    }
    p->pb->steps = vg_arena_calloc(p->pb->arena, VG_PB_MAX_STEPS * sizeof(*p->pb->steps));
    if (!p->pb->steps) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < n->n; i++) {
        if (n->items[i]->type != VG_YAML_MAP) {
            char f[32];
            snprintf(f, sizeof(f), "steps[%zu]", i);
            return perr(p, n->items[i], f, "expected a map {id: ..., action: ...}");
        }
        int rc = parse_stage(p, n->items[i], i, (unsigned)i);
        if (rc != VG_OK) {
            return rc;
        }
        p->nfinished = p->pb->nsteps;
    }
    p->pb->nstages = (unsigned)n->n;
    return VG_OK;
}

/* ---------------------------------------------------------------- the document */

static int parse_header(struct pctx *p, const struct vg_yaml_node *root)
{
    static const char *const keys[] = {"id",      "name",     "description", "version",
                                       "enabled", "triggers", "condition",   "inputs",
                                       "steps",   "timeout",  NULL};
    struct vg_playbook *pb = p->pb;
    int rc = check_keys(p, root, "", keys);
    rc = rc ? rc : get_str(p, root, "id", "id", true, &pb->id);
    if (rc == VG_OK && !valid_id(pb->id)) {
        return perr(p, vg_yaml_get(root, "id"), "id", "expected letters, digits, _ - . (<= 64)");
    }
    rc = rc ? rc : get_str(p, root, "name", "name", false, &pb->name);
    rc = rc ? rc : get_str(p, root, "description", "description", false, &pb->description);
    const struct vg_yaml_node *x;
    pb->version = 1;
    if (rc == VG_OK && (x = vg_yaml_get(root, "version"))) {
        rc = get_int(p, x, "version", 0, INT32_MAX, &pb->version);
    }
    pb->enabled = true;
    if (rc == VG_OK && (x = vg_yaml_get(root, "enabled")) && vg_yaml_bool(x, &pb->enabled)) {
        rc = perr(p, x, "enabled", "expected true or false");
    }
    pb->timeout_ns = VG_PB_DEFAULT_RUN;
    if (rc == VG_OK && (x = vg_yaml_get(root, "timeout"))) {
        rc = get_dur(p, x, "timeout", &pb->timeout_ns);
    }
    x = vg_yaml_get(root, "inputs");
    if (rc == VG_OK && x && x->type != VG_YAML_MAP) {
        return perr(p, x, "inputs", "expected a map of default values");
    }
    return rc ? rc : to_json(p, x, "inputs", &pb->inputs);
}

static int parse_doc(struct pctx *p, const char *text, size_t len)
{
    struct vg_yaml_file *yf = NULL;
    char yerr[256];
    if (vg_yaml_parse(text, len, &yf, yerr, sizeof(yerr)) != VG_OK) {
        const char *l = strstr(yerr, "line ");
        unsigned line = l ? (unsigned)strtoul(l + 5, NULL, 10) : 1;
        snprintf(p->err, p->errsz, "%s:%u: yaml: %s", p->pb->file, line ? line : 1, yerr);
        return VG_EINVAL;
    }
    int rc;
    const struct vg_yaml_node *root = yf->ndocs == 1 ? yf->docs[0] : NULL;
    if (!root || root->type != VG_YAML_MAP) {
        rc = perr(p, root, "playbook", "expected one YAML document, a map (id, triggers, steps)");
        goto out;
    }
    rc = parse_header(p, root);
    rc = rc ? rc : parse_triggers(p, root);
    rc = rc ? rc : get_cond(p, vg_yaml_get(root, "condition"), "condition", &p->pb->condition);
    rc = rc ? rc : parse_steps(p, root);
out:
    vg_yaml_file_destroy(yf);
    return rc;
}

int vg_playbook_parse(const char *file, const char *text, size_t len, struct vg_playbook **out,
                      char *err, size_t errsz)
{
    *out = NULL;
    if (len > VG_PB_MAX_TEXT) {
        snprintf(err, errsz, "%s:1: playbook: larger than %u bytes", file, VG_PB_MAX_TEXT);
        return VG_ELIMIT;
    }
    struct vg_arena *a = vg_arena_create(16384);
    struct vg_playbook *pb = a ? vg_arena_calloc(a, sizeof(*pb)) : NULL;
    struct vg_json_limits lim = {VG_TMPL_MAX_DEPTH + 4, VG_PB_MAX_TEXT * 2};
    struct pctx p = {pb, vg_json_parser_create(&lim), err, errsz, 0, {0}};
    int rc = VG_ENOMEM;
    if (!pb || !p.jp || !(pb->file = vg_arena_strdup(a, file ? file : "playbook")) ||
        !(pb->text = vg_arena_strndup(a, text, len))) {
        goto fail;
    }
    pb->arena = a;
    pb->refs = 1;
    pb->text_len = len;
    snprintf(pb->hash, sizeof(pb->hash), "%016llx", (unsigned long long)vg_hash64(text, len, 0));
    rc = parse_doc(&p, text, len);
    if (rc != VG_OK) {
        goto fail;
    }
    vg_json_parser_destroy(p.jp);
    *out = pb;
    return VG_OK;
fail:
    if (rc == VG_ENOMEM) {
        snprintf(err, errsz, "%s:1: playbook: out of memory", file ? file : "playbook");
    }
    vg_json_parser_destroy(p.jp);
    vg_arena_destroy(a);
    return rc;
}

int vg_playbook_load_file(const char *path, struct vg_playbook **out, char *err, size_t errsz)
{
    char *text = NULL;
    size_t len = 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    *out = NULL;
    if (vg_file_read(path, VG_PB_MAX_TEXT, &text, &len) != VG_OK) {
        snprintf(err, errsz, "%s:1: playbook: cannot read %s", base, path);
        return VG_EIO;
    }
    int rc = vg_playbook_parse(base, text, len, out, err, errsz);
    vg_free(text);
    return rc;
}

void vg_playbook_ref(struct vg_playbook *pb)
{
    __atomic_add_fetch(&pb->refs, 1, __ATOMIC_RELAXED);
}

void vg_playbook_unref(struct vg_playbook *pb)
{
    if (pb && __atomic_sub_fetch(&pb->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        vg_arena_destroy(pb->arena);
    }
}

const char *vg_playbook_id(const struct vg_playbook *pb)
{
    return pb->id;
}

/* ---------------------------------------------------------------- trigger matching */

static bool list_has(const struct vg_json *v, const char *s, bool prefix_dot)
{
    size_t sl = strlen(s);
    for (uint32_t i = 0; v && v->type == VG_JSON_ARRAY && i < v->n; i++) {
        const struct vg_json *it = &v->u.items[i];
        if (it->type != VG_JSON_STRING) {
            continue;
        }
        if (vg_str_ieq_ascii(it->s, it->n, s, sl) ||
            (prefix_dot && it->n > sl && it->s[sl] == '.' && vg_str_ieq_ascii(it->s, sl, s, sl))) {
            return true;
        }
    }
    if (v && v->type == VG_JSON_STRING) {
        return vg_str_ieq_ascii(v->s, v->n, s, sl);
    }
    return false;
}

static int alert_level(const struct vg_json *a)
{
    const struct vg_json *l = vg_tmpl_lookup(a, "level", 5);
    int lv = 0;
    if (l && l->type == VG_JSON_NUMBER && l->is_int) {
        return (int)l->u.i;
    }
    if (l && l->type == VG_JSON_STRING) {
        parse_level(l->s, l->n, &lv);
    }
    return lv;
}

static const struct vg_json *alert_rule(const struct vg_json *a)
{
    const struct vg_json *r = vg_tmpl_lookup(a, "rule.id", 7);
    return r ? r : vg_tmpl_lookup(a, "rule_id", 7);
}

static bool why(struct vg_sbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool why(struct vg_sbuf *w, const char *fmt, ...)
{
    if (w) {
        va_list ap;
        va_start(ap, fmt);
        vg_sbuf_vprintf(w, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool match_alert(const struct vg_pb_trigger *t, const struct vg_json *a, struct vg_sbuf *w)
{
    if (!a || a->type != VG_JSON_OBJECT) {
        return why(w, "the context has no alert object");
    }
    const struct vg_json *r = alert_rule(a);
    if (t->rule &&
        (!r || r->type != VG_JSON_STRING || !vg_glob_match(t->rule, strlen(t->rule), r->s, r->n))) {
        return why(w, "rule '%.*s' does not match '%s'", r ? (int)VG_MIN(r->n, 100) : 0,
                   r && r->s ? r->s : "", t->rule);
    }
    if (t->tag && !list_has(vg_tmpl_lookup(a, "tags", 4), t->tag, false)) {
        return why(w, "tag %s not among the alert's tags", t->tag);
    }
    const struct vg_json *te = vg_tmpl_lookup(a, "threat.technique.id", 19);
    te = te ? te : vg_tmpl_lookup(a, "technique", 9);
    if (t->technique && !list_has(te, t->technique, true)) {
        return why(w, "technique %s not among the alert's techniques", t->technique);
    }
    int lv = alert_level(a);
    if (t->min_level && lv < t->min_level) {
        return why(w, "level %s is below %s", level_names[lv >= 0 && lv <= 5 ? lv : 0],
                   level_names[t->min_level]);
    }
    return true;
}

bool vg_playbook_trigger_match(const struct vg_pb_trigger *t, const char *kind,
                               const struct vg_json *ctx, struct vg_sbuf *w)
{
    static const char *const kinds[] = {"", "alert", "incident", "manual"};
    if (strcmp(kinds[t->on], kind) != 0) {
        return why(w, "fires on %s, not on %s", kinds[t->on], kind);
    }
    if (t->on == VG_PB_ON_ALERT) {
        return match_alert(t, vg_json_get(ctx, "alert"), w);
    }
    if (t->on == VG_PB_ON_INCIDENT && t->min_risk) {
        const struct vg_json *r = vg_tmpl_lookup(ctx, "incident.risk", 13);
        double d = 0;
        if (!r || r->type != VG_JSON_NUMBER ||
            (d = r->is_int ? (double)r->u.i : r->u.d) < (double)t->min_risk) {
            return why(w, "incident risk %g is below %lld", d, (long long)t->min_risk);
        }
    }
    return true;
}

void vg_playbook_triggers_json(const struct vg_playbook *pb, struct vg_sbuf *out)
{
    static const char *const kinds[] = {"", "alert", "incident", "manual"};
    vg_sbuf_addc(out, '[');
    for (size_t i = 0; i < pb->ntriggers; i++) {
        const struct vg_pb_trigger *t = &pb->triggers[i];
        vg_sbuf_printf(out, "%s{\"on\":\"%s\"", i ? "," : "", kinds[t->on]);
        const char *names[] = {"rule", "tag", "technique"};
        const char *vals[] = {t->rule, t->tag, t->technique};
        for (size_t k = 0; k < 3; k++) {
            if (vals[k]) {
                vg_sbuf_printf(out, ",\"%s\":", names[k]);
                vg_sbuf_add_json_str(out, vals[k], strlen(vals[k]));
            }
        }
        if (t->min_level) {
            vg_sbuf_printf(out, ",\"level\":\">=%s\"", level_names[t->min_level]);
        }
        if (t->min_risk) {
            vg_sbuf_printf(out, ",\"min_risk\":%lld", (long long)t->min_risk);
        }
        vg_sbuf_addc(out, '}');
    }
    vg_sbuf_addc(out, ']');
}
