/*
 * test_full_disk.c — `vigie server` with its data directory on a small tmpfs that fills up
 * while a TCP sender streams: intake stops (the sender is held, nothing is dropped), the
 * store keeps its data intact, and once space returns every line is stored, exactly once.
 *
 * Needs root (mount); skipped otherwise. The work runs in a child process in its own mount
 * namespace, so the tmpfs vanishes with it whatever happens; the host's mounts are untouched.
 */
#include "query/query.h"
#include "server/server.h"
#include "vgtest.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINES 150000

struct sender {
    int port;
    atomic_int sent;
};

static void *send_lines(void *arg)
{
    struct sender *s = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        return NULL;
    }
    char line[256];
    for (int i = 0; i < LINES; i++) {
        int n = snprintf(line, sizeof(line),
                         "<13>Nov 20 10:00:00 host%d app[9]: full disk test line %07d %08x%08x "
                         "%08x%08x padding padding padding padding\n",
                         i % 13, i, (unsigned)i * 2654435761u, (unsigned)i * 40503u,
                         (unsigned)i * 69069u, (unsigned)i ^ 0x5bd1e995u);
        if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
            break;
        }
        atomic_fetch_add(&s->sent, 1);
    }
    close(fd);
    return NULL;
}

static uint64_t count(struct vg_server *s, const char *text)
{
    struct vg_query *q = NULL;
    char err[256];
    if (vg_query_parse(text, strlen(text), VG_TIME_NONE, &q, err, sizeof(err)) != VG_OK) {
        return UINT64_MAX;
    }
    struct vg_query_opts o = {.from = VG_TIME_NONE, .to = VG_TIME_NONE, .limit = SIZE_MAX};
    struct vg_query_stats st = {0};
    int rc = vg_query_run(q, vg_server_store(s), &o, &st, err, sizeof(err));
    vg_query_destroy(q);
    return rc == VG_OK ? st.matched : UINT64_MAX;
}

/* Fill the filesystem of dir, leaving about `leave` bytes free. */
static bool fill(const char *path, uint64_t leave)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[65536];
    memset(buf, 0x5a, sizeof(buf));
    for (;;) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "df -B1 --output=avail '%s' | tail -1", path);
        FILE *f = popen(cmd, "r");
        unsigned long long avail = 0;
        bool ok = f && fscanf(f, "%llu", &avail) == 1;
        if (f) {
            pclose(f);
        }
        if (!ok || avail <= leave + sizeof(buf)) {
            break;
        }
        if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
            break;
        }
    }
    close(fd);
    return fd >= 0;
}

/* The test proper, in the child: exit status 0 when every check passed. */
static int child(const char *mnt)
{
    char data[256], filler[256], err[512];
    snprintf(data, sizeof(data), "%s/data", mnt);
    snprintf(filler, sizeof(filler), "%s/filler", mnt);
    struct vg_server_conf c;
    struct vg_server *s = NULL;
    if (vg_server_conf_load(NULL, &c, err, sizeof(err)) != VG_OK) {
        return 10;
    }
    vg_free(c.data_dir);
    c.data_dir = vg_strdup(data);
    vg_free(c.http_listen);
    c.http_listen = vg_strdup("");
    vg_strlist_free(&c.syslog_udp);
    vg_strlist_free(&c.syslog_tcp);
    vg_strlist_add(&c.syslog_tcp, "127.0.0.1:0");
    c.rules_builtin = false;
    c.journal_segment_mb = 1;
    c.journal_max_lag_mb = 8;
    if (vg_server_create(&c, &s, err, sizeof(err)) != VG_OK ||
        vg_server_start(s, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return 11;
    }
    if (!fill(filler, 3u << 20)) { /* 3 MB left for ~30 MB of lines */
        return 12;
    }
    struct sender snd = {.port = vg_server_syslog_port(s, "tcp", 0)};
    pthread_t th;
    pthread_create(&th, NULL, send_lines, &snd);
    /* the disk fills: the store retries, the journal fills, the sender is held */
    struct vg_server_stats st = {0};
    for (int t = 0; t < 600 && !st.store_retries; t++) {
        usleep(50000);
        vg_server_get_stats(s, &st);
    }
    usleep(500000);
    int held = atomic_load(&snd.sent);
    fprintf(stderr, "  disk full after %llu stored; sender held at %d of %d lines\n",
            (unsigned long long)st.stored, held, LINES);
    int rc = st.store_retries ? 0 : 13;
    rc = rc ? rc : held < LINES ? 0 : 14;
    unlink(filler); /* space returns */
    pthread_join(th, NULL);
    for (int t = 0; t < 1200 && st.stored < LINES; t++) {
        usleep(50000);
        vg_server_get_stats(s, &st);
    }
    uint64_t n = count(s, "\"full disk test line\"");
    uint64_t first = count(s, "0000000"), last = count(s, "0149999");
    fprintf(stderr, "  after space returned: stored %llu, searchable %llu, retries %llu\n",
            (unsigned long long)st.stored, (unsigned long long)n,
            (unsigned long long)st.store_retries);
    rc = rc ? rc : n == LINES && first == 1 && last == 1 && st.stored == LINES ? 0 : 15;
    vg_server_destroy(s);
    vg_server_conf_fini(&c);
    return rc;
}

VG_TEST(full_disk_holds_intake_and_loses_nothing)
{
    if (geteuid() != 0) {
        VG_SKIP("needs root to mount a small tmpfs");
    }
    char mnt[] = "/tmp/vg-fulldisk-XXXXXX";
    CHECK(mkdtemp(mnt) != NULL);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /*
         * The tmpfs lives in the child's own mount namespace: it disappears with the child,
         * however the child ends (even killed by a test timeout); the host's mounts are never
         * touched.
         */
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("tmpfs", mnt, "tmpfs", 0, "size=64m") != 0) {
            _exit(99);
        }
        _exit(child(mnt));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    rmdir(mnt);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 99) {
        VG_SKIP("cannot make a mount namespace with a tmpfs");
    }
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}
