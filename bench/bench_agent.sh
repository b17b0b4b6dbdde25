#!/bin/sh
# bench/bench_agent.sh [BUILD] — the whole vigie-agent (default collectors: process, fim,
# network, inventory; spool; mutual-TLS transport to a real server on loopback) while this
# host runs 200 execs/s for 20 s: the agent's CPU (utime+stime from /proc) as % of one core,
# its RSS and peak RSS, and how many of the execs reached the server. Needs root.
# Target (issue 5): CPU < 2 % of one core, RSS < 40 MB.
set -u
B=${1:-build}
B=$(cd "$B" && pwd)
T=$(mktemp -d)
SPID=""
APID=""
trap '[ -n "$APID" ] && kill $APID 2>/dev/null; [ -n "$SPID" ] && kill $SPID; wait; rm -rf "$T"' EXIT
HTTP=18491
cat >"$T/vigie.yml" <<Y
data_dir: $T/data
http: {listen: 127.0.0.1:$HTTP}
syslog: {udp: [], tcp: []}
fleet: {listen: 127.0.0.1:18492}
playbooks: {builtin: false}
Y
TOKEN=$("$B/vigie" token create --data "$T/data" bench --role admin 2>/dev/null)
"$B/vigie" server -c "$T/vigie.yml" >"$T/server.log" 2>&1 &
SPID=$!
until curl -sf "http://127.0.0.1:$HTTP/healthz" >/dev/null 2>&1; do sleep 0.1; done
ET=$(curl -s -H "Authorization: Bearer $TOKEN" -X POST --data '{"ttl":"1h","uses":1}' \
    "http://127.0.0.1:$HTTP/api/v1/agents/enroll-tokens" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
"$B/vigie-agent" enroll --server "http://127.0.0.1:$HTTP" --token "$ET" --state "$T/agent" >/dev/null
"$B/vigie-agent" run --state "$T/agent" >"$T/agent.log" 2>&1 &
APID=$!
sleep 5 # collectors start, the FIM baseline of the default paths is taken
if [ -n "${PERF:-}" ]; then
    perf record -g -o "$T/perf.data" -p "$APID" -- sleep 15 >/dev/null 2>&1 &
    PERFPID=$!
fi
python3 - "$APID" <<'PY'
import os, subprocess, sys, time
pid = int(sys.argv[1]); hz = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
def mem(k):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith(k):
            return int(l.split()[1]) / 1024
c0, t0, n = cpu(), time.time(), 0
while time.time() - t0 < 20:
    subprocess.run(["/bin/true", "vgbench-exec"])
    n += 1
    time.sleep(max(0, t0 + n / 200 - time.time()))
wall = time.time() - t0
time.sleep(2)
c1 = cpu()
print(f"execs: {n} in {wall:.1f} s ({n / wall:.0f}/s)")
print(f"vigie-agent CPU: {100 * (c1 - c0) / (wall + 2):.2f} % of one core (target < 2 %)")
print(f"vigie-agent RSS: {mem('VmRSS'):.1f} MB, peak {mem('VmHWM'):.1f} MB (target < 40 MB)")
PY
sleep 2
if [ -n "${PERF:-}" ]; then
    wait "$PERFPID" 2>/dev/null
    perf report -i "$T/perf.data" --no-children --percent-limit 2 --stdio 2>/dev/null | grep -E "^ +[0-9]" | head -25
fi
curl -s -G -H "Authorization: Bearer $TOKEN" --data-urlencode "q=process.name=true" \
    --data-urlencode "limit=10000" "http://127.0.0.1:$HTTP/api/v1/search" |
    python3 -c 'import sys,json; print("exec events stored by the server:", sum(1 for e in json.load(sys.stdin).get("events", []) if "vgbench-exec" in e.get("process.command_line", "")))'
