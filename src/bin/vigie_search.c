/*
 * vigie_search.c — `vigie search`: run a query of the search language (src/query) against
 * the embedded store of a data directory, also while a server writes to it (the store is
 * opened read-only; SQLite WAL readers never block the writer).
 */
#include "bin/vigie_cmd.h"
#include "query/query.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum out_format {
    OUT_TABLE,
    OUT_JSONL,
    OUT_CSV,
};

struct search_opts {
    const char *data;
    enum out_format format;
    const char *from, *to, *tenant;
    size_t limit;
    bool stats;
};

/* Rows kept for the aligned table of an aggregation. */
struct table_buf {
    size_t ncols;
    char **cells; /* row-major, ncols per row; row 0: the header */
    size_t ncells, cap;
    bool *numeric; /* per column (a copy: the query's table is gone when we print) */
    bool header_done;
};

struct out {
    enum out_format format;
    struct vg_sbuf line;
    struct table_buf tb;
    bool csv_header;
    FILE *f;
};

static void search_help(FILE *f)
{
    fprintf(
        f,
        "usage: vigie search [--data DIR] [--format table|jsonl|csv] [--from T] [--to T]\n"
        "                    [--limit N] [--tenant NAME] [--stats] QUERY...\n"
        "\n"
        "Search the events stored by `vigie server` in DIR (default ./vigie-data; its store/\n"
        "subdirectory, or a store directory itself); works\n"
        "while the server runs. The newest matching events are printed first.\n"
        "\n"
        "  -d, --data DIR      data directory (default ./vigie-data)\n"
        "  -f, --format F      table (default), jsonl (one JSON object per row), csv\n"
        "      --from T        only events at or after T; T is RFC 3339 (2024-05-01T10:00:00Z),\n"
        "      --to T          a date (2024-05-01), now, or relative (-1h, -15m, now-7d)\n"
        "  -n, --limit N       rows at most (default 100; 0 = no limit)\n"
        "      --tenant NAME   only this tenant's events\n"
        "      --stats         print what the search read to stderr\n"
        "\n"
        "QUERY (the words are joined with spaces; see docs/search.md):\n"
        "  user.name:alice            field value (case-insensitive; * and ? wildcards)\n"
        "  \"Failed password\" root     free text: phrases and words of the raw line\n"
        "  status:>=500  source.port:[1000 TO 2000]  source.ip:10.0.0.0/8\n"
        "  a AND b, a OR b, NOT a, -a, (…), @timestamp:[-2h TO -1h]\n"
        "  | stats count [dc(f) sum(f) avg(f) min(f) max(f)] by f, g   | top f [N]\n"
        "  | timechart span=1m [by f]   | sort [-]f   | head N\n"
        "\n"
        "Exit status: 0 success (also with no match), 1 store error, 2 usage or query syntax.\n");
}

/* ---------------------------------------------------------------- CSV */

static void csv_cell(FILE *f, const char *s, size_t n, bool last)
{
    bool quote = memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n) || memchr(s, '\r', n);
    if (quote) {
        fputc('"', f);
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"') {
                fputc('"', f);
            }
            fputc(s[i], f);
        }
        fputc('"', f);
    } else {
        fwrite(s, 1, n, f);
    }
    fputc(last ? '\n' : ',', f);
}

static const char *const event_cols[] = {"host.name", "user.name", "source.ip", "event.action",
                                         "event.outcome"};

static void csv_event(struct out *o, const struct vg_query_row *r)
{
    char ts[40];
    if (!o->csv_header) {
        fprintf(o->f, "@timestamp,_id,tenant");
        for (size_t i = 0; i < VG_ARRAY_LEN(event_cols); i++) {
            fprintf(o->f, ",%s", event_cols[i]);
        }
        fprintf(o->f, ",raw\n");
        o->csv_header = true;
    }
    size_t n = vg_time_format(r->ts, ts, sizeof(ts));
    csv_cell(o->f, ts, n, false);
    csv_cell(o->f, r->id, strlen(r->id), false);
    csv_cell(o->f, r->tenant, strlen(r->tenant), false);
    for (size_t i = 0; i < VG_ARRAY_LEN(event_cols); i++) {
        size_t l = 0;
        const char *v = vg_event_get_str(r->ev, event_cols[i], &l);
        csv_cell(o->f, v ? v : "", v ? l : 0, false);
    }
    csv_cell(o->f, r->ev->raw ? r->ev->raw : "", r->ev->raw ? r->ev->raw_len : 0, true);
}

static void csv_agg(struct out *o, const struct vg_query_row *r)
{
    if (!o->csv_header) {
        for (size_t c = 0; c < r->ncols; c++) {
            csv_cell(o->f, r->cols[c], strlen(r->cols[c]), c + 1 == r->ncols);
        }
        o->csv_header = true;
    }
    for (size_t c = 0; c < r->ncols; c++) {
        csv_cell(o->f, r->vals[c], strlen(r->vals[c]), c + 1 == r->ncols);
    }
}

/* ---------------------------------------------------------------- table and JSON */

static void table_event(struct out *o, const struct vg_query_row *r)
{
    char ts[40];
    size_t hl = 0, ml = 0;
    const char *host = vg_event_get_str(r->ev, "host.name", &hl);
    const char *text = r->ev->raw;
    ml = r->ev->raw_len;
    if (!text) {
        text = vg_event_get_str(r->ev, "message", &ml);
    }
    vg_time_format(r->ts, ts, sizeof(ts));
    fprintf(o->f, "%s  %-12.*s  ", ts, host ? (int)hl : 1, host ? host : "-");
    if (text) {
        fwrite(text, 1, ml, o->f);
    } else {
        fwrite(r->json, 1, r->json_len, o->f);
    }
    fputc('\n', o->f);
}

static int table_keep(struct table_buf *tb, const char *s)
{
    if (vg_grow(&tb->cells, &tb->cap, tb->ncells + 1, sizeof(*tb->cells)) != VG_OK) {
        return VG_ENOMEM;
    }
    tb->cells[tb->ncells] = vg_strdup(s);
    return tb->cells[tb->ncells++] ? VG_OK : VG_ENOMEM;
}

static int table_agg(struct out *o, const struct vg_query_row *r)
{
    struct table_buf *tb = &o->tb;
    int rc = VG_OK;
    if (!tb->header_done) {
        tb->ncols = r->ncols;
        tb->numeric = vg_calloc(r->ncols + 1, sizeof(*tb->numeric));
        if (!tb->numeric) {
            return VG_ENOMEM;
        }
        memcpy(tb->numeric, r->numeric, r->ncols * sizeof(*tb->numeric));
        for (size_t c = 0; c < r->ncols && rc == VG_OK; c++) {
            rc = table_keep(tb, r->cols[c]);
        }
        tb->header_done = true;
    }
    for (size_t c = 0; c < r->ncols && rc == VG_OK; c++) {
        rc = table_keep(tb, r->vals[c]);
    }
    return rc;
}

static void table_flush(struct out *o)
{
    struct table_buf *tb = &o->tb;
    const bool *numeric = tb->numeric;
    size_t w[64] = {0}, nc = VG_MIN(tb->ncols, VG_ARRAY_LEN(w));
    for (size_t i = 0; i < tb->ncells; i++) {
        size_t c = i % tb->ncols;
        if (c < nc) {
            w[c] = VG_MAX(w[c], strlen(tb->cells[i]));
        }
    }
    for (size_t i = 0; i < tb->ncells; i++) {
        size_t c = i % tb->ncols;
        bool right = numeric && c < nc && numeric[c] && i >= tb->ncols;
        fprintf(o->f, right ? "%*s" : "%-*s", c < nc ? (int)w[c] : 0, tb->cells[i]);
        fputs(c + 1 == tb->ncols ? "\n" : "  ", o->f);
        if (i + 1 == tb->ncols) {
            for (size_t k = 0; k < tb->ncols; k++) {
                size_t n = k < nc ? w[k] : 1;
                while (n--) {
                    fputc('-', o->f);
                }
                fputs(k + 1 == tb->ncols ? "\n" : "  ", o->f);
            }
        }
    }
    for (size_t i = 0; i < tb->ncells; i++) {
        vg_free(tb->cells[i]);
    }
    vg_free(tb->cells);
    vg_free(tb->numeric);
    memset(tb, 0, sizeof(*tb));
}

static void jsonl_agg(struct out *o, const struct vg_query_row *r)
{
    struct vg_sbuf *s = &o->line;
    vg_sbuf_reset(s);
    vg_sbuf_addc(s, '{');
    for (size_t c = 0; c < r->ncols; c++) {
        if (c) {
            vg_sbuf_addc(s, ',');
        }
        vg_sbuf_add_json_str(s, r->cols[c], strlen(r->cols[c]));
        vg_sbuf_addc(s, ':');
        if (r->numeric[c] && r->vals[c][0]) {
            vg_sbuf_adds(s, r->vals[c]);
        } else {
            vg_sbuf_add_json_str(s, r->vals[c], strlen(r->vals[c]));
        }
    }
    vg_sbuf_add(s, "}\n", 2);
    fwrite(s->p, 1, s->len, o->f);
}

static int on_row(void *ctx, const struct vg_query_row *r)
{
    struct out *o = ctx;
    switch (o->format) {
    case OUT_JSONL:
        if (r->kind == VG_QUERY_ROW_EVENT) {
            fwrite(r->json, 1, r->json_len, o->f);
            fputc('\n', o->f);
        } else {
            jsonl_agg(o, r);
        }
        break;
    case OUT_CSV:
        if (r->kind == VG_QUERY_ROW_EVENT) {
            csv_event(o, r);
        } else {
            csv_agg(o, r);
        }
        break;
    default:
        if (r->kind == VG_QUERY_ROW_EVENT) {
            table_event(o, r);
        } else {
            return table_agg(o, r);
        }
    }
    return ferror(o->f) ? VG_EIO : VG_OK;
}

/* ---------------------------------------------------------------- options */

static int parse_opts(int argc, char **argv, struct search_opts *so, int *first_arg)
{
    static const struct option lo[] = {{"data", required_argument, NULL, 'd'},
                                       {"format", required_argument, NULL, 'f'},
                                       {"from", required_argument, NULL, 'F'},
                                       {"to", required_argument, NULL, 'T'},
                                       {"limit", required_argument, NULL, 'n'},
                                       {"tenant", required_argument, NULL, 't'},
                                       {"stats", no_argument, NULL, 's'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:n:h", lo, NULL)) != -1) {
        int64_t v;
        switch (c) {
        case 'd':
            so->data = optarg;
            break;
        case 'f':
            if (!strcmp(optarg, "table")) {
                so->format = OUT_TABLE;
            } else if (!strcmp(optarg, "jsonl") || !strcmp(optarg, "json")) {
                so->format = OUT_JSONL;
            } else if (!strcmp(optarg, "csv")) {
                so->format = OUT_CSV;
            } else {
                fprintf(stderr, "vigie search: unknown format '%s' (table, jsonl, csv)\n", optarg);
                return VG_EXIT_USAGE;
            }
            break;
        case 'F':
            so->from = optarg;
            break;
        case 'T':
            so->to = optarg;
            break;
        case 'n':
            if (vg_parse_i64(optarg, strlen(optarg), &v) != VG_OK || v < 0) {
                fprintf(stderr, "vigie search: --limit wants a number >= 0, not '%s'\n", optarg);
                return VG_EXIT_USAGE;
            }
            so->limit = v == 0 ? SIZE_MAX : (size_t)v;
            break;
        case 't':
            so->tenant = optarg;
            break;
        case 's':
            so->stats = true;
            break;
        case 'h':
            search_help(stdout);
            return -1;
        default:
            search_help(stderr);
            return VG_EXIT_USAGE;
        }
    }
    *first_arg = optind;
    return VG_EXIT_OK;
}

static int time_opt(const char *name, const char *text, vg_time_t now, vg_time_t *out)
{
    *out = VG_TIME_NONE;
    if (text && vg_query_time_parse(text, strlen(text), now, out) != VG_OK) {
        fprintf(stderr,
                "vigie search: --%s '%s' is not a time (RFC 3339, YYYY-MM-DD, now, -1h, now-15m)\n",
                name, text);
        return VG_EXIT_USAGE;
    }
    return VG_EXIT_OK;
}

static void stats_print(const struct vg_query_stats *st)
{
    fprintf(stderr,
            "vigie search: %.1f ms; %llu partitions, %llu/%llu blocks selected by the index, "
            "%llu read, %llu events checked, %llu matched, %llu rows\n",
            (double)st->elapsed_ns / 1e6, (unsigned long long)st->scan.partitions,
            (unsigned long long)st->scan.candidates, (unsigned long long)st->scan.blocks,
            (unsigned long long)st->scan.decoded, (unsigned long long)st->scan.events,
            (unsigned long long)st->matched, (unsigned long long)st->rows);
}

/* The parser's message, the query, and a caret under the column it names. */
static void syntax_error(const char *err, const char *text)
{
    int64_t col = 0;
    const char *sp = strchr(err, ':');
    fprintf(stderr, "vigie search: %s\n  %s\n", err, text);
    if (!strncmp(err, "column ", 7) && sp &&
        vg_parse_i64(err + 7, (size_t)(sp - err - 7), &col) == VG_OK && col > 0 && col <= 4096) {
        fprintf(stderr, "  %*s^\n", (int)col - 1, "");
    }
}

/* Open, run, print. */

/* The server keeps its store in DATA/store: accept the data directory or the store itself. */
static const char *store_dir(const char *data, char *buf, size_t size)
{
    snprintf(buf, size, "%s/store/main.db", data);
    if (access(buf, F_OK) == 0) {
        snprintf(buf, size, "%s/store", data);
        return buf;
    }
    return data;
}

static int search_run(const struct search_opts *so, const char *text, vg_time_t now)
{
    char err[512];
    struct vg_store *s = NULL;
    struct vg_query *q = NULL;
    struct vg_query_stats st = {0};
    struct out o = {.format = so->format, .f = stdout};
    struct vg_store_opts ro = {.readonly = true};
    char path[4096];
    struct vg_query_opts qo = {
        .tenant = so->tenant, .limit = so->limit, .on_row = on_row, .ctx = &o};
    int ex = VG_EXIT_OK;
    if (vg_query_parse(text, strlen(text), now, &q, err, sizeof(err)) != VG_OK) {
        syntax_error(err, text);
        return VG_EXIT_USAGE;
    }
    if (time_opt("from", so->from, now, &qo.from) != VG_EXIT_OK ||
        time_opt("to", so->to, now, &qo.to) != VG_EXIT_OK) {
        ex = VG_EXIT_USAGE;
    } else if (vg_store_open(store_dir(so->data, path, sizeof(path)), &ro, &s, err, sizeof(err)) !=
                   VG_OK ||
               vg_query_run(q, s, &qo, &st, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie search: %s\n", err);
        ex = VG_EXIT_FAIL;
    }
    if (o.tb.header_done) {
        table_flush(&o);
    }
    if (ex == VG_EXIT_OK && so->stats) {
        stats_print(&st);
    }
    if (ex == VG_EXIT_OK && st.truncated && so->limit != SIZE_MAX) {
        fprintf(stderr, "vigie search: showing the first %zu rows; --limit N shows more\n",
                so->limit);
    }
    vg_sbuf_fini(&o.line);
    vg_store_close(s);
    vg_query_destroy(q);
    return ex;
}

int vg_cmd_search(int argc, char **argv)
{
    struct search_opts so = {.data = "./vigie-data", .limit = 100};
    struct vg_sbuf text = VG_SBUF_INIT;
    int first = 0;
    int ex = parse_opts(argc, argv, &so, &first);
    if (ex != VG_EXIT_OK) {
        return ex < 0 ? VG_EXIT_OK : ex;
    }
    for (int i = first; i < argc; i++) {
        if (i > first) {
            vg_sbuf_addc(&text, ' ');
        }
        vg_sbuf_adds(&text, argv[i]);
    }
    if (text.err) {
        fprintf(stderr, "vigie search: out of memory\n");
        return VG_EXIT_FAIL;
    }
    ex = search_run(&so, text.p ? text.p : "", vg_time_now());
    fflush(stdout);
    vg_sbuf_fini(&text);
    return ex;
}
