/*
 * bench_store.c — append throughput and on-disk footprint of the embedded store.
 *
 *   bench_store [--events N] [--batch B] [--days D] [--level L] [--block E] [--keys]
 *               [--sync-full] [--dir DIR] [--keep]
 *
 * Generates N realistic events (bench_gen.h: sshd/syslog/nginx/JSON/firewall mix, default
 * 2,000,000 over D = 2 days) in batches of B (default 2,000) and appends them to a fresh
 * store (default under /tmp, removed afterwards unless --keep). Generation is not timed;
 * the append calls are. Prints events/s and MB/s of raw text, then the footprint: bytes on
 * disk (every file of the store, after close checkpoints the WAL) divided by the raw log
 * volume (the raw lines plus one newline each, i.e. the size of the log files).
 * --keys gives every event a dedupe key (the cost of exactly-once with sender keys).
 */
#include "bench_util.h"
#include "bench_gen.h"
#include "store/store.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
    uint64_t events;
    size_t batch;
    int days;
    int level;
    uint32_t block;
    bool keys, sync_full, keep;
    const char *dir;
};

static int arg_u64(const char *s, uint64_t *out)
{
    int64_t v;
    if (vg_parse_i64(s, strlen(s), &v) != VG_OK || v < 0) {
        fprintf(stderr, "bench_store: bad number '%s'\n", s);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        uint64_t v = 0;
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--keys")) {
            o->keys = true;
        } else if (!strcmp(a, "--sync-full")) {
            o->sync_full = true;
        } else if (!strcmp(a, "--keep")) {
            o->keep = true;
        } else if (!strcmp(a, "--dir") && has) {
            o->dir = argv[++i];
        } else if (has && arg_u64(argv[i + 1], &v) == 0 && !strcmp(a, "--events")) {
            o->events = v, i++;
        } else if (has && !strcmp(a, "--batch")) {
            o->batch = (size_t)v, i++;
        } else if (has && !strcmp(a, "--days")) {
            o->days = (int)v, i++;
        } else if (has && !strcmp(a, "--level")) {
            o->level = (int)v, i++;
        } else if (has && !strcmp(a, "--block")) {
            o->block = (uint32_t)v, i++;
        } else {
            fprintf(stderr, "usage: bench_store [--events N] [--batch B] [--days D] [--level L]"
                            " [--block E] [--keys] [--sync-full] [--dir DIR] [--keep]\n");
            return -1;
        }
    }
    return o->batch && o->events && o->days > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct opts o = {.events = 2000000, .batch = 2000, .days = 2};
    char tmpl[] = "/tmp/vigie-bench-store-XXXXXX", err[512];
    if (parse_args(argc, argv, &o) != 0) {
        return 2;
    }
    const char *dir = o.dir ? o.dir : mkdtemp(tmpl);
    struct vg_store_opts so = {
        .zstd_level = o.level, .block_events = o.block, .sync_full = o.sync_full};
    struct vg_store *s = NULL;
    if (!dir || vg_store_open(dir, &so, &s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_store: %s\n", dir ? err : "mkdtemp failed");
        return 1;
    }
    struct gen g;
    vg_time_t t0 = vg_time_now() - (vg_time_t)o.days * 86400 * 1000000000LL;
    gen_init(&g, 1, t0, (int64_t)o.days * 86400 * 1000000000LL / (int64_t)o.events);
    struct vg_event **evs = vg_calloc(o.batch, sizeof(*evs));
    struct vg_store_item *items = vg_calloc(o.batch, sizeof(*items));
    char(*keys)[24] = vg_calloc(o.batch, sizeof(*keys));
    for (size_t i = 0; i < o.batch; i++) {
        evs[i] = vg_event_create();
    }
    uint64_t raw = 0, done = 0, ns = 0;
    int rc = VG_OK;
    while (done < o.events && rc == VG_OK) {
        size_t n = (size_t)VG_MIN((uint64_t)o.batch, o.events - done);
        for (size_t i = 0; i < n; i++) {
            raw += gen_next(&g, evs[i]) + 1;
            snprintf(keys[i], sizeof(keys[i]), "k%llu", (unsigned long long)(done + i));
            items[i].key = o.keys ? keys[i] : NULL;
        }
        struct vg_store_append_opts b = {
            .items = items, .has_position = true, .position = done + n};
        struct vg_store_append_result res;
        uint64_t a = vg_clock_ns();
        rc = vg_store_append(s, (const struct vg_event *const *)evs, n, &b, &res, err, sizeof(err));
        ns += vg_clock_ns() - a;
        done += n;
    }
    if (rc != VG_OK) {
        fprintf(stderr, "bench_store: append: %s\n", err);
    }
    vg_store_close(s); /* the last connection checkpoints and removes the WAL */
    struct vg_store_opts ro = {.readonly = true};
    struct vg_store_stats st = {0};
    if (vg_store_open(dir, &ro, &s, err, sizeof(err)) == VG_OK) {
        vg_store_stats(s, &st, err, sizeof(err));
        vg_store_close(s);
    }
    double secs = (double)ns / 1e9;
    printf("store append: %llu events, batch %zu, zstd %d, block %u events%s%s\n",
           (unsigned long long)done, o.batch, o.level ? o.level : 3, o.block ? o.block : 4096,
           o.keys ? ", dedupe keys" : "", o.sync_full ? ", synchronous=FULL" : "");
    printf("  append time   %.2f s  → %.0f events/s, %.1f MB/s of raw text\n", secs,
           (double)done / secs, (double)raw / secs / 1e6);
    printf("  raw volume    %.1f MB (%.1f bytes/event)\n", (double)raw / 1e6,
           (double)raw / (double)done);
    printf("  on disk       %.1f MB (%.1f bytes/event) in %u partitions, %llu blocks\n",
           (double)st.disk_bytes / 1e6, (double)st.disk_bytes / (double)done, st.partitions,
           (unsigned long long)st.blocks);
    printf("  footprint     %.3f × raw (target ≤ 0.5)\n", (double)st.disk_bytes / (double)raw);
    for (size_t i = 0; i < o.batch; i++) {
        vg_event_destroy(evs[i]);
    }
    vg_free(evs);
    vg_free(items);
    vg_free(keys);
    gen_fini(&g);
    if (!o.keep) {
        rm_tree(dir);
    } else {
        printf("  kept in %s\n", dir);
    }
    return rc == VG_OK ? 0 : 1;
}
