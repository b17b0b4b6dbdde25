/*
 * sensor_rig.h — a one-flow harness for the sensor's parser tests (test_tls.c, test_ssh.c): a
 * real engine (record writer, no detections, no flow records), a TCP flow client:50000 ->
 * server:PORT, the parser's state, and the records of one event type collected in a buffer.
 * Include once per test executable.
 */
#ifndef VG_SENSOR_RIG_H
#define VG_SENSOR_RIG_H

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"
#include "vgtest.h"

struct out {
    struct vg_sbuf s;
    int records;
    char match[48]; /* "\"event_type\":\"tls\"" */
    bool keep_last; /* keep only the last record (else all, appended) */
};

static void sink(void *ctx, const char *line, size_t len)
{
    struct out *o = ctx;
    if (strstr(line, o->match)) {
        if (o->keep_last) {
            vg_sbuf_reset(&o->s);
        }
        vg_sbuf_add(&o->s, line, len);
        o->records++;
    }
}

struct rig {
    struct vg_sensor_engine *eng;
    struct vg_sensor_flow flow;
    struct out out;
    const struct vg_sensor_app_proto *pr;
    const char *event;
    void *st;
};

static void rig_init(struct rig *r, const struct vg_sensor_app_proto *pr, const char *event,
                     uint16_t port, bool keep_last)
{
    struct vg_sensor_engine_config cfg;
    memset(r, 0, sizeof(*r));
    vg_sensor_engine_config_default(&cfg);
    cfg.detect = false;
    cfg.log_flow = false;
    r->pr = pr;
    r->event = event;
    snprintf(r->out.match, sizeof(r->out.match), "\"event_type\":\"%s\"", event);
    r->out.keep_last = keep_last;
    CHECK_EQ_INT(vg_sensor_engine_create(&cfg, sink, &r->out, &r->eng), 0);
    r->flow.key.family = VG_SENSOR_FLOW_AF_INET;
    r->flow.key.proto = 6;
    r->flow.key.sport = 50000;
    r->flow.key.dport = port;
    r->st = pr->state_new();
}

static int rig_feed(struct rig *r, enum vg_sensor_flow_dir dir, const uint8_t *p, size_t n)
{
    struct vg_sensor_app_ctx c = {r->eng, &r->flow, dir, 1000000000LL, 1, NULL};
    return r->pr->data(&c, r->st, p, n);
}

static void rig_end(struct rig *r)
{
    struct vg_sensor_app_ctx c = {r->eng, &r->flow, 0, 2000000000LL, 2, NULL};
    r->pr->end(&c, r->st);
}

static void rig_fini(struct rig *r)
{
    r->pr->state_free(r->st);
    vg_sensor_engine_destroy(r->eng);
    vg_sbuf_fini(&r->out.s);
}

/* The protocol object ("tls":{...) of the record(s) kept, copied (static buffer). */
static const char *rig_obj(const struct rig *r)
{
    static char buf[8192];
    char key[40];
    snprintf(key, sizeof(key), "\"%s\":{", r->event);
    const char *t = r->out.s.p ? strstr(r->out.s.p, key) : NULL;
    snprintf(buf, sizeof(buf), "%s", t ? t : "");
    return buf;
}

#endif
