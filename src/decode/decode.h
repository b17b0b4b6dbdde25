/*
 * decode.h — turning raw records into events: Windows event logs (EVTX binary and its JSON
 * renderings), JSON documents, and syslog/text lines. Each reader fills a caller-owned
 * struct vg_event with the source's native fields (the names Sigma rules use) and sets the
 * event kind and timestamp.
 *
 * Windows field naming (the same for EVTX and JSON renderings, so one rule works on both):
 *   System children            EventID, Version, Level, Task, Opcode, Keywords, EventRecordID,
 *                              Channel, Computer (element text)
 *   System child attributes    <Element>_<Attribute>: Provider_Name, Provider_Guid,
 *                              TimeCreated_SystemTime, Execution_ProcessID, Security_UserID,
 *                              Correlation_ActivityID, EventID_Qualifiers, ...
 *   EventData                  <Data Name="N">v</Data> → N with spaces removed ("Threat Name" →
 *                              ThreatName, as THOR and the SigmaHQ rules spell them);
 *                              unnamed <Data> → Data (repeated);
 *                              <Binary> → Binary
 *   UserData                   leaf element names under the UserData root element
 *   anything else              element path joined with '.' (RenderingInfo.Message)
 * Values render as Windows renders them: HexInt32/64 as unpadded lower-case hex (0x1fffff),
 * GUIDs as {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} (lower case, braces), SIDs as S-1-5-18,
 * FILETIME/SYSTEMTIME as 2025-12-10T04:33:20.5627820Z, integers in decimal, booleans as
 * true/false, binary as upper-case hex.
 */
#ifndef VG_DECODE_H
#define VG_DECODE_H

#include "event/event.h"

/* ---------------------------------------------------------------- EVTX */

struct vg_evtx;

struct vg_evtx_stats {
    uint64_t chunks;        /* chunks seen */
    uint64_t bad_chunks;    /* chunks skipped (bad signature or header) */
    uint64_t bad_checksums; /* file header or chunks whose CRC32 did not match (still read) */
    uint64_t records;       /* records decoded into events */
    uint64_t bad_records;   /* records skipped (corrupt BinXML, truncated) */
};

/*
 * Open an EVTX file image (the caller keeps data alive until close). Returns VG_DECLINED if
 * the data is not an EVTX file (bad magic), VG_OK otherwise — a damaged header is tolerated
 * as long as chunks can be found.
 */
int vg_evtx_open(struct vg_evtx **out, const uint8_t *data, size_t len);
/*
 * Decode the next record into ev (the caller resets ev before each call). Returns VG_OK,
 * VG_EOF at the end, VG_ENOMEM, or VG_EINVAL for a record that could not be decoded — the
 * caller counts it and calls again (the reader has already moved past it). err (may be NULL)
 * receives a description naming the chunk/record offset.
 */
int vg_evtx_next(struct vg_evtx *r, struct vg_event *ev, char *err, size_t errsz);
const struct vg_evtx_stats *vg_evtx_stats(const struct vg_evtx *r);
void vg_evtx_close(struct vg_evtx *r);

/* ---------------------------------------------------------------- Windows JSON renderings */

/*
 * If doc is a Windows event rendered as JSON (evtx_dump style: {"Event": {"System": ...,
 * "EventData": ...}}), fill ev with the Windows field names above and return VG_OK;
 * otherwise VG_DECLINED.
 */
int vg_decode_winjson(struct vg_event *ev, const struct vg_json *doc);

/* EventData/UserData field name: the element's Name with spaces removed, into buf. */
size_t vg_winevt_data_name(char *buf, size_t size, const char *name, size_t n);
/* Field name for a Windows System child attribute: "<elem>_<attr>" into buf. */
size_t vg_winevt_attr_name(char *buf, size_t size, const char *elem, size_t el, const char *attr,
                           size_t al);

/* ---------------------------------------------------------------- JSON documents */

/*
 * Decode a JSON document into ev: Windows renderings as above, anything else flattened
 * (dotted keys). Picks @timestamp/timestamp/time/... for ev->ts.
 */
int vg_decode_json(struct vg_event *ev, const struct vg_json *doc);

/* ---------------------------------------------------------------- web access logs */

/*
 * NCSA common/combined access log line (Apache, nginx) → the Sigma webserver taxonomy's
 * W3C names: c-ip, cs-username, cs-method, cs-uri (path and query), cs-uri-stem,
 * cs-uri-query, cs-version, sc-status, sc-bytes, cs-referer, cs-user-agent; kind web.
 * VG_DECLINED when the line is not one.
 */
int vg_decode_access_log(struct vg_event *ev, const char *line, size_t len);

/*
 * W3C extended log line (IIS) with the field names of its "#Fields:" header (interned ids,
 * in order): "-" means absent; '+' in cs(User-Agent) stands for a space; cs-uri is added
 * (stem?query) when the header has no cs-uri. Kind web.
 */
int vg_decode_w3c(struct vg_event *ev, const char *line, size_t len, const uint32_t *fields,
                  uint32_t nfields);
/* Parse a "#Fields: a b c" header into interned ids (at most max); returns the count. */
uint32_t vg_w3c_fields(const char *line, size_t len, uint32_t *fields, uint32_t max);

/* ---------------------------------------------------------------- Windows event XML */

/*
 * An event in Windows event XML inside a line (Sysmon for Linux writes these to syslog):
 * fields named as for EVTX. VG_DECLINED when the line holds no such event; the event may
 * then hold partial fields and must be reset.
 */
int vg_decode_xml_event(struct vg_event *ev, const char *line, size_t len);

/* ---------------------------------------------------------------- text lines */

/*
 * Decode one text line (no trailing newline): RFC 5424 or RFC 3164 syslog when the line
 * looks like one (fields: syslog.facility, syslog.severity, host.name / hostname, program /
 * process.name, pid, message, and Linux kind for known Linux programs), else a plain line
 * with message. Always succeeds for any bytes (invalid UTF-8 is kept as is).
 */
int vg_decode_line(struct vg_event *ev, const char *line, size_t len, int default_year);

/* ---------------------------------------------------------------- record readers */

/* Input formats a reader detects from the first bytes of a file. */
enum vg_format {
    VG_FMT_UNKNOWN = 0,
    VG_FMT_EVTX,
    VG_FMT_JSON,   /* one or more JSON values: array, JSON lines, concatenated objects */
    VG_FMT_TEXT,   /* lines: syslog, auditd, plain */
    VG_FMT_BINARY, /* not a supported format (NUL bytes, not EVTX) */
};
const char *vg_format_name(int fmt);
enum vg_format vg_format_detect(const uint8_t *p, size_t n);

struct vg_reader_limits {
    size_t max_record; /* longest JSON document / text line kept; default 16 MiB */
    int default_year;  /* year for syslog timestamps without one; default: current */
};

struct vg_reader_stats {
    uint64_t records;   /* events produced */
    uint64_t bad;       /* records skipped: malformed */
    uint64_t oversized; /* records skipped: longer than max_record */
    uint64_t offset;    /* bytes consumed so far (progress) */
};

/*
 * Iterate the events of a file image of any supported format. The data must outlive the
 * reader and the events it yields (strings are borrowed from it).
 */
struct vg_reader;
int vg_reader_open(struct vg_reader **out, const uint8_t *data, size_t len,
                   const struct vg_reader_limits *lim);
enum vg_format vg_reader_format(const struct vg_reader *r);
/*
 * Next event into ev (reset by the reader). VG_OK, VG_EOF at the end; a malformed record
 * is counted in the stats, described in err (with its line or offset), and skipped:
 * the return is then VG_EINVAL and the caller may continue calling.
 */
int vg_reader_next(struct vg_reader *r, struct vg_event *ev, char *err, size_t errsz);
const struct vg_reader_stats *vg_reader_stats(const struct vg_reader *r);
void vg_reader_close(struct vg_reader *r);

/* ================================================================ the decoder chain (server)
 *
 * Added for `vigie server` and `vigie decode` (issue 3). A decoder object decodes a stream of
 * records (syslog messages, file lines, JSON documents) the way the server does: each record
 * is checked (size, NUL bytes, UTF-8), its syslog header parsed once, then the decoders of
 * the table below are tried in order; each declines (VG_DECLINED) what is not its format, so
 * the first that claims a record names it in `event.module`. Every event gets the source's
 * native fields (the names Sigma rules use) plus ECS common fields (event.category/action/
 * outcome, host.name, user.name, source.ip/port, destination.*, process.*, network.*, ...),
 * ev->kind, ev->ts and ev->raw (the record, borrowed).
 *
 * auditd: records with the same msg=audit(time:serial) are joined into one event (fields of
 * every record; repeated names repeat), completed by its EOE record, by a record with another
 * serial, or by vg_decoder_flush — call it when the input goes idle and at its end.
 *
 * Thread-safety: a decoder object belongs to one thread (one per input stream or worker);
 * different objects may run concurrently.
 */

struct vg_dctx;

/* One entry of the chain; the table lists itself (`vigie decode --list`). */
struct vg_decoder_def {
    const char *name;        /* event.module of the events it claims */
    const char *description; /* one line */
    const char *formats;     /* what it reads */
    int (*decode)(struct vg_dctx *c);
};

/* The chain, in the order the decoders are tried (n receives the count). */
const struct vg_decoder_def *vg_decoder_table(size_t *n);
/* Index of a decoder by name, or -1. */
int vg_decoder_find(const char *name);

struct vg_decoder_opts {
    int default_year;        /* year of timestamps without one; 0 = the current year */
    const char *hint;        /* NULL, "syslog", "json", "file:<path>" or a decoder name: that
                                decoder (or the one the file name suggests) is tried first */
    size_t max_record;       /* longest record accepted; 0 = 1 MiB */
    bool allow_invalid_utf8; /* keep records with invalid UTF-8 (default: reject them) */
};

struct vg_decoder;

/* Create a decoder (o may be NULL for the defaults); NULL on allocation failure. */
struct vg_decoder *vg_decoder_create(const struct vg_decoder_opts *o);
void vg_decoder_destroy(struct vg_decoder *d);

/*
 * Decode one record (rec, len; a trailing CR/LF is ignored) into ev, which is reset first.
 * Strings of the event may point into rec: keep rec alive as long as ev is used.
 * Returns VG_OK (ev holds a complete event — for auditd possibly an earlier, buffered one),
 * VG_AGAIN (the record was buffered or was a directive; ev holds nothing), VG_EINVAL (the
 * record was rejected; vg_decoder_error tells why) or VG_ENOMEM.
 */
int vg_decoder_decode(struct vg_decoder *d, const char *rec, size_t len, struct vg_event *ev);
/*
 * A record may hold several events: JSON documents written one after the other on one line.
 * After vg_decoder_decode, call vg_decoder_next until it returns VG_EOF; each VG_OK is one
 * more event (VG_EINVAL: that document was rejected). rec must still be alive.
 */
int vg_decoder_next(struct vg_decoder *d, struct vg_event *ev);
/* Emit the buffered multi-record event into ev: VG_OK, or VG_EOF if nothing is buffered. */
int vg_decoder_flush(struct vg_decoder *d, struct vg_event *ev);
/* Reason of the last VG_EINVAL ("" if none); valid until the next call. */
const char *vg_decoder_error(const struct vg_decoder *d);

struct vg_decoder_count {
    uint64_t claimed;  /* records this decoder claimed (joined records count once each) */
    uint64_t rejected; /* records it recognised but rejected as malformed */
};
struct vg_decoder_stats {
    uint64_t records;   /* records decoded (each further JSON document of a line counts) */
    uint64_t events;    /* events produced (decode and flush) */
    uint64_t buffered;  /* records held for a multi-record event */
    uint64_t rejected;  /* all rejections, the four kinds below together */
    uint64_t oversized; /* longer than max_record */
    uint64_t binary;    /* NUL bytes, or empty */
    uint64_t bad_utf8;  /* invalid UTF-8 */
    uint64_t malformed; /* claimed by a decoder but malformed (JSON, CEF, LEEF, ...) */
    const struct vg_decoder_count *per; /* per decoder, indexed as vg_decoder_table */
    size_t n;
};
void vg_decoder_get_stats(const struct vg_decoder *d, struct vg_decoder_stats *out);

#endif /* VG_DECODE_H */
