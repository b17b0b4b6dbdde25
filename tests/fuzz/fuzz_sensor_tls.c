/*
 * fuzz_sensor_tls.c — libFuzzer target: the sensor's TLS parser (sensor_tls*.c) over a two-way
 * byte stream in the chunk format of fuzz_sensor_chunks.h, then the certificate decoder over
 * the raw input. Seeds: tests/fuzz/corpus/sensor_tls/ (streams built by hand in that format).
 */
#include "fuzz_sensor_chunks.h"
#include "sensor/sensor_tls_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_sensor_stream_chunks(&vg_sensor_proto_tls, data, size);
    struct vg_sensor_tls_cert *cert = malloc(sizeof(*cert));
    struct vg_sbuf s = VG_SBUF_INIT;
    if (cert) {
        (void)vg_sensor_tls_cert_parse(data, size, "a.example.com", cert, &s);
        free(cert);
    }
    vg_sbuf_fini(&s);
    return 0;
}
