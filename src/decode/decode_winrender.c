/*
 * decode_winrender.c — the `windows` decoder: Windows event log records in every rendering a
 * collector ships, all normalised to the field names the EVTX reader produces (decode.h), so
 * one Sigma rule matches them all:
 *
 *   evtx_dump / Chainsaw  {"Event":{"System":{...},"EventData":{...}}}   (decode_winjson.c)
 *   winlogbeat (ECS)      {"winlog":{"channel","event_id","provider_name","computer_name",
 *                          "event_data":{...},"user_data":{...}}, "event":{...}, ...}
 *   NXLog im_msvistalog   {"EventID","Channel","SourceName","Hostname", EventData at top level}
 *   Wazuh eventchannel    {"win":{"system":{"eventID","providerName",...},"eventdata":{...}}}
 *                          (names lowerCamelCase and backslashes doubled by Wazuh: undone)
 *   OSSEC WinEvtLog text  WinEvtLog: Channel: LEVEL(EventID): Provider: User: Domain:
 *                          Computer: message with "  Key: value" pairs
 *   event XML in syslog   Sysmon for Linux (decode_xmlevent.c), kind linux
 *
 * ECS: event.code, event.provider, host.name, and from the usual EventData names user.name,
 * user.domain, source.ip/port, destination.ip/port, process.executable/command_line/pid,
 * process.parent.*, file.path, registry.path, dns.question.name, event.category/outcome.
 */
#include "decode/decode_int.h"

#include <pthread.h>

/* ---------------------------------------------------------------- ECS from native names */

static struct vg_kmap map_win;

static const struct vg_kmap_ent win_keys[] = {
    {"EventID", VG_DF_EVENT_CODE, VG_KM_STR},
    {"Provider_Name", VG_DF_EVENT_PROVIDER, VG_KM_STR},
    {"Computer", VG_DF_HOST_NAME, VG_KM_STR},
    {"TargetUserName", VG_DF_USER_NAME, VG_KM_STR},
    {"TargetDomainName", VG_DF_USER_DOMAIN, VG_KM_STR},
    {"IpAddress", VG_DF_SOURCE_IP, VG_KM_IP},
    {"IpPort", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"SourceIp", VG_DF_SOURCE_IP, VG_KM_IP},
    {"SourcePort", VG_DF_SOURCE_PORT, VG_KM_PORT},
    {"SourceAddress", VG_DF_SOURCE_IP, VG_KM_IP},
    {"DestinationIp", VG_DF_DEST_IP, VG_KM_IP},
    {"DestinationPort", VG_DF_DEST_PORT, VG_KM_PORT},
    {"DestAddress", VG_DF_DEST_IP, VG_KM_IP},
    {"DestPort", VG_DF_DEST_PORT, VG_KM_PORT},
    {"Protocol", -1, VG_KM_PROTO},
    {"Image", VG_DF_PROCESS_EXE, VG_KM_STR},
    {"NewProcessName", VG_DF_PROCESS_EXE, VG_KM_STR},
    {"CommandLine", VG_DF_PROCESS_CMDLINE, VG_KM_STR},
    {"ParentImage", VG_DF_PROCESS_PARENT_EXE, VG_KM_STR},
    {"ParentProcessName", VG_DF_PROCESS_PARENT_EXE, VG_KM_STR},
    {"ParentCommandLine", VG_DF_PROCESS_PARENT_CMDLINE, VG_KM_STR},
    {"ParentProcessId", VG_DF_PROCESS_PPID, VG_KM_PID},
    {"CurrentDirectory", VG_DF_PROCESS_CWD, VG_KM_STR},
    {"TargetFilename", VG_DF_FILE_PATH, VG_KM_STR},
    {"TargetObject", VG_DF_REGISTRY_PATH, VG_KM_STR},
    {"QueryName", VG_DF_DNS_QNAME, VG_KM_STR},
    {"ServiceName", VG_DF_SERVICE_NAME, VG_KM_STR},
    {"TimeCreated_SystemTime", -1, VG_KM_TIME},
};

/* User names when there is no TargetUserName (process events: the subject or Sysmon User). */
static const char *const user_fallbacks[] = {"SubjectUserName", "User", "AccountName"};

static pthread_once_t win_once = PTHREAD_ONCE_INIT;
static int win_rc;
static uint32_t id_target_user, id_event_id, id_provider, id_keywords, id_fallback[3];
static uint32_t id_pid, id_new_pid;

static void win_init_once(void)
{
    map_win.ents = win_keys;
    map_win.n = VG_ARRAY_LEN(win_keys);
    win_rc = vg_kmap_build(&map_win);
    id_target_user = vg_field_intern("TargetUserName", 14);
    id_event_id = vg_field_intern("EventID", 7);
    id_provider = vg_field_intern("Provider_Name", 13);
    id_keywords = vg_field_intern("Keywords", 8);
    id_pid = vg_field_intern("ProcessId", 9);
    id_new_pid = vg_field_intern("NewProcessId", 12);

    for (size_t i = 0; i < VG_ARRAY_LEN(user_fallbacks); i++) {
        id_fallback[i] = vg_field_intern(user_fallbacks[i], strlen(user_fallbacks[i]));
    }
}

static const char *field_str(const struct vg_event *ev, uint32_t id, size_t *n)
{
    const struct vg_field *f = id == VG_FIELD_NONE ? NULL : vg_event_get(ev, id);
    if (!f || f->v.type == VG_V_NULL) {
        return NULL;
    }
    *n = f->v.len;
    return f->v.str;
}

/* event.category/outcome for the event ids analysts look at most. */
static void win_category(struct vg_dctx *c, int64_t id, bool sysmon)
{
    static const struct {
        int id;
        bool sysmon;
        const char *cat;
    } map[] = {{1, true, "process"},
               {3, true, "network"},
               {5, true, "process"},
               {6, true, "driver"},
               {7, true, "library"},
               {8, true, "process"},
               {10, true, "process"},
               {11, true, "file"},
               {12, true, "registry"},
               {13, true, "registry"},
               {14, true, "registry"},
               {15, true, "file"},
               {22, true, "network"},
               {23, true, "file"},
               {26, true, "file"},
               {4624, false, "authentication"},
               {4625, false, "authentication"},
               {4634, false, "authentication"},
               {4648, false, "authentication"},
               {4672, false, "iam"},
               {4688, false, "process"},
               {4689, false, "process"},
               {4720, false, "iam"},
               {4722, false, "iam"},
               {4724, false, "iam"},
               {4726, false, "iam"},
               {4728, false, "iam"},
               {4732, false, "iam"},
               {4740, false, "iam"},
               {4756, false, "iam"},
               {4768, false, "authentication"},
               {4769, false, "authentication"},
               {4771, false, "authentication"},
               {4776, false, "authentication"},
               {7045, false, "configuration"},
               {4697, false, "configuration"},
               {4104, false, "process"}};
    for (size_t i = 0; i < VG_ARRAY_LEN(map); i++) {
        if (map[i].id == id && map[i].sysmon == sysmon) {
            vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), map[i].cat);
            break;
        }
    }
}

/* Security 4688 names the new process NewProcessId and its creator ProcessId; elsewhere
 * (Sysmon, most providers) ProcessId is the process the event is about. */
static void win_pids(struct vg_dctx *c)
{
    size_t n, nn;
    const char *pid = field_str(c->ev, id_pid, &n);
    const char *npid = field_str(c->ev, id_new_pid, &nn);
    if (npid) {
        vg_dctx_pid(c, VG_DF(PROCESS_PID), npid, nn);
    }
    if (pid) {
        vg_dctx_pid(c, npid ? VG_DF(PROCESS_PPID) : VG_DF(PROCESS_PID), pid, n);
    }
}

static void win_ecs(struct vg_dctx *c)
{
    size_t n, pl = 0;
    vg_kmap_apply_event(c, &map_win);
    win_pids(c);
    if (!vg_event_get(c->ev, id_target_user)) {
        for (size_t i = 0; i < VG_ARRAY_LEN(id_fallback); i++) {
            const char *u = field_str(c->ev, id_fallback[i], &n);
            if (u && n && !(n == 1 && u[0] == '-')) {
                vg_dctx_str(c, VG_DF(USER_NAME), u, n);
                break;
            }
        }
    }
    const char *eid = field_str(c->ev, id_event_id, &n);
    const char *prov = field_str(c->ev, id_provider, &pl);
    int64_t id;
    if (eid && vg_parse_i64(eid, n, &id) == VG_OK) {
        win_category(c, id, prov && memmem(prov, pl, "Sysmon", 6) != NULL);
        if (id == 4625 || id == 4771 || id == 4776) {
            vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), id == 4625 ? "failure" : "unknown");
        } else if (id == 4624) {
            vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), "success");
        }
    }
    const char *kw = field_str(c->ev, id_keywords, &n);
    if (kw && (vg_dec_eq(kw, n, "0x8010000000000000") || vg_dec_eq(kw, n, "Audit Failure"))) {
        vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), "failure");
    }
}

/* ---------------------------------------------------------------- JSON helpers */

/* Add v under name: scalars as themselves, arrays as repeated values, objects flattened. */
static void add_as(struct vg_dctx *c, const char *name, size_t nl, const struct vg_json *v)
{
    if (c->rc != VG_OK || nl == 0) {
        return;
    }
    if (v->type == VG_JSON_OBJECT) {
        vg_dctx_flatten(c, v, name, nl);
        return;
    }
    uint32_t id = vg_field_intern(name, nl);
    if (id == VG_FIELD_NONE) {
        return;
    }
    if (v->type == VG_JSON_ARRAY) {
        for (uint32_t i = 0; i < v->n && c->rc == VG_OK; i++) {
            c->rc = vg_event_add_json(c->ev, id, &v->u.items[i]);
        }
        return;
    }
    c->rc = vg_event_add_json(c->ev, id, v);
}

/* EventData member: the name with spaces removed (as for EVTX). */
static void add_data(struct vg_dctx *c, const struct vg_json *key, const struct vg_json *v)
{
    char name[256];
    size_t nl = vg_winevt_data_name(name, sizeof(name), key->s, key->n);
    add_as(c, name, nl, v);
}

static void add_leaves(struct vg_dctx *c, const struct vg_json *v, int depth)
{
    for (uint32_t k = 0; v->type == VG_JSON_OBJECT && k < v->n && c->rc == VG_OK; k++) {
        const struct vg_json *key = &v->u.items[2 * k], *val = &v->u.items[2 * k + 1];
        if (val->type == VG_JSON_OBJECT && depth < 8) {
            add_leaves(c, val, depth + 1);
        } else {
            add_data(c, key, val);
        }
    }
}

struct rename {
    const char *from, *to;
};

/* Members of obj named in map get the EVTX name; returns true when key was one of them. */
static bool renamed(struct vg_dctx *c, const struct rename *map, size_t n,
                    const struct vg_json *key, const struct vg_json *val)
{
    for (size_t i = 0; i < n; i++) {
        if (key->n == strlen(map[i].from) && !memcmp(key->s, map[i].from, key->n)) {
            add_as(c, map[i].to, strlen(map[i].to), val);
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- winlogbeat */

static const struct rename wlb_names[] = {
    {"channel", "Channel"},
    {"event_id", "EventID"},
    {"provider_name", "Provider_Name"},
    {"provider_guid", "Provider_Guid"},
    {"computer_name", "Computer"},
    {"record_id", "EventRecordID"},
    {"version", "Version"},
    {"task", "Task"},
    {"opcode", "Opcode"},
    {"keywords", "Keywords"},
    {"level", "Level"},
    {"activity_id", "Correlation_ActivityID"},
    {"related_activity_id", "Correlation_RelatedActivityID"},
};

static void winlogbeat(struct vg_dctx *c, const struct vg_json *wl)
{
    for (uint32_t k = 0; k < c->doc->n && c->rc == VG_OK; k++) {
        const struct vg_json *key = &c->doc->u.items[2 * k], *val = &c->doc->u.items[2 * k + 1];
        if (val != wl) {
            add_as(c, key->s, key->n, val); /* @timestamp, event.*, host.*, message, ... */
        }
    }
    for (uint32_t k = 0; k < wl->n && c->rc == VG_OK; k++) {
        const struct vg_json *key = &wl->u.items[2 * k], *val = &wl->u.items[2 * k + 1];
        if (renamed(c, wlb_names, VG_ARRAY_LEN(wlb_names), key, val)) {
            continue;
        }
        if (vg_dec_eq(key->s, key->n, "event_data") && val->type == VG_JSON_OBJECT) {
            for (uint32_t j = 0; j < val->n && c->rc == VG_OK; j++) {
                add_data(c, &val->u.items[2 * j], &val->u.items[2 * j + 1]);
            }
        } else if (vg_dec_eq(key->s, key->n, "user_data")) {
            add_leaves(c, val, 0);
        } else if (vg_dec_eq(key->s, key->n, "process")) {
            const struct vg_json *pid = vg_json_get(val, "pid");
            const struct vg_json *tid = vg_json_get(vg_json_get(val, "thread"), "id");
            if (pid) {
                add_as(c, "Execution_ProcessID", 19, pid);
            }
            if (tid) {
                add_as(c, "Execution_ThreadID", 18, tid);
            }
        } else if (vg_dec_eq(key->s, key->n, "user")) {
            const struct vg_json *sid = vg_json_get(val, "identifier");
            if (sid) {
                add_as(c, "Security_UserID", 15, sid);
            }
        } else {
            char name[128];
            int l = snprintf(name, sizeof(name), "winlog.%.*s", (int)VG_MIN(key->n, 100), key->s);
            add_as(c, name, (size_t)l, val);
        }
    }
}

/* ---------------------------------------------------------------- NXLog */

static const struct rename nxlog_names[] = {
    {"SourceName", "Provider_Name"},
    {"ProviderGuid", "Provider_Guid"},
    {"Hostname", "Computer"},
    {"RecordNumber", "EventRecordID"},
    {"ProcessID", "Execution_ProcessID"},
    {"ThreadID", "Execution_ThreadID"},
    {"EventTime", "TimeCreated_SystemTime"},
    {"UserID", "Security_UserID"},
    {"ActivityID", "Correlation_ActivityID"},
};

static void nxlog(struct vg_dctx *c)
{
    for (uint32_t k = 0; k < c->doc->n && c->rc == VG_OK; k++) {
        const struct vg_json *key = &c->doc->u.items[2 * k], *val = &c->doc->u.items[2 * k + 1];
        if (!renamed(c, nxlog_names, VG_ARRAY_LEN(nxlog_names), key, val)) {
            add_data(c, key, val);
        }
    }
}

/* ---------------------------------------------------------------- Wazuh eventchannel */

static const struct rename wazuh_names[] = {
    {"providerName", "Provider_Name"},
    {"providerGuid", "Provider_Guid"},
    {"eventID", "EventID"},
    {"eventRecordID", "EventRecordID"},
    {"processID", "Execution_ProcessID"},
    {"threadID", "Execution_ThreadID"},
    {"systemTime", "TimeCreated_SystemTime"},
    {"eventSourceName", "EventSourceName"},
    {"severityValue", "SeverityValue"},
    {"message", "Message"},
};

/* Wazuh writes "C:\\\\Windows": its JSON holds doubled backslashes; halve them. */
static void add_wazuh_value(struct vg_dctx *c, const char *name, size_t nl, const struct vg_json *v)
{
    if (v->type != VG_JSON_STRING || !memmem(v->s, v->n, "\\\\", 2)) {
        add_as(c, name, nl, v);
        return;
    }
    char *d = vg_arena_alloc(c->ev->arena, v->n + 1);
    uint32_t id = vg_field_intern(name, nl);
    if (!d || id == VG_FIELD_NONE) {
        c->rc = d ? c->rc : VG_ENOMEM;
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < v->n; i++) {
        d[o++] = v->s[i];
        if (v->s[i] == '\\' && i + 1 < v->n && v->s[i + 1] == '\\') {
            i++;
        }
    }
    d[o] = '\0';
    c->rc = c->rc ? c->rc : vg_event_add_str(c->ev, id, d, o);
}

/* "image" → "Image": Wazuh lower-cases the first letter of every name. */
static void add_capitalised(struct vg_dctx *c, const struct vg_json *key, const struct vg_json *v)
{
    char name[256];
    size_t nl = vg_winevt_data_name(name, sizeof(name), key->s, key->n);
    if (nl && name[0] >= 'a' && name[0] <= 'z') {
        name[0] = (char)(name[0] - 32);
    }
    add_wazuh_value(c, name, nl, v);
}

static void wazuh_win(struct vg_dctx *c, const struct vg_json *win)
{
    const struct vg_json *sys = vg_json_get(win, "system");
    const struct vg_json *data = vg_json_get(win, "eventdata");
    for (uint32_t k = 0; sys && sys->type == VG_JSON_OBJECT && k < sys->n; k++) {
        const struct vg_json *key = &sys->u.items[2 * k], *val = &sys->u.items[2 * k + 1];
        if (!renamed(c, wazuh_names, VG_ARRAY_LEN(wazuh_names), key, val)) {
            add_capitalised(c, key, val);
        }
    }
    for (uint32_t k = 0; data && data->type == VG_JSON_OBJECT && k < data->n; k++) {
        add_capitalised(c, &data->u.items[2 * k], &data->u.items[2 * k + 1]);
    }
}

/* ---------------------------------------------------------------- OSSEC WinEvtLog text */

/* "  Key: value  Key2: value2" message body (Sysmon and most Security events). */
static void winevtlog_pairs(struct vg_dctx *c, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && c->rc == VG_OK) {
        size_t ks = i;
        while (i < n && ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z'))) {
            i++;
        }
        size_t ke = i;
        if (ke == ks || i + 1 >= n || p[i] != ':' || p[i + 1] != ' ') {
            size_t next = vg_dec_find(p + i, n - i, "  ");
            i = next >= n - i ? n : i + next + 2;
            continue;
        }
        size_t vs = i + 2, e = vg_dec_find(p + vs, n - vs, "  ");
        size_t ve = vs + e;
        vg_dctx_named(c, p + ks, ke - ks, p + vs, ve - vs);
        i = ve < n ? ve + 2 : n;
    }
}

/* WinEvtLog: Channel: LEVEL(EventID): Provider: User: Domain: Computer: message */
static int winevtlog(struct vg_dctx *c)
{
    /* the account OSSEC puts in the header is the record's security user (a name, where
     * EVTX has a SID); "User" stays free for the EventData field Sysmon writes */
    static const char *const names[] = {
        "Channel", NULL, "Provider_Name", "Security_UserName", "Security_UserDomain", "Computer"};
    const char *p = c->msg, *end = c->msg + c->mlen;
    const char *part[6];
    size_t plen[6], k = 0;
    while (k < 6 && p < end) {
        size_t e = vg_dec_find(p, (size_t)(end - p), ": ");
        part[k] = p;
        plen[k++] = e;
        p += VG_MIN(e + 2, (size_t)(end - p));
    }
    const char *open = k > 1 ? memchr(part[1], '(', plen[1]) : NULL;
    if (k < 6 || !open || part[1][plen[1] - 1] != ')') {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_WINDOWS);
    for (size_t i = 0; i < 6; i++) {
        if (names[i]) {
            vg_dctx_named(c, names[i], strlen(names[i]), part[i], plen[i]);
        }
    }
    vg_dctx_named(c, "Level", 5, part[1], (size_t)(open - part[1]));
    vg_dctx_named(c, "EventID", 7, open + 1, (size_t)(part[1] + plen[1] - open - 2));
    const char *body = memmem(p, (size_t)(end - p), "  ", 2);
    if (body) {
        winevtlog_pairs(c, body + 2, (size_t)(end - body - 2));
    }
    win_ecs(c);
    return c->rc;
}

/* ---------------------------------------------------------------- decoder */

static int win_json(struct vg_dctx *c)
{
    const struct vg_json *d = c->doc, *wl = vg_json_get(d, "winlog"), *wz = vg_json_get(d, "win");
    const struct vg_json *sys = vg_json_get(vg_json_get(d, "Event"), "System");
    bool evtx = sys && sys->type == VG_JSON_OBJECT;
    bool beat = wl && wl->type == VG_JSON_OBJECT &&
                (vg_json_get(wl, "channel") || vg_json_get(wl, "event_id"));
    bool wazuh = wz && wz->type == VG_JSON_OBJECT &&
                 (vg_json_get(wz, "system") || vg_json_get(wz, "eventdata"));
    bool nx =
        vg_json_get(d, "EventID") && (vg_json_get(d, "SourceName") || vg_json_get(d, "Channel"));
    if (!evtx && !beat && !wazuh && !nx) {
        return VG_DECLINED;
    }
    vg_dctx_claim(c, VG_EK_WINDOWS);
    if (evtx && c->rc == VG_OK) {
        c->rc = vg_decode_winjson(c->ev, d);
    } else if (beat) {
        winlogbeat(c, wl);
    } else if (wazuh) {
        wazuh_win(c, wz);
    } else {
        nxlog(c);
    }
    c->ev->kind = VG_EK_WINDOWS;
    win_ecs(c);
    const struct vg_json *at = vg_json_get(d, "@timestamp");
    if (c->ev->ts == VG_TIME_NONE && at && at->type == VG_JSON_STRING) {
        vg_dctx_time(c, at->s, at->n);
    }
    return c->rc;
}

int vg_dec_windows(struct vg_dctx *c)
{
    pthread_once(&win_once, win_init_once);
    if (win_rc != VG_OK) {
        return win_rc;
    }
    if (c->doc) {
        return win_json(c);
    }
    if (c->mlen > 20 && c->msg[0] == '<' && memmem(c->msg, c->mlen, "<System>", 8)) {
        int rc = vg_decode_xml_event(c->ev, c->msg, c->mlen);
        if (rc != VG_OK) {
            return rc == VG_ENOMEM ? rc : VG_DECLINED;
        }
        vg_dctx_claim(c, c->has_hdr ? VG_EK_LINUX : VG_EK_WINDOWS);
        win_ecs(c);
        return c->rc;
    }
    if (c->has_hdr && c->hdr.prog && vg_dec_eq(c->hdr.prog, c->hdr.prog_len, "WinEvtLog")) {
        return winevtlog(c);
    }
    return VG_DECLINED;
}
