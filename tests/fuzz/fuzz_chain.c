/*
 * fuzz_chain.c — libFuzzer target: lines of any format, through the decoder chain with
 * no preferred decoder (the whole chain in its order). See decode_fuzz.h.
 */
#include "decode_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return decode_fuzz(data, size, NULL, 0);
}
