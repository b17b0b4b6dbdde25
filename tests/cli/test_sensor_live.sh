#!/bin/sh
# test_sensor_live.sh VIGIE — vigie-sensor on a live interface (issue 6), real binaries only:
#   a veth pair whose far end lives in a network namespace the test creates (10.77.x.0/30; the
#   near end stays in this namespace and is deleted with it); a DNS responder and an HTTP
#   server on the near end; a client in the namespace sends marked DNS queries and HTTP
#   requests while `vigie-sensor -i` captures:
#   1. one engine, AF_PACKET: dns request/response and http records with the marks, flows;
#   2. libpcap backend with --bpf 'udp port 53' and 2 workers: DNS only, no HTTP;
#   3. --server: the sensor enrols with a real `vigie server`, its records reach the store
#      (decoded as Suricata EVE: dns.question.name), a SigmaHQ-style `category: dns` rule
#      fires on them, and the sensor is listed as an agent;
#   4. bad input: an unknown interface and a BPF syntax error give clear errors (exit 1).
set -u
VIGIE=${1:?usage: test_sensor_live.sh path/to/vigie}
VIGIE=$(cd "$(dirname "$VIGIE")" && pwd)/$(basename "$VIGIE")
SENSOR=${VG_SENSOR:-$(dirname "$VIGIE")/vigie-sensor}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespace, capture)"; exit 0; }
for t in ip python3 curl; do
    command -v $t >/dev/null || { echo "SKIP: no $t"; exit 0; }
done
[ -x "$SENSOR" ] || { echo "FAIL: $SENSOR missing"; exit 1; }
T=$(mktemp -d)
NS=vgsl$$
N=$(($$ % 200 + 20))
NEAR=vgr$$
FAR=vga$$
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    ip link del "$NEAR" 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/cli_lib.sh"

ip netns add "$NS" || { echo "SKIP: cannot create a network namespace"; exit 0; }
ip link add "$NEAR" type veth peer name "$FAR" netns "$NS"
ip addr add 10.77.$N.1/30 dev "$NEAR"
ip link set "$NEAR" up
ip -n "$NS" addr add 10.77.$N.2/30 dev "$FAR"
ip -n "$NS" link set "$FAR" up
ip -n "$NS" link set lo up
SRV=10.77.$N.1
MARK=m$$x$(date +%s)

# DNS responder (A record for every question) and an HTTP server on the near end
python3 - "$SRV" >"$T/dns.log" 2>&1 <<'EOF' &
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 53))
while True:
    q, a = s.recvfrom(2048)
    end = q.index(b"\0", 12) + 5
    s.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:end] +
             b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x0a\x00\x00\x07", a)
EOF
PIDS="$PIDS $!"
mkdir -p "$T/www" && echo hello >"$T/www/$MARK.txt"
python3 -m http.server 18480 --bind "$SRV" --directory "$T/www" >"$T/http.log" 2>&1 &
PIDS="$PIDS $!"
sleep 0.5

traffic() { # $1: tag
    ip netns exec "$NS" python3 - "$SRV" "$MARK-$1" <<'EOF'
import socket, struct, sys
srv, mark = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
for i in range(3):
    name = "q%d.%s.example" % (i, mark)
    body = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0\0\1\0\1"
    s.sendto(struct.pack(">HHHHHH", 0x4000 + i, 0x0100, 1, 0, 0, 0) + body, (srv, 53))
    s.recv(2048)
EOF
    ip netns exec "$NS" curl -s -o /dev/null "http://$SRV:18480/$MARK.txt?$1"
}
run_sensor() { # output-file extra-args...: capture while the traffic runs, then stop
    out=$1
    shift
    "$SENSOR" -i "$NEAR" "$@" >"$out" 2>"$out.err" &
    sp=$!
    sleep 1
    traffic "$(basename "$out")"
    sleep 0.5
    kill -TERM $sp
    wait $sp
}
count() { # file event_type substring
    python3 -c 'import sys, json
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    n += e.get("event_type") == sys.argv[2] and sys.argv[3] in l
print(n)' "$@" 2>/dev/null || echo -1
}

# ------------------------------------------------------------------ 1. AF_PACKET, one engine
run_sensor "$T/one" --backend afpacket
check "AF_PACKET: stopped cleanly by SIGTERM" "grep -q 'afpacket on $NEAR' '$T/one.err'"
check "AF_PACKET: 3 DNS requests and 3 responses with the mark" \
    "[ \$(count '$T/one' dns '$MARK-one') -eq 6 ]"
check "AF_PACKET: the HTTP request with its URL and status" \
    "[ \$(count '$T/one' http '\"url\":\"/$MARK.txt?one\"') -eq 1 ] && grep -q '\"status\":200' '$T/one'"
check "AF_PACKET: flow records at the stop" "[ \$(count '$T/one' flow '\"proto\":\"TCP\"') -ge 1 ]"

# ------------------------------------------------------------------ 2. libpcap, BPF, 2 workers
run_sensor "$T/two" --backend pcap --bpf 'udp port 53' --workers 2
check "pcap + BPF + 2 workers: the 6 DNS records" "[ \$(count '$T/two' dns '$MARK-two') -eq 6 ]"
check "pcap + BPF: no HTTP passed the filter" "[ \$(count '$T/two' http '') -eq 0 ]"
check "every line is whole JSON" "[ \$(count '$T/two' dns '') -ge 6 ]"

# ------------------------------------------------------------------ 3. to the server
set -- $(free_ports 2)
HTTP=$1
FLEET=$2
mkdir -p "$T/rules"
cat >"$T/rules/dns.yml" <<EOF
title: Sensor DNS query for the test's marked domain
id: 5f0d3c1e-6a61-4a55-9d0e-00000000a001
status: test
level: high
logsource: {category: dns}
detection:
    sel:
        query|endswith: '.$MARK-three.example'
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
TOKEN=$("$VIGIE" token create --data "$T/data" sensor-test --role admin 2>/dev/null)
"$VIGIE" server -c "$T/vigie.yml" >"$T/server.log" 2>&1 &
PIDS="$PIDS $!"
wait_server "$HTTP" "$T/server.log"
ET=$(api -X POST --data '{"ttl":"1h","uses":1}' "http://127.0.0.1:$HTTP/api/v1/agents/enroll-tokens" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
run_sensor "$T/three" --server "http://127.0.0.1:$HTTP" --enroll-token "$ET" --state "$T/state"
check "--server: the sensor enrolled (certificate in its state directory)" "[ -s '$T/state/agent.crt' ]"
check "--server: every record acknowledged" "grep -q 'acknowledged' '$T/three.err'"
found=0
i=0
while [ $i -lt 100 ]; do
    found=$(api -G --data-urlencode "q=dns.question.name=q1.$MARK-three.example" \
        "http://127.0.0.1:$HTTP/api/v1/search" |
        python3 -c 'import sys,json; print(len(json.load(sys.stdin).get("events",[])))' 2>/dev/null)
    [ "${found:-0}" -ge 2 ] && break
    i=$((i + 1))
    sleep 0.1
done
check "--server: the query and its answer are stored as DNS events (found ${found:-0})" \
    "[ '${found:-0}' -eq 2 ]"
alerts=$(api "http://127.0.0.1:$HTTP/api/v1/alerts?limit=100" |
    python3 -c 'import sys,json; d=json.load(sys.stdin); a=d.get("alerts", d) if isinstance(d, dict) else d
print(sum(1 for x in a if "marked domain" in json.dumps(x)))' 2>/dev/null)
check "--server: a Sigma dns-category rule fires on the sensor's records (${alerts:-0} alerts)" \
    "[ '${alerts:-0}' -ge 3 ]"
check "--server: the sensor is in the fleet" \
    "api http://127.0.0.1:$HTTP/api/v1/agents | grep -q 'afpacket:$NEAR\\|pcap:$NEAR\\|sensor'"

# ------------------------------------------------------------------ 4. bad input
"$SENSOR" -i nosuch$$ >/dev/null 2>"$T/e1"
rc=$?
check "unknown interface: exit 1 and a message naming it" "[ $rc -eq 1 ] && grep -q 'nosuch$$' '$T/e1'"
"$SENSOR" -i "$NEAR" --bpf 'tcp port' >/dev/null 2>"$T/e2"
rc=$?
check "BPF syntax error: exit 1 with libpcap's message" "[ $rc -eq 1 ] && grep -qi 'syntax' '$T/e2'"
"$SENSOR" -i "$NEAR" -r x.pcap >/dev/null 2>"$T/e3"
rc=$?
check "-i with -r: usage error (exit 2)" "[ $rc -eq 2 ]"

echo "$fails failed"
[ $fails -eq 0 ]
