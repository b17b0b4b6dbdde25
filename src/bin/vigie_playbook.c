/*
 * vigie_playbook.c — `vigie playbook`: work on playbook files without a server.
 *
 *   vigie playbook check FILE...                          validate; exit 1 on any error
 *   vigie playbook test FILE --alert A.json [--incident I.json] [--inputs X.json]
 *                                                         dry run against a sample
 *   vigie playbook actions                                the action table with parameters
 */
#include <stdlib.h>
#include <string.h>

#include "bin/vigie_cmd.h"
#include "bin/vigie_playbook.h"
#include "respond/respond.h"
#include "respond/respond_action.h"

static int usage(void)
{
    fprintf(stderr, "usage: vigie playbook check FILE...\n"
                    "       vigie playbook test FILE --alert ALERT.json [--incident INC.json]\n"
                    "       vigie playbook actions\n");
    return VG_EXIT_USAGE;
}

static int cmd_check(int argc, char **argv)
{
    int bad = 0;
    if (argc < 1) {
        return usage();
    }
    for (int i = 0; i < argc; i++) {
        struct vg_playbook *pb = NULL;
        char err[1024];
        if (vg_playbook_load_file(argv[i], &pb, err, sizeof(err)) != VG_OK) {
            fprintf(stderr, "%s\n", err);
            bad++;
            continue;
        }
        printf("%s: ok (playbook %s)\n", argv[i], vg_playbook_id(pb));
        vg_playbook_unref(pb);
    }
    return bad ? VG_EXIT_FAIL : VG_EXIT_OK;
}

/* Read a JSON file and add it to ctx as "key": <content> (validated by the dry run). */
static int add_file(struct vg_sbuf *ctx, const char *key, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (vg_file_read(path, 16u << 20, &text, &len) != VG_OK) {
        fprintf(stderr, "vigie playbook test: cannot read %s\n", path);
        return VG_EIO;
    }
    vg_sbuf_printf(ctx, "%s\"%s\":", ctx->len > 1 ? "," : "", key);
    vg_sbuf_add(ctx, text, len);
    vg_free(text);
    return VG_OK;
}

/* Report a bad sample file on its own (so offsets refer to it, not the combined context). */
static int check_json_file(const char *path)
{
    char *text = NULL, err[256];
    size_t len = 0, used;
    struct vg_arena *a = vg_arena_create(4096);
    struct vg_json_parser *jp = vg_json_parser_create(NULL);
    struct vg_json *v;
    int rc = vg_file_read(path, 16u << 20, &text, &len);
    if (rc == VG_OK) {
        rc = vg_json_parse(jp, a, text, len, &used, &v, err, sizeof(err));
        if (rc != VG_OK) {
            const char *o = strstr(err, "offset ");
            size_t off = o ? (size_t)strtoull(o + 7, NULL, 10) : 0, line = 1;
            for (size_t i = 0; i < off && i < len; i++) {
                line += text[i] == '\n';
            }
            fprintf(stderr, "%s: not valid JSON: %s (line %zu)\n", path, err, line);
        }
    }
    vg_free(text);
    vg_json_parser_destroy(jp);
    vg_arena_destroy(a);
    return rc;
}

static int cmd_test(int argc, char **argv)
{
    const char *file = NULL, *keys[3] = {NULL, NULL, NULL};
    static const char *const opts[] = {"--alert", "--incident", "--inputs"};
    for (int i = 0; i < argc; i++) {
        size_t k = 0;
        while (k < 3 && strcmp(argv[i], opts[k]) != 0) {
            k++;
        }
        if (k < 3 && i + 1 < argc) {
            keys[k] = argv[++i];
        } else if (k == 3 && !file && argv[i][0] != '-') {
            file = argv[i];
        } else {
            return usage();
        }
    }
    if (!file || (!keys[0] && !keys[1])) {
        return usage();
    }
    struct vg_playbook *pb = NULL;
    char err[1024];
    if (vg_playbook_load_file(file, &pb, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "%s\n", err);
        return VG_EXIT_FAIL;
    }
    struct vg_sbuf ctx = VG_SBUF_INIT;
    vg_sbuf_addc(&ctx, '{');
    static const char *const names[] = {"alert", "incident", "inputs"};
    int rc = VG_OK;
    for (int k = 0; k < 3 && rc == VG_OK; k++) {
        if (keys[k]) {
            rc = check_json_file(keys[k]);
            rc = rc ? rc : add_file(&ctx, names[k], keys[k]);
        }
    }
    vg_sbuf_addc(&ctx, '}');
    struct vg_respond_services svc = {.dry_run = true};
    if (rc == VG_OK) {
        rc = vg_playbook_dry_run(pb, ctx.p, ctx.len, &svc, stdout, err, sizeof(err));
        if (rc == VG_EINVAL) {
            fprintf(stderr, "%s\n", err);
        }
    }
    vg_sbuf_fini(&ctx);
    vg_playbook_unref(pb);
    return rc == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
}

static int cmd_actions(void)
{
    static const char *const types[] = {"?", "string", "int", "bool", "object", "list", "any"};
    size_t n = 0;
    const struct vg_action_def *const *all = vg_action_all(&n);
    for (size_t i = 0; i < n; i++) {
        printf("%s\n    %s\n", all[i]->name, all[i]->description);
        for (const struct vg_action_param *p = all[i]->params; p && p->name; p++) {
            int t = p->type >= 1 && p->type <= VG_ACTION_ANY ? p->type : 0;
            printf("    %-12s %-7s %-9s %s\n", p->name, types[t], p->required ? "required" : "",
                   p->description ? p->description : "");
        }
    }
    return VG_EXIT_OK;
}

int vg_cmd_playbook(int argc, char **argv)
{
    if (argc < 2) {
        return usage();
    }
    if (strcmp(argv[1], "check") == 0) {
        return cmd_check(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "test") == 0) {
        return cmd_test(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "actions") == 0) {
        return cmd_actions();
    }
    return usage();
}
