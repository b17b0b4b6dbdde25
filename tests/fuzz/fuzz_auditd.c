/*
 * fuzz_auditd.c — libFuzzer target: auditd records, joined into events (decode_audit.c), through
 * the decoder chain with the `auditd` decoder tried first. See decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "auditd", 2025);
}
