/*
 * agent_sign.c — signed commands (issue 5, response): the server signs each command's exact
 * JSON bytes with its Ed25519 command key (libsodium crypto_sign_detached); the agent checks
 * the signature with the server's public key, then that the command is for this agent, is
 * within its validity window, and was not seen before (a replay window of accepted ids kept
 * until they expire, optionally persisted so a restart does not reopen it). Also key
 * generation and key files.
 */
#include "agent/agent_wire.h"
#include "event/event.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CMD_ID_MAX 128

struct cmd_seen {
    char *id;
    int64_t expires;
};

struct vg_agent_cmd_verifier {
    uint8_t pk[VG_AGENT_WIRE_PK_SIZE];
    char *agent_id;
    char *state_path;
    struct cmd_seen seen[VG_AGENT_CMD_WINDOW];
    size_t nseen;
};

static int sodium_ready(void)
{
    return sodium_init() < 0 ? VG_ERROR : VG_OK;
}

int vg_agent_sign_keypair(uint8_t pk[VG_AGENT_WIRE_PK_SIZE], uint8_t sk[VG_AGENT_WIRE_SK_SIZE])
{
    if (sodium_ready() != VG_OK || crypto_sign_keypair(pk, sk) != 0) {
        return VG_ERROR;
    }
    return VG_OK;
}

/* ------------------------------------------------------------------ key files */

int vg_agent_sign_key_save(const char *path, const uint8_t *key, size_t len, bool secret)
{
    char hex[2 * VG_AGENT_WIRE_SK_SIZE + 2];
    if (len > VG_AGENT_WIRE_SK_SIZE) {
        return VG_EINVAL;
    }
    sodium_bin2hex(hex, sizeof(hex), key, len);
    size_t n = 2 * len;
    hex[n++] = '\n';
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, secret ? 0600 : 0644);
    if (fd < 0) {
        return VG_EIO;
    }
    bool ok =
        fchmod(fd, secret ? 0600 : 0644) == 0 && write(fd, hex, n) == (ssize_t)n && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    sodium_memzero(hex, sizeof(hex));
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return VG_EIO;
    }
    return VG_OK;
}

int vg_agent_sign_key_load(const char *path, uint8_t *key, size_t len, bool secret)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return VG_EIO;
    }
    if (secret && (sb.st_mode & 077)) {
        VG_ERR("agent", "%s: secret key readable by group/others (mode %o)", path,
               (unsigned)(sb.st_mode & 0777));
        return VG_EDENIED;
    }
    char *p = NULL;
    size_t n = 0, bin = 0;
    if (vg_file_read(path, 4 * VG_AGENT_WIRE_SK_SIZE, &p, &n) != VG_OK) {
        return VG_EIO;
    }
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ')) {
        n--;
    }
    int rc = sodium_hex2bin(key, len, p, n, NULL, &bin, NULL) == 0 && bin == len && n == 2 * len
                 ? VG_OK
                 : VG_EINVAL;
    sodium_memzero(p, n);
    vg_free(p);
    return rc;
}

/* ------------------------------------------------------------------ signing */

int vg_agent_wire_encode_command(struct vg_sbuf *out, const uint8_t sk[VG_AGENT_WIRE_SK_SIZE],
                                 const char *json, size_t len)
{
    if (sodium_ready() != VG_OK) {
        return VG_ERROR;
    }
    struct vg_sbuf p = VG_SBUF_INIT;
    if (vg_sbuf_reserve(&p, VG_AGENT_WIRE_SIG_SIZE + len) != VG_OK) {
        return VG_ENOMEM;
    }
    crypto_sign_detached((uint8_t *)p.p, NULL, (const uint8_t *)json, len, sk);
    memcpy(p.p + VG_AGENT_WIRE_SIG_SIZE, json, len);
    p.len = VG_AGENT_WIRE_SIG_SIZE + len;
    int rc = vg_agent_wire_encode(out, VG_AGENT_FRAME_COMMAND, 0, 0, p.p, p.len);
    vg_sbuf_fini(&p);
    return rc;
}

void vg_agent_command_fini(struct vg_agent_command *c)
{
    if (!c) {
        return;
    }
    vg_free(c->id);
    vg_free(c->action);
    vg_free(c->args_json);
    vg_free(c->agent_id);
    memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ replay window */

static void window_prune(struct vg_agent_cmd_verifier *v, int64_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < v->nseen; i++) {
        if (v->seen[i].expires >= now) {
            v->seen[j++] = v->seen[i];
        } else {
            vg_free(v->seen[i].id);
        }
    }
    v->nseen = j;
}

static bool window_has(const struct vg_agent_cmd_verifier *v, const char *id)
{
    for (size_t i = 0; i < v->nseen; i++) {
        if (strcmp(v->seen[i].id, id) == 0) {
            return true;
        }
    }
    return false;
}

/* Rewrite the state file: one "expires id" line per live entry. */
static int window_save(const struct vg_agent_cmd_verifier *v)
{
    if (!v->state_path) {
        return VG_OK;
    }
    struct vg_sbuf b = VG_SBUF_INIT;
    for (size_t i = 0; i < v->nseen; i++) {
        vg_sbuf_printf(&b, "%" PRId64 " %s\n", v->seen[i].expires, v->seen[i].id);
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", v->state_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok =
        fd >= 0 && !b.err && write(fd, b.p ? b.p : "", b.len) == (ssize_t)b.len && fsync(fd) == 0;
    if (fd >= 0) {
        ok = close(fd) == 0 && ok;
    }
    vg_sbuf_fini(&b);
    ok = ok && rename(tmp, v->state_path) == 0;
    return ok ? VG_OK : VG_EIO;
}

static int window_add(struct vg_agent_cmd_verifier *v, const char *id, int64_t expires)
{
    char *dup = vg_strdup(id);
    if (!dup) {
        return VG_ENOMEM;
    }
    v->seen[v->nseen++] = (struct cmd_seen){dup, expires};
    return VG_OK;
}

/* Load "expires id" lines; malformed lines are skipped (the file is ours). */
static int window_load(struct vg_agent_cmd_verifier *v)
{
    char *p = NULL;
    size_t n = 0;
    int rc = vg_file_read(v->state_path, 1u << 20, &p, &n);
    if (rc != VG_OK) {
        return errno == ENOENT || rc == VG_ENOENT ? VG_OK : VG_EIO;
    }
    char *line = p, *end = p + n;
    while (line < end && v->nseen < VG_AGENT_CMD_WINDOW && rc == VG_OK) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) {
            break;
        }
        *nl = '\0';
        char *sp = strchr(line, ' ');
        int64_t exp;
        if (sp && sp[1] && vg_parse_i64(line, (size_t)(sp - line), &exp) == VG_OK) {
            rc = window_add(v, sp + 1, exp);
        }
        line = nl + 1;
    }
    vg_free(p);
    return rc;
}

int vg_agent_cmd_verifier_create(const uint8_t pk[VG_AGENT_WIRE_PK_SIZE], const char *agent_id,
                                 const char *state_path, struct vg_agent_cmd_verifier **out)
{
    if (sodium_ready() != VG_OK) {
        return VG_ERROR;
    }
    struct vg_agent_cmd_verifier *v = vg_calloc(1, sizeof(*v));
    if (!v) {
        return VG_ENOMEM;
    }
    memcpy(v->pk, pk, sizeof(v->pk));
    v->agent_id = vg_strdup(agent_id ? agent_id : "");
    v->state_path = state_path ? vg_strdup(state_path) : NULL;
    int rc = !v->agent_id || (state_path && !v->state_path) ? VG_ENOMEM : VG_OK;
    if (rc == VG_OK && v->state_path) {
        rc = window_load(v);
    }
    if (rc != VG_OK) {
        vg_agent_cmd_verifier_destroy(v);
        return rc;
    }
    *out = v;
    return VG_OK;
}

void vg_agent_cmd_verifier_destroy(struct vg_agent_cmd_verifier *v)
{
    if (!v) {
        return;
    }
    for (size_t i = 0; i < v->nseen; i++) {
        vg_free(v->seen[i].id);
    }
    vg_free(v->agent_id);
    vg_free(v->state_path);
    vg_free(v);
}

/* ------------------------------------------------------------------ verification */

static int refuse(char *err, size_t errsz, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(char *err, size_t errsz, int rc, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* A string member of doc as an owned C string (no NUL inside, 1..max bytes). */
static int cmd_str(const struct vg_json *doc, const char *key, size_t max, char **out, char *err,
                   size_t errsz)
{
    const struct vg_json *v = vg_json_get(doc, key);
    if (!v || v->type != VG_JSON_STRING || v->n == 0 || v->n > max || memchr(v->s, 0, v->n)) {
        return refuse(err, errsz, VG_EINVAL, "command: \"%s\" must be a string of 1..%zu bytes",
                      key, max);
    }
    *out = vg_strndup(v->s, v->n);
    return *out ? VG_OK : VG_ENOMEM;
}

static int cmd_int(const struct vg_json *doc, const char *key, int64_t *out, char *err,
                   size_t errsz)
{
    const struct vg_json *v = vg_json_get(doc, key);
    if (!v || v->type != VG_JSON_NUMBER || !v->is_int) {
        return refuse(err, errsz, VG_EINVAL, "command: \"%s\" must be an integer", key);
    }
    *out = v->u.i;
    return VG_OK;
}

/* Parse the signed JSON into c (fields checked, strings owned). */
static int cmd_parse(const char *json, size_t len, struct vg_agent_command *c, char *err,
                     size_t errsz)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json *doc = NULL;
    size_t used = 0;
    int rc = p && a ? vg_json_parse(p, a, json, len, &used, &doc, err, errsz) : VG_ENOMEM;
    if (rc == VG_OK && (doc->type != VG_JSON_OBJECT || used != len)) {
        rc = refuse(err, errsz, VG_EINVAL, "command: not exactly one JSON object");
    }
    const struct vg_json *args = rc == VG_OK ? vg_json_get(doc, "args") : NULL;
    if (args && args->type != VG_JSON_OBJECT) {
        rc = refuse(err, errsz, VG_EINVAL, "command: \"args\" must be an object");
    }
    rc = rc ? rc : cmd_str(doc, "id", CMD_ID_MAX, &c->id, err, errsz);
    rc = rc ? rc : cmd_str(doc, "action", 64, &c->action, err, errsz);
    rc = rc ? rc : cmd_str(doc, "agent_id", 256, &c->agent_id, err, errsz);
    rc = rc ? rc : cmd_int(doc, "issued", &c->issued, err, errsz);
    rc = rc ? rc : cmd_int(doc, "expires", &c->expires, err, errsz);
    if (rc == VG_OK) {
        struct vg_sbuf b = VG_SBUF_INIT;
        args ? vg_json_write(args, &b) : vg_sbuf_adds(&b, "{}");
        c->args_json = b.err ? NULL : vg_sbuf_take(&b, NULL);
        vg_sbuf_fini(&b);
        rc = c->args_json ? VG_OK : VG_ENOMEM;
    }
    vg_json_parser_destroy(p);
    vg_arena_destroy(a);
    return rc;
}

/* Identity, time and replay checks of a parsed command. */
static int cmd_admit(struct vg_agent_cmd_verifier *v, const struct vg_agent_command *c, int64_t now,
                     char *err, size_t errsz)
{
    if (strcmp(c->agent_id, v->agent_id) != 0) {
        return refuse(err, errsz, VG_EDENIED, "wrong agent id");
    }
    if (c->expires < now) {
        return refuse(err, errsz, VG_EDENIED, "expired");
    }
    if (c->issued > now + VG_AGENT_CMD_CLOCK_SKEW) {
        return refuse(err, errsz, VG_EDENIED, "not yet valid");
    }
    if (c->expires < c->issued || c->expires - c->issued > VG_AGENT_CMD_MAX_LIFE) {
        return refuse(err, errsz, VG_EDENIED, "lifetime too long");
    }
    window_prune(v, now);
    if (window_has(v, c->id)) {
        return refuse(err, errsz, VG_EDENIED, "replayed id");
    }
    if (v->nseen == VG_AGENT_CMD_WINDOW) {
        return refuse(err, errsz, VG_EDENIED, "replay window full");
    }
    int rc = window_add(v, c->id, c->expires);
    if (rc == VG_OK && window_save(v) != VG_OK) {
        VG_WARN("agent", "cannot save the command replay window to %s", v->state_path);
    }
    return rc;
}

int vg_agent_cmd_verify(struct vg_agent_cmd_verifier *v, const uint8_t *payload, size_t len,
                        int64_t now, struct vg_agent_command *out, char *err, size_t errsz)
{
    memset(out, 0, sizeof(*out));
    if (len <= VG_AGENT_WIRE_SIG_SIZE) {
        return refuse(err, errsz, VG_EDENIED, "unsigned");
    }
    const uint8_t *json = payload + VG_AGENT_WIRE_SIG_SIZE;
    size_t jlen = len - VG_AGENT_WIRE_SIG_SIZE;
    if (crypto_sign_verify_detached(payload, json, jlen, v->pk) != 0) {
        return refuse(err, errsz, VG_EDENIED, "bad signature");
    }
    int rc = cmd_parse((const char *)json, jlen, out, err, errsz);
    if (rc == VG_OK) {
        rc = cmd_admit(v, out, now, err, errsz);
    }
    if (rc != VG_OK) {
        vg_agent_command_fini(out);
    }
    return rc;
}
