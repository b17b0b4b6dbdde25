/*
 * test_act_case.c — the case.* actions against a real case database in a temporary
 * directory: create (idempotent under the step's key: a re-run returns the same case),
 * comment, observable (case_id is not passed on as a field), task, status, link_alerts
 * without a store, field errors from the case module, and the result read back with
 * vg_case_get.
 */
#include "act_test.h"

#include "case/case.h"

#include <stdlib.h>
#include <unistd.h>

VG_TEST(case_actions_on_a_real_db)
{
    char dir[] = "/tmp/vg-act-case-XXXXXX", path[128], err[256] = "", in[512];
    struct vg_case_db *db = NULL;
    struct act_run ar;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/cases.db", dir);
    CHECK_EQ_INT(vg_case_db_open(path, NULL, NULL, &db, err, sizeof(err)), VG_OK);
    if (!db) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    struct vg_respond_services svc = {.cases = db};
    const char *create = "{\"title\":\"SSH brute force on web-1\",\"severity\":\"high\","
                         "\"tags\":[\"ssh\"]}";
    CHECK_EQ_INT(act_run_ex("case.create", create, &svc, 5000, "r-1/open", &ar), VG_OK);
    long long id = act_out_int(&ar, "case_id");
    CHECK(id > 0);
    act_done(&ar);
    CHECK_EQ_INT(act_run_ex("case.create", create, &svc, 5000, "r-1/open", &ar), VG_OK);
    CHECK_EQ_INT(act_out_int(&ar, "case_id"), id); /* a re-run creates no second case */
    act_done(&ar);
    CHECK_EQ_INT(act_run_ex("case.create", create, &svc, 5000, "r-2/open", &ar), VG_OK);
    CHECK(act_out_int(&ar, "case_id") != id);
    act_done(&ar);

    snprintf(in, sizeof(in), "{\"case_id\":%lld,\"text\":\"blocked **203.0.113.5**\"}", id);
    CHECK_EQ_INT(act_run_ex("case.comment", in, &svc, 5000, "r-1/c", &ar), VG_OK);
    CHECK(act_out_int(&ar, "comment_id") > 0);
    act_done(&ar);
    snprintf(in, sizeof(in), "{\"case_id\":\"%lld\",\"value\":\"203.0.113.5\",\"type\":\"ip\"}",
             id);
    CHECK_EQ_INT(act_run_ex("case.observable", in, &svc, 5000, "r-1/o", &ar), VG_OK);
    CHECK(act_out_int(&ar, "observable_id") > 0);
    act_done(&ar);
    snprintf(in, sizeof(in), "{\"case_id\":%lld,\"title\":\"Check other hosts\"}", id);
    CHECK_EQ_INT(act_run_ex("case.task", in, &svc, 5000, "r-1/t", &ar), VG_OK);
    CHECK(act_out_int(&ar, "task_id") > 0);
    act_done(&ar);
    snprintf(in, sizeof(in), "{\"case_id\":%lld,\"status\":\"in_progress\"}", id);
    CHECK_EQ_INT(act_run_ex("case.status", in, &svc, 5000, "r-1/s", &ar), VG_OK);
    CHECK_STR(act_out_str(&ar, "status"), "in_progress");
    act_done(&ar);

    struct vg_sbuf got = VG_SBUF_INIT;
    CHECK_EQ_INT(vg_case_get(db, "default", id, &got, err, sizeof(err)), VG_OK);
    CHECK(got.p && strstr(got.p, "\"in_progress\"") && strstr(got.p, "SSH brute force"));
    vg_sbuf_fini(&got);
    CHECK_EQ_INT(vg_case_observables_json(db, "default", id, &got, err, sizeof(err)), VG_OK);
    CHECK(got.p && strstr(got.p, "203.0.113.5"));
    vg_sbuf_fini(&got);

    /* errors: the case module names the field; a missing case is not retryable */
    snprintf(in, sizeof(in), "{\"case_id\":%lld,\"value\":\"x\",\"bogus\":1}", id);
    CHECK_EQ_INT(act_run("case.observable", in, &svc, 5000, &ar), VG_EINVAL);
    CHECK(strstr(ar.res.err, "bogus") != NULL && !ar.res.retryable);
    act_done(&ar);
    CHECK_EQ_INT(act_run("case.comment", "{\"case_id\":999999,\"text\":\"x\"}", &svc, 5000, &ar),
                 VG_ENOENT);
    CHECK(!ar.res.retryable);
    act_done(&ar);
    snprintf(in, sizeof(in), "{\"case_id\":%lld,\"alerts\":[\"x\"]}", id);
    CHECK_EQ_INT(act_run("case.link_alerts", in, &svc, 5000, &ar), VG_EINVAL);
    CHECK(strstr(ar.res.err, "'alerts' item 0") != NULL);
    act_done(&ar);
    snprintf(in, sizeof(in), "{\"case_id\":%lld,\"alerts\":[1,2]}", id);
    CHECK(act_run("case.link_alerts", in, &svc, 5000, &ar) != VG_OK); /* no store here */
    CHECK(!ar.res.retryable);
    act_done(&ar);

    vg_case_db_close(db);
    char cmd_path[160];
    const char *sfx[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(cmd_path, sizeof(cmd_path), "%s%s", path, sfx[i]);
        unlink(cmd_path);
    }
    CHECK(rmdir(dir) == 0);
}
