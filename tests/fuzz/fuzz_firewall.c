/*
 * fuzz_firewall.c — libFuzzer target: firewall lines: netfilter, Cisco ASA/IOS, Check Point,
 * PAN-OS, pf (decode_firewall.c), through the decoder chain with the `cisco-asa` decoder tried
 * first. See decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "cisco-asa", 2025);
}
