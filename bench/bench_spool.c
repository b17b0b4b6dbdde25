/*
 * bench_spool.c — the agent's disk spool (issue 5, target: replay >= 100k events/s): append
 * 1M events of ~300 bytes (group fsync), then replay them as the transport does — read a
 * batch, encode it as a zstd EVENTS frame, acknowledge — and print events/s both ways.
 *
 *   bench_spool [events] [dir]      (default 1000000, a directory under /tmp)
 */
#include "agent/agent_spool.h"
#include "agent/agent_wire.h"
#include "bench_util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int make_event(char *buf, size_t size, long i)
{
    /* A process event of about 300 bytes, as the collectors write them. */
    return snprintf(buf, size,
                    "{\"@timestamp\":\"2026-11-29T12:00:00.%06ldZ\",\"event.module\":"
                    "\"vigie-agent\",\"event.dataset\":\"process\",\"event.category\":"
                    "\"process\",\"event.type\":\"start\",\"process.pid\":%ld,"
                    "\"process.parent.pid\":%ld,\"process.executable\":\"/usr/bin/curl\","
                    "\"process.args\":[\"curl\",\"-s\",\"https://example.org/%ld\"],"
                    "\"user.id\":\"1000\",\"process.working_directory\":\"/home/u\"}",
                    i % 1000000, 1000 + i, 1 + i / 7, i);
}

int main(int argc, char **argv)
{
    int64_t n = 1000000;
    if (argc > 1 &&
        (vg_parse_i64(argv[1], strlen(argv[1]), &n) != VG_OK || n < 1 || n > 1000000000)) {
        fprintf(stderr, "usage: bench_spool [EVENTS] [DIR]\n");
        return 2;
    }
    char dir[256];
    snprintf(dir, sizeof(dir), "%s", argc > 2 ? argv[2] : "/tmp/vg_bench_spool_XXXXXX");
    if (argc <= 2 && !mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    struct vg_agent_spool_opts o = {.max_bytes = 4ull << 30};
    struct vg_agent_spool *s = NULL;
    char err[256];
    if (vg_agent_spool_open(dir, &o, &s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    char buf[512];
    size_t bytes = 0;
    uint64_t t0 = vg_clock_ns();
    for (long i = 0; i < n; i++) {
        int len = make_event(buf, sizeof(buf), i);
        bytes += (size_t)len;
        if (vg_agent_spool_append(s, buf, (size_t)len) != VG_OK) {
            fprintf(stderr, "append failed at %ld\n", i);
            return 1;
        }
    }
    vg_agent_spool_sync(s);
    uint64_t t1 = vg_clock_ns();
    struct vg_agent_spool_batch b = VG_AGENT_SPOOL_BATCH_INIT;
    struct vg_sbuf frame = VG_SBUF_INIT;
    uint64_t got = 0, wire = 0, t_read = 0;
    for (;;) {
        uint64_t r0 = vg_clock_ns();
        int rc = vg_agent_spool_read_batch(s, 2000, 1 << 20, &b);
        t_read += vg_clock_ns() - r0;
        if (rc != VG_OK) {
            break;
        }
        vg_sbuf_reset(&frame);
        vg_agent_wire_encode_events(&frame, b.first_seq, b.count, b.body.p, b.body.len, true);
        wire += frame.len;
        got += b.count;
        uint64_t a0 = vg_clock_ns();
        vg_agent_spool_ack(s, b.last_seq);
        t_read += vg_clock_ns() - a0;
    }
    uint64_t t2 = vg_clock_ns();
    struct vg_agent_spool_stats st;
    vg_agent_spool_stats(s, &st);
    double as = (double)(t1 - t0) / 1e9, rs = (double)(t2 - t1) / 1e9;
    printf("spool: %ld events, %.0f bytes/event avg\n", n, (double)bytes / (double)n);
    printf("append (group fsync):        %.2f s  %.0f events/s  %.1f MB/s  fsyncs %" PRIu64 "\n",
           as, (double)n / as, (double)bytes / as / 1e6, st.fsyncs);
    printf("replay read+ack:             %.2f s  %.0f events/s\n", (double)t_read / 1e9,
           (double)got / ((double)t_read / 1e9));
    printf("replay read+zstd frame+ack:  %.2f s  %.0f events/s  wire %.1f MB (%.1fx)\n", rs,
           (double)got / rs, (double)wire / 1e6, (double)bytes / (double)(wire ? wire : 1));
    printf("left: pending %" PRIu64 ", segments %u, bytes %" PRIu64 "\n", st.pending, st.segments,
           st.bytes);
    vg_agent_spool_batch_fini(&b);
    vg_sbuf_fini(&frame);
    vg_agent_spool_close(s);
    rm_tree(dir);
    return got == (uint64_t)n ? 0 : 1;
}
