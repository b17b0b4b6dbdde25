#!/bin/sh
# test_soc_scenario.sh VIGIE — acceptance 1 of the triage/SOAR issue, end to end with the
# real daemon: a multi-stage attack (SSH brute force → login → sudo → new user → outbound
# connection) replayed as syslog through the server gives ONE incident with its risk, the
# shipped playbook opens a case and blocks the attacker in Vigie's own nftables table, and
# traffic from the attacker is dropped afterwards.
#
# Topology (everything inside network namespaces this test creates and removes):
#   vgsc-srv: the server, 198.51.100.1/24 on veth vgsc0 (+ its API and syslog on 127.0.0.1)
#   vgsc-att: the attacker, 198.51.100.7/24 on veth vgsc1
# Needs root, ip (iproute2), nft; skipped otherwise. The host's ruleset is never touched.
set -u
VIGIE=${1:?usage: test_soc_scenario.sh path/to/vigie}
VIGIE=$(cd "$(dirname "$VIGIE")" && pwd)/$(basename "$VIGIE")
SRV=vgsc-srv$$
ATT=vgsc-att$$
T=$(mktemp -d)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    ip netns del "$SRV" 2>/dev/null
    ip netns del "$ATT" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/cli_lib.sh"
skip() { echo "SKIP: $1"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, nftables)"
command -v ip >/dev/null || skip "no ip (iproute2)"
command -v nft >/dev/null || skip "no nft (nftables)"
command -v curl >/dev/null || skip "no curl"
ip netns add "$SRV" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$ATT"
ip link add vgsc0 netns "$SRV" type veth peer name vgsc1 netns "$ATT" || skip "no veth"
ip -n "$SRV" addr add 198.51.100.1/24 dev vgsc0
ip -n "$ATT" addr add 198.51.100.7/24 dev vgsc1
for ns in "$SRV" "$ATT"; do
    ip -n "$ns" link set lo up
done
ip -n "$SRV" link set vgsc0 up
ip -n "$ATT" link set vgsc1 up
in_srv() { ip netns exec "$SRV" "$@"; }
in_att() { ip netns exec "$ATT" "$@"; }

# ------------------------------------------------------------------ the server
cat > "$T/vigie.yml" <<EOF
data_dir: $T/data
http:
  listen: 127.0.0.1:18470
syslog:
  udp: []
  tcp: [127.0.0.1:15514, 198.51.100.1:15515]
EOF
in_srv "$VIGIE" token create --data "$T/data" scenario --role admin >"$T/token" 2>/dev/null
TOKEN=$(tr -d '\n' <"$T/token")
[ -n "$TOKEN" ] || { echo "FAIL cannot create a token"; exit 1; }
# not through in_srv: $! must be the server itself (ip netns exec execs it), not a subshell
ip netns exec "$SRV" "$VIGIE" server -c "$T/vigie.yml" >"$T/server.log" 2>&1 &
PID=$!
api() { in_srv curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:18470$1"; }
i=0
until api /healthz >/dev/null 2>&1 && [ -n "$(api /healthz)" ]; do
    i=$((i + 1))
    [ $i -gt 100 ] && { echo "FAIL server did not start"; cat "$T/server.log"; exit 1; }
    sleep 0.1
done

# before: the attacker reaches the server's syslog port
reach() { in_att timeout 3 bash -c 'exec 3<>/dev/tcp/198.51.100.1/15515' 2>/dev/null; }
check "attacker reaches the server before the response" "reach"

# ------------------------------------------------------------------ the attack, as logs
# timestamps: now minus a few minutes, in the server's local time (RFC 3164 carries no zone)
ts() { date -d "@$(($(date +%s) - $1))" '+%b %e %H:%M:%S'; }
{
    for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
        echo "$(ts $((600 - k * 5))) bastion01 sshd[74$k]: Failed password for admin from 198.51.100.7 port 580$k ssh2"
    done
    echo "$(ts 480) bastion01 sshd[7410]: Accepted password for admin from 198.51.100.7 port 41234 ssh2"
    echo "$(ts 420) bastion01 sudo:    admin : TTY=pts/0 ; PWD=/home/admin ; USER=root ; COMMAND=/bin/bash"
    echo "$(ts 360) bastion01 useradd[9911]: new user: name=support, UID=1005, GID=1005, home=/home/support, shell=/bin/bash, from=/dev/pts/0"
    echo "$(ts 300) bastion01 kernel: [819545.123456] FW-OUT-ACCEPT: IN= OUT=eth0 SRC=10.20.0.45 DST=203.0.113.9 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=47200 DF PROTO=TCP SPT=46388 DPT=4444 WINDOW=64240 RES=0x00 SYN URGP=0"
} >"$T/attack.log"
in_srv bash -c "cat '$T/attack.log' > /dev/tcp/127.0.0.1/15514"

# wait for the incident, the case and the block
incidents() { api "/api/v1/incidents" ; }
i=0
while :; do
    n=$(incidents | python3 -c 'import sys,json; print(len(json.load(sys.stdin).get("incidents",[])))' 2>/dev/null)
    runs=$(api "/api/v1/runs?status=succeeded" | python3 -c 'import sys,json; print(len(json.load(sys.stdin).get("runs",[])))' 2>/dev/null)
    [ "${n:-0}" -ge 1 ] && [ "${runs:-0}" -ge 1 ] && break
    i=$((i + 1))
    [ $i -gt 300 ] && break
    sleep 0.1
done
sleep 1 # let later alerts of the batch join the incident

incidents >"$T/incidents.json"
api "/api/v1/alerts?limit=100" >"$T/alerts.json"
api "/api/v1/cases" >"$T/cases.json"
api "/api/v1/runs" >"$T/runs.json"
python3 - "$T" <<'PY' >"$T/summary" 2>&1
import json, sys
t = sys.argv[1]
inc = json.load(open(t + "/incidents.json"))["incidents"]
alerts = json.load(open(t + "/alerts.json"))["alerts"]
cases = json.load(open(t + "/cases.json"))
cases = cases.get("cases", cases if isinstance(cases, list) else [])
runs = json.load(open(t + "/runs.json"))["runs"]
print("alerts", len(alerts))
print("incidents", len(inc))
if inc:
    i = inc[0]
    print("risk", i.get("risk"))
    print("incident_alerts", i.get("alert_count"))
    print("tactics", len(i.get("tactics", [])))
print("cases", len(cases))
print("runs", len(runs), sorted(set(r.get("status") for r in runs)))
PY
cat "$T/summary"
val() { awk -v k="$1" '$1 == k { print $2 }' "$T/summary"; }
check "the attack raised at least 5 alerts" "[ \"\$(val alerts)\" -ge 5 ]"
check "one incident, not N" "[ \"\$(val incidents)\" = 1 ]"
check "the incident holds the attack's alerts" "[ \"\$(val incident_alerts)\" -ge 5 ]"
check "its risk passed the threshold" "python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= 100 else 1)' \"\$(val risk)\""
check "it shows at least 3 ATT&CK tactics" "[ \"\$(val tactics)\" -ge 3 ]"
check "one case for the attack (both brute-force playbook runs share it)" "[ \"\$(val cases)\" = 1 ]"
check "the block is in Vigie's own set" "in_srv nft list set inet vigie blocked4 | grep -q 198.51.100.7"
check "traffic from the attacker is dropped" "! reach"
check "the host's own ruleset was not touched" "! nft list tables 2>/dev/null | grep -q 'inet vigie'"
check "the audit log verifies" "in_srv \"$VIGIE\" audit verify --data \"$T/data\" | grep -q intact"

if [ "$fails" -ne 0 ]; then
    echo "--- server log"; tail -50 "$T/server.log"
    echo "--- runs"; cat "$T/runs.json"
fi
echo "$fails failed"
[ "$fails" -eq 0 ]
