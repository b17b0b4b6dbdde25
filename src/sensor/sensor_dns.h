/*
 * sensor_dns.h — private interface of the sensor's DNS parser (sensor_dns.c, issue 6) for
 * other parsers that carry DNS messages inside their own protocol (DNS over HTTPS, RFC 8484,
 * in sensor_http2.c).
 */
#ifndef VG_SENSOR_DNS_H
#define VG_SENSOR_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "sensor/sensor_app.h"

/* Appends the carrier's own members (each preceded by a comma) to an open record. */
typedef void (*vg_sensor_dns_prefix_fn)(struct vg_sbuf *b, void *arg);

/*
 * Log the DNS message p[0..n) (no length prefix) carried by the flow in c as one `dns` record
 * (Suricata 8's DoH layout: header oriented client -> server, tx_id, then the carrier's members
 * from prefix(b, arg) when prefix is not NULL, then "dns":{…} in the version 3 layout, "type"
 * "request" when is_request else "response"). The message is parsed with the same bounds as
 * DNS over UDP; its questions are reported to the detections. Nothing is written when the
 * message is not DNS, is malformed or has no question.
 * Returns VG_OK when written, VG_EINVAL otherwise.
 */
int vg_sensor_dns_log_message(struct vg_sensor_app_ctx *c, const uint8_t *p, size_t n,
                              bool is_request, int64_t tx_id, vg_sensor_dns_prefix_fn prefix,
                              void *arg);

#endif
