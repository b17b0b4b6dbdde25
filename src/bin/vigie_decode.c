/*
 * vigie_decode.c — `vigie decode`: run records through the server's decoder chain and print
 * the normalised events, like wazuh-logtest for rule writers. Each input line is one record
 * (auditd records of one event are joined, exactly as the server does); the output is one
 * JSON object per event (or per rejected line: {"line":N,"error":"reason"}), or a readable
 * table.
 */
#include "bin/vigie_cmd.h"
#include "decode/decode.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

enum out_format { OUT_JSONL, OUT_TABLE };

struct decode_run {
    struct vg_decoder *dec;
    struct vg_event *ev;
    enum out_format fmt;
    struct vg_sbuf out;
    uint64_t line;
    uint64_t rejected;
    size_t max_record;
};

static void decode_help(FILE *f)
{
    fprintf(f,
            "usage: vigie decode [options] [FILE|-]\n"
            "\n"
            "Decode each line of FILE (or standard input) as `vigie server` does and print\n"
            "the normalised event: the source's native fields, the ECS fields, event.module\n"
            "(the decoder that claimed the line) and @timestamp. A line that is rejected\n"
            "(oversized, binary, invalid UTF-8, malformed JSON/CEF/LEEF) prints\n"
            "{\"line\":N,\"error\":\"reason\"}. auditd records of one event are joined into one\n"
            "event, printed when the event is complete.\n"
            "\n"
            "options:\n"
            "  -f, --format FMT         jsonl (default) or table\n"
            "  -d, --decoder NAME       try this decoder first (see --list)\n"
            "      --hint HINT          syslog, json or file:PATH (decoder from the file name)\n"
            "  -y, --year N             year of timestamps without one (default: this year)\n"
            "      --max-record BYTES   reject longer lines (default 1 MiB)\n"
            "      --allow-invalid-utf8 keep lines with invalid UTF-8 instead of rejecting\n"
            "  -s, --stats              print per-decoder counts to stderr at the end\n"
            "  -l, --list               list the decoders, in the order they are tried\n"
            "\n"
            "exit status: 0 when every line decoded, 1 when a line was rejected or the\n"
            "input could not be read, 2 on a usage error.\n");
}

static void list_decoders(void)
{
    size_t n;
    const struct vg_decoder_def *t = vg_decoder_table(&n);
    for (size_t i = 0; i < n; i++) {
        printf("%-13s %s\n%-13s   reads: %s\n", t[i].name, t[i].description, "", t[i].formats);
    }
}

static const char *kind_name(int kind)
{
    static const char *const names[] = {"generic", "windows", "linux", "web"};
    return kind >= 0 && kind < (int)VG_ARRAY_LEN(names) ? names[kind] : "other";
}

static void print_jsonl(struct decode_run *r)
{
    struct vg_sbuf *o = &r->out;
    vg_sbuf_reset(o);
    vg_sbuf_addc(o, '{');
    if (r->ev->ts != VG_TIME_NONE) {
        char t[40];
        size_t tl = vg_time_format(r->ev->ts, t, sizeof(t));
        vg_sbuf_adds(o, "\"@timestamp\":");
        vg_sbuf_add_json_str(o, t, tl);
        if (r->ev->n) {
            vg_sbuf_addc(o, ',');
        }
    }
    size_t mark = o->len;
    vg_event_write_json(r->ev, o);
    if (!o->err) {
        memmove(o->p + mark, o->p + mark + 1, o->len - mark - 1); /* drop the writer's '{' */
        o->len--;
    }
    vg_sbuf_addc(o, '\n');
    if (!o->err) {
        fwrite(o->p, 1, o->len, stdout);
    }
}

static void print_value(const struct vg_value *v)
{
    printf("%.*s", (int)v->len, v->str);
}

static void print_table(struct decode_run *r)
{
    const struct vg_event *ev = r->ev;
    char t[40] = "-";
    if (ev->ts != VG_TIME_NONE) {
        vg_time_format(ev->ts, t, sizeof(t));
    }
    size_t ml;
    const char *mod = vg_event_get_str(ev, "event.module", &ml);
    printf("line %llu: %.*s (kind %s) @timestamp %s\n", (unsigned long long)ev->record,
           mod ? (int)ml : 1, mod ? mod : "-", kind_name(ev->kind), t);
    for (uint32_t k = 0; k < ev->n; k++) {
        const struct vg_field *f = &ev->fields[k];
        size_t nl;
        const char *name = vg_field_name(f->id, &nl);
        printf("  %-28.*s ", (int)nl, name);
        print_value(&f->v);
        printf("\n");
    }
    printf("\n");
}

static void print_error(struct decode_run *r, const char *reason)
{
    vg_sbuf_reset(&r->out);
    if (r->fmt == OUT_TABLE) {
        printf("line %llu: rejected: %s\n\n", (unsigned long long)r->line, reason);
        return;
    }
    vg_sbuf_printf(&r->out, "{\"line\":%llu,\"error\":", (unsigned long long)r->line);
    vg_sbuf_add_json_str(&r->out, reason, strlen(reason));
    vg_sbuf_adds(&r->out, "}\n");
    if (!r->out.err) {
        fwrite(r->out.p, 1, r->out.len, stdout);
    }
}

static void emit(struct decode_run *r)
{
    if (r->fmt == OUT_TABLE) {
        print_table(r);
    } else {
        print_jsonl(r);
    }
}

static int decode_line(struct decode_run *r, const char *p, size_t n)
{
    r->line++;
    if (n == 0 || (n == 1 && p[0] == '\r')) {
        return VG_OK; /* blank lines separate nothing in a log: skip them silently */
    }
    int rc = vg_decoder_decode(r->dec, p, n, r->ev);
    for (;;) {
        if (rc == VG_OK) {
            r->ev->record = r->line;
            emit(r);
        } else if (rc == VG_EINVAL) {
            r->rejected++;
            print_error(r, vg_decoder_error(r->dec));
        } else if (rc != VG_AGAIN && rc != VG_EOF) {
            fprintf(stderr, "vigie: decode: line %llu: %s\n", (unsigned long long)r->line,
                    vg_strerror(rc));
            return rc;
        }
        if (rc == VG_EOF || rc == VG_AGAIN) {
            return VG_OK;
        }
        rc = vg_decoder_next(r->dec, r->ev); /* more JSON documents on the same line */
    }
}

/*
 * Stream lines from f through a bounded buffer: a line longer than the record limit is not
 * buffered whole — its length is counted and it is reported as oversized.
 */
static int read_lines(struct decode_run *r, FILE *f)
{
    size_t cap = r->max_record + 65536, len = 0, skipping = 0;
    char *buf = vg_malloc(cap);
    int rc = buf ? VG_OK : VG_ENOMEM;
    while (rc == VG_OK) {
        /* read(2), not fread: a pipe (tail -f | vigie decode) yields lines as they come */
        ssize_t got = read(fileno(f), buf + len, cap - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            fprintf(stderr, "vigie: decode: read error: %s\n", strerror(errno));
            rc = VG_EIO;
            break;
        }
        len += (size_t)got;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl) {
                break;
            }
            size_t ll = (size_t)(nl - (buf + start));
            if (skipping) {
                r->line++;
                r->rejected++;
                char why[96];
                snprintf(why, sizeof(why), "record of %zu bytes exceeds the %zu-byte limit",
                         skipping + ll, r->max_record);
                print_error(r, why);
                skipping = 0;
            } else if ((rc = decode_line(r, buf + start, ll)) != VG_OK) {
                break;
            }
            start += ll + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len == cap) { /* no newline in a full buffer: an oversized line */
            skipping += len;
            len = 0;
        }
        if (got == 0) {
            break;
        }
    }
    if (rc == VG_OK && (len || skipping)) {
        rc = skipping ? VG_OK : decode_line(r, buf, len);
        if (skipping) {
            r->line++;
            r->rejected++;
            print_error(r, "oversized last record");
        }
    }
    vg_free(buf);
    return rc;
}

static void print_stats(const struct decode_run *r)
{
    struct vg_decoder_stats st;
    size_t n;
    const struct vg_decoder_def *t = vg_decoder_table(&n);
    vg_decoder_get_stats(r->dec, &st);
    fprintf(stderr,
            "records %llu, events %llu, rejected %llu (oversized %llu, binary %llu, "
            "invalid UTF-8 %llu, malformed %llu)\n",
            (unsigned long long)st.records, (unsigned long long)st.events,
            (unsigned long long)st.rejected, (unsigned long long)st.oversized,
            (unsigned long long)st.binary, (unsigned long long)st.bad_utf8,
            (unsigned long long)st.malformed);
    for (size_t i = 0; i < n; i++) {
        if (st.per[i].claimed || st.per[i].rejected) {
            fprintf(stderr, "  %-13s claimed %llu, rejected %llu\n", t[i].name,
                    (unsigned long long)st.per[i].claimed, (unsigned long long)st.per[i].rejected);
        }
    }
}

static int parse_args(int argc, char **argv, struct vg_decoder_opts *o, struct decode_run *r,
                      bool *stats, const char **path)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},
        {"decoder", required_argument, NULL, 'd'},
        {"hint", required_argument, NULL, 'H'},
        {"year", required_argument, NULL, 'y'},
        {"max-record", required_argument, NULL, 'M'},
        {"allow-invalid-utf8", no_argument, NULL, 'U'},
        {"stats", no_argument, NULL, 's'},
        {"list", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:d:y:slh", lo, NULL)) != -1) {
        int64_t v;
        switch (c) {
        case 'f':
            if (strcmp(optarg, "jsonl") && strcmp(optarg, "json") && strcmp(optarg, "table")) {
                fprintf(stderr, "vigie: unknown format '%s' (jsonl, table)\n", optarg);
                return VG_EXIT_USAGE;
            }
            r->fmt = !strcmp(optarg, "table") ? OUT_TABLE : OUT_JSONL;
            break;
        case 'd':
            if (vg_decoder_find(optarg) < 0) {
                fprintf(stderr, "vigie: unknown decoder '%s' (see vigie decode --list)\n", optarg);
                return VG_EXIT_USAGE;
            }
            o->hint = optarg;
            break;
        case 'H':
            o->hint = optarg;
            break;
        case 'y':
            if (vg_parse_i64(optarg, strlen(optarg), &v) != VG_OK || v < 1970 || v > 9999) {
                fprintf(stderr, "vigie: --year takes a year (1970..9999)\n");
                return VG_EXIT_USAGE;
            }
            o->default_year = (int)v;
            break;
        case 'M':
            if (vg_parse_i64(optarg, strlen(optarg), &v) != VG_OK || v < 64 || v > (1 << 30)) {
                fprintf(stderr, "vigie: --max-record takes a size in bytes (64..1 GiB)\n");
                return VG_EXIT_USAGE;
            }
            o->max_record = (size_t)v;
            break;
        case 'U':
            o->allow_invalid_utf8 = true;
            break;
        case 's':
            *stats = true;
            break;
        case 'l':
            list_decoders();
            return -1;
        case 'h':
            decode_help(stdout);
            return -1;
        default:
            decode_help(stderr);
            return VG_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "vigie: decode takes one input (FILE or -)\n");
        return VG_EXIT_USAGE;
    }
    *path = optind < argc ? argv[optind] : "-";
    return VG_EXIT_OK;
}

int vg_cmd_decode(int argc, char **argv)
{
    struct vg_decoder_opts o = {0};
    struct decode_run r = {.out = VG_SBUF_INIT};
    bool stats = false;
    const char *path = NULL;
    FILE *in = NULL;
    int status = parse_args(argc, argv, &o, &r, &stats, &path);
    if (status != VG_EXIT_OK) {
        return status < 0 ? VG_EXIT_OK : status;
    }
    r.max_record = o.max_record ? o.max_record : (1u << 20);
    in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    r.dec = vg_decoder_create(&o);
    r.ev = vg_event_create();
    if (!in) {
        fprintf(stderr, "vigie: decode: %s: %s\n", path, strerror(errno));
        status = VG_EXIT_FAIL;
    } else if (!r.dec || !r.ev) {
        fprintf(stderr, "vigie: decode: out of memory\n");
        status = VG_EXIT_FAIL;
    } else {
        int rc = read_lines(&r, in);
        while (rc == VG_OK && vg_decoder_flush(r.dec, r.ev) == VG_OK) {
            emit(&r);
        }
        status = rc != VG_OK || r.rejected ? VG_EXIT_FAIL : VG_EXIT_OK;
    }
    fflush(stdout);
    if (stats && r.dec) {
        print_stats(&r);
    }
    if (in && in != stdin) {
        fclose(in);
    }
    vg_sbuf_fini(&r.out);
    vg_event_destroy(r.ev);
    vg_decoder_destroy(r.dec);
    return status;
}
