/*
 * sensor_line.c — bounded line reader for the sensor's text protocol parsers (see
 * sensor_line.h). Zero-copy for lines contained in one input chunk; bounded assembly
 * otherwise.
 */
#include "sensor/sensor_line.h"

#include <string.h>

void vg_sensor_line_init(struct vg_sensor_line *l, uint8_t *buf, uint32_t cap)
{
    l->buf = buf;
    l->cap = cap;
    vg_sensor_line_reset(l);
}

void vg_sensor_line_reset(struct vg_sensor_line *l)
{
    l->len = 0;
    l->trunc = false;
    l->ready = false;
}

/* Append p[0..n) to the partial line, dropping what exceeds cap. */
static void line_append(struct vg_sensor_line *l, const uint8_t *p, size_t n)
{
    size_t room = l->cap - l->len;
    if (n > room) {
        n = room;
        l->trunc = true;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += (uint32_t)n;
}

bool vg_sensor_line_next(struct vg_sensor_line *l, const uint8_t *p, size_t n, size_t *used,
                         const uint8_t **line, size_t *len, bool *trunc)
{
    if (l->ready) {
        vg_sensor_line_reset(l);
    }
    const uint8_t *lf = n ? memchr(p, '\n', n) : NULL;
    if (!lf) {
        line_append(l, p, n);
        *used = n;
        return false;
    }
    size_t k = (size_t)(lf - p);
    *used = k + 1;
    if (l->len == 0 && !l->trunc) {
        *line = p;
        *len = k >= l->cap ? l->cap : k;
        *trunc = k >= l->cap;
        return true;
    }
    line_append(l, p, k);
    if (l->len == l->cap) {
        l->trunc = true; /* the line and its LF did not fit */
    }
    *line = l->buf;
    *len = l->len;
    *trunc = l->trunc;
    l->ready = true;
    return true;
}

bool vg_sensor_line_iprefix(const uint8_t *p, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n < m) {
        return false;
    }
    for (size_t i = 0; i < m; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z') {
            c = (uint8_t)(c + 32);
        }
        if (c != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}
