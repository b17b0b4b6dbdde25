/*
 * sensor_expect.c — parser hooks that need no record writer (issue 6): the upgrade offset
 * (vg_sensor_app_upgrade_at), tls.from_proto (vg_sensor_app_from_proto), the flow's
 * endpoints, and expectations of dynamic channels: a control protocol (FTP
 * PASV/EPSV/PORT/EPRT) announces the endpoint of a coming connection; the next flow to that
 * endpoint is labelled with the announced app_proto ("ftp-data") instead of being probed, and
 * when it ends the engine writes the record Suricata writes for it (`ftp_data`: command and
 * file name, which the control channel gives later, RETR/STOR).
 *
 * A fixed table per engine (VG_SENSOR_EXPECT_MAX slots, no allocation): a waiting slot lives
 * until its deadline (VG_SENSOR_EXPECT_TTL) or the oldest is replaced; a matched slot belongs
 * to the labelled flow until that flow ends. Everything runs on the engine's thread. The hooks
 * do nothing for a context without an engine (parser unit tests). The channel's record is
 * written by vg_sensor_expect_flow_end (sensor_eve_hdr.c).
 */
#include <string.h>

#include "core/core.h"
#include "sensor/sensor_engine_int.h"

static size_t addr_len(uint8_t family)
{
    return family == VG_SENSOR_FLOW_AF_INET6 ? 16 : 4;
}

static bool slot_waiting(const struct vg_sensor_expect_slot *x, int64_t now)
{
    return x->deadline_ns && !x->taken && x->deadline_ns >= now;
}

/* A slot for a new expectation: the same endpoint, a free or expired one, else the oldest
 * waiting one. NULL when every slot belongs to a live flow. */
static struct vg_sensor_expect_slot *slot_for(struct vg_sensor_engine *e, uint8_t family,
                                              const uint8_t *addr, uint16_t port)
{
    struct vg_sensor_expect_slot *free_x = NULL, *oldest = NULL;
    for (size_t i = 0; i < VG_SENSOR_EXPECT_MAX; i++) {
        struct vg_sensor_expect_slot *x = &e->expect[i];
        if (x->taken) {
            continue;
        }
        if (!slot_waiting(x, e->now_ns)) {
            free_x = free_x ? free_x : x; /* free or expired */
            continue;
        }
        if (x->family == family && x->port == port &&
            memcmp(x->addr, addr, addr_len(family)) == 0) {
            return x;
        }
        if (!oldest || x->seq < oldest->seq) {
            oldest = x;
        }
    }
    return free_x ? free_x : oldest;
}

void vg_sensor_app_upgrade_at(struct vg_sensor_app_ctx *c, size_t used)
{
    if (c->eng) {
        c->eng->upgrade_used = used;
    }
}

const char *vg_sensor_app_from_proto(const struct vg_sensor_app_ctx *c)
{
    const struct vg_sensor_fstate *fs = c && c->eng && c->flow ? c->flow->user : NULL;
    return fs && fs->app_orig ? fs->app_orig->name : NULL;
}

void vg_sensor_app_endpoint(const struct vg_sensor_app_ctx *c, bool server, const uint8_t **addr,
                            uint8_t *family, uint16_t *port)
{
    static const uint8_t none[16];
    if (!c->flow) {
        *addr = none;
        *family = VG_SENSOR_FLOW_AF_INET;
        *port = 0;
        return;
    }
    const struct vg_flow_key *k = &c->flow->key;
    const struct vg_sensor_fstate *fs = c->eng ? c->flow->user : NULL;
    bool key_src = (fs && fs->swapped) == server; /* the key's source is the one asked for */
    *family = k->family;
    *addr = key_src ? k->src : k->dst;
    *port = key_src ? k->sport : k->dport;
}

int vg_sensor_expect(struct vg_sensor_app_ctx *c, uint8_t family, const uint8_t *server_addr,
                     uint16_t port, const char *proto)
{
    struct vg_sensor_engine *e = c->eng;
    const struct vg_sensor_fstate *fs = e && c->flow ? c->flow->user : NULL;
    if (!e || !server_addr || !proto || !port) {
        return VG_EINVAL;
    }
    struct vg_sensor_expect_slot *x = slot_for(e, family, server_addr, port);
    if (!x) {
        return VG_ENOMEM;
    }
    memset(x, 0, sizeof(*x));
    x->deadline_ns = (c->ts_ns > e->now_ns ? c->ts_ns : e->now_ns) + VG_SENSOR_EXPECT_TTL;
    x->seq = ++e->expect_seq;
    x->owner_flow_id = fs ? fs->flow_id : 0;
    x->family = family;
    memcpy(x->addr, server_addr, addr_len(family));
    x->port = port;
    size_t n = strlen(proto);
    n = n < VG_SENSOR_EXPECT_LABEL - 1 ? n : VG_SENSOR_EXPECT_LABEL - 1;
    memcpy(x->label, proto, n);
    return VG_OK;
}

void vg_sensor_expect_file(struct vg_sensor_app_ctx *c, const char *command, const char *file,
                           size_t file_len)
{
    struct vg_sensor_engine *e = c->eng;
    const struct vg_sensor_fstate *fs = e && c->flow ? c->flow->user : NULL;
    struct vg_sensor_expect_slot *best = NULL;
    if (!fs) {
        return;
    }
    for (size_t i = 0; i < VG_SENSOR_EXPECT_MAX; i++) {
        struct vg_sensor_expect_slot *x = &e->expect[i];
        if (x->deadline_ns && x->owner_flow_id == fs->flow_id && (!best || x->seq > best->seq)) {
            best = x;
        }
    }
    if (!best) {
        return;
    }
    size_t cl = command ? strlen(command) : 0;
    cl = cl < VG_SENSOR_EXPECT_CMD - 1 ? cl : VG_SENSOR_EXPECT_CMD - 1;
    memcpy(best->cmd, command ? command : "", cl);
    best->cmd[cl] = '\0';
    size_t fl = file ? (file_len < VG_SENSOR_EXPECT_FILE ? file_len : VG_SENSOR_EXPECT_FILE) : 0;
    if (fl) {
        memcpy(best->file, file, fl);
    }
    best->file_len = (uint16_t)fl;
}

/* Does the flow's server (either orientation of the key) equal the slot's endpoint? */
static bool slot_matches(const struct vg_sensor_expect_slot *x, const struct vg_flow_key *k,
                         bool swapped)
{
    size_t al = addr_len(x->family);
    if (k->family != x->family) {
        return false;
    }
    const uint8_t *srv = swapped ? k->src : k->dst;
    uint16_t sport = swapped ? k->sport : k->dport;
    return sport == x->port && memcmp(srv, x->addr, al) == 0;
}

void vg_sensor_expect_match(struct vg_sensor_engine *e, struct vg_sensor_flow *f,
                            struct vg_sensor_fstate *fs)
{
    if (!e->expect_seq || (f->key.proto != 6 && f->key.proto != 17)) {
        return;
    }
    for (size_t i = 0; i < VG_SENSOR_EXPECT_MAX; i++) {
        struct vg_sensor_expect_slot *x = &e->expect[i];
        if (!slot_waiting(x, e->now_ns) || !slot_matches(x, &f->key, fs->swapped)) {
            continue;
        }
        x->taken = true;
        fs->exp = x;
        fs->appst = VG_SENSOR_APPST_DONE; /* labelled, not parsed */
        e->st.expect_hits++;
        return;
    }
}

const char *vg_sensor_expect_label(const struct vg_sensor_fstate *fs)
{
    return fs->exp ? fs->exp->label : NULL;
}

void vg_sensor_expect_release(struct vg_sensor_fstate *fs)
{
    if (fs->exp) {
        memset(fs->exp, 0, sizeof(*fs->exp));
        fs->exp = NULL;
    }
}
