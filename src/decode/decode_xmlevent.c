/*
 * decode_xmlevent.c — an event rendered as Windows event XML inside a text line, as Sysmon
 * for Linux writes it to syslog:
 *   <Event><System><Provider Name="Linux-Sysmon" Guid="{...}"/><EventID>1</EventID>...
 *   <Computer>host</Computer>...</System><EventData><Data Name="Image">/usr/bin/id</Data>
 *   ...</EventData></Event>
 * The fields get the same names as EVTX records (decode.h): System children by name, their
 * attributes as <Element>_<Attribute>, EventData by Data Name. Only this flat layout is read;
 * anything else is VG_DECLINED. XML entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) are
 * decoded.
 */
#include "decode/decode_int.h"

#include <string.h>

struct xcur {
    const char *p;
    size_t n, i;
};

static bool starts(const struct xcur *x, const char *lit)
{
    size_t l = strlen(lit);
    return x->n - x->i >= l && memcmp(x->p + x->i, lit, l) == 0;
}

/* Decode entities of s[0..n) into the event arena. */
static const char *unentity(struct vg_event *ev, const char *s, size_t n, size_t *out)
{
    if (!memchr(s, '&', n)) {
        *out = n;
        return s;
    }
    char *d = vg_arena_alloc(ev->arena, n + 1);
    if (!d) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *semi = s[i] == '&' ? memchr(s + i, ';', VG_MIN(n - i, 12)) : NULL;
        if (!semi) {
            d[o++] = s[i];
            continue;
        }
        size_t el = (size_t)(semi - (s + i)) + 1;
        static const struct {
            const char *e;
            char c;
        } ents[] = {
            {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
        bool done = false;
        for (size_t k = 0; k < VG_ARRAY_LEN(ents) && !done; k++) {
            if (el == strlen(ents[k].e) && !memcmp(s + i, ents[k].e, el)) {
                d[o++] = ents[k].c;
                done = true;
            }
        }
        if (!done && el > 3 && s[i + 1] == '#') {
            int64_t cp;
            bool hex = s[i + 2] == 'x' || s[i + 2] == 'X';
            char num[16];
            size_t nl = el - (hex ? 4 : 3);
            if (nl < sizeof(num) - 2) {
                snprintf(num, sizeof(num), "%s%.*s", hex ? "0x" : "", (int)nl,
                         s + i + (hex ? 3 : 2));
                if (vg_parse_i64(num, strlen(num), &cp) == VG_OK && cp > 0 && cp < 0x110000) {
                    o += vg_utf8_put(d + o, (uint32_t)cp);
                    done = true;
                }
            }
        }
        if (!done) {
            d[o++] = s[i];
            continue;
        }
        i += el - 1;
    }
    d[o] = '\0';
    *out = o;
    return d;
}

static int add_text(struct vg_event *ev, const char *name, size_t nl, const char *v, size_t vl)
{
    size_t l;
    const char *t = unentity(ev, v, vl, &l);
    if (!t) {
        return VG_ENOMEM;
    }
    uint32_t id = vg_field_intern(name, nl);
    return id == VG_FIELD_NONE ? VG_OK : vg_event_add_str(ev, id, t, l);
}

/* Read `Name="value"` attributes until '>' or '/>'; System element attributes are added as
 * <elem>_<attr>, a Data element's Name is returned. */
static int attributes(struct vg_event *ev, struct xcur *x, const char *elem, size_t el, bool data,
                      const char **dname, size_t *dnl, bool *empty)
{
    *empty = false;
    while (x->i < x->n) {
        while (x->i < x->n && x->p[x->i] == ' ') {
            x->i++;
        }
        if (starts(x, "/>")) {
            x->i += 2;
            *empty = true;
            return VG_OK;
        }
        if (starts(x, ">")) {
            x->i++;
            return VG_OK;
        }
        size_t an = x->i;
        while (x->i < x->n && x->p[x->i] != '=' && x->p[x->i] != ' ' && x->p[x->i] != '>') {
            x->i++;
        }
        size_t al = x->i - an;
        if (!starts(x, "=\"") || al == 0) {
            return VG_DECLINED;
        }
        x->i += 2;
        const char *q = memchr(x->p + x->i, '"', x->n - x->i);
        if (!q) {
            return VG_DECLINED;
        }
        const char *v = x->p + x->i;
        size_t vl = (size_t)(q - v);
        x->i += vl + 1;
        if (data) {
            if (al == 4 && !memcmp(x->p + an, "Name", 4)) {
                *dname = v;
                *dnl = vl;
            }
            continue;
        }
        char name[256];
        size_t nl = vg_winevt_attr_name(name, sizeof(name), elem, el, x->p + an, al);
        int rc = nl ? add_text(ev, name, nl, v, vl) : VG_OK;
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_DECLINED;
}

/* <Elem attrs>text</Elem> or <Elem attrs/>, x at '<'. */
static int element(struct vg_event *ev, struct xcur *x, bool data)
{
    size_t s = ++x->i;
    while (x->i < x->n && x->p[x->i] != ' ' && x->p[x->i] != '>' && x->p[x->i] != '/') {
        x->i++;
    }
    const char *elem = x->p + s;
    size_t el = x->i - s;
    const char *dname = NULL;
    size_t dnl = 0;
    bool empty;
    int rc = attributes(ev, x, elem, el, data, &dname, &dnl, &empty);
    if (rc != VG_OK || empty) {
        return rc;
    }
    const char *lt = memchr(x->p + x->i, '<', x->n - x->i);
    if (!lt || lt + 1 >= x->p + x->n || lt[1] != '/') {
        return VG_DECLINED;
    }
    const char *text = x->p + x->i;
    size_t tl = (size_t)(lt - text);
    const char *gt = memchr(lt, '>', (size_t)(x->p + x->n - lt));
    if (!gt) {
        return VG_DECLINED;
    }
    x->i = (size_t)(gt - x->p) + 1;
    if (data) {
        char name[256];
        size_t nl = dname ? vg_winevt_data_name(name, sizeof(name), dname, dnl) : 0;
        return nl ? add_text(ev, name, nl, text, tl) : add_text(ev, "Data", 4, text, tl);
    }
    return add_text(ev, elem, el, text, tl);
}

/* Children of <System> or <EventData> until the closing tag. */
static int section(struct vg_event *ev, struct xcur *x, const char *close, bool data)
{
    while (x->i < x->n) {
        if (starts(x, close)) {
            x->i += strlen(close);
            return VG_OK;
        }
        if (x->p[x->i] != '<') {
            x->i++;
            continue;
        }
        int rc = element(ev, x, data);
        if (rc != VG_OK) {
            return rc;
        }
    }
    return VG_DECLINED;
}

int vg_decode_xml_event(struct vg_event *ev, const char *p, size_t n)
{
    const char *start = memmem(p, n, "<Event>", 7);
    if (!start) {
        start = memmem(p, n, "<Event xmlns", 12);
    }
    if (!start) {
        return VG_DECLINED;
    }
    struct xcur x = {start, (size_t)(p + n - start), 0};
    const char *sys = memmem(x.p, x.n, "<System>", 8);
    if (!sys) {
        return VG_DECLINED;
    }
    x.i = (size_t)(sys - x.p) + 8;
    int rc = section(ev, &x, "</System>", false);
    if (rc != VG_OK) {
        return rc;
    }
    if (starts(&x, "<EventData>")) {
        x.i += 11;
        rc = section(ev, &x, "</EventData>", true);
    }
    if (rc == VG_OK) {
        size_t tl;
        const char *t = vg_event_get_str(ev, "TimeCreated_SystemTime", &tl);
        vg_time_t ts;
        if (t && vg_dec_time_parse(t, tl, &ts) == VG_OK) {
            ev->ts = ts;
        }
    }
    return rc;
}
