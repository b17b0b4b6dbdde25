/*
 * hunt_output.c — detection records for `vigie hunt`: JSON lines (ECS-style nesting), CSV,
 * and an aligned table for people; plus the ATT&CK helpers shared with the summary.
 */
#include "hunt/hunt_int.h"

#include <string.h>

/* "attack.t1059.001" → "T1059.001" into buf; false if the tag is not a technique. */
static bool technique_id(const char *tag, char *buf, size_t size)
{
    if (!vg_sigma_tag_is_technique(tag)) {
        return false;
    }
    snprintf(buf, size, "T%s", tag + 8);
    return true;
}

static void add_ts(struct vg_sbuf *o, vg_time_t ts)
{
    char t[40];
    if (ts == VG_TIME_NONE) {
        vg_sbuf_add(o, "null", 4);
        return;
    }
    size_t n = vg_time_format(ts, t, sizeof(t));
    vg_sbuf_add_json_str(o, t, n);
}

static void add_str_field(struct vg_sbuf *o, const char *key, const char *v, bool comma)
{
    if (!v) {
        return;
    }
    if (comma) {
        vg_sbuf_addc(o, ',');
    }
    vg_sbuf_add_json_str(o, key, strlen(key));
    vg_sbuf_addc(o, ':');
    vg_sbuf_add_json_str(o, v, strlen(v));
}

static void add_rule_json(struct vg_sbuf *o, const struct vg_sigma_rule *d, const char *level)
{
    vg_sbuf_adds(o, "\"rule\":{");
    add_str_field(o, "id", d->id ? d->id : "", false);
    add_str_field(o, "title", d->title ? d->title : "", true);
    add_str_field(o, "level", level, true);
    add_str_field(o, "status", d->rule_status, true);
    add_str_field(o, "author", d->author, true);
    add_str_field(o, "path", d->path, true);
    vg_sbuf_addc(o, '}');
    vg_sbuf_adds(o, ",\"tags\":[");
    for (uint32_t i = 0; i < d->ntags; i++) {
        if (i) {
            vg_sbuf_addc(o, ',');
        }
        vg_sbuf_add_json_str(o, d->tags[i], strlen(d->tags[i]));
    }
    vg_sbuf_adds(o, "],\"threat\":{\"tactics\":[");
    bool first = true;
    for (uint32_t i = 0; i < d->ntags; i++) {
        const char *t;
        if (vg_sigma_tag_is_tactic(d->tags[i], &t)) {
            if (!first) {
                vg_sbuf_addc(o, ',');
            }
            first = false;
            vg_sbuf_add_json_str(o, t, strlen(t));
        }
    }
    vg_sbuf_adds(o, "],\"techniques\":[");
    first = true;
    for (uint32_t i = 0; i < d->ntags; i++) {
        char tid[64];
        if (technique_id(d->tags[i], tid, sizeof(tid))) {
            if (!first) {
                vg_sbuf_addc(o, ',');
            }
            first = false;
            vg_sbuf_add_json_str(o, tid, strlen(tid));
        }
    }
    vg_sbuf_adds(o, "]}");
}

/* "Field=value" pairs of the fields the rule looks at (what the analyst wants to see). */
static void add_details(struct vg_sbuf *o, const struct vg_ruleset *rs,
                        const struct vg_detect_match *m, struct vg_event *ev, size_t maxlen)
{
    const struct vg_sigma_detection *det = &m->doc->det;
    size_t start = o->len;
    for (uint32_t s = 0; s < det->nslots && o->len - start < maxlen; s++) {
        uint32_t id = vg_ruleset_field_id(rs, m->variant, det->slot_names[s]);
        struct vg_field *f = id == VG_FIELD_NONE ? NULL : vg_event_get(ev, id);
        if (!f || f->v.type == VG_V_NULL) {
            continue;
        }
        if (o->len > start) {
            vg_sbuf_adds(o, " | ");
        }
        vg_sbuf_printf(o, "%s=", det->slot_names[s]);
        vg_sbuf_add(o, f->v.str, VG_MIN(f->v.len, 400));
    }
    if (o->len == start && ev->raw && ev->raw_len && ev->kind != VG_EK_WINDOWS) {
        vg_sbuf_add(o, ev->raw, VG_MIN(ev->raw_len, 400));
    }
    /* details go into one line/cell */
    for (size_t i = start; i < o->len; i++) {
        if (o->p[i] == '\n' || o->p[i] == '\r' || o->p[i] == '\t') {
            o->p[i] = ' ';
        }
    }
}

static const char *computer_of(struct vg_event *ev, size_t *n)
{
    static const char *const names[] = {"Computer", "hostname", "host.name", "ComputerName",
                                        "Hostname"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        const char *s = vg_event_get_str(ev, names[i], n);
        if (s) {
            return s;
        }
    }
    *n = 1;
    return "-";
}

static void csv_cell(struct vg_sbuf *o, const char *s, size_t n)
{
    vg_sbuf_addc(o, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            vg_sbuf_addc(o, '"');
        }
        vg_sbuf_addc(o, s[i] == '\n' || s[i] == '\r' ? ' ' : s[i]);
    }
    vg_sbuf_addc(o, '"');
}

/* timestamp, level, rule id and title: the first cells of every CSV row */
static void csv_rule_cells(struct vg_sbuf *o, const char *ts, const char *level,
                           const struct vg_sigma_rule *d)
{
    csv_cell(o, ts, strlen(ts));
    vg_sbuf_addc(o, ',');
    csv_cell(o, level, strlen(level));
    vg_sbuf_addc(o, ',');
    csv_cell(o, d->id ? d->id : "", d->id ? strlen(d->id) : 0);
    vg_sbuf_addc(o, ',');
    csv_cell(o, d->title, strlen(d->title));
}

void hunt_csv_header(struct vg_sbuf *o)
{
    vg_sbuf_adds(o, "timestamp,level,rule_id,rule_title,tactics,techniques,computer,file,record,"
                    "details\n");
}

static void tactic_list(struct vg_sbuf *o, const struct vg_sigma_rule *d, bool techniques)
{
    size_t start = o->len;
    for (uint32_t i = 0; i < d->ntags; i++) {
        const char *t;
        char tid[64];
        if (!techniques && vg_sigma_tag_is_tactic(d->tags[i], &t)) {
            vg_sbuf_printf(o, "%s%s", o->len > start ? " " : "", t);
        } else if (techniques && technique_id(d->tags[i], tid, sizeof(tid))) {
            vg_sbuf_printf(o, "%s%s", o->len > start ? " " : "", tid);
        }
    }
}

void hunt_format_detection(struct vg_sbuf *o, int format, const struct vg_ruleset *rs,
                           const struct vg_detect_match *m, struct vg_event *ev, const char *path)
{
    const struct vg_sigma_rule *d = m->doc;
    const char *level = d->level ? vg_sigma_level_name(d->level) : "informational";
    char ts[40] = "-";
    if (ev->ts != VG_TIME_NONE) {
        vg_time_format(ev->ts, ts, sizeof(ts));
    }
    size_t cn;
    const char *comp = computer_of(ev, &cn);
    if (format == VG_HUNT_JSONL) {
        vg_sbuf_adds(o, "{\"@timestamp\":");
        add_ts(o, ev->ts);
        vg_sbuf_addc(o, ',');
        add_rule_json(o, d, level);
        vg_sbuf_adds(o, ",\"log\":{\"file\":{\"path\":");
        vg_sbuf_add_json_str(o, path, strlen(path));
        vg_sbuf_printf(o, "},\"record\":%llu}", (unsigned long long)ev->record);
        vg_sbuf_adds(o, ",\"event\":");
        vg_event_write_json(ev, o);
        vg_sbuf_adds(o, "}\n");
        return;
    }
    struct vg_sbuf tmp = VG_SBUF_INIT;
    if (format == VG_HUNT_CSV) {
        csv_rule_cells(o, ts, level, d);
        vg_sbuf_addc(o, ',');
        tactic_list(&tmp, d, false);
        csv_cell(o, tmp.p ? tmp.p : "", tmp.len);
        vg_sbuf_addc(o, ',');
        vg_sbuf_reset(&tmp);
        tactic_list(&tmp, d, true);
        csv_cell(o, tmp.p ? tmp.p : "", tmp.len);
        vg_sbuf_addc(o, ',');
        csv_cell(o, comp, cn);
        vg_sbuf_addc(o, ',');
        csv_cell(o, path, strlen(path));
        vg_sbuf_printf(o, ",%llu,", (unsigned long long)ev->record);
        vg_sbuf_reset(&tmp);
        add_details(&tmp, rs, m, ev, 2000);
        csv_cell(o, tmp.p ? tmp.p : "", tmp.len);
        vg_sbuf_addc(o, '\n');
    } else {
        ts[19] = ts[0] == '-' ? ts[19] : '\0';
        if (ts[10] == 'T') {
            ts[10] = ' ';
        }
        vg_sbuf_printf(o, "%-19s  %-13s  %s  [%.*s]  ", ts, level, d->title, (int)cn, comp);
        add_details(o, rs, m, ev, 300);
        vg_sbuf_printf(o, "  (%s#%llu)\n", path, (unsigned long long)ev->record);
    }
    vg_sbuf_fini(&tmp);
}

void hunt_format_correlation(struct vg_sbuf *o, int format, const struct vg_corr_alert *a,
                             const char *path)
{
    const struct vg_sigma_rule *d = a->doc;
    const char *level = d->level ? vg_sigma_level_name(d->level) : "informational";
    char ts[40], first[40];
    vg_time_format(a->ts, ts, sizeof(ts));
    vg_time_format(a->first_ts, first, sizeof(first));
    if (format == VG_HUNT_JSONL) {
        vg_sbuf_adds(o, "{\"@timestamp\":");
        add_ts(o, a->ts);
        vg_sbuf_addc(o, ',');
        add_rule_json(o, d, level);
        vg_sbuf_adds(o, ",\"correlation\":{");
        add_str_field(o, "type", vg_corr_type_name(d->corr.type), false);
        vg_sbuf_adds(o, ",\"group\":{");
        for (uint32_t i = 0; i < a->ngroup; i++) {
            add_str_field(o, a->group_names[i], a->group_values[i], i > 0);
        }
        vg_sbuf_printf(o, "},\"value\":%.17g,\"events\":%u,\"first\":", a->value, a->nevents);
        add_ts(o, a->first_ts);
        vg_sbuf_adds(o, "},\"log\":{\"file\":{\"path\":");
        vg_sbuf_add_json_str(o, path ? path : "", path ? strlen(path) : 0);
        vg_sbuf_adds(o, "}}}\n");
        return;
    }
    struct vg_sbuf g = VG_SBUF_INIT;
    for (uint32_t i = 0; i < a->ngroup; i++) {
        vg_sbuf_printf(&g, "%s%s=%s", i ? " " : "", a->group_names[i], a->group_values[i]);
    }
    if (format == VG_HUNT_CSV) {
        csv_rule_cells(o, ts, level, d);
        vg_sbuf_adds(o, ",\"\",\"\",\"\",");
        csv_cell(o, path ? path : "", path ? strlen(path) : 0);
        vg_sbuf_adds(o, ",,");
        struct vg_sbuf det = VG_SBUF_INIT;
        vg_sbuf_printf(&det, "%s %s value=%g events=%u since %s", vg_corr_type_name(d->corr.type),
                       g.p ? g.p : "", a->value, a->nevents, first);
        csv_cell(o, det.p ? det.p : "", det.len);
        vg_sbuf_fini(&det);
        vg_sbuf_addc(o, '\n');
    } else {
        ts[19] = '\0';
        ts[10] = ' ';
        vg_sbuf_printf(o, "%-19s  %-13s  %s  [correlation %s]  %s  value=%g events=%u since %s\n",
                       ts, level, d->title, vg_corr_type_name(d->corr.type), g.p ? g.p : "",
                       a->value, a->nevents, first);
    }
    vg_sbuf_fini(&g);
}
