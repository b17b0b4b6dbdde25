/*
 * fuzz_exception.c — libFuzzer target: arbitrary bytes through the triage exception parser
 * (the body of POST /api/v1/exceptions), and a parsed exception matched against an alert
 * whose event is the same bytes.
 */
#include "alert/alert_int.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    char *text = vg_strndup((const char *)data, size);
    struct tx_exc *e = NULL;
    if (!text) {
        return 0;
    }
    vg_triage_exception_check(text, size, err, sizeof(err));
    if (tx_exc_parse(text, size, VG_TIME_NONE, &e, NULL, NULL, err, sizeof(err)) == VG_OK) {
        struct vg_json_parser *p = vg_json_parser_create(NULL);
        struct vg_arena *ar = vg_arena_create(4096);
        struct vg_sbuf b = VG_SBUF_INIT;
        struct vg_store_alert a = {.rule_id = "r",
                                   .host = "web-1",
                                   .user = "root",
                                   .src_ip = "10.0.0.1",
                                   .process = "sshd",
                                   .level = 3,
                                   .event_json = text};
        if (p && ar) {
            tx_exc_match(e, &a, p, ar);
        }
        tx_exc_json(e, &b);
        vg_sbuf_fini(&b);
        vg_arena_destroy(ar);
        vg_json_parser_destroy(p);
    }
    tx_exc_free(e);
    vg_free(text);
    return 0;
}
