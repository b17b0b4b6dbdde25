/*
 * test_act_nft.c — nft.block / nft.unblock inside a network namespace this test creates
 * (a child process does unshare(CLONE_NEWNET); skipped when that is not permitted): block
 * 198.51.100.7, see it in `nft list set inet vigie blocked4`, prove TCP to it is dropped
 * (198.51.100.7/32 on the namespace's lo: connect works before, times out while blocked,
 * works after unblock), block again (idempotent, expiry restarted), IPv6, unblock twice
 * (a missing element is success). The host's ruleset is compared before and after.
 */
#include "act_test.h"
#include "vgnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run argv (no shell) and capture stdout into out (size n); returns the exit status. */
static int run(char *const argv[], char *out, size_t n)
{
    int p[2];
    if (pipe(p) < 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    size_t len = 0;
    ssize_t k;
    while (out && len + 1 < n && (k = read(p[0], out + len, n - 1 - len)) > 0) {
        len += (size_t)k;
    }
    if (out) {
        out[len] = 0;
    }
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char nft_path[64];

static bool set_has(const char *set, const char *ip, char *listing, size_t n)
{
    char *argv[] = {nft_path, "list", "set", "inet", "vigie", (char *)set, NULL};
    listing[0] = 0;
    return run(argv, listing, n) == 0 && strstr(listing, ip) != NULL;
}

/* Everything below runs in the child, inside the new namespace. */
static void in_namespace(void)
{
    char *lo_up[] = {"/usr/sbin/ip", "link", "set", "lo", "up", NULL};
    char *addr[] = {"/usr/sbin/ip", "addr", "add", "198.51.100.7/32", "dev", "lo", NULL};
    char listing[8192];
    struct act_run ar;
    int port = 0;
    CHECK_EQ_INT(run(lo_up, NULL, 0), 0);
    CHECK_EQ_INT(run(addr, NULL, 0), 0);
    int lfd = listener("198.51.100.7", &port);
    CHECK(lfd >= 0);
    CHECK(tcp_reaches("198.51.100.7", port, 1000));

    CHECK_EQ_INT(
        act_run("nft.block", "{\"ip\":\"198.51.100.7\",\"duration\":\"10m\"}", NULL, 10000, &ar),
        VG_OK);
    CHECK_STR(act_out_str(&ar, "ip"), "198.51.100.7");
    CHECK_STR(act_out_str(&ar, "table"), "vigie");
    CHECK_STR(act_out_str(&ar, "backend"), "nftables");
    vg_time_t exp = 0;
    const char *e = act_out_str(&ar, "expires");
    CHECK(vg_time_parse(e, strlen(e), &exp) == VG_OK);
    CHECK(exp > vg_time_now() + 590LL * 1000000000LL && exp < vg_time_now() + 610LL * 1000000000LL);
    act_done(&ar);
    CHECK(set_has("blocked4", "198.51.100.7", listing, sizeof(listing)));
    CHECK(strstr(listing, "flags timeout") != NULL);
    CHECK(!tcp_reaches("198.51.100.7", port, 300)); /* dropped */

    /* again, longer: idempotent, the expiry restarts (no duplicate rules either) */
    CHECK_EQ_INT(
        act_run("nft.block", "{\"ip\":\"198.51.100.7\",\"duration\":\"2h\"}", NULL, 10000, &ar),
        VG_OK);
    act_done(&ar);
    CHECK(set_has("blocked4", "198.51.100.7", listing, sizeof(listing)));
    CHECK(strstr(listing, "expires 1h59m") != NULL || strstr(listing, "expires 2h") != NULL);
    char *chain[] = {nft_path, "list", "chain", "inet", "vigie", "input", NULL};
    CHECK_EQ_INT(run(chain, listing, sizeof(listing)), 0);
    CHECK(strstr(listing, "priority -10") || strstr(listing, "priority filter - 10"));
    size_t drops = 0;
    for (const char *p = listing; (p = strstr(p, "drop")); p++) {
        drops++;
    }
    CHECK_EQ_INT(drops, 4);

    CHECK_EQ_INT(
        act_run("nft.block", "{\"ip\":\"2001:DB8:0:0::42\",\"duration\":\"1h\"}", NULL, 10000, &ar),
        VG_OK);
    CHECK_STR(act_out_str(&ar, "ip"), "2001:db8::42");
    act_done(&ar);
    CHECK(set_has("blocked6", "2001:db8::42", listing, sizeof(listing)));

    CHECK_EQ_INT(act_run("nft.unblock", "{\"ip\":\"198.51.100.7\"}", NULL, 10000, &ar), VG_OK);
    act_done(&ar);
    CHECK(!set_has("blocked4", "198.51.100.7", listing, sizeof(listing)));
    CHECK(tcp_reaches("198.51.100.7", port, 1000));
    CHECK_EQ_INT(act_run("nft.unblock", "{\"ip\":\"198.51.100.7\"}", NULL, 10000, &ar), VG_OK);
    act_done(&ar);
    CHECK(set_has("blocked6", "2001:db8::42", listing, sizeof(listing)));
    close(lfd);
}

VG_TEST(nft_block_in_a_namespace)
{
    struct act_run ar;
    if (!nft_path[0]) {
        vg_strlcpy(nft_path, access("/usr/sbin/nft", X_OK) == 0 ? "/usr/sbin/nft" : "/sbin/nft",
                   sizeof(nft_path));
    }
    if (access(nft_path, X_OK) != 0 || access("/usr/sbin/ip", X_OK) != 0) {
        VG_SKIP("nft or ip is not installed");
    }
    static char before[1 << 16], after[1 << 16];
    char *list[] = {nft_path, "list", "ruleset", NULL};
    int host_rc = run(list, before, sizeof(before));
    char verdict = vgt_in_netns(in_namespace);
    CHECK_EQ_INT(run(list, after, sizeof(after)), host_rc);
    CHECK_STR(after, before); /* the host's ruleset was never touched */
    if (verdict == 'S') {
        VG_SKIP("unshare(CLONE_NEWNET) is not permitted here");
    }
    CHECK(verdict == 'P');
    VG_UNUSED(ar);
}
