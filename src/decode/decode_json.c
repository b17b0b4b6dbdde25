/*
 * decode_json.c — JSON documents → events. Windows renderings get Windows field names
 * (decode_winjson.c); any other document is flattened with dotted keys and its timestamp is
 * taken from the first of the usual timestamp keys that parses. Events of vigie-agent are of
 * the Linux kind (the mapping gives them Sigma's process_creation, file_event and
 * network_connection logsources).
 */
#include "decode/decode_int.h"

static const char *const ts_keys[] = {
    "@timestamp", "timestamp", "time",      "eventTime",       "EventTime",        "TimeCreated",
    "ts",         "date",      "published", "createdDateTime", "activityDateTime", "_time",
};

enum vg_event_kind vg_dec_json_kind(const struct vg_json *doc)
{
    return vg_json_str_is(vg_json_get(doc, "event.module"), "vigie-agent") ? VG_EK_LINUX
                                                                           : VG_EK_GENERIC;
}

int vg_decode_json(struct vg_event *ev, const struct vg_json *doc)
{
    int rc = vg_decode_winjson(ev, doc);
    if (rc != VG_DECLINED) {
        return rc;
    }
    /* vigie-agent (Linux only) sends ECS events: Sigma's linux logsources apply to them */
    ev->kind = vg_json_str_is(vg_json_get(doc, "event.module"), "vigie-agent") ? VG_EK_LINUX
                                                                               : VG_EK_GENERIC;
    rc = vg_event_from_json(ev, doc, NULL);
    if (rc != VG_OK) {
        return rc;
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(ts_keys) && ev->ts == VG_TIME_NONE; i++) {
        const struct vg_json *t = vg_json_get(doc, ts_keys[i]);
        vg_time_t ts;
        if (t && t->type == VG_JSON_STRING && vg_dec_time_parse(t->s, t->n, &ts) == VG_OK) {
            ev->ts = ts;
        } else if (t && t->type == VG_JSON_NUMBER) {
            double d = t->is_int ? (double)t->u.i : t->u.d;
            /* epoch seconds, milliseconds, microseconds or nanoseconds by magnitude; a number
             * whose nanoseconds do not fit int64 is no time */
            double ns = d > 1e17 ? d : d > 1e14 ? d * 1e3 : d > 1e11 ? d * 1e6 : d * 1e9;
            if (d > 0 && ns < 9.2e18) {
                ev->ts = (vg_time_t)ns;
            }
        }
    }
    return VG_OK;
}
