#!/bin/bash
# sensor_vs_peers.sh — vigie-sensor against tshark and Suricata on the same mixed pcap, in one run
# (issue 6 performance). Whole-process times from ../shared/bench-peers/timeit.sh (median of RUNS).
#
#   sh bench/sensor_vs_peers.sh [BUILD_DIR] [PCAP]
#
# PCAP defaults to the peers' mixed loopback capture ($PEERS/pcap/lo.pcap, made by
# ../shared/bench-peers/gen_pcap.sh 300000 20000 3000: DNS on 15353, HTTP on 18080, TLS on 18443,
# three 50 MB downloads). Every tool extracts the same DNS/HTTP/TLS metadata:
#   vigie-sensor  -r PCAP --eve FILE          all parsers, flow records, detections (1 worker)
#   tshark        DNS names, HTTP host/URI, TLS SNI as fields (-d tcp.port==18443,tls)
#   suricata 7    EVE logging as shipped (dns, http, tls, flow, …), the 374 shipped event rules,
#                 autofp on both cores, DNS detection port 15353 added
# Suricata comes from bookworm-backports (see ../shared/bench-peers/README.md); a missing peer is
# reported and skipped.
set -u
B=${1:-build}; S=$B/vigie-sensor
PEERS=${PEERS:-$HOME/.cache/vigie-peers}
PC=${2:-${PCAP:-$PEERS/pcap/lo.pcap}}
HERE=$(cd "$(dirname "$0")" && pwd)
TIMEIT=${TIMEIT:-$HERE/../../shared/bench-peers/timeit.sh}
RUNS=${RUNS:-3}
O=$(mktemp -d); trap 'rm -rf "$O"' EXIT
[ -x "$S" ] || { echo "no $S (build first)"; exit 1; }
[ -r "$PC" ] || { echo "no pcap $PC (run ../shared/bench-peers/gen_pcap.sh 300000 20000 3000)"; exit 1; }
PKTS=$(capinfos -M -c -T "$PC" 2>/dev/null | awk -F'\t' 'NR==2{print $2}')
BYTES=$(capinfos -M -d -T "$PC" 2>/dev/null | awk -F'\t' 'NR==2{print $2}')
echo "pcap $PC: $PKTS packets, $BYTES bytes"

declare -A MED CPU
measure() { # name cmd...
    local name=$1; shift
    local out; out=$(bash "$TIMEIT" "$RUNS" 1 "$@")
    echo "== $name"; echo "$out"
    MED[$name]=$(echo "$out" | awk '/wall s/{print $6}')
    CPU[$name]=$(echo "$out" | awk '/cpu s/{print $6}')
}
rate() { awk -v p="$PKTS" -v b="$BYTES" -v w="$1" -v c="$2" 'BEGIN{printf "%9.0f packets/s  %6.2f Gbit/s wall  %6.2f Gbit/s per CPU-second", p/w, b*8/w/1e9, b*8/c/1e9}'; }

measure vigie-sensor sh -c "exec $S -r $PC --eve $O/eve.json"
$S -r "$PC" --eve "$O/eve.json" >/dev/null 2>&1
python3 -c 'import json,collections,sys; c=collections.Counter(json.loads(l)["event_type"] for l in open(sys.argv[1])); print("  records:", dict(c))' "$O/eve.json"
if $S --help 2>&1 | grep -q -- --workers; then
    measure vigie-sensor-2w sh -c "exec $S -r $PC --eve $O/eve2.json --workers 2"
fi
if command -v tshark >/dev/null; then
    measure tshark sh -c "exec tshark -n -r $PC -d tcp.port==18443,tls -Y 'dns || http.request || tls.handshake.type==1' -T fields -e frame.time_epoch -e ip.src -e dns.qry.name -e dns.a -e http.host -e http.request.uri -e tls.handshake.extensions_server_name > $O/tshark.txt"
else echo "== tshark: not installed (apt-get install tshark)"; fi
if command -v suricata >/dev/null; then
    RULES=$(ls /etc/suricata/rules/*.rules /opt/suricata/etc/suricata/rules/*.rules 2>/dev/null | head -50)
    cat $RULES 2>/dev/null | grep -v 'csum:' > "$O/events.rules"
    measure suricata sh -c "rm -rf $O/suri; mkdir -p $O/suri; exec suricata -r $PC -k none -l $O/suri -S $O/events.rules --runmode autofp --set app-layer.protocols.dns.udp.detection-ports.dp=15353"
else echo "== suricata: not installed (bookworm-backports)"; fi

echo; echo "== summary (median wall; CPU = user+sys)"
for n in vigie-sensor vigie-sensor-2w tshark suricata; do
    [ -n "${MED[$n]:-}" ] || continue
    printf "%-16s %s\n" "$n" "$(rate "${MED[$n]}" "${CPU[$n]}")"
done
for n in tshark suricata; do
    [ -n "${MED[$n]:-}" ] && awk -v a="${MED[$n]}" -v b="${MED[vigie-sensor]}" -v n="$n" 'BEGIN{printf "vigie-sensor (1 worker) vs %s: %.1fx packets/s\n", n, a/b}'
done
