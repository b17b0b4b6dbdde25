/*
 * fuzz_apps.c — libFuzzer target: application logs: applog, vsftpd, F5, XML (decode_apps.c),
 * through the decoder chain with the `applog` decoder tried first. See decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "applog", 2025);
}
