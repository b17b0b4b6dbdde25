/*
 * agent_logs.c — the agent's "logs" collector: configured log files (auth.log, secure,
 * audit.log, application logs) tailed with checkpoints, and the systemd journal where it
 * exists.
 *
 * Files reuse the server's tailer (src/ingest: glob patterns, rotation by rename,
 * copytruncate, inode reuse, exactly-once checkpoints). The tailer writes to an ingest
 * journal, not to a callback, so this file adapts it: the collector keeps a small journal of
 * its own in STATE/logs/journal, a reader thread turns each journaled line into an event
 * ("message" = the raw line, "log.file.path", "event.dataset":"logs"), and every
 * checkpoint_ms it (1) checkpoints the tailer (which makes the journal durable first),
 * (2) writes the sequence number of the last line emitted to STATE/logs/emitted (temp file +
 * rename), (3) releases the journal up to it. After a crash the tailer resumes after its
 * last journaled line and the reader re-emits what followed the last "emitted" mark: nothing
 * is lost; lines emitted after the last mark may be emitted again (at least once).
 *
 * The journal backend needs sd-journal (libsystemd), which this build does not link (not
 * installed), and a running journald; vg_agent_logs_journal_probe says which is missing.
 * journal: auto (default) uses it when available, on requires it, off never.
 */
#include "agent/agent_logs.h"

#include "ingest/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMP "agent.logs"

enum { JOURNAL_AUTO, JOURNAL_ON, JOURNAL_OFF };
static const char *const journal_modes[] = {"auto", "on", "off", NULL};
static const char *const start_modes[] = {"end", "beginning", NULL};

struct logs_conf {
    bool enabled, sync;
    struct vg_strlist files;
    int64_t scan_ms, poll_ms, flush_ms, rotate_ms, checkpoint_ms, max_line;
    int start, journal;
};

#define LOGS_MS(key, member, def, lo, hi, what)                                                    \
    {                                                                                              \
        "logs." key, VG_CONF_INT, offsetof(struct logs_conf, member), def, lo, hi, false, false,   \
            NULL, what                                                                             \
    }

static const struct vg_conf_field logs_conf_table[] = {
    {"logs.enabled", VG_CONF_BOOL, offsetof(struct logs_conf, enabled), "true", 1, 0, false, true,
     NULL, "run this collector"},
    {"logs.files", VG_CONF_STRLIST, offsetof(struct logs_conf, files), "", 1, 0, false, false, NULL,
     "glob patterns of the log files to tail"},
    {"logs.start", VG_CONF_ENUM, offsetof(struct logs_conf, start), "end", 1, 0, false, false,
     start_modes, "where files found by the very first scan start (later files: beginning)"},
    {"logs.journal", VG_CONF_ENUM, offsetof(struct logs_conf, journal), "auto", 1, 0, false, false,
     journal_modes, "read the systemd journal: auto, on (required), off"},
    {"logs.sync", VG_CONF_BOOL, offsetof(struct logs_conf, sync), "true", 1, 0, false, false, NULL,
     "fdatasync the local journal at checkpoints"},
    LOGS_MS("scan_interval_ms", scan_ms, "1000", 10, 3600000, "glob rescans"),
    LOGS_MS("poll_interval_ms", poll_ms, "250", 10, 60000, "growth checks without inotify"),
    LOGS_MS("flush_timeout_ms", flush_ms, "1000", 10, 600000, "a last line without LF waits"),
    LOGS_MS("rotate_wait_ms", rotate_ms, "5000", 10, 3600000, "a rotated file is read on"),
    LOGS_MS("checkpoint_ms", checkpoint_ms, "1000", 10, 600000, "checkpoint period"),
    LOGS_MS("max_line", max_line, "65536", 256, 16777216, "longest line before it is split"),
};

struct vg_agent_logs {
    struct logs_conf conf;
    vg_agent_emit_fn emit;
    void *emit_ctx;
    char *dir; /* STATE/logs */
    struct vg_journal *j;
    struct vg_tail *tail;
    struct vg_journal_reader *rd;
    uint64_t emitted; /* seq of the last record emitted */
    uint64_t saved;   /* emitted as of the last checkpoint */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* counters, stopping; ckpt_mu serialises checkpoints */
    pthread_mutex_t ckpt_mu;
    bool stopping;
    uint64_t lines, events, drops, checkpoints, errors;
    char journal_why[256];
    struct vg_sbuf ev;
};

static const char *const logs_backends[] = {"files", "journal", NULL};

/* ---------------------------------------------------------------- configuration */

static int logs_conf_load(const struct vg_yaml_node *conf, struct logs_conf *c, char *err,
                          size_t errsz)
{
    return vg_agent_conf_bind("logs", logs_conf_table, VG_ARRAY_LEN(logs_conf_table), conf, c, err,
                              errsz);
}

int vg_agent_logs_journal_probe(char *why, size_t whysz)
{
    struct stat sb;
    bool sock = stat("/run/systemd/journal/socket", &sb) == 0;
    snprintf(why, whysz,
             "journal: this build has no sd-journal support (libsystemd-dev not installed)%s",
             sock ? "" : "; no journald runs here (/run/systemd/journal/socket absent)");
    return VG_EUNSUPPORTED;
}

/* ---------------------------------------------------------------- position file */

static int emitted_load(struct vg_agent_logs *c)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    int64_t v;
    snprintf(path, sizeof(path), "%s/emitted", c->dir);
    int rc = vg_file_read(path, 64, &text, &len);
    if (rc != VG_OK) {
        return errno == ENOENT ? VG_OK : rc; /* first start */
    }
    len = strcspn(text, "\n");
    rc = vg_parse_i64(text, len, &v) == VG_OK && v >= 0 ? VG_OK : VG_EINVAL;
    if (rc == VG_OK) {
        c->emitted = c->saved = (uint64_t)v;
    }
    vg_free(text);
    return rc;
}

static int emitted_save(struct vg_agent_logs *c, uint64_t seq)
{
    char path[4096], tmp[4096], line[32];
    snprintf(path, sizeof(path), "%s/emitted", c->dir);
    snprintf(tmp, sizeof(tmp), "%s/emitted.tmp", c->dir);
    int n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)seq);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return VG_EIO;
    }
    bool ok = write(fd, line, (size_t)n) == n && (!c->conf.sync || fsync(fd) == 0);
    ok = close(fd) == 0 && ok;
    return ok && rename(tmp, path) == 0 ? VG_OK : VG_EIO;
}

/* ---------------------------------------------------------------- events */

static void logs_emit(struct vg_agent_logs *c, const struct vg_rec *r)
{
    struct vg_sbuf *e = &c->ev;
    size_t plen = 0;
    const char *path = vg_rec_meta(r, "file", &plen);
    char ts[40];
    vg_time_format(r->recv_ts, ts, sizeof(ts));
    vg_sbuf_reset(e);
    vg_sbuf_printf(e,
                   "{\"@timestamp\":\"%s\",\"event.module\":\"vigie-agent\","
                   "\"event.dataset\":\"logs\",\"event.kind\":\"event\",\"message\":",
                   ts);
    vg_sbuf_add_json_str(e, r->data, r->len);
    if (path) {
        vg_sbuf_adds(e, ",\"log.file.path\":");
        vg_sbuf_add_json_str(e, path, plen);
    }
    vg_sbuf_addc(e, '}');
    int rc = e->err ? e->err : c->emit(c->emit_ctx, e->p, e->len);
    pthread_mutex_lock(&c->mu);
    c->lines++;
    if (rc == VG_OK) {
        c->events++;
    } else {
        c->drops++;
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---------------------------------------------------------------- checkpoints */

static int logs_checkpoint_now(struct vg_agent_logs *c, uint64_t emitted)
{
    pthread_mutex_lock(&c->ckpt_mu);
    int rc = vg_tail_checkpoint(c->tail);
    if (rc == VG_OK && emitted != c->saved) {
        rc = emitted_save(c, emitted);
    }
    if (rc == VG_OK) {
        vg_journal_release(c->j, emitted);
        c->saved = emitted;
    }
    pthread_mutex_unlock(&c->ckpt_mu);
    pthread_mutex_lock(&c->mu);
    c->checkpoints += rc == VG_OK;
    c->errors += rc != VG_OK;
    pthread_mutex_unlock(&c->mu);
    if (rc != VG_OK) {
        VG_WARN(COMP, "checkpoint failed: %s", vg_strerror(rc));
    }
    return rc;
}

/* Emit what the journal holds now (timeout 0) or wait up to wait_ms for a first record. */
static bool logs_drain(struct vg_agent_logs *c, int wait_ms)
{
    struct vg_rec r;
    uint64_t seq;
    bool any = false;
    int rc;
    while ((rc = vg_journal_next(c->rd, &r, &seq, any ? 0 : wait_ms)) == VG_OK || rc == VG_EINVAL) {
        if (rc == VG_OK) {
            logs_emit(c, &r);
            __atomic_store_n(&c->emitted, seq, __ATOMIC_RELEASE);
            any = true;
        }
    }
    return any;
}

static void *logs_main(void *arg)
{
    struct vg_agent_logs *c = arg;
    uint64_t last = vg_clock_ns();
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stopping;
        pthread_mutex_unlock(&c->mu);
        if (stop) {
            break;
        }
        logs_drain(c, 200);
        if (vg_clock_ns() - last >= (uint64_t)c->conf.checkpoint_ms * 1000000) {
            logs_checkpoint_now(c, c->emitted);
            last = vg_clock_ns();
        }
    }
    logs_drain(c, 0); /* the tailer is stopped: what it appended is all there is */
    logs_checkpoint_now(c, c->emitted);
    return NULL;
}

int vg_agent_logs_checkpoint(struct vg_agent_collector *cc)
{
    struct vg_agent_logs *c = (struct vg_agent_logs *)cc;
    /* the reader thread owns c->emitted; this persists what it has emitted so far */
    return logs_checkpoint_now(c, __atomic_load_n(&c->emitted, __ATOMIC_ACQUIRE));
}

/* ---------------------------------------------------------------- lifecycle */

static int mkdir_p(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? VG_OK : VG_EIO;
}

/* Create STATE/logs, its journal, the tailer (recovering from its checkpoint), the reader. */
static int logs_open_files(struct vg_agent_logs *c, const char *state_dir, char *err, size_t errsz)
{
    char jdir[4096], tdir[4096];
    struct vg_journal_opts jo = {
        .segment_bytes = 8u << 20, .max_lag_bytes = 64u << 20, .sync = c->conf.sync};
    struct vg_tail_opts to = {(int)c->conf.scan_ms,
                              (int)c->conf.poll_ms,
                              (int)c->conf.flush_ms,
                              (int)c->conf.rotate_ms,
                              (size_t)c->conf.max_line,
                              c->conf.start == 0 ? VG_TAIL_START_END : VG_TAIL_START_BEGINNING,
                              false};
    struct vg_tail_input *ins = vg_calloc(c->conf.files.n, sizeof(*ins));
    int rc = ins ? VG_OK : VG_ENOMEM;
    size_t dl = strlen(state_dir) + 6;
    if (rc == VG_OK && !(c->dir = vg_malloc(dl))) {
        rc = VG_ENOMEM;
    }
    if (rc == VG_OK) {
        snprintf(c->dir, dl, "%s/logs", state_dir);
        snprintf(jdir, sizeof(jdir), "%s/journal", c->dir);
        snprintf(tdir, sizeof(tdir), "%s/tail", c->dir);
        if (mkdir_p(state_dir) != VG_OK || mkdir_p(c->dir) != VG_OK) {
            snprintf(err, errsz, "logs: %s: %s", c->dir, strerror(errno));
            rc = VG_EIO;
        }
    }
    if (rc == VG_OK && (rc = emitted_load(c)) != VG_OK) {
        snprintf(err, errsz, "logs: %s/emitted: damaged", c->dir);
    }
    for (size_t i = 0; rc == VG_OK && i < c->conf.files.n; i++) {
        ins[i] = (struct vg_tail_input){c->conf.files.v[i], (uint32_t)i};
    }
    if (rc == VG_OK) {
        rc = vg_journal_open(jdir, &jo, &c->j, err, errsz);
    }
    if (rc == VG_OK) {
        rc = vg_tail_create(c->j, tdir, ins, c->conf.files.n, &to, &c->tail, err, errsz);
    }
    if (rc == VG_OK && !(c->rd = vg_journal_reader_open(c->j, c->emitted))) {
        rc = VG_ENOMEM;
    }
    vg_free(ins);
    return rc;
}

static void logs_free(struct vg_agent_logs *c)
{
    vg_tail_destroy(c->tail);
    if (c->rd) {
        vg_journal_reader_close(c->rd);
    }
    if (c->j) {
        vg_journal_close(c->j);
    }
    vg_free(c->dir);
    vg_sbuf_fini(&c->ev);
    vg_conf_release(logs_conf_table, VG_ARRAY_LEN(logs_conf_table), &c->conf);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->ckpt_mu);
    vg_free(c);
}

/* Decide which backends run: files when patterns are configured; the journal per conf. */
static int logs_pick(struct vg_agent_logs *c, const struct vg_agent_collector_opts *o, char *err,
                     size_t errsz)
{
    const char *force = o->force_backend;
    bool want_journal =
        (force && !strcmp(force, "journal")) || (!force && c->conf.journal == JOURNAL_ON);
    if (force && strcmp(force, "files") != 0 && strcmp(force, "journal") != 0) {
        snprintf(err, errsz, "logs: unknown backend '%s' (files, journal)", force);
        return VG_EINVAL;
    }
    bool journal_ok = vg_agent_logs_journal_probe(c->journal_why, sizeof(c->journal_why)) == VG_OK;
    if (want_journal && !journal_ok) {
        snprintf(err, errsz, "logs: %s", c->journal_why);
        return VG_EUNSUPPORTED;
    }
    if (!c->conf.files.n) {
        snprintf(err, errsz, "logs: files: no file configured; %s", c->journal_why);
        return VG_EUNSUPPORTED;
    }
    if (!o->state_dir) {
        snprintf(err, errsz, "logs: no state directory for the checkpoints");
        return VG_EINVAL;
    }
    return VG_OK;
}

static int logs_start(const struct vg_agent_collector_opts *o, struct vg_agent_collector **out,
                      char *err, size_t errsz)
{
    struct vg_agent_logs *c = vg_calloc(1, sizeof(*c));
    if (!c) {
        return VG_ENOMEM;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->ckpt_mu, NULL);
    c->emit = o->emit;
    c->emit_ctx = o->emit_ctx;
    int rc = o->emit ? logs_conf_load(o->conf, &c->conf, err, errsz) : VG_EINVAL;
    if (!o->emit) {
        snprintf(err, errsz, "logs: no emit callback");
    }
    rc = rc == VG_OK ? logs_pick(c, o, err, errsz) : rc;
    rc = rc == VG_OK ? logs_open_files(c, o->state_dir, err, errsz) : rc;
    if (rc == VG_OK && (rc = vg_tail_start(c->tail)) != VG_OK) {
        snprintf(err, errsz, "logs: cannot start the tailer");
    }
    if (rc == VG_OK && pthread_create(&c->thread, NULL, logs_main, c) != 0) {
        snprintf(err, errsz, "logs: cannot start thread");
        rc = VG_ERROR;
    }
    if (rc != VG_OK) {
        logs_free(c);
        return rc;
    }
    c->started = true;
    VG_INFO(COMP, "logs collector: %zu file pattern(s); %s", c->conf.files.n, c->journal_why);
    *out = (struct vg_agent_collector *)c;
    return VG_OK;
}

static const char *logs_backend_name(const struct vg_agent_collector *cc)
{
    VG_UNUSED(cc);
    return "files";
}

static void logs_stats(const struct vg_agent_collector *cc, struct vg_sbuf *out)
{
    struct vg_agent_logs *c = (struct vg_agent_logs *)cc;
    struct vg_tail_stats ts;
    vg_tail_stats(c->tail, &ts);
    pthread_mutex_lock(&c->mu);
    vg_sbuf_printf(out,
                   "{\"backend\":\"files\",\"lines\":%llu,\"events\":%llu,\"drops\":%llu,"
                   "\"checkpoints\":%llu,\"errors\":%llu,\"files_open\":%llu,"
                   "\"rotations\":%llu,\"truncations\":%llu,\"long_lines\":%llu,"
                   "\"read_errors\":%llu,\"journal\":",
                   (unsigned long long)c->lines, (unsigned long long)c->events,
                   (unsigned long long)c->drops, (unsigned long long)c->checkpoints,
                   (unsigned long long)c->errors, (unsigned long long)ts.files_open,
                   (unsigned long long)ts.rotations, (unsigned long long)ts.truncations,
                   (unsigned long long)ts.long_lines, (unsigned long long)ts.read_errors);
    vg_sbuf_add_json_str(out, c->journal_why, strlen(c->journal_why));
    vg_sbuf_addc(out, '}');
    pthread_mutex_unlock(&c->mu);
}

static void logs_stop(struct vg_agent_collector *cc)
{
    struct vg_agent_logs *c = (struct vg_agent_logs *)cc;
    if (!c) {
        return;
    }
    vg_tail_stop(c->tail); /* nothing more is appended: the thread drains, then checkpoints */
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_mutex_unlock(&c->mu);
    if (c->started) {
        pthread_join(c->thread, NULL);
    }
    logs_free(c);
}

const struct vg_agent_collector_def vg_agent_logs_collector = {
    .name = "logs",
    .description = "log files tailed with checkpoints (and the systemd journal when present)",
    .backends = logs_backends,
    .start = logs_start,
    .backend = logs_backend_name,
    .stats = logs_stats,
    .stop = logs_stop,
};
