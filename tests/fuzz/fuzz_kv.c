/*
 * fuzz_kv.c — libFuzzer target: key=value records: Fortinet, SonicWall, Sophos, Huawei, generic kv
 * (decode_kv.c), through the decoder chain with the `fortinet` decoder tried first. See
 * decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "fortinet", 2025);
}
