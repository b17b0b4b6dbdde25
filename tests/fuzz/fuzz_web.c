/*
 * fuzz_web.c — libFuzzer target: web logs: NCSA access, Apache/nginx errors, IIS W3C, Squid
 * (decode_webx.c), through the decoder chain with the `web-access` decoder tried first. See
 * decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "web-access", 2025);
}
