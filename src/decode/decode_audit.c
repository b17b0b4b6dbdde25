/*
 * decode_audit.c — the `auditd` decoder: Linux audit records → one event per audit event.
 *
 * The kernel writes one event as several records sharing msg=audit(time:serial) — SYSCALL,
 * EXECVE, CWD, PATH..., PROCTITLE, then EOE. They are joined here: records of one serial are
 * buffered (copied: the caller's record buffer does not outlive the call) and become one
 * event when EOE arrives, when a record of another serial arrives, or on flush. Records that
 * user space writes alone (USER_*, CRED_*, ADD_USER, DAEMON_*, ...) are decoded at once, and
 * so are kernel-log copies (`kernel: audit: type=1400 audit(...)`: AppArmor), which never
 * get an EOE.
 *
 * Fields: every record's own keys (repeated names repeat: `type` lists every record type),
 * hex-encoded values decoded as ausearch -i does (proctitle, EXECVE args, exe, name, ...),
 * the inner msg='...' of user-space records expanded, SYSCALL/ARCH names for x86_64 (as the
 * enriched log format and the SigmaHQ rules spell them), audit.serial, and ECS: process.*
 * (pid, parent.pid, executable, name, command_line from EXECVE, working_directory),
 * user.id/audit.id/effective.id/name, file.path, source.ip, event.action/outcome/category,
 * tags (the rule key).
 */
#include "decode/decode_int.h"

#include <pthread.h>

#define AUDIT_MAX_RECORDS 256
#define AUDIT_MAX_BYTES   (1u << 20)
#define AUDIT_MAX_ARGS    64
#define AUDIT_ID_MAX      60 /* "1700000000.123:4567" and a margin */

/* Where one buffered record lies in the join buffer. */
struct rec_view {
    uint32_t off, len; /* the whole record */
};

struct vg_audit_join {
    bool active;
    char id[64]; /* "time:serial" of the event being joined */
    size_t idl;
    struct vg_sbuf buf; /* the records as received, one after the other */
    struct rec_view recs[AUDIT_MAX_RECORDS];
    uint32_t nrec;
};

/* One parsed record. */
struct arec {
    const char *node, *type, *id, *body;
    size_t nodel, typel, idl, bodyl;
    vg_time_t ts;
    bool kernel; /* kernel log copy: decoded alone */
};

/* Values gathered while adding fields, for the ECS view of the event. */
enum slot {
    S_UID,
    S_AUID,
    S_EUID,
    S_PID,
    S_PPID,
    S_EXE,
    S_COMM,
    S_CWD,
    S_NAME,
    S_ACCT,
    S_ADDR,
    S_RES,
    S_SUCCESS,
    S_SYSCALL,
    S_ARCH,
    S_KEY,
    S_UIDNAME,
    S_SYSCALLNAME,
    S_OP,
    S_APPARMOR,
    S_OPERATION,
    S_PROFILE,
    S_NAMETYPE,
    S_ID,
    S_OBJTYPE,
    S_PROCTITLE,
    S__COUNT
};

struct gather {
    const char *v[S__COUNT];
    size_t l[S__COUNT];
    const char *args[AUDIT_MAX_ARGS];
    size_t argl[AUDIT_MAX_ARGS];
    uint32_t nargs;
    const char *first_type;
    size_t first_typel;
    const char *path; /* file.path: the first PATH record that is not the parent directory */
    size_t pathl;
    const char *rec_path; /* name of the PATH record being read */
    size_t rec_pathl;
    bool execve, sockaddr, pathrec;
    bool in_execve, in_path;
};

/* ---------------------------------------------------------------- record syntax */

/* "[  123.456789] " kernel-log time prefix */
static size_t skip_klog_time(const char *p, size_t n)
{
    if (n < 4 || p[0] != '[') {
        return 0;
    }
    size_t i = 1;
    while (i < n && i < 24 && (p[i] == ' ' || p[i] == '.' || vg_dec_digit(p[i]))) {
        i++;
    }
    if (i >= n || p[i] != ']') {
        return 0;
    }
    i++;
    while (i < n && p[i] == ' ') {
        i++;
    }
    return i;
}

static size_t token_end(const char *p, size_t n, size_t i)
{
    while (i < n && p[i] != ' ') {
        i++;
    }
    return i;
}

static bool audit_id(const char *p, size_t n, size_t *i, struct arec *r)
{
    size_t s = *i, e = s;
    while (e < n && e - s < AUDIT_ID_MAX && p[e] != ')') {
        e++;
    }
    const char *colon = memchr(p + s, ':', e - s);
    if (e >= n || !colon) {
        return false;
    }
    r->id = p + s;
    r->idl = e - s;
    /* "1700000000.123": seconds and milliseconds, without going through a double */
    const char *dot = memchr(p + s, '.', (size_t)(colon - (p + s)));
    uint64_t secs, ms = 0;
    size_t sl = (size_t)((dot ? dot : colon) - (p + s)), fl = dot ? (size_t)(colon - dot - 1) : 0;
    if (vg_dec_uint(p + s, sl, &secs) && (!dot || (fl <= 9 && vg_dec_uint(dot + 1, fl, &ms)))) {
        for (size_t k = fl; k < 9; k++) {
            ms *= 10;
        }
        r->ts = secs < 9200000000ULL ? vg_decode_ns((int64_t)secs, (int64_t)ms) : VG_TIME_NONE;
    }
    e++;
    if (e < n && p[e] == ':') {
        e++;
    }
    while (e < n && p[e] == ' ') {
        e++;
    }
    *i = e;
    return true;
}

static bool audit_parse(const char *p, size_t n, struct arec *r)
{
    memset(r, 0, sizeof(*r));
    r->ts = VG_TIME_NONE;
    size_t i = skip_klog_time(p, n);
    r->kernel = i > 0;
    if (vg_dec_starts(p + i, n - i, "audit: ")) {
        i += 7;
        r->kernel = true;
    }
    while (vg_dec_starts(p + i, n - i, "node=")) {
        size_t e = token_end(p, n, i);
        r->node = p + i + 5;
        r->nodel = e - i - 5;
        i = e < n ? e + 1 : e;
    }
    if (!vg_dec_starts(p + i, n - i, "type")) {
        return false;
    }
    i += 4;
    while (i < n && p[i] == ' ') {
        i++;
    }
    if (i >= n || p[i] != '=') {
        return false;
    }
    size_t ts = ++i, te = token_end(p, n, i);
    r->type = p + ts;
    r->typel = te - ts;
    i = te;
    while (i < n && p[i] == ' ') {
        i++;
    }
    if (vg_dec_starts(p + i, n - i, "msg=audit(")) {
        i += 10;
    } else if (vg_dec_starts(p + i, n - i, "audit(")) {
        i += 6;
        r->kernel = true;
    } else {
        return false;
    }
    if (r->typel == 0 || !audit_id(p, n, &i, r)) {
        return false;
    }
    r->kernel |= vg_dec_digit(r->type[0]);
    r->body = p + i;
    r->bodyl = n - i;
    return true;
}

/* Types the kernel emits inside a syscall event (joined until EOE). */
static bool joinable(const char *t, size_t l)
{
    static const char *const types[] = {"SYSCALL",
                                        "EXECVE",
                                        "PATH",
                                        "CWD",
                                        "PROCTITLE",
                                        "SOCKADDR",
                                        "SOCKETCALL",
                                        "FD_PAIR",
                                        "IPC",
                                        "MMAP",
                                        "BPRM_FCAPS",
                                        "CAPSET",
                                        "OBJ_PID",
                                        "KERN_MODULE",
                                        "AVC",
                                        "SELINUX_ERR",
                                        "CONFIG_CHANGE",
                                        "NETFILTER_CFG",
                                        "MQ_OPEN",
                                        "MQ_SENDRECV",
                                        "MQ_NOTIFY",
                                        "MQ_GETSETATTR",
                                        "FANOTIFY",
                                        "OPENAT2",
                                        "BPF",
                                        "URINGOP",
                                        "TIME_INJOFFSET",
                                        "TIME_ADJNTPVAL",
                                        "ANOM_PROMISCUOUS",
                                        "INTEGRITY_RULE",
                                        "MAC_STATUS",
                                        "MAC_POLICY_LOAD",
                                        "EOE"};
    for (size_t i = 0; i < VG_ARRAY_LEN(types); i++) {
        if (vg_dec_eq(t, l, types[i])) {
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- values */

/* Keys whose unquoted values are hex-encoded strings (auditd's untrusted-string rule). */
static bool hex_encoded_key(const char *k, size_t kl)
{
    static const char *const keys[] = {"proctitle", "cmd",   "name",  "exe", "cwd",    "comm",
                                       "path",      "data",  "old",   "new", "acct",   "dir",
                                       "file",      "ocomm", "watch", "vm",  "old-vm", "new-vm"};
    if (kl >= 2 && k[0] == 'a' && vg_dec_digit(k[1])) {
        return true; /* EXECVE arguments a0, a1, ... (and a1[0] pieces) */
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(keys); i++) {
        if (vg_dec_eq(k, kl, keys[i])) {
            return true;
        }
    }
    return false;
}

static bool all_hex(const char *v, size_t vl)
{
    if (vl < 2 || vl % 2) {
        return false;
    }
    for (size_t i = 0; i < vl; i++) {
        if (!vg_dec_hex(v[i]) || (v[i] >= 'a' && v[i] <= 'f')) {
            return false; /* auditd writes upper-case hex */
        }
    }
    return true;
}

static int hexval(char ch)
{
    return vg_dec_digit(ch) ? ch - '0' : (ch | 32) - 'a' + 10;
}

/* Decode hex into the arena; NUL (argv separators in proctitle) becomes a space. */
static bool unhex(struct vg_dctx *c, const char *v, size_t vl, const char **out, size_t *ol)
{
    char *d = vg_arena_alloc(c->ev->arena, vl / 2 + 1);
    if (!d) {
        c->rc = c->rc ? c->rc : VG_ENOMEM;
        return false;
    }
    size_t o = 0;
    for (size_t i = 0; i + 1 < vl; i += 2) {
        char ch = (char)(hexval(v[i]) * 16 + hexval(v[i + 1]));
        d[o++] = ch ? ch : ' ';
    }
    while (o && d[o - 1] == ' ') {
        o--; /* proctitle ends with the NUL of its last argument */
    }
    d[o] = '\0';
    *out = d;
    *ol = o;
    return true;
}

static int slot_of(const char *k, size_t kl)
{
    static const char *const names[S__COUNT] = {[S_UID] = "uid",
                                                [S_AUID] = "auid",
                                                [S_EUID] = "euid",
                                                [S_PID] = "pid",
                                                [S_PPID] = "ppid",
                                                [S_EXE] = "exe",
                                                [S_COMM] = "comm",
                                                [S_CWD] = "cwd",
                                                [S_NAME] = "name",
                                                [S_ACCT] = "acct",
                                                [S_ADDR] = "addr",
                                                [S_RES] = "res",
                                                [S_SUCCESS] = "success",
                                                [S_SYSCALL] = "syscall",
                                                [S_ARCH] = "arch",
                                                [S_KEY] = "key",
                                                [S_UIDNAME] = "UID",
                                                [S_SYSCALLNAME] = "SYSCALL",
                                                [S_OP] = "op",
                                                [S_APPARMOR] = "apparmor",
                                                [S_OPERATION] = "operation",
                                                [S_PROFILE] = "profile",
                                                [S_NAMETYPE] = "nametype",
                                                [S_ID] = "id",
                                                [S_OBJTYPE] = "objtype",
                                                [S_PROCTITLE] = "proctitle"};
    for (int i = 0; i < S__COUNT; i++) {
        if (vg_dec_eq(k, kl, names[i])) {
            return i;
        }
    }
    return -1;
}

static void gather_value(struct gather *g, const char *k, size_t kl, const char *v, size_t vl)
{
    if (g->in_execve && kl >= 2 && k[0] == 'a' && vg_dec_digit(k[1])) {
        uint64_t idx;
        if (vg_dec_uint(k + 1, kl - 1, &idx) && idx < AUDIT_MAX_ARGS && idx == g->nargs) {
            g->args[g->nargs] = v;
            g->argl[g->nargs++] = vl;
        }
        return;
    }
    int s = slot_of(k, kl);
    if (s == S_NAME && g->in_path) {
        g->rec_path = v;
        g->rec_pathl = vl;
    } else if ((s == S_NAMETYPE || s == S_OBJTYPE) && g->in_path && vg_dec_eq(v, vl, "PARENT")) {
        g->rec_path = NULL; /* the directory of the file: its own PATH record follows */
    }
    if (s >= 0 && !g->v[s]) {
        g->v[s] = v;
        g->l[s] = vl;
    }
}

static void add_body(struct vg_dctx *c, struct gather *g, const char *p, size_t n, int depth);

/* One key=value of a record: typed, hex-decoded, inner msg='...' expanded. */
static void add_pair(struct vg_dctx *c, struct gather *g, const struct vg_kv *kv, int depth)
{
    const char *v = kv->val;
    size_t vl = kv->vl;
    bool arg = kv->kl >= 2 && kv->key[0] == 'a' && vg_dec_digit(kv->key[1]);
    if (!kv->quote && (!arg || g->in_execve) && hex_encoded_key(kv->key, kv->kl) &&
        all_hex(v, vl) && !unhex(c, v, vl, &v, &vl)) {
        return;
    }
    uint32_t id = vg_field_intern(kv->key, kv->kl);
    if (id == VG_FIELD_NONE) {
        return;
    }
    if (kv->quote) {
        c->rc = c->rc ? c->rc : vg_event_add_str(c->ev, id, v, vl);
    } else {
        vg_dctx_num(c, id, v, vl);
    }
    gather_value(g, kv->key, kv->kl, v, vl);
    if (kv->quote == '\'' && depth == 0 && vg_dec_eq(kv->key, kv->kl, "msg")) {
        add_body(c, g, v, vl, depth + 1);
    }
}

static void record_begin(struct vg_dctx *c, struct gather *g, const char *t, size_t tl);
static void record_end(struct gather *g);

static void add_body(struct vg_dctx *c, struct gather *g, const char *p, size_t n, int depth)
{
    struct vg_kv_iter it;
    struct vg_kv kv;
    vg_kv_init(&it, p, n, ' ');
    while (c->rc == VG_OK && vg_kv_next(&it, &kv)) {
        /* several records on one line ("... key=x type=CWD msg=audit(T:S): cwd=..."), as
         * audisp plugins and Wazuh forward them: each "type=" starts the next record */
        if (depth == 0 && vg_dec_eq(kv.key, kv.kl, "type") &&
            vg_dec_starts(p + it.i, n - it.i, " msg=audit(")) {
            /* the id "time:serial" is short: a bounded search keeps a line of many
             * unclosed " msg=audit(" linear */
            const char *close = memchr(p + it.i, ')', VG_MIN(n - it.i, 11 + AUDIT_ID_MAX + 1));
            if (close) {
                record_end(g);
                record_begin(c, g, kv.val, kv.vl);
                it.i = (size_t)(close - p) + 1;
                it.i += it.i < n && p[it.i] == ':';
                continue;
            }
        }
        add_pair(c, g, &kv, depth);
    }
}

/* ---------------------------------------------------------------- ECS */

static void lower_lit(struct vg_dctx *c, uint32_t id, const char *s, size_t n)
{
    char *d = vg_arena_alloc(c->ev->arena, n + 1);
    if (!d) {
        c->rc = c->rc ? c->rc : VG_ENOMEM;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    }
    d[n] = '\0';
    vg_dctx_str(c, id, d, n);
}

static const char *category_of(const struct gather *g)
{
    static const struct {
        const char *prefix, *cat;
    } map[] = {{"USER_AUTH", "authentication"},
               {"USER_LOGIN", "authentication"},
               {"USER_LOGOUT", "authentication"},
               {"USER_ACCT", "authentication"},
               {"CRED_", "authentication"},
               {"USER_ERR", "authentication"},
               {"LOGIN", "authentication"},
               {"ANOM_LOGIN", "authentication"},
               {"USER_START", "session"},
               {"USER_END", "session"},
               {"ADD_", "iam"},
               {"DEL_", "iam"},
               {"USER_MGMT", "iam"},
               {"GRP_", "iam"},
               {"USER_CHAUTHTOK", "iam"},
               {"ACCT_", "iam"},
               {"CHUSER_ID", "iam"},
               {"CHGRP_ID", "iam"},
               {"ANOM_ADD_ACCT", "iam"},
               {"ANOM_DEL_ACCT", "iam"},
               {"ANOM_MOD_ACCT", "iam"},
               {"CONFIG_CHANGE", "configuration"},
               {"DAEMON_CONFIG", "configuration"},
               {"USYS_CONFIG", "configuration"},
               {"MAC_", "configuration"},
               {"DAEMON_", "process"},
               {"SERVICE_", "process"},
               {"USER_CMD", "process"},
               {"SYSTEM_", "host"},
               {"ANOM_", "intrusion_detection"}};
    if (g->execve) {
        return "process";
    }
    if (g->sockaddr) {
        return "network";
    }
    if (g->pathrec) {
        return "file";
    }
    for (size_t i = 0; g->first_type && i < VG_ARRAY_LEN(map); i++) {
        if (vg_dec_starts(g->first_type, g->first_typel, map[i].prefix)) {
            return map[i].cat;
        }
    }
    return NULL;
}

static const char *outcome_of(const struct gather *g)
{
    const char *v = g->v[S_SUCCESS] ? g->v[S_SUCCESS] : g->v[S_RES];
    size_t l = g->v[S_SUCCESS] ? g->l[S_SUCCESS] : g->l[S_RES];
    if (!v && g->v[S_APPARMOR]) {
        v = g->v[S_APPARMOR];
        l = g->l[S_APPARMOR];
        return vg_dec_eq(v, l, "DENIED")    ? "failure"
               : vg_dec_eq(v, l, "ALLOWED") ? "success"
                                            : NULL;
    }
    if (!v) {
        return NULL;
    }
    if (vg_dec_eq(v, l, "yes") || vg_dec_eq(v, l, "success") || vg_dec_eq(v, l, "1")) {
        return "success";
    }
    if (vg_dec_eq(v, l, "no") || vg_dec_eq(v, l, "failed") || vg_dec_eq(v, l, "0")) {
        return "failure";
    }
    return NULL;
}

static void syscall_name(struct vg_dctx *c, struct gather *g)
{
    uint64_t num;
    if (g->v[S_SYSCALLNAME] || !g->v[S_SYSCALL] || !g->v[S_ARCH] ||
        !vg_dec_eq(g->v[S_ARCH], g->l[S_ARCH], "c000003e") ||
        !vg_dec_uint(g->v[S_SYSCALL], g->l[S_SYSCALL], &num) || num >= vg_audit_syscalls_x86_64_n ||
        !vg_audit_syscalls_x86_64[num]) {
        return;
    }
    g->v[S_SYSCALLNAME] = vg_audit_syscalls_x86_64[num];
    g->l[S_SYSCALLNAME] = strlen(g->v[S_SYSCALLNAME]);
    vg_dctx_str(c, VG_DF(AUDIT_SYSCALL), g->v[S_SYSCALLNAME], g->l[S_SYSCALLNAME]);
    vg_dctx_lit(c, VG_DF(AUDIT_ARCH), "x86_64");
}

static void command_line(struct vg_dctx *c, const struct gather *g)
{
    size_t total = 0;
    for (uint32_t i = 0; i < g->nargs; i++) {
        total += g->argl[i] + 1;
    }
    if (!total && g->v[S_PROCTITLE]) { /* no EXECVE record: the proctitle, as ausearch -i */
        vg_dctx_str(c, VG_DF(PROCESS_CMDLINE), g->v[S_PROCTITLE], g->l[S_PROCTITLE]);
        return;
    }
    if (!total || c->rc) {
        return;
    }
    char *d = vg_arena_alloc(c->ev->arena, total);
    if (!d) {
        c->rc = VG_ENOMEM;
        return;
    }
    size_t o = 0;
    for (uint32_t i = 0; i < g->nargs; i++) {
        memcpy(d + o, g->args[i], g->argl[i]);
        o += g->argl[i];
        d[o++] = ' ';
    }
    d[--o] = '\0';
    vg_dctx_str(c, VG_DF(PROCESS_CMDLINE), d, o);
}

static bool unset_id(const char *v, size_t l)
{
    return vg_dec_eq(v, l, "4294967295") || vg_dec_eq(v, l, "-1") || vg_dec_eq(v, l, "unset");
}

static void add_ecs(struct vg_dctx *c, struct gather *g)
{
    syscall_name(c, g);
    const char *cat = category_of(g);
    const char *out = outcome_of(g);
    if (cat) {
        vg_dctx_lit(c, VG_DF(EVENT_CATEGORY), cat);
    }
    if (g->v[S_SYSCALLNAME]) {
        vg_dctx_str(c, VG_DF(EVENT_ACTION), g->v[S_SYSCALLNAME], g->l[S_SYSCALLNAME]);
    } else if (g->v[S_OPERATION]) {
        vg_dctx_str(c, VG_DF(EVENT_ACTION), g->v[S_OPERATION], g->l[S_OPERATION]);
    } else if (g->first_type && !vg_dec_digit(g->first_type[0])) {
        lower_lit(c, VG_DF(EVENT_ACTION), g->first_type, g->first_typel);
    }
    if (out) {
        vg_dctx_lit(c, VG_DF(EVENT_OUTCOME), out);
    }
    vg_dctx_opt(c, VG_DF(USER_ID), g->v[S_UID], g->l[S_UID]);
    if (g->v[S_AUID] && !unset_id(g->v[S_AUID], g->l[S_AUID])) {
        vg_dctx_str(c, VG_DF(USER_AUDIT_ID), g->v[S_AUID], g->l[S_AUID]);
    }
    vg_dctx_str(c, VG_DF(USER_EFFECTIVE_ID), g->v[S_EUID], g->l[S_EUID]);
    if (g->v[S_ACCT] && !vg_dec_eq(g->v[S_ACCT], g->l[S_ACCT], "?")) {
        vg_dctx_str(c, VG_DF(USER_NAME), g->v[S_ACCT], g->l[S_ACCT]);
    } else if (g->v[S_UIDNAME]) {
        vg_dctx_str(c, VG_DF(USER_NAME), g->v[S_UIDNAME], g->l[S_UIDNAME]);
    }
    vg_dctx_num(c, VG_DF(PROCESS_PID), g->v[S_PID], g->l[S_PID]);
    vg_dctx_num(c, VG_DF(PROCESS_PPID), g->v[S_PPID], g->l[S_PPID]);
    vg_dctx_str(c, VG_DF(PROCESS_EXE), g->v[S_EXE], g->l[S_EXE]);
    vg_dctx_str(c, VG_DF(PROCESS_NAME), g->v[S_COMM], g->l[S_COMM]);
    vg_dctx_str(c, VG_DF(PROCESS_CWD), g->v[S_CWD], g->l[S_CWD]);
    command_line(c, g);
    vg_dctx_str(c, VG_DF(FILE_PATH), g->path, g->pathl);
    if (g->v[S_ADDR]) {
        vg_dctx_ip(c, VG_DF(SOURCE_IP), g->v[S_ADDR], g->l[S_ADDR]);
    }
    if (g->v[S_KEY] && !vg_dec_eq(g->v[S_KEY], g->l[S_KEY], "(null)")) {
        vg_dctx_str(c, VG_DF(TAGS), g->v[S_KEY], g->l[S_KEY]);
    }
    vg_dctx_str(c, VG_DF(RULE_NAME), g->v[S_PROFILE], g->l[S_PROFILE]);
}

/* ---------------------------------------------------------------- events */

/* Fields of one record (type first, then its keys). */
static void add_record(struct vg_dctx *c, struct gather *g, const struct arec *r, bool first)
{
    if (first) {
        g->first_type = r->type;
        g->first_typel = r->typel;
        const char *colon = memchr(r->id, ':', r->idl);
        vg_dctx_str(c, VG_DF(AUDIT_SERIAL), colon + 1, r->idl - (size_t)(colon + 1 - r->id));
        if (r->node) {
            vg_dctx_str(c, VG_DF(AUDIT_NODE), r->node, r->nodel);
            if (!c->hdr.host) {
                vg_dctx_str(c, VG_DF(HOST_NAME), r->node, r->nodel);
            }
        }
        if (r->ts != VG_TIME_NONE) {
            c->ev->ts = r->ts;
        }
    }
    if (vg_dec_eq(r->type, r->typel, "EOE")) {
        return;
    }
    record_begin(c, g, r->type, r->typel);
    add_body(c, g, r->body, r->bodyl, 0);
    record_end(g);
}

static void record_begin(struct vg_dctx *c, struct gather *g, const char *t, size_t tl)
{
    vg_dctx_str(c, VG_DF(AUDIT_TYPE), t, tl);
    g->in_execve = vg_dec_eq(t, tl, "EXECVE");
    g->in_path = vg_dec_eq(t, tl, "PATH");
    g->execve |= g->in_execve;
    g->pathrec |= g->in_path;
    g->sockaddr |= vg_dec_eq(t, tl, "SOCKADDR");
    g->rec_path = NULL;
}

static void record_end(struct gather *g)
{
    if (g->in_path && g->rec_path && !g->path) {
        g->path = g->rec_path;
        g->pathl = g->rec_pathl;
    }
    g->rec_path = NULL;
}

/* Decode one record straight from the caller's buffer. */
static int decode_single(struct vg_dctx *c, const struct arec *r)
{
    struct gather g;
    memset(&g, 0, sizeof(g));
    c->own_process = true; /* the audited process, not the kernel or audispd */
    vg_dctx_claim(c, VG_EK_LINUX);
    add_record(c, &g, r, true);
    add_ecs(c, &g);
    return c->rc;
}

/* Build the joined event into c->ev from the buffered records, and forget them. */
static int join_emit(struct vg_audit_join *j, struct vg_dctx *c)
{
    struct gather g;
    memset(&g, 0, sizeof(g));
    char *copy = vg_arena_alloc(c->ev->arena, j->buf.len + 1);
    if (!copy) {
        return VG_ENOMEM;
    }
    memcpy(copy, j->buf.p, j->buf.len);
    copy[j->buf.len] = '\0';
    c->ev->raw = copy;
    c->ev->raw_len = j->buf.len;
    const char *first = copy + j->recs[0].off;
    c->has_hdr = vg_syslog_header_parse(first, j->recs[0].len, c->year, &c->hdr);
    c->own_process = true;
    vg_dctx_claim(c, VG_EK_LINUX);
    for (uint32_t k = 0; k < j->nrec && c->rc == VG_OK; k++) {
        const char *p = copy + j->recs[k].off;
        struct vg_syslog_hdr h;
        size_t n = j->recs[k].len, skip = 0;
        if (vg_syslog_header_parse(p, n, c->year, &h)) {
            skip = (size_t)(h.msg - p);
        }
        struct arec r;
        if (audit_parse(p + skip, n - skip, &r)) {
            add_record(c, &g, &r, k == 0);
        }
    }
    add_ecs(c, &g);
    j->active = false;
    j->nrec = 0;
    vg_sbuf_reset(&j->buf);
    return c->rc;
}

/* Buffer one record (the whole record as received: its syslog header is re-read later). */
static int join_add(struct vg_audit_join *j, const struct vg_dctx *c, const struct arec *r)
{
    if (!j->active) {
        j->active = true;
        j->idl = VG_MIN(r->idl, sizeof(j->id));
        memcpy(j->id, r->id, j->idl);
    }
    j->recs[j->nrec].off = (uint32_t)j->buf.len;
    j->recs[j->nrec].len = (uint32_t)c->len;
    vg_sbuf_add(&j->buf, c->rec, c->len);
    vg_sbuf_addc(&j->buf, '\n');
    j->nrec++;
    return j->buf.err ? VG_ENOMEM : VG_OK;
}

static bool join_full(const struct vg_audit_join *j, size_t more)
{
    return j->nrec >= AUDIT_MAX_RECORDS || j->buf.len + more + 1 > AUDIT_MAX_BYTES;
}

int vg_dec_auditd(struct vg_dctx *c)
{
    struct arec r;
    if (c->mlen < 20 ||
        (c->msg[0] != 't' && c->msg[0] != 'n' && c->msg[0] != '[' && c->msg[0] != 'a')) {
        return VG_DECLINED;
    }
    if (!audit_parse(c->msg, c->mlen, &r)) {
        return VG_DECLINED;
    }
    struct vg_audit_join *j = vg_decoder_audit(c->dec);
    bool eoe = vg_dec_eq(r.type, r.typel, "EOE");
    bool same = j->active && r.idl == j->idl && !memcmp(r.id, j->id, r.idl);
    if (r.kernel || (!j->active && !joinable(r.type, r.typel))) {
        return decode_single(c, &r);
    }
    if (j->active && (!same || join_full(j, c->len))) {
        int rc = join_emit(j, c);
        if (rc == VG_OK && !eoe) {
            rc = join_add(j, c, &r); /* the new record starts the next event */
        }
        return rc;
    }
    if (eoe && !j->active) {
        return VG_AGAIN; /* a stray end marker: nothing to complete */
    }
    int rc = join_add(j, c, &r);
    if (rc == VG_OK && eoe) {
        return join_emit(j, c);
    }
    return rc == VG_OK ? VG_AGAIN : rc;
}

int vg_audit_join_flush(struct vg_audit_join *j, struct vg_dctx *c)
{
    if (!j->active) {
        return VG_EOF;
    }
    return join_emit(j, c);
}

struct vg_audit_join *vg_audit_join_create(void)
{
    return vg_calloc(1, sizeof(struct vg_audit_join));
}

void vg_audit_join_destroy(struct vg_audit_join *j)
{
    if (j) {
        vg_sbuf_fini(&j->buf);
        vg_free(j);
    }
}
