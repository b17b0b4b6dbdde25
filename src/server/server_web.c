/*
 * server_web.c — the web console's files, served by `vigie server` (issue 9).
 *
 * Where it sits: the files of web/ (HTML, plain ES modules, CSS; no build step) are turned
 * into vg_web_file_table by cmake/embed_files.cmake when the binary is built, so a release
 * needs no Node.js and no files beside the binary. This file registers two public routes on
 * the API framework: GET / answers web/index.html and GET /ui/{file} any other file of the
 * table. They hold no data — every page calls the REST API with the session cookie and the
 * CSRF token — so they need no credentials; the framework adds the security headers and the
 * strict Content-Security-Policy (no inline script or style) to these responses as to every
 * other one. See docs/console.md.
 *
 * Caching: each file has an ETag (its SHA-256, computed at build time); responses say
 * "Cache-Control: no-cache" (revalidate each time, so an upgrade is picked up at once) and an
 * If-None-Match naming the ETag answers 304 without the body.
 *
 * Threads: the table is constant; the handlers keep no state.
 */
#include "server/server_int.h"

#include "api/api.h"

#include <string.h>

struct web_type {
    const char *ext;
    const char *type;
};

static const struct web_type web_types[] = {
    {".html", "text/html; charset=utf-8"},        {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},          {".svg", "image/svg+xml"},
    {".json", "application/json; charset=utf-8"}, {".png", "image/png"},
};

/* The Content-Type of a file name by its extension; octet-stream when unknown. */
static const char *web_type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < VG_ARRAY_LEN(web_types); i++) {
        if (!strcmp(dot, web_types[i].ext)) {
            return web_types[i].type;
        }
    }
    return "application/octet-stream";
}

static const struct vg_web_file *web_find(const char *name)
{
    for (const struct vg_web_file *f = vg_web_file_table; f->path; f++) {
        if (!strcmp(f->path, name)) {
            return f;
        }
    }
    return NULL;
}

/* Does an If-None-Match header name etag ("*" or a list of tags, weak ones included)? */
static bool web_etag_matches(const char *inm, const char *etag)
{
    return inm && (!strcmp(inm, "*") || strstr(inm, etag) != NULL);
}

/* Answer file f (or 304 when the client's copy is current). */
static int web_reply(const struct vg_api_req *req, struct vg_api_resp *resp,
                     const struct vg_web_file *f)
{
    resp->content_type = web_type_of(f->path);
    vg_api_resp_header(resp, "ETag", f->etag);
    vg_api_resp_header(resp, "Cache-Control", "no-cache");
    if (web_etag_matches(vg_api_header(req, "If-None-Match"), f->etag)) {
        resp->status = 304;
        return VG_OK;
    }
    vg_sbuf_add(&resp->body, f->data, f->len);
    return VG_OK;
}

static int h_index(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(ctx);
    const struct vg_web_file *f = web_find("index.html");
    if (!f) {
        vg_api_resp_error(resp, 404, "not_found", "this build has no web console");
        return VG_ENOENT;
    }
    return web_reply(req, resp, f);
}

static int h_file(void *ctx, const struct vg_api_req *req, struct vg_api_resp *resp)
{
    VG_UNUSED(ctx);
    /* the table is the whole namespace: no file system path is ever built from the request */
    const struct vg_web_file *f = req->param ? web_find(req->param) : NULL;
    if (!f) {
        vg_api_resp_error(resp, 404, "not_found", "no such console file");
        return VG_ENOENT;
    }
    return web_reply(req, resp, f);
}

int vg_server_web_register(struct vg_api *api)
{
    int rc = vg_api_route(api, "GET", "/", VG_API_ROLE_PUBLIC, h_index, NULL);
    return rc == VG_OK ? vg_api_route(api, "GET", "/ui/{file}", VG_API_ROLE_PUBLIC, h_file, NULL)
                       : rc;
}
