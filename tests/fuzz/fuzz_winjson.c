/*
 * fuzz_winjson.c — libFuzzer target: JSON records: Windows renderings, Suricata EVE, Zeek, other
 * JSON (decode_winrender.c, decode_netjson.c), through the decoder chain with the `windows` decoder
 * tried first. See decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "windows", 2025);
}
