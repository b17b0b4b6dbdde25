/*
 * fuzz_sensor_ssh.c — libFuzzer target: the sensor's SSH parser (sensor_ssh.c) over a two-way
 * byte stream in the chunk format of fuzz_sensor_chunks.h. Seeds: tests/fuzz/corpus/sensor_ssh/
 * (streams built by hand in that format).
 */
#include "fuzz_sensor_chunks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_sensor_stream_chunks(&vg_sensor_proto_ssh, data, size);
    return 0;
}
