/*
 * test_net.c — the network collector on real sockets: the test listens on 127.0.0.1 with a
 * port of its own (port 0 → the kernel's pick), connects to it and accepts, and both
 * backends ("sock_diag", "procfs") must report the listening socket, the outbound and the
 * inbound connection, each owned by this process, then their closing. Only events on the
 * test's own port count (the machine is shared). Also: /proc/net table parsing (IPv4, IPv6,
 * malformed lines), the inode → pid map, configuration errors and an unknown backend.
 */
#include "agent/agent_net.h"
#include "event/event.h"
#include "agent_sink.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---------------------------------------------------------------- helpers */

static struct vg_yaml_file *yaml(const char *text)
{
    struct vg_yaml_file *f = NULL;
    char err[128];
    if (vg_yaml_parse(text, strlen(text), &f, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  yaml: %s\n", err);
    }
    return f;
}

static int listen_local(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static int connect_local(uint16_t port, uint16_t *cport)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    socklen_t sl = sizeof(sa);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        return -1;
    }
    *cport = ntohs(sa.sin_port);
    return fd;
}

/* ---------------------------------------------------------------- end to end */

static void run_backend(const char *backend)
{
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_yaml_file *f = yaml("interval_ms: 100\nreport_existing: false\n");
    struct vg_agent_collector_opts o = {
        .conf = f->docs[0], .force_backend = backend, .emit = sink_emit, .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    char err[512] = "", pid[16], port[8], cport[8];
    int rc = vg_agent_net_collector.start(&o, &c, err, sizeof(err));
    if (rc == VG_EUNSUPPORTED) {
        vg_yaml_file_destroy(f);
        fprintf(stderr, "  skipped %s: %s\n", backend, err);
        VG_SKIP("backend unavailable here");
    }
    if (rc != VG_OK) {
        fprintf(stderr, "  start: %s\n", err);
        CHECK_EQ_INT(rc, VG_OK);
        vg_yaml_file_destroy(f);
        return;
    }
    CHECK_STR(vg_agent_net_collector.backend(c), backend);
    usleep(250000); /* a baseline snapshot first */

    uint16_t lp = 0, cp = 0;
    int lfd = listen_local(&lp);
    int cfd = lfd >= 0 ? connect_local(lp, &cp) : -1;
    int afd = cfd >= 0 ? accept(lfd, NULL, NULL) : -1;
    CHECK(lfd >= 0 && cfd >= 0 && afd >= 0);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    snprintf(port, sizeof(port), "%u", lp);
    snprintf(cport, sizeof(cport), "%u", cp);

    const char *listening[] = {
        "event.action",   "listening",         "source.port", port,          "source.ip",
        "127.0.0.1",      "network.transport", "tcp",         "process.pid", pid,
        "event.category", "network",           NULL};
    const char *outbound[] = {"event.action",
                              "connection_opened",
                              "source.port",
                              cport,
                              "destination.port",
                              port,
                              "destination.ip",
                              "127.0.0.1",
                              "network.direction",
                              "outbound",
                              "process.pid",
                              pid,
                              NULL};
    const char *inbound[] = {"event.action",
                             "connection_opened",
                             "source.port",
                             cport,
                             "destination.port",
                             port,
                             "network.direction",
                             "inbound",
                             "process.pid",
                             pid,
                             NULL};
    CHECK(sink_wait(&s, listening));
    CHECK(sink_wait(&s, outbound));
    CHECK(sink_wait(&s, inbound));
    char uid[16];
    snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
    const char *named[] = {"source.port", port, "user.id", uid, "event.dataset", "network", NULL};
    CHECK(sink_count(&s, named) >= 1);
    CHECK_EQ_INT(sink_count(&s, listening), 1); /* reported once, not at every snapshot */

    close(afd);
    close(cfd);
    close(lfd);
    const char *lclosed[] = {
        "event.action", "listen_closed", "source.port", port, "process.pid", pid, NULL};
    const char *cclosed[] = {"event.action",
                             "connection_closed",
                             "destination.port",
                             port,
                             "network.direction",
                             "outbound",
                             NULL};
    CHECK(sink_wait(&s, lclosed));
    CHECK(sink_wait(&s, cclosed));

    struct vg_sbuf st = VG_SBUF_INIT;
    vg_agent_net_collector.stats(c, &st);
    CHECK(st.p && strstr(st.p, "\"snapshots\":") && strstr(st.p, backend));
    vg_sbuf_fini(&st);
    vg_agent_net_collector.stop(c);
    vg_yaml_file_destroy(f);
    sink_fini(&s);
}

VG_TEST(sock_diag_reports_own_connections)
{
    run_backend("sock_diag");
}

VG_TEST(procfs_reports_own_connections)
{
    run_backend("procfs");
}

VG_TEST(best_backend_is_sock_diag_here)
{
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector_opts o = {.emit = sink_emit, .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    char err[512];
    CHECK_EQ_INT(vg_agent_net_collector.start(&o, &c, err, sizeof(err)), VG_OK);
    CHECK_STR(vg_agent_net_collector.backend(c), "sock_diag");
    vg_agent_net_collector.stop(c);
    vg_agent_net_collector.stop(NULL);
    sink_fini(&s);
}

/* ---------------------------------------------------------------- errors */

VG_TEST(unknown_backend_and_bad_conf)
{
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector_opts o = {.force_backend = "ebpf", .emit = sink_emit, .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    char err[512] = "";
    CHECK_EQ_INT(vg_agent_net_collector.start(&o, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "unknown backend 'ebpf'") != NULL);

    struct vg_yaml_file *f = yaml("interval_ms: 100\ninterval: 5s\n");
    o.force_backend = NULL;
    o.conf = f->docs[0];
    CHECK_EQ_INT(vg_agent_net_collector.start(&o, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, ":2: unknown configuration key 'network.interval'") != NULL);
    vg_yaml_file_destroy(f);

    f = yaml("interval_ms: 1\n");
    o.conf = f->docs[0];
    CHECK_EQ_INT(vg_agent_net_collector.start(&o, &c, err, sizeof(err)), VG_EINVAL);
    CHECK(strstr(err, "network.interval_ms") != NULL);
    vg_yaml_file_destroy(f);
    sink_fini(&s);
}

/* ---------------------------------------------------------------- parsers */

VG_TEST(proc_net_tables_parse)
{
    static const char tcp[] =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 "
        "       0 4242 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0 "
        "       0 4343 1 0000000000000000 20 4 30 10 -1\n"
        "   2: 0100007F:C351 0100007F:1F90 06 00000000:00000000 00:00000000 00000000     0 "
        "       0 0 1\n"
        "   3: garbage\n"
        "   4: 0100007Z:1F90 00000000:0000 0A 0 0 0 1000 0 99\n";
    struct vg_agent_net_snap s = {0};
    size_t bad = 0;
    CHECK_EQ_INT(vg_agent_net_proc_parse(tcp, sizeof(tcp) - 1, AF_INET, IPPROTO_TCP, &s, &bad),
                 VG_OK);
    CHECK_EQ_INT(s.n, 2); /* TIME_WAIT (06) is not reported */
    CHECK_EQ_INT(bad, 2);
    if (s.n == 2) {
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, s.v[0].src, ip, sizeof(ip));
        CHECK_STR(ip, "127.0.0.1");
        CHECK_EQ_INT(s.v[0].sport, 8080);
        CHECK(s.v[0].listening);
        CHECK_EQ_INT(s.v[0].uid, 1000);
        CHECK_EQ_INT(s.v[0].inode, 4242);
        CHECK_EQ_INT(s.v[1].dport, 8080);
        CHECK(!s.v[1].listening);
    }
    vg_agent_net_snap_fini(&s);

    static const char tcp6[] =
        "  sl  local_address                         remote_address                        st\n"
        "   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A "
        "00000000:00000000 00:00000000 00000000     0        0 777 1\n";
    CHECK_EQ_INT(vg_agent_net_proc_parse(tcp6, sizeof(tcp6) - 1, AF_INET6, IPPROTO_TCP, &s, NULL),
                 VG_OK);
    CHECK_EQ_INT(s.n, 1);
    if (s.n == 1) {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, s.v[0].src, ip, sizeof(ip));
        CHECK_STR(ip, "::1");
        CHECK_EQ_INT(s.v[0].sport, 22);
    }
    vg_agent_net_snap_fini(&s);
}

VG_TEST(owner_map_finds_own_socket)
{
    uint16_t port;
    int fd = listen_local(&port);
    CHECK(fd >= 0);
    struct vg_agent_net_snap s = {0};
    char err[256];
    CHECK_EQ_INT(vg_agent_net_diag_snapshot(&s, err, sizeof(err)), VG_OK);
    uint64_t inode = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.v[i].listening && s.v[i].sport == port && s.v[i].proto == IPPROTO_TCP) {
            inode = s.v[i].inode;
        }
    }
    CHECK(inode != 0);
    struct vg_agent_net_owners *ow = vg_agent_net_owners_create();
    CHECK_EQ_INT(vg_agent_net_owners_refresh(ow), VG_OK);
    CHECK_EQ_INT(vg_agent_net_owners_get(ow, inode), getpid());
    CHECK_EQ_INT(vg_agent_net_owners_get(ow, 0), 0);
    vg_agent_net_owners_destroy(ow);
    vg_agent_net_snap_fini(&s);
    close(fd);
}
