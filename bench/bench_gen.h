/*
 * bench_gen.h — synthetic but realistic log events for the store and search benchmarks,
 * built in process with the vg_event API the way the decoders build them: a raw line in
 * the event's arena and ECS fields that are slices of it (zero-copy), plus constant fields.
 *
 * Mix (by share of events): sshd auth lines 35% (the peers' gen_authlog.py shapes), other
 * syslog (sudo, cron, systemd, su) 10%, nginx combined access lines 30%, JSON application
 * logs 15%, kernel firewall lines 10%. 60 hosts, 400 users, 4,000 internal and 2,000
 * external addresses; time advances steadily over the requested span.
 *
 * Header-only (static functions) so each benchmark stays one file.
 */
#ifndef VG_BENCH_GEN_H
#define VG_BENCH_GEN_H

#include "event/event.h"

#include <stdio.h>
#include <string.h>

#define TXT VG_FIELD_NONE /* gen_put: text that is no field */

struct gen {
    uint64_t rng;
    vg_time_t t0;
    int64_t step_ns; /* mean time between events */
    uint64_t i;
    struct vg_sbuf line;
    struct {
        uint32_t id;
        size_t off, len;
    } spans[32];
    int nspans;
    uint32_t f_host, f_user, f_sip, f_dip, f_sport, f_dport, f_module, f_cat, f_action, f_outcome,
        f_proc, f_pid, f_msg, f_method, f_path, f_status, f_bytes, f_ua, f_level, f_ts, f_transport,
        f_dataset;
};

static const char *const gen_first[] = {
    "alice",   "bob",  "carol",  "dave",  "erin",   "frank", "grace", "heidi",  "ivan",   "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe"};
static const char *const gen_bad_users[] = {"admin", "test",     "oracle", "ubuntu", "guest",
                                            "user",  "postgres", "git",    "ftp",    "pi"};
static const char *const gen_paths[] = {
    "/api/v1/items", "/api/v1/users",    "/login",  "/static/app.js", "/static/style.css",
    "/index.html",   "/wp-login.php",    "/.env",   "/admin",         "/api/v1/orders",
    "/health",       "/images/logo.png", "/search", "/cart",          "/checkout"};
static const char *const gen_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/7.88.1",
    "python-requests/2.31.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15"};
static const char *const gen_app_msgs[] = {"request completed",
                                           "cache miss, loading from database",
                                           "user session refreshed",
                                           "slow query detected",
                                           "connection pool exhausted, waiting",
                                           "payment authorised",
                                           "retrying upstream call after timeout",
                                           "configuration reloaded"};
static const char *const gen_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static uint64_t gen_rand(struct gen *g)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return g->rng;
}

static uint32_t gen_pick(struct gen *g, uint32_t n)
{
    return (uint32_t)(gen_rand(g) % n);
}

/* Skewed pick: low indexes are much more frequent (a few busy hosts/users). */
static uint32_t gen_skew(struct gen *g, uint32_t n)
{
    uint32_t a = gen_pick(g, n), b = gen_pick(g, n);
    return a < b ? a : b;
}

static void gen_init(struct gen *g, uint64_t seed, vg_time_t t0, int64_t step_ns)
{
    memset(g, 0, sizeof(*g));
    g->rng = seed * 2654435761u + 88172645463325252ull;
    g->t0 = t0;
    g->step_ns = step_ns;
#define GEN_F(v, name) g->v = vg_field_intern(name, strlen(name))
    GEN_F(f_host, "host.name");
    GEN_F(f_user, "user.name");
    GEN_F(f_sip, "source.ip");
    GEN_F(f_dip, "destination.ip");
    GEN_F(f_sport, "source.port");
    GEN_F(f_dport, "destination.port");
    GEN_F(f_module, "event.module");
    GEN_F(f_cat, "event.category");
    GEN_F(f_action, "event.action");
    GEN_F(f_outcome, "event.outcome");
    GEN_F(f_proc, "process.name");
    GEN_F(f_pid, "process.pid");
    GEN_F(f_msg, "message");
    GEN_F(f_method, "http.request.method");
    GEN_F(f_path, "url.path");
    GEN_F(f_status, "http.response.status_code");
    GEN_F(f_bytes, "http.response.body.bytes");
    GEN_F(f_ua, "user_agent.original");
    GEN_F(f_level, "log.level");
    GEN_F(f_ts, "@timestamp");
    GEN_F(f_transport, "network.transport");
    GEN_F(f_dataset, "event.dataset");
#undef GEN_F
}

static void gen_fini(struct gen *g)
{
    vg_sbuf_fini(&g->line);
}

/* Append text to the line; remember it as field id's value (TXT: plain text). */
static void gen_put(struct gen *g, uint32_t id, const char *s)
{
    size_t off = g->line.len, n = strlen(s);
    vg_sbuf_add(&g->line, s, n);
    if (id != TXT && g->nspans < 32) {
        g->spans[g->nspans].id = id;
        g->spans[g->nspans].off = off;
        g->spans[g->nspans].len = n;
        g->nspans++;
    }
}

static void gen_putf(struct gen *g, uint32_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void gen_putf(struct gen *g, uint32_t id, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    gen_put(g, id, buf);
}

static void gen_host(struct gen *g, char *buf, size_t n)
{
    static const char *const roles[] = {"web", "db", "app", "cache", "bastion", "mail"};
    uint32_t h = gen_skew(g, 60);
    snprintf(buf, n, "%s%02u", roles[h % 6], h / 6 + 1);
}

static void gen_user(struct gen *g, char *buf, size_t n)
{
    uint32_t u = gen_skew(g, 400);
    if (u < 20) {
        snprintf(buf, n, "%s", gen_first[u]);
    } else {
        snprintf(buf, n, "%s.%u", gen_first[u % 20], u / 20);
    }
}

static void gen_ip_internal(struct gen *g, char *buf, size_t n)
{
    uint32_t k = gen_skew(g, 4000);
    snprintf(buf, n, "10.%u.%u.%u", 1 + k / 2000, (k / 250) % 8, 1 + k % 250);
}

static void gen_ip_external(struct gen *g, char *buf, size_t n)
{
    uint32_t k = gen_pick(g, 2000);
    static const char *const nets[] = {"203.0.113",   "198.51.100", "192.0.2",     "45.33.32",
                                       "185.220.101", "89.248.165", "162.142.125", "71.6.135"};
    snprintf(buf, n, "%s.%u", nets[k % 8], 1 + k / 8);
}

static void gen_syslog_head(struct gen *g, const struct vg_tm *tm, const char *host,
                            const char *prog, bool pid)
{
    gen_putf(g, TXT, "%s %2d %02d:%02d:%02d ", gen_months[tm->month - 1], tm->day, tm->hour,
             tm->minute, tm->second);
    gen_put(g, g->f_host, host);
    gen_put(g, TXT, " ");
    gen_put(g, g->f_proc, prog);
    if (pid) {
        gen_put(g, TXT, "[");
        gen_putf(g, g->f_pid, "%u", 300 + gen_pick(g, 60000));
        gen_put(g, TXT, "]");
    }
    gen_put(g, TXT, ": ");
}

static void gen_sshd(struct gen *g, struct vg_event *ev, const struct vg_tm *tm)
{
    char host[32], ip[32], user[48];
    uint32_t r = gen_pick(g, 100);
    gen_host(g, host, sizeof(host));
    gen_syslog_head(g, tm, host, "sshd", true);
    const char *outcome = "failure", *action = "ssh_login";
    if (r < 40) {
        gen_ip_external(g, ip, sizeof(ip));
        gen_put(g, TXT, "Failed password for invalid user ");
        gen_put(g, g->f_user, gen_bad_users[gen_pick(g, 10)]);
    } else if (r < 60) {
        gen_ip_external(g, ip, sizeof(ip));
        gen_put(g, TXT, "Failed password for ");
        gen_put(g, g->f_user, "root");
    } else if (r < 75) {
        gen_ip_internal(g, ip, sizeof(ip));
        gen_user(g, user, sizeof(user));
        gen_put(g, TXT, "Accepted publickey for ");
        gen_put(g, g->f_user, user);
        outcome = "success";
    } else if (r < 85) {
        gen_ip_external(g, ip, sizeof(ip));
        gen_put(g, TXT, "Invalid user ");
        gen_put(g, g->f_user, gen_bad_users[gen_pick(g, 10)]);
        action = "invalid_user";
    } else {
        gen_ip_external(g, ip, sizeof(ip));
        gen_put(g, TXT, "Connection closed by ");
        gen_put(g, g->f_sip, ip);
        gen_put(g, TXT, " port ");
        gen_putf(g, g->f_sport, "%u", 1024 + gen_pick(g, 64000));
        gen_put(g, TXT, " [preauth]");
        vg_event_add_str(ev, g->f_action, "disconnect", 10);
        vg_event_add_str(ev, g->f_module, "sshd", 4);
        vg_event_add_str(ev, g->f_cat, "network", 7);
        return;
    }
    gen_put(g, TXT, " from ");
    gen_put(g, g->f_sip, ip);
    gen_put(g, TXT, " port ");
    gen_putf(g, g->f_sport, "%u", 1024 + gen_pick(g, 64000));
    gen_put(g, TXT,
            r >= 60 && r < 75 ? " ssh2: ED25519 SHA256:q1w2e3r4t5y6u7i8o9p0AbCdEfGhIjKl"
            : r < 75          ? " ssh2"
                              : "");
    vg_event_add_str(ev, g->f_module, "sshd", 4);
    vg_event_add_str(ev, g->f_cat, "authentication", 14);
    vg_event_add_str(ev, g->f_action, action, strlen(action));
    vg_event_add_str(ev, g->f_outcome, outcome, strlen(outcome));
}

static void gen_syslog_other(struct gen *g, struct vg_event *ev, const struct vg_tm *tm)
{
    char host[32], user[48];
    uint32_t r = gen_pick(g, 4);
    gen_host(g, host, sizeof(host));
    gen_user(g, user, sizeof(user));
    if (r == 0) {
        static const char *const cmds[] = {"/usr/bin/apt update", "/bin/systemctl restart nginx",
                                           "/usr/bin/cat /etc/shadow", "/bin/bash",
                                           "/usr/bin/journalctl -u ssh"};
        gen_syslog_head(g, tm, host, "sudo", false);
        gen_put(g, TXT, "   ");
        gen_put(g, g->f_user, user);
        gen_putf(g, TXT, " : TTY=pts/%u ; PWD=/home/%s ; USER=root ; COMMAND=%s", gen_pick(g, 8),
                 user, cmds[gen_pick(g, 5)]);
        vg_event_add_str(ev, g->f_module, "sudo", 4);
        vg_event_add_str(ev, g->f_cat, "process", 7);
        vg_event_add_str(ev, g->f_action, "sudo", 4);
        vg_event_add_str(ev, g->f_outcome, "success", 7);
    } else if (r == 1) {
        gen_syslog_head(g, tm, host, "CRON", true);
        gen_putf(g, TXT, "(root) CMD (run-parts /etc/cron.%s)",
                 gen_pick(g, 2) ? "hourly" : "daily");
        vg_event_add_str(ev, g->f_module, "cron", 4);
        vg_event_add_str(ev, g->f_cat, "process", 7);
        vg_event_add_str(ev, g->f_action, "start", 5);
    } else if (r == 2) {
        gen_syslog_head(g, tm, host, "systemd", true);
        gen_putf(g, TXT, "Started Session %u of User ", 1000 + gen_pick(g, 90000));
        gen_put(g, g->f_user, user);
        gen_put(g, TXT, ".");
        vg_event_add_str(ev, g->f_module, "systemd", 7);
        vg_event_add_str(ev, g->f_cat, "session", 7);
        vg_event_add_str(ev, g->f_action, "session_start", 13);
    } else {
        gen_syslog_head(g, tm, host, "su", true);
        bool ok = gen_pick(g, 4) != 0;
        gen_putf(g, TXT, "%s su for root by ", ok ? "Successful" : "FAILED");
        gen_put(g, g->f_user, user);
        vg_event_add_str(ev, g->f_module, "su", 2);
        vg_event_add_str(ev, g->f_cat, "authentication", 14);
        vg_event_add_str(ev, g->f_action, "su", 2);
        vg_event_add_str(ev, g->f_outcome, ok ? "success" : "failure", ok ? 7 : 7);
    }
}

static void gen_web(struct gen *g, struct vg_event *ev, const struct vg_tm *tm)
{
    char ip[32], host[32];
    static const char *const methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"};
    static const int statuses[] = {200, 200, 200, 200, 200, 304, 301, 404, 404, 403, 500, 502};
    int status = statuses[gen_pick(g, 12)];
    gen_host(g, host, sizeof(host));
    if (gen_pick(g, 3)) {
        gen_ip_internal(g, ip, sizeof(ip));
    } else {
        gen_ip_external(g, ip, sizeof(ip));
    }
    gen_put(g, g->f_sip, ip);
    gen_putf(g, TXT, " - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"", tm->day,
             gen_months[tm->month - 1], tm->year, tm->hour, tm->minute, tm->second);
    gen_put(g, g->f_method, methods[gen_pick(g, 7)]);
    gen_put(g, TXT, " ");
    gen_put(g, g->f_path, gen_paths[gen_pick(g, 15)]);
    if (gen_pick(g, 2)) {
        gen_putf(g, TXT, "?id=%u&page=%u", gen_pick(g, 100000), gen_pick(g, 50));
    }
    gen_put(g, TXT, " HTTP/1.1\" ");
    gen_putf(g, g->f_status, "%d", status);
    gen_put(g, TXT, " ");
    gen_putf(g, g->f_bytes, "%u", 200 + gen_pick(g, 60000));
    gen_put(g, TXT, " \"-\" \"");
    gen_put(g, g->f_ua, gen_agents[gen_pick(g, 6)]);
    gen_put(g, TXT, "\"");
    vg_event_add_strdup(ev, g->f_host, host, strlen(host));
    vg_event_add_str(ev, g->f_module, "nginx", 5);
    vg_event_add_str(ev, g->f_dataset, "nginx.access", 12);
    vg_event_add_str(ev, g->f_cat, "web", 3);
    vg_event_add_str(ev, g->f_action, "access", 6);
    vg_event_add_str(ev, g->f_outcome, status >= 400 ? "failure" : "success", 7);
}

static void gen_json(struct gen *g, struct vg_event *ev, vg_time_t t)
{
    char host[32], user[48], ts[40];
    static const char *const levels[] = {"info", "info", "info", "debug", "warn", "error"};
    static const char *const procs[] = {"billing-api", "auth-svc", "postgres", "worker", "gateway"};
    gen_host(g, host, sizeof(host));
    gen_user(g, user, sizeof(user));
    vg_time_format(t, ts, sizeof(ts));
    gen_put(g, TXT, "{\"@timestamp\":\"");
    gen_put(g, g->f_ts, ts);
    gen_put(g, TXT, "\",\"log\":{\"level\":\"");
    gen_put(g, g->f_level, levels[gen_pick(g, 6)]);
    gen_put(g, TXT, "\"},\"host\":{\"name\":\"");
    gen_put(g, g->f_host, host);
    gen_put(g, TXT, "\"},\"process\":{\"name\":\"");
    gen_put(g, g->f_proc, procs[gen_pick(g, 5)]);
    gen_put(g, TXT, "\",\"pid\":");
    gen_putf(g, g->f_pid, "%u", 100 + gen_pick(g, 30000));
    gen_put(g, TXT, "},\"user\":{\"name\":\"");
    gen_put(g, g->f_user, user);
    gen_put(g, TXT, "\"},\"trace\":{\"id\":\"");
    gen_putf(g, TXT, "%016llx%08x", (unsigned long long)gen_rand(g), (unsigned)gen_rand(g));
    gen_put(g, TXT, "\"},\"event\":{\"duration\":");
    gen_putf(g, TXT, "%u", gen_pick(g, 5000000));
    gen_put(g, TXT, "},\"message\":\"");
    gen_put(g, g->f_msg, gen_app_msgs[gen_pick(g, 8)]);
    gen_put(g, TXT, "\"}");
    vg_event_add_str(ev, g->f_module, "app", 3);
    vg_event_add_str(ev, g->f_cat, "application", 11);
}

static void gen_firewall(struct gen *g, struct vg_event *ev, const struct vg_tm *tm)
{
    char host[32], src[32], dst[32];
    static const int ports[] = {22, 23, 80, 443, 445, 3389, 3306, 5432, 8080, 25};
    gen_host(g, host, sizeof(host));
    gen_ip_external(g, src, sizeof(src));
    gen_ip_internal(g, dst, sizeof(dst));
    gen_syslog_head(g, tm, host, "kernel", false);
    gen_putf(
        g, TXT,
        "[%u.%06u] [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=",
        gen_pick(g, 9000000), gen_pick(g, 1000000));
    gen_put(g, g->f_sip, src);
    gen_put(g, TXT, " DST=");
    gen_put(g, g->f_dip, dst);
    gen_putf(g, TXT, " LEN=%u TOS=0x00 PREC=0x00 TTL=%u ID=%u PROTO=", 40 + gen_pick(g, 60),
             32 + gen_pick(g, 220), gen_pick(g, 65536));
    gen_put(g, g->f_transport, "TCP");
    gen_put(g, TXT, " SPT=");
    gen_putf(g, g->f_sport, "%u", 1024 + gen_pick(g, 64000));
    gen_put(g, TXT, " DPT=");
    gen_putf(g, g->f_dport, "%d", ports[gen_pick(g, 10)]);
    gen_putf(g, TXT, " WINDOW=%u RES=0x00 SYN URGP=0", 1024 + gen_pick(g, 64000));
    vg_event_add_str(ev, g->f_module, "iptables", 8);
    vg_event_add_str(ev, g->f_cat, "network", 7);
    vg_event_add_str(ev, g->f_action, "deny", 4);
    vg_event_add_str(ev, g->f_outcome, "failure", 7);
}

/* Fill ev (reset first) with the next event; returns its raw length. */
static size_t gen_next(struct gen *g, struct vg_event *ev)
{
    struct vg_tm tm;
    vg_time_t t = g->t0 + (vg_time_t)g->i * g->step_ns + (vg_time_t)gen_pick(g, 1000) * 1000;
    g->i++;
    vg_event_reset(ev);
    vg_sbuf_reset(&g->line);
    g->nspans = 0;
    vg_time_split(t, &tm);
    uint32_t r = gen_pick(g, 100);
    if (r < 35) {
        gen_sshd(g, ev, &tm);
    } else if (r < 45) {
        gen_syslog_other(g, ev, &tm);
    } else if (r < 75) {
        gen_web(g, ev, &tm);
    } else if (r < 90) {
        gen_json(g, ev, t);
    } else {
        gen_firewall(g, ev, &tm);
    }
    char *raw = vg_arena_strndup(ev->arena, g->line.p, g->line.len);
    for (int i = 0; raw && i < g->nspans; i++) {
        vg_event_add_str(ev, g->spans[i].id, raw + g->spans[i].off, g->spans[i].len);
    }
    ev->raw = raw;
    ev->raw_len = g->line.len;
    ev->ts = t;
    ev->kind = r < 45 || r >= 90 ? VG_EK_LINUX : r < 75 ? VG_EK_WEB : VG_EK_GENERIC;
    return g->line.len;
}

#endif /* VG_BENCH_GEN_H */
