/*
 * test_inv.c — the inventory collector and its parsers: dpkg status parsing (fixtures with
 * malformed lines reported as PATH:LINE, not-installed paragraphs, Source without version,
 * this machine's real status file), rpm query output, passwd/group/modules tables; the
 * collector on fixture files written here: one full event per category and host facts on
 * start, then package installed/removed/upgraded and user added deltas after the files are
 * replaced (picked up by inotify, long before the periodic check).
 */
#include "agent/agent_inv.h"
#include "event/event.h"
#include "agent_sink.h"
#include "vgtest.h"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- fixtures */

static void put(const char *dir, const char *name, const char *text)
{
    char path[256], tmp[300];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    FILE *f = fopen(tmp, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    rename(tmp, path); /* as dpkg and shadow-utils replace their files */
}

static const char status_v1[] = "Package: libc6\n"
                                "Status: install ok installed\n"
                                "Priority: optional\n"
                                "Architecture: amd64\n"
                                "Source: glibc\n"
                                "Version: 2.36-9+deb12u4\n"
                                "Description: GNU C Library: Shared libraries\n"
                                " Contains the standard libraries.\n"
                                " .\n"
                                "\n"
                                "Package: bar\n"
                                "Status: install ok installed\n"
                                "Architecture: all\n"
                                "Source: barsrc (1.0-1)\n"
                                "Version: 1.0-1+b1\n"
                                "\n"
                                "Package: oldconf\n"
                                "Status: deinstall ok config-files\n"
                                "Version: 0.9\n"
                                "\n"
                                "this line is garbage\n"
                                "Package: noversion\n"
                                "Status: install ok installed\n";

static const char status_v2[] = "Package: libc6\n"
                                "Status: install ok installed\n"
                                "Architecture: amd64\n"
                                "Source: glibc\n"
                                "Version: 2.36-9+deb12u7\n"
                                "\n"
                                "Package: baz\n"
                                "Status: hold ok installed\n"
                                "Architecture: amd64\n"
                                "Version: 3.1\n";

/* ---------------------------------------------------------------- parsers */

VG_TEST(dpkg_fixture_parses_with_line_errors)
{
    struct vg_agent_pkgs l = {0};
    char err[256] = "";
    CHECK_EQ_INT(
        vg_agent_inv_dpkg_parse(status_v1, sizeof(status_v1) - 1, "status", &l, err, sizeof(err)),
        VG_OK);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(l.bad, 2); /* the garbage line and the package without Version */
    CHECK_STR(err, "status:21: expected 'Field: value'");
    const struct vg_agent_pkg *p = vg_agent_pkgs_find(&l, "libc6");
    CHECK(p != NULL);
    if (p) {
        CHECK_STR(p->version, "2.36-9+deb12u4");
        CHECK_STR(p->arch, "amd64");
        CHECK_STR(p->source, "glibc");
        CHECK_STR(p->type, "deb");
        CHECK_EQ_INT(p->line, 1);
    }
    p = vg_agent_pkgs_find(&l, "bar");
    CHECK(p && !strcmp(p->source, "barsrc"));
    CHECK(vg_agent_pkgs_find(&l, "oldconf") == NULL);
    vg_agent_pkgs_fini(&l);

    /* a NUL byte, CRLF, no final newline, an over-long version */
    static const char odd[] = "Package: a\r\nStatus: install ok installed\r\nVersion: 1\r\n\n"
                              "Package: b\0x\nStatus: install ok installed\nVersion: 2";
    CHECK_EQ_INT(vg_agent_inv_dpkg_parse(odd, sizeof(odd) - 1, "odd", &l, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_INT(l.bad, 1);
    CHECK_STR(err, "odd:5: field value too long or has a NUL byte");
    CHECK(vg_agent_pkgs_find(&l, "a") && !strcmp(vg_agent_pkgs_find(&l, "a")->version, "1"));
    vg_agent_pkgs_fini(&l);

    CHECK_EQ_INT(vg_agent_inv_dpkg_load("/nonexistent/status", &l, err, sizeof(err)), VG_ENOENT);
    CHECK(strstr(err, "/nonexistent/status") != NULL);
}

VG_TEST(dpkg_real_status_of_this_machine)
{
    struct vg_agent_pkgs l = {0};
    char err[256] = "";
    if (access("/var/lib/dpkg/status", R_OK) != 0) {
        VG_SKIP("no /var/lib/dpkg/status (not a dpkg system)");
    }
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(vg_agent_inv_dpkg_load("/var/lib/dpkg/status", &l, err, sizeof(err)), VG_OK);
    uint64_t t1 = vg_clock_ns();
    fprintf(stderr, "  /var/lib/dpkg/status: %zu packages in %.2f ms\n", l.n, (t1 - t0) / 1e6);
    CHECK(l.n > 100);
    CHECK_EQ_INT(l.bad, 0);
    const struct vg_agent_pkg *p = vg_agent_pkgs_find(&l, "libc6");
    CHECK(p && p->version[0] && p->source && !strcmp(p->source, "glibc"));
    vg_agent_pkgs_fini(&l);
}

VG_TEST(apk_installed_db_parses)
{
    /* two packages (CRLF in the second), a block without V:, a stray line, no final newline */
    static const char db[] = "C:Q1abc=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nS:407210\n"
                             "o:musl\nF:lib\nR:libc.musl-x86_64.so.1\n\n"
                             "P:libssl3\r\nV:3.1.4-r5\r\nA:x86_64\r\no:openssl\r\n\r\n"
                             "P:broken\nA:x86_64\n\n"
                             "not a key line\n\n"
                             "P:busybox\nV:1.36.1-r15\nA:x86_64";
    struct vg_agent_pkgs l = {0};
    char err[128] = "";
    CHECK_EQ_INT(vg_agent_inv_apk_parse(db, sizeof(db) - 1, "installed", &l, err, sizeof(err)),
                 VG_OK);
    CHECK_EQ_INT(l.n, 3);
    CHECK_EQ_INT(l.bad, 2);
    CHECK_STR(err, "installed:15: package without V: (version)");
    const struct vg_agent_pkg *p = vg_agent_pkgs_find(&l, "libssl3");
    CHECK(p && !strcmp(p->version, "3.1.4-r5") && !strcmp(p->arch, "x86_64") && p->source &&
          !strcmp(p->source, "openssl") && !strcmp(p->type, "apk"));
    p = vg_agent_pkgs_find(&l, "busybox");
    CHECK(p && !strcmp(p->version, "1.36.1-r15") && !p->source);
    CHECK(vg_agent_pkgs_find(&l, "musl") != NULL);
    vg_agent_pkgs_fini(&l);
    memset(&l, 0, sizeof(l));
    CHECK_EQ_INT(vg_agent_inv_apk_load("/nonexistent/apk/installed", &l, err, sizeof(err)),
                 VG_ENOENT);
    vg_agent_pkgs_fini(&l);
}

VG_TEST(rpm_output_parses)
{
    static const char out[] = "bash\t0:5.1.8-6.el9\tx86_64\n"
                              "kernel\t1:5.14.0-362\tx86_64\n"
                              "broken line\n"
                              "gpg-pubkey\t0:fd431d51-4ae0493b\t(none)\n";
    struct vg_agent_pkgs l = {0};
    char err[128] = "";
    CHECK_EQ_INT(vg_agent_inv_rpm_parse(out, sizeof(out) - 1, &l, err, sizeof(err)), VG_OK);
    CHECK_EQ_INT(l.n, 3);
    CHECK_EQ_INT(l.bad, 1);
    CHECK_STR(err, "rpm -qa:3: expected NAME\\tVERSION\\tARCH");
    CHECK(vg_agent_pkgs_find(&l, "bash") &&
          !strcmp(vg_agent_pkgs_find(&l, "bash")->version, "5.1.8-6.el9"));
    CHECK(vg_agent_pkgs_find(&l, "kernel") &&
          !strcmp(vg_agent_pkgs_find(&l, "kernel")->version, "1:5.14.0-362"));
    vg_agent_pkgs_fini(&l);
    int rc = vg_agent_inv_rpm_list(&l, err, sizeof(err));
    CHECK(rc == VG_OK || rc == VG_ENOENT);
    if (rc == VG_ENOENT) {
        CHECK_STR(err, "rpm: no rpm program installed");
    }
    vg_agent_pkgs_fini(&l);
}

VG_TEST(passwd_group_modules_parse)
{
    static const char pw[] = "root:x:0:0:root:/root:/bin/bash\n"
                             "# comment\n"
                             "alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh\n"
                             "bad:x:notanumber:0::/:/bin/sh\n"
                             "+::::::\n";
    struct vg_agent_inv_list l = {0};
    CHECK_EQ_INT(vg_agent_inv_passwd_parse(pw, sizeof(pw) - 1, "passwd", &l), VG_OK);
    CHECK_EQ_INT(l.n, 2);
    CHECK_EQ_INT(l.bad, 1);
    CHECK_STR(l.err, "passwd:4: expected name:password:uid:gid:gecos:home:shell");
    if (l.n == 2) {
        CHECK_STR(l.v[1].key, "alice");
        CHECK_STR(l.v[1].val[1], "1000");
        CHECK_STR(l.v[1].name[5], "shell");
        CHECK_STR(l.v[1].val[5], "/bin/zsh");
    }
    vg_agent_inv_list_fini(&l);

    static const char gr[] = "root:x:0:\nsudo:x:27:alice,bob\nbroken\n";
    CHECK_EQ_INT(vg_agent_inv_group_parse(gr, sizeof(gr) - 1, "group", &l), VG_OK);
    CHECK_EQ_INT(l.n, 2);
    CHECK(l.n == 2 && !strcmp(l.v[1].val[2], "alice,bob"));
    CHECK_STR(l.err, "group:3: expected name:password:gid:members");
    vg_agent_inv_list_fini(&l);

    if (access("/proc/modules", R_OK) == 0) { /* absent: kernel without loadable modules */
        CHECK_EQ_INT(vg_agent_inv_file_parse("/proc/modules", vg_agent_inv_modules_parse, &l),
                     VG_OK);
        CHECK_EQ_INT(l.bad, 0);
    }
    vg_agent_inv_list_fini(&l);
    static const char mods[] = "nf_tables 327680 3 nft_ct, Live 0x0000000000000000\n"
                               "x 1\n";
    CHECK_EQ_INT(vg_agent_inv_modules_parse(mods, sizeof(mods) - 1, "modules", &l), VG_OK);
    CHECK(l.n == 1 && !strcmp(l.v[0].key, "nf_tables") && !strcmp(l.v[0].val[1], "327680"));
    CHECK_EQ_INT(l.bad, 1);
    vg_agent_inv_list_fini(&l);

    CHECK_EQ_INT(vg_agent_inv_file_parse("/nonexistent/passwd", vg_agent_inv_passwd_parse, &l),
                 VG_ENOENT);
    vg_agent_inv_list_fini(&l);
}

/* ---------------------------------------------------------------- collector */

VG_TEST(collector_full_then_deltas)
{
    char dir[] = "/tmp/vg-inv-XXXXXX", conf[2048];
    CHECK(mkdtemp(dir) != NULL);
    put(dir, "status", status_v1);
    put(dir, "passwd", "root:x:0:0:root:/root:/bin/bash\n");
    put(dir, "group", "root:x:0:\n");
    put(dir, "modules", "ext4 999424 1 - Live 0x0\n");
    put(dir, "os-release",
        "PRETTY_NAME=\"Test Linux 1\"\nNAME=\"Test Linux\"\nID=testos\n"
        "VERSION_ID=\"1.2\"\nID_LIKE=debian\n");
    put(dir, "cpuinfo",
        "processor\t: 0\nmodel name\t: Test CPU @ 3GHz\n\n"
        "processor\t: 1\nmodel name\t: Test CPU @ 3GHz\n");
    put(dir, "meminfo", "MemTotal:        2048 kB\nMemFree: 1 kB\n");
    put(dir, "machine-id", "0123456789abcdef0123456789abcdef\n");
    snprintf(conf, sizeof(conf),
             "interval_ms: 600000\ndebounce_ms: 50\nrpm: false\n"
             "dpkg_status: %s/status\npasswd: %s/passwd\ngroup: %s/group\n"
             "modules: %s/modules\nos_release: %s/os-release\ncpuinfo: %s/cpuinfo\n"
             "meminfo: %s/meminfo\nmachine_id: %s/machine-id\n",
             dir, dir, dir, dir, dir, dir, dir, dir);
    struct vg_yaml_file *f = NULL;
    char err[512] = "";
    CHECK_EQ_INT(vg_yaml_parse(conf, strlen(conf), &f, err, sizeof(err)), VG_OK);
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector_opts o = {.conf = f->docs[0], .emit = sink_emit, .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    CHECK_EQ_INT(vg_agent_inv_collector.start(&o, &c, err, sizeof(err)), VG_OK);
    CHECK_STR(vg_agent_inv_collector.backend(c), "files");

    const char *pk[] = {"event.action",
                        "inventory_packages",
                        "event.category",
                        "package",
                        "inventory.count",
                        "2",
                        "inventory.errors",
                        "2",
                        NULL};
    char *e = sink_wait_copy(&s, pk);
    CHECK(e && strstr(e, "{\"name\":\"libc6\",\"version\":\"2.36-9+deb12u4\","
                         "\"architecture\":\"amd64\",\"type\":\"deb\",\"source\":\"glibc\"}"));
    CHECK(e && strstr(e, "\"inventory.error\":\"") && strstr(e, "/status:21: expected"));
    vg_free(e);
    const char *us[] = {
        "event.action", "inventory_users", "event.category", "iam", "inventory.count", "1", NULL};
    e = sink_wait_copy(&s, us);
    CHECK(e && strstr(e, "\"users\":[{\"name\":\"root\",\"id\":\"0\""));
    vg_free(e);
    const char *gr[] = {"event.action", "inventory_groups", "inventory.count", "1", NULL};
    const char *md[] = {"event.action",
                        "inventory_kernel_modules",
                        "event.category",
                        "driver",
                        "inventory.count",
                        "1",
                        NULL};
    const char *host[] = {"event.action",
                          "inventory_host",
                          "host.os.name",
                          "Test Linux",
                          "host.os.version",
                          "1.2",
                          "host.os.family",
                          "debian",
                          "host.cpu.model",
                          "Test CPU @ 3GHz",
                          "host.cpu.count",
                          "2",
                          "host.memory.total",
                          "2097152",
                          "host.id",
                          "0123456789abcdef0123456789abcdef",
                          NULL};
    CHECK((e = sink_wait_copy(&s, gr)) != NULL);
    vg_free(e);
    CHECK((e = sink_wait_copy(&s, md)) != NULL);
    vg_free(e);
    CHECK((e = sink_wait_copy(&s, host)) != NULL);
    CHECK(e && strstr(e, "\"host.os.kernel\":") && strstr(e, "\"host.hostname\":"));
    vg_free(e);

    /* dpkg replaces its status file; a user is added */
    put(dir, "status", status_v2);
    put(dir, "passwd", "root:x:0:0:root:/root:/bin/bash\nmallory:x:0:0::/tmp:/bin/sh\n");
    const char *up[] = {"event.action",
                        "package_upgraded",
                        "event.type",
                        "change",
                        "package.name",
                        "libc6",
                        "package.version",
                        "2.36-9+deb12u7",
                        "package.previous.version",
                        "2.36-9+deb12u4",
                        NULL};
    const char *rm[] = {"event.action", "package_removed", "event.type", "deletion", "package.name",
                        "bar",          "package.version", "1.0-1+b1",   NULL};
    const char *in[] = {"event.action",
                        "package_installed",
                        "event.type",
                        "installation",
                        "package.name",
                        "baz",
                        "package.architecture",
                        "amd64",
                        NULL};
    const char *ua[] = {
        "event.action", "user_added", "event.category", "iam",     "user.name", "mallory",
        "user.id",      "0",          "user.shell",     "/bin/sh", NULL};
    CHECK((e = sink_wait_copy(&s, up)) != NULL);
    vg_free(e);
    CHECK((e = sink_wait_copy(&s, rm)) != NULL);
    vg_free(e);
    CHECK((e = sink_wait_copy(&s, in)) != NULL);
    vg_free(e);
    CHECK((e = sink_wait_copy(&s, ua)) != NULL);
    vg_free(e);
    usleep(200000);
    CHECK_EQ_INT(sink_count(&s, host), 1); /* host facts unchanged: not sent again */
    CHECK_EQ_INT(sink_count(&s, up), 1);   /* one delta per change */

    struct vg_sbuf st = VG_SBUF_INIT;
    vg_agent_inv_collector.stats(c, &st);
    CHECK(st.p && strstr(st.p, "\"inotify\":true") && !strstr(st.p, "\"triggers\":0,"));
    vg_sbuf_fini(&st);
    vg_agent_inv_collector.stop(c);
    vg_yaml_file_destroy(f);
    sink_fini(&s);
    const char *names[] = {"status",  "passwd",  "group",      "modules",
                           "cpuinfo", "meminfo", "os-release", "machine-id"};
    for (size_t i = 0; i < VG_ARRAY_LEN(names); i++) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

VG_TEST(collector_on_this_machine)
{
    struct sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct vg_agent_collector_opts o = {.emit = sink_emit, .emit_ctx = &s};
    struct vg_agent_collector *c = NULL;
    char err[256];
    CHECK_EQ_INT(vg_agent_inv_collector.start(&o, &c, err, sizeof(err)), VG_OK);
    const char *pk[] = {"event.action", "inventory_packages", NULL};
    char *e = sink_wait_copy(&s, pk);
    CHECK(e && strstr(e, "{\"name\":\"libc6\","));
    vg_free(e);
    const char *us[] = {"event.action", "inventory_users", NULL};
    e = sink_wait_copy(&s, us);
    CHECK(e && strstr(e, "{\"name\":\"root\",\"id\":\"0\","));
    vg_free(e);
    vg_agent_inv_collector.stop(c);
    sink_fini(&s);
}
