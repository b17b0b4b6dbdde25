/*
 * srv_test.h — a `vigie server` under test, shared by the server's REST tests: defaults in a
 * mkdtemp directory, the HTTP API on an ephemeral loopback port, no syslog listeners, one
 * token per role (ingest, read, analyst, admin), and a bearer-authenticated HTTP call.
 * srv_prepare() fills the configuration; the test adjusts it; srv_start() starts the server.
 */
#ifndef VG_SRV_TEST_H
#define VG_SRV_TEST_H

#include "../api/api_test.h"
#include "server/server.h"

#include <stdlib.h>

struct srv {
    char dir[64];
    struct vg_server_conf c;
    struct vg_server *s;
    int port;
    char ingest[VG_API_TOKEN_SIZE], reader[VG_API_TOKEN_SIZE], analyst[VG_API_TOKEN_SIZE],
        admin[VG_API_TOKEN_SIZE];
};

static inline bool srv_token(struct srv *v, const char *name, int role, char *tok)
{
    struct vg_api_auth *a = NULL;
    char err[256];
    bool ok = vg_api_auth_open(v->dir, &a, err, sizeof(err)) == VG_OK &&
              vg_api_token_create(a, name, role, "default", VG_TIME_NONE, tok, VG_API_TOKEN_SIZE) ==
                  VG_OK;
    vg_api_auth_close(a);
    return ok;
}

/* Defaults, data in a fresh /tmp/vg-<tag>-XXXXXX, HTTP on 127.0.0.1:0, no syslog. */
static inline bool srv_prepare(struct srv *v, const char *tag)
{
    char err[512];
    memset(v, 0, sizeof(*v));
    snprintf(v->dir, sizeof(v->dir), "/tmp/vg-%s-XXXXXX", tag);
    if (!mkdtemp(v->dir) || vg_server_conf_load(NULL, &v->c, err, sizeof(err)) != VG_OK) {
        return false;
    }
    vg_free(v->c.data_dir);
    v->c.data_dir = vg_strdup(v->dir);
    vg_free(v->c.http_listen);
    v->c.http_listen = vg_strdup("127.0.0.1:0");
    vg_strlist_free(&v->c.syslog_udp);
    vg_strlist_free(&v->c.syslog_tcp);
    return true;
}

/* Tokens for every role, then create and start the server. */
static inline bool srv_start(struct srv *v)
{
    char err[512] = "";
    if (!srv_token(v, "collector", VG_API_ROLE_INGEST, v->ingest) ||
        !srv_token(v, "reader", VG_API_ROLE_READ, v->reader) ||
        !srv_token(v, "analyst", VG_API_ROLE_ANALYST, v->analyst) ||
        !srv_token(v, "admin", VG_API_ROLE_ADMIN, v->admin) ||
        vg_server_create(&v->c, &v->s, err, sizeof(err)) != VG_OK ||
        vg_server_start(v->s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return false;
    }
    v->port = vg_server_http_port(v->s);
    return v->port > 0;
}

static inline void srv_close(struct srv *v)
{
    vg_server_destroy(v->s);
    vg_server_conf_fini(&v->c);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "  cannot remove %s\n", v->dir);
    }
}

static inline int call(struct srv *v, const char *tok, const char *method, const char *path,
                       const char *body, struct hresp *r)
{
    char h[256] = "";
    if (tok) {
        snprintf(h, sizeof(h), "Authorization: Bearer %s\r\n", tok);
    }
    return http1(v->port, method, path, h, body, r);
}

#endif
