/*
 * fuzz_sensor_pcap.c — libFuzzer target: the sensor's pcap/pcapng reader (sensor_pcap.c) over
 * the input, decoding every frame it yields (sensor_decode.c); the input is also decoded directly
 * as an Ethernet frame and as raw IP so the decoder is exercised even when the container is
 * rejected. Seeds: tests/fuzz/corpus/sensor_pcap/ (small generated files) and the
 * suricata-verify pcaps (sensor_pcap.seeds).
 */
#include "sensor/sensor_pkt.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vg_sensor_pkt pkt;
    struct vg_sensor_pcap *r = NULL;
    struct vg_sensor_frame fr;
    uint32_t n = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    vg_sensor_decode(&pkt, VG_SENSOR_LINK_ETHERNET, data, n);
    vg_sensor_decode(&pkt, VG_SENSOR_LINK_RAW, data, n);
    if (vg_sensor_pcap_open_mem(&r, data, size, NULL, 0) != 0) {
        return 0;
    }
    while (vg_sensor_pcap_next(r, &fr) == 0) {
        vg_sensor_decode(&pkt, fr.linktype, fr.data, fr.caplen);
    }
    vg_sensor_pcap_destroy(r);
    return 0;
}
