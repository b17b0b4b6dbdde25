/*
 * fuzz_query.c — libFuzzer target: arbitrary bytes as a search query. A query that parses
 * is dumped, matched against a few fixed events (fields, free text, ranges, CIDR, globs),
 * compiled to the store's index expression for a fixed set of indexed fields, and its
 * aggregation (if any) is run over the fixed events.
 */
#include "query/query_int.h"
#include "store/store_int.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW (1715342400LL * 1000000000LL)

static struct vg_event *evs[3];

static struct vg_event *make(vg_time_t ts, const char *raw, const char *const *kv)
{
    struct vg_event *ev = vg_event_create();
    ev->ts = ts;
    ev->raw = raw;
    ev->raw_len = raw ? strlen(raw) : 0;
    for (size_t i = 0; kv[i]; i += 2) {
        vg_event_add_str(ev, vg_field_intern(kv[i], strlen(kv[i])), kv[i + 1], strlen(kv[i + 1]));
    }
    return ev;
}

static void init(void)
{
    static const char *const a[] = {"user.name", "alice",     "source.ip", "10.1.2.3", "status",
                                    "503",       "host.name", "web01",     NULL};
    static const char *const b[] = {"user.name", "Bob",  "source.ip",  "fe80::1",
                                    "bytes",     "12.5", "@timestamp", "2024-05-10T10:00:00Z",
                                    NULL};
    static const char *const c[] = {"message", "caf\xc3\xa9 \xff", NULL};
    evs[0] = make(FUZZ_NOW - 1, "Failed password for alice from 10.1.2.3 port 22 ssh2", a);
    evs[1] = make(FUZZ_NOW - 3600LL * 1000000000LL, "GET /wp-login.php?x=1 200 12.5", b);
    evs[2] = make(VG_TIME_NONE, NULL, c);
}

static void aggregate(const struct vg_query *q)
{
    for (size_t i = 0; i < q->npipes; i++) {
        const struct qpipe *p = &q->pipes[i];
        struct qagg_state *a = NULL;
        struct qtable *t = NULL;
        if (p->kind != QP_STATS && p->kind != QP_TOP && p->kind != QP_TIMECHART) {
            continue;
        }
        if (vg_query_agg_create(p, q->from, q->to, &a) == VG_OK) {
            for (int k = 0; k < 3; k++) {
                vg_query_agg_add(a, evs[k], "default");
            }
            if (vg_query_agg_table(a, &t) == VG_OK) {
                for (size_t j = i + 1; j < q->npipes; j++) {
                    if (q->pipes[j].kind == QP_SORT) {
                        vg_query_table_sort(t, q->pipes[j].by, q->pipes[j].nby);
                    }
                }
                vg_query_table_destroy(t);
            }
        }
        vg_query_agg_destroy(a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *const fields[] = {"host.name", "user.name", "source.ip", "event.outcome"};
    char err[256];
    struct vg_query *q = NULL;
    if (!evs[0]) {
        init();
    }
    if (vg_query_parse((const char *)data, size, FUZZ_NOW, &q, err, sizeof(err)) != VG_OK) {
        return 0;
    }
    struct vg_sbuf s = VG_SBUF_INIT;
    vg_query_dump(q, &s);
    for (int k = 0; k < 3; k++) {
        vg_query_match(q, evs[k], k ? "acme" : NULL);
    }
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_store_cf *cf;
    int nph;
    if (a) {
        vg_store_filter_compile(q->filter, fields, 4, a, &s, &cf, &nph);
    }
    aggregate(q);
    vg_arena_destroy(a);
    vg_sbuf_fini(&s);
    vg_query_destroy(q);
    return 0;
}
