/*
 * agent_sink.h — the collectors' tests: an emit callback that keeps every event, and
 * lookups over them (key = value pairs at the top level of the event's JSON) with waits.
 */
#ifndef VG_TEST_AGENT_SINK_H
#define VG_TEST_AGENT_SINK_H

#include "core/core.h"
#include "event/event.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#ifndef SINK_WAIT_MS
#define SINK_WAIT_MS 8000
#endif

struct sink {
    pthread_mutex_t mu;
    char **ev;
    size_t n, cap;
};

static inline int sink_emit(void *ctx, const char *json, size_t len)
{
    struct sink *s = ctx;
    pthread_mutex_lock(&s->mu);
    if (vg_grow(&s->ev, &s->cap, s->n + 1, sizeof(char *)) == VG_OK) {
        s->ev[s->n++] = vg_strndup(json, len);
    }
    pthread_mutex_unlock(&s->mu);
    return VG_OK;
}

/* Free the events; the sink is empty and usable again. */
static inline void sink_fini(struct sink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        vg_free(s->ev[i]);
    }
    vg_free(s->ev);
    s->ev = NULL;
    s->n = s->cap = 0;
}

/* Events whose JSON text contains needle. */
static inline size_t sink_find(struct sink *s, const char *needle)
{
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        n += strstr(s->ev[i], needle) != NULL;
    }
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Events received so far. */
static inline size_t sink_n(struct sink *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Wait up to SINK_WAIT_MS for at least n events. */
static inline bool sink_wait_n(struct sink *s, size_t n)
{
    for (int ms = 0; ms < SINK_WAIT_MS && sink_n(s) < n; ms += 20) {
        usleep(20000);
    }
    return sink_n(s) >= n;
}

/* Does the JSON text have every key = value of kv (NULL-terminated pairs; numbers as text)? */
static inline bool ev_match(const char *text, const char *const *kv)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *doc = NULL;
    size_t used;
    char err[128];
    bool ok = p && a && vg_json_parse(p, a, text, strlen(text), &used, &doc, err, sizeof(err)) == 0;
    for (size_t i = 0; ok && kv[i]; i += 2) {
        const struct vg_json *v = vg_json_get(doc, kv[i]);
        ok = v && (v->type == VG_JSON_STRING || v->type == VG_JSON_NUMBER) &&
             v->n == strlen(kv[i + 1]) && memcmp(v->s, kv[i + 1], v->n) == 0;
    }
    vg_arena_destroy(a);
    vg_json_parser_destroy(p);
    return ok;
}

static inline size_t sink_count(struct sink *s, const char *const *kv)
{
    size_t found = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->n; i++) {
        found += ev_match(s->ev[i], kv);
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

/* The first event matching kv (a copy to free), waiting up to SINK_WAIT_MS; NULL if none. */
static inline char *sink_wait_copy(struct sink *s, const char *const *kv)
{
    for (int ms = 0; ms < SINK_WAIT_MS; ms += 20) {
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < s->n; i++) {
            if (ev_match(s->ev[i], kv)) {
                char *r = vg_strdup(s->ev[i]);
                pthread_mutex_unlock(&s->mu);
                return r;
            }
        }
        pthread_mutex_unlock(&s->mu);
        usleep(20000);
    }
    return NULL;
}

/* Is there an event matching kv within SINK_WAIT_MS? */
static inline bool sink_wait(struct sink *s, const char *const *kv)
{
    char *e = sink_wait_copy(s, kv);
    vg_free(e);
    return e != NULL;
}

#endif /* VG_TEST_AGENT_SINK_H */
