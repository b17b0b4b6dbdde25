/*
 * decode_winjson.c — Windows events rendered as JSON in the evtx_dump layout
 * ({"Event": {"System": {...}, "EventData": {...}}}) → the Windows field names documented in
 * decode.h, identical to what the EVTX reader produces, so a rule matches both renderings.
 */
#include "decode/decode_int.h"

#include <string.h>

size_t vg_winevt_attr_name(char *buf, size_t size, const char *elem, size_t el, const char *attr,
                           size_t al)
{
    if (el + al + 2 > size) {
        return 0;
    }
    memcpy(buf, elem, el);
    buf[el] = '_';
    memcpy(buf + el + 1, attr, al);
    buf[el + 1 + al] = '\0';
    return el + 1 + al;
}

size_t vg_winevt_data_name(char *buf, size_t size, const char *name, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        if (name[i] != ' ') {
            buf[o++] = name[i];
        }
    }
    buf[o] = '\0';
    return o;
}

static bool key_is(const struct vg_json *k, const char *s)
{
    size_t n = strlen(s);
    return k->n == n && memcmp(k->s, s, n) == 0;
}

static int add_named(struct vg_event *ev, const char *name, size_t nl, const struct vg_json *v)
{
    char clean[256];
    if (memchr(name, ' ', nl)) {
        nl = vg_winevt_data_name(clean, sizeof(clean), name, nl);
        name = clean;
    }
    uint32_t id = vg_field_intern(name, nl);
    if (id == VG_FIELD_NONE) {
        return VG_OK;
    }
    if (v->type == VG_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->n; i++) {
            int rc = vg_event_add_json(ev, id, &v->u.items[i]);
            if (rc != VG_OK) {
                return rc;
            }
        }
        return VG_OK;
    }
    return vg_event_add_json(ev, id, v);
}

/* System: scalars by name; objects give <elem>_<attr> for #attributes and <elem> for #text. */
static int do_system(struct vg_event *ev, const struct vg_json *sys)
{
    char name[256];
    for (uint32_t k = 0; k < sys->n; k++) {
        const struct vg_json *key = &sys->u.items[2 * k], *val = &sys->u.items[2 * k + 1];
        int rc = VG_OK;
        if (val->type != VG_JSON_OBJECT) {
            rc = add_named(ev, key->s, key->n, val);
        } else {
            for (uint32_t j = 0; j < val->n && rc == VG_OK; j++) {
                const struct vg_json *sk = &val->u.items[2 * j], *sv = &val->u.items[2 * j + 1];
                if (key_is(sk, "#text")) {
                    rc = add_named(ev, key->s, key->n, sv);
                } else if (key_is(sk, "#attributes") && sv->type == VG_JSON_OBJECT) {
                    for (uint32_t a = 0; a < sv->n && rc == VG_OK; a++) {
                        const struct vg_json *ak = &sv->u.items[2 * a];
                        size_t nl =
                            vg_winevt_attr_name(name, sizeof(name), key->s, key->n, ak->s, ak->n);
                        if (nl) {
                            rc = add_named(ev, name, nl, &sv->u.items[2 * a + 1]);
                        }
                    }
                }
            }
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    if (ev->ts == VG_TIME_NONE) {
        size_t tl;
        const char *t = vg_event_get_str(ev, "TimeCreated_SystemTime", &tl);
        vg_time_t ts;
        if (t && vg_dec_time_parse(t, tl, &ts) == VG_OK) {
            ev->ts = ts;
        }
    }
    return VG_OK;
}

/* EventData: named values; "#attributes" ignored; unnamed values under "Data"/"#text". */
static int do_eventdata(struct vg_event *ev, const struct vg_json *ed)
{
    if (ed->type != VG_JSON_OBJECT) {
        return ed->type == VG_JSON_NULL ? VG_OK : add_named(ev, "Data", 4, ed);
    }
    for (uint32_t k = 0; k < ed->n; k++) {
        const struct vg_json *key = &ed->u.items[2 * k], *val = &ed->u.items[2 * k + 1];
        int rc = VG_OK;
        if (key_is(key, "#attributes")) {
            continue;
        }
        if (key_is(key, "Data") && val->type == VG_JSON_OBJECT) {
            const struct vg_json *t = vg_json_get(val, "#text");
            rc = t ? add_named(ev, "Data", 4, t) : VG_OK;
        } else if (key_is(key, "#text")) {
            rc = add_named(ev, "Data", 4, val);
        } else if (val->type == VG_JSON_OBJECT) {
            const struct vg_json *t = vg_json_get(val, "#text");
            rc = t ? add_named(ev, key->s, key->n, t) : VG_OK;
        } else {
            rc = add_named(ev, key->s, key->n, val);
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

/* UserData: leaf element names (attributes skipped), recursively. */
static int do_userdata(struct vg_event *ev, const struct vg_json *v, int depth)
{
    if (v->type != VG_JSON_OBJECT || depth > 16) {
        return VG_OK;
    }
    for (uint32_t k = 0; k < v->n; k++) {
        const struct vg_json *key = &v->u.items[2 * k], *val = &v->u.items[2 * k + 1];
        int rc;
        if (key_is(key, "#attributes")) {
            continue;
        }
        if (val->type == VG_JSON_OBJECT) {
            const struct vg_json *t = vg_json_get(val, "#text");
            rc = t ? add_named(ev, key->s, key->n, t) : do_userdata(ev, val, depth + 1);
        } else {
            rc = add_named(ev, key->s, key->n, val);
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}

int vg_decode_winjson(struct vg_event *ev, const struct vg_json *doc)
{
    const struct vg_json *event = vg_json_get(doc, "Event");
    const struct vg_json *sys = vg_json_get(event, "System");
    if (!sys || sys->type != VG_JSON_OBJECT) {
        return VG_DECLINED;
    }
    ev->kind = VG_EK_WINDOWS;
    for (uint32_t k = 0; k < event->n; k++) {
        const struct vg_json *key = &event->u.items[2 * k], *val = &event->u.items[2 * k + 1];
        int rc = VG_OK;
        if (key_is(key, "System")) {
            rc = do_system(ev, val);
        } else if (key_is(key, "EventData")) {
            rc = do_eventdata(ev, val);
        } else if (key_is(key, "UserData")) {
            rc = do_userdata(ev, val, 0);
        } else if (!key_is(key, "#attributes")) {
            char prefix[128];
            size_t pl = VG_MIN(key->n, sizeof(prefix) - 1);
            memcpy(prefix, key->s, pl);
            prefix[pl] = '\0';
            rc = vg_event_from_json(ev, val, prefix);
        }
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_OK;
}
