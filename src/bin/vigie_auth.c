/*
 * vigie_auth.c — `vigie user` and `vigie token`: manage the API's credentials in
 * DATA/auth.db (src/api), also while the server runs (it sees changes at once).
 *
 *   vigie user add|passwd|del|list --data DIR [NAME] [--role R] [--tenant T]
 *   vigie token create|revoke|list --data DIR [NAME] [--role R] [--tenant T] [--expires 90d]
 */
#include "api/api.h"
#include "bin/vigie_cmd.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct auth_opts {
    const char *data, *role, *tenant, *expires, *format;
    const char *verb, *name;
};

static void user_help(FILE *f)
{
    fprintf(f,
            "usage: vigie user add    [--data DIR] NAME --role ROLE [--tenant T]\n"
            "       vigie user passwd [--data DIR] NAME\n"
            "       vigie user del    [--data DIR] NAME\n"
            "       vigie user list   [--data DIR] [--format table|json]\n"
            "\n"
            "Manage the users of the HTTP API and console (DIR/auth.db, default ./vigie-data).\n"
            "The password is read from the terminal without echo (asked twice), or as one\n"
            "line from standard input when it is not a terminal; at least %d characters.\n"
            "Passwords are stored as argon2id hashes. passwd and del end the user's sessions.\n"
            "\n"
            "  -d, --data DIR     data directory of the server (default ./vigie-data)\n"
            "  -r, --role ROLE    admin, analyst, read or ingest\n"
            "  -t, --tenant T     the user's tenant (default: default)\n"
            "  -f, --format F     list output: table (default) or json (one object a line)\n"
            "\n"
            "Exit status: 0 done, 1 failed (exists, unknown, I/O), 2 usage.\n",
            VG_API_PASSWORD_MIN);
}

static void token_help(FILE *f)
{
    fprintf(f, "usage: vigie token create [--data DIR] NAME --role ROLE [--tenant T] "
               "[--expires WHEN]\n"
               "       vigie token revoke [--data DIR] NAME\n"
               "       vigie token list   [--data DIR] [--format table|json]\n"
               "\n"
               "Manage API tokens (DIR/auth.db, default ./vigie-data). create prints the token\n"
               "once on standard output: only a keyed hash of it is stored. Send it as\n"
               "`Authorization: Bearer vg_...` (or `Splunk vg_...` for HEC clients).\n"
               "revoke takes effect on the next request, also in a running server.\n"
               "\n"
               "  -d, --data DIR      data directory of the server (default ./vigie-data)\n"
               "  -r, --role ROLE     ingest (send data only), read, analyst or admin\n"
               "  -t, --tenant T      the token's tenant (default: default)\n"
               "  -e, --expires WHEN  a duration from now (90d, 12h) or an RFC 3339 time;\n"
               "                      default: never\n"
               "  -f, --format F      list output: table (default) or json\n"
               "\n"
               "Exit status: 0 done, 1 failed (exists, unknown, I/O), 2 usage.\n");
}

static int parse_args(int argc, char **argv, struct auth_opts *o, void (*help)(FILE *))
{
    static const struct option lo[] = {
        {"data", required_argument, NULL, 'd'},
        {"role", required_argument, NULL, 'r'},
        {"tenant", required_argument, NULL, 't'},
        {"expires", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    memset(o, 0, sizeof(*o));
    o->data = "./vigie-data";
    o->format = "table";
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:r:t:e:f:h", lo, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->data = optarg;
            break;
        case 'r':
            o->role = optarg;
            break;
        case 't':
            o->tenant = optarg;
            break;
        case 'e':
            o->expires = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'h':
            help(stdout);
            return -1;
        default:
            help(stderr);
            return VG_EXIT_USAGE;
        }
    }
    o->verb = optind < argc ? argv[optind++] : NULL;
    o->name = optind < argc ? argv[optind++] : NULL;
    if (!o->verb || optind < argc) {
        help(stderr);
        return VG_EXIT_USAGE;
    }
    return VG_EXIT_OK;
}

/* ---------------------------------------------------------------- passwords */

static bool read_line(FILE *f, char *buf, size_t size)
{
    if (!fgets(buf, (int)size, f)) {
        return false;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

/* Read a password from the terminal without echo. */
static bool tty_password(const char *prompt, char *buf, size_t size)
{
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0) {
        return false;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    bool ok = read_line(stdin, buf, size);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fprintf(stderr, "\n");
    return ok;
}

static int get_password(const char *user, char *buf, size_t size)
{
    char again[1024];
    if (!isatty(STDIN_FILENO)) {
        if (!read_line(stdin, buf, size)) {
            fprintf(stderr, "vigie: no password on standard input\n");
            return VG_EXIT_FAIL;
        }
    } else {
        char prompt[128];
        snprintf(prompt, sizeof(prompt), "New password for %s: ", user);
        if (!tty_password(prompt, buf, size) ||
            !tty_password("Repeat it: ", again, sizeof(again))) {
            return VG_EXIT_FAIL;
        }
        bool same = !strcmp(buf, again);
        memset(again, 0, sizeof(again));
        if (!same) {
            fprintf(stderr, "vigie: the passwords differ\n");
            return VG_EXIT_FAIL;
        }
    }
    if (strlen(buf) < VG_API_PASSWORD_MIN) {
        fprintf(stderr, "vigie: the password must have at least %d characters\n",
                VG_API_PASSWORD_MIN);
        return VG_EXIT_FAIL;
    }
    return VG_EXIT_OK;
}

/* ---------------------------------------------------------------- output */

static void fmt_time(vg_time_t t, char *buf, size_t size)
{
    if (t == VG_TIME_NONE) {
        snprintf(buf, size, "-");
        return;
    }
    size_t n = vg_time_format(t, buf, size);
    if (n > 19) {
        buf[19] = 'Z'; /* seconds are enough here */
        buf[20] = '\0';
    }
}

static void json_kv(const char *key, const char *val, bool first)
{
    struct vg_sbuf b = VG_SBUF_INIT;
    vg_sbuf_add_json_str(&b, val, strlen(val));
    printf("%s\"%s\":%s", first ? "{" : ",", key, b.p ? b.p : "\"\"");
    vg_sbuf_fini(&b);
}

static int print_user(void *ctx, const struct vg_api_user_info *u)
{
    const struct auth_opts *o = ctx;
    char c[40], up[40];
    fmt_time(u->created, c, sizeof(c));
    fmt_time(u->updated, up, sizeof(up));
    if (!strcmp(o->format, "json")) {
        json_kv("name", u->name, true);
        json_kv("role", vg_api_role_name(u->role), false);
        json_kv("tenant", u->tenant, false);
        json_kv("created", c, false);
        json_kv("password_changed", up, false);
        printf("}\n");
    } else {
        printf("%-24s %-8s %-16s %-21s %s\n", u->name, vg_api_role_name(u->role), u->tenant, c, up);
    }
    return 0;
}

static int print_token(void *ctx, const struct vg_api_token_info *t)
{
    const struct auth_opts *o = ctx;
    char c[40], e[40], l[40], r[40], id[24];
    fmt_time(t->created, c, sizeof(c));
    fmt_time(t->expires, e, sizeof(e));
    fmt_time(t->last_used, l, sizeof(l));
    fmt_time(t->revoked, r, sizeof(r));
    snprintf(id, sizeof(id), "%lld", (long long)t->id);
    if (!strcmp(o->format, "json")) {
        json_kv("id", id, true);
        json_kv("name", t->name, false);
        json_kv("role", vg_api_role_name(t->role), false);
        json_kv("tenant", t->tenant, false);
        json_kv("created", c, false);
        json_kv("expires", e, false);
        json_kv("last_used", l, false);
        json_kv("revoked", r, false);
        printf("}\n");
    } else {
        printf("%-5s %-20s %-8s %-12s %-21s %-21s %-21s %s\n", id, t->name,
               vg_api_role_name(t->role), t->tenant, c, e, l, r);
    }
    return 0;
}

/* ---------------------------------------------------------------- commands */

static int fail_rc(int rc, const char *what, const char *name)
{
    switch (rc) {
    case VG_OK:
        return VG_EXIT_OK;
    case VG_EEXIST:
        fprintf(stderr, "vigie: %s '%s' exists already\n", what, name);
        break;
    case VG_ENOENT:
        fprintf(stderr, "vigie: no %s '%s'\n", what, name);
        break;
    case VG_EINVAL:
        fprintf(stderr,
                "vigie: invalid %s name, role or tenant (names: 1-64 of A-Z a-z 0-9 . _ @ -)\n",
                what);
        break;
    default:
        fprintf(stderr, "vigie: %s '%s': %s\n", what, name, vg_strerror(rc));
    }
    return VG_EXIT_FAIL;
}

static int need(const struct auth_opts *o, bool name, bool role, void (*help)(FILE *))
{
    int r;
    if ((name && !o->name) || (role && (!o->role || vg_api_role_parse(o->role, &r) != VG_OK))) {
        fprintf(stderr, "vigie: %s\n",
                name && !o->name ? "a NAME is needed" : "--role admin|analyst|read|ingest");
        help(stderr);
        return VG_EXIT_USAGE;
    }
    if (!strcmp(o->format, "table") || !strcmp(o->format, "json")) {
        return VG_EXIT_OK;
    }
    fprintf(stderr, "vigie: --format table|json\n");
    return VG_EXIT_USAGE;
}

static int open_auth(const struct auth_opts *o, struct vg_api_auth **a)
{
    char err[512];
    if (vg_api_auth_open(o->data, a, err, sizeof(err)) != VG_OK) {
        fprintf(stderr, "vigie: %s\n", err);
        return VG_EXIT_FAIL;
    }
    return VG_EXIT_OK;
}

static int user_run(struct vg_api_auth *a, const struct auth_opts *o)
{
    char pw[1024];
    int role = 0, rc;
    if (!strcmp(o->verb, "list")) {
        if (!strcmp(o->format, "table")) {
            printf("%-24s %-8s %-16s %-21s %s\n", "NAME", "ROLE", "TENANT", "CREATED",
                   "PASSWORD CHANGED");
        }
        return vg_api_user_list(a, print_user, (void *)o) == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
    }
    if (!strcmp(o->verb, "del")) {
        rc = fail_rc(vg_api_user_del(a, o->name), "user", o->name);
        if (rc == VG_EXIT_OK) {
            fprintf(stderr, "vigie: user '%s' deleted\n", o->name);
        }
        return rc;
    }
    if ((rc = get_password(o->name, pw, sizeof(pw))) != VG_EXIT_OK) {
        return rc;
    }
    if (!strcmp(o->verb, "add")) {
        vg_api_role_parse(o->role, &role);
        rc = vg_api_user_add(a, o->name, pw, role, o->tenant);
    } else {
        rc = vg_api_user_passwd(a, o->name, pw);
    }
    memset(pw, 0, sizeof(pw));
    if (rc == VG_OK) {
        fprintf(stderr, "vigie: user '%s' %s\n", o->name,
                !strcmp(o->verb, "add") ? "added" : "password changed");
    }
    return fail_rc(rc, "user", o->name);
}

int vg_cmd_user(int argc, char **argv)
{
    struct auth_opts o;
    struct vg_api_auth *a = NULL;
    int rc = parse_args(argc, argv, &o, user_help);
    if (rc != VG_EXIT_OK) {
        return rc < 0 ? VG_EXIT_OK : rc;
    }
    bool list = !strcmp(o.verb, "list"), add = !strcmp(o.verb, "add");
    if (!list && !add && strcmp(o.verb, "del") && strcmp(o.verb, "passwd")) {
        user_help(stderr);
        return VG_EXIT_USAGE;
    }
    if ((rc = need(&o, !list, add, user_help)) != VG_EXIT_OK ||
        (rc = open_auth(&o, &a)) != VG_EXIT_OK) {
        return rc;
    }
    rc = user_run(a, &o);
    vg_api_auth_close(a);
    return rc;
}

static int parse_expiry(const char *s, vg_time_t *out)
{
    int64_t ns;
    *out = VG_TIME_NONE;
    if (!s || !strcmp(s, "never")) {
        return VG_OK;
    }
    if (vg_duration_parse(s, strlen(s), &ns) == VG_OK && ns > 0) {
        *out = vg_time_now() + ns;
        return VG_OK;
    }
    return vg_time_parse(s, strlen(s), out);
}

static int token_run(struct vg_api_auth *a, const struct auth_opts *o)
{
    char tok[VG_API_TOKEN_SIZE];
    vg_time_t exp;
    int role = 0, rc;
    if (!strcmp(o->verb, "list")) {
        if (!strcmp(o->format, "table")) {
            printf("%-5s %-20s %-8s %-12s %-21s %-21s %-21s %s\n", "ID", "NAME", "ROLE", "TENANT",
                   "CREATED", "EXPIRES", "LAST USED", "REVOKED");
        }
        return vg_api_token_list(a, print_token, (void *)o) == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
    }
    if (!strcmp(o->verb, "revoke")) {
        rc = fail_rc(vg_api_token_revoke(a, o->name), "active token", o->name);
        if (rc == VG_EXIT_OK) {
            fprintf(stderr, "vigie: token '%s' revoked\n", o->name);
        }
        return rc;
    }
    if (parse_expiry(o->expires, &exp) != VG_OK) {
        fprintf(stderr, "vigie: --expires: a duration (90d, 12h) or an RFC 3339 time\n");
        return VG_EXIT_USAGE;
    }
    vg_api_role_parse(o->role, &role);
    rc = vg_api_token_create(a, o->name, role, o->tenant, exp, tok, sizeof(tok));
    if (rc == VG_OK) {
        printf("%s\n", tok);
        fflush(stdout);
        fprintf(stderr, "vigie: token '%s' (role %s) created; it is shown only this once\n",
                o->name, o->role);
        memset(tok, 0, sizeof(tok));
    }
    return fail_rc(rc, "active token", o->name);
}

int vg_cmd_token(int argc, char **argv)
{
    struct auth_opts o;
    struct vg_api_auth *a = NULL;
    int rc = parse_args(argc, argv, &o, token_help);
    if (rc != VG_EXIT_OK) {
        return rc < 0 ? VG_EXIT_OK : rc;
    }
    bool list = !strcmp(o.verb, "list"), create = !strcmp(o.verb, "create");
    if (!list && !create && strcmp(o.verb, "revoke")) {
        token_help(stderr);
        return VG_EXIT_USAGE;
    }
    if ((rc = need(&o, !list, create, token_help)) != VG_EXIT_OK ||
        (rc = open_auth(&o, &a)) != VG_EXIT_OK) {
        return rc;
    }
    rc = token_run(a, &o);
    vg_api_auth_close(a);
    return rc;
}
