#!/bin/sh
# bench/run.sh — every benchmark of issue 2, with the figures the closing note reports.
#   make bench        (or: sh bench/run.sh after building build/)
# Machines are shared and noisy: compare ratios within one run; bench_sigma's instruction
# counts (valgrind --tool=callgrind) are the reproducible figure.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${VG_SHARED:-$ROOT/../shared}
SIGMA=$SHARED/corpus/sigma
B=$ROOT/build
[ -d "$SIGMA" ] || { echo "bench: $SIGMA missing"; exit 1; }
EVENTS=${EVENTS:-1000000}

echo "== Sigma evaluation, one core, all SigmaHQ rules, $EVENTS events (identical replicas)"
"$B/bench/bench_sigma" --events "$EVENTS"
echo
echo "== the same with every command line unique (scan cache defeated for CommandLine)"
"$B/bench/bench_sigma" --events "$EVENTS" --unique-cmdline
echo
echo "== loading and compiling all rules (vigie rules check, total)"
(cd "$SIGMA" && "$B/vigie" rules check rules rules-emerging-threats rules-threat-hunting \
    rules-compliance rules-placeholder 2>&1 >/dev/null | head -2)
echo
echo "== vigie hunt with all rules over regression_data: wall time and peak RSS"
(cd "$SIGMA" && /usr/bin/time -f "wall %e s, peak RSS %M KiB" "$B/vigie" hunt -q --no-progress \
    -r rules -r rules-emerging-threats -r rules-threat-hunting -r rules-compliance \
    -r rules-placeholder -f jsonl regression_data 2>&1 >/dev/null | tail -1)
echo
echo "== EVTX parsing against evtxexport"
sh "$ROOT/bench/evtx_vs_evtxexport.sh"
