/*
 * sensor_line.h — bounded line reader shared by the sensor's text protocol parsers (HTTP,
 * SMTP, FTP). Private to src/sensor/.
 *
 * A line ends at LF; the returned bytes exclude the LF (a CR before it is kept; see
 * vg_sensor_line_chomp). When a whole line sits in the input it is returned in place (no
 * copy); only a line split across calls is assembled in the caller's buffer of cap bytes. A
 * line that does not fit in cap bytes with its LF is returned cut to cap bytes (trunc set) once its
 * LF arrives; the excess is dropped, never buffered.
 */
#ifndef VG_SENSOR_LINE_H
#define VG_SENSOR_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_sensor_line {
    uint8_t *buf; /* caller's storage of cap bytes */
    uint32_t cap;
    uint32_t len; /* bytes of the pending partial line in buf */
    bool trunc;   /* the pending line overflowed cap */
    bool ready;   /* the last call returned a line from buf: reset before the next */
};

/* Bind buf[0..cap) to l and clear it. */
void vg_sensor_line_init(struct vg_sensor_line *l, uint8_t *buf, uint32_t cap);

/* Forget any partial line (after a gap or a switch to binary data). */
void vg_sensor_line_reset(struct vg_sensor_line *l);

/*
 * Read from p[0..n). Returns true when a line is complete: *line and *len give it (valid until
 * the next call), *trunc whether it was cut at cap, *used how many input bytes were consumed
 * (through the LF). Returns false when all n bytes were consumed into the partial line
 * (*used = n). Never reads past n.
 */
bool vg_sensor_line_next(struct vg_sensor_line *l, const uint8_t *p, size_t n, size_t *used,
                         const uint8_t **line, size_t *len, bool *trunc);

/* Length of line without its trailing CR, if any. */
static inline size_t vg_sensor_line_chomp(const uint8_t *line, size_t len)
{
    return (len > 0 && line[len - 1] == '\r') ? len - 1 : len;
}

/* ASCII case-insensitive prefix test: does p[0..n) start with lit (lowercase)? */
bool vg_sensor_line_iprefix(const uint8_t *p, size_t n, const char *lit);

#endif
