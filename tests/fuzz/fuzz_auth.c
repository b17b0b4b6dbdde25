/*
 * fuzz_auth.c — libFuzzer target: syslog headers and Linux auth messages: sshd, sudo, su, PAM,
 * shadow-utils (decode_syslog.c, decode_auth.c), through the decoder chain with the `sshd` decoder
 * tried first. See decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, "sshd", 2025);
}
