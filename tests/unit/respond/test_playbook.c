/*
 * test_playbook.c — the playbook parser: a good playbook in full, and bad ones, each with the
 * exact message (file:line: field: reason); trigger matching with its explanations.
 */
#include <string.h>

#include "respond/respond_int.h"
#include "vgtest.h"

static const char good[] =
    "id: ssh-bruteforce\n"
    "name: SSH brute force\n"
    "description: block and open a case\n"
    "version: 3\n"
    "triggers:\n"
    "  - {on: alert, rule: 'ssh-*', level: '>=high'}\n"
    "  - {on: alert, tag: attack.t1110}\n"
    "  - {on: incident, min_risk: 100}\n"
    "  - {on: manual}\n"
    "condition: exists alert.source.ip\n"
    "inputs:\n"
    "  duration: 1h\n"
    "timeout: 10m\n"
    "steps:\n"
    "  - id: facts\n"
    "    action: set\n"
    "    with: {ip: '{{ alert.source.ip }}', n: 3}\n"
    "  - parallel:\n"
    "      - id: note\n"
    "        action: log\n"
    "        with: {message: 'saw {{ steps.facts.output.ip }}'}\n"
    "      - id: wait\n"
    "        action: sleep\n"
    "        with: {ms: 1}\n"
    "        timeout: 500ms\n"
    "        retry: {max: 2, backoff: {initial: 10ms, factor: 3, max_delay: 1s}}\n"
    "  - id: approve-block\n"
    "    approval: {approvers: analyst, timeout: 1h, default: deny, message: 'Block {{ "
    "steps.facts.output.ip }}?'}\n"
    "  - id: done\n"
    "    action: noop\n"
    "    when: steps.note.status == 'succeeded'\n"
    "    on_failure: continue\n";

VG_TEST(good_playbook)
{
    struct vg_playbook *pb = NULL;
    char err[512] = "";
    int rc = vg_playbook_parse("ssh.yml", good, strlen(good), &pb, err, sizeof(err));
    CHECK_EQ_INT(rc, VG_OK);
    if (rc != VG_OK) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_STR(pb->id, "ssh-bruteforce");
    CHECK_EQ_INT(pb->version, 3);
    CHECK_EQ_INT(pb->ntriggers, 4);
    CHECK_EQ_INT(pb->triggers[0].min_level, 4);
    CHECK_EQ_INT(pb->triggers[2].min_risk, 100);
    CHECK_EQ_INT(pb->nsteps, 5);
    CHECK_EQ_INT(pb->nstages, 4);
    CHECK_EQ_INT(pb->steps[1].stage, 1);
    CHECK_EQ_INT(pb->steps[2].stage, 1);
    CHECK_EQ_INT(pb->steps[2].timeout_ns, 500000000LL);
    CHECK_EQ_INT(pb->steps[2].retry_max, 2);
    CHECK_EQ_INT(pb->steps[2].backoff_initial_ns, 10000000LL);
    CHECK(pb->steps[3].approval);
    CHECK_EQ_INT(pb->steps[3].approver_role, 3);
    CHECK(pb->steps[4].on_failure_continue);
    CHECK_EQ_INT(pb->steps[0].timeout_ns, 30000000000LL);
    CHECK_EQ_INT(pb->timeout_ns, 600000000000LL);
    vg_playbook_unref(pb);
}

struct bad_case {
    const char *yaml;
    const char *err;
};

#define HDR "id: p\ntriggers: [{on: manual}]\n"

static const struct bad_case bad[] = {
    {"id: p\nsteps: [{id: a, action: noop}]\n",
     "t.yml:1: triggers: missing (required; {on: manual} for manual only)"},
    {"triggers: [{on: manual}]\nsteps: [{id: a, action: noop}]\n",
     "t.yml:1: id: missing (required)"},
    {"id: 'bad id'\ntriggers: [{on: manual}]\nsteps: [{id: a, action: noop}]\n",
     "t.yml:1: id: expected letters, digits, _ - . (<= 64)"},
    {HDR "colour: red\nsteps: [{id: a, action: noop}]\n",
     "t.yml:3: playbook: unknown field 'colour'"},
    {HDR, "t.yml:1: steps: missing (required)"},
    {HDR "steps: []\n", "t.yml:3: steps: expected a list of steps"},
    {"id: p\ntriggers:\n  - on: email\nsteps: [{id: a, action: noop}]\n",
     "t.yml:3: triggers[0].on: expected alert, incident or manual"},
    {"id: p\ntriggers:\n  - {on: alert, level: huge}\nsteps: [{id: a, action: noop}]\n",
     "t.yml:3: triggers[0].level: expected a level (>=high; informational, low, medium, high, "
     "critical or 1-5)"},
    {"id: p\ntriggers:\n  - {on: alert, rulez: x}\nsteps: [{id: a, action: noop}]\n",
     "t.yml:3: triggers[0]: unknown field 'rulez'"},
    {HDR "steps:\n  - id: a\n    action: nope.nope\n",
     "t.yml:5: steps[0].action: unknown action 'nope.nope' (see `vigie playbook actions`)"},
    {HDR "steps:\n  - id: a\n    action: log\n",
     "t.yml:4: steps[0].with.message: missing (required by log)"},
    {HDR "steps:\n  - id: a\n    action: log\n    with: {message: hi, level: 3}\n",
     "t.yml:6: steps[0].with.level: unknown parameter of log"},
    {HDR "steps:\n  - id: a\n    action: sleep\n    with: {ms: soon}\n",
     "t.yml:6: steps[0].with.ms: expected an integer"},
    {HDR "steps:\n  - {id: a, action: noop}\n  - {id: a, action: noop}\n",
     "t.yml:5: steps[1].id: duplicate step id 'a'"},
    {HDR "steps:\n  - {id: a, action: noop}\n  - {id: b, action: noop}\n  - id: c\n    action: "
         "noop\n    retry: {max: 50}\n",
     "t.yml:8: steps[2].retry.max: expected an integer 0-20"},
    {HDR "steps:\n  - id: a\n    action: noop\n    timeout: soon\n",
     "t.yml:6: steps[0].timeout: expected a duration (500ms, 30s, 5m, 1h)"},
    {HDR "steps:\n  - id: a\n    action: noop\n    on_failure: retry\n",
     "t.yml:6: steps[0].on_failure: expected stop or continue"},
    {HDR "steps:\n  - id: a\n    action: log\n    with: {message: '{{ steps.b.output.x }}'}\n  - "
         "{id: b, action: noop}\n",
     "t.yml:6: steps[0].with: step 'b' does not run before this step"},
    {HDR "steps:\n  - parallel:\n    - {id: a, action: set, with: {x: 1}}\n    - {id: b, action: "
         "log, with: {message: '{{ steps.a.output.x }}'}}\n",
     "t.yml:6: steps[0].parallel[1].with: step 'a' does not run before this step"},
    {HDR "steps:\n  - id: a\n    action: noop\n    when: steps.a.status == 'x'\n",
     "t.yml:6: steps[0].when: step 'a' does not run before this step"},
    {HDR "steps:\n  - id: a\n    action: log\n    with: {message: '{{ secrets.x }}'}\n",
     "t.yml:6: steps[0].with: unknown variable 'secrets' (alert, incident, case, inputs, steps, "
     "run, now)"},
    {HDR "steps:\n  - id: a\n    action: log\n    with: {message: '{{ alert.x | eval }}'}\n",
     "t.yml:6: steps[0].with: unknown filter 'eval' (default, lower, upper, json, join)"},
    {HDR "condition: alert.level = 'high'\nsteps: [{id: a, action: noop}]\n",
     "t.yml:3: condition: unexpected text at offset 12"},
    {HDR "steps:\n  - id: a\n    approval: {approvers: root}\n",
     "t.yml:5: steps[0].approval.approvers: expected a role (read, analyst, admin) or a list of "
     "users"},
    {HDR "steps:\n  - id: a\n    approval: {approvers: admin, default: maybe}\n",
     "t.yml:5: steps[0].approval.default: expected deny or approve"},
    {HDR "steps:\n  - id: a\n    action: noop\n    approval: {approvers: admin}\n",
     "t.yml:4: steps[0]: a step has action or approval, not both"},
    {HDR "steps:\n  - id: a\n", "t.yml:4: steps[0]: missing action (or approval, or parallel)"},
    {HDR "steps:\n  - parallel:\n    - parallel: [{id: a, action: noop}]\n",
     "t.yml:5: steps[0].parallel[0]: parallel groups do not nest"},
    {HDR "steps:\n  - id: a\n    action: noop\n    retry: {max: 1, backoff: {factor: 99}}\n",
     "t.yml:6: steps[0].retry.backoff.factor: expected a number 1-10"},
    {HDR "enabled: sometimes\nsteps: [{id: a, action: noop}]\n",
     "t.yml:3: enabled: expected true or false"},
    {"id: p\ntriggers: [{on: manual}\nsteps: []\n", NULL /* yaml error: prefix checked */},
    {"- just\n- a list\n",
     "t.yml:1: playbook: expected one YAML document, a map (id, triggers, steps)"},
};

VG_TEST(bad_playbooks_exact_messages)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(bad); i++) {
        struct vg_playbook *pb = NULL;
        char err[512] = "";
        int rc =
            vg_playbook_parse("t.yml", bad[i].yaml, strlen(bad[i].yaml), &pb, err, sizeof(err));
        CHECK(rc != VG_OK);
        CHECK(pb == NULL);
        if (bad[i].err) {
            if (strcmp(err, bad[i].err) != 0) {
                fprintf(stderr, "  case %zu\n", i);
            }
            CHECK_STR(err, bad[i].err);
        } else {
            CHECK(strncmp(err, "t.yml:", 6) == 0 && strstr(err, ": yaml: ") != NULL);
        }
        vg_playbook_unref(pb);
    }
}

static bool match(const struct vg_playbook *pb, size_t t, const char *kind, const char *ctx_text,
                  char *why, size_t whysz)
{
    struct vg_arena *a = vg_arena_create(1024);
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *ctx;
    size_t used;
    char err[64];
    CHECK_EQ_INT(vg_json_parse(jp, a, ctx_text, strlen(ctx_text), &used, &ctx, err, sizeof(err)),
                 VG_OK);
    struct vg_sbuf w = VG_SBUF_INIT;
    bool m = vg_playbook_trigger_match(&pb->triggers[t], kind, ctx, &w);
    snprintf(why, whysz, "%s", w.p ? w.p : "");
    vg_sbuf_fini(&w);
    vg_json_parser_destroy(jp);
    vg_arena_destroy(a);
    return m;
}

VG_TEST(trigger_matching)
{
    struct vg_playbook *pb = NULL;
    char err[512], why[256];
    CHECK_EQ_INT(vg_playbook_parse("ssh.yml", good, strlen(good), &pb, err, sizeof(err)), VG_OK);
    if (!pb) {
        return;
    }
    const char *a1 = "{\"alert\":{\"rule.id\":\"ssh-brute\",\"level\":\"critical\","
                     "\"tags\":[\"attack.T1110\"],\"threat.technique.id\":[\"T1110.001\"]}}";
    CHECK(match(pb, 0, "alert", a1, why, sizeof(why)));
    CHECK(match(pb, 1, "alert", a1, why, sizeof(why)));
    const char *a2 = "{\"alert\":{\"rule\":{\"id\":\"web-x\"},\"level\":\"high\"}}";
    CHECK(!match(pb, 0, "alert", a2, why, sizeof(why)));
    CHECK_STR(why, "rule 'web-x' does not match 'ssh-*'");
    const char *a3 = "{\"alert\":{\"rule.id\":\"ssh-1\",\"level\":\"medium\"}}";
    CHECK(!match(pb, 0, "alert", a3, why, sizeof(why)));
    CHECK_STR(why, "level medium is below high");
    CHECK(!match(pb, 1, "alert", a3, why, sizeof(why)));
    CHECK_STR(why, "tag attack.t1110 not among the alert's tags");
    CHECK(!match(pb, 0, "incident", a1, why, sizeof(why)));
    CHECK_STR(why, "fires on alert, not on incident");
    CHECK(match(pb, 2, "incident", "{\"incident\":{\"risk\":150}}", why, sizeof(why)));
    CHECK(!match(pb, 2, "incident", "{\"incident\":{\"risk\":50}}", why, sizeof(why)));
    CHECK_STR(why, "incident risk 50 is below 100");
    vg_playbook_unref(pb);
}

VG_TEST(hostile_yaml_never_crashes)
{
    const char *docs[] = {"",
                          "{",
                          "id: [",
                          "a: &a [*a, *a]\n",
                          "id: p\ntriggers: {on: alert}\n",
                          "id: p\ntriggers: [x]\nsteps: [1]\n",
                          "\xff\xfe",
                          "id: p\nsteps: 5\n"};
    for (size_t i = 0; i < VG_ARRAY_LEN(docs); i++) {
        struct vg_playbook *pb = NULL;
        char err[256] = "";
        CHECK(vg_playbook_parse("h.yml", docs[i], strlen(docs[i]), &pb, err, sizeof(err)) != VG_OK);
        CHECK(strncmp(err, "h.yml:", 6) == 0);
    }
}
