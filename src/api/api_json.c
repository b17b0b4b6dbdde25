/*
 * api_json.c — the JSON request bodies of the REST handlers: the body as an object and its
 * string members, with the 400 answers that name what is wrong.
 */
#include "api/api.h"
#include "event/event.h"

#include <string.h>

int vg_api_body_object(const struct vg_api_req *req, const struct vg_json **out,
                       struct vg_api_resp *resp)
{
    struct vg_json_parser *p = vg_json_parser_create(NULL);
    struct vg_json *doc = NULL;
    size_t used;
    char err[256];
    int rc =
        p ? vg_json_parse(p, req->arena, req->body, req->body_len, &used, &doc, err, sizeof(err))
          : VG_ENOMEM;
    vg_json_parser_destroy(p);
    if (rc == VG_ENOMEM) {
        return rc;
    }
    if (rc != VG_OK || doc->type != VG_JSON_OBJECT) {
        vg_api_resp_error(resp, 400, "bad_request", "the body must be a JSON object%s%s",
                          rc != VG_OK ? ": " : "", rc != VG_OK ? err : "");
        return VG_EINVAL;
    }
    *out = doc;
    return VG_OK;
}

int vg_api_member_str(const struct vg_api_req *req, const struct vg_json *o, const char *key,
                      const char **out, struct vg_api_resp *resp)
{
    const struct vg_json *v = vg_json_get(o, key);
    *out = NULL;
    if (!v || v->type == VG_JSON_NULL) {
        return VG_OK;
    }
    if (v->type != VG_JSON_STRING) {
        vg_api_resp_error(resp, 400, "bad_request", "%s: expected a string", key);
        return VG_EINVAL;
    }
    char *s = vg_arena_alloc(req->arena, v->n + 1);
    if (!s) {
        return VG_ENOMEM;
    }
    memcpy(s, v->s, v->n);
    s[v->n] = '\0';
    *out = s;
    return VG_OK;
}
