/*
 * decode_chain.c — the decoder chain of `vigie server` and `vigie decode`: one record in,
 * one normalised event out.
 *
 * Per record: bounds and byte checks (size, NUL, UTF-8: counted rejections, never a crash),
 * one syslog header parse, one JSON parse when the message is an object, then the table of
 * decoders in order — specific formats first, `syslog` and `plain` last, so every well-formed
 * record yields an event. A decoder that declines has added nothing (and if it did, the
 * fields are rolled back), so the next one starts clean. Stream state (the auditd event being
 * joined, the W3C field list) lives in the decoder object, which belongs to one thread.
 */
#include "decode/decode_int.h"

#include <time.h>

static const struct vg_decoder_def table[] = {
    {"windows", "Windows event log records",
     "JSON (evtx_dump, winlogbeat winlog.*, NXLog, Wazuh win.*), event XML (Sysmon for Linux), "
     "OSSEC WinEvtLog lines",
     vg_dec_windows},
    {"suricata", "Suricata EVE JSON", "JSON with event_type and src_ip/dest_ip", vg_dec_suricata},
    {"zeek", "Zeek (Bro) logs as JSON", "JSON with uid and id.orig_h/id.resp_h", vg_dec_zeek},
    {"json", "any other JSON object", "JSON object, flattened with dotted keys", vg_dec_json},
    {"auditd", "Linux audit records, multi-record events joined",
     "type=X msg=audit(T:S): k=v ..., also via syslog and kernel (apparmor) lines", vg_dec_auditd},
    {"cef", "ArcSight Common Event Format", "CEF:0|vendor|product|version|id|name|sev|ext",
     vg_dec_cef},
    {"leef", "IBM QRadar Log Event Extended Format", "LEEF:1.0|... and LEEF:2.0|...|delim|",
     vg_dec_leef},
    {"netfilter", "iptables/nftables/UFW kernel log lines",
     "IN= OUT= SRC= DST= PROTO= SPT= DPT=", vg_dec_netfilter},
    {"pam", "PAM modules (pam_unix, pam_faillock, ...)",
     "pam_unix(svc:type): ... or prog(pam_unix)", vg_dec_pam},
    {"sshd", "OpenSSH server", "syslog program sshd", vg_dec_sshd},
    {"sudo", "sudo commands and failures", "syslog program sudo", vg_dec_sudo},
    {"su", "su user switches", "syslog program su", vg_dec_su},
    {"vsftpd", "vsftpd FTP server", "vsftpd.log lines and syslog program vsftpd", vg_dec_vsftpd},
    {"shadow-utils", "account management",
     "useradd, userdel, usermod, groupadd, groupdel, passwd, "
     "chpasswd, chage, gpasswd",
     vg_dec_shadow},
    {"dovecot", "Dovecot IMAP/POP3", "syslog program dovecot (and its own log's Info: lines)",
     vg_dec_daemon},
    {"postfix", "Postfix MTA", "syslog programs postfix/*", vg_dec_daemon},
    {"proftpd", "ProFTPD", "syslog program proftpd", vg_dec_daemon},
    {"named", "BIND named", "syslog program named", vg_dec_daemon},
    {"dropbear", "Dropbear SSH", "syslog program dropbear", vg_dec_daemon},
    {"doas", "OpenBSD doas", "syslog program doas", vg_dec_daemon},
    {"smbd", "Samba", "syslog programs smbd, nmbd", vg_dec_daemon},
    {"openvpn", "OpenVPN server", "syslog program openvpn", vg_dec_daemon},
    {"cisco-asa", "Cisco ASA / PIX / FTD", "%ASA-n-nnnnnn:, %PIX-, %FTD- messages",
     vg_dec_cisco_asa},
    {"cisco-ios", "Cisco IOS and other %FAC-SEV-MNEMONIC messages", "%SEC-6-IPACCESSLOGP: ...",
     vg_dec_cisco_ios},
    {"huawei", "Huawei USG / VRP devices", "%%01MODULE/SEV/MNEMONIC(l): k=v, k=v", vg_dec_huawei},
    {"f5-bigip", "F5 BIG-IP system messages", "syslog with a level word and an 8-hex message id",
     vg_dec_f5},
    {"checkpoint", "Check Point (syslog exporter)", "RFC 5424 with [key:\"value\"; ...] data",
     vg_dec_checkpoint},
    {"paloalto", "Palo Alto Networks PAN-OS", "CSV TRAFFIC/THREAT/SYSTEM/CONFIG logs",
     vg_dec_paloalto},
    {"pf", "pfSense/OpenBSD pf filterlog", "filterlog: rule,...,action,dir,ipver,... CSV",
     vg_dec_pf},
    {"sophos", "Sophos XG / SFOS firewalls", "key=value with device=\"SFW\" log_type= ...",
     vg_dec_sophos},
    {"fortinet", "Fortinet FortiGate/FortiMail/FortiDDoS/FortiAuthenticator",
     "key=value with date= time= devid=/device_id= logid=/log_id= type=", vg_dec_fortinet},
    {"sonicwall", "SonicWall firewalls",
     "key=value with id= sn= time= fw= pri= m=", vg_dec_sonicwall},
    {"web-access", "Apache/nginx access logs (NCSA common/combined)",
     "host ident user [time] \"request\" status bytes [\"referer\" \"agent\"]", vg_dec_web_access},
    {"apache-error", "Apache httpd error log", "[time] [module:level] [pid N] [client ip] msg",
     vg_dec_apache_error},
    {"nginx-error", "nginx error log", "yyyy/mm/dd hh:mm:ss [level] pid#tid: msg",
     vg_dec_nginx_error},
    {"iis", "IIS W3C extended logs", "#Fields: header, or the default IIS field sets", vg_dec_iis},
    {"squid", "Squid native access log", "time elapsed client code/status bytes method url ...",
     vg_dec_squid},
    {"xml", "XML records (simple elements)", "<root><name>text</name>...</root>, also in syslog",
     vg_dec_xml},
    {"applog", "application logs that start with a timestamp",
     "yyyy/mm/dd hh:mm:ss, [yyyy-mm-dd hh:mm:ss], ctime, Ruby Logger, ... then [prog(pid):] "
     "[LEVEL]",
     vg_dec_applog},
    {"kv", "generic key=value records", "k=v k=\"v\" ... (at least three pairs)", vg_dec_kv},
    {"syslog", "syslog lines no other decoder claimed", "RFC 3164, RFC 5424, ISO timestamps",
     vg_dec_syslog},
    {"plain", "any other text", "the record becomes message", vg_dec_plain},
};

#define NDEC VG_ARRAY_LEN(table)

struct vg_decoder {
    struct vg_decoder_opts o;
    int year;
    bool auto_year; /* default_year was 0: the current year, corrected at New Year */
    vg_time_t now;  /* refreshed every 4096 records, for the New Year correction */
    int preferred;  /* table index tried first, -1 for none */
    int audit_idx;
    struct vg_json_parser *jp;
    struct vg_audit_join *audit;
    struct vg_w3c_state w3c;
    struct vg_decoder_count per[NDEC];
    struct vg_decoder_stats st;
    const char *rest; /* further JSON documents of the last record (borrowed from it) */
    size_t rest_len;
    char err[256];
};

const struct vg_decoder_def *vg_decoder_table(size_t *n)
{
    *n = NDEC;
    return table;
}

int vg_decoder_find(const char *name)
{
    for (size_t i = 0; name && i < NDEC; i++) {
        if (!strcmp(table[i].name, name)) {
            return (int)i;
        }
    }
    return -1;
}

struct vg_audit_join *vg_decoder_audit(struct vg_decoder *d)
{
    return d->audit;
}

struct vg_w3c_state *vg_decoder_w3c(struct vg_decoder *d)
{
    return &d->w3c;
}

/* ---------------------------------------------------------------- hints */

static bool path_has(const char *p, const char *s)
{
    return strstr(p, s) != NULL;
}

/* The decoder a file name suggests (log file conventions), or -1. */
static int hint_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static const char *const zeek[] = {"conn.",   "dns.",   "http.", "ssl.",  "x509.", "files.",
                                       "notice.", "weird.", "ssh.",  "smtp.", "dhcp.", "rdp."};
    if (path_has(base, "audit")) {
        return vg_decoder_find("auditd");
    }
    if (path_has(base, "eve") && path_has(base, ".json")) {
        return vg_decoder_find("suricata");
    }
    if (!strncmp(base, "u_ex", 4)) {
        return vg_decoder_find("iis");
    }
    if (path_has(path, "squid")) {
        return vg_decoder_find("squid");
    }
    if (path_has(base, "access")) {
        return vg_decoder_find("web-access");
    }
    if (path_has(base, "error")) {
        return vg_decoder_find(path_has(path, "nginx") ? "nginx-error" : "apache-error");
    }
    for (size_t i = 0; i < VG_ARRAY_LEN(zeek); i++) {
        if (!strncmp(base, zeek[i], strlen(zeek[i])) && path_has(path, "zeek")) {
            return vg_decoder_find("zeek");
        }
    }
    return -1;
}

static int hint_index(const char *hint)
{
    if (!hint || !*hint || !strcmp(hint, "syslog") || !strcmp(hint, "json")) {
        return -1; /* the default order already serves them */
    }
    if (!strncmp(hint, "file:", 5)) {
        return hint_from_path(hint + 5);
    }
    return vg_decoder_find(hint);
}

/* ---------------------------------------------------------------- lifecycle */

/* The clock and the current year, re-read every 4096 records (no syscall per record). */
static void refresh_year(struct vg_decoder *d)
{
    struct vg_tm tm;
    d->now = vg_time_now();
    vg_time_split(d->now, &tm);
    d->year = tm.year;
}

struct vg_decoder *vg_decoder_create(const struct vg_decoder_opts *o)
{
    struct vg_decoder *d = NULL;
    if (vg_decode_fields_init() != VG_OK || !(d = vg_calloc(1, sizeof(*d)))) {
        return NULL;
    }
    if (o) {
        d->o = *o;
    }
    d->o.hint = NULL; /* not owned: resolved now */
    d->o.max_record = d->o.max_record ? d->o.max_record : (1u << 20);
    d->year = d->o.default_year;
    d->auto_year = !d->year;
    if (d->auto_year) {
        refresh_year(d);
    }
    d->preferred = hint_index(o ? o->hint : NULL);
    d->audit_idx = vg_decoder_find("auditd");
    struct vg_json_limits jl = {.max_depth = 64, .max_len = d->o.max_record};
    d->jp = vg_json_parser_create(&jl);
    d->audit = vg_audit_join_create();
    if (!d->jp || !d->audit) {
        vg_decoder_destroy(d);
        return NULL;
    }
    return d;
}

void vg_decoder_destroy(struct vg_decoder *d)
{
    if (!d) {
        return;
    }
    vg_json_parser_destroy(d->jp);
    vg_audit_join_destroy(d->audit);
    vg_free(d);
}

const char *vg_decoder_error(const struct vg_decoder *d)
{
    return d->err;
}

void vg_decoder_get_stats(const struct vg_decoder *d, struct vg_decoder_stats *out)
{
    *out = d->st;
    out->per = d->per;
    out->n = NDEC;
}

/* ---------------------------------------------------------------- record checks */

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c >= 0xC2 && c <= 0xDF) {
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

/*
 * Scan for NUL bytes and invalid UTF-8, eight ASCII bytes at a time. Returns 0 (clean),
 * 1 (NUL at *at) or 2 (invalid UTF-8 at *at).
 */
static int scan_bytes(const char *s, size_t n, bool utf8, size_t *at)
{
    const unsigned char *p = (const unsigned char *)s;
    const uint64_t hi = 0x8080808080808080ULL, lo = 0x0101010101010101ULL;
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & hi) && !((w - lo) & ~w & hi)) {
                i += 8;
                continue;
            }
        }
        if (p[i] == 0) {
            *at = i;
            return 1;
        }
        if (p[i] < 0x80 || !utf8) {
            i++;
            continue;
        }
        size_t l = utf8_len(p + i, n - i);
        if (!l) {
            *at = i;
            return 2;
        }
        i += l;
    }
    return 0;
}

static int check_record(struct vg_decoder *d, const char *p, size_t n)
{
    size_t at = 0;
    if (n > d->o.max_record) {
        d->st.oversized++;
        snprintf(d->err, sizeof(d->err), "record of %zu bytes exceeds the %zu-byte limit", n,
                 d->o.max_record);
        return VG_EINVAL;
    }
    if (n == 0) {
        d->st.binary++;
        snprintf(d->err, sizeof(d->err), "empty record");
        return VG_EINVAL;
    }
    int k = scan_bytes(p, n, !d->o.allow_invalid_utf8, &at);
    if (k == 1) {
        d->st.binary++;
        snprintf(d->err, sizeof(d->err), "NUL byte at offset %zu (binary data)", at);
        return VG_EINVAL;
    }
    if (k == 2) {
        d->st.bad_utf8++;
        snprintf(d->err, sizeof(d->err), "invalid UTF-8 at offset %zu", at);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* ---------------------------------------------------------------- chain */

/* Drop the fields added from index n0 on (a decoder that declined after adding some). */
static void event_truncate(struct vg_event *ev, uint32_t n0)
{
    vg_event_truncate(ev, n0);
}

/* Parse the message as a JSON object when it looks like one; reject it when it is the whole
 * record (a JSON input) and does not parse. */
static int parse_json(struct vg_decoder *d, struct vg_dctx *c)
{
    if (c->mlen < 2 || c->msg[0] != '{') {
        return VG_OK;
    }
    size_t used = 0;
    struct vg_json *doc = NULL;
    char jerr[160];
    int rc = vg_json_parse(d->jp, c->ev->arena, c->msg, c->mlen, &used, &doc, jerr, sizeof(jerr));
    while (rc == VG_OK && used < c->mlen && (c->msg[used] == ' ' || c->msg[used] == '\t')) {
        used++;
    }
    bool more = rc == VG_OK && used < c->mlen && c->msg[used] == '{' && !c->has_hdr;
    if (rc == VG_OK && (used == c->mlen || more) && doc->type == VG_JSON_OBJECT) {
        c->doc = doc;
        if (more) { /* concatenated documents: the next ones come from vg_decoder_next */
            d->rest = c->msg + used;
            d->rest_len = c->mlen - used;
            c->mlen = used;
            c->len = (size_t)(c->msg + used - c->rec);
            c->ev->raw_len = c->len;
        }
        return VG_OK;
    }
    if (rc == VG_ENOMEM || c->has_hdr) {
        return rc == VG_ENOMEM ? rc : VG_OK; /* a syslog message that merely starts with '{' */
    }
    d->st.malformed++;
    d->per[vg_decoder_find("json")].rejected++;
    if (rc == VG_OK) {
        snprintf(d->err, sizeof(d->err), "malformed JSON: trailing data at offset %zu", used);
    } else {
        snprintf(d->err, sizeof(d->err), "malformed JSON: %s",
                 rc == VG_ETRUNC   ? "truncated document"
                 : rc == VG_ELIMIT ? "nesting or size limit exceeded"
                                   : jerr);
    }
    return VG_EINVAL;
}

static int try_one(struct vg_decoder *d, struct vg_dctx *c, size_t i)
{
    uint32_t n0 = c->ev->n;
    vg_time_t ts = c->ev->ts;
    enum vg_event_kind kind = c->ev->kind;
    c->cur = &table[i];
    c->claimed = false;
    c->sd_done = false;
    c->own_process = false;
    int rc = table[i].decode(c);
    if (rc == VG_DECLINED) {
        event_truncate(c->ev, n0); /* a decoder that looked further than it should have */
        c->ev->ts = ts;
        c->ev->kind = kind;
        return rc;
    }
    if (rc == VG_EINVAL) {
        d->per[i].rejected++;
        d->st.malformed++;
    } else if (rc == VG_OK || rc == VG_AGAIN) {
        d->per[i].claimed++;
    }
    return rc;
}

static int run_chain(struct vg_decoder *d, struct vg_dctx *c)
{
    int rc = VG_DECLINED;
    if (d->preferred >= 0) {
        rc = try_one(d, c, (size_t)d->preferred);
    }
    for (size_t i = 0; i < NDEC && rc == VG_DECLINED; i++) {
        if ((int)i != d->preferred) {
            rc = try_one(d, c, i);
        }
    }
    return rc;
}

/* Unwrap syslog's "message repeated N times: [ msg]" (rsyslog's reduction of repeated
 * lines) so every decoder sees the inner message; N goes to event.repeat_count. The message
 * field keeps the text as written. */
static void unwrap_repeated(struct vg_dctx *c)
{
    static const char head[] = "message repeated ";
    const char *m = c->msg;
    size_t n = c->mlen, i = sizeof(head) - 1;
    uint32_t count = 0;
    if (n < i + 11 || memcmp(m, head, i) != 0 || m[n - 1] != ']') {
        return;
    }
    while (i < n && i < sizeof(head) - 1 + 9 && vg_dec_digit(m[i])) { /* 9 digits: no overflow */
        count = count * 10 + (uint32_t)(m[i++] - '0');
    }
    if (count == 0 || !vg_dec_starts(m + i, n - i, " times: [")) {
        return;
    }
    i += 9;
    while (i < n - 1 && m[i] == ' ') {
        i++;
    }
    c->msg = m + i;
    c->mlen = n - 1 - i;
    c->repeated = count;
}

static void ctx_init(struct vg_decoder *d, struct vg_dctx *c, struct vg_event *ev)
{
    memset(c, 0, sizeof(*c));
    c->ev = ev;
    c->year = d->year;
    c->dec = d;
    c->err = d->err;
    c->errsz = sizeof(d->err);
}

static int finish(struct vg_decoder *d, struct vg_event *ev, int rc)
{
    if (rc == VG_OK) {
        d->st.events++;
        ev->record = d->st.records;
    } else if (rc == VG_AGAIN) {
        d->st.buffered++;
    } else if (rc == VG_EINVAL) {
        d->st.rejected++;
        if (!d->err[0]) {
            snprintf(d->err, sizeof(d->err), "malformed record");
        }
    }
    return rc;
}

/*
 * A yearless BSD timestamp read with the current year: on 1 January, "Dec 31 23:59:59" from
 * a queue or a file is last year's, not eleven months ahead. Re-read the header with the
 * year before when the time would be more than two days in the future (as rsyslog does), and
 * follow the calendar when the server runs across New Year.
 */
static void new_year(struct vg_decoder *d, struct vg_dctx *c)
{
    if (c->hdr.ts != VG_TIME_NONE && c->hdr.ts > d->now + 2 * 86400 * (int64_t)1000000000) {
        vg_syslog_header_parse(c->rec, c->len, d->year - 1, &c->hdr);
    }
}

/*
 * One record, or (checked) the rest of a record vg_decoder_decode already checked: a further
 * JSON document of the same line. Re-scanning that rest for every document would make a line
 * of many small documents ("{}{}{}...") quadratic.
 */
static int decode_record(struct vg_decoder *d, const char *rec, size_t len, struct vg_event *ev,
                         bool checked)
{
    struct vg_dctx c;
    vg_event_reset(ev);
    d->err[0] = '\0';
    d->rest = NULL;
    d->rest_len = 0;
    if (d->auto_year && (++d->st.records & 4095) == 0) {
        refresh_year(d); /* a server running across New Year */
    } else if (!d->auto_year) {
        d->st.records++;
    }
    while (len && (rec[len - 1] == '\n' || rec[len - 1] == '\r')) {
        len--;
    }
    while (len && (rec[0] == ' ' || rec[0] == '\t')) {
        rec++;
        len--;
    }
    int rc = checked && len ? VG_OK : check_record(d, rec, len);
    if (rc != VG_OK) {
        return finish(d, ev, rc);
    }
    ctx_init(d, &c, ev);
    c.rec = rec;
    c.len = len;
    c.has_hdr = vg_syslog_header_parse(rec, len, d->year, &c.hdr);
    if (c.has_hdr && c.hdr.year_implied && d->auto_year) {
        new_year(d, &c);
    }
    c.msg = c.has_hdr ? c.hdr.msg : rec;
    c.mlen = c.has_hdr ? c.hdr.msg_len : len;
    if (c.has_hdr) {
        unwrap_repeated(&c);
    }
    ev->raw = rec;
    ev->raw_len = len;
    rc = parse_json(d, &c);
    if (rc == VG_OK) {
        rc = run_chain(d, &c);
    }
    if (rc == VG_DECLINED) {
        rc = VG_ERROR; /* unreachable: `plain` claims everything */
    }
    return finish(d, ev, rc);
}

int vg_decoder_decode(struct vg_decoder *d, const char *rec, size_t len, struct vg_event *ev)
{
    return decode_record(d, rec, len, ev, false);
}

int vg_decoder_next(struct vg_decoder *d, struct vg_event *ev)
{
    if (!d->rest_len) {
        return VG_EOF;
    }
    return decode_record(d, d->rest, d->rest_len, ev, true);
}

int vg_decoder_flush(struct vg_decoder *d, struct vg_event *ev)
{
    struct vg_dctx c;
    vg_event_reset(ev);
    d->err[0] = '\0';
    ctx_init(d, &c, ev);
    c.cur = &table[d->audit_idx];
    int rc = vg_audit_join_flush(d->audit, &c);
    return rc == VG_EOF ? rc : finish(d, ev, rc);
}
