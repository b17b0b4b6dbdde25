/*
 * sensor_smtp.c — SMTP parser of the sensor (issue 6).
 *
 * Reassembled TCP bytes -> command lines (client), reply lines (server), message data (DATA
 * until "." or BDAT chunks) -> one EVE `smtp` record per mail transaction, in the layout of
 * Suricata 8.0.7: "smtp":{"helo","mail_from","rcpt_to":[…]} and, once message data was
 * sent, "email":{"from","to":[…],"cc":[…],"status":"PARSE_DONE","attachment":[…]} taken from
 * the message's top-level headers and its MIME parts' file names.
 *
 * A transaction opens with the first command of a session or mail (HELO/EHLO, MAIL, RCPT,
 * DATA, BDAT) and is logged when its message ends, when HELO/EHLO or RSET resets it, when
 * a new MAIL starts over a previous sender, or at flow end. QUIT alone opens nothing.
 * Replies are matched to pipelined commands in order: a rejected DATA leaves data mode, 220
 * to STARTTLS hands the flow to TLS, 235/535 end an AUTH attempt. All strings live in fixed
 * arenas of the flow state; the message body is scanned line by line, never stored.
 */
#include <string.h>

#include "sensor/sensor_app.h"
#include "sensor/sensor_line.h"

#define SMTP_LINE_CAP  4096
#define SMTP_ARENA     4096
#define SMTP_RCPT_MAX  32
#define SMTP_ATT_MAX   16
#define SMTP_PEND_MAX  32
#define SMTP_HDR_CAP   1024
#define SMTP_BND_MAX   4
#define SMTP_BND_LEN   80
#define SMTP_USER_MAX  128
#define SMTP_HELO_PEND 256
#define SMTP_NAME_MAX  255 /* attachment file name kept (Suricata's mime decoder limit) */

enum smtp_cmd {
    SC_OTHER,
    SC_HELO,
    SC_MAIL,
    SC_RCPT,
    SC_DATA,
    SC_BDAT,
    SC_RSET,
    SC_QUIT,
    SC_STARTTLS,
    SC_AUTH,
    SC_DOT /* the end of DATA's message: the server answers it like a command */
};

struct smtp_str {
    uint16_t off, len;
};

struct smtp_tx {
    uint64_t id;
    bool open, has_content, has_mail, has_email;
    struct smtp_str mail_from, from, to, cc;
    bool has_from, has_to, has_cc;
    uint8_t nrcpt, natt;
    struct smtp_str rcpt[SMTP_RCPT_MAX], att[SMTP_ATT_MAX];
    uint16_t used;
    char arena[SMTP_ARENA];
};

enum smtp_mode { SM_CMD, SM_DATA, SM_BDAT, SM_AUTH_PLAIN, SM_AUTH_LOGIN_USER, SM_AUTH_LOGIN_PASS };
enum mime_ps { MP_HDR, MP_BODY, MP_PART_HDR };

struct smtp_mime {
    enum mime_ps ps;
    uint16_t hlen;
    bool part_name; /* the current part's file name was recorded */
    uint8_t nbnd;
    uint8_t blen[SMTP_BND_MAX];
    char bnd[SMTP_BND_MAX][SMTP_BND_LEN];
    char hdr[SMTP_HDR_CAP]; /* the header being assembled (with its folded lines) */
};

struct smtp_state {
    struct smtp_tx tx;
    uint64_t next_id;
    enum smtp_mode mode;
    uint64_t bdat_remain;
    bool bdat_last;
    uint8_t pend[SMTP_PEND_MAX];
    uint32_t pend_head, pend_count;
    bool reply_seen;
    bool rset_armed; /* an RSET waits for its reply; it then ends transaction rset_id */
    uint64_t rset_id;
    uint16_t helo_len, helo_pend_len;
    bool has_helo;
    char helo_pend[SMTP_HELO_PEND]; /* HELO/EHLO name waiting for its reply */
    uint32_t anomalies;
    struct smtp_mime mime;
    struct vg_sensor_line line[2];
    char helo[SMTP_LINE_CAP];
    uint8_t lbuf[2][SMTP_LINE_CAP];
};

/* ------------------------------------------------------------------ transactions */

static void tx_str(struct smtp_tx *tx, struct smtp_str *s, const uint8_t *v, size_t n)
{
    size_t room = SMTP_ARENA - tx->used;
    if (n > room) {
        n = room;
    }
    memcpy(tx->arena + tx->used, v, n);
    s->off = tx->used;
    s->len = (uint16_t)n;
    tx->used = (uint16_t)(tx->used + n);
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

/* "key":[v split at commas] */
static void json_comma_list(struct vg_sbuf *b, const char *key, const char *v, size_t n)
{
    json_open_array(b, key);
    size_t s = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || v[i] == ',') {
            if (s) {
                vg_sbuf_addc(b, ',');
            }
            vg_sbuf_add_json_str(b, v + s, i - s);
            s = i + 1;
        }
    }
    vg_sbuf_addc(b, ']');
}

static void tx_log_email(struct vg_sbuf *b, const struct smtp_tx *tx)
{
    vg_sbuf_adds(b, ",\"email\":{");
    if (tx->has_from) {
        vg_sensor_json_kstr(b, "from", tx->arena + tx->from.off, tx->from.len);
    }
    if (tx->has_to) {
        json_comma_list(b, "to", tx->arena + tx->to.off, tx->to.len);
    }
    if (tx->has_cc) {
        json_comma_list(b, "cc", tx->arena + tx->cc.off, tx->cc.len);
    }
    vg_sensor_json_kstr(b, "status", "PARSE_DONE", 10);
    for (uint8_t i = 0; i < tx->natt; i++) {
        if (i) {
            vg_sbuf_addc(b, ',');
        } else {
            json_open_array(b, "attachment");
        }
        vg_sbuf_add_json_str(b, tx->arena + tx->att[i].off, tx->att[i].len);
    }
    if (tx->natt) {
        vg_sbuf_addc(b, ']');
    }
    vg_sbuf_addc(b, '}');
}

/* Log the open transaction and close it. */
static void tx_close(struct vg_sensor_app_ctx *c, struct smtp_state *st)
{
    struct smtp_tx *tx = &st->tx;
    if (!tx->open) {
        return;
    }
    struct vg_sbuf *b = vg_sensor_rec_begin(c, "smtp", VG_SENSOR_REC_FLOW, (int64_t)tx->id);
    vg_sbuf_adds(b, ",\"smtp\":{");
    if (st->has_helo) {
        vg_sensor_json_kstr(b, "helo", st->helo, st->helo_len);
    }
    if (tx->has_mail) {
        vg_sensor_json_kstr(b, "mail_from", tx->arena + tx->mail_from.off, tx->mail_from.len);
    }
    for (uint8_t i = 0; i < tx->nrcpt; i++) {
        if (i) {
            vg_sbuf_addc(b, ',');
        } else {
            json_open_array(b, "rcpt_to");
        }
        vg_sbuf_add_json_str(b, tx->arena + tx->rcpt[i].off, tx->rcpt[i].len);
    }
    if (tx->nrcpt) {
        vg_sbuf_addc(b, ']');
    }
    vg_sbuf_addc(b, '}');
    if (tx->has_email) {
        tx_log_email(b, tx);
    }
    vg_sensor_rec_end(c);
    tx->open = false;
}

static struct smtp_tx *tx_open(struct smtp_state *st)
{
    struct smtp_tx *tx = &st->tx;
    if (!tx->open) {
        memset(tx, 0, offsetof(struct smtp_tx, arena));
        tx->open = true;
        tx->id = st->next_id++;
    }
    return tx;
}

/* ------------------------------------------------------------------ MIME scan */

static bool is_sp(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Value of parameter name (lowercase, with '=') inside a header value; quotes removed. */
static bool mime_param(const char *v, size_t n, const char *name, const char **out, size_t *on)
{
    size_t m = strlen(name);
    for (size_t i = 0; i + m <= n; i++) {
        if ((i == 0 || v[i - 1] == ';' || is_sp((uint8_t)v[i - 1])) &&
            vg_sensor_line_iprefix((const uint8_t *)v + i, n - i, name)) {
            const char *s = v + i + m;
            size_t k = n - i - m;
            if (k && *s == '"') {
                s++;
                k--;
                const char *q = memchr(s, '"', k);
                k = q ? (size_t)(q - s) : k;
            } else {
                size_t j = 0;
                while (j < k && s[j] != ';' && !is_sp((uint8_t)s[j])) {
                    j++;
                }
                k = j;
            }
            *out = s;
            *on = k;
            return true;
        }
    }
    return false;
}

static void mime_attachment(struct smtp_state *st, const char *v, size_t n)
{
    struct smtp_tx *tx = &st->tx;
    if (st->mime.part_name || tx->natt == SMTP_ATT_MAX) {
        return;
    }
    st->mime.part_name = true;
    tx_str(tx, &tx->att[tx->natt++], (const uint8_t *)v, n < SMTP_NAME_MAX ? n : SMTP_NAME_MAX);
}

/* RFC 2231 continuations: filename*0=…; filename*1=… joined into one name. */
static void mime_filename_rfc2231(struct smtp_state *st, const char *v, size_t vn)
{
    char name[SMTP_HDR_CAP];
    size_t len = 0;
    for (int i = 0; i < 10; i++) {
        char key[16] = "filename*0=";
        key[9] = (char)('0' + i);
        const char *pv;
        size_t pn;
        if (!mime_param(v, vn, key, &pv, &pn)) {
            break;
        }
        if (pn > sizeof(name) - len) {
            pn = sizeof(name) - len;
        }
        memcpy(name + len, pv, pn);
        len += pn;
    }
    if (len) {
        mime_attachment(st, name, len);
    }
}

/* A complete header (folds joined) in mime.hdr. */
static void mime_header(struct smtp_state *st)
{
    struct smtp_mime *m = &st->mime;
    struct smtp_tx *tx = &st->tx;
    const char *h = m->hdr;
    const char *colon = memchr(h, ':', m->hlen);
    if (!colon) {
        return;
    }
    size_t nl = (size_t)(colon - h);
    const char *v = colon + 1;
    size_t vn = m->hlen - nl - 1;
    while (vn && is_sp((uint8_t)*v)) {
        v++;
        vn--;
    }
    while (vn && (is_sp((uint8_t)v[vn - 1]) || v[vn - 1] == '\r')) {
        vn--;
    }
    const uint8_t *hn = (const uint8_t *)h;
    bool top = m->ps == MP_HDR;
    const char *pv;
    size_t pn;
    if (top && nl == 4 && vg_sensor_line_iprefix(hn, nl, "from") && !tx->has_from) {
        tx_str(tx, &tx->from, (const uint8_t *)v, vn);
        tx->has_from = true;
    } else if (top && nl == 2 && vg_sensor_line_iprefix(hn, nl, "to") && !tx->has_to) {
        tx_str(tx, &tx->to, (const uint8_t *)v, vn);
        tx->has_to = true;
    } else if (top && nl == 2 && vg_sensor_line_iprefix(hn, nl, "cc") && !tx->has_cc) {
        tx_str(tx, &tx->cc, (const uint8_t *)v, vn);
        tx->has_cc = true;
    } else if (nl == 12 && vg_sensor_line_iprefix(hn, nl, "content-type")) {
        if (mime_param(v, vn, "boundary=", &pv, &pn) && m->nbnd < SMTP_BND_MAX &&
            pn < SMTP_BND_LEN) {
            memcpy(m->bnd[m->nbnd], pv, pn);
            m->blen[m->nbnd++] = (uint8_t)pn;
        }
        if (mime_param(v, vn, "name=", &pv, &pn)) {
            mime_attachment(st, pv, pn);
        }
    } else if (nl == 19 && vg_sensor_line_iprefix(hn, nl, "content-disposition")) {
        if (mime_param(v, vn, "filename=", &pv, &pn)) {
            mime_attachment(st, pv, pn);
        } else {
            mime_filename_rfc2231(st, v, vn);
        }
    }
}

static void mime_flush_header(struct smtp_state *st)
{
    if (st->mime.hlen) {
        mime_header(st);
        st->mime.hlen = 0;
    }
}

/* A body line: a boundary starts part headers. */
static void mime_body_line(struct smtp_state *st, const uint8_t *l, size_t n)
{
    struct smtp_mime *m = &st->mime;
    if (n < 3 || l[0] != '-' || l[1] != '-') {
        return;
    }
    for (uint8_t i = 0; i < m->nbnd; i++) {
        if (n >= (size_t)m->blen[i] + 2 && memcmp(l + 2, m->bnd[i], m->blen[i]) == 0) {
            bool end =
                n >= (size_t)m->blen[i] + 4 && l[m->blen[i] + 2] == '-' && l[m->blen[i] + 3] == '-';
            if (!end) {
                m->ps = MP_PART_HDR;
                m->part_name = false;
            }
            return;
        }
    }
}

/* One line of message data (dot-unstuffed, CR stripped). */
static void mime_line(struct smtp_state *st, const uint8_t *l, size_t n)
{
    struct smtp_mime *m = &st->mime;
    if (m->ps == MP_BODY) {
        mime_body_line(st, l, n);
        return;
    }
    if (n == 0) {
        mime_flush_header(st);
        m->ps = MP_BODY;
        return;
    }
    if (!is_sp(l[0])) {
        mime_flush_header(st);
    }
    size_t room = SMTP_HDR_CAP - m->hlen;
    size_t k = n < room ? n : room;
    memcpy(m->hdr + m->hlen, l, k);
    m->hlen = (uint16_t)(m->hlen + k);
}

static void mime_start(struct smtp_state *st)
{
    struct smtp_mime *m = &st->mime;
    m->ps = MP_HDR;
    m->hlen = 0;
    m->nbnd = 0;
    m->part_name = false;
}

static void pend_push(struct smtp_state *st, enum smtp_cmd cmd);

/* The message ended (final "." or BDAT LAST). */
static void message_end(struct vg_sensor_app_ctx *c, struct smtp_state *st)
{
    if (st->mode == SM_DATA) {
        pend_push(st, SC_DOT); /* its reply must not be matched to a later command */
    }
    mime_flush_header(st);
    st->mode = SM_CMD;
    tx_close(c, st);
}

/* ------------------------------------------------------------------ commands */

static void pend_push(struct smtp_state *st, enum smtp_cmd cmd)
{
    if (st->pend_count == SMTP_PEND_MAX) {
        st->pend_head = (st->pend_head + 1) % SMTP_PEND_MAX;
        st->pend_count--;
        st->anomalies++;
    }
    st->pend[(st->pend_head + st->pend_count++) % SMTP_PEND_MAX] = (uint8_t)cmd;
}

static int pend_pop(struct smtp_state *st)
{
    if (!st->pend_count) {
        return -1;
    }
    int cmd = st->pend[st->pend_head];
    st->pend_head = (st->pend_head + 1) % SMTP_PEND_MAX;
    st->pend_count--;
    return cmd;
}

/* The parameter after a prefix of plen bytes: spaces skipped, up to the next space. */
static const uint8_t *cmd_param(const uint8_t *l, size_t n, size_t plen, size_t *pn)
{
    size_t i = plen;
    while (i < n && l[i] == ' ') {
        i++;
    }
    size_t j = i;
    while (j < n && l[j] != ' ') {
        j++;
    }
    *pn = j - i;
    return l + i;
}

static enum smtp_cmd cmd_kind(const uint8_t *l, size_t n)
{
    static const struct {
        const char *p;
        enum smtp_cmd k;
    } t[] = {{"helo", SC_HELO},     {"ehlo", SC_HELO}, {"mail from:", SC_MAIL},
             {"rcpt to:", SC_RCPT}, {"data", SC_DATA}, {"bdat", SC_BDAT},
             {"rset", SC_RSET},     {"quit", SC_QUIT}, {"starttls", SC_STARTTLS},
             {"auth", SC_AUTH}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t m = strlen(t[i].p);
        if (vg_sensor_line_iprefix(l, n, t[i].p) &&
            (n == m || t[i].p[m - 1] == ':' || l[m] == ' ' || l[m] == '\r')) {
            return t[i].k;
        }
    }
    return SC_OTHER;
}

/* Decode base64 p[0..n) into out (at most cap bytes); returns the decoded length. */
static size_t b64_decode(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        const char *q = p[i] ? strchr(tbl, p[i]) : NULL;
        if (!q) {
            break;
        }
        acc = (acc << 6) | (uint32_t)(q - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)((acc >> bits) & 0xff);
        }
    }
    return o;
}

/* AUTH PLAIN payload "authzid\0authcid\0password": report authcid. */
static void auth_plain(struct vg_sensor_app_ctx *c, const uint8_t *p, size_t n)
{
    uint8_t buf[3 * SMTP_USER_MAX];
    size_t k = b64_decode(p, n, buf, sizeof(buf));
    const uint8_t *z = memchr(buf, 0, k);
    if (!z) {
        return;
    }
    const uint8_t *u = z + 1;
    size_t rest = k - (size_t)(u - buf);
    const uint8_t *z2 = memchr(u, 0, rest);
    vg_sensor_note_cred(c, "smtp", (const char *)u, z2 ? (size_t)(z2 - u) : rest);
}

static void auth_login_user(struct vg_sensor_app_ctx *c, const uint8_t *p, size_t n)
{
    uint8_t buf[SMTP_USER_MAX];
    size_t k = b64_decode(p, n, buf, sizeof(buf));
    vg_sensor_note_cred(c, "smtp", (const char *)buf, k);
}

static void on_auth(struct vg_sensor_app_ctx *c, struct smtp_state *st, const uint8_t *l, size_t n)
{
    size_t mn, an;
    const uint8_t *mech = cmd_param(l, n, 4, &mn);
    const uint8_t *arg = cmd_param(mech, n - (size_t)(mech - l), mn, &an);
    if (mn == 5 && vg_sensor_line_iprefix(mech, mn, "plain")) {
        if (an) {
            auth_plain(c, arg, an);
        } else {
            st->mode = SM_AUTH_PLAIN;
        }
    } else if (mn == 5 && vg_sensor_line_iprefix(mech, mn, "login")) {
        if (an) {
            auth_login_user(c, arg, an);
            st->mode = SM_AUTH_LOGIN_PASS;
        } else {
            st->mode = SM_AUTH_LOGIN_USER;
        }
    }
}

/* Make p[0..n) the session's greeting name. */
static void set_helo(struct smtp_state *st, const uint8_t *p, size_t n)
{
    memcpy(st->helo, p, n);
    st->helo_len = (uint16_t)n;
    st->has_helo = true;
}

/*
 * HELO/EHLO: a transaction that has more than a greeting is reset only when the server
 * accepts the new greeting (a rejected EHLO keeps the envelope): the name waits in
 * helo_pend until the reply.
 */
static void on_helo(struct smtp_state *st, const uint8_t *l, size_t n)
{
    size_t pn;
    const uint8_t *p = cmd_param(l, n, 4, &pn);
    if (st->tx.open && st->tx.has_content) {
        st->helo_pend_len = (uint16_t)(pn < SMTP_HELO_PEND ? pn : SMTP_HELO_PEND);
        memcpy(st->helo_pend, p, st->helo_pend_len);
        return;
    }
    set_helo(st, p, pn);
    tx_open(st);
}

/* The server accepted a pending HELO/EHLO: log the old transaction, start a new one. */
static void helo_accepted(struct vg_sensor_app_ctx *c, struct smtp_state *st)
{
    if (!(st->tx.open && st->tx.has_content)) {
        return;
    }
    tx_close(c, st);
    set_helo(st, (const uint8_t *)st->helo_pend, st->helo_pend_len);
    tx_open(st);
}

/* Anything but spaces in t[0..n)? */
static bool cmd_trailer(const uint8_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_sp(t[i])) {
            return true;
        }
    }
    return false;
}

/* BDAT <size> [LAST] (RFC 3030); anything else is INVALID_BDAT. */
static void on_bdat(struct smtp_state *st, const uint8_t *l, size_t n)
{
    size_t pn, ln;
    const uint8_t *p = cmd_param(l, n, 4, &pn);
    const uint8_t *last = cmd_param(p, n - (size_t)(p - l), pn, &ln);
    uint64_t v = 0;
    bool last_ok = ln == 0 || (ln == 4 && vg_sensor_line_iprefix(last, ln, "last"));
    size_t tail = (size_t)(last + ln - l);
    if (pn == 0 || pn > 18 || !last_ok || cmd_trailer(l + tail, n - tail)) {
        st->anomalies++; /* INVALID_BDAT: rejected, no chunk follows (its reply still comes) */
        return;
    }
    for (size_t i = 0; i < pn; i++) {
        if (p[i] < '0' || p[i] > '9') {
            st->anomalies++;
            return;
        }
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    struct smtp_tx *tx = tx_open(st);
    if (!tx->has_email) {
        mime_start(st);
    }
    tx->has_content = tx->has_email = true;
    st->bdat_last = ln == 4 && vg_sensor_line_iprefix(last, ln, "last");
    st->bdat_remain = v;
    st->mode = SM_BDAT;
}

/* One client command line (CR stripped unless truncated). */
static void on_command(struct vg_sensor_app_ctx *c, struct smtp_state *st, const uint8_t *l,
                       size_t n)
{
    enum smtp_cmd k = cmd_kind(l, n);
    size_t pn;
    const uint8_t *p;
    struct smtp_tx *tx;
    pend_push(st, k);
    switch (k) {
    case SC_HELO:
        on_helo(st, l, n);
        break;
    case SC_MAIL:
        if (st->tx.open && st->tx.has_mail) {
            tx_close(c, st);
        }
        tx = tx_open(st);
        p = cmd_param(l, n, 10, &pn);
        tx_str(tx, &tx->mail_from, p, pn);
        tx->has_mail = tx->has_content = true;
        break;
    case SC_RCPT:
        tx = tx_open(st);
        p = cmd_param(l, n, 8, &pn);
        if (tx->nrcpt < SMTP_RCPT_MAX) {
            tx_str(tx, &tx->rcpt[tx->nrcpt++], p, pn);
        }
        tx->has_content = true;
        break;
    case SC_DATA:
        tx = tx_open(st);
        tx->has_content = tx->has_email = true;
        mime_start(st);
        st->mode = SM_DATA;
        break;
    case SC_BDAT:
        on_bdat(st, l, n);
        break;
    case SC_RSET:
        /* Suricata ends the transaction on RSET's 250 reply, not on the command: with
         * pipelining, a DATA sent behind RSET still belongs to the current transaction. */
        st->rset_armed = st->tx.open;
        st->rset_id = st->tx.id;
        break;
    case SC_AUTH:
        on_auth(c, st, l, n);
        /* fall through */
    default:
        if (st->tx.open) {
            st->tx.has_content |= k != SC_QUIT && k != SC_STARTTLS && k != SC_AUTH;
        }
        break;
    }
}

/* A client line outside message data. */
static void on_client_line(struct vg_sensor_app_ctx *c, struct smtp_state *st, const uint8_t *l,
                           size_t n)
{
    switch (st->mode) {
    case SM_AUTH_PLAIN:
        st->mode = SM_CMD;
        auth_plain(c, l, n);
        return;
    case SM_AUTH_LOGIN_USER:
        st->mode = SM_AUTH_LOGIN_PASS;
        auth_login_user(c, l, n);
        return;
    case SM_AUTH_LOGIN_PASS:
        st->mode = SM_CMD;
        return;
    case SM_DATA:
        if (n == 1 && l[0] == '.') {
            message_end(c, st);
            return;
        }
        mime_line(st, (n && l[0] == '.') ? l + 1 : l, (n && l[0] == '.') ? n - 1 : n);
        return;
    default:
        if (n) {
            on_command(c, st, l, n);
        }
        return;
    }
}

/* ------------------------------------------------------------------ replies */

/* The final line of a reply (code + space) to the oldest pending command. */
static int on_final_reply(struct vg_sensor_app_ctx *c, struct smtp_state *st, int code)
{
    if (!st->reply_seen && st->pend_count == 0) {
        st->reply_seen = true; /* the greeting */
        return VG_SENSOR_APP_OK;
    }
    st->reply_seen = true;
    int cmd = pend_pop(st);
    if (cmd == SC_RSET) {
        if (code == 250 && st->rset_armed && st->tx.open && st->tx.id == st->rset_id) {
            tx_close(c, st);
        }
        st->rset_armed = false;
    } else if (cmd == SC_HELO && code >= 200 && code < 300) {
        helo_accepted(c, st);
    } else if (cmd == SC_DATA && code != 354 && st->mode == SM_DATA) {
        st->anomalies++; /* DATA rejected: the client stays in command mode */
        st->mode = SM_CMD;
        st->tx.has_email = false;
    } else if (cmd == SC_STARTTLS && code == 220) {
        tx_close(c, st); /* Suricata logs the greeting's transaction at the switch */
        return VG_SENSOR_APP_UPGRADE_TLS;
    } else if (cmd == SC_AUTH || code == 235 || code == 535) {
        if (code == 235 || code == 535) {
            vg_sensor_note_auth(c, "smtp", code == 235);
        }
        if (code >= 400 && st->mode != SM_CMD && st->mode != SM_DATA && st->mode != SM_BDAT) {
            st->mode = SM_CMD;
        }
    }
    return VG_SENSOR_APP_OK;
}

static int on_reply_line(struct vg_sensor_app_ctx *c, struct smtp_state *st, const uint8_t *l,
                         size_t n)
{
    if (n < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9') {
        st->anomalies++;
        return VG_SENSOR_APP_OK;
    }
    if (n > 3 && l[3] == '-') {
        return VG_SENSOR_APP_OK;
    }
    return on_final_reply(c, st, (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0'));
}

/* ------------------------------------------------------------------ data entry points */

/* BDAT chunk bytes: scanned as message lines without dot handling. */
static size_t on_bdat_bytes(struct vg_sensor_app_ctx *c, struct smtp_state *st, const uint8_t *p,
                            size_t n)
{
    size_t k = st->bdat_remain < n ? (size_t)st->bdat_remain : n;
    size_t off = 0;
    while (off < k) {
        size_t used, len;
        const uint8_t *l;
        bool trunc;
        if (!vg_sensor_line_next(&st->line[0], p + off, k - off, &used, &l, &len, &trunc)) {
            break;
        }
        mime_line(st, l, trunc ? len : vg_sensor_line_chomp(l, len));
        off += used;
    }
    st->bdat_remain -= k;
    if (st->bdat_remain == 0) {
        vg_sensor_line_reset(&st->line[0]);
        st->mode = SM_CMD;
        if (st->bdat_last) {
            message_end(c, st);
        }
    }
    return k;
}

static int smtp_data(struct vg_sensor_app_ctx *c, void *vst, const uint8_t *p, size_t n)
{
    struct smtp_state *st = vst;
    int d = c->dir == VG_SENSOR_FLOW_TO_SERVER ? 0 : 1;
    while (n > 0) {
        size_t used, len;
        const uint8_t *l;
        bool trunc;
        if (d == 0 && st->mode == SM_BDAT) {
            used = on_bdat_bytes(c, st, p, n);
        } else {
            if (!vg_sensor_line_next(&st->line[d], p, n, &used, &l, &len, &trunc)) {
                return VG_SENSOR_APP_OK;
            }
            if (trunc) {
                st->anomalies++;
            } else {
                len = vg_sensor_line_chomp(l, len);
            }
            if (d == 0) {
                on_client_line(c, st, l, len);
            } else {
                int rc = on_reply_line(c, st, l, len);
                if (rc != VG_SENSOR_APP_OK) {
                    return rc;
                }
            }
        }
        p += used;
        n -= used;
    }
    return VG_SENSOR_APP_OK;
}

static void smtp_gap(struct vg_sensor_app_ctx *c, void *vst, size_t n)
{
    struct smtp_state *st = vst;
    int d = c->dir == VG_SENSOR_FLOW_TO_SERVER ? 0 : 1;
    st->anomalies++;
    vg_sensor_line_reset(&st->line[d]);
    if (d == 0 && st->mode == SM_BDAT) {
        st->bdat_remain = st->bdat_remain > n ? st->bdat_remain - n : 0;
    }
}

static void smtp_end(struct vg_sensor_app_ctx *c, void *vst)
{
    struct smtp_state *st = vst;
    if (st->mode == SM_DATA || st->mode == SM_BDAT) {
        mime_flush_header(st);
    }
    tx_close(c, st);
}

static void *smtp_state_new(void)
{
    struct smtp_state *st = vg_malloc(sizeof(*st));
    if (!st) {
        return NULL;
    }
    memset(st, 0, offsetof(struct smtp_state, helo));
    for (int i = 0; i < 2; i++) {
        vg_sensor_line_init(&st->line[i], st->lbuf[i], SMTP_LINE_CAP);
    }
    return st;
}

static void smtp_state_free(void *st)
{
    vg_free(st);
}

/* Server: "220 " greeting; client: HELO/EHLO. */
static int smtp_probe(const uint8_t *p, size_t n, enum vg_sensor_flow_dir dir)
{
    if (n < 4) {
        return -1;
    }
    if (dir == VG_SENSOR_FLOW_TO_CLIENT) {
        return (memcmp(p, "220", 3) == 0 && (p[3] == ' ' || p[3] == '-')) ? 1 : 0;
    }
    if ((vg_sensor_line_iprefix(p, n, "helo") || vg_sensor_line_iprefix(p, n, "ehlo"))) {
        return n == 4 ? -1 : (p[4] == ' ' ? 1 : 0);
    }
    return 0;
}

const struct vg_sensor_app_proto vg_sensor_proto_smtp = {
    .name = "smtp",
    .ipproto = 6,
    .ports = {25, 587, 2525, 0},
    .probe = smtp_probe,
    .state_new = smtp_state_new,
    .state_free = smtp_state_free,
    .data = smtp_data,
    .gap = smtp_gap,
    .end = smtp_end,
};
