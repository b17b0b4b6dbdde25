/*
 * test_send.c — sensor records to a real `vigie server` (sensor_send.h), end to end on
 * loopback: the test starts the server (built beside this test) with a fleet listener, makes
 * an enrollment token through the API, and the sensor enrols with it, spools EVE records
 * (the real engine's, from a corpus pcap, through two workers, plus marked records of its
 * own) and streams them over mutual TLS. The records must be stored, decoded as Suricata EVE
 * (event.dataset = the event_type) and searchable; a second batch measures the send rate.
 * Skipped when the `vigie` binary or curl is missing.
 */
#include "sensor/sensor_send.h"
#include "sensor/sensor_workers.h"
#include "vgtest.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256], vigie[1024];
static int http_port, fleet_port;
static pid_t server_pid;
static char admin[256];

/* Run cmd, its first output line into out (trimmed). */
static int run_out(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    out[0] = '\0';
    if (!p) {
        return -1;
    }
    if (!fgets(out, (int)n, p)) {
        out[0] = '\0';
    }
    out[strcspn(out, "\r\n")] = '\0';
    return pclose(p);
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    if (dir[0] && !getenv("KEEP")) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)system(cmd);
    }
}

static bool start_server(void)
{
    char path[512], cmd[2048];
    snprintf(vigie, sizeof(vigie), "%s/vigie", VG_BINARY_DIR);
    if (access(vigie, X_OK) != 0 || system("command -v curl >/dev/null") != 0) {
        return false;
    }
    snprintf(dir, sizeof(dir), "/tmp/vg-sensor-send-XXXXXX");
    if (!mkdtemp(dir)) {
        return false;
    }
    /* ports of our own: other tests may run at the same time */
    http_port = 30000 + (int)(getpid() % 15000) * 2;
    fleet_port = http_port + 1;
    snprintf(path, sizeof(path), "%s/vigie.yml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f,
            "data_dir: %s/data\nhttp: {listen: 127.0.0.1:%d}\nsyslog: {udp: [], tcp: []}\n"
            "fleet: {listen: 127.0.0.1:%d}\nplaybooks: {builtin: false}\n",
            dir, http_port, fleet_port);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "'%s' token create --data '%s/data' sensor-e2e --role admin 2>/dev/null", vigie, dir);
    run_out(cmd, admin, sizeof(admin));
    char logp[512];
    snprintf(logp, sizeof(logp), "%s/server.log", dir);
    server_pid = fork();
    if (server_pid == 0) {
        if (freopen(logp, "w", stdout)) {
            dup2(1, 2);
        }
        execl(vigie, "vigie", "server", "-c", path, (char *)NULL);
        _exit(127);
    }
    atexit(stop_server);
    snprintf(cmd, sizeof(cmd), "curl -sf http://127.0.0.1:%d/healthz >/dev/null 2>&1", http_port);
    for (int i = 0; i < 200; i++) {
        if (system(cmd) == 0) {
            return admin[0] != '\0';
        }
        usleep(100 * 1000);
    }
    return false;
}

/* Events found by query q (as the JSON text of the answer) in out. */
static void search(const char *q, struct vg_sbuf *out)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "curl -s -G -H 'Authorization: Bearer %s' --data-urlencode 'q=%s' "
             "--data-urlencode limit=10000 http://127.0.0.1:%d/api/v1/search",
             admin, q, http_port);
    FILE *p = popen(cmd, "r");
    char buf[65536];
    size_t n;
    vg_sbuf_reset(out);
    while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0) {
        vg_sbuf_add(out, buf, n);
    }
    if (p) {
        pclose(p);
    }
    vg_sbuf_addc(out, '\0');
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle)) {
        n++;
    }
    return n;
}

/* Wait until the query finds at least want occurrences of needle. */
static size_t wait_found(const char *q, const char *needle, size_t want, struct vg_sbuf *out)
{
    size_t got = 0;
    for (int i = 0; i < 100 && got < want; i++) {
        search(q, out);
        got = count_of(out->p, needle);
        if (got < want) {
            usleep(100 * 1000);
        }
    }
    return got;
}

static struct vg_sensor_send *s;

VG_TEST(sensor_enrols_and_its_records_are_stored_and_searchable)
{
    if (!start_server()) {
        VG_SKIP("no vigie binary / curl, or the server did not start");
    }
    char cmd[1024], et[256], err[512] = "", state[512];
    snprintf(cmd, sizeof(cmd),
             "curl -s -H 'Authorization: Bearer %s' -X POST --data '{\"ttl\":\"1h\",\"uses\":1}' "
             "http://127.0.0.1:%d/api/v1/agents/enroll-tokens | "
             "python3 -c 'import sys,json; print(json.load(sys.stdin)[\"token\"])'",
             admin, http_port);
    run_out(cmd, et, sizeof(et));
    CHECK(et[0] != '\0');
    snprintf(state, sizeof(state), "%s/sensor", dir);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", http_port);
    struct vg_sensor_send_opts o = {.state_dir = state,
                                    .server = url,
                                    .enroll_token = et,
                                    .hostname = "sensor-e2e",
                                    .capture = "afpacket:eth0"};
    int rc = vg_sensor_send_start(&o, &s, err, sizeof(err));
    CHECK_EQ_INT(rc, VG_OK);
    if (rc != VG_OK) {
        fprintf(stderr, "  start: %s\n", err);
        return;
    }
    /* the real engine's records of a corpus pcap, through two workers */
    const char *pcap = vgt_shared(
        "corpus/suricata-verify/tests/dns-eve-v2-udp-nxdomain-soa/dns-udp-nxdomain-soa.pcap");
    size_t engine_records = 0;
    if (!pcap || access(pcap, R_OK) != 0) {
        printf("  corpus pcap absent: only the test's own records are sent\n");
    } else {
        struct vg_sensor_workers_opts wo = {.n = 2, .out = vg_sensor_send_lines, .out_ctx = s};
        struct vg_sensor_workers *w = NULL;
        CHECK_EQ_INT(vg_sensor_workers_create(&wo, &w, err, sizeof(err)), VG_OK);
        CHECK_EQ_INT(vg_sensor_workers_run_file(w, pcap, NULL, err, sizeof(err)), VG_OK);
        vg_sensor_workers_finish(w);
        vg_sensor_workers_destroy(w);
        struct vg_sensor_send_stats st;
        vg_sensor_send_stats(s, &st);
        engine_records = st.spooled;
        CHECK(engine_records > 0);
    }
    /* marked records of our own (one dns, one alert) */
    char mark[64], rec[1024];
    snprintf(mark, sizeof(mark), "vgsensor%dx%ld", (int)getpid(), (long)time(NULL));
    snprintf(rec, sizeof(rec),
             "{\"timestamp\":\"2024-05-01T10:00:00.000001+0000\",\"flow_id\":1,\"event_type\":"
             "\"dns\",\"src_ip\":\"10.1.2.3\",\"src_port\":5353,\"dest_ip\":\"10.1.2.4\","
             "\"dest_port\":53,\"proto\":\"UDP\",\"dns\":{\"type\":\"request\",\"id\":7,"
             "\"queries\":[{\"rrname\":\"%s.example\",\"rrtype\":\"A\"}]}}\n",
             mark);
    CHECK_EQ_INT(vg_sensor_send_append(s, rec, strlen(rec)), VG_OK);
    CHECK_EQ_INT(vg_sensor_send_append(s, "", 0), VG_EINVAL); /* counted, not sent */
    CHECK_EQ_INT(vg_sensor_send_drain(s, 20000), VG_OK);
    struct vg_sensor_send_stats st;
    vg_sensor_send_stats(s, &st);
    CHECK(st.connected);
    CHECK_EQ_INT(st.pending, 0);
    CHECK_EQ_INT(st.rejected, 1);
    CHECK_EQ_INT(st.spooled, engine_records + 1);

    struct vg_sbuf out = VG_SBUF_INIT;
    CHECK_EQ_INT(wait_found(mark, "\"_id\"", 1, &out), 1);
    CHECK(strstr(out.p, "\"event.module\":\"suricata\"") != NULL); /* the EVE decoder */
    CHECK(strstr(out.p, "\"event.dataset\":\"dns\"") != NULL);
    CHECK(strstr(out.p, "\"dns.question.name\":\"") != NULL);
    if (engine_records) {
        /* every engine record stored, decoded as Suricata EVE */
        size_t got = wait_found("event.module=suricata", "\"_id\"", engine_records + 1, &out);
        printf("  %zu engine records + 1 marked record spooled; %zu found by search\n",
               engine_records, got);
        CHECK_EQ_INT(got, engine_records + 1); /* a fresh server: ours only */
    }
    if (getenv("KEEP")) {
        FILE *f = fopen("/tmp/vg-sensor-send-search.json", "w");
        fputs(out.p, f);
        fclose(f);
    }
    snprintf(cmd, sizeof(cmd),
             "curl -s -H 'Authorization: Bearer %s' http://127.0.0.1:%d/api/v1/agents", admin,
             http_port);
    FILE *p = popen(cmd, "r");
    char agents[8192] = "";
    size_t an = p ? fread(agents, 1, sizeof(agents) - 1, p) : 0;
    agents[an] = '\0';
    if (p) {
        pclose(p);
    }
    CHECK(strstr(agents, "sensor-e2e") != NULL); /* in the registry, online */
    CHECK(strstr(agents, "afpacket:eth0") != NULL);
    vg_sbuf_fini(&out);
}

VG_TEST(send_rate)
{
    if (!s) {
        VG_SKIP("no sender (the previous test was skipped or failed)");
    }
    int n = 100000;
    char rec[512];
    uint64_t t0 = vg_clock_ns();
    for (int i = 0; i < n; i++) {
        int len = snprintf(rec, sizeof(rec),
                           "{\"timestamp\":\"2024-05-01T10:00:00.%06d+0000\",\"flow_id\":%d,"
                           "\"event_type\":\"flow\",\"src_ip\":\"10.0.%d.%d\",\"src_port\":%d,"
                           "\"dest_ip\":\"10.9.9.9\",\"dest_port\":443,\"proto\":\"TCP\","
                           "\"flow\":{\"pkts_toserver\":3,\"pkts_toclient\":2,"
                           "\"bytes_toserver\":300,\"bytes_toclient\":2000}}",
                           i % 1000000, i + 1, (i >> 8) & 255, i & 255, 1024 + i % 60000);
        CHECK_EQ_INT(vg_sensor_send_append(s, rec, (size_t)len), VG_OK);
    }
    uint64_t t1 = vg_clock_ns();
    int rc = vg_sensor_send_drain(s, 120000);
    uint64_t t2 = vg_clock_ns();
    CHECK_EQ_INT(rc, VG_OK);
    printf("  send: %d records spooled in %.3f s (%.0f/s); acknowledged by the server after "
           "%.3f s (%.0f records/s end to end)\n",
           n, (double)(t1 - t0) / 1e9, n / ((double)(t1 - t0) / 1e9), (double)(t2 - t0) / 1e9,
           n / ((double)(t2 - t0) / 1e9));
    vg_sensor_send_stop(s);
    s = NULL;
}
