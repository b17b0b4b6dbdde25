/*
 * core_time.c — timestamps as int64 nanoseconds since the Unix epoch (UTC): parsing of the
 * ISO 8601 / RFC 3339 forms found in logs, formatting, FILETIME conversion, calendar
 * splitting (for the Sigma time-part modifiers) and durations (`90m`).
 */
#include "core/core.h"

#include <string.h>
#include <time.h>

vg_time_t vg_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (vg_time_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

uint64_t vg_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static bool digits(const char *p, size_t n, size_t at, size_t cnt, int *out)
{
    if (at + cnt > n) {
        return false;
    }
    int v = 0;
    for (size_t i = 0; i < cnt; i++) {
        unsigned d = (unsigned char)p[at + i] - '0';
        if (d > 9) {
            return false;
        }
        v = v * 10 + (int)d;
    }
    *out = v;
    return true;
}

int vg_time_parse(const char *p, size_t n, vg_time_t *out)
{
    int y, mo, d, h = 0, mi = 0, s = 0;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    if (!digits(p, n, 0, 4, &y) || n < 10 || p[4] != '-' || !digits(p, n, 5, 2, &mo) ||
        p[7] != '-' || !digits(p, n, 8, 2, &d)) {
        return VG_EINVAL;
    }
    /* int64 nanoseconds span 1677-09-21 .. 2262-04-11: refuse what cannot be represented */
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1678 || y > 2261) {
        return VG_EINVAL;
    }
    size_t i = 10;
    int64_t nsec = 0, offset = 0;
    if (i < n && (p[i] == 'T' || p[i] == 't' || p[i] == ' ')) {
        i++;
        if (!digits(p, n, i, 2, &h) || i + 2 >= n || p[i + 2] != ':' ||
            !digits(p, n, i + 3, 2, &mi)) {
            return VG_EINVAL;
        }
        i += 5;
        if (i < n && p[i] == ':') {
            if (!digits(p, n, i + 1, 2, &s)) {
                return VG_EINVAL;
            }
            i += 3;
        }
        if (h > 23 || mi > 59 || s > 60) {
            return VG_EINVAL;
        }
        if (i < n && (p[i] == '.' || p[i] == ',')) {
            i++;
            int64_t scale = 100000000;
            size_t start = i;
            while (i < n && (unsigned)((unsigned char)p[i] - '0') < 10u) {
                nsec += (p[i] - '0') * scale;
                scale /= 10;
                i++;
            }
            if (i == start) {
                return VG_EINVAL;
            }
        }
        if (i < n && (p[i] == 'Z' || p[i] == 'z')) {
            i++;
        } else if (i < n && (p[i] == '+' || p[i] == '-')) {
            int oh, om = 0;
            int sign = p[i] == '-' ? -1 : 1;
            if (!digits(p, n, i + 1, 2, &oh)) {
                return VG_EINVAL;
            }
            i += 3;
            if (i < n && p[i] == ':') {
                i++;
            }
            if (i < n && !digits(p, n, i, 2, &om)) {
                return VG_EINVAL;
            }
            if (i < n) {
                i += 2;
            }
            offset = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != n) {
        return VG_EINVAL;
    }
    int64_t secs =
        days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s - offset;
    *out = secs * 1000000000 + nsec;
    return VG_OK;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void vg_time_split(vg_time_t t, struct vg_tm *tm)
{
    int64_t secs = floor_div(t, 1000000000);
    tm->nsec = (int)(t - secs * 1000000000);
    int64_t days = floor_div(secs, 86400);
    int64_t rem = secs - days * 86400;
    civil_from_days(days, &tm->year, &tm->month, &tm->day);
    tm->hour = (int)(rem / 3600);
    tm->minute = (int)(rem % 3600 / 60);
    tm->second = (int)(rem % 60);
    tm->wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    tm->yday = (int)(days - days_from_civil(tm->year, 1, 1));
    /* ISO 8601 week: the week (Monday first) that holds this week's Thursday */
    int wd = tm->wday == 0 ? 7 : tm->wday;
    int64_t thursday = days - (wd - 1) + 3;
    int ty, tmo, td;
    civil_from_days(thursday, &ty, &tmo, &td);
    int week = (int)((thursday - days_from_civil(ty, 1, 1)) / 7 + 1);
    tm->iso_week = week;
}

size_t vg_time_format(vg_time_t t, char *buf, size_t size)
{
    struct vg_tm tm;
    vg_time_split(t, &tm);
    int n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.year, tm.month, tm.day,
                     tm.hour, tm.minute, tm.second, tm.nsec / 1000);
    return n < 0 ? 0 : (size_t)n;
}

vg_time_t vg_time_from_filetime(uint64_t ft)
{
    /* 11644473600 seconds between 1601-01-01 and 1970-01-01 */
    const int64_t epoch_diff = 116444736000000000LL;
    return ((int64_t)ft - epoch_diff) * 100;
}

int vg_duration_parse(const char *p, size_t n, int64_t *out_ns)
{
    if (n < 2) {
        return VG_EINVAL;
    }
    int64_t v;
    if (vg_parse_i64(p, n - 1, &v) != VG_OK || v <= 0 || p[0] == '-' || p[0] == '+') {
        return VG_EINVAL;
    }
    int64_t unit;
    switch (p[n - 1]) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    case 'M':
        unit = 30 * 86400;
        break;
    case 'y':
        unit = 365 * 86400;
        break;
    default:
        return VG_EINVAL;
    }
    if (v > INT64_MAX / unit / 1000000000) {
        return VG_ELIMIT;
    }
    *out_ns = v * unit * 1000000000;
    return VG_OK;
}
