/*
 * agent_fim_event.c — a FIM change as an agent event: one JSON object with ECS dotted names
 * (event.*, file.*, process.* when the backend knows who made the change) and file.changes,
 * the list of attributes that differ with their old and new values (all as strings, so the
 * field keeps one type in the store).
 */
#include "agent/agent_fim_int.h"

#include <string.h>

static const char *type_name(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG:
        return "file";
    case S_IFDIR:
        return "dir";
    case S_IFLNK:
        return "symlink";
    case S_IFIFO:
        return "fifo";
    case S_IFSOCK:
        return "socket";
    case S_IFCHR:
        return "char_device";
    case S_IFBLK:
        return "block_device";
    default:
        return "unknown";
    }
}

static void add_key(struct vg_sbuf *o, const char *k)
{
    vg_sbuf_printf(o, ",\"%s\":", k);
}

static void add_str(struct vg_sbuf *o, const char *k, const char *v)
{
    add_key(o, k);
    vg_sbuf_add_json_str(o, v, strlen(v));
}

static void fmt_time(int64_t ns, char *buf, size_t n)
{
    vg_time_format((vg_time_t)ns, buf, n);
}

static void fmt_hash(const uint8_t h[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[64] = '\0';
}

/* Text of one attribute of r (for file.changes). */
static void attr_text(const struct vg_fim_rec *r, uint32_t bit, char *buf, size_t n)
{
    switch (bit) {
    case VG_FIM_CH_TYPE:
        snprintf(buf, n, "%s", type_name(r->mode));
        break;
    case VG_FIM_CH_SIZE:
        snprintf(buf, n, "%llu", (unsigned long long)r->size);
        break;
    case VG_FIM_CH_MODE:
        snprintf(buf, n, "%04o", r->mode & 07777);
        break;
    case VG_FIM_CH_UID:
        snprintf(buf, n, "%u", r->uid);
        break;
    case VG_FIM_CH_GID:
        snprintf(buf, n, "%u", r->gid);
        break;
    case VG_FIM_CH_MTIME:
        fmt_time(r->mtime_ns, buf, n);
        break;
    case VG_FIM_CH_CTIME:
        fmt_time(r->ctime_ns, buf, n);
        break;
    case VG_FIM_CH_INODE:
        snprintf(buf, n, "%llu", (unsigned long long)r->inode);
        break;
    case VG_FIM_CH_DEV:
        snprintf(buf, n, "%llu", (unsigned long long)r->dev);
        break;
    case VG_FIM_CH_HASH:
        if (n >= 65 && r->has_hash) {
            char h[65];
            fmt_hash(r->sha256, h);
            snprintf(buf, n, "%s", h);
        } else {
            snprintf(buf, n, "%s", "");
        }
        break;
    default:
        snprintf(buf, n, "%s", r->link ? r->link : "");
        break;
    }
}

static const char *const ATTR_NAMES[] = {"type",  "size",  "mode",   "uid",    "gid",   "mtime",
                                         "ctime", "inode", "device", "sha256", "target"};

static void add_changes(struct vg_sbuf *o, const struct vg_fim_change *c)
{
    add_key(o, "file.changes");
    vg_sbuf_addc(o, '[');
    bool first = true;
    for (unsigned i = 0; i < VG_ARRAY_LEN(ATTR_NAMES); i++) {
        uint32_t bit = 1u << i;
        if (!(c->changed & bit)) {
            continue;
        }
        char a[4200], b[4200];
        attr_text(c->old, bit, a, sizeof(a));
        attr_text(c->cur, bit, b, sizeof(b));
        vg_sbuf_printf(o, "%s{\"attribute\":\"%s\",\"old\":", first ? "" : ",", ATTR_NAMES[i]);
        vg_sbuf_add_json_str(o, a, strlen(a));
        vg_sbuf_adds(o, ",\"new\":");
        vg_sbuf_add_json_str(o, b, strlen(b));
        vg_sbuf_addc(o, '}');
        first = false;
    }
    vg_sbuf_addc(o, ']');
}

static void add_file(struct vg_sbuf *o, const struct vg_fim_rec *r)
{
    char buf[64];
    add_str(o, "file.path", r->path);
    const char *slash = strrchr(r->path, '/');
    if (slash) {
        add_str(o, "file.name", slash + 1);
        add_key(o, "file.directory");
        size_t dl = slash == r->path ? 1 : (size_t)(slash - r->path);
        vg_sbuf_add_json_str(o, r->path, dl);
    }
    add_str(o, "file.type", type_name(r->mode));
    vg_sbuf_printf(o, ",\"file.size\":%llu", (unsigned long long)r->size);
    vg_sbuf_printf(o, ",\"file.mode\":\"%04o\"", r->mode & 07777);
    vg_sbuf_printf(o, ",\"file.uid\":\"%u\",\"file.gid\":\"%u\"", r->uid, r->gid);
    vg_sbuf_printf(o, ",\"file.inode\":\"%llu\"", (unsigned long long)r->inode);
    fmt_time(r->mtime_ns, buf, sizeof(buf));
    add_str(o, "file.mtime", buf);
    fmt_time(r->ctime_ns, buf, sizeof(buf));
    add_str(o, "file.ctime", buf);
    if (r->has_hash) {
        char h[65];
        fmt_hash(r->sha256, h);
        add_str(o, "file.hash.sha256", h);
    }
    if (r->link) {
        add_str(o, "file.target_path", r->link);
    }
}

void vg_fim_change_json(const struct vg_fim_change *c, const char *provider, int pid,
                        const char *exe, struct vg_sbuf *out)
{
    static const char *const types[] = {"creation", "change", "change", "deletion"};
    static const char *const actions[] = {"fim_created", "fim_modified", "fim_attributes",
                                          "fim_deleted"};
    char ts[64];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    vg_sbuf_adds(out, "{\"@timestamp\":");
    vg_sbuf_add_json_str(out, ts, strlen(ts));
    vg_sbuf_adds(out, ",\"event.module\":\"vigie-agent\",\"event.dataset\":\"fim\","
                      "\"event.kind\":\"event\",\"event.category\":\"file\"");
    add_str(out, "event.type", types[c->kind]);
    add_str(out, "event.action", actions[c->kind]);
    add_str(out, "event.provider", provider ? provider : "scan");
    add_file(out, c->cur ? c->cur : c->old);
    if (c->old && c->cur) {
        add_changes(out, c);
    }
    if (pid > 0) {
        vg_sbuf_printf(out, ",\"process.pid\":%d", pid);
        if (exe) {
            add_str(out, "process.executable", exe);
        }
    }
    vg_sbuf_addc(out, '}');
}
