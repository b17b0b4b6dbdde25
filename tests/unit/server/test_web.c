/*
 * test_web.c — the web console's files as `vigie server` serves them (server_web.c) on a real
 * loopback socket: GET / is web/index.html, GET /ui/{file} every other file of web/, byte for
 * byte, with its Content-Type, an ETag that If-None-Match turns into 304, the strict
 * Content-Security-Policy, no credentials needed; unknown names (and path tricks) are 404.
 * Also a lint of web/ for what the CSP and the console's rules forbid: inline scripts,
 * inline styles and event handlers, innerHTML-style HTML parsing of strings, eval.
 */
#include "../api/api_test.h"
#include "server/server_int.h"

#include <dirent.h>
#include <stdlib.h>

/* The bytes of VG_SOURCE_DIR/web/name (malloc'ed, NUL-terminated), or NULL. */
static char *read_source(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/web/%s", VG_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    if (f) {
        fclose(f);
    }
    return buf;
}

static const struct vg_web_file *table_find(const char *name)
{
    for (const struct vg_web_file *f = vg_web_file_table; f->path; f++) {
        if (!strcmp(f->path, name)) {
            return f;
        }
    }
    return NULL;
}

static bool open_web(struct rig *r)
{
    return rig_open(r, NULL, NULL, 0, false) && vg_server_web_register(r->api) == VG_OK &&
           rig_start(r);
}

VG_TEST(index_and_every_file_served_as_built)
{
    struct rig r;
    if (!open_web(&r)) {
        CHECK(!"rig");
        return;
    }
    struct hresp h = {0};
    char v[512];
    CHECK_EQ_INT(http1(r.port, "GET", "/", NULL, NULL, &h), 200);
    CHECK_STR(hr_header(&h, "Content-Type", v, sizeof(v)), "text/html; charset=utf-8");
    CHECK_STR(hr_header(&h, "Content-Security-Policy", v, sizeof(v)), VG_API_CSP);
    CHECK_STR(hr_header(&h, "Cache-Control", v, sizeof(v)), "no-cache");
    CHECK_STR(hr_header(&h, "X-Frame-Options", v, sizeof(v)), "DENY");
    CHECK(h.body && strstr(h.body, "<script type=\"module\" src=\"/ui/app.js\"></script>"));
    size_t n = 0;
    int files = 0;
    for (const struct vg_web_file *f = vg_web_file_table; f->path; f++, files++) {
        char path[256], *src = read_source(f->path, &n);
        snprintf(path, sizeof(path), "/ui/%s", f->path);
        CHECK_EQ_INT(http1(r.port, "GET", path, NULL, NULL, &h), 200);
        CHECK(src && h.body_len == n && !memcmp(h.body, src, n));
        CHECK_STR(hr_header(&h, "ETag", v, sizeof(v)), f->etag);
        CHECK_EQ_INT(strlen(f->etag), 18);
        const char *ct = hr_header(&h, "Content-Type", v, sizeof(v));
        const char *dot = strrchr(f->path, '.');
        CHECK(ct && dot);
        if (ct && dot && !strcmp(dot, ".js")) {
            CHECK_STR(ct, "text/javascript; charset=utf-8");
        } else if (ct && dot && !strcmp(dot, ".css")) {
            CHECK_STR(ct, "text/css; charset=utf-8");
        } else if (ct && dot && !strcmp(dot, ".svg")) {
            CHECK_STR(ct, "image/svg+xml");
        }
        CHECK_STR(hr_header(&h, "Content-Security-Policy", v, sizeof(v)), VG_API_CSP);
        free(src);
    }
    /* the build embedded every file of web/ */
    DIR *d = opendir(VG_SOURCE_DIR "/web");
    int on_disk = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] != '.') {
            on_disk++;
            CHECK(table_find(e->d_name) != NULL);
        }
    }
    if (d) {
        closedir(d);
    }
    CHECK(files >= 8);
    CHECK_EQ_INT(files, on_disk);
    hresp_free(&h);
    rig_close(&r);
}

VG_TEST(etag_head_errors)
{
    struct rig r;
    if (!open_web(&r)) {
        CHECK(!"rig");
        return;
    }
    struct hresp h = {0};
    char hdr[256], v[512];
    const struct vg_web_file *app = table_find("app.js");
    CHECK(app != NULL);
    if (!app) {
        rig_close(&r);
        return;
    }
    snprintf(hdr, sizeof(hdr), "If-None-Match: %s\r\n", app->etag);
    CHECK_EQ_INT(http1(r.port, "GET", "/ui/app.js", hdr, NULL, &h), 304);
    CHECK_EQ_INT(h.body_len, 0);
    CHECK_STR(hr_header(&h, "ETag", v, sizeof(v)), app->etag);
    snprintf(hdr, sizeof(hdr), "If-None-Match: \"x\", W/%s\r\n", app->etag);
    CHECK_EQ_INT(http1(r.port, "GET", "/ui/app.js", hdr, NULL, &h), 304);
    CHECK_EQ_INT(http1(r.port, "GET", "/ui/app.js", "If-None-Match: \"0000\"\r\n", NULL, &h), 200);
    CHECK_EQ_INT(h.body_len, app->len);
    CHECK_EQ_INT(http1(r.port, "HEAD", "/", NULL, NULL, &h), 200);
    CHECK_EQ_INT(h.body_len, 0);
    /* only names of the table: no file system behind the route */
    const char *bad[] = {"/ui/nope.js",
                         "/ui/..%2Fapi.js",
                         "/ui/%2E%2E%2Fetc%2Fpasswd",
                         "/ui/app.js%00.html",
                         "/ui/",
                         "/ui/sub/app.js",
                         "/index.html"};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        int st = http1(r.port, "GET", bad[i], NULL, NULL, &h);
        CHECK(st == 404 || st == 400);
        CHECK(!h.body || !strstr(h.body, "import "));
        CHECK_STR(hr_header(&h, "Content-Security-Policy", v, sizeof(v)), VG_API_CSP);
    }
    CHECK_EQ_INT(http1(r.port, "POST", "/", NULL, "x", &h), 405);
    hresp_free(&h);
    rig_close(&r);
}

/* Does text hold needle outside a line comment ("//" to the end of the line)? */
static bool has_code(const char *text, const char *needle)
{
    for (const char *p = text; (p = strstr(p, needle)); p++) {
        const char *bol = p;
        while (bol > text && bol[-1] != '\n') {
            bol--;
        }
        const char *c = strstr(bol, "//");
        if (!c || c > p) {
            return true;
        }
    }
    return false;
}

VG_TEST(sources_respect_the_csp)
{
    for (const struct vg_web_file *f = vg_web_file_table; f->path; f++) {
        const char *t = (const char *)f->data;
        const char *dot = strrchr(f->path, '.');
        if (dot && !strcmp(dot, ".html")) {
            /* every script is an external module; no inline style or handler */
            const char *s = t;
            while ((s = strstr(s, "<script"))) {
                const char *end = strchr(s, '>');
                CHECK(end && memmem(s, (size_t)(end - s), " src=", 5) != NULL);
                CHECK(end && !strncmp(end, "></script>", 10));
                s++;
            }
            CHECK(!strstr(t, "style=") && !strstr(t, "<style") && !strstr(t, " onclick="));
        } else if (dot && !strcmp(dot, ".js")) {
            /* data goes in as text: no HTML parsing of strings, no eval */
            CHECK(!has_code(t, "innerHTML") && !has_code(t, "outerHTML") &&
                  !has_code(t, "insertAdjacentHTML") && !has_code(t, "document.write") &&
                  !has_code(t, "eval(") && !has_code(t, "new Function"));
            CHECK(!has_code(t, ".style.") && !has_code(t, "'style'"));
        }
    }
}
