/*
 * bench_evtx.c — throughput of the native EVTX reader (src/decode/decode_evtx.c).
 *
 *   bench_evtx [-n REPEAT] [--dump] PATH...
 *
 * PATH is an .evtx file or a directory searched recursively for *.evtx. Every file is
 * mapped once; then all records of all files are decoded REPEAT times (default 1) into one
 * reused event, and the figures are printed: records, bad records, input MB/s, records/s.
 * --dump prints each event as one JSON line instead (a debugging aid, not timed).
 */
#include "decode/decode.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct file_list {
    struct vg_mapped *m;
    char **names;
    size_t n, cap;
};

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int add_file(struct file_list *fl, const char *path)
{
    struct vg_mapped m;
    if (vg_file_map(path, &m) != VG_OK) {
        fprintf(stderr, "bench_evtx: cannot read %s\n", path);
        return VG_EIO;
    }
    if (fl->n == fl->cap) {
        size_t cap = fl->cap, cap2 = fl->cap;
        if (vg_grow(&fl->m, &cap, fl->n + 1, sizeof(*fl->m)) != VG_OK ||
            vg_grow(&fl->names, &cap2, fl->n + 1, sizeof(*fl->names)) != VG_OK) {
            vg_file_unmap(&m);
            return VG_ENOMEM;
        }
        fl->cap = VG_MIN(cap, cap2);
    }
    fl->m[fl->n] = m;
    fl->names[fl->n++] = vg_strdup(path);
    return VG_OK;
}

static int add_path(struct file_list *fl, const char *path, bool top)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "bench_evtx: %s: not found\n", path);
        return VG_ENOENT;
    }
    if (!S_ISDIR(st.st_mode)) {
        return top || ends_with(path, ".evtx") ? add_file(fl, path) : VG_OK;
    }
    DIR *d = opendir(path);
    if (!d) {
        return VG_EIO;
    }
    struct dirent *e;
    int rc = VG_OK;
    while (rc == VG_OK && (e = readdir(d))) {
        char sub[4096];
        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rc = add_path(fl, sub, false);
    }
    closedir(d);
    return rc;
}

/* Decode every record of one image; returns records decoded, counts bad ones. */
static uint64_t run_file(const struct vg_mapped *m, const char *name, struct vg_event *ev,
                         bool dump, uint64_t *bad)
{
    struct vg_evtx *r;
    uint64_t n = 0;
    char err[256];
    struct vg_sbuf out = VG_SBUF_INIT;
    if (vg_evtx_open(&r, m->p, m->len) != VG_OK) {
        fprintf(stderr, "bench_evtx: %s: not an EVTX file\n", name);
        return 0;
    }
    for (;;) {
        vg_event_reset(ev);
        int rc = vg_evtx_next(r, ev, err, sizeof(err));
        if (rc == VG_EOF) {
            break;
        }
        if (rc != VG_OK) {
            (*bad)++;
            if (dump) {
                fprintf(stderr, "%s: %s\n", name, err);
            }
            if (rc == VG_ENOMEM) {
                break;
            }
            continue;
        }
        n++;
        if (dump) {
            vg_sbuf_reset(&out);
            vg_event_write_json(ev, &out);
            printf("%s\n", out.p ? out.p : "{}");
        }
    }
    vg_sbuf_fini(&out);
    vg_evtx_close(r);
    return n;
}

int main(int argc, char **argv)
{
    struct file_list fl = {0};
    long repeat = 1;
    bool dump = false;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            int64_t v;
            if (vg_parse_i64(argv[i + 1], strlen(argv[i + 1]), &v) != VG_OK || v < 1) {
                fprintf(stderr, "bench_evtx: bad repeat count %s\n", argv[i + 1]);
                return 2;
            }
            repeat = (long)v;
            i++;
        } else if (strcmp(argv[i], "--dump") == 0) {
            dump = true;
        } else if (add_path(&fl, argv[i], true) != VG_OK) {
            rc = 1;
        }
    }
    if (!fl.n) {
        fprintf(stderr, "usage: bench_evtx [-n REPEAT] [--dump] FILE|DIR...\n");
        return 2;
    }
    struct vg_event *ev = vg_event_create();
    uint64_t records = 0, bad = 0, bytes = 0;
    uint64_t t0 = vg_clock_ns();
    for (long k = 0; k < (dump ? 1 : repeat); k++) {
        for (size_t i = 0; i < fl.n; i++) {
            records += run_file(&fl.m[i], fl.names[i], ev, dump, &bad);
            bytes += fl.m[i].len;
        }
    }
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    if (!dump) {
        printf("files %zu  repeat %ld  records %" PRIu64 "  bad %" PRIu64 "  bytes %" PRIu64 "\n",
               fl.n, repeat, records, bad, bytes);
        printf("time %.6f s  %.1f MB/s  %.0f records/s\n", secs, (double)bytes / 1e6 / secs,
               (double)records / secs);
    }
    vg_event_destroy(ev);
    for (size_t i = 0; i < fl.n; i++) {
        vg_file_unmap(&fl.m[i]);
        vg_free(fl.names[i]);
    }
    vg_free(fl.m);
    vg_free(fl.names);
    return rc;
}
