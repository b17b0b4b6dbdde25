#!/bin/sh
# test_sensor_detect.sh VIGIE — golden pcaps for the sensor's network detections (issue 6).
#
# The test makes its own captures: two network namespaces joined by a veth pair (client
# 10.66.0.1; server 10.66.0.2 plus the public-looking 203.0.113.2, so client -> 203.0.113.2 is
# "outbound"), tcpdump on the client side, and tests/cli/sensor_detect_traffic.py generating a
# port scan, an SSH connection burst, a beacon (every 0.3 s), DNS tunnelling and DGA-like
# NXDOMAIN bursts, HTTP basic and FTP logins (cleartext credentials, repeated failures), a
# 50 MiB upload, and TLS 1.2 handshakes with a self-signed certificate under a mismatched SNI
# and an expired one. `vigie-sensor -r cap.pcap --eve out.json` must then give exactly the
# expected alerts (by signature_id); a capture of ordinary traffic must give none.
# Nothing leaves the namespaces; they are removed on exit.
#
# Needs root, ip (iproute2), tcpdump, python3, openssl; skipped otherwise. The sensor binary
# is vigie-sensor next to VIGIE (or $VG_SENSOR).
set -u
VIGIE=${1:?usage: test_sensor_detect.sh path/to/vigie}
SENSOR=${VG_SENSOR:-$(dirname "$VIGIE")/vigie-sensor}
SRC=$(cd "$(dirname "$0")" && pwd)
TRAFFIC="$SRC/sensor_detect_traffic.py"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: network namespaces need root"; exit 0; }
for tool in ip tcpdump python3 openssl; do
    command -v $tool >/dev/null || { echo "SKIP: no $tool (apt-get install iproute2 tcpdump python3 openssl)"; exit 0; }
done
[ -x "$SENSOR" ] || { echo "SKIP: $SENSOR not built"; exit 0; }

T=$(mktemp -d)
NA=vgdet$$a
NB=vgdet$$b
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NA" 2>/dev/null
    ip netns del "$NB" 2>/dev/null
    if [ -n "${VG_KEEP:-}" ]; then cp -r "$T/." "$VG_KEEP/"; fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fails=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
A() { ip netns exec "$NA" "$@"; }
B() { ip netns exec "$NB" "$@"; }

# ------------------------------------------------------------------ namespaces
ip netns add "$NA" && ip netns add "$NB" || { echo "SKIP: cannot create network namespaces"; exit 0; }
ip link add vgd$$x type veth peer name vgd$$y || { echo "SKIP: no veth support"; exit 0; }
ip link set vgd$$x netns "$NA"
ip link set vgd$$y netns "$NB"
A ip link set lo up
B ip link set lo up
A ip addr add 10.66.0.1/24 dev vgd$$x
A ip link set vgd$$x up
A ip route add 203.0.113.0/24 dev vgd$$x
B ip addr add 10.66.0.2/24 dev vgd$$y
B ip addr add 203.0.113.2/32 dev vgd$$y
B ip link set vgd$$y up
PRIV=10.66.0.2
PUB=203.0.113.2

# ------------------------------------------------------------------ certificates
( cd "$T" || exit 1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
      -subj /CN=localhost -keyout self.key -out self.crt >/dev/null 2>&1
  cat > ca.cnf <<'EOF'
[ca]
default_ca = d
[d]
dir = .
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = expired.test
EOF
  : > index.txt; echo 01 > serial
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config ca.cnf \
      -keyout exp.key -out exp.csr >/dev/null 2>&1
  openssl ca -batch -selfsign -config ca.cnf -keyfile exp.key -in exp.csr -out exp.crt \
      -startdate 20200101000000Z -enddate 20210101000000Z -notext >/dev/null 2>&1 )
[ -s "$T/self.crt" ] && [ -s "$T/exp.crt" ] || { fail "test certificates"; exit 1; }

# ------------------------------------------------------------------ servers
ip netns exec "$NB" python3 "$TRAFFIC" servers $PRIV $PUB > "$T/servers.out" 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$NB" openssl s_server -accept 4433 -cert "$T/self.crt" -key "$T/self.key" -quiet \
    </dev/null >/dev/null 2>&1 &
PIDS="$PIDS $!"
ip netns exec "$NB" openssl s_server -accept 4434 -cert "$T/exp.crt" -key "$T/exp.key" -quiet \
    </dev/null >/dev/null 2>&1 &
PIDS="$PIDS $!"
i=0
until grep -q ready "$T/servers.out" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 50 ] || { fail "servers start"; cat "$T/servers.out"; exit 1; }
    sleep 0.1
done
sleep 0.3

# capture NAME CMD...: run CMD in the client namespace under tcpdump, into $T/NAME.pcap
capture() {
    name=$1; shift
    ip netns exec "$NA" tcpdump -Z root -i vgd$$x -U -s 0 -B 65536 -w "$T/$name.pcap" \
        >"$T/$name.tcpdump" 2>&1 &
    tp=$!
    i=0
    until grep -q "listening on" "$T/$name.tcpdump" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 50 ] || break
        sleep 0.1
    done
    PIDS="$PIDS $tp"
    A timeout 60 "$@"
    sleep 0.5
    kill -TERM $tp 2>/dev/null
    wait $tp 2>/dev/null
}

# ------------------------------------------------------------------ attack capture
capture attack sh -c "python3 '$TRAFFIC' attack $PRIV $PUB; \
    echo | timeout 5 openssl s_client -connect $PRIV:4433 -servername www.bank.test -tls1_2 >/dev/null 2>&1; \
    echo | timeout 5 openssl s_client -connect $PRIV:4434 -servername expired.test -tls1_2 >/dev/null 2>&1; \
    sleep 0.2; python3 '$TRAFFIC' upload $PUB 50"
capture benign python3 "$TRAFFIC" benign $PRIV $PUB
grep -h "dropped by kernel" "$T"/*.tcpdump | sed 's/^/  tcpdump: /'

"$SENSOR" -r "$T/attack.pcap" --eve "$T/attack.json" > "$T/attack.sensor" 2>&1 \
    || { fail "vigie-sensor on the attack capture"; cat "$T/attack.sensor"; }
"$SENSOR" -r "$T/benign.pcap" --eve "$T/benign.json" > "$T/benign.sensor" 2>&1 \
    || { fail "vigie-sensor on the benign capture"; cat "$T/benign.sensor"; }

count() { grep -c "\"event_type\":\"alert\".*\"signature_id\":$1," "$2"; }

# expect SID COUNT DESCRIPTION
expect() {
    n=$(count "$1" "$T/attack.json")
    if [ "$n" -eq "$2" ]; then pass "$3 ($1 x$2)"; else fail "$3 ($1: $n alerts, expected $2)"; fi
}
expect 9600001 1 "port scan"
expect 9600002 0 "no host sweep"
expect 9600003 1 "SSH connection burst"
expect 9600004 0 "no RDP burst"
expect 9600005 2 "HTTP and FTP authentication failures"
expect 9600010 1 "beacon every 0.3 s"
expect 9600020 1 "DNS tunnelling"
expect 9600021 1 "DGA-like NXDOMAIN burst"
expect 9600030 1 "50 MiB upload"
expect 9600040 2 "cleartext credentials (HTTP basic, FTP)"
expect 9600050 2 "self-signed certificates"
expect 9600051 1 "expired certificate"
expect 9600052 0 "no not-yet-valid certificate"
expect 9600053 1 "SNI mismatch"
total=$(grep -c '"event_type":"alert"' "$T/attack.json")
if [ "$total" -eq 14 ]; then pass "14 alerts in all"; else fail "$total alerts in all, expected 14"; fi
if grep -q '"beacon".*"mean_interval_s":0\.[23]' "$T/attack.json"; then
    pass "beacon evidence: mean interval ~0.3 s"
else
    fail "beacon evidence"
fi
if grep -q '"domain":"tunnel-test.com"' "$T/attack.json"; then pass "tunnel evidence: domain"; else fail "tunnel evidence"; fi
if grep '"event_type":"alert"' "$T/attack.json" | grep -q 'secret\|letmein\|guess'; then fail "passwords leaked into alerts"; else pass "no password in alerts"; fi
n=$(grep -c '"event_type":"alert"' "$T/benign.json")
if [ "$n" -eq 0 ]; then pass "benign capture: no alert"; else fail "benign capture: $n alerts"; grep '"event_type":"alert"' "$T/benign.json"; fi

if [ $fails -ne 0 ]; then
    echo "--- alerts of the attack capture"
    grep '"event_type":"alert"' "$T/attack.json" | cut -c1-400
    cat "$T/attack.sensor"
fi
echo "$fails failed"
[ $fails -eq 0 ]
