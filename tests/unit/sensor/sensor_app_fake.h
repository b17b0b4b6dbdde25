/*
 * sensor_app_fake.h — stand-ins for the engine's record writer and detection hooks, so the
 * protocol parser tests (test_http.c, test_smtp.c, test_ftp.c) run a parser alone: records
 * go to one string, notes are counted. Include once per test executable. Also a driver that
 * replays a scripted two-direction conversation with any segmentation.
 */
#ifndef VG_SENSOR_APP_FAKE_H
#define VG_SENSOR_APP_FAKE_H

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_app.h"

static struct vg_sbuf fake_out = VG_SBUF_INIT; /* all records, one per line */
static int fake_creds, fake_auth_ok, fake_auth_fail;
static char fake_last_user[256];

struct vg_sbuf *vg_sensor_rec_begin(struct vg_sensor_app_ctx *c, const char *event_type,
                                    enum vg_sensor_rec_dir dir, int64_t tx_id)
{
    (void)c;
    (void)dir;
    vg_sbuf_printf(&fake_out, "{\"event_type\":\"%s\"", event_type);
    if (tx_id >= 0) {
        vg_sbuf_printf(&fake_out, ",\"tx_id\":%lld", (long long)tx_id);
    }
    return &fake_out;
}

void vg_sensor_rec_end(struct vg_sensor_app_ctx *c)
{
    (void)c;
    vg_sbuf_adds(&fake_out, "}\n");
}

static void fake_sep(struct vg_sbuf *s)
{
    char last = s->len ? s->p[s->len - 1] : '{';
    if (last != '{' && last != '[' && last != ',' && last != ':') {
        vg_sbuf_addc(s, ',');
    }
}

void vg_sensor_json_kstr(struct vg_sbuf *s, const char *key, const char *v, size_t n)
{
    fake_sep(s);
    vg_sbuf_printf(s, "\"%s\":", key);
    vg_sbuf_add_json_str(s, v, n);
}

void vg_sensor_json_kint(struct vg_sbuf *s, const char *key, int64_t v)
{
    fake_sep(s);
    vg_sbuf_printf(s, "\"%s\":%lld", key, (long long)v);
}

void vg_sensor_json_kbool(struct vg_sbuf *s, const char *key, bool v)
{
    fake_sep(s);
    vg_sbuf_printf(s, "\"%s\":%s", key, v ? "true" : "false");
}

void vg_sensor_note_cred(struct vg_sensor_app_ctx *c, const char *proto, const char *user,
                         size_t user_len)
{
    (void)c;
    (void)proto;
    fake_creds++;
    size_t n = user_len < sizeof(fake_last_user) - 1 ? user_len : sizeof(fake_last_user) - 1;
    memcpy(fake_last_user, user, n);
    fake_last_user[n] = 0;
}

void vg_sensor_note_auth(struct vg_sensor_app_ctx *c, const char *proto, bool success)
{
    (void)c;
    (void)proto;
    if (success) {
        fake_auth_ok++;
    } else {
        fake_auth_fail++;
    }
}

/* One step of a conversation: bytes of one direction. */
struct fake_step {
    enum vg_sensor_flow_dir dir;
    const char *data;
};

/*
 * Run proto over the steps; each step is cut into pieces: at byte `cut` of step `cut_step`
 * (cut_step < 0: whole steps; cut == 0 with cut_step == -2: one byte at a time). Returns the
 * records (caller frees) and the last data() return in *rc.
 */
static char *fake_run(const struct vg_sensor_app_proto *proto, const struct fake_step *steps,
                      size_t nsteps, int cut_step, size_t cut, int *rc)
{
    vg_sbuf_reset(&fake_out);
    fake_creds = fake_auth_ok = fake_auth_fail = 0;
    void *st = proto->state_new ? proto->state_new() : NULL;
    struct vg_sensor_app_ctx c;
    memset(&c, 0, sizeof(c));
    int r = VG_SENSOR_APP_OK;
    for (size_t i = 0; i < nsteps && r == VG_SENSOR_APP_OK; i++) {
        const uint8_t *p = (const uint8_t *)steps[i].data;
        size_t n = strlen(steps[i].data);
        c.dir = steps[i].dir;
        if (cut_step == -2) {
            for (size_t k = 0; k < n && r == VG_SENSOR_APP_OK; k++) {
                r = proto->data(&c, st, p + k, 1);
            }
        } else if ((int)i == cut_step && cut < n) {
            r = proto->data(&c, st, p, cut);
            if (r == VG_SENSOR_APP_OK) {
                r = proto->data(&c, st, p + cut, n - cut);
            }
        } else {
            r = proto->data(&c, st, p, n);
        }
    }
    if (proto->end) {
        proto->end(&c, st);
    }
    if (proto->state_free) {
        proto->state_free(st);
    }
    *rc = r;
    return vg_strdup(fake_out.p ? fake_out.p : "");
}

/* The records are the same however the steps are segmented; returns the whole-step output. */
static char *fake_run_all_cuts(const struct vg_sensor_app_proto *proto,
                               const struct fake_step *steps, size_t nsteps, int *bad)
{
    int rc, rc2;
    char *ref = fake_run(proto, steps, nsteps, -1, 0, &rc);
    *bad = 0;
    char *one = fake_run(proto, steps, nsteps, -2, 0, &rc2);
    if (strcmp(one, ref) != 0 || rc2 != rc) {
        fprintf(stderr, "  byte-at-a-time differs:\n%s---\n%s", ref, one);
        (*bad)++;
    }
    vg_free(one);
    for (size_t i = 0; i < nsteps; i++) {
        size_t n = strlen(steps[i].data);
        for (size_t k = 1; k < n; k++) {
            char *got = fake_run(proto, steps, nsteps, (int)i, k, &rc2);
            if (strcmp(got, ref) != 0 || rc2 != rc) {
                if (*bad < 3) {
                    fprintf(stderr, "  cut step %zu at %zu differs:\n%s---\n%s", i, k, ref, got);
                }
                (*bad)++;
            }
            vg_free(got);
        }
    }
    return ref;
}

#endif
