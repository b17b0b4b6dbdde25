/*
 * bench_tail.c — file tailing throughput: lines/s and MB/s from a log file into the journal.
 *
 *   bench_tail [--lines N] [--size B] [--max-line M] [--dir DIR] [--keep]
 *
 * Writes N syslog-like lines of about B bytes (default 2,000,000 × 200 B, ~400 MB) to
 * DIR/logs/bench.log (default DIR: a fresh mkdtemp directory under /tmp, removed afterwards
 * unless --keep), opens a journal in DIR/journal with sync off and a bound above the file
 * size, then times a tailer from vg_tail_start until every line is journaled. Writing the
 * file is not timed. The file is hot in the page cache (just written), so the figure is the
 * tailer's CPU path — read, split, meta, journal encoding and write — not the disk's.
 */
#include "ingest/ingest.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
    uint64_t lines;
    uint64_t size;
    uint64_t max_line;
    const char *dir;
    bool keep;
};

static int arg_u64(const char *s, uint64_t *out)
{
    int64_t v;
    if (vg_parse_i64(s, strlen(s), &v) != VG_OK || v <= 0) {
        fprintf(stderr, "bench_tail: bad number '%s'\n", s);
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
        if (!strcmp(a, "--keep")) {
            o->keep = true;
        } else if (!strcmp(a, "--dir") && has) {
            o->dir = argv[++i];
        } else if (has && arg_u64(argv[i + 1], &v) == 0 && !strcmp(a, "--lines")) {
            o->lines = v, i++;
        } else if (has && !strcmp(a, "--size")) {
            o->size = v, i++;
        } else if (has && !strcmp(a, "--max-line")) {
            o->max_line = v, i++;
        } else {
            fprintf(stderr, "usage: bench_tail [--lines N] [--size B] [--max-line M] [--dir DIR]"
                            " [--keep]\n");
            return -1;
        }
    }
    return o->lines && o->size >= 64 ? 0 : -1;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[4096];
        struct stat st;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            rm_tree(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* The log file: sshd-like lines padded with a message to about size bytes. */
static int write_log(const char *path, const struct opts *o, uint64_t *bytes)
{
    FILE *f = fopen(path, "w");
    size_t size = (size_t)o->size, cap = size + 256;
    char *line = vg_malloc(cap);
    uint64_t rng = 0x9E3779B97F4A7C15ULL;
    *bytes = 0;
    for (uint64_t i = 0; f && line && i < o->lines; i++) {
        rng = vg_hash_mix(rng + i);
        int n = snprintf(line, cap,
                         "2025-05-10T12:%02u:%02u.%06uZ host-%02u sshd[%u]: Accepted publickey "
                         "for user%03u from 10.%u.%u.%u port %u ssh2: ",
                         (unsigned)(i / 60000) % 60, (unsigned)(i / 1000) % 60,
                         (unsigned)(rng % 1000000), (unsigned)(rng >> 20) % 60,
                         (unsigned)(rng >> 8) % 65536, (unsigned)(rng >> 28) % 400,
                         (unsigned)(rng >> 36) % 256, (unsigned)(rng >> 44) % 256,
                         (unsigned)(rng >> 52) % 256, 1024 + (unsigned)(rng >> 16) % 60000);
        size_t len = VG_MAX((size_t)n, size - 1);
        for (size_t k = (size_t)n; k < len; k++) {
            line[k] = (char)('a' + (k + i) % 26);
        }
        line[len] = '\n';
        if (fwrite(line, 1, len + 1, f) != len + 1) {
            break;
        }
        *bytes += len + 1;
    }
    bool ok = line != NULL;
    vg_free(line);
    return f && fclose(f) == 0 && ok ? VG_OK : VG_EIO;
}

/* Start the tailer and wait until all n bytes are consumed; returns the seconds it took. */
static double run(struct vg_tail *t, uint64_t n, struct vg_tail_stats *st)
{
    uint64_t t0 = vg_clock_ns();
    if (vg_tail_start(t) != VG_OK) {
        return -1;
    }
    do {
        usleep(1000);
        vg_tail_stats(t, st);
    } while (st->bytes < n && vg_clock_ns() - t0 < 600ull * 1000000000ull);
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    vg_tail_stop(t);
    return secs;
}

int main(int argc, char **argv)
{
    struct opts o = {.lines = 2000000, .size = 200};
    char tmpl[] = "/tmp/vigie-bench-tail-XXXXXX", err[512], logs[4096], jdir[4096], state[4096],
         file[4200];
    if (parse_args(argc, argv, &o) != 0) {
        return 2;
    }
    const char *dir = o.dir ? o.dir : mkdtemp(tmpl);
    if (!dir) {
        fprintf(stderr, "bench_tail: mkdtemp failed\n");
        return 1;
    }
    snprintf(logs, sizeof(logs), "%s/logs", dir);
    snprintf(jdir, sizeof(jdir), "%s/journal", dir);
    snprintf(state, sizeof(state), "%s/state", dir);
    snprintf(file, sizeof(file), "%s/bench.log", logs);
    uint64_t bytes = 0;
    mkdir(dir, 0750);
    mkdir(logs, 0750);
    if (write_log(file, &o, &bytes) != VG_OK) {
        fprintf(stderr, "bench_tail: cannot write %s\n", file);
        return 1;
    }
    struct vg_journal_opts jo = {.max_lag_bytes = bytes * 4, .sync = false};
    struct vg_journal *j = NULL;
    struct vg_tail *t = NULL;
    struct vg_tail_input in = {.glob = file, .input = 1};
    struct vg_tail_opts to = {.max_line = (size_t)o.max_line};
    if (vg_journal_open(jdir, &jo, &j, err, sizeof(err)) != VG_OK ||
        vg_tail_create(j, state, &in, 1, &to, &t, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "bench_tail: %s\n", err);
        return 1;
    }
    struct vg_tail_stats st = {0};
    double secs = run(t, bytes, &st);
    struct vg_journal_stats js;
    vg_journal_stats(j, &js);
    printf("file tail: %llu lines of %llu B (%.1f MB), journal sync off\n",
           (unsigned long long)o.lines, (unsigned long long)o.size, (double)bytes / 1e6);
    printf("  time          %.2f s  → %.0f lines/s, %.1f MB/s of file\n", secs,
           (double)o.lines / secs, (double)st.bytes / secs / 1e6);
    printf("  journaled     %llu records, %.1f MB (%.1f bytes/record with header and meta)\n",
           (unsigned long long)js.appended, (double)js.bytes / 1e6,
           (double)js.bytes / (double)(js.appended ? js.appended : 1));
    printf("  stalls %llu, long lines %llu, checkpoints %llu\n", (unsigned long long)st.stalls,
           (unsigned long long)st.long_lines, (unsigned long long)st.checkpoints);
    int rc = st.bytes == bytes ? 0 : 1;
    vg_tail_destroy(t);
    vg_journal_close(j);
    if (!o.keep) {
        rm_tree(dir);
    } else {
        printf("  kept in %s\n", dir);
    }
    return rc;
}
