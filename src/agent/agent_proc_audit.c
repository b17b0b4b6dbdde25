/*
 * agent_proc_audit.c — the process collector's "audit" backend: the kernel audit subsystem
 * (NETLINK_AUDIT) reports each successful execve/execveat with the pid, ppid, ids, the
 * executable (SYSCALL record), the argv (EXECVE) and the working directory (CWD), grouped by
 * the event serial of "audit(sec.ms:serial)" and closed by an EOE record.
 *
 * Audit settings are machine-wide, so open() changes as little as it can and remembers what
 * it changed, and close() puts exactly that back:
 *
 *   - no audit daemon registered: we register as the daemon (AUDIT_SET pid = our tgid) and
 *     records are unicast to our socket; close() unregisters (pid 0);
 *   - a daemon owns audit (or registering fails): we join the read-only multicast group
 *     AUDIT_NLGRP_READLOG (CAP_AUDIT_READ; the initial network namespace only);
 *   - auditing off: it is switched on, and back off at close();
 *   - one exit-filter rule per architecture (b64 and, where the kernel takes it, b32) for
 *     execve + execveat with key "vigie-agent" and, when VIGIE_AUDIT_FILTER_PPID is set,
 *     a narrowing "ppid=N" field; close() deletes those very rules (AUDIT_DEL_RULE with the
 *     same data). Locked audit (enabled=2) is refused.
 *
 * Only events carrying our key are emitted (a daemon's own rules are not ours to report).
 * Records are parsed from bounded buffers; malformed ones and events evicted before their
 * EOE count as backend_errors and are dropped. The CWD record is added to the event when
 * /proc/PID/cwd is already gone (an emit wrapper: the observation has no cwd field).
 */
#include "agent/agent_proc.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define COMP            "agent.proc.audit"
#define AU_KEY          "vigie-agent"
#define AU_BUF          (1 << 16)
#define AU_SLOTS        16
#define AU_PATH_MAX     4096
#define AU_ENV_PPID     "VIGIE_AUDIT_FILTER_PPID"
#define AU_REPLY_MS     1000
#define AU_NR_EXECVE    59 /* x86_64 */
#define AU_NR_EXECVAT   322
#define AU_NR_EXECVE32  11 /* i386 */
#define AU_NR_EXECVAT32 358

/* One audit event being assembled (records grouped by serial). */
struct au_ev {
    uint64_t serial; /* 0: free */
    uint64_t age;    /* arrival order, for eviction */
    vg_time_t ts;
    bool syscall, ours, success;
    int32_t pid, ppid;
    int64_t uid, gid;
    char exe[AU_PATH_MAX];
    char comm[64];
    char cwd[AU_PATH_MAX];
    char *args; /* args_max + 1 */
    size_t args_len;
    bool args_seen, args_truncated;
    long last_arg;
};

struct au_state {
    int fd;
    uint32_t seq;
    bool registered, readlog, enabled_changed;
    uint32_t prev_enabled;
    struct audit_rule_data *rule[2];
    size_t rule_len[2];
    bool rule_added[2];
    int64_t ppid_filter; /* 0: none */
    uint8_t *buf;
    struct au_ev ev[AU_SLOTS];
    uint64_t age;
    vg_agent_emit_fn emit; /* the collector's, wrapped by au_emit */
    void *emit_ctx;
    const char *cwd; /* the CWD record of the event being emitted */
    struct vg_sbuf ebuf;
};

/* ---------------------------------------------------------------- netlink requests */

static int au_send(struct au_state *s, uint16_t type, const void *data, size_t len)
{
    struct nlmsghdr nh = {.nlmsg_len = (uint32_t)NLMSG_LENGTH(len),
                          .nlmsg_type = type,
                          .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
                          .nlmsg_seq = ++s->seq};
    struct iovec iov[2] = {{&nh, NLMSG_HDRLEN}, {(void *)data, len}};
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    struct msghdr m = {.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov, .msg_iovlen = 2};
    return sendmsg(s->fd, &m, 0) == (ssize_t)nh.nlmsg_len ? 0 : -errno;
}

/* The state of a request: its acknowledgement and (for AUDIT_GET) its reply. */
struct au_wait {
    uint16_t type;
    void *out;
    size_t outsz;
    int rc;
    bool acked, got;
};

/* One message of a reply; true once the request is done. The reply of the request's type is
   copied to w->out. Other traffic (audit records) is skipped. The kernel sends replies from
   a thread of its own: the acknowledgement may come first, so a request expecting a reply
   is done once it has both. */
static bool au_reply_msg(const struct au_state *s, const struct nlmsghdr *nh, struct au_wait *w)
{
    if (nh->nlmsg_seq != s->seq) {
        return false;
    }
    if (nh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(nh);
        w->rc = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? e->error : -EPROTO;
        w->acked = true;
    } else if (nh->nlmsg_type == w->type && w->out) {
        size_t n = nh->nlmsg_len - NLMSG_HDRLEN;
        memset(w->out, 0, w->outsz);
        memcpy(w->out, NLMSG_DATA(nh), VG_MIN(n, w->outsz));
        w->got = true;
    }
    return w->acked && (w->rc != 0 || !w->out || w->got);
}

/*
 * Audit records come one per datagram, and the copy unicast to the daemon carries a
 * nlmsg_len without the header (a quirk kept for auditd; the multicast copy is right): a
 * record's length is the datagram's, never nlmsg_len.
 */
static bool au_is_record(const struct nlmsghdr *nh)
{
    return nh->nlmsg_type >= AUDIT_FIRST_USER_MSG;
}

/* Read one datagram into s->buf and feed w; true once the request is done. */
static bool au_reply_read(struct au_state *s, struct au_wait *w)
{
    ssize_t n = recv(s->fd, s->buf, AU_BUF, MSG_DONTWAIT);
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR && errno != ENOBUFS) {
            w->rc = -errno;
            return true;
        }
        return false;
    }
    const struct nlmsghdr *nh = (const struct nlmsghdr *)s->buf;
    size_t left = (size_t)n >= NLMSG_HDRLEN && au_is_record(nh) ? 0 : (size_t)n;
    bool done = false;
    for (; !done && NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
        done = au_reply_msg(s, nh, w);
    }
    return done;
}

/* Send a request and wait (≤ 1 s) for its acknowledgement (and its reply when out is
   given): 0 or -errno. */
static int au_request(struct au_state *s, uint16_t type, const void *data, size_t len, void *out,
                      size_t outsz)
{
    struct au_wait w = {.type = type, .out = out, .outsz = outsz, .rc = -ETIMEDOUT};
    int rc = au_send(s, type, data, len);
    if (rc != 0) {
        return rc;
    }
    uint64_t deadline = vg_clock_ns() + AU_REPLY_MS * 1000000ULL;
    while (vg_clock_ns() < deadline) {
        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
        if (poll(&pf, 1, 100) > 0 && au_reply_read(s, &w)) {
            return w.rc;
        }
    }
    return w.acked && w.rc != 0 ? w.rc : -ETIMEDOUT;
}

static int au_set(struct au_state *s, uint32_t mask, uint32_t enabled, uint32_t pid)
{
    struct audit_status st = {.mask = mask, .enabled = enabled, .pid = pid};
    return au_request(s, AUDIT_SET, &st, sizeof(st), NULL, 0);
}

/* ---------------------------------------------------------------- rules */

static void au_field(struct audit_rule_data *r, uint32_t field, uint32_t value)
{
    r->fields[r->field_count] = field;
    r->values[r->field_count] = value;
    r->fieldflags[r->field_count] = AUDIT_EQUAL;
    r->field_count++;
}

/* always,exit -F arch=ARCH -S execve -S execveat [-F ppid=N] -k vigie-agent */
static struct audit_rule_data *au_rule(uint32_t arch, int nr1, int nr2, int64_t ppid, size_t *len)
{
    size_t klen = strlen(AU_KEY);
    *len = sizeof(struct audit_rule_data) + klen;
    struct audit_rule_data *r = vg_calloc(1, *len);
    if (!r) {
        return NULL;
    }
    r->flags = AUDIT_FILTER_EXIT;
    r->action = AUDIT_ALWAYS;
    r->mask[nr1 / 32] |= 1U << (nr1 % 32);
    r->mask[nr2 / 32] |= 1U << (nr2 % 32);
    au_field(r, AUDIT_ARCH, arch);
    if (ppid > 0) {
        au_field(r, AUDIT_PPID, (uint32_t)ppid);
    }
    au_field(r, AUDIT_FILTERKEY, (uint32_t)klen);
    memcpy(r->buf, AU_KEY, klen);
    r->buflen = (uint32_t)klen;
    return r;
}

/* Add the b64 rule (required) and the b32 one (when the kernel takes it). EEXIST: a rule left
   by an agent that died is identical to ours, so we own it from now on. */
static int au_rules_add(struct au_state *s, char *err, size_t errsz)
{
    s->rule[0] =
        au_rule(AUDIT_ARCH_X86_64, AU_NR_EXECVE, AU_NR_EXECVAT, s->ppid_filter, &s->rule_len[0]);
    s->rule[1] =
        au_rule(AUDIT_ARCH_I386, AU_NR_EXECVE32, AU_NR_EXECVAT32, s->ppid_filter, &s->rule_len[1]);
    if (!s->rule[0] || !s->rule[1]) {
        return VG_ENOMEM;
    }
    for (int i = 0; i < 2; i++) {
        int rc = au_request(s, AUDIT_ADD_RULE, s->rule[i], s->rule_len[i], NULL, 0);
        s->rule_added[i] = rc == 0 || rc == -EEXIST;
        if (!s->rule_added[i] && i == 0) {
            snprintf(err, errsz, "add the execve audit rule: %s", strerror(-rc));
            return VG_EUNSUPPORTED;
        }
        if (!s->rule_added[i]) {
            VG_INFO(COMP, "b32 execve rule not added: %s", strerror(-rc));
        }
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- setup and restore */

/* Put back what open() changed: our rules, the enabled flag, the daemon pid. */
static void au_restore(struct au_state *s)
{
    for (int i = 0; i < 2; i++) {
        if (s->rule_added[i]) {
            int rc = au_request(s, AUDIT_DEL_RULE, s->rule[i], s->rule_len[i], NULL, 0);
            if (rc != 0) {
                VG_WARN(COMP, "delete audit rule %d: %s", i, strerror(-rc));
            }
            s->rule_added[i] = false;
        }
    }
    if (s->enabled_changed) {
        int rc = au_set(s, AUDIT_STATUS_ENABLED, s->prev_enabled, 0);
        if (rc != 0) {
            VG_WARN(COMP, "restore audit enabled=%u: %s", s->prev_enabled, strerror(-rc));
        }
        s->enabled_changed = false;
    }
    if (s->registered) {
        int rc = au_set(s, AUDIT_STATUS_PID, 0, 0);
        if (rc != 0) {
            VG_WARN(COMP, "unregister as the audit daemon: %s", strerror(-rc));
        }
        s->registered = false;
    }
}

static void au_free(struct au_state *s)
{
    if (!s) {
        return;
    }
    if (s->fd >= 0) {
        au_restore(s);
        close(s->fd);
    }
    for (size_t i = 0; i < AU_SLOTS; i++) {
        vg_free(s->ev[i].args);
    }
    vg_free(s->rule[0]);
    vg_free(s->rule[1]);
    vg_free(s->buf);
    vg_sbuf_fini(&s->ebuf);
    vg_free(s);
}

/* VIGIE_AUDIT_FILTER_PPID: audit only the children of this pid (tests; narrow rules). */
static int au_conf_ppid(struct au_state *s, char *err, size_t errsz)
{
    const char *v = getenv(AU_ENV_PPID);
    if (!v || !v[0]) {
        return VG_OK;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n <= 0 || n > INT32_MAX) {
        snprintf(err, errsz, "%s: not a pid: \"%.32s\"", AU_ENV_PPID, v);
        return VG_EINVAL;
    }
    s->ppid_filter = n;
    return VG_OK;
}

static int au_socket(struct vg_agent_proc *p, struct au_state *s, char *err, size_t errsz)
{
    s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
    if (s->fd < 0) {
        snprintf(err, errsz, "audit netlink socket: %s", strerror(errno));
        return VG_EUNSUPPORTED;
    }
    int sz = (int)p->conf.rcvbuf;
    if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0) {
        setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    }
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        snprintf(err, errsz, "bind audit netlink socket: %s", strerror(errno));
        return VG_EUNSUPPORTED;
    }
    return VG_OK;
}

/* Become the audit daemon, or else a reader of the read-only log group. */
static int au_attach(struct au_state *s, const struct audit_status *st, char *err, size_t errsz)
{
    int rc = -EEXIST;
    if (st->pid == 0) {
        rc = au_set(s, AUDIT_STATUS_PID, 0, (uint32_t)getpid());
        s->registered = rc == 0;
    }
    if (s->registered) {
        return VG_OK;
    }
    int grp = AUDIT_NLGRP_READLOG;
    if (setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) == 0) {
        s->readlog = true;
        return VG_OK;
    }
    int e = errno;
    if (st->pid) {
        snprintf(err, errsz,
                 "audit daemon pid %u owns audit and the read-only log group "
                 "is refused: %s",
                 st->pid, strerror(e));
    } else {
        snprintf(err, errsz,
                 "cannot register as the audit daemon (%s) nor join the read-only "
                 "log group (%s)",
                 strerror(-rc), strerror(e));
    }
    return VG_EUNSUPPORTED;
}

static int au_setup(struct vg_agent_proc *p, struct au_state *s, char *err, size_t errsz)
{
    int rc = au_socket(p, s, err, errsz);
    if (rc != VG_OK) {
        return rc;
    }
    struct audit_status st;
    int e = au_request(s, AUDIT_GET, NULL, 0, &st, sizeof(st));
    if (e != 0) {
        snprintf(err, errsz,
                 "audit status (AUDIT_GET): %s (no audit in this container or "
                 "user namespace?)",
                 strerror(-e));
        return VG_EUNSUPPORTED;
    }
    if (st.enabled == 2) {
        snprintf(err, errsz, "audit configuration is locked (enabled=2)");
        return VG_EUNSUPPORTED;
    }
    if ((rc = au_attach(s, &st, err, errsz)) != VG_OK) {
        return rc;
    }
    if (st.enabled == 0) {
        if ((e = au_set(s, AUDIT_STATUS_ENABLED, 1, 0)) != 0) {
            snprintf(err, errsz, "enable auditing: %s", strerror(-e));
            return VG_EUNSUPPORTED;
        }
        s->enabled_changed = true;
        s->prev_enabled = st.enabled;
    }
    return au_rules_add(s, err, errsz);
}

/* ---------------------------------------------------------------- emit (adds the CWD record) */

static int au_emit(void *ctx, const char *json, size_t len)
{
    struct vg_agent_proc *p = ctx;
    struct au_state *s = p->be_state;
    if (!s->cwd || !s->cwd[0] || len < 2 || json[len - 1] != '}' ||
        memmem(json, len, "\"process.working_directory\"", 27)) {
        return s->emit(s->emit_ctx, json, len);
    }
    vg_sbuf_reset(&s->ebuf);
    vg_sbuf_add(&s->ebuf, json, len - 1);
    vg_sbuf_adds(&s->ebuf, ",\"process.working_directory\":");
    vg_sbuf_add_json_str(&s->ebuf, s->cwd, strlen(s->cwd));
    vg_sbuf_addc(&s->ebuf, '}');
    if (s->ebuf.err) {
        return VG_ENOMEM;
    }
    return s->emit(s->emit_ctx, s->ebuf.p, s->ebuf.len);
}

/* ---------------------------------------------------------------- record parsing */

struct au_tok {
    const char *k, *v;
    size_t kl, vl;
    bool quoted;
};

/* The next key=value of a record body (bare words are skipped); false at the end or on an
   unterminated quote (*bad). */
static bool au_next(const char **pp, const char *end, struct au_tok *t, bool *bad)
{
    const char *q = *pp, *eq = NULL;
    for (;;) {
        while (q < end && (*q == ' ' || *q == '\n')) {
            q++;
        }
        if (q >= end) {
            return false;
        }
        const char *sp = memchr(q, ' ', (size_t)(end - q));
        sp = sp ? sp : end;
        eq = memchr(q, '=', (size_t)(sp - q));
        if (eq) {
            break;
        }
        q = sp;
    }
    t->k = q;
    t->kl = (size_t)(eq - q);
    t->v = eq + 1;
    t->quoted = t->v < end && *t->v == '"';
    if (t->quoted) {
        const char *cq = memchr(t->v + 1, '"', (size_t)(end - t->v - 1));
        if (!cq) {
            *bad = true;
            return false;
        }
        t->v++;
        t->vl = (size_t)(cq - t->v);
        *pp = cq + 1;
        return true;
    }
    const char *e = memchr(t->v, ' ', (size_t)(end - t->v));
    e = e ? e : end;
    t->vl = (size_t)(e - t->v);
    *pp = e;
    return true;
}

static bool au_key(const struct au_tok *t, const char *k)
{
    return t->kl == strlen(k) && memcmp(t->k, k, t->kl) == 0;
}

static int au_hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decode an untrusted-string value (quoted text, or upper-case hex) into out; bytes written
   (≤ outsz), -1 when malformed. "(null)" is empty. */
static ssize_t au_str(const struct au_tok *t, char *out, size_t outsz)
{
    if (t->quoted) {
        size_t n = VG_MIN(t->vl, outsz);
        memcpy(out, t->v, n);
        return (ssize_t)n;
    }
    if (t->vl == 6 && memcmp(t->v, "(null)", 6) == 0) {
        return 0;
    }
    if (t->vl % 2) {
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < t->vl && n < outsz; i += 2) {
        int hi = au_hexval(t->v[i]), lo = au_hexval(t->v[i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[n++] = (char)(hi << 4 | lo);
    }
    return (ssize_t)n;
}

/* A NUL-terminated string value into out (size ≥ 1); false when malformed. */
static bool au_cstr(const struct au_tok *t, char *out, size_t size)
{
    ssize_t n = au_str(t, out, size - 1);
    out[n > 0 ? n : 0] = '\0';
    return n >= 0 && memchr(out, '\0', (size_t)(n > 0 ? n : 0)) == NULL;
}

static int64_t au_num(const struct au_tok *t)
{
    char b[24];
    if (t->vl == 0 || t->vl >= sizeof(b)) {
        return -1;
    }
    memcpy(b, t->v, t->vl);
    b[t->vl] = '\0';
    char *end;
    long long v = strtoll(b, &end, 10);
    return *end ? -1 : v;
}

static bool au_syscall_tok(struct au_ev *e, const struct au_tok *t)
{
    if (au_key(t, "pid")) {
        e->pid = (int32_t)au_num(t);
    } else if (au_key(t, "ppid")) {
        e->ppid = (int32_t)au_num(t);
    } else if (au_key(t, "uid")) {
        e->uid = au_num(t);
    } else if (au_key(t, "gid")) {
        e->gid = au_num(t);
    } else if (au_key(t, "success")) {
        e->success = t->vl == 3 && memcmp(t->v, "yes", 3) == 0;
    } else if (au_key(t, "exe")) {
        return au_cstr(t, e->exe, sizeof(e->exe));
    } else if (au_key(t, "comm")) {
        return au_cstr(t, e->comm, sizeof(e->comm));
    } else if (au_key(t, "key")) {
        char k[64];
        e->ours = au_cstr(t, k, sizeof(k)) && strcmp(k, AU_KEY) == 0;
    }
    return true;
}

/* The argument index of an EXECVE key: "aN", "aN[i]" (a chunk); -1 for others ("argc",
   "aN_len"). */
static long au_arg_index(const struct au_tok *t)
{
    if (t->kl < 2 || t->k[0] != 'a' || t->k[1] < '0' || t->k[1] > '9') {
        return -1;
    }
    size_t i = 1;
    long n = 0;
    while (i < t->kl && t->k[i] >= '0' && t->k[i] <= '9' && n < 1000000) {
        n = n * 10 + (t->k[i++] - '0');
    }
    return i == t->kl || t->k[i] == '[' ? n : -1;
}

/* Append one argument (or chunk) to the event's NUL-separated argv, bounded by max. */
static bool au_execve_tok(struct au_ev *e, const struct au_tok *t, size_t max)
{
    long idx = au_arg_index(t);
    if (idx < 0) {
        return true;
    }
    e->args_seen = true;
    if (idx != e->last_arg && e->last_arg >= 0) {
        if (e->args_len < max) {
            e->args[e->args_len++] = '\0';
        } else {
            e->args_truncated = true;
        }
    }
    e->last_arg = idx;
    ssize_t n = au_str(t, e->args + e->args_len, max - e->args_len);
    if (n < 0) {
        return false;
    }
    size_t want = t->quoted ? t->vl : t->vl / 2;
    e->args_truncated |= (size_t)n < want;
    e->args_len += (size_t)n;
    return true;
}

/* ---------------------------------------------------------------- events */

static void au_ev_reset(struct au_ev *e, uint64_t serial, vg_time_t ts, uint64_t age)
{
    e->serial = serial;
    e->age = age;
    e->ts = ts;
    e->syscall = e->ours = e->success = false;
    e->pid = e->ppid = -1;
    e->uid = e->gid = -1;
    e->exe[0] = e->comm[0] = e->cwd[0] = '\0';
    e->args_len = 0;
    e->args_seen = e->args_truncated = false;
    e->last_arg = -1;
}

/* The slot of serial: the one in use, else (create) a free one, else the oldest (evicted:
   counted); NULL when not found and not to be created. */
static struct au_ev *au_slot(struct vg_agent_proc *p, struct au_state *s, uint64_t serial,
                             vg_time_t ts, bool create)
{
    struct au_ev *free_slot = NULL, *oldest = &s->ev[0];
    for (size_t i = 0; i < AU_SLOTS; i++) {
        struct au_ev *e = &s->ev[i];
        if (e->serial == serial) {
            return e;
        }
        if (!e->serial && !free_slot) {
            free_slot = e;
        }
        if (e->age < oldest->age) {
            oldest = e;
        }
    }
    if (!create) {
        return NULL;
    }
    if (!free_slot) {
        atomic_fetch_add(&p->st.backend_errors, 1); /* an event without its EOE */
        free_slot = oldest;
    }
    au_ev_reset(free_slot, serial, ts, ++s->age);
    return free_slot;
}

static void au_ev_emit(struct vg_agent_proc *p, struct au_state *s, struct au_ev *e)
{
    if (e->syscall && e->ours && e->success && e->pid > 0) {
        struct vg_agent_proc_obs o = {.kind = VG_AGENT_PROC_EXEC,
                                      .pid = e->pid,
                                      .ppid = e->ppid,
                                      .uid = e->uid,
                                      .gid = e->gid,
                                      .wstatus = -1,
                                      .ts = e->ts,
                                      .start = VG_TIME_NONE,
                                      .comm = e->comm[0] ? e->comm : NULL,
                                      .filename = e->exe[0] ? e->exe : NULL,
                                      .args = e->args_seen ? e->args : NULL,
                                      .args_len = e->args_len,
                                      .args_truncated = e->args_truncated};
        s->cwd = e->cwd;
        vg_agent_proc_observe(p, &o);
        s->cwd = NULL;
    }
    e->serial = 0;
}

/* "audit(SEC.MS:SERIAL): " → serial, time and the body after it; false when malformed. */
static bool au_head(const char *t, size_t n, uint64_t *serial, vg_time_t *ts, const char **body)
{
    unsigned long long sec, ms, ser;
    int used = 0;
    char tmp[64];
    size_t l = VG_MIN(n, sizeof(tmp) - 1);
    memcpy(tmp, t, l);
    tmp[l] = '\0';
    if (sscanf(tmp, "audit(%llu.%llu:%llu):%n", &sec, &ms, &ser, &used) != 3 || !used || !ser) {
        return false;
    }
    *serial = ser;
    *ts = (vg_time_t)sec * 1000000000LL + (vg_time_t)ms * 1000000LL;
    *body = t + used;
    return true;
}

static bool au_body(struct vg_agent_proc *p, struct au_ev *e, uint16_t type, const char *q,
                    const char *end)
{
    struct au_tok t;
    bool bad = false, ok = true;
    while (ok && au_next(&q, end, &t, &bad)) {
        if (type == AUDIT_SYSCALL) {
            ok = au_syscall_tok(e, &t);
        } else if (type == AUDIT_EXECVE) {
            ok = au_execve_tok(e, &t, (size_t)p->conf.args_max);
        } else if (type == AUDIT_CWD && au_key(&t, "cwd")) {
            ok = au_cstr(&t, e->cwd, sizeof(e->cwd));
        }
    }
    e->syscall |= type == AUDIT_SYSCALL;
    return ok && !bad;
}

/* One audit record (its text is t[0..len)) of an event. */
static void au_record(struct vg_agent_proc *p, struct au_state *s, uint16_t type, const char *t,
                      size_t len)
{
    if (type != AUDIT_SYSCALL && type != AUDIT_EXECVE && type != AUDIT_CWD && type != AUDIT_EOE) {
        return;
    }
    size_t n = strnlen(t, len);
    uint64_t serial;
    vg_time_t ts;
    const char *body;
    if (!au_head(t, n, &serial, &ts, &body)) {
        atomic_fetch_add(&p->st.backend_errors, 1);
        return;
    }
    struct au_ev *e = au_slot(p, s, serial, ts, type != AUDIT_EOE);
    if (!e) {
        return; /* the end of an event none of whose records we keep */
    }
    if (type == AUDIT_EOE) {
        au_ev_emit(p, s, e);
    } else if (!au_body(p, e, type, body, t + n)) {
        atomic_fetch_add(&p->st.backend_errors, 1);
        e->ours = false; /* malformed: the event is dropped at its EOE */
    }
}

/* Read what is queued; -errno on a read error (ENOBUFS: records lost). */
static int au_drain(struct vg_agent_proc *p, struct au_state *s)
{
    for (;;) {
        ssize_t n = recv(s->fd, s->buf, AU_BUF, MSG_DONTWAIT);
        if (n < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
        }
        const struct nlmsghdr *nh = (const struct nlmsghdr *)s->buf;
        if ((size_t)n >= NLMSG_HDRLEN && au_is_record(nh)) {
            au_record(p, s, nh->nlmsg_type, NLMSG_DATA(nh), (size_t)n - NLMSG_HDRLEN);
        }
    }
}

/* ---------------------------------------------------------------- the backend */

static int au_alloc(struct vg_agent_proc *p, struct au_state **out)
{
    struct au_state *s = vg_calloc(1, sizeof(*s));
    if (!s) {
        return VG_ENOMEM;
    }
    s->fd = -1;
    s->ebuf = (struct vg_sbuf)VG_SBUF_INIT;
    *out = s;
    if (!(s->buf = vg_malloc(AU_BUF))) {
        return VG_ENOMEM;
    }
    for (size_t i = 0; i < AU_SLOTS; i++) {
        if (!(s->ev[i].args = vg_malloc((size_t)p->conf.args_max + 1))) {
            return VG_ENOMEM;
        }
    }
    return VG_OK;
}

static int audit_open(struct vg_agent_proc *p, char *err, size_t errsz)
{
    struct au_state *s = NULL;
    int rc = au_alloc(p, &s);
    if (rc == VG_OK) {
        rc = au_conf_ppid(s, err, errsz);
    }
    if (rc == VG_OK) {
        rc = au_setup(p, s, err, errsz);
    }
    if (rc != VG_OK) {
        au_free(s);
        return rc;
    }
    VG_INFO(COMP, "audit: %s%s, rule key %s%s",
            s->registered ? "registered as the daemon" : "read-only log group",
            s->enabled_changed ? ", auditing enabled" : "", AU_KEY,
            s->ppid_filter ? " (ppid filter)" : "");
    s->emit = p->emit;
    s->emit_ctx = p->emit_ctx;
    p->emit = au_emit;
    p->emit_ctx = p;
    p->be_state = s;
    return VG_OK;
}

static void audit_run(struct vg_agent_proc *p)
{
    struct au_state *s = p->be_state;
    int w;
    while ((w = vg_agent_proc_wait(p, s->fd, 1000)) >= 0) {
        int rc = w > 0 ? au_drain(p, s) : 0;
        if (rc == -ENOBUFS) {
            atomic_fetch_add(&p->st.lost, 1);
            vg_agent_proc_notice_lost(p, 0);
        } else if (rc < 0) {
            atomic_fetch_add(&p->st.backend_errors, 1);
        }
    }
}

static void audit_close(struct vg_agent_proc *p)
{
    struct au_state *s = p->be_state;
    if (!s) {
        return;
    }
    p->emit = s->emit;
    p->emit_ctx = s->emit_ctx;
    au_free(s);
    p->be_state = NULL;
}

const struct vg_agent_proc_backend vg_agent_proc_be_audit = {
    .name = "audit",
    .open = audit_open,
    .run = audit_run,
    .close = audit_close,
};
