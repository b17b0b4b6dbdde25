/*
 * test_store.c — the embedded store: schema and round trip, dedupe keys, the recorded
 * source position, batches spanning days (and their undo after a crash between parts),
 * kill -9 during appends, retention by age and size, compaction of small blocks, alerts,
 * state, read-only access next to a writer, and the index prefilter.
 */
#include "store/store_int.h"
#include "store_testlib.h"
#include "vgtest.h"

#include <signal.h>
#include <sys/wait.h>

static vg_time_t day_start(void)
{
    vg_time_t now = vg_time_now();
    return now - now % NS_PER_DAY;
}

static struct vg_store *open_rw(const char *dir, const struct vg_store_opts *o)
{
    char err[256];
    struct vg_store *s = NULL;
    int rc = vg_store_open(dir, o, &s, err, sizeof(err));
    if (rc != VG_OK) {
        fprintf(stderr, "  open %s: %s\n", dir, err);
    }
    return s;
}

static struct vg_store *open_ro(const char *dir)
{
    struct vg_store_opts o = {.readonly = true};
    return open_rw(dir, &o);
}

/* n sshd-like events at t0 + i seconds, with field n = base + i. */
static void make_batch(struct vg_event **evs, size_t n, vg_time_t t0, int64_t step, int base)
{
    for (size_t i = 0; i < n; i++) {
        char raw[256], num[32], ip[32];
        snprintf(num, sizeof(num), "%d", base + (int)i);
        snprintf(ip, sizeof(ip), "10.0.%d.%d", (base + (int)i) / 250 % 250,
                 (base + (int)i) % 250 + 1);
        snprintf(raw, sizeof(raw), "sshd[%s]: Failed password for %s from %s port 22 ssh2", num,
                 i % 2 ? "root" : "alice", ip);
        const char *kv[] = {"n",         num, "user.name", i % 2 ? "root" : "alice",
                            "source.ip", ip,  "host.name", "web01",
                            NULL};
        evs[i] = tl_event(t0 + (vg_time_t)i * step, raw, kv);
    }
}

static size_t count_all(struct vg_store *s)
{
    return tl_scan(s, NULL, "n", NULL, 0);
}

/* ---------------------------------------------------------------- round trip */

struct roundtrip {
    struct vg_sbuf js;
    vg_time_t ts;
    int kind;
    size_t raw_len;
};

static int roundtrip_cb(void *ctx, struct vg_event *e, const struct vg_store_event_meta *m)
{
    struct roundtrip *c = ctx;
    vg_event_write_json(e, &c->js);
    c->ts = e->ts;
    c->kind = e->kind;
    c->raw_len = e->raw_len;
    /* typed values come back typed */
    const struct vg_field *f = vg_event_get(e, vg_field_intern("bytes", 5));
    CHECK(f && f->v.type == VG_V_INT && f->v.num.i == 512);
    CHECK_STR(m->tenant, "default");
    return VG_STORE_CONTINUE;
}

VG_TEST(store_roundtrip_types_and_raw)
{
    char dir[64], err[256];
    CHECK(tl_tmpdir(dir, sizeof(dir), "store") != NULL);
    struct vg_store *s = open_rw(dir, NULL);
    CHECK(s != NULL);
    struct vg_event *ev = vg_event_create();
    const char *raw = "Jan  1 00:00:00 web01 app: user=bob bytes=512 ratio=0.5";
    ev->raw = raw;
    ev->raw_len = strlen(raw);
    ev->ts = day_start() + 3600 * NS_PER_S;
    ev->kind = VG_EK_LINUX;
    uint32_t host = vg_field_intern("host.name", 9), bytes = vg_field_intern("bytes", 5);
    uint32_t ratio = vg_field_intern("ratio", 5), ok = vg_field_intern("ok", 2);
    uint32_t tag = vg_field_intern("tags", 4), nul = vg_field_intern("nothing", 7);
    vg_event_add_str(ev, host, strstr(raw, "web01"), 5);
    vg_event_add_int(ev, bytes, 512, NULL, 0);
    vg_event_add_double(ev, ratio, 0.5, "0.5", 3);
    vg_event_add_bool(ev, ok, true);
    vg_event_add_str(ev, tag, "a", 1);
    vg_event_add_str(ev, tag, "b", 1);
    vg_event_add_null(ev, nul);
    struct vg_store_append_result res;
    CHECK_EQ_INT(tl_append(s, &ev, NULL, 1, NULL, &res), VG_OK);
    CHECK_EQ_INT(res.stored, 1);
    vg_store_close(s);

    s = open_ro(dir);
    struct vg_store_stats st;
    CHECK_EQ_INT(vg_store_stats(s, &st, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(st.events, 1);
    CHECK_EQ_INT(st.partitions, 1);
    struct roundtrip c = {.js = VG_SBUF_INIT};
    struct vg_store_scan sc = {.from = VG_TIME_NONE,
                               .to = VG_TIME_NONE,
                               .floor = VG_TIME_NONE,
                               .on_event = roundtrip_cb,
                               .ctx = &c};
    CHECK_EQ_INT(vg_store_scan(s, &sc, NULL, err, sizeof(err)), VG_OK);
    CHECK_STR(c.js.p, "{\"host.name\":\"web01\",\"bytes\":512,\"ratio\":0.5,\"ok\":true,"
                      "\"tags\":[\"a\",\"b\"],\"nothing\":null}");
    CHECK_EQ_INT(c.ts, ev->ts);
    CHECK_EQ_INT(c.kind, VG_EK_LINUX);
    CHECK_EQ_INT(c.raw_len, strlen(raw));
    vg_sbuf_fini(&c.js);
    vg_store_close(s);
    vg_event_destroy(ev);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- dedupe */

VG_TEST(store_dedupe_keys)
{
    char dir[64];
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *s = open_rw(dir, NULL);
    struct vg_event *evs[4];
    struct vg_store_append_result res;
    make_batch(evs, 4, day_start() + NS_PER_S, NS_PER_S, 0);
    struct vg_store_item it[4] = {{.key = "k1"}, {.key = "k2"}, {.key = "k1"}, {.key = NULL}};
    CHECK_EQ_INT(tl_append(s, evs, it, 4, NULL, &res), VG_OK);
    CHECK_EQ_INT(res.stored, 3);
    CHECK_EQ_INT(res.skipped, 1);
    /* a retry of the same batch after a crash: only the keyless event is stored again */
    CHECK_EQ_INT(tl_append(s, evs, it, 4, NULL, &res), VG_OK);
    CHECK_EQ_INT(res.stored, 1);
    CHECK_EQ_INT(res.skipped, 3);
    /* keys are per tenant */
    struct vg_store_item other[1] = {{.key = "k1", .tenant = "acme"}};
    CHECK_EQ_INT(tl_append(s, evs, other, 1, NULL, &res), VG_OK);
    CHECK_EQ_INT(res.stored, 1);
    vg_store_close(s);
    s = open_rw(dir, NULL);
    CHECK_EQ_INT(tl_append(s, evs, it, 2, NULL, &res), VG_OK);
    CHECK_EQ_INT(res.skipped, 2);
    CHECK_EQ_INT(count_all(s), 5);
    vg_store_close(s);
    tl_events_free(evs, 4);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- position */

VG_TEST(store_position_survives_reopen)
{
    char dir[64];
    uint64_t pos = 0, p10 = 10, p20 = 20;
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *s = open_rw(dir, NULL);
    struct vg_event *evs[2];
    make_batch(evs, 2, day_start(), NS_PER_S, 0);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_ENOENT);
    CHECK_EQ_INT(tl_append(s, evs, NULL, 2, &p10, NULL), VG_OK);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 10);
    CHECK_EQ_INT(tl_append(s, evs, NULL, 2, NULL, NULL), VG_OK); /* no position: unchanged */
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 10);
    vg_store_close(s);
    s = open_rw(dir, NULL);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 10);
    CHECK_EQ_INT(tl_append(s, NULL, NULL, 0, &p20, NULL), VG_OK); /* position only */
    vg_store_close(s);
    s = open_ro(dir);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 20);
    vg_store_close(s);
    tl_events_free(evs, 2);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- days */

VG_TEST(store_batch_spanning_days)
{
    char dir[64], err[256];
    uint64_t p = 7, pos = 0;
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *s = open_rw(dir, NULL);
    struct vg_event *evs[6];
    /* 6 events 12 hours apart: 3 or 4 UTC days */
    make_batch(evs, 6, day_start() - 3 * NS_PER_DAY + NS_PER_S, NS_PER_DAY / 2, 0);
    CHECK_EQ_INT(tl_append(s, evs, NULL, 6, &p, NULL), VG_OK);
    struct vg_store_stats st;
    CHECK_EQ_INT(vg_store_stats(s, &st, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(st.partitions, 3);
    CHECK_EQ_INT(st.events, 6);
    vg_store_close(s);
    s = open_rw(dir, NULL);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 7);
    /* a time range only reads the partitions it covers */
    struct vg_store_scan_stats ss;
    struct tl_collect c = {.fid = vg_field_intern("n", 1)};
    struct vg_store_scan sc = {.from = day_start() - NS_PER_DAY,
                               .to = VG_TIME_NONE,
                               .on_event = tl_collect_cb,
                               .ctx = &c,
                               .floor = VG_TIME_NONE};
    CHECK_EQ_INT(vg_store_scan(s, &sc, &ss, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(ss.partitions, 1);
    CHECK_EQ_INT(c.n, 2);
    vg_store_close(s);
    tl_events_free(evs, 6);
    tl_rm_tree(dir);
}

/* A crash between the commits of two parts of one batch: the batch disappears whole. */
VG_TEST(store_undo_batch_interrupted_between_days)
{
    char dir[64];
    uint64_t p1 = 100, p2 = 200, pos = 0;
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_event *first[2], *evs[6];
    make_batch(first, 2, day_start() + NS_PER_S, NS_PER_S, 1000);
    make_batch(evs, 6, day_start() - 3 * NS_PER_DAY + NS_PER_S, NS_PER_DAY / 2, 0);
    struct vg_store_item it[6] = {{.key = "a"}, {.key = "b"}, {.key = "c"},
                                  {.key = "d"}, {.key = "e"}, {.key = "f"}};
    pid_t pid = fork();
    if (pid == 0) {
        struct vg_store *s = open_rw(dir, NULL);
        tl_append(s, first, NULL, 2, &p1, NULL);
        vg_store_test_exit_after_part = 1; /* parts 0 and 1 committed, part 2 never */
        tl_append(s, evs, it, 6, &p2, NULL);
        _exit(0); /* not reached */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 77);
    struct vg_store *s = open_rw(dir, NULL); /* recovery removes parts 0 and 1 */
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 100);
    CHECK_EQ_INT(count_all(s), 2);
    /* the server replays the batch: all of it is stored, keys included */
    struct vg_store_append_result res;
    CHECK_EQ_INT(tl_append(s, evs, it, 6, &p2, &res), VG_OK);
    CHECK_EQ_INT(res.stored, 6);
    CHECK_EQ_INT(count_all(s), 8);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 200);
    vg_store_close(s);
    tl_events_free(first, 2);
    tl_events_free(evs, 6);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- kill -9 */

/*
 * A child appends batches of 100 events (position = batch number, key = event number) and
 * reports each committed batch on a pipe; the parent kills it with SIGKILL at a random
 * point, reopens, and checks that batches 1..position are there exactly once and nothing
 * after. Then it resumes from the position, as the server does, and checks again.
 */
static void crash_child(const char *dir, int wfd, int batches)
{
    struct vg_store *s = open_rw(dir, NULL);
    struct vg_event *evs[100];
    struct vg_store_item it[100];
    char keys[100][16];
    for (int b = 1; s && b <= batches; b++) {
        uint64_t pos = (uint64_t)b;
        /* every 7th batch spans two days: the multi-part path */
        vg_time_t t0 = day_start() + (b % 7 == 0 ? -NS_PER_S * 50 : NS_PER_S * b);
        make_batch(evs, 100, t0, NS_PER_S, (b - 1) * 100);
        for (int i = 0; i < 100; i++) {
            snprintf(keys[i], sizeof(keys[i]), "%d", (b - 1) * 100 + i);
            it[i] = (struct vg_store_item){.key = keys[i]};
        }
        if (tl_append(s, evs, it, 100, &pos, NULL) != VG_OK) {
            _exit(3);
        }
        tl_events_free(evs, 100);
        if (write(wfd, &b, sizeof(b)) != sizeof(b)) {
            _exit(4);
        }
    }
    _exit(0);
}

static void check_exactly_once(struct vg_store *s, uint64_t batches)
{
    size_t want = (size_t)batches * 100;
    char **vals = vg_calloc(want + 1000, sizeof(*vals));
    size_t n = tl_scan(s, NULL, "n", vals, want + 1000);
    CHECK_EQ_INT(n, want);
    unsigned char *seen = vg_calloc(want + 1, 1);
    size_t bad = 0;
    for (size_t i = 0; i < n && i < want + 1000; i++) {
        int64_t v;
        if (vg_parse_i64(vals[i], strlen(vals[i]), &v) != VG_OK || v < 0 || (size_t)v >= want ||
            seen[v]++) {
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    tl_vals_free(vals, VG_MIN(n, want + 1000));
    vg_free(vals);
    vg_free(seen);
}

VG_TEST(store_kill9_committed_batches_exactly_once)
{
    char dir[64];
    tl_tmpdir(dir, sizeof(dir), "store");
    srand((unsigned)vg_clock_ns());
    for (int round = 0; round < 3; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            crash_child(dir, fds[1], 1000000);
        }
        close(fds[1]);
        int last = 0, b, target = 20 + rand() % 60;
        while (last < target && read(fds[0], &b, sizeof(b)) == sizeof(b)) {
            last = b;
        }
        usleep((useconds_t)(rand() % 3000)); /* land inside some later append */
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(fds[0]);
        struct vg_store *s = open_rw(dir, NULL);
        uint64_t pos = 0;
        CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
        CHECK((int)pos >= last);
        check_exactly_once(s, pos);
        vg_store_close(s);
        tl_rm_tree(dir);
        mkdir(dir, 0700);
    }
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- retention */

VG_TEST(store_retention_by_age_and_size)
{
    char dir[64], err[256];
    uint64_t p = 42, pos = 0;
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store_opts o = {.retention_days = 7};
    struct vg_store *s = open_rw(dir, &o);
    struct vg_event *evs[40];
    vg_time_t today = day_start();
    int ages[4] = {10, 8, 5, 0};
    for (int k = 0; k < 4; k++) {
        make_batch(evs, 10, today - ages[k] * NS_PER_DAY + NS_PER_S, NS_PER_S, k * 10);
        CHECK_EQ_INT(tl_append(s, evs, NULL, 10, k == 0 ? &p : NULL, NULL), VG_OK);
        tl_events_free(evs, 10);
    }
    struct vg_store_maint_report r;
    CHECK_EQ_INT(vg_store_maintain(s, vg_time_now(), &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.dropped_partitions, 2);
    CHECK_EQ_INT(count_all(s), 20);
    vg_store_close(s);
    /* the position was recorded with the oldest (now dropped) partition: it survives */
    s = open_rw(dir, NULL);
    CHECK_EQ_INT(vg_store_position(s, &pos), VG_OK);
    CHECK_EQ_INT(pos, 42);
    vg_store_close(s);
    /* by size: a bound below the current size drops all but the newest partition */
    struct vg_store_opts o2 = {.max_bytes = 1};
    s = open_rw(dir, &o2);
    CHECK_EQ_INT(vg_store_maintain(s, vg_time_now(), &r, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(r.dropped_partitions, 1);
    CHECK_EQ_INT(count_all(s), 10);
    vg_store_close(s);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- compaction */

VG_TEST(store_small_batches_compacted_and_found)
{
    char dir[64], err[256];
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store_opts o = {.block_events = 64};
    struct vg_store *s = open_rw(dir, &o);
    struct vg_event *evs[3];
    for (int b = 0; b < 100; b++) {
        make_batch(evs, 3, day_start() + (vg_time_t)b * 10 * NS_PER_S, NS_PER_S, b * 3);
        CHECK_EQ_INT(tl_append(s, evs, NULL, 3, NULL, NULL), VG_OK);
        tl_events_free(evs, 3);
    }
    struct vg_store_maint_report r;
    CHECK_EQ_INT(vg_store_maintain(s, vg_time_now(), &r, err, sizeof(err)), VG_OK);
    struct vg_store_stats st;
    CHECK_EQ_INT(vg_store_stats(s, &st, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(st.events, 300);
    CHECK(st.blocks <= 10); /* 100 tiny blocks merged into full ones */
    struct vg_store_filter f = {.op = VG_STORE_F_FIELD, .field = "n", .text = "123", .len = 3};
    char *vals[4];
    CHECK_EQ_INT(tl_scan(s, &f, "n", vals, 4), 300); /* "n" is not indexed: all candidates */
    tl_vals_free(vals, 4);
    struct vg_store_filter ip = {
        .op = VG_STORE_F_FIELD, .field = "source.ip", .text = "10.0.0.124", .len = 10};
    CHECK_EQ_INT(tl_scan(s, &ip, "n", vals, 4), 1);
    CHECK_STR(vals[0], "123");
    tl_vals_free(vals, 1);
    vg_store_close(s);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- index prefilter */

VG_TEST(store_index_selects_events)
{
    char dir[64];
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *s = open_rw(dir, NULL);
    struct vg_event *evs[2000];
    make_batch(evs, 2000, day_start() + NS_PER_S, NS_PER_S / 10, 0);
    CHECK_EQ_INT(tl_append(s, evs, NULL, 2000, NULL, NULL), VG_OK);
    tl_events_free(evs, 2000);
    char *vals[16];
    /* exact per event for field terms */
    struct vg_store_filter ip = {
        .op = VG_STORE_F_FIELD, .field = "source.ip", .text = "10.0.2.8", .len = 8};
    CHECK_EQ_INT(tl_scan(s, &ip, "n", vals, 16), 1);
    CHECK_STR(vals[0], "507");
    tl_vals_free(vals, 1);
    /* a prefix of a field value */
    struct vg_store_filter pre = {
        .op = VG_STORE_F_FIELD, .field = "source.ip", .text = "10.0.7.", .len = 7, .prefix = true};
    CHECK_EQ_INT(tl_scan(s, &pre, "n", vals, 0), 250);
    /* words by chunk: a superset of the events holding them, never fewer */
    struct vg_store_filter w = {.op = VG_STORE_F_TEXT, .text = "alice", .len = 5};
    size_t n = tl_scan(s, &w, "n", vals, 0);
    CHECK(n >= 1000 && n <= 2000);
    /* an address in the text is also found through the indexed source.ip term */
    struct vg_store_filter t = {.op = VG_STORE_F_TEXT, .text = "10.0.2.8", .len = 8};
    CHECK_EQ_INT(tl_scan(s, &t, "n", vals, 16), 1);
    tl_vals_free(vals, 1);
    /* AND of an exact term and a word: "alice" is the whole user.name of the even events,
     * so the index knows exactly where it is, and event 507 (root) has none */
    struct vg_store_filter *kids[2] = {&ip, &w};
    struct vg_store_filter and = {.op = VG_STORE_F_AND, .kids = kids, .nkids = 2};
    CHECK_EQ_INT(tl_scan(s, &and, "n", vals, 0), 0);
    struct vg_store_filter root = {.op = VG_STORE_F_TEXT, .text = "root", .len = 4};
    kids[1] = &root;
    CHECK_EQ_INT(tl_scan(s, &and, "n", vals, 0), 1);
    /* nothing matches: no block read */
    struct vg_store_filter none = {
        .op = VG_STORE_F_FIELD, .field = "user.name", .text = "zed", .len = 3};
    CHECK_EQ_INT(tl_scan(s, &none, "n", vals, 0), 0);
    vg_store_close(s);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- alerts and state */

static int alert_cb(void *ctx, const struct vg_store_alert *a)
{
    struct vg_sbuf *out = ctx;
    vg_sbuf_printf(out, "%s/%d;", a->rule_id, a->level);
    return VG_OK;
}

VG_TEST(store_alerts_append_and_query)
{
    char dir[64], err[256];
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *s = open_rw(dir, NULL);
    vg_time_t t = day_start();
    struct vg_store_alert a[3] = {
        {.ts = t + 1,
         .rule_id = "r1",
         .title = "SSH brute force",
         .level = 4,
         .tags = "[\"attack.t1110\"]",
         .attack = "[\"T1110\"]",
         .host = "web01",
         .src_ip = "203.0.113.5",
         .event_json = "{\"user.name\":\"root\"}"},
        {.ts = t + 2, .rule_id = "r2", .title = "Sudo", .level = 2, .user = "bob"},
        {.ts = t + 3, .rule_id = "r1", .title = "SSH brute force", .level = 4, .tenant = "acme"},
    };
    CHECK_EQ_INT(vg_store_alert_append(s, a, 3, err, sizeof(err)), VG_OK);
    CHECK(a[0].id > 0 && a[2].id > a[1].id);
    struct vg_sbuf out = VG_SBUF_INIT;
    struct vg_store_alert_query q = {
        .from = VG_TIME_NONE, .to = VG_TIME_NONE, .on_alert = alert_cb, .ctx = &out};
    CHECK_EQ_INT(vg_store_alert_query(s, &q, err, sizeof(err)), VG_OK);
    CHECK_STR(out.p, "r1/4;r2/2;r1/4;");
    vg_sbuf_reset(&out);
    q.min_level = 3;
    q.tenant = "default";
    CHECK_EQ_INT(vg_store_alert_query(s, &q, err, sizeof(err)), VG_OK);
    CHECK_STR(out.p, "r1/4;");
    vg_sbuf_reset(&out);
    q = (struct vg_store_alert_query){
        .from = t + 2, .to = VG_TIME_NONE, .rule_id = "r1", .on_alert = alert_cb, .ctx = &out};
    CHECK_EQ_INT(vg_store_alert_query(s, &q, err, sizeof(err)), VG_OK);
    CHECK_STR(out.p, "r1/4;");
    vg_sbuf_reset(&out);
    q = (struct vg_store_alert_query){.from = VG_TIME_NONE,
                                      .to = VG_TIME_NONE,
                                      .limit = 1,
                                      .before_id = a[2].id,
                                      .on_alert = alert_cb,
                                      .ctx = &out};
    CHECK_EQ_INT(vg_store_alert_query(s, &q, err, sizeof(err)), VG_OK);
    CHECK_STR(out.p, "r2/2;");
    vg_sbuf_reset(&out);
    vg_store_alert_write_json(&a[0], &out);
    CHECK(strstr(out.p, "\"rule.id\":\"r1\",\"rule.name\":\"SSH brute force\",\"level\":\"high\","
                        "\"tags\":[\"attack.t1110\"],\"threat.technique.id\":[\"T1110\"]") != NULL);
    CHECK(strstr(out.p, "\"event\":{\"user.name\":\"root\"}}") != NULL);
    vg_sbuf_fini(&out);
    vg_store_close(s);
    tl_rm_tree(dir);
}

VG_TEST(store_state_put_get)
{
    char dir[64], err[256];
    char *v = NULL;
    size_t n = 0;
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *s = open_rw(dir, NULL);
    CHECK_EQ_INT(vg_store_state_get(s, "tail:/var/log/auth.log", &v, &n), VG_ENOENT);
    CHECK_EQ_INT(
        vg_store_state_put(s, "tail:/var/log/auth.log", "ino=5 off=100", 13, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(
        vg_store_state_put(s, "tail:/var/log/auth.log", "ino=5 off=200", 13, err, sizeof(err)),
        VG_OK);
    vg_store_close(s);
    s = open_ro(dir);
    CHECK_EQ_INT(vg_store_state_get(s, "tail:/var/log/auth.log", &v, &n), VG_OK);
    CHECK_MEM(v, n, "ino=5 off=200");
    vg_free(v);
    vg_store_close(s);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- readers and writers */

VG_TEST(store_readonly_next_to_writer)
{
    char dir[64], err[256];
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *ro = NULL;
    CHECK_EQ_INT(
        vg_store_open(dir, &(struct vg_store_opts){.readonly = true}, &ro, err, sizeof(err)),
        VG_ENOENT);
    CHECK(strstr(err, "no Vigie store") != NULL);
    struct vg_store *w = open_rw(dir, NULL);
    struct vg_store *w2 = NULL;
    CHECK_EQ_INT(vg_store_open(dir, NULL, &w2, err, sizeof(err)), VG_EEXIST);
    ro = open_ro(dir);
    struct vg_event *evs[10];
    make_batch(evs, 10, day_start() + NS_PER_S, NS_PER_S, 0);
    CHECK_EQ_INT(count_all(ro), 0);
    CHECK_EQ_INT(tl_append(w, evs, NULL, 10, NULL, NULL), VG_OK);
    CHECK_EQ_INT(count_all(ro), 10); /* committed: visible to a concurrent reader */
    CHECK_EQ_INT(tl_append(ro, evs, NULL, 10, NULL, NULL), VG_EINVAL);
    tl_events_free(evs, 10);
    vg_store_close(ro);
    vg_store_close(w);
    tl_rm_tree(dir);
}

/* ---------------------------------------------------------------- codec */

VG_TEST(store_block_codec_rejects_damage)
{
    struct vg_store_block_builder b;
    struct vg_event *evs[3];
    vg_store_block_init(&b);
    make_batch(evs, 3, 1000, 1, 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(vg_store_block_add(&b, evs[i], evs[i]->ts), VG_OK);
    }
    CHECK_EQ_INT(vg_store_block_finish(&b), VG_OK);
    struct vg_store_block_pos pos[3];
    struct vg_event *ev = vg_event_create();
    /* every truncation and every single-byte change must fail cleanly or decode */
    for (size_t cut = 0; cut < b.out.len; cut++) {
        struct vg_store_block_reader r;
        char *copy = vg_malloc(b.out.len);
        memcpy(copy, b.out.p, b.out.len);
        copy[cut] ^= 0x5a;
        for (size_t len = cut; len <= b.out.len; len += b.out.len - cut) {
            if (vg_store_block_open(&r, copy, len) == VG_OK) {
                if (r.n <= 3 && vg_store_block_index(&r, pos) == VG_OK) {
                    for (uint32_t i = 0; i < r.n; i++) {
                        vg_store_block_event(&r, &pos[i], ev);
                    }
                }
            }
            vg_store_block_close(&r);
            if (cut == b.out.len) {
                break;
            }
        }
        vg_free(copy);
    }
    struct vg_store_block_reader r;
    CHECK_EQ_INT(vg_store_block_open(&r, b.out.p, b.out.len), VG_OK);
    CHECK_EQ_INT(vg_store_block_index(&r, pos), VG_OK);
    CHECK_EQ_INT(vg_store_block_event(&r, &pos[2], ev), VG_OK);
    size_t nl = 0;
    const char *nv = vg_event_get_str(ev, "n", &nl);
    CHECK_MEM(nv, nl, "2");
    CHECK_EQ_INT(ev->ts, 1002);
    vg_store_block_close(&r);
    vg_event_destroy(ev);
    tl_events_free(evs, 3);
    vg_store_block_fini(&b);
}

/* ---------------------------------------------------------------- threads */

struct reader_ctx {
    const char *dir;
    struct vg_store *s;
    volatile int *stop;
    int errors;
    size_t last;
    int backwards;
    int scans;
};

static void *reader_main(void *arg)
{
    struct reader_ctx *c = arg;
    struct vg_store_filter f = {.op = VG_STORE_F_TEXT, .text = "password", .len = 8};
    while (!*c->stop) {
        size_t n = tl_scan(c->s, c->scans % 2 ? &f : NULL, "n", NULL, 0);
        if (n == (size_t)-1) {
            c->errors++;
        } else if (n < c->last) {
            c->backwards++; /* committed events never disappear */
        } else {
            c->last = n;
        }
        c->scans++;
    }
    return NULL;
}

VG_TEST(store_readers_in_threads_while_appending)
{
    char dir[64];
    volatile int stop = 0;
    tl_tmpdir(dir, sizeof(dir), "store");
    struct vg_store *w = open_rw(dir, NULL);
    struct reader_ctx rc[2] = {{.dir = dir, .s = w, .stop = &stop},
                               {.dir = dir, .s = NULL, .stop = &stop}};
    rc[1].s = open_ro(dir); /* one reader on the writer's handle, one on its own */
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_create(&th[i], NULL, reader_main, &rc[i]) == 0);
    }
    struct vg_event *evs[200];
    for (int b = 0; b < 40; b++) {
        make_batch(evs, 200, day_start() + (vg_time_t)b * 200 * NS_PER_S, NS_PER_S, b * 200);
        CHECK_EQ_INT(tl_append(w, evs, NULL, 200, NULL, NULL), VG_OK);
        tl_events_free(evs, 200);
    }
    stop = 1;
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(rc[i].errors, 0);
        CHECK_EQ_INT(rc[i].backwards, 0);
        CHECK(rc[i].scans > 0);
    }
    CHECK_EQ_INT(count_all(rc[1].s), 8000);
    vg_store_close(rc[1].s);
    vg_store_close(w);
    tl_rm_tree(dir);
}
