/*
 * fuzz_sensor_smtp.c — libFuzzer target: the sensor's SMTP parser (sensor_smtp.c) over a
 * two-direction conversation (format in fuzz_sensor_text.h). Seeds: tests/fuzz/corpus/sensor_smtp/.
 */
#include "fuzz_sensor_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_text_proto(&vg_sensor_proto_smtp, 25, data, size);
}
