/*
 * bench_decode.c — throughput of the decoder chain (src/decode/decode_chain.c): records
 * decoded and normalised per second, per source type, on generated realistic lines.
 *
 *   bench_decode [-n LINES] [-r REPEAT] [-t THREADS] [--only NAME] [--dump NAME]
 *
 * Each stream is generated once in memory (auth.log as the peer benchmarks generate it —
 * see ../shared/bench-peers/gen_authlog.py —, the same with the <PRI> a network sender adds,
 * sudo, auditd multi-record events, CEF, LEEF, FortiGate, Cisco ASA, iptables, Apache
 * access, Suricata EVE, winlogbeat, Zeek, and all of them interleaved), then decoded REPEAT
 * times into one reused event by one decoder object per thread. Figures: lines/s, MB/s,
 * events, fields per event. THREADS > 1 runs one decoder per thread over the same lines
 * (the server's model: one decoder per worker) and reports the aggregate rate.
 */
#include "decode/decode.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- generators */

static uint64_t rng = 42;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *pick(const char *const *v, size_t n)
{
    return v[rnd((uint32_t)n)];
}
#define PICK(v) pick(v, VG_ARRAY_LEN(v))

static const char *const users[] = {"admin", "test",     "oracle", "ubuntu", "guest",
                                    "user",  "postgres", "git",    "ftp",    "pi"};
static const char *const hosts[] = {"web01", "web02", "db01", "bastion"};

static void attacker(char *b, size_t n)
{
    snprintf(b, n, "%s.%u", rnd(2) ? "203.0.113" : "198.51.100", 1 + rnd(150));
}

static void bsd_ts(struct vg_sbuf *o, uint64_t i)
{
    unsigned t = (unsigned)(3 * 3600 + i % 86400);
    vg_sbuf_printf(o, "Nov 29 %02u:%02u:%02u ", t / 3600 % 24, t / 60 % 60, t % 60);
}

/* The mix of gen_authlog.py: failed passwords (invalid user / root), accepted keys, invalid
 * users, PAM sessions, closed connections. */
static void gen_auth(struct vg_sbuf *o, uint64_t i, bool pri)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    unsigned port = 1024 + rnd(64000), r = rnd(10);
    if (pri) {
        vg_sbuf_adds(o, "<38>");
    }
    bsd_ts(o, i);
    vg_sbuf_printf(o, "%s sshd[%u]: ", hosts[i % 4], 1000 + (unsigned)(i * 7919 % 60000));
    if (r < 4) {
        vg_sbuf_printf(o, "Failed password for invalid user %s from %s port %u ssh2", PICK(users),
                       ip, port);
    } else if (r < 6) {
        vg_sbuf_printf(o, "Failed password for root from %s port %u ssh2", ip, port);
    } else if (r < 7) {
        vg_sbuf_printf(o,
                       "Accepted publickey for deploy from 192.0.2.%u port %u ssh2: ED25519 "
                       "SHA256:q1w2e3r4t5y6u7i8o9p0AbCdEfGhIjKlMnOpQrStUvW",
                       1 + rnd(49), port);
    } else if (r < 8) {
        vg_sbuf_printf(o, "Invalid user %s from %s port %u", PICK(users), ip, port);
    } else if (r < 9) {
        vg_sbuf_adds(o, "pam_unix(sshd:session): session opened for user deploy(uid=1000) by "
                        "(uid=0)");
    } else {
        vg_sbuf_printf(o, "Connection closed by %s port %u [preauth]", ip, port);
    }
    vg_sbuf_addc(o, '\n');
}

static void gen_authlog(struct vg_sbuf *o, uint64_t i)
{
    gen_auth(o, i, false);
}

static void gen_authpri(struct vg_sbuf *o, uint64_t i)
{
    gen_auth(o, i, true);
}

/* Programs no specific decoder claims: the cost of falling through the whole chain. */
static void gen_other(struct vg_sbuf *o, uint64_t i)
{
    unsigned r = rnd(100000);
    bsd_ts(o, i);
    vg_sbuf_printf(o, "%s ", hosts[i % 4]);
    switch (i % 4) {
    case 0:
        vg_sbuf_printf(o, "systemd[1]: Started Session %u of user root.\n", r);
        break;
    case 1:
        vg_sbuf_printf(o, "CRON[%u]: (root) CMD (command -v debian-sa1 > /dev/null)\n", r);
        break;
    case 2:
        vg_sbuf_printf(o, "systemd-logind[%u]: New session 42 of user deploy.\n", r);
        break;
    default:
        vg_sbuf_printf(o, "kernel: [%u.123456] EXT4-fs (sda1): re-mounted. Opts: (null)\n", r);
    }
}

/* RFC 5424: half sshd messages (claimed by sshd), half an application with structured data
 * (left to syslog), timestamps with fractions and offsets. */
static void gen_rfc5424(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    unsigned t = (unsigned)(3 * 3600 + i % 86400);
    vg_sbuf_printf(o, "<%u>1 2025-11-29T%02u:%02u:%02u.%06u%s %s ", i & 1 ? 38u : 165u,
                   t / 3600 % 24, t / 60 % 60, t % 60, rnd(1000000), i & 2 ? "Z" : "+01:00",
                   hosts[i % 4]);
    if (i & 1) {
        vg_sbuf_printf(o, "sshd %u - - Failed password for invalid user %s from %s port %u ssh2\n",
                       1000 + rnd(60000), PICK(users), ip, 1024 + rnd(64000));
    } else {
        vg_sbuf_printf(o,
                       "billing %u ID%u [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" "
                       "eventID=\"1011\"][origin ip=\"%s\"] invoice %u paid by %s\n",
                       1000 + rnd(60000), rnd(100), ip, rnd(1000000), PICK(users));
    }
}

static void gen_sudo(struct vg_sbuf *o, uint64_t i)
{
    static const char *const cmds[] = {"/usr/bin/systemctl restart nginx", "/bin/cat /etc/shadow",
                                       "/usr/bin/apt-get update", "/bin/bash"};
    bsd_ts(o, i);
    vg_sbuf_printf(o, "%s sudo:    %s : TTY=pts/%u ; PWD=/home/%s ; USER=root ; COMMAND=%s\n",
                   hosts[i % 4], PICK(users), rnd(9), PICK(users), PICK(cmds));
}

/* One audit event = SYSCALL, EXECVE, CWD, PATH x2, PROCTITLE, EOE (7 lines). */
static void gen_auditd(struct vg_sbuf *o, uint64_t i)
{
    unsigned long serial = 1000 + (unsigned long)i / 7;
    unsigned k = (unsigned)(i % 7), pid = 2000 + rnd(30000);
    const char *id = "1700000000.123";
    switch (k) {
    case 0:
        vg_sbuf_printf(o,
                       "type=SYSCALL msg=audit(%s:%lu): arch=c000003e syscall=59 success=yes "
                       "exit=0 a0=55d5 a1=55d6 a2=55d7 a3=0 items=2 ppid=%u pid=%u auid=1000 "
                       "uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 "
                       "fsgid=1000 tty=pts0 ses=3 comm=\"curl\" exe=\"/usr/bin/curl\" "
                       "subj=unconfined key=\"exec\"\n",
                       id, serial, pid - 1, pid);
        break;
    case 1:
        vg_sbuf_printf(o,
                       "type=EXECVE msg=audit(%s:%lu): argc=3 a0=\"curl\" a1=\"-s\" "
                       "a2=687474703A2F2F6576696C2E6578616D706C652F78\n",
                       id, serial);
        break;
    case 2:
        vg_sbuf_printf(o, "type=CWD msg=audit(%s:%lu): cwd=\"/home/alice\"\n", id, serial);
        break;
    case 3:
    case 4:
        vg_sbuf_printf(o,
                       "type=PATH msg=audit(%s:%lu): item=%u name=\"%s\" inode=1234 "
                       "dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL "
                       "cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0\n",
                       id, serial, k - 3, k == 3 ? "/usr/bin/curl" : "/lib64/ld-linux-x86-64.so.2");
        break;
    case 5:
        vg_sbuf_printf(o,
                       "type=PROCTITLE msg=audit(%s:%lu): proctitle=6375726C002D7300687474703A2F2F"
                       "6576696C2E6578616D706C652F78\n",
                       id, serial);
        break;
    default:
        vg_sbuf_printf(o, "type=EOE msg=audit(%s:%lu): \n", id, serial);
    }
}

static void gen_cef(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    bsd_ts(o, i);
    vg_sbuf_printf(o,
                   "fw01 CEF:0|Security|threatmanager|1.0|%u|worm successfully stopped|%u|"
                   "rt=1700000000000 src=%s spt=%u dst=10.0.0.%u dpt=443 proto=TCP "
                   "suser=%s act=blocked cs1Label=policy cs1=Block all msg=Detected a "
                   "threat. No action needed\n",
                   100 + rnd(50), rnd(11), ip, 1024 + rnd(60000), 1 + rnd(250), PICK(users));
}

static void gen_leef(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    vg_sbuf_printf(o,
                   "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=%s^dst=10.0.0.%u^srcPort=%u^"
                   "dstPort=443^proto=6^usrName=%s^sev=%u^cat=Suspicious\n",
                   ip, 1 + rnd(250), 1024 + rnd(60000), PICK(users), 1 + rnd(9));
}

static void gen_fortigate(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    vg_sbuf_printf(o,
                   "date=2025-11-29 time=%02u:%02u:%02u devname=\"FGT60E\" "
                   "devid=\"FGT60ETK1900000\" logid=\"0000000013\" type=\"traffic\" "
                   "subtype=\"forward\" level=\"notice\" vd=\"root\" "
                   "eventtime=1764385200000000000 srcip=%s srcport=%u srcintf=\"wan1\" "
                   "srcintfrole=\"wan\" dstip=10.0.0.%u dstport=443 dstintf=\"internal\" "
                   "sessionid=%u proto=6 action=\"deny\" policyid=0 service=\"HTTPS\" "
                   "sentbyte=0 rcvdbyte=0\n",
                   (unsigned)(i / 3600 % 24), (unsigned)(i / 60 % 60), (unsigned)(i % 60), ip,
                   1024 + rnd(60000), 1 + rnd(250), rnd(1000000));
}

static void gen_asa(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    bsd_ts(o, i);
    if (rnd(2)) {
        vg_sbuf_printf(o,
                       "asa01 %%ASA-6-302013: Built inbound TCP connection %u for "
                       "outside:%s/%u (%s/%u) to inside:10.0.0.%u/443 (10.0.0.1/443)\n",
                       rnd(999999), ip, 1024 + rnd(60000), ip, 1024 + rnd(60000), 1 + rnd(250));
    } else {
        vg_sbuf_printf(o,
                       "asa01 %%ASA-4-106023: Deny tcp src outside:%s/%u dst inside:10.0.0.%u/22 "
                       "by access-group \"outside_in\" [0x0, 0x0]\n",
                       ip, 1024 + rnd(60000), 1 + rnd(250));
    }
}

static void gen_iptables(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    bsd_ts(o, i);
    vg_sbuf_printf(o,
                   "%s kernel: [%u.%06u] [UFW BLOCK] IN=eth0 OUT= MAC=00:11:22:33:44:55:"
                   "66:77:88:99:aa:bb:08:00 SRC=%s DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 "
                   "TTL=52 ID=%u DF PROTO=TCP SPT=%u DPT=%u WINDOW=64240 RES=0x00 SYN URGP=0\n",
                   hosts[i % 4], rnd(100000), rnd(1000000), ip, rnd(65535), 1024 + rnd(60000),
                   rnd(2) ? 22 : 3389);
}

static void gen_access(struct vg_sbuf *o, uint64_t i)
{
    static const char *const paths[] = {"/", "/index.php?id=1", "/wp-login.php",
                                        "/api/v1/items?page=2", "/static/app.js"};
    char ip[32];
    attacker(ip, sizeof(ip));
    vg_sbuf_printf(o,
                   "%s - - [29/Nov/2025:%02u:%02u:%02u +0000] \"GET %s HTTP/1.1\" %u %u "
                   "\"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\"\n",
                   ip, (unsigned)(i / 3600 % 24), (unsigned)(i / 60 % 60), (unsigned)(i % 60),
                   PICK(paths), rnd(4) ? 200 : 404, 200 + rnd(20000));
}

static void gen_suricata(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    vg_sbuf_printf(o,
                   "{\"timestamp\":\"2025-11-29T03:00:%02u.123456+0000\",\"flow_id\":%u,"
                   "\"in_iface\":\"eth0\",\"event_type\":\"alert\",\"src_ip\":\"%s\","
                   "\"src_port\":%u,\"dest_ip\":\"10.0.0.%u\",\"dest_port\":80,\"proto\":\"TCP\","
                   "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":2024897,"
                   "\"rev\":2,\"signature\":\"ET USER_AGENTS Go HTTP Client User-Agent\","
                   "\"category\":\"Misc activity\",\"severity\":3},\"http\":{\"hostname\":"
                   "\"example.com\",\"url\":\"/x\",\"http_user_agent\":\"Go-http-client/1.1\","
                   "\"http_method\":\"GET\",\"status\":200}}\n",
                   (unsigned)(i % 60), rnd(1u << 30), ip, 1024 + rnd(60000), 1 + rnd(250));
}

static void gen_winlogbeat(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    vg_sbuf_printf(o,
                   "{\"@timestamp\":\"2025-11-29T03:00:%02u.000Z\",\"event\":{\"code\":\"4625\","
                   "\"provider\":\"Microsoft-Windows-Security-Auditing\",\"action\":\"logon-"
                   "failed\"},\"host\":{\"name\":\"dc01.corp\"},\"winlog\":{\"channel\":"
                   "\"Security\",\"event_id\":4625,\"provider_name\":\"Microsoft-Windows-"
                   "Security-Auditing\",\"computer_name\":\"dc01.corp\",\"record_id\":%u,"
                   "\"event_data\":{\"SubjectUserSid\":\"S-1-0-0\",\"TargetUserName\":\"%s\","
                   "\"TargetDomainName\":\"CORP\",\"Status\":\"0xc000006d\",\"LogonType\":\"3\","
                   "\"IpAddress\":\"%s\",\"IpPort\":\"%u\",\"WorkstationName\":\"-\"}}}\n",
                   (unsigned)(i % 60), rnd(1u << 30), PICK(users), ip, 1024 + rnd(60000));
}

static void gen_zeek(struct vg_sbuf *o, uint64_t i)
{
    char ip[32];
    attacker(ip, sizeof(ip));
    vg_sbuf_printf(o,
                   "{\"ts\":1764385200.%06u,\"uid\":\"C%08x\",\"id.orig_h\":\"%s\","
                   "\"id.orig_p\":%u,\"id.resp_h\":\"10.0.0.%u\",\"id.resp_p\":22,\"proto\":"
                   "\"tcp\",\"service\":\"ssh\",\"duration\":0.5,\"orig_bytes\":%u,"
                   "\"resp_bytes\":%u,\"conn_state\":\"SF\",\"history\":\"ShADadFf\"}\n",
                   rnd(1000000), rnd(0xffffffffu), ip, 1024 + rnd(60000), 1 + rnd(250), rnd(5000),
                   rnd(5000));
}

typedef void (*gen_fn)(struct vg_sbuf *o, uint64_t i);

struct stream {
    const char *name;
    gen_fn gen;
};

static const struct stream streams[] = {
    {"auth.log (sshd)", gen_authlog},
    {"syslog <PRI> (sshd)", gen_authpri},
    {"rfc5424", gen_rfc5424},
    {"other syslog programs", gen_other},
    {"sudo", gen_sudo},
    {"auditd (7 records/event)", gen_auditd},
    {"cef", gen_cef},
    {"leef", gen_leef},
    {"fortigate kv", gen_fortigate},
    {"cisco asa", gen_asa},
    {"iptables", gen_iptables},
    {"apache access", gen_access},
    {"suricata eve", gen_suricata},
    {"winlogbeat", gen_winlogbeat},
    {"zeek conn", gen_zeek},
};

static void gen_mixed(struct vg_sbuf *o, uint64_t i)
{
    size_t k = i % (VG_ARRAY_LEN(streams) + 6);
    /* auth lines weigh more, as on a real server; auditd keeps its record order */
    gen_fn f = k < 7 ? gen_authpri : k == 7 ? gen_auditd : streams[k - 6].gen;
    f(o, f == gen_auditd ? i / VG_ARRAY_LEN(streams) : i);
}

/* ---------------------------------------------------------------- the Wazuh corpus */

/* The log column of ORACLE_logtests.tsv (8th, to the end of the line), loaded once. */
static struct {
    char *data;
    const char **p;
    size_t *len;
    size_t n;
} wz;

static bool wazuh_load(const char *path)
{
    size_t len = 0;
    if (vg_file_read(path, 1 << 26, &wz.data, &len) != VG_OK) {
        return false;
    }
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) {
        cap += wz.data[i] == '\n';
    }
    wz.p = vg_calloc(cap, sizeof(*wz.p));
    wz.len = vg_calloc(cap, sizeof(*wz.len));
    const char *s = strchr(wz.data, '\n'), *end = wz.data + len; /* skip the header */
    while (wz.p && wz.len && s && ++s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s)), *f = s;
        const char *eol = nl ? nl : end;
        for (int k = 0; k < 7 && f; k++) {
            f = memchr(f, '\t', (size_t)(eol - f));
            f = f ? f + 1 : NULL;
        }
        if (f && f < eol) {
            wz.p[wz.n] = f;
            wz.len[wz.n++] = (size_t)(eol - f);
        }
        s = nl;
    }
    return wz.n > 0;
}

static void gen_wazuh(struct vg_sbuf *o, uint64_t i)
{
    size_t k = (size_t)(i % wz.n);
    vg_sbuf_add(o, wz.p[k], wz.len[k]);
    vg_sbuf_addc(o, '\n');
}

/* ---------------------------------------------------------------- run */

struct lines {
    const char **p;
    size_t *len;
    size_t n;
    size_t bytes;
    struct vg_sbuf text;
};

static int build(struct lines *l, gen_fn gen, size_t n)
{
    memset(l, 0, sizeof(*l));
    for (size_t i = 0; i < n; i++) {
        gen(&l->text, i);
    }
    if (l->text.err) {
        return VG_ENOMEM;
    }
    l->p = vg_calloc(n, sizeof(*l->p));
    l->len = vg_calloc(n, sizeof(*l->len));
    if (!l->p || !l->len) {
        return VG_ENOMEM;
    }
    const char *s = l->text.p, *end = s + l->text.len;
    while (s < end && l->n < n) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
        l->p[l->n] = s;
        l->len[l->n++] = len;
        l->bytes += len + 1;
        s += len + 1;
    }
    return VG_OK;
}

static void lines_free(struct lines *l)
{
    vg_free(l->p);
    vg_free(l->len);
    vg_sbuf_fini(&l->text);
}

struct job {
    const struct lines *l;
    int repeat;
    uint64_t events, fields, rejected;
};

static void *run(void *arg)
{
    struct job *j = arg;
    struct vg_decoder_opts o = {.default_year = 2025};
    struct vg_decoder *d = vg_decoder_create(&o);
    struct vg_event *ev = vg_event_create();
    for (int r = 0; d && ev && r < j->repeat; r++) {
        for (size_t i = 0; i < j->l->n; i++) {
            int rc = vg_decoder_decode(d, j->l->p[i], j->l->len[i], ev);
            while (rc == VG_OK || rc == VG_EINVAL) {
                j->events += rc == VG_OK;
                j->fields += rc == VG_OK ? ev->n : 0;
                j->rejected += rc == VG_EINVAL;
                rc = vg_decoder_next(d, ev);
            }
        }
        while (vg_decoder_flush(d, ev) == VG_OK) {
            j->events++;
        }
    }
    vg_event_destroy(ev);
    vg_decoder_destroy(d);
    return NULL;
}

static void bench_one(const char *name, gen_fn gen, size_t n, int repeat, int threads)
{
    struct lines l;
    struct job jobs[64];
    pthread_t tid[64];
    if (build(&l, gen, n) != VG_OK) {
        fprintf(stderr, "bench_decode: out of memory\n");
        return;
    }
    memset(jobs, 0, sizeof(jobs));
    uint64_t t0 = vg_clock_ns();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){.l = &l, .repeat = repeat};
        pthread_create(&tid[t], NULL, run, &jobs[t]);
    }
    uint64_t events = 0, fields = 0, rejected = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        events += jobs[t].events;
        fields += jobs[t].fields;
        rejected += jobs[t].rejected;
    }
    double secs = (double)(vg_clock_ns() - t0) / 1e9;
    double total = (double)l.n * repeat * threads;
    printf("%-26s %9.0f records/s %7.1f MB/s %9.0f events/s %5.1f fields/event", name, total / secs,
           (double)l.bytes * repeat * threads / secs / 1e6, (double)events / secs,
           events ? (double)fields / (double)events : 0.0);
    if (rejected) {
        printf("  (%" PRIu64 " rejected)", rejected);
    }
    printf("\n");
    lines_free(&l);
}

static void dump(gen_fn gen, size_t n)
{
    struct lines l;
    if (build(&l, gen, n) != VG_OK) {
        return;
    }
    struct vg_decoder *d = vg_decoder_create(NULL);
    struct vg_event *ev = vg_event_create();
    struct vg_sbuf out = VG_SBUF_INIT;
    for (size_t i = 0; d && ev && i < l.n; i++) {
        printf("%.*s\n", (int)l.len[i], l.p[i]);
        if (vg_decoder_decode(d, l.p[i], l.len[i], ev) == VG_OK) {
            vg_sbuf_reset(&out);
            vg_event_write_json(ev, &out);
            printf("  -> %s\n", out.p);
        }
    }
    vg_sbuf_fini(&out);
    vg_event_destroy(ev);
    vg_decoder_destroy(d);
    lines_free(&l);
}

/* ---------------------------------------------------------------- pathological records */

/*
 * Records near the 1 MiB default limit made of one unit repeated, shaped after what each
 * decoder searches for: a decoder whose work grows faster than the record (a search from
 * every match to the end, a re-check per JSON document) shows up as seconds instead of
 * milliseconds. `--worst` prints the time per record.
 */
static const struct {
    const char *name, *prefix, *unit, *suffix;
} worst[] = {
    {"json: {} documents", "", "{}", ""},
    {"json: small documents", "", "{\"a\":1} ", ""},
    {"json: many keys", "{\"z\":0", ",\"a\":1", "}"},
    {"json: long array", "{\"a\":[0", ",1", "]}"},
    {"auditd: unclosed msg=audit(", "type=SYSCALL msg=audit(1.1:1): ", "type=A msg=audit( ", ""},
    {"auditd: records on one line",
     "type=SYSCALL msg=audit(1.1:1): ", "type=A msg=audit(1.1:1): ", ""},
    {"auditd: nested msg='", "type=USER_LOGIN msg=audit(1.1:1): msg='", "a='", ""},
    {"kv: pairs", "", "k=v ", ""},
    {"kv: unclosed quotes", "a=1 b=2 c=3 ", "d=\"x ", ""},
    {"cef: extension pairs", "CEF:0|a|b|c|d|e|5|", "k=v ", ""},
    {"leef: pairs", "LEEF:2.0|a|b|c|d|^|", "k=v^", ""},
    {"syslog: tags", "Nov 29 03:00:01 h ", "a[", ""},
    {"sshd: user prefixes", "Nov 29 03:00:01 h sshd[1]: Failed password for ", "invalid user ",
     "x from 1.2.3.4 port 1 ssh2"},
    {"cisco asa: endpoints", "%ASA-4-106023: Deny tcp ", "src a:1.2.3.4/1 dst b:1.2.3.4/2 ", ""},
    {"netfilter: OUT=", "kernel: IN= ", " OUT=", ""},
    {"checkpoint: quotes", "<134>1 2025-11-29T03:00:00Z h CheckPoint 1 - [", "a:\"", "]"},
    {"xml: elements", "<a>", "<b>x</b>", "</a>"},
    {"windows xml: Data", "<Event xmlns=\"x\"><EventData>", "<Data Name=\"a\">x</Data>",
     "</EventData></Event>"},
    {"web: escaped quotes", "1.2.3.4 - - [29/Nov/2025:03:00:00 +0000] \"GET ", "\\\"",
     " HTTP/1.1\" 200 1"},
    {"csv: commas", "1,2019/01/01 00:00:00,x,TRAFFIC,", ",", ""},
};

/* Decode one record of about size bytes built from worst[k]; milliseconds, events. */
static double worst_one(struct vg_decoder *d, struct vg_event *ev, struct vg_sbuf *rec, size_t k,
                        size_t size, uint64_t *events)
{
    size_t ul = strlen(worst[k].unit), sl = strlen(worst[k].suffix);
    vg_sbuf_reset(rec);
    vg_sbuf_adds(rec, worst[k].prefix);
    while (rec->len + ul + sl <= size) {
        vg_sbuf_add(rec, worst[k].unit, ul);
    }
    vg_sbuf_adds(rec, worst[k].suffix);
    *events = 0;
    uint64_t t0 = vg_clock_ns();
    int rc = rec->err ? VG_ENOMEM : vg_decoder_decode(d, rec->p, rec->len, ev);
    while (rc == VG_OK || rc == VG_EINVAL) {
        *events += rc == VG_OK;
        rc = vg_decoder_next(d, ev);
    }
    while (vg_decoder_flush(d, ev) == VG_OK) {
        (*events)++;
    }
    return (double)(vg_clock_ns() - t0) / 1e6;
}

/*
 * Records made of one unit repeated, shaped after what each decoder searches for, of 1 MB
 * (about the default record limit) and 4 MB (the limit raised for this): a decoder whose
 * work grows linearly takes about 4 times as long for the larger one, a quadratic one (a
 * search from every match to the end, a re-check per JSON document) about 16 times.
 * `--worst` prints both times and the ratio.
 */
static void bench_worst(void)
{
    struct vg_decoder_opts o = {.max_record = 8u << 20};
    struct vg_decoder *d = vg_decoder_create(&o);
    struct vg_event *ev = vg_event_create();
    struct vg_sbuf rec = VG_SBUF_INIT;
    printf("%-30s %10s %10s %6s %8s\n", "pathological record", "1 MB", "4 MB", "ratio", "events");
    for (size_t k = 0; d && ev && k < VG_ARRAY_LEN(worst); k++) {
        uint64_t e1, e4;
        double t1 = worst_one(d, ev, &rec, k, 1000000, &e1);
        double t4 = worst_one(d, ev, &rec, k, 4000000, &e4);
        printf("%-30s %7.1f ms %7.1f ms %6.1f %8" PRIu64 "\n", worst[k].name, t1, t4,
               t1 > 0 ? t4 / t1 : 0.0, e4);
    }
    vg_sbuf_fini(&rec);
    vg_event_destroy(ev);
    vg_decoder_destroy(d);
}

static bool arg_int(const char *s, int64_t min, int64_t max, int64_t *v)
{
    return s && vg_parse_i64(s, strlen(s), v) == VG_OK && *v >= min && *v <= max;
}

int main(int argc, char **argv)
{
    int64_t n = 200000, repeat = 5, threads = 1;
    const char *only = NULL, *dumpname = NULL, *wazuh = NULL;
    for (int i = 1; i < argc; i++) {
        bool ok = true;
        if (!strcmp(argv[i], "-n")) {
            ok = arg_int(argv[++i < argc ? i : i - 1], 1, 100000000, &n);
        } else if (!strcmp(argv[i], "-r")) {
            ok = arg_int(argv[++i < argc ? i : i - 1], 1, 1000, &repeat);
        } else if (!strcmp(argv[i], "-t")) {
            ok = arg_int(argv[++i < argc ? i : i - 1], 1, 64, &threads);
        } else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--dump") && i + 1 < argc) {
            dumpname = argv[++i];
        } else if (!strcmp(argv[i], "--wazuh") && i + 1 < argc) {
            wazuh = argv[++i];
        } else if (!strcmp(argv[i], "--worst")) {
            bench_worst();
            return 0;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "usage: bench_decode [-n LINES] [-r REPEAT] [-t THREADS] "
                            "[--only NAME] [--dump NAME] [--wazuh TSV] [--worst]\n");
            return 2;
        }
    }
    for (size_t k = 0; dumpname && k < VG_ARRAY_LEN(streams); k++) {
        if (strstr(streams[k].name, dumpname)) {
            dump(streams[k].gen, 20);
            return 0;
        }
    }
    printf("decoder chain: %" PRId64 " lines x %" PRId64 " passes, %" PRId64 " thread(s)\n", n,
           repeat, threads);
    for (size_t k = 0; k < VG_ARRAY_LEN(streams); k++) {
        if (!only || strstr(streams[k].name, only)) {
            bench_one(streams[k].name, streams[k].gen, (size_t)n, (int)repeat, (int)threads);
        }
    }
    if (!only || strstr("mixed", only)) {
        bench_one("mixed (all of the above)", gen_mixed, (size_t)n, (int)repeat, (int)threads);
    }
    if (!only || strstr("wazuh corpus", only)) {
        char def[4096];
        const char *shared = getenv("VG_SHARED");
        snprintf(def, sizeof(def), "%s/corpus/wazuh-logtests/ORACLE_logtests.tsv",
                 shared ? shared : "../shared");
        if (wazuh_load(wazuh ? wazuh : def)) {
            bench_one("wazuh corpus (mix)", gen_wazuh, (size_t)n, (int)repeat, (int)threads);
        } else {
            printf("%-26s skipped: %s not readable\n", "wazuh corpus (mix)", wazuh ? wazuh : def);
        }
        vg_free(wz.p);
        vg_free(wz.len);
        vg_free(wz.data);
    }
    return 0;
}
