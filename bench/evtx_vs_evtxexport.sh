#!/bin/sh
# evtx_vs_evtxexport.sh — the native EVTX reader (bench_evtx) against Debian's evtxexport
# (libevtx-utils) on the real EVTX files of ../shared/corpus/sigma/regression_data.
#
#   bench/evtx_vs_evtxexport.sh            (after: cmake --build build --target bench_evtx)
#
# Three comparisons, each printed with both wall times and the ratio:
#   1. one process per file, as evtxexport is used (process start-up dominates: the files
#      hold one 64 KiB chunk and one or two records each), also shown net of the cost of
#      spawning /bin/true as many times;
#   2. bench_evtx once over the whole directory, against 1's evtxexport total;
#   3. one process each over a single multi-chunk file made of COPIES (default 10) copies of
#      every chunk of every file — decoding throughput with start-up amortised.
# evtxexport writes its text rendering to /dev/null; bench_evtx decodes every record into an
# event (fields, typed values, timestamps) and writes nothing. The merged file lives in a
# temporary directory that is removed on exit; nothing is written to the repository.
#
# Environment: VG_SHARED (default ../shared), BENCH_EVTX (default build/bench/bench_evtx),
# COPIES (default 10), RUNS (best of, default 3).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VG_SHARED:-$ROOT/../shared}
DATA=$SHARED/corpus/sigma/regression_data
BENCH=${BENCH_EVTX:-$ROOT/build/bench/bench_evtx}
COPIES=${COPIES:-10}
RUNS=${RUNS:-3}

command -v evtxexport >/dev/null || { echo "evtxexport not found (apt install libevtx-utils)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 is needed to build the merged file"; exit 1; }
[ -x "$BENCH" ] || { echo "$BENCH missing: cmake --build build --target bench_evtx"; exit 1; }
[ -d "$DATA" ] || { echo "$DATA missing"; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
find "$DATA" -name '*.evtx' | sort >"$TMP/files"
NFILES=$(wc -l <"$TMP/files")

now() { date +%s.%N; }
# best wall time in seconds of RUNS runs of "$@"
best() {
    b=""
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        t0=$(now)
        "$@"
        t1=$(now)
        b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN { t = z - a; if (b == "" || t < b) b = t; printf "%.4f", b }')
        i=$((i + 1))
    done
    echo "$b"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }

per_file_evtxexport() { while read -r f; do evtxexport "$f" >/dev/null 2>&1 || true; done <"$TMP/files"; }
per_file_bench() { while read -r f; do "$BENCH" "$f" >/dev/null; done <"$TMP/files"; }
per_file_spawn() { while read -r f; do /bin/true "$f" >/dev/null; done <"$TMP/files"; }
all_bench() { "$BENCH" "$DATA" >/dev/null; }
merged_evtxexport() { evtxexport "$TMP/merged.evtx" >/dev/null 2>&1 || true; }
merged_bench() { "$BENCH" "$TMP/merged.evtx" >/dev/null; }

# COPIES x every chunk of every file behind one file header (chunk count and header CRC fixed)
python3 - "$TMP/files" "$TMP/merged.evtx" "$COPIES" <<'EOF'
import struct, sys, zlib
files = open(sys.argv[1]).read().split("\n")
chunks, header = [], None
for f in filter(None, files):
    d = open(f, "rb").read()
    header = header or bytearray(d[:4096])
    chunks += [d[i:i + 65536] for i in range(4096, len(d) - 65535, 65536)
               if d[i:i + 8] == b"ElfChnk\0"]
chunks = chunks * int(sys.argv[3])
chunks = chunks[:65535]
struct.pack_into("<QQ", header, 8, 0, len(chunks) - 1)
struct.pack_into("<H", header, 42, len(chunks))
struct.pack_into("<I", header, 124, zlib.crc32(bytes(header[:120])))
open(sys.argv[2], "wb").write(bytes(header) + b"".join(chunks))
EOF

REC_X=$(evtxexport "$TMP/merged.evtx" 2>/dev/null | grep -c '^Event number' || true)
REC_B=$("$BENCH" "$TMP/merged.evtx" | sed -n 's/.*records \([0-9]*\).*/\1/p')
MB=$(awk -v s="$(wc -c <"$TMP/merged.evtx")" 'BEGIN { printf "%.1f", s / 1e6 }')

echo "files: $NFILES under $DATA"
echo "merged: $COPIES copies of every chunk, $MB MB; records: evtxexport $REC_X, bench_evtx $REC_B"
echo "best of $RUNS runs, wall seconds"
printf '%-44s %10s %10s %8s\n' "comparison" "evtxexport" "bench_evtx" "ratio"
A=$(best per_file_evtxexport)
B=$(best per_file_bench)
T=$(best per_file_spawn)
printf '%-44s %10s %10s %8s\n' "1. one process per file ($NFILES each)" "$A" "$B" "$(ratio "$A" "$B")"
NA=$(awk -v a="$A" -v t="$T" 'BEGIN { printf "%.4f", a - t }')
NB=$(awk -v b="$B" -v t="$T" 'BEGIN { printf "%.4f", b - t }')
printf '%-44s %10s %10s %8s\n' "   same, minus process spawn (/bin/true $T)" "$NA" "$NB" "$(ratio "$NA" "$NB")"
C=$(best all_bench)
printf '%-44s %10s %10s %8s\n' "2. per file vs bench_evtx once over all" "$A" "$C" "$(ratio "$A" "$C")"
D=$(best merged_evtxexport)
E=$(best merged_bench)
printf '%-44s %10s %10s %8s\n' "3. one merged file, one process each" "$D" "$E" "$(ratio "$D" "$E")"
echo "bench_evtx on the merged file:"
"$BENCH" -n 5 "$TMP/merged.evtx"
