#!/bin/sh
# test_agent_e2e.sh VIGIE — issue 5 end to end with the real binaries on loopback:
#   1. a server with the fleet listener; an enrollment token; `vigie-agent enroll` gets a
#      certificate; `vigie-agent run` starts the process, file-integrity and network
#      collectors; the test runs processes, edits files, opens a socket (each marked with
#      its own unique values — the machine is shared) and finds those events in the server's
#      store, with a Sigma rule firing on one of them;
#   2. the server is stopped while the agent keeps producing events, then started again:
#      every event arrives exactly once, in order;
#   3. an agent command through the API (signed by the server) runs on the agent;
#   4. the agent's package inventory reaches the server, which matches it against the
#      advisory database (the tracker fixture) and lists the host and its findings under
#      /api/v1/vulns (issue 8).
set -u
VIGIE=${1:?usage: test_agent_e2e.sh path/to/vigie}
VIGIE=$(cd "$(dirname "$VIGIE")" && pwd)/$(basename "$VIGIE")
AGENT=$(dirname "$VIGIE")/vigie-agent
T=$(mktemp -d)
SPID=""
APID=""
cleanup() {
    [ -n "$APID" ] && kill "$APID" 2>/dev/null
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null
    wait 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/cli_lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the agent's collectors need root"; exit 0; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 0; }
[ -x "$AGENT" ] || { echo "FAIL: $AGENT missing"; exit 1; }

MARK=vgmark$$x$(date +%s)
set -- $(free_ports 2)
HTTP=$1
FLEET=$2
mkdir -p "$T/rules" "$T/watched"
cat >"$T/rules/marker.yml" <<EOF
title: Marker process seen by the agent
id: 7d1c0a52-2a0e-4c59-9c1d-000000000001
status: test
level: high
logsource: {product: linux, category: process_creation}
detection:
    sel:
        CommandLine|contains: '$MARK-rule'
    condition: sel
EOF
cat >"$T/vigie.yml" <<EOF
data_dir: $T/data
http: {listen: 127.0.0.1:$HTTP}
syslog: {udp: [], tcp: []}
rules: {paths: [$T/rules]}
fleet: {listen: 127.0.0.1:$FLEET}
playbooks: {builtin: false}
EOF
cat >"$T/agent.yml" <<EOF
collectors:
  process: {}
  fim: {paths: [$T/watched], scan_interval: 1h}
  network: {interval_ms: 500}
  inventory: {}
EOF
"$VIGIE" vuln db import --db "$T/data/vuln" tests/unit/vuln/data/db/tracker.json >"$T/vdb.log" 2>&1
TOKEN=$("$VIGIE" token create --data "$T/data" e2e --role admin 2>/dev/null)
start_server() {
    "$VIGIE" server -c "$T/vigie.yml" >>"$T/server.log" 2>&1 &
    SPID=$!
    wait_server "$HTTP" "$T/server.log"
}
count() { # events of the agent's collector $2 found by query $1 that hold the string $3
    api -G --data-urlencode "q=$1" --data-urlencode "limit=10000" \
        "http://127.0.0.1:$HTTP/api/v1/search" |
        python3 -c 'import sys,json; print(sum(1 for e in json.load(sys.stdin).get("events",[])
            if e.get("event.dataset") == sys.argv[1] and sys.argv[2] in json.dumps(e)))' "$2" "$3" \
        2>/dev/null || echo 0
}
wait_count() { # query dataset string minimum
    i=0
    while [ "$(count "$1" "$2" "$3")" -lt "$4" ] && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.1; done
}
start_server

# ------------------------------------------------------------------ enrol and run the agent
ET=$(api -X POST --data '{"ttl":"1h","uses":1}' "http://127.0.0.1:$HTTP/api/v1/agents/enroll-tokens" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
check "an enrollment token was made" "[ -n \"$ET\" ]"
"$AGENT" enroll --server "http://127.0.0.1:$HTTP" --token "$ET" --state "$T/agent" \
    --hostname "e2e-$MARK" >"$T/enroll.log" 2>&1
check "vigie-agent enroll got a certificate" "[ -s \"$T/agent/agent.crt\" ] && [ -s \"$T/agent/agent.json\" ]"
check "the token is spent (a second enrollment is refused)" \
    "! \"$AGENT\" enroll --server http://127.0.0.1:$HTTP --token \"$ET\" --state \"$T/agent2\" >/dev/null 2>&1"
"$AGENT" run --state "$T/agent" -c "$T/agent.yml" >"$T/agent.log" 2>&1 &
APID=$!
i=0
until api "http://127.0.0.1:$HTTP/api/v1/agents" | grep -q '"online"'; do
    i=$((i + 1))
    [ $i -gt 100 ] && break
    sleep 0.1
done
api "http://127.0.0.1:$HTTP/api/v1/agents" >"$T/agents.json"
check "the agent is online with its collectors' backends" \
    "grep -q '\"online\"' \"$T/agents.json\" && grep -q '\"process\"' \"$T/agents.json\""
sleep 1 # collectors settle

# ------------------------------------------------------------------ 1. events reach the store
for k in 1 2 3; do
    /bin/sh -c "exec /bin/echo $MARK-proc-$k" >/dev/null
done
/bin/sh -c "exec /bin/echo $MARK-rule" >/dev/null
echo "secret" >"$T/watched/$MARK.conf"
python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
open('$T/port', 'w').write(str(s.getsockname()[1]))
c = socket.create_connection(s.getsockname()); a, _ = s.accept(); time.sleep(2)
"
PORT=$(cat "$T/port")
wait_count "process.name=echo" process "/bin/echo $MARK-proc-" 3
check "the marked processes' exec events are stored" \
    "[ \"\$(count process.name=echo process \"/bin/echo $MARK-proc-\")\" -eq 3 ]"
wait_count "event.category=file" fim "$T/watched/$MARK.conf" 1
check "the file creation is stored" "[ \"\$(count event.category=file fim \"$MARK.conf\")\" -ge 1 ]"
wait_count "event.category=network" network "\"destination.port\": $PORT" 1
check "the connection to the test's own port is stored, with its process" \
    "[ \"\$(count event.category=network network \"\\\"destination.port\\\": $PORT\")\" -ge 1 ]"
i=0
while ! api "http://127.0.0.1:$HTTP/api/v1/alerts" | grep -q "Marker process seen" && [ $i -lt 100 ]; do
    i=$((i + 1)); sleep 0.1
done
check "the Sigma process_creation rule fired on the agent's event" \
    "api http://127.0.0.1:$HTTP/api/v1/alerts | grep -q 'Marker process seen'"

# ------------------------------------------------------------------ 2. server away
kill "$SPID"
wait "$SPID" 2>/dev/null
SPID=""
N=50
for k in $(seq 1 $N); do
    /bin/sh -c "exec /bin/echo $MARK-away-$k" >/dev/null
done
sleep 1
start_server
wait_count "process.name=echo" process "$MARK-away-" $N
api -G --data-urlencode "q=$MARK-away event.action=exec" --data-urlencode "limit=10000" \
    "http://127.0.0.1:$HTTP/api/v1/search" >"$T/away.json"
python3 - "$T/away.json" "$N" "$MARK" <<'PY' >"$T/away.txt"
import json, sys
evs = json.load(open(sys.argv[1]))["events"]
n, mark = int(sys.argv[2]), sys.argv[3]
ks = []
for e in evs:
    cl = e.get("process.command_line", "")
    if mark + "-away-" in cl and e.get("process.executable", "").endswith("echo"):
        ks.append((e["@timestamp"], int(cl.rsplit("-", 1)[1])))
seen = sorted(k for _, k in ks)
print("events", len(ks))
print("distinct", len(set(seen)))
print("complete", seen == list(range(1, n + 1)))
print("ordered", [k for _, k in sorted(ks)] == sorted(k for _, k in ks))
PY
cat "$T/away.txt"
check "every event made while the server was away arrived" "grep -q 'complete True' \"$T/away.txt\""
check "each exactly once" "grep -q \"^events $N\$\" \"$T/away.txt\""
check "in order" "grep -q 'ordered True' \"$T/away.txt\""

# ------------------------------------------------------------------ 3. a signed command
AID=$(python3 -c "import json; print(json.load(open('$T/agent/agent.json'))['agent_id'])")
echo "evidence-$MARK" >"$T/evidence.txt"
api -X POST --data "{\"action\":\"collect_file\",\"args\":{\"path\":\"$T/evidence.txt\",\"max_bytes\":1024}}" \
    "http://127.0.0.1:$HTTP/api/v1/agents/$AID/commands" >"$T/cmd.json"
i=0
while ! api "http://127.0.0.1:$HTTP/api/v1/agents/$AID/commands" | grep -q '"ok"' && [ $i -lt 100 ]; do
    i=$((i + 1)); sleep 0.1
done
check "a signed command ran on the agent and its result came back" \
    "api http://127.0.0.1:$HTTP/api/v1/agents/$AID/commands | grep -q '\"ok\"'"

# ------------------------------------------------------------------ 4. packages → findings
NPKG=$(dpkg-query -W -f '${db:Status-Abbrev}\n' 2>/dev/null | grep -c '^.i')
i=0
until api "http://127.0.0.1:$HTTP/api/v1/vulns/hosts/$AID" 2>/dev/null | grep -q '"pending":false'; do
    i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.1
done
api "http://127.0.0.1:$HTTP/api/v1/vulns/hosts/$AID" >"$T/vhost.json"
check "the agent's host is known to /api/v1/vulns with its OS" \
    "grep -q '\"name\":\"' \"$T/vhost.json\" && grep -q '\"ecosystem\":\"Debian:12\"' \"$T/vhost.json\""
check "with every installed package of this machine ($NPKG)" \
    "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d[\"host\"][\"packages\"]==int(sys.argv[2]) else 1)' \"$T/vhost.json\" $NPKG"
if dpkg-query -W libssl3 >/dev/null 2>&1; then
    check "and the tracker's open OpenSSL issue as a finding that says why" \
        "grep -q 'CVE-2099-1001' \"$T/vhost.json\" && grep -q '\"why\":\"libssl3 ' \"$T/vhost.json\""
fi

if [ "$fails" -ne 0 ]; then
    echo "--- agent log"; tail -30 "$T/agent.log"
    echo "--- server log"; grep -v api_http "$T/server.log" | tail -30
fi
echo "$fails failed"
[ "$fails" -eq 0 ]
