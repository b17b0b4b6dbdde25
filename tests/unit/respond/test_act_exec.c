/*
 * test_act_exec.c — exec.responder with small responder scripts this test writes into a
 * temporary responders directory: the JSON round trip over stdin/stdout (idempotency_key and
 * run_id added), hostile arguments staying argv (no shell), a clean environment, non-zero
 * exit and Cortex success:false as failures with the message, output that is not JSON, the
 * deadline killing the whole process group (also a responder ignoring SIGTERM), names with
 * '/' or '..' and programs outside the directory refused.
 */
#include "act_test.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[128];

static void script(const char *name, const char *body, int mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "#!/bin/sh\n%s\n", body);
        fclose(f);
        chmod(path, (mode_t)mode);
    }
}

static bool setup(struct vg_respond_services *svc)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/vg-act-exec-XXXXXX");
        if (!mkdtemp(dir)) {
            return false;
        }
        script("echo.sh",
               "in=$(cat)\nprintf '%s\\n' \"$@\" > args.txt\nenv | sort > env.txt\n"
               "printf '{\"success\":true,\"full\":%s,\"argc\":%d}' \"$in\" \"$#\"",
               0755);
        script("fail.sh", "echo 'boom: the firewall API said no' >&2\necho second line >&2\nexit 3",
               0755);
        script("cortexfail.sh",
               "cat >/dev/null\necho '{\"success\":false,\"errorMessage\":\"no such user\"}'",
               0755);
        script("notjson.sh", "echo 'done!'", 0755);
        script("slow.sh", "sleep 30 &\necho $! > slow.pid\nwait", 0755);
        script("stubborn.sh", "trap '' TERM\nsleep 30 &\necho $! > stubborn.pid\nwait\nwait", 0755);
        script("noexec.sh", "echo '{}'", 0644);
        script("noread.sh", "exec sleep 0.2; echo '{}'", 0755);
    }
    *svc = (struct vg_respond_services){.responders_dir = dir};
    return true;
}

static bool pid_gone(const char *pidfile)
{
    char path[256], buf[64] = "", stat[512] = "";
    snprintf(path, sizeof(path), "%s/%s", dir, pidfile);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof(buf), f)) {
        if (f) {
            fclose(f);
        }
        return false;
    }
    fclose(f);
    int64_t pid = 0;
    if (vg_parse_i64(buf, strcspn(buf, "\r\n"), &pid) != VG_OK || pid <= 0 || pid > INT32_MAX) {
        return false; /* not a pid: nothing says it is gone */
    }
    snprintf(path, sizeof(path), "/proc/%" PRId64 "/stat", pid);
    for (int i = 0; i < 50; i++) { /* the orphan is reaped by init: give it a moment */
        f = fopen(path, "r");
        if (!f) {
            return true;
        }
        bool zombie = fgets(stat, sizeof(stat), f) && strstr(stat, ") Z ");
        fclose(f);
        if (zombie) {
            return true;
        }
        usleep(20000);
    }
    return false;
}

static char *slurp(const char *name)
{
    char path[256], *text = NULL;
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return vg_file_read(path, 1 << 20, &text, &len) == VG_OK ? text : NULL;
}

VG_TEST(exec_json_round_trip_and_argv)
{
    struct vg_respond_services svc;
    struct act_run ar;
    CHECK(setup(&svc));
    setenv("VG_TEST_SECRET", "hunter2", 1);
    CHECK_EQ_INT(
        act_run("exec.responder",
                "{\"program\":\"echo.sh\",\"args\":[\"$(touch pwned)\",\"; rm -rf /\","
                "\"a b\",\"`id`\"],\"input\":{\"ip\":\"203.0.113.5\",\"run_id\":\"fake\"}}",
                &svc, 5000, &ar),
        VG_OK);
    CHECK_EQ_INT(act_out_int(&ar, "argc"), 4);
    const struct vg_json *full = ar.out ? vg_json_get(ar.out, "full") : NULL;
    CHECK(full && vg_json_str_is(vg_json_get(full, "ip"), "203.0.113.5"));
    CHECK(full && vg_json_str_is(vg_json_get(full, "idempotency_key"), "r-42/s1"));
    CHECK(full && vg_json_str_is(vg_json_get(full, "run_id"), "r-42"));
    act_done(&ar);

    char *args = slurp("args.txt"), *env = slurp("env.txt");
    CHECK_STR(args, "$(touch pwned)\n; rm -rf /\na b\n`id`\n");
    char pwned[256];
    snprintf(pwned, sizeof(pwned), "%s/pwned", dir);
    CHECK(access(pwned, F_OK) != 0);
    CHECK(env && strstr(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n") != NULL);
    CHECK(env && strstr(env, "VIGIE_IDEMPOTENCY_KEY=r-42/s1\n") != NULL);
    CHECK(env && strstr(env, "VIGIE_RUN_ID=r-42\n") != NULL);
    CHECK(env && !strstr(env, "hunter2") && !strstr(env, "HOME="));
    vg_free(args);
    vg_free(env);
}

VG_TEST(exec_failures_carry_the_reason)
{
    struct vg_respond_services svc;
    struct act_run ar;
    CHECK(setup(&svc));
    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"fail.sh\"}", &svc, 5000, &ar), VG_ERROR);
    CHECK_STR(ar.res.err,
              "responder \"fail.sh\" exited with status 3: boom: the firewall API said no");
    CHECK(!ar.res.retryable);
    act_done(&ar);

    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"cortexfail.sh\"}", &svc, 5000, &ar),
                 VG_ERROR);
    CHECK(strstr(ar.res.err, "reported failure: no such user") != NULL);
    act_done(&ar);

    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"notjson.sh\"}", &svc, 5000, &ar),
                 VG_ERROR);
    CHECK(strstr(ar.res.err, "did not print one JSON object") != NULL);
    act_done(&ar);

    /* a responder that never reads its stdin: no SIGPIPE here, a clean failure */
    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"noread.sh\"}", &svc, 5000, &ar),
                 VG_ERROR);
    act_done(&ar);

    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"noexec.sh\"}", &svc, 5000, &ar),
                 VG_ENOENT);
    CHECK(strstr(ar.res.err, "not an executable file") != NULL);
    act_done(&ar);
    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"missing\"}", &svc, 5000, &ar),
                 VG_ENOENT);
    act_done(&ar);
    const char *bad[] = {"{\"program\":\"../echo.sh\"}", "{\"program\":\"sub/echo.sh\"}",
                         "{\"program\":\"/bin/sh\"}", "{\"program\":\"..\"}",
                         "{\"program\":\".hidden\"}"};
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        CHECK_EQ_INT(act_run("exec.responder", bad[i], &svc, 5000, &ar), VG_EINVAL);
        CHECK(strstr(ar.res.err, "bare responder name") != NULL);
        act_done(&ar);
    }
}

VG_TEST(exec_deadline_kills_the_group)
{
    struct vg_respond_services svc;
    struct act_run ar;
    CHECK(setup(&svc));
    uint64_t t0 = vg_clock_ns();
    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"slow.sh\"}", &svc, 300, &ar),
                 VG_ETIMEOUT);
    uint64_t took = vg_clock_ns() - t0;
    CHECK(ar.res.retryable);
    CHECK(took >= 290000000u && took < 1500000000u);
    CHECK(pid_gone("slow.pid")); /* the grandchild (sleep) died with its group */
    act_done(&ar);

    /* SIGTERM ignored: SIGKILL follows 2 s later */
    t0 = vg_clock_ns();
    CHECK_EQ_INT(act_run("exec.responder", "{\"program\":\"stubborn.sh\"}", &svc, 300, &ar),
                 VG_ETIMEOUT);
    took = vg_clock_ns() - t0;
    CHECK(took >= 2200000000u && took < 4000000000u);
    CHECK(pid_gone("stubborn.pid"));
    act_done(&ar);
}

VG_TEST(zz_cleanup)
{
    static const char *const files[] = {"echo.sh",  "fail.sh",     "cortexfail.sh", "notjson.sh",
                                        "slow.sh",  "stubborn.sh", "noexec.sh",     "noread.sh",
                                        "args.txt", "env.txt",     "slow.pid",      "stubborn.pid"};
    char path[256];
    for (size_t i = 0; dir[0] && i < VG_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    CHECK(!dir[0] || rmdir(dir) == 0);
}
