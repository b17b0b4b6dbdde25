/*
 * server_stream.c — GET /api/v1/stream (role read): live updates for the web console as
 * server-sent events (text/event-stream), on the API framework's streamed responses.
 *
 * Each client gets, at once and then whenever something changed (checked every 250 ms):
 *
 *   event: update
 *   data: {"events":N,"alerts":N,"stored":N,"unparsed":N,"backlog":N,"incidents":C}
 *
 * where the counters are those of GET /api/v1/stats and "incidents" changes whenever alerts
 * were triaged or an incident was updated (vg_triage_changes): the console then reads the
 * pages' data again through the usual routes, so the stream carries no tenant data itself.
 * A comment line every 15 s keeps proxies and the connection's idle timer from closing it.
 * The stream ends when the server stops or the caller's session or token ends (the framework
 * checks every 5 s); EventSource reconnects by itself (retry: 5 s).
 *
 * Threads: each stream runs on its connection's thread (thread per connection only: with a
 * thread pool the route answers 501). The state read is the server's atomic counters and the
 * triage engine's mutex.
 */
#include "server/server_int.h"

#include "alert/alert.h"
#include "api/api.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TICK_MS      250
#define KEEPALIVE_MS 15000

struct stream {
    struct vg_server *s;
    char last[256]; /* the last update sent */
    bool started;
};

/* The current update's JSON into buf; its length. */
static int stream_state(struct vg_server *s, char *buf, size_t size)
{
    struct vg_server_stats st;
    struct vg_triage *t = vg_server_triage(s);
    vg_server_get_stats(s, &st);
    return snprintf(buf, size,
                    "{\"events\":%" PRIu64 ",\"alerts\":%" PRIu64 ",\"stored\":%" PRIu64
                    ",\"unparsed\":%" PRIu64 ",\"backlog\":%" PRIu64 ",\"incidents\":%" PRIu64 "}",
                    st.events, st.alerts, st.stored, st.unparsed, st.journal_next - 1 - st.position,
                    t ? vg_triage_changes(t) : 0);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The producer (vg_api_stream_fn): wait for a change, send it; a comment now and then. */
static size_t stream_next(void *ctx, struct vg_api_stream *as, char *buf, size_t size)
{
    struct stream *x = ctx;
    char now[256];
    for (long waited = 0; vg_api_stream_alive(as); waited += TICK_MS) {
        stream_state(x->s, now, sizeof(now));
        if (strcmp(now, x->last) != 0) {
            int n = snprintf(buf, size, "%sevent: update\ndata: %s\n\n",
                             x->started ? "" : "retry: 5000\n", now);
            if (n <= 0 || (size_t)n >= size) {
                return 0;
            }
            vg_strlcpy(x->last, now, sizeof(x->last));
            x->started = true;
            return (size_t)n;
        }
        if (waited >= KEEPALIVE_MS) {
            int n = snprintf(buf, size, ": keep-alive\n\n");
            return n > 0 && (size_t)n < size ? (size_t)n : 0;
        }
        sleep_ms(TICK_MS);
    }
    return 0;
}

static void stream_free(void *ctx)
{
    vg_free(ctx);
}

static int h_stream(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    struct stream *x = vg_calloc(1, sizeof(*x));
    if (!x) {
        return VG_ENOMEM;
    }
    x->s = ctx;
    int rc = vg_api_resp_stream(req, resp, stream_next, x, stream_free);
    if (rc == VG_EUNSUPPORTED) {
        vg_api_resp_error(resp, 501, "not_implemented",
                          "live updates need a thread per connection (http.threads: 0)");
        return rc;
    }
    if (rc != VG_OK) {
        return rc;
    }
    resp->content_type = "text/event-stream; charset=utf-8";
    return VG_OK;
}

int vg_server_stream_register(struct vg_server *s, struct vg_api *api)
{
    return vg_api_route(api, "GET", "/api/v1/stream", VG_API_ROLE_READ, h_stream, s);
}
