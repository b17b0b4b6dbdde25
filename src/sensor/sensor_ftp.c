/*
 * sensor_ftp.c — FTP control channel parser of the sensor (issue 6).
 *
 * Reassembled TCP bytes -> command lines (client) and reply lines (server) -> one EVE `ftp`
 * record per command and its reply (Suricata 8 layout, output-json-ftp.c): command,
 * command_data, command_truncated, completion_code[], reply[], dynamic_port, mode,
 * reply_received, reply_truncated. A reply without a command (the 220 banner) gets a record
 * of its own. 1xx replies keep the command open for the final reply.
 *
 * PORT/EPRT (active) and 227 PASV/229 EPSV replies (passive) give the data channel's port
 * (dynamic_port) and register the data channel with the engine (vg_sensor_expect: the flow is
 * labelled "ftp-data"; RETR/STOR/APPE/STOU give the `ftp_data` record its command and file
 * name). A 234 reply to AUTH returns VG_SENSOR_APP_UPGRADE_TLS. USER/PASS report cleartext
 * credentials and the 230/530 outcome to the detection hooks. Commands in flight are a fixed ring
 * allocated with the flow state; lines are bounded (FTP_LINE_CAP), reply text per command too.
 */
#include <string.h>

#include "sensor/sensor_app.h"
#include "sensor/sensor_line.h"

#define FTP_TX_MAX    4
#define FTP_LINE_CAP  4096
#define FTP_CMD_MAX   16
#define FTP_DATA_MAX  4096
#define FTP_REPLY_TXT 1024
#define FTP_REPLY_MAX 16
#define FTP_USER_MAX  64

struct ftp_tx {
    uint64_t id;
    char cmd[FTP_CMD_MAX];
    uint16_t cmd_len, data_len;
    bool has_data, cmd_trunc, reply_trunc, done, active, has_mode;
    uint16_t dyn_port;
    uint8_t nreply;
    uint16_t reply_used;
    uint16_t r_off[FTP_REPLY_MAX], r_len[FTP_REPLY_MAX];
    char r_code[FTP_REPLY_MAX][4]; /* "" when the line has no completion code */
    char data[FTP_DATA_MAX];
    char reply[FTP_REPLY_TXT];
};

struct ftp_state {
    struct ftp_tx tx[FTP_TX_MAX];
    uint32_t head, count;
    uint64_t next_id;
    char user[FTP_USER_MAX];
    uint16_t user_len;
    uint16_t data_port; /* last expected data channel port (0 none) */
    bool data_active;   /* the client listens (PORT/EPRT) */
    bool upgrade;       /* 234 to AUTH: return VG_SENSOR_APP_UPGRADE_TLS */
    uint32_t anomalies;
    struct vg_sensor_line line[2];
    uint8_t lbuf[2][FTP_LINE_CAP];
};

static struct ftp_tx *ring_at(struct ftp_state *st, uint32_t i)
{
    return &st->tx[(st->head + i) % FTP_TX_MAX];
}

/* ,"key":[ — without the comma right after '{'. */
static void json_open_array(struct vg_sbuf *b, const char *key)
{
    if (b->len && b->p[b->len - 1] != '{') {
        vg_sbuf_addc(b, ',');
    }
    vg_sbuf_addc(b, '"');
    vg_sbuf_adds(b, key);
    vg_sbuf_adds(b, "\":[");
}

static bool cmd_is(const struct ftp_tx *tx, const char *name)
{
    return tx->cmd_len == strlen(name) && memcmp(tx->cmd, name, tx->cmd_len) == 0;
}

/* USER anonymous / ftp: the password is an e-mail address by convention, not a secret. */
static bool user_anonymous(const struct ftp_state *st)
{
    return vg_str_ieq_ascii(st->user, st->user_len, "anonymous", 9) ||
           vg_str_ieq_ascii(st->user, st->user_len, "ftp", 3);
}

/* Write the EVE record of tx. */
static void tx_log(struct vg_sensor_app_ctx *c, const struct ftp_tx *tx)
{
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "ftp", VG_SENSOR_REC_FLOW, (int64_t)tx->id);
    vg_sbuf_adds(b, ",\"ftp\":{");
    if (tx->cmd_len) {
        vg_sensor_json_kstr(b, "command", tx->cmd, tx->cmd_len);
    }
    if (tx->has_data) {
        vg_sensor_json_kstr(b, "command_data", tx->data, tx->data_len);
        vg_sensor_json_kbool(b, "command_truncated", tx->cmd_trunc);
    }
    bool open = false;
    for (uint8_t i = 0; i < tx->nreply; i++) {
        if (tx->r_code[i][0]) {
            if (open) {
                vg_sbuf_addc(b, ',');
            } else {
                json_open_array(b, "completion_code");
            }
            vg_sbuf_add_json_str(b, tx->r_code[i], 3);
            open = true;
        }
    }
    if (open) {
        vg_sbuf_addc(b, ']');
    }
    for (uint8_t i = 0; i < tx->nreply; i++) {
        if (i) {
            vg_sbuf_addc(b, ',');
        } else {
            json_open_array(b, "reply");
        }
        vg_sbuf_add_json_str(b, tx->reply + tx->r_off[i], tx->r_len[i]);
    }
    if (tx->nreply) {
        vg_sbuf_addc(b, ']');
    }
    if (tx->dyn_port) {
        vg_sensor_json_kint(b, "dynamic_port", tx->dyn_port);
    }
    if (tx->has_mode) {
        vg_sensor_json_kstr(b, "mode", tx->active ? "active" : "passive", tx->active ? 6 : 7);
    }
    vg_sensor_json_kstr(b, "reply_received", tx->done ? "yes" : "no", tx->done ? 3 : 2);
    vg_sensor_json_kbool(b, "reply_truncated", tx->reply_trunc);
    vg_sbuf_addc(b, '}');
    vg_sensor_rec_end(c);
}

static void ring_pop_log(struct vg_sensor_app_ctx *c, struct ftp_state *st)
{
    tx_log(c, ring_at(st, 0));
    st->head = (st->head + 1) % FTP_TX_MAX;
    st->count--;
}

static void ring_flush_done(struct vg_sensor_app_ctx *c, struct ftp_state *st)
{
    while (st->count && ring_at(st, 0)->done) {
        ring_pop_log(c, st);
    }
}

static struct ftp_tx *ring_push(struct vg_sensor_app_ctx *c, struct ftp_state *st)
{
    if (st->count == FTP_TX_MAX) {
        st->anomalies++;
        ring_pop_log(c, st);
    }
    struct ftp_tx *tx = ring_at(st, st->count++);
    memset(tx, 0, offsetof(struct ftp_tx, data));
    tx->id = st->next_id++;
    return tx;
}

/* Decimal number in p[0..n) up to a non-digit; -1 when none. */
static long num_at(const char *p, size_t n, size_t *i)
{
    long v = -1;
    while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
        v = (v < 0 ? 0 : v) * 10 + (p[*i] - '0');
        if (v > 1000000) {
            return -1;
        }
        (*i)++;
    }
    return v;
}

/* "h1,h2,h3,h4,p1,p2" anywhere in s: the port, or 0. */
static uint16_t port_from_tuple(const char *s, size_t n)
{
    for (size_t start = 0; start < n; start++) {
        if (s[start] < '0' || s[start] > '9') {
            continue;
        }
        long v[6];
        size_t i = start;
        int k = 0;
        for (; k < 6; k++) {
            v[k] = num_at(s, n, &i);
            if (v[k] < 0 || v[k] > 255 || (k < 5 && (i >= n || s[i++] != ','))) {
                break;
            }
        }
        if (k == 6) {
            return (uint16_t)(v[4] * 256 + v[5]);
        }
    }
    return 0;
}

/* EPRT |af|addr|port| or EPSV reply (|||port|): the last delimited field. */
static uint16_t port_from_ext(const char *s, size_t n)
{
    const char *o = memchr(s, '(', n);
    if (o) {
        n -= (size_t)(o + 1 - s);
        s = o + 1;
    }
    if (n < 5) {
        return 0;
    }
    char delim = s[0];
    int fields = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != delim) {
            continue;
        }
        if (++fields == 4) {
            size_t j = i;
            while (j > 0 && s[j - 1] != delim) {
                j--;
            }
            long v = num_at(s, i, &j);
            return (v > 0 && v < 65536) ? (uint16_t)v : 0;
        }
    }
    return 0;
}

/* A data channel port: the engine labels the coming connection "ftp-data" (active: to the
 * client's port; passive: to the server's). */
static void note_port(struct vg_sensor_app_ctx *c, struct ftp_state *st, struct ftp_tx *tx,
                      uint16_t port, bool active)
{
    if (!port) {
        return;
    }
    tx->dyn_port = port;
    st->data_port = port;
    st->data_active = active;
    const uint8_t *addr;
    uint8_t fam;
    uint16_t ctl_port;
    vg_sensor_app_endpoint(c, !active, &addr, &fam, &ctl_port);
    vg_sensor_expect(c, fam, addr, port, "ftp-data");
}

/* A client command line. */
static void on_command(struct vg_sensor_app_ctx *c, struct ftp_state *st, const uint8_t *l,
                       size_t n, bool trunc)
{
    while (n && (l[0] == ' ' || l[0] == '\t')) {
        l++;
        n--;
    }
    if (n == 0) {
        return;
    }
    struct ftp_tx *tx = ring_push(c, st);
    size_t i = 0;
    while (i < n && l[i] != ' ') {
        if (i < FTP_CMD_MAX) {
            char ch = (char)l[i];
            tx->cmd[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
        }
        i++;
    }
    tx->cmd_len = (uint16_t)(i < FTP_CMD_MAX ? i : FTP_CMD_MAX);
    if (i + 1 < n || (i + 1 == n && trunc)) {
        size_t dl = n - i - 1;
        tx->cmd_trunc = trunc || dl > FTP_DATA_MAX;
        tx->data_len = (uint16_t)(dl > FTP_DATA_MAX ? FTP_DATA_MAX : dl);
        memcpy(tx->data, l + i + 1, tx->data_len);
        tx->has_data = true;
    }
    if (tx->cmd_len == 4 && memcmp(tx->cmd, "PORT", 4) == 0) {
        tx->has_mode = tx->active = true;
        note_port(c, st, tx, port_from_tuple(tx->data, tx->data_len), true);
    } else if (tx->cmd_len == 4 && memcmp(tx->cmd, "EPRT", 4) == 0) {
        tx->has_mode = tx->active = true;
        note_port(c, st, tx, port_from_ext(tx->data, tx->data_len), true);
    } else if (cmd_is(tx, "RETR") || cmd_is(tx, "STOR") || cmd_is(tx, "APPE") ||
               cmd_is(tx, "STOU")) {
        char cmd[FTP_CMD_MAX + 1];
        memcpy(cmd, tx->cmd, tx->cmd_len);
        cmd[tx->cmd_len] = '\0';
        vg_sensor_expect_file(c, cmd, tx->data, tx->data_len);
    } else if (tx->cmd_len == 4 && memcmp(tx->cmd, "USER", 4) == 0) {
        st->user_len = (uint16_t)(tx->data_len < FTP_USER_MAX ? tx->data_len : FTP_USER_MAX);
        memcpy(st->user, tx->data, st->user_len);
    } else if (tx->cmd_len == 4 && memcmp(tx->cmd, "PASS", 4) == 0 && !user_anonymous(st)) {
        /* Suricata logs every password; Vigie's records never carry a secret, so only an
         * anonymous login's "password" (by convention an e-mail address) is kept, as Zeek
         * does. */
        vg_sensor_note_cred(c, "ftp", st->user, st->user_len);
        memcpy(tx->data, "<hidden>", 8);
        tx->data_len = 8;
        tx->cmd_trunc = false;
    }
}

/* Append one reply line to tx (code split off). */
static void tx_add_reply(struct ftp_tx *tx, const uint8_t *l, size_t n, bool trunc)
{
    if (tx->nreply == FTP_REPLY_MAX) {
        tx->reply_trunc = true;
        return;
    }
    uint8_t k = tx->nreply++;
    tx->r_code[k][0] = 0;
    if (n >= 3 && l[0] >= '0' && l[0] <= '9' && l[1] >= '0' && l[1] <= '9' && l[2] >= '0' &&
        l[2] <= '9') {
        memcpy(tx->r_code[k], l, 3);
        tx->r_code[k][3] = 0;
        l += n > 3 ? 4 : 3;
        n -= n > 3 ? 4 : 3;
    }
    size_t room = FTP_REPLY_TXT - tx->reply_used;
    if (n > room) {
        n = room;
        trunc = true;
    }
    memcpy(tx->reply + tx->reply_used, l, n);
    tx->r_off[k] = tx->reply_used;
    tx->r_len[k] = (uint16_t)n;
    tx->reply_used = (uint16_t)(tx->reply_used + n);
    tx->reply_trunc |= trunc;
}

/* The oldest command still waiting for its final reply (one is created for a banner). */
static struct ftp_tx *reply_tx(struct vg_sensor_app_ctx *c, struct ftp_state *st)
{
    for (uint32_t i = 0; i < st->count; i++) {
        struct ftp_tx *tx = ring_at(st, i);
        if (!tx->done) {
            return tx;
        }
    }
    return ring_push(c, st);
}

/* The final line of a reply (code + space) for tx. */
static void on_final_reply(struct vg_sensor_app_ctx *c, struct ftp_state *st, struct ftp_tx *tx,
                           const uint8_t *l, size_t n)
{
    int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
    char txt[FTP_LINE_CAP];
    memcpy(txt, l, n);
    if (code == 227) {
        note_port(c, st, tx, port_from_tuple(txt + 3, n - 3), false);
    } else if (code == 229) {
        note_port(c, st, tx, port_from_ext(txt + 3, n - 3), false);
    }
    if (code == 234 && cmd_is(tx, "AUTH")) {
        st->upgrade = true; /* AUTH TLS accepted: TLS follows */
    }
    if (cmd_is(tx, "PASS") && (code == 230 || code == 530)) {
        vg_sensor_note_auth(c, "ftp", code == 230);
    }
    if (code >= 200) {
        tx->done = true;
        ring_flush_done(c, st);
    }
}

/* A server reply line. */
static void on_reply(struct vg_sensor_app_ctx *c, struct ftp_state *st, const uint8_t *l, size_t n,
                     bool trunc)
{
    struct ftp_tx *tx = reply_tx(c, st);
    tx_add_reply(tx, l, n, trunc);
    bool coded = n >= 3 && l[0] >= '1' && l[0] <= '5' && l[1] >= '0' && l[1] <= '9' &&
                 l[2] >= '0' && l[2] <= '9';
    if (coded && (n == 3 || l[3] == ' ')) {
        on_final_reply(c, st, tx, l, n);
    }
}

static int ftp_data(struct vg_sensor_app_ctx *c, void *vst, const uint8_t *p, size_t n)
{
    struct ftp_state *st = vst;
    int d = c->dir == VG_SENSOR_FLOW_TO_SERVER ? 0 : 1;
    size_t total = n;
    while (n > 0) {
        size_t used, len;
        const uint8_t *l;
        bool trunc;
        if (!vg_sensor_line_next(&st->line[d], p, n, &used, &l, &len, &trunc)) {
            break;
        }
        len = vg_sensor_line_chomp(l, len);
        if (d == 0) {
            on_command(c, st, l, len, trunc);
        } else {
            on_reply(c, st, l, len, trunc);
        }
        p += used;
        n -= used;
        if (st->upgrade) {
            st->upgrade = false;
            vg_sensor_app_upgrade_at(c, total - n); /* the rest goes to the TLS detection */
            return VG_SENSOR_APP_UPGRADE_TLS;
        }
    }
    return VG_SENSOR_APP_OK;
}

static void ftp_gap(struct vg_sensor_app_ctx *c, void *vst, size_t n)
{
    struct ftp_state *st = vst;
    st->anomalies++;
    vg_sensor_line_reset(&st->line[c->dir == VG_SENSOR_FLOW_TO_SERVER ? 0 : 1]);
}

static void ftp_end(struct vg_sensor_app_ctx *c, void *vst)
{
    struct ftp_state *st = vst;
    while (st->count) {
        ring_pop_log(c, st);
    }
}

static void *ftp_state_new(void)
{
    struct ftp_state *st = vg_malloc(sizeof(*st));
    if (!st) {
        return NULL;
    }
    memset(st, 0, offsetof(struct ftp_state, lbuf));
    for (int i = 0; i < 2; i++) {
        vg_sensor_line_init(&st->line[i], st->lbuf[i], FTP_LINE_CAP);
    }
    return st;
}

static void ftp_state_free(void *st)
{
    vg_free(st);
}

/* Server: "220" banner; client: an FTP command word followed by space or CRLF. */
static int ftp_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    static const char *const cmds[] = {"user", "auth", "feat", "syst", "opts", "pass"};
    if (n < 4) {
        return -1;
    }
    if (dir == VG_SENSOR_FLOW_TO_CLIENT) {
        return (memcmp(p, "220", 3) == 0 && (p[3] == ' ' || p[3] == '-')) ? 1 : 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (vg_sensor_line_iprefix(p, n, cmds[i]) == 0) {
            continue;
        }
        if (n == 4) {
            return -1;
        }
        return (p[4] == ' ' || p[4] == '\r' || p[4] == '\n') ? 1 : 0;
    }
    return 0;
}

const struct vg_sensor_app_proto vg_sensor_proto_ftp = {
    .name = "ftp",
    .ipproto = 6,
    .ports = {21, 0},
    .probe = ftp_probe,
    .state_new = ftp_state_new,
    .state_free = ftp_state_free,
    .data = ftp_data,
    .gap = ftp_gap,
    .end = ftp_end,
};
