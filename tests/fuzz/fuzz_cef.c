/*
 * fuzz_cef.c — libFuzzer target: CEF and LEEF records (decode_cef.c), through the decoder chain
 * with the `cef` decoder tried first. See decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "cef", 2025);
}
