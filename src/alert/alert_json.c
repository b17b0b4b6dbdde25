/*
 * alert_json.c — incidents as objects and as JSON: entity/technique sets, the derived title,
 * and the JSON texts the hooks and the REST API hand out.
 */
#include "alert/alert_int.h"

#include <inttypes.h>
#include <string.h>

void tx_json_str(struct vg_sbuf *b, const char *s)
{
    if (!s) {
        vg_sbuf_adds(b, "null");
        return;
    }
    vg_sbuf_add_json_str(b, s, strlen(s));
}

void tx_json_time(struct vg_sbuf *b, const char *key, vg_time_t t, bool comma)
{
    char buf[40];
    vg_sbuf_printf(b, "%s\"%s\":", comma ? "," : "", key);
    if (!t || t == VG_TIME_NONE) {
        vg_sbuf_adds(b, "null");
        return;
    }
    vg_time_format(t, buf, sizeof(buf));
    vg_sbuf_printf(b, "\"%s\"", buf);
}

void tx_fp_hex(uint64_t fp, char out[17])
{
    snprintf(out, 17, "%016" PRIx64, fp);
}

/* ---------------------------------------------------------------- incident sets */

void tx_incident_free(struct tx_incident *inc)
{
    if (!inc) {
        return;
    }
    for (size_t i = 0; i < inc->nents; i++) {
        vg_free(inc->ents[i].value);
    }
    vg_free(inc->ents);
    vg_free(inc->chg);
    vg_free(inc->sets_json[0]);
    vg_free(inc->sets_json[1]);
    tx_map_fini(&inc->ent_set);
    vg_strlist_free(&inc->techniques);
    vg_free(inc->links);
    vg_free(inc->tenant);
    vg_free(inc->assignee);
    vg_free(inc->summary);
    vg_free(inc->reason);
    vg_free(inc->reason_detail);
    vg_free(inc->trig_value);
    vg_free(inc);
}

static uint64_t ient_key(int type, const char *value)
{
    return vg_hash64(value, strlen(value), 0x1e47 + (uint64_t)type);
}

int tx_incident_note(struct tx_incident *inc, int type, const char *value, int flags)
{
    if (vg_grow(&inc->chg, &inc->cchg, inc->nchg + 1, sizeof(*inc->chg)) != VG_OK) {
        return VG_ENOMEM;
    }
    inc->chg[inc->nchg++] = (struct tx_ichange){value, (uint8_t)type, (uint8_t)flags};
    return VG_OK;
}

int tx_incident_add_entity(struct tx_incident *inc, int type, const char *value, int roles)
{
    uint64_t key = ient_key(type, value);
    uintptr_t at = (uintptr_t)tx_map_get(&inc->ent_set, key);
    if (at && inc->ents[at - 1].type == type && !strcmp(inc->ents[at - 1].value, value)) {
        struct tx_ient *e = &inc->ents[at - 1];
        if ((e->roles | roles) == e->roles) {
            return VG_OK;
        }
        e->roles |= (uint8_t)roles;
        return tx_incident_note(inc, type, e->value, e->roles);
    }
    if (at || inc->nents >= 1000) { /* a 64-bit collision, or a noisy shared entity */
        return VG_OK;
    }
    if (vg_grow(&inc->ents, &inc->cents, inc->nents + 1, sizeof(*inc->ents)) != VG_OK) {
        return VG_ENOMEM;
    }
    struct tx_ient *e = &inc->ents[inc->nents];
    if (!(e->value = vg_strdup(value))) {
        return VG_ENOMEM;
    }
    if (tx_map_put(&inc->ent_set, key, (void *)(uintptr_t)(inc->nents + 1)) != VG_OK) {
        vg_free(e->value);
        return VG_ENOMEM;
    }
    e->type = (uint8_t)type;
    e->roles = (uint8_t)roles;
    inc->nents++;
    return tx_incident_note(inc, type, e->value, roles);
}

int tx_entity_own(struct tx_incident *inc, struct tx_entity *e)
{
    if (e->incident_id == inc->id) {
        return VG_OK;
    }
    e->incident_id = inc->id;
    uintptr_t at = (uintptr_t)tx_map_get(&inc->ent_set, ient_key(e->type, e->value));
    if (at && inc->ents[at - 1].type == e->type && !strcmp(inc->ents[at - 1].value, e->value)) {
        return tx_incident_note(inc, e->type, inc->ents[at - 1].value,
                                inc->ents[at - 1].roles | TX_OWN);
    }
    return tx_incident_note(inc, e->type, e->value, TX_OWN | TX_UNLISTED);
}

int tx_incident_add_technique(struct tx_incident *inc, const char *t, size_t n)
{
    for (size_t i = 0; i < inc->techniques.n; i++) {
        if (vg_str_eq(inc->techniques.v[i], strlen(inc->techniques.v[i]), t, n)) {
            return VG_OK;
        }
    }
    if (inc->techniques.n >= 200) {
        return VG_OK;
    }
    char *s = vg_strndup(t, n);
    int rc = s ? vg_strlist_add(&inc->techniques, s) : VG_ENOMEM;
    vg_free(inc->sets_json[0]);
    inc->sets_json[0] = NULL;
    vg_free(s);
    return rc;
}

/* ---------------------------------------------------------------- title and JSON */

void tx_incident_title(const struct tx_incident *inc, struct vg_sbuf *out)
{
    vg_sbuf_printf(out, "Risk %.0f on %s %s", inc->risk, tx_etype_name(inc->trig_type),
                   inc->trig_value ? inc->trig_value : "");
    const char *sep = ": ";
    for (int i = 0; i < TX_NTACTICS; i++) {
        if (inc->tactics & (1u << i)) {
            vg_sbuf_adds(out, sep);
            vg_sbuf_adds(out, tx_tactic_title(i));
            sep = ", ";
        }
    }
}

static void roles_json(struct vg_sbuf *b, int roles)
{
    static const char *const names[] = {"host", "user", "source", "destination", "process"};
    const char *sep = "";
    vg_sbuf_addc(b, '[');
    for (int i = 0; i < 5; i++) {
        if (roles & (1 << i)) {
            vg_sbuf_printf(b, "%s\"%s\"", sep, names[i]);
            sep = ",";
        }
    }
    vg_sbuf_addc(b, ']');
}

static void entities_json(const struct tx_incident *inc, struct vg_sbuf *b)
{
    vg_sbuf_addc(b, '[');
    for (size_t i = 0; i < inc->nents; i++) {
        vg_sbuf_printf(b, "%s{\"type\":\"%s\",\"value\":", i ? "," : "",
                       tx_etype_name(inc->ents[i].type));
        tx_json_str(b, inc->ents[i].value);
        vg_sbuf_adds(b, ",\"roles\":");
        roles_json(b, inc->ents[i].roles);
        vg_sbuf_addc(b, '}');
    }
    vg_sbuf_addc(b, ']');
}

static void lists_json(const struct tx_incident *inc, struct vg_sbuf *b)
{
    const char *sep = "";
    vg_sbuf_adds(b, ",\"tactics\":[");
    for (int i = 0; i < TX_NTACTICS; i++) {
        if (inc->tactics & (1u << i)) {
            vg_sbuf_printf(b, "%s\"%s\"", sep, tx_tactic_name(i));
            sep = ",";
        }
    }
    vg_sbuf_adds(b, "],\"techniques\":[");
    for (size_t i = 0; i < inc->techniques.n; i++) {
        vg_sbuf_adds(b, i ? "," : "");
        tx_json_str(b, inc->techniques.v[i]);
    }
    vg_sbuf_adds(b, "],\"linked_incidents\":[");
    for (size_t i = 0; i < inc->nlinks; i++) {
        vg_sbuf_printf(b, "%s%" PRId64, i ? "," : "", inc->links[i]);
    }
    vg_sbuf_addc(b, ']');
}

void tx_incident_json(const struct tx_incident *inc, struct vg_sbuf *b)
{
    static const char *const levels[] = {"unknown", "informational", "low",
                                         "medium",  "high",          "critical"};
    vg_sbuf_printf(b, "{\"id\":%" PRId64 ",\"tenant\":", inc->id);
    tx_json_str(b, inc->tenant);
    struct vg_sbuf title = VG_SBUF_INIT;
    tx_incident_title(inc, &title);
    vg_sbuf_adds(b, ",\"title\":");
    tx_json_str(b, title.p ? title.p : "");
    vg_sbuf_fini(&title);
    vg_sbuf_printf(b,
                   ",\"status\":\"%s\",\"severity\":%d,\"severity_name\":\"%s\",\"risk\":%.1f,"
                   "\"alert_count\":%" PRId64 ",\"reason\":",
                   tx_status_name(inc->status), inc->severity,
                   levels[inc->severity >= 0 && inc->severity <= 5 ? inc->severity : 0], inc->risk,
                   inc->alert_count);
    tx_json_str(b, inc->reason);
    vg_sbuf_adds(b, ",\"reason_detail\":");
    tx_json_str(b, inc->reason_detail);
    vg_sbuf_adds(b, ",\"assignee\":");
    tx_json_str(b, inc->assignee);
    vg_sbuf_adds(b, ",\"verdict\":");
    tx_json_str(b, inc->verdict ? vg_triage_verdict_name(inc->verdict) : NULL);
    vg_sbuf_adds(b, ",\"summary\":");
    tx_json_str(b, inc->summary);
    tx_json_time(b, "first_seen", inc->first_seen, true);
    tx_json_time(b, "last_seen", inc->last_seen, true);
    tx_json_time(b, "created", inc->created, true);
    tx_json_time(b, "updated", inc->updated, true);
    vg_sbuf_adds(b, ",\"entities\":");
    entities_json(inc, b);
    lists_json(inc, b);
    vg_sbuf_addc(b, '}');
}

/* {"alert":{...},"triage":{"fingerprint":..,"incident_id":..,"risk":..}} */
void tx_alert_out_json(const struct vg_store_alert *a, const struct tx_decision *d,
                       struct vg_sbuf *out)
{
    char fp[17];
    tx_fp_hex(d->fp, fp);
    vg_sbuf_adds(out, "{\"alert\":");
    vg_store_alert_write_json(a, out);
    vg_sbuf_printf(out, ",\"triage\":{\"fingerprint\":\"%s\",\"incident_id\":", fp);
    if (d->incident_id) {
        vg_sbuf_printf(out, "%" PRId64, d->incident_id);
    } else {
        vg_sbuf_adds(out, "null");
    }
    vg_sbuf_printf(out, ",\"risk\":%.1f}}", d->risk);
}
