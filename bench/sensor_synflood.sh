#!/bin/bash
# sensor_synflood.sh — vigie-sensor's memory under a flood of half-open TCP flows (issue 6).
#
#   sh bench/sensor_synflood.sh [BUILD_DIR] [MAX_FLOWS]
#
# Writes SYN-flood pcaps of 0.5M, 1M, 2M and 4M SYNs (random spoofed sources, one victim, no
# answers: every packet opens a new half-open flow) and runs `vigie-sensor -r` on each with
# --max-flows MAX_FLOWS (default 250000). Prints peak RSS, packets/s and the flow counters:
# once the table is full, RSS must stay flat while evictions grow with the flood.
set -eu
B=${1:-build}; MAX=${2:-250000}
S=$B/vigie-sensor
[ -x "$S" ] || { echo "no $S (build first)"; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
gen() { # count file
python3 - "$1" "$2" <<'PY'
import random, struct, sys
n, path = int(sys.argv[1]), sys.argv[2]
r = random.Random(7)
eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    ts = 1700000000
    out = []
    for i in range(n):
        src = struct.pack(">I", (10 << 24) | r.getrandbits(24))
        ip = b"\x45\x00\x00\x28" + struct.pack(">H", i & 0xffff) + b"\x00\x00\x40\x06\x00\x00" + src + b"\xc0\x00\x02\x0a"
        tcp = struct.pack(">HHIIBBHHH", 1024 + r.getrandbits(15), 80, r.getrandbits(32), 0, 0x50, 0x02, 64240, 0, 0)
        pkt = eth + ip + tcp
        usec = i * 2  # 500k SYN/s
        out.append(struct.pack("<IIII", ts + usec // 1000000, usec % 1000000, len(pkt), len(pkt)) + pkt)
        if len(out) == 65536:
            f.write(b"".join(out)); out = []
    f.write(b"".join(out))
PY
}
printf "%-10s %-12s %-10s %-12s %-12s %s\n" SYNs "peak RSS" "wall s" packets/s evicted "flows created"
for n in 500000 1000000 2000000 4000000; do
    gen $n "$T/syn.pcap"
    /usr/bin/time -f '%M %e' -o "$T/time" "$S" -r "$T/syn.pcap" --eve /dev/null --max-flows "$MAX" -v 2>"$T/err" || true
    read -r rss wall <"$T/time"
    ev=$(grep -o 'evicted [0-9]*' "$T/err" | head -1 | awk '{print $2}')
    fl=$(grep -o '[0-9]* flows' "$T/err" | head -1 | awk '{print $1}')
    printf "%-10s %-12s %-10s %-12s %-12s %s\n" $n "$((rss / 1024)) MiB" "$wall" \
        "$(awk -v n=$n -v w=$wall 'BEGIN{printf "%.0f", n/w}')" "$ev" "$fl"
done
