#!/bin/sh
# test_agent_config.sh VIGIE — remote configuration and YARA (issue 5), end to end with the
# real binaries on loopback:
#   1. PUT /api/v1/agents/{id}/config is refused with a clear 400 for a bad body (unknown
#      collector, unknown key, YARA rule that does not compile), 403 for a reader;
#   2. a valid configuration (fim on a watched path + yara with a rule matching a marker)
#      reaches the running agent as a CONFIG frame: it restarts/starts the collectors, keeps
#      it in STATE/remote-config.json, reports config_applied (stored) and the registry
#      shows yara's backend;
#   3. a marker file written into the watched path gives a yara_match event (FIM → yara);
#   4. a "scan" command through POST /api/v1/agents/{id}/commands returns the match with the
#      collector's rules, and with rules given in the command;
#   5. after the session ends the agent reconnects with a HELLO carrying the new map;
#   6. the agent restarted without a server keeps the remote configuration (yara runs).
set -u
VIGIE=${1:?usage: test_agent_config.sh path/to/vigie}
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

MARK=vgcfg$$x$(date +%s)
set -- $(free_ports 2)
HTTP=$1
FLEET=$2
mkdir -p "$T/watched" "$T/scan/sub"
cat >"$T/vigie.yml" <<EOF
data_dir: $T/data
http: {listen: 127.0.0.1:$HTTP}
syslog: {udp: [], tcp: []}
fleet: {listen: 127.0.0.1:$FLEET}
playbooks: {builtin: false}
EOF
cat >"$T/agent.yml" <<EOF
collectors:
  network: {interval_ms: 1000}
EOF
TOKEN=$("$VIGIE" token create --data "$T/data" cfg --role admin 2>/dev/null)
READER=$("$VIGIE" token create --data "$T/data" cfgread --role read 2>/dev/null)
"$VIGIE" server -c "$T/vigie.yml" >>"$T/server.log" 2>&1 &
SPID=$!
wait_server "$HTTP" "$T/server.log"
code() { curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $1" -X PUT \
    --data-binary "$2" "http://127.0.0.1:$HTTP/api/v1/agents/$AID/config"; }
count() { # events of dataset $2 found by query $1 that hold the string $3
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
wait_cmd() { # command id → its JSON in $T/cmd.out once finished
    i=0
    while [ $i -lt 150 ]; do
        api "http://127.0.0.1:$HTTP/api/v1/agents/$AID/commands" | python3 -c '
import sys, json
for c in json.load(sys.stdin)["commands"]:
    if c["id"] == sys.argv[1] and c["status"] not in ("pending", "sent"):
        print(json.dumps(c)); sys.exit(0)
sys.exit(1)' "$1" >"$T/cmd.out" && return 0
        i=$((i + 1)); sleep 0.1
    done
    return 1
}

ET=$(api -X POST --data '{"ttl":"1h","uses":1}' "http://127.0.0.1:$HTTP/api/v1/agents/enroll-tokens" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
"$AGENT" enroll --server "http://127.0.0.1:$HTTP" --token "$ET" --state "$T/agent" \
    --hostname "cfg-$MARK" >"$T/enroll.log" 2>&1
AID=$(python3 -c "import json; print(json.load(open('$T/agent/agent.json'))['agent_id'])")
VIGIE_LOG_LEVEL=info "$AGENT" run --state "$T/agent" -c "$T/agent.yml" >"$T/agent.log" 2>&1 &
APID=$!
i=0
until api "http://127.0.0.1:$HTTP/api/v1/agents/$AID" | grep -q '"online"'; do
    i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
check "the agent is online with its local collectors only" \
    "api http://127.0.0.1:$HTTP/api/v1/agents/$AID | grep -q '\"network\"' &&
     ! api http://127.0.0.1:$HTTP/api/v1/agents/$AID | grep -q '\"yara\"'"

# ------------------------------------------------------------------ 1. validation
check "no configuration yet" \
    "api http://127.0.0.1:$HTTP/api/v1/agents/$AID/config | grep -q '\"source\":\"none\"'"
check "unknown collector: 400 naming it" \
    "[ \"\$(code $TOKEN '{\"collectors\":{\"procs\":{}}}')\" = 400 ] && grep -q \"unknown collector 'procs'\" \"$T/body\""
check "unknown top-level key: 400" \
    "[ \"\$(code $TOKEN '{\"collector\":{}}')\" = 400 ] && grep -q \"unknown key 'collector'\" \"$T/body\""
check "a YARA rule that does not compile: 400 with the line" \
    "[ \"\$(code $TOKEN '{\"collectors\":{\"yara\":{\"rules\":\"rule a {\\n condition: nope }\"}}}')\" = 400 ] &&
     grep -q 'collectors.yara.rules: pushed:2' \"$T/body\""
check "not an object: 400" "[ \"\$(code $TOKEN '[1]')\" = 400 ]"
check "a reader may not change it: 403" \
    "[ \"\$(code $READER '{\"collectors\":{}}')\" = 403 ]"

# ------------------------------------------------------------------ 2. apply
python3 - "$T" "$MARK" >"$T/config.json" <<'PY'
import json, sys
t, mark = sys.argv[1], sys.argv[2]
rule = 'rule vg_cfg_marker : e2e marker { strings: $a = "%s-yara" condition: $a }' % mark
print(json.dumps({"collectors": {"network": {"interval_ms": 1000}, "process": {},
                                 "fim": {"paths": [t + "/watched"], "scan_interval": "1h"},
                                 "yara": {"rules": rule}}}))
PY
check "PUT the configuration (fim + yara with a marker rule)" \
    "[ \"\$(code $TOKEN @$T/config.json)\" = 200 ] && grep -q '\"source\":\"agent\"' \"$T/body\""
i=0
until api "http://127.0.0.1:$HTTP/api/v1/agents/$AID" | grep -q '"yara":"libyara"'; do
    i=$((i + 1)); [ $i -gt 150 ] && break; sleep 0.1
done
api "http://127.0.0.1:$HTTP/api/v1/agents/$AID" >"$T/agent-after.json"
check "the registry shows the new collectors' backends" \
    "grep -q '\"yara\":\"libyara\"' \"$T/agent-after.json\" && grep -q '\"fim\":' \"$T/agent-after.json\""
wait_count "event.action=config_applied" agent libyara 1
api -G --data-urlencode "q=event.action=config_applied" "http://127.0.0.1:$HTTP/api/v1/search" >"$T/applied.json"
check "the agent's config_applied event is stored, with yara's backend" \
    "[ \"\$(count event.action=config_applied agent libyara)\" -ge 1 ]"
check "the agent kept it in its state directory" \
    "grep -q vg_cfg_marker \"$T/agent/remote-config.json\""
check "the server logged sending it" "grep -q 'configuration sent' \"$T/server.log\""

# ------------------------------------------------------------------ 3. FIM → yara
sleep 1 # fim's watches settle
printf 'head %s-yara tail\n' "$MARK" >"$T/watched/$MARK.bin"
wait_count "event.action=yara_match" yara "$T/watched/$MARK.bin" 1
check "a marker file in the watched path gives a yara_match event" \
    "[ \"\$(count event.action=yara_match yara \"$T/watched/$MARK.bin\")\" -ge 1 ]"

# a program outside the watched paths that holds the marker is scanned as it starts
mkdir -p "$T/progs"
cp /bin/true "$T/progs/$MARK-prog" # an ELF still runs with bytes appended
printf '%s-yara\n' "$MARK" >>"$T/progs/$MARK-prog"
"$T/progs/$MARK-prog"
wait_count "event.action=yara_match" yara "$T/progs/$MARK-prog" 1
check "an executed program is scanned as it starts (exec → yara)" \
    "[ \"\$(count event.action=yara_match yara \"$T/progs/$MARK-prog\")\" -ge 1 ]"

# ------------------------------------------------------------------ 4. scan commands
printf 'x %s-yara y\n' "$MARK" >"$T/scan/sub/hit.bin"
echo clean >"$T/scan/clean.txt"
CID=$(api -X POST --data "{\"action\":\"scan\",\"args\":{\"path\":\"$T/scan\",\"recursive\":true}}" \
    "http://127.0.0.1:$HTTP/api/v1/agents/$AID/commands" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
wait_cmd "$CID"
check "scan with the collector's rules finds the marker (file, rule, tags)" \
    "grep -q '\"status\": \"ok\"' \"$T/cmd.out\" && grep -q 'sub/hit.bin' \"$T/cmd.out\" &&
     grep -q 'vg_cfg_marker' \"$T/cmd.out\" && grep -q 'marker' \"$T/cmd.out\" &&
     ! grep -q 'clean.txt' \"$T/cmd.out\""
CID=$(api -X POST --data "{\"action\":\"scan\",\"args\":{\"path\":\"$T/scan/clean.txt\",\"rules\":\"rule vg_clean { strings: \$c = \\\"clean\\\" condition: \$c }\"}}" \
    "http://127.0.0.1:$HTTP/api/v1/agents/$AID/commands" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
wait_cmd "$CID"
check "scan with rules given in the command" \
    "grep -q '\"status\": \"ok\"' \"$T/cmd.out\" && grep -q 'vg_clean' \"$T/cmd.out\""

# ------------------------------------------------------------------ 5. the next HELLO
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=""
i=0
until grep -q "transport restarted" "$T/agent.log" || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
"$VIGIE" server -c "$T/vigie.yml" >>"$T/server.log" 2>&1 &
SPID=$!
i=0
until api "http://127.0.0.1:$HTTP/api/v1/agents/$AID" 2>/dev/null | grep -q '"online"' || [ $i -ge 150 ]; do
    i=$((i + 1)); sleep 0.1
done
check "after the session ended the agent reconnects with a HELLO carrying the new map" \
    "grep -q 'transport restarted' \"$T/agent.log\" &&
     api http://127.0.0.1:$HTTP/api/v1/agents/$AID | grep -q '\"yara\":\"libyara\"' &&
     [ \$(grep -c 'configuration sent' \"$T/server.log\") -ge 2 ]"

# ------------------------------------------------------------------ 6. kept across a restart
kill "$APID"; wait "$APID" 2>/dev/null; APID=""
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=""
VIGIE_LOG_LEVEL=info "$AGENT" run --state "$T/agent" -c "$T/agent.yml" >"$T/agent2.log" 2>&1 &
APID=$!
i=0
until grep -q "collector yara on backend" "$T/agent2.log" || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done
check "restarted without the server, the agent runs the kept configuration" \
    "grep -q 'collector yara on backend libyara' \"$T/agent2.log\" &&
     grep -q 'collector fim on backend' \"$T/agent2.log\""

if [ "$fails" -ne 0 ]; then
    echo "--- agent log"; tail -30 "$T/agent.log"
    echo "--- server log"; grep -v api_http "$T/server.log" | tail -30
fi
echo "$fails failed"
[ "$fails" -eq 0 ]
