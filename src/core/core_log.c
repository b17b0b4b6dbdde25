/*
 * core_log.c — levelled diagnostic logging for operators (never for security output:
 * events and alerts have their own writers). One line per message:
 *   2026-11-29T05:14:55.123456Z WARN  sigma  sigma_compile.c:120  message
 */
#include "core/core.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

int vg_log_level_current = VG_LOG_WARN;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void vg_log_set_level(enum vg_log_level level)
{
    vg_log_level_current = (int)level;
}

int vg_log_level_parse(const char *name, enum vg_log_level *out)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum vg_log_level)i;
            return VG_OK;
        }
    }
    return VG_EINVAL;
}

void vg_log_set_stream(FILE *f)
{
    log_stream = f;
}

void vg_log_write(enum vg_log_level level, const char *component, const char *file, int line,
                  const char *fmt, ...)
{
    char ts[40];
    vg_time_format(vg_time_now(), ts, sizeof(ts));
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    FILE *out = log_stream ? log_stream : stderr;
    pthread_mutex_lock(&log_lock);
    fprintf(out, "%s %-5s %-7s %s:%d  %s\n", ts, level_names[level], component, base, line, msg);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}
