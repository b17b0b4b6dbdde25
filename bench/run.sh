#!/bin/sh
# bench/run.sh — every benchmark of issues 2 to 5, with the figures the closing notes report.
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

# ---------------------------------------------------------------- issue 3: vigie server
PEERS=${PEERS:-/tmp/vigie-peers}
if [ ! -s "$PEERS/syslog.txt" ]; then
    python3 "$SHARED/bench-peers/gen_authlog.py" 1000000 "$PEERS" >/dev/null
fi
echo
echo "== vigie server: TCP syslog → journal → decode (+ rules) → store, 1M auth.log lines"
"$B/bench/bench_server" "$PEERS/syslog.txt" --rules none --no-store
"$B/bench/bench_server" "$PEERS/syslog.txt" --rules builtin --no-store
"$B/bench/bench_server" "$PEERS/syslog.txt" --rules builtin
"$B/bench/bench_server" "$PEERS/syslog.txt" --rules "builtin+$SIGMA/rules"
"$B/bench/bench_server" "$PEERS/auth.log" --tail --rules builtin
if command -v rsyslogd >/dev/null && command -v nc >/dev/null; then
    echo "== peers on the same stream (../shared/bench-peers)"
    mkdir -p "$PEERS/rules" && cp -r "$SHARED/bench-peers/rules/." "$PEERS/rules/"
    PEERS=$PEERS DATA=$PEERS RULES=$PEERS/rules bash "$SHARED/bench-peers/bench_rsyslog.sh" tcp
    PEERS=$PEERS DATA=$PEERS RULES=$PEERS/rules bash "$SHARED/bench-peers/bench_rsyslog.sh" norm
else
    echo "(rsyslog/nc not installed: apt-get install rsyslog netcat-openbsd for the peer figures)"
fi
echo
echo "== decoders, file tailing, HTTP ingest, store and search"
"$B/bench/bench_decode"
"$B/bench/bench_tail"
"$B/bench/bench_api"
"$B/bench/bench_store"
"$B/bench/bench_search"

# ---------------------------------------------------------------- issue 4: triage and playbooks
echo
echo "== triage: alert → dedup → exceptions → risk → incident grouping (in memory and with triage.db)"
"$B/bench/bench_triage"
echo
echo "== playbook engine: 5-step local playbook, every change journalled (8 and 1 trigger threads)"
"$B/bench/bench_playbook" 20000 8
"$B/bench/bench_playbook" 20000 1

# ---------------------------------------------------------------- issue 5: vigie-agent
echo
echo "== vigie-agent: the whole agent at 200 execs/s (CPU, RSS, events stored)"
sh "$ROOT/bench/bench_agent.sh" "$B"
echo
echo "== process collector backends alone"
"$B/bench/bench_agent_proc" 10 ebpf proc_connector
echo
echo "== spool: append, replay, replay + zstd frames"
"$B/bench/bench_spool"
echo
echo "== FIM against AIDE over /usr (same attributes, SHA-256)"
BENCH_FIM="$B/bench/bench_fim" sh "$ROOT/bench/fim_vs_aide.sh" /usr
