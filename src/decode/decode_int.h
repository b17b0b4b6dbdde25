/*
 * decode_int.h — internals shared by the decoders of the chain (decode_chain.c and the
 * decode_<format>.c files): the per-record decoding context, the pre-interned field ids,
 * the "add" helpers that turn a failed allocation into one sticky status, the syslog header
 * parser, key=value scanning and small scanners (IP addresses, ports, timestamps).
 *
 * Nothing here is part of the public API (decode.h). Every function is safe to call from
 * several threads on distinct contexts; the field id table is written once, before any
 * decoder runs (vg_decode_fields_init, called by vg_decoder_create).
 */
#ifndef VG_DECODE_INT_H
#define VG_DECODE_INT_H

#include "decode/decode.h"

#include <string.h>

/* ---------------------------------------------------------------- field ids */

/*
 * Field names every decoder uses, interned once: X(enum suffix, "name"). Native syslog names
 * first (kept from decode_line.c: hunt and the Sigma mapping use them), then the ECS names.
 */
#define VG_DECODE_FIELDS(X)                                                                        \
    X(MESSAGE, "message")                                                                          \
    X(HOSTNAME, "hostname")                                                                        \
    X(PROGRAM, "program")                                                                          \
    X(PID, "pid")                                                                                  \
    X(FACILITY, "facility")                                                                        \
    X(SEVERITY, "severity")                                                                        \
    X(MSGID, "msgid")                                                                              \
    X(EVENT_MODULE, "event.module")                                                                \
    X(EVENT_DATASET, "event.dataset")                                                              \
    X(EVENT_CATEGORY, "event.category")                                                            \
    X(EVENT_TYPE, "event.type")                                                                    \
    X(EVENT_ACTION, "event.action")                                                                \
    X(EVENT_OUTCOME, "event.outcome")                                                              \
    X(EVENT_CODE, "event.code")                                                                    \
    X(EVENT_REASON, "event.reason")                                                                \
    X(EVENT_SEVERITY, "event.severity")                                                            \
    X(EVENT_PROVIDER, "event.provider")                                                            \
    X(EVENT_DURATION, "event.duration")                                                            \
    X(EVENT_REPEAT_COUNT, "event.repeat_count")                                                    \
    X(HOST_NAME, "host.name")                                                                      \
    X(HOST_IP, "host.ip")                                                                          \
    X(USER_NAME, "user.name")                                                                      \
    X(USER_ID, "user.id")                                                                          \
    X(USER_DOMAIN, "user.domain")                                                                  \
    X(USER_TARGET_NAME, "user.target.name")                                                        \
    X(USER_TARGET_ID, "user.target.id")                                                            \
    X(USER_EFFECTIVE_NAME, "user.effective.name")                                                  \
    X(USER_EFFECTIVE_ID, "user.effective.id")                                                      \
    X(USER_AUDIT_ID, "user.audit.id")                                                              \
    X(GROUP_NAME, "group.name")                                                                    \
    X(GROUP_ID, "group.id")                                                                        \
    X(SOURCE_IP, "source.ip")                                                                      \
    X(SOURCE_PORT, "source.port")                                                                  \
    X(SOURCE_ADDRESS, "source.address")                                                            \
    X(SOURCE_MAC, "source.mac")                                                                    \
    X(SOURCE_BYTES, "source.bytes")                                                                \
    X(SOURCE_NAT_IP, "source.nat.ip")                                                              \
    X(SOURCE_NAT_PORT, "source.nat.port")                                                          \
    X(DEST_IP, "destination.ip")                                                                   \
    X(DEST_PORT, "destination.port")                                                               \
    X(DEST_ADDRESS, "destination.address")                                                         \
    X(DEST_MAC, "destination.mac")                                                                 \
    X(DEST_BYTES, "destination.bytes")                                                             \
    X(DEST_NAT_IP, "destination.nat.ip")                                                           \
    X(DEST_NAT_PORT, "destination.nat.port")                                                       \
    X(NET_TRANSPORT, "network.transport")                                                          \
    X(NET_PROTOCOL, "network.protocol")                                                            \
    X(NET_DIRECTION, "network.direction")                                                          \
    X(NET_BYTES, "network.bytes")                                                                  \
    X(NET_PACKETS, "network.packets")                                                              \
    X(NET_COMMUNITY_ID, "network.community_id")                                                    \
    X(PROCESS_NAME, "process.name")                                                                \
    X(PROCESS_PID, "process.pid")                                                                  \
    X(PROCESS_PPID, "process.parent.pid")                                                          \
    X(PROCESS_PARENT_EXE, "process.parent.executable")                                             \
    X(PROCESS_PARENT_CMDLINE, "process.parent.command_line")                                       \
    X(PROCESS_CMDLINE, "process.command_line")                                                     \
    X(PROCESS_EXE, "process.executable")                                                           \
    X(PROCESS_CWD, "process.working_directory")                                                    \
    X(PROCESS_TTY, "process.tty.name")                                                             \
    X(FILE_PATH, "file.path")                                                                      \
    X(FILE_NAME, "file.name")                                                                      \
    X(FILE_HASH, "file.hash")                                                                      \
    X(URL_ORIGINAL, "url.original")                                                                \
    X(URL_PATH, "url.path")                                                                        \
    X(URL_QUERY, "url.query")                                                                      \
    X(URL_DOMAIN, "url.domain")                                                                    \
    X(HTTP_METHOD, "http.request.method")                                                          \
    X(HTTP_STATUS, "http.response.status_code")                                                    \
    X(HTTP_VERSION, "http.version")                                                                \
    X(HTTP_REFERRER, "http.request.referrer")                                                      \
    X(HTTP_RESP_BYTES, "http.response.body.bytes")                                                 \
    X(USER_AGENT, "user_agent.original")                                                           \
    X(LOG_LEVEL, "log.level")                                                                      \
    X(RULE_NAME, "rule.name")                                                                      \
    X(RULE_ID, "rule.id")                                                                          \
    X(RULE_CATEGORY, "rule.category")                                                              \
    X(OBSERVER_VENDOR, "observer.vendor")                                                          \
    X(OBSERVER_PRODUCT, "observer.product")                                                        \
    X(OBSERVER_VERSION, "observer.version")                                                        \
    X(OBSERVER_NAME, "observer.name")                                                              \
    X(OBSERVER_IP, "observer.ip")                                                                  \
    X(OBSERVER_SERIAL, "observer.serial_number")                                                   \
    X(OBSERVER_IN_IF, "observer.ingress.interface.name")                                           \
    X(OBSERVER_OUT_IF, "observer.egress.interface.name")                                           \
    X(OBSERVER_IN_ZONE, "observer.ingress.zone")                                                   \
    X(OBSERVER_OUT_ZONE, "observer.egress.zone")                                                   \
    X(DNS_QNAME, "dns.question.name")                                                              \
    X(DNS_QTYPE, "dns.question.type")                                                              \
    X(DNS_RCODE, "dns.response_code")                                                              \
    X(TLS_SNI, "tls.client.server_name")                                                           \
    X(TLS_VERSION, "tls.version")                                                                  \
    X(ERROR_MESSAGE, "error.message")                                                              \
    X(SERVICE_NAME, "service.name")                                                                \
    X(GROUP_TARGET, "group.target.name")                                                           \
    X(REGISTRY_PATH, "registry.path")                                                              \
    X(CLOUD_PROVIDER, "cloud.provider")                                                            \
    X(CEF_VERSION, "cef.version")                                                                  \
    X(CEF_VENDOR, "cef.device_vendor")                                                             \
    X(CEF_PRODUCT, "cef.device_product")                                                           \
    X(CEF_DEV_VERSION, "cef.device_version")                                                       \
    X(CEF_SIG_ID, "cef.signature_id")                                                              \
    X(CEF_NAME, "cef.name")                                                                        \
    X(CEF_SEVERITY, "cef.severity")                                                                \
    X(LEEF_VERSION, "leef.version")                                                                \
    X(LEEF_VENDOR, "leef.vendor")                                                                  \
    X(LEEF_PRODUCT, "leef.product")                                                                \
    X(LEEF_PROD_VERSION, "leef.product_version")                                                   \
    X(LEEF_EVENT_ID, "leef.event_id")                                                              \
    X(AUDIT_SERIAL, "audit.serial")                                                                \
    X(AUDIT_TYPE, "type")                                                                          \
    X(AUDIT_NODE, "node")                                                                          \
    X(AUDIT_SYSCALL, "SYSCALL")                                                                    \
    X(AUDIT_ARCH, "ARCH")                                                                          \
    X(TAGS, "tags")                                                                                \
    X(KV_DATE, "date")                                                                             \
    X(KV_TIME, "time")                                                                             \
    X(KV_STATUS, "status")                                                                         \
    X(KV_ACTION, "action")                                                                         \
    X(KV_SRC, "src")                                                                               \
    X(KV_DST, "dst")                                                                               \
    X(KV_PROTO, "proto")                                                                           \
    X(KV_MSG, "msg")                                                                               \
    X(LABELS_PREFIX, "log.prefix")

enum vg_decode_field {
#define VG_DF_ENUM(e, s) VG_DF_##e,
    VG_DECODE_FIELDS(VG_DF_ENUM)
#undef VG_DF_ENUM
        VG_DF__COUNT
};

extern uint32_t vg_decode_fid[VG_DF__COUNT];
#define VG_DF(e) (vg_decode_fid[VG_DF_##e])

/* Intern the table above once (thread-safe, idempotent). Returns VG_OK or VG_ENOMEM. */
int vg_decode_fields_init(void);

/* ---------------------------------------------------------------- syslog header */

/* What vg_syslog_header_parse found at the start of a record; pointers into the record. */
struct vg_syslog_hdr {
    int pri;           /* <PRI> value, -1 when absent */
    int rfc;           /* 5424 or 3164 */
    vg_time_t ts;      /* VG_TIME_NONE when absent */
    bool year_implied; /* BSD timestamp without a year: ts uses the year given to the parser */
    const char *host;  /* NULL when absent */
    size_t host_len;
    const char *prog; /* NULL when absent (no tag) */
    size_t prog_len;
    const char *pid;
    size_t pid_len;
    const char *msgid; /* RFC 5424 only */
    size_t msgid_len;
    const char *sd; /* RFC 5424 structured data, from '[' to the last ']' */
    size_t sd_len;
    const char *msg;
    size_t msg_len;
};

/*
 * Recognise a syslog header: optional <PRI>, then RFC 5424 (`1 TS HOST APP PROCID MSGID SD`)
 * or a BSD timestamp (Mmm dd hh:mm:ss[.frac][ yyyy], yyyy Mmm dd hh:mm:ss, ISO 8601 with T
 * or a space), an optional host and an optional `prog[pid]:` tag. year completes BSD
 * timestamps. Returns true when the record has a header (h filled), false otherwise.
 */
bool vg_syslog_header_parse(const char *p, size_t n, int year, struct vg_syslog_hdr *h);

/*
 * Seconds and nanoseconds → vg_time_t; VG_TIME_NONE outside what int64 nanoseconds hold
 * (years 1678..2262): a log line can say "year 9999", and that must not overflow.
 */
static inline vg_time_t vg_decode_ns(int64_t secs, int64_t ns)
{
    if (secs < -9200000000LL || secs > 9200000000LL) {
        return VG_TIME_NONE;
    }
    return secs * 1000000000 + ns;
}
/* vg_time_parse for untrusted text: years the core parser cannot represent are refused. */
int vg_dec_time_parse(const char *p, size_t n, vg_time_t *out);
/* "Mmm dd hh:mm:ss[.frac]" or "Mmm dd yyyy hh:mm:ss" at p → *ts; *used = bytes read. */
bool vg_decode_bsd_time(const char *p, size_t n, int year, vg_time_t *ts, size_t *used);
/* "Mmm" → 1..12, 0 if not a month abbreviation (case-sensitive, as syslog writes them). */
int vg_decode_month(const char *p);
/* Seconds since the epoch of a civil UTC date and time (no validation beyond ranges). */
int64_t vg_decode_epoch(int year, int month, int day, int hour, int min, int sec);

/* The kind of a JSON document's event: vigie-agent's (Linux only) are Linux events, so
   Sigma's linux logsources apply; any other document is generic. */
enum vg_event_kind vg_dec_json_kind(const struct vg_json *doc);

/* ---------------------------------------------------------------- decoding context */

/*
 * One record being decoded. Decoders look at it (msg, header, doc), decide whether it is
 * theirs and return VG_DECLINED without touching the event when it is not; once they claim
 * (vg_dctx_claim) they add fields through the helpers below and return ctx->rc.
 */
struct vg_dctx {
    struct vg_event *ev;
    int rc;          /* first failed add (VG_ENOMEM/VG_ELIMIT); later adds are no-ops */
    const char *rec; /* the whole record (trailing CR/LF removed) */
    size_t len;
    const char *msg; /* message: after the syslog header, else the whole record */
    size_t mlen;
    bool has_hdr;
    bool claimed;
    bool sd_done;      /* the decoder consumed the RFC 5424 structured data itself */
    bool own_process;  /* process.* describe another process than the syslog sender */
    uint32_t repeated; /* N of syslog's "message repeated N times: [ msg]", msg unwrapped */
    struct vg_syslog_hdr hdr;
    const struct vg_json *doc; /* msg parsed as a JSON object, else NULL */
    int year;                  /* for timestamps without one */
    struct vg_decoder *dec;    /* stream state (auditd join, W3C header) */
    const struct vg_decoder_def *cur;
    char *err; /* reason for VG_EINVAL (errsz bytes) */
    size_t errsz;
};

/*
 * Claim the record for the current decoder: sets event.module, the kind, and adds the syslog
 * header fields (hostname/host.name, program/process.name, pid/process.pid, facility,
 * severity, msgid) when the record had one. Call once, before adding other fields.
 */
void vg_dctx_claim(struct vg_dctx *c, enum vg_event_kind kind);
/* Reject the record as malformed: formats the reason, returns VG_EINVAL. */
int vg_dctx_reject(struct vg_dctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Field adds; each is a no-op once c->rc is set, and skips empty values. */
void vg_dctx_str(struct vg_dctx *c, uint32_t id, const char *s, size_t n);
/* Like vg_dctx_str but also skips "-" (the usual "no value" of text logs). */
void vg_dctx_opt(struct vg_dctx *c, uint32_t id, const char *s, size_t n);
void vg_dctx_lit(struct vg_dctx *c, uint32_t id, const char *lit);
/* Copy s into the event arena first (s is not borrowed). */
void vg_dctx_dup(struct vg_dctx *c, uint32_t id, const char *s, size_t n);
/* Integer when s parses as one (decimal), else the string. */
void vg_dctx_num(struct vg_dctx *c, uint32_t id, const char *s, size_t n);
void vg_dctx_int(struct vg_dctx *c, uint32_t id, int64_t v);
/* A process id written in decimal or as 0x-hex (Windows Security events) → integer. */
void vg_dctx_pid(struct vg_dctx *c, uint32_t id, const char *s, size_t n);
/* An IP address (IPv4, IPv6, optional brackets) as VG_V_IP; anything else is skipped. */
bool vg_dctx_ip(struct vg_dctx *c, uint32_t id, const char *s, size_t n);
/* A port 0..65535 as an integer; anything else is skipped. */
bool vg_dctx_port(struct vg_dctx *c, uint32_t id, const char *s, size_t n);
/* IP to ip_id when it is one, else the text to addr_id (host names). */
void vg_dctx_addr(struct vg_dctx *c, uint32_t ip_id, uint32_t addr_id, const char *s, size_t n);
/* "6" → "tcp", "17" → "udp", names lower-cased; into network.transport. */
void vg_dctx_transport(struct vg_dctx *c, const char *s, size_t n);
/* event.outcome + event.type from a firewall action word (deny/drop/block... → failure,
 * denied; allow/accept/pass/permit... → success, allowed); nothing for other words. */
void vg_dctx_action_outcome(struct vg_dctx *c, const char *a, size_t n);
/* Set ev->ts from text in the formats vg_time_parse accepts (no-op otherwise). */
void vg_dctx_time(struct vg_dctx *c, const char *s, size_t n);
/* Set ev->ts from epoch seconds/ms/us/ns text ("1557773104815101919", "1624643172.076"). */
void vg_dctx_epoch(struct vg_dctx *c, const char *s, size_t n);
/* A JSON value as dotted fields under prefix (arrays repeat the field), without allocating. */
void vg_dctx_flatten(struct vg_dctx *c, const struct vg_json *doc, const char *prefix, size_t pl);
/* Intern a name (NUL-free bytes) and add s under it. */
void vg_dctx_named(struct vg_dctx *c, const char *name, size_t nl, const char *s, size_t n);

/* ---------------------------------------------------------------- scanners */

static inline bool vg_dec_digit(char c)
{
    return (unsigned)((unsigned char)c - '0') < 10u;
}
static inline bool vg_dec_hex(char c)
{
    return vg_dec_digit(c) || (unsigned)((unsigned char)(c | 32) - 'a') < 6u;
}
static inline bool vg_dec_starts(const char *p, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(p, lit, l) == 0;
}
static inline bool vg_dec_eq(const char *p, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(p, lit, n) == 0;
}
bool vg_dec_is_ipv4(const char *s, size_t n);
bool vg_dec_is_ip(const char *s, size_t n);
/* Parse a decimal integer of exactly n digits (no sign); false on overflow or junk. */
bool vg_dec_uint(const char *s, size_t n, uint64_t *out);
/* Next space-separated word of p[*i..n) (skips leading spaces). */
bool vg_dec_word(const char *p, size_t n, size_t *i, const char **w, size_t *wl);
/* Find lit in p[0..n); returns the offset or n. */
size_t vg_dec_find(const char *p, size_t n, const char *lit);
/* Case-insensitive ASCII prefix test. */
bool vg_dec_istarts(const char *p, size_t n, const char *lit);

/* ---------------------------------------------------------------- message patterns */

/*
 * Hand-written message patterns (no regex in the hot path): literal text and captures
 *   %u user word, %U the same after an optional "invalid user "/"illegal user "/
 *   "authenticating user "/"user " prefix, %t target user, %i address, %p port (digits), %w any
 *   word, %* anything: at the end, the rest; before literal text, up to that text's first
 *   occurrence (no backtracking, so matching stays linear).
 * A capture ends at a space or at the literal byte that follows it in the pattern. Quotes
 * around a user ('bob') are removed. The whole message must match unless the pattern
 * ends with %*.
 */
enum { VG_CAP_USER, VG_CAP_TARGET, VG_CAP_ADDR, VG_CAP_PORT, VG_CAP_WORD, VG_CAP__COUNT };
struct vg_caps {
    const char *s[VG_CAP__COUNT];
    size_t n[VG_CAP__COUNT];
};
bool vg_dec_pmatch(const char *pat, const char *m, size_t n, struct vg_caps *caps);
/* A row of a pattern table and what a match means in ECS terms. */
struct vg_dpattern {
    const char *pat;
    const char *action;   /* event.action */
    const char *outcome;  /* event.outcome or NULL */
    const char *category; /* event.category or NULL */
    const char *type;     /* event.type or NULL */
};
/* First row matching m (NULL if none); caps filled. */
const struct vg_dpattern *vg_dec_pmatch_table(const struct vg_dpattern *t, size_t nt, const char *m,
                                              size_t n, struct vg_caps *caps);
/* Add event.action/outcome/category/type of row and the captures (user.name,
 * user.target.name, source.ip|address, source.port). */
void vg_dctx_pattern(struct vg_dctx *c, const struct vg_dpattern *row, const struct vg_caps *caps);

/* ---------------------------------------------------------------- key=value */

/*
 * A key=value scanner over text such as `a=1 b="x y" c='z'`. sep is the pair separator
 * (' ' also accepts tabs and runs of spaces; '|' or '\t' for LEEF; ',' ...). Values may be
 * double- or single-quoted (backslash escapes inside quotes are kept verbatim; kv_unquote
 * removes them) or bare up to the next separator. Keys are [A-Za-z0-9_.:/@-]+. Text that is
 * not a pair is skipped.
 */
struct vg_kv_iter {
    const char *p;
    size_t n;
    size_t i;
    char sep;
};
struct vg_kv {
    const char *key;
    size_t kl;
    const char *val; /* without the quotes */
    size_t vl;
    char quote; /* 0, '"' or '\'' */
};
void vg_kv_init(struct vg_kv_iter *it, const char *p, size_t n, char sep);
bool vg_kv_next(struct vg_kv_iter *it, struct vg_kv *kv);
/* Count the pairs of p (up to max): decoders use it to decide whether text is key=value. */
size_t vg_kv_count(const char *p, size_t n, char sep, size_t max);
/* Value without backslash escapes (copied into the arena only when it had some). */
bool vg_kv_unescape(struct vg_dctx *c, const char *v, size_t n, const char **out, size_t *on);

/* ---------------------------------------------------------------- key maps */

/* How a native key's value feeds an ECS field. */
enum vg_kmap_conv {
    VG_KM_STR = 0, /* copy as string */
    VG_KM_IP,      /* IP address (skipped if not one) */
    VG_KM_ADDR,    /* IP into the field, else the text into the matching .address */
    VG_KM_PORT,    /* port number */
    VG_KM_NUM,     /* integer when it is one */
    VG_KM_PROTO,   /* protocol number or name → network.transport */
    VG_KM_TIME,    /* timestamp text → ev->ts */
    VG_KM_EPOCH,   /* epoch number → ev->ts */
    VG_KM_PID,     /* process id, decimal or 0x-hex (Windows Security events) */
};
struct vg_kmap_ent {
    const char *key;
    int ecs; /* enum vg_decode_field, or -1 */
    int conv;
};
/*
 * A native key → ECS rule table, compiled once into an array indexed by the interned id of
 * the native key (ids are dense, so a lookup is one bounds check and a load).
 */
struct vg_kmap {
    const struct vg_kmap_ent *ents;
    size_t n;
    uint32_t max_id;
    int16_t *by_id; /* index into ents, -1 = none */
    uint32_t *ids;  /* interned id of each entry's key */
};
int vg_kmap_build(struct vg_kmap *m);
/* Add the ECS field(s) for native key id with value v (no-op if the key has no rule). */
void vg_kmap_apply(struct vg_dctx *c, const struct vg_kmap *m, uint32_t id, const char *v,
                   size_t vl);
/* For every entry whose native field the event has (first occurrence), add its ECS field:
 * the way JSON decoders map flattened names after vg_event_from_json. */
void vg_kmap_apply_event(struct vg_dctx *c, const struct vg_kmap *m);
/* Build once (under a process-wide once): every map used by the decoders. */
int vg_decode_kmaps_init(void);
int vg_decode_kmaps_cef_init(void);
int vg_decode_kmaps_json_init(void);
int vg_decode_kmaps_fw_init(void);
int vg_decode_kmaps_web_init(void);
int vg_decode_kmaps_apps_init(void);
extern struct vg_kmap vg_kmap_kv, vg_kmap_fortinet, vg_kmap_sonicwall, vg_kmap_cef, vg_kmap_leef;

/*
 * Add every pair of a key=value text as native fields (value typed with vg_dctx_num when
 * numeric is set) and apply map (may be NULL). Returns the number of pairs added.
 */
size_t vg_dctx_kv(struct vg_dctx *c, const char *p, size_t n, char sep, const struct vg_kmap *map,
                  bool numeric);

/* ---------------------------------------------------------------- decoders */

/*
 * Decoder callbacks (struct vg_decoder_def in decode.h) return VG_OK (claimed; the event
 * holds the result), VG_DECLINED (not this format, nothing added), VG_AGAIN (record buffered,
 * no event yet), VG_EINVAL (claimed but malformed: c->err says why) or VG_ENOMEM.
 */

/* The decoders, one function each (decode_<file>.c). */
int vg_dec_auditd(struct vg_dctx *c);
int vg_dec_cef(struct vg_dctx *c);
int vg_dec_leef(struct vg_dctx *c);
int vg_dec_kv(struct vg_dctx *c);
int vg_dec_fortinet(struct vg_dctx *c);
int vg_dec_sonicwall(struct vg_dctx *c);
int vg_dec_sshd(struct vg_dctx *c);
int vg_dec_sudo(struct vg_dctx *c);
int vg_dec_su(struct vg_dctx *c);
int vg_dec_pam(struct vg_dctx *c);
int vg_dec_shadow(struct vg_dctx *c);
int vg_dec_netfilter(struct vg_dctx *c);
int vg_dec_cisco_asa(struct vg_dctx *c);
int vg_dec_cisco_ios(struct vg_dctx *c);
int vg_dec_paloalto(struct vg_dctx *c);
int vg_dec_checkpoint(struct vg_dctx *c);
int vg_dec_pf(struct vg_dctx *c);
int vg_dec_web_access(struct vg_dctx *c);
int vg_dec_apache_error(struct vg_dctx *c);
int vg_dec_nginx_error(struct vg_dctx *c);
int vg_dec_iis(struct vg_dctx *c);
int vg_dec_squid(struct vg_dctx *c);
int vg_dec_windows(struct vg_dctx *c);
int vg_dec_suricata(struct vg_dctx *c);
int vg_dec_zeek(struct vg_dctx *c);
int vg_dec_json(struct vg_dctx *c);
int vg_dec_syslog(struct vg_dctx *c);
int vg_dec_plain(struct vg_dctx *c);
int vg_dec_applog(struct vg_dctx *c);
int vg_dec_vsftpd(struct vg_dctx *c);
int vg_dec_f5(struct vg_dctx *c);
int vg_dec_sophos(struct vg_dctx *c);
int vg_dec_huawei(struct vg_dctx *c);
int vg_dec_xml(struct vg_dctx *c);
int vg_dec_daemon(struct vg_dctx *c);

/* auditd stream state (decode_audit.c), owned by the decoder object. */
struct vg_audit_join;
struct vg_audit_join *vg_audit_join_create(void);
void vg_audit_join_destroy(struct vg_audit_join *j);
struct vg_audit_join *vg_decoder_audit(struct vg_decoder *d);
/* Emit the buffered auditd event into c->ev: VG_OK, or VG_EOF when nothing is buffered. */
int vg_audit_join_flush(struct vg_audit_join *j, struct vg_dctx *c);

/* x86_64 system call names by number (decode_audit_sys.c); NULL where none. */
extern const char *const vg_audit_syscalls_x86_64[];
extern const size_t vg_audit_syscalls_x86_64_n;

/* W3C "#Fields:" state of the stream (decode_webx.c). */
struct vg_w3c_state {
    uint32_t fields[64];
    uint32_t n;
};
struct vg_w3c_state *vg_decoder_w3c(struct vg_decoder *d);

/* Syslog message decoders that need the Windows helpers of decode_winjson.c. */
int vg_winjson_decode_any(struct vg_dctx *c, const struct vg_json *doc);

/*
 * One RFC 5424 SD-ELEMENT `[id k="v" ...]` starting at p[i] == '[' (quotes and backslash
 * escapes respected): returns the index of its closing ']' (n when unterminated) and sets
 * *params to where its parameters begin (the closing index when it has none).
 */
static inline size_t vg_sd_element(const char *p, size_t n, size_t i, size_t *params)
{
    size_t s = i;
    bool inq = false;
    while (i < n && (inq || p[i] != ']')) {
        if (p[i] == '\\' && i + 1 < n) {
            i++;
        } else if (p[i] == '"') {
            inq = !inq;
        }
        i++;
    }
    size_t id_end = s + 1;
    while (id_end < i && p[id_end] != ' ') {
        id_end++;
    }
    *params = id_end;
    return i;
}

#endif /* VG_DECODE_INT_H */
