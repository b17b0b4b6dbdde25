/*
 * fuzz_sensor_ftp.c — libFuzzer target: the sensor's FTP parser (sensor_ftp.c) over a
 * two-direction conversation (format in fuzz_sensor_text.h). Seeds: tests/fuzz/corpus/sensor_ftp/.
 */
#include "fuzz_sensor_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_text_proto(&vg_sensor_proto_ftp, 21, data, size);
}
