/*
 * fuzz_sensor_http.c — libFuzzer target: the sensor's HTTP parser (sensor_http.c) over a
 * two-direction conversation (format in fuzz_sensor_text.h). Seeds: tests/fuzz/corpus/sensor_http/.
 */
#include "fuzz_sensor_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_text_proto(&vg_sensor_proto_http, 80, data, size);
}
