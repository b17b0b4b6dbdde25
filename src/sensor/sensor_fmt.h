/*
 * sensor_fmt.h — number formatting shared by the sensor's record writers (sensor_eve.c, the
 * DNS logger): the hot path writes numbers straight into a reserved buffer, without printf.
 */
#ifndef VG_SENSOR_FMT_H
#define VG_SENSOR_FMT_H

#include <stdint.h>

/* Most bytes vg_sensor_fmt_u64 writes (UINT64_MAX has 20 digits). */
#define VG_SENSOR_FMT_U64_MAX 20

/* Write v in decimal at p (room for VG_SENSOR_FMT_U64_MAX bytes, no NUL); returns the end. */
char *vg_sensor_fmt_u64(char *p, uint64_t v);

#endif
